/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The vhost-user back end's message layer, with raw messages over a socketpair and no
 * virtqueue traffic: the QEMU 7.2 start and stop sequences are answered right, REPLY_ACK
 * answers what asks, every malformed message gets its error or closes the connection, and no
 * fd, mapping or thread is left behind (counted in /proc/self before and after). The device
 * runs in OWN_LOOP mode (the test dispatches each message itself), except where the default
 * loop's threads, accept() and reconnecting are the subject.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/server.h>
#include <fuse_backend/vhost_user.h>

#include "harness.h"
#include "transport/vhost_user/vhost_user_i.h"

#define MEM_SIZE   (1 << 20)
#define UADDR	   0x7f0000000000ULL
#define NEED_REPLY (VU_VERSION | VU_FLAG_NEED_REPLY)

static const struct fb_fs_ops no_ops;

/* One device and the front end's end of its socket. */
struct fx {
	struct fb_server *srv;
	struct fb_vhost_user *dev;
	int fe; /* front end's socket */
	int memfd;
	int own_loop;
	int fds_before, maps_before, tasks_before;
};

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR's own fd, or nothing for task */
}

static int count_fds(void)
{
	return count_dir("/proc/self/fd");
}

static int count_tasks(void)
{
	return count_dir("/proc/self/task") + 1;
}

/* Mappings of guest memory (glibc keeps the stacks of joined threads mapped for reuse, so
 * the whole map count is no measure). */
static int count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "memfd:guest") != NULL;
	fclose(f);
	return n;
}

static void quiet(enum fb_log_level level, const char *msg, void *priv)
{
	if (getenv("VU_TEST_VERBOSE"))
		fprintf(stderr, "  log: %s\n", msg);
}

/* Send @len bytes with @nfds fds attached. */
static int fe_send_raw(int fe, const void *buf, size_t len, const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(16 * sizeof(int))];
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
	return sendmsg(fe, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -EIO;
}

/* Send one message with @nfds fds. */
static int fe_send(int fe, uint32_t req, uint32_t flags, const void *payload, uint32_t size,
		   const int *fds, int nfds)
{
	char buf[sizeof(struct vu_hdr) + 512];
	struct vu_hdr h = {req, flags, size};

	memcpy(buf, &h, sizeof(h));
	if (size)
		memcpy(buf + sizeof(h), payload, size);
	return fe_send_raw(fe, buf, sizeof(h) + size, fds, nfds);
}

/* Read one reply to @req within a second: 0 and *@val, or -ETIMEDOUT / -EPROTO. */
static int fe_reply(int fe, uint32_t req, uint64_t *val)
{
	struct pollfd p = {.fd = fe, .events = POLLIN};
	struct {
		struct vu_hdr h;
		uint64_t v;
	} __attribute__((packed)) rep;

	if (poll(&p, 1, 1000) != 1)
		return -ETIMEDOUT;
	if (recv(fe, &rep, sizeof(rep), MSG_WAITALL) != sizeof(rep))
		return -EPROTO;
	if (rep.h.request != req || rep.h.flags != (VU_VERSION | VU_FLAG_REPLY) || rep.h.size != 8)
		return -EPROTO;
	*val = rep.v;
	return 0;
}

/* No reply is waiting. */
static int fe_quiet(int fe)
{
	struct pollfd p = {.fd = fe, .events = POLLIN};

	return poll(&p, 1, 0) == 0;
}

static void fx_open(struct fx *f, uint32_t flags)
{
	struct fb_vhost_user_config cfg = {.size = sizeof(cfg), .flags = flags};
	int sv[2];

	memset(f, 0, sizeof(*f));
	f->own_loop = (flags & FB_VHOST_USER_OWN_LOOP) != 0;
	fb_log_set(quiet, NULL);
	f->fds_before = count_fds();
	f->maps_before = count_maps();
	f->tasks_before = count_tasks();
	CHECK_EQ(fb_server_new(&no_ops, sizeof(no_ops), NULL, NULL, &f->srv), 0);
	CHECK_EQ(fb_vhost_user_new(f->srv, &cfg, &f->dev), 0);
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	CHECK_EQ(fb_vhost_user_set_fd(f->dev, sv[1]), 0);
	f->fe = sv[0];
	f->memfd = memfd_create("guest", MFD_CLOEXEC);
	CHECK(f->memfd >= 0);
	CHECK_OK(ftruncate(f->memfd, MEM_SIZE));
}

/* Free everything; nothing may be left. */
static void fx_close(struct fx *f)
{
	if (f->fe >= 0)
		close(f->fe);
	if (f->memfd >= 0)
		close(f->memfd);
	fb_vhost_user_free(f->dev);
	fb_server_free(f->srv);
	CHECK_EQ(count_fds(), f->fds_before);
	CHECK_EQ(count_maps(), f->maps_before);
	CHECK_EQ(count_tasks(), f->tasks_before);
}

/* Send a message and let the device handle it. */
static int fx_msg(struct fx *f, uint32_t req, uint32_t flags, const void *payload, uint32_t size,
		  const int *fds, int nfds)
{
	int r = fe_send(f->fe, req, flags, payload, size, fds, nfds);

	return r < 0 ? r : fb_vhost_user_dispatch(f->dev);
}

/* Send with NEED_REPLY and return the ack (0 or a negative errno), or -ETIMEDOUT. */
static int64_t fx_ack(struct fx *f, uint32_t req, const void *payload, uint32_t size,
		      const int *fds, int nfds)
{
	uint64_t v;
	int r = fx_msg(f, req, NEED_REPLY, payload, size, fds, nfds);

	if (r < 0)
		return -1000 + r;
	r = fe_reply(f->fe, req, &v);
	return r < 0 ? r : (int64_t)v;
}

static int64_t fx_ack_u64(struct fx *f, uint32_t req, uint64_t v)
{
	return fx_ack(f, req, &v, 8, NULL, 0);
}

static int64_t fx_ack_state(struct fx *f, uint32_t req, uint32_t idx, uint32_t num)
{
	struct vu_vring_state s = {idx, num};

	return fx_ack(f, req, &s, sizeof(s), NULL, 0);
}

