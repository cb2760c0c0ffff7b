/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * e2e_passthrough: fb-passthrough through a real mount.
 *
 *  - the POSIX suite (e2e_syscalls) with FUSE passthrough on and off, with cache=never and
 *    with the writeback cache, each compared with the host directory;
 *  - FUSE passthrough really bypasses the daemon (its read/write counters in /proc/PID/io);
 *  - escapes: names, "..", absolute and relative symlinks pointing out of the source, with a
 *    canary file outside watched by inotify: nothing may open, read or change it;
 *  - scale: FB_PT_SCALE_FILES (default 200000) files created, statted, listed and removed
 *    (e2e_stress many-files mode) while the daemon's descriptor count stays far below the
 *    20,000-file limit of our machines;
 *  - mount flag options (relatime, nodiratime, sync, dirsync, ...) reach the mount;
 *  - -o noatime: reads and listings, with and without FUSE passthrough, as root and as another
 *    user, leave the host's access times alone;
 *  - command-line errors (missing source, file as source or mount point, mount point in use).
 *
 * Environment (set by meson): FB_PASSTHROUGH, FB_E2E_SYSCALLS, FB_E2E_STRESS.
 */
#include <dirent.h>
#include <pthread.h>
#include <grp.h>
#include <sys/inotify.h>
#include <sys/xattr.h>

#include "harness.h"
#include "e2e_util.h"

static const char *g_daemon;
static char g_base[256];  /* holds src/, outside/ */
static char g_base2[256]; /* holds mnt/ (so mnt/.. is not g_base) */
static char g_src[512], g_mnt[512], g_outside[512], g_canary[600];

static int rm_rf(const char *path)
{
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	return system(cmd);
}

static void empty_src(void)
{
	rm_rf(g_src);
	mkdir(g_src, 0755);
	chmod(g_src, 0755);
}

/* Mount fb-passthrough SOURCE on g_mnt with "-o allow_other,@opts"; returns its pid. */
static pid_t mount_pt(const char *opts)
{
	char o[512];
	snprintf(o, sizeof(o), "allow_other%s%s", opts && *opts ? "," : "", opts ? opts : "");
	char *argv[] = {(char *)g_daemon, "-f", "-o", o, g_src, g_mnt, NULL};
	return e2e_start_daemon(argv, g_mnt);
}

static void unmount_pt(pid_t pid)
{
	if (pid <= 0)
		return;
	umount2(g_mnt, MNT_DETACH);
	e2e_stop_daemon(pid, SIGTERM);
}

/* Run the POSIX suite against a mount with @opts; returns its exit status. */
static int run_syscalls(const char *opts)
{
	const char *prog = getenv("FB_E2E_SYSCALLS");
	char e1[600], e2[600], e3[64] = "FB_TEST_DEFAULT_PERMISSIONS=0";
	int r;

	if (!prog || access(prog, X_OK) != 0)
		return -ENOENT;
	empty_src();
	pid_t pid = mount_pt(opts);
	if (pid < 0)
		return (int)pid;
	snprintf(e1, sizeof(e1), "FB_TEST_DIR=%s", g_mnt);
	snprintf(e2, sizeof(e2), "FB_TEST_COMPARE_DIR=%s", g_src);
	if (!opts || !strstr(opts, "no_default_permissions")) /* fb-passthrough's default */
		snprintf(e3, sizeof(e3), "FB_TEST_DEFAULT_PERMISSIONS=1");
	char *env[] = {e1, e2, e3, NULL};
	char *argv[] = {(char *)prog, NULL};
	pid_t t = e2e_spawn(argv, env, -1);
	r = t < 0 ? (int)t : e2e_wait(t, 900000);
	unmount_pt(pid);
	return r;
}

