/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Split virtqueues, device side (virtio 1.x, 2.7).
 *
 * The guest can write every byte of the rings and tables while we read them, so:
 *   - avail->idx is read once per batch (acquire: the ring entries and descriptors it covers
 *     are visible after it), each ring entry once, each descriptor once into a local copy;
 *     only the copy is checked and used. An indirect table is copied whole into the queue's
 *     private buffer first (one memcpy when it lies in one region: the hot path, since Linux
 *     puts every request with more than one element in an indirect table).
 *   - Nothing the guest wrote indexes our memory unchecked: ring slots are masked, next
 *     indices are compared to the table's size, chain lengths are counted (so a loop ends as
 *     a chain that is too long), iovec counts are bounded by the array made at fb_virtq_new().
 *   - Fields of guest memory are accessed one at a time with atomic loads and stores, so the
 *     compiler neither tears nor repeats them.
 *
 * Barriers (2.7.13): the driver fills descriptors and ring entries, then (write barrier)
 * increments avail->idx; we load avail->idx with acquire before reading what it covers. We
 * write used elements, then store used->idx with release. Between publishing used->idx and
 * reading the driver's used_event / flags (is an interrupt wanted?), and between writing
 * avail_event / used flags and re-reading avail->idx (did anything come in before the driver
 * could see we want a kick?), a full fence: each side writes then reads the other's field, and
 * without it both could miss the other's update and the queue would stall.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fuse_backend/virtio.h>

#include "virtio_i.h"

struct fb_virtq {
	const struct fb_guest_mem *mem;
	unsigned int size; /* entries, a power of two */
	int started;	   /* rings placed by fb_virtq_start() */
	int broken;	   /* avail->idx went wild: pop refuses until restart */
	int event_idx;	   /* VIRTIO_RING_F_EVENT_IDX negotiated */

	struct fb__vring_desc *desc;   /* [size], guest memory */
	struct fb__vring_avail *avail; /* guest memory */
	struct fb__vring_used *used;   /* guest memory */

	uint16_t last_avail;	 /* next avail ring slot to read */
	uint16_t shadow_avail;	 /* avail->idx as last read */
	uint16_t used_idx;	 /* next used slot to fill */
	uint16_t published_used; /* used->idx as last published */

	struct iovec *iov; /* [iov_max]: the last popped chain, readable
			    * part first, then the writable part */
	int iov_max;
	struct fb__vring_desc *itab; /* [size]: private copy of an indirect table */
};

/* ---- guest memory fields, one access each ------------------------------------------------ */

static inline uint16_t ld16(const uint16_t *p)
{
	return le16toh(__atomic_load_n(p, __ATOMIC_RELAXED));
}

static inline uint16_t ld16_acquire(const uint16_t *p)
{
	return le16toh(__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

static inline void st16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, htole16(v), __ATOMIC_RELAXED);
}

static inline void st32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, htole32(v), __ATOMIC_RELAXED);
}

/* Copy descriptor @src (in the guest's table) to @dst, converted to host order. */
static inline void desc_read(const struct fb__vring_desc *src, struct fb__vring_desc *dst)
{
	dst->addr = le64toh(__atomic_load_n(&src->addr, __ATOMIC_RELAXED));
	dst->len = le32toh(__atomic_load_n(&src->len, __ATOMIC_RELAXED));
	dst->flags = le16toh(__atomic_load_n(&src->flags, __ATOMIC_RELAXED));
	dst->next = le16toh(__atomic_load_n(&src->next, __ATOMIC_RELAXED));
}

/* Descriptor @src of our private copy of an indirect table, converted to host order. */
static inline void desc_conv(const struct fb__vring_desc *src, struct fb__vring_desc *dst)
{
	dst->addr = le64toh(src->addr);
	dst->len = le32toh(src->len);
	dst->flags = le16toh(src->flags);
	dst->next = le16toh(src->next);
}

static uint16_t *avail_used_event(struct fb_virtq *q)
{
	return &q->avail->ring[q->size];
}

static uint16_t *used_avail_event(struct fb_virtq *q)
{
	return (uint16_t *)&q->used->ring[q->size];
}

/* ---- queue ------------------------------------------------------------------------------- */

size_t fb_virtq_desc_bytes(unsigned int size)
{
	return sizeof(struct fb__vring_desc) * (size_t)size;
}

size_t fb_virtq_avail_bytes(unsigned int size, int event_idx)
{
	return sizeof(struct fb__vring_avail) + sizeof(uint16_t) * (size_t)size +
	       (event_idx ? sizeof(uint16_t) : 0);
}

