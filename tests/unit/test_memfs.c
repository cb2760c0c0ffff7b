/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * memfs, in-process: the operations table is called directly with hand-made contexts, as the
 * server would call it. Covers data and holes, names and rename, lookup counts and freeing,
 * xattrs, permissions as a non-root caller, limits, hostile arguments and threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/xattr.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/buf.h>
#include <fuse_backend/memfs.h>

#include "api/server_i.h"
#include "harness.h"

#define OPS fb_memfs_ops
#define ROOT FB_ROOT_ID

static const struct fb_ctx root_ctx = { .uid = 0, .gid = 0, .umask = 022 };

/* A non-root caller. */
static struct fb_ctx user(uint32_t uid, uint32_t gid)
{
	return (struct fb_ctx){ .uid = uid, .gid = gid, .umask = 022 };
}

static struct fb_memfs *new_fs(void)
{
	struct fb_memfs *m = NULL;

	CHECK_ERR(fb_memfs_new(NULL, &m), 0);
	return m;
}

static int wr(struct fb_memfs *m, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
	      const void *data, size_t len, uint64_t off, uint32_t wflags)
{
	struct iovec iov = { (void *)data, len };
	struct fb_reader r;

	fb_reader_init(&r, &iov, 1);
	return OPS.write(m, ctx, ino, fh, &r, (uint32_t)len, off, wflags, O_RDWR);
}

static int rd(struct fb_memfs *m, fb_ino_t ino, uint64_t fh, void *buf, size_t len,
	      uint64_t off)
{
	struct iovec iov = { buf, len };
	struct fb_writer w;

	fb_writer_init(&w, &iov, 1);
	return OPS.read(m, &root_ctx, ino, fh, &w, (uint32_t)len, off, O_RDONLY);
}

/* Create and open a regular file; returns its ino, the handle in *fh. */
static fb_ino_t mkfile(struct fb_memfs *m, const struct fb_ctx *ctx, fb_ino_t parent,
		       const char *name, mode_t mode, uint64_t *fh)
{
	struct fb_entry e;
	struct fb_file_info fi;

	CHECK_ERR(OPS.create(m, ctx, parent, name, mode, O_CREAT | O_RDWR, &e, &fi), 0);
	CHECK(e.ino > ROOT);
	*fh = fi.fh;
	return e.ino;
}

static fb_ino_t mkdir_(struct fb_memfs *m, const struct fb_ctx *ctx, fb_ino_t parent,
		       const char *name, mode_t mode)
{
	struct fb_entry e;

	CHECK_ERR(OPS.mkdir(m, ctx, parent, name, mode, &e), 0);
	CHECK(S_ISDIR(e.attr.st_mode));
	return e.ino;
}

static struct stat getattr(struct fb_memfs *m, fb_ino_t ino)
{
	struct stat st;
	double t;

	CHECK_ERR(OPS.getattr(m, &root_ctx, ino, NULL, &st, &t), 0);
	return st;
}

/* Look @name up; returns its ino (taking a lookup) or a negative errno. */
static long long lookup(struct fb_memfs *m, const struct fb_ctx *ctx, fb_ino_t parent,
			const char *name)
{
	struct fb_entry e;
	int r = OPS.lookup(m, ctx, parent, name, &e);

	return r < 0 ? r : (long long)e.ino;
}

static int setattr(struct fb_memfs *m, const struct fb_ctx *ctx, fb_ino_t ino,
		   const struct stat *in, uint32_t valid)
{
	struct stat out;
	double t;

	return OPS.setattr(m, ctx, ino, in, valid, NULL, &out, &t);
}

static int set_size(struct fb_memfs *m, fb_ino_t ino, uint64_t size)
{
	struct stat in = { .st_size = (off_t)size };

	return setattr(m, &root_ctx, ino, &in, FB_FATTR_SIZE);
}

static int chmod_(struct fb_memfs *m, const struct fb_ctx *ctx, fb_ino_t ino, mode_t mode)
{
	struct stat in = { .st_mode = mode };

	return setattr(m, ctx, ino, &in, FB_FATTR_MODE);
}

static int chown_(struct fb_memfs *m, const struct fb_ctx *ctx, fb_ino_t ino, uid_t uid,
		  gid_t gid)
{
	struct stat in = { .st_uid = uid, .st_gid = gid };

	return setattr(m, ctx, ino, &in, FB_FATTR_UID | FB_FATTR_GID);
}

/* Unlink + forget every lookup + release: the inode must be gone. */
static void drop_file(struct fb_memfs *m, fb_ino_t parent, const char *name, fb_ino_t ino,
		      uint64_t nlookup, uint64_t fh)
{
	CHECK_ERR(OPS.unlink(m, &root_ctx, parent, name), 0);
	OPS.forget(m, ino, nlookup);
	CHECK_ERR(OPS.release(m, &root_ctx, ino, fh, O_RDWR, 0, 0), 0);
}

/* ------------------------------------------------------------------------------------------ */

TEST(empty_fs_has_root_only)
{
	struct fb_memfs *m = new_fs();
	struct stat st = getattr(m, ROOT);
	struct statvfs sv;

	CHECK_EQ(st.st_ino, ROOT);
	CHECK_EQ(st.st_mode, S_IFDIR | 0755);
	CHECK_EQ(st.st_nlink, 2);
	CHECK_EQ(st.st_uid, 0);
	CHECK_EQ(fb_memfs_inode_count(m), 1);
	CHECK_EQ(fb_memfs_bytes_used(m), 0);
	CHECK_ERR(OPS.statfs(m, &root_ctx, ROOT, &sv), 0);
	CHECK_EQ(sv.f_blocks, (1ULL << 30) / 4096);
	CHECK_EQ(sv.f_bfree, sv.f_blocks);
	CHECK_EQ(sv.f_files, 1 << 20);
	CHECK_EQ(sv.f_ffree, (1 << 20) - 1);
	CHECK_EQ(sv.f_namemax, 255);
	CHECK_ERR(lookup(m, &root_ctx, ROOT, "nothing"), -ENOENT);
	CHECK_ERR(lookup(m, &root_ctx, 12345, "x"), -ENOENT);
	fb_memfs_free(m);
	fb_memfs_free(NULL);
}

/*
 * The session ends (DESTROY, a guest that reboots): the kernel's lookups and handles go, and
 * with them the inodes that only lived for the kernel; the files stay for the next session.
 */
TEST(destroy_drops_lookups_and_handles_keeps_files)
{
	struct fb_memfs *m = new_fs();
	struct fb_entry e, d;
	struct fb_file_info fi;
	uint64_t fh, fh_gone;
	fb_ino_t f, gone;
	char buf[8] = {0};
	uint64_t bytes;

	f = mkfile(m, &root_ctx, ROOT, "f", 0644, &fh);
	CHECK_EQ(wr(m, &root_ctx, f, fh, "data", 4, 0, 0), 4);
	gone = mkfile(m, &root_ctx, ROOT, "gone", 0644, &fh_gone);
	CHECK_EQ(wr(m, &root_ctx, gone, fh_gone, "xxxxxxxx", 8, 0, 0), 8);
	CHECK_ERR(OPS.unlink(m, &root_ctx, ROOT, "gone"), 0);
	CHECK_ERR(OPS.mkdir(m, &root_ctx, ROOT, "d", 0755, &d), 0);
	CHECK_ERR(OPS.lookup(m, &root_ctx, ROOT, "f", &e), 0);
	CHECK_EQ(fb_memfs_inode_count(m), 4);
	CHECK_EQ(fb_memfs_handle_count(m), 2);
	bytes = fb_memfs_bytes_used(m);

	OPS.destroy(m);
	CHECK_EQ(fb_memfs_handle_count(m), 0);
	CHECK_EQ(fb_memfs_inode_count(m), 3); /* root, f, d: "gone" went with its handle */
	CHECK(fb_memfs_bytes_used(m) < bytes);
	CHECK_ERR(OPS.release(m, &root_ctx, f, fh, O_RDWR, 0, 0), -EBADF);

	/* the next session finds the files, and their lookups count from zero */
	CHECK_ERR(OPS.lookup(m, &root_ctx, ROOT, "f", &e), 0);
	CHECK_EQ(e.ino, f);
	CHECK_ERR(OPS.open(m, &root_ctx, f, O_RDONLY, &fi), 0);
	CHECK_EQ(rd(m, f, fi.fh, buf, 4, 0), 4);
	CHECK(memcmp(buf, "data", 4) == 0);
	CHECK_ERR(OPS.release(m, &root_ctx, f, fi.fh, O_RDONLY, 0, 0), 0);
	CHECK_ERR(OPS.lookup(m, &root_ctx, ROOT, "gone", &e), -ENOENT);
	/* one forget of the new lookup, then unlinking, frees it: no old count keeps it */
	OPS.forget(m, f, 1);
	CHECK_ERR(OPS.unlink(m, &root_ctx, ROOT, "f"), 0);
	CHECK_EQ(fb_memfs_inode_count(m), 2);
	fb_memfs_free(m);
}

TEST(config_sets_root_and_limits)
{
	struct fb_memfs_config cfg = { .root_uid = 7, .root_gid = 8, .root_mode = 01777,
				       .max_bytes = 1 << 20, .max_inodes = 10 };
	struct fb_memfs *m;
	struct statvfs sv;
	struct stat st;

	CHECK_ERR(fb_memfs_new(&cfg, &m), 0);
	st = getattr(m, ROOT);
	CHECK_EQ(st.st_mode, S_IFDIR | 01777);
	CHECK_EQ(st.st_uid, 7);
	CHECK_EQ(st.st_gid, 8);
	CHECK_ERR(OPS.statfs(m, &root_ctx, ROOT, &sv), 0);
	CHECK_EQ(sv.f_blocks, 256);
	CHECK_EQ(sv.f_files, 10);
	fb_memfs_free(m);
	cfg.attr_timeout = -1;
	CHECK_ERR(fb_memfs_new(&cfg, &m), -EINVAL);
}

