/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The request server: lifecycle, the entry point fb_server_handle(), INIT negotiation,
 * interrupt tracking and the fb_ctx_* helpers. Decoding per opcode lives in dispatch.c,
 * encoding in reply.c.
 *
 * Threads: fb_server_handle() runs on many threads at once. The ops table, the config and
 * (once INIT is answered) the negotiated connection are read-only, so requests share nothing
 * but the in-flight list used for INTERRUPT, which has its own lock. Under
 * FB_TRANSPORT_RESTART a session can end on a live connection: requests then hold
 * session_lock for reading, and whatever ends or starts a session (INIT, DESTROY,
 * fb_server_reset()) holds it for writing.
 *
 * INIT edge cases (what the kernel does and expects):
 *   - kernel major < 7, or 7 with minor < 27: -EPROTO (logged); the kernel aborts the mount.
 *   - kernel major > 7: reply 8 bytes with our major.minor and stay waiting for INIT; the
 *     kernel may retry with our major.
 *   - any other request before INIT: -EIO (no-reply opcodes are dropped with a log line).
 *   - INIT after a successful INIT: -EIO. The kernel sends INIT once per connection, so a
 *     second one is a confused or hostile peer; the negotiated connection is not touched.
 *     Under FB_TRANSPORT_RESTART (a guest that rebooted) it ends the old session instead
 *     (the file system's destroy()) and negotiates a new one; so does INIT after DESTROY.
 *   - init() of the file system fails: its errno is the reply; the server stays waiting.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/server_i.h"
#include "sized_i.h"

static uint32_t page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? (uint32_t)p : 4096;
}

static uint32_t page_shift(uint32_t pg)
{
	return (uint32_t)__builtin_ctz(pg);
}

uint32_t fb__minor(const struct fb_server *s)
{
	return s->conn.proto_minor;
}

int fb_server_new(const struct fb_fs_ops *ops, size_t ops_size, void *fs,
		  const struct fb_server_config *cfg, struct fb_server **ret)
{
	pthread_rwlockattr_t rwa;
	struct fb_server_config c = { 0 };
	struct fb_server *s;
	int r;

	if (!ops || !ret || ops_size % sizeof(void (*)(void)) != 0)
		return -EINVAL;
	r = fb__sized_in(&c, sizeof(c), cfg, FB__SERVER_CONFIG_SIZE_V1);
	if (r < 0)
		return r;
	cfg = &c;
	if (cfg && (cfg->max_write > FB__MAX_WRITE_LIMIT || cfg->time_gran > 1000000000u ||
		    (cfg->max_background && cfg->congestion_threshold > cfg->max_background)))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	/* An older, shorter table leaves the newer entries NULL; a longer one is cut. */
	memcpy(&s->ops, ops, ops_size < sizeof(s->ops) ? ops_size : sizeof(s->ops));
	s->fs = fs;
	if (cfg)
		s->cfg = *cfg;
	if (!s->cfg.max_write)
		s->cfg.max_write = FB__MAX_WRITE_DEFAULT;
	if (s->cfg.max_write < FB__MAX_WRITE_MIN)
		s->cfg.max_write = FB__MAX_WRITE_MIN;
	if (!s->cfg.max_background)
		s->cfg.max_background = 64;
	if (!s->cfg.congestion_threshold)
		s->cfg.congestion_threshold = (uint16_t)(s->cfg.max_background * 3 / 4);
	if (!s->cfg.time_gran)
		s->cfg.time_gran = 1;
	s->conn.max_write = s->cfg.max_write;
	s->conn.proto_minor = FB__PROTO_MINOR;
	pthread_rwlockattr_init(&rwa);
	/* Requests never stop coming from a busy guest: a waiting reset must get its turn. */
	pthread_rwlockattr_setkind_np(&rwa, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s->session_lock, &rwa);
	pthread_rwlockattr_destroy(&rwa);
	pthread_mutex_init(&s->init_lock, NULL);
	pthread_mutex_init(&s->intr_lock, NULL);
	pthread_cond_init(&s->deferred_cond, NULL);
	pthread_mutex_init(&s->retrieve_lock, NULL);
	s->inflight.next = &s->inflight;
	s->inflight.prev = &s->inflight;
	atomic_init(&s->state, FB__STATE_NEW);
	if (s->cfg.debug)
		fb_log_set_debug(1);
	*ret = s;
	return 0;
}

void fb_server_free(struct fb_server *s)
{
	if (!s)
		return;
	pthread_rwlock_destroy(&s->session_lock);
	pthread_mutex_destroy(&s->init_lock);
	pthread_mutex_destroy(&s->intr_lock);
	pthread_cond_destroy(&s->deferred_cond);
	pthread_mutex_destroy(&s->retrieve_lock);
	free(s);
}

/* The size of the first versioned table (up to dax_unmap): what a size of 0 stands for. */
#define FB__TOPS_SIZE_V1 (offsetof(struct fb_transport_ops, dax_unmap) + sizeof(void (*)(void)))

#define FB__TRANSPORT_FLAGS_KNOWN                                                                  \
	(FB_TRANSPORT_FOREIGN_PIDS | FB_TRANSPORT_NO_INTERRUPT | FB_TRANSPORT_RESTART |            \
	 FB_TRANSPORT_REPLY_ALWAYS)

