/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The VFS: slots, node-id routing, mount and unmount, and the operations table that forwards
 * each request to the backend its node id names.
 *
 * Hot path: a request takes the read lock just long enough to find its slot and take a
 * reference (an atomic increment that never starts from 0), then calls the backend without
 * any lock. The reference keeps the backend alive during the call, however long it takes,
 * while an unmount goes ahead. See docs/vfs.md for the slot lifecycle.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/server.h>

#include "fs/stat_i.h"
#include "vfs/vfs_i.h"
#include "sized_i.h"

#define SLOT_SHIFT FB_VFS_INO_BITS

static _Thread_local char last_error[256];

int fb__vfs_error(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err;
}

const char *fb_vfs_last_error(void)
{
	return last_error;
}

/* ---- slot references ---------------------------------------------------------------- */

/* Take a reference unless the slot is already on its way out (refs == 0). */
static int slot_tryget(struct fb__vslot *s)
{
	uint_fast64_t old = atomic_load(&s->refs);

	do {
		if (old == 0)
			return 0;
	} while (!atomic_compare_exchange_weak(&s->refs, &old, old + 1));
	return 1;
}

static void slot_free(struct fb_vfs *vfs, struct fb__vslot *s)
{
	struct fb__pnode *mp = s->mp;

	/* No lock is held: destroy() and release() may take their time. */
	if (s->inited && !atomic_exchange(&s->destroyed, 1) && s->ops.destroy)
		s->ops.destroy(s->fs);
	if (s->opts.release)
		s->opts.release(s->fs, s->opts.release_priv);

	pthread_rwlock_wrlock(&vfs->lock);
	vfs->slots[s->idx] = NULL;
	mp->holds--;
	fb__pseudo_prune(vfs, mp);
	pthread_rwlock_unlock(&vfs->lock);

	free(s->path);
	free(s->type);
	free(s->source);
	free(s);
}

static void slot_put(struct fb_vfs *vfs, struct fb__vslot *s, uint64_t n)
{
	if (n && atomic_fetch_sub(&s->refs, n) == n)
		slot_free(vfs, s);
}

/* The kernel took one lookup of an inode of @s (the caller holds a reference). */
static void slot_add_lookup(struct fb__vslot *s)
{
	atomic_fetch_add(&s->nlookup, 1);
	atomic_fetch_add(&s->refs, 1);
}

/* Take back up to @n lookups; returns how many were held (never more than counted). */
static uint64_t slot_sub_lookup(struct fb__vslot *s, uint64_t n)
{
	uint_fast64_t old = atomic_load(&s->nlookup), take;

	do {
		take = old < n ? old : n;
	} while (!atomic_compare_exchange_weak(&s->nlookup, &old, old - take));
	return take;
}

int fb__vfs_slot_busy(struct fb_vfs *vfs, int idx)
{
	int busy;

	if (idx < 1 || idx > FB_VFS_MAX_SLOTS)
		return 0;
	pthread_rwlock_rdlock(&vfs->lock);
	busy = vfs->slots[idx] != NULL;
	pthread_rwlock_unlock(&vfs->lock);
	return busy;
}

int64_t fb__vfs_slot_refs(struct fb_vfs *vfs, int idx)
{
	int64_t r = -1;

	if (idx < 1 || idx > FB_VFS_MAX_SLOTS)
		return -1;
	pthread_rwlock_rdlock(&vfs->lock);
	if (vfs->slots[idx])
		r = (int64_t)atomic_load(&vfs->slots[idx]->refs);
	pthread_rwlock_unlock(&vfs->lock);
	return r;
}

/* ---- routing ------------------------------------------------------------------------ */

/*
 * Where a node id goes: a backend (slot != NULL, with a reference, ino = the backend's) or a
 * pseudo directory (pn != NULL, with the read lock held until route_put).
 */
struct route {
	struct fb__vslot *slot;
	fb_ino_t ino;
	struct fb__pnode *pn;
	int locked;
};

static int route_get(struct fb_vfs *vfs, fb_ino_t node, struct route *rt)
{
	unsigned idx = (unsigned)(node >> SLOT_SHIFT);
	struct fb__vslot *s;

	rt->slot = NULL;
	rt->pn = NULL;
	rt->locked = 0;
	pthread_rwlock_rdlock(&vfs->lock);
	if (idx == 0) {
		struct fb__pnode *pn = fb__pseudo_find(vfs, node);

		if (!pn)
			goto out_stale;
		if (pn->mounted && slot_tryget(pn->mounted)) {
			rt->slot = pn->mounted;
			rt->ino = FB_ROOT_ID;
			pthread_rwlock_unlock(&vfs->lock);
			return 0;
		}
		rt->pn = pn;
		rt->locked = 1;
		return 0;
	}
	s = vfs->slots[idx];
	if (!s || !slot_tryget(s))
		goto out_stale;
	pthread_rwlock_unlock(&vfs->lock);
	rt->slot = s;
	rt->ino = node & FB_VFS_INO_MASK;
	return 0;

out_stale:
	/* Only a node id the kernel was never given (or a forged one) gets here. */
	pthread_rwlock_unlock(&vfs->lock);
	return -ESTALE;
}

static void route_put(struct fb_vfs *vfs, struct route *rt)
{
	if (rt->locked)
		pthread_rwlock_unlock(&vfs->lock);
	rt->locked = 0;
	if (rt->slot)
		slot_put(vfs, rt->slot, 1);
	rt->slot = NULL;
}

static int slot_ro(const struct fb__vslot *s)
{
	return (s->opts.flags & FB_VFS_MOUNT_READ_ONLY) != 0;
}

static void attr_timeout(const struct fb__vslot *s, double *timeout)
{
	if (timeout && (s->opts.flags & FB_VFS_MOUNT_ATTR_TIMEOUT))
		*timeout = s->opts.attr_timeout;
}

static void entry_timeouts(const struct fb__vslot *s, struct fb_entry *e)
{
	if (s->opts.flags & FB_VFS_MOUNT_ENTRY_TIMEOUT)
		e->entry_timeout = s->opts.entry_timeout;
	if (s->opts.flags & FB_VFS_MOUNT_ATTR_TIMEOUT)
		e->attr_timeout = s->opts.attr_timeout;
}

/*
 * The inode number (st_ino, stx_ino, d_ino) the mount shows for a backend's @st_ino: the slot
 * index XORed into the top 8 bits. Unique across the mount while the backends' own numbers
 * stay below 2^56 (pseudo directories are slot 0), stable while the file lives, and its own
 * inverse. See docs/vfs.md.
 */
static uint64_t slot_st_ino(const struct fb__vslot *s, uint64_t st_ino)
{
	return st_ino ^ ((uint64_t)s->idx << SLOT_SHIFT);
}

/*
 * Turn the backend's ino in @e into a node id and count the kernel's lookup. The caller holds
 * a reference on @s. An ino that does not fit gets its lookup given back and -EOVERFLOW.
 */
static int entry_map(struct fb__vslot *s, struct fb_entry *e)
{
	entry_timeouts(s, e);
	e->attr.st_ino = slot_st_ino(s, e->attr.st_ino);
	if (e->ino == 0)
		return 0;
	if (e->ino == FB_ROOT_ID) {
		/* The mount point stands for the root; the slot holds s->mp. The backend keeps
		 * no count for its root, so the lookup is the pseudo node's. */
		e->ino = s->mp->ino;
		atomic_fetch_add(&s->mp->nlookup, 1);
		return 0;
	}
	if (e->ino > FB_VFS_INO_MASK) {
		if (s->ops.forget)
			s->ops.forget(s->fs, e->ino, 1);
		return -EOVERFLOW;
	}
	e->ino |= (fb_ino_t)s->idx << SLOT_SHIFT;
	slot_add_lookup(s);
	return 0;
}

int fb_vfs_ino_to_node(struct fb_vfs *vfs, int slot, fb_ino_t ino, fb_ino_t *ret)
{
	struct fb__vslot *s;
	int r = 0;

	if (!vfs || slot < 1 || slot > FB_VFS_MAX_SLOTS || !ret)
		return -EINVAL;
	if (ino > FB_VFS_INO_MASK || ino == 0)
		return ino ? -EOVERFLOW : -EINVAL;
	pthread_rwlock_rdlock(&vfs->lock);
	s = vfs->slots[slot];
	if (!s)
		r = -ENOENT;
	else if (ino == FB_ROOT_ID)
		*ret = s->mp->ino;
	else
		*ret = ino | (fb_ino_t)slot << SLOT_SHIFT;
	pthread_rwlock_unlock(&vfs->lock);
	return r;
}

