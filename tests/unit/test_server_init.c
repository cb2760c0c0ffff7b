/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * INIT negotiation: protocol versions, capability flags against the file system's operations
 * and the transport's caps, limits, reply sizes.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "harness.h"
#include "fbreq.h"
#include "recfs.h"

static struct fbrep rep;

static int setup(void)
{
	fbrep_init(&rep, 0);
	return 0;
}
TEST_SETUP(setup)

static int teardown(void)
{
	fbrep_free(&rep);
	return 0;
}
TEST_TEARDOWN(teardown)

/* Send INIT as a kernel major.minor offering @flags; returns the reply error. */
static int init_as(struct fb_server *s, uint32_t major, uint32_t minor, uint64_t flags)
{
	struct fbreq q = {0};

	fbreq_init_msg(&q, 10, major, minor, 65536, flags);
	fbreq_send(s, &q, &rep);
	fbreq_free(&q);
	return rep.ret >= 16 ? rep.oh.error : -1000;
}

static struct fb_init_out init_out(void)
{
	return FBREP_AS(&rep, struct fb_init_out);
}

static uint64_t out_flags(void)
{
	struct fb_init_out o = init_out();

	return o.flags | ((uint64_t)o.flags2 << 32);
}

static struct fb_server *new_rec(const struct fb_fs_ops *ops, const struct fb_server_config *cfg)
{
	struct fb_server *s = NULL;

	rec_reset();
	if (fb_server_new(ops ? ops : &rec_ops, sizeof(rec_ops), NULL, cfg, &s) < 0)
		return NULL;
	return s;
}

TEST(minor_45_full_reply)
{
	struct fb_server *s = new_rec(NULL, NULL);

	CHECK(s);
	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), 0);
	CHECK_EQ(rep.ret, 16 + 64);
	CHECK_EQ(rep.oh.len, 80);
	CHECK_EQ(rep.oh.unique, 10);
	CHECK_EQ(init_out().major, 7);
	CHECK_EQ(init_out().minor, 45);
	CHECK_EQ(rec.conn.proto_minor, 45);
	CHECK(fb_server_conn(s));
	CHECK_EQ(fb_server_conn(s)->proto_minor, 45);
	fb_server_free(s);
}

TEST(minor_matrix)
{
	static const struct {
		uint32_t minor;
		int err;
		uint32_t negotiated;
	} m[] = {
		{26, -EPROTO, 0}, {27, 0, 27}, {31, 0, 31}, {36, 0, 36},
		{38, 0, 38},	  {40, 0, 40}, {45, 0, 45}, {46, 0, 45},
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		struct fb_server *s = new_rec(NULL, NULL);

		CHECK(s);
		CHECK_EQ(init_as(s, 7, m[i].minor, FBREQ_ALL_FLAGS), m[i].err);
		if (m[i].err) {
			CHECK_EQ(rep.ret, 16);
			CHECK(fb_server_conn(s) == NULL);
			CHECK_EQ(rec.calls, 0); /* init() never ran */
		} else {
			/* From 7.23 on the reply is the full 64-byte structure. */
			CHECK_EQ(rep.ret, 80);
			CHECK_EQ(init_out().minor, 45);
			CHECK_EQ(fb_server_conn(s)->proto_minor, m[i].negotiated);
			CHECK_EQ(rec.conn.proto_minor, m[i].negotiated);
		}
		fb_server_free(s);
	}
}

TEST(major_8_answers_version_and_waits)
{
	struct fb_server *s = new_rec(NULL, NULL);

	CHECK_EQ(init_as(s, 8, 1, FBREQ_ALL_FLAGS), 0);
	CHECK_EQ(rep.ret, 16 + 8); /* major and minor only */
	CHECK_EQ(init_out().major, 7);
	CHECK_EQ(init_out().minor, 45);
	CHECK(fb_server_conn(s) == NULL);
	CHECK_EQ(rec.calls, 0);
	/* The kernel retries with our major: that INIT is accepted. */
	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), 0);
	CHECK_EQ(rep.ret, 80);
	CHECK(fb_server_conn(s) != NULL);
	fb_server_free(s);
}

