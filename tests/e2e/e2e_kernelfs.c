/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * e2e_kernelfs: what the conformance suites run on a kernel file system, through a real
 * fb-passthrough mount over a tmpfs source (which keeps chattr flags and has file handles):
 *
 *  - chattr/lsattr: FS_IOC_GETFLAGS / SETFLAGS and FS_IOC_FSGETXATTR / FSSETXATTR reach the
 *    host file and take effect there; only the owner may change flags, and only root may set
 *    append-only or immutable;
 *  - NFS-style export: name_to_handle_at / open_by_handle_at on files of the mount, also
 *    after the kernel dropped its inodes (drop_caches) and the daemon forgot them;
 *  - idmapped mounts of the FUSE mount (mount_setattr(MOUNT_ATTR_IDMAP)), with a passthrough
 *    served in this process (allow_idmap is a library setting).
 *
 * Environment (set by meson): FB_PASSTHROUGH.
 */
#include <fcntl.h>
#include <grp.h>
#include <linux/fs.h>
#include <linux/mount.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include <fuse_backend/fusedev.h>
#include <fuse_backend/passthrough.h>
#include <fuse_backend/server.h>

#include "harness.h"
#include "e2e_util.h"

static const char *g_daemon;
static char g_base[256];		/* holds src/ (a tmpfs) and mnt/ */
static char g_src[300], g_mnt[300];
static pid_t g_pid;			/* the daemon of the current test, or 0 */

static void path_in(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static int make_file(const char *dir, const char *name, const char *text, uid_t uid, mode_t mode)
{
	char p[400];
	int fd;

	path_in(p, sizeof(p), dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text) || fchown(fd, uid, uid) < 0 ||
	    fchmod(fd, mode) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	close(fd);
	return 0;
}

static void unmount_pt(void);

/*
 * Mount fb-passthrough g_src on g_mnt with -o @opts; the pid goes to g_pid. A mount that a
 * failed test left behind goes first.
 */
static int mount_pt(const char *opts)
{
	char o[256];

	unmount_pt();
	snprintf(o, sizeof(o), "%s", opts && *opts ? opts : "rw");
	char *argv[] = {(char *)g_daemon, "-f", "-o", o, g_src, g_mnt, NULL};
	g_pid = e2e_start_daemon(argv, g_mnt);
	return g_pid > 0 ? 0 : (int)g_pid;
}

static void unmount_pt(void)
{
	if (g_pid <= 0)
		return;
	umount2(g_mnt, MNT_DETACH);
	e2e_stop_daemon(g_pid, SIGTERM);
	g_pid = 0;
}

/* FS_IOC_GETFLAGS of @path (opened read-only), or -errno. */
static long get_flags(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK), flags = 0;
	long r;

	if (fd < 0)
		return -errno;
	r = ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0 ? -errno : flags;
	close(fd);
	return r;
}

/* FS_IOC_SETFLAGS @flags on @path: 0 or -errno. */
static int set_flags(const char *path, int flags)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK), r;

	if (fd < 0)
		return -errno;
	r = ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0 ? -errno : 0;
	close(fd);
	return r;
}

