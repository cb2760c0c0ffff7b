/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The default multi-threaded loop, built only from the public session and channel calls.
 *
 * N workers each block in read() on their own channel. The calling thread waits on the
 * session's exit eventfd: when fb_session_exit() is called it unmounts, which ends the
 * connection, so every blocked read() returns ENODEV and the workers finish by themselves; no
 * thread is cancelled or signalled. When the mount goes away from outside the workers see
 * ENODEV the same way.
 *
 * Spare workers: an operation may wait for a long time (a SETLKW in a file system that
 * blocks in setlk, an operation polling fb_ctx_interrupted(), any slow operation that does not
 * answer later), and what ends the wait (the INTERRUPT, the unlock) is a request that some
 * worker must read. So when every worker is busy and none has finished a request for
 * SPARE_DELAY_MS, the calling thread starts one more, up to SPARE_MAX beyond N. Spares stay
 * until the loop ends. (The passthrough answers its waiting locks later: they hold no worker.)
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#include <fuse_backend/abi.h>

#include "fusedev_i.h"

#define SPARE_MAX      64
#define SPARE_DELAY_MS 100

/* What the workers share with the calling thread. */
struct pool {
	atomic_int running; /* workers still in their loop */
	atomic_int idle;    /* workers not inside a request (waiting in read()) */
	atomic_uint served; /* requests handled so far (wraps) */
	int wake_fd;	    /* eventfd: written when the last idle worker takes a request */
};

struct worker {
	pthread_t thread;
	struct fb_session *se;
	struct fb_channel *ch;
	struct pool *pool;
	int err; /* why the worker stopped, if not the end of the connection */
};

/*
 * After a FORGET, when the requests travel elsewhere (io_uring): let the next FORGETs gather
 * in the kernel for a moment rather than waking this worker once per forgotten inode. An
 * INTERRUPT that arrives meanwhile waits as long at most.
 */
static void gather_forgets(struct worker *w)
{
	unsigned int us = atomic_load_explicit(&w->se->forget_gather_us, memory_order_relaxed);
	uint32_t op = w->ch->opcode;
	struct timespec ts;

	if (!us || (op != FB_FORGET && op != FB_BATCH_FORGET))
		return;
	ts.tv_sec = us / 1000000;
	ts.tv_nsec = (long)(us % 1000000) * 1000;
	nanosleep(&ts, NULL);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *pool = w->pool;
	uint64_t one = 1;
	ssize_t n;
	int r;

	for (;;) {
		struct fb_reader rd;
		struct fb_writer wr;

		n = fb_channel_receive(w->ch, &rd, &wr);
		if (n == -EINTR || n == -EAGAIN)
			continue;
		r = (int)n;
		if (n > 0) {
			if (atomic_fetch_sub(&pool->idle, 1) == 1) {
				n = write(pool->wake_fd, &one, sizeof(one));
				(void)n;
			}
			r = fb__channel_handle(w->ch, &rd, &wr);
			atomic_fetch_add(&pool->served, 1);
			atomic_fetch_add(&pool->idle, 1);
			if (r == 0)
				gather_forgets(w);
		}
		if (r == -ENODEV)
			break;
		if (r < 0) {
			w->err = r;
			fb_session_exit(w->se); /* the others stop when the mount goes */
			break;
		}
	}
	atomic_fetch_sub(&pool->running, 1);
	n = write(fb_session_exit_fd(w->se), &one, sizeof(one));
	(void)n;
	return NULL;
}

/* Start worker @w (its channel already open). Returns 0 or a negative errno. */
static int worker_start(struct worker *w, struct fb_session *se, struct pool *pool)
{
	int r;

	w->se = se;
	w->pool = pool;
	atomic_fetch_add(&pool->running, 1);
	atomic_fetch_add(&pool->idle, 1);
	r = pthread_create(&w->thread, NULL, worker_main, w);
	if (r) {
		atomic_fetch_sub(&pool->running, 1);
		atomic_fetch_sub(&pool->idle, 1);
		return -r;
	}
	return 0;
}

