/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * passthrough: a host directory served through FUSE.
 *
 * Every operation is done on the host file system below a source directory, with the caller's
 * credentials (fsuid, fsgid and supplementary groups are switched per thread for each request,
 * so the host's own permission checks apply), and nothing a request names can reach outside
 * the source directory: names are single path components resolved relative to the parent's
 * descriptor, symlinks are never followed, ".." at the root stays at the root.
 *
 * Inodes are identified by (st_dev, st_ino, mount id) and kept as kernel file handles
 * (name_to_handle_at), not as open descriptors, so the daemon holds a handful of descriptors
 * plus one per open file, however many inodes the kernel has looked up. Where the host file
 * system cannot make handles (or the daemon lacks CAP_DAC_READ_SEARCH) an O_PATH descriptor
 * per inode is kept instead.
 *
 * With FUSE passthrough (Linux 6.9+, needs CAP_SYS_ADMIN) reads and writes of open regular
 * files go straight from the kernel to the host file; otherwise they are copied directly
 * between the host file and the request's buffers (preadv/pwritev, no bounce buffer).
 *
 *	struct fb_passthrough_config cfg;
 *	struct fb_passthrough *pt;
 *	fb_passthrough_config_init(&cfg);
 *	cfg.source = "/srv/data";
 *	r = fb_passthrough_new(&cfg, &pt);
 *	... fb_server_new(&fb_passthrough_ops, sizeof(fb_passthrough_ops), pt, ...) ...
 *	fb_passthrough_free(pt);
 *
 * See docs/passthrough.md for the options and the security model.
 */
#ifndef FUSE_BACKEND_PASSTHROUGH_H
#define FUSE_BACKEND_PASSTHROUGH_H

#include <stddef.h>
#include <stdint.h>

#include <fuse_backend/fs.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A passthrough instance: the `fs` pointer to pass with fb_passthrough_ops. Opaque. */
struct fb_passthrough;

/* How much the kernel may cache. */
enum fb_passthrough_cache {
	/* Nothing: entry and attribute timeouts 0, every open uses FB_FOPEN_DIRECT_IO (the
	 * page cache is bypassed; FUSE passthrough is not used). For sources that change
	 * under the mount. */
	FB_PT_CACHE_NEVER = 0,
	/* Names and attributes for 1 s; file data is cached while a file is open but dropped
	 * at every open (no FB_FOPEN_KEEP_CACHE). */
	FB_PT_CACHE_METADATA,
	/* As metadata, and the kernel also drops cached data when it sees the file's mtime or
	 * size change (FB_AUTO_INVAL_DATA). The default. */
	FB_PT_CACHE_AUTO,
	/* Everything for a day (86400 s): FB_FOPEN_KEEP_CACHE on files, FB_FOPEN_CACHE_DIR on
	 * directories. Only when nothing but this mount changes the source. */
	FB_PT_CACHE_ALWAYS,
};

/*
 * ID mapping between the ids the FUSE client uses (the "guest": a VM's kernel over virtio-fs,
 * or the callers of a fusedev mount) and the ids of the host file system. The semantics are
 * those of the Rust virtiofsd's --translate-uid / --translate-gid:
 *
 * - Two independent tables per id type: guest to host and host to guest. A mapping need not
 *   be invertible.
 * - Guest to host applies to the ids the client sends: the caller's fsuid/fsgid and its
 *   supplementary groups, under which every request runs (so also the owner of created
 *   files), and the uid/gid a SETATTR (chown) asks for.
 * - Host to guest applies to the ids the file system reports: the owner and group in the
 *   attributes of LOOKUP, GETATTR, SETATTR, READDIRPLUS, STATX and every create reply.
 * - An id no range covers maps to itself (numerically), in either direction.
 * - Within one direction the source ranges of the entries may not overlap.
 * - A guest id in a FB_IDMAP_FORBID_GUEST range fails the request with -EPERM (as a caller's
 *   fsuid/fsgid, or as a chown target); a forbidden supplementary group is left out of the
 *   caller's groups (fewer groups can only deny access).
 */
enum fb_idmap_kind {
	FB_IDMAP_GUEST = 0,	/* guest [from, from + count) to host [to, to + count) */
	FB_IDMAP_HOST,		/* host [from, from + count) to guest [to, to + count) */
	FB_IDMAP_SQUASH_GUEST,	/* guest [from, from + count) all to host id `to` */
	FB_IDMAP_SQUASH_HOST,	/* host [from, from + count) all to guest id `to` */
	FB_IDMAP_FORBID_GUEST,	/* guest [from, from + count): -EPERM; `to` is unused */
	FB_IDMAP_MAP,		/* guest [from, +count) to host [to, +count) and host
				 * [to, +count) back to guest [from, +count): both tables */
};

/*
 * One entry of an id map (fixed layout: a new kind is a new enum value). A range is valid
 * when count >= 1, from + count <= 4294967295 and, for the 1:1 kinds, to + count <=
 * 4294967295: so (uid_t)-1, "no change" to chown, is never mapped.
 */
struct fb_idmap_range {
	enum fb_idmap_kind kind;
	uint32_t from;		/* first id of the source range (guest for GUEST,
				 * SQUASH_GUEST, FORBID_GUEST and MAP; host otherwise) */
	uint32_t to;		/* first id of the target range, or the squash target */
	uint32_t count;		/* length of the range(s) */
};

/*
 * Check the @n entries of @map as fb_passthrough_new() does. Returns 0, or -EINVAL and sets
 * *@ret_bad to the index of the first bad entry and *@ret_other to the index of the earlier
 * entry whose source range it overlaps in the same direction (or to *@ret_bad itself when
 * the entry is bad on its own: a bad kind, an empty range, a range past 4294967295). Either
 * pointer may be NULL.
 */
int fb_idmap_check(const struct fb_idmap_range *map, uint32_t n, uint32_t *ret_bad,
		   uint32_t *ret_other);

/* Settings for fb_passthrough_new(); fb_passthrough_config_init() fills the defaults. */
struct fb_passthrough_config {
	size_t size;		/* sizeof(struct fb_passthrough_config) as the caller was built,
				 * set by fb_passthrough_config_init(); 0: the 1.0 layout (see
				 * version.h). Fields beyond it take their defaults; larger than
				 * the library knows: accepted when the fields it does not know
				 * are zero, else -E2BIG */
	const char *source;	/* the host directory to serve; required. Borrowed for the
				 * call of fb_passthrough_new() only. */
	enum fb_passthrough_cache cache;	/* default FB_PT_CACHE_AUTO */
	double timeout;		/* entry and attribute timeout in seconds for non-directories;
				 * < 0 (the default) takes the cache policy's value */
	double dir_timeout;	/* the same for directories; < 0 (default): same as timeout */
	int writeback;		/* ask for FB_WRITEBACK_CACHE (the kernel batches writes). Opens
				 * for writing only become read-write and O_APPEND is dropped, as
				 * the kernel needs. Excludes FUSE passthrough (the kernel's rule).
				 * Default 0. */
	int readdirplus;	/* offer READDIRPLUS (attributes with the listing); default 1 */
	int xattr;		/* extended attributes; 0 answers -ENOSYS (the kernel then stops
				 * asking and tells callers EOPNOTSUPP). Default 1 */
	int posix_acl;		/* ask the kernel to enforce POSIX ACLs (FB_POSIX_ACL, implies
				 * default_permissions in the kernel). Needs xattr. < 0: auto, on
				 * when xattr is on, there is no id map and the source's file
				 * system keeps ACLs (fb-passthrough's default). Default 0 */
	int no_open;		/* FB_NO_OPEN_SUPPORT: open answers -ENOSYS and the kernel stops
				 * sending OPEN (reads then reopen the file per request). Only with
				 * cache=always-like use; default 0 */
	int no_opendir;		/* FB_NO_OPENDIR_SUPPORT likewise for directories; default 0 */
	int killpriv_v2;	/* FB_HANDLE_KILLPRIV_V2: the file system clears set-uid/set-gid
				 * on write, truncate and chown as the kernel asks (which also
				 * spares the kernel a security.capability lookup per write);
				 * default 1 */
	int submounts;		/* FB_SUBMOUNTS: a directory on another host file system inside
				 * the source gets FB_ATTR_SUBMOUNT; default 0 */
	int allow_direct_io;	/* honour O_DIRECT opens with FB_FOPEN_DIRECT_IO; default 1 */
	int passthrough;	/* FUSE passthrough (backing files) when the kernel and the
				 * transport offer it; default 1 */
	int posix_locks;	/* FB_POSIX_LOCKS + FB_FLOCK_LOCKS: fcntl() record locks are
				 * taken on the host as OFD locks, one lock owner per open file,
				 * and flock() locks on each open file's host descriptor. That is
				 * not POSIX (a close() does not drop the process's locks, F_GETLK
				 * reports no pid, and the kernel's RELEASE that drops a flock()
				 * lock arrives asynchronously after the last close()), so the
				 * default 0 leaves locks to the kernel, which keeps them correct
				 * among users of this mount only. */
	int cred_switch;	/* run each request with the caller's credentials. Default 1;
				 * ignored (off) when the process is not root */
	int noatime;		/* the mount is noatime: reads and listings through it do not
				 * change access times on the host (host files are opened with
				 * O_NOATIME, which needs root or the file's owner). Default 0 */
	/* ID maps (see struct fb_idmap_range), checked with fb_idmap_check(): -EINVAL from
	 * fb_passthrough_new() if bad. Copied by fb_passthrough_new(): borrowed for the call
	 * only. Empty (the default, NULL / 0): ids pass unchanged and cost one branch.
	 * Excludes posix_acl (ACL xattrs hold host ids that would go untranslated): -EINVAL. */
	const struct fb_idmap_range *uid_map;
	uint32_t nuid_map;
	const struct fb_idmap_range *gid_map;
	uint32_t ngid_map;
	/*
	 * Idmapped mounts (FB_ALLOW_IDMAP, protocol 7.39+): let `mount_setattr(MOUNT_ATTR_IDMAP)`
	 * make idmapped mounts of this file system. Negotiated only where the transport offers
	 * it (a fusedev mount with default_permissions: the kernel requires that) and without
	 * uid_map/gid_map. The kernel then sends the caller's ids (mapped through the idmapped
	 * mount) only with requests that create inodes, which get them as owner; every other
	 * request carries FB_INVALID_UIDGID and runs with the daemon's credentials, its
	 * permissions checked by the kernel alone (default_permissions). Default 0.
	 */
	int allow_idmap;
};

/* Fill @cfg with the defaults above (source NULL). */
void fb_passthrough_config_init(struct fb_passthrough_config *cfg);

/*
 * Open the source directory of @cfg and create an instance. Returns 0 and sets *@ret, or a
 * negative errno: -EINVAL (no source, a bad timeout), -ENOTDIR (source is not a directory),
 * the errno of opening it, -ENOMEM.
 */
int fb_passthrough_new(const struct fb_passthrough_config *cfg, struct fb_passthrough **ret);

/* Close every descriptor and free @pt (NULL-safe). No operation may be running. */
void fb_passthrough_free(struct fb_passthrough *pt);

/* The operations table; the `fs` argument of each operation is the struct fb_passthrough *. */
extern const struct fb_fs_ops fb_passthrough_ops;

/* Live inodes (the root included). */
uint64_t fb_passthrough_inode_count(const struct fb_passthrough *pt);

/* Open file and directory handles not yet released. */
uint64_t fb_passthrough_handle_count(const struct fb_passthrough *pt);

/* Parse a cache policy name ("never", "metadata", "auto", "always"). Returns 0 or -EINVAL. */
int fb_passthrough_cache_parse(const char *name, enum fb_passthrough_cache *out);

/*
 * Set one option of @cfg by its name as text, the one parser behind fb-passthrough's "-o"
 * options and the VFS's "passthrough:/DIR,OPTIONS" specs: @name as given, @value the text
 * after '=' or NULL when there was none.
 *   cache=MODE          never|metadata|auto|always (fb_passthrough_cache_parse())
 *   timeout=SECONDS, dir_timeout=SECONDS    decimal seconds >= 0
 *   writeback, readdirplus, xattr, posix_acl, killpriv_v2, submounts, passthrough,
 *   posix_lock (posix_locks), direct_io (allow_direct_io): set the field; "no_" + the
 *   name clears it.  no_open, no_opendir: set no_open / no_opendir.
 * Returns 0; -ENOENT when @name is not one of these (the caller may try its own options);
 * -EINVAL for a missing, superfluous or bad value. @cfg is unchanged on failure.
 */
int fb_passthrough_opt_set(struct fb_passthrough_config *cfg, const char *name,
			   const char *value);

/*
 * The options fb_passthrough_opt_set() takes, for a --help text: one per line, each
 * "NAME[=VALUE]\tdescription", no trailing newline. A static string.
 */
const char *fb_passthrough_opt_help(void);

#ifdef __cplusplus
}
#endif

#endif /* FUSE_BACKEND_PASSTHROUGH_H */
