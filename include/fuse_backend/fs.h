/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The file-system operations table.
 *
 * A file system is a `const struct fb_fs_ops` table plus a private pointer (`fs`), handed to
 * fb_server_new(). The server decodes each kernel request, checks it, and calls one operation;
 * the operation returns 0 (or a count where said) or a negative errno, and fills its
 * out-parameters. A NULL entry answers ENOSYS. Operations may be called from several threads
 * at once; a file system does its own locking.
 *
 * Borrowed arguments (names, buffers, the context) are valid only during the call.
 *
 * Lookup counts: every operation that returns a struct fb_entry with a non-zero ino (lookup,
 * mknod, mkdir, symlink, link, create, tmpfile, and each entry added with
 * fb_dirbuf_add_plus()) gives the kernel one reference to that inode. The kernel gives them
 * back with forget() (nlookup at a time). An inode may be freed only once its count is zero.
 * The root (FB_ROOT_ID) is never forgotten.
 *
 * Inode numbers: the ino the file system puts in an fb_entry is the node id the kernel uses in
 * later requests. It must be unique among live inodes and must not be 0 or FB_ROOT_ID (1) for
 * anything but the root. st_ino in the attributes is what stat() shows and can differ.
 */
#ifndef FUSE_BACKEND_FS_H
#define FUSE_BACKEND_FS_H

#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/buf.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A FUSE node id. */
typedef uint64_t fb_ino_t;

struct fb_server;
struct statx;	/* <sys/stat.h> with _GNU_SOURCE defines it; only pointers are used here */

/* The node id of the root directory is FB_ROOT_ID (abi.h); this older name stays for programs
 * that use it. */
#define FB_FS_ROOT_INO FB_ROOT_ID

/*
 * Who is asking: the caller of the system call behind a request. Borrowed for the call.
 */
struct fb_ctx {
	uint64_t unique;		/* the request's id */
	uint32_t opcode;		/* FB_* opcode of the request */
	uint32_t uid;			/* caller's fsuid */
	uint32_t gid;			/* caller's fsgid */
	uint32_t pid;			/* caller's thread group id (0 when unknown) */
	uint32_t umask;			/* caller's umask for create, mkdir, mknod, tmpfile. The
					 * server negotiates DONT_MASK, so the kernel has NOT
					 * applied it to their @mode: use mode & ~umask (unlike
					 * libfuse's default), or clear FB_DONT_MASK from
					 * conn->want in init() to have the kernel apply it */
	uint32_t ngroups;		/* supplementary groups sent with the request */
	const uint32_t *groups;		/* ngroups entries, or NULL; borrowed */
	const char *secctx_name;	/* security context name (e.g. "security.selinux") or NULL */
	const void *secctx;		/* its value, secctx_len bytes; borrowed */
	uint32_t secctx_len;
	struct fb_server *server;	/* the server handling the request */
};

/*
 * True once the kernel has interrupted the request behind @ctx (the caller got a signal).
 * A long operation may poll this and return -EINTR.
 */
int fb_ctx_interrupted(const struct fb_ctx *ctx);

/*
 * Register @fd as a backing file for FUSE passthrough with the transport of @ctx. Returns the
 * backing id (> 0) to put in struct fb_file_info, or a negative errno: -EOPNOTSUPP when the
 * transport or the kernel cannot do it, -EPERM without CAP_SYS_ADMIN.
 */
int fb_ctx_backing_open(const struct fb_ctx *ctx, int fd);

/* Release a backing id returned by fb_ctx_backing_open(). Returns 0 or a negative errno. */
int fb_ctx_backing_close(const struct fb_ctx *ctx, int backing_id);

/*
 * virtio-fs DAX: map [@foffset, +@len) of @fd at offset @moffset of the guest's cache window
 * (@flags: FB_SETUPMAPPING_FLAG_READ / _WRITE), through the transport of @ctx. @fd is
 * borrowed: the transport passes it to the VMM during the call. Returns 0 or a negative errno;
 * -EOPNOTSUPP when the transport has no cache window. For setupmapping().
 */
int fb_ctx_dax_map(const struct fb_ctx *ctx, int fd, uint64_t foffset, uint64_t moffset,
		   uint64_t len, uint64_t flags);

/* virtio-fs DAX: unmap [@moffset, +@len) of the cache window. For removemapping(). */
int fb_ctx_dax_unmap(const struct fb_ctx *ctx, uint64_t moffset, uint64_t len);

/*
 * The connection as negotiated at INIT. init() sees the kernel's offer and may change `want`
 * and the limits; the server then answers the kernel with the result.
 */
