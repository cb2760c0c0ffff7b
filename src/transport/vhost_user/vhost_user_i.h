/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Internal to the vhost-user back end: the wire format, the device object, and the calls
 * between its files.
 *
 *   message.c      reading, checking and dispatching front-end messages (one const table)
 *   mem.c          the memory table: mapping the regions the front end sends
 *   queue.c        the vring messages, starting and stopping queues, the queue threads
 *   backend_req.c  the back-end request channel (DAX map/unmap)
 *   socket.c       the Unix socket: listen, accept, send and receive with fds
 *   device.c       the public object: new/free, the default loop, connection teardown
 *
 * Wire facts are from QEMU's docs/interop/vhost-user.rst ("Vhost-user Protocol"): every
 * message is a 12-byte header (request, flags, size), then `size` bytes of payload, all
 * little-endian (we run on little-endian hosts only: x86-64, arm64); file descriptors travel
 * as SCM_RIGHTS ancillary data with the header.
 */
#ifndef FB_VHOST_USER_I_H
#define FB_VHOST_USER_I_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <fuse_backend/server.h>
#include <fuse_backend/vhost_user.h>
#include <fuse_backend/virtio.h>

#include "transport/virtio/virtio_i.h"

/* ---- wire format ---------------------------------------------------------------------------- */

/* Front-end requests (the spec's "Front-end message types"). */
enum {
	VU_GET_FEATURES = 1,
	VU_SET_FEATURES = 2,
	VU_SET_OWNER = 3,
	VU_RESET_OWNER = 4,
	VU_SET_MEM_TABLE = 5,
	VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10,
	VU_GET_VRING_BASE = 11,
	VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13,
	VU_SET_VRING_ERR = 14,
	VU_GET_PROTOCOL_FEATURES = 15,
	VU_SET_PROTOCOL_FEATURES = 16,
	VU_GET_QUEUE_NUM = 17,
	VU_SET_VRING_ENABLE = 18,
	VU_SET_BACKEND_REQ_FD = 21, /* formerly SET_SLAVE_REQ_FD */
	VU_RESET_DEVICE = 34,
	VU_GET_MAX_MEM_SLOTS = 36,
	VU_ADD_MEM_REG = 37,
	VU_REM_MEM_REG = 38,
	VU_REQUEST_MAX = 64, /* table size; larger numbers are unknown */
};

/*
 * Back-end requests for virtio-fs DAX. These never made it into the vhost-user spec; the
 * numbers and layout are the ones the Rust vhost crate (rust-vmm/vhost,
 * vhost/src/vhost_user/message.rs, SlaveReq/BackendReq FS_MAP = 6, FS_UNMAP = 7 from commit
 * a746f85 "Update the list of slave messages", 2020) and so Cloud Hypervisor's virtio-fs
 * front end spoke, as did the unmerged QEMU DAX patches. In 2024 the crate moved them to
 * 1000/1001 (85e0097) and then removed them (569ef07) since 6-8 are now the spec's
 * SHARED_OBJECT_* messages: we never offer SHARED_OBJECT, so 6/7 stay unambiguous.
 */
#define VU_BACKEND_FS_MAP     6
#define VU_BACKEND_FS_UNMAP   7
#define VU_FS_BACKEND_ENTRIES 8
#define VU_FS_MAP_R	      (1ULL << 0)
#define VU_FS_MAP_W	      (1ULL << 1)
struct vu_fs_backend_msg {
	uint64_t fd_offset[VU_FS_BACKEND_ENTRIES];
	uint64_t cache_offset[VU_FS_BACKEND_ENTRIES];
	uint64_t len[VU_FS_BACKEND_ENTRIES];
	uint64_t flags[VU_FS_BACKEND_ENTRIES]; /* VU_FS_MAP_* */
};
_Static_assert(sizeof(struct vu_fs_backend_msg) == 256, "fs backend message");

/* Header flags. */
#define VU_VERSION	   0x1
#define VU_VERSION_MASK	   0x3
#define VU_FLAG_REPLY	   0x4
#define VU_FLAG_NEED_REPLY 0x8

/* Virtio feature bit of vhost-user itself (GET_FEATURES). */
#define VU_F_PROTOCOL_FEATURES 30

