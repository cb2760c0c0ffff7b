/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * FUSE over io_uring (Linux 6.14+, protocol 7.42+): serve a /dev/fuse session's requests
 * through io_uring rings instead of read()/write() on the device.
 *
 * How it fits a session:
 *
 *	fb_session_new(server, &se);
 *	fb_uring_new(se, &uring_opts, &ur);	// before mounting: adds FB_OVER_IO_URING to
 *						// the INIT offer
 *	fb_session_mount(se, "/mnt", &mount_opts);
 *	fb_session_loop(se, 1);			// INIT arrives on /dev/fuse; right after its
 *						// reply the session starts the rings
 *	fb_uring_free(ur);			// after the loop has returned
 *	fb_session_free(se);
 *
 * There is one queue per possible CPU (the kernel picks the queue by the CPU of the task that
 * makes the request, and switches a connection to io_uring only when every queue holds an
 * entry). Each queue has its own ring, @depth entries and one thread pinned to its CPU (and
 * given a small priority boost, see FB_URING_NICE_BOOST). An
 * entry is a header buffer (struct fb_uring_req_header) and a payload buffer big enough for
 * the largest request and reply; the kernel writes a request into them and completes the
 * entry's pending command, the thread hands the request to fb_server_handle() and sends the
 * reply back with COMMIT_AND_FETCH, which also waits for the entry's next request. A request
 * that may wait for another one (SETLKW, a blocking lock) is served on a thread of its own so
 * that its queue keeps going. The file system's operations run on these threads (and on the
 * /dev/fuse threads), concurrently, as over /dev/fuse.
 *
 * /dev/fuse stays in use: INIT, FORGET, BATCH_FORGET and INTERRUPT always arrive there, and
 * notifications are written there, so the session's /dev/fuse loop keeps running (one thread
 * is enough).
 *
 * Fallback: when the kernel does not offer FB_OVER_IO_URING at INIT (the fuse module
 * parameter /sys/module/fuse/parameters/enable_uring is off, or the kernel is older than
 * 6.14), or registering the ring entries fails, the session simply keeps serving over
 * /dev/fuse; the library logs one line saying why.
 *
 * Without liburing at build time the functions below are inline stubs that report
 * -EOPNOTSUPP ("unavailable"; fb_uring_new() logs the one fallback line); FB_HAVE_URING,
 * defined in <fuse_backend/config.h> (generated and installed with the library), tells which
 * variant this library and the programs built against it have.
 */
#ifndef FUSE_BACKEND_URING_H
#define FUSE_BACKEND_URING_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <fuse_backend/config.h>
#include <fuse_backend/fusedev.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Entries per queue when fb_uring_opts.depth is 0. */
#define FB_URING_DEPTH_DEFAULT	8
/* Largest accepted fb_uring_opts.depth. */
#define FB_URING_DEPTH_MAX	512

struct fb_uring;

/* Settings for fb_uring_new(). Zero-initialise; zero fields take the defaults. */
struct fb_uring_opts {
	size_t size;	/* sizeof(struct fb_uring_opts) as the caller was built; 0: the
			 * 1.0 layout (see version.h). Larger than the library knows: accepted
			 * when the fields it does not know are zero, else -E2BIG */
	unsigned int depth;		/* entries (requests in flight) per queue, 1 to
					 * FB_URING_DEPTH_MAX; 0: FB_URING_DEPTH_DEFAULT */
	int no_pin;			/* non-zero: do not pin queue threads to their CPU */
	int keep_nice;			/* non-zero: leave the queue threads' nice value as
					 * it is; by default each runs FB_URING_NICE_BOOST
					 * levels more favoured than the process, where the
					 * process may (CAP_SYS_NICE or RLIMIT_NICE) */
};

/*
 * How many nice levels queue threads are raised by default. A caller blocked on a request
 * and the queue thread answering it share a CPU; at equal weight the scheduler tends to move
 * the woken caller to the other CPU on every answer (a cross-CPU wakeup each time, measured
 * at about half the throughput of metadata operations on a 2-CPU VM). Any boost stops that.
 */
