/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Replies later, through the server with hand-built requests: operations take their request
 * (fb_ctx_defer()), and other threads answer in any order; the transport's complete() gets
 * each reply exactly once, in the memory the request came with. Double replies, interrupts,
 * DESTROY, session resets and cancellation racing with replies.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "fbreq.h"

#define NREQ	 10000
#define NTHREADS 4
#define REPCAP	 (sizeof(struct fb_out_header) + 4096)

/* One request's reply memory, as a transport keeps it while the request is deferred. */
struct slot {
	uint64_t unique;
	uint32_t opcode;
	uint8_t buf[REPCAP];
	struct iovec iov;
	struct fb_writer w;
	atomic_int completed; /* complete() calls */
	ssize_t len;	      /* what complete() said */
};

/* ---- the file system: every deferrable op takes its request and queues it ---------------- */

static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static struct fb_req **queue;
static size_t queued, qcap;
static int answer_now;	      /* open: reply through the handle before returning */
static int defer_then_return; /* lookup: take the request, then answer at once anyway */
static atomic_int intr_calls;

static void enqueue(struct fb_req *r)
{
	pthread_mutex_lock(&qlock);
	if (queued == qcap) {
		qcap = qcap ? 2 * qcap : 1024;
		queue = realloc(queue, qcap * sizeof(*queue));
	}
	queue[queued++] = r;
	pthread_mutex_unlock(&qlock);
}

static int t_lookup(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		    struct fb_entry *out)
{
	struct fb_req *r = fb_ctx_defer(ctx);

	(void)fs;
	if (r && defer_then_return)
		enqueue(r); /* kept to check that its later reply is dropped */
	if (!r || defer_then_return) {
		/* Answer now: the server could not defer this one. */
		out->ino = 100 + parent;
		out->attr.st_mode = S_IFREG | 0644;
		out->attr.st_ino = out->ino;
		return strcmp(name, "missing") == 0 ? -ENOENT : 0;
	}
	enqueue(r);
	return FB_REPLY_LATER;
}

static int t_getattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino,
		     const struct fb_file_info *fi, struct stat *out, double *timeout)
{
	(void)fs, (void)ctx, (void)fi;
	out->st_ino = ino;
	out->st_mode = S_IFREG | 0600;
	*timeout = 1;
	return 0;
}

static int t_open(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		  struct fb_file_info *fi)
{
	struct fb_req *r = fb_ctx_defer(ctx);
	struct fb_file_info f = {.fh = 77};

	(void)fs, (void)ino, (void)flags, (void)fi;
	if (!r)
		return -EOPNOTSUPP;
	if (answer_now) {
		CHECK_EQ(fb_req_reply_open(r, &f), 0);
		return FB_REPLY_LATER;
	}
	enqueue(r);
	return FB_REPLY_LATER;
}

static void on_intr(struct fb_req *r, void *priv)
{
	(void)r, (void)priv;
	atomic_fetch_add(&intr_calls, 1);
}

static int t_read(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		  struct fb_writer *w, uint32_t size, uint64_t off, int flags)
{
	struct fb_req *r = fb_ctx_defer(ctx);

	(void)fs, (void)ino, (void)fh, (void)w, (void)size, (void)off, (void)flags;
	if (!r)
		return -EOPNOTSUPP;
	fb_req_on_interrupt(r, on_intr, NULL);
	enqueue(r);
	return FB_REPLY_LATER;
}

static int t_write(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		   struct fb_reader *rd, uint32_t size, uint64_t off, uint32_t wflags, int flags)
{
	struct fb_req *r = fb_ctx_defer(ctx);

	(void)fs, (void)ino, (void)fh, (void)rd, (void)size, (void)off, (void)wflags, (void)flags;
	if (!r)
		return -EOPNOTSUPP;
	enqueue(r);
	return FB_REPLY_LATER;
}

static int t_setlk(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		   const struct fb_lock *lk, int sleep)
{
	struct fb_req *r = fb_ctx_defer(ctx);

	(void)fs, (void)ino, (void)fh, (void)owner, (void)lk, (void)sleep;
	if (!r)
		return -EOPNOTSUPP;
	enqueue(r);
	return FB_REPLY_LATER;
}

static const struct fb_fs_ops ops = {
	.lookup = t_lookup,
	.getattr = t_getattr,
	.open = t_open,
	.read = t_read,
	.write = t_write,
	.setlk = t_setlk,
};

/* ---- the transport ------------------------------------------------------------------------- */

static atomic_int completions;

