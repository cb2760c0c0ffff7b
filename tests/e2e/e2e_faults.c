/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * What happens to a mount when its daemon dies, is told to stop, or cannot start: the
 * behaviour users see from fb-memfs (the /dev/fuse transport and the library's start-up code,
 * fuse_backend/main.h).
 *
 * Environment: FB_MEMFS = path of the fb-memfs binary (meson sets it).
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/statvfs.h>

#include "harness.h"
#include "e2e_util.h"

static const char *memfs;

static int setup(void)
{
	memfs = getenv("FB_MEMFS");
	if (!memfs || access(memfs, X_OK) != 0) {
		fprintf(stderr, "  skip: FB_MEMFS does not name the fb-memfs binary\n");
		return 1;
	}
	return e2e_need_root_and_fuse();
}
TEST_SETUP(setup)

/* Leave nothing mounted or running behind, whatever the test did. */
static void cleanup(const char *mnt, pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	while (e2e_is_fuse_mounted(mnt))
		if (umount2(mnt, MNT_DETACH) < 0)
			break;
	rmdir(mnt);
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		r = -EIO;
	close(fd);
	return r;
}

/* SIGKILL: the mount stays, answering ENOTCONN, until "umount -l" removes it. */
TEST(sigkill_leaves_enotconn_until_lazy_umount)
{
	char mnt[128];
	struct stat st;
	pid_t pid;

	CHECK_OK(e2e_tempdir("kill", mnt, sizeof(mnt)));
	char *argv[] = {(char *)memfs, "-f", mnt, NULL};
	pid = e2e_start_daemon(argv, mnt);
	CHECK(pid > 0);
	if (write_file(mnt, "f", "data") < 0) {
		cleanup(mnt, pid);
		FBT_FAIL("cannot write through the mount");
	}
	kill(pid, SIGKILL);
	CHECK_EQ(e2e_wait(pid, 5000), 128 + SIGKILL);
	errno = 0;
	int r = stat(mnt, &st);
	int err = errno;
	int mounted = e2e_is_fuse_mounted(mnt);
	int lazy = umount2(mnt, MNT_DETACH);
	int gone = !e2e_is_fuse_mounted(mnt);
	cleanup(mnt, 0);
	CHECK_EQ(r, -1);
	CHECK_EQ(err, ENOTCONN);
	CHECK(mounted);
	CHECK_EQ(lazy, 0);
	CHECK(gone);
}

/* A new daemon refuses a dead mount with a message that says how to clean it up. */
TEST(dead_mount_refused_with_hint)
{
	char mnt[128], out[2048];
	pid_t pid;

	CHECK_OK(e2e_tempdir("dead", mnt, sizeof(mnt)));
	char *argv[] = {(char *)memfs, "-f", mnt, NULL};
	pid = e2e_start_daemon(argv, mnt);
	CHECK(pid > 0);
	kill(pid, SIGKILL);
	e2e_wait(pid, 5000);
	int status = e2e_run_capture(argv, out, sizeof(out));
	cleanup(mnt, 0);
	CHECK_EQ(status, 1);
	CHECK(strstr(out, "umount -l") != NULL);
}

/* -o auto_unmount: the mount disappears by itself when the daemon is killed. */
TEST(auto_unmount_after_sigkill)
{
	char mnt[128];
	pid_t pid;

	CHECK_OK(e2e_tempdir("auto", mnt, sizeof(mnt)));
	char *argv[] = {(char *)memfs, "-f", "-o", "auto_unmount", mnt, NULL};
	pid = e2e_start_daemon(argv, mnt);
	CHECK(pid > 0);
	int w = write_file(mnt, "f", "data");
	kill(pid, SIGKILL);
	e2e_wait(pid, 5000);
	int r = e2e_wait_mount(mnt, 0, 5000);
	cleanup(mnt, 0);
	CHECK_EQ(w, 0);
	CHECK_EQ(r, 0);
}

/* How many times @needle occurs in @hay. */
static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* The source ("fsname") of the mount exactly on @path, from mountinfo ("" when none). */
static void mount_source(const char *path, char *src, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];

	src[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		char mp[2048], s[256];
		const char *dash = strstr(line, " - ");

		if (sscanf(line, "%*s %*s %*s %*s %2047s", mp) != 1 || !dash)
			continue;
		if (strcmp(mp, path) == 0 && sscanf(dash + 3, "%*s %255s", s) == 1)
			snprintf(src, len, "%s", s);
	}
	if (f)
		fclose(f);
}

