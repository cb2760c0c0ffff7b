/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Every opcode, encoded as the kernel sends it, reaches the right operation with the right
 * arguments, and the reply bytes are what the kernel expects.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "harness.h"
#include "fbreq.h"
#include "recfs.h"
#include "api/server_i.h"

static struct fbrep rep;
static struct fbreq q;
static struct fb_server *srv;

static int setup(void)
{
	fbrep_init(&rep, 0);
	return 0;
}
TEST_SETUP(setup)

static int teardown(void)
{
	fbrep_free(&rep);
	fbreq_free(&q);
	fb_server_free(srv);
	return 0;
}
TEST_TEARDOWN(teardown)

/* A fresh server over the recording fs, through INIT at 7.45 (or @minor). */
static void fresh(uint32_t minor)
{
	fb_server_free(srv);
	srv = rec_server(NULL, minor, FBREQ_ALL_FLAGS, &rep);
	if (!srv)
		abort();
}

static ssize_t send(void)
{
	return fbreq_send(srv, &q, &rep);
}

/* The reply is a success with @len body bytes for unique @u. */
#define CHECK_OK_REPLY(u, n)                                                                       \
	do {                                                                                       \
		CHECK_EQ(rep.ret, 16 + (n));                                                       \
		CHECK_EQ(rep.oh.len, 16 + (n));                                                    \
		CHECK_EQ(rep.oh.error, 0);                                                         \
		CHECK_EQ(rep.oh.unique, (u));                                                      \
	} while (0)

#define CHECK_ERR_REPLY(u, err)                                                                    \
	do {                                                                                       \
		CHECK_EQ(rep.ret, 16);                                                             \
		CHECK_EQ(rep.oh.len, 16);                                                          \
		CHECK_EQ(rep.oh.error, (err));                                                     \
		CHECK_EQ(rep.oh.unique, (u));                                                      \
	} while (0)

static void check_entry_out(const struct fb_entry_out *eo)
{
	CHECK_EQ(eo->nodeid, 77);
	CHECK_EQ(eo->generation, 3);
	CHECK_EQ(eo->entry_valid, 1);
	CHECK_EQ(eo->entry_valid_nsec, 500000000);
	CHECK_EQ(eo->attr_valid, 2);
	CHECK_EQ(eo->attr_valid_nsec, 250000000);
	CHECK_EQ(eo->attr.ino, 77);
	CHECK_EQ(eo->attr.mode, S_IFREG | 0644);
	CHECK_EQ(eo->attr.size, 4096);
	CHECK_EQ(eo->attr.nlink, 1);
}

static void check_ctx(void)
{
	CHECK_EQ(rec.ctx.uid, FBREQ_UID);
	CHECK_EQ(rec.ctx.gid, FBREQ_GID);
	CHECK_EQ(rec.ctx.pid, FBREQ_PID);
	CHECK(rec.ctx.server == srv);
}

TEST(lookup)
{
	struct fb_entry_out eo;

	fresh(45);
	fbreq_start(&q, FB_LOOKUP, 100, 1);
	fbreq_str(&q, "hello");
	send();
	CHECK_OK_REPLY(100, sizeof(eo));
	CHECK_STR(rec.op, "lookup");
	CHECK_EQ(rec.ino, 1);
	CHECK_STR(rec.name, "hello");
	CHECK_EQ(rec.ctx.unique, 100);
	CHECK_EQ(rec.ctx.opcode, FB_LOOKUP);
	check_ctx();
	eo = FBREP_AS(&rep, struct fb_entry_out);
	check_entry_out(&eo);
	/* Errors pass through. */
	rec.ret = -ENOENT;
	send();
	CHECK_ERR_REPLY(100, -ENOENT);
}

TEST(lookup_scattered_request_and_reply)
{
	struct fb_entry_out eo;

	fresh(45);
	fbreq_start(&q, FB_LOOKUP, 102, 5);
	fbreq_str(&q, "a-name-that-spans-several-iovecs");
	q.split = 7;
	rep.split = 5;
	send();
	q.split = 0;
	rep.split = 0;
	CHECK_OK_REPLY(102, sizeof(eo));
	CHECK_STR(rec.name, "a-name-that-spans-several-iovecs");
	eo = FBREP_AS(&rep, struct fb_entry_out);
	check_entry_out(&eo);
}

TEST(forget_and_batch_forget)
{
	struct fb_forget_in fi = {.nlookup = 5};
	struct fb_batch_forget_in bi = {.count = 3};
	struct fb_forget_one one[3] = {{10, 1}, {11, 2}, {FB_ROOT_ID, 9}};

	fresh(45);
	fbreq_start(&q, FB_FORGET, 103, 42);
	fbreq_put(&q, &fi, sizeof(fi));
	CHECK_EQ(send(), 0);
	CHECK_EQ(rec.nforgets, 1);
	CHECK_EQ(rec.forgets[0][0], 42);
	CHECK_EQ(rec.forgets[0][1], 5);

	fbreq_start(&q, FB_BATCH_FORGET, 104, 0);
	fbreq_put(&q, &bi, sizeof(bi));
	fbreq_put(&q, one, sizeof(one));
	CHECK_EQ(send(), 0);
	/* The root is never forgotten. */
	CHECK_EQ(rec.nforgets, 3);
	CHECK_EQ(rec.forgets[1][0], 10);
	CHECK_EQ(rec.forgets[2][0], 11);
	CHECK_EQ(rec.forgets[2][1], 2);
}

TEST(getattr_with_and_without_fh)
{
	struct fb_getattr_in in = {.getattr_flags = 0, .fh = 9};
	struct fb_attr_out ao;

	fresh(45);
	fbreq_start(&q, FB_GETATTR, 105, 77);
	fbreq_put(&q, &in, sizeof(in));
	send();
	CHECK_OK_REPLY(105, sizeof(ao));
	CHECK_STR(rec.op, "getattr");
	CHECK_EQ(rec.ino, 77);
	CHECK_EQ(rec.has_fi, 0);
	ao = FBREP_AS(&rep, struct fb_attr_out);
	CHECK_EQ(ao.attr_valid, 1);
	CHECK_EQ(ao.attr.ino, 77);
	CHECK_EQ(ao.attr.size, 4096);

	in.getattr_flags = FB_GETATTR_FH;
	fbreq_start(&q, FB_GETATTR, 106, 77);
	fbreq_put(&q, &in, sizeof(in));
	send();
	CHECK_EQ(rec.has_fi, 1);
	CHECK_EQ(rec.fh, 9);
}

