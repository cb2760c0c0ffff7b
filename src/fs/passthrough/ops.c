/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The passthrough operations: the table, entries and attributes (lookup, forget, getattr,
 * setattr, access, statfs, statx, syncfs) and the helpers the other operation files share.
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

#include "fs/stat_i.h"
#include "passthrough_i.h"

#define PT_STATX_MASK (STATX_BASIC_STATS | STATX_MNT_ID)

void fb__pt_statx_to_stat(const struct fb_passthrough *pt, const struct statx *sx, struct stat *st)
{
	fb__stat_from_statx(sx, st);
	if (pt->idmapped) {
		st->st_uid = fb__pt_idmap_to_guest(&pt->uids, st->st_uid);
		st->st_gid = fb__pt_idmap_to_guest(&pt->gids, st->st_gid);
	}
}

int fb__pt_fd_statx(int fd, struct statx *sx)
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
int fb__pt_name_check(const char *name)
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
int fb__pt_reopen_fd(struct fb_passthrough *pt, int pfd, int flags)
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
void fb__pt_noatime_fd(struct fb_passthrough *pt, int fd)
{
	int fl;

	if (!pt->cfg.noatime || fd < 0)
		return;
	fl = fb__pt_sys.fcntl_int(fd, F_GETFL, 0);
	if (fl >= 0 && !(fl & O_NOATIME))
		fb__pt_sys.fcntl_int(fd, F_SETFL, fl | O_NOATIME);
}

int fb__pt_ifd_get(struct fb_passthrough *pt, fb_ino_t ino, struct pt_ifd *f)
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

void fb__pt_ifd_put(struct fb_passthrough *pt, struct pt_ifd *f)
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
int fb__pt_lookup_at(struct fb_passthrough *pt, struct fb__pt_inode *parent, int pfd,
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
	r = fb__pt_fd_statx(fd, &sx);
	if (r == 0)
		r = fb__pt_inode_enter(pt, parent, fd, &sx, e);
	if (r == 0)
		entry_fill(pt, parent, &sx, e);
	fb__pt_sys.close(fd);
	return r;
}

/* Enter the inode open as @fd (any kind of descriptor) found below @parent. */
int fb__pt_enter_fd(struct fb_passthrough *pt, struct fb__pt_inode *parent, int fd,
		    struct fb_entry *e)
{
	struct statx sx;
	int r = fb__pt_fd_statx(fd, &sx);

	if (r == 0)
		r = fb__pt_inode_enter(pt, parent, fd, &sx, e);
	if (r == 0)
		entry_fill(pt, parent, &sx, e);
	return r;
}

static int root_entry(struct fb_passthrough *pt, struct fb_entry *e)
{
	struct statx sx;
	int r = fb__pt_fd_statx(pt->root_fd, &sx);

	if (r < 0)
		return r;
	entry_fill(pt, &pt->root, &sx, e);
	e->attr_flags = 0;
	e->ino = FB_ROOT_ID;
	return 0;
}

/*
 * LOOKUP of "." on a node id the kernel forgot: it opens a file handle of the mount (export).
 * The retired inode's host handle finds the file, which gets its node id back; anything else
 * (no such id kept, the file gone, its inode number reused) is stale.
 */
static int lookup_retired(struct fb_passthrough *pt, fb_ino_t id, struct fb_entry *out)
{
	uint64_t dev, ino;
	struct statx sx;
	int fd, r;

	fd = fb__pt_retired_open(pt, id, &dev, &ino);
	if (fd < 0)
		return fd;
	r = fb__pt_fd_statx(fd, &sx);
	if (r == 0 && (sx.stx_ino != ino || makedev(sx.stx_dev_major, sx.stx_dev_minor) != dev ||
		       (!S_ISDIR(sx.stx_mode) && sx.stx_nlink == 0)))
		r = -ESTALE;
	if (r == 0)
		r = fb__pt_enter_fd(pt, &pt->root, fd, out);
	fb__pt_sys.close(fd);
	if (r == 0 && out->ino != id) {
		/* entered under another id (a race with a lookup by name): not this handle's */
		fb__pt_inode_forget(pt, out->ino, 1);
		r = -ESTALE;
	}
	return r;
}

