/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * libFuzzer target for the virtqueue layer: the input is a guest's memory (descriptor table,
 * rings, indirect tables, FUSE requests) and what the guest changes between kicks; a memfs
 * server serves the queue through fb_virtio_fs_process(). Nothing may crash, hang or leak, and
 * every chain that comes out must lie inside guest memory.
 *
 * Input layout (little-endian):
 *   byte 0       queue size: 1 << (b % 9), so 1 .. 256
 *   byte 1       bit 0: EVENT_IDX; bit 1: a hole between the two regions (else adjacent);
 *                bit 2: no INIT before the queue is served (the guest's first chain must be
 *                INIT); bit 3: pop the chains here and check their iovecs instead of serving
 *                them with the server
 *   bytes 2-3    the queue's base (next available index) for fb_virtq_start()
 *   bytes 4-5    n: length of the memory image
 *   n bytes      the image: guest memory from REGION0_GPA on, region 0 then region 1
 *                (IMAGE_SIZE bytes in all; the rest is zero)
 *   then         patches of 3 bytes {u16 image offset, u8 value}: the guest writing its
 *                memory. The queue is served once before the patches and again after every
 *                PATCHES_PER_KICK of them (and after the last).
 *
 * Rings: the descriptor table at image offset 0, the available ring at DESC_AREA, the used
 * ring at DESC_AREA + AVAIL_AREA (large enough for 256 entries). Guest-physical addresses:
 * region 0 at REGION0_GPA, region 1 right after it or REGION1_HOLE_GPA. A queue the guest
 * breaks (-EIO) is started again at the guest's avail index.
 *
 * The seeds come from tests/fuzz/gen_corpus_virtq.py. FB_FUZZ_VERBOSE=1 in the environment
 * keeps the log (bad chains, the server's debug lines) to see what a seed reaches.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/memfs.h>
#include <fuse_backend/server.h>
#include <fuse_backend/virtio.h>

#define REGION_SIZE	 (16 * 1024)
#define IMAGE_SIZE	 (2 * REGION_SIZE)
#define REGION0_GPA	 0x10000ull
#define REGION1_HOLE_GPA 0x40000ull
#define DESC_AREA	 4096
#define AVAIL_AREA	 1024
#define PATCHES_PER_KICK 8
#define MAX_KICKS	 64

static void quiet(enum fb_log_level level, const char *msg, void *priv)
{
	(void)level;
	(void)msg;
	(void)priv;
}

/* The image offset @off as a host pointer. */
static uint8_t *image_ptr(uint8_t *host[2], size_t off)
{
	return off < REGION_SIZE ? host[0] + off : host[1] + (off - REGION_SIZE);
}

/* Does [p, p + len) lie inside one of the regions? */
static int in_regions(uint8_t *host[2], const void *p, size_t len)
{
	for (int i = 0; i < 2; i++) {
		uintptr_t b = (uintptr_t)host[i], a = (uintptr_t)p;

		if (a >= b && a - b <= REGION_SIZE && len <= REGION_SIZE - (a - b))
			return 1;
	}
	return 0;
}

/* Pop every available chain, check it, complete it empty. */
static int pop_and_check(struct fb_virtq *q, uint8_t *host[2], unsigned int size, int *notify)
{
	struct fb_virtq_chain c;
	int n = 0, r;

	while ((r = fb_virtq_pop(q, &c)) == 1) {
		if (c.bad) {
			if (c.bad >= 0 || c.nin || c.nout)
				abort();
		} else {
			if (c.nin < 0 || c.nout < 0 || c.nin + c.nout > FB_VIRTQ_IOV_MAX(size))
				abort();
			if (c.out != c.in + c.nin)
				abort();
			for (int i = 0; i < c.nin + c.nout; i++)
				if (c.in[i].iov_len == 0 ||
				    !in_regions(host, c.in[i].iov_base, c.in[i].iov_len))
					abort();
		}
		fb_virtq_push(q, c.head, 0);
		if (++n > (int)size)
			abort(); /* one avail index read announces at most size chains */
	}
	*notify |= fb_virtq_flush(q);
	return r < 0 ? r : n;
}

static void init_session(struct fb_server *s)
{
	struct {
		struct fb_in_header h;
		struct fb_init_in in;
	} req = {
		.h = {.len = sizeof(req), .opcode = FB_INIT, .unique = 2},
		.in = {.major = 7,
		       .minor = 45,
		       .max_readahead = 131072,
		       .flags = 0xffffffff,
		       .flags2 = 0x3ff},
	};
	static uint8_t reply[4096];
	struct iovec rv = {&req, sizeof(req)}, wv = {reply, sizeof(reply)};
	struct fb_reader r;
	struct fb_writer w;

	fb_reader_init(&r, &rv, 1);
	fb_writer_init(&w, &wv, 1);
	fb_server_handle(s, &r, &w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fb_transport_ops tops;
	struct fb_memfs_config mc = {.max_bytes = 1 << 20, .max_inodes = 256};
	struct fb_server_config sc = {0};
	struct fb_memfs *m = NULL;
	struct fb_server *s = NULL;
	struct fb_guest_mem *mem = NULL;
	struct fb_virtq *q = NULL;
	uint8_t *host[2] = {NULL, NULL};
	unsigned int qsize, opts, kicks = 0;
	uint16_t base, n;
	uint64_t gpa1;
	size_t pos;
	int notify = 0;

	static int verbose = -1;

	if (verbose < 0)
		verbose = getenv("FB_FUZZ_VERBOSE") != NULL;
	if (size < 6)
		return 0;
	if (!verbose)
		fb_log_set(quiet, NULL);
	qsize = 1u << (data[0] % 9);
	opts = data[1];
	memcpy(&base, data + 2, 2);
	memcpy(&n, data + 4, 2);
	pos = 6;
	if (n > size - pos)
		n = (uint16_t)(size - pos);
	if (n > IMAGE_SIZE)
		n = IMAGE_SIZE;

	/* Two separate allocations, so ASan sees any access past either region. */
	host[0] = aligned_alloc(4096, REGION_SIZE);
	host[1] = aligned_alloc(4096, REGION_SIZE);
	if (!host[0] || !host[1])
		goto out_free_hosts;
	memset(host[0], 0, REGION_SIZE);
	memset(host[1], 0, REGION_SIZE);
	for (size_t i = 0; i < n; i++)
		*image_ptr(host, i) = data[pos + i];
	pos += n;

	gpa1 = (opts & 2) ? REGION1_HOLE_GPA : REGION0_GPA + REGION_SIZE;
	if (fb_guest_mem_new(&mem) < 0)
		goto out_free_hosts;
	if (fb_guest_mem_add(mem, REGION0_GPA, REGION_SIZE, 0x7f0000000000, host[0]) < 0 ||
	    fb_guest_mem_add(mem, gpa1, REGION_SIZE, 0x7f1000000000, host[1]) < 0)
		abort();
	if (fb_virtq_new(mem, (uint16_t)qsize, &q) < 0)
		goto out_free_mem;
	if (fb_virtq_start(q, host[0], host[0] + DESC_AREA, host[0] + DESC_AREA + AVAIL_AREA,
			   opts & 1, base) < 0)
		abort();

	sc.debug = verbose;
	if (fb_memfs_new(&mc, &m) < 0)
		goto out_free_q;
	if (fb_server_new(&fb_memfs_ops, sizeof(fb_memfs_ops), m, &sc, &s) < 0)
		goto out_free_memfs;
	fb_virtio_fs_transport_init(&tops);
	fb_server_set_transport(s, &tops, NULL);
	if (!(opts & 4))
		init_session(s);

	for (;;) {
		int r;

		if (opts & 8) {
			r = pop_and_check(q, host, qsize, &notify);
		} else {
			r = fb_virtio_fs_process(s, q, &notify);
			if (r > (int)qsize)
				abort(); /* nothing changes meanwhile: at most one ring's worth */
		}
		if (r < 0) {
			uint16_t idx;

			if (r != -EIO)
				abort();
			/* Where the guest says it is, as a front end would restart it. */
			memcpy(&idx, host[0] + DESC_AREA + 2, 2);
			if (fb_virtq_start(q, host[0], host[0] + DESC_AREA,
					   host[0] + DESC_AREA + AVAIL_AREA, opts & 1, idx) < 0)
				abort();
		}
		if (pos + 3 > size || ++kicks > MAX_KICKS)
			break;
		for (int i = 0; i < PATCHES_PER_KICK && pos + 3 <= size; i++, pos += 3) {
			uint16_t off;

			memcpy(&off, data + pos, 2);
			*image_ptr(host, off % IMAGE_SIZE) = data[pos + 2];
		}
	}

	fb_server_free(s);
out_free_memfs:
	fb_memfs_free(m);
out_free_q:
	fb_virtq_free(q);
out_free_mem:
	fb_guest_mem_free(mem);
out_free_hosts:
	free(host[0]);
	free(host[1]);
	fb_log_set(NULL, NULL);
	return 0;
}
