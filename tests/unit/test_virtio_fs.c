/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * memfs served through a virtqueue, the way a guest's virtio-fs driver uses it: requests in the
 * readable part of a chain (header and arguments first, data pages after, in an indirect
 * table), replies in the writable part, lengths in the used ring. Guest memory is two regions
 * and the big buffers cross from one into the other.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/memfs.h>
#include <fuse_backend/server.h>
#include <fuse_backend/virtio.h>

#include "fbreq.h"
#include "harness.h"
#include "vq_driver.h"

#define MIB (1u << 20)

struct fsq {
	struct vqd d;
	struct fb_memfs *m;
	struct fb_server *s;
	struct fb_transport_ops tops;
	uint8_t *reply; /* the last reply, copied out of guest memory */
	uint32_t len;	/* its length (from the used ring) */
	int notify;	/* fb_virtio_fs_process() said: interrupt */
};

/* How a request is laid out in a chain. */
struct layout {
	size_t first;	    /* bytes in the first readable descriptor (0: all in one) */
	size_t chunk;	    /* then descriptors of this many bytes */
	size_t cross;	    /* > 0: the request starts this many bytes before region 1 */
	size_t reply;	    /* writable bytes (0: no writable part) */
	size_t reply_first; /* bytes in the first writable descriptor (0: all in one) */
	size_t reply_chunk; /* then descriptors of this many bytes */
	size_t reply_cross; /* > 0: the reply starts this many bytes before region 1 */
	int direct;	    /* descriptors in the queue's table instead of an indirect one */
};

static const struct layout plain = {.reply = 4096};

static void fsq_init(struct fsq *f, unsigned int size)
{
	struct fb_memfs_config mc = {.root_uid = FBREQ_UID, .root_gid = FBREQ_GID};

	memset(f, 0, sizeof(*f));
	if (vqd_init(&f->d, size, 1) < 0 || fb_memfs_new(&mc, &f->m) < 0 ||
	    fb_server_new(&fb_memfs_ops, sizeof(fb_memfs_ops), f->m, NULL, &f->s) < 0)
		abort();
	fb_virtio_fs_transport_init(&f->tops);
	fb_server_set_transport(f->s, &f->tops, NULL);
	f->reply = malloc(MIB + 4096);
	if (!f->reply)
		abort();
}

static void fsq_done(struct fsq *f)
{
	fb_server_free(f->s);
	fb_memfs_free(f->m);
	vqd_done(&f->d);
	free(f->reply);
}

/* Append descriptors for [gpa, gpa + len) to @b: @first bytes, then pieces of @chunk. */
static int split(struct vqd_buf *b, int n, uint64_t gpa, size_t len, size_t first, size_t chunk,
		 int write)
{
	size_t off = 0;

	while (off < len) {
		size_t piece = len - off;

		if (off == 0 && first && first < piece)
			piece = first;
		else if (off > 0 && chunk && chunk < piece)
			piece = chunk;
		b[n++] = (struct vqd_buf){gpa + off, (uint32_t)piece, write};
		off += piece;
	}
	return n;
}

/* Add request @q as one chain laid out as @l; returns its head. Nothing is served yet. */
static uint16_t fsq_add(struct fsq *f, struct fbreq *q, const struct layout *l, uint64_t *ret_rp)
{
	static struct vqd_buf b[1100];
	uint64_t rq, rp = 0;
	int n;

	if (!q->keep_len)
		fbreq_finish(q);
	rq = l->cross ? vqd_alloc_cross(&f->d, q->len, l->cross) : vqd_alloc(&f->d, q->len);
	vqd_write(&f->d, rq, q->buf, q->len);
	if (l->reply)
		rp = l->reply_cross ? vqd_alloc_cross(&f->d, l->reply, l->reply_cross)
				    : vqd_alloc(&f->d, l->reply);
	n = split(b, 0, rq, q->len, l->first, l->chunk, 0);
	n = split(b, n, rp, l->reply, l->reply_first, l->reply_chunk, 1);
	*ret_rp = rp;
	return vqd_add(&f->d, b, n, !l->direct);
}

