/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * memfs extended attributes: a short list per inode. Xattrs change only under the write lock,
 * so getxattr and listxattr read them under the read lock.
 *
 * Namespaces as Linux applies them: "user." needs read/write permission on the file and exists
 * only on regular files and directories; "trusted." is root's only (hidden from others);
 * "security." may be read by anyone and written by root; "system." (POSIX ACLs) is not
 * supported.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/xattr.h>

#include "memfs_i.h"

#define XATTR_NAME_MAX_	255

enum xattr_ns { NS_USER, NS_TRUSTED, NS_SECURITY };

/* Check @name and find its namespace; sets *@len. */
static int xattr_name(const char *name, size_t *len, enum xattr_ns *ns)
{
	static const struct {
		const char *prefix;
		size_t len;
		enum xattr_ns ns;
	} spaces[] = {
		{ "user.", 5, NS_USER },
		{ "trusted.", 8, NS_TRUSTED },
		{ "security.", 9, NS_SECURITY },
	};
	size_t n = strnlen(name, XATTR_NAME_MAX_ + 1);

	if (n == 0 || n > XATTR_NAME_MAX_)
		return -ERANGE;
	for (size_t i = 0; i < sizeof(spaces) / sizeof(spaces[0]); i++) {
		if (strncmp(name, spaces[i].prefix, spaces[i].len) == 0) {
			if (n == spaces[i].len)
				return -EINVAL;
			*len = n;
			*ns = spaces[i].ns;
			return 0;
		}
	}
	return -EOPNOTSUPP;	/* system.* (ACLs) and unknown namespaces */
}

/* May the caller of @ctx read (@write false) or change the xattr in namespace @ns? */
static int xattr_may(const struct fb_ctx *ctx, const struct memfs_inode *inode,
		     enum xattr_ns ns, bool write)
{
	switch (ns) {
	case NS_TRUSTED:
		if (ctx->uid != 0)
			return write ? -EPERM : -ENODATA;
		return 0;
	case NS_SECURITY:
		return write && ctx->uid != 0 ? -EPERM : 0;
	case NS_USER:
		break;
	}
	if (!S_ISREG(inode->mode) && !S_ISDIR(inode->mode))
		return write ? -EPERM : -ENODATA;
	/* In a sticky directory only its owner (or root) sets user xattrs. */
	if (write && S_ISDIR(inode->mode) && (inode->mode & S_ISVTX) && ctx->uid != 0 &&
	    ctx->uid != inode->uid)
		return -EPERM;
	return fb__memfs_may(ctx, inode, write ? W_OK : R_OK);
}

static struct memfs_xattr **xattr_find(struct memfs_inode *inode, const char *name, size_t len)
{
	struct memfs_xattr **p = &inode->xattrs;

	for (; *p; p = &(*p)->next)
		if ((*p)->namelen == len && memcmp((*p)->name, name, len) == 0)
			return p;
	return p;
}

void fb__memfs_xattrs_free(struct fb_memfs *m, struct memfs_inode *inode)
{
	struct memfs_xattr *x = inode->xattrs, *next;

	for (; x; x = next) {
		next = x->next;
		fb__memfs_uncharge(m, x->namelen + 1 + x->size);
		free(x->value);
		free(x);
	}
	inode->xattrs = NULL;
	inode->xattr_list = 0;
}

