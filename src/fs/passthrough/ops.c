/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The passthrough operations.
 *
 * Containment rules followed by every function here:
 *  - a name from a request is one path component, resolved with openat/statx/...at relative
 *    to the parent inode's descriptor, never with a path; names with '/' are refused, "." and
 *    ".." are refused where something would be created or removed, and ".." of the root is the
 *    root;
 *  - symlinks are never followed: O_NOFOLLOW, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH on O_PATH
 *    descriptors;
 *  - an inode is reopened for I/O through /proc/self/fd/N of its O_PATH descriptor: the magic
 *    link leads to that very inode, whatever happened to its names meanwhile (rename races
 *    cannot redirect it). xattr calls use the same path because the kernel has no xattr call
 *    on O_PATH descriptors that glibc wraps.
 *
 * Credentials: operations that check permissions or create files run between
 * fb__pt_creds_enter() and fb__pt_creds_leave(); reopening an inode from its handle happens
 * before (open_by_handle_at needs the daemon's CAP_DAC_READ_SEARCH), the permission-checked
 * open after, through /proc.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/server.h>

#include "passthrough_i.h"

#define PT(fs)	       ((struct fb_passthrough *)(fs))
#define PT_STATX_MASK  (STATX_BASIC_STATS | STATX_MNT_ID)
#define PT_DIRBUF_SIZE 32768

void fb__pt_statx_to_stat(const struct fb_passthrough *pt, const struct statx *sx,
			  struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(sx->stx_dev_major, sx->stx_dev_minor);
	st->st_ino = sx->stx_ino;
	st->st_mode = sx->stx_mode;
	st->st_nlink = sx->stx_nlink;
	st->st_uid = sx->stx_uid;
	st->st_gid = sx->stx_gid;
	st->st_rdev = makedev(sx->stx_rdev_major, sx->stx_rdev_minor);
	st->st_size = (off_t)sx->stx_size;
	st->st_blksize = sx->stx_blksize;
	st->st_blocks = (blkcnt_t)sx->stx_blocks;
	st->st_atim.tv_sec = sx->stx_atime.tv_sec;
	st->st_atim.tv_nsec = sx->stx_atime.tv_nsec;
	st->st_mtim.tv_sec = sx->stx_mtime.tv_sec;
	st->st_mtim.tv_nsec = sx->stx_mtime.tv_nsec;
	st->st_ctim.tv_sec = sx->stx_ctime.tv_sec;
	st->st_ctim.tv_nsec = sx->stx_ctime.tv_nsec;
	if (pt->idmapped) {
		st->st_uid = fb__pt_idmap_to_guest(&pt->uids, st->st_uid);
		st->st_gid = fb__pt_idmap_to_guest(&pt->gids, st->st_gid);
	}
}

static int fd_statx(int fd, struct statx *sx)
{
	if (fb__pt_sys.statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, PT_STATX_MASK, sx) < 0)
		return -errno;
	return 0;
}

static double timeout_for(const struct fb_passthrough *pt, mode_t mode)
{
	return S_ISDIR(mode) ? pt->dir_timeout : pt->entry_timeout;
}

static void entry_fill(struct fb_passthrough *pt, const struct fb__pt_inode *parent,
		       const struct statx *sx, struct fb_entry *e)
{
	uint64_t dev = makedev(sx->stx_dev_major, sx->stx_dev_minor);

	fb__pt_statx_to_stat(pt, sx, &e->attr);
	e->generation = 0;
	e->attr_flags = 0;
	if (pt->submounts && S_ISDIR(sx->stx_mode) &&
	    (dev != parent->dev ||
	     ((sx->stx_mask & STATX_MNT_ID) && sx->stx_mnt_id != parent->mnt_id)))
		e->attr_flags |= FB_ATTR_SUBMOUNT;
	e->entry_timeout = e->attr_timeout = timeout_for(pt, sx->stx_mode);
}

/* A single, ordinary path component (for operations that create or remove names). */
static int name_check(const char *name)
{
	size_t n = strlen(name);

	if (n == 0)
		return -ENOENT;
	if (n > NAME_MAX)
		return -ENAMETOOLONG;
	if (strchr(name, '/'))
		return -EINVAL;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	return 0;
}

/* Reopen the inode behind O_PATH descriptor @pfd with @flags through /proc/self/fd. */
static int reopen_fd(struct fb_passthrough *pt, int pfd, int flags)
{
	char name[16];
	int fd;

	snprintf(name, sizeof(name), "%d", pfd);
	flags &= ~(O_NOFOLLOW | O_CREAT | O_EXCL | O_PATH | O_TMPFILE);
	fd = fb__pt_sys.openat(pt->proc_fd, name, flags | O_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

/*
 * On a noatime mount, add O_NOATIME to host descriptor @fd (opened for a request) so reading
 * it does not touch the host's access time. Done with fcntl() as the daemon, after a
 * permission-checked open as the caller: O_NOATIME needs the owner or CAP_FOWNER. Best
 * effort (a daemon that is not root keeps the plain descriptor).
 */
static void noatime_fd(struct fb_passthrough *pt, int fd)
{
	int fl;

	if (!pt->cfg.noatime || fd < 0)
		return;
	fl = fb__pt_sys.fcntl_int(fd, F_GETFL, 0);
	if (fl >= 0 && !(fl & O_NOATIME))
		fb__pt_sys.fcntl_int(fd, F_SETFL, fl | O_NOATIME);
}

/* An inode's descriptor, with the inode: the triple ops pass around. */
struct pt_ifd {
	struct fb__pt_inode *in;
	int fd;
	int owned;
};

static int ifd_get(struct fb_passthrough *pt, fb_ino_t ino, struct pt_ifd *f)
{
	f->in = fb__pt_inode_get(pt, ino);
	f->fd = -1;
	f->owned = 0;
	if (!f->in)
		return -ESTALE;
	f->fd = fb__pt_inode_fd(pt, f->in, &f->owned);
	if (f->fd < 0) {
		int r = f->fd;
		fb__pt_inode_put(pt, f->in);
		f->in = NULL;
		return r;
	}
	return 0;
}

static void ifd_put(struct fb_passthrough *pt, struct pt_ifd *f)
{
	fb__pt_fd_put(f->fd, f->owned);
	fb__pt_inode_put(pt, f->in);
	f->in = NULL;
	f->fd = -1;
}

/*
 * Look @name up below @parent (descriptor @pfd) with the current credentials and take a
 * lookup on the result.
 */
static int lookup_at(struct fb_passthrough *pt, struct fb__pt_inode *parent, int pfd,
		     const char *name, struct fb_entry *e)
{
	struct statx sx;
	int fd, r;

	/*
	 * Known already, or new and reachable by file handle? statx and name_to_handle_at (and
	 * a second statx for a new inode) instead of open + statx + handle + close.
	 */
	if (fb__pt_sys.statx(pfd, name, AT_SYMLINK_NOFOLLOW, PT_STATX_MASK, &sx) < 0)
		return -errno;
	r = fb__pt_inode_find_name(pt, parent, pfd, name, &sx, e);
	if (r < 0)
		return r;
	if (r > 0) {
		entry_fill(pt, parent, &sx, e);
		return 0;
	}
	fd = fb__pt_sys.openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = fd_statx(fd, &sx);
	if (r == 0)
		r = fb__pt_inode_enter(pt, parent, fd, &sx, e);
	if (r == 0)
		entry_fill(pt, parent, &sx, e);
	fb__pt_sys.close(fd);
	return r;
}

/* Enter the inode open as @fd (any kind of descriptor) found below @parent. */
static int enter_fd(struct fb_passthrough *pt, struct fb__pt_inode *parent, int fd,
		    struct fb_entry *e)
{
	struct statx sx;
	int r = fd_statx(fd, &sx);

	if (r == 0)
		r = fb__pt_inode_enter(pt, parent, fd, &sx, e);
	if (r == 0)
		entry_fill(pt, parent, &sx, e);
	return r;
}

static int root_entry(struct fb_passthrough *pt, struct fb_entry *e)
{
	struct statx sx;
	int r = fd_statx(pt->root_fd, &sx);

	if (r < 0)
		return r;
	entry_fill(pt, &pt->root, &sx, e);
	e->attr_flags = 0;
	e->ino = FB_ROOT_ID;
	return 0;
}

static int pt_lookup(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		     struct fb_entry *out)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_creds cr;
	struct pt_ifd p;
	size_t n = strlen(name);
	int r;

	if (n > NAME_MAX)
		return -ENAMETOOLONG;
	if (n == 0 || strchr(name, '/'))
		return -ENOENT;
	if (parent == FB_ROOT_ID && (strcmp(name, "..") == 0 || strcmp(name, ".") == 0))
		return root_entry(pt, out);

	r = ifd_get(pt, parent, &p);
	if (r < 0)
		return r;
	if (strcmp(name, ".") == 0) {
		r = enter_fd(pt, p.in, p.fd, out);
		goto out_put;
	}
	r = fb__pt_creds_enter(pt, ctx, &cr);
	if (r < 0)
		goto out_put;
	r = lookup_at(pt, p.in, p.fd, name, out);
	fb__pt_creds_leave(pt, &cr);
	if (r == -ENOENT && pt->entry_timeout > 0) {
		/* A negative entry: the kernel may remember the name is absent as long as it
		 * would remember a positive one (creates through the mount update it). */
		memset(out, 0, sizeof(*out));
		out->entry_timeout = pt->entry_timeout;
		r = 0;
	}
out_put:
	ifd_put(pt, &p);
	return r;
}

static void pt_forget(void *fs, fb_ino_t ino, uint64_t nlookup)
{
	fb__pt_inode_forget(PT(fs), ino, nlookup);
}

/* The descriptor of open file @fh (a ref is taken), or NULL. */
static struct fb__pt_handle *handle_of(struct fb_passthrough *pt, uint64_t fh)
{
	return fb__pt_handle_get(pt, fh);
}

static int pt_getattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino,
		      const struct fb_file_info *fi, struct stat *out, double *timeout)
{
	struct fb_passthrough *pt = PT(fs);
	struct statx sx;
	int r;

	if (fi) {
		struct fb__pt_handle *h = handle_of(pt, fi->fh);
		if (h) {
			r = fd_statx(h->fd, &sx);
			fb__pt_handle_put(pt, h);
			goto done;
		}
	}
	struct pt_ifd f;
	r = ifd_get(pt, ino, &f);
	if (r < 0)
		return r;
	r = fd_statx(f.fd, &sx);
	ifd_put(pt, &f);
done:
	if (r < 0)
		return r;
	fb__pt_statx_to_stat(pt, &sx, out);
	*timeout = timeout_for(pt, sx.stx_mode);
	return 0;
}

