/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Malformed requests: every length the server checks, checked to fail the right way, with
 * the file system never called and nothing written outside the reply buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>

#include "harness.h"
#include "fbreq.h"
#include "recfs.h"

static struct fbrep rep;
static struct fbreq q;
static struct fb_server *srv;

static int setup(void)
{
	fbrep_init(&rep, 0);
	fb_log_set(NULL, NULL);
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

static void fresh(void)
{
	fb_server_free(srv);
	srv = rec_server(NULL, 45, FBREQ_ALL_FLAGS, &rep);
	if (!srv)
		abort();
}

/* Send; the reply must be exactly an error header with @err, and the fs not called. */
static void expect_error(uint64_t unique, int err)
{
	rec.calls = 0;
	fbreq_send(srv, &q, &rep);
	CHECK_EQ(rep.ret, 16);
	CHECK_EQ(rep.oh.len, 16);
	CHECK_EQ(rep.oh.error, err);
	CHECK_EQ(rep.oh.unique, unique);
	CHECK_EQ(rec.calls, 0);
}

TEST(short_header_dropped)
{
	struct fb_reader r;
	struct fb_writer w;
	uint8_t buf[39] = {0};
	uint8_t out[64];
	struct iovec rv = {buf, sizeof(buf)}, wv = {out, sizeof(out)};

	fresh();
	fb_reader_init(&r, &rv, 1);
	fb_writer_init(&w, &wv, 1);
	CHECK_EQ(fb_server_handle(srv, &r, &w), 0);
	CHECK_EQ(fb_writer_written(&w), 0);
	fb_reader_init(&r, &rv, 0); /* empty */
	CHECK_EQ(fb_server_handle(srv, &r, &w), 0);
}

TEST(len_mismatch_both_ways)
{
	fresh();
	fbreq_start(&q, FB_LOOKUP, 10, 1);
	fbreq_str(&q, "x");
	fbreq_finish(&q);
	q.keep_len = 1;
	fbreq_hdr(&q)->len += 1; /* says more than there is */
	expect_error(10, -EINVAL);
	fbreq_hdr(&q)->len -= 2; /* says less */
	expect_error(10, -EINVAL);
	fbreq_hdr(&q)->len = 8; /* less than a header */
	expect_error(10, -EINVAL);
}

TEST(missing_nul)
{
	fresh();
	fbreq_start(&q, FB_LOOKUP, 11, 1);
	fbreq_put(&q, "abc", 3);
	expect_error(11, -EINVAL);
	fbreq_start(&q, FB_LOOKUP, 12, 1);
	expect_error(12, -EINVAL); /* no name at all */
}

TEST(oversize_name)
{
	char name[1100];

	fresh();
	memset(name, 'a', sizeof(name));
	name[1025] = 0; /* 1025 bytes */
	fbreq_start(&q, FB_LOOKUP, 13, 1);
	fbreq_str(&q, name);
	expect_error(13, -ENAMETOOLONG);
	name[1024] = 0; /* 1024: the limit */
	fbreq_start(&q, FB_LOOKUP, 14, 1);
	fbreq_str(&q, name);
	fbreq_send(srv, &q, &rep);
	CHECK_EQ(rep.oh.error, 0);
	CHECK_EQ(strlen(rec.name), 1024);
}

/*
 * With FB_EXPORT_SUPPORT (the file system asked for it) the kernel looks up "." (a node by its
 * id, for a file handle) and ".." (a directory's parent): LOOKUP passes them on; every other
 * bad name, and "." / ".." in any other request, stay refused.
 */
TEST(export_support_lookup_dot_names)
{
	static const char *bad[] = {"", "a/b", "/"};

	fb_server_free(srv);
	rec_reset();
	rec.init_set = FB_EXPORT_SUPPORT;
	CHECK_OK(fb_server_new(&rec_ops, sizeof(rec_ops), NULL, NULL, &srv));
	CHECK_EQ(fbreq_init_session(srv, 45, FBREQ_ALL_FLAGS, &rep), 0);
	CHECK(rep.ret > 16);
	rec_reset();

	fbreq_start(&q, FB_LOOKUP, 20, 5);
	fbreq_str(&q, ".");
	fbreq_send(srv, &q, &rep);
	CHECK_EQ(rep.oh.error, 0);
	CHECK_STR(rec.name, ".");
	fbreq_start(&q, FB_LOOKUP, 21, 5);
	fbreq_str(&q, "..");
	fbreq_send(srv, &q, &rep);
	CHECK_EQ(rep.oh.error, 0);
	CHECK_STR(rec.name, "..");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fbreq_start(&q, FB_LOOKUP, 22, 1);
		fbreq_str(&q, bad[i]);
		expect_error(22, -EINVAL);
	}
	fbreq_start(&q, FB_UNLINK, 23, 1);
	fbreq_str(&q, "..");
	expect_error(23, -EINVAL);
	/* and nothing may follow the name */
	fbreq_start(&q, FB_LOOKUP, 24, 1);
	fbreq_str(&q, ".");
	fbreq_put(&q, "zz", 2);
	expect_error(24, -EINVAL);
}

