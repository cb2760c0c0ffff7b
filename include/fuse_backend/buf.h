/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Readers and writers over lists of iovecs.
 *
 * Every transport hands the request server exactly two things: an fb_reader over the bytes of
 * one request and an fb_writer over the memory that takes its reply. The memory can be a
 * /dev/fuse read buffer, an io_uring entry's header and payload buffers, or a descriptor chain
 * mapped from a guest. The server and the file systems never see anything else of the medium.
 *
 * Both walk their iovec list strictly: no call reads or writes outside the iovecs, and a call
 * that cannot be satisfied whole changes nothing and returns a negative errno.
 *
 * The iovec arrays are borrowed: they must stay valid (and unmodified) while the reader or
 * writer is used. Neither object allocates or frees anything.
 */
#ifndef FUSE_BACKEND_BUF_H
#define FUSE_BACKEND_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A cursor over readable iovecs. Fields are private; use the functions below. */
struct fb_reader {
	const struct iovec *iov;	/* borrowed array */
	int iovcnt;			/* entries in iov */
	int idx;			/* current entry */
	size_t off;			/* offset inside iov[idx] */
	size_t remaining;		/* bytes left from the cursor to the end */
	size_t consumed;		/* bytes consumed since init */
	int shared;			/* over memory another party may write, see below */
};

/* A cursor over writable iovecs. Fields are private; use the functions below. */
struct fb_writer {
	const struct iovec *iov;	/* borrowed array */
	int iovcnt;			/* entries in iov */
	int idx;			/* current entry */
	size_t off;			/* offset inside iov[idx] */
	size_t available;		/* bytes left from the cursor to the end */
	size_t written;			/* bytes written since init (the cursor's position) */
};

/*
 * Start a reader over @iovcnt entries of @iov. Zero-length entries are allowed. The total
 * length is computed here, once.
 */
void fb_reader_init(struct fb_reader *r, const struct iovec *iov, int iovcnt);

/*
 * As fb_reader_init(), for memory that another party can write while we read it (a guest's
 * memory under virtio-fs, a ring shared with a process). The rule: whatever of such a request
 * is checked is copied first. The server copies the header, the fixed arguments, names and
 * extensions of a shared request into private memory once and then validates and uses only
 * the copy (it never decodes them in place); bulk payload (WRITE data, READ replies) stays in
 * the shared memory and moves through fb_reader_to_fd() / fb_writer_from_fd() or
 * fb_reader_read(), whose results no check depends on. A file system's write() gets such a
 * reader for its data: one that interprets the data (rather than storing it) copies it out
 * with fb_reader_read() first and looks only at the copy. A shared reader holds no copy
 * itself: copying it (struct assignment) is fine, and so is fb_server_peek().
 */
void fb_reader_init_shared(struct fb_reader *r, const struct iovec *iov, int iovcnt);

/* True when the reader was started with fb_reader_init_shared(). */
static inline int fb_reader_is_shared(const struct fb_reader *r)
{
	return r->shared;
}

/* Bytes left to read. */
static inline size_t fb_reader_remaining(const struct fb_reader *r)
{
	return r->remaining;
}

/* Bytes consumed since fb_reader_init(). */
static inline size_t fb_reader_consumed(const struct fb_reader *r)
{
	return r->consumed;
}

/*
 * Copy the next @len bytes into @dst and advance. Returns 0, or -EINVAL (and reads nothing)
 * when fewer than @len bytes remain.
 */
int fb_reader_read(struct fb_reader *r, void *dst, size_t len);

/* Advance by @len bytes without copying. Returns 0 or -EINVAL as fb_reader_read(). */
int fb_reader_skip(struct fb_reader *r, size_t len);

/*
 * Limit the reader to its next @len bytes: afterwards fb_reader_remaining() is @len.
 * Returns 0 or -EINVAL when fewer than @len bytes remain.
 */
int fb_reader_truncate(struct fb_reader *r, size_t len);

/*
 * Describe the next @len bytes as iovecs pointing into the reader's memory (no copy), at most
 * @max entries, and advance past them. Returns the number of entries filled, -EINVAL when
 * fewer than @len bytes remain, or -E2BIG when @max entries are not enough.
 */
int fb_reader_iov(struct fb_reader *r, size_t len, struct iovec *out, int max);

/*
 * Zero-copy hook for WRITE: write the next @len bytes of the request straight from the
 * reader's memory to @fd with pwritev() at @off (or writev() when @off is -1). Advances by the
 * number of bytes written. Returns that number (which may be short, as pwritev's), or a
 * negative errno: -EINVAL when fewer than @len bytes remain, else the errno of pwritev().
 */
ssize_t fb_reader_to_fd(struct fb_reader *r, int fd, size_t len, off_t off);

/* Start a writer over @iovcnt entries of @iov. */
void fb_writer_init(struct fb_writer *w, const struct iovec *iov, int iovcnt);

/* Bytes that can still be written. */
static inline size_t fb_writer_available(const struct fb_writer *w)
{
	return w->available;
}

/* Bytes written since fb_writer_init(): the length of the reply so far. */
static inline size_t fb_writer_written(const struct fb_writer *w)
{
	return w->written;
}

/*
 * Copy @len bytes from @src and advance. Returns 0, or -ENOSPC (and writes nothing) when
 * fewer than @len bytes are available.
 */
int fb_writer_write(struct fb_writer *w, const void *src, size_t len);

/* Write @len zero bytes and advance. Returns 0 or -ENOSPC. */
int fb_writer_zero(struct fb_writer *w, size_t len);

/*
 * Overwrite @len bytes at absolute position @pos of what was already written (for example a
 * reply header whose length is known only at the end). The cursor does not move. Returns 0,
 * or -EINVAL when [pos, pos + len) is not inside the bytes written so far.
 */
int fb_writer_pwrite(struct fb_writer *w, size_t pos, const void *src, size_t len);

/*
 * Reserve the next @len bytes as iovecs into the writer's memory (at most @max entries) for
 * the caller to fill, and advance past them. Returns the number of entries, -ENOSPC when fewer
 * than @len bytes are available, or -E2BIG when @max entries are not enough.
 */
int fb_writer_iov(struct fb_writer *w, size_t len, struct iovec *out, int max);

/*
 * Zero-copy hook for READ: read up to @len bytes from @fd with preadv() at @off (or readv()
 * when @off is -1) straight into the writer's memory, and advance by what was read. Returns
 * the number of bytes read (0 at end of file, or short), -ENOSPC when fewer than @len bytes are
 * available, or the negative errno of preadv().
 */
ssize_t fb_writer_from_fd(struct fb_writer *w, int fd, size_t len, off_t off);

#ifdef __cplusplus
}
#endif

#endif /* FUSE_BACKEND_BUF_H */
