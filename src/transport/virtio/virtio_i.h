/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * virtio-fs internals: the split ring's layout in guest memory (virtio 1.x, 2.7) and the
 * memory map's shape, shared by guest_mem.c, virtq.c and virtio_fs.c.
 *
 * Every ring field is little-endian. The structures below are only ever read and written a
 * field at a time through the accessors in virtq.c, never copied whole: the guest can change
 * them at any moment.
 */
#ifndef FB_TRANSPORT_VIRTIO_I_H
#define FB_TRANSPORT_VIRTIO_I_H

#include <stddef.h>
#include <stdint.h>

#include <fuse_backend/virtio.h>

#include "transport/completion_i.h"

/* virtq_desc.flags */
#define FB__VRING_DESC_F_NEXT	  1
#define FB__VRING_DESC_F_WRITE	  2
#define FB__VRING_DESC_F_INDIRECT 4

/* virtq_avail.flags: the driver does not want an interrupt (ignored with EVENT_IDX). */
#define FB__VRING_AVAIL_F_NO_INTERRUPT 1
/* virtq_used.flags: the device does not want a kick (not used with EVENT_IDX). */
#define FB__VRING_USED_F_NO_NOTIFY 1

/* Required alignment of each part (2.7 "Virtqueue alignment"). */
#define FB__VRING_DESC_ALIGN  16
#define FB__VRING_AVAIL_ALIGN 2
#define FB__VRING_USED_ALIGN  4

struct fb__vring_desc {
	uint64_t addr; /* guest-physical */
	uint32_t len;
	uint16_t flags; /* FB__VRING_DESC_F_* */
	uint16_t next;	/* with F_NEXT: index of the next descriptor */
};

struct fb__vring_avail {
	uint16_t flags;	 /* FB__VRING_AVAIL_F_* */
	uint16_t idx;	 /* where the driver puts the next entry (free-running) */
	uint16_t ring[]; /* [size] heads, then used_event (EVENT_IDX) */
};

struct fb__vring_used_elem {
	uint32_t id;  /* head of the chain */
	uint32_t len; /* bytes the device wrote */
};

struct fb__vring_used {
	uint16_t flags;			   /* FB__VRING_USED_F_* */
	uint16_t idx;			   /* where the device puts the next entry (free-running) */
	struct fb__vring_used_elem ring[]; /* [size], then uint16_t avail_event (EVENT_IDX) */
};

_Static_assert(sizeof(struct fb__vring_desc) == 16, "virtq_desc is 16 bytes");
_Static_assert(sizeof(struct fb__vring_used_elem) == 8, "virtq_used_elem is 8 bytes");

/*
 * Should the other side be told? It asked to be told once index @event is passed, and the
 * index went from @old to @new since it was last told (2.7.7.2 / 2.7.10).
 */
static inline int fb__vring_need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/* One guest memory region: guest-physical [gpa, gpa + size) is at host[0 .. size). */
struct fb__guest_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uaddr; /* the front end's virtual address of the region */
	uint8_t *host;
};

/*
 * The memory map: regions sorted by gpa, none overlapping (in gpa or uaddr space), none
 * empty, none whose ends overflow. Not locked: it must not change while any queue uses it.
 */
struct fb_guest_mem {
	struct fb__guest_region *regions; /* [count], sorted by gpa */
	int count;
	int cap;
};

/* The region holding guest-physical @gpa, or NULL. */
const struct fb__guest_region *fb__guest_mem_find(const struct fb_guest_mem *m, uint64_t gpa);

/*
 * Copy guest-physical [@gpa, @gpa + @len) to @dst, across region boundaries. Returns 0, or
 * -EFAULT when part of the range is in no region (or it overflows); @dst is then undefined.
 */
int fb__guest_mem_read(const struct fb_guest_mem *m, uint64_t gpa, void *dst, size_t len);

/*
 * Chains announced by the last read of avail->idx and not popped yet. When it is 0 the next
 * fb_virtq_pop() reads avail->idx again: the end of a batch.
 */
int fb__virtq_pending(const struct fb_virtq *q);
/* The queue's size (entries). */
unsigned int fb__virtq_size(const struct fb_virtq *q);

/*
 * Replies later over virtio-fs (the vhost-user back end uses it): a chain whose request is
 * answered later is completed from the token below. The caller owns the tokens' completion
 * function and the list they go on.
 */
struct fb__vchain {
	struct fb__completion c;	/* set by the caller (struct fb__vdefer.fn) */
	void *owner;			/* struct fb__vdefer.owner */
	struct fb__vchain *next;	/* on the owner's list of answered chains */
	uint16_t head;			/* the chain, for fb_virtq_push() */
	uint32_t len;			/* the reply length, once answered */
	int cap;			/* room in out[] */
	int nout;
	struct iovec out[];		/* the writable part: the reply memory */
};

struct fb__vdefer {
	void (*fn)(struct fb__completion *c, ssize_t len);
	void *owner;
	struct fb__vchain *spare; /* the token for the next chain; NULL: made when needed */
};

/*
 * fb_virtio_fs_process() handing each chain to fb_server_handle_async() with a token from
 * @df: a chain whose request answers later is not pushed (its token leaves df->spare and
 * reaches df->fn when the reply is ready: push it then). @df NULL: as fb_virtio_fs_process().
 */
int fb__virtio_fs_process_async(struct fb_server *s, struct fb_virtq *q, struct fb__vdefer *df,
				int *ret_notify);

#endif /* FB_TRANSPORT_VIRTIO_I_H */
