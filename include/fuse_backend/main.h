/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Starting a daemon: the libfuse-style command line, going to the background once the mount
 * is in place, signals, and the serving loop. What fuse_main() and fuse_parse_cmdline() give
 * libfuse users; fb-memfs and fb-passthrough are built on it.
 *
 * The whole thing in one call (examples/hello_fs.c):
 *
 *	static const struct fb_main_info info = {
 *		.name = "hello_fs", .args = { "MOUNTPOINT" }, .nargs = 1,
 *	};
 *	int main(int argc, char **argv)
 *	{
 *		return fb_main(&info, argc, argv, &hello_ops, sizeof(hello_ops), &state);
 *	}
 *
 * A daemon with options of its own lists them in a table (struct fb_opt) named by
 * info.opts; the parser writes each value where the row says. A daemon that must build its
 * file system from the options (a source directory, a size) uses the pieces:
 *
 *	struct fb_cmdline cl;
 *	fb_cmdline_parse_or_exit(&info, argc, argv, &cl);   // exits after -h, -V, errors
 *	... build the file system from the options and cl.args[] ...
 *	fb_cmdline_server_config(&cl, &scfg);
 *	fb_server_new(ops, sizeof(*ops), fs, &scfg, &server);
 *	status = fb_main_run(&info, &cl, server);           // mount, serve, unmount
 *	fb_server_free(server); ...; fb_cmdline_done(&cl);
 *	return status;
 *
 * fb_main_run() itself is fb_daemonize(), fb_session_new(), fb_signals_install(),
 * fb_session_mount(), fb_daemonize_ready() and fb_session_loop(); a daemon with its own loop
 * can take those pieces one by one.
 *
 * Command line:  NAME [options] ARGS...
 *   -f              stay in the foreground
 *   -d, -o debug    log every request and reply (implies -f)
 *   -s              serve with one thread (same as -o threads=1)
 *   -o opt[,opt]    the common options below, the mount options of fb_mount_opts_set(), and
 *                   the daemon's own table; -o may be repeated
 *   -h, --help      usage on stdout, exit 0;  -V, --version  version on stdout, exit 0
 *   --              the remaining arguments are positional even if they start with '-'
 * Common -o options: threads=N (1..1024, default 4), max_write=BYTES (4K..16M),
 * io_uring, uring_depth=N, uring_keep_nice, debug.
 * Sizes take K, M, G, T (powers of 1024, "64K", "1GiB"); seconds are decimal ("0.5").
 */
#ifndef FUSE_BACKEND_MAIN_H
#define FUSE_BACKEND_MAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <fuse_backend/fusedev.h>
#include <fuse_backend/server.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fb_vfs;

#define FB_MAIN_MAX_ARGS 4		/* positional arguments a daemon may take */
#define FB_MAIN_MAX_THREADS 1024	/* largest -o threads=N */
#define FB_MAIN_DEFAULT_THREADS 4	/* threads without -s or -o threads=N */

/* Kinds of daemon option: what the parser does with the value. */
enum fb_opt_type {
	FB_OPT_FLAG,	/* "-o NAME" (or "--NAME"): *(int *)dest = 1; a value is refused */
	FB_OPT_UINT,	/* "-o NAME=N": *(unsigned int *)dest, decimal */
	FB_OPT_SIZE,	/* "-o NAME=BYTES": *(uint64_t *)dest; suffix K, M, G, T (powers of
			 * 1024, optionally followed by "i" and/or "B") */
	FB_OPT_DOUBLE,	/* "-o NAME=X": *(double *)dest, a decimal >= 0 (e.g. seconds) */
	FB_OPT_STRING,	/* "-o NAME=TEXT": *(const char **)dest, pointing into the
			 * fb_cmdline (for -o) or argv (for --NAME): valid until
			 * fb_cmdline_done() */
	FB_OPT_FUNC,	/* fn(priv, name, value) decides; value is NULL when none was given */
};

/*
 * One daemon option, a row of the table that fb_main_info.opts names; the table ends with a
 * row whose name is NULL. Rows are tried after the common and the mount options, in order.
 *
 * name: without dashes, an "-o" option ("cache"). Starting with "--", a long option
 *       ("--mount"), whose value follows as the next argument or after '=' (FB_OPT_FLAG long
 *       options take none); long options may repeat (FB_OPT_FUNC sees each).
 *       "*" (FB_OPT_FUNC only) takes every "-o" option that no row before it took: fn returns
 *       -ENOENT for a name it does not know. This is how a file system's option setter
 *       (fb_passthrough_opt_set(), fb_memfs_opt_set()) plugs in whole.
 */
