/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * What every fuse-backend daemon shares: the libfuse-style command line, mounting, going to
 * the background, signals, and the serving loop.
 *
 *	static const struct fb_daemon_opt my_opts[] = {
 *		{ "size", FB_DOPT_SIZE, &cfg.max_bytes, .help = "size=BYTES  capacity (1G, 512M)" },
 *		{ NULL }
 *	};
 *	static const struct fb_daemon_info info = {
 *		.name = "fb-memfs", .args = { "MOUNTPOINT" }, .nargs = 1, .opts = my_opts,
 *	};
 *	struct fb_daemon_opts o;
 *	fb_daemon_parse_or_exit(&info, argc, argv, &o);	// exit 0 after -h/-V, 1 on errors
 *	fb_daemon_server_config(&o, &scfg);
 *	fb_server_new(ops, sizeof(*ops), fs, &scfg, &server);
 *	status = fb_daemon_run(&info, &o, server);	// mount, serve, unmount
 *	...free...; fb_daemon_opts_done(&o);
 *	return status;
 *
 * Command line:  NAME [options] ARGS...
 *   -f              stay in the foreground
 *   -d, -o debug    log every request and reply (implies -f)
 *   -s              serve with one thread (same as -o threads=1)
 *   -o opt[,opt]    options below, the mount options of fb_mount_opts_set(), and the daemon's
 *                   own table; -o may be repeated
 *   -h, --help      usage;  -V, --version  version
 * Common -o options: threads=N, max_write=BYTES, io_uring, uring_depth=N, uring_keep_nice,
 * debug.
 */
#ifndef FB_DAEMON_COMMON_H
#define FB_DAEMON_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <fuse_backend/fusedev.h>
#include <fuse_backend/server.h>

#define FB_DAEMON_MAX_ARGS	4	/* positional arguments a daemon may take */
#define FB_DAEMON_MAX_THREADS	1024
#define FB_DAEMON_DEFAULT_THREADS 4

/* Kinds of daemon-specific option. */
enum fb_dopt_type {
	FB_DOPT_FLAG,	/* "-o NAME" (or "--NAME"): *(int *)dest = 1; no value allowed */
	FB_DOPT_UINT,	/* "-o NAME=N": *(unsigned int *)dest, decimal */
	FB_DOPT_SIZE,	/* "-o NAME=BYTES": *(uint64_t *)dest; suffix K, M, G, T (powers of 1024) */
	FB_DOPT_DOUBLE,	/* "-o NAME=X": *(double *)dest, >= 0 (e.g. seconds) */
	FB_DOPT_STRING,	/* "-o NAME=TEXT": *(const char **)dest; valid until fb_daemon_opts_done() */
	FB_DOPT_FUNC,	/* fn(priv, name, value) decides; value NULL when none was given */
};

/*
 * One daemon-specific option. @name without dashes is an "-o" option ("cache"); a name
 * starting with "--" is a long option ("--mount"), whose value follows as the next argument
 * or after '=' (FB_DOPT_FLAG long options take none). Long options may repeat (FB_DOPT_FUNC
 * sees each). A table ends with an entry whose name is NULL.
 */
struct fb_daemon_opt {
	const char *name;
	enum fb_dopt_type type;
	void *dest;		/* where the value goes, by type (unused for FB_DOPT_FUNC) */
	/* FB_DOPT_FUNC: return 0, or -EINVAL to reject (the parser reports "bad value"). */
	int (*fn)(void *priv, const char *name, const char *value);
	void *priv;		/* passed to fn */
	const char *help;	/* one line for --help, e.g. "cache=MODE   auto|always|never" */
};