struct fb_conn {
	uint32_t proto_major;		/* kernel's protocol major (7) */
	uint32_t proto_minor;		/* negotiated minor: min(kernel's, ours) */
	uint64_t capable;		/* FB_* INIT flags (bits 0-63) the kernel and transport offer */
	uint64_t want;			/* flags to enable, a subset of capable. The server fills a
					 * default set before init(); the file system adds or
					 * removes bits (e.g. FB_WRITEBACK_CACHE, FB_PASSTHROUGH) */
	uint32_t max_write;		/* largest WRITE payload, bytes */
	uint32_t max_readahead;		/* kernel's offer; the reply cannot exceed it */
	uint32_t max_pages;		/* largest request in pages (with FB_MAX_PAGES) */
	uint16_t max_background;	/* background requests the kernel may queue */
	uint16_t congestion_threshold;
	uint32_t time_gran;		/* timestamp granularity in ns, 1 to 1e9 */
	uint16_t map_alignment;		/* DAX mapping alignment as log2 (virtio-fs) */
	uint32_t max_stack_depth;	/* FUSE passthrough stacking depth (FB_PASSTHROUGH) */
	uint16_t request_timeout;	/* seconds (FB_REQUEST_TIMEOUT), 0 for none */
};

/*
 * An entry: the answer to lookup and to every operation that creates a name. ino == 0 with
 * entry_timeout > 0 is a negative entry: the kernel caches that the name does not exist
 * (only meaningful from lookup).
 */
struct fb_entry {
	fb_ino_t ino;			/* node id, see above */
	uint64_t generation;		/* inode generation: (ino, generation) is unique forever */
	struct stat attr;		/* attributes */
	uint32_t attr_flags;		/* FB_ATTR_SUBMOUNT, FB_ATTR_DAX */
	double entry_timeout;		/* seconds the kernel may cache the name */
	double attr_timeout;		/* seconds the kernel may cache the attributes */
};

/* An open file or directory, filled by open, create, tmpfile and opendir. */
struct fb_file_info {
	uint64_t fh;			/* the file system's handle, passed back later */
	uint32_t open_flags;		/* FB_FOPEN_* bits for the kernel (DIRECT_IO, KEEP_CACHE,
					 * CACHE_DIR, NONSEEKABLE, PASSTHROUGH, ...) */
	int32_t backing_id;		/* with FB_FOPEN_PASSTHROUGH: from fb_ctx_backing_open() */
};

/* A byte-range lock (getlk, setlk). */
struct fb_lock {
	uint64_t start;
	uint64_t end;			/* inclusive; UINT64_MAX (OFFSET_MAX) for "to the end" */
	uint32_t type;			/* F_RDLCK, F_WRLCK, F_UNLCK */
	uint32_t pid;
};

/* One range of a REMOVEMAPPING request (virtio-fs DAX). */
struct fb_mapping {
	uint64_t moffset;
	uint64_t len;
};

/*
 * A directory listing being built for readdir/readdirplus. Opaque: fill it with
 * fb_dirbuf_add() or fb_dirbuf_add_plus().
 */
struct fb_dirbuf;

/*
 * Add one entry to a READDIR reply. @off is the offset of the entry *after* this one: the
 * kernel passes it back to continue the listing. @type is a DT_* value. Returns 0, or
 * -ENOSPC when the entry does not fit (nothing was added: stop and return 0 from readdir).
 */
int fb_dirbuf_add(struct fb_dirbuf *b, const char *name, size_t namelen, uint64_t ino,
		  uint32_t type, uint64_t off);

/*
 * Add one entry to a READDIRPLUS reply, with its attributes. Returns 0 when the entry was
 * added: the kernel then holds one lookup of e->ino, exactly as after lookup(). Returns
 * -ENOSPC when it did not fit: no lookup was taken. For "." and ".." pass e->ino == 0 (the
 * kernel does not link them) and take no lookup.
 */
int fb_dirbuf_add_plus(struct fb_dirbuf *b, const char *name, size_t namelen,
		       const struct fb_entry *e, uint64_t off);

/*
 * A hook on a listing, for a file system that stacks on others (the VFS): it calls a lower
 * file system's readdir or readdirplus and must see, and may rewrite, every entry that one
 * adds (to turn its inode numbers into its own, to count the lookups READDIRPLUS hands out).
 *
 * While a hook is installed, fb_dirbuf_add() and fb_dirbuf_add_plus() on @b call it instead
 * of adding, and return what it returns. For a READDIR listing (fb_dirbuf_add) @e carries
 * only attr.st_ino (the entry's ino) and the file type in attr.st_mode (DT_* << 12); ino is 0.
 * @e and @name are borrowed for the call. To add the entry, possibly changed, the hook swaps
 * the previous hook back in, calls fb_dirbuf_add() or fb_dirbuf_add_plus() (the stacking file
 * system knows which kind of listing it asked for), and swaps itself in again; it returns
 * 0, -ENOSPC when the entry did not fit (the lower file system then stops), or another
 * negative errno. In a READDIRPLUS listing an entry not added takes no lookup.
 */
