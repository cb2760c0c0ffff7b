/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * FUSE over io_uring without a mount: the payload buffer size the kernel demands, a ring
 * entry's request turned into one reader (in_header + op_in part + payload) for several
 * opcodes, the reply writer and the payload_sz it yields, malformed entries, and a request
 * carried through a real server over an entry.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/server.h>
#include <fuse_backend/uring.h>

#include "harness.h"
#include "transport/uring/uring_i.h"

#define PAYLOAD_CAP	(64 * 1024)

/* One entry over static buffers, as uring.c lays them out. */
static struct fb_uring_req_header hdr;
static char payload[PAYLOAD_CAP];
static char side[FB__URING_SIDE_SIZE];
static struct fb__uring_ent ent;

static void ent_reset(void)
{
	memset(&hdr, 0xa5, sizeof(hdr));	/* garbage the kernel would overwrite */
	memset(payload, 0x5a, sizeof(payload));
	fb__uring_ent_init(&ent, &hdr, payload, sizeof(payload), side);
}

/* Write a request the way the kernel does: header, arg0 into op_in, rest into payload. */
static void kernel_put(uint32_t opcode, uint64_t unique, const void *arg0, size_t arg0_sz,
		       const void *rest, size_t rest_sz)
{
	struct fb_in_header in = {
		.len = (uint32_t)(sizeof(in) + arg0_sz + rest_sz),
		.opcode = opcode,
		.unique = unique,
		.nodeid = FB_ROOT_ID,
		.uid = 1000,
		.gid = 1000,
		.pid = 42,
	};

	memcpy(hdr.in_out, &in, sizeof(in));
	if (arg0_sz)
		memcpy(hdr.op_in, arg0, arg0_sz);
	if (rest_sz)
		memcpy(payload, rest, rest_sz);
	hdr.ring_ent_in_out.commit_id = unique;
	hdr.ring_ent_in_out.payload_sz = (uint32_t)rest_sz;
}

/* Read the whole request out of @r into @buf; returns its length. */
static size_t drain(struct fb_reader *r, void *buf, size_t cap)
{
	size_t n = fb_reader_remaining(r);

	CHECK(n <= cap);
	CHECK_EQ(fb_reader_read(r, buf, n), 0);
	return n;
}

TEST(payload_size_is_the_largest_of_the_kernel_limits)
{
	/* at least the /dev/fuse minimum read buffer */
	CHECK_EQ(fb__uring_payload_size(0, 0, 4096), FB_MIN_READ_BUFFER);
	CHECK_EQ(fb__uring_payload_size(4096, 1, 4096), FB_MIN_READ_BUFFER);
	/* max_write wins */
	CHECK_EQ(fb__uring_payload_size(1 << 20, 32, 4096), 1 << 20);
	/* max_pages * page size wins */
	CHECK_EQ(fb__uring_payload_size(128 * 1024, 256, 4096), 256 * 4096);
	CHECK_EQ(fb__uring_payload_size(4096, 16, 65536), 16 * 65536);
	/* no 32-bit overflow in max_pages * page */
	CHECK_EQ(fb__uring_payload_size(0, 65535, 1 << 20), (size_t)65535 << 20);
}

TEST(possible_cpu_list_is_counted)
{
	/* one queue per possible CPU: a wrong count leaves the kernel waiting forever */
	CHECK_EQ(fb__uring_count_cpus("0\n"), 1);
	CHECK_EQ(fb__uring_count_cpus("0-1\n"), 2);
	CHECK_EQ(fb__uring_count_cpus("0-3,8-11\n"), 8);
	CHECK_EQ(fb__uring_count_cpus("0,2,4-5"), 4);
	CHECK_EQ(fb__uring_count_cpus("0-65535"), 65536);
	/* malformed or absurd lists: 0, the caller falls back to get_nprocs_conf() */
	CHECK_EQ(fb__uring_count_cpus(""), 0);
	CHECK_EQ(fb__uring_count_cpus("x"), 0);
	CHECK_EQ(fb__uring_count_cpus("3-1"), 0);
	CHECK_EQ(fb__uring_count_cpus("0-"), 0);
	CHECK_EQ(fb__uring_count_cpus("0;1"), 0);
	CHECK_EQ(fb__uring_count_cpus("-1"), 0);
	CHECK_EQ(fb__uring_count_cpus("0-65536"), 0);
	CHECK_EQ(fb__uring_count_cpus("0-4294967295"), 0);
	CHECK_EQ(fb__uring_count_cpus("0-40000,40001-70000"), 0);
}