TEST(major_6_refused)
{
	struct fb_server *s = new_rec(NULL, NULL);

	CHECK_EQ(init_as(s, 6, 45, 0), -EPROTO);
	CHECK(fb_server_conn(s) == NULL);
	fb_server_free(s);
}

TEST(second_init_is_eio)
{
	struct fb_server *s = new_rec(NULL, NULL);

	CHECK_EQ(init_as(s, 7, 40, FBREQ_ALL_FLAGS), 0);
	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), -EIO);
	CHECK_EQ(fb_server_conn(s)->proto_minor, 40); /* unchanged */
	fb_server_free(s);
}

TEST(init_refused_by_fs_stays_waiting)
{
	struct fb_server *s = new_rec(NULL, NULL);

	rec.ret = -EPERM;
	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), -EPERM);
	CHECK(fb_server_conn(s) == NULL);
	rec.ret = 0;
	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), 0);
	CHECK(fb_server_conn(s) != NULL);
	fb_server_free(s);
}

TEST(init_positive_from_fs_is_eio)
{
	struct fb_server *s = new_rec(NULL, NULL);

	rec.ret = 5;
	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), -EIO);
	fb_server_free(s);
}

TEST(default_flags_full_fs)
{
	struct fb_server *s = new_rec(NULL, NULL);
	uint64_t f;

	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), 0);
	f = out_flags();
	CHECK(f & FB_ASYNC_READ);
	CHECK(f & FB_BIG_WRITES);
	CHECK(f & FB_DONT_MASK);
	CHECK(f & FB_MAX_PAGES);
	CHECK(f & FB_INIT_EXT);
	CHECK(f & FB_POSIX_LOCKS);
	CHECK(f & FB_FLOCK_LOCKS);
	CHECK(f & FB_DO_READDIRPLUS);
	CHECK(f & FB_READDIRPLUS_AUTO);
	CHECK(f & FB_HAS_RESEND);
	CHECK(f & FB_NO_EXPORT_SUPPORT);
	CHECK(f & FB_CREATE_SUPP_GROUP);
	CHECK(!(f & FB_EXPORT_SUPPORT));
	/* Not without a transport that can do them. */
	CHECK(!(f & FB_PASSTHROUGH));
	CHECK(!(f & FB_OVER_IO_URING));
	CHECK(!(f & FB_SPLICE_READ));
	/* Left for the file system to ask for. */
	CHECK(!(f & FB_WRITEBACK_CACHE));
	CHECK(!(f & FB_SECURITY_CTX));
	/* open and opendir exist: the kernel must send them. */
	CHECK(!(f & FB_NO_OPEN_SUPPORT));
	/* init() saw what it may turn on. */
	CHECK(rec.conn.capable & FB_WRITEBACK_CACHE);
	CHECK(rec.conn.capable & FB_SECURITY_CTX);
	CHECK(!(rec.conn.capable & FB_PASSTHROUGH));
	CHECK_EQ(rec.conn.want & ~rec.conn.capable, 0);
	fb_server_free(s);
}

TEST(flags_follow_fs_ops)
{
	struct fb_fs_ops ops = rec_ops;
	struct fb_server *s;
	uint64_t f;

	ops.setlk = NULL;
	ops.flock = NULL;
	ops.readdirplus = NULL;
	ops.ioctl = NULL;
	ops.open = NULL;
	ops.opendir = NULL;
	s = new_rec(&ops, NULL);
	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), 0);
	f = out_flags();
	CHECK(!(f & FB_POSIX_LOCKS));
	CHECK(!(f & FB_FLOCK_LOCKS));
	CHECK(!(f & FB_DO_READDIRPLUS));
	CHECK(!(f & FB_READDIRPLUS_AUTO));
	CHECK(!(f & FB_HAS_IOCTL_DIR));
	CHECK(f & FB_NO_OPEN_SUPPORT);
	CHECK(f & FB_NO_OPENDIR_SUPPORT);
	CHECK(!(rec.conn.capable & FB_POSIX_LOCKS));
	fb_server_free(s);

	/* readdirplus without readdir: no READDIRPLUS_AUTO. */
	ops = rec_ops;
	ops.readdir = NULL;
	s = new_rec(&ops, NULL);
	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), 0);
	CHECK(out_flags() & FB_DO_READDIRPLUS);
	CHECK(!(out_flags() & FB_READDIRPLUS_AUTO));
	fb_server_free(s);
}

