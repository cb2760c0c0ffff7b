/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fb-passthrough: a host directory served through /dev/fuse.
 *
 *   fb-passthrough [-f] [-d] [-s] [-o opt,...] SOURCE MOUNTPOINT
 *
 * Its own options are fb_passthrough_opt_set()'s (see docs/passthrough.md), plus
 * no_default_permissions (default_permissions is on by default); the rest is the library's
 * start-up code (fuse_backend/main.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <fuse_backend/main.h>
#include <fuse_backend/passthrough.h>
#include <fuse_backend/server.h>

#include "daemon_vfs.h"

/*
 * Something other than a FUSE mount on the mount point (a bind mount, a tmpfs) is in use: we
 * refuse to hide it. FUSE mounts, live or stale, are the library's to judge (one message).
 */
static int mountpoint_hides_a_mount(const char *mp)
{
	struct statx sx;
	struct statfs sfs;

	if (statx(AT_FDCWD, mp, 0, STATX_TYPE, &sx) < 0)
		return 0;
	if (!(sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) ||
	    !(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
		return 0;
	if (statfs(mp, &sfs) < 0 || sfs.f_type == FUSE_SUPER_MAGIC)
		return 0;
	fprintf(stderr, "fb-passthrough: mount point %s is in use (something is mounted there)\n",
		mp);
	return 1;
}

static int pt_opt(void *priv, const char *name, const char *value)
{
	return fb_passthrough_opt_set(priv, name, value);
}

int main(int argc, char **argv)
{
	struct fb_passthrough_config cfg;
	struct fb_daemon_vfs dv = {0};
	int no_default_permissions = 0;

	fb_passthrough_config_init(&cfg);
	cfg.posix_acl = -1; /* on where the source keeps ACLs (docs/passthrough.md) */
	const struct fb_opt opts[] = {
		{"no_default_permissions", FB_OPT_FLAG, &no_default_permissions,
		 .help = "only the host checks permissions"},
		{"*", FB_OPT_FUNC, .fn = pt_opt, .priv = &cfg, .help = fb_passthrough_opt_help()},
		FB_DAEMON_VFS_OPTS(&dv),
		{NULL},
	};
	const struct fb_main_info info = {
		.name = "fb-passthrough",
		.summary = "Serve the host directory SOURCE on MOUNTPOINT.",
		.args = {"SOURCE", "MOUNTPOINT"},
		.nargs = 2,
		.opts = opts,
		.subtype = "fb-passthrough",
		.started = fb_daemon_vfs_started,
		.stopped = fb_daemon_vfs_stopped,
		.priv = &dv,
	};
	struct fb_cmdline o;
	struct fb_server_config scfg;
	struct fb_server *server;
	struct fb_passthrough *pt;
	const struct fb_fs_ops *ops = &fb_passthrough_ops;
	size_t ops_size = sizeof(fb_passthrough_ops);
	void *fs;
	struct stat st;
	int r, status;

	fb_cmdline_parse_or_exit(&info, argc, argv, &o);
	cfg.source = o.args[0];
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
	if (mountpoint_hides_a_mount(o.mountpoint))
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
	fb_cmdline_server_config(&o, &scfg);
	r = fb_server_new(ops, ops_size, fs, &scfg, &server);
	if (r < 0) {
		fprintf(stderr, "fb-passthrough: cannot create the server: %s\n", strerror(-r));
		fb_daemon_vfs_done(&dv);
		fb_passthrough_free(pt);
		goto out_fail;
	}
	fb_daemon_vfs_server(&dv, server);
	status = fb_main_run(&info, &o, server);
	fb_server_free(server);
	fb_daemon_vfs_done(&dv);
	fb_passthrough_free(pt);
	fb_cmdline_done(&o);
	return status;

out_fail:
	fb_cmdline_done(&o);
	return 1;
}