TEST(bad_entry_names)
{
	static const char *bad[] = {"", ".", "..", "a/b", "/"};

	fresh();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fbreq_start(&q, FB_LOOKUP, 15, 1);
		fbreq_str(&q, bad[i]);
		expect_error(15, -EINVAL);
	}
	/* Trailing bytes after the name. */
	fbreq_start(&q, FB_UNLINK, 16, 1);
	fbreq_str(&q, "ok");
	fbreq_put(&q, "zz", 2);
	expect_error(16, -EINVAL);
}

TEST(two_name_ops_checked)
{
	struct fb_rename_in ri = {.newdir = 2};
	struct fb_rename2_in r2 = {.newdir = 2};
	struct fb_link_in li = {.oldnodeid = 5};
	struct fb_create_in ci = {.mode = 0644};

	fresh();
	/* RENAME: second name missing, unterminated, invalid. */
	fbreq_start(&q, FB_RENAME, 17, 1);
	fbreq_put(&q, &ri, sizeof(ri));
	fbreq_str(&q, "old");
	expect_error(17, -EINVAL);
	fbreq_start(&q, FB_RENAME, 18, 1);
	fbreq_put(&q, &ri, sizeof(ri));
	fbreq_str(&q, "old");
	fbreq_put(&q, "new", 3);
	expect_error(18, -EINVAL);
	fbreq_start(&q, FB_RENAME2, 19, 1);
	fbreq_put(&q, &r2, sizeof(r2));
	fbreq_str(&q, "old");
	fbreq_str(&q, "..");
	expect_error(19, -EINVAL);
	/* SYMLINK: target missing or empty. */
	fbreq_start(&q, FB_SYMLINK, 20, 1);
	fbreq_str(&q, "link");
	expect_error(20, -EINVAL);
	fbreq_start(&q, FB_SYMLINK, 21, 1);
	fbreq_str(&q, "link");
	fbreq_str(&q, "");
	expect_error(21, -EINVAL);
	/* LINK and CREATE: name after the fixed part. */
	fbreq_start(&q, FB_LINK, 22, 1);
	fbreq_put(&q, &li, sizeof(li));
	expect_error(22, -EINVAL);
	fbreq_start(&q, FB_CREATE, 23, 1);
	fbreq_put(&q, &ci, sizeof(ci));
	fbreq_put(&q, "nonul", 5);
	expect_error(23, -EINVAL);
}