/*
 * A daemon killed while the kernel still caches its root's attributes: stat() of the mount
 * point succeeds, but the mount is dead. A new daemon must call it stale and say how to clean
 * up (one line), not "already a FUSE mount in use".
 */
TEST(dead_mount_with_cached_root_reported_stale)
{
	char mnt[128], out[2048];
	struct stat st;
	pid_t pid;

	CHECK_OK(e2e_tempdir("stale", mnt, sizeof(mnt)));
	char *argv[] = {(char *)memfs, "-f", "-o", "attr_timeout=600,entry_timeout=600", mnt,
			NULL};
	char *again[] = {(char *)memfs, "-f", mnt, NULL};
	pid = e2e_start_daemon(argv, mnt);
	CHECK(pid > 0);
	int s1 = stat(mnt, &st);
	kill(pid, SIGKILL);
	e2e_wait(pid, 5000);
	int s2 = stat(mnt, &st); /* from the cache: the daemon is gone */
	int status = e2e_run_capture(again, out, sizeof(out));
	cleanup(mnt, 0);
	CHECK_EQ(s1, 0);
	CHECK_EQ(s2, 0);
	CHECK_EQ(status, 1);
	CHECK(strstr(out, "stale FUSE mount") != NULL);
	CHECK(strstr(out, "umount -l") != NULL);
	CHECK(strstr(out, "in use") == NULL);
	CHECK_EQ(count_of(out, "\n"), 1);
}

/* One mount-point error, one line, naming the program. */
TEST(mountpoint_error_is_one_line)
{
	char out[2048];
	char *argv[] = {(char *)memfs, "/tmp/fb-fusedev-does-not-exist/x", NULL};

	CHECK_EQ(e2e_run_capture(argv, out, sizeof(out)), 1);
	CHECK_EQ(count_of(out, "\n"), 1);
	CHECK(strncmp(out, "fb-memfs: ", 10) == 0);
	CHECK(strstr(out, "does not exist") != NULL);
}

/* An unknown option: the error names the option, and --help once. */
TEST(unknown_option_names_help_once)
{
	char out[2048];
	char *a1[] = {(char *)memfs, "--bogus", "/tmp", NULL};
	char *a2[] = {(char *)memfs, "-o", "bogus", "/tmp", NULL};

	CHECK_EQ(e2e_run_capture(a1, out, sizeof(out)), 1);
	CHECK(strstr(out, "--bogus") != NULL);
	CHECK_EQ(count_of(out, "--help"), 1);
	CHECK_EQ(e2e_run_capture(a2, out, sizeof(out)), 1);
	CHECK(strstr(out, "bogus") != NULL);
	CHECK_EQ(count_of(out, "--help"), 1);
}

/* --help: every option once, every description in the same column. */
TEST(help_lists_each_option_once_aligned)
{
	static const char *const opts[] = {"-o size=", "-o max_inodes=", "-o root_mode=",
					   "--mount ", "--control ", "-o allow_other",
					   "-o threads=", "-o auto_unmount"};
	char out[8192], *save = NULL;
	char *argv[] = {(char *)memfs, "--help", NULL};
	int col = -1, misaligned = 0;

	CHECK_EQ(e2e_run_capture(argv, out, sizeof(out)), 0);
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		char needle[64];

		snprintf(needle, sizeof(needle), "    %s", opts[i]);
		if (count_of(out, needle) != 1)
			FBT_FAIL("'%s' listed %d times", opts[i], count_of(out, needle));
	}
	for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *gap;

		if (strncmp(l, "    -", 5) != 0 || !(gap = strstr(l + 4, "  ")))
			continue;
		while (*gap == ' ')
			gap++;
		if (col < 0)
			col = (int)(gap - l);
		else if ((int)(gap - l) != col)
			misaligned++;
	}
	CHECK_EQ(misaligned, 0);
}

