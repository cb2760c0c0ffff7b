/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Split virtqueues against a hand-driven guest (vq_driver.h): the chains a driver builds come
 * out as the iovecs it meant, the used ring says what the device answered, notifications follow
 * EVENT_IDX, and every malformed chain is reported bad without stopping the queue.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fuse_backend/virtio.h>

#include "harness.h"
#include "vq_driver.h"

static void init(struct vqd *d, unsigned int size, int event_idx)
{
	if (vqd_init(d, size, event_idx) < 0)
		abort();
}

/* The iovec points at guest address @gpa and has @len bytes. */
static int iov_is(struct vqd *d, const struct iovec *v, uint64_t gpa, size_t len)
{
	return v->iov_base == vqd_ptr(d, gpa) && v->iov_len == len;
}

/* Pop one chain that must be bad with @err; complete it; then a good chain must work. */
static int bad_then_good(struct vqd *d, uint16_t head, int err)
{
	struct fb_virtq_chain c;
	uint32_t id, len;
	uint64_t a = vqd_alloc(d, 32), b = vqd_alloc(d, 32);
	struct vqd_buf good[] = {{a, 32, 0}, {b, 32, 1}};
	uint16_t ghead;

	if (fb_virtq_pop(d->q, &c) != 1 || c.bad != err || c.head != head || c.nin || c.nout) {
		fprintf(stderr, "  bad chain: head %u bad %d (want %u %d) nin %d nout %d\n", c.head,
			c.bad, head, err, c.nin, c.nout);
		return 0;
	}
	fb_virtq_push(d->q, c.head, 0);
	fb_virtq_flush(d->q);
	if (!vqd_used(d, &id, &len) || id != head || len != 0)
		return 0;
	ghead = vqd_add(d, good, 2, 0);
	if (fb_virtq_pop(d->q, &c) != 1 || c.bad || c.head != ghead || c.nin != 1 || c.nout != 1 ||
	    !iov_is(d, &c.in[0], a, 32) || !iov_is(d, &c.out[0], b, 32))
		return 0;
	fb_virtq_push(d->q, c.head, 7);
	fb_virtq_flush(d->q);
	return vqd_used(d, &id, &len) && id == ghead && len == 7 && fb_virtq_pop(d->q, &c) == 0;
}

TEST(ring_sizes_follow_the_spec)
{
	CHECK_EQ(fb_virtq_desc_bytes(256), 4096);
	CHECK_EQ(fb_virtq_avail_bytes(256, 0), 4 + 512);
	CHECK_EQ(fb_virtq_avail_bytes(256, 1), 6 + 512);
	CHECK_EQ(fb_virtq_used_bytes(256, 0), 4 + 2048);
	CHECK_EQ(fb_virtq_used_bytes(256, 1), 6 + 2048);
}

TEST(queue_sizes_must_be_powers_of_two)
{
	struct fb_guest_mem *m;
	struct fb_virtq *q = NULL;

	CHECK_ERR(fb_guest_mem_new(&m), 0);
	CHECK_ERR(fb_virtq_new(m, 0, &q), -EINVAL);
	CHECK_ERR(fb_virtq_new(m, 3, &q), -EINVAL);
	CHECK_ERR(fb_virtq_new(m, 1000, &q), -EINVAL);
	CHECK_ERR(fb_virtq_new(m, 32769, &q), -EINVAL);
	CHECK(q == NULL);
	CHECK_ERR(fb_virtq_new(m, 1, &q), 0);
	fb_virtq_free(q);
	CHECK_ERR(fb_virtq_new(m, 32768, &q), 0);
	fb_virtq_free(q);
	fb_virtq_free(NULL);
	fb_guest_mem_free(m);
}

TEST(misaligned_rings_are_refused)
{
	struct vqd d;
	struct fb_virtq_chain c;

	init(&d, 8, 0);
	CHECK_ERR(fb_virtq_start(d.q, vqd_ptr(&d, d.desc + 8), vqd_ptr(&d, d.avail),
				 vqd_ptr(&d, d.used), 0, 0),
		  -EINVAL);
	CHECK_ERR(fb_virtq_start(d.q, vqd_ptr(&d, d.desc), vqd_ptr(&d, d.avail + 1),
				 vqd_ptr(&d, d.used), 0, 0),
		  -EINVAL);
	CHECK_ERR(fb_virtq_start(d.q, vqd_ptr(&d, d.desc), vqd_ptr(&d, d.avail),
				 vqd_ptr(&d, d.used + 2), 0, 0),
		  -EINVAL);
	CHECK_ERR(fb_virtq_start(d.q, NULL, vqd_ptr(&d, d.avail), vqd_ptr(&d, d.used), 0, 0),
		  -EINVAL);
	CHECK_EQ(fb_virtq_pop(d.q, &c), 0);
	vqd_done(&d);
}

