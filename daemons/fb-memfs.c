/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fb-memfs: a file system in memory, served through /dev/fuse.
 *
 *   fb-memfs [-f] [-d] [-s] [-o opt,...] MOUNTPOINT
 *
 * Everything lives in the daemon's memory and is gone at unmount.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fuse_backend/memfs.h>
#include <fuse_backend/server.h>

#include "common.h"
#include "daemon_vfs.h"

/* -o root_mode=1777: octal permission bits. */
static int parse_root_mode(void *priv, const char *name, const char *value)
{
	struct fb_memfs_config *cfg = priv;
	unsigned long v;
	char *end;

	(void)name;
	if (!value || !*value)
		return -EINVAL;
	errno = 0;
	v = strtoul(value, &end, 8);
	if (errno || *end || v > 07777)
		return -EINVAL;
	cfg->root_mode = (mode_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	struct fb_memfs_config mcfg = { 0 };
	struct fb_daemon_vfs dv = { 0 };
	const struct fb_daemon_opt opts[] = {
		{ "size", FB_DOPT_SIZE, &mcfg.max_bytes,
		  .help = "size=BYTES             capacity for data (K/M/G/T; default 1G)" },
		{ "max_inodes", FB_DOPT_SIZE, &mcfg.max_inodes,
		  .help = "max_inodes=N           most files at once (default 1M)" },
		{ "max_file_size", FB_DOPT_SIZE, &mcfg.max_file_size,
		  .help = "max_file_size=BYTES    largest file (default: size)" },
		{ "entry_timeout", FB_DOPT_DOUBLE, &mcfg.entry_timeout,
		  .help = "entry_timeout=SECONDS  kernel name cache (default 1)" },
		{ "attr_timeout", FB_DOPT_DOUBLE, &mcfg.attr_timeout,
		  .help = "attr_timeout=SECONDS   kernel attribute cache (default 1)" },
		{ "root_mode", FB_DOPT_FUNC, .fn = parse_root_mode, .priv = &mcfg,
		  .help = "root_mode=OCTAL        permissions of the root (default 755)" },
		FB_DAEMON_VFS_OPTS(&dv),
		{ NULL },
	};
	const struct fb_daemon_info info = {
		.name = "fb-memfs",
		.summary = "Serve a file system held in memory on MOUNTPOINT.",
		.args = { "MOUNTPOINT" },
		.nargs = 1,
		.opts = opts,
		.started = fb_daemon_vfs_started,
		.stopped = fb_daemon_vfs_stopped,
		.priv = &dv,
	};
	struct fb_daemon_opts o;
	struct fb_server_config scfg;
	struct fb_server *server;
	struct fb_memfs *m;
	const struct fb_fs_ops *ops = &fb_memfs_ops;
	size_t ops_size = sizeof(fb_memfs_ops);
	void *fs;
	int r, status;

	fb_daemon_parse_or_exit(&info, argc, argv, &o);
	/* The root belongs to whoever mounts, as with a fresh tmpfs mounted by that user. */
	mcfg.root_uid = getuid();
	mcfg.root_gid = getgid();

	r = fb_memfs_new(&mcfg, &m);
	if (r < 0) {
		fprintf(stderr, "fb-memfs: %s\n", strerror(-r));
		fb_daemon_opts_done(&o);
		return 1;
	}
	fs = m;
	if (fb_daemon_vfs_setup(&dv, "fb-memfs", &ops, &ops_size, &fs) < 0) {
		fb_daemon_vfs_done(&dv);
		fb_memfs_free(m);
		fb_daemon_opts_done(&o);
		return 1;
	}
	fb_daemon_server_config(&o, &scfg);
	r = fb_server_new(ops, ops_size, fs, &scfg, &server);
	if (r < 0) {
		fprintf(stderr, "fb-memfs: cannot create the server: %s\n", strerror(-r));
		fb_daemon_vfs_done(&dv);
		fb_memfs_free(m);
		fb_daemon_opts_done(&o);
		return 1;
	}
	fb_daemon_vfs_server(&dv, server);
	status = fb_daemon_run(&info, &o, server);
	fb_server_free(server);
	fb_daemon_vfs_done(&dv);
	fb_memfs_free(m);
	fb_daemon_opts_done(&o);
	return status;
}
