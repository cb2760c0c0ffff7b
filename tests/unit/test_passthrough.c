/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The passthrough file system, called directly through its ops table against a temporary
 * directory: no mount, no server. Tests that need root (credential switching, file handles)
 * skip without it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/buf.h>
#include <sys/statfs.h>

#include <fuse_backend/fs.h>
#include <fuse_backend/passthrough.h>

#include "api/server_i.h"
#include "fs/passthrough/passthrough_i.h"
#include "harness.h"
#include "fbreq.h"

static const struct fb_fs_ops *ops = &fb_passthrough_ops;

static char base[256];	  /* temp dir holding src/ and outside/ */
static char src[512];	  /* the source directory */
static char outside[512]; /* a directory next to the source: must stay untouched */
static char canary[1024]; /* outside/canary */

static struct fb_ctx root_ctx = {.uid = 0, .gid = 0, .umask = 022};

static int rm_rf(const char *path)
{
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	return system(cmd);
}

/* A fresh source directory and instance per test. */
static struct fb_passthrough *fresh(void)
{
	struct fb_passthrough_config cfg;
	struct fb_passthrough *pt = NULL;

	rm_rf(src);
	if (mkdir(src, 0755) < 0)
		return NULL;
	chmod(src, 0777);
	fb_passthrough_config_init(&cfg);
	cfg.source = src;
	if (fb_passthrough_new(&cfg, &pt) < 0)
		return NULL;
	return pt;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR's own fd */
}

static void put_file(const char *dir, const char *name, const char *content, mode_t mode)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%.3000s/%.200s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd >= 0) {
		if (write(fd, content, strlen(content)) < 0)
			perror("write");
		fchmod(fd, mode);
		close(fd);
	}
}

static int canary_intact(void)
{
	char buf[64] = {0};
	struct stat st;
	int fd = open(canary, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	fstat(fd, &st);
	close(fd);
	(void)n;
	return strcmp(buf, "canary") == 0 && st.st_size == 6;
}

static int setup(void)
{
	snprintf(base, sizeof(base), "/tmp/fb-pt-unit-XXXXXX");
	if (!mkdtemp(base))
		return 1;
	chmod(base, 0755);
	snprintf(src, sizeof(src), "%s/src", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	snprintf(canary, sizeof(canary), "%s/canary", outside);
	mkdir(outside, 0755);
	put_file(outside, "canary", "canary", 0644);
	return 0;
}

static int teardown(void)
{
	rm_rf(base);
	return 0;
}
TEST_SETUP(setup)
TEST_TEARDOWN(teardown)

/* Read one file through open/read/release. Returns bytes or -errno. */
static int read_all(struct fb_passthrough *pt, const struct fb_ctx *ctx, fb_ino_t ino, char *buf,
		    size_t size)
{
	struct fb_file_info fi = {0};
	struct iovec iov = {buf, size};
	struct fb_writer w;
	int r = ops->open(pt, ctx, ino, O_RDONLY, &fi);
	if (r < 0)
		return r;
	fb_writer_init(&w, &iov, 1);
	r = ops->read(pt, ctx, ino, fi.fh, &w, (uint32_t)size, 0, O_RDONLY);
	ops->release(pt, ctx, ino, fi.fh, O_RDONLY, 0, 0);
	return r;
}

TEST(lookup_create_write_read)
{
	struct fb_passthrough *pt = fresh();
	struct fb_entry e, e2;
	struct fb_file_info fi = {0};
	char buf[64] = {0};
	CHECK(pt);

	/* A missing name is a negative entry the kernel may cache for the entry timeout. */
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "nope", &e), 0);
	CHECK_EQ(e.ino, 0);
	CHECK_EQ(e.entry_timeout, 1);
	CHECK_EQ(ops->create(pt, &root_ctx, FB_ROOT_ID, "f", 0666, O_RDWR | O_CREAT, &e, &fi), 0);
	CHECK(e.ino > FB_ROOT_ID);
	CHECK(S_ISREG(e.attr.st_mode));
	CHECK_EQ(e.attr.st_mode & 0777, 0644); /* umask 022 applied */

	struct iovec iov = {(void *)"hello world", 11};
	struct fb_reader r;
	fb_reader_init(&r, &iov, 1);
	CHECK_EQ(ops->write(pt, &root_ctx, e.ino, fi.fh, &r, 11, 0, 0, O_RDWR), 11);
	CHECK_EQ(ops->flush(pt, &root_ctx, e.ino, fi.fh, 0), 0);
	CHECK_EQ(ops->fsync(pt, &root_ctx, e.ino, fi.fh, 1), 0);
	CHECK_EQ(ops->release(pt, &root_ctx, e.ino, fi.fh, O_RDWR, 0, 0), 0);
	CHECK_EQ(fb_passthrough_handle_count(pt), 0);

	/* The host sees the data, with the host's inode number. */
	char p[PATH_MAX];
	struct stat st;
	snprintf(p, sizeof(p), "%s/f", src);
	CHECK_OK(stat(p, &st));
	CHECK_EQ(st.st_size, 11);
	CHECK_EQ(st.st_ino, e.attr.st_ino);

	/* A second lookup finds the same node and takes a second reference. */
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "f", &e2), 0);
	CHECK_EQ(e2.ino, e.ino);
	CHECK_EQ(read_all(pt, &root_ctx, e.ino, buf, sizeof(buf)), 11);
	CHECK_STR(buf, "hello world");

	/* getattr, statfs, statx */
	struct stat a;
	double t;
	CHECK_EQ(ops->getattr(pt, &root_ctx, e.ino, NULL, &a, &t), 0);
	CHECK_EQ(a.st_size, 11);
	struct statvfs sv;
	CHECK_EQ(ops->statfs(pt, &root_ctx, e.ino, &sv), 0);
	CHECK(sv.f_bsize > 0);
	struct statx sx;
	CHECK_EQ(ops->statx(pt, &root_ctx, e.ino, NULL, 0, STATX_BASIC_STATS, &sx, &t), 0);
	CHECK_EQ(sx.stx_size, 11);

	CHECK_EQ(fb_passthrough_inode_count(pt), 2);
	ops->forget(pt, e.ino, 2);
	CHECK_EQ(fb_passthrough_inode_count(pt), 1);
	CHECK_ERR(ops->getattr(pt, &root_ctx, e.ino, NULL, &a, &t), -ESTALE);
	fb_passthrough_free(pt);
}

/*
 * Export (FB_EXPORT_SUPPORT): "." on a node id the kernel forgot finds the file again from its
 * host file handle, under the same id, and so does a new lookup by name; a removed file is
 * stale; ".." of a directory is its parent, the root's is the root.
 */
TEST(export_dot_lookups_after_forget)
{
	struct fb_passthrough *pt = fresh();
	struct fb_conn conn = {.proto_major = 7, .proto_minor = 45,
			       .capable = FB_EXPORT_SUPPORT | FB_NO_EXPORT_SUPPORT,
			       .want = FB_NO_EXPORT_SUPPORT};
	struct fb_entry e, d, g;
	char p[PATH_MAX];
	CHECK(pt);

	CHECK_EQ(ops->init(pt, &conn), 0);
	CHECK(conn.want & FB_EXPORT_SUPPORT);
	CHECK(!(conn.want & FB_NO_EXPORT_SUPPORT));
	put_file(src, "f", "x", 0644);
	put_file(src, "gone", "x", 0644);
	snprintf(p, sizeof(p), "%s/dir", src);
	CHECK_OK(mkdir(p, 0755));

	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "f", &e), 0);
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "gone", &g), 0);
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "dir", &d), 0);
	CHECK_EQ(ops->lookup(pt, &root_ctx, d.ino, "..", &e), 0);
	CHECK_EQ(e.ino, FB_ROOT_ID);
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "..", &e), 0);
	CHECK_EQ(e.ino, FB_ROOT_ID);
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "f", &e), 0);
	fb_ino_t id = e.ino;
	ops->forget(pt, id, 2);
	ops->forget(pt, g.ino, 1);
	snprintf(p, sizeof(p), "%s/gone", src);
	CHECK_OK(unlink(p));

	if (!pt->use_handles) {
		int r = ops->lookup(pt, &root_ctx, id, ".", &e);
		fb_passthrough_free(pt);
		CHECK_EQ(r, -ESTALE);
		SKIP("the source has no file handles: forgotten inodes are stale");
	}
	CHECK_EQ(ops->lookup(pt, &root_ctx, id, ".", &e), 0);
	CHECK_EQ(e.ino, id);
	CHECK(S_ISREG(e.attr.st_mode));
	ops->forget(pt, id, 1);
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "f", &e), 0);
	CHECK_EQ(e.ino, id);
	ops->forget(pt, id, 1);
	CHECK_EQ(ops->lookup(pt, &root_ctx, g.ino, ".", &e), -ESTALE);
	CHECK_EQ(ops->lookup(pt, &root_ctx, 999999, ".", &e), -ESTALE);
	ops->forget(pt, d.ino, 1);
	fb_passthrough_free(pt);
}