/* Protocol features (GET_PROTOCOL_FEATURES). */
#define VU_PROTOCOL_F_MQ		  0
#define VU_PROTOCOL_F_REPLY_ACK		  3
#define VU_PROTOCOL_F_BACKEND_REQ	  5
#define VU_PROTOCOL_F_BACKEND_SEND_FD	  10
#define VU_PROTOCOL_F_RESET_DEVICE	  13
#define VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS 15

/* SET_VRING_KICK/CALL/ERR payload: the ring index in the low byte, bit 8 = no fd. */
#define VU_VRING_IDX_MASK 0xffULL
#define VU_VRING_NOFD	  (1ULL << 8)

/* Most fds in one message (the spec's baseline of 8 memory regions). */
#define VU_MAX_FDS 8
/* Largest payload read; a larger size breaks the stream (no message we know is near it). */
#define VU_PAYLOAD_MAX 4096
/* Regions in one SET_MEM_TABLE. */
#define VU_MEM_TABLE_REGIONS 8

struct vu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
};

struct vu_vring_state {
	uint32_t index;
	uint32_t num;
};

struct vu_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc; /* front-end virtual addresses */
	uint64_t used;
	uint64_t avail;
	uint64_t log;
};

struct vu_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uaddr;
	uint64_t mmap_offset;
};

struct vu_mem_table {
	uint32_t nregions;
	uint32_t padding;
	struct vu_region regions[VU_MEM_TABLE_REGIONS];
};

struct vu_mem_reg {
	uint64_t padding;
	struct vu_region region;
};

_Static_assert(sizeof(struct vu_hdr) == 12, "header");
_Static_assert(sizeof(struct vu_vring_addr) == 40, "vring addr");
_Static_assert(sizeof(struct vu_region) == 32, "region");
_Static_assert(sizeof(struct vu_mem_reg) == 40, "mem reg");

/* One message as received: header, payload, fds (owned until a handler takes them). */
struct vu_msg {
	struct vu_hdr hdr;
	union {
		uint64_t u64;
		struct vu_vring_state state;
		struct vu_vring_addr addr;
		struct vu_mem_table mem;
		struct vu_mem_reg reg;
		uint8_t raw[VU_PAYLOAD_MAX];
	} p;
	int fds[VU_MAX_FDS]; /* a handler that keeps one sets its slot to -1 */
	int nfds;
	int fds_truncated; /* more fds came than fit: the extra ones were dropped */
};

/* ---- the device -------------------------------------------------------------------------------
 */

/* One mapped region of the memory table. */
struct vu_mapping {
	struct vu_region r;
	void *base; /* what mmap() returned */
	size_t len; /* r.mmap_offset + r.size */
};

/* The memory table: the guest-memory map the queues read, and the mappings under it. */
struct vu_mem {
	struct fb_guest_mem *gm;
	struct vu_mapping *maps;
	unsigned int n, cap;
};

struct vu_queue {
	struct fb_vhost_user *dev;
	unsigned int idx;

	/* Set by the message thread only while the queue's thread is not running. */
	uint32_t num; /* SET_VRING_NUM, 0 before */
	int have_addr;
	struct vu_vring_addr addr;
	uint16_t base;	    /* SET_VRING_BASE, or where the queue stopped */
	int kick_fd;	    /* -1 when none */
	int enabled;	    /* SET_VRING_ENABLE */
	int thread_running; /* a queue thread exists (default loop) */
	pthread_t thread;
	int stop_fd;	     /* eventfd that tells the thread to end, -1 when none */
	atomic_int stopping; /* set while the thread is told to end: no further batch */
	/* Chains completed since the device was made. Written only by whoever serves the
	 * queue, under lock; read by anyone without it (fb_vhost_user_queue_stats()). */
	_Atomic uint64_t requests;

	pthread_mutex_t lock;	   /* protects the fields below; held by the queue's thread
				    * while it serves a batch, by the message thread while it
				    * changes them or the memory table (the queue is paused) */
	struct fb_virtq *vq;	   /* the started ring, NULL when stopped */
	void *desc, *avail, *used; /* where vq's rings are mapped */
	int broken;		   /* vq's avail ring broke: not served until restarted */
	int call_fd;		   /* -1 when none */
	int err_fd;		   /* -1 when none */
	struct fb__vdefer df;	   /* replies later: the next chain's token */

	/* Chains answered later, to push: any thread adds (and writes done_fd), whoever
	 * serves the queue pushes them (queue.c: drain_done()). */
	int done_fd;		    /* eventfd, -1 before fb__vu_queues_new() */
	pthread_mutex_t done_lock;  /* protects done */
	struct fb__vchain *done;
};