static int setup(void)
{
	if (e2e_need_root_and_fuse())
		return 1;
	g_daemon = getenv("FB_PASSTHROUGH");
	if (!g_daemon || access(g_daemon, X_OK) != 0) {
		fprintf(stderr, "  skip: FB_PASSTHROUGH does not name the fb-passthrough binary\n");
		return 1;
	}
	snprintf(g_base, sizeof(g_base), "/tmp/fb-pt-e2e-XXXXXX");
	snprintf(g_base2, sizeof(g_base2), "/tmp/fb-pt-e2e-mnt-XXXXXX");
	if (!mkdtemp(g_base) || !mkdtemp(g_base2))
		return 1;
	chmod(g_base, 0755);
	chmod(g_base2, 0755);
	snprintf(g_src, sizeof(g_src), "%s/src", g_base);
	snprintf(g_outside, sizeof(g_outside), "%s/outside", g_base);
	snprintf(g_canary, sizeof(g_canary), "%s/canary", g_outside);
	snprintf(g_mnt, sizeof(g_mnt), "%s/mnt", g_base2);
	mkdir(g_src, 0755);
	mkdir(g_outside, 0755);
	mkdir(g_mnt, 0755);
	int fd = open(g_canary, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "canary", 6) != 6)
		return 1;
	close(fd);
	return 0;
}

static int teardown(void)
{
	umount2(g_mnt, MNT_DETACH);
	rm_rf(g_base);
	rm_rf(g_base2);
	return 0;
}
TEST_SETUP(setup)
TEST_TEARDOWN(teardown)

TEST(syscalls_passthrough_on)
{
	CHECK_EQ(run_syscalls(""), 0);
}

TEST(syscalls_passthrough_off)
{
	CHECK_EQ(run_syscalls("no_passthrough"), 0);
}

TEST(syscalls_cache_never)
{
	CHECK_EQ(run_syscalls("cache=never"), 0);
}

TEST(syscalls_writeback_cache_always)
{
	CHECK_EQ(run_syscalls("writeback,cache=always"), 0);
}

TEST(syscalls_default_permissions_no_open)
{
	CHECK_EQ(run_syscalls("default_permissions,no_open,no_opendir,no_readdirplus"), 0);
}

/* rchar + wchar of @pid from /proc/PID/io. */
static long long io_bytes(pid_t pid)
{
	char path[64], line[128];
	long long v, sum = 0;
	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "rchar: %lld", &v) == 1 || sscanf(line, "wchar: %lld", &v) == 1)
			sum += v;
	fclose(f);
	return sum;
}

/* Write and read back 32 MiB through the mount; returns the daemon's I/O byte count. */
static long long copy_through(pid_t pid)
{
	const size_t chunk = 1 << 20, total = 32 << 20;
	char path[600], *buf = malloc(chunk);
	long long before = io_bytes(pid);
	if (!buf)
		return -1;
	memset(buf, 'p', chunk);
	snprintf(path, sizeof(path), "%s/big", g_mnt);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		free(buf);
		return -1;
	}
	for (size_t off = 0; off < total; off += chunk)
		if (pwrite(fd, buf, chunk, (off_t)off) != (ssize_t)chunk)
			goto fail;
	for (size_t off = 0; off < total; off += chunk)
		if (pread(fd, buf, chunk, (off_t)off) != (ssize_t)chunk || buf[chunk - 1] != 'p')
			goto fail;
	close(fd);
	free(buf);
	return io_bytes(pid) - before;
fail:
	close(fd);
	free(buf);
	return -1;
}

TEST(passthrough_io_bypasses_the_daemon)
{
	empty_src();
	pid_t pid = mount_pt("cache=never");
	CHECK(pid > 0);
	long long direct = copy_through(pid);
	unmount_pt(pid);
	CHECK(direct >= 64LL << 20); /* every byte went through the daemon, both ways */

	pid = mount_pt("");
	CHECK(pid > 0);
	long long through = copy_through(pid);
	unmount_pt(pid);
	CHECK(through >= 0);
	if (through > 8LL << 20)
		SKIP("FUSE passthrough not in effect here (%lld bytes through the daemon)",
		     through);
}

/*
 * Each open registers its own host descriptor as the inode's backing file, whatever its mode
 * (the kernel opens its backing files with each FUSE open's flags): 8 MiB written through a
 * write-only create and read back through a read-only open while the first is still open,
 * with next to nothing through the daemon; a writer sharing a reader's registration; and an
 * O_APPEND create whose registration does not make a second open's pwrite at 0 append.
 */
