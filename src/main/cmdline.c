/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The command line of a daemon: see main.h.
 *
 * Options are parsed in one pass over a fixed order of tables: the common options, then the
 * mount options (fb_mount_opts_set()), then the daemon's own table. Adding an option to a
 * daemon means adding a row to its table, nothing here. Values are parsed by src/util, as
 * they are in VFS mount specs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <fuse_backend/main.h>
#include <fuse_backend/uring.h>

#include "main/main_version_i.h"
#include "util/parse_i.h"

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

static int is_long(const struct fb_opt *t)
{
	return strncmp(t->name, "--", 2) == 0;
}

static int is_catch_all(const struct fb_opt *t)
{
	return strcmp(t->name, "*") == 0 && t->type == FB_OPT_FUNC && t->fn;
}

/* Apply one row to @value. Returns 0, -EINVAL, -ERANGE (or the -ENOENT of a "*" row). */
static int apply_row(const struct fb_opt *t, const char *name, const char *value)
{
	uint64_t u;
	double d;

	switch (t->type) {
	case FB_OPT_FLAG:
		if (value)
			return -EINVAL;
		*(int *)t->dest = 1;
		return 0;
	case FB_OPT_UINT:
		if (fb__parse_uint(value, UINT32_MAX, &u) < 0)
			return -EINVAL;
		*(unsigned int *)t->dest = (unsigned int)u;
		return 0;
	case FB_OPT_SIZE:
		if (fb__parse_size(value, &u) < 0)
			return -EINVAL;
		*(uint64_t *)t->dest = u;
		return 0;
	case FB_OPT_DOUBLE:
		if (fb__parse_seconds(value, &d) < 0)
			return -EINVAL;
		*(double *)t->dest = d;
		return 0;
	case FB_OPT_STRING:
		if (!value)
			return -EINVAL;
		*(const char **)t->dest = value;
		return 0;
	case FB_OPT_FUNC: {
		int r = t->fn(t->priv, name, value);

		if (r == -ENOENT && is_catch_all(t))
			return -ENOENT;
		if (r == -ERANGE)
			return -ERANGE;
		return r < 0 ? -EINVAL : 0;
	}
	}
	return -EINVAL;
}

/* Apply a daemon-table "-o" option. Returns 0, -ENOENT (not in the table), -EINVAL, -ERANGE. */
static int apply_table(const struct fb_opt *tab, const char *name, const char *value)
{
	for (; tab && tab->name; tab++) {
		int r;

		if (is_catch_all(tab)) {
			r = apply_row(tab, name, value);
			if (r != -ENOENT)
				return r;
			continue;
		}
		if (is_long(tab) || strcmp(tab->name, name) != 0)
			continue;
		return apply_row(tab, name, value);
	}
	return -ENOENT;
}

/* The common -o options. Returns 0, -ENOENT (not one of them), -EINVAL. */
static int apply_common(struct fb_cmdline *cl, const char *name, const char *value)
{
	uint64_t u;

	if (strcmp(name, "debug") == 0 || strcmp(name, "io_uring") == 0 ||
	    strcmp(name, "uring_keep_nice") == 0) {
		if (value)
			return -EINVAL;
		if (name[0] == 'd')
			cl->debug = cl->foreground = 1;
		else if (name[0] == 'i')
			cl->io_uring = 1;
		else
			cl->uring_keep_nice = 1;
		return 0;
	}
	if (strcmp(name, "threads") == 0) {
		if (fb__parse_uint(value, FB_MAIN_MAX_THREADS, &u) < 0 || u == 0)
			return -EINVAL;
		cl->threads = (unsigned int)u;
		return 0;
	}
	if (strcmp(name, "max_write") == 0) {
		if (fb__parse_size(value, &u) < 0 || u < 4096 || u > (16u << 20))
			return -EINVAL;
		cl->max_write = (uint32_t)u;
		return 0;
	}
	if (strcmp(name, "uring_depth") == 0) {
		if (fb__parse_uint(value, FB_URING_DEPTH_MAX, &u) < 0 || u == 0)
			return -EINVAL;
		cl->uring_depth = (unsigned int)u;
		return 0;
	}
	return -ENOENT;
}

