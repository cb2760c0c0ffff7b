/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fuse_backend/abi.h - the wire format of the Linux FUSE protocol.
 *
 * Everything a FUSE server exchanges with the kernel (over /dev/fuse, FUSE over io_uring, or a
 * virtio-fs virtqueue) is described here: opcodes, request and reply structures, capability
 * bits, notification codes, device ioctls. Covers protocol 7.45 (Linux 6.18) plus the virtio-fs
 * DAX mapping requests. There is no logic here apart from a few size helpers and two lookup
 * functions for logs at the end.
 *
 * Naming: each item carries the kernel's name with "fuse_" replaced by "fb_" and "FUSE_" by
 * "FB_"; kernel names without that prefix (FATTR_*, FOPEN_*, CUSE_*) get "FB_" in front. Field
 * names are the kernel's, so code and traces can be read side by side with the kernel.
 *
 * Byte order is the host's (the kernel and the server share a machine, or, for virtio-fs,
 * the guest is little-endian like the host we support). Every structure is padded to a multiple
 * of 8 bytes so 32-bit and 64-bit peers agree on its layout; the assertions at the end of this
 * file check that.
 */
#ifndef FUSE_BACKEND_ABI_H
#define FUSE_BACKEND_ABI_H

#include <stdint.h>
#include <linux/ioctl.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Tables below are aligned by hand, as in the kernel's uapi headers. */
/* clang-format off */

/* ---------------------------------------------------------------------------------------------
 * Version
 *
 * INIT carries the kernel's major.minor; the server answers with its own. Equal majors: both
 * sides speak the smaller minor. Kernel major larger: the server answers with its major only
 * and waits for another INIT. Server major larger: the server falls back to the kernel's major.
 */
#define FB_KERNEL_VERSION		7
#define FB_KERNEL_MINOR_VERSION		45

/* Node id of the mount's root directory; fixed, never looked up. */
#define FB_ROOT_ID			1

/* A /dev/fuse read must offer at least this many bytes, or the kernel refuses it. */
#define FB_MIN_READ_BUFFER		8192

/* ---------------------------------------------------------------------------------------------
 * Attributes
 */

/* Inode attributes as carried by LOOKUP, GETATTR, SETATTR, CREATE replies and friends. */
struct fb_attr {
	uint64_t	ino;
	uint64_t	size;
	uint64_t	blocks;		/* in 512-byte units */
	uint64_t	atime;		/* seconds */
	uint64_t	mtime;
	uint64_t	ctime;
	uint32_t	atimensec;	/* nanoseconds part */
	uint32_t	mtimensec;
	uint32_t	ctimensec;
	uint32_t	mode;
	uint32_t	nlink;
	uint32_t	uid;
	uint32_t	gid;
	uint32_t	rdev;
	uint32_t	blksize;
	uint32_t	flags;		/* FB_ATTR_* (7.32) */
};

/* fb_attr.flags */
#define FB_ATTR_SUBMOUNT		(1 << 0)	/* root of a submount (virtio-fs) */
#define FB_ATTR_DAX			(1 << 1)	/* use DAX for this inode (per-inode DAX) */

/*
 * STATX (7.39): a timestamp and the attribute block, laid out exactly like the statx(2)
 * system call's struct statx_timestamp and struct statx.
 */
struct fb_sx_time {
	int64_t		tv_sec;
	uint32_t	tv_nsec;
	int32_t		__reserved;
};

struct fb_statx {
	uint32_t	mask;		/* STATX_* bits that are filled in */
	uint32_t	blksize;
	uint64_t	attributes;	/* STATX_ATTR_* */
	uint32_t	nlink;
	uint32_t	uid;
	uint32_t	gid;
	uint16_t	mode;
	uint16_t	__spare0[1];
	uint64_t	ino;
	uint64_t	size;
	uint64_t	blocks;
	uint64_t	attributes_mask;
	struct fb_sx_time	atime;
	struct fb_sx_time	btime;
	struct fb_sx_time	ctime;
	struct fb_sx_time	mtime;
	uint32_t	rdev_major;
	uint32_t	rdev_minor;
	uint32_t	dev_major;
	uint32_t	dev_minor;
	uint64_t	__spare2[14];
};

/* File-system statistics (STATFS reply body). */
struct fb_kstatfs {
	uint64_t	blocks;
	uint64_t	bfree;
	uint64_t	bavail;
	uint64_t	files;
	uint64_t	ffree;
	uint32_t	bsize;
	uint32_t	namelen;
	uint32_t	frsize;
	uint32_t	padding;
	uint32_t	spare[6];
};

/* A byte-range lock (GETLK/SETLK/SETLKW); end is inclusive, pid is the owner's tgid. */
struct fb_file_lock {
	uint64_t	start;
	uint64_t	end;
	uint32_t	type;		/* F_RDLCK, F_WRLCK, F_UNLCK */
	uint32_t	pid;
};

/* ---------------------------------------------------------------------------------------------
 * Flag sets
 */

/* fb_setattr_in.valid: which fields of the request are to be applied. */
#define FB_FATTR_MODE			(1 << 0)
#define FB_FATTR_UID			(1 << 1)
#define FB_FATTR_GID			(1 << 2)
#define FB_FATTR_SIZE			(1 << 3)
#define FB_FATTR_ATIME			(1 << 4)
#define FB_FATTR_MTIME			(1 << 5)
#define FB_FATTR_FH			(1 << 6)	/* fh is valid */
#define FB_FATTR_ATIME_NOW		(1 << 7)	/* set atime to the current time */
#define FB_FATTR_MTIME_NOW		(1 << 8)
#define FB_FATTR_LOCKOWNER		(1 << 9)	/* lock_owner is valid */
#define FB_FATTR_CTIME			(1 << 10)
#define FB_FATTR_KILL_SUIDGID		(1 << 11)	/* also drop setuid/setgid (7.33) */

/* fb_open_out.open_flags: how the kernel should treat the file it just opened. */
#define FB_FOPEN_DIRECT_IO		(1 << 0)	/* no page cache for this open */
#define FB_FOPEN_KEEP_CACHE		(1 << 1)	/* keep cached data from earlier opens */
#define FB_FOPEN_NONSEEKABLE		(1 << 2)
#define FB_FOPEN_CACHE_DIR		(1 << 3)	/* cache readdir results (opendir) */
#define FB_FOPEN_STREAM			(1 << 4)	/* no file position at all */
#define FB_FOPEN_NOFLUSH		(1 << 5)	/* no FLUSH on close (7.35) */
#define FB_FOPEN_PARALLEL_DIRECT_WRITES	(1 << 6)	/* concurrent direct writes (7.38) */
#define FB_FOPEN_PASSTHROUGH		(1 << 7)	/* I/O goes to backing_id (7.40) */

