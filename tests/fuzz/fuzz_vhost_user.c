/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * libFuzzer target for the vhost-user back end: the input is what a front end sends, fed
 * through a socketpair to a device in OWN_LOOP mode over a memfs server. Every message is
 * dispatched as it arrives, replies are drained, and every started queue is served after each
 * message (so rings placed in the shared memfd, which the input can write, are walked too).
 * Nothing may crash, hang or leak: after each input the process must hold exactly the fds it
 * held before and no mapping of guest memory.
 *
 * Input layout (little-endian):
 *   byte 0       bit 0: FB_VHOST_USER_NO_DAX; bits 1-2: request queues - 1 (1..4); bit 3: the
 *                default loop (a thread per started queue serves it) instead of OWN_LOOP
 *   then records, each:
 *     u8 kind    bits 0-3: fds to attach (0..15); bit 4: they are memfds of guest memory (else
 *                eventfds); bit 5: a memory write instead of a message (below); bit 6: the
 *                header's size field is taken from the input (u32 after the payload length)
 *                instead of the payload's real length, and the input ends after this record
 *                (the device sees EOF); bit 7: only the first half of the message is sent,
 *                then EOF
 *     message:   u32 request, u32 flags, u16 n, [u32 size], then min(n % 8192, rest) bytes
 *     memory write: u16 offset, u16 n, then min(n, rest) bytes written into the memfd at offset
 *
 * Guest memory: one memfd of MEM_SIZE bytes per input; regions bigger than it are refused
 * (the device checks the file's size), so every mapping stays small.
 *
 * Seeds: tests/fuzz/gen_corpus_vhost_user.py. FB_FUZZ_VERBOSE=1 keeps the log.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fuse_backend/memfs.h>
#include <fuse_backend/server.h>
#include <fuse_backend/vhost_user.h>

#define MEM_SIZE    (64 * 1024)
#define PAYLOAD_MAX 8192
#define MAX_FDS	    15

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(enum fb_log_level level, const char *msg, void *priv)
{
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		abort();
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void list_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char path[300], target[256];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = 0;
			fprintf(stderr, "  fd %s -> %s\n", e->d_name, target);
		}
	}
	if (d)
		closedir(d);
}

static int count_guest_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	if (!f)
		abort();
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "memfd:fuzz-guest") != NULL;
	fclose(f);
	return n;
}

struct in {
	const uint8_t *p;
	size_t left;
};

static int take(struct in *in, void *out, size_t n)
{
	if (in->left < n)
		return -1;
	memcpy(out, in->p, n);
	in->p += n;
	in->left -= n;
	return 0;
}

/* Read what the device sent back (replies), closing any fds. */
static void drain(int fe)
{
	char buf[4096];
	union {
		char buf[CMSG_SPACE(16 * sizeof(int))];
		struct cmsghdr align;
	} ctl;

	for (;;) {
		struct iovec iov = {buf, sizeof(buf)};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl.buf,
				    .msg_controllen = sizeof(ctl.buf)};

		if (recvmsg(fe, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) <= 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));

			for (int i = 0; i < n; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				close(fd);
			}
		}
	}
}

