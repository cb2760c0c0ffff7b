/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * memfs: the instance, the inode and handle tables, permissions, attributes, open and release.
 * Names and directories live in memfs_dir.c, file data in memfs_file.c, xattrs in
 * memfs_xattr.c. The locking rules are at the top of memfs_i.h.
 */
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <dirent.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/memfs.h>

#include "fs/stat_i.h"
#include "memfs_i.h"
#include "util/parse_i.h"
#include "sized_i.h"

#define DEFAULT_MAX_BYTES	(1ULL << 30)
#define DEFAULT_MAX_INODES	(1ULL << 20)
#define DEFAULT_TIMEOUT		1.0

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                              */

void fb__memfs_now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

/* Charge @bytes against max_bytes; -ENOSPC (nothing charged) when they do not fit. */
int fb__memfs_charge(struct fb_memfs *m, uint64_t bytes)
{
	uint64_t old = atomic_load(&m->bytes_used);

	do {
		if (bytes > m->cfg.max_bytes || old > m->cfg.max_bytes - bytes)
			return -ENOSPC;
	} while (!atomic_compare_exchange_weak(&m->bytes_used, &old, old + bytes));
	return 0;
}

void fb__memfs_uncharge(struct fb_memfs *m, uint64_t bytes)
{
	atomic_fetch_sub(&m->bytes_used, bytes);
	atomic_fetch_add(&m->freed_since_trim, bytes);
}

/*
 * Give freed memory back to the system once enough was freed. Pages, names and inodes are
 * small blocks spread over the allocator's per-thread arenas, which do not shrink by themselves:
 * without this, a daemon that held 1 GiB once would keep it after everything was deleted.
 * Called with no lock held; the cost (a walk of the free lists) is paid once per MEMFS_TRIM_BYTES.
 */
void fb__memfs_maybe_trim(struct fb_memfs *m)
{
	if (atomic_load(&m->freed_since_trim) < MEMFS_TRIM_BYTES)
		return;
	atomic_store(&m->freed_since_trim, 0);
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

static size_t ino_bucket(fb_ino_t ino, size_t nbuckets)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ULL) >> 32) & (nbuckets - 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Permissions                                                                                */

bool fb__memfs_in_group(const struct fb_ctx *ctx, gid_t gid)
{
	if (ctx->gid == gid)
		return true;
	for (uint32_t i = 0; ctx->groups && i < ctx->ngroups; i++)
		if (ctx->groups[i] == gid)
			return true;
	return false;
}

/*
 * May the caller of @ctx access @inode for @mask (R_OK | W_OK | X_OK)? Root may do anything
 * except execute a file nobody may execute. Returns 0 or -EACCES.
 */
int fb__memfs_may(const struct fb_ctx *ctx, const struct memfs_inode *inode, int mask)
{
	unsigned int perm;

	mask &= R_OK | W_OK | X_OK;
	if (ctx->uid == 0) {
		if (!(mask & X_OK) || S_ISDIR(inode->mode) || (inode->mode & 0111))
			return 0;
		return -EACCES;
	}
	if (ctx->uid == inode->uid)
		perm = (inode->mode >> 6) & 7;
	else if (fb__memfs_in_group(ctx, inode->gid))
		perm = (inode->mode >> 3) & 7;
	else
		perm = inode->mode & 7;
	return ((int)perm & mask) == mask ? 0 : -EACCES;
}

/*
 * Must a write, truncate or chown by @ctx drop set-user-ID and set-group-ID from @inode?
 * Yes when the kernel @asked, or when the caller is not root (it lacks CAP_FSETID). Set-group-ID
 * without group execute marks mandatory locking, not privilege, and stays.
 */
bool fb__memfs_should_kill_suid(const struct fb_ctx *ctx, const struct memfs_inode *inode,
				bool asked)
{
	if (!S_ISREG(inode->mode))
		return false;
	if (!(inode->mode & S_ISUID) && (inode->mode & (S_ISGID | S_IXGRP)) != (S_ISGID | S_IXGRP))
		return false;
	return asked || ctx->uid != 0;
}

/* Drop set-user-ID and (with group execute) set-group-ID. Returns whether the mode changed. */
bool fb__memfs_kill_suid(struct memfs_inode *inode)
{
	mode_t old = inode->mode;

	inode->mode &= ~S_ISUID;
	if (inode->mode & S_IXGRP)
		inode->mode &= ~S_ISGID;
	return inode->mode != old;
}

/* ------------------------------------------------------------------------------------------ */
/* The inode table                                                                            */

struct memfs_inode *fb__memfs_find(struct fb_memfs *m, fb_ino_t ino)
{
	struct memfs_inode *i = m->inodes[ino_bucket(ino, m->ninode_buckets)];

	while (i && i->ino != ino)
		i = i->hnext;
	return i;
}

static int inode_table_grow(struct fb_memfs *m)
{
	size_t n = m->ninode_buckets * 2;
	struct memfs_inode **b = calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t k = 0; k < m->ninode_buckets; k++) {
		struct memfs_inode *i = m->inodes[k], *next;

		for (; i; i = next) {
			size_t h = ino_bucket(i->ino, n);

			next = i->hnext;
			i->hnext = b[h];
			b[h] = i;
		}
	}
	free(m->inodes);
	m->inodes = b;
	m->ninode_buckets = n;
	return 0;
}

