/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * e2e_syscalls: what a POSIX file system must do, checked through the system-call interface
 * against whatever directory FB_TEST_DIR names (a FUSE mount, or tmpfs/ext4 to check the
 * test itself). It does not link the library. See tests/e2e/README.md for the environment.
 *
 * Each test runs in its own fresh subdirectory <FB_TEST_DIR>/e2e-syscalls-<pid>/<test>, with
 * that directory as the working directory, so paths in the tests are relative. The previous
 * test's directory, stray fds and stray children are cleaned before each test (a failed check
 * leaves the test through longjmp), and the whole tree is removed at the end.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#define NOBODY_UID 65534
#define NOBODY_GID 65534
#define OTHER_UID  12345 /* a uid that is neither root nor the unprivileged child */

static char g_dir[PATH_MAX];  /* FB_TEST_DIR, resolved */
static char g_cmp[PATH_MAX];  /* FB_TEST_COMPARE_DIR, resolved, or "" */
static const char *g_skip;    /* FB_TEST_SKIP */
static bool g_default_perms;  /* FB_TEST_DEFAULT_PERMISSIONS=1 */
static char g_root[PATH_MAX]; /* <g_dir>/e2e-syscalls-<pid> */
static char g_rootname[64];   /* e2e-syscalls-<pid> */
static char g_tdir[PATH_MAX]; /* the current test's directory, absolute */
static char g_tname[128];     /* the current test's name */
static unsigned g_timeout = 120;
static unsigned char g_base_fds[1024]; /* fds open at start: never closed by the cleanup */
static pid_t g_children[16];	       /* forked helpers still to reap (killed by the cleanup) */

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                    */

/* snprintf without the compiler's truncation guesses: our paths are far below PATH_MAX. */
__attribute__((format(printf, 3, 4))) static int xsnprintf(char *buf, size_t cap, const char *fmt,
							   ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}

static uint8_t pat(uint64_t off, unsigned seed)
{
	uint64_t x = (off + seed) * 0x9E3779B97F4A7C15ull;

	return (uint8_t)((x >> 56) ^ off ^ (off >> 13));
}

static void fill(void *buf, size_t len, uint64_t off, unsigned seed)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = pat(off + i, seed);
}

/* Index of the first byte that differs from the pattern, or -1. */
static long long verify(const void *buf, size_t len, uint64_t off, unsigned seed)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i] != pat(off + i, seed))
			return (long long)i;
	return -1;
}

static bool all_zero(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static void track_child(pid_t pid)
{
	for (size_t i = 0; i < sizeof(g_children) / sizeof(g_children[0]); i++)
		if (!g_children[i]) {
			g_children[i] = pid;
			return;
		}
}

static void untrack_child(pid_t pid)
{
	for (size_t i = 0; i < sizeof(g_children) / sizeof(g_children[0]); i++)
		if (g_children[i] == pid)
			g_children[i] = 0;
}

static int rm_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP || type == FTW_D || type == FTW_DNR)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* Remove a tree; 0 or -errno. Directories we cannot enter are made enterable first. */
static int rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode))
		chmod(path, 0755);
	if (nftw(path, rm_cb, 32, FTW_DEPTH | FTW_PHYS) < 0)
		return -errno;
	return 0;
}

static void cleanup_previous(void)
{
	for (size_t i = 0; i < sizeof(g_children) / sizeof(g_children[0]); i++) {
		if (!g_children[i])
			continue;
		kill(g_children[i], SIGKILL);
		waitpid(g_children[i], NULL, 0);
		g_children[i] = 0;
	}
	for (int fd = 3; fd < 1024; fd++)
		if (!g_base_fds[fd] && fcntl(fd, F_GETFD) >= 0)
			close(fd);
	if (chdir(g_root) < 0)
		fprintf(stderr, "  warning: chdir %s: %s\n", g_root, strerror(errno));
	if (g_tdir[0]) {
		int r = rm_rf(g_tdir);

		if (r < 0)
			fprintf(stderr, "  warning: cleanup of %s: %s\n", g_tdir, strerror(-r));
		g_tdir[0] = 0;
	}
}

static bool skip_listed(const char *name)
{
	size_t n = strlen(name);

	for (const char *p = g_skip; p && *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

/*
 * Start a test: honour FB_TEST_SKIP, clean what the previous test left, create and enter a
 * fresh directory named after the test, arm the hang alarm.
 */
#define BEGIN() begin_test(__func__ + sizeof("fbt_fn_") - 1)

static void begin_test(const char *name)
{
	cleanup_previous();
	xsnprintf(g_tname, sizeof(g_tname), "%s", name);
	if (skip_listed(name))
		SKIP("listed in FB_TEST_SKIP");
	xsnprintf(g_tdir, sizeof(g_tdir), "%s/%s", g_root, name);
	if (mkdir(g_tdir, 0755) < 0 || chmod(g_tdir, 0755) < 0 || chdir(g_tdir) < 0)
		FBT_FAIL("cannot create test directory %s: %s", g_tdir, strerror(errno));
	alarm(g_timeout);
}

static void on_alarm(int sig)
{
	static const char msg[] = "  FAIL: test hung (FB_TEST_TIMEOUT exceeded): ";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0 || write(2, g_tname, strlen(g_tname)) < 0 ||
	    write(2, "\n", 1) < 0)
		_exit(1);
	_exit(1);
}

/* Create (or truncate) @path with @len bytes of @data; fails the test on error. */
#define WFILE(path, data, len, mode) wfile(__LINE__, path, data, len, mode)

static void wfile(int line, const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd < 0)
		FBT_FAIL("line %d: create %s: %s", line, path, strerror(errno));
	if (len && write(fd, data, len) != (ssize_t)len)
		FBT_FAIL("line %d: write %s: %s", line, path, strerror(errno));
	if (close(fd) < 0)
		FBT_FAIL("line %d: close %s: %s", line, path, strerror(errno));
}

/* Read the whole of @path (up to @cap bytes) into @buf; returns the length or -errno. */
static ssize_t rfile(const char *path, void *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	size_t got = 0;

	if (fd < 0)
		return -errno;
	while (got < cap) {
		ssize_t n = read(fd, (char *)buf + got, cap - got);

		if (n < 0) {
			int e = errno;

			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return (ssize_t)got;
}

/* @path must hold exactly the string @want. */
#define CHECK_CONTENT(path, want)                                                                  \
	do {                                                                                       \
		char fbt_buf[4096];                                                                \
		ssize_t fbt_n = rfile(path, fbt_buf, sizeof(fbt_buf) - 1);                         \
		if (fbt_n < 0)                                                                     \
			FBT_FAIL("read %s: %s", path, strerror((int)-fbt_n));                      \
		fbt_buf[fbt_n] = 0;                                                                \
		if ((size_t)fbt_n != strlen(want) || memcmp(fbt_buf, want, (size_t)fbt_n))         \
			FBT_FAIL("%s holds \"%s\", want \"%s\"", path, fbt_buf, want);             \
	} while (0)

static struct stat xstat(int line, const char *path, bool follow)
{
	struct stat st;

	if ((follow ? stat(path, &st) : lstat(path, &st)) < 0)
		FBT_FAIL("line %d: stat %s: %s", line, path, strerror(errno));
	return st;
}
#define STAT(path)  xstat(__LINE__, path, true)
#define LSTAT(path) xstat(__LINE__, path, false)

static struct stat xfstat(int line, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		FBT_FAIL("line %d: fstat: %s", line, strerror(errno));
	return st;
}
#define FSTAT(fd) xfstat(__LINE__, fd)

#define OPEN(...)                                                                                  \
	({                                                                                         \
		int fbt_fd = open(__VA_ARGS__);                                                    \
		if (fbt_fd < 0)                                                                    \
			FBT_FAIL("open(%s): %s", #__VA_ARGS__, strerror(errno));                   \
		fbt_fd;                                                                            \
	})

/* A check that accepts either of two errnos (where POSIX or Linux allow both). */
#define CHECK_ERR2(call, e1, e2)                                                                   \
	do {                                                                                       \
		errno = 0;                                                                         \
		long long fbt_r = (long long)(call);                                               \
		if (fbt_r == -1 && errno)                                                          \
			fbt_r = -errno;                                                            \
		if (fbt_r != (long long)(e1) && fbt_r != (long long)(e2))                          \
			FBT_FAIL("CHECK_ERR2(%s): got %lld (%s), want %s or %s", #call, fbt_r,     \
				 fbt_r < 0 ? strerror((int)-fbt_r) : "ok", strerror(-(e1)),        \
				 strerror(-(e2)));                                                 \
	} while (0)

/* The result of a libc-style call as 0/value or -errno, for checks made after other calls. */
#define SYS(call)                                                                                  \
	({                                                                                         \
		long fbt_x = (long)(call);                                                         \
		fbt_x < 0 ? -errno : fbt_x;                                                        \
	})

static bool is_root(void)
{
	return geteuid() == 0;
}

#define NEED_ROOT()                                                                                \
	do {                                                                                       \
		if (!is_root())                                                                    \
			SKIP("needs root");                                                        \
	} while (0)

/* ------------------------------------------------------------------------------------------ */
/* Comparison with the host directory behind a passthrough mount (FB_TEST_COMPARE_DIR)        */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of a directory (without . and ..); *n gets the count. NULL on error. */
static char **list_dir(const char *path, size_t *n)
{
	DIR *d = opendir(path);
	char **v = NULL;
	size_t cap = 0;
	struct dirent *de;

	*n = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			v = realloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = strdup(de->d_name);
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_names);
	return v ? v : calloc(1, sizeof(*v));
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The user.* xattrs of @path as a sorted "name=value;" string (empty when unsupported). */
static void xattr_sig(const char *path, char *out, size_t cap)
{
	char names[4096], *vec[128];
	ssize_t len = llistxattr(path, names, sizeof(names));
	size_t n = 0, pos = 0;

	out[0] = 0;
	if (len <= 0)
		return;
	for (char *p = names; p < names + len && n < 128; p += strlen(p) + 1)
		if (!strncmp(p, "user.", 5))
			vec[n++] = p;
	qsort(vec, n, sizeof(*vec), cmp_names);
	for (size_t i = 0; i < n && pos < cap; i++) {
		char val[512];
		ssize_t vl = lgetxattr(path, vec[i], val, sizeof(val) - 1);

		val[vl > 0 ? vl : 0] = 0;
		pos += (size_t)xsnprintf(out + pos, cap - pos, "%s=%s;", vec[i], val);
	}
}

/*
 * Compare the tree @a (through the mount) with @b (the host directory): the same names, types,
 * modes, owners, sizes, link counts, contents, symlink targets and user xattrs. Returns 0, or
 * -1 with a description in @why.
 */
static int compare_tree(const char *a, const char *b, char *why, size_t cap)
{
	size_t na, nb;
	char **la = list_dir(a, &na), **lb = list_dir(b, &nb);
	int ret = 0;

	if (!la || !lb) {
		xsnprintf(why, cap, "cannot list %s or %s: %s", a, b, strerror(errno));
		ret = -1;
		goto out;
	}
	if (na != nb) {
		xsnprintf(why, cap, "%s has %zu entries, %s has %zu", a, na, b, nb);
		ret = -1;
		goto out;
	}
	for (size_t i = 0; i < na && !ret; i++) {
		char pa[PATH_MAX], pb[PATH_MAX];
		struct stat sa, sb;

		if (strcmp(la[i], lb[i])) {
			xsnprintf(why, cap, "in %s: entry %s, host has %s", a, la[i], lb[i]);
			ret = -1;
			break;
		}
		xsnprintf(pa, sizeof(pa), "%s/%s", a, la[i]);
		xsnprintf(pb, sizeof(pb), "%s/%s", b, lb[i]);
		if (lstat(pa, &sa) < 0 || lstat(pb, &sb) < 0) {
			xsnprintf(why, cap, "lstat %s: %s", pa, strerror(errno));
			ret = -1;
			break;
		}
		if (sa.st_mode != sb.st_mode || sa.st_uid != sb.st_uid || sa.st_gid != sb.st_gid) {
			xsnprintf(why, cap, "%s: mode %o uid %u gid %u, host %o %u %u", pa,
				  sa.st_mode, sa.st_uid, sa.st_gid, sb.st_mode, sb.st_uid,
				  sb.st_gid);
			ret = -1;
			break;
		}
		if (!S_ISDIR(sa.st_mode) &&
		    (sa.st_size != sb.st_size || sa.st_nlink != sb.st_nlink)) {
			xsnprintf(why, cap, "%s: size %lld nlink %lu, host %lld %lu", pa,
				  (long long)sa.st_size, (unsigned long)sa.st_nlink,
				  (long long)sb.st_size, (unsigned long)sb.st_nlink);
			ret = -1;
			break;
		}
		if (S_ISLNK(sa.st_mode)) {
			char ta[PATH_MAX] = "", tb[PATH_MAX] = "";

			if (readlink(pa, ta, sizeof(ta) - 1) < 0 ||
			    readlink(pb, tb, sizeof(tb) - 1) < 0 || strcmp(ta, tb)) {
				xsnprintf(why, cap, "%s: target \"%s\", host \"%s\"", pa, ta, tb);
				ret = -1;
			}
		} else if (S_ISREG(sa.st_mode)) {
			size_t sz = (size_t)sa.st_size;
			char *ba = malloc(sz + 1), *bb = malloc(sz + 1);
			ssize_t ra = rfile(pa, ba, sz + 1), rb = rfile(pb, bb, sz + 1);

			if (ra != (ssize_t)sz || rb != (ssize_t)sz || memcmp(ba, bb, sz)) {
				xsnprintf(why, cap,
					  "%s: contents differ from the host (%zd/%zd bytes)", pa,
					  ra, rb);
				ret = -1;
			}
			free(ba);
			free(bb);
		} else if (S_ISDIR(sa.st_mode)) {
			ret = compare_tree(pa, pb, why, cap);
		} else if ((S_ISCHR(sa.st_mode) || S_ISBLK(sa.st_mode)) &&
			   sa.st_rdev != sb.st_rdev) {
			xsnprintf(why, cap, "%s: rdev differs from the host", pa);
			ret = -1;
		}
		if (!ret && (S_ISREG(sa.st_mode) || S_ISDIR(sa.st_mode))) {
			char xa[2048], xb[2048];

			xattr_sig(pa, xa, sizeof(xa));
			xattr_sig(pb, xb, sizeof(xb));
			if (strcmp(xa, xb)) {
				xsnprintf(why, cap, "%s: xattrs \"%s\", host \"%s\"", pa, xa, xb);
				ret = -1;
			}
		}
	}
out:
	if (la)
		free_list(la, na);
	if (lb)
		free_list(lb, nb);
	return ret;
}

/* The host path of the current test directory (FB_TEST_COMPARE_DIR set), else NULL. */
static const char *host_tdir(void)
{
	static char p[PATH_MAX];

	if (!g_cmp[0])
		return NULL;
	xsnprintf(p, sizeof(p), "%s/%s/%s", g_cmp, g_rootname, g_tname);
	return p;
}

/* At the end of a test: when a host directory is given, it must show the same tree. */
#define COMPARE_HOST()                                                                             \
	do {                                                                                       \
		char fbt_why[1024];                                                                \
		if (host_tdir() && compare_tree(g_tdir, host_tdir(), fbt_why, sizeof(fbt_why)))    \
			FBT_FAIL("host directory differs: %s", fbt_why);                           \
	} while (0)

/* ------------------------------------------------------------------------------------------ */
/* Child processes                                                                            */

/* Fork; the child runs @fn(@arg) and exits with its result. Returns the child's pid. */
static pid_t spawn(int (*fn)(void *), void *arg)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		FBT_FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(30);
		_exit(fn(arg));
	}
	track_child(pid);
	return pid;
}

/* Wait for a child from spawn(); returns its exit code (128 + signal when killed). */
static int reap(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) < 0)
		FBT_FAIL("waitpid: %s", strerror(errno));
	untrack_child(pid);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Checks inside a child process: print and return a failure code instead of longjmp. */
