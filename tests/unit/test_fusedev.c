/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The pure parts of the /dev/fuse transport and the daemons, without a mount: mount options,
 * the mount(2) data string and the fusermount3 option string built from them, and the
 * daemons' command-line parser (fuse_backend/main.h) with the file systems' option setters.
 */
#include <stdarg.h>
#include <sys/mount.h>

#include <fuse_backend/main.h>
#include <fuse_backend/memfs.h>
#include <fuse_backend/passthrough.h>

#include "harness.h"
#include "transport/fusedev/fusedev_i.h"

TEST(mount_opts_set_flags_and_values)
{
	struct fb_mount_opts o = {0};

	CHECK_EQ(fb_mount_opts_set(&o, "allow_other", NULL), 0);
	CHECK_EQ(fb_mount_opts_set(&o, "default_permissions", NULL), 0);
	CHECK_EQ(fb_mount_opts_set(&o, "ro", NULL), 0);
	CHECK_EQ(fb_mount_opts_set(&o, "suid", NULL), 0);
	CHECK_EQ(fb_mount_opts_set(&o, "dev", NULL), 0);
	CHECK_EQ(fb_mount_opts_set(&o, "auto_unmount", NULL), 0);
	CHECK_EQ(fb_mount_opts_set(&o, "max_read", "131072"), 0);
	CHECK_EQ(fb_mount_opts_set(&o, "fsname", "mydata"), 0);
	CHECK_EQ(fb_mount_opts_set(&o, "subtype", "memfs"), 0);
	CHECK(o.allow_other && o.default_permissions && o.ro && o.suid && o.dev);
	CHECK(o.auto_unmount);
	CHECK_EQ(o.max_read, 131072);
	CHECK_STR(o.fsname, "mydata");
	CHECK_STR(o.subtype, "memfs");
	/* the negative forms undo */
	CHECK_EQ(fb_mount_opts_set(&o, "nosuid", NULL), 0);
	CHECK_EQ(fb_mount_opts_set(&o, "nodev", NULL), 0);
	CHECK_EQ(fb_mount_opts_set(&o, "rw", NULL), 0);
	CHECK(!o.suid && !o.dev && !o.ro);
}

TEST(mount_opts_set_rejects)
{
	struct fb_mount_opts o = {0};

	CHECK_EQ(fb_mount_opts_set(&o, "cache", "always"), -ENOENT); /* not ours */
	CHECK_EQ(fb_mount_opts_set(&o, "allow_other", "1"), -EINVAL);
	CHECK_EQ(fb_mount_opts_set(&o, "max_read", NULL), -EINVAL);
	CHECK_EQ(fb_mount_opts_set(&o, "max_read", "12k"), -EINVAL);
	CHECK_EQ(fb_mount_opts_set(&o, "max_read", "-1"), -EINVAL);
	CHECK_EQ(fb_mount_opts_set(&o, "max_read", "99999999999"), -EINVAL);
	CHECK_EQ(fb_mount_opts_set(&o, "fsname", "a,b"), -EINVAL);
	CHECK_EQ(fb_mount_opts_set(&o, "fsname", ""), -EINVAL);
	CHECK_EQ(fb_mount_opts_set(&o, "blksize", "1000"), -EINVAL);
	CHECK_EQ(fb_mount_opts_set(&o, "blksize", "4096"), 0);
	CHECK_EQ(o.max_read, 0);
	CHECK(o.fsname == NULL);
}

TEST(kernel_data_defaults)
{
	char buf[256];
	unsigned long flags = 0;

	CHECK_EQ(
		fb__mount_kernel_data(NULL, 7, S_IFDIR | 0755, 1000, 100, buf, sizeof(buf), &flags),
		0);
	CHECK_STR(buf, "fd=7,rootmode=40000,user_id=1000,group_id=100");
	CHECK_EQ(flags, MS_NOSUID | MS_NODEV);
}

