/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The queues: the vring messages, starting and stopping rings, and the queue threads.
 *
 * A ring runs when it has a size (SET_VRING_NUM), addresses (SET_VRING_ADDR) that lie in
 * the memory table, and a kick fd, and is enabled: with VHOST_USER_F_PROTOCOL_FEATURES
 * negotiated a ring starts disabled until SET_VRING_ENABLE 1, without it a ring is enabled
 * from the start (the spec's "Ring states"). GET_VRING_BASE stops it and forgets its kick fd;
 * the front end restarts it with the same messages as at first. Every change to a running
 * ring's size, addresses, base or kick fd stops it first and starts it again after.
 *
 * Default loop: one thread per running ring ("fb-vu-qN"), sleeping in poll() on the kick fd and
 * a stop eventfd. Stopping writes the eventfd and joins the thread, which finishes the batch
 * it serves first: so when GET_VRING_BASE is answered every request the ring held is
 * answered. Own loop: no threads; fb_vhost_user_queue_process() serves a ring.
 *
 * A batch: kicks off (fb_virtq_set_notify 0), drain with fb_virtio_fs_process(), one call
 * notification when the driver wants one, kicks on again and look once more before sleeping
 * (a chain that came in between would otherwise wait for the next kick).
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhost_user_i.h"

static int event_idx(const struct fb_vhost_user *dev)
{
	return (dev->features >> FB_VIRTIO_F_RING_EVENT_IDX) & 1;
}

static int overlap(uint64_t a, size_t alen, uint64_t b, size_t blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * The ring pointers of @q for @num entries in the current memory table. Returns 0, -EFAULT
 * when a ring is not inside one region, or -EINVAL when two rings overlap: a used ring over
 * the available ring would feed the device its own completions as new chains, forever.
 */
static int ring_ptrs(const struct fb_vhost_user *dev, const struct vu_queue *q, unsigned int num,
		     void **desc, void **avail, void **used)
{
	const struct fb_guest_mem *gm = dev->mem.gm;
	const struct vu_vring_addr *a = &q->addr;
	int ev = event_idx(dev);
	size_t dlen = fb_virtq_desc_bytes(num), alen = fb_virtq_avail_bytes(num, ev),
	       ulen = fb_virtq_used_bytes(num, ev);

	if (!gm)
		return -EFAULT;
	*desc = fb_guest_mem_map_uaddr(gm, a->desc, dlen);
	*avail = fb_guest_mem_map_uaddr(gm, a->avail, alen);
	*used = fb_guest_mem_map_uaddr(gm, a->used, ulen);
	if (!*desc || !*avail || !*used)
		return -EFAULT;
	/* Inside a region, so none of these sums overflows. */
	if (overlap(a->desc, dlen, a->avail, alen) || overlap(a->desc, dlen, a->used, ulen) ||
	    overlap(a->avail, alen, a->used, ulen))
		return -EINVAL;
	return 0;
}

static int should_run(const struct fb_vhost_user *dev, const struct vu_queue *q)
{
	int enabled = q->enabled || !((dev->features >> VU_F_PROTOCOL_FEATURES) & 1);

	return q->num && q->have_addr && q->kick_fd >= 0 && enabled;
}

/* Build a started virtqueue for @q (and note where its rings are). Called with q->lock held
 * or with no thread running. */
static int ring_new(struct fb_vhost_user *dev, struct vu_queue *q, struct fb_virtq **ret)
{
	void *desc, *avail, *used;
	struct fb_virtq *vq;
	int r;

	r = ring_ptrs(dev, q, q->num, &desc, &avail, &used);
	if (r < 0)
		return r;
	r = fb_virtq_new(dev->mem.gm, (uint16_t)q->num, &vq);
	if (r < 0)
		return r;
	r = fb_virtq_start(vq, desc, avail, used, event_idx(dev), q->base);
	if (r < 0) {
		fb_virtq_free(vq);
		return r;
	}
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	*ret = vq;
	return 0;
}

static void signal_fd(int fd)
{
	uint64_t one = 1;
	ssize_t n;

	if (fd < 0)
		return;
	n = write(fd, &one, sizeof(one));
	(void)n;
}

/* A deferred chain's reply is ready (@len bytes, 0 when cancelled without one). Any thread. */
static void vchain_complete(struct fb__completion *c, ssize_t len)
{
	struct fb__vchain *t = (struct fb__vchain *)c;
	struct vu_queue *q = t->owner;

	t->len = len > 0 ? (uint32_t)len : 0;
	pthread_mutex_lock(&q->done_lock);
	t->next = q->done;
	q->done = t;
	pthread_mutex_unlock(&q->done_lock);
	signal_fd(q->done_fd);
}

void fb__vu_complete(void *priv, void *token, ssize_t len)
{
	struct fb__completion *c = token;

	(void)priv;
	c->fn(c, len);
}

/*
 * Push the chains answered later into the used ring and publish them (caller holds q->lock).
 * Returns 1 when the driver wants an interrupt. Without a ring (stopped) they are dropped:
 * a stop pushes them first (queue_stop()).
 */
static int drain_done(struct vu_queue *q)
{
	struct fb__vchain *t, *next;
	int pushed = 0;

	pthread_mutex_lock(&q->done_lock);
	t = q->done;
	q->done = NULL;
	pthread_mutex_unlock(&q->done_lock);
	for (; t; t = next) {
		next = t->next;
		if (q->vq) {
			fb_virtq_push(q->vq, t->head, t->len);
			pushed++;
		}
		free(t);
	}
	if (!pushed)
		return 0;
	atomic_store_explicit(&q->requests,
			      atomic_load_explicit(&q->requests, memory_order_relaxed) +
				      (uint64_t)pushed,
			      memory_order_relaxed);
	return fb_virtq_flush(q->vq);
}

/*
 * Cancel the requests still deferred (the whole server's: their chains get ENOTCONN replies)
 * and push this queue's: nothing may hold a chain of a ring that stops or a memory map that
 * changes. Caller holds q->lock; the queue is not being served.
 */
static void settle_deferred(struct vu_queue *q)
{
	fb_server_cancel_deferred(q->dev->server);
	if (drain_done(q))
		signal_fd(q->call_fd);
}

/* Serve @q until it is empty. Returns the chains served or a negative errno. */
static int serve(struct vu_queue *q)
{
	struct fb_server *s = q->dev->server;
	int served = 0, notify, n;

	pthread_mutex_lock(&q->lock);
	if (!q->vq || q->broken)
		goto out_unlock;
	q->df.fn = vchain_complete;
	q->df.owner = q;
	for (;;) {
		if (drain_done(q))
			signal_fd(q->call_fd);
		fb_virtq_set_notify(q->vq, 0);
		n = fb__virtio_fs_process_async(s, q->vq, &q->df, &notify);
		if (n < 0) {
			/* The avail ring is broken: nothing more until the ring restarts. */
			q->broken = 1;
			signal_fd(q->err_fd);
			served = n;
			break;
		}
		served += n;
		/* One writer (we hold the lock): a plain add, atomic only for the readers. */
		atomic_store_explicit(&q->requests,
				      atomic_load_explicit(&q->requests, memory_order_relaxed) +
					      (uint64_t)n,
				      memory_order_relaxed);
		if (notify)
			signal_fd(q->call_fd);
		/* Between batches, a queue being stopped stops. */
		if (!fb_virtq_set_notify(q->vq, 1) ||
		    atomic_load_explicit(&q->stopping, memory_order_relaxed))
			break;
	}
out_unlock:
	pthread_mutex_unlock(&q->lock);
	return served;
}

/* Consume a pending kick without waiting. */
static void drain_kick(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	uint64_t v;
	ssize_t n;

	if (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
		n = read(fd, &v, sizeof(v));
		(void)n;
	}
}

static void *queue_main(void *arg)
{
	struct vu_queue *q = arg;
	struct pollfd p[3] = {
		{.fd = q->kick_fd, .events = POLLIN},
		{.fd = q->stop_fd, .events = POLLIN},
		{.fd = q->done_fd, .events = POLLIN},
	};

	/* Chains may have come before the kick fd did. */
	serve(q);
	for (;;) {
		int r = poll(p, 3, -1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || p[1].revents || (p[0].revents & (POLLERR | POLLNVAL)))
			break;
		if (p[0].revents & POLLIN) {
			/* poll() saw the counter non-zero and only this thread reads it: the read
			 * cannot block, even on a blocking eventfd. */
			uint64_t v;
			ssize_t n = read(q->kick_fd, &v, sizeof(v));

			(void)n;
			serve(q);
		}
		if (p[2].revents & POLLIN) {
			/* Replies that came later: serve() pushes them first. */
			drain_kick(q->done_fd);
			serve(q);
		}
	}
	return NULL;
}

static void queue_stop(struct fb_vhost_user *dev, struct vu_queue *q)
{
	if (q->thread_running) {
		atomic_store(&q->stopping, 1);
		signal_fd(q->stop_fd);
		pthread_join(q->thread, NULL);
		q->thread_running = 0;
		atomic_store(&q->stopping, 0);
	}
	if (q->stop_fd >= 0) {
		close(q->stop_fd);
		q->stop_fd = -1;
	}
	pthread_mutex_lock(&q->lock);
	if (q->vq) {
		/* GET_VRING_BASE and every ring change: no chain of this ring stays deferred. */
		settle_deferred(q);
		q->base = fb_virtq_base(q->vq);
		fb_virtq_free(q->vq);
		q->vq = NULL;
	}
	q->broken = 0;
	pthread_mutex_unlock(&q->lock);
}

static void queue_start(struct fb_vhost_user *dev, struct vu_queue *q)
{
	struct fb_virtq *vq;
	char name[16];
	int r;

	r = ring_new(dev, q, &vq);
	if (r < 0) {
		fb_log(FB_LOG_WARNING, "vhost-user: queue %u cannot start: %s", q->idx,
		       strerror(-r));
		return;
	}
	pthread_mutex_lock(&q->lock);
	q->vq = vq;
	q->broken = 0;
	pthread_mutex_unlock(&q->lock);
	if (dev->cfg.flags & FB_VHOST_USER_OWN_LOOP) {
		/* Chains may have come before this kick fd did (a restarted ring): a kick of our
		 * own has the caller's loop look once. */
		signal_fd(q->kick_fd);
		return;
	}
	q->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (q->stop_fd < 0) {
		r = -errno;
		goto out_stop;
	}
	r = -pthread_create(&q->thread, NULL, queue_main, q);
	if (r < 0)
		goto out_stop;
	q->thread_running = 1;
	snprintf(name, sizeof(name), "fb-vu-q%u", q->idx);
	pthread_setname_np(q->thread, name);
	return;

out_stop:
	fb_log(FB_LOG_ERR, "vhost-user: queue %u: no thread: %s", q->idx, strerror(-r));
	queue_stop(dev, q);
}

/* Start or stop @q to match its state. */
static void queue_update(struct fb_vhost_user *dev, struct vu_queue *q)
{
	int run = should_run(dev, q);

	if (q->vq && run)
		return;
	if (q->vq || q->thread_running)
		queue_stop(dev, q);
	if (run)
		queue_start(dev, q);
}

void fb__vu_queues_update(struct fb_vhost_user *dev)
{
	for (unsigned int i = 0; i < dev->nqueues; i++)
		queue_update(dev, &dev->queues[i]);
}

void fb__vu_pause_all(struct fb_vhost_user *dev)
{
	for (unsigned int i = 0; i < dev->nqueues; i++)
		pthread_mutex_lock(&dev->queues[i].lock);
	/* The memory map may change now: no reply may still be written into it later. */
	for (unsigned int i = 0; i < dev->nqueues; i++)
		settle_deferred(&dev->queues[i]);
}

void fb__vu_resume_all(struct fb_vhost_user *dev)
{
	for (unsigned int i = dev->nqueues; i-- > 0;)
		pthread_mutex_unlock(&dev->queues[i].lock);
}

/*
 * The memory table changed (all queues paused): point each running ring at the new map. A
 * ring whose memory is still mapped at the same place keeps its state; one that moved starts
 * again where it was; one whose memory is gone stops (its thread idles until stopped).
 */
void fb__vu_queues_remap(struct fb_vhost_user *dev)
{
	for (unsigned int i = 0; i < dev->nqueues; i++) {
		struct vu_queue *q = &dev->queues[i];
		void *desc, *avail, *used;
		struct fb_virtq *vq;

		if (!q->vq)
			continue;
		if (ring_ptrs(dev, q, q->num, &desc, &avail, &used) == 0 && desc == q->desc &&
		    avail == q->avail && used == q->used) {
			fb_virtq_set_mem(q->vq, dev->mem.gm);
			continue;
		}
		q->base = fb_virtq_base(q->vq);
		fb_virtq_free(q->vq);
		q->vq = NULL;
		if (ring_new(dev, q, &vq) < 0) {
			fb_log(FB_LOG_WARNING, "vhost-user: queue %u: its rings left guest memory",
			       i);
			continue;
		}
		q->vq = vq;
		q->broken = 0;
	}
}

/* ---- messages ----------------------------------------------------------------------------- */

/* The queue a message names, or NULL (logged) when it is beyond what we advertised. */
static struct vu_queue *queue_of(struct fb_vhost_user *dev, uint64_t idx)
{
	if (idx >= dev->nqueues)
		return NULL;
	return &dev->queues[idx];
}

int fb__vu_set_vring_num(struct fb_vhost_user *dev, struct vu_msg *m)
{
	struct vu_queue *q = queue_of(dev, m->p.state.index);
	uint32_t num = m->p.state.num;

	if (!q)
		return -ERANGE;
	if (num == 0 || (num & (num - 1)) || num > dev->cfg.queue_size_max)
		return -EINVAL;
	queue_stop(dev, q);
	q->num = num;
	queue_update(dev, q);
	return 0;
}

int fb__vu_set_vring_addr(struct fb_vhost_user *dev, struct vu_msg *m)
{
	struct vu_queue *q = queue_of(dev, m->p.addr.index);
	struct vu_queue probe;
	void *desc, *avail, *used;
	int r;

	if (!q)
		return -ERANGE;
	/* Each ring must lie in one region, as far as the size known so far reaches. */
	probe.addr = m->p.addr;
	r = ring_ptrs(dev, &probe, q->num ? q->num : 1, &desc, &avail, &used);
	if (r < 0)
		return r;
	queue_stop(dev, q);
	q->addr = m->p.addr;
	q->have_addr = 1;
	queue_update(dev, q);
	return 0;
}

int fb__vu_set_vring_base(struct fb_vhost_user *dev, struct vu_msg *m)
{
	struct vu_queue *q = queue_of(dev, m->p.state.index);

	if (!q)
		return -ERANGE;
	if (m->p.state.num > UINT16_MAX)
		return -EINVAL;
	queue_stop(dev, q);
	q->base = (uint16_t)m->p.state.num;
	queue_update(dev, q);
	return 0;
}

int fb__vu_get_vring_base(struct fb_vhost_user *dev, struct vu_msg *m)
{
	struct vu_queue *q = queue_of(dev, m->p.state.index);

	if (!q)
		return -ERANGE;
	queue_stop(dev, q);
	if (q->kick_fd >= 0) {
		close(q->kick_fd);
		q->kick_fd = -1;
	}
	m->p.state.num = q->base;
	return 0;
}

int fb__vu_set_vring_fd(struct fb_vhost_user *dev, struct vu_msg *m)
{
	uint64_t v = m->p.u64;
	int nofd = (v & VU_VRING_NOFD) != 0;
	struct vu_queue *q;
	int fd, old;

	if (v & ~(VU_VRING_IDX_MASK | VU_VRING_NOFD) || nofd != (m->nfds == 0))
		return -EINVAL;
	q = queue_of(dev, v & VU_VRING_IDX_MASK);
	if (!q)
		return -ERANGE;
	fd = nofd ? -1 : m->fds[0];
	/* Notifications are eventfds. A pipe or socket whose reader is gone would kill the
	 * process with SIGPIPE at our next write. */
	if (fd >= 0) {
		struct stat st;

		if (fstat(fd, &st) < 0)
			return -errno;
		if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
			return -EINVAL;
	}

	if (m->hdr.request == VU_SET_VRING_KICK) {
		/* Polling a ring without kicks is not supported. */
		if (nofd)
			return -EOPNOTSUPP;
		queue_stop(dev, q);
		if (q->kick_fd >= 0)
			close(q->kick_fd);
		q->kick_fd = fd;
		m->fds[0] = -1;
		queue_update(dev, q);
		return 0;
	}
	pthread_mutex_lock(&q->lock);
	if (m->hdr.request == VU_SET_VRING_CALL) {
		old = q->call_fd;
		q->call_fd = fd;
	} else {
		old = q->err_fd;
		q->err_fd = fd;
	}
	pthread_mutex_unlock(&q->lock);
	if (!nofd)
		m->fds[0] = -1;
	if (old >= 0)
		close(old);
	return 0;
}

int fb__vu_set_vring_enable(struct fb_vhost_user *dev, struct vu_msg *m)
{
	struct vu_queue *q = queue_of(dev, m->p.state.index);

	if (!q)
		return -ERANGE;
	if (m->p.state.num > 1)
		return -EINVAL;
	q->enabled = (int)m->p.state.num;
	queue_update(dev, q);
	return 0;
}

/* ---- setup and teardown ---------------------------------------------------------------------- */

static void queue_forget(struct fb_vhost_user *dev, struct vu_queue *q)
{
	queue_stop(dev, q);
	if (q->kick_fd >= 0)
		close(q->kick_fd);
	if (q->call_fd >= 0)
		close(q->call_fd);
	if (q->err_fd >= 0)
		close(q->err_fd);
	q->kick_fd = q->call_fd = q->err_fd = -1;
	q->num = 0;
	q->have_addr = 0;
	q->base = 0;
	q->enabled = 0;
}

void fb__vu_queues_reset(struct fb_vhost_user *dev)
{
	for (unsigned int i = 0; i < dev->nqueues; i++)
		queue_forget(dev, &dev->queues[i]);
}

int fb__vu_queues_new(struct fb_vhost_user *dev)
{
	dev->queues = calloc(dev->nqueues, sizeof(*dev->queues));
	if (!dev->queues)
		return -ENOMEM;
	for (unsigned int i = 0; i < dev->nqueues; i++) {
		struct vu_queue *q = &dev->queues[i];

		q->dev = dev;
		q->idx = i;
		q->kick_fd = q->call_fd = q->err_fd = q->stop_fd = -1;
		pthread_mutex_init(&q->lock, NULL);
		pthread_mutex_init(&q->done_lock, NULL);
		q->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->done_fd < 0) {
			int r = -errno;

			for (unsigned int j = 0; j <= i; j++) {
				if (dev->queues[j].done_fd >= 0)
					close(dev->queues[j].done_fd);
				pthread_mutex_destroy(&dev->queues[j].lock);
				pthread_mutex_destroy(&dev->queues[j].done_lock);
			}
			free(dev->queues);
			dev->queues = NULL;
			return r;
		}
	}
	return 0;
}

void fb__vu_queues_free(struct fb_vhost_user *dev)
{
	if (!dev->queues)
		return;
	fb__vu_queues_reset(dev);
	for (unsigned int i = 0; i < dev->nqueues; i++) {
		struct vu_queue *q = &dev->queues[i];

		drain_done(q); /* no ring now: frees what is left */
		free(q->df.spare);
		close(q->done_fd);
		pthread_mutex_destroy(&q->lock);
		pthread_mutex_destroy(&q->done_lock);
	}
	free(dev->queues);
	dev->queues = NULL;
}

/* ---- own loop ------------------------------------------------------------------------------- */

unsigned int fb_vhost_user_queue_count(const struct fb_vhost_user *dev)
{
	return dev ? dev->nqueues : 0;
}

int fb_vhost_user_queue_fd(const struct fb_vhost_user *dev, unsigned int idx)
{
	if (!dev || idx >= dev->nqueues || !dev->queues[idx].vq)
		return -1;
	return dev->queues[idx].kick_fd;
}

int fb_vhost_user_queue_process(struct fb_vhost_user *dev, unsigned int idx)
{
	struct vu_queue *q;

	if (!dev || idx >= dev->nqueues)
		return -EINVAL;
	q = &dev->queues[idx];
	if (!q->vq)
		return 0;
	drain_kick(q->kick_fd);
	return serve(q);
}

/* ---- statistics ------------------------------------------------------------------------------ */

int fb_vhost_user_queue_stats(const struct fb_vhost_user *dev, unsigned int idx,
			      struct fb_vhost_user_queue_stats *out)
{
	struct fb_vhost_user_queue_stats st;

	if (!dev || !out || idx >= dev->nqueues ||
	    out->size < offsetof(struct fb_vhost_user_queue_stats, requests) + sizeof(st.requests))
		return -EINVAL;
	memset(&st, 0, sizeof(st));
	st.requests = atomic_load_explicit(&dev->queues[idx].requests, memory_order_relaxed);
	st.size = out->size < sizeof(st) ? out->size : sizeof(st);
	memcpy(out, &st, st.size);
	return 0;
}
