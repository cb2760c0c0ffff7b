/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * ID mapping between the client's ("guest") ids and the host's (see struct fb_idmap_range in
 * passthrough.h for the rules, which are the Rust virtiofsd's --translate-uid/-gid).
 *
 * The configured entries become two tables of disjoint source ranges, one per direction,
 * sorted by their first id, so one lookup is a binary search. Tables are built once in
 * fb_passthrough_new() and only read afterwards: no lock.
 *
 * Ranges are kept as [first, last] (inclusive) in 64 bits so that no sum can wrap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "passthrough_i.h"

static int kind_ok(enum fb_idmap_kind k)
{
	return (unsigned int)k <= FB_IDMAP_MAP;
}

/* An entry that is wrong on its own: unknown kind, empty, or a range past 4294967295. */
static int range_ok(const struct fb_idmap_range *m)
{
	if (!kind_ok(m->kind) || m->count == 0)
		return 0;
	/* the source range's end (exclusive) must be an id: from + count <= UINT32_MAX */
	if ((uint64_t)m->from + m->count > UINT32_MAX)
		return 0;
	if ((m->kind == FB_IDMAP_GUEST || m->kind == FB_IDMAP_HOST || m->kind == FB_IDMAP_MAP) &&
	    (uint64_t)m->to + m->count > UINT32_MAX)
		return 0;
	return 1;
}

/*
 * The source ranges entry @m adds to the guest-to-host table (@g) and to the host-to-guest
 * table (@h), as [first, last]; a side it does not touch gets first > last.
 */
static void sources(const struct fb_idmap_range *m, uint64_t g[2], uint64_t h[2])
{
	uint64_t end = (uint64_t)m->count - 1;

	g[0] = h[0] = 1;
	g[1] = h[1] = 0;
	switch (m->kind) {
	case FB_IDMAP_GUEST:
	case FB_IDMAP_SQUASH_GUEST:
	case FB_IDMAP_FORBID_GUEST:
		g[0] = m->from;
		g[1] = m->from + end;
		break;
	case FB_IDMAP_HOST:
	case FB_IDMAP_SQUASH_HOST:
		h[0] = m->from;
		h[1] = m->from + end;
		break;
	case FB_IDMAP_MAP:
		g[0] = m->from;
		g[1] = m->from + end;
		h[0] = m->to;
		h[1] = m->to + end;
		break;
	}
}

static int overlaps(const uint64_t a[2], const uint64_t b[2])
{
	return a[0] <= a[1] && b[0] <= b[1] && a[0] <= b[1] && b[0] <= a[1];
}

int fb_idmap_check(const struct fb_idmap_range *map, uint32_t n, uint32_t *ret_bad,
		   uint32_t *ret_other)
{
	if (n && !map)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t gi[2], hi[2];

		if (!range_ok(&map[i])) {
			if (ret_bad)
				*ret_bad = i;
			if (ret_other)
				*ret_other = i;
			return -EINVAL;
		}
		sources(&map[i], gi, hi);
		for (uint32_t j = 0; j < i; j++) {
			uint64_t gj[2], hj[2];

			sources(&map[j], gj, hj);
			if (overlaps(gi, gj) || overlaps(hi, hj)) {
				if (ret_bad)
					*ret_bad = i;
				if (ret_other)
					*ret_other = j;
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct fb__pt_identry *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

static void add(struct fb__pt_idtable *t, uint32_t first, uint32_t count, uint32_t to, int op)
{
	struct fb__pt_identry *e = &t->e[t->n++];

	e->first = first;
	e->last = first + (count - 1);
	e->to = to;
	e->op = op;
}

int fb__pt_idmap_init(struct fb__pt_idmap *m, const struct fb_idmap_range *map, uint32_t n)
{
	int r;

	memset(m, 0, sizeof(*m));
	r = fb_idmap_check(map, n, NULL, NULL);
	if (r < 0 || n == 0)
		return r;
	/* each entry adds at most one range to each table */
	m->g2h.e = calloc(n, sizeof(*m->g2h.e));
	m->h2g.e = calloc(n, sizeof(*m->h2g.e));
	if (!m->g2h.e || !m->h2g.e) {
		fb__pt_idmap_done(m);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct fb_idmap_range *x = &map[i];

		switch (x->kind) {
		case FB_IDMAP_GUEST:
			add(&m->g2h, x->from, x->count, x->to, FB__PT_ID_RANGE);
			break;
		case FB_IDMAP_HOST:
			add(&m->h2g, x->from, x->count, x->to, FB__PT_ID_RANGE);
			break;
		case FB_IDMAP_SQUASH_GUEST:
			add(&m->g2h, x->from, x->count, x->to, FB__PT_ID_SQUASH);
			break;
		case FB_IDMAP_SQUASH_HOST:
			add(&m->h2g, x->from, x->count, x->to, FB__PT_ID_SQUASH);
			break;
		case FB_IDMAP_FORBID_GUEST:
			add(&m->g2h, x->from, x->count, 0, FB__PT_ID_FORBID);
			break;
		case FB_IDMAP_MAP:
			add(&m->g2h, x->from, x->count, x->to, FB__PT_ID_RANGE);
			add(&m->h2g, x->to, x->count, x->from, FB__PT_ID_RANGE);
			break;
		}
	}
	qsort(m->g2h.e, m->g2h.n, sizeof(*m->g2h.e), entry_cmp);
	qsort(m->h2g.e, m->h2g.n, sizeof(*m->h2g.e), entry_cmp);
	m->set = 1;
	return 0;
}

void fb__pt_idmap_done(struct fb__pt_idmap *m)
{
	free(m->g2h.e);
	free(m->h2g.e);
	memset(m, 0, sizeof(*m));
}

/* The entry of @t covering @id, or NULL (the ranges are disjoint and sorted). */
static const struct fb__pt_identry *find(const struct fb__pt_idtable *t, uint32_t id)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct fb__pt_identry *e = &t->e[mid];

		if (id < e->first)
			hi = mid;
		else if (id > e->last)
			lo = mid + 1;
		else
			return e;
	}
	return NULL;
}

int fb__pt_idmap_to_host(const struct fb__pt_idmap *m, uint32_t guest, uint32_t *host)
{
	const struct fb__pt_identry *e = find(&m->g2h, guest);

	if (!e) {
		*host = guest;
		return 0;
	}
	switch (e->op) {
	case FB__PT_ID_RANGE:
		*host = e->to + (guest - e->first);
		return 0;
	case FB__PT_ID_SQUASH:
		*host = e->to;
		return 0;
	default:
		return -EPERM;
	}
}

uint32_t fb__pt_idmap_to_guest(const struct fb__pt_idmap *m, uint32_t host)
{
	const struct fb__pt_identry *e = find(&m->h2g, host);

	if (!e)
		return host;
	return e->op == FB__PT_ID_RANGE ? e->to + (host - e->first) : e->to;
}
