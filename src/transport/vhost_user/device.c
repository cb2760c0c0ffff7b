/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The vhost-user device: creating and freeing it, the default loop, and what happens when a
 * connection ends (every queue stopped, every mapping and fd released, the FUSE session reset)
 * so that the next front end starts from nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vhost_user_i.h"
#include "sized_i.h"

#define QUEUE_SIZE_DEFAULT 1024

static int config_fill(struct fb_vhost_user_config *out, const struct fb_vhost_user_config *cfg)
{
	int r;

	memset(out, 0, sizeof(*out));
	r = fb__sized_in(out, sizeof(*out), cfg, FB__VHOST_USER_CONFIG_SIZE_V1);
	if (r < 0)
		return r;
	if (!out->request_queues)
		out->request_queues = FB_VHOST_USER_REQUEST_QUEUES_DEFAULT;
	if (!out->queue_size_max)
		out->queue_size_max = QUEUE_SIZE_DEFAULT;
	if (out->request_queues > FB_VHOST_USER_REQUEST_QUEUES_MAX ||
	    out->queue_size_max > FB_VIRTQ_SIZE_MAX ||
	    (out->queue_size_max & (out->queue_size_max - 1)) ||
	    (out->flags & ~(FB_VHOST_USER_OWN_LOOP | FB_VHOST_USER_NO_DAX)))
		return -EINVAL;
	return 0;
}

int fb_vhost_user_new(struct fb_server *server, const struct fb_vhost_user_config *cfg,
		      struct fb_vhost_user **ret)
{
	struct fb_vhost_user *dev;
	int r;

	if (!server || !ret)
		return -EINVAL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	r = config_fill(&dev->cfg, cfg);
	if (r < 0)
		goto out_free_dev;
	dev->server = server;
	dev->nqueues = 1 + dev->cfg.request_queues;
	dev->listen_fd = dev->sock = dev->backend_fd = -1;
	dev->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (dev->stop_fd < 0) {
		r = -errno;
		goto out_free_dev;
	}
	fb__vu_mem_init(&dev->mem);
	r = fb__vu_mem_reset(&dev->mem);
	if (r < 0)
		goto out_close_stop;
	r = fb__vu_queues_new(dev);
	if (r < 0)
		goto out_free_mem;
	pthread_mutex_init(&dev->backend_lock, NULL);
	fb_virtio_fs_transport_init(&dev->tops);
	dev->tops.complete = fb__vu_complete;
	fb_server_set_transport(server, &dev->tops, dev);
	*ret = dev;
	return 0;

out_free_mem:
	fb__vu_mem_done(&dev->mem);
out_close_stop:
	close(dev->stop_fd);
out_free_dev:
	free(dev);
	return r;
}

void fb__vu_disconnect(struct fb_vhost_user *dev)
{
	fb__vu_queues_reset(dev);
	fb__vu_backend_close(dev);
	if (fb__vu_mem_reset(&dev->mem) < 0)
		fb_log(FB_LOG_ERR, "vhost-user: no memory for a new memory table");
	if (dev->sock >= 0)
		close(dev->sock);
	dev->sock = -1;
	dev->features = 0;
	dev->protocol_features = 0;
	/* The guest's FUSE session cannot outlive its front end. */
	fb_server_reset(dev->server);
}

void fb_vhost_user_free(struct fb_vhost_user *dev)
{
	if (!dev)
		return;
	fb__vu_disconnect(dev);
	fb_server_set_transport(dev->server, NULL, NULL);
	fb__vu_queues_free(dev);
	fb__vu_mem_done(&dev->mem);
	pthread_mutex_destroy(&dev->backend_lock);
	if (dev->listen_fd >= 0)
		close(dev->listen_fd);
	close(dev->stop_fd);
	free(dev);
}

int fb_vhost_user_fd(const struct fb_vhost_user *dev)
{
	return dev ? dev->sock : -1;
}

int fb_vhost_user_dispatch(struct fb_vhost_user *dev)
{
	int r;

	if (!dev)
		return -EINVAL;
	if (dev->sock < 0)
		return -ENOTCONN;
	r = fb__vu_dispatch(dev, 1);
	if (r == 0 || r == -EAGAIN || r == -EINTR)
		return r;
	if (r != -ECONNRESET)
		fb_log(FB_LOG_ERR, "vhost-user: connection ends: %s", strerror(-r));
	fb__vu_disconnect(dev);
	return r == -ECONNRESET ? -ENOTCONN : r;
}

int fb_vhost_user_run(struct fb_vhost_user *dev)
{
	int r;

	if (!dev)
		return -EINVAL;
	if (dev->sock < 0)
		return -ENOTCONN;
	for (;;) {
		r = fb__vu_dispatch(dev, 0);
		if (r == 0)
			continue;
		if (r == -EINTR)
			return r;
		if (r != -ECONNRESET)
			fb_log(FB_LOG_ERR, "vhost-user: connection ends: %s", strerror(-r));
		fb__vu_disconnect(dev);
		return r == -ECONNRESET ? 0 : r;
	}
}

void fb_vhost_user_stop(struct fb_vhost_user *dev)
{
	uint64_t one = 1;
	ssize_t n;

	/* Stays readable: every later wait returns -EINTR too. */
	n = write(dev->stop_fd, &one, sizeof(one));
	(void)n;
}