/* -o size=0 would silently mount 1 GiB: refused, saying why; nothing is mounted. */
TEST(size_zero_refused)
{
	char mnt[128], out[2048];

	CHECK_OK(e2e_tempdir("size0", mnt, sizeof(mnt)));
	char *argv[] = {(char *)memfs, "-f", "-o", "size=0", mnt, NULL};
	int status = e2e_run_capture(argv, out, sizeof(out));
	int mounted = e2e_is_fuse_mounted(mnt);
	cleanup(mnt, 0);
	CHECK_EQ(status, 1);
	CHECK(strstr(out, "'size' out of range") != NULL);
	CHECK(!mounted);
}

/* libfuse's -o subtype=NAME and -o fsname=NAME; -o subtype= is the plain type "fuse". */
TEST(subtype_and_fsname_as_libfuse)
{
	char mnt[128], out[2048], type1[256], src1[256], type2[256];

	CHECK_OK(e2e_tempdir("subtype", mnt, sizeof(mnt)));
	char *a1[] = {(char *)memfs, "-o", "subtype=mine,fsname=mydata", mnt, NULL};
	char *a2[] = {(char *)memfs, "-o", "subtype=", mnt, NULL};
	int st1 = e2e_run_capture(a1, out, sizeof(out));
	e2e_mount_type(mnt, type1, sizeof(type1));
	mount_source(mnt, src1, sizeof(src1));
	umount2(mnt, 0);
	e2e_wait_mount(mnt, 0, 5000);
	int st2 = e2e_run_capture(a2, out, sizeof(out));
	e2e_mount_type(mnt, type2, sizeof(type2));
	umount2(mnt, 0);
	e2e_wait_mount(mnt, 0, 5000);
	cleanup(mnt, 0);
	CHECK_EQ(st1, 0);
	CHECK_STR(type1, "fuse.mine");
	CHECK_STR(src1, "mydata");
	CHECK_EQ(st2, 0);
	CHECK_STR(type2, "fuse");
}

/*
 * "fb-memfs -o auto_unmount MNT | cmd": the command returns once mounted, and the pipe ends
 * then (the fusermount3 helper that waits to unmount must not hold the caller's stdout).
 */
TEST(auto_unmount_background_does_not_hold_stdout)
{
	char mnt[128], out[2048];

	CHECK_OK(e2e_tempdir("aupipe", mnt, sizeof(mnt)));
	char *argv[] = {(char *)memfs, "-o", "auto_unmount", mnt, NULL};
	long t0 = now_ms();
	int status = e2e_run_capture(argv, out, sizeof(out)); /* reads until end of file */
	long took = now_ms() - t0;
	int mounted = e2e_is_fuse_mounted(mnt);
	umount2(mnt, 0);
	e2e_wait_mount(mnt, 0, 5000);
	cleanup(mnt, 0);
	CHECK_EQ(status, 0);
	CHECK(mounted);
	if (took > 10000)
		FBT_FAIL("the pipe stayed open %ld ms after the mount", took);
}

/* auto_unmount does not get in the way of a clean stop. */
TEST(auto_unmount_sigterm_exits_zero)
{
	char mnt[128];
	pid_t pid;

	CHECK_OK(e2e_tempdir("autot", mnt, sizeof(mnt)));
	char *argv[] = {(char *)memfs, "-f", "-o", "auto_unmount", mnt, NULL};
	pid = e2e_start_daemon(argv, mnt);
	CHECK(pid > 0);
	int status = e2e_stop_daemon(pid, SIGTERM);
	int still = e2e_is_fuse_mounted(mnt);
	cleanup(mnt, 0);
	CHECK_EQ(status, 0);
	CHECK(!still);
}

static void stop_with(int sig, int keep_busy)
{
	char mnt[128], path[200];
	pid_t pid;
	int fd = -1;

	CHECK_OK(e2e_tempdir("term", mnt, sizeof(mnt)));
	char *argv[] = {(char *)memfs, "-f", "-o", "threads=2", mnt, NULL};
	pid = e2e_start_daemon(argv, mnt);
	CHECK(pid > 0);
	int w = write_file(mnt, "f", "data");
	if (keep_busy) {
		snprintf(path, sizeof(path), "%s/f", mnt);
		fd = open(path, O_RDONLY);
	}
	int status = e2e_stop_daemon(pid, sig);
	int still = e2e_is_fuse_mounted(mnt);
	char buf[8];
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : 0;
	int rerr = errno;
	if (fd >= 0)
		close(fd);
	cleanup(mnt, 0);
	CHECK_EQ(w, 0);
	CHECK_EQ(status, 0);
	CHECK(!still);
	if (keep_busy) {
		/* The connection was aborted: the open file answers an error, not a hang. */
		CHECK_EQ(n, -1);
		CHECK(rerr == ENOTCONN || rerr == ENODEV || rerr == EIO);
	}
}

