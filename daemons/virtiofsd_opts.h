/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fb-virtiofsd's command line: the flags of the Rust virtiofsd (--opt=value and --opt value)
 * and the -o forms of QEMU's C virtiofsd that libvirt before 9.x passes. Parsed by the shared
 * daemon parser (common.c) over a table of our own; kept apart from the daemon so that
 * tests/unit/test_virtiofsd_opts.c can check it without sockets or a sandbox.
 *
 *	struct fb_vfsd_opts v;
 *	char err[256];
 *	r = fb_vfsd_parse(argc, argv, &v, err, sizeof(err));
 *	// 0: run; 1: --help / --version / --print-capabilities; -EINVAL: err says why
 *	fb_vfsd_opts_done(&v);
 */
#ifndef FB_VIRTIOFSD_OPTS_H
#define FB_VIRTIOFSD_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <fuse_backend/passthrough.h>

#include <fuse_backend/main.h>
#include "daemon_vfs.h"

enum fb_vfsd_sandbox {
	FB_VFSD_SANDBOX_NAMESPACE = 0, /* the default */
	FB_VFSD_SANDBOX_CHROOT,
	FB_VFSD_SANDBOX_NONE,
};

enum fb_vfsd_seccomp {
	FB_VFSD_SECCOMP_KILL = 0, /* the default: an unlisted call kills the process */
	FB_VFSD_SECCOMP_LOG,	  /* allowed, and logged by the kernel */
	FB_VFSD_SECCOMP_TRAP,	  /* SIGSYS */
	FB_VFSD_SECCOMP_NONE,
};

enum fb_vfsd_handles {
	FB_VFSD_HANDLES_PREFER = 0, /* our default: handles where the host allows */
	FB_VFSD_HANDLES_NEVER,	    /* an O_PATH descriptor per inode */
	FB_VFSD_HANDLES_MANDATORY,  /* refuse to start without file handles */
};

#define FB_VFSD_IDMAPS_MAX  32
#define FB_VFSD_IGNORED_MAX 16

/* --log-level, as the threshold of fb_log levels shown (0: off). */
#define FB_VFSD_LOG_OFF 0

struct fb_vfsd_opts {
	struct fb_cmdline common;	 /* -h, -V, -d, -o debug, -o threads=N, ... */
	const char *socket_path;	 /* --socket-path (or --socket) */
	const char *socket_group;	 /* --socket-group */
	int fd;				 /* --fd, or -1 */
	const char *shared_dir;		 /* --shared-dir or -o source= */
	const char *tag;		 /* --tag (QEMU sets the tag: logged only) */
	struct fb_passthrough_config pt; /* cache, xattr, posix_acl, writeback, ... */
	struct fb_daemon_vfs vfs;	 /* --mount PATH=TYPE[:ARGS], --control SOCKET */
	unsigned int thread_pool_size;	 /* --thread-pool-size */
	int thread_pool_set;
	enum fb_vfsd_sandbox sandbox;
	enum fb_vfsd_seccomp seccomp;
	enum fb_vfsd_handles handles;
	int security_label;	/* --security-label */
	uint64_t rlimit_nofile; /* --rlimit-nofile; 0 with rlimit_set: leave it */
	int rlimit_set;
	int log_level;		/* FB_LOG_* threshold, FB_VFSD_LOG_OFF; default INFO */
	int syslog;		/* --syslog */
	int print_capabilities; /* --print-capabilities */
	/* --translate-uid / --translate-gid, in command-line order; pt.uid_map and
	 * pt.gid_map point here once all are parsed and checked */
	const char *uid_spec[FB_VFSD_IDMAPS_MAX];
	struct fb_idmap_range uid_map[FB_VFSD_IDMAPS_MAX];
	int nuid_map;
	const char *gid_spec[FB_VFSD_IDMAPS_MAX];
	struct fb_idmap_range gid_map[FB_VFSD_IDMAPS_MAX];
	int ngid_map;
	/* options accepted but without effect here, each once, for one log line each */
	const char *ignored[FB_VFSD_IGNORED_MAX];
	int nignored;
	/* private: flags the shared parser sets */
	int f_xattr, f_posix_acl, f_submounts, f_writeback, f_direct_io, f_killpriv_v2;
	int f_no_killpriv_v2, f_no_readdirplus, f_syslog, f_caps, f_seclabel;
	int f_flock;
};

/*
 * Parse @argv. Pure: prints nothing. Returns 0 when the daemon should run; 1 when --help,
 * --version or --print-capabilities asked only for output (v->common.help,
 * v->common.version, v->print_capabilities); -EINVAL with one line in @err (naming the
 * option) for anything unknown or malformed, or a missing --shared-dir / socket; -ENOMEM.
 * Call fb_vfsd_opts_done() in every case.
 */
int fb_vfsd_parse(int argc, char **argv, struct fb_vfsd_opts *v, char *err, size_t errlen);

void fb_vfsd_opts_done(struct fb_vfsd_opts *v);

/*
 * Parse one --translate-uid/--translate-gid value, the Rust virtiofsd's syntax: a kind
 * (guest, host, squash-guest, squash-host, forbid-guest, map; any case) then its numbers
 * (decimal u32), all after the same separator, the first character that is not a letter,
 * digit, '-' or '_' (':' by convention): "map:1000:2000:1", "forbid-guest:0:1000".
 * Also refuses what fb_idmap_check() would refuse on its own (COUNT 0, a range past
 * 4294967295). Returns 0, or -EINVAL with one line in @err naming the bad part.
 */
int fb_vfsd_idmap_parse(const char *s, struct fb_idmap_range *out, char *err, size_t errlen);

/* The --help text. */
void fb_vfsd_usage(FILE *f);

/* The --print-capabilities JSON (docs/interop/vhost-user.json in QEMU, type "fs"). */
void fb_vfsd_print_capabilities(FILE *f);

#endif /* FB_VIRTIOFSD_OPTS_H */
