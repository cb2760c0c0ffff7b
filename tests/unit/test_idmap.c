/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * ID maps: the rules of fb_idmap_check(), the lookups of src/fs/passthrough/idmap.c, and the
 * passthrough applying a map (caller's credentials and chown targets guest to host, reported
 * owners host to guest, forbidden ids -EPERM). Tests that switch credentials need root.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/fs.h>
#include <fuse_backend/passthrough.h>

#include "fs/passthrough/passthrough_i.h"
#include "harness.h"

#define R(k, f, t, n) ((struct fb_idmap_range){FB_IDMAP_##k, (f), (t), (n)})

static const struct fb_fs_ops *ops = &fb_passthrough_ops;
static char base[256];
static char src[512];

/* ---- rules ---------------------------------------------------------------------------------- */

TEST(check_accepts_each_kind_and_the_edges)
{
	struct fb_idmap_range m[] = {
		R(GUEST, 1000, 2000, 10),
		R(HOST, 5000, 7000, 10),
		R(SQUASH_GUEST, 100000, 65534, 65536),
		R(SQUASH_HOST, 200000, 65534, 65536),
		R(FORBID_GUEST, 1010, 0, 90), /* right after the guest range: no overlap */
		R(MAP, 300000, 400000, 100),
	};
	CHECK_EQ(fb_idmap_check(m, 6, NULL, NULL), 0);
	CHECK_EQ(fb_idmap_check(NULL, 0, NULL, NULL), 0);

	/* from + count may reach 4294967295 but not pass it: the last id is never covered */
	struct fb_idmap_range all = R(SQUASH_GUEST, 0, 1000, 4294967295u);
	CHECK_EQ(fb_idmap_check(&all, 1, NULL, NULL), 0);
	all = R(FORBID_GUEST, 1, 0, 4294967295u);
	CHECK_ERR(fb_idmap_check(&all, 1, NULL, NULL), -EINVAL);
	all = R(FORBID_GUEST, 4294967294u, 0, 1);
	CHECK_EQ(fb_idmap_check(&all, 1, NULL, NULL), 0);
	all = R(FORBID_GUEST, 4294967295u, 0, 1);
	CHECK_ERR(fb_idmap_check(&all, 1, NULL, NULL), -EINVAL);
	/* a squash target is one id: any value; a 1:1 target range must fit too */
	all = R(SQUASH_HOST, 0, 4294967295u, 10);
	CHECK_EQ(fb_idmap_check(&all, 1, NULL, NULL), 0);
	all = R(GUEST, 0, 4294967290u, 5);
	CHECK_EQ(fb_idmap_check(&all, 1, NULL, NULL), 0);
	all = R(GUEST, 0, 4294967290u, 6);
	CHECK_ERR(fb_idmap_check(&all, 1, NULL, NULL), -EINVAL);
	all = R(MAP, 0, 4294967291u, 5);
	CHECK_ERR(fb_idmap_check(&all, 1, NULL, NULL), -EINVAL);
	all = R(HOST, 0, 4294967291u, 5);
	CHECK_ERR(fb_idmap_check(&all, 1, NULL, NULL), -EINVAL);
}

TEST(check_refuses_bad_entries_and_names_them)
{
	uint32_t bad = 99, other = 99;
	struct fb_idmap_range m[] = {R(GUEST, 0, 0, 1), R(MAP, 5, 6, 0)};

	CHECK_ERR(fb_idmap_check(m, 2, &bad, &other), -EINVAL); /* count 0 */
	CHECK_EQ(bad, 1);
	CHECK_EQ(other, 1);
	m[1] = (struct fb_idmap_range){(enum fb_idmap_kind)6, 5, 6, 1};
	CHECK_ERR(fb_idmap_check(m, 2, &bad, &other), -EINVAL); /* unknown kind */
	CHECK_EQ(bad, 1);
	CHECK_ERR(fb_idmap_check(NULL, 1, &bad, &other), -EINVAL);
}