static void inode_table_remove(struct fb_memfs *m, struct memfs_inode *inode)
{
	struct memfs_inode **p = &m->inodes[ino_bucket(inode->ino, m->ninode_buckets)];

	while (*p && *p != inode)
		p = &(*p)->hnext;
	if (*p)
		*p = inode->hnext;
}

void fb__memfs_inode_free(struct fb_memfs *m, struct memfs_inode *inode)
{
	inode_table_remove(m, inode);
	if (S_ISREG(inode->mode)) {
		fb__memfs_pages_free(m, inode);
	} else if (S_ISDIR(inode->mode)) {
		fb__memfs_dir_free(m, inode);
	} else if (S_ISLNK(inode->mode)) {
		fb__memfs_uncharge(m, inode->size);
		free(inode->target);
	}
	fb__memfs_xattrs_free(m, inode);
	pthread_mutex_destroy(&inode->mu);
	free(inode);
	atomic_fetch_sub(&m->inode_count, 1);
}

/*
 * Free @inode if nothing refers to it any more: no name, no kernel lookup, no open handle.
 * Called with m->lock held for writing.
 */
void fb__memfs_inode_put(struct fb_memfs *m, struct memfs_inode *inode)
{
	if (inode != m->root && inode->nlink == 0 && inode->nlookup == 0 && inode->nopen == 0)
		fb__memfs_inode_free(m, inode);
}

/*
 * A new inode of type and permissions @mode (umask not applied yet) for the caller of @ctx,
 * to be named in @parent (NULL for none). Its link count is 0: the caller adds names.
 * Called with m->lock held for writing.
 */
