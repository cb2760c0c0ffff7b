/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Channels: one cloned /dev/fuse fd and its buffers per thread that serves requests.
 *
 * The kernel finds the request a reply answers among those read from the same fd, so a
 * thread that read a request must write the reply on that fd; cloning gives each thread its
 * own without a lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <fuse_backend/abi.h>

#include "fusedev_i.h"

static void channel_put(struct fb_channel *ch)
{
	if (atomic_fetch_sub(&ch->refs, 1) != 1)
		return;
	close(ch->fd);
	free(ch->req);
	if (ch->spare) {
		free(ch->spare->buf);
		free(ch->spare);
	}
	free(ch);
}

/* A deferred request's reply is ready (@len > 0) or it was cancelled (0). Any thread. */
static void dev_reply_complete(struct fb__completion *c, ssize_t len)
{
	struct fb__dev_reply *dr = (struct fb__dev_reply *)c;
	struct fb_channel *ch = dr->ch;
	ssize_t n;

	if (len > 0) {
		/* The kernel matches the reply among the requests read from this fd. */
		do {
			n = write(ch->fd, dr->buf, (size_t)len);
		} while (n < 0 && errno == EINTR);
		if (n < 0 && errno == ENODEV)
			fb__session_ended(ch->se);
		else if (n < 0 && errno != ENOENT)
			fb_log(FB_LOG_WARNING, "sending a later reply of %zd bytes: %s", len,
			       strerror(errno));
	}
	free(dr->buf);
	free(dr);
	channel_put(ch);
}

/* Make sure the buffers can take what the server may now need (it grows after INIT). */
static int channel_size_buffers(struct fb_channel *ch)
{
	size_t req = fb_server_request_max(ch->se->server);
	size_t rep = fb_server_reply_max(ch->se->server);
	void *p;

	if (!ch->spare) {
		/* The last reply buffer went away with a deferred request. */
		ch->spare = calloc(1, sizeof(*ch->spare));
		if (!ch->spare)
			return -ENOMEM;
		ch->spare->c.fn = dev_reply_complete;
		ch->spare->ch = ch;
		ch->rep = NULL;
		ch->rep_size = 0;
	}
	if (req < FB_MIN_READ_BUFFER)
		req = FB_MIN_READ_BUFFER;
	if (rep < sizeof(struct fb_out_header))
		rep = sizeof(struct fb_out_header);
	if (req > ch->req_size) {
		p = realloc(ch->req, req);
		if (!p)
			return -ENOMEM;
		ch->req = p;
		ch->req_size = req;
	}
	if (rep > ch->rep_size) {
		p = realloc(ch->rep, rep);
		if (!p)
			return -ENOMEM;
		ch->rep = p;
		ch->rep_size = rep;
	}
	ch->spare->buf = ch->rep;
	ch->spare->size = ch->rep_size;
	return 0;
}

int fb_session_channel_new(struct fb_session *se, unsigned int flags, struct fb_channel **ret)
{
	struct fb_channel *ch;
	uint32_t sfd;
	int r;

	if (!se || !ret || (flags & ~FB_CHANNEL_NONBLOCK))
		return -EINVAL;
	if (se->fd < 0)
		return -ENOTCONN;
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	ch->se = se;
	atomic_init(&ch->refs, 1);
	ch->flags = flags;
	ch->fd = open("/dev/fuse",
		      O_RDWR | O_CLOEXEC | ((flags & FB_CHANNEL_NONBLOCK) ? O_NONBLOCK : 0));
	if (ch->fd < 0) {
		r = -errno;
		fb_log(FB_LOG_ERR, "cannot open /dev/fuse for a channel: %s", strerror(-r));
		goto out_free;
	}
	sfd = (uint32_t)se->fd;
	if (ioctl(ch->fd, FB_DEV_IOC_CLONE, &sfd) < 0) {
		r = -errno;
		fb_log(FB_LOG_ERR, "cannot clone the /dev/fuse connection: %s", strerror(-r));
		goto out_close_fd;
	}
	r = channel_size_buffers(ch);
	if (r < 0)
		goto out_free_buffers;
	*ret = ch;
	return 0;

out_free_buffers:
	free(ch->req);
	free(ch->rep);
	free(ch->spare);
out_close_fd:
	close(ch->fd);
out_free:
	free(ch);
	return r;
}

