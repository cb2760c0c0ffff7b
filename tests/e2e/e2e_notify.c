/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Notifications and interrupts against the real kernel.
 *
 * The binary mounts, in process, a small test file system (memfs with some operations wrapped:
 * 3600 s entry and attribute timeouts, KEEP_CACHE on every open, READs counted, special files
 * whose read waits, a file whose poll says "not ready") and serves it with fb_session_loop()
 * on a thread. Each test changes the file system behind the kernel's back by calling memfs
 * directly, checks through ordinary system calls that the kernel still shows its cached view,
 * sends a notification and checks that the view changed:
 *   inval_entry (plain and EXPIRE_ONLY), delete (file and directory), inval_inode
 *   (attributes, a data range), store (no READ reaches the file system), retrieve (the
 *   callback gets the cached bytes), poll (a poll(2) waiting in another process wakes up),
 *   inc_epoch, prune, resend (a held request comes back with FB_UNIQUE_RESEND and is
 *   answered), and 4 threads each sending at least 1000 mixed notifications (for at least a
 *   second) while another process's requests are served and their answers checked.
 * Interrupts: a read that polls fb_ctx_interrupted() ends with EINTR within a second of the
 * caller's signal; a read that ignores the interrupt and answers after the caller was killed
 * does no harm.
 * The interrupt, store/retrieve and poll tests run again over FUSE over io_uring when the
 * build has it and /sys/module/fuse/parameters/enable_uring is Y.
 * File work that may block runs in child processes, so a hang cannot stall the test.
 */
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/fusedev.h>
#include <fuse_backend/memfs.h>
#include <fuse_backend/server.h>
#include <fuse_backend/uring.h>

#include "harness.h"
#include "e2e_util.h"

#define TIMEOUT_S   3600.0
#define URING_PARAM "/sys/module/fuse/parameters/enable_uring"

/* ------------------------------------------------------------------------------------------
 * The test file system: memfs plus hooks. Its state is global; the ops get the memfs as `fs`.
 */
enum slow_mode {
	SLOW_INTR = 1, /* wait up to 10 s, return -EINTR once interrupted */
	SLOW_IGNORE,   /* ignore the interrupt; answer when released (a late reply) */
	SLOW_HOLD,     /* hold the first request until released; answer a resend at once */
};

static struct {
	struct fb_memfs *m;
	struct fb_server *srv;
	atomic_uint reads;	/* READ requests that reached the file system */
	atomic_uint polls;	/* POLL requests */
	atomic_ullong slow_ino; /* reads of this inode wait (slow_mode) */
	atomic_int slow_mode;
	atomic_int slow_entered;     /* slow reads started */
	atomic_int slow_saw_intr;    /* ... and saw fb_ctx_interrupted() */
	atomic_int slow_returned;    /* ... and returned */
	atomic_int release;	     /* SLOW_IGNORE / SLOW_HOLD: answer now */
	atomic_ullong hold_unique;   /* SLOW_HOLD: unique of the first request */
	atomic_ullong resend_unique; /* SLOW_HOLD: unique of the resent request */
	atomic_ullong poll_ino;	     /* POLL on this inode is "not ready" until poll_ready */
	atomic_int poll_ready;
	atomic_int poll_kh_set;
	atomic_ullong poll_kh;
	atomic_ullong watch_ino; /* forget of this inode sets watch_forgotten */
	atomic_int watch_forgotten;
} T;

static struct fb_fs_ops tfs_ops;

static int t_init(void *fs, struct fb_conn *conn)
{
	(void)fs;
	/* Cached data must stay until a notification drops it, whatever mtime does. */
	conn->want &= ~FB_AUTO_INVAL_DATA;
	return 0;
}

static void t_forget(void *fs, fb_ino_t ino, uint64_t nlookup)
{
	if (ino == atomic_load(&T.watch_ino))
		atomic_store(&T.watch_forgotten, 1);
	fb_memfs_ops.forget(fs, ino, nlookup);
}

static int t_open(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		  struct fb_file_info *fi)
{
	int r = fb_memfs_ops.open(fs, ctx, ino, flags, fi);

	if (r < 0)
		return r;
	fi->open_flags |= FB_FOPEN_KEEP_CACHE;
	/* Slow reads must be synchronous requests (interruptible), not page-cache fills. */
	if (ino == atomic_load(&T.slow_ino))
		fi->open_flags |= FB_FOPEN_DIRECT_IO;
	return 0;
}

/* Wait up to @ms for @flag, checking every 10 ms (and @ctx's interrupt when @intr). */
static int wait_flag(atomic_int *flag, const struct fb_ctx *ctx, int intr, long ms)
{
	for (long t = 0; t < ms; t += 10) {
		if (atomic_load(flag))
			return 1;
		if (intr && fb_ctx_interrupted(ctx))
			return -EINTR;
		e2e_sleep_ms(10);
	}
	return 0;
}

