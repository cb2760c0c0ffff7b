/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * FUSE over io_uring: a ring entry's buffers as a request reader and a reply writer. Pure
 * memory work, no io_uring calls, so it builds without liburing and is unit-tested.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "uring_i.h"

unsigned int fb__uring_test_short_payload;

unsigned int fb__uring_count_cpus(const char *list)
{
	unsigned long n = 0;
	const char *p = list;
	char *end;

	while (*p && *p != '\n') {
		unsigned long a, b;

		if (*p < '0' || *p > '9')
			return 0;
		a = strtoul(p, &end, 10);
		b = a;
		p = end;
		if (*p == '-') {
			if (p[1] < '0' || p[1] > '9')
				return 0;
			b = strtoul(p + 1, &end, 10);
			p = end;
		}
		if (b < a || b - a >= FB__URING_MAX_CPUS || n + (b - a + 1) > FB__URING_MAX_CPUS)
			return 0;
		n += b - a + 1;
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return 0;
	}
	return (unsigned int)n;
}

size_t fb__uring_payload_size(uint32_t max_write, uint32_t max_pages, size_t page_size)
{
	size_t sz = FB_MIN_READ_BUFFER;

	if (max_write > sz)
		sz = max_write;
	if ((size_t)max_pages * page_size > sz)
		sz = (size_t)max_pages * page_size;
	return sz;
}

void fb__uring_ent_init(struct fb__uring_ent *e, struct fb_uring_req_header *hdr, void *payload,
			size_t payload_cap, void *side)
{
	memset(e, 0, sizeof(*e));
	e->hdr = hdr;
	e->payload = payload;
	e->payload_cap = payload_cap;
	e->side = side;
	e->reg_iov[0] = (struct iovec){ .iov_base = hdr, .iov_len = sizeof(*hdr) };
	e->reg_iov[1] = (struct iovec){ .iov_base = payload, .iov_len = payload_cap };
}

void fb__uring_ent_done(struct fb__uring_ent *e)
{
	free(e->tmp);
	e->tmp = NULL;
}

int fb__uring_ent_request(struct fb__uring_ent *e, struct fb_reader *r, struct fb_writer *w)
{
	struct fb_uring_req_header *hdr = e->hdr;
	size_t payload_sz, args, op_sz;
	uint8_t *dst;

	/*
	 * The header is copied out first: the reply's out header is written over the same bytes
	 * (in_out), and the server must be free to write it before it is done reading.
	 */
	memcpy(&e->in, hdr->in_out, sizeof(e->in));
	e->commit_id = hdr->ring_ent_in_out.commit_id;
	payload_sz = hdr->ring_ent_in_out.payload_sz;

	if (payload_sz > e->payload_cap || e->in.len < sizeof(e->in))
		return -EPROTO;
	args = e->in.len - sizeof(e->in);
	if (args < payload_sz)
		return -EPROTO;
	op_sz = args - payload_sz;
	if (op_sz > FB_URING_OP_IN_OUT_SZ)
		return -EPROTO;

	e->in_iov[0] = (struct iovec){ .iov_base = &e->in, .iov_len = sizeof(e->in) };
	if (payload_sz > 0 && e->in.opcode != FB_WRITE) {
		/* Names, values and extensions move out of the way of the reply (see uring_i.h),
		 * with the op_in part in front: the server then reads the arguments in place. */
		if (op_sz + payload_sz <= FB__URING_SIDE_SIZE) {
			dst = e->side;
		} else {
			e->tmp = malloc(op_sz + payload_sz);
			if (!e->tmp)
				return -ENOMEM;
			dst = e->tmp;
		}
		memcpy(dst, hdr->op_in, op_sz);
		memcpy(dst + op_sz, e->payload, payload_sz);
		e->in_iov[1] = (struct iovec){ .iov_base = dst, .iov_len = op_sz + payload_sz };
		fb_reader_init(r, e->in_iov, 2);
	} else {
		e->in_iov[1] = (struct iovec){ .iov_base = hdr->op_in, .iov_len = op_sz };
		e->in_iov[2] = (struct iovec){ .iov_base = e->payload, .iov_len = payload_sz };
		fb_reader_init(r, e->in_iov, 3);
	}

	e->out_iov[0] = (struct iovec){ .iov_base = hdr->in_out,
					.iov_len = sizeof(struct fb_out_header) };
	e->out_iov[1] = (struct iovec){ .iov_base = e->payload, .iov_len = e->payload_cap };
	fb_writer_init(w, e->out_iov, 2);
	return 0;
}

/* An error (or empty) reply: just the out header. */
static void ent_reply_header(struct fb__uring_ent *e, int32_t error)
{
	struct fb_out_header oh = {
		.len = sizeof(oh),
		.error = error,
		.unique = e->commit_id,
	};

	memcpy(e->hdr->in_out, &oh, sizeof(oh));
	e->hdr->ring_ent_in_out.payload_sz = 0;
}

uint64_t fb__uring_ent_reply(struct fb__uring_ent *e, ssize_t n, size_t written)
{
	const size_t oh = sizeof(struct fb_out_header);

	int destroyed = n == -ENODEV;

	if (destroyed)		/* DESTROY: its reply, if any, is in the writer */
		n = (ssize_t)written;

	if (n >= (ssize_t)oh && (size_t)n - oh <= e->payload_cap) {
		e->hdr->ring_ent_in_out.payload_sz = (uint32_t)((size_t)n - oh);
	} else if (destroyed || (n == 0 && e->in.opcode == FB_NOTIFY_REPLY)) {
		/* Needs no answer, but the entry must be committed to be used again. */
		ent_reply_header(e, 0);
	} else {
		/* A dropped or undecodable request: the kernel must not wait for it forever. */
		ent_reply_header(e, -EIO);
	}
	fb__uring_ent_done(e);
	return e->commit_id;
}
