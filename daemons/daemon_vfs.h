/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The VFS options of the daemons: several file systems under one mount, changed at run time.
 *
 *   --mount PATH=TYPE[:ARGS]   mount a backend at PATH (repeatable). TYPE is memfs,
 *                              passthrough, or self (the daemon's own file system: its SOURCE
 *                              for fb-passthrough, its memfs for fb-memfs)
 *   --control SOCKET           serve the control socket (fb-ctl SOCKET mount|umount|list)
 *
 * With either option the mount's root is the VFS's pseudo fs and the daemon's own file system
 * is mounted only where a "--mount PATH=self" puts it. Without them nothing changes.
 *
 *	struct fb_daemon_vfs dv = { 0 };
 *	opts[] = { ..., FB_DAEMON_VFS_OPTS(&dv), { NULL } };
 *	info = { ..., .started = fb_daemon_vfs_started, .stopped = fb_daemon_vfs_stopped,
 *		 .priv = &dv };
 *	fb_daemon_vfs_setup(&dv, "fb-x", &ops, &ops_size, &fs);  // swaps in the VFS if asked
 *	fb_server_new(ops, ops_size, fs, ...); fb_daemon_vfs_server(&dv, server);
 *	... fb_main_run() ...; fb_server_free(); fb_daemon_vfs_done(&dv); free own fs
 *
 * Header-only so that each daemon stays one NAME.c over the library (daemons/meson.build).
 */
#ifndef FB_DAEMON_VFS_H
#define FB_DAEMON_VFS_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <fuse_backend/server.h>
#include <fuse_backend/vfs.h>

#include <fuse_backend/main.h>

#define FB_DAEMON_VFS_MAX_MOUNTS 64

struct fb_daemon_vfs {
	const char *mounts[FB_DAEMON_VFS_MAX_MOUNTS]; /* "PATH=SPEC", borrowed from argv */
	int nmounts;
	const char *control;		  /* --control SOCKET, or NULL */
	struct fb_vfs *vfs;		  /* set by fb_daemon_vfs_setup() when in use */
	struct fb_vfs_control *ctl;	  /* the control socket while serving */
	const struct fb_fs_ops *self_ops; /* the daemon's own file system ("self") */
	size_t self_ops_size;
	void *self_fs;
	int self_used; /* mounted now (at most once at a time) */
};

static inline int fb_daemon_vfs_add_mount(void *priv, const char *name, const char *value)
{
	struct fb_daemon_vfs *dv = priv;

	(void)name;
	if (!value || value[0] != '/' || !strchr(value, '=') ||
	    dv->nmounts == FB_DAEMON_VFS_MAX_MOUNTS)
		return -EINVAL;
	dv->mounts[dv->nmounts++] = value;
	return 0;
}

#define FB_DAEMON_VFS_OPTS(dv)                                                                     \
	{"--mount", FB_OPT_FUNC, .fn = fb_daemon_vfs_add_mount, .priv = (dv),                      \
	 .arg = "PATH=TYPE[:ARGS]",                                                                \
	 .help = "backend at PATH (memfs, passthrough:/DIR, self)"},                               \
	{                                                                                          \
		"--control", FB_OPT_STRING, &(dv)->control, .arg = "SOCKET",                       \
		.help = "runtime mounts through fb-ctl SOCKET ..."                                 \
	}

static inline int fb_daemon_vfs_self_create(void *priv, const char *args,
					    const struct fb_fs_ops **ops, size_t *ops_size,
					    void **fs, char *err, size_t errlen)
{
	struct fb_daemon_vfs *dv = priv;

	if (args[0]) {
		snprintf(err, errlen, "self takes no arguments");
		return -EINVAL;
	}
	if (dv->self_used) {
		snprintf(err, errlen, "the daemon's own file system is already mounted");
		return -EBUSY;
	}
	dv->self_used = 1;
	*ops = dv->self_ops;
	*ops_size = dv->self_ops_size;
	*fs = dv->self_fs;
	return 0;
}

