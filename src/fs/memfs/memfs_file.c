/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * memfs file data: a sorted array of 4 KiB pages per file. A page that was never written (or was
 * punched out) is a hole: it costs nothing, reads as zeros, and SEEK_DATA / SEEK_HOLE see it.
 *
 * Invariant: every byte of an allocated page at or beyond the file size is zero, so extending
 * a file (truncate up, a write past the end) never shows old data.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/falloc.h>

#include <fuse_backend/abi.h>

#include "memfs_i.h"

/* Largest read or write answered at once (the count is returned as an int). */
#define MEMFS_IO_MAX	(1u << 30)

/* Index in the page array of the first page with idx >= @idx (npages if none). */
static size_t page_lower_bound(const struct memfs_inode *inode, uint64_t idx)
{
	size_t lo = 0, hi = inode->file.npages;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (inode->file.pages[mid].idx < idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static unsigned char *page_lookup(const struct memfs_inode *inode, uint64_t idx)
{
	size_t pos = page_lower_bound(inode, idx);

	if (pos < inode->file.npages && inode->file.pages[pos].idx == idx)
		return inode->file.pages[pos].data;
	return NULL;
}

/* Page @idx, allocated and zeroed if absent (charged against max_bytes). */
static int page_get(struct fb_memfs *m, struct memfs_inode *inode, uint64_t idx,
		    unsigned char **ret)
{
	size_t pos = page_lower_bound(inode, idx), n = inode->file.npages;
	struct memfs_page *pages = inode->file.pages;
	unsigned char *data;
	int r;

	if (pos < n && pages[pos].idx == idx) {
		*ret = pages[pos].data;
		return 0;
	}
	if (n == inode->file.pages_cap) {
		size_t cap = n ? n * 2 : 4;

		pages = realloc(pages, cap * sizeof(*pages));
		if (!pages)
			return -ENOMEM;
		inode->file.pages = pages;
		inode->file.pages_cap = cap;
	}
	r = fb__memfs_charge(m, MEMFS_PAGE);
	if (r < 0)
		return r;
	data = calloc(1, MEMFS_PAGE);
	if (!data) {
		fb__memfs_uncharge(m, MEMFS_PAGE);
		return -ENOMEM;
	}
	memmove(&pages[pos + 1], &pages[pos], (n - pos) * sizeof(*pages));
	pages[pos].idx = idx;
	pages[pos].data = data;
	inode->file.npages++;
	*ret = data;
	return 0;
}

/* Free the pages whose idx is in [@first, @last]. */
static void pages_drop(struct fb_memfs *m, struct memfs_inode *inode, uint64_t first,
		       uint64_t last)
{
	struct memfs_page *pages = inode->file.pages;
	size_t a = page_lower_bound(inode, first), b = a, n = inode->file.npages;

	while (b < n && pages[b].idx <= last) {
		free(pages[b].data);
		fb__memfs_uncharge(m, MEMFS_PAGE);
		b++;
	}
	if (b == a)
		return;
	memmove(&pages[a], &pages[b], (n - b) * sizeof(*pages));
	inode->file.npages = n - (b - a);
	/* Give back a mostly empty array. */
	if (inode->file.pages_cap > 16 && inode->file.npages < inode->file.pages_cap / 4) {
		size_t cap = inode->file.pages_cap / 2;
		struct memfs_page *p = realloc(pages, cap * sizeof(*p));

		if (p) {
			inode->file.pages = p;
			inode->file.pages_cap = cap;
		}
	}
}

void fb__memfs_pages_free(struct fb_memfs *m, struct memfs_inode *inode)
{
	pages_drop(m, inode, 0, UINT64_MAX);
	free(inode->file.pages);
	inode->file.pages = NULL;
	inode->file.pages_cap = 0;
}

/* Make [@off, @off + @len) read as zeros: whole pages are freed, partial ones cleared. */
static void zero_range(struct fb_memfs *m, struct memfs_inode *inode, uint64_t off,
		       uint64_t len)
{
	uint64_t end = off + len;	/* callers keep this below INT64_MAX */
	uint64_t first_full = (off + MEMFS_PAGE - 1) / MEMFS_PAGE, end_full = end / MEMFS_PAGE;
	unsigned char *p;

	if (len == 0)
		return;
	if (off % MEMFS_PAGE) {
		bool same = end / MEMFS_PAGE == off / MEMFS_PAGE;
		uint64_t stop = same ? end % MEMFS_PAGE : MEMFS_PAGE;

		p = page_lookup(inode, off / MEMFS_PAGE);
		if (p)
			memset(p + off % MEMFS_PAGE, 0, stop - off % MEMFS_PAGE);
	}
	if (end % MEMFS_PAGE && (end / MEMFS_PAGE != off / MEMFS_PAGE || off % MEMFS_PAGE == 0)) {
		p = page_lookup(inode, end / MEMFS_PAGE);
		if (p)
			memset(p, 0, end % MEMFS_PAGE);
	}
	if (first_full < end_full)
		pages_drop(m, inode, first_full, end_full - 1);
}

/*
 * Set the size of regular file @inode. Shrinking frees the pages past the end (fallocated ones
 * too) and clears the tail of the last one; growing adds a hole. The caller checked the limit.
 */
int fb__memfs_truncate(struct fb_memfs *m, struct memfs_inode *inode, uint64_t size)
{
	uint64_t keep = (size + MEMFS_PAGE - 1) / MEMFS_PAGE;

	if (size % MEMFS_PAGE) {
		unsigned char *p = page_lookup(inode, size / MEMFS_PAGE);

		if (p)
			memset(p + size % MEMFS_PAGE, 0, MEMFS_PAGE - size % MEMFS_PAGE);
	}
	pages_drop(m, inode, keep, UINT64_MAX);
	inode->size = size;
	return 0;
}

/* The regular file @ino for I/O: -ENOENT, -EISDIR, -EINVAL. */
static int get_file(struct fb_memfs *m, fb_ino_t ino, struct memfs_inode **ret)
{
	struct memfs_inode *inode = fb__memfs_find(m, ino);

	if (!inode)
		return -ENOENT;
	if (S_ISDIR(inode->mode))
		return -EISDIR;
	if (!S_ISREG(inode->mode))
		return -EINVAL;
	*ret = inode;
	return 0;
}

int fb__memfs_read(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		   struct fb_writer *w, uint32_t size, uint64_t off, int flags)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *inode;
	uint64_t pos, end;
	int r;

	pthread_rwlock_rdlock(&m->lock);
	r = get_file(m, ino, &inode);
	if (r < 0)
		goto out_unlock;
	pthread_mutex_lock(&inode->mu);
	if (off >= inode->size || size == 0)
		goto out_unlock_inode;
	end = inode->size - off < size ? inode->size : off + size;
	if (end - off > MEMFS_IO_MAX)
		end = off + MEMFS_IO_MAX;
	for (pos = off; pos < end;) {
		size_t chunk = MEMFS_PAGE - pos % MEMFS_PAGE;
		unsigned char *p = page_lookup(inode, pos / MEMFS_PAGE);

		if (chunk > end - pos)
			chunk = end - pos;
		r = p ? fb_writer_write(w, p + pos % MEMFS_PAGE, chunk) : fb_writer_zero(w, chunk);
		if (r < 0)
			break;
		pos += chunk;
	}
	if (pos > off) {
		fb__memfs_now(&inode->atime);
		r = (int)(pos - off);
	}
out_unlock_inode:
	pthread_mutex_unlock(&inode->mu);
out_unlock:
	pthread_rwlock_unlock(&m->lock);
	return r;
}

/*
 * Take the lock for an operation that writes data to @ino. Writing drops set-user-ID (see
 * fb__memfs_should_kill_suid), and the mode changes only under the write lock: in that case
 * take it instead of the read lock. Returns the file with the lock held, or an error unlocked.
 */
static int lock_for_write(struct fb_memfs *m, const struct fb_ctx *ctx, fb_ino_t ino,
			  bool kill_asked, struct memfs_inode **ret)
{
	struct memfs_inode *inode;
	int r;

	pthread_rwlock_rdlock(&m->lock);
	r = get_file(m, ino, &inode);
	if (r == 0 && !fb__memfs_should_kill_suid(ctx, inode, kill_asked)) {
		*ret = inode;
		return 0;
	}
	pthread_rwlock_unlock(&m->lock);
	if (r < 0)
		return r;

	pthread_rwlock_wrlock(&m->lock);
	r = get_file(m, ino, &inode);
	if (r < 0) {
		pthread_rwlock_unlock(&m->lock);
		return r;
	}
	if (fb__memfs_should_kill_suid(ctx, inode, kill_asked))
		fb__memfs_kill_suid(inode);
	*ret = inode;
	return 0;
}

/* Is [@off, @off + @len) inside the largest file size? */
static bool range_ok(const struct fb_memfs *m, uint64_t off, uint64_t len)
{
	return off <= m->cfg.max_file_size && len <= m->cfg.max_file_size - off;
}

/* Copy @len bytes from @r into @inode at @off. Returns the bytes written or an error. */
static int64_t file_write(struct fb_memfs *m, struct memfs_inode *inode, struct fb_reader *rd,
			  uint64_t off, uint64_t len)
{
	uint64_t pos = off, end = off + len;
	int r = 0;

	while (pos < end) {
		size_t chunk = MEMFS_PAGE - pos % MEMFS_PAGE;
		unsigned char *p;

		if (chunk > end - pos)
			chunk = end - pos;
		r = page_get(m, inode, pos / MEMFS_PAGE, &p);
		if (r < 0)
			break;
		r = fb_reader_read(rd, p + pos % MEMFS_PAGE, chunk);
		if (r < 0)
			break;
		pos += chunk;
	}
	if (pos > inode->size)
		inode->size = pos;
	if (pos > off)
		return (int64_t)(pos - off);	/* a short write, as POSIX allows */
	return r;
}

int fb__memfs_write(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		    struct fb_reader *r, uint32_t size, uint64_t off, uint32_t write_flags,
		    int flags)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *inode;
	int64_t n;
	int ret;

	if (size > MEMFS_IO_MAX)
		return -EINVAL;
	if (!range_ok(m, off, size))
		return -EFBIG;
	/* An empty write changes nothing, not even the mode. */
	if (size == 0) {
		pthread_rwlock_rdlock(&m->lock);
		ret = get_file(m, ino, &inode);
		pthread_rwlock_unlock(&m->lock);
		return ret;
	}
	ret = lock_for_write(m, ctx, ino, write_flags & FB_WRITE_KILL_SUIDGID, &inode);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&inode->mu);
	n = file_write(m, inode, r, off, size);
	if (n > 0) {
		fb__memfs_now(&inode->mtime);
		inode->ctime = inode->mtime;
	}
	pthread_mutex_unlock(&inode->mu);
	pthread_rwlock_unlock(&m->lock);
	return (int)n;
}