TEST(a_queue_never_started_has_nothing)
{
	struct fb_guest_mem *m;
	struct fb_virtq *q;
	struct fb_virtq_chain c;

	CHECK_ERR(fb_guest_mem_new(&m), 0);
	CHECK_ERR(fb_virtq_new(m, 4, &q), 0);
	CHECK_EQ(fb_virtq_pop(q, &c), 0);
	CHECK_EQ(fb_virtq_flush(q), 0);
	CHECK_EQ(fb_virtq_set_notify(q, 1), 0);
	fb_virtq_free(q);
	fb_guest_mem_free(m);
}

TEST(direct_chain_and_used_ring)
{
	struct vqd d;
	struct fb_virtq_chain c;
	uint32_t id, len;
	uint64_t r0 = 0, r1 = 0, w0 = 0, w1 = 0;

	init(&d, 8, 0);
	CHECK_EQ(fb_virtq_pop(d.q, &c), 0);
	r0 = vqd_alloc(&d, 40);
	r1 = vqd_alloc(&d, 100);
	w0 = vqd_alloc(&d, 16);
	w1 = vqd_alloc(&d, 4096);
	struct vqd_buf b[] = {{r0, 40, 0}, {r1, 100, 0}, {w0, 16, 1}, {w1, 4096, 1}};
	uint16_t head = vqd_add(&d, b, 4, 0);

	CHECK_EQ(fb_virtq_pop(d.q, &c), 1);
	CHECK_EQ(c.bad, 0);
	CHECK_EQ(c.head, head);
	CHECK_EQ(c.nin, 2);
	CHECK_EQ(c.nout, 2);
	CHECK(iov_is(&d, &c.in[0], r0, 40));
	CHECK(iov_is(&d, &c.in[1], r1, 100));
	CHECK(iov_is(&d, &c.out[0], w0, 16));
	CHECK(iov_is(&d, &c.out[1], w1, 4096));
	CHECK_EQ(fb_virtq_pop(d.q, &c), 0);
	CHECK_EQ(fb_virtq_base(d.q), 1);

	/* Pushed entries are invisible to the driver until flushed. */
	fb_virtq_push(d.q, head, 1234);
	CHECK_EQ(vqd_used_idx(&d), 0);
	CHECK_EQ(fb_virtq_flush(d.q), 1);
	CHECK_EQ(vqd_used_idx(&d), 1);
	CHECK_EQ(vqd_used(&d, &id, &len), 1);
	CHECK_EQ(id, head);
	CHECK_EQ(len, 1234);
	/* Nothing new: no second interrupt. */
	CHECK_EQ(fb_virtq_flush(d.q), 0);
	vqd_done(&d);
}

TEST(indirect_chain)
{
	struct vqd d;
	struct fb_virtq_chain c;
	uint64_t r0, w0, w1;

	init(&d, 8, 0);
	r0 = vqd_alloc(&d, 64);
	w0 = vqd_alloc(&d, 16);
	w1 = vqd_alloc(&d, 512);
	struct vqd_buf b[] = {{r0, 64, 0}, {w0, 16, 1}, {w1, 512, 1}};
	uint16_t head = vqd_add(&d, b, 3, 1);

	CHECK_EQ(fb_virtq_pop(d.q, &c), 1);
	CHECK_EQ(c.bad, 0);
	CHECK_EQ(c.head, head);
	CHECK_EQ(c.nin, 1);
	CHECK_EQ(c.nout, 2);
	CHECK(iov_is(&d, &c.in[0], r0, 64));
	CHECK(iov_is(&d, &c.out[0], w0, 16));
	CHECK(iov_is(&d, &c.out[1], w1, 512));
	vqd_done(&d);
}

TEST(only_readable_or_only_writable_chains)
{
	struct vqd d;
	struct fb_virtq_chain c;
	uint64_t a, b;

	init(&d, 8, 0);
	a = vqd_alloc(&d, 48);
	b = vqd_alloc(&d, 48);
	struct vqd_buf rd[] = {{a, 48, 0}};
	struct vqd_buf wr[] = {{b, 48, 1}};

	vqd_add(&d, rd, 1, 0);
	vqd_add(&d, wr, 1, 1);
	CHECK_EQ(fb_virtq_pop(d.q, &c), 1);
	CHECK_EQ(c.bad, 0);
	CHECK_EQ(c.nin, 1);
	CHECK_EQ(c.nout, 0);
	CHECK_EQ(fb_virtq_pop(d.q, &c), 1);
	CHECK_EQ(c.bad, 0);
	CHECK_EQ(c.nin, 0);
	CHECK_EQ(c.nout, 1);
	CHECK(iov_is(&d, &c.out[0], b, 48));
	vqd_done(&d);
}