typedef int (*fb_dirbuf_hook)(void *priv, struct fb_dirbuf *b, const char *name,
			      size_t namelen, const struct fb_entry *e, uint64_t off);

/*
 * Exchange the hook of @b and its private pointer with *@hook and *@priv: install a hook
 * with its own pointers in, get the previous one (NULL: none) back, and call again with the
 * same variables to restore it. Hooks stack: the previous one is whatever a file system
 * above installed. Each request's listing starts without a hook.
 */
void fb_dirbuf_swap_hook(struct fb_dirbuf *b, fb_dirbuf_hook *hook, void **priv);

/*
 * The operations. Every pointer may be NULL (ENOSYS). `fs` is the private pointer given to
 * fb_server_new(). Errors are negative errnos; the server sends them to the kernel, which
 * hands most of them to the caller's system call unchanged. Each contract says which errors
 * that caller expects and what the kernel does with each answer (libfuse's "valid replies").
 * A return value other than 0, a negative errno, or a count where one is said is a bug: the
 * server logs it and answers EIO. ENOSYS (a NULL entry, or returned) is "remembered" by the
 * kernel for some operations, as said below: it stops sending that request for the rest of
 * the connection and answers by itself; for the others every call fails with ENOSYS.
 */
struct fb_fs_ops {
	/*
	 * INIT: the kernel's offer is in @conn; adjust conn->want and the limits. Returns 0, or a
	 * negative errno to refuse the connection: the kernel then fails the mount (and every
	 * request of that connection) with ECONNREFUSED. Called again after a destroy() when a new
	 * session starts on the same connection.
	 */
	int (*init)(void *fs, struct fb_conn *conn);

	/*
	 * DESTROY, or the end of a session (fb_server_reset(), a guest's new INIT): the kernel
	 * is done and holds nothing any more. Drop every lookup count and every open handle it
	 * had (free inodes that lived only for them, close the handles' descriptors); keep what
	 * is the file system's own data and its root. A new session may follow: init() is then
	 * called again, and the kernel starts from the root with no node id or handle of the
	 * old session. No request runs during the call. No reply is affected.
	 */
	void (*destroy)(void *fs);

	/*
	 * Look @name up in @parent; fill @out (one lookup count if out->ino != 0). @name is never
	 * "." or ".." unless the file system is exported (NFS, open_by_handle_at). Errors: ENOENT
	 * (the kernel caches nothing; to cache the absence, return 0 with out->ino == 0 and an
	 * entry_timeout), ENOTDIR, EACCES, ENAMETOOLONG, EIO; each reaches the caller's system
	 * call. Invalid attributes in @out make the kernel answer EIO.
	 */
	int (*lookup)(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		      struct fb_entry *out);

	/*
	 * The kernel drops @nlookup references to @ino. No reply, so no error: the kernel sends it
	 * and goes on. Also used for BATCH_FORGET. Never called for FB_ROOT_ID.
	 */
	void (*forget)(void *fs, fb_ino_t ino, uint64_t nlookup);

