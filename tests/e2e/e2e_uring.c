/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * FUSE over io_uring on real mounts.
 *
 * In-process (memfs + server + session + ring engine in this binary, a hand-written /dev/fuse
 * loop that counts what arrives there by opcode, the file work done by a child process so a
 * hang cannot stall the test):
 *   - with the fuse module's enable_uring on, the rings serve the requests: after INIT nothing
 *     but FORGET / BATCH_FORGET / INTERRUPT reaches /dev/fuse, and the engine's request count
 *     covers the work done;
 *   - with it off, the session serves everything over /dev/fuse and logs exactly one line;
 *   - when the kernel refuses the ring entries (fault injected), the same: no hang, one line.
 * Daemons (FB_MEMFS, FB_PASSTHROUGH, FB_E2E_SYSCALLS, FB_E2E_STRESS name the programs):
 *   - the POSIX suite and the stress suite over fb-memfs / fb-passthrough -o io_uring, with
 *     the daemon's "requests were served over the rings" line checked;
 *   - the POSIX suite over fb-memfs -o io_uring with enable_uring off (fallback).
 * The module parameter is put back as it was found, also when a test fails.
 */
#include <dirent.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/fusedev.h>
#include <fuse_backend/memfs.h>
#include <fuse_backend/server.h>
#include <fuse_backend/uring.h>

#include "harness.h"
#include "e2e_util.h"
#include "transport/uring/uring_i.h"

#define PARAM "/sys/module/fuse/parameters/enable_uring"

static char param_saved;	/* 'Y' or 'N' as found, 0 when the kernel has no parameter */
static const char *memfs_bin, *pt_bin, *syscalls_bin, *stress_bin;

static const char *prog(const char *env)
{
	const char *p = getenv(env);

	return p && access(p, X_OK) == 0 ? p : NULL;
}

static char param_get(void)
{
	char v = 0;
	int fd = open(PARAM, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (read(fd, &v, 1) != 1)
		v = 0;
	close(fd);
	return v;
}

static int param_set(char v)
{
	int fd = open(PARAM, O_WRONLY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, &v, 1) != 1)
		r = -errno;
	close(fd);
	return r;
}

static int setup(void)
{
#ifndef FB_HAVE_URING
	fprintf(stderr, "  skip: built without liburing\n");
	return 1;
#endif
	if (e2e_need_root_and_fuse())
		return 1;
	param_saved = param_get();
	if (!param_saved) {
		fprintf(stderr, "  skip: this kernel has no FUSE over io_uring (%s)\n", PARAM);
		return 1;
	}
	if (param_set('Y') < 0) {
		fprintf(stderr, "  skip: cannot write %s\n", PARAM);
		return 1;
	}
	memfs_bin = prog("FB_MEMFS");
	pt_bin = prog("FB_PASSTHROUGH");
	syscalls_bin = prog("FB_E2E_SYSCALLS");
	stress_bin = prog("FB_E2E_STRESS");
	return 0;
}
TEST_SETUP(setup)

static int teardown(void)
{
	if (param_saved)
		param_set(param_saved);
	return 0;
}
TEST_TEARDOWN(teardown)

/* ------------------------------------------------------------------------------------------
 * Log capture: the library's lines, counted by a substring.
 */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;	/* protects log_text */
static char log_text[16384];

static void log_capture(enum fb_log_level level, const char *msg, void *priv)
{
	(void)priv;
	if (level == FB_LOG_DEBUG)
		return;
	pthread_mutex_lock(&log_lock);
	size_t used = strlen(log_text);
	snprintf(log_text + used, sizeof(log_text) - used, "%s\n", msg);
	pthread_mutex_unlock(&log_lock);
	fprintf(stderr, "  log: %s\n", msg);
}