size_t fb_virtq_used_bytes(unsigned int size, int event_idx)
{
	return sizeof(struct fb__vring_used) + sizeof(struct fb__vring_used_elem) * (size_t)size +
	       (event_idx ? sizeof(uint16_t) : 0);
}

int fb_virtq_new(const struct fb_guest_mem *m, uint16_t size, struct fb_virtq **ret)
{
	struct fb_virtq *q;

	if (!m || size == 0 || size > FB_VIRTQ_SIZE_MAX || (size & (size - 1)))
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->mem = m;
	q->size = size;
	q->iov_max = FB_VIRTQ_IOV_MAX(size);
	q->iov = calloc((size_t)q->iov_max, sizeof(*q->iov));
	if (!q->iov)
		goto out_free_q;
	q->itab = malloc(sizeof(*q->itab) * (size_t)size);
	if (!q->itab)
		goto out_free_iov;
	*ret = q;
	return 0;

out_free_iov:
	free(q->iov);
out_free_q:
	free(q);
	return -ENOMEM;
}

void fb_virtq_free(struct fb_virtq *q)
{
	if (!q)
		return;
	free(q->itab);
	free(q->iov);
	free(q);
}

int fb_virtq_start(struct fb_virtq *q, void *desc, void *avail, void *used, int event_idx,
		   uint16_t base)
{
	if (!desc || !avail || !used || (uintptr_t)desc % FB__VRING_DESC_ALIGN ||
	    (uintptr_t)avail % FB__VRING_AVAIL_ALIGN || (uintptr_t)used % FB__VRING_USED_ALIGN)
		return -EINVAL;
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->event_idx = event_idx != 0;
	q->last_avail = base;
	q->shadow_avail = base;
	/* Ours to write, but a resumed queue continues where the used ring is. */
	q->used_idx = ld16(&q->used->idx);
	q->published_used = q->used_idx;
	q->broken = 0;
	q->started = 1;
	/* Ask for a kick for the next chain. */
	if (q->event_idx)
		st16(used_avail_event(q), base);
	else
		st16(&q->used->flags, 0);
	return 0;
}

uint16_t fb_virtq_base(const struct fb_virtq *q)
{
	return q->last_avail;
}

void fb_virtq_set_mem(struct fb_virtq *q, const struct fb_guest_mem *m)
{
	q->mem = m;
}

/* ---- popping a chain ----------------------------------------------------------------------- */

/*
 * Where a chain's iovecs are gathered. @last is the region of the previous buffer: the next
 * one is most likely in it too, so it is tried before searching the map.
 */
struct walk {
	struct iovec *iov;
	int n;
	int max;
	int nin;
	int writing;
	const struct fb__guest_region *last;
};

/* Append the buffer of descriptor @d (already copied and converted) to @w. */
static int walk_add(const struct fb_guest_mem *m, struct walk *w, const struct fb__vring_desc *d)
{
	uint64_t addr = d->addr, len = d->len;

	if (d->flags & FB__VRING_DESC_F_WRITE)
		w->writing = 1;
	else if (w->writing)
		return -EINVAL; /* readable after writable */
	if (len > UINT64_MAX - addr)
		return -EFAULT;
	while (len > 0) {
		const struct fb__guest_region *r = w->last;
		uint64_t off, got;

		if (!r || addr - r->gpa >= r->size) {
			r = fb__guest_mem_find(m, addr);
			if (!r)
				return -EFAULT;
			w->last = r;
		}
		if (w->n >= w->max)
			return -E2BIG;
		off = addr - r->gpa;
		got = len < r->size - off ? len : r->size - off;
		w->iov[w->n].iov_base = r->host + off;
		w->iov[w->n].iov_len = got;
		w->n++;
		addr += got;
		len -= got;
	}
	if (!w->writing)
		w->nin = w->n;
	return 0;
}

/* Copy the indirect table of descriptor @d into q->itab. Returns its entries or -errno. */
static int indirect_load(struct fb_virtq *q, const struct fb__vring_desc *d)
{
	size_t n;
	uint64_t got;
	const void *p;

	if (d->flags & FB__VRING_DESC_F_NEXT)
		return -EINVAL;
	if (d->len == 0 || d->len % sizeof(struct fb__vring_desc))
		return -EINVAL;
	n = d->len / sizeof(struct fb__vring_desc);
	if (n > q->size)
		return -E2BIG;
	p = fb_guest_mem_map(q->mem, d->addr, d->len, &got);
	if (!p)
		return -EFAULT;
	if (got == d->len)
		memcpy(q->itab, p, d->len);
	else if (fb__guest_mem_read(q->mem, d->addr, q->itab, d->len) < 0)
		return -EFAULT;
	return (int)n;
}