/* Send request @q laid out as @l, serve the queue, and take the reply into f->reply. */
static void fsq_call(struct fsq *f, struct fbreq *q, const struct layout *l)
{
	uint64_t rp;
	uint16_t head;
	uint32_t id;

	vqd_free_bufs(&f->d);
	head = fsq_add(f, q, l, &rp);
	CHECK_EQ(fb_virtio_fs_process(f->s, f->d.q, &f->notify), 1);
	CHECK_EQ(vqd_used(&f->d, &id, &f->len), 1);
	CHECK_EQ(id, head);
	CHECK(f->len <= l->reply);
	if (f->len)
		vqd_read(&f->d, rp, f->reply, f->len);
	/* The reply header tells the same length as the used ring. */
	if (f->len >= sizeof(struct fb_out_header)) {
		struct fb_out_header oh;

		memcpy(&oh, f->reply, sizeof(oh));
		CHECK_EQ(oh.len, f->len);
		CHECK_EQ(oh.unique, fbreq_hdr(q)->unique);
	}
}

static int32_t reply_error(struct fsq *f)
{
	struct fb_out_header oh;

	memcpy(&oh, f->reply, sizeof(oh));
	return oh.error;
}

static void fsq_init_session(struct fsq *f)
{
	struct fbreq q = {0};
	struct fb_init_out io;

	fbreq_init_msg(&q, 2, 7, 45, 128 * 1024, FBREQ_ALL_FLAGS);
	fsq_call(f, &q, &plain);
	CHECK_EQ(reply_error(f), 0);
	CHECK(f->len >= 16 + 24);
	memcpy(&io, f->reply + 16, sizeof(io) < f->len - 16 ? sizeof(io) : f->len - 16);
	CHECK_EQ(io.major, 7);
	CHECK(io.max_write >= MIB);
	fbreq_free(&q);
}

/* CREATE @name in the root; returns the node id, *@ret_fh the handle. */
static uint64_t fsq_create(struct fsq *f, const char *name, uint64_t *ret_fh)
{
	struct fbreq q = {0};
	struct fb_create_in ci = {
		.flags = 0102 /* O_RDWR | O_CREAT */, .mode = 0100644, .umask = 022};
	struct fb_entry_out eo;
	struct fb_open_out oo;

	fbreq_start(&q, FB_CREATE, 10, FB_ROOT_ID);
	fbreq_put(&q, &ci, sizeof(ci));
	fbreq_str(&q, name);
	fsq_call(f, &q, &plain);
	CHECK_EQ(reply_error(f), 0);
	CHECK_EQ(f->len, 16 + sizeof(eo) + sizeof(oo));
	memcpy(&eo, f->reply + 16, sizeof(eo));
	memcpy(&oo, f->reply + 16 + sizeof(eo), sizeof(oo));
	CHECK(eo.nodeid > FB_ROOT_ID);
	CHECK_EQ(eo.attr.mode, 0100644);
	*ret_fh = oo.fh;
	fbreq_free(&q);
	return eo.nodeid;
}

static void fsq_getattr_ok(struct fsq *f, uint64_t node)
{
	struct fbreq q = {0};
	struct fb_getattr_in gi = {0};

	fbreq_start(&q, FB_GETATTR, 30, node);
	fbreq_put(&q, &gi, sizeof(gi));
	fsq_call(f, &q, &plain);
	CHECK_EQ(reply_error(f), 0);
	CHECK_EQ(f->len, 16 + sizeof(struct fb_attr_out));
	fbreq_free(&q);
}

TEST(init_over_a_queue)
{
	struct fsq f;

	fsq_init(&f, 64);
	fsq_init_session(&f);
	/* The driver's used_event is 0: the first completion wants an interrupt. */
	CHECK_EQ(f.notify, 1);
	CHECK(fb_server_conn(f.s) != NULL);
	fsq_done(&f);
}

TEST(transport_flags_for_guests)
{
	struct fb_transport_ops ops;

	memset(&ops, 0xff, sizeof(ops));
	fb_virtio_fs_transport_init(&ops);
	CHECK_EQ(ops.size, sizeof(ops));
	CHECK_EQ(ops.flags, FB_TRANSPORT_FOREIGN_PIDS | FB_TRANSPORT_NO_INTERRUPT |
				    FB_TRANSPORT_RESTART | FB_TRANSPORT_REPLY_ALWAYS);
	CHECK_EQ(ops.caps, 0);
	CHECK(ops.send_notify == NULL);
	CHECK(ops.backing_open == NULL && ops.backing_close == NULL);
	CHECK(ops.dax_map == NULL && ops.dax_unmap == NULL);
}