void fb_channel_free(struct fb_channel *ch)
{
	if (!ch)
		return;
	/* Requests still deferred keep the fd for their replies (see fb_server_cancel_deferred). */
	channel_put(ch);
}

int fb_channel_fd(const struct fb_channel *ch)
{
	return ch->fd;
}

ssize_t fb_channel_receive(struct fb_channel *ch, struct fb_reader *r, struct fb_writer *w)
{
	struct fb_in_header h;
	ssize_t n;
	int ret;

	ret = channel_size_buffers(ch);
	if (ret < 0)
		return ret;
	for (;;) {
		n = read(ch->fd, ch->req, ch->req_size);
		if (n > 0)
			break;
		if (n == 0 || errno == ENODEV) {
			fb__session_ended(ch->se);
			return -ENODEV;
		}
		switch (errno) {
		case ENOENT: /* withdrawn (interrupted) before we read it */
			continue;
		case EINTR:
			return -EINTR;
		case EAGAIN:
			if (ch->flags & FB_CHANNEL_NONBLOCK)
				return -EAGAIN;
			continue;
		default:
			ret = -errno;
			fb_log(FB_LOG_ERR, "reading /dev/fuse: %s", strerror(-ret));
			return ret;
		}
	}
	ch->req_iov.iov_base = ch->req;
	ch->req_iov.iov_len = (size_t)n;
	ch->spare->iov.iov_base = ch->rep;
	ch->spare->iov.iov_len = ch->rep_size;
	fb_reader_init(r, &ch->req_iov, 1);
	fb_writer_init(w, &ch->spare->iov, 1);
	ch->opcode = fb_server_peek(r, &h) == 0 ? h.opcode : 0;
	return n;
}

int fb_channel_send(struct fb_channel *ch, size_t len)
{
	ssize_t n;

	if (len > ch->rep_size || len < sizeof(struct fb_out_header))
		return -EINVAL;
	do {
		n = write(ch->fd, ch->rep, len);
	} while (n < 0 && errno == EINTR);
	if (n >= 0) {
		struct fb_session *se = ch->se;

		if (ch->opcode == FB_INIT && se->init_hook && fb_server_conn(se->server) &&
		    !atomic_exchange(&se->init_hook_done, 1))
			se->init_hook(se->init_hook_priv, se);
		return 0;
	}
	switch (errno) {
	case ENOENT: /* the request was interrupted and the kernel no longer waits */
		return 0;
	case ENODEV:
		fb__session_ended(ch->se);
		return -ENODEV;
	default:
		return -errno;
	}
}

int fb__channel_handle(struct fb_channel *ch, struct fb_reader *rd, struct fb_writer *wr)
{
	ssize_t n;
	int r;

	/* A reference for the request in case it answers later: its reply may come from
	 * another thread before fb_server_handle_async() even returns. */
	atomic_fetch_add_explicit(&ch->refs, 1, memory_order_relaxed);
	n = fb_server_handle_async(ch->se->server, rd, wr, ch->spare);
	if (n == -EINPROGRESS) {
		/* The reply buffer stays with the request (and the fd, through the reference);
		 * the next receive gets a new one. */
		ch->spare = NULL;
		ch->rep = NULL;
		ch->rep_size = 0;
		return 0;
	}
	atomic_fetch_sub_explicit(&ch->refs, 1, memory_order_relaxed);
	if (n > 0) {
		r = fb_channel_send(ch, (size_t)n);
		if (r == -ENODEV)
			return r;
		if (r < 0)
			fb_log(FB_LOG_WARNING, "sending a reply of %zd bytes: %s", n, strerror(-r));
		return 0;
	}
	if (n == -ENODEV) {
		/* DESTROY: its reply, if the server wrote one, still goes out. */
		if (fb_writer_written(wr) >= sizeof(struct fb_out_header))
			fb_channel_send(ch, fb_writer_written(wr));
		fb__session_ended(ch->se);
		return -ENODEV;
	}
	if (n < 0)
		fb_log(FB_LOG_ERR, "the server could not answer a request: %s", strerror((int)-n));
	return 0;
}

int fb_channel_process(struct fb_channel *ch)
{
	struct fb_reader rd;
	struct fb_writer wr;
	ssize_t n;

	n = fb_channel_receive(ch, &rd, &wr);
	if (n == -EINTR || n == -EAGAIN)
		return 0;
	if (n < 0)
		return (int)n;
	return fb__channel_handle(ch, &rd, &wr);
}
