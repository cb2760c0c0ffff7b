/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Build FUSE requests byte for byte as the kernel sends them, hand them to fb_server_handle(),
 * and parse the reply. For tests of anything that sits on the request server.
 *
 *   struct fbreq q = { 0 };                             // zero-initialised before first use
 *   struct fbrep p;
 *   fbrep_init(&p, 0);                                  // reply buffer (default 1 MiB + 4 KiB)
 *   fbreq_init_session(s, 45, ~0ULL, &p);               // INIT as a 7.45 kernel offering all
 *   fbreq_start(&q, FB_LOOKUP, 2, FB_ROOT_ID);
 *   fbreq_str(&q, "name");                              // a name with its NUL
 *   fbreq_send(s, &q, &p);                              // sets in_header.len, total_extlen
 *   CHECK_EQ(p.oh.error, 0); memcpy(&eo, p.body, sizeof(eo));
 *   fbreq_free(&q); fbrep_free(&p);
 *
 * Extensions (7.38) are added with fbreq_ext_*() after all arguments. q.split / p.split > 0
 * deliver the request / take the reply as iovecs of that many bytes, to exercise scattered
 * buffers. q.keep_len leaves in_header.len as the test set it.
 */
#ifndef FB_TEST_FBREQ_H
#define FB_TEST_FBREQ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/buf.h>
#include <fuse_backend/server.h>

/* Credentials every request carries unless a test changes the header. */
#define FBREQ_UID 1000
#define FBREQ_GID 1001
#define FBREQ_PID 4242

/* Everything a 7.45 kernel may offer at INIT (bits 0-42 but the reserved bit 31). */
#define FBREQ_ALL_FLAGS (((1ULL << 43) - 1) & ~(1ULL << 31))

struct fbreq {
	uint8_t *buf;
	size_t len;
	size_t cap;
	size_t ext_start; /* offset where extensions start (0: none) */
	size_t split;	  /* > 0: deliver as iovecs of this size */
	int keep_len;	  /* do not set in_header.len / total_extlen on send */
};

struct fbrep {
	uint8_t *buf;
	size_t cap;
	size_t split;		 /* > 0: reply memory as iovecs of this size */
	ssize_t ret;		 /* what fb_server_handle() returned */
	size_t written;		 /* bytes in the writer afterwards */
	struct fb_out_header oh; /* valid when ret >= 16 (or DESTROY) */
	const uint8_t *body;	 /* after the out header */
	size_t bodylen;
};

static inline void fbreq_reserve(struct fbreq *q, size_t n)
{
	if (q->len + n <= q->cap)
		return;
	size_t cap = q->cap ? q->cap : 256;

	while (cap < q->len + n)
		cap *= 2;
	q->buf = realloc(q->buf, cap);
	if (!q->buf)
		abort();
	q->cap = cap;
}

static inline struct fb_in_header *fbreq_hdr(struct fbreq *q)
{
	return (struct fb_in_header *)q->buf;
}

/* Start a request (earlier contents are dropped; the buffer is reused). */
static inline void fbreq_start(struct fbreq *q, uint32_t opcode, uint64_t unique, uint64_t nodeid)
{
	struct fb_in_header h = {
		.opcode = opcode,
		.unique = unique,
		.nodeid = nodeid,
		.uid = FBREQ_UID,
		.gid = FBREQ_GID,
		.pid = FBREQ_PID,
	};

	if (!q->cap)
		memset(q, 0, sizeof(*q));
	q->len = 0;
	q->ext_start = 0;
	q->keep_len = 0;
	fbreq_reserve(q, sizeof(h));
	memcpy(q->buf, &h, sizeof(h));
	q->len = sizeof(h);
}

static inline void fbreq_put(struct fbreq *q, const void *p, size_t n)
{
	fbreq_reserve(q, n);
	if (n)
		memcpy(q->buf + q->len, p, n);
	q->len += n;
}

static inline void fbreq_zero(struct fbreq *q, size_t n)
{
	fbreq_reserve(q, n);
	memset(q->buf + q->len, 0, n);
	q->len += n;
}

/* A string with its terminating NUL, as the kernel sends names. */
static inline void fbreq_str(struct fbreq *q, const char *s)
{
	fbreq_put(q, s, strlen(s) + 1);
}

static inline void fbreq_ext_mark(struct fbreq *q)
{
	if (!q->ext_start)
		q->ext_start = q->len;
}

/* FB_EXT_GROUPS extension with @n groups, padded to 8 bytes. */
static inline void fbreq_ext_groups(struct fbreq *q, const uint32_t *groups, uint32_t n)
{
	size_t body = sizeof(struct fb_supp_groups) + 4 * (size_t)n;
	struct fb_ext_header xh = {
		.size = (uint32_t)FB_REC_ALIGN(sizeof(xh) + body),
		.type = FB_EXT_GROUPS,
	};
	size_t start = q->len;

	fbreq_ext_mark(q);
	fbreq_put(q, &xh, sizeof(xh));
	fbreq_put(q, &n, sizeof(n));
	fbreq_put(q, groups, 4 * (size_t)n);
	fbreq_zero(q, start + xh.size - q->len);
}