static int count_in(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* ------------------------------------------------------------------------------------------
 * The in-process server: memfs, a session with the ring engine, and one /dev/fuse thread
 * that counts what it gets.
 */
struct inproc {
	char mnt[128];
	struct fb_memfs *fs;
	struct fb_server *srv;
	struct fb_session *se;
	struct fb_uring *ur;
	struct fb_channel *ch;
	pthread_t thread;
	atomic_uint dev_init, dev_forget, dev_interrupt, dev_other;
};

static void *dev_loop(void *arg)
{
	struct inproc *p = arg;
	struct fb_reader r;
	struct fb_writer w;

	for (;;) {
		ssize_t n = fb_channel_receive(p->ch, &r, &w);
		struct fb_reader peek;
		struct fb_in_header in;

		if (n == -ENODEV)
			break;
		if (n < 0)
			continue;
		peek = r;
		if (fb_reader_read(&peek, &in, sizeof(in)) == 0) {
			switch (in.opcode) {
			case FB_INIT:
				atomic_fetch_add(&p->dev_init, 1);
				break;
			case FB_FORGET:
			case FB_BATCH_FORGET:
				atomic_fetch_add(&p->dev_forget, 1);
				break;
			case FB_INTERRUPT:
				atomic_fetch_add(&p->dev_interrupt, 1);
				break;
			default:
				atomic_fetch_add(&p->dev_other, 1);
			}
		}
		n = fb_server_handle(p->srv, &r, &w);
		if (n > 0 && fb_channel_send(p->ch, (size_t)n) == -ENODEV)
			break;
		if (n == -ENODEV)
			break;
	}
	return NULL;
}

/* Mount memfs in this process; @uring: start the ring engine. Returns 0 or -errno. */
static int inproc_start(struct inproc *p, int uring)
{
	struct fb_uring_opts uo = { .depth = 4 };
	int r;

	memset(p, 0, sizeof(*p));
	pthread_mutex_lock(&log_lock);
	log_text[0] = '\0';
	pthread_mutex_unlock(&log_lock);
	fb_log_set(log_capture, NULL);
	r = e2e_tempdir("uring", p->mnt, sizeof(p->mnt));
	if (r < 0)
		return r;
	r = fb_memfs_new(NULL, &p->fs);
	if (r == 0)
		r = fb_server_new(&fb_memfs_ops, sizeof(fb_memfs_ops), p->fs, NULL, &p->srv);
	if (r == 0)
		r = fb_session_new(p->srv, &p->se);
	if (r == 0 && uring)
		r = fb_uring_new(p->se, &uo, &p->ur);
	if (r == 0)
		r = fb_session_mount(p->se, p->mnt, NULL);
	if (r == 0)
		r = fb_session_channel_new(p->se, 0, &p->ch);
	if (r == 0)
		r = -pthread_create(&p->thread, NULL, dev_loop, p);
	return r;
}

static void inproc_stop(struct inproc *p)
{
	if (p->ch) {
		fb_session_unmount(p->se, 1);
		pthread_join(p->thread, NULL);
	}
	fb_uring_free(p->ur);
	fb_channel_free(p->ch);
	fb_session_free(p->se);
	fb_server_free(p->srv);
	fb_memfs_free(p->fs);
	rmdir(p->mnt);
	fb_log_set(NULL, NULL);
}

/*
 * The file work, in a child process pinned to each CPU in turn (each queue gets requests):
 * @nfiles files written, read back and checked, stat'ed, listed, half removed. Exit 0 when
 * everything matched.
 */
static int workload_child(const char *dir, int nfiles)
{
	char path[256], buf[64], back[64];
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);

	for (int i = 0; i < nfiles; i++) {
		cpu_set_t set;
		struct stat st;
		int fd, len;

		CPU_ZERO(&set);
		CPU_SET(i % (ncpu > 0 ? ncpu : 1), &set);
		sched_setaffinity(0, sizeof(set), &set);
		snprintf(path, sizeof(path), "%s/f%03d", dir, i);
		len = snprintf(buf, sizeof(buf), "file %d contents", i);
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, buf, (size_t)len) != len ||
		    pread(fd, back, sizeof(back), 0) != len || memcmp(buf, back, (size_t)len) ||
		    fstat(fd, &st) < 0 || st.st_size != len || close(fd) < 0)
			return 1;
	}
	DIR *d = opendir(dir);
	int names = 0;
	struct dirent *e;

	while (d && (e = readdir(d)))
		names += e->d_name[0] == 'f';
	if (!d || closedir(d) < 0 || names != nfiles)
		return 2;
	for (int i = 0; i < nfiles; i += 2) {
		snprintf(path, sizeof(path), "%s/f%03d", dir, i);
		if (unlink(path) < 0)
			return 3;
	}
	return 0;
}

/* Run the work in a child, with a time limit: a hung request fails the test, not hangs it. */
static int workload(const char *dir, int nfiles)
{
	pid_t pid;
	int r;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(workload_child(dir, nfiles));
	if (pid < 0)
		return -errno;
	r = e2e_wait(pid, 30000);
	if (r == -ETIMEDOUT) {
		fprintf(stderr, "  the file work hung: aborting the mount\n");
		kill(pid, SIGKILL);
		umount2(dir, MNT_FORCE | MNT_DETACH);
		waitpid(pid, NULL, 0);
	}
	return r;
}