static uint64_t fx_get(struct fx *f, uint32_t req)
{
	uint64_t v = 0;

	CHECK_EQ(fx_msg(f, req, VU_VERSION, NULL, 0, NULL, 0), 0);
	CHECK_EQ(fe_reply(f->fe, req, &v), 0);
	return v;
}

static int64_t fx_add_region(struct fx *f, uint64_t gpa, uint64_t size, uint64_t uaddr,
			     uint64_t off, int fd)
{
	struct vu_mem_reg m = {.region = {gpa, size, uaddr, off}};

	return fx_ack(f, VU_ADD_MEM_REG, &m, sizeof(m), &fd, 1);
}

static int64_t fx_vring_fd(struct fx *f, uint32_t req, uint32_t idx, int fd)
{
	uint64_t v = idx | (fd < 0 ? VU_VRING_NOFD : 0);

	return fx_ack(f, req, &v, 8, &fd, fd < 0 ? 0 : 1);
}

static int64_t fx_vring_addr(struct fx *f, uint32_t idx, uint64_t at)
{
	struct vu_vring_addr a = {
		.index = idx, .desc = at, .avail = at + 0x4000, .used = at + 0x8000};

	return fx_ack(f, VU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0);
}

/* What QEMU 7.2 sends up to the rings (PROTOCOL-NOTES.md), checking each answer. */
static void fx_handshake(struct fx *f)
{
	uint64_t features, proto;

	features = fx_get(f, VU_GET_FEATURES);
	CHECK_EQ(features, (1ULL << 32) | (1ULL << 28) | (1ULL << 29) | (1ULL << 30));
	proto = fx_get(f, VU_GET_PROTOCOL_FEATURES);
	CHECK_EQ(proto & (1ULL << 9), 0); /* no CONFIG */
	CHECK_EQ(proto & (1ULL << 1), 0); /* no LOG_SHMFD */
	CHECK(proto & (1ULL << VU_PROTOCOL_F_REPLY_ACK));
	CHECK(proto & (1ULL << VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS));
	CHECK(proto & (1ULL << VU_PROTOCOL_F_MQ));
	CHECK(proto & (1ULL << VU_PROTOCOL_F_RESET_DEVICE));
	CHECK_EQ(fx_msg(f, VU_SET_PROTOCOL_FEATURES, VU_VERSION, &proto, 8, NULL, 0), 0);
	CHECK(fe_quiet(f->fe));
	CHECK_EQ(fx_get(f, VU_GET_QUEUE_NUM), 2);
	CHECK(fx_get(f, VU_GET_MAX_MEM_SLOTS) >= 8);
	CHECK_EQ(fx_ack(f, VU_SET_OWNER, NULL, 0, NULL, 0), 0);
	CHECK_EQ(fx_ack_u64(f, VU_SET_FEATURES, features), 0);
	CHECK_EQ(fx_add_region(f, 0, MEM_SIZE, UADDR, 0, f->memfd), 0);
}

/* Start ring @idx; returns its kick eventfd (the test's copy). */
static int fx_ring(struct fx *f, uint32_t idx, uint16_t base)
{
	int kick = eventfd(0, EFD_CLOEXEC), call = eventfd(0, EFD_CLOEXEC);

	CHECK(kick >= 0 && call >= 0);
	CHECK_EQ(fx_ack_state(f, VU_SET_VRING_NUM, idx, 256), 0);
	CHECK_EQ(fx_ack_state(f, VU_SET_VRING_BASE, idx, base), 0);
	CHECK_EQ(fx_vring_addr(f, idx, UADDR + 0x10000 * (idx + 1)), 0);
	CHECK_EQ(fx_vring_fd(f, VU_SET_VRING_KICK, idx, kick), 0);
	CHECK_EQ(fx_vring_fd(f, VU_SET_VRING_CALL, idx, call), 0);
	close(call);
	/* Disabled until SET_VRING_ENABLE 1 with PROTOCOL_FEATURES. */
	CHECK_EQ(fb_vhost_user_queue_fd(f->dev, idx), -1);
	CHECK_EQ(fx_ack_state(f, VU_SET_VRING_ENABLE, idx, 1), 0);
	CHECK(fb_vhost_user_queue_fd(f->dev, idx) >= 0);
	if (f->own_loop) {
		/* The caller's loop looks once at a ring that just started. */
		struct pollfd p = {.fd = fb_vhost_user_queue_fd(f->dev, idx), .events = POLLIN};

		CHECK_EQ(poll(&p, 1, 0), 1);
		CHECK_EQ(fb_vhost_user_queue_process(f->dev, idx), 0);
		CHECK_EQ(poll(&p, 1, 0), 0);
	}
	return kick;
}

/* What QEMU 7.2 does at guest poweroff: ENABLE 0, GET_VRING_BASE; then SET_VRING_CALL. */
static uint32_t fx_stop_ring(struct fx *f, uint32_t idx)
{
	struct vu_vring_state s = {idx, 0};
	uint64_t v;
	int call = eventfd(0, EFD_CLOEXEC);

	CHECK_EQ(fx_ack_state(f, VU_SET_VRING_ENABLE, idx, 0), 0);
	CHECK_EQ(fb_vhost_user_queue_fd(f->dev, idx), -1);
	CHECK_EQ(fx_msg(f, VU_GET_VRING_BASE, VU_VERSION, &s, sizeof(s), NULL, 0), 0);
	CHECK_EQ(fe_reply(f->fe, VU_GET_VRING_BASE, &v), 0);
	CHECK_EQ((uint32_t)v, idx);
	CHECK_EQ(fx_vring_fd(f, VU_SET_VRING_CALL, idx, call), 0);
	close(call);
	return (uint32_t)(v >> 32);
}

/* The connection was closed by the device. */
static void check_closed(struct fx *f, int r)
{
	char c;

	CHECK(r < 0);
	CHECK_EQ(fb_vhost_user_fd(f->dev), -1);
	CHECK_EQ(recv(f->fe, &c, 1, MSG_DONTWAIT), 0);
}

