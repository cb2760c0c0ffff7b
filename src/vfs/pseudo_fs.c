/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The pseudo fs: a read-only tree of directories that exist only to hold mount points. A
 * directory exists while a mount is at or below it ("users"); after that it stays allocated
 * (unlinked, invisible to lookup) until the kernel forgets it and no slot names it as its
 * mount point. Node ids are never reused, so no generation is needed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vfs/vfs_i.h"

static size_t hash_ino(const struct fb_vfs *vfs, fb_ino_t ino)
{
	return (size_t)(ino * UINT64_C(0x9E3779B97F4A7C15) >> 32) & (vfs->hsize - 1);
}

static void hash_add(struct fb_vfs *vfs, struct fb__pnode *n)
{
	size_t h = hash_ino(vfs, n->ino);

	n->hnext = vfs->htab[h];
	vfs->htab[h] = n;
	vfs->nnodes++;
}

static void hash_del(struct fb_vfs *vfs, struct fb__pnode *n)
{
	struct fb__pnode **p = &vfs->htab[hash_ino(vfs, n->ino)];

	while (*p && *p != n)
		p = &(*p)->hnext;
	if (*p) {
		*p = n->hnext;
		vfs->nnodes--;
	}
}

static struct fb__pnode *node_new(struct fb_vfs *vfs, const char *name, size_t len)
{
	struct fb__pnode *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	if (name) {
		n->name = strndup(name, len);
		if (!n->name) {
			free(n);
			return NULL;
		}
	}
	/* 56 bits of pseudo inos are never exhausted: one per mount point created. */
	n->ino = vfs->next_ino++;
	atomic_init(&n->nlookup, 0);
	clock_gettime(CLOCK_REALTIME, &n->time);
	hash_add(vfs, n);
	return n;
}

static void node_free(struct fb_vfs *vfs, struct fb__pnode *n)
{
	hash_del(vfs, n);
	free(n->name);
	free(n);
}

int fb__pseudo_init(struct fb_vfs *vfs)
{
	vfs->hsize = 64;
	vfs->htab = calloc(vfs->hsize, sizeof(*vfs->htab));
	if (!vfs->htab)
		return -ENOMEM;
	vfs->next_ino = FB_ROOT_ID;
	vfs->root = node_new(vfs, NULL, 0);
	if (!vfs->root) {
		free(vfs->htab);
		return -ENOMEM;
	}
	vfs->root->parent_ino = FB_ROOT_ID;
	vfs->uid = geteuid();
	vfs->gid = getegid();
	return 0;
}

void fb__pseudo_done(struct fb_vfs *vfs)
{
	for (size_t i = 0; i < vfs->hsize; i++) {
		struct fb__pnode *n = vfs->htab[i], *next;

		for (; n; n = next) {
			next = n->hnext;
			free(n->name);
			free(n);
		}
	}
	free(vfs->htab);
	vfs->htab = NULL;
	vfs->root = NULL;
}

struct fb__pnode *fb__pseudo_find(struct fb_vfs *vfs, fb_ino_t ino)
{
	struct fb__pnode *n = vfs->htab[hash_ino(vfs, ino)];

	while (n && n->ino != ino)
		n = n->hnext;
	return n;
}

struct fb__pnode *fb__pseudo_child(struct fb__pnode *dir, const char *name, size_t len)
{
	for (struct fb__pnode *c = dir->children; c; c = c->next)
		if (strlen(c->name) == len && memcmp(c->name, name, len) == 0)
			return c;
	return NULL;
}

struct fb__pnode *fb__pseudo_nth_child(struct fb__pnode *dir, uint64_t n)
{
	struct fb__pnode *c = dir->children;

	while (c && n--)
		c = c->next;
	return c;
}

unsigned fb__pseudo_nchildren(const struct fb__pnode *n)
{
	unsigned k = 0;

	for (const struct fb__pnode *c = n->children; c; c = c->next)
		k++;
	return k;
}

