/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * A recording file system for server tests: every operation stores its decoded arguments in
 * the global `rec` and answers with what the test put in `rec` beforehand (ret, entry, attr,
 * data, ...). Not thread-safe; single-threaded tests only (except where a test says so).
 */
#ifndef FB_TEST_RECFS_H
#define FB_TEST_RECFS_H

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <fuse_backend/fs.h>
#include <fuse_backend/server.h>

struct recfs {
	/* what the last call received */
	int calls;
	char op[32];
	uint64_t ino, ino2, fh, fh2, off, off2, len, owner, lflags;
	uint32_t mode, flags, flags2, size, valid;
	int iflags, sleep, lockop, has_fi;
	dev_t rdev;
	struct fb_ctx ctx;
	uint32_t groups[8];
	char secname[64];
	uint8_t secval[64];
	char name[1100], name2[4200];
	uint8_t data[70000];
	size_t datalen;
	struct stat st_in;
	struct fb_lock lk;
	struct fb_mapping maps[300];
	uint32_t nmaps;
	uint64_t forgets[64][2];
	int nforgets;
	int destroyed;

	/* what to answer */
	int ret; /* returned by every op (count ops: see below) */
	struct fb_entry entry;
	struct stat attr;
	double timeout;
	struct fb_file_info fi;
	uint8_t out[70000]; /* read / readlink / getxattr / ioctl data */
	size_t outlen;
	uint64_t u64out; /* bmap, lseek, copy_file_range */
	uint32_t revents;
	struct fb_conn conn;	       /* what init() saw */
	uint64_t init_set, init_clear; /* init() sets / clears these want bits */
	uint32_t init_max_write;       /* non-zero: init() sets max_write */
	uint16_t init_timeout;
	int ndirents; /* readdir(plus) adds this many entries */
};

static struct recfs rec;

static inline void rec_reset(void)
{
	memset(&rec, 0, sizeof(rec));
	rec.entry.ino = 77;
	rec.entry.generation = 3;
	rec.entry.attr.st_ino = 77;
	rec.entry.attr.st_mode = S_IFREG | 0644;
	rec.entry.attr.st_nlink = 1;
	rec.entry.attr.st_size = 4096;
	rec.entry.entry_timeout = 1.5;
	rec.entry.attr_timeout = 2.25;
	rec.attr = rec.entry.attr;
	rec.timeout = 1.0;
}

static inline void rec_call(const char *op, const struct fb_ctx *ctx, fb_ino_t ino)
{
	rec.calls++;
	snprintf(rec.op, sizeof(rec.op), "%s", op);
	rec.ino = ino;
	if (ctx) {
		rec.ctx = *ctx;
		if (ctx->groups && ctx->ngroups <= 8)
			memcpy(rec.groups, ctx->groups, ctx->ngroups * 4);
		if (ctx->secctx_name)
			snprintf(rec.secname, sizeof(rec.secname), "%s", ctx->secctx_name);
		if (ctx->secctx && ctx->secctx_len <= sizeof(rec.secval))
			memcpy(rec.secval, ctx->secctx, ctx->secctx_len);
	}
}

static inline void rec_name(const char *n)
{
	snprintf(rec.name, sizeof(rec.name), "%s", n);
}

static inline void rec_name2(const char *n)
{
	snprintf(rec.name2, sizeof(rec.name2), "%s", n);
}

static int rec_init(void *fs, struct fb_conn *c)
{
	rec.conn = *c;
	c->want |= rec.init_set;
	c->want &= ~rec.init_clear;
	if (rec.init_max_write)
		c->max_write = rec.init_max_write;
	if (rec.init_timeout)
		c->request_timeout = rec.init_timeout;
	rec.calls++;
	return rec.ret;
}

static void rec_destroy(void *fs)
{
	rec.destroyed++;
}

static int rec_lookup(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		      struct fb_entry *out)
{
	rec_call("lookup", ctx, parent);
	rec_name(name);
	*out = rec.entry;
	return rec.ret;
}

