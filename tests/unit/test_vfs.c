/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The VFS in-process: node-id mapping, forget routing, slot bookkeeping, refusals, the pseudo
 * fs's listings, READDIRPLUS translation, INIT negotiation, read-only mounts. A small test
 * double (tfs) records what reaches the backend.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/server.h>
#include <fuse_backend/vfs.h>

#include "api/server_i.h"
#include "harness.h"
#include "fbreq.h"
#include "vfs/vfs_i.h"

/* ---- the test double ---------------------------------------------------------------- */

#define T_FILE 2
#define T_DIR  3
#define T_BIG  ((UINT64_C(1) << 56) + 5) /* does not fit in a node id */
#define T_NINO 4

struct tfs {
	atomic_long nlookup[T_NINO]; /* lookups held on inos 2, 3 (index = ino) */
	atomic_long big_lookups;     /* lookups of T_BIG still held */
	atomic_long forgets;	     /* forget() calls */
	_Atomic uint64_t last_forget_ino, last_forget_n;
	int root_is_file;
	uint64_t init_add;     /* bits init() adds to want when offered */
	uint64_t init_require; /* bits init() adds whatever is offered */
	uint64_t last_capable; /* conn->capable at the last init() */
	int inits, destroys;
	atomic_int *released; /* incremented by the release callback */
	atomic_long writes;
	_Atomic uint64_t last_getattr_ino;
	atomic_long open_handles;		  /* handles from create() not yet released */
	_Atomic uint64_t last_release_ino, last_release_fh;
	atomic_long flushes;
};

static void tfs_stat(fb_ino_t ino, struct stat *st, int root_is_file)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino + 1000;
	st->st_nlink = 1;
	st->st_mode = (ino == FB_FS_ROOT_INO && !root_is_file) || ino == T_DIR ? S_IFDIR | 0755
									       : S_IFREG | 0644;
}

static int tfs_init(void *fs, struct fb_conn *conn)
{
	struct tfs *t = fs;

	t->inits++;
	t->last_capable = conn->capable;
	conn->want |= t->init_add & conn->capable;
	conn->want |= t->init_require;
	return 0;
}

static void tfs_destroy(void *fs)
{
	((struct tfs *)fs)->destroys++;
}

static int tfs_entry(struct tfs *t, fb_ino_t ino, struct fb_entry *out)
{
	memset(out, 0, sizeof(*out));
	out->ino = ino;
	tfs_stat(ino, &out->attr, 0);
	out->entry_timeout = 5;
	out->attr_timeout = 6;
	if (ino == T_BIG)
		atomic_fetch_add(&t->big_lookups, 1);
	else if (ino < T_NINO && ino != FB_FS_ROOT_INO)
		atomic_fetch_add(&t->nlookup[ino], 1);
	return 0;
}

static int tfs_lookup(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		      struct fb_entry *out)
{
	struct tfs *t = fs;

	if (parent != FB_FS_ROOT_INO && parent != T_DIR)
		return -ENOTDIR;
	if (strcmp(name, "f") == 0)
		return tfs_entry(t, T_FILE, out);
	if (strcmp(name, "d") == 0)
		return tfs_entry(t, T_DIR, out);
	if (strcmp(name, "big") == 0)
		return tfs_entry(t, T_BIG, out);
	if (strcmp(name, "..") == 0)
		return tfs_entry(t, FB_FS_ROOT_INO, out);
	return -ENOENT;
}

static void tfs_forget(void *fs, fb_ino_t ino, uint64_t n)
{
	struct tfs *t = fs;

	atomic_fetch_add(&t->forgets, 1);
	t->last_forget_ino = ino;
	t->last_forget_n = n;
	if (ino == T_BIG)
		atomic_fetch_sub(&t->big_lookups, (long)n);
	else if (ino < T_NINO)
		atomic_fetch_sub(&t->nlookup[ino], (long)n);
}

static int tfs_getattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino,
		       const struct fb_file_info *fi, struct stat *out, double *timeout)
{
	struct tfs *t = fs;

	t->last_getattr_ino = ino;
	if (ino >= T_NINO)
		return -ENOENT;
	tfs_stat(ino, out, t->root_is_file);
	*timeout = 7;
	return 0;
}

/* create("f") opens the existing file, create("big") an ino that does not fit a node id. */
static int tfs_create(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		      mode_t mode, int flags, struct fb_entry *out, struct fb_file_info *fi)
{
	struct tfs *t = fs;
	int r = tfs_lookup(fs, ctx, parent, name, out);

	if (r < 0)
		return r;
	fi->fh = 4000 + out->ino % 1000;
	atomic_fetch_add(&t->open_handles, 1);
	return 0;
}

static int tfs_release_op(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int flags,
			  uint32_t release_flags, uint64_t lock_owner)
{
	struct tfs *t = fs;

	t->last_release_ino = ino;
	t->last_release_fh = fh;
	atomic_fetch_sub(&t->open_handles, 1);
	return 0;
}

static int tfs_open(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		    struct fb_file_info *fi)
{
	fi->fh = 77;
	return 0;
}

static int tfs_write(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		     struct fb_reader *r, uint32_t size, uint64_t off, uint32_t wf, int flags)
{
	atomic_fetch_add(&((struct tfs *)fs)->writes, 1);
	return (int)size;
}

static int tfs_mkdir(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		     mode_t mode, struct fb_entry *out)
{
	return tfs_entry(fs, T_DIR, out);
}

static int tfs_rename(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		      fb_ino_t newparent, const char *newname, uint32_t flags)
{
	return 0;
}

static int tfs_readdirplus(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			   uint64_t off, struct fb_dirbuf *buf)
{
	static const char *names[] = {".", "f", "big", "d"};
	static const fb_ino_t inos[] = {0, T_FILE, T_BIG, T_DIR};
	struct tfs *t = fs;

	for (uint64_t i = off; i < 4; i++) {
		struct fb_entry e;
		int r;

		memset(&e, 0, sizeof(e));
		e.ino = inos[i];
		tfs_stat(inos[i] ? inos[i] : FB_FS_ROOT_INO, &e.attr, 0);
		e.entry_timeout = 5;
		e.attr_timeout = 6;
		r = fb_dirbuf_add_plus(buf, names[i], strlen(names[i]), &e, i + 1);
		if (r == -ENOSPC)
			break;
		if (r < 0)
			continue; /* not added: no lookup taken */
		if (inos[i] == T_BIG)
			atomic_fetch_add(&t->big_lookups, 1);
		else if (inos[i])
			atomic_fetch_add(&t->nlookup[inos[i]], 1);
	}
	return 0;
}

static const struct fb_fs_ops tfs_ops = {
	.init = tfs_init,
	.destroy = tfs_destroy,
	.lookup = tfs_lookup,
	.forget = tfs_forget,
	.getattr = tfs_getattr,
	.open = tfs_open,
	.create = tfs_create,
	.release = tfs_release_op,
	.write = tfs_write,
	.mkdir = tfs_mkdir,
	.rename = tfs_rename,
	.readdirplus = tfs_readdirplus,
};

