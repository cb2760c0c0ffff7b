/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The examples as a newcomer runs them: examples/hello_fs mounted on a fresh directory must
 * list exactly one file, "hello", read "Hello, world!\n", refuse every change with the errno
 * documented in docs/guide.md, log requests with -d, and exit 0 when unmounted from outside
 * or stopped with SIGTERM.
 *
 * Environment (meson sets it): FB_HELLO_FS = path of the hello_fs binary. Skips (77) without
 * root, /dev/fuse or the binary.
 */
#include <dirent.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include "harness.h"
#include "e2e_util.h"

static const char *hello_fs;

static int setup(void)
{
	hello_fs = getenv("FB_HELLO_FS");
	if (!hello_fs || access(hello_fs, X_OK) != 0) {
		fprintf(stderr, "  skip: FB_HELLO_FS does not name the hello_fs binary\n");
		return 1;
	}
	return e2e_need_root_and_fuse();
}
TEST_SETUP(setup)

struct hello {
	char mnt[128];
	pid_t pid;
	int err; /* read end of the daemon's stdout/stderr, or -1 */
};

/* Start hello_fs (with -d when @debug) on a fresh directory and wait for its mount. */
static int hello_start(struct hello *h, int debug)
{
	int p[2] = {-1, -1};
	h->pid = -1;
	h->err = -1;
	snprintf(h->mnt, sizeof(h->mnt), "/tmp/fb-docs-hello-XXXXXX");
	if (!mkdtemp(h->mnt))
		return -errno;
	if (debug && pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	char *argv[] = {(char *)hello_fs, debug ? "-d" : h->mnt, debug ? h->mnt : NULL, NULL};
	h->pid = e2e_spawn(argv, NULL, p[1]);
	if (p[1] >= 0)
		close(p[1]);
	h->err = p[0];
	if (h->pid < 0)
		return (int)h->pid;
	if (e2e_wait_mount(h->mnt, 1, 10000) < 0) {
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
		h->pid = -1;
		return -ETIMEDOUT;
	}
	return 0;
}

/* Stop with @sig (0: unmount from outside); returns the exit status. Always cleans up. */
static int hello_stop(struct hello *h, int sig)
{
	int status = -ECHILD;

	if (h->pid > 0) {
		if (sig) {
			status = e2e_stop_daemon(h->pid, sig);
		} else {
			status = umount(h->mnt) < 0 ? -errno : 0;
			if (status == 0)
				status = e2e_wait(h->pid, 10000);
			if (status < 0) {
				kill(h->pid, SIGKILL);
				waitpid(h->pid, NULL, 0);
			}
		}
	}
	if (e2e_is_fuse_mounted(h->mnt)) {
		umount2(h->mnt, MNT_DETACH);
		if (status >= 0)
			status = -EBUSY; /* it should have unmounted */
	}
	rmdir(h->mnt);
	return status;
}

/* errno of a libc-style call, 0 on success. */
static int err_of(long r)
{
	return r < 0 ? errno : 0;
}

/* ls: the names in the root, sorted "." and ".." aside, joined with spaces. */
TEST(hello_fs_lists_one_file)
{
	struct hello h;
	char names[256] = "";
	int count = 0, dots = 0;

	CHECK_OK(hello_start(&h, 0));
	DIR *d = opendir(h.mnt);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
			dots++;
			continue;
		}
		count++;
		strncat(names, de->d_name, sizeof(names) - strlen(names) - 1);
		if (strcmp(de->d_name, "hello") == 0 && de->d_type != DT_REG)
			strncat(names, "(not DT_REG)", sizeof(names) - strlen(names) - 1);
	}
	if (d)
		closedir(d);
	int status = hello_stop(&h, SIGTERM);
	CHECK(d != NULL);
	CHECK_EQ(count, 1);
	CHECK_STR(names, "hello");
	CHECK_EQ(dots, 2);
	CHECK_EQ(status, 0);
}

TEST(hello_fs_reads_hello)
{
	struct hello h;
	char path[200], text[64] = "", tail[64] = "";
	struct stat st, rst;
	struct statvfs sv;
	int rs, rrs, rsv, n = -1, nt = -1;

	CHECK_OK(hello_start(&h, 0));
	snprintf(path, sizeof(path), "%s/hello", h.mnt);
	rs = stat(path, &st);
	rrs = stat(h.mnt, &rst);
	rsv = statvfs(h.mnt, &sv);
	int fd = open(path, O_RDONLY);
	if (fd >= 0) {
		n = (int)read(fd, text, sizeof(text) - 1);
		nt = (int)pread(fd, tail, sizeof(tail) - 1, 7);
		close(fd);
	}
	int status = hello_stop(&h, SIGTERM);
	CHECK_EQ(rs, 0);
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0444);
	CHECK_EQ(st.st_size, 14);
	CHECK_EQ(st.st_ino, 2);
	CHECK_EQ(rrs, 0);
	CHECK(S_ISDIR(rst.st_mode));
	CHECK_EQ(rst.st_mode & 07777, 0555);
	CHECK_EQ(rsv, 0);
	CHECK_EQ(sv.f_namemax, 255);
	CHECK(fd >= 0);
	CHECK_EQ(n, 14);
	CHECK_STR(text, "Hello, world!\n");
	CHECK_EQ(nt, 7);
	CHECK_STR(tail, "world!\n");
	CHECK_EQ(status, 0);
}