TEST(requests_go_over_the_rings)
{
	struct fb_uring_stats st;
	struct inproc p;
	int r;

	r = inproc_start(&p, 1);
	if (r < 0) {
		inproc_stop(&p);
		FBT_FAIL("in-process mount: %s", strerror(-r));
	}
	r = workload(p.mnt, 200);
	fb_uring_stats(p.ur, &st);
	inproc_stop(&p);
	printf("# rings: %" PRIu64 " requests on %u queues x %u; /dev/fuse: INIT %u, FORGET %u, "
	       "INTERRUPT %u, other %u\n", st.requests, st.queues, st.depth, p.dev_init,
	       p.dev_forget, p.dev_interrupt, p.dev_other);
	CHECK_EQ(r, 0);
	CHECK_EQ(st.active, 1);
	CHECK_EQ(st.depth, 4);
	CHECK(st.queues >= 1);
	CHECK(st.payload_size >= FB_MIN_READ_BUFFER);
	CHECK_EQ(p.dev_init, 1);
	/* everything else the kernel asked went over the rings */
	CHECK_EQ(p.dev_other, 0);
	/* 200 x (create, write, read, getattr, release) at least, plus readdir, unlink */
	CHECK(st.requests >= 200 * 5);
	CHECK_EQ(count_in(log_text, "serving over /dev/fuse"), 0);
	CHECK_EQ(count_in(log_text, "io_uring: serving over"), 1);
}

/*
 * The nice values of this process's threads named fb-uring-q*: the lowest and highest into
 * *lo and *hi. Returns how many there are.
 */
static int queue_thread_nice(int *lo, int *hi)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	*lo = 100;
	*hi = -100;
	while (d && (de = readdir(d))) {
		char path[300], comm[32] = "";
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
		if (strncmp(comm, "fb-uring-q", 10) != 0)
			continue;
		errno = 0;
		int v = getpriority(PRIO_PROCESS, (id_t)atoi(de->d_name));
		if (v == -1 && errno)
			continue;
		*lo = v < *lo ? v : *lo;
		*hi = v > *hi ? v : *hi;
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

/*
 * Queue threads run FB_URING_NICE_BOOST nice levels above the process (root may raise them),
 * named fb-uring-qN; with keep_nice they stay at the process's level.
 */
TEST(queue_threads_are_boosted_unless_told_not_to)
{
	struct fb_uring_opts uo = {.depth = 2};
	struct fb_server *srv = NULL;
	struct fb_session *se = NULL;
	struct fb_channel *ch = NULL;
	struct fb_memfs *fs = NULL;
	struct fb_uring *ur = NULL;
	char mnt[128];
	int base = getpriority(PRIO_PROCESS, 0), lo, hi;

	if (geteuid() != 0)
		SKIP("raising a priority needs root here");
	for (int keep = 0; keep <= 1; keep++) {
		uo.keep_nice = keep;
		CHECK_OK(e2e_tempdir("uring-nice", mnt, sizeof(mnt)));
		CHECK_OK(fb_memfs_new(NULL, &fs));
		CHECK_OK(fb_server_new(&fb_memfs_ops, sizeof(fb_memfs_ops), fs, NULL, &srv));
		CHECK_OK(fb_session_new(srv, &se));
		CHECK_OK(fb_uring_new(se, &uo, &ur));
		CHECK_OK(fb_session_mount(se, mnt, NULL));
		CHECK_OK(fb_session_channel_new(se, 0, &ch));
		/* INIT, whose reply starts the rings. */
		CHECK_OK(fb_channel_process(ch));
		struct fb_uring_stats st;
		fb_uring_stats(ur, &st);
		int n = queue_thread_nice(&lo, &hi);
		printf("# keep_nice=%d: %d queue threads at nice %d..%d, process at %d\n", keep, n,
		       lo, hi, base);
		CHECK_EQ(st.active, 1);
		CHECK_EQ(n, (int)st.queues);
		if (keep) {
			CHECK_EQ(lo, base);
			CHECK_EQ(hi, base);
		} else {
			int want = base - FB_URING_NICE_BOOST < -20 ? -20 : base - FB_URING_NICE_BOOST;
			CHECK_EQ(lo, want);
			CHECK_EQ(hi, want);
		}
		fb_session_unmount(se, 1);
		fb_uring_free(ur);
		fb_channel_free(ch);
		fb_session_free(se);
		fb_server_free(srv);
		fb_memfs_free(fs);
		rmdir(mnt);
	}
}

TEST(fallback_when_the_module_parameter_is_off)
{
	struct fb_uring_stats st;
	struct inproc p;
	int r;

	CHECK_OK(param_set('N'));
	r = inproc_start(&p, 1);
	if (r < 0) {
		inproc_stop(&p);
		param_set('Y');
		FBT_FAIL("in-process mount: %s", strerror(-r));
	}
	r = workload(p.mnt, 50);
	fb_uring_stats(p.ur, &st);
	inproc_stop(&p);
	param_set('Y');
	CHECK_EQ(r, 0);
	CHECK_EQ(st.active, 0);
	CHECK_EQ(st.requests, 0);
	CHECK(p.dev_other >= 50 * 5);
	CHECK_EQ(count_in(log_text, "serving over /dev/fuse"), 1);
	CHECK_EQ(count_in(log_text, "enable_uring is off"), 1);
}

TEST(fallback_when_the_kernel_refuses_the_entries)
{
	struct fb_uring_stats st;
	struct inproc p;
	int r;

	fb__uring_test_short_payload = 1;
	r = inproc_start(&p, 1);
	if (r < 0) {
		fb__uring_test_short_payload = 0;
		inproc_stop(&p);
		FBT_FAIL("in-process mount: %s", strerror(-r));
	}
	r = workload(p.mnt, 50);
	fb_uring_stats(p.ur, &st);
	inproc_stop(&p);
	fb__uring_test_short_payload = 0;
	CHECK_EQ(r, 0);
	CHECK_EQ(st.active, 0);
	CHECK_EQ(st.requests, 0);
	CHECK(p.dev_other >= 50 * 5);
	CHECK_EQ(count_in(log_text, "serving over /dev/fuse"), 1);
	CHECK_EQ(count_in(log_text, "refused the ring entries"), 1);
}

/* ------------------------------------------------------------------------------------------
 * The suites over the daemons.
 */

/* Read the whole of @path into @buf (NUL-terminated). */
static void slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;

	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
}

