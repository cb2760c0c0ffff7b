/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Front-end messages: read one, check it against the table below, run its handler, reply.
 *
 * Every length and fd count is checked here once, before any handler runs, so handlers only
 * check meaning (indexes, sizes of rings, memory). What a message may carry:
 *   - payload: exactly the size the request has (SET_MEM_TABLE: its header plus the regions it
 *     counts, one fd per region);
 *   - fds: between fds_min and fds_max; fds where none belong are closed and the message is
 *     refused.
 * A refused message gets an error in its REPLY_ACK when the front end asked for one, and a
 * log line. A request that has a reply of its own (GET_*) cannot carry an error: refusing one
 * closes the connection, as does anything that leaves the stream out of step (a short header
 * or payload, a bad version, an oversized payload).
 */
#include <errno.h>
#include <string.h>

#include "vhost_user_i.h"

/* Payload size rules. */
#define SIZE_MEM_TABLE UINT32_MAX /* 8 + nregions * 32, nregions <= 8 */

struct vu_request {
	const char *name;
	uint32_t size; /* payload bytes, or SIZE_MEM_TABLE */
	uint8_t fds_min;
	uint8_t fds_max;
	uint8_t reply; /* answered with an 8-byte payload of its own */
	int (*handle)(struct fb_vhost_user *dev, struct vu_msg *m);
};

/* What we offer. Not LOG_ALL / LOG_SHMFD (no migration), not CONFIG (QEMU 7.1 to 8.0 refuse a
 * vhost-user-fs back end that offers it). */
static const uint64_t virtio_features =
	(1ULL << FB_VIRTIO_F_VERSION_1) | (1ULL << FB_VIRTIO_F_RING_INDIRECT_DESC) |
	(1ULL << FB_VIRTIO_F_RING_EVENT_IDX) | (1ULL << VU_F_PROTOCOL_FEATURES);

static uint64_t protocol_offer(const struct fb_vhost_user *dev)
{
	uint64_t f = (1ULL << VU_PROTOCOL_F_MQ) | (1ULL << VU_PROTOCOL_F_REPLY_ACK) |
		     (1ULL << VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS) |
		     (1ULL << VU_PROTOCOL_F_RESET_DEVICE);

	if (!(dev->cfg.flags & FB_VHOST_USER_NO_DAX))
		f |= (1ULL << VU_PROTOCOL_F_BACKEND_REQ) | (1ULL << VU_PROTOCOL_F_BACKEND_SEND_FD);
	return f;
}

static int get_features(struct fb_vhost_user *dev, struct vu_msg *m)
{
	m->p.u64 = virtio_features;
	return 0;
}

static int set_features(struct fb_vhost_user *dev, struct vu_msg *m)
{
	if (m->p.u64 & ~virtio_features)
		return -EINVAL;
	dev->features = m->p.u64;
	/* Whether rings start enabled depends on PROTOCOL_FEATURES. */
	fb__vu_queues_update(dev);
	return 0;
}

static int get_protocol_features(struct fb_vhost_user *dev, struct vu_msg *m)
{
	m->p.u64 = protocol_offer(dev);
	return 0;
}

static int set_protocol_features(struct fb_vhost_user *dev, struct vu_msg *m)
{
	if (m->p.u64 & ~protocol_offer(dev))
		return -EINVAL;
	dev->protocol_features = m->p.u64;
	return 0;
}

/* One front end per connection: nothing to record. */
static int set_owner(struct fb_vhost_user *dev, struct vu_msg *m)
{
	return 0;
}

/* RESET_DEVICE (and the deprecated RESET_OWNER): every ring stopped and forgotten, features
 * renegotiated; the memory table, the protocol features and the back-end channel stay. The
 * guest driver starts over, so does its FUSE session. */
static int reset_device(struct fb_vhost_user *dev, struct vu_msg *m)
{
	fb__vu_queues_reset(dev);
	dev->features = 0;
	fb_server_reset(dev->server);
	return 0;
}