TEST(flags_only_what_kernel_offers)
{
	struct fb_server *s = new_rec(NULL, NULL);

	CHECK_EQ(init_as(s, 7, 45, FB_ASYNC_READ | FB_POSIX_LOCKS), 0);
	CHECK_EQ(out_flags(), FB_ASYNC_READ | FB_POSIX_LOCKS);
	CHECK_EQ(init_out().flags2, 0);
	fb_server_free(s);
}

TEST(high_flags_need_init_ext)
{
	struct fb_server *s = new_rec(NULL, NULL);
	struct fb_transport_ops t = {.caps = FB_PASSTHROUGH | FB_OVER_IO_URING};

	/* Bits 32+ offered without INIT_EXT: flags2 is not read. */
	fb_server_set_transport(s, &t, NULL);
	rec.init_set = FB_PASSTHROUGH;
	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS & ~FB_INIT_EXT), 0);
	CHECK_EQ(init_out().flags2, 0);
	CHECK(!(init_out().flags & FB_INIT_EXT));
	CHECK(!(rec.conn.capable & FB_PASSTHROUGH));
	CHECK_EQ(init_out().max_stack_depth, 0);
	fb_server_free(s);
}

TEST(transport_caps_gate_passthrough_and_uring)
{
	struct fb_transport_ops t = {.caps = FB_PASSTHROUGH | FB_OVER_IO_URING};
	struct fb_server *s = new_rec(NULL, NULL);

	fb_server_set_transport(s, &t, NULL);
	rec.init_set = FB_PASSTHROUGH;
	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), 0);
	CHECK(out_flags() & FB_PASSTHROUGH);
	CHECK(out_flags() & FB_OVER_IO_URING);
	CHECK(init_out().flags & FB_INIT_EXT);
	/* max_stack_depth only with PASSTHROUGH; 0 from the fs becomes 1. */
	CHECK_EQ(init_out().max_stack_depth, 1);
	fb_server_free(s);

	/* Same fs asking for passthrough, transport without it. */
	s = new_rec(NULL, NULL);
	rec.init_set = FB_PASSTHROUGH | FB_OVER_IO_URING;
	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), 0);
	CHECK(!(out_flags() & FB_PASSTHROUGH));
	CHECK(!(out_flags() & FB_OVER_IO_URING));
	CHECK_EQ(init_out().max_stack_depth, 0);
	fb_server_free(s);

	/* Transport can, kernel (7.39) cannot. */
	s = new_rec(NULL, NULL);
	fb_server_set_transport(s, &t, NULL);
	rec.init_set = FB_PASSTHROUGH;
	CHECK_EQ(init_as(s, 7, 39, FBREQ_ALL_FLAGS & ~(FB_PASSTHROUGH | FB_OVER_IO_URING)), 0);
	CHECK(!(out_flags() & FB_PASSTHROUGH));
	fb_server_free(s);
}

/* No transport moves data with splice: the flags are never offered nor enabled, whatever a
 * transport's caps or the file system's init() say. */
TEST(splice_flags_are_never_negotiated)
{
	const uint64_t splice = FB_SPLICE_WRITE | FB_SPLICE_MOVE | FB_SPLICE_READ;
	struct fb_transport_ops t = {.caps = splice};
	struct fb_server *s = new_rec(NULL, NULL);

	fb_server_set_transport(s, &t, NULL);
	rec.init_set = splice;
	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), 0);
	CHECK(!(rec.conn.capable & splice));
	CHECK(!(out_flags() & splice));
	fb_server_free(s);
}