TEST(lookup_name_travels_in_the_payload)
{
	struct fb_reader r;
	struct fb_writer w;
	struct fb_in_header in;
	char buf[256];

	ent_reset();
	kernel_put(FB_LOOKUP, 10, NULL, 0, "hello", 6);
	CHECK_EQ(fb__uring_ent_request(&ent, &r, &w), 0);
	CHECK_EQ(fb_reader_remaining(&r), sizeof(in) + 6);
	CHECK_EQ(fb_reader_read(&r, &in, sizeof(in)), 0);
	CHECK_EQ(in.len, sizeof(in) + 6);
	CHECK_EQ(in.opcode, FB_LOOKUP);
	CHECK_EQ(in.unique, 10);
	CHECK_EQ(in.uid, 1000);
	CHECK_EQ(drain(&r, buf, sizeof(buf)), 6);
	CHECK_STR(buf, "hello");
	/* the name was moved out of the reply's way */
	CHECK(ent.in_iov[1].iov_base == (void *)side);
	CHECK_EQ(ent.in_iov[1].iov_len, 6);
	fb__uring_ent_done(&ent);
}

TEST(mkdir_arg0_in_op_in_name_in_payload)
{
	struct fb_mkdir_in mi = { .mode = 0755 | S_IFDIR, .umask = 022 };
	struct fb_mkdir_in got;
	struct fb_in_header in;
	struct fb_reader r;
	struct fb_writer w;
	char name[16];

	ent_reset();
	kernel_put(FB_MKDIR, 12, &mi, sizeof(mi), "dir", 4);
	CHECK_EQ(fb__uring_ent_request(&ent, &r, &w), 0);
	CHECK_EQ(fb_reader_remaining(&r), sizeof(in) + sizeof(mi) + 4);
	CHECK_EQ(fb_reader_read(&r, &in, sizeof(in)), 0);
	CHECK_EQ(in.len, fb_reader_remaining(&r) + sizeof(in));
	CHECK_EQ(fb_reader_read(&r, &got, sizeof(got)), 0);
	CHECK_EQ(got.mode, mi.mode);
	CHECK_EQ(got.umask, 022);
	CHECK_EQ(drain(&r, name, sizeof(name)), 4);
	CHECK_STR(name, "dir");
	fb__uring_ent_done(&ent);
}

/*
 * The arguments (op_in part and payload) are copied once, together: the server finds them in
 * one piece and decodes them where they are instead of copying them a second time.
 */
TEST(arguments_are_one_contiguous_copy)
{
	struct fb_mkdir_in mi = { .mode = 0755 | S_IFDIR, .umask = 022 };
	struct fb_mkdir_in got;
	struct fb_reader r;
	struct fb_writer w;
	struct iovec v;

	ent_reset();
	kernel_put(FB_MKDIR, 13, &mi, sizeof(mi), "dir", 4);
	CHECK_EQ(fb__uring_ent_request(&ent, &r, &w), 0);
	CHECK_EQ(fb_reader_skip(&r, sizeof(struct fb_in_header)), 0);
	CHECK_EQ(fb_reader_iov(&r, sizeof(mi) + 4, &v, 1), 1);
	CHECK(v.iov_base == (void *)side);
	memcpy(&got, v.iov_base, sizeof(got));
	CHECK_EQ(got.mode, mi.mode);
	CHECK_STR((char *)v.iov_base + sizeof(mi), "dir");
	/* a copy: the kernel's buffers may be overwritten by the reply */
	memset(&hdr.op_in, 0, sizeof(mi));
	memset(payload, 0, 4);
	CHECK_STR((char *)v.iov_base + sizeof(mi), "dir");
	fb__uring_ent_done(&ent);
}