TEST(a_buffer_across_two_regions_is_two_iovecs)
{
	struct vqd d;
	struct fb_virtq_chain c;
	uint64_t a, w;

	init(&d, 8, 0);
	w = vqd_alloc(&d, 16);
	a = vqd_alloc_cross(&d, 1000, 300);
	struct vqd_buf b[] = {{a, 1000, 0}, {w, 16, 1}};

	vqd_add(&d, b, 2, 0);
	CHECK_EQ(fb_virtq_pop(d.q, &c), 1);
	CHECK_EQ(c.bad, 0);
	CHECK_EQ(c.nin, 2);
	CHECK_EQ(c.nout, 1);
	CHECK(iov_is(&d, &c.in[0], a, 300));
	CHECK(iov_is(&d, &c.in[1], VQD_GPA1, 700));
	CHECK(iov_is(&d, &c.out[0], w, 16));
	vqd_done(&d);
}

TEST(an_indirect_table_across_two_regions)
{
	struct vqd d;
	struct fb_virtq_chain c;
	uint64_t t, a, w;

	init(&d, 8, 0);
	a = vqd_alloc(&d, 64);
	w = vqd_alloc(&d, 64);
	/* Three entries, the second one split between the regions. */
	t = vqd_alloc_cross(&d, 48, 24);
	vqd_desc_at(&d, t, 0, a, 64, VQD_F_NEXT, 1);
	vqd_desc_at(&d, t, 1, w, 32, VQD_F_WRITE | VQD_F_NEXT, 2);
	vqd_desc_at(&d, t, 2, w + 32, 32, VQD_F_WRITE, 0);
	vqd_desc(&d, 5, t, 48, VQD_F_INDIRECT, 0);
	vqd_publish(&d, 5);
	CHECK_EQ(fb_virtq_pop(d.q, &c), 1);
	CHECK_EQ(c.bad, 0);
	CHECK_EQ(c.head, 5);
	CHECK_EQ(c.nin, 1);
	CHECK_EQ(c.nout, 2);
	CHECK(iov_is(&d, &c.in[0], a, 64));
	CHECK(iov_is(&d, &c.out[0], w, 32));
	CHECK(iov_is(&d, &c.out[1], w + 32, 32));
	vqd_done(&d);
}

TEST(direct_descriptors_then_an_indirect_table)
{
	struct vqd d;
	struct fb_virtq_chain c;
	uint64_t t, a, b, w;

	init(&d, 8, 0);
	a = vqd_alloc(&d, 40);
	b = vqd_alloc(&d, 8);
	w = vqd_alloc(&d, 64);
	t = vqd_alloc(&d, 32);
	vqd_desc_at(&d, t, 0, b, 8, VQD_F_NEXT, 1);
	vqd_desc_at(&d, t, 1, w, 64, VQD_F_WRITE, 0);
	vqd_desc(&d, 2, a, 40, VQD_F_NEXT, 6);
	/* The WRITE flag of the table's own descriptor means nothing. */
	vqd_desc(&d, 6, t, 32, VQD_F_INDIRECT | VQD_F_WRITE, 0);
	vqd_publish(&d, 2);
	CHECK_EQ(fb_virtq_pop(d.q, &c), 1);
	CHECK_EQ(c.bad, 0);
	CHECK_EQ(c.nin, 2);
	CHECK_EQ(c.nout, 1);
	CHECK(iov_is(&d, &c.in[0], a, 40));
	CHECK(iov_is(&d, &c.in[1], b, 8));
	CHECK(iov_is(&d, &c.out[0], w, 64));
	vqd_done(&d);
}

TEST(chains_in_order_and_out_of_order_completion)
{
	struct vqd d;
	struct fb_virtq_chain c;
	uint16_t heads[5];
	uint32_t id, len;
	int i;

	init(&d, 8, 0);
	for (i = 0; i < 5; i++) {
		struct vqd_buf b[] = {{vqd_alloc(&d, 16), 16, 0}, {vqd_alloc(&d, 16), 16, 1}};

		heads[i] = vqd_add(&d, b, 2, i & 1);
	}
	/* Pop all, complete in reverse: each used entry names its own chain. */
	uint16_t popped[5];

	for (i = 0; i < 5; i++) {
		CHECK_EQ(fb_virtq_pop(d.q, &c), 1);
		CHECK_EQ(c.bad, 0);
		CHECK_EQ(c.head, heads[i]);
		popped[i] = c.head;
	}
	CHECK_EQ(fb_virtq_pop(d.q, &c), 0);
	for (i = 4; i >= 0; i--)
		fb_virtq_push(d.q, popped[i], 100 + i);
	CHECK_EQ(fb_virtq_flush(d.q), 1);
	CHECK_EQ(vqd_used_idx(&d), 5);
	for (i = 4; i >= 0; i--) {
		CHECK_EQ(vqd_used(&d, &id, &len), 1);
		CHECK_EQ(id, heads[i]);
		CHECK_EQ(len, 100 + i);
	}
	vqd_done(&d);
}

