/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * virtio-fs: split virtqueues over a guest's memory, and serving them with a request server.
 *
 * A guest's virtio-fs driver puts each FUSE request in one descriptor chain: readable
 * descriptors hold the in-header and the arguments, writable ones take the out-header and the
 * reply. The device side (this file) walks the chain, hands the server an fb_reader over the
 * readable part (started with fb_reader_init_shared(): the guest can change its memory while we
 * read it) and an fb_writer over the writable part, both straight over guest memory, and puts
 * the chain's head with the reply length in the used ring.
 *
 * Three pieces, usable alone (fb_vhost_user_* in vhost_user.h puts them together):
 *   - struct fb_guest_mem: the guest's memory map, guest-physical (and front-end virtual)
 *     addresses to pointers in this process. Every address and length a guest gives is checked
 *     against it, overflow included.
 *   - struct fb_virtq: one split virtqueue (virtio 1.x, 2.7): descriptor table, available and
 *     used rings, indirect descriptors, VIRTIO_RING_F_EVENT_IDX. Nothing is trusted: a chain that
 *     loops, is longer than the queue, leaves guest memory, has a readable descriptor after a
 *     writable one, or a bad indirect table is reported bad (and completed with length 0 by
 *     fb_virtio_fs_process()); the queue keeps working.
 *   - fb_virtio_fs_process(): pop every available chain of a queue, serve it, push the replies.
 *
 * Threads: a virtqueue is used by one thread at a time (the caller serialises). The memory map
 * may be read by many queues at once and must not change while any of them is used; the
 * vhost-user back end pauses its queues around a change.
 */
#ifndef FUSE_BACKEND_VIRTIO_H
#define FUSE_BACKEND_VIRTIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <fuse_backend/server.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Feature bits of the virtio spec that the device side implements. */
#define FB_VIRTIO_F_RING_INDIRECT_DESC	28
#define FB_VIRTIO_F_RING_EVENT_IDX	29
#define FB_VIRTIO_F_VERSION_1		32

/* The largest queue size (the spec's limit for split queues). */
#define FB_VIRTQ_SIZE_MAX		32768

/* ---- guest memory --------------------------------------------------------------------------- */

struct fb_guest_mem;

/* Create an empty memory map. Returns 0 or -ENOMEM. */
int fb_guest_mem_new(struct fb_guest_mem **ret);

/* Free a memory map (NULL-safe). The mappings themselves belong to the caller. */
void fb_guest_mem_free(struct fb_guest_mem *m);

/*
 * Add a region: guest-physical [@gpa, @gpa + @size), which the front end (the VMM) sees at its
 * virtual address @uaddr, is mapped in this process at @host. Returns 0, -EINVAL for an empty
 * region or one whose addresses overflow, -EEXIST when it overlaps a region already there (in
 * guest-physical or front-end address space), -ENOSPC beyond FB_GUEST_MEM_REGIONS_MAX.
 */
#define FB_GUEST_MEM_REGIONS_MAX	509
int fb_guest_mem_add(struct fb_guest_mem *m, uint64_t gpa, uint64_t size, uint64_t uaddr,
		     void *host);

/*
 * Remove the region that starts at guest-physical @gpa and has @size bytes; stores its host
 * address in *@ret_host (for the caller to unmap). Returns 0 or -ENOENT.
 */
int fb_guest_mem_remove(struct fb_guest_mem *m, uint64_t gpa, uint64_t size, void **ret_host);

/* Number of regions. */
int fb_guest_mem_count(const struct fb_guest_mem *m);

/*
 * Translate guest-physical [@gpa, @gpa + @len) to a pointer. The range may span several
 * regions: the pointer covers the part inside the first one, and *@ret_len says how long that
 * part is (at most @len). Returns NULL when @gpa is in no region, or @len is 0, or
 * @gpa + @len overflows.
 */
void *fb_guest_mem_map(const struct fb_guest_mem *m, uint64_t gpa, uint64_t len,
		       uint64_t *ret_len);

/* Translate a front-end virtual address range, which must lie inside one region (vring
 * addresses in vhost-user are given this way). Returns NULL when it does not. */
void *fb_guest_mem_map_uaddr(const struct fb_guest_mem *m, uint64_t uaddr, uint64_t len);

/* ---- virtqueues ----------------------------------------------------------------------------- */

struct fb_virtq;

/*
 * One descriptor chain taken from the available ring. Filled by fb_virtq_pop().
 *
 * Why a chain is bad (@bad): -ERANGE a head or next index beyond the queue or the indirect
 * table; -ELOOP more descriptors than the queue size (or than the indirect table holds), which
 * is also how a loop ends; -EINVAL a readable descriptor after a writable one, an indirect
 * descriptor with NEXT set or inside an indirect table, an indirect table whose length is 0 or
 * not a multiple of 16; -E2BIG an indirect table of more entries than the queue size, or more
 * than FB_VIRTQ_IOV_MAX(size) iovecs; -EFAULT a buffer or table outside guest memory.
 */
struct fb_virtq_chain {
	uint16_t head;			/* index of the head descriptor: give it to fb_virtq_push() */
	int bad;			/* a negative errno when the chain is malformed: complete it
					 * with length 0 (in, out and their counts are then 0) */
	struct iovec *in;		/* readable by the device: the request (in guest memory) */
	int nin;
	struct iovec *out;		/* writable by the device: the reply (in guest memory) */
	int nout;
};

/*
 * The most iovecs one chain may make on a queue of @size entries (every descriptor is one
 * iovec, or several when its buffer crosses regions). A chain needing more is bad (-E2BIG).
 */