TEST(qemu72_start_stop_restart)
{
	struct fx f;
	int k0, k1;

	fx_open(&f, FB_VHOST_USER_OWN_LOOP);
	CHECK_EQ(fb_vhost_user_queue_count(f.dev), 2);
	fx_handshake(&f);
	k0 = fx_ring(&f, 0, 0);
	k1 = fx_ring(&f, 1, 0);
	CHECK_EQ(fb_vhost_user_queue_process(f.dev, 1), 0); /* an empty ring */
	CHECK_EQ(fx_stop_ring(&f, 0), 0);
	CHECK_EQ(fx_stop_ring(&f, 1), 0);
	close(k0);
	close(k1);
	/* The guest reboots: the same rings again, resumed where they were (ring 1 as if 7
	 * chains had gone through it: avail and used index 7). */
	CHECK_EQ(pwrite(f.memfd, &(uint16_t){7}, 2, 0x20000 + 0x4000 + 2), 2);
	CHECK_EQ(pwrite(f.memfd, &(uint16_t){7}, 2, 0x20000 + 0x8000 + 2), 2);
	k0 = fx_ring(&f, 0, 0);
	k1 = fx_ring(&f, 1, 7);
	CHECK_EQ(fx_stop_ring(&f, 1), 7);
	CHECK_EQ(fx_stop_ring(&f, 0), 0);
	close(k0);
	close(k1);
	fx_close(&f);
}

TEST(no_protocol_features_rings_start_enabled)
{
	struct fx f;
	int kick;

	fx_open(&f, FB_VHOST_USER_OWN_LOOP);
	kick = eventfd(0, EFD_CLOEXEC);
	CHECK_EQ(fx_msg(&f, VU_SET_FEATURES, VU_VERSION, &(uint64_t){1ULL << 32}, 8, NULL, 0), 0);
	CHECK_EQ(fx_msg(&f, VU_ADD_MEM_REG, VU_VERSION,
			&(struct vu_mem_reg){.region = {0, MEM_SIZE, UADDR, 0}}, 40, &f.memfd, 1),
		 0);
	CHECK_EQ(fx_msg(&f, VU_SET_VRING_NUM, VU_VERSION, &(struct vu_vring_state){1, 64}, 8, NULL,
			0),
		 0);
	CHECK_EQ(fx_msg(&f, VU_SET_VRING_ADDR, VU_VERSION,
			&(struct vu_vring_addr){.index = 1,
						.desc = UADDR,
						.avail = UADDR + 4096,
						.used = UADDR + 8192},
			40, NULL, 0),
		 0);
	CHECK_EQ(fx_msg(&f, VU_SET_VRING_KICK, VU_VERSION, &(uint64_t){1}, 8, &kick, 1), 0);
	CHECK(fb_vhost_user_queue_fd(f.dev, 1) >= 0);
	/* Without REPLY_ACK negotiated, NEED_REPLY gets no ack. */
	CHECK_EQ(fx_msg(&f, VU_SET_OWNER, NEED_REPLY, NULL, 0, NULL, 0), 0);
	CHECK(fe_quiet(f.fe));
	close(kick);
	fx_close(&f);
}

TEST(set_mem_table_and_replace)
{
	struct fx f;
	struct vu_mem_table t = {.nregions = 2};
	int fds[2] = {-1, -1};
	int maps;

	fx_open(&f, FB_VHOST_USER_OWN_LOOP);
	CHECK_EQ(fx_msg(&f, VU_SET_PROTOCOL_FEATURES, VU_VERSION,
			&(uint64_t){1ULL << VU_PROTOCOL_F_REPLY_ACK}, 8, NULL, 0),
		 0);
	maps = count_maps();
	t.regions[0] = (struct vu_region){0, MEM_SIZE / 2, UADDR, 0};
	t.regions[1] =
		(struct vu_region){1ULL << 32, MEM_SIZE / 2, UADDR + MEM_SIZE / 2, MEM_SIZE / 2};
	fds[0] = fds[1] = f.memfd;
	CHECK_EQ(fx_ack(&f, VU_SET_MEM_TABLE, &t, 8 + 2 * 32, fds, 2), 0);
	CHECK_EQ(count_maps(), maps + 2);
	/* A new table replaces the old one. */
	t.nregions = 1;
	CHECK_EQ(fx_ack(&f, VU_SET_MEM_TABLE, &t, 8 + 32, fds, 1), 0);
	CHECK_EQ(count_maps(), maps + 1);
	/* A bad region leaves the table as it was. */
	t.nregions = 2;
	t.regions[1].gpa = 4096; /* overlaps region 0 */
	CHECK_EQ(fx_ack(&f, VU_SET_MEM_TABLE, &t, 8 + 2 * 32, fds, 2), -EEXIST);
	CHECK_EQ(count_maps(), maps + 1);
	/* nregions and fds disagree, or the size does. */
	CHECK_EQ(fx_ack(&f, VU_SET_MEM_TABLE, &t, 8 + 2 * 32, fds, 1), -EINVAL);
	CHECK_EQ(fx_ack(&f, VU_SET_MEM_TABLE, &t, 8 + 32, fds, 2), -EINVAL);
	t.nregions = 9;
	CHECK_EQ(fx_ack(&f, VU_SET_MEM_TABLE, &t, 8, NULL, 0), -EINVAL);
	CHECK_EQ(fx_ack(&f, VU_SET_MEM_TABLE, &t, 4, NULL, 0), -EINVAL);
	fx_close(&f);
}

TEST(reply_ack_on_every_message_that_asks)
{
	struct fx f;

	fx_open(&f, FB_VHOST_USER_OWN_LOOP);
	fx_handshake(&f);
	CHECK_EQ(fx_ack(&f, VU_SET_OWNER, NULL, 0, NULL, 0), 0);
	CHECK_EQ(fx_ack_state(&f, VU_SET_VRING_NUM, 0, 128), 0);
	CHECK_EQ(fx_ack_state(&f, VU_SET_VRING_BASE, 0, 3), 0);
	CHECK_EQ(fx_ack_state(&f, VU_SET_VRING_ENABLE, 0, 1), 0);
	CHECK_EQ(fx_ack(&f, VU_RESET_DEVICE, NULL, 0, NULL, 0), 0);
	/* Without NEED_REPLY, nothing comes back. */
	CHECK_EQ(fx_msg(&f, VU_SET_OWNER, VU_VERSION, NULL, 0, NULL, 0), 0);
	CHECK(fe_quiet(f.fe));
	/* GET_* answer with their own reply only. */
	CHECK_EQ(fx_msg(&f, VU_GET_QUEUE_NUM, NEED_REPLY, NULL, 0, NULL, 0), 0);
	{
		uint64_t v;

		CHECK_EQ(fe_reply(f.fe, VU_GET_QUEUE_NUM, &v), 0);
		CHECK_EQ(v, 2);
	}
	CHECK(fe_quiet(f.fe));
	fx_close(&f);
}

