/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Notifications: messages from the server to the kernel. Each one is an fb_out_header with
 * unique 0 and the notify code in `error`, then a body, handed to the transport as one iovec
 * list. Nothing is allocated: the header and body live on the caller's stack, names and data
 * are referenced in place.
 */
#include <errno.h>
#include <string.h>

#include "api/server_i.h"

/* Send @n iovecs after a header (iov[0], filled here) with @code, if @minor is negotiated. */
static int notify_send(struct fb_server *s, int32_t code, uint32_t minor, struct iovec *iov, int n)
{
	struct fb_out_header oh;
	size_t len = 0;

	if (!s || !fb_server_conn(s) || fb_server_destroyed(s) || !s->tops.send_notify)
		return -ENOTCONN;
	if (s->conn.proto_minor < minor)
		return -ENOSYS;
	for (int i = 1; i < n; i++)
		len += iov[i].iov_len;
	len += sizeof(oh);
	if (len > UINT32_MAX)
		return -E2BIG;
	oh.len = (uint32_t)len;
	oh.error = code;
	oh.unique = 0;
	iov[0].iov_base = &oh;
	iov[0].iov_len = sizeof(oh);
	return s->tops.send_notify(s->tpriv, iov, n);
}

static int name_check(const char *name, size_t namelen)
{
	if (!name || namelen == 0)
		return -EINVAL;
	if (namelen > FB__NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

int fb_server_notify_inval_inode(struct fb_server *s, fb_ino_t ino, int64_t off, int64_t len)
{
	struct fb_notify_inval_inode_out o = {.ino = ino, .off = off, .len = len};
	struct iovec iov[2] = {[1] = {&o, sizeof(o)}};

	return notify_send(s, FB_NOTIFY_INVAL_INODE, 0, iov, 2);
}

int fb_server_notify_inval_entry(struct fb_server *s, fb_ino_t parent, const char *name,
				 size_t namelen, uint32_t flags)
{
	struct fb_notify_inval_entry_out o = {.parent = parent, .flags = flags};
	struct iovec iov[4];
	int r = name_check(name, namelen);

	if (r < 0)
		return r;
	if (flags & ~(uint32_t)FB_EXPIRE_ONLY)
		return -EINVAL;
	o.namelen = (uint32_t)namelen;
	iov[1] = (struct iovec){&o, sizeof(o)};
	iov[2] = (struct iovec){(void *)name, namelen};
	iov[3] = (struct iovec){(void *)"", 1};
	/* EXPIRE_ONLY exists from 7.38; older kernels would read it as a plain invalidation. */
	return notify_send(s, FB_NOTIFY_INVAL_ENTRY, (flags & FB_EXPIRE_ONLY) ? 38 : 0, iov, 4);
}

int fb_server_notify_delete(struct fb_server *s, fb_ino_t parent, fb_ino_t child, const char *name,
			    size_t namelen)
{
	struct fb_notify_delete_out o = {.parent = parent, .child = child};
	struct iovec iov[4];
	int r = name_check(name, namelen);

	if (r < 0)
		return r;
	o.namelen = (uint32_t)namelen;
	iov[1] = (struct iovec){&o, sizeof(o)};
	iov[2] = (struct iovec){(void *)name, namelen};
	iov[3] = (struct iovec){(void *)"", 1};
	return notify_send(s, FB_NOTIFY_DELETE, 18, iov, 4);
}

int fb_server_notify_store(struct fb_server *s, fb_ino_t ino, uint64_t off, const void *data,
			   size_t size)
{
	struct fb_notify_store_out o = {.nodeid = ino, .offset = off};
	struct iovec iov[3];

	if (size > UINT32_MAX - sizeof(o) - sizeof(struct fb_out_header) || (size && !data))
		return -EINVAL;
	o.size = (uint32_t)size;
	iov[1] = (struct iovec){&o, sizeof(o)};
	iov[2] = (struct iovec){(void *)data, size};
	return notify_send(s, FB_NOTIFY_STORE, 15, iov, size ? 3 : 2);
}

int fb_server_notify_retrieve(struct fb_server *s, fb_ino_t ino, uint64_t off, uint32_t size,
			      uint64_t cookie)
{
	struct fb_notify_retrieve_out o = {
		.notify_unique = cookie,
		.nodeid = ino,
		.offset = off,
		.size = size,
	};
	struct iovec iov[2] = {[1] = {&o, sizeof(o)}};

	return notify_send(s, FB_NOTIFY_RETRIEVE, 15, iov, 2);
}

void fb_server_set_retrieve_cb(struct fb_server *s, fb_retrieve_fn fn, void *priv)
{
	pthread_mutex_lock(&s->retrieve_lock);
	s->retrieve_fn = fn;
	s->retrieve_priv = priv;
	pthread_mutex_unlock(&s->retrieve_lock);
}

int fb_server_notify_poll(struct fb_server *s, uint64_t kh)
{
	struct fb_notify_poll_wakeup_out o = {.kh = kh};
	struct iovec iov[2] = {[1] = {&o, sizeof(o)}};

	return notify_send(s, FB_NOTIFY_POLL, 11, iov, 2);
}

int fb_server_notify_resend(struct fb_server *s)
{
	struct iovec iov[1];

	return notify_send(s, FB_NOTIFY_RESEND, 40, iov, 1);
}

int fb_server_notify_inc_epoch(struct fb_server *s)
{
	struct iovec iov[1];

	return notify_send(s, FB_NOTIFY_INC_EPOCH, 44, iov, 1);
}

int fb_server_notify_prune(struct fb_server *s, const fb_ino_t *inos, uint32_t count)
{
	struct fb_notify_prune_out o = {.count = count};
	struct iovec iov[3];

	if (count == 0 || !inos)
		return -EINVAL;
	if ((uint64_t)count * sizeof(*inos) > UINT32_MAX - sizeof(o) - 16)
		return -E2BIG;
	iov[1] = (struct iovec){&o, sizeof(o)};
	iov[2] = (struct iovec){(void *)inos, (size_t)count * sizeof(*inos)};
	return notify_send(s, FB_NOTIFY_PRUNE, 45, iov, 3);
}