/* Walk the indirect table now in q->itab (@n entries) into @w. */
static int walk_indirect(struct fb_virtq *q, struct walk *w, unsigned int n)
{
	const struct fb__vring_desc *t = q->itab;
	unsigned int i = 0, count = 0;
	struct fb__vring_desc d;
	int r;

	for (;;) {
		if (++count > n)
			return -ELOOP;
		desc_conv(&t[i], &d);
		if (d.flags & FB__VRING_DESC_F_INDIRECT)
			return -EINVAL; /* a table in a table */
		r = walk_add(q->mem, w, &d);
		if (r < 0)
			return r;
		if (!(d.flags & FB__VRING_DESC_F_NEXT))
			return 0;
		i = d.next;
		if (i >= n)
			return -ERANGE;
	}
}

/* Walk the chain starting at @head into @w. Returns 0 or why the chain is bad. */
static int walk_chain(struct fb_virtq *q, struct walk *w, unsigned int head)
{
	unsigned int i = head, count = 0;
	struct fb__vring_desc d;
	int r;

	if (head >= q->size)
		return -ERANGE;
	for (;;) {
		if (++count > q->size)
			return -ELOOP;
		desc_read(&q->desc[i], &d);
		if (d.flags & FB__VRING_DESC_F_INDIRECT) {
			/* The table's own WRITE flag means nothing: the device ignores it. */
			r = indirect_load(q, &d);
			if (r < 0)
				return r;
			return walk_indirect(q, w, (unsigned int)r);
		}
		r = walk_add(q->mem, w, &d);
		if (r < 0)
			return r;
		if (!(d.flags & FB__VRING_DESC_F_NEXT))
			return 0;
		i = d.next;
		if (i >= q->size)
			return -ERANGE;
	}
}

int fb_virtq_pop(struct fb_virtq *q, struct fb_virtq_chain *c)
{
	struct walk w = {.iov = q->iov, .max = q->iov_max};
	uint16_t head;
	int r;

	if (q->broken)
		return -EIO;
	if (!q->started)
		return 0;
	if (q->last_avail == q->shadow_avail) {
		uint16_t idx = ld16_acquire(&q->avail->idx);

		if ((uint16_t)(idx - q->last_avail) > q->size) {
			q->broken = 1;
			return -EIO;
		}
		q->shadow_avail = idx;
		if (idx == q->last_avail)
			return 0;
	}
	head = ld16(&q->avail->ring[q->last_avail & (q->size - 1)]);
	q->last_avail++;

	r = walk_chain(q, &w, head);
	c->head = head;
	c->in = q->iov;
	if (r < 0) {
		c->bad = r;
		c->nin = 0;
		c->out = q->iov;
		c->nout = 0;
		return 1;
	}
	c->bad = 0;
	c->nin = w.nin;
	c->out = q->iov + w.nin;
	c->nout = w.n - w.nin;
	return 1;
}

unsigned int fb__virtq_size(const struct fb_virtq *q)
{
	return q->size;
}

int fb__virtq_pending(const struct fb_virtq *q)
{
	return (uint16_t)(q->shadow_avail - q->last_avail);
}

/* ---- completing chains ------------------------------------------------------------------- */

void fb_virtq_push(struct fb_virtq *q, uint16_t head, uint32_t len)
{
	struct fb__vring_used_elem *e;

	if (!q->started)
		return;
	e = &q->used->ring[q->used_idx & (q->size - 1)];
	st32(&e->id, head);
	st32(&e->len, len);
	q->used_idx++;
}

int fb_virtq_flush(struct fb_virtq *q)
{
	uint16_t old = q->published_used, new_idx = q->used_idx;

	if (!q->started || old == new_idx)
		return 0;
	/* The elements are visible before the index that covers them. */
	__atomic_store_n(&q->used->idx, htole16(new_idx), __ATOMIC_RELEASE);
	q->published_used = new_idx;
	/* Publish the index before reading whether the driver wants to hear about it. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx)
		return fb__vring_need_event(ld16(avail_used_event(q)), new_idx, old);
	return !(ld16(&q->avail->flags) & FB__VRING_AVAIL_F_NO_INTERRUPT);
}

int fb_virtq_set_notify(struct fb_virtq *q, int on)
{
	if (!q->started || q->broken)
		return 0;
	if (q->event_idx) {
		/* Off: nothing to do, the driver kicks only when it passes avail_event. */
		if (!on)
			return 0;
		st16(used_avail_event(q), q->last_avail);
	} else {
		st16(&q->used->flags, on ? 0 : FB__VRING_USED_F_NO_NOTIFY);
		if (!on)
			return 0;
	}
	/* Publish our wish before looking whether chains came in before the driver saw it. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ld16_acquire(&q->avail->idx) != q->last_avail;
}