static void rec_forget(void *fs, fb_ino_t ino, uint64_t n)
{
	if (rec.nforgets < 64) {
		rec.forgets[rec.nforgets][0] = ino;
		rec.forgets[rec.nforgets][1] = n;
	}
	rec.nforgets++;
}

static int rec_getattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino,
		       const struct fb_file_info *fi, struct stat *out, double *timeout)
{
	rec_call("getattr", ctx, ino);
	rec.has_fi = fi != NULL;
	rec.fh = fi ? fi->fh : 0;
	*out = rec.attr;
	*timeout = rec.timeout;
	return rec.ret;
}

static int rec_setattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const struct stat *in,
		       uint32_t valid, const struct fb_file_info *fi, struct stat *out,
		       double *timeout)
{
	rec_call("setattr", ctx, ino);
	rec.st_in = *in;
	rec.valid = valid;
	rec.has_fi = fi != NULL;
	rec.fh = fi ? fi->fh : 0;
	*out = rec.attr;
	*timeout = rec.timeout;
	return rec.ret;
}

static int rec_readlink(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, char *buf, size_t size)
{
	rec_call("readlink", ctx, ino);
	rec.size = (uint32_t)size;
	if (rec.ret)
		return rec.ret;
	memcpy(buf, rec.out, rec.outlen < size ? rec.outlen : size);
	return (int)rec.outlen;
}

static int rec_symlink(void *fs, const struct fb_ctx *ctx, const char *target, fb_ino_t parent,
		       const char *name, struct fb_entry *out)
{
	rec_call("symlink", ctx, parent);
	rec_name(name);
	rec_name2(target);
	*out = rec.entry;
	return rec.ret;
}

static int rec_mknod(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev, struct fb_entry *out)
{
	rec_call("mknod", ctx, parent);
	rec_name(name);
	rec.mode = mode;
	rec.rdev = rdev;
	*out = rec.entry;
	return rec.ret;
}

static int rec_mkdir(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		     mode_t mode, struct fb_entry *out)
{
	rec_call("mkdir", ctx, parent);
	rec_name(name);
	rec.mode = mode;
	*out = rec.entry;
	return rec.ret;
}

static int rec_unlink(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name)
{
	rec_call("unlink", ctx, parent);
	rec_name(name);
	return rec.ret;
}

static int rec_rmdir(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name)
{
	rec_call("rmdir", ctx, parent);
	rec_name(name);
	return rec.ret;
}

static int rec_rename(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		      fb_ino_t newparent, const char *newname, uint32_t flags)
{
	rec_call("rename", ctx, parent);
	rec_name(name);
	rec_name2(newname);
	rec.ino2 = newparent;
	rec.flags = flags;
	return rec.ret;
}

static int rec_link(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, fb_ino_t newparent,
		    const char *newname, struct fb_entry *out)
{
	rec_call("link", ctx, ino);
	rec.ino2 = newparent;
	rec_name(newname);
	*out = rec.entry;
	return rec.ret;
}

static int rec_open(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		    struct fb_file_info *fi)
{
	rec_call("open", ctx, ino);
	rec.iflags = flags;
	*fi = rec.fi;
	return rec.ret;
}

static int rec_create(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		      mode_t mode, int flags, struct fb_entry *out, struct fb_file_info *fi)
{
	rec_call("create", ctx, parent);
	rec_name(name);
	rec.mode = mode;
	rec.iflags = flags;
	*out = rec.entry;
	*fi = rec.fi;
	return rec.ret;
}

static int rec_read(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		    struct fb_writer *w, uint32_t size, uint64_t off, int flags)
{
	size_t n = rec.outlen < size ? rec.outlen : size;

	rec_call("read", ctx, ino);
	rec.fh = fh;
	rec.size = size;
	rec.off = off;
	rec.iflags = flags;
	if (rec.ret)
		return rec.ret;
	if (fb_writer_write(w, rec.out, n) < 0)
		return -ENOSPC;
	return (int)n;
}