#define C_FAIL(...)                                                                                \
	do {                                                                                       \
		fprintf(stderr, "  %s:%d (child uid %u): ", __FILE__, __LINE__, geteuid());        \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fprintf(stderr, "\n");                                                             \
		return 1;                                                                          \
	} while (0)
#define C_CHECK(cond)                                                                              \
	do {                                                                                       \
		if (!(cond))                                                                       \
			C_FAIL("CHECK(%s) failed", #cond);                                         \
	} while (0)
#define C_OK(call)                                                                                 \
	do {                                                                                       \
		errno = 0;                                                                         \
		if ((long long)(call) < 0)                                                         \
			C_FAIL("%s: %s", #call, strerror(errno));                                  \
	} while (0)
#define C_ERR(call, e1, e2)                                                                        \
	do {                                                                                       \
		errno = 0;                                                                         \
		long long fbt_r = (long long)(call);                                               \
		if (fbt_r == -1 && errno)                                                          \
			fbt_r = -errno;                                                            \
		if (fbt_r != (long long)(e1) && fbt_r != (long long)(e2))                          \
			C_FAIL("%s: got %lld (%s), want %s", #call, fbt_r,                         \
			       fbt_r < 0 ? strerror((int)-fbt_r) : "ok", strerror(-(e1)));         \
	} while (0)

struct nobody_arg {
	int (*fn)(void);
};

static int nobody_trampoline(void *p)
{
	struct nobody_arg *a = p;
	struct stat st;

	if (setgroups(0, NULL) < 0 || setresgid(NOBODY_GID, NOBODY_GID, NOBODY_GID) < 0 ||
	    setresuid(NOBODY_UID, NOBODY_UID, NOBODY_UID) < 0) {
		fprintf(stderr, "  cannot drop privileges: %s\n", strerror(errno));
		return 100;
	}
	if (stat(".", &st) < 0)
		return errno == EACCES || errno == EPERM ? 77 : 101;
	return a->fn();
}

/* Run @fn in a child as uid/gid 65534 (no supplementary groups), then check it passed. */
#define AS_NOBODY(fn)                                                                              \
	do {                                                                                       \
		struct nobody_arg fbt_na = {fn};                                                   \
		int fbt_rc = reap(spawn(nobody_trampoline, &fbt_na));                              \
		if (fbt_rc == 77)                                                                  \
			SKIP("uid 65534 cannot reach the test directory "                          \
			     "(mount without allow_other?)");                                      \
		if (fbt_rc != 0)                                                                   \
			FBT_FAIL("unprivileged child %s failed (exit %d)", #fn, fbt_rc);           \
	} while (0)

/* ------------------------------------------------------------------------------------------ */
/* open(2) flags                                                                              */

TEST(open_creat_excl)
{
	BEGIN();
	int fd = OPEN("f", O_CREAT | O_EXCL | O_WRONLY, 0644);
	close(fd);
	CHECK_ERR(open("f", O_CREAT | O_EXCL | O_WRONLY, 0644), -EEXIST);
	CHECK_OK(mkdir("d", 0755));
	CHECK_ERR(open("d", O_CREAT | O_EXCL | O_RDONLY, 0644), -EEXIST);
	/* O_EXCL does not follow a symlink, even a dangling one */
	CHECK_OK(symlink("nowhere", "dangling"));
	CHECK_ERR(open("dangling", O_CREAT | O_EXCL | O_WRONLY, 0644), -EEXIST);
	CHECK_ERR(access("nowhere", F_OK), -ENOENT);
	/* O_CREAT without O_EXCL opens the existing file without truncating it */
	WFILE("g", "data", 4, 0644);
	fd = OPEN("g", O_CREAT | O_WRONLY, 0600);
	close(fd);
	CHECK_CONTENT("g", "data");
	CHECK_EQ(STAT("g").st_mode & 07777, 0644);
	COMPARE_HOST();
}

TEST(open_creat_mode_umask)
{
	BEGIN();
	mode_t old = umask(027);
	int fd = open("f", O_CREAT | O_WRONLY, 0666);
	int e = errno;

	umask(old);
	if (fd < 0)
		FBT_FAIL("create: %s", strerror(e));
	close(fd);
	CHECK_EQ(STAT("f").st_mode, S_IFREG | 0640);
	CHECK_EQ(STAT("f").st_size, 0);
	CHECK_EQ(STAT("f").st_uid, geteuid());
	CHECK_EQ(STAT("f").st_nlink, 1);
	CHECK_OK(mkdir("d", 0750));
	CHECK_EQ(STAT("d").st_mode, S_IFDIR | 0750);
	COMPARE_HOST();
}

TEST(open_enoent_enotdir)
{
	BEGIN();
	CHECK_ERR(open("missing", O_RDONLY), -ENOENT);
	CHECK_ERR(open("nodir/f", O_CREAT | O_WRONLY, 0644), -ENOENT);
	WFILE("file", "x", 1, 0644);
	CHECK_ERR(open("file/f", O_CREAT | O_WRONLY, 0644), -ENOTDIR);
	CHECK_ERR(open("file/", O_RDONLY), -ENOTDIR);
	CHECK_ERR(access("missing", F_OK), -ENOENT);
}

TEST(open_trunc)
{
	BEGIN();
	WFILE("f", "hello world", 11, 0644);
	int fd = OPEN("f", O_RDONLY);
	close(fd);
	CHECK_EQ(STAT("f").st_size, 11);
	fd = OPEN("f", O_WRONLY | O_TRUNC);
	CHECK_EQ(FSTAT(fd).st_size, 0);
	CHECK_EQ(write(fd, "ab", 2), 2);
	close(fd);
	CHECK_CONTENT("f", "ab");
	CHECK_EQ(STAT("f").st_size, 2);
	COMPARE_HOST();
}

TEST(open_append)
{
	BEGIN();
	WFILE("f", "0123456789", 10, 0644);
	int fd = OPEN("f", O_WRONLY | O_APPEND);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	CHECK_EQ(write(fd, "AB", 2), 2);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 12);
	CHECK_EQ(lseek(fd, 3, SEEK_SET), 3);
	CHECK_EQ(write(fd, "CD", 2), 2);
	close(fd);
	CHECK_CONTENT("f", "0123456789ABCD");
	/* another fd that wrote meanwhile does not get overwritten by an appender */
	int a = OPEN("f", O_WRONLY | O_APPEND);
	int b = OPEN("f", O_WRONLY | O_APPEND);
	CHECK_EQ(write(a, "1", 1), 1);
	CHECK_EQ(write(b, "2", 1), 1);
	CHECK_EQ(write(a, "3", 1), 1);
	close(a);
	close(b);
	CHECK_CONTENT("f", "0123456789ABCD123");
	COMPARE_HOST();
}

TEST(open_tmpfile)
{
	BEGIN();
	char proc[64];
	int fd = SYS(open(".", O_TMPFILE | O_RDWR, 0640));

	if (fd == -EOPNOTSUPP || fd == -EISDIR || fd == -ENOSYS)
		SKIP("O_TMPFILE not supported here (%s)", strerror(-fd));
	CHECK_OK(fd);
	CHECK_EQ(write(fd, "tmpdata", 7), 7);
	struct stat st = FSTAT(fd);
	CHECK_EQ(st.st_nlink, 0);
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0640);
	/* it has no name: the directory is still empty */
	size_t n;
	char **l = list_dir(".", &n);
	CHECK(l);
	free_list(l, n);
	CHECK_EQ(n, 0);
	xsnprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	CHECK_OK(linkat(AT_FDCWD, proc, AT_FDCWD, "named", AT_SYMLINK_FOLLOW));
	CHECK_EQ(FSTAT(fd).st_nlink, 1);
	CHECK_EQ(STAT("named").st_ino, st.st_ino);
	CHECK_CONTENT("named", "tmpdata");
	close(fd);
	/* an O_TMPFILE | O_EXCL file can never be linked */
	fd = open(".", O_TMPFILE | O_RDWR | O_EXCL, 0600);
	CHECK_OK(fd);
	xsnprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	CHECK_ERR(linkat(AT_FDCWD, proc, AT_FDCWD, "never", AT_SYMLINK_FOLLOW), -ENOENT);
	close(fd);
	COMPARE_HOST();
}

TEST(open_directory_on_file)
{
	BEGIN();
	WFILE("f", "x", 1, 0644);
	CHECK_ERR(open("f", O_RDONLY | O_DIRECTORY), -ENOTDIR);
	CHECK_OK(mkdir("d", 0755));
	int fd = OPEN("d", O_RDONLY | O_DIRECTORY);
	close(fd);
	CHECK_ERR(open("d", O_WRONLY), -EISDIR);
	CHECK_ERR(open("d", O_RDWR), -EISDIR);
}

TEST(open_nofollow)
{
	BEGIN();
	WFILE("target", "t", 1, 0644);
	CHECK_OK(symlink("target", "link"));
	CHECK_ERR(open("link", O_RDONLY | O_NOFOLLOW), -ELOOP);
	/* O_PATH | O_NOFOLLOW opens the link itself */
	int fd = OPEN("link", O_PATH | O_NOFOLLOW);
	CHECK(S_ISLNK(FSTAT(fd).st_mode));
	close(fd);
	/* a loop of symlinks */
	CHECK_OK(symlink("loop2", "loop1"));
	CHECK_OK(symlink("loop1", "loop2"));
	CHECK_ERR(open("loop1", O_RDONLY), -ELOOP);
	CHECK_ERR(stat("loop1", &(struct stat){0}), -ELOOP);
}

TEST(bad_fd_modes)
{
	BEGIN();
	char c;

	WFILE("f", "abc", 3, 0644);
	int r = OPEN("f", O_RDONLY);
	int w = OPEN("f", O_WRONLY);
	CHECK_ERR(write(r, "x", 1), -EBADF);
	CHECK_ERR(read(w, &c, 1), -EBADF);
	close(r);
	close(w);
	CHECK_CONTENT("f", "abc");
}

/* ------------------------------------------------------------------------------------------ */
/* Reading and writing                                                                        */

TEST(rw_offsets)
{
	BEGIN();
	char buf[64];
	int fd = OPEN("f", O_RDWR | O_CREAT, 0644);

	CHECK_EQ(pwrite(fd, "abcdefghij", 10, 0), 10);
	CHECK_EQ(pwrite(fd, "XYZ", 3, 4), 3);
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 10);
	CHECK(!memcmp(buf, "abcdXYZhij", 10));
	CHECK_EQ(pread(fd, buf, 4, 8), 2); /* short read at EOF */
	CHECK(!memcmp(buf, "ij", 2));
	CHECK_EQ(pread(fd, buf, 4, 10), 0);   /* at EOF */
	CHECK_EQ(pread(fd, buf, 4, 1000), 0); /* past EOF */
	/* read(2)/write(2) move the offset; pread/pwrite do not */
	CHECK_EQ(lseek(fd, 2, SEEK_SET), 2);
	CHECK_EQ(read(fd, buf, 3), 3);
	CHECK(!memcmp(buf, "cdX", 3));
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 5);
	CHECK_EQ(write(fd, "--", 2), 2);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 7);
	CHECK_EQ(lseek(fd, 0, SEEK_END), 10);
	CHECK_EQ(lseek(fd, -3, SEEK_END), 7);
	CHECK_ERR(lseek(fd, -20, SEEK_SET), -EINVAL);
	close(fd);
	CHECK_CONTENT("f", "abcdX--hij");
	COMPARE_HOST();
}

TEST(rw_hole)
{
	BEGIN();
	const off_t far = 1024 * 1024 + 3;
	char *buf = malloc((size_t)far + 100);
	int fd = OPEN("f", O_RDWR | O_CREAT, 0644);

	CHECK_EQ(pwrite(fd, "head", 4, 0), 4);
	CHECK_EQ(pwrite(fd, "tail", 4, far), 4);
	CHECK_EQ(FSTAT(fd).st_size, far + 4);
	close(fd);
	CHECK_EQ(STAT("f").st_size, far + 4);
	CHECK_EQ(rfile("f", buf, (size_t)far + 100), far + 4);
	CHECK(!memcmp(buf, "head", 4));
	CHECK(all_zero(buf + 4, (size_t)far - 4));
	CHECK(!memcmp(buf + far, "tail", 4));
	free(buf);
	COMPARE_HOST();
}

TEST(truncate_grow_shrink)
{
	BEGIN();
	char buf[8192];

	fill(buf, 5000, 0, 1);
	WFILE("f", buf, 5000, 0644);
	CHECK_OK(truncate("f", 100));
	CHECK_EQ(STAT("f").st_size, 100);
	CHECK_OK(truncate("f", 6000));
	CHECK_EQ(STAT("f").st_size, 6000);
	CHECK_EQ(rfile("f", buf, sizeof(buf)), 6000);
	CHECK_EQ(verify(buf, 100, 0, 1), -1);
	/* the bytes cut off by the shrink must not come back */
	CHECK(all_zero(buf + 100, 5900));

	int fd = OPEN("f", O_RDWR);
	CHECK_OK(ftruncate(fd, 10));
	CHECK_EQ(FSTAT(fd).st_size, 10);
	CHECK_OK(ftruncate(fd, 4097));
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 4097);
	CHECK_EQ(verify(buf, 10, 0, 1), -1);
	CHECK(all_zero(buf + 10, 4087));
	CHECK_OK(ftruncate(fd, 0));
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 0);
	CHECK_ERR(ftruncate(fd, -1), -EINVAL);
	close(fd);
	fd = OPEN("f", O_RDONLY);
	CHECK_ERR2(ftruncate(fd, 5), -EINVAL, -EBADF);
	close(fd);
	CHECK_ERR(truncate("missing", 0), -ENOENT);
	CHECK_OK(mkdir("d", 0755));
	CHECK_ERR(truncate("d", 0), -EISDIR);
	CHECK_OK(truncate("f", 777));
	COMPARE_HOST();
}

