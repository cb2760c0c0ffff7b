/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Private parts of the passthrough file system, shared by passthrough.c (instance, INIT,
 * ops table), inode.c (inode and handle tables, mount fds), ops.c (the operations), creds.c
 * (per-thread credentials) and syscalls.c (the host system-call table).
 */
#ifndef FB_FS_PASSTHROUGH_I_H
#define FB_FS_PASSTHROUGH_I_H

#include <pthread.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include <linux/openat2.h>

#include <fuse_backend/fs.h>
#include <fuse_backend/passthrough.h>

/*
 * Every host system call the file system makes goes through this table, so tests can inject
 * failures without LD_PRELOAD. Each entry has the libc calling convention (-1 and errno).
 * Tests may replace entries while no operation runs; fb__pt_syscalls_reset() restores them.
 */
struct fb__pt_syscalls {
	int (*openat)(int dirfd, const char *path, int flags, mode_t mode);
	int (*openat2)(int dirfd, const char *path, struct open_how *how, size_t size);
	int (*open_by_handle_at)(int mount_fd, struct file_handle *h, int flags);
	int (*name_to_handle_at)(int dirfd, const char *path, struct file_handle *h, int *mnt_id,
				 int flags);
	int (*close)(int fd);
	int (*statx)(int dirfd, const char *path, int flags, unsigned int mask,
		     struct statx *out);
	ssize_t (*readlinkat)(int dirfd, const char *path, char *buf, size_t size);
	int (*mkdirat)(int dirfd, const char *path, mode_t mode);
	int (*mknodat)(int dirfd, const char *path, mode_t mode, dev_t dev);
	int (*symlinkat)(const char *target, int dirfd, const char *path);
	int (*unlinkat)(int dirfd, const char *path, int flags);
	int (*renameat2)(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
			 unsigned int flags);
	int (*linkat)(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
		      int flags);
	int (*fchmodat)(int dirfd, const char *path, mode_t mode, int flags);
	int (*fchmod)(int fd, mode_t mode);
	int (*fchownat)(int dirfd, const char *path, uid_t uid, gid_t gid, int flags);
	int (*ftruncate)(int fd, off_t len);
	int (*utimensat)(int dirfd, const char *path, const struct timespec ts[2], int flags);
	int (*fallocate)(int fd, int mode, off_t off, off_t len);
	off_t (*lseek)(int fd, off_t off, int whence);
	int (*fsync)(int fd);
	int (*fdatasync)(int fd);
	int (*syncfs)(int fd);
	ssize_t (*getxattr)(const char *path, const char *name, void *value, size_t size);
	int (*setxattr)(const char *path, const char *name, const void *value, size_t size,
			int flags);
	ssize_t (*listxattr)(const char *path, char *list, size_t size);
	int (*removexattr)(const char *path, const char *name);
	ssize_t (*copy_file_range)(int fd_in, off_t *off_in, int fd_out, off_t *off_out,
				   size_t len, unsigned int flags);
	int (*fcntl_lock)(int fd, int cmd, struct flock *fl);
	int (*fcntl_int)(int fd, int cmd, int arg);	/* F_GETFL, F_SETFL */
	int (*flock)(int fd, int op);
	int (*fstatvfs)(int fd, struct statvfs *out);
	int (*ioctl)(int fd, unsigned long cmd, void *arg);
	ssize_t (*getdents64)(int fd, void *buf, size_t size);
	int (*faccessat)(int dirfd, const char *path, int mode, int flags);
	int (*dup)(int fd);
	/* xattrs of regular files and directories, through a descriptor (no /proc path) */
	ssize_t (*fgetxattr)(int fd, const char *name, void *value, size_t size);
	int (*fsetxattr)(int fd, const char *name, const void *value, size_t size, int flags);
	ssize_t (*flistxattr)(int fd, char *list, size_t size);
	int (*fremovexattr)(int fd, const char *name);
};

extern struct fb__pt_syscalls fb__pt_sys;
void fb__pt_syscalls_reset(void);

/*
 * Directories used as parents are reopened from their handle for every request; up to this
 * many keep their O_PATH descriptor instead (the process limit on our machines is 20,000).
 */
#define FB__PT_DIR_FDS_MAX 1024

/* The longest file handle we store (MAX_HANDLE_SZ is 128). */
#define FB__PT_HANDLE_MAX 128

/*
 * One host inode the kernel knows. Found by node id (`id`) and by host identity (dev, ino,
 * mnt_id). Either `handle` (reopened with open_by_handle_at on the mount's fd) or `fd` (an
 * O_PATH descriptor) reaches the host inode.
 */