TEST(setattr)
{
	struct fb_setattr_in in = {
		.valid = FB_FATTR_MODE | FB_FATTR_SIZE | FB_FATTR_MTIME | FB_FATTR_FH,
		.fh = 12,
		.size = 999,
		.mtime = 1700000000,
		.mtimensec = 42,
		.mode = 0600,
		.uid = 5,
		.gid = 6,
	};

	fresh(45);
	rec.attr.st_size = 999;
	fbreq_start(&q, FB_SETATTR, 107, 77);
	fbreq_put(&q, &in, sizeof(in));
	send();
	CHECK_OK_REPLY(107, sizeof(struct fb_attr_out));
	CHECK_STR(rec.op, "setattr");
	CHECK_EQ(rec.valid, in.valid);
	CHECK_EQ(rec.st_in.st_mode, 0600);
	CHECK_EQ(rec.st_in.st_size, 999);
	CHECK_EQ(rec.st_in.st_mtim.tv_sec, 1700000000);
	CHECK_EQ(rec.st_in.st_mtim.tv_nsec, 42);
	CHECK_EQ(rec.st_in.st_uid, 5);
	CHECK_EQ(rec.has_fi, 1);
	CHECK_EQ(rec.fh, 12);
	CHECK_EQ(FBREP_AS(&rep, struct fb_attr_out).attr.size, 999);
}

TEST(readlink)
{
	fresh(45);
	memcpy(rec.out, "target/path", 11);
	rec.outlen = 11;
	fbreq_start(&q, FB_READLINK, 108, 77);
	send();
	CHECK_OK_REPLY(108, 11);
	CHECK(memcmp(rep.body, "target/path", 11) == 0);
	CHECK(rec.size >= 4095);
	/* Scattered reply memory goes through a bounce buffer. */
	rep.split = 10;
	send();
	rep.split = 0;
	CHECK_OK_REPLY(108, 11);
	CHECK(memcmp(rep.body, "target/path", 11) == 0);
}

TEST(symlink)
{
	fresh(45);
	fbreq_start(&q, FB_SYMLINK, 109, 1);
	fbreq_str(&q, "link");
	fbreq_str(&q, "../some/target");
	send();
	CHECK_OK_REPLY(109, sizeof(struct fb_entry_out));
	CHECK_STR(rec.op, "symlink");
	CHECK_STR(rec.name, "link");
	CHECK_STR(rec.name2, "../some/target");
	CHECK_EQ(rec.ino, 1);
}

TEST(mknod_with_umask_and_rdev)
{
	struct fb_mknod_in in = {.mode = S_IFCHR | 0666, .umask = 022};
	dev_t dev = makedev(259, 70000);

	/* The kernel's new_encode_dev(). */
	in.rdev = (minor(dev) & 0xff) | (major(dev) << 8) | ((minor(dev) & ~0xffu) << 12);
	fresh(45);
	fbreq_start(&q, FB_MKNOD, 110, 1);
	fbreq_put(&q, &in, sizeof(in));
	fbreq_str(&q, "dev");
	send();
	CHECK_OK_REPLY(110, sizeof(struct fb_entry_out));
	CHECK_STR(rec.op, "mknod");
	CHECK_EQ(rec.mode, S_IFCHR | 0666);
	CHECK_EQ(rec.ctx.umask, 022);
	CHECK_EQ(major(rec.rdev), 259);
	CHECK_EQ(minor(rec.rdev), 70000);
}

TEST(mkdir_with_groups_and_secctx)
{
	struct fb_mkdir_in in = {.mode = 0755, .umask = 027};
	uint32_t groups[2] = {100, 200};

	fresh(45);
	fbreq_start(&q, FB_MKDIR, 111, 1);
	fbreq_put(&q, &in, sizeof(in));
	fbreq_str(&q, "dir");
	fbreq_ext_secctx(&q, "security.selinux", "system_u:object_r:x", 19);
	fbreq_ext_groups(&q, groups, 2);
	send();
	CHECK_OK_REPLY(111, sizeof(struct fb_entry_out));
	CHECK_STR(rec.op, "mkdir");
	CHECK_STR(rec.name, "dir");
	CHECK_EQ(rec.mode, 0755);
	CHECK_EQ(rec.ctx.umask, 027);
	CHECK_EQ(rec.ctx.ngroups, 2);
	CHECK_EQ(rec.groups[0], 100);
	CHECK_EQ(rec.groups[1], 200);
	CHECK_STR(rec.secname, "security.selinux");
	CHECK_EQ(rec.ctx.secctx_len, 19);
	CHECK(memcmp(rec.secval, "system_u:object_r:x", 19) == 0);
	/* Scattered: the extensions are copied together. */
	q.split = 3;
	rec_reset();
	send();
	q.split = 0;
	CHECK_OK_REPLY(111, sizeof(struct fb_entry_out));
	CHECK_EQ(rec.ctx.ngroups, 2);
	CHECK_EQ(rec.groups[1], 200);
	CHECK_STR(rec.secname, "security.selinux");
}

TEST(unlink_rmdir)
{
	fresh(45);
	fbreq_start(&q, FB_UNLINK, 112, 3);
	fbreq_str(&q, "gone");
	send();
	CHECK_OK_REPLY(112, 0);
	CHECK_STR(rec.op, "unlink");
	CHECK_STR(rec.name, "gone");
	CHECK_EQ(rec.ino, 3);
	fbreq_start(&q, FB_RMDIR, 113, 3);
	fbreq_str(&q, "dir");
	rec.ret = -ENOTEMPTY;
	send();
	CHECK_ERR_REPLY(113, -ENOTEMPTY);
	CHECK_STR(rec.op, "rmdir");
}

TEST(rename_and_rename2)
{
	struct fb_rename_in r1 = {.newdir = 8};
	struct fb_rename2_in r2 = {.newdir = 9, .flags = RENAME_EXCHANGE};

	fresh(45);
	fbreq_start(&q, FB_RENAME, 114, 7);
	fbreq_put(&q, &r1, sizeof(r1));
	fbreq_str(&q, "old");
	fbreq_str(&q, "new");
	send();
	CHECK_OK_REPLY(114, 0);
	CHECK_STR(rec.op, "rename");
	CHECK_EQ(rec.ino, 7);
	CHECK_EQ(rec.ino2, 8);
	CHECK_STR(rec.name, "old");
	CHECK_STR(rec.name2, "new");
	CHECK_EQ(rec.flags, 0);
	fbreq_start(&q, FB_RENAME2, 115, 7);
	fbreq_put(&q, &r2, sizeof(r2));
	fbreq_str(&q, "a");
	fbreq_str(&q, "b");
	send();
	CHECK_OK_REPLY(115, 0);
	CHECK_EQ(rec.ino2, 9);
	CHECK_EQ(rec.flags, RENAME_EXCHANGE);
	CHECK_STR(rec.name2, "b");
}