TEST(indices_wrap_around)
{
	struct vqd d;
	struct fb_virtq_chain c;
	uint32_t id, len;
	int i;

	init(&d, 4, 1);
	/* Resume near the end of the 16-bit index space, as after SET_VRING_BASE. */
	d.avail_idx = 65533;
	vqd_set_avail_idx(&d, 65533);
	CHECK_ERR(fb_virtq_start(d.q, vqd_ptr(&d, d.desc), vqd_ptr(&d, d.avail),
				 vqd_ptr(&d, d.used), 1, 65533),
		  0);
	for (i = 0; i < 10; i++) {
		struct vqd_buf b[] = {{vqd_alloc(&d, 16), 16, 0}, {vqd_alloc(&d, 16), 16, 1}};
		uint16_t head = vqd_add(&d, b, 2, 1);

		CHECK_EQ(fb_virtq_pop(d.q, &c), 1);
		CHECK_EQ(c.bad, 0);
		CHECK_EQ(c.head, head);
		CHECK_EQ(fb_virtq_pop(d.q, &c), 0);
		fb_virtq_push(d.q, head, (uint32_t)i);
		fb_virtq_flush(d.q);
		CHECK_EQ(vqd_used(&d, &id, &len), 1);
		CHECK_EQ(id, head);
		CHECK_EQ(len, i);
	}
	CHECK_EQ(fb_virtq_base(d.q), (uint16_t)(65533 + 10));
	vqd_done(&d);
}

TEST(head_beyond_the_queue_is_bad)
{
	struct vqd d;

	init(&d, 8, 0);
	vqd_publish(&d, 8);
	CHECK(bad_then_good(&d, 8, -ERANGE));
	vqd_publish(&d, 65535);
	CHECK(bad_then_good(&d, 65535, -ERANGE));
	vqd_done(&d);
}

TEST(next_beyond_the_queue_is_bad)
{
	struct vqd d;

	init(&d, 8, 0);
	vqd_desc(&d, 0, vqd_alloc(&d, 16), 16, VQD_F_NEXT, 8);
	vqd_publish(&d, 0);
	CHECK(bad_then_good(&d, 0, -ERANGE));
	vqd_done(&d);
}

TEST(a_loop_is_bad)
{
	struct vqd d;
	uint64_t a;

	init(&d, 8, 0);
	a = vqd_alloc(&d, 16);
	vqd_desc(&d, 3, a, 16, VQD_F_NEXT, 4);
	vqd_desc(&d, 4, a, 16, VQD_F_NEXT, 3);
	vqd_publish(&d, 3);
	CHECK(bad_then_good(&d, 3, -ELOOP));
	/* A descriptor pointing at itself. */
	vqd_desc(&d, 5, a, 16, VQD_F_NEXT, 5);
	vqd_publish(&d, 5);
	CHECK(bad_then_good(&d, 5, -ELOOP));
	vqd_done(&d);
}

TEST(readable_after_writable_is_bad)
{
	struct vqd d;
	uint64_t a, b;

	init(&d, 8, 0);
	a = vqd_alloc(&d, 16);
	b = vqd_alloc(&d, 16);
	struct vqd_buf bufs[] = {{a, 16, 0}, {b, 16, 1}, {a, 16, 0}};

	vqd_add(&d, bufs, 3, 0);
	CHECK(bad_then_good(&d, 0, -EINVAL));
	uint16_t head = vqd_add(&d, bufs, 3, 1);

	CHECK(bad_then_good(&d, head, -EINVAL));
	vqd_done(&d);
}

TEST(indirect_with_next_is_bad)
{
	struct vqd d;
	uint64_t t, a;

	init(&d, 8, 0);
	a = vqd_alloc(&d, 16);
	t = vqd_alloc(&d, 16);
	vqd_desc_at(&d, t, 0, a, 16, 0, 0);
	vqd_desc(&d, 1, t, 16, VQD_F_INDIRECT | VQD_F_NEXT, 2);
	vqd_desc(&d, 2, a, 16, VQD_F_WRITE, 0);
	vqd_publish(&d, 1);
	CHECK(bad_then_good(&d, 1, -EINVAL));
	vqd_done(&d);
}

TEST(indirect_inside_indirect_is_bad)
{
	struct vqd d;
	uint64_t t, t2, a;

	init(&d, 8, 0);
	a = vqd_alloc(&d, 16);
	t2 = vqd_alloc(&d, 16);
	t = vqd_alloc(&d, 32);
	vqd_desc_at(&d, t2, 0, a, 16, 0, 0);
	vqd_desc_at(&d, t, 0, a, 16, VQD_F_NEXT, 1);
	vqd_desc_at(&d, t, 1, t2, 16, VQD_F_INDIRECT, 0);
	vqd_desc(&d, 0, t, 32, VQD_F_INDIRECT, 0);
	vqd_publish(&d, 0);
	CHECK(bad_then_good(&d, 0, -EINVAL));
	vqd_done(&d);
}