void fb_server_set_transport(struct fb_server *s, const struct fb_transport_ops *ops, void *priv)
{
	struct fb_transport_ops t;
	size_t n;

	memset(&t, 0, sizeof(t));
	if (ops) {
		/* 0: a caller that filled the table with designated initialisers and forgot
		 * the size; it was built against the first versioned layout at least. Longer
		 * tables (a newer header) are cut: we cannot use what we do not know. */
		n = ops->size ? ops->size : FB__TOPS_SIZE_V1;
		memcpy(&t, ops, n < sizeof(t) ? n : sizeof(t));
		t.size = sizeof(t);
		t.flags &= FB__TRANSPORT_FLAGS_KNOWN;
	}
	/* Built aside and copied in one go: a table set again with one more cap (the /dev/fuse
	 * session adding io_uring) never shows a half-cleared state. */
	s->tops = t;
	s->tpriv = ops ? priv : NULL;
}

int fb_server_peek(const struct fb_reader *r, struct fb_in_header *ret)
{
	struct fb_reader c;

	if (!r || !ret || fb_reader_remaining(r) < sizeof(*ret))
		return -EINVAL;
	c = *r;
	return fb_reader_read(&c, ret, sizeof(*ret)) < 0 ? -EINVAL : 0;
}

const struct fb_conn *fb_server_conn(const struct fb_server *s)
{
	struct fb_server *m = (struct fb_server *)s;

	return atomic_load_explicit(&m->state, memory_order_acquire) >= FB__STATE_READY ? &s->conn
											: NULL;
}

int fb_server_destroyed(const struct fb_server *s)
{
	struct fb_server *m = (struct fb_server *)s;

	return atomic_load_explicit(&m->state, memory_order_acquire) == FB__STATE_DESTROYED;
}

static uint32_t max_write_now(const struct fb_server *s)
{
	return fb_server_conn(s) ? s->conn.max_write : s->cfg.max_write;
}

size_t fb_server_request_max(const struct fb_server *s)
{
	size_t hdr = sizeof(struct fb_in_header);
	size_t wr = hdr + sizeof(struct fb_write_in) + max_write_now(s);
	/* SETXATTR: fixed part, name and NUL, the largest value. */
	size_t xa = hdr + sizeof(struct fb_setxattr_in) + FB__NAME_MAX + 1 + FB__XATTR_MAX;
	size_t n = wr > xa ? wr : xa;

	return n > FB_MIN_READ_BUFFER ? n : FB_MIN_READ_BUFFER;
}

size_t fb_server_reply_max(const struct fb_server *s)
{
	size_t body = max_write_now(s);
	size_t n;

	if (body < FB__XATTR_MAX)
		body = FB__XATTR_MAX; /* GETXATTR / LISTXATTR */
	n = sizeof(struct fb_out_header) + body;
	return n > FB_MIN_READ_BUFFER ? n : FB_MIN_READ_BUFFER;
}

/* ---- interrupts ---------------------------------------------------------------------------- */

static void inflight_add(struct fb_server *s, struct fb__inflight *e, uint64_t unique)
{
	e->unique = unique & ~FB_UNIQUE_RESEND;
	e->interrupted = 0;
	e->deferred = NULL;
	pthread_mutex_lock(&s->intr_lock);
	for (unsigned int i = 0; i < FB__EARLY_INTR_MAX; i++) {
		if (s->early_intr[i] == e->unique) {
			s->early_intr[i] = 0;
			e->interrupted = 1;
		}
	}
	e->next = s->inflight.next;
	e->prev = &s->inflight;
	s->inflight.next->prev = e;
	s->inflight.next = e;
	pthread_mutex_unlock(&s->intr_lock);
}

static void inflight_del(struct fb_server *s, struct fb__inflight *e)
{
	pthread_mutex_lock(&s->intr_lock);
	e->prev->next = e->next;
	e->next->prev = e->prev;
	pthread_mutex_unlock(&s->intr_lock);
}

int fb__do_interrupt(struct fb__req *req)
{
	struct fb_server *s = req->s;
	struct fb_interrupt_in in;
	struct fb__inflight *e;
	struct fb_req *cbs = NULL;
	uint64_t target;
	int found = 0;

	memcpy(&in, req->args, sizeof(in));
	target = in.unique & ~FB_UNIQUE_RESEND;
	pthread_mutex_lock(&s->intr_lock);
	for (e = s->inflight.next; e != &s->inflight; e = e->next) {
		if (e->unique == target) {
			e->interrupted = 1;
			found = 1; /* a resent request may be in flight twice: mark both */
			if (e->deferred && e->deferred->intr_fn && !e->deferred->intr_called) {
				/* Its callback runs below, outside the lock. */
				e->deferred->intr_called = 1;
				atomic_fetch_add(&e->deferred->refs, 1);
				e->deferred->cnext = cbs;
				cbs = e->deferred;
			}
		}
	}
	if (!found && target) {
		/* Not in flight: already answered, or not here yet. The kernel hands an INTERRUPT
		 * out only after its target, but another thread may still be on its way with it
		 * (and the EAGAIN below is dropped when the target went out through another
		 * /dev/fuse fd or a ring), so remember it for a while. */
		for (unsigned int i = 0; i < FB__EARLY_INTR_MAX; i++)
			found |= s->early_intr[i] == target;
		if (!found) {
			s->early_intr[s->early_next] = target;
			s->early_next = (s->early_next + 1) % FB__EARLY_INTR_MAX;
		}
		found = 0;
	}
	pthread_mutex_unlock(&s->intr_lock);
	fb__run_interrupt_cbs(cbs);
	/* Unknown target: not read yet, or already answered. EAGAIN makes the kernel queue the
	 * interrupt again if the request is still pending. */
	return found ? FB__NO_REPLY : -EAGAIN;
}