int fb__memfs_inode_new(struct fb_memfs *m, const struct fb_ctx *ctx, struct memfs_inode *parent,
			mode_t mode, struct memfs_inode **ret)
{
	struct memfs_inode *inode;
	mode_t perm = mode & 07777;
	int r;

	if (atomic_load(&m->inode_count) >= m->cfg.max_inodes)
		return -ENOSPC;
	if (atomic_load(&m->inode_count) >= m->ninode_buckets) {
		r = inode_table_grow(m);
		if (r < 0)
			return r;
	}
	inode = calloc(1, sizeof(*inode));
	if (!inode)
		return -ENOMEM;
	pthread_mutex_init(&inode->mu, NULL);
	inode->ino = m->next_ino++;
	inode->uid = ctx->uid;
	inode->gid = ctx->gid;
	if (!S_ISLNK(mode))
		perm &= ~(mode_t)ctx->umask;
	if (parent && (parent->mode & S_ISGID)) {
		/* A set-group-ID directory hands its group down, and its bit to subdirectories. */
		inode->gid = parent->gid;
		if (S_ISDIR(mode))
			perm |= S_ISGID;
	}
	if (!S_ISDIR(mode) && (perm & S_ISGID) && ctx->uid != 0 &&
	    !fb__memfs_in_group(ctx, inode->gid))
		perm &= ~S_ISGID;
	inode->mode = (mode & S_IFMT) | perm;
	fb__memfs_now(&inode->btime);
	inode->atime = inode->mtime = inode->ctime = inode->btime;
	if (S_ISDIR(mode))
		inode->dir.next_cookie = 2;

	size_t h = ino_bucket(inode->ino, m->ninode_buckets);

	inode->hnext = m->inodes[h];
	m->inodes[h] = inode;
	atomic_fetch_add(&m->inode_count, 1);
	*ret = inode;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Attributes and entries                                                                     */

/* Called with inode->mu or the write lock held. */
void fb__memfs_fill_stat(const struct fb_memfs *m, const struct memfs_inode *inode,
			 struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = inode->ino;
	st->st_mode = inode->mode;
	st->st_nlink = inode->nlink;
	st->st_uid = inode->uid;
	st->st_gid = inode->gid;
	st->st_rdev = inode->rdev;
	st->st_blksize = MEMFS_PAGE;
	if (S_ISDIR(inode->mode)) {
		st->st_size = MEMFS_PAGE;
		st->st_blocks = MEMFS_PAGE / 512;
	} else {
		st->st_size = (off_t)inode->size;
		if (S_ISREG(inode->mode))
			st->st_blocks = (blkcnt_t)(inode->file.npages * (MEMFS_PAGE / 512));
	}
	st->st_atim = inode->atime;
	st->st_mtim = inode->mtime;
	st->st_ctim = inode->ctime;
	(void)m;
}

/*
 * Fill @e for @inode and give the kernel one lookup of it. Takes inode->mu: call it with the
 * read lock held and inode->mu not held, or with the write lock.
 */
void fb__memfs_entry_get(struct fb_memfs *m, struct memfs_inode *inode, struct fb_entry *e)
{
	memset(e, 0, sizeof(*e));
	pthread_mutex_lock(&inode->mu);
	fb__memfs_fill_stat(m, inode, &e->attr);
	inode->nlookup++;
	pthread_mutex_unlock(&inode->mu);
	e->ino = inode->ino;
	e->generation = m->generation;
	e->entry_timeout = m->cfg.entry_timeout;
	e->attr_timeout = m->cfg.attr_timeout;
}

/* ------------------------------------------------------------------------------------------ */
/* Handles                                                                                    */

static size_t fh_bucket(uint64_t fh, size_t nbuckets)
{
	return (size_t)((fh * 0x9e3779b97f4a7c15ULL) >> 32) & (nbuckets - 1);
}

/* Open a handle on @inode (one more nopen). With the read or write lock; not with inode->mu. */
int fb__memfs_handle_new(struct fb_memfs *m, struct memfs_inode *inode, int flags,
			 uint64_t *ret_fh)
{
	struct memfs_handle *h;
	int r = 0;

	pthread_mutex_lock(&m->handle_lock);
	if (atomic_load(&m->handle_count) >= MEMFS_HANDLES_MAX) {
		r = -ENFILE;
		goto out_unlock;
	}
	if (atomic_load(&m->handle_count) >= m->nhandle_buckets) {
		size_t n = m->nhandle_buckets * 2;
		struct memfs_handle **b = calloc(n, sizeof(*b));

		if (!b) {
			r = -ENOMEM;
			goto out_unlock;
		}
		for (size_t k = 0; k < m->nhandle_buckets; k++) {
			struct memfs_handle *x = m->handles[k], *next;

			for (; x; x = next) {
				next = x->hnext;
				x->hnext = b[fh_bucket(x->fh, n)];
				b[fh_bucket(x->fh, n)] = x;
			}
		}
		free(m->handles);
		m->handles = b;
		m->nhandle_buckets = n;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		r = -ENOMEM;
		goto out_unlock;
	}
	h->fh = m->next_fh++;
	h->inode = inode;
	h->flags = flags;
	h->hnext = m->handles[fh_bucket(h->fh, m->nhandle_buckets)];
	m->handles[fh_bucket(h->fh, m->nhandle_buckets)] = h;
	atomic_fetch_add(&m->handle_count, 1);
	*ret_fh = h->fh;

	pthread_mutex_lock(&inode->mu);
	inode->nopen++;
	pthread_mutex_unlock(&inode->mu);
out_unlock:
	pthread_mutex_unlock(&m->handle_lock);
	return r;
}

/* Take handle @fh out of the table; NULL if there is none. Under the write lock. */
static struct memfs_handle *handle_take(struct fb_memfs *m, uint64_t fh)
{
	struct memfs_handle **p, *h;

	pthread_mutex_lock(&m->handle_lock);
	p = &m->handles[fh_bucket(fh, m->nhandle_buckets)];
	while (*p && (*p)->fh != fh)
		p = &(*p)->hnext;
	h = *p;
	if (h) {
		*p = h->hnext;
		atomic_fetch_sub(&m->handle_count, 1);
	}
	pthread_mutex_unlock(&m->handle_lock);
	return h;
}

/* release and releasedir: drop the handle; the inode goes if it was its last reference. */
static int memfs_release_handle(struct fb_memfs *m, uint64_t fh)
{
	struct memfs_handle *h;
	int r = -EBADF;

	pthread_rwlock_wrlock(&m->lock);
	h = handle_take(m, fh);
	if (h) {
		r = 0;
		if (h->inode->nopen > 0)
			h->inode->nopen--;
		fb__memfs_inode_put(m, h->inode);
		free(h);
	}
	pthread_rwlock_unlock(&m->lock);
	fb__memfs_maybe_trim(m);
	return r;
}

/* ------------------------------------------------------------------------------------------ */
/* Forget and attributes                                                                      */

static void memfs_forget(void *fs, fb_ino_t ino, uint64_t nlookup)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *inode;

	pthread_rwlock_wrlock(&m->lock);
	inode = fb__memfs_find(m, ino);
	if (inode) {
		inode->nlookup -= nlookup < inode->nlookup ? nlookup : inode->nlookup;
		fb__memfs_inode_put(m, inode);
	}
	pthread_rwlock_unlock(&m->lock);
	fb__memfs_maybe_trim(m);
}