TEST(sigterm_unmounts_and_exits_zero)
{
	stop_with(SIGTERM, 0);
}

TEST(sigint_unmounts_and_exits_zero)
{
	stop_with(SIGINT, 0);
}

TEST(sighup_unmounts_and_exits_zero)
{
	stop_with(SIGHUP, 0);
}

/* A file held open does not keep the daemon from stopping. */
TEST(sigterm_with_open_file_still_stops)
{
	stop_with(SIGTERM, 1);
}

/*
 * A bind mount keeps the connection alive after the daemon's own unmount: the daemon still
 * stops (it aborts the connection), and the copy answers ENOTCONN instead of hanging.
 *
 * The check must reach the (dead) connection: a plain stat() may be answered from the
 * kernel's attribute cache (attr_timeout, 1 s), which any process that looked at the mount
 * during the daemon's second of shutdown refreshed (df, findmnt, another test's scan of the
 * mounts); then it succeeds and the test failed. AT_STATX_FORCE_SYNC always asks.
 */
TEST(sigterm_with_bind_mount_copy_still_stops)
{
	char mnt[128], bind[128];
	struct statx stx;
	pid_t pid;

	CHECK_OK(e2e_tempdir("bsrc", mnt, sizeof(mnt)));
	CHECK_OK(e2e_tempdir("bdst", bind, sizeof(bind)));
	char *argv[] = {(char *)memfs, "-f", mnt, NULL};
	pid = e2e_start_daemon(argv, mnt);
	CHECK(pid > 0);
	int b = mount(mnt, bind, NULL, MS_BIND, NULL);
	int status = e2e_stop_daemon(pid, SIGTERM);
	errno = 0;
	int sr = statx(AT_FDCWD, bind, AT_STATX_FORCE_SYNC, STATX_BASIC_STATS, &stx);
	int err = errno;
	cleanup(bind, 0);
	cleanup(mnt, 0);
	CHECK_EQ(b, 0);
	CHECK_EQ(status, 0);
	CHECK_EQ(sr, -1);
	CHECK_EQ(err, ENOTCONN);
}

/*
 * A daemon whose mount was detached from outside (umount -l) while a file stays open, and
 * whose mount point a newer daemon took, stops on SIGTERM without touching the newer mount:
 * every unmount it makes is checked against its own connection (session.c, open_ours()).
 */
TEST(newer_mount_on_the_path_survives_the_old_daemon)
{
	char mnt[128], path[160], buf[8] = {0};
	pid_t a, b;

	CHECK_OK(e2e_tempdir("newer", mnt, sizeof(mnt)));
	char *argv[] = {(char *)memfs, "-f", "-o", "threads=2", mnt, NULL};
	a = e2e_start_daemon(argv, mnt);
	CHECK(a > 0);
	CHECK_EQ(write_file(mnt, "old", "a"), 0);
	snprintf(path, sizeof(path), "%s/old", mnt);
	int fd = open(path, O_RDONLY);
	int d = umount2(mnt, MNT_DETACH);
	b = e2e_start_daemon(argv, mnt);
	int w = b > 0 ? write_file(mnt, "new", "b") : -1;
	int status_a = e2e_stop_daemon(a, SIGTERM);
	snprintf(path, sizeof(path), "%s/new", mnt);
	int still = e2e_is_fuse_mounted(mnt);
	int fdn = open(path, O_RDONLY);
	ssize_t n = fdn >= 0 ? read(fdn, buf, sizeof(buf) - 1) : -1;
	if (fdn >= 0)
		close(fdn);
	if (fd >= 0)
		close(fd);
	int status_b = b > 0 ? e2e_stop_daemon(b, SIGTERM) : -1;
	cleanup(mnt, 0);
	CHECK(fd >= 0);
	CHECK_EQ(d, 0);
	CHECK(b > 0);
	CHECK_EQ(w, 0);
	CHECK_EQ(status_a, 0);
	CHECK(still);
	CHECK_EQ(n, 1);
	CHECK_EQ(buf[0], 'b');
	CHECK_EQ(status_b, 0);
}