TEST(write_read_holes_truncate)
{
	struct fb_memfs *m = new_fs();
	uint64_t fh;
	fb_ino_t ino = mkfile(m, &root_ctx, ROOT, "f", 0644, &fh);
	char buf[16384];
	struct stat st;
	uint64_t base = fb_memfs_bytes_used(m);	/* the name "f" */

	CHECK_EQ(wr(m, &root_ctx, ino, fh, "hello", 5, 0, 0), 5);
	CHECK_EQ(rd(m, ino, fh, buf, sizeof(buf), 0), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	/* A write far past the end leaves a hole that reads as zeros and costs nothing. */
	CHECK_EQ(wr(m, &root_ctx, ino, fh, "world", 5, 3 * 4096 + 10, 0), 5);
	st = getattr(m, ino);
	CHECK_EQ(st.st_size, 3 * 4096 + 15);
	CHECK_EQ(st.st_blocks, 2 * 8);
	CHECK_EQ(fb_memfs_bytes_used(m) - base, 2 * 4096);
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(rd(m, ino, fh, buf, sizeof(buf), 0), 3 * 4096 + 15);
	CHECK(memcmp(buf, "hello", 5) == 0);
	for (int i = 5; i < 3 * 4096 + 10; i++)
		CHECK_EQ(buf[i], 0);
	CHECK(memcmp(buf + 3 * 4096 + 10, "world", 5) == 0);
	/* Reads at and past the end, and of size 0, return nothing. */
	CHECK_EQ(rd(m, ino, fh, buf, 10, 3 * 4096 + 15), 0);
	CHECK_EQ(rd(m, ino, fh, buf, 10, UINT64_MAX), 0);
	CHECK_EQ(rd(m, ino, fh, buf, 0, 0), 0);
	CHECK_EQ(rd(m, ino, fh, buf, 3, 1), 3);
	CHECK(memcmp(buf, "ell", 3) == 0);

	/* Shrink, then grow again: the cut-off bytes must not come back. */
	CHECK_ERR(set_size(m, ino, 3), 0);
	CHECK_EQ(fb_memfs_bytes_used(m) - base, 4096);
	CHECK_ERR(set_size(m, ino, 8192), 0);
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(rd(m, ino, fh, buf, sizeof(buf), 0), 8192);
	CHECK(memcmp(buf, "hel\0\0\0", 6) == 0);
	CHECK_EQ(buf[8191], 0);
	CHECK_EQ(getattr(m, ino).st_size, 8192);
	CHECK_ERR(set_size(m, ino, 0), 0);
	CHECK_EQ(fb_memfs_bytes_used(m) - base, 0);

	/* O_TRUNC on open truncates. */
	struct fb_file_info fi;

	CHECK_EQ(wr(m, &root_ctx, ino, fh, "abc", 3, 0, 0), 3);
	CHECK_ERR(OPS.open(m, &root_ctx, ino, O_WRONLY | O_TRUNC, &fi), 0);
	CHECK_EQ(getattr(m, ino).st_size, 0);
	CHECK_ERR(OPS.release(m, &root_ctx, ino, fi.fh, O_WRONLY, 0, 0), 0);
	drop_file(m, ROOT, "f", ino, 1, fh);
	CHECK_EQ(fb_memfs_inode_count(m), 1);
	fb_memfs_free(m);
}

TEST(lseek_data_and_hole)
{
	struct fb_memfs *m = new_fs();
	uint64_t fh, out = 0;
	fb_ino_t ino = mkfile(m, &root_ctx, ROOT, "f", 0644, &fh);

	/* data in page 0 and page 3, size 5 pages: D H H D H */
	CHECK_EQ(wr(m, &root_ctx, ino, fh, "a", 1, 0, 0), 1);
	CHECK_EQ(wr(m, &root_ctx, ino, fh, "b", 1, 3 * 4096 + 5, 0), 1);
	CHECK_ERR(set_size(m, ino, 5 * 4096), 0);

	CHECK_ERR(OPS.lseek(m, &root_ctx, ino, fh, 0, SEEK_DATA, &out), 0);
	CHECK_EQ(out, 0);
	CHECK_ERR(OPS.lseek(m, &root_ctx, ino, fh, 0, SEEK_HOLE, &out), 0);
	CHECK_EQ(out, 4096);
	CHECK_ERR(OPS.lseek(m, &root_ctx, ino, fh, 100, SEEK_DATA, &out), 0);
	CHECK_EQ(out, 100);
	CHECK_ERR(OPS.lseek(m, &root_ctx, ino, fh, 4096, SEEK_DATA, &out), 0);
	CHECK_EQ(out, 3 * 4096);
	CHECK_ERR(OPS.lseek(m, &root_ctx, ino, fh, 5000, SEEK_HOLE, &out), 0);
	CHECK_EQ(out, 5000);
	CHECK_ERR(OPS.lseek(m, &root_ctx, ino, fh, 3 * 4096, SEEK_HOLE, &out), 0);
	CHECK_EQ(out, 4 * 4096);
	CHECK_ERR(OPS.lseek(m, &root_ctx, ino, fh, 4 * 4096, SEEK_DATA, &out), -ENXIO);
	CHECK_ERR(OPS.lseek(m, &root_ctx, ino, fh, 4 * 4096 + 1, SEEK_HOLE, &out), 0);
	CHECK_EQ(out, 4 * 4096 + 1);
	CHECK_ERR(OPS.lseek(m, &root_ctx, ino, fh, 5 * 4096, SEEK_DATA, &out), -ENXIO);
	CHECK_ERR(OPS.lseek(m, &root_ctx, ino, fh, 5 * 4096, SEEK_HOLE, &out), -ENXIO);
	CHECK_ERR(OPS.lseek(m, &root_ctx, ino, fh, UINT64_MAX, SEEK_HOLE, &out), -ENXIO);
	CHECK_ERR(OPS.lseek(m, &root_ctx, ino, fh, 0, SEEK_END, &out), -EINVAL);
	/* A file of data only: the hole is at the end. */
	CHECK_ERR(set_size(m, ino, 100), 0);
	CHECK_ERR(OPS.lseek(m, &root_ctx, ino, fh, 0, SEEK_HOLE, &out), 0);
	CHECK_EQ(out, 100);
	drop_file(m, ROOT, "f", ino, 1, fh);
	fb_memfs_free(m);
}

TEST(fallocate_modes)
{
	struct fb_memfs *m = new_fs();
	uint64_t fh, out;
	fb_ino_t ino = mkfile(m, &root_ctx, ROOT, "f", 0644, &fh);
	char buf[3 * 4096];
	uint64_t base = fb_memfs_bytes_used(m);

	CHECK_ERR(OPS.fallocate(m, &root_ctx, ino, fh, 0, 0, 3 * 4096), 0);
	CHECK_EQ(getattr(m, ino).st_size, 3 * 4096);
	CHECK_EQ(getattr(m, ino).st_blocks, 3 * 8);
	CHECK_ERR(OPS.fallocate(m, &root_ctx, ino, fh, FALLOC_FL_KEEP_SIZE, 0, 5 * 4096), 0);
	CHECK_EQ(getattr(m, ino).st_size, 3 * 4096);
	CHECK_EQ(fb_memfs_bytes_used(m) - base, 5 * 4096);
	/* Allocated past the end is still not data. */
	CHECK_ERR(OPS.lseek(m, &root_ctx, ino, fh, 3 * 4096 - 1, SEEK_HOLE, &out), 0);
	CHECK_EQ(out, 3 * 4096);

	memset(buf, 'z', sizeof(buf));
	CHECK_EQ(wr(m, &root_ctx, ino, fh, buf, sizeof(buf), 0, 0), (int)sizeof(buf));
	/* Punch from the middle of page 0 to the middle of page 2: page 1 goes away. */
	CHECK_ERR(OPS.fallocate(m, &root_ctx, ino, fh, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				100, 2 * 4096), 0);
	CHECK_EQ(getattr(m, ino).st_size, 3 * 4096);
	CHECK_EQ(fb_memfs_bytes_used(m) - base, 4 * 4096);
	CHECK_EQ(rd(m, ino, fh, buf, sizeof(buf), 0), (int)sizeof(buf));
	CHECK_EQ(buf[99], 'z');
	for (int i = 100; i < 100 + 2 * 4096; i++)
		CHECK_EQ(buf[i], 0);
	CHECK_EQ(buf[100 + 2 * 4096], 'z');
	CHECK_ERR(OPS.lseek(m, &root_ctx, ino, fh, 0, SEEK_HOLE, &out), 0);
	CHECK_EQ(out, 4096);

	CHECK_ERR(OPS.fallocate(m, &root_ctx, ino, fh, FALLOC_FL_PUNCH_HOLE, 0, 10), -EOPNOTSUPP);
	CHECK_ERR(OPS.fallocate(m, &root_ctx, ino, fh, FALLOC_FL_ZERO_RANGE, 0, 10), -EOPNOTSUPP);
	CHECK_ERR(OPS.fallocate(m, &root_ctx, ino, fh, FALLOC_FL_COLLAPSE_RANGE, 0, 4096),
		  -EOPNOTSUPP);
	CHECK_ERR(OPS.fallocate(m, &root_ctx, ino, fh, 0, 0, 0), -EINVAL);
	CHECK_ERR(OPS.fallocate(m, &root_ctx, ROOT, 0, 0, 0, 10), -EISDIR);
	drop_file(m, ROOT, "f", ino, 1, fh);
	CHECK_EQ(fb_memfs_bytes_used(m), 0);
	fb_memfs_free(m);
}

TEST(huge_offsets_are_refused)
{
	struct fb_memfs *m = new_fs();
	uint64_t fh, copied;
	fb_ino_t ino = mkfile(m, &root_ctx, ROOT, "f", 0644, &fh);
	struct stat in = { .st_size = INT64_MAX };
	uint64_t base = fb_memfs_bytes_used(m);

	CHECK_ERR(wr(m, &root_ctx, ino, fh, "x", 1, UINT64_MAX, 0), -EFBIG);
	CHECK_ERR(wr(m, &root_ctx, ino, fh, "xy", 2, (1ULL << 30) - 1, 0), -EFBIG);
	CHECK_EQ(wr(m, &root_ctx, ino, fh, "x", 1, (1ULL << 30) - 1, 0), 1);
	CHECK_EQ(getattr(m, ino).st_size, 1 << 30);
	CHECK_EQ(getattr(m, ino).st_blocks, 8);
	CHECK_ERR(OPS.fallocate(m, &root_ctx, ino, fh, 0, UINT64_MAX - 10, 100), -EFBIG);
	CHECK_ERR(OPS.fallocate(m, &root_ctx, ino, fh, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				10, UINT64_MAX), -EFBIG);
	CHECK_ERR(setattr(m, &root_ctx, ino, &in, FB_FATTR_SIZE), -EFBIG);
	CHECK_ERR(OPS.copy_file_range(m, &root_ctx, ino, fh, 0, ino, fh, UINT64_MAX - 1, 10, 0,
				      &copied), -EFBIG);
	CHECK_EQ(rd(m, ino, fh, &in, 1, UINT64_MAX - 1), 0);
	/* 1 GiB file, one page allocated. */
	CHECK_EQ(fb_memfs_bytes_used(m) - base, 4096);
	drop_file(m, ROOT, "f", ino, 1, fh);
	fb_memfs_free(m);
}

TEST(names_rules)
{
	struct fb_memfs *m = new_fs();
	struct fb_entry e;
	char name[300];

	memset(name, 'n', sizeof(name));
	name[256] = '\0';
	CHECK_ERR(OPS.mkdir(m, &root_ctx, ROOT, name, 0755, &e), -ENAMETOOLONG);
	CHECK_ERR(lookup(m, &root_ctx, ROOT, name), -ENAMETOOLONG);
	name[255] = '\0';
	CHECK_ERR(OPS.mkdir(m, &root_ctx, ROOT, name, 0755, &e), 0);
	CHECK_EQ(lookup(m, &root_ctx, ROOT, name), e.ino);
	CHECK_ERR(OPS.mkdir(m, &root_ctx, ROOT, name, 0755, &e), -EEXIST);
	CHECK_ERR(OPS.mkdir(m, &root_ctx, ROOT, "a/b", 0755, &e), -EINVAL);
	CHECK_ERR(OPS.mkdir(m, &root_ctx, ROOT, "", 0755, &e), -EINVAL);
	CHECK_ERR(OPS.mkdir(m, &root_ctx, ROOT, ".", 0755, &e), -EEXIST);
	CHECK_ERR(OPS.mkdir(m, &root_ctx, ROOT, "..", 0755, &e), -EEXIST);
	CHECK_ERR(OPS.mknod(m, &root_ctx, ROOT, "\x01\xff odd", S_IFREG | 0644, 0, &e), 0);
	CHECK_EQ(lookup(m, &root_ctx, ROOT, "\x01\xff odd"), e.ino);
	/* Creating in a file or in an unknown inode. */
	CHECK_ERR(OPS.mkdir(m, &root_ctx, e.ino, "x", 0755, &e), -ENOTDIR);
	CHECK_ERR(OPS.mkdir(m, &root_ctx, 999999, "x", 0755, &e), -ENOENT);
	fb_memfs_free(m);
}

TEST(mkdir_rmdir_unlink_and_link_counts)
{
	struct fb_memfs *m = new_fs();
	struct fb_entry e;
	fb_ino_t d = mkdir_(m, &root_ctx, ROOT, "d", 0755);
	fb_ino_t sub = mkdir_(m, &root_ctx, d, "sub", 0755);

	CHECK_EQ(getattr(m, ROOT).st_nlink, 3);
	CHECK_EQ(getattr(m, d).st_nlink, 3);
	CHECK_EQ(getattr(m, sub).st_nlink, 2);
	CHECK_EQ(lookup(m, &root_ctx, sub, ".."), d);
	CHECK_EQ(lookup(m, &root_ctx, sub, "."), sub);
	CHECK_EQ(lookup(m, &root_ctx, ROOT, ".."), ROOT);
	CHECK_ERR(OPS.rmdir(m, &root_ctx, ROOT, "d"), -ENOTEMPTY);
	CHECK_ERR(OPS.unlink(m, &root_ctx, d, "sub"), -EISDIR);
	CHECK_ERR(OPS.mknod(m, &root_ctx, d, "file", S_IFREG | 0644, 0, &e), 0);
	CHECK_ERR(OPS.rmdir(m, &root_ctx, d, "file"), -ENOTDIR);
	CHECK_ERR(OPS.rmdir(m, &root_ctx, d, "."), -EINVAL);
	CHECK_ERR(OPS.rmdir(m, &root_ctx, d, ".."), -ENOTEMPTY);
	CHECK_ERR(OPS.rmdir(m, &root_ctx, d, "none"), -ENOENT);

	/* Hard links. */
	struct fb_entry l;

	CHECK_ERR(OPS.link(m, &root_ctx, e.ino, ROOT, "hard", &l), 0);
	CHECK_EQ(l.ino, e.ino);
	CHECK_EQ(l.attr.st_nlink, 2);
	CHECK_ERR(OPS.link(m, &root_ctx, e.ino, ROOT, "hard", &l), -EEXIST);
	CHECK_ERR(OPS.link(m, &root_ctx, d, ROOT, "dirlink", &l), -EPERM);
	CHECK_ERR(OPS.unlink(m, &root_ctx, d, "file"), 0);
	CHECK_EQ(getattr(m, e.ino).st_nlink, 1);
	CHECK_ERR(OPS.unlink(m, &root_ctx, ROOT, "hard"), 0);
	CHECK_EQ(getattr(m, e.ino).st_nlink, 0);
	/* Unlinked but still looked up (2 lookups): alive until forgotten. */
	CHECK_ERR(OPS.link(m, &root_ctx, e.ino, ROOT, "back", &l), -ENOENT);
	CHECK_EQ(fb_memfs_inode_count(m), 4);
	OPS.forget(m, e.ino, 1);
	CHECK_EQ(fb_memfs_inode_count(m), 4);
	OPS.forget(m, e.ino, 1);
	CHECK_EQ(fb_memfs_inode_count(m), 3);

	CHECK_ERR(OPS.rmdir(m, &root_ctx, d, "sub"), 0);
	CHECK_EQ(getattr(m, d).st_nlink, 2);
	/* The removed directory lives on while looked up, but nothing can be made in it. */
	CHECK_ERR(OPS.mkdir(m, &root_ctx, sub, "x", 0755, &e), -ENOENT);
	CHECK_ERR(lookup(m, &root_ctx, sub, ".."), -ENOENT);
	OPS.forget(m, sub, 3);
	CHECK_ERR(OPS.rmdir(m, &root_ctx, ROOT, "d"), 0);
	CHECK_EQ(getattr(m, ROOT).st_nlink, 2);
	OPS.forget(m, d, 2);
	CHECK_EQ(fb_memfs_inode_count(m), 1);
	/* Forgetting more than was given, or unknown inodes, is harmless. */
	OPS.forget(m, d, 100);
	OPS.forget(m, ROOT, UINT64_MAX);
	OPS.forget(m, 0, 1);
	CHECK_EQ(getattr(m, ROOT).st_ino, ROOT);
	fb_memfs_free(m);
}

TEST(link_count_limit)
{
	struct fb_memfs *m = new_fs();
	struct fb_entry e, l;
	char name[32];

	CHECK_ERR(OPS.mknod(m, &root_ctx, ROOT, "f", S_IFREG | 0644, 0, &e), 0);
	for (int i = 1; i < 65000; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		CHECK_ERR(OPS.link(m, &root_ctx, e.ino, ROOT, name, &l), 0);
	}
	CHECK_EQ(getattr(m, e.ino).st_nlink, 65000);
	CHECK_ERR(OPS.link(m, &root_ctx, e.ino, ROOT, "one-too-many", &l), -EMLINK);
	OPS.forget(m, e.ino, 65000);
	CHECK_EQ(fb_memfs_inode_count(m), 2);
	fb_memfs_free(m);
}

TEST(symlinks_and_special_nodes)
{
	struct fb_memfs *m = new_fs();
	struct fb_ctx u = user(1000, 1000);
	struct fb_entry e;
	char buf[64], target[5000];

	CHECK_ERR(OPS.symlink(m, &root_ctx, "some/where", ROOT, "ln", &e), 0);
	CHECK(S_ISLNK(e.attr.st_mode));
	CHECK_EQ(e.attr.st_mode & 07777, 0777);
	CHECK_EQ(e.attr.st_size, 10);
	CHECK_EQ(OPS.readlink(m, &root_ctx, e.ino, buf, sizeof(buf)), 10);
	CHECK(memcmp(buf, "some/where", 10) == 0);
	/* The target and the name are charged. */
	CHECK(fb_memfs_bytes_used(m) >= 10 + 3);
	memset(target, 'a', sizeof(target));
	target[sizeof(target) - 1] = '\0';
	CHECK_ERR(OPS.symlink(m, &root_ctx, target, ROOT, "long", &e), -ENAMETOOLONG);

	CHECK_ERR(OPS.mknod(m, &root_ctx, ROOT, "fifo", S_IFIFO | 0600, 0, &e), 0);
	CHECK(S_ISFIFO(e.attr.st_mode));
	CHECK_ERR(OPS.readlink(m, &root_ctx, e.ino, buf, sizeof(buf)), -EINVAL);
	CHECK_ERR(OPS.mknod(m, &root_ctx, ROOT, "sock", S_IFSOCK | 0600, 0, &e), 0);
	CHECK(S_ISSOCK(e.attr.st_mode));
	CHECK_ERR(OPS.mknod(m, &root_ctx, ROOT, "null", S_IFCHR | 0666, makedev(1, 3), &e), 0);
	CHECK(S_ISCHR(e.attr.st_mode));
	CHECK_EQ(e.attr.st_rdev, makedev(1, 3));
	CHECK_ERR(OPS.mknod(m, &root_ctx, ROOT, "blk", S_IFBLK | 0600, makedev(8, 0), &e), 0);
	CHECK(S_ISBLK(e.attr.st_mode));
	CHECK_ERR(OPS.mknod(m, &root_ctx, ROOT, "bad", S_IFDIR | 0600, 0, &e), -EINVAL);

	fb_ino_t d = mkdir_(m, &root_ctx, ROOT, "pub", 0777);

	CHECK_ERR(chmod_(m, &root_ctx, d, 0777), 0);
	CHECK_ERR(OPS.mknod(m, &u, d, "dev", S_IFCHR | 0666, makedev(1, 3), &e), -EPERM);
	CHECK_ERR(OPS.mknod(m, &u, d, "fifo", S_IFIFO | 0666, 0, &e), 0);
	CHECK_EQ(e.attr.st_mode & 07777, 0644);
	fb_memfs_free(m);
}

TEST(rename_moves_and_replaces)
{
	struct fb_memfs *m = new_fs();
	uint64_t fh1, fh2;
	fb_ino_t a = mkdir_(m, &root_ctx, ROOT, "a", 0755);
	fb_ino_t b = mkdir_(m, &root_ctx, ROOT, "b", 0755);
	fb_ino_t f1 = mkfile(m, &root_ctx, a, "f1", 0644, &fh1);
	fb_ino_t f2 = mkfile(m, &root_ctx, b, "f2", 0644, &fh2);

	CHECK_ERR(OPS.rename(m, &root_ctx, a, "f1", b, "moved", 0), 0);
	CHECK_ERR(lookup(m, &root_ctx, a, "f1"), -ENOENT);
	CHECK_EQ(lookup(m, &root_ctx, b, "moved"), f1);
	/* Replacing f2: its inode goes once its lookups and handle are gone. */
	CHECK_ERR(OPS.rename(m, &root_ctx, b, "moved", b, "f2", 0), 0);
	CHECK_EQ(lookup(m, &root_ctx, b, "f2"), f1);
	CHECK_EQ(getattr(m, f2).st_nlink, 0);
	OPS.forget(m, f2, 1);
	CHECK_EQ(fb_memfs_inode_count(m), 5);
	CHECK_ERR(OPS.release(m, &root_ctx, f2, fh2, O_RDWR, 0, 0), 0);
	CHECK_EQ(fb_memfs_inode_count(m), 4);
	CHECK_ERR(OPS.release(m, &root_ctx, f2, fh2, O_RDWR, 0, 0), -EBADF);

	/* Moving a directory fixes "..", and both parents' link counts. */
	fb_ino_t sub = mkdir_(m, &root_ctx, a, "sub", 0755);

	CHECK_EQ(getattr(m, a).st_nlink, 3);
	CHECK_ERR(OPS.rename(m, &root_ctx, a, "sub", b, "sub", 0), 0);
	CHECK_EQ(getattr(m, a).st_nlink, 2);
	CHECK_EQ(getattr(m, b).st_nlink, 3);
	CHECK_EQ(lookup(m, &root_ctx, sub, ".."), b);

	/* Renaming a name onto another name of the same inode does nothing. */
	struct fb_entry l;

	CHECK_ERR(OPS.link(m, &root_ctx, f1, b, "f1link", &l), 0);
	CHECK_ERR(OPS.rename(m, &root_ctx, b, "f2", b, "f1link", 0), 0);
	CHECK_EQ(lookup(m, &root_ctx, b, "f2"), f1);
	CHECK_EQ(lookup(m, &root_ctx, b, "f1link"), f1);
	CHECK_EQ(getattr(m, f1).st_nlink, 2);
	CHECK_ERR(OPS.release(m, &root_ctx, f1, fh1, O_RDWR, 0, 0), 0);
	fb_memfs_free(m);
}

TEST(rename_errors_and_flags)
{
	struct fb_memfs *m = new_fs();
	struct fb_entry e;
	fb_ino_t a = mkdir_(m, &root_ctx, ROOT, "a", 0755);
	fb_ino_t sub = mkdir_(m, &root_ctx, a, "sub", 0755);
	fb_ino_t full = mkdir_(m, &root_ctx, ROOT, "full", 0755);
	fb_ino_t empty = mkdir_(m, &root_ctx, ROOT, "empty", 0755);

	CHECK_ERR(OPS.mknod(m, &root_ctx, full, "x", S_IFREG | 0644, 0, &e), 0);
	CHECK_ERR(OPS.mknod(m, &root_ctx, ROOT, "file", S_IFREG | 0644, 0, &e), 0);
	fb_ino_t file = e.ino;

	CHECK_ERR(OPS.rename(m, &root_ctx, ROOT, "none", ROOT, "x", 0), -ENOENT);
	CHECK_ERR(OPS.rename(m, &root_ctx, ROOT, "a", a, "in", 0), -EINVAL);
	CHECK_ERR(OPS.rename(m, &root_ctx, ROOT, "a", sub, "in", 0), -EINVAL);
	CHECK_ERR(OPS.rename(m, &root_ctx, ROOT, "a", ROOT, "full", 0), -ENOTEMPTY);
	CHECK_ERR(OPS.rename(m, &root_ctx, ROOT, "a", ROOT, "file", 0), -ENOTDIR);
	CHECK_ERR(OPS.rename(m, &root_ctx, ROOT, "file", ROOT, "empty", 0), -EISDIR);
	CHECK_ERR(OPS.rename(m, &root_ctx, ROOT, "file", ROOT, "a", RENAME_NOREPLACE), -EEXIST);
	CHECK_ERR(OPS.rename(m, &root_ctx, ROOT, "file", ROOT, "new",
			     RENAME_NOREPLACE | RENAME_EXCHANGE), -EINVAL);
	CHECK_ERR(OPS.rename(m, &root_ctx, ROOT, "file", ROOT, "new", RENAME_WHITEOUT), -EINVAL);
	CHECK_ERR(OPS.rename(m, &root_ctx, ROOT, "file", ROOT, "new", RENAME_EXCHANGE), -ENOENT);
	CHECK_ERR(OPS.rename(m, &root_ctx, ROOT, "file", file, "new", 0), -ENOTDIR);
	CHECK_ERR(OPS.rename(m, &root_ctx, ROOT, "file", ROOT, "..", 0), -EBUSY);
	CHECK_ERR(OPS.rename(m, &root_ctx, ROOT, "file", ROOT, "new", RENAME_NOREPLACE), 0);

	/* Replacing an empty directory with a directory. */
	CHECK_ERR(OPS.rename(m, &root_ctx, a, "sub", ROOT, "empty", 0), 0);
	CHECK_EQ(lookup(m, &root_ctx, ROOT, "empty"), sub);
	CHECK_EQ(getattr(m, empty).st_nlink, 0);
	CHECK_EQ(getattr(m, ROOT).st_nlink, 5);	/* a, full, empty(=sub) + 2 */
	CHECK_EQ(getattr(m, a).st_nlink, 2);

	/* EXCHANGE a directory with a file in another directory. */
	CHECK_ERR(OPS.rename(m, &root_ctx, ROOT, "empty", full, "x", RENAME_EXCHANGE), 0);
	CHECK(S_ISREG(getattr(m, lookup(m, &root_ctx, ROOT, "empty")).st_mode));
	CHECK_EQ(lookup(m, &root_ctx, full, "x"), sub);
	CHECK_EQ(lookup(m, &root_ctx, sub, ".."), full);
	CHECK_EQ(getattr(m, full).st_nlink, 3);
	CHECK_EQ(getattr(m, ROOT).st_nlink, 4);
	/* EXCHANGE a directory with its own ancestor is a loop. */
	CHECK_ERR(OPS.rename(m, &root_ctx, ROOT, "full", full, "x", RENAME_EXCHANGE), -EINVAL);
	/* EXCHANGE two directories. */
	CHECK_ERR(OPS.rename(m, &root_ctx, ROOT, "a", full, "x", RENAME_EXCHANGE), 0);
	CHECK_EQ(lookup(m, &root_ctx, ROOT, "a"), sub);
	CHECK_EQ(lookup(m, &root_ctx, full, "x"), a);
	CHECK_EQ(lookup(m, &root_ctx, a, ".."), full);
	CHECK_EQ(lookup(m, &root_ctx, sub, ".."), ROOT);
	fb_memfs_free(m);
}

TEST(lookup_counts_and_freeing)
{
	struct fb_memfs *m = new_fs();
	uint64_t fh;
	fb_ino_t ino = mkfile(m, &root_ctx, ROOT, "f", 0644, &fh);
	char data[10000] = { 1 };

	CHECK_EQ(wr(m, &root_ctx, ino, fh, data, sizeof(data), 0, 0), (int)sizeof(data));
	CHECK_EQ(lookup(m, &root_ctx, ROOT, "f"), ino);		/* lookups: 2 */
	CHECK_EQ(fb_memfs_inode_count(m), 2);
	CHECK_EQ(fb_memfs_handle_count(m), 1);
	CHECK_ERR(OPS.unlink(m, &root_ctx, ROOT, "f"), 0);
	OPS.forget(m, ino, 2);
	/* Still open: reads work. */
	CHECK_EQ(fb_memfs_inode_count(m), 2);
	CHECK_EQ(rd(m, ino, fh, data, 1, 0), 1);
	CHECK_EQ(data[0], 1);
	CHECK_ERR(OPS.release(m, &root_ctx, ino, fh, O_RDWR, 0, 0), 0);
	CHECK_EQ(fb_memfs_inode_count(m), 1);
	CHECK_EQ(fb_memfs_handle_count(m), 0);
	CHECK_EQ(fb_memfs_bytes_used(m), 0);
	/* The ino is not reused, and the old one is gone. */
	CHECK_ERR(OPS.getattr(m, &root_ctx, ino, NULL, &(struct stat){ 0 }, &(double){ 0 }),
		  -ENOENT);
	CHECK(mkfile(m, &root_ctx, ROOT, "g", 0644, &fh) > ino);
	CHECK_ERR(OPS.release(m, &root_ctx, 77, 987654, O_RDWR, 0, 0), -EBADF);
	fb_memfs_free(m);
}

TEST(tmpfile_and_linkat)
{
	struct fb_memfs *m = new_fs();
	struct fb_entry e, l;
	struct fb_file_info fi;

	CHECK_ERR(OPS.tmpfile(m, &root_ctx, ROOT, 0600, O_RDWR, &e, &fi), 0);
	CHECK_EQ(e.attr.st_nlink, 0);
	CHECK_EQ(fb_memfs_inode_count(m), 2);
	CHECK_EQ(wr(m, &root_ctx, e.ino, fi.fh, "tmp", 3, 0, 0), 3);
	CHECK_ERR(OPS.link(m, &root_ctx, e.ino, ROOT, "named", &l), 0);
	CHECK_EQ(l.attr.st_nlink, 1);
	CHECK_ERR(OPS.release(m, &root_ctx, e.ino, fi.fh, O_RDWR, 0, 0), 0);
	OPS.forget(m, e.ino, 2);
	CHECK_EQ(fb_memfs_inode_count(m), 2);	/* it has a name now */

	/* O_EXCL: never linkable; gone at release. */
	CHECK_ERR(OPS.tmpfile(m, &root_ctx, ROOT, 0600, O_RDWR | O_EXCL, &e, &fi), 0);
	CHECK_ERR(OPS.link(m, &root_ctx, e.ino, ROOT, "excl", &l), -ENOENT);
	OPS.forget(m, e.ino, 1);
	CHECK_EQ(fb_memfs_inode_count(m), 3);
	CHECK_ERR(OPS.release(m, &root_ctx, e.ino, fi.fh, O_RDWR, 0, 0), 0);
	CHECK_EQ(fb_memfs_inode_count(m), 2);
	fb_memfs_free(m);
}

TEST(copy_file_range_keeps_holes)
{
	struct fb_memfs *m = new_fs();
	uint64_t fa, fb, copied = 0;
	fb_ino_t a = mkfile(m, &root_ctx, ROOT, "a", 0644, &fa);
	fb_ino_t b = mkfile(m, &root_ctx, ROOT, "b", 0644, &fb);
	char buf[5 * 4096];

	CHECK_EQ(wr(m, &root_ctx, a, fa, "head", 4, 0, 0), 4);
	CHECK_EQ(wr(m, &root_ctx, a, fa, "tail", 4, 4 * 4096, 0), 4);
	CHECK_ERR(OPS.copy_file_range(m, &root_ctx, a, fa, 0, b, fb, 10, 1 << 20, 0, &copied), 0);
	CHECK_EQ(copied, 4 * 4096 + 4);
	CHECK_EQ(getattr(m, b).st_size, 10 + 4 * 4096 + 4);
	CHECK_EQ(getattr(m, b).st_blocks, 3 * 8);	/* pages 0 and 4, 4 spills into 5 */
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(rd(m, b, fb, buf, sizeof(buf), 0), 10 + 4 * 4096 + 4);
	CHECK_EQ(buf[9], 0);
	CHECK_EQ(buf[14], 0);
	CHECK(memcmp(buf + 10, "head", 4) == 0);
	CHECK(memcmp(buf + 10 + 4 * 4096, "ta", 2) == 0);
	CHECK_ERR(OPS.copy_file_range(m, &root_ctx, a, fa, 0, a, fa, 2, 4, 0, &copied), -EINVAL);
	CHECK_ERR(OPS.copy_file_range(m, &root_ctx, a, fa, 0, b, fb, 0, 4, 1, &copied), -EINVAL);
	/* Same file, ranges apart. */
	CHECK_ERR(OPS.copy_file_range(m, &root_ctx, a, fa, 0, a, fa, 100, 4, 0, &copied), 0);
	CHECK_EQ(copied, 4);
	CHECK_EQ(rd(m, a, fa, buf, 4, 100), 4);
	CHECK(memcmp(buf, "head", 4) == 0);
	/* Past the end of the source: nothing. */
	CHECK_ERR(OPS.copy_file_range(m, &root_ctx, a, fa, 1 << 20, b, fb, 0, 4, 0, &copied), 0);
	CHECK_EQ(copied, 0);
	copied = 1;
	CHECK_ERR(OPS.copy_file_range(m, &root_ctx, a, fa, UINT64_MAX, b, fb, 0, 4, 0, &copied),
		  0);
	CHECK_EQ(copied, 0);
	CHECK_ERR(OPS.copy_file_range(m, &root_ctx, ROOT, 0, 0, b, fb, 0, 4, 0, &copied), -EISDIR);
	fb_memfs_free(m);
}

TEST(xattrs)
{
	struct fb_memfs *m = new_fs();
	struct fb_ctx u = user(1000, 1000);
	uint64_t fh;
	fb_ino_t ino = mkfile(m, &root_ctx, ROOT, "f", 0644, &fh);
	char buf[256];
	struct fb_entry e;

	CHECK_ERR(OPS.getxattr(m, &root_ctx, ino, "user.a", buf, sizeof(buf)), -ENODATA);
	CHECK_ERR(OPS.setxattr(m, &root_ctx, ino, "user.a", "value", 5, 0, 0), 0);
	CHECK_EQ(OPS.getxattr(m, &root_ctx, ino, "user.a", NULL, 0), 5);
	CHECK_ERR(OPS.getxattr(m, &root_ctx, ino, "user.a", buf, 4), -ERANGE);
	CHECK_EQ(OPS.getxattr(m, &root_ctx, ino, "user.a", buf, sizeof(buf)), 5);
	CHECK(memcmp(buf, "value", 5) == 0);
	CHECK_ERR(OPS.setxattr(m, &root_ctx, ino, "user.a", "x", 1, XATTR_CREATE, 0), -EEXIST);
	CHECK_ERR(OPS.setxattr(m, &root_ctx, ino, "user.b", "x", 1, XATTR_REPLACE, 0), -ENODATA);
	CHECK_ERR(OPS.setxattr(m, &root_ctx, ino, "user.a", "vv", 2, XATTR_REPLACE, 0), 0);
	CHECK_EQ(OPS.getxattr(m, &root_ctx, ino, "user.a", buf, sizeof(buf)), 2);
	CHECK_ERR(OPS.setxattr(m, &root_ctx, ino, "user.empty", "", 0, XATTR_CREATE, 0), 0);
	CHECK_EQ(OPS.getxattr(m, &root_ctx, ino, "user.empty", buf, sizeof(buf)), 0);
	CHECK_ERR(OPS.setxattr(m, &root_ctx, ino, "trusted.t", "t", 1, 0, 0), 0);
	CHECK_ERR(OPS.setxattr(m, &root_ctx, ino, "security.s", "s", 1, 0, 0), 0);

	/* List: size probe, ERANGE, and trusted.* shown to root only. */
	const char all[] = "user.a\0user.empty\0trusted.t\0security.s";

	CHECK_EQ(OPS.listxattr(m, &root_ctx, ino, NULL, 0), sizeof(all));
	CHECK_ERR(OPS.listxattr(m, &root_ctx, ino, buf, sizeof(all) - 1), -ERANGE);
	CHECK_EQ(OPS.listxattr(m, &root_ctx, ino, buf, sizeof(buf)), sizeof(all));
	CHECK(memcmp(buf, all, sizeof(all)) == 0);
	CHECK_EQ(OPS.listxattr(m, &u, ino, buf, sizeof(buf)), sizeof(all) - 10);
	CHECK_ERR(OPS.getxattr(m, &u, ino, "trusted.t", buf, sizeof(buf)), -ENODATA);
	CHECK_EQ(OPS.getxattr(m, &u, ino, "security.s", buf, sizeof(buf)), 1);
	CHECK_EQ(OPS.getxattr(m, &u, ino, "user.a", buf, sizeof(buf)), 2);
	/* A non-owner without write permission. */
	CHECK_ERR(OPS.setxattr(m, &u, ino, "user.a", "x", 1, 0, 0), -EACCES);
	CHECK_ERR(OPS.setxattr(m, &u, ino, "trusted.u", "x", 1, 0, 0), -EPERM);
	CHECK_ERR(OPS.setxattr(m, &u, ino, "security.u", "x", 1, 0, 0), -EPERM);
	CHECK_ERR(OPS.removexattr(m, &u, ino, "user.a"), -EACCES);

	CHECK_ERR(OPS.setxattr(m, &root_ctx, ino, "system.posix_acl_access", "x", 1, 0, 0),
		  -EOPNOTSUPP);
	CHECK_ERR(OPS.getxattr(m, &root_ctx, ino, "system.posix_acl_default", buf, 10),
		  -EOPNOTSUPP);
	CHECK_ERR(OPS.setxattr(m, &root_ctx, ino, "other.x", "x", 1, 0, 0), -EOPNOTSUPP);
	CHECK_ERR(OPS.setxattr(m, &root_ctx, ino, "user.x", "x", 1, 4, 0), -EINVAL);
	CHECK_ERR(OPS.setxattr(m, &root_ctx, ino, "user.big", buf, 65537, 0, 0), -E2BIG);

	CHECK_ERR(OPS.removexattr(m, &root_ctx, ino, "user.a"), 0);
	CHECK_ERR(OPS.removexattr(m, &root_ctx, ino, "user.a"), -ENODATA);
	CHECK_ERR(OPS.getxattr(m, &root_ctx, ino, "user.a", buf, sizeof(buf)), -ENODATA);

	/* user.* only on files and directories. */
	CHECK_ERR(OPS.symlink(m, &root_ctx, "t", ROOT, "ln", &e), 0);
	CHECK_ERR(OPS.setxattr(m, &root_ctx, e.ino, "user.a", "x", 1, 0, 0), -EPERM);
	CHECK_ERR(OPS.setxattr(m, &root_ctx, ROOT, "user.a", "x", 1, 0, 0), 0);

	/* Xattrs are charged, and given back with the inode. */
	uint64_t before = fb_memfs_bytes_used(m);

	drop_file(m, ROOT, "f", ino, 1, fh);
	CHECK(fb_memfs_bytes_used(m) < before);
	CHECK_ERR(OPS.removexattr(m, &root_ctx, ROOT, "user.a"), 0);
	CHECK_ERR(OPS.unlink(m, &root_ctx, ROOT, "ln"), 0);
	OPS.forget(m, e.ino, 1);
	CHECK_EQ(fb_memfs_bytes_used(m), 0);
	fb_memfs_free(m);
}

TEST(permissions_as_user)
{
	struct fb_memfs *m = new_fs();
	struct fb_ctx u = user(1000, 1000), other = user(1001, 1001);
	struct fb_entry e;
	struct fb_file_info fi;
	uint64_t fh;

	/* Root dir is 0755 root: a user may look up but not create. */
	CHECK_ERR(OPS.mknod(m, &u, ROOT, "x", S_IFREG | 0644, 0, &e), -EACCES);
	CHECK_ERR(OPS.create(m, &u, ROOT, "x", 0644, O_CREAT | O_RDWR, &e, &fi), -EACCES);
	CHECK_ERR(OPS.mkdir(m, &u, ROOT, "x", 0755, &e), -EACCES);
	CHECK_ERR(lookup(m, &u, ROOT, "x"), -ENOENT);

	fb_ino_t home = mkdir_(m, &root_ctx, ROOT, "home", 0755);

	CHECK_ERR(chown_(m, &root_ctx, home, 1000, 1000), 0);
	/* New files belong to the caller, with its umask. */
	fb_ino_t f = mkfile(m, &u, home, "f", 0666, &fh);

	CHECK_EQ(getattr(m, f).st_uid, 1000);
	CHECK_EQ(getattr(m, f).st_gid, 1000);
	CHECK_EQ(getattr(m, f).st_mode, S_IFREG | 0644);
	CHECK_ERR(OPS.release(m, &u, f, fh, O_RDWR, 0, 0), 0);

	/* Another user: read yes, write no. */
	CHECK_ERR(OPS.open(m, &other, f, O_RDONLY, &fi), 0);
	CHECK_ERR(OPS.release(m, &other, f, fi.fh, O_RDONLY, 0, 0), 0);
	CHECK_ERR(OPS.open(m, &other, f, O_WRONLY, &fi), -EACCES);
	CHECK_ERR(OPS.open(m, &other, f, O_RDWR, &fi), -EACCES);
	CHECK_ERR(OPS.open(m, &other, f, O_RDONLY | O_TRUNC, &fi), -EACCES);
	CHECK_ERR(OPS.access(m, &other, f, R_OK), 0);
	CHECK_ERR(OPS.access(m, &other, f, W_OK), -EACCES);
	CHECK_ERR(OPS.access(m, &other, f, X_OK), -EACCES);
	CHECK_ERR(OPS.access(m, &root_ctx, f, X_OK), -EACCES);	/* nobody may execute */
	CHECK_ERR(OPS.access(m, &root_ctx, f, W_OK), 0);
	CHECK_ERR(OPS.unlink(m, &other, home, "f"), -EACCES);
	CHECK_ERR(OPS.mkdir(m, &other, home, "d", 0755, &e), -EACCES);
	CHECK_ERR(OPS.open(m, &other, home, O_WRONLY, &fi), -EISDIR);

	/* Truncate needs write permission; ftruncate (with fh) was checked at open. */
	struct stat in = { .st_size = 0 };

	CHECK_ERR(setattr(m, &other, f, &in, FB_FATTR_SIZE), -EACCES);
	CHECK_ERR(setattr(m, &u, f, &in, FB_FATTR_SIZE), 0);

	/* chmod and chown. */
	CHECK_ERR(chmod_(m, &other, f, 0777), -EPERM);
	CHECK_ERR(chmod_(m, &u, f, 0600), 0);
	CHECK_ERR(OPS.open(m, &other, f, O_RDONLY, &fi), -EACCES);
	CHECK_ERR(chown_(m, &u, f, 1001, 1000), -EPERM);
	CHECK_ERR(chown_(m, &u, f, 1000, 2000), -EPERM);
	uint32_t groups[] = { 2000 };
	struct fb_ctx ug = u;

	ug.groups = groups;
	ug.ngroups = 1;
	CHECK_ERR(chown_(m, &ug, f, 1000, 2000), 0);
	CHECK_EQ(getattr(m, f).st_gid, 2000);
	CHECK_ERR(chown_(m, &other, f, 1000, 2000), -EPERM);
	CHECK_ERR(chown_(m, &root_ctx, f, 1001, 1001), 0);
	CHECK_EQ(getattr(m, f).st_uid, 1001);

	/* utimes: explicit times by the owner only; "now" by anyone who may write. */
	struct stat t = { .st_mtim = { 12345, 6 }, .st_atim = { 11, 0 } };

	CHECK_ERR(chmod_(m, &other, f, 0666), 0);	/* other owns it now */
	CHECK_ERR(setattr(m, &u, f, &t, FB_FATTR_MTIME), -EPERM);
	CHECK_ERR(setattr(m, &u, f, &t, FB_FATTR_MTIME | FB_FATTR_MTIME_NOW |
			  FB_FATTR_ATIME | FB_FATTR_ATIME_NOW), 0);
	CHECK_ERR(setattr(m, &other, f, &t, FB_FATTR_MTIME | FB_FATTR_ATIME), 0);
	CHECK_EQ(getattr(m, f).st_mtim.tv_sec, 12345);
	CHECK_EQ(getattr(m, f).st_mtim.tv_nsec, 6);
	CHECK_EQ(getattr(m, f).st_atim.tv_sec, 11);
	CHECK_ERR(chmod_(m, &other, f, 0644), 0);
	CHECK_ERR(setattr(m, &u, f, &t, FB_FATTR_MTIME | FB_FATTR_MTIME_NOW), -EACCES);

	/* Search permission on directories. */
	fb_ino_t priv = mkdir_(m, &u, home, "priv", 0700);

	CHECK_ERR(lookup(m, &other, priv, "anything"), -EACCES);
	CHECK_ERR(OPS.opendir(m, &other, priv, O_RDONLY, &fi), -EACCES);
	CHECK_ERR(OPS.opendir(m, &u, priv, O_RDONLY, &fi), 0);
	CHECK_ERR(OPS.releasedir(m, &u, priv, fi.fh, 0), 0);
	/* Root bypasses permission bits. */
	CHECK_ERR(OPS.mkdir(m, &root_ctx, priv, "rootmade", 0755, &e), 0);
	fb_memfs_free(m);
}

TEST(sticky_directory)
{
	struct fb_memfs *m = new_fs();
	struct fb_ctx u = user(1000, 1000), other = user(1001, 1001);
	uint64_t fh;
	fb_ino_t tmp = mkdir_(m, &root_ctx, ROOT, "tmp", 01777);

	CHECK_EQ(getattr(m, tmp).st_mode & 07777, 01755);	/* umask 022 */
	CHECK_ERR(chmod_(m, &root_ctx, tmp, 01777), 0);
	fb_ino_t f = mkfile(m, &u, tmp, "mine", 0666, &fh);

	CHECK_ERR(OPS.release(m, &u, f, fh, O_RDWR, 0, 0), 0);
	CHECK_ERR(OPS.unlink(m, &other, tmp, "mine"), -EPERM);
	CHECK_ERR(OPS.rename(m, &other, tmp, "mine", tmp, "stolen", 0), -EPERM);
	fb_ino_t g = mkfile(m, &other, tmp, "theirs", 0666, &fh);

	CHECK_ERR(OPS.release(m, &other, g, fh, O_RDWR, 0, 0), 0);
	/* Replacing someone else's file by rename is removing it. */
	CHECK_ERR(OPS.rename(m, &u, tmp, "mine", tmp, "theirs", 0), -EPERM);
	CHECK_ERR(OPS.rename(m, &u, tmp, "mine", tmp, "renamed", 0), 0);
	CHECK_ERR(OPS.unlink(m, &u, tmp, "renamed"), 0);
	CHECK_ERR(OPS.unlink(m, &root_ctx, tmp, "theirs"), 0);
	fb_memfs_free(m);
}

TEST(setgid_directory)
{
	struct fb_memfs *m = new_fs();
	struct fb_ctx u = user(1000, 1000);
	struct fb_entry e;
	uint64_t fh;
	fb_ino_t d = mkdir_(m, &root_ctx, ROOT, "shared", 0777);

	CHECK_ERR(chown_(m, &root_ctx, d, 0, 500), 0);
	CHECK_ERR(chmod_(m, &root_ctx, d, 02777), 0);
	fb_ino_t f = mkfile(m, &u, d, "f", 02755, &fh);

	CHECK_EQ(getattr(m, f).st_gid, 500);
	CHECK_EQ(getattr(m, f).st_mode & 07777, 0755);	/* not in group 500: no setgid */
	CHECK_ERR(OPS.mkdir(m, &u, d, "sub", 0755, &e), 0);
	CHECK_EQ(e.attr.st_gid, 500);
	CHECK_EQ(e.attr.st_mode & 07777, 02755);
	/* A member of the group keeps setgid on a file. */
	CHECK_ERR(OPS.mknod(m, &root_ctx, d, "rootfile", S_IFREG | 02755, 0, &e), 0);
	CHECK_EQ(e.attr.st_mode & 07777, 02755);
	/* chmod g+s by a non-member owner is dropped silently. */
	CHECK_ERR(chmod_(m, &u, f, 02755), 0);
	CHECK_EQ(getattr(m, f).st_mode & 07777, 0755);
	CHECK_ERR(OPS.release(m, &u, f, fh, O_RDWR, 0, 0), 0);
	fb_memfs_free(m);
}

TEST(suid_cleared_on_write_and_chown)
{
	struct fb_memfs *m = new_fs();
	struct fb_ctx u = user(1000, 1000);
	uint64_t fh;
	fb_ino_t f = mkfile(m, &root_ctx, ROOT, "f", 0666, &fh);

	CHECK_ERR(chmod_(m, &root_ctx, f, 06777), 0);
	/* Root writing keeps the bits, unless the kernel asks to kill them. */
	CHECK_EQ(wr(m, &root_ctx, f, fh, "a", 1, 0, 0), 1);
	CHECK_EQ(getattr(m, f).st_mode & 07777, 06777);
	CHECK_EQ(wr(m, &root_ctx, f, fh, "a", 1, 0, FB_WRITE_KILL_SUIDGID), 1);
	CHECK_EQ(getattr(m, f).st_mode & 07777, 0777);
	/* Anyone else writing drops them (an empty write is no write). */
	CHECK_ERR(chmod_(m, &root_ctx, f, 06777), 0);
	CHECK_EQ(wr(m, &u, f, fh, "", 0, 0, 0), 0);
	CHECK_EQ(getattr(m, f).st_mode & 07777, 06777);
	CHECK_EQ(wr(m, &u, f, fh, "a", 1, 0, 0), 1);
	CHECK_EQ(getattr(m, f).st_mode & 07777, 0777);
	/* setgid without group execute is not a privilege: it stays. */
	CHECK_ERR(chmod_(m, &root_ctx, f, 02766), 0);
	CHECK_EQ(wr(m, &u, f, fh, "a", 1, 0, 0), 1);
	CHECK_EQ(getattr(m, f).st_mode & 07777, 02766);
	/* chown drops them; so does FATTR_KILL_SUIDGID. */
	CHECK_ERR(chmod_(m, &root_ctx, f, 06755), 0);
	CHECK_ERR(chown_(m, &root_ctx, f, 1000, 1000), 0);
	CHECK_EQ(getattr(m, f).st_mode & 07777, 0755);
	CHECK_ERR(chmod_(m, &root_ctx, f, 06755), 0);
	CHECK_ERR(setattr(m, &root_ctx, f, &(struct stat){ 0 }, FB_FATTR_KILL_SUIDGID), 0);
	CHECK_EQ(getattr(m, f).st_mode & 07777, 0755);
	CHECK_ERR(OPS.release(m, &root_ctx, f, fh, O_RDWR, 0, 0), 0);
	fb_memfs_free(m);
}

TEST(timestamps)
{
	struct fb_memfs *m = new_fs();
	uint64_t fh;
	fb_ino_t f = mkfile(m, &root_ctx, ROOT, "f", 0644, &fh);
	struct stat t = { .st_atim = { 100, 0 }, .st_mtim = { 200, 0 } };
	struct stat st;

	CHECK_ERR(setattr(m, &root_ctx, f, &t, FB_FATTR_ATIME | FB_FATTR_MTIME), 0);
	st = getattr(m, f);
	CHECK_EQ(st.st_atim.tv_sec, 100);
	CHECK_EQ(st.st_mtim.tv_sec, 200);
	CHECK(st.st_ctim.tv_sec > 1000);
	CHECK_EQ(wr(m, &root_ctx, f, fh, "x", 1, 0, 0), 1);
	st = getattr(m, f);
	CHECK(st.st_mtim.tv_sec > 1000);
	CHECK_EQ(st.st_atim.tv_sec, 100);
	CHECK_EQ(rd(m, f, fh, &t, 1, 0), 1);
	CHECK(getattr(m, f).st_atim.tv_sec > 1000);
	CHECK_ERR(setattr(m, &root_ctx, f, &t, FB_FATTR_MTIME), 0);
	CHECK_ERR(setattr(m, &root_ctx, f, &t, FB_FATTR_MTIME | FB_FATTR_MTIME_NOW), 0);
	CHECK(getattr(m, f).st_mtim.tv_sec > 1000);
	/* Creating a name changes the directory's mtime. */
	CHECK_ERR(setattr(m, &root_ctx, ROOT, &t, FB_FATTR_MTIME), 0);
	mkdir_(m, &root_ctx, ROOT, "d", 0755);
	CHECK(getattr(m, ROOT).st_mtim.tv_sec > 1000);

	struct statx sx;
	double to;

	CHECK_ERR(OPS.statx(m, &root_ctx, f, NULL, 0, STATX_ALL, &sx, &to), 0);
	CHECK(sx.stx_mask & STATX_BTIME);
	CHECK_EQ(sx.stx_ino, f);
	CHECK_EQ(sx.stx_size, 1);
	CHECK(S_ISREG(sx.stx_mode));
	CHECK(sx.stx_btime.tv_sec > 1000);
	CHECK_ERR(OPS.release(m, &root_ctx, f, fh, O_RDWR, 0, 0), 0);
	fb_memfs_free(m);
}

TEST(limits_give_enospc)
{
	struct fb_memfs_config cfg = { .max_inodes = 3, .max_bytes = 3 * 4096,
				       .max_file_size = 1 << 20 };
	struct fb_memfs *m;
	struct fb_entry e;
	char buf[3 * 4096] = { 0 };
	uint64_t fh;

	CHECK_ERR(fb_memfs_new(&cfg, &m), 0);
	fb_ino_t f = mkfile(m, &root_ctx, ROOT, "f", 0644, &fh);

	CHECK_ERR(OPS.mkdir(m, &root_ctx, ROOT, "d", 0755, &e), 0);
	CHECK_ERR(OPS.mknod(m, &root_ctx, ROOT, "x", S_IFIFO | 0644, 0, &e), -ENOSPC);
	CHECK_ERR(OPS.symlink(m, &root_ctx, "t", ROOT, "l", &e), -ENOSPC);
	/* Data: a short write up to the limit (names use some), then ENOSPC. */
	CHECK_EQ(wr(m, &root_ctx, f, fh, buf, sizeof(buf), 0, 0), 2 * 4096);
	CHECK_ERR(wr(m, &root_ctx, f, fh, buf, 1, 2 * 4096, 0), -ENOSPC);
	/* Past max_file_size: EFBIG. */
	CHECK_ERR(wr(m, &root_ctx, f, fh, buf, 1, 1 << 20, 0), -EFBIG);
	CHECK_ERR(set_size(m, f, (1 << 20) + 1), -EFBIG);
	CHECK_ERR(set_size(m, f, 4096), 0);
	CHECK_ERR(OPS.fallocate(m, &root_ctx, f, fh, FALLOC_FL_KEEP_SIZE, 0, (1 << 20) + 1),
		  -EFBIG);
	CHECK_ERR(OPS.setxattr(m, &root_ctx, f, "user.x", buf, 2 * 4096, 0, 0), -ENOSPC);
	CHECK_ERR(OPS.setxattr(m, &root_ctx, f, "user.x", buf, 1000, 0, 0), 0);
	CHECK_ERR(OPS.fallocate(m, &root_ctx, f, fh, 0, 0, 3 * 4096), -ENOSPC);
	CHECK_EQ(getattr(m, f).st_size, 4096);

	struct statvfs sv;

	CHECK_ERR(OPS.statfs(m, &root_ctx, ROOT, &sv), 0);
	CHECK_EQ(sv.f_ffree, 0);
	CHECK_EQ(sv.f_bfree, 1);
	/* Freeing gives the room back. */
	CHECK_ERR(OPS.rmdir(m, &root_ctx, ROOT, "d"), 0);
	OPS.forget(m, e.ino, 1);
	CHECK_ERR(OPS.mknod(m, &root_ctx, ROOT, "x", S_IFIFO | 0644, 0, &e), 0);
	CHECK_ERR(OPS.release(m, &root_ctx, f, fh, O_RDWR, 0, 0), 0);
	fb_memfs_free(m);
}

TEST(create_existing_and_open_rules)
{
	struct fb_memfs *m = new_fs();
	struct fb_entry e;
	struct fb_file_info fi;
	uint64_t fh;
	fb_ino_t f = mkfile(m, &root_ctx, ROOT, "f", 0444, &fh);

	/* The creator's handle writes even though the mode says read-only. */
	CHECK_EQ(wr(m, &root_ctx, f, fh, "abc", 3, 0, 0), 3);
	CHECK_ERR(OPS.create(m, &root_ctx, ROOT, "f", 0644, O_CREAT | O_EXCL | O_RDWR, &e, &fi),
		  -EEXIST);
	CHECK_ERR(OPS.create(m, &root_ctx, ROOT, "f", 0644, O_CREAT | O_RDWR | O_TRUNC, &e, &fi),
		  0);
	CHECK_EQ(e.ino, f);
	CHECK_EQ(e.attr.st_size, 0);
	CHECK_ERR(OPS.release(m, &root_ctx, f, fi.fh, O_RDWR, 0, 0), 0);
	CHECK_ERR(OPS.open(m, &root_ctx, ROOT, O_RDONLY, &fi), 0);
	CHECK_ERR(OPS.release(m, &root_ctx, ROOT, fi.fh, O_RDONLY, 0, 0), 0);
	CHECK_ERR(OPS.opendir(m, &root_ctx, f, O_RDONLY, &fi), -ENOTDIR);
	CHECK_ERR(OPS.open(m, &root_ctx, 424242, O_RDONLY, &fi), -ENOENT);
	CHECK_ERR(OPS.symlink(m, &root_ctx, "f", ROOT, "ln", &e), 0);
	CHECK_ERR(OPS.open(m, &root_ctx, e.ino, O_RDONLY, &fi), -ELOOP);
	CHECK_ERR(wr(m, &root_ctx, ROOT, 0, "x", 1, 0, 0), -EISDIR);
	CHECK_ERR(wr(m, &root_ctx, e.ino, 0, "x", 1, 0, 0), -EINVAL);
	CHECK_ERR(OPS.release(m, &root_ctx, f, fh, O_RDWR, 0, 0), 0);
	CHECK_EQ(fb_memfs_handle_count(m), 0);
	fb_memfs_free(m);
}

/* ------------------------------------------------------------------------------------------ */
/* readdir                                                                                    */

struct listing {
	int count;
	char names[512][256];
	uint64_t inos[512];
	uint64_t last_off;
};

/* One READDIR(PLUS) call into a @bufsize buffer; appends to @l. Returns entries added. */
static int list_once(struct fb_memfs *m, fb_ino_t dir, uint64_t off, size_t bufsize, bool plus,
		     struct listing *l)
{
	char buf[8192];
	struct iovec iov = { buf, bufsize };
	struct fb_writer w;
	struct fb_dirbuf b;
	size_t pos = 0;
	int n = 0;

	fb_writer_init(&w, &iov, 1);
	fb__dirbuf_init(&b, &w, bufsize, plus, 45);
	CHECK_ERR(plus ? OPS.readdirplus(m, &root_ctx, dir, 0, off, &b)
		       : OPS.readdir(m, &root_ctx, dir, 0, off, &b), 0);
	while (pos < fb_writer_written(&w)) {
		struct fb_dirent *d;

		if (plus) {
			struct fb_direntplus *dp = (struct fb_direntplus *)(buf + pos);

			d = &dp->dirent;
			pos += FB_DIRENTPLUS_SIZE(dp);
		} else {
			d = (struct fb_dirent *)(buf + pos);
			pos += FB_DIRENT_SIZE(d);
		}
		CHECK(l->count < 512 && d->namelen < 256);
		memcpy(l->names[l->count], d->name, d->namelen);
		l->names[l->count][d->namelen] = '\0';
		l->inos[l->count] = d->ino;
		l->count++;
		l->last_off = d->off;
		n++;
	}
	return n;
}

static int seen(const struct listing *l, const char *name)
{
	int k = 0;

	for (int i = 0; i < l->count; i++)
		k += strcmp(l->names[i], name) == 0;
	return k;
}

TEST(readdir_lists_everything_once_across_changes)
{
	struct fb_memfs *m = new_fs();
	struct listing *l = calloc(1, sizeof(*l));
	struct fb_entry e;
	char name[32];
	fb_ino_t d = mkdir_(m, &root_ctx, ROOT, "d", 0755);
	int n;

	CHECK(l);
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "file%03d", i);
		CHECK_ERR(OPS.mknod(m, &root_ctx, d, name, S_IFREG | 0644, 0, &e), 0);
	}
	/* Small batches; between them remove files already listed and not yet listed, and add. */
	uint64_t off = 0;
	int batch = 0;

	while ((n = list_once(m, d, off, 200, false, l)) > 0) {
		off = l->last_off;
		if (batch++ == 3) {
			for (int i = 0; i < 200; i += 2) {
				snprintf(name, sizeof(name), "file%03d", i);
				CHECK_ERR(OPS.unlink(m, &root_ctx, d, name), 0);
			}
			for (int i = 0; i < 50; i++) {
				snprintf(name, sizeof(name), "new%03d", i);
				CHECK_ERR(OPS.mknod(m, &root_ctx, d, name, S_IFREG | 0644, 0, &e),
					  0);
			}
		}
	}
	CHECK(batch > 5);
	CHECK_EQ(seen(l, "."), 1);
	CHECK_EQ(seen(l, ".."), 1);
	CHECK_EQ(l->inos[0], d);
	CHECK_EQ(l->inos[1], ROOT);
	/* Names present throughout: exactly once. Added ones: once (they come after). */
	for (int i = 1; i < 200; i += 2) {
		snprintf(name, sizeof(name), "file%03d", i);
		CHECK_EQ(seen(l, name), 1);
	}
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "new%03d", i);
		CHECK_EQ(seen(l, name), 1);
	}
	for (int i = 0; i < l->count; i++)
		CHECK(seen(l, l->names[i]) == 1);

	/* A listing from the start after all that, and past the end. */
	memset(l, 0, sizeof(*l));
	for (off = 0; (n = list_once(m, d, off, 8192, false, l)) > 0;)
		off = l->last_off;
	CHECK_EQ(l->count, 2 + 100 + 50);
	CHECK_EQ(list_once(m, d, UINT64_MAX, 8192, false, l), 0);
	CHECK_ERR(OPS.readdir(m, &root_ctx, 999999, 0, 0, NULL), -ENOENT);
	free(l);
	fb_memfs_free(m);
}