static int memfs_getattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino,
			 const struct fb_file_info *fi, struct stat *out, double *timeout)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *inode;
	int r = 0;

	pthread_rwlock_rdlock(&m->lock);
	inode = fb__memfs_find(m, ino);
	if (inode) {
		pthread_mutex_lock(&inode->mu);
		fb__memfs_fill_stat(m, inode, out);
		pthread_mutex_unlock(&inode->mu);
		*timeout = m->cfg.attr_timeout;
	} else {
		r = -ENOENT;
	}
	pthread_rwlock_unlock(&m->lock);
	return r;
}

static int memfs_statx(void *fs, const struct fb_ctx *ctx, fb_ino_t ino,
		       const struct fb_file_info *fi, uint32_t sx_flags, uint32_t mask,
		       struct statx *out, double *timeout)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *inode;
	struct stat st;
	int r = 0;

	pthread_rwlock_rdlock(&m->lock);
	inode = fb__memfs_find(m, ino);
	if (!inode) {
		r = -ENOENT;
		goto out_unlock;
	}
	pthread_mutex_lock(&inode->mu);
	fb__memfs_fill_stat(m, inode, &st);
	pthread_mutex_unlock(&inode->mu);

	fb__statx_from_stat(&st, out);
	out->stx_mask |= STATX_BTIME;
	out->stx_btime.tv_sec = inode->btime.tv_sec;
	out->stx_btime.tv_nsec = (uint32_t)inode->btime.tv_nsec;
	*timeout = m->cfg.attr_timeout;
out_unlock:
	pthread_rwlock_unlock(&m->lock);
	return r;
}

/*
 * May the caller of @ctx make the changes of a setattr? Every check runs before anything is
 * changed, so a refused setattr changes nothing.
 */
static int setattr_check(struct fb_memfs *m, const struct fb_ctx *ctx,
			 const struct memfs_inode *inode, const struct stat *in, uint32_t valid)
{
	bool root = ctx->uid == 0, owner = ctx->uid == inode->uid;

	if ((valid & FB_FATTR_MODE) && !root && !owner)
		return -EPERM;
	if ((valid & FB_FATTR_UID) && !root && in->st_uid != inode->uid)
		return -EPERM;
	if ((valid & FB_FATTR_GID) && !root &&
	    !(owner && (in->st_gid == inode->gid || fb__memfs_in_group(ctx, in->st_gid))))
		return -EPERM;
	if (valid & FB_FATTR_SIZE) {
		if (S_ISDIR(inode->mode))
			return -EISDIR;
		if (!S_ISREG(inode->mode))
			return -EINVAL;
		if (in->st_size < 0)
			return -EINVAL;
		if ((uint64_t)in->st_size > m->cfg.max_file_size)
			return -EFBIG;
		/* truncate(2) needs write permission; ftruncate(2) was checked at open. */
		if (!(valid & FB_FATTR_FH)) {
			int r = fb__memfs_may(ctx, inode, W_OK);

			if (r < 0)
				return r;
		}
	}
	if (valid & (FB_FATTR_ATIME | FB_FATTR_MTIME | FB_FATTR_CTIME)) {
		bool explicit = ((valid & FB_FATTR_ATIME) && !(valid & FB_FATTR_ATIME_NOW)) ||
				((valid & FB_FATTR_MTIME) && !(valid & FB_FATTR_MTIME_NOW));

		/* Any time may be set by the owner; "now" also by whoever may write. */
		if (!root && !owner) {
			if (explicit)
				return -EPERM;
			if (fb__memfs_may(ctx, inode, W_OK) < 0)
				return -EACCES;
		}
	}
	return 0;
}