/* destroys of the last tfs released (atomic: slots are released from request threads too) */
static atomic_int last_released_destroys;

static void tfs_release(void *fs, void *priv)
{
	struct tfs *t = fs;

	last_released_destroys = t->destroys;
	if (t->released)
		atomic_fetch_add(t->released, 1);
	free(t);
}

static struct tfs *tfs_new(atomic_int *released)
{
	struct tfs *t = calloc(1, sizeof(*t));

	t->released = released;
	return t;
}

static int mount_tfs(struct fb_vfs *v, const char *path, struct tfs *t, uint32_t flags, int *slot)
{
	struct fb_vfs_mount_opts o = {.flags = flags, .release = tfs_release, .type = "tfs"};

	return fb_vfs_mount(v, path, &tfs_ops, sizeof(tfs_ops), t, &o, slot);
}

static const struct fb_ctx ctx0;

static fb_ino_t lookup_ok(struct fb_vfs *v, fb_ino_t parent, const char *name)
{
	struct fb_entry e;
	int r = fb_vfs_ops.lookup(v, &ctx0, parent, name, &e);

	return r == 0 ? e.ino : 0;
}

/* ---- tests -------------------------------------------------------------------------- */

TEST(mapping_round_trip_each_slot)
{
	struct fb_vfs *v;
	atomic_int released = 0;
	char path[32];

	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	for (int i = 1; i <= 5; i++) {
		int slot = 0;

		snprintf(path, sizeof(path), "/m%d", i);
		CHECK_EQ(mount_tfs(v, path, tfs_new(&released), 0, &slot), 0);
		CHECK_EQ(slot, i);
	}
	for (int i = 1; i <= 5; i++) {
		struct fb__vslot *s = v->slots[i];
		struct tfs *t = s->fs;
		fb_ino_t mp, f, node;
		struct stat st;
		double to;

		snprintf(path, sizeof(path), "m%d", i);
		mp = lookup_ok(v, FB_ROOT_ID, path);
		CHECK(mp != 0);
		CHECK_EQ(mp >> 56, 0); /* the mount point is a pseudo node id */
		CHECK_EQ(mp, s->mp->ino);
		/* The backend's root under the mount point's id, both ways. */
		CHECK_EQ(fb_vfs_ino_to_node(v, i, FB_FS_ROOT_INO, &node), 0);
		CHECK_EQ(node, mp);
		CHECK_EQ(fb_vfs_ops.getattr(v, &ctx0, mp, NULL, &st, &to), 0);
		CHECK_EQ(t->last_getattr_ino, FB_FS_ROOT_INO);
		/* st_ino: the backend's with the slot XORed into the top bits (docs/vfs.md) */
		CHECK_EQ(st.st_ino, ((uint64_t)i << 56) ^ 1001);
		f = lookup_ok(v, mp, "f");
		CHECK_EQ(f, ((fb_ino_t)i << 56) | T_FILE);
		CHECK_EQ(fb_vfs_ino_to_node(v, i, T_FILE, &node), 0);
		CHECK_EQ(node, f);
		CHECK_EQ(fb_vfs_ops.getattr(v, &ctx0, f, NULL, &st, &to), 0);
		CHECK_EQ(t->last_getattr_ino, T_FILE);
		CHECK_EQ(st.st_ino, ((uint64_t)i << 56) ^ (1000 + T_FILE));
		CHECK_EQ(atomic_load(&t->nlookup[T_FILE]), 1);
	}
	CHECK_EQ(fb_vfs_ino_to_node(v, 1, UINT64_C(1) << 56, &(fb_ino_t){0}), -EOVERFLOW);
	CHECK_EQ(fb_vfs_ino_to_node(v, 9, 5, &(fb_ino_t){0}), -ENOENT);
	/* The largest ino that fits maps, and is routed back unchanged. */
	CHECK_EQ(fb_vfs_ino_to_node(v, 255, 5, &(fb_ino_t){0}), -ENOENT);
	fb_vfs_free(v);
	CHECK_EQ(released, 5);
}

/* statx of a pseudo directory says what getattr says (one stat -> statx conversion). */
TEST(pseudo_statx_matches_getattr)
{
	struct fb_vfs *v;
	struct statx sx;
	struct stat st;
	double to;

	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	CHECK_EQ(fb_vfs_ops.getattr(v, &ctx0, FB_ROOT_ID, NULL, &st, &to), 0);
	CHECK_EQ(fb_vfs_ops.statx(v, &ctx0, FB_ROOT_ID, NULL, 0, STATX_BASIC_STATS, &sx, &to), 0);
	CHECK_EQ(sx.stx_mask & STATX_BASIC_STATS, STATX_BASIC_STATS);
	CHECK_EQ(sx.stx_ino, st.st_ino);
	CHECK_EQ(sx.stx_mode, st.st_mode);
	CHECK_EQ(sx.stx_nlink, st.st_nlink);
	CHECK_EQ(sx.stx_uid, st.st_uid);
	CHECK_EQ(sx.stx_gid, st.st_gid);
	CHECK_EQ(sx.stx_size, (uint64_t)st.st_size);
	CHECK_EQ(sx.stx_mtime.tv_sec, st.st_mtim.tv_sec);
	CHECK_EQ(sx.stx_mtime.tv_nsec, (uint32_t)st.st_mtim.tv_nsec);
	CHECK_EQ(sx.stx_ctime.tv_sec, st.st_ctim.tv_sec);
	fb_vfs_free(v);
}

TEST(overflowing_ino_refused_and_given_back)
{
	struct fb_vfs *v;
	struct tfs *t = tfs_new(NULL);
	struct fb_entry e;
	fb_ino_t mp;

	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	CHECK_EQ(mount_tfs(v, "/a", t, 0, NULL), 0);
	mp = lookup_ok(v, FB_ROOT_ID, "a");
	CHECK_EQ(fb_vfs_ops.lookup(v, &ctx0, mp, "big", &e), -EOVERFLOW);
	CHECK_EQ(atomic_load(&t->big_lookups), 0);
	CHECK_EQ(t->last_forget_ino, T_BIG);
	CHECK_EQ(t->last_forget_n, 1);
	/* The slot counts nothing for it: mount reference only. */
	CHECK_EQ(fb__vfs_slot_refs(v, 1), 1);
	fb_vfs_free(v);
}

