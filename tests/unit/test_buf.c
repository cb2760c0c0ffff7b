/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* fb_reader / fb_writer: bounds, iovec boundaries, and the zero-copy fd hooks. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fuse_backend/buf.h>

#include "harness.h"

/* "0123456789" split over uneven entries, with empty ones in between. */
static char s0[] = "012", s2[] = "3456", s4[] = "789";
static struct iovec split[] = {
	{ s0, 3 }, { NULL, 0 }, { s2, 4 }, { NULL, 0 }, { s4, 3 },
};

TEST(reader_reads_across_entries)
{
	struct fb_reader r;
	char buf[11] = { 0 };

	fb_reader_init(&r, split, 5);
	CHECK_EQ(fb_reader_remaining(&r), 10);
	CHECK_EQ(fb_reader_read(&r, buf, 2), 0);
	CHECK(memcmp(buf, "01", 2) == 0);
	CHECK_EQ(fb_reader_read(&r, buf, 6), 0);
	CHECK(memcmp(buf, "234567", 6) == 0);
	CHECK_EQ(fb_reader_consumed(&r), 8);
	CHECK_EQ(fb_reader_remaining(&r), 2);
}

TEST(reader_refuses_short_read_and_keeps_position)
{
	struct fb_reader r;
	char buf[16];

	fb_reader_init(&r, split, 5);
	CHECK_EQ(fb_reader_skip(&r, 7), 0);
	CHECK_ERR(fb_reader_read(&r, buf, 4), -EINVAL);
	CHECK_ERR(fb_reader_skip(&r, 4), -EINVAL);
	CHECK_EQ(fb_reader_remaining(&r), 3);
	CHECK_EQ(fb_reader_read(&r, buf, 3), 0);
	CHECK(memcmp(buf, "789", 3) == 0);
	CHECK_ERR(fb_reader_read(&r, buf, 1), -EINVAL);
	CHECK_EQ(fb_reader_read(&r, buf, 0), 0);
}

TEST(reader_truncate_limits_what_follows)
{
	struct fb_reader r;
	char buf[8];

	fb_reader_init(&r, split, 5);
	CHECK_EQ(fb_reader_skip(&r, 1), 0);
	CHECK_ERR(fb_reader_truncate(&r, 10), -EINVAL);
	CHECK_EQ(fb_reader_truncate(&r, 4), 0);
	CHECK_ERR(fb_reader_read(&r, buf, 5), -EINVAL);
	CHECK_EQ(fb_reader_read(&r, buf, 4), 0);
	CHECK(memcmp(buf, "1234", 4) == 0);
	CHECK_EQ(fb_reader_remaining(&r), 0);
}

TEST(reader_iov_points_into_memory)
{
	struct fb_reader r;
	struct iovec out[4];

	fb_reader_init(&r, split, 5);
	CHECK_EQ(fb_reader_skip(&r, 2), 0);
	CHECK_EQ(fb_reader_iov(&r, 6, out, 4), 3);
	CHECK(out[0].iov_base == s0 + 2 && out[0].iov_len == 1);
	CHECK(out[1].iov_base == s2 && out[1].iov_len == 4);
	CHECK(out[2].iov_base == s4 && out[2].iov_len == 1);
	CHECK_EQ(fb_reader_remaining(&r), 2);
	CHECK_ERR(fb_reader_iov(&r, 3, out, 4), -EINVAL);
	fb_reader_init(&r, split, 5);
	CHECK_ERR(fb_reader_iov(&r, 10, out, 2), -E2BIG);
	CHECK_EQ(fb_reader_remaining(&r), 10);
}

TEST(reader_over_nothing)
{
	struct fb_reader r;
	char c;

	fb_reader_init(&r, NULL, 0);
	CHECK_EQ(fb_reader_remaining(&r), 0);
	CHECK_ERR(fb_reader_read(&r, &c, 1), -EINVAL);
}

static int memfd(void)
{
	int fd = memfd_create("fbtest", 0);

	if (fd < 0)
		FBT_FAIL("memfd_create: %s", strerror(errno));
	return fd;
}

TEST(reader_to_fd_writes_payload_at_offset)
{
	struct fb_reader r;
	char back[16] = { 0 };
	int fd = memfd();

	fb_reader_init(&r, split, 5);
	CHECK_EQ(fb_reader_skip(&r, 1), 0);
	CHECK_EQ(fb_reader_to_fd(&r, fd, 8, 100), 8);
	CHECK_EQ(fb_reader_remaining(&r), 1);
	CHECK_EQ(pread(fd, back, 16, 100), 8);
	CHECK(memcmp(back, "12345678", 8) == 0);
	CHECK_ERR(fb_reader_to_fd(&r, fd, 2, 0), -EINVAL);
	CHECK_ERR(fb_reader_to_fd(&r, -1, 1, 0), -EBADF);
	CHECK_EQ(fb_reader_remaining(&r), 1);
	close(fd);
}