TEST(large_rw_8m)
{
	BEGIN();
	const size_t total = 8u << 20;
	const off_t base = 3;
	uint8_t *buf = malloc(total), *back = malloc(total);
	static const size_t wsz[] = {12345, 777, 65537, 4093, 131071, 1};
	static const size_t rsz[] = {4099, 65535, 333, 262147};
	int fd = OPEN("f", O_RDWR | O_CREAT | O_TRUNC, 0644);
	size_t done = 0;

	fill(buf, total, (uint64_t)base, 7);
	for (int i = 0; done < total; i++) {
		size_t n = wsz[i % 6];

		if (n > total - done)
			n = total - done;
		CHECK_EQ(pwrite(fd, buf + done, n, base + (off_t)done), n);
		done += n;
	}
	CHECK_EQ(FSTAT(fd).st_size, base + (off_t)total);
	CHECK_OK(fsync(fd));
	close(fd);
	fd = OPEN("f", O_RDONLY);
	done = 0;
	for (int i = 0; done < total; i++) {
		size_t n = rsz[i % 4];
		ssize_t r = pread(fd, back + done, n, base + (off_t)done);

		CHECK(r > 0);
		done += (size_t)r;
	}
	close(fd);
	long long bad = verify(back, total, (uint64_t)base, 7);
	if (bad >= 0)
		FBT_FAIL("8 MiB pattern differs at offset %lld", bad + base);
	/* one 8 MiB write and one 8 MiB read */
	fd = OPEN("g", O_RDWR | O_CREAT | O_TRUNC, 0644);
	size_t w = 0;
	while (w < total) {
		ssize_t r = write(fd, buf + w, total - w);
		CHECK(r > 0);
		w += (size_t)r;
	}
	close(fd);
	memset(back, 0, total);
	CHECK_EQ(rfile("g", back, total), total);
	CHECK(!memcmp(buf, back, total));
	free(buf);
	free(back);
	COMPARE_HOST();
}

TEST(many_small_appends)
{
	BEGIN();
	int a = OPEN("f", O_WRONLY | O_CREAT | O_APPEND, 0644);
	int b = OPEN("f", O_WRONLY | O_APPEND);
	size_t total = 0;
	uint8_t chunk[32], *back;

	for (int i = 0; i < 3000; i++) {
		size_t n = (size_t)(i % 13) + 1;

		fill(chunk, n, total, 3);
		CHECK_EQ(write(i % 2 ? a : b, chunk, n), n);
		total += n;
	}
	close(a);
	close(b);
	CHECK_EQ(STAT("f").st_size, total);
	back = malloc(total + 1);
	CHECK_EQ(rfile("f", back, total + 1), total);
	CHECK_EQ(verify(back, total, 0, 3), -1);
	free(back);
	COMPARE_HOST();
}

TEST(stat_after_write)
{
	BEGIN();
	struct timespec past[2] = {{1000000000, 0}, {1000000000, 0}};
	int fd = OPEN("f", O_RDWR | O_CREAT, 0644);

	CHECK_OK(futimens(fd, past));
	struct stat before = FSTAT(fd);
	CHECK_EQ(before.st_mtim.tv_sec, 1000000000);
	CHECK_EQ(write(fd, "0123456789", 10), 10);
	struct stat after = FSTAT(fd);
	CHECK_EQ(after.st_size, 10);
	CHECK(after.st_mtim.tv_sec > 1000000000);
	CHECK(after.st_ctim.tv_sec >= before.st_ctim.tv_sec);
	close(fd);
	struct stat st = STAT("f");
	CHECK_EQ(st.st_size, 10);
	CHECK(st.st_mtim.tv_sec > 1000000000);
	CHECK(st.st_blocks > 0 || st.st_size == 0);
	COMPARE_HOST();
}

TEST(fsync_fdatasync)
{
	BEGIN();
	int fd = OPEN("f", O_RDWR | O_CREAT, 0644);

	CHECK_EQ(write(fd, "sync", 4), 4);
	CHECK_OK(fsync(fd));
	CHECK_OK(fdatasync(fd));
	close(fd);
	CHECK_OK(mkdir("d", 0755));
	fd = OPEN("d", O_RDONLY | O_DIRECTORY);
	CHECK_OK(fsync(fd));
	close(fd);
	fd = OPEN("f", O_RDONLY);
	CHECK_OK(fsync(fd));
	close(fd);
	fd = OPEN(".", O_RDONLY | O_DIRECTORY);
	CHECK_OK(syncfs(fd));
	close(fd);
	COMPARE_HOST();
}

TEST(copy_file_range)
{
	BEGIN();
	static uint8_t src[100000], dst[200000];
	int in, out;
	loff_t ioff = 1234, ooff = 777;
	size_t left = 50000;

	fill(src, sizeof(src), 0, 11);
	WFILE("src", src, sizeof(src), 0644);
	memset(dst, 'x', 1000);
	WFILE("dst", dst, 1000, 0644);
	in = OPEN("src", O_RDONLY);
	out = OPEN("dst", O_WRONLY);
	while (left) {
		ssize_t n = SYS(copy_file_range(in, &ioff, out, &ooff, left, 0));

		if (n == -ENOSYS || n == -EOPNOTSUPP || n == -EXDEV)
			SKIP("copy_file_range not available (%s)", strerror((int)-n));
		CHECK_OK(n);
		CHECK(n > 0);
		left -= (size_t)n;
	}
	CHECK_EQ(ioff, 1234 + 50000);
	CHECK_EQ(ooff, 777 + 50000);
	/* at the source's end there is nothing to copy */
	ioff = sizeof(src);
	CHECK_EQ(copy_file_range(in, &ioff, out, &ooff, 100, 0), 0);
	close(in);
	close(out);
	CHECK_EQ(STAT("dst").st_size, 777 + 50000);
	CHECK_EQ(rfile("dst", dst, sizeof(dst)), 777 + 50000);
	for (int i = 0; i < 777; i++)
		CHECK_EQ(dst[i], 'x');
	CHECK(!memcmp(dst + 777, src + 1234, 50000));
	COMPARE_HOST();
}

/* ------------------------------------------------------------------------------------------ */
/* rename                                                                                     */

TEST(rename_plain)
{
	BEGIN();
	WFILE("a", "A", 1, 0644);
	ino_t ino = STAT("a").st_ino;
	CHECK_OK(rename("a", "b"));
	CHECK_ERR(access("a", F_OK), -ENOENT);
	CHECK_CONTENT("b", "A");
	CHECK_EQ(STAT("b").st_ino, ino);
	/* into another directory, and a directory with its contents */
	CHECK_OK(mkdir("d1", 0755));
	CHECK_OK(mkdir("d2", 0755));
	CHECK_OK(rename("b", "d1/c"));
	CHECK_CONTENT("d1/c", "A");
	CHECK_OK(rename("d1", "d2/moved"));
	CHECK_CONTENT("d2/moved/c", "A");
	/* the moved directory's .. is its new parent */
	CHECK_EQ(STAT("d2/moved/..").st_ino, STAT("d2").st_ino);
	CHECK_ERR(rename("missing", "x"), -ENOENT);
	CHECK_ERR(rename("d2/moved/c", "nodir/c"), -ENOENT);
	/* a rename onto itself changes nothing */
	CHECK_OK(rename("d2/moved/c", "d2/moved/c"));
	CHECK_CONTENT("d2/moved/c", "A");
	COMPARE_HOST();
}

TEST(rename_over_file)
{
	BEGIN();
	char buf[8];

	WFILE("src", "new", 3, 0644);
	WFILE("dst", "old", 3, 0600);
	int fd = OPEN("dst", O_RDONLY);
	ino_t src_ino = STAT("src").st_ino;
	CHECK_OK(rename("src", "dst"));
	CHECK_ERR(access("src", F_OK), -ENOENT);
	CHECK_CONTENT("dst", "new");
	CHECK_EQ(STAT("dst").st_ino, src_ino);
	CHECK_EQ(STAT("dst").st_mode & 07777, 0644);
	/* the replaced file lives on through its open fd */
	CHECK_EQ(FSTAT(fd).st_nlink, 0);
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 3);
	CHECK(!memcmp(buf, "old", 3));
	close(fd);
	/* renaming one hard link over another of the same file is a no-op */
	CHECK_OK(link("dst", "dst2"));
	CHECK_OK(rename("dst", "dst2"));
	CHECK_EQ(STAT("dst").st_nlink, 2);
	CHECK_EQ(STAT("dst2").st_nlink, 2);
	size_t n;
	char **l = list_dir(".", &n);
	CHECK(l);
	free_list(l, n);
	CHECK_EQ(n, 2);
	COMPARE_HOST();
}

TEST(rename_dir_over_empty_dir)
{
	BEGIN();
	CHECK_OK(mkdir("a", 0755));
	WFILE("a/f", "F", 1, 0644);
	CHECK_OK(mkdir("b", 0700));
	CHECK_OK(rename("a", "b"));
	CHECK_ERR(access("a", F_OK), -ENOENT);
	CHECK_CONTENT("b/f", "F");
	CHECK_EQ(STAT("b").st_mode & 07777, 0755);
	COMPARE_HOST();
}

TEST(rename_noreplace)
{
	BEGIN();
	WFILE("a", "A", 1, 0644);
	WFILE("b", "B", 1, 0644);
	int r = SYS(renameat2(AT_FDCWD, "a", AT_FDCWD, "b", RENAME_NOREPLACE));

	if (r == -EINVAL || r == -ENOSYS)
		SKIP("RENAME_NOREPLACE not supported (%s)", strerror(errno));
	CHECK_ERR(r, -EEXIST);
	CHECK_CONTENT("a", "A");
	CHECK_CONTENT("b", "B");
	CHECK_OK(renameat2(AT_FDCWD, "a", AT_FDCWD, "c", RENAME_NOREPLACE));
	CHECK_ERR(access("a", F_OK), -ENOENT);
	CHECK_CONTENT("c", "A");
	COMPARE_HOST();
}

TEST(rename_exchange)
{
	BEGIN();
	WFILE("a", "A", 1, 0644);
	WFILE("b", "B", 1, 0600);
	int r = SYS(renameat2(AT_FDCWD, "a", AT_FDCWD, "b", RENAME_EXCHANGE));

	if (r == -EINVAL || r == -ENOSYS)
		SKIP("RENAME_EXCHANGE not supported (%s)", strerror(errno));
	CHECK_OK(r);
	CHECK_CONTENT("a", "B");
	CHECK_CONTENT("b", "A");
	CHECK_EQ(STAT("a").st_mode & 07777, 0600);
	/* file <-> directory, across directories */
	CHECK_OK(mkdir("p1", 0755));
	CHECK_OK(mkdir("p2", 0755));
	CHECK_OK(mkdir("p1/d", 0755));
	WFILE("p1/d/x", "X", 1, 0644);
	CHECK_OK(rename("a", "p2/f"));
	CHECK_OK(renameat2(AT_FDCWD, "p1/d", AT_FDCWD, "p2/f", RENAME_EXCHANGE));
	CHECK(S_ISDIR(STAT("p2/f").st_mode));
	CHECK_CONTENT("p2/f/x", "X");
	CHECK(S_ISREG(STAT("p1/d").st_mode));
	CHECK_CONTENT("p1/d", "B");
	CHECK_EQ(STAT("p2/f/..").st_ino, STAT("p2").st_ino);
	/* both names must exist */
	CHECK_ERR(renameat2(AT_FDCWD, "b", AT_FDCWD, "none", RENAME_EXCHANGE), -ENOENT);
	COMPARE_HOST();
}

TEST(rename_dir_into_own_subdir)
{
	BEGIN();
	CHECK_OK(mkdir("a", 0755));
	CHECK_OK(mkdir("a/b", 0755));
	CHECK_ERR(rename("a", "a/b/c"), -EINVAL);
	CHECK_ERR(rename("a", "a/c"), -EINVAL);
	CHECK(S_ISDIR(STAT("a/b").st_mode));
}

TEST(rename_over_nonempty_dir)
{
	BEGIN();
	CHECK_OK(mkdir("a", 0755));
	CHECK_OK(mkdir("b", 0755));
	WFILE("b/f", "F", 1, 0644);
	CHECK_ERR2(rename("a", "b"), -ENOTEMPTY, -EEXIST);
	CHECK_CONTENT("b/f", "F");
	CHECK(S_ISDIR(STAT("a").st_mode));
}

TEST(rename_file_over_dir)
{
	BEGIN();
	WFILE("f", "F", 1, 0644);
	CHECK_OK(mkdir("d", 0755));
	CHECK_ERR(rename("f", "d"), -EISDIR);
	CHECK(S_ISREG(STAT("f").st_mode));
	CHECK(S_ISDIR(STAT("d").st_mode));
}

TEST(rename_dir_over_file)
{
	BEGIN();
	WFILE("f", "F", 1, 0644);
	CHECK_OK(mkdir("d", 0755));
	CHECK_ERR(rename("d", "f"), -ENOTDIR);
	CHECK(S_ISREG(STAT("f").st_mode));
	CHECK(S_ISDIR(STAT("d").st_mode));
}

/* ------------------------------------------------------------------------------------------ */
/* link, unlink, mkdir, rmdir                                                                 */

TEST(link_count)
{
	BEGIN();
	WFILE("f", "one", 3, 0644);
	CHECK_EQ(STAT("f").st_nlink, 1);
	CHECK_OK(link("f", "g"));
	CHECK_EQ(STAT("f").st_nlink, 2);
	CHECK_EQ(STAT("g").st_nlink, 2);
	CHECK_EQ(STAT("f").st_ino, STAT("g").st_ino);
	CHECK_OK(mkdir("d", 0755));
	CHECK_OK(link("g", "d/h"));
	CHECK_EQ(STAT("f").st_nlink, 3);
	/* a write through one name shows through the others */
	int fd = OPEN("g", O_WRONLY | O_TRUNC);
	CHECK_EQ(write(fd, "two", 3), 3);
	close(fd);
	CHECK_CONTENT("f", "two");
	CHECK_CONTENT("d/h", "two");
	CHECK_OK(unlink("f"));
	CHECK_EQ(STAT("g").st_nlink, 2);
	CHECK_OK(unlink("d/h"));
	CHECK_EQ(STAT("g").st_nlink, 1);
	CHECK_CONTENT("g", "two");
	COMPARE_HOST();
}

