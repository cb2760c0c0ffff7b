/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * memfs directories and names: the per-directory hash table and readdir order, lookup, every
 * operation that adds, removes or moves a name, and directory listings. The locking rules are
 * at the top of memfs_i.h; everything here that changes a name runs under the write lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>

#include <fuse_backend/abi.h>

#include "memfs_i.h"

/* ------------------------------------------------------------------------------------------ */
/* Names                                                                                      */

/* FNV-1a with a per-instance seed, so that colliding names are not known in advance. */
static uint32_t name_hash(const struct fb_memfs *m, const char *name, size_t len)
{
	uint32_t h = 2166136261u ^ m->hash_seed;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 16777619u;
	}
	return h;
}

/*
 * Check a name from a request: 1 to 255 bytes without '/'. Sets *@len. "." and ".." pass;
 * callers that create or remove names refuse them.
 */
static int check_name(const char *name, size_t *len)
{
	size_t n = strnlen(name, MEMFS_NAME_MAX + 1);

	if (n > MEMFS_NAME_MAX)
		return -ENAMETOOLONG;
	if (n == 0 || memchr(name, '/', n))
		return -EINVAL;
	*len = n;
	return 0;
}

static bool is_dot_or_dotdot(const char *name)
{
	return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/* May the caller remove or replace the name of @victim in @dir (write, search, sticky bit)? */
static int may_delete(const struct fb_ctx *ctx, const struct memfs_inode *dir,
		      const struct memfs_inode *victim)
{
	int r = fb__memfs_may(ctx, dir, W_OK | X_OK);

	if (r < 0)
		return r;
	if ((dir->mode & S_ISVTX) && ctx->uid != 0 && ctx->uid != dir->uid &&
	    ctx->uid != victim->uid)
		return -EPERM;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Directories                                                                                */

/*
 * What a name costs against max_bytes: names are memory too, and hard links could otherwise
 * grow it without bound.
 */
static size_t dentry_cost(size_t namelen)
{
	return sizeof(struct memfs_dentry) + namelen + 1;
}

static struct memfs_dentry *dir_find(const struct fb_memfs *m, const struct memfs_inode *dir,
				     const char *name, size_t len)
{
	const struct memfs_dir *d = &dir->dir;
	uint32_t h;

	if (d->nbuckets == 0)
		return NULL;
	h = name_hash(m, name, len);
	for (struct memfs_dentry *e = d->buckets[h & (d->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && e->namelen == len && memcmp(e->name, name, len) == 0)
			return e;
	return NULL;
}

/* Rehash into @n buckets (a power of two). Nothing changes on error. */
static int dir_buckets_resize(struct memfs_dir *d, uint32_t n)
{
	struct memfs_dentry **b = calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (uint32_t k = 0; k < d->nbuckets; k++) {
		struct memfs_dentry *e = d->buckets[k], *next;

		for (; e; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(d->buckets);
	d->buckets = b;
	d->nbuckets = n;
	return 0;
}

/* Squeeze the holes out of order[]; cookies do not change, so readdir positions stay valid. */
static void dir_order_compact(struct memfs_dir *d)
{
	size_t j = 0;

	for (size_t i = 0; i < d->norder; i++) {
		if (d->order[i]) {
			d->order[j] = d->order[i];
			d->order[j]->slot = j;
			j++;
		}
	}
	d->norder = j;
	/* A directory that shrank gives its arrays back (failure to shrink is harmless). */
	size_t cap = d->order_cap;
	uint32_t nb = d->nbuckets;

	while (cap > 16 && d->norder < cap / 4)
		cap /= 2;
	if (cap < d->order_cap) {
		struct memfs_dentry **o = realloc(d->order, cap * sizeof(*o));

		if (o) {
			d->order = o;
			d->order_cap = cap;
		}
	}
	while (nb > 16 && d->count < nb / 8)
		nb /= 2;
	if (nb < d->nbuckets)
		dir_buckets_resize(d, nb);
}

/* Add @name -> @inode to @dir. Link counts are the caller's business. Nothing changes on error. */
static int dir_add(struct fb_memfs *m, struct memfs_inode *dir, const char *name, size_t len,
		   struct memfs_inode *inode)
{
	struct memfs_dir *d = &dir->dir;
	struct memfs_dentry *e;
	int r;

	if (d->count >= d->nbuckets) {
		r = dir_buckets_resize(d, d->nbuckets ? d->nbuckets * 2 : 8);
		if (r < 0)
			return r;
	}
	if (d->norder == d->order_cap) {
		if (d->count < d->norder / 2) {
			dir_order_compact(d);
		} else {
			size_t cap = d->order_cap ? d->order_cap * 2 : 8;
			struct memfs_dentry **o = realloc(d->order, cap * sizeof(*o));

			if (!o)
				return -ENOMEM;
			d->order = o;
			d->order_cap = cap;
		}
	}
	r = fb__memfs_charge(m, dentry_cost(len));
	if (r < 0)
		return r;
	e = malloc(sizeof(*e) + len + 1);
	if (!e) {
		fb__memfs_uncharge(m, dentry_cost(len));
		return -ENOMEM;
	}
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	e->namelen = (uint32_t)len;
	e->hash = name_hash(m, name, len);
	e->inode = inode;
	e->cookie = d->next_cookie++;
	e->slot = d->norder;
	d->order[d->norder++] = e;
	e->hnext = d->buckets[e->hash & (d->nbuckets - 1)];
	d->buckets[e->hash & (d->nbuckets - 1)] = e;
	d->count++;
	return 0;
}

static void dir_remove(struct fb_memfs *m, struct memfs_inode *dir, struct memfs_dentry *e)
{
	struct memfs_dir *d = &dir->dir;
	struct memfs_dentry **p = &d->buckets[e->hash & (d->nbuckets - 1)];

	while (*p != e)
		p = &(*p)->hnext;
	*p = e->hnext;
	d->order[e->slot] = NULL;
	d->count--;
	fb__memfs_uncharge(m, dentry_cost(e->namelen));
	free(e);
	if (d->norder > 64 && d->count < d->norder / 4)
		dir_order_compact(d);
}

/* Index in order[] of the first dentry (or hole) whose cookie is >= @cookie. */
static size_t dir_seek(const struct memfs_dir *d, uint64_t cookie)
{
	size_t lo = 0, hi = d->norder;

	/* A hole has no cookie: compare with the next live slot instead. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2, k = mid;

		while (k < hi && !d->order[k])
			k++;
		if (k == hi) {
			hi = mid;
		} else if (d->order[k]->cookie < cookie) {
			lo = k + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

void fb__memfs_dir_free(struct fb_memfs *m, struct memfs_inode *dir)
{
	struct memfs_dir *d = &dir->dir;

	for (size_t i = 0; i < d->norder; i++) {
		if (d->order[i]) {
			fb__memfs_uncharge(m, dentry_cost(d->order[i]->namelen));
			free(d->order[i]);
		}
	}
	free(d->order);
	free(d->buckets);
}

/* The directory @ino for an operation on its names: -ENOENT, -ENOTDIR. */
int fb__memfs_get_dir(struct fb_memfs *m, fb_ino_t ino, struct memfs_inode **ret)
{
	struct memfs_inode *dir = fb__memfs_find(m, ino);

	if (!dir)
		return -ENOENT;
	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	*ret = dir;
	return 0;
}

/* Update mtime and ctime of a directory whose names changed. Under the write lock. */
static void dir_touch(struct memfs_inode *dir, const struct timespec *now)
{
	dir->mtime = dir->ctime = *now;
}

int fb__memfs_lookup(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		     struct fb_entry *out)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *dir, *inode = NULL;
	struct memfs_dentry *e;
	size_t len;
	int r;

	pthread_rwlock_rdlock(&m->lock);
	r = fb__memfs_get_dir(m, parent, &dir);
	if (r < 0)
		goto out_unlock;
	r = check_name(name, &len);
	if (r < 0)
		goto out_unlock;
	r = fb__memfs_may(ctx, dir, X_OK);
	if (r < 0)
		goto out_unlock;
	if (strcmp(name, ".") == 0) {
		inode = dir;
	} else if (strcmp(name, "..") == 0) {
		/* The kernel resolves ".." itself; answer anyway (NFS export asks). */
		inode = dir == m->root ? dir : dir->parent;
	} else {
		e = dir_find(m, dir, name, len);
		inode = e ? e->inode : NULL;
	}
	if (!inode) {
		r = -ENOENT;
		goto out_unlock;
	}
	fb__memfs_entry_get(m, inode, out);
out_unlock:
	pthread_rwlock_unlock(&m->lock);
	return r;
}

/* ------------------------------------------------------------------------------------------ */
/* Creating names                                                                             */

/*
 * Create a new inode of @mode named @name in directory @parent, with one link. Symlinks get
 * @target. Called with the write lock held; fills *@ret (no lookup taken yet).
 */
static int node_create(struct fb_memfs *m, const struct fb_ctx *ctx, fb_ino_t parent,
		       const char *name, mode_t mode, dev_t rdev, const char *target,
		       struct memfs_inode **ret)
{
	struct memfs_inode *dir, *inode;
	struct timespec now;
	size_t len, tlen = 0;
	int r;

	r = fb__memfs_get_dir(m, parent, &dir);
	if (r < 0)
		return r;
	if (dir->nlink == 0)
		return -ENOENT;		/* removed while open */
	r = check_name(name, &len);
	if (r < 0)
		return r;
	r = fb__memfs_may(ctx, dir, W_OK | X_OK);
	if (r < 0)
		return r;
	if (is_dot_or_dotdot(name) || dir_find(m, dir, name, len))
		return -EEXIST;
	if (S_ISDIR(mode) && dir->nlink >= MEMFS_LINK_MAX)
		return -EMLINK;
	if (target) {
		tlen = strnlen(target, MEMFS_SYMLINK_MAX + 1);
		if (tlen > MEMFS_SYMLINK_MAX)
			return -ENAMETOOLONG;
		if (tlen == 0)
			return -ENOENT;
		r = fb__memfs_charge(m, tlen);
		if (r < 0)
			return r;
	}
	r = fb__memfs_inode_new(m, ctx, dir, mode, &inode);
	if (r < 0)
		goto out_uncharge;
	if (target) {
		inode->target = strndup(target, tlen);
		if (!inode->target) {
			r = -ENOMEM;
			goto out_free_inode;
		}
		inode->size = tlen;
		tlen = 0;	/* now owned by the inode */
	}
	inode->rdev = rdev;
	r = dir_add(m, dir, name, len, inode);
	if (r < 0)
		goto out_free_inode;
	inode->nlink = 1;
	if (S_ISDIR(mode)) {
		inode->nlink = 2;
		inode->parent = dir;
		dir->nlink++;
	}
	fb__memfs_now(&now);
	dir_touch(dir, &now);
	*ret = inode;
	return 0;

out_free_inode:
	fb__memfs_inode_free(m, inode);
out_uncharge:
	fb__memfs_uncharge(m, tlen);
	return r;
}

int fb__memfs_mknod(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		    mode_t mode, dev_t rdev, struct fb_entry *out)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *inode;
	int r;

	switch (mode & S_IFMT) {
	case 0:
		mode |= S_IFREG;
		/* fall through */
	case S_IFREG:
	case S_IFIFO:
	case S_IFSOCK:
		rdev = 0;
		break;
	case S_IFCHR:
	case S_IFBLK:
		if (ctx->uid != 0)
			return -EPERM;
		break;
	default:
		return -EINVAL;
	}
	pthread_rwlock_wrlock(&m->lock);
	r = node_create(m, ctx, parent, name, mode, rdev, NULL, &inode);
	if (r == 0)
		fb__memfs_entry_get(m, inode, out);
	pthread_rwlock_unlock(&m->lock);
	return r;
}

int fb__memfs_mkdir(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		    mode_t mode, struct fb_entry *out)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *inode;
	int r;

	pthread_rwlock_wrlock(&m->lock);
	r = node_create(m, ctx, parent, name, S_IFDIR | (mode & 07777), 0, NULL, &inode);
	if (r == 0)
		fb__memfs_entry_get(m, inode, out);
	pthread_rwlock_unlock(&m->lock);
	return r;
}

int fb__memfs_symlink(void *fs, const struct fb_ctx *ctx, const char *target,
		      fb_ino_t parent, const char *name, struct fb_entry *out)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *inode;
	int r;

	pthread_rwlock_wrlock(&m->lock);
	r = node_create(m, ctx, parent, name, S_IFLNK | 0777, 0, target, &inode);
	if (r == 0)
		fb__memfs_entry_get(m, inode, out);
	pthread_rwlock_unlock(&m->lock);
	return r;
}

int fb__memfs_link(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, fb_ino_t newparent,
		   const char *newname, struct fb_entry *out)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *inode, *dir;
	struct timespec now;
	size_t len;
	int r;

	pthread_rwlock_wrlock(&m->lock);
	inode = fb__memfs_find(m, ino);
	if (!inode) {
		r = -ENOENT;
		goto out_unlock;
	}
	r = fb__memfs_get_dir(m, newparent, &dir);
	if (r < 0)
		goto out_unlock;
	r = check_name(newname, &len);
	if (r < 0)
		goto out_unlock;
	if (S_ISDIR(inode->mode)) {
		r = -EPERM;
		goto out_unlock;
	}
	/* A removed file cannot come back, except an O_TMPFILE one (linkat). */
	if (dir->nlink == 0 || (inode->nlink == 0 && !inode->linkable)) {
		r = -ENOENT;
		goto out_unlock;
	}
	r = fb__memfs_may(ctx, dir, W_OK | X_OK);
	if (r < 0)
		goto out_unlock;
	if (is_dot_or_dotdot(newname) || dir_find(m, dir, newname, len)) {
		r = -EEXIST;
		goto out_unlock;
	}
	if (inode->nlink >= MEMFS_LINK_MAX) {
		r = -EMLINK;
		goto out_unlock;
	}
	r = dir_add(m, dir, newname, len, inode);
	if (r < 0)
		goto out_unlock;
	inode->nlink++;
	inode->linkable = false;
	fb__memfs_now(&now);
	inode->ctime = now;
	dir_touch(dir, &now);
	fb__memfs_entry_get(m, inode, out);
out_unlock:
	pthread_rwlock_unlock(&m->lock);
	return r;
}

/* ------------------------------------------------------------------------------------------ */
/* Removing names                                                                             */

int fb__memfs_unlink(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *dir, *victim;
	struct memfs_dentry *e;
	struct timespec now;
	size_t len;
	int r;

	pthread_rwlock_wrlock(&m->lock);
	r = fb__memfs_get_dir(m, parent, &dir);
	if (r < 0)
		goto out_unlock;
	r = check_name(name, &len);
	if (r < 0)
		goto out_unlock;
	if (is_dot_or_dotdot(name)) {
		r = -EISDIR;
		goto out_unlock;
	}
	e = dir_find(m, dir, name, len);
	if (!e) {
		r = -ENOENT;
		goto out_unlock;
	}
	victim = e->inode;
	if (S_ISDIR(victim->mode)) {
		r = -EISDIR;
		goto out_unlock;
	}
	r = may_delete(ctx, dir, victim);
	if (r < 0)
		goto out_unlock;
	dir_remove(m, dir, e);
	victim->nlink--;
	fb__memfs_now(&now);
	victim->ctime = now;
	dir_touch(dir, &now);
	fb__memfs_inode_put(m, victim);
out_unlock:
	pthread_rwlock_unlock(&m->lock);
	fb__memfs_maybe_trim(m);
	return r;
}

int fb__memfs_rmdir(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *dir, *victim;
	struct memfs_dentry *e;
	struct timespec now;
	size_t len;
	int r;

	pthread_rwlock_wrlock(&m->lock);
	r = fb__memfs_get_dir(m, parent, &dir);
	if (r < 0)
		goto out_unlock;
	r = check_name(name, &len);
	if (r < 0)
		goto out_unlock;
	if (is_dot_or_dotdot(name)) {
		r = name[1] == '\0' ? -EINVAL : -ENOTEMPTY;
		goto out_unlock;
	}
	e = dir_find(m, dir, name, len);
	if (!e) {
		r = -ENOENT;
		goto out_unlock;
	}
	victim = e->inode;
	if (!S_ISDIR(victim->mode)) {
		r = -ENOTDIR;
		goto out_unlock;
	}
	r = may_delete(ctx, dir, victim);
	if (r < 0)
		goto out_unlock;
	if (victim->dir.count > 0) {
		r = -ENOTEMPTY;
		goto out_unlock;
	}
	dir_remove(m, dir, e);
	victim->nlink = 0;
	victim->parent = NULL;
	dir->nlink--;
	fb__memfs_now(&now);
	victim->ctime = now;
	dir_touch(dir, &now);
	fb__memfs_inode_put(m, victim);
out_unlock:
	pthread_rwlock_unlock(&m->lock);
	fb__memfs_maybe_trim(m);
	return r;
}

/* Is @dir equal to @ancestor or below it? Walks the parent pointers up to the root. */
static bool dir_is_within(const struct memfs_inode *dir, const struct memfs_inode *ancestor)
{
	for (; dir; dir = dir->parent)
		if (dir == ancestor)
			return true;
	return false;
}

/* The checks of rename, in the order Linux applies them; nothing is changed here. */
static int rename_check(const struct fb_ctx *ctx, struct memfs_inode *odir,
			struct memfs_inode *src, struct memfs_inode *ndir,
			struct memfs_inode *dst, uint32_t flags)
{
	bool src_dir = S_ISDIR(src->mode), dst_dir = dst && S_ISDIR(dst->mode);
	int r;

	if ((flags & RENAME_EXCHANGE) && !dst)
		return -ENOENT;
	if ((flags & RENAME_NOREPLACE) && dst)
		return -EEXIST;
	r = may_delete(ctx, odir, src);
	if (r < 0)
		return r;
	if (dst)
		r = may_delete(ctx, ndir, dst);
	else
		r = fb__memfs_may(ctx, ndir, W_OK | X_OK);
	if (r < 0)
		return r;
	if (src == dst)
		return 0;
	/* A directory that changes parent must have its ".." rewritten: needs write on it. */
	if (odir != ndir) {
		if (src_dir && (r = fb__memfs_may(ctx, src, W_OK)) < 0)
			return r;
		if ((flags & RENAME_EXCHANGE) && dst_dir &&
		    (r = fb__memfs_may(ctx, dst, W_OK)) < 0)
			return r;
	}
	if (src_dir && dir_is_within(ndir, src))
		return -EINVAL;
	if ((flags & RENAME_EXCHANGE) && dst_dir && dir_is_within(odir, dst))
		return -EINVAL;
	if (flags & RENAME_EXCHANGE) {
		if (odir != ndir && src_dir != dst_dir &&
		    (src_dir ? ndir : odir)->nlink >= MEMFS_LINK_MAX)
			return -EMLINK;
		return 0;
	}
	if (dst) {
		if (src_dir && !dst_dir)
			return -ENOTDIR;
		if (!src_dir && dst_dir)
			return -EISDIR;
		if (dst_dir && dst->dir.count > 0)
			return -ENOTEMPTY;
	}
	if (src_dir && !dst_dir && odir != ndir && ndir->nlink >= MEMFS_LINK_MAX)
		return -EMLINK;
	return 0;
}

/* Move directory @d (already renamed) from @from to @to: fix ".." and the link counts. */
static void dir_reparent(struct memfs_inode *d, struct memfs_inode *from, struct memfs_inode *to)
{
	if (!S_ISDIR(d->mode) || from == to)
		return;
	d->parent = to;
	from->nlink--;
	to->nlink++;
}

int fb__memfs_rename(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		     fb_ino_t newparent, const char *newname, uint32_t flags)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *odir, *ndir, *src, *dst;
	struct memfs_dentry *oe, *ne;
	struct timespec now;
	size_t olen = 0, nlen = 0;
	int r;

	if ((flags & ~(uint32_t)(RENAME_NOREPLACE | RENAME_EXCHANGE)) ||
	    (flags & RENAME_NOREPLACE && flags & RENAME_EXCHANGE))
		return -EINVAL;

	pthread_rwlock_wrlock(&m->lock);
	r = fb__memfs_get_dir(m, parent, &odir);
	if (r == 0)
		r = fb__memfs_get_dir(m, newparent, &ndir);
	if (r == 0)
		r = check_name(name, &olen);
	if (r == 0)
		r = check_name(newname, &nlen);
	if (r < 0)
		goto out_unlock;
	if (is_dot_or_dotdot(name) || is_dot_or_dotdot(newname)) {
		r = -EBUSY;
		goto out_unlock;
	}
	oe = dir_find(m, odir, name, olen);
	if (!oe) {
		r = -ENOENT;
		goto out_unlock;
	}
	if (ndir->nlink == 0) {
		r = -ENOENT;
		goto out_unlock;
	}
	ne = dir_find(m, ndir, newname, nlen);
	src = oe->inode;
	dst = ne ? ne->inode : NULL;
	r = rename_check(ctx, odir, src, ndir, dst, flags);
	if (r < 0 || src == dst)
		goto out_unlock;

	fb__memfs_now(&now);
	if (flags & RENAME_EXCHANGE) {
		oe->inode = dst;
		ne->inode = src;
		dir_reparent(src, odir, ndir);
		dir_reparent(dst, ndir, odir);
		dst->ctime = now;
	} else if (dst) {
		/* Reuse the target's dentry: no allocation, so nothing can fail from here. */
		ne->inode = src;
		dir_remove(m, odir, oe);
		dir_reparent(src, odir, ndir);
		if (S_ISDIR(dst->mode)) {
			dst->nlink = 0;
			dst->parent = NULL;
			ndir->nlink--;
		} else {
			dst->nlink--;
		}
		dst->ctime = now;
	} else {
		r = dir_add(m, ndir, newname, nlen, src);
		if (r < 0)
			goto out_unlock;
		dir_remove(m, odir, oe);
		dir_reparent(src, odir, ndir);
	}
	src->ctime = now;
	dir_touch(odir, &now);
	dir_touch(ndir, &now);
	if (dst && !(flags & RENAME_EXCHANGE))
		fb__memfs_inode_put(m, dst);
out_unlock:
	pthread_rwlock_unlock(&m->lock);
	fb__memfs_maybe_trim(m);
	return r;
}

/* ------------------------------------------------------------------------------------------ */
/* Create and open                                                                            */

int fb__memfs_create(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		     mode_t mode, int flags, struct fb_entry *out, struct fb_file_info *fi)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *dir = NULL, *inode;
	struct memfs_dentry *e;
	size_t len = 0;
	int r;

	pthread_rwlock_wrlock(&m->lock);
	/* The kernel asks only for names it believes absent; if one appeared, open it. */
	if (fb__memfs_get_dir(m, parent, &dir) == 0 && check_name(name, &len) == 0 &&
	    fb__memfs_may(ctx, dir, X_OK) == 0 && (e = dir_find(m, dir, name, len))) {
		if (flags & O_EXCL) {
			r = -EEXIST;
			goto out_unlock;
		}
		r = fb__memfs_open_inode(m, ctx, e->inode, flags, true, fi);
		if (r == 0)
			fb__memfs_entry_get(m, e->inode, out);
		goto out_unlock;
	}
	r = node_create(m, ctx, parent, name, S_IFREG | (mode & 07777), 0, NULL, &inode);
	if (r < 0)
		goto out_unlock;
	/* A new file opens whatever its mode says (open(O_CREAT|O_RDWR, 0444) works). */
	r = fb__memfs_open_inode(m, ctx, inode, flags & ~O_TRUNC, false, fi);
	if (r < 0) {
		/* Take the name back: node_create() found dir and len valid. */
		dir_remove(m, dir, dir_find(m, dir, name, len));
		inode->nlink = 0;
		fb__memfs_inode_put(m, inode);
		goto out_unlock;
	}
	fb__memfs_entry_get(m, inode, out);
out_unlock:
	pthread_rwlock_unlock(&m->lock);
	return r;
}