/* ---- the pseudo fs's answers ---------------------------------------------------------- */

static void pseudo_entry(struct fb_vfs *vfs, struct fb__pnode *n, struct fb_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = n->ino;
	fb__pseudo_stat(vfs, n, &e->attr);
	e->entry_timeout = vfs->pseudo_timeout;
	e->attr_timeout = vfs->pseudo_timeout;
}

/*
 * Entry for the mount point @mp whose backend is @s (reference held, no lock): the backend's
 * root attributes under the mount point's node id.
 */
static int mountpoint_entry(struct fb_vfs *vfs, const struct fb_ctx *ctx, struct fb__vslot *s,
			    struct fb_entry *e)
{
	double t = vfs->pseudo_timeout;
	int r = 0;

	memset(e, 0, sizeof(*e));
	if (s->ops.getattr)
		r = s->ops.getattr(s->fs, ctx, FB_ROOT_ID, NULL, &e->attr, &t);
	else
		fb__pseudo_stat(vfs, s->mp, &e->attr);
	if (r < 0)
		return r;
	if (s->ops.getattr)
		e->attr.st_ino = slot_st_ino(s, e->attr.st_ino);
	attr_timeout(s, &t);
	e->ino = s->mp->ino;
	e->entry_timeout = vfs->pseudo_timeout;
	e->attr_timeout = t;
	atomic_fetch_add(&s->mp->nlookup, 1);
	return 0;
}

/* lookup in pseudo directory rt->pn (read lock held by rt). */
static int pseudo_lookup(struct fb_vfs *vfs, const struct fb_ctx *ctx, struct route *rt,
			 const char *name, struct fb_entry *out)
{
	struct fb__pnode *dir = rt->pn, *c;
	struct fb__vslot *s;
	int r;

	if (strcmp(name, ".") == 0) {
		c = dir;
	} else if (strcmp(name, "..") == 0) {
		c = fb__pseudo_find(vfs, dir->parent_ino);
		if (!c)
			c = vfs->root;
	} else {
		c = fb__pseudo_child(dir, name, strlen(name));
	}
	if (!c)
		return -ENOENT;
	s = c->mounted;
	if (!s || !slot_tryget(s)) {
		pseudo_entry(vfs, c, out);
		atomic_fetch_add(&c->nlookup, 1);
		return 0;
	}
	/* A mount point: ask the backend without the lock. */
	pthread_rwlock_unlock(&vfs->lock);
	rt->locked = 0;
	r = mountpoint_entry(vfs, ctx, s, out);
	slot_put(vfs, s, 1);
	return r;
}

static int pseudo_readdir(struct fb_vfs *vfs, const struct fb_ctx *ctx, struct route *rt,
			  uint64_t off, struct fb_dirbuf *buf, int plus)
{
	struct fb__pnode *dir = rt->pn;
	fb_ino_t dir_ino = dir->ino;
	int r = 0;

	/* Offsets: 1 after ".", 2 after "..", 2 + i + 1 after child i. */
	for (;; off++) {
		struct fb_entry e;
		struct fb__pnode *c;
		struct fb__vslot *s;

		if (!rt->locked) {
			pthread_rwlock_rdlock(&vfs->lock);
			rt->locked = 1;
			dir = fb__pseudo_find(vfs, dir_ino);
			if (!dir)
				break;
		}
		if (off < 2) {
			const char *dot = off == 0 ? "." : "..";

			if (plus) {
				memset(&e, 0, sizeof(e));
				e.attr.st_mode = S_IFDIR;
				e.attr.st_ino = off == 0 ? dir->ino : dir->parent_ino;
				r = fb_dirbuf_add_plus(buf, dot, off + 1, &e, off + 1);
			} else {
				r = fb_dirbuf_add(buf, dot, off + 1,
						  off == 0 ? dir->ino : dir->parent_ino, DT_DIR,
						  off + 1);
			}
			if (r < 0)
				break;
			continue;
		}
		c = fb__pseudo_nth_child(dir, off - 2);
		if (!c)
			break;
		if (!plus) {
			r = fb_dirbuf_add(buf, c->name, strlen(c->name), c->ino, DT_DIR, off + 1);
			if (r < 0)
				break;
			continue;
		}
		s = c->mounted;
		if (!s || !slot_tryget(s)) {
			pseudo_entry(vfs, c, &e);
			r = fb_dirbuf_add_plus(buf, c->name, strlen(c->name), &e, off + 1);
			if (r < 0)
				break;
			atomic_fetch_add(&c->nlookup, 1);
			continue;
		}
		/* A mount point: the backend's root attributes, asked without the lock. The
		 * name is the mount point's own (kept by the slot, like the node). */
		pthread_rwlock_unlock(&vfs->lock);
		rt->locked = 0;
		r = mountpoint_entry(vfs, ctx, s, &e);
		if (r == 0) {
			r = fb_dirbuf_add_plus(buf, s->mp->name, strlen(s->mp->name), &e, off + 1);
			if (r < 0)
				atomic_fetch_sub(&s->mp->nlookup, 1);
		}
		slot_put(vfs, s, 1);
		if (r < 0)
			break;
	}
	return r == -ENOSPC ? 0 : r;
}

static int pseudo_statfs(struct statvfs *out)
{
	memset(out, 0, sizeof(*out));
	out->f_bsize = 4096;
	out->f_frsize = 4096;
	out->f_namemax = 255;
	return 0;
}

/* ---- mount and unmount ---------------------------------------------------------------- */

static int want_names(uint64_t bits, char *buf, size_t size)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} names[] = {
		{FB_WRITEBACK_CACHE, "WRITEBACK_CACHE"}, {FB_PASSTHROUGH, "PASSTHROUGH"},
		{FB_DO_READDIRPLUS, "DO_READDIRPLUS"},	 {FB_READDIRPLUS_AUTO, "READDIRPLUS_AUTO"},
		{FB_POSIX_LOCKS, "POSIX_LOCKS"},	 {FB_FLOCK_LOCKS, "FLOCK_LOCKS"},
	};
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (bits & names[i].bit) {
			o += (size_t)snprintf(buf + o, size - o, "%sFB_%s", o ? ", " : "",
					      names[i].name);
			bits &= ~names[i].bit;
			if (o >= size)
				return 0;
		}
	}
	if (bits)
		snprintf(buf + o, size - o, "%sflags 0x%llx", o ? ", " : "",
			 (unsigned long long)bits);
	return 0;
}

/*
 * INIT flags that send the file system requests this backend has no operation for: the
 * server offers them for the VFS's full table, so the VFS takes them back per backend.
 */
static uint64_t ops_lacking(const struct fb_fs_ops *o)
{
	uint64_t f = 0;

	if (!o->setlk)
		f |= FB_POSIX_LOCKS;
	if (!o->flock)
		f |= FB_FLOCK_LOCKS;
	if (!o->readdirplus)
		f |= FB_DO_READDIRPLUS | FB_READDIRPLUS_AUTO;
	if (!o->readdir)
		f |= FB_READDIRPLUS_AUTO;
	return f;
}

/* Run a late-mounted backend's init() with the negotiated connection (init_lock held). */
static int slot_init_late(struct fb_vfs *vfs, struct fb__vslot *s)
{
	struct fb_conn c = vfs->conn;
	uint64_t extra;
	char names[160];
	int r;

	/* Locks and READDIRPLUS go to the file system once negotiated: it needs the ops. */
	extra = vfs->conn.want & ops_lacking(&s->ops) &
		(FB_POSIX_LOCKS | FB_FLOCK_LOCKS | FB_DO_READDIRPLUS);
	if (extra) {
		want_names(extra, names, sizeof(names));
		return fb__vfs_error(-EOPNOTSUPP,
				     "the session negotiated %s, and the backend "
				     "lacks the operations the kernel then sends",
				     names);
	}
	if (!s->ops.init)
		return 0;
	/* Only what the session has is on offer: a backend that adds more needs it. */
	c.capable = vfs->conn.want;
	c.want &= ~ops_lacking(&s->ops);
	r = s->ops.init(s->fs, &c);
	if (r < 0)
		return fb__vfs_error(r, "the backend's init failed: %s", strerror(-r));
	s->inited = 1;
	extra = c.want & ~vfs->conn.want;
	if (extra) {
		want_names(extra, names, sizeof(names));
		return fb__vfs_error(-EOPNOTSUPP,
				     "the backend needs %s, which the session did "
				     "not negotiate at INIT",
				     names);
	}
	return 0;
}

