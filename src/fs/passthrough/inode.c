/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The inode table, the mount table and the handle table.
 *
 * An inode is known by its node id (what the kernel sends) and by its host identity
 * (st_dev, st_ino, mount id), in two chained hash tables that share one lock. The daemon
 * keeps a file handle per inode rather than a descriptor, so the number of descriptors does
 * not grow with the number of inodes the kernel holds; open_by_handle_at() needs a descriptor
 * on the right mount, and the mount table keeps one per mount id seen below the source.
 *
 * Inode numbers of deleted host files are reused: a lookup that finds an inode by identity
 * also compares file handles, and an entry whose handle differs is stale (its file is gone)
 * and is replaced. An inode whose last name is removed while the kernel still knows it is
 * pinned with an O_PATH descriptor (fb__pt_inode_pin), because a handle may no longer open it.
 *
 * NFS-style export (FB_EXPORT_SUPPORT): a file handle of the mount holds a node id, and the
 * kernel may open it after it forgot the inode (drop_caches, memory pressure), with a LOOKUP
 * of "." on that id. So a forgotten inode that has a host file handle is kept, without
 * descriptor, in a bounded table of retired inodes (by id and by host identity, oldest
 * dropped first): "." finds it there, and a new lookup of the same host inode by name gets
 * the same node id back, so that the kernel's handles stay valid. Inodes without a host file
 * handle (O_PATH only), unlinked files and entries past FB__PT_RETIRED_MAX answer ESTALE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fuse_backend/abi.h>

#include "passthrough_i.h"

static size_t hash_id(fb_ino_t id, size_t buckets)
{
	uint64_t h = id * 0x9e3779b97f4a7c15ULL;
	return (size_t)(h >> 32) & (buckets - 1);
}

static size_t hash_key(uint64_t dev, uint64_t ino, uint64_t mnt, size_t buckets)
{
	uint64_t h = ino * 0x9e3779b97f4a7c15ULL;
	h ^= (dev + 0x632be59bd9b4e019ULL) * 0xc2b2ae3d27d4eb4fULL;
	h ^= mnt * 0x165667b19e3779f9ULL;
	h ^= h >> 29;
	return (size_t)h & (buckets - 1);
}

int fb__pt_tables_init(struct fb_passthrough *pt)
{
	pt->buckets = 1024;
	pt->by_id = calloc(pt->buckets, sizeof(*pt->by_id));
	pt->by_key = calloc(pt->buckets, sizeof(*pt->by_key));
	if (!pt->by_id || !pt->by_key) {
		free(pt->by_id);
		free(pt->by_key);
		return -ENOMEM;
	}
	pt->next_id = FB_ROOT_ID + 1;
	return 0;
}

static void retired_add(struct fb_passthrough *pt, const struct fb__pt_inode *in);
static void retired_clear(struct fb_passthrough *pt);

static void inode_free(struct fb__pt_inode *in)
{
	if (in->fd >= 0)
		fb__pt_sys.close(in->fd);
	free(in->handle);
	free(in);
}

void fb__pt_tables_done(struct fb_passthrough *pt)
{
	/* Handles first: freeing one puts its inode, which must still be in the tables. */
	for (size_t i = 0; i < pt->nhandles; i++)
		if (pt->handles[i])
			fb__pt_handle_free(pt, pt->handles[i]);
	free(pt->handles);
	for (size_t i = 0; pt->by_id && i < pt->buckets; i++) {
		struct fb__pt_inode *in = pt->by_id[i], *next;
		for (; in; in = next) {
			next = in->next_id;
			if (in != &pt->root)
				inode_free(in);
		}
	}
	free(pt->by_id);
	free(pt->by_key);
	retired_clear(pt);
	free(pt->ret_by_id);
	free(pt->ret_by_key);
	free(pt->ret_fifo);
	for (size_t i = 0; i < pt->nmounts; i++)
		if (pt->mounts[i].fd != pt->root_fd)
			fb__pt_sys.close(pt->mounts[i].fd);
	free(pt->mounts);
	free(pt->hgen);
}

/* Called with pt->lock held. */
static void link_id(struct fb_passthrough *pt, struct fb__pt_inode *in)
{
	size_t b = hash_id(in->id, pt->buckets);
	in->next_id = pt->by_id[b];
	pt->by_id[b] = in;
	in->hashed_id = 1;
}

