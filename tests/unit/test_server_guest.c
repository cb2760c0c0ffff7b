/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The server below a guest (virtio-fs): the transport table by size and its FB_TRANSPORT_*
 * flags, shared readers copied before they are checked, sessions that restart on a live
 * connection, fb_server_peek() and the DAX calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "harness.h"
#include "fbreq.h"

/* ---- a small file system that checks what it is given -------------------------------------- */

static struct {
	atomic_int inits, destroys, lookups, getattrs, setlks, flocks, maps;
	atomic_int live;	/* between init() and destroy() */
	atomic_int violations;	/* an operation ran outside a session */
	uint8_t *shared;	/* the request memory a test hands out as shared (to scribble on) */
	size_t shared_len;
	char name[64];		/* what lookup / mkdir got */
	int name_inside;	/* the name pointer pointed into the shared memory */
	mode_t mode;
	char secname[64];
	int secname_inside;
	uint32_t pid;
	int interrupted;
	int map_ret;
} g;

static void g_reset(void)
{
	memset(&g, 0, sizeof(g));
}

static int inside_shared(const void *p)
{
	const uint8_t *b = p;

	return g.shared && b >= g.shared && b < g.shared + g.shared_len;
}

/* The peer changes the request while the operation runs. */
static void scribble(void)
{
	if (g.shared)
		memset(g.shared + sizeof(struct fb_in_header), 'X',
		       g.shared_len - sizeof(struct fb_in_header));
}

static int t_init(void *fs, struct fb_conn *c)
{
	(void)fs;
	(void)c;
	g.inits++;
	g.live = 1;
	return 0;
}

static void t_destroy(void *fs)
{
	(void)fs;
	g.destroys++;
	g.live = 0;
}

static void check_live(void)
{
	if (!g.live)
		g.violations++;
}

static int t_lookup(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		    struct fb_entry *out)
{
	(void)fs;
	(void)parent;
	check_live();
	g.lookups++;
	g.pid = ctx->pid;
	g.interrupted = fb_ctx_interrupted(ctx);
	g.name_inside = inside_shared(name);
	scribble();
	snprintf(g.name, sizeof(g.name), "%s", name);
	memset(out, 0, sizeof(*out));
	return -ENOENT;
}

static int t_getattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino,
		     const struct fb_file_info *fi, struct stat *out, double *timeout)
{
	(void)fs;
	(void)ctx;
	(void)fi;
	(void)timeout;
	check_live();
	g.getattrs++;
	memset(out, 0, sizeof(*out));
	out->st_ino = ino;
	out->st_mode = S_IFDIR | 0755;
	out->st_nlink = 2;
	check_live();
	return 0;
}

static int t_mkdir(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		   mode_t mode, struct fb_entry *out)
{
	(void)fs;
	(void)parent;
	(void)out;
	g.name_inside = inside_shared(name);
	g.secname_inside = ctx->secctx_name && inside_shared(ctx->secctx_name);
	scribble();
	snprintf(g.name, sizeof(g.name), "%s", name);
	snprintf(g.secname, sizeof(g.secname), "%s", ctx->secctx_name ? ctx->secctx_name : "");
	g.mode = mode;
	return -EPERM;
}

static int t_setlk(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		   const struct fb_lock *lk, int sleep)
{
	(void)fs;
	(void)ctx;
	(void)ino;
	(void)fh;
	(void)owner;
	(void)lk;
	(void)sleep;
	g.setlks++;
	return 0;
}

static int t_flock(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		   int op)
{
	(void)fs;
	(void)ctx;
	(void)ino;
	(void)fh;
	(void)owner;
	(void)op;
	g.flocks++;
	return 0;
}

static int t_setupmapping(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			  uint64_t foffset, uint64_t len, uint64_t flags, uint64_t moffset)
{
	(void)fs;
	(void)ino;
	(void)fh;
	g.maps++;
	g.map_ret = fb_ctx_dax_map(ctx, 0, foffset, moffset, len, flags);
	return g.map_ret;
}

static int t_removemapping(void *fs, const struct fb_ctx *ctx, const struct fb_mapping *ranges,
			   uint32_t count)
{
	(void)fs;
	for (uint32_t i = 0; i < count; i++) {
		int r = fb_ctx_dax_unmap(ctx, ranges[i].moffset, ranges[i].len);

		if (r < 0)
			return r;
	}
	return 0;
}

