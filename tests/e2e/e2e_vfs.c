/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The VFS over /dev/fuse: one mount of fb-memfs serving a memfs at /a and a passthrough at
 * /b (--mount), changed at run time through its control socket (--control).
 *
 *   syscalls_memfs_at_a, syscalls_passthrough_at_b   e2e_syscalls in each backend
 *   fb_ctl_commands                                    fb-ctl's replies and exit codes
 *   inode_numbers_unique_across_backends               two memfs backends and the pseudo fs:
 *                                                      distinct st_ino/stx_ino/d_ino, and
 *                                                      find(1) sees no file system loop
 *   mount_umount_1000                                  a backend mounted and unmounted 1,000
 *                                                      times while another process reads and
 *                                                      writes in /a: no error there, no growth
 *                                                      of the daemon's VmRSS or fd count
 *
 * Environment: FB_MEMFS, FB_CTL, FB_E2E_SYSCALLS (set by meson). Exits 77 without root or
 * /dev/fuse.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "e2e_util.h"

/* Built with AddressSanitizer (so is the daemon): freed memory sits in its quarantine, so
 * VmRSS says nothing; LeakSanitizer checks at the daemon's exit instead (daemon_exit_clean). */
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

static const char *memfs_bin, *ctl_bin, *syscalls_bin;
static char top[40], mnt[64], src[64], sock[64];
static pid_t daemon_pid = -1;

static int setup(void)
{
	char *argv[16];
	int n = 0;

	if (e2e_need_root_and_fuse())
		return 1;
	memfs_bin = getenv("FB_MEMFS");
	ctl_bin = getenv("FB_CTL");
	syscalls_bin = getenv("FB_E2E_SYSCALLS");
	if (!memfs_bin || access(memfs_bin, X_OK) != 0) {
		fprintf(stderr, "  skip: FB_MEMFS does not name fb-memfs\n");
		return 1;
	}
	snprintf(top, sizeof(top), "/tmp/fb-vfs-e2e-XXXXXX");
	if (!mkdtemp(top))
		return 1;
	chmod(top, 0755);
	snprintf(mnt, sizeof(mnt), "%s/mnt", top);
	snprintf(src, sizeof(src), "%s/src", top);
	snprintf(sock, sizeof(sock), "%s/ctl", top);
	mkdir(mnt, 0755);
	mkdir(src, 0755);

	static char mount_a[] = "/a=memfs";
	static char mount_b[300];

	snprintf(mount_b, sizeof(mount_b), "/b=passthrough:%s", src);
	argv[n++] = (char *)memfs_bin;
	argv[n++] = "-f";
	argv[n++] = "-o";
	argv[n++] = "allow_other,threads=4";
	argv[n++] = "--mount";
	argv[n++] = mount_a;
	argv[n++] = "--mount";
	argv[n++] = mount_b;
	argv[n++] = "--control";
	argv[n++] = sock;
	argv[n++] = mnt;
	argv[n] = NULL;
	daemon_pid = e2e_start_daemon(argv, mnt);
	if (daemon_pid < 0) {
		fprintf(stderr, "  fb-memfs with --mount/--control did not mount: %s\n",
			strerror((int)-daemon_pid));
		return 1;
	}
	return 0;
}

static int teardown(void)
{
	if (daemon_pid > 0) {
		int r = e2e_stop_daemon(daemon_pid, SIGTERM);

		if (r != 0)
			fprintf(stderr, "  daemon exit status %d\n", r);
	}
	umount2(mnt, MNT_DETACH);
	rmdir(mnt);
	rmdir(src);
	rmdir(top);
	return 0;
}

TEST_SETUP(setup)
TEST_TEARDOWN(teardown)