struct fb__pt_inode {
	fb_ino_t id;
	uint64_t dev;
	uint64_t ino;
	uint64_t mnt_id;
	uint32_t mode;			/* file type bits (S_IFMT), fixed for the inode's life */
	int submount;			/* on another host mount than its parent directory */
	int fd;				/* O_PATH fd or -1 (then handle is set); set once
					 * from -1 under the table lock, read atomically */
	int fd_cached;			/* fd is a directory fd cache entry (counted in
					 * cached_fds), not needed for the identity */
	int mount_fd;			/* borrowed from the mount table; with handle */
	struct file_handle *handle;	/* malloc'd, or NULL */

	/* Protected by the table lock: */
	uint64_t nlookup;		/* kernel references (lookups) */
	uint32_t refs;			/* operations using the inode right now */
	int hashed_key;			/* linked in the key table */
	int hashed_id;			/* linked in the id table */
	struct fb__pt_inode *next_id;
	struct fb__pt_inode *next_key;

	/* FUSE passthrough backing file, protected by the instance's backing_lock: */
	int backing_id;			/* > 0 while registered */
	uint32_t backing_users;		/* open files using backing_id */
};

/* An open file or directory (the kernel's fh). */
struct fb__pt_handle {
	struct fb__pt_inode *inode;	/* holds one ref */
	int fd;
	int is_dir;
	int backing;			/* this open counts in inode->backing_users */
	uint32_t refs;			/* protected by the handle table lock */
	uint32_t gen;			/* slot generation, part of the fh */

	/* Directory stream state, protected by dir_lock: */
	pthread_mutex_t dir_lock;
	char *dbuf;			/* getdents64 buffer */
	size_t dlen;			/* valid bytes in dbuf */
	size_t dpos;			/* next record in dbuf */
	uint64_t doff;			/* offset of the next record in the stream */
};

struct fb__pt_mount {
	uint64_t mnt_id;
	int fd;
};

/*
 * A forgotten inode whose node id may still be in a file handle the kernel gave out (NFS-style
 * export): its host file handle, so that LOOKUP(id, ".") can find the file again, and so that
 * a later lookup of the same host inode gets the same node id back. See inode.c.
 */
struct fb__pt_retired {
	fb_ino_t id;
	uint64_t dev;
	uint64_t ino;
	uint64_t mnt_id;
	int mount_fd;			/* borrowed from the mount table */
	struct file_handle *handle;	/* malloc'd */
	size_t slot;			/* in the ring */
	struct fb__pt_retired *next_id;
	struct fb__pt_retired *next_key;
};

/* Forgotten inodes remembered for export, at most (oldest dropped first). */
#define FB__PT_RETIRED_MAX 16384

/* idmap.c: one direction of a uid or gid map, disjoint ranges sorted by first id. */
enum {
	FB__PT_ID_RANGE = 0,	/* first..last to to.. (1:1) */
	FB__PT_ID_SQUASH,	/* first..last all to `to` */
	FB__PT_ID_FORBID,	/* first..last: -EPERM */
};

struct fb__pt_identry {
	uint32_t first;
	uint32_t last;		/* inclusive */
	uint32_t to;
	int op;			/* FB__PT_ID_* */
};

struct fb__pt_idtable {
	struct fb__pt_identry *e;
	size_t n;
};

struct fb__pt_idmap {
	int set;			/* any entry at all */
	struct fb__pt_idtable g2h;	/* guest to host */
	struct fb__pt_idtable h2g;	/* host to guest */
};

/* Build @m from @n entries (fb_idmap_check() rules). Returns 0, -EINVAL or -ENOMEM. */
int fb__pt_idmap_init(struct fb__pt_idmap *m, const struct fb_idmap_range *map, uint32_t n);
void fb__pt_idmap_done(struct fb__pt_idmap *m);
/* Guest id to host id: 0, or -EPERM for a forbidden id. Uncovered ids map to themselves. */
int fb__pt_idmap_to_host(const struct fb__pt_idmap *m, uint32_t guest, uint32_t *host);
/* Host id to guest id. Uncovered ids map to themselves. */
uint32_t fb__pt_idmap_to_guest(const struct fb__pt_idmap *m, uint32_t host);