static const struct fb_fs_ops t_ops = {
	.init = t_init,
	.destroy = t_destroy,
	.lookup = t_lookup,
	.getattr = t_getattr,
	.mkdir = t_mkdir,
	.setlk = t_setlk,
	.flock = t_flock,
	.setupmapping = t_setupmapping,
	.removemapping = t_removemapping,
};

/* ---- a transport ---------------------------------------------------------------------------- */

static struct {
	int maps, unmaps;
	int fd;
	uint64_t foffset, moffset, len, flags;
} tr;

static int tr_dax_map(void *priv, int fd, uint64_t foffset, uint64_t moffset, uint64_t len,
		      uint64_t flags)
{
	(void)priv;
	tr.maps++;
	tr.fd = fd;
	tr.foffset = foffset;
	tr.moffset = moffset;
	tr.len = len;
	tr.flags = flags;
	return 0;
}

static int tr_dax_unmap(void *priv, uint64_t moffset, uint64_t len)
{
	(void)priv;
	tr.unmaps++;
	tr.moffset = moffset;
	tr.len = len;
	return 0;
}

#define GUEST_FLAGS                                                                                \
	(FB_TRANSPORT_FOREIGN_PIDS | FB_TRANSPORT_NO_INTERRUPT | FB_TRANSPORT_RESTART |            \
	 FB_TRANSPORT_REPLY_ALWAYS)

static struct fbrep rep;
static struct fbreq q;

/* A server over t_ops with a transport of @flags (no transport when @flags is ~0u). */
static struct fb_server *server(uint32_t flags)
{
	struct fb_transport_ops t = {.size = sizeof(t), .flags = flags};
	struct fb_server *s = NULL;

	g_reset();
	if (fb_server_new(&t_ops, sizeof(t_ops), NULL, NULL, &s) < 0)
		abort();
	if (flags != ~0u)
		fb_server_set_transport(s, &t, NULL); /* copied: t may go */
	return s;
}

static int init(struct fb_server *s, uint32_t minor)
{
	return fbreq_init_session(s, minor, FBREQ_ALL_FLAGS, &rep);
}

static ssize_t lookup(struct fb_server *s, uint64_t unique, const char *name)
{
	fbreq_start(&q, FB_LOOKUP, unique, FB_ROOT_ID);
	fbreq_str(&q, name);
	return fbreq_send(s, &q, &rep);
}

static ssize_t getattr(struct fb_server *s, uint64_t unique)
{
	struct fb_getattr_in gi = {0};

	fbreq_start(&q, FB_GETATTR, unique, FB_ROOT_ID);
	fbreq_put(&q, &gi, sizeof(gi));
	return fbreq_send(s, &q, &rep);
}

static ssize_t simple(struct fb_server *s, uint32_t opcode, uint64_t unique)
{
	fbreq_start(&q, opcode, unique, FB_ROOT_ID);
	return fbreq_send(s, &q, &rep);
}

/* Send @q as a shared reader over one buffer the fs may scribble on. */
static ssize_t send_shared(struct fb_server *s, struct fbreq *rq)
{
	struct fb_reader r;
	struct fb_writer w;
	struct iovec rv, wv = {rep.buf, rep.cap};

	fbreq_finish(rq);
	rv.iov_base = rq->buf;
	rv.iov_len = rq->len;
	g.shared = rq->buf;
	g.shared_len = rq->len;
	fb_reader_init_shared(&r, &rv, 1);
	fb_writer_init(&w, &wv, 1);
	rep.ret = fb_server_handle(s, &r, &w);
	memcpy(&rep.oh, rep.buf, sizeof(rep.oh));
	g.shared = NULL;
	return rep.ret;
}

/* ---- the transport table -------------------------------------------------------------------- */

TEST(transport_table_is_copied)
{
	struct fb_transport_ops t = {.size = sizeof(t), .caps = FB_OVER_IO_URING};
	struct fb_server *s = server(~0u);
	struct fb_init_out out;

	fb_server_set_transport(s, &t, NULL);
	/* the caller's table changes after the call: the server does not see it */
	t.caps = 0;
	t.flags = FB_TRANSPORT_FOREIGN_PIDS;
	CHECK_EQ(init(s, 45), 0);
	out = FBREP_AS(&rep, struct fb_init_out);
	CHECK(out.flags2 & (FB_OVER_IO_URING >> 32));
	lookup(s, 2, "a");
	CHECK_EQ(g.pid, FBREQ_PID);
	fb_server_free(s);
}