TEST(mkdir_symlink_link_rename_unlink)
{
	struct fb_passthrough *pt = fresh();
	struct fb_entry d, s, f, l;
	struct fb_file_info fi;
	char buf[PATH_MAX];
	CHECK(pt);

	CHECK_EQ(ops->mkdir(pt, &root_ctx, FB_ROOT_ID, "d", 0777, &d), 0);
	CHECK(S_ISDIR(d.attr.st_mode));
	CHECK_EQ(d.attr.st_mode & 0777, 0755);
	CHECK_EQ(ops->symlink(pt, &root_ctx, "target/x", d.ino, "s", &s), 0);
	CHECK(S_ISLNK(s.attr.st_mode));
	CHECK_EQ(ops->readlink(pt, &root_ctx, s.ino, buf, sizeof(buf)), 8);
	CHECK(memcmp(buf, "target/x", 8) == 0);
	CHECK_EQ(ops->create(pt, &root_ctx, d.ino, "f", 0644, O_WRONLY | O_CREAT, &f, &fi), 0);
	CHECK_EQ(ops->link(pt, &root_ctx, f.ino, FB_ROOT_ID, "hard", &l), 0);
	CHECK_EQ(l.ino, f.ino);
	CHECK_EQ(l.attr.st_nlink, 2);
	CHECK_EQ(ops->mknod(pt, &root_ctx, FB_ROOT_ID, "fifo", S_IFIFO | 0644, 0, &l), 0);
	CHECK(S_ISFIFO(l.attr.st_mode));

	CHECK_EQ(ops->rename(pt, &root_ctx, d.ino, "f", FB_ROOT_ID, "moved", 0), 0);
	CHECK_ERR(ops->rename(pt, &root_ctx, FB_ROOT_ID, "moved", FB_ROOT_ID, "hard",
			      RENAME_NOREPLACE),
		  -EEXIST);
	CHECK_EQ(ops->rename(pt, &root_ctx, FB_ROOT_ID, "moved", FB_ROOT_ID, "fifo",
			     RENAME_EXCHANGE),
		 0);
	struct fb_entry x;
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "fifo", &x), 0);
	CHECK_EQ(x.ino, f.ino);
	CHECK_ERR(ops->rmdir(pt, &root_ctx, FB_ROOT_ID, "d"), -ENOTEMPTY);
	CHECK_EQ(ops->unlink(pt, &root_ctx, d.ino, "s"), 0);
	CHECK_EQ(ops->rmdir(pt, &root_ctx, FB_ROOT_ID, "d"), 0);
	CHECK_EQ(ops->unlink(pt, &root_ctx, FB_ROOT_ID, "fifo"), 0);
	CHECK_EQ(ops->unlink(pt, &root_ctx, FB_ROOT_ID, "hard"), 0);

	/* f is still open: its last name is gone, getattr (fstat) must still work. */
	struct stat a;
	double t;
	CHECK_EQ(ops->getattr(pt, &root_ctx, f.ino, NULL, &a, &t), 0);
	CHECK_EQ(a.st_nlink, 0);
	CHECK_EQ(ops->release(pt, &root_ctx, f.ino, fi.fh, O_WRONLY, 0, 0), 0);
	fb_passthrough_free(pt);
}

TEST(setattr_and_xattr)
{
	struct fb_passthrough *pt = fresh();
	struct fb_entry e;
	struct fb_file_info fi;
	struct stat in, out;
	double t;
	char buf[256];
	CHECK(pt);

	CHECK_EQ(ops->create(pt, &root_ctx, FB_ROOT_ID, "f", 0644, O_RDWR | O_CREAT, &e, &fi), 0);
	memset(&in, 0, sizeof(in));
	in.st_mode = 04755;
	in.st_size = 4096;
	in.st_mtim.tv_sec = 1000000;
	CHECK_EQ(ops->setattr(pt, &root_ctx, e.ino, &in,
			      FB_FATTR_SIZE | FB_FATTR_MTIME | FB_FATTR_ATIME_NOW | FB_FATTR_ATIME,
			      NULL, &out, &t),
		 0);
	CHECK_EQ(ops->setattr(pt, &root_ctx, e.ino, &in, FB_FATTR_MODE, NULL, &out, &t), 0);
	CHECK_EQ(out.st_mode & 07777, 04755);
	CHECK_EQ(out.st_size, 4096);
	CHECK_EQ(out.st_mtim.tv_sec, 1000000);
	/* Through the open file, and KILL_SUIDGID. */
	in.st_size = 10;
	CHECK_EQ(ops->setattr(pt, &root_ctx, e.ino, &in,
			      FB_FATTR_SIZE | FB_FATTR_FH | FB_FATTR_KILL_SUIDGID, &fi, &out, &t),
		 0);
	CHECK_EQ(out.st_size, 10);
	CHECK_EQ(out.st_mode & 07777, 0755);
	/* A write the kernel marks KILL_SUIDGID (killpriv_v2) drops set-uid and set-gid. */
	in.st_mode = 06775;
	CHECK_EQ(ops->setattr(pt, &root_ctx, e.ino, &in, FB_FATTR_MODE, NULL, &out, &t), 0);
	CHECK_EQ(out.st_mode & 07777, 06775);
	struct iovec kiov = {(void *)"k", 1};
	struct fb_reader kr;
	fb_reader_init(&kr, &kiov, 1);
	CHECK_EQ(ops->write(pt, &root_ctx, e.ino, fi.fh, &kr, 1, 0, FB_WRITE_KILL_SUIDGID, O_RDWR),
		 1);
	CHECK_EQ(ops->getattr(pt, &root_ctx, e.ino, NULL, &out, &t), 0);
	CHECK_EQ(out.st_mode & 07777, 0775);

	CHECK_EQ(ops->setxattr(pt, &root_ctx, e.ino, "user.k", "v1", 2, 0, 0), 0);
	CHECK_EQ(ops->getxattr(pt, &root_ctx, e.ino, "user.k", NULL, 0), 2);
	CHECK_EQ(ops->getxattr(pt, &root_ctx, e.ino, "user.k", buf, sizeof(buf)), 2);
	CHECK(memcmp(buf, "v1", 2) == 0);
	CHECK_ERR(ops->getxattr(pt, &root_ctx, e.ino, "user.k", buf, 1), -ERANGE);
	int n = ops->listxattr(pt, &root_ctx, e.ino, buf, sizeof(buf));
	CHECK(n >= 7);
	CHECK(memmem(buf, (size_t)n, "user.k", 7) != NULL);
	CHECK_EQ(ops->removexattr(pt, &root_ctx, e.ino, "user.k"), 0);
	CHECK_ERR(ops->getxattr(pt, &root_ctx, e.ino, "user.k", buf, sizeof(buf)), -ENODATA);

	/* fallocate, lseek, copy_file_range */
	CHECK_EQ(ops->fallocate(pt, &root_ctx, e.ino, fi.fh, 0, 0, 8192), 0);
	struct iovec iov = {(void *)"0123456789", 10};
	struct fb_reader rd;
	fb_reader_init(&rd, &iov, 1);
	CHECK_EQ(ops->write(pt, &root_ctx, e.ino, fi.fh, &rd, 10, 0, 0, O_RDWR), 10);
	uint64_t pos = 0, copied = 0;
	CHECK_EQ(ops->lseek(pt, &root_ctx, e.ino, fi.fh, 0, SEEK_DATA, &pos), 0);
	CHECK_EQ(ops->copy_file_range(pt, &root_ctx, e.ino, fi.fh, 0, e.ino, fi.fh, 8192, 100, 0,
				      &copied),
		 0);
	CHECK_EQ(copied, 100);
	CHECK_EQ(ops->access(pt, &root_ctx, e.ino, R_OK | W_OK), 0);
	CHECK_EQ(ops->release(pt, &root_ctx, e.ino, fi.fh, O_RDWR, 0, 0), 0);
	fb_passthrough_free(pt);
}

/* Parse a READDIR(PLUS) reply into names separated by ' ', sorted as listed. */
static int list_dir(struct fb_passthrough *pt, fb_ino_t ino, int plus, char *names, size_t size,
		    fb_ino_t *inos, int max)
{
	struct fb_file_info fi = {0};
	static char reply[65536];
	uint64_t off = 0;
	int count = 0;
	names[0] = '\0';

	if (ops->opendir(pt, &root_ctx, ino, O_RDONLY, &fi) < 0)
		return -1;
	for (;;) {
		struct iovec iov = {reply, 512}; /* small: forces several calls */
		struct fb_writer w;
		struct fb_dirbuf b;
		fb_writer_init(&w, &iov, 1);
		fb__dirbuf_init(&b, &w, 512, plus, 45);
		int r = plus ? ops->readdirplus(pt, &root_ctx, ino, fi.fh, off, &b)
			     : ops->readdir(pt, &root_ctx, ino, fi.fh, off, &b);
		if (r < 0)
			return r;
		size_t len = fb_writer_written(&w), p = 0;
		if (len == 0)
			break;
		while (p < len) {
			struct fb_dirent *d;
			size_t rec;
			if (plus) {
				struct fb_direntplus *dp = (struct fb_direntplus *)(reply + p);
				d = &dp->dirent;
				rec = FB_DIRENTPLUS_SIZE(dp);
				if (inos && count < max)
					inos[count] = dp->entry_out.nodeid;
			} else {
				d = (struct fb_dirent *)(reply + p);
				rec = FB_DIRENT_SIZE(d);
			}
			strncat(names, d->name, d->namelen < 200 ? d->namelen : 200);
			strncat(names, " ", size - strlen(names) - 1);
			off = d->off;
			p += rec;
			count++;
		}
	}
	ops->releasedir(pt, &root_ctx, ino, fi.fh, 0);
	return count;
}