TEST(argument_shapes_checked)
{
	/* Per opcode: a well-formed argument area (fixed part zeroed, then the strings), sent
	 * once with a stray byte after it and, for xattr names, once with an empty name. Each
	 * must be refused before the file system runs. */
	static const struct {
		uint32_t opcode;
		size_t fixed;
		const char *str[2]; /* NULL: absent */
	} ok[] = {
		{FB_READLINK, 0, {NULL, NULL}},
		{FB_OPEN, sizeof(struct fb_open_in), {NULL, NULL}},
		{FB_OPENDIR, sizeof(struct fb_open_in), {NULL, NULL}},
		{FB_LISTXATTR, sizeof(struct fb_getxattr_in), {NULL, NULL}},
		{FB_MKNOD, sizeof(struct fb_mknod_in), {"n", NULL}},
		{FB_MKDIR, sizeof(struct fb_mkdir_in), {"n", NULL}},
		{FB_UNLINK, 0, {"n", NULL}},
		{FB_RMDIR, 0, {"n", NULL}},
		{FB_LINK, sizeof(struct fb_link_in), {"n", NULL}},
		{FB_CREATE, sizeof(struct fb_create_in), {"n", NULL}},
		{FB_RENAME, sizeof(struct fb_rename_in), {"a", "b"}},
		{FB_RENAME2, sizeof(struct fb_rename2_in), {"a", "b"}},
		{FB_SYMLINK, 0, {"n", "target"}},
		{FB_GETXATTR, sizeof(struct fb_getxattr_in), {"user.a", NULL}},
		{FB_REMOVEXATTR, 0, {"user.a", NULL}},
		{FB_TMPFILE, sizeof(struct fb_create_in), {"/", NULL}},
	};
	uint64_t unique = 100;

	fresh();
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		fbreq_start(&q, ok[i].opcode, unique, 5);
		fbreq_zero(&q, ok[i].fixed);
		for (int j = 0; j < 2 && ok[i].str[j]; j++)
			fbreq_str(&q, ok[i].str[j]);
		fbreq_put(&q, "x", 1);
		expect_error(unique++, -EINVAL);
		if (ok[i].opcode != FB_GETXATTR && ok[i].opcode != FB_REMOVEXATTR)
			continue;
		fbreq_start(&q, ok[i].opcode, unique, 5);
		fbreq_zero(&q, ok[i].fixed);
		fbreq_str(&q, "");
		expect_error(unique++, -EINVAL);
	}
}

TEST(short_args_every_opcode)
{
	/* Opcodes with a fixed argument: one byte short must be refused before the fs. */
	static const struct {
		uint32_t op;
		size_t size;
	} t[] = {
		{FB_FORGET, 0}, /* no reply: dropped */
		{FB_GETATTR, sizeof(struct fb_getattr_in)},
		{FB_SETATTR, sizeof(struct fb_setattr_in)},
		{FB_MKNOD, sizeof(struct fb_mknod_in)},
		{FB_MKDIR, sizeof(struct fb_mkdir_in)},
		{FB_RENAME, sizeof(struct fb_rename_in)},
		{FB_LINK, sizeof(struct fb_link_in)},
		{FB_OPEN, sizeof(struct fb_open_in)},
		{FB_READ, sizeof(struct fb_read_in)},
		{FB_WRITE, sizeof(struct fb_write_in)},
		{FB_RELEASE, sizeof(struct fb_release_in)},
		{FB_FSYNC, sizeof(struct fb_fsync_in)},
		{FB_SETXATTR, sizeof(struct fb_setxattr_in)},
		{FB_GETXATTR, sizeof(struct fb_getxattr_in)},
		{FB_LISTXATTR, sizeof(struct fb_getxattr_in)},
		{FB_FLUSH, sizeof(struct fb_flush_in)},
		{FB_OPENDIR, sizeof(struct fb_open_in)},
		{FB_READDIR, sizeof(struct fb_read_in)},
		{FB_RELEASEDIR, sizeof(struct fb_release_in)},
		{FB_FSYNCDIR, sizeof(struct fb_fsync_in)},
		{FB_GETLK, sizeof(struct fb_lk_in)},
		{FB_SETLK, sizeof(struct fb_lk_in)},
		{FB_SETLKW, sizeof(struct fb_lk_in)},
		{FB_ACCESS, sizeof(struct fb_access_in)},
		{FB_CREATE, sizeof(struct fb_create_in)},
		{FB_INTERRUPT, sizeof(struct fb_interrupt_in)},
		{FB_BMAP, sizeof(struct fb_bmap_in)},
		{FB_IOCTL, sizeof(struct fb_ioctl_in)},
		{FB_POLL, sizeof(struct fb_poll_in)},
		{FB_FALLOCATE, sizeof(struct fb_fallocate_in)},
		{FB_READDIRPLUS, sizeof(struct fb_read_in)},
		{FB_RENAME2, sizeof(struct fb_rename2_in)},
		{FB_LSEEK, sizeof(struct fb_lseek_in)},
		{FB_COPY_FILE_RANGE, sizeof(struct fb_copy_file_range_in)},
		{FB_SETUPMAPPING, sizeof(struct fb_setupmapping_in)},
		{FB_REMOVEMAPPING, sizeof(struct fb_removemapping_in)},
		{FB_SYNCFS, sizeof(struct fb_syncfs_in)},
		{FB_TMPFILE, sizeof(struct fb_create_in)},
		{FB_STATX, sizeof(struct fb_statx_in)},
		{FB_COPY_FILE_RANGE_64, sizeof(struct fb_copy_file_range_in)},
	};

	fresh();
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		fbreq_start(&q, t[i].op, 24, 5);
		if (t[i].size == 0) {
			fbreq_zero(&q, sizeof(struct fb_forget_in) - 1);
			rec.nforgets = 0;
			CHECK_EQ(fbreq_send(srv, &q, &rep), 0);
			CHECK_EQ(rec.nforgets, 0);
			continue;
		}
		fbreq_zero(&q, t[i].size - 1);
		rec.calls = 0;
		fbreq_send(srv, &q, &rep);
		if (rep.ret != 16 || rep.oh.error != -EINVAL || rec.calls != 0)
			FBT_FAIL("%s: ret %zd error %d calls %d", fb_opcode_name(t[i].op), rep.ret,
				 rep.oh.error, rec.calls);
	}
	/* NOTIFY_REPLY and BATCH_FORGET (no reply) short: dropped, nothing called. */
	fbreq_start(&q, FB_BATCH_FORGET, 25, 0);
	fbreq_zero(&q, 4);
	CHECK_EQ(fbreq_send(srv, &q, &rep), 0);
	CHECK_EQ(rec.nforgets, 0);
	fbreq_start(&q, FB_NOTIFY_REPLY, 26, 0);
	fbreq_zero(&q, 10);
	CHECK_EQ(fbreq_send(srv, &q, &rep), 0);
}

