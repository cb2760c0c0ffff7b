/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The Unix socket under a vhost-user connection: listening, accepting, and moving bytes with
 * file descriptors attached (SCM_RIGHTS).
 *
 * Receiving collects every fd the kernel hands over, also those attached to later bytes of a
 * message, so none can leak: what does not fit in the message's slots is closed at once and
 * flagged, and the message is then refused.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vhost_user_i.h"

void fb__vu_close_fds(struct vu_msg *m)
{
	for (int i = 0; i < m->nfds; i++) {
		if (m->fds[i] >= 0)
			close(m->fds[i]);
		m->fds[i] = -1;
	}
	m->nfds = 0;
}

/* Take the fds out of @mh's control data into @m (or close them). */
static void take_fds(struct msghdr *mh, struct vu_msg *m)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;
		int *fds;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fds = (int *)CMSG_DATA(c);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, &fds[i], sizeof(fd));
			if (m && m->nfds < VU_MAX_FDS) {
				m->fds[m->nfds++] = fd;
				continue;
			}
			close(fd);
			if (m)
				m->fds_truncated = 1;
		}
	}
	if (m && (mh->msg_flags & MSG_CTRUNC))
		m->fds_truncated = 1;
}

/* Wait until @sock has @events or @stop_fd is readable. Returns 0, -EINTR on stop, or -errno. */
static int wait_for(int sock, short events, int stop_fd)
{
	struct pollfd p[2] = {
		{.fd = sock, .events = events},
		{.fd = stop_fd, .events = POLLIN},
	};

	for (;;) {
		int r = poll(p, stop_fd >= 0 ? 2 : 1, -1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (stop_fd >= 0 && (p[1].revents & POLLIN))
			return -EINTR;
		if (p[0].revents)
			return 0;
	}
}

int fb__vu_recv(int sock, int stop_fd, void *buf, size_t len, struct vu_msg *m, int nonblock)
{
	/* Room for twice the fds we take, so that too many show as too many. */
	union {
		char buf[CMSG_SPACE(2 * VU_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	size_t done = 0;

	while (done < len) {
		struct iovec iov = {.iov_base = (char *)buf + done, .iov_len = len - done};
		struct msghdr mh = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf),
		};
		ssize_t n;

		n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r;

			if (nonblock && done == 0)
				return -EAGAIN;
			r = wait_for(sock, POLLIN, stop_fd);
			if (r < 0)
				return r == -EINTR && done ? -EPIPE : r;
			continue;
		}
		if (n < 0)
			return -errno;
		take_fds(&mh, m);
		if (n == 0)
			return done ? -EPIPE : -ECONNRESET;
		done += (size_t)n;
	}
	return 0;
}

int fb__vu_send(int sock, int stop_fd, const void *buf, size_t len, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	size_t done = 0;

	while (done < len) {
		struct iovec iov = {.iov_base = (char *)buf + done, .iov_len = len - done};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n;

		if (fd >= 0 && done == 0) {
			struct cmsghdr *c;

			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = sizeof(ctl.buf);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &fd, sizeof(int));
		}
		n = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r = wait_for(sock, POLLOUT, stop_fd);

			if (r < 0)
				return r;
			continue;
		}
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

int fb_vhost_user_listen(struct fb_vhost_user *dev, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, r;

	if (!dev || !path)
		return -EINVAL;
	if (dev->listen_fd >= 0 || dev->sock >= 0)
		return -EBUSY;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	/* Replace a stale socket of an earlier run; never anything else. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (unlink(path) < 0)
			return -errno;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
		r = -errno;
		goto out_close_fd;
	}
	dev->listen_fd = fd;
	return 0;

out_close_fd:
	close(fd);
	return r;
}

int fb_vhost_user_set_fd(struct fb_vhost_user *dev, int fd)
{
	int listening = 0;
	socklen_t len = sizeof(listening);

	if (!dev || fd < 0)
		return -EINVAL;
	if (dev->listen_fd >= 0 || dev->sock >= 0)
		return -EBUSY;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
		return -errno;
	if (listening)
		dev->listen_fd = fd;
	else
		dev->sock = fd;
	return 0;
}

int fb_vhost_user_accept(struct fb_vhost_user *dev)
{
	int fd, r;

	if (!dev || dev->listen_fd < 0)
		return -EINVAL;
	if (dev->sock >= 0)
		return -EISCONN;
	for (;;) {
		r = wait_for(dev->listen_fd, POLLIN, dev->stop_fd);
		if (r < 0)
			return r;
		fd = accept4(dev->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			break;
		if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
			return -errno;
	}
	dev->sock = fd;
	return 0;
}