/* Parse one "-o" argument (comma-separated list); keeps a copy the options point into. */
static int apply_o(const struct fb_main_info *info, struct fb_cmdline *cl, const char *arg,
		   char *err, size_t errlen)
{
	char **owned, *copy, *item, *save = NULL;

	owned = realloc(cl->owned, (cl->nowned + 1) * sizeof(*owned));
	if (!owned)
		return -ENOMEM;
	cl->owned = owned;
	copy = strdup(arg);
	if (!copy)
		return -ENOMEM;
	cl->owned[cl->nowned++] = copy;

	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *value = strchr(item, '=');
		int r;

		if (value)
			*value++ = '\0';
		if (!*item) {
			seterr(err, errlen, "empty option name in '-o %s'", arg);
			return -EINVAL;
		}
		r = apply_common(cl, item, value);
		if (r == -ENOENT)
			r = fb_mount_opts_set(&cl->mount, item, value);
		if (r == -ENOENT)
			r = apply_table(info->opts, item, value);
		if (r == -ENOENT) {
			seterr(err, errlen, "unknown option '-o %s'", item);
			return -EINVAL;
		}
		if (r == -ERANGE) {
			seterr(err, errlen, "value for option '%s' out of range: '%s'", item,
			       value ? value : "");
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

/* The long option --NAME (@len bytes) of the table, or NULL. */
static const struct fb_opt *find_long(const struct fb_opt *tab, const char *name, size_t len)
{
	for (; tab && tab->name; tab++)
		if (is_long(tab) && strlen(tab->name + 2) == len &&
		    strncmp(tab->name + 2, name, len) == 0)
			return tab;
	return NULL;
}

/* "--NAME[=VALUE]" at argv[*i]; may take the next argument as its value. */
static int apply_long(const struct fb_main_info *info, int argc, char **argv, int *i, char *err,
		      size_t errlen)
{
	const char *a = argv[*i], *name = a + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct fb_opt *opt = find_long(info->opts, name, len);
	const char *value = eq ? eq + 1 : NULL;
	char nm[64];
	int r;

	if (!opt || len >= sizeof(nm)) {
		seterr(err, errlen, "unknown option '%s'", a);
		return -EINVAL;
	}
	memcpy(nm, name, len);
	nm[len] = '\0';
	if (!value && opt->type != FB_OPT_FLAG) {
		if (*i + 1 >= argc) {
			seterr(err, errlen, "option '--%s' needs a value", nm);
			return -EINVAL;
		}
		value = argv[++*i];
	}
	r = apply_row(opt, nm, value);
	if (r < 0) {
		seterr(err, errlen, "bad value for option '--%s'%s%s", nm, value ? ": " : "",
		       value ? value : "");
		return -EINVAL;
	}
	return 0;
}

int fb_cmdline_parse(const struct fb_main_info *info, int argc, char **argv, struct fb_cmdline *cl,
		     char *err, size_t errlen)
{
	int only_args = 0, r;

	memset(cl, 0, sizeof(*cl));
	if (err && errlen)
		err[0] = '\0';
	cl->foreground = info->foreground ? 1 : 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (only_args || a[0] != '-' || a[1] == '\0') {
			if (cl->nargs >= info->nargs || cl->nargs >= FB_MAIN_MAX_ARGS) {
				seterr(err, errlen, "unexpected argument '%s'", a);
				return -EINVAL;
			}
			cl->args[cl->nargs++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_args = 1;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			cl->help = 1;
			return 1;
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			cl->version = 1;
			return 1;
		} else if (strcmp(a, "-f") == 0) {
			cl->foreground = 1;
		} else if (strcmp(a, "-d") == 0) {
			cl->debug = cl->foreground = 1;
		} else if (strcmp(a, "-s") == 0) {
			cl->threads = 1;
		} else if (strncmp(a, "-o", 2) == 0) {
			const char *list = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);

			if (!list) {
				seterr(err, errlen, "-o needs an argument");
				return -EINVAL;
			}
			r = apply_o(info, cl, list, err, errlen);
			if (r < 0)
				return r;
		} else if (strncmp(a, "--", 2) == 0) {
			r = apply_long(info, argc, argv, &i, err, errlen);
			if (r < 0)
				return r;
		} else {
			seterr(err, errlen, "unknown option '%s'", a);
			return -EINVAL;
		}
	}
	if (cl->nargs < info->nargs) {
		seterr(err, errlen, "missing %s",
		       info->args[cl->nargs] ? info->args[cl->nargs] : "argument");
		return -EINVAL;
	}
	if (cl->nargs > 0)
		cl->mountpoint = cl->args[cl->nargs - 1];
	if (!cl->mount.fsname)
		cl->mount.fsname = info->fsname;
	if (!cl->mount.subtype)
		cl->mount.subtype = info->subtype;
	return 0;
}

void fb_cmdline_done(struct fb_cmdline *cl)
{
	if (!cl)
		return;
	for (size_t i = 0; i < cl->nowned; i++)
		free(cl->owned[i]);
	free(cl->owned);
	cl->owned = NULL;
	cl->nowned = 0;
}

/* Column where the descriptions start; longer option texts put theirs on the next line. */
#define USAGE_COL 30

static void usage_line(FILE *f, const char *opt, const char *text)
{
	int n = fprintf(f, "    %s", opt);

	if (!text || !*text) {
		fputc('\n', f);
		return;
	}
	if (n + 1 > USAGE_COL)
		fprintf(f, "\n%*s%s\n", USAGE_COL, "", text);
	else
		fprintf(f, "%*s%s\n", USAGE_COL - n, "", text);
}

/* Is there a hidden "no_NAME" flag row for @name in @tab? */
static int has_negation(const struct fb_opt *tab, const char *name)
{
	for (; tab->name; tab++)
		if (!tab->help && strncmp(tab->name, "no_", 3) == 0 &&
		    strcmp(tab->name + 3, name) == 0)
			return 1;
	return 0;
}

/* The lines "NAME\tTEXT" of a "*" row. */
static void usage_block(FILE *f, const char *block)
{
	while (block && *block) {
		const char *nl = strchr(block, '\n'), *tab;
		size_t len = nl ? (size_t)(nl - block) : strlen(block);
		char opt[128], text[256];
		size_t olen;

		tab = memchr(block, '\t', len);
		olen = tab ? (size_t)(tab - block) : len;
		snprintf(opt, sizeof(opt), "-o %.*s", (int)olen, block);
		snprintf(text, sizeof(text), "%.*s", tab ? (int)(len - olen - 1) : 0,
			 tab ? tab + 1 : "");
		usage_line(f, opt, text);
		block += len + (nl ? 1 : 0);
	}
}

void fb_cmdline_usage(const struct fb_main_info *info, FILE *f)
{
	char buf[40];

	fprintf(f, "usage: %s [options]", info->name);
	for (int i = 0; i < info->nargs && i < FB_MAIN_MAX_ARGS; i++)
		fprintf(f, " %s", info->args[i] ? info->args[i] : "ARG");
	fprintf(f, "\n");
	if (info->summary)
		fprintf(f, "%s\n", info->summary);
	fprintf(f, "\ngeneral options:\n");
	usage_line(f, "-h, --help", "print this help and exit");
	usage_line(f, "-V, --version", "print the version and exit");
	usage_line(f, "-f", "stay in the foreground");
	usage_line(f, "-d, -o debug", "log every request (implies -f)");
	usage_line(f, "-s", "single-threaded (same as -o threads=1)");
	usage_line(f, "-o opt[,opt...]", "options, below; -o may be repeated");
	snprintf(buf, sizeof(buf), "worker threads (default %u)", FB_MAIN_DEFAULT_THREADS);
	usage_line(f, "-o threads=N", buf);
	usage_line(f, "-o max_write=BYTES", "largest write request (default 1M)");
	usage_line(f, "-o io_uring", "serve over FUSE io_uring where the kernel allows");
	usage_line(f, "-o uring_depth=N", "io_uring entries per queue");
	usage_line(f, "-o uring_keep_nice", "do not raise the io_uring threads' priority");
	fprintf(f, "\nmount options:\n");
	usage_line(f, "-o fsname=NAME", "source shown in /proc/mounts");
	usage_line(f, "-o subtype=NAME", "type shown as fuse.NAME (empty: plain fuse)");
	usage_line(f, "-o allow_other", "let other users in");
	usage_line(f, "-o default_permissions", "let the kernel check permissions");
	usage_line(f, "-o ro", "read-only");
	usage_line(f, "-o suid, -o dev",
		   "honour set-uid bits / device files (default "
		   "nosuid,nodev)");
	usage_line(f, "-o noexec, -o noatime", "as for mount(8); also exec, rw, atime,");
	usage_line(f, "", "relatime, strictatime, nodiratime, lazytime, sync, dirsync");
	usage_line(f, "-o max_read=BYTES", "largest read request");
	usage_line(f, "-o auto_unmount", "unmount when the daemon dies (through fusermount3)");
	if (!info->opts || !info->opts->name)
		return;
	fprintf(f, "\n%s options:\n", info->name);
	for (const struct fb_opt *t = info->opts; t->name; t++) {
		char opt[128];

		if (is_catch_all(t)) {
			usage_block(f, t->help);
			continue;
		}
		if (!t->help)
			continue;
		if (is_long(t))
			snprintf(opt, sizeof(opt), "%s%s%s", t->name, t->arg ? " " : "",
				 t->arg ? t->arg : "");
		else
			snprintf(opt, sizeof(opt), "-o %s%s%s%s",
				 t->type == FB_OPT_FLAG && has_negation(info->opts, t->name)
					 ? "[no_]"
					 : "",
				 t->name, t->arg ? "=" : "", t->arg ? t->arg : "");
		usage_line(f, opt, t->help);
	}
}

void fb_cmdline_parse_or_exit(const struct fb_main_info *info, int argc, char **argv,
			      struct fb_cmdline *cl)
{
	char err[256];
	int r = fb_cmdline_parse(info, argc, argv, cl, err, sizeof(err));

	if (r == 0)
		return;
	if (r == 1 && cl->help) {
		fb_cmdline_usage(info, stdout);
		fb_cmdline_done(cl);
		exit(0);
	}
	if (r == 1) {
		printf("%s (fuse-backend) %s\n", info->name,
		       info->version ? info->version : FB_MAIN_LIB_VERSION);
		fb_cmdline_done(cl);
		exit(0);
	}
	fprintf(stderr, "%s: %s\n", info->name, r == -ENOMEM ? "out of memory" : err);
	fprintf(stderr, "Try '%s --help' for more information.\n", info->name);
	fb_cmdline_done(cl);
	exit(1);
}

void fb_cmdline_server_config(const struct fb_cmdline *cl, struct fb_server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->debug = cl->debug;
	cfg->max_write = cl->max_write;
}

unsigned int fb_cmdline_threads(const struct fb_cmdline *cl)
{
	return cl->threads ? cl->threads : FB_MAIN_DEFAULT_THREADS;
}