TEST(kernel_data_with_options)
{
	struct fb_mount_opts o = {
		.allow_other = 1,
		.default_permissions = 1,
		.max_read = 65536,
		.ro = 1,
		.suid = 1,
		.dev = 1,
		.noexec = 1,
		.noatime = 1,
	};
	char buf[256];
	unsigned long flags = 0;

	CHECK_EQ(fb__mount_kernel_data(&o, 3, S_IFDIR, 0, 0, buf, sizeof(buf), &flags), 0);
	CHECK_STR(buf, "fd=3,rootmode=40000,user_id=0,group_id=0,allow_other,"
		       "default_permissions,max_read=65536");
	CHECK_EQ(flags, MS_RDONLY | MS_NOEXEC | MS_NOATIME);
}

TEST(mount_flag_options)
{
	const char *names[] = {"relatime", "strictatime", "nodiratime", "lazytime", "sync",
			       "dirsync", "exec", "suid", "dev", "rw", "ro", "nosuid", "nodev",
			       "noexec", "atime", "noatime", "async", "diratime", "norelatime",
			       "nostrictatime", "nolazytime"};
	struct fb_mount_opts o = {0};
	unsigned long flags = 0;
	char buf[256];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		CHECK_EQ(fb_mount_opts_set(&o, names[i], NULL), 0);
	CHECK_EQ(fb_mount_opts_set(&o, "relatime", "1"), -EINVAL);
	CHECK_EQ(fb_mount_opts_set(&o, "noexecute", NULL), -ENOENT);
	/* the no- forms undid all but sync (async came later: off) and dirsync */
	CHECK_EQ(o.ms_flags, MS_DIRSYNC);

	memset(&o, 0, sizeof(o));
	CHECK_EQ(fb_mount_opts_set(&o, "relatime", NULL), 0);
	CHECK_EQ(fb_mount_opts_set(&o, "nodiratime", NULL), 0);
	CHECK_EQ(fb_mount_opts_set(&o, "lazytime", NULL), 0);
	CHECK_EQ(fb_mount_opts_set(&o, "sync", NULL), 0);
	CHECK_EQ(fb_mount_opts_set(&o, "dirsync", NULL), 0);
	CHECK_EQ(fb__mount_kernel_data(&o, 3, S_IFDIR, 0, 0, buf, sizeof(buf), &flags), 0);
	CHECK_EQ(flags, MS_NOSUID | MS_NODEV | MS_RELATIME | MS_NODIRATIME | MS_LAZYTIME |
				MS_SYNCHRONOUS | MS_DIRSYNC);
	CHECK_EQ(fb__mount_fusermount_opts(&o, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "fsname=fuse-backend,rw,nosuid,nodev,relatime,nodiratime,lazytime,sync,"
		       "dirsync");
	/* flags outside the set are not passed */
	o.ms_flags = MS_BIND | MS_STRICTATIME;
	CHECK_EQ(fb__mount_kernel_data(&o, 3, S_IFDIR, 0, 0, buf, sizeof(buf), &flags), 0);
	CHECK_EQ(flags, MS_NOSUID | MS_NODEV | MS_STRICTATIME);
}

TEST(kernel_data_refuses_blksize_and_short_buffers)
{
	struct fb_mount_opts o = {.blksize = 4096};
	char buf[256];
	unsigned long flags;

	CHECK_EQ(fb__mount_kernel_data(&o, 3, S_IFDIR, 0, 0, buf, sizeof(buf), &flags), -EINVAL);
	o.blksize = 0;
	o.allow_other = 1;
	CHECK_EQ(fb__mount_kernel_data(&o, 3, S_IFDIR, 0, 0, buf, 20, &flags), -ENAMETOOLONG);
	/* exactly long enough: the text and its NUL, and one byte less */
	CHECK_EQ(fb__mount_kernel_data(&o, 3, S_IFDIR, 0, 0, buf, sizeof(buf), &flags), 0);
	size_t n = strlen(buf);
	CHECK_EQ(n, 52);
	CHECK_EQ(fb__mount_kernel_data(&o, 3, S_IFDIR, 0, 0, buf, n + 1, &flags), 0);
	CHECK_EQ(strlen(buf), n);
	CHECK_EQ(fb__mount_kernel_data(&o, 3, S_IFDIR, 0, 0, buf, n, &flags), -ENAMETOOLONG);
}

TEST(fusermount_opts)
{
	struct fb_mount_opts o = {0};
	char buf[256];

	CHECK_EQ(fb__mount_fusermount_opts(&o, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "fsname=fuse-backend,rw,nosuid,nodev");
	o.fsname = "data";
	o.subtype = "memfs";
	o.allow_other = 1;
	o.default_permissions = 1;
	o.max_read = 4096;
	o.ro = 1;
	o.noexec = 1;
	o.auto_unmount = 1;
	CHECK_EQ(fb__mount_fusermount_opts(&o, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "fsname=data,subtype=memfs,allow_other,default_permissions,max_read=4096,"
		       "ro,nosuid,nodev,noexec,auto_unmount");
	CHECK_EQ(fb__mount_fusermount_opts(&o, buf, 30), -ENAMETOOLONG);
	o.fsname = "a,b";
	CHECK_EQ(fb__mount_fusermount_opts(&o, buf, sizeof(buf)), -EINVAL);
}

/* ---- daemon command line ---- */

struct dcfg {
	uint64_t size;
	unsigned int n;
	double timeout;
	const char *cache;
	int xattr;
	int no_xattr;
	int nmount;
	char mounts[4][32];
};

static int add_mount(void *priv, const char *name, const char *value)
{
	struct dcfg *c = priv;

	if (!value || !strchr(value, '=') || c->nmount >= 4)
		return -EINVAL;
	snprintf(c->mounts[c->nmount++], sizeof(c->mounts[0]), "%s", value);
	return 0;
}

static struct dcfg cfg;
static const struct fb_opt test_opts[] = {
	{"size", FB_OPT_SIZE, &cfg.size, .arg = "BYTES", .help = "capacity"},
	{"n", FB_OPT_UINT, &cfg.n},
	{"timeout", FB_OPT_DOUBLE, &cfg.timeout},
	{"cache", FB_OPT_STRING, &cfg.cache, .arg = "MODE", .help = "auto|always|never"},
	{"xattr", FB_OPT_FLAG, &cfg.xattr, .help = "extended attributes"},
	{"no_xattr", FB_OPT_FLAG, &cfg.no_xattr},
	{"--mount", FB_OPT_FUNC, .fn = add_mount, .priv = &cfg,
	 .arg = "PATH=SPEC", .help = "add a file system"},
	{"--control", FB_OPT_STRING, &cfg.cache, .arg = "SOCKET", .help = "a control socket"},
	{NULL},
};
static const struct fb_main_info test_info = {
	.name = "fb-test",
	.args = {"SOURCE", "MOUNTPOINT"},
	.nargs = 2,
	.opts = test_opts,
};

/* Parse a NULL-terminated list of arguments (after argv[0]). */
static int parse(struct fb_cmdline *o, char *err, size_t len, ...)
{
	char *argv[32] = {"fb-test"};
	int argc = 1;
	va_list ap;

	va_start(ap, len);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	memset(&cfg, 0, sizeof(cfg));
	return fb_cmdline_parse(&test_info, argc, argv, o, err, len);
}

TEST(daemon_parse_common_and_mount_options)
{
	struct fb_cmdline o;
	char err[256];
	int r = parse(&o, err, sizeof(err), "-f", "-o", "threads=8,allow_other", "-oro", "-o",
		      "fsname=x,max_write=128K,io_uring,uring_depth=16", "/src", "/mnt", NULL);

	CHECK_EQ(r, 0);
	CHECK(o.foreground && !o.debug);
	CHECK_EQ(o.threads, 8);
	CHECK_EQ(fb_cmdline_threads(&o), 8);
	CHECK(o.mount.allow_other && o.mount.ro);
	CHECK_STR(o.mount.fsname, "x");
	CHECK_EQ(o.max_write, 128 * 1024);
	CHECK(o.io_uring);
	CHECK_EQ(o.uring_depth, 16);
	CHECK_EQ(o.nargs, 2);
	CHECK_STR(o.args[0], "/src");
	CHECK_STR(o.mountpoint, "/mnt");
	struct fb_server_config sc;
	fb_cmdline_server_config(&o, &sc);
	CHECK_EQ(sc.max_write, 128 * 1024);
	CHECK_EQ(sc.debug, 0);
	fb_cmdline_done(&o);
}

TEST(daemon_parse_debug_single_and_defaults)
{
	struct fb_cmdline o;
	char err[256];

	CHECK_EQ(parse(&o, err, sizeof(err), "-d", "-s", "a", "b", NULL), 0);
	CHECK(o.debug && o.foreground);
	CHECK_EQ(fb_cmdline_threads(&o), 1);
	fb_cmdline_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-o", "debug", "a", "b", NULL), 0);
	CHECK(o.debug && o.foreground);
	CHECK_EQ(fb_cmdline_threads(&o), FB_MAIN_DEFAULT_THREADS);
	CHECK(!o.mount.allow_other && !o.mount.suid && !o.mount.dev);
	fb_cmdline_done(&o);
}

TEST(daemon_parse_table_options)
{
	struct fb_cmdline o;
	char err[256];
	int r = parse(&o, err, sizeof(err), "-o", "size=2G,n=42,timeout=0.5,cache=always,xattr",
		      "--mount", "/a=memfs", "--mount=/b=memfs", "s", "m", NULL);

	CHECK_EQ(r, 0);
	CHECK_EQ(cfg.size, 2ULL << 30);
	CHECK_EQ(cfg.n, 42);
	CHECK(cfg.timeout == 0.5);
	CHECK_STR(cfg.cache, "always");
	CHECK_EQ(cfg.xattr, 1);
	CHECK_EQ(cfg.nmount, 2);
	CHECK_STR(cfg.mounts[0], "/a=memfs");
	CHECK_STR(cfg.mounts[1], "/b=memfs");
	fb_cmdline_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-o", "size=512M", "--", "-s", "-m", NULL), 0);
	CHECK_EQ(cfg.size, 512ULL << 20);
	CHECK_STR(o.args[0], "-s");
	CHECK_STR(o.mountpoint, "-m");
	fb_cmdline_done(&o);
}

TEST(daemon_parse_errors_say_what)
{
	struct fb_cmdline o;
	char err[256];

	CHECK_EQ(parse(&o, err, sizeof(err), "-o", "bogus", "a", "b", NULL), -EINVAL);
	CHECK(strstr(err, "unknown option '-o bogus'"));
	fb_cmdline_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-o", "size=1X", "a", "b", NULL), -EINVAL);
	CHECK(strstr(err, "bad value for option 'size'"));
	fb_cmdline_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-o", "threads=0", "a", "b", NULL), -EINVAL);
	CHECK(strstr(err, "threads"));
	fb_cmdline_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-o", "threads=5000", "a", "b", NULL), -EINVAL);
	fb_cmdline_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-o", "xattr=1", "a", "b", NULL), -EINVAL);
	fb_cmdline_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-o", "allow_other=yes", "a", "b", NULL), -EINVAL);
	fb_cmdline_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-o", ",", "a", "b", NULL), 0); /* empty list */
	fb_cmdline_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-o", "=x", "a", "b", NULL), -EINVAL);
	fb_cmdline_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "a", NULL), -EINVAL);
	CHECK(strstr(err, "missing MOUNTPOINT"));
	fb_cmdline_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), NULL), -EINVAL);
	CHECK(strstr(err, "missing SOURCE"));
	fb_cmdline_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "a", "b", "c", NULL), -EINVAL);
	CHECK(strstr(err, "unexpected argument 'c'"));
	fb_cmdline_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-x", "a", "b", NULL), -EINVAL);
	fb_cmdline_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "a", "b", "-o", NULL), -EINVAL);
	CHECK(strstr(err, "-o needs an argument"));
	fb_cmdline_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "a", "b", "--mount", NULL), -EINVAL);
	CHECK(strstr(err, "--mount"));
	fb_cmdline_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "--mount", "noequals", "a", "b", NULL), -EINVAL);
	fb_cmdline_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "--nosuch", "a", "b", NULL), -EINVAL);
	fb_cmdline_done(&o);
	/* -o xattr is an -o option, not a long one */
	CHECK_EQ(parse(&o, err, sizeof(err), "--xattr", "a", "b", NULL), -EINVAL);
	fb_cmdline_done(&o);
}

