/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The back-end request channel (SET_BACKEND_REQ_FD): a second socket on which we ask the front
 * end to map file ranges into the guest's DAX cache window, and to unmap them.
 *
 * DAX is offered to the server only while the channel is up and the front end accepts fds on
 * it (BACKEND_SEND_FD) and acknowledges each request (REPLY_ACK): a mapping that may or may not
 * have happened is worse than none. Requests come from queue threads; one at a time goes over
 * the channel (backend_lock) and waits for its ack. A front end that does not answer within
 * ACK_TIMEOUT_MS loses the channel: a late ack would put the stream out of step.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <fuse_backend/abi.h>

#include "vhost_user_i.h"

#define ACK_TIMEOUT_MS 10000

struct backend_msg {
	struct vu_hdr hdr;
	struct vu_fs_backend_msg body;
} __attribute__((packed));

/* Close the channel; backend_lock held. */
static void channel_drop(struct fb_vhost_user *dev)
{
	if (dev->backend_fd >= 0)
		close(dev->backend_fd);
	dev->backend_fd = -1;
}

/* Wait for the ack of @req; backend_lock held. Returns 0 with the front end's answer in
 * *@ret_answer, or a negative errno when the channel failed. */
static int wait_ack(struct fb_vhost_user *dev, uint32_t req, int *ret_answer)
{
	struct pollfd p = {.fd = dev->backend_fd, .events = POLLIN};
	struct {
		struct vu_hdr hdr;
		uint64_t v;
	} __attribute__((packed)) rep;
	int r;

	r = poll(&p, 1, ACK_TIMEOUT_MS);
	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return -errno;
	/* Fds attached to the reply (none belong there) are closed. */
	r = fb__vu_recv(dev->backend_fd, -1, &rep.hdr, sizeof(rep.hdr), NULL, 0);
	if (r == 0 && (rep.hdr.request != req || !(rep.hdr.flags & VU_FLAG_REPLY) ||
		       rep.hdr.size != sizeof(uint64_t)))
		r = -EPROTO;
	if (r == 0)
		r = fb__vu_recv(dev->backend_fd, -1, &rep.v, sizeof(rep.v), NULL, 0);
	if (r == 0) {
		int64_t v = (int64_t)rep.v;

		/* 0, or (Rust vhost) a negative errno; anything else is a plain failure. */
		*ret_answer = v == 0 ? 0 : v < 0 && v > -4096 ? (int)v : -EIO;
	}
	return r;
}

static int backend_request(struct fb_vhost_user *dev, struct backend_msg *msg, int fd)
{
	int r, answer = -EIO;

	msg->hdr.flags = VU_VERSION | VU_FLAG_NEED_REPLY;
	msg->hdr.size = sizeof(msg->body);
	pthread_mutex_lock(&dev->backend_lock);
	if (dev->backend_fd < 0) {
		answer = -ENOTCONN;
		goto out_unlock;
	}
	r = fb__vu_send(dev->backend_fd, -1, msg, sizeof(*msg), fd);
	if (r == 0)
		r = wait_ack(dev, msg->hdr.request, &answer);
	if (r < 0) {
		/* Gone, or out of step: no later request could trust this channel. */
		fb_log(FB_LOG_ERR, "vhost-user: back-end channel: %s: closing it", strerror(-r));
		channel_drop(dev);
		answer = r == -ETIMEDOUT ? r : -ENOTCONN;
	}
out_unlock:
	pthread_mutex_unlock(&dev->backend_lock);
	return answer;
}

static int dax_map(void *priv, int fd, uint64_t foffset, uint64_t moffset, uint64_t len,
		   uint64_t flags)
{
	struct backend_msg msg = {.hdr.request = VU_BACKEND_FS_MAP};

	msg.body.fd_offset[0] = foffset;
	msg.body.cache_offset[0] = moffset;
	msg.body.len[0] = len;
	/* FUSE's and the message's flags differ: FUSE has WRITE = 1, READ = 2. */
	msg.body.flags[0] = (flags & FB_SETUPMAPPING_FLAG_READ ? VU_FS_MAP_R : 0) |
			    (flags & FB_SETUPMAPPING_FLAG_WRITE ? VU_FS_MAP_W : 0);
	if (fd < 0)
		return -EBADF;
	return backend_request(priv, &msg, fd);
}

static int dax_unmap(void *priv, uint64_t moffset, uint64_t len)
{
	struct backend_msg msg = {.hdr.request = VU_BACKEND_FS_UNMAP};

	msg.body.cache_offset[0] = moffset;
	msg.body.len[0] = len;
	return backend_request(priv, &msg, -1);
}

/*
 * Offer DAX to the server or withdraw it; every queue paused (no request reads the server's
 * table meanwhile). The server keeps a copy of the table: hand it the new one.
 */
static void set_dax(struct fb_vhost_user *dev, int on)
{
	dev->tops.dax_map = on ? dax_map : NULL;
	dev->tops.dax_unmap = on ? dax_unmap : NULL;
	if (on)
		dev->tops.caps |= FB_MAP_ALIGNMENT | FB_HAS_INODE_DAX;
	else
		dev->tops.caps &= ~(FB_MAP_ALIGNMENT | FB_HAS_INODE_DAX);
	fb_server_set_transport(dev->server, &dev->tops, dev);
}

int fb__vu_set_backend_req_fd(struct fb_vhost_user *dev, struct vu_msg *m)
{
	int dax, old;

	if (!fb__vu_has_protocol(dev, VU_PROTOCOL_F_BACKEND_REQ))
		return -EINVAL;
	dax = fb__vu_has_protocol(dev, VU_PROTOCOL_F_BACKEND_SEND_FD) &&
	      fb__vu_has_protocol(dev, VU_PROTOCOL_F_REPLY_ACK);
	fb__vu_pause_all(dev);
	pthread_mutex_lock(&dev->backend_lock);
	old = dev->backend_fd;
	dev->backend_fd = m->fds[0];
	m->fds[0] = -1;
	pthread_mutex_unlock(&dev->backend_lock);
	set_dax(dev, dax);
	fb__vu_resume_all(dev);
	if (old >= 0)
		close(old);
	return 0;
}

void fb__vu_backend_close(struct fb_vhost_user *dev)
{
	fb__vu_pause_all(dev);
	pthread_mutex_lock(&dev->backend_lock);
	channel_drop(dev);
	pthread_mutex_unlock(&dev->backend_lock);
	set_dax(dev, 0);
	fb__vu_resume_all(dev);
}