TEST(transport_table_shorter_larger_and_without_size)
{
	/* a table that ends before `flags`: the flags in memory after it are not read */
	struct fb_transport_ops t = {.size = offsetof(struct fb_transport_ops, flags),
				     .flags = FB_TRANSPORT_FOREIGN_PIDS};
	struct {
		struct fb_transport_ops t;
		uint64_t newer[4];
	} big = {.t = {.size = sizeof(big), .flags = FB_TRANSPORT_FOREIGN_PIDS}};
	struct fb_transport_ops zero = {.flags = FB_TRANSPORT_FOREIGN_PIDS};
	struct fb_server *s = server(~0u);

	fb_server_set_transport(s, &t, NULL);
	CHECK_EQ(init(s, 45), 0);
	lookup(s, 2, "a");
	CHECK_EQ(g.pid, FBREQ_PID);
	/* a longer table (a newer header): what we know is used */
	fb_server_set_transport(s, &big.t, NULL);
	lookup(s, 3, "a");
	CHECK_EQ(g.pid, 0);
	/* size 0: a table of the first versioned layout */
	fb_server_set_transport(s, &zero, NULL);
	lookup(s, 4, "a");
	CHECK_EQ(g.pid, 0);
	/* NULL: no transport */
	fb_server_set_transport(s, NULL, NULL);
	lookup(s, 5, "a");
	CHECK_EQ(g.pid, FBREQ_PID);
	CHECK_ERR(fb_server_notify_inc_epoch(s), -ENOTCONN);
	fb_server_free(s);
}

TEST(dax_flags_only_from_a_transport_with_a_window)
{
	struct fb_transport_ops t = {.size = sizeof(t),
				     .caps = FB_MAP_ALIGNMENT | FB_HAS_INODE_DAX,
				     .dax_map = tr_dax_map,
				     .dax_unmap = tr_dax_unmap};
	uint64_t dax = FB_MAP_ALIGNMENT | FB_HAS_INODE_DAX;
	struct fb_server *s = server(0);
	struct fb_init_out out;

	/* offered by the kernel, but the transport has no window */
	CHECK_EQ(init(s, 45), 0);
	out = FBREP_AS(&rep, struct fb_init_out);
	CHECK_EQ((out.flags | (uint64_t)out.flags2 << 32) & dax, 0);
	CHECK_EQ(out.map_alignment, 0);
	CHECK_EQ(fb_server_conn(s)->capable & dax, 0);
	fb_server_free(s);

	s = server(~0u);
	fb_server_set_transport(s, &t, NULL);
	CHECK_EQ(init(s, 45), 0);
	out = FBREP_AS(&rep, struct fb_init_out);
	CHECK(out.flags & FB_MAP_ALIGNMENT);
	CHECK_EQ(1u << out.map_alignment, (unsigned int)sysconf(_SC_PAGESIZE));
	CHECK_EQ(fb_server_conn(s)->capable & dax, dax);
	fb_server_free(s);
}

/* ---- shared readers ------------------------------------------------------------------------- */

TEST(shared_request_is_decoded_from_a_copy)
{
	struct fb_server *s = server(0);
	struct fbreq sq = {0};

	CHECK_EQ(init(s, 45), 0);
	fbreq_start(&sq, FB_LOOKUP, 2, FB_ROOT_ID);
	fbreq_str(&sq, "name-as-checked");
	CHECK_EQ(send_shared(s, &sq), 16);
	CHECK_EQ(rep.oh.error, -ENOENT);
	CHECK_EQ(g.lookups, 1);
	CHECK(!g.name_inside);
	CHECK_STR(g.name, "name-as-checked");

	/* a private reader over one buffer is still decoded in place (no copy) */
	g.shared = q.buf;
	fbreq_start(&q, FB_LOOKUP, 3, FB_ROOT_ID);
	fbreq_str(&q, "in-place");
	g.shared = q.buf;
	g.shared_len = q.len;
	{
		struct fb_reader r;
		struct fb_writer w;
		struct iovec rv = {q.buf, q.len}, wv = {rep.buf, rep.cap};

		fbreq_finish(&q);
		fb_reader_init(&r, &rv, 1);
		fb_writer_init(&w, &wv, 1);
		CHECK_EQ(fb_server_handle(s, &r, &w), 16);
	}
	g.shared = NULL;
	CHECK(g.name_inside);
	fbreq_free(&sq);
	fb_server_free(s);
}

