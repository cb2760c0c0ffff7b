/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Public structs versioned by a leading `size` (0: the 1.0 layout). A caller built against an
 * older header passes a shorter struct: the library reads only that much and the newer fields
 * keep their defaults. A caller built against a newer header passes a longer one: accepted
 * when the fields this library does not know are zero, else -E2BIG. Below the 1.0 layout:
 * -EINVAL. The ops tables (fb_transport_ops) are cut instead: an unknown hook is ignored.
 */
#include <stdlib.h>
#include <unistd.h>

#include <fuse_backend/fusedev.h>
#include <fuse_backend/memfs.h>
#include <fuse_backend/passthrough.h>
#include <fuse_backend/server.h>
#include <fuse_backend/uring.h>
#include <fuse_backend/vfs.h>
#include <fuse_backend/vhost_user.h>

#include "api/server_i.h"
#include "harness.h"
#include "sized_i.h"

/* ---- the copy-in itself, over a struct in three versions ------------------------------- */

struct cfg_v1 {
	size_t size;
	int a;
	double b;
};

struct cfg_v2 { /* this "library's" header: v1 plus c, whose default is 7 */
	size_t size;
	int a;
	double b;
	int c;
};

struct cfg_v3 { /* a newer header than the library's */
	size_t size;
	int a;
	double b;
	int c;
	/* A new field must grow sizeof (docs/abi.md): an int here would sit in v2's tail
	 * padding, where v2 cannot tell it from padding. */
	int64_t d;
};

#define CFG_V1 FB__SIZE_TO(struct cfg_v1, b)

TEST(older_caller_keeps_newer_defaults)
{
	/* exactly the old size on the heap: a read past it is an ASan report */
	struct cfg_v1 *old = malloc(sizeof(*old));
	struct cfg_v2 cur = {.c = 7};

	CHECK(old != NULL);
	*old = (struct cfg_v1){.size = sizeof(*old), .a = 3, .b = 2.5};
	CHECK_EQ(fb__sized_in(&cur, sizeof(cur), old, CFG_V1), 0);
	CHECK_EQ(cur.size, sizeof(cur));
	CHECK_EQ(cur.a, 3);
	CHECK(cur.b == 2.5);
	CHECK_EQ(cur.c, 7);

	/* size 0 is the 1.0 layout: the same */
	old->size = 0;
	cur = (struct cfg_v2){.c = 7};
	CHECK_EQ(fb__sized_in(&cur, sizeof(cur), old, CFG_V1), 0);
	CHECK_EQ(cur.a, 3);
	CHECK_EQ(cur.c, 7);
	CHECK_EQ(cur.size, sizeof(cur));

	/* no struct at all: the defaults */
	cur = (struct cfg_v2){.c = 7};
	CHECK_EQ(fb__sized_in(&cur, sizeof(cur), NULL, CFG_V1), 0);
	CHECK_EQ(cur.c, 7);
	CHECK_EQ(cur.size, sizeof(cur));
	free(old);
}

TEST(below_the_first_layout_is_refused)
{
	struct cfg_v1 old = {.size = offsetof(struct cfg_v1, b), .a = 1};
	struct cfg_v2 cur = {.c = 7};

	CHECK_ERR(fb__sized_in(&cur, sizeof(cur), &old, CFG_V1), -EINVAL);
	old.size = 1;
	CHECK_ERR(fb__sized_in(&cur, sizeof(cur), &old, CFG_V1), -EINVAL);
	CHECK_EQ(cur.a, 0);
}

TEST(newer_caller_with_unknown_fields)
{
	struct cfg_v3 *nw = calloc(1, sizeof(*nw));
	struct cfg_v2 cur = {.c = 7};

	CHECK(nw != NULL);
	*nw = (struct cfg_v3){.size = sizeof(*nw), .a = 5, .c = 9};
	/* d left at 0 (its default): fine */
	CHECK_EQ(fb__sized_in(&cur, sizeof(cur), nw, CFG_V1), 0);
	CHECK_EQ(cur.a, 5);
	CHECK_EQ(cur.c, 9);
	CHECK_EQ(cur.size, sizeof(cur));
	/* d set: this library cannot do what it asks */
	nw->d = 1;
	CHECK_ERR(fb__sized_in(&cur, sizeof(cur), nw, CFG_V1), -E2BIG);
	/* an absurd size is refused before anything is read past the struct */
	nw->d = 0;
	nw->size = 1 << 20;
	CHECK_ERR(fb__sized_in(&cur, sizeof(cur), nw, CFG_V1), -E2BIG);
	free(nw);
}