/* How many of pages [@first, @last] are not allocated? */
static uint64_t pages_missing(const struct memfs_inode *inode, uint64_t first, uint64_t last)
{
	size_t a = page_lower_bound(inode, first), b = page_lower_bound(inode, last + 1);

	return (last - first + 1) - (b - a);
}

int fb__memfs_fallocate(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			int mode, uint64_t off, uint64_t len)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *inode;
	uint64_t end = off + len;
	int r;

	if (mode != 0 && mode != FALLOC_FL_KEEP_SIZE &&
	    mode != (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE))
		return -EOPNOTSUPP;
	if (len == 0)
		return -EINVAL;
	if (!range_ok(m, off, len))
		return -EFBIG;

	pthread_rwlock_rdlock(&m->lock);
	r = get_file(m, ino, &inode);
	if (r < 0) {
		if (r == -EINVAL)
			r = -ENODEV;
		goto out_unlock;
	}
	pthread_mutex_lock(&inode->mu);
	if (mode & FALLOC_FL_PUNCH_HOLE) {
		zero_range(m, inode, off, len);
	} else {
		uint64_t first = off / MEMFS_PAGE, last = (end - 1) / MEMFS_PAGE;
		uint64_t used = fb_memfs_bytes_used(m), missing = pages_missing(inode, first, last);

		/* Refuse up front rather than fill the file system and fail half way. */
		if (missing > (m->cfg.max_bytes - used) / MEMFS_PAGE) {
			r = -ENOSPC;
			goto out_unlock_inode;
		}
		for (uint64_t i = first; i <= last; i++) {
			unsigned char *p;

			r = page_get(m, inode, i, &p);
			if (r < 0)
				goto out_unlock_inode;
		}
		if (!(mode & FALLOC_FL_KEEP_SIZE) && end > inode->size) {
			inode->size = end;
			fb__memfs_now(&inode->mtime);
		}
	}
	fb__memfs_now(&inode->ctime);
	if (mode & FALLOC_FL_PUNCH_HOLE)
		inode->mtime = inode->ctime;
