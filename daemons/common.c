/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Shared daemon plumbing: command line, background, signals, loop. See common.h.
 *
 * Options are parsed in one pass over a fixed order of tables: the common options, then the
 * mount options (fb_mount_opts_set()), then the daemon's own table. Adding an option to a
 * daemon means adding a row to its table, nothing here.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fuse_backend/uring.h>

#include "common.h"

#ifndef FB_DAEMON_VERSION
#define FB_DAEMON_VERSION "0.1.0"
#endif

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* "4096", "64K", "512M", "1G", "2T" (powers of 1024; an optional trailing 'B' / "iB"). */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	/* K, M, G, T: 2^10, 2^20, 2^30, 2^40 */
	if (*end && strchr("KMGT", toupper((unsigned char)*end))) {
		shift = 10 *
			(unsigned int)(strchr("KMGT", toupper((unsigned char)*end)) - "KMGT" + 1);
		end++;
	}
	if (shift && *end == 'i')
		end++;
	if (*end == 'B' || (shift && *end == 'b'))
		end++;
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/* Apply one daemon-table option. Returns 0, -ENOENT (not in the table), -EINVAL. */
static int apply_table(const struct fb_daemon_opt *tab, const char *name, const char *value,
		       int is_long)
{
	unsigned long long u;
	uint64_t sz;
	char *end;
	double d;

	for (; tab && tab->name; tab++) {
		int tab_long = strncmp(tab->name, "--", 2) == 0;

		if (tab_long != is_long || strcmp(tab->name + (tab_long ? 2 : 0), name) != 0)
			continue;
		switch (tab->type) {
		case FB_DOPT_FLAG:
			if (value)
				return -EINVAL;
			*(int *)tab->dest = 1;
			return 0;
		case FB_DOPT_UINT:
			if (parse_uint(value, UINT32_MAX, &u) < 0)
				return -EINVAL;
			*(unsigned int *)tab->dest = (unsigned int)u;
			return 0;
		case FB_DOPT_SIZE:
			if (parse_size(value, &sz) < 0)
				return -EINVAL;
			*(uint64_t *)tab->dest = sz;
			return 0;
		case FB_DOPT_DOUBLE:
			if (!value || !*value)
				return -EINVAL;
			errno = 0;
			d = strtod(value, &end);
			if (errno || *end || !isfinite(d) || d < 0)
				return -EINVAL;
			*(double *)tab->dest = d;
			return 0;
		case FB_DOPT_STRING:
			if (!value)
				return -EINVAL;
			*(const char **)tab->dest = value;
			return 0;
		case FB_DOPT_FUNC:
			return tab->fn(tab->priv, name, value) < 0 ? -EINVAL : 0;
		}
		return -EINVAL;
	}
	return -ENOENT;
}

/* The common -o options. Returns 0, -ENOENT (not one of them), -EINVAL. */
static int apply_common(struct fb_daemon_opts *o, const char *name, const char *value)
{
	unsigned long long u;
	uint64_t sz;

	if (strcmp(name, "debug") == 0) {
		if (value)
			return -EINVAL;
		o->debug = o->foreground = 1;
		return 0;
	}
	if (strcmp(name, "threads") == 0) {
		if (parse_uint(value, FB_DAEMON_MAX_THREADS, &u) < 0 || u == 0)
			return -EINVAL;
		o->threads = (unsigned int)u;
		return 0;
	}
	if (strcmp(name, "max_write") == 0) {
		if (parse_size(value, &sz) < 0 || sz < 4096 || sz > (16u << 20))
			return -EINVAL;
		o->max_write = (uint32_t)sz;
		return 0;
	}
	if (strcmp(name, "io_uring") == 0) {
		if (value)
			return -EINVAL;
		o->io_uring = 1;
		return 0;
	}
	if (strcmp(name, "uring_keep_nice") == 0) {
		if (value)
			return -EINVAL;
		o->uring_keep_nice = 1;
		return 0;
	}
	if (strcmp(name, "uring_depth") == 0) {
		if (parse_uint(value, FB_URING_DEPTH_MAX, &u) < 0 || u == 0)
			return -EINVAL;
		o->uring_depth = (unsigned int)u;
		return 0;
	}
	return -ENOENT;
}