int fb__memfs_tmpfile(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, mode_t mode,
		      int flags, struct fb_entry *out, struct fb_file_info *fi)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *dir, *inode;
	int r;

	pthread_rwlock_wrlock(&m->lock);
	r = fb__memfs_get_dir(m, parent, &dir);
	if (r < 0)
		goto out_unlock;
	if (dir->nlink == 0) {
		r = -ENOENT;
		goto out_unlock;
	}
	r = fb__memfs_may(ctx, dir, W_OK | X_OK);
	if (r < 0)
		goto out_unlock;
	r = fb__memfs_inode_new(m, ctx, dir, S_IFREG | (mode & 07777), &inode);
	if (r < 0)
		goto out_unlock;
	/* O_EXCL with O_TMPFILE: the file may never get a name. */
	inode->linkable = !(flags & O_EXCL);
	r = fb__memfs_open_inode(m, ctx, inode, flags & ~O_TRUNC, false, fi);
	if (r < 0) {
		fb__memfs_inode_free(m, inode);
		goto out_unlock;
	}
	fb__memfs_entry_get(m, inode, out);
out_unlock:
	pthread_rwlock_unlock(&m->lock);
	return r;
}

/* ------------------------------------------------------------------------------------------ */
/* Listing                                                                                    */

/* Add one entry; for readdirplus, fill its attributes and take a lookup when it was added. */
static int readdir_add(struct fb_memfs *m, struct fb_dirbuf *buf, bool plus, const char *name,
		       size_t len, struct memfs_inode *inode, bool dot, uint64_t next)
{
	struct fb_entry e;
	int r;

	if (!plus)
		return fb_dirbuf_add(buf, name, len, inode->ino, IFTODT(inode->mode), next);
	memset(&e, 0, sizeof(e));
	pthread_mutex_lock(&inode->mu);
	fb__memfs_fill_stat(m, inode, &e.attr);
	pthread_mutex_unlock(&inode->mu);
	if (!dot) {
		e.ino = inode->ino;
		e.generation = m->generation;
		e.entry_timeout = m->cfg.entry_timeout;
		e.attr_timeout = m->cfg.attr_timeout;
	}
	r = fb_dirbuf_add_plus(buf, name, len, &e, next);
	if (r == 0 && !dot) {
		pthread_mutex_lock(&inode->mu);
		inode->nlookup++;
		pthread_mutex_unlock(&inode->mu);
	}
	return r;
}