TEST(link_errors)
{
	BEGIN();
	WFILE("f", "x", 1, 0644);
	WFILE("g", "y", 1, 0644);
	CHECK_OK(mkdir("d", 0755));
	CHECK_ERR(link("missing", "x"), -ENOENT);
	CHECK_ERR(link("f", "g"), -EEXIST);
	CHECK_ERR(link("f", "d"), -EEXIST);
	CHECK_ERR(link("d", "d2"), -EPERM);
	CHECK_ERR(link("f", "nodir/x"), -ENOENT);
	CHECK_EQ(STAT("f").st_nlink, 1);
}

TEST(unlink_errors)
{
	BEGIN();
	CHECK_OK(mkdir("d", 0755));
	CHECK_ERR(unlink("missing"), -ENOENT);
	CHECK_ERR(unlink("d"), -EISDIR);
	CHECK_ERR(unlink("nodir/f"), -ENOENT);
	WFILE("f", "x", 1, 0644);
	CHECK_ERR(unlink("f/x"), -ENOTDIR);
	CHECK_OK(unlink("f"));
	CHECK_ERR(unlink("f"), -ENOENT);
	CHECK_ERR(stat("f", &(struct stat){0}), -ENOENT);
}

TEST(rmdir_errors)
{
	BEGIN();
	CHECK_OK(mkdir("d", 0755));
	WFILE("d/f", "x", 1, 0644);
	WFILE("f", "x", 1, 0644);
	CHECK_ERR(rmdir("d"), -ENOTEMPTY);
	CHECK_ERR(rmdir("f"), -ENOTDIR);
	CHECK_ERR(rmdir("missing"), -ENOENT);
	CHECK_ERR(rmdir("."), -EINVAL);
	CHECK_ERR(rmdir("d/."), -EINVAL);
	CHECK_OK(unlink("d/f"));
	CHECK_OK(rmdir("d"));
	CHECK_ERR(stat("d", &(struct stat){0}), -ENOENT);
	CHECK_ERR(rmdir("d"), -ENOENT);
}

TEST(mkdir_errors)
{
	BEGIN();
	CHECK_OK(mkdir("d", 0755));
	WFILE("f", "x", 1, 0644);
	CHECK_ERR(mkdir("d", 0755), -EEXIST);
	CHECK_ERR(mkdir("f", 0755), -EEXIST);
	CHECK_ERR(mkdir("nodir/d", 0755), -ENOENT);
	CHECK_ERR(mkdir("f/d", 0755), -ENOTDIR);
	CHECK_OK(symlink("d", "sl"));
	CHECK_ERR(mkdir("sl", 0755), -EEXIST);
}

TEST(unlink_open_file)
{
	BEGIN();
	char buf[16];
	int fd = OPEN("f", O_RDWR | O_CREAT, 0644);

	CHECK_EQ(write(fd, "still here", 10), 10);
	CHECK_OK(unlink("f"));
	CHECK_ERR(access("f", F_OK), -ENOENT);
	CHECK_EQ(FSTAT(fd).st_nlink, 0);
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 10);
	CHECK(!memcmp(buf, "still here", 10));
	CHECK_EQ(pwrite(fd, "!", 1, 10), 1);
	CHECK_EQ(FSTAT(fd).st_size, 11);
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 11);
	CHECK(!memcmp(buf, "still here!", 11));
	CHECK_OK(fsync(fd));
	/* a new file with the same name is a different file */
	WFILE("f", "new", 3, 0644);
	CHECK(STAT("f").st_ino != FSTAT(fd).st_ino);
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 11);
	close(fd);
	CHECK_CONTENT("f", "new");
	COMPARE_HOST();
}

TEST(name_too_long)
{
	BEGIN();
	char name[300];

	memset(name, 'n', 255);
	name[255] = 0;
	int fd = OPEN(name, O_CREAT | O_WRONLY, 0644);
	close(fd);
	CHECK_OK(access(name, F_OK));
	CHECK_OK(unlink(name));
	name[255] = 'n';
	name[256] = 0;
	CHECK_ERR(open(name, O_CREAT | O_WRONLY, 0644), -ENAMETOOLONG);
	CHECK_ERR(mkdir(name, 0755), -ENAMETOOLONG);
	CHECK_ERR(stat(name, &(struct stat){0}), -ENAMETOOLONG);
	CHECK_ERR(symlink("x", name), -ENAMETOOLONG);
	WFILE("f", "x", 1, 0644);
	CHECK_ERR(rename("f", name), -ENAMETOOLONG);
	CHECK_ERR(link("f", name), -ENAMETOOLONG);
}

/* ------------------------------------------------------------------------------------------ */
/* Symlinks                                                                                   */

TEST(symlink_readlink)
{
	BEGIN();
	char buf[PATH_MAX];
	char abs[PATH_MAX];

	CHECK_OK(mkdir("d", 0755));
	WFILE("d/target", "T", 1, 0644);
	CHECK_OK(symlink("d/target", "rel"));
	xsnprintf(abs, sizeof(abs), "%s/d/target", g_tdir);
	CHECK_OK(symlink(abs, "abs"));
	CHECK_OK(symlink("../d/target", "d/../updown"));
	CHECK_OK(symlink("nowhere/at/all", "dangling"));

	CHECK_EQ(readlink("rel", buf, sizeof(buf)), strlen("d/target"));
	CHECK(!memcmp(buf, "d/target", 8));
	CHECK_EQ(readlink("abs", buf, sizeof(buf)), strlen(abs));
	CHECK(!memcmp(buf, abs, strlen(abs)));
	/* a short buffer truncates, without a terminating NUL */
	memset(buf, '#', 8);
	CHECK_EQ(readlink("rel", buf, 3), 3);
	CHECK(!memcmp(buf, "d/t#", 4));

	CHECK_CONTENT("rel", "T");
	CHECK_CONTENT("abs", "T");
	CHECK_ERR(open("dangling", O_RDONLY), -ENOENT);

	struct stat l = LSTAT("rel"), s = STAT("rel");
	CHECK(S_ISLNK(l.st_mode));
	CHECK_EQ(l.st_size, strlen("d/target"));
	CHECK(S_ISREG(s.st_mode));
	CHECK_EQ(s.st_ino, STAT("d/target").st_ino);
	CHECK(S_ISLNK(LSTAT("dangling").st_mode));
	CHECK_ERR(stat("dangling", &s), -ENOENT);
	CHECK_ERR(readlink("d/target", buf, sizeof(buf)), -EINVAL);
	CHECK_ERR(readlink("missing", buf, sizeof(buf)), -ENOENT);
	/* a symlink to a directory is followed in the middle of a path */
	CHECK_OK(symlink("d", "dl"));
	CHECK_CONTENT("dl/target", "T");
	/* a long target */
	memset(abs, 'x', 1000);
	abs[1000] = 0;
	CHECK_OK(symlink(abs, "long"));
	CHECK_EQ(readlink("long", buf, sizeof(buf)), 1000);
	CHECK(!memcmp(buf, abs, 1000));
	CHECK_ERR(symlink("x", "rel"), -EEXIST);
	COMPARE_HOST();
}

/* ------------------------------------------------------------------------------------------ */
/* Attributes                                                                                 */

TEST(chmod_modes)
{
	BEGIN();
	WFILE("f", "x", 1, 0644);
	CHECK_OK(chmod("f", 0600));
	CHECK_EQ(STAT("f").st_mode, S_IFREG | 0600);
	int fd = OPEN("f", O_RDONLY);
	CHECK_OK(fchmod(fd, 0751));
	CHECK_EQ(FSTAT(fd).st_mode, S_IFREG | 0751);
	close(fd);
	CHECK_OK(chmod("f", 0));
	CHECK_EQ(STAT("f").st_mode, S_IFREG);
	CHECK_OK(chmod("f", 0777));
	CHECK_EQ(STAT("f").st_mode, S_IFREG | 0777);
	CHECK_OK(mkdir("d", 0755));
	CHECK_OK(chmod("d", 01777));
	CHECK_EQ(STAT("d").st_mode, S_IFDIR | 01777);
	CHECK_OK(chmod("d", 02750));
	CHECK_EQ(STAT("d").st_mode, S_IFDIR | 02750);
	/* chmod follows a symlink to its target */
	CHECK_OK(symlink("f", "l"));
	CHECK_OK(chmod("l", 0640));
	CHECK_EQ(STAT("f").st_mode, S_IFREG | 0640);
	CHECK(S_ISLNK(LSTAT("l").st_mode));
	CHECK_ERR(chmod("missing", 0644), -ENOENT);
	/* ctime is "now" after a change of attributes */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	CHECK_OK(chmod("f", 0644));
	CHECK(STAT("f").st_ctim.tv_sec >= now.tv_sec - 2);
	COMPARE_HOST();
}

TEST(chown_root)
{
	BEGIN();
	NEED_ROOT();
	WFILE("f", "x", 1, 0644);
	CHECK_OK(chown("f", NOBODY_UID, NOBODY_GID));
	CHECK_EQ(STAT("f").st_uid, NOBODY_UID);
	CHECK_EQ(STAT("f").st_gid, NOBODY_GID);
	CHECK_OK(chown("f", (uid_t)-1, 0));
	CHECK_EQ(STAT("f").st_uid, NOBODY_UID);
	CHECK_EQ(STAT("f").st_gid, 0);
	int fd = OPEN("f", O_RDONLY);
	CHECK_OK(fchown(fd, OTHER_UID, (gid_t)-1));
	CHECK_EQ(FSTAT(fd).st_uid, OTHER_UID);
	close(fd);
	/* lchown changes the link, not its target */
	CHECK_OK(symlink("f", "l"));
	CHECK_OK(lchown("l", NOBODY_UID, NOBODY_GID));
	CHECK_EQ(LSTAT("l").st_uid, NOBODY_UID);
	CHECK_EQ(STAT("f").st_uid, OTHER_UID);
	CHECK_OK(mkdir("d", 0755));
	CHECK_OK(chown("d", NOBODY_UID, NOBODY_GID));
	CHECK_EQ(STAT("d").st_uid, NOBODY_UID);
	COMPARE_HOST();
}

TEST(chown_clears_suid)
{
	BEGIN();
	NEED_ROOT();
	WFILE("f", "x", 1, 0644);
	CHECK_OK(chmod("f", 04755));
	CHECK_EQ(STAT("f").st_mode & 07777, 04755);
	CHECK_OK(chown("f", NOBODY_UID, NOBODY_GID));
	CHECK_EQ(STAT("f").st_mode & 07777, 0755);
	COMPARE_HOST();
}

/*
 * A write by a user without CAP_FSETID clears set-uid, and set-gid when group-execute is set,
 * whoever owns the file; the mount must show it at once (no stale cached mode) and so must the
 * host (FUSE passthrough writes to the host file with the daemon's credentials).
 */
/*
 * The mode as statx(STATX_MODE) sees it: the kernel answers that from its attribute cache
 * unless the mode itself was invalidated (a write invalidates size and times only).
 */
static unsigned int statx_mode(const char *path)
{
	struct statx sx;

	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_MODE, &sx) < 0)
		return 0;
	return sx.stx_mode & 07777;
}

static int nb_write_suid_files(void)
{
	int fd;

	C_OK(fd = open("s", O_WRONLY));
	C_CHECK(write(fd, "ab", 2) == 2);
	close(fd);
	C_OK(fd = open("g", O_RDWR));
	C_CHECK(pwrite(fd, "ab", 2, 5) == 2);
	close(fd);
	C_OK(fd = open("a", O_WRONLY | O_APPEND));
	C_CHECK(write(fd, "ab", 2) == 2);
	close(fd);
	return 0;
}

TEST(write_clears_suid_nonowner)
{
	BEGIN();
	NEED_ROOT();
	WFILE("s", "x", 1, 0644);
	WFILE("g", "x", 1, 0644);
	WFILE("a", "x", 1, 0644);
	CHECK_OK(chmod("s", 04777));
	CHECK_OK(chmod("g", 02777));
	CHECK_OK(chmod("a", 06777));
	CHECK_OK(chmod(".", 0777));
	CHECK_EQ(STAT("s").st_mode & 07777, 04777);
	CHECK_EQ(STAT("g").st_mode & 07777, 02777);
	AS_NOBODY(nb_write_suid_files);
	CHECK_EQ(statx_mode("s"), 0777);
	CHECK_EQ(statx_mode("g"), 0777);
	CHECK_EQ(statx_mode("a"), 0777);
	CHECK_EQ(STAT("s").st_mode & 07777, 0777);
	CHECK_EQ(STAT("g").st_mode & 07777, 0777);
	CHECK_EQ(STAT("a").st_mode & 07777, 0777);
	CHECK_CONTENT("s", "ab");
	CHECK_EQ(STAT("a").st_size, 3);
	COMPARE_HOST();
}

static int nb_direct_write_own(void)
{
	void *buf;
	int fd;

	C_CHECK(posix_memalign(&buf, 4096, 4096) == 0);
	memset(buf, 'd', 4096);
	fd = open("o", O_WRONLY | O_DIRECT);
	if (fd < 0 && errno == EINVAL)
		return 77; /* no O_DIRECT here */
	C_OK(fd);
	C_CHECK(pwrite(fd, buf, 4096, 0) == 4096);
	close(fd);
	free(buf);
	return 0;
}

TEST(direct_write_owner_clears_suid_now)
{
	BEGIN();
	NEED_ROOT();
	WFILE("o", "x", 1, 0644);
	CHECK_OK(chown("o", NOBODY_UID, NOBODY_GID));
	CHECK_OK(chmod("o", 06755));
	CHECK_OK(chmod(".", 0777));
	CHECK_EQ(STAT("o").st_mode & 07777, 06755);
	int rc = reap(spawn(nobody_trampoline, &(struct nobody_arg){nb_direct_write_own}));
	if (rc == 77)
		SKIP("O_DIRECT or uid 65534 not available here");
	CHECK_EQ(rc, 0);
	/* at once, not after the attribute timeout */
	CHECK_EQ(statx_mode("o"), 0755);
	CHECK_EQ(STAT("o").st_mode & 07777, 0755);
	CHECK_EQ(STAT("o").st_size, 4096);
	COMPARE_HOST();
}

