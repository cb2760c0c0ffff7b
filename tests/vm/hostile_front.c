/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * A hostile front end for the vm suite's "hostile" scenario: connects to a vhost-user-fs
 * daemon's socket (the front end of tests/unit/vhost_front.h: memfd guest memory, QEMU 7.2's
 * handshake, Linux-shaped requests) and feeds it what a broken or malicious VMM or guest would.
 *
 *   hostile_front SOCKET messages [PID...]
 *	Malformed vhost-user messages that the daemon must refuse with an error in their
 *	REPLY_ACK and survive (wrong sizes, unknown requests, stray fds, bad ring indexes and
 *	sizes, overlapping or unmappable memory regions, ring addresses outside memory, pipes as
 *	notification fds), then malformed descriptor chains on request queue 1 that must come
 *	back with used length 0 (loops, addresses outside guest memory, readable after writable,
 *	bad indirect tables); a good request after each group and each chain must be answered.
 *	With PIDs (the daemon's processes): their open fds and guest-memory mappings, from
 *	/proc, must be no more after all that than before (counted while connected).
 *   hostile_front SOCKET short-header|short-payload|bad-version|oversized
 *	After the handshake, one message that leaves the stream out of step; the daemon must
 *	close the connection (for the first two we close our end first, as a VMM that died
 *	mid-message). The caller checks how the daemon exited.
 *
 * Prints "ok NAME" or "FAIL NAME: detail" per check, then "N passed, N failed"; exits 0 when
 * all passed, 1 otherwise, 2 when it could not connect.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fbreq.h"
#include "vhost_front.h"

static struct vf *vf;
static int passed, failed;

static void report(int ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		printf("ok %s\n", name);
	} else {
		failed++;
		printf("FAIL %s: ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

/* ---- messages ------------------------------------------------------------------------------ */

/* Send a message asking for REPLY_ACK; return the status it carries (0 or a negative errno),
 * or the transport error as a value no ack carries (below -4095). */
static int64_t ack(uint32_t req, const void *payload, uint32_t size, const int *fds, int nfds)
{
	uint64_t status;
	int r;

	r = vf_send_msg(vf, req, VF_MSG_NEED_REPLY, payload, size, fds, nfds);
	if (r == 0)
		r = vf_recv_reply(vf, req, &status, sizeof(status));
	if (r < 0)
		return r - 100000;
	return (int64_t)status;
}

static int64_t ack_state(uint32_t req, uint32_t index, uint32_t num)
{
	struct vf_vring_state st = {index, num};

	return ack(req, &st, sizeof(st), NULL, 0);
}

static int64_t ack_u64_fd(uint32_t req, uint64_t v, int fd)
{
	return ack(req, &v, sizeof(v), &fd, fd >= 0 ? 1 : 0);
}

static int64_t ack_region(uint64_t gpa, uint64_t size, uint64_t uaddr, uint64_t off, int fd)
{
	struct {
		uint64_t padding;
		struct vf_mem_region m;
	} reg = {0, {gpa, size, uaddr, off}};

	return ack(VF_ADD_MEM_REG, &reg, sizeof(reg), &fd, 1);
}

/* What an ack() result means, for a failure line. */
static const char *ack_name(int64_t e, char *buf, size_t len)
{
	if (e < -4095)
		snprintf(buf, len, "no ack (%s)", strerror((int)(-e - 100000)));
	else if (e < 0)
		snprintf(buf, len, "%lld (%s)", (long long)e, strerror((int)-e));
	else
		snprintf(buf, len, "%lld", (long long)e);
	return buf;
}

/* One malformed message: the ack must carry @want. */
static void expect_ack(const char *name, int64_t want, int64_t got)
{
	char a[80], b[80];

	report(got == want, name, "ack %s, want %s", ack_name(got, a, sizeof(a)),
	       ack_name(want, b, sizeof(b)));
}

/* ---- requests -------------------------------------------------------------------------------- */

/* GETATTR of the root on request queue 1: the daemon still serves. */
static int still_serves(void)
{
	struct fbreq rq = {0};
	struct fbrep p;
	struct fb_getattr_in ga = {0};
	int ok;

	fbrep_init(&p, 4096);
	fbreq_start(&rq, FB_GETATTR, ++vf->unique, FB_ROOT_ID);
	fbreq_put(&rq, &ga, sizeof(ga));
	vf_fuse(vf, 1, &rq, &p);
	ok = p.ret == (int64_t)(sizeof(struct fb_out_header) + sizeof(struct fb_attr_out)) &&
	     p.oh.error == 0 && p.oh.unique == vf->unique;
	fbreq_free(&rq);
	fbrep_free(&p);
	return ok;
}

static void check_serves(const char *after)
{
	char name[96];

	snprintf(name, sizeof(name), "serves_after_%s", after);
	report(still_serves(), name, "GETATTR of the root got no good reply");
}

/*
 * Publish raw chain @d[0..n) on request queue 1 (d[i].next names a position in d[], or is
 * left as is when beyond it) and expect it back with used length 0; then a good request.
 */
static void bad_chain(const char *name, const struct vf_desc *d, unsigned int n)
{
	struct vf_queue *q = &vf->q[1];
	uint16_t idx[8];
	int64_t len;

	if (n > 8 || vf_desc_alloc(q, n, idx) < 0) {
		report(0, name, "no descriptors");
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		q->desc[idx[i]] = d[i];
		if (d[i].flags & VF_DESC_F_NEXT)
			q->desc[idx[i]].next = d[i].next < n ? idx[d[i].next] : d[i].next;
	}
	if (vf_publish(vf, 1, idx[0], idx, n) < 0) {
		report(0, name, "cannot publish");
		return;
	}
	len = vf_wait_head(vf, 1, idx[0], VF_TIMEOUT_MS);
	report(len == 0 && still_serves(), name, "used length %lld (want 0)%s", (long long)len,
	       len == 0 ? ", then no reply to a good request" : "");
}

/* A chain whose head is an indirect table at slot 1's table area holding @t[0..n). */
static void bad_indirect(const char *name, const struct vf_desc *t, unsigned int n, uint32_t tlen)
{
	uint64_t tg = vf_ind_gpa(&vf->q[1], 1);
	struct vf_desc *tp = vf_ptr(vf, tg, 16 * (size_t)(n ? n : 1));
	struct vf_desc d[1] = {{tg, tlen, VF_DESC_F_INDIRECT, 0}};

	if (tp && n)
		memcpy(tp, t, 16 * (size_t)n);
	bad_chain(name, d, 1);
}

/* ---- the daemon seen from /proc ----------------------------------------------------------------
 */

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int count_lines(const char *path, const char *needle)
{
	FILE *f = fopen(path, "re");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

/* Open fds and mappings of our guest memory, summed over @pids. */
static void daemon_usage(char **pids, int npids, int *fds, int *maps)
{
	char path[64];

	*fds = *maps = 0;
	for (int i = 0; i < npids; i++) {
		snprintf(path, sizeof(path), "/proc/%s/fd", pids[i]);
		*fds += count_dir(path);
		snprintf(path, sizeof(path), "/proc/%s/maps", pids[i]);
		*maps += count_lines(path, "vf-region");
	}
}

/* ---- the scenarios -----------------------------------------------------------------------------
 */

static void bad_messages(void)
{
	uint64_t nq = vf->dev_queue_num;
	uint64_t r0 = (uint64_t)(uintptr_t)vf->reg[0].map;
	int efd[8], pfd[2];

	for (int i = 0; i < 8; i++)
		efd[i] = eventfd(0, EFD_CLOEXEC);
	if (pipe2(pfd, O_CLOEXEC) < 0)
		pfd[0] = pfd[1] = -1;

	/* Wrong sizes. */
	expect_ack("size_set_features_4", -EINVAL, ack(VF_SET_FEATURES, "abcd", 4, NULL, 0));
	expect_ack("size_set_owner_8", -EINVAL, ack(VF_SET_OWNER, "abcdefgh", 8, NULL, 0));
	expect_ack("size_vring_addr_8", -EINVAL, ack(VF_SET_VRING_ADDR, "abcdefgh", 8, NULL, 0));
	expect_ack("size_mem_table_count", -EINVAL,
		   ack(VF_SET_MEM_TABLE, &(uint64_t[5]){3}, 40, efd, 1));
	/* Features never offered. */
	expect_ack("features_unoffered", -EINVAL,
		   ack(VF_SET_FEATURES, &(uint64_t){1ull << 40}, 8, NULL, 0));
	expect_ack("protocol_features_unoffered", -EINVAL,
		   ack(VF_SET_PROTOCOL_FEATURES, &(uint64_t){1ull << 9}, 8, NULL, 0));
	/* Unknown requests, one with a stray fd. */
	expect_ack("unknown_99", -EOPNOTSUPP, ack(99, NULL, 0, NULL, 0));
	expect_ack("unknown_huge_with_fd", -EOPNOTSUPP, ack(4000000000u, "xy", 2, efd, 1));
	check_serves("sizes_and_unknown");

	/* Stray fds: where none belong, too many, all eight on a one-region table. */
	expect_ack("fd_on_set_owner", -EINVAL, ack(VF_SET_OWNER, NULL, 0, efd, 1));
	expect_ack("fds_on_vring_num", -EINVAL,
		   ack(VF_SET_VRING_NUM, &(struct vf_vring_state){2, 64}, 8, efd, 2));
	expect_ack("fds_on_vring_call", -EINVAL, ack(VF_SET_VRING_CALL, &(uint64_t){2}, 8, efd, 2));
	expect_ack("fd_with_nofd_flag", -EINVAL,
		   ack_u64_fd(VF_SET_VRING_CALL, 2 | VF_VRING_INVALID_FD, efd[0]));
	expect_ack("mem_table_8_fds_1_region", -EINVAL,
		   ack(VF_SET_MEM_TABLE, &(struct {
			       uint32_t n, pad;
			       struct vf_mem_region m;
		       }){1, 0, {1ull << 40, 4096, 1ull << 46, 0}},
		       40, efd, 8));
	expect_ack("add_mem_reg_no_fd", -EINVAL,
		   ack(VF_ADD_MEM_REG, &(uint64_t[5]){0}, 40, NULL, 0));
	check_serves("stray_fds");

	/* Ring indexes beyond the queues offered, ring sizes, a kick fd of none. */
	expect_ack("index_vring_num", -ERANGE, ack_state(VF_SET_VRING_NUM, (uint32_t)nq, 64));
	expect_ack("index_vring_base", -ERANGE, ack_state(VF_SET_VRING_BASE, 255, 0));
	expect_ack("index_vring_enable", -ERANGE, ack_state(VF_SET_VRING_ENABLE, 200, 1));
	expect_ack("index_vring_kick", -ERANGE, ack_u64_fd(VF_SET_VRING_KICK, nq, efd[0]));
	expect_ack("index_vring_addr", -ERANGE,
		   ack(VF_SET_VRING_ADDR, &(struct vf_vring_addr){.index = 300}, 40, NULL, 0));
	expect_ack("vring_num_not_power_of_2", -EINVAL, ack_state(VF_SET_VRING_NUM, 2, 100));
	expect_ack("vring_num_0", -EINVAL, ack_state(VF_SET_VRING_NUM, 2, 0));
	expect_ack("vring_num_too_big", -EINVAL, ack_state(VF_SET_VRING_NUM, 2, 32768));
	expect_ack("vring_base_too_big", -EINVAL, ack_state(VF_SET_VRING_BASE, 2, 65536));
	expect_ack("vring_enable_2", -EINVAL, ack_state(VF_SET_VRING_ENABLE, 2, 2));
	expect_ack("kick_without_fd", -EOPNOTSUPP,
		   ack_u64_fd(VF_SET_VRING_KICK, 2 | VF_VRING_INVALID_FD, -1));
	/* Notification fds that would raise SIGPIPE once their reader is gone. */
	expect_ack("call_fd_a_pipe", -EINVAL, ack_u64_fd(VF_SET_VRING_CALL, 2, pfd[1]));
	expect_ack("kick_fd_a_socket", -EINVAL, ack_u64_fd(VF_SET_VRING_KICK, 2, vf->sock));
	check_serves("ring_messages");

	/* Memory regions: over ours (guest-physical, then front-end address), unmappable,
	 * overflowing, empty, past the end of the file, and one never added removed. */
	expect_ack("region_overlaps_gpa", -EEXIST,
		   ack_region(4096, 4096, 1ull << 46, 0, vf->reg[0].fd));
	expect_ack("region_overlaps_uaddr", -EEXIST,
		   ack_region(1ull << 40, 4096, r0 + 8192, 0, vf->reg[0].fd));
	expect_ack("region_of_an_eventfd", -ENODEV,
		   ack_region(1ull << 40, 4096, 1ull << 46, 0, efd[0]));
	expect_ack("region_of_a_pipe", -EACCES,
		   ack_region(1ull << 40, 4096, 1ull << 46, 0, pfd[0]));
	expect_ack("region_offset_overflows", -EINVAL,
		   ack_region(1ull << 40, 4096, 1ull << 46, UINT64_MAX - 100, vf->reg[0].fd));
	expect_ack("region_gpa_overflows", -EINVAL,
		   ack_region(UINT64_MAX - 100, 4096, 1ull << 46, 0, vf->reg[0].fd));
	expect_ack("region_size_0", -EINVAL,
		   ack_region(1ull << 40, 0, 1ull << 46, 0, vf->reg[0].fd));
	expect_ack("region_past_the_file", -EINVAL,
		   ack_region(1ull << 40, VF_R0_SIZE, 1ull << 46, 4096, vf->reg[0].fd));
	expect_ack("remove_unknown_region", -ENOENT,
		   ack(VF_REM_MEM_REG, &(struct {
			       uint64_t pad;
			       struct vf_mem_region m;
		       }){0, {1ull << 40, 4096, 1ull << 46, 0}},
		       40, NULL, 0));
	/* Ring addresses outside guest memory, and rings over each other. */
	expect_ack("vring_addr_outside_memory", -EFAULT,
		   ack(VF_SET_VRING_ADDR,
		       &(struct vf_vring_addr){
			       .index = 2, .desc = 1ull << 46, .avail = r0, .used = r0 + 0x10000},
		       40, NULL, 0));
	expect_ack("vring_addr_used_runs_out", -EFAULT,
		   ack(VF_SET_VRING_ADDR,
		       &(struct vf_vring_addr){.index = 2,
					       .desc = r0,
					       .avail = r0 + 0x10000,
					       .used = r0 + VF_R0_SIZE - 4},
		       40, NULL, 0));
	expect_ack("vring_used_over_avail", -EINVAL,
		   ack(VF_SET_VRING_ADDR,
		       &(struct vf_vring_addr){.index = 2,
					       .desc = r0 + 0x100000,
					       .avail = r0 + 0x108000,
					       .used = r0 + 0x108000},
		       40, NULL, 0));
	check_serves("memory_messages");

	/* Replies still come, and are right. */
	{
		uint64_t v = 0;
		int r = vf_get(vf, VF_GET_QUEUE_NUM, NULL, 0, &v, 8);

		report(r == 0 && v == nq, "get_queue_num_after", "r %d, %llu queues (want %llu)", r,
		       (unsigned long long)v, (unsigned long long)nq);
	}
	for (int i = 0; i < 8; i++)
		close(efd[i]);
	close(pfd[0]);
	close(pfd[1]);
}

static void bad_chains(void)
{
	struct fbreq rq = {0};
	struct fb_getattr_in ga = {0};
	uint64_t in = vf->q[1].slot_gpa[1], out = in + VF_SLOT_IO;
	uint32_t inlen;

	/* A GETATTR written in slot 1: good bytes in bad chains, so only the chain is wrong. */
	fbreq_start(&rq, FB_GETATTR, 999999, FB_ROOT_ID);
	fbreq_put(&rq, &ga, sizeof(ga));
	fbreq_finish(&rq);
	inlen = (uint32_t)rq.len;
	vf_slot_io(vf, 1, 1, 0, 0, rq.buf, rq.len, 1);
	fbreq_free(&rq);

	bad_chain("chain_loop",
		  (struct vf_desc[]){{in, inlen, VF_DESC_F_NEXT, 1},
				     {out, 16, VF_DESC_F_WRITE | VF_DESC_F_NEXT, 2},
				     {out + 16, 4096, VF_DESC_F_WRITE | VF_DESC_F_NEXT, 1}},
		  3);
	bad_chain("chain_loop_onto_itself", (struct vf_desc[]){{in, inlen, VF_DESC_F_NEXT, 0}}, 1);
	bad_chain("chain_next_beyond_queue", (struct vf_desc[]){{in, inlen, VF_DESC_F_NEXT, 5000}},
		  1);
	bad_chain("chain_outside_memory",
		  (struct vf_desc[]){{in, inlen, VF_DESC_F_NEXT, 1},
				     {VF_R1_GPA + VF_R1_SIZE + 4096, 4096, VF_DESC_F_WRITE, 0}},
		  2);
	bad_chain("chain_runs_off_memory",
		  (struct vf_desc[]){{in, inlen, VF_DESC_F_NEXT, 1},
				     {VF_R2_GPA + VF_R2_SIZE - 100, 4096, VF_DESC_F_WRITE, 0}},
		  2);
	bad_chain("chain_address_wraps",
		  (struct vf_desc[]){{UINT64_MAX - 8, 64, VF_DESC_F_NEXT, 1},
				     {out, 4096, VF_DESC_F_WRITE, 0}},
		  2);
	bad_chain("chain_readable_after_writable",
		  (struct vf_desc[]){{in, inlen, VF_DESC_F_NEXT, 1},
				     {out, 16, VF_DESC_F_WRITE | VF_DESC_F_NEXT, 2},
				     {in, 8, 0, 0}},
		  3);

	bad_indirect(
		"indirect_len_not_16n",
		(struct vf_desc[]){{in, inlen, VF_DESC_F_NEXT, 1}, {out, 4096, VF_DESC_F_WRITE, 0}},
		2, 24);
	bad_indirect("indirect_in_indirect",
		     (struct vf_desc[]){{in, inlen, VF_DESC_F_NEXT, 1},
					{out, 32, VF_DESC_F_INDIRECT, 0}},
		     2, 32);
	bad_indirect("indirect_loop",
		     (struct vf_desc[]){{in, inlen, VF_DESC_F_NEXT, 1},
					{out, 4096, VF_DESC_F_WRITE | VF_DESC_F_NEXT, 1}},
		     2, 32);
	bad_indirect(
		"indirect_next_beyond_table",
		(struct vf_desc[]){{in, inlen, VF_DESC_F_NEXT, 7}, {out, 4096, VF_DESC_F_WRITE, 0}},
		2, 32);
	bad_indirect("indirect_empty", NULL, 0, 0);
	bad_indirect("indirect_readable_after_writable",
		     (struct vf_desc[]){{in, inlen, VF_DESC_F_NEXT, 1},
					{out, 4096, VF_DESC_F_WRITE | VF_DESC_F_NEXT, 2},
					{in, 16, 0, 0}},
		     3, 48);
	bad_chain("indirect_table_outside_memory",
		  (struct vf_desc[]){{VF_R1_GPA + VF_R1_SIZE + 8192, 32, VF_DESC_F_INDIRECT, 0}},
		  1);
	bad_chain("indirect_with_next",
		  (struct vf_desc[]){
			  {vf_ind_gpa(&vf->q[1], 1), 32, VF_DESC_F_INDIRECT | VF_DESC_F_NEXT, 1},
			  {out, 4096, VF_DESC_F_WRITE, 0}},
		  2);
}

/* Messages after which the stream cannot be trusted: the daemon must close the connection. */
static int breaking(const char *mode)
{
	struct vf_msg_hdr h = {VF_SET_OWNER, VF_MSG_VERSION, 0};
	uint8_t buf[16];
	int efd = eventfd(0, EFD_CLOEXEC);
	ssize_t n;

	if (strcmp(mode, "short-header") == 0) {
		/* half a header, and the VMM is gone */
		report(write(vf->sock, &h, 6) == 6, "sent_short_header", "write failed");
		shutdown(vf->sock, SHUT_WR);
	} else if (strcmp(mode, "short-payload") == 0) {
		/* SET_VRING_KICK with half its payload and an fd, and the VMM is gone */
		h = (struct vf_msg_hdr){VF_SET_VRING_KICK, VF_MSG_VERSION, 8};
		memcpy(buf, &h, 12);
		memset(buf + 12, 0, 4);
		{
			struct iovec iov = {buf, 16};
			union {
				char c[CMSG_SPACE(sizeof(int))];
				struct cmsghdr align;
			} u = {{0}};
			struct msghdr m = {.msg_iov = &iov,
					   .msg_iovlen = 1,
					   .msg_control = u.c,
					   .msg_controllen = sizeof(u.c)};
			struct cmsghdr *c = CMSG_FIRSTHDR(&m);

			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &efd, sizeof(int));
			report(sendmsg(vf->sock, &m, MSG_NOSIGNAL) == 16, "sent_short_payload",
			       "sendmsg: %s", strerror(errno));
		}
		shutdown(vf->sock, SHUT_WR);
	} else if (strcmp(mode, "bad-version") == 0) {
		h.flags = 2;
		report(write(vf->sock, &h, 12) == 12, "sent_bad_version", "write failed");
	} else if (strcmp(mode, "oversized") == 0) {
		h.size = 1u << 30;
		report(write(vf->sock, &h, 12) == 12, "sent_oversized_payload", "write failed");
	} else {
		fprintf(stderr, "hostile_front: unknown mode %s\n", mode);
		close(efd);
		return -1;
	}
	close(efd);
	/* The daemon closes its end: EOF here, nothing else. */
	n = vf_io_wait(vf->sock, POLLIN) == 0 ? recv(vf->sock, buf, sizeof(buf), 0) : -2;
	report(n == 0, "daemon_closed_the_connection", "recv %zd", n);
	return 0;
}

int main(int argc, char **argv)
{
	struct vf_config cfg = VF_CONFIG_DEFAULT;
	int r, fds0 = 0, maps0 = 0, fds1, maps1;

	if (argc < 3) {
		fprintf(stderr,
			"usage: hostile_front SOCKET messages [PID...]\n"
			"       hostile_front SOCKET short-header|short-payload|bad-version|"
			"oversized\n");
		return 2;
	}
	vf_log_errors = 0; /* what we provoke is reported as checks, not as front-end noise */
	r = vf_connect(argv[1], &cfg, &vf);
	if (r < 0) {
		printf("FAIL connect: %s: %s\n0 passed, 1 failed\n", argv[1], strerror(-r));
		return 2;
	}
	{
		struct fbrep p;

		fbrep_init(&p, 4096);
		r = vf_fuse_init(vf, &p);
		fbrep_free(&p);
		report(r == 0, "handshake_and_init", "INIT: %d", r);
	}
	if (strcmp(argv[2], "messages") != 0) {
		if (breaking(argv[2]) < 0)
			return 2;
	} else {
		report(still_serves(), "serves", "GETATTR of the root got no good reply");
		daemon_usage(argv + 3, argc - 3, &fds0, &maps0);
		bad_messages();
		bad_chains();
		if (argc > 3) {
			daemon_usage(argv + 3, argc - 3, &fds1, &maps1);
			report(fds0 > 0 && fds1 <= fds0, "daemon_fds_not_grown",
			       "open fds %d before, %d after", fds0, fds1);
			report(maps1 == maps0, "daemon_maps_unchanged",
			       "guest-memory mappings %d before, %d after", maps0, maps1);
			printf("# daemon fds %d before, %d after; guest-memory mappings %d, %d\n",
			       fds0, fds1, maps0, maps1);
		}
	}
	vf_free(vf); /* EOF to the daemon */
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