/*
 * Clear set-uid and set-gid (the latter only with group execute) as the daemon. Returns 1 when
 * the mode changed, 0 when there was nothing to clear, or a negative errno.
 */
static int kill_suidgid(int pfd, struct fb_passthrough *pt)
{
	struct statx sx;
	char name[16];
	int r = fd_statx(pfd, &sx);

	if (r < 0)
		return r;
	mode_t m = sx.stx_mode;
	if (!(m & S_ISUID) && !((m & S_ISGID) && (m & S_IXGRP)))
		return 0;
	m &= ~S_ISUID;
	if (m & S_IXGRP)
		m &= ~S_ISGID;
	snprintf(name, sizeof(name), "%d", pfd);
	if (fb__pt_sys.fchmodat(pt->proc_fd, name, m & 07777, 0) < 0)
		return -errno;
	return 1;
}

/*
 * The daemon changed the mode of @ino behind the kernel's back (the reply carries no
 * attributes): make the kernel drop its cached attributes now rather than at their timeout.
 * Only the attributes (offset -1): the page cache stays, and nothing in the kernel waits on
 * a lock this request holds. Best effort: a transport without notifications just waits.
 */
static void mode_changed(const struct fb_ctx *ctx, fb_ino_t ino)
{
	if (ctx && ctx->server)
		fb_server_notify_inval_inode(ctx->server, ino, -1, 0);
}

/*
 * The host ids for a chown to guest ids @u and @g ((uid_t)-1: unchanged, never mapped).
 * Returns 0 or -EPERM for a forbidden id.
 */
static int chown_ids_to_host(const struct fb_passthrough *pt, uid_t *u, gid_t *g)
{
	uint32_t id;
	int r;

	if (*u != (uid_t)-1) {
		r = fb__pt_idmap_to_host(&pt->uids, *u, &id);
		if (r < 0)
			return r;
		*u = id;
	}
	if (*g != (gid_t)-1) {
		r = fb__pt_idmap_to_host(&pt->gids, *g, &id);
		if (r < 0)
			return r;
		*g = id;
	}
	return 0;
}

/*
 * Is a chmod to @mode, refused to the caller (EPERM: not the owner), the kernel dropping
 * set-uid/set-gid before a write, truncate or fallocate by a caller who may write the file?
 * Without killpriv_v2 (fb-virtiofsd's default, as virtiofsd's) a guest kernel asks for that
 * as a plain SETATTR of the mode in the caller's name; the host kernel lets any writer drop
 * these bits (and only these). Called with the caller's credentials in force.
 */
static int is_killpriv_chmod(struct fb_passthrough *pt, int fd, const char *name, mode_t mode)
{
	struct statx sx;
	mode_t cur, drop;

	if (fd_statx(fd, &sx) < 0 || !S_ISREG(sx.stx_mode))
		return 0;
	cur = sx.stx_mode & 07777;
	mode &= 07777;
	drop = cur & ~mode;
	if ((mode & ~cur) || !drop || (drop & ~(mode_t)(S_ISUID | S_ISGID)))
		return 0;
	return fb__pt_sys.faccessat(pt->proc_fd, name, W_OK, AT_EACCESS) == 0;
}