/* An unmount from outside ends the daemon with status 0. */
TEST(external_umount_exits_zero)
{
	char mnt[128];
	pid_t pid;

	CHECK_OK(e2e_tempdir("ext", mnt, sizeof(mnt)));
	char *argv[] = {(char *)memfs, "-f", "-o", "threads=3", mnt, NULL};
	pid = e2e_start_daemon(argv, mnt);
	CHECK(pid > 0);
	int u = umount2(mnt, 0);
	int status = e2e_wait(pid, 10000);
	cleanup(mnt, status == -ETIMEDOUT ? pid : 0);
	CHECK_EQ(u, 0);
	CHECK_EQ(status, 0);
}

/* A second daemon on a mount point that is in use fails with a clear message. */
TEST(busy_mountpoint_refused)
{
	char mnt[128], out[2048];
	pid_t pid;

	CHECK_OK(e2e_tempdir("busy", mnt, sizeof(mnt)));
	char *argv[] = {(char *)memfs, "-f", mnt, NULL};
	pid = e2e_start_daemon(argv, mnt);
	CHECK(pid > 0);
	int status = e2e_run_capture(argv, out, sizeof(out));
	/* The first daemon must still serve. */
	int w = write_file(mnt, "f", "data");
	int stop = e2e_stop_daemon(pid, SIGTERM);
	cleanup(mnt, 0);
	CHECK_EQ(status, 1);
	CHECK(strstr(out, "already a FUSE mount") != NULL);
	CHECK_EQ(w, 0);
	CHECK_EQ(stop, 0);
}

TEST(missing_mountpoint_refused)
{
	char out[2048];
	char *argv[] = {(char *)memfs, "-f", "/tmp/fb-fusedev-does-not-exist/x", NULL};

	CHECK_EQ(e2e_run_capture(argv, out, sizeof(out)), 1);
	CHECK(strstr(out, "does not exist") != NULL);
}

TEST(file_as_mountpoint_refused)
{
	char out[2048];
	char *argv[] = {(char *)memfs, "-f", "/etc/hostname", NULL};

	CHECK_EQ(e2e_run_capture(argv, out, sizeof(out)), 1);
	CHECK(strstr(out, "not a directory") != NULL);
}

TEST(no_mountpoint_and_bad_option_refused)
{
	char out[2048];
	char *argv1[] = {(char *)memfs, NULL};
	char *argv2[] = {(char *)memfs, "-o", "no_such_option", "/tmp", NULL};
	char *argv3[] = {(char *)memfs, "-o", "threads=zero", "/tmp", NULL};

	CHECK_EQ(e2e_run_capture(argv1, out, sizeof(out)), 1);
	CHECK(strstr(out, "missing MOUNTPOINT") != NULL);
	CHECK_EQ(e2e_run_capture(argv2, out, sizeof(out)), 1);
	CHECK(strstr(out, "no_such_option") != NULL);
	CHECK_EQ(e2e_run_capture(argv3, out, sizeof(out)), 1);
	CHECK(strstr(out, "threads") != NULL);
}

/* Without -f the command returns once the mount is ready, and the daemon serves it. */
TEST(background_mode_mounts_before_returning)
{
	char mnt[128], out[2048], path[200];
	struct stat st;

	CHECK_OK(e2e_tempdir("bg", mnt, sizeof(mnt)));
	char *argv[] = {(char *)memfs, "-o", "fsname=fbtest-bg,subtype=memfs", mnt, NULL};
	int status = e2e_run_capture(argv, out, sizeof(out));
	char type[64];
	e2e_mount_type(mnt, type, sizeof(type));
	int w = write_file(mnt, "f", "data");
	snprintf(path, sizeof(path), "%s/f", mnt);
	int s = stat(path, &st);
	int u = umount2(mnt, 0);
	cleanup(mnt, 0);
	CHECK_EQ(status, 0);
	CHECK_STR(type, "fuse.memfs");
	CHECK_EQ(w, 0);
	CHECK_EQ(s, 0);
	CHECK_EQ(st.st_size, 4);
	CHECK_EQ(u, 0);
}