/*
 * INIT capability bits. The kernel offers bits in fb_init_in, the server answers with the
 * subset it wants in fb_init_out. On the wire bits 0..31 travel in "flags" and bits 32..63 in
 * "flags2"; flags2 is only read when FB_INIT_EXT is set. Our code handles them as one uint64_t
 * and splits it when encoding, hence the 64-bit constants from bit 32 on.
 */
#define FB_ASYNC_READ			(1ULL << 0)	/* reads may be sent concurrently */
#define FB_POSIX_LOCKS			(1ULL << 1)	/* server implements POSIX locks */
#define FB_FILE_OPS			(1ULL << 2)	/* never used by the kernel */
#define FB_ATOMIC_O_TRUNC		(1ULL << 3)	/* server handles O_TRUNC in OPEN */
#define FB_EXPORT_SUPPORT		(1ULL << 4)	/* server answers LOOKUP of "." and ".." */
#define FB_BIG_WRITES			(1ULL << 5)	/* writes larger than one page */
#define FB_DONT_MASK			(1ULL << 6)	/* kernel does not apply the umask */
#define FB_SPLICE_WRITE			(1ULL << 7)	/* splice into the device */
#define FB_SPLICE_MOVE			(1ULL << 8)	/* splice may move pages */
#define FB_SPLICE_READ			(1ULL << 9)	/* splice out of the device */
#define FB_FLOCK_LOCKS			(1ULL << 10)	/* server implements flock() */
#define FB_HAS_IOCTL_DIR		(1ULL << 11)	/* ioctl on directories */
#define FB_AUTO_INVAL_DATA		(1ULL << 12)	/* drop cached data when mtime changes */
#define FB_DO_READDIRPLUS		(1ULL << 13)	/* READDIRPLUS is supported */
#define FB_READDIRPLUS_AUTO		(1ULL << 14)	/* kernel picks READDIR or READDIRPLUS */
#define FB_ASYNC_DIO			(1ULL << 15)	/* asynchronous direct I/O */
#define FB_WRITEBACK_CACHE		(1ULL << 16)	/* buffered writes are cached */
#define FB_NO_OPEN_SUPPORT		(1ULL << 17)	/* ENOSYS to OPEN means "no open needed" */
#define FB_PARALLEL_DIROPS		(1ULL << 18)	/* parallel lookup/readdir in a dir */
#define FB_HANDLE_KILLPRIV		(1ULL << 19)	/* server clears suid/sgid/caps itself */
#define FB_POSIX_ACL			(1ULL << 20)	/* kernel enforces POSIX ACLs */
#define FB_ABORT_ERROR			(1ULL << 21)	/* reads after abort give ECONNABORTED */
#define FB_MAX_PAGES			(1ULL << 22)	/* init_out.max_pages is valid */
#define FB_CACHE_SYMLINKS		(1ULL << 23)	/* cache READLINK answers */
#define FB_NO_OPENDIR_SUPPORT		(1ULL << 24)	/* ENOSYS to OPENDIR means "not needed" */
#define FB_EXPLICIT_INVAL_DATA		(1ULL << 25)	/* drop cached data only when told */
#define FB_MAP_ALIGNMENT		(1ULL << 26)	/* init_out.map_alignment is valid */
#define FB_SUBMOUNTS			(1ULL << 27)	/* kernel can auto-mount submounts */
#define FB_HANDLE_KILLPRIV_V2		(1ULL << 28)	/* killpriv with VFS semantics (7.33) */
#define FB_SETXATTR_EXT			(1ULL << 29)	/* extended fb_setxattr_in (7.33) */
#define FB_INIT_EXT			(1ULL << 30)	/* flags2 and the 64-byte init_in (7.36) */
#define FB_INIT_RESERVED		(1ULL << 31)	/* reserved; never set */
#define FB_SECURITY_CTX			(1ULL << 32)	/* security context on creation (7.36) */
#define FB_HAS_INODE_DAX		(1ULL << 33)	/* per-inode DAX (7.36) */
#define FB_CREATE_SUPP_GROUP		(1ULL << 34)	/* supp. group extension (7.38) */
#define FB_HAS_EXPIRE_ONLY		(1ULL << 35)	/* FB_EXPIRE_ONLY understood (7.38) */
#define FB_DIRECT_IO_ALLOW_MMAP		(1ULL << 36)	/* shared mmap with DIRECT_IO (7.39) */
#define FB_PASSTHROUGH			(1ULL << 37)	/* backing files (7.40) */
#define FB_NO_EXPORT_SUPPORT		(1ULL << 38)	/* refuse NFS export (7.40) */
#define FB_HAS_RESEND			(1ULL << 39)	/* NOTIFY_RESEND, FB_UNIQUE_RESEND (7.40) */
#define FB_ALLOW_IDMAP			(1ULL << 40)	/* idmapped mounts allowed (7.41) */
#define FB_OVER_IO_URING		(1ULL << 41)	/* FUSE over io_uring (7.42) */
#define FB_REQUEST_TIMEOUT		(1ULL << 42)	/* init_out.request_timeout (7.43) */
/* Bits 43..63 are unassigned as of 7.45. */

/* Older name of FB_DIRECT_IO_ALLOW_MMAP. */
#define FB_DIRECT_IO_RELAX		FB_DIRECT_IO_ALLOW_MMAP

/* CUSE_INIT capability bits. */
#define FB_CUSE_UNRESTRICTED_IOCTL	(1 << 0)

/* fb_release_in.release_flags */
#define FB_RELEASE_FLUSH		(1 << 0)	/* flush before releasing */
#define FB_RELEASE_FLOCK_UNLOCK		(1 << 1)	/* drop the flock() lock of lock_owner */

/* fb_getattr_in.getattr_flags */
#define FB_GETATTR_FH			(1 << 0)	/* fh is valid */

/* fb_lk_in.lk_flags */
#define FB_LK_FLOCK			(1 << 0)	/* a flock() lock, not a POSIX one */

/* fb_write_in.write_flags */
#define FB_WRITE_CACHE			(1 << 0)	/* writeback from the page cache */
#define FB_WRITE_LOCKOWNER		(1 << 1)	/* lock_owner is valid */
#define FB_WRITE_KILL_SUIDGID		(1 << 2)	/* drop setuid/setgid */
/* Older name of FB_WRITE_KILL_SUIDGID. */
#define FB_WRITE_KILL_PRIV		FB_WRITE_KILL_SUIDGID

/* fb_read_in.read_flags */
#define FB_READ_LOCKOWNER		(1 << 1)	/* lock_owner is valid */

