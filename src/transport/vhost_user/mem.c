/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The memory table: the guest's RAM regions the front end shares, each an fd we mmap.
 *
 * A region is {guest-physical address, size, front-end virtual address, mmap offset}: the fd
 * is mapped from 0 for mmap_offset + size bytes and the part from mmap_offset on is the region.
 * The file must be at least that long (a mapping past its end would raise SIGBUS when a ring or
 * buffer there is touched).
 *
 * The queues read the map while they serve: every change happens with all of them paused
 * (fb__vu_pause_all), and rings are placed again afterwards. A whole new table
 * (SET_MEM_TABLE) is built aside first, so a bad region leaves the old table in place.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhost_user_i.h"

void fb__vu_mem_init(struct vu_mem *mem)
{
	memset(mem, 0, sizeof(*mem));
}

static void unmap_all(struct vu_mem *mem)
{
	for (unsigned int i = 0; i < mem->n; i++)
		munmap(mem->maps[i].base, mem->maps[i].len);
	free(mem->maps);
	mem->maps = NULL;
	mem->n = mem->cap = 0;
}

void fb__vu_mem_done(struct vu_mem *mem)
{
	unmap_all(mem);
	fb_guest_mem_free(mem->gm);
	mem->gm = NULL;
}

int fb__vu_mem_reset(struct vu_mem *mem)
{
	fb__vu_mem_done(mem);
	return fb_guest_mem_new(&mem->gm);
}

/* Map region @r from @fd into @out. Returns 0 or a negative errno (logged by the caller). */
static int map_region(const struct vu_region *r, int fd, struct vu_mapping *out)
{
	struct stat st;
	uint64_t len;
	void *p;

	if (r->size == 0 || __builtin_add_overflow(r->size, r->mmap_offset, &len) ||
	    len > SIZE_MAX || r->gpa + r->size < r->gpa || r->uaddr + r->size < r->uaddr)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < len)
		return -EINVAL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	out->r = *r;
	out->base = p;
	out->len = len;
	return 0;
}

static void *mapping_host(const struct vu_mapping *mp)
{
	return (char *)mp->base + mp->r.mmap_offset;
}

/* Add @mp to @mem (its map and its list). On failure @mp stays the caller's. */
static int mem_insert(struct vu_mem *mem, const struct vu_mapping *mp)
{
	int r;

	if (mem->n == mem->cap) {
		unsigned int cap = mem->cap ? mem->cap * 2 : 8;
		struct vu_mapping *maps = realloc(mem->maps, cap * sizeof(*maps));

		if (!maps)
			return -ENOMEM;
		mem->maps = maps;
		mem->cap = cap;
	}
	r = fb_guest_mem_add(mem->gm, mp->r.gpa, mp->r.size, mp->r.uaddr, mapping_host(mp));
	if (r < 0)
		return r;
	mem->maps[mem->n++] = *mp;
	return 0;
}

int fb__vu_set_mem_table(struct fb_vhost_user *dev, struct vu_msg *m)
{
	struct vu_mem next, old;
	int r;

	fb__vu_mem_init(&next);
	r = fb_guest_mem_new(&next.gm);
	if (r < 0)
		return r;
	for (uint32_t i = 0; i < m->p.mem.nregions; i++) {
		struct vu_mapping mp;

		r = map_region(&m->p.mem.regions[i], m->fds[i], &mp);
		if (r < 0)
			goto out_free_next;
		r = mem_insert(&next, &mp);
		if (r < 0) {
			munmap(mp.base, mp.len);
			goto out_free_next;
		}
	}
	fb__vu_pause_all(dev);
	old = dev->mem;
	dev->mem = next;
	fb__vu_queues_remap(dev);
	fb__vu_resume_all(dev);
	fb__vu_mem_done(&old);
	fb__vu_queues_update(dev);
	return 0;

out_free_next:
	fb__vu_mem_done(&next);
	return r;
}

int fb__vu_add_mem_reg(struct fb_vhost_user *dev, struct vu_msg *m)
{
	struct vu_mapping mp;
	int r;

	if (!dev->mem.gm)
		return -ENOMEM;
	r = map_region(&m->p.reg.region, m->fds[0], &mp);
	if (r < 0)
		return r;
	fb__vu_pause_all(dev);
	r = mem_insert(&dev->mem, &mp);
	fb__vu_queues_remap(dev);
	fb__vu_resume_all(dev);
	if (r < 0)
		goto out_unmap;
	fb__vu_queues_update(dev);
	return 0;

out_unmap:
	munmap(mp.base, mp.len);
	return r;
}

int fb__vu_rem_mem_reg(struct fb_vhost_user *dev, struct vu_msg *m)
{
	const struct vu_region *r = &m->p.reg.region;
	struct vu_mem *mem = &dev->mem;
	struct vu_mapping mp;
	unsigned int i;
	void *host;
	int ret;

	/* The spec names a region by guest address, front-end address and size. */
	for (i = 0; i < mem->n; i++) {
		const struct vu_region *q = &mem->maps[i].r;

		if (q->gpa == r->gpa && q->size == r->size && q->uaddr == r->uaddr)
			break;
	}
	if (i == mem->n)
		return -ENOENT;
	mp = mem->maps[i];
	fb__vu_pause_all(dev);
	ret = fb_guest_mem_remove(mem->gm, r->gpa, r->size, &host);
	if (ret == 0) {
		mem->maps[i] = mem->maps[--mem->n];
		fb__vu_queues_remap(dev);
	}
	fb__vu_resume_all(dev);
	if (ret < 0)
		return ret;
	munmap(mp.base, mp.len);
	return 0;
}
