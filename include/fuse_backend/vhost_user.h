/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * A vhost-user-fs device back end: the host side of virtio-fs that a VMM (QEMU, Cloud
 * Hypervisor, libvirt, Kata) connects to over a Unix socket. It speaks the back-end side of the
 * vhost-user protocol, maps the guest's memory, and serves the virtqueues (virtio.h) with a
 * request server (server.h).
 *
 *	fb_server_new(ops, sizeof(*ops), fs, NULL, &server);
 *	fb_vhost_user_new(server, &cfg, &dev);		// sets the server's transport
 *	fb_vhost_user_listen(dev, "/run/vfsd.sock");	// or fb_vhost_user_set_fd()
 *	fb_vhost_user_accept(dev);			// waits for the VMM
 *	fb_vhost_user_run(dev);				// until the VMM goes away
 *	fb_vhost_user_free(dev);
 *	fb_server_free(server);
 *
 * Queues: queue 0 is the high-priority queue (FORGET, BATCH_FORGET), queues 1..N carry
 * requests. With the default loop each started queue is served by its own thread, woken by its
 * kick eventfd; replies are put in the used ring in batches with one call notification per
 * batch where EVENT_IDX allows. The VMM does not check the guest's queue count against ours:
 * every queue below 1 + cfg.request_queues is accepted.
 *
 * Own loop: with FB_VHOST_USER_OWN_LOOP nothing runs by itself. Poll fb_vhost_user_fd() and call
 * fb_vhost_user_dispatch() when it is readable; poll each started queue's
 * fb_vhost_user_queue_fd() and call fb_vhost_user_queue_process() when it is readable
 * (fb_vhost_user_queue_fd() changes when the VMM sends a new kick fd: ask again after each
 * dispatch).
 *
 * Lifecycle: the VMM stops a queue with SET_VRING_ENABLE 0 / GET_VRING_BASE (the reply waits
 * until the queue's requests in progress are answered), and starts it again with the same
 * messages as at first. A guest that reboots or remounts starts a new FUSE session on the same
 * connection (the server restarts: FB_TRANSPORT_RESTART). When the VMM closes the socket,
 * everything is unmapped and every fd it sent is closed; fb_vhost_user_run() returns 0 and
 * fb_vhost_user_accept() may take the next connection.
 *
 * Every message is checked (size for its request, fds only where they belong, queue index,
 * memory regions that overlap or do not map, addresses outside every region); a bad one gets
 * an error reply where the front end asked for one (REPLY_ACK: the ack carries the negative
 * errno as a u64, 0 for success) and is logged, or closes the connection when the stream
 * cannot be trusted any more (a short header or payload, a bad version, a payload over 4 KiB,
 * or a GET_* request that cannot be answered). Never a crash or a leaked fd.
 *
 * DAX: the back-end request channel (SET_BACKEND_REQ_FD) carries the fs-map / fs-unmap
 * requests of the Rust vhost crate and Cloud Hypervisor (numbers 6 and 7, never standardised).
 * The server is offered dax_map/dax_unmap only once that channel is up with BACKEND_SEND_FD
 * and REPLY_ACK negotiated.
 */
#ifndef FUSE_BACKEND_VHOST_USER_H
#define FUSE_BACKEND_VHOST_USER_H

#include <stddef.h>
#include <stdint.h>

#include <fuse_backend/server.h>
#include <fuse_backend/virtio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Request queues when fb_vhost_user_config.request_queues is 0, and the most accepted. */
#define FB_VHOST_USER_REQUEST_QUEUES_DEFAULT	1
#define FB_VHOST_USER_REQUEST_QUEUES_MAX	64

/* Settings for fb_vhost_user_new(). Zero fields take the defaults given. */
struct fb_vhost_user_config {
	size_t size;			/* sizeof(struct fb_vhost_user_config) as the caller
					 * was built; 0: the 1.0 layout (see version.h).
					 * Larger than the library knows: accepted when the
					 * fields it does not know are zero, else -E2BIG */
	uint32_t request_queues;	/* request queues offered (GET_QUEUE_NUM is this + 1);
					 * default 1, at most FB_VHOST_USER_REQUEST_QUEUES_MAX */
	uint32_t queue_size_max;	/* largest SET_VRING_NUM accepted; default 1024 */
	uint32_t flags;			/* FB_VHOST_USER_* */
};

/* fb_vhost_user_config.flags */
/* Drive the device from the caller's loop (see "Own loop" above) instead of threads. */
#define FB_VHOST_USER_OWN_LOOP		(1u << 0)
/* Do not offer the back-end request channel (no DAX even where the VMM has a window). */
#define FB_VHOST_USER_NO_DAX		(1u << 1)

struct fb_vhost_user;

/*
 * Create a device serving @server (borrowed; outlives the device) with settings @cfg (NULL for
 * the defaults). Sets the server's transport (fb_virtio_fs_transport_init() plus DAX). Returns
 * 0 or a negative errno.
 */
int fb_vhost_user_new(struct fb_server *server, const struct fb_vhost_user_config *cfg,
		      struct fb_vhost_user **ret);

/* Free a device (NULL-safe): stops its queue threads, unmaps, closes every fd it holds. */
void fb_vhost_user_free(struct fb_vhost_user *dev);

/* Create a listening Unix socket at @path (an old socket file there is replaced). */
int fb_vhost_user_listen(struct fb_vhost_user *dev, const char *path);

/*
 * Use an inherited socket @fd (libvirt's --fd): a listening socket (then call
 * fb_vhost_user_accept()) or an already connected one. On success the device owns it; on
 * failure (-EBUSY: the device has a socket already; -ENOTSOCK) it stays the caller's.
 */
int fb_vhost_user_set_fd(struct fb_vhost_user *dev, int fd);

/* Wait for a front end to connect on the listening socket. Returns 0 or a negative errno
 * (-EINTR when fb_vhost_user_stop() was called). */
int fb_vhost_user_accept(struct fb_vhost_user *dev);

/*
 * The default loop: serve the connection's messages (queue threads start and stop as the VMM
 * asks) until the front end closes it (returns 0), fb_vhost_user_stop() is called (-EINTR),
 * or the stream breaks (a negative errno, logged).
 */
int fb_vhost_user_run(struct fb_vhost_user *dev);

/*
 * Make fb_vhost_user_run() / _accept() return soon with -EINTR. Async-signal-safe; any thread.
 * It stays in effect (the device is being shut down): every later _run() / _accept() returns
 * -EINTR at once. The connection stays open until fb_vhost_user_free().
 */
void fb_vhost_user_stop(struct fb_vhost_user *dev);

/* ---- own loop (FB_VHOST_USER_OWN_LOOP) ----------------------------------------------------- */

/* The connection's socket, to poll for reading; -1 when not connected. */
int fb_vhost_user_fd(const struct fb_vhost_user *dev);

/* Read and handle one message. Returns 0, -EAGAIN when none was waiting, -ENOTCONN when the
 * front end closed the connection (everything released), or another negative errno when the
 * stream broke (logged; the connection is closed and everything released as well). */
int fb_vhost_user_dispatch(struct fb_vhost_user *dev);

/* Number of queues (1 + request queues). */
unsigned int fb_vhost_user_queue_count(const struct fb_vhost_user *dev);

/* Queue @idx's kick eventfd while it is started and enabled, else -1. Call it from the thread
 * that dispatches messages. */
int fb_vhost_user_queue_fd(const struct fb_vhost_user *dev, unsigned int idx);

/* Serve queue @idx (reads its kick eventfd, drains the queue, signals the call eventfd).
 * Returns the number of requests served (0 when the queue is not started) or a negative
 * errno (-EINVAL for an index beyond the queues, -EIO when the guest broke the ring: it is
 * then not served until the front end starts it again). */
int fb_vhost_user_queue_process(struct fb_vhost_user *dev, unsigned int idx);

/* ---- statistics ------------------------------------------------------------------------------ */

/* What fb_vhost_user_queue_stats() reports about one queue. May grow: set .size. */
struct fb_vhost_user_queue_stats {
	size_t size;	   /* set by the caller: sizeof(struct fb_vhost_user_queue_stats) */
	uint64_t requests; /* chains taken from the ring and completed, malformed ones (completed
			    * empty) included, since fb_vhost_user_new(): the count goes on across
			    * connections and ring restarts (the chains of a batch that ends with
			    * the guest breaking the ring are not counted) */
};

/*
 * Fill @out with queue @idx's figures: as many bytes as both the caller's .size and this
 * library know, and .size set to that (fields beyond it are left alone). Any thread, at any
 * time: a running queue's count is read without stopping it, so it may lag its thread by the
 * batch in progress. Costs the queue nothing (a counter its own thread adds to once per batch).
 * Returns 0, or -EINVAL for a NULL argument, an index beyond fb_vhost_user_queue_count() or a
 * .size too small for .requests.
 */
int fb_vhost_user_queue_stats(const struct fb_vhost_user *dev, unsigned int idx,
			      struct fb_vhost_user_queue_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* FUSE_BACKEND_VHOST_USER_H */