TEST(link)
{
	struct fb_link_in in = {.oldnodeid = 55};

	fresh(45);
	fbreq_start(&q, FB_LINK, 116, 4);
	fbreq_put(&q, &in, sizeof(in));
	fbreq_str(&q, "hard");
	send();
	CHECK_OK_REPLY(116, sizeof(struct fb_entry_out));
	CHECK_STR(rec.op, "link");
	CHECK_EQ(rec.ino, 55);
	CHECK_EQ(rec.ino2, 4);
	CHECK_STR(rec.name, "hard");
}

/* A file system without flush() gets FOPEN_NOFLUSH on its opens: close() costs no FLUSH. */
TEST(open_of_fs_without_flush_says_noflush)
{
	struct fb_fs_ops ops = rec_ops;
	struct fb_server *s = NULL;
	struct fb_open_in in = {.flags = O_RDWR};
	struct fb_create_in ci = {.flags = O_RDWR | O_CREAT, .mode = S_IFREG | 0644};
	struct fb_flush_in fl = {.fh = 7};

	ops.flush = NULL;
	rec_reset();
	CHECK_EQ(fb_server_new(&ops, sizeof(ops), NULL, NULL, &s), 0);
	CHECK_EQ(fbreq_init_session(s, 45, FBREQ_ALL_FLAGS, &rep), 0);
	rec.fi.fh = 0x55;
	rec.fi.open_flags = FB_FOPEN_KEEP_CACHE;
	rec.entry.ino = 9;
	rec.entry.attr.st_ino = 9;
	rec.entry.attr.st_mode = S_IFREG | 0644;
	fbreq_start(&q, FB_OPEN, 130, 77);
	fbreq_put(&q, &in, sizeof(in));
	fbreq_send(s, &q, &rep);
	CHECK_OK_REPLY(130, sizeof(struct fb_open_out));
	CHECK_EQ(FBREP_AS(&rep, struct fb_open_out).open_flags,
		 FB_FOPEN_KEEP_CACHE | FB_FOPEN_NOFLUSH);
	fbreq_start(&q, FB_CREATE, 131, 1);
	fbreq_put(&q, &ci, sizeof(ci));
	fbreq_put(&q, "new", 4);
	fbreq_send(s, &q, &rep);
	CHECK_EQ(rep.oh.error, 0);
	CHECK(rep.ret > 16 + (ssize_t)sizeof(struct fb_entry_out));
	struct fb_open_out oo;
	memcpy(&oo, rep.body + sizeof(struct fb_entry_out), sizeof(oo));
	CHECK(oo.open_flags & FB_FOPEN_NOFLUSH);
	/* With the writeback cache the kernel sends FLUSH anyway: ENOSYS stops it for good. */
	fbreq_start(&q, FB_FLUSH, 132, 77);
	fbreq_put(&q, &fl, sizeof(fl));
	fbreq_send(s, &q, &rep);
	CHECK_ERR_REPLY(132, -ENOSYS);
	fb_server_free(s);

	/* With flush(), the file system's own flags are passed as they are. */
	fresh(45);
	rec.fi.open_flags = FB_FOPEN_KEEP_CACHE;
	fbreq_start(&q, FB_OPEN, 133, 77);
	fbreq_put(&q, &in, sizeof(in));
	send();
	CHECK_EQ(FBREP_AS(&rep, struct fb_open_out).open_flags, FB_FOPEN_KEEP_CACHE);
}

TEST(open_and_opendir)
{
	struct fb_open_in in = {.flags = O_RDWR | O_APPEND};
	struct fb_open_out oo;

	fresh(45);
	rec.fi.fh = 0x1234;
	rec.fi.open_flags = FB_FOPEN_KEEP_CACHE;
	fbreq_start(&q, FB_OPEN, 117, 77);
	fbreq_put(&q, &in, sizeof(in));
	send();
	CHECK_OK_REPLY(117, sizeof(oo));
	CHECK_STR(rec.op, "open");
	CHECK_EQ(rec.iflags, O_RDWR | O_APPEND);
	oo = FBREP_AS(&rep, struct fb_open_out);
	CHECK_EQ(oo.fh, 0x1234);
	CHECK_EQ(oo.open_flags, FB_FOPEN_KEEP_CACHE);
	CHECK_EQ(oo.backing_id, 0);

	rec.fi.open_flags = FB_FOPEN_PASSTHROUGH;
	rec.fi.backing_id = 3;
	fbreq_start(&q, FB_OPENDIR, 118, 1);
	fbreq_put(&q, &in, sizeof(in));
	send();
	CHECK_STR(rec.op, "opendir");
	oo = FBREP_AS(&rep, struct fb_open_out);
	CHECK_EQ(oo.backing_id, 3);
}

TEST(read)
{
	struct fb_read_in in = {.fh = 5, .offset = 4096, .size = 100, .flags = O_RDONLY};

	fresh(45);
	for (int i = 0; i < 300; i++)
		rec.out[i] = (uint8_t)i;
	rec.outlen = 300;
	fbreq_start(&q, FB_READ, 119, 77);
	fbreq_put(&q, &in, sizeof(in));
	send();
	CHECK_OK_REPLY(119, 100);
	CHECK_STR(rec.op, "read");
	CHECK_EQ(rec.fh, 5);
	CHECK_EQ(rec.off, 4096);
	CHECK_EQ(rec.size, 100);
	CHECK(memcmp(rep.body, rec.out, 100) == 0);
	/* Short read at end of file. */
	rec.outlen = 10;
	send();
	CHECK_OK_REPLY(119, 10);
}

TEST(read_size_capped_to_writer)
{
	struct fb_read_in in = {.fh = 5, .size = 1 << 20};
	struct fbrep small;

	fresh(45);
	fbrep_init(&small, 1000);
	rec.outlen = sizeof(rec.out);
	fbreq_start(&q, FB_READ, 120, 77);
	fbreq_put(&q, &in, sizeof(in));
	fbreq_send(srv, &q, &small);
	CHECK_EQ(rec.size, 1000 - 16);
	CHECK_EQ(small.ret, 1000);
	CHECK_EQ(small.oh.error, 0);
	fbrep_free(&small);
}