int fb_vfs_mount(struct fb_vfs *vfs, const char *path, const struct fb_fs_ops *ops, size_t ops_size,
		 void *fs, const struct fb_vfs_mount_opts *opts, int *ret_slot)
{
	char norm[FB_VFS_PATH_MAX + 1];
	struct fb_vfs_mount_opts o = { 0 };
	struct fb__pnode *covered, *n;
	struct fb__vslot *s;
	int idx, r;

	last_error[0] = '\0';
	if (!vfs || !ops)
		return fb__vfs_error(-EINVAL, "no operations table");
	r = fb__sized_in(&o, sizeof(o), opts, FB__VFS_MOUNT_OPTS_SIZE_V1);
	if (r < 0)
		return fb__vfs_error(r, "struct fb_vfs_mount_opts: unknown size or fields");
	opts = &o;
	r = fb__vfs_path_normalize(path, norm);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return fb__vfs_error(-ENOMEM, "out of memory");
	memcpy(&s->ops, ops, ops_size < sizeof(s->ops) ? ops_size : sizeof(s->ops));
	s->fs = fs;
	if (opts)
		s->opts = *opts;
	s->path = strdup(norm);
	s->type = strdup(opts && opts->type ? opts->type : "-");
	s->source = strdup(opts && opts->source && opts->source[0] ? opts->source : "-");
	if (!s->path || !s->type || !s->source) {
		r = fb__vfs_error(-ENOMEM, "out of memory");
		goto out_free;
	}
	s->opts.type = s->type;
	s->opts.source = s->source;
	atomic_init(&s->refs, 1);
	atomic_init(&s->nlookup, 0);
	atomic_init(&s->mounted, 1);

	/* The backend's root must be a directory (getattr works before init for ours; a
	 * backend that fails it here is not judged). */
	if (s->ops.getattr) {
		struct fb_ctx ctx = {0};
		struct stat st;
		double t;

		if (s->ops.getattr(fs, &ctx, FB_ROOT_ID, NULL, &st, &t) == 0 &&
		    !S_ISDIR(st.st_mode)) {
			r = fb__vfs_error(-ENOTDIR, "the backend's root is not a directory");
			goto out_free;
		}
	}

	/* init_lock: INIT must not run between the check of vfs->inited and publishing. */
	pthread_mutex_lock(&vfs->init_lock);
	if (vfs->inited) {
		r = slot_init_late(vfs, s);
		if (r < 0)
			goto out_unlock_init;
	}

	pthread_rwlock_wrlock(&vfs->lock);
	n = fb__pseudo_walk(vfs, norm, &covered);
	if (n && n->mounted) {
		r = fb__vfs_error(-EEXIST, "%s is already mounted (slot %d)", norm,
				  n->mounted->idx);
		goto out_unlock;
	}
	if (covered) {
		r = fb__vfs_error(-EBUSY, "%s is inside the backend mounted at %s", norm,
				  covered->mounted->path);
		goto out_unlock;
	}
	if (n && n->users) {
		r = fb__vfs_error(-EBUSY, "backends are mounted below %s", norm);
		goto out_unlock;
	}
	for (idx = 1; idx <= FB_VFS_MAX_SLOTS; idx++)
		if (!vfs->slots[idx])
			break;
	if (idx > FB_VFS_MAX_SLOTS) {
		r = fb__vfs_error(-ENOSPC,
				  "all %d slots are in use (unmounted backends keep "
				  "theirs until the kernel forgets their inodes)",
				  FB_VFS_MAX_SLOTS);
		goto out_unlock;
	}
	n = fb__pseudo_mkpath(vfs, norm);
	if (!n) {
		r = fb__vfs_error(-ENOMEM, "out of memory");
		goto out_unlock;
	}
	s->idx = idx;
	s->mp = n;
	n->holds++;
	n->mounted = s;
	fb__pseudo_use(n, 1);
	vfs->slots[idx] = s;
	pthread_rwlock_unlock(&vfs->lock);
	pthread_mutex_unlock(&vfs->init_lock);

	if (ret_slot)
		*ret_slot = idx;
	/* The kernel may have cached the pseudo directory (or a negative entry) under this
	 * name: make it look again. */
	if (n != vfs->root) {
		struct fb_server *srv;
		fb_ino_t parent = n->parent_ino;

		pthread_rwlock_rdlock(&vfs->lock);
		srv = vfs->server;
		pthread_rwlock_unlock(&vfs->lock);
		if (srv)
			fb_server_notify_inval_entry(srv, parent, s->mp->name, strlen(s->mp->name),
						     0);
	}
	return 0;

out_unlock:
	pthread_rwlock_unlock(&vfs->lock);
out_unlock_init:
	pthread_mutex_unlock(&vfs->init_lock);
	if (s->inited && s->ops.destroy)
		s->ops.destroy(fs);
out_free:
	free(s->path);
	free(s->type);
	free(s->source);
	free(s);
	return r;
}

int fb_vfs_umount(struct fb_vfs *vfs, const char *path)
{
	char norm[FB_VFS_PATH_MAX + 1];
	struct fb__pnode *covered, *n, *top;
	struct fb__vslot *s;
	struct fb_server *srv;
	fb_ino_t parent;
	char *name = NULL;
	int r;

	last_error[0] = '\0';
	if (!vfs)
		return -EINVAL;
	r = fb__vfs_path_normalize(path, norm);
	if (r < 0)
		return r;
	pthread_rwlock_wrlock(&vfs->lock);
	n = fb__pseudo_walk(vfs, norm, &covered);
	if (!n || !n->mounted) {
		pthread_rwlock_unlock(&vfs->lock);
		return fb__vfs_error(-ENOENT, "nothing is mounted at %s", norm);
	}
	s = n->mounted;
	n->mounted = NULL;
	atomic_store(&s->mounted, 0);
	fb__pseudo_use(n, -1);
	/* The highest directory that goes with it: dropping its name drops all below. */
	top = n;
	while (top->parent && top->parent != vfs->root && top->parent->users == 0)
		top = top->parent;
	parent = top->parent_ino;
	if (top->name)
		name = strdup(top->name);
	/* n stays allocated: the slot holds it until it is freed. */
	fb__pseudo_prune(vfs, n);
	srv = vfs->server;
	pthread_rwlock_unlock(&vfs->lock);

	/* Ask the kernel to drop the name and, with it, the dentries below: that is what makes
	 * it forget the backend's inodes. Never under the lock (the kernel may need to send
	 * us requests to complete the invalidation). */
	if (srv && name)
		fb_server_notify_inval_entry(srv, parent, name, strlen(name), 0);
	else if (srv)
		fb_server_notify_inval_inode(srv, FB_ROOT_ID, 0, 0);
	free(name);
	slot_put(vfs, s, 1);
	return 0;
}

int fb_vfs_list(struct fb_vfs *vfs, struct fb_vfs_mount_info *out, int max)
{
	int count = 0;

	pthread_rwlock_rdlock(&vfs->lock);
	for (int i = 1; i <= FB_VFS_MAX_SLOTS; i++) {
		struct fb__vslot *s = vfs->slots[i];

		if (!s || !atomic_load(&s->mounted))
			continue;
		if (count < max && out) {
			struct fb_vfs_mount_info *m = &out[count];

			snprintf(m->path, sizeof(m->path), "%s", s->path);
			snprintf(m->type, sizeof(m->type), "%s", s->type);
			snprintf(m->source, sizeof(m->source), "%s", s->source);
			m->slot = i;
			m->flags = s->opts.flags;
		}
		count++;
	}
	pthread_rwlock_unlock(&vfs->lock);
	return count;
}

/* ---- lifecycle ------------------------------------------------------------------------ */