/* The number in the daemon's "stopped; N requests were served over the rings" line, or -1. */
static long long ring_requests(const char *log)
{
	const char *p = strstr(log, "io_uring: stopped; ");
	long long n;

	if (!p || sscanf(p, "io_uring: stopped; %lld requests", &n) != 1)
		return -1;
	return n;
}

/*
 * Start @daemon (fb-memfs, or fb-passthrough over a fresh source directory when @source)
 * with -f -o @opts, its output into a log file; run @bin in the mount (or call @fn with the
 * mount point when @bin is NULL); SIGTERM. Fills @log. Returns the suite's exit status (or
 * @fn's result); *@stop gets the daemon's.
 */
static int daemon_suite(const char *daemon, int source, const char *opts, const char *bin,
			int (*fn)(const char *mnt), char *log, size_t loglen, int *stop)
{
	char mnt[128], src[128] = "", logpath[160], envdir[200];
	/* the suite runs all its tests, whatever TEST_FILTER picked here */
	char *env[] = { envdir, "TEST_FILTER=", source ? NULL : E2E_MEMFS_SKIP, NULL };
	int fd, r;
	pid_t pid;

	*stop = -1;
	if (e2e_tempdir("uring-mnt", mnt, sizeof(mnt)) < 0)
		return -errno;
	if (source && e2e_tempdir("uring-src", src, sizeof(src)) < 0) {
		rmdir(mnt);
		return -errno;
	}
	snprintf(logpath, sizeof(logpath), "%s.log", mnt);
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	char *argv_memfs[] = { (char *)daemon, "-f", "-o", (char *)opts, mnt, NULL };
	char *argv_pt[] = { (char *)daemon, "-f", "-o", (char *)opts, src, mnt, NULL };
	pid = e2e_spawn(source ? argv_pt : argv_memfs, NULL, fd);
	close(fd);
	if (pid < 0 || e2e_wait_mount(mnt, 1, 10000) < 0) {
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		slurp(logpath, log, loglen);
		unlink(logpath);
		rmdir(mnt);
		if (source)
			rmdir(src);
		fprintf(stderr, "  %s did not mount:\n%s", daemon, log);
		return -ECHILD;
	}
	snprintf(envdir, sizeof(envdir), "FB_TEST_DIR=%s", mnt);
	char *argv_suite[] = { (char *)bin, NULL };
	fflush(NULL);
	if (bin) {
		pid_t spid = e2e_spawn(argv_suite, env, -1);

		r = spid < 0 ? spid : e2e_wait(spid, 20 * 60 * 1000L);
	} else {
		r = fn(mnt);
	}
	*stop = e2e_stop_daemon(pid, SIGTERM);
	while (e2e_is_fuse_mounted(mnt))
		if (umount2(mnt, MNT_DETACH) < 0)
			break;
	slurp(logpath, log, loglen);
	unlink(logpath);
	rmdir(mnt);
	if (source) {
		char cmd[200];

		snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", src);
		if (system(cmd) != 0)
			fprintf(stderr, "  cannot remove %s\n", src);
	}
	return r;
}