TEST(fs_init_adds_and_removes)
{
	struct fb_server *s = new_rec(NULL, NULL);

	rec.init_set = FB_WRITEBACK_CACHE | FB_EXPORT_SUPPORT | FB_HAS_INODE_DAX;
	rec.init_clear = FB_ASYNC_READ;
	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), 0);
	CHECK(out_flags() & FB_WRITEBACK_CACHE);
	CHECK(out_flags() & FB_EXPORT_SUPPORT); /* the file system answers "." and ".." */
	CHECK(!(out_flags() & FB_HAS_INODE_DAX)); /* no DAX transport */
	CHECK(!(out_flags() & FB_ASYNC_READ));
	fb_server_free(s);
}

TEST(config_disable)
{
	struct fb_server_config cfg = {.disable = FB_ASYNC_READ | FB_WRITEBACK_CACHE};
	struct fb_server *s = new_rec(NULL, &cfg);

	rec.init_set = FB_WRITEBACK_CACHE;
	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), 0);
	CHECK(!(out_flags() & FB_ASYNC_READ));
	CHECK(!(out_flags() & FB_WRITEBACK_CACHE));
	fb_server_free(s);
}

TEST(security_ctx_from_38_only)
{
	struct fb_server *s = new_rec(NULL, NULL);

	rec.init_set = FB_SECURITY_CTX;
	CHECK_EQ(init_as(s, 7, 37, FBREQ_ALL_FLAGS), 0);
	CHECK(!(out_flags() & FB_SECURITY_CTX));
	CHECK(!(out_flags() & FB_CREATE_SUPP_GROUP));
	fb_server_free(s);
	s = new_rec(NULL, NULL);
	rec.init_set = FB_SECURITY_CTX;
	CHECK_EQ(init_as(s, 7, 38, FBREQ_ALL_FLAGS), 0);
	CHECK(out_flags() & FB_SECURITY_CTX);
	fb_server_free(s);
}

TEST(max_write_and_pages)
{
	uint32_t pg = (uint32_t)sysconf(_SC_PAGESIZE);
	struct fb_server_config cfg = {.max_write = 300000};
	struct fb_server *s = new_rec(NULL, &cfg);

	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), 0);
	CHECK_EQ(init_out().max_write, 300000);
	CHECK_EQ(init_out().max_pages, (300000 + pg - 1) / pg);
	CHECK(init_out().flags & FB_MAX_PAGES);
	CHECK_EQ(fb_server_conn(s)->max_write, 300000);
	fb_server_free(s);

	/* Without MAX_PAGES the kernel sends 32 pages at most. */
	s = new_rec(NULL, &cfg);
	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS & ~FB_MAX_PAGES), 0);
	CHECK_EQ(init_out().max_write, 32 * pg);
	CHECK_EQ(init_out().max_pages, 0);
	fb_server_free(s);

	/* Default 1 MiB. */
	s = new_rec(NULL, NULL);
	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), 0);
	CHECK_EQ(init_out().max_write, 1 << 20);
	CHECK_EQ(init_out().max_pages, (1 << 20) / pg);
	fb_server_free(s);

	/* The fs may lower max_write, not raise it above the configuration. */
	s = new_rec(NULL, &cfg);
	rec.init_max_write = 8192;
	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), 0);
	CHECK_EQ(init_out().max_write, 8192);
	fb_server_free(s);
	s = new_rec(NULL, &cfg);
	rec.init_max_write = 4 << 20;
	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), 0);
	CHECK_EQ(init_out().max_write, 300000);
	fb_server_free(s);
}

TEST(limits)
{
	struct fb_server_config cfg = {
		.max_readahead = 1 << 20, /* more than the kernel's 65536 */
		.max_background = 100,
		.time_gran = 1000,
	};
	struct fb_server *s = new_rec(NULL, &cfg);

	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), 0);
	CHECK_EQ(init_out().max_readahead, 65536);
	CHECK_EQ(init_out().max_background, 100);
	CHECK_EQ(init_out().congestion_threshold, 75);
	CHECK_EQ(init_out().time_gran, 1000);
	CHECK_EQ(init_out().map_alignment, 0);
	CHECK_EQ(init_out().request_timeout, 0);
	fb_server_free(s);

	cfg.max_readahead = 4096;
	s = new_rec(NULL, &cfg);
	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), 0);
	CHECK_EQ(init_out().max_readahead, 4096);
	fb_server_free(s);
}