/* A chain of a vhost-user queue was answered later (struct fb_transport_ops.complete). */
void fb__vu_complete(void *priv, void *token, ssize_t len);

struct fb_vhost_user {
	struct fb_server *server;	 /* borrowed */
	struct fb_vhost_user_config cfg; /* defaults filled in */
	struct fb_transport_ops tops;	 /* what the server sees; DAX fields change only
					  * while every queue is paused */
	unsigned int nqueues;		 /* 1 + request queues */
	int stop_fd;			 /* eventfd, written by fb_vhost_user_stop() */
	int listen_fd;			 /* -1 when none */

	/* The connection; touched by the thread that dispatches messages only. */
	int sock;		    /* -1 when not connected */
	uint64_t features;	    /* SET_FEATURES */
	uint64_t protocol_features; /* SET_PROTOCOL_FEATURES */
	struct vu_mem mem;
	struct vu_queue *queues; /* [nqueues] */

	pthread_mutex_t backend_lock; /* protects backend_fd: one request at a time */
	int backend_fd;		      /* back-end request channel, -1 when none */
};

/* message.c */
int fb__vu_dispatch(struct fb_vhost_user *dev, int nonblock);

/* socket.c: receive @len bytes into @buf (waiting with poll, also on @stop_fd unless -1),
 * keeping up to VU_MAX_FDS fds in @m (NULL: close them). @nonblock: return -EAGAIN when
 * nothing at all was waiting. Returns 0, -ECONNRESET on EOF, -EINTR on stop (-EPIPE for either
 * after part of @buf), or a negative errno. */
int fb__vu_recv(int sock, int stop_fd, void *buf, size_t len, struct vu_msg *m, int nonblock);
/* Send @len bytes with @fd (or -1) attached, waiting for room (also on @stop_fd unless -1).
 * Returns 0, -EINTR on stop, or a negative errno. */
int fb__vu_send(int sock, int stop_fd, const void *buf, size_t len, int fd);
void fb__vu_close_fds(struct vu_msg *m);

/* mem.c */
void fb__vu_mem_init(struct vu_mem *mem);
int fb__vu_mem_reset(struct vu_mem *mem); /* unmap all; fresh empty map */
void fb__vu_mem_done(struct vu_mem *mem);
int fb__vu_set_mem_table(struct fb_vhost_user *dev, struct vu_msg *m);
int fb__vu_add_mem_reg(struct fb_vhost_user *dev, struct vu_msg *m);
int fb__vu_rem_mem_reg(struct fb_vhost_user *dev, struct vu_msg *m);

/* queue.c */
int fb__vu_queues_new(struct fb_vhost_user *dev);
void fb__vu_queues_free(struct fb_vhost_user *dev);
void fb__vu_queues_reset(struct fb_vhost_user *dev); /* stop all, close their fds */
void fb__vu_pause_all(struct fb_vhost_user *dev);
void fb__vu_resume_all(struct fb_vhost_user *dev);
void fb__vu_queues_remap(struct fb_vhost_user *dev);  /* paused: after a map change */
void fb__vu_queues_update(struct fb_vhost_user *dev); /* start what can start now */
int fb__vu_set_vring_num(struct fb_vhost_user *dev, struct vu_msg *m);
int fb__vu_set_vring_addr(struct fb_vhost_user *dev, struct vu_msg *m);
int fb__vu_set_vring_base(struct fb_vhost_user *dev, struct vu_msg *m);
int fb__vu_get_vring_base(struct fb_vhost_user *dev, struct vu_msg *m);
int fb__vu_set_vring_fd(struct fb_vhost_user *dev, struct vu_msg *m);
int fb__vu_set_vring_enable(struct fb_vhost_user *dev, struct vu_msg *m);

/* backend_req.c */
int fb__vu_set_backend_req_fd(struct fb_vhost_user *dev, struct vu_msg *m);
void fb__vu_backend_close(struct fb_vhost_user *dev);

/* device.c */
void fb__vu_disconnect(struct fb_vhost_user *dev);

static inline int fb__vu_has_protocol(const struct fb_vhost_user *dev, int bit)
{
	return (dev->protocol_features >> bit) & 1;
}

#endif /* FB_VHOST_USER_I_H */