TEST(daemon_parse_help_and_version)
{
	struct fb_cmdline o;
	char err[256];

	CHECK_EQ(parse(&o, err, sizeof(err), "--help", NULL), 1);
	CHECK(o.help && !o.version);
	fb_cmdline_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-o", "bogus", "-V", NULL), -EINVAL);
	fb_cmdline_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-V", NULL), 1);
	CHECK(o.version);
	fb_cmdline_done(&o);
}

TEST(daemon_usage_lists_daemon_options)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK(f);
	fb_cmdline_usage(&test_info, f);
	fclose(f);
	int ok = strstr(text, "usage: fb-test [options] SOURCE MOUNTPOINT") &&
		 strstr(text, "-o cache=MODE") && strstr(text, "auto|always|never") &&
		 strstr(text, "--mount PATH=SPEC") && strstr(text, "-o [no_]xattr") &&
		 strstr(text, "auto_unmount");
	free(text);
	CHECK(ok);
}

/* Every option once in --help, and every description in one column (or on its own line). */
TEST(daemon_usage_lists_each_option_once_aligned)
{
	struct fb_passthrough_config pc;
	const struct fb_opt opts[] = {
		{"*", FB_OPT_FUNC, .fn = add_mount, .priv = &pc, .help = fb_passthrough_opt_help()},
		{"--mount", FB_OPT_FUNC, .fn = add_mount, .priv = &cfg, .arg = "PATH=TYPE[:ARGS]",
		 .help = "backend at PATH"},
		{"--control", FB_OPT_STRING, &cfg.cache, .arg = "SOCKET", .help = "control socket"},
		{NULL},
	};
	const struct fb_main_info info = {.name = "fb-x", .args = {"M"}, .nargs = 1, .opts = opts};
	const struct fb_main_info *infos[] = {&test_info, &info};
	int col = -1, bad = 0, dup = 0;

	for (int k = 0; k < 2; k++) {
		char *text = NULL, *save = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		CHECK(f);
		fb_cmdline_usage(infos[k], f);
		fclose(f);
		/* "-o xattr" once, as "[no_]xattr"; no "no_xattr" line of its own */
		if (k == 0 && (!strstr(text, "-o [no_]xattr") || strstr(text, "-o no_xattr")))
			dup++;
		if (k == 1 && (!strstr(text, "-o [no_]writeback") ||
			       strstr(text, "-o no_writeback") || !strstr(text, "--control SOCKET")))
			dup++;
		for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char *opt = l + 4, *gap;

			if (strncmp(l, "    -", 5) != 0)
				continue;
			/* the same option text must not come twice */
			char *again = strstr(save ? save : "", opt);
			if (again && again[-1] == ' ' && again[strlen(opt)] == '\n')
				dup++;
			gap = strstr(opt, "  ");
			if (!gap)
				continue; /* description on the next line */
			while (*gap == ' ')
				gap++;
			if (col < 0)
				col = (int)(gap - l);
			else if ((int)(gap - l) != col)
				bad++;
		}
		free(text);
	}
	CHECK_EQ(dup, 0);
	CHECK_EQ(bad, 0);
	CHECK(col > 0);
}

