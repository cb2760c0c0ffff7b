/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Replies later: fb_ctx_defer(), the fb_req_reply_*() answers, cancellation and the completion
 * of deferred requests (the contract is in server.h and fs.h; the state machine in server_i.h
 * at struct fb_req).
 *
 * A deferred reply is encoded by the same functions as an immediate one (reply.c, and
 * fb__encode() for the header and errors) on a request rebuilt around the handle's copy of the
 * writer, so both paths send the same bytes.
 *
 * Locks: the state bits and reference counts are atomics; the server's intr_lock protects the
 * in-flight list (which deferred requests stay on until answered), the interrupt callbacks and
 * deferred_n. Callbacks (the transport's complete(), the owner's interrupt callback) run with
 * no lock held.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api/server_i.h"

/* Reply classes: which answer fits which opcode. */
enum reply_kind { K_ERR, K_ENTRY, K_ATTR, K_OPEN, K_CREATE, K_DATA, K_WRITE };

static const char *const kind_name[] = {
	[K_ERR] = "err",       [K_ENTRY] = "entry", [K_ATTR] = "attr",	 [K_OPEN] = "open",
	[K_CREATE] = "create", [K_DATA] = "data",   [K_WRITE] = "write",
};

/* The answer @opcode takes on success (errors fit every opcode). */
static enum reply_kind kind_of(uint32_t opcode)
{
	switch (opcode) {
	case FB_LOOKUP:
	case FB_MKNOD:
	case FB_MKDIR:
	case FB_SYMLINK:
	case FB_LINK:
		return K_ENTRY;
	case FB_GETATTR:
	case FB_SETATTR:
		return K_ATTR;
	case FB_OPEN:
	case FB_OPENDIR:
		return K_OPEN;
	case FB_CREATE:
		return K_CREATE;
	case FB_READ:
		return K_DATA;
	case FB_WRITE:
		return K_WRITE;
	default:
		return K_ERR;
	}
}

struct fb_req *fb_ctx_defer(const struct fb_ctx *ctx)
{
	struct fb__req *req = fb__current_req();
	struct fb_server *s;
	struct fb_req *d;

	if (!ctx || !req || &req->ctx != ctx)
		return NULL;
	if (req->d)
		return req->d;
	if (!req->token || !(req->op_flags & FB__OP_DEFER) || !req->track)
		return NULL;
	s = req->s;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	atomic_init(&d->state, 0);
	atomic_init(&d->refs, 2); /* the owner's and the server's */
	d->s = s;
	d->h = req->h;
	d->ctx = req->ctx;
	d->ctx.secctx_name = NULL;
	d->ctx.secctx = NULL;
	d->ctx.secctx_len = 0;
	if (req->ctx.ngroups) {
		memcpy(d->groups, req->ctx.groups, req->ctx.ngroups * sizeof(uint32_t));
		d->ctx.groups = d->groups;
	}
	d->token = req->token;
	d->start = *req->start;
	d->w = *req->w;
	d->data_max = req->data_max;
	d->track.unique = req->h.unique & ~FB_UNIQUE_RESEND;
	d->track.deferred = d;
	pthread_mutex_lock(&s->intr_lock);
	atomic_init(&d->track.interrupted, atomic_load(&req->track->interrupted));
	d->track.next = s->inflight.next;
	d->track.prev = &s->inflight;
	s->inflight.next->prev = &d->track;
	s->inflight.next = &d->track;
	pthread_mutex_unlock(&s->intr_lock);
	req->d = d;
	return d;
}

void fb__req_unref(struct fb_req *d)
{
	if (atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) == 1)
		free(d);
}

void fb_req_ref(struct fb_req *req)
{
	if (req)
		atomic_fetch_add_explicit(&req->refs, 1, memory_order_relaxed);
}

void fb_req_unref(struct fb_req *req)
{
	if (req)
		fb__req_unref(req);
}

const struct fb_ctx *fb_req_ctx(const struct fb_req *req)
{
	return &req->ctx;
}

int fb_req_cancelled(const struct fb_req *req)
{
	struct fb_req *m = (struct fb_req *)req;

	return (atomic_load(&m->state) & FB__REQ_CANCELLED) != 0;
}

int fb_req_interrupted(const struct fb_req *req)
{
	struct fb_req *m = (struct fb_req *)req;

	return atomic_load(&m->track.interrupted) || fb_req_cancelled(req);
}