/* A suite over a daemon with -o io_uring: passes, and the rings did the work. */
static void suite_over_rings(const char *daemon, int source, const char *bin, const char *name,
			     long long min_requests)
{
	static char log[65536];
	long long n;
	int r, stop;

	if (!daemon)
		SKIP("the daemon was not built");
	if (!bin)
		SKIP("%s was not built", name);
	r = daemon_suite(daemon, source, "io_uring,uring_depth=8,allow_other,threads=1", bin, NULL,
			 log, sizeof(log), &stop);
	n = ring_requests(log);
	printf("# %s over %s -o io_uring: suite %d, daemon %d, %lld requests over the rings\n",
	       name, daemon, r, stop, n);
	if (r == 77)
		SKIP("%s skipped everything", name);
	if (r != 0 || stop != 0 || n < min_requests)
		fprintf(stderr, "  daemon log:\n%s", log);
	CHECK_EQ(r, 0);
	CHECK_EQ(stop, 0);
	CHECK_EQ(count_in(log, "io_uring: serving over"), 1);
	CHECK_EQ(count_in(log, "serving over /dev/fuse"), 0);
	CHECK(n >= min_requests);
}

TEST(syscalls_suite_over_memfs_rings)
{
	suite_over_rings(memfs_bin, 0, syscalls_bin, "e2e_syscalls", 5000);
}

TEST(stress_suite_over_memfs_rings)
{
	suite_over_rings(memfs_bin, 0, stress_bin, "e2e_stress", 5000);
}

TEST(syscalls_suite_over_passthrough_rings)
{
	suite_over_rings(pt_bin, 1, syscalls_bin, "e2e_syscalls", 5000);
}

TEST(stress_suite_over_passthrough_rings)
{
	suite_over_rings(pt_bin, 1, stress_bin, "e2e_stress", 5000);
}

TEST(syscalls_suite_fallback_with_the_parameter_off)
{
	static char log[65536];
	int r, stop;

	if (!memfs_bin)
		SKIP("fb-memfs was not built");
	if (!syscalls_bin)
		SKIP("e2e_syscalls was not built");
	CHECK_OK(param_set('N'));
	r = daemon_suite(memfs_bin, 0, "io_uring,allow_other,threads=2", syscalls_bin, NULL, log,
			 sizeof(log), &stop);
	param_set('Y');
	printf("# e2e_syscalls over fb-memfs -o io_uring, enable_uring=N: suite %d, daemon %d\n",
	       r, stop);
	if (r == 77)
		SKIP("e2e_syscalls skipped everything");
	if (r != 0 || stop != 0)
		fprintf(stderr, "  daemon log:\n%s", log);
	CHECK_EQ(r, 0);
	CHECK_EQ(stop, 0);
	CHECK_EQ(count_in(log, "serving over /dev/fuse"), 1);
	CHECK_EQ(count_in(log, "io_uring: serving over"), 0);
	CHECK_EQ(ring_requests(log), -1);
}

/* Create then remove GATHER_FILES files: the kernel forgets each inode at its unlink. */
#define GATHER_FILES 2000

static int create_and_unlink(const char *mnt)
{
	char path[256];

	for (int i = 0; i < GATHER_FILES; i++) {
		snprintf(path, sizeof(path), "%s/g%05d", mnt, i);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0 || close(fd) < 0)
			return 1;
	}
	for (int i = 0; i < GATHER_FILES; i++) {
		snprintf(path, sizeof(path), "%s/g%05d", mnt, i);
		if (unlink(path) < 0)
			return 2;
	}
	usleep(300 * 1000); /* the last FORGETs */
	return 0;
}