struct fb_opt {
	const char *name;
	enum fb_opt_type type;
	void *dest;		/* where the value goes, by type (unused for FB_OPT_FUNC) */
	/*
	 * FB_OPT_FUNC: apply @value (NULL when the option had no '=') for option @name.
	 * Return 0, -EINVAL for a bad or missing value (the parser reports "bad value"),
	 * -ERANGE for a value out of range ("out of range", e.g. a size of 0), or, for a "*"
	 * row only, -ENOENT when @name is not an option of this row.
	 */
	int (*fn)(void *priv, const char *name, const char *value);
	void *priv;		/* passed to fn */
	/*
	 * What --help shows. For a named row: the value's placeholder (e.g. "MODE" shows
	 * "-o cache=MODE"; NULL shows the name alone); for a "*" row unused.
	 */
	const char *arg;
	/*
	 * For a named row: one line describing the option, or NULL to leave the row out of
	 * --help (an alias; a hidden FB_OPT_FLAG row "no_NAME" makes the row NAME show as
	 * "[no_]NAME"). For a "*" row: the options it takes, one per line, each "NAME\tTEXT"
	 * (e.g. "cache=MODE\tnever|metadata|auto|always"), as fb_passthrough_opt_help() gives.
	 */
	const char *help;
	/* Zero (a designated initialiser leaves it so): room for fields added later without
	 * changing the size of a row, which tables are indexed by. */
	void *reserved[2];
};

/*
 * A daemon's description: its name, positional arguments, options and hooks. Fill it with a
 * designated initialiser: fields left out are zero, which is the default for each.
 */
struct fb_main_info {
	const char *name;	/* program name for messages and --help, e.g. "fb-memfs" */
	const char *summary;	/* one line for --help, or NULL */
	const char *version;	/* printed by -V as "NAME (fuse-backend) VERSION"; NULL: the
				 * library's version */
	const char *args[FB_MAIN_MAX_ARGS];	/* names of the positional arguments for
						 * --help and errors; the last one is the
						 * mount point */
	int nargs;		/* how many positional arguments are required (1..4) */
	const struct fb_opt *opts;	/* the daemon's own options, or NULL */
	int foreground;		/* serve in the foreground even without -f (-f is accepted) */
	/*
	 * 0 (the default): fb_main_run() sends the library's log lines to stderr as
	 * "NAME: message" (debug lines only with -d), so that a user sees which program
	 * speaks. 1: leave the log function alone (the daemon set its own with fb_log_set()).
	 */
	int keep_log;
	/*
	 * Mount options used when the command line does not give them (fb_cmdline_parse()
	 * fills them in): the source shown in /proc/mounts and the type "fuse.SUBTYPE". NULL:
	 * none (the library's "fuse-backend", and plain "fuse"). "-o subtype=" (empty) on the
	 * command line asks for plain "fuse" whatever the default.
	 */
	const char *fsname;
	const char *subtype;
	/*
	 * Called in the serving process (after going to the background), after mounting and
	 * before the loop starts; e.g. to start a control socket. Returning a negative errno
	 * unmounts and makes fb_main_run() fail. May be NULL.
	 */
	int (*started)(void *priv, struct fb_session *se);
	/* Called after the loop has returned, before the session is freed. May be NULL. */
	void (*stopped)(void *priv, struct fb_session *se);
	void *priv;		/* passed to the hooks */
	/* Zero: room for fields added later (the library reads zero as "as before"). */
	void *reserved[8];
};

/*
 * The parsed command line: the caller allocates it, fb_cmdline_parse() fills it, and
 * fb_cmdline_done() frees what it holds. Strings are borrowed from argv or held by it.
 */
struct fb_cmdline {
	int foreground;			/* -f (or -d, or fb_main_info.foreground) */
	int debug;			/* -d, -o debug */
	unsigned int threads;		/* -o threads=N, -s (1); 0: FB_MAIN_DEFAULT_THREADS */
	uint32_t max_write;		/* -o max_write=BYTES; 0: the server's default */
	int io_uring;			/* -o io_uring: serve over FUSE io_uring if possible */
	unsigned int uring_depth;	/* -o uring_depth=N; 0: the engine's default */
	int uring_keep_nice;		/* -o uring_keep_nice */
	struct fb_mount_opts mount;	/* mount options, for fb_session_mount() */
	const char *args[FB_MAIN_MAX_ARGS];	/* positional arguments, borrowed from argv */
	int nargs;			/* how many were given */
	const char *mountpoint;		/* the last positional argument */
	int help;			/* -h / --help was given: nothing else was checked */
	int version;			/* -V / --version was given */
	char **owned;			/* private: copies of the -o strings */
	size_t nowned;			/* private */
	/* Private: room for fields added later without changing the struct's size (the
	 * caller allocates it, fb_cmdline_parse() fills all of it). */
	uint64_t reserved[8];
};

/*
 * Parse @argc/@argv (argv[0] is the program) against the common options, the mount options
 * (fb_mount_opts_set()) and info->opts, into @cl (zeroed first). Prints nothing; writes only
 * @cl and the table's destinations. Returns 0 when the daemon should run; 1 when -h or -V
 * was given (cl->help / cl->version say which); -EINVAL with a one-line message in @err
 * (@errlen bytes) for an unknown option, a bad value, or missing or extra arguments; -ENOMEM.
 * Call fb_cmdline_done() in every case.
 */