/*
 * LOOKUP of ".." on a directory (export: the kernel reconnects a directory's file handle to
 * the tree). The root's parent is the root, so nothing above the source is ever entered.
 */
static int lookup_dotdot(struct fb_passthrough *pt, struct pt_ifd *p, struct fb_entry *out)
{
	struct statx sx, rsx;
	int fd, r;

	if (!S_ISDIR(p->in->mode))
		return -ENOTDIR;
	fd = fb__pt_sys.openat(p->fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = fb__pt_fd_statx(fd, &sx);
	if (r == 0)
		r = fb__pt_fd_statx(pt->root_fd, &rsx);
	if (r == 0 && sx.stx_ino == rsx.stx_ino && sx.stx_dev_major == rsx.stx_dev_major &&
	    sx.stx_dev_minor == rsx.stx_dev_minor)
		r = root_entry(pt, out);
	else if (r == 0)
		r = fb__pt_enter_fd(pt, p->in, fd, out);
	fb__pt_sys.close(fd);
	return r;
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

	r = fb__pt_ifd_get(pt, parent, &p);
	if (r == -ESTALE && pt->export && strcmp(name, ".") == 0)
		return lookup_retired(pt, parent, out);
	if (r < 0)
		return r;
	if (strcmp(name, ".") == 0) {
		r = fb__pt_enter_fd(pt, p.in, p.fd, out);
		goto out_put;
	}
	if (strcmp(name, "..") == 0) {
		r = lookup_dotdot(pt, &p, out);
		goto out_put;
	}
	r = fb__pt_creds_enter(pt, ctx, &cr);
	if (r < 0)
		goto out_put;
	r = fb__pt_lookup_at(pt, p.in, p.fd, name, out);
	fb__pt_creds_leave(pt, &cr);
	if (r == -ENOENT && pt->entry_timeout > 0) {
		/* A negative entry: the kernel may remember the name is absent as long as it
		 * would remember a positive one (creates through the mount update it). */
		memset(out, 0, sizeof(*out));
		out->entry_timeout = pt->entry_timeout;
		r = 0;
	}
out_put:
	fb__pt_ifd_put(pt, &p);
	return r;
}

static void pt_forget(void *fs, fb_ino_t ino, uint64_t nlookup)
{
	fb__pt_inode_forget(PT(fs), ino, nlookup);
}

/* The descriptor of open file @fh (a ref is taken), or NULL. */
struct fb__pt_handle *fb__pt_handle_of(struct fb_passthrough *pt, uint64_t fh)
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
		struct fb__pt_handle *h = fb__pt_handle_of(pt, fi->fh);
		if (h) {
			r = fb__pt_fd_statx(h->fd, &sx);
			fb__pt_handle_put(pt, h);
			goto done;
		}
	}
	struct pt_ifd f;
	r = fb__pt_ifd_get(pt, ino, &f);
	if (r < 0)
		return r;
	r = fb__pt_fd_statx(f.fd, &sx);
	fb__pt_ifd_put(pt, &f);
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
int fb__pt_kill_suidgid(int pfd, struct fb_passthrough *pt)
{
	struct statx sx;
	char name[16];
	int r = fb__pt_fd_statx(pfd, &sx);

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
void fb__pt_mode_changed(const struct fb_ctx *ctx, fb_ino_t ino)
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

	if (fb__pt_fd_statx(fd, &sx) < 0 || !S_ISREG(sx.stx_mode))
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

	r = fb__pt_ifd_get(pt, ino, &f);
	if (r < 0)
		return r;
	if (fi && (valid & FB_FATTR_FH))
		h = fb__pt_handle_of(pt, fi->fh);
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
			int wfd = fb__pt_reopen_fd(pt, f.fd, O_WRONLY);
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
		r = fb__pt_kill_suidgid(f.fd, pt);
	if (r > 0)
		r = 0; /* the reply carries the new mode */
	if (r == 0) {
		struct statx sx;
		r = fb__pt_fd_statx(h && !h->is_dir ? h->fd : f.fd, &sx);
		if (r == 0) {
			fb__pt_statx_to_stat(pt, &sx, out);
			*timeout = timeout_for(pt, sx.stx_mode);
		}
	}
out_put:
	fb__pt_handle_put(pt, h);
	fb__pt_ifd_put(pt, &f);
	return r;
}