TEST(write_size_checks)
{
	struct fb_write_in in = {.fh = 1, .size = 100};
	uint8_t data[200] = {0};
	struct fb_server_config cfg = {.max_write = 4096};

	fresh();
	/* size says more than the payload. */
	fbreq_start(&q, FB_WRITE, 27, 5);
	fbreq_put(&q, &in, sizeof(in));
	fbreq_put(&q, data, 99);
	expect_error(27, -EINVAL);
	/* size says less. */
	fbreq_start(&q, FB_WRITE, 28, 5);
	fbreq_put(&q, &in, sizeof(in));
	fbreq_put(&q, data, 101);
	expect_error(28, -EINVAL);
	/* Larger than max_write. */
	fb_server_free(srv);
	srv = rec_server(&cfg, 45, FBREQ_ALL_FLAGS, &rep);
	CHECK(srv);
	{
		static uint8_t big[4097];

		in.size = sizeof(big);
		fbreq_start(&q, FB_WRITE, 29, 5);
		fbreq_put(&q, &in, sizeof(in));
		fbreq_put(&q, big, sizeof(big));
		expect_error(29, -EINVAL);
		in.size = 4096;
		fbreq_start(&q, FB_WRITE, 30, 5);
		fbreq_put(&q, &in, sizeof(in));
		fbreq_put(&q, big, 4096);
		fbreq_send(srv, &q, &rep);
		CHECK_EQ(rep.oh.error, 0);
		CHECK_EQ(rec.size, 4096);
	}
}

TEST(write_returning_more_than_size)
{
	struct fb_write_in in = {.fh = 1, .size = 10};

	fresh();
	rec.ret = 11;
	fbreq_start(&q, FB_WRITE, 31, 5);
	fbreq_put(&q, &in, sizeof(in));
	fbreq_put(&q, "0123456789", 10);
	fbreq_send(srv, &q, &rep);
	CHECK_EQ(rep.ret, 16);
	CHECK_EQ(rep.oh.error, -EIO);
}

static void set_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