	/*
	 * Attributes of @ino. @fi is the open file when the caller passed one (fstat), else NULL.
	 * Fill @out and @timeout (seconds the kernel may cache them). Errors (ENOENT, EACCES, EIO,
	 * ...) reach stat(2) and every call that needed fresh attributes (open, access checks with
	 * default_permissions). If the file type in @out differs from what the kernel knows, the
	 * kernel marks the inode bad and answers EIO from then on.
	 */
	int (*getattr)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino,
		       const struct fb_file_info *fi, struct stat *out, double *timeout);

	/*
	 * Change the attributes named by @valid (FB_FATTR_* bits) to the values in @in: st_mode
	 * (MODE), st_uid (UID), st_gid (GID), st_size (SIZE), st_atim (ATIME; with
	 * FB_FATTR_ATIME_NOW the current time), st_mtim (MTIME, MTIME_NOW), st_ctim (CTIME).
	 * FB_FATTR_KILL_SUIDGID asks to clear set-uid/set-gid. @fi is the open file with
	 * FB_FATTR_FH, else NULL. Fill @out with the new attributes and @timeout. Errors reach
	 * chmod/chown/truncate/utimensat: EPERM, EACCES, EROFS, EFBIG, EINVAL, ENOSPC, EDQUOT, EIO.
	 * A change of file type in @out makes the kernel mark the inode bad (EIO from then on).
	 */
	int (*setattr)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const struct stat *in,
		       uint32_t valid, const struct fb_file_info *fi, struct stat *out,
		       double *timeout);

	/*
	 * Copy the target of symlink @ino into @buf (at most @size bytes, no NUL needed). Returns
	 * its length (the kernel adds the NUL), or EINVAL (not a symlink), ENOENT, EACCES, EIO for
	 * readlink(2) and path walks through the link. ENOSYS is not remembered: every readlink
	 * gets it.
	 */
	int (*readlink)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, char *buf, size_t size);

	/*
	 * Create symlink @name in @parent pointing to @target; fill @out as lookup() does (one
	 * lookup count). Errors reach symlink(2): EEXIST, ENOENT, ENOSPC, EDQUOT, EROFS, EACCES,
	 * EPERM, ENAMETOOLONG. The kernel answers EIO itself if out->ino is 0 or FB_ROOT_ID or the
	 * new node is not a symlink.
	 */
	int (*symlink)(void *fs, const struct fb_ctx *ctx, const char *target, fb_ino_t parent,
		       const char *name, struct fb_entry *out);

	/*
	 * Create a node (regular, fifo, socket, device): @mode has the type and the caller's
	 * permission bits, not yet masked (apply ctx->umask), @rdev the device. Fill @out as
	 * lookup() does (one lookup count). Also used for creat(2) when create() is NULL. Errors
	 * reach mknod(2): EEXIST, ENOENT, ENOSPC, EDQUOT, EROFS, EACCES, EPERM (devices without the
	 * privilege). The kernel answers EIO itself if out->ino is 0 or FB_ROOT_ID or the new
	 * node's type differs from @mode's.
	 */
	int (*mknod)(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev, struct fb_entry *out);

	/*
	 * Create directory @name in @parent. @mode has the permission bits the caller asked for,
	 * not yet masked: apply ctx->umask (and a default ACL of @parent, which replaces it). Fill
	 * @out as lookup() does: one lookup count, attributes of the new directory (S_IFDIR in
	 * st_mode). Returns 0 or a negative errno, which reaches mkdir(2): EEXIST (the name exists,
	 * whatever it is), ENOENT (@parent was removed), ENOTDIR, ENOSPC, EDQUOT, EMLINK, EROFS,
	 * EACCES, EPERM, ENAMETOOLONG. ENOSYS is not remembered: every mkdir gets it. The kernel
	 * answers EIO itself if out->ino is 0 or FB_ROOT_ID or the new node is not a directory (and
	 * sends no forget: the node keeps the lookup count it was given).
	 */
	int (*mkdir)(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		     mode_t mode, struct fb_entry *out);

	/*
	 * Remove a name; the inode lives on while the kernel holds lookups or handles. Errors reach
	 * unlink(2): ENOENT, EISDIR (a directory), EACCES, EPERM (sticky directory), EBUSY, EROFS.
	 * On success the kernel drops the name and updates the inode's link count itself.
	 */
	int (*unlink)(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name);
	/*
	 * Remove the empty directory @name from @parent; the inode lives on while the kernel holds
	 * lookups or handles (later lookups in it must fail). Returns 0 or a negative errno, which
	 * reaches rmdir(2): ENOTEMPTY (or EEXIST) when it has entries, ENOENT, ENOTDIR (@name is
	 * not a directory), EBUSY, EACCES, EPERM (sticky directory), EROFS, EINVAL. On success the
	 * kernel drops the name, sets the directory's link count to 0 and drops @parent's cached
	 * attributes. ENOSYS is not remembered: every rmdir gets it.
	 */
	int (*rmdir)(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name);

	/*
	 * Rename; @flags is 0 or RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT. Errors reach
	 * rename(2): ENOENT, EEXIST (NOREPLACE), ENOTEMPTY, EISDIR, ENOTDIR, EXDEV (mv then
	 * copies), EINVAL (a directory into itself, an unknown flag), EBUSY, EACCES, EPERM, EROFS.
	 * ENOSYS for a rename with @flags is remembered: later renames with flags fail EINVAL
	 * without asking.
	 */
	int (*rename)(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		      fb_ino_t newparent, const char *newname, uint32_t flags);

	/*
	 * Hard link @ino as @newname in @newparent; fill @out as lookup() does (one lookup count).
	 * Errors reach link(2): EEXIST, ENOENT, EPERM (a directory), EMLINK, EXDEV, ENOSPC, EROFS,
	 * EACCES. The kernel answers EIO itself if out->ino is 0 or FB_ROOT_ID or of another type.
	 */
	int (*link)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, fb_ino_t newparent,
		    const char *newname, struct fb_entry *out);

	/*
	 * Open @ino with open(2) @flags (O_CREAT, O_EXCL and O_NOCTTY removed; O_TRUNC only with
	 * FB_ATOMIC_O_TRUNC); fill @fi. Errors reach open(2): EACCES, EPERM, ENOENT, EISDIR, EROFS,
	 * ETXTBSY, ENXIO, EIO. ENOSYS is remembered: the kernel stops sending OPEN (and RELEASE)
	 * and every later open succeeds at once with fh 0 and the page cache kept
	 * (FOPEN_KEEP_CACHE).
	 */
	int (*open)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		    struct fb_file_info *fi);

	/*
	 * Create and open @name (O_CREAT is in @flags); @mode as for mknod() (apply ctx->umask).
	 * Fill @out (one lookup count) and @fi. Errors reach open(2): EEXIST (with O_EXCL), ENOENT,
	 * ENOSPC, EDQUOT, EROFS, EACCES, EISDIR, ENAMETOOLONG. The kernel answers EIO itself if the
	 * new node is not a regular file or out->ino is 0 or FB_ROOT_ID. ENOSYS is remembered: the
	 * kernel creates with mknod() and open() from then on.
	 */
	int (*create)(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		      mode_t mode, int flags, struct fb_entry *out, struct fb_file_info *fi);

	/*
	 * Read up to @size bytes at @off into @w (fb_writer_write, or fb_writer_from_fd for zero
	 * copy). Returns the number of bytes put into @w: fewer than @size means end of file to the
	 * kernel (unless the file is opened with FOPEN_DIRECT_IO, where a short read is returned as
	 * is). Errors reach read(2) or the page fault: EIO, EINTR, EAGAIN, EISDIR.
	 */
	int (*read)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		    struct fb_writer *w, uint32_t size, uint64_t off, int flags);

	/*
	 * Write the @size bytes of @r (fb_reader_read, or fb_reader_to_fd for zero copy) at @off.
	 * @write_flags has FB_WRITE_* bits (CACHE, LOCKOWNER, KILL_SUIDGID); @flags the file's open
	 * flags. Returns the number of bytes written, at most @size (more is a protocol error the
	 * server answers with EIO); a short count ends the kernel's write there. Errors reach
	 * write(2) or writeback: ENOSPC, EDQUOT, EFBIG, EIO, EROFS, EPERM, EINTR.
	 */
	int (*write)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		     struct fb_reader *r, uint32_t size, uint64_t off, uint32_t write_flags,
		     int flags);

	/*
	 * close(2) of one file descriptor: may be called several times per open. Leave it NULL when
	 * close() has nothing to do (no locks of your own, nothing to write back): the server then
	 * adds FB_FOPEN_NOFLUSH to every open and create reply, and each close() saves a round
	 * trip. An error is what close(2) returns (the descriptor is closed anyway): EIO, ENOSPC,
	 * EDQUOT. ENOSYS is remembered: the kernel stops sending FLUSH and close() succeeds.
	 */
	int (*flush)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		     uint64_t lock_owner);

	/*
	 * The last reference to the open file is gone. @flags are the open flags. Called once per
	 * successful open or create. The kernel does not wait for the answer and ignores errors.
	 */
	int (*release)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int flags,
		       uint32_t release_flags, uint64_t lock_owner);

	/*
	 * fsync(2) (@datasync == 0) or fdatasync(2) (@datasync != 0) of open file @fh: make its
	 * data (and, without @datasync, its metadata) durable. The kernel has already written back
	 * its dirty pages. Returns 0 or a negative errno, which reaches the caller: EIO, ENOSPC,
	 * EDQUOT, EROFS, EINVAL (the file cannot be synced). ENOSYS is remembered: the kernel stops
	 * sending FSYNC and every later fsync() succeeds at once (NULL therefore means "nothing to
	 * sync").
	 */
	int (*fsync)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int datasync);

	/*
	 * Open directory @ino for reading (opendir(3), open(2) with O_DIRECTORY); @flags are the
	 * open flags. Fill @fi: fi->fh is passed back to readdir, readdirplus, fsyncdir and
	 * releasedir; fi->open_flags may have FB_FOPEN_CACHE_DIR (the kernel caches the listing)
	 * and FB_FOPEN_KEEP_CACHE (keep a cached listing). Returns 0 or a negative errno, which
	 * reaches the caller: EACCES, ENOENT, ENOTDIR, EMFILE, ENOMEM, EIO. ENOSYS is remembered:
	 * the kernel stops sending OPENDIR and RELEASEDIR, and every later opendir succeeds at once
	 * with fh 0 (NULL therefore means "no per-open state").
	 */
	int (*opendir)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		       struct fb_file_info *fi);

	/*
	 * List directory @ino from @off (0 or an off given with an earlier entry) into @buf until
	 * it is full. Return 0; an empty listing means the end. Errors reach getdents(2): EIO,
	 * ENOENT (directory removed), EACCES, ENOTDIR.
	 */
	int (*readdir)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		       uint64_t off, struct fb_dirbuf *buf);

	/*
	 * As readdir, with fb_dirbuf_add_plus(); each entry added takes a lookup. Used instead of
	 * readdir when FB_DO_READDIRPLUS was negotiated (always, or as the kernel sees fit with
	 * FB_READDIRPLUS_AUTO). Errors as readdir().
	 */
	int (*readdirplus)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			   uint64_t off, struct fb_dirbuf *buf);

	/*
	 * The directory opened by opendir() as @fh is closed (the last reference is gone); free
	 * what opendir() kept. @flags are its open flags. Called once per successful opendir. The
	 * kernel does not wait for the answer and ignores an error: return 0.
	 */
	int (*releasedir)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			  int flags);

	/*
	 * fsync(2) (@datasync == 0) or fdatasync(2) on a directory opened as @fh: make its entries
	 * durable. Returns 0 or a negative errno, which reaches the caller: EIO, ENOSPC, EROFS,
	 * EINVAL. ENOSYS is remembered: the kernel stops sending FSYNCDIR and every later fsync()
	 * of a directory succeeds at once (NULL therefore means "nothing to sync").
	 */
	int (*fsyncdir)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			int datasync);

	/*
	 * statfs(2) / statvfs(3) (df) of the file system holding @ino (the root, or any node the
	 * caller named). Fill @out: f_bsize, f_frsize, f_blocks, f_bfree, f_bavail (in f_frsize
	 * units), f_files, f_ffree, f_namemax; the kernel ignores f_fsid, f_flag and f_favail and
	 * sets f_type to FUSE's magic number. Returns 0 or a negative errno, which reaches the
	 * caller: EIO, EACCES, ENOSYS. Nothing is remembered: each statfs asks again. A caller the
	 * mount does not admit (no allow_other) gets zeros from the kernel without a request.
	 */
	int (*statfs)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, struct statvfs *out);

	/*
	 * @flags: XATTR_CREATE / XATTR_REPLACE; @setxattr_flags: FB_SETXATTR_ACL_KILL_SGID. Errors
	 * reach setxattr(2): EEXIST (CREATE), ENODATA (REPLACE), ENOSPC, E2BIG, ERANGE, EOPNOTSUPP
	 * (namespace not supported), EPERM, EACCES, EROFS. ENOSYS is remembered: every later
	 * setxattr fails EOPNOTSUPP without a request.
	 */
	int (*setxattr)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name,
			const void *value, size_t size, int flags, uint32_t setxattr_flags);

	/*
	 * Copy the value of xattr @name into @buf. With @size == 0 return the value's length only;
	 * when it does not fit return -ERANGE. Returns the length. Errors reach getxattr(2):
	 * ENODATA (absent), ERANGE, EOPNOTSUPP, EACCES. ENOSYS is remembered: every later getxattr
	 * fails EOPNOTSUPP without a request.
	 */
	int (*getxattr)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name,
			void *buf, size_t size);

	/*
	 * The NUL-separated list of names, with the same size rules as getxattr. Errors reach
	 * listxattr(2): ERANGE, EOPNOTSUPP. ENOSYS is remembered: later calls fail EOPNOTSUPP.
	 */
	int (*listxattr)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, char *buf, size_t size);

	/*
	 * Remove xattr @name. Errors reach removexattr(2): ENODATA (absent), EOPNOTSUPP, EPERM,
	 * EACCES, EROFS. ENOSYS is remembered: later calls fail EOPNOTSUPP without a request.
	 */
	int (*removexattr)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name);

	/*
	 * access(2) and chdir(2) with @mask (R_OK, W_OK, X_OK, F_OK). Returns 0 or EACCES (or
	 * EROFS, ENOENT). ENOSYS is remembered: every later access() succeeds without a request.
	 * Not sent with default_permissions.
	 */
	int (*access)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint32_t mask);

	/*
	 * Test for a conflicting POSIX lock; fill @lk with it, or set lk->type = F_UNLCK. Sent only
	 * when FB_POSIX_LOCKS was negotiated (the server does so when setlk is set). Errors reach
	 * fcntl(F_GETLK): EINVAL, EIO.
	 */
	int (*getlk)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		     uint64_t owner, struct fb_lock *lk);

	/*
	 * Take or release a POSIX lock; @sleep: wait for it (SETLKW). Errors reach fcntl(2): EAGAIN
	 * (conflict without @sleep), EDEADLK, ENOLCK, EINTR (interrupted while waiting).
	 */
	int (*setlk)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		     uint64_t owner, const struct fb_lock *lk, int sleep);

	/*
	 * flock(2): @op is LOCK_SH, LOCK_EX or LOCK_UN, with LOCK_NB when not sleeping. Sent only
	 * with FB_FLOCK_LOCKS. Errors reach flock(2): EWOULDBLOCK (LOCK_NB), EINTR, ENOLCK.
	 */
	int (*flock)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		     uint64_t owner, int op);

	/*
	 * Map a block of a block-device-backed file (BMAP). Fill @out. ENOSYS is remembered: the
	 * kernel answers 0 (no mapping) from then on.
	 */
	int (*bmap)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint32_t blocksize,
		    uint64_t block, uint64_t *out);

	/*
	 * ioctl(2) @cmd on an open file. @in holds @in_size bytes from the caller; up to *@out_size
	 * bytes may be written to @out, and *@out_size set to what was. Returns the ioctl's result
	 * (>= 0) or a negative errno, which reaches ioctl(2) (ENOTTY: not supported). Only
	 * restricted (fixed-size) ioctls reach the file system; unrestricted ones are refused by
	 * the server.
	 */
	int (*ioctl)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		     uint32_t flags, uint32_t cmd, const void *in, uint32_t in_size, void *out,
		     uint32_t *out_size);

	/*
	 * poll(2): fill @revents with the ready events among @events. With FB_POLL_SCHEDULE_NOTIFY
	 * in @flags, later call fb_server_notify_poll(@kh) on a change. ENOSYS is remembered: the
	 * kernel reports every file as always readable and writable from then on.
	 */
	int (*poll)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t kh,
		    uint32_t flags, uint32_t events, uint32_t *revents);

	/*
	 * fallocate(2) @mode over [@off, @off + @len). Errors reach fallocate(2): ENOSPC, EDQUOT,
	 * EFBIG, EOPNOTSUPP (a mode not supported), EPERM, EIO. ENOSYS is remembered: every later
	 * fallocate fails EOPNOTSUPP without a request.
	 */
	int (*fallocate)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int mode,
			 uint64_t off, uint64_t len);

	/*
	 * lseek(2) for SEEK_DATA / SEEK_HOLE (others are done by the kernel). Fill @out. Errors
	 * reach lseek(2): ENXIO (@off at or past the end, or no data after it), EINVAL. ENOSYS is
	 * remembered: the kernel then treats the whole file as data itself.
	 */
	int (*lseek)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t off,
		     int whence, uint64_t *out);

	/*
	 * copy_file_range(2). Fill @copied with the bytes copied (fewer than @len is a short copy
	 * the caller sees). Errors reach the caller: EXDEV, EINVAL, EFBIG, ENOSPC, EIO. ENOSYS (or
	 * EOPNOTSUPP) is remembered: the kernel copies through read and write from then on.
	 */
	int (*copy_file_range)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino_in,
			       uint64_t fh_in, uint64_t off_in, fb_ino_t ino_out, uint64_t fh_out,
			       uint64_t off_out, uint64_t len, uint64_t flags, uint64_t *copied);

	/*
	 * O_TMPFILE: create an unnamed file in @parent and open it; fill @out (one lookup count)
	 * and @fi as create() does. Errors reach open(2). ENOSYS is remembered: every later
	 * O_TMPFILE open fails EOPNOTSUPP without a request.
	 */
	int (*tmpfile)(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, mode_t mode,
		       int flags, struct fb_entry *out, struct fb_file_info *fi);

	/*
	 * statx(2). @mask is the STATX_* fields asked for, @sx_flags the AT_STATX_* flags; @fi is
	 * the open file or NULL. Fill @out (stx_mask says what is valid) and @timeout. The kernel
	 * asks only for fields getattr() cannot give (the birth time). Errors as getattr(). ENOSYS
	 * is remembered: the kernel uses getattr() only from then on.
	 */
	int (*statx)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const struct fb_file_info *fi,
		     uint32_t sx_flags, uint32_t mask, struct statx *out, double *timeout);

	/*
	 * syncfs(2) on the file system that holds @ino. The error reaches syncfs(2). ENOSYS is
	 * remembered: the kernel stops sending SYNCFS.
	 */
	int (*syncfs)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino);

	/*
	 * virtio-fs DAX: map [@foffset, +@len) of the open file at @moffset of the window. An error
	 * fails the guest's access (a read or write falls back to FUSE I/O, a mapped page faults
	 * with SIGBUS).
	 */
	int (*setupmapping)(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			    uint64_t foffset, uint64_t len, uint64_t flags, uint64_t moffset);

	/*
	 * virtio-fs DAX: unmap @count ranges. The guest's kernel logs an error and goes on.
	 */
	int (*removemapping)(void *fs, const struct fb_ctx *ctx, const struct fb_mapping *ranges,
			     uint32_t count);
};