static void t_complete(void *priv, void *token, ssize_t len)
{
	struct slot *sl = token;

	(void)priv;
	sl->len = len;
	atomic_fetch_add(&sl->completed, 1);
	atomic_fetch_add(&completions, 1);
}

static struct fb_server *srv;
static struct fbrep rep;
static struct fbreq q;

/* Log lines, to check what the server says. */
static pthread_mutex_t loglock = PTHREAD_MUTEX_INITIALIZER;
static char lastlog[512];
static int second_reply_lines;

static void t_log(enum fb_log_level level, const char *msg, void *priv)
{
	(void)level, (void)priv;
	pthread_mutex_lock(&loglock);
	snprintf(lastlog, sizeof(lastlog), "%s", msg);
	if (strstr(msg, "second reply"))
		second_reply_lines++;
	pthread_mutex_unlock(&loglock);
}

static void fresh(uint32_t tflags)
{
	struct fb_transport_ops t = {
		.size = sizeof(t),
		.flags = tflags,
		.complete = t_complete,
	};

	fb_server_free(srv);
	CHECK_OK(fb_server_new(&ops, sizeof(ops), NULL, NULL, &srv));
	fb_server_set_transport(srv, &t, NULL);
	CHECK_EQ(fbreq_init_session(srv, 45, FBREQ_ALL_FLAGS, &rep), 0);
	pthread_mutex_lock(&qlock);
	queued = 0;
	pthread_mutex_unlock(&qlock);
	atomic_store(&completions, 0);
	atomic_store(&intr_calls, 0);
	answer_now = 0;
	defer_then_return = 0;
}

static int setup(void)
{
	fbrep_init(&rep, 0);
	fb_log_set(t_log, NULL);
	return 0;
}
TEST_SETUP(setup)

static int teardown(void)
{
	fb_server_free(srv);
	fbrep_free(&rep);
	fbreq_free(&q);
	free(queue);
	fb_log_set(NULL, NULL);
	return 0;
}
TEST_TEARDOWN(teardown)

static struct slot *slot_new(void)
{
	struct slot *sl = calloc(1, sizeof(*sl));

	sl->iov.iov_base = sl->buf;
	sl->iov.iov_len = sizeof(sl->buf);
	fb_writer_init(&sl->w, &sl->iov, 1);
	return sl;
}

/* Hand the request built in q to the server with @sl as its token. */
static ssize_t send_async(struct slot *sl)
{
	struct iovec v;
	struct fb_reader r;
	struct fb_in_header h;

	fbreq_finish(&q);
	memcpy(&h, q.buf, sizeof(h));
	sl->unique = h.unique;
	sl->opcode = h.opcode;
	v.iov_base = q.buf;
	v.iov_len = q.len;
	fb_reader_init(&r, &v, 1);
	return fb_server_handle_async(srv, &r, &sl->w, sl);
}

static void build_read(uint64_t unique, uint64_t off, uint32_t size)
{
	struct fb_read_in in = {.fh = 1, .offset = off, .size = size};

	fbreq_start(&q, FB_READ, unique, 5);
	fbreq_put(&q, &in, sizeof(in));
}

static void build_lookup(uint64_t unique, const char *name)
{
	fbreq_start(&q, FB_LOOKUP, unique, FB_ROOT_ID);
	fbreq_str(&q, name);
}

static void build_write(uint64_t unique, uint32_t size)
{
	struct fb_write_in in = {.fh = 1, .size = size};

	fbreq_start(&q, FB_WRITE, unique, 5);
	fbreq_put(&q, &in, sizeof(in));
	fbreq_zero(&q, size);
}

static void build_setlkw(uint64_t unique)
{
	struct fb_lk_in in = {.fh = 1, .owner = 9, .lk = {.start = 0, .end = 10, .type = F_WRLCK}};

	fbreq_start(&q, FB_SETLKW, unique, 5);
	fbreq_put(&q, &in, sizeof(in));
}

static struct fb_req *pop(void)
{
	struct fb_req *r = NULL;

	pthread_mutex_lock(&qlock);
	if (queued)
		r = queue[--queued];
	pthread_mutex_unlock(&qlock);
	return r;
}

static struct fb_out_header out_header(const struct slot *sl)
{
	struct fb_out_header oh;

	memcpy(&oh, sl->buf, sizeof(oh));
	return oh;
}

/* ---- 10,000 requests answered out of order from other threads ----------------------------- */

static struct fb_req **shuffled;
static atomic_size_t next_reply;