TEST(lookup_and_create)
{
	struct fsq f;
	struct fbreq q = {0};
	struct fb_entry_out eo;
	uint64_t fh, node;
	/* Header and arguments in one descriptor, the name in the next, as Linux sends them. */
	const struct layout split_name = {.first = 40, .reply = 4096, .reply_first = 16};

	fsq_init(&f, 64);
	fsq_init_session(&f);
	fbreq_start(&q, FB_LOOKUP, 4, FB_ROOT_ID);
	fbreq_str(&q, "nothing");
	fsq_call(&f, &q, &split_name);
	CHECK_EQ(reply_error(&f), -ENOENT);
	CHECK_EQ(f.len, 16);

	node = fsq_create(&f, "file", &fh);
	fbreq_start(&q, FB_LOOKUP, 6, FB_ROOT_ID);
	fbreq_str(&q, "file");
	fsq_call(&f, &q, &split_name);
	CHECK_EQ(reply_error(&f), 0);
	CHECK_EQ(f.len, 16 + sizeof(eo));
	memcpy(&eo, f.reply + 16, sizeof(eo));
	CHECK_EQ(eo.nodeid, node);
	fsq_getattr_ok(&f, node);
	fbreq_free(&q);
	fsq_done(&f);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

TEST(write_and_read_a_mebibyte_across_regions)
{
	struct fsq f;
	struct fbreq q = {0};
	uint8_t *data = malloc(MIB);
	uint64_t fh, node, seed = 0x1234567, sum;
	struct fb_write_in wi = {.size = MIB, .offset = 0};
	struct fb_read_in ri = {.size = MIB, .offset = 0};
	struct fb_write_out wo;
	/* WRITE: header + write_in, then 256 pages, the request crossing into region 1 at half;
	 * READ: a 16-byte descriptor for the out header, then 256 pages, crossing too. */
	const struct layout wr = {
		.first = 40 + sizeof(wi), .chunk = 4096, .cross = MIB / 2 + 7, .reply = 64};
	const struct layout rd = {
		.reply = 16 + MIB, .reply_first = 16, .reply_chunk = 4096, .reply_cross = MIB / 3};

	CHECK(data != NULL);
	for (size_t i = 0; i < MIB; i += 8) {
		uint64_t v = xorshift(&seed);

		memcpy(data + i, &v, 8);
	}
	sum = fnv1a(data, MIB);
	fsq_init(&f, 512);
	fsq_init_session(&f);
	node = fsq_create(&f, "big", &fh);

	wi.fh = fh;
	fbreq_start(&q, FB_WRITE, 20, node);
	fbreq_put(&q, &wi, sizeof(wi));
	fbreq_put(&q, data, MIB);
	fsq_call(&f, &q, &wr);
	CHECK_EQ(reply_error(&f), 0);
	CHECK_EQ(f.len, 16 + sizeof(wo));
	memcpy(&wo, f.reply + 16, sizeof(wo));
	CHECK_EQ(wo.size, MIB);

	ri.fh = fh;
	fbreq_start(&q, FB_READ, 22, node);
	fbreq_put(&q, &ri, sizeof(ri));
	fsq_call(&f, &q, &rd);
	CHECK_EQ(reply_error(&f), 0);
	CHECK_EQ(f.len, 16 + MIB);
	CHECK_EQ(fnv1a(f.reply + 16, MIB), sum);
	CHECK(memcmp(f.reply + 16, data, MIB) == 0);

	/* The same over direct descriptors, in a smaller read at an odd offset. */
	const struct layout rd2 = {.reply = 16 + 100000,
				   .reply_first = 16,
				   .reply_chunk = 4096,
				   .reply_cross = 5000,
				   .direct = 1};

	ri.offset = 12345;
	ri.size = 100000;
	fbreq_start(&q, FB_READ, 24, node);
	fbreq_put(&q, &ri, sizeof(ri));
	fsq_call(&f, &q, &rd2);
	CHECK_EQ(reply_error(&f), 0);
	CHECK_EQ(f.len, 16 + 100000);
	CHECK(memcmp(f.reply + 16, data + 12345, 100000) == 0);
	fbreq_free(&q);
	free(data);
	fsq_done(&f);
}

TEST(forget_without_a_writable_part_completes_with_zero)
{
	struct fsq f;
	struct fbreq q = {0};
	struct fb_forget_in fi = {.nlookup = 1};
	const struct layout no_reply = {.reply = 0};
	uint64_t fh, node;

	fsq_init(&f, 64);
	fsq_init_session(&f);
	node = fsq_create(&f, "f", &fh);
	fbreq_start(&q, FB_FORGET, 40, node);
	fbreq_put(&q, &fi, sizeof(fi));
	fsq_call(&f, &q, &no_reply);
	CHECK_EQ(f.len, 0);
	/* The queue goes on. */
	fsq_getattr_ok(&f, FB_ROOT_ID);
	fbreq_free(&q);
	fsq_done(&f);
}

static int log_lines;

static void count_log(enum fb_log_level level, const char *msg, void *priv)
{
	if (strstr(msg, "virtio-fs"))
		log_lines++;
}

TEST(bad_chains_complete_empty_and_the_queue_goes_on)
{
	struct fsq f;
	uint64_t a, b;
	uint32_t id, len;
	int notify = 0, i;

	fsq_init(&f, 64);
	fsq_init_session(&f);
	vqd_free_bufs(&f.d);
	a = vqd_alloc(&f.d, 64);
	b = vqd_alloc(&f.d, 64);
	/* 30 chains with a readable descriptor after a writable one, in one batch. */
	struct vqd_buf bad[] = {{a, 64, 0}, {b, 64, 1}, {a, 64, 0}};
	uint16_t heads[30];

	/* Start from a fresh interval of the (process-wide) rate limit. */
	nanosleep(&(struct timespec){.tv_sec = 1, .tv_nsec = 50000000}, NULL);
	log_lines = 0;
	fb_log_set(count_log, NULL);
	for (i = 0; i < 30; i++)
		heads[i] = vqd_add(&f.d, bad, 3, i & 1);
	CHECK_EQ(fb_virtio_fs_process(f.s, f.d.q, &notify), 30);
	fb_log_set(NULL, NULL);
	for (i = 0; i < 30; i++) {
		CHECK_EQ(vqd_used(&f.d, &id, &len), 1);
		CHECK_EQ(id, heads[i]);
		CHECK_EQ(len, 0);
	}
	/* Logged, but at a rate limit. */
	CHECK(log_lines >= 1);
	CHECK(log_lines <= 6);
	fsq_getattr_ok(&f, FB_ROOT_ID);
	fsq_done(&f);
}

TEST(no_room_for_the_reply_completes_empty)
{
	struct fsq f;
	struct fbreq q = {0};
	struct fb_getattr_in gi = {0};
	const struct layout tiny = {.reply = 8};

	fsq_init(&f, 64);
	fsq_init_session(&f);
	fb_log_set(count_log, NULL);
	fbreq_start(&q, FB_GETATTR, 50, FB_ROOT_ID);
	fbreq_put(&q, &gi, sizeof(gi));
	fsq_call(&f, &q, &tiny);
	fb_log_set(NULL, NULL);
	CHECK_EQ(f.len, 0);
	fsq_getattr_ok(&f, FB_ROOT_ID);
	fbreq_free(&q);
	fsq_done(&f);
}

TEST(a_batch_is_served_at_once_with_one_interrupt)
{
	struct fsq f;
	struct fbreq q = {0};
	struct fb_getattr_in gi = {0};
	uint16_t heads[16];
	uint64_t rps[16];
	uint32_t id, len;
	int notify = 0, i;

	fsq_init(&f, 16);
	fsq_init_session(&f);
	vqd_free_bufs(&f.d);
	/* The driver wants to hear when all 16 are done (used index passes 16 + 1 - 1). */
	vqd_set_used_event(&f.d, (uint16_t)(f.d.used_seen + 15));
	for (i = 0; i < 16; i++) {
		fbreq_start(&q, FB_GETATTR, 100 + 2 * i, FB_ROOT_ID);
		fbreq_put(&q, &gi, sizeof(gi));
		heads[i] = fsq_add(&f, &q, &plain, &rps[i]);
	}
	CHECK_EQ(fb_virtio_fs_process(f.s, f.d.q, &notify), 16);
	CHECK_EQ(notify, 1);
	CHECK_EQ(vqd_used_idx(&f.d), (uint16_t)(f.d.used_seen + 16));
	for (i = 0; i < 16; i++) {
		struct fb_out_header oh;

		CHECK_EQ(vqd_used(&f.d, &id, &len), 1);
		CHECK_EQ(id, heads[i]);
		CHECK_EQ(len, 16 + sizeof(struct fb_attr_out));
		vqd_read(&f.d, rps[i], &oh, sizeof(oh));
		CHECK_EQ(oh.unique, 100 + 2 * i);
		CHECK_EQ(oh.error, 0);
	}
	/* Before returning it asked for a kick at the next index. */
	CHECK_EQ(vqd_avail_event(&f.d), fb_virtq_base(f.d.q));
	/* Nothing left: serving again does nothing and wants no interrupt. */
	CHECK_EQ(fb_virtio_fs_process(f.s, f.d.q, &notify), 0);
	CHECK_EQ(notify, 0);
	fbreq_free(&q);
	fsq_done(&f);
}

TEST(a_broken_ring_is_reported)
{
	struct fsq f;
	int notify = 1;

	fsq_init(&f, 16);
	fsq_init_session(&f);
	fb_log_set(count_log, NULL);
	vqd_set_avail_idx(&f.d, (uint16_t)(f.d.avail_idx + 17));
	CHECK_ERR(fb_virtio_fs_process(f.s, f.d.q, &notify), -EIO);
	CHECK_EQ(notify, 0);
	/* It stays stopped, whatever the guest does now... */
	vqd_set_avail_idx(&f.d, (uint16_t)(f.d.avail_idx - 17));
	CHECK_ERR(fb_virtio_fs_process(f.s, f.d.q, &notify), -EIO);
	fb_log_set(NULL, NULL);
	/* ...until the front end starts it again. */
	CHECK_ERR(fb_virtq_start(f.d.q, vqd_ptr(&f.d, f.d.desc), vqd_ptr(&f.d, f.d.avail),
				 vqd_ptr(&f.d, f.d.used), 1, f.d.avail_idx),
		  0);
	fsq_getattr_ok(&f, FB_ROOT_ID);
	fsq_done(&f);
}

TEST(destroy_is_answered_and_a_new_session_follows)
{
	struct fsq f;
	struct fbreq q = {0};

	fsq_init(&f, 16);
	fsq_init_session(&f);
	fbreq_start(&q, FB_DESTROY, 60, 0);
	fsq_call(&f, &q, &plain);
	CHECK_EQ(f.len, 16);
	CHECK_EQ(reply_error(&f), 0);
	/* A guest that unmounts and mounts again: a new session on the same queue. */
	fsq_init_session(&f);
	fsq_getattr_ok(&f, FB_ROOT_ID);
	fbreq_free(&q);
	fsq_done(&f);
}

TEST_MAIN()

/* A guest that puts a chain back into the available ring as soon as it is served. */
static struct fsq *refill_f;
static uint16_t refill_head;
static int refill_on;

static int refill_getattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino,
			  const struct fb_file_info *fi, struct stat *out, double *timeout)
{
	if (refill_on)
		vqd_publish(&refill_f->d, refill_head);
	return fb_memfs_ops.getattr(fs, ctx, ino, fi, out, timeout);
}