/* The parser's message names the problem; "see --help" is added once, by the caller. */
TEST(daemon_parse_error_does_not_name_help)
{
	struct fb_cmdline o;
	char err[256];

	CHECK_EQ(parse(&o, err, sizeof(err), "--bogus", "a", "b", NULL), -EINVAL);
	CHECK(strstr(err, "--bogus") != NULL);
	CHECK(strstr(err, "--help") == NULL);
	fb_cmdline_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-o", "bogus", "a", "b", NULL), -EINVAL);
	CHECK(strstr(err, "--help") == NULL);
	fb_cmdline_done(&o);
}

/* Sizes: one parser for every option (K/M/G/T, either case, optional iB / B). */
TEST(daemon_parse_sizes)
{
	static const struct {
		const char *text;
		uint64_t bytes;
	} ok[] = {
		{"4096", 4096}, {"4096B", 4096}, {"64K", 64 << 10}, {"64k", 64 << 10},
		{"1GiB", 1ULL << 30}, {"1GB", 1ULL << 30}, {"2t", 2ULL << 40}, {"0", 0},
	};
	static const char *const bad[] = {"", "-1", "+1", " 1", "1X", "1KK", "K", "1.5G",
					  "99999999999T"};
	struct fb_cmdline o;
	char err[256], arg[64];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(arg, sizeof(arg), "size=%s", ok[i].text);
		CHECK_EQ(parse(&o, err, sizeof(err), "-o", arg, "a", "b", NULL), 0);
		CHECK_EQ(cfg.size, ok[i].bytes);
		fb_cmdline_done(&o);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(arg, sizeof(arg), "size=%s", bad[i]);
		CHECK_EQ(parse(&o, err, sizeof(err), "-o", arg, "a", "b", NULL), -EINVAL);
		fb_cmdline_done(&o);
	}
}