/* Take @d off the in-flight list (it is no longer waited for). Caller holds intr_lock. */
static void untrack_locked(struct fb_req *d)
{
	if (!d->track.next)
		return;
	d->track.prev->next = d->track.next;
	d->track.next->prev = d->track.prev;
	d->track.next = d->track.prev = NULL;
}

/* One deferred request fewer in the transport's hands. */
static void deferred_dec(struct fb_server *s)
{
	pthread_mutex_lock(&s->intr_lock);
	if (--s->deferred_n == 0)
		pthread_cond_broadcast(&s->deferred_cond);
	pthread_mutex_unlock(&s->intr_lock);
}

void fb__run_interrupt_cbs(struct fb_req *list)
{
	struct fb_req *d, *next;

	for (d = list; d; d = next) {
		next = d->cnext;
		d->intr_fn(d, d->intr_priv);
		fb__req_unref(d);
	}
}

void fb_req_on_interrupt(struct fb_req *req, fb_req_interrupt_fn fn, void *priv)
{
	struct fb_server *s;
	int now;

	if (!req)
		return;
	s = req->s;
	pthread_mutex_lock(&s->intr_lock);
	req->intr_fn = fn;
	req->intr_priv = priv;
	now = fn && !req->intr_called && atomic_load(&req->track.interrupted);
	if (now)
		req->intr_called = 1;
	pthread_mutex_unlock(&s->intr_lock);
	if (now)
		fn(req, priv);
}

/* The bytes of an error reply for a cancelled request whose memory is still ours. */
static ssize_t cancel_reply(struct fb_req *d)
{
	struct fb_server *s = d->s;
	struct fb_writer w = d->start;
	ssize_t n;

	if (!(s->tops.flags & FB_TRANSPORT_REPLY_ALWAYS))
		return 0;
	n = fb__reply_error(&w, &d->start, d->h.unique, -ENOTCONN);
	return n < 0 ? 0 : n;
}

void fb__cancel_deferred(struct fb_server *s)
{
	struct fb_req *list = NULL, *d, *next;
	struct fb__inflight *e, *enext;

	pthread_mutex_lock(&s->intr_lock);
	for (e = s->inflight.next; e != &s->inflight; e = enext) {
		unsigned int old;

		enext = e->next;
		d = e->deferred;
		if (!d)
			continue;
		old = atomic_load(&d->state);
		do {
			if (old & (FB__REQ_REPLIED | FB__REQ_CANCELLED))
				break;
		} while (!atomic_compare_exchange_weak(&d->state, &old, old | FB__REQ_CANCELLED));
		if (old & (FB__REQ_REPLIED | FB__REQ_CANCELLED))
			continue; /* its reply is being encoded: the replier completes it */
		d->cancel_returned = (old & FB__REQ_RETURNED) != 0;
		untrack_locked(d);
		atomic_fetch_add(&d->refs, 1);
		d->cnext = list;
		list = d;
	}
	pthread_mutex_unlock(&s->intr_lock);

	for (d = list; d; d = next) {
		fb_req_interrupt_fn fn;
		void *priv;

		next = d->cnext;
		fb_log(FB_LOG_DEBUG, "unique=%" PRIu64 " %s: deferred request cancelled",
		       d->h.unique, fb_opcode_name(d->h.opcode));
		if (d->cancel_returned) {
			/* In the transport's hands: give its memory back. Otherwise the handler
			 * is still running and its return answers the transport. */
			s->tops.complete(s->tpriv, d->token, cancel_reply(d));
			deferred_dec(s);
			fb__req_unref(d); /* the server's reference */
		}
		pthread_mutex_lock(&s->intr_lock);
		fn = d->intr_fn;
		priv = d->intr_priv;
		pthread_mutex_unlock(&s->intr_lock);
		if (fn)
			fn(d, priv);
		fb__req_unref(d);
	}

	/* Replies being encoded right now complete on their own threads. */
	pthread_mutex_lock(&s->intr_lock);
	while (s->deferred_n > 0)
		pthread_cond_wait(&s->deferred_cond, &s->intr_lock);
	pthread_mutex_unlock(&s->intr_lock);
}

void fb_server_cancel_deferred(struct fb_server *s)
{
	if (s)
		fb__cancel_deferred(s);
}

