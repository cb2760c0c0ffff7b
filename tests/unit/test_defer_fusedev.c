/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Replies later over the /dev/fuse transport, without a mount: a channel whose fd is one end
 * of a SOCK_SEQPACKET socket pair (one read() is one request, one write() one reply, as on
 * /dev/fuse). The channel's thread reads requests and goes on reading while operations answer
 * from other threads; every reply comes out on the channel's fd exactly once, with the bytes
 * the operation answered; the reply buffers stay valid until then; closing the channel with
 * requests deferred frees everything once they are cancelled.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "fbreq.h"
#include "transport/fusedev/fusedev_i.h"

#define NREQ	 10000
#define NREPLIER 3

static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static struct fb_req **queue;
static size_t qhead, qtail, qcap;
static int qclosed;

static void enqueue(struct fb_req *r)
{
	pthread_mutex_lock(&qlock);
	if (qtail == qcap) {
		qcap = qcap ? 2 * qcap : 1024;
		queue = realloc(queue, qcap * sizeof(*queue));
	}
	queue[qtail++] = r;
	pthread_cond_signal(&qcond);
	pthread_mutex_unlock(&qlock);
}

/* Take a queued request, the newest first (so replies leave out of order), or NULL at the end. */
static struct fb_req *dequeue(void)
{
	struct fb_req *r = NULL;

	pthread_mutex_lock(&qlock);
	while (qtail == qhead && !qclosed)
		pthread_cond_wait(&qcond, &qlock);
	if (qtail > qhead)
		r = queue[--qtail];
	pthread_mutex_unlock(&qlock);
	return r;
}

static int t_read(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		  struct fb_writer *w, uint32_t size, uint64_t off, int flags)
{
	struct fb_req *r = fb_ctx_defer(ctx);

	(void)fs, (void)ino, (void)fh, (void)w, (void)size, (void)off, (void)flags;
	if (!r)
		return -EOPNOTSUPP;
	enqueue(r);
	return FB_REPLY_LATER;
}

static const struct fb_fs_ops ops = {.read = t_read};

static void *replier(void *arg)
{
	struct fb_req *r;

	(void)arg;
	while ((r = dequeue())) {
		uint64_t data[4];
		struct iovec v = {data, sizeof(data)};

		for (int i = 0; i < 4; i++)
			data[i] = fb_req_ctx(r)->unique * 7 + (uint64_t)i;
		CHECK_EQ(fb_req_reply_data(r, &v, 1), 0);
	}
	return NULL;
}

/* The kernel's side: reads every reply off its end of the pair. */
static int kfd;
static uint8_t seen[NREQ + 100];
static atomic_int replies, bad;

static void *kernel_reader(void *arg)
{
	uint8_t buf[4096];

	(void)arg;
	while (atomic_load(&replies) < NREQ) {
		struct fb_out_header oh;
		uint64_t data[4];
		ssize_t n = read(kfd, buf, sizeof(buf));

		if (n <= 0)
			break;
		memcpy(&oh, buf, sizeof(oh));
		memcpy(data, buf + sizeof(oh), sizeof(data));
		if (n != (ssize_t)(sizeof(oh) + sizeof(data)) || oh.len != n || oh.error != 0 ||
		    oh.unique < 100 || oh.unique >= NREQ + 100 || data[0] != oh.unique * 7 ||
		    data[3] != oh.unique * 7 + 3 || seen[oh.unique - 100]++)
			atomic_fetch_add(&bad, 1);
		atomic_fetch_add(&replies, 1);
	}
	return NULL;
}

static void send_req(struct fbreq *q)
{
	fbreq_finish(q);
	CHECK_EQ(write(kfd, q->buf, q->len), (ssize_t)q->len);
}