TEST(big_directory_shrinks_and_keeps_positions)
{
	struct fb_memfs *m = new_fs();
	struct listing *l = calloc(1, sizeof(*l));
	struct fb_entry e;
	char name[32];
	fb_ino_t d = mkdir_(m, &root_ctx, ROOT, "big", 0755);
	uint64_t base = fb_memfs_bytes_used(m);

	CHECK(l);
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "e%04d", i);
		CHECK_ERR(OPS.mknod(m, &root_ctx, d, name, S_IFREG | 0644, 0, &e), 0);
		OPS.forget(m, e.ino, 1);
	}
	/* List a first batch, then delete all but every 300th name (the arrays compact). */
	CHECK(list_once(m, d, 0, 400, false, l) > 2);
	uint64_t off = l->last_off;
	int first = l->count;

	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "e%04d", i);
		if (i % 300 != 0)
			CHECK_ERR(OPS.unlink(m, &root_ctx, d, name), 0);
	}
	CHECK_EQ(fb_memfs_inode_count(m), 2 + 10);
	while (list_once(m, d, off, 400, false, l) > 0)
		off = l->last_off;
	/* Each survivor appears once: in the first batch or after it, never twice. */
	for (int i = 0; i < 3000; i += 300) {
		snprintf(name, sizeof(name), "e%04d", i);
		CHECK_EQ(seen(l, name), 1);
		CHECK_EQ(lookup(m, &root_ctx, d, name) > 0, 1);
	}
	CHECK(l->count <= first + 10);
	for (int i = 0; i < 3000; i += 300) {
		snprintf(name, sizeof(name), "e%04d", i);
		CHECK_ERR(OPS.unlink(m, &root_ctx, d, name), 0);
	}
	CHECK_EQ(fb_memfs_bytes_used(m), base);
	free(l);
	fb_memfs_free(m);
}

