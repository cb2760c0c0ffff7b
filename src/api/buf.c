/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Readers and writers over iovec lists. The cursor is (idx, off); `remaining`/`available` is
 * kept so that every call can refuse a request that does not fit before touching anything.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <fuse_backend/buf.h>

static size_t iov_total(const struct iovec *iov, int iovcnt)
{
	size_t total = 0;

	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	return total;
}

/* Move a cursor (idx, off) forward by @len bytes, which the caller has checked exist. */
static void cursor_advance(const struct iovec *iov, int iovcnt, int *idx, size_t *off, size_t len)
{
	while (len > 0 && *idx < iovcnt) {
		size_t left = iov[*idx].iov_len - *off;

		if (len < left) {
			*off += len;
			return;
		}
		len -= left;
		(*idx)++;
		*off = 0;
	}
	/* Skip empty entries so that the cursor always sits on a byte when one remains. */
	while (*idx < iovcnt && iov[*idx].iov_len == *off) {
		(*idx)++;
		*off = 0;
	}
}

/*
 * Describe @len bytes from cursor (idx, off) as at most @max iovecs. Returns the count or
 * -E2BIG. Does not move the cursor.
 */
static int cursor_iov(const struct iovec *iov, int iovcnt, int idx, size_t off, size_t len,
		      struct iovec *out, int max)
{
	int n = 0;

	while (len > 0 && idx < iovcnt) {
		size_t left = iov[idx].iov_len - off;
		size_t take = len < left ? len : left;

		if (take > 0) {
			if (n == max)
				return -E2BIG;
			out[n].iov_base = (char *)iov[idx].iov_base + off;
			out[n].iov_len = take;
			n++;
			len -= take;
		}
		idx++;
		off = 0;
	}
	return n;
}

void fb_reader_init(struct fb_reader *r, const struct iovec *iov, int iovcnt)
{
	r->iov = iov;
	r->iovcnt = iovcnt < 0 ? 0 : iovcnt;
	r->idx = 0;
	r->off = 0;
	r->remaining = iov_total(iov, r->iovcnt);
	r->consumed = 0;
	r->shared = 0;
	cursor_advance(r->iov, r->iovcnt, &r->idx, &r->off, 0);
}

void fb_reader_init_shared(struct fb_reader *r, const struct iovec *iov, int iovcnt)
{
	fb_reader_init(r, iov, iovcnt);
	r->shared = 1;
}

int fb_reader_read(struct fb_reader *r, void *dst, size_t len)
{
	char *p = dst;

	if (len > r->remaining)
		return -EINVAL;
	r->remaining -= len;
	r->consumed += len;
	while (len > 0) {
		const struct iovec *v = &r->iov[r->idx];
		size_t take = v->iov_len - r->off;

		if (take > len)
			take = len;
		memcpy(p, (const char *)v->iov_base + r->off, take);
		p += take;
		len -= take;
		cursor_advance(r->iov, r->iovcnt, &r->idx, &r->off, take);
	}
	return 0;
}

int fb_reader_skip(struct fb_reader *r, size_t len)
{
	if (len > r->remaining)
		return -EINVAL;
	r->remaining -= len;
	r->consumed += len;
	cursor_advance(r->iov, r->iovcnt, &r->idx, &r->off, len);
	return 0;
}

int fb_reader_truncate(struct fb_reader *r, size_t len)
{
	if (len > r->remaining)
		return -EINVAL;
	r->remaining = len;
	return 0;
}

int fb_reader_iov(struct fb_reader *r, size_t len, struct iovec *out, int max)
{
	int n;

	if (len > r->remaining)
		return -EINVAL;
	n = cursor_iov(r->iov, r->iovcnt, r->idx, r->off, len, out, max);
	if (n < 0)
		return n;
	r->remaining -= len;
	r->consumed += len;
	cursor_advance(r->iov, r->iovcnt, &r->idx, &r->off, len);
	return n;
}

/*
 * Entries per preadv/pwritev: the kernel's limit (UIO_MAXIOV), so that a 1 MiB request in 4 KiB
 * pages (a guest's descriptor chain) moves in one system call; longer lists go in rounds.
 */
#define FB_BUF_IOV_BATCH 1024