static int pt_setattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const struct stat *in,
		      uint32_t valid, const struct fb_file_info *fi, struct stat *out,
		      double *timeout)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h = NULL;
	struct fb__pt_creds cr;
	struct pt_ifd f;
	char name[16];
	int r;

	r = ifd_get(pt, ino, &f);
	if (r < 0)
		return r;
	if (fi && (valid & FB_FATTR_FH))
		h = handle_of(pt, fi->fh);
	snprintf(name, sizeof(name), "%d", f.fd);

	r = fb__pt_creds_enter(pt, ctx, &cr);
	if (r < 0)
		goto out_put;

	if (valid & FB_FATTR_MODE) {
		if (S_ISLNK(f.in->mode))
			r = -EOPNOTSUPP;
		else if (h && !h->is_dir)
			r = fb__pt_sys.fchmod(h->fd, in->st_mode & 07777) < 0 ? -errno : 0;
		else
			r = fb__pt_sys.fchmodat(pt->proc_fd, name, in->st_mode & 07777, 0) < 0
				    ? -errno
				    : 0;
		if (r == -EPERM && is_killpriv_chmod(pt, f.fd, name, in->st_mode)) {
			/* Only privilege goes: done as the daemon, then back to the caller. */
			fb__pt_creds_leave(pt, &cr);
			r = fb__pt_sys.fchmodat(pt->proc_fd, name, in->st_mode & 07777, 0) < 0
				    ? -errno
				    : 0;
			if (r < 0)
				goto out_put;
			r = fb__pt_creds_enter(pt, ctx, &cr);
			if (r < 0)
				goto out_put;
		}
		if (r < 0)
			goto out_creds;
	}
	if (valid & (FB_FATTR_UID | FB_FATTR_GID)) {
		uid_t u = (valid & FB_FATTR_UID) ? in->st_uid : (uid_t)-1;
		gid_t g = (valid & FB_FATTR_GID) ? in->st_gid : (gid_t)-1;
		if (pt->idmapped) {
			r = chown_ids_to_host(pt, &u, &g);
			if (r < 0)
				goto out_creds;
		}
		if (fb__pt_sys.fchownat(f.fd, "", u, g, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			goto out_creds;
		}
	}
	if (valid & FB_FATTR_SIZE) {
		if (h && !h->is_dir) {
			r = fb__pt_sys.ftruncate(h->fd, in->st_size) < 0 ? -errno : 0;
		} else if (!S_ISREG(f.in->mode)) {
			r = S_ISDIR(f.in->mode) ? -EISDIR : -EINVAL;
		} else {
			int wfd = reopen_fd(pt, f.fd, O_WRONLY);
			r = wfd;
			if (wfd >= 0) {
				r = fb__pt_sys.ftruncate(wfd, in->st_size) < 0 ? -errno : 0;
				fb__pt_sys.close(wfd);
			}
		}
		if (r < 0)
			goto out_creds;
	}
	if (valid & (FB_FATTR_ATIME | FB_FATTR_MTIME)) {
		struct timespec ts[2];
		ts[0].tv_sec = 0;
		ts[0].tv_nsec = UTIME_OMIT;
		ts[1] = ts[0];
		if (valid & FB_FATTR_ATIME_NOW)
			ts[0].tv_nsec = UTIME_NOW;
		else if (valid & FB_FATTR_ATIME)
			ts[0] = in->st_atim;
		/*
		 * With the writeback cache the kernel keeps mtime itself and sends "touch"
		 * (utimes(NULL): allowed to anyone who may write) as ATIME_NOW plus an
		 * explicit MTIME, which the host would allow only to the owner.
		 */
		if ((valid & FB_FATTR_MTIME_NOW) ||
		    (pt->writeback && (valid & FB_FATTR_ATIME_NOW) && (valid & FB_FATTR_MTIME)))
			ts[1].tv_nsec = UTIME_NOW;
		else if (valid & FB_FATTR_MTIME)
			ts[1] = in->st_mtim;
		if (S_ISLNK(f.in->mode))
			r = fb__pt_sys.utimensat(f.fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
		else
			r = fb__pt_sys.utimensat(pt->proc_fd, name, ts, 0);
		if (r < 0) {
			r = -errno;
			goto out_creds;
		}
	}
	r = 0;
out_creds:
	fb__pt_creds_leave(pt, &cr);
	if (r == 0 && (valid & FB_FATTR_KILL_SUIDGID) && !(valid & FB_FATTR_MODE) &&
	    S_ISREG(f.in->mode))
		r = kill_suidgid(f.fd, pt);
	if (r > 0)
		r = 0; /* the reply carries the new mode */
	if (r == 0) {
		struct statx sx;
		r = fd_statx(h && !h->is_dir ? h->fd : f.fd, &sx);
		if (r == 0) {
			fb__pt_statx_to_stat(pt, &sx, out);
			*timeout = timeout_for(pt, sx.stx_mode);
		}
	}
out_put:
	fb__pt_handle_put(pt, h);
	ifd_put(pt, &f);
	return r;
}

static int pt_readlink(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, char *buf, size_t size)
{
	struct fb_passthrough *pt = PT(fs);
	struct pt_ifd f;
	ssize_t n;
	int r = ifd_get(pt, ino, &f);

	if (r < 0)
		return r;
	if (!S_ISLNK(f.in->mode)) {
		ifd_put(pt, &f);
		return -EINVAL;
	}
	n = fb__pt_sys.readlinkat(f.fd, "", buf, size);
	r = n < 0 ? -errno : (int)n;
	ifd_put(pt, &f);
	return r;
}

/* Common tail of mkdir, mknod, symlink: look the new name up. */
typedef int (*pt_make_fn)(int pfd, const char *name, const void *arg, mode_t mode, dev_t rdev);

static int make_dir(int pfd, const char *name, const void *arg, mode_t mode, dev_t rdev)
{
	return fb__pt_sys.mkdirat(pfd, name, mode);
}

static int make_node(int pfd, const char *name, const void *arg, mode_t mode, dev_t rdev)
{
	return fb__pt_sys.mknodat(pfd, name, mode, rdev);
}

static int make_symlink(int pfd, const char *name, const void *arg, mode_t mode, dev_t rdev)
{
	return fb__pt_sys.symlinkat(arg, pfd, name);
}

static int make_common(struct fb_passthrough *pt, const struct fb_ctx *ctx, fb_ino_t parent,
		       const char *name, pt_make_fn fn, const void *arg, mode_t mode, dev_t rdev,
		       struct fb_entry *out)
{
	struct fb__pt_creds cr;
	struct pt_ifd p;
	int r = name_check(name);

	if (r < 0)
		return r;
	r = ifd_get(pt, parent, &p);
	if (r < 0)
		return r;
	r = fb__pt_creds_enter(pt, ctx, &cr);
	if (r < 0)
		goto out_put;
	if (fn(p.fd, name, arg, mode, rdev) < 0)
		r = -errno;
	else
		r = lookup_at(pt, p.in, p.fd, name, out);
	fb__pt_creds_leave(pt, &cr);
out_put:
	ifd_put(pt, &p);
	return r;
}

static mode_t apply_umask(const struct fb_ctx *ctx, mode_t mode)
{
	return ctx ? mode & ~(mode_t)(ctx->umask & 0777) : mode;
}

static int pt_mkdir(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		    mode_t mode, struct fb_entry *out)
{
	return make_common(PT(fs), ctx, parent, name, make_dir, NULL,
			   apply_umask(ctx, mode & 07777), 0, out);
}

static int pt_mknod(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		    mode_t mode, dev_t rdev, struct fb_entry *out)
{
	mode_t type = mode & S_IFMT;

	if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK && type != S_IFCHR &&
	    type != S_IFBLK && type != 0)
		return -EINVAL;
	return make_common(PT(fs), ctx, parent, name, make_node, NULL,
			   type | apply_umask(ctx, mode & 07777), rdev, out);
}

static int pt_symlink(void *fs, const struct fb_ctx *ctx, const char *target, fb_ino_t parent,
		      const char *name, struct fb_entry *out)
{
	size_t n = strlen(target);

	if (n == 0)
		return -ENOENT;
	if (n >= PATH_MAX)
		return -ENAMETOOLONG;
	return make_common(PT(fs), ctx, parent, name, make_symlink, target, 0, 0, out);
}

static int unlink_common(struct fb_passthrough *pt, const struct fb_ctx *ctx, fb_ino_t parent,
			 const char *name, int flags)
{
	struct fb__pt_creds cr;
	struct pt_ifd p;
	int r = name_check(name);

	if (r < 0)
		return r;
	r = ifd_get(pt, parent, &p);
	if (r < 0)
		return r;
	if (!(flags & AT_REMOVEDIR))
		fb__pt_inode_pin(pt, p.fd, name);
	r = fb__pt_creds_enter(pt, ctx, &cr);
	if (r == 0) {
		r = fb__pt_sys.unlinkat(p.fd, name, flags) < 0 ? -errno : 0;
		fb__pt_creds_leave(pt, &cr);
	}
	ifd_put(pt, &p);
	return r;
}

static int pt_unlink(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name)
{
	return unlink_common(PT(fs), ctx, parent, name, 0);
}

static int pt_rmdir(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name)
{
	return unlink_common(PT(fs), ctx, parent, name, AT_REMOVEDIR);
}

static int pt_rename(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		     fb_ino_t newparent, const char *newname, uint32_t flags)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_creds cr;
	struct pt_ifd p, np;
	int r;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return -EINVAL;
	r = name_check(name);
	if (r == 0)
		r = name_check(newname);
	if (r < 0)
		return r;
	r = ifd_get(pt, parent, &p);
	if (r < 0)
		return r;
	r = ifd_get(pt, newparent, &np);
	if (r < 0)
		goto out_put;
	if (!(flags & (RENAME_EXCHANGE | RENAME_NOREPLACE)))
		fb__pt_inode_pin(pt, np.fd, newname);
	r = fb__pt_creds_enter(pt, ctx, &cr);
	if (r == 0) {
		r = fb__pt_sys.renameat2(p.fd, name, np.fd, newname, flags) < 0 ? -errno : 0;
		fb__pt_creds_leave(pt, &cr);
	}
	ifd_put(pt, &np);
out_put:
	ifd_put(pt, &p);
	return r;
}

static int pt_link(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, fb_ino_t newparent,
		   const char *newname, struct fb_entry *out)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_creds cr;
	struct pt_ifd f, np;
	char name[16];
	int r = name_check(newname);

	if (r < 0)
		return r;
	r = ifd_get(pt, ino, &f);
	if (r < 0)
		return r;
	if (S_ISDIR(f.in->mode)) {
		r = -EPERM;
		goto out_put;
	}
	r = ifd_get(pt, newparent, &np);
	if (r < 0)
		goto out_put;
	snprintf(name, sizeof(name), "%d", f.fd);
	r = fb__pt_creds_enter(pt, ctx, &cr);
	if (r == 0) {
		/* Through the magic link: AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH. */
		if (fb__pt_sys.linkat(pt->proc_fd, name, np.fd, newname, AT_SYMLINK_FOLLOW) < 0)
			r = -errno;
		else
			r = lookup_at(pt, np.in, np.fd, newname, out);
		fb__pt_creds_leave(pt, &cr);
	}
	ifd_put(pt, &np);
out_put:
	ifd_put(pt, &f);
	return r;
}

/* Host open flags for an open request with @flags. */
static int host_flags(struct fb_passthrough *pt, int flags)
{
	flags &= ~(O_DIRECT | O_NOFOLLOW | O_CREAT | O_EXCL | O_NOCTTY);
	if (pt->writeback) {
		if ((flags & O_ACCMODE) == O_WRONLY)
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		flags &= ~O_APPEND;
	}
	return flags;
}

