/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Passthrough operations on names and directories: mknod, mkdir, symlink, readlink, unlink,
 * rmdir, rename, link, and directory handles with readdir/readdirplus.
 * The containment and credential rules are in ops.c.
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

#define PT_DIRBUF_SIZE 32768

int fb__pt_readlink(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, char *buf, size_t size)
{
	struct fb_passthrough *pt = PT(fs);
	struct pt_ifd f;
	ssize_t n;
	int r = fb__pt_ifd_get(pt, ino, &f);

	if (r < 0)
		return r;
	if (!S_ISLNK(f.in->mode)) {
		fb__pt_ifd_put(pt, &f);
		return -EINVAL;
	}
	n = fb__pt_sys.readlinkat(f.fd, "", buf, size);
	r = n < 0 ? -errno : (int)n;
	fb__pt_ifd_put(pt, &f);
	return r;
}

mode_t fb__pt_create_mode(struct fb_passthrough *pt, const struct fb_ctx *ctx, int pfd, mode_t mode)
{
	mode_t mask = ctx ? ctx->umask & 0777 : 0;
	char path[64];

	if (!(mode & mask))
		return mode;
	if (pt->host_acls) {
		fb__pt_proc_path(pt, pfd, path, sizeof(path));
		if (fb__pt_sys.getxattr(path, "system.posix_acl_default", NULL, 0) > 0)
			return mode;
	}
	return mode & ~mask;
}

/* Common tail of mkdir, mknod, symlink (@mode 0): look the new name up. */
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
	int r = fb__pt_name_check(name);

	if (r < 0)
		return r;
	r = fb__pt_ifd_get(pt, parent, &p);
	if (r < 0)
		return r;
	mode = (mode & S_IFMT) | fb__pt_create_mode(pt, ctx, p.fd, mode & 07777);
	r = fb__pt_creds_enter(pt, ctx, &cr);
	if (r < 0)
		goto out_put;
	if (fn(p.fd, name, arg, mode, rdev) < 0)
		r = -errno;
	else
		r = fb__pt_lookup_at(pt, p.in, p.fd, name, out);
	fb__pt_creds_leave(pt, &cr);
out_put:
	fb__pt_ifd_put(pt, &p);
	return r;
}

int fb__pt_mkdir(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name, mode_t mode,
		 struct fb_entry *out)
{
	return make_common(PT(fs), ctx, parent, name, make_dir, NULL, mode & 07777, 0, out);
}

int fb__pt_mknod(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name, mode_t mode,
		 dev_t rdev, struct fb_entry *out)
{
	mode_t type = mode & S_IFMT;

	if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK && type != S_IFCHR &&
	    type != S_IFBLK && type != 0)
		return -EINVAL;
	return make_common(PT(fs), ctx, parent, name, make_node, NULL, type | (mode & 07777), rdev,
			   out);
}

int fb__pt_symlink(void *fs, const struct fb_ctx *ctx, const char *target, fb_ino_t parent,
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
	int r = fb__pt_name_check(name);

	if (r < 0)
		return r;
	r = fb__pt_ifd_get(pt, parent, &p);
	if (r < 0)
		return r;
	if (!(flags & AT_REMOVEDIR))
		fb__pt_inode_pin(pt, p.fd, name);
	r = fb__pt_creds_enter(pt, ctx, &cr);
	if (r == 0) {
		r = fb__pt_sys.unlinkat(p.fd, name, flags) < 0 ? -errno : 0;
		fb__pt_creds_leave(pt, &cr);
	}
	fb__pt_ifd_put(pt, &p);
	return r;
}

int fb__pt_unlink(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name)
{
	return unlink_common(PT(fs), ctx, parent, name, 0);
}

int fb__pt_rmdir(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name)
{
	return unlink_common(PT(fs), ctx, parent, name, AT_REMOVEDIR);
}