TEST(shared_arguments_and_extensions_are_copied)
{
	struct fb_server *s = server(0);
	struct fb_mkdir_in mi = {.mode = S_IFDIR | 0750, .umask = 022};
	static char longname[900];
	struct fbreq sq = {0};

	CHECK_EQ(init(s, 45), 0);
	fbreq_start(&sq, FB_MKDIR, 2, FB_ROOT_ID);
	fbreq_put(&sq, &mi, sizeof(mi));
	fbreq_str(&sq, "dir");
	fbreq_ext_secctx(&sq, "security.selinux", "ctx", 4);
	CHECK_EQ(send_shared(s, &sq), 16);
	CHECK_EQ(rep.oh.error, -EPERM);
	CHECK(!g.name_inside);
	CHECK(!g.secname_inside);
	CHECK_STR(g.name, "dir");
	CHECK_STR(g.secname, "security.selinux");
	CHECK_EQ(g.mode, S_IFDIR | 0750);

	/* bigger than the request's own buffer: copied to the heap (ASan checks the free) */
	memset(longname, 'n', sizeof(longname) - 1);
	fbreq_start(&sq, FB_MKDIR, 3, FB_ROOT_ID);
	fbreq_put(&sq, &mi, sizeof(mi));
	fbreq_str(&sq, longname);
	fbreq_ext_secctx(&sq, "security.selinux", "ctx", 4);
	CHECK_EQ(send_shared(s, &sq), 16);
	CHECK_EQ(rep.oh.error, -EPERM);
	CHECK(!g.name_inside);
	CHECK(!g.secname_inside);
	CHECK(strncmp(g.name, longname, sizeof(g.name) - 1) == 0);
	fbreq_free(&sq);
	fb_server_free(s);
}

/* ---- sessions ------------------------------------------------------------------------------- */

TEST(without_restart_init_again_is_eio_and_destroy_ends)
{
	struct fb_server *s = server(0);

	CHECK_EQ(init(s, 45), 0);
	CHECK_EQ(init(s, 45), -EIO);
	CHECK_EQ(g.destroys, 0);
	CHECK_EQ(simple(s, FB_DESTROY, 9), -ENODEV);
	CHECK_EQ(g.destroys, 1);
	CHECK(fb_server_destroyed(s));
	CHECK_EQ(getattr(s, 10), -ENODEV);
	CHECK_EQ(g.getattrs, 0);
	fb_server_free(s);
}

TEST(reset_ends_the_session_and_forgets_interrupts)
{
	struct fb_server *s = server(0);
	struct fb_interrupt_in ii = {.unique = 77};

	CHECK_EQ(init(s, 45), 0);
	/* an INTERRUPT for a request not seen yet is remembered... */
	fbreq_start(&q, FB_INTERRUPT, 5, 0);
	fbreq_put(&q, &ii, sizeof(ii));
	fbreq_send(s, &q, &rep);
	fb_server_reset(s);
	CHECK_EQ(g.destroys, 1);
	CHECK(fb_server_conn(s) == NULL);
	CHECK(!fb_server_destroyed(s));
	CHECK_EQ(getattr(s, 6), 16);
	CHECK_EQ(rep.oh.error, -EIO); /* before INIT */
	CHECK_EQ(init(s, 40), 0);
	CHECK_EQ(fb_server_conn(s)->proto_minor, 40);
	/* ...but not across sessions */
	CHECK_EQ(lookup(s, 77, "x"), 16);
	CHECK_EQ(g.interrupted, 0);
	/* a reset before INIT calls nobody */
	fb_server_reset(s);
	fb_server_reset(s);
	CHECK_EQ(g.destroys, 2);
	fb_server_free(s);
}