TEST(write_data_is_read_in_place)
{
	struct fb_write_in wi = { .fh = 7, .offset = 4096, .size = 5000 };
	static char data[5000];
	struct fb_write_in got;
	struct fb_in_header in;
	struct fb_reader r;
	struct fb_writer w;
	static char back[5000];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7);
	ent_reset();
	kernel_put(FB_WRITE, 14, &wi, sizeof(wi), data, sizeof(data));
	CHECK_EQ(fb__uring_ent_request(&ent, &r, &w), 0);
	CHECK(ent.in_iov[2].iov_base == (void *)payload);	/* zero copy */
	CHECK_EQ(fb_reader_read(&r, &in, sizeof(in)), 0);
	CHECK_EQ(in.len, sizeof(in) + sizeof(wi) + sizeof(data));
	CHECK_EQ(fb_reader_read(&r, &got, sizeof(got)), 0);
	CHECK_EQ(got.fh, 7);
	CHECK_EQ(got.size, 5000);
	CHECK_EQ(drain(&r, back, sizeof(back)), sizeof(data));
	CHECK(memcmp(back, data, sizeof(data)) == 0);
	fb__uring_ent_done(&ent);
}

TEST(getattr_has_no_payload)
{
	struct fb_getattr_in gi = { .getattr_flags = FB_GETATTR_FH, .fh = 3 };
	struct fb_getattr_in got;
	struct fb_in_header in;
	struct fb_reader r;
	struct fb_writer w;

	ent_reset();
	kernel_put(FB_GETATTR, 16, &gi, sizeof(gi), NULL, 0);
	CHECK_EQ(fb__uring_ent_request(&ent, &r, &w), 0);
	CHECK_EQ(fb_reader_remaining(&r), sizeof(in) + sizeof(gi));
	CHECK_EQ(fb_reader_read(&r, &in, sizeof(in)), 0);
	CHECK_EQ(fb_reader_read(&r, &got, sizeof(got)), 0);
	CHECK_EQ(got.fh, 3);
	CHECK_EQ(fb_reader_remaining(&r), 0);
	/* the writer: out header into in_out, then the whole payload buffer */
	CHECK_EQ(fb_writer_available(&w), sizeof(struct fb_out_header) + PAYLOAD_CAP);
	fb__uring_ent_done(&ent);
}

TEST(big_payload_gets_a_temporary_copy)
{
	static char value[20000];
	struct fb_setxattr_in si = { .size = sizeof(value) - 10 };
	struct fb_reader r;
	struct fb_writer w;
	static char back[sizeof(value) + sizeof(si) + 64];
	size_t n;

	memset(value, 'v', sizeof(value));
	memcpy(value, "user.big", 9);
	ent_reset();
	kernel_put(FB_SETXATTR, 18, &si, sizeof(si), value, sizeof(value));
	CHECK_EQ(fb__uring_ent_request(&ent, &r, &w), 0);
	CHECK(ent.tmp != NULL);
	CHECK(ent.in_iov[1].iov_base == ent.tmp);
	CHECK_EQ(ent.in_iov[1].iov_len, sizeof(si) + sizeof(value));
	/* the reply may now scribble over the payload buffer without harm */
	memset(payload, 0, sizeof(value));
	CHECK_EQ(fb_reader_skip(&r, sizeof(struct fb_in_header) + sizeof(si)), 0);
	n = drain(&r, back, sizeof(back));
	CHECK_EQ(n, sizeof(value));
	CHECK(memcmp(back, value, sizeof(value)) == 0);
	/* the reply releases it (ASan checks the leak) */
	fb__uring_ent_reply(&ent, -EIO, 0);
	CHECK(ent.tmp == NULL);
}