/*
 * Over the rings /dev/fuse carries only FORGETs (and INTERRUPTs), and a worker woken for each
 * forgotten inode would cost a context switch per unlink. After a FORGET the default loop
 * lets the next ones gather, so 2,000 unlinks arrive in far fewer FORGET / BATCH_FORGET
 * requests (without gathering it was about 1,700 here). The daemon's request log (-o debug)
 * counts them.
 */
TEST(forgets_are_gathered_over_the_rings)
{
	static char log[4 << 20];
	int r, stop, forgets;

	if (!memfs_bin)
		SKIP("fb-memfs was not built");
	r = daemon_suite(memfs_bin, 0, "io_uring,debug,threads=2", NULL, create_and_unlink, log,
			 sizeof(log), &stop);
	forgets = count_in(log, " FORGET nodeid=") + count_in(log, " BATCH_FORGET nodeid=");
	printf("# %d files created and unlinked over fb-memfs -o io_uring: %d FORGET and "
	       "BATCH_FORGET requests on /dev/fuse, %d UNLINKs logged\n", GATHER_FILES, forgets,
	       count_in(log, " UNLINK nodeid="));
	CHECK_EQ(r, 0);
	CHECK_EQ(stop, 0);
	CHECK_EQ(count_in(log, "io_uring: serving over"), 1);
	CHECK_EQ(count_in(log, " UNLINK nodeid="), GATHER_FILES);
	CHECK(forgets >= 1);
	CHECK(forgets <= GATHER_FILES / 4);
}

/*
 * A waiting lock must not stall the other requests of its queue: B waits in F_SETLKW for the
 * lock A holds, then A (on the same CPU, so the same queue) unlocks and closes. Over a queue
 * that serves one request at a time the unlock would wait behind B's SETLKW forever.
 */
static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static int lock_interrupt;	/* lock_scenario(): B is interrupted instead of served */

static void on_usr1(int sig)
{
	(void)sig;
}

static int lock_scenario(const char *mnt)
{
	char path[200];
	int go[2], held[2], fd;
	pid_t a, b;
	char c = 0;
	int ra, rb;

	snprintf(path, sizeof(path), "%s/lockfile", mnt);
	fd = open(path, O_RDWR | O_CREAT, 0644);
	if (fd < 0)
		return -errno;
	close(fd);
	if (pipe(go) < 0 || pipe(held) < 0)
		return -errno;
	fflush(NULL);
	a = fork();
	if (a == 0) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

		pin_cpu0();
		fd = open(path, O_RDWR);
		if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0)
			_exit(1);
		if (write(held[1], "h", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		/* B is waiting in the daemon by now (and, with lock_interrupt, interrupted) */
		e2e_sleep_ms(lock_interrupt ? 3000 : 300);
		fl.l_type = F_UNLCK;
		if (fcntl(fd, F_SETLK, &fl) < 0 || close(fd) < 0)
			_exit(3);
		_exit(0);
	}
	if (read(held[0], &c, 1) != 1) {
		waitpid(a, NULL, 0);
		return -EIO;
	}
	b = fork();
	if (b == 0) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

		struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */

		pin_cpu0();
		sigaction(SIGUSR1, &sa, NULL);
		fd = open(path, O_RDWR);
		if (fd < 0 || write(go[1], "g", 1) != 1)
			_exit(1);
		if (lock_interrupt)	/* the signal must end the wait: EINTR */
			_exit(fcntl(fd, F_SETLKW, &fl) < 0 && errno == EINTR ? 0 : 5);
		if (fcntl(fd, F_SETLKW, &fl) < 0)
			_exit(1);
		close(fd);
		_exit(0);
	}
	close(go[0]);
	close(go[1]);
	close(held[0]);
	close(held[1]);
	if (lock_interrupt) {
		e2e_sleep_ms(500);
		kill(b, SIGUSR1);
		rb = e2e_wait(b, 2000);	/* well before A lets go after 3 s */
		ra = e2e_wait(a, 15000);
	} else {
		ra = e2e_wait(a, 15000);
		rb = e2e_wait(b, 15000);
	}
	if (ra == -ETIMEDOUT || rb == -ETIMEDOUT) {
		fprintf(stderr, "  lock scenario hung (A %d, B %d)\n", ra, rb);
		kill(a, SIGKILL);
		kill(b, SIGKILL);
		waitpid(a, NULL, 0);
		waitpid(b, NULL, 0);
		return 99;
	}
	unlink(path);
	return ra != 0 ? 10 + ra : rb != 0 ? 20 + rb : 0;
}