TEST(check_refuses_overlaps_in_one_direction_only)
{
	uint32_t bad, other;

	/* guest side: guest, squash-guest, forbid-guest and map's guest range share a table */
	struct fb_idmap_range a[] = {R(FORBID_GUEST, 0, 0, 1000), R(MAP, 1000, 1000, 1),
				     R(FORBID_GUEST, 1001, 0, 999), R(MAP, 2000, 2000, 1)};
	CHECK_EQ(fb_idmap_check(a, 4, NULL, NULL), 0);
	/* The Incus report: forbid-guest:1001:1999 reaches 3000, over map:2000 */
	a[2].count = 1999;
	CHECK_ERR(fb_idmap_check(a, 4, &bad, &other), -EINVAL);
	CHECK_EQ(bad, 3);
	CHECK_EQ(other, 2);
	/* forbid-guest:0:1001 covers 1000, the map's guest id */
	struct fb_idmap_range b[] = {R(FORBID_GUEST, 0, 0, 1001), R(MAP, 1000, 1000, 1)};
	CHECK_ERR(fb_idmap_check(b, 2, &bad, &other), -EINVAL);
	CHECK_EQ(bad, 1);
	CHECK_EQ(other, 0);
	struct fb_idmap_range c[] = {R(GUEST, 10, 0, 10), R(SQUASH_GUEST, 19, 5, 1)};
	CHECK_ERR(fb_idmap_check(c, 2, NULL, NULL), -EINVAL);

	/* host side: host, squash-host and map's host range */
	struct fb_idmap_range d[] = {R(MAP, 0, 1000, 10), R(SQUASH_HOST, 1009, 0, 1)};
	CHECK_ERR(fb_idmap_check(d, 2, &bad, &other), -EINVAL);
	CHECK_EQ(bad, 1);
	CHECK_EQ(other, 0);
	struct fb_idmap_range e[] = {R(HOST, 50, 0, 10), R(HOST, 40, 0, 11)};
	CHECK_ERR(fb_idmap_check(e, 2, NULL, NULL), -EINVAL);
	e[1].count = 10;
	CHECK_EQ(fb_idmap_check(e, 2, NULL, NULL), 0);

	/* The same numbers in the two directions do not clash */
	struct fb_idmap_range f[] = {R(SQUASH_GUEST, 0, 1000, 65536), R(SQUASH_HOST, 0, 0, 65536),
				     R(GUEST, 70000, 0, 5), R(HOST, 70000, 0, 5)};
	CHECK_EQ(fb_idmap_check(f, 4, NULL, NULL), 0);
	/* but map occupies both */
	struct fb_idmap_range g[] = {R(HOST, 2000, 0, 1), R(MAP, 1000, 2000, 1)};
	CHECK_ERR(fb_idmap_check(g, 2, &bad, &other), -EINVAL);
	CHECK_EQ(bad, 1);
	CHECK_EQ(other, 0);
}

/* ---- lookups -------------------------------------------------------------------------------- */

static uint32_t to_host(const struct fb__pt_idmap *m, uint32_t id)
{
	uint32_t h = 0xdeadbeef;

	return fb__pt_idmap_to_host(m, id, &h) < 0 ? 0xeeeeeeee : h;
}