ssize_t fb__deferred_returned(struct fb__req *req, int rc, struct fb_writer *w)
{
	struct fb_server *s = req->s;
	struct fb_req *d = req->d;
	unsigned int old;
	ssize_t ret;

	if (rc != FB__DEFERRED) {
		/* Took the request and answered at once: the immediate answer wins unless a
		 * reply through the handle (or a cancellation) came first. */
		old = atomic_load(&d->state);
		do {
			if (old & (FB__REQ_REPLIED | FB__REQ_CANCELLED))
				break;
		} while (!atomic_compare_exchange_weak(&d->state, &old, old | FB__REQ_CANCELLED));
		if (!(old & (FB__REQ_REPLIED | FB__REQ_CANCELLED))) {
			fb_log(FB_LOG_ERR,
			       "unique=%" PRIu64 " %s: the operation took its request for a later "
			       "reply but answered at once (%d); the later reply will be dropped",
			       req->h.unique, fb_opcode_name(req->h.opcode), rc);
			pthread_mutex_lock(&s->intr_lock);
			untrack_locked(d);
			pthread_mutex_unlock(&s->intr_lock);
			fb__req_unref(d); /* the server's reference */
			return fb__encode(req, req->start, rc);
		}
	}
	pthread_mutex_lock(&s->intr_lock);
	s->deferred_n++;
	pthread_mutex_unlock(&s->intr_lock);
	old = atomic_fetch_or_explicit(&d->state, FB__REQ_RETURNED, memory_order_acq_rel);
	if (!(old & (FB__REQ_DONE | FB__REQ_CANCELLED)))
		return -EINPROGRESS; /* complete() follows */
	deferred_dec(s);
	if (old & FB__REQ_DONE) {
		/* Answered while the operation ran: an ordinary reply. */
		*w = d->w;
		ret = d->len;
	} else if (s->tops.flags & FB_TRANSPORT_REPLY_ALWAYS) {
		ret = fb__reply_error(w, req->start, req->h.unique, -ENOTCONN);
	} else {
		*w = *req->start;
		ret = 0;
	}
	fb__req_unref(d); /* the server's reference */
	return ret;
}

/* ---- the answers --------------------------------------------------------------------------- */

/*
 * Start the one reply of @d. Returns 0 to go on, or what the reply call returns: -EALREADY
 * for a second reply, -ECANCELED (and the owner's reference released) after a cancellation.
 */
static int claim(struct fb_req *d, const char *what)
{
	unsigned int old =
		atomic_fetch_or_explicit(&d->state, FB__REQ_REPLIED, memory_order_acq_rel);

	if (old & FB__REQ_REPLIED) {
		fb_log(FB_LOG_ERR, "unique=%" PRIu64 " %s: second reply (%s) refused", d->h.unique,
		       fb_opcode_name(d->h.opcode), what);
		return -EALREADY;
	}
	if (old & FB__REQ_CANCELLED) {
		fb_log(FB_LOG_DEBUG, "unique=%" PRIu64 " %s: cancelled, reply (%s) dropped",
		       d->h.unique, fb_opcode_name(d->h.opcode), what);
		fb__req_unref(d);
		return -ECANCELED;
	}
	return 0;
}

/* A request around @d's reply memory for the encoders. */
static void req_rebuild(struct fb_req *d, struct fb__req *req)
{
	memset(req, 0, offsetof(struct fb__req, groups));
	req->s = d->s;
	req->h = d->h;
	req->ctx = d->ctx;
	req->w = &d->w;
	req->start = &d->start;
	req->data_max = d->data_max;
}

/* Encode the header (or the error @rc) and hand the reply to whoever sends it. */
static void deliver(struct fb_req *d, struct fb__req *req, int rc)
{
	struct fb_server *s = d->s;
	unsigned int old;
	ssize_t n;

	n = fb__encode(req, &d->start, rc);
	d->len = n > 0 ? n : 0;
	pthread_mutex_lock(&s->intr_lock);
	untrack_locked(d);
	pthread_mutex_unlock(&s->intr_lock);
	old = atomic_fetch_or_explicit(&d->state, FB__REQ_DONE, memory_order_acq_rel);
	if (old & FB__REQ_RETURNED) {
		s->tops.complete(s->tpriv, d->token, d->len);
		deferred_dec(s);
		fb__req_unref(d); /* the server's reference */
	}
	fb__req_unref(d); /* the owner's */
}