int fb__vfs_path_normalize(const char *path, char *out)
{
	size_t o = 0;
	const char *p = path;

	if (!path || path[0] != '/')
		return fb__vfs_error(-EINVAL, "mount path must be absolute");
	out[o++] = '/';
	while (*p) {
		const char *s;
		size_t len;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		s = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - s);
		if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
			return fb__vfs_error(-EINVAL,
					     "'.' and '..' are not allowed in a mount path");
		if (len > 255)
			return fb__vfs_error(-EINVAL, "path component longer than 255 bytes");
		if (o > 1)
			out[o++] = '/';
		if (o + len > FB_VFS_PATH_MAX)
			return fb__vfs_error(-EINVAL, "mount path longer than %d bytes",
					     FB_VFS_PATH_MAX);
		memcpy(out + o, s, len);
		o += len;
	}
	out[o] = '\0';
	return 0;
}

struct fb__pnode *fb__pseudo_walk(struct fb_vfs *vfs, const char *path, struct fb__pnode **covered)
{
	struct fb__pnode *n = vfs->root;
	const char *p = path + 1;

	*covered = n->mounted ? n : NULL;
	while (*p) {
		const char *s = p;

		while (*p && *p != '/')
			p++;
		n = fb__pseudo_child(n, s, (size_t)(p - s));
		if (!n)
			return NULL;
		if (!*covered && n->mounted)
			*covered = n;
		if (*p)
			p++;
	}
	return n;
}

struct fb__pnode *fb__pseudo_mkpath(struct fb_vfs *vfs, const char *path)
{
	struct fb__pnode *n = vfs->root;
	const char *p = path + 1;

	while (*p) {
		const char *s = p;
		struct fb__pnode *c;
		size_t len;

		while (*p && *p != '/')
			p++;
		len = (size_t)(p - s);
		c = fb__pseudo_child(n, s, len);
		if (!c) {
			/* Created unlinked users == 0; the caller's fb__pseudo_use() keeps it. A
			 * failure later leaves childless nodes the caller prunes. */
			c = node_new(vfs, s, len);
			if (!c) {
				fb__pseudo_prune(vfs, n);
				return NULL;
			}
			c->parent = n;
			c->parent_ino = n->ino;
			c->next = n->children;
			n->children = c;
			clock_gettime(CLOCK_REALTIME, &n->time);
		}
		n = c;
		if (*p)
			p++;
	}
	return n;
}

void fb__pseudo_use(struct fb__pnode *n, int d)
{
	for (; n; n = n->parent)
		n->users = (unsigned)((int)n->users + d);
}

void fb__pseudo_prune(struct fb_vfs *vfs, struct fb__pnode *n)
{
	while (n && n != vfs->root) {
		struct fb__pnode *parent = n->parent;

		if (parent) {
			if (n->users || n->children)
				return;
			struct fb__pnode **pp = &parent->children;

			while (*pp && *pp != n)
				pp = &(*pp)->next;
			if (*pp)
				*pp = n->next;
			n->next = NULL;
			n->parent = NULL;
			clock_gettime(CLOCK_REALTIME, &parent->time);
		}
		if (atomic_load(&n->nlookup) == 0 && n->holds == 0 && !n->mounted)
			node_free(vfs, n);
		n = parent;
	}
}

void fb__pseudo_stat(struct fb_vfs *vfs, const struct fb__pnode *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_mode = S_IFDIR | 0555;
	st->st_nlink = 2 + fb__pseudo_nchildren(n);
	st->st_uid = vfs->uid;
	st->st_gid = vfs->gid;
	st->st_size = 4096;
	st->st_blksize = 4096;
	st->st_atim = n->time;
	st->st_mtim = n->time;
	st->st_ctim = n->time;
}

void fb__pseudo_forget_all(struct fb_vfs *vfs)
{
	struct fb__pnode *n;
	int again;

	for (size_t i = 0; i < vfs->hsize; i++)
		for (n = vfs->htab[i]; n; n = n->hnext)
			atomic_store(&n->nlookup, 0);
	/* Unlinked nodes lived on for the kernel only. Freeing changes the chains: rescan (the
	 * pseudo tree is small). */
	do {
		again = 0;
		for (size_t i = 0; i < vfs->hsize && !again; i++) {
			for (n = vfs->htab[i]; n; n = n->hnext) {
				if (n != vfs->root && !n->parent && n->holds == 0 && !n->mounted) {
					fb__pseudo_prune(vfs, n);
					again = 1;
					break;
				}
			}
		}
	} while (again);
}