TEST(readdir_and_readdirplus)
{
	struct fb_passthrough *pt = fresh();
	char names[8192];
	fb_ino_t inos[64];
	CHECK(pt);

	for (int i = 0; i < 20; i++) {
		char n[32];
		snprintf(n, sizeof(n), "file-%02d", i);
		put_file(src, n, "x", 0644);
	}
	CHECK_EQ(list_dir(pt, FB_ROOT_ID, 0, names, sizeof(names), NULL, 0), 22);
	CHECK(strstr(names, "file-00 ") && strstr(names, "file-19 "));
	CHECK(strstr(names, ". ") && strstr(names, ".. "));
	CHECK_EQ(fb_passthrough_inode_count(pt), 1); /* plain readdir takes no lookups */

	int n = list_dir(pt, FB_ROOT_ID, 1, names, sizeof(names), inos, 64);
	CHECK_EQ(n, 22);
	CHECK_EQ(fb_passthrough_inode_count(pt), 21); /* one per entry but . and .. */
	for (int i = 0; i < n; i++)
		if (inos[i])
			ops->forget(pt, inos[i], 1);
	CHECK_EQ(fb_passthrough_inode_count(pt), 1);
	CHECK_EQ(fb_passthrough_handle_count(pt), 0);
	fb_passthrough_free(pt);
}

/*
 * Without killpriv_v2 a guest kernel drops set-uid/set-gid before a non-owner's write as a
 * SETATTR of the mode in the writer's name: a writer may drop exactly those bits, nothing else.
 */
TEST(a_writer_may_drop_suid_sgid_and_nothing_else)
{
	if (geteuid() != 0)
		SKIP("needs root");
	struct fb_passthrough *pt = fresh();
	struct fb_ctx nobody = {.uid = 65534, .gid = 65534, .umask = 022};
	struct fb_entry e;
	struct stat in = {0}, out, st;
	char path[PATH_MAX];
	double t;
	CHECK(pt);

	put_file(src, "suid", "x", 06777);
	snprintf(path, sizeof(path), "%s/suid", src);
	CHECK_OK(chmod(path, 06777)); /* past the umask */
	CHECK_EQ(ops->lookup(pt, &nobody, FB_ROOT_ID, "suid", &e), 0);
	/* Anything but dropping the bits stays the owner's. */
	in.st_mode = 06775;
	CHECK_EQ(ops->setattr(pt, &nobody, e.ino, &in, FB_FATTR_MODE, NULL, &out, &t), -EPERM);
	in.st_mode = 07777;
	CHECK_EQ(ops->setattr(pt, &nobody, e.ino, &in, FB_FATTR_MODE, NULL, &out, &t), -EPERM);
	in.st_mode = 04775;
	CHECK_EQ(ops->setattr(pt, &nobody, e.ino, &in, FB_FATTR_MODE, NULL, &out, &t), -EPERM);
	/* Dropping set-uid and set-gid, as the kernel asks before a write: done. */
	in.st_mode = 00777;
	CHECK_EQ(ops->setattr(pt, &nobody, e.ino, &in, FB_FATTR_MODE, NULL, &out, &t), 0);
	CHECK_EQ(out.st_mode & 07777, 0777);
	CHECK_OK(stat(path, &st));
	CHECK_EQ(st.st_mode & 07777, 0777);
	ops->forget(pt, e.ino, 1);

	/* Not for a caller who may not write the file. */
	put_file(src, "ro", "x", 06755);
	snprintf(path, sizeof(path), "%s/ro", src);
	CHECK_OK(chmod(path, 06755));
	CHECK_EQ(ops->lookup(pt, &nobody, FB_ROOT_ID, "ro", &e), 0);
	in.st_mode = 00755;
	CHECK_EQ(ops->setattr(pt, &nobody, e.ino, &in, FB_FATTR_MODE, NULL, &out, &t), -EPERM);
	CHECK_OK(stat(path, &st));
	CHECK_EQ(st.st_mode & 07777, 06755);
	ops->forget(pt, e.ino, 1);
	fb_passthrough_free(pt);
}

/*
 * An exec open (the kernel's __FMODE_EXEC, 0x20, in OPEN's flags) needs execute permission,
 * not read permission: a 0711 program opens for nobody, for reading; a 0700 one does not; a
 * plain read-only open of the 0711 file is still refused.
 */
TEST(exec_open_needs_x_not_r)
{
	if (geteuid() != 0)
		SKIP("needs root");
	struct fb_passthrough *pt = fresh();
	struct fb_ctx nobody = {.uid = 65534, .gid = 65534, .umask = 022};
	struct fb_file_info fi = {0};
	struct fb_entry x, y;
	struct iovec iov;
	struct fb_writer w;
	char buf[16], path[PATH_MAX];
	CHECK(pt);

	put_file(src, "x", "program", 0711);
	put_file(src, "y", "program", 0700);
	snprintf(path, sizeof(path), "%s/x", src);
	CHECK_OK(chmod(path, 0711));
	CHECK_EQ(ops->lookup(pt, &nobody, FB_ROOT_ID, "x", &x), 0);
	CHECK_EQ(ops->lookup(pt, &nobody, FB_ROOT_ID, "y", &y), 0);
	CHECK_ERR(ops->open(pt, &nobody, x.ino, O_RDONLY, &fi), -EACCES);
	CHECK_ERR(ops->open(pt, &nobody, y.ino, O_RDONLY | 0x20, &fi), -EACCES);
	CHECK_EQ(ops->open(pt, &nobody, x.ino, O_RDONLY | O_LARGEFILE | 0x20, &fi), 0);
	iov = (struct iovec){buf, sizeof(buf)};
	fb_writer_init(&w, &iov, 1);
	CHECK_EQ(ops->read(pt, &nobody, x.ino, fi.fh, &w, sizeof(buf), 0, O_RDONLY), 7);
	ops->release(pt, &nobody, x.ino, fi.fh, O_RDONLY, 0, 0);
	ops->forget(pt, x.ino, 1);
	ops->forget(pt, y.ino, 1);
	fb_passthrough_free(pt);
}

/*
 * Below a directory with a default ACL the caller's umask is not applied (the host kernel
 * lets the ACL decide): create, mkdir and mknod by nobody with umask 022 keep 0666 / 0777;
 * elsewhere the umask applies. posix_acl < 0 turns FB_POSIX_ACL on where the source keeps
 * ACLs.
 */
TEST(default_acl_replaces_the_umask)
{
	if (geteuid() != 0)
		SKIP("needs root");
	if (access("/usr/bin/setfacl", X_OK) != 0)
		SKIP("setfacl is missing (package acl)");
	struct fb_passthrough_config cfg;
	struct fb_passthrough *pt = fresh();
	struct fb_ctx nobody = {.uid = 65534, .gid = 65534, .umask = 022};
	struct fb_entry a, e;
	struct fb_file_info fi;
	char cmd[PATH_MAX + 64];
	CHECK(pt);

	if (getxattr(src, "system.posix_acl_access", NULL, 0) < 0 && errno == EOPNOTSUPP) {
		fb_passthrough_free(pt);
		SKIP("the temporary directory's file system has no POSIX ACLs");
	}
	CHECK_EQ(pt->host_acls, 1);
	snprintf(cmd, sizeof(cmd),
		 "mkdir -m 777 '%s/a' && setfacl -d -m u::rwx,g::rwx,o::rwx '%s/a'", src, src);
	CHECK_EQ(system(cmd), 0);
	CHECK_EQ(ops->lookup(pt, &nobody, FB_ROOT_ID, "a", &a), 0);
	CHECK_EQ(ops->create(pt, &nobody, a.ino, "f", 0666, O_RDWR | O_CREAT, &e, &fi), 0);
	CHECK_EQ(e.attr.st_mode & 07777, 0666);
	ops->release(pt, &nobody, e.ino, fi.fh, O_RDWR, 0, 0);
	ops->forget(pt, e.ino, 1);
	CHECK_EQ(ops->mkdir(pt, &nobody, a.ino, "d", 0777, &e), 0);
	CHECK_EQ(e.attr.st_mode & 07777, 0777);
	ops->forget(pt, e.ino, 1);
	CHECK_EQ(ops->mknod(pt, &nobody, a.ino, "p", S_IFIFO | 0666, 0, &e), 0);
	CHECK_EQ(e.attr.st_mode & 07777, 0666);
	ops->forget(pt, e.ino, 1);
	/* No default ACL: the umask applies. */
	CHECK_EQ(ops->create(pt, &nobody, FB_ROOT_ID, "g", 0666, O_RDWR | O_CREAT, &e, &fi), 0);
	CHECK_EQ(e.attr.st_mode & 07777, 0644);
	ops->release(pt, &nobody, e.ino, fi.fh, O_RDWR, 0, 0);
	ops->forget(pt, e.ino, 1);
	ops->forget(pt, a.ino, 1);
	fb_passthrough_free(pt);

	fb_passthrough_config_init(&cfg);
	cfg.source = src;
	CHECK_EQ(cfg.posix_acl, 0);
	cfg.posix_acl = -1;
	CHECK_EQ(fb_passthrough_new(&cfg, &pt), 0);
	CHECK_EQ(pt->cfg.posix_acl, 1);
	fb_passthrough_free(pt);
	cfg.xattr = 0;
	CHECK_EQ(fb_passthrough_new(&cfg, &pt), 0);
	CHECK_EQ(pt->cfg.posix_acl, 0);
	fb_passthrough_free(pt);
}