TEST(each_kind_maps_its_direction_only)
{
	struct fb_idmap_range in[] = {
		R(GUEST, 1000, 2000, 10),
		R(HOST, 5000, 7000, 10),
		R(SQUASH_GUEST, 100000, 65534, 100),
		R(SQUASH_HOST, 200000, 65533, 100),
		R(FORBID_GUEST, 3000, 0, 10),
		R(MAP, 300000, 400000, 100),
	};
	struct fb__pt_idmap m;
	uint32_t h;

	CHECK_EQ(fb__pt_idmap_init(&m, in, 6), 0);
	CHECK(m.set);
	/* guest: */
	CHECK_EQ(to_host(&m, 1000), 2000);
	CHECK_EQ(to_host(&m, 1009), 2009);
	CHECK_EQ(to_host(&m, 1010), 1010); /* one past: itself */
	CHECK_EQ(to_host(&m, 999), 999);
	CHECK_EQ(fb__pt_idmap_to_guest(&m, 2000), 2000); /* no way back */
	/* host: */
	CHECK_EQ(fb__pt_idmap_to_guest(&m, 5000), 7000);
	CHECK_EQ(fb__pt_idmap_to_guest(&m, 5009), 7009);
	CHECK_EQ(fb__pt_idmap_to_guest(&m, 5010), 5010);
	CHECK_EQ(to_host(&m, 7000), 7000);
	/* squash-guest: */
	CHECK_EQ(to_host(&m, 100000), 65534);
	CHECK_EQ(to_host(&m, 100099), 65534);
	CHECK_EQ(to_host(&m, 100100), 100100);
	CHECK_EQ(fb__pt_idmap_to_guest(&m, 65534), 65534);
	/* squash-host: */
	CHECK_EQ(fb__pt_idmap_to_guest(&m, 200000), 65533);
	CHECK_EQ(fb__pt_idmap_to_guest(&m, 200099), 65533);
	CHECK_EQ(fb__pt_idmap_to_guest(&m, 199999), 199999);
	/* forbid-guest: */
	CHECK_ERR(fb__pt_idmap_to_host(&m, 3000, &h), -EPERM);
	CHECK_ERR(fb__pt_idmap_to_host(&m, 3009, &h), -EPERM);
	CHECK_EQ(to_host(&m, 3010), 3010);
	CHECK_EQ(to_host(&m, 2999), 2999);
	CHECK_EQ(fb__pt_idmap_to_guest(&m, 3000), 3000); /* forbids nothing host-side */
	/* map: both ways */
	CHECK_EQ(to_host(&m, 300042), 400042);
	CHECK_EQ(fb__pt_idmap_to_guest(&m, 400042), 300042);
	CHECK_EQ(to_host(&m, 400042), 400042);
	CHECK_EQ(fb__pt_idmap_to_guest(&m, 300042), 300042);
	/* uncovered ids, the extremes included, are themselves */
	CHECK_EQ(to_host(&m, 0), 0);
	CHECK_EQ(fb__pt_idmap_to_guest(&m, 0), 0);
	CHECK_EQ(to_host(&m, 4294967295u), 4294967295u);
	CHECK_EQ(fb__pt_idmap_to_guest(&m, 4294967295u), 4294967295u);
	fb__pt_idmap_done(&m);

	/* an empty map is no map */
	CHECK_EQ(fb__pt_idmap_init(&m, NULL, 0), 0);
	CHECK(!m.set);
	CHECK_EQ(to_host(&m, 5), 5);
	fb__pt_idmap_done(&m);
	/* a bad one is refused */
	CHECK_ERR(fb__pt_idmap_init(&m, (struct fb_idmap_range[]){R(GUEST, 0, 0, 0)}, 1), -EINVAL);
	fb__pt_idmap_done(&m);
}

TEST(edges_and_many_ranges)
{
	struct fb_idmap_range in[40];
	struct fb__pt_idmap m;

	/* the whole space but the last id, squashed */
	in[0] = R(SQUASH_GUEST, 0, 1234, 4294967295u);
	CHECK_EQ(fb__pt_idmap_init(&m, in, 1), 0);
	CHECK_EQ(to_host(&m, 0), 1234);
	CHECK_EQ(to_host(&m, 4294967294u), 1234);
	CHECK_EQ(to_host(&m, 4294967295u), 4294967295u);
	fb__pt_idmap_done(&m);

	/* the top range, 1:1 */
	in[0] = R(MAP, 4294967290u, 10, 5);
	CHECK_EQ(fb__pt_idmap_init(&m, in, 1), 0);
	CHECK_EQ(to_host(&m, 4294967294u), 14);
	CHECK_EQ(fb__pt_idmap_to_guest(&m, 14), 4294967294u);
	CHECK_EQ(to_host(&m, 4294967289u), 4294967289u);
	fb__pt_idmap_done(&m);

	/* 40 ranges given in reverse order: the lookup still finds each (sorted tables) */
	for (int i = 0; i < 40; i++)
		in[i] = R(GUEST, (uint32_t)(39 - i) * 100, (uint32_t)(39 - i) * 1000 + 7, 50);
	CHECK_EQ(fb__pt_idmap_init(&m, in, 40), 0);
	for (uint32_t k = 0; k < 40; k++) {
		CHECK_EQ(to_host(&m, k * 100), k * 1000 + 7);
		CHECK_EQ(to_host(&m, k * 100 + 49), k * 1000 + 7 + 49);
		CHECK_EQ(to_host(&m, k * 100 + 50), k * 100 + 50);
	}
	fb__pt_idmap_done(&m);
}

