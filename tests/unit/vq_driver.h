/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * A guest driver for tests of the virtqueue layer: two memory regions at fake guest-physical
 * addresses (adjacent, so a buffer can cross from one into the other; their host mappings are
 * apart, so such a buffer becomes two iovecs), a split ring at the start of the first, and
 * helpers that build chains byte for byte as a driver does.
 *
 *	struct vqd d;
 *	vqd_init(&d, 16, 0);			// queue of 16, no EVENT_IDX, started
 *	uint64_t a = vqd_alloc(&d, 100);	// a buffer's guest address
 *	struct vqd_buf b[] = { {a, 100, 0}, {vqd_alloc(&d, 64), 64, 1} };
 *	uint16_t head = vqd_add(&d, b, 2, 0);	// direct (1: in an indirect table)
 *	... fb_virtq_pop(d.q, &c) ...
 *	vqd_used(&d, &id, &len);		// the device's answer
 *	vqd_done(&d);
 *
 * The ring layout here is written from the virtio spec (2.7), independently of virtio_i.h, so
 * the tests check the library's layout rather than share it.
 */
#ifndef FB_TEST_VQ_DRIVER_H
#define FB_TEST_VQ_DRIVER_H

#include <endian.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <fuse_backend/virtio.h>

#define VQD_GPA0   0x100000ull /* region 0 */
#define VQD_LEN0   (4ull << 20)
#define VQD_GPA1   (VQD_GPA0 + VQD_LEN0) /* region 1, adjacent */
#define VQD_LEN1   (4ull << 20)
#define VQD_END	   (VQD_GPA1 + VQD_LEN1)
#define VQD_UADDR0 0x7f1200000000ull /* front-end addresses, not adjacent */
#define VQD_UADDR1 0x7f3400000000ull

#define VQD_F_NEXT     1
#define VQD_F_WRITE    2
#define VQD_F_INDIRECT 4

struct vqd_buf {
	uint64_t gpa;
	uint32_t len;
	int write;
};

struct vqd {
	struct fb_guest_mem *mem;
	struct fb_virtq *q;
	uint8_t *host[2];
	unsigned int size;
	int event_idx;
	uint64_t desc, avail, used; /* ring addresses (guest-physical) */
	uint64_t bump;		    /* next free guest address for buffers */
	uint64_t bufs;		    /* where buffers start */
	uint16_t avail_idx;	    /* driver's next avail index */
	uint16_t used_seen;	    /* used entries consumed */
	uint16_t next_desc;	    /* descriptors are handed out round robin */
};

/* Host pointer of @gpa (the byte; ranges may cross into the other region). */
static inline uint8_t *vqd_ptr(struct vqd *d, uint64_t gpa)
{
	if (gpa >= VQD_GPA0 && gpa < VQD_GPA1)
		return d->host[0] + (gpa - VQD_GPA0);
	if (gpa >= VQD_GPA1 && gpa < VQD_END)
		return d->host[1] + (gpa - VQD_GPA1);
	abort();
}

static inline void vqd_write(struct vqd *d, uint64_t gpa, const void *src, size_t len)
{
	const uint8_t *s = src;

	for (size_t i = 0; i < len; i++)
		*vqd_ptr(d, gpa + i) = s[i];
}

static inline void vqd_read(struct vqd *d, uint64_t gpa, void *dst, size_t len)
{
	uint8_t *t = dst;

	for (size_t i = 0; i < len; i++)
		t[i] = *vqd_ptr(d, gpa + i);
}

static inline void vqd_w16(struct vqd *d, uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	memcpy(vqd_ptr(d, gpa), &v, 2);
}

static inline uint16_t vqd_r16(struct vqd *d, uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, vqd_ptr(d, gpa), 2);
	return le16toh(v);
}

static inline uint32_t vqd_r32(struct vqd *d, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, vqd_ptr(d, gpa), 4);
	return le32toh(v);
}

/* Fill descriptor @idx of a table at @table. */
static inline void vqd_desc_at(struct vqd *d, uint64_t table, unsigned int idx, uint64_t addr,
			       uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t raw[16];
	uint64_t a = htole64(addr);
	uint32_t l = htole32(len);
	uint16_t f = htole16(flags), n = htole16(next);

	memcpy(raw, &a, 8);
	memcpy(raw + 8, &l, 4);
	memcpy(raw + 12, &f, 2);
	memcpy(raw + 14, &n, 2);
	vqd_write(d, table + 16ull * idx, raw, 16);
}

static inline void vqd_desc(struct vqd *d, unsigned int idx, uint64_t addr, uint32_t len,
			    uint16_t flags, uint16_t next)
{
	vqd_desc_at(d, d->desc, idx, addr, len, flags, next);
}

/* Put @head in the avail ring and publish it. */
static inline void vqd_publish(struct vqd *d, uint16_t head)
{
	vqd_w16(d, d->avail + 4 + 2ull * (d->avail_idx % d->size), head);
	d->avail_idx++;
	__atomic_store_n((uint16_t *)vqd_ptr(d, d->avail + 2), htole16(d->avail_idx),
			 __ATOMIC_RELEASE);
}

/* Set avail->idx to anything (to break the ring). */
static inline void vqd_set_avail_idx(struct vqd *d, uint16_t idx)
{
	d->avail_idx = idx;
	vqd_w16(d, d->avail + 2, idx);
}

static inline void vqd_set_avail_flags(struct vqd *d, uint16_t flags)
{
	vqd_w16(d, d->avail, flags);
}