TEST(backing_file_is_the_open_s_own_descriptor)
{
	const size_t chunk = 1 << 20, total = 8 << 20;
	char path[600], host[600], *buf = malloc(chunk), small[8] = {0};
	long long before, moved;
	int wfd, rfd, afd, bfd, ok = 1;

	CHECK(buf != NULL);
	empty_src();
	pid_t pid = mount_pt("");
	CHECK(pid > 0);
	snprintf(path, sizeof(path), "%s/wo", g_mnt);
	before = io_bytes(pid);
	wfd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK(wfd >= 0);
	for (size_t off = 0; off < total; off += chunk) {
		memset(buf, 'a' + (int)(off / chunk), chunk);
		ok &= pwrite(wfd, buf, chunk, (off_t)off) == (ssize_t)chunk;
	}
	CHECK(ok);
	CHECK_ERR(pread(wfd, buf, 1, 0), -EBADF); /* still write-only for the caller */
	rfd = open(path, O_RDONLY);
	CHECK(rfd >= 0);
	for (size_t off = 0; off < total; off += chunk)
		ok &= pread(rfd, buf, chunk, (off_t)off) == (ssize_t)chunk &&
		      buf[0] == 'a' + (int)(off / chunk) && buf[chunk - 1] == buf[0];
	CHECK(ok);
	close(rfd);
	close(wfd);
	moved = io_bytes(pid) - before;

	/* A reader first (its read-only descriptor is registered), then a writer sharing it. */
	snprintf(path, sizeof(path), "%s/rf", g_mnt);
	close(open(path, O_WRONLY | O_CREAT | O_EXCL, 0644));
	rfd = open(path, O_RDONLY);
	wfd = open(path, O_WRONLY);
	CHECK(rfd >= 0 && wfd >= 0);
	memset(buf, 'r', chunk);
	CHECK_EQ(pwrite(wfd, buf, chunk, 0), (ssize_t)chunk);
	memset(buf, 0, chunk);
	CHECK_EQ(pread(rfd, buf, chunk, 0), (ssize_t)chunk);
	CHECK(buf[0] == 'r' && buf[chunk - 1] == 'r');
	close(wfd);
	close(rfd);

	snprintf(path, sizeof(path), "%s/ap", g_mnt);
	afd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	CHECK(afd >= 0);
	CHECK_EQ(write(afd, "abc", 3), 3);
	bfd = open(path, O_RDWR);
	CHECK(bfd >= 0);
	CHECK_EQ(pwrite(bfd, "X", 1, 0), 1);
	CHECK_EQ(write(afd, "d", 1), 1);
	close(bfd);
	close(afd);
	snprintf(host, sizeof(host), "%s/ap", g_src);
	int hfd = open(host, O_RDONLY);
	CHECK(hfd >= 0);
	CHECK_EQ(read(hfd, small, sizeof(small)), 4);
	close(hfd);
	CHECK(memcmp(small, "Xbcd", 4) == 0);
	unmount_pt(pid);
	free(buf);
	printf("# 8 MiB written and read back: %lld bytes through the daemon\n", moved);
	if (moved > 4LL << 20)
		SKIP("FUSE passthrough not in effect here (%lld bytes through the daemon)", moved);
}