int fb_vfs_new(const struct fb_vfs_config *cfg, struct fb_vfs **ret)
{
	struct fb_vfs_config c = { 0 };
	struct fb_vfs *vfs;
	int r;

	r = fb__sized_in(&c, sizeof(c), cfg, FB__VFS_CONFIG_SIZE_V1);
	if (r < 0)
		return r;
	cfg = &c;
	vfs = calloc(1, sizeof(*vfs));
	if (!vfs)
		return -ENOMEM;
	vfs->pseudo_timeout = cfg && cfg->has_pseudo_timeout ? cfg->pseudo_timeout : 1.0;
	if (vfs->pseudo_timeout < 0)
		vfs->pseudo_timeout = 0;
	r = fb__pseudo_init(vfs);
	if (r < 0) {
		free(vfs);
		return r;
	}
	pthread_rwlock_init(&vfs->lock, NULL);
	pthread_mutex_init(&vfs->init_lock, NULL);
	pthread_mutex_init(&vfs->types_lock, NULL);
	*ret = vfs;
	return 0;
}

void fb_vfs_free(struct fb_vfs *vfs)
{
	if (!vfs)
		return;
	for (int i = 1; i <= FB_VFS_MAX_SLOTS; i++) {
		struct fb__vslot *s = vfs->slots[i];

		if (!s)
			continue;
		if (s->inited && !atomic_exchange(&s->destroyed, 1) && s->ops.destroy)
			s->ops.destroy(s->fs);
		if (s->opts.release)
			s->opts.release(s->fs, s->opts.release_priv);
		free(s->path);
		free(s->type);
		free(s->source);
		free(s);
		vfs->slots[i] = NULL;
	}
	fb__pseudo_done(vfs);
	for (size_t i = 0; i < vfs->ntypes; i++)
		free((char *)vfs->types[i].name);
	free(vfs->types);
	pthread_rwlock_destroy(&vfs->lock);
	pthread_mutex_destroy(&vfs->init_lock);
	pthread_mutex_destroy(&vfs->types_lock);
	free(vfs);
}

void fb_vfs_set_server(struct fb_vfs *vfs, struct fb_server *server)
{
	pthread_rwlock_wrlock(&vfs->lock);
	vfs->server = server;
	pthread_rwlock_unlock(&vfs->lock);
}

/* ---- notifications -------------------------------------------------------------------- */

static struct fb_server *vfs_server(struct fb_vfs *vfs)
{
	struct fb_server *s;

	pthread_rwlock_rdlock(&vfs->lock);
	s = vfs->server;
	pthread_rwlock_unlock(&vfs->lock);
	return s;
}

int fb_vfs_notify_inval_inode(struct fb_vfs *vfs, int slot, fb_ino_t ino, int64_t off, int64_t len)
{
	struct fb_server *srv = vfs_server(vfs);
	fb_ino_t node;
	int r = fb_vfs_ino_to_node(vfs, slot, ino, &node);

	if (r < 0)
		return r;
	return srv ? fb_server_notify_inval_inode(srv, node, off, len) : -ENOTCONN;
}

int fb_vfs_notify_inval_entry(struct fb_vfs *vfs, int slot, fb_ino_t parent, const char *name,
			      size_t namelen, uint32_t flags)
{
	struct fb_server *srv = vfs_server(vfs);
	fb_ino_t node;
	int r = fb_vfs_ino_to_node(vfs, slot, parent, &node);

	if (r < 0)
		return r;
	return srv ? fb_server_notify_inval_entry(srv, node, name, namelen, flags) : -ENOTCONN;
}

int fb_vfs_notify_delete(struct fb_vfs *vfs, int slot, fb_ino_t parent, fb_ino_t child,
			 const char *name, size_t namelen)
{
	struct fb_server *srv = vfs_server(vfs);
	fb_ino_t pnode, cnode;
	int r = fb_vfs_ino_to_node(vfs, slot, parent, &pnode);

	if (r == 0)
		r = fb_vfs_ino_to_node(vfs, slot, child, &cnode);
	if (r < 0)
		return r;
	return srv ? fb_server_notify_delete(srv, pnode, cnode, name, namelen) : -ENOTCONN;
}

int fb_vfs_notify_store(struct fb_vfs *vfs, int slot, fb_ino_t ino, uint64_t off, const void *data,
			size_t size)
{
	struct fb_server *srv = vfs_server(vfs);
	fb_ino_t node;
	int r = fb_vfs_ino_to_node(vfs, slot, ino, &node);

	if (r < 0)
		return r;
	return srv ? fb_server_notify_store(srv, node, off, data, size) : -ENOTCONN;
}

int fb_vfs_notify_retrieve(struct fb_vfs *vfs, int slot, fb_ino_t ino, uint64_t off, uint32_t size,
			   uint64_t cookie)
{
	struct fb_server *srv = vfs_server(vfs);
	fb_ino_t node;
	int r = fb_vfs_ino_to_node(vfs, slot, ino, &node);

	if (r < 0)
		return r;
	return srv ? fb_server_notify_retrieve(srv, node, off, size, cookie) : -ENOTCONN;
}

/* ---- the operations ------------------------------------------------------------------- */

/* What route_op() found: a pseudo directory (read lock held) or a backend to call. */
enum { ROUTE_PSEUDO = 1, ROUTE_BACKEND = 2 };

/*
 * Route @node for an operation, which @writes or not. Returns ROUTE_BACKEND (rt->slot holds a
 * reference; a write to a read-only backend is refused with EROFS before), ROUTE_PSEUDO (a
 * pseudo directory: the read lock is held) or a negative errno. route_put() releases all.
 */
static int route_op(struct fb_vfs *vfs, fb_ino_t node, int writes, struct route *rt)
{
	int r = route_get(vfs, node, rt);

	if (r < 0)
		return r;
	if (!rt->slot)
		return ROUTE_PSEUDO;
	if (writes && slot_ro(rt->slot)) {
		route_put(vfs, rt);
		return -EROFS;
	}
	return ROUTE_BACKEND;
}

/*
 * End an operation begun with route_op(): release @rt and return @r, the backend's answer, or
 * @pseudo when the node was a pseudo directory.
 */
static int route_done(struct fb_vfs *vfs, struct route *rt, int r, int pseudo)
{
	int is_pseudo = rt->pn && !rt->slot;

	route_put(vfs, rt);
	return is_pseudo ? pseudo : r;
}

/* Fold the limits a backend's init() chose into @res. */
static void conn_fold(struct fb_conn *res, const struct fb_conn *c)
{
	res->want &= c->want;
	if (c->max_write < res->max_write)
		res->max_write = c->max_write;
	if (c->max_readahead < res->max_readahead)
		res->max_readahead = c->max_readahead;
	if (c->max_pages && c->max_pages < res->max_pages)
		res->max_pages = c->max_pages;
	if (c->max_background && c->max_background < res->max_background)
		res->max_background = c->max_background;
	if (c->congestion_threshold && c->congestion_threshold < res->congestion_threshold)
		res->congestion_threshold = c->congestion_threshold;
	if (c->time_gran > res->time_gran)
		res->time_gran = c->time_gran;
	if (c->max_stack_depth > res->max_stack_depth)
		res->max_stack_depth = c->max_stack_depth;
}