/* Open flags for the kernel by cache policy. */
static uint32_t fopen_flags(struct fb_passthrough *pt, int flags)
{
	uint32_t of = 0;

	if (pt->cfg.cache == FB_PT_CACHE_NEVER)
		of |= FB_FOPEN_DIRECT_IO;
	else if (pt->cfg.cache == FB_PT_CACHE_ALWAYS)
		of |= FB_FOPEN_KEEP_CACHE;
	if ((flags & O_DIRECT) && pt->cfg.allow_direct_io)
		of |= FB_FOPEN_DIRECT_IO;
	/* Our writes are positional (pwritev): concurrent direct writes are safe. */
	if (of & FB_FOPEN_DIRECT_IO)
		of |= FB_FOPEN_PARALLEL_DIRECT_WRITES;
	return of;
}

/*
 * Register (or share) the inode's backing file, from @fd, the new handle's own descriptor.
 * The kernel opens a backing file of its own for each FUSE open, from the registered file's
 * path, with that open's flags and the registering daemon's credentials: so the mode @fd was
 * opened with does not matter (a write-only descriptor serves readers too), and the kernel
 * keeps its own reference, so nothing is kept here but the id. The kernel wants one backing
 * file per inode for all concurrent passthrough opens: later opens share the id.
 * Returns 0 and sets *id, or -errno.
 */
static int backing_get(struct fb_passthrough *pt, const struct fb_ctx *ctx, struct fb__pt_inode *in,
		       int fd, int *id)
{
	int r = 0;

	pthread_mutex_lock(&pt->backing_lock);
	if (in->backing_id > 0) {
		in->backing_users++;
		*id = in->backing_id;
		goto out_unlock;
	}
	r = fb_ctx_backing_open(ctx, fd);
	if (r <= 0) {
		r = r < 0 ? r : -EIO;
		goto out_unlock;
	}
	in->backing_id = r;
	in->backing_users = 1;
	*id = r;
	r = 0;
out_unlock:
	pthread_mutex_unlock(&pt->backing_lock);
	return r;
}

static void backing_put(struct fb_passthrough *pt, const struct fb_ctx *ctx,
			struct fb__pt_inode *in)
{
	pthread_mutex_lock(&pt->backing_lock);
	if (in->backing_users && --in->backing_users == 0) {
		fb_ctx_backing_close(ctx, in->backing_id);
		in->backing_id = 0;
	}
	pthread_mutex_unlock(&pt->backing_lock);
}

/*
 * On a noatime mount, the descriptor to register as @in's backing file (@fd is the open's own):
 * @in opened again on the source's noatime clone (pt->noatime_fd), so that the reads the
 * kernel makes through it leave the host's access time alone. The clone is detached, where
 * file handles do not open, so by the name /proc shows for @fd below the source, resolved
 * strictly beneath the clone (no symlinks, no other mount) and accepted only if it is the
 * same inode. -1 (register @fd: access times then change) when any of that fails.
 */
static int backing_noatime_fd(struct fb_passthrough *pt, struct fb__pt_inode *in, int fd)
{
	struct open_how how = {
		.flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   RESOLVE_NO_XDEV,
	};
	char name[16], root[PATH_MAX], path[PATH_MAX];
	struct statx sx;
	ssize_t rn, n;
	int bfd;

	if (pt->noatime_fd < 0 || in->submount)
		return -1;
	snprintf(name, sizeof(name), "%d", pt->root_fd);
	rn = fb__pt_sys.readlinkat(pt->proc_fd, name, root, sizeof(root) - 1);
	snprintf(name, sizeof(name), "%d", fd);
	n = fb__pt_sys.readlinkat(pt->proc_fd, name, path, sizeof(path) - 1);
	if (rn <= 0 || n <= rn + 1)
		return -1;
	root[rn] = path[n] = '\0';
	if (strncmp(path, root, (size_t)rn) != 0 || path[rn] != '/')
		return -1;
	bfd = fb__pt_sys.openat2(pt->noatime_fd, path + rn + 1, &how, sizeof(how));
	if (bfd < 0)
		return -1;
	if (fd_statx(bfd, &sx) < 0 || sx.stx_ino != in->ino ||
	    makedev(sx.stx_dev_major, sx.stx_dev_minor) != in->dev) {
		fb__pt_sys.close(bfd);
		return -1;
	}
	return bfd;
}

void fb__pt_handle_free(struct fb_passthrough *pt, struct fb__pt_handle *h)
{
	if (h->fd >= 0)
		fb__pt_sys.close(h->fd);
	if (h->is_dir)
		pthread_mutex_destroy(&h->dir_lock);
	free(h->dbuf);
	fb__pt_inode_put(pt, h->inode);
	free(h);
}

/*
 * Wrap open descriptor @fd of inode @in (whose ref moves to the handle) into a handle and fill
 * @fi. On failure @fd is closed and the ref dropped.
 */
static int handle_new(struct fb_passthrough *pt, const struct fb_ctx *ctx, struct fb__pt_inode *in,
		      int fd, int is_dir, int flags, struct fb_file_info *fi)
{
	struct fb__pt_handle *h = calloc(1, sizeof(*h));
	int r;

	if (!h) {
		fb__pt_sys.close(fd);
		fb__pt_inode_put(pt, in);
		return -ENOMEM;
	}
	h->inode = in;
	h->fd = fd;
	h->is_dir = is_dir;
	fi->open_flags = 0;
	fi->backing_id = 0;
	if (is_dir) {
		pthread_mutex_init(&h->dir_lock, NULL);
		if (pt->cfg.cache == FB_PT_CACHE_ALWAYS)
			fi->open_flags |= FB_FOPEN_CACHE_DIR | FB_FOPEN_KEEP_CACHE;
	} else {
		fi->open_flags = fopen_flags(pt, flags);
		/* A submount may be of another kind than the source: it keeps FLUSH. */
		if (!pt->flush && !in->submount)
			fi->open_flags |= FB_FOPEN_NOFLUSH;
		if (pt->passthrough && S_ISREG(in->mode) &&
		    !(fi->open_flags & FB_FOPEN_DIRECT_IO)) {
			int id, bfd = backing_noatime_fd(pt, in, fd);
			r = backing_get(pt, ctx, in, bfd >= 0 ? bfd : fd, &id);
			if (bfd >= 0)
				fb__pt_sys.close(bfd);
			if (r == 0) {
				h->backing = 1;
				fi->open_flags |= FB_FOPEN_PASSTHROUGH;
				fi->open_flags &= ~FB_FOPEN_KEEP_CACHE;
				fi->backing_id = id;
			}
			/* Else (e.g. -EPERM without CAP_SYS_ADMIN): a cached open. */
		}
	}
	r = fb__pt_handle_add(pt, h, &fi->fh);
	if (r < 0) {
		if (h->backing)
			backing_put(pt, ctx, in);
		fb__pt_handle_free(pt, h);
		return r;
	}
	return 0;
}

/*
 * Writes through a FUSE passthrough open go from the kernel to the host file with the
 * daemon's credentials (root, CAP_FSETID), so neither the host nor the daemon sees them and
 * nothing clears set-uid/set-gid as a write by the caller would. With FB_HANDLE_KILLPRIV_V2 the
 * kernel leaves that to us: clear them when a caller without CAP_FSETID (not root) opens the
 * file for writing, as its first write would (docs/passthrough.md, Security model).
 */
static void passthrough_kill_suidgid(struct fb_passthrough *pt, const struct fb_ctx *ctx,
				     fb_ino_t ino, int pfd, int flags)
{
	if (!pt->killpriv_v2 || !ctx || ctx->uid == 0 || (flags & O_ACCMODE) == O_RDONLY)
		return;
	if (kill_suidgid(pfd, pt) > 0)
		mode_changed(ctx, ino);
}

static int open_common(struct fb_passthrough *pt, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		       int is_dir, struct fb_file_info *fi)
{
	struct fb__pt_creds cr;
	struct pt_ifd f;
	int r, fd;

	r = ifd_get(pt, ino, &f);
	if (r < 0)
		return r;
	if (S_ISLNK(f.in->mode)) {
		r = -ELOOP;
		goto out_put;
	}
	if (is_dir && !S_ISDIR(f.in->mode)) {
		r = -ENOTDIR;
		goto out_put;
	}
	if (!is_dir && !S_ISREG(f.in->mode) && !S_ISDIR(f.in->mode)) {
		r = -ENXIO;
		goto out_put;
	}
	r = fb__pt_creds_enter(pt, ctx, &cr);
	if (r < 0)
		goto out_put;
	if (is_dir)
		fd = reopen_fd(pt, f.fd, O_RDONLY | O_DIRECTORY);
	else
		fd = reopen_fd(pt, f.fd, host_flags(pt, flags));
	fb__pt_creds_leave(pt, &cr);
	if (fd < 0) {
		r = fd;
		goto out_put;
	}
	noatime_fd(pt, fd);
	r = handle_new(pt, ctx, f.in, fd, is_dir, flags, fi);
	if (r == 0 && (fi->open_flags & FB_FOPEN_PASSTHROUGH))
		passthrough_kill_suidgid(pt, ctx, ino, f.fd, flags);
	fb__pt_fd_put(f.fd, f.owned);
	return r;
out_put:
	ifd_put(pt, &f);
	return r;
}