TEST(created_file_that_cannot_be_mapped_is_closed_and_forgotten)
{
	struct fb_vfs *v;
	struct tfs *t = tfs_new(NULL);
	struct fb_file_info fi = {0};
	struct fb_entry e;
	fb_ino_t mp;

	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	CHECK_EQ(mount_tfs(v, "/a", t, 0, NULL), 0);
	mp = lookup_ok(v, FB_ROOT_ID, "a");
	/* A file that fits is created, mapped into the slot, and keeps its handle open. */
	CHECK_EQ(fb_vfs_ops.create(v, &ctx0, mp, "f", 0644, O_RDWR | O_CREAT, &e, &fi), 0);
	CHECK_EQ(e.ino, ((fb_ino_t)1 << 56) | T_FILE);
	CHECK_EQ(fi.fh, 4000 + T_FILE);
	CHECK_EQ(atomic_load(&t->open_handles), 1);
	/* One that does not: EOVERFLOW, its handle released and its lookup given back. */
	CHECK_EQ(fb_vfs_ops.create(v, &ctx0, mp, "big", 0644, O_RDWR | O_CREAT, &e, &fi), -EOVERFLOW);
	CHECK_EQ(atomic_load(&t->open_handles), 1);
	CHECK_EQ(t->last_release_ino, T_BIG);
	CHECK_EQ(t->last_release_fh, 4000 + T_BIG % 1000);
	CHECK_EQ(atomic_load(&t->big_lookups), 0);
	CHECK_EQ(t->last_forget_ino, T_BIG);
	fb_vfs_free(v);
}

static int tfs_flush(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		     uint64_t lock_owner)
{
	atomic_fetch_add(&((struct tfs *)fs)->flushes, 1);
	return 0;
}

/*
 * FOPEN_NOFLUSH is per backend: opens of one without flush() carry it, a FLUSH that comes
 * anyway (writeback cache) is answered 0 for it, not ENOSYS (which would stop FLUSH for every
 * backend), and a backend with flush() gets its opens unchanged and its FLUSHes.
 */
/* A backend without xattrs answers EOPNOTSUPP, not ENOSYS, which the kernel would remember
 * for every backend of the mount. */
TEST(xattrs_missing_in_one_backend_do_not_answer_enosys)
{
	struct fb_vfs *v;
	struct tfs *a = tfs_new(NULL);
	char buf[64];
	fb_ino_t ma, fa;

	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	CHECK_EQ(mount_tfs(v, "/a", a, 0, NULL), 0);
	ma = lookup_ok(v, FB_ROOT_ID, "a");
	fa = lookup_ok(v, ma, "f");
	CHECK(!tfs_ops.getxattr && !tfs_ops.setxattr && !tfs_ops.listxattr && !tfs_ops.removexattr);
	CHECK_EQ(fb_vfs_ops.getxattr(v, &ctx0, fa, "user.a", buf, sizeof(buf)), -EOPNOTSUPP);
	CHECK_EQ(fb_vfs_ops.listxattr(v, &ctx0, fa, buf, sizeof(buf)), -EOPNOTSUPP);
	CHECK_EQ(fb_vfs_ops.setxattr(v, &ctx0, fa, "user.a", "b", 1, 0, 0), -EOPNOTSUPP);
	CHECK_EQ(fb_vfs_ops.removexattr(v, &ctx0, fa, "user.a"), -EOPNOTSUPP);
	/* The VFS's own directories: no xattrs there. */
	CHECK_EQ(fb_vfs_ops.getxattr(v, &ctx0, FB_ROOT_ID, "user.a", buf, sizeof(buf)), -ENODATA);
	fb_vfs_free(v);
}

TEST(flush_is_per_backend)
{
	struct fb_vfs *v;
	struct tfs *a = tfs_new(NULL), *b = tfs_new(NULL);
	struct fb_fs_ops with_flush = tfs_ops;
	struct fb_vfs_mount_opts o = {.release = tfs_release, .type = "tfs"};
	struct fb_file_info fi = {0};
	struct fb_entry e;
	fb_ino_t ma, mb, fa, fb;

	with_flush.flush = tfs_flush;
	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	CHECK_EQ(mount_tfs(v, "/a", a, 0, NULL), 0);
	CHECK_EQ(fb_vfs_mount(v, "/b", &with_flush, sizeof(with_flush), b, &o, NULL), 0);
	ma = lookup_ok(v, FB_ROOT_ID, "a");
	mb = lookup_ok(v, FB_ROOT_ID, "b");
	fa = lookup_ok(v, ma, "f");
	fb = lookup_ok(v, mb, "f");

	CHECK_EQ(fb_vfs_ops.open(v, &ctx0, fa, O_RDWR, &fi), 0);
	CHECK(fi.open_flags & FB_FOPEN_NOFLUSH);
	fi = (struct fb_file_info){0};
	CHECK_EQ(fb_vfs_ops.create(v, &ctx0, ma, "f", 0644, O_RDWR | O_CREAT, &e, &fi), 0);
	CHECK(fi.open_flags & FB_FOPEN_NOFLUSH);
	CHECK_EQ(fb_vfs_ops.flush(v, &ctx0, fa, 77, 0), 0);

	fi = (struct fb_file_info){0};
	CHECK_EQ(fb_vfs_ops.open(v, &ctx0, fb, O_RDWR, &fi), 0);
	CHECK(!(fi.open_flags & FB_FOPEN_NOFLUSH));
	fi = (struct fb_file_info){0};
	CHECK_EQ(fb_vfs_ops.create(v, &ctx0, mb, "f", 0644, O_RDWR | O_CREAT, &e, &fi), 0);
	CHECK(!(fi.open_flags & FB_FOPEN_NOFLUSH));
	CHECK_EQ(fb_vfs_ops.flush(v, &ctx0, fb, 77, 0), 0);
	CHECK_EQ(atomic_load(&b->flushes), 1);
	CHECK_EQ(atomic_load(&a->flushes), 0);
	fb_vfs_free(v);
}

TEST(forget_reaches_backend_unmapped)
{
	struct fb_vfs *v;
	struct tfs *t = tfs_new(NULL);
	fb_ino_t mp, f, d, f2;

	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	CHECK_EQ(mount_tfs(v, "/x/y", t, 0, NULL), 0);
	mp = lookup_ok(v, lookup_ok(v, FB_ROOT_ID, "x"), "y");
	f = lookup_ok(v, mp, "f");
	f2 = lookup_ok(v, mp, "f");
	d = lookup_ok(v, mp, "d");
	CHECK_EQ(f, f2);
	CHECK_EQ(fb__vfs_slot_refs(v, 1), 1 + 3);
	fb_vfs_ops.forget(v, f, 2);
	CHECK_EQ(t->last_forget_ino, T_FILE);
	CHECK_EQ(t->last_forget_n, 2);
	CHECK_EQ(atomic_load(&t->nlookup[T_FILE]), 0);
	CHECK_EQ(fb__vfs_slot_refs(v, 1), 1 + 1);
	/* A forget larger than what the kernel holds cannot drive the count below zero. */
	fb_vfs_ops.forget(v, d, 5);
	CHECK_EQ(t->last_forget_ino, T_DIR);
	CHECK_EQ(fb__vfs_slot_refs(v, 1), 1);
	/* The mount point is the backend's root: its forget stays in the pseudo fs. */
	long before = atomic_load(&t->forgets);

	fb_vfs_ops.forget(v, mp, 1);
	CHECK_EQ(atomic_load(&t->forgets), before);
	fb_vfs_free(v);
}