/* ---- each public config -------------------------------------------------------------- */

/* A struct of type T as a caller with a newer header would pass it: 16 more bytes. */
#define NEWER(T)                                                                                 \
	union {                                                                                  \
		T v;                                                                             \
		unsigned char raw[sizeof(T) + 16];                                               \
	}

/* Three calls of @call on @var (a NEWER union): size 0, sizeof, a larger one with zeros past
 * ours (all must give @ok), then a non-zero byte there (-E2BIG), then a size below the 1.0
 * layout (-EINVAL). @done runs after each success. */
#define CHECK_SIZES(var, call, ok, done)                                                         \
	do {                                                                                     \
		(var).v.size = 0;                                                                \
		CHECK_EQ(call, ok);                                                              \
		done;                                                                            \
		(var).v.size = sizeof((var).v);                                                  \
		CHECK_EQ(call, ok);                                                              \
		done;                                                                            \
		(var).v.size = sizeof((var).raw);                                                \
		CHECK_EQ(call, ok);                                                              \
		done;                                                                            \
		(var).raw[sizeof((var).v) + 3] = 1;                                              \
		CHECK_ERR(call, -E2BIG);                                                         \
		(var).raw[sizeof((var).v) + 3] = 0;                                              \
		(var).v.size = sizeof(size_t) + 1;                                               \
		CHECK_ERR(call, -EINVAL);                                                        \
		(var).v.size = 0;                                                                \
	} while (0)

TEST(server_config)
{
	static const struct fb_fs_ops ops = {0};
	NEWER(struct fb_server_config) c = {.v = {.max_write = 256 << 10}};
	struct fb_server *s = NULL;

	/* the copy is what the server uses */
	CHECK_SIZES(c, fb_server_new(&ops, sizeof(ops), NULL, &c.v, &s), 0,
		    CHECK_EQ(s->cfg.max_write, 256 << 10); CHECK_EQ(s->cfg.size, sizeof(c.v));
		    fb_server_free(s); s = NULL);
}

TEST(memfs_config)
{
	NEWER(struct fb_memfs_config) c = {.v = {.max_inodes = 10}};
	struct fb_memfs *m = NULL;

	CHECK_SIZES(c, fb_memfs_new(&c.v, &m), 0, fb_memfs_free(m); m = NULL);
}

TEST(passthrough_config)
{
	NEWER(struct fb_passthrough_config) c;
	struct fb_passthrough *pt = NULL;

	memset(&c, 0, sizeof(c));
	fb_passthrough_config_init(&c.v);
	CHECK_EQ(c.v.size, sizeof(c.v));
	c.v.source = "/";
	CHECK_SIZES(c, fb_passthrough_new(&c.v, &pt), 0, fb_passthrough_free(pt); pt = NULL);
}

TEST(vfs_config_and_mount_opts)
{
	NEWER(struct fb_vfs_config) c = {.v = {.has_pseudo_timeout = 1, .pseudo_timeout = 2}};
	NEWER(struct fb_vfs_mount_opts) o = {.v = {.type = "memfs"}};
	struct fb_memfs *m = NULL;
	struct fb_vfs *vfs = NULL;
	int slot;

	CHECK_SIZES(c, fb_vfs_new(&c.v, &vfs), 0, fb_vfs_free(vfs); vfs = NULL);
	CHECK_EQ(fb_vfs_new(NULL, &vfs), 0);
	CHECK_EQ(fb_memfs_new(NULL, &m), 0);
	CHECK_SIZES(o, fb_vfs_mount(vfs, "/a", &fb_memfs_ops, sizeof(fb_memfs_ops), m, &o.v, &slot),
		    0, CHECK_EQ(fb_vfs_umount(vfs, "/a"), 0));
	fb_vfs_free(vfs);
	fb_memfs_free(m);
}