int fb_ctx_interrupted(const struct fb_ctx *ctx)
{
	struct fb_server *s;
	struct fb__inflight *e;
	uint64_t unique;
	int r = 0;

	if (!ctx || !ctx->server)
		return 0;
	s = ctx->server;
	unique = ctx->unique & ~FB_UNIQUE_RESEND;
	/* Looked up by unique rather than through the pointer, so a copied ctx works too. */
	pthread_mutex_lock(&s->intr_lock);
	for (e = s->inflight.next; e != &s->inflight; e = e->next) {
		if (e->unique == unique && e->interrupted) {
			r = 1;
			break;
		}
	}
	pthread_mutex_unlock(&s->intr_lock);
	return r;
}

int fb_ctx_backing_open(const struct fb_ctx *ctx, int fd)
{
	struct fb_server *s = ctx ? ctx->server : NULL;

	if (!s || !s->tops.backing_open || !fb_server_conn(s) || !(s->conn.want & FB_PASSTHROUGH))
		return -EOPNOTSUPP;
	if (fd < 0)
		return -EBADF;
	return s->tops.backing_open(s->tpriv, fd);
}

int fb_ctx_backing_close(const struct fb_ctx *ctx, int backing_id)
{
	struct fb_server *s = ctx ? ctx->server : NULL;

	if (!s || !s->tops.backing_close)
		return -EOPNOTSUPP;
	if (backing_id <= 0)
		return -EINVAL;
	return s->tops.backing_close(s->tpriv, backing_id);
}

/* DAX needs the transport's window and a negotiated MAP_ALIGNMENT (the guest enabled DAX). */
static int dax_usable(const struct fb_server *s)
{
	return fb_server_conn(s) && (s->conn.want & FB_MAP_ALIGNMENT);
}

int fb_ctx_dax_map(const struct fb_ctx *ctx, int fd, uint64_t foffset, uint64_t moffset,
		   uint64_t len, uint64_t flags)
{
	struct fb_server *s = ctx ? ctx->server : NULL;

	if (!s || !s->tops.dax_map || !dax_usable(s))
		return -EOPNOTSUPP;
	if (fd < 0)
		return -EBADF;
	if (len == 0 || foffset + len < foffset || moffset + len < moffset ||
	    (flags & ~(uint64_t)(FB_SETUPMAPPING_FLAG_READ | FB_SETUPMAPPING_FLAG_WRITE)))
		return -EINVAL;
	return s->tops.dax_map(s->tpriv, fd, foffset, moffset, len, flags);
}

int fb_ctx_dax_unmap(const struct fb_ctx *ctx, uint64_t moffset, uint64_t len)
{
	struct fb_server *s = ctx ? ctx->server : NULL;

	if (!s || !s->tops.dax_unmap || !dax_usable(s))
		return -EOPNOTSUPP;
	if (moffset + len < moffset)
		return -EINVAL;
	return s->tops.dax_unmap(s->tpriv, moffset, len);
}

/* ---- INIT ---------------------------------------------------------------------------------- */

/* Flags the server itself can handle whatever the file system is. */
#define FB__INIT_BASE                                                                              \
	(FB_ASYNC_READ | FB_ATOMIC_O_TRUNC | FB_BIG_WRITES | FB_DONT_MASK | FB_AUTO_INVAL_DATA |   \
	 FB_ASYNC_DIO | FB_WRITEBACK_CACHE | FB_NO_OPEN_SUPPORT | FB_PARALLEL_DIROPS |             \
	 FB_HANDLE_KILLPRIV | FB_POSIX_ACL | FB_ABORT_ERROR | FB_MAX_PAGES | FB_CACHE_SYMLINKS |   \
	 FB_NO_OPENDIR_SUPPORT | FB_EXPLICIT_INVAL_DATA | FB_SUBMOUNTS |                           \
	 FB_HANDLE_KILLPRIV_V2 | FB_SETXATTR_EXT | FB_INIT_EXT |                                   \
	 FB_HAS_EXPIRE_ONLY | FB_DIRECT_IO_ALLOW_MMAP | FB_NO_EXPORT_SUPPORT | FB_HAS_RESEND |     \
	 FB_REQUEST_TIMEOUT | FB_EXPORT_SUPPORT)

/* Flags that need the transport: offered only when its caps include them. */
#define FB__INIT_TRANSPORT                                                                         \
	(FB_PASSTHROUGH | FB_OVER_IO_URING | FB_MAP_ALIGNMENT | FB_HAS_INODE_DAX | FB_ALLOW_IDMAP)
/* Of those, the DAX ones: also need dax_map and a file system with setupmapping. */
#define FB__INIT_DAX (FB_MAP_ALIGNMENT | FB_HAS_INODE_DAX)