static int pt_open(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		   struct fb_file_info *fi)
{
	struct fb_passthrough *pt = PT(fs);

	if (pt->no_open)
		return -ENOSYS;
	return open_common(pt, ctx, ino, flags, 0, fi);
}

static int pt_opendir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		      struct fb_file_info *fi)
{
	struct fb_passthrough *pt = PT(fs);

	if (pt->no_opendir)
		return -ENOSYS;
	return open_common(pt, ctx, ino, flags, 1, fi);
}

/* Finish create/tmpfile: enter the inode of @fd and make the handle. */
static int created(struct fb_passthrough *pt, const struct fb_ctx *ctx, struct pt_ifd *p, int fd,
		   int flags, struct fb_entry *out, struct fb_file_info *fi)
{
	struct fb__pt_inode *in;
	int r = enter_fd(pt, p->in, fd, out);

	if (r < 0) {
		fb__pt_sys.close(fd);
		return r;
	}
	in = fb__pt_inode_get(pt, out->ino);
	if (!in) {
		fb__pt_sys.close(fd);
		return -ESTALE;
	}
	noatime_fd(pt, fd);
	r = handle_new(pt, ctx, in, fd, 0, flags, fi);
	if (r == 0)
		return 0;
	fb__pt_inode_forget(pt, out->ino, 1);
	return r;
}

static int pt_create(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		     mode_t mode, int flags, struct fb_entry *out, struct fb_file_info *fi)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_creds cr;
	struct pt_ifd p;
	int r, fd;

	r = name_check(name);
	if (r < 0)
		return r;
	r = ifd_get(pt, parent, &p);
	if (r < 0)
		return r;
	r = fb__pt_creds_enter(pt, ctx, &cr);
	if (r < 0)
		goto out_put;
	fd = fb__pt_sys.openat(p.fd, name,
			       host_flags(pt, flags) | (flags & O_EXCL) | O_CREAT | O_NOFOLLOW |
				       O_CLOEXEC,
			       apply_umask(ctx, mode & 07777));
	if (fd < 0)
		r = -errno;
	fb__pt_creds_leave(pt, &cr);
	if (fd >= 0)
		r = created(pt, ctx, &p, fd, flags, out, fi);
out_put:
	ifd_put(pt, &p);
	return r;
}

static int pt_tmpfile(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, mode_t mode, int flags,
		      struct fb_entry *out, struct fb_file_info *fi)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_creds cr;
	struct pt_ifd p;
	int r, fd, hf;

	r = ifd_get(pt, parent, &p);
	if (r < 0)
		return r;
	hf = host_flags(pt, flags) & ~O_TMPFILE;
	if ((hf & O_ACCMODE) == O_RDONLY)
		hf = (hf & ~O_ACCMODE) | O_RDWR;
	r = fb__pt_creds_enter(pt, ctx, &cr);
	if (r < 0)
		goto out_put;
	/* "." of the parent's descriptor: the parent itself, no name resolution. */
	fd = fb__pt_sys.openat(p.fd, ".", hf | O_TMPFILE | O_CLOEXEC,
			       apply_umask(ctx, mode & 07777));
	if (fd < 0)
		r = -errno;
	fb__pt_creds_leave(pt, &cr);
	if (fd >= 0)
		r = created(pt, ctx, &p, fd, flags, out, fi);
out_put:
	ifd_put(pt, &p);
	return r;
}

/*
 * The descriptor for I/O on @fh. Without a handle (no_open negotiated) the inode is opened
 * for this request only (*tmp set: close it afterwards).
 */
static int io_fd(struct fb_passthrough *pt, fb_ino_t ino, uint64_t fh, int acc,
		 struct fb__pt_handle **hp, int *tmp)
{
	struct fb__pt_handle *h = handle_of(pt, fh);

	*hp = h;
	*tmp = 0;
	if (h)
		return h->fd;
	if (!pt->no_open)
		return -EBADF;
	struct pt_ifd f;
	int r = ifd_get(pt, ino, &f);
	if (r < 0)
		return r;
	r = S_ISREG(f.in->mode) ? reopen_fd(pt, f.fd, acc) : -EBADF;
	ifd_put(pt, &f);
	noatime_fd(pt, r);
	if (r >= 0)
		*tmp = 1;
	return r;
}

static void io_put(struct fb_passthrough *pt, struct fb__pt_handle *h, int fd, int tmp)
{
	if (tmp)
		fb__pt_sys.close(fd);
	fb__pt_handle_put(pt, h);
}

static int pt_read(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		   struct fb_writer *w, uint32_t size, uint64_t off, int flags)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h;
	int tmp, fd = io_fd(pt, ino, fh, O_RDONLY, &h, &tmp);
	ssize_t n;

	if (fd < 0)
		return fd;
	if (off > (uint64_t)INT64_MAX) {
		io_put(pt, h, fd, tmp);
		return -EINVAL;
	}
	if (size > fb_writer_available(w))
		size = (uint32_t)fb_writer_available(w);
	n = fb_writer_from_fd(w, fd, size, (off_t)off);
	io_put(pt, h, fd, tmp);
	return (int)n;
}

static int pt_write(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		    struct fb_reader *r, uint32_t size, uint64_t off, uint32_t write_flags,
		    int flags)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h;
	int tmp, fd = io_fd(pt, ino, fh, O_WRONLY, &h, &tmp);
	ssize_t n;

	if (fd < 0)
		return fd;
	if (off > (uint64_t)INT64_MAX || size > fb_reader_remaining(r)) {
		io_put(pt, h, fd, tmp);
		return -EINVAL;
	}
	if (write_flags & FB_WRITE_KILL_SUIDGID) {
		int kr = kill_suidgid(fd, pt);
		if (kr < 0) {
			io_put(pt, h, fd, tmp);
			return kr;
		}
		if (kr > 0)
			mode_changed(ctx, ino);
	}
	n = fb_reader_to_fd(r, fd, size, (off_t)off);
	io_put(pt, h, fd, tmp);
	return (int)n;
}

static int pt_flush(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		    uint64_t lock_owner)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h = handle_of(pt, fh);
	int r = 0, d;

	if (!h)
		return pt->no_open ? 0 : -EBADF;
	/* close() of a duplicate: what a local close would do to the host file (NFS flushes). */
	d = fb__pt_sys.dup(h->fd);
	if (d < 0)
		r = -errno;
	else if (fb__pt_sys.close(d) < 0)
		r = -errno;
	fb__pt_handle_put(pt, h);
	return r;
}

static int release_common(struct fb_passthrough *pt, const struct fb_ctx *ctx, uint64_t fh)
{
	struct fb__pt_handle *h = fb__pt_handle_remove(pt, fh);

	if (!h)
		return pt->no_open ? 0 : -EBADF;
	if (h->backing)
		backing_put(pt, ctx, h->inode);
	h->backing = 0;
	fb__pt_handle_put(pt, h);
	return 0;
}

static int pt_release(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int flags,
		      uint32_t release_flags, uint64_t lock_owner)
{
	return release_common(PT(fs), ctx, fh);
}

static int pt_releasedir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int flags)
{
	struct fb_passthrough *pt = PT(fs);
	int r = release_common(pt, ctx, fh);

	return pt->no_opendir ? 0 : r;
}

static int pt_fsync(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int datasync)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h;
	int tmp, fd = io_fd(pt, ino, fh, O_RDONLY, &h, &tmp), r;

	if (fd < 0)
		return fd;
	r = (datasync ? fb__pt_sys.fdatasync(fd) : fb__pt_sys.fsync(fd)) < 0 ? -errno : 0;
	io_put(pt, h, fd, tmp);
	return r;
}