/* More entries than one preadv/pwritev takes (1024, UIO_MAXIOV): written in rounds. */
TEST(reader_to_fd_handles_more_entries_than_a_batch)
{
	enum { N = 2500 };
	static char bytes[N];
	struct iovec v[N];
	struct fb_reader r;
	char back[N];
	int fd = memfd();

	for (int i = 0; i < N; i++) {
		bytes[i] = (char)(i * 7 + i / 256);
		v[i].iov_base = &bytes[i];
		v[i].iov_len = 1;
	}
	fb_reader_init(&r, v, N);
	CHECK_EQ(fb_reader_to_fd(&r, fd, N, 0), N);
	CHECK_EQ(pread(fd, back, N, 0), N);
	CHECK(memcmp(back, bytes, N) == 0);
	close(fd);
}

TEST(writer_writes_across_entries_and_refuses_overflow)
{
	char a[3], b[5];
	struct iovec v[] = { { a, 3 }, { NULL, 0 }, { b, 5 } };
	struct fb_writer w;

	fb_writer_init(&w, v, 3);
	CHECK_EQ(fb_writer_available(&w), 8);
	CHECK_EQ(fb_writer_write(&w, "abcd", 4), 0);
	CHECK_ERR(fb_writer_write(&w, "efghi", 5), -ENOSPC);
	CHECK_EQ(fb_writer_written(&w), 4);
	CHECK_EQ(fb_writer_zero(&w, 2), 0);
	CHECK_EQ(fb_writer_write(&w, "xy", 2), 0);
	CHECK_EQ(fb_writer_available(&w), 0);
	CHECK(memcmp(a, "abc", 3) == 0);
	CHECK(memcmp(b, "d\0\0xy", 5) == 0);
	CHECK_ERR(fb_writer_zero(&w, 1), -ENOSPC);
}

TEST(writer_pwrite_only_inside_written_bytes)
{
	char a[2], b[6];
	struct iovec v[] = { { a, 2 }, { b, 6 } };
	struct fb_writer w;

	fb_writer_init(&w, v, 2);
	CHECK_EQ(fb_writer_write(&w, "0000", 4), 0);
	CHECK_EQ(fb_writer_pwrite(&w, 1, "AB", 2), 0);
	CHECK(a[1] == 'A' && b[0] == 'B');
	CHECK_ERR(fb_writer_pwrite(&w, 3, "CD", 2), -EINVAL);
	CHECK_ERR(fb_writer_pwrite(&w, (size_t)-1, "C", 2), -EINVAL);
	CHECK_EQ(fb_writer_written(&w), 4);
}

TEST(writer_iov_reserves_space)
{
	char a[4], b[4];
	struct iovec v[] = { { a, 4 }, { b, 4 } }, out[2];
	struct fb_writer w;

	fb_writer_init(&w, v, 2);
	CHECK_EQ(fb_writer_write(&w, "h", 1), 0);
	CHECK_EQ(fb_writer_iov(&w, 5, out, 2), 2);
	CHECK(out[0].iov_base == a + 1 && out[0].iov_len == 3);
	CHECK(out[1].iov_base == b && out[1].iov_len == 2);
	CHECK_EQ(fb_writer_written(&w), 6);
	CHECK_ERR(fb_writer_iov(&w, 3, out, 2), -ENOSPC);
}

TEST(writer_from_fd_reads_into_memory_and_stops_at_eof)
{
	char a[3], b[10];
	struct iovec v[] = { { a, 3 }, { b, 10 } };
	struct fb_writer w;
	int fd = memfd();

	CHECK_EQ(pwrite(fd, "hello world", 11, 0), 11);
	fb_writer_init(&w, v, 2);
	CHECK_EQ(fb_writer_write(&w, "#", 1), 0);
	CHECK_ERR(fb_writer_from_fd(&w, fd, 13, 0), -ENOSPC);
	CHECK_EQ(fb_writer_from_fd(&w, fd, 12, 6), 5); /* "world", then end of file */
	CHECK_EQ(fb_writer_written(&w), 6);
	CHECK(memcmp(a, "#wo", 3) == 0 && memcmp(b, "rld", 3) == 0);
	CHECK_EQ(fb_writer_from_fd(&w, fd, 4, 100), 0);
	CHECK_ERR(fb_writer_from_fd(&w, -1, 1, 0), -EBADF);
	CHECK_EQ(fb_writer_written(&w), 6);
	close(fd);
}


TEST(writer_from_fd_handles_more_entries_than_a_batch)
{
	enum { N = 2500 };
	static char bytes[N], back[N];
	struct iovec v[N];
	struct fb_writer w;
	int fd = memfd();

	for (int i = 0; i < N; i++) {
		bytes[i] = (char)(i * 13 + i / 256);
		v[i].iov_base = &back[i];
		v[i].iov_len = 1;
	}
	CHECK_EQ(pwrite(fd, bytes, N, 0), N);
	fb_writer_init(&w, v, N);
	CHECK_EQ(fb_writer_from_fd(&w, fd, N, 0), N);
	CHECK_EQ(fb_writer_written(&w), N);
	CHECK(memcmp(back, bytes, N) == 0);
	close(fd);
}

TEST_MAIN()