/*
 * Replies later (the rules for transports and reply memory are in server.h).
 *
 * An operation that cannot answer at once (its answer comes from the network, a disk queue,
 * another process) takes its request with fb_ctx_defer(), starts the work, and returns
 * FB_REPLY_LATER. Later, from any thread, it answers exactly once with one fb_req_reply_*()
 * call carrying the same out-structures it fills today. Operations that answer at once are
 * unchanged.
 *
 * The operations that may answer later: lookup, getattr, setattr, mknod, mkdir, symlink, link,
 * unlink, rmdir, rename, open, opendir, read, write, flush, release, releasedir, fsync,
 * fsyncdir, setlk (SETLK, SETLKW and flock), access, create, fallocate. For the others
 * fb_ctx_defer() returns NULL.
 *
 * Everything the operation was given is borrowed for the call only, as always: names, the
 * write payload's reader, the read's writer, @ctx. Copy what the later answer needs before
 * returning FB_REPLY_LATER; fb_req_ctx() keeps a copy of the context.
 */

/* What an operation returns after fb_ctx_defer(): the answer comes through the fb_req. */
#define FB_REPLY_LATER (-0x7fffffff - 1)

/* A request whose answer comes later. Opaque. */
struct fb_req;

/*
 * Take the request of @ctx (the ctx the operation was called with, not a copy) to answer it
 * later; the operation must then return FB_REPLY_LATER. Returns NULL when this request cannot
 * be answered later (an operation not listed above, a transport without completion support,
 * fb_server_handle() rather than fb_server_handle_async()): answer it now, as usual. Calling it
 * twice returns the same handle. The handle holds one reference, the owner's, which the reply
 * releases: after the reply the handle is gone, as after free(), unless fb_req_ref() was used.
 */
