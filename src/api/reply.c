/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Reply encoders: what a file system fills (struct stat, fb_entry, fb_file_info, statvfs,
 * statx) turned into the kernel's structures. INIT refuses minors before 7.27, so every
 * structure has its current size (no compat layouts).
 *
 * Every reply starts with a 16-byte out header that dispatch reserves before the handler runs;
 * the encoders here only append bodies. Error replies are the one place where an errno
 * becomes a wire value, and the only place that refuses bogus ones.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "api/server_i.h"

/* The kernel refuses error values outside [-511, -1] (it reserves -512 and below). */
#define FB__ERRNO_WIRE_MAX 511

void fb__timeout_split(double t, uint64_t *sec, uint32_t *nsec)
{
	/* NaN and negatives mean "do not cache"; anything past 2^63 s is forever. */
	if (!(t > 0)) {
		*sec = 0;
		*nsec = 0;
		return;
	}
	if (t >= 9.2e18) {
		*sec = INT64_MAX;
		*nsec = 0;
		return;
	}
	uint64_t whole = (uint64_t)t;
	double frac = (t - (double)whole) * 1e9;

	*sec = whole;
	*nsec = frac >= 999999999.0 ? 999999999u : (uint32_t)frac;
}

void fb__attr_from_stat(const struct stat *st, uint32_t flags, struct fb_attr *out)
{
	memset(out, 0, sizeof(*out));
	out->ino = st->st_ino;
	out->size = (uint64_t)st->st_size;
	out->blocks = (uint64_t)st->st_blocks;
	out->atime = (uint64_t)st->st_atim.tv_sec;
	out->mtime = (uint64_t)st->st_mtim.tv_sec;
	out->ctime = (uint64_t)st->st_ctim.tv_sec;
	out->atimensec = (uint32_t)st->st_atim.tv_nsec;
	out->mtimensec = (uint32_t)st->st_mtim.tv_nsec;
	out->ctimensec = (uint32_t)st->st_ctim.tv_nsec;
	out->mode = st->st_mode;
	out->nlink = (uint32_t)st->st_nlink;
	out->uid = st->st_uid;
	out->gid = st->st_gid;
	/* The kernel decodes rdev with new_decode_dev(): the 32-bit "new" encoding. */
	out->rdev = (uint32_t)((minor(st->st_rdev) & 0xff) | (major(st->st_rdev) << 8) |
			       ((minor(st->st_rdev) & ~0xffu) << 12));
	out->blksize = (uint32_t)st->st_blksize;
	out->flags = flags;
}

void fb__entry_out_fill(const struct fb_entry *e, struct fb_entry_out *out)
{
	memset(out, 0, sizeof(*out));
	out->nodeid = e->ino;
	out->generation = e->generation;
	fb__timeout_split(e->entry_timeout, &out->entry_valid, &out->entry_valid_nsec);
	fb__timeout_split(e->attr_timeout, &out->attr_valid, &out->attr_valid_nsec);
	fb__attr_from_stat(&e->attr, e->attr_flags, &out->attr);
}

int fb__errno_check(const struct fb__req *req, int err)
{
	if (err < 0 && err >= -FB__ERRNO_WIRE_MAX)
		return err;
	/* The operation took its request (fb_ctx_defer()): its handler stops here. */
	if (err == FB_REPLY_LATER && req->d)
		return FB__DEFERRED;
	fb_log(FB_LOG_ERR,
	       "unique=%" PRIu64 " %s: file system returned invalid error %d, "
	       "sending EIO",
	       req->h.unique, fb_opcode_name(req->h.opcode), err);
	return -EIO;
}

int fb__put(struct fb__req *req, const void *src, size_t len)
{
	if (fb_writer_write(req->w, src, len) < 0) {
		fb_log(FB_LOG_ERR, "unique=%" PRIu64 " %s: reply of %zu more bytes does not fit",
		       req->h.unique, fb_opcode_name(req->h.opcode), len);
		return -ERANGE;
	}
	return 0;
}

int fb__reply_header(struct fb_writer *w, size_t start, uint64_t unique, int32_t error)
{
	struct fb_out_header oh;
	size_t len = fb_writer_written(w) - start;

	if (len > UINT32_MAX)
		return -ERANGE;
	oh.len = (uint32_t)len;
	oh.error = error;
	oh.unique = unique;
	return fb_writer_pwrite(w, start, &oh, sizeof(oh));
}

