/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The request server: decode one FUSE request, check it, dispatch it to a file system, and
 * encode the reply. Transport-independent: the same call serves /dev/fuse, FUSE over io_uring
 * and virtio-fs.
 *
 * The server owns no threads and no file descriptors. A transport gives it an fb_reader over
 * one request and an fb_writer over the reply memory, calls fb_server_handle(), and sends the
 * bytes the return value names. fb_server_handle() may be called from several threads at once.
 *
 * Everything in a request is untrusted: every length is checked against the header and the
 * opcode's minimum size before any file-system operation runs. A malformed request gets an
 * errno reply, or is dropped with a log line when it cannot be answered.
 */
#ifndef FUSE_BACKEND_SERVER_H
#define FUSE_BACKEND_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/buf.h>
#include <fuse_backend/fs.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Settings for fb_server_new(). Zero fields take the defaults given. */
struct fb_server_config {
	size_t size;	/* sizeof(struct fb_server_config) as the caller was built; 0: the
			 * 1.0 layout (see version.h). Larger than the library knows: accepted
			 * when the fields it does not know are zero, else -E2BIG */
	uint32_t max_write;		/* largest WRITE payload; default 1 MiB, at most 16 MiB */
	uint32_t max_readahead;		/* default: whatever the kernel offers */
	uint16_t max_background;	/* default 64 */
	uint16_t congestion_threshold;	/* default 3/4 of max_background */
	uint32_t time_gran;		/* ns; default 1 */
	uint64_t disable;		/* FB_* INIT flags never to enable, whatever is offered */
	int debug;			/* non-zero: one log line per request and reply */
};

/*
 * What the transport below the server is and can do. All callbacks are optional; the server
 * copies the table (fb_server_set_transport()). `priv` is passed back to each callback.
 *
 * Versioned by size: set `size` to sizeof(struct fb_transport_ops). Fields are only appended;
 * a table from an older header is shorter and its missing fields count as 0 / NULL; a longer
 * one (a newer header) is cut to what the library knows. A size of 0 is taken as the first
 * versioned layout (every field up to dax_unmap), for callers that forget to set it.
 */
struct fb_transport_ops {
	size_t size;			/* sizeof(struct fb_transport_ops) */

	/* INIT flags that depend on the transport, added to the offer only when the kernel also
	 * offers them: FB_PASSTHROUGH where backing_open works, FB_OVER_IO_URING, and for
	 * virtio-fs DAX FB_MAP_ALIGNMENT and FB_HAS_INODE_DAX (only when dax_map works),
	 * FB_ALLOW_IDMAP where the mount has default_permissions (the kernel refuses the
	 * connection otherwise). Without them the server never enables these flags. */
	uint64_t caps;

	/* FB_TRANSPORT_* bits: what kind of peer sends the requests. */
	uint32_t flags;

	/* Send a notification: @iov holds a complete message (fb_out_header with unique 0 and
	 * the notify code in `error`, then its body). Returns 0 or a negative errno. May be
	 * called from any thread. NULL: there is no notification channel (virtio-fs); every
	 * fb_server_notify_*() returns -ENOTCONN. */
	int (*send_notify)(void *priv, const struct iovec *iov, int iovcnt);

	/* Register / release a backing file for FUSE passthrough. */
	int (*backing_open)(void *priv, int fd);
	int (*backing_close)(void *priv, int backing_id);

	/* virtio-fs DAX: map [@foffset, +@len) of @fd at @moffset of the guest's cache window
	 * (@flags: FB_SETUPMAPPING_FLAG_READ / _WRITE), or unmap [@moffset, +@len). Return 0 or
	 * a negative errno. */
	int (*dax_map)(void *priv, int fd, uint64_t foffset, uint64_t moffset, uint64_t len,
		       uint64_t flags);
	int (*dax_unmap)(void *priv, uint64_t moffset, uint64_t len);

	/*
	 * Replies later (see "Replies later" below): the request that fb_server_handle_async()
	 * was given @token for, and for which it returned -EINPROGRESS, is finished. @len > 0:
	 * the reply is the first @len bytes of the request's writer: send it. 0: no reply is
	 * due (the request was cancelled): release the request's memory. Called exactly once
	 * per such request, from any thread (the replier's, or the one cancelling: inside
	 * fb_server_handle_async() handling DESTROY or INIT, inside fb_server_reset() or
	 * fb_server_cancel_deferred()); it must not block on the thread that serves requests,
	 * nor call back into the server for this request. NULL: requests are always answered
	 * at once (fb_ctx_defer() returns NULL).
	 */
	void (*complete)(void *priv, void *token, ssize_t len);
};

/*
 * fb_transport_ops.flags. A virtio-fs transport sets all four; /dev/fuse and io_uring none.
 */
/* The pid in a request is not a host process id (a guest's): fb_ctx.pid is 0, and nothing
 * is looked up under /proc for it. */