static int memfs_set(void *priv, const char *name, const char *value)
{
	return fb_memfs_opt_set(priv, name, value);
}

static int pt_set(void *priv, const char *name, const char *value)
{
	return fb_passthrough_opt_set(priv, name, value);
}

/* A "*" row hands the daemon's -o options to a file system's setter. */
TEST(daemon_parse_catch_all_setters)
{
	struct fb_memfs_config mc = {0};
	struct fb_passthrough_config pc;
	const struct fb_opt mopts[] = {
		{"*", FB_OPT_FUNC, .fn = memfs_set, .priv = &mc, .help = fb_memfs_opt_help()},
		{NULL},
	};
	const struct fb_opt popts[] = {
		{"*", FB_OPT_FUNC, .fn = pt_set, .priv = &pc, .help = fb_passthrough_opt_help()},
		{NULL},
	};
	const struct fb_main_info mi = {.name = "m", .args = {"M"}, .nargs = 1, .opts = mopts};
	const struct fb_main_info pi = {.name = "p", .args = {"S", "M"}, .nargs = 2,
					.opts = popts, .subtype = "p"};
	char *ma[] = {"m", "-o", "size=64M,max_inodes=1K,root_mode=1777,allow_other", "/m", NULL};
	char *mz[] = {"m", "-o", "size=0", "/m", NULL};
	char *mu[] = {"m", "-o", "sizee=1", "/m", NULL};
	char *pa[] = {"p", "-o", "cache=always,no_xattr,timeout=2.5,no_open,ro", "/s", "/m", NULL};
	char *pb[] = {"p", "-o", "cache=sometimes", "/s", "/m", NULL};
	char *pc1[] = {"p", "-o", "open", "/s", "/m", NULL};
	struct fb_cmdline o;
	char err[256];

	CHECK_EQ(fb_cmdline_parse(&mi, 4, ma, &o, err, sizeof(err)), 0);
	CHECK_EQ(mc.max_bytes, 64ULL << 20);
	CHECK_EQ(mc.max_inodes, 1024);
	CHECK_EQ(mc.root_mode, 01777);
	CHECK(o.mount.allow_other);
	CHECK(o.mount.subtype == NULL);
	fb_cmdline_done(&o);
	/* size=0 would silently mean the 1 GiB default: refused, saying why */
	CHECK_EQ(fb_cmdline_parse(&mi, 4, mz, &o, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "'size' out of range") != NULL);
	CHECK_EQ(mc.max_bytes, 64ULL << 20);
	fb_cmdline_done(&o);
	CHECK_EQ(fb_cmdline_parse(&mi, 4, mu, &o, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "unknown option '-o sizee'") != NULL);
	fb_cmdline_done(&o);

	fb_passthrough_config_init(&pc);
	CHECK_EQ(fb_cmdline_parse(&pi, 5, pa, &o, err, sizeof(err)), 0);
	CHECK_EQ(pc.cache, FB_PT_CACHE_ALWAYS);
	CHECK_EQ(pc.xattr, 0);
	CHECK(pc.timeout == 2.5);
	CHECK_EQ(pc.no_open, 1);
	CHECK(o.mount.ro);
	CHECK_STR(o.mount.subtype, "p"); /* the daemon's default */
	fb_cmdline_done(&o);
	CHECK_EQ(fb_cmdline_parse(&pi, 5, pb, &o, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "bad value for option 'cache'") != NULL);
	fb_cmdline_done(&o);
	CHECK_EQ(fb_cmdline_parse(&pi, 5, pc1, &o, err, sizeof(err)), -EINVAL);
	fb_cmdline_done(&o);
}

