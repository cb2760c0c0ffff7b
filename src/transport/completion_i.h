/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Replies later, inside the /dev/fuse session: the transports of one session (its channels,
 * its io_uring entries) share the session's struct fb_transport_ops, so the token each gives
 * fb_server_handle_async() starts with this, and the session's complete() calls @fn with the
 * reply length (see struct fb_transport_ops.complete in server.h).
 */
#ifndef FB_TRANSPORT_COMPLETION_I_H
#define FB_TRANSPORT_COMPLETION_I_H

#include <sys/types.h>

struct fb__completion {
	void (*fn)(struct fb__completion *c, ssize_t len);
};

#endif /* FB_TRANSPORT_COMPLETION_I_H */