static int pt_fsyncdir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int datasync)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h = handle_of(pt, fh);
	int r, fd;

	if (h) {
		fd = h->fd;
	} else {
		struct pt_ifd f;
		r = ifd_get(pt, ino, &f);
		if (r < 0)
			return r;
		fd = reopen_fd(pt, f.fd, O_RDONLY | O_DIRECTORY);
		ifd_put(pt, &f);
		if (fd < 0)
			return fd;
	}
	r = (datasync ? fb__pt_sys.fdatasync(fd) : fb__pt_sys.fsync(fd)) < 0 ? -errno : 0;
	if (h)
		fb__pt_handle_put(pt, h);
	else
		fb__pt_sys.close(fd);
	return r;
}

struct pt_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static int readdir_common(struct fb_passthrough *pt, const struct fb_ctx *ctx, fb_ino_t ino,
			  uint64_t fh, uint64_t off, struct fb_dirbuf *buf, int plus)
{
	struct fb__pt_handle *h = handle_of(pt, fh), tmp;
	struct fb__pt_creds cr = {0};
	int r = 0;

	if (!h) {
		/* No opendir (FB_NO_OPENDIR_SUPPORT): a stream for this request only. */
		struct pt_ifd f;
		if (!pt->no_opendir)
			return -EBADF;
		r = ifd_get(pt, ino, &f);
		if (r < 0)
			return r;
		r = fb__pt_creds_enter(pt, ctx, &cr);
		if (r == 0) {
			r = reopen_fd(pt, f.fd, O_RDONLY | O_DIRECTORY);
			fb__pt_creds_leave(pt, &cr);
		}
		memset(&tmp, 0, sizeof(tmp));
		tmp.is_dir = 1;
		tmp.inode = f.in;
		tmp.fd = r;
		tmp.doff = (uint64_t)-1;
		fb__pt_fd_put(f.fd, f.owned);
		if (r < 0) {
			fb__pt_inode_put(pt, f.in);
			return r;
		}
		pthread_mutex_init(&tmp.dir_lock, NULL);
		h = &tmp;
		r = 0;
	}
	if (!h->is_dir) {
		fb__pt_handle_put(pt, h);
		return -ENOTDIR;
	}
	pthread_mutex_lock(&h->dir_lock);
	if (!h->dbuf) {
		h->dbuf = malloc(PT_DIRBUF_SIZE);
		if (!h->dbuf) {
			r = -ENOMEM;
			goto out_unlock;
		}
	}
	if (off != h->doff) {
		if (fb__pt_sys.lseek(h->fd, (off_t)off, SEEK_SET) < 0) {
			r = -errno;
			goto out_unlock;
		}
		h->doff = off;
		h->dlen = h->dpos = 0;
	}
	if (plus) {
		r = fb__pt_creds_enter(pt, ctx, &cr);
		if (r < 0)
			goto out_unlock;
	}
	for (;;) {
		if (h->dpos >= h->dlen) {
			ssize_t n = fb__pt_sys.getdents64(h->fd, h->dbuf, PT_DIRBUF_SIZE);
			if (n < 0) {
				r = -errno;
				break;
			}
			h->dlen = (size_t)n;
			h->dpos = 0;
			if (n == 0)
				break;
		}
		struct pt_dirent64 *de = (struct pt_dirent64 *)(h->dbuf + h->dpos);
		size_t nlen = strlen(de->d_name);
		int dots = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
		uint64_t dino = de->d_ino;

		if (dots && h->inode == &pt->root && de->d_name[1] == '.')
			dino = pt->root.ino; /* nothing about the outside leaks */
		if (!plus) {
			r = fb_dirbuf_add(buf, de->d_name, nlen, dino, de->d_type,
					  (uint64_t)de->d_off);
		} else {
			struct fb_entry e;
			memset(&e, 0, sizeof(e));
			if (dots) {
				e.attr.st_ino = dino;
				e.attr.st_mode = (mode_t)de->d_type << 12;
				r = fb_dirbuf_add_plus(buf, de->d_name, nlen, &e,
						       (uint64_t)de->d_off);
			} else {
				r = lookup_at(pt, h->inode, h->fd, de->d_name, &e);
				if (r < 0) {
					/* Gone meanwhile: skip it. */
					r = 0;
					goto next;
				}
				r = fb_dirbuf_add_plus(buf, de->d_name, nlen, &e,
						       (uint64_t)de->d_off);
				if (r < 0 && e.ino != FB_ROOT_ID)
					fb__pt_inode_forget(pt, e.ino, 1);
			}
		}
		if (r == -ENOSPC) {
			r = 0;
			break;
		}
		if (r < 0)
			break;
	next:
		h->dpos += de->d_reclen;
		h->doff = (uint64_t)de->d_off;
	}
	if (plus)
		fb__pt_creds_leave(pt, &cr);
out_unlock:
	pthread_mutex_unlock(&h->dir_lock);
	if (h == &tmp) {
		fb__pt_sys.close(tmp.fd);
		free(tmp.dbuf);
		pthread_mutex_destroy(&tmp.dir_lock);
		fb__pt_inode_put(pt, tmp.inode);
	} else {
		fb__pt_handle_put(pt, h);
	}
	return r;
}

static int pt_readdir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t off,
		      struct fb_dirbuf *buf)
{
	return readdir_common(PT(fs), ctx, ino, fh, off, buf, 0);
}

static int pt_readdirplus(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			  uint64_t off, struct fb_dirbuf *buf)
{
	return readdir_common(PT(fs), ctx, ino, fh, off, buf, 1);
}

static int pt_statfs(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, struct statvfs *out)
{
	struct fb_passthrough *pt = PT(fs);
	struct pt_ifd f;
	int r = ifd_get(pt, ino, &f);

	if (r < 0)
		return r;
	r = fb__pt_sys.fstatvfs(f.fd, out) < 0 ? -errno : 0;
	ifd_put(pt, &f);
	return r;
}

/*
 * Run an xattr call on the inode as the caller. Regular files and directories are reopened
 * read-only through proc_fd (as the daemon: the xattr call itself checks the caller's rights)
 * and use the f*xattr calls, so no /proc path is needed (a sandboxed daemon has none in its
 * root); other types, as opening them could block or act, go through their /proc/self/fd
 * entry by path (proc_path()).
 */
enum { XA_GET, XA_SET, XA_LIST, XA_REMOVE };

/* 1: this thread has its own working directory (unshare(CLONE_FS) done); -1: it failed */
static __thread int pt_own_cwd;

/*
 * A path to the object open as @fd for a path-only call (getxattr() and friends on symlinks
 * and special files): "N" relative to this thread's working directory moved to proc_fd, so
 * that it works where the root has no /proc (fb-virtiofsd's sandbox pivots into the shared
 * directory). The thread first takes a working directory of its own, leaving the others'
 * alone. Else "/proc/self/fd/N".
 */
static void proc_path(struct fb_passthrough *pt, int fd, char *path, size_t len)
{
	if (!pt_own_cwd)
		pt_own_cwd = unshare(CLONE_FS) == 0 ? 1 : -1;
	if (pt_own_cwd > 0 && fchdir(pt->proc_fd) == 0)
		snprintf(path, len, "%d", fd);
	else
		snprintf(path, len, "/proc/self/fd/%d", fd);
}

static int xattr_common(struct fb_passthrough *pt, const struct fb_ctx *ctx, fb_ino_t ino, int op,
			const char *name, void *buf, size_t size, int flags)
{
	struct fb__pt_creds cr;
	struct pt_ifd f;
	char path[64];
	ssize_t n = 0;
	int r, rfd = -1;

	/* Off: ENOSYS, which the kernel remembers (and then answers EOPNOTSUPP itself) instead
	 * of asking again before every write (security.capability) and every getxattr. */
	if (!pt->cfg.xattr)
		return -ENOSYS;
	if (name && (strlen(name) == 0 || strlen(name) > XATTR_NAME_MAX))
		return name[0] ? -ERANGE : -EINVAL;
	if (size > XATTR_SIZE_MAX && op != XA_LIST)
		size = XATTR_SIZE_MAX;
	r = ifd_get(pt, ino, &f);
	if (r < 0)
		return r;
	if (S_ISREG(f.in->mode) || S_ISDIR(f.in->mode)) {
		rfd = reopen_fd(pt, f.fd, O_RDONLY | O_NONBLOCK);
		/* A daemon without root may not read it: the path still works where /proc is. */
		if (rfd < 0 && rfd != -EACCES) {
			r = rfd;
			goto out_put;
		}
	}
	if (rfd < 0)
		proc_path(pt, f.fd, path, sizeof(path));
	r = fb__pt_creds_enter(pt, ctx, &cr);
	if (r < 0)
		goto out_close;
	switch (op) {
	case XA_GET:
		n = rfd >= 0 ? fb__pt_sys.fgetxattr(rfd, name, buf, size)
			     : fb__pt_sys.getxattr(path, name, buf, size);
		break;
	case XA_SET:
		n = rfd >= 0 ? fb__pt_sys.fsetxattr(rfd, name, buf, size, flags)
			     : fb__pt_sys.setxattr(path, name, buf, size, flags);
		break;
	case XA_LIST:
		n = rfd >= 0 ? fb__pt_sys.flistxattr(rfd, buf, size)
			     : fb__pt_sys.listxattr(path, buf, size);
		break;
	case XA_REMOVE:
		n = rfd >= 0 ? fb__pt_sys.fremovexattr(rfd, name)
			     : fb__pt_sys.removexattr(path, name);
		break;
	}
	r = n < 0 ? -errno : (int)n;
	fb__pt_creds_leave(pt, &cr);
out_close:
	if (rfd >= 0)
		fb__pt_sys.close(rfd);
out_put:
	ifd_put(pt, &f);
	return r;
}