/* Every event on the canary or the outside directory. Returns the count. */
static int drain_events(int ifd)
{
	char buf[4096] __attribute__((aligned(8)));
	int count = 0;
	ssize_t n;
	while ((n = read(ifd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			fprintf(stderr, "  outside touched: mask 0x%x name '%s'\n", ev->mask,
				ev->len ? ev->name : "");
			count++;
			p += sizeof(*ev) + ev->len;
		}
	}
	return count;
}

TEST(escapes_never_touch_the_outside)
{
	char p[700], q[700], buf[PATH_MAX];
	struct stat st, st2;

	empty_src();
	snprintf(p, sizeof(p), "%s/abs", g_src);
	CHECK_OK(symlink(g_canary, p));
	snprintf(p, sizeof(p), "%s/rel", g_src);
	CHECK_OK(symlink("../outside/canary", p));
	snprintf(p, sizeof(p), "%s/reldir", g_src);
	CHECK_OK(symlink("../outside", p));
	snprintf(p, sizeof(p), "%s/sub", g_src);
	CHECK_OK(mkdir(p, 0755));
	snprintf(p, sizeof(p), "%s/sub/up", g_src);
	CHECK_OK(symlink("../../outside/canary", p));

	pid_t pid = mount_pt("");
	CHECK(pid > 0);
	int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	CHECK(ifd >= 0);
	CHECK(inotify_add_watch(ifd, g_outside, IN_ALL_EVENTS) >= 0);
	CHECK(inotify_add_watch(ifd, g_canary, IN_ALL_EVENTS) >= 0);

	/* ".." of the mount root is the mount point's parent, not the source's. */
	snprintf(p, sizeof(p), "%s/..", g_mnt);
	CHECK_OK(stat(p, &st));
	CHECK_OK(stat(g_base2, &st2));
	CHECK_EQ(st.st_ino, st2.st_ino);
	snprintf(p, sizeof(p), "%s/../outside", g_mnt);
	CHECK_ERR(stat(p, &st), -ENOENT);
	/* ls of the root lists only the source; its ".." carries no outside inode number. */
	DIR *d = opendir(g_mnt);
	CHECK(d);
	struct dirent *de;
	int n = 0;
	struct stat srcst;
	CHECK_OK(stat(g_src, &srcst));
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, "..") == 0)
			CHECK_EQ(de->d_ino, srcst.st_ino);
		else if (strcmp(de->d_name, ".") != 0)
			n++;
		CHECK(strcmp(de->d_name, "canary") != 0 && strcmp(de->d_name, "outside") != 0);
	}
	closedir(d);
	CHECK_EQ(n, 4);

	/* The links read as links, with their targets. */
	snprintf(p, sizeof(p), "%s/abs", g_mnt);
	CHECK_OK(lstat(p, &st));
	CHECK(S_ISLNK(st.st_mode));
	ssize_t len = readlink(p, buf, sizeof(buf));
	CHECK_EQ(len, (ssize_t)strlen(g_canary));
	CHECK_ERR(open(p, O_RDONLY | O_NOFOLLOW), -ELOOP);
	CHECK_ERR(open(p, O_WRONLY | O_CREAT | O_EXCL, 0644), -EEXIST);
	CHECK_ERR(lsetxattr(p, "user.x", "1", 1, 0), -EPERM);
	CHECK_OK(lchown(p, 1, 1));
	snprintf(q, sizeof(q), "%s/abs2", g_mnt);
	CHECK_OK(rename(p, q));
	CHECK_OK(unlink(q));

	/* Relative links are resolved by the caller's kernel from the mount, never by the
	 * daemon from the source: "../outside" from the mount does not exist. */
	snprintf(p, sizeof(p), "%s/rel", g_mnt);
	CHECK_OK(lstat(p, &st));
	CHECK(S_ISLNK(st.st_mode));
	CHECK_ERR(open(p, O_RDONLY), -ENOENT);
	CHECK_ERR(open(p, O_WRONLY | O_TRUNC), -ENOENT);
	snprintf(p, sizeof(p), "%s/reldir/canary", g_mnt);
	CHECK_ERR(open(p, O_RDONLY), -ENOENT);
	snprintf(p, sizeof(p), "%s/reldir/new", g_mnt);
	CHECK_ERR(open(p, O_WRONLY | O_CREAT, 0644), -ENOENT);
	snprintf(p, sizeof(p), "%s/sub/up", g_mnt);
	CHECK_ERR(open(p, O_RDONLY), -ENOENT);
	snprintf(p, sizeof(p), "%s/sub/../../outside/canary", g_mnt);
	CHECK_ERR(open(p, O_RDONLY), -ENOENT);

	/* Swap a directory for a symlink to the outside on the host, behind the kernel's back,
	 * and keep using the old directory through the mount. */
	snprintf(p, sizeof(p), "%s/sub", g_mnt);
	int dfd = open(p, O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);
	snprintf(p, sizeof(p), "%s/sub", g_src);
	snprintf(q, sizeof(q), "%s/sub.moved", g_src);
	CHECK_OK(rename(p, q));
	CHECK_OK(symlink(g_outside, p));
	int f = openat(dfd, "inside", O_WRONLY | O_CREAT, 0644);
	CHECK(f >= 0);
	close(f);
	close(dfd);
	snprintf(p, sizeof(p), "%s/sub.moved/inside", g_src);
	CHECK_OK(stat(p, &st));

	e2e_sleep_ms(200);
	CHECK_EQ(drain_events(ifd), 0);
	close(ifd);
	unmount_pt(pid);

	int cfd = open(g_canary, O_RDONLY);
	CHECK(cfd >= 0);
	char c[16] = {0};
	CHECK_EQ(read(cfd, c, sizeof(c)), 6);
	close(cfd);
	CHECK_STR(c, "canary");
	snprintf(p, sizeof(p), "%s/new", g_outside);
	CHECK_ERR(stat(p, &st), -ENOENT);
	snprintf(p, sizeof(p), "%s/inside", g_outside);
	CHECK_ERR(stat(p, &st), -ENOENT);
}

