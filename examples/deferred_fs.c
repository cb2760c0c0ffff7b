/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * deferred_fs: reads answered later, from a small pool of threads, as a daemon whose data
 * comes from the network or a disk queue would answer them. The daemon's own threads only
 * hand requests over (fb_ctx_defer(), FB_REPLY_LATER), so 2 of them keep thousands of reads in
 * flight.
 *
 *   deferred_fs [-d] [-o io_uring,OPTION...] [-t THREADS] [-p POOL] [--delay-us N]
 *               [--hold N] [--sync] MOUNTPOINT
 *
 * The root holds two read-only files of 1 GiB whose byte at offset i is deferred_fs_byte(i):
 *   data   each read is answered after --delay-us microseconds (default 1000)
 *   slow   each read waits until it is interrupted (a signal to the reader) or unmounted
 * -o: io_uring (queues of FB_URING_DEPTH_MAX entries: a deferred read holds its entry until
 * answered), and mount options (max_read=4096 splits each read into 4 KiB requests).
 * -t: daemon threads serving /dev/fuse (default 2); -p: pool threads answering (default 2);
 * --hold N: answer no read of "data" until N reads wait at once (or 10 s passed): shows that
 * the daemon holds N requests at a time whatever the machine's load.
 * --sync: no deferring: each read sleeps on the daemon thread that received it (the model of a
 * daemon that needs a thread per waiting request; give it -t 1000 to compare).
 * Read "data" with O_DIRECT to reach the daemon every time ("slow" is direct-I/O always).
 * At exit it prints "deferred_fs: peak N reads in flight, M answered, K interrupted".
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/fusedev.h>
#include <fuse_backend/server.h>
#include <fuse_backend/uring.h>

#define DATA_INO  2
#define SLOW_INO  3
#define FILE_SIZE (1ull << 30)

/* The content of both files. */
static inline uint8_t deferred_fs_byte(uint64_t off)
{
	return (uint8_t)((off * 7) ^ (off >> 12));
}

/* A read waiting for its time. */
struct pending {
	struct pending *next;
	struct fb_req *req;
	uint64_t due_ns; /* UINT64_MAX: only an interrupt or the end answers it */
	uint64_t off;
	uint32_t size;
};

struct dfs {
	uint64_t delay_ns;
	int sync;	   /* --sync: no deferring */
	unsigned int hold; /* --hold N: answer no read of "data" before N wait at once */

	pthread_mutex_t lock; /* protects the fields below */
	pthread_cond_t cond;  /* a read was queued, interrupted, or the pool must stop */
	struct pending *head; /* due in order (one delay for all): a FIFO */
	struct pending **tail;
	struct pending *slow; /* reads of "slow" */
	int scan;	      /* an interrupt came: look for interrupted reads */
	int released;	      /* --hold: N were waiting at once (or 10 s passed) */
	int stop;
	unsigned int in_flight;
	unsigned int peak;
	unsigned long answered;
	unsigned long interrupted;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int dfs_stat(fb_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = getuid();
	st->st_gid = getgid();
	if (ino == FB_FS_ROOT_INO) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
	} else if (ino == DATA_INO || ino == SLOW_INO) {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)FILE_SIZE;
	} else {
		return -ENOENT;
	}
	return 0;
}

static int dfs_lookup(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		      struct fb_entry *out)
{
	if (parent != FB_FS_ROOT_INO)
		return -ENOENT;
	if (strcmp(name, "data") == 0)
		out->ino = DATA_INO;
	else if (strcmp(name, "slow") == 0)
		out->ino = SLOW_INO;
	else
		return -ENOENT;
	out->entry_timeout = out->attr_timeout = 3600;
	return dfs_stat(out->ino, &out->attr);
}

static int dfs_getattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino,
		       const struct fb_file_info *fi, struct stat *out, double *timeout)
{
	*timeout = 3600;
	return dfs_stat(ino, out);
}