TEST(a_guest_refilling_the_queue_cannot_keep_the_server)
{
	struct fb_fs_ops ops = fb_memfs_ops;
	struct fbreq q;
	struct fb_getattr_in gi = {0};
	struct fsq f;
	uint64_t rp;
	int notify;

	fsq_init(&f, 8);
	/* The same file system behind a getattr that refills the queue. */
	fb_server_free(f.s);
	ops.getattr = refill_getattr;
	CHECK_EQ(fb_server_new(&ops, sizeof(ops), f.m, NULL, &f.s), 0);
	fb_server_set_transport(f.s, &f.tops, NULL);
	fsq_init_session(&f);
	vqd_free_bufs(&f.d);
	fbreq_start(&q, FB_GETATTR, 500, FB_ROOT_ID);
	fbreq_put(&q, &gi, sizeof(gi));
	refill_f = &f;
	refill_on = 1;
	refill_head = fsq_add(&f, &q, &plain, &rp);
	/* One queue's worth per call, then the caller gets its turn back. */
	CHECK_EQ(fb_virtio_fs_process(f.s, f.d.q, &notify), 8);
	CHECK_EQ(fb_virtq_set_notify(f.d.q, 1), 1);
	CHECK_EQ(fb_virtio_fs_process(f.s, f.d.q, &notify), 8);
	/* The guest stops: what it left is served and the queue is empty. */
	refill_on = 0;
	CHECK_EQ(fb_virtio_fs_process(f.s, f.d.q, &notify), 1);
	CHECK_EQ(fb_virtq_set_notify(f.d.q, 1), 0);
	fbreq_free(&q);
	fsq_done(&f);
}