TEST(write)
{
	struct fb_write_in in = {
		.fh = 6,
		.offset = 10,
		.size = 5000,
		.write_flags = FB_WRITE_KILL_SUIDGID,
		.flags = O_WRONLY,
	};
	static uint8_t data[5000];

	fresh(45);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	fbreq_start(&q, FB_WRITE, 121, 77);
	fbreq_put(&q, &in, sizeof(in));
	fbreq_put(&q, data, sizeof(data));
	q.split = 1000;
	send();
	q.split = 0;
	CHECK_OK_REPLY(121, sizeof(struct fb_write_out));
	CHECK_STR(rec.op, "write");
	CHECK_EQ(rec.fh, 6);
	CHECK_EQ(rec.off, 10);
	CHECK_EQ(rec.size, 5000);
	CHECK_EQ(rec.flags, FB_WRITE_KILL_SUIDGID);
	CHECK_EQ(rec.iflags, O_WRONLY);
	CHECK(memcmp(rec.data, data, sizeof(data)) == 0);
	CHECK_EQ(FBREP_AS(&rep, struct fb_write_out).size, 5000);
}

TEST(statfs)
{
	struct fb_statfs_out so;

	fresh(45);
	fbreq_start(&q, FB_STATFS, 122, 1);
	send();
	CHECK_OK_REPLY(122, sizeof(so));
	so = FBREP_AS(&rep, struct fb_statfs_out);
	CHECK_EQ(so.st.blocks, 1000);
	CHECK_EQ(so.st.bfree, 500);
	CHECK_EQ(so.st.bavail, 400);
	CHECK_EQ(so.st.files, 300);
	CHECK_EQ(so.st.ffree, 200);
	CHECK_EQ(so.st.bsize, 4096);
	CHECK_EQ(so.st.namelen, 255);
	CHECK_EQ(so.st.frsize, 1024);
}

TEST(release_flush_fsync)
{
	struct fb_release_in ri = {
		.fh = 7, .flags = O_RDWR, .release_flags = FB_RELEASE_FLUSH, .lock_owner = 88};
	struct fb_flush_in fl = {.fh = 7, .lock_owner = 99};
	struct fb_fsync_in fs = {.fh = 7, .fsync_flags = FB_FSYNC_FDATASYNC};

	fresh(45);
	fbreq_start(&q, FB_RELEASE, 123, 77);
	fbreq_put(&q, &ri, sizeof(ri));
	send();
	CHECK_OK_REPLY(123, 0);
	CHECK_STR(rec.op, "release");
	CHECK_EQ(rec.fh, 7);
	CHECK_EQ(rec.iflags, O_RDWR);
	CHECK_EQ(rec.flags, FB_RELEASE_FLUSH);
	CHECK_EQ(rec.owner, 88);
	fbreq_start(&q, FB_FLUSH, 124, 77);
	fbreq_put(&q, &fl, sizeof(fl));
	send();
	CHECK_STR(rec.op, "flush");
	CHECK_EQ(rec.owner, 99);
	fbreq_start(&q, FB_FSYNC, 125, 77);
	fbreq_put(&q, &fs, sizeof(fs));
	send();
	CHECK_STR(rec.op, "fsync");
	CHECK_EQ(rec.iflags, 1);
	fbreq_start(&q, FB_FSYNCDIR, 126, 1);
	fbreq_put(&q, &fs, sizeof(fs));
	send();
	CHECK_STR(rec.op, "fsyncdir");
	CHECK_EQ(rec.iflags, 1);
	fbreq_start(&q, FB_RELEASEDIR, 127, 1);
	fbreq_put(&q, &ri, sizeof(ri));
	send();
	CHECK_OK_REPLY(127, 0);
	CHECK_STR(rec.op, "releasedir");
}

TEST(xattrs)
{
	struct fb_setxattr_in si = {
		.size = 6, .flags = XATTR_CREATE, .setxattr_flags = FB_SETXATTR_ACL_KILL_SGID};
	struct fb_getxattr_in gi = {.size = 0};

	fresh(45);
	fbreq_start(&q, FB_SETXATTR, 128, 77);
	fbreq_put(&q, &si, sizeof(si));
	fbreq_str(&q, "user.k");
	fbreq_put(&q, "value!", 6);
	send();
	CHECK_OK_REPLY(128, 0);
	CHECK_STR(rec.op, "setxattr");
	CHECK_STR(rec.name, "user.k");
	CHECK_EQ(rec.datalen, 6);
	CHECK(memcmp(rec.data, "value!", 6) == 0);
	CHECK_EQ(rec.iflags, XATTR_CREATE);
	CHECK_EQ(rec.flags2, FB_SETXATTR_ACL_KILL_SGID);

	memcpy(rec.out, "abc", 3);
	rec.outlen = 3;
	fbreq_start(&q, FB_GETXATTR, 129, 77);
	fbreq_put(&q, &gi, sizeof(gi));
	fbreq_str(&q, "user.k");
	send();
	CHECK_OK_REPLY(129, sizeof(struct fb_getxattr_out));
	CHECK_EQ(FBREP_AS(&rep, struct fb_getxattr_out).size, 3);
	gi.size = 100;
	fbreq_start(&q, FB_GETXATTR, 130, 77);
	fbreq_put(&q, &gi, sizeof(gi));
	fbreq_str(&q, "user.k");
	send();
	CHECK_OK_REPLY(130, 3);
	CHECK(memcmp(rep.body, "abc", 3) == 0);
	CHECK_EQ(rec.size, 100);
	gi.size = 2;
	fbreq_start(&q, FB_GETXATTR, 131, 77);
	fbreq_put(&q, &gi, sizeof(gi));
	fbreq_str(&q, "user.k");
	send();
	CHECK_ERR_REPLY(131, -ERANGE);

	gi.size = 64;
	memcpy(rec.out, "user.a\0user.b\0", 14);
	rec.outlen = 14;
	fbreq_start(&q, FB_LISTXATTR, 132, 77);
	fbreq_put(&q, &gi, sizeof(gi));
	rep.split = 4;
	send();
	rep.split = 0;
	CHECK_OK_REPLY(132, 14);
	CHECK(memcmp(rep.body, "user.a\0user.b\0", 14) == 0);

	fbreq_start(&q, FB_REMOVEXATTR, 133, 77);
	fbreq_str(&q, "user.k");
	send();
	CHECK_OK_REPLY(133, 0);
	CHECK_STR(rec.op, "removexattr");
	CHECK_STR(rec.name, "user.k");
}