/* The daemon frees its own file system; the VFS only lets go of it. */
static inline void fb_daemon_vfs_self_free(void *priv, void *fs)
{
	(void)fs;
	((struct fb_daemon_vfs *)priv)->self_used = 0;
}

/*
 * With --mount or --control: make a VFS, mount every --mount, and replace *ops, *ops_size and
 * *fs (the daemon's own file system) with the VFS. Prints what fails. Returns 0 or -1.
 */
static inline int fb_daemon_vfs_setup(struct fb_daemon_vfs *dv, const char *prog,
				      const struct fb_fs_ops **ops, size_t *ops_size, void **fs)
{
	const struct fb_vfs_type self = {
		.name = "self",
		.create = fb_daemon_vfs_self_create,
		.free = fb_daemon_vfs_self_free,
		.priv = dv,
	};
	int r;

	if (!dv->nmounts && !dv->control)
		return 0;
	dv->self_ops = *ops;
	dv->self_ops_size = *ops_size;
	dv->self_fs = *fs;
	r = fb_vfs_new(NULL, &dv->vfs);
	if (r == 0)
		r = fb_vfs_register_builtin_types(dv->vfs);
	if (r == 0)
		r = fb_vfs_register_type(dv->vfs, &self);
	if (r < 0) {
		fprintf(stderr, "%s: cannot set up the VFS: %s\n", prog, strerror(-r));
		return -1;
	}
	for (int i = 0; i < dv->nmounts; i++) {
		const char *eq = strchr(dv->mounts[i], '=');
		char path[FB_VFS_PATH_MAX + 1];
		size_t len = (size_t)(eq - dv->mounts[i]);

		if (len > FB_VFS_PATH_MAX) {
			fprintf(stderr, "%s: --mount %s: path too long\n", prog, dv->mounts[i]);
			return -1;
		}
		memcpy(path, dv->mounts[i], len);
		path[len] = '\0';
		r = fb_vfs_mount_spec(dv->vfs, path, eq + 1, NULL);
		if (r < 0) {
			fprintf(stderr, "%s: --mount %s: %s\n", prog, dv->mounts[i],
				fb_vfs_last_error());
			return -1;
		}
	}
	*ops = &fb_vfs_ops;
	*ops_size = sizeof(fb_vfs_ops);
	*fs = dv->vfs;
	return 0;
}

/* Tell the VFS which server serves it (for its notifications). */
static inline void fb_daemon_vfs_server(struct fb_daemon_vfs *dv, struct fb_server *server)
{
	if (dv->vfs)
		fb_vfs_set_server(dv->vfs, server);
}

/* fb_daemon_info.started: the control socket, in the serving process. */
static inline int fb_daemon_vfs_started(void *priv, struct fb_session *se)
{
	struct fb_daemon_vfs *dv = priv;
	int r;

	(void)se;
	if (!dv->vfs || !dv->control)
		return 0;
	r = fb_vfs_control_new(dv->vfs, dv->control, &dv->ctl);
	if (r < 0)
		fb_log(FB_LOG_ERR, "control socket %s: %s", dv->control,
		       fb_vfs_last_error()[0] ? fb_vfs_last_error() : strerror(-r));
	return r;
}

/* fb_daemon_info.stopped */
static inline void fb_daemon_vfs_stopped(void *priv, struct fb_session *se)
{
	struct fb_daemon_vfs *dv = priv;

	(void)se;
	fb_vfs_control_free(dv->ctl);
	dv->ctl = NULL;
	if (dv->vfs)
		fb_vfs_set_server(dv->vfs, NULL);
}

/* Free the VFS (after the server); the daemon's own file system is left to the daemon. */
static inline void fb_daemon_vfs_done(struct fb_daemon_vfs *dv)
{
	fb_vfs_control_free(dv->ctl);
	dv->ctl = NULL;
	fb_vfs_free(dv->vfs);
	dv->vfs = NULL;
}

#endif /* FB_DAEMON_VFS_H */
