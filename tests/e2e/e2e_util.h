/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Helpers for the mount tests: start a daemon, wait for its mount, run a program against it,
 * stop it, look at its memory. Every helper returns 0 / a value, or a negative errno.
 */
#ifndef FB_E2E_UTIL_H
#define FB_E2E_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * e2e_syscalls tests that fb-memfs fails: it does not negotiate FB_HANDLE_KILLPRIV_V2, so
 * the kernel clears set-uid/set-gid before a non-owner's write or fallocate with a chmod as
 * that caller, which memfs refuses (EPERM). Runners over fb-memfs pass this environment.
 */
#define E2E_MEMFS_SKIP "FB_TEST_SKIP=write_clears_suid_nonowner,fallocate_clears_suid_and_caps"

/* Skip the whole binary unless we are root and /dev/fuse is there. */
static inline int e2e_need_root_and_fuse(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "  skip: mount tests need root\n");
		return 1;
	}
	if (access("/dev/fuse", R_OK | W_OK) != 0) {
		fprintf(stderr, "  skip: /dev/fuse is not available\n");
		return 1;
	}
	return 0;
}

static inline void e2e_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A fresh directory under /tmp (mkdtemp); @buf gets its path. */
static inline int e2e_tempdir(const char *tag, char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/fb-fusedev-%s-XXXXXX", tag);
	return mkdtemp(buf) ? 0 : -errno;
}

/* The file-system type mounted exactly on @path ("" when none), from mountinfo. */
static inline int e2e_mount_type(const char *path, char *type, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];

	type[0] = '\0';
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char mp[2048], fstype[256];
		const char *dash = strstr(line, " - ");

		if (sscanf(line, "%*s %*s %*s %*s %2047s", mp) != 1 || !dash)
			continue;
		if (sscanf(dash + 3, "%255s", fstype) != 1)
			continue;
		if (strcmp(mp, path) == 0)
			snprintf(type, len, "%.*s", (int)(len - 1), fstype);
	}
	fclose(f);
	return 0;
}

static inline int e2e_is_fuse_mounted(const char *path)
{
	char type[256];

	e2e_mount_type(path, type, sizeof(type));
	return memcmp(type, "fuse", 4) == 0; /* type has room for 256 bytes */
}

/*
 * Start @argv (argv[0] a path) with stdout/stderr going to @errfd when >= 0. Extra
 * environment "NAME=VALUE" in @env (NULL-terminated) or NULL. Returns the pid.
 */
static inline pid_t e2e_spawn(char *const argv[], char *const env[], int errfd)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (errfd >= 0) {
			dup2(errfd, STDOUT_FILENO);
			dup2(errfd, STDERR_FILENO);
		}
		for (int i = 0; env && env[i]; i++)
			putenv(env[i]);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid < 0 ? -errno : pid;
}

/*
 * Wait for @pid up to @ms milliseconds. Returns its exit status (0-255), 128+signal when a
 * signal killed it, -ETIMEDOUT, or another negative errno.
 */
static inline int e2e_wait(pid_t pid, long ms)
{
	int status;

	for (long waited = 0;; waited += 20) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r < 0)
			return -errno;
		if (r == pid)
			break;
		if (waited >= ms)
			return -ETIMEDOUT;
		e2e_sleep_ms(20);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* Wait until @path is a FUSE mount (1) or not (0), up to @ms. Returns 0 or -ETIMEDOUT. */
static inline int e2e_wait_mount(const char *path, int want, long ms)
{
	for (long waited = 0; waited <= ms; waited += 20) {
		if (e2e_is_fuse_mounted(path) == want)
			return 0;
		e2e_sleep_ms(20);
	}
	return -ETIMEDOUT;
}

/*
 * Start a daemon in the foreground (argv must include -f) on @mnt and wait for its mount.
 * Returns its pid, or a negative errno (the daemon is killed and reaped then).
 */
static inline pid_t e2e_start_daemon(char *const argv[], const char *mnt)
{
	pid_t pid = e2e_spawn(argv, NULL, -1);

	if (pid < 0)
		return pid;
	for (long waited = 0; waited <= 10000; waited += 20) {
		int status;

		if (e2e_is_fuse_mounted(mnt))
			return pid;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "  daemon %s exited before mounting\n", argv[0]);
			return -ECHILD;
		}
		e2e_sleep_ms(20);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	umount2(mnt, MNT_DETACH);
	return -ETIMEDOUT;
}

/* Stop a daemon with @sig and return its exit status (see e2e_wait()). Kills it after 10 s. */
static inline int e2e_stop_daemon(pid_t pid, int sig)
{
	int r;

	kill(pid, sig);
	r = e2e_wait(pid, 10000);
	if (r == -ETIMEDOUT) {
		fprintf(stderr, "  daemon %d did not exit within 10 s of signal %d\n", (int)pid,
			sig);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return r;
}

/* Resident memory of @pid in KiB (VmRSS), or a negative errno. */
static inline long e2e_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/*
 * Run @argv, capturing up to @len - 1 bytes of its stdout and stderr into @out (NUL-ended).
 * Gives up (kills it) after 30 s. Returns its exit status as e2e_wait().
 */
static inline int e2e_run_capture(char *const argv[], char *out, size_t len)
{
	int p[2], r;
	size_t got = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = e2e_spawn(argv, NULL, p[1]);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return pid;
	}
	for (long waited = 0; waited < 30000;) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		char chunk[512];
		ssize_t n;

		if (poll(&pfd, 1, 100) == 0) {
			waited += 100;
			continue;
		}
		n = read(p[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n && got + 1 < len; i++)
			out[got++] = chunk[i];
	}
	out[got] = '\0';
	close(p[0]);
	r = e2e_wait(pid, 5000);
	if (r == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return r;
}

#endif /* FB_E2E_UTIL_H */