TEST(setxattr_compat_size_without_ext)
{
	struct fb_setxattr_in si = {.size = 2, .flags = 0};

	/* Kernel offering no SETXATTR_EXT: 8-byte setxattr_in. */
	fb_server_free(srv);
	srv = rec_server(NULL, 45, FBREQ_ALL_FLAGS & ~FB_SETXATTR_EXT, &rep);
	CHECK(srv);
	fbreq_start(&q, FB_SETXATTR, 134, 77);
	fbreq_put(&q, &si, 8);
	fbreq_str(&q, "user.x");
	fbreq_put(&q, "hi", 2);
	send();
	CHECK_OK_REPLY(134, 0);
	CHECK_STR(rec.name, "user.x");
	CHECK(memcmp(rec.data, "hi", 2) == 0);
}

static void readdir_check(int plus)
{
	struct fb_read_in in = {.fh = 3, .offset = 0, .size = 4096};
	size_t recsize = plus ? FB_DIRENT_ALIGN(FB_NAME_OFFSET_DIRENTPLUS + 6)
			      : FB_DIRENT_ALIGN(FB_NAME_OFFSET + 6);
	const uint8_t *p;

	fresh(45);
	rec.ndirents = 3;
	fbreq_start(&q, plus ? FB_READDIRPLUS : FB_READDIR, 135, 1);
	fbreq_put(&q, &in, sizeof(in));
	send();
	CHECK_OK_REPLY(135, 3 * recsize);
	CHECK_STR(rec.op, plus ? "readdirplus" : "readdir");
	CHECK_EQ(rec.fh, 3);
	p = rep.body;
	for (int i = 0; i < 3; i++, p += recsize) {
		struct fb_dirent d;
		char name[8];

		if (plus) {
			struct fb_entry_out eo;

			memcpy(&eo, p, sizeof(eo));
			CHECK_EQ(eo.nodeid, 100 + i);
			CHECK_EQ(eo.attr.ino, 100 + i);
			CHECK_EQ(eo.entry_valid, 1);
			memcpy(&d, p + sizeof(eo), sizeof(d));
			memcpy(name, p + FB_NAME_OFFSET_DIRENTPLUS, 6);
			CHECK_EQ(d.type, DT_REG);
		} else {
			memcpy(&d, p, sizeof(d));
			memcpy(name, p + FB_NAME_OFFSET, 6);
			CHECK_EQ(d.type, DT_REG);
		}
		CHECK_EQ(d.ino, 100 + i);
		CHECK_EQ(d.off, i + 1);
		CHECK_EQ(d.namelen, 6);
		name[6] = 0;
		CHECK(name[5] == '0' + i);
	}
	/* Only what fits in size: 2 records. */
	in.size = (uint32_t)(2 * recsize + recsize / 2);
	fbreq_start(&q, plus ? FB_READDIRPLUS : FB_READDIR, 136, 1);
	fbreq_put(&q, &in, sizeof(in));
	rec.len = 0;
	send();
	CHECK_OK_REPLY(136, 2 * recsize);
	if (plus)
		CHECK_EQ(rec.len, 2);
	/* Continue from the offset the kernel got: the third entry. */
	in.offset = 2;
	in.size = 4096;
	fbreq_start(&q, plus ? FB_READDIRPLUS : FB_READDIR, 137, 1);
	fbreq_put(&q, &in, sizeof(in));
	send();
	CHECK_OK_REPLY(137, recsize);
	/* End of the listing: empty reply. */
	in.offset = 3;
	fbreq_start(&q, plus ? FB_READDIRPLUS : FB_READDIR, 138, 1);
	fbreq_put(&q, &in, sizeof(in));
	send();
	CHECK_OK_REPLY(138, 0);
}

TEST(readdir)
{
	readdir_check(0);
}

TEST(readdirplus)
{
	readdir_check(1);
}

TEST(locks)
{
	struct fb_lk_in in = {
		.fh = 4, .owner = 0xabc, .lk = {.start = 10, .end = 20, .type = F_RDLCK, .pid = 7}};
	struct fb_lk_out lo;

	fresh(45);
	fbreq_start(&q, FB_GETLK, 139, 77);
	fbreq_put(&q, &in, sizeof(in));
	send();
	CHECK_OK_REPLY(139, sizeof(lo));
	CHECK_STR(rec.op, "getlk");
	CHECK_EQ(rec.owner, 0xabc);
	CHECK_EQ(rec.lk.start, 10);
	CHECK_EQ(rec.lk.end, 20);
	lo = FBREP_AS(&rep, struct fb_lk_out);
	CHECK_EQ(lo.lk.type, F_WRLCK);
	CHECK_EQ(lo.lk.pid, 99);
	CHECK_EQ(lo.lk.start, 10);

	fbreq_start(&q, FB_SETLK, 140, 77);
	fbreq_put(&q, &in, sizeof(in));
	send();
	CHECK_OK_REPLY(140, 0);
	CHECK_STR(rec.op, "setlk");
	CHECK_EQ(rec.sleep, 0);
	CHECK_EQ(rec.lk.type, F_RDLCK);
	fbreq_start(&q, FB_SETLKW, 141, 77);
	fbreq_put(&q, &in, sizeof(in));
	send();
	CHECK_EQ(rec.sleep, 1);

	/* flock() arrives as SETLK(W) with FB_LK_FLOCK. */
	in.lk_flags = FB_LK_FLOCK;
	in.lk.type = F_WRLCK;
	fbreq_start(&q, FB_SETLK, 142, 77);
	fbreq_put(&q, &in, sizeof(in));
	send();
	CHECK_OK_REPLY(142, 0);
	CHECK_STR(rec.op, "flock");
	CHECK_EQ(rec.lockop, LOCK_EX | LOCK_NB);
	in.lk.type = F_UNLCK;
	fbreq_start(&q, FB_SETLKW, 143, 77);
	fbreq_put(&q, &in, sizeof(in));
	send();
	CHECK_EQ(rec.lockop, LOCK_UN);
	in.lk.type = F_RDLCK;
	fbreq_start(&q, FB_SETLKW, 144, 77);
	fbreq_put(&q, &in, sizeof(in));
	send();
	CHECK_EQ(rec.lockop, LOCK_SH);
}

TEST(access)
{
	struct fb_access_in in = {.mask = R_OK | X_OK};

	fresh(45);
	fbreq_start(&q, FB_ACCESS, 145, 77);
	fbreq_put(&q, &in, sizeof(in));
	rec.ret = -EACCES;
	send();
	CHECK_ERR_REPLY(145, -EACCES);
	CHECK_STR(rec.op, "access");
	CHECK_EQ(rec.mode, R_OK | X_OK);
}