struct fb_passthrough {
	struct fb_passthrough_config cfg;	/* source is not kept */
	int root_fd;			/* the source directory, O_RDONLY|O_DIRECTORY */
	int noatime_fd;			/* with cfg.noatime: the root of a private
					 * clone of the source's mount with MOUNT_ATTR_NOATIME,
					 * on which FUSE passthrough backing files are opened;
					 * else -1 */
	int proc_fd;			/* /proc/self/fd, O_PATH */
	pid_t proc_pid;			/* the process whose fd directory proc_fd is */
	int use_handles;		/* file handles work on the source */
	int host_acls;			/* the source's file system keeps POSIX ACLs */
	int cred_switch;		/* per-request credential switching on */
	double entry_timeout;		/* non-directories */
	double dir_timeout;		/* directories */
	struct fb__pt_inode root;	/* never freed, id FB_ROOT_ID */
	gid_t saved_egid;		/* the daemon's effective gid */
	uint32_t saved_ngroups;		/* the daemon's supplementary groups */
	gid_t *saved_groups;
	int idmapped;			/* uids or gids below have entries (fixed after new) */
	struct fb__pt_idmap uids;
	struct fb__pt_idmap gids;

	/* Negotiated at INIT (written once before requests run): */
	int writeback;
	int passthrough;
	int no_open;
	int no_opendir;
	int submounts;
	int killpriv_v2;
	int allow_idmap;		/* FB_ALLOW_IDMAP: most callers are FB_INVALID_UIDGID */
	int flush;			/* FLUSH does something: host locks, or a source where
					 * close() may report errors (NFS): see want_flush() */

	pthread_mutex_t lock;		/* protects the inode tables, counts, mounts, next_id */
	struct fb__pt_inode **by_id;	/* chained hash on id */
	struct fb__pt_inode **by_key;	/* chained hash on (dev, ino, mnt_id) */
	size_t buckets;			/* size of both tables, a power of two */
	uint64_t ninodes;		/* live inodes, the root included */
	uint64_t next_id;
	uint32_t cached_fds;		/* directory inodes holding a cached O_PATH fd */
	struct fb__pt_mount *mounts;
	size_t nmounts;

	pthread_mutex_t hlock;		/* protects the handle table and each handle's refs */
	struct fb__pt_handle **handles;
	uint32_t *hgen;			/* generation per slot */
	size_t nhandles;		/* slots */
	size_t hfree_hint;
	uint64_t handles_open;

	pthread_mutex_t backing_lock;	/* protects backing_* of every inode */

	/* Forgotten inodes (FB_EXPORT_SUPPORT with file handles), protected by lock: */
	int export;			/* negotiated at INIT: keep them */
	struct fb__pt_retired **ret_by_id;	/* FB__PT_RETIRED_MAX buckets, or NULL */
	struct fb__pt_retired **ret_by_key;
	struct fb__pt_retired **ret_fifo;	/* ring of FB__PT_RETIRED_MAX, oldest at ret_head;
						 * a revived entry leaves a NULL hole */
	size_t ret_head;
	size_t ret_count;			/* slots in use, holes included */

	pthread_mutex_t waiters_lock;	/* protects the waiter lists, nwaiters and each
					 * waiter's started and finished (lock.c) */
	struct fb__pt_waiter *waiters;	/* threads waiting for locks of deferred requests */
	struct fb__pt_waiter *waiters_done; /* finished, to join */
	unsigned int nwaiters;		/* on waiters */
};

/* inode.c */
int fb__pt_tables_init(struct fb_passthrough *pt);
void fb__pt_tables_done(struct fb_passthrough *pt);
/* Close every handle and drop every inode but the root (the session ended: destroy()). */
void fb__pt_tables_clear(struct fb_passthrough *pt);
/* Take a ref on the inode with node id @id; NULL if unknown. */
struct fb__pt_inode *fb__pt_inode_get(struct fb_passthrough *pt, fb_ino_t id);
void fb__pt_inode_put(struct fb_passthrough *pt, struct fb__pt_inode *in);
/* Drop @n kernel lookups. */
void fb__pt_inode_forget(struct fb_passthrough *pt, fb_ino_t id, uint64_t n);
/*
 * A descriptor for @in: its O_PATH fd (*owned = 0) or a new O_PATH fd from its handle
 * (*owned = 1, close with fb__pt_fd_put). Returns the fd or a negative errno.
 */
int fb__pt_inode_fd(struct fb_passthrough *pt, struct fb__pt_inode *in, int *owned);
void fb__pt_fd_put(int fd, int owned);
/*
 * Find or add the inode of the open descriptor @fd (O_PATH or not) found below @parent, take
 * one lookup, and fill @e. @st is @fd's statx. Returns 0 or a negative errno.
 */