TEST(waiting_lock_does_not_stall_its_queue)
{
	static char log[65536];
	int r, stop;

	if (!pt_bin)
		SKIP("fb-passthrough was not built");
	lock_interrupt = 0;
	r = daemon_suite(pt_bin, 1, "io_uring,uring_depth=4,threads=1,posix_lock", NULL, lock_scenario, log,
			 sizeof(log), &stop);
	printf("# lock scenario over fb-passthrough -o io_uring: %d, daemon %d, %lld requests "
	       "over the rings\n", r, stop, ring_requests(log));
	if (r != 0 || stop != 0)
		fprintf(stderr, "  daemon log:\n%s", log);
	CHECK_EQ(r, 0);
	CHECK_EQ(stop, 0);
	CHECK(ring_requests(log) > 0);
}

/*
 * Interrupts: the request is on a ring, its INTERRUPT comes through /dev/fuse, and the server
 * still ends it: a process waiting in F_SETLKW gets a signal and fcntl() fails with EINTR
 * long before the holder lets go.
 */
TEST(signal_interrupts_a_request_on_the_rings)
{
	static char log[65536];
	int r, stop;

	if (!pt_bin)
		SKIP("fb-passthrough was not built");
	lock_interrupt = 1;
	r = daemon_suite(pt_bin, 1, "io_uring,uring_depth=4,threads=1,posix_lock", NULL,
			 lock_scenario, log, sizeof(log), &stop);
	lock_interrupt = 0;
	printf("# interrupted lock over fb-passthrough -o io_uring: %d, daemon %d, %lld requests "
	       "over the rings\n", r, stop, ring_requests(log));
	if (r != 0 || stop != 0)
		fprintf(stderr, "  daemon log:\n%s", log);
	CHECK_EQ(r, 0);
	CHECK_EQ(stop, 0);
	CHECK(ring_requests(log) > 0);
}

/*
 * Many waiting locks on two daemon threads: 100 processes wait in F_SETLKW for a lock on one
 * passthrough file. The passthrough answers them later, so the daemon's threads stay free: a
 * lookup of another name answers at once meanwhile, a waiter that gets a signal gets EINTR in
 * under a second, and after the holder lets go every waiter gets the lock in turn (never two
 * at once).
 */
#define MANY_WAITERS 100	/* more than the /dev/fuse loop's spare workers (64) */

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* One byte from @fd within 5 s (a daemon with every thread held fails, not hangs, the test). */
static int ready_wait(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&p, 1, 5000) != 1 || read(fd, &c, 1) != 1)
		return -1;
	return 0;
}

/* Child: wait for the lock on @path, hold it briefly (alone: *@holders), let go. */
static void many_waiter(const char *path, int ready_fd, atomic_int *holders)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = open(path, O_RDWR);

	if (fd < 0 || write(ready_fd, "r", 1) != 1)
		_exit(1);
	if (fcntl(fd, F_SETLKW, &fl) < 0)
		_exit(2);
	if (atomic_fetch_add(holders, 1) != 0)
		_exit(3);	/* two holders at once */
	e2e_sleep_ms(5);
	atomic_fetch_sub(holders, 1);
	fl.l_type = F_UNLCK;
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		fprintf(stderr, "  waiter: unlock: %s\n", strerror(errno));
		_exit(4);
	}
	if (close(fd) < 0) {
		fprintf(stderr, "  waiter: close: %s\n", strerror(errno));
		_exit(6);
	}
	_exit(0);
}