/* Enabled unless the file system's init() says otherwise (when capable). */
#define FB__INIT_DEFAULT_WANT                                                                      \
	(FB_ASYNC_READ | FB_BIG_WRITES | FB_DONT_MASK | FB_AUTO_INVAL_DATA | FB_ASYNC_DIO |        \
	 FB_PARALLEL_DIROPS | FB_MAX_PAGES | FB_INIT_EXT | FB_SETXATTR_EXT | FB_HAS_RESEND |       \
	 FB_NO_EXPORT_SUPPORT | FB_CREATE_SUPP_GROUP | FB_POSIX_LOCKS | FB_FLOCK_LOCKS |           \
	 FB_HAS_IOCTL_DIR | FB_DO_READDIRPLUS | FB_READDIRPLUS_AUTO | FB_OVER_IO_URING)

/* What we can enable, for this file system and transport, at negotiated minor @minor. */
static uint64_t server_supported(const struct fb_server *s, uint32_t minor)
{
	uint64_t f = FB__INIT_BASE;

	/* Extensions (total_extlen) exist from 7.38; 7.36/7.37 kernels appended the security
	 * context in another way, which we do not parse. */
	if (minor >= 38)
		f |= FB_SECURITY_CTX | FB_CREATE_SUPP_GROUP;
	if (s->ops.setlk)
		f |= FB_POSIX_LOCKS;
	if (s->ops.flock)
		f |= FB_FLOCK_LOCKS;
	if (s->ops.ioctl)
		f |= FB_HAS_IOCTL_DIR;
	if (s->ops.readdirplus) {
		f |= FB_DO_READDIRPLUS;
		if (s->ops.readdir)
			f |= FB_READDIRPLUS_AUTO;
	}
	f |= s->tops.caps & FB__INIT_TRANSPORT;
	if (!s->tops.dax_map || !s->ops.setupmapping)
		f &= ~(uint64_t)FB__INIT_DAX;
	return f & ~s->cfg.disable;
}

static uint32_t clamp_u32(uint64_t v, uint64_t lo, uint64_t hi)
{
	return (uint32_t)(v < lo ? lo : v > hi ? hi : v);
}

