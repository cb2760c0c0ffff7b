/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Notifications: the bytes handed to the transport, byte by byte, and the version and length
 * checks in front of them.
 */
#include <errno.h>
#include <stdio.h>

#include "harness.h"
#include "fbreq.h"
#include "recfs.h"

static struct fbrep rep;
static uint8_t sent[8192];
static size_t sent_len;
static int sent_count;
static int send_ret;

static int send_notify(void *priv, const struct iovec *iov, int iovcnt)
{
	sent_len = 0;
	sent_count++;
	for (int i = 0; i < iovcnt; i++) {
		if (sent_len + iov[i].iov_len > sizeof(sent))
			return -E2BIG;
		memcpy(sent + sent_len, iov[i].iov_base, iov[i].iov_len);
		sent_len += iov[i].iov_len;
	}
	return send_ret;
}

static const struct fb_transport_ops tops = {.send_notify = send_notify};

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

/* A server with the capturing transport, through INIT at 7.@minor. */
static struct fb_server *server_at(uint32_t minor)
{
	struct fb_server *s = NULL;

	rec_reset();
	if (fb_server_new(&rec_ops, sizeof(rec_ops), NULL, NULL, &s) < 0)
		abort();
	fb_server_set_transport(s, &tops, NULL);
	if (minor && fbreq_init_session(s, minor, FBREQ_ALL_FLAGS, &rep) != 0)
		abort();
	sent_len = 0;
	sent_count = 0;
	send_ret = 0;
	return s;
}

/* Expected message: header then body pieces. */
static uint8_t want[8192];
static size_t want_len;

static void want_start(int32_t code)
{
	struct fb_out_header oh = {.len = 0, .error = code, .unique = 0};

	memcpy(want, &oh, sizeof(oh));
	want_len = sizeof(oh);
}

static void want_put(const void *p, size_t n)
{
	memcpy(want + want_len, p, n);
	want_len += n;
}

static void check_sent(void)
{
	uint32_t len = (uint32_t)want_len;

	memcpy(want, &len, sizeof(len));
	CHECK_EQ(sent_len, want_len);
	CHECK(memcmp(sent, want, want_len) == 0);
}

TEST(inval_inode)
{
	struct fb_server *s = server_at(45);
	struct fb_notify_inval_inode_out o = {.ino = 77, .off = -1, .len = 4096};

	CHECK_EQ(fb_server_notify_inval_inode(s, 77, -1, 4096), 0);
	want_start(FB_NOTIFY_INVAL_INODE);
	want_put(&o, sizeof(o));
	check_sent();
	/* 16 + 24 bytes exactly. */
	CHECK_EQ(sent_len, 40);
	fb_server_free(s);
}

TEST(inval_entry_and_expire_only)
{
	struct fb_server *s = server_at(45);
	struct fb_notify_inval_entry_out o = {.parent = 1, .namelen = 5, .flags = 0};

	CHECK_EQ(fb_server_notify_inval_entry(s, 1, "hello world", 5, 0), 0);
	want_start(FB_NOTIFY_INVAL_ENTRY);
	want_put(&o, sizeof(o));
	want_put("hello", 5);
	want_put("", 1); /* the kernel wants the NUL */
	check_sent();
	o.flags = FB_EXPIRE_ONLY;
	CHECK_EQ(fb_server_notify_inval_entry(s, 1, "hello", 5, FB_EXPIRE_ONLY), 0);
	want_start(FB_NOTIFY_INVAL_ENTRY);
	want_put(&o, sizeof(o));
	want_put("hello", 6);
	check_sent();
	CHECK_ERR(fb_server_notify_inval_entry(s, 1, "x", 1, 0x80), -EINVAL);
	fb_server_free(s);
	/* EXPIRE_ONLY needs 7.38. */
	s = server_at(37);
	CHECK_ERR(fb_server_notify_inval_entry(s, 1, "hello", 5, FB_EXPIRE_ONLY), -ENOSYS);
	CHECK_EQ(sent_count, 0);
	CHECK_EQ(fb_server_notify_inval_entry(s, 1, "hello", 5, 0), 0);
	fb_server_free(s);
}

TEST(name_limits)
{
	struct fb_server *s = server_at(45);
	static char name[1100];

	memset(name, 'n', sizeof(name));
	CHECK_ERR(fb_server_notify_inval_entry(s, 1, name, 1025, 0), -ENAMETOOLONG);
	CHECK_ERR(fb_server_notify_delete(s, 1, 2, name, 1025), -ENAMETOOLONG);
	CHECK_ERR(fb_server_notify_inval_entry(s, 1, name, 0, 0), -EINVAL);
	CHECK_ERR(fb_server_notify_delete(s, 1, 2, NULL, 3), -EINVAL);
	CHECK_EQ(sent_count, 0);
	CHECK_EQ(fb_server_notify_inval_entry(s, 1, name, 1024, 0), 0);
	CHECK_EQ(sent_len, 16 + 16 + 1024 + 1);
	fb_server_free(s);
}