ssize_t fb_reader_to_fd(struct fb_reader *r, int fd, size_t len, off_t off)
{
	struct iovec v[FB_BUF_IOV_BATCH];
	size_t done = 0;

	if (len > r->remaining)
		return -EINVAL;
	while (done < len) {
		int n = cursor_iov(r->iov, r->iovcnt, r->idx, r->off, len - done, v,
				   FB_BUF_IOV_BATCH);
		ssize_t w;

		if (n == -E2BIG)
			n = FB_BUF_IOV_BATCH; /* the first batch is filled: write that much */
		if (n <= 0)
			break;
		w = off < 0 ? writev(fd, v, n) : pwritev(fd, v, n, off + (off_t)done);
		if (w < 0) {
			if (done > 0)
				break;
			return -errno;
		}
		r->remaining -= (size_t)w;
		r->consumed += (size_t)w;
		cursor_advance(r->iov, r->iovcnt, &r->idx, &r->off, (size_t)w);
		done += (size_t)w;
		if (w == 0)
			break;
		/* A short write that is not at a batch boundary: report it as it is. */
		size_t batch = 0;
		for (int i = 0; i < n; i++)
			batch += v[i].iov_len;
		if ((size_t)w < batch)
			break;
	}
	return (ssize_t)done;
}

void fb_writer_init(struct fb_writer *w, const struct iovec *iov, int iovcnt)
{
	w->iov = iov;
	w->iovcnt = iovcnt < 0 ? 0 : iovcnt;
	w->idx = 0;
	w->off = 0;
	w->available = iov_total(iov, w->iovcnt);
	w->written = 0;
	cursor_advance(w->iov, w->iovcnt, &w->idx, &w->off, 0);
}

static void writer_copy(struct fb_writer *w, const void *src, size_t len)
{
	const char *p = src;

	w->available -= len;
	w->written += len;
	while (len > 0) {
		const struct iovec *v = &w->iov[w->idx];
		size_t take = v->iov_len - w->off;

		if (take > len)
			take = len;
		if (p) {
			memcpy((char *)v->iov_base + w->off, p, take);
			p += take;
		} else {
			memset((char *)v->iov_base + w->off, 0, take);
		}
		len -= take;
		cursor_advance(w->iov, w->iovcnt, &w->idx, &w->off, take);
	}
}

int fb_writer_write(struct fb_writer *w, const void *src, size_t len)
{
	if (len > w->available)
		return -ENOSPC;
	if (len > 0)
		writer_copy(w, src, len);
	return 0;
}

int fb_writer_zero(struct fb_writer *w, size_t len)
{
	if (len > w->available)
		return -ENOSPC;
	writer_copy(w, NULL, len);
	return 0;
}

int fb_writer_pwrite(struct fb_writer *w, size_t pos, const void *src, size_t len)
{
	const char *p = src;
	int idx = 0;
	size_t off = 0;

	if (pos > w->written || len > w->written - pos)
		return -EINVAL;
	cursor_advance(w->iov, w->iovcnt, &idx, &off, pos);
	while (len > 0) {
		const struct iovec *v = &w->iov[idx];
		size_t take = v->iov_len - off;

		if (take > len)
			take = len;
		memcpy((char *)v->iov_base + off, p, take);
		p += take;
		len -= take;
		cursor_advance(w->iov, w->iovcnt, &idx, &off, take);
	}
	return 0;
}

int fb_writer_iov(struct fb_writer *w, size_t len, struct iovec *out, int max)
{
	int n;

	if (len > w->available)
		return -ENOSPC;
	n = cursor_iov(w->iov, w->iovcnt, w->idx, w->off, len, out, max);
	if (n < 0)
		return n;
	w->available -= len;
	w->written += len;
	cursor_advance(w->iov, w->iovcnt, &w->idx, &w->off, len);
	return n;
}

ssize_t fb_writer_from_fd(struct fb_writer *w, int fd, size_t len, off_t off)
{
	struct iovec v[FB_BUF_IOV_BATCH];
	size_t done = 0;

	if (len > w->available)
		return -ENOSPC;
	while (done < len) {
		int n = cursor_iov(w->iov, w->iovcnt, w->idx, w->off, len - done, v,
				   FB_BUF_IOV_BATCH);
		size_t batch = 0;
		ssize_t got;

		if (n == -E2BIG)
			n = FB_BUF_IOV_BATCH;
		if (n <= 0)
			break;
		got = off < 0 ? readv(fd, v, n) : preadv(fd, v, n, off + (off_t)done);
		if (got < 0) {
			if (done > 0)
				break;
			return -errno;
		}
		w->available -= (size_t)got;
		w->written += (size_t)got;
		cursor_advance(w->iov, w->iovcnt, &w->idx, &w->off, (size_t)got);
		done += (size_t)got;
		for (int i = 0; i < n; i++)
			batch += v[i].iov_len;
		if (got == 0 || (size_t)got < batch)
			break; /* end of file or a short read */
	}
	return (ssize_t)done;
}
