/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * memfs internals shared by memfs.c (instance, inodes, handles, attributes, open), memfs_dir.c
 * (directories and names), memfs_file.c (file data) and memfs_xattr.c (extended attributes).
 *
 * Locking. One rwlock per instance (m->lock) and one mutex per inode (inode->mu):
 *  - m->lock held for writing: everything may be read and changed; no inode mutex is needed
 *    (nobody else runs). Every change to the namespace (directory contents, parent, nlink),
 *    to the inode and handle tables, to mode/uid/gid/rdev/xattrs, and every free of an inode
 *    happens under the write lock.
 *  - m->lock held for reading: inodes cannot go away and the fields above are stable. The
 *    fields marked [mu] below (file pages, size, timestamps, lookup and open counts) may
 *    change under a read lock, so they are read and written only with inode->mu held.
 * Two inode mutexes are taken in the order of their ino (copy_file_range). The instance's
 * counters (bytes, inodes, handles) are atomics so they may be charged under either lock.
 */
#ifndef FB_MEMFS_I_H
#define FB_MEMFS_I_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/stat.h>

#include <fuse_backend/memfs.h>

#define MEMFS_PAGE		4096u		/* unit of file data allocation */
#define MEMFS_NAME_MAX		255		/* longest name, bytes */
#define MEMFS_SYMLINK_MAX	4095		/* longest symlink target, bytes */
#define MEMFS_LINK_MAX		65000		/* largest link count (EMLINK beyond) */
#define MEMFS_XATTR_SIZE_MAX	65536		/* largest xattr value (E2BIG beyond) */
#define MEMFS_XATTR_LIST_MAX	65536		/* longest listxattr result per inode */
#define MEMFS_HANDLES_MAX	(1u << 20)	/* open handles at once (ENFILE beyond) */
#define MEMFS_TRIM_BYTES	(32u << 20)	/* freed bytes between two malloc_trim() */

/* One allocated page of a regular file. A file's pages are sorted by idx. */
struct memfs_page {
	uint64_t idx;			/* file offset / MEMFS_PAGE */
	unsigned char *data;		/* MEMFS_PAGE bytes */
};

/* A name in a directory. */
struct memfs_dentry {
	struct memfs_dentry *hnext;	/* next in the directory's hash bucket */
	struct memfs_inode *inode;	/* what the name points to (holds one nlink) */
	uint64_t cookie;		/* readdir position; increases in order of insertion */
	size_t slot;			/* index in the directory's order[] */
	uint32_t hash;
	uint32_t namelen;
	char name[];			/* NUL-terminated */
};

/*
 * A directory's names: a hash table for lookup, and order[], the dentries sorted by cookie
 * (NULL where one was removed) so that readdir can resume by binary search at the first cookie
 * >= the offset the kernel passes back, whatever was added or removed in between.
 */
struct memfs_dir {
	struct memfs_dentry **buckets;
	uint32_t nbuckets;		/* power of two, or 0 before the first name */
	uint32_t count;			/* names in the directory */
	struct memfs_dentry **order;
	size_t norder;			/* used slots of order[], holes included */
	size_t order_cap;
	uint64_t next_cookie;		/* of the next name; 0 and 1 are . and .. */
};

/* One extended attribute. */
struct memfs_xattr {
	struct memfs_xattr *next;
	size_t size;			/* value length */
	void *value;
	size_t namelen;
	char name[];			/* NUL-terminated */
};

struct memfs_inode {
	struct memfs_inode *hnext;	/* next in the inode table bucket */
	fb_ino_t ino;			/* node id and st_ino; never reused */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	dev_t rdev;
	uint32_t nlink;			/* names; dirs: + "." + subdirs' ".." */
	bool linkable;			/* an O_TMPFILE file that link() may give a name */
	struct memfs_inode *parent;	/* directories: the directory holding this one */
	struct memfs_xattr *xattrs;
	size_t xattr_list;		/* bytes listxattr would return */
	struct timespec btime;

	pthread_mutex_t mu;		/* protects the [mu] fields under a read-held m->lock */
	uint64_t size;			/* [mu] */
	struct timespec atime;		/* [mu] */
	struct timespec mtime;		/* [mu] */
	struct timespec ctime;		/* [mu] */
	uint64_t nlookup;		/* [mu] references held by the kernel */
	uint64_t nopen;			/* [mu] open handles */
	union {
		struct {		/* regular files */
			struct memfs_page *pages;	/* [mu] sorted by idx */
			size_t npages;			/* [mu] */
			size_t pages_cap;		/* [mu] */
		} file;
		struct memfs_dir dir;	/* directories */
		char *target;		/* symlinks: NUL-terminated target, size bytes */
	};
};

/* An open file or directory: the fh given to the kernel indexes these. */
struct memfs_handle {
	struct memfs_handle *hnext;	/* next in the handle table bucket */
	uint64_t fh;
	struct memfs_inode *inode;	/* holds one nopen */
	int flags;			/* open flags */
};

struct fb_memfs {
	pthread_rwlock_t lock;		/* see the top of this file */

	/* The inode table, ino -> inode; changed only under the write lock. */
	struct memfs_inode **inodes;
	size_t ninode_buckets;		/* power of two */
	fb_ino_t next_ino;		/* under the write lock */
	struct memfs_inode *root;