/* A daemon's description: its name, positional arguments, options, and hooks. */
struct fb_daemon_info {
	const char *name;	/* program name for messages, e.g. "fb-memfs" */
	const char *summary;	/* one line for --help */
	const char *args[FB_DAEMON_MAX_ARGS];	/* names of the positional arguments; the
						 * last one is the mount point */
	int nargs;		/* how many positional arguments are required */
	const struct fb_daemon_opt *opts;	/* the daemon's own options, or NULL */
	/*
	 * Called in the serving process (after going to the background), after mounting and
	 * before the loop starts; e.g. to start a control socket. Returning a negative errno
	 * unmounts and makes fb_daemon_run() fail. May be NULL.
	 */
	int (*started)(void *priv, struct fb_session *se);
	/* Called after the loop has returned, before the session is freed. May be NULL. */
	void (*stopped)(void *priv, struct fb_session *se);
	void *priv;		/* passed to the hooks */
};

/* The parsed command line. Fill it with fb_daemon_parse(); free with fb_daemon_opts_done(). */
struct fb_daemon_opts {
	int foreground;			/* -f (or implied by -d) */
	int debug;			/* -d, -o debug */
	unsigned int threads;		/* -o threads=N, -s (1); 0: FB_DAEMON_DEFAULT_THREADS */
	uint32_t max_write;		/* -o max_write=BYTES; 0: the server's default */
	int io_uring;			/* -o io_uring: serve over FUSE io_uring if possible */
	unsigned int uring_depth;	/* -o uring_depth=N; 0: the engine's default */
	int uring_keep_nice;		/* -o uring_keep_nice */
	struct fb_mount_opts mount;	/* mount options (strings point into `owned`) */
	const char *args[FB_DAEMON_MAX_ARGS];	/* positional arguments, borrowed from argv */
	int nargs;
	const char *mountpoint;		/* the last positional argument */
	int help;			/* -h / --help was given: nothing else was checked */
	int version;			/* -V / --version was given */
	char **owned;			/* private: copies of the -o strings */
	size_t nowned;
};

/*
 * Parse @argc/@argv (argv[0] is the program) against the common options, the mount options
 * and info->opts. Pure apart from writing daemon option destinations: prints nothing.
 * Returns 0 when the daemon should run; 1 when -h or -V was given (o->help / o->version
 * say which); -EINVAL with a one-line message in @err (@errlen bytes) for an unknown option,
 * a bad value, or missing/extra arguments; -ENOMEM. Call fb_daemon_opts_done() in every case.
 */
int fb_daemon_parse(const struct fb_daemon_info *info, int argc, char **argv,
		    struct fb_daemon_opts *o, char *err, size_t errlen);

/* Free what fb_daemon_parse() allocated (the struct itself is the caller's). */
void fb_daemon_opts_done(struct fb_daemon_opts *o);

/* Print the --help text to @f. */
void fb_daemon_usage(const struct fb_daemon_info *info, FILE *f);

/*
 * fb_daemon_parse(), then: on -h print usage and exit(0); on -V print the version and exit(0);
 * on errors print "NAME: message" and a hint to stderr and exit(1). Returns only on success.
 */
void fb_daemon_parse_or_exit(const struct fb_daemon_info *info, int argc, char **argv,
			     struct fb_daemon_opts *o);

/* Fill @cfg (zeroed first) with the server settings the options ask for (debug, max_write). */
void fb_daemon_server_config(const struct fb_daemon_opts *o, struct fb_server_config *cfg);

/* Threads the loop will use: 1 with -s, else threads=N, else FB_DAEMON_DEFAULT_THREADS. */
unsigned int fb_daemon_threads(const struct fb_daemon_opts *o);

/*
 * Serve @server on o->mountpoint. Unless o->foreground, first fork: the parent waits and
 * exits 0 once the child has mounted and info->started succeeded, or 1 when the child failed
 * (the child's messages still reach the terminal until then). Then: create the session,
 * install SIGINT/SIGTERM/SIGHUP handlers that end it (SIGPIPE is ignored), start FUSE over
 * io_uring when o->io_uring, mount (errors are printed, the status is 1), call
 * info->started, leave the terminal, run the loop until a signal or an unmount, unmount,
 * call info->stopped. Returns the process exit status: 0 on a clean end, 1 on failure.
 */
int fb_daemon_run(const struct fb_daemon_info *info, const struct fb_daemon_opts *o,
		  struct fb_server *server);

#endif /* FB_DAEMON_COMMON_H */