static int dfs_open(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		    struct fb_file_info *fi)
{
	if (ino != DATA_INO && ino != SLOW_INO)
		return -EISDIR;
	if ((flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	/* Reads of "slow" are plain synchronous requests, which a signal interrupts (the
	 * kernel waits for O_DIRECT reads split into background requests uninterruptibly). */
	if (ino == SLOW_INO)
		fi->open_flags = FB_FOPEN_DIRECT_IO;
	return 0;
}

static void fill(uint8_t *buf, uint64_t off, uint32_t size)
{
	for (uint32_t i = 0; i < size; i++)
		buf[i] = deferred_fs_byte(off + i);
}

static uint32_t clamp_size(uint64_t off, uint32_t size)
{
	if (off >= FILE_SIZE)
		return 0;
	return FILE_SIZE - off < size ? (uint32_t)(FILE_SIZE - off) : size;
}

/* The kernel interrupted a read (or the session ended): let the pool answer it now. */
static void dfs_interrupted(struct fb_req *req, void *priv)
{
	struct dfs *d = priv;

	pthread_mutex_lock(&d->lock);
	d->scan = 1;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

static int dfs_read(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		    struct fb_writer *w, uint32_t size, uint64_t off, int flags)
{
	struct dfs *d = fs;
	struct pending *p;
	struct fb_req *req;

	size = clamp_size(off, size);
	if (d->sync) {
		struct timespec ts = {.tv_sec = (time_t)(d->delay_ns / 1000000000u),
				      .tv_nsec = (long)(d->delay_ns % 1000000000u)};
		uint8_t buf[4096];
		uint32_t done = 0;

		nanosleep(&ts, NULL);
		while (done < size) {
			uint32_t n = size - done < sizeof(buf) ? size - done : sizeof(buf);

			fill(buf, off + done, n);
			if (fb_writer_write(w, buf, n) < 0)
				return -EIO;
			done += n;
		}
		return (int)size;
	}
	req = fb_ctx_defer(ctx);
	p = req ? malloc(sizeof(*p)) : NULL;
	if (!p) {
		/* Cannot answer later (no memory, or a transport that cannot): say so now. */
		if (req)
			fb_req_reply_err(req, -ENOMEM);
		return req ? FB_REPLY_LATER : -EOPNOTSUPP;
	}
	p->req = req;
	p->off = off;
	p->size = size;
	p->next = NULL;
	fb_req_on_interrupt(req, dfs_interrupted, d);
	pthread_mutex_lock(&d->lock);
	if (ino == SLOW_INO) {
		p->due_ns = UINT64_MAX;
		p->next = d->slow;
		d->slow = p;
	} else {
		p->due_ns = now_ns() + d->delay_ns;
		*d->tail = p;
		d->tail = &p->next;
	}
	if (++d->in_flight > d->peak)
		d->peak = d->in_flight;
	if (d->hold && !d->released && d->in_flight >= d->hold)
		d->released = 1;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	return FB_REPLY_LATER;
}

/* Take the interrupted reads off both lists (caller holds the lock). */
static struct pending *take_interrupted(struct dfs *d)
{
	struct pending *out = NULL, **pp;
	struct pending **lists[2] = {&d->head, &d->slow};

	for (int l = 0; l < 2; l++) {
		for (pp = lists[l]; *pp;) {
			struct pending *p = *pp;

			if (!fb_req_interrupted(p->req)) {
				pp = &p->next;
				continue;
			}
			*pp = p->next;
			p->next = out;
			out = p;
		}
	}
	d->tail = &d->head;
	while (*d->tail)
		d->tail = &(*d->tail)->next;
	return out;
}

/* A pool thread: answers reads when they are due, interrupted ones at once. */
static void *dfs_pool(void *arg)
{
	struct dfs *d = arg;
	uint8_t *buf = malloc(1 << 20);

	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		struct pending *p = NULL, *intr = NULL;
		uint64_t now = now_ns();

		if (d->scan) {
			d->scan = 0;
			intr = take_interrupted(d);
		} else if (d->head && d->head->due_ns <= now && (!d->hold || d->released)) {
			p = d->head;
			d->head = p->next;
			if (!d->head)
				d->tail = &d->head;
		} else if (d->head) {
			uint64_t t = d->head->due_ns;
			struct timespec ts;

			if (d->hold && !d->released) {
				/* Held: until enough wait, or 10 s after the first was due. */
				t += 10000000000ull;
				if (now >= t) {
					d->released = 1;
					continue;
				}
			}
			/* pthread_cond_timedwait wants CLOCK_REALTIME: convert the wait. */
			clock_gettime(CLOCK_REALTIME, &ts);
			t = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + (t - now);
			ts.tv_sec = (time_t)(t / 1000000000u);
			ts.tv_nsec = (long)(t % 1000000000u);
			pthread_cond_timedwait(&d->cond, &d->lock, &ts);
			continue;
		} else {
			pthread_cond_wait(&d->cond, &d->lock);
			continue;
		}
		pthread_mutex_unlock(&d->lock);
		while (intr) {
			struct pending *n = intr->next;

			/* -ECANCELED when the session ended: the handle is gone all the same. */
			fb_req_reply_err(intr->req, -EINTR);
			free(intr);
			intr = n;
			pthread_mutex_lock(&d->lock);
			d->in_flight--;
			d->interrupted++;
			pthread_mutex_unlock(&d->lock);
		}
		if (p) {
			struct iovec v = {buf, p->size};

			fill(buf, p->off, p->size);
			fb_req_reply_data(p->req, &v, 1);
			free(p);
		}
		pthread_mutex_lock(&d->lock);
		if (p) {
			d->in_flight--;
			d->answered++;
		}
	}
	pthread_mutex_unlock(&d->lock);
	free(buf);
	return NULL;
}

/* Stop the pool; reads still waiting are answered -EINTR (dropped when cancelled). */
static void dfs_pool_stop(struct dfs *d, pthread_t *threads, unsigned int n)
{
	struct pending *p, *next;

	pthread_mutex_lock(&d->lock);
	d->stop = 1;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	for (unsigned int i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	for (int l = 0; l < 2; l++) {
		for (p = l ? d->slow : d->head; p; p = next) {
			next = p->next;
			fb_req_reply_err(p->req, -EINTR);
			free(p);
		}
	}
	d->head = d->slow = NULL;
}

static int dfs_init(void *fs, struct fb_conn *conn)
{
	/* Many reads in flight: let the kernel queue as many background requests. */
	conn->max_background = 4096;
	conn->congestion_threshold = 3072;
	return 0;
}

static const struct fb_fs_ops dfs_ops = {
	.init = dfs_init,
	.lookup = dfs_lookup,
	.getattr = dfs_getattr,
	.open = dfs_open,
	.read = dfs_read,
};

#ifndef DEFERRED_FS_NO_MAIN
static struct fb_session *volatile session;

static void on_signal(int sig)
{
	struct fb_session *se = session;

	if (se)
		fb_session_exit(se);
}

static int usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-d] [-o io_uring,max_read=N,...] [-t THREADS] [-p POOL] "
		"[--delay-us N] [--hold N] [--sync] MOUNTPOINT\n",
		argv0);
	return 2;
}