struct fb_req *fb_ctx_defer(const struct fb_ctx *ctx);

/*
 * The answers. Each returns 0 when the reply went to the kernel (or will be sent when the
 * operation's return reaches the server), and otherwise:
 *   -ECANCELED  the request was cancelled (DESTROY, unmount, a session reset): the reply is
 *               dropped. The owner's reference is released all the same.
 *   -EALREADY   the request was answered already: this second reply is refused with a log
 *               line; nothing else happens (only possible while a reference from fb_req_ref()
 *               keeps the handle alive).
 *   -EINVAL     the reply does not fit the request (an entry for a READ, more data than
 *               asked): the kernel gets EIO, logged.
 * The structures are borrowed for the call.
 */
/* An error (negative errno), or 0 for the operations whose success has no body (unlink, rmdir,
 * rename, flush, release, releasedir, fsync, fsyncdir, setlk, access, fallocate). */
int fb_req_reply_err(struct fb_req *req, int err);
/* lookup, mknod, mkdir, symlink, link: as their @out (the lookup count as there). */
int fb_req_reply_entry(struct fb_req *req, const struct fb_entry *e);
/* getattr, setattr: the attributes and their timeout. */
int fb_req_reply_attr(struct fb_req *req, const struct stat *st, double timeout);
/* open, opendir. */
int fb_req_reply_open(struct fb_req *req, const struct fb_file_info *fi);
/* create. */
int fb_req_reply_create(struct fb_req *req, const struct fb_entry *e,
			const struct fb_file_info *fi);