/* The fd count of the daemon, sampled while the stress runs. */
struct fd_watch {
	pid_t pid;
	volatile int stop;
	int max;
};

static int count_fds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void *watch_fds(void *arg)
{
	struct fd_watch *w = arg;
	while (!w->stop) {
		int n = count_fds(w->pid);
		if (n > w->max)
			w->max = n;
		e2e_sleep_ms(100);
	}
	return NULL;
}

TEST(scale_many_files_few_fds)
{
	const char *prog = getenv("FB_E2E_STRESS");
	const char *files = getenv("FB_PT_SCALE_FILES");
	char e1[600], e2[64];
	pthread_t th;

	if (!prog || access(prog, X_OK) != 0)
		SKIP("FB_E2E_STRESS not set");
	empty_src();
	pid_t pid = mount_pt("");
	CHECK(pid > 0);
	struct fd_watch w = {.pid = pid, .max = count_fds(pid)};
	int start = w.max;
	CHECK_EQ(pthread_create(&th, NULL, watch_fds, &w), 0);
	snprintf(e1, sizeof(e1), "FB_TEST_DIR=%s", g_mnt);
	snprintf(e2, sizeof(e2), "FB_STRESS_FILES=%s", files ? files : "200000");
	char *env[] = {e1, e2, NULL};
	char *argv[] = {(char *)prog, NULL};
	pid_t t = e2e_spawn(argv, env, -1);
	int r = t < 0 ? (int)t : e2e_wait(t, 1700000);
	w.stop = 1;
	pthread_join(th, NULL);
	long rss = e2e_rss_kib(pid);
	unmount_pt(pid);
	fprintf(stderr, "  daemon fds: %d at start, at most %d during the run; RSS %ld KiB\n",
		start, w.max, rss);
	CHECK_EQ(r, 0);
	CHECK(w.max < 2000);
}

/*
 * The options of g_mnt from /proc/self/mountinfo: the mount's own (6th field: ro, nosuid,
 * noatime, nodiratime, relatime, ...) then the super block's (sync, dirsync, lazytime, ...).
 */
static int mnt_opts(char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], mp[2048], opts[1024], sopts[1024];

	out[0] = '\0';
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		const char *dash = strstr(line, " - ");

		if (dash && sscanf(line, "%*s %*s %*s %*s %2047s %1023s", mp, opts) == 2 &&
		    sscanf(dash + 3, "%*s %*s %1023s", sopts) == 1 && strcmp(mp, g_mnt) == 0)
			snprintf(out, len, ",%s,%s,", opts, sopts);
	}
	fclose(f);
	return out[0] ? 0 : -ENOENT;
}

TEST(mount_flag_options)
{
	char opts[2100];
	pid_t pid;

	/* every flag option of mount(8) that FUSE takes, as libfuse accepts them */
	empty_src();
	pid = mount_pt("rw,exec,suid,dev,nodiratime,lazytime,sync,dirsync,strictatime");
	CHECK(pid > 0);
	CHECK_OK(mnt_opts(opts, sizeof(opts)));
	unmount_pt(pid);
	CHECK(strstr(opts, ",rw,") && strstr(opts, ",nodiratime,") && strstr(opts, ",sync,") &&
	      strstr(opts, ",dirsync,") && !strstr(opts, ",nosuid,") && !strstr(opts, ",nodev,") &&
	      !strstr(opts, ",noexec,") && !strstr(opts, "relatime"));
	pid = mount_pt("relatime,ro,nosuid,nodev,noexec");
	CHECK(pid > 0);
	CHECK_OK(mnt_opts(opts, sizeof(opts)));
	unmount_pt(pid);
	CHECK(strstr(opts, ",ro,") && strstr(opts, ",relatime,") && strstr(opts, ",nosuid,") &&
	      strstr(opts, ",nodev,") && strstr(opts, ",noexec,"));
	pid = mount_pt("noatime");
	CHECK(pid > 0);
	CHECK_OK(mnt_opts(opts, sizeof(opts)));
	unmount_pt(pid);
	CHECK(strstr(opts, ",noatime,"));
}

