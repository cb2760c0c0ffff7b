/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Passthrough waiting locks answered later: a SETLKW (and a blocking flock) whose lock is
 * taken returns at once to the transport and is answered from the passthrough's waiter when
 * the lock comes, with EINTR when the request is interrupted; cancellation and
 * fb_passthrough_free() with waits still going on neither hang nor leak.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fuse_backend/passthrough.h>

#include "harness.h"
#include "fbreq.h"

#define REPCAP (sizeof(struct fb_out_header) + 256)

/* One request's reply memory, as a transport keeps it while the request is deferred. */
struct slot {
	uint8_t buf[REPCAP];
	struct iovec iov;
	struct fb_writer w;
	atomic_int completed;
	atomic_long len;
};

static void t_complete(void *priv, void *token, ssize_t len)
{
	struct slot *sl = token;

	(void)priv;
	atomic_store(&sl->len, (long)len);
	atomic_fetch_add(&sl->completed, 1);
}

static const struct fb_transport_ops tops = {
	.size = sizeof(tops),
	.complete = t_complete,
};

static char src[64];
static struct fb_ctx root_ctx = {.uid = 0, .gid = 0, .umask = 022};

static void slot_init(struct slot *sl)
{
	memset(sl, 0, sizeof(*sl));
	sl->iov.iov_base = sl->buf;
	sl->iov.iov_len = sizeof(sl->buf);
	fb_writer_init(&sl->w, &sl->iov, 1);
}

static ssize_t send_async(struct fb_server *srv, struct fbreq *q, struct slot *sl)
{
	struct fb_reader r;
	struct iovec v;

	fbreq_finish(q);
	v.iov_base = q->buf;
	v.iov_len = q->len;
	fb_reader_init(&r, &v, 1);
	return fb_server_handle_async(srv, &r, &sl->w, sl);
}

/* SETLKW (or a blocking flock with @flock) of [0, 10] on @fh, as request @unique. */
static ssize_t setlkw(struct fb_server *srv, struct slot *sl, uint64_t unique, fb_ino_t ino,
		      uint64_t fh, int flock)
{
	struct fb_lk_in in = {.fh = fh, .owner = unique, .lk = {.end = 10, .type = F_WRLCK}};
	struct fbreq q = {0};
	ssize_t n;

	if (flock)
		in.lk_flags = FB_LK_FLOCK;
	slot_init(sl);
	fbreq_start(&q, FB_SETLKW, unique, ino);
	fbreq_put(&q, &in, sizeof(in));
	n = send_async(srv, &q, sl);
	fbreq_free(&q);
	return n;
}

static void interrupt(struct fb_server *srv, uint64_t unique)
{
	struct fb_interrupt_in in = {.unique = unique};
	struct fbreq q = {0};
	struct slot sl;

	slot_init(&sl);
	fbreq_start(&q, FB_INTERRUPT, 1000 + unique, 0);
	fbreq_put(&q, &in, sizeof(in));
	send_async(srv, &q, &sl);
	fbreq_free(&q);
}

/* Wait up to @ms for @sl's reply; its error (0 for success), or 1 when none came. */
static int reply_within(struct slot *sl, long ms)
{
	struct fb_out_header oh;

	for (long t = 0; t < ms && !atomic_load(&sl->completed); t += 2)
		usleep(2000);
	if (!atomic_load(&sl->completed))
		return 1;
	if (atomic_load(&sl->len) < (long)sizeof(oh))
		return -1000; /* dropped (cancelled) */
	memcpy(&oh, sl->buf, sizeof(oh));
	return oh.error;
}

struct fixture {
	struct fb_passthrough *pt;
	struct fb_server *srv;
	struct fb_entry e;
	uint64_t fh1, fh2;
	int host_fd;	/* the file on the host, for a lock held outside the mount */
};

static int fixture_new(struct fixture *f)
{
	struct fb_passthrough_config cfg;
	struct fb_file_info fi = {0};
	struct fbrep rep;
	char path[128];

	memset(f, 0, sizeof(*f));
	snprintf(src, sizeof(src), "/tmp/fb-ptlock-%d", (int)getpid());
	mkdir(src, 0755);
	fb_passthrough_config_init(&cfg);
	cfg.source = src;
	cfg.posix_locks = 1;
	if (fb_passthrough_new(&cfg, &f->pt) < 0)
		return -1;
	if (fb_server_new(&fb_passthrough_ops, sizeof(fb_passthrough_ops), f->pt, NULL,
			  &f->srv) < 0)
		return -1;
	fb_server_set_transport(f->srv, &tops, NULL);
	fbrep_init(&rep, 0);
	if (fbreq_init_session(f->srv, 45, FBREQ_ALL_FLAGS, &rep) != 0)
		return -1;
	fbrep_free(&rep);
	if (fb_passthrough_ops.create(f->pt, &root_ctx, FB_ROOT_ID, "f", 0644, O_RDWR | O_CREAT,
				      &f->e, &fi) < 0)
		return -1;
	f->fh1 = fi.fh;
	fi = (struct fb_file_info){0};
	if (fb_passthrough_ops.open(f->pt, &root_ctx, f->e.ino, O_RDWR, &fi) < 0)
		return -1;
	f->fh2 = fi.fh;
	snprintf(path, sizeof(path), "%s/f", src);
	f->host_fd = open(path, O_RDWR);
	return f->host_fd < 0 ? -1 : 0;
}