static int t_read(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		  struct fb_writer *w, uint32_t size, uint64_t off, int flags)
{
	static atomic_int never;
	char fill = 0;
	int r;

	atomic_fetch_add(&T.reads, 1);
	if (ino != atomic_load(&T.slow_ino))
		return fb_memfs_ops.read(fs, ctx, ino, fh, w, size, off, flags);
	switch (atomic_load(&T.slow_mode)) {
	case SLOW_INTR:
		atomic_fetch_add(&T.slow_entered, 1);
		r = wait_flag(&never, ctx, 1, 10000);
		if (r == -EINTR)
			atomic_store(&T.slow_saw_intr, 1);
		atomic_store(&T.slow_returned, 1);
		if (r == -EINTR)
			return -EINTR;
		fill = 'S';
		break;
	case SLOW_IGNORE:
		atomic_fetch_add(&T.slow_entered, 1);
		wait_flag(&T.release, ctx, 0, 10000);
		if (fb_ctx_interrupted(ctx))
			atomic_store(&T.slow_saw_intr, 1);
		atomic_store(&T.slow_returned, 1);
		fill = 'L';
		break;
	case SLOW_HOLD:
		if (ctx->unique & FB_UNIQUE_RESEND) {
			atomic_store(&T.resend_unique, ctx->unique);
			fill = 'R';
			break;
		}
		atomic_store(&T.hold_unique, ctx->unique);
		atomic_fetch_add(&T.slow_entered, 1);
		wait_flag(&T.release, ctx, 0, 10000);
		atomic_store(&T.slow_returned, 1);
		fill = 'O';
		break;
	default:
		return fb_memfs_ops.read(fs, ctx, ino, fh, w, size, off, flags);
	}
	if (size > 64)
		size = 64;
	for (uint32_t i = 0; i < size; i++) {
		r = fb_writer_write(w, &fill, 1);
		if (r < 0)
			return r;
	}
	return (int)size;
}