/* EVENT_IDX fields: the driver's used_event, the device's avail_event. */
static inline void vqd_set_used_event(struct vqd *d, uint16_t v)
{
	vqd_w16(d, d->avail + 4 + 2ull * d->size, v);
}

static inline uint16_t vqd_avail_event(struct vqd *d)
{
	return vqd_r16(d, d->used + 4 + 8ull * d->size);
}

static inline uint16_t vqd_used_flags(struct vqd *d)
{
	return vqd_r16(d, d->used);
}

static inline uint16_t vqd_used_idx(struct vqd *d)
{
	return le16toh(__atomic_load_n((uint16_t *)vqd_ptr(d, d->used + 2), __ATOMIC_ACQUIRE));
}

/* Take the next used entry. Returns 1 and fills *@id / *@len, or 0 when there is none. */
static inline int vqd_used(struct vqd *d, uint32_t *id, uint32_t *len)
{
	uint64_t e;

	if (vqd_used_idx(d) == d->used_seen)
		return 0;
	e = d->used + 4 + 8ull * (d->used_seen % d->size);
	*id = vqd_r32(d, e);
	*len = vqd_r32(d, e + 4);
	d->used_seen++;
	return 1;
}

/* A buffer of @len bytes (16-byte aligned) in guest memory. */
static inline uint64_t vqd_alloc(struct vqd *d, uint64_t len)
{
	uint64_t a = (d->bump + 15) & ~15ull;

	if (a + len > VQD_END)
		abort();
	d->bump = a + len;
	return a;
}

/* A buffer of @len bytes whose first @before bytes are in region 0, the rest in region 1. */
static inline uint64_t vqd_alloc_cross(struct vqd *d, uint64_t len, uint64_t before)
{
	if (d->bump > VQD_GPA1 - before || before > len)
		abort();
	d->bump = VQD_GPA1 - before + len;
	return VQD_GPA1 - before;
}

/* Forget every buffer (their memory is reused by the next allocations). */
static inline void vqd_free_bufs(struct vqd *d)
{
	d->bump = d->bufs;
}

/*
 * Add a chain of @n buffers and publish it; returns its head. @indirect: the buffers go in an
 * indirect table (one descriptor in the queue's table), as Linux sends every multi-element
 * request.
 */
static inline uint16_t vqd_add(struct vqd *d, const struct vqd_buf *b, int n, int indirect)
{
	uint16_t head = d->next_desc;

	if (indirect) {
		uint64_t t = vqd_alloc(d, 16ull * n);

		for (int i = 0; i < n; i++)
			vqd_desc_at(d, t, i, b[i].gpa, b[i].len,
				    (b[i].write ? VQD_F_WRITE : 0) | (i + 1 < n ? VQD_F_NEXT : 0),
				    i + 1 < n ? i + 1 : 0);
		vqd_desc(d, head, t, 16u * n, VQD_F_INDIRECT, 0);
		d->next_desc = (d->next_desc + 1) % d->size;
	} else {
		for (int i = 0; i < n; i++) {
			uint16_t idx = d->next_desc;

			d->next_desc = (d->next_desc + 1) % d->size;
			vqd_desc(d, idx, b[i].gpa, b[i].len,
				 (b[i].write ? VQD_F_WRITE : 0) | (i + 1 < n ? VQD_F_NEXT : 0),
				 i + 1 < n ? d->next_desc : 0);
		}
	}
	vqd_publish(d, head);
	return head;
}

static inline void vqd_done(struct vqd *d)
{
	fb_virtq_free(d->q);
	fb_guest_mem_free(d->mem);
	munmap(d->host[0], VQD_LEN0);
	munmap(d->host[1], VQD_LEN1);
	memset(d, 0, sizeof(*d));
}

/* Set up memory and a started queue of @size entries. Returns 0 or a negative errno. */
static inline int vqd_init(struct vqd *d, unsigned int size, int event_idx)
{
	int r;

	memset(d, 0, sizeof(*d));
	d->size = size;
	d->event_idx = event_idx;
	d->host[0] =
		mmap(NULL, VQD_LEN0, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	d->host[1] =
		mmap(NULL, VQD_LEN1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (d->host[0] == MAP_FAILED || d->host[1] == MAP_FAILED)
		abort();
	r = fb_guest_mem_new(&d->mem);
	if (r < 0)
		return r;
	/* Added in reverse order: the map must sort them. */
	r = fb_guest_mem_add(d->mem, VQD_GPA1, VQD_LEN1, VQD_UADDR1, d->host[1]);
	if (r < 0)
		return r;
	r = fb_guest_mem_add(d->mem, VQD_GPA0, VQD_LEN0, VQD_UADDR0, d->host[0]);
	if (r < 0)
		return r;
	d->desc = VQD_GPA0;
	d->avail = d->desc + 16ull * size;
	d->used = (d->avail + 6 + 2ull * size + 3) & ~3ull;
	d->bufs = (d->used + 6 + 8ull * size + 4095) & ~4095ull;
	d->bump = d->bufs;
	r = fb_virtq_new(d->mem, (uint16_t)size, &d->q);
	if (r < 0)
		return r;
	return fb_virtq_start(d->q, vqd_ptr(d, d->desc), vqd_ptr(d, d->avail), vqd_ptr(d, d->used),
			      event_idx, 0);
}

#endif /* FB_TEST_VQ_DRIVER_H */