int fb__memfs_setxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name,
		       const void *value, size_t size, int flags, uint32_t setxattr_flags)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *inode;
	struct memfs_xattr **p, *x;
	enum xattr_ns ns;
	void *copy = NULL;
	size_t len;
	int r;

	if (flags & ~(XATTR_CREATE | XATTR_REPLACE))
		return -EINVAL;
	r = xattr_name(name, &len, &ns);
	if (r < 0)
		return r;
	if (size > MEMFS_XATTR_SIZE_MAX)
		return -E2BIG;
	if (size > 0) {
		copy = malloc(size);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, value, size);
	}

	pthread_rwlock_wrlock(&m->lock);
	inode = fb__memfs_find(m, ino);
	if (!inode) {
		r = -ENOENT;
		goto out_unlock;
	}
	r = xattr_may(ctx, inode, ns, true);
	if (r < 0)
		goto out_unlock;
	p = xattr_find(inode, name, len);
	x = *p;
	if (x && (flags & XATTR_CREATE)) {
		r = -EEXIST;
		goto out_unlock;
	}
	if (!x && (flags & XATTR_REPLACE)) {
		r = -ENODATA;
		goto out_unlock;
	}
	if (x) {
		/* Replace the value; charge only the growth. */
		if (size > x->size)
			r = fb__memfs_charge(m, size - x->size);
		if (r < 0)
			goto out_unlock;
		if (size < x->size)
			fb__memfs_uncharge(m, x->size - size);
		free(x->value);
		x->value = copy;
		x->size = size;
		copy = NULL;
	} else {
		if (inode->xattr_list + len + 1 > MEMFS_XATTR_LIST_MAX) {
			r = -ENOSPC;
			goto out_unlock;
		}
		r = fb__memfs_charge(m, len + 1 + size);
		if (r < 0)
			goto out_unlock;
		x = malloc(sizeof(*x) + len + 1);
		if (!x) {
			fb__memfs_uncharge(m, len + 1 + size);
			r = -ENOMEM;
			goto out_unlock;
		}
		memcpy(x->name, name, len + 1);
		x->namelen = len;
		x->value = copy;
		x->size = size;
		x->next = NULL;
		copy = NULL;
		*p = x;
		inode->xattr_list += len + 1;
	}
	fb__memfs_now(&inode->ctime);
out_unlock:
	pthread_rwlock_unlock(&m->lock);
	free(copy);
	return r;
}

int fb__memfs_getxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name,
		       void *buf, size_t size)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *inode;
	struct memfs_xattr *x;
	enum xattr_ns ns;
	size_t len;
	int r;

	r = xattr_name(name, &len, &ns);
	if (r < 0)
		return r;
	pthread_rwlock_rdlock(&m->lock);
	inode = fb__memfs_find(m, ino);
	if (!inode) {
		r = -ENOENT;
		goto out_unlock;
	}
	r = xattr_may(ctx, inode, ns, false);
	if (r < 0)
		goto out_unlock;
	x = *xattr_find(inode, name, len);
	if (!x) {
		r = -ENODATA;
	} else if (size == 0) {
		r = (int)x->size;
	} else if (size < x->size) {
		r = -ERANGE;
	} else {
		if (x->size)
			memcpy(buf, x->value, x->size);
		r = (int)x->size;
	}
out_unlock:
	pthread_rwlock_unlock(&m->lock);
	return r;
}

int fb__memfs_listxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, char *buf,
			size_t size)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *inode;
	size_t need = 0;
	int r = 0;

	pthread_rwlock_rdlock(&m->lock);
	inode = fb__memfs_find(m, ino);
	if (!inode) {
		r = -ENOENT;
		goto out_unlock;
	}
	/* Two passes: measure, then copy; trusted.* names are shown to root only. */
	for (int copy = 0; copy < 2; copy++) {
		size_t pos = 0;

		for (struct memfs_xattr *x = inode->xattrs; x; x = x->next) {
			if (ctx->uid != 0 && strncmp(x->name, "trusted.", 8) == 0)
				continue;
			if (copy)
				memcpy(buf + pos, x->name, x->namelen + 1);
			pos += x->namelen + 1;
		}
		need = pos;
		if (size == 0)
			break;
		if (size < need) {
			r = -ERANGE;
			goto out_unlock;
		}
	}
	r = (int)need;
out_unlock:
	pthread_rwlock_unlock(&m->lock);
	return r;
}

int fb__memfs_removexattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name)
{
	struct fb_memfs *m = fs;
	struct memfs_inode *inode;
	struct memfs_xattr **p, *x;
	enum xattr_ns ns;
	size_t len;
	int r;

	r = xattr_name(name, &len, &ns);
	if (r < 0)
		return r;
	pthread_rwlock_wrlock(&m->lock);
	inode = fb__memfs_find(m, ino);
	if (!inode) {
		r = -ENOENT;
		goto out_unlock;
	}
	r = xattr_may(ctx, inode, ns, true);
	if (r < 0)
		goto out_unlock;
	p = xattr_find(inode, name, len);
	x = *p;
	if (!x) {
		r = -ENODATA;
		goto out_unlock;
	}
	*p = x->next;
	inode->xattr_list -= x->namelen + 1;
	fb__memfs_uncharge(m, x->namelen + 1 + x->size);
	free(x->value);
	free(x);
	fb__memfs_now(&inode->ctime);
out_unlock:
	pthread_rwlock_unlock(&m->lock);
	return r;
}