/* A session and a channel over a socket pair, through INIT. */
static void setup_channel(struct fb_server **srv, struct fb_session **se, struct fb_channel **ch)
{
	struct fbreq q = {0};
	uint8_t buf[512];
	int sv[2];

	CHECK_OK(fb_server_new(&ops, sizeof(ops), NULL, NULL, srv));
	CHECK_OK(fb_session_new(*srv, se));
	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	kfd = sv[0];
	*ch = calloc(1, sizeof(**ch));
	(*ch)->se = *se;
	atomic_init(&(*ch)->refs, 1);
	(*ch)->fd = sv[1];
	fbreq_init_msg(&q, 1, 7, 45, 128 * 1024, FBREQ_ALL_FLAGS);
	send_req(&q);
	CHECK_EQ(fb_channel_process(*ch), 0);
	CHECK(read(kfd, buf, sizeof(buf)) > 16);
	CHECK(fb_server_conn(*srv) != NULL);
	fbreq_free(&q);
}

TEST(ten_thousand_reads_answered_later_go_out_on_the_channel_they_came_from)
{
	struct fb_server *srv;
	struct fb_session *se;
	struct fb_channel *ch;
	pthread_t rep[NREPLIER], kr;
	struct fbreq q = {0};

	setup_channel(&srv, &se, &ch);
	CHECK_EQ(pthread_create(&kr, NULL, kernel_reader, NULL), 0);
	for (int t = 0; t < NREPLIER; t++)
		CHECK_EQ(pthread_create(&rep[t], NULL, replier, NULL), 0);
	for (unsigned int i = 0; i < NREQ; i++) {
		struct fb_read_in in = {.fh = 1, .offset = i, .size = 4096};

		fbreq_start(&q, FB_READ, i + 100, 5);
		fbreq_put(&q, &in, sizeof(in));
		send_req(&q);
		/* The channel's thread hands it over and is free for the next at once. */
		CHECK_EQ(fb_channel_process(ch), 0);
	}
	pthread_mutex_lock(&qlock);
	qclosed = 1;
	pthread_cond_broadcast(&qcond);
	pthread_mutex_unlock(&qlock);
	for (int t = 0; t < NREPLIER; t++)
		pthread_join(rep[t], NULL);
	pthread_join(kr, NULL);
	CHECK_EQ(atomic_load(&replies), NREQ);
	CHECK_EQ(atomic_load(&bad), 0);
	fb_channel_free(ch);
	fb_session_free(se);
	fb_server_free(srv);
	close(kfd);
	fbreq_free(&q);
}

TEST(a_channel_freed_with_requests_deferred_frees_them_when_cancelled)
{
	struct fb_server *srv;
	struct fb_session *se;
	struct fb_channel *ch;
	struct fbreq q = {0};
	struct fb_req *r[3];
	uint8_t buf[64];

	pthread_mutex_lock(&qlock);
	qhead = qtail = 0;
	qclosed = 0;
	pthread_mutex_unlock(&qlock);
	setup_channel(&srv, &se, &ch);
	for (unsigned int i = 0; i < 3; i++) {
		struct fb_read_in in = {.fh = 1, .size = 64};

		fbreq_start(&q, FB_READ, i + 10, 5);
		fbreq_put(&q, &in, sizeof(in));
		send_req(&q);
		CHECK_EQ(fb_channel_process(ch), 0);
	}
	for (int i = 0; i < 3; i++)
		r[i] = queue[i];
	/* One is answered before the end: its reply goes out. */
	CHECK_EQ(fb_req_reply_err(r[0], -EIO), 0);
	CHECK_EQ(read(kfd, buf, sizeof(buf)), 16);
	/* The loop ends: the channel goes first, its fd lives on for the deferred ones... */
	fb_channel_free(ch);
	/* ...until the session's end cancels them (nothing is written for them). */
	fb_session_free(se);
	CHECK_EQ(fb_req_reply_err(r[1], -EIO), -ECANCELED);
	CHECK_EQ(fb_req_reply_err(r[2], -EIO), -ECANCELED);
	/* The channel's end is closed now: the kernel side reads the end of the stream. */
	CHECK_EQ(read(kfd, buf, sizeof(buf)), 0);
	fb_server_free(srv);
	close(kfd);
	fbreq_free(&q);
}

TEST_MAIN()