ssize_t fb__reply_error(struct fb_writer *w, const struct fb_writer *start, uint64_t unique,
			int err)
{
	struct fb_out_header oh = {
		.len = sizeof(oh),
		.error = err,
		.unique = unique,
	};

	*w = *start;
	if (fb_writer_write(w, &oh, sizeof(oh)) < 0)
		return -ENOSPC;
	return sizeof(oh);
}

int fb__reply_entry(struct fb__req *req, const struct fb_entry *e)
{
	struct fb_entry_out eo;

	fb__entry_out_fill(e, &eo);
	return fb__put(req, &eo, sizeof(eo));
}

int fb__reply_attr(struct fb__req *req, const struct stat *st, double timeout)
{
	struct fb_attr_out ao;

	memset(&ao, 0, sizeof(ao));
	fb__timeout_split(timeout, &ao.attr_valid, &ao.attr_valid_nsec);
	fb__attr_from_stat(st, 0, &ao.attr);
	return fb__put(req, &ao, sizeof(ao));
}

int fb__reply_open(struct fb__req *req, const struct fb_file_info *fi)
{
	struct fb_open_out oo;

	memset(&oo, 0, sizeof(oo));
	oo.fh = fi->fh;
	oo.open_flags = fi->open_flags;
	/*
	 * A file system without flush() has nothing to do at close(): spare each close() its
	 * FLUSH round trip (the kernel still sends one with the writeback cache, answered ENOSYS).
	 */
	if (!req->s->ops.flush)
		oo.open_flags |= FB_FOPEN_NOFLUSH;
	if (fi->open_flags & FB_FOPEN_PASSTHROUGH)
		oo.backing_id = fi->backing_id;
	return fb__put(req, &oo, sizeof(oo));
}

int fb__reply_create(struct fb__req *req, const struct fb_entry *e, const struct fb_file_info *fi)
{
	int r = fb__reply_entry(req, e);

	if (r < 0)
		return r;
	return fb__reply_open(req, fi);
}

int fb__reply_statfs(struct fb__req *req, const struct statvfs *st)
{
	struct fb_statfs_out so;

	memset(&so, 0, sizeof(so));
	so.st.blocks = st->f_blocks;
	so.st.bfree = st->f_bfree;
	so.st.bavail = st->f_bavail;
	so.st.files = st->f_files;
	so.st.ffree = st->f_ffree;
	so.st.bsize = (uint32_t)st->f_bsize;
	so.st.namelen = (uint32_t)st->f_namemax;
	so.st.frsize = (uint32_t)st->f_frsize;
	return fb__put(req, &so, sizeof(so));
}

static void sx_time(struct fb_sx_time *out, const struct statx_timestamp *in)
{
	out->tv_sec = in->tv_sec;
	out->tv_nsec = in->tv_nsec;
	out->__reserved = 0;
}

int fb__reply_statx(struct fb__req *req, const struct statx *sx, double timeout)
{
	struct fb_statx_out so;

	memset(&so, 0, sizeof(so));
	fb__timeout_split(timeout, &so.attr_valid, &so.attr_valid_nsec);
	so.stat.mask = sx->stx_mask;
	so.stat.blksize = sx->stx_blksize;
	so.stat.attributes = sx->stx_attributes;
	so.stat.nlink = sx->stx_nlink;
	so.stat.uid = sx->stx_uid;
	so.stat.gid = sx->stx_gid;
	so.stat.mode = sx->stx_mode;
	so.stat.ino = sx->stx_ino;
	so.stat.size = sx->stx_size;
	so.stat.blocks = sx->stx_blocks;
	so.stat.attributes_mask = sx->stx_attributes_mask;
	sx_time(&so.stat.atime, &sx->stx_atime);
	sx_time(&so.stat.btime, &sx->stx_btime);
	sx_time(&so.stat.ctime, &sx->stx_ctime);
	sx_time(&so.stat.mtime, &sx->stx_mtime);
	so.stat.rdev_major = sx->stx_rdev_major;
	so.stat.rdev_minor = sx->stx_rdev_minor;
	so.stat.dev_major = sx->stx_dev_major;
	so.stat.dev_minor = sx->stx_dev_minor;
	return fb__put(req, &so, sizeof(so));
}