TEST(utimensat_times)
{
	BEGIN();
	struct timespec now, ts[2];

	WFILE("f", "x", 1, 0644);
	ts[0] = (struct timespec){1000000000, 123456789};
	ts[1] = (struct timespec){1200000000, 987654321};
	CHECK_OK(utimensat(AT_FDCWD, "f", ts, 0));
	struct stat st = STAT("f");
	CHECK_EQ(st.st_atim.tv_sec, 1000000000);
	CHECK_EQ(st.st_atim.tv_nsec, 123456789);
	CHECK_EQ(st.st_mtim.tv_sec, 1200000000);
	CHECK_EQ(st.st_mtim.tv_nsec, 987654321);
	/* UTIME_OMIT keeps a time, the other one changes */
	ts[0] = (struct timespec){0, UTIME_OMIT};
	ts[1] = (struct timespec){1300000000, 5};
	CHECK_OK(utimensat(AT_FDCWD, "f", ts, 0));
	st = STAT("f");
	CHECK_EQ(st.st_atim.tv_sec, 1000000000);
	CHECK_EQ(st.st_atim.tv_nsec, 123456789);
	CHECK_EQ(st.st_mtim.tv_sec, 1300000000);
	CHECK_EQ(st.st_mtim.tv_nsec, 5);
	/* UTIME_NOW */
	clock_gettime(CLOCK_REALTIME, &now);
	ts[0] = (struct timespec){0, UTIME_NOW};
	ts[1] = (struct timespec){0, UTIME_OMIT};
	CHECK_OK(utimensat(AT_FDCWD, "f", ts, 0));
	st = STAT("f");
	CHECK(st.st_atim.tv_sec >= now.tv_sec - 2 && st.st_atim.tv_sec <= now.tv_sec + 2);
	CHECK_EQ(st.st_mtim.tv_sec, 1300000000);
	/* NULL means both now; through an fd too */
	int fd = OPEN("f", O_RDONLY);
	CHECK_OK(futimens(fd, NULL));
	st = FSTAT(fd);
	close(fd);
	CHECK(st.st_mtim.tv_sec >= now.tv_sec - 2 && st.st_mtim.tv_sec <= now.tv_sec + 2);
	CHECK(st.st_ctim.tv_sec >= now.tv_sec - 2);
	/* an invalid nanosecond value */
	ts[0] = (struct timespec){0, 1000000000};
	CHECK_ERR(utimensat(AT_FDCWD, "f", ts, 0), -EINVAL);
	CHECK_ERR(utimensat(AT_FDCWD, "missing", NULL, 0), -ENOENT);
	/* directories have times too */
	CHECK_OK(mkdir("d", 0755));
	ts[0] = ts[1] = (struct timespec){1100000000, 42};
	CHECK_OK(utimensat(AT_FDCWD, "d", ts, 0));
	CHECK_EQ(STAT("d").st_mtim.tv_sec, 1100000000);
	CHECK_EQ(STAT("d").st_mtim.tv_nsec, 42);
	if (host_tdir()) {
		char hp[PATH_MAX];
		struct stat hs;

		xsnprintf(hp, sizeof(hp), "%s/d", host_tdir());
		CHECK_OK(stat(hp, &hs));
		CHECK_EQ(hs.st_mtim.tv_sec, 1100000000);
		CHECK_EQ(hs.st_mtim.tv_nsec, 42);
	}
	COMPARE_HOST();
}

TEST(utimensat_symlink)
{
	BEGIN();
	struct timespec ts[2] = {{1000000000, 0}, {1000000001, 0}};

	WFILE("f", "x", 1, 0644);
	CHECK_OK(symlink("f", "l"));
	time_t target_mtime = STAT("f").st_mtim.tv_sec;
	CHECK_OK(utimensat(AT_FDCWD, "l", ts, AT_SYMLINK_NOFOLLOW));
	CHECK_EQ(LSTAT("l").st_mtim.tv_sec, 1000000001);
	CHECK_EQ(STAT("f").st_mtim.tv_sec, target_mtime);
}

TEST(dir_mtime_on_change)
{
	BEGIN();
	struct timespec past[2] = {{1000000000, 0}, {1000000000, 0}};

	CHECK_OK(mkdir("d", 0755));
	CHECK_OK(utimensat(AT_FDCWD, "d", past, 0));
	WFILE("d/f", "x", 1, 0644);
	CHECK(STAT("d").st_mtim.tv_sec > 1000000000);
	CHECK_OK(utimensat(AT_FDCWD, "d", past, 0));
	CHECK_OK(unlink("d/f"));
	CHECK(STAT("d").st_mtim.tv_sec > 1000000000);
}

TEST(xattr_user)
{
	BEGIN();
	char buf[2048], val[1000];

	WFILE("f", "x", 1, 0644);
	int r = SYS(setxattr("f", "user.one", "value1", 6, 0));
	if (r == -ENOTSUP || r == -ENOSYS)
		SKIP("user xattrs not supported (%s)", strerror(errno));
	CHECK_OK(r);
	/* size-0 probe gives the size; a short buffer gives ERANGE */
	CHECK_EQ(getxattr("f", "user.one", NULL, 0), 6);
	CHECK_ERR(getxattr("f", "user.one", buf, 3), -ERANGE);
	CHECK_EQ(getxattr("f", "user.one", buf, sizeof(buf)), 6);
	CHECK(!memcmp(buf, "value1", 6));
	/* binary value with NULs, and an empty value */
	fill(val, sizeof(val), 0, 5);
	val[10] = 0;
	CHECK_OK(setxattr("f", "user.bin", val, sizeof(val), 0));
	CHECK_EQ(getxattr("f", "user.bin", buf, sizeof(buf)), sizeof(val));
	CHECK(!memcmp(buf, val, sizeof(val)));
	CHECK_OK(setxattr("f", "user.empty", "", 0, 0));
	CHECK_EQ(getxattr("f", "user.empty", buf, sizeof(buf)), 0);
	/* XATTR_CREATE / XATTR_REPLACE */
	CHECK_ERR(setxattr("f", "user.one", "x", 1, XATTR_CREATE), -EEXIST);
	CHECK_ERR(setxattr("f", "user.none", "x", 1, XATTR_REPLACE), -ENODATA);
	CHECK_OK(setxattr("f", "user.one", "v2", 2, XATTR_REPLACE));
	CHECK_EQ(getxattr("f", "user.one", buf, sizeof(buf)), 2);
	CHECK(!memcmp(buf, "v2", 2));
	CHECK_OK(setxattr("f", "user.new", "n", 1, XATTR_CREATE));
	CHECK_ERR(getxattr("f", "user.none", buf, sizeof(buf)), -ENODATA);
	/* list: probe, ERANGE, and the names (other namespaces may show too) */
	ssize_t len = listxattr("f", NULL, 0);
	CHECK(len > 0);
	CHECK_ERR(listxattr("f", buf, 1), -ERANGE);
	CHECK_EQ(listxattr("f", buf, sizeof(buf)), len);
	int seen = 0, want = 0;
	for (char *p = buf; p < buf + len; p += strlen(p) + 1) {
		if (!strncmp(p, "user.", 5))
			seen++;
		if (!strcmp(p, "user.one") || !strcmp(p, "user.bin") || !strcmp(p, "user.empty") ||
		    !strcmp(p, "user.new"))
			want++;
	}
	CHECK_EQ(seen, 4);
	CHECK_EQ(want, 4);
	/* remove */
	CHECK_OK(removexattr("f", "user.one"));
	CHECK_ERR(getxattr("f", "user.one", buf, sizeof(buf)), -ENODATA);
	CHECK_ERR(removexattr("f", "user.one"), -ENODATA);
	/* through an fd, and on a directory */
	int fd = OPEN("f", O_RDONLY);
	CHECK_OK(fsetxattr(fd, "user.fd", "F", 1, 0));
	CHECK_EQ(fgetxattr(fd, "user.fd", buf, sizeof(buf)), 1);
	close(fd);
	CHECK_OK(mkdir("d", 0755));
	CHECK_OK(setxattr("d", "user.dir", "D", 1, 0));
	CHECK_EQ(getxattr("d", "user.dir", buf, sizeof(buf)), 1);
	/* user.* is not allowed on symlinks */
	CHECK_OK(symlink("f", "l"));
	CHECK_ERR(lsetxattr("l", "user.x", "x", 1, 0), -EPERM);
	CHECK_ERR(getxattr("missing", "user.x", buf, sizeof(buf)), -ENOENT);
	COMPARE_HOST();
}

TEST(statfs_sanity)
{
	BEGIN();
	struct statfs sf;
	struct statvfs sv;

	CHECK_OK(statfs(".", &sf));
	CHECK(sf.f_bsize > 0);
	CHECK(sf.f_blocks >= sf.f_bfree);
	CHECK(sf.f_bfree >= sf.f_bavail);
	CHECK(sf.f_files >= sf.f_ffree);
	CHECK(sf.f_namelen >= 255);
	CHECK_OK(statvfs(".", &sv));
	CHECK(sv.f_frsize > 0);
	CHECK(sv.f_namemax >= 255);
	int fd = OPEN(".", O_RDONLY | O_DIRECTORY);
	CHECK_OK(fstatfs(fd, &sf));
	close(fd);
	CHECK(sf.f_bsize > 0);
}

TEST(statx_basic)
{
	BEGIN();
	struct statx sx;

	WFILE("f", "12345", 5, 0640);
	int r = SYS(statx(AT_FDCWD, "f", 0, STATX_BASIC_STATS | STATX_BTIME, &sx));
	if (r == -ENOSYS)
		SKIP("statx not available");
	CHECK_OK(r);
	const unsigned need = STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_UID | STATX_GID |
			      STATX_INO | STATX_SIZE | STATX_MTIME;
	CHECK_EQ(sx.stx_mask & need, need);
	struct stat st = STAT("f");
	CHECK_EQ(sx.stx_mode, st.st_mode);
	CHECK_EQ(sx.stx_mode, S_IFREG | 0640);
	CHECK_EQ(sx.stx_size, 5);
	CHECK_EQ(sx.stx_nlink, 1);
	CHECK_EQ(sx.stx_ino, st.st_ino);
	CHECK_EQ(sx.stx_uid, st.st_uid);
	CHECK_EQ(sx.stx_gid, st.st_gid);
	CHECK_EQ(sx.stx_mtime.tv_sec, st.st_mtim.tv_sec);
	CHECK_EQ(sx.stx_mtime.tv_nsec, st.st_mtim.tv_nsec);
	CHECK(sx.stx_blksize > 0);
	if (sx.stx_mask & STATX_BTIME)
		CHECK(sx.stx_btime.tv_sec <= sx.stx_mtime.tv_sec);
	CHECK_OK(symlink("f", "l"));
	CHECK_OK(statx(AT_FDCWD, "l", AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx));
	CHECK(S_ISLNK(sx.stx_mode));
	CHECK_OK(statx(AT_FDCWD, "l", 0, STATX_TYPE, &sx));
	CHECK(S_ISREG(sx.stx_mode));
	/* AT_EMPTY_PATH on an fd */
	int fd = OPEN("f", O_RDONLY);
	CHECK_OK(statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx));
	CHECK_EQ(sx.stx_size, 5);
	close(fd);
	CHECK_ERR(statx(AT_FDCWD, "missing", 0, STATX_BASIC_STATS, &sx), -ENOENT);
}

TEST(access_root)
{
	BEGIN();
	WFILE("f", "x", 1, 0644);
	CHECK_OK(access("f", F_OK));
	CHECK_OK(access("f", R_OK | W_OK));
	CHECK_ERR(access("f", X_OK), -EACCES);
	CHECK_ERR(access("missing", F_OK), -ENOENT);
	CHECK_OK(chmod("f", 0100));
	CHECK_OK(access("f", X_OK));
	CHECK_OK(mkdir("d", 0755));
	CHECK_OK(access("d", R_OK | X_OK));
	if (is_root()) {
		/* root reads and writes anything, and executes what has any x bit */
		CHECK_OK(chmod("f", 0));
		CHECK_OK(access("f", R_OK | W_OK));
		CHECK_ERR(access("f", X_OK), -EACCES);
		CHECK_OK(chmod("d", 0));
		CHECK_OK(access("d", R_OK | W_OK | X_OK));
		CHECK_OK(chmod("d", 0755));
	} else {
		CHECK_OK(chmod("f", 0400));
		CHECK_ERR(access("f", W_OK), -EACCES);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Special files                                                                              */

TEST(mknod_fifo_socket)
{
	BEGIN();
	CHECK_OK(mkfifo("fifo", 0640));
	struct stat st = LSTAT("fifo");
	CHECK(S_ISFIFO(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0640);
	CHECK_EQ(st.st_size, 0);
	int r = SYS(mknod("sock", S_IFSOCK | 0600, 0));
	if (r == -EPERM && !is_root())
		SKIP("mknod S_IFSOCK needs privilege here");
	CHECK_OK(r);
	st = LSTAT("sock");
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0600);
	CHECK_OK(mknod("fifo2", S_IFIFO | 0600, 0));
	CHECK(S_ISFIFO(LSTAT("fifo2").st_mode));
	CHECK_OK(mknod("reg", S_IFREG | 0600, 0));
	CHECK(S_ISREG(LSTAT("reg").st_mode));
	CHECK_ERR(mkfifo("fifo", 0600), -EEXIST);
	/* a fifo in the tree works as a fifo (open both ends) */
	int rd = OPEN("fifo", O_RDONLY | O_NONBLOCK);
	int wr = OPEN("fifo", O_WRONLY | O_NONBLOCK);
	char c;
	CHECK_EQ(write(wr, "p", 1), 1);
	CHECK_EQ(read(rd, &c, 1), 1);
	CHECK_EQ(c, 'p');
	close(rd);
	close(wr);
	COMPARE_HOST();
}

TEST(mknod_dev)
{
	BEGIN();
	NEED_ROOT();
	CHECK_OK(mknod("null", S_IFCHR | 0600, makedev(1, 3)));
	struct stat st = LSTAT("null");
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(major(st.st_rdev), 1);
	CHECK_EQ(minor(st.st_rdev), 3);
	CHECK_OK(mknod("blk", S_IFBLK | 0600, makedev(7, 200)));
	st = LSTAT("blk");
	CHECK(S_ISBLK(st.st_mode));
	CHECK_EQ(st.st_rdev, makedev(7, 200));
	COMPARE_HOST();
}

/* ------------------------------------------------------------------------------------------ */
/* Directories                                                                                */

struct dents {
	char (*name)[64];
	unsigned char *type;
	ino_t *ino;
	size_t n, cap;
};

static void dents_add(struct dents *d, const char *name, unsigned char type, ino_t ino)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 256;
		d->name = realloc(d->name, d->cap * sizeof(*d->name));
		d->type = realloc(d->type, d->cap);
		d->ino = realloc(d->ino, d->cap * sizeof(*d->ino));
	}
	xsnprintf(d->name[d->n], sizeof(d->name[0]), "%s", name);
	d->type[d->n] = type;
	d->ino[d->n] = ino;
	d->n++;
}