/* ---- the passthrough with a map ------------------------------------------------------------- */

static int setup(void)
{
	snprintf(base, sizeof(base), "/tmp/fb-idmap-unit-XXXXXX");
	if (!mkdtemp(base))
		return 1;
	chmod(base, 0755);
	snprintf(src, sizeof(src), "%s/src", base);
	return 0;
}

static int teardown(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : 1;
}
TEST_SETUP(setup)
TEST_TEARDOWN(teardown)

/* A fresh, world-writable source and an instance with these maps. */
static struct fb_passthrough *mapped(const struct fb_idmap_range *u, uint32_t nu,
				     const struct fb_idmap_range *g, uint32_t ng)
{
	struct fb_passthrough_config cfg;
	struct fb_passthrough *pt = NULL;
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", src);
	if (system(cmd) != 0 || mkdir(src, 0777) < 0 || chmod(src, 0777) < 0)
		return NULL;
	fb_passthrough_config_init(&cfg);
	cfg.source = src;
	cfg.uid_map = u;
	cfg.nuid_map = nu;
	cfg.gid_map = g;
	cfg.ngid_map = ng;
	if (fb_passthrough_new(&cfg, &pt) < 0)
		return NULL;
	return pt;
}

static int host_stat(const char *name, struct stat *st)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", src, name);
	return lstat(p, st);
}

static void put(const char *name, mode_t mode, uid_t uid, gid_t gid)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", src, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return;
	if (write(fd, "data", 4) != 4)
		perror("write");
	fchmod(fd, mode);
	if (fchown(fd, uid, gid) < 0 && geteuid() == 0)
		perror("fchown");
	close(fd);
}