int fb__do_init(struct fb__req *req)
{
	struct fb_server *s = req->s;
	struct fb_init_in in;
	struct fb_init_out out;
	struct fb_conn c;
	uint64_t offered, want;
	uint32_t pg = page_size();
	int r;

	memset(&in, 0, sizeof(in));
	memcpy(&in, req->args, req->argslen < sizeof(in) ? req->argslen : sizeof(in));
	memset(&out, 0, sizeof(out));
	out.major = FB__PROTO_MAJOR;
	out.minor = FB__PROTO_MINOR;

	if (in.major > FB__PROTO_MAJOR) {
		fb_log(FB_LOG_INFO, "INIT: kernel speaks %" PRIu32 ".%" PRIu32 ", answering %d.%d",
		       in.major, in.minor, FB__PROTO_MAJOR, FB__PROTO_MINOR);
		return fb__put(req, &out, FB_COMPAT_INIT_OUT_SIZE);
	}
	if (in.major < FB__PROTO_MAJOR || in.minor < FB__PROTO_MINOR_MIN) {
		fb_log(FB_LOG_ERR,
		       "INIT: kernel protocol %" PRIu32 ".%" PRIu32
		       " is too old (need %d.%d or later)",
		       in.major, in.minor, FB__PROTO_MAJOR, FB__PROTO_MINOR_MIN);
		return -EPROTO;
	}
	if (req->argslen < 16)
		return -EINVAL;

	memset(&c, 0, sizeof(c));
	c.proto_major = FB__PROTO_MAJOR;
	c.proto_minor = in.minor < FB__PROTO_MINOR ? in.minor : FB__PROTO_MINOR;
	offered = in.flags;
	if (in.flags & FB_INIT_EXT)
		offered |= (uint64_t)in.flags2 << 32;
	c.capable = offered & server_supported(s, c.proto_minor);
	/* A DAX window the guest asked for (it offers MAP_ALIGNMENT only with dax=) is used. */
	want = FB__INIT_DEFAULT_WANT | (s->tops.caps & FB_MAP_ALIGNMENT);
	if (!s->ops.open)
		want |= FB_NO_OPEN_SUPPORT;
	if (!s->ops.opendir)
		want |= FB_NO_OPENDIR_SUPPORT;
	c.want = want & c.capable;
	c.max_write = s->cfg.max_write;
	c.max_readahead = in.max_readahead;
	if (s->cfg.max_readahead && s->cfg.max_readahead < in.max_readahead)
		c.max_readahead = s->cfg.max_readahead;
	c.max_background = s->cfg.max_background;
	c.congestion_threshold = s->cfg.congestion_threshold;
	c.time_gran = s->cfg.time_gran;
	c.max_pages = (c.max_write + pg - 1) / pg;
	if (c.want & FB_MAP_ALIGNMENT)
		c.map_alignment = page_shift(pg);

	pthread_mutex_lock(&s->init_lock);
	if (atomic_load(&s->state) != FB__STATE_NEW) {
		/* Two INITs raced; the first one won. */
		pthread_mutex_unlock(&s->init_lock);
		return -EIO;
	}
	if (s->ops.init) {
		r = s->ops.init(s->fs, &c);
		if (r != 0) {
			pthread_mutex_unlock(&s->init_lock);
			fb_log(FB_LOG_ERR, "INIT: file system refused the connection (%d)", r);
			return r > 0 ? -EIO : r;
		}
	}

	/* Whatever init() did, stay inside what both sides can do. */
	c.proto_major = FB__PROTO_MAJOR;
	c.proto_minor = in.minor < FB__PROTO_MINOR ? in.minor : FB__PROTO_MINOR;
	c.capable = offered & server_supported(s, c.proto_minor);
	if (c.request_timeout)
		c.want |= FB_REQUEST_TIMEOUT;
	c.want &= c.capable;
	if (!(c.want & FB_DO_READDIRPLUS))
		c.want &= ~FB_READDIRPLUS_AUTO;
	if (c.want >> 32)
		c.want |= FB_INIT_EXT & c.capable;
	c.max_write = clamp_u32(c.max_write, FB__MAX_WRITE_MIN, s->cfg.max_write);
	if (!(c.want & FB_MAX_PAGES)) {
		/* Without MAX_PAGES the kernel sends at most 32 pages per request. */
		if (c.max_write > 32 * pg)
			c.max_write = 32 * pg;
		c.max_pages = 0;
	} else {
		c.max_pages = clamp_u32((c.max_write + pg - 1) / pg, 1, UINT16_MAX);
	}
	if (c.max_readahead > in.max_readahead)
		c.max_readahead = in.max_readahead;
	if (!c.max_background)
		c.max_background = s->cfg.max_background;
	if (c.congestion_threshold > c.max_background)
		c.congestion_threshold = c.max_background;
	c.time_gran = clamp_u32(c.time_gran, 1, 1000000000);
	/* The guest maps in ranges of 2 MiB, which the alignment must divide. */
	if (!(c.want & FB_MAP_ALIGNMENT))
		c.map_alignment = 0;
	else if (!c.map_alignment || c.map_alignment > 21)
		c.map_alignment = page_shift(pg);
	if (c.want & FB_PASSTHROUGH)
		c.max_stack_depth = clamp_u32(c.max_stack_depth, 1, 2);
	else
		c.max_stack_depth = 0;
	if (!(c.want & FB_REQUEST_TIMEOUT))
		c.request_timeout = 0;

	out.max_readahead = c.max_readahead;
	out.flags = (uint32_t)c.want;
	out.flags2 = (in.flags & FB_INIT_EXT) ? (uint32_t)(c.want >> 32) : 0;
	out.max_background = c.max_background;
	out.congestion_threshold = c.congestion_threshold;
	out.max_write = c.max_write;
	out.time_gran = c.time_gran;
	out.max_pages = (uint16_t)c.max_pages;
	out.map_alignment = c.map_alignment;
	out.max_stack_depth = c.max_stack_depth;
	out.request_timeout = c.request_timeout;
	r = fb__put(req, &out, sizeof(out));
	if (r == 0) {
		s->conn = c;
		atomic_store_explicit(&s->state, FB__STATE_READY, memory_order_release);
		fb_log(FB_LOG_DEBUG,
		       "INIT: protocol %d.%" PRIu32 ", flags 0x%" PRIx64 ", max_write %" PRIu32,
		       FB__PROTO_MAJOR, c.proto_minor, c.want, c.max_write);
	}
	pthread_mutex_unlock(&s->init_lock);
	return r;
}

/*
 * End the session (see fb_server_reset()). The caller holds session_lock for writing under
 * FB_TRANSPORT_RESTART, or is alone.
 */
static void session_reset(struct fb_server *s)
{
	int state = atomic_load(&s->state);

	/* The kernel of the old session waits for none of them any more. */
	fb__cancel_deferred(s);
	if (state == FB__STATE_READY && s->ops.destroy)
		s->ops.destroy(s->fs);
	pthread_mutex_lock(&s->init_lock);
	atomic_store_explicit(&s->state, FB__STATE_NEW, memory_order_release);
	memset(&s->conn, 0, sizeof(s->conn));
	s->conn.max_write = s->cfg.max_write;
	s->conn.proto_minor = FB__PROTO_MINOR;
	pthread_mutex_unlock(&s->init_lock);
	pthread_mutex_lock(&s->intr_lock);
	memset(s->early_intr, 0, sizeof(s->early_intr));
	s->early_next = 0;
	pthread_mutex_unlock(&s->intr_lock);
	if (state != FB__STATE_NEW)
		fb_log(FB_LOG_DEBUG, "session reset: waiting for INIT");
}

void fb_server_reset(struct fb_server *s)
{
	int restart;

	if (!s)
		return;
	restart = fb__tflags(s) & FB_TRANSPORT_RESTART;
	if (restart)
		pthread_rwlock_wrlock(&s->session_lock);
	session_reset(s);
	if (restart)
		pthread_rwlock_unlock(&s->session_lock);
}

int fb__do_destroy(struct fb__req *req)
{
	struct fb_server *s = req->s;
	int expected = FB__STATE_READY;

	if (fb__tflags(s) & FB_TRANSPORT_RESTART) {
		/* A guest that unmounts may mount again on the same connection. */
		session_reset(s);
		return 0;
	}
	if (atomic_compare_exchange_strong(&s->state, &expected, FB__STATE_DESTROYED)) {
		fb__cancel_deferred(s);
		if (s->ops.destroy)
			s->ops.destroy(s->fs);
	}
	return 0;
}