TEST(request_timeout)
{
	struct fb_server *s = new_rec(NULL, NULL);

	rec.init_timeout = 30;
	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), 0);
	CHECK_EQ(init_out().request_timeout, 30);
	CHECK(out_flags() & FB_REQUEST_TIMEOUT);
	fb_server_free(s);

	/* A 7.42 kernel does not know it. */
	s = new_rec(NULL, NULL);
	rec.init_timeout = 30;
	CHECK_EQ(init_as(s, 7, 42, FBREQ_ALL_FLAGS & ~FB_REQUEST_TIMEOUT), 0);
	CHECK_EQ(init_out().request_timeout, 0);
	CHECK(!(out_flags() & FB_REQUEST_TIMEOUT));
	fb_server_free(s);
}

TEST(bad_config_refused)
{
	struct fb_server_config cfg = {.max_write = 32 << 20};
	struct fb_server *s = NULL;

	CHECK_ERR(fb_server_new(&rec_ops, sizeof(rec_ops), NULL, &cfg, &s), -EINVAL);
	CHECK(s == NULL);
	cfg.max_write = 0;
	cfg.time_gran = 2000000000u;
	CHECK_ERR(fb_server_new(&rec_ops, sizeof(rec_ops), NULL, &cfg, &s), -EINVAL);
	CHECK_ERR(fb_server_new(NULL, 0, NULL, NULL, &s), -EINVAL);
	CHECK(s == NULL);
}

TEST(short_ops_table)
{
	/* An older table that ends before readdirplus: its entries count as NULL. */
	struct fb_server *s = NULL;
	size_t size = offsetof(struct fb_fs_ops, readdirplus);

	rec_reset();
	CHECK_EQ(fb_server_new(&rec_ops, size, NULL, NULL, &s), 0);
	CHECK_EQ(init_as(s, 7, 45, FBREQ_ALL_FLAGS), 0);
	CHECK(!(out_flags() & FB_DO_READDIRPLUS));
	fb_server_free(s);
}

TEST(buffer_sizes)
{
	struct fb_server_config cfg = {.max_write = 128 * 1024};
	struct fb_server *s = new_rec(NULL, &cfg);

	CHECK(fb_server_request_max(s) >= 40 + 40 + 128 * 1024);
	CHECK(fb_server_reply_max(s) >= 16 + 128 * 1024);
	CHECK(fb_server_request_max(s) >= FB_MIN_READ_BUFFER);
	CHECK(fb_server_reply_max(s) >= FB_MIN_READ_BUFFER);
	fb_server_free(s);
	cfg.max_write = 4096;
	s = new_rec(NULL, &cfg);
	CHECK(fb_server_request_max(s) >= FB_MIN_READ_BUFFER);
	/* A SETXATTR with a 64 KiB value must fit too. */
	CHECK(fb_server_request_max(s) >= 40 + 16 + 65536);
	CHECK(fb_server_reply_max(s) >= 16 + 65536);
	fb_server_free(s);
}

TEST(init_short_args)
{
	struct fb_server *s = new_rec(NULL, NULL);
	struct fbreq q = {0};
	struct fb_init_in in = {.major = 7, .minor = 45};

	fbreq_start(&q, FB_INIT, 3, 0);
	fbreq_put(&q, &in, 4);
	fbreq_send(s, &q, &rep);
	CHECK_EQ(rep.oh.error, -EINVAL);
	fbreq_start(&q, FB_INIT, 3, 0);
	fbreq_put(&q, &in, 12);
	fbreq_send(s, &q, &rep);
	CHECK_EQ(rep.oh.error, -EINVAL);
	CHECK(fb_server_conn(s) == NULL);
	fbreq_free(&q);
	fb_server_free(s);
}

TEST_MAIN()
