/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The mounted runner: mount fb-memfs on a fresh directory, run the POSIX suite (e2e_syscalls)
 * and the stress program (e2e_stress) inside it with FB_TEST_DIR, unmount with SIGTERM and
 * check the daemon exited 0. Also: the default_permissions variant, the daemon's memory
 * after a stress run, and examples/hello_loop.
 *
 * Environment (meson sets it): FB_MEMFS, FB_E2E_SYSCALLS, FB_E2E_STRESS, FB_HELLO_LOOP =
 * paths of the programs. A program that is missing skips its tests.
 */
#include <dirent.h>
#include <sys/mount.h>

#include "harness.h"
#include "e2e_util.h"

/* Built with AddressSanitizer (so is the daemon): freed memory sits in its quarantine. */
#if defined(__SANITIZE_ADDRESS__)
#define E2E_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define E2E_ASAN 1
#endif
#endif
#ifndef E2E_ASAN
#define E2E_ASAN 0
#endif

static const char *memfs, *syscalls_bin, *stress_bin, *hello_bin;

static const char *prog(const char *env)
{
	const char *p = getenv(env);

	return p && access(p, X_OK) == 0 ? p : NULL;
}

static int setup(void)
{
	memfs = prog("FB_MEMFS");
	syscalls_bin = prog("FB_E2E_SYSCALLS");
	stress_bin = prog("FB_E2E_STRESS");
	hello_bin = prog("FB_HELLO_LOOP");
	if (!memfs) {
		fprintf(stderr, "  skip: FB_MEMFS does not name the fb-memfs binary\n");
		return 1;
	}
	return e2e_need_root_and_fuse();
}
TEST_SETUP(setup)

struct mounted {
	char mnt[128];
	pid_t pid;
};

/* Mount fb-memfs -f -o OPTS on a fresh directory. */
static int mount_memfs(struct mounted *m, const char *opts)
{
	int r = e2e_tempdir("run", m->mnt, sizeof(m->mnt));

	if (r < 0)
		return r;
	char *argv[] = {(char *)memfs, "-f", "-o", (char *)opts, m->mnt, NULL};
	m->pid = e2e_start_daemon(argv, m->mnt);
	if (m->pid < 0) {
		rmdir(m->mnt);
		return m->pid;
	}
	return 0;
}

/* SIGTERM the daemon; returns its exit status. Always leaves nothing mounted. */
static int unmount_memfs(struct mounted *m)
{
	int status = e2e_stop_daemon(m->pid, SIGTERM);
	int still = e2e_is_fuse_mounted(m->mnt);

	while (e2e_is_fuse_mounted(m->mnt))
		if (umount2(m->mnt, MNT_DETACH) < 0)
			break;
	rmdir(m->mnt);
	if (still) {
		fprintf(stderr, "  the mount was still there after the daemon exited\n");
		return 200;
	}
	return status;
}

/* Run @bin with FB_TEST_DIR=@dir and the extra environment @extra (may be NULL). */
static int run_in(const char *bin, const char *dir, const char *extra)
{
	char envdir[256], envextra[128];
	char *env[4] = {envdir, E2E_MEMFS_SKIP, NULL, NULL};
	char *argv[] = {(char *)bin, NULL};
	pid_t pid;

	snprintf(envdir, sizeof(envdir), "FB_TEST_DIR=%s", dir);
	if (extra) {
		snprintf(envextra, sizeof(envextra), "%s", extra);
		env[2] = envextra;
	}
	fflush(stdout);
	pid = e2e_spawn(argv, env, -1);
	if (pid < 0)
		return pid;
	return e2e_wait(pid, 20 * 60 * 1000L);
}

/* Mount with @opts, run @bin inside, stop: both must succeed. */
static void run_suite(const char *bin, const char *name, const char *opts, const char *extra)
{
	struct mounted m;
	int r, stop;

	if (!bin)
		SKIP("%s was not built", name);
	CHECK_OK(mount_memfs(&m, opts));
	printf("# %s on fb-memfs -o %s at %s\n", name, opts, m.mnt);
	r = run_in(bin, m.mnt, extra);
	stop = unmount_memfs(&m);
	if (r == 77)
		SKIP("%s skipped everything", name);
	CHECK_EQ(r, 0);
	CHECK_EQ(stop, 0);
}

TEST(syscalls_threads1)
{
	run_suite(syscalls_bin, "e2e_syscalls", "threads=1,allow_other", NULL);
}

TEST(syscalls_threads4)
{
	run_suite(syscalls_bin, "e2e_syscalls", "threads=4,allow_other", NULL);
}

TEST(syscalls_default_permissions)
{
	run_suite(syscalls_bin, "e2e_syscalls", "threads=4,allow_other,default_permissions",
		  "FB_TEST_DEFAULT_PERMISSIONS=1");
}

TEST(stress_threads1)
{
	run_suite(stress_bin, "e2e_stress", "threads=1,allow_other", NULL);
}

static void drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

	sync();
	if (fd >= 0) {
		if (write(fd, "3", 1) != 1)
			fprintf(stderr, "  cannot drop caches: %s\n", strerror(errno));
		close(fd);
	}
}

/*
 * Drop caches and wait (up to 10 s) for the FORGETs to bring RSS to at most @limit KiB
 * (@limit < 0: measure once).
 */
