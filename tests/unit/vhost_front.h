/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * A vhost-user front end in the test process: what QEMU and a guest's virtio-fs driver do, in
 * miniature, against the real device (fb_vhost_user_* over a socketpair, its default queue
 * threads, a server over passthrough or memfs). For tests and the benchmark; no VM, no mount.
 *
 *   struct vf *vf;
 *   struct vf_config cfg = VF_CONFIG_DEFAULT;          // 1 request queue, memfs
 *   vf_new(&cfg, &vf);                                 // device thread, memory, rings started
 *   vf_fuse_init(vf, &rep);                            // INIT on request queue 1
 *   fbreq_start(&q, FB_LOOKUP, 2, FB_ROOT_ID); fbreq_str(&q, "a");
 *   vf_fuse(vf, 1, &q, &rep);                          // rep as fbreq_send() fills it
 *   vf_free(vf);                                       // EOF to the device, join, unmap
 *
 * Or against a daemon's socket: vf_connect("/run/vfsd.sock", &cfg, &vf) does the same
 * handshake over a connected Unix socket (no device, server or file system in process).
 *
 * Guest memory: three memfd regions, mapped here at the addresses the front end announces as
 * its virtual addresses (the device maps the same memfds again, elsewhere):
 *   R0 guest-physical [0, 8 MiB)                 rings of even queues, then data slots
 *   R1 guest-physical [8 MiB, 40 MiB)            data slots (adjacent to R0: a slot crosses)
 *   R2 guest-physical [4 GiB, 4 GiB + 64 MiB)    rings of odd queues, data slots; its memfd
 *                                                is mapped from offset 2 MiB (mmap_offset)
 * Each queue has VF_SLOTS request slots: an in area and an out area of VF_SLOT_IO bytes each
 * and an indirect table. Slot 0 of queue 1 straddles the R0/R1 boundary.
 *
 * Chains are built as Linux's driver builds them (cfg.seg = 4096): the readable part cut at
 * page boundaries, the out header in its own writable descriptor, then the reply cut at
 * pages; with INDIRECT_DESC negotiated every multi-element request goes in an indirect table.
 * cfg.seg = 0 gives one descriptor per part. Notifications are suppressed as the device asks
 * (EVENT_IDX or NO_NOTIFY) and asked for as the driver does.
 *
 * Threads: each queue is driven by one thread at a time; queues are independent.
 */
#ifndef FB_TEST_VHOST_FRONT_H
#define FB_TEST_VHOST_FRONT_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/memfs.h>
#include <fuse_backend/passthrough.h>
#include <fuse_backend/server.h>
#include <fuse_backend/vhost_user.h>
#include <fuse_backend/virtio.h>

#include "fbreq.h"

/* ---- the protocol's facts (vhost-user, virtio 1.x 2.7) ---------------------------------- */

enum {
	VF_GET_FEATURES = 1,
	VF_SET_FEATURES = 2,
	VF_SET_OWNER = 3,
	VF_RESET_OWNER = 4,
	VF_SET_MEM_TABLE = 5,
	VF_SET_VRING_NUM = 8,
	VF_SET_VRING_ADDR = 9,
	VF_SET_VRING_BASE = 10,
	VF_GET_VRING_BASE = 11,
	VF_SET_VRING_KICK = 12,
	VF_SET_VRING_CALL = 13,
	VF_SET_VRING_ERR = 14,
	VF_GET_PROTOCOL_FEATURES = 15,
	VF_SET_PROTOCOL_FEATURES = 16,
	VF_GET_QUEUE_NUM = 17,
	VF_SET_VRING_ENABLE = 18,
	VF_GET_MAX_MEM_SLOTS = 36,
	VF_ADD_MEM_REG = 37,
	VF_REM_MEM_REG = 38,
};

#define VF_MSG_VERSION	  0x1u
#define VF_MSG_REPLY	  (1u << 2)
#define VF_MSG_NEED_REPLY (1u << 3)

#define VF_F_PROTOCOL_FEATURES	  30 /* virtio feature bit of vhost-user */
#define VF_PF_MQ		  0
#define VF_PF_REPLY_ACK		  3
#define VF_PF_BACKEND_REQ	  5
#define VF_PF_CONFIGURE_MEM_SLOTS 15
#define VF_PF_BACKEND_SEND_FD	  10
#define VF_SET_BACKEND_REQ_FD	  21

#define VF_VRING_INVALID_FD (1ull << 8)

#define VF_DESC_F_NEXT		1
#define VF_DESC_F_WRITE		2
#define VF_DESC_F_INDIRECT	4
#define VF_AVAIL_F_NO_INTERRUPT 1
#define VF_USED_F_NO_NOTIFY	1

struct vf_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vf_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vf_msg_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
};

struct vf_vring_state {
	uint32_t index;
	uint32_t num;
};

struct vf_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc;
	uint64_t used;
	uint64_t avail;
	uint64_t log;
};

struct vf_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uaddr;
	uint64_t mmap_offset;
};

/* ---- the front end --------------------------------------------------------------------- */

#define VF_NREG	      3
#define VF_QUEUES_MAX 9
#define VF_SLOTS      4
#define VF_SLOT_IO    ((1u << 20) + 8192) /* in or out area of a slot: 1 MiB + headers */
#define VF_IND_MAX    600		  /* entries of a slot's indirect table */
#define VF_RING_AREA  (128u << 10)	  /* per queue: rings + VF_SLOTS indirect tables */
#define VF_R0_SIZE    (8ull << 20)
#define VF_R1_GPA     VF_R0_SIZE
#define VF_R1_SIZE    (32ull << 20)
#define VF_R2_GPA     (4ull << 30)
#define VF_R2_SIZE    (64ull << 20)
#define VF_R2_OFFSET  (2ull << 20)
#define VF_TIMEOUT_MS 10000

enum vf_fs_kind { VF_FS_MEMFS, VF_FS_PASSTHROUGH };