/* The answer @what does not fit @d's opcode: the kernel gets EIO. */
static int mismatch(struct fb_req *d, struct fb__req *req, const char *what)
{
	fb_log(FB_LOG_ERR, "unique=%" PRIu64 " %s: a %s reply does not fit; sending EIO",
	       d->h.unique, fb_opcode_name(d->h.opcode), what);
	deliver(d, req, -EIO);
	return -EINVAL;
}

/* Common start of an answer of kind @k: 1 to encode it, else the return value in *@ret. */
static int begin(struct fb_req *d, struct fb__req *req, enum reply_kind k, int *ret)
{
	if (!d) {
		*ret = -EINVAL;
		return 0;
	}
	*ret = claim(d, kind_name[k]);
	if (*ret < 0)
		return 0;
	req_rebuild(d, req);
	if (k != K_ERR && kind_of(d->h.opcode) != k) {
		*ret = mismatch(d, req, kind_name[k]);
		return 0;
	}
	return 1;
}

int fb_req_reply_err(struct fb_req *req, int err)
{
	struct fb__req r;
	int ret;

	if (!begin(req, &r, K_ERR, &ret))
		return ret;
	if (err == 0 && kind_of(req->h.opcode) != K_ERR)
		return mismatch(req, &r, "success without a body");
	deliver(req, &r, err);
	return 0;
}

int fb_req_reply_entry(struct fb_req *req, const struct fb_entry *e)
{
	struct fb__req r;
	int ret;

	if (!begin(req, &r, K_ENTRY, &ret))
		return ret;
	deliver(req, &r, fb__entry_reply(&r, e, req->h.opcode != FB_LOOKUP));
	return 0;
}

int fb_req_reply_attr(struct fb_req *req, const struct stat *st, double timeout)
{
	struct fb__req r;
	int ret;

	if (!begin(req, &r, K_ATTR, &ret))
		return ret;
	deliver(req, &r, fb__reply_attr(&r, st, timeout));
	return 0;
}

int fb_req_reply_open(struct fb_req *req, const struct fb_file_info *fi)
{
	struct fb__req r;
	int ret;

	if (!begin(req, &r, K_OPEN, &ret))
		return ret;
	deliver(req, &r, fb__reply_open(&r, fi));
	return 0;
}

int fb_req_reply_create(struct fb_req *req, const struct fb_entry *e, const struct fb_file_info *fi)
{
	struct fb__req r;
	int ret;

	if (!begin(req, &r, K_CREATE, &ret))
		return ret;
	deliver(req, &r, fb__create_reply(&r, e, fi));
	return 0;
}

int fb_req_reply_data(struct fb_req *req, const struct iovec *iov, int iovcnt)
{
	struct fb__req r;
	size_t total = 0;
	int ret;

	if (!begin(req, &r, K_DATA, &ret))
		return ret;
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (iovcnt < 0 || total > req->data_max) {
		fb_log(FB_LOG_ERR, "unique=%" PRIu64 " READ: %zu bytes of data for %zu asked",
		       req->h.unique, total, req->data_max);
		deliver(req, &r, -EIO);
		return -EINVAL;
	}
	for (int i = 0; i < iovcnt; i++) {
		if (fb_writer_write(&req->w, iov[i].iov_base, iov[i].iov_len) < 0) {
			deliver(req, &r, -EIO);
			return -EINVAL;
		}
	}
	deliver(req, &r, 0);
	return 0;
}

int fb_req_reply_data_fd(struct fb_req *req, int fd, size_t len, off_t off)
{
	struct fb__req r;
	ssize_t n;
	int ret;

	if (!begin(req, &r, K_DATA, &ret))
		return ret;
	if (len > req->data_max)
		len = req->data_max;
	n = len ? fb_writer_from_fd(&req->w, fd, len, off) : 0;
	deliver(req, &r, n < 0 ? (int)n : 0);
	return 0;
}

int fb_req_reply_write(struct fb_req *req, size_t size)
{
	struct fb_write_out out = {0};
	struct fb__req r;
	int ret;

	if (!begin(req, &r, K_WRITE, &ret))
		return ret;
	if (size > req->data_max) {
		fb_log(FB_LOG_ERR, "unique=%" PRIu64 " WRITE: wrote %zu of %zu bytes",
		       req->h.unique, size, req->data_max);
		deliver(req, &r, -EIO);
		return -EINVAL;
	}
	out.size = (uint32_t)size;
	deliver(req, &r, fb__put(&r, &out, sizeof(out)));
	return 0;
}