static void dents_free(struct dents *d)
{
	free(d->name);
	free(d->type);
	free(d->ino);
	*d = (struct dents){0};
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* List @path with getdents64 and a small buffer (many calls, many offsets). 0 or -errno. */
static int list_getdents(const char *path, size_t bufsz, struct dents *out)
{
	char buf[4096] __attribute__((aligned(8)));
	int fd = open(path, O_RDONLY | O_DIRECTORY);

	if (fd < 0)
		return -errno;
	if (bufsz > sizeof(buf))
		bufsz = sizeof(buf);
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, bufsz);

		if (n < 0) {
			int e = errno;

			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		for (long pos = 0; pos < n;) {
			struct linux_dirent64 *de = (struct linux_dirent64 *)(buf + pos);

			dents_add(out, de->d_name, de->d_type, (ino_t)de->d_ino);
			pos += de->d_reclen;
		}
	}
	close(fd);
	return 0;
}

static int dent_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

TEST(readdir_dot_dotdot)
{
	BEGIN();
	struct dents d = {0};

	CHECK_OK(mkdir("d", 0755));
	WFILE("d/file", "x", 1, 0644);
	CHECK_OK(mkdir("d/sub", 0755));
	CHECK_OK(symlink("file", "d/link"));
	CHECK_OK(mkfifo("d/fifo", 0644));
	int r = list_getdents("d", 4096, &d);
	CHECK_OK(r);
	int dot = 0, dotdot = 0, other = 0;
	for (size_t i = 0; i < d.n; i++) {
		const char *n = d.name[i];
		unsigned char t = d.type[i];
		char p[128];

		if (!strcmp(n, ".")) {
			dot++;
			CHECK(t == DT_DIR || t == DT_UNKNOWN);
			continue;
		}
		if (!strcmp(n, "..")) {
			dotdot++;
			CHECK(t == DT_DIR || t == DT_UNKNOWN);
			continue;
		}
		other++;
		xsnprintf(p, sizeof(p), "d/%s", n);
		struct stat st = LSTAT(p);
		/* d_ino matches st_ino, and d_type (when given) the file type */
		CHECK_EQ(d.ino[i], st.st_ino);
		if (t != DT_UNKNOWN)
			CHECK_EQ(t, IFTODT(st.st_mode));
	}
	dents_free(&d);
	CHECK_EQ(dot, 1);
	CHECK_EQ(dotdot, 1);
	CHECK_EQ(other, 4);
	/* an empty directory lists . and .. only */
	CHECK_OK(mkdir("empty", 0755));
	CHECK_OK(list_getdents("empty", 4096, &d));
	CHECK_EQ(d.n, 2);
	dents_free(&d);
	/* rewinddir lists again */
	DIR *dir = opendir("d");
	CHECK(dir);
	int n1 = 0, n2 = 0;
	while (readdir(dir))
		n1++;
	rewinddir(dir);
	while (readdir(dir))
		n2++;
	closedir(dir);
	CHECK_EQ(n1, 6);
	CHECK_EQ(n2, 6);
}

TEST(dir_nlink)
{
	BEGIN();
	CHECK_OK(mkdir("d", 0755));
	nlink_t n0 = STAT("d").st_nlink;
	if (n0 == 1) {
		fprintf(stderr, "  warning: directories report st_nlink 1 (no subdir count)\n");
		return;
	}
	CHECK_EQ(n0, 2);
	CHECK_OK(mkdir("d/a", 0755));
	CHECK_OK(mkdir("d/b", 0755));
	CHECK_OK(mkdir("d/c", 0755));
	WFILE("d/f", "x", 1, 0644);
	CHECK_EQ(STAT("d").st_nlink, 5);
	CHECK_OK(rmdir("d/c"));
	CHECK_EQ(STAT("d").st_nlink, 4);
	CHECK_OK(mkdir("e", 0755));
	CHECK_OK(rename("d/b", "e/b"));
	CHECK_EQ(STAT("d").st_nlink, 3);
	CHECK_EQ(STAT("e").st_nlink, 3);
}

TEST(getcwd_chdir)
{
	BEGIN();
	char buf[PATH_MAX], want[PATH_MAX];

	CHECK_OK(mkdir("a", 0755));
	CHECK_OK(mkdir("a/b", 0755));
	CHECK_OK(mkdir("a/b/c", 0755));
	CHECK_OK(chdir("a/b/c"));
	CHECK(getcwd(buf, sizeof(buf)));
	xsnprintf(want, sizeof(want), "%s/a/b/c", g_tdir);
	CHECK_STR(buf, want);
	WFILE("here", "h", 1, 0644);
	CHECK_OK(chdir(".."));
	CHECK(getcwd(buf, sizeof(buf)));
	xsnprintf(want, sizeof(want), "%s/a/b", g_tdir);
	CHECK_STR(buf, want);
	CHECK_CONTENT("c/here", "h");
	int fd = OPEN("c", O_RDONLY | O_DIRECTORY);
	CHECK_OK(chdir(g_tdir));
	CHECK_OK(fchdir(fd));
	close(fd);
	CHECK_CONTENT("here", "h");
	/* the cwd survives a rename of one of its ancestors */
	CHECK_OK(rename("../../../a", "../../../z"));
	CHECK(getcwd(buf, sizeof(buf)));
	xsnprintf(want, sizeof(want), "%s/z/b/c", g_tdir);
	CHECK_STR(buf, want);
	CHECK_CONTENT("here", "h");
	CHECK_ERR(chdir("here"), -ENOTDIR);
	CHECK_ERR(chdir("missing"), -ENOENT);
	CHECK_OK(chdir(g_tdir));
}

/* Readdir while another thread changes the directory. */
struct churn {
	volatile bool stop;
	int err; /* first unexpected errno in the churn thread */
	long ops;
};

static void *churn_thread(void *p)
{
	struct churn *c = p;
	char name[64], old[64];
	long n = 0;

	while (!c->stop) {
		xsnprintf(name, sizeof(name), "c%07ld", n);
		int fd = open(name, O_CREAT | O_EXCL | O_WRONLY, 0644);

		if (fd < 0) {
			c->err = errno;
			break;
		}
		close(fd);
		if (n % 3 == 1) {
			xsnprintf(old, sizeof(old), "c%07ld", n);
			xsnprintf(name, sizeof(name), "r%07ld", n);
			if (rename(old, name) < 0) {
				c->err = errno;
				break;
			}
		}
		if (n >= 5) {
			long k = n - 5;

			xsnprintf(name, sizeof(name), "%c%07ld", k % 3 == 1 ? 'r' : 'c', k);
			if (unlink(name) < 0) {
				c->err = errno;
				break;
			}
		}
		n++;
		c->ops++;
	}
	return NULL;
}

TEST(readdir_concurrent)
{
	BEGIN();
	enum { N = 1000 };
	char name[64];
	struct churn c = {0};
	pthread_t th;
	struct dents d = {0};
	static unsigned short seen[N];
	int passes = 0;
	char why[256] = "";
	struct timespec t0, t1;

	for (int i = 0; i < N; i++) {
		xsnprintf(name, sizeof(name), "s%04d", i);
		WFILE(name, "", 0, 0644);
	}
	CHECK_EQ(pthread_create(&th, NULL, churn_thread, &c), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		size_t bufsz = passes % 2 ? 4096 : 600;

		memset(seen, 0, sizeof(seen));
		dents_free(&d);
		int r = list_getdents(".", bufsz, &d);
		if (r < 0) {
			xsnprintf(why, sizeof(why), "getdents: %s", strerror(-r));
			break;
		}
		for (size_t i = 0; i < d.n; i++) {
			int k;

			if (d.name[i][0] == 's' && sscanf(d.name[i], "s%d", &k) == 1 && k >= 0 &&
			    k < N)
				seen[k]++;
		}
		for (int k = 0; k < N && !why[0]; k++)
			if (seen[k] != 1)
				xsnprintf(why, sizeof(why),
					  "pass %d (buffer %zu): s%04d seen %d times", passes,
					  bufsz, k, seen[k]);
		qsort(d.name, d.n, sizeof(d.name[0]), dent_cmp);
		for (size_t i = 1; i < d.n && !why[0]; i++)
			if (!strcmp(d.name[i], d.name[i - 1]))
				xsnprintf(why, sizeof(why), "pass %d: %s listed twice", passes,
					  d.name[i]);
		passes++;
		if (why[0])
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (passes >= 5 &&
		    (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 > 1500)
			break;
	}
	c.stop = true;
	pthread_join(th, NULL);
	dents_free(&d);
	if (why[0])
		FBT_FAIL("%s", why);
	if (c.err)
		FBT_FAIL("churn thread: %s", strerror(c.err));
	CHECK(c.ops > 0);
	/* quiet now: the listing is exact */
	size_t n;
	char **l = list_dir(".", &n);
	CHECK(l);
	size_t stable = 0, churn = 0;
	for (size_t i = 0; i < n; i++)
		*l[i] == 's' ? stable++ : churn++;
	free_list(l, n);
	CHECK_EQ(stable, N);
	CHECK_EQ(churn, c.ops < 5 ? c.ops : 5);
}

/* ------------------------------------------------------------------------------------------ */
/* Sparse files: SEEK_DATA / SEEK_HOLE, fallocate                                             */

TEST(seek_data_hole)
{
	BEGIN();
	const off_t far = 1024 * 1024;
	char blk[4096];
	int fd = OPEN("f", O_RDWR | O_CREAT, 0644);

	fill(blk, sizeof(blk), 0, 9);
	CHECK_EQ(pwrite(fd, blk, sizeof(blk), 0), sizeof(blk));
	CHECK_EQ(pwrite(fd, blk, sizeof(blk), far), sizeof(blk));
	off_t data = SYS(lseek(fd, 0, SEEK_DATA));
	if (data == -EINVAL || data == -EOPNOTSUPP)
		SKIP("SEEK_DATA not supported (%s)", strerror((int)-data));
	if (data < 0)
		FBT_FAIL("SEEK_DATA from 0 of a written file: %s", strerror((int)-data));
	CHECK_EQ(data, 0);
	off_t hole = SYS(lseek(fd, 0, SEEK_HOLE));
	CHECK_OK(hole);
	if (hole == far + 4096)
		SKIP("the file system reports no holes (whole file is data)");
	CHECK(hole >= 4096 && hole < far);
	CHECK_EQ(lseek(fd, hole, SEEK_DATA), far);
	CHECK_EQ(lseek(fd, far, SEEK_HOLE), far + 4096);
	CHECK_EQ(lseek(fd, far + 100, SEEK_DATA), far + 100);
	CHECK_ERR(lseek(fd, far + 4096, SEEK_DATA), -ENXIO);
	CHECK_ERR(lseek(fd, far + 5000, SEEK_HOLE), -ENXIO);
	close(fd);
}

/*
 * fallocate and hole punching by a writer without CAP_FSETID: like a write, they clear
 * set-uid/set-gid (set-gid with group-execute) and remove security.capability, and succeed.
 */
static int nb_fallocate_suid_files(void)
{
	int fd;

	C_OK(fd = open("fa", O_WRONLY));
	C_OK(fallocate(fd, 0, 0, 131072));
	close(fd);
	C_OK(fd = open("ph", O_RDWR));
	C_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4096));
	close(fd);
	return 0;
}

TEST(fallocate_clears_suid_and_caps)
{
	BEGIN();
	NEED_ROOT();
	/* VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE, permitted: CAP_NET_RAW */
	const uint32_t cap[5] = {0x02000001, 1u << 13, 0, 0, 0};
	static char blk[65536];
	char hp[PATH_MAX];
	const char *names[] = {"fa", "ph"};
	int caps = 1;

	memset(blk, 'x', sizeof(blk));
	for (int i = 0; i < 2; i++) {
		WFILE(names[i], blk, sizeof(blk), 0644);
		CHECK_OK(chmod(names[i], 06777));
		int r = SYS(setxattr(names[i], "security.capability", cap, sizeof(cap), 0));
		if (r == -EOPNOTSUPP || r == -ENOTSUP)
			caps = 0;
		else
			CHECK_OK(r);
	}
	CHECK_OK(chmod(".", 0777));
	int probe = OPEN("probe", O_RDWR | O_CREAT, 0644);
	int r = SYS(fallocate(probe, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
	close(probe);
	if (r == -EOPNOTSUPP || r == -ENOSYS)
		SKIP("fallocate/PUNCH_HOLE not supported (%s)", strerror((int)-r));
	CHECK_EQ(STAT("fa").st_mode & 07777, 06777);
	AS_NOBODY(nb_fallocate_suid_files);
	CHECK_EQ(statx_mode("fa"), 0777);
	CHECK_EQ(statx_mode("ph"), 0777);
	CHECK_EQ(STAT("fa").st_size, 131072);
	for (int i = 0; caps && i < 2; i++) {
		CHECK_ERR(getxattr(names[i], "security.capability", NULL, 0), -ENODATA);
		if (host_tdir()) {
			xsnprintf(hp, sizeof(hp), "%s/%s", host_tdir(), names[i]);
			CHECK_ERR(getxattr(hp, "security.capability", NULL, 0), -ENODATA);
		}
	}
	COMPARE_HOST();
}

TEST(seek_data_hole_negative)
{
	BEGIN();
	int fd = OPEN("f", O_RDWR | O_CREAT, 0644);

	CHECK_EQ(write(fd, "abc", 3), 3);
	off_t data = SYS(lseek(fd, 0, SEEK_DATA));
	if (data == -EINVAL || data == -EOPNOTSUPP)
		SKIP("SEEK_DATA not supported (%s)", strerror((int)-data));
	CHECK_ERR(lseek(fd, -1, SEEK_DATA), -ENXIO);
	CHECK_ERR(lseek(fd, -4096, SEEK_HOLE), -ENXIO);
	CHECK_ERR(lseek(fd, -1, SEEK_SET), -EINVAL);
	close(fd);
}

TEST(fallocate_extend)
{
	BEGIN();
	char buf[8192];
	int fd = OPEN("f", O_RDWR | O_CREAT, 0644);

	CHECK_EQ(write(fd, "abc", 3), 3);
	int r = SYS(fallocate(fd, 0, 0, 8000));
	if (r == -EOPNOTSUPP || r == -ENOSYS)
		SKIP("fallocate not supported (%s)", strerror(errno));
	CHECK_OK(r);
	CHECK_EQ(FSTAT(fd).st_size, 8000);
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 8000);
	CHECK(!memcmp(buf, "abc", 3));
	CHECK(all_zero(buf + 3, 7997));
	/* inside the file: no size change */
	CHECK_OK(fallocate(fd, 0, 100, 100));
	CHECK_EQ(FSTAT(fd).st_size, 8000);
	CHECK_ERR(fallocate(fd, 0, 0, 0), -EINVAL);
	close(fd);
	CHECK_EQ(STAT("f").st_size, 8000);
	COMPARE_HOST();
}

TEST(fallocate_keep_size)
{
	BEGIN();
	int fd = OPEN("f", O_RDWR | O_CREAT, 0644);

	CHECK_EQ(write(fd, "abc", 3), 3);
	int r = SYS(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 1 << 20));
	if (r == -EOPNOTSUPP || r == -ENOSYS)
		SKIP("fallocate KEEP_SIZE not supported (%s)", strerror(errno));
	CHECK_OK(r);
	CHECK_EQ(FSTAT(fd).st_size, 3);
	close(fd);
	CHECK_EQ(STAT("f").st_size, 3);
	CHECK_CONTENT("f", "abc");
	COMPARE_HOST();
}