TEST(create)
{
	struct fb_create_in in = {
		.flags = O_CREAT | O_EXCL | O_WRONLY, .mode = S_IFREG | 0666, .umask = 002};
	struct fb_open_out oo;

	fresh(45);
	rec.fi.fh = 31;
	fbreq_start(&q, FB_CREATE, 146, 1);
	fbreq_put(&q, &in, sizeof(in));
	fbreq_str(&q, "new.txt");
	send();
	CHECK_OK_REPLY(146, sizeof(struct fb_entry_out) + sizeof(oo));
	CHECK_STR(rec.op, "create");
	CHECK_STR(rec.name, "new.txt");
	CHECK_EQ(rec.mode, S_IFREG | 0666);
	CHECK_EQ(rec.iflags, O_CREAT | O_EXCL | O_WRONLY);
	CHECK_EQ(rec.ctx.umask, 002);
	check_entry_out((const struct fb_entry_out *)(const void *)rep.body);
	memcpy(&oo, rep.body + sizeof(struct fb_entry_out), sizeof(oo));
	CHECK_EQ(oo.fh, 31);
}

TEST(tmpfile)
{
	struct fb_create_in in = {.flags = O_RDWR, .mode = S_IFREG | 0600, .umask = 077};

	fresh(45);
	rec.fi.fh = 32;
	fbreq_start(&q, FB_TMPFILE, 147, 1);
	fbreq_put(&q, &in, sizeof(in));
	fbreq_str(&q, "/"); /* the kernel's placeholder name */
	send();
	CHECK_OK_REPLY(147, sizeof(struct fb_entry_out) + sizeof(struct fb_open_out));
	CHECK_STR(rec.op, "tmpfile");
	CHECK_EQ(rec.mode, S_IFREG | 0600);
	CHECK_EQ(rec.ctx.umask, 077);
}

TEST(bmap_poll_fallocate_lseek)
{
	struct fb_bmap_in bi = {.block = 5, .blocksize = 512};
	struct fb_poll_in pi = {
		.fh = 2, .kh = 77777, .flags = FB_POLL_SCHEDULE_NOTIFY, .events = POLLIN};
	struct fb_fallocate_in fi = {.fh = 2, .offset = 100, .length = 200, .mode = 1};
	struct fb_lseek_in li = {.fh = 2, .offset = 50, .whence = SEEK_DATA};

	fresh(45);
	rec.u64out = 1234;
	fbreq_start(&q, FB_BMAP, 148, 77);
	fbreq_put(&q, &bi, sizeof(bi));
	send();
	CHECK_OK_REPLY(148, 8);
	CHECK_EQ(rec.off, 5);
	CHECK_EQ(rec.size, 512);
	CHECK_EQ(FBREP_AS(&rep, struct fb_bmap_out).block, 1234);

	rec.revents = 5;
	fbreq_start(&q, FB_POLL, 149, 77);
	fbreq_put(&q, &pi, sizeof(pi));
	send();
	CHECK_OK_REPLY(149, 8);
	CHECK_STR(rec.op, "poll");
	CHECK_EQ(rec.fh2, 77777);
	CHECK_EQ(rec.flags, FB_POLL_SCHEDULE_NOTIFY);
	CHECK_EQ(rec.flags2, POLLIN);
	CHECK_EQ(FBREP_AS(&rep, struct fb_poll_out).revents, 5);

	fbreq_start(&q, FB_FALLOCATE, 150, 77);
	fbreq_put(&q, &fi, sizeof(fi));
	send();
	CHECK_OK_REPLY(150, 0);
	CHECK_STR(rec.op, "fallocate");
	CHECK_EQ(rec.off, 100);
	CHECK_EQ(rec.len, 200);
	CHECK_EQ(rec.iflags, 1);

	rec.u64out = 4096;
	fbreq_start(&q, FB_LSEEK, 151, 77);
	fbreq_put(&q, &li, sizeof(li));
	send();
	CHECK_OK_REPLY(151, 8);
	CHECK_EQ(rec.iflags, SEEK_DATA);
	CHECK_EQ(rec.off, 50);
	CHECK_EQ(FBREP_AS(&rep, struct fb_lseek_out).offset, 4096);
}

TEST(copy_file_range_32_and_64)
{
	struct fb_copy_file_range_in in = {.fh_in = 1,
					   .off_in = 2,
					   .nodeid_out = 3,
					   .fh_out = 4,
					   .off_out = 5,
					   .len = 10ULL << 32,
					   .flags = 0};

	fresh(45);
	rec.u64out = 5ULL << 32;
	fbreq_start(&q, FB_COPY_FILE_RANGE_64, 152, 9);
	fbreq_put(&q, &in, sizeof(in));
	send();
	CHECK_OK_REPLY(152, 8);
	CHECK_STR(rec.op, "copy_file_range");
	CHECK_EQ(rec.ino, 9);
	CHECK_EQ(rec.fh, 1);
	CHECK_EQ(rec.off, 2);
	CHECK_EQ(rec.ino2, 3);
	CHECK_EQ(rec.fh2, 4);
	CHECK_EQ(rec.off2, 5);
	CHECK_EQ(FBREP_AS(&rep, struct fb_copy_file_range_out).bytes_copied, 5ULL << 32);
	/* The old opcode answers with a 32-bit count. */
	rec.u64out = 1000;
	fbreq_start(&q, FB_COPY_FILE_RANGE, 153, 9);
	fbreq_put(&q, &in, sizeof(in));
	send();
	CHECK_OK_REPLY(153, 8);
	CHECK_EQ(FBREP_AS(&rep, struct fb_write_out).size, 1000);
	/* Copied more than asked: a file-system bug. */
	in.len = 10;
	fbreq_start(&q, FB_COPY_FILE_RANGE, 154, 9);
	fbreq_put(&q, &in, sizeof(in));
	send();
	CHECK_ERR_REPLY(154, -EIO);
}

