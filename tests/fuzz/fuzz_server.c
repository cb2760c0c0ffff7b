/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * libFuzzer target for the request server over memfs.
 *
 * Input layout (all little-endian):
 *   byte 0       kernel minor offered at INIT: 27 + (b % 20), so 7.27 .. 7.46
 *   bytes 1-8    INIT flags offered (bits 32-63 count only with FB_INIT_EXT, as on the wire)
 *   byte 9       bit 0: max_write 4096 (else 1 MiB); bit 1: transport offers PASSTHROUGH and
 *                OVER_IO_URING; bit 2: debug logging
 *   then records: u16 n, then min(n & 0x7fff, rest) bytes forming one request. Unless bit 15
 *                of n is set, in_header.len is overwritten with the record's real length (so
 *                the fuzzer gets past the length check easily; with bit 15 it tests that check).
 *
 * Each request is delivered as two iovecs (split at a third) and answered into a fixed 64 KiB
 * writer made of three iovecs, so the scattered paths run too. Every reply is checked: its
 * header must say the length fb_server_handle() returned.
 *
 * FB_FUZZ_VERBOSE=1 in the environment logs every request and reply (to check what a seed
 * reaches: ./fuzz_server SEEDFILE).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/memfs.h>
#include <fuse_backend/server.h>

#define REPLY_SIZE (64 * 1024 + 16)

static uint8_t reply[REPLY_SIZE];

static void quiet(enum fb_log_level level, const char *msg, void *priv)
{
	(void)level;
	(void)msg;
	(void)priv;
}

static int notify_sink(void *priv, const struct iovec *iov, int iovcnt)
{
	size_t n = 0;

	for (int i = 0; i < iovcnt; i++)
		n += iov[i].iov_len;
	return n >= sizeof(struct fb_out_header) ? 0 : -EINVAL;
}

static int backing_open(void *priv, int fd)
{
	return fd >= 0 ? 1 : -EBADF;
}

static int backing_close(void *priv, int id)
{
	return 0;
}

static void retrieve(void *priv, uint64_t cookie, fb_ino_t ino, uint64_t off,
		     struct fb_reader *data, uint32_t size)
{
	uint8_t tmp[256];

	while (fb_reader_remaining(data) > 0) {
		size_t n = fb_reader_remaining(data) < sizeof(tmp) ? fb_reader_remaining(data)
								   : sizeof(tmp);

		if (fb_reader_read(data, tmp, n) < 0)
			abort();
	}
}

/* Requests come as shared readers (a guest's memory) in this run. */
static int shared;