TEST(request_header_survives_the_reply_header)
{
	struct fb_out_header oh = { .len = 16, .error = 0, .unique = 99 };
	struct fb_in_header in;
	struct fb_reader r;
	struct fb_writer w;

	ent_reset();
	kernel_put(FB_GETATTR, 20, "0123456789abcdef", 16, NULL, 0);
	CHECK_EQ(fb__uring_ent_request(&ent, &r, &w), 0);
	CHECK_EQ(fb_writer_write(&w, &oh, sizeof(oh)), 0);	/* lands on in_out */
	CHECK_EQ(fb_reader_read(&r, &in, sizeof(in)), 0);
	CHECK_EQ(in.unique, 20);
	CHECK_EQ(in.opcode, FB_GETATTR);
	fb__uring_ent_done(&ent);
}

TEST(malformed_entries_are_refused)
{
	struct fb_in_header in = { .opcode = FB_GETATTR, .unique = 22 };
	struct fb_reader r;
	struct fb_writer w;

	ent_reset();
	/* len shorter than the header */
	in.len = sizeof(in) - 1;
	memcpy(hdr.in_out, &in, sizeof(in));
	hdr.ring_ent_in_out.payload_sz = 0;
	CHECK_EQ(fb__uring_ent_request(&ent, &r, &w), -EPROTO);
	/* payload larger than len says */
	in.len = sizeof(in) + 4;
	memcpy(hdr.in_out, &in, sizeof(in));
	hdr.ring_ent_in_out.payload_sz = 5;
	CHECK_EQ(fb__uring_ent_request(&ent, &r, &w), -EPROTO);
	/* payload larger than the buffer */
	in.len = sizeof(in) + PAYLOAD_CAP + 1;
	memcpy(hdr.in_out, &in, sizeof(in));
	hdr.ring_ent_in_out.payload_sz = PAYLOAD_CAP + 1;
	CHECK_EQ(fb__uring_ent_request(&ent, &r, &w), -EPROTO);
	/* an op_in part larger than the op_in area */
	in.len = sizeof(in) + FB_URING_OP_IN_OUT_SZ + 1;
	memcpy(hdr.in_out, &in, sizeof(in));
	hdr.ring_ent_in_out.payload_sz = 0;
	CHECK_EQ(fb__uring_ent_request(&ent, &r, &w), -EPROTO);
	/* exactly the op_in area is fine */
	in.len = sizeof(in) + FB_URING_OP_IN_OUT_SZ;
	memcpy(hdr.in_out, &in, sizeof(in));
	CHECK_EQ(fb__uring_ent_request(&ent, &r, &w), 0);
	fb__uring_ent_done(&ent);

	/* a refused request is still answered, with EIO and the kernel's commit id */
	in.len = 3;
	memcpy(hdr.in_out, &in, sizeof(in));
	hdr.ring_ent_in_out.commit_id = 22;
	CHECK_EQ(fb__uring_ent_request(&ent, &r, &w), -EPROTO);
	CHECK_EQ(fb__uring_ent_reply(&ent, -EPROTO, 0), 22);
	struct fb_out_header oh;
	memcpy(&oh, hdr.in_out, sizeof(oh));
	CHECK_EQ(oh.error, -EIO);
	CHECK_EQ(oh.unique, 22);
	CHECK_EQ(hdr.ring_ent_in_out.payload_sz, 0);
}