TEST(vhost_user_config)
{
	static const struct fb_fs_ops ops = {0};
	NEWER(struct fb_vhost_user_config) c = {.v = {.request_queues = 2}};
	struct fb_vhost_user *dev = NULL;
	struct fb_server *s = NULL;

	CHECK_EQ(fb_server_new(&ops, sizeof(ops), NULL, NULL, &s), 0);
	CHECK_SIZES(c, fb_vhost_user_new(s, &c.v, &dev), 0, fb_vhost_user_free(dev); dev = NULL);
	fb_server_free(s);
}

/* The session calls are refused before any mount is tried (no mount in the unit suite). */
TEST(mount_and_uring_opts)
{
	static const struct fb_fs_ops ops = {0};
	NEWER(struct fb_mount_opts) mo = {.v = {.ro = 1}};
	struct fb_server *s = NULL;
	struct fb_session *se = NULL;

	CHECK_EQ(fb_server_new(&ops, sizeof(ops), NULL, NULL, &s), 0);
	CHECK_EQ(fb_session_new(s, &se), 0);
	mo.v.size = sizeof(mo.raw);
	mo.raw[sizeof(mo.v) + 3] = 1;
	CHECK_ERR(fb_session_mount(se, "/nonexistent-mountpoint", &mo.v), -E2BIG);
	mo.v.size = sizeof(size_t) + 1;
	CHECK_ERR(fb_session_mount(se, "/nonexistent-mountpoint", &mo.v), -EINVAL);
#ifdef FB_HAVE_URING
	NEWER(struct fb_uring_opts) uo = {.v = {.depth = 8}};
	struct fb_uring *u = NULL;

	uo.v.size = sizeof(uo.raw);
	uo.raw[sizeof(uo.v) + 3] = 1;
	CHECK_ERR(fb_uring_new(se, &uo.v, &u), -E2BIG);
	uo.v.size = sizeof(size_t) + 1;
	CHECK_ERR(fb_uring_new(se, &uo.v, &u), -EINVAL);
#endif
	fb_session_free(se);
	fb_server_free(s);
}

/* ---- the transport ops table: cut, not refused ------------------------------------------ */

static int fake_unmap(void *priv, uint64_t moffset, uint64_t len)
{
	return 0;
}

TEST(transport_ops_shorter_and_longer)
{
	static const struct fb_fs_ops ops = {0};
	size_t short_size = offsetof(struct fb_transport_ops, dax_map);
	struct fb_transport_ops full = {.size = short_size, .flags = FB_TRANSPORT_RESTART,
					.dax_map = (void *)1, .dax_unmap = (void *)1};
	unsigned char *t = malloc(short_size);
	union {
		struct fb_transport_ops v;
		void (*fn[sizeof(struct fb_transport_ops) / sizeof(void (*)(void)) + 2])(void);
	} longer;
	struct fb_server *s = NULL;

	CHECK(t != NULL);
	CHECK_EQ(fb_server_new(&ops, sizeof(ops), NULL, NULL, &s), 0);
	/* an older table, without the DAX hooks (exactly that long on the heap) */
	memcpy(t, &full, short_size);
	fb_server_set_transport(s, (const struct fb_transport_ops *)t, NULL);
	CHECK_EQ(s->tops.size, sizeof(struct fb_transport_ops));
	CHECK_EQ(s->tops.flags, FB_TRANSPORT_RESTART);
	CHECK(s->tops.dax_map == NULL && s->tops.dax_unmap == NULL);
	/* a newer, longer one: the hooks this library does not know are ignored */
	memset(&longer, 0, sizeof(longer));
	longer.v.size = sizeof(longer);
	longer.v.dax_unmap = fake_unmap;
	longer.fn[sizeof(longer.fn) / sizeof(longer.fn[0]) - 1] = (void (*)(void))fake_unmap;
	fb_server_set_transport(s, &longer.v, NULL);
	CHECK_EQ(s->tops.size, sizeof(struct fb_transport_ops));
	CHECK(s->tops.dax_unmap == fake_unmap);
	/* size 0: the 1.0 table, all of it */
	longer.v.size = 0;
	fb_server_set_transport(s, &longer.v, NULL);
	CHECK(s->tops.dax_unmap == fake_unmap);
	fb_server_free(s);
	free(t);
}

TEST_MAIN()