/* Security-context block with one context (@name = value of @len bytes). */
static inline void fbreq_ext_secctx(struct fbreq *q, const char *name, const void *val,
				    uint32_t len)
{
	size_t body = sizeof(struct fb_secctx) + strlen(name) + 1 + len;
	struct fb_secctx_header sh = {
		.size = (uint32_t)FB_REC_ALIGN(sizeof(sh) + body),
		.nr_secctx = 1,
	};
	struct fb_secctx sc = {.size = len};
	size_t start = q->len;

	fbreq_ext_mark(q);
	fbreq_put(q, &sh, sizeof(sh));
	fbreq_put(q, &sc, sizeof(sc));
	fbreq_str(q, name);
	fbreq_put(q, val, len);
	fbreq_zero(q, start + sh.size - q->len);
}

/* Set in_header.len and total_extlen from what was added. */
static inline void fbreq_finish(struct fbreq *q)
{
	struct fb_in_header *h = fbreq_hdr(q);

	h->len = (uint32_t)q->len;
	h->total_extlen = q->ext_start ? (uint16_t)((q->len - q->ext_start) / 8) : 0;
}

static inline void fbreq_free(struct fbreq *q)
{
	free(q->buf);
	memset(q, 0, sizeof(*q));
}

static inline void fbrep_init(struct fbrep *p, size_t cap)
{
	memset(p, 0, sizeof(*p));
	p->cap = cap ? cap : (1u << 20) + 4096;
	p->buf = malloc(p->cap);
	if (!p->buf)
		abort();
}

static inline void fbrep_free(struct fbrep *p)
{
	free(p->buf);
	memset(p, 0, sizeof(*p));
}

/* Split [base, base + len) into iovecs of @chunk bytes (all of it in one when 0). */
static inline int fbreq_iovs(uint8_t *base, size_t len, size_t chunk, struct iovec **out)
{
	int n = chunk ? (int)((len + chunk - 1) / chunk) : 1;
	struct iovec *v = calloc((size_t)(n ? n : 1), sizeof(*v));

	if (!v)
		abort();
	if (!chunk) {
		v[0].iov_base = base;
		v[0].iov_len = len;
	} else {
		for (int i = 0; i < n; i++) {
			size_t off = (size_t)i * chunk;

			v[i].iov_base = base + off;
			v[i].iov_len = len - off < chunk ? len - off : chunk;
		}
	}
	*out = v;
	return n;
}

/* Run the request through the server and parse the reply. Returns fb_server_handle()'s value. */
static inline ssize_t fbreq_send(struct fb_server *s, struct fbreq *q, struct fbrep *p)
{
	struct iovec *rv, *wv;
	int rn, wn;
	struct fb_reader r;
	struct fb_writer w;

	if (!q->keep_len)
		fbreq_finish(q);
	rn = fbreq_iovs(q->buf, q->len, q->split, &rv);
	wn = fbreq_iovs(p->buf, p->cap, p->split, &wv);
	fb_reader_init(&r, rv, rn);
	fb_writer_init(&w, wv, wn);
	memset(p->buf, 0xa5, p->cap < 4096 ? p->cap : 4096);
	p->ret = fb_server_handle(s, &r, &w);
	p->written = fb_writer_written(&w);
	memset(&p->oh, 0, sizeof(p->oh));
	p->body = NULL;
	p->bodylen = 0;
	if (p->written >= sizeof(p->oh)) {
		memcpy(&p->oh, p->buf, sizeof(p->oh));
		p->body = p->buf + sizeof(p->oh);
		p->bodylen = p->written - sizeof(p->oh);
	}
	free(rv);
	free(wv);
	return p->ret;
}

/* The INIT request a kernel of 7.@minor sends, offering @flags (bits 32-63 need INIT_EXT). */
static inline void fbreq_init_msg(struct fbreq *q, uint64_t unique, uint32_t major, uint32_t minor,
				  uint32_t readahead, uint64_t flags)
{
	struct fb_init_in in = {
		.major = major,
		.minor = minor,
		.max_readahead = readahead,
		.flags = (uint32_t)flags,
		.flags2 = (uint32_t)(flags >> 32),
	};

	fbreq_start(q, FB_INIT, unique, 0);
	/* Kernels from 7.36 send the 64-byte form, older ones the first 16 bytes. */
	fbreq_put(q, &in, minor >= 36 ? sizeof(in) : 16);
}

/* Negotiate: INIT as a 7.@minor kernel offering @flags. Returns the reply's error (0). */
static inline int fbreq_init_session(struct fb_server *s, uint32_t minor, uint64_t flags,
				     struct fbrep *p)
{
	struct fbreq q = {0};
	int err;

	fbreq_init_msg(&q, 1, 7, minor, 128 * 1024, flags);
	fbreq_send(s, &q, p);
	err = p->ret >= 16 ? p->oh.error : -1000;
	fbreq_free(&q);
	return err;
}

/* The reply body as a structure (zero-filled when shorter). */
#define FBREP_AS(p, type)                                                                          \
	({                                                                                         \
		type fbrep_v;                                                                      \
		memset(&fbrep_v, 0, sizeof(fbrep_v));                                              \
		memcpy(&fbrep_v, (p)->body,                                                        \
		       (p)->bodylen < sizeof(fbrep_v) ? (p)->bodylen : sizeof(fbrep_v));           \
		fbrep_v;                                                                           \
	})

#endif /* FB_TEST_FBREQ_H */