TEST(readdirplus_takes_lookups)
{
	struct fb_memfs *m = new_fs();
	struct listing *l = calloc(1, sizeof(*l));
	struct fb_entry e;

	CHECK(l);
	CHECK_ERR(OPS.mknod(m, &root_ctx, ROOT, "a", S_IFREG | 0644, 0, &e), 0);
	OPS.forget(m, e.ino, 1);
	CHECK_EQ(list_once(m, ROOT, 0, 8192, true, l), 3);
	CHECK_EQ(l->inos[2], e.ino);
	CHECK_ERR(OPS.unlink(m, &root_ctx, ROOT, "a"), 0);
	/* The kernel holds the lookup readdirplus gave: the inode waits for the forget. */
	CHECK_EQ(fb_memfs_inode_count(m), 2);
	OPS.forget(m, e.ino, 1);
	CHECK_EQ(fb_memfs_inode_count(m), 1);
	/* An entry that does not fit takes no lookup. */
	CHECK_ERR(OPS.mknod(m, &root_ctx, ROOT, "b", S_IFREG | 0644, 0, &e), 0);
	OPS.forget(m, e.ino, 1);
	memset(l, 0, sizeof(*l));
	CHECK_EQ(list_once(m, ROOT, 0, 2 * 160, true, l), 2);	/* . and .. only */
	CHECK_ERR(OPS.unlink(m, &root_ctx, ROOT, "b"), 0);
	CHECK_EQ(fb_memfs_inode_count(m), 1);
	free(l);
	fb_memfs_free(m);
}