static int many_waiters_scenario(const char *mnt)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
	pid_t kids[MANY_WAITERS], intr;
	int ready[2], fd, r = 0, n;
	long worst = 0, t_intr;
	struct timespec t0;
	atomic_int *holders;
	char path[200];
	struct stat st;

	holders = mmap(NULL, sizeof(*holders), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		       -1, 0);
	if (holders == MAP_FAILED)
		return -errno;
	atomic_init(holders, 0);
	snprintf(path, sizeof(path), "%s/lockfile", mnt);
	fd = open(path, O_RDWR | O_CREAT, 0644);	/* the holder: this process */
	if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0 || pipe(ready) < 0)
		return -errno;
	fflush(NULL);
	for (n = 0; n < MANY_WAITERS; n++) {
		kids[n] = fork();
		if (kids[n] == 0)
			many_waiter(path, ready[1], holders);
		if (kids[n] < 0 || ready_wait(ready[0]) < 0) {
			n += kids[n] > 0;
			r = 1;
			break;
		}
	}
	intr = r ? -1 : fork();
	if (intr == 0) {
		int ifd = open(path, O_RDWR);

		sigaction(SIGUSR1, &sa, NULL);
		if (ifd < 0 || write(ready[1], "r", 1) != 1)
			_exit(1);
		_exit(fcntl(ifd, F_SETLKW, &fl) < 0 && errno == EINTR ? 0 : 5);
	}
	if (intr < 0 || ready_wait(ready[0]) < 0)
		r = 1;
	e2e_sleep_ms(500);	/* every waiter is in the daemon by now */

	/* the daemon's two threads still answer: lookups of new names (never cached), in a
	 * child so that a daemon with every thread held fails the test rather than hangs it */
	pid_t looker = r ? -1 : fork();

	if (looker == 0) {
		for (int i = 0; i < 5; i++) {
			char other[220];
			long t;

			snprintf(other, sizeof(other), "%s/absent-%d", mnt, i);
			clock_gettime(CLOCK_MONOTONIC, &t0);
			if (stat(other, &st) == 0 || errno != ENOENT)
				_exit(2);
			t = ms_since(&t0);
			worst = t > worst ? t : worst;
		}
		printf("# %d waiting locks: slowest of 5 lookups meanwhile %ld ms\n",
		       MANY_WAITERS, worst);
		_exit(worst > 250 ? 3 : 0);
	}
	if (looker > 0) {
		int rl = e2e_wait(looker, 3000);

		if (rl == -ETIMEDOUT) {
			printf("# %d waiting locks: lookups meanwhile hang\n", n);
			kill(looker, SIGKILL);
			waitpid(looker, NULL, 0);
		}
		if (rl != 0)
			r = 3;
	}

	/* a signal ends one wait with EINTR, at once */
	if (intr > 0) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		kill(intr, SIGUSR1);
		int ri = e2e_wait(intr, 5000);

		t_intr = ms_since(&t0);
		printf("# interrupted waiter: status %d after %ld ms\n", ri, t_intr);
		if (ri == -ETIMEDOUT) {
			kill(intr, SIGKILL);
			waitpid(intr, NULL, 0);
		}
		if (r == 0 && (ri != 0 || t_intr >= 1000))
			r = 4;
	}

	/* let go: each waiter gets the lock in turn */
	fl.l_type = F_UNLCK;
	if (fcntl(fd, F_SETLK, &fl) < 0 && r == 0)
		r = 5;
	close(fd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		long left = 30000 - ms_since(&t0);
		int rk = e2e_wait(kids[i], left > 0 ? left : 0);

		if (rk == -ETIMEDOUT) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
		}
		if (rk != 0 && r == 0) {
			fprintf(stderr, "  waiter %d: status %d\n", i, rk);
			r = 10 + (rk < 0 ? 0 : rk);
		}
	}
	printf("# all %d waiters had the lock after %ld ms\n", n, ms_since(&t0));
	close(ready[0]);
	close(ready[1]);
	munmap(holders, sizeof(*holders));
	unlink(path);
	return r;
}

static void many_waiters_over(const char *opts)
{
	static char log[65536];
	int r, stop;

	if (!pt_bin)
		SKIP("fb-passthrough was not built");
	r = daemon_suite(pt_bin, 1, opts, NULL, many_waiters_scenario, log, sizeof(log), &stop);
	printf("# many waiting locks over fb-passthrough -o %s: %d, daemon %d\n", opts, r, stop);
	if (r != 0 || stop != 0)
		fprintf(stderr, "  daemon log:\n%s", log);
	CHECK_EQ(r, 0);
	CHECK_EQ(stop, 0);
}

TEST(many_waiting_locks_leave_the_threads_free_fusedev)
{
	many_waiters_over("threads=2,posix_lock");
}

/* A waiting request keeps its ring entry until answered: a queue needs more entries than
 * waiters (all may come to one queue) to serve the lookups. */
TEST(many_waiting_locks_leave_the_threads_free_rings)
{
	many_waiters_over("io_uring,uring_depth=128,threads=2,posix_lock");
}

TEST_MAIN()