/* fb_ioctl_in.flags and fb_ioctl_out.flags */
#define FB_IOCTL_COMPAT			(1 << 0)	/* 32-bit caller on a 64-bit kernel */
#define FB_IOCTL_UNRESTRICTED		(1 << 1)	/* free-form ioctl; retries allowed */
#define FB_IOCTL_RETRY			(1 << 2)	/* reply: retry with these iovecs */
#define FB_IOCTL_32BIT			(1 << 3)	/* 32-bit ioctl */
#define FB_IOCTL_DIR			(1 << 4)	/* on a directory */
#define FB_IOCTL_COMPAT_X32		(1 << 5)	/* x32 caller on a 64-bit kernel */
/* At most this many iovecs (in + out) in an unrestricted ioctl retry. */
#define FB_IOCTL_MAX_IOV		256

/* fb_poll_in.flags */
#define FB_POLL_SCHEDULE_NOTIFY		(1 << 0)	/* send NOTIFY_POLL on readiness */

/* fb_fsync_in.fsync_flags */
#define FB_FSYNC_FDATASYNC		(1 << 0)	/* data only */

/* fb_open_in.open_flags and fb_create_in.open_flags */
#define FB_OPEN_KILL_SUIDGID		(1 << 0)	/* O_TRUNC open must drop suid/sgid */

/* fb_setxattr_in.setxattr_flags */
#define FB_SETXATTR_ACL_KILL_SGID	(1 << 0)	/* setting the access ACL drops sgid */

/* fb_notify_inval_entry_out.flags */
#define FB_EXPIRE_ONLY			(1 << 0)	/* only expire the dentry, keep it */

/* ---------------------------------------------------------------------------------------------
 * Request extensions (7.38)
 *
 * fb_in_header.total_extlen counts 8-byte units appended after the request's arguments. They
 * form a list of fb_ext_header records, each padded to 8 bytes. Type values 0..31 are
 * reserved: a record whose type is in that range is the security-context block
 * (fb_secctx_header, whose nr_secctx sits where type would be).
 */
enum fb_ext_type {
	FB_MAX_NR_SECCTX	= 31,	/* highest possible fb_secctx_header.nr_secctx */
	FB_EXT_GROUPS		= 32,	/* fb_supp_groups */
};

/* ---------------------------------------------------------------------------------------------
 * Opcodes (fb_in_header.opcode)
 */
enum fb_opcode {
	FB_LOOKUP		= 1,
	FB_FORGET		= 2,	/* no reply */
	FB_GETATTR		= 3,
	FB_SETATTR		= 4,
	FB_READLINK		= 5,
	FB_SYMLINK		= 6,
	FB_MKNOD		= 8,
	FB_MKDIR		= 9,
	FB_UNLINK		= 10,
	FB_RMDIR		= 11,
	FB_RENAME		= 12,
	FB_LINK			= 13,
	FB_OPEN			= 14,
	FB_READ			= 15,
	FB_WRITE		= 16,
	FB_STATFS		= 17,
	FB_RELEASE		= 18,
	FB_FSYNC		= 20,
	FB_SETXATTR		= 21,
	FB_GETXATTR		= 22,
	FB_LISTXATTR		= 23,
	FB_REMOVEXATTR		= 24,
	FB_FLUSH		= 25,
	FB_INIT			= 26,
	FB_OPENDIR		= 27,
	FB_READDIR		= 28,
	FB_RELEASEDIR		= 29,
	FB_FSYNCDIR		= 30,
	FB_GETLK		= 31,
	FB_SETLK		= 32,
	FB_SETLKW		= 33,
	FB_ACCESS		= 34,
	FB_CREATE		= 35,
	FB_INTERRUPT		= 36,	/* no reply of its own */
	FB_BMAP			= 37,
	FB_DESTROY		= 38,
	FB_IOCTL		= 39,
	FB_POLL			= 40,
	FB_NOTIFY_REPLY		= 41,	/* answer to NOTIFY_RETRIEVE; no reply */
	FB_BATCH_FORGET		= 42,	/* no reply */
	FB_FALLOCATE		= 43,
	FB_READDIRPLUS		= 44,
	FB_RENAME2		= 45,
	FB_LSEEK		= 46,
	FB_COPY_FILE_RANGE	= 47,
	FB_SETUPMAPPING		= 48,	/* virtio-fs DAX (7.31) */
	FB_REMOVEMAPPING	= 49,	/* virtio-fs DAX (7.31) */
	FB_SYNCFS		= 50,	/* 7.34 */
	FB_TMPFILE		= 51,	/* 7.37 */
	FB_STATX		= 52,	/* 7.39 */
	FB_COPY_FILE_RANGE_64	= 53,	/* 7.45 */

	/* Character devices in user space */
	FB_CUSE_INIT		= 4096,

	/* Never sent: INIT codes as seen by a peer of the other byte order. */
	FB_CUSE_INIT_BSWAP_RESERVED	= 1048576,	/* CUSE_INIT << 8 */
	FB_INIT_BSWAP_RESERVED		= 436207616,	/* INIT << 24 */
};

/* ---------------------------------------------------------------------------------------------
 * Notifications (server to kernel)
 *
 * A notification is written like a reply, with unique == 0 and the code in
 * fb_out_header.error. Codes 7.11 (POLL) to 7.45 (PRUNE).
 */
enum fb_notify_code {
	FB_NOTIFY_POLL		= 1,	/* fb_notify_poll_wakeup_out */
	FB_NOTIFY_INVAL_INODE	= 2,	/* fb_notify_inval_inode_out */
	FB_NOTIFY_INVAL_ENTRY	= 3,	/* fb_notify_inval_entry_out + name + NUL */
	FB_NOTIFY_STORE		= 4,	/* fb_notify_store_out + data */
	FB_NOTIFY_RETRIEVE	= 5,	/* fb_notify_retrieve_out; answered with NOTIFY_REPLY */
	FB_NOTIFY_DELETE	= 6,	/* fb_notify_delete_out + name + NUL */
	FB_NOTIFY_RESEND	= 7,	/* no body: resend all pending requests (7.40) */
	FB_NOTIFY_INC_EPOCH	= 8,	/* no body: invalidate all dentries (7.44) */
	FB_NOTIFY_PRUNE		= 9,	/* fb_notify_prune_out + count node ids (7.45) */
	FB_NOTIFY_CODE_MAX,		/* one past the last code this header knows */
};

/* ---------------------------------------------------------------------------------------------
 * Request and reply bodies, in opcode order
 */

/* Reply to LOOKUP, MKNOD, MKDIR, SYMLINK, LINK (and the first half of CREATE's reply). */
#define FB_COMPAT_ENTRY_OUT_SIZE	120	/* before 7.9 (no blksize/flags in fb_attr) */