TEST(create_as_mapped_guest_is_owned_by_the_host_id)
{
	if (geteuid() != 0)
		SKIP("needs root");
	struct fb_idmap_range u = R(MAP, 1000, 2000, 1), g = R(MAP, 1000, 3000, 1);
	struct fb_passthrough *pt = mapped(&u, 1, &g, 1);
	struct fb_ctx guest = {.uid = 1000, .gid = 1000, .umask = 022};
	struct fb_file_info fi;
	struct fb_entry e, d;
	struct stat st, a;
	double t;
	CHECK(pt);

	CHECK_EQ(ops->create(pt, &guest, FB_ROOT_ID, "f", 0644, O_RDWR | O_CREAT, &e, &fi), 0);
	ops->release(pt, &guest, e.ino, fi.fh, O_RDWR, 0, 0);
	CHECK_OK(host_stat("f", &st));
	CHECK_EQ(st.st_uid, 2000);
	CHECK_EQ(st.st_gid, 3000);
	CHECK_EQ(e.attr.st_uid, 1000); /* the reply speaks guest ids */
	CHECK_EQ(e.attr.st_gid, 1000);
	CHECK_EQ(ops->getattr(pt, &guest, e.ino, NULL, &a, &t), 0);
	CHECK_EQ(a.st_uid, 1000);
	CHECK_EQ(a.st_gid, 1000);
	struct statx sx;
	CHECK_EQ(ops->statx(pt, &guest, e.ino, NULL, 0, STATX_BASIC_STATS, &sx, &t), 0);
	CHECK_EQ(sx.stx_uid, 1000);
	CHECK_EQ(sx.stx_gid, 1000);
	CHECK_EQ(ops->mkdir(pt, &guest, FB_ROOT_ID, "d", 0755, &d), 0);
	CHECK_OK(host_stat("d", &st));
	CHECK_EQ(st.st_uid, 2000);
	CHECK_EQ(d.attr.st_uid, 1000);
	/* a file the host made for uid 2000 looks like guest 1000's on lookup */
	put("h", 0644, 2000, 3000);
	CHECK_EQ(ops->lookup(pt, &guest, FB_ROOT_ID, "h", &e), 0);
	CHECK_EQ(e.attr.st_uid, 1000);
	CHECK_EQ(e.attr.st_gid, 1000);
	/* unmapped ids pass as they are */
	put("r", 0644, 0, 0);
	CHECK_EQ(ops->lookup(pt, &guest, FB_ROOT_ID, "r", &e), 0);
	CHECK_EQ(e.attr.st_uid, 0);
	fb_passthrough_free(pt);

	/* guest: is one way: the host id comes back as itself */
	u = R(GUEST, 1000, 2000, 1);
	pt = mapped(&u, 1, NULL, 0);
	CHECK(pt);
	CHECK_EQ(ops->create(pt, &guest, FB_ROOT_ID, "f", 0644, O_RDWR | O_CREAT, &e, &fi), 0);
	ops->release(pt, &guest, e.ino, fi.fh, O_RDWR, 0, 0);
	CHECK_OK(host_stat("f", &st));
	CHECK_EQ(st.st_uid, 2000);
	CHECK_EQ(st.st_gid, 1000);
	CHECK_EQ(e.attr.st_uid, 2000);
	fb_passthrough_free(pt);
}

TEST(squash_guest_root_and_squash_host)
{
	if (geteuid() != 0)
		SKIP("needs root");
	/* every guest id below 65536 is host 4242 ; every host id below 65536 shows as 65534 */
	struct fb_idmap_range u[] = {R(SQUASH_GUEST, 0, 4242, 65536),
				     R(SQUASH_HOST, 0, 65534, 65536)};
	struct fb_passthrough *pt = mapped(u, 2, u, 2);
	struct fb_ctx root = {.uid = 0, .gid = 0, .umask = 022};
	struct fb_file_info fi;
	struct fb_entry e;
	struct stat st;
	CHECK(pt);

	CHECK_EQ(ops->create(pt, &root, FB_ROOT_ID, "f", 0600, O_RDWR | O_CREAT, &e, &fi), 0);
	ops->release(pt, &root, e.ino, fi.fh, O_RDWR, 0, 0);
	CHECK_OK(host_stat("f", &st));
	CHECK_EQ(st.st_uid, 4242); /* guest root is no host root */
	CHECK_EQ(st.st_gid, 4242);
	CHECK_EQ(e.attr.st_uid, 65534);
	/* and has no root powers: a host root file of mode 0600 is closed to it */
	put("secret", 0600, 0, 0);
	CHECK_EQ(ops->lookup(pt, &root, FB_ROOT_ID, "secret", &e), 0);
	CHECK_ERR(ops->open(pt, &root, e.ino, O_RDONLY, &fi), -EACCES);
	fb_passthrough_free(pt);
}