int main(int argc, char **argv)
{
	struct dfs d = {.delay_ns = 1000000};
	struct fb_server_config cfg = {.max_background = 4096};
	struct fb_mount_opts mo = {.fsname = "deferred_fs", .subtype = "deferred"};
	struct sigaction sa = {.sa_handler = on_signal};
	unsigned int threads = 2, pool = 2;
	struct fb_uring_opts uo = {0};
	struct fb_uring *ur = NULL;
	struct fb_server *server;
	struct fb_session *se;
	pthread_t *pt;
	const char *mnt = NULL;
	int use_uring = 0, r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-d") == 0)
			cfg.debug = 1;
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			/* io_uring, or mount options (max_read=N, allow_other, ...) */
			for (char *o = strtok(argv[++i], ","); o; o = strtok(NULL, ",")) {
				char *v = strchr(o, '=');

				if (v)
					*v++ = '\0';
				if (strcmp(o, "io_uring") == 0)
					use_uring = 1;
				else if (fb_mount_opts_set(&mo, o, v) < 0)
					return usage(argv[0]);
			}
		} else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
			threads = (unsigned int)atoi(argv[++i]);
		else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc)
			pool = (unsigned int)atoi(argv[++i]);
		else if (strcmp(argv[i], "--delay-us") == 0 && i + 1 < argc)
			d.delay_ns = strtoull(argv[++i], NULL, 10) * 1000;
		else if (strcmp(argv[i], "--hold") == 0 && i + 1 < argc)
			d.hold = (unsigned int)atoi(argv[++i]);
		else if (strcmp(argv[i], "--sync") == 0)
			d.sync = 1;
		else if (argv[i][0] != '-' && !mnt)
			mnt = argv[i];
		else
			return usage(argv[0]);
	}
	if (!mnt || !threads || !pool)
		return usage(argv[0]);
	if (use_uring) {
		/* A deferred request keeps its ring entry until answered: many small entries. */
		uo.depth = FB_URING_DEPTH_MAX;
		cfg.max_write = 8192;
	}
	pthread_mutex_init(&d.lock, NULL);
	pthread_cond_init(&d.cond, NULL);
	d.tail = &d.head;
	pt = calloc(pool, sizeof(*pt));
	for (unsigned int i = 0; i < pool; i++)
		pthread_create(&pt[i], NULL, dfs_pool, &d);

	r = fb_server_new(&dfs_ops, sizeof(dfs_ops), &d, &cfg, &server);
	if (r < 0)
		goto out;
	r = fb_session_new(server, &se);
	if (r < 0)
		goto out_free_server;
	if (use_uring && fb_uring_new(se, &uo, &ur) < 0)
		ur = NULL; /* logged; /dev/fuse serves */
	session = se;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	r = fb_session_mount(se, mnt, &mo);
	if (r == 0)
		r = fb_session_loop(se, threads);
	session = NULL;
	fb_uring_free(ur);
	fb_session_free(se);
out_free_server:
	fb_server_free(server);
out:
	dfs_pool_stop(&d, pt, pool);
	free(pt);
	printf("deferred_fs: peak %u reads in flight, %lu answered, %lu interrupted\n", d.peak,
	       d.answered, d.interrupted);
	if (r < 0)
		fprintf(stderr, "deferred_fs: %s\n", strerror(-r));
	return r < 0 ? 1 : 0;
}
#endif /* DEFERRED_FS_NO_MAIN */