#define FB_URING_NICE_BOOST	5

/* A snapshot of the engine's state, from fb_uring_stats(). */
struct fb_uring_stats {
	int active;			/* 1 while the kernel sends requests over the rings */
	unsigned int queues;		/* queues (possible CPUs) */
	unsigned int depth;		/* entries per queue */
	uint64_t requests;		/* requests served over the rings so far */
	uint64_t payload_size;		/* bytes of each entry's payload buffer (0 before start) */
};

#ifdef FB_HAVE_URING

/*
 * Prepare FUSE over io_uring for session @se (borrowed: it must outlive the engine): create
 * one ring per possible CPU, add FB_OVER_IO_URING to the capabilities the session offers at
 * INIT, and ask the session to call fb_uring_start() right after it has written the INIT
 * reply. Call before fb_session_mount(). The rings themselves are created by
 * fb_uring_start(), so a daemon may fork between mounting and serving; this call only checks
 * that a ring can be made. Stores the engine in *@ret and returns 0, or a negative errno
 * after logging the one line that says why the session will stay on /dev/fuse: -EOPNOTSUPP
 * when io_uring itself is unavailable (for example kernel.io_uring_disabled, or a build
 * without liburing), -EINVAL for a bad @opts (depth above FB_URING_DEPTH_MAX). The session
 * then works over /dev/fuse as if this was never called.
 */
int fb_uring_new(struct fb_session *se, const struct fb_uring_opts *opts, struct fb_uring **ret);

/*
 * Start serving over the rings; the session calls this after writing the INIT reply (only a
 * hand-written loop calls it itself, at the same point). Checks that FB_OVER_IO_URING was
 * negotiated, allocates the entries' buffers, starts one thread per queue and registers every
 * entry with the kernel. Returns 0 when the rings serve requests, or a negative errno after
 * logging the one line that says why the session stays on /dev/fuse: -EOPNOTSUPP when the
 * kernel did not offer or refused io_uring, -EALREADY when called twice, others from the
 * system (-ENOMEM). On failure the kernel is told to give io_uring up, so requests keep
 * flowing over /dev/fuse.
 */
int fb_uring_start(struct fb_uring *u);

/*
 * Stop the queue threads and release the rings and buffers; logs how many requests the rings
 * served (one FB_LOG_INFO line) if they ever ran. The kernel ends every ring entry when the
 * connection ends (unmount, abort, DESTROY); call this only after that (after
 * fb_session_loop() has returned), since a live connection whose rings stop no longer gets
 * answers. Idempotent.
 */
void fb_uring_stop(struct fb_uring *u);

/* Stop (see fb_uring_stop()) and free the engine (NULL-safe). */
void fb_uring_free(struct fb_uring *u);

/* Fill @out with the engine's state; callable from any thread at any time. */
void fb_uring_stats(const struct fb_uring *u, struct fb_uring_stats *out);

#else /* !FB_HAVE_URING: built without liburing */

static inline int fb_uring_new(struct fb_session *se, const struct fb_uring_opts *opts,
			       struct fb_uring **ret)
{
	(void)opts;
	(void)ret;
	if (se)
		fb_log(FB_LOG_WARNING, "io_uring: this build has no liburing; serving over "
		       "/dev/fuse");
	return -EOPNOTSUPP;
}

static inline int fb_uring_start(struct fb_uring *u)
{
	(void)u;
	return -EOPNOTSUPP;
}

static inline void fb_uring_stop(struct fb_uring *u)
{
	(void)u;
}

static inline void fb_uring_free(struct fb_uring *u)
{
	(void)u;
}

static inline void fb_uring_stats(const struct fb_uring *u, struct fb_uring_stats *out)
{
	(void)u;
	memset(out, 0, sizeof(*out));
}

#endif /* FB_HAVE_URING */

#ifdef __cplusplus
}
#endif

#endif /* FUSE_BACKEND_URING_H */