/* ------------------------------------------------------------------------------------------ */
/* Random operations: never crash, and the lookup accounting adds up                          */

#define FZ_MAX_INO	(1 << 17)
#define FZ_MAX_FH	256

struct fz {
	struct fb_memfs *m;
	uint64_t rng;
	uint64_t *held;			/* lookups the "kernel" holds, by ino */
	fb_ino_t known[1024];		/* inos seen, some of them dead */
	int nknown;
	struct { fb_ino_t ino; uint64_t fh; } open[FZ_MAX_FH];
	int nopen;
	long entries, opens, io;	/* successes, to see that the run does something */
};

static uint64_t fz_rand(struct fz *z)
{
	z->rng ^= z->rng << 13;
	z->rng ^= z->rng >> 7;
	z->rng ^= z->rng << 17;
	return z->rng;
}

static fb_ino_t fz_ino(struct fz *z)
{
	switch (fz_rand(z) % 8) {
	case 0:
		return ROOT;
	case 1:
		return fz_rand(z) % 4 == 0 ? UINT64_MAX : fz_rand(z) % 100000;
	default:
		return z->nknown ? z->known[fz_rand(z) % z->nknown] : ROOT;
	}
}

static const char *fz_name(struct fz *z)
{
	static char longname[254];
	static const char *names[] = { "a", "b", "c", "d", "e", "f", "g", "h", ".", "..", "", "x/y",
				       "\xff\x01", longname };

	if (!longname[0])
		memset(longname, 'n', sizeof(longname) - 1);

	/* Mostly good names, so that things get made; sometimes bad ones. */
	if (fz_rand(z) % 5)
		return names[fz_rand(z) % 8];
	return names[fz_rand(z) % (sizeof(names) / sizeof(names[0]))];
}