static int vfs_init(void *fs, struct fb_conn *conn)
{
	struct fb_vfs *vfs = fs;
	struct fb__vslot *held[FB_VFS_MAX_SLOTS + 1];
	uint64_t wanted[FB_VFS_MAX_SLOTS + 1];
	struct fb_conn res = *conn;
	int r = 0, n = 0;

	/* init_lock keeps mounts out until the result is published; slots may still be freed
	 * meanwhile, hence a reference on each while its init runs. */
	pthread_mutex_lock(&vfs->init_lock);
	for (int i = 1; i <= FB_VFS_MAX_SLOTS; i++) {
		pthread_rwlock_rdlock(&vfs->lock);
		held[n] = vfs->slots[i];
		if (held[n] && slot_tryget(held[n]))
			n++;
		pthread_rwlock_unlock(&vfs->lock);
	}
	/* Each backend sees the offer; the session gets what all of them want. */
	for (int i = 0; i < n && r == 0; i++) {
		struct fb__vslot *s = held[i];
		struct fb_conn c = *conn;

		c.want &= ~ops_lacking(&s->ops);
		if (s->ops.init)
			r = s->ops.init(s->fs, &c);
		if (r < 0) {
			fb_log(FB_LOG_ERR, "vfs: init of the backend at %s failed: %s", s->path,
			       strerror(-r));
			break;
		}
		s->inited = 1;
		wanted[i] = c.want;
		conn_fold(&res, &c);
	}
	/* With no backend yet, the kernel keeps locks itself: any backend can be mounted. */
	if (n == 0)
		res.want &= ~(FB_POSIX_LOCKS | FB_FLOCK_LOCKS);
	res.want &= res.capable;
	/* A backend that asked for a flag another one refused learns the outcome: its init
	 * runs again with only the agreed flags offered (so it does not count on them). */
	for (int i = 0; i < n && r == 0; i++) {
		struct fb__vslot *s = held[i];
		struct fb_conn c = res;

		if (!s->ops.init || (wanted[i] & ~res.want) == 0)
			continue;
		c.capable = res.want;
		if (s->ops.init(s->fs, &c) < 0 || (c.want & ~res.want))
			fb_log(FB_LOG_WARNING,
			       "vfs: the backend at %s asks for INIT flags "
			       "0x%llx that the others do not agree on",
			       s->path, (unsigned long long)(c.want & ~res.want));
	}
	for (int i = 0; i < n; i++)
		slot_put(vfs, held[i], 1);
	if (r == 0) {
		*conn = res;
		vfs->conn = res;
		vfs->inited = 1;
	}
	pthread_mutex_unlock(&vfs->init_lock);
	return r;
}

static void vfs_destroy(void *fs)
{
	struct fb_vfs *vfs = fs;

	for (int i = 1; i <= FB_VFS_MAX_SLOTS; i++) {
		struct fb__vslot *s;

		pthread_rwlock_rdlock(&vfs->lock);
		s = vfs->slots[i];
		if (s && !slot_tryget(s))
			s = NULL;
		pthread_rwlock_unlock(&vfs->lock);
		if (!s)
			continue;
		if (s->inited && !atomic_exchange(&s->destroyed, 1) && s->ops.destroy)
			s->ops.destroy(s->fs);
		/* The next session runs init() again, and may be destroyed again (the reference
		 * we hold keeps slot_free() from looking at these meanwhile). */
		s->inited = 0;
		atomic_store(&s->destroyed, 0);
		/* The kernel's lookups ended with the session: an unmounted backend that was
		 * only kept for them goes now. */
		slot_put(vfs, s, 1 + slot_sub_lookup(s, UINT64_MAX));
	}
	pthread_rwlock_wrlock(&vfs->lock);
	fb__pseudo_forget_all(vfs);
	pthread_rwlock_unlock(&vfs->lock);
	pthread_mutex_lock(&vfs->init_lock);
	vfs->inited = 0;
	pthread_mutex_unlock(&vfs->init_lock);
}

static int vfs_lookup(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		      struct fb_entry *out)
{
	struct fb_vfs *vfs = fs;
	struct route rt;
	int r = route_get(vfs, parent, &rt);

	if (r < 0)
		return r;
	if (!rt.slot) {
		r = pseudo_lookup(vfs, ctx, &rt, name, out);
	} else if (!atomic_load(&rt.slot->mounted)) {
		r = -ENOENT;
	} else if (rt.ino == FB_ROOT_ID && strcmp(name, "..") == 0) {
		/* From the backend's root up into the pseudo fs. */
		struct fb__pnode *up;

		pthread_rwlock_rdlock(&vfs->lock);
		up = fb__pseudo_find(vfs, rt.slot->mp->parent_ino);
		if (!up)
			up = vfs->root;
		pseudo_entry(vfs, up, out);
		atomic_fetch_add(&up->nlookup, 1);
		pthread_rwlock_unlock(&vfs->lock);
		r = 0;
	} else if (!rt.slot->ops.lookup) {
		r = -ENOSYS;
	} else {
		r = rt.slot->ops.lookup(rt.slot->fs, ctx, rt.ino, name, out);
		if (r == 0)
			r = entry_map(rt.slot, out);
	}
	route_put(vfs, &rt);
	return r;
}

static void vfs_forget(void *fs, fb_ino_t node, uint64_t nlookup)
{
	struct fb_vfs *vfs = fs;
	unsigned idx = (unsigned)(node >> SLOT_SHIFT);
	struct fb__vslot *s;
	uint64_t take;

	if (idx == 0) {
		/* Pseudo nodes (mount points included: a backend's root is never forgotten). */
		struct fb__pnode *n;

		pthread_rwlock_wrlock(&vfs->lock);
		n = fb__pseudo_find(vfs, node);
		if (n && n != vfs->root) {
			uint_fast64_t old = atomic_load(&n->nlookup);

			atomic_store(&n->nlookup, old < nlookup ? 0 : old - nlookup);
			if (atomic_load(&n->nlookup) == 0 && !n->parent)
				fb__pseudo_prune(vfs, n);
		}
		pthread_rwlock_unlock(&vfs->lock);
		return;
	}
	pthread_rwlock_rdlock(&vfs->lock);
	s = vfs->slots[idx];
	if (s && !slot_tryget(s))
		s = NULL;
	pthread_rwlock_unlock(&vfs->lock);
	if (!s)
		return;
	if (s->ops.forget)
		s->ops.forget(s->fs, node & FB_VFS_INO_MASK, nlookup);
	take = slot_sub_lookup(s, nlookup);
	slot_put(vfs, s, take + 1);
}

/* A backend's attributes as the mount shows them. */
static void attr_map(const struct fb__vslot *s, struct stat *st, double *timeout)
{
	st->st_ino = slot_st_ino(s, st->st_ino);
	attr_timeout(s, timeout);
}

static int pseudo_getattr(struct fb_vfs *vfs, struct fb__pnode *n, struct stat *out,
			  double *timeout)
{
	fb__pseudo_stat(vfs, n, out);
	*timeout = vfs->pseudo_timeout;
	return 0;
}

static int vfs_getattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino,
		       const struct fb_file_info *fi, struct stat *out, double *timeout)
{
	struct fb_vfs *vfs = fs;
	struct route rt;
	int r = route_get(vfs, ino, &rt);

	if (r < 0)
		return r;
	if (!rt.slot) {
		r = pseudo_getattr(vfs, rt.pn, out, timeout);
	} else if (!rt.slot->ops.getattr) {
		r = -ENOSYS;
	} else {
		r = rt.slot->ops.getattr(rt.slot->fs, ctx, rt.ino, fi, out, timeout);
		if (r == 0)
			attr_map(rt.slot, out, timeout);
	}
	route_put(vfs, &rt);
	return r;
}

static int vfs_setattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const struct stat *in,
		       uint32_t valid, const struct fb_file_info *fi, struct stat *out,
		       double *timeout)
{
	struct fb_vfs *vfs = fs;
	struct route rt;
	int r = route_get(vfs, ino, &rt);

	if (r < 0)
		return r;
	if (!rt.slot) {
		r = -EROFS;
	} else if (slot_ro(rt.slot)) {
		r = -EROFS;
	} else if (!rt.slot->ops.setattr) {
		r = -ENOSYS;
	} else {
		r = rt.slot->ops.setattr(rt.slot->fs, ctx, rt.ino, in, valid, fi, out, timeout);
		if (r == 0)
			attr_map(rt.slot, out, timeout);
	}
	route_put(vfs, &rt);
	return r;
}

