/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The guest's memory map: a sorted array of regions, searched by binary search on every
 * translation (a descriptor's buffer, an indirect table). Changes are rare (the front end
 * sends the map once, or a region per memory hotplug) and may cost a linear pass; lookups are
 * on the data path and must not.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fuse_backend/virtio.h>

#include "virtio_i.h"

int fb_guest_mem_new(struct fb_guest_mem **ret)
{
	struct fb_guest_mem *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	*ret = m;
	return 0;
}

void fb_guest_mem_free(struct fb_guest_mem *m)
{
	if (!m)
		return;
	free(m->regions);
	free(m);
}

int fb_guest_mem_count(const struct fb_guest_mem *m)
{
	return m->count;
}

/* [a, a + as) and [b, b + bs) intersect; neither end overflows (checked by the caller). */
static int ranges_overlap(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return a < b + bs && b < a + as;
}

/* Index of the region holding @gpa, or -1. */
static int region_find(const struct fb_guest_mem *m, uint64_t gpa)
{
	int lo = 0, hi = m->count;

	/* Find the last region whose start is <= gpa. */
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (m->regions[mid].gpa <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -1;
	lo--;
	if (gpa - m->regions[lo].gpa >= m->regions[lo].size)
		return -1;
	return lo;
}

int fb_guest_mem_add(struct fb_guest_mem *m, uint64_t gpa, uint64_t size, uint64_t uaddr,
		     void *host)
{
	int i, pos;

	if (size == 0 || !host)
		return -EINVAL;
	if (size > UINT64_MAX - gpa || size > UINT64_MAX - uaddr ||
	    size > UINTPTR_MAX - (uintptr_t)host)
		return -EINVAL;
	for (i = 0; i < m->count; i++) {
		const struct fb__guest_region *r = &m->regions[i];

		if (ranges_overlap(gpa, size, r->gpa, r->size) ||
		    ranges_overlap(uaddr, size, r->uaddr, r->size))
			return -EEXIST;
	}
	if (m->count >= FB_GUEST_MEM_REGIONS_MAX)
		return -ENOSPC;
	if (m->count == m->cap) {
		int cap = m->cap ? m->cap * 2 : 8;
		struct fb__guest_region *n;

		if (cap > FB_GUEST_MEM_REGIONS_MAX)
			cap = FB_GUEST_MEM_REGIONS_MAX;
		n = realloc(m->regions, (size_t)cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		m->regions = n;
		m->cap = cap;
	}
	for (pos = 0; pos < m->count && m->regions[pos].gpa < gpa; pos++)
		;
	memmove(&m->regions[pos + 1], &m->regions[pos],
		(size_t)(m->count - pos) * sizeof(m->regions[0]));
	m->regions[pos] = (struct fb__guest_region){
		.gpa = gpa,
		.size = size,
		.uaddr = uaddr,
		.host = host,
	};
	m->count++;
	return 0;
}

int fb_guest_mem_remove(struct fb_guest_mem *m, uint64_t gpa, uint64_t size, void **ret_host)
{
	int i = region_find(m, gpa);

	if (i < 0 || m->regions[i].gpa != gpa || m->regions[i].size != size)
		return -ENOENT;
	if (ret_host)
		*ret_host = m->regions[i].host;
	memmove(&m->regions[i], &m->regions[i + 1],
		(size_t)(m->count - i - 1) * sizeof(m->regions[0]));
	m->count--;
	return 0;
}

const struct fb__guest_region *fb__guest_mem_find(const struct fb_guest_mem *m, uint64_t gpa)
{
	int i = region_find(m, gpa);

	return i < 0 ? NULL : &m->regions[i];
}

void *fb_guest_mem_map(const struct fb_guest_mem *m, uint64_t gpa, uint64_t len, uint64_t *ret_len)
{
	const struct fb__guest_region *r;
	uint64_t off;
	int i;

	if (len == 0 || len > UINT64_MAX - gpa)
		return NULL;
	i = region_find(m, gpa);
	if (i < 0)
		return NULL;
	r = &m->regions[i];
	off = gpa - r->gpa;
	*ret_len = len < r->size - off ? len : r->size - off;
	return r->host + off;
}

void *fb_guest_mem_map_uaddr(const struct fb_guest_mem *m, uint64_t uaddr, uint64_t len)
{
	int i;

	if (len == 0 || len > UINT64_MAX - uaddr)
		return NULL;
	for (i = 0; i < m->count; i++) {
		const struct fb__guest_region *r = &m->regions[i];

		if (uaddr >= r->uaddr && uaddr - r->uaddr < r->size) {
			if (len > r->size - (uaddr - r->uaddr))
				return NULL;
			return r->host + (uaddr - r->uaddr);
		}
	}
	return NULL;
}

int fb__guest_mem_read(const struct fb_guest_mem *m, uint64_t gpa, void *dst, size_t len)
{
	uint8_t *d = dst;

	if (len > UINT64_MAX - gpa)
		return -EFAULT;
	while (len > 0) {
		uint64_t n;
		const void *p = fb_guest_mem_map(m, gpa, len, &n);

		if (!p)
			return -EFAULT;
		memcpy(d, p, n);
		d += n;
		gpa += n;
		len -= n;
	}
	return 0;
}