/* Run set_flags(@path, @flags) as @uid:@uid in a child; its result. */
static int set_flags_as(uid_t uid, const char *path, int flags)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
		    setresuid(uid, uid, uid) < 0)
			_exit(100);
		_exit(-set_flags(path, flags));
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -ECHILD;
	return -WEXITSTATUS(status);
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
	snprintf(g_base, sizeof(g_base), "/tmp/fb-kernelfs-XXXXXX");
	if (!mkdtemp(g_base))
		return 1;
	chmod(g_base, 0755);
	path_in(g_src, sizeof(g_src), g_base, "src");
	path_in(g_mnt, sizeof(g_mnt), g_base, "mnt");
	if (mkdir(g_src, 0755) < 0 || mkdir(g_mnt, 0755) < 0)
		return 1;
	if (mount("tmpfs", g_src, "tmpfs", 0, "size=64m,mode=0755") < 0) {
		fprintf(stderr, "  skip: cannot mount a tmpfs source: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

static void inproc_stop_current(void);

static int teardown(void)
{
	unmount_pt();
	inproc_stop_current();
	umount2(g_mnt, MNT_DETACH);
	umount2(g_src, MNT_DETACH);
	rmdir(g_mnt);
	rmdir(g_src);
	rmdir(g_base);
	return 0;
}
TEST_SETUP(setup)
TEST_TEARDOWN(teardown)

/*
 * chattr +a / +d through the mount reach the host file, and the host's append-only rule then
 * holds on the mount; lsattr (GETFLAGS) and xfs_io's lsattr (FSGETXATTR) see them.
 */
TEST(chattr_flags_reach_the_host)
{
	char m[400], s[400];
	struct stat st1, st2, hs;
	struct fsxattr fsx;
	int fd;

	CHECK_OK(make_file(g_src, "af", "data", 0, 0644));
	path_in(m, sizeof(m), g_mnt, "af");
	path_in(s, sizeof(s), g_src, "af");
	CHECK_OK(mount_pt("allow_other"));

	CHECK_EQ(get_flags(m), 0);
	CHECK_OK(stat(m, &st1)); /* cached by the kernel for the attribute timeout */
	e2e_sleep_ms(20);
	CHECK_OK(set_flags(m, FS_APPEND_FL | FS_NODUMP_FL));
	CHECK_EQ(get_flags(s), FS_APPEND_FL | FS_NODUMP_FL);
	/* chattr changes ctime, and the mount shows it at once (xfstests generic/277) */
	CHECK_OK(stat(m, &st2));
	CHECK_OK(stat(s, &hs));
	CHECK(st2.st_ctim.tv_sec != st1.st_ctim.tv_sec || st2.st_ctim.tv_nsec != st1.st_ctim.tv_nsec);
	CHECK_EQ(st2.st_ctim.tv_nsec, hs.st_ctim.tv_nsec);
	CHECK_EQ(get_flags(m), FS_APPEND_FL | FS_NODUMP_FL);
	/* append-only on the host: no truncating open, appending works */
	CHECK_ERR(open(m, O_WRONLY | O_TRUNC), -EPERM);
	fd = open(m, O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, "more", 4), 4);
	close(fd);

	fd = open(m, O_RDONLY);
	CHECK(fd >= 0);
	memset(&fsx, 0, sizeof(fsx));
	CHECK_OK(ioctl(fd, FS_IOC_FSGETXATTR, &fsx));
	CHECK_EQ(fsx.fsx_xflags & (FS_XFLAG_APPEND | FS_XFLAG_NODUMP),
		 FS_XFLAG_APPEND | FS_XFLAG_NODUMP);
	fsx.fsx_xflags &= ~(uint32_t)FS_XFLAG_APPEND;
	CHECK_OK(ioctl(fd, FS_IOC_FSSETXATTR, &fsx));
	close(fd);
	CHECK_EQ(get_flags(s), FS_NODUMP_FL);

	CHECK_OK(set_flags(m, 0));
	CHECK_EQ(get_flags(s), 0);
	unmount_pt();
}

/*
 * Only the owner may change flags, and append-only / immutable need CAP_LINUX_IMMUTABLE,
 * which no caller but root has: the host must refuse in the caller's terms, whatever the
 * daemon (root) could do.
 */
TEST(chattr_needs_owner_and_capability)
{
	char m[400], s[400];

	CHECK_OK(make_file(g_src, "of", "data", 65534, 0666));
	path_in(m, sizeof(m), g_mnt, "of");
	path_in(s, sizeof(s), g_src, "of");
	CHECK_OK(mount_pt("allow_other"));

	/* the owner may set nodump, not append-only or immutable */
	CHECK_EQ(set_flags_as(65534, m, FS_NODUMP_FL), 0);
	CHECK_EQ(get_flags(s), FS_NODUMP_FL);
	CHECK_EQ(set_flags_as(65534, m, FS_NODUMP_FL | FS_APPEND_FL), -EPERM);
	CHECK_EQ(set_flags_as(65534, m, FS_NODUMP_FL | FS_IMMUTABLE_FL), -EPERM);
	/* another user may change nothing, not even on a file it may write */
	CHECK_EQ(set_flags_as(65533, m, 0), -EPERM);
	CHECK_EQ(get_flags(s), FS_NODUMP_FL);
	/* root may; and then the owner may not take it away */
	CHECK_OK(set_flags(m, FS_NODUMP_FL | FS_IMMUTABLE_FL));
	CHECK_EQ(get_flags(s), FS_NODUMP_FL | FS_IMMUTABLE_FL);
	CHECK_EQ(set_flags_as(65534, m, FS_NODUMP_FL), -EPERM);
	CHECK_ERR(open(m, O_WRONLY), -EPERM);
	CHECK_OK(set_flags(m, 0));
	CHECK_EQ(get_flags(s), 0);
	unmount_pt();
}

/* Let the kernel drop every unused dentry and inode, and the daemon hear the FORGETs. */
static int drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY), r = 0;

	if (fd < 0)
		return -errno;
	sync();
	if (write(fd, "2", 1) != 1)
		r = -errno;
	close(fd);
	e2e_sleep_ms(300); /* FORGET is sent asynchronously */
	return r;
}