TEST(fallocate_punch_hole)
{
	BEGIN();
	enum { SZ = 64 * 1024 };
	static char buf[SZ], back[SZ];
	int fd = OPEN("f", O_RDWR | O_CREAT, 0644);

	fill(buf, SZ, 0, 13);
	CHECK_EQ(pwrite(fd, buf, SZ, 0), SZ);
	int r = SYS(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 16384));
	if (r == -EOPNOTSUPP || r == -ENOSYS)
		SKIP("PUNCH_HOLE not supported (%s)", strerror(errno));
	CHECK_OK(r);
	/* an unaligned punch zeroes exactly its bytes */
	CHECK_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 30001, 333));
	CHECK_EQ(FSTAT(fd).st_size, SZ);
	CHECK_EQ(pread(fd, back, SZ, 0), SZ);
	memset(buf + 4096, 0, 16384);
	memset(buf + 30001, 0, 333);
	CHECK(!memcmp(buf, back, SZ));
	/* PUNCH_HOLE without KEEP_SIZE is invalid */
	CHECK_ERR(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 10), -EOPNOTSUPP);
	close(fd);
	CHECK_EQ(rfile("f", back, SZ), SZ);
	CHECK(!memcmp(buf, back, SZ));
	COMPARE_HOST();
}

/* ------------------------------------------------------------------------------------------ */
/* mmap                                                                                       */

TEST(mmap_shared_write)
{
	BEGIN();
	enum { SZ = 3 * 4096 + 100 };
	static char buf[SZ];
	int fd = OPEN("f", O_RDWR | O_CREAT, 0644);

	CHECK_OK(ftruncate(fd, SZ));
	char *m = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED && errno == ENODEV)
		SKIP("shared mmap refused (direct I/O without mmap?)");
	CHECK(m != MAP_FAILED);
	fill(m, SZ, 0, 17);
	/* read(2) sees the stores at once */
	CHECK_EQ(pread(fd, buf, SZ, 0), SZ);
	CHECK_EQ(verify(buf, SZ, 0, 17), -1);
	/* and pwrite(2) shows in the mapping */
	CHECK_EQ(pwrite(fd, "WXYZ", 4, 5000), 4);
	CHECK(!memcmp(m + 5000, "WXYZ", 4));
	CHECK_OK(msync(m, SZ, MS_SYNC));
	m[1] = 'Q';
	CHECK_OK(munmap(m, SZ));
	close(fd);
	/* after unmap and reopen: the pattern, the pwrite and the last store */
	static char want[SZ];
	fill(want, SZ, 0, 17);
	memcpy(want + 5000, "WXYZ", 4);
	want[1] = 'Q';
	CHECK_EQ(rfile("f", buf, SZ), SZ);
	CHECK(!memcmp(buf, want, SZ));
	COMPARE_HOST();
}

TEST(mmap_read)
{
	BEGIN();
	enum { SZ = 5 * 4096 + 7 };
	static char buf[SZ];

	fill(buf, SZ, 0, 19);
	WFILE("f", buf, SZ, 0644);
	int fd = OPEN("f", O_RDONLY);
	char *m = mmap(NULL, SZ, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	CHECK_EQ(verify(m, SZ, 0, 19), -1);
	CHECK_OK(munmap(m, SZ));
	m = mmap(NULL, SZ, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED);
	CHECK_EQ(verify(m, SZ, 0, 19), -1);
	/* the tail of the last page past EOF reads as zeros */
	CHECK(all_zero(m + SZ, 4096 - SZ % 4096));
	CHECK_OK(munmap(m, SZ));
	close(fd);
}

/* ------------------------------------------------------------------------------------------ */
/* Locks                                                                                      */

TEST(flock_exclusive)
{
	BEGIN();
	WFILE("f", "x", 1, 0644);
	int a = OPEN("f", O_RDONLY);
	int b = OPEN("f", O_RDONLY);
	CHECK_OK(flock(a, LOCK_EX));
	CHECK_ERR(flock(b, LOCK_EX | LOCK_NB), -EWOULDBLOCK);
	CHECK_ERR(flock(b, LOCK_SH | LOCK_NB), -EWOULDBLOCK);
	/* a dup shares the open file description and so the lock */
	int c = dup(a);
	CHECK_OK(flock(c, LOCK_EX | LOCK_NB));
	CHECK_OK(flock(a, LOCK_UN));
	CHECK_OK(flock(b, LOCK_SH | LOCK_NB));
	CHECK_OK(flock(a, LOCK_SH | LOCK_NB));
	CHECK_ERR(flock(a, LOCK_EX | LOCK_NB), -EWOULDBLOCK);
	/* closing the description releases */
	close(b);
	CHECK_OK(flock(a, LOCK_EX | LOCK_NB));
	close(a);
	close(c);
}

struct lockreq {
	short type;
	off_t start, len;
	int cmd;
};

/* Child: take a lock on "f" with F_SETLK; exits 0 or the errno. */
static int child_setlk(void *p)
{
	struct lockreq *q = p;
	struct flock fl = {
		.l_type = q->type, .l_whence = SEEK_SET, .l_start = q->start, .l_len = q->len};
	int fd = open("f", O_RDWR);

	if (fd < 0)
		return 200;
	return fcntl(fd, q->cmd ? q->cmd : F_SETLK, &fl) < 0 ? errno : 0;
}

static int child_lock(short type, off_t start, off_t len)
{
	struct lockreq q = {type, start, len, F_SETLK};

	return reap(spawn(child_setlk, &q));
}

static int g_hold_pipe[2], g_release_pipe[2];

/* Child: hold a write lock on [200, 300) of "f" until the parent closes the release pipe. */
static int child_hold(void *p)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 200, .l_len = 100};
	int fd = open("f", O_RDWR);
	char c;

	(void)p;
	close(g_release_pipe[1]);
	if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0)
		return 1;
	if (write(g_hold_pipe[1], "k", 1) != 1)
		return 2;
	if (read(g_release_pipe[0], &c, 1) < 0)
		return 3;
	return 0;
}

TEST(fcntl_setlk_processes)
{
	BEGIN();
	WFILE("f", "0123456789", 10, 0644);
	int fd = OPEN("f", O_RDWR);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 100};
	CHECK_OK(fcntl(fd, F_SETLK, &fl));
	/* another process conflicts on any overlap, not next to it */
	int r = child_lock(F_WRLCK, 150, 10);
	CHECK(r == EAGAIN || r == EACCES);
	r = child_lock(F_RDLCK, 199, 1);
	CHECK(r == EAGAIN || r == EACCES);
	CHECK_EQ(child_lock(F_WRLCK, 200, 100), 0);
	CHECK_EQ(child_lock(F_WRLCK, 0, 100), 0);
	/* shared locks share */
	fl.l_type = F_RDLCK;
	CHECK_OK(fcntl(fd, F_SETLK, &fl));
	CHECK_EQ(child_lock(F_RDLCK, 100, 100), 0);
	r = child_lock(F_WRLCK, 120, 1);
	CHECK(r == EAGAIN || r == EACCES);
	/* a lock to EOF and beyond (len 0) */
	fl.l_type = F_WRLCK;
	fl.l_start = 1000;
	fl.l_len = 0;
	CHECK_OK(fcntl(fd, F_SETLK, &fl));
	r = child_lock(F_WRLCK, 1 << 30, 1);
	CHECK(r == EAGAIN || r == EACCES);
	/* unlock */
	fl.l_type = F_UNLCK;
	fl.l_start = 0;
	fl.l_len = 0;
	CHECK_OK(fcntl(fd, F_SETLK, &fl));
	CHECK_EQ(child_lock(F_WRLCK, 0, 0), 0);
	close(fd);
}

TEST(fcntl_getlk_holder)
{
	BEGIN();
	char c;

	WFILE("f", "0123456789", 10, 0644);
	CHECK_OK(pipe(g_hold_pipe));
	CHECK_OK(pipe(g_release_pipe));
	pid_t pid = spawn(child_hold, NULL);
	close(g_release_pipe[0]);
	CHECK_EQ(read(g_hold_pipe[0], &c, 1), 1);
	int fd = OPEN("f", O_RDWR);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1000};
	CHECK_OK(fcntl(fd, F_GETLK, &fl));
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_pid, pid);
	CHECK_EQ(fl.l_start, 200);
	CHECK_EQ(fl.l_len, 100);
	/* no conflict outside the held range */
	fl = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 200};
	CHECK_OK(fcntl(fd, F_GETLK, &fl));
	CHECK_EQ(fl.l_type, F_UNLCK);
	fl = (struct flock){.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 250, .l_len = 1};
	CHECK_ERR2(fcntl(fd, F_SETLK, &fl), -EAGAIN, -EACCES);
	/* the holder exits: its locks go; a waiting F_SETLKW gets the lock */
	close(g_release_pipe[1]);
	fl.l_type = F_WRLCK;
	CHECK_OK(fcntl(fd, F_SETLKW, &fl));
	CHECK_EQ(reap(pid), 0);
	close(g_hold_pipe[0]);
	close(g_hold_pipe[1]);
	close(fd);
}

TEST(fcntl_close_releases)
{
	BEGIN();
	WFILE("f", "x", 1, 0644);
	int a = OPEN("f", O_RDWR);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	CHECK_OK(fcntl(a, F_SETLK, &fl));
	int r = child_lock(F_WRLCK, 0, 10);
	CHECK(r == EAGAIN || r == EACCES);
	/* closing any fd of the file drops the process's POSIX locks on it */
	int b = OPEN("f", O_RDONLY);
	close(b);
	CHECK_EQ(child_lock(F_WRLCK, 0, 10), 0);
	close(a);
}

TEST(ofd_locks)
{
	BEGIN();
	WFILE("f", "x", 1, 0644);
	int a = OPEN("f", O_RDWR);
	int b = OPEN("f", O_RDWR);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	int r = SYS(fcntl(a, F_OFD_SETLK, &fl));
	if (r == -EINVAL)
		SKIP("OFD locks not supported here");
	CHECK_OK(r);
	/* two open file descriptions of one process conflict */
	fl = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1};
	CHECK_ERR(fcntl(b, F_OFD_SETLK, &fl), -EAGAIN);
	fl = (struct flock){.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100};
	CHECK_OK(fcntl(b, F_OFD_GETLK, &fl));
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_pid, -1);
	CHECK_EQ(fl.l_start, 0);
	CHECK_EQ(fl.l_len, 10);
	/* a process-owned lock elsewhere conflicts too */
	r = child_lock(F_RDLCK, 9, 1);
	CHECK(r == EAGAIN || r == EACCES);
	/* closing another fd does not drop an OFD lock (unlike POSIX locks) */
	int c = OPEN("f", O_RDONLY);
	close(c);
	r = child_lock(F_RDLCK, 9, 1);
	CHECK(r == EAGAIN || r == EACCES);
	fl = (struct flock){.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	CHECK_OK(fcntl(a, F_OFD_SETLK, &fl));
	fl = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1};
	CHECK_OK(fcntl(b, F_OFD_SETLK, &fl));
	close(a);
	close(b);
}

/* ------------------------------------------------------------------------------------------ */
/* Permissions as an unprivileged user (uid/gid 65534, no groups)                             */

static int nb_read_0600(void)
{
	char c;
	int fd;

	C_ERR(open("secret", O_RDONLY), -EACCES, -EACCES);
	C_ERR(open("secret", O_WRONLY), -EACCES, -EACCES);
	C_ERR(access("secret", R_OK), -EACCES, -EACCES);
	C_OK(access("secret", F_OK));
	/* control: a 0644 file is readable */
	C_OK(fd = open("public", O_RDONLY));
	C_CHECK(read(fd, &c, 1) == 1 && c == 'p');
	close(fd);
	C_OK(access("public", R_OK));
	C_ERR(access("public", W_OK), -EACCES, -EACCES);
	return 0;
}

TEST(perm_read_0600)
{
	BEGIN();
	NEED_ROOT();
	WFILE("secret", "s", 1, 0600);
	WFILE("public", "p", 1, 0644);
	AS_NOBODY(nb_read_0600);
}

static int nb_create_0755(void)
{
	C_ERR(open("d/new", O_CREAT | O_WRONLY, 0644), -EACCES, -EACCES);
	C_ERR(mkdir("d/newdir", 0755), -EACCES, -EACCES);
	C_ERR(symlink("x", "d/newlink"), -EACCES, -EACCES);
	C_ERR(mknod("d/fifo", S_IFIFO | 0644, 0), -EACCES, -EACCES);
	C_ERR(unlink("d/rootfile"), -EACCES, -EACCES);
	C_ERR(rename("d/rootfile", "d/renamed"), -EACCES, -EACCES);
	C_ERR(link("d/rootfile", "d/hard"), -EACCES, -EPERM);
	C_ERR(access("d", W_OK), -EACCES, -EACCES);
	C_OK(access("d/rootfile", F_OK));
	return 0;
}

TEST(perm_create_0755)
{
	BEGIN();
	NEED_ROOT();
	CHECK_OK(mkdir("d", 0755));
	WFILE("d/rootfile", "r", 1, 0644);
	AS_NOBODY(nb_create_0755);
	CHECK_CONTENT("d/rootfile", "r");
	size_t n;
	char **l = list_dir("d", &n);
	CHECK(l);
	free_list(l, n);
	CHECK_EQ(n, 1);
}

static int nb_sticky(void)
{
	int fd;

	C_ERR(unlink("s/rootfile"), -EPERM, -EACCES);
	C_ERR(unlink("s/otherfile"), -EPERM, -EACCES);
	C_ERR(rename("s/otherfile", "s/stolen"), -EPERM, -EACCES);
	/* but one's own file in the sticky directory can go */
	C_OK(fd = open("s/mine", O_CREAT | O_WRONLY, 0644));
	close(fd);
	C_OK(rename("s/mine", "s/mine2"));
	C_OK(unlink("s/mine2"));
	return 0;
}

TEST(perm_sticky_dir)
{
	BEGIN();
	NEED_ROOT();
	CHECK_OK(mkdir("s", 0755));
	CHECK_OK(chmod("s", 01777));
	WFILE("s/rootfile", "r", 1, 0666);
	WFILE("s/otherfile", "o", 1, 0666);
	CHECK_OK(chown("s/otherfile", OTHER_UID, OTHER_UID));
	AS_NOBODY(nb_sticky);
	CHECK_CONTENT("s/rootfile", "r");
	CHECK_CONTENT("s/otherfile", "o");
	CHECK_ERR(access("s/mine", F_OK), -ENOENT);
	CHECK_ERR(access("s/mine2", F_OK), -ENOENT);
	COMPARE_HOST();
}