/* Parse one "-o" argument (comma-separated list); keeps a copy the options point into. */
static int apply_o(const struct fb_daemon_info *info, struct fb_daemon_opts *o, const char *arg,
		   char *err, size_t errlen)
{
	char **owned, *copy, *item, *save = NULL;

	owned = realloc(o->owned, (o->nowned + 1) * sizeof(*owned));
	if (!owned)
		return -ENOMEM;
	o->owned = owned;
	copy = strdup(arg);
	if (!copy)
		return -ENOMEM;
	o->owned[o->nowned++] = copy;

	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *value = strchr(item, '=');
		int r;

		if (value)
			*value++ = '\0';
		if (!*item) {
			seterr(err, errlen, "empty option name in '-o %s'", arg);
			return -EINVAL;
		}
		r = apply_common(o, item, value);
		if (r == -ENOENT)
			r = fb_mount_opts_set(&o->mount, item, value);
		if (r == -ENOENT)
			r = apply_table(info->opts, item, value, 0);
		if (r == -ENOENT) {
			seterr(err, errlen, "unknown option '%s' (see --help)", item);
			return -EINVAL;
		}
		if (r < 0) {
			if (value)
				seterr(err, errlen, "bad value for option '%s': '%s'", item, value);
			else
				seterr(err, errlen, "option '%s' needs a value or takes none",
				       item);
			return -EINVAL;
		}
	}
	return 0;
}

/* Does the long option --NAME exist in the table, and does it take a value? */
static const struct fb_daemon_opt *find_long(const struct fb_daemon_opt *tab, const char *name,
					     size_t len)
{
	for (; tab && tab->name; tab++)
		if (strncmp(tab->name, "--", 2) == 0 && strlen(tab->name + 2) == len &&
		    strncmp(tab->name + 2, name, len) == 0)
			return tab;
	return NULL;
}

int fb_daemon_parse(const struct fb_daemon_info *info, int argc, char **argv,
		    struct fb_daemon_opts *o, char *err, size_t errlen)
{
	int only_args = 0, r;

	memset(o, 0, sizeof(*o));
	if (err && errlen)
		err[0] = '\0';
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (only_args || a[0] != '-' || a[1] == '\0') {
			if (o->nargs >= info->nargs || o->nargs >= FB_DAEMON_MAX_ARGS) {
				seterr(err, errlen, "unexpected argument '%s'", a);
				return -EINVAL;
			}
			o->args[o->nargs++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_args = 1;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			o->help = 1;
			return 1;
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			o->version = 1;
			return 1;
		} else if (strcmp(a, "-f") == 0) {
			o->foreground = 1;
		} else if (strcmp(a, "-d") == 0) {
			o->debug = o->foreground = 1;
		} else if (strcmp(a, "-s") == 0) {
			o->threads = 1;
		} else if (strncmp(a, "-o", 2) == 0) {
			const char *list = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);

			if (!list) {
				seterr(err, errlen, "-o needs an argument");
				return -EINVAL;
			}
			r = apply_o(info, o, list, err, errlen);
			if (r < 0)
				return r;
		} else if (strncmp(a, "--", 2) == 0) {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const struct fb_daemon_opt *opt = find_long(info->opts, name, len);
			char nm[64];
			const char *value = eq ? eq + 1 : NULL;

			if (!opt || len >= sizeof(nm)) {
				seterr(err, errlen, "unknown option '%s' (see --help)", a);
				return -EINVAL;
			}
			memcpy(nm, name, len);
			nm[len] = '\0';
			if (!value && opt->type != FB_DOPT_FLAG) {
				if (i + 1 >= argc) {
					seterr(err, errlen, "option '--%s' needs a value", nm);
					return -EINVAL;
				}
				value = argv[++i];
			}
			if (apply_table(info->opts, nm, value, 1) < 0) {
				seterr(err, errlen, "bad value for option '--%s'%s%s", nm,
				       value ? ": " : "", value ? value : "");
				return -EINVAL;
			}
		} else {
			seterr(err, errlen, "unknown option '%s' (see --help)", a);
			return -EINVAL;
		}
	}
	if (o->nargs < info->nargs) {
		seterr(err, errlen, "missing %s",
		       info->args[o->nargs] ? info->args[o->nargs] : "argument");
		return -EINVAL;
	}
	if (o->nargs > 0)
		o->mountpoint = o->args[o->nargs - 1];
	return 0;
}

