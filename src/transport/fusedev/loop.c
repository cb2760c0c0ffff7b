/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The default multi-threaded loop, built only from the public session and channel calls.
 *
 * N workers each block in read() on their own channel. The calling thread waits on the
 * session's exit eventfd: when fb_session_exit() is called it unmounts, which ends the
 * connection, so every blocked read() returns ENODEV and the workers finish by themselves; no
 * thread is cancelled or signalled. When the mount goes away from outside the workers see
 * ENODEV the same way.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "fusedev_i.h"

struct worker {
	pthread_t thread;
	struct fb_session *se;
	struct fb_channel *ch;
	atomic_int *running; /* workers still in their loop, shared */
	int err;	     /* why the worker stopped, if not the end of the connection */
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t one = 1;
	ssize_t n;
	int r;

	for (;;) {
		r = fb_channel_process(w->ch);
		if (r == -ENODEV)
			break;
		if (r < 0) {
			w->err = r;
			fb_session_exit(w->se); /* the others stop when the mount goes */
			break;
		}
	}
	atomic_fetch_sub(w->running, 1);
	n = write(fb_session_exit_fd(w->se), &one, sizeof(one));
	(void)n;
	return NULL;
}

/* End the connection after fb_session_exit(): unmount, by force if the mount is busy. */
static void stop_mount(struct fb_session *se)
{
	int r = fb__session_unmount(se, 0, 1);

	if (r != -EBUSY) {
		if (r < 0)
			fb_log(FB_LOG_ERR, "cannot unmount %s: %s", se->mountpoint, strerror(-r));
		return;
	}
	fb_log(FB_LOG_INFO, "%s is busy: aborting the connection and detaching the mount",
	       se->mountpoint);
	pthread_mutex_lock(&se->lock);
	if (se->mountpoint && geteuid() == 0)
		umount2(se->mountpoint, MNT_FORCE); /* FUSE aborts the connection */
	pthread_mutex_unlock(&se->lock);
	fb__abort_conn(se->conn_id);
	fb_session_unmount(se, 1);
}

int fb_session_loop(struct fb_session *se, unsigned int nthreads)
{
	struct worker *workers;
	atomic_int running;
	unsigned int started = 0;
	int stopping = 0, waited = 0, r = 0;

	if (!se)
		return -EINVAL;
	if (se->fd < 0)
		return -ENOTCONN;
	if (nthreads == 0)
		nthreads = 1;
	if (nthreads > 1024)
		return -EINVAL;
	workers = calloc(nthreads, sizeof(*workers));
	if (!workers)
		return -ENOMEM;
	atomic_init(&running, 0);
	for (unsigned int i = 0; i < nthreads; i++) {
		r = fb_session_channel_new(se, 0, &workers[i].ch);
		if (r < 0)
			goto out_free_channels;
		workers[i].se = se;
		workers[i].running = &running;
	}
	for (; started < nthreads; started++) {
		atomic_fetch_add(&running, 1);
		r = pthread_create(&workers[started].thread, NULL, worker_main, &workers[started]);
		if (r) {
			atomic_fetch_sub(&running, 1);
			r = -r;
			fb_log(FB_LOG_ERR, "cannot start a worker thread: %s", strerror(-r));
			fb_session_exit(se);
			break;
		}
	}

	while (atomic_load(&running) > 0) {
		struct pollfd p = {.fd = se->exit_fd, .events = POLLIN};
		uint64_t v;
		ssize_t n;

		if (atomic_load(&se->exit_requested) && !stopping) {
			stopping = 1;
			stop_mount(se);
		}
		if (poll(&p, 1, stopping ? 1000 : -1) == 0 && atomic_load(&running) > 0) {
			/* Still blocked a second after unmounting: end the connection harder. */
			if (!waited++)
				fb_log(FB_LOG_WARNING,
				       "workers still busy after unmount; aborting");
			fb__abort_conn(se->conn_id);
		}
		n = read(se->exit_fd, &v, sizeof(v));
		(void)n;
	}
	for (unsigned int i = 0; i < started; i++) {
		pthread_join(workers[i].thread, NULL);
		if (!r && workers[i].err)
			r = workers[i].err;
	}
	/* Unmounted from outside, or the connection was aborted: drop a leftover mount. */
	if (!stopping)
		fb_session_unmount(se, 1);

out_free_channels:
	for (unsigned int i = 0; i < nthreads; i++)
		fb_channel_free(workers[i].ch);
	free(workers);
	return r;
}