/* ---- extensions ---------------------------------------------------------------------------- */

/* Parse the 7.38 extension records (@len bytes at @p) into the request's context. */
static int parse_ext(struct fb__req *req, const uint8_t *p, size_t len)
{
	while (len > 0) {
		struct fb_ext_header xh;

		if (len < sizeof(xh))
			return -EINVAL;
		memcpy(&xh, p, sizeof(xh));
		if (xh.size < sizeof(xh) || xh.size > len || xh.size % 8 != 0)
			return -EINVAL;
		if (xh.type <= FB_MAX_NR_SECCTX) {
			/* Security contexts: header {size, nr}, then per context fb_secctx,
			 * NUL-terminated name, value. We use the first. */
			const uint8_t *q = p + sizeof(xh), *nul;
			size_t left = xh.size - sizeof(xh);
			struct fb_secctx sc;

			if (xh.type > 0) {
				if (left < sizeof(sc))
					return -EINVAL;
				memcpy(&sc, q, sizeof(sc));
				q += sizeof(sc);
				left -= sizeof(sc);
				nul = memchr(q, 0, left);
				if (!nul || nul == q || (size_t)(nul - q) > 255)
					return -EINVAL;
				left -= (size_t)(nul - q) + 1;
				if (sc.size > left)
					return -EINVAL;
				req->ctx.secctx_name = (const char *)q;
				req->ctx.secctx = nul + 1;
				req->ctx.secctx_len = sc.size;
			}
		} else if (xh.type == FB_EXT_GROUPS) {
			struct fb_supp_groups sg;
			size_t left = xh.size - sizeof(xh);

			if (left < sizeof(sg))
				return -EINVAL;
			memcpy(&sg, p + sizeof(xh), sizeof(sg));
			if (sg.nr_groups > FB__GROUPS_MAX ||
			    sizeof(sg) + (size_t)sg.nr_groups * 4 > left)
				return -EINVAL;
			memcpy(req->groups, p + sizeof(xh) + sizeof(sg), (size_t)sg.nr_groups * 4);
			req->ctx.ngroups = sg.nr_groups;
			req->ctx.groups = sg.nr_groups ? req->groups : NULL;
		}
		/* Other types: newer than us; the kernel only sends what was negotiated. */
		p += xh.size;
		len -= xh.size;
	}
	return 0;
}

/*
 * Make @len bytes of @r contiguous: in place when they sit in one iovec of a private reader,
 * else copied, into the request's small buffer when they fit, else into a buffer stored in
 * *@copy (freed by the caller). A shared reader is always copied (buf.h): everything decoded
 * from it is checked, and checked bytes must not change under us. Advances @r.
 */
static int contiguous(struct fb__req *req, struct fb_reader *r, size_t len, const uint8_t **out,
		      void **copy)
{
	size_t room = sizeof(req->small) - req->small_used;
	struct iovec v;
	uint8_t *dst;
	int n;

	if (len == 0) {
		*out = NULL;
		return 0;
	}
	if (len > fb_reader_remaining(r))
		return -EINVAL;
	if (!fb_reader_is_shared(r)) {
		n = fb_reader_iov(r, len, &v, 1);
		if (n == 1) {
			*out = v.iov_base;
			return 0;
		}
		if (n != -E2BIG)
			return -EINVAL;
	}
	if (len <= room) {
		dst = (uint8_t *)req->small + req->small_used;
		req->small_used += (len + 7) & ~(size_t)7;
	} else {
		*copy = malloc(len);
		if (!*copy)
			return -ENOMEM;
		dst = *copy;
	}
	if (fb_reader_read(r, dst, len) < 0)
		return -EINVAL;
	*out = dst;
	return 0;
}

/* Decode the extensions at the end of the request and limit @r to the arguments. */
static int split_ext(struct fb__req *req, struct fb_reader *r)
{
	size_t args = fb_reader_remaining(r);
	size_t ext = (size_t)req->h.total_extlen * 8;
	struct fb_reader er;
	const uint8_t *p;
	int err;

	if (ext == 0)
		return 0;
	if (ext > args)
		return -EINVAL;
	args -= ext;
	er = *r;
	if (fb_reader_skip(&er, args) < 0)
		return -EINVAL;
	err = contiguous(req, &er, ext, &p, &req->ext_copy);
	if (err < 0)
		return err;
	err = parse_ext(req, p, ext);
	if (err < 0)
		return err;
	return fb_reader_truncate(r, args);
}

/* ---- the entry point ----------------------------------------------------------------------- */

static const char *err_name(int err)
{
	const char *n = err ? strerrorname_np(-err) : "OK";

	return n ? n : "?";
}

/* Under FB_TRANSPORT_REPLY_ALWAYS every request but FORGET and BATCH_FORGET is answered. */
static int reply_always(const struct fb_server *s, uint32_t opcode)
{
	return (fb__tflags(s) & FB_TRANSPORT_REPLY_ALWAYS) && opcode != FB_FORGET &&
	       opcode != FB_BATCH_FORGET;
}