TEST(malformed_messages_get_errors)
{
	struct fx f;
	int efd[10], pipefd[2];

	fx_open(&f, FB_VHOST_USER_OWN_LOOP);
	fx_handshake(&f);
	for (int i = 0; i < 10; i++)
		CHECK((efd[i] = eventfd(0, EFD_CLOEXEC)) >= 0);
	CHECK_OK(pipe2(pipefd, O_CLOEXEC));

	/* Wrong sizes. */
	CHECK_EQ(fx_ack(&f, VU_SET_FEATURES, "abcd", 4, NULL, 0), -EINVAL);
	CHECK_EQ(fx_ack(&f, VU_SET_OWNER, "abcdefgh", 8, NULL, 0), -EINVAL);
	CHECK_EQ(fx_ack(&f, VU_SET_VRING_ADDR, "abcdefgh", 8, NULL, 0), -EINVAL);
	/* Features never offered. */
	CHECK_EQ(fx_ack_u64(&f, VU_SET_FEATURES, 1ULL << 40), -EINVAL);
	CHECK_EQ(fx_ack_u64(&f, VU_SET_PROTOCOL_FEATURES, 1ULL << 9), -EINVAL);
	/* Fds where none belong, more than a message takes, too many for any: all closed. */
	CHECK_EQ(fx_ack(&f, VU_SET_OWNER, NULL, 0, efd, 1), -EINVAL);
	CHECK_EQ(fx_ack(&f, VU_SET_VRING_NUM, &(struct vu_vring_state){0, 64}, 8, efd, 2), -EINVAL);
	CHECK_EQ(fx_vring_fd(&f, VU_SET_VRING_CALL, 0, -1), 0); /* no fd: fine for CALL */
	CHECK_EQ(fx_ack(&f, VU_SET_VRING_CALL, &(uint64_t){0}, 8, efd, 2), -EINVAL);
	CHECK_EQ(fx_ack(&f, VU_SET_VRING_CALL, &(uint64_t){VU_VRING_NOFD}, 8, efd, 1), -EINVAL);
	CHECK_EQ(fx_ack(&f, VU_SET_VRING_CALL, &(uint64_t){1ULL << 9}, 8, efd, 1), -EINVAL);
	CHECK_EQ(fx_ack(&f, VU_SET_VRING_CALL, &(uint64_t){0}, 8, NULL, 0), -EINVAL);
	CHECK_EQ(fx_ack(&f, VU_ADD_MEM_REG, &(struct vu_mem_reg){0}, 40, NULL, 0), -EINVAL);
	CHECK_EQ(fx_ack(&f, VU_SET_MEM_TABLE, &(struct vu_mem_table){.nregions = 1}, 40, efd, 10),
		 -EINVAL);
	/* Unknown requests: an error where one was asked, silence otherwise. */
	CHECK_EQ(fx_ack(&f, 99, NULL, 0, NULL, 0), -EOPNOTSUPP);
	CHECK_EQ(fx_ack(&f, 4000000000u, "xy", 2, efd, 1), -EOPNOTSUPP);
	CHECK_EQ(fx_msg(&f, 6 /* SET_LOG_BASE: not ours */, VU_VERSION, &(uint64_t){0}, 8, efd, 1),
		 0);
	CHECK(fe_quiet(f.fe));
	/* Ring indexes beyond what we advertised (2 queues). */
	CHECK_EQ(fx_ack_state(&f, VU_SET_VRING_NUM, 2, 64), -ERANGE);
	CHECK_EQ(fx_ack_state(&f, VU_SET_VRING_BASE, 255, 0), -ERANGE);
	CHECK_EQ(fx_ack_state(&f, VU_SET_VRING_ENABLE, 7, 1), -ERANGE);
	CHECK_EQ(fx_vring_fd(&f, VU_SET_VRING_KICK, 2, efd[0]), -ERANGE);
	CHECK_EQ(fx_vring_addr(&f, 3, UADDR), -ERANGE);
	/* Queue sizes. */
	CHECK_EQ(fx_ack_state(&f, VU_SET_VRING_NUM, 0, 100), -EINVAL);
	CHECK_EQ(fx_ack_state(&f, VU_SET_VRING_NUM, 0, 0), -EINVAL);
	CHECK_EQ(fx_ack_state(&f, VU_SET_VRING_NUM, 0, 2048), -EINVAL);
	CHECK_EQ(fx_ack_state(&f, VU_SET_VRING_NUM, 0, 1024), 0);
	CHECK_EQ(fx_ack_state(&f, VU_SET_VRING_BASE, 0, 65536), -EINVAL);
	CHECK_EQ(fx_ack_state(&f, VU_SET_VRING_ENABLE, 0, 2), -EINVAL);
	/* Notification fds that could raise SIGPIPE. */
	CHECK_EQ(fx_vring_fd(&f, VU_SET_VRING_CALL, 0, pipefd[1]), -EINVAL);
	CHECK_EQ(fx_vring_fd(&f, VU_SET_VRING_ERR, 1, pipefd[1]), -EINVAL);
	CHECK_EQ(fx_vring_fd(&f, VU_SET_VRING_KICK, 1, f.fe), -EINVAL);
	/* Polling mode is refused. */
	CHECK_EQ(fx_vring_fd(&f, VU_SET_VRING_KICK, 0, -1), -EOPNOTSUPP);
	/* Memory regions: overlapping, unmappable, overflowing, beyond the file. */
	CHECK_EQ(fx_add_region(&f, 4096, 4096, UADDR + MEM_SIZE, 0, f.memfd), -EEXIST);
	CHECK_EQ(fx_add_region(&f, 1ULL << 40, 4096, UADDR + 8192, 0, f.memfd), -EEXIST);
	CHECK_EQ(fx_add_region(&f, 1ULL << 40, 4096, 1ULL << 46, 0, efd[0]), -ENODEV);
	CHECK_EQ(fx_add_region(&f, 1ULL << 40, 4096, 1ULL << 46, 0, pipefd[0]), -EACCES);
	CHECK_EQ(fx_add_region(&f, 1ULL << 40, 4096, 1ULL << 46, UINT64_MAX - 100, f.memfd),
		 -EINVAL);
	CHECK_EQ(fx_add_region(&f, UINT64_MAX - 100, 4096, 1ULL << 46, 0, f.memfd), -EINVAL);
	CHECK_EQ(fx_add_region(&f, 1ULL << 40, 4096, UINT64_MAX - 100, 0, f.memfd), -EINVAL);
	CHECK_EQ(fx_add_region(&f, 1ULL << 40, 0, 1ULL << 46, 0, f.memfd), -EINVAL);
	CHECK_EQ(fx_add_region(&f, 1ULL << 40, MEM_SIZE, 1ULL << 46, 4096, f.memfd), -EINVAL);
	CHECK_EQ(fx_ack(&f, VU_REM_MEM_REG,
			&(struct vu_mem_reg){.region = {1ULL << 40, 4096, 1ULL << 46, 0}}, 40, NULL,
			0),
		 -ENOENT);
	/* Vring addresses outside every region. */
	CHECK_EQ(fx_vring_addr(&f, 0, UADDR + MEM_SIZE), -EFAULT);
	CHECK_EQ(fx_vring_addr(&f, 0, UADDR - 0x10000), -EFAULT);
	CHECK_EQ(fx_vring_addr(&f, 0, UADDR + MEM_SIZE - 0x8000), -EFAULT); /* used ring out */
	/* Rings over each other (a used ring over the available ring feeds itself). */
	CHECK_EQ(fx_ack(&f, VU_SET_VRING_ADDR,
			&(struct vu_vring_addr){
				.desc = UADDR, .avail = UADDR + 0x8000, .used = UADDR + 0x8000},
			40, NULL, 0),
		 -EINVAL);
	CHECK_EQ(fx_ack(&f, VU_SET_VRING_ADDR,
			&(struct vu_vring_addr){
				.desc = UADDR, .avail = UADDR + 0x100, .used = UADDR + 0x8000},
			40, NULL, 0),
		 -EINVAL);
	CHECK_EQ(fx_vring_addr(&f, 0, UADDR), 0);
	/* The back-end channel takes exactly one fd. */
	CHECK_EQ(fx_ack(&f, VU_SET_BACKEND_REQ_FD, NULL, 0, efd, 2), -EINVAL);
	CHECK_EQ(fx_ack(&f, VU_SET_BACKEND_REQ_FD, NULL, 0, efd, 1), 0);
	CHECK_EQ(fx_ack(&f, VU_SET_BACKEND_REQ_FD, NULL, 0, NULL, 0), -EINVAL);
	/* Still connected and answering. */
	CHECK_EQ(fx_get(&f, VU_GET_QUEUE_NUM), 2);
	for (int i = 0; i < 10; i++)
		close(efd[i]);
	close(pipefd[0]);
	close(pipefd[1]);
	fx_close(&f);
}

