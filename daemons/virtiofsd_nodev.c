/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Interim: linked into fb-virtiofsd only while the library has no vhost-user back end
 * (daemons/meson.build picks it when src/transport/vhost_user/device.c is missing; it is
 * never installed). It keeps the part of the vhost_user.h contract the daemon's start-up
 * needs: a listening socket, accept, stop; serving answers -ENOSYS. This lets the command
 * line and the sandbox be tested before the back end lands. Delete with the merge.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fuse_backend/vhost_user.h>

struct fb_vhost_user {
	int listen_fd;
	int conn_fd;
	volatile int stop;
};

int fb_vhost_user_new(struct fb_server *server, const struct fb_vhost_user_config *cfg,
		      struct fb_vhost_user **ret)
{
	struct fb_vhost_user *dev = calloc(1, sizeof(*dev));

	(void)server;
	(void)cfg;
	if (!dev)
		return -ENOMEM;
	dev->listen_fd = dev->conn_fd = -1;
	*ret = dev;
	return 0;
}

void fb_vhost_user_free(struct fb_vhost_user *dev)
{
	if (!dev)
		return;
	if (dev->listen_fd >= 0)
		close(dev->listen_fd);
	if (dev->conn_fd >= 0)
		close(dev->conn_fd);
	free(dev);
}

int fb_vhost_user_listen(struct fb_vhost_user *dev, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	dev->listen_fd = fd;
	return 0;
}

int fb_vhost_user_set_fd(struct fb_vhost_user *dev, int fd)
{
	dev->listen_fd = fd;
	return 0;
}

int fb_vhost_user_accept(struct fb_vhost_user *dev)
{
	while (!dev->stop) {
		int fd = accept4(dev->listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0) {
			dev->conn_fd = fd;
			return 0;
		}
		if (errno != EINTR)
			return -errno;
	}
	return -EINTR;
}

int fb_vhost_user_run(struct fb_vhost_user *dev)
{
	(void)dev;
	return -ENOSYS;
}

void fb_vhost_user_stop(struct fb_vhost_user *dev)
{
	dev->stop = 1;
}