TEST(restart_init_while_ready_starts_a_new_session)
{
	struct fb_server *s = server(FB_TRANSPORT_RESTART);

	CHECK_EQ(init(s, 45), 0);
	CHECK_EQ(g.inits, 1);
	CHECK_EQ(lookup(s, 2, "a"), 16);
	/* the guest rebooted: a new INIT, no DESTROY */
	CHECK_EQ(init(s, 38), 0);
	CHECK_EQ(g.destroys, 1);
	CHECK_EQ(g.inits, 2);
	CHECK_EQ(fb_server_conn(s)->proto_minor, 38);
	CHECK_EQ(getattr(s, 3), 16 + sizeof(struct fb_attr_out));
	CHECK_EQ(g.violations, 0);
	fb_server_free(s);
}

TEST(restart_destroy_replies_and_waits_for_init)
{
	struct fb_server *s = server(FB_TRANSPORT_RESTART);

	CHECK_EQ(init(s, 45), 0);
	CHECK_EQ(simple(s, FB_DESTROY, 9), 16);
	CHECK_EQ(rep.oh.error, 0);
	CHECK_EQ(rep.oh.unique, 9);
	CHECK_EQ(g.destroys, 1);
	CHECK(!fb_server_destroyed(s));
	CHECK(fb_server_conn(s) == NULL);
	CHECK_EQ(getattr(s, 10), 16);
	CHECK_EQ(rep.oh.error, -EIO);
	CHECK_EQ(g.getattrs, 0);
	CHECK_EQ(init(s, 45), 0);
	CHECK_EQ(g.inits, 2);
	CHECK_EQ(getattr(s, 11), 16 + sizeof(struct fb_attr_out));
	/* a malformed INIT does not end the session */
	fbreq_init_msg(&q, 12, 7, 45, 0, 0);
	fbreq_hdr(&q)->len = 1;
	q.keep_len = 1;
	fbreq_send(s, &q, &rep);
	CHECK(fb_server_conn(s) != NULL);
	CHECK_EQ(g.destroys, 1);
	fb_server_free(s);
}

struct racer {
	struct fb_server *s;
	atomic_int *stop;
	int ok, before_init, bad;
};

static void *race_requests(void *arg)
{
	struct racer *rc = arg;
	struct fbreq rq = {0};
	struct fbrep rp;
	struct fb_getattr_in gi = {0};
	uint64_t unique = 1000;

	fbrep_init(&rp, 4096);
	while (!atomic_load(rc->stop)) {
		fbreq_start(&rq, FB_GETATTR, unique++, FB_ROOT_ID);
		fbreq_put(&rq, &gi, sizeof(gi));
		fbreq_send(rc->s, &rq, &rp);
		if (rp.ret == 16 + (ssize_t)sizeof(struct fb_attr_out) && rp.oh.error == 0)
			rc->ok++;
		else if (rp.ret == 16 && rp.oh.error == -EIO)
			rc->before_init++;
		else
			rc->bad++;
	}
	fbreq_free(&rq);
	fbrep_free(&rp);
	return NULL;
}