static int t_poll(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t kh,
		  uint32_t flags, uint32_t events, uint32_t *revents)
{
	(void)fs;
	(void)ctx;
	(void)fh;
	atomic_fetch_add(&T.polls, 1);
	if (ino != atomic_load(&T.poll_ino)) {
		*revents = events & (POLLIN | POLLOUT);
		return 0;
	}
	*revents = atomic_load(&T.poll_ready) ? events & POLLIN : 0;
	if (!*revents && (flags & FB_POLL_SCHEDULE_NOTIFY)) {
		atomic_store(&T.poll_kh, kh);
		atomic_store(&T.poll_kh_set, 1);
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------
 * Retrieve callback: keeps the last NOTIFY_REPLY.
 */
static pthread_mutex_t ret_lock = PTHREAD_MUTEX_INITIALIZER; /* protects ret_* below */
static pthread_cond_t ret_cond = PTHREAD_COND_INITIALIZER;
static int ret_got;
static uint64_t ret_cookie, ret_off;
static fb_ino_t ret_ino;
static uint32_t ret_size;
static char ret_data[16384];

static void t_retrieve(void *priv, uint64_t cookie, fb_ino_t ino, uint64_t off,
		       struct fb_reader *data, uint32_t size)
{
	(void)priv;
	pthread_mutex_lock(&ret_lock);
	ret_cookie = cookie;
	ret_ino = ino;
	ret_off = off;
	ret_size = size;
	memset(ret_data, 0, sizeof(ret_data));
	if (size <= sizeof(ret_data) && fb_reader_read(data, ret_data, size) < 0)
		ret_size = UINT32_MAX;
	ret_got = 1;
	pthread_cond_broadcast(&ret_cond);
	pthread_mutex_unlock(&ret_lock);
}

/* ------------------------------------------------------------------------------------------
 * The mount: one per test, torn down by the next test or the teardown if a check failed.
 */
static struct {
	char dir[128];
	struct fb_session *se;
	struct fb_uring *ur;
	pthread_t loop;
	int loop_running;
} M;

static void *loop_thread(void *arg)
{
	(void)arg;
	fb_session_loop(M.se, 4);
	return NULL;
}

static void mnt_down(void)
{
	if (M.loop_running) {
		atomic_store(&T.release, 1);
		fb_session_exit(M.se);
		pthread_join(M.loop, NULL);
		M.loop_running = 0;
	}
	fb_uring_free(M.ur);
	fb_session_free(M.se);
	fb_server_free(T.srv);
	fb_memfs_free(T.m);
	if (M.dir[0])
		rmdir(M.dir);
	memset(&M, 0, sizeof(M));
	T.srv = NULL;
	T.m = NULL;
}

static char uring_param(void)
{
	char v = 0;
	int fd = open(URING_PARAM, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (read(fd, &v, 1) != 1)
		v = 0;
	close(fd);
	return v;
}

/* Path of @name in the mount (a static buffer per call slot). */
static const char *P(const char *name)
{
	static char buf[4][256];
	static int slot;

	slot = (slot + 1) % 4;
	snprintf(buf[slot], sizeof(buf[slot]), "%s/%s", M.dir, name);
	return buf[slot];
}

/* Mount a fresh test file system; @uring: serve over FUSE over io_uring (SKIPs if not). */
static void mnt_up(int uring)
{
	struct fb_memfs_config mc = {.entry_timeout = TIMEOUT_S, .attr_timeout = TIMEOUT_S};
	struct fb_uring_opts uo = {.depth = 4};
	struct stat st;

	mnt_down();
	memset(&T, 0, sizeof(T));
	if (uring) {
#ifndef FB_HAVE_URING
		SKIP("built without liburing");
#endif
		if (uring_param() != 'Y')
			SKIP("FUSE over io_uring is off (%s)", URING_PARAM);
	}
	CHECK_OK(e2e_tempdir("notify", M.dir, sizeof(M.dir)));
	CHECK_OK(fb_memfs_new(&mc, &T.m));
	CHECK_OK(fb_server_new(&tfs_ops, sizeof(tfs_ops), T.m, NULL, &T.srv));
	fb_server_set_retrieve_cb(T.srv, t_retrieve, NULL);
	CHECK_OK(fb_session_new(T.srv, &M.se));
	if (uring)
		CHECK_OK(fb_uring_new(M.se, &uo, &M.ur));
	CHECK_OK(fb_session_mount(M.se, M.dir, NULL));
	CHECK_EQ(pthread_create(&M.loop, NULL, loop_thread, NULL), 0);
	M.loop_running = 1;
	CHECK_OK(stat(M.dir, &st)); /* waits for INIT */
	if (uring) {
		struct fb_uring_stats us = {0};

		for (int i = 0; i < 200 && !us.active; i++) {
			fb_uring_stats(M.ur, &us);
			if (!us.active)
				e2e_sleep_ms(10);
		}
		CHECK(us.active);
	}
}

/* A fake context for calls straight into memfs (behind the kernel's back). */
static struct fb_ctx root_ctx(void)
{
	return (struct fb_ctx){.uid = 0, .gid = 0, .server = T.srv};
}

/* The node id of @name in the root, looked up in memfs (the lookup is given back). */
static fb_ino_t fs_ino(const char *name)
{
	struct fb_ctx c = root_ctx();
	struct fb_entry e;

	if (fb_memfs_ops.lookup(T.m, &c, FB_ROOT_ID, name, &e) < 0)
		return 0;
	fb_memfs_ops.forget(T.m, e.ino, 1);
	return e.ino;
}

static int fs_unlink(const char *name)
{
	struct fb_ctx c = root_ctx();

	return fb_memfs_ops.unlink(T.m, &c, FB_ROOT_ID, name);
}

static int fs_truncate(fb_ino_t ino, off_t size)
{
	struct fb_ctx c = root_ctx();
	struct stat in = {.st_size = size}, out;
	double t;

	return fb_memfs_ops.setattr(T.m, &c, ino, &in, FB_FATTR_SIZE, NULL, &out, &t);
}

static int fs_pwrite(fb_ino_t ino, const void *data, size_t len, uint64_t off)
{
	struct fb_ctx c = root_ctx();
	struct fb_file_info fi = {0};
	struct iovec iov = {(void *)data, len};
	struct fb_reader rd;
	int r;

	r = fb_memfs_ops.open(T.m, &c, ino, O_RDWR, &fi);
	if (r < 0)
		return r;
	fb_reader_init(&rd, &iov, 1);
	r = fb_memfs_ops.write(T.m, &c, ino, fi.fh, &rd, (uint32_t)len, off, 0, O_RDWR);
	fb_memfs_ops.release(T.m, &c, ino, fi.fh, O_RDWR, 0, 0);
	return r;
}

/* Create @name in the mount with @len bytes of @fill. */
static int mk_file(const char *name, char fill, size_t len)
{
	char buf[8192];
	int fd = open(P(name), O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return -errno;
	memset(buf, fill, sizeof(buf));
	for (size_t done = 0; done < len;) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);
		ssize_t w = write(fd, buf, n);

		if (w <= 0) {
			close(fd);
			return -EIO;
		}
		done += (size_t)w;
	}
	return close(fd) < 0 ? -errno : 0;
}

static int all_are(const char *buf, size_t len, char c)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != c)
			return 0;
	return 1;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Wait up to @ms for *@flag. */
static int wait_set(atomic_int *flag, long ms)
{
	for (long t = 0; t <= ms; t += 10) {
		if (atomic_load(flag))
			return 1;
		e2e_sleep_ms(10);
	}
	return 0;
}

/* The mount still answers: create, write, read back, stat, unlink. */
static void check_mount_works(void)
{
	char buf[100];
	struct stat st;
	int fd;

	CHECK_OK(mk_file("alive", 'z', 100));
	CHECK_OK(fd = open(P("alive"), O_RDONLY));
	CHECK_EQ(read(fd, buf, sizeof(buf)), 100);
	close(fd);
	CHECK(all_are(buf, 100, 'z'));
	CHECK_OK(stat(P("alive"), &st));
	CHECK_EQ(st.st_size, 100);
	CHECK_OK(unlink(P("alive")));
	CHECK_ERR(stat(P("alive"), &st), -ENOENT);
}

/* Over io_uring: the requests did go over the rings. */
static void check_rings_used(void)
{
	struct fb_uring_stats us = {0};

	if (!M.ur)
		return;
	fb_uring_stats(M.ur, &us);
	printf("# %" PRIu64 " requests over the rings\n", us.requests);
	CHECK(us.active);
	CHECK(us.requests > 0);
}

/* ------------------------------------------------------------------------------------------
 * Entries
 */
static void inval_entry_case(uint32_t flags)
{
	struct stat st;
	fb_ino_t ino;

	mnt_up(0);
	CHECK_OK(mk_file("e1", 'a', 10));
	CHECK_OK(stat(P("e1"), &st));
	CHECK((ino = fs_ino("e1")) != 0);
	CHECK_OK(fs_unlink("e1"));
	CHECK_EQ(fs_ino("e1"), 0);
	CHECK_OK(stat(P("e1"), &st)); /* the kernel's cached name */
	CHECK_EQ(fb_server_notify_inval_entry(T.srv, FB_ROOT_ID, "e1", 2, flags), 0);
	CHECK_ERR(stat(P("e1"), &st), -ENOENT);
	/* A name the kernel does not have: the kernel reports ENOENT, the mount is fine. */
	CHECK_EQ(fb_server_notify_inval_entry(T.srv, FB_ROOT_ID, "nope", 4, flags), -ENOENT);
	check_mount_works();
	mnt_down();
}

TEST(inval_entry_drops_a_cached_name)
{
	inval_entry_case(0);
}

TEST(inval_entry_expire_only)
{
	inval_entry_case(FB_EXPIRE_ONLY);
}

TEST(delete_drops_an_open_file_name)
{
	struct stat st;
	fb_ino_t ino;
	int fd;

	mnt_up(0);
	CHECK_OK(mk_file("d1", 'a', 10));
	CHECK_OK(fd = open(P("d1"), O_RDONLY));
	CHECK_OK(stat(P("d1"), &st)); /* attributes cached */
	CHECK((ino = fs_ino("d1")) != 0);
	CHECK_OK(fs_unlink("d1"));
	CHECK_OK(stat(P("d1"), &st));
	CHECK_EQ(st.st_nlink, 1);
	CHECK_EQ(fb_server_notify_delete(T.srv, FB_ROOT_ID, ino, "d1", 2), 0);
	CHECK_ERR(stat(P("d1"), &st), -ENOENT);
	CHECK_OK(fstat(fd, &st)); /* the open file lives on, with no links */
	CHECK_EQ(st.st_nlink, 0);
	close(fd);
	/* A child that is not the one under the name: the kernel answers ENOENT. */
	CHECK_OK(mk_file("d2", 'a', 10));
	CHECK_OK(stat(P("d2"), &st));
	CHECK((ino = fs_ino("d2")) != 0);
	CHECK_EQ(fb_server_notify_delete(T.srv, FB_ROOT_ID, ino + 1000, "d2", 2), -ENOENT);
	CHECK_OK(stat(P("d2"), &st));
	check_mount_works();
	mnt_down();
}

TEST(delete_drops_a_directory_name)
{
	struct fb_ctx c;
	struct stat st;
	fb_ino_t ino;

	mnt_up(0);
	c = root_ctx();
	CHECK_OK(mkdir(P("dir1"), 0755));
	CHECK_OK(stat(P("dir1"), &st));
	CHECK((ino = fs_ino("dir1")) != 0);
	CHECK_OK(fb_memfs_ops.rmdir(T.m, &c, FB_ROOT_ID, "dir1"));
	CHECK_OK(stat(P("dir1"), &st));
	CHECK_EQ(fb_server_notify_delete(T.srv, FB_ROOT_ID, ino, "dir1", 4), 0);
	CHECK_ERR(stat(P("dir1"), &st), -ENOENT);
	check_mount_works();
	mnt_down();
}

TEST(inc_epoch_invalidates_cached_names)
{
	struct stat st;
	int r;

	mnt_up(0);
	CHECK_OK(mk_file("ep1", 'a', 10));
	CHECK_OK(stat(P("ep1"), &st));
	CHECK_OK(fs_unlink("ep1"));
	CHECK_OK(stat(P("ep1"), &st));
	r = fb_server_notify_inc_epoch(T.srv);
	if (r == -ENOSYS)
		SKIP("the kernel negotiated a minor below 44");
	CHECK_EQ(r, 0);
	CHECK_ERR(stat(P("ep1"), &st), -ENOENT);
	check_mount_works();
	mnt_down();
}

TEST(prune_evicts_an_unused_inode)
{
	struct stat st;
	fb_ino_t ino;
	int r;

	mnt_up(0);
	CHECK_OK(mk_file("pr1", 'a', 10));
	CHECK_OK(stat(P("pr1"), &st));
	CHECK((ino = fs_ino("pr1")) != 0);
	atomic_store(&T.watch_ino, ino);
	r = fb_server_notify_prune(T.srv, &ino, 1);
	if (r == -ENOSYS)
		SKIP("the kernel negotiated a minor below 45");
	CHECK_EQ(r, 0);
	/* The kernel had no other use for it: it is evicted and forgotten. */
	CHECK(wait_set(&T.watch_forgotten, 3000));
	CHECK_OK(stat(P("pr1"), &st)); /* looked up again */
	CHECK_EQ(st.st_size, 10);
	check_mount_works();
	mnt_down();
}

/* ------------------------------------------------------------------------------------------
 * Inodes and data
 */
TEST(inval_inode_refreshes_attributes)
{
	struct stat st;
	fb_ino_t ino;

	mnt_up(0);
	CHECK_OK(mk_file("s1", 'a', 100));
	CHECK_OK(stat(P("s1"), &st));
	CHECK_EQ(st.st_size, 100);
	CHECK((ino = fs_ino("s1")) != 0);
	CHECK_OK(fs_truncate(ino, 200));
	CHECK_OK(stat(P("s1"), &st));
	CHECK_EQ(st.st_size, 100); /* cached for an hour */
	/* Negative offset: attributes only. */
	CHECK_EQ(fb_server_notify_inval_inode(T.srv, ino, -1, 0), 0);
	CHECK_OK(stat(P("s1"), &st));
	CHECK_EQ(st.st_size, 200);
	CHECK_OK(fs_truncate(ino, 300));
	CHECK_OK(stat(P("s1"), &st));
	CHECK_EQ(st.st_size, 200);
	/* Offset 0, length 0: attributes and all cached data. */
	CHECK_EQ(fb_server_notify_inval_inode(T.srv, ino, 0, 0), 0);
	CHECK_OK(stat(P("s1"), &st));
	CHECK_EQ(st.st_size, 300);
	/* An inode the kernel does not know. */
	CHECK_EQ(fb_server_notify_inval_inode(T.srv, 999999, 0, 0), -ENOENT);
	check_mount_works();
	mnt_down();
}

TEST(inval_inode_drops_a_cached_data_range)
{
	static char buf[8192], b[4096];
	unsigned int reads;
	fb_ino_t ino;
	int fd;

	mnt_up(0);
	CHECK_OK(mk_file("dr", 'A', 8192));
	CHECK((ino = fs_ino("dr")) != 0);
	CHECK_OK(fd = open(P("dr"), O_RDONLY));
	CHECK_EQ(pread(fd, buf, 8192, 0), 8192);
	CHECK(all_are(buf, 8192, 'A'));
	memset(b, 'B', sizeof(b));
	CHECK_EQ(fs_pwrite(ino, b, 4096, 0), 4096);
	CHECK_EQ(fs_pwrite(ino, b, 4096, 4096), 4096);
	reads = atomic_load(&T.reads);
	CHECK_EQ(pread(fd, buf, 8192, 0), 8192);
	CHECK(all_are(buf, 8192, 'A')); /* from the page cache */
	CHECK_EQ(atomic_load(&T.reads), reads);
	/* Drop the second page only. */
	CHECK_EQ(fb_server_notify_inval_inode(T.srv, ino, 4096, 4096), 0);
	CHECK_EQ(pread(fd, buf, 8192, 0), 8192);
	CHECK(all_are(buf, 4096, 'A'));
	CHECK(all_are(buf + 4096, 4096, 'B'));
	CHECK(atomic_load(&T.reads) > reads);
	close(fd);
	check_mount_works();
	mnt_down();
}

/* ------------------------------------------------------------------------------------------
 * Store and retrieve (also over io_uring)
 */
static int wait_retrieve(long ms)
{
	struct timespec dl;
	int got;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += ms / 1000;
	dl.tv_nsec += (ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ret_lock);
	while (!ret_got)
		if (pthread_cond_timedwait(&ret_cond, &ret_lock, &dl) == ETIMEDOUT)
			break;
	got = ret_got;
	pthread_mutex_unlock(&ret_lock);
	return got;
}

static void reset_retrieve(void)
{
	pthread_mutex_lock(&ret_lock);
	ret_got = 0;
	pthread_mutex_unlock(&ret_lock);
}

static void store_retrieve_case(int uring)
{
	static char buf[8192], data[8192];
	unsigned int reads;
	fb_ino_t ino;
	int fd;

	mnt_up(uring);
	CHECK_OK(mk_file("st", 'A', 8192));
	CHECK((ino = fs_ino("st")) != 0);
	CHECK_OK(fd = open(P("st"), O_RDONLY));
	for (int i = 0; i < 8192; i++)
		data[i] = (char)('a' + i % 26);
	CHECK_EQ(fb_server_notify_store(T.srv, ino, 0, data, 8192), 0);
	reads = atomic_load(&T.reads);
	CHECK_EQ(pread(fd, buf, 8192, 0), 8192);
	CHECK(memcmp(buf, data, 8192) == 0); /* memfs still holds 'A': these came from the store */
	CHECK_EQ(atomic_load(&T.reads), reads);

	/* The whole file back through the retrieve callback. */
	reset_retrieve();
	CHECK_EQ(fb_server_notify_retrieve(T.srv, ino, 0, 8192, 0x5eed0000), 0);
	CHECK(wait_retrieve(5000));
	pthread_mutex_lock(&ret_lock);
	CHECK_EQ(ret_cookie, 0x5eed0000);
	CHECK_EQ(ret_ino, ino);
	CHECK_EQ(ret_off, 0);
	CHECK_EQ(ret_size, 8192);
	CHECK(memcmp(ret_data, data, 8192) == 0);
	pthread_mutex_unlock(&ret_lock);

	/* Part of it, at an offset. */
	reset_retrieve();
	CHECK_EQ(fb_server_notify_retrieve(T.srv, ino, 4096, 100, 0x5eed0002), 0);
	CHECK(wait_retrieve(5000));
	pthread_mutex_lock(&ret_lock);
	CHECK_EQ(ret_cookie, 0x5eed0002);
	CHECK_EQ(ret_off, 4096);
	CHECK_EQ(ret_size, 100);
	CHECK(memcmp(ret_data, data + 4096, 100) == 0);
	pthread_mutex_unlock(&ret_lock);

	/* A store past the end grows the kernel's idea of the size (until attributes are
	 * fetched again): the bytes read back come from the store, no READ is sent. */
	CHECK_EQ(fb_server_notify_store(T.srv, ino, 8192, data, 4096), 0);
	CHECK_EQ(pread(fd, buf, 4096, 8192), 4096);
	CHECK(memcmp(buf, data, 4096) == 0);
	CHECK_EQ(atomic_load(&T.reads), reads);
	close(fd);
	check_mount_works();
	check_rings_used();
	mnt_down();
}

TEST(store_and_retrieve)
{
	store_retrieve_case(0);
}

TEST(uring_store_and_retrieve)
{
	store_retrieve_case(1);
}

/* ------------------------------------------------------------------------------------------
 * Poll
 */
static void poll_case(int uring)
{
	pid_t pid;
	long t0;

	mnt_up(uring);
	CHECK_OK(mk_file("pollme", 'a', 10));
	atomic_store(&T.poll_ino, fs_ino("pollme"));
	CHECK(atomic_load(&T.poll_ino) != 0);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct pollfd p = {.events = POLLIN};

		p.fd = open(P("pollme"), O_RDONLY);
		if (p.fd < 0)
			_exit(1);
		if (poll(&p, 1, 10000) != 1)
			_exit(2);
		_exit(p.revents & POLLIN ? 0 : 3);
	}
	if (!wait_set(&T.poll_kh_set, 5000)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		CHECK(!"the file system never got a POLL with FB_POLL_SCHEDULE_NOTIFY");
	}
	e2e_sleep_ms(200);
	CHECK_EQ(e2e_wait(pid, 0), -ETIMEDOUT); /* still waiting: not ready */
	atomic_store(&T.poll_ready, 1);
	t0 = now_ms();
	CHECK_EQ(fb_server_notify_poll(T.srv, atomic_load(&T.poll_kh)), 0);
	CHECK_EQ(e2e_wait(pid, 5000), 0);
	printf("# poll(2) returned %ld ms after NOTIFY_POLL\n", now_ms() - t0);
	CHECK(now_ms() - t0 < 1000);
	CHECK(atomic_load(&T.polls) >= 2);
	check_mount_works();
	check_rings_used();
	mnt_down();
}