/* xattrs off: ENOSYS, so that the kernel stops asking (it answers EOPNOTSUPP itself). */
TEST(xattrs_off_answer_enosys)
{
	struct fb_passthrough_config cfg;
	struct fb_passthrough *pt = NULL;
	char buf[64];

	rm_rf(src);
	CHECK_OK(mkdir(src, 0755));
	fb_passthrough_config_init(&cfg);
	cfg.source = src;
	cfg.xattr = 0;
	CHECK_EQ(fb_passthrough_new(&cfg, &pt), 0);
	CHECK_EQ(ops->getxattr(pt, &root_ctx, FB_ROOT_ID, "user.a", buf, sizeof(buf)), -ENOSYS);
	CHECK_EQ(ops->listxattr(pt, &root_ctx, FB_ROOT_ID, buf, sizeof(buf)), -ENOSYS);
	CHECK_EQ(ops->setxattr(pt, &root_ctx, FB_ROOT_ID, "user.a", "v", 1, 0, 0), -ENOSYS);
	CHECK_EQ(ops->removexattr(pt, &root_ctx, FB_ROOT_ID, "user.a"), -ENOSYS);
	fb_passthrough_free(pt);
}

TEST(credentials_are_the_callers)
{
	if (geteuid() != 0)
		SKIP("needs root");
	struct fb_passthrough *pt = fresh();
	struct fb_ctx nobody = {.uid = 65534, .gid = 65534, .umask = 022};
	struct fb_entry e, d;
	struct fb_file_info fi;
	char buf[64];
	CHECK(pt);

	put_file(src, "secret", "root only", 0600);
	CHECK_EQ(ops->lookup(pt, &nobody, FB_ROOT_ID, "secret", &e), 0);
	CHECK_ERR(read_all(pt, &nobody, e.ino, buf, sizeof(buf)), -EACCES);
	CHECK_ERR(ops->access(pt, &nobody, e.ino, R_OK), -EACCES);
	CHECK_EQ(read_all(pt, &root_ctx, e.ino, buf, sizeof(buf)), 9);
	struct stat in = {.st_mode = 0666}, out;
	double t;
	CHECK_ERR(ops->setattr(pt, &nobody, e.ino, &in, FB_FATTR_MODE, NULL, &out, &t), -EPERM);
	CHECK_ERR(ops->unlink(pt, &nobody, FB_ROOT_ID, "secret"), 0); /* src is 0777, no sticky */

	/* New files belong to the caller, with the caller's umask. */
	CHECK_EQ(ops->create(pt, &nobody, FB_ROOT_ID, "mine", 0666, O_RDWR | O_CREAT, &e, &fi), 0);
	CHECK_EQ(e.attr.st_uid, 65534);
	CHECK_EQ(e.attr.st_gid, 65534);
	CHECK_EQ(e.attr.st_mode & 0777, 0644);
	ops->release(pt, &nobody, e.ino, fi.fh, O_RDWR, 0, 0);
	CHECK_EQ(ops->mkdir(pt, &nobody, FB_ROOT_ID, "dir", 0700, &d), 0);
	CHECK_EQ(d.attr.st_uid, 65534);
	/* A private directory of nobody's: root may (DAC override), another user may not. */
	struct fb_ctx other = {.uid = 4242, .gid = 4242, .umask = 022};
	CHECK_ERR(ops->create(pt, &other, d.ino, "x", 0644, O_RDWR | O_CREAT, &e, &fi), -EACCES);
	CHECK_ERR(ops->lookup(pt, &other, d.ino, "x", &e), -EACCES);
	/* Supplementary groups from the request count. */
	uint32_t groups[1] = {4343};
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/grp", src);
	put_file(src, "grp", "group data", 0640);
	CHECK_OK(chown(p, 0, 4343));
	CHECK_EQ(ops->lookup(pt, &other, FB_ROOT_ID, "grp", &e), 0);
	CHECK_ERR(read_all(pt, &other, e.ino, buf, sizeof(buf)), -EACCES);
	struct fb_ctx member = other;
	member.ngroups = 1;
	member.groups = groups;
	CHECK_EQ(read_all(pt, &member, e.ino, buf, sizeof(buf)), 10);
	/* Without groups in the request they come from /proc/PID/status of the caller, if it
	 * still has the request's uid and gid. */
	int pfd[2];
	CHECK_OK(pipe(pfd));
	pid_t child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		gid_t g = 4343;
		char c;
		close(pfd[0]);
		if (setgroups(1, &g) < 0 || setresgid(4242, 4242, 4242) < 0 ||
		    setresuid(4242, 4242, 4242) < 0)
			_exit(1);
		if (write(pfd[1], "r", 1) != 1)
			_exit(1);
		if (read(pfd[1], &c, 1) < 0) /* blocks until killed */
			_exit(0);
		_exit(0);
	}
	close(pfd[1]);
	char ready = 0;
	CHECK_EQ(read(pfd[0], &ready, 1), 1);
	struct fb_ctx proc_caller = other;
	proc_caller.pid = (uint32_t)child;
	int r1 = read_all(pt, &proc_caller, e.ino, buf, sizeof(buf));
	proc_caller.uid = 4243; /* not that process's uid any more: its groups do not count */
	int r2 = read_all(pt, &proc_caller, e.ino, buf, sizeof(buf));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(pfd[0]);
	CHECK_EQ(r1, 10);
	CHECK_EQ(r2, -EACCES);
	/* And this thread is root again afterwards. */
	CHECK_EQ(geteuid(), 0);
	CHECK_EQ(getegid(), 0);
	fb_passthrough_free(pt);
}

/* OPEN of @ino through @srv as uid/gid 4242 from @pid; the reply's error. */
static int open_as(struct fb_server *srv, fb_ino_t ino, uint32_t pid)
{
	struct fb_open_in oi = {.flags = O_RDONLY};
	struct fbreq q = {0};
	struct fbrep p;
	int err;

	fbrep_init(&p, 4096);
	fbreq_start(&q, FB_OPEN, 7, ino);
	fbreq_put(&q, &oi, sizeof(oi));
	fbreq_hdr(&q)->uid = 4242;
	fbreq_hdr(&q)->gid = 4242;
	fbreq_hdr(&q)->pid = pid;
	fbreq_send(srv, &q, &p);
	err = p.ret >= 16 ? p.oh.error : -1000;
	fbreq_free(&q);
	fbrep_free(&p);
	return err;
}

/*
 * A guest's pid names no host process: with FB_TRANSPORT_FOREIGN_PIDS the server passes pid
 * 0 and the passthrough takes no supplementary groups from /proc (here a host process with
 * that pid would have given access).
 */
TEST(foreign_pids_never_reach_proc)
{
	if (geteuid() != 0)
		SKIP("needs root");
	static const struct fb_transport_ops guest = {.size = sizeof(guest),
						      .flags = FB_TRANSPORT_FOREIGN_PIDS};
	struct fb_passthrough *pt = fresh();
	struct fb_server *host = NULL, *vm = NULL;
	struct fb_ctx other = {.uid = 4242, .gid = 4242, .umask = 022};
	struct fb_entry e;
	struct fbrep rep;
	char p[PATH_MAX], ready = 0;
	int pfd[2], r_host, r_vm;
	pid_t child;
	CHECK(pt);

	snprintf(p, sizeof(p), "%s/grp", src);
	put_file(src, "grp", "group data", 0640);
	CHECK_OK(chown(p, 0, 4343));
	CHECK_EQ(fb_server_new(ops, sizeof(*ops), pt, NULL, &host), 0);
	CHECK_EQ(fb_server_new(ops, sizeof(*ops), pt, NULL, &vm), 0);
	fb_server_set_transport(vm, &guest, NULL);
	fbrep_init(&rep, 0);
	CHECK_EQ(fbreq_init_session(host, 45, FBREQ_ALL_FLAGS, &rep), 0);
	CHECK_EQ(fbreq_init_session(vm, 45, FBREQ_ALL_FLAGS, &rep), 0);
	fbrep_free(&rep);
	CHECK_EQ(ops->lookup(pt, &other, FB_ROOT_ID, "grp", &e), 0);

	CHECK_OK(pipe(pfd));
	child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		gid_t g = 4343;
		char c;
		close(pfd[0]);
		if (setgroups(1, &g) < 0 || setresgid(4242, 4242, 4242) < 0 ||
		    setresuid(4242, 4242, 4242) < 0)
			_exit(1);
		if (write(pfd[1], "r", 1) != 1)
			_exit(1);
		if (read(pfd[1], &c, 1) < 0) /* blocks until killed */
			_exit(0);
		_exit(0);
	}
	close(pfd[1]);
	CHECK_EQ(read(pfd[0], &ready, 1), 1);
	r_host = open_as(host, e.ino, (uint32_t)child);
	r_vm = open_as(vm, e.ino, (uint32_t)child);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(pfd[0]);
	CHECK_EQ(r_host, 0);	    /* the host process's groups counted */
	CHECK_EQ(r_vm, -EACCES); /* the guest's "pid" did not */
	fb_server_free(host);
	fb_server_free(vm);
	ops->destroy(pt); /* the open handle */
	fb_passthrough_free(pt);
}

