/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The guest memory map: what a vhost-user back end relies on when the front end sends regions
 * (reject overlaps, empty and overflowing ones; remove exactly what was added) and when a
 * guest gives an address (translate inside a region, report where a range leaves it, never
 * translate what is outside).
 */
#include <stdint.h>
#include <stdlib.h>

#include <fuse_backend/virtio.h>

#include "harness.h"

static uint8_t mem_a[8192], mem_b[8192];

static struct fb_guest_mem *new_mem(void)
{
	struct fb_guest_mem *m = NULL;

	if (fb_guest_mem_new(&m) < 0)
		abort();
	return m;
}

TEST(map_inside_a_region)
{
	struct fb_guest_mem *m = new_mem();
	uint64_t n = 0;

	CHECK_EQ(fb_guest_mem_count(m), 0);
	CHECK(fb_guest_mem_map(m, 0x1000, 1, &n) == NULL);
	CHECK_ERR(fb_guest_mem_add(m, 0x10000, 4096, 0x7f0000000000, mem_a), 0);
	CHECK_EQ(fb_guest_mem_count(m), 1);
	CHECK(fb_guest_mem_map(m, 0x10000, 4096, &n) == mem_a);
	CHECK_EQ(n, 4096);
	CHECK(fb_guest_mem_map(m, 0x10100, 16, &n) == mem_a + 0x100);
	CHECK_EQ(n, 16);
	CHECK(fb_guest_mem_map(m, 0x10fff, 1, &n) == mem_a + 0xfff);
	CHECK_EQ(n, 1);
	/* A range running past the end: the part inside. */
	CHECK(fb_guest_mem_map(m, 0x10f00, 0x1000, &n) == mem_a + 0xf00);
	CHECK_EQ(n, 0x100);
	/* Just outside, on either side, and nothing at all. */
	CHECK(fb_guest_mem_map(m, 0x11000, 1, &n) == NULL);
	CHECK(fb_guest_mem_map(m, 0xffff, 1, &n) == NULL);
	CHECK(fb_guest_mem_map(m, 0x10000, 0, &n) == NULL);
	fb_guest_mem_free(m);
}

TEST(map_across_a_region_boundary)
{
	struct fb_guest_mem *m = new_mem();
	uint64_t gpa = 0x20000 - 100, len = 300, n = 0;
	uint8_t *p;

	/* Adjacent in guest-physical space, apart in ours. */
	CHECK_ERR(fb_guest_mem_add(m, 0x20000, 4096, 0x5000000, mem_b), 0);
	CHECK_ERR(fb_guest_mem_add(m, 0x1f000, 4096, 0x9000000, mem_a), 0);
	p = fb_guest_mem_map(m, gpa, len, &n);
	CHECK(p == mem_a + 4096 - 100);
	CHECK_EQ(n, 100);
	/* The caller continues where the first part ended. */
	p = fb_guest_mem_map(m, gpa + n, len - n, &n);
	CHECK(p == mem_b);
	CHECK_EQ(n, 200);
	fb_guest_mem_free(m);
}

TEST(overlap_in_guest_physical_space_is_refused)
{
	struct fb_guest_mem *m = new_mem();

	CHECK_ERR(fb_guest_mem_add(m, 0x10000, 0x1000, 0x100000, mem_a), 0);
	CHECK_ERR(fb_guest_mem_add(m, 0x10fff, 0x1000, 0x200000, mem_b), -EEXIST);
	CHECK_ERR(fb_guest_mem_add(m, 0xf001, 0x1000, 0x200000, mem_b), -EEXIST);
	CHECK_ERR(fb_guest_mem_add(m, 0x10100, 0x10, 0x200000, mem_b), -EEXIST);
	CHECK_ERR(fb_guest_mem_add(m, 0x0, 0x100000, 0x200000, mem_b), -EEXIST);
	CHECK_EQ(fb_guest_mem_count(m), 1);
	/* Touching is not overlapping. */
	CHECK_ERR(fb_guest_mem_add(m, 0xf000, 0x1000, 0x200000, mem_b), 0);
	CHECK_ERR(fb_guest_mem_add(m, 0x11000, 0x1000, 0x300000, mem_b), 0);
	CHECK_EQ(fb_guest_mem_count(m), 3);
	fb_guest_mem_free(m);
}

TEST(overlap_in_front_end_space_is_refused)
{
	struct fb_guest_mem *m = new_mem();

	CHECK_ERR(fb_guest_mem_add(m, 0x10000, 0x1000, 0x100000, mem_a), 0);
	CHECK_ERR(fb_guest_mem_add(m, 0x80000, 0x1000, 0x100800, mem_b), -EEXIST);
	CHECK_ERR(fb_guest_mem_add(m, 0x80000, 0x1000, 0xff801, mem_b), -EEXIST);
	CHECK_ERR(fb_guest_mem_add(m, 0x80000, 0x1000, 0x101000, mem_b), 0);
	fb_guest_mem_free(m);
}