TEST(poll_wakes_up_a_waiting_poll)
{
	poll_case(0);
}

TEST(uring_poll_wakes_up_a_waiting_poll)
{
	poll_case(1);
}

/* ------------------------------------------------------------------------------------------
 * Interrupts (also over io_uring)
 */
static void on_usr1(int sig)
{
	(void)sig;
}

/*
 * A child reads the slow file; exit status 0 when read() failed with EINTR, 10 + n when it
 * returned n bytes, 2 for another error.
 */
static pid_t reader_at(const char *name, int cpu, int opened_fd, int go_fd)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct sigaction sa = {.sa_handler = on_usr1}; /* no SA_RESTART */
		char buf[64];
		ssize_t n;
		int fd;

		if (cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			sched_setaffinity(0, sizeof(set), &set);
		}
		sigaction(SIGUSR1, &sa, NULL);
		fd = open(P(name), O_RDONLY);
		if (fd < 0)
			_exit(1);
		if (opened_fd >= 0 && write(opened_fd, "o", 1) != 1)
			_exit(3);
		if (go_fd >= 0 && read(go_fd, buf, 1) != 1)
			_exit(4);
		n = read(fd, buf, sizeof(buf));
		if (n < 0)
			_exit(errno == EINTR ? 0 : 2);
		_exit(10 + (int)(n > 64 ? 64 : n));
	}
	return pid;
}