/* Run e2e_syscalls on @dir (compare with @compare when not NULL); its summary is printed. */
static int run_syscalls(const char *dir, const char *compare)
{
	char env_dir[256], env_cmp[256], log[160], line[256], last[256] = "";
	char *argv[] = {(char *)syscalls_bin, NULL};
	/*
	 * Neither file system here gets FB_HANDLE_KILLPRIV_V2 from the VFS (see E2E_MEMFS_SKIP),
	 * and a sub-file system's notifications name its own inode numbers, not the VFS's: the
	 * passthrough's "mode changed" invalidation does not reach the right kernel inode.
	 */
	char *env[5] = {env_dir, "TEST_FILTER=",
			E2E_MEMFS_SKIP ",direct_write_owner_clears_suid_now", NULL, NULL};
	FILE *f;
	int fd, r;
	pid_t pid;

	snprintf(env_dir, sizeof(env_dir), "FB_TEST_DIR=%s", dir);
	if (compare) {
		snprintf(env_cmp, sizeof(env_cmp), "FB_TEST_COMPARE_DIR=%s", compare);
		env[3] = env_cmp;
	}
	snprintf(log, sizeof(log), "%s/syscalls.log", top);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	pid = e2e_spawn(argv, env, fd);
	close(fd);
	if (pid < 0)
		return (int)pid;
	r = e2e_wait(pid, 900000);
	if (r == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	f = fopen(log, "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "FAIL", 4) == 0 || strncmp(line, "  ", 2) == 0)
			fprintf(stderr, "    %s", line);
		snprintf(last, sizeof(last), "%s", line);
	}
	if (f)
		fclose(f);
	printf("  e2e_syscalls in %s: %s", dir, last);
	unlink(log);
	if (r == 0 && strncmp(last, "0 passed", 8) == 0)
		return -ENOENT; /* ran nothing */
	return r;
}

TEST(syscalls_memfs_at_a)
{
	char dir[200];

	if (!syscalls_bin || access(syscalls_bin, X_OK) != 0)
		SKIP("FB_E2E_SYSCALLS not set");
	snprintf(dir, sizeof(dir), "%s/a", mnt);
	CHECK_EQ(run_syscalls(dir, NULL), 0);
}

TEST(syscalls_passthrough_at_b)
{
	char dir[200];

	if (!syscalls_bin || access(syscalls_bin, X_OK) != 0)
		SKIP("FB_E2E_SYSCALLS not set");
	snprintf(dir, sizeof(dir), "%s/b", mnt);
	CHECK_EQ(run_syscalls(dir, src), 0);
}

static int ctl(char *out, size_t len, const char *a, const char *b, const char *c)
{
	char *argv[] = {(char *)ctl_bin, sock, (char *)a, (char *)b, (char *)c, NULL};

	return e2e_run_capture(argv, out, len);
}

TEST(fb_ctl_commands)
{
	char out[4096], path[256];
	struct stat st;

	if (!ctl_bin || access(ctl_bin, X_OK) != 0)
		SKIP("FB_CTL not set");
	CHECK_EQ(stat(sock, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0600);
	CHECK_EQ(ctl(out, sizeof(out), "list", NULL, NULL), 0);
	CHECK(strncmp(out, "ok 2\n/a memfs - 1\n/b passthrough ", 33) == 0);
	CHECK_EQ(ctl(out, sizeof(out), "mount", "/c/d", "memfs:ro"), 0);
	CHECK(strncmp(out, "ok slot ", 8) == 0);
	snprintf(path, sizeof(path), "%s/c/d", mnt);
	CHECK_OK(stat(path, &st));
	CHECK(S_ISDIR(st.st_mode));
	snprintf(path, sizeof(path), "%s/c/d/x", mnt);
	CHECK_ERR(mkdir(path, 0755), -EROFS);
	/* refusals: exit 1, the message on stderr */
	CHECK_EQ(ctl(out, sizeof(out), "mount", "/a/inner", "memfs"), 1);
	CHECK(strstr(out, "error EBUSY: /a/inner is inside the backend mounted at /a") != NULL);
	CHECK_EQ(ctl(out, sizeof(out), "mount", "/c/d", "memfs"), 1);
	CHECK(strstr(out, "error EEXIST") != NULL);
	CHECK_EQ(ctl(out, sizeof(out), "mount", "/e", "nosuch:x"), 1);
	CHECK(strstr(out, "error ENOENT: unknown backend type") != NULL);
	CHECK_EQ(ctl(out, sizeof(out), "umount", "/c/d", NULL), 0);
	snprintf(path, sizeof(path), "%s/c", mnt);
	CHECK_ERR(stat(path, &st), -ENOENT);
	CHECK_EQ(ctl(out, sizeof(out), "umount", "/c/d", NULL), 1);
	CHECK(strstr(out, "error ENOENT") != NULL);
	/* usage */
	CHECK_EQ(ctl(out, sizeof(out), "frob", NULL, NULL), 2);
}

/* st_ino of @mnt/@rel by stat(2), checked against statx(2); 0 on failure. */
static uint64_t ino_of(const char *rel)
{
	char path[256];
	struct statx sx;
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", mnt, rel);
	if (stat(path, &st) != 0 || statx(AT_FDCWD, path, 0, STATX_INO, &sx) != 0)
		return 0;
	return sx.stx_ino == st.st_ino ? (uint64_t)st.st_ino : 0;
}

/* d_ino of @name in directory @mnt/@rel, 0 when absent. */
static uint64_t dino_of(const char *rel, const char *name)
{
	char path[256];
	struct dirent *d;
	uint64_t ino = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "%s%s", mnt, rel);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((d = readdir(dir)))
		if (strcmp(d->d_name, name) == 0)
			ino = d->d_ino;
	closedir(dir);
	return ino;
}

/*
 * Every backend numbers its inodes from 1 like the pseudo root: without the VFS's mapping two
 * memfs show the same st_ino for their roots (find: "File system loop detected") and files.
 */
TEST(inode_numbers_unique_across_backends)
{
	static const char *const rel[] = {"",	   "/a",     "/m2",	"/b",	    "/a/f",
					  "/m2/f", "/a/dir", "/m2/dir", "/a/dir/g", "/m2/dir/g"};
	uint64_t ino[sizeof(rel) / sizeof(rel[0])];
	char out[8192], path[256];
	int fd;
	char *find_argv[] = {"/usr/bin/find", mnt, NULL};

	if (!ctl_bin || access(ctl_bin, X_OK) != 0)
		SKIP("FB_CTL not set");
	CHECK_EQ(ctl(out, sizeof(out), "mount", "/m2", "memfs"), 0);
	for (int i = 0; i < 2; i++) {
		const char *b = i ? "/m2" : "/a";

		snprintf(path, sizeof(path), "%s%s/f", mnt, b);
		fd = open(path, O_CREAT | O_WRONLY, 0644);
		CHECK(fd >= 0);
		close(fd);
		snprintf(path, sizeof(path), "%s%s/dir", mnt, b);
		CHECK_OK(mkdir(path, 0755));
		snprintf(path, sizeof(path), "%s%s/dir/g", mnt, b);
		fd = open(path, O_CREAT | O_WRONLY, 0644);
		CHECK(fd >= 0);
		close(fd);
	}
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		ino[i] = ino_of(rel[i]);
		CHECK(ino[i] != 0);
		for (size_t j = 0; j < i; j++)
			CHECK(ino[i] != ino[j]);
	}
	/* The same numbers in listings (READDIRPLUS or READDIR, whichever the kernel sends). */
	CHECK_EQ(dino_of("/a", "f"), ino[4]);
	CHECK_EQ(dino_of("/m2", "f"), ino[5]);
	CHECK_EQ(dino_of("/m2/dir", "g"), ino[9]);
	/* Stable: asked again after the kernel dropped its dentries and inodes (where this
	 * machine lets us: a container may not), so the backends are asked anew. */
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "2", 1) != 1)
			fprintf(stderr, "  drop_caches: %s\n", strerror(errno));
		close(fd);
	}
	CHECK_EQ(ino_of("/m2/dir/g"), ino[9]);
	CHECK_EQ(ino_of("/a"), ino[1]);
	/* find(1) walks every backend and reports no loop. */
	CHECK_EQ(e2e_run_capture(find_argv, out, sizeof(out)), 0);
	CHECK(strstr(out, "loop") == NULL);
	snprintf(path, sizeof(path), "%s/m2/dir/g\n", mnt);
	CHECK(strstr(out, path) != NULL);
	snprintf(path, sizeof(path), "%s/a/dir/g\n", mnt);
	CHECK(strstr(out, path) != NULL);
	for (int i = 0; i < 2; i++) {
		const char *b = i ? "/m2" : "/a";

		snprintf(path, sizeof(path), "%s%s/dir/g", mnt, b);
		CHECK_OK(unlink(path));
		snprintf(path, sizeof(path), "%s%s/dir", mnt, b);
		CHECK_OK(rmdir(path));
		snprintf(path, sizeof(path), "%s%s/f", mnt, b);
		CHECK_OK(unlink(path));
	}
	CHECK_EQ(ctl(out, sizeof(out), "umount", "/m2", NULL), 0);
}