TEST(indirect_tables_of_bad_length_are_bad)
{
	struct vqd d;
	uint64_t t, a;
	int i;

	init(&d, 8, 0);
	a = vqd_alloc(&d, 16);
	t = vqd_alloc(&d, 16 * 9);
	for (i = 0; i < 9; i++)
		vqd_desc_at(&d, t, i, a, 16, i < 8 ? VQD_F_NEXT : 0, i + 1);
	vqd_desc(&d, 0, t, 0, VQD_F_INDIRECT, 0);
	vqd_publish(&d, 0);
	CHECK(bad_then_good(&d, 0, -EINVAL));
	vqd_desc(&d, 0, t, 24, VQD_F_INDIRECT, 0);
	vqd_publish(&d, 0);
	CHECK(bad_then_good(&d, 0, -EINVAL));
	/* More entries than the queue has. */
	vqd_desc(&d, 0, t, 16 * 9, VQD_F_INDIRECT, 0);
	vqd_publish(&d, 0);
	CHECK(bad_then_good(&d, 0, -E2BIG));
	/* As many as the queue has is fine. */
	vqd_desc_at(&d, t, 7, a, 16, 0, 0);
	vqd_desc(&d, 0, t, 16 * 8, VQD_F_INDIRECT, 0);
	vqd_publish(&d, 0);
	struct fb_virtq_chain c;

	CHECK_EQ(fb_virtq_pop(d.q, &c), 1);
	CHECK_EQ(c.bad, 0);
	CHECK_EQ(c.nin, 8);
	vqd_done(&d);
}

TEST(indirect_loops_and_wild_next_are_bad)
{
	struct vqd d;
	uint64_t t, a;

	init(&d, 8, 0);
	a = vqd_alloc(&d, 16);
	t = vqd_alloc(&d, 48);
	vqd_desc_at(&d, t, 0, a, 16, VQD_F_NEXT, 1);
	vqd_desc_at(&d, t, 1, a, 16, VQD_F_NEXT, 2);
	vqd_desc_at(&d, t, 2, a, 16, VQD_F_NEXT, 0);
	vqd_desc(&d, 0, t, 48, VQD_F_INDIRECT, 0);
	vqd_publish(&d, 0);
	CHECK(bad_then_good(&d, 0, -ELOOP));
	vqd_desc_at(&d, t, 2, a, 16, VQD_F_NEXT, 3);
	vqd_desc(&d, 0, t, 48, VQD_F_INDIRECT, 0);
	vqd_publish(&d, 0);
	CHECK(bad_then_good(&d, 0, -ERANGE));
	vqd_done(&d);
}

TEST(an_indirect_table_outside_guest_memory_is_bad)
{
	struct vqd d;

	init(&d, 8, 0);
	vqd_desc(&d, 0, 0x1000, 32, VQD_F_INDIRECT, 0);
	vqd_publish(&d, 0);
	CHECK(bad_then_good(&d, 0, -EFAULT));
	/* Starting inside, ending past the last region. */
	vqd_desc(&d, 0, VQD_END - 16, 32, VQD_F_INDIRECT, 0);
	vqd_publish(&d, 0);
	CHECK(bad_then_good(&d, 0, -EFAULT));
	vqd_done(&d);
}

TEST(buffers_outside_guest_memory_are_bad)
{
	struct vqd d;
	uint64_t w;

	init(&d, 8, 0);
	w = vqd_alloc(&d, 16);
	struct vqd_buf outside[] = {{0x1000, 16, 0}, {w, 16, 1}};
	struct vqd_buf past_end[] = {{VQD_END - 8, 16, 0}, {w, 16, 1}};
	struct vqd_buf overflow[] = {{UINT64_MAX - 7, 16, 0}, {w, 16, 1}};
	struct vqd_buf write_outside[] = {{w, 16, 0}, {VQD_END, 1, 1}};
	uint16_t head;

	head = vqd_add(&d, outside, 2, 0);
	CHECK(bad_then_good(&d, head, -EFAULT));
	head = vqd_add(&d, past_end, 2, 1);
	CHECK(bad_then_good(&d, head, -EFAULT));
	head = vqd_add(&d, overflow, 2, 0);
	CHECK(bad_then_good(&d, head, -EFAULT));
	head = vqd_add(&d, write_outside, 2, 1);
	CHECK(bad_then_good(&d, head, -EFAULT));
	vqd_done(&d);
}

