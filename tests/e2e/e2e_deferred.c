/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Replies later on a real mount: examples/deferred_fs, whose reads are answered by a pool of
 * 2 threads after a delay while 2 daemon threads only hand them over.
 *   - 1,024 reads in flight at once from 16 reader threads (O_DIRECT preads that the kernel
 *     splits into 4 KiB READ requests with max_read=4096), over /dev/fuse and io_uring: all
 *     bytes right, and the daemon saw them all waiting at once;
 *   - a reader blocked on a deferred read gets EINTR within a second of a signal;
 *   - SIGTERM with 100 reads deferred: the daemon unmounts and exits 0 within seconds.
 *
 * Environment (meson sets it): FB_DEFERRED_FS = path of the deferred_fs binary. Skips (77)
 * without root, /dev/fuse or the binary.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/mount.h>

#include "harness.h"
#include "e2e_util.h"

#define READERS	 16
#define PER_READ 64 /* 4 KiB requests per pread */
#define NSLOW	 100

static const char *dfs_bin;

static int setup(void)
{
	dfs_bin = getenv("FB_DEFERRED_FS");
	if (!dfs_bin || access(dfs_bin, X_OK) != 0) {
		fprintf(stderr, "  skip: FB_DEFERRED_FS does not name the deferred_fs binary\n");
		return 1;
	}
	return e2e_need_root_and_fuse();
}
TEST_SETUP(setup)

static uint8_t dfs_byte(uint64_t off)
{
	return (uint8_t)((off * 7) ^ (off >> 12));
}

struct daemon {
	char mnt[128];
	pid_t pid;
	int out; /* read end of its stdout/stderr */
};

static int dfs_start(struct daemon *d, const char *opts, const char *delay_us, const char *hold)
{
	int p[2];

	snprintf(d->mnt, sizeof(d->mnt), "/tmp/fb-deferred-XXXXXX");
	if (!mkdtemp(d->mnt))
		return -errno;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	char *argv[] = {
		(char *)dfs_bin,  "-o",	    (char *)opts, "-t",	  "2", "-p", "2", "--delay-us",
		(char *)delay_us, "--hold", (char *)hold, d->mnt, NULL};
	d->pid = e2e_spawn(argv, NULL, p[1]);
	close(p[1]);
	d->out = p[0];
	if (d->pid < 0)
		return (int)d->pid;
	if (e2e_wait_mount(d->mnt, 1, 10000) < 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		return -ETIMEDOUT;
	}
	return 0;
}