#define FB_TRANSPORT_FOREIGN_PIDS	(1u << 0)
/* The peer never sends INTERRUPT: an operation that would wait for another request
 * (SETLKW, flock without LOCK_NB; not an unlock) is answered -EOPNOTSUPP by the server,
 * without calling the file system, instead of blocking forever. */
#define FB_TRANSPORT_NO_INTERRUPT	(1u << 1)
/* Sessions restart on a live connection: INIT after DESTROY, or INIT while a session is
 * ready (a guest that rebooted), ends the old session (destroy(), as fb_server_reset()) and
 * negotiates a new one. fb_server_handle() then answers DESTROY and returns its reply length
 * instead of -ENODEV. Requests run under a read lock that a reset takes for writing, so a
 * reset never overlaps an operation. */
#define FB_TRANSPORT_RESTART		(1u << 2)
/* Every request with reply memory must be answered (a descriptor chain is completed only
 * with its reply): a request the server would otherwise drop (unique 0, bad length, a
 * malformed no-reply request, sent after DESTROY) gets an error reply carrying its unique
 * (-EINVAL; -ENOTCONN after DESTROY), and an INTERRUPT or NOTIFY_REPLY a bare header, when
 * its header could be read and the writer has room for one. FORGET and BATCH_FORGET still
 * get none (return 0). */
#define FB_TRANSPORT_REPLY_ALWAYS	(1u << 3)

/*
 * Create a server over the operations table @ops (of @ops_size bytes: pass sizeof(*ops); a
 * table from an older header is shorter and its missing entries count as NULL) with private
 * pointer @fs, and settings @cfg (may be NULL for the defaults). On success stores the new
 * server in *@ret and returns 0; returns a negative errno on failure and leaves *@ret alone.
 */
int fb_server_new(const struct fb_fs_ops *ops, size_t ops_size, void *fs,
		  const struct fb_server_config *cfg, struct fb_server **ret);

/* Free a server (NULL-safe). No fb_server_handle() call may be running, and no request may
 * be deferred (fb_server_cancel_deferred()). Handles of cancelled requests stay valid. */
void fb_server_free(struct fb_server *s);

/*
 * Attach the transport below the server: @ops is copied (see struct fb_transport_ops on
 * `size`; NULL detaches), @priv is borrowed for the server's lifetime. Call before INIT, or
 * again before INIT to change it.
 */
void fb_server_set_transport(struct fb_server *s, const struct fb_transport_ops *ops, void *priv);

/*
 * Handle one request read from @r, writing the reply to @w.
 *
 * Returns:
 *   > 0          the reply is the first N bytes written to @w: send them.
 *   0            no reply is due (FORGET, BATCH_FORGET, INTERRUPT, a malformed request that
 *                was dropped and logged).
 *   -ENODEV      DESTROY was handled (the reply, if any, is already counted): the session is
 *                over; the transport stops reading. Not with FB_TRANSPORT_RESTART: DESTROY
 *                then returns its reply length and the server waits for a new INIT.
 *   other < 0    the writer cannot hold even an error reply (-ENOSPC), a bug in the caller.
 *
 * The reply to a request is never larger than fb_server_reply_max() bytes.
 */
ssize_t fb_server_handle(struct fb_server *s, struct fb_reader *r, struct fb_writer *w);

/*
 * Replies later. An operation may take its request (fb_ctx_defer(), fs.h) and answer it from
 * another thread after it returned. For that the transport hands the request over with a token:
 *
 *   n = fb_server_handle_async(s, r, w, token);
 *
 * It returns what fb_server_handle() returns, or -EINPROGRESS: the operation answers later.
 * Then, until tops.complete(priv, token, len) is called:
 *   - the reply memory (the writer's iovec array and the memory it describes, and @token)
 *     stays the request's: the transport must not reuse it, and the reply is encoded into it
 *     from the replier's thread;
 *   - the request memory is free again at once (operations copy what they need);
 *   - the transport goes on reading other requests.
 * A reply that comes before the operation returns is returned by fb_server_handle_async() as
 * an ordinary reply (no complete() call). fb_server_handle() never defers.
 *
 * Interrupts reach a deferred request (fb_ctx_interrupted() on its fb_req_ctx(),
 * fb_req_interrupted(), fb_req_on_interrupt()). A DESTROY, a session reset (fb_server_reset(),
 * or INIT/DESTROY under FB_TRANSPORT_RESTART) and fb_server_cancel_deferred() cancel every
 * deferred request: each gets complete() with 0 (with FB_TRANSPORT_REPLY_ALWAYS an -ENOTCONN
 * error reply, its length), before the call returns; its owner's reply is dropped later,
 * safely, whenever it comes (the handle lives until the owner replies).
 */
ssize_t fb_server_handle_async(struct fb_server *s, struct fb_reader *r, struct fb_writer *w,
			       void *token);