int fb_cmdline_parse(const struct fb_main_info *info, int argc, char **argv,
		     struct fb_cmdline *cl, char *err, size_t errlen);

/* Free what fb_cmdline_parse() allocated (not @cl itself). NULL-safe; may be called twice. */
void fb_cmdline_done(struct fb_cmdline *cl);

/* Print the --help text to @f: usage line, summary, then every option once, aligned. */
void fb_cmdline_usage(const struct fb_main_info *info, FILE *f);

/*
 * fb_cmdline_parse(), then: after -h print the usage to stdout and exit(0); after -V print
 * the version and exit(0); on errors print "NAME: message" and "Try 'NAME --help' ..." to
 * stderr and exit(1). Returns only when the daemon should run.
 */
void fb_cmdline_parse_or_exit(const struct fb_main_info *info, int argc, char **argv,
			      struct fb_cmdline *cl);

/* Fill @cfg (zeroed first) with the server settings @cl asks for (debug, max_write). */
void fb_cmdline_server_config(const struct fb_cmdline *cl, struct fb_server_config *cfg);

/* Threads the loop will use: 1 with -s, else threads=N, else FB_MAIN_DEFAULT_THREADS. */
unsigned int fb_cmdline_threads(const struct fb_cmdline *cl);

/*
 * Make SIGINT, SIGTERM and SIGHUP end @se (fb_session_exit(): the loop unmounts and returns),
 * and ignore SIGPIPE. One session per process; the handlers are installed without SA_RESTART
 * so that a blocked read returns EINTR. Returns 0 or -errno of sigaction().
 */
int fb_signals_install(struct fb_session *se);

/*
 * Let a later signal do nothing (the handlers stay installed, so a late signal cannot cut
 * the clean-up short, nor kill the process). Call before freeing the session.
 */
void fb_signals_forget(void);

/*
 * Go to the background: fork; the parent waits until the child calls fb_daemonize_ready()
 * and exits 0 then, or exits 1 when the child ends (or closes *@ret_fd) without it; the
 * parent never returns. The child starts a new session (setsid()) and keeps the terminal
 * on stdin/stdout/stderr until fb_daemonize_ready(), so mount errors printed meanwhile
 * still reach the user. Stores the child's end of the pipe to the parent in *@ret_fd.
 * Returns 0 (in the child) or -errno when fork() or pipe() failed.
 */
int fb_daemonize(int *ret_fd);

/*
 * In the background child, once serving can begin: move to "/", put /dev/null on stdin,
 * stdout and stderr (so that a shell pipe reading the daemon's output ends), and tell the
 * waiting parent to exit 0. @fd is what fb_daemonize() stored; a negative @fd does nothing.
 */
void fb_daemonize_ready(int fd);

/*
 * Serve @server on cl->mountpoint: unless cl->foreground, fb_daemonize(); unless
 * info->keep_log, log as "NAME: message" (fb_log_set(), for the rest of the process); then
 * create the
 * session, fb_signals_install(), start FUSE over io_uring when cl->io_uring (falling back to
 * /dev/fuse with one log line when it cannot), mount with cl->mount (the library logs why a
 * mount fails, in one line), call info->started, fb_daemonize_ready(), run the loop with
 * fb_cmdline_threads() threads until a signal or an unmount, unmount, call info->stopped.
 * @server is borrowed. Returns the exit status: 0 on a clean end, 1 on failure.
 */
int fb_main_run(const struct fb_main_info *info, const struct fb_cmdline *cl,
		struct fb_server *server);

/*
 * The whole daemon: fb_cmdline_parse_or_exit(), fb_server_new(@ops, @ops_size, @fs) with the
 * command line's server settings, fb_main_run(), and the clean-up. @ops and @fs are
 * borrowed; @fs is the file system's state, passed to every operation. Returns the exit
 * status for main(): 0, or 1 after printing why; exits itself after -h, -V and command-line
 * errors (status 0, 0, 1).
 */
int fb_main(const struct fb_main_info *info, int argc, char **argv, const struct fb_fs_ops *ops,
	    size_t ops_size, void *fs);

/*
 * Register the VFS backend types that the library ships (fb_vfs_register_type()), for
 * "--mount PATH=TYPE:ARGS" and fb-ctl:
 *   memfs[:OPTIONS]           an empty file system in memory; OPTIONS as fb_memfs_opt_set()
 *                             (size=BYTES, max_inodes=N, ...)
 *   passthrough:/DIR[,OPTIONS] the host directory /DIR; OPTIONS as fb_passthrough_opt_set()
 *                             (cache=MODE, [no_]writeback, ...)
 * The VFS layer itself knows no backend: this lives with the daemons' start-up code.
 * Returns 0 or a negative errno of fb_vfs_register_type().
 */
int fb_vfs_register_builtin_types(struct fb_vfs *vfs);

#ifdef __cplusplus
}
#endif

#endif /* FUSE_BACKEND_MAIN_H */