/*
 * A request the server does not answer: nothing (0), or under FB_TRANSPORT_REPLY_ALWAYS a
 * reply with error @err (0 for a request that needed none) when the writer has room.
 */
static ssize_t unanswered(struct fb_server *s, const struct fb_in_header *h,
			  const struct fb_writer *start, struct fb_writer *w, int err)
{
	ssize_t ret;

	*w = *start;
	if (!reply_always(s, h->opcode))
		return 0;
	ret = fb__reply_error(w, start, h->unique, err);
	if (ret < 0) {
		*w = *start;
		return 0;
	}
	return ret;
}

/* Result of decode() for a request that ends there, without an error reply to encode. */
#define FB__DECODE_DROP 1

/*
 * Check the header read into @req against the server's state and the @total bytes received,
 * reserve the out header, split off the extensions, check the fixed argument size, make the
 * arguments contiguous and decode what follows the fixed part (the table's shape), and fill the
 * context. Returns 0 when the request goes to its handler,
 * a negative errno to answer with, or FB__DECODE_DROP with *@ret what fb_server_handle()
 * returns (nothing to encode).
 */
static int decode(struct fb__req *req, const struct fb__op *op, struct fb_reader *r,
		  struct fb_writer *w, size_t total, ssize_t *ret)
{
	struct fb_server *s = req->s;
	int no_reply = op && (op->flags & FB__OP_NO_REPLY);
	int state, rc;

	if (req->h.unique == 0 && !no_reply) {
		/* Unique 0 is how notifications are marked: an answer would be taken for one. */
		fb_log(FB_LOG_ERR, "dropping %s with unique 0", fb_opcode_name(req->h.opcode));
		*ret = unanswered(s, &req->h, req->start, w, -EINVAL);
		return FB__DECODE_DROP;
	}
	state = atomic_load_explicit(&s->state, memory_order_acquire);
	if (state == FB__STATE_DESTROYED) {
		fb_log(FB_LOG_DEBUG, "unique=%" PRIu64 " %s after DESTROY: ignored", req->h.unique,
		       fb_opcode_name(req->h.opcode));
		*ret = reply_always(s, req->h.opcode)
			       ? unanswered(s, &req->h, req->start, w, -ENOTCONN)
			       : -ENODEV;
		return FB__DECODE_DROP;
	}
	if (req->h.len != total) {
		fb_log(FB_LOG_ERR, "unique=%" PRIu64 " %s: header says %" PRIu32 " bytes, got %zu",
		       req->h.unique, fb_opcode_name(req->h.opcode), req->h.len, total);
		return -EINVAL;
	}
	if (!op) {
		fb_log(FB_LOG_DEBUG, "unique=%" PRIu64 ": unknown opcode %" PRIu32, req->h.unique,
		       req->h.opcode);
		return -ENOSYS;
	}
	if (state == FB__STATE_NEW && req->h.opcode != FB_INIT) {
		fb_log(FB_LOG_ERR, "unique=%" PRIu64 " %s before INIT", req->h.unique, fb_opcode_name(req->h.opcode));
		return -EIO;
	}
	if (state == FB__STATE_READY && req->h.opcode == FB_INIT) {
		fb_log(FB_LOG_ERR, "unique=%" PRIu64 " INIT again after INIT", req->h.unique);
		return -EIO;
	}
	if (!no_reply && fb_writer_zero(w, sizeof(struct fb_out_header)) < 0) {
		*ret = -ENOSPC;
		return FB__DECODE_DROP;
	}

	rc = split_ext(req, r);
	if (rc < 0) {
		fb_log(FB_LOG_ERR, "unique=%" PRIu64 " %s: bad extensions (total_extlen %u)",
		       req->h.unique, fb_opcode_name(req->h.opcode), req->h.total_extlen);
		return rc;
	}
	req->argslen = fb_reader_remaining(r);
	req->fixed = fb__arg_size(s, req->h.opcode);
	if (req->argslen < req->fixed) {
		fb_log(FB_LOG_ERR, "unique=%" PRIu64 " %s: %zu argument bytes, need %zu",
		       req->h.unique, fb_opcode_name(req->h.opcode), req->argslen, req->fixed);
		return -EINVAL;
	}
	if (!(op->flags & FB__OP_RAW)) {
		if (req->argslen > FB__ARGS_MAX) {
			fb_log(FB_LOG_ERR, "unique=%" PRIu64 " %s: %zu argument bytes is too much",
			       req->h.unique, fb_opcode_name(req->h.opcode), req->argslen);
			return -EINVAL;
		}
		rc = contiguous(req, r, req->argslen, &req->args, &req->args_copy);
		if (rc < 0)
			return rc;
	}
	rc = fb__args_decode(req, op, r);
	if (rc < 0)
		return rc;
	req->r = r;
	req->w = w;
	req->op_flags = op->flags;
	req->ctx.unique = req->h.unique;
	req->ctx.opcode = req->h.opcode;
	req->ctx.uid = req->h.uid;
	req->ctx.gid = req->h.gid;
	/* A guest's pid means nothing here (and must not be looked up under /proc). */
	req->ctx.pid = (fb__tflags(s) & FB_TRANSPORT_FOREIGN_PIDS) ? 0 : req->h.pid;
	req->ctx.server = s;
	return 0;
}

/* The request being dispatched on this thread, for fb_ctx_defer() to check its ctx against. */
static _Thread_local struct fb__req *current_req;