TEST(escape_dotdot_and_names)
{
	struct fb_passthrough *pt = fresh();
	struct fb_entry e;
	struct fb_file_info fi;
	CHECK(pt);

	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "..", &e), 0);
	CHECK_EQ(e.ino, FB_ROOT_ID);
	struct stat st;
	CHECK_OK(stat(src, &st));
	CHECK_EQ(e.attr.st_ino, st.st_ino);
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, ".", &e), 0);
	CHECK_EQ(e.ino, FB_ROOT_ID);

	CHECK_ERR(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "../outside", &e), -ENOENT);
	CHECK_ERR(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "../outside/canary", &e), -ENOENT);
	CHECK_ERR(ops->create(pt, &root_ctx, FB_ROOT_ID, "../outside/canary", 0644,
			      O_RDWR | O_CREAT | O_TRUNC, &e, &fi),
		  -EINVAL);
	CHECK_ERR(ops->create(pt, &root_ctx, FB_ROOT_ID, "..", 0644, O_RDWR | O_CREAT, &e, &fi),
		  -EINVAL);
	CHECK_ERR(ops->mkdir(pt, &root_ctx, FB_ROOT_ID, "a/b", 0755, &e), -EINVAL);
	CHECK_ERR(ops->unlink(pt, &root_ctx, FB_ROOT_ID, "../outside/canary"), -EINVAL);
	CHECK_ERR(ops->rename(pt, &root_ctx, FB_ROOT_ID, "x", FB_ROOT_ID, "../outside/canary", 0),
		  -EINVAL);
	CHECK_ERR(ops->symlink(pt, &root_ctx, "x", FB_ROOT_ID, "..", &e), -EINVAL);
	CHECK(canary_intact());
	fb_passthrough_free(pt);
}

TEST(escape_symlinks_are_not_followed)
{
	struct fb_passthrough *pt = fresh();
	struct fb_entry e, x;
	struct fb_file_info fi;
	char buf[PATH_MAX], p[PATH_MAX];
	CHECK(pt);

	snprintf(p, sizeof(p), "%s/abs", src);
	CHECK_OK(symlink(canary, p));
	snprintf(p, sizeof(p), "%s/rel", src);
	CHECK_OK(symlink("../outside/canary", p));
	snprintf(p, sizeof(p), "%s/dirlink", src);
	CHECK_OK(symlink(outside, p));

	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "abs", &e), 0);
	CHECK(S_ISLNK(e.attr.st_mode));
	CHECK_EQ(ops->readlink(pt, &root_ctx, e.ino, buf, sizeof(buf)), (int)strlen(canary));
	CHECK_ERR(read_all(pt, &root_ctx, e.ino, buf, sizeof(buf)), -ELOOP);
	struct stat in = {.st_mode = 0777, .st_size = 0}, out;
	double t;
	CHECK(ops->setattr(pt, &root_ctx, e.ino, &in, FB_FATTR_SIZE, NULL, &out, &t) < 0);
	CHECK(ops->setattr(pt, &root_ctx, e.ino, &in, FB_FATTR_MODE, NULL, &out, &t) < 0);
	/* chown of the link changes the link, not the target */
	if (geteuid() == 0) {
		struct stat own = {.st_uid = 1, .st_gid = 1};
		CHECK_EQ(ops->setattr(pt, &root_ctx, e.ino, &own, FB_FATTR_UID | FB_FATTR_GID, NULL,
				      &out, &t),
			 0);
		CHECK(S_ISLNK(out.st_mode));
		CHECK_EQ(out.st_uid, 1);
	}

	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "rel", &e), 0);
	CHECK(S_ISLNK(e.attr.st_mode));
	CHECK_ERR(ops->create(pt, &root_ctx, FB_ROOT_ID, "rel", 0644, O_RDWR | O_CREAT | O_TRUNC,
			      &x, &fi),
		  -ELOOP);
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "dirlink", &e), 0);
	CHECK(S_ISLNK(e.attr.st_mode));
	CHECK_ERR(ops->lookup(pt, &root_ctx, e.ino, "canary", &x), -ENOTDIR);
	CHECK_ERR(ops->opendir(pt, &root_ctx, e.ino, O_RDONLY, &fi), -ELOOP);
	CHECK_ERR(ops->create(pt, &root_ctx, e.ino, "new", 0644, O_RDWR | O_CREAT, &x, &fi),
		  -ENOTDIR);
	CHECK_ERR(ops->mkdir(pt, &root_ctx, e.ino, "new", 0755, &x), -ENOTDIR);
	if (geteuid() == 0)
		CHECK_ERR(ops->setxattr(pt, &root_ctx, e.ino, "user.x", "1", 1, 0, 0), -EPERM);
	CHECK(canary_intact());
	struct stat st;
	snprintf(p, sizeof(p), "%s/new", outside);
	CHECK_ERR(stat(p, &st), -ENOENT);
	fb_passthrough_free(pt);
}

TEST(escape_rename_race)
{
	struct fb_passthrough *pt = fresh();
	struct fb_entry d, f, x;
	struct fb_file_info fi;
	char p[PATH_MAX], q[PATH_MAX], buf[64] = {0};
	CHECK(pt);

	snprintf(p, sizeof(p), "%s/d", src);
	CHECK_OK(mkdir(p, 0755));
	put_file(p, "canary", "inside", 0644);
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "d", &d), 0);
	CHECK_EQ(ops->lookup(pt, &root_ctx, d.ino, "canary", &f), 0);

	/* Swap the directory for a symlink to the outside after lookup. */
	snprintf(q, sizeof(q), "%s/d.moved", src);
	CHECK_OK(rename(p, q));
	CHECK_OK(symlink(outside, p));

	/* The looked-up nodes still mean the original objects. */
	CHECK_EQ(read_all(pt, &root_ctx, f.ino, buf, sizeof(buf)), 6);
	CHECK_STR(buf, "inside");
	CHECK_EQ(ops->lookup(pt, &root_ctx, d.ino, "canary", &x), 0);
	CHECK_EQ(x.ino, f.ino);
	CHECK_EQ(ops->create(pt, &root_ctx, d.ino, "new", 0644, O_RDWR | O_CREAT, &x, &fi), 0);
	ops->release(pt, &root_ctx, x.ino, fi.fh, O_RDWR, 0, 0);
	snprintf(q, sizeof(q), "%s/d.moved/new", src);
	struct stat st;
	CHECK_OK(stat(q, &st));
	snprintf(q, sizeof(q), "%s/new", outside);
	CHECK_ERR(stat(q, &st), -ENOENT);
	CHECK_EQ(ops->opendir(pt, &root_ctx, d.ino, O_RDONLY, &fi), 0);
	ops->releasedir(pt, &root_ctx, d.ino, fi.fh, 0);
	/* And a fresh lookup of "d" is the symlink. */
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "d", &x), 0);
	CHECK(S_ISLNK(x.attr.st_mode));
	CHECK(canary_intact());
	fb_passthrough_free(pt);
}

/* Fault injection: replacements for entries of fb__pt_sys. */
static int inject_errno;
static int fail_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	errno = inject_errno;
	return -1;
}
static int fail_statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *out)
{
	errno = inject_errno;
	return -1;
}
static int fail_mkdirat(int dirfd, const char *path, mode_t mode)
{
	errno = inject_errno;
	return -1;
}
static int fail_name_to_handle_at(int dirfd, const char *path, struct file_handle *h, int *mnt_id,
				  int flags)
{
	errno = inject_errno;
	return -1;
}
static ssize_t fail_getdents64(int fd, void *buf, size_t size)
{
	errno = inject_errno;
	return -1;
}