static int rec_write(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		     struct fb_reader *r, uint32_t size, uint64_t off, uint32_t write_flags,
		     int flags)
{
	rec_call("write", ctx, ino);
	rec.fh = fh;
	rec.size = size;
	rec.off = off;
	rec.flags = write_flags;
	rec.iflags = flags;
	rec.datalen = size <= sizeof(rec.data) ? size : 0;
	if (rec.datalen && fb_reader_read(r, rec.data, size) < 0)
		return -EIO;
	return rec.ret ? rec.ret : (int)size;
}

static int rec_flush(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		     uint64_t lock_owner)
{
	rec_call("flush", ctx, ino);
	rec.fh = fh;
	rec.owner = lock_owner;
	return rec.ret;
}

static int rec_release(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int flags,
		       uint32_t release_flags, uint64_t lock_owner)
{
	rec_call("release", ctx, ino);
	rec.fh = fh;
	rec.iflags = flags;
	rec.flags = release_flags;
	rec.owner = lock_owner;
	return rec.ret;
}

static int rec_fsync(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int datasync)
{
	rec_call("fsync", ctx, ino);
	rec.fh = fh;
	rec.iflags = datasync;
	return rec.ret;
}

static int rec_opendir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		       struct fb_file_info *fi)
{
	rec_call("opendir", ctx, ino);
	rec.iflags = flags;
	*fi = rec.fi;
	return rec.ret;
}

static int rec_readdir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t off,
		       struct fb_dirbuf *buf)
{
	char name[32];

	rec_call("readdir", ctx, ino);
	rec.fh = fh;
	rec.off = off;
	for (int i = (int)off; i < rec.ndirents; i++) {
		int n = snprintf(name, sizeof(name), "entry%d", i);

		if (fb_dirbuf_add(buf, name, (size_t)n, 100 + (uint64_t)i, DT_REG,
				  (uint64_t)i + 1) < 0)
			break;
	}
	return rec.ret;
}

static int rec_readdirplus(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			   uint64_t off, struct fb_dirbuf *buf)
{
	char name[32];

	rec_call("readdirplus", ctx, ino);
	rec.fh = fh;
	rec.off = off;
	for (int i = (int)off; i < rec.ndirents; i++) {
		int n = snprintf(name, sizeof(name), "entry%d", i);
		struct fb_entry e = rec.entry;

		e.ino = 100 + (uint64_t)i;
		e.attr.st_ino = e.ino;
		if (fb_dirbuf_add_plus(buf, name, (size_t)n, &e, (uint64_t)i + 1) < 0)
			break;
		rec.len++; /* lookups handed out */
	}
	return rec.ret;
}

static int rec_releasedir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int flags)
{
	rec_call("releasedir", ctx, ino);
	rec.fh = fh;
	rec.iflags = flags;
	return rec.ret;
}

static int rec_fsyncdir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int datasync)
{
	rec_call("fsyncdir", ctx, ino);
	rec.fh = fh;
	rec.iflags = datasync;
	return rec.ret;
}

static int rec_statfs(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, struct statvfs *out)
{
	rec_call("statfs", ctx, ino);
	out->f_blocks = 1000;
	out->f_bfree = 500;
	out->f_bavail = 400;
	out->f_files = 300;
	out->f_ffree = 200;
	out->f_bsize = 4096;
	out->f_namemax = 255;
	out->f_frsize = 1024;
	return rec.ret;
}

static int rec_setxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name,
			const void *value, size_t size, int flags, uint32_t setxattr_flags)
{
	rec_call("setxattr", ctx, ino);
	rec_name(name);
	rec.datalen = size <= sizeof(rec.data) ? size : 0;
	memcpy(rec.data, value, rec.datalen);
	rec.iflags = flags;
	rec.flags2 = setxattr_flags;
	return rec.ret;
}

static int rec_getxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name,
			void *buf, size_t size)
{
	rec_call("getxattr", ctx, ino);
	rec_name(name);
	rec.size = (uint32_t)size;
	if (rec.ret)
		return rec.ret;
	if (size == 0)
		return (int)rec.outlen;
	if (rec.outlen > size)
		return -ERANGE;
	memcpy(buf, rec.out, rec.outlen);
	return (int)rec.outlen;
}