TEST(reply_length_becomes_payload_sz)
{
	struct fb_out_header oh = { .len = 16 + 104, .error = 0, .unique = 30 };
	struct fb_attr_out ao = { .attr_valid = 1, .attr = { .ino = 1, .mode = S_IFDIR | 0755 } };
	struct fb_attr_out got;
	struct fb_reader r;
	struct fb_writer w;

	ent_reset();
	kernel_put(FB_GETATTR, 30, "0123456789abcdef", 16, NULL, 0);
	CHECK_EQ(fb__uring_ent_request(&ent, &r, &w), 0);
	CHECK_EQ(fb_writer_write(&w, &oh, sizeof(oh)), 0);
	CHECK_EQ(fb_writer_write(&w, &ao, sizeof(ao)), 0);
	CHECK_EQ(fb__uring_ent_reply(&ent, (ssize_t)fb_writer_written(&w), fb_writer_written(&w)),
		 30);
	CHECK_EQ(hdr.ring_ent_in_out.payload_sz, sizeof(ao));
	memcpy(&oh, hdr.in_out, sizeof(oh));
	CHECK_EQ(oh.unique, 30);
	CHECK_EQ(oh.error, 0);
	memcpy(&got, payload, sizeof(got));
	CHECK_EQ(got.attr.mode, S_IFDIR | 0755);
}

TEST(requests_without_reply_are_still_committed)
{
	struct fb_out_header oh;
	struct fb_reader r;
	struct fb_writer w;

	/* NOTIFY_REPLY: no answer expected, committed with error 0 */
	ent_reset();
	kernel_put(FB_NOTIFY_REPLY, 40, "0123456789abcdefghijklmnopqrstuvwxyz01234", 40, "data", 4);
	CHECK_EQ(fb__uring_ent_request(&ent, &r, &w), 0);
	CHECK_EQ(fb__uring_ent_reply(&ent, 0, 0), 40);
	memcpy(&oh, hdr.in_out, sizeof(oh));
	CHECK_EQ(oh.error, 0);
	CHECK_EQ(oh.unique, 40);
	CHECK_EQ(hdr.ring_ent_in_out.payload_sz, 0);

	/* a request the server dropped: EIO, so the caller does not wait forever */
	ent_reset();
	kernel_put(FB_LOOKUP, 42, NULL, 0, "x", 2);
	CHECK_EQ(fb__uring_ent_request(&ent, &r, &w), 0);
	CHECK_EQ(fb__uring_ent_reply(&ent, 0, 0), 42);
	memcpy(&oh, hdr.in_out, sizeof(oh));
	CHECK_EQ(oh.error, -EIO);
	CHECK_EQ(oh.unique, 42);

	/* DESTROY: the server says -ENODEV; what it wrote is the reply */
	ent_reset();
	kernel_put(FB_DESTROY, 44, NULL, 0, NULL, 0);
	CHECK_EQ(fb__uring_ent_request(&ent, &r, &w), 0);
	oh = (struct fb_out_header){ .len = 16, .error = 0, .unique = 44 };
	CHECK_EQ(fb_writer_write(&w, &oh, sizeof(oh)), 0);
	CHECK_EQ(fb__uring_ent_reply(&ent, -ENODEV, fb_writer_written(&w)), 44);
	memcpy(&oh, hdr.in_out, sizeof(oh));
	CHECK_EQ(oh.error, 0);
	CHECK_EQ(hdr.ring_ent_in_out.payload_sz, 0);
	/* ... and with nothing written, an empty success */
	ent_reset();
	kernel_put(FB_DESTROY, 46, NULL, 0, NULL, 0);
	CHECK_EQ(fb__uring_ent_request(&ent, &r, &w), 0);
	CHECK_EQ(fb__uring_ent_reply(&ent, -ENODEV, 0), 46);
	memcpy(&oh, hdr.in_out, sizeof(oh));
	CHECK_EQ(oh.error, 0);
	CHECK_EQ(oh.unique, 46);
}

/* --- Through a real server: INIT, then GETATTR and LOOKUP, each carried by the entry. --- */

static int t_getattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino,
		     const struct fb_file_info *fi, struct stat *out, double *timeout)
{
	memset(out, 0, sizeof(*out));
	out->st_ino = ino;
	out->st_mode = S_IFDIR | 0711;
	out->st_nlink = 2;
	*timeout = 1.0;
	return 0;
}