TEST(batch_forget_through_server)
{
	struct fb_vfs *v;
	struct fb_server *s;
	struct tfs *t = tfs_new(NULL);
	struct fbreq q = {0};
	struct fbrep p;
	struct fb_batch_forget_in bf = {.count = 2};
	struct fb_forget_one one[2];
	fb_ino_t mp, f, d;

	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	CHECK_EQ(mount_tfs(v, "/a", t, 0, NULL), 0);
	CHECK_EQ(fb_server_new(&fb_vfs_ops, sizeof(fb_vfs_ops), v, NULL, &s), 0);
	fbrep_init(&p, 0);
	CHECK_EQ(fbreq_init_session(s, 45, FBREQ_ALL_FLAGS, &p), 0);
	mp = lookup_ok(v, FB_ROOT_ID, "a");
	f = lookup_ok(v, mp, "f");
	lookup_ok(v, mp, "f");
	d = lookup_ok(v, mp, "d");
	one[0] = (struct fb_forget_one){.nodeid = f, .nlookup = 2};
	one[1] = (struct fb_forget_one){.nodeid = d, .nlookup = 1};
	fbreq_start(&q, FB_BATCH_FORGET, 9, 0);
	fbreq_put(&q, &bf, sizeof(bf));
	fbreq_put(&q, one, sizeof(one));
	CHECK_EQ(fbreq_send(s, &q, &p), 0);
	CHECK_EQ(atomic_load(&t->forgets), 2);
	CHECK_EQ(atomic_load(&t->nlookup[T_FILE]), 0);
	CHECK_EQ(atomic_load(&t->nlookup[T_DIR]), 0);
	CHECK_EQ(fb__vfs_slot_refs(v, 1), 1);
	fbreq_free(&q);
	fbrep_free(&p);
	fb_server_free(s);
	fb_vfs_free(v);
}

TEST(umount_frees_slot_only_after_forgets)
{
	struct fb_vfs *v;
	atomic_int released = 0;
	int slot = 0;
	struct tfs *t = tfs_new(&released);
	fb_ino_t mp, f;
	struct stat st;
	double to;

	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	CHECK_EQ(fb_vfs_ops.init(v, &(struct fb_conn){.want = 0, .capable = ~0ULL}), 0);
	CHECK_EQ(mount_tfs(v, "/a", t, 0, &slot), 0);
	CHECK_EQ(t->inits, 1);
	mp = lookup_ok(v, FB_ROOT_ID, "a");
	f = lookup_ok(v, mp, "f");
	CHECK_EQ(fb_vfs_umount(v, "/a"), 0);
	CHECK_EQ(fb_vfs_umount(v, "/a"), -ENOENT);
	/* Gone for new lookups, alive for what the kernel holds. */
	CHECK_EQ(fb_vfs_ops.lookup(v, &ctx0, FB_ROOT_ID, "a", &(struct fb_entry){0}), -ENOENT);
	CHECK_EQ(fb_vfs_ops.lookup(v, &ctx0, f, "x", &(struct fb_entry){0}), -ENOENT);
	CHECK_EQ(fb_vfs_ops.getattr(v, &ctx0, f, NULL, &st, &to), 0);
	CHECK_EQ(fb_vfs_list(v, NULL, 0), 0);
	CHECK(fb__vfs_slot_busy(v, slot));
	CHECK_EQ(released, 0);
	/* The mount point reverts to an (empty, unlinked) pseudo directory. */
	CHECK_EQ(fb_vfs_ops.getattr(v, &ctx0, mp, NULL, &st, &to), 0);
	CHECK(S_ISDIR(st.st_mode));
	CHECK_EQ(st.st_ino, mp);
	/* Another mount meanwhile gets another slot. */
	struct tfs *t2 = tfs_new(&released);
	int slot2 = 0;

	CHECK_EQ(mount_tfs(v, "/a", t2, 0, &slot2), 0);
	CHECK(slot2 != slot);
	/* The last forget frees the old backend: destroy, then release. */
	fb_vfs_ops.forget(v, f, 1);
	CHECK(!fb__vfs_slot_busy(v, slot));
	CHECK_EQ(released, 1);
	fb_vfs_ops.forget(v, mp, 1);
	/* The freed slot is reused. */
	CHECK_EQ(fb_vfs_umount(v, "/a"), 0);
	CHECK_EQ(released, 2);
	CHECK_EQ(mount_tfs(v, "/b", tfs_new(&released), 0, &slot2), 0);
	CHECK_EQ(slot2, slot);
	fb_vfs_free(v);
	CHECK_EQ(released, 3);
}

TEST(destroy_runs_before_release)
{
	struct fb_vfs *v;
	atomic_int released = 0;
	struct tfs *t = tfs_new(&released);

	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	CHECK_EQ(fb_vfs_ops.init(v, &(struct fb_conn){.capable = ~0ULL}), 0);
	CHECK_EQ(mount_tfs(v, "/a", t, 0, NULL), 0);
	CHECK_EQ(t->destroys, 0);
	/* No lookups: the slot goes at once. t is freed by then, so check via a second one. */
	CHECK_EQ(fb_vfs_umount(v, "/a"), 0);
	CHECK_EQ(released, 1);
	CHECK(!fb__vfs_slot_busy(v, 1));
	fb_vfs_free(v);
}

TEST(slot_limit_255)
{
	struct fb_vfs *v;
	atomic_int released = 0;
	int slot = 0;
	char path[32];

	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	for (int i = 0; i < FB_VFS_MAX_SLOTS; i++) {
		snprintf(path, sizeof(path), "/d%d/m", i % 7);
		snprintf(path, sizeof(path), "/m%d", i);
		CHECK_EQ(mount_tfs(v, path, tfs_new(&released), 0, &slot), 0);
		CHECK_EQ(slot, i + 1);
	}
	struct tfs *extra = tfs_new(&released);

	CHECK_EQ(mount_tfs(v, "/one-too-many", extra, 0, &slot), -ENOSPC);
	CHECK(strstr(fb_vfs_last_error(), "255") != NULL);
	CHECK_EQ(released, 0); /* a failed mount leaves the backend to the caller */
	CHECK_EQ(fb_vfs_list(v, NULL, 0), 255);
	CHECK_EQ(fb_vfs_umount(v, "/m100"), 0);
	CHECK_EQ(released, 1);
	CHECK_EQ(mount_tfs(v, "/one-too-many", extra, 0, &slot), 0);
	CHECK_EQ(slot, 101);
	fb_vfs_free(v);
	CHECK_EQ(released, 256);
}