static int memfs_setattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const struct stat *in,
			 uint32_t valid, const struct fb_file_info *fi, struct stat *out,
			 double *timeout)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *inode;
	struct timespec now;
	int r;

	pthread_rwlock_wrlock(&m->lock);
	inode = fb__memfs_find(m, ino);
	if (!inode) {
		r = -ENOENT;
		goto out_unlock;
	}
	r = setattr_check(m, ctx, inode, in, valid);
	if (r < 0)
		goto out_unlock;
	fb__memfs_now(&now);

	if (valid & FB_FATTR_MODE) {
		mode_t mode = in->st_mode & 07777;
		gid_t gid = (valid & FB_FATTR_GID) ? in->st_gid : inode->gid;

		/* Only a member of the file's group may keep set-group-ID on it. */
		if (ctx->uid != 0 && !fb__memfs_in_group(ctx, gid))
			mode &= ~S_ISGID;
		inode->mode = (inode->mode & S_IFMT) | mode;
	}
	if (valid & (FB_FATTR_UID | FB_FATTR_GID)) {
		if (valid & FB_FATTR_UID)
			inode->uid = in->st_uid;
		if (valid & FB_FATTR_GID)
			inode->gid = in->st_gid;
		/* A chown of a non-directory drops set-user/group-ID, for root too (Linux). */
		if (!(valid & FB_FATTR_MODE) && !S_ISDIR(inode->mode))
			fb__memfs_kill_suid(inode);
	}
	if (valid & FB_FATTR_SIZE) {
		r = fb__memfs_truncate(m, inode, (uint64_t)in->st_size);
		if (r < 0)
			goto out_unlock;
		inode->mtime = now;
		if (!(valid & FB_FATTR_MODE) && fb__memfs_should_kill_suid(ctx, inode, false))
			fb__memfs_kill_suid(inode);
	}
	if ((valid & FB_FATTR_KILL_SUIDGID) && !(valid & FB_FATTR_MODE))
		fb__memfs_kill_suid(inode);
	if (valid & FB_FATTR_ATIME)
		inode->atime = (valid & FB_FATTR_ATIME_NOW) ? now : in->st_atim;
	if (valid & FB_FATTR_MTIME)
		inode->mtime = (valid & FB_FATTR_MTIME_NOW) ? now : in->st_mtim;
	inode->ctime = (valid & FB_FATTR_CTIME) ? in->st_ctim : now;

	fb__memfs_fill_stat(m, inode, out);
	*timeout = m->cfg.attr_timeout;
out_unlock:
	pthread_rwlock_unlock(&m->lock);
	fb__memfs_maybe_trim(m);
	return r;
}

static int memfs_access(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint32_t mask)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *inode;
	int r;

	pthread_rwlock_rdlock(&m->lock);
	inode = fb__memfs_find(m, ino);
	if (!inode)
		r = -ENOENT;
	else if (mask == F_OK)
		r = 0;
	else
		r = fb__memfs_may(ctx, inode, (int)mask);
	pthread_rwlock_unlock(&m->lock);
	return r;
}

static int memfs_readlink(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, char *buf,
			  size_t size)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *inode;
	int r;

	pthread_rwlock_rdlock(&m->lock);
	inode = fb__memfs_find(m, ino);
	if (!inode) {
		r = -ENOENT;
	} else if (!S_ISLNK(inode->mode)) {
		r = -EINVAL;
	} else {
		size_t n = inode->size < size ? inode->size : size;

		memcpy(buf, inode->target, n);
		r = (int)n;
	}
	pthread_rwlock_unlock(&m->lock);
	return r;
}

/* ------------------------------------------------------------------------------------------ */
/* Open and release                                                                           */

/* The permission an open(2) @flags needs. */
static int open_mask(int flags)
{
	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		return (flags & O_TRUNC) ? R_OK | W_OK : R_OK;
	case O_WRONLY:
		return W_OK;
	default:
		return R_OK | W_OK;
	}
}

/*
 * Open @inode with @flags for the caller of @ctx. With O_TRUNC the write lock is held (the
 * mode may change), else at least the read lock.
 */
