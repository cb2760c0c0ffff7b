/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Serving a virtqueue with a request server: each chain's readable part becomes a shared
 * reader (the server copies what it checks), its writable part a writer straight over guest
 * memory, and the reply length goes back in the used ring.
 *
 * Used ring updates are published once per batch (the chains one read of avail->idx
 * announced), so a burst of requests costs one index store and at most one interrupt.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <fuse_backend/buf.h>
#include <fuse_backend/server.h>
#include <fuse_backend/virtio.h>

#include "virtio_i.h"

/* Lines about misbehaving guests: at most this many per interval, then a count of the rest. */
#define BAD_LOG_BURST	    5
#define BAD_LOG_INTERVAL_NS 1000000000ull

/*
 * A rate limit for log lines a guest can cause at will: a guest sending nothing but bad chains
 * must not turn the host's log into its own. Shared by every queue of every device.
 */
struct ratelimit {
	pthread_mutex_t lock; /* protects the fields below */
	uint64_t start_ns;    /* when the current interval began */
	unsigned int printed; /* lines let through in it */
	unsigned int missed;  /* lines held back since the last one let through */
};

static struct ratelimit bad_log = {.lock = PTHREAD_MUTEX_INITIALIZER};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * May a line be logged now? Returns 1 and stores in *@ret_missed how many were held back
 * before it (to say so in the line), or 0 and counts this one as held back.
 */
static int ratelimit_allow(struct ratelimit *rl, unsigned int *ret_missed)
{
	uint64_t now = now_ns();
	int ok = 0;

	pthread_mutex_lock(&rl->lock);
	if (now - rl->start_ns >= BAD_LOG_INTERVAL_NS) {
		rl->start_ns = now;
		rl->printed = 0;
	}
	if (rl->printed < BAD_LOG_BURST) {
		rl->printed++;
		*ret_missed = rl->missed;
		rl->missed = 0;
		ok = 1;
	} else {
		rl->missed++;
	}
	pthread_mutex_unlock(&rl->lock);
	return ok;
}

/* Log a line about something the guest did, at the rate limit. */
static void log_guest_error(enum fb_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void log_guest_error(enum fb_log_level level, const char *fmt, ...)
{
	char line[256];
	unsigned int missed;
	va_list ap;

	if (!ratelimit_allow(&bad_log, &missed))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (missed)
		fb_log(level, "virtio-fs: %s (%u similar messages suppressed)", line, missed);
	else
		fb_log(level, "virtio-fs: %s", line);
}

/* What serve_chain() returns for a chain answered later: it is pushed then. */
#define CHAIN_DEFERRED UINT64_MAX

/*
 * Serve one chain; returns the number of bytes written to its writable part, or
 * CHAIN_DEFERRED when @df took it (its writable part, copied into the token, stays the
 * request's until the token's completion).
 */
static uint64_t serve_chain(struct fb_server *s, const struct fb_virtq_chain *c, int qsize,
			    struct fb__vdefer *df)
{
	struct fb__vchain *t = NULL;
	struct fb_reader r;
	struct fb_writer w;
	ssize_t n;

	if (c->bad) {
		log_guest_error(FB_LOG_WARNING, "chain %u: malformed (%s), completed empty",
				c->head, strerror(-c->bad));
		return 0;
	}
	fb_reader_init_shared(&r, c->in, c->nin);
	if (df && !df->spare) {
		int cap = FB_VIRTQ_IOV_MAX(qsize);

		df->spare = malloc(sizeof(*df->spare) + (size_t)cap * sizeof(struct iovec));
		if (df->spare) {
			df->spare->c.fn = df->fn;
			df->spare->owner = df->owner;
			df->spare->cap = cap;
		}
	}
	if (df && df->spare && df->spare->cap >= c->nout) {
		/* The iovecs live in the token: the popped chain's are reused by the next pop. */
		t = df->spare;
		memcpy(t->out, c->out, (size_t)c->nout * sizeof(struct iovec));
		t->nout = c->nout;
		t->head = c->head;
		fb_writer_init(&w, t->out, t->nout);
		n = fb_server_handle_async(s, &r, &w, t);
		if (n == -EINPROGRESS) {
			df->spare = NULL;
			return CHAIN_DEFERRED;
		}
	} else {
		fb_writer_init(&w, c->out, c->nout);
		n = fb_server_handle(s, &r, &w);
	}
	if (n == -ENODEV)
		n = (ssize_t)fb_writer_written(&w); /* DESTROY: its reply, if any */
	if (n < 0) {
		/* The writable part cannot hold even an error reply: the guest's mistake. */
		log_guest_error(FB_LOG_WARNING,
				"chain %u: no room for the reply (%s), completed empty", c->head,
				strerror((int)-n));
		return 0;
	}
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

int fb_virtio_fs_process(struct fb_server *s, struct fb_virtq *q, int *ret_notify)
{
	return fb__virtio_fs_process_async(s, q, NULL, ret_notify);
}

int fb__virtio_fs_process_async(struct fb_server *s, struct fb_virtq *q, struct fb__vdefer *df,
				int *ret_notify)
{
	uint64_t len;
	struct fb_virtq_chain c;
	int served = 0, notify = 0, r;
	/* A guest can refill the queue as fast as we serve it (even through the replies we
	 * write into its memory): one queue's worth per call, so that the caller gets a turn
	 * to stop (GET_VRING_BASE must not wait forever). */
	int budget = (int)fb__virtq_size(q);

	fb_virtq_set_notify(q, 0);
	for (;;) {
		if (served >= budget) {
			notify |= fb_virtq_flush(q);
			fb_virtq_set_notify(q, 1);
			break;
		}
		r = fb_virtq_pop(q, &c);
		if (r < 0) {
			notify |= fb_virtq_flush(q);
			/* Rate-limited too: the guest can kick a stopped queue at will. */
			log_guest_error(FB_LOG_ERR, "the available ring's index moved by more than "
						    "the queue size: queue stopped");
			*ret_notify = notify;
			return -EIO;
		}
		if (r == 0) {
			notify |= fb_virtq_flush(q);
			/* Empty: ask for a kick, then serve what came in before the driver saw it.
			 */
			if (!fb_virtq_set_notify(q, 1))
				break;
			fb_virtq_set_notify(q, 0);
			continue;
		}
		len = serve_chain(s, &c, (int)fb__virtq_size(q), df);
		if (len != CHAIN_DEFERRED)
			fb_virtq_push(q, c.head, (uint32_t)len);
		served++;
		if (fb__virtq_pending(q) == 0)
			notify |= fb_virtq_flush(q);
	}
	*ret_notify = notify;
	return served;
}

void fb_virtio_fs_transport_init(struct fb_transport_ops *ops)
{
	memset(ops, 0, sizeof(*ops));
	ops->size = sizeof(*ops);
	ops->flags = FB_TRANSPORT_FOREIGN_PIDS | FB_TRANSPORT_NO_INTERRUPT | FB_TRANSPORT_RESTART |
		     FB_TRANSPORT_REPLY_ALWAYS;
}