/* What request @unique's reply carries: reads get 8 bytes derived from it. */
static void answer(struct fb_req *r)
{
	const struct fb_ctx *c = fb_req_ctx(r);
	uint64_t u = c->unique;

	switch (c->opcode) {
	case FB_READ: {
		uint64_t data = u * 3 + 1;
		struct iovec v = {&data, sizeof(data)};

		CHECK_EQ(fb_req_reply_data(r, &v, 1), 0);
		break;
	}
	case FB_LOOKUP: {
		struct fb_entry e = {.ino = u, .attr = {.st_mode = S_IFREG | 0644, .st_ino = u}};

		CHECK_EQ(fb_req_reply_entry(r, &e), 0);
		break;
	}
	case FB_WRITE:
		CHECK_EQ(fb_req_reply_write(r, 16), 0);
		break;
	case FB_SETLKW:
		CHECK_EQ(fb_req_reply_err(r, u % 2 ? -EAGAIN : 0), 0);
		break;
	default:
		CHECK(0);
	}
}

static void *replier(void *arg)
{
	size_t i;

	(void)arg;
	while ((i = atomic_fetch_add(&next_reply, 1)) < NREQ)
		answer(shuffled[i]);
	return NULL;
}

TEST(ten_thousand_deferred_requests_complete_out_of_order_from_other_threads)
{
	static struct slot *slots[NREQ];
	pthread_t th[NTHREADS];
	unsigned int seed = 12345;

	fresh(0);
	for (unsigned int i = 0; i < NREQ; i++) {
		slots[i] = slot_new();
		switch (i % 4) {
		case 0:
			build_read(i + 10, i, 4096);
			break;
		case 1:
			build_lookup(i + 10, "name");
			break;
		case 2:
			build_write(i + 10, 16);
			break;
		default:
			build_setlkw(i + 10);
			break;
		}
		CHECK_EQ(send_async(slots[i]), -EINPROGRESS);
	}
	CHECK_EQ(queued, NREQ);
	CHECK_EQ(atomic_load(&completions), 0);
	shuffled = queue;
	for (size_t i = NREQ - 1; i > 0; i--) {
		size_t j = rand_r(&seed) % (i + 1);
		struct fb_req *t = shuffled[i];

		shuffled[i] = shuffled[j];
		shuffled[j] = t;
	}
	atomic_store(&next_reply, 0);
	for (int t = 0; t < NTHREADS; t++)
		CHECK_EQ(pthread_create(&th[t], NULL, replier, NULL), 0);
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
	queued = 0;
	CHECK_EQ(atomic_load(&completions), NREQ);
	for (unsigned int i = 0; i < NREQ; i++) {
		struct slot *sl = slots[i];
		struct fb_out_header oh = out_header(sl);

		CHECK_EQ(atomic_load(&sl->completed), 1);
		CHECK_EQ(oh.unique, sl->unique);
		CHECK_EQ(oh.len, sl->len);
		switch (sl->opcode) {
		case FB_READ: {
			uint64_t data;

			CHECK_EQ(sl->len, sizeof(oh) + 8);
			CHECK_EQ(oh.error, 0);
			memcpy(&data, sl->buf + sizeof(oh), 8);
			CHECK_EQ(data, sl->unique * 3 + 1);
			break;
		}
		case FB_LOOKUP: {
			struct fb_entry_out eo;

			CHECK_EQ(sl->len, sizeof(oh) + sizeof(eo));
			memcpy(&eo, sl->buf + sizeof(oh), sizeof(eo));
			CHECK_EQ(eo.nodeid, sl->unique);
			CHECK_EQ(eo.attr.ino, sl->unique);
			break;
		}
		case FB_WRITE: {
			struct fb_write_out wo;

			CHECK_EQ(sl->len, sizeof(oh) + sizeof(wo));
			memcpy(&wo, sl->buf + sizeof(oh), sizeof(wo));
			CHECK_EQ(wo.size, 16);
			break;
		}
		case FB_SETLKW:
			CHECK_EQ(sl->len, sizeof(oh));
			CHECK_EQ(oh.error, sl->unique % 2 ? -EAGAIN : 0);
			break;
		}
		free(sl);
	}
}

/* ---- the rules of one reply ---------------------------------------------------------------- */