/* Mount options reach the kernel: ro refuses writes, the flags show in mountinfo. */
TEST(mount_options_applied)
{
	char mnt[128], path[200];
	pid_t pid;

	CHECK_OK(e2e_tempdir("opts", mnt, sizeof(mnt)));
	char *argv[] = {(char *)memfs, "-f", "-o", "ro,allow_other,default_permissions", mnt, NULL};
	pid = e2e_start_daemon(argv, mnt);
	CHECK(pid > 0);
	snprintf(path, sizeof(path), "%s/f", mnt);
	errno = 0;
	int fd = open(path, O_WRONLY | O_CREAT, 0644);
	int err = errno;
	struct statvfs sv;
	int sr = statvfs(mnt, &sv);
	int stop = e2e_stop_daemon(pid, SIGTERM);
	cleanup(mnt, 0);
	if (fd >= 0)
		close(fd);
	CHECK_EQ(fd, -1);
	CHECK_EQ(err, EROFS);
	CHECK_EQ(sr, 0);
	CHECK(sv.f_flag & ST_RDONLY);
	CHECK(sv.f_flag & ST_NOSUID);
	CHECK(sv.f_flag & ST_NODEV);
	CHECK_EQ(stop, 0);
}

/* Run @cmd (a shell command line) as nobody through setpriv(1); its exit status or -errno. */
static int as_nobody(const char *setpriv, const char *cmd, long ms)
{
	char *argv[] = {(char *)setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
			"/bin/sh", "-c", (char *)cmd, NULL};
	pid_t pid = e2e_spawn(argv, NULL, -1);

	return pid < 0 ? pid : e2e_wait(pid, ms);
}

/*
 * A user (nobody) mounts fb-memfs through the set-uid fusermount3, with four workers (each
 * opens /dev/fuse for its cloned fd), works in it, is the only one let in (no allow_other:
 * root gets EACCES), and unmounts with "fusermount3 -u"; the daemon then exits 0. /dev/fuse
 * is mode 0666 on a stock Debian; where it is not (this VM: 0600) the test opens it up for its
 * duration and puts the mode back.
 */
TEST(user_mounts_through_fusermount3)
{
	const char *setpriv = access("/usr/bin/setpriv", X_OK) == 0 ? "/usr/bin/setpriv" : NULL;
	const char *fusermount = access("/usr/bin/fusermount3", X_OK) == 0 ? "/usr/bin/fusermount3"
					: access("/bin/fusermount3", X_OK) == 0 ? "/bin/fusermount3"
										: NULL;
	char mnt[128], cmd[1024];
	struct stat dev, st;
	pid_t pid;
	int opened = 0;

	if (!setpriv || !fusermount)
		SKIP("setpriv or fusermount3 is missing");
	if (stat("/dev/fuse", &dev) < 0)
		FBT_FAIL("stat /dev/fuse: %s", strerror(errno));
	snprintf(cmd, sizeof(cmd), "test -x '%s'", memfs);
	if (as_nobody(setpriv, cmd, 5000) != 0)
		SKIP("nobody cannot run %s (a directory on its path is closed)", memfs);
	/* From here on nothing returns before the cleanup: the results are checked after it. */
	int mounted = -1, work = -1, root_errno = 0, root_stat = 0, umount_rc = -1, exit_rc = -1;
	int still = 0;

	pid = -1;
	if (e2e_tempdir("user", mnt, sizeof(mnt)) < 0)
		FBT_FAIL("mkdtemp: %s", strerror(errno));
	if ((dev.st_mode & 0666) != 0666 && chmod("/dev/fuse", 0666) == 0)
		opened = 1;
	if (chown(mnt, 65534, 65534) == 0) {
		char *argv[] = {(char *)setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
				(char *)memfs, "-f", "-o", "threads=4", mnt, NULL};
		pid = e2e_spawn(argv, NULL, STDERR_FILENO);
	}
	if (pid > 0)
		mounted = e2e_wait_mount(mnt, 1, 10000);
	if (mounted == 0) {
		snprintf(cmd, sizeof(cmd),
			 "cd '%s' && echo hello > f && test \"$(cat f)\" = hello && mkdir d && "
			 "for i in 1 2 3 4 5 6 7 8; do echo $i > d/$i & done; wait; "
			 "test $(ls d | wc -l) = 8 && test \"$(stat -c %%u f)\" = 65534",
			 mnt);
		work = as_nobody(setpriv, cmd, 10000);
		errno = 0;
		root_stat = stat(mnt, &st);
		root_errno = errno;
		snprintf(cmd, sizeof(cmd), "'%s' -u '%s'", fusermount, mnt);
		umount_rc = as_nobody(setpriv, cmd, 10000);
		exit_rc = e2e_wait(pid, 10000);
		if (exit_rc >= 0)
			pid = -1;
		still = e2e_is_fuse_mounted(mnt);
	}
	cleanup(mnt, pid);
	if (opened)
		chmod("/dev/fuse", dev.st_mode & 07777);
	CHECK_EQ(mounted, 0);
	CHECK_EQ(work, 0);
	CHECK_EQ(root_stat, -1);
	CHECK_EQ(root_errno, EACCES);
	CHECK_EQ(umount_rc, 0);
	CHECK_EQ(exit_rc, 0);
	CHECK_EQ(still, 0);
}