/*
 * Writers are refused by hello_open (EACCES); operations whose entry is NULL in the ops
 * table reach the caller as ENOSYS; a missing name is ENOENT. The file is unchanged.
 */
TEST(hello_fs_refuses_changes)
{
	struct hello h;
	char path[200], p2[200], text[64] = "";
	int e_wr, e_rdwr, e_trunc_open, e_creat, e_mkdir, e_unlink, e_rename, e_truncate;
	int e_missing, n = -1;
	struct stat st;

	CHECK_OK(hello_start(&h, 0));
	snprintf(path, sizeof(path), "%s/hello", h.mnt);
	e_wr = err_of(open(path, O_WRONLY));
	e_rdwr = err_of(open(path, O_RDWR));
	e_trunc_open = err_of(open(path, O_WRONLY | O_TRUNC));
	snprintf(p2, sizeof(p2), "%s/new", h.mnt);
	e_creat = err_of(open(p2, O_WRONLY | O_CREAT, 0644));
	e_mkdir = err_of(mkdir(p2, 0755));
	e_unlink = err_of(unlink(path));
	e_rename = err_of(rename(path, p2));
	e_truncate = err_of(truncate(path, 0));
	e_missing = err_of(stat(p2, &st));
	int fd = open(path, O_RDONLY);
	if (fd >= 0) {
		n = (int)read(fd, text, sizeof(text) - 1);
		close(fd);
	}
	int status = hello_stop(&h, SIGTERM);
	CHECK_EQ(e_wr, EACCES);
	CHECK_EQ(e_rdwr, EACCES);
	CHECK_EQ(e_trunc_open, EACCES);
	CHECK_EQ(e_creat, ENOSYS);
	CHECK_EQ(e_mkdir, ENOSYS);
	CHECK_EQ(e_unlink, ENOSYS);
	CHECK_EQ(e_rename, ENOSYS);
	CHECK_EQ(e_truncate, ENOSYS);
	CHECK_EQ(e_missing, ENOENT);
	CHECK_EQ(n, 14);
	CHECK_STR(text, "Hello, world!\n");
	CHECK_EQ(status, 0);
}

/* `umount MOUNTPOINT` from outside: the loop sees the connection end, exit 0. */
TEST(hello_fs_exits_0_on_umount)
{
	struct hello h;

	CHECK_OK(hello_start(&h, 0));
	CHECK_EQ(hello_stop(&h, 0), 0);
}

/* SIGINT and SIGHUP end it like SIGTERM: unmounted, exit 0. */
TEST(hello_fs_exits_0_on_sigint_and_sighup)
{
	struct hello h;

	CHECK_OK(hello_start(&h, 0));
	CHECK_EQ(hello_stop(&h, SIGINT), 0);
	CHECK_OK(hello_start(&h, 0));
	CHECK_EQ(hello_stop(&h, SIGHUP), 0);
}

/* -d: one log line per request, with the opcode's name (docs/guide.md, "Debugging"). */
TEST(hello_fs_debug_logs_requests)
{
	struct hello h;
	char path[200], log[16384];
	struct stat st;
	size_t got = 0;
	ssize_t n;

	CHECK_OK(hello_start(&h, 1));
	snprintf(path, sizeof(path), "%s/hello", h.mnt);
	int rs = stat(path, &st);
	int status = hello_stop(&h, SIGTERM);
	while (got + 1 < sizeof(log) && (n = read(h.err, log + got, sizeof(log) - 1 - got)) > 0)
		got += (size_t)n;
	log[got] = '\0';
	close(h.err);
	CHECK_EQ(rs, 0);
	CHECK_EQ(status, 0);
	CHECK(strstr(log, "INIT") != NULL);
	CHECK(strstr(log, "LOOKUP") != NULL);
}

/* Command-line and mount errors exit 1 (as the daemons: fb_main()), naming the problem. */
TEST(hello_fs_bad_arguments)
{
	char out[1024];
	char *none[] = {(char *)hello_fs, NULL};
	char *missing[] = {(char *)hello_fs, "/tmp/fb-docs-no-such-dir/x", NULL};

	CHECK_EQ(e2e_run_capture(none, out, sizeof(out)), 1);
	CHECK(strstr(out, "missing MOUNTPOINT") != NULL);
	CHECK(strstr(out, "hello_fs --help") != NULL);
	CHECK_EQ(e2e_run_capture(missing, out, sizeof(out)), 1);
	CHECK(strstr(out, "hello_fs:") != NULL);
}

TEST_MAIN()
