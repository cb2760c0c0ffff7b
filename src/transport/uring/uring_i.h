/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * FUSE over io_uring, internals: one ring entry's buffers and how a request in them becomes
 * an fb_reader / fb_writer pair for the server (entry.c, no liburing needed, unit-tested),
 * and the rings and threads around them (uring.c).
 *
 * Layout of a request in an entry, as the kernel writes it:
 *   hdr->in_out        struct fb_in_header; in.len = header + every argument's size
 *   hdr->op_in         the opcode's first argument (e.g. struct fb_write_in), or nothing when
 *                      the opcode has no fixed argument (LOOKUP's name goes to the payload)
 *   payload            the other arguments (names, data, extensions), ent_in_out.payload_sz
 *                      bytes
 *   ring_ent_in_out    commit_id (the request's unique) and payload_sz
 * so the size of the op_in part is in.len - sizeof(in_header) - payload_sz.
 *
 * The reply goes back in the same buffers: struct fb_out_header into in_out, every reply
 * argument into the payload, their length into ring_ent_in_out.payload_sz.
 */
#ifndef FB_TRANSPORT_URING_I_H
#define FB_TRANSPORT_URING_I_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/buf.h>

#include "transport/completion_i.h"

/*
 * A request's arguments (the op_in part and the payload) up to this size are copied, once and
 * together, to the entry's own side buffer before the server runs: the reply (written into
 * the payload buffer) can then never overwrite a name or value the server still reads, and
 * the server finds the arguments contiguous and uses them in place (no second copy). WRITE
 * data is never copied: its reply is written only after the data was consumed. Bigger
 * arguments get a temporary buffer.
 */
#define FB__URING_SIDE_SIZE	(FB_MIN_READ_BUFFER + FB_URING_OP_IN_OUT_SZ)

/* One ring entry. */
struct fb__uring_ent {
	struct fb_uring_req_header *hdr;	/* header buffer (registered with the kernel) */
	void *payload;				/* payload buffer (registered) */
	size_t payload_cap;			/* its size */
	void *side;				/* FB__URING_SIDE_SIZE bytes, see above */
	void *tmp;				/* temporary copy of a big payload, or NULL */
	struct iovec reg_iov[2];		/* REGISTER's argument: hdr, payload */

	/* The request being served (valid between _request() and _reply()): */
	struct fb_in_header in;			/* copy of the request header */
	uint64_t commit_id;			/* the kernel's id for COMMIT_AND_FETCH */
	struct iovec in_iov[3];			/* in, then op_in part and payload (WRITE),
						 * or one copy of both (every other opcode) */
	struct iovec out_iov[2];		/* out header (in_out), payload */

	void *queue;				/* owner (uring.c) */
	int served;				/* served a request since (re)registering */
	int reregistered;			/* registered again after the kernel dropped it */

	/* A request answered later (fb_server_handle_async() returned -EINPROGRESS): the
	 * entry stays out of the kernel until the reply, then goes on the done list below. */
	struct fb__completion comp;

	/* A request served on a thread of its own (uring.c: requests that may wait): */
	struct fb_reader r;
	struct fb_writer w;
	ssize_t result;				/* fb_server_handle()'s return value */
	size_t written;				/* what the writer held */
	struct fb__uring_ent *next;		/* on the queue's list of finished ones */
};

/*
 * Fault injection for tests: when non-zero, entries are registered with a payload buffer this
 * many bytes shorter than the kernel requires, so every REGISTER is refused (as an old or
 * misconfigured kernel would) and the fallback path runs. Set before fb_uring_start().
 */
extern unsigned int fb__uring_test_short_payload;

/* Most CPUs (queues) we accept; queue ids are 16 bits. */
#define FB__URING_MAX_CPUS	65536

/*
 * Count the CPUs in a kernel CPU list such as "0-3,8-11\n" (the format of
 * /sys/devices/system/cpu/possible). Returns the count, or 0 for a malformed list or more than
 * FB__URING_MAX_CPUS.
 */
unsigned int fb__uring_count_cpus(const char *list);

/* Payload buffer size the kernel requires for these negotiated limits (bytes). */
size_t fb__uring_payload_size(uint32_t max_write, uint32_t max_pages, size_t page_size);

/*
 * Set up @e's buffers: @hdr (at least sizeof(struct fb_uring_req_header) bytes), @payload of
 * @payload_cap bytes, @side of FB__URING_SIDE_SIZE bytes. All borrowed.
 */
void fb__uring_ent_init(struct fb__uring_ent *e, struct fb_uring_req_header *hdr, void *payload,
			size_t payload_cap, void *side);

/*
 * Turn the request the kernel put into @e into a reader @r (in_header, op_in part, payload:
 * one logical request whose in_header.len equals its total) and a writer @w (out header into
 * in_out, the rest into the payload buffer). Returns 0, -EPROTO when the sizes the kernel
 * wrote do not add up (the request cannot be handed to the server: answer it with
 * fb__uring_ent_reply(e, -EIO, ...)), or -ENOMEM.
 */
int fb__uring_ent_request(struct fb__uring_ent *e, struct fb_reader *r, struct fb_writer *w);

/*
 * Finish the request in @e after the server: @n is fb_server_handle()'s return value (or a
 * negative errno for a request that never reached it), @written what the writer holds
 * (fb_writer_written(), used when @n is -ENODEV). Writes a valid reply into the entry (the
 * server's reply, or an error reply when there is none) and its payload_sz, releases a
 * temporary buffer, and returns the commit id to quote in COMMIT_AND_FETCH.
 */
uint64_t fb__uring_ent_reply(struct fb__uring_ent *e, ssize_t n, size_t written);

/* Release what fb__uring_ent_request() may have allocated (NULL-safe fields). */
void fb__uring_ent_done(struct fb__uring_ent *e);

#endif /* FB_TRANSPORT_URING_I_H */