static int pt_statfs(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, struct statvfs *out)
{
	struct fb_passthrough *pt = PT(fs);
	struct pt_ifd f;
	int r = fb__pt_ifd_get(pt, ino, &f);

	if (r < 0)
		return r;
	r = fb__pt_sys.fstatvfs(f.fd, out) < 0 ? -errno : 0;
	fb__pt_ifd_put(pt, &f);
	return r;
}

int fb__pt_access(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint32_t mask)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_creds cr;
	struct pt_ifd f;
	char name[16];
	int r = fb__pt_ifd_get(pt, ino, &f);

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
	fb__pt_ifd_put(pt, &f);
	return r;
}

static int pt_statx(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const struct fb_file_info *fi,
		    uint32_t sx_flags, uint32_t mask, struct statx *out, double *timeout)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h = fi ? fb__pt_handle_of(pt, fi->fh) : NULL;
	struct pt_ifd f = {NULL, -1, 0};
	int fd, r;

	if (h) {
		fd = h->fd;
	} else {
		r = fb__pt_ifd_get(pt, ino, &f);
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
		fb__pt_ifd_put(pt, &f);
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
	int r = fb__pt_ifd_get(pt, ino, &f), fd;

	if (r < 0)
		return r;
	if (S_ISDIR(f.in->mode) || S_ISREG(f.in->mode))
		fd = fb__pt_reopen_fd(pt, f.fd, O_RDONLY);
	else
		fd = fb__pt_reopen_fd(pt, pt->root_fd, O_RDONLY);
	fb__pt_ifd_put(pt, &f);
	if (fd < 0)
		return fd;
	r = fb__pt_sys.syncfs(fd) < 0 ? -errno : 0;
	fb__pt_sys.close(fd);
	return r;
}

const struct fb_fs_ops fb_passthrough_ops = {
	.init = fb__pt_init,
	.destroy = fb__pt_destroy,
	.lookup = pt_lookup,
	.forget = pt_forget,
	.getattr = pt_getattr,
	.setattr = pt_setattr,
	.readlink = fb__pt_readlink,
	.symlink = fb__pt_symlink,
	.mknod = fb__pt_mknod,
	.mkdir = fb__pt_mkdir,
	.unlink = fb__pt_unlink,
	.rmdir = fb__pt_rmdir,
	.rename = fb__pt_rename,
	.link = fb__pt_link,
	.open = fb__pt_open,
	.create = fb__pt_create,
	.read = fb__pt_read,
	.write = fb__pt_write,
	.flush = fb__pt_flush,
	.release = fb__pt_release,
	.fsync = fb__pt_fsync,
	.opendir = fb__pt_opendir,
	.readdir = fb__pt_readdir,
	.readdirplus = fb__pt_readdirplus,
	.releasedir = fb__pt_releasedir,
	.fsyncdir = fb__pt_fsyncdir,
	.statfs = pt_statfs,
	.setxattr = fb__pt_setxattr,
	.getxattr = fb__pt_getxattr,
	.listxattr = fb__pt_listxattr,
	.removexattr = fb__pt_removexattr,
	.access = fb__pt_access,
	.getlk = fb__pt_getlk,
	.setlk = fb__pt_setlk,
	.flock = fb__pt_flock,
	.ioctl = fb__pt_ioctl,
	.fallocate = fb__pt_fallocate,
	.lseek = fb__pt_lseek,
	.copy_file_range = fb__pt_copy_file_range,
	.tmpfile = fb__pt_tmpfile,
	.statx = pt_statx,
	.syncfs = pt_syncfs,
	.setupmapping = fb__pt_setupmapping,
	.removemapping = fb__pt_removemapping,
};