static void fixture_free(struct fixture *f)
{
	char path[128];

	fb_server_cancel_deferred(f->srv);
	/* As the kernel does, whatever the waiters still hold. (Handles still open at free
	 * are a separate matter: fb__pt_tables_done() frees inodes before handles.) */
	fb_passthrough_ops.release(f->pt, &root_ctx, f->e.ino, f->fh1, O_RDWR, 0, 0);
	fb_passthrough_ops.release(f->pt, &root_ctx, f->e.ino, f->fh2, O_RDWR, 0, 0);
	fb_passthrough_ops.forget(f->pt, f->e.ino, 1);
	fb_server_free(f->srv);
	fb_passthrough_free(f->pt);
	close(f->host_fd);
	snprintf(path, sizeof(path), "%s/f", src);
	unlink(path);
	rmdir(src);
}

static int host_lock(int fd, short type)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_len = 11};

	return fcntl(fd, F_OFD_SETLK, &fl);
}

TEST(waiting_lock_is_answered_when_the_lock_comes)
{
	struct fixture f;
	struct slot sl;

	CHECK_EQ(fixture_new(&f), 0);
	CHECK_OK(host_lock(f.host_fd, F_WRLCK));
	/* The transport's thread is back at once; no reply yet. */
	CHECK_EQ(setlkw(f.srv, &sl, 10, f.e.ino, f.fh1, 0), -EINPROGRESS);
	CHECK_EQ(reply_within(&sl, 100), 1);
	CHECK_OK(host_lock(f.host_fd, F_UNLCK));
	CHECK_EQ(reply_within(&sl, 2000), 0);
	/* The passthrough's file holds it now. */
	CHECK_ERR(host_lock(f.host_fd, F_WRLCK), -EAGAIN);
	fixture_free(&f);
}

TEST(waiting_lock_interrupted_gets_eintr)
{
	struct timespec t0, t1;
	struct fixture f;
	struct slot sl;
	long ms;

	CHECK_EQ(fixture_new(&f), 0);
	CHECK_OK(host_lock(f.host_fd, F_WRLCK));
	CHECK_EQ(setlkw(f.srv, &sl, 11, f.e.ino, f.fh1, 0), -EINPROGRESS);
	usleep(20000); /* the waiter is in fcntl() by now, most likely */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	interrupt(f.srv, 11);
	CHECK_EQ(reply_within(&sl, 1000), -EINTR);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK(ms < 1000);
	CHECK_EQ(atomic_load(&sl.completed), 1);
	/* An interrupt right away (the waiter may not have started yet) works too. */
	CHECK_EQ(setlkw(f.srv, &sl, 12, f.e.ino, f.fh2, 0), -EINPROGRESS);
	interrupt(f.srv, 12);
	CHECK_EQ(reply_within(&sl, 1000), -EINTR);
	fixture_free(&f);
}

TEST(flock_waits_then_gets_the_lock)
{
	struct fixture f;
	struct slot sl;

	CHECK_EQ(fixture_new(&f), 0);
	CHECK_OK(flock(f.host_fd, LOCK_EX));
	CHECK_EQ(setlkw(f.srv, &sl, 13, f.e.ino, f.fh2, 1), -EINPROGRESS);
	CHECK_EQ(reply_within(&sl, 100), 1);
	CHECK_OK(flock(f.host_fd, LOCK_UN));
	CHECK_EQ(reply_within(&sl, 2000), 0);
	CHECK_ERR(flock(f.host_fd, LOCK_EX | LOCK_NB), -EWOULDBLOCK);
	fixture_free(&f);
}

/* Cancellation (unmount) and free with 20 waits going on: no hang, nothing leaked. */
TEST(free_with_waiting_locks)
{
	struct slot *sl = calloc(20, sizeof(*sl));
	struct fixture f;

	CHECK(sl);
	CHECK_EQ(fixture_new(&f), 0);
	CHECK_OK(host_lock(f.host_fd, F_WRLCK));
	for (int i = 0; i < 20; i++)
		CHECK_EQ(setlkw(f.srv, &sl[i], 100 + i, f.e.ino, i % 2 ? f.fh1 : f.fh2, 0),
			 -EINPROGRESS);
	usleep(20000);
	fixture_free(&f); /* cancels, wakes and joins */
	for (int i = 0; i < 20; i++)
		CHECK_EQ(atomic_load(&sl[i].completed), 1);
	free(sl);
}

TEST_MAIN()