TEST(refusals)
{
	struct fb_vfs *v;
	atomic_int released = 0;
	struct tfs *t = tfs_new(&released);

	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	CHECK_EQ(mount_tfs(v, "/a", tfs_new(&released), 0, NULL), 0);
	CHECK_EQ(mount_tfs(v, "/p/q", tfs_new(&released), 0, NULL), 0);
	/* duplicate */
	CHECK_EQ(mount_tfs(v, "/a", t, 0, NULL), -EEXIST);
	CHECK_EQ(mount_tfs(v, "//a/", t, 0, NULL), -EEXIST);
	/* inside another backend */
	CHECK_EQ(mount_tfs(v, "/a/b", t, 0, NULL), -EBUSY);
	CHECK(strstr(fb_vfs_last_error(), "inside the backend mounted at /a") != NULL);
	/* backends below */
	CHECK_EQ(mount_tfs(v, "/p", t, 0, NULL), -EBUSY);
	CHECK_EQ(mount_tfs(v, "/", t, 0, NULL), -EBUSY);
	/* bad paths */
	CHECK_EQ(mount_tfs(v, "rel", t, 0, NULL), -EINVAL);
	CHECK_EQ(mount_tfs(v, "/x/../y", t, 0, NULL), -EINVAL);
	CHECK_EQ(mount_tfs(v, "/x/./y", t, 0, NULL), -EINVAL);
	CHECK_EQ(fb_vfs_umount(v, "/nothing"), -ENOENT);
	/* a backend whose root is not a directory */
	t->root_is_file = 1;
	CHECK_EQ(mount_tfs(v, "/f", t, 0, NULL), -ENOTDIR);
	t->root_is_file = 0;
	/* nothing of the failed attempts is visible */
	CHECK_EQ(lookup_ok(v, FB_ROOT_ID, "f"), 0);
	CHECK_EQ(lookup_ok(v, FB_ROOT_ID, "x"), 0);
	CHECK_EQ(fb_vfs_list(v, NULL, 0), 2);
	CHECK_EQ(released, 0);
	free(t);
	fb_vfs_free(v);
	CHECK_EQ(released, 2);
}

TEST(mount_at_root_replaces_pseudo_root)
{
	struct fb_vfs *v;
	struct tfs *t = tfs_new(NULL);
	struct stat st;
	double to;

	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	CHECK_EQ(mount_tfs(v, "/", t, 0, NULL), 0);
	CHECK_EQ(fb_vfs_ops.getattr(v, &ctx0, FB_ROOT_ID, NULL, &st, &to), 0);
	CHECK_EQ(st.st_ino, (UINT64_C(1) << 56) ^ 1001);
	CHECK_EQ(lookup_ok(v, FB_ROOT_ID, "f"), (UINT64_C(1) << 56) | T_FILE);
	struct tfs *t2 = tfs_new(NULL);

	CHECK_EQ(mount_tfs(v, "/sub", t2, 0, NULL), -EBUSY);
	free(t2);
	CHECK_EQ(fb_vfs_umount(v, "/"), 0);
	CHECK_EQ(fb_vfs_ops.getattr(v, &ctx0, FB_ROOT_ID, NULL, &st, &to), 0);
	CHECK_EQ(st.st_ino, FB_ROOT_ID); /* the pseudo root again */
	fb_vfs_free(v);
}

TEST(dotdot_from_backend_root)
{
	struct fb_vfs *v;
	fb_ino_t x, mp;

	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	CHECK_EQ(mount_tfs(v, "/x/y", tfs_new(NULL), 0, NULL), 0);
	x = lookup_ok(v, FB_ROOT_ID, "x");
	mp = lookup_ok(v, x, "y");
	CHECK_EQ(lookup_ok(v, mp, ".."), x);
	CHECK_EQ(lookup_ok(v, x, ".."), FB_ROOT_ID);
	/* ".." below the root stays in the backend; its answer (ino 1) is the mount point */
	CHECK_EQ(lookup_ok(v, lookup_ok(v, mp, "d"), ".."), mp);
	fb_vfs_free(v);
}

TEST(cross_backend_and_pseudo_writes)
{
	struct fb_vfs *v;
	fb_ino_t a, b;
	struct fb_entry e;

	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	CHECK_EQ(mount_tfs(v, "/a", tfs_new(NULL), 0, NULL), 0);
	CHECK_EQ(mount_tfs(v, "/b", tfs_new(NULL), 0, NULL), 0);
	a = lookup_ok(v, FB_ROOT_ID, "a");
	b = lookup_ok(v, FB_ROOT_ID, "b");
	CHECK_EQ(fb_vfs_ops.rename(v, &ctx0, a, "f", a, "g", 0), 0);
	CHECK_EQ(fb_vfs_ops.rename(v, &ctx0, a, "f", b, "f", 0), -EXDEV);
	CHECK_EQ(fb_vfs_ops.rename(v, &ctx0, a, "f", FB_ROOT_ID, "f", 0), -EROFS);
	CHECK_EQ(fb_vfs_ops.mkdir(v, &ctx0, FB_ROOT_ID, "new", 0755, &e), -EROFS);
	CHECK_EQ(
		fb_vfs_ops.getattr(v, &ctx0, UINT64_C(9) << 56 | 5, NULL, &e.attr, &e.attr_timeout),
		-ESTALE);
	fb_vfs_free(v);
}

TEST(read_only_and_timeouts)
{
	struct fb_vfs *v;
	struct tfs *t = tfs_new(NULL);
	struct fb_vfs_mount_opts o = {
		.flags = FB_VFS_MOUNT_READ_ONLY | FB_VFS_MOUNT_ENTRY_TIMEOUT |
			 FB_VFS_MOUNT_ATTR_TIMEOUT,
		.entry_timeout = 0.25,
		.attr_timeout = 0.5,
		.release = tfs_release,
	};
	struct fb_file_info fi = {0};
	struct fb_entry e;
	struct stat st;
	double to;
	fb_ino_t mp, f;

	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	CHECK_EQ(fb_vfs_mount(v, "/r", &tfs_ops, sizeof(tfs_ops), t, &o, NULL), 0);
	mp = lookup_ok(v, FB_ROOT_ID, "r");
	CHECK_EQ(fb_vfs_ops.lookup(v, &ctx0, mp, "f", &e), 0);
	f = e.ino;
	CHECK(e.entry_timeout == 0.25);
	CHECK(e.attr_timeout == 0.5);
	CHECK_EQ(fb_vfs_ops.getattr(v, &ctx0, f, NULL, &st, &to), 0);
	CHECK(to == 0.5);
	CHECK_EQ(fb_vfs_ops.open(v, &ctx0, f, O_RDONLY, &fi), 0);
	CHECK_EQ(fi.fh, 77);
	CHECK_EQ(fb_vfs_ops.open(v, &ctx0, f, O_RDWR, &fi), -EROFS);
	CHECK_EQ(fb_vfs_ops.open(v, &ctx0, f, O_RDONLY | O_TRUNC, &fi), -EROFS);
	CHECK_EQ(fb_vfs_ops.write(v, &ctx0, f, 77, NULL, 1, 0, 0, 0), -EROFS);
	CHECK_EQ(atomic_load(&t->writes), 0);
	CHECK_EQ(fb_vfs_ops.mkdir(v, &ctx0, mp, "x", 0755, &e), -EROFS);
	CHECK_EQ(fb_vfs_ops.rename(v, &ctx0, mp, "f", mp, "g", 0), -EROFS);
	CHECK_EQ(fb_vfs_ops.setxattr(v, &ctx0, f, "user.a", "b", 1, 0, 0), -EROFS);
	CHECK_EQ(fb_vfs_ops.access(v, &ctx0, f, W_OK), -EROFS);
	fb_vfs_free(v);
}