TEST(injected_errors_surface_without_leaks)
{
	struct fb_passthrough *pt = fresh();
	struct fb_entry e;
	struct fb_file_info fi;
	char names[1024];
	CHECK(pt);
	put_file(src, "f", "data", 0644);
	int fds = count_fds();

	int (*real_n2h)(int, const char *, struct file_handle *, int *, int) =
		fb__pt_sys.name_to_handle_at;
	fb__pt_sys.openat = fail_openat;
	inject_errno = EMFILE;
	/* A new name is entered from its file handle without a descriptor; without handles the
	 * lookup opens the name, and that error surfaces. */
	fb__pt_sys.name_to_handle_at = fail_name_to_handle_at;
	CHECK_ERR(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "f", &e), -EMFILE);
	fb__pt_sys.name_to_handle_at = real_n2h;
	CHECK_ERR(ops->create(pt, &root_ctx, FB_ROOT_ID, "g", 0644, O_RDWR | O_CREAT, &e, &fi),
		  -EMFILE);
	inject_errno = EIO;
	CHECK_ERR(ops->opendir(pt, &root_ctx, FB_ROOT_ID, O_RDONLY, &fi), -EIO);
	fb__pt_syscalls_reset();

	fb__pt_sys.statx = fail_statx;
	inject_errno = EIO;
	CHECK_ERR(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "f", &e), -EIO);
	/* Created on the host but not entered: the open file is closed again. */
	CHECK_ERR(ops->create(pt, &root_ctx, FB_ROOT_ID, "g", 0644, O_RDWR | O_CREAT, &e, &fi),
		  -EIO);
	fb__pt_syscalls_reset();

	fb__pt_sys.mkdirat = fail_mkdirat;
	inject_errno = ENOSPC;
	CHECK_ERR(ops->mkdir(pt, &root_ctx, FB_ROOT_ID, "d", 0755, &e), -ENOSPC);
	fb__pt_syscalls_reset();

	/* Without handles the inode falls back to an O_PATH descriptor, and still works. */
	fb__pt_sys.name_to_handle_at = fail_name_to_handle_at;
	inject_errno = EOPNOTSUPP;
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "f", &e), 0);
	fb__pt_syscalls_reset();
	char buf[16];
	CHECK_EQ(read_all(pt, &root_ctx, e.ino, buf, sizeof(buf)), 4);
	ops->forget(pt, e.ino, 1);

	/* With handles a new name needs no descriptor: the lookup works while opens fail, and
	 * the inode reopens from its handle afterwards. */
	if (geteuid() == 0) {
		fb__pt_sys.openat = fail_openat;
		inject_errno = EMFILE;
		CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "f", &e), 0);
		CHECK(S_ISREG(e.attr.st_mode));
		CHECK_EQ(e.attr.st_size, 4);
		fb__pt_syscalls_reset();
		CHECK_EQ(read_all(pt, &root_ctx, e.ino, buf, sizeof(buf)), 4);
		ops->forget(pt, e.ino, 1);
	}

	fb__pt_sys.getdents64 = fail_getdents64;
	inject_errno = EIO;
	CHECK_ERR(list_dir(pt, FB_ROOT_ID, 0, names, sizeof(names), NULL, 0), -EIO);
	fb__pt_syscalls_reset();
	/* list_dir bailed out without releasing: the handle is still counted, release it. */
	CHECK_EQ(fb_passthrough_handle_count(pt), 1);
	fb_passthrough_free(pt);
	pt = fresh();
	CHECK(pt);

	CHECK_EQ(fb_passthrough_inode_count(pt), 1);
	CHECK_EQ(fb_passthrough_handle_count(pt), 0);
	CHECK_EQ(count_fds(), fds);
	fb_passthrough_free(pt);
}

TEST(fd_count_stays_low_with_many_inodes)
{
	if (geteuid() != 0)
		SKIP("file handles need CAP_DAC_READ_SEARCH");
	struct fb_passthrough *pt = fresh();
	struct fb_entry e;
	const int N = 30000;
	char p[PATH_MAX];
	CHECK(pt);

	for (int i = 0; i < N; i++) {
		snprintf(p, sizeof(p), "%s/f%d", src, i);
		int fd = open(p, O_WRONLY | O_CREAT, 0644);
		CHECK(fd >= 0);
		close(fd);
	}
	int before = count_fds();
	for (int i = 0; i < N; i++) {
		snprintf(p, sizeof(p), "f%d", i);
		CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, p, &e), 0);
	}
	CHECK_EQ(fb_passthrough_inode_count(pt), N + 1);
	int during = count_fds();
	CHECK(during - before < 16);
	/* Every node still works, and forgetting them all frees them. */
	struct stat a;
	double t;
	CHECK_EQ(ops->getattr(pt, &root_ctx, e.ino, NULL, &a, &t), 0);
	for (fb_ino_t ino = FB_ROOT_ID + 1; ino <= e.ino; ino++)
		ops->forget(pt, ino, 1);
	CHECK_EQ(fb_passthrough_inode_count(pt), 1);
	fb_passthrough_free(pt);
	rm_rf(src);
}

/*
 * A session ends (DESTROY, or a guest that reboots): every inode but the root and every open
 * handle go, with their descriptors, and a new session works from the root.
 */
/*
 * A daemon stopped while files are open (SIGTERM, no DESTROY from the kernel) frees the file
 * system with handles still open: each handle holds its inode, so the handles go first (under
 * ASan, freeing the inodes first was a use-after-free), and every descriptor is closed.
 */
TEST(free_with_open_handles_and_no_destroy)
{
	int baseline = count_fds();
	struct fb_passthrough *pt = fresh();
	struct fb_conn c = {0};
	struct fb_entry e, ed, eg;
	struct fb_file_info fi = {0}, fd_fi = {0}, fu = {0};
	char p[PATH_MAX];
	CHECK(pt);

	put_file(src, "f", "data", 0644);
	put_file(src, "gone", "x", 0644);
	snprintf(p, sizeof(p), "%s/d", src);
	CHECK_OK(mkdir(p, 0755));
	CHECK_EQ(ops->init(pt, &c), 0);
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "f", &e), 0);
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "d", &ed), 0);
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "gone", &eg), 0);
	CHECK_EQ(ops->open(pt, &root_ctx, e.ino, O_RDWR, &fi), 0);
	CHECK_EQ(ops->opendir(pt, &root_ctx, ed.ino, O_RDONLY, &fd_fi), 0);
	CHECK_EQ(ops->open(pt, &root_ctx, eg.ino, O_RDONLY, &fu), 0);
	CHECK_EQ(ops->unlink(pt, &root_ctx, FB_ROOT_ID, "gone"), 0);
	/* the kernel forgets the names but the files stay open */
	ops->forget(pt, e.ino, 1);
	ops->forget(pt, eg.ino, 1);
	CHECK_EQ(fb_passthrough_handle_count(pt), 3);
	fb_passthrough_free(pt);
	CHECK_EQ(count_fds(), baseline);
}

TEST(destroy_drops_every_inode_and_handle)
{
	struct fb_passthrough *pt = fresh();
	struct fb_conn c = {0};
	struct fb_entry e, ed, en;
	struct fb_file_info fi = {0}, fd_fi = {0}, fu = {0};
	struct stat a;
	double t;
	char buf[16] = {0};
	int baseline;
	CHECK(pt);

	put_file(src, "f", "data", 0644);
	put_file(src, "gone", "x", 0644);
	{
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/d", src);
		CHECK_OK(mkdir(p, 0755));
		put_file(p, "inner", "in", 0644);
	}
	CHECK_EQ(ops->init(pt, &c), 0);
	baseline = count_fds();
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "f", &e), 0);
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "f", &e), 0);
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "d", &ed), 0);
	CHECK_EQ(ops->lookup(pt, &root_ctx, ed.ino, "inner", &en), 0);
	CHECK_EQ(ops->open(pt, &root_ctx, e.ino, O_RDWR, &fi), 0);
	CHECK_EQ(ops->opendir(pt, &root_ctx, ed.ino, O_RDONLY, &fd_fi), 0);
	/* an open file whose name is gone (pinned by an O_PATH descriptor) */
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "gone", &e), 0);
	CHECK_EQ(ops->open(pt, &root_ctx, e.ino, O_RDONLY, &fu), 0);
	CHECK_EQ(ops->unlink(pt, &root_ctx, FB_ROOT_ID, "gone"), 0);
	CHECK_EQ(fb_passthrough_inode_count(pt), 5);
	CHECK_EQ(fb_passthrough_handle_count(pt), 3);
	CHECK(count_fds() >= baseline + 3);

	ops->destroy(pt);
	CHECK_EQ(fb_passthrough_inode_count(pt), 1);
	CHECK_EQ(fb_passthrough_handle_count(pt), 0);
	CHECK_EQ(count_fds(), baseline);
	/* nothing of the old session answers */
	CHECK_ERR(ops->getattr(pt, &root_ctx, en.ino, NULL, &a, &t), -ESTALE);
	CHECK_ERR(ops->fsync(pt, &root_ctx, e.ino, fi.fh, 0), -EBADF);

	/* a second session */
	CHECK_EQ(ops->init(pt, &c), 0);
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "f", &e), 0);
	CHECK(e.ino > en.ino); /* node ids are not reused */
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(read_all(pt, &root_ctx, e.ino, buf, sizeof(buf)), 4);
	CHECK_STR(buf, "data");
	CHECK_EQ(ops->getattr(pt, &root_ctx, FB_ROOT_ID, NULL, &a, &t), 0);
	ops->destroy(pt);
	CHECK_EQ(count_fds(), baseline);
	fb_passthrough_free(pt);
}

/* A transport with a DAX window that records what it is asked to map. */
static struct {
	int maps, unmaps;
	struct stat st;		/* of the fd it was given */
	int accmode;
	uint64_t foffset, moffset, len, flags;
} dax;