TEST(forbidden_guest_ids_get_eperm)
{
	/* needs no root: the map is applied whether or not credentials are switched */
	struct fb_idmap_range u[] = {R(FORBID_GUEST, 3000, 0, 10), R(MAP, 1000, 2000, 1)};
	struct fb_idmap_range g = R(FORBID_GUEST, 5000, 0, 1);
	struct fb_passthrough *pt = mapped(u, 2, &g, 1);
	struct fb_ctx bad_uid = {.uid = 3005, .gid = 100, .umask = 022};
	struct fb_ctx bad_gid = {.uid = 1000, .gid = 5000, .umask = 022};
	struct fb_ctx no_uid = {.uid = (uint32_t)-1, .gid = 100, .umask = 022};
	struct fb_ctx root = {.uid = 0, .gid = 0, .umask = 022};
	struct fb_file_info fi;
	struct fb_entry e;
	struct stat in = {0}, out, st;
	double t;
	CHECK(pt);

	CHECK_ERR(ops->create(pt, &bad_uid, FB_ROOT_ID, "f", 0644, O_RDWR | O_CREAT, &e, &fi),
		  -EPERM);
	CHECK_ERR(ops->mkdir(pt, &bad_gid, FB_ROOT_ID, "d", 0755, &e), -EPERM);
	CHECK_ERR(ops->mkdir(pt, &no_uid, FB_ROOT_ID, "d", 0755, &e), -EPERM);
	CHECK_ERR(host_stat("f", &st), -ENOENT);
	CHECK_ERR(host_stat("d", &st), -ENOENT);

	/* chown to a forbidden id, as root */
	CHECK_EQ(ops->mkdir(pt, &root, FB_ROOT_ID, "d", 0755, &e), 0);
	in.st_uid = 3009;
	CHECK_ERR(ops->setattr(pt, &root, e.ino, &in, FB_FATTR_UID, NULL, &out, &t), -EPERM);
	in.st_gid = 5000;
	CHECK_ERR(ops->setattr(pt, &root, e.ino, &in, FB_FATTR_GID, NULL, &out, &t), -EPERM);
	CHECK_OK(host_stat("d", &st));
	CHECK_EQ(st.st_uid, geteuid());
	fb_passthrough_free(pt);
}

TEST(chown_to_a_mapped_id)
{
	if (geteuid() != 0)
		SKIP("needs root");
	struct fb_idmap_range u = R(MAP, 1000, 2000, 10), g = R(GUEST, 100, 300, 1);
	struct fb_passthrough *pt = mapped(&u, 1, &g, 1);
	struct fb_ctx root = {.uid = 0, .gid = 0, .umask = 022};
	struct fb_entry e;
	struct stat in = {.st_uid = 1003, .st_gid = 100}, out, st;
	double t;
	CHECK(pt);

	put("f", 0644, 0, 0);
	CHECK_EQ(ops->lookup(pt, &root, FB_ROOT_ID, "f", &e), 0);
	CHECK_EQ(ops->setattr(pt, &root, e.ino, &in, FB_FATTR_UID | FB_FATTR_GID, NULL, &out, &t),
		 0);
	CHECK_OK(host_stat("f", &st));
	CHECK_EQ(st.st_uid, 2003);
	CHECK_EQ(st.st_gid, 300);
	CHECK_EQ(out.st_uid, 1003);
	CHECK_EQ(out.st_gid, 300); /* gid map is guest-to-host only */
	/* uid alone leaves the gid ((gid_t)-1 is never mapped) */
	in.st_uid = 1009;
	CHECK_EQ(ops->setattr(pt, &root, e.ino, &in, FB_FATTR_UID, NULL, &out, &t), 0);
	CHECK_OK(host_stat("f", &st));
	CHECK_EQ(st.st_uid, 2009);
	CHECK_EQ(st.st_gid, 300);
	fb_passthrough_free(pt);
}

TEST(supplementary_groups_are_mapped)
{
	if (geteuid() != 0)
		SKIP("needs root");
	struct fb_idmap_range g[] = {R(GUEST, 4343, 5343, 1), R(FORBID_GUEST, 4444, 0, 1)};
	struct fb_passthrough *pt = mapped(NULL, 0, g, 2);
	uint32_t groups[2] = {4444, 4343}; /* a forbidden one is dropped, not fatal */
	struct fb_ctx other = {.uid = 4242, .gid = 4242, .umask = 022};
	struct fb_file_info fi;
	struct fb_entry e;
	CHECK(pt);

	put("grp", 0640, 0, 5343);
	CHECK_EQ(ops->lookup(pt, &other, FB_ROOT_ID, "grp", &e), 0);
	CHECK_ERR(ops->open(pt, &other, e.ino, O_RDONLY, &fi), -EACCES);
	other.groups = groups;
	other.ngroups = 2;
	CHECK_EQ(ops->open(pt, &other, e.ino, O_RDONLY, &fi), 0);
	ops->release(pt, &other, e.ino, fi.fh, O_RDONLY, 0, 0);
	/* the unmapped group 4343 itself would not do */
	put("raw", 0640, 0, 4343);
	CHECK_EQ(ops->lookup(pt, &other, FB_ROOT_ID, "raw", &e), 0);
	CHECK_ERR(ops->open(pt, &other, e.ino, O_RDONLY, &fi), -EACCES);
	fb_passthrough_free(pt);
}