static int rec_listxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, char *buf, size_t size)
{
	rec_call("listxattr", ctx, ino);
	rec.size = (uint32_t)size;
	if (rec.ret)
		return rec.ret;
	if (size == 0)
		return (int)rec.outlen;
	if (rec.outlen > size)
		return -ERANGE;
	memcpy(buf, rec.out, rec.outlen);
	return (int)rec.outlen;
}

static int rec_removexattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name)
{
	rec_call("removexattr", ctx, ino);
	rec_name(name);
	return rec.ret;
}

static int rec_access(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint32_t mask)
{
	rec_call("access", ctx, ino);
	rec.mode = mask;
	return rec.ret;
}

static int rec_getlk(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		     struct fb_lock *lk)
{
	rec_call("getlk", ctx, ino);
	rec.fh = fh;
	rec.owner = owner;
	rec.lk = *lk;
	lk->type = F_WRLCK;
	lk->pid = 99;
	return rec.ret;
}

static int rec_setlk(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		     const struct fb_lock *lk, int sleep)
{
	rec_call("setlk", ctx, ino);
	rec.fh = fh;
	rec.owner = owner;
	rec.lk = *lk;
	rec.sleep = sleep;
	return rec.ret;
}

static int rec_flock(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		     int op)
{
	rec_call("flock", ctx, ino);
	rec.fh = fh;
	rec.owner = owner;
	rec.lockop = op;
	return rec.ret;
}

static int rec_bmap(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint32_t blocksize,
		    uint64_t block, uint64_t *out)
{
	rec_call("bmap", ctx, ino);
	rec.size = blocksize;
	rec.off = block;
	*out = rec.u64out;
	return rec.ret;
}

static int rec_ioctl(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint32_t flags,
		     uint32_t cmd, const void *in, uint32_t in_size, void *out, uint32_t *out_size)
{
	rec_call("ioctl", ctx, ino);
	rec.fh = fh;
	rec.flags = flags;
	rec.flags2 = cmd;
	rec.datalen = in_size;
	if (in_size)
		memcpy(rec.data, in, in_size);
	rec.size = *out_size;
	if (rec.ret < 0)
		return rec.ret;
	if (rec.outlen > *out_size)
		rec.outlen = *out_size;
	memcpy(out, rec.out, rec.outlen);
	*out_size = (uint32_t)rec.outlen;
	return rec.ret;
}

static int rec_poll(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t kh,
		    uint32_t flags, uint32_t events, uint32_t *revents)
{
	rec_call("poll", ctx, ino);
	rec.fh = fh;
	rec.fh2 = kh;
	rec.flags = flags;
	rec.flags2 = events;
	*revents = rec.revents;
	return rec.ret;
}

static int rec_fallocate(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int mode,
			 uint64_t off, uint64_t len)
{
	rec_call("fallocate", ctx, ino);
	rec.fh = fh;
	rec.iflags = mode;
	rec.off = off;
	rec.len = len;
	return rec.ret;
}

static int rec_lseek(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t off,
		     int whence, uint64_t *out)
{
	rec_call("lseek", ctx, ino);
	rec.fh = fh;
	rec.off = off;
	rec.iflags = whence;
	*out = rec.u64out;
	return rec.ret;
}

static int rec_copy_file_range(void *fs, const struct fb_ctx *ctx, fb_ino_t ino_in, uint64_t fh_in,
			       uint64_t off_in, fb_ino_t ino_out, uint64_t fh_out, uint64_t off_out,
			       uint64_t len, uint64_t flags, uint64_t *copied)
{
	rec_call("copy_file_range", ctx, ino_in);
	rec.fh = fh_in;
	rec.off = off_in;
	rec.ino2 = ino_out;
	rec.fh2 = fh_out;
	rec.off2 = off_out;
	rec.len = len;
	rec.lflags = flags;
	*copied = rec.u64out;
	return rec.ret;
}

static int rec_tmpfile(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, mode_t mode, int flags,
		       struct fb_entry *out, struct fb_file_info *fi)
{
	rec_call("tmpfile", ctx, parent);
	rec.mode = mode;
	rec.iflags = flags;
	*out = rec.entry;
	*fi = rec.fi;
	return rec.ret;
}