struct vf_config {
	enum vf_fs_kind kind;
	const char *source;	     /* passthrough: the directory served */
	unsigned int request_queues; /* offered by the device (default 1) */
	unsigned int queues_used;    /* request queues the "guest" starts; 0: all offered */
	unsigned int queue_size;     /* default 1024 */
	int no_event_idx;	     /* do not negotiate EVENT_IDX */
	int no_indirect;	     /* do not negotiate INDIRECT_DESC */
	int no_mem_slots; /* no CONFIGURE_MEM_SLOTS: one SET_MEM_TABLE, not ADD_MEM_REG */
	unsigned int seg; /* bytes per descriptor at most, cut at multiples (0: one) */
	int backend_req; /* open the back-end request channel (DAX): vf->backend is our end */
	const struct fb_fs_ops *ops; /* when set: serve this table over @fs ... */
	void *fs;		     /* ... instead of a memfs or passthrough of our own */
};

#define VF_CONFIG_DEFAULT                                                                          \
	{                                                                                          \
		.kind = VF_FS_MEMFS, .request_queues = 1, .queue_size = 1024, .seg = 4096          \
	}

struct vf_region {
	uint64_t gpa, size, offset;
	int fd;
	uint8_t *map; /* where the front end sees gpa (its "virtual address") */
};

struct vf_queue {
	unsigned int idx;
	unsigned int size;
	int started;
	uint64_t ring_gpa; /* desc table, then avail, then used, then indirect tables */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct vf_desc *desc;
	uint16_t *avail;     /* flags, idx, ring[size], used_event */
	uint8_t *used;	     /* flags, idx, ring[size] of vf_used_elem, avail_event */
	uint16_t avail_idx;  /* next avail index we publish */
	uint16_t last_used;  /* next used index we read */
	uint16_t base;	     /* from GET_VRING_BASE at the last stop */
	int kick, call;	     /* eventfds; the device gets copies */
	uint16_t *free_desc; /* stack of free descriptor indices */
	unsigned int nfree;
	uint16_t **head_descs; /* per head: the direct descriptors of its chain */
	uint16_t *head_ndescs;
	int *head_done; /* per head: 1 when the used ring returned it */
	uint32_t *head_len;
	int slot_head[VF_SLOTS];     /* head of the chain in flight on a slot, -1: none */
	uint64_t slot_gpa[VF_SLOTS]; /* in area; out area follows at + VF_SLOT_IO */
	uint64_t kicks;		     /* eventfd writes (for the benchmark) */
	uint64_t waits;		     /* sleeps on the call eventfd */
};

struct vf {
	struct vf_config cfg;
	int sock; /* front end's end of the socketpair; -1 after EOF */
	int backend; /* our end of the back-end request channel (cfg.backend_req), else -1 */
	struct vf_region reg[VF_NREG];
	struct vf_queue q[VF_QUEUES_MAX];
	unsigned int nq; /* queues started (hiprio + request queues used) */
	uint64_t dev_features, features, dev_protocol, protocol;
	uint64_t dev_queue_num, max_mem_slots;
	struct fb_memfs *memfs;
	struct fb_passthrough *pt;
	struct fb_server *srv;
	struct fb_vhost_user *dev;
	pthread_t thr;
	int thr_running;
	int run_ret; /* what fb_vhost_user_run() returned */
	volatile int run_done;
	uint64_t unique;
};

static int vf_log_errors = 1;

#define VF_ERR(...)                                                                                \
	do {                                                                                       \
		if (vf_log_errors)                                                                 \
			fprintf(stderr, "  vhost_front: " __VA_ARGS__);                            \
	} while (0)

/* ---- guest memory -------------------------------------------------------------------------- */

/* The front end's pointer to [gpa, gpa + len), which must lie inside one region. */
static inline void *vf_ptr(struct vf *vf, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < VF_NREG; i++) {
		struct vf_region *r = &vf->reg[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return r->map + (gpa - r->gpa);
	}
	return NULL;
}

/* Copy to / from guest memory, across regions where the range spans them. */
static inline int vf_copy(struct vf *vf, uint64_t gpa, void *buf, size_t len, int to_guest)
{
	uint8_t *b = buf;

	while (len) {
		struct vf_region *r = NULL;

		for (int i = 0; i < VF_NREG; i++)
			if (gpa >= vf->reg[i].gpa && gpa - vf->reg[i].gpa < vf->reg[i].size)
				r = &vf->reg[i];
		if (!r)
			return -EFAULT;
		size_t n = r->size - (gpa - r->gpa);

		if (n > len)
			n = len;
		if (to_guest)
			memcpy(r->map + (gpa - r->gpa), b, n);
		else
			memcpy(b, r->map + (gpa - r->gpa), n);
		gpa += n;
		b += n;
		len -= n;
	}
	return 0;
}

/* The region index holding @gpa, or -1. */
static inline int vf_region_of(const struct vf *vf, uint64_t gpa)
{
	for (int i = 0; i < VF_NREG; i++)
		if (gpa >= vf->reg[i].gpa && gpa - vf->reg[i].gpa < vf->reg[i].size)
			return i;
	return -1;
}

static inline int vf_mem_create(struct vf *vf)
{
	static const uint64_t gpa[VF_NREG] = {0, VF_R1_GPA, VF_R2_GPA};
	static const uint64_t size[VF_NREG] = {VF_R0_SIZE, VF_R1_SIZE, VF_R2_SIZE};
	static const uint64_t off[VF_NREG] = {0, 0, VF_R2_OFFSET};

	for (int i = 0; i < VF_NREG; i++) {
		struct vf_region *r = &vf->reg[i];
		char name[32];

		snprintf(name, sizeof(name), "vf-region%d", i);
		r->gpa = gpa[i];
		r->size = size[i];
		r->offset = off[i];
		r->fd = memfd_create(name, MFD_CLOEXEC);
		if (r->fd < 0)
			return -errno;
		if (ftruncate(r->fd, (off_t)(r->offset + r->size)) < 0)
			return -errno;
		r->map = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd,
			      (off_t)r->offset);
		if (r->map == MAP_FAILED) {
			r->map = NULL;
			return -errno;
		}
	}
	return 0;
}