struct fb_entry_out {
	uint64_t	nodeid;		/* 0 means a negative entry (cached "no such name") */
	uint64_t	generation;	/* (nodeid, generation) is unique over the fs's life */
	uint64_t	entry_valid;	/* name cache timeout, seconds */
	uint64_t	attr_valid;	/* attribute cache timeout, seconds */
	uint32_t	entry_valid_nsec;
	uint32_t	attr_valid_nsec;
	struct fb_attr	attr;
};

/* FORGET: drop nlookup references to the request's nodeid. */
struct fb_forget_in {
	uint64_t	nlookup;
};

/* BATCH_FORGET: fb_batch_forget_in, then count fb_forget_one records. */
struct fb_forget_one {
	uint64_t	nodeid;
	uint64_t	nlookup;
};

struct fb_batch_forget_in {
	uint32_t	count;
	uint32_t	dummy;
};

/* GETATTR */
struct fb_getattr_in {
	uint32_t	getattr_flags;	/* FB_GETATTR_* */
	uint32_t	dummy;
	uint64_t	fh;
};

#define FB_COMPAT_ATTR_OUT_SIZE		96	/* before 7.9 */

/* Reply to GETATTR and SETATTR. */
struct fb_attr_out {
	uint64_t	attr_valid;	/* attribute cache timeout, seconds */
	uint32_t	attr_valid_nsec;
	uint32_t	dummy;
	struct fb_attr	attr;
};

/* STATX (7.39) */
struct fb_statx_in {
	uint32_t	getattr_flags;	/* FB_GETATTR_* */
	uint32_t	reserved;
	uint64_t	fh;
	uint32_t	sx_flags;	/* AT_STATX_* sync flags */
	uint32_t	sx_mask;	/* STATX_* fields wanted */
};

struct fb_statx_out {
	uint64_t	attr_valid;
	uint32_t	attr_valid_nsec;
	uint32_t	flags;
	uint64_t	spare[2];
	struct fb_statx	stat;
};

/* MKNOD: arguments, then the name. */
#define FB_COMPAT_MKNOD_IN_SIZE		8	/* before 7.12 (no umask) */

struct fb_mknod_in {
	uint32_t	mode;
	uint32_t	rdev;
	uint32_t	umask;
	uint32_t	padding;
};

/* MKDIR: arguments, then the name. */
struct fb_mkdir_in {
	uint32_t	mode;
	uint32_t	umask;
};

/* RENAME: arguments, old name, new name. */
struct fb_rename_in {
	uint64_t	newdir;
};

/* RENAME2 (7.23): like RENAME with renameat2() flags (RENAME_NOREPLACE, _EXCHANGE, ...). */
struct fb_rename2_in {
	uint64_t	newdir;
	uint32_t	flags;
	uint32_t	padding;
};

/* LINK: arguments, then the new name; the request's nodeid is the new parent. */
struct fb_link_in {
	uint64_t	oldnodeid;
};

/* SETATTR: only fields named in valid (FB_FATTR_*) are meaningful. */
struct fb_setattr_in {
	uint32_t	valid;
	uint32_t	padding;
	uint64_t	fh;
	uint64_t	size;
	uint64_t	lock_owner;
	uint64_t	atime;
	uint64_t	mtime;
	uint64_t	ctime;
	uint32_t	atimensec;
	uint32_t	mtimensec;
	uint32_t	ctimensec;
	uint32_t	mode;
	uint32_t	unused4;
	uint32_t	uid;
	uint32_t	gid;
	uint32_t	unused5;
};

/* OPEN and OPENDIR */
struct fb_open_in {
	uint32_t	flags;		/* open(2) flags */
	uint32_t	open_flags;	/* FB_OPEN_* */
};

/* CREATE and TMPFILE: arguments, then the name; the reply is fb_entry_out + fb_open_out. */
struct fb_create_in {
	uint32_t	flags;
	uint32_t	mode;
	uint32_t	umask;
	uint32_t	open_flags;	/* FB_OPEN_* */
};

/* Reply to OPEN, OPENDIR, CREATE, TMPFILE. */
struct fb_open_out {
	uint64_t	fh;
	uint32_t	open_flags;	/* FB_FOPEN_* */
	int32_t		backing_id;	/* with FB_FOPEN_PASSTHROUGH: id from BACKING_OPEN */
};

/* RELEASE and RELEASEDIR */
struct fb_release_in {
	uint64_t	fh;
	uint32_t	flags;		/* open(2) flags of the file */
	uint32_t	release_flags;	/* FB_RELEASE_* */
	uint64_t	lock_owner;
};

/* FLUSH */
struct fb_flush_in {
	uint64_t	fh;
	uint32_t	unused;
	uint32_t	padding;
	uint64_t	lock_owner;
};

/* READ, READDIR, READDIRPLUS */
struct fb_read_in {
	uint64_t	fh;
	uint64_t	offset;
	uint32_t	size;
	uint32_t	read_flags;	/* FB_READ_* */
	uint64_t	lock_owner;
	uint32_t	flags;		/* open(2) flags of the file */
	uint32_t	padding;
};

/* WRITE: arguments, then size bytes of data. */
#define FB_COMPAT_WRITE_IN_SIZE		24	/* before 7.9 */

struct fb_write_in {
	uint64_t	fh;
	uint64_t	offset;
	uint32_t	size;
	uint32_t	write_flags;	/* FB_WRITE_* */
	uint64_t	lock_owner;
	uint32_t	flags;		/* open(2) flags of the file */
	uint32_t	padding;
};

struct fb_write_out {
	uint32_t	size;		/* bytes written */
	uint32_t	padding;
};

/* STATFS reply */
#define FB_COMPAT_STATFS_SIZE		48	/* before 7.4 (no frsize) */

struct fb_statfs_out {
	struct fb_kstatfs st;
};

/* FSYNC and FSYNCDIR */
struct fb_fsync_in {
	uint64_t	fh;
	uint32_t	fsync_flags;	/* FB_FSYNC_* */
	uint32_t	padding;
};

/*
 * SETXATTR: arguments, name, NUL, value. Before FB_SETXATTR_EXT is negotiated the kernel sends
 * only the first 8 bytes (size, flags).
 */
#define FB_COMPAT_SETXATTR_IN_SIZE	8

struct fb_setxattr_in {
	uint32_t	size;		/* value length */
	uint32_t	flags;		/* XATTR_CREATE / XATTR_REPLACE */
	uint32_t	setxattr_flags;	/* FB_SETXATTR_* (7.33) */
	uint32_t	padding;
};

/* GETXATTR and LISTXATTR: size 0 asks for the needed size (fb_getxattr_out). */
struct fb_getxattr_in {
	uint32_t	size;
	uint32_t	padding;
};

