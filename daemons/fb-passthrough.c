/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fb-passthrough: a host directory served through /dev/fuse.
 *
 *   fb-passthrough [-f] [-d] [-s] [-o opt,...] SOURCE MOUNTPOINT
 *
 * Options of its own (see docs/passthrough.md): cache=never|metadata|auto|always, timeout=S,
 * dir_timeout=S, [no_]writeback, [no_]readdirplus, [no_]xattr, [no_]posix_acl, no_open,
 * no_opendir, killpriv_v2, submounts, [no_]passthrough, posix_lock, [no_]direct_io,
 * no_default_permissions; plus the common ones. default_permissions is on by default.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fuse_backend/passthrough.h>
#include <fuse_backend/server.h>

#include "common.h"
#include "daemon_vfs.h"

/* On/off options: "-o NAME" sets the field, "-o no_NAME" clears it. */
struct pt_flag {
	const char *name;
	size_t off;
	int value;
};

#define PT_FLAG(n, field, v)                                                                       \
	{                                                                                          \
		n, offsetof(struct fb_passthrough_config, field), v                                \
	}
static const struct pt_flag pt_flags[] = {
	PT_FLAG("writeback", writeback, 1),
	PT_FLAG("no_writeback", writeback, 0),
	PT_FLAG("readdirplus", readdirplus, 1),
	PT_FLAG("no_readdirplus", readdirplus, 0),
	PT_FLAG("xattr", xattr, 1),
	PT_FLAG("no_xattr", xattr, 0),
	PT_FLAG("posix_acl", posix_acl, 1),
	PT_FLAG("no_posix_acl", posix_acl, 0),
	PT_FLAG("no_open", no_open, 1),
	PT_FLAG("no_opendir", no_opendir, 1),
	PT_FLAG("killpriv_v2", killpriv_v2, 1),
	PT_FLAG("no_killpriv_v2", killpriv_v2, 0),
	PT_FLAG("submounts", submounts, 1),
	PT_FLAG("no_submounts", submounts, 0),
	PT_FLAG("passthrough", passthrough, 1),
	PT_FLAG("no_passthrough", passthrough, 0),
	PT_FLAG("posix_lock", posix_locks, 1),
	PT_FLAG("no_posix_lock", posix_locks, 0),
	PT_FLAG("direct_io", allow_direct_io, 1),
	PT_FLAG("no_direct_io", allow_direct_io, 0),
};

static int set_flag(void *priv, const char *name, const char *value)
{
	struct fb_passthrough_config *cfg = priv;

	if (value)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(pt_flags) / sizeof(pt_flags[0]); i++) {
		if (strcmp(pt_flags[i].name, name) == 0) {
			*(int *)((char *)cfg + pt_flags[i].off) = pt_flags[i].value;
			return 0;
		}
	}
	return -EINVAL;
}

static int set_cache(void *priv, const char *name, const char *value)
{
	struct fb_passthrough_config *cfg = priv;

	(void)name;
	return fb_passthrough_cache_parse(value, &cfg->cache);
}