static int dax_map(void *priv, int fd, uint64_t foffset, uint64_t moffset, uint64_t len,
		   uint64_t flags)
{
	(void)priv;
	dax.maps++;
	if (fstat(fd, &dax.st) < 0)
		return -errno;
	dax.accmode = fcntl(fd, F_GETFL) & O_ACCMODE;
	dax.foffset = foffset;
	dax.moffset = moffset;
	dax.len = len;
	dax.flags = flags;
	return 0;
}

static int dax_unmap(void *priv, uint64_t moffset, uint64_t len)
{
	(void)priv;
	dax.unmaps++;
	dax.moffset = moffset;
	dax.len = len;
	return 0;
}

TEST(setupmapping_maps_the_open_file)
{
	static const struct fb_transport_ops t = {.size = sizeof(t),
						  .caps = FB_MAP_ALIGNMENT,
						  .dax_map = dax_map,
						  .dax_unmap = dax_unmap};
	const uint64_t R = FB_SETUPMAPPING_FLAG_READ, W = FB_SETUPMAPPING_FLAG_WRITE;
	struct fb_passthrough *pt = fresh();
	struct fb_server *srv = NULL;
	struct fb_ctx ctx = root_ctx;
	struct fb_file_info fr = {0}, fw = {0}, fd = {0};
	struct fb_mapping m[2] = {{0, 4096}, {1 << 21, 1 << 21}};
	struct fb_entry e, e2;
	struct fbrep rep;
	char p[PATH_MAX];
	struct stat st;
	CHECK(pt);

	put_file(src, "f", "data", 0644);
	put_file(src, "g", "other", 0644);
	CHECK_EQ(fb_server_new(ops, sizeof(*ops), pt, NULL, &srv), 0);
	fb_server_set_transport(srv, &t, NULL);
	fbrep_init(&rep, 0);
	CHECK_EQ(fbreq_init_session(srv, 45, FBREQ_ALL_FLAGS, &rep), 0);
	fbrep_free(&rep);
	CHECK(fb_server_conn(srv)->want & FB_MAP_ALIGNMENT);
	ctx.server = srv;

	CHECK_EQ(ops->lookup(pt, &ctx, FB_ROOT_ID, "f", &e), 0);
	CHECK_EQ(ops->lookup(pt, &ctx, FB_ROOT_ID, "g", &e2), 0);
	CHECK_EQ(ops->open(pt, &ctx, e.ino, O_RDONLY, &fr), 0);
	CHECK_EQ(ops->open(pt, &ctx, e.ino, O_RDWR, &fw), 0);
	CHECK_EQ(ops->opendir(pt, &ctx, FB_ROOT_ID, O_RDONLY, &fd), 0);

	CHECK_EQ(ops->setupmapping(pt, &ctx, e.ino, fr.fh, 4096, 8192, R, 1 << 21), 0);
	CHECK_EQ(dax.maps, 1);
	snprintf(p, sizeof(p), "%s/f", src);
	CHECK_OK(stat(p, &st));
	CHECK_EQ(dax.st.st_ino, st.st_ino); /* the right file */
	CHECK_EQ(dax.st.st_dev, st.st_dev);
	CHECK_EQ(dax.accmode, O_RDONLY);
	CHECK_EQ(dax.foffset, 4096);
	CHECK_EQ(dax.moffset, 1 << 21);
	CHECK_EQ(dax.len, 8192);
	CHECK_EQ(dax.flags, R);
	CHECK_EQ(ops->setupmapping(pt, &ctx, e.ino, fw.fh, 0, 4096, R | W, 0), 0);
	CHECK_EQ(dax.maps, 2);
	CHECK_EQ(dax.flags, R | W);

	/* refused before the VMM hears of it */
	CHECK_ERR(ops->setupmapping(pt, &ctx, e.ino, fr.fh, 0, 4096, R | W, 0), -EACCES);
	CHECK_ERR(ops->setupmapping(pt, &ctx, e.ino, 12345, 0, 4096, R, 0), -EBADF);
	CHECK_ERR(ops->setupmapping(pt, &ctx, e2.ino, fr.fh, 0, 4096, R, 0), -EBADF);
	CHECK_ERR(ops->setupmapping(pt, &ctx, FB_ROOT_ID, fd.fh, 0, 4096, R, 0), -EBADF);
	CHECK_ERR(ops->setupmapping(pt, &ctx, e.ino, fr.fh, 0, 0, R, 0), -EINVAL);
	CHECK_ERR(ops->setupmapping(pt, &ctx, e.ino, fr.fh, 0, 4096, 0, 0), -EINVAL);
	CHECK_ERR(ops->setupmapping(pt, &ctx, e.ino, fr.fh, 0, 4096, R | 4, 0), -EINVAL);
	CHECK_ERR(ops->setupmapping(pt, &ctx, e.ino, fr.fh, UINT64_MAX - 10, 4096, R, 0),
		  -EINVAL);
	CHECK_ERR(ops->setupmapping(pt, &ctx, e.ino, fr.fh, 0, 4096, R, UINT64_MAX - 10),
		  -EINVAL);
	CHECK_EQ(dax.maps, 2);

	CHECK_EQ(ops->removemapping(pt, &ctx, m, 2), 0);
	CHECK_EQ(dax.unmaps, 2);
	CHECK_EQ(dax.moffset, 1 << 21);
	CHECK_EQ(dax.len, 1 << 21);

	/* without a server (or a window) there is nothing to map into */
	CHECK_ERR(ops->setupmapping(pt, &root_ctx, e.ino, fr.fh, 0, 4096, R, 0), -EOPNOTSUPP);
	CHECK_ERR(ops->removemapping(pt, &root_ctx, m, 1), -EOPNOTSUPP);
	fb_server_free(srv);
	ops->destroy(pt);
	fb_passthrough_free(pt);
}

TEST(submount_inside_the_source)
{
	if (geteuid() != 0)
		SKIP("mounting a tmpfs needs root");
	struct fb_passthrough_config cfg;
	struct fb_passthrough *pt = fresh();
	struct fb_entry sub, f, x;
	struct fb_file_info fi;
	char p[PATH_MAX], buf[16] = {0};
	CHECK(pt);
	fb_passthrough_free(pt);

	snprintf(p, sizeof(p), "%s/sub", src);
	CHECK_OK(mkdir(p, 0755));
	if (mount("fb-pt-unit", p, "tmpfs", 0, "size=1m") < 0)
		SKIP("cannot mount a tmpfs: %s", strerror(errno));
	fb_passthrough_config_init(&cfg);
	cfg.source = src;
	cfg.submounts = 1;
	int r = fb_passthrough_new(&cfg, &pt);
	if (r < 0)
		umount2(p, MNT_DETACH);
	CHECK_EQ(r, 0);
	struct fb_conn conn = {.capable = ~0ULL};
	CHECK_EQ(ops->init(pt, &conn), 0);
	CHECK(conn.want & FB_SUBMOUNTS);

	r = ops->lookup(pt, &root_ctx, FB_ROOT_ID, "sub", &sub);
	if (r == 0)
		r = ops->create(pt, &root_ctx, sub.ino, "f", 0644, O_RDWR | O_CREAT, &f, &fi);
	umount2(p, MNT_DETACH); /* lazily: the instance still holds the mount's descriptor */
	CHECK_EQ(r, 0);
	CHECK(sub.attr_flags & FB_ATTR_SUBMOUNT);
	struct iovec iov = {(void *)"tmpfs", 5};
	struct fb_reader rd;
	fb_reader_init(&rd, &iov, 1);
	CHECK_EQ(ops->write(pt, &root_ctx, f.ino, fi.fh, &rd, 5, 0, 0, O_RDWR), 5);
	ops->release(pt, &root_ctx, f.ino, fi.fh, O_RDWR, 0, 0);
	/* Reopened from its handle on the tmpfs mount's descriptor. */
	CHECK_EQ(read_all(pt, &root_ctx, f.ino, buf, sizeof(buf)), 5);
	CHECK_STR(buf, "tmpfs");
	CHECK_EQ(ops->lookup(pt, &root_ctx, sub.ino, "f", &x), 0);
	CHECK_EQ(x.ino, f.ino);
	CHECK(!(x.attr_flags & FB_ATTR_SUBMOUNT));
	fb_passthrough_free(pt);
}