TEST(empty_and_overflowing_regions_are_refused)
{
	struct fb_guest_mem *m = new_mem();
	uint64_t n = 0;

	CHECK_ERR(fb_guest_mem_add(m, 0x10000, 0, 0x100000, mem_a), -EINVAL);
	CHECK_ERR(fb_guest_mem_add(m, UINT64_MAX - 0xfff, 0x2000, 0x100000, mem_a), -EINVAL);
	CHECK_ERR(fb_guest_mem_add(m, 0x10000, 0x2000, UINT64_MAX - 0xfff, mem_a), -EINVAL);
	CHECK_ERR(fb_guest_mem_add(m, 0x10000, UINT64_MAX, 0, mem_a), -EINVAL);
	CHECK_ERR(fb_guest_mem_add(m, 0x10000, 0x1000, 0x100000, NULL), -EINVAL);
	CHECK_EQ(fb_guest_mem_count(m), 0);
	/* A region high up; a range whose end overflows is not translated. */
	CHECK_ERR(fb_guest_mem_add(m, UINT64_MAX - 0x1fff, 0x1000, 0x100000, mem_a), 0);
	CHECK(fb_guest_mem_map(m, UINT64_MAX - 0x1fff, 0x1000, &n) == mem_a);
	CHECK(fb_guest_mem_map(m, UINT64_MAX - 0x1f00, UINT64_MAX, &n) == NULL);
	CHECK(fb_guest_mem_map(m, UINT64_MAX - 0x1f00, 0x300, &n) == mem_a + 0xff);
	CHECK_EQ(n, 0x300);
	fb_guest_mem_free(m);
}

TEST(remove_takes_out_exactly_the_region_added)
{
	struct fb_guest_mem *m = new_mem();
	void *host = NULL;
	uint64_t n = 0;

	CHECK_ERR(fb_guest_mem_add(m, 0x10000, 0x1000, 0x100000, mem_a), 0);
	CHECK_ERR(fb_guest_mem_add(m, 0x20000, 0x1000, 0x200000, mem_b), 0);
	CHECK_ERR(fb_guest_mem_remove(m, 0x10000, 0x800, &host), -ENOENT);
	CHECK_ERR(fb_guest_mem_remove(m, 0x10800, 0x800, &host), -ENOENT);
	CHECK_ERR(fb_guest_mem_remove(m, 0x30000, 0x1000, &host), -ENOENT);
	CHECK(host == NULL);
	CHECK_ERR(fb_guest_mem_remove(m, 0x10000, 0x1000, &host), 0);
	CHECK(host == mem_a);
	CHECK_EQ(fb_guest_mem_count(m), 1);
	CHECK(fb_guest_mem_map(m, 0x10000, 1, &n) == NULL);
	CHECK(fb_guest_mem_map(m, 0x20010, 1, &n) == mem_b + 0x10);
	CHECK(fb_guest_mem_map_uaddr(m, 0x100000, 1) == NULL);
	/* Its addresses are free again. */
	CHECK_ERR(fb_guest_mem_add(m, 0x10000, 0x1000, 0x100000, mem_b), 0);
	CHECK(fb_guest_mem_map(m, 0x10000, 1, &n) == mem_b);
	fb_guest_mem_free(m);
}

TEST(front_end_addresses_translate_inside_one_region)
{
	struct fb_guest_mem *m = new_mem();

	CHECK_ERR(fb_guest_mem_add(m, 0x10000, 0x1000, 0x7f0000001000, mem_a), 0);
	CHECK_ERR(fb_guest_mem_add(m, 0x11000, 0x1000, 0x7f0000002000, mem_b), 0);
	CHECK(fb_guest_mem_map_uaddr(m, 0x7f0000001000, 0x1000) == mem_a);
	CHECK(fb_guest_mem_map_uaddr(m, 0x7f0000001010, 0x10) == mem_a + 0x10);
	CHECK(fb_guest_mem_map_uaddr(m, 0x7f0000002ff0, 0x10) == mem_b + 0xff0);
	/* Adjacent in front-end space too, but a ring must lie inside one region. */
	CHECK(fb_guest_mem_map_uaddr(m, 0x7f0000001ff0, 0x20) == NULL);
	CHECK(fb_guest_mem_map_uaddr(m, 0x7f0000003000, 1) == NULL);
	CHECK(fb_guest_mem_map_uaddr(m, 0x7f0000000fff, 1) == NULL);
	CHECK(fb_guest_mem_map_uaddr(m, 0x7f0000001000, 0) == NULL);
	CHECK(fb_guest_mem_map_uaddr(m, 0x7f0000001000, UINT64_MAX) == NULL);
	fb_guest_mem_free(m);
}

TEST(many_regions_up_to_the_limit)
{
	struct fb_guest_mem *m = new_mem();
	uint64_t n = 0;
	int i;

	/* Added in a scrambled order, 4 KiB apart with 4 KiB holes between them. */
	for (i = 0; i < FB_GUEST_MEM_REGIONS_MAX; i++) {
		int k = (i * 97) % FB_GUEST_MEM_REGIONS_MAX;

		CHECK_ERR(fb_guest_mem_add(m, 0x100000 + 0x2000ull * k, 0x1000,
					   0x40000000 + 0x1000ull * k, mem_a + k),
			  0);
	}
	CHECK_EQ(fb_guest_mem_count(m), FB_GUEST_MEM_REGIONS_MAX);
	CHECK_ERR(fb_guest_mem_add(m, 0x10000000, 0x1000, 0x80000000, mem_b), -ENOSPC);
	for (i = 0; i < FB_GUEST_MEM_REGIONS_MAX; i++) {
		uint64_t gpa = 0x100000 + 0x2000ull * i;

		CHECK(fb_guest_mem_map(m, gpa + 5, 10, &n) == mem_a + i + 5);
		CHECK_EQ(n, 10);
		CHECK(fb_guest_mem_map(m, gpa + 0x1000, 1, &n) == NULL);
		CHECK(fb_guest_mem_map_uaddr(m, 0x40000000 + 0x1000ull * i + 7, 1) ==
		      mem_a + i + 7);
	}
	CHECK(fb_guest_mem_map(m, 0xfffff, 1, &n) == NULL);
	fb_guest_mem_free(m);
}

TEST(free_is_null_safe)
{
	fb_guest_mem_free(NULL);
}

TEST_MAIN()