/* Parse a READDIR / READDIRPLUS reply in @buf (@len bytes): names joined by ',', node ids. */
static void parse_dir(const uint8_t *buf, size_t len, int plus, char *names, size_t size,
		      uint64_t *nodes, int *n)
{
	size_t o = 0;

	names[0] = '\0';
	*n = 0;
	while (o < len) {
		const struct fb_dirent *d;
		uint64_t node = 0;
		size_t rec;

		if (plus) {
			const struct fb_direntplus *dp = (const void *)(buf + o);

			d = &dp->dirent;
			node = dp->entry_out.nodeid;
			rec = FB_DIRENTPLUS_SIZE(dp);
		} else {
			d = (const void *)(buf + o);
			rec = FB_DIRENT_SIZE(d);
		}
		if (names[0])
			strncat(names, ",", size - strlen(names) - 1);
		strncat(names, d->name,
			d->namelen < size - strlen(names) - 1 ? d->namelen
							      : size - strlen(names) - 1);
		nodes[(*n)++] = node;
		o += rec;
	}
}

static size_t list_dir(struct fb_vfs *v, fb_ino_t ino, int plus, uint8_t *mem, size_t size)
{
	struct iovec iov = {mem, size};
	struct fb_writer w;
	struct fb_dirbuf b;
	int r;

	fb_writer_init(&w, &iov, 1);
	fb__dirbuf_init(&b, &w, size, plus, 45);
	r = plus ? fb_vfs_ops.readdirplus(v, &ctx0, ino, 0, 0, &b)
		 : fb_vfs_ops.readdir(v, &ctx0, ino, 0, 0, &b);
	return r < 0 ? 0 : fb_writer_written(&w);
}

TEST(readdir_pseudo_root_lists_mount_points)
{
	struct fb_vfs *v;
	uint8_t mem[4096];
	char names[256];
	uint64_t nodes[16];
	int n;
	size_t len;

	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	CHECK_EQ(mount_tfs(v, "/a", tfs_new(NULL), 0, NULL), 0);
	CHECK_EQ(mount_tfs(v, "/b/c", tfs_new(NULL), 0, NULL), 0);
	len = list_dir(v, FB_ROOT_ID, 0, mem, sizeof(mem));
	parse_dir(mem, len, 0, names, sizeof(names), nodes, &n);
	CHECK_STR(names, ".,..,b,a");
	/* plus: the mount point carries the backend root's attributes under its own id */
	len = list_dir(v, FB_ROOT_ID, 1, mem, sizeof(mem));
	parse_dir(mem, len, 1, names, sizeof(names), nodes, &n);
	CHECK_STR(names, ".,..,b,a");
	CHECK_EQ(nodes[0], 0);
	CHECK_EQ(nodes[3], v->slots[1]->mp->ino);
	CHECK_EQ(atomic_load(&v->slots[1]->mp->nlookup), 1);
	CHECK_EQ(nodes[2], v->slots[2]->mp->parent_ino);
	fb_vfs_umount(v, "/b/c");
	len = list_dir(v, FB_ROOT_ID, 0, mem, sizeof(mem));
	parse_dir(mem, len, 0, names, sizeof(names), nodes, &n);
	CHECK_STR(names, ".,..,a");
	fb_vfs_free(v);
}

TEST(readdirplus_entries_translated)
{
	struct fb_vfs *v;
	struct tfs *t = tfs_new(NULL);
	uint8_t mem[4096];
	char names[256];
	uint64_t nodes[16];
	int n;
	size_t len;
	fb_ino_t mp;

	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	CHECK_EQ(mount_tfs(v, "/a", tfs_new(NULL), 0, NULL), 0);
	CHECK_EQ(mount_tfs(v, "/b", t, 0, NULL), 0);
	mp = lookup_ok(v, FB_ROOT_ID, "b");
	len = list_dir(v, mp, 1, mem, sizeof(mem));
	parse_dir(mem, len, 1, names, sizeof(names), nodes, &n);
	/* "big" cannot be mapped: left out, and the backend took no lookup for it */
	CHECK_STR(names, ".,f,d");
	CHECK_EQ(nodes[0], 0);
	CHECK_EQ(nodes[1], (UINT64_C(2) << 56) | T_FILE);
	CHECK_EQ(nodes[2], (UINT64_C(2) << 56) | T_DIR);
	CHECK_EQ(atomic_load(&t->big_lookups), 0);
	CHECK_EQ(fb__vfs_slot_refs(v, 2), 1 + 2);
	/* and the kernel's forgets of those entries balance */
	fb_vfs_ops.forget(v, nodes[1], 1);
	fb_vfs_ops.forget(v, nodes[2], 1);
	CHECK_EQ(fb__vfs_slot_refs(v, 2), 1);
	CHECK_EQ(atomic_load(&t->nlookup[T_FILE]), 0);
	/* A buffer with room for one entry only: the lookup of the one not added is not kept */
	len = list_dir(v, mp, 1, mem, 200);
	parse_dir(mem, len, 1, names, sizeof(names), nodes, &n);
	CHECK_EQ(n, 1);
	CHECK_EQ(fb__vfs_slot_refs(v, 2), 1);
	fb_vfs_free(v);
}

TEST(init_offers_intersection)
{
	struct fb_vfs *v;
	struct fb_server *s;
	struct tfs *t1 = tfs_new(NULL), *t2 = tfs_new(NULL), *t3 = tfs_new(NULL);
	struct fbrep p;
	const struct fb_conn *c;
	atomic_int released = 0;

	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	t1->init_add = FB_WRITEBACK_CACHE;
	CHECK_EQ(mount_tfs(v, "/a", t1, 0, NULL), 0);
	CHECK_EQ(mount_tfs(v, "/b", t2, 0, NULL), 0);
	CHECK_EQ(fb_server_new(&fb_vfs_ops, sizeof(fb_vfs_ops), v, NULL, &s), 0);
	fb_vfs_set_server(v, s);
	fbrep_init(&p, 0);
	CHECK_EQ(fbreq_init_session(s, 45, FBREQ_ALL_FLAGS, &p), 0);
	c = fb_server_conn(s);
	CHECK(c != NULL);
	CHECK_EQ(c->want & FB_WRITEBACK_CACHE, 0);
	CHECK_EQ(t2->inits, 1);
	/* t1 asked for the writeback cache and did not get it: told so by a second init */
	CHECK_EQ(t1->inits, 2);
	CHECK_EQ(t1->last_capable & FB_WRITEBACK_CACHE, 0);
	CHECK_EQ(t1->last_capable, c->want);
	/* After INIT: init runs at mount; needing more than negotiated is refused. */
	t3->init_require = FB_PASSTHROUGH;
	t3->released = &released;
	CHECK_EQ(mount_tfs(v, "/c", t3, 0, NULL), -EOPNOTSUPP);
	CHECK(strstr(fb_vfs_last_error(), "PASSTHROUGH") != NULL);
	CHECK_EQ(t3->inits, 1);
	CHECK_EQ(t3->destroys, 1);
	CHECK_EQ(t3->last_capable, c->want); /* offered what the session has */
	t3->init_require = 0;
	t3->init_add = FB_PASSTHROUGH; /* wants it if available: it is not, fine */
	CHECK_EQ(mount_tfs(v, "/c", t3, 0, NULL), 0);
	CHECK_EQ(t3->inits, 2);
	fb_vfs_set_server(v, NULL);
	fbrep_free(&p);
	fb_server_free(s);
	fb_vfs_free(v);
	CHECK_EQ(released, 1);
}