static int nb_create_0777(void)
{
	struct stat st;
	int fd;

	C_OK(fd = open("w/mine", O_CREAT | O_EXCL | O_WRONLY, 0640));
	C_CHECK(write(fd, "mine", 4) == 4);
	close(fd);
	C_OK(stat("w/mine", &st));
	C_CHECK(st.st_uid == NOBODY_UID);
	C_CHECK(st.st_gid == NOBODY_GID);
	C_CHECK((st.st_mode & 07777) == 0640);
	C_OK(mkdir("w/mydir", 0700));
	C_OK(stat("w/mydir", &st));
	C_CHECK(st.st_uid == NOBODY_UID);
	C_OK(fd = open("w/mydir/f", O_CREAT | O_WRONLY, 0600));
	close(fd);
	C_OK(symlink("mine", "w/mylink"));
	C_OK(lstat("w/mylink", &st));
	C_CHECK(st.st_uid == NOBODY_UID);
	C_OK(rename("w/mine", "w/mine2"));
	/* and a non-sticky 0777 dir lets anyone remove anything in it */
	C_OK(unlink("w/rootfile"));
	C_OK(chmod("w/mine2", 0600));
	return 0;
}

TEST(perm_create_0777)
{
	BEGIN();
	NEED_ROOT();
	CHECK_OK(mkdir("w", 0755));
	CHECK_OK(chmod("w", 0777));
	WFILE("w/rootfile", "r", 1, 0644);
	AS_NOBODY(nb_create_0777);
	struct stat st = STAT("w/mine2");
	CHECK_EQ(st.st_uid, NOBODY_UID);
	CHECK_EQ(st.st_mode, S_IFREG | 0600);
	CHECK_CONTENT("w/mine2", "mine");
	CHECK_ERR(access("w/rootfile", F_OK), -ENOENT);
	COMPARE_HOST();
}

static int nb_chmod_other(void)
{
	int fd;

	C_ERR(chmod("rootfile", 0666), -EPERM, -EPERM);
	C_ERR(chmod("w", 0700), -EPERM, -EPERM);
	C_OK(fd = open("w/mine", O_CREAT | O_WRONLY, 0644));
	C_OK(fchmod(fd, 0600));
	close(fd);
	C_OK(chmod("w/mine", 0604));
	return 0;
}

TEST(perm_chmod_other)
{
	BEGIN();
	NEED_ROOT();
	WFILE("rootfile", "r", 1, 0644);
	CHECK_OK(mkdir("w", 0755));
	CHECK_OK(chmod("w", 0777));
	AS_NOBODY(nb_chmod_other);
	CHECK_EQ(STAT("rootfile").st_mode, S_IFREG | 0644);
	CHECK_EQ(STAT("w").st_mode, S_IFDIR | 0777);
	CHECK_EQ(STAT("w/mine").st_mode, S_IFREG | 0604);
	COMPARE_HOST();
}

static int nb_chown_other(void)
{
	int fd;

	C_ERR(chown("rootfile", NOBODY_UID, (gid_t)-1), -EPERM, -EPERM);
	C_ERR(chown("rootfile", (uid_t)-1, NOBODY_GID), -EPERM, -EPERM);
	C_OK(fd = open("w/mine", O_CREAT | O_WRONLY, 0644));
	close(fd);
	/* giving a file away, or to a group one is not in, is not allowed */
	C_ERR(chown("w/mine", 0, (gid_t)-1), -EPERM, -EPERM);
	C_ERR(chown("w/mine", OTHER_UID, (gid_t)-1), -EPERM, -EPERM);
	C_ERR(chown("w/mine", (uid_t)-1, 0), -EPERM, -EPERM);
	/* a no-op change of one's own file is fine */
	C_OK(chown("w/mine", NOBODY_UID, NOBODY_GID));
	return 0;
}

TEST(perm_chown_other)
{
	BEGIN();
	NEED_ROOT();
	WFILE("rootfile", "r", 1, 0666);
	CHECK_OK(mkdir("w", 0755));
	CHECK_OK(chmod("w", 0777));
	AS_NOBODY(nb_chown_other);
	CHECK_EQ(STAT("rootfile").st_uid, 0);
	CHECK_EQ(STAT("rootfile").st_gid, 0);
	CHECK_EQ(STAT("w/mine").st_uid, NOBODY_UID);
	CHECK_EQ(STAT("w/mine").st_gid, NOBODY_GID);
	COMPARE_HOST();
}

static int nb_write_0444(void)
{
	char c;
	int fd;

	C_ERR(open("ro", O_WRONLY), -EACCES, -EACCES);
	C_ERR(open("ro", O_RDWR), -EACCES, -EACCES);
	C_ERR(open("ro", O_WRONLY | O_TRUNC), -EACCES, -EACCES);
	C_ERR(open("ro", O_WRONLY | O_APPEND), -EACCES, -EACCES);
	C_ERR(truncate("ro", 0), -EACCES, -EACCES);
	C_ERR(access("ro", W_OK), -EACCES, -EACCES);
	C_OK(fd = open("ro", O_RDONLY));
	C_CHECK(read(fd, &c, 1) == 1 && c == 'r');
	close(fd);
	/* a root-owned 0644 file cannot be written or truncated either */
	C_ERR(open("rootfile", O_WRONLY), -EACCES, -EACCES);
	C_ERR(truncate("rootfile", 0), -EACCES, -EACCES);
	return 0;
}

TEST(perm_write_0444)
{
	BEGIN();
	NEED_ROOT();
	WFILE("ro", "ro", 2, 0444);
	CHECK_OK(chown("ro", NOBODY_UID, NOBODY_GID));
	WFILE("rootfile", "root", 4, 0644);
	AS_NOBODY(nb_write_0444);
	CHECK_CONTENT("ro", "ro");
	CHECK_CONTENT("rootfile", "root");
	/* root may write it anyway */
	int fd = OPEN("ro", O_WRONLY | O_APPEND);
	CHECK_EQ(write(fd, "!", 1), 1);
	close(fd);
	CHECK_CONTENT("ro", "ro!");
	COMPARE_HOST();
}

static int nb_utimes_other(void)
{
	struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};

	/* explicit times need ownership; "now" needs only write access */
	C_ERR(utimensat(AT_FDCWD, "rw", ts, 0), -EPERM, -EPERM);
	C_OK(utimensat(AT_FDCWD, "rw", NULL, 0));
	C_ERR(utimensat(AT_FDCWD, "ro", NULL, 0), -EACCES, -EACCES);
	return 0;
}

TEST(perm_utimes_other)
{
	BEGIN();
	NEED_ROOT();
	struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};

	WFILE("rw", "x", 1, 0666);
	CHECK_OK(chmod("rw", 0666));
	WFILE("ro", "x", 1, 0644);
	CHECK_OK(utimensat(AT_FDCWD, "rw", ts, 0));
	CHECK_OK(utimensat(AT_FDCWD, "ro", ts, 0));
	AS_NOBODY(nb_utimes_other);
	CHECK(STAT("rw").st_mtim.tv_sec > 1000000000);
	CHECK_EQ(STAT("ro").st_mtim.tv_sec, 1000000000);
}

static int nb_search(void)
{
	struct stat st;

	C_ERR(stat("d/f", &st), -EACCES, -EACCES);
	C_ERR(open("d", O_RDONLY | O_DIRECTORY), -EACCES, -EACCES);
	C_ERR(chdir("d"), -EACCES, -EACCES);
	return 0;
}

TEST(perm_dir_search)
{
	BEGIN();
	NEED_ROOT();
	if (!g_default_perms)
		SKIP("without default_permissions the kernel may answer cached lookups itself");
	CHECK_OK(mkdir("d", 0700));
	WFILE("d/f", "x", 1, 0644);
	AS_NOBODY(nb_search);
}

/* ------------------------------------------------------------------------------------------ */
/* The host directory behind a passthrough mount                                              */

TEST(compare_host_tree)
{
	BEGIN();
	if (!host_tdir())
		SKIP("FB_TEST_COMPARE_DIR not set");
	char big[70000], why[1024];

	CHECK_OK(mkdir("a", 0750));
	CHECK_OK(mkdir("a/b", 0700));
	WFILE("a/empty", "", 0, 0600);
	WFILE("a/b/small", "small file\n", 11, 0640);
	fill(big, sizeof(big), 0, 23);
	WFILE("a/big", big, sizeof(big), 0644);
	CHECK_OK(symlink("b/small", "a/rel"));
	CHECK_OK(symlink("/definitely/not/there", "a/dangling"));
	CHECK_OK(link("a/big", "a/b/hard"));
	CHECK_OK(mkfifo("a/fifo", 0600));
	int r = SYS(setxattr("a/b/small", "user.tag", "blue", 4, 0));
	if (r < 0 && r != -ENOTSUP)
		FBT_FAIL("setxattr: %s", strerror(errno));
	CHECK_OK(chmod("a/empty", 0604));
	if (is_root())
		CHECK_OK(chown("a/b/small", NOBODY_UID, NOBODY_GID));
	if (compare_tree(g_tdir, host_tdir(), why, sizeof(why)))
		FBT_FAIL("%s", why);
	/* spot checks straight on the host */
	char hp[PATH_MAX], buf[64];
	struct stat st;
	xsnprintf(hp, sizeof(hp), "%s/a/b/small", host_tdir());
	CHECK_OK(stat(hp, &st));
	CHECK_EQ(st.st_mode, S_IFREG | 0640);
	CHECK_EQ(st.st_size, 11);
	CHECK_EQ(rfile(hp, buf, sizeof(buf)), 11);
	CHECK(!memcmp(buf, "small file\n", 11));
	xsnprintf(hp, sizeof(hp), "%s/a/rel", host_tdir());
	CHECK_EQ(readlink(hp, buf, sizeof(buf)), 7);
	CHECK(!memcmp(buf, "b/small", 7));
	/* changes are seen too: rename, unlink, truncate */
	CHECK_OK(rename("a/big", "a/b/big2"));
	CHECK_OK(unlink("a/empty"));
	CHECK_OK(truncate("a/b/big2", 1000));
	if (compare_tree(g_tdir, host_tdir(), why, sizeof(why)))
		FBT_FAIL("after changes: %s", why);
}

TEST(compare_host_create)
{
	BEGIN();
	if (!host_tdir())
		SKIP("FB_TEST_COMPARE_DIR not set");
	char hp[PATH_MAX], name[64];
	struct stat st;

	/* a fresh name, never looked up through the mount, so nothing negative is cached */
	xsnprintf(name, sizeof(name), "host-%ld-%d", (long)time(NULL), getpid());
	xsnprintf(hp, sizeof(hp), "%s/%s", host_tdir(), name);
	WFILE(hp, "from the host", 13, 0640);
	CHECK_OK(stat(name, &st));
	CHECK_EQ(st.st_size, 13);
	CHECK_EQ(st.st_mode, S_IFREG | 0640);
	CHECK_CONTENT(name, "from the host");
	xsnprintf(hp, sizeof(hp), "%s/%s.d", host_tdir(), name);
	CHECK_OK(mkdir(hp, 0711));
	char sub[128];
	xsnprintf(sub, sizeof(sub), "%s.d", name);
	CHECK_EQ(STAT(sub).st_mode, S_IFDIR | 0711);
	xsnprintf(hp, sizeof(hp), "%s/%s.l", host_tdir(), name);
	CHECK_OK(symlink(name, hp));
	xsnprintf(sub, sizeof(sub), "%s.l", name);
	CHECK_CONTENT(sub, "from the host");
	/* a listing shows them (allow the mount's attribute timeout to run out) */
	for (int i = 0;; i++) {
		size_t n;
		char **l = list_dir(".", &n);

		CHECK(l);
		free_list(l, n);
		if (n == 3)
			break;
		if (i == 30)
			FBT_FAIL("the listing shows %zu entries, the host has 3", n);
		usleep(100000);
	}
	/* and removing through the mount removes on the host */
	CHECK_OK(unlink(name));
	xsnprintf(hp, sizeof(hp), "%s/%s", host_tdir(), name);
	CHECK_ERR(access(hp, F_OK), -ENOENT);
}

/* ------------------------------------------------------------------------------------------ */

static int setup(void)
{
	const char *d = getenv("FB_TEST_DIR"), *c = getenv("FB_TEST_COMPARE_DIR");
	const char *dp = getenv("FB_TEST_DEFAULT_PERMISSIONS"), *t = getenv("FB_TEST_TIMEOUT");

	if (!d || !*d) {
		fprintf(stderr, "usage: FB_TEST_DIR=<directory to test> [FB_TEST_SKIP=a,b] "
				"[FB_TEST_COMPARE_DIR=<host dir>] [FB_TEST_DEFAULT_PERMISSIONS=1] "
				"[FB_TEST_TIMEOUT=s] e2e_syscalls\n");
		exit(2);
	}
	if (!realpath(d, g_dir)) {
		fprintf(stderr, "FB_TEST_DIR %s: %s\n", d, strerror(errno));
		exit(2);
	}
	if (c && *c && !realpath(c, g_cmp)) {
		fprintf(stderr, "FB_TEST_COMPARE_DIR %s: %s\n", c, strerror(errno));
		exit(2);
	}
	g_skip = getenv("FB_TEST_SKIP");
	g_default_perms = dp && !strcmp(dp, "1");
	if (t && atoi(t) > 0)
		g_timeout = (unsigned)atoi(t);
	for (int fd = 0; fd < 1024; fd++)
		g_base_fds[fd] = fcntl(fd, F_GETFD) >= 0;
	umask(022);
	signal(SIGALRM, on_alarm);
	signal(SIGPIPE, SIG_IGN);
	xsnprintf(g_rootname, sizeof(g_rootname), "e2e-syscalls-%d", getpid());
	xsnprintf(g_root, sizeof(g_root), "%s/%s", g_dir, g_rootname);
	if (mkdir(g_root, 0755) < 0 || chmod(g_root, 0755) < 0) {
		fprintf(stderr, "cannot create %s: %s\n", g_root, strerror(errno));
		exit(1);
	}
	printf("# e2e_syscalls on %s%s%s%s\n", g_dir, g_cmp[0] ? ", host dir " : "", g_cmp,
	       g_default_perms ? ", default_permissions" : "");
	return 0;
}

static int teardown(void)
{
	cleanup_previous();
	if (chdir("/") < 0 || rm_rf(g_root) < 0)
		fprintf(stderr, "warning: cannot remove %s: %s\n", g_root, strerror(errno));
	return 0;
}

TEST_SETUP(setup)
TEST_TEARDOWN(teardown)
TEST_MAIN()