/* The file handle of @path on the mount, into @buf (room for MAX_HANDLE_SZ). */
static int handle_of(const char *path, struct file_handle *h)
{
	int mnt_id;

	h->handle_bytes = MAX_HANDLE_SZ;
	return name_to_handle_at(AT_FDCWD, path, h, &mnt_id, 0) < 0 ? -errno : 0;
}

/* Open handle @h of the mount with @flags and read up to @len - 1 bytes into @buf. */
static int open_handle_read(int mfd, struct file_handle *h, char *buf, size_t len,
			    struct stat *st)
{
	int fd = open_by_handle_at(mfd, h, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0 || fstat(fd, st) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	buf[n] = '\0';
	close(fd);
	return 0;
}

/*
 * NFS-style export: a file handle of a file of the mount opens that file, also after the
 * kernel forgot the inode (drop_caches): the daemon finds it again from the host's handle,
 * under the same node id. A directory's handle too (the kernel reconnects it with ".."). A
 * handle of a removed file is stale.
 */
TEST(file_handles_survive_forget)
{
	union {
		struct file_handle h;
		char raw[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} fh, dh, gone;
	char m[400], d[400], buf[64];
	struct stat st, st2;
	int mfd, fd;

	CHECK_OK(make_file(g_src, "ef", "exported", 0, 0644));
	CHECK_OK(make_file(g_src, "gone", "x", 0, 0644));
	path_in(d, sizeof(d), g_src, "dir");
	CHECK_OK(mkdir(d, 0755));
	CHECK_OK(make_file(d, "inner", "in", 0, 0644));
	CHECK_OK(mount_pt("allow_other"));

	path_in(m, sizeof(m), g_mnt, "ef");
	CHECK_OK(stat(m, &st));
	CHECK_OK(handle_of(m, &fh.h));
	path_in(d, sizeof(d), g_mnt, "dir");
	CHECK_OK(handle_of(d, &dh.h));
	path_in(m, sizeof(m), g_mnt, "gone");
	CHECK_OK(handle_of(m, &gone.h));
	CHECK_OK(unlink(m));
	mfd = open(g_mnt, O_RDONLY | O_DIRECTORY);
	CHECK(mfd >= 0);

	CHECK_OK(open_handle_read(mfd, &fh.h, buf, sizeof(buf), &st2));
	CHECK_STR(buf, "exported");
	CHECK_EQ(st2.st_ino, st.st_ino);

	CHECK_OK(drop_caches());
	CHECK_OK(open_handle_read(mfd, &fh.h, buf, sizeof(buf), &st2));
	CHECK_STR(buf, "exported");
	CHECK_EQ(st2.st_ino, st.st_ino);
	fd = open_by_handle_at(mfd, &dh.h, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0);
	CHECK_OK(fstatat(fd, "inner", &st2, 0));
	close(fd);
	CHECK_ERR(open_by_handle_at(mfd, &gone.h, O_RDONLY), -ESTALE);

	/* looked up by name again after the forget: the same file, the same handle */
	CHECK_OK(drop_caches());
	path_in(m, sizeof(m), g_mnt, "ef");
	CHECK_OK(stat(m, &st2));
	CHECK_EQ(st2.st_ino, st.st_ino);
	CHECK_OK(open_handle_read(mfd, &fh.h, buf, sizeof(buf), &st2));
	CHECK_STR(buf, "exported");
	close(mfd);
	unmount_pt();
}

/* ---- idmapped mounts ---- */

struct inproc {
	struct fb_passthrough *pt;
	struct fb_server *srv;
	struct fb_session *se;
	pthread_t thread;
	int running;
};

static void *inproc_loop(void *arg)
{
	struct inproc *p = arg;

	fb_session_loop(p->se, 2);
	return NULL;
}

/* Serve g_src on g_mnt from this process with allow_idmap, allow_other, default_permissions. */
static int inproc_start(struct inproc *p)
{
	struct fb_passthrough_config cfg;
	struct fb_mount_opts mo = {.allow_other = 1, .default_permissions = 1};
	int r;

	memset(p, 0, sizeof(*p));
	fb_passthrough_config_init(&cfg);
	cfg.source = g_src;
	cfg.allow_idmap = 1;
	r = fb_passthrough_new(&cfg, &p->pt);
	if (r == 0)
		r = fb_server_new(&fb_passthrough_ops, sizeof(fb_passthrough_ops), p->pt, NULL,
				  &p->srv);
	if (r == 0)
		r = fb_session_new(p->srv, &p->se);
	if (r == 0)
		r = fb_session_mount(p->se, g_mnt, &mo);
	if (r == 0)
		r = -pthread_create(&p->thread, NULL, inproc_loop, p);
	p->running = r == 0;
	return r;
}

static struct inproc g_ip; /* the in-process server of the current test */

static void inproc_stop(struct inproc *p)
{
	if (p->running) {
		fb_session_exit(p->se);
		pthread_join(p->thread, NULL);
	}
	fb_session_free(p->se);
	fb_server_free(p->srv);
	fb_passthrough_free(p->pt);
	memset(p, 0, sizeof(*p));
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		r = -errno;
	close(fd);
	return r;
}

/* A user namespace mapping ids @inside.. to @outside.. (@count of each), as an fd. */
static int userns_fd(unsigned int inside, unsigned int outside, unsigned int count)
{
	char path[64], map[64], c;
	int p[2], fd, r1, r2;
	pid_t pid;

	if (pipe(p) < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		if (read(p[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return -errno;
	}
	/* until the child's namespace exists, its ns/user is ours: wait for the change */
	for (int i = 0; i < 200; i++) {
		struct stat a, b;

		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		if (stat(path, &a) == 0 && stat("/proc/self/ns/user", &b) == 0 && a.st_ino != b.st_ino)
			break;
		e2e_sleep_ms(5);
	}
	snprintf(map, sizeof(map), "%u %u %u\n", inside, outside, count);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	r1 = write_text(path, map);
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	r2 = write_text(path, map);
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fd = -errno;
	close(p[1]);
	waitpid(pid, NULL, 0);
	if (r1 < 0 || r2 < 0) {
		if (fd >= 0)
			close(fd);
		return r1 < 0 ? r1 : r2;
	}
	return fd;
}

/*
 * An idmapped copy of mount @from on @to, where files of id @fs_id show as @seen_id's and
 * caller @seen_id creates files of @fs_id (the user namespace maps @fs_id to @seen_id):
 * 0 or -errno.
 */
static int idmapped_mount(const char *from, const char *to, unsigned int fs_id,
			  unsigned int seen_id)
{
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP};
	int ns, tree, r = 0;

	ns = userns_fd(fs_id, seen_id, 1);
	if (ns < 0)
		return ns;
	tree = (int)syscall(SYS_open_tree, AT_FDCWD, from, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0) {
		r = -errno;
		close(ns);
		return r;
	}
	attr.userns_fd = (uint64_t)ns;
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0 ||
	    syscall(SYS_move_mount, tree, "", AT_FDCWD, to, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		r = -errno;
	close(tree);
	close(ns);
	return r;
}

/* As @uid:@uid in a child: create @path (mode 0644) and write to @other. 0 or -errno each. */
static void create_and_write_as(uid_t uid, const char *path, const char *other, int *r_create,
				int *r_write)
{
	int p[2], res[2] = {-ECHILD, -ECHILD};
	pid_t pid;

	if (pipe(p) < 0)
		goto out;
	pid = fork();
	if (pid == 0) {
		int out[2], fd;

		close(p[0]);
		if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
		    setresuid(uid, uid, uid) < 0)
			_exit(1);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		out[0] = fd < 0 ? -errno : 0;
		if (fd >= 0)
			close(fd);
		fd = open(other, O_WRONLY | O_APPEND);
		out[1] = fd < 0 ? -errno : (write(fd, "x", 1) == 1 ? 0 : -errno);
		if (fd >= 0)
			close(fd);
		_exit(write(p[1], out, sizeof(out)) == sizeof(out) ? 0 : 1);
	}
	close(p[1]);
	if (pid > 0) {
		if (read(p[0], res, sizeof(res)) != sizeof(res))
			res[0] = res[1] = -ECHILD;
		waitpid(pid, NULL, 0);
	}
	close(p[0]);
out:
	*r_create = res[0];
	*r_write = res[1];
}

static void inproc_stop_current(void)
{
	char idm[300];

	path_in(idm, sizeof(idm), g_base, "idm");
	umount2(idm, MNT_DETACH);
	rmdir(idm);
	inproc_stop(&g_ip);
}

/*
 * An idmapped mount of the FUSE mount (uid/gid 1000 inside seen for 2000 on the host): a file
 * of 2000 shows as 1000's, 1000 creates files that the host gives to 2000 and may write
 * 2000's file; the kernel checks permissions (default_permissions) for every caller, and the
 * plain mount still creates files as the real caller.
 */
TEST(idmapped_mount_of_the_fuse_mount)
{
	char idm[300], p[400], q[400], pub[400];
	struct stat st;
	int rc, rw;

	CHECK_OK(make_file(g_src, "own2000", "data", 2000, 0644));
	path_in(pub, sizeof(pub), g_src, "pub");
	/* the kernel refuses writes to a directory whose owner the idmapped mount cannot map */
	CHECK_OK(mkdir(pub, 0777));
	CHECK_OK(chown(pub, 2000, 2000));
	CHECK_OK(chmod(pub, 0777));
	path_in(idm, sizeof(idm), g_base, "idm");
	mkdir(idm, 0755);
	CHECK_OK(inproc_start(&g_ip));

	/* INIT must be done: the kernel allows idmapped mounts from its reply on */
	CHECK_OK(stat(g_mnt, &st));
	CHECK_OK(idmapped_mount(g_mnt, idm, 2000, 1000));
	path_in(p, sizeof(p), idm, "own2000");
	CHECK_OK(stat(p, &st));
	CHECK_EQ(st.st_uid, 1000);
	CHECK_EQ(st.st_gid, 1000);

	/* 1000 through the idmapped mount is 2000 on the host */
	path_in(q, sizeof(q), idm, "pub/by1000");
	create_and_write_as(1000, q, p, &rc, &rw);
	CHECK_EQ(rc, 0);
	CHECK_EQ(rw, 0);
	path_in(q, sizeof(q), g_src, "pub/by1000");
	CHECK_OK(stat(q, &st));
	CHECK_EQ(st.st_uid, 2000);
	CHECK_EQ(st.st_gid, 2000);

	/* on the plain mount 1000 is 1000: its new file is its own, 2000's file is not */
	path_in(p, sizeof(p), g_mnt, "own2000");
	path_in(q, sizeof(q), g_mnt, "pub/plain1000");
	create_and_write_as(1000, q, p, &rc, &rw);
	CHECK_EQ(rc, 0);
	CHECK_EQ(rw, -EACCES);
	path_in(q, sizeof(q), g_src, "pub/plain1000");
	CHECK_OK(stat(q, &st));
	CHECK_EQ(st.st_uid, 1000);

	umount2(idm, MNT_DETACH);
	rmdir(idm);
	inproc_stop(&g_ip);
}

TEST_MAIN()