TEST(immediate_replies_are_unchanged_next_to_deferred_ones)
{
	struct slot *sl = slot_new();
	struct fb_attr_out ao;

	fresh(0);
	fbreq_start(&q, FB_GETATTR, 3, 5);
	fbreq_zero(&q, sizeof(struct fb_getattr_in));
	CHECK_EQ(send_async(sl), sizeof(struct fb_out_header) + sizeof(ao));
	memcpy(&ao, sl->buf + sizeof(struct fb_out_header), sizeof(ao));
	CHECK_EQ(ao.attr.ino, 5);
	CHECK_EQ(atomic_load(&completions), 0);
	free(sl);
}

TEST(without_a_token_or_complete_an_operation_answers_at_once)
{
	struct fb_server *plain;
	struct fb_entry_out eo;

	/* fb_server_handle(): no token, so fb_ctx_defer() is NULL and lookup answers now. */
	fresh(0);
	build_lookup(3, "x");
	CHECK_EQ(fbreq_send(srv, &q, &rep), sizeof(struct fb_out_header) + sizeof(eo));
	eo = FBREP_AS(&rep, struct fb_entry_out);
	CHECK_EQ(eo.nodeid, 100 + FB_ROOT_ID);

	/* A transport without complete(): the token is ignored. */
	CHECK_OK(fb_server_new(&ops, sizeof(ops), NULL, NULL, &plain));
	CHECK_EQ(fbreq_init_session(plain, 45, FBREQ_ALL_FLAGS, &rep), 0);
	{
		struct slot *sl = slot_new();
		struct fb_server *keep = srv;

		srv = plain;
		build_lookup(4, "x");
		CHECK_EQ(send_async(sl), sizeof(struct fb_out_header) + sizeof(eo));
		srv = keep;
		free(sl);
	}
	fb_server_free(plain);
}

TEST(a_reply_before_the_operation_returns_is_an_ordinary_reply)
{
	struct slot *sl = slot_new();
	struct fb_open_in in = {0};
	struct fb_open_out oo;

	fresh(0);
	answer_now = 1;
	fbreq_start(&q, FB_OPEN, 3, 5);
	fbreq_put(&q, &in, sizeof(in));
	CHECK_EQ(send_async(sl), sizeof(struct fb_out_header) + sizeof(oo));
	memcpy(&oo, sl->buf + sizeof(struct fb_out_header), sizeof(oo));
	CHECK_EQ(oo.fh, 77);
	CHECK_EQ(out_header(sl).unique, 3);
	CHECK_EQ(atomic_load(&completions), 0);
	free(sl);
}

TEST(a_second_reply_is_refused_with_a_log_line)
{
	struct slot *sl = slot_new();
	struct fb_entry e = {.ino = 9};
	struct fb_req *r;

	fresh(0);
	build_lookup(3, "x");
	CHECK_EQ(send_async(sl), -EINPROGRESS);
	r = pop();
	CHECK(r != NULL);
	fb_req_ref(r); /* keeps the handle valid past the first reply */
	second_reply_lines = 0;
	CHECK_EQ(fb_req_reply_entry(r, &e), 0);
	CHECK_EQ(fb_req_reply_err(r, -EIO), -EALREADY);
	CHECK_EQ(fb_req_reply_entry(r, &e), -EALREADY);
	CHECK_EQ(second_reply_lines, 2);
	CHECK_EQ(atomic_load(&sl->completed), 1);
	CHECK_EQ(out_header(sl).error, 0);
	fb_req_unref(r);
	free(sl);
}

TEST(a_reply_that_does_not_fit_the_request_sends_eio)
{
	struct slot *sl = slot_new();
	struct fb_entry e = {.ino = 9};
	uint8_t big[100] = {0};
	struct iovec v = {big, sizeof(big)};

	fresh(0);
	build_read(3, 0, 64);
	CHECK_EQ(send_async(sl), -EINPROGRESS);
	CHECK_EQ(fb_req_reply_entry(pop(), &e), -EINVAL);
	CHECK_EQ(atomic_load(&sl->completed), 1);
	CHECK_EQ(out_header(sl).error, -EIO);

	/* More data than the read asked for. */
	build_read(4, 0, 64);
	CHECK_EQ(send_async(sl), -EINPROGRESS);
	CHECK_EQ(fb_req_reply_data(pop(), &v, 1), -EINVAL);
	CHECK_EQ(atomic_load(&sl->completed), 2);
	CHECK_EQ(out_header(sl).error, -EIO);
	CHECK_EQ(sl->len, sizeof(struct fb_out_header));
	free(sl);
}