TEST(bogus_total_extlen)
{
	uint32_t g = 5;

	fresh();
	/* Extensions longer than the arguments. */
	fbreq_start(&q, FB_LOOKUP, 32, 1);
	fbreq_str(&q, "x");
	fbreq_finish(&q);
	q.keep_len = 1;
	fbreq_hdr(&q)->total_extlen = 100;
	expect_error(32, -EINVAL);
	/* An extension whose size runs past the end. */
	fbreq_start(&q, FB_MKDIR, 33, 1);
	fbreq_zero(&q, sizeof(struct fb_mkdir_in));
	fbreq_str(&q, "d");
	fbreq_ext_groups(&q, &g, 1);
	fbreq_finish(&q);
	q.keep_len = 1;
	/* (Extensions follow the name: not aligned, so patch with memcpy.) */
	set_u32(q.buf + q.ext_start, 64);
	expect_error(33, -EINVAL);
	/* A size of 0 (would loop forever if trusted). */
	set_u32(q.buf + q.ext_start, 0);
	expect_error(33, -EINVAL);
	/* Groups count larger than the record. */
	set_u32(q.buf + q.ext_start, 16);
	set_u32(q.buf + q.ext_start + 8, 3);
	expect_error(33, -EINVAL);
	/* total_extlen cutting the name's NUL off. */
	fbreq_start(&q, FB_LOOKUP, 34, 1);
	fbreq_str(&q, "abcdefg"); /* 8 bytes */
	fbreq_finish(&q);
	q.keep_len = 1;
	fbreq_hdr(&q)->total_extlen = 1;
	expect_error(34, -EINVAL);
}

TEST(batch_forget_count_lying)
{
	struct fb_batch_forget_in bi = {.count = 1000};
	struct fb_forget_one one[2] = {{10, 1}, {11, 1}};

	fresh();
	fbreq_start(&q, FB_BATCH_FORGET, 35, 0);
	fbreq_put(&q, &bi, sizeof(bi));
	fbreq_put(&q, one, sizeof(one));
	CHECK_EQ(fbreq_send(srv, &q, &rep), 0);
	/* Only the records present are used. */
	CHECK_EQ(rec.nforgets, 2);
	/* Count smaller than the records: only count of them. */
	bi.count = 1;
	rec.nforgets = 0;
	fbreq_start(&q, FB_BATCH_FORGET, 36, 0);
	fbreq_put(&q, &bi, sizeof(bi));
	fbreq_put(&q, one, sizeof(one));
	CHECK_EQ(fbreq_send(srv, &q, &rep), 0);
	CHECK_EQ(rec.nforgets, 1);
	/* A partial record is not read. */
	bi.count = 2;
	rec.nforgets = 0;
	fbreq_start(&q, FB_BATCH_FORGET, 37, 0);
	fbreq_put(&q, &bi, sizeof(bi));
	fbreq_put(&q, one, sizeof(one) - 1);
	CHECK_EQ(fbreq_send(srv, &q, &rep), 0);
	CHECK_EQ(rec.nforgets, 1);
}

TEST(unknown_opcodes)
{
	static const uint32_t ops[] = {0, 7, 19, 54, 1000, FB_CUSE_INIT, 0xffffffffu};

	fresh();
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		fbreq_start(&q, ops[i], 38, 1);
		fbreq_zero(&q, 16);
		expect_error(38, -ENOSYS);
	}
}

TEST(request_before_init)
{
	struct fb_server *s = NULL;
	struct fb_forget_in fi = {.nlookup = 1};

	rec_reset();
	CHECK_EQ(fb_server_new(&rec_ops, sizeof(rec_ops), NULL, NULL, &s), 0);
	fbreq_start(&q, FB_LOOKUP, 39, 1);
	fbreq_str(&q, "x");
	fbreq_send(s, &q, &rep);
	CHECK_EQ(rep.ret, 16);
	CHECK_EQ(rep.oh.error, -EIO);
	CHECK_EQ(rec.calls, 0);
	/* No-reply requests are dropped. */
	fbreq_start(&q, FB_FORGET, 40, 5);
	fbreq_put(&q, &fi, sizeof(fi));
	CHECK_EQ(fbreq_send(s, &q, &rep), 0);
	CHECK_EQ(rec.nforgets, 0);
	fb_server_free(s);
}