int fb__pt_inode_enter(struct fb_passthrough *pt, struct fb__pt_inode *parent, int fd,
		       const struct statx *st, struct fb_entry *e);
/*
 * The inode of @name below @parent whose statx is @st, if the table has it (and, with handles,
 * it holds a descriptor or its file handle still matches), or else a new inode from the name's file handle when the
 * name still shows the same object afterwards (@st is then refreshed): take one lookup, set
 * e->ino and return 1. Returns 0 when the caller must open the name and use
 * fb__pt_inode_enter(), or a negative errno.
 */
int fb__pt_inode_find_name(struct fb_passthrough *pt, struct fb__pt_inode *parent, int pfd,
			   const char *name, struct statx *st, struct fb_entry *e);
/*
 * Keep an O_PATH fd in the inode of @name if the kernel knows it, before its last name goes.
 * A file handle opens an unlinked inode only while something keeps it alive, and the kernel
 * may still use the inode with nothing open (no_open reads, the writeback cache flushing
 * mtime with SETATTR after the last close, fstat of an O_PATH descriptor).
 */
void fb__pt_inode_pin(struct fb_passthrough *pt, int dirfd, const char *name);
/*
 * An O_PATH descriptor of the forgotten inode @id, from the file handle kept when the kernel
 * forgot it (pt->export), and its host identity in @dev / @ino. The caller enters it again
 * (fb__pt_inode_enter gives it node id @id back). Returns the fd or -ESTALE.
 */
int fb__pt_retired_open(struct fb_passthrough *pt, fb_ino_t id, uint64_t *dev, uint64_t *ino);

/* Handles: fh values are (generation << 32 | slot + 1). */
int fb__pt_handle_add(struct fb_passthrough *pt, struct fb__pt_handle *h, uint64_t *fh);
struct fb__pt_handle *fb__pt_handle_get(struct fb_passthrough *pt, uint64_t fh);
void fb__pt_handle_put(struct fb_passthrough *pt, struct fb__pt_handle *h);
/* Remove @fh from the table (the ref the table held is dropped). */
struct fb__pt_handle *fb__pt_handle_remove(struct fb_passthrough *pt, uint64_t fh);

/* creds.c: switch the calling thread to the caller of @ctx and back. */
struct fb__pt_creds {
	int switched;
};
int fb__pt_creds_enter(struct fb_passthrough *pt, const struct fb_ctx *ctx,
		       struct fb__pt_creds *save);
void fb__pt_creds_leave(struct fb_passthrough *pt, struct fb__pt_creds *save);

/* passthrough.c */
int fb__pt_init(void *fs, struct fb_conn *conn);
void fb__pt_destroy(void *fs);

/* ops.c */
/* @sx as a struct stat, owner and group mapped to the client's ids. */
void fb__pt_statx_to_stat(const struct fb_passthrough *pt, const struct statx *sx,
			  struct stat *st);
void fb__pt_handle_free(struct fb_passthrough *pt, struct fb__pt_handle *h);

#define PT(fs) ((struct fb_passthrough *)(fs))

/* An inode's descriptor, with the inode: the triple ops pass around. */
struct pt_ifd {
	struct fb__pt_inode *in;
	int fd;
	int owned;
};

/* ops.c */
int fb__pt_fd_statx(int fd, struct statx *sx);
int fb__pt_name_check(const char *name);
int fb__pt_reopen_fd(struct fb_passthrough *pt, int pfd, int flags);
void fb__pt_noatime_fd(struct fb_passthrough *pt, int fd);
int fb__pt_ifd_get(struct fb_passthrough *pt, fb_ino_t ino, struct pt_ifd *f);
void fb__pt_ifd_put(struct fb_passthrough *pt, struct pt_ifd *f);
int fb__pt_lookup_at(struct fb_passthrough *pt, struct fb__pt_inode *parent, int pfd,
		     const char *name, struct fb_entry *e);
int fb__pt_enter_fd(struct fb_passthrough *pt, struct fb__pt_inode *parent, int fd,
		    struct fb_entry *e);
struct fb__pt_handle *fb__pt_handle_of(struct fb_passthrough *pt, uint64_t fh);
int fb__pt_kill_suidgid(int pfd, struct fb_passthrough *pt);
void fb__pt_mode_changed(const struct fb_ctx *ctx, fb_ino_t ino);
int fb__pt_access(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint32_t mask);