static inline void vf_mem_destroy(struct vf *vf)
{
	for (int i = 0; i < VF_NREG; i++) {
		struct vf_region *r = &vf->reg[i];

		if (r->map)
			munmap(r->map, r->size);
		if (r->fd >= 0)
			close(r->fd);
		r->map = NULL;
		r->fd = -1;
	}
}

/* ---- vhost-user messages ------------------------------------------------------------------- */

static inline int vf_io_wait(int fd, short ev)
{
	struct pollfd p = {.fd = fd, .events = ev};
	int r;

	do
		r = poll(&p, 1, VF_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	return 0;
}

static inline int vf_recv_all(int fd, void *buf, size_t len)
{
	uint8_t *b = buf;

	while (len) {
		int r = vf_io_wait(fd, POLLIN);

		if (r < 0)
			return r;
		ssize_t n = recv(fd, b, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Send one message with @nfds fds in its ancillary data. */
static inline int vf_send_msg(struct vf *vf, uint32_t req, uint32_t flags, const void *payload,
			      uint32_t size, const int *fds, int nfds)
{
	struct vf_msg_hdr h = {.request = req, .flags = VF_MSG_VERSION | flags, .size = size};
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)payload, size}};
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} u;
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = size ? 2 : 1};
	ssize_t n;

	if (vf->sock < 0)
		return -ENOTCONN;
	if (nfds) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		m.msg_control = u.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	do
		n = sendmsg(vf->sock, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != sizeof(h) + size)
		return -EIO; /* a stream socket this small does not cut messages */
	return 0;
}

/* Read the reply to @req into @out (exactly @size bytes of payload expected). */
static inline int vf_recv_reply(struct vf *vf, uint32_t req, void *out, uint32_t size)
{
	struct vf_msg_hdr h;
	uint8_t junk[256];
	int r = vf_recv_all(vf->sock, &h, sizeof(h));

	if (r < 0)
		return r;
	if (h.request != req || (h.flags & 3) != VF_MSG_VERSION || !(h.flags & VF_MSG_REPLY)) {
		VF_ERR("reply to %u: request %u flags %#x\n", req, h.request, h.flags);
		return -EPROTO;
	}
	if (h.size != size) {
		VF_ERR("reply to %u: size %u, want %u\n", req, h.size, size);
		if (h.size <= sizeof(junk))
			vf_recv_all(vf->sock, junk, h.size);
		return -EPROTO;
	}
	return vf_recv_all(vf->sock, out, size);
}

/* A GET-style request: send, read the u64 / struct reply. */
static inline int vf_get(struct vf *vf, uint32_t req, const void *payload, uint32_t psize,
			 void *out, uint32_t osize)
{
	int r = vf_send_msg(vf, req, 0, payload, psize, NULL, 0);

	if (r < 0)
		return r;
	return vf_recv_reply(vf, req, out, osize);
}

/*
 * A SET-style request. With REPLY_ACK negotiated it asks for the ack and returns -EIO when
 * the device reports failure (a non-zero u64), else 0.
 */
static inline int vf_set(struct vf *vf, uint32_t req, const void *payload, uint32_t psize,
			 const int *fds, int nfds)
{
	int ack = !!(vf->protocol & (1ull << VF_PF_REPLY_ACK));
	uint64_t status = 0;
	int r = vf_send_msg(vf, req, ack ? VF_MSG_NEED_REPLY : 0, payload, psize, fds, nfds);

	if (r < 0 || !ack)
		return r;
	r = vf_recv_reply(vf, req, &status, sizeof(status));
	if (r < 0)
		return r;
	return status ? -EIO : 0;
}

static inline int vf_set_u64(struct vf *vf, uint32_t req, uint64_t v)
{
	return vf_set(vf, req, &v, sizeof(v), NULL, 0);
}

static inline int vf_set_state(struct vf *vf, uint32_t req, uint32_t index, uint32_t num)
{
	struct vf_vring_state st = {index, num};

	return vf_set(vf, req, &st, sizeof(st), NULL, 0);
}

/* ---- rings --------------------------------------------------------------------------------- */