/* End the connection after fb_session_exit(): unmount, by force if the mount is busy. */
static void stop_mount(struct fb_session *se)
{
	int r = fb__session_unmount(se, 0, 1);

	if (r != -EBUSY) {
		if (r < 0)
			fb_log(FB_LOG_ERR, "cannot unmount %s: %s", se->mountpoint, strerror(-r));
		return;
	}
	fb_log(FB_LOG_INFO, "%s is busy: aborting the connection and detaching the mount",
	       se->mountpoint);
	fb__session_force_unmount(se); /* FUSE aborts the connection */
	fb__abort_conn(se->conn_id);
	fb_session_unmount(se, 1);
}

int fb_session_loop(struct fb_session *se, unsigned int nthreads)
{
	struct worker *workers;
	struct pool pool;
	unsigned int started = 0, nmax, nch = 0, last_served = 0;
	int stopping = 0, waited = 0, spare_err = 0, r = 0;

	if (!se)
		return -EINVAL;
	if (se->fd < 0)
		return -ENOTCONN;
	if (nthreads == 0)
		nthreads = 1;
	if (nthreads > 1024)
		return -EINVAL;
	nmax = nthreads + SPARE_MAX;
	workers = calloc(nmax, sizeof(*workers));
	if (!workers)
		return -ENOMEM;
	atomic_init(&pool.running, 0);
	atomic_init(&pool.idle, 0);
	atomic_init(&pool.served, 0);
	pool.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pool.wake_fd < 0) {
		r = -errno;
		goto out_free;
	}
	for (; nch < nthreads; nch++) {
		r = fb_session_channel_new(se, 0, &workers[nch].ch);
		if (r < 0)
			goto out_free_channels;
	}
	for (; started < nthreads; started++) {
		r = worker_start(&workers[started], se, &pool);
		if (r < 0) {
			fb_log(FB_LOG_ERR, "cannot start a worker thread: %s", strerror(-r));
			fb_session_exit(se);
			spare_err = r; /* and no spares: workers[started] holds a channel */
			break;
		}
	}

	while (atomic_load(&pool.running) > 0) {
		struct pollfd p[2] = {
			{.fd = se->exit_fd, .events = POLLIN},
			{.fd = pool.wake_fd, .events = POLLIN},
		};
		int busy =
			!stopping && !spare_err && started < nmax && atomic_load(&pool.idle) <= 0;
		int timeout = stopping ? 1000 : busy ? SPARE_DELAY_MS : -1;
		uint64_t v;
		ssize_t n;

		if (atomic_load(&se->exit_requested) && !stopping) {
			stopping = 1;
			stop_mount(se);
			continue;
		}
		if (poll(p, 2, timeout) == 0) {
			if (stopping && atomic_load(&pool.running) > 0) {
				/* Still blocked a second after unmounting: end the connection
				 * harder. */
				if (!waited++)
					fb_log(FB_LOG_WARNING,
					       "workers still busy after unmount; aborting");
				fb__abort_conn(se->conn_id);
			} else if (busy && atomic_load(&pool.idle) <= 0 &&
				   atomic_load(&pool.served) == last_served) {
				/* Every worker is stuck in a request: add one. */
				r = fb_session_channel_new(se, 0, &workers[started].ch);
				if (r == 0)
					nch++;
				if (r == 0)
					r = worker_start(&workers[started], se, &pool);
				if (r < 0) {
					fb_log(FB_LOG_WARNING, "cannot start a spare worker: %s",
					       strerror(-r));
					spare_err = r;
					r = 0;
				} else {
					started++;
				}
			}
		}
		last_served = atomic_load(&pool.served);
		n = read(se->exit_fd, &v, sizeof(v));
		n = read(pool.wake_fd, &v, sizeof(v));
		(void)n;
	}
	for (unsigned int i = 0; i < started; i++) {
		pthread_join(workers[i].thread, NULL);
		if (!r && workers[i].err)
			r = workers[i].err;
	}
	/* Unmounted from outside, or the connection was aborted: drop a leftover mount. */
	if (!stopping)
		fb_session_unmount(se, 1);
	/* Requests still deferred are not waited for by anyone now; their replies are dropped. */
	fb_server_cancel_deferred(se->server);

out_free_channels:
	for (unsigned int i = 0; i < nch; i++)
		fb_channel_free(workers[i].ch);
	close(pool.wake_fd);
out_free:
	free(workers);
	return r;
}