static pid_t slow_reader(void)
{
	return reader_at("slow", -1, -1, -1);
}

static void interrupt_case(int uring)
{
	long t0, dt;
	pid_t pid;
	int st;

	mnt_up(uring);
	CHECK_OK(mk_file("slow", 'a', 64));
	atomic_store(&T.slow_ino, fs_ino("slow"));
	CHECK(atomic_load(&T.slow_ino) != 0);

	/* 1. The operation sees the interrupt and ends with EINTR. */
	T.slow_mode = SLOW_INTR;
	pid = slow_reader();
	CHECK(pid > 0);
	if (!wait_set(&T.slow_entered, 5000)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		CHECK(!"the slow read never reached the file system");
	}
	t0 = now_ms();
	kill(pid, SIGUSR1);
	st = e2e_wait(pid, 5000);
	dt = now_ms() - t0;
	printf("# %s: read() ended %ld ms after SIGUSR1 (status %d)\n",
	       uring ? "io_uring" : "/dev/fuse", dt, st);
	if (st == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	CHECK_EQ(st, 0);
	CHECK(dt < 1000);
	CHECK(atomic_load(&T.slow_saw_intr));
	CHECK(wait_set(&T.slow_returned, 1000));
	check_mount_works();

	/* 2. The operation ignores the interrupt and answers after the caller was killed. */
	T.slow_entered = 0;
	T.slow_saw_intr = 0;
	T.slow_returned = 0;
	T.release = 0;
	T.slow_mode = SLOW_IGNORE;
	pid = slow_reader();
	CHECK(pid > 0);
	if (!wait_set(&T.slow_entered, 5000)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		CHECK(!"the slow read never reached the file system");
	}
	kill(pid, SIGUSR1);
	e2e_sleep_ms(300);
	kill(pid, SIGKILL);
	e2e_sleep_ms(300);
	CHECK(!atomic_load(&T.slow_returned));
	/* The kernel does not drop a request the server has read: even the killed caller waits
	 * for the answer (so the late reply below does reach a waiting kernel). */
	CHECK_EQ(e2e_wait(pid, 0), -ETIMEDOUT);
	atomic_store(&T.release, 1); /* the late reply */
	st = e2e_wait(pid, 5000);
	if (st == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	CHECK_EQ(st, 128 + SIGKILL);
	CHECK(wait_set(&T.slow_returned, 1000));
	CHECK(atomic_load(&T.slow_saw_intr)); /* the INTERRUPT did arrive */

	/* 3. The same file read normally afterwards: the op answers. */
	T.slow_mode = SLOW_IGNORE;
	pid = slow_reader();
	CHECK(pid > 0);
	CHECK_EQ(e2e_wait(pid, 5000), 10 + 64);
	check_mount_works();
	check_rings_used();
	mnt_down();
}

/*
 * As many waiting reads as the loop has workers (4): the INTERRUPTs still get read (the loop
 * adds a worker when all are stuck), and every read ends with EINTR within a second.
 */
TEST(interrupts_reach_a_pool_of_busy_workers)
{
	pid_t pids[4];
	long t0, dt;
	int st[4];

	mnt_up(0);
	CHECK_OK(mk_file("slow", 'a', 64));
	atomic_store(&T.slow_ino, fs_ino("slow"));
	CHECK(atomic_load(&T.slow_ino) != 0);
	T.slow_mode = SLOW_INTR;
	for (int i = 0; i < 4; i++)
		pids[i] = slow_reader();
	for (int t = 0; t < 500 && atomic_load(&T.slow_entered) < 4; t++)
		e2e_sleep_ms(10);
	t0 = now_ms();
	for (int i = 0; i < 4; i++)
		kill(pids[i], SIGUSR1);
	for (int i = 0; i < 4; i++) {
		st[i] = e2e_wait(pids[i], 15000);
		if (st[i] == -ETIMEDOUT) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
		}
	}
	dt = now_ms() - t0;
	printf("# 4 reads on 4 workers: all ended %ld ms after SIGUSR1\n", dt);
	CHECK_EQ(atomic_load(&T.slow_entered), 4);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(st[i], 0);
	CHECK(dt < 1000);
	check_mount_works();
	mnt_down();
}

TEST(interrupt_ends_a_waiting_read)
{
	interrupt_case(0);
}

TEST(uring_interrupt_ends_a_waiting_read)
{
	interrupt_case(1);
}

/*
 * Over io_uring a queue serves its requests one after the other, so a request can wait on the
 * ring behind a slow one while its caller is interrupted. Its INTERRUPT arrives (on
 * /dev/fuse) before the server has seen the request, and must not be lost: once the slow read
 * ahead of it ends, the waiting one ends with EINTR at once, not after its 10 s.
 */
TEST(uring_interrupt_of_a_request_queued_behind_a_slow_one)
{
	int opened[2], go[2];
	pid_t a, b;
	long t0, dt;
	int sa, sb;
	char c;

	mnt_up(1);
	CHECK_OK(mk_file("slow", 'a', 64));
	atomic_store(&T.slow_ino, fs_ino("slow"));
	CHECK(atomic_load(&T.slow_ino) != 0);
	T.slow_mode = SLOW_INTR;
	CHECK_OK(pipe(opened));
	CHECK_OK(pipe(go));
	b = reader_at("slow", 0, opened[1], go[0]); /* B: opens now, reads when told */
	CHECK(b > 0);
	CHECK_EQ(read(opened[0], &c, 1), 1);
	a = reader_at("slow", 0, -1, -1); /* A: the slow read on the same queue */
	CHECK(a > 0);
	if (!wait_set(&T.slow_entered, 5000)) {
		kill(a, SIGKILL);
		kill(b, SIGKILL);
		waitpid(a, NULL, 0);
		waitpid(b, NULL, 0);
		CHECK(!"the slow read never reached the file system");
	}
	CHECK_EQ(write(go[1], "g", 1), 1);
	e2e_sleep_ms(300); /* B's READ waits on the ring behind A's */
	kill(b, SIGUSR1);
	e2e_sleep_ms(300);
	t0 = now_ms();
	kill(a, SIGUSR1);
	sa = e2e_wait(a, 5000);
	sb = e2e_wait(b, 15000);
	dt = now_ms() - t0;
	printf("# io_uring: the queued read ended %ld ms after the slow one was interrupted "
	       "(status %d, %d)\n",
	       dt, sa, sb);
	if (sa == -ETIMEDOUT || sb == -ETIMEDOUT) {
		kill(a, SIGKILL);
		kill(b, SIGKILL);
		waitpid(a, NULL, 0);
		waitpid(b, NULL, 0);
	}
	close(opened[0]);
	close(opened[1]);
	close(go[0]);
	close(go[1]);
	CHECK_EQ(sa, 0);
	CHECK_EQ(sb, 0);
	CHECK(dt < 1000);
	check_mount_works();
	check_rings_used();
	mnt_down();
}

/* ------------------------------------------------------------------------------------------
 * Resend: the kernel sends a held request again, marked with FB_UNIQUE_RESEND.
 */
TEST(resend_repeats_a_held_request)
{
	uint64_t first, again;
	pid_t pid;
	int r;

	mnt_up(0);
	CHECK_OK(mk_file("slow", 'a', 64));
	atomic_store(&T.slow_ino, fs_ino("slow"));
	CHECK(atomic_load(&T.slow_ino) != 0);
	T.slow_mode = SLOW_HOLD;
	pid = slow_reader();
	CHECK(pid > 0);
	if (!wait_set(&T.slow_entered, 5000)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		CHECK(!"the held read never reached the file system");
	}
	r = fb_server_notify_resend(T.srv);
	if (r == -ENOSYS)
		SKIP("the kernel negotiated a minor below 40");
	CHECK_EQ(r, 0);
	/* The resent copy is answered at once ('R'); the child's read returns it. */
	r = e2e_wait(pid, 5000);
	if (r == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	CHECK_EQ(r, 10 + 64);
	first = atomic_load(&T.hold_unique);
	again = atomic_load(&T.resend_unique);
	CHECK(again & FB_UNIQUE_RESEND);
	CHECK_EQ(again & ~FB_UNIQUE_RESEND, first);
	/* Now the original answers too: the kernel no longer knows it, nothing breaks. */
	atomic_store(&T.release, 1);
	CHECK(wait_set(&T.slow_returned, 2000));
	check_mount_works();
	mnt_down();
}

/* ------------------------------------------------------------------------------------------
 * Many notifications from many threads while requests are served.
 */
#define NOTIFIERS  4
#define PER_THREAD 1000
#define NFILES	   8

static fb_ino_t storm_inos[NFILES];
static atomic_int storm_errors, storm_sent;
static atomic_int storm_first_error;

static char storm_data[NFILES][4096 + NFILES];

/* Each thread mixes: inval_inode (data and attributes / attributes only), inval_entry, and a
 * store of the bytes the file already holds (so readers must still see them). */
static void *notifier(void *arg)
{
	long id = (long)arg, t0 = now_ms();

	/* At least PER_THREAD, and for at least a second, so that requests overlap them. */
	for (int i = 0; i < PER_THREAD || now_ms() - t0 < 1000; i++) {
		int f = (int)((id + i) % NFILES);
		char name[32];
		int r;

		switch (i % 4) {
		case 0:
			r = fb_server_notify_inval_inode(T.srv, storm_inos[f], 0, 0);
			break;
		case 1:
			r = fb_server_notify_inval_inode(T.srv, storm_inos[f], -1, 0);
			break;
		case 2:
			snprintf(name, sizeof(name), "f%d", f);
			r = fb_server_notify_inval_entry(T.srv, FB_ROOT_ID, name, strlen(name), 0);
			if (r == -ENOENT) /* not in the kernel's cache right now */
				r = 0;
			break;
		default:
			r = fb_server_notify_store(T.srv, storm_inos[f], 0, storm_data[f],
						   4096 + (size_t)f);
		}
		atomic_fetch_add(&storm_sent, 1);
		if (r < 0) {
			atomic_fetch_add(&storm_errors, 1);
			atomic_store(&storm_first_error, r);
		}
	}
	return NULL;
}

TEST(notifications_from_many_threads)
{
	pthread_t th[NOTIFIERS];
	unsigned int reads0;
	int fds[NFILES];
	char name[32];
	pid_t pid;
	int st;

	mnt_up(0);
	for (int i = 0; i < NFILES; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		CHECK_OK(mk_file(name, (char)('a' + i), 4096 + i));
		memset(storm_data[i], 'a' + i, sizeof(storm_data[i]));
		CHECK((storm_inos[i] = fs_ino(name)) != 0);
		CHECK_OK(fds[i] = open(P(name), O_RDONLY)); /* the kernel keeps the inodes */
	}
	atomic_store(&storm_errors, 0);
	atomic_store(&storm_sent, 0);
	reads0 = atomic_load(&T.reads);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* Requests meanwhile: stat and read every file until killed; exit 1 on a bad
		 * answer. */
		static char buf[8192];

		for (;;) {
			for (int i = 0; i < NFILES; i++) {
				struct stat s;
				int fd;

				snprintf(name, sizeof(name), "f%d", i);
				if (stat(P(name), &s) < 0 || s.st_size != 4096 + i)
					_exit(1);
				fd = open(P(name), O_RDONLY);
				if (fd < 0 || read(fd, buf, sizeof(buf)) != 4096 + i ||
				    !all_are(buf, 4096 + (size_t)i, (char)('a' + i)))
					_exit(2);
				close(fd);
			}
		}
	}
	/* Start once the child's requests are flowing. */
	for (int t = 0; t < 500 && atomic_load(&T.reads) < reads0 + 4; t++)
		e2e_sleep_ms(10);
	for (long i = 0; i < NOTIFIERS; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, notifier, (void *)i), 0);
	for (int i = 0; i < NOTIFIERS; i++)
		pthread_join(th[i], NULL);
	st = e2e_wait(pid, 0); /* still running: no bad answer */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (atomic_load(&storm_errors))
		fprintf(stderr, "  %d notifications failed, e.g. %s\n", atomic_load(&storm_errors),
			strerror(-atomic_load(&storm_first_error)));
	CHECK_EQ(atomic_load(&storm_errors), 0);
	CHECK_EQ(st, -ETIMEDOUT);
	printf("# %d notifications from %d threads; %u READs served meanwhile\n",
	       atomic_load(&storm_sent), NOTIFIERS, atomic_load(&T.reads) - reads0);
	CHECK(atomic_load(&storm_sent) >= NOTIFIERS * PER_THREAD);
	for (int i = 0; i < NFILES; i++)
		close(fds[i]);
	check_mount_works();
	mnt_down();
}

/* ------------------------------------------------------------------------------------------ */

static int setup(void)
{
	if (e2e_need_root_and_fuse())
		return 1;
	tfs_ops = fb_memfs_ops;
	tfs_ops.init = t_init;
	tfs_ops.forget = t_forget;
	tfs_ops.open = t_open;
	tfs_ops.read = t_read;
	tfs_ops.poll = t_poll;
	return 0;
}
TEST_SETUP(setup)

static int teardown(void)
{
	mnt_down();
	return 0;
}
TEST_TEARDOWN(teardown)

TEST_MAIN()