/* dir.c */
int fb__pt_readlink(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, char *buf, size_t size);
/*
 * The permission bits @mode to create a file with in the directory open as @pfd: without the
 * caller's umask (it comes in the request: FB_DONT_MASK; the daemon's own is 0), unless that
 * directory has a default ACL: the host kernel then ignores the umask and lets the ACL decide.
 * A getxattr only when the umask would change @mode and the source keeps ACLs. As the daemon.
 */
mode_t fb__pt_create_mode(struct fb_passthrough *pt, const struct fb_ctx *ctx, int pfd,
			  mode_t mode);
int fb__pt_mkdir(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name, mode_t mode,
		 struct fb_entry *out);
int fb__pt_mknod(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name, mode_t mode,
		 dev_t rdev, struct fb_entry *out);
int fb__pt_symlink(void *fs, const struct fb_ctx *ctx, const char *target, fb_ino_t parent,
		   const char *name, struct fb_entry *out);
int fb__pt_unlink(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name);
int fb__pt_rmdir(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name);
int fb__pt_rename(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		  fb_ino_t newparent, const char *newname, uint32_t flags);
int fb__pt_link(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, fb_ino_t newparent,
		const char *newname, struct fb_entry *out);
int fb__pt_opendir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		   struct fb_file_info *fi);
int fb__pt_releasedir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int flags);
int fb__pt_fsyncdir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int datasync);
int fb__pt_readdir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t off,
		   struct fb_dirbuf *buf);
int fb__pt_readdirplus(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t off,
		       struct fb_dirbuf *buf);

/* file.c */
int fb__pt_open_common(struct fb_passthrough *pt, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		       int is_dir, struct fb_file_info *fi);
int fb__pt_open(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		struct fb_file_info *fi);
int fb__pt_create(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		  mode_t mode, int flags, struct fb_entry *out, struct fb_file_info *fi);
int fb__pt_tmpfile(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, mode_t mode, int flags,
		   struct fb_entry *out, struct fb_file_info *fi);
int fb__pt_read(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, struct fb_writer *w,
		uint32_t size, uint64_t off, int flags);
int fb__pt_write(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, struct fb_reader *r,
		 uint32_t size, uint64_t off, uint32_t write_flags, int flags);
int fb__pt_flush(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		 uint64_t lock_owner);
int fb__pt_release_common(struct fb_passthrough *pt, const struct fb_ctx *ctx, uint64_t fh);
int fb__pt_release(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int flags,
		   uint32_t release_flags, uint64_t lock_owner);
int fb__pt_fsync(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int datasync);
int fb__pt_fallocate(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int mode,
		     uint64_t off, uint64_t len);
int fb__pt_lseek(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t off,
		 int whence, uint64_t *out);
int fb__pt_copy_file_range(void *fs, const struct fb_ctx *ctx, fb_ino_t ino_in, uint64_t fh_in,
			   uint64_t off_in, fb_ino_t ino_out, uint64_t fh_out, uint64_t off_out,
			   uint64_t len, uint64_t flags, uint64_t *copied);
int fb__pt_setupmapping(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			uint64_t foffset, uint64_t len, uint64_t flags, uint64_t moffset);
int fb__pt_removemapping(void *fs, const struct fb_ctx *ctx, const struct fb_mapping *ranges,
			 uint32_t count);

/* xattr.c */
int fb__pt_setxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name,
		    const void *value, size_t size, int flags, uint32_t setxattr_flags);
int fb__pt_getxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name, void *buf,
		    size_t size);
int fb__pt_listxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, char *buf, size_t size);
int fb__pt_removexattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name);
/* A path to the object open as @fd, for calls that take a path (getxattr and friends). */
void fb__pt_proc_path(struct fb_passthrough *pt, int fd, char *path, size_t len);

/* lock.c */
int fb__pt_getlk(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		 struct fb_lock *lk);
int fb__pt_setlk(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		 const struct fb_lock *lk, int sleep);
/* Waiting locks (lock.c): set up; wake and join every waiter (destroy()); both and tear down. */
int fb__pt_locks_init(struct fb_passthrough *pt);
void fb__pt_locks_cancel(struct fb_passthrough *pt);
void fb__pt_locks_done(struct fb_passthrough *pt);
int fb__pt_flock(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		 int op);

/* ioctl.c */
int fb__pt_ioctl(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint32_t flags,
		 uint32_t cmd, const void *in, uint32_t in_size, void *out, uint32_t *out_size);
#endif /* FB_FS_PASSTHROUGH_I_H */