struct fb_getxattr_out {
	uint32_t	size;
	uint32_t	padding;
};

/* GETLK, SETLK, SETLKW */
struct fb_lk_in {
	uint64_t	fh;
	uint64_t	owner;
	struct fb_file_lock lk;
	uint32_t	lk_flags;	/* FB_LK_* */
	uint32_t	padding;
};

struct fb_lk_out {
	struct fb_file_lock lk;
};

/* ACCESS */
struct fb_access_in {
	uint32_t	mask;		/* R_OK | W_OK | X_OK, or F_OK */
	uint32_t	padding;
};

/* INIT request. Before 7.36 only the first 16 bytes (through flags) are sent. */
struct fb_init_in {
	uint32_t	major;
	uint32_t	minor;
	uint32_t	max_readahead;
	uint32_t	flags;		/* capability bits 0..31 */
	uint32_t	flags2;		/* capability bits 32..63, with FB_INIT_EXT */
	uint32_t	unused[11];
};

/* INIT reply: minors before 7.5 take 8 bytes, before 7.23 take 24, later ones all 64. */
#define FB_COMPAT_INIT_OUT_SIZE		8
#define FB_COMPAT_22_INIT_OUT_SIZE	24

struct fb_init_out {
	uint32_t	major;
	uint32_t	minor;
	uint32_t	max_readahead;
	uint32_t	flags;		/* accepted capability bits 0..31 */
	uint16_t	max_background;
	uint16_t	congestion_threshold;
	uint32_t	max_write;
	uint32_t	time_gran;	/* timestamp granularity in ns (power of 10) */
	uint16_t	max_pages;	/* with FB_MAX_PAGES */
	uint16_t	map_alignment;	/* log2 of DAX mapping alignment, FB_MAP_ALIGNMENT */
	uint32_t	flags2;		/* accepted capability bits 32..63 */
	uint32_t	max_stack_depth;	/* with FB_PASSTHROUGH (7.40) */
	uint16_t	request_timeout;	/* seconds, with FB_REQUEST_TIMEOUT (7.43) */
	uint16_t	unused[11];
};

/* CUSE_INIT: the reply is followed by up to CUSE_INIT_INFO_MAX bytes of device info. */
#define FB_CUSE_INIT_INFO_MAX		4096

struct fb_cuse_init_in {
	uint32_t	major;
	uint32_t	minor;
	uint32_t	unused;
	uint32_t	flags;
};

struct fb_cuse_init_out {
	uint32_t	major;
	uint32_t	minor;
	uint32_t	unused;
	uint32_t	flags;
	uint32_t	max_read;
	uint32_t	max_write;
	uint32_t	dev_major;	/* character device numbers */
	uint32_t	dev_minor;
	uint32_t	spare[10];
};

/*
 * INTERRUPT: unique of the request to interrupt. The interrupt request's own unique is that
 * value with FB_INT_REQ_BIT set; ordinary uniques advance by FB_REQ_ID_STEP, so the bit is
 * always clear in them. (Kernel-internal facts, stable in practice.)
 */
struct fb_interrupt_in {
	uint64_t	unique;
};

#define FB_INT_REQ_BIT			(1ULL << 0)
#define FB_REQ_ID_STEP			(1ULL << 1)

/* BMAP */
struct fb_bmap_in {
	uint64_t	block;
	uint32_t	blocksize;
	uint32_t	padding;
};

struct fb_bmap_out {
	uint64_t	block;
};

/* IOCTL: arguments, then in_size bytes of input. */
struct fb_ioctl_in {
	uint64_t	fh;
	uint32_t	flags;		/* FB_IOCTL_* */
	uint32_t	cmd;
	uint64_t	arg;		/* the caller's pointer argument, as a number */
	uint32_t	in_size;
	uint32_t	out_size;
};

/* An address range in the caller's memory (unrestricted ioctl retry). */
struct fb_ioctl_iovec {
	uint64_t	base;
	uint64_t	len;
};

/* IOCTL reply: then in_iovs + out_iovs fb_ioctl_iovec on retry, or the output data. */
struct fb_ioctl_out {
	int32_t		result;
	uint32_t	flags;		/* FB_IOCTL_RETRY */
	uint32_t	in_iovs;
	uint32_t	out_iovs;
};

/* POLL */
struct fb_poll_in {
	uint64_t	fh;
	uint64_t	kh;		/* kernel's handle, echoed in NOTIFY_POLL */
	uint32_t	flags;		/* FB_POLL_* */
	uint32_t	events;		/* POLL* events wanted (7.21) */
};

struct fb_poll_out {
	uint32_t	revents;
	uint32_t	padding;
};

/* FALLOCATE */
struct fb_fallocate_in {
	uint64_t	fh;
	uint64_t	offset;
	uint64_t	length;
	uint32_t	mode;		/* FALLOC_FL_* */
	uint32_t	padding;
};

/* LSEEK (7.24): SEEK_DATA / SEEK_HOLE */
struct fb_lseek_in {
	uint64_t	fh;
	uint64_t	offset;
	uint32_t	whence;
	uint32_t	padding;
};

struct fb_lseek_out {
	uint64_t	offset;
};

/*
 * COPY_FILE_RANGE (7.28) and COPY_FILE_RANGE_64 (7.45). The request's nodeid and fh_in name the
 * source. COPY_FILE_RANGE answers with fb_write_out (32-bit count); COPY_FILE_RANGE_64 answers
 * with fb_copy_file_range_out. A server that does not know opcode 53 answers ENOSYS and the
 * kernel falls back to opcode 47.
 */
struct fb_copy_file_range_in {
	uint64_t	fh_in;
	uint64_t	off_in;
	uint64_t	nodeid_out;
	uint64_t	fh_out;
	uint64_t	off_out;
	uint64_t	len;
	uint64_t	flags;
};

struct fb_copy_file_range_out {
	uint64_t	bytes_copied;
};

/* SYNCFS (7.34) */
struct fb_syncfs_in {
	uint64_t	padding;
};

/* ---------------------------------------------------------------------------------------------
 * virtio-fs DAX window (7.31): map file ranges into the device's shared memory window.
 * With FB_MAP_ALIGNMENT, foffset and moffset are multiples of 1 << init_out.map_alignment.
 */
#define FB_SETUPMAPPING_FLAG_WRITE	(1ULL << 0)
#define FB_SETUPMAPPING_FLAG_READ	(1ULL << 1)

struct fb_setupmapping_in {
	uint64_t	fh;		/* an open file handle */
	uint64_t	foffset;	/* file offset of the range */
	uint64_t	len;
	uint64_t	flags;		/* FB_SETUPMAPPING_FLAG_* */
	uint64_t	moffset;	/* offset in the DAX window */
};