static int send_with_fds(int fe, const void *buf, size_t len, const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {(void *)buf, len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	return sendmsg(fe, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)len ? 0 : -1;
}

static int own_loop;

/* Serve every started queue once (the queue threads do it in the default loop). */
static void serve_queues(struct fb_vhost_user *dev)
{
	if (!own_loop)
		return;
	for (unsigned int i = 0; i < fb_vhost_user_queue_count(dev); i++)
		if (fb_vhost_user_queue_fd(dev, i) >= 0)
			fb_vhost_user_queue_process(dev, i);
}

/* Feed the records of @in to @dev through @fe. */
static void run(struct fb_vhost_user *dev, int fe, int memfd, struct in *in)
{
	static uint8_t msg[12 + PAYLOAD_MAX];

	while (in->left && fb_vhost_user_fd(dev) >= 0) {
		uint8_t kind;
		uint32_t req, flags, hsize;
		uint16_t n, off;
		int fds[MAX_FDS], nfds, last, r;

		if (take(in, &kind, 1) < 0)
			return;
		if (kind & 0x20) {
			if (take(in, &off, 2) < 0 || take(in, &n, 2) < 0)
				return;
			n = n < in->left ? n : (uint16_t)in->left;
			if (off + n > MEM_SIZE)
				n = (uint16_t)(MEM_SIZE - off);
			if (n && pwrite(memfd, in->p, n, off) < 0)
				abort();
			in->p += n;
			in->left -= n;
			serve_queues(dev);
			continue;
		}
		if (take(in, &req, 4) < 0 || take(in, &flags, 4) < 0 || take(in, &n, 2) < 0)
			return;
		if ((kind & 0x40) && take(in, &hsize, 4) < 0)
			return;
		n %= PAYLOAD_MAX;
		n = n < in->left ? n : (uint16_t)in->left;
		if (!(kind & 0x40))
			hsize = n;
		last = (kind & 0xc0) != 0;
		memcpy(msg, &req, 4);
		memcpy(msg + 4, &flags, 4);
		memcpy(msg + 8, &hsize, 4);
		memcpy(msg + 12, in->p, n);
		in->p += n;
		in->left -= n;

		nfds = kind & 0xf;
		for (int i = 0; i < nfds; i++) {
			fds[i] = kind & 0x10 ? dup(memfd) : eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (fds[i] < 0)
				abort();
		}
		r = send_with_fds(fe, msg, kind & 0x80 ? (12 + n) / 2 : 12 + n, fds, nfds);
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		if (r < 0)
			return;
		if (last)
			shutdown(fe, SHUT_WR);
		do {
			r = fb_vhost_user_dispatch(dev);
			drain(fe);
		} while (r == 0 && last);
		if (r < 0 && r != -EAGAIN)
			return;
		serve_queues(dev);
		if (last)
			return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fds_base;
	struct fb_memfs_config mc = {.max_bytes = 1 << 20, .max_inodes = 256};
	struct fb_vhost_user_config cfg = {.size = sizeof(cfg), .flags = FB_VHOST_USER_OWN_LOOP};
	struct fb_server_config sc = {.debug = getenv("FB_FUZZ_VERBOSE") != NULL};
	struct in in = {data, size};
	struct fb_vhost_user *dev = NULL;
	struct fb_server *s = NULL;
	struct fb_memfs *m = NULL;
	int sv[2], memfd;
	uint8_t opt;

	if (!sc.debug)
		fb_log_set(quiet, NULL);
	/* Per input: libFuzzer's own helpers (the symbolizer's pipes) open fds between runs. */
	fds_base = count_fds();
	if (take(&in, &opt, 1) < 0)
		return 0;
	if (opt & 1)
		cfg.flags |= FB_VHOST_USER_NO_DAX;
	cfg.request_queues = 1 + ((opt >> 1) & 3);
	own_loop = !(opt & 8);
	if (!own_loop)
		cfg.flags &= ~FB_VHOST_USER_OWN_LOOP;

	if (fb_memfs_new(&mc, &m) < 0)
		abort();
	if (fb_server_new(&fb_memfs_ops, sizeof(fb_memfs_ops), m, &sc, &s) < 0)
		abort();
	if (fb_vhost_user_new(s, &cfg, &dev) < 0)
		abort();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (fb_vhost_user_set_fd(dev, sv[1]) < 0)
		abort();
	memfd = memfd_create("fuzz-guest", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, MEM_SIZE) < 0)
		abort();

	run(dev, sv[0], memfd, &in);

	close(sv[0]);
	close(memfd);
	fb_vhost_user_free(dev);
	fb_server_free(s);
	fb_memfs_free(m);
	if (count_fds() != fds_base) {
		fprintf(stderr, "fd leak: %d open, %d before\n", count_fds(), fds_base);
		list_fds();
		abort();
	}
	if (count_guest_maps() != 0) {
		fprintf(stderr, "guest memory still mapped\n");
		abort();
	}
	return 0;
}