int fb__memfs_open_inode(struct fb_memfs *m, const struct fb_ctx *ctx, struct memfs_inode *inode,
			 int flags, bool check_perm, struct fb_file_info *fi)
{
	int r;

	if (S_ISLNK(inode->mode))
		return -ELOOP;
	if (S_ISDIR(inode->mode) && ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC)))
		return -EISDIR;
	if (check_perm) {
		r = fb__memfs_may(ctx, inode, open_mask(flags));
		if (r < 0)
			return r;
	}
	if ((flags & O_TRUNC) && S_ISREG(inode->mode)) {
		struct timespec now;

		fb__memfs_now(&now);
		pthread_mutex_lock(&inode->mu);
		r = fb__memfs_truncate(m, inode, 0);
		inode->mtime = inode->ctime = now;
		pthread_mutex_unlock(&inode->mu);
		if (r < 0)
			return r;
		if (fb__memfs_should_kill_suid(ctx, inode, false))
			fb__memfs_kill_suid(inode);
	}
	memset(fi, 0, sizeof(*fi));
	return fb__memfs_handle_new(m, inode, flags, &fi->fh);
}

static int memfs_open(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		      struct fb_file_info *fi)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *inode;
	int r;

	if (flags & O_TRUNC)
		pthread_rwlock_wrlock(&m->lock);
	else
		pthread_rwlock_rdlock(&m->lock);
	inode = fb__memfs_find(m, ino);
	r = inode ? fb__memfs_open_inode(m, ctx, inode, flags, true, fi) : -ENOENT;
	pthread_rwlock_unlock(&m->lock);
	return r;
}

static int memfs_release(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			 int flags, uint32_t release_flags, uint64_t lock_owner)
{
	return memfs_release_handle(fs, fh);
}

static int memfs_releasedir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			    int flags)
{
	return memfs_release_handle(fs, fh);
}

/*
 * fsync, fsyncdir, syncfs: memory is always in sync; only check that @ino exists. There is no
 * flush(): memfs keeps no locks of its own, so the server tells the kernel not to send FLUSH.
 */
static int memfs_exists(struct fb_memfs *m, fb_ino_t ino)
{
	int r;

	pthread_rwlock_rdlock(&m->lock);
	r = fb__memfs_find(m, ino) ? 0 : -ENOENT;
	pthread_rwlock_unlock(&m->lock);
	return r;
}

static int memfs_fsync(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		       int datasync)
{
	return memfs_exists(fs, ino);
}

static int memfs_syncfs(void *fs, const struct fb_ctx *ctx, fb_ino_t ino)
{
	return memfs_exists(fs, ino);
}

/* ------------------------------------------------------------------------------------------ */
/* Directories, sync, statfs                                                                  */

static int memfs_opendir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
			 struct fb_file_info *fi)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *dir;
	int r;

	pthread_rwlock_rdlock(&m->lock);
	r = fb__memfs_get_dir(m, ino, &dir);
	if (r == 0)
		r = fb__memfs_may(ctx, dir, R_OK);
	if (r == 0) {
		memset(fi, 0, sizeof(*fi));
		r = fb__memfs_handle_new(m, dir, flags, &fi->fh);
	}
	pthread_rwlock_unlock(&m->lock);
	return r;
}

static int memfs_fsyncdir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			  int datasync)
{
	return memfs_exists(fs, ino);
}

static int memfs_statfs(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, struct statvfs *out)
{
	struct fb_memfs *m = fs;
	uint64_t used = atomic_load(&m->bytes_used), inodes = atomic_load(&m->inode_count);

	memset(out, 0, sizeof(*out));
	out->f_bsize = MEMFS_PAGE;
	out->f_frsize = MEMFS_PAGE;
	out->f_blocks = m->cfg.max_bytes / MEMFS_PAGE;
	out->f_bfree = used < m->cfg.max_bytes ? (m->cfg.max_bytes - used) / MEMFS_PAGE : 0;
	out->f_bavail = out->f_bfree;
	out->f_files = m->cfg.max_inodes;
	out->f_ffree = inodes < m->cfg.max_inodes ? m->cfg.max_inodes - inodes : 0;
	out->f_favail = out->f_ffree;
	out->f_namemax = MEMFS_NAME_MAX;
	return 0;
}

/*
 * DESTROY (or a session reset): the kernel holds nothing any more. Its lookup counts and open
 * handles go; the files stay (they are the data, and a new session sees them again), but an
 * inode that only lived on for the kernel (unlinked, or an unnamed O_TMPFILE) is freed.
 */