/* REMOVEMAPPING: fb_removemapping_in, then count fb_removemapping_one records. */
struct fb_removemapping_in {
	uint32_t	count;
};

struct fb_removemapping_one {
	uint64_t	moffset;
	uint64_t	len;
};

/*
 * The kernel sends at most one of its pages of fb_removemapping_one records per request; the
 * page size is the guest's, so this takes it as an argument.
 */
#define FB_REMOVEMAPPING_MAX_ENTRY(page_size)	\
	((page_size) / sizeof(struct fb_removemapping_one))

/* ---------------------------------------------------------------------------------------------
 * Message headers
 */

/* Bit 63 of fb_in_header.unique marks a request the kernel resends (FB_HAS_RESEND, 7.40). */
#define FB_UNIQUE_RESEND		(1ULL << 63)

/*
 * With FB_ALLOW_IDMAP, uid and gid of the in-header carry this value when the caller's ids
 * cannot be mapped (never for requests that create inodes).
 */
#define FB_INVALID_UIDGID		((uint32_t)(-1))

/* Starts every request; len counts the header, the arguments and any extensions. */
struct fb_in_header {
	uint32_t	len;
	uint32_t	opcode;		/* enum fb_opcode */
	uint64_t	unique;		/* request id; 0 is never used */
	uint64_t	nodeid;		/* the inode the request is about */
	uint32_t	uid;		/* caller's credentials */
	uint32_t	gid;
	uint32_t	pid;
	uint16_t	total_extlen;	/* extensions after the arguments, in 8-byte units (7.38) */
	uint16_t	padding;
};

/*
 * Starts every reply and notification. error is 0 or a negative errno for replies (data follows
 * only on success), or an enum fb_notify_code when unique is 0.
 */
struct fb_out_header {
	uint32_t	len;
	int32_t		error;
	uint64_t	unique;
};

/* ---------------------------------------------------------------------------------------------
 * Directory records (READDIR, READDIRPLUS replies): each record is padded to 8 bytes, the name
 * is not NUL-terminated, and off is the cookie that continues the listing after this entry.
 */
struct fb_dirent {
	uint64_t	ino;
	uint64_t	off;
	uint32_t	namelen;
	uint32_t	type;		/* DT_* (mode >> 12) */
	char		name[];
};

/* Round a record length up to the next multiple of 8. */
#define FB_REC_ALIGN(x)			\
	(((x) + sizeof(uint64_t) - 1) & ~(sizeof(uint64_t) - 1))
#define FB_DIRENT_ALIGN(x)		FB_REC_ALIGN(x)
#define FB_NAME_OFFSET			__builtin_offsetof(struct fb_dirent, name)
#define FB_DIRENT_SIZE(d)		FB_DIRENT_ALIGN(FB_NAME_OFFSET + (d)->namelen)

/* READDIRPLUS: each record also carries the lookup result (counts as a LOOKUP if nodeid != 0). */
struct fb_direntplus {
	struct fb_entry_out	entry_out;
	struct fb_dirent	dirent;
};

#define FB_NAME_OFFSET_DIRENTPLUS	__builtin_offsetof(struct fb_direntplus, dirent.name)
#define FB_DIRENTPLUS_SIZE(d)		\
	FB_DIRENT_ALIGN(FB_NAME_OFFSET_DIRENTPLUS + (d)->dirent.namelen)

/* ---------------------------------------------------------------------------------------------
 * Notification bodies (see enum fb_notify_code)
 */

/* NOTIFY_POLL: wake pollers waiting on kh (from fb_poll_in). */
struct fb_notify_poll_wakeup_out {
	uint64_t	kh;
};

/* NOTIFY_INVAL_INODE: drop attributes and cached data [off, off+len); len 0 = to the end,
 * off < 0 = attributes only. */
struct fb_notify_inval_inode_out {
	uint64_t	ino;
	int64_t		off;
	int64_t		len;
};

/* NOTIFY_INVAL_ENTRY: forget name (namelen bytes + NUL follow) in parent. */
struct fb_notify_inval_entry_out {
	uint64_t	parent;
	uint32_t	namelen;
	uint32_t	flags;		/* FB_EXPIRE_ONLY */
};

/* NOTIFY_DELETE: like INVAL_ENTRY, and tell inotify that child was deleted. */
struct fb_notify_delete_out {
	uint64_t	parent;
	uint64_t	child;
	uint32_t	namelen;
	uint32_t	padding;
};

/* NOTIFY_STORE: put size bytes (following) into the page cache of nodeid at offset. */
struct fb_notify_store_out {
	uint64_t	nodeid;
	uint64_t	offset;
	uint32_t	size;
	uint32_t	padding;
};

/* NOTIFY_RETRIEVE: ask for cached data; the kernel answers with a NOTIFY_REPLY request. */
struct fb_notify_retrieve_out {
	uint64_t	notify_unique;	/* echoed as the NOTIFY_REPLY request's unique */
	uint64_t	nodeid;
	uint64_t	offset;
	uint32_t	size;
	uint32_t	padding;
};

/* Arguments of the NOTIFY_REPLY request (same size as fb_write_in); the data follows. */
struct fb_notify_retrieve_in {
	uint64_t	dummy1;
	uint64_t	offset;
	uint32_t	size;
	uint32_t	dummy2;
	uint64_t	dummy3;
	uint64_t	dummy4;
};

/* NOTIFY_PRUNE (7.45): evict unused inodes; count uint64_t node ids follow. */
struct fb_notify_prune_out {
	uint32_t	count;
	uint32_t	padding;
	uint64_t	spare;
};

/* ---------------------------------------------------------------------------------------------
 * Extension records (7.36 security contexts, 7.38 extension headers)
 */

/* One security context: fb_secctx, NUL-terminated xattr name, then size bytes of label. */
struct fb_secctx {
	uint32_t	size;
	uint32_t	padding;
};

/* Leads the security-context block; size covers the whole block including this header. */
struct fb_secctx_header {
	uint32_t	size;
	uint32_t	nr_secctx;	/* at most FB_MAX_NR_SECCTX */
};

/* Leads every other extension; size includes this header, type is > FB_MAX_NR_SECCTX. */
struct fb_ext_header {
	uint32_t	size;
	uint32_t	type;		/* enum fb_ext_type */
};

/* FB_EXT_GROUPS: the caller's supplementary groups (with FB_CREATE_SUPP_GROUP). */
struct fb_supp_groups {
	uint32_t	nr_groups;
	uint32_t	groups[];
};

/* ---------------------------------------------------------------------------------------------
 * /dev/fuse ioctls
 */

/* BACKING_OPEN argument: fd is the file to pass through to; the ioctl returns backing_id > 0. */
struct fb_backing_map {
	int32_t		fd;
	uint32_t	flags;		/* must be 0 */
	uint64_t	padding;
};