TEST(a_chain_of_more_iovecs_than_allowed_is_bad)
{
	struct fb_guest_mem *m;
	struct fb_virtq *q;
	struct fb_virtq_chain c;
	static uint8_t ring[4096] __attribute__((aligned(16)));
	static uint8_t pieces[64][16];
	uint8_t *desc = ring, *avail = ring + 256, *used = ring + 512;
	uint64_t addr = 0x100000;
	uint32_t len = 64 * 16;
	uint16_t v;
	int i;

	/* 64 adjacent 16-byte regions: one descriptor over them all is 64 iovecs; a queue of 2
	 * allows FB_VIRTQ_IOV_MAX(2) = 20. */
	CHECK_ERR(fb_guest_mem_new(&m), 0);
	for (i = 0; i < 64; i++)
		CHECK_ERR(fb_guest_mem_add(m, 0x100000 + 16ull * i, 16, 0x100000 + 16ull * i,
					   pieces[i]),
			  0);
	CHECK_ERR(fb_virtq_new(m, 2, &q), 0);
	memset(ring, 0, sizeof(ring));
	memcpy(desc, &addr, 8);
	memcpy(desc + 8, &len, 4);
	v = 0;
	memcpy(avail + 4, &v, 2); /* ring[0] = 0 */
	v = 1;
	memcpy(avail + 2, &v, 2); /* idx = 1 */
	CHECK_ERR(fb_virtq_start(q, desc, avail, used, 0, 0), 0);
	CHECK_EQ(fb_virtq_pop(q, &c), 1);
	CHECK_EQ(c.bad, -E2BIG);
	/* Within the limit it works, one iovec per region. */
	len = 16 * 16;
	memcpy(desc + 8, &len, 4);
	v = 2;
	memcpy(avail + 2, &v, 2);
	CHECK_EQ(fb_virtq_pop(q, &c), 1);
	CHECK_EQ(c.bad, 0);
	CHECK_EQ(c.nin, 16);
	for (i = 0; i < 16; i++)
		CHECK(c.in[i].iov_base == pieces[i] && c.in[i].iov_len == 16);
	fb_virtq_free(q);
	fb_guest_mem_free(m);
}

TEST(a_broken_avail_index_stops_the_queue_until_restarted)
{
	struct vqd d;
	struct fb_virtq_chain c;
	uint16_t head;

	init(&d, 8, 0);
	struct vqd_buf b[] = {{vqd_alloc(&d, 16), 16, 0}, {vqd_alloc(&d, 16), 16, 1}};

	head = vqd_add(&d, b, 2, 0);
	CHECK_EQ(fb_virtq_pop(d.q, &c), 1);
	CHECK_EQ(c.head, head);
	/* Exactly the queue size ahead is still fine. */
	vqd_set_avail_idx(&d, 1 + 8);
	for (int i = 0; i < 8; i++) {
		CHECK_EQ(fb_virtq_pop(d.q, &c), 1);
		fb_virtq_push(d.q, c.head, 0);
	}
	CHECK_EQ(fb_virtq_pop(d.q, &c), 0);
	vqd_set_avail_idx(&d, 9 + 9);
	CHECK_ERR(fb_virtq_pop(d.q, &c), -EIO);
	CHECK_ERR(fb_virtq_pop(d.q, &c), -EIO);
	/* What was pushed before still gets published. */
	fb_virtq_flush(d.q);
	CHECK_EQ(vqd_used_idx(&d), 8);
	/* Restarted where the driver really is, it works again. */
	vqd_set_avail_idx(&d, 9);
	CHECK_ERR(fb_virtq_start(d.q, vqd_ptr(&d, d.desc), vqd_ptr(&d, d.avail),
				 vqd_ptr(&d, d.used), 0, 9),
		  0);
	CHECK_EQ(fb_virtq_pop(d.q, &c), 0);
	head = vqd_add(&d, b, 2, 1);
	CHECK_EQ(fb_virtq_pop(d.q, &c), 1);
	CHECK_EQ(c.bad, 0);
	CHECK_EQ(c.head, head);
	vqd_done(&d);
}

TEST(notifications_without_event_idx)
{
	struct vqd d;
	struct fb_virtq_chain c;
	uint32_t id, len;

	init(&d, 8, 0);
	struct vqd_buf b[] = {{vqd_alloc(&d, 16), 16, 0}, {vqd_alloc(&d, 16), 16, 1}};

	CHECK_EQ(vqd_used_flags(&d), 0);
	CHECK_EQ(fb_virtq_set_notify(d.q, 0), 0);
	CHECK_EQ(vqd_used_flags(&d), 1); /* NO_NOTIFY */
	CHECK_EQ(fb_virtq_set_notify(d.q, 1), 0);
	CHECK_EQ(vqd_used_flags(&d), 0);
	/* A chain that came in while kicks were off: set_notify says so. */
	fb_virtq_set_notify(d.q, 0);
	vqd_add(&d, b, 2, 0);
	CHECK_EQ(fb_virtq_set_notify(d.q, 1), 1);
	CHECK_EQ(fb_virtq_pop(d.q, &c), 1);
	CHECK_EQ(fb_virtq_set_notify(d.q, 1), 0);
	/* The driver asks for no interrupts. */
	vqd_set_avail_flags(&d, 1);
	fb_virtq_push(d.q, c.head, 0);
	CHECK_EQ(fb_virtq_flush(d.q), 0);
	CHECK_EQ(vqd_used(&d, &id, &len), 1);
	vqd_set_avail_flags(&d, 0);
	vqd_add(&d, b, 2, 0);
	CHECK_EQ(fb_virtq_pop(d.q, &c), 1);
	fb_virtq_push(d.q, c.head, 0);
	CHECK_EQ(fb_virtq_flush(d.q), 1);
	vqd_done(&d);
}