#define FB_VIRTQ_IOV_MAX(size)		(2 * (int)(size) + 16)

/* Create a queue of @size entries (a power of two, 1 to FB_VIRTQ_SIZE_MAX) over memory @m. */
int fb_virtq_new(const struct fb_guest_mem *m, uint16_t size, struct fb_virtq **ret);
void fb_virtq_free(struct fb_virtq *q);

/* Bytes each ring needs for @size entries (the caller checks its mapping covers them). */
size_t fb_virtq_desc_bytes(unsigned int size);
size_t fb_virtq_avail_bytes(unsigned int size, int event_idx);
size_t fb_virtq_used_bytes(unsigned int size, int event_idx);

/*
 * Place the rings (already translated to pointers covering the sizes above; alignment is
 * checked: 16, 2 and 4 bytes). @event_idx: VIRTIO_RING_F_EVENT_IDX was negotiated. @base: the
 * next available index to read (0 for a new queue, or from SET_VRING_BASE). The used ring
 * continues from its own idx (as the driver left it, or as we published it before a stop), and
 * the driver is asked to kick for the next chain. May be called again on a started or broken
 * queue (after the caller paused it): pops continue from @base. Returns 0 or -EINVAL.
 */
int fb_virtq_start(struct fb_virtq *q, void *desc, void *avail, void *used, int event_idx,
		   uint16_t base);

/* The next available index the device would read (for GET_VRING_BASE). */
uint16_t fb_virtq_base(const struct fb_virtq *q);

/* Switch to another memory map (after the caller changed the regions, queue paused). */
void fb_virtq_set_mem(struct fb_virtq *q, const struct fb_guest_mem *m);

/*
 * Take the next available chain. Returns 1 and fills @c, 0 when none is available (or the
 * queue was never started), or -EIO when the available ring itself is broken (its index moved
 * by more than the queue size past the last chain taken): the queue then stops (every pop
 * returns -EIO) until fb_virtq_start() again. A bad chain is returned like a good one, with
 * @c->bad set; the chains after it are not affected.
 *
 * @c's iovec arrays belong to the queue: they are reused by the next fb_virtq_pop() and stay
 * valid only until then (so they are allocated once, at fb_virtq_new()). Serve a chain, or copy
 * its iovecs, before popping the next one. The chain itself stays the caller's until pushed;
 * at most the queue's size chains may be popped and not yet pushed.
 *
 * avail->idx is read once per batch: chains the driver adds after that are seen once the
 * chains already announced have been popped.
 */
int fb_virtq_pop(struct fb_virtq *q, struct fb_virtq_chain *c);

/*
 * Put chain @head (as fb_virtq_pop() gave it, for a bad chain too) in the used ring with @len
 * bytes written. Published by fb_virtq_flush(). Does nothing on a queue never started.
 */
void fb_virtq_push(struct fb_virtq *q, uint16_t head, uint32_t len);

/*
 * Publish the pushed entries (one index update, with the barrier the spec asks for). Returns 1
 * when the driver wants an interrupt for them (EVENT_IDX: used_event was crossed; else unless
 * VIRTQ_AVAIL_F_NO_INTERRUPT), else 0.
 */
int fb_virtq_flush(struct fb_virtq *q);

/*
 * Tell the driver whether to kick us: @on 0 while we are busy draining the queue, 1 before we
 * sleep. With @on 1, returns 1 when chains are available that were not popped yet (they may
 * have arrived before the driver saw the request for a kick: pop them, do not sleep); else 0.
 * With EVENT_IDX turning kicks off does nothing (the driver kicks once past avail_event).
 * fb_virtio_fs_process() calls this itself before it returns.
 */
int fb_virtq_set_notify(struct fb_virtq *q, int on);

/* ---- serving ------------------------------------------------------------------------------- */

/*
 * Serve queue @q with server @s until it is empty, or at most the queue's size of chains (a
 * guest that refills the queue as fast as it is served cannot keep the caller here: when
 * fb_virtq_set_notify(@q, 1) then returns 1, call again): pop each chain, hand it to
 * fb_server_handle() (the readable part as a shared reader), push the reply length (0 for
 * FORGET, bad chains and dropped requests; after DESTROY what was written), and flush once per
 * batch of chains (one read of avail->idx). Before returning it asks the driver for a kick
 * (fb_virtq_set_notify(@q, 1)) and serves whatever came in meanwhile, so the caller may sleep
 * on the kick right away. The hiprio queue (index 0 in virtio-fs) carries FORGET, BATCH_FORGET
 * and INTERRUPT and is served the same way. Returns the number of chains served (>= 0) with
 * *@ret_notify set when the driver should get an interrupt, or -EIO when the queue broke
 * (*@ret_notify is still set for the replies published before). Bad chains and a broken queue
 * are logged at a rate limit (a guest causes them at will).
 */
int fb_virtio_fs_process(struct fb_server *s, struct fb_virtq *q, int *ret_notify);

/*
 * Fill @ops with what every virtio-fs device gives the server: size, the flags
 * FB_TRANSPORT_FOREIGN_PIDS | NO_INTERRUPT | RESTART | REPLY_ALWAYS, no notification channel,
 * no FUSE passthrough. A device with a DAX cache window adds dax_map / dax_unmap and the caps
 * FB_MAP_ALIGNMENT | FB_HAS_INODE_DAX itself.
 */
void fb_virtio_fs_transport_init(struct fb_transport_ops *ops);

#ifdef __cplusplus
}
#endif

#endif /* FUSE_BACKEND_VIRTIO_H */