#define FB_DEV_IOC_MAGIC		229
/* Attach this newly opened /dev/fuse fd to the connection of the fd passed. */
#define FB_DEV_IOC_CLONE		_IOR(FB_DEV_IOC_MAGIC, 0, uint32_t)
/* Register a backing file (FB_PASSTHROUGH, needs CAP_SYS_ADMIN). */
#define FB_DEV_IOC_BACKING_OPEN		_IOW(FB_DEV_IOC_MAGIC, 1, struct fb_backing_map)
/* Release a backing id. */
#define FB_DEV_IOC_BACKING_CLOSE	_IOW(FB_DEV_IOC_MAGIC, 2, uint32_t)
/* Make mount() wait until INIT has been answered. */
#define FB_DEV_IOC_SYNC_INIT		_IO(FB_DEV_IOC_MAGIC, 3)

/* ---------------------------------------------------------------------------------------------
 * FUSE over io_uring (7.42)
 *
 * Each ring entry owns a header buffer (struct fb_uring_req_header) and a payload buffer. The
 * kernel writes fb_in_header into in_out and the opcode's fixed argument into op_in, the rest
 * (names, data) into the payload; the server writes fb_out_header into in_out and the reply
 * into the payload, with payload_sz giving its length.
 */
#define FB_URING_IN_OUT_HEADER_SZ	128
#define FB_URING_OP_IN_OUT_SZ		128

struct fb_uring_ent_in_out {
	uint64_t	flags;
	uint64_t	commit_id;	/* quote this in COMMIT_AND_FETCH */
	uint32_t	payload_sz;	/* bytes used in the payload buffer */
	uint32_t	padding;
	uint64_t	reserved;
};

struct fb_uring_req_header {
	char				in_out[FB_URING_IN_OUT_HEADER_SZ];
	char				op_in[FB_URING_OP_IN_OUT_SZ];
	struct fb_uring_ent_in_out	ring_ent_in_out;
};

/* IORING_OP_URING_CMD sub-commands (sqe->cmd_op) on the /dev/fuse fd. */
enum fb_uring_cmd {
	FB_IO_URING_CMD_INVALID			= 0,
	FB_IO_URING_CMD_REGISTER		= 1,	/* hand over an entry, wait for a request */
	FB_IO_URING_CMD_COMMIT_AND_FETCH	= 2,	/* send a reply, wait for the next */
};

/* The command area of a 128-byte SQE. */
struct fb_uring_cmd_req {
	uint64_t	flags;
	uint64_t	commit_id;
	uint16_t	qid;		/* queue index (CPU number) */
	uint8_t		padding[6];
};

/* ---------------------------------------------------------------------------------------------
 * Layout checks: the sizes the kernel expects, and offsets that have moved between versions.
 */
#ifdef __cplusplus
#define FB__ABI_ASSERT(e)	static_assert(e, #e)
#else
#define FB__ABI_ASSERT(e)	_Static_assert(e, #e)
#endif
#define FB__OFF(t, f)		__builtin_offsetof(struct t, f)

FB__ABI_ASSERT(sizeof(struct fb_attr) == 88);
FB__ABI_ASSERT(sizeof(struct fb_sx_time) == 16);
FB__ABI_ASSERT(sizeof(struct fb_statx) == 256);
FB__ABI_ASSERT(sizeof(struct fb_kstatfs) == 80);
FB__ABI_ASSERT(sizeof(struct fb_file_lock) == 24);
FB__ABI_ASSERT(sizeof(struct fb_entry_out) == 128);
FB__ABI_ASSERT(sizeof(struct fb_forget_in) == 8);
FB__ABI_ASSERT(sizeof(struct fb_forget_one) == 16);
FB__ABI_ASSERT(sizeof(struct fb_batch_forget_in) == 8);
FB__ABI_ASSERT(sizeof(struct fb_getattr_in) == 16);
FB__ABI_ASSERT(sizeof(struct fb_attr_out) == 104);
FB__ABI_ASSERT(sizeof(struct fb_statx_in) == 24);
FB__ABI_ASSERT(sizeof(struct fb_statx_out) == 288);
FB__ABI_ASSERT(sizeof(struct fb_mknod_in) == 16);
FB__ABI_ASSERT(sizeof(struct fb_mkdir_in) == 8);
FB__ABI_ASSERT(sizeof(struct fb_rename_in) == 8);
FB__ABI_ASSERT(sizeof(struct fb_rename2_in) == 16);
FB__ABI_ASSERT(sizeof(struct fb_link_in) == 8);
FB__ABI_ASSERT(sizeof(struct fb_setattr_in) == 88);
FB__ABI_ASSERT(sizeof(struct fb_open_in) == 8);
FB__ABI_ASSERT(sizeof(struct fb_create_in) == 16);
FB__ABI_ASSERT(sizeof(struct fb_open_out) == 16);
FB__ABI_ASSERT(sizeof(struct fb_release_in) == 24);
FB__ABI_ASSERT(sizeof(struct fb_flush_in) == 24);
FB__ABI_ASSERT(sizeof(struct fb_read_in) == 40);
FB__ABI_ASSERT(sizeof(struct fb_write_in) == 40);
FB__ABI_ASSERT(sizeof(struct fb_write_out) == 8);
FB__ABI_ASSERT(sizeof(struct fb_statfs_out) == 80);
FB__ABI_ASSERT(sizeof(struct fb_fsync_in) == 16);
FB__ABI_ASSERT(sizeof(struct fb_setxattr_in) == 16);
FB__ABI_ASSERT(sizeof(struct fb_getxattr_in) == 8);
FB__ABI_ASSERT(sizeof(struct fb_getxattr_out) == 8);
FB__ABI_ASSERT(sizeof(struct fb_lk_in) == 48);
FB__ABI_ASSERT(sizeof(struct fb_lk_out) == 24);
FB__ABI_ASSERT(sizeof(struct fb_access_in) == 8);
FB__ABI_ASSERT(sizeof(struct fb_init_in) == 64);
FB__ABI_ASSERT(sizeof(struct fb_init_out) == 64);
FB__ABI_ASSERT(sizeof(struct fb_cuse_init_in) == 16);
FB__ABI_ASSERT(sizeof(struct fb_cuse_init_out) == 72);
FB__ABI_ASSERT(sizeof(struct fb_interrupt_in) == 8);
FB__ABI_ASSERT(sizeof(struct fb_bmap_in) == 16);
FB__ABI_ASSERT(sizeof(struct fb_bmap_out) == 8);
FB__ABI_ASSERT(sizeof(struct fb_ioctl_in) == 32);
FB__ABI_ASSERT(sizeof(struct fb_ioctl_iovec) == 16);
FB__ABI_ASSERT(sizeof(struct fb_ioctl_out) == 16);
FB__ABI_ASSERT(sizeof(struct fb_poll_in) == 24);
FB__ABI_ASSERT(sizeof(struct fb_poll_out) == 8);
FB__ABI_ASSERT(sizeof(struct fb_fallocate_in) == 32);
FB__ABI_ASSERT(sizeof(struct fb_lseek_in) == 24);
FB__ABI_ASSERT(sizeof(struct fb_lseek_out) == 8);
FB__ABI_ASSERT(sizeof(struct fb_copy_file_range_in) == 56);
FB__ABI_ASSERT(sizeof(struct fb_copy_file_range_out) == 8);
FB__ABI_ASSERT(sizeof(struct fb_syncfs_in) == 8);
FB__ABI_ASSERT(sizeof(struct fb_setupmapping_in) == 40);
FB__ABI_ASSERT(sizeof(struct fb_removemapping_in) == 4);
FB__ABI_ASSERT(sizeof(struct fb_removemapping_one) == 16);
FB__ABI_ASSERT(sizeof(struct fb_in_header) == 40);
FB__ABI_ASSERT(sizeof(struct fb_out_header) == 16);
FB__ABI_ASSERT(sizeof(struct fb_dirent) == 24);
FB__ABI_ASSERT(sizeof(struct fb_direntplus) == 152);
FB__ABI_ASSERT(sizeof(struct fb_notify_poll_wakeup_out) == 8);
FB__ABI_ASSERT(sizeof(struct fb_notify_inval_inode_out) == 24);
FB__ABI_ASSERT(sizeof(struct fb_notify_inval_entry_out) == 16);
FB__ABI_ASSERT(sizeof(struct fb_notify_delete_out) == 24);
FB__ABI_ASSERT(sizeof(struct fb_notify_store_out) == 24);
FB__ABI_ASSERT(sizeof(struct fb_notify_retrieve_out) == 32);
FB__ABI_ASSERT(sizeof(struct fb_notify_retrieve_in) == sizeof(struct fb_write_in));
FB__ABI_ASSERT(sizeof(struct fb_notify_prune_out) == 16);
FB__ABI_ASSERT(sizeof(struct fb_secctx) == 8);
FB__ABI_ASSERT(sizeof(struct fb_secctx_header) == 8);
FB__ABI_ASSERT(sizeof(struct fb_ext_header) == 8);
FB__ABI_ASSERT(sizeof(struct fb_supp_groups) == 4);
FB__ABI_ASSERT(sizeof(struct fb_backing_map) == 16);
FB__ABI_ASSERT(sizeof(struct fb_uring_ent_in_out) == 32);
FB__ABI_ASSERT(sizeof(struct fb_uring_req_header) == 288);
FB__ABI_ASSERT(sizeof(struct fb_uring_cmd_req) == 24);

