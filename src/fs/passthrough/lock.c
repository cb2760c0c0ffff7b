/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Passthrough POSIX record locks and flock(), held on the host file.
 * The containment and credential rules are in ops.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sched.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/fs.h>
#include <fuse_backend/server.h>

#include "passthrough_i.h"

static void lock_to_flock(const struct fb_lock *lk, struct flock *fl)
{
	memset(fl, 0, sizeof(*fl));
	fl->l_type = (short)lk->type;
	fl->l_whence = SEEK_SET;
	fl->l_start = (off_t)lk->start;
	if (lk->end == UINT64_MAX || lk->end >= (uint64_t)INT64_MAX)
		fl->l_len = 0;
	else
		fl->l_len = (off_t)(lk->end - lk->start + 1);
	fl->l_pid = 0; /* OFD locks */
}

/* ---- waiting locks ---------------------------------------------------------------------------
 *
 * A SETLKW or a blocking flock() whose lock is taken does not hold the transport's thread: the
 * request is deferred (fb_ctx_defer()) and a waiter thread of the passthrough blocks in
 * F_OFD_SETLKW or flock() for it, then answers. An INTERRUPT (or a cancellation) finds the
 * waiter by its request and sends it WAKE_SIG, whose handler does nothing and is installed
 * without SA_RESTART, so the blocking call fails with EINTR and the request is answered EINTR.
 * A lock taken in spite of an interrupt is answered 0: the kernel still waits for the reply and
 * the caller then holds the lock, as with a local file system that granted it first.
 *
 * A signal sent just before the waiter enters the blocking call is lost; destroy() therefore
 * sends it again until every waiter has left. Finished waiters are joined by the next waiting
 * lock or by destroy(), so no thread is detached and none outlives the passthrough.
 *
 * Without a deferrable request (fb_server_handle(), a transport without completions) the
 * operation waits in place, polling, as before.
 */
#define WAKE_SIG	SIGURG
#define WAITERS_MAX	4096

struct fb__pt_waiter {
	struct fb__pt_waiter *next;	/* on pt->waiters or pt->waiters_done */
	struct fb_passthrough *pt;
	struct fb__pt_handle *h;	/* a ref, dropped by the waiter */
	struct fb_req *req;		/* answered by the waiter */
	struct flock fl;		/* F_OFD_SETLKW, or */
	int flock_op;			/* flock() when not 0 */
	pthread_t thread;
	int started;			/* thread is valid (under waiters_lock) */
	int finished;			/* answered or about to be: no more wake-ups */
	atomic_int stop;		/* interrupted or cancelled: give up waiting */
};

static void wake_handler(int sig)
{
	(void)sig;
}

static pthread_once_t wake_once = PTHREAD_ONCE_INIT;
static int wake_ok;

/* Install the no-op handler unless the application has one of its own for WAKE_SIG. */
static void wake_install(void)
{
	struct sigaction sa, old;

	if (sigaction(WAKE_SIG, NULL, &old) < 0)
		return;
	if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN) {
		/* theirs: it interrupts the call unless it restarts it */
		wake_ok = !(old.sa_flags & SA_RESTART);
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wake_handler;
	sigemptyset(&sa.sa_mask);
	wake_ok = sigaction(WAKE_SIG, &sa, NULL) == 0;
}

int fb__pt_locks_init(struct fb_passthrough *pt)
{
	pt->waiters = NULL;
	pt->waiters_done = NULL;
	pt->nwaiters = 0;
	return -pthread_mutex_init(&pt->waiters_lock, NULL);
}

/* Join the waiters that have finished. Caller does not hold waiters_lock. */
static void waiters_reap(struct fb_passthrough *pt)
{
	struct fb__pt_waiter *w, *next;

	pthread_mutex_lock(&pt->waiters_lock);
	w = pt->waiters_done;
	pt->waiters_done = NULL;
	pthread_mutex_unlock(&pt->waiters_lock);
	for (; w; w = next) {
		next = w->next;
		pthread_join(w->thread, NULL);
		free(w);
	}
}

void fb__pt_locks_cancel(struct fb_passthrough *pt)
{
	struct fb__pt_waiter *w;
	unsigned int n;

	for (;;) {
		pthread_mutex_lock(&pt->waiters_lock);
		for (w = pt->waiters; w; w = w->next) {
			atomic_store(&w->stop, 1);
			if (w->started && !w->finished)
				pthread_kill(w->thread, WAKE_SIG);
		}
		n = pt->nwaiters;
		pthread_mutex_unlock(&pt->waiters_lock);
		waiters_reap(pt);
		if (n == 0)
			break;
		usleep(5000);
	}
}