TEST(ioctl_restricted)
{
	struct fb_ioctl_in in = {
		.fh = 8, .flags = 0, .cmd = 0x8004667f, .in_size = 4, .out_size = 8};
	struct fb_ioctl_out io;

	fresh(45);
	rec.ret = 17;
	memcpy(rec.out, "OUTDATA!", 8);
	rec.outlen = 8;
	fbreq_start(&q, FB_IOCTL, 155, 77);
	fbreq_put(&q, &in, sizeof(in));
	fbreq_put(&q, "INPT", 4);
	send();
	CHECK_OK_REPLY(155, sizeof(io) + 8);
	CHECK_STR(rec.op, "ioctl");
	CHECK_EQ(rec.flags2, 0x8004667f);
	CHECK_EQ(rec.datalen, 4);
	CHECK(memcmp(rec.data, "INPT", 4) == 0);
	CHECK_EQ(rec.size, 8);
	io = FBREP_AS(&rep, struct fb_ioctl_out);
	CHECK_EQ(io.result, 17);
	CHECK_EQ(io.flags, 0);
	CHECK(memcmp(rep.body + sizeof(io), "OUTDATA!", 8) == 0);
	/* Less output than room for. */
	rec.outlen = 3;
	send();
	CHECK_OK_REPLY(155, sizeof(io) + 3);
	/* Unrestricted: not supported. */
	in.flags = FB_IOCTL_UNRESTRICTED;
	fbreq_start(&q, FB_IOCTL, 156, 77);
	fbreq_put(&q, &in, sizeof(in));
	fbreq_put(&q, "INPT", 4);
	rec.calls = 0;
	send();
	CHECK_ERR_REPLY(156, -ENOSYS);
	CHECK_EQ(rec.calls, 0);
}

TEST(statx)
{
	struct fb_statx_in in = {
		.getattr_flags = FB_GETATTR_FH, .fh = 6, .sx_flags = 0x2000, .sx_mask = 0x7ff};
	struct fb_statx_out so;

	fresh(45);
	fbreq_start(&q, FB_STATX, 157, 77);
	fbreq_put(&q, &in, sizeof(in));
	send();
	CHECK_OK_REPLY(157, sizeof(so));
	CHECK_STR(rec.op, "statx");
	CHECK_EQ(rec.has_fi, 1);
	CHECK_EQ(rec.fh, 6);
	CHECK_EQ(rec.flags, 0x2000);
	CHECK_EQ(rec.flags2, 0x7ff);
	so = FBREP_AS(&rep, struct fb_statx_out);
	CHECK_EQ(so.attr_valid, 1);
	CHECK_EQ(so.stat.mask, 0x7ff);
	CHECK_EQ(so.stat.ino, 4242);
	CHECK_EQ(so.stat.size, 12345);
	CHECK_EQ(so.stat.mode, S_IFREG | 0600);
	CHECK_EQ(so.stat.btime.tv_sec, 1000);
	CHECK_EQ(so.stat.btime.tv_nsec, 5);
}

TEST(syncfs_and_mappings)
{
	struct fb_syncfs_in si = {0};
	struct fb_setupmapping_in mi = {.fh = 1,
					.foffset = 2 << 20,
					.len = 2 << 20,
					.flags = FB_SETUPMAPPING_FLAG_READ,
					.moffset = 4 << 20};
	struct fb_removemapping_in ri = {.count = 100};
	struct fb_removemapping_one one;

	fresh(45);
	fbreq_start(&q, FB_SYNCFS, 158, 1);
	fbreq_put(&q, &si, sizeof(si));
	send();
	CHECK_OK_REPLY(158, 0);
	CHECK_STR(rec.op, "syncfs");

	fbreq_start(&q, FB_SETUPMAPPING, 159, 77);
	fbreq_put(&q, &mi, sizeof(mi));
	send();
	CHECK_OK_REPLY(159, 0);
	CHECK_STR(rec.op, "setupmapping");
	CHECK_EQ(rec.off, 2 << 20);
	CHECK_EQ(rec.off2, 4 << 20);
	CHECK_EQ(rec.lflags, FB_SETUPMAPPING_FLAG_READ);

	fbreq_start(&q, FB_REMOVEMAPPING, 160, 0);
	fbreq_put(&q, &ri, sizeof(ri));
	for (uint64_t i = 0; i < 100; i++) {
		one.moffset = i << 21;
		one.len = 1 << 21;
		fbreq_put(&q, &one, sizeof(one));
	}
	send();
	CHECK_OK_REPLY(160, 0);
	CHECK_EQ(rec.nmaps, 100);
	CHECK_EQ(rec.maps[0].moffset, 0);
	CHECK_EQ(rec.maps[99].moffset, 99ULL << 21);
	CHECK_EQ(rec.maps[99].len, 1 << 21);
}

static uint64_t got_cookie, got_ino, got_off;
static uint32_t got_size;
static char got_data[16];

static void retrieve_cb(void *priv, uint64_t cookie, fb_ino_t ino, uint64_t off,
			struct fb_reader *data, uint32_t size)
{
	got_cookie = cookie;
	got_ino = ino;
	got_off = off;
	got_size = size;
	if (size <= sizeof(got_data))
		fb_reader_read(data, got_data, size);
}

TEST(notify_reply_goes_to_callback)
{
	struct fb_notify_retrieve_in in = {.offset = 4096, .size = 5};

	fresh(45);
	fb_server_set_retrieve_cb(srv, retrieve_cb, NULL);
	fbreq_start(&q, FB_NOTIFY_REPLY, 0xc00c1e, 77);
	fbreq_put(&q, &in, sizeof(in));
	fbreq_put(&q, "cache", 5);
	CHECK_EQ(send(), 0);
	CHECK_EQ(got_cookie, 0xc00c1e);
	CHECK_EQ(got_ino, 77);
	CHECK_EQ(got_off, 4096);
	CHECK_EQ(got_size, 5);
	CHECK(memcmp(got_data, "cache", 5) == 0);
}

TEST(destroy)
{
	fresh(45);
	fbreq_start(&q, FB_DESTROY, 161, 0);
	CHECK_EQ(send(), -ENODEV);
	CHECK_EQ(rec.destroyed, 1);
	CHECK(fb_server_destroyed(srv));
	/* The reply is in the writer. */
	CHECK_EQ(rep.written, 16);
	CHECK_EQ(rep.oh.len, 16);
	CHECK_EQ(rep.oh.error, 0);
	CHECK_EQ(rep.oh.unique, 161);
	/* Nothing more is served. */
	fbreq_start(&q, FB_LOOKUP, 162, 1);
	fbreq_str(&q, "x");
	rec.calls = 0;
	CHECK_EQ(send(), -ENODEV);
	CHECK_EQ(rec.calls, 0);
}

TEST(missing_ops_answer_enosys)
{
	static const struct fb_fs_ops none = {0};
	struct fb_open_in oi = {0};
	struct fb_release_in ri = {0};

	fb_server_free(srv);
	srv = NULL;
	CHECK_EQ(fb_server_new(&none, sizeof(none), NULL, NULL, &srv), 0);
	CHECK_EQ(fbreq_init_session(srv, 45, FBREQ_ALL_FLAGS, &rep), 0);
	fbreq_start(&q, FB_LOOKUP, 163, 1);
	fbreq_str(&q, "x");
	send();
	CHECK_ERR_REPLY(163, -ENOSYS);
	fbreq_start(&q, FB_OPEN, 164, 1);
	fbreq_put(&q, &oi, sizeof(oi));
	send();
	CHECK_ERR_REPLY(164, -ENOSYS);
	/* Release cannot fail in the kernel's eyes: a missing op is success. */
	fbreq_start(&q, FB_RELEASE, 165, 1);
	fbreq_put(&q, &ri, sizeof(ri));
	send();
	CHECK_OK_REPLY(165, 0);
	fbreq_start(&q, FB_STATFS, 166, 1);
	send();
	CHECK_ERR_REPLY(166, -ENOSYS);
}