void fb_daemon_opts_done(struct fb_daemon_opts *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->nowned; i++)
		free(o->owned[i]);
	free(o->owned);
	o->owned = NULL;
	o->nowned = 0;
}

void fb_daemon_usage(const struct fb_daemon_info *info, FILE *f)
{
	fprintf(f, "usage: %s [options]", info->name);
	for (int i = 0; i < info->nargs && i < FB_DAEMON_MAX_ARGS; i++)
		fprintf(f, " %s", info->args[i] ? info->args[i] : "ARG");
	fprintf(f, "\n");
	if (info->summary)
		fprintf(f, "%s\n", info->summary);
	fprintf(f,
		"\ngeneral options:\n"
		"    -h, --help             print this help and exit\n"
		"    -V, --version          print the version and exit\n"
		"    -f                     stay in the foreground\n"
		"    -d, -o debug           log every request (implies -f)\n"
		"    -s                     single-threaded (same as -o threads=1)\n"
		"    -o opt[,opt...]        options, below; -o may be repeated\n"
		"    -o threads=N           worker threads (default %u)\n"
		"    -o max_write=BYTES     largest write request (default 1M)\n"
		"    -o io_uring            serve over FUSE io_uring where the kernel allows\n"
		"    -o uring_depth=N       io_uring entries per queue\n"
		"    -o uring_keep_nice     do not raise the io_uring threads' priority\n"
		"\nmount options:\n"
		"    -o fsname=NAME         source shown in /proc/mounts\n"
		"    -o subtype=NAME        type shown as fuse.NAME\n"
		"    -o allow_other         let other users in\n"
		"    -o default_permissions let the kernel check permissions\n"
		"    -o ro                  read-only\n"
		"    -o suid, -o dev        honour set-uid bits / device files (default "
		"nosuid,nodev)\n"
		"    -o noexec, -o noatime  as for mount(8); also exec, rw, atime, relatime,\n"
		"                           strictatime, nodiratime, lazytime, sync, dirsync\n"
		"    -o max_read=BYTES      largest read request\n"
		"    -o auto_unmount        unmount when the daemon dies (through fusermount3)\n",
		FB_DAEMON_DEFAULT_THREADS);
	if (info->opts && info->opts->name) {
		fprintf(f, "\n%s options:\n", info->name);
		for (const struct fb_daemon_opt *t = info->opts; t->name; t++) {
			const char *dash = strncmp(t->name, "--", 2) == 0 ? "" : "-o ";

			fprintf(f, "    %s%s\n", dash, t->help ? t->help : t->name);
		}
	}
}

void fb_daemon_parse_or_exit(const struct fb_daemon_info *info, int argc, char **argv,
			     struct fb_daemon_opts *o)
{
	char err[256];
	int r = fb_daemon_parse(info, argc, argv, o, err, sizeof(err));

	if (r == 0)
		return;
	if (r == 1 && o->help) {
		fb_daemon_usage(info, stdout);
		fb_daemon_opts_done(o);
		exit(0);
	}
	if (r == 1) {
		printf("%s (fuse-backend) %s\n", info->name, FB_DAEMON_VERSION);
		fb_daemon_opts_done(o);
		exit(0);
	}
	fprintf(stderr, "%s: %s\n", info->name, r == -ENOMEM ? "out of memory" : err);
	fprintf(stderr, "Try '%s --help' for more information.\n", info->name);
	fb_daemon_opts_done(o);
	exit(1);
}

void fb_daemon_server_config(const struct fb_daemon_opts *o, struct fb_server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->debug = o->debug;
	cfg->max_write = o->max_write;
}

unsigned int fb_daemon_threads(const struct fb_daemon_opts *o)
{
	return o->threads ? o->threads : FB_DAEMON_DEFAULT_THREADS;
}

/* The session the signal handlers end; set once before they are installed. */
static struct fb_session *volatile signal_session;