static uint64_t fz_off(struct fz *z)
{
	switch (fz_rand(z) % 4) {
	case 0:
		return UINT64_MAX - fz_rand(z) % 10000;
	case 1:
		return fz_rand(z) % (1ULL << 31);
	default:
		return fz_rand(z) % 20000;
	}
}

/* An entry came back: the kernel now holds one more lookup of it. */
static void fz_got(struct fz *z, int r, const struct fb_entry *e)
{
	if (r != 0)
		return;
	CHECK(e->ino >= ROOT && e->ino < FZ_MAX_INO);	/* ".." may be the root */
	z->entries++;
	z->held[e->ino]++;
	if (z->nknown < 1024)
		z->known[z->nknown++] = e->ino;
	else
		z->known[fz_rand(z) % 1024] = e->ino;
}

static void fz_opened(struct fz *z, int r, fb_ino_t ino, const struct fb_file_info *fi)
{
	if (r != 0)
		return;
	if (z->nopen == FZ_MAX_FH) {
		CHECK_ERR(OPS.release(z->m, &root_ctx, z->open[0].ino, z->open[0].fh, 0, 0, 0), 0);
		z->open[0] = z->open[--z->nopen];
	}
	z->opens++;
	z->open[z->nopen].ino = ino;
	z->open[z->nopen].fh = fi->fh;
	z->nopen++;
}