out_unlock_inode:
	pthread_mutex_unlock(&inode->mu);
out_unlock:
	pthread_rwlock_unlock(&m->lock);
	fb__memfs_maybe_trim(m);
	return r;
}

int fb__memfs_lseek(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		    uint64_t off, int whence, uint64_t *out)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *inode;
	size_t pos;
	int r;

	if (whence != SEEK_DATA && whence != SEEK_HOLE)
		return -EINVAL;
	pthread_rwlock_rdlock(&m->lock);
	r = get_file(m, ino, &inode);
	if (r < 0)
		goto out_unlock;
	pthread_mutex_lock(&inode->mu);
	if (off >= inode->size) {
		r = -ENXIO;
		goto out_unlock_inode;
	}
	pos = page_lower_bound(inode, off / MEMFS_PAGE);
	if (whence == SEEK_DATA) {
		uint64_t start;

		if (pos == inode->file.npages) {
			r = -ENXIO;
			goto out_unlock_inode;
		}
		start = inode->file.pages[pos].idx * MEMFS_PAGE;
		if (start >= inode->size) {
			r = -ENXIO;	/* only fallocated pages past the end */
			goto out_unlock_inode;
		}
		*out = start > off ? start : off;
	} else {
		uint64_t idx = off / MEMFS_PAGE, hole;

		while (pos < inode->file.npages && inode->file.pages[pos].idx == idx) {
			pos++;
			idx++;
		}
		hole = idx * MEMFS_PAGE;
		if (hole < off)
			hole = off;
		*out = hole < inode->size ? hole : inode->size;	/* EOF is a hole */
	}