TEST(reported_owner_without_root)
{
	/* host to guest needs no credentials: the owner of a file of ours is shown mapped */
	uid_t me = geteuid();
	gid_t mg = getegid();
	struct fb_idmap_range u = R(HOST, me, 777, 1), g = R(SQUASH_HOST, mg, 888, 1);
	struct fb_passthrough *pt = mapped(&u, 1, &g, 1);
	struct fb_ctx self = {.uid = me, .gid = mg, .umask = 022};
	struct fb_entry e;
	struct stat a;
	double t;
	CHECK(pt);

	put("f", 0644, me, mg);
	CHECK_EQ(ops->lookup(pt, &self, FB_ROOT_ID, "f", &e), 0);
	CHECK_EQ(e.attr.st_uid, 777);
	CHECK_EQ(e.attr.st_gid, 888);
	CHECK_EQ(ops->getattr(pt, &self, FB_ROOT_ID, NULL, &a, &t), 0);
	CHECK_EQ(a.st_uid, 777);
	fb_passthrough_free(pt);
}

TEST(config_rules)
{
	struct fb_passthrough_config cfg;
	struct fb_passthrough *pt = NULL;
	struct fb_idmap_range u = R(MAP, 0, 1000, 1),
			      bad[2] = {R(GUEST, 0, 5, 10), R(FORBID_GUEST, 9, 0, 1)};

	CHECK(mkdir(src, 0777) == 0 || errno == EEXIST);
	fb_passthrough_config_init(&cfg);
	CHECK_EQ(cfg.size, sizeof(cfg));
	CHECK(!cfg.uid_map && !cfg.nuid_map && !cfg.gid_map && !cfg.ngid_map);
	cfg.source = src;
	/* overlapping entries */
	cfg.uid_map = bad;
	cfg.nuid_map = 2;
	CHECK_ERR(fb_passthrough_new(&cfg, &pt), -EINVAL);
	cfg.nuid_map = 1;
	cfg.gid_map = bad;
	cfg.ngid_map = 2;
	CHECK_ERR(fb_passthrough_new(&cfg, &pt), -EINVAL);
	/* POSIX ACLs hold host ids: no map with them */
	cfg.uid_map = &u;
	cfg.ngid_map = 0;
	cfg.posix_acl = 1;
	CHECK_ERR(fb_passthrough_new(&cfg, &pt), -EINVAL);
	cfg.posix_acl = 0;
	CHECK_EQ(fb_passthrough_new(&cfg, &pt), 0);
	/* a mapped instance never asks for ALLOW_IDMAP (the kernel would hide callers' ids) */
	struct fb_conn conn = {.capable = ~0ULL, .want = FB_ALLOW_IDMAP};
	CHECK_EQ(ops->init(pt, &conn), 0);
	CHECK(!(conn.want & FB_ALLOW_IDMAP));
	fb_passthrough_free(pt);

	/* a size that ends before the maps is below the 1.0 layout (the first stable one, and
	 * the maps are part of it): refused, never read as "no maps" (test_sized covers sizes) */
	cfg.size = offsetof(struct fb_passthrough_config, uid_map);
	CHECK_ERR(fb_passthrough_new(&cfg, &pt), -EINVAL);
}

TEST_MAIN()