static void on_signal(int sig)
{
	struct fb_session *se = signal_session;

	(void)sig;
	if (se)
		fb_session_exit(se);
}

static int install_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked read() returns EINTR so its thread notices. */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -errno;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return -errno;
	return 0;
}

/* The handlers stay installed but do nothing: a late signal cannot cut the cleanup short. */
static void forget_signals(void)
{
	signal_session = NULL;
}

/*
 * Go to the background: fork, and let the parent wait until the child reports that the
 * mount is in place and serving can begin (exit 0) or exits without reporting (exit 1, after
 * the child printed why on the still-shared stderr). The child gets the pipe's write end in
 * *@ret_fd. The parent never returns.
 */
static int daemon_fork(int *ret_fd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		close(p[0]);
		close(p[1]);
		return r;
	}
	if (pid > 0) {
		char c = 1;
		ssize_t n;

		close(p[1]);
		do {
			n = read(p[0], &c, 1);
		} while (n < 0 && errno == EINTR);
		_exit(n == 1 && c == 0 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	*ret_fd = p[1];
	return 0;
}

/* In the background child: leave the terminal and tell the waiting parent all is well. */
static void daemon_ready(int fd)
{
	char ok = 0;
	int null;

	if (fd < 0)
		return;
	if (chdir("/") < 0) {
		/* harmless: the session holds the mount point's absolute path */
	}
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	if (write(fd, &ok, 1) != 1) {
		/* the parent is gone: nobody to tell */
	}
	close(fd);
}

int fb_daemon_run(const struct fb_daemon_info *info, const struct fb_daemon_opts *o,
		  struct fb_server *server)
{
	struct fb_session *se;
	struct fb_uring *uring = NULL;
	int r, status = 1, ready_fd = -1;

	/* Mount errors still reach the shell: the parent waits for the child's word. */
	if (!o->foreground) {
		r = daemon_fork(&ready_fd);
		if (r < 0) {
			fprintf(stderr, "%s: cannot go to the background: %s\n", info->name,
				strerror(-r));
			return 1;
		}
	}
	if (o->debug)
		fb_log_set_debug(1);
	r = fb_session_new(server, &se);
	if (r < 0) {
		fprintf(stderr, "%s: cannot create a session: %s\n", info->name, strerror(-r));
		return 1;
	}
	signal_session = se;
	r = install_signals();
	if (r < 0) {
		fprintf(stderr, "%s: cannot install signal handlers: %s\n", info->name,
			strerror(-r));
		goto out_free_session;
	}
	/*
	 * -o io_uring: FUSE over io_uring. When it cannot be used the engine logs one line and
	 * the session serves over /dev/fuse alone.
	 */
	if (o->io_uring) {
		struct fb_uring_opts uo = {.depth = o->uring_depth, .keep_nice = o->uring_keep_nice};

		if (fb_uring_new(se, &uo, &uring) < 0)
			uring = NULL;
	}
	r = fb_session_mount(se, o->mountpoint, &o->mount);
	if (r < 0) {
		/* The library has logged why; say what failed in one line too. */
		fprintf(stderr, "%s: cannot mount on %s: %s\n", info->name, o->mountpoint,
			strerror(-r));
		goto out_free_session;
	}
	if (info->started) {
		r = info->started(info->priv, se);
		if (r < 0) {
			fprintf(stderr, "%s: start-up failed: %s\n", info->name, strerror(-r));
			goto out_unmount;
		}
	}
	daemon_ready(ready_fd);
	ready_fd = -1;
	r = fb_session_loop(se, fb_daemon_threads(o));
	if (r < 0)
		fprintf(stderr, "%s: serving ended with an error: %s\n", info->name, strerror(-r));
	else
		status = 0;
	if (info->stopped)
		info->stopped(info->priv, se);
	goto out_free_session;

out_unmount:
	if (fb_session_unmount(se, 0) < 0)
		fb_session_unmount(se, 1);
out_free_session:
	forget_signals();
	fb_uring_free(uring); /* the connection has ended: the rings have nothing left */
	fb_session_free(se);
	if (ready_fd >= 0)
		close(ready_fd); /* never ready: the parent exits 1 */
	return status;
}