static int tfs_flock(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		     int op)
{
	return 0;
}

TEST(init_takes_back_flags_backends_cannot_serve)
{
	struct fb_ops_pair {
		struct fb_fs_ops ops;
	} with_flock = {tfs_ops};
	struct fb_vfs *v;
	struct fb_server *s;
	struct fbrep p;
	const struct fb_conn *c;
	struct tfs *t;

	with_flock.ops.flock = tfs_flock;
	/* Empty at INIT: the kernel keeps locks itself, so a lock-less backend fits later. */
	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	CHECK_EQ(fb_server_new(&fb_vfs_ops, sizeof(fb_vfs_ops), v, NULL, &s), 0);
	fbrep_init(&p, 0);
	CHECK_EQ(fbreq_init_session(s, 45, FBREQ_ALL_FLAGS, &p), 0);
	c = fb_server_conn(s);
	CHECK_EQ(c->want & (FB_FLOCK_LOCKS | FB_POSIX_LOCKS), 0);
	CHECK(c->want & FB_DO_READDIRPLUS);
	CHECK_EQ(mount_tfs(v, "/a", tfs_new(NULL), 0, NULL), 0);
	fb_server_free(s);
	fb_vfs_free(v);

	/* One backend with flock at INIT: FLOCK_LOCKS negotiated; a flock-less one is refused */
	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	t = tfs_new(NULL);
	CHECK_EQ(fb_vfs_mount(v, "/f", &with_flock.ops, sizeof(with_flock.ops), t,
			      &(struct fb_vfs_mount_opts){.release = tfs_release}, NULL),
		 0);
	CHECK_EQ(fb_server_new(&fb_vfs_ops, sizeof(fb_vfs_ops), v, NULL, &s), 0);
	CHECK_EQ(fbreq_init_session(s, 45, FBREQ_ALL_FLAGS, &p), 0);
	c = fb_server_conn(s);
	CHECK(c->want & FB_FLOCK_LOCKS);
	CHECK_EQ(c->want & FB_POSIX_LOCKS, 0); /* no setlk in it */
	t = tfs_new(NULL);
	CHECK_EQ(mount_tfs(v, "/g", t, 0, NULL), -EOPNOTSUPP);
	CHECK(strstr(fb_vfs_last_error(), "FB_FLOCK_LOCKS") != NULL);
	free(t);
	fb_server_free(s);
	fb_vfs_free(v);

	/* ... and a flock-less one next to it at INIT takes FLOCK_LOCKS away */
	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	CHECK_EQ(fb_vfs_mount(v, "/f", &with_flock.ops, sizeof(with_flock.ops), tfs_new(NULL),
			      &(struct fb_vfs_mount_opts){.release = tfs_release}, NULL),
		 0);
	CHECK_EQ(mount_tfs(v, "/g", tfs_new(NULL), 0, NULL), 0);
	CHECK_EQ(fb_server_new(&fb_vfs_ops, sizeof(fb_vfs_ops), v, NULL, &s), 0);
	CHECK_EQ(fbreq_init_session(s, 45, FBREQ_ALL_FLAGS, &p), 0);
	CHECK_EQ(fb_server_conn(s)->want & FB_FLOCK_LOCKS, 0);
	fbrep_free(&p);
	fb_server_free(s);
	fb_vfs_free(v);
}

/* Notifications a fake transport received: the first 128 bytes of each, concatenated. */
static uint8_t notes[16][128];
static int nnotes;

static int capture_notify(void *priv, const struct iovec *iov, int iovcnt)
{
	size_t o = 0;

	if (nnotes == 16)
		return -ENOSPC;
	for (int i = 0; i < iovcnt && o < 128; i++) {
		size_t n = iov[i].iov_len < 128 - o ? iov[i].iov_len : 128 - o;

		memcpy(notes[nnotes] + o, iov[i].iov_base, n);
		o += n;
	}
	nnotes++;
	return 0;
}

TEST(notifications_carry_node_ids)
{
	static const struct fb_transport_ops tops = {.send_notify = capture_notify};
	struct fb_notify_inval_inode_out ii;
	struct fb_notify_inval_entry_out ie;
	struct fb_out_header oh;
	struct fb_vfs *v;
	struct fb_server *s;
	struct fbrep p;
	fb_ino_t mp;
	int slot = 0;

	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	CHECK_EQ(fb_server_new(&fb_vfs_ops, sizeof(fb_vfs_ops), v, NULL, &s), 0);
	fb_server_set_transport(s, &tops, NULL);
	fbrep_init(&p, 0);
	CHECK_EQ(fbreq_init_session(s, 45, FBREQ_ALL_FLAGS, &p), 0);
	CHECK_EQ(fb_vfs_notify_inval_inode(v, 1, T_FILE, 0, -1), -ENOENT); /* empty slot */
	fb_vfs_set_server(v, s);
	nnotes = 0;
	CHECK_EQ(mount_tfs(v, "/x/y", tfs_new(NULL), 0, &slot), 0);
	/* mounting told the kernel to look the new name up again */
	CHECK_EQ(nnotes, 1);
	memcpy(&oh, notes[0], sizeof(oh));
	memcpy(&ie, notes[0] + sizeof(oh), sizeof(ie));
	CHECK_EQ(oh.error, FB_NOTIFY_INVAL_ENTRY);
	CHECK_EQ(ie.parent, lookup_ok(v, FB_ROOT_ID, "x"));
	CHECK_EQ(memcmp(notes[0] + sizeof(oh) + sizeof(ie), "y", 2), 0);
	mp = lookup_ok(v, lookup_ok(v, FB_ROOT_ID, "x"), "y");
	/* a backend's ino goes out as its node id; its root as the mount point */
	CHECK_EQ(fb_vfs_notify_inval_inode(v, slot, T_FILE, 4, 8), 0);
	memcpy(&ii, notes[1] + sizeof(oh), sizeof(ii));
	CHECK_EQ(ii.ino, ((fb_ino_t)slot << 56) | T_FILE);
	CHECK_EQ(ii.off, 4);
	CHECK_EQ(fb_vfs_notify_inval_entry(v, slot, FB_FS_ROOT_INO, "f", 1, 0), 0);
	memcpy(&ie, notes[2] + sizeof(oh), sizeof(ie));
	CHECK_EQ(ie.parent, mp);
	CHECK_EQ(fb_vfs_notify_inval_inode(v, slot, UINT64_C(1) << 56, 0, 0), -EOVERFLOW);
	/* unmounting drops the topmost directory that goes away: "x" in the root */
	CHECK_EQ(fb_vfs_umount(v, "/x/y"), 0);
	CHECK_EQ(nnotes, 4);
	memcpy(&ie, notes[3] + sizeof(oh), sizeof(ie));
	CHECK_EQ(ie.parent, FB_ROOT_ID);
	CHECK_EQ(memcmp(notes[3] + sizeof(oh) + sizeof(ie), "x", 2), 0);
	fb_vfs_set_server(v, NULL);
	fbrep_free(&p);
	fb_server_free(s);
	fb_vfs_free(v);
}