TEST(unique_zero_dropped)
{
	fresh();
	fbreq_start(&q, FB_LOOKUP, 0, 1);
	fbreq_str(&q, "x");
	rec.calls = 0;
	CHECK_EQ(fbreq_send(srv, &q, &rep), 0);
	CHECK_EQ(rec.calls, 0);
}

TEST(positive_and_out_of_range_errno_from_fs)
{
	static const int bad[] = {5, 1, -512, -100000, -2147483647 - 1};

	fresh();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rec.ret = bad[i];
		fbreq_start(&q, FB_UNLINK, 41, 1);
		fbreq_str(&q, "x");
		fbreq_send(srv, &q, &rep);
		CHECK_EQ(rep.ret, 16);
		CHECK_EQ(rep.oh.error, -EIO);
	}
	/* The largest valid errno passes. */
	rec.ret = -511;
	fbreq_send(srv, &q, &rep);
	CHECK_EQ(rep.oh.error, -511);
}

TEST(read_returning_bad_count)
{
	struct fb_read_in in = {.size = 10};

	fresh();
	rec.outlen = 5;
	fbreq_start(&q, FB_READ, 42, 5);
	fbreq_put(&q, &in, sizeof(in));
	/* The fs says 5 but writes nothing: -EIO, and the reply is only a header. */
	rec.ret = 5;
	fbreq_send(srv, &q, &rep);
	CHECK_EQ(rep.ret, 16);
	CHECK_EQ(rep.oh.error, -EIO);
	rec.ret = 0;
	fbreq_send(srv, &q, &rep);
	CHECK_EQ(rep.oh.error, 0);
	CHECK_EQ(rep.ret, 16 + 5);
}

/* Operations that fill a raw buffer and write past it are caught: EIO, logged. */
static int over_readlink(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, char *buf,
			 size_t size)
{
	memset(buf, 'x', size + 1); /* one byte too many */
	return 3;
}

static int over_getxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name,
			 void *buf, size_t size)
{
	if (strcmp(name, "user.ok") == 0) {
		memset(buf, 'y', size); /* exactly the buffer: fine */
		return (int)size;
	}
	memset(buf, 'y', size + 8);
	return 1;
}

TEST(ops_writing_past_their_buffer_get_eio)
{
	static const struct fb_fs_ops ops = {.readlink = over_readlink,
					     .getxattr = over_getxattr};
	struct fb_getxattr_in gi = {.size = 10};
	struct fb_server *s;

	CHECK_OK(fb_server_new(&ops, sizeof(ops), NULL, NULL, &s));
	CHECK_EQ(fbreq_init_session(s, 45, FBREQ_ALL_FLAGS, &rep), 0);
	fbreq_start(&q, FB_READLINK, 2, 5);
	fbreq_send(s, &q, &rep);
	CHECK_EQ(rep.ret, 16);
	CHECK_EQ(rep.oh.error, -EIO);
	/* Through a temporary buffer too (reply memory in 7-byte pieces). */
	rep.split = 7;
	fbreq_send(s, &q, &rep);
	CHECK_EQ(rep.oh.error, -EIO);
	rep.split = 0;
	fbreq_start(&q, FB_GETXATTR, 3, 5);
	fbreq_put(&q, &gi, sizeof(gi));
	fbreq_str(&q, "user.bad");
	fbreq_send(s, &q, &rep);
	CHECK_EQ(rep.oh.error, -EIO);
	fbreq_start(&q, FB_GETXATTR, 4, 5);
	fbreq_put(&q, &gi, sizeof(gi));
	fbreq_str(&q, "user.ok");
	fbreq_send(s, &q, &rep);
	CHECK_EQ(rep.oh.error, 0);
	CHECK_EQ(rep.bodylen, 10);
	fb_server_free(s);
}