static inline size_t vf_align(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static inline uint16_t *vf_used_event(struct vf_queue *q)
{
	return &q->avail[2 + q->size];
}

static inline uint16_t *vf_avail_event(struct vf_queue *q)
{
	return (uint16_t *)(q->used + 4 + 8 * (size_t)q->size);
}

static inline struct vf_used_elem *vf_used_ring(struct vf_queue *q)
{
	return (struct vf_used_elem *)(q->used + 4);
}

static inline uint16_t vf_used_idx(struct vf_queue *q)
{
	return __atomic_load_n((uint16_t *)(q->used + 2), __ATOMIC_ACQUIRE);
}

static inline uint64_t vf_ind_gpa(struct vf_queue *q, int slot)
{
	return q->ring_gpa + VF_RING_AREA -
	       (uint64_t)(VF_SLOTS - slot) * vf_align(VF_IND_MAX * 16, 4096);
}

/* Place queue @qi's rings and data slots; clear the rings (a fresh driver). */
static inline int vf_queue_layout(struct vf *vf, unsigned int qi)
{
	struct vf_queue *q = &vf->q[qi];
	unsigned int n = vf->cfg.queue_size;
	size_t dsz = 16 * (size_t)n, asz = 6 + 2 * (size_t)n, usz = 6 + 8 * (size_t)n;

	q->idx = qi;
	q->size = n;
	q->ring_gpa = (qi % 2 ? VF_R2_GPA : 0) + (uint64_t)(qi / 2) * VF_RING_AREA;
	q->desc_gpa = q->ring_gpa;
	q->avail_gpa = q->desc_gpa + vf_align(dsz, 4096);
	q->used_gpa = q->avail_gpa + vf_align(asz, 4096);
	if (q->used_gpa + vf_align(usz, 4096) > vf_ind_gpa(q, 0))
		return -E2BIG;
	q->desc = vf_ptr(vf, q->desc_gpa, dsz);
	q->avail = vf_ptr(vf, q->avail_gpa, asz);
	q->used = vf_ptr(vf, q->used_gpa, usz);
	if (!q->desc || !q->avail || !q->used)
		return -EFAULT;
	memset(q->desc, 0, dsz);
	memset(q->avail, 0, asz);
	memset(q->used, 0, usz);
	q->avail_idx = 0;
	q->last_used = 0;

	free(q->free_desc);
	free(q->head_ndescs);
	free(q->head_done);
	free(q->head_len);
	if (q->head_descs)
		for (unsigned int i = 0; i < n; i++)
			free(q->head_descs[i]);
	free(q->head_descs);
	q->free_desc = calloc(n, sizeof(*q->free_desc));
	q->head_descs = calloc(n, sizeof(*q->head_descs));
	q->head_ndescs = calloc(n, sizeof(*q->head_ndescs));
	q->head_done = calloc(n, sizeof(*q->head_done));
	q->head_len = calloc(n, sizeof(*q->head_len));
	if (!q->free_desc || !q->head_descs || !q->head_ndescs || !q->head_done || !q->head_len)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++)
		q->free_desc[i] = (uint16_t)(n - 1 - i);
	q->nfree = n;
	for (int s = 0; s < VF_SLOTS; s++)
		q->slot_head[s] = -1;

	/*
	 * Data slots, queue 1 first, from 6 KiB below the R0/R1 boundary up through R1, then
	 * on in R2 after its rings (slot 0 of queue 1 therefore crosses from R0 into R1).
	 */
	unsigned int order = qi == 0 ? VF_QUEUES_MAX - 1 : qi - 1;
	uint64_t slot_bytes = 2ull * VF_SLOT_IO;
	uint64_t start = VF_R1_GPA - 6144;
	unsigned int in_r1 = (unsigned int)((VF_R1_GPA + VF_R1_SIZE - start) / slot_bytes);
	uint64_t r2_start = VF_R2_GPA + (uint64_t)((VF_QUEUES_MAX + 1) / 2) * VF_RING_AREA;

	for (int s = 0; s < VF_SLOTS; s++) {
		unsigned int k = order * VF_SLOTS + (unsigned int)s;

		q->slot_gpa[s] =
			k < in_r1 ? start + k * slot_bytes : r2_start + (k - in_r1) * slot_bytes;
		if (vf_region_of(vf, q->slot_gpa[s] + slot_bytes - 1) < 0)
			return -E2BIG;
	}
	return 0;
}

/* Start ring @qi on the device: NUM, BASE, ADDR, KICK, CALL, ENABLE 1 (QEMU's order). */
static inline int vf_ring_start(struct vf *vf, unsigned int qi, uint16_t base)
{
	struct vf_queue *q = &vf->q[qi];
	struct vf_vring_addr a = {
		.index = qi,
		.desc = (uint64_t)(uintptr_t)q->desc,
		.used = (uint64_t)(uintptr_t)q->used,
		.avail = (uint64_t)(uintptr_t)q->avail,
	};
	uint64_t v = qi;
	int r;

	if ((r = vf_set_state(vf, VF_SET_VRING_NUM, qi, q->size)) < 0 ||
	    (r = vf_set_state(vf, VF_SET_VRING_BASE, qi, base)) < 0 ||
	    (r = vf_set(vf, VF_SET_VRING_ADDR, &a, sizeof(a), NULL, 0)) < 0 ||
	    (r = vf_set(vf, VF_SET_VRING_KICK, &v, sizeof(v), &q->kick, 1)) < 0 ||
	    (r = vf_set(vf, VF_SET_VRING_CALL, &v, sizeof(v), &q->call, 1)) < 0 ||
	    (r = vf_set_state(vf, VF_SET_VRING_ENABLE, qi, 1)) < 0) {
		VF_ERR("starting ring %u: %s\n", qi, strerror(-r));
		return r;
	}
	q->started = 1;
	return 0;
}

/*
 * Stop every started ring as QEMU does at guest poweroff, reboot or SIGTERM: ENABLE 0 and
 * GET_VRING_BASE per ring (the device answers once the ring's requests are done; the base is
 * kept in q->base), then SET_VRING_CALL per ring.
 */
static inline int vf_stop(struct vf *vf)
{
	int r;

	for (unsigned int i = 0; i < vf->nq; i++) {
		struct vf_vring_state st = {i, 0};
		struct vf_vring_state out;

		if (!vf->q[i].started)
			continue;
		if ((r = vf_set_state(vf, VF_SET_VRING_ENABLE, i, 0)) < 0)
			return r;
		if ((r = vf_get(vf, VF_GET_VRING_BASE, &st, sizeof(st), &out, sizeof(out))) < 0)
			return r;
		if (out.index != i)
			return -EPROTO;
		vf->q[i].base = (uint16_t)out.num;
		vf->q[i].started = 0;
	}
	for (unsigned int i = 0; i < vf->nq; i++) {
		uint64_t v = i;

		if ((r = vf_set(vf, VF_SET_VRING_CALL, &v, sizeof(v), &vf->q[i].call, 1)) < 0)
			return r;
	}
	return 0;
}

/*
 * Start the rings again. @keep: the same rings go on from the base the device gave at the
 * stop (a paused VM resumes); else the "guest" lays out fresh rings from index 0 (a reboot).
 */
static inline int vf_restart(struct vf *vf, int keep)
{
	int r;

	for (unsigned int i = 0; i < vf->nq; i++) {
		if (!keep && (r = vf_queue_layout(vf, i)) < 0)
			return r;
		if ((r = vf_ring_start(vf, i, keep ? vf->q[i].base : 0)) < 0)
			return r;
	}
	return 0;
}

/* ---- the driver side of a queue ------------------------------------------------------------ */