static int rec_statx(void *fs, const struct fb_ctx *ctx, fb_ino_t ino,
		     const struct fb_file_info *fi, uint32_t sx_flags, uint32_t mask,
		     struct statx *out, double *timeout)
{
	rec_call("statx", ctx, ino);
	rec.has_fi = fi != NULL;
	rec.fh = fi ? fi->fh : 0;
	rec.flags = sx_flags;
	rec.flags2 = mask;
	out->stx_mask = mask;
	out->stx_ino = 4242;
	out->stx_size = 12345;
	out->stx_mode = S_IFREG | 0600;
	out->stx_btime.tv_sec = 1000;
	out->stx_btime.tv_nsec = 5;
	*timeout = rec.timeout;
	return rec.ret;
}

static int rec_syncfs(void *fs, const struct fb_ctx *ctx, fb_ino_t ino)
{
	rec_call("syncfs", ctx, ino);
	return rec.ret;
}

static int rec_setupmapping(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			    uint64_t foffset, uint64_t len, uint64_t flags, uint64_t moffset)
{
	rec_call("setupmapping", ctx, ino);
	rec.fh = fh;
	rec.off = foffset;
	rec.len = len;
	rec.lflags = flags;
	rec.off2 = moffset;
	return rec.ret;
}

static int rec_removemapping(void *fs, const struct fb_ctx *ctx, const struct fb_mapping *ranges,
			     uint32_t count)
{
	rec_call("removemapping", ctx, 0);
	for (uint32_t i = 0; i < count && rec.nmaps < 300; i++)
		rec.maps[rec.nmaps++] = ranges[i];
	return rec.ret;
}

static const struct fb_fs_ops rec_ops = {
	.init = rec_init,
	.destroy = rec_destroy,
	.lookup = rec_lookup,
	.forget = rec_forget,
	.getattr = rec_getattr,
	.setattr = rec_setattr,
	.readlink = rec_readlink,
	.symlink = rec_symlink,
	.mknod = rec_mknod,
	.mkdir = rec_mkdir,
	.unlink = rec_unlink,
	.rmdir = rec_rmdir,
	.rename = rec_rename,
	.link = rec_link,
	.open = rec_open,
	.create = rec_create,
	.read = rec_read,
	.write = rec_write,
	.flush = rec_flush,
	.release = rec_release,
	.fsync = rec_fsync,
	.opendir = rec_opendir,
	.readdir = rec_readdir,
	.readdirplus = rec_readdirplus,
	.releasedir = rec_releasedir,
	.fsyncdir = rec_fsyncdir,
	.statfs = rec_statfs,
	.setxattr = rec_setxattr,
	.getxattr = rec_getxattr,
	.listxattr = rec_listxattr,
	.removexattr = rec_removexattr,
	.access = rec_access,
	.getlk = rec_getlk,
	.setlk = rec_setlk,
	.flock = rec_flock,
	.bmap = rec_bmap,
	.ioctl = rec_ioctl,
	.poll = rec_poll,
	.fallocate = rec_fallocate,
	.lseek = rec_lseek,
	.copy_file_range = rec_copy_file_range,
	.tmpfile = rec_tmpfile,
	.statx = rec_statx,
	.syncfs = rec_syncfs,
	.setupmapping = rec_setupmapping,
	.removemapping = rec_removemapping,
};

/* A server over rec_ops with @cfg (NULL: defaults), already through INIT at 7.@minor. */
static inline struct fb_server *rec_server(const struct fb_server_config *cfg, uint32_t minor,
					   uint64_t flags, struct fbrep *p)
{
	struct fb_server *s = NULL;

	rec_reset();
	if (fb_server_new(&rec_ops, sizeof(rec_ops), NULL, cfg, &s) < 0)
		return NULL;
	if (minor && fbreq_init_session(s, minor, flags, p) != 0) {
		fb_server_free(s);
		return NULL;
	}
	rec_reset();
	return s;
}

#endif /* FB_TEST_RECFS_H */