static void link_key(struct fb_passthrough *pt, struct fb__pt_inode *in)
{
	size_t b = hash_key(in->dev, in->ino, in->mnt_id, pt->buckets);
	in->next_key = pt->by_key[b];
	pt->by_key[b] = in;
	in->hashed_key = 1;
}

static void unlink_id(struct fb_passthrough *pt, struct fb__pt_inode *in)
{
	struct fb__pt_inode **p = &pt->by_id[hash_id(in->id, pt->buckets)];
	for (; *p; p = &(*p)->next_id) {
		if (*p == in) {
			*p = in->next_id;
			break;
		}
	}
	in->hashed_id = 0;
}

static void unlink_key(struct fb_passthrough *pt, struct fb__pt_inode *in)
{
	struct fb__pt_inode **p = &pt->by_key[hash_key(in->dev, in->ino, in->mnt_id, pt->buckets)];
	for (; *p; p = &(*p)->next_key) {
		if (*p == in) {
			*p = in->next_key;
			break;
		}
	}
	in->hashed_key = 0;
}

/* Double both tables when they are full; a failed allocation keeps the old ones. */
static void maybe_grow(struct fb_passthrough *pt)
{
	size_t nb = pt->buckets * 2;
	struct fb__pt_inode **bi, **bk;

	if (pt->ninodes <= pt->buckets)
		return;
	bi = calloc(nb, sizeof(*bi));
	bk = calloc(nb, sizeof(*bk));
	if (!bi || !bk) {
		free(bi);
		free(bk);
		return;
	}
	for (size_t i = 0; i < pt->buckets; i++) {
		struct fb__pt_inode *in, *next;
		for (in = pt->by_id[i]; in; in = next) {
			next = in->next_id;
			size_t b = hash_id(in->id, nb);
			in->next_id = bi[b];
			bi[b] = in;
		}
		for (in = pt->by_key[i]; in; in = next) {
			next = in->next_key;
			size_t b = hash_key(in->dev, in->ino, in->mnt_id, nb);
			in->next_key = bk[b];
			bk[b] = in;
		}
	}
	free(pt->by_id);
	free(pt->by_key);
	pt->by_id = bi;
	pt->by_key = bk;
	pt->buckets = nb;
}

static struct fb__pt_inode *find_id(struct fb_passthrough *pt, fb_ino_t id)
{
	struct fb__pt_inode *in = pt->by_id[hash_id(id, pt->buckets)];
	while (in && in->id != id)
		in = in->next_id;
	return in;
}

static struct fb__pt_inode *find_key(struct fb_passthrough *pt, uint64_t dev, uint64_t ino,
				     uint64_t mnt)
{
	struct fb__pt_inode *in = pt->by_key[hash_key(dev, ino, mnt, pt->buckets)];
	while (in && !(in->ino == ino && in->dev == dev && in->mnt_id == mnt))
		in = in->next_key;
	return in;
}

struct fb__pt_inode *fb__pt_inode_get(struct fb_passthrough *pt, fb_ino_t id)
{
	struct fb__pt_inode *in;

	if (id == FB_ROOT_ID)
		return &pt->root;
	pthread_mutex_lock(&pt->lock);
	in = find_id(pt, id);
	if (in)
		in->refs++;
	pthread_mutex_unlock(&pt->lock);
	return in;
}

void fb__pt_inode_put(struct fb_passthrough *pt, struct fb__pt_inode *in)
{
	int dead;

	if (!in || in == &pt->root)
		return;
	pthread_mutex_lock(&pt->lock);
	in->refs--;
	dead = in->refs == 0 && in->nlookup == 0;
	pthread_mutex_unlock(&pt->lock);
	if (dead)
		inode_free(in);
}

void fb__pt_inode_forget(struct fb_passthrough *pt, fb_ino_t id, uint64_t n)
{
	struct fb__pt_inode *in;
	int dead = 0;

	if (id == FB_ROOT_ID)
		return;
	pthread_mutex_lock(&pt->lock);
	in = find_id(pt, id);
	if (in) {
		in->nlookup -= n < in->nlookup ? n : in->nlookup;
		if (in->nlookup == 0) {
			/* Kept only while it is the table's inode of its file: one replaced
			 * because the host reused its inode number names a file that is gone. */
			int keep = pt->export && in->handle && in->hashed_key;

			if (in->fd_cached)
				pt->cached_fds--;
			unlink_id(pt, in);
			if (in->hashed_key)
				unlink_key(pt, in);
			pt->ninodes--;
			if (keep)
				retired_add(pt, in);
			dead = in->refs == 0;
		}
	}
	pthread_mutex_unlock(&pt->lock);
	if (dead)
		inode_free(in);
}