static int get_queue_num(struct fb_vhost_user *dev, struct vu_msg *m)
{
	m->p.u64 = dev->nqueues;
	return 0;
}

static int get_max_mem_slots(struct fb_vhost_user *dev, struct vu_msg *m)
{
	m->p.u64 = FB_GUEST_MEM_REGIONS_MAX;
	return 0;
}

static const struct vu_request requests[VU_REQUEST_MAX] = {
	[VU_GET_FEATURES] = {"GET_FEATURES", 0, 0, 0, 1, get_features},
	[VU_SET_FEATURES] = {"SET_FEATURES", 8, 0, 0, 0, set_features},
	[VU_SET_OWNER] = {"SET_OWNER", 0, 0, 0, 0, set_owner},
	[VU_RESET_OWNER] = {"RESET_OWNER", 0, 0, 0, 0, reset_device},
	[VU_SET_MEM_TABLE] = {"SET_MEM_TABLE", SIZE_MEM_TABLE, 0, VU_MAX_FDS, 0,
			      fb__vu_set_mem_table},
	[VU_SET_VRING_NUM] = {"SET_VRING_NUM", 8, 0, 0, 0, fb__vu_set_vring_num},
	[VU_SET_VRING_ADDR] = {"SET_VRING_ADDR", 40, 0, 0, 0, fb__vu_set_vring_addr},
	[VU_SET_VRING_BASE] = {"SET_VRING_BASE", 8, 0, 0, 0, fb__vu_set_vring_base},
	[VU_GET_VRING_BASE] = {"GET_VRING_BASE", 8, 0, 0, 1, fb__vu_get_vring_base},
	[VU_SET_VRING_KICK] = {"SET_VRING_KICK", 8, 0, 1, 0, fb__vu_set_vring_fd},
	[VU_SET_VRING_CALL] = {"SET_VRING_CALL", 8, 0, 1, 0, fb__vu_set_vring_fd},
	[VU_SET_VRING_ERR] = {"SET_VRING_ERR", 8, 0, 1, 0, fb__vu_set_vring_fd},
	[VU_GET_PROTOCOL_FEATURES] = {"GET_PROTOCOL_FEATURES", 0, 0, 0, 1, get_protocol_features},
	[VU_SET_PROTOCOL_FEATURES] = {"SET_PROTOCOL_FEATURES", 8, 0, 0, 0, set_protocol_features},
	[VU_GET_QUEUE_NUM] = {"GET_QUEUE_NUM", 0, 0, 0, 1, get_queue_num},
	[VU_SET_VRING_ENABLE] = {"SET_VRING_ENABLE", 8, 0, 0, 0, fb__vu_set_vring_enable},
	[VU_SET_BACKEND_REQ_FD] = {"SET_BACKEND_REQ_FD", 0, 1, 1, 0, fb__vu_set_backend_req_fd},
	[VU_RESET_DEVICE] = {"RESET_DEVICE", 0, 0, 0, 0, reset_device},
	[VU_GET_MAX_MEM_SLOTS] = {"GET_MAX_MEM_SLOTS", 0, 0, 0, 1, get_max_mem_slots},
	[VU_ADD_MEM_REG] = {"ADD_MEM_REG", 40, 1, 1, 0, fb__vu_add_mem_reg},
	/* The spec lets an old front end (QEMU before 7.1) attach an fd: closed unused. */
	[VU_REM_MEM_REG] = {"REM_MEM_REG", 40, 0, 1, 0, fb__vu_rem_mem_reg},
};

static int reply_ack(const struct fb_vhost_user *dev)
{
	return fb__vu_has_protocol(dev, VU_PROTOCOL_F_REPLY_ACK);
}