/*
 * Under a guest (virtio-fs) there is no notification channel: unmounting cannot ask the
 * kernel to forget, and must work anyway. When the session ends (the guest reboots or
 * unmounts) every backend hears destroy(), the kernel's lookups are dropped (an unmounted
 * backend kept for them goes), and a new session starts clean.
 */
TEST(guest_without_notify_umounts_and_restarts)
{
	static const struct fb_transport_ops tops = {
		.size = sizeof(tops),
		.flags = FB_TRANSPORT_FOREIGN_PIDS | FB_TRANSPORT_NO_INTERRUPT |
			 FB_TRANSPORT_RESTART | FB_TRANSPORT_REPLY_ALWAYS,
	};
	struct fb_vfs *v;
	struct fb_server *s;
	struct fbrep p;
	struct fbreq q = {0};
	atomic_int released = 0;
	struct tfs *ta = tfs_new(&released), *tb = tfs_new(&released);
	int sa = 0, sb = 0;
	fb_ino_t mpa, fa, mpb, fb;
	struct stat st;
	double to;

	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	CHECK_EQ(fb_server_new(&fb_vfs_ops, sizeof(fb_vfs_ops), v, NULL, &s), 0);
	fb_server_set_transport(s, &tops, NULL);
	fb_vfs_set_server(v, s);
	fbrep_init(&p, 0);
	CHECK_EQ(fbreq_init_session(s, 45, FBREQ_ALL_FLAGS, &p), 0);
	CHECK_EQ(mount_tfs(v, "/a", ta, 0, &sa), 0);
	CHECK_EQ(mount_tfs(v, "/b", tb, 0, &sb), 0);
	CHECK_ERR(fb_server_notify_inval_entry(s, FB_ROOT_ID, "a", 1, 0), -ENOTCONN);
	mpa = lookup_ok(v, FB_ROOT_ID, "a");
	fa = lookup_ok(v, mpa, "f");
	mpb = lookup_ok(v, FB_ROOT_ID, "b");
	fb = lookup_ok(v, mpb, "f");
	CHECK(fa && fb);
	CHECK_EQ(fb__vfs_slot_refs(v, sb), 2); /* mounted + one lookup */

	/* the invalidation cannot reach the kernel: the unmount happens all the same */
	CHECK_EQ(fb_vfs_umount(v, "/a"), 0);
	CHECK_EQ(fb_vfs_list(v, NULL, 0), 1);
	CHECK_EQ(fb_vfs_ops.lookup(v, &ctx0, FB_ROOT_ID, "a", &(struct fb_entry){0}), -ENOENT);
	CHECK_EQ(released, 0); /* still held by the kernel's lookup of fa */

	/* the guest reboots: a new INIT on the same connection */
	CHECK_EQ(fbreq_init_session(s, 45, FBREQ_ALL_FLAGS, &p), 0);
	CHECK_EQ(released, 1);
	CHECK_EQ(last_released_destroys, 1); /* before its release, exactly once */
	CHECK(!fb__vfs_slot_busy(v, sa));
	CHECK_EQ(tb->destroys, 1);
	CHECK_EQ(tb->inits, 2);
	CHECK_EQ(fb__vfs_slot_refs(v, sb), 1); /* the lookup went with the session */
	/* the unlinked pseudo directory "a" went too */
	CHECK(fb_vfs_ops.getattr(v, &ctx0, mpa, NULL, &st, &to) < 0);
	CHECK_EQ(fb_vfs_ops.getattr(v, &ctx0, mpb, NULL, &st, &to), 0);
	CHECK(lookup_ok(v, lookup_ok(v, FB_ROOT_ID, "b"), "f"));

	/* the guest unmounts: DESTROY is answered, and the next session works again */
	fbreq_start(&q, FB_DESTROY, 50, 0);
	CHECK_EQ(fbreq_send(s, &q, &p), 16);
	CHECK_EQ(tb->destroys, 2);
	CHECK_EQ(fb__vfs_slot_refs(v, sb), 1);
	CHECK_EQ(fbreq_init_session(s, 45, FBREQ_ALL_FLAGS, &p), 0);
	CHECK_EQ(tb->inits, 3);
	CHECK_EQ(fb_vfs_umount(v, "/b"), 0);
	CHECK_EQ(released, 2);
	fb_vfs_set_server(v, NULL);
	fbreq_free(&q);
	fbrep_free(&p);
	fb_server_free(s);
	fb_vfs_free(v);
}

/* Requests on a backend while it is mounted and unmounted over and over. */
struct stress {
	struct fb_vfs *v;
	atomic_int stop;
	atomic_long errors, ops;
};

static void *stress_reader(void *arg)
{
	struct stress *st = arg;

	while (!atomic_load(&st->stop)) {
		struct fb_entry e, f;
		struct stat sb;
		double to;

		if (fb_vfs_ops.lookup(st->v, &ctx0, FB_ROOT_ID, "m", &e) != 0)
			continue;
		if (fb_vfs_ops.lookup(st->v, &ctx0, e.ino, "f", &f) == 0) {
			int r = fb_vfs_ops.getattr(st->v, &ctx0, f.ino, NULL, &sb, &to);

			if (r != 0 || sb.st_ino != ((f.ino >> 56 << 56) ^ (1000 + T_FILE)))
				atomic_fetch_add(&st->errors, 1);
			fb_vfs_ops.forget(st->v, f.ino, 1);
		}
		fb_vfs_ops.forget(st->v, e.ino, 1);
		atomic_fetch_add(&st->ops, 1);
	}
	return NULL;
}

TEST(mount_umount_while_requests_run)
{
	struct stress st = {0};
	pthread_t th[2];
	atomic_int released = 0;
	int mounted = 0;

	CHECK_EQ(fb_vfs_new(NULL, &st.v), 0);
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, stress_reader, &st);
	for (int i = 0; i < 1000; i++) {
		if (mount_tfs(st.v, "/m", tfs_new(&released), 0, NULL) == 0)
			mounted++;
		usleep(i % 2 ? 100 : 0); /* let readers in while it is mounted */
		fb_vfs_umount(st.v, "/m");
	}
	atomic_store(&st.stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(atomic_load(&st.errors), 0);
	CHECK(atomic_load(&st.ops) > 0);
	/* every backend was freed once the readers' forgets came back */
	CHECK_EQ(released, mounted);
	for (int i = 1; i <= FB_VFS_MAX_SLOTS; i++)
		CHECK(!fb__vfs_slot_busy(st.v, i));
	CHECK_EQ(st.v->nnodes, 1); /* only the pseudo root is left */
	printf("  %d mounts, %ld lookups meanwhile\n", mounted, atomic_load(&st.ops));
	fb_vfs_free(st.v);
}

TEST_MAIN()