	/* The handle table, fh -> handle, under handle_lock (open runs with a read lock). */
	pthread_mutex_t handle_lock;
	struct memfs_handle **handles;
	size_t nhandle_buckets;		/* power of two */
	uint64_t next_fh;		/* under handle_lock */

	atomic_uint_least64_t bytes_used;
	atomic_uint_least64_t inode_count;
	atomic_uint_least64_t handle_count;
	atomic_uint_least64_t freed_since_trim;	/* bytes, for fb__memfs_maybe_trim() */

	/* Settings, fixed after fb_memfs_new(). */
	struct fb_memfs_config cfg;
	uint32_t hash_seed;		/* mixed into name hashes */
	uint64_t generation;		/* of every inode: the creation time of the instance */
};

/* memfs.c */
struct memfs_inode *fb__memfs_find(struct fb_memfs *m, fb_ino_t ino);
void fb__memfs_now(struct timespec *ts);
bool fb__memfs_in_group(const struct fb_ctx *ctx, gid_t gid);
int fb__memfs_may(const struct fb_ctx *ctx, const struct memfs_inode *inode, int mask);
int fb__memfs_charge(struct fb_memfs *m, uint64_t bytes);
void fb__memfs_uncharge(struct fb_memfs *m, uint64_t bytes);
void fb__memfs_maybe_trim(struct fb_memfs *m);
bool fb__memfs_kill_suid(struct memfs_inode *inode);
bool fb__memfs_should_kill_suid(const struct fb_ctx *ctx, const struct memfs_inode *inode,
				bool asked);
void fb__memfs_fill_stat(const struct fb_memfs *m, const struct memfs_inode *inode,
			 struct stat *st);

/* memfs_file.c: the caller holds m->lock and inode->mu, or m->lock for writing. */
void fb__memfs_pages_free(struct fb_memfs *m, struct memfs_inode *inode);
int fb__memfs_truncate(struct fb_memfs *m, struct memfs_inode *inode, uint64_t size);
int fb__memfs_read(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		   struct fb_writer *w, uint32_t size, uint64_t off, int flags);
int fb__memfs_write(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		    struct fb_reader *r, uint32_t size, uint64_t off, uint32_t write_flags,
		    int flags);
int fb__memfs_fallocate(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			int mode, uint64_t off, uint64_t len);
int fb__memfs_lseek(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		    uint64_t off, int whence, uint64_t *out);
int fb__memfs_copy_file_range(void *fs, const struct fb_ctx *ctx, fb_ino_t ino_in,
			      uint64_t fh_in, uint64_t off_in, fb_ino_t ino_out, uint64_t fh_out,
			      uint64_t off_out, uint64_t len, uint64_t flags, uint64_t *copied);

/* memfs.c: inode and handle life cycle (see the comments at each definition for the lock) */
int fb__memfs_inode_new(struct fb_memfs *m, const struct fb_ctx *ctx, struct memfs_inode *parent,
			mode_t mode, struct memfs_inode **ret);
void fb__memfs_inode_free(struct fb_memfs *m, struct memfs_inode *inode);
void fb__memfs_inode_put(struct fb_memfs *m, struct memfs_inode *inode);
void fb__memfs_entry_get(struct fb_memfs *m, struct memfs_inode *inode, struct fb_entry *e);
int fb__memfs_handle_new(struct fb_memfs *m, struct memfs_inode *inode, int flags,
			 uint64_t *ret_fh);
int fb__memfs_open_inode(struct fb_memfs *m, const struct fb_ctx *ctx, struct memfs_inode *inode,
			 int flags, bool check_perm, struct fb_file_info *fi);

/* memfs_dir.c */
int fb__memfs_get_dir(struct fb_memfs *m, fb_ino_t ino, struct memfs_inode **ret);
void fb__memfs_dir_free(struct fb_memfs *m, struct memfs_inode *dir);
int fb__memfs_lookup(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		     struct fb_entry *out);
int fb__memfs_mknod(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		    mode_t mode, dev_t rdev, struct fb_entry *out);
int fb__memfs_mkdir(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		    mode_t mode, struct fb_entry *out);
int fb__memfs_symlink(void *fs, const struct fb_ctx *ctx, const char *target, fb_ino_t parent,
		      const char *name, struct fb_entry *out);
int fb__memfs_link(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, fb_ino_t newparent,
		   const char *newname, struct fb_entry *out);
int fb__memfs_unlink(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name);
int fb__memfs_rmdir(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name);
int fb__memfs_rename(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		     fb_ino_t newparent, const char *newname, uint32_t flags);
int fb__memfs_create(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		     mode_t mode, int flags, struct fb_entry *out, struct fb_file_info *fi);
int fb__memfs_tmpfile(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, mode_t mode,
		      int flags, struct fb_entry *out, struct fb_file_info *fi);
int fb__memfs_readdir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		      uint64_t off, struct fb_dirbuf *buf);
int fb__memfs_readdirplus(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			  uint64_t off, struct fb_dirbuf *buf);

/* memfs_xattr.c */
void fb__memfs_xattrs_free(struct fb_memfs *m, struct memfs_inode *inode);
int fb__memfs_setxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name,
		       const void *value, size_t size, int flags, uint32_t setxattr_flags);
int fb__memfs_getxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name,
		       void *buf, size_t size);
int fb__memfs_listxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, char *buf,
			size_t size);
int fb__memfs_removexattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name);

#endif /* FB_MEMFS_I_H */