TEST(remove_region_with_an_fd)
{
	struct fx f;
	int maps;

	fx_open(&f, FB_VHOST_USER_OWN_LOOP);
	fx_handshake(&f);
	maps = count_maps();
	CHECK_EQ(fx_add_region(&f, 1ULL << 32, 4096, UADDR + MEM_SIZE, 8192, f.memfd), 0);
	CHECK_EQ(count_maps(), maps + 1);
	/* QEMU before 7.1 attached an fd to REM_MEM_REG: accepted and closed. */
	CHECK_EQ(fx_ack(&f, VU_REM_MEM_REG,
			&(struct vu_mem_reg){.region = {1ULL << 32, 4096, UADDR + MEM_SIZE, 0}}, 40,
			&f.memfd, 1),
		 0);
	CHECK_EQ(count_maps(), maps);
	fx_close(&f);
}

/* A region that holds a running ring goes away: the ring stops, nothing crashes. */
TEST(remove_region_under_a_ring)
{
	struct fx f;
	int kick;

	fx_open(&f, 0);
	fx_handshake(&f);
	kick = fx_ring(&f, 1, 0);
	CHECK_EQ(fx_ack(&f, VU_REM_MEM_REG, &(struct vu_mem_reg){.region = {0, MEM_SIZE, UADDR, 0}},
			40, NULL, 0),
		 0);
	CHECK_EQ(fb_vhost_user_queue_fd(f.dev, 1), -1);
	CHECK_EQ(write(kick, &(uint64_t){1}, 8), 8);
	/* Back again: the ring resumes. */
	CHECK_EQ(fx_add_region(&f, 0, MEM_SIZE, UADDR, 0, f.memfd), 0);
	CHECK(fb_vhost_user_queue_fd(f.dev, 1) >= 0);
	close(kick);
	fx_close(&f);
}

/* The memory table changes under running rings: a ring whose memory stays (ADD_MEM_REG of
 * another region) keeps going; one whose memory is mapped anew (SET_MEM_TABLE) starts again
 * where it was; neither loses its place. */
TEST(memory_changes_under_running_rings)
{
	struct vu_mem_table t = {.nregions = 1, .regions = {{0, MEM_SIZE, UADDR, 0}}};
	struct fx f;
	int kick, maps;

	fx_open(&f, 0);
	fx_handshake(&f);
	maps = count_maps();
	CHECK_EQ(pwrite(f.memfd, &(uint16_t){3}, 2, 0x20000 + 0x4000 + 2), 2);
	CHECK_EQ(pwrite(f.memfd, &(uint16_t){3}, 2, 0x20000 + 0x8000 + 2), 2);
	kick = fx_ring(&f, 1, 3);
	CHECK_EQ(fx_add_region(&f, 1ULL << 32, 4096, UADDR + MEM_SIZE, 8192, f.memfd), 0);
	CHECK(fb_vhost_user_queue_fd(f.dev, 1) >= 0);
	CHECK_EQ(fx_ack(&f, VU_SET_MEM_TABLE, &t, 8 + 32, &f.memfd, 1), 0);
	CHECK_EQ(count_maps(), maps);
	CHECK(fb_vhost_user_queue_fd(f.dev, 1) >= 0);
	CHECK_EQ(count_tasks(), f.tasks_before + 1);
	CHECK_EQ(fx_stop_ring(&f, 1), 3);
	close(kick);
	fx_close(&f);
}