/*
 * List from @off: 0 is ".", 1 is "..", and a name with cookie c (>= 2) sits at c; each entry
 * carries the offset of the next one (its position + 1).
 */
static int memfs_list(struct fb_memfs *m, fb_ino_t ino, uint64_t off, struct fb_dirbuf *buf,
		      bool plus)
{
	struct memfs_inode *dir;
	int r, added = 0;

	pthread_rwlock_rdlock(&m->lock);
	r = fb__memfs_get_dir(m, ino, &dir);
	if (r < 0)
		goto out_unlock;
	if (off == 0) {
		r = readdir_add(m, buf, plus, ".", 1, dir, true, 1);
		if (r < 0)
			goto out_done;
		added++;
	}
	if (off <= 1) {
		struct memfs_inode *up = dir->parent ? dir->parent : dir;

		r = readdir_add(m, buf, plus, "..", 2, up, true, 2);
		if (r < 0)
			goto out_done;
		added++;
	}
	const struct memfs_dir *d = &dir->dir;

	for (size_t i = dir_seek(d, off < 2 ? 2 : off); i < d->norder; i++) {
		const struct memfs_dentry *e = d->order[i];

		if (!e)
			continue;
		r = readdir_add(m, buf, plus, e->name, e->namelen, e->inode, false, e->cookie + 1);
		if (r < 0)
			goto out_done;
		added++;
	}
out_done:
	/* A full buffer ends the batch; other errors matter only if nothing was listed. */
	if (r == -ENOSPC || added > 0)
		r = 0;
out_unlock:
	pthread_rwlock_unlock(&m->lock);
	return r;
}

int fb__memfs_readdir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		      uint64_t off, struct fb_dirbuf *buf)
{
	return memfs_list(fs, ino, off, buf, false);
}

int fb__memfs_readdirplus(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			  uint64_t off, struct fb_dirbuf *buf)
{
	return memfs_list(fs, ino, off, buf, true);
}

