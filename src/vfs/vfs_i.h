/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Private parts of the VFS, shared by vfs.c (slots, routing, the ops table), pseudo_fs.c (the
 * tree of mount-point directories) and control.c (backend types, the control socket).
 */
#ifndef FB_VFS_VFS_I_H
#define FB_VFS_VFS_I_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include <fuse_backend/fs.h>
#include <fuse_backend/vfs.h>

/* A directory of the pseudo fs. */
struct fb__pnode {
	fb_ino_t ino;		    /* node id (slot 0): 1 for the root */
	char *name;		    /* NULL for the root */
	struct fb__pnode *parent;   /* NULL for the root and once unlinked */
	fb_ino_t parent_ino;	    /* kept after unlinking, for lookup("..") */
	struct fb__pnode *children; /* first child (linked nodes only) */
	struct fb__pnode *next;	    /* next sibling */
	struct fb__pnode *hnext;    /* hash chain */
	/* The kernel's lookups of this node. Changed atomically under the read lock, tested
	 * for zero (to free) under the write lock. */
	atomic_uint_fast64_t nlookup;
	unsigned users;		   /* mounts at or below this node (linked while > 0) */
	unsigned holds;		   /* slots (live, maybe unmounted) whose mount point this is */
	struct fb__vslot *mounted; /* backend mounted here, NULL if none */
	struct timespec time;	   /* creation time, shown as a/m/ctime */
};

/* One backend. */
struct fb__vslot {
	int idx;	      /* 1..255 */
	struct fb_fs_ops ops; /* the backend's table padded with NULLs */
	void *fs;
	struct fb_vfs_mount_opts opts; /* type/source point to the copies below */
	char *path;		       /* normalised mount path */
	char *type;
	char *source;
	struct fb__pnode *mp; /* mount-point directory (held by `holds`) */
	/*
	 * References: 1 while mounted + one per request running on the slot + one per lookup
	 * the kernel holds on the backend's inodes (root excluded). The slot is freed by
	 * whoever drops it to 0; it never goes up from 0.
	 */
	atomic_uint_fast64_t refs;
	atomic_uint_fast64_t nlookup; /* the lookup part of refs, to clamp forgets */
	atomic_int mounted;	      /* 1 until fb_vfs_umount() */
	int inited;		      /* init() ran (set before the slot is published) */
	atomic_int destroyed;	      /* destroy() ran */
};

struct fb_vfs {
	/*
	 * Protects slots[] (which slot structs exist), the pseudo tree (links, names, users,
	 * holds, mounted, the hash table) and `server`. Requests take it for reading only for
	 * the time it takes to find a slot and take a reference; mount, unmount and freeing a
	 * node or a slot take it for writing, and never call a backend while holding it.
	 */
	pthread_rwlock_t lock;
	struct fb__vslot *slots[FB_VFS_MAX_SLOTS + 1];
	struct fb_server *server;

	/* pseudo fs (see lock) */
	struct fb__pnode *root;
	struct fb__pnode **htab; /* ino -> node, chained */
	size_t hsize;		 /* buckets, a power of 2 */
	size_t nnodes;
	fb_ino_t next_ino;
	double pseudo_timeout;
	uid_t uid;
	gid_t gid;

	pthread_mutex_t init_lock; /* serialises INIT with mounts; protects conn, inited */
	struct fb_conn conn;	   /* as negotiated (valid once inited) */
	int inited;

	pthread_mutex_t types_lock; /* protects types, ntypes */
	struct fb_vfs_type *types;
	size_t ntypes;
};

/* vfs.c */
/* Record @fmt as the thread's last error message; returns @err. */
int fb__vfs_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Free-slot test for unit tests: 1 while slot @idx holds a backend (mounted or not). */
int fb__vfs_slot_busy(struct fb_vfs *vfs, int idx);
/* References of slot @idx (mount + requests + lookups), -1 when empty. For tests. */
int64_t fb__vfs_slot_refs(struct fb_vfs *vfs, int idx);

/* pseudo_fs.c (all with vfs->lock held as said) */
int fb__pseudo_init(struct fb_vfs *vfs);
/* The session ended: drop the kernel's lookups of every node, free unlinked ones (write lock). */
void fb__pseudo_forget_all(struct fb_vfs *vfs);
void fb__pseudo_done(struct fb_vfs *vfs);
/* Find a live node by ino (read lock). */
struct fb__pnode *fb__pseudo_find(struct fb_vfs *vfs, fb_ino_t ino);
/* Find the linked child @name of @dir (read lock). */
struct fb__pnode *fb__pseudo_child(struct fb__pnode *dir, const char *name, size_t len);
/* The @n-th linked child of @dir, or NULL (read lock). */
struct fb__pnode *fb__pseudo_nth_child(struct fb__pnode *dir, uint64_t n);
/*
 * Normalise @path into @out (FB_VFS_PATH_MAX + 1 bytes): absolute, single slashes, no
 * trailing slash, no "." or ".." or empty component. Returns 0 or -EINVAL (with a message).
 */
int fb__vfs_path_normalize(const char *path, char *out);
/* Walk or create (write lock) the directories of normalised @path; NULL on ENOMEM. */
struct fb__pnode *fb__pseudo_mkpath(struct fb_vfs *vfs, const char *path);
/* Walk @path without creating (read lock); NULL when absent. Sets *@covered to the first
 * node on the way (itself included) that has a backend mounted, or NULL. */
struct fb__pnode *fb__pseudo_walk(struct fb_vfs *vfs, const char *path, struct fb__pnode **covered);
/* Add @d to the users of @n and its ancestors (write lock). */
void fb__pseudo_use(struct fb__pnode *n, int d);
/* Unlink nodes without users from @n upwards and free those the kernel does not hold
 * (write lock). */
void fb__pseudo_prune(struct fb_vfs *vfs, struct fb__pnode *n);
/* Attributes of a pseudo directory. */
void fb__pseudo_stat(struct fb_vfs *vfs, const struct fb__pnode *n, struct stat *st);
/* Count the linked subdirectories of @n (read lock). */
unsigned fb__pseudo_nchildren(const struct fb__pnode *n);

#endif /* FB_VFS_VFS_I_H */