/* Check the payload size and fd count of @m for @rq. Returns 0 or -EINVAL. */
static int check_shape(const struct vu_request *rq, const struct vu_msg *m)
{
	if (m->fds_truncated)
		return -EINVAL;
	if (rq->size == SIZE_MEM_TABLE) {
		uint32_t n;

		if (m->hdr.size < 8)
			return -EINVAL;
		n = m->p.mem.nregions;
		if (n > VU_MEM_TABLE_REGIONS || m->hdr.size != 8 + n * sizeof(struct vu_region) ||
		    (uint32_t)m->nfds != n)
			return -EINVAL;
		return 0;
	}
	if (m->hdr.size != rq->size)
		return -EINVAL;
	if (m->nfds < rq->fds_min || m->nfds > rq->fds_max)
		return -EINVAL;
	return 0;
}

static int send_reply(struct fb_vhost_user *dev, const struct vu_msg *m, uint64_t payload)
{
	struct {
		struct vu_hdr hdr;
		uint64_t u64;
	} __attribute__((packed)) rep = {
		.hdr = {.request = m->hdr.request, .flags = VU_VERSION | VU_FLAG_REPLY, .size = 8},
		.u64 = payload,
	};

	return fb__vu_send(dev->sock, dev->stop_fd, &rep, sizeof(rep), -1);
}

/*
 * Read and handle one message. @nonblock: -EAGAIN when none is waiting. Returns 0, or a
 * negative errno when the connection must end (-ECONNRESET at EOF); the caller disconnects.
 */
int fb__vu_dispatch(struct fb_vhost_user *dev, int nonblock)
{
	const struct vu_request *rq = NULL;
	struct vu_msg m;
	const char *name;
	int r, want_ack;

	m.nfds = 0;
	m.fds_truncated = 0;
	r = fb__vu_recv(dev->sock, dev->stop_fd, &m.hdr, sizeof(m.hdr), &m, nonblock);
	if (r < 0)
		goto out_close_fds;
	if ((m.hdr.flags & VU_VERSION_MASK) != VU_VERSION || m.hdr.size > VU_PAYLOAD_MAX) {
		fb_log(FB_LOG_ERR, "vhost-user: message %u with version %u, size %u: closing",
		       m.hdr.request, m.hdr.flags & VU_VERSION_MASK, m.hdr.size);
		r = -EPROTO;
		goto out_close_fds;
	}
	r = fb__vu_recv(dev->sock, dev->stop_fd, &m.p, m.hdr.size, &m, 0);
	if (r < 0) {
		if (r == -ECONNRESET || r == -EINTR)
			r = -EPIPE; /* EOF or a stop inside a message */
		goto out_close_fds;
	}
	if (m.hdr.request < VU_REQUEST_MAX && requests[m.hdr.request].handle)
		rq = &requests[m.hdr.request];
	name = rq ? rq->name : "unknown request";
	want_ack = rq && !rq->reply && (m.hdr.flags & VU_FLAG_NEED_REPLY) && reply_ack(dev);

	if (!rq) {
		r = -EOPNOTSUPP;
		/* We cannot know whether it expects a reply: answer only what asked. */
		want_ack = (m.hdr.flags & VU_FLAG_NEED_REPLY) && reply_ack(dev);
	} else {
		r = check_shape(rq, &m);
	}
	if (r == 0) {
		fb_log(FB_LOG_DEBUG, "vhost-user: %s, %u bytes, %d fds", name, m.hdr.size, m.nfds);
		r = rq->handle(dev, &m);
	}
	if (r < 0)
		fb_log(FB_LOG_WARNING, "vhost-user: %s (%u): %s", name, m.hdr.request,
		       strerror(-r));
	fb__vu_close_fds(&m);

	if (rq && rq->reply) {
		if (r < 0) {
			fb_log(FB_LOG_ERR, "vhost-user: %s cannot be answered: closing", name);
			return -EPROTO;
		}
		return send_reply(dev, &m, m.p.u64);
	}
	if (want_ack)
		return send_reply(dev, &m, (uint64_t)(int64_t)r);
	return 0;

out_close_fds:
	fb__vu_close_fds(&m);
	return r;
}