TEST(delete)
{
	struct fb_server *s = server_at(45);
	struct fb_notify_delete_out o = {.parent = 1, .child = 99, .namelen = 3};

	CHECK_EQ(fb_server_notify_delete(s, 1, 99, "abc", 3), 0);
	want_start(FB_NOTIFY_DELETE);
	want_put(&o, sizeof(o));
	want_put("abc", 4);
	check_sent();
	fb_server_free(s);
}

TEST(store)
{
	struct fb_server *s = server_at(45);
	struct fb_notify_store_out o = {.nodeid = 5, .offset = 8192, .size = 6};

	CHECK_EQ(fb_server_notify_store(s, 5, 8192, "stored", 6), 0);
	want_start(FB_NOTIFY_STORE);
	want_put(&o, sizeof(o));
	want_put("stored", 6);
	check_sent();
	CHECK_ERR(fb_server_notify_store(s, 5, 0, NULL, 6), -EINVAL);
	fb_server_free(s);
}

TEST(retrieve)
{
	struct fb_server *s = server_at(45);
	struct fb_notify_retrieve_out o = {
		.notify_unique = 0xfeed, .nodeid = 6, .offset = 100, .size = 4096};

	CHECK_EQ(fb_server_notify_retrieve(s, 6, 100, 4096, 0xfeed), 0);
	want_start(FB_NOTIFY_RETRIEVE);
	want_put(&o, sizeof(o));
	check_sent();
	fb_server_free(s);
}

TEST(poll)
{
	struct fb_server *s = server_at(45);
	struct fb_notify_poll_wakeup_out o = {.kh = 0x1122334455667788ULL};

	CHECK_EQ(fb_server_notify_poll(s, 0x1122334455667788ULL), 0);
	want_start(FB_NOTIFY_POLL);
	want_put(&o, sizeof(o));
	check_sent();
	fb_server_free(s);
}

TEST(resend_inc_epoch_prune_versions)
{
	struct fb_server *s = server_at(45);
	fb_ino_t inos[3] = {10, 20, 30};
	struct fb_notify_prune_out o = {.count = 3};

	CHECK_EQ(fb_server_notify_resend(s), 0);
	want_start(FB_NOTIFY_RESEND);
	check_sent();
	CHECK_EQ(fb_server_notify_inc_epoch(s), 0);
	want_start(FB_NOTIFY_INC_EPOCH);
	check_sent();
	CHECK_EQ(fb_server_notify_prune(s, inos, 3), 0);
	want_start(FB_NOTIFY_PRUNE);
	want_put(&o, sizeof(o));
	want_put(inos, sizeof(inos));
	check_sent();
	CHECK_ERR(fb_server_notify_prune(s, inos, 0), -EINVAL);
	fb_server_free(s);

	s = server_at(44);
	CHECK_EQ(fb_server_notify_inc_epoch(s), 0);
	CHECK_ERR(fb_server_notify_prune(s, inos, 3), -ENOSYS);
	fb_server_free(s);
	s = server_at(43);
	CHECK_ERR(fb_server_notify_inc_epoch(s), -ENOSYS);
	CHECK_EQ(fb_server_notify_resend(s), 0);
	fb_server_free(s);
	s = server_at(39);
	CHECK_ERR(fb_server_notify_resend(s), -ENOSYS);
	CHECK_EQ(sent_count, 0);
	fb_server_free(s);
}

TEST(not_connected)
{
	struct fb_server *s = server_at(0); /* no INIT */
	struct fb_server *t = NULL;

	CHECK_ERR(fb_server_notify_inval_inode(s, 1, 0, 0), -ENOTCONN);
	fb_server_free(s);
	/* INIT done but no transport. */
	rec_reset();
	CHECK_EQ(fb_server_new(&rec_ops, sizeof(rec_ops), NULL, NULL, &t), 0);
	CHECK_EQ(fbreq_init_session(t, 45, FBREQ_ALL_FLAGS, &rep), 0);
	CHECK_ERR(fb_server_notify_poll(t, 1), -ENOTCONN);
	fb_server_free(t);
}

TEST(transport_error_returned)
{
	struct fb_server *s = server_at(45);

	send_ret = -ENOENT;
	CHECK_ERR(fb_server_notify_poll(s, 1), -ENOENT);
	fb_server_free(s);
}

TEST_MAIN()