TEST(reply_too_big_for_writer)
{
	struct fbrep tiny;
	struct fb_getattr_in in = {0};

	fresh();
	/* Room for the header only: an attr reply does not fit. */
	fbrep_init(&tiny, 16 + 50);
	fbreq_start(&q, FB_GETATTR, 43, 5);
	fbreq_put(&q, &in, sizeof(in));
	fbreq_send(srv, &q, &tiny);
	CHECK_EQ(tiny.ret, 16);
	CHECK_EQ(tiny.oh.error, -ERANGE);
	fbrep_free(&tiny);
	/* Not even a header: -ENOSPC for the caller, nothing written. */
	fbrep_init(&tiny, 15);
	fbreq_send(srv, &q, &tiny);
	CHECK_EQ(tiny.ret, -ENOSPC);
	fbrep_free(&tiny);
	/* A lookup that cannot be answered gives its lookup count back. */
	fbrep_init(&tiny, 16 + 100);
	fbreq_start(&q, FB_LOOKUP, 44, 1);
	fbreq_str(&q, "x");
	rec.nforgets = 0;
	fbreq_send(srv, &q, &tiny);
	CHECK_EQ(tiny.oh.error, -ERANGE);
	CHECK_EQ(rec.nforgets, 1);
	CHECK_EQ(rec.forgets[0][0], 77);
	fbrep_free(&tiny);
}

TEST(entry_ops_with_zero_ino_are_eio)
{
	struct fb_mkdir_in in = {.mode = 0755};

	fresh();
	rec.entry.ino = 0;
	fbreq_start(&q, FB_MKDIR, 45, 1);
	fbreq_put(&q, &in, sizeof(in));
	fbreq_str(&q, "d");
	fbreq_send(srv, &q, &rep);
	CHECK_EQ(rep.oh.error, -EIO);
	/* For LOOKUP it is a negative entry. */
	fbreq_start(&q, FB_LOOKUP, 46, 1);
	fbreq_str(&q, "d");
	fbreq_send(srv, &q, &rep);
	CHECK_EQ(rep.oh.error, 0);
	CHECK_EQ(FBREP_AS(&rep, struct fb_entry_out).nodeid, 0);
}

TEST(xattr_and_ioctl_bounds)
{
	struct fb_setxattr_in si = {.size = 10};
	struct fb_ioctl_in ii = {.in_size = 8, .out_size = 8};

	fresh();
	/* setxattr size disagreeing with the payload. */
	fbreq_start(&q, FB_SETXATTR, 47, 5);
	fbreq_put(&q, &si, sizeof(si));
	fbreq_str(&q, "user.a");
	fbreq_put(&q, "short", 5);
	expect_error(47, -EINVAL);
	/* Empty xattr name. */
	si.size = 1;
	fbreq_start(&q, FB_SETXATTR, 48, 5);
	fbreq_put(&q, &si, sizeof(si));
	fbreq_str(&q, "");
	fbreq_put(&q, "v", 1);
	expect_error(48, -EINVAL);
	/* ioctl in_size disagreeing with the payload, out_size too large. */
	fbreq_start(&q, FB_IOCTL, 49, 5);
	fbreq_put(&q, &ii, sizeof(ii));
	fbreq_put(&q, "1234", 4);
	expect_error(49, -EINVAL);
	ii.in_size = 0;
	ii.out_size = 1 << 20;
	fbreq_start(&q, FB_IOCTL, 50, 5);
	fbreq_put(&q, &ii, sizeof(ii));
	expect_error(50, -EINVAL);
	/* REMOVEMAPPING count lying. */
	{
		struct fb_removemapping_in ri = {.count = 5};

		fbreq_start(&q, FB_REMOVEMAPPING, 51, 0);
		fbreq_put(&q, &ri, sizeof(ri));
		fbreq_zero(&q, 16);
		expect_error(51, -EINVAL);
	}
}

TEST(notify_reply_size_lying_dropped)
{
	struct fb_notify_retrieve_in in = {.size = 100};

	fresh();
	fbreq_start(&q, FB_NOTIFY_REPLY, 52, 5);
	fbreq_put(&q, &in, sizeof(in));
	fbreq_put(&q, "abc", 3);
	CHECK_EQ(fbreq_send(srv, &q, &rep), 0);
	CHECK_EQ(rep.written, 0);
}

TEST_MAIN()