TEST(resend_bit_kept_in_reply)
{
	uint64_t u = (1ULL << 63) | 200;

	fresh(45);
	fbreq_start(&q, FB_LOOKUP, u, 1);
	fbreq_str(&q, "x");
	send();
	CHECK_EQ(rep.oh.unique, u);
	CHECK_EQ(rep.oh.error, 0);
}

static char logbuf[4096];

static void capture(enum fb_log_level level, const char *msg, void *priv)
{
	if (level == FB_LOG_DEBUG && strlen(logbuf) + strlen(msg) + 2 < sizeof(logbuf)) {
		strcat(logbuf, msg);
		strcat(logbuf, "\n");
	}
}

TEST(debug_log_lines)
{
	struct fb_server_config cfg = {.debug = 1};

	fb_server_free(srv);
	srv = rec_server(&cfg, 45, FBREQ_ALL_FLAGS, &rep);
	CHECK(srv);
	logbuf[0] = 0;
	fb_log_set(capture, NULL);
	fbreq_start(&q, FB_LOOKUP, 300, 1);
	fbreq_str(&q, "x");
	rec.ret = -ENOENT;
	send();
	fb_log_set(NULL, NULL);
	fb_log_set_debug(0);
	CHECK_ERR_REPLY(300, -ENOENT);
	CHECK(strstr(logbuf, "unique=300 LOOKUP nodeid=1 len=42"));
	CHECK(strstr(logbuf, "unique=300 reply len=16 error=-2 ENOENT"));
}

/* The listing hook a stacking file system (the VFS) installs. */
struct hook_state {
	fb_dirbuf_hook prev;
	void *prev_priv;
	int seen;
	int plus;      /* the listing is READDIRPLUS */
	uint32_t type; /* file type bits the hook saw in a READDIR entry */
};

static int add_hook(void *priv, struct fb_dirbuf *b, const char *name, size_t namelen,
		    const struct fb_entry *e, uint64_t off)
{
	struct hook_state *h = priv;
	struct fb_entry t = *e;
	int r;

	h->seen++;
	t.ino += 1000;
	t.attr.st_ino += 2000;
	h->type = t.attr.st_mode & S_IFMT;
	fb_dirbuf_swap_hook(b, &h->prev, &h->prev_priv);
	if (h->plus)
		r = fb_dirbuf_add_plus(b, name, namelen, &t, off);
	else
		r = fb_dirbuf_add(b, name, namelen, t.attr.st_ino, t.attr.st_mode >> 12, off);
	fb_dirbuf_swap_hook(b, &h->prev, &h->prev_priv);
	return r;
}

static struct hook_state hstate;

static int hooked_list(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t off,
		       struct fb_dirbuf *buf, int plus)
{
	fb_dirbuf_hook hook = add_hook;
	void *priv = &hstate;
	int r;

	hstate.prev = NULL;
	hstate.prev_priv = NULL;
	fb_dirbuf_swap_hook(buf, &hook, &priv);
	hstate.prev = hook;
	hstate.prev_priv = priv;
	hstate.plus = plus;
	r = plus ? rec_readdirplus(fs, ctx, ino, fh, off, buf)
		 : rec_readdir(fs, ctx, ino, fh, off, buf);
	hook = hstate.prev;
	priv = hstate.prev_priv;
	fb_dirbuf_swap_hook(buf, &hook, &priv);
	return r;
}

static int hooked_readdirplus(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			      uint64_t off, struct fb_dirbuf *buf)
{
	return hooked_list(fs, ctx, ino, fh, off, buf, 1);
}

static int hooked_readdir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			  uint64_t off, struct fb_dirbuf *buf)
{
	return hooked_list(fs, ctx, ino, fh, off, buf, 0);
}

/* A server whose readdir and readdirplus install the hook; one listing of two entries sent. */
static int send_hooked_listing(uint32_t opcode, uint64_t unique)
{
	struct fb_fs_ops ops = rec_ops;
	struct fb_read_in in = {.size = 4096};
	int r;

	ops.readdir = hooked_readdir;
	ops.readdirplus = hooked_readdirplus;
	fb_server_free(srv);
	srv = NULL;
	rec_reset();
	r = fb_server_new(&ops, sizeof(ops), NULL, NULL, &srv);
	if (r == 0)
		r = fbreq_init_session(srv, 45, FBREQ_ALL_FLAGS, &rep);
	if (r < 0)
		return r;
	rec.ndirents = 2;
	hstate.seen = 0;
	fbreq_start(&q, opcode, unique, 1);
	fbreq_put(&q, &in, sizeof(in));
	send();
	return rep.oh.error;
}

TEST(readdirplus_hook_sees_and_rewrites_entries)
{
	struct fb_entry_out eo;

	CHECK_EQ(send_hooked_listing(FB_READDIRPLUS, 170), 0);
	CHECK_EQ(hstate.seen, 2);
	CHECK_EQ(rep.bodylen, 2 * FB_DIRENT_ALIGN(FB_NAME_OFFSET_DIRENTPLUS + 6));
	memcpy(&eo, rep.body, sizeof(eo));
	CHECK_EQ(eo.nodeid, 1100);
	CHECK_EQ(eo.attr.ino, 2100);
}

/* A READDIR listing goes through the same hook: d_ino and the type reach it, and it may
 * rewrite the ino (the VFS makes its inode numbers unique that way). */
TEST(readdir_hook_sees_and_rewrites_entries)
{
	struct fb_dirent d;

	CHECK_EQ(send_hooked_listing(FB_READDIR, 171), 0);
	CHECK_EQ(hstate.seen, 2);
	CHECK_EQ(hstate.type, S_IFREG);
	CHECK_EQ(rep.bodylen, 2 * FB_DIRENT_ALIGN(FB_NAME_OFFSET + 6));
	memcpy(&d, rep.body, FB_NAME_OFFSET);
	CHECK_EQ(d.ino, 2100);
	CHECK_EQ(d.type, DT_REG);
}

TEST_MAIN()