static int pt_setxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name,
		       const void *value, size_t size, int flags, uint32_t setxattr_flags)
{
	if (size > XATTR_SIZE_MAX)
		return -E2BIG;
	return xattr_common(PT(fs), ctx, ino, XA_SET, name, (void *)value, size, flags);
}

static int pt_getxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name,
		       void *buf, size_t size)
{
	return xattr_common(PT(fs), ctx, ino, XA_GET, name, buf, size, 0);
}

static int pt_listxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, char *buf, size_t size)
{
	return xattr_common(PT(fs), ctx, ino, XA_LIST, NULL, buf, size, 0);
}

static int pt_access(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint32_t mask);

/*
 * The kernel drops a file's capabilities before it is modified (fallocate, truncate, write:
 * security_inode_killpriv()) by sending REMOVEXATTR "security.capability" with the writer's
 * credentials, which the host refuses (EPERM) to anyone without CAP_SETFCAP; the operation
 * then fails. The host kernel drops them for any writer, so a caller who may write the file is
 * allowed to remove them: that takes privilege away, as their next write would.
 */
static int pt_removexattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name)
{
	int r = xattr_common(PT(fs), ctx, ino, XA_REMOVE, name, NULL, 0, 0);

	if (r == -EPERM && ctx && strcmp(name, "security.capability") == 0 &&
	    pt_access(fs, ctx, ino, W_OK) == 0)
		r = xattr_common(PT(fs), NULL, ino, XA_REMOVE, name, NULL, 0, 0);
	return r;
}

static int pt_access(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint32_t mask)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_creds cr;
	struct pt_ifd f;
	char name[16];
	int r = ifd_get(pt, ino, &f);

	if (r < 0)
		return r;
	if (mask & ~(uint32_t)(R_OK | W_OK | X_OK)) {
		r = -EINVAL;
		goto out_put;
	}
	snprintf(name, sizeof(name), "%d", f.fd);
	r = fb__pt_creds_enter(pt, ctx, &cr);
	if (r < 0)
		goto out_put;
	if (S_ISLNK(f.in->mode))
		r = 0; /* symlinks are always accessible; the target is not ours to follow */
	else
		r = fb__pt_sys.faccessat(pt->proc_fd, name, (int)mask, AT_EACCESS) < 0 ? -errno : 0;
	fb__pt_creds_leave(pt, &cr);
out_put:
	ifd_put(pt, &f);
	return r;
}

static void lock_to_flock(const struct fb_lock *lk, struct flock *fl)
{
	memset(fl, 0, sizeof(*fl));
	fl->l_type = (short)lk->type;
	fl->l_whence = SEEK_SET;
	fl->l_start = (off_t)lk->start;
	if (lk->end == UINT64_MAX || lk->end >= (uint64_t)INT64_MAX)
		fl->l_len = 0;
	else
		fl->l_len = (off_t)(lk->end - lk->start + 1);
	fl->l_pid = 0; /* OFD locks */
}

static int pt_getlk(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		    struct fb_lock *lk)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h = handle_of(pt, fh);
	struct flock fl;
	int r;

	if (!h)
		return -EBADF;
	if (lk->start > (uint64_t)INT64_MAX || lk->end < lk->start) {
		fb__pt_handle_put(pt, h);
		return -EINVAL;
	}
	lock_to_flock(lk, &fl);
	r = fb__pt_sys.fcntl_lock(h->fd, F_OFD_GETLK, &fl) < 0 ? -errno : 0;
	fb__pt_handle_put(pt, h);
	if (r < 0)
		return r;
	lk->type = (uint32_t)fl.l_type;
	if (fl.l_type != F_UNLCK) {
		lk->start = (uint64_t)fl.l_start;
		lk->end = fl.l_len == 0 ? UINT64_MAX : (uint64_t)(fl.l_start + fl.l_len - 1);
		lk->pid = fl.l_pid > 0 ? (uint32_t)fl.l_pid : 0;
	}
	return 0;
}

static int pt_setlk(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		    const struct fb_lock *lk, int sleep)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h = handle_of(pt, fh);
	struct flock fl;
	int r;

	if (!h)
		return -EBADF;
	if (lk->start > (uint64_t)INT64_MAX || lk->end < lk->start) {
		fb__pt_handle_put(pt, h);
		return -EINVAL;
	}
	lock_to_flock(lk, &fl);
	/*
	 * A waiting lock polls so that an interrupt (the caller got a signal) ends the wait
	 * and the worker thread is not stuck forever.
	 */
	for (;;) {
		r = fb__pt_sys.fcntl_lock(h->fd, F_OFD_SETLK, &fl) < 0 ? -errno : 0;
		if (!sleep || (r != -EAGAIN && r != -EACCES))
			break;
		if (ctx && ctx->server && fb_ctx_interrupted(ctx)) {
			r = -EINTR;
			break;
		}
		usleep(2000);
	}
	fb__pt_handle_put(pt, h);
	return r;
}

static int pt_flock(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		    int op)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h = handle_of(pt, fh);
	int r;

	if (!h)
		return -EBADF;
	for (;;) {
		r = fb__pt_sys.flock(h->fd, op | LOCK_NB) < 0 ? -errno : 0;
		if ((op & LOCK_NB) || r != -EWOULDBLOCK)
			break;
		if (ctx && ctx->server && fb_ctx_interrupted(ctx)) {
			r = -EINTR;
			break;
		}
		usleep(2000);
	}
	fb__pt_handle_put(pt, h);
	return r;
}

static int pt_fallocate(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int mode,
			uint64_t off, uint64_t len)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h;
	int tmp, fd = io_fd(pt, ino, fh, O_WRONLY, &h, &tmp), r;

	if (fd < 0)
		return fd;
	if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX)
		r = -EINVAL;
	else
		r = fb__pt_sys.fallocate(fd, mode, (off_t)off, (off_t)len) < 0 ? -errno : 0;
	/*
	 * The host clears set-uid/set-gid when a writer without CAP_FSETID allocates or punches
	 * (file_modified()); we allocate as root, and with killpriv_v2 the kernel leaves it to us.
	 */
	if (r == 0 && pt->killpriv_v2 && ctx && ctx->uid != 0 && kill_suidgid(fd, pt) > 0)
		mode_changed(ctx, ino);
	io_put(pt, h, fd, tmp);
	return r;
}

static int pt_lseek(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t off,
		    int whence, uint64_t *out)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h;
	int tmp, fd, r = 0;

	/*
	 * With the writeback cache the newest data may still sit in the kernel, where the host
	 * cannot see it: ENOSYS makes the kernel answer SEEK_DATA/SEEK_HOLE itself.
	 */
	if (pt->writeback)
		return -ENOSYS;
	fd = io_fd(pt, ino, fh, O_RDONLY, &h, &tmp);
	if (fd < 0)
		return fd;
	if (off > (uint64_t)INT64_MAX) {
		/* A negative offset: Linux answers ENXIO for SEEK_DATA/SEEK_HOLE. */
		r = whence == SEEK_DATA || whence == SEEK_HOLE ? -ENXIO : -EINVAL;
	} else {
		off_t o = fb__pt_sys.lseek(fd, (off_t)off, whence);
		if (o < 0)
			r = -errno;
		else
			*out = (uint64_t)o;
	}
	io_put(pt, h, fd, tmp);
	return r;
}