TEST(read_data_comes_from_a_file_descriptor_range)
{
	struct slot *sl = slot_new();
	char path[] = "/tmp/fb-defer-XXXXXX";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	unlink(path);
	CHECK_EQ(pwrite(fd, "0123456789", 10, 0), 10);
	fresh(0);
	build_read(3, 0, 6);
	CHECK_EQ(send_async(sl), -EINPROGRESS);
	CHECK_EQ(fb_req_reply_data_fd(pop(), fd, 100, 2), 0); /* cut to the 6 asked */
	CHECK_EQ(sl->len, sizeof(struct fb_out_header) + 6);
	CHECK(memcmp(sl->buf + sizeof(struct fb_out_header), "234567", 6) == 0);
	close(fd);
	free(sl);
}

TEST(an_operation_that_defers_and_answers_at_once_is_answered_once)
{
	struct slot *sl = slot_new();
	struct fb_req *r;
	struct fb_entry_out eo;

	fresh(0);
	defer_then_return = 1;
	build_lookup(3, "x");
	/* lookup took its request but returned 0: that answer goes out now... */
	CHECK_EQ(send_async(sl), sizeof(struct fb_out_header) + sizeof(eo));
	CHECK_EQ(out_header(sl).error, 0);
	CHECK(strstr(lastlog, "answered at once") != NULL);
	/* ...and the later one through the handle is dropped. */
	r = pop();
	CHECK(r != NULL);
	CHECK_EQ(fb_req_reply_err(r, -EIO), -ECANCELED);
	CHECK_EQ(atomic_load(&completions), 0);
	free(sl);
}

/* ---- interrupts ---------------------------------------------------------------------------- */

static void send_interrupt(uint64_t unique, uint64_t target)
{
	struct fb_interrupt_in in = {.unique = target};

	fbreq_start(&q, FB_INTERRUPT, unique, 0);
	fbreq_put(&q, &in, sizeof(in));
	fbreq_send(srv, &q, &rep);
}

TEST(an_interrupt_reaches_a_deferred_request_and_its_reply_still_goes_out)
{
	struct slot *sl = slot_new();
	struct fb_req *r;

	fresh(0);
	build_read(7, 0, 64);
	CHECK_EQ(send_async(sl), -EINPROGRESS);
	r = pop();
	CHECK(!fb_req_interrupted(r));
	CHECK(!fb_ctx_interrupted(fb_req_ctx(r)));
	send_interrupt(8, 7);
	CHECK_EQ(rep.ret, 0); /* found: no reply to the INTERRUPT */
	CHECK_EQ(atomic_load(&intr_calls), 1);
	CHECK(fb_req_interrupted(r));
	CHECK(fb_ctx_interrupted(fb_req_ctx(r)));
	CHECK(!fb_req_cancelled(r));
	send_interrupt(9, 7); /* the kernel may repeat it: the callback ran once */
	CHECK_EQ(atomic_load(&intr_calls), 1);
	CHECK_EQ(fb_req_reply_err(r, -EINTR), 0);
	CHECK_EQ(atomic_load(&sl->completed), 1);
	CHECK_EQ(out_header(sl).error, -EINTR);
	CHECK_EQ(out_header(sl).unique, 7);
	/* Answered: no longer in flight, a late INTERRUPT is not found. */
	send_interrupt(10, 7);
	CHECK_EQ(rep.oh.error, -EAGAIN);
	free(sl);
}

/* ---- DESTROY, reset, cancellation ---------------------------------------------------------- */

TEST(destroy_cancels_deferred_requests_and_late_replies_are_dropped)
{
	struct slot *sl[3] = {slot_new(), slot_new(), slot_new()};
	struct fb_req *r[3];
	struct fb_entry e = {.ino = 9};

	fresh(0);
	build_read(3, 0, 64);
	CHECK_EQ(send_async(sl[0]), -EINPROGRESS);
	build_lookup(4, "x");
	CHECK_EQ(send_async(sl[1]), -EINPROGRESS);
	build_setlkw(5);
	CHECK_EQ(send_async(sl[2]), -EINPROGRESS);
	for (int i = 2; i >= 0; i--)
		r[i] = pop();
	fbreq_start(&q, FB_DESTROY, 6, 0);
	CHECK_EQ(fbreq_send(srv, &q, &rep), -ENODEV);
	/* Each was handed back, with no reply, before DESTROY returned. */
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(atomic_load(&sl[i]->completed), 1);
		CHECK_EQ(sl[i]->len, 0);
		CHECK(fb_req_cancelled(r[i]));
		CHECK(fb_req_interrupted(r[i]));
	}
	CHECK_EQ(atomic_load(&intr_calls), 1); /* the read's callback heard of it */
	/* The transport may reuse the memory now: a late reply must not touch it. */
	memset(sl[0]->buf, 0x5a, sizeof(sl[0]->buf));
	CHECK_EQ(fb_req_reply_err(r[0], -EIO), -ECANCELED);
	CHECK_EQ(fb_req_reply_entry(r[1], &e), -ECANCELED);
	CHECK_EQ(fb_req_reply_err(r[2], 0), -ECANCELED);
	CHECK_EQ(sl[0]->buf[0], 0x5a);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(atomic_load(&sl[i]->completed), 1);
		free(sl[i]);
	}
}