/* Stop (@sig, or unmount when 0) and wait; returns the exit status; @out gets its output. */
static int dfs_stop(struct daemon *d, int sig, long ms, char *out, size_t len)
{
	int status;
	ssize_t n;
	size_t got = 0;

	if (sig)
		kill(d->pid, sig);
	else
		umount2(d->mnt, 0);
	status = e2e_wait(d->pid, ms);
	if (status == -ETIMEDOUT) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
	}
	while (got + 1 < len && (n = read(d->out, out + got, len - got - 1)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(d->out);
	if (e2e_is_fuse_mounted(d->mnt))
		umount2(d->mnt, MNT_DETACH);
	rmdir(d->mnt);
	return status;
}

static unsigned int peak_of(const char *out)
{
	const char *p = strstr(out, "peak ");

	return p ? (unsigned int)strtoul(p + 5, NULL, 10) : 0;
}

/* ---- 1,024 reads in flight ----------------------------------------------------------------- */

struct reader {
	pthread_t t;
	const char *path;
	uint64_t off;
	int err;
	ssize_t got;
	int bad;
};

static pthread_barrier_t start_line;

static void *read_block(void *arg)
{
	struct reader *r = arg;
	size_t len = PER_READ * 4096;
	uint8_t *buf = aligned_alloc(4096, len);
	int fd = open(r->path, O_RDONLY | O_DIRECT);

	pthread_barrier_wait(&start_line); /* all readers submit together */
	if (fd < 0) {
		r->err = errno;
		free(buf);
		return NULL;
	}
	r->got = pread(fd, buf, len, (off_t)r->off);
	if (r->got < 0)
		r->err = errno;
	for (ssize_t i = 0; i < r->got; i++)
		r->bad += buf[i] != dfs_byte(r->off + (uint64_t)i);
	close(fd);
	free(buf);
	return NULL;
}

static void many_reads(const char *opts)
{
	struct reader rd[READERS];
	struct daemon d;
	char out[4096], path[160];
	int status;

	/* Reads are answered 1 ms after they came, but none before 1,024 waited at once (or
	 * 10 s passed, and the peak then says how many did). */
	CHECK_OK(dfs_start(&d, opts, "1000", strstr(opts, "io_uring") ? "500" : "1024"));
	pthread_barrier_init(&start_line, NULL, READERS);
	snprintf(path, sizeof(path), "%s/data", d.mnt);
	for (int i = 0; i < READERS; i++) {
		rd[i] = (struct reader){.path = path, .off = (uint64_t)i * PER_READ * 4096 + 12288};
		CHECK_EQ(pthread_create(&rd[i].t, NULL, read_block, &rd[i]), 0);
	}
	for (int i = 0; i < READERS; i++)
		pthread_join(rd[i].t, NULL);
	pthread_barrier_destroy(&start_line);
	status = dfs_stop(&d, 0, 10000, out, sizeof(out));
	for (int i = 0; i < READERS; i++) {
		CHECK_EQ(rd[i].err, 0);
		CHECK_EQ(rd[i].got, PER_READ * 4096);
		CHECK_EQ(rd[i].bad, 0);
	}
	CHECK_EQ(status, 0);
	fprintf(stderr, "  %s: %s", opts, out);
	/* All were waiting together on 2 daemon threads. Over io_uring a waiting request holds
	 * a ring entry, and the readers' CPUs decide which queue's 512 entries they use. */
	CHECK(peak_of(out) >= (strstr(opts, "io_uring") ? 500u : 1024u));
}

TEST(a_thousand_reads_wait_at_once_on_two_daemon_threads)
{
	many_reads("max_read=4096");
}

TEST(a_thousand_reads_wait_at_once_over_io_uring)
{
	FILE *f = fopen("/sys/module/fuse/parameters/enable_uring", "re");
	int c = f ? fgetc(f) : 'N';

	if (f)
		fclose(f);
	if (c != 'Y')
		SKIP("FUSE over io_uring is not enabled");
	many_reads("max_read=4096,io_uring");
}

/* ---- interrupt ----------------------------------------------------------------------------- */

static void on_usr1(int sig)
{
	(void)sig;
}

struct slow_reader {
	pthread_t t;
	const char *path;
	ssize_t got;
	int err;
	struct timespec done;
};

static void *read_slow(void *arg)
{
	struct slow_reader *r = arg;
	uint8_t *buf = aligned_alloc(4096, 4096);
	int fd = open(r->path, O_RDONLY); /* direct I/O: the daemon opens it so */

	r->got = fd < 0 ? -1 : pread(fd, buf, 4096, 0);
	r->err = r->got < 0 ? errno : 0;
	clock_gettime(CLOCK_MONOTONIC, &r->done);
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static double secs_since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

TEST(a_reader_blocked_on_a_deferred_read_is_interrupted_within_a_second)
{
	struct sigaction sa = {.sa_handler = on_usr1}; /* no SA_RESTART */
	struct slow_reader r = {0};
	struct timespec sent;
	struct daemon d;
	char out[4096], path[160];

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	CHECK_OK(dfs_start(&d, "max_read=4096", "1000", "0"));
	snprintf(path, sizeof(path), "%s/slow", d.mnt);
	r.path = path;
	CHECK_EQ(pthread_create(&r.t, NULL, read_slow, &r), 0);
	e2e_sleep_ms(500); /* it is waiting in the daemon's list now */
	clock_gettime(CLOCK_MONOTONIC, &sent);
	pthread_kill(r.t, SIGUSR1);
	pthread_join(r.t, NULL);
	CHECK_EQ(r.got, -1);
	CHECK_EQ(r.err, EINTR);
	CHECK(secs_since(&sent, &r.done) < 1.0);
	CHECK_EQ(dfs_stop(&d, SIGTERM, 10000, out, sizeof(out)), 0);
	CHECK(strstr(out, "1 interrupted") != NULL);
}

/* ---- unmount with requests deferred -------------------------------------------------------- */

TEST(sigterm_with_a_hundred_reads_deferred_unmounts_and_exits)
{
	static struct slow_reader r[NSLOW];
	struct timespec t0, t1;
	struct daemon d;
	char out[4096], path[160];
	int status;

	CHECK_OK(dfs_start(&d, "max_read=4096", "1000", "0"));
	snprintf(path, sizeof(path), "%s/slow", d.mnt);
	for (int i = 0; i < NSLOW; i++) {
		r[i].path = path;
		CHECK_EQ(pthread_create(&r[i].t, NULL, read_slow, &r[i]), 0);
	}
	e2e_sleep_ms(1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	status = dfs_stop(&d, SIGTERM, 10000, out, sizeof(out));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (int i = 0; i < NSLOW; i++) {
		pthread_join(r[i].t, NULL);
		CHECK_EQ(r[i].got, -1); /* the connection went away under them */
	}
	fprintf(stderr, "  %s", out);
	CHECK_EQ(status, 0);
	CHECK(secs_since(&t0, &t1) < 5.0);
	CHECK_EQ(peak_of(out), NSLOW);
	CHECK(!e2e_is_fuse_mounted(d.mnt));
}

TEST_MAIN()