/* Take @n free descriptors into @out. Returns 0 or -ENOSPC. */
static inline int vf_desc_alloc(struct vf_queue *q, unsigned int n, uint16_t *out)
{
	if (n > q->nfree)
		return -ENOSPC;
	for (unsigned int i = 0; i < n; i++)
		out[i] = q->free_desc[--q->nfree];
	return 0;
}

/*
 * Make chain @head (whose direct descriptors are @descs, already filled by the caller)
 * available and kick the device unless it asked not to be. @descs is copied.
 */
static inline int vf_publish(struct vf *vf, unsigned int qi, uint16_t head, const uint16_t *descs,
			     unsigned int n)
{
	struct vf_queue *q = &vf->q[qi];
	int event_idx = !!(vf->features & (1ull << FB_VIRTIO_F_RING_EVENT_IDX));
	uint16_t old = q->avail_idx, nw = (uint16_t)(old + 1);
	int kick;

	free(q->head_descs[head]);
	q->head_descs[head] = malloc(sizeof(uint16_t) * (n ? n : 1));
	if (!q->head_descs[head])
		return -ENOMEM;
	memcpy(q->head_descs[head], descs, sizeof(uint16_t) * n);
	q->head_ndescs[head] = (uint16_t)n;
	q->head_done[head] = 0;
	q->avail[2 + old % q->size] = head;
	/* The descriptors and the ring entry before the index (virtio 2.7.13). */
	__atomic_store_n(&q->avail[1], nw, __ATOMIC_RELEASE);
	q->avail_idx = nw;
	/* The index before reading the device's suppression (2.7.10.2). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (event_idx) {
		uint16_t ev = __atomic_load_n(vf_avail_event(q), __ATOMIC_RELAXED);

		kick = (uint16_t)(nw - ev - 1) < (uint16_t)(nw - old);
	} else {
		kick = !(__atomic_load_n((uint16_t *)q->used, __ATOMIC_RELAXED) &
			 VF_USED_F_NO_NOTIFY);
	}
	if (kick) {
		uint64_t one = 1;

		q->kicks++;
		if (write(q->kick, &one, sizeof(one)) != sizeof(one))
			return -errno;
	}
	return 0;
}

/* Take what the used ring returned: mark heads done, free their descriptors. */
static inline void vf_reap(struct vf_queue *q)
{
	uint16_t end = vf_used_idx(q);

	while (q->last_used != end) {
		struct vf_used_elem e = vf_used_ring(q)[q->last_used % q->size];

		q->last_used++;
		if (e.id >= q->size) {
			VF_ERR("queue %u: used id %u out of range\n", q->idx, e.id);
			continue;
		}
		if (q->head_done[e.id] || !q->head_descs[e.id]) {
			VF_ERR("queue %u: head %u returned twice\n", q->idx, e.id);
			continue;
		}
		q->head_done[e.id] = 1;
		q->head_len[e.id] = e.len;
		for (unsigned int i = 0; i < q->head_ndescs[e.id]; i++)
			q->free_desc[q->nfree++] = q->head_descs[e.id][i];
		free(q->head_descs[e.id]);
		q->head_descs[e.id] = NULL;
	}
}

/*
 * Wait until the device returns chain @head. Returns the length it wrote (>= 0) or
 * -ETIMEDOUT after @timeout_ms.
 */
static inline int64_t vf_wait_head(struct vf *vf, unsigned int qi, uint16_t head, int timeout_ms)
{
	struct vf_queue *q = &vf->q[qi];
	int event_idx = !!(vf->features & (1ull << FB_VIRTIO_F_RING_EVENT_IDX));

	for (;;) {
		vf_reap(q);
		if (q->head_done[head]) {
			q->head_done[head] = 0;
			return q->head_len[head];
		}
		/* Ask for an interrupt at the next used entry, then look once more. */
		if (event_idx)
			__atomic_store_n(vf_used_event(q), q->last_used, __ATOMIC_RELAXED);
		else
			__atomic_store_n(&q->avail[0], 0, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (vf_used_idx(q) != q->last_used)
			continue;

		struct pollfd p = {.fd = q->call, .events = POLLIN};
		uint64_t v;
		int r;

		q->waits++;
		r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			vf_reap(q);
			if (q->head_done[head])
				continue;
			return r < 0 ? -errno : -ETIMEDOUT;
		}
		if (read(q->call, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return -errno;
	}
}

/* Cut [gpa, gpa + len) at multiples of @seg into descriptors at @d; returns how many. */
static inline unsigned int vf_cut(struct vf_desc *d, uint64_t gpa, uint64_t len, unsigned int seg,
				  uint16_t flags)
{
	unsigned int n = 0;

	while (len) {
		uint64_t l = seg ? seg - gpa % seg : len;

		if (l > len)
			l = len;
		d[n++] = (struct vf_desc){.addr = gpa, .len = (uint32_t)l, .flags = flags};
		gpa += l;
		len -= l;
	}
	return n;
}

/*
 * Post the request in slot @slot of queue @qi: @inlen readable bytes (at the slot's in area,
 * copied from @in unless @in is NULL: the caller wrote them with vf_slot_write()) and @outlen
 * writable bytes (the slot's out area). Returns 0 or a negative errno.
 */
static inline int vf_submit(struct vf *vf, unsigned int qi, int slot, const void *in, size_t inlen,
			    size_t outlen)
{
	struct vf_queue *q = &vf->q[qi];
	static __thread struct vf_desc d[2 * VF_IND_MAX];
	uint16_t idx[2 * VF_IND_MAX];
	uint64_t ingpa = q->slot_gpa[slot], outgpa = ingpa + VF_SLOT_IO;
	unsigned int seg = vf->cfg.seg, n = 0, nd;
	int r;

	if (inlen > VF_SLOT_IO || outlen > VF_SLOT_IO || q->slot_head[slot] >= 0)
		return -EINVAL;
	if (in && (r = vf_copy(vf, ingpa, (void *)in, inlen, 1)) < 0)
		return r;
	n += vf_cut(d + n, ingpa, inlen, seg, 0);
	if (seg && outlen > sizeof(struct fb_out_header)) {
		/* The out header alone, as the kernel's sg list has it. */
		n += vf_cut(d + n, outgpa, sizeof(struct fb_out_header), 0, VF_DESC_F_WRITE);
		n += vf_cut(d + n, outgpa + sizeof(struct fb_out_header),
			    outlen - sizeof(struct fb_out_header), seg, VF_DESC_F_WRITE);
	} else {
		n += vf_cut(d + n, outgpa, outlen, seg, VF_DESC_F_WRITE);
	}
	if (!n)
		return -EINVAL;
	if (n > 1 && (vf->features & (1ull << FB_VIRTIO_F_RING_INDIRECT_DESC))) {
		struct vf_desc *t;

		if (n > VF_IND_MAX || !(t = vf_ptr(vf, vf_ind_gpa(q, slot), 16 * (size_t)n)))
			return -E2BIG;
		for (unsigned int i = 0; i < n; i++) {
			t[i] = d[i];
			if (i + 1 < n) {
				t[i].flags |= VF_DESC_F_NEXT;
				t[i].next = (uint16_t)(i + 1);
			}
		}
		if ((r = vf_desc_alloc(q, 1, idx)) < 0)
			return r;
		q->desc[idx[0]] = (struct vf_desc){
			.addr = vf_ind_gpa(q, slot), .len = 16 * n, .flags = VF_DESC_F_INDIRECT};
		nd = 1;
	} else {
		if ((r = vf_desc_alloc(q, n, idx)) < 0)
			return r;
		for (unsigned int i = 0; i < n; i++) {
			q->desc[idx[i]] = d[i];
			if (i + 1 < n) {
				q->desc[idx[i]].flags |= VF_DESC_F_NEXT;
				q->desc[idx[i]].next = idx[i + 1];
			}
		}
		nd = n;
	}
	q->slot_head[slot] = idx[0];
	return vf_publish(vf, qi, idx[0], idx, nd);
}

/* Write / read bytes of a slot's in (@out_area 0) or out (1) area. */
static inline int vf_slot_io(struct vf *vf, unsigned int qi, int slot, int out_area, size_t off,
			     void *buf, size_t len, int to_guest)
{
	uint64_t gpa = vf->q[qi].slot_gpa[slot] + (out_area ? VF_SLOT_IO : 0) + off;

	return vf_copy(vf, gpa, buf, len, to_guest);
}

/*
 * Wait for the request in @slot and copy up to @cap reply bytes into @out (none when @out is
 * NULL). Returns the used length or a negative errno.
 */
static inline int64_t vf_complete(struct vf *vf, unsigned int qi, int slot, void *out, size_t cap)
{
	struct vf_queue *q = &vf->q[qi];
	int64_t len;

	if (q->slot_head[slot] < 0)
		return -EINVAL;
	len = vf_wait_head(vf, qi, (uint16_t)q->slot_head[slot], VF_TIMEOUT_MS);
	if (len < 0)
		return len;
	q->slot_head[slot] = -1;
	if (out && len > 0)
		vf_slot_io(vf, qi, slot, 1, 0, out, (size_t)len < cap ? (size_t)len : cap, 0);
	return len;
}

/* ---- FUSE on top ---------------------------------------------------------------------------- */

/*
 * Send request @rq on queue @qi (slot 0) and fill @p as fbreq_send() does (p->ret is the used
 * length, or a negative errno when the device did not answer). The writable part is @p->cap
 * bytes (at most VF_SLOT_IO).
 */
static inline int64_t vf_fuse_slot(struct vf *vf, unsigned int qi, int slot, struct fbreq *rq,
				   struct fbrep *p)
{
	size_t cap = p->cap < VF_SLOT_IO ? p->cap : VF_SLOT_IO;
	int64_t len;
	int r;

	if (!rq->keep_len)
		fbreq_finish(rq);
	memset(&p->oh, 0, sizeof(p->oh));
	p->body = NULL;
	p->bodylen = 0;
	p->written = 0;
	r = vf_submit(vf, qi, slot, rq->buf, rq->len, cap);
	if (r < 0) {
		p->ret = r;
		return r;
	}
	len = vf_complete(vf, qi, slot, p->buf, cap);
	p->ret = len;
	if (len < 0)
		return len;
	p->written = (size_t)len;
	if (p->written >= sizeof(p->oh)) {
		memcpy(&p->oh, p->buf, sizeof(p->oh));
		p->body = p->buf + sizeof(p->oh);
		p->bodylen = p->written - sizeof(p->oh);
	}
	return len;
}

static inline int64_t vf_fuse(struct vf *vf, unsigned int qi, struct fbreq *rq, struct fbrep *p)
{
	return vf_fuse_slot(vf, qi, 0, rq, p);
}

/* A FORGET as Linux sends it: alone on the hiprio queue, no writable part. */
static inline int64_t vf_forget(struct vf *vf, uint64_t nodeid, uint64_t nlookup)
{
	struct fbreq rq = {0};
	struct fb_forget_in fi = {.nlookup = nlookup};
	int64_t r;

	fbreq_start(&rq, FB_FORGET, ++vf->unique, nodeid);
	fbreq_put(&rq, &fi, sizeof(fi));
	fbreq_finish(&rq);
	r = vf_submit(vf, 0, 0, rq.buf, rq.len, 0);
	fbreq_free(&rq);
	if (r < 0)
		return r;
	return vf_complete(vf, 0, 0, NULL, 0);
}

/* INIT as a 7.45 kernel offering everything, on request queue 1. Returns the reply's error. */
static inline int vf_fuse_init(struct vf *vf, struct fbrep *p)
{
	struct fbreq rq = {0};
	int64_t r;

	fbreq_init_msg(&rq, ++vf->unique, 7, 45, 128 * 1024, FBREQ_ALL_FLAGS);
	r = vf_fuse(vf, 1, &rq, p);
	fbreq_free(&rq);
	if (r < (int64_t)sizeof(struct fb_out_header))
		return r < 0 ? (int)r : -EPROTO;
	return p->oh.error;
}

/* ---- setting up and tearing down ------------------------------------------------------------ */

static inline void *vf_thread(void *arg)
{
	struct vf *vf = arg;

	vf->run_ret = fb_vhost_user_run(vf->dev);
	__atomic_store_n(&vf->run_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* The handshake QEMU 7.2 does, then every ring started. */
static inline int vf_handshake(struct vf *vf)
{
	uint64_t want = (1ull << FB_VIRTIO_F_VERSION_1) | (1ull << VF_F_PROTOCOL_FEATURES);
	uint64_t pwant = (1ull << VF_PF_MQ) | (1ull << VF_PF_REPLY_ACK) |
			 (1ull << VF_PF_CONFIGURE_MEM_SLOTS);
	int r;

	if (vf->cfg.no_mem_slots)
		pwant &= ~(1ull << VF_PF_CONFIGURE_MEM_SLOTS);
	if (vf->cfg.backend_req)
		pwant |= (1ull << VF_PF_BACKEND_REQ) | (1ull << VF_PF_BACKEND_SEND_FD);
	if (!vf->cfg.no_indirect)
		want |= 1ull << FB_VIRTIO_F_RING_INDIRECT_DESC;
	if (!vf->cfg.no_event_idx)
		want |= 1ull << FB_VIRTIO_F_RING_EVENT_IDX;
	if ((r = vf_get(vf, VF_GET_FEATURES, NULL, 0, &vf->dev_features, 8)) < 0)
		return r;
	if (!(vf->dev_features & (1ull << VF_F_PROTOCOL_FEATURES)) ||
	    !(vf->dev_features & (1ull << FB_VIRTIO_F_VERSION_1))) {
		VF_ERR("device features %#llx lack VERSION_1 or PROTOCOL_FEATURES\n",
		       (unsigned long long)vf->dev_features);
		return -EPROTO;
	}
	if ((r = vf_get(vf, VF_GET_PROTOCOL_FEATURES, NULL, 0, &vf->dev_protocol, 8)) < 0)
		return r;
	vf->protocol = vf->dev_protocol & pwant;
	/* REPLY_ACK applies from the next message on. */
	uint64_t p = vf->protocol;

	vf->protocol = 0;
	if ((r = vf_set_u64(vf, VF_SET_PROTOCOL_FEATURES, p)) < 0)
		return r;
	vf->protocol = p;
	if ((r = vf_get(vf, VF_GET_QUEUE_NUM, NULL, 0, &vf->dev_queue_num, 8)) < 0)
		return r;
	if (vf->protocol & (1ull << VF_PF_CONFIGURE_MEM_SLOTS)) {
		if ((r = vf_get(vf, VF_GET_MAX_MEM_SLOTS, NULL, 0, &vf->max_mem_slots, 8)) < 0)
			return r;
	}
	if ((r = vf_set(vf, VF_SET_OWNER, NULL, 0, NULL, 0)) < 0)
		return r;
	if (vf->cfg.backend_req) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			return -errno;
		vf->backend = sv[0];
		r = vf_set(vf, VF_SET_BACKEND_REQ_FD, NULL, 0, &sv[1], 1);
		close(sv[1]);
		if (r < 0)
			return r;
	}
	vf->features = vf->dev_features & want;
	if ((r = vf_set_u64(vf, VF_SET_FEATURES, vf->features)) < 0)
		return r;
	if (vf->protocol & (1ull << VF_PF_CONFIGURE_MEM_SLOTS)) {
		for (int i = 0; i < VF_NREG; i++) {
			struct {
				uint64_t padding;
				struct vf_mem_region m;
			} reg = {0,
				 {vf->reg[i].gpa, vf->reg[i].size,
				  (uint64_t)(uintptr_t)vf->reg[i].map, vf->reg[i].offset}};

			if ((r = vf_set(vf, VF_ADD_MEM_REG, &reg, sizeof(reg), &vf->reg[i].fd, 1)) <
			    0)
				return r;
		}
	} else {
		struct {
			uint32_t nregions;
			uint32_t padding;
			struct vf_mem_region m[VF_NREG];
		} t = {VF_NREG, 0, {{0}}};
		int fds[VF_NREG];

		for (int i = 0; i < VF_NREG; i++) {
			t.m[i] = (struct vf_mem_region){vf->reg[i].gpa, vf->reg[i].size,
							(uint64_t)(uintptr_t)vf->reg[i].map,
							vf->reg[i].offset};
			fds[i] = vf->reg[i].fd;
		}
		if ((r = vf_set(vf, VF_SET_MEM_TABLE, &t, sizeof(t), fds, VF_NREG)) < 0)
			return r;
	}
	for (unsigned int i = 0; i < vf->nq; i++)
		if ((r = vf_ring_start(vf, i, 0)) < 0)
			return r;
	return 0;
}

static inline void vf_free(struct vf *vf);

/* Close the front end's socket: the device sees EOF. Waits until fb_vhost_user_run() returns
 * (at most VF_TIMEOUT_MS; returns -ETIMEDOUT then). */
static inline int vf_disconnect(struct vf *vf)
{
	if (vf->sock >= 0) {
		close(vf->sock);
		vf->sock = -1;
	}
	if (!vf->thr_running)
		return 0;
	for (int i = 0; i < VF_TIMEOUT_MS / 10; i++) {
		if (__atomic_load_n(&vf->run_done, __ATOMIC_ACQUIRE)) {
			pthread_join(vf->thr, NULL);
			vf->thr_running = 0;
			return 0;
		}
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/* Create the file system, server, device, memory; connect; start the rings. */
static inline int vf_new(const struct vf_config *cfg, struct vf **ret)
{
	struct fb_vhost_user_config dcfg = {.size = sizeof(dcfg)};
	struct vf *vf = calloc(1, sizeof(*vf));
	const struct fb_fs_ops *ops;
	void *fs;
	int sv[2], r;

	if (!vf)
		return -ENOMEM;
	vf->cfg = *cfg;
	if (!vf->cfg.request_queues)
		vf->cfg.request_queues = 1;
	if (!vf->cfg.queue_size)
		vf->cfg.queue_size = 1024;
	if (!vf->cfg.queues_used || vf->cfg.queues_used > vf->cfg.request_queues)
		vf->cfg.queues_used = vf->cfg.request_queues;
	vf->nq = 1 + vf->cfg.queues_used;
	vf->sock = -1;
	vf->backend = -1;
	for (int i = 0; i < VF_NREG; i++)
		vf->reg[i].fd = -1;
	for (unsigned int i = 0; i < VF_QUEUES_MAX; i++)
		vf->q[i].kick = vf->q[i].call = -1;
	*ret = vf;
	if (vf->nq > VF_QUEUES_MAX)
		return -EINVAL;

	if (vf->cfg.ops) {
		ops = vf->cfg.ops;
		fs = vf->cfg.fs;
	} else if (vf->cfg.kind == VF_FS_PASSTHROUGH) {
		struct fb_passthrough_config pc;

		fb_passthrough_config_init(&pc);
		pc.source = vf->cfg.source;
		pc.cred_switch = 0;
		if ((r = fb_passthrough_new(&pc, &vf->pt)) < 0)
			return r;
		ops = &fb_passthrough_ops;
		fs = vf->pt;
	} else {
		if ((r = fb_memfs_new(NULL, &vf->memfs)) < 0)
			return r;
		ops = &fb_memfs_ops;
		fs = vf->memfs;
	}
	if ((r = fb_server_new(ops, sizeof(*ops), fs, NULL, &vf->srv)) < 0)
		return r;
	dcfg.request_queues = vf->cfg.request_queues;
	dcfg.queue_size_max = 1024;
	if ((r = fb_vhost_user_new(vf->srv, &dcfg, &vf->dev)) < 0)
		return r;
	if ((r = vf_mem_create(vf)) < 0)
		return r;
	for (unsigned int i = 0; i < vf->nq; i++) {
		vf->q[i].kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		vf->q[i].call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vf->q[i].kick < 0 || vf->q[i].call < 0)
			return -errno;
		if ((r = vf_queue_layout(vf, i)) < 0)
			return r;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	vf->sock = sv[0];
	if ((r = fb_vhost_user_set_fd(vf->dev, sv[1])) < 0) {
		close(sv[1]);
		return r;
	}
	if ((r = -pthread_create(&vf->thr, NULL, vf_thread, vf)) < 0)
		return r;
	vf->thr_running = 1;
	return vf_handshake(vf);
}

/*
 * A front end on the Unix socket at @path (a daemon such as fb-virtiofsd) instead of a device
 * in process: memory, rings for hiprio and @cfg's queues_used request queues (at least 1),
 * then QEMU 7.2's handshake. *@ret is set even on failure; vf_free() closes the socket and
 * frees it (the daemon sees EOF).
 */
static inline int vf_connect(const char *path, const struct vf_config *cfg, struct vf **ret)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vf *vf = calloc(1, sizeof(*vf));
	int r;

	if (!vf)
		return -ENOMEM;
	*ret = vf;
	vf->cfg = *cfg;
	if (!vf->cfg.queues_used)
		vf->cfg.queues_used = 1;
	if (!vf->cfg.queue_size)
		vf->cfg.queue_size = 1024;
	vf->nq = 1 + vf->cfg.queues_used;
	vf->sock = -1;
	for (int i = 0; i < VF_NREG; i++)
		vf->reg[i].fd = -1;
	for (unsigned int i = 0; i < VF_QUEUES_MAX; i++)
		vf->q[i].kick = vf->q[i].call = -1;
	if (vf->nq > VF_QUEUES_MAX || strlen(path) >= sizeof(sa.sun_path))
		return -EINVAL;
	if ((r = vf_mem_create(vf)) < 0)
		return r;
	for (unsigned int i = 0; i < vf->nq; i++) {
		vf->q[i].kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		vf->q[i].call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vf->q[i].kick < 0 || vf->q[i].call < 0)
			return -errno;
		if ((r = vf_queue_layout(vf, i)) < 0)
			return r;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	vf->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (vf->sock < 0)
		return -errno;
	if (connect(vf->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return vf_handshake(vf);
}

/* Disconnect (EOF), join the device thread, free everything. NULL-safe. */
static inline void vf_free(struct vf *vf)
{
	if (!vf)
		return;
	if (vf_disconnect(vf) < 0) {
		/* A device that does not see EOF: make it stop before freeing it. */
		fb_vhost_user_stop(vf->dev);
		pthread_join(vf->thr, NULL);
	}
	fb_vhost_user_free(vf->dev);
	if (vf->backend >= 0)
		close(vf->backend);
	fb_server_free(vf->srv);
	fb_passthrough_free(vf->pt);
	fb_memfs_free(vf->memfs);
	for (unsigned int i = 0; i < VF_QUEUES_MAX; i++) {
		struct vf_queue *q = &vf->q[i];

		if (q->kick >= 0)
			close(q->kick);
		if (q->call >= 0)
			close(q->call);
		if (q->head_descs)
			for (unsigned int j = 0; j < q->size; j++)
				free(q->head_descs[j]);
		free(q->head_descs);
		free(q->free_desc);
		free(q->head_ndescs);
		free(q->head_done);
		free(q->head_len);
	}
	vf_mem_destroy(vf);
	free(vf);
}

/* Open file descriptors of this process. */
static inline int vf_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

/* Mappings of this process whose file name contains @name. */
static inline int vf_count_maps(const char *name)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, name))
			n++;
	fclose(f);
	return n;
}

#endif /* FB_TEST_VHOST_FRONT_H */