struct fb__req *fb__current_req(void)
{
	return current_req;
}

/* Run the handler of a decoded request, tracked for INTERRUPT. Returns its result. */
static int dispatch(struct fb__req *req, const struct fb__op *op)
{
	struct fb__req *outer = current_req;
	struct fb__inflight track;
	int rc;

	if (!(op->flags & FB__OP_NO_TRACK)) {
		inflight_add(req->s, &track, req->h.unique);
		req->track = &track;
	}
	current_req = req;
	rc = op->handler(req);
	current_req = outer;
	if (!(op->flags & FB__OP_NO_TRACK))
		inflight_del(req->s, &track);
	req->track = NULL;
	return rc;
}

ssize_t fb__encode(struct fb__req *req, const struct fb_writer *start, int rc)
{
	struct fb_server *s = req->s;
	const struct fb__op *op = NULL;
	struct fb_writer *w = req->w;
	ssize_t ret;

	if (req->h.opcode < fb__ops_count && fb__ops[req->h.opcode].handler)
		op = &fb__ops[req->h.opcode];
	if ((op && (op->flags & FB__OP_NO_REPLY)) || rc == FB__NO_REPLY) {
		if (rc < 0 && op && (op->flags & FB__OP_NO_REPLY))
			fb_log(FB_LOG_DEBUG, "unique=%" PRIu64 " %s dropped (%d)", req->h.unique,
			       fb_opcode_name(req->h.opcode), rc);
		return unanswered(s, &req->h, start, w, rc < 0 ? fb__errno_check(req, rc) : 0);
	}
	if (rc > 0)
		rc = fb__errno_check(req, rc);
	if (rc == 0 && fb__reply_header(w, start->written, req->h.unique, 0) < 0)
		rc = -ERANGE;
	if (rc == 0) {
		ret = (ssize_t)(fb_writer_written(w) - start->written);
	} else {
		rc = fb__errno_check(req, rc);
		ret = fb__reply_error(w, start, req->h.unique, rc);
		if (ret < 0)
			return ret;
	}
	if (s->cfg.debug)
		fb_log(FB_LOG_DEBUG, "unique=%" PRIu64 " reply len=%zd error=%d %s", req->h.unique,
		       ret, rc, err_name(rc));
	if (req->h.opcode == FB_DESTROY && rc == 0 && !(fb__tflags(s) & FB_TRANSPORT_RESTART))
		return -ENODEV;
	return ret;
}

/* fb_server_handle() once the header is read into @req (see there). */
static ssize_t handle(struct fb__req *req, struct fb_reader *r, struct fb_writer *w, size_t total)
{
	struct fb_writer start = *w;
	const struct fb__op *op = NULL;
	ssize_t ret = 0;
	int rc;

	if (req->h.opcode < fb__ops_count && fb__ops[req->h.opcode].handler)
		op = &fb__ops[req->h.opcode];
	if (req->s->cfg.debug)
		fb_log(FB_LOG_DEBUG, "unique=%" PRIu64 " %s nodeid=%" PRIu64 " len=%" PRIu32,
		       req->h.unique, fb_opcode_name(req->h.opcode), req->h.nodeid, req->h.len);
	req->start = &start;
	req->w = w;
	rc = decode(req, op, r, w, total, &ret);
	if (rc == FB__DECODE_DROP)
		return ret;
	if (rc == 0)
		rc = dispatch(req, op);
	free(req->args_copy);
	free(req->ext_copy);
	if (req->d)
		return fb__deferred_returned(req, rc, w);
	return fb__encode(req, &start, rc);
}

ssize_t fb_server_handle(struct fb_server *s, struct fb_reader *r, struct fb_writer *w)
{
	return fb_server_handle_async(s, r, w, NULL);
}

ssize_t fb_server_handle_async(struct fb_server *s, struct fb_reader *r, struct fb_writer *w,
			       void *token)
{
	size_t total = fb_reader_remaining(r);
	struct fb__req req;
	ssize_t ret;

	if (total < sizeof(struct fb_in_header)) {
		fb_log(FB_LOG_ERR, "dropping a request of %zu bytes: shorter than a header", total);
		return 0;
	}
	memset(&req, 0, offsetof(struct fb__req, groups));
	req.s = s;
	req.token = s->tops.complete ? token : NULL;
	/* Read once: everything below decides on this copy, never on the reader's memory. */
	(void)fb_reader_read(r, &req.h, sizeof(req.h));
	if (!(fb__tflags(s) & FB_TRANSPORT_RESTART))
		return handle(&req, r, w, total);

	if (req.h.opcode == FB_INIT || req.h.opcode == FB_DESTROY) {
		pthread_rwlock_wrlock(&s->session_lock);
		if (req.h.opcode == FB_INIT && req.h.unique != 0 && req.h.len == total &&
		    atomic_load(&s->state) != FB__STATE_NEW) {
			/* A guest that rebooted (or remounted): its old session is gone. */
			fb_log(FB_LOG_INFO, "INIT on a live connection: a new session starts");
			session_reset(s);
		}
	} else {
		pthread_rwlock_rdlock(&s->session_lock);
	}
	ret = handle(&req, r, w, total);
	pthread_rwlock_unlock(&s->session_lock);
	return ret;
}