TEST(restart_never_overlaps_a_request)
{
	struct fb_server *s = server(FB_TRANSPORT_RESTART);
	struct racer rc[2];
	pthread_t th[2];
	atomic_int stop = 0;
	struct fbreq iq = {0};
	struct fbrep ip;

	fbrep_init(&ip, 4096);
	CHECK_EQ(init(s, 45), 0);
	for (int i = 0; i < 2; i++) {
		rc[i] = (struct racer){.s = s, .stop = &stop};
		CHECK_EQ(pthread_create(&th[i], NULL, race_requests, &rc[i]), 0);
	}
	for (int i = 0; i < 300; i++) {
		switch (i % 3) {
		case 0:
			fb_server_reset(s);
			break;
		case 1:
			fbreq_start(&iq, FB_DESTROY, 5, 0);
			fbreq_send(s, &iq, &ip);
			break;
		}
		fbreq_init_msg(&iq, 1, 7, 45, 0, FBREQ_ALL_FLAGS);
		fbreq_send(s, &iq, &ip);
		if (ip.ret != 16 + (ssize_t)sizeof(struct fb_init_out) || ip.oh.error != 0)
			break;
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(ip.oh.error, 0);
	CHECK_EQ(g.violations, 0);
	CHECK_EQ(rc[0].bad + rc[1].bad, 0);
	CHECK(rc[0].ok + rc[1].ok > 0);
	CHECK_EQ(g.inits, 301);
	CHECK_EQ(g.destroys, 300);
	fbreq_free(&iq);
	fbrep_free(&ip);
	fb_server_free(s);
}

/* ---- REPLY_ALWAYS, FOREIGN_PIDS, NO_INTERRUPT ------------------------------------------------ */

TEST(reply_always_answers_what_would_be_dropped)
{
	struct fb_server *s = server(FB_TRANSPORT_REPLY_ALWAYS);
	struct fb_forget_in fi = {.nlookup = 1};
	struct fb_batch_forget_in bi = {.count = 0};
	struct fb_interrupt_in ii = {.unique = 1234};
	struct fbrep tiny;

	CHECK_EQ(init(s, 45), 0);
	/* unique 0 */
	CHECK_EQ(getattr(s, 0), 16);
	CHECK_EQ(rep.oh.error, -EINVAL);
	CHECK_EQ(rep.oh.unique, 0);
	CHECK_EQ(g.getattrs, 0);
	/* a header that lies about the length */
	fbreq_start(&q, FB_GETATTR, 3, FB_ROOT_ID);
	fbreq_zero(&q, sizeof(struct fb_getattr_in));
	fbreq_hdr(&q)->len = 1000;
	q.keep_len = 1;
	CHECK_EQ(fbreq_send(s, &q, &rep), 16);
	CHECK_EQ(rep.oh.error, -EINVAL);
	CHECK_EQ(rep.oh.unique, 3);
	/* INTERRUPT (for a request not in flight) */
	fbreq_start(&q, FB_INTERRUPT, 4, 0);
	fbreq_put(&q, &ii, sizeof(ii));
	CHECK_EQ(fbreq_send(s, &q, &rep), 16);
	CHECK_EQ(rep.oh.unique, 4);
	/* a malformed no-reply request other than FORGET: answered */
	fbreq_start(&q, FB_NOTIFY_REPLY, 5, FB_ROOT_ID);
	fbreq_zero(&q, 3);
	CHECK_EQ(fbreq_send(s, &q, &rep), 16);
	CHECK_EQ(rep.oh.error, -EINVAL);
	CHECK_EQ(rep.oh.unique, 5);
	/* FORGET and BATCH_FORGET still get nothing, malformed or not */
	fbreq_start(&q, FB_FORGET, 6, 2);
	fbreq_put(&q, &fi, sizeof(fi));
	CHECK_EQ(fbreq_send(s, &q, &rep), 0);
	fbreq_start(&q, FB_FORGET, 0, 2);
	fbreq_zero(&q, 1);
	CHECK_EQ(fbreq_send(s, &q, &rep), 0);
	fbreq_start(&q, FB_BATCH_FORGET, 7, 0);
	fbreq_put(&q, &bi, sizeof(bi));
	CHECK_EQ(fbreq_send(s, &q, &rep), 0);
	/* no room for a reply: nothing */
	fbrep_init(&tiny, 8);
	CHECK_EQ(getattr(s, 0), 16);
	CHECK_EQ(fbreq_send(s, &q, &tiny), 0);
	fbreq_start(&q, FB_GETATTR, 0, FB_ROOT_ID);
	fbreq_zero(&q, sizeof(struct fb_getattr_in));
	CHECK_EQ(fbreq_send(s, &q, &tiny), 0);
	fbrep_free(&tiny);
	/* after DESTROY (without RESTART): answered, not -ENODEV */
	CHECK_EQ(simple(s, FB_DESTROY, 8), -ENODEV);
	CHECK_EQ(getattr(s, 9), 16);
	CHECK_EQ(rep.oh.error, -ENOTCONN);
	CHECK_EQ(rep.oh.unique, 9);
	fb_server_free(s);

	/* without the flag these are dropped */
	s = server(0);
	CHECK_EQ(init(s, 45), 0);
	CHECK_EQ(getattr(s, 0), 0);
	fbreq_start(&q, FB_NOTIFY_REPLY, 5, FB_ROOT_ID);
	fbreq_zero(&q, 3);
	CHECK_EQ(fbreq_send(s, &q, &rep), 0);
	fb_server_free(s);
}

TEST(foreign_pids_are_zero)
{
	struct fb_server *s = server(FB_TRANSPORT_FOREIGN_PIDS);

	CHECK_EQ(init(s, 45), 0);
	lookup(s, 2, "a");
	CHECK_EQ(g.lookups, 1);
	CHECK_EQ(g.pid, 0);
	fb_server_free(s);
	s = server(0);
	CHECK_EQ(init(s, 45), 0);
	lookup(s, 2, "a");
	CHECK_EQ(g.pid, FBREQ_PID);
	fb_server_free(s);
}

static ssize_t lock(struct fb_server *s, uint32_t opcode, uint32_t type, int flock)
{
	struct fb_lk_in li = {.fh = 1, .owner = 2, .lk = {.type = type}};

	li.lk_flags = flock ? FB_LK_FLOCK : 0;
	fbreq_start(&q, opcode, 20, FB_ROOT_ID);
	fbreq_put(&q, &li, sizeof(li));
	return fbreq_send(s, &q, &rep);
}

TEST(no_interrupt_refuses_to_wait_for_locks)
{
	struct fb_server *s = server(FB_TRANSPORT_NO_INTERRUPT);

	CHECK_EQ(init(s, 45), 0);
	CHECK_EQ(lock(s, FB_SETLKW, F_WRLCK, 0), 16);
	CHECK_EQ(rep.oh.error, -EOPNOTSUPP);
	CHECK_EQ(lock(s, FB_SETLKW, F_RDLCK, 1), 16);
	CHECK_EQ(rep.oh.error, -EOPNOTSUPP);
	CHECK_EQ(g.setlks + g.flocks, 0);
	/* what does not wait still reaches the file system */
	CHECK_EQ(lock(s, FB_SETLK, F_WRLCK, 0), 16);
	CHECK_EQ(rep.oh.error, 0);
	CHECK_EQ(lock(s, FB_SETLK, F_WRLCK, 1), 16);
	CHECK_EQ(lock(s, FB_SETLKW, F_UNLCK, 0), 16);
	CHECK_EQ(rep.oh.error, 0);
	CHECK_EQ(g.setlks, 2);
	CHECK_EQ(g.flocks, 1);
	fb_server_free(s);

	s = server(0);
	CHECK_EQ(init(s, 45), 0);
	CHECK_EQ(lock(s, FB_SETLKW, F_WRLCK, 0), 16);
	CHECK_EQ(rep.oh.error, 0);
	CHECK_EQ(lock(s, FB_SETLKW, F_WRLCK, 1), 16);
	CHECK_EQ(g.setlks, 1);
	CHECK_EQ(g.flocks, 1);
	fb_server_free(s);
}

TEST(notify_without_a_channel_is_enotconn)
{
	struct fb_server *s = server(GUEST_FLAGS);
	fb_ino_t ino = 5;

	CHECK_EQ(init(s, 45), 0);
	CHECK_ERR(fb_server_notify_inval_inode(s, 5, 0, -1), -ENOTCONN);
	CHECK_ERR(fb_server_notify_inval_entry(s, 1, "a", 1, 0), -ENOTCONN);
	CHECK_ERR(fb_server_notify_delete(s, 1, 5, "a", 1), -ENOTCONN);
	CHECK_ERR(fb_server_notify_store(s, 5, 0, "x", 1), -ENOTCONN);
	CHECK_ERR(fb_server_notify_retrieve(s, 5, 0, 1, 1), -ENOTCONN);
	CHECK_ERR(fb_server_notify_poll(s, 1), -ENOTCONN);
	CHECK_ERR(fb_server_notify_resend(s), -ENOTCONN);
	CHECK_ERR(fb_server_notify_inc_epoch(s), -ENOTCONN);
	CHECK_ERR(fb_server_notify_prune(s, &ino, 1), -ENOTCONN);
	fb_server_free(s);
}

/* ---- peek and DAX --------------------------------------------------------------------------- */

TEST(peek_reads_the_header_without_consuming_it)
{
	struct fb_in_header h;
	struct fb_reader r;
	struct iovec v[2];

	fbreq_start(&q, FB_LOOKUP, 99, 7);
	fbreq_str(&q, "n");
	fbreq_finish(&q);
	/* split inside the header */
	v[0] = (struct iovec){q.buf, 10};
	v[1] = (struct iovec){q.buf + 10, q.len - 10};
	fb_reader_init_shared(&r, v, 2);
	CHECK_EQ(fb_server_peek(&r, &h), 0);
	CHECK_EQ(h.opcode, FB_LOOKUP);
	CHECK_EQ(h.unique, 99);
	CHECK_EQ(h.nodeid, 7);
	CHECK_EQ(fb_reader_remaining(&r), q.len);
	v[1].iov_len = 10;
	fb_reader_init(&r, v, 2);
	CHECK_ERR(fb_server_peek(&r, &h), -EINVAL);
}

static ssize_t setupmapping(struct fb_server *s, uint64_t moffset)
{
	struct fb_setupmapping_in si = {.fh = 3,
					.foffset = 8192,
					.len = 1 << 21,
					.flags = FB_SETUPMAPPING_FLAG_READ,
					.moffset = moffset};

	fbreq_start(&q, FB_SETUPMAPPING, 30, 5);
	fbreq_put(&q, &si, sizeof(si));
	return fbreq_send(s, &q, &rep);
}

TEST(dax_calls_reach_the_transport)
{
	struct fb_transport_ops t = {.size = sizeof(t),
				     .flags = GUEST_FLAGS,
				     .caps = FB_MAP_ALIGNMENT | FB_HAS_INODE_DAX,
				     .dax_map = tr_dax_map,
				     .dax_unmap = tr_dax_unmap};
	struct fb_removemapping_in ri = {.count = 2};
	struct fb_removemapping_one one[2] = {{.moffset = 0, .len = 4096},
					      {.moffset = 1 << 21, .len = 1 << 21}};
	struct fb_server *s = server(~0u);

	memset(&tr, 0, sizeof(tr));
	fb_server_set_transport(s, &t, NULL);
	CHECK_EQ(init(s, 45), 0);
	CHECK_EQ(setupmapping(s, 1 << 22), 16);
	CHECK_EQ(rep.oh.error, 0);
	CHECK_EQ(tr.maps, 1);
	CHECK_EQ(tr.fd, 0);
	CHECK_EQ(tr.foffset, 8192);
	CHECK_EQ(tr.moffset, 1 << 22);
	CHECK_EQ(tr.len, 1 << 21);
	CHECK_EQ(tr.flags, FB_SETUPMAPPING_FLAG_READ);
	fbreq_start(&q, FB_REMOVEMAPPING, 31, 0);
	fbreq_put(&q, &ri, sizeof(ri));
	fbreq_put(&q, one, sizeof(one));
	CHECK_EQ(fbreq_send(s, &q, &rep), 16);
	CHECK_EQ(rep.oh.error, 0);
	CHECK_EQ(tr.unmaps, 2);
	CHECK_EQ(tr.moffset, 1 << 21);
	fb_server_free(s);

	/* the guest did not ask for DAX (no MAP_ALIGNMENT offered): nothing reaches the VMM */
	s = server(~0u);
	memset(&tr, 0, sizeof(tr));
	fb_server_set_transport(s, &t, NULL);
	CHECK_EQ(fbreq_init_session(s, 45, FBREQ_ALL_FLAGS & ~(uint64_t)FB_MAP_ALIGNMENT, &rep), 0);
	CHECK_EQ(setupmapping(s, 0), 16);
	CHECK_EQ(rep.oh.error, -EOPNOTSUPP);
	CHECK_EQ(tr.maps, 0);
	fb_server_free(s);

	/* a transport without a window */
	s = server(GUEST_FLAGS);
	CHECK_EQ(init(s, 45), 0);
	CHECK_EQ(setupmapping(s, 0), 16);
	CHECK_EQ(rep.oh.error, -EOPNOTSUPP);
	fb_server_free(s);
}

static void quiet(enum fb_log_level level, const char *msg, void *priv)
{
	(void)level;
	(void)msg;
	(void)priv;
}

static int setup(void)
{
	fb_log_set(quiet, NULL);
	fbrep_init(&rep, 0);
	return 0;
}
TEST_SETUP(setup)

static int teardown(void)
{
	fbrep_free(&rep);
	fbreq_free(&q);
	return 0;
}
TEST_TEARDOWN(teardown)

TEST_MAIN()