static int t_lookup(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		    struct fb_entry *out)
{
	if (strcmp(name, "there") != 0)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->ino = 5;
	out->attr.st_ino = 5;
	out->attr.st_mode = S_IFREG | 0644;
	out->attr.st_nlink = 1;
	out->attr.st_size = 123;
	out->entry_timeout = 1.0;
	out->attr_timeout = 1.0;
	return 0;
}

static const struct fb_fs_ops t_ops = {
	.getattr = t_getattr,
	.lookup = t_lookup,
};

/* Serve the request in the entry with @s; returns what the kernel would see. */
static ssize_t serve(struct fb_server *s, struct fb_out_header *oh)
{
	struct fb_reader r;
	struct fb_writer w;
	ssize_t n;

	CHECK_EQ(fb__uring_ent_request(&ent, &r, &w), 0);
	n = fb_server_handle(s, &r, &w);
	fb__uring_ent_reply(&ent, n, fb_writer_written(&w));
	memcpy(oh, hdr.in_out, sizeof(*oh));
	return n;
}

TEST(server_answers_requests_carried_by_an_entry)
{
	struct fb_init_in ii = {
		.major = FB_KERNEL_VERSION,
		.minor = FB_KERNEL_MINOR_VERSION,
		.max_readahead = 128 * 1024,
		.flags = (uint32_t)(FB_INIT_EXT | FB_MAX_PAGES),
		.flags2 = (uint32_t)(FB_OVER_IO_URING >> 32),
	};
	struct fb_getattr_in gi = { 0 };
	struct fb_out_header oh;
	struct fb_server *s;
	struct fb_attr_out ao;
	struct fb_entry_out eo;

	CHECK_EQ(fb_server_new(&t_ops, sizeof(t_ops), NULL, NULL, &s), 0);

	ent_reset();
	kernel_put(FB_INIT, 2, &ii, sizeof(ii), NULL, 0);
	CHECK(serve(s, &oh) > 0);
	CHECK_EQ(oh.error, 0);
	CHECK_EQ(oh.unique, 2);
	CHECK(fb_server_conn(s) != NULL);

	ent_reset();
	kernel_put(FB_GETATTR, 4, &gi, sizeof(gi), NULL, 0);
	CHECK_EQ(serve(s, &oh), sizeof(oh) + sizeof(ao));
	CHECK_EQ(oh.error, 0);
	CHECK_EQ(oh.unique, 4);
	CHECK_EQ(hdr.ring_ent_in_out.payload_sz, sizeof(ao));
	memcpy(&ao, payload, sizeof(ao));
	CHECK_EQ(ao.attr.mode, S_IFDIR | 0711);
	CHECK_EQ(ao.attr.ino, FB_ROOT_ID);

	ent_reset();
	kernel_put(FB_LOOKUP, 6, NULL, 0, "there", 6);
	CHECK_EQ(serve(s, &oh), sizeof(oh) + sizeof(eo));
	CHECK_EQ(oh.error, 0);
	CHECK_EQ(hdr.ring_ent_in_out.payload_sz, sizeof(eo));
	memcpy(&eo, payload, sizeof(eo));
	CHECK_EQ(eo.nodeid, 5);
	CHECK_EQ(eo.attr.size, 123);

	ent_reset();
	kernel_put(FB_LOOKUP, 8, NULL, 0, "missing", 8);
	serve(s, &oh);
	CHECK_EQ(oh.error, -ENOENT);
	CHECK_EQ(oh.unique, 8);
	CHECK_EQ(hdr.ring_ent_in_out.payload_sz, 0);

	fb_server_free(s);
}

TEST(stubs_or_engine_report_unavailable_without_a_session)
{
	struct fb_uring_stats st;
	struct fb_uring *u = NULL;

	/* no session: refused either way (stub: -EOPNOTSUPP, real engine: -EINVAL) */
	CHECK(fb_uring_new(NULL, NULL, &u) < 0);
	CHECK(u == NULL);
	fb_uring_stats(NULL, &st);
	CHECK_EQ(st.active, 0);
	CHECK_EQ(st.requests, 0);
	fb_uring_free(NULL);
}

TEST_MAIN()