static ssize_t handle(struct fb_server *s, const uint8_t *req, size_t len)
{
	struct iovec rv[2], wv[3];
	struct fb_reader r;
	struct fb_writer w;
	size_t cut = len / 3;
	ssize_t ret;

	rv[0].iov_base = (void *)req;
	rv[0].iov_len = cut;
	rv[1].iov_base = (void *)(req + cut);
	rv[1].iov_len = len - cut;
	wv[0].iov_base = reply;
	wv[0].iov_len = 24;
	wv[1].iov_base = reply + 24;
	wv[1].iov_len = 1000;
	wv[2].iov_base = reply + 1024;
	wv[2].iov_len = REPLY_SIZE - 1024;
	if (shared)
		fb_reader_init_shared(&r, rv, 2);
	else
		fb_reader_init(&r, rv, 2);
	fb_writer_init(&w, wv, 3);
	ret = fb_server_handle(s, &r, &w);
	if (ret > 0) {
		struct fb_out_header oh;

		if ((size_t)ret > REPLY_SIZE || (size_t)ret < sizeof(oh) ||
		    (size_t)ret != fb_writer_written(&w))
			abort();
		memcpy(&oh, reply, sizeof(oh));
		if (oh.len != (uint32_t)ret || oh.error > 0 || oh.error < -511)
			abort();
		if (oh.error != 0 && oh.len != sizeof(oh))
			abort();
	} else if (ret < 0 && ret != -ENODEV) {
		abort(); /* the writer always holds an error reply */
	}
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fb_transport_ops tops_plain = {.size = sizeof(tops_plain),
							  .send_notify = notify_sink};
	/* A virtio-fs device: every guest flag, no notification channel. */
	static const struct fb_transport_ops tops_guest = {
		.size = sizeof(tops_guest),
		.flags = FB_TRANSPORT_FOREIGN_PIDS | FB_TRANSPORT_NO_INTERRUPT |
			 FB_TRANSPORT_RESTART | FB_TRANSPORT_REPLY_ALWAYS,
	};
	static const struct fb_transport_ops tops_pt = {
		.size = sizeof(tops_pt),
		.caps = FB_PASSTHROUGH | FB_OVER_IO_URING,
		.send_notify = notify_sink,
		.backing_open = backing_open,
		.backing_close = backing_close,
	};
	struct fb_memfs_config mc = {.max_bytes = 1 << 20, .max_inodes = 256};
	struct fb_server_config sc = {0};
	struct fb_memfs *m = NULL;
	struct fb_server *s = NULL;
	struct fb_init_in in = {.major = 7, .max_readahead = 131072};
	uint8_t init[sizeof(struct fb_in_header) + sizeof(struct fb_init_in)];
	struct fb_in_header h = {.opcode = FB_INIT, .unique = 2};
	uint64_t flags;
	uint8_t *buf;
	size_t pos;

	static int verbose = -1;

	if (verbose < 0)
		verbose = getenv("FB_FUZZ_VERBOSE") != NULL;
	if (size < 10)
		return 0;
	if (!verbose)
		fb_log_set(quiet, NULL);
	in.minor = 27 + data[0] % 20;
	memcpy(&flags, data + 1, 8);
	in.flags = (uint32_t)flags;
	in.flags2 = (uint32_t)(flags >> 32);
	if (data[9] & 1)
		sc.max_write = 4096;
	sc.debug = verbose || (data[9] & 4) != 0;
	if (fb_memfs_new(&mc, &m) < 0)
		return 0;
	if (fb_server_new(&fb_memfs_ops, sizeof(fb_memfs_ops), m, &sc, &s) < 0) {
		fb_memfs_free(m);
		return 0;
	}
	shared = (data[9] & 8) != 0;
	fb_server_set_transport(s, shared ? &tops_guest : (data[9] & 2) ? &tops_pt : &tops_plain,
				NULL);
	fb_server_set_retrieve_cb(s, retrieve, NULL);

	h.len = sizeof(init);
	memcpy(init, &h, sizeof(h));
	memcpy(init + sizeof(h), &in, sizeof(in));
	handle(s, init, sizeof(init));

	/* Each record is copied to its own allocation so ASan sees reads past its end. */
	for (pos = 10; pos + 2 <= size;) {
		uint16_t n;
		size_t len;

		memcpy(&n, data + pos, 2);
		pos += 2;
		len = n & 0x7fff;
		if (len > size - pos)
			len = size - pos;
		buf = malloc(len ? len : 1);
		if (!buf)
			break;
		memcpy(buf, data + pos, len);
		pos += len;
		if (!(n & 0x8000) && len >= sizeof(struct fb_in_header)) {
			uint32_t l = (uint32_t)len;

			memcpy(buf, &l, sizeof(l));
		}
		ssize_t r = handle(s, buf, len);

		free(buf);
		if (r == -ENODEV)
			break;
	}
	/* Notifications with input-derived names, after whatever the session did. */
	if (size > 12) {
		size_t nl = size - 12 < 2000 ? size - 12 : 2000;

		fb_server_notify_inval_entry(s, 1, (const char *)data + 12, nl, data[10] & 1);
		fb_server_notify_delete(s, 1, 2, (const char *)data + 12, nl);
		fb_server_notify_store(s, 2, 0, data, size);
		fb_ino_t inos[2] = {2, 3};

		fb_server_notify_prune(s, inos, 2);
	}
	fb_server_free(s);
	fb_memfs_free(m);
	fb_log_set(NULL, NULL);
	return 0;
}