/* A usable mount point: an existing directory that is not itself a mount in use. */
static int check_mountpoint(const char *mp)
{
	struct statx sx;

	if (statx(AT_FDCWD, mp, 0, STATX_TYPE, &sx) < 0) {
		if (errno == ENOTCONN)
			fprintf(stderr,
				"fb-passthrough: %s: a dead FUSE mount is in the way "
				"(unmount it with 'umount -l %s')\n",
				mp, mp);
		else
			fprintf(stderr, "fb-passthrough: mount point %s: %s\n", mp,
				strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sx.stx_mode)) {
		fprintf(stderr, "fb-passthrough: mount point %s is not a directory\n", mp);
		return -1;
	}
	if ((sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	    (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) {
		fprintf(stderr,
			"fb-passthrough: mount point %s is in use (something is "
			"mounted there)\n",
			mp);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct fb_passthrough_config cfg;
	double timeout = -1, dir_timeout = -1;
	struct fb_daemon_vfs dv = {0};
	int no_default_permissions = 0;

	fb_passthrough_config_init(&cfg);
	cfg.posix_acl = -1; /* on where the source keeps ACLs (docs/passthrough.md) */
#define FLAG_OPT(n, h)                                                                             \
	{                                                                                          \
		n, FB_DOPT_FUNC, .fn = set_flag, .priv = &cfg, .help = h                           \
	}
	const struct fb_daemon_opt opts[] = {
		{"cache", FB_DOPT_FUNC, .fn = set_cache, .priv = &cfg,
		 .help = "cache=MODE             never|metadata|auto|always (default auto)"},
		{"timeout", FB_DOPT_DOUBLE, &timeout,
		 .help = "timeout=SECONDS        name/attribute cache (default by cache=)"},
		{"dir_timeout", FB_DOPT_DOUBLE, &dir_timeout,
		 .help = "dir_timeout=SECONDS    the same for directories (default timeout)"},
		FLAG_OPT("writeback", "writeback              kernel write-back cache (off)"),
		FLAG_OPT("no_writeback", NULL),
		FLAG_OPT("readdirplus", "[no_]readdirplus       attributes with listings (on)"),
		FLAG_OPT("no_readdirplus", NULL),
		FLAG_OPT("xattr", "[no_]xattr             extended attributes (on)"),
		FLAG_OPT("no_xattr", NULL),
		FLAG_OPT("posix_acl",
			 "[no_]posix_acl         kernel enforces ACLs (on if SOURCE has them)"),
		FLAG_OPT("no_posix_acl", NULL),
		FLAG_OPT("no_open", "no_open                no OPEN requests (use with ro data)"),
		FLAG_OPT("no_opendir", "no_opendir             no OPENDIR requests"),
		FLAG_OPT("killpriv_v2",
			 "killpriv_v2            clear suid/sgid as the kernel asks"),
		FLAG_OPT("no_killpriv_v2", NULL),
		FLAG_OPT("submounts", "submounts              announce mounts inside SOURCE"),
		FLAG_OPT("no_submounts", NULL),
		FLAG_OPT("passthrough",
			 "[no_]passthrough       FUSE passthrough I/O (on if offered)"),
		FLAG_OPT("no_passthrough", NULL),
		FLAG_OPT("posix_lock",
			 "posix_lock             fcntl/flock locks on the host (off)"),
		FLAG_OPT("no_posix_lock", NULL),
		{"no_default_permissions", FB_DOPT_FLAG, &no_default_permissions,
		 .help = "no_default_permissions only the host checks permissions"},
		FLAG_OPT("direct_io", "[no_]direct_io         honour O_DIRECT opens (on)"),
		FLAG_OPT("no_direct_io", NULL),
		FB_DAEMON_VFS_OPTS(&dv),
		{NULL},
	};
#undef FLAG_OPT
	const struct fb_daemon_info info = {
		.name = "fb-passthrough",
		.summary = "Serve the host directory SOURCE on MOUNTPOINT.",
		.args = {"SOURCE", "MOUNTPOINT"},
		.nargs = 2,
		.opts = opts,
		.started = fb_daemon_vfs_started,
		.stopped = fb_daemon_vfs_stopped,
		.priv = &dv,
	};
	struct fb_daemon_opts o;
	struct fb_server_config scfg;
	struct fb_server *server;
	struct fb_passthrough *pt;
	const struct fb_fs_ops *ops = &fb_passthrough_ops;
	size_t ops_size = sizeof(fb_passthrough_ops);
	void *fs;
	struct stat st;
	int r, status;

	fb_daemon_parse_or_exit(&info, argc, argv, &o);
	cfg.source = o.args[0];
	cfg.timeout = timeout;
	cfg.dir_timeout = dir_timeout;
	cfg.noatime = o.mount.noatime;
	/* The kernel checks permissions first, on every path walk and open, also of cached
	 * entries and FIFOs; the host still checks each request as the caller. */
	o.mount.default_permissions = !no_default_permissions;
	if (no_default_permissions && cfg.posix_acl < 0)
		cfg.posix_acl = 0; /* FB_POSIX_ACL would turn default_permissions on */

	if (stat(cfg.source, &st) < 0) {
		fprintf(stderr, "fb-passthrough: source %s: %s\n", cfg.source, strerror(errno));
		goto out_fail;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "fb-passthrough: source %s is not a directory\n", cfg.source);
		goto out_fail;
	}
	if (check_mountpoint(o.mountpoint) < 0)
		goto out_fail;
	{
		/* Serving a tree that contains the mount would make the daemon wait on itself. */
		char *rs = realpath(cfg.source, NULL), *rm = realpath(o.mountpoint, NULL);
		int inside = rs && rm &&
			     (strcmp(rs, "/") == 0 ||
			      (strncmp(rm, rs, strlen(rs)) == 0 && rm[strlen(rs)] == '/') ||
			      strcmp(rm, rs) == 0);
		free(rs);
		free(rm);
		if (inside) {
			fprintf(stderr, "fb-passthrough: mount point %s is inside the source %s\n",
				o.mountpoint, cfg.source);
			goto out_fail;
		}
	}
	if (!o.mount.fsname)
		o.mount.fsname = cfg.source;
	if (!o.mount.subtype)
		o.mount.subtype = "fb-passthrough";

	r = fb_passthrough_new(&cfg, &pt);
	if (r < 0) {
		fprintf(stderr, "fb-passthrough: source %s: %s\n", cfg.source, strerror(-r));
		goto out_fail;
	}
	/* --mount / --control: serve a VFS (SOURCE is the backend type "self") */
	fs = pt;
	if (fb_daemon_vfs_setup(&dv, "fb-passthrough", &ops, &ops_size, &fs) < 0) {
		fb_daemon_vfs_done(&dv);
		fb_passthrough_free(pt);
		goto out_fail;
	}
	fb_daemon_server_config(&o, &scfg);
	r = fb_server_new(ops, ops_size, fs, &scfg, &server);
	if (r < 0) {
		fprintf(stderr, "fb-passthrough: cannot create the server: %s\n", strerror(-r));
		fb_daemon_vfs_done(&dv);
		fb_passthrough_free(pt);
		goto out_fail;
	}
	fb_daemon_vfs_server(&dv, server);
	status = fb_daemon_run(&info, &o, server);
	fb_server_free(server);
	fb_daemon_vfs_done(&dv);
	fb_passthrough_free(pt);
	fb_daemon_opts_done(&o);
	return status;

out_fail:
	fb_daemon_opts_done(&o);
	return 1;
}