/*
 * -o auto_unmount for a user who is not root: after SIGKILL the mount goes away by itself.
 * (Debian 12's fusermount3 cannot do it without allow_other: it checks the mount as root,
 * whom the kernel keeps out; the library's watchdog runs "fusermount3 -u -z" as the user.)
 * A clean stop leaves nothing behind either, and no watchdog process stays.
 */
TEST(user_auto_unmount_after_sigkill)
{
	const char *setpriv = access("/usr/bin/setpriv", X_OK) == 0 ? "/usr/bin/setpriv" : NULL;
	char mnt[128], cmd[1024];
	struct stat dev;
	int opened = 0;

	if (!setpriv || access("/usr/bin/fusermount3", X_OK) != 0)
		SKIP("setpriv or fusermount3 is missing");
	if (stat("/dev/fuse", &dev) < 0)
		FBT_FAIL("stat /dev/fuse: %s", strerror(errno));
	snprintf(cmd, sizeof(cmd), "test -x '%s'", memfs);
	if (as_nobody(setpriv, cmd, 5000) != 0)
		SKIP("nobody cannot run %s (a directory on its path is closed)", memfs);
	int mounted = -1, gone = -1, mounted2 = -1, stop = -1, still = 1;
	pid_t pid = -1;

	if (e2e_tempdir("uauto", mnt, sizeof(mnt)) < 0)
		FBT_FAIL("mkdtemp: %s", strerror(errno));
	if ((dev.st_mode & 0666) != 0666 && chmod("/dev/fuse", 0666) == 0)
		opened = 1;
	char *argv[] = {(char *)setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
			(char *)memfs, "-f", "-o", "auto_unmount", mnt, NULL};
	if (chown(mnt, 65534, 65534) == 0)
		pid = e2e_spawn(argv, NULL, STDERR_FILENO);
	if (pid > 0)
		mounted = e2e_wait_mount(mnt, 1, 10000);
	if (mounted == 0) {
		kill(pid, SIGKILL);
		e2e_wait(pid, 5000);
		pid = -1;
		gone = e2e_wait_mount(mnt, 0, 5000);
	}
	if (gone == 0) {
		pid = e2e_spawn(argv, NULL, STDERR_FILENO);
		if (pid > 0)
			mounted2 = e2e_wait_mount(mnt, 1, 10000);
		if (mounted2 == 0) {
			stop = e2e_stop_daemon(pid, SIGTERM);
			if (stop >= 0)
				pid = -1;
		}
		e2e_sleep_ms(200); /* a watchdog that wrongly unmounts would have done so */
		still = e2e_is_fuse_mounted(mnt);
	}
	cleanup(mnt, pid);
	if (opened)
		chmod("/dev/fuse", dev.st_mode & 07777);
	CHECK_EQ(mounted, 0);
	CHECK_EQ(gone, 0);
	CHECK_EQ(mounted2, 0);
	CHECK_EQ(stop, 0);
	CHECK(!still);
}

TEST_MAIN()