/* libfuse's subtype/fsname; "subtype=" (empty) is the plain type "fuse" whatever the default. */
TEST(daemon_parse_subtype_and_fsname)
{
	const struct fb_main_info info = {.name = "d", .args = {"M"}, .nargs = 1,
					  .fsname = "src", .subtype = "d"};
	char *a[] = {"d", "-o", "subtype=", "/m", NULL};
	char *b[] = {"d", "-o", "subtype=mine,fsname=data", "/m", NULL};
	char *c[] = {"d", "/m", NULL};
	char *e[] = {"d", "-o", "fsname=", "/m", NULL};
	struct fb_cmdline o;
	char err[256], buf[512];
	unsigned long flags;

	CHECK_EQ(fb_cmdline_parse(&info, 4, a, &o, err, sizeof(err)), 0);
	CHECK_STR(o.mount.subtype, "");
	CHECK_STR(o.mount.fsname, "src");
	CHECK_EQ(fb__mount_fusermount_opts(&o.mount, buf, sizeof(buf)), 0);
	CHECK(strstr(buf, "subtype") == NULL);
	CHECK_EQ(fb__mount_kernel_data(&o.mount, 7, S_IFDIR, 0, 0, buf, sizeof(buf), &flags), 0);
	fb_cmdline_done(&o);
	CHECK_EQ(fb_cmdline_parse(&info, 4, b, &o, err, sizeof(err)), 0);
	CHECK_STR(o.mount.subtype, "mine");
	CHECK_STR(o.mount.fsname, "data");
	CHECK_EQ(fb__mount_fusermount_opts(&o.mount, buf, sizeof(buf)), 0);
	CHECK(strstr(buf, "subtype=mine") != NULL);
	fb_cmdline_done(&o);
	CHECK_EQ(fb_cmdline_parse(&info, 2, c, &o, err, sizeof(err)), 0);
	CHECK_STR(o.mount.subtype, "d");
	fb_cmdline_done(&o);
	CHECK_EQ(fb_cmdline_parse(&info, 4, e, &o, err, sizeof(err)), -EINVAL);
	fb_cmdline_done(&o);
}