static void memfs_destroy(void *fs)
{
	struct fb_memfs *m = fs;

	pthread_rwlock_wrlock(&m->lock);
	pthread_mutex_lock(&m->handle_lock);
	for (size_t k = 0; k < m->nhandle_buckets; k++) {
		struct memfs_handle *h = m->handles[k], *next;

		for (; h; h = next) {
			next = h->hnext;
			free(h);
			atomic_fetch_sub(&m->handle_count, 1);
		}
		m->handles[k] = NULL;
	}
	pthread_mutex_unlock(&m->handle_lock);
	for (size_t k = 0; k < m->ninode_buckets; k++) {
		struct memfs_inode *inode = m->inodes[k], *next;

		for (; inode; inode = next) {
			next = inode->hnext; /* inode_put may unlink this one only */
			inode->nlookup = 0;
			inode->nopen = 0;
			fb__memfs_inode_put(m, inode);
		}
	}
	pthread_rwlock_unlock(&m->lock);
	fb__memfs_maybe_trim(m);
}

/* ------------------------------------------------------------------------------------------ */
/* The instance                                                                               */

const struct fb_fs_ops fb_memfs_ops = {
	.destroy = memfs_destroy,
	.lookup = fb__memfs_lookup,
	.forget = memfs_forget,
	.getattr = memfs_getattr,
	.setattr = memfs_setattr,
	.readlink = memfs_readlink,
	.symlink = fb__memfs_symlink,
	.mknod = fb__memfs_mknod,
	.mkdir = fb__memfs_mkdir,
	.unlink = fb__memfs_unlink,
	.rmdir = fb__memfs_rmdir,
	.rename = fb__memfs_rename,
	.link = fb__memfs_link,
	.open = memfs_open,
	.create = fb__memfs_create,
	.read = fb__memfs_read,
	.write = fb__memfs_write,
	.release = memfs_release,
	.fsync = memfs_fsync,
	.opendir = memfs_opendir,
	.readdir = fb__memfs_readdir,
	.readdirplus = fb__memfs_readdirplus,
	.releasedir = memfs_releasedir,
	.fsyncdir = memfs_fsyncdir,
	.statfs = memfs_statfs,
	.setxattr = fb__memfs_setxattr,
	.getxattr = fb__memfs_getxattr,
	.listxattr = fb__memfs_listxattr,
	.removexattr = fb__memfs_removexattr,
	.access = memfs_access,
	.fallocate = fb__memfs_fallocate,
	.lseek = fb__memfs_lseek,
	.copy_file_range = fb__memfs_copy_file_range,
	.tmpfile = fb__memfs_tmpfile,
	.statx = memfs_statx,
	.syncfs = memfs_syncfs,
};

int fb_memfs_opt_set(struct fb_memfs_config *cfg, const char *name, const char *value)
{
	uint64_t *size = NULL;
	double *secs = NULL;
	unsigned int mode;
	uint64_t v;
	double d;

	if (!cfg || !name)
		return -EINVAL;
	if (strcmp(name, "size") == 0)
		size = &cfg->max_bytes;
	else if (strcmp(name, "max_inodes") == 0)
		size = &cfg->max_inodes;
	else if (strcmp(name, "max_file_size") == 0)
		size = &cfg->max_file_size;
	else if (strcmp(name, "entry_timeout") == 0)
		secs = &cfg->entry_timeout;
	else if (strcmp(name, "attr_timeout") == 0)
		secs = &cfg->attr_timeout;
	if (size) {
		if (fb__parse_size(value, &v) < 0)
			return -EINVAL;
		if (v == 0) /* 0 in the struct means "the default": not what "size=0" says */
			return -ERANGE;
		*size = v;
		return 0;
	}
	if (secs) {
		if (fb__parse_seconds(value, &d) < 0)
			return -EINVAL;
		if (d == 0)
			return -ERANGE;
		*secs = d;
		return 0;
	}
	if (strcmp(name, "root_mode") == 0) {
		if (fb__parse_mode(value, &mode) < 0)
			return -EINVAL;
		if (mode == 0)
			return -ERANGE;
		cfg->root_mode = (mode_t)mode;
		return 0;
	}
	return -ENOENT;
}

const char *fb_memfs_opt_help(void)
{
	return "size=BYTES\tcapacity for data, > 0 (K/M/G/T; default 1G)\n"
	       "max_inodes=N\tmost files at once, > 0 (K/M/G/T; default 1M)\n"
	       "max_file_size=BYTES\tlargest file, > 0 (default: size)\n"
	       "entry_timeout=SECONDS\tkernel name cache, > 0 (default 1)\n"
	       "attr_timeout=SECONDS\tkernel attribute cache, > 0 (default 1)\n"
	       "root_mode=OCTAL\tpermissions of the root (default 755)";
}