/* Push and flush @n chains (the driver adds them first); returns what flush said. */
static int complete_n(struct vqd *d, int n)
{
	struct fb_virtq_chain c;
	uint32_t id, len;

	for (int i = 0; i < n; i++) {
		struct vqd_buf b[] = {{vqd_alloc(d, 16), 16, 0}, {vqd_alloc(d, 16), 16, 1}};

		vqd_add(d, b, 2, 0);
		if (fb_virtq_pop(d->q, &c) != 1)
			abort();
		fb_virtq_push(d->q, c.head, 0);
	}
	n = fb_virtq_flush(d->q);
	while (vqd_used(d, &id, &len))
		;
	return n;
}

TEST(notifications_with_event_idx)
{
	struct vqd d;
	struct fb_virtq_chain c;

	init(&d, 8, 1);
	/* The driver wants an interrupt when entry 0 is used. */
	vqd_set_used_event(&d, 0);
	CHECK_EQ(complete_n(&d, 1), 1); /* used idx 0 -> 1 crosses 0 */
	CHECK_EQ(complete_n(&d, 1), 0); /* 1 -> 2 does not */
	vqd_set_used_event(&d, 5);
	CHECK_EQ(complete_n(&d, 3), 0); /* 2 -> 5 */
	CHECK_EQ(complete_n(&d, 2), 1); /* 5 -> 7 crosses 5 */
	vqd_set_used_event(&d, 7);
	CHECK_EQ(complete_n(&d, 4), 1); /* 7 -> 11, batched, crosses 7 */
	/* The flags mean nothing with EVENT_IDX. */
	vqd_set_avail_flags(&d, 1);
	vqd_set_used_event(&d, 11);
	CHECK_EQ(complete_n(&d, 1), 1);

	/* Asking for a kick writes avail_event: the next index we will read. */
	CHECK_EQ(fb_virtq_set_notify(d.q, 1), 0);
	CHECK_EQ(vqd_avail_event(&d), 12);
	CHECK_EQ(vqd_avail_event(&d), fb_virtq_base(d.q));
	/* Off changes nothing under EVENT_IDX; a chain arriving before on is reported. */
	CHECK_EQ(fb_virtq_set_notify(d.q, 0), 0);
	struct vqd_buf b[] = {{vqd_alloc(&d, 16), 16, 0}, {vqd_alloc(&d, 16), 16, 1}};

	vqd_add(&d, b, 2, 0);
	CHECK_EQ(fb_virtq_set_notify(d.q, 1), 1);
	CHECK_EQ(fb_virtq_pop(d.q, &c), 1);
	CHECK_EQ(fb_virtq_set_notify(d.q, 1), 0);
	CHECK_EQ(vqd_avail_event(&d), 13);
	CHECK_EQ(vqd_used_flags(&d), 0);
	vqd_done(&d);
}

TEST(switching_the_memory_map)
{
	struct vqd d;
	struct fb_virtq_chain c;
	struct fb_guest_mem *m2;
	uint64_t a;

	init(&d, 8, 0);
	a = vqd_alloc(&d, 16);
	struct vqd_buf b[] = {{a, 16, 0}};

	/* The new map lacks the buffer's region: its chains are now bad. */
	CHECK_ERR(fb_guest_mem_new(&m2), 0);
	CHECK_ERR(fb_guest_mem_add(m2, VQD_GPA1, VQD_LEN1, VQD_UADDR1, d.host[1]), 0);
	fb_virtq_set_mem(d.q, m2);
	vqd_add(&d, b, 1, 0);
	CHECK_EQ(fb_virtq_pop(d.q, &c), 1);
	CHECK_EQ(c.bad, -EFAULT);
	fb_virtq_set_mem(d.q, d.mem);
	vqd_add(&d, b, 1, 0);
	CHECK_EQ(fb_virtq_pop(d.q, &c), 1);
	CHECK_EQ(c.bad, 0);
	CHECK(iov_is(&d, &c.in[0], a, 16));
	fb_guest_mem_free(m2);
	vqd_done(&d);
}