/* The setters leave the config alone on failure and tell unknown names apart. */
TEST(opt_setters)
{
	struct fb_memfs_config mc = {0};
	struct fb_passthrough_config pc;

	CHECK_EQ(fb_memfs_opt_set(&mc, "size", "1G"), 0);
	CHECK_EQ(mc.max_bytes, 1ULL << 30);
	CHECK_EQ(fb_memfs_opt_set(&mc, "size", "0"), -ERANGE);
	CHECK_EQ(fb_memfs_opt_set(&mc, "max_file_size", "0"), -ERANGE);
	CHECK_EQ(fb_memfs_opt_set(&mc, "entry_timeout", "0"), -ERANGE);
	CHECK_EQ(fb_memfs_opt_set(&mc, "size", NULL), -EINVAL);
	CHECK_EQ(fb_memfs_opt_set(&mc, "size", "1Q"), -EINVAL);
	CHECK_EQ(fb_memfs_opt_set(&mc, "root_mode", "8"), -EINVAL);
	CHECK_EQ(fb_memfs_opt_set(&mc, "cache", "auto"), -ENOENT);
	CHECK_EQ(mc.max_bytes, 1ULL << 30);
	fb_passthrough_config_init(&pc);
	CHECK_EQ(fb_passthrough_opt_set(&pc, "writeback", NULL), 0);
	CHECK_EQ(pc.writeback, 1);
	CHECK_EQ(fb_passthrough_opt_set(&pc, "no_writeback", NULL), 0);
	CHECK_EQ(pc.writeback, 0);
	CHECK_EQ(fb_passthrough_opt_set(&pc, "writeback", "1"), -EINVAL);
	CHECK_EQ(fb_passthrough_opt_set(&pc, "posix_lock", NULL), 0);
	CHECK_EQ(pc.posix_locks, 1);
	CHECK_EQ(fb_passthrough_opt_set(&pc, "no_direct_io", NULL), 0);
	CHECK_EQ(pc.allow_direct_io, 0);
	CHECK_EQ(fb_passthrough_opt_set(&pc, "no_opendir", NULL), 0);
	CHECK_EQ(pc.no_opendir, 1);
	CHECK_EQ(fb_passthrough_opt_set(&pc, "timeout", "-1"), -EINVAL);
	CHECK_EQ(fb_passthrough_opt_set(&pc, "size", "1"), -ENOENT);
	CHECK_EQ(fb_passthrough_opt_set(&pc, "no_size", NULL), -ENOENT);
}

TEST_MAIN()