void fb__pt_locks_done(struct fb_passthrough *pt)
{
	fb__pt_locks_cancel(pt);
	pthread_mutex_destroy(&pt->waiters_lock);
}

/* Unlink @w from the active list. Caller holds waiters_lock. */
static void waiter_unlink_locked(struct fb_passthrough *pt, struct fb__pt_waiter *w)
{
	struct fb__pt_waiter **p;

	for (p = &pt->waiters; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			pt->nwaiters--;
			return;
		}
	}
}

static void *waiter_main(void *arg)
{
	struct fb__pt_waiter *w = arg;
	struct fb_passthrough *pt = w->pt;
	sigset_t set;
	int r;

	sigemptyset(&set);
	sigaddset(&set, WAKE_SIG);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	for (;;) {
		if (atomic_load(&w->stop) || fb_req_interrupted(w->req)) {
			r = -EINTR;
			break;
		}
		if (w->flock_op)
			r = fb__pt_sys.flock(w->h->fd, w->flock_op) < 0 ? -errno : 0;
		else
			r = fb__pt_sys.fcntl_lock(w->h->fd, F_OFD_SETLKW, &w->fl) < 0 ? -errno : 0;
		if (r != -EINTR)
			break;
	}
	fb__pt_handle_put(pt, w->h);
	pthread_mutex_lock(&pt->waiters_lock);
	w->finished = 1;
	pthread_mutex_unlock(&pt->waiters_lock);
	fb_req_reply_err(w->req, r);
	/* Joined by the next waiting lock or destroy(): the thread ends just after this. */
	pthread_mutex_lock(&pt->waiters_lock);
	waiter_unlink_locked(pt, w);
	w->next = pt->waiters_done;
	pt->waiters_done = w;
	pthread_mutex_unlock(&pt->waiters_lock);
	return NULL;
}

/* INTERRUPT or cancellation of a deferred lock: wake its waiter. Never blocks. */
static void waiter_interrupt(struct fb_req *req, void *priv)
{
	struct fb_passthrough *pt = priv;
	struct fb__pt_waiter *w;

	pthread_mutex_lock(&pt->waiters_lock);
	for (w = pt->waiters; w; w = w->next) {
		if (w->req != req || w->finished)
			continue;
		atomic_store(&w->stop, 1);
		if (w->started)
			pthread_kill(w->thread, WAKE_SIG);
		break;
	}
	pthread_mutex_unlock(&pt->waiters_lock);
}

/*
 * Hand the wait for @h's lock (@fl, or flock() with @flock_op) to a waiter. Returns
 * FB_REPLY_LATER (the waiter answers; the ref on @h is its), or -EAGAIN when the request cannot
 * be deferred here (wait in place; @h untouched).
 */
static int wait_later(struct fb_passthrough *pt, const struct fb_ctx *ctx,
		      struct fb__pt_handle *h, const struct flock *fl, int flock_op)
{
	struct fb__pt_waiter *w;
	struct fb_req *req;
	int r;

	pthread_once(&wake_once, wake_install);
	if (!wake_ok || !ctx)
		return -EAGAIN;
	waiters_reap(pt);
	w = calloc(1, sizeof(*w));
	if (!w)
		return -EAGAIN;
	pthread_mutex_lock(&pt->waiters_lock);
	r = pt->nwaiters >= WAITERS_MAX ? -EAGAIN : 0;
	pthread_mutex_unlock(&pt->waiters_lock);
	req = r == 0 ? fb_ctx_defer(ctx) : NULL;
	if (!req) {
		free(w);
		return -EAGAIN;
	}
	w->pt = pt;
	w->h = h;
	w->req = req;
	if (fl)
		w->fl = *fl;
	w->flock_op = flock_op;
	atomic_init(&w->stop, 0);
	pthread_mutex_lock(&pt->waiters_lock);
	w->next = pt->waiters;
	pt->waiters = w;
	pt->nwaiters++;
	pthread_mutex_unlock(&pt->waiters_lock);
	/* Before the thread runs, so that the request cannot be answered (and freed) yet; an
	 * interrupt that came already sets stop at once. */
	fb_req_on_interrupt(req, waiter_interrupt, pt);
	pthread_mutex_lock(&pt->waiters_lock);
	r = -pthread_create(&w->thread, NULL, waiter_main, w);
	w->started = r == 0;
	if (r < 0)
		waiter_unlink_locked(pt, w);
	pthread_mutex_unlock(&pt->waiters_lock);
	if (r < 0) {
		fb_log(FB_LOG_WARNING, "passthrough: no thread for a waiting lock (%s)",
		       strerror(-r));
		fb__pt_handle_put(pt, h);
		free(w);
		fb_req_reply_err(req, -ENOLCK);
	}
	return FB_REPLY_LATER;
}