out_unlock_inode:
	pthread_mutex_unlock(&inode->mu);
out_unlock:
	pthread_rwlock_unlock(&m->lock);
	return r;
}

/*
 * Copy [@off_in, +@len) of @in to @off_out of @out, both locked. Holes of the source stay holes.
 * Returns the bytes copied or an error.
 */
static int64_t file_copy(struct fb_memfs *m, struct memfs_inode *in, uint64_t off_in,
			 struct memfs_inode *out, uint64_t off_out, uint64_t len)
{
	uint64_t done = 0;
	int r = 0;

	while (done < len) {
		uint64_t src = off_in + done, dst = off_out + done;
		size_t chunk = MEMFS_PAGE - src % MEMFS_PAGE;
		unsigned char *sp, *dp;

		if (chunk > MEMFS_PAGE - dst % MEMFS_PAGE)
			chunk = MEMFS_PAGE - dst % MEMFS_PAGE;
		if (chunk > len - done)
			chunk = len - done;
		sp = page_lookup(in, src / MEMFS_PAGE);
		if (sp) {
			r = page_get(m, out, dst / MEMFS_PAGE, &dp);
			if (r < 0)
				break;
			memmove(dp + dst % MEMFS_PAGE, sp + src % MEMFS_PAGE, chunk);
		} else {
			zero_range(m, out, dst, chunk);
		}
		done += chunk;
	}
	if (done > 0 && off_out + done > out->size)
		out->size = off_out + done;
	return done > 0 ? (int64_t)done : r;
}

int fb__memfs_copy_file_range(void *fs, const struct fb_ctx *ctx, fb_ino_t ino_in,
			      uint64_t fh_in, uint64_t off_in, fb_ino_t ino_out, uint64_t fh_out,
			      uint64_t off_out, uint64_t len, uint64_t flags, uint64_t *copied)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *in, *out, *first, *second;
	int64_t n = 0;
	int r;

	if (flags != 0)
		return -EINVAL;
	if (len > MEMFS_IO_MAX)
		len = MEMFS_IO_MAX;
	if (off_in > m->cfg.max_file_size)
		len = 0;		/* past the end of any file: nothing to copy */
	if (!range_ok(m, off_out, len))
		return -EFBIG;
	if (ino_in == ino_out && off_in < off_out + len && off_out < off_in + len)
		return -EINVAL;		/* overlapping ranges of one file */
	r = lock_for_write(m, ctx, ino_out, false, &out);
	if (r < 0)
		return r;
	r = get_file(m, ino_in, &in);
	if (r < 0)
		goto out_unlock;
	/* Two inode mutexes: lower ino first. */
	first = in->ino <= out->ino ? in : out;
	second = in->ino <= out->ino ? out : in;
	pthread_mutex_lock(&first->mu);
	if (second != first)
		pthread_mutex_lock(&second->mu);
	if (off_in < in->size) {
		if (len > in->size - off_in)
			len = in->size - off_in;
		n = file_copy(m, in, off_in, out, off_out, len);
		if (n > 0) {
			fb__memfs_now(&out->mtime);
			out->ctime = out->mtime;
		}
	}
	if (second != first)
		pthread_mutex_unlock(&second->mu);
	pthread_mutex_unlock(&first->mu);
	if (n >= 0)
		*copied = (uint64_t)n;
	r = n < 0 ? (int)n : 0;
out_unlock:
	pthread_rwlock_unlock(&m->lock);
	return r;
}