static long settled_rss(pid_t pid, long limit)
{
	long rss = 0;

	for (int i = 0; i < 50; i++) {
		drop_caches();
		e2e_sleep_ms(200);
		rss = e2e_rss_kib(pid);
		if (limit < 0 || (rss >= 0 && rss <= limit))
			break;
	}
	return rss;
}

/*
 * Memory does not grow with the work done: after a stress run deleted its files and the
 * kernel forgot its inodes, the daemon's RSS is back near where it was. The first run warms
 * up what legitimately stays (each worker's request and reply buffers, malloc arenas); a
 * second run must then add almost nothing.
 *
 * Tolerance: after each run RSS <= start + 32 MiB (4 workers x 2 buffers of ~1 MiB each, plus
 * per-thread malloc arenas). Both runs are held to the same bound, not the second to the first:
 * how much of the arenas the first run happens to warm varies from run to run (seen: 3.6 MiB
 * to 12.5 MiB), so "second <= first + small" fails without any leak. A leak proportional to the
 * work (each run creates and deletes tens of thousands of files) breaks the bound.
 */
TEST(stress_threads4_memory_returns)
{
	struct mounted m;
	long start, after1, after2;
	int r1, r2, stop;

	if (!stress_bin)
		SKIP("e2e_stress was not built");
	CHECK_OK(mount_memfs(&m, "threads=4,allow_other"));
	struct stat st;
	stat(m.mnt, &st); /* INIT done */
	start = settled_rss(m.pid, -1);
	r1 = run_in(stress_bin, m.mnt, NULL);
	after1 = settled_rss(m.pid, E2E_ASAN ? -1 : start + 32 * 1024);
	r2 = run_in(stress_bin, m.mnt, NULL);
	after2 = settled_rss(m.pid, E2E_ASAN ? -1 : start + 32 * 1024);
	stop = unmount_memfs(&m);
	printf("# fb-memfs VmRSS: start %ld KiB, after stress run 1 %ld KiB (limit %ld), "
	       "after run 2 %ld KiB (limit %ld)\n",
	       start, after1, start + 32 * 1024, after2, start + 32 * 1024);
	if (r1 == 77 || r2 == 77)
		SKIP("e2e_stress skipped");
	CHECK_EQ(r1, 0);
	CHECK_EQ(r2, 0);
	CHECK_EQ(stop, 0);
	if (E2E_ASAN)
		SKIP("RSS says nothing under AddressSanitizer (its quarantine keeps freed memory)");
	CHECK(start > 0);
	CHECK(after1 <= start + 32 * 1024);
	CHECK(after2 <= start + 32 * 1024);
}

/* Without the other programs: big files through 4 workers, and a directory of many names. */
TEST(memfs_big_files_and_long_directory)
{
	struct mounted m;
	char path[256];
	static unsigned char buf[3 << 20], back[3 << 20];
	int ok = 1, names = 0;

	CHECK_OK(mount_memfs(&m, "threads=4"));
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + i / 4096);
	snprintf(path, sizeof(path), "%s/big", m.mnt);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ok = fd >= 0 && write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf) &&
	     pread(fd, back, sizeof(back), 0) == (ssize_t)sizeof(back) &&
	     memcmp(buf, back, sizeof(buf)) == 0;
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < 2000 && ok; i++) {
		snprintf(path, sizeof(path), "%s/file-with-a-longish-name-%05d", m.mnt, i);
		fd = open(path, O_WRONLY | O_CREAT, 0644);
		ok = fd >= 0;
		if (fd >= 0)
			close(fd);
	}
	DIR *d = opendir(m.mnt);
	struct dirent *e;
	while (d && (e = readdir(d)))
		names += strncmp(e->d_name, "file-with", 9) == 0;
	if (d)
		closedir(d);
	int stop = unmount_memfs(&m);
	CHECK(ok);
	CHECK_EQ(names, 2000);
	CHECK_EQ(stop, 0);
}

/* examples/hello_loop: mount, the file it creates can be stat'ed and read, SIGTERM ends it. */
TEST(hello_loop_example)
{
	char mnt[128], path[200], text[64] = "";
	struct stat st;
	pid_t pid;
	int have = -1, n = -1;

	if (!hello_bin)
		SKIP("hello_loop was not built");
	CHECK_OK(e2e_tempdir("hello", mnt, sizeof(mnt)));
	char *argv[] = {(char *)hello_bin, mnt, NULL};
	pid = e2e_start_daemon(argv, mnt);
	CHECK(pid > 0);
	snprintf(path, sizeof(path), "%s/hello", mnt);
	for (int i = 0; i < 250 && have < 0; i++) {
		have = stat(path, &st);
		if (have < 0)
			e2e_sleep_ms(20);
	}
	int fd = open(path, O_RDONLY);
	if (fd >= 0) {
		n = (int)read(fd, text, sizeof(text) - 1);
		close(fd);
	}
	int status = e2e_stop_daemon(pid, SIGTERM);
	int still = e2e_is_fuse_mounted(mnt);
	if (still)
		umount2(mnt, MNT_DETACH);
	rmdir(mnt);
	CHECK_EQ(have, 0);
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_size, 14);
	CHECK_EQ(n, 14);
	CHECK_STR(text, "Hello, world!\n");
	CHECK_EQ(status, 0);
	CHECK(!still);
}

TEST_MAIN()