/*
 * The start of GETLK and SETLK: the open handle @fh (a reference the caller puts) and @lk as a
 * struct flock. -EBADF for an unknown handle, -EINVAL for a range the host cannot express.
 */
static int lock_begin(struct fb_passthrough *pt, uint64_t fh, const struct fb_lock *lk,
		      struct flock *fl, struct fb__pt_handle **ret)
{
	struct fb__pt_handle *h = fb__pt_handle_of(pt, fh);

	if (!h)
		return -EBADF;
	if (lk->start > (uint64_t)INT64_MAX || lk->end < lk->start) {
		fb__pt_handle_put(pt, h);
		return -EINVAL;
	}
	lock_to_flock(lk, fl);
	*ret = h;
	return 0;
}

int fb__pt_getlk(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		 struct fb_lock *lk)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h;
	struct flock fl;
	int r = lock_begin(pt, fh, lk, &fl, &h);

	if (r < 0)
		return r;
	r = fb__pt_sys.fcntl_lock(h->fd, F_OFD_GETLK, &fl) < 0 ? -errno : 0;
	fb__pt_handle_put(pt, h);
	if (r < 0)
		return r;
	lk->type = (uint32_t)fl.l_type;
	if (fl.l_type != F_UNLCK) {
		lk->start = (uint64_t)fl.l_start;
		lk->end = fl.l_len == 0 ? UINT64_MAX : (uint64_t)(fl.l_start + fl.l_len - 1);
		lk->pid = fl.l_pid > 0 ? (uint32_t)fl.l_pid : 0;
	}
	return 0;
}

int fb__pt_setlk(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		 const struct fb_lock *lk, int sleep)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h;
	struct flock fl;
	int r = lock_begin(pt, fh, lk, &fl, &h);

	if (r < 0)
		return r;
	r = fb__pt_sys.fcntl_lock(h->fd, F_OFD_SETLK, &fl) < 0 ? -errno : 0;
	if (sleep && (r == -EAGAIN || r == -EACCES)) {
		r = wait_later(pt, ctx, h, &fl, 0);
		if (r == FB_REPLY_LATER)
			return r;
	}
	/*
	 * Waiting in place (the request cannot be deferred) polls so that an interrupt (the
	 * caller got a signal) ends the wait and the thread is not stuck forever.
	 */
	while (sleep && (r == -EAGAIN || r == -EACCES)) {
		if (ctx && ctx->server && fb_ctx_interrupted(ctx)) {
			r = -EINTR;
			break;
		}
		usleep(2000);
		r = fb__pt_sys.fcntl_lock(h->fd, F_OFD_SETLK, &fl) < 0 ? -errno : 0;
	}
	fb__pt_handle_put(pt, h);
	return r;
}

int fb__pt_flock(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		 int op)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h = fb__pt_handle_of(pt, fh);
	int r;

	if (!h)
		return -EBADF;
	r = fb__pt_sys.flock(h->fd, op | LOCK_NB) < 0 ? -errno : 0;
	if (!(op & LOCK_NB) && r == -EWOULDBLOCK) {
		r = wait_later(pt, ctx, h, NULL, op);
		if (r == FB_REPLY_LATER)
			return r;
	}
	/* Waiting in place: as in fb__pt_setlk(). */
	while (!(op & LOCK_NB) && r == -EWOULDBLOCK) {
		if (ctx && ctx->server && fb_ctx_interrupted(ctx)) {
			r = -EINTR;
			break;
		}
		usleep(2000);
		r = fb__pt_sys.flock(h->fd, op | LOCK_NB) < 0 ? -errno : 0;
	}
	fb__pt_handle_put(pt, h);
	return r;
}