TEST(reply_requests_that_cannot_be_answered_close)
{
	struct fx f;

	fx_open(&f, FB_VHOST_USER_OWN_LOOP);
	fx_handshake(&f);
	check_closed(&f, fx_msg(&f, VU_GET_VRING_BASE, VU_VERSION, &(struct vu_vring_state){2, 0},
				8, NULL, 0));
	fx_close(&f);

	fx_open(&f, FB_VHOST_USER_OWN_LOOP);
	check_closed(&f, fx_msg(&f, VU_GET_FEATURES, VU_VERSION, "abcd", 4, NULL, 0));
	fx_close(&f);
}

TEST(broken_streams_close)
{
	struct fx f;
	struct vu_hdr h;
	int efd = eventfd(0, EFD_CLOEXEC);

	/* A short header, then EOF. */
	fx_open(&f, FB_VHOST_USER_OWN_LOOP);
	fx_handshake(&f);
	h = (struct vu_hdr){VU_SET_OWNER, VU_VERSION, 0};
	CHECK_EQ(write(f.fe, &h, 6), 6);
	shutdown(f.fe, SHUT_WR);
	check_closed(&f, fb_vhost_user_dispatch(f.dev));
	fx_close(&f);

	/* A short payload with an fd, then EOF: the fd is closed too. */
	fx_open(&f, FB_VHOST_USER_OWN_LOOP);
	fx_handshake(&f);
	{
		char buf[16];

		h = (struct vu_hdr){VU_SET_VRING_KICK, VU_VERSION, 8};
		memcpy(buf, &h, 12);
		memset(buf + 12, 0, 4);
		CHECK_EQ(fe_send_raw(f.fe, buf, 16, &efd, 1), 0);
	}
	shutdown(f.fe, SHUT_WR);
	check_closed(&f, fb_vhost_user_dispatch(f.dev));
	fx_close(&f);

	/* The header alone, then EOF. */
	fx_open(&f, FB_VHOST_USER_OWN_LOOP);
	CHECK_EQ(write(f.fe, &h, 12), 12);
	shutdown(f.fe, SHUT_WR);
	check_closed(&f, fb_vhost_user_dispatch(f.dev));
	fx_close(&f);

	/* A bad version. */
	fx_open(&f, FB_VHOST_USER_OWN_LOOP);
	check_closed(&f, fx_msg(&f, VU_SET_OWNER, 2, NULL, 0, NULL, 0));
	fx_close(&f);

	/* A payload larger than any message. */
	fx_open(&f, FB_VHOST_USER_OWN_LOOP);
	h = (struct vu_hdr){VU_SET_OWNER, VU_VERSION, 1u << 30};
	CHECK_EQ(write(f.fe, &h, 12), 12);
	check_closed(&f, fb_vhost_user_dispatch(f.dev));
	fx_close(&f);

	/* Nothing waiting. */
	fx_open(&f, FB_VHOST_USER_OWN_LOOP);
	CHECK_EQ(fb_vhost_user_dispatch(f.dev), -EAGAIN);
	fx_close(&f);
	close(efd);
}

TEST(eof_releases_everything)
{
	struct fx f;
	int k0, k1, fds, maps;

	for (int mode = 0; mode < 2; mode++) {
		fx_open(&f, mode ? 0 : FB_VHOST_USER_OWN_LOOP);
		fds = count_fds();
		maps = count_maps();
		fx_handshake(&f);
		CHECK_EQ(fx_add_region(&f, 1ULL << 32, 4096, UADDR + MEM_SIZE, 8192, f.memfd), 0);
		k0 = fx_ring(&f, 0, 0);
		k1 = fx_ring(&f, 1, 0);
		if (mode)
			CHECK_EQ(count_tasks(), f.tasks_before + 2);
		close(f.fe);
		f.fe = -1;
		CHECK_EQ(fb_vhost_user_dispatch(f.dev), -ENOTCONN);
		CHECK_EQ(fb_vhost_user_fd(f.dev), -1);
		CHECK_EQ(fb_vhost_user_queue_fd(f.dev, 0), -1);
		CHECK_EQ(count_tasks(), f.tasks_before);
		close(k0);
		close(k1);
		/* Less the socket the device had, and the front end's end. */
		CHECK_EQ(count_fds(), fds - 2);
		CHECK_EQ(count_maps(), maps);
		CHECK_EQ(fb_vhost_user_dispatch(f.dev), -ENOTCONN);
		fx_close(&f);
	}
}

TEST(default_loop_threads_start_and_stop)
{
	struct fx f;
	int kick;
	char path[300], name[32];
	FILE *fp;

	fx_open(&f, 0);
	fx_handshake(&f);
	kick = fx_ring(&f, 1, 0);
	CHECK_EQ(count_tasks(), f.tasks_before + 1);
	{
		DIR *d = opendir("/proc/self/task");
		struct dirent *e;
		int found = 0;

		while ((e = readdir(d))) {
			snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
			fp = fopen(path, "r");
			if (!fp)
				continue;
			if (fgets(name, sizeof(name), fp) && !strncmp(name, "fb-vu-q1", 8))
				found = 1;
			fclose(fp);
		}
		closedir(d);
		CHECK(found);
	}
	/* A kick on an empty ring wakes the thread and nothing breaks. */
	CHECK_EQ(write(kick, &(uint64_t){1}, 8), 8);
	CHECK_EQ(fx_stop_ring(&f, 1), 0);
	CHECK_EQ(count_tasks(), f.tasks_before);
	close(kick);
	fx_close(&f);
}

struct loop_arg {
	struct fb_vhost_user *dev;
	int rounds;
	int results[4];
};

static void *loop_main(void *p)
{
	struct loop_arg *a = p;

	for (int i = 0; i < a->rounds; i++) {
		int r = fb_vhost_user_accept(a->dev);

		if (r == 0)
			r = fb_vhost_user_run(a->dev);
		a->results[i] = r;
		if (r < 0)
			break;
	}
	return NULL;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	return fd;
}