static int vfs_readlink(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, char *buf, size_t size)
{
	struct route rt;
	int r = route_op(fs, ino, 0, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.readlink
			    ? rt.slot->ops.readlink(rt.slot->fs, ctx, rt.ino, buf, size)
			    : -ENOSYS;
	return route_done(fs, &rt, r, -EINVAL);
}

/* Give back what create/tmpfile handed out when the entry cannot be mapped. */
static void undo_open(struct fb__vslot *s, const struct fb_ctx *ctx, fb_ino_t ino,
		      const struct fb_file_info *fi, int flags)
{
	if (fi && s->ops.release)
		s->ops.release(s->fs, ctx, ino, fi->fh, flags, 0, 0);
}

/*
 * The server adds FOPEN_NOFLUSH for a file system without flush(); the VFS has one (to route
 * it), so it adds the flag itself for a backend without.
 */
static void open_noflush(const struct fb__vslot *slot, struct fb_file_info *fi)
{
	if (slot && fi && !slot->ops.flush)
		fi->open_flags |= FB_FOPEN_NOFLUSH;
}

/*
 * Operations that create a name: refused in the pseudo fs (EROFS), in an unmounted backend
 * (ENOENT) and in a read-only one (EROFS); the new entry is mapped. Those that also open the
 * new file (create, tmpfile) pass its @fi and open @flags, so that an entry which cannot be
 * mapped does not leave the backend's handle open; the others pass NULL and 0.
 */
static int route_create(struct fb_vfs *vfs, fb_ino_t parent, struct route *rt)
{
	int r = route_get(vfs, parent, rt);

	if (r < 0)
		return r;
	if (!rt->slot || slot_ro(rt->slot))
		r = -EROFS;
	else if (!atomic_load(&rt->slot->mounted))
		r = -ENOENT;
	else
		return 0;
	route_put(vfs, rt);
	return r;
}

/* Finish what route_create() began: map the new entry (after the backend's answer @r). */
static int create_done(struct fb_vfs *vfs, const struct fb_ctx *ctx, struct route *rt, int r,
		       struct fb_entry *out, struct fb_file_info *fi, int flags)
{
	if (r == 0 && out->ino > FB_VFS_INO_MASK)
		undo_open(rt->slot, ctx, out->ino, fi, flags);
	if (r == 0)
		r = entry_map(rt->slot, out);
	if (r == 0)
		open_noflush(rt->slot, fi);
	route_put(vfs, rt);
	return r;
}

static int vfs_symlink(void *fs, const struct fb_ctx *ctx, const char *target, fb_ino_t parent,
		       const char *name, struct fb_entry *out)
{
	struct route rt;
	int r = route_create(fs, parent, &rt);

	if (r < 0)
		return r;
	r = rt.slot->ops.symlink ? rt.slot->ops.symlink(rt.slot->fs, ctx, target, rt.ino, name, out)
				 : -ENOSYS;
	return create_done(fs, ctx, &rt, r, out, NULL, 0);
}

static int vfs_mknod(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev, struct fb_entry *out)
{
	struct route rt;
	int r = route_create(fs, parent, &rt);

	if (r < 0)
		return r;
	r = rt.slot->ops.mknod ? rt.slot->ops.mknod(rt.slot->fs, ctx, rt.ino, name, mode, rdev, out)
			       : -ENOSYS;
	return create_done(fs, ctx, &rt, r, out, NULL, 0);
}

static int vfs_mkdir(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		     mode_t mode, struct fb_entry *out)
{
	struct route rt;
	int r = route_create(fs, parent, &rt);

	if (r < 0)
		return r;
	r = rt.slot->ops.mkdir ? rt.slot->ops.mkdir(rt.slot->fs, ctx, rt.ino, name, mode, out)
			       : -ENOSYS;
	return create_done(fs, ctx, &rt, r, out, NULL, 0);
}

static int vfs_unlink(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name)
{
	struct route rt;
	int r = route_op(fs, parent, 1, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.unlink ? rt.slot->ops.unlink(rt.slot->fs, ctx, rt.ino, name)
					: -ENOSYS;
	return route_done(fs, &rt, r, -EROFS);
}

static int vfs_rmdir(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name)
{
	struct route rt;
	int r = route_op(fs, parent, 1, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.rmdir ? rt.slot->ops.rmdir(rt.slot->fs, ctx, rt.ino, name)
				       : -ENOSYS;
	return route_done(fs, &rt, r, -EROFS);
}

/* Route two node ids that must be in the same backend (rename, link, copy_file_range). */
static int route_pair(struct fb_vfs *vfs, fb_ino_t a, fb_ino_t b, struct route *rt, fb_ino_t *ino_b)
{
	struct route rb;
	int r = route_get(vfs, a, rt);

	if (r < 0)
		return r;
	if (!rt->slot) {
		route_put(vfs, rt);
		return -EROFS;
	}
	r = route_get(vfs, b, &rb);
	if (r < 0) {
		route_put(vfs, rt);
		return r;
	}
	if (rb.slot != rt->slot) {
		r = rb.slot ? -EXDEV : -EROFS;
		route_put(vfs, &rb);
		route_put(vfs, rt);
		return r;
	}
	*ino_b = rb.ino;
	route_put(vfs, &rb); /* rt's reference is enough */
	return 0;
}

static int vfs_rename(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		      fb_ino_t newparent, const char *newname, uint32_t flags)
{
	struct fb_vfs *vfs = fs;
	struct route rt;
	fb_ino_t np;
	int r = route_pair(vfs, parent, newparent, &rt, &np);

	if (r < 0)
		return r;
	if (slot_ro(rt.slot))
		r = -EROFS;
	else if (!rt.slot->ops.rename)
		r = -ENOSYS;
	else
		r = rt.slot->ops.rename(rt.slot->fs, ctx, rt.ino, name, np, newname, flags);
	route_put(vfs, &rt);
	return r;
}

static int vfs_link(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, fb_ino_t newparent,
		    const char *newname, struct fb_entry *out)
{
	struct fb_vfs *vfs = fs;
	struct route rt;
	fb_ino_t np;
	int r = route_pair(vfs, ino, newparent, &rt, &np);

	if (r < 0)
		return r;
	if (slot_ro(rt.slot))
		r = -EROFS;
	else if (!atomic_load(&rt.slot->mounted))
		r = -ENOENT;
	else if (!rt.slot->ops.link)
		r = -ENOSYS;
	else
		r = rt.slot->ops.link(rt.slot->fs, ctx, rt.ino, np, newname, out);
	if (r == 0)
		r = entry_map(rt.slot, out);
	route_put(vfs, &rt);
	return r;
}

static int open_writes(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

static int vfs_open(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		    struct fb_file_info *fi)
{
	struct fb_vfs *v = fs;
	struct route rt;
	int r = route_get(v, ino, &rt);

	if (r < 0)
		return r;
	if (!rt.slot)
		r = -EISDIR;
	else if (open_writes(flags) && slot_ro(rt.slot))
		r = -EROFS;
	else if (!rt.slot->ops.open)
		r = -ENOSYS;
	else
		r = rt.slot->ops.open(rt.slot->fs, ctx, rt.ino, flags, fi);
	if (r == 0)
		open_noflush(rt.slot, fi);
	route_put(v, &rt);
	return r;
}

static int vfs_create(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		      mode_t mode, int flags, struct fb_entry *out, struct fb_file_info *fi)
{
	struct route rt;
	int r = route_create(fs, parent, &rt);

	if (r < 0)
		return r;
	r = rt.slot->ops.create
		    ? rt.slot->ops.create(rt.slot->fs, ctx, rt.ino, name, mode, flags, out, fi)
		    : -ENOSYS;
	return create_done(fs, ctx, &rt, r, out, fi, flags);
}

static int vfs_tmpfile(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, mode_t mode, int flags,
		       struct fb_entry *out, struct fb_file_info *fi)
{
	struct route rt;
	int r = route_create(fs, parent, &rt);

	if (r < 0)
		return r;
	r = rt.slot->ops.tmpfile
		    ? rt.slot->ops.tmpfile(rt.slot->fs, ctx, rt.ino, mode, flags, out, fi)
		    : -ENOSYS;
	return create_done(fs, ctx, &rt, r, out, fi, flags);
}

static int vfs_read(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		    struct fb_writer *w, uint32_t size, uint64_t off, int flags)
{
	struct route rt;
	int r = route_op(fs, ino, 0, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.read
			    ? rt.slot->ops.read(rt.slot->fs, ctx, rt.ino, fh, w, size, off, flags)
			    : -ENOSYS;
	return route_done(fs, &rt, r, -EISDIR);
}

static int vfs_write(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		     struct fb_reader *r, uint32_t size, uint64_t off, uint32_t write_flags,
		     int flags)
{
	struct route rt;
	int ret = route_op(fs, ino, 1, &rt);

	if (ret == ROUTE_BACKEND)
		ret = rt.slot->ops.write ? rt.slot->ops.write(rt.slot->fs, ctx, rt.ino, fh, r, size,
							      off, write_flags, flags)
					 : -ENOSYS;
	return route_done(fs, &rt, ret, -EISDIR);
}

static int vfs_flush(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		     uint64_t lock_owner)
{
	struct fb_vfs *v = fs;
	struct route rt;
	int r = route_get(v, ino, &rt);

	if (r < 0)
		return r;
	/*
	 * ENOSYS would stop FLUSH for every backend: one without flush() (whose opens carry
	 * FOPEN_NOFLUSH, so this comes only with the writeback cache) has nothing to do.
	 */
	r = rt.slot && rt.slot->ops.flush
		    ? rt.slot->ops.flush(rt.slot->fs, ctx, rt.ino, fh, lock_owner)
		    : 0;
	route_put(v, &rt);
	return r == -ENOSYS ? 0 : r;
}

static int vfs_release(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int flags,
		       uint32_t release_flags, uint64_t lock_owner)
{
	struct route rt;
	int r = route_op(fs, ino, 0, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.release ? rt.slot->ops.release(rt.slot->fs, ctx, rt.ino, fh, flags,
								release_flags, lock_owner)
					 : -ENOSYS;
	return route_done(fs, &rt, r, 0);
}

static int vfs_fsync(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int datasync)
{
	struct route rt;
	int r = route_op(fs, ino, 0, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.fsync ? rt.slot->ops.fsync(rt.slot->fs, ctx, rt.ino, fh, datasync)
				       : -ENOSYS;
	return route_done(fs, &rt, r, 0);
}

static int pseudo_opendir(struct fb_file_info *fi)
{
	fi->fh = 0;
	return 0;
}

static int vfs_opendir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		       struct fb_file_info *fi)
{
	struct route rt;
	int r = route_op(fs, ino, 0, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.opendir ? rt.slot->ops.opendir(rt.slot->fs, ctx, rt.ino, flags, fi)
					 : -ENOSYS;
	else if (r == ROUTE_PSEUDO)
		r = pseudo_opendir(fi);
	route_put(fs, &rt);
	return r;
}

/*
 * A backend's listing: every entry the backend adds passes through list_hook() first, which
 * shows its inode number as the mount does and, in READDIRPLUS, maps its node id and counts
 * the lookup.
 */
struct list_hook {
	struct fb__vslot *slot;
	int plus;	     /* READDIRPLUS */
	fb_dirbuf_hook prev; /* hook of a file system above us, or NULL */
	void *prev_priv;
};

static int list_hook(void *priv, struct fb_dirbuf *b, const char *name, size_t namelen,
		     const struct fb_entry *e, uint64_t off)
{
	struct list_hook *h = priv;
	struct fb__vslot *s = h->slot;
	struct fb_entry t = *e;
	int is_root = 0, r;

	t.attr.st_ino = slot_st_ino(s, t.attr.st_ino);
	if (!h->plus) {
		fb_dirbuf_swap_hook(b, &h->prev, &h->prev_priv);
		r = fb_dirbuf_add(b, name, namelen, t.attr.st_ino, (t.attr.st_mode & S_IFMT) >> 12,
				  off);
		fb_dirbuf_swap_hook(b, &h->prev, &h->prev_priv);
		return r;
	}
	entry_timeouts(s, &t);
	if (t.ino == FB_ROOT_ID) {
		t.ino = s->mp->ino;
		is_root = 1;
	} else if (t.ino > FB_VFS_INO_MASK) {
		/* Not added, so the backend took no lookup. */
		return -EOVERFLOW;
	} else if (t.ino) {
		t.ino |= (fb_ino_t)s->idx << SLOT_SHIFT;
	}
	/* Add through whatever was installed before us. */
	fb_dirbuf_swap_hook(b, &h->prev, &h->prev_priv);
	r = fb_dirbuf_add_plus(b, name, namelen, &t, off);
	fb_dirbuf_swap_hook(b, &h->prev, &h->prev_priv);
	if (r == 0 && t.ino) {
		if (is_root)
			atomic_fetch_add(&s->mp->nlookup, 1);
		else
			slot_add_lookup(s);
	}
	return r;
}

static int vfs_list(struct fb_vfs *vfs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		    uint64_t off, struct fb_dirbuf *buf, int plus)
{
	struct route rt;
	int r = route_get(vfs, ino, &rt);

	if (r < 0)
		return r;
	if (!rt.slot) {
		r = pseudo_readdir(vfs, ctx, &rt, off, buf, plus);
	} else if (!(plus ? rt.slot->ops.readdirplus : rt.slot->ops.readdir)) {
		r = -ENOSYS;
	} else {
		struct list_hook h = {.slot = rt.slot, .plus = plus, .prev = list_hook};

		h.prev_priv = &h;
		/* Install ours; h.prev/prev_priv now hold what was there. */
		fb_dirbuf_swap_hook(buf, &h.prev, &h.prev_priv);
		if (plus)
			r = rt.slot->ops.readdirplus(rt.slot->fs, ctx, rt.ino, fh, off, buf);
		else
			r = rt.slot->ops.readdir(rt.slot->fs, ctx, rt.ino, fh, off, buf);
		fb_dirbuf_swap_hook(buf, &h.prev, &h.prev_priv);
	}
	route_put(vfs, &rt);
	return r;
}

static int vfs_readdir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t off,
		       struct fb_dirbuf *buf)
{
	return vfs_list(fs, ctx, ino, fh, off, buf, 0);
}

static int vfs_readdirplus(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			   uint64_t off, struct fb_dirbuf *buf)
{
	return vfs_list(fs, ctx, ino, fh, off, buf, 1);
}

static int vfs_releasedir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int flags)
{
	struct route rt;
	int r = route_op(fs, ino, 0, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.releasedir
			    ? rt.slot->ops.releasedir(rt.slot->fs, ctx, rt.ino, fh, flags)
			    : -ENOSYS;
	return route_done(fs, &rt, r, 0);
}

static int vfs_fsyncdir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int datasync)
{
	struct route rt;
	int r = route_op(fs, ino, 0, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.fsyncdir
			    ? rt.slot->ops.fsyncdir(rt.slot->fs, ctx, rt.ino, fh, datasync)
			    : -ENOSYS;
	return route_done(fs, &rt, r, 0);
}

static int vfs_statfs(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, struct statvfs *out)
{
	struct route rt;
	int r = route_op(fs, ino, 0, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.statfs ? rt.slot->ops.statfs(rt.slot->fs, ctx, rt.ino, out)
					: -ENOSYS;
	else if (r == ROUTE_PSEUDO)
		r = pseudo_statfs(out);
	route_put(fs, &rt);
	return r;
}

/*
 * The kernel remembers an ENOSYS answer to an xattr request for the whole connection: one
 * backend without xattrs (no operation, or switched off) must not switch them off for the
 * others. Its callers get EOPNOTSUPP, which is what the kernel would tell them.
 */
static int xattr_result(int r)
{
	return r == -ENOSYS ? -EOPNOTSUPP : r;
}

static int vfs_setxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name,
			const void *value, size_t size, int flags, uint32_t setxattr_flags)
{
	struct route rt;
	int r = route_op(fs, ino, 1, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.setxattr
			    ? rt.slot->ops.setxattr(rt.slot->fs, ctx, rt.ino, name, value, size,
						    flags, setxattr_flags)
			    : -ENOSYS;
	return xattr_result(route_done(fs, &rt, r, -EROFS));
}

static int vfs_getxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name,
			void *buf, size_t size)
{
	struct route rt;
	int r = route_op(fs, ino, 0, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.getxattr
			    ? rt.slot->ops.getxattr(rt.slot->fs, ctx, rt.ino, name, buf, size)
			    : -ENOSYS;
	return xattr_result(route_done(fs, &rt, r, -ENODATA));
}

static int vfs_listxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, char *buf, size_t size)
{
	struct route rt;
	int r = route_op(fs, ino, 0, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.listxattr
			    ? rt.slot->ops.listxattr(rt.slot->fs, ctx, rt.ino, buf, size)
			    : -ENOSYS;
	return xattr_result(route_done(fs, &rt, r, 0));
}

static int vfs_removexattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name)
{
	struct route rt;
	int r = route_op(fs, ino, 1, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.removexattr
			    ? rt.slot->ops.removexattr(rt.slot->fs, ctx, rt.ino, name)
			    : -ENOSYS;
	return xattr_result(route_done(fs, &rt, r, -EROFS));
}

static int vfs_access(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint32_t mask)
{
	struct route rt;
	int r = route_op(fs, ino, (mask & W_OK) != 0, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.access ? rt.slot->ops.access(rt.slot->fs, ctx, rt.ino, mask)
					: -ENOSYS;
	else if (r == ROUTE_PSEUDO)
		r = (mask & W_OK) ? -EROFS : 0;
	route_put(fs, &rt);
	return r;
}

static int vfs_getlk(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		     struct fb_lock *lk)
{
	struct route rt;
	int r = route_op(fs, ino, 0, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.getlk ? rt.slot->ops.getlk(rt.slot->fs, ctx, rt.ino, fh, owner, lk)
				       : -ENOSYS;
	return route_done(fs, &rt, r, -ENOSYS);
}

static int vfs_setlk(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		     const struct fb_lock *lk, int sleep)
{
	struct route rt;
	int r = route_op(fs, ino, 0, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.setlk
			    ? rt.slot->ops.setlk(rt.slot->fs, ctx, rt.ino, fh, owner, lk, sleep)
			    : -ENOSYS;
	return route_done(fs, &rt, r, -ENOSYS);
}

static int vfs_flock(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		     int op)
{
	struct route rt;
	int r = route_op(fs, ino, 0, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.flock ? rt.slot->ops.flock(rt.slot->fs, ctx, rt.ino, fh, owner, op)
				       : -ENOSYS;
	return route_done(fs, &rt, r, -ENOSYS);
}

static int vfs_bmap(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint32_t blocksize,
		    uint64_t block, uint64_t *out)
{
	struct route rt;
	int r = route_op(fs, ino, 0, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.bmap
			    ? rt.slot->ops.bmap(rt.slot->fs, ctx, rt.ino, blocksize, block, out)
			    : -ENOSYS;
	return route_done(fs, &rt, r, -ENOSYS);
}

static int vfs_ioctl(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint32_t flags,
		     uint32_t cmd, const void *in, uint32_t in_size, void *out, uint32_t *out_size)
{
	struct route rt;
	int r = route_op(fs, ino, 0, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.ioctl ? rt.slot->ops.ioctl(rt.slot->fs, ctx, rt.ino, fh, flags,
							    cmd, in, in_size, out, out_size)
				       : -ENOSYS;
	return route_done(fs, &rt, r, -ENOTTY);
}

static int vfs_poll(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t kh,
		    uint32_t flags, uint32_t events, uint32_t *revents)
{
	struct route rt;
	int r = route_op(fs, ino, 0, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.poll ? rt.slot->ops.poll(rt.slot->fs, ctx, rt.ino, fh, kh, flags,
							  events, revents)
				      : -ENOSYS;
	return route_done(fs, &rt, r, -ENOSYS);
}

static int vfs_fallocate(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int mode,
			 uint64_t off, uint64_t len)
{
	struct route rt;
	int r = route_op(fs, ino, 1, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.fallocate
			    ? rt.slot->ops.fallocate(rt.slot->fs, ctx, rt.ino, fh, mode, off, len)
			    : -ENOSYS;
	return route_done(fs, &rt, r, -EISDIR);
}

static int vfs_lseek(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t off,
		     int whence, uint64_t *out)
{
	struct route rt;
	int r = route_op(fs, ino, 0, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.lseek
			    ? rt.slot->ops.lseek(rt.slot->fs, ctx, rt.ino, fh, off, whence, out)
			    : -ENOSYS;
	return route_done(fs, &rt, r, -ENOSYS);
}

static int vfs_copy_file_range(void *fs, const struct fb_ctx *ctx, fb_ino_t ino_in, uint64_t fh_in,
			       uint64_t off_in, fb_ino_t ino_out, uint64_t fh_out, uint64_t off_out,
			       uint64_t len, uint64_t flags, uint64_t *copied)
{
	struct fb_vfs *vfs = fs;
	struct route rt;
	fb_ino_t out_ino;
	int r = route_pair(vfs, ino_in, ino_out, &rt, &out_ino);

	if (r < 0)
		return r == -EROFS ? -EISDIR : r;
	if (slot_ro(rt.slot))
		r = -EROFS;
	else if (!rt.slot->ops.copy_file_range)
		r = -ENOSYS;
	else
		r = rt.slot->ops.copy_file_range(rt.slot->fs, ctx, rt.ino, fh_in, off_in, out_ino,
						 fh_out, off_out, len, flags, copied);
	route_put(vfs, &rt);
	return r;
}

static int pseudo_statx(struct fb_vfs *vfs, struct fb__pnode *n, struct statx *sx, double *timeout)
{
	struct stat st;

	fb__pseudo_stat(vfs, n, &st);
	fb__statx_from_stat(&st, sx);
	*timeout = vfs->pseudo_timeout;
	return 0;
}

static int vfs_statx(void *fs, const struct fb_ctx *ctx, fb_ino_t ino,
		     const struct fb_file_info *fi, uint32_t sx_flags, uint32_t mask,
		     struct statx *out, double *timeout)
{
	struct fb_vfs *vfs = fs;
	struct route rt;
	int r = route_get(vfs, ino, &rt);

	if (r < 0)
		return r;
	if (!rt.slot) {
		r = pseudo_statx(vfs, rt.pn, out, timeout);
	} else if (!rt.slot->ops.statx) {
		r = -ENOSYS;
	} else {
		r = rt.slot->ops.statx(rt.slot->fs, ctx, rt.ino, fi, sx_flags, mask, out, timeout);
		if (r == 0) {
			out->stx_ino = slot_st_ino(rt.slot, out->stx_ino);
			attr_timeout(rt.slot, timeout);
		}
	}
	route_put(vfs, &rt);
	return r;
}

static int vfs_syncfs(void *fs, const struct fb_ctx *ctx, fb_ino_t ino)
{
	struct route rt;
	int r = route_op(fs, ino, 0, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.syncfs ? rt.slot->ops.syncfs(rt.slot->fs, ctx, rt.ino) : -ENOSYS;
	return route_done(fs, &rt, r, 0);
}

static int vfs_setupmapping(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			    uint64_t foffset, uint64_t len, uint64_t flags, uint64_t moffset)
{
	struct route rt;
	int r = route_op(fs, ino, 0, &rt);

	if (r == ROUTE_BACKEND)
		r = rt.slot->ops.setupmapping
			    ? rt.slot->ops.setupmapping(rt.slot->fs, ctx, rt.ino, fh, foffset, len,
							flags, moffset)
			    : -ENOSYS;
	return route_done(fs, &rt, r, -ENOSYS);
}

const struct fb_fs_ops fb_vfs_ops = {
	.init = vfs_init,
	.destroy = vfs_destroy,
	.lookup = vfs_lookup,
	.forget = vfs_forget,
	.getattr = vfs_getattr,
	.setattr = vfs_setattr,
	.readlink = vfs_readlink,
	.symlink = vfs_symlink,
	.mknod = vfs_mknod,
	.mkdir = vfs_mkdir,
	.unlink = vfs_unlink,
	.rmdir = vfs_rmdir,
	.rename = vfs_rename,
	.link = vfs_link,
	.open = vfs_open,
	.create = vfs_create,
	.read = vfs_read,
	.write = vfs_write,
	.flush = vfs_flush,
	.release = vfs_release,
	.fsync = vfs_fsync,
	.opendir = vfs_opendir,
	.readdir = vfs_readdir,
	.readdirplus = vfs_readdirplus,
	.releasedir = vfs_releasedir,
	.fsyncdir = vfs_fsyncdir,
	.statfs = vfs_statfs,
	.setxattr = vfs_setxattr,
	.getxattr = vfs_getxattr,
	.listxattr = vfs_listxattr,
	.removexattr = vfs_removexattr,
	.access = vfs_access,
	.getlk = vfs_getlk,
	.setlk = vfs_setlk,
	.flock = vfs_flock,
	.bmap = vfs_bmap,
	.ioctl = vfs_ioctl,
	.poll = vfs_poll,
	.fallocate = vfs_fallocate,
	.lseek = vfs_lseek,
	.copy_file_range = vfs_copy_file_range,
	.tmpfile = vfs_tmpfile,
	.statx = vfs_statx,
	.syncfs = vfs_syncfs,
	.setupmapping = vfs_setupmapping,
	/* removemapping names no node: no backend to route it to. */
};