/*
 * Cancel every deferred request (as above) and wait until none is in the transport's hands:
 * when it returns, tops.complete() has been called for each, and is called for no other until
 * the next fb_server_handle_async() defers one. A transport calls it when it stops (unmount,
 * the end of the connection) before freeing the memory of deferred requests. Any thread; not
 * from inside an operation. Requests whose operation is still running are left to it.
 */
void fb_server_cancel_deferred(struct fb_server *s);

/*
 * End the session: when INIT was answered, the file system's destroy() runs (it drops every
 * inode and handle the kernel held), and the server waits for a new INIT. In-flight state
 * (remembered interrupts) is cleared. Used by transports whose peer can start over on the same
 * connection (a guest that reboots). With FB_TRANSPORT_RESTART it waits for the requests in
 * progress and may be called from any thread (but not from inside an operation); without it
 * no fb_server_handle() may be running.
 */
void fb_server_reset(struct fb_server *s);

/*
 * Read the header of the request under @r without consuming it (for a transport that must
 * know the opcode or unique before or after handling it). Returns 0 and fills *@ret, or
 * -EINVAL when fewer bytes than a header remain.
 */
int fb_server_peek(const struct fb_reader *r, struct fb_in_header *ret);

/* The connection as negotiated, or NULL before INIT has been answered. */
const struct fb_conn *fb_server_conn(const struct fb_server *s);

/*
 * Buffer sizes a transport needs: the largest request (header + arguments + max_write) and
 * the largest reply, for the negotiated connection (or for the configured max_write before
 * INIT). At least FB_MIN_READ_BUFFER.
 */
size_t fb_server_request_max(const struct fb_server *s);
size_t fb_server_reply_max(const struct fb_server *s);

/* True once DESTROY was handled. */
int fb_server_destroyed(const struct fb_server *s);

/*
 * Logging. The library logs through one function per process; the default writes
 * "fuse-backend: <message>" to stderr for levels up to FB_LOG_INFO (FB_LOG_DEBUG too when
 * a server was created with debug on).
 */
enum fb_log_level {
	FB_LOG_ERR = 3,
	FB_LOG_WARNING = 4,
	FB_LOG_INFO = 6,
	FB_LOG_DEBUG = 7,
};
typedef void (*fb_log_fn)(enum fb_log_level level, const char *msg, void *priv);
/* Replace the log function (NULL restores the default). */
void fb_log_set(fb_log_fn fn, void *priv);
/* Show FB_LOG_DEBUG lines with the default log function when @on. */
void fb_log_set_debug(int on);
/* Log a printf-style message. */
void fb_log(enum fb_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Notifications from the file system to the kernel, sent through the transport's
 * send_notify (callable from any thread, also from inside an operation). Each returns 0, a
 * negative errno from the transport, -ENOTCONN before INIT or without a transport, or
 * -ENOSYS when the negotiated minor version lacks the notification. Names are @namelen bytes
 * (no NUL needed), at most 1024.
 */
int fb_server_notify_inval_inode(struct fb_server *s, fb_ino_t ino, int64_t off, int64_t len);
/* @flags: 0 or FB_INVAL_ENTRY_EXPIRE_ONLY. */
int fb_server_notify_inval_entry(struct fb_server *s, fb_ino_t parent, const char *name,
				 size_t namelen, uint32_t flags);
int fb_server_notify_delete(struct fb_server *s, fb_ino_t parent, fb_ino_t child,
			    const char *name, size_t namelen);
/* Push @size bytes of @data into the kernel's page cache of @ino at @off. */
int fb_server_notify_store(struct fb_server *s, fb_ino_t ino, uint64_t off, const void *data,
			   size_t size);
/*
 * Ask the kernel for @size bytes of its cache of @ino at @off. The kernel answers with a
 * NOTIFY_REPLY request carrying @cookie; the server hands it to the callback set with
 * fb_server_set_retrieve_cb().
 */
int fb_server_notify_retrieve(struct fb_server *s, fb_ino_t ino, uint64_t off, uint32_t size,
			      uint64_t cookie);
typedef void (*fb_retrieve_fn)(void *priv, uint64_t cookie, fb_ino_t ino, uint64_t off,
			       struct fb_reader *data, uint32_t size);
void fb_server_set_retrieve_cb(struct fb_server *s, fb_retrieve_fn fn, void *priv);
/* Wake up a poll() waiting on the kernel handle @kh. */
int fb_server_notify_poll(struct fb_server *s, uint64_t kh);
/* Ask the kernel to resend every request it is still waiting on (7.40+). */
int fb_server_notify_resend(struct fb_server *s);
/* Increment the kernel's epoch: cached dentries of earlier epochs are invalid (7.44+). */
int fb_server_notify_inc_epoch(struct fb_server *s);
/* Ask the kernel to drop @count inodes from its cache where it can (7.45+). */
int fb_server_notify_prune(struct fb_server *s, const fb_ino_t *inos, uint32_t count);

#ifdef __cplusplus
}
#endif

#endif /* FUSE_BACKEND_SERVER_H */