/* Send one request line straight to the socket; the reply goes to @out. */
static int ctl_direct(const char *line, char *out, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t got = 0;
	ssize_t n;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		if (fd >= 0)
			close(fd);
		return r;
	}
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0) {
		close(fd);
		return -errno;
	}
	while (got + 1 < len && (n = read(fd, out + got, len - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fd);
	return strncmp(out, "ok", 2) == 0 ? 0 : -EIO;
}

static int count_fds(pid_t pid)
{
	char path[64];
	struct dirent *d;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

static volatile sig_atomic_t worker_stop;

static void on_usr1(int sig)
{
	(void)sig;
	worker_stop = 1;
}

/* The sibling: write, read back and list in /a until told to stop; exit status = errors. */
static void worker(const char *dir)
{
	static char wbuf[65536], rbuf[65536];
	long ops = 0, errors = 0;
	char path[300];

	signal(SIGUSR1, on_usr1);
	while (!worker_stop) {
		int fd;

		snprintf(path, sizeof(path), "%s/w%ld", dir, ops % 8);
		memset(wbuf, (int)(ops & 0xff), sizeof(wbuf));
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || pwrite(fd, wbuf, sizeof(wbuf), 0) != (ssize_t)sizeof(wbuf) ||
		    pread(fd, rbuf, sizeof(rbuf), 0) != (ssize_t)sizeof(rbuf) ||
		    memcmp(wbuf, rbuf, sizeof(wbuf)) != 0) {
			if (errors++ < 5)
				fprintf(stderr, "    worker: %s: %s\n", path, strerror(errno));
		}
		if (fd >= 0)
			close(fd);
		if (ops % 16 == 0) {
			DIR *d = opendir(dir);

			if (!d)
				errors++;
			else
				closedir(d);
			if (unlink(path) < 0)
				errors++;
		}
		ops++;
	}
	printf("  sibling worker: %ld rounds of write/read in /a, %ld errors\n", ops, errors);
	_exit(errors > 255 ? 255 : (int)errors);
}

TEST(mount_umount_1000)
{
	char out[256], path[256], line[64];
	long rss0, rss1;
	int fds0, fds1, max_slot = 0, status;
	pid_t w;

	snprintf(path, sizeof(path), "%s/a", mnt);
	w = fork();
	CHECK(w >= 0);
	if (w == 0)
		worker(path);
	/* Warm up (allocator pools, the control thread's buffers) before the baseline. */
	for (int i = 0; i < 50; i++) {
		CHECK_EQ(ctl_direct("mount /m memfs\n", out, sizeof(out)), 0);
		CHECK_EQ(ctl_direct("umount /m\n", out, sizeof(out)), 0);
	}
	rss0 = e2e_rss_kib(daemon_pid);
	fds0 = count_fds(daemon_pid);
	for (int i = 0; i < 1000; i++) {
		int slot = 0;

		if (ctl_direct(i % 2 ? "mount /m memfs\n" : "mount /m/n memfs:ro\n", out,
			       sizeof(out)) != 0)
			FBT_FAIL("mount %d: %s", i, out);
		if (sscanf(out, "ok slot %d", &slot) == 1 && slot > max_slot)
			max_slot = slot;
		/* Let the kernel look things up in it, so that its inodes must be forgotten. */
		if (i % 2) {
			struct stat st;
			int fd;

			snprintf(path, sizeof(path), "%s/m/f%d", mnt, i);
			fd = open(path, O_RDWR | O_CREAT, 0644);
			if (fd < 0 || write(fd, "x", 1) != 1)
				FBT_FAIL("file in the new backend: %s", strerror(errno));
			close(fd);
			CHECK_OK(stat(path, &st));
		} else {
			snprintf(path, sizeof(path), "%s/m/n", mnt);
			CHECK_OK(access(path, R_OK));
		}
		snprintf(line, sizeof(line), "umount %s\n", i % 2 ? "/m" : "/m/n");
		if (ctl_direct(line, out, sizeof(out)) != 0)
			FBT_FAIL("umount %d: %s", i, out);
	}
	rss1 = e2e_rss_kib(daemon_pid);
	fds1 = count_fds(daemon_pid);
	kill(w, SIGUSR1);
	CHECK_EQ(waitpid(w, &status, 0), w);
	printf("  1000 mounts: highest slot %d; daemon VmRSS %ld -> %ld KiB, fds %d -> %d\n",
	       max_slot, rss0, rss1, fds0, fds1);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	/* Slots came back (the kernel forgot the unmounted backends' inodes) */
	CHECK(max_slot < 255);
	CHECK(fds1 <= fds0 + 2);
	if (!E2E_ASAN)
		CHECK(rss1 <= rss0 + 4096);
	CHECK_EQ(ctl_direct("list\n", out, sizeof(out)), 0);
	CHECK(strncmp(out, "ok 2\n", 5) == 0);
}

/* Last: the daemon ends cleanly on SIGTERM (under ASan: with no leak reported). */
TEST(daemon_exit_clean)
{
	int r = e2e_stop_daemon(daemon_pid, SIGTERM);

	daemon_pid = -1;
	CHECK_EQ(r, 0);
	CHECK_EQ(e2e_wait_mount(mnt, 0, 5000), 0);
	CHECK_ERR(access(sock, F_OK), -ENOENT);
}

TEST_MAIN()