TEST(listen_run_reconnect_stop)
{
	struct fb_server *srv;
	struct fb_vhost_user *dev;
	struct loop_arg a = {.rounds = 3};
	char path[64];
	pthread_t t;
	int fds = count_fds(), fe, stale;
	uint64_t v;

	fb_log_set(quiet, NULL);
	snprintf(path, sizeof(path), "/tmp/fb-vu-test-%d.sock", getpid());
	/* A stale socket file is replaced. */
	stale = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		CHECK_OK(bind(stale, (struct sockaddr *)&sa, sizeof(sa)));
	}
	close(stale);
	CHECK_EQ(fb_server_new(&no_ops, sizeof(no_ops), NULL, NULL, &srv), 0);
	CHECK_EQ(fb_vhost_user_new(srv, NULL, &dev), 0);
	CHECK_EQ(fb_vhost_user_listen(dev, path), 0);
	a.dev = dev;
	CHECK_EQ(pthread_create(&t, NULL, loop_main, &a), 0);
	for (int i = 0; i < 2; i++) {
		fe = connect_to(path);
		CHECK(fe >= 0);
		CHECK_EQ(fe_send(fe, VU_GET_QUEUE_NUM, VU_VERSION, NULL, 0, NULL, 0), 0);
		CHECK_EQ(fe_reply(fe, VU_GET_QUEUE_NUM, &v), 0);
		CHECK_EQ(v, 2);
		close(fe); /* QEMU killed */
	}
	/* The third round waits in accept(): stop ends it. */
	usleep(200000);
	fb_vhost_user_stop(dev);
	pthread_join(t, NULL);
	CHECK_EQ(a.results[0], 0);
	CHECK_EQ(a.results[1], 0);
	CHECK_EQ(a.results[2], -EINTR);
	fb_vhost_user_free(dev);
	fb_server_free(srv);
	unlink(path);
	CHECK_EQ(count_fds(), fds);
}

TEST(set_fd_listening_or_connected)
{
	struct fb_server *srv;
	struct fb_vhost_user *dev;
	int sv[2], l;

	CHECK_EQ(fb_server_new(&no_ops, sizeof(no_ops), NULL, NULL, &srv), 0);
	CHECK_EQ(fb_vhost_user_new(srv, NULL, &dev), 0);
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	CHECK_EQ(fb_vhost_user_set_fd(dev, sv[1]), 0);
	CHECK_EQ(fb_vhost_user_fd(dev), sv[1]);
	CHECK_EQ(fb_vhost_user_accept(dev), -EINVAL);
	close(sv[0]);
	CHECK_EQ(fb_vhost_user_run(dev), 0); /* EOF at once */
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK_OK(bind(l, (struct sockaddr *)&(struct sockaddr_un){.sun_family = AF_UNIX},
		      sizeof(sa_family_t)));
	CHECK_OK(listen(l, 1));
	CHECK_EQ(fb_vhost_user_set_fd(dev, l), 0);
	CHECK_EQ(fb_vhost_user_fd(dev), -1);
	CHECK_EQ(fb_vhost_user_set_fd(dev, l), -EBUSY);
	fb_vhost_user_stop(dev);
	CHECK_EQ(fb_vhost_user_accept(dev), -EINTR);
	fb_vhost_user_free(dev);
	fb_server_free(srv);
}

/* The DAX requests on the back-end channel: layout, fd, flags and the ack. */
struct dax_arg {
	struct fb_vhost_user *dev;
	int fd;
	int r_map, r_unmap;
};

static void *dax_main(void *p)
{
	struct dax_arg *a = p;

	a->r_map =
		a->dev->tops.dax_map(a->dev, a->fd, 4096, 2 << 20, 8192, FB_SETUPMAPPING_FLAG_READ);
	a->r_unmap = a->dev->tops.dax_unmap(a->dev, 2 << 20, 8192);
	return NULL;
}

