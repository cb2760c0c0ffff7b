/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The pure parts of the /dev/fuse transport and the daemons, without a mount: mount options,
 * the mount(2) data string and the fusermount3 option string built from them, and the
 * daemons' command-line parser (daemons/common.c, compiled into this test).
 */
#include <sys/mount.h>

#include "harness.h"
#include "transport/fusedev/fusedev_i.h"
#include "../../daemons/common.c"

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
static const struct fb_daemon_opt test_opts[] = {
	{"size", FB_DOPT_SIZE, &cfg.size, .help = "size=BYTES  capacity"},
	{"n", FB_DOPT_UINT, &cfg.n},
	{"timeout", FB_DOPT_DOUBLE, &cfg.timeout},
	{"cache", FB_DOPT_STRING, &cfg.cache, .help = "cache=MODE  auto|always|never"},
	{"xattr", FB_DOPT_FLAG, &cfg.xattr},
	{"--mount", FB_DOPT_FUNC, .fn = add_mount, .priv = &cfg,
	 .help = "--mount PATH=SPEC  add a file system"},
	{NULL},
};
static const struct fb_daemon_info test_info = {
	.name = "fb-test",
	.args = {"SOURCE", "MOUNTPOINT"},
	.nargs = 2,
	.opts = test_opts,
};

/* Parse a NULL-terminated list of arguments (after argv[0]). */
static int parse(struct fb_daemon_opts *o, char *err, size_t len, ...)
{
	char *argv[32] = {"fb-test"};
	int argc = 1;
	va_list ap;

	va_start(ap, len);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	memset(&cfg, 0, sizeof(cfg));
	return fb_daemon_parse(&test_info, argc, argv, o, err, len);
}

TEST(daemon_parse_common_and_mount_options)
{
	struct fb_daemon_opts o;
	char err[256];
	int r = parse(&o, err, sizeof(err), "-f", "-o", "threads=8,allow_other", "-oro", "-o",
		      "fsname=x,max_write=128K,io_uring,uring_depth=16", "/src", "/mnt", NULL);

	CHECK_EQ(r, 0);
	CHECK(o.foreground && !o.debug);
	CHECK_EQ(o.threads, 8);
	CHECK_EQ(fb_daemon_threads(&o), 8);
	CHECK(o.mount.allow_other && o.mount.ro);
	CHECK_STR(o.mount.fsname, "x");
	CHECK_EQ(o.max_write, 128 * 1024);
	CHECK(o.io_uring);
	CHECK_EQ(o.uring_depth, 16);
	CHECK_EQ(o.nargs, 2);
	CHECK_STR(o.args[0], "/src");
	CHECK_STR(o.mountpoint, "/mnt");
	struct fb_server_config sc;
	fb_daemon_server_config(&o, &sc);
	CHECK_EQ(sc.max_write, 128 * 1024);
	CHECK_EQ(sc.debug, 0);
	fb_daemon_opts_done(&o);
}

TEST(daemon_parse_debug_single_and_defaults)
{
	struct fb_daemon_opts o;
	char err[256];

	CHECK_EQ(parse(&o, err, sizeof(err), "-d", "-s", "a", "b", NULL), 0);
	CHECK(o.debug && o.foreground);
	CHECK_EQ(fb_daemon_threads(&o), 1);
	fb_daemon_opts_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-o", "debug", "a", "b", NULL), 0);
	CHECK(o.debug && o.foreground);
	CHECK_EQ(fb_daemon_threads(&o), FB_DAEMON_DEFAULT_THREADS);
	CHECK(!o.mount.allow_other && !o.mount.suid && !o.mount.dev);
	fb_daemon_opts_done(&o);
}

TEST(daemon_parse_table_options)
{
	struct fb_daemon_opts o;
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
	fb_daemon_opts_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-o", "size=512M", "--", "-s", "-m", NULL), 0);
	CHECK_EQ(cfg.size, 512ULL << 20);
	CHECK_STR(o.args[0], "-s");
	CHECK_STR(o.mountpoint, "-m");
	fb_daemon_opts_done(&o);
}

TEST(daemon_parse_errors_say_what)
{
	struct fb_daemon_opts o;
	char err[256];

	CHECK_EQ(parse(&o, err, sizeof(err), "-o", "bogus", "a", "b", NULL), -EINVAL);
	CHECK(strstr(err, "unknown option 'bogus'"));
	fb_daemon_opts_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-o", "size=1X", "a", "b", NULL), -EINVAL);
	CHECK(strstr(err, "bad value for option 'size'"));
	fb_daemon_opts_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-o", "threads=0", "a", "b", NULL), -EINVAL);
	CHECK(strstr(err, "threads"));
	fb_daemon_opts_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-o", "threads=5000", "a", "b", NULL), -EINVAL);
	fb_daemon_opts_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-o", "xattr=1", "a", "b", NULL), -EINVAL);
	fb_daemon_opts_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-o", "allow_other=yes", "a", "b", NULL), -EINVAL);
	fb_daemon_opts_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-o", ",", "a", "b", NULL), 0); /* empty list */
	fb_daemon_opts_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-o", "=x", "a", "b", NULL), -EINVAL);
	fb_daemon_opts_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "a", NULL), -EINVAL);
	CHECK(strstr(err, "missing MOUNTPOINT"));
	fb_daemon_opts_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), NULL), -EINVAL);
	CHECK(strstr(err, "missing SOURCE"));
	fb_daemon_opts_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "a", "b", "c", NULL), -EINVAL);
	CHECK(strstr(err, "unexpected argument 'c'"));
	fb_daemon_opts_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-x", "a", "b", NULL), -EINVAL);
	fb_daemon_opts_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "a", "b", "-o", NULL), -EINVAL);
	CHECK(strstr(err, "-o needs an argument"));
	fb_daemon_opts_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "a", "b", "--mount", NULL), -EINVAL);
	CHECK(strstr(err, "--mount"));
	fb_daemon_opts_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "--mount", "noequals", "a", "b", NULL), -EINVAL);
	fb_daemon_opts_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "--nosuch", "a", "b", NULL), -EINVAL);
	fb_daemon_opts_done(&o);
	/* -o xattr is an -o option, not a long one */
	CHECK_EQ(parse(&o, err, sizeof(err), "--xattr", "a", "b", NULL), -EINVAL);
	fb_daemon_opts_done(&o);
}

TEST(daemon_parse_help_and_version)
{
	struct fb_daemon_opts o;
	char err[256];

	CHECK_EQ(parse(&o, err, sizeof(err), "--help", NULL), 1);
	CHECK(o.help && !o.version);
	fb_daemon_opts_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-o", "bogus", "-V", NULL), -EINVAL);
	fb_daemon_opts_done(&o);
	CHECK_EQ(parse(&o, err, sizeof(err), "-V", NULL), 1);
	CHECK(o.version);
	fb_daemon_opts_done(&o);
}

TEST(daemon_usage_lists_daemon_options)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK(f);
	fb_daemon_usage(&test_info, f);
	fclose(f);
	int ok = strstr(text, "usage: fb-test [options] SOURCE MOUNTPOINT") &&
		 strstr(text, "-o cache=MODE  auto|always|never") &&
		 strstr(text, "--mount PATH=SPEC") && strstr(text, "-o xattr") &&
		 strstr(text, "auto_unmount");
	free(text);
	CHECK(ok);
}

TEST_MAIN()
