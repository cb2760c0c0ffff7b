/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The /dev/fuse transport: mount a file system on this machine and serve its kernel requests.
 *
 * Objects:
 *   struct fb_session   one mount: the /dev/fuse file descriptor of the connection, the mount
 *                       point, and the struct fb_server that answers requests.
 *   struct fb_channel   one reader of the connection: its own /dev/fuse fd (cloned from the
 *                       session's with FB_DEV_IOC_CLONE) and its own request and reply
 *                       buffers. A reply must be written to the fd that read the request, so
 *                       each thread that serves requests uses its own channel.
 *
 * The simplest daemon:
 *
 *	fb_session_new(server, &se);
 *	fb_session_mount(se, "/mnt", &mount_opts);
 *	fb_session_loop(se, 4);		// returns after fb_session_exit() or an unmount
 *	fb_session_free(se);
 *
 * A hand-written loop (see examples/hello_loop.c), e.g. inside an application's own event
 * loop, uses the same calls the default loop is built from:
 *
 *	fb_session_channel_new(se, 0, &ch);
 *	for (;;) {
 *		r = fb_channel_receive(ch, &rd, &wr);	// blocks unless FB_CHANNEL_NONBLOCK
 *		if (r == -ENODEV) break;		// unmounted: the session is over
 *		if (r < 0) continue;			// -EINTR, -EAGAIN: nothing to do
 *		n = fb_server_handle(server, &rd, &wr);
 *		if (n > 0) fb_channel_send(ch, n);
 *		if (n == -ENODEV) break;
 *	}
 *
 * or fb_channel_process(ch), which does those three steps. Errors are negative errnos; the
 * library also logs a sentence saying what went wrong (fb_log(), see server.h).
 *
 * Privileges: as root the session mounts with mount(2). Otherwise (and as root when
 * auto_unmount is asked for) it runs fusermount3, which mounts and passes the /dev/fuse fd
 * back over a socket.
 */
#ifndef FUSE_BACKEND_FUSEDEV_H
#define FUSE_BACKEND_FUSEDEV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <fuse_backend/buf.h>
#include <fuse_backend/server.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fb_session;
struct fb_channel;

/*
 * Mount options, the ones libfuse users know. Zero-initialise, then set fields directly or
 * with fb_mount_opts_set(). Strings are borrowed: they must stay valid until
 * fb_session_mount() returns.
 */
struct fb_mount_opts {
	size_t size;	/* sizeof(struct fb_mount_opts) as the caller was built; 0: the
			 * 1.0 layout (see version.h). Larger than the library knows: accepted
			 * when the fields it does not know are zero, else -E2BIG */
	const char *fsname;		/* source shown in /proc/mounts; default "fuse-backend" */
	const char *subtype;		/* file-system type shows as "fuse.SUBTYPE"; NULL or "" (the
					 * default): plain "fuse" */
	int allow_other;		/* let other users than the mounting one in */
	int default_permissions;	/* the kernel checks permissions from the mode bits */
	int ro;				/* read-only mount (MS_RDONLY) */
	int suid;			/* honour set-uid/set-gid bits; default 0 ("nosuid") */
	int dev;			/* allow device nodes; default 0 ("nodev") */
	int noexec;			/* forbid executing files (MS_NOEXEC) */
	int noatime;			/* do not update access times (MS_NOATIME) */
	int auto_unmount;		/* the mount goes away when the daemon dies (even from
					 * SIGKILL): mounts through fusermount3, which waits */
	uint32_t max_read;		/* largest READ request in bytes; 0: kernel default */
	uint32_t blksize;		/* block size; the kernel takes it only for block-device
					 * (fuseblk) mounts, so fb_session_mount() refuses it */
	unsigned long ms_flags;		/* further MS_* mount flags, set by the options
					 * relatime/norelatime, strictatime/nostrictatime,
					 * nodiratime/diratime, lazytime/nolazytime, sync/async,
					 * dirsync (as mount(8) and libfuse take them) */
};

/*
 * Set one option by its libfuse name: @name is e.g. "allow_other", "ro", "nosuid", "dev",
 * "relatime", "sync", "fsname", "max_read"; @value is the text after '=' or NULL when there
 * was none. Strings are borrowed (stored as pointers). Returns 0; -ENOENT when @name is not a
 * mount option (so the caller can try its own options); -EINVAL when the value is missing,
 * superfluous or bad.
 */
int fb_mount_opts_set(struct fb_mount_opts *o, const char *name, const char *value);

/* ---------------------------------------------------------------------------------------------
 * Sessions
 */

/*
 * Create a session that will serve @server (borrowed: it must outlive the session). The
 * session offers the server a transport (fb_server_set_transport()): notifications written to
 * /dev/fuse, and FUSE passthrough backing files when this process has CAP_SYS_ADMIN. Stores
 * the session in *@ret and returns 0, or a negative errno.
 */
int fb_session_new(struct fb_server *server, struct fb_session **ret);

/*
 * Add INIT capability bits the transport offers (e.g. FB_OVER_IO_URING from the io_uring
 * engine). Call before fb_session_mount().
 */
void fb_session_add_caps(struct fb_session *se, uint64_t caps);

/*
 * Call @fn(@priv, @se) once, right after the reply to INIT has been written to the kernel, on
 * the thread of the channel that read INIT (the default loop and hand-written loops alike:
 * fb_channel_send() makes the call). FUSE over io_uring starts its rings from here. One hook
 * per session; set it before mounting. @fn must not block for long: the channel serves
 * nothing meanwhile.
 */
typedef void (*fb_session_init_fn)(void *priv, struct fb_session *se);
void fb_session_set_init_hook(struct fb_session *se, fb_session_init_fn fn, void *priv);

/*
 * Once another transport (FUSE over io_uring) carries the requests, /dev/fuse carries little
 * but FORGETs, and each one would wake a worker. With @us > 0 a worker of the default loop
 * that has just handled a FORGET or BATCH_FORGET waits @us microseconds before reading again,
 * so that the kernel gathers the next ones into one BATCH_FORGET (an INTERRUPT arriving
 * meanwhile waits as long at most). 0 (the default) turns it off. Any time, any thread.
 */
void fb_session_set_forget_gather(struct fb_session *se, unsigned int us);

/*
 * Mount the session on @mountpoint (an existing directory) with @opts (NULL: defaults).
 * Refuses, with a log line saying why: a missing mount point (-ENOENT), one that is not a
 * directory (-ENOTDIR), one that is already a FUSE mount (-EBUSY), a FUSE mount whose daemon
 * died (-ENOTCONN: unmount it with "umount -l"), options the kernel cannot take (-EINVAL),
 * a missing /dev/fuse or fusermount3 (-ENODEV / -ENOENT). Returns 0 or a negative errno.
 * A session mounts once.
 */
int fb_session_mount(struct fb_session *se, const char *mountpoint,
		     const struct fb_mount_opts *opts);

/*
 * Use an already open and mounted /dev/fuse connection instead of mounting (e.g. an fd
 * passed from a privileged helper). The session takes ownership of @fd. @mountpoint (may be
 * NULL) is what fb_session_unmount() will unmount.
 */
int fb_session_adopt_fd(struct fb_session *se, int fd, const char *mountpoint);

/*
 * Unmount. @lazy non-zero detaches the mount now even when it is busy (MNT_DETACH). Without
 * @lazy a busy mount fails with -EBUSY (and a log line suggesting lazy unmount). After a
 * successful unmount the connection ends: channel reads return -ENODEV. Returns 0 when the
 * mount is gone (also when it was already gone), or a negative errno.
 */
int fb_session_unmount(struct fb_session *se, int lazy);

/*
 * Ask the session to end: fb_session_loop() unmounts and returns. Async-signal-safe and
 * callable from any thread; a daemon calls it from its SIGINT/SIGTERM/SIGHUP handler. A
 * hand-written loop sees it through fb_session_exited() (a blocked fb_channel_receive()
 * returns -EINTR when the signal interrupts it) or through fb_session_exit_fd().
 */
void fb_session_exit(struct fb_session *se);

/* Non-zero once fb_session_exit() was called or the connection ended. */
int fb_session_exited(const struct fb_session *se);

/*
 * An eventfd that becomes readable when fb_session_exit() is called or a channel saw the
 * connection end, for poll() in an application's own loop. Do not read or close it.
 */
int fb_session_exit_fd(const struct fb_session *se);

/* The session's /dev/fuse fd (-1 before mounting), e.g. for FUSE over io_uring. Borrowed. */
int fb_session_fd(const struct fb_session *se);

/* The server the session serves. */
struct fb_server *fb_session_server(const struct fb_session *se);

/* The mount point given to fb_session_mount(), or NULL. */
const char *fb_session_mountpoint(const struct fb_session *se);

/*
 * The default loop: serve requests with @nthreads threads (0 means 1), each over its own
 * channel, until the connection ends (an unmount from outside, DESTROY) or fb_session_exit()
 * is called; in the latter case it unmounts first (lazily if the mount is busy, aborting the
 * connection). Returns 0 on a clean end or a negative errno (e.g. a channel could not be
 * created). Threads block no signals the caller did not block. When every thread has been
 * inside a request for 100 ms with none finished (operations waiting for a lock, or polling
 * fb_ctx_interrupted()), the loop starts another thread, up to 64 beyond @nthreads, so that
 * the INTERRUPT or the request that ends the wait is still read.
 */
int fb_session_loop(struct fb_session *se, unsigned int nthreads);

/*
 * Free the session (NULL-safe): unmounts if still mounted, closes the /dev/fuse fd. No
 * channel of the session may still be in use.
 */
void fb_session_free(struct fb_session *se);

/* ---------------------------------------------------------------------------------------------
 * Channels
 */

/* fb_session_channel_new() flags */
#define FB_CHANNEL_NONBLOCK	(1u << 0)	/* fb_channel_receive() returns -EAGAIN, not waits */

/*
 * Open a channel on a mounted session: a new /dev/fuse fd attached to the connection with
 * FB_DEV_IOC_CLONE, plus request and reply buffers sized from fb_server_request_max() and
 * fb_server_reply_max() (grown after INIT when the negotiated sizes need it). Stores it in
 * *@ret and returns 0, or a negative errno.
 */
int fb_session_channel_new(struct fb_session *se, unsigned int flags, struct fb_channel **ret);

/* Free a channel (NULL-safe) and close its fd. */
void fb_channel_free(struct fb_channel *ch);

/* The channel's fd, readable (POLLIN) when a request is waiting. Borrowed. */
int fb_channel_fd(const struct fb_channel *ch);

/*
 * Read one request into the channel's request buffer and set up @r over it and @w over the
 * channel's reply buffer. Returns the request's length (> 0), or:
 *   -ENODEV  the connection has ended (unmounted or aborted): stop using the channel;
 *   -EINTR   a signal interrupted the wait (check fb_session_exited());
 *   -EAGAIN  nothing to read (FB_CHANNEL_NONBLOCK).
 * A request the kernel withdrew before it was read is skipped silently. @r and @w stay valid
 * until the next fb_channel_receive() on this channel.
 */
ssize_t fb_channel_receive(struct fb_channel *ch, struct fb_reader *r, struct fb_writer *w);

/*
 * Send the first @len bytes of the channel's reply buffer (what fb_server_handle() returned)
 * to the kernel. A reply the kernel no longer waits for (the request was interrupted) is not
 * an error. Returns 0, -ENODEV when the connection has ended, or another negative errno.
 */
int fb_channel_send(struct fb_channel *ch, size_t len);

/*
 * Receive one request, hand it to the session's server, send the reply. Returns 0 when a
 * request was handled or there was nothing to do (-EINTR / -EAGAIN are folded into 0),
 * -ENODEV when the session is over, or another negative errno.
 */
int fb_channel_process(struct fb_channel *ch);

#ifdef __cplusplus
}
#endif

#endif /* FUSE_BACKEND_FUSEDEV_H */