TEST(dax_over_the_backend_channel)
{
	struct fx f;
	struct dax_arg a;
	int sv[2], fd = -1;
	uint64_t proto;
	pthread_t t;
	struct {
		struct vu_hdr h;
		struct vu_fs_backend_msg m;
	} __attribute__((packed)) req;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {&req, sizeof(req)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	struct {
		struct vu_hdr h;
		uint64_t v;
	} __attribute__((packed)) ack;

	fx_open(&f, FB_VHOST_USER_OWN_LOOP);
	CHECK(!f.dev->tops.dax_map);
	proto = fx_get(&f, VU_GET_PROTOCOL_FEATURES);
	CHECK(proto & (1ULL << VU_PROTOCOL_F_BACKEND_REQ));
	CHECK(proto & (1ULL << VU_PROTOCOL_F_BACKEND_SEND_FD));
	CHECK_EQ(fx_msg(&f, VU_SET_PROTOCOL_FEATURES, VU_VERSION, &proto, 8, NULL, 0), 0);
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	CHECK_EQ(fx_ack(&f, VU_SET_BACKEND_REQ_FD, NULL, 0, &sv[1], 1), 0);
	close(sv[1]);
	CHECK(f.dev->tops.dax_map && f.dev->tops.dax_unmap);
	CHECK_EQ(f.dev->tops.caps & (FB_MAP_ALIGNMENT | FB_HAS_INODE_DAX),
		 FB_MAP_ALIGNMENT | FB_HAS_INODE_DAX);

	a = (struct dax_arg){.dev = f.dev, .fd = f.memfd};
	CHECK_EQ(pthread_create(&t, NULL, dax_main, &a), 0);
	CHECK_EQ(recvmsg(sv[0], &mh, MSG_WAITALL | MSG_CMSG_CLOEXEC), (ssize_t)sizeof(req));
	CHECK_EQ(req.h.request, VU_BACKEND_FS_MAP);
	CHECK_EQ(req.h.flags, VU_VERSION | VU_FLAG_NEED_REPLY);
	CHECK_EQ(req.h.size, 256);
	CHECK_EQ(req.m.fd_offset[0], 4096);
	CHECK_EQ(req.m.cache_offset[0], 2 << 20);
	CHECK_EQ(req.m.len[0], 8192);
	CHECK_EQ(req.m.flags[0], VU_FS_MAP_R);
	CHECK_EQ(req.m.len[1], 0);
	CHECK(CMSG_FIRSTHDR(&mh) && CMSG_FIRSTHDR(&mh)->cmsg_type == SCM_RIGHTS);
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
	CHECK(fd >= 0);
	close(fd);
	ack = (typeof(ack)){{VU_BACKEND_FS_MAP, VU_VERSION | VU_FLAG_REPLY, 8}, 0};
	CHECK_EQ(write(sv[0], &ack, sizeof(ack)), (ssize_t)sizeof(ack));

	CHECK_EQ(recv(sv[0], &req, sizeof(req), MSG_WAITALL), (ssize_t)sizeof(req));
	CHECK_EQ(req.h.request, VU_BACKEND_FS_UNMAP);
	CHECK_EQ(req.m.cache_offset[0], 2 << 20);
	CHECK_EQ(req.m.len[0], 8192);
	ack = (typeof(ack)){{VU_BACKEND_FS_UNMAP, VU_VERSION | VU_FLAG_REPLY, 8},
			    (uint64_t)-EINVAL};
	CHECK_EQ(write(sv[0], &ack, sizeof(ack)), (ssize_t)sizeof(ack));
	pthread_join(t, NULL);
	CHECK_EQ(a.r_map, 0);
	CHECK_EQ(a.r_unmap, -EINVAL);

	/* The front end goes away: the channel with it. */
	close(sv[0]);
	CHECK_EQ(f.dev->tops.dax_unmap(f.dev, 0, 4096), -ENOTCONN);
	fx_close(&f);
}

/* An ack that does not answer the request (another request number, an fd attached) puts the
 * channel out of step: it is closed, the fd too, and later requests fail at once. */
static void *dax_map_main(void *p)
{
	struct dax_arg *a = p;

	a->r_map = a->dev->tops.dax_map(a->dev, a->fd, 0, 0, 4096, FB_SETUPMAPPING_FLAG_WRITE);
	return NULL;
}

TEST(dax_bad_ack_closes_the_channel)
{
	struct fx f;
	struct dax_arg a;
	struct {
		struct vu_hdr h;
		struct vu_fs_backend_msg m;
	} __attribute__((packed)) req;
	struct {
		struct vu_hdr h;
		uint64_t v;
	} __attribute__((packed)) ack = {{VU_BACKEND_FS_UNMAP, VU_VERSION | VU_FLAG_REPLY, 8}, 0};
	uint64_t proto;
	int sv[2], efd;
	pthread_t t;

	fx_open(&f, FB_VHOST_USER_OWN_LOOP);
	proto = fx_get(&f, VU_GET_PROTOCOL_FEATURES);
	CHECK_EQ(fx_msg(&f, VU_SET_PROTOCOL_FEATURES, VU_VERSION, &proto, 8, NULL, 0), 0);
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	CHECK_EQ(fx_ack(&f, VU_SET_BACKEND_REQ_FD, NULL, 0, &sv[1], 1), 0);
	close(sv[1]);
	a = (struct dax_arg){.dev = f.dev, .fd = f.memfd};
	CHECK_EQ(pthread_create(&t, NULL, dax_map_main, &a), 0);
	CHECK_EQ(recv(sv[0], &req, sizeof(req), MSG_WAITALL), (ssize_t)sizeof(req));
	CHECK_EQ(req.m.flags[0], VU_FS_MAP_W);
	efd = eventfd(0, EFD_CLOEXEC);
	CHECK_EQ(fe_send_raw(sv[0], &ack, sizeof(ack), &efd, 1), 0);
	close(efd);
	pthread_join(t, NULL);
	CHECK_EQ(a.r_map, -ENOTCONN);
	CHECK_EQ(f.dev->tops.dax_map(f.dev, f.memfd, 0, 0, 4096, 0), -ENOTCONN);
	close(sv[0]);
	fx_close(&f);
}

TEST(no_dax_offers_no_backend_channel)
{
	struct fx f;
	uint64_t proto;
	int sv[2];

	fx_open(&f, FB_VHOST_USER_OWN_LOOP | FB_VHOST_USER_NO_DAX);
	proto = fx_get(&f, VU_GET_PROTOCOL_FEATURES);
	CHECK_EQ(proto & (1ULL << VU_PROTOCOL_F_BACKEND_REQ), 0);
	CHECK_EQ(fx_ack_u64(&f, VU_SET_PROTOCOL_FEATURES,
			    proto | (1ULL << VU_PROTOCOL_F_BACKEND_REQ)),
		 -ETIMEDOUT);
	CHECK_EQ(fx_msg(&f, VU_SET_PROTOCOL_FEATURES, VU_VERSION, &proto, 8, NULL, 0), 0);
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	CHECK_EQ(fx_ack(&f, VU_SET_BACKEND_REQ_FD, NULL, 0, &sv[1], 1), -EINVAL);
	CHECK(!f.dev->tops.dax_map);
	close(sv[0]);
	close(sv[1]);
	fx_close(&f);
}

TEST(config_checks)
{
	struct fb_server *srv;
	struct fb_vhost_user *dev = NULL;
	struct fb_vhost_user_config cfg = {.size = sizeof(cfg)};

	CHECK_EQ(fb_server_new(&no_ops, sizeof(no_ops), NULL, NULL, &srv), 0);
	cfg.request_queues = FB_VHOST_USER_REQUEST_QUEUES_MAX + 1;
	CHECK_EQ(fb_vhost_user_new(srv, &cfg, &dev), -EINVAL);
	cfg.request_queues = 4;
	cfg.queue_size_max = 1000;
	CHECK_EQ(fb_vhost_user_new(srv, &cfg, &dev), -EINVAL);
	cfg.queue_size_max = 0;
	CHECK_EQ(fb_vhost_user_new(srv, &cfg, &dev), 0);
	CHECK_EQ(fb_vhost_user_queue_count(dev), 5);
	CHECK_EQ(fb_vhost_user_fd(dev), -1);
	CHECK_EQ(fb_vhost_user_dispatch(dev), -ENOTCONN);
	CHECK_EQ(fb_vhost_user_queue_fd(dev, 9), -1);
	CHECK_EQ(fb_vhost_user_queue_process(dev, 9), -EINVAL);
	fb_vhost_user_free(dev);
	fb_vhost_user_free(NULL);
	fb_server_free(srv);
}

TEST_MAIN()