static int pt_copy_file_range(void *fs, const struct fb_ctx *ctx, fb_ino_t ino_in, uint64_t fh_in,
			      uint64_t off_in, fb_ino_t ino_out, uint64_t fh_out, uint64_t off_out,
			      uint64_t len, uint64_t flags, uint64_t *copied)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *hi = NULL, *ho = NULL;
	int ti = 0, to = 0, fi, fo, r;

	if (flags)
		return -EINVAL;
	if (off_in > (uint64_t)INT64_MAX || off_out > (uint64_t)INT64_MAX)
		return -EINVAL;
	fi = io_fd(pt, ino_in, fh_in, O_RDONLY, &hi, &ti);
	if (fi < 0)
		return fi;
	fo = io_fd(pt, ino_out, fh_out, O_WRONLY, &ho, &to);
	if (fo < 0) {
		io_put(pt, hi, fi, ti);
		return fo;
	}
	off_t oi = (off_t)off_in, oo = (off_t)off_out;
	size_t n = len > (uint64_t)SSIZE_MAX ? (size_t)SSIZE_MAX : (size_t)len;
	ssize_t c = fb__pt_sys.copy_file_range(fi, &oi, fo, &oo, n, 0);
	if (c < 0) {
		r = -errno;
	} else {
		*copied = (uint64_t)c;
		r = 0;
	}
	io_put(pt, ho, fo, to);
	io_put(pt, hi, fi, ti);
	return r;
}

static int pt_statx(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const struct fb_file_info *fi,
		    uint32_t sx_flags, uint32_t mask, struct statx *out, double *timeout)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h = fi ? handle_of(pt, fi->fh) : NULL;
	struct pt_ifd f = {NULL, -1, 0};
	int fd, r;

	if (h) {
		fd = h->fd;
	} else {
		r = ifd_get(pt, ino, &f);
		if (r < 0)
			return r;
		fd = f.fd;
	}
	r = fb__pt_sys.statx(fd, "",
			     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW |
				     (int)(sx_flags & AT_STATX_SYNC_TYPE),
			     mask | STATX_BASIC_STATS, out) < 0
		    ? -errno
		    : 0;
	if (h)
		fb__pt_handle_put(pt, h);
	else
		ifd_put(pt, &f);
	if (r == 0) {
		if (pt->idmapped) {
			out->stx_uid = fb__pt_idmap_to_guest(&pt->uids, out->stx_uid);
			out->stx_gid = fb__pt_idmap_to_guest(&pt->gids, out->stx_gid);
		}
		*timeout = timeout_for(pt, out->stx_mode);
	}
	return r;
}

static int pt_syncfs(void *fs, const struct fb_ctx *ctx, fb_ino_t ino)
{
	struct fb_passthrough *pt = PT(fs);
	struct pt_ifd f;
	int r = ifd_get(pt, ino, &f), fd;

	if (r < 0)
		return r;
	if (S_ISDIR(f.in->mode) || S_ISREG(f.in->mode))
		fd = reopen_fd(pt, f.fd, O_RDONLY);
	else
		fd = reopen_fd(pt, pt->root_fd, O_RDONLY);
	ifd_put(pt, &f);
	if (fd < 0)
		return fd;
	r = fb__pt_sys.syncfs(fd) < 0 ? -errno : 0;
	fb__pt_sys.close(fd);
	return r;
}

/*
 * Only FS_IOC_GETFLAGS / FS_IOC_SETFLAGS (chattr/lsattr) are passed to the host: their
 * argument is one integer, so nothing the caller sends is interpreted as a pointer.
 */
static int pt_ioctl(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint32_t flags,
		    uint32_t cmd, const void *in, uint32_t in_size, void *out, uint32_t *out_size)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h;
	struct fb__pt_creds cr;
	int val = 0, r;

	if (cmd != (uint32_t)FS_IOC_GETFLAGS && cmd != (uint32_t)FS_IOC_SETFLAGS &&
	    cmd != (uint32_t)FS_IOC32_GETFLAGS && cmd != (uint32_t)FS_IOC32_SETFLAGS)
		return -ENOTTY;
	h = handle_of(pt, fh);
	if (!h)
		return -EBADF;
	int set = cmd == (uint32_t)FS_IOC_SETFLAGS || cmd == (uint32_t)FS_IOC32_SETFLAGS;
	if (set) {
		if (in_size < sizeof(int)) {
			r = -EINVAL;
			goto out_put;
		}
		memcpy(&val, in, sizeof(int));
	}
	r = fb__pt_creds_enter(pt, ctx, &cr);
	if (r < 0)
		goto out_put;
	r = fb__pt_sys.ioctl(h->fd, set ? FS_IOC_SETFLAGS : FS_IOC_GETFLAGS, &val) < 0 ? -errno : 0;
	fb__pt_creds_leave(pt, &cr);
	if (r == 0 && !set) {
		long lv = val;
		uint32_t n = *out_size >= sizeof(long) ? sizeof(long) : sizeof(int);
		if (*out_size < n) {
			r = -EINVAL;
			goto out_put;
		}
		if (n == sizeof(long))
			memcpy(out, &lv, n);
		else
			memcpy(out, &val, n);
		*out_size = n;
	} else if (r == 0) {
		*out_size = 0;
	}
out_put:
	fb__pt_handle_put(pt, h);
	return r;
}

/*
 * virtio-fs DAX: the VMM maps [@foffset, +@len) of the open file @fh at @moffset of the guest's
 * cache window. The handle's own descriptor is what it maps, so it must be open for what the
 * guest asks (a writable mapping of a file opened read-only would bypass the open's mode).
 */
static int pt_setupmapping(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			   uint64_t foffset, uint64_t len, uint64_t flags, uint64_t moffset)
{
	const uint64_t rw = FB_SETUPMAPPING_FLAG_READ | FB_SETUPMAPPING_FLAG_WRITE;
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h;
	int acc, r;

	if (len == 0 || !(flags & rw) || (flags & ~rw) || foffset > INT64_MAX ||
	    len > INT64_MAX - foffset || moffset + len < moffset)
		return -EINVAL;
	h = handle_of(pt, fh);
	if (!h)
		return -EBADF;
	if (h->is_dir || h->inode->id != ino) {
		r = -EBADF;
		goto out_put;
	}
	acc = fcntl(h->fd, F_GETFL);
	if (acc < 0) {
		r = -errno;
		goto out_put;
	}
	acc &= O_ACCMODE;
	if (((flags & FB_SETUPMAPPING_FLAG_WRITE) && acc == O_RDONLY) ||
	    ((flags & FB_SETUPMAPPING_FLAG_READ) && acc == O_WRONLY)) {
		r = -EACCES;
		goto out_put;
	}
	r = fb_ctx_dax_map(ctx, h->fd, foffset, moffset, len, flags);
out_put:
	fb__pt_handle_put(pt, h);
	return r;
}

/* virtio-fs DAX: unmap each range of the window. */
static int pt_removemapping(void *fs, const struct fb_ctx *ctx, const struct fb_mapping *ranges,
			    uint32_t count)
{
	(void)fs;
	for (uint32_t i = 0; i < count; i++) {
		int r = fb_ctx_dax_unmap(ctx, ranges[i].moffset, ranges[i].len);

		if (r < 0)
			return r;
	}
	return 0;
}

const struct fb_fs_ops fb_passthrough_ops = {
	.init = fb__pt_init,
	.destroy = fb__pt_destroy,
	.lookup = pt_lookup,
	.forget = pt_forget,
	.getattr = pt_getattr,
	.setattr = pt_setattr,
	.readlink = pt_readlink,
	.symlink = pt_symlink,
	.mknod = pt_mknod,
	.mkdir = pt_mkdir,
	.unlink = pt_unlink,
	.rmdir = pt_rmdir,
	.rename = pt_rename,
	.link = pt_link,
	.open = pt_open,
	.create = pt_create,
	.read = pt_read,
	.write = pt_write,
	.flush = pt_flush,
	.release = pt_release,
	.fsync = pt_fsync,
	.opendir = pt_opendir,
	.readdir = pt_readdir,
	.readdirplus = pt_readdirplus,
	.releasedir = pt_releasedir,
	.fsyncdir = pt_fsyncdir,
	.statfs = pt_statfs,
	.setxattr = pt_setxattr,
	.getxattr = pt_getxattr,
	.listxattr = pt_listxattr,
	.removexattr = pt_removexattr,
	.access = pt_access,
	.getlk = pt_getlk,
	.setlk = pt_setlk,
	.flock = pt_flock,
	.ioctl = pt_ioctl,
	.fallocate = pt_fallocate,
	.lseek = pt_lseek,
	.copy_file_range = pt_copy_file_range,
	.tmpfile = pt_tmpfile,
	.statx = pt_statx,
	.syncfs = pt_syncfs,
	.setupmapping = pt_setupmapping,
	.removemapping = pt_removemapping,
};