/* Set the host access time of @path to three days ago (older than relatime's day). */
static int age_atime(const char *path)
{
	struct timespec ts[2] = {{time(NULL) - 3 * 86400, 0}, {0, UTIME_OMIT}};

	return utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static long host_atime(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : (long)st.st_atime;
}

/* Read @path and list @dir through the mount, as root and as uid/gid 65534. */
static int read_and_list(const char *path, const char *dir)
{
	char buf[64];

	for (int as_nobody = 0; as_nobody < 2; as_nobody++) {
		pid_t pid = fork();

		if (pid < 0)
			return -errno;
		if (pid == 0) {
			int fd;
			DIR *d;

			if (as_nobody && (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
					  setresuid(65534, 65534, 65534) < 0))
				_exit(2);
			fd = open(path, O_RDONLY);
			if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
				_exit(3);
			close(fd);
			d = opendir(dir);
			if (!d)
				_exit(4);
			while (readdir(d))
				;
			closedir(d);
			_exit(0);
		}
		if (e2e_wait(pid, 30000) != 0)
			return -EIO;
	}
	return 0;
}

/*
 * On a noatime mount, reading files and listing directories (as root and as another user, with
 * FUSE passthrough and without) leaves the host's access times alone; on a relatime mount
 * they change (the check can see a change).
 */
TEST(noatime_leaves_host_atime)
{
	const char *modes[] = {"noatime", "noatime,no_passthrough", "noatime,cache=never", ""};
	char hf[600], hd[600], mf[600], md[600];

	snprintf(hd, sizeof(hd), "%s/d", g_src);
	snprintf(hf, sizeof(hf), "%s/d/f", g_src);
	snprintf(md, sizeof(md), "%s/d", g_mnt);
	snprintf(mf, sizeof(mf), "%s/d/f", g_mnt);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		empty_src();
		CHECK_OK(mkdir(hd, 0755));
		int fd = open(hf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		CHECK(fd >= 0);
		CHECK_EQ(write(fd, "hello", 5), 5);
		close(fd);
		CHECK_OK(age_atime(hf));
		CHECK_OK(age_atime(hd));
		long af = host_atime(hf), ad = host_atime(hd);
		pid_t pid = mount_pt(modes[i]);
		CHECK(pid > 0);
		int r = read_and_list(mf, md);
		unmount_pt(pid);
		CHECK_OK(r);
		if (modes[i][0]) {
			if (host_atime(hf) != af || host_atime(hd) != ad)
				FBT_FAIL("-o %s: host atime changed (file %ld -> %ld, dir %ld -> %ld)",
					 modes[i], af, host_atime(hf), ad, host_atime(hd));
		} else {
			CHECK(host_atime(hf) > af);
			CHECK(host_atime(hd) > ad);
		}
	}
}

/*
 * An unlinked file stays reachable through a descriptor the kernel holds without any open
 * handle in the daemon: an O_PATH descriptor sends no OPEN, yet fstat() after the attribute
 * timeout sends GETATTR and a reopen through /proc/self/fd sends OPEN (with no_open, open files
 * have no daemon handle either). The passthrough pins every unlinked inode (inode.c,
 * fb__pt_inode_pin()) for this; without the pin both answer ESTALE.
 */
TEST(opath_descriptor_survives_unlink)
{
	const char *modes[] = {"timeout=0.2", "timeout=0.2,no_open", "timeout=0.2,no_passthrough"};
	char mf[600], proc[64], buf[8];
	struct stat st;

	snprintf(mf, sizeof(mf), "%s/f", g_mnt);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		empty_src();
		pid_t pid = mount_pt(modes[i]);
		CHECK(pid > 0);
		int fd = open(mf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int w = fd >= 0 ? (int)write(fd, "hello", 5) : -1;
		if (fd >= 0)
			close(fd);
		int pfd = open(mf, O_PATH);
		int u = unlink(mf);
		usleep(500 * 1000); /* past the attribute timeout: fstat must ask the daemon */
		int sr = pfd >= 0 ? fstat(pfd, &st) : -1;
		int serr = errno;
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
		int rfd = open(proc, O_RDONLY);
		int rerr = errno;
		ssize_t n = rfd >= 0 ? read(rfd, buf, sizeof(buf)) : -1;
		if (rfd >= 0)
			close(rfd);
		if (pfd >= 0)
			close(pfd);
		unmount_pt(pid);
		CHECK_EQ(w, 5);
		CHECK(pfd >= 0);
		CHECK_OK(u);
		if (sr < 0)
			FBT_FAIL("-o %s: fstat of the unlinked file: %s", modes[i], strerror(serr));
		CHECK_EQ(st.st_nlink, 0);
		CHECK_EQ(st.st_size, 5);
		if (rfd < 0)
			FBT_FAIL("-o %s: reopen through /proc: %s", modes[i], strerror(rerr));
		CHECK_EQ(n, 5);
		CHECK(memcmp(buf, "hello", 5) == 0);
	}
}

TEST(bad_command_lines_exit_1)
{
	char out[2048], p[700];
	snprintf(p, sizeof(p), "%s/file", g_base);
	int fd = open(p, O_WRONLY | O_CREAT, 0644);
	CHECK(fd >= 0);
	close(fd);

	char *a1[] = {(char *)g_daemon, "-f", "/nonexistent/fb-pt", g_mnt, NULL};
	CHECK_EQ(e2e_run_capture(a1, out, sizeof(out)), 1);
	CHECK(strstr(out, "No such file"));
	char *a2[] = {(char *)g_daemon, "-f", p, g_mnt, NULL};
	CHECK_EQ(e2e_run_capture(a2, out, sizeof(out)), 1);
	CHECK(strstr(out, "not a directory"));
	char *a3[] = {(char *)g_daemon, "-f", g_src, p, NULL};
	CHECK_EQ(e2e_run_capture(a3, out, sizeof(out)), 1);
	CHECK(strstr(out, "not a directory"));
	char *a4[] = {(char *)g_daemon, "-f", "-o", "cache=sometimes", g_src, g_mnt, NULL};
	CHECK_EQ(e2e_run_capture(a4, out, sizeof(out)), 1);

	char inner[700];
	snprintf(inner, sizeof(inner), "%s/inner", g_src);
	mkdir(inner, 0755);
	char *a6[] = {(char *)g_daemon, "-f", g_src, inner, NULL};
	CHECK_EQ(e2e_run_capture(a6, out, sizeof(out)), 1);
	CHECK(strstr(out, "inside the source"));
	rmdir(inner);

	pid_t pid = mount_pt("");
	CHECK(pid > 0);
	char *a5[] = {(char *)g_daemon, "-f", g_src, g_mnt, NULL};
	int r = e2e_run_capture(a5, out, sizeof(out));
	unmount_pt(pid);
	CHECK_EQ(r, 1);
	CHECK(strstr(out, "in use"));
	unlink(p);
}

/*
 * The mount's type and source as tools see them in /proc/self/mountinfo: fuse.fb-passthrough
 * and SOURCE by default; libfuse's -o subtype=NAME,fsname=NAME; -o subtype= is plain "fuse".
 */
TEST(mount_type_and_source_as_libfuse)
{
	static const struct {
		const char *opts, *type, *source;
	} cases[] = {
		{"", "fuse.fb-passthrough", NULL},
		{"subtype=pt,fsname=mydata", "fuse.pt", "mydata"},
		{"subtype=", "fuse", NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char type[256] = "", src[256] = "", line[4096];
		pid_t pid = mount_pt(cases[i].opts);
		FILE *f = fopen("/proc/self/mountinfo", "re");

		while (pid > 0 && f && fgets(line, sizeof(line), f)) {
			char mp[2048];
			const char *dash = strstr(line, " - ");

			if (sscanf(line, "%*s %*s %*s %*s %2047s", mp) == 1 && dash &&
			    strcmp(mp, g_mnt) == 0)
				sscanf(dash + 3, "%255s %255s", type, src);
		}
		if (f)
			fclose(f);
		unmount_pt(pid);
		CHECK(pid > 0);
		CHECK_STR(type, cases[i].type);
		CHECK_STR(src, cases[i].source ? cases[i].source : g_src);
	}
}

TEST_MAIN()