int fb__pt_inode_fd(struct fb_passthrough *pt, struct fb__pt_inode *in, int *owned)
{
	int fd;

	*owned = 0;
	fd = __atomic_load_n(&in->fd, __ATOMIC_ACQUIRE);
	if (fd >= 0)
		return fd;
	fd = fb__pt_sys.open_by_handle_at(in->mount_fd, in->handle, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (S_ISDIR(in->mode)) {
		/* Directories are the parents of every name op: keep a bounded number open. */
		pthread_mutex_lock(&pt->lock);
		if (in->fd < 0 && in->hashed_id && pt->cached_fds < FB__PT_DIR_FDS_MAX) {
			in->fd_cached = 1;
			pt->cached_fds++;
			__atomic_store_n(&in->fd, fd, __ATOMIC_RELEASE);
			pthread_mutex_unlock(&pt->lock);
			return fd;
		}
		pthread_mutex_unlock(&pt->lock);
	}
	*owned = 1;
	return fd;
}

void fb__pt_fd_put(int fd, int owned)
{
	if (owned && fd >= 0)
		fb__pt_sys.close(fd);
}

/* A new descriptor with @flags for the object open as @fd, through /proc/self/fd. */
static int reopen_as(struct fb_passthrough *pt, int fd, int flags)
{
	char name[16];
	int r;

	snprintf(name, sizeof(name), "%d", fd);
	r = fb__pt_sys.openat(pt->proc_fd, name, flags | O_CLOEXEC, 0);
	return r < 0 ? -errno : r;
}

static int reopen_path(struct fb_passthrough *pt, int fd)
{
	return reopen_as(pt, fd, O_PATH);
}

/*
 * A descriptor on a newly seen mount for open_by_handle_at(), which refuses O_PATH ones. Only
 * directories and regular files are opened (a device or fifo could block or act on open).
 */
static int open_mount_fd(struct fb_passthrough *pt, int fd, uint32_t mode)
{
	if (S_ISDIR(mode))
		return reopen_as(pt, fd, O_RDONLY | O_DIRECTORY);
	if (S_ISREG(mode))
		return reopen_as(pt, fd, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	return -EINVAL;
}

/* The mount fd for @mnt, or -1. Called with pt->lock held. */
static int find_mount(struct fb_passthrough *pt, uint64_t mnt)
{
	for (size_t i = 0; i < pt->nmounts; i++)
		if (pt->mounts[i].mnt_id == mnt)
			return pt->mounts[i].fd;
	return -1;
}

/* Add (@mnt, @fd); the table owns @fd afterwards. Called with pt->lock held. */
static int add_mount(struct fb_passthrough *pt, uint64_t mnt, int fd)
{
	struct fb__pt_mount *m = realloc(pt->mounts, (pt->nmounts + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	pt->mounts = m;
	m[pt->nmounts].mnt_id = mnt;
	m[pt->nmounts].fd = fd;
	pt->nmounts++;
	return 0;
}

static int handle_equal(const struct file_handle *a, const struct file_handle *b)
{
	return a->handle_type == b->handle_type && a->handle_bytes == b->handle_bytes &&
	       memcmp(a->f_handle, b->f_handle, a->handle_bytes) == 0;
}

/* ---- retired inodes (export) ---- */

static void retired_unlink(struct fb_passthrough *pt, struct fb__pt_retired *r)
{
	struct fb__pt_retired **p;

	for (p = &pt->ret_by_id[hash_id(r->id, FB__PT_RETIRED_MAX)]; *p; p = &(*p)->next_id)
		if (*p == r) {
			*p = r->next_id;
			break;
		}
	for (p = &pt->ret_by_key[hash_key(r->dev, r->ino, r->mnt_id, FB__PT_RETIRED_MAX)]; *p;
	     p = &(*p)->next_key)
		if (*p == r) {
			*p = r->next_key;
			break;
		}
	/* its ring slot is cleared by the caller */
}

static void retired_free(struct fb__pt_retired *r)
{
	if (r) {
		free(r->handle);
		free(r);
	}
}

/* Remove @r from the tables and the ring (its slot stays used, empty), and free it. */
static void retired_drop(struct fb_passthrough *pt, struct fb__pt_retired *r)
{
	retired_unlink(pt, r);
	pt->ret_fifo[r->slot] = NULL;
	retired_free(r);
}

/* Keep forgotten inode @in (which has a handle), taking a copy of its handle. Lock held. */
static void retired_add(struct fb_passthrough *pt, const struct fb__pt_inode *in)
{
	size_t hsize = sizeof(struct file_handle) + in->handle->handle_bytes;
	struct fb__pt_retired *r, **slot;

	if (!pt->ret_by_id) {
		pt->ret_by_id = calloc(FB__PT_RETIRED_MAX, sizeof(*pt->ret_by_id));
		pt->ret_by_key = calloc(FB__PT_RETIRED_MAX, sizeof(*pt->ret_by_key));
		pt->ret_fifo = calloc(FB__PT_RETIRED_MAX, sizeof(*pt->ret_fifo));
		if (!pt->ret_by_id || !pt->ret_by_key || !pt->ret_fifo) {
			free(pt->ret_by_id);
			free(pt->ret_by_key);
			free(pt->ret_fifo);
			pt->ret_by_id = pt->ret_by_key = pt->ret_fifo = NULL;
			return;
		}
	}
	r = calloc(1, sizeof(*r));
	if (r)
		r->handle = malloc(hsize);
	if (!r || !r->handle) {
		free(r);
		return;
	}
	r->id = in->id;
	r->dev = in->dev;
	r->ino = in->ino;
	r->mnt_id = in->mnt_id;
	r->mount_fd = in->mount_fd;
	memcpy(r->handle, in->handle, hsize);
	/* the ring: the slot after the newest; when full that is the oldest, which goes */
	if (pt->ret_count == FB__PT_RETIRED_MAX) {
		slot = &pt->ret_fifo[pt->ret_head];
		if (*slot) {
			retired_unlink(pt, *slot);
			retired_free(*slot);
		}
		*slot = NULL;
		pt->ret_head = (pt->ret_head + 1) % FB__PT_RETIRED_MAX;
		pt->ret_count--;
	}
	r->slot = (pt->ret_head + pt->ret_count) % FB__PT_RETIRED_MAX;
	slot = &pt->ret_fifo[r->slot];
	*slot = r;
	pt->ret_count++;
	r->next_id = pt->ret_by_id[hash_id(r->id, FB__PT_RETIRED_MAX)];
	pt->ret_by_id[hash_id(r->id, FB__PT_RETIRED_MAX)] = r;
	r->next_key = pt->ret_by_key[hash_key(r->dev, r->ino, r->mnt_id, FB__PT_RETIRED_MAX)];
	pt->ret_by_key[hash_key(r->dev, r->ino, r->mnt_id, FB__PT_RETIRED_MAX)] = r;
}

/*
 * The node id to give a new inode of host identity (@dev, @ino, @mnt) with handle @h (or
 * NULL): a retired one for the same file, else a fresh one. A retired entry of that identity
 * leaves the table either way. Lock held.
 */
static fb_ino_t id_for_new(struct fb_passthrough *pt, uint64_t dev, uint64_t ino, uint64_t mnt,
			   const struct file_handle *h)
{
	struct fb__pt_retired *r;
	fb_ino_t id = 0;

	if (pt->ret_by_key) {
		r = pt->ret_by_key[hash_key(dev, ino, mnt, FB__PT_RETIRED_MAX)];
		while (r && !(r->ino == ino && r->dev == dev && r->mnt_id == mnt))
			r = r->next_key;
		if (r) {
			if (h && handle_equal(r->handle, h) && !find_id(pt, r->id))
				id = r->id;
			retired_drop(pt, r);
		}
	}
	return id ? id : pt->next_id++;
}

int fb__pt_retired_open(struct fb_passthrough *pt, fb_ino_t id, uint64_t *dev, uint64_t *ino)
{
	union {
		struct file_handle fh;
		char raw[sizeof(struct file_handle) + FB__PT_HANDLE_MAX];
	} hb;
	struct fb__pt_retired *r = NULL;
	int mount_fd = -1, fd;

	pthread_mutex_lock(&pt->lock);
	if (pt->ret_by_id) {
		r = pt->ret_by_id[hash_id(id, FB__PT_RETIRED_MAX)];
		while (r && r->id != id)
			r = r->next_id;
	}
	if (r) {
		memcpy(&hb, r->handle, sizeof(struct file_handle) + r->handle->handle_bytes);
		mount_fd = r->mount_fd;
		*dev = r->dev;
		*ino = r->ino;
	}
	pthread_mutex_unlock(&pt->lock);
	if (!r)
		return -ESTALE;
	fd = fb__pt_sys.open_by_handle_at(mount_fd, &hb.fh, O_PATH | O_CLOEXEC);
	return fd < 0 ? -ESTALE : fd;
}

static void retired_clear(struct fb_passthrough *pt)
{
	for (size_t i = 0; pt->ret_fifo && i < FB__PT_RETIRED_MAX; i++) {
		retired_free(pt->ret_fifo[i]);
		pt->ret_fifo[i] = NULL;
	}
	if (pt->ret_by_id) {
		memset(pt->ret_by_id, 0, FB__PT_RETIRED_MAX * sizeof(*pt->ret_by_id));
		memset(pt->ret_by_key, 0, FB__PT_RETIRED_MAX * sizeof(*pt->ret_by_key));
	}
	pt->ret_head = pt->ret_count = 0;
}

int fb__pt_inode_enter(struct fb_passthrough *pt, struct fb__pt_inode *parent, int fd,
		       const struct statx *st, struct fb_entry *e)
{
	union {
		struct file_handle fh;
		char raw[sizeof(struct file_handle) + FB__PT_HANDLE_MAX];
	} hb;
	uint64_t dev = makedev(st->stx_dev_major, st->stx_dev_minor);
	uint64_t mnt = (st->stx_mask & STATX_MNT_ID) ? st->stx_mnt_id : parent->mnt_id;
	int have_handle = 0, mount_fd = -1, r;
	struct fb__pt_inode *in, *nin;

	if (pt->use_handles && (S_ISDIR(st->stx_mode) || st->stx_nlink > 0)) {
		int mid;
		hb.fh.handle_bytes = FB__PT_HANDLE_MAX;
		if (fb__pt_sys.name_to_handle_at(fd, "", &hb.fh, &mid, AT_EMPTY_PATH) == 0)
			have_handle = 1;
	}

	pthread_mutex_lock(&pt->lock);
	in = find_key(pt, dev, st->stx_ino, mnt);
	if (in && have_handle && in->handle && !handle_equal(in->handle, &hb.fh)) {
		/* The host reused the inode number: the old entry's file is gone. */
		unlink_key(pt, in);
		in = NULL;
	}
	if (in) {
		in->nlookup++;
		e->ino = in->id;
		pthread_mutex_unlock(&pt->lock);
		return 0;
	}
	if (have_handle)
		mount_fd = find_mount(pt, mnt);
	pthread_mutex_unlock(&pt->lock);

	nin = calloc(1, sizeof(*nin));
	if (!nin)
		return -ENOMEM;
	nin->dev = dev;
	nin->ino = st->stx_ino;
	nin->mnt_id = mnt;
	nin->mode = st->stx_mode & S_IFMT;
	nin->submount = mnt != parent->mnt_id || dev != parent->dev;
	nin->fd = -1;
	nin->nlookup = 1;

	int new_mount_fd = -1;
	if (have_handle && mount_fd < 0) {
		/* A mount seen for the first time: without a descriptor for it (e.g. the caller
		 * may not read the directory) this inode keeps an O_PATH fd instead. */
		new_mount_fd = open_mount_fd(pt, fd, nin->mode);
		if (new_mount_fd < 0) {
			new_mount_fd = -1;
			have_handle = 0;
		}
	}
	if (have_handle) {
		size_t hsize = sizeof(struct file_handle) + hb.fh.handle_bytes;
		nin->handle = malloc(hsize);
		if (!nin->handle) {
			r = -ENOMEM;
			goto out_free;
		}
		memcpy(nin->handle, &hb.fh, hsize);
	} else {
		nin->fd = reopen_path(pt, fd);
		if (nin->fd < 0) {
			r = nin->fd;
			nin->fd = -1;
			goto out_free;
		}
	}

	pthread_mutex_lock(&pt->lock);
	in = find_key(pt, dev, st->stx_ino, mnt);
	if (in && !(have_handle && in->handle && !handle_equal(in->handle, nin->handle))) {
		/* Someone entered it meanwhile. */
		in->nlookup++;
		e->ino = in->id;
		pthread_mutex_unlock(&pt->lock);
		if (new_mount_fd >= 0)
			fb__pt_sys.close(new_mount_fd);
		inode_free(nin);
		return 0;
	}
	if (in)
		unlink_key(pt, in);
	if (have_handle) {
		nin->mount_fd = find_mount(pt, mnt);
		if (nin->mount_fd < 0) {
			r = add_mount(pt, mnt, new_mount_fd);
			if (r < 0) {
				pthread_mutex_unlock(&pt->lock);
				goto out_free;
			}
			nin->mount_fd = new_mount_fd;
			new_mount_fd = -1;
		}
	}
	nin->id = id_for_new(pt, dev, st->stx_ino, mnt, nin->handle);
	link_id(pt, nin);
	link_key(pt, nin);
	pt->ninodes++;
	maybe_grow(pt);
	e->ino = nin->id;
	pthread_mutex_unlock(&pt->lock);
	if (new_mount_fd >= 0)
		fb__pt_sys.close(new_mount_fd);
	return 0;

out_free:
	if (new_mount_fd >= 0)
		fb__pt_sys.close(new_mount_fd);
	inode_free(nin);
	return r;
}

/*
 * A new inode for @name below @parent from its file handle @h (mount @mid), without opening the
 * name: @st was taken before the handle; one more statx after it must show the same object
 * (device, inode number, mount, type), else the name changed meanwhile and we return 0 (the
 * caller opens the name instead). On success @st holds the later attributes. Returns 1 when
 * entered, 0 to fall back, or a negative errno.
 */
static int enter_handle(struct fb_passthrough *pt, struct fb__pt_inode *parent, int pfd,
			const char *name, struct statx *st, const struct file_handle *h, int mid,
			struct fb_entry *e)
{
	uint64_t dev = makedev(st->stx_dev_major, st->stx_dev_minor);
	uint64_t mnt = (st->stx_mask & STATX_MNT_ID) ? st->stx_mnt_id : parent->mnt_id;
	size_t hsize = sizeof(struct file_handle) + h->handle_bytes;
	struct fb__pt_inode *in, *nin;
	struct statx st2;

	if (!(st->stx_mask & STATX_MNT_ID) || (uint64_t)mid != mnt)
		return 0;
	if (fb__pt_sys.statx(pfd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_MNT_ID,
			     &st2) < 0)
		return 0;
	if (!(st2.stx_mask & STATX_MNT_ID) || st2.stx_mnt_id != mnt || st2.stx_ino != st->stx_ino ||
	    makedev(st2.stx_dev_major, st2.stx_dev_minor) != dev ||
	    (st2.stx_mode & S_IFMT) != (st->stx_mode & S_IFMT) ||
	    (!S_ISDIR(st2.stx_mode) && st2.stx_nlink == 0))
		return 0;

	nin = calloc(1, sizeof(*nin));
	if (!nin)
		return -ENOMEM;
	nin->handle = malloc(hsize);
	if (!nin->handle) {
		free(nin);
		return -ENOMEM;
	}
	memcpy(nin->handle, h, hsize);
	nin->dev = dev;
	nin->ino = st->stx_ino;
	nin->mnt_id = mnt;
	nin->mode = st->stx_mode & S_IFMT;
	nin->submount = mnt != parent->mnt_id || dev != parent->dev;
	nin->fd = -1;
	nin->nlookup = 1;

	pthread_mutex_lock(&pt->lock);
	nin->mount_fd = find_mount(pt, mnt);
	if (nin->mount_fd < 0) {
		/* A mount seen for the first time: the caller opens the name for it. */
		pthread_mutex_unlock(&pt->lock);
		inode_free(nin);
		return 0;
	}
	in = find_key(pt, dev, st->stx_ino, mnt);
	if (in && !(in->handle && !handle_equal(in->handle, h))) {
		/* Someone entered it meanwhile. */
		in->nlookup++;
		e->ino = in->id;
		pthread_mutex_unlock(&pt->lock);
		inode_free(nin);
		*st = st2;
		return 1;
	}
	if (in)
		unlink_key(pt, in);	/* the host reused the inode number */
	nin->id = id_for_new(pt, dev, st->stx_ino, mnt, nin->handle);
	link_id(pt, nin);
	link_key(pt, nin);
	pt->ninodes++;
	maybe_grow(pt);
	e->ino = nin->id;
	pthread_mutex_unlock(&pt->lock);
	*st = st2;
	return 1;
}

int fb__pt_inode_find_name(struct fb_passthrough *pt, struct fb__pt_inode *parent, int pfd,
			   const char *name, struct statx *st, struct fb_entry *e)
{
	union {
		struct file_handle fh;
		char raw[sizeof(struct file_handle) + FB__PT_HANDLE_MAX];
	} hb;
	uint64_t dev = makedev(st->stx_dev_major, st->stx_dev_minor);
	uint64_t mnt = (st->stx_mask & STATX_MNT_ID) ? st->stx_mnt_id : parent->mnt_id;
	struct fb__pt_inode *in;
	int mid;

	pthread_mutex_lock(&pt->lock);
	in = find_key(pt, dev, st->stx_ino, mnt);
	if (in && (!in->handle || in->fd >= 0)) {
		/*
		 * It holds a descriptor (pinned, a cached directory, or no handle at all), so
		 * its host inode is alive and its number names no other file: @st, taken
		 * before the lock, describes this very inode. No handle to compare.
		 */
		in->nlookup++;
		e->ino = in->id;
		pthread_mutex_unlock(&pt->lock);
		return 1;
	}
	pthread_mutex_unlock(&pt->lock);
	if (!in) {
		/* New to us: with handles, enter it from its handle (no descriptor needed). */
		if (!pt->use_handles || (!S_ISDIR(st->stx_mode) && st->stx_nlink == 0))
			return 0;
		hb.fh.handle_bytes = FB__PT_HANDLE_MAX;
		if (fb__pt_sys.name_to_handle_at(pfd, name, &hb.fh, &mid, 0) < 0)
			return 0;
		return enter_handle(pt, parent, pfd, name, st, &hb.fh, mid, e);
	}
	/* Same inode number, same file? (the host reuses numbers of deleted files) */
	hb.fh.handle_bytes = FB__PT_HANDLE_MAX;
	if (fb__pt_sys.name_to_handle_at(pfd, name, &hb.fh, &mid, 0) < 0)
		return 0;
	pthread_mutex_lock(&pt->lock);
	in = find_key(pt, dev, st->stx_ino, mnt);
	if (!in || !in->handle || !handle_equal(in->handle, &hb.fh)) {
		pthread_mutex_unlock(&pt->lock);
		return 0;
	}
	in->nlookup++;
	e->ino = in->id;
	pthread_mutex_unlock(&pt->lock);
	return 1;
}

void fb__pt_inode_pin(struct fb_passthrough *pt, int dirfd, const char *name)
{
	struct statx st;
	struct fb__pt_inode *in;
	int fd;

	if (!pt->use_handles)
		return;
	/* Open first, then look at what was opened: no second statx to match name and fd. */
	fd = fb__pt_sys.openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (fb__pt_sys.statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
			     STATX_TYPE | STATX_INO | STATX_NLINK | STATX_MNT_ID, &st) < 0 ||
	    S_ISDIR(st.stx_mode) || st.stx_nlink > 1) {
		fb__pt_sys.close(fd);
		return;
	}
	uint64_t dev = makedev(st.stx_dev_major, st.stx_dev_minor);
	pthread_mutex_lock(&pt->lock);
	in = find_key(pt, dev, st.stx_ino, (st.stx_mask & STATX_MNT_ID) ? st.stx_mnt_id : 0);
	if (in && in->fd < 0) {
		__atomic_store_n(&in->fd, fd, __ATOMIC_RELEASE);
		fd = -1;
	}
	pthread_mutex_unlock(&pt->lock);
	if (fd >= 0)
		fb__pt_sys.close(fd);
}

int fb__pt_handle_add(struct fb_passthrough *pt, struct fb__pt_handle *h, uint64_t *fh)
{
	size_t i;

	pthread_mutex_lock(&pt->hlock);
	for (i = pt->hfree_hint; i < pt->nhandles; i++)
		if (!pt->handles[i])
			break;
	if (i >= pt->nhandles) {
		for (i = 0; i < pt->hfree_hint && i < pt->nhandles; i++)
			if (!pt->handles[i])
				break;
		if (i >= pt->hfree_hint || i >= pt->nhandles) {
			size_t n = pt->nhandles ? pt->nhandles * 2 : 64;
			struct fb__pt_handle **nh;
			uint32_t *ng;
			if (n > UINT32_MAX - 1) {
				pthread_mutex_unlock(&pt->hlock);
				return -EMFILE;
			}
			nh = realloc(pt->handles, n * sizeof(*nh));
			if (!nh) {
				pthread_mutex_unlock(&pt->hlock);
				return -ENOMEM;
			}
			pt->handles = nh;
			ng = realloc(pt->hgen, n * sizeof(*ng));
			if (!ng) {
				pthread_mutex_unlock(&pt->hlock);
				return -ENOMEM;
			}
			pt->hgen = ng;
			for (size_t j = pt->nhandles; j < n; j++) {
				nh[j] = NULL;
				ng[j] = 0;
			}
			i = pt->nhandles;
			pt->nhandles = n;
		}
	}
	pt->handles[i] = h;
	h->gen = ++pt->hgen[i];
	h->refs = 1;
	pt->hfree_hint = i + 1;
	pt->handles_open++;
	pthread_mutex_unlock(&pt->hlock);
	*fh = ((uint64_t)h->gen << 32) | (uint64_t)(i + 1);
	return 0;
}

/* Called with hlock held. */
static struct fb__pt_handle *handle_find(struct fb_passthrough *pt, uint64_t fh, size_t *idx)
{
	uint64_t slot = fh & 0xffffffffULL;
	uint32_t gen = (uint32_t)(fh >> 32);

	if (slot == 0 || slot > pt->nhandles)
		return NULL;
	struct fb__pt_handle *h = pt->handles[slot - 1];
	if (!h || h->gen != gen)
		return NULL;
	*idx = slot - 1;
	return h;
}

struct fb__pt_handle *fb__pt_handle_get(struct fb_passthrough *pt, uint64_t fh)
{
	struct fb__pt_handle *h;
	size_t idx;

	pthread_mutex_lock(&pt->hlock);
	h = handle_find(pt, fh, &idx);
	if (h)
		h->refs++;
	pthread_mutex_unlock(&pt->hlock);
	return h;
}

void fb__pt_handle_put(struct fb_passthrough *pt, struct fb__pt_handle *h)
{
	int last;

	if (!h)
		return;
	pthread_mutex_lock(&pt->hlock);
	last = --h->refs == 0;
	pthread_mutex_unlock(&pt->hlock);
	if (last)
		fb__pt_handle_free(pt, h);
}

struct fb__pt_handle *fb__pt_handle_remove(struct fb_passthrough *pt, uint64_t fh)
{
	struct fb__pt_handle *h;
	size_t idx;

	pthread_mutex_lock(&pt->hlock);
	h = handle_find(pt, fh, &idx);
	if (h) {
		pt->handles[idx] = NULL;
		if (idx < pt->hfree_hint)
			pt->hfree_hint = idx;
		pt->handles_open--;
	}
	pthread_mutex_unlock(&pt->hlock);
	return h;
}

void fb__pt_tables_clear(struct fb_passthrough *pt)
{
	struct fb__pt_inode *dead = NULL, *in, *next;

	/* Handles first: each holds a ref on its inode. */
	for (;;) {
		struct fb__pt_handle *h = NULL;
		int last = 0;

		pthread_mutex_lock(&pt->hlock);
		for (size_t i = 0; i < pt->nhandles && !h; i++) {
			if (pt->handles[i]) {
				h = pt->handles[i];
				pt->handles[i] = NULL;
				pt->handles_open--;
				last = --h->refs == 0;
			}
		}
		pt->hfree_hint = 0;
		pthread_mutex_unlock(&pt->hlock);
		if (!h)
			break;
		/* A kernel connection's backing files go with the session. */
		if (h->backing) {
			pthread_mutex_lock(&pt->backing_lock);
			if (h->inode->backing_users && --h->inode->backing_users == 0)
				h->inode->backing_id = 0;
			pthread_mutex_unlock(&pt->backing_lock);
			h->backing = 0;
		}
		if (last)
			fb__pt_handle_free(pt, h);
	}

	/* Then every inode but the root; one still used by an operation goes at its put. */
	pthread_mutex_lock(&pt->lock);
	retired_clear(pt);
	for (size_t i = 0; i < pt->buckets; i++) {
		for (in = pt->by_id[i]; in; in = next) {
			next = in->next_id;
			if (in == &pt->root)
				continue;
			if (in->fd_cached)
				pt->cached_fds--;
			unlink_id(pt, in);
			if (in->hashed_key)
				unlink_key(pt, in);
			in->nlookup = 0;
			pt->ninodes--;
			if (in->refs == 0) {
				in->next_id = dead;
				dead = in;
			}
		}
	}
	pthread_mutex_unlock(&pt->lock);
	for (in = dead; in; in = next) {
		next = in->next_id;
		inode_free(in);
	}
}