TEST(locks_are_per_open_file)
{
	struct fb_passthrough *pt = fresh();
	struct fb_entry e;
	struct fb_file_info a, b;
	CHECK(pt);

	CHECK_EQ(ops->create(pt, &root_ctx, FB_ROOT_ID, "l", 0644, O_RDWR | O_CREAT, &e, &a), 0);
	CHECK_EQ(ops->open(pt, &root_ctx, e.ino, O_RDWR, &b), 0);
	struct fb_lock lk = {.start = 0, .end = 99, .type = F_WRLCK};
	CHECK_EQ(ops->setlk(pt, &root_ctx, e.ino, a.fh, 1, &lk, 0), 0);
	CHECK_ERR(ops->setlk(pt, &root_ctx, e.ino, b.fh, 2, &lk, 0), -EAGAIN);
	struct fb_lock q = {.start = 50, .end = UINT64_MAX, .type = F_RDLCK};
	CHECK_EQ(ops->getlk(pt, &root_ctx, e.ino, b.fh, 2, &q), 0);
	CHECK_EQ(q.type, F_WRLCK);
	CHECK_EQ(q.start, 0);
	CHECK_EQ(q.end, 99);
	CHECK_EQ(ops->flock(pt, &root_ctx, e.ino, a.fh, 1, LOCK_EX | LOCK_NB), 0);
	CHECK_ERR(ops->flock(pt, &root_ctx, e.ino, b.fh, 2, LOCK_EX | LOCK_NB), -EWOULDBLOCK);
	/* Releasing the first open drops its locks. */
	ops->release(pt, &root_ctx, e.ino, a.fh, O_RDWR, 0, 0);
	CHECK_EQ(ops->setlk(pt, &root_ctx, e.ino, b.fh, 2, &lk, 0), 0);
	CHECK_EQ(ops->flock(pt, &root_ctx, e.ino, b.fh, 2, LOCK_EX | LOCK_NB), 0);
	ops->release(pt, &root_ctx, e.ino, b.fh, O_RDWR, 0, 0);
	/* A stale or forged handle is refused. */
	struct fb_lock z = lk;
	CHECK_ERR(ops->setlk(pt, &root_ctx, e.ino, a.fh, 1, &z, 0), -EBADF);
	CHECK_ERR(ops->flush(pt, &root_ctx, e.ino, 0x12345678, 0), -EBADF);
	fb_passthrough_free(pt);
}

/*
 * On a local source (the tests' /tmp) close() of a host duplicate does nothing: opens say
 * FOPEN_NOFLUSH and the kernel sends no FLUSH. Host locks need FLUSH, so posix_locks keeps it.
 */
TEST(noflush_on_local_source_unless_host_locks)
{
	struct fb_passthrough_config cfg;
	struct fb_passthrough *pt;
	struct fb_conn conn;
	struct fb_file_info fi;
	struct fb_entry e;
	struct statfs sfs;

	pt = fresh(); /* the source directory */
	CHECK(pt);
	fb_passthrough_free(pt);
	CHECK_EQ(statfs(src, &sfs), 0);
	if (sfs.f_type != 0x01021994 && sfs.f_type != 0xEF53)
		SKIP("the test directory is on neither tmpfs nor ext4");
	for (int locks = 0; locks <= 1; locks++) {
		fb_passthrough_config_init(&cfg);
		cfg.source = src;
		cfg.posix_locks = locks;
		CHECK_EQ(fb_passthrough_new(&cfg, &pt), 0);
		conn = (struct fb_conn){.capable = ~0ULL, .want = 0};
		CHECK_EQ(ops->init(pt, &conn), 0);
		fi = (struct fb_file_info){0};
		CHECK_EQ(ops->create(pt, &root_ctx, FB_ROOT_ID, locks ? "l" : "n", 0644,
				     O_RDWR | O_CREAT, &e, &fi), 0);
		CHECK_EQ(!!(fi.open_flags & FB_FOPEN_NOFLUSH), !locks);
		ops->release(pt, &root_ctx, e.ino, fi.fh, O_RDWR, 0, 0);
		fi = (struct fb_file_info){0};
		CHECK_EQ(ops->open(pt, &root_ctx, e.ino, O_RDONLY, &fi), 0);
		CHECK_EQ(!!(fi.open_flags & FB_FOPEN_NOFLUSH), !locks);
		/* A FLUSH that comes anyway (writeback cache) still works. */
		CHECK_EQ(ops->flush(pt, &root_ctx, e.ino, fi.fh, 0), 0);
		ops->release(pt, &root_ctx, e.ino, fi.fh, O_RDONLY, 0, 0);
		ops->forget(pt, e.ino, 1);
		fb_passthrough_free(pt);
	}
}

TEST(tmpfile_and_config)
{
	struct fb_passthrough *pt = fresh();
	struct fb_entry e;
	struct fb_file_info fi;
	enum fb_passthrough_cache c;
	CHECK(pt);

	CHECK_EQ(ops->tmpfile(pt, &root_ctx, FB_ROOT_ID, 0600, O_RDWR, &e, &fi), 0);
	CHECK(S_ISREG(e.attr.st_mode));
	CHECK_EQ(e.attr.st_nlink, 0);
	struct stat a;
	double t;
	CHECK_EQ(ops->getattr(pt, &root_ctx, e.ino, NULL, &a, &t), 0);
	ops->release(pt, &root_ctx, e.ino, fi.fh, O_RDWR, 0, 0);
	ops->forget(pt, e.ino, 1);
	fb_passthrough_free(pt);

	CHECK_EQ(fb_passthrough_cache_parse("never", &c), 0);
	CHECK_EQ(c, FB_PT_CACHE_NEVER);
	CHECK_EQ(fb_passthrough_cache_parse("always", &c), 0);
	CHECK_EQ(c, FB_PT_CACHE_ALWAYS);
	CHECK_ERR(fb_passthrough_cache_parse("sometimes", &c), -EINVAL);

	struct fb_passthrough_config cfg;
	fb_passthrough_config_init(&cfg);
	CHECK_ERR(fb_passthrough_new(&cfg, &pt), -EINVAL);
	cfg.source = canary;
	CHECK_ERR(fb_passthrough_new(&cfg, &pt), -ENOTDIR);
	cfg.source = "/nonexistent/fb-pt";
	CHECK_ERR(fb_passthrough_new(&cfg, &pt), -ENOENT);

	/* cache=never: direct I/O, timeouts 0, no FUSE passthrough. */
	cfg.source = src;
	cfg.cache = FB_PT_CACHE_NEVER;
	CHECK_EQ(fb_passthrough_new(&cfg, &pt), 0);
	struct fb_conn conn = {.capable = ~0ULL, .want = 0};
	CHECK_EQ(ops->init(pt, &conn), 0);
	CHECK(!(conn.want & FB_PASSTHROUGH));
	CHECK(conn.want & FB_DO_READDIRPLUS);
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, ".", &e), 0);
	CHECK_EQ(e.entry_timeout, 0);
	CHECK_ERR(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "nope", &e), -ENOENT);
	put_file(src, "n", "x", 0644);
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "n", &e), 0);
	CHECK_EQ(ops->open(pt, &root_ctx, e.ino, O_RDONLY, &fi), 0);
	CHECK(fi.open_flags & FB_FOPEN_DIRECT_IO);
	ops->release(pt, &root_ctx, e.ino, fi.fh, O_RDONLY, 0, 0);
	fb_passthrough_free(pt);

	/* writeback excludes passthrough; O_WRONLY opens become O_RDWR; no_open answers ENOSYS */
	cfg.cache = FB_PT_CACHE_ALWAYS;
	cfg.writeback = 1;
	cfg.no_open = 1;
	CHECK_EQ(fb_passthrough_new(&cfg, &pt), 0);
	conn = (struct fb_conn){.capable = ~0ULL, .want = 0};
	CHECK_EQ(ops->init(pt, &conn), 0);
	CHECK(conn.want & FB_WRITEBACK_CACHE);
	CHECK(!(conn.want & FB_PASSTHROUGH));
	CHECK(conn.want & FB_NO_OPEN_SUPPORT);
	CHECK_ERR(ops->open(pt, &root_ctx, FB_ROOT_ID, O_RDONLY, &fi), -ENOSYS);
	CHECK_EQ(ops->lookup(pt, &root_ctx, FB_ROOT_ID, "n", &e), 0);
	CHECK_EQ(e.entry_timeout, 86400);
	/* read without a handle opens the file for the request */
	char buf[8];
	struct iovec iov = {buf, sizeof(buf)};
	struct fb_writer w;
	fb_writer_init(&w, &iov, 1);
	CHECK_EQ(ops->read(pt, &root_ctx, e.ino, 0, &w, sizeof(buf), 0, O_RDONLY), 1);
	/* Nothing keeps an unlinked, unopened file alive for its handle: it is pinned. */
	CHECK_EQ(ops->unlink(pt, &root_ctx, FB_ROOT_ID, "n"), 0);
	CHECK_EQ(ops->getattr(pt, &root_ctx, e.ino, NULL, &a, &t), 0);
	CHECK_EQ(a.st_nlink, 0);
	fb_writer_init(&w, &iov, 1);
	CHECK_EQ(ops->read(pt, &root_ctx, e.ino, 0, &w, sizeof(buf), 0, O_RDONLY), 1);
	fb_passthrough_free(pt);

	/* passthrough is asked for by default when offered */
	fb_passthrough_config_init(&cfg);
	cfg.source = src;
	CHECK_EQ(fb_passthrough_new(&cfg, &pt), 0);
	conn = (struct fb_conn){.capable = ~0ULL, .want = 0};
	CHECK_EQ(ops->init(pt, &conn), 0);
	CHECK(conn.want & FB_PASSTHROUGH);
	CHECK(conn.max_stack_depth >= 1);
	fb_passthrough_free(pt);
}

TEST_MAIN()