/* READDIRPLUS: count the entries that carry a node id. */
static void fz_readdir(struct fz *z, const struct fb_ctx *ctx, bool plus)
{
	char buf[4096];
	struct iovec iov = { buf, 1 + fz_rand(z) % sizeof(buf) };
	struct fb_writer w;
	struct fb_dirbuf b;
	size_t pos = 0;
	fb_ino_t dir = fz_ino(z);
	int r;

	fb_writer_init(&w, &iov, 1);
	fb__dirbuf_init(&b, &w, iov.iov_len, plus, 45);
	r = plus ? OPS.readdirplus(z->m, ctx, dir, 0, fz_off(z) % 64, &b)
		 : OPS.readdir(z->m, ctx, dir, 0, fz_off(z), &b);
	if (r < 0 || !plus)
		return;
	while (pos < fb_writer_written(&w)) {
		struct fb_direntplus *dp = (struct fb_direntplus *)(buf + pos);

		if (dp->entry_out.nodeid) {
			CHECK(dp->entry_out.nodeid < FZ_MAX_INO);
			z->held[dp->entry_out.nodeid]++;
		}
		pos += FB_DIRENTPLUS_SIZE(dp);
	}
}

static void fz_step(struct fz *z)
{
	static const uint32_t user_groups[] = { 1000, 2000 };
	struct fb_ctx u = { .uid = 1000, .gid = 1000, .umask = 002, .ngroups = 2,
			    .groups = user_groups };
	const struct fb_ctx *ctx = fz_rand(z) % 3 ? &root_ctx : &u;
	struct fb_memfs *m = z->m;
	struct fb_entry e;
	struct fb_file_info fi;
	struct stat st = { 0 };
	char buf[9000] = { 0 };
	uint64_t out;
	fb_ino_t ino = fz_ino(z);
	int r;

	switch (fz_rand(z) % 24) {
	case 0:
		fz_got(z, OPS.lookup(m, ctx, ino, fz_name(z), &e), &e);
		break;
	case 1:
		fz_got(z, OPS.mkdir(m, ctx, ino, fz_name(z), fz_rand(z) & 07777, &e), &e);
		break;
	case 2: {
		static const mode_t types[] = { S_IFREG, S_IFIFO, S_IFSOCK, S_IFCHR, 0, S_IFDIR };

		fz_got(z, OPS.mknod(m, ctx, ino, fz_name(z), types[fz_rand(z) % 6] |
				    (fz_rand(z) & 07777), makedev(1, 3), &e), &e);
		break;
	}
	case 3:
		fz_got(z, OPS.symlink(m, ctx, fz_name(z), ino, fz_name(z), &e), &e);
		break;
	case 4:
		fz_got(z, OPS.link(m, ctx, ino, fz_ino(z), fz_name(z), &e), &e);
		break;
	case 5:
		OPS.unlink(m, ctx, ino, fz_name(z));
		break;
	case 6:
		OPS.rmdir(m, ctx, ino, fz_name(z));
		break;
	case 7: {
		static const uint32_t flags[] = { 0, 0, RENAME_NOREPLACE, RENAME_EXCHANGE, 7 };

		OPS.rename(m, ctx, ino, fz_name(z), fz_ino(z), fz_name(z), flags[fz_rand(z) % 5]);
		break;
	}
	case 8:
		r = OPS.create(m, ctx, ino, fz_name(z), fz_rand(z) & 07777,
			       O_CREAT | (int)(fz_rand(z) % 3) | (fz_rand(z) % 2 ? O_EXCL : 0) |
			       (fz_rand(z) % 4 ? 0 : O_TRUNC), &e, &fi);
		fz_got(z, r, &e);
		fz_opened(z, r, e.ino, &fi);
		break;
	case 9:
		r = OPS.open(m, ctx, ino, (int)(fz_rand(z) % 3) | (fz_rand(z) % 4 ? 0 : O_TRUNC),
			     &fi);
		fz_opened(z, r, ino, &fi);
		break;
	case 10:
		if (z->nopen) {
			int k = (int)(fz_rand(z) % z->nopen);

			CHECK_ERR(OPS.release(m, ctx, z->open[k].ino, z->open[k].fh, 0, 0, 0), 0);
			z->open[k] = z->open[--z->nopen];
		}
		OPS.release(m, ctx, ino, fz_rand(z), 0, 0, 0);	/* unknown fh: refused */
		break;
	case 11:
		z->io += rd(m, ino, 0, buf, fz_rand(z) % sizeof(buf), fz_off(z)) > 0;
		break;
	case 12:
		memset(buf, (int)fz_rand(z), sizeof(buf));
		z->io += wr(m, ctx, ino, 0, buf, fz_rand(z) % sizeof(buf), fz_off(z),
			    (uint32_t)fz_rand(z) & 7) > 0;
		break;
	case 13:
		st.st_mode = (mode_t)fz_rand(z);
		st.st_uid = (uid_t)(fz_rand(z) % 3 * 1000);
		st.st_gid = (gid_t)(fz_rand(z) % 3 * 1000);
		st.st_size = (off_t)(fz_off(z) & INT64_MAX);
		st.st_mtim.tv_sec = (time_t)(fz_rand(z) % 100000);
		setattr(m, ctx, ino, &st, (uint32_t)fz_rand(z) & 0xfff);
		break;
	case 14:
		OPS.fallocate(m, ctx, ino, 0, (int)(fz_rand(z) % 4), fz_off(z), fz_off(z));
		break;
	case 15:
		OPS.lseek(m, ctx, ino, 0, fz_off(z), (int)(fz_rand(z) % 5), &out);
		break;
	case 16:
		OPS.copy_file_range(m, ctx, ino, 0, fz_off(z), fz_ino(z), 0, fz_off(z), fz_off(z),
				    fz_rand(z) % 8 == 0, &out);
		break;
	case 17:
		OPS.setxattr(m, ctx, ino, fz_rand(z) % 2 ? "user.x" : "trusted.y", buf,
			     fz_rand(z) % 100, (int)(fz_rand(z) % 4), 0);
		break;
	case 18:
		OPS.getxattr(m, ctx, ino, fz_rand(z) % 2 ? "user.x" : "security.z", buf,
			     fz_rand(z) % 64);
		OPS.listxattr(m, ctx, ino, buf, fz_rand(z) % 64);
		OPS.removexattr(m, ctx, ino, "user.x");
		break;
	case 19:
	case 20:
		fz_readdir(z, ctx, fz_rand(z) % 2);
		break;
	case 21:
		r = OPS.tmpfile(m, ctx, ino, fz_rand(z) & 0777,
				O_RDWR | (fz_rand(z) % 2 ? O_EXCL : 0), &e, &fi);
		fz_got(z, r, &e);
		fz_opened(z, r, e.ino, &fi);
		break;
	case 22: {
		/* The kernel forgets some of what it holds (or nonsense, which must be ignored). */
		uint64_t n = fz_rand(z) % 3;

		if (ino < FZ_MAX_INO && ino != ROOT) {
			n = n < z->held[ino] ? n : z->held[ino];
			z->held[ino] -= n;
			OPS.forget(m, ino, n);
		} else if (ino != ROOT) {
			OPS.forget(m, ino, n);
		}
		break;
	}
	default:
		OPS.access(m, ctx, ino, (uint32_t)fz_rand(z) % 8);
		OPS.readlink(m, ctx, ino, buf, fz_rand(z) % 16);
		OPS.statfs(m, ctx, ino, &(struct statvfs){ 0 });
		break;
	}
}

