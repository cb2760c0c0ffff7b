/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fb-memfs: a file system in memory, served through /dev/fuse.
 *
 *   fb-memfs [-f] [-d] [-s] [-o opt,...] MOUNTPOINT
 *
 * Everything lives in the daemon's memory and is gone at unmount. Its own options are
 * fb_memfs_opt_set()'s; the rest is the library's start-up code (fuse_backend/main.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <fuse_backend/main.h>
#include <fuse_backend/memfs.h>
#include <fuse_backend/server.h>

#include "daemon_vfs.h"

static int memfs_opt(void *priv, const char *name, const char *value)
{
	return fb_memfs_opt_set(priv, name, value);
}

int main(int argc, char **argv)
{
	struct fb_memfs_config mcfg = {0};
	struct fb_daemon_vfs dv = {0};
	const struct fb_opt opts[] = {
		{"*", FB_OPT_FUNC, .fn = memfs_opt, .priv = &mcfg, .help = fb_memfs_opt_help()},
		FB_DAEMON_VFS_OPTS(&dv),
		{NULL},
	};
	const struct fb_main_info info = {
		.name = "fb-memfs",
		.summary = "Serve a file system held in memory on MOUNTPOINT.",
		.args = {"MOUNTPOINT"},
		.nargs = 1,
		.opts = opts,
		.started = fb_daemon_vfs_started,
		.stopped = fb_daemon_vfs_stopped,
		.priv = &dv,
	};
	struct fb_cmdline cl;
	struct fb_server_config scfg;
	struct fb_server *server;
	struct fb_memfs *m;
	const struct fb_fs_ops *ops = &fb_memfs_ops;
	size_t ops_size = sizeof(fb_memfs_ops);
	void *fs;
	int r, status = 1;

	fb_cmdline_parse_or_exit(&info, argc, argv, &cl);
	/* The root belongs to whoever mounts, as with a fresh tmpfs mounted by that user. */
	mcfg.root_uid = getuid();
	mcfg.root_gid = getgid();

	r = fb_memfs_new(&mcfg, &m);
	if (r < 0) {
		fprintf(stderr, "fb-memfs: %s\n", strerror(-r));
		goto out_done;
	}
	fs = m;
	if (fb_daemon_vfs_setup(&dv, "fb-memfs", &ops, &ops_size, &fs) < 0)
		goto out_free_vfs;
	fb_cmdline_server_config(&cl, &scfg);
	r = fb_server_new(ops, ops_size, fs, &scfg, &server);
	if (r < 0) {
		fprintf(stderr, "fb-memfs: cannot create the server: %s\n", strerror(-r));
		goto out_free_vfs;
	}
	fb_daemon_vfs_server(&dv, server);
	status = fb_main_run(&info, &cl, server);
	fb_server_free(server);
out_free_vfs:
	fb_daemon_vfs_done(&dv);
	fb_memfs_free(m);
out_done:
	fb_cmdline_done(&cl);
	return status;
}