/* read: the data, at most the size the read asked for (short at end of file). */
int fb_req_reply_data(struct fb_req *req, const struct iovec *iov, int iovcnt);
/* read: @len bytes of @fd at @off (-1: the fd's position) read straight into the reply
 * memory, at most the size asked; a short read gives a short reply, an error the errno. */
int fb_req_reply_data_fd(struct fb_req *req, int fd, size_t len, off_t off);
/* write: @size bytes were written (at most the payload's size). */
int fb_req_reply_write(struct fb_req *req, size_t size);

/*
 * The request's context, copied when it was deferred: unique, opcode, uid, gid, pid, umask and
 * the supplementary groups; secctx is NULL. Valid as long as the handle.
 */
const struct fb_ctx *fb_req_ctx(const struct fb_req *req);

/* Non-zero once the kernel sent an INTERRUPT for the request, or the request was cancelled. */
int fb_req_interrupted(const struct fb_req *req);

/* Non-zero once the request was cancelled: a reply will be dropped. */
int fb_req_cancelled(const struct fb_req *req);

/*
 * Have @fn(@req, @priv) called when the kernel interrupts the request, and again when it is
 * cancelled (at most once for each; at once when that already happened). Call it from the
 * operation, before it returns FB_REPLY_LATER. @fn runs on a server thread (the one handling
 * the INTERRUPT, DESTROY or reset) and must not block; it may reply (usually
 * fb_req_reply_err(req, -EINTR)) or leave that to the owner.
 */
typedef void (*fb_req_interrupt_fn)(struct fb_req *req, void *priv);
void fb_req_on_interrupt(struct fb_req *req, fb_req_interrupt_fn fn, void *priv);

/* Take or release an extra reference: the handle stays valid (a second reply is refused, not
 * a use after free) until the last reference is released. */
void fb_req_ref(struct fb_req *req);
void fb_req_unref(struct fb_req *req);

#ifdef __cplusplus
}
#endif

#endif /* FUSE_BACKEND_FS_H */