int fb_memfs_new(const struct fb_memfs_config *cfg, struct fb_memfs **ret)
{
	struct fb_memfs *m;
	struct fb_ctx root_ctx = { 0 };
	pthread_rwlockattr_t lock_attr;
	struct fb_memfs_config c = { 0 };
	struct timespec now;
	int r;

	r = fb__sized_in(&c, sizeof(c), cfg, FB__MEMFS_CONFIG_SIZE_V1);
	if (r < 0)
		return r;
	cfg = &c;
	if (cfg && (cfg->entry_timeout < 0 || cfg->attr_timeout < 0))
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	if (cfg)
		m->cfg = *cfg;
	if (m->cfg.entry_timeout == 0)
		m->cfg.entry_timeout = DEFAULT_TIMEOUT;
	if (m->cfg.attr_timeout == 0)
		m->cfg.attr_timeout = DEFAULT_TIMEOUT;
	if (m->cfg.max_bytes == 0)
		m->cfg.max_bytes = DEFAULT_MAX_BYTES;
	if (m->cfg.max_inodes == 0)
		m->cfg.max_inodes = DEFAULT_MAX_INODES;
	if (m->cfg.max_file_size == 0)
		m->cfg.max_file_size = m->cfg.max_bytes;
	if (m->cfg.max_file_size > (uint64_t)INT64_MAX - MEMFS_PAGE)
		m->cfg.max_file_size = (uint64_t)INT64_MAX - MEMFS_PAGE;
	if (m->cfg.root_mode == 0)
		m->cfg.root_mode = 0755;
	if (getrandom(&m->hash_seed, sizeof(m->hash_seed), GRND_NONBLOCK) < 0)
		m->hash_seed = (uint32_t)(uintptr_t)m;
	fb__memfs_now(&now);
	/* (ino, generation) stays unique across instances: inos restart, the clock does not. */
	m->generation = (uint64_t)now.tv_sec;

	/* Writers first: a steady stream of reads must not starve unlink or forget. */
	pthread_rwlockattr_init(&lock_attr);
#ifdef __GLIBC__
	pthread_rwlockattr_setkind_np(&lock_attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
	pthread_rwlock_init(&m->lock, &lock_attr);
	pthread_rwlockattr_destroy(&lock_attr);
	pthread_mutex_init(&m->handle_lock, NULL);
	m->ninode_buckets = 64;
	m->nhandle_buckets = 64;
	m->inodes = calloc(m->ninode_buckets, sizeof(*m->inodes));
	m->handles = calloc(m->nhandle_buckets, sizeof(*m->handles));
	if (!m->inodes || !m->handles) {
		r = -ENOMEM;
		goto out_free;
	}
	m->next_ino = FB_ROOT_ID;
	m->next_fh = 1;
	root_ctx.uid = m->cfg.root_uid;
	root_ctx.gid = m->cfg.root_gid;
	r = fb__memfs_inode_new(m, &root_ctx, NULL, S_IFDIR | (m->cfg.root_mode & 07777), &m->root);
	if (r < 0)
		goto out_free;
	m->root->nlink = 2;
	*ret = m;
	return 0;

out_free:
	fb_memfs_free(m);
	return r;
}

void fb_memfs_free(struct fb_memfs *m)
{
	if (!m)
		return;
	for (size_t k = 0; m->handles && k < m->nhandle_buckets; k++) {
		struct memfs_handle *h = m->handles[k], *next;

		for (; h; h = next) {
			next = h->hnext;
			free(h);
		}
	}
	for (size_t k = 0; m->inodes && k < m->ninode_buckets; k++) {
		while (m->inodes[k])
			fb__memfs_inode_free(m, m->inodes[k]);
	}
	free(m->handles);
	free(m->inodes);
	pthread_mutex_destroy(&m->handle_lock);
	pthread_rwlock_destroy(&m->lock);
	free(m);
}

uint64_t fb_memfs_inode_count(const struct fb_memfs *m)
{
	return atomic_load(&((struct fb_memfs *)m)->inode_count);
}

uint64_t fb_memfs_bytes_used(const struct fb_memfs *m)
{
	return atomic_load(&((struct fb_memfs *)m)->bytes_used);
}

uint64_t fb_memfs_handle_count(const struct fb_memfs *m)
{
	return atomic_load(&((struct fb_memfs *)m)->handle_count);
}