TEST(a_full_queue_of_long_chains)
{
	struct vqd d;
	struct fb_virtq_chain c;
	unsigned int size = 256;
	int i;

	/* One chain using every descriptor of the queue, then one indirect table as long. */
	init(&d, size, 1);
	for (i = 0; i < (int)size; i++)
		vqd_desc(&d, i, vqd_alloc(&d, 8), 8,
			 (i >= 200 ? VQD_F_WRITE : 0) | (i + 1 < (int)size ? VQD_F_NEXT : 0),
			 i + 1);
	vqd_publish(&d, 0);
	CHECK_EQ(fb_virtq_pop(d.q, &c), 1);
	CHECK_EQ(c.bad, 0);
	CHECK_EQ(c.nin, 200);
	CHECK_EQ(c.nout, 56);
	uint64_t t = vqd_alloc(&d, 16ull * size);
	uint64_t x = vqd_alloc_cross(&d, 8, 4);

	for (i = 0; i < (int)size; i++)
		vqd_desc_at(&d, t, i, x, 8, (i + 1 < (int)size ? VQD_F_NEXT : 0) | VQD_F_WRITE,
			    i + 1);
	vqd_desc(&d, 0, t, 16 * size, VQD_F_INDIRECT, 0);
	vqd_publish(&d, 0);
	/* Every buffer crosses the boundary: 512 iovecs, within FB_VIRTQ_IOV_MAX(256). */
	CHECK_EQ(fb_virtq_pop(d.q, &c), 1);
	CHECK_EQ(c.bad, 0);
	CHECK_EQ(c.nin, 0);
	CHECK_EQ(c.nout, 512);
	vqd_done(&d);
}

/* A guest rewriting its rings and tables while the device reads them. */
struct scribbler {
	struct vqd *d;
	uint64_t table; /* an indirect table it also scribbles on */
	volatile int stop;
};

static void *scribble(void *arg)
{
	struct scribbler *sc = arg;
	uint64_t x = 88172645463325252ull;

	while (!sc->stop) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* A random byte of the descriptor table, the avail ring, or the indirect table. */
		uint64_t where = (x >> 32) % 3 == 0   ? sc->d->desc + (x % (16 * sc->d->size))
				 : (x >> 32) % 3 == 1 ? sc->d->avail + 4 + (x % (2 * sc->d->size))
						      : sc->table + (x % (16 * 8));
		__atomic_store_n(vqd_ptr(sc->d, where), (uint8_t)(x >> 8), __ATOMIC_RELAXED);
	}
	return NULL;
}

TEST(a_guest_scribbling_meanwhile_cannot_make_us_leave_its_memory)
{
	struct vqd d;
	struct fb_virtq_chain c;
	struct scribbler sc = {.d = &d};
	pthread_t th;
	uint64_t buf;
	int i, good = 0;

	init(&d, 8, 1);
	buf = vqd_alloc_cross(&d, 4096, 100);
	sc.table = vqd_alloc(&d, 16 * 8);
	CHECK_EQ(pthread_create(&th, NULL, scribble, &sc), 0);
	for (i = 0; i < 100000; i++) {
		/* The driver writes a good chain each time; the scribbler races with it and
		 * with us. The avail index stays sane (a broken one just stops the queue). */
		for (int k = 0; k < 8; k++)
			vqd_desc_at(&d, sc.table, k, buf, 512,
				    (k >= 4 ? VQD_F_WRITE : 0) | (k < 7 ? VQD_F_NEXT : 0), k + 1);
		vqd_desc(&d, i % 8, sc.table, 16 * 8, VQD_F_INDIRECT, 0);
		vqd_publish(&d, (uint16_t)(i % 8));
		if (fb_virtq_pop(d.q, &c) != 1)
			break;
		if (!c.bad) {
			good++;
			for (int k = 0; k < c.nin + c.nout; k++) {
				uint8_t *p = c.in[k].iov_base;
				size_t n = c.in[k].iov_len;
				int in0 = p >= d.host[0] && p + n <= d.host[0] + VQD_LEN0;
				int in1 = p >= d.host[1] && p + n <= d.host[1] + VQD_LEN1;

				if (!in0 && !in1) {
					sc.stop = 1;
					pthread_join(th, NULL);
					FBT_FAIL("iovec %d outside guest memory", k);
				}
			}
		}
		fb_virtq_push(d.q, c.head, 0);
		fb_virtq_flush(d.q);
	}
	sc.stop = 1;
	pthread_join(th, NULL);
	CHECK_EQ(i, 100000);
	CHECK(good > 0);
	if (getenv("VQ_VERBOSE"))
		fprintf(stderr, "  %d of %d chains good\n", good, i);
	vqd_done(&d);
}

TEST_MAIN()