/* Remove everything below @dir as root; every lookup taken here is given back. */
static void fz_rm_tree(struct fb_memfs *m, fb_ino_t dir)
{
	struct listing *l = calloc(1, sizeof(*l));
	uint64_t off = 0;

	CHECK(l);
	/* Open the directory up first (a fuzzed chmod may have closed it). */
	CHECK_ERR(chmod_(m, &root_ctx, dir, 0700), 0);
	while (list_once(m, dir, off, 8192, false, l) > 0 && l->count < 400)
		off = l->last_off;
	for (int i = 0; i < l->count; i++) {
		if (!strcmp(l->names[i], ".") || !strcmp(l->names[i], ".."))
			continue;
		long long ino = lookup(m, &root_ctx, dir, l->names[i]);

		CHECK(ino > 0);
		if (S_ISDIR(getattr(m, (fb_ino_t)ino).st_mode)) {
			fz_rm_tree(m, (fb_ino_t)ino);
			CHECK_ERR(OPS.rmdir(m, &root_ctx, dir, l->names[i]), 0);
		} else {
			CHECK_ERR(OPS.unlink(m, &root_ctx, dir, l->names[i]), 0);
		}
		OPS.forget(m, (fb_ino_t)ino, 1);
	}
	free(l);
}

TEST(random_operations_keep_accounting)
{
	struct fz *z = calloc(1, sizeof(*z));
	const char *env = getenv("FB_MEMFS_FUZZ_STEPS");
	long steps = env ? atol(env) : 100000;

	CHECK(z);
	z->held = calloc(FZ_MAX_INO, sizeof(*z->held));
	CHECK(z->held);
	/* Small on memory, large on file size: sparse files far out, ENOSPC now and then. */
	struct fb_memfs_config cfg = { .max_bytes = 16 << 20, .max_file_size = 1ULL << 40,
				       .max_inodes = 20000 };

	CHECK_ERR(fb_memfs_new(&cfg, &z->m), 0);
	for (uint64_t seed = 1; seed <= 4; seed++) {
		z->rng = 0x9e3779b97f4a7c15ULL * seed;
		for (long i = 0; i < steps / 4; i++)
			fz_step(z);
	}
	printf("# %ld steps: %ld entries, %ld opens, %ld reads/writes, %" PRIu64 " inodes\n",
	       steps, z->entries, z->opens, z->io, fb_memfs_inode_count(z->m));
	CHECK(z->entries > steps / 100 && z->opens > steps / 200 && z->io > steps / 200);
	/* Give everything back: handles, lookups, then the names. Only the root may remain. */
	for (int k = 0; k < z->nopen; k++)
		CHECK_ERR(OPS.release(z->m, &root_ctx, z->open[k].ino, z->open[k].fh, 0, 0, 0), 0);
	for (fb_ino_t ino = 2; ino < FZ_MAX_INO; ino++)
		if (z->held[ino])
			OPS.forget(z->m, ino, z->held[ino]);
	fz_rm_tree(z->m, ROOT);
	OPS.removexattr(z->m, &root_ctx, ROOT, "user.x");
	OPS.removexattr(z->m, &root_ctx, ROOT, "trusted.y");
	CHECK_EQ(fb_memfs_handle_count(z->m), 0);
	CHECK_EQ(fb_memfs_inode_count(z->m), 1);
	CHECK_EQ(fb_memfs_bytes_used(z->m), 0);
	fb_memfs_free(z->m);
	free(z->held);
	free(z);
}

/* ------------------------------------------------------------------------------------------ */
/* Threads                                                                                    */

struct worker {
	struct fb_memfs *m;
	int id;
	int errors;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct fb_entry e;
	struct fb_file_info fi;
	char name[32], buf[5000], back[5000];

	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "w%d-%d", w->id, i % 7);
		if (OPS.create(w->m, &root_ctx, ROOT, name, 0644, O_CREAT | O_RDWR, &e, &fi) < 0) {
			w->errors++;
			continue;
		}
		memset(buf, 'a' + w->id, sizeof(buf));
		if (wr(w->m, &root_ctx, e.ino, fi.fh, buf, sizeof(buf), (uint64_t)i * 100, 0) !=
		    (int)sizeof(buf))
			w->errors++;
		if (rd(w->m, e.ino, fi.fh, back, sizeof(back), (uint64_t)i * 100) !=
			    (int)sizeof(back) || memcmp(buf, back, sizeof(buf)) != 0)
			w->errors++;
		OPS.rename(w->m, &root_ctx, ROOT, name, ROOT, "shared", 0);
		OPS.unlink(w->m, &root_ctx, ROOT, "shared");
		OPS.release(w->m, &root_ctx, e.ino, fi.fh, O_RDWR, 0, 0);
		OPS.forget(w->m, e.ino, 1);
	}
	return NULL;
}

TEST(threads_do_not_corrupt)
{
	struct fb_memfs *m = new_fs();
	struct worker w[4];
	pthread_t t[4];

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ m, i, 0 };
		CHECK_EQ(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ(w[i].errors, 0);
	}
	CHECK_EQ(fb_memfs_handle_count(m), 0);
	/* Whatever names are left hold no lookups: removing them frees everything. */
	struct listing *l = calloc(1, sizeof(*l));

	CHECK(l);
	list_once(m, ROOT, 0, 8192, false, l);
	for (int i = 2; i < l->count; i++)
		CHECK_ERR(OPS.unlink(m, &root_ctx, ROOT, l->names[i]), 0);
	CHECK_EQ(fb_memfs_inode_count(m), 1);
	CHECK_EQ(fb_memfs_bytes_used(m), 0);
	free(l);
	fb_memfs_free(m);
}

TEST_MAIN()