int fb__pt_rename(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		  fb_ino_t newparent, const char *newname, uint32_t flags)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_creds cr;
	struct pt_ifd p, np;
	int r;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return -EINVAL;
	r = fb__pt_name_check(name);
	if (r == 0)
		r = fb__pt_name_check(newname);
	if (r < 0)
		return r;
	r = fb__pt_ifd_get(pt, parent, &p);
	if (r < 0)
		return r;
	r = fb__pt_ifd_get(pt, newparent, &np);
	if (r < 0)
		goto out_put;
	if (!(flags & (RENAME_EXCHANGE | RENAME_NOREPLACE)))
		fb__pt_inode_pin(pt, np.fd, newname);
	r = fb__pt_creds_enter(pt, ctx, &cr);
	if (r == 0) {
		r = fb__pt_sys.renameat2(p.fd, name, np.fd, newname, flags) < 0 ? -errno : 0;
		fb__pt_creds_leave(pt, &cr);
	}
	fb__pt_ifd_put(pt, &np);
out_put:
	fb__pt_ifd_put(pt, &p);
	return r;
}

int fb__pt_link(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, fb_ino_t newparent,
		const char *newname, struct fb_entry *out)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_creds cr;
	struct pt_ifd f, np;
	char name[16];
	int r = fb__pt_name_check(newname);

	if (r < 0)
		return r;
	r = fb__pt_ifd_get(pt, ino, &f);
	if (r < 0)
		return r;
	if (S_ISDIR(f.in->mode)) {
		r = -EPERM;
		goto out_put;
	}
	r = fb__pt_ifd_get(pt, newparent, &np);
	if (r < 0)
		goto out_put;
	snprintf(name, sizeof(name), "%d", f.fd);
	r = fb__pt_creds_enter(pt, ctx, &cr);
	if (r == 0) {
		/* Through the magic link: AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH. */
		if (fb__pt_sys.linkat(pt->proc_fd, name, np.fd, newname, AT_SYMLINK_FOLLOW) < 0)
			r = -errno;
		else
			r = fb__pt_lookup_at(pt, np.in, np.fd, newname, out);
		fb__pt_creds_leave(pt, &cr);
	}
	fb__pt_ifd_put(pt, &np);
out_put:
	fb__pt_ifd_put(pt, &f);
	return r;
}

int fb__pt_opendir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		   struct fb_file_info *fi)
{
	struct fb_passthrough *pt = PT(fs);

	if (pt->no_opendir)
		return -ENOSYS;
	return fb__pt_open_common(pt, ctx, ino, flags, 1, fi);
}

int fb__pt_releasedir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int flags)
{
	struct fb_passthrough *pt = PT(fs);
	int r = fb__pt_release_common(pt, ctx, fh);

	return pt->no_opendir ? 0 : r;
}

int fb__pt_fsyncdir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int datasync)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h = fb__pt_handle_of(pt, fh);
	int r, fd;

	if (h) {
		fd = h->fd;
	} else {
		struct pt_ifd f;
		r = fb__pt_ifd_get(pt, ino, &f);
		if (r < 0)
			return r;
		fd = fb__pt_reopen_fd(pt, f.fd, O_RDONLY | O_DIRECTORY);
		fb__pt_ifd_put(pt, &f);
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
	struct fb__pt_handle *h = fb__pt_handle_of(pt, fh), tmp;
	struct fb__pt_creds cr = {0};
	int r = 0;

	if (!h) {
		/* No opendir (FB_NO_OPENDIR_SUPPORT): a stream for this request only. */
		struct pt_ifd f;
		if (!pt->no_opendir)
			return -EBADF;
		r = fb__pt_ifd_get(pt, ino, &f);
		if (r < 0)
			return r;
		r = fb__pt_creds_enter(pt, ctx, &cr);
		if (r == 0) {
			r = fb__pt_reopen_fd(pt, f.fd, O_RDONLY | O_DIRECTORY);
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
				r = fb__pt_lookup_at(pt, h->inode, h->fd, de->d_name, &e);
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

int fb__pt_readdir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t off,
		   struct fb_dirbuf *buf)
{
	return readdir_common(PT(fs), ctx, ino, fh, off, buf, 0);
}

int fb__pt_readdirplus(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t off,
		       struct fb_dirbuf *buf)
{
	return readdir_common(PT(fs), ctx, ino, fh, off, buf, 1);
}