FB__ABI_ASSERT(FB__OFF(fb_attr, flags) == 84);
FB__ABI_ASSERT(FB__OFF(fb_statx, atime) == 64);
FB__ABI_ASSERT(FB__OFF(fb_statx, rdev_major) == 128);
FB__ABI_ASSERT(FB__OFF(fb_statx_out, stat) == 32);
FB__ABI_ASSERT(FB__OFF(fb_entry_out, attr) == 40);
FB__ABI_ASSERT(FB__OFF(fb_attr_out, attr) == 16);
FB__ABI_ASSERT(FB__OFF(fb_in_header, total_extlen) == 36);
FB__ABI_ASSERT(FB__OFF(fb_init_in, flags2) == 16);
FB__ABI_ASSERT(FB__OFF(fb_init_out, max_write) == 20);
FB__ABI_ASSERT(FB__OFF(fb_init_out, max_pages) == 28);
FB__ABI_ASSERT(FB__OFF(fb_init_out, flags2) == 32);
FB__ABI_ASSERT(FB__OFF(fb_init_out, max_stack_depth) == 36);
FB__ABI_ASSERT(FB__OFF(fb_init_out, request_timeout) == 40);
FB__ABI_ASSERT(FB__OFF(fb_open_out, backing_id) == 12);
FB__ABI_ASSERT(FB__OFF(fb_write_in, lock_owner) == FB_COMPAT_WRITE_IN_SIZE);
FB__ABI_ASSERT(FB__OFF(fb_setxattr_in, setxattr_flags) == FB_COMPAT_SETXATTR_IN_SIZE);
FB__ABI_ASSERT(FB__OFF(fb_mknod_in, umask) == FB_COMPAT_MKNOD_IN_SIZE);
FB__ABI_ASSERT(FB__OFF(fb_kstatfs, frsize) == FB_COMPAT_STATFS_SIZE);
FB__ABI_ASSERT(FB__OFF(fb_init_out, time_gran) == FB_COMPAT_22_INIT_OUT_SIZE);
FB__ABI_ASSERT(FB__OFF(fb_entry_out, attr) + FB__OFF(fb_attr, blksize) ==
	       FB_COMPAT_ENTRY_OUT_SIZE);
FB__ABI_ASSERT(FB__OFF(fb_attr_out, attr) + FB__OFF(fb_attr, blksize) ==
	       FB_COMPAT_ATTR_OUT_SIZE);
FB__ABI_ASSERT(FB__OFF(fb_copy_file_range_in, nodeid_out) == 16);
FB__ABI_ASSERT(FB__OFF(fb_direntplus, dirent) == 128);
FB__ABI_ASSERT(FB_NAME_OFFSET == 24);
FB__ABI_ASSERT(FB_NAME_OFFSET_DIRENTPLUS == 152);
FB__ABI_ASSERT(FB__OFF(fb_uring_req_header, op_in) == FB_URING_IN_OUT_HEADER_SZ);
FB__ABI_ASSERT(FB__OFF(fb_uring_req_header, ring_ent_in_out) == 256);
FB__ABI_ASSERT(FB__OFF(fb_uring_cmd_req, qid) == 16);
FB__ABI_ASSERT(sizeof(struct fb_in_header) <= FB_URING_IN_OUT_HEADER_SZ);

#undef FB__OFF
#undef FB__ABI_ASSERT

/* clang-format on */

/* ---------------------------------------------------------------------------------------------
 * Names for logs
 */

/* Upper-case name of an opcode without the prefix ("LOOKUP", "CUSE_INIT"), or "UNKNOWN". */
const char *fb_opcode_name(uint32_t opcode);

/* Upper-case name of a notify code without the prefix ("INVAL_ENTRY"), or "UNKNOWN". */
const char *fb_notify_name(int32_t code);

#ifdef __cplusplus
}
#endif

#endif /* FUSE_BACKEND_ABI_H */