TEST(a_late_reply_after_the_server_is_freed_is_dropped_safely)
{
	struct slot *sl = slot_new();
	struct fb_req *r;

	fresh(0);
	build_read(3, 0, 64);
	CHECK_EQ(send_async(sl), -EINPROGRESS);
	r = pop();
	fb_server_cancel_deferred(srv);
	CHECK_EQ(atomic_load(&sl->completed), 1);
	fb_server_free(srv);
	srv = NULL;
	CHECK_EQ(fb_req_reply_err(r, -EIO), -ECANCELED); /* the handle outlives the server */
	free(sl);
}

TEST(a_session_reset_on_a_guest_transport_answers_deferred_requests_enotconn)
{
	struct slot *sl = slot_new();
	struct fb_req *r;

	fresh(FB_TRANSPORT_RESTART | FB_TRANSPORT_REPLY_ALWAYS | FB_TRANSPORT_FOREIGN_PIDS);
	build_lookup(3, "x");
	CHECK_EQ(send_async(sl), -EINPROGRESS);
	r = pop();
	fb_server_reset(srv);
	CHECK_EQ(atomic_load(&sl->completed), 1);
	CHECK_EQ(sl->len, sizeof(struct fb_out_header));
	CHECK_EQ(out_header(sl).error, -ENOTCONN);
	CHECK_EQ(out_header(sl).unique, 3);
	CHECK_EQ(fb_req_reply_err(r, -ENOENT), -ECANCELED);
	CHECK_EQ(atomic_load(&sl->completed), 1);
	free(sl);
}

/* Replies from threads racing with cancellation: each request completes exactly once. */
#define NRACE 2000
static struct fb_req *race[NRACE];
static atomic_int race_ok, race_cancelled;

static void *race_replier(void *arg)
{
	long half = (long)arg;

	for (int i = (int)half; i < NRACE; i += 2) {
		uint64_t data = 1;
		struct iovec v = {&data, sizeof(data)};
		int r = fb_req_reply_data(race[i], &v, 1);

		if (r == 0)
			atomic_fetch_add(&race_ok, 1);
		else if (r == -ECANCELED)
			atomic_fetch_add(&race_cancelled, 1);
	}
	return NULL;
}

TEST(cancellation_racing_with_replies_completes_each_request_once)
{
	static struct slot *slots[NRACE];
	pthread_t th[2];
	int zero = 0, full = 0;

	fresh(0);
	for (int i = 0; i < NRACE; i++) {
		slots[i] = slot_new();
		build_read((uint64_t)i + 10, 0, 64);
		CHECK_EQ(send_async(slots[i]), -EINPROGRESS);
	}
	for (int i = 0; i < NRACE; i++)
		race[i] = queue[i];
	queued = 0;
	atomic_store(&race_ok, 0);
	atomic_store(&race_cancelled, 0);
	for (long t = 0; t < 2; t++)
		CHECK_EQ(pthread_create(&th[t], NULL, race_replier, (void *)t), 0);
	fb_server_cancel_deferred(srv);
	/* Every request is back with the transport once cancel returns. */
	CHECK_EQ(atomic_load(&completions), NRACE);
	for (int t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
	CHECK_EQ(atomic_load(&race_ok) + atomic_load(&race_cancelled), NRACE);
	CHECK_EQ(atomic_load(&completions), NRACE);
	for (int i = 0; i < NRACE; i++) {
		CHECK_EQ(atomic_load(&slots[i]->completed), 1);
		if (slots[i]->len == 0)
			zero++;
		else if (slots[i]->len == (ssize_t)sizeof(struct fb_out_header) + 8)
			full++;
		free(slots[i]);
	}
	CHECK_EQ(zero, atomic_load(&race_cancelled));
	CHECK_EQ(full, atomic_load(&race_ok));
}

TEST_MAIN()
