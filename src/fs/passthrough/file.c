/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Passthrough operations on open files: open, create, tmpfile, read, write, flush, release,
 * fsync, fallocate, lseek, copy_file_range, FUSE passthrough backing files and DAX mappings.
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

/*
 * The kernel's mark of an exec open (execve, uselib: __FMODE_EXEC in include/linux/fs.h, the
 * same value on every architecture, never an O_ flag) in the flags of FUSE OPEN.
 */
#define PT_FMODE_EXEC 0x20

/* Host open flags for an open request with @flags. */
static int host_flags(struct fb_passthrough *pt, int flags)
{
	flags &= ~(O_DIRECT | O_NOFOLLOW | O_CREAT | O_EXCL | O_NOCTTY | PT_FMODE_EXEC);
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
	if (fb__pt_fd_statx(bfd, &sx) < 0 || sx.stx_ino != in->ino ||
	    makedev(sx.stx_dev_major, sx.stx_dev_minor) != in->dev) {
		fb__pt_sys.close(bfd);
		return -1;
	}
	return bfd;
}

/*
 * Whether the host file open as @fd can be opened with O_DIRECT (its file system does direct
 * I/O), tried by setting the flag on @fd and taking it off again. An O_DIRECT open is a
 * passthrough open like every other then: the kernel opens its backing file with the FUSE
 * file's flags, O_DIRECT included, and fails (EIO) an open without one while the inode has a
 * passthrough open, whichever came first. Where the host has no direct I/O the backing open
 * would fail; such opens stay FOPEN_DIRECT_IO opens served by the daemon.
 */
static int host_direct_ok(int fd)
{
	int fl = fb__pt_sys.fcntl_int(fd, F_GETFL, 0);

	if (fl < 0 || fb__pt_sys.fcntl_int(fd, F_SETFL, fl | O_DIRECT) < 0)
		return 0;
	fb__pt_sys.fcntl_int(fd, F_SETFL, fl);
	return 1;
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
		    (!(flags & O_DIRECT) || host_direct_ok(fd))) {
			int id, bfd = backing_noatime_fd(pt, in, fd);
			r = backing_get(pt, ctx, in, bfd >= 0 ? bfd : fd, &id);
			if (bfd >= 0)
				fb__pt_sys.close(bfd);
			if (r == 0) {
				h->backing = 1;
				fi->open_flags |= FB_FOPEN_PASSTHROUGH;
				fi->open_flags &= ~(FB_FOPEN_KEEP_CACHE | FB_FOPEN_DIRECT_IO |
						    FB_FOPEN_PARALLEL_DIRECT_WRITES);
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
	if (fb__pt_kill_suidgid(pfd, pt) > 0)
		fb__pt_mode_changed(ctx, ino);
}

/*
 * An exec open (execve of a file on the mount) needs execute permission, not read
 * permission: a 0711 program runs for anyone. So the caller's right is checked here, with the
 * caller's credentials in force (faccessat X_OK of the inode open as @pfd; 0 or -errno), and
 * the host file is then opened for reading as the daemon: the kernel reads the program
 * through it, as it reads a native program regardless of the caller's read permission.
 */
static int exec_check(struct fb_passthrough *pt, int pfd)
{
	char name[16];

	snprintf(name, sizeof(name), "%d", pfd);
	return fb__pt_sys.faccessat(pt->proc_fd, name, X_OK, AT_EACCESS) < 0 ? -errno : 0;
}

int fb__pt_open_common(struct fb_passthrough *pt, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		       int is_dir, struct fb_file_info *fi)
{
	struct fb__pt_creds cr;
	struct pt_ifd f;
	int r, fd, exec;

	r = fb__pt_ifd_get(pt, ino, &f);
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
	exec = !is_dir && (flags & PT_FMODE_EXEC);
	r = fb__pt_creds_enter(pt, ctx, &cr);
	if (r < 0)
		goto out_put;
	if (is_dir)
		fd = fb__pt_reopen_fd(pt, f.fd, O_RDONLY | O_DIRECTORY);
	else if (exec)
		fd = exec_check(pt, f.fd);
	else
		fd = fb__pt_reopen_fd(pt, f.fd, host_flags(pt, flags));
	fb__pt_creds_leave(pt, &cr);
	if (exec && fd == 0)
		fd = fb__pt_reopen_fd(pt, f.fd, (host_flags(pt, flags) & ~O_ACCMODE) | O_RDONLY);
	if (fd < 0) {
		r = fd;
		goto out_put;
	}
	fb__pt_noatime_fd(pt, fd);
	r = handle_new(pt, ctx, f.in, fd, is_dir, flags, fi);
	if (r == 0 && (fi->open_flags & FB_FOPEN_PASSTHROUGH))
		passthrough_kill_suidgid(pt, ctx, ino, f.fd, flags);
	fb__pt_fd_put(f.fd, f.owned);
	return r;
out_put:
	fb__pt_ifd_put(pt, &f);
	return r;
}

int fb__pt_open(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		struct fb_file_info *fi)
{
	struct fb_passthrough *pt = PT(fs);

	if (pt->no_open)
		return -ENOSYS;
	return fb__pt_open_common(pt, ctx, ino, flags, 0, fi);
}

/* Finish create/tmpfile: enter the inode of @fd and make the handle. */
static int created(struct fb_passthrough *pt, const struct fb_ctx *ctx, struct pt_ifd *p, int fd,
		   int flags, struct fb_entry *out, struct fb_file_info *fi)
{
	struct fb__pt_inode *in;
	int r = fb__pt_enter_fd(pt, p->in, fd, out);

	if (r < 0) {
		fb__pt_sys.close(fd);
		return r;
	}
	in = fb__pt_inode_get(pt, out->ino);
	if (!in) {
		fb__pt_sys.close(fd);
		return -ESTALE;
	}
	fb__pt_noatime_fd(pt, fd);
	r = handle_new(pt, ctx, in, fd, 0, flags, fi);
	if (r == 0)
		return 0;
	fb__pt_inode_forget(pt, out->ino, 1);
	return r;
}

int fb__pt_create(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		  mode_t mode, int flags, struct fb_entry *out, struct fb_file_info *fi)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_creds cr;
	struct pt_ifd p;
	int r, fd;

	r = fb__pt_name_check(name);
	if (r < 0)
		return r;
	r = fb__pt_ifd_get(pt, parent, &p);
	if (r < 0)
		return r;
	mode = fb__pt_create_mode(pt, ctx, p.fd, mode & 07777);
	r = fb__pt_creds_enter(pt, ctx, &cr);
	if (r < 0)
		goto out_put;
	fd = fb__pt_sys.openat(
		p.fd, name,
		host_flags(pt, flags) | (flags & O_EXCL) | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		r = -errno;
	fb__pt_creds_leave(pt, &cr);
	if (fd >= 0)
		r = created(pt, ctx, &p, fd, flags, out, fi);
out_put:
	fb__pt_ifd_put(pt, &p);
	return r;
}

int fb__pt_tmpfile(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, mode_t mode, int flags,
		   struct fb_entry *out, struct fb_file_info *fi)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_creds cr;
	struct pt_ifd p;
	int r, fd, hf;

	r = fb__pt_ifd_get(pt, parent, &p);
	if (r < 0)
		return r;
	hf = host_flags(pt, flags) & ~O_TMPFILE;
	if ((hf & O_ACCMODE) == O_RDONLY)
		hf = (hf & ~O_ACCMODE) | O_RDWR;
	mode = fb__pt_create_mode(pt, ctx, p.fd, mode & 07777);
	r = fb__pt_creds_enter(pt, ctx, &cr);
	if (r < 0)
		goto out_put;
	/* "." of the parent's descriptor: the parent itself, no name resolution. */
	fd = fb__pt_sys.openat(p.fd, ".", hf | O_TMPFILE | O_CLOEXEC, mode);
	if (fd < 0)
		r = -errno;
	fb__pt_creds_leave(pt, &cr);
	if (fd >= 0)
		r = created(pt, ctx, &p, fd, flags, out, fi);
out_put:
	fb__pt_ifd_put(pt, &p);
	return r;
}

/*
 * The descriptor for I/O on @fh. Without a handle (no_open negotiated) the inode is opened
 * for this request only (*tmp set: close it afterwards).
 */
static int io_fd(struct fb_passthrough *pt, fb_ino_t ino, uint64_t fh, int acc,
		 struct fb__pt_handle **hp, int *tmp)
{
	struct fb__pt_handle *h = fb__pt_handle_of(pt, fh);

	*hp = h;
	*tmp = 0;
	if (h)
		return h->fd;
	if (!pt->no_open)
		return -EBADF;
	struct pt_ifd f;
	int r = fb__pt_ifd_get(pt, ino, &f);
	if (r < 0)
		return r;
	r = S_ISREG(f.in->mode) ? fb__pt_reopen_fd(pt, f.fd, acc) : -EBADF;
	fb__pt_ifd_put(pt, &f);
	fb__pt_noatime_fd(pt, r);
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

int fb__pt_read(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, struct fb_writer *w,
		uint32_t size, uint64_t off, int flags)
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

int fb__pt_write(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, struct fb_reader *r,
		 uint32_t size, uint64_t off, uint32_t write_flags, int flags)
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
		int kr = fb__pt_kill_suidgid(fd, pt);
		if (kr < 0) {
			io_put(pt, h, fd, tmp);
			return kr;
		}
		if (kr > 0)
			fb__pt_mode_changed(ctx, ino);
	}
	n = fb_reader_to_fd(r, fd, size, (off_t)off);
	io_put(pt, h, fd, tmp);
	return (int)n;
}

int fb__pt_flush(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t lock_owner)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h = fb__pt_handle_of(pt, fh);
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

int fb__pt_release_common(struct fb_passthrough *pt, const struct fb_ctx *ctx, uint64_t fh)
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

int fb__pt_release(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int flags,
		   uint32_t release_flags, uint64_t lock_owner)
{
	return fb__pt_release_common(PT(fs), ctx, fh);
}

int fb__pt_fsync(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int datasync)
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

int fb__pt_fallocate(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, int mode,
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
	if (r == 0 && pt->killpriv_v2 && ctx && ctx->uid != 0 && fb__pt_kill_suidgid(fd, pt) > 0)
		fb__pt_mode_changed(ctx, ino);
	io_put(pt, h, fd, tmp);
	return r;
}

int fb__pt_lseek(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t off,
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

int fb__pt_copy_file_range(void *fs, const struct fb_ctx *ctx, fb_ino_t ino_in, uint64_t fh_in,
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

/*
 * virtio-fs DAX: the VMM maps [@foffset, +@len) of the open file @fh at @moffset of the guest's
 * cache window. The handle's own descriptor is what it maps, so it must be open for what the
 * guest asks (a writable mapping of a file opened read-only would bypass the open's mode).
 */
int fb__pt_setupmapping(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			uint64_t foffset, uint64_t len, uint64_t flags, uint64_t moffset)
{
	const uint64_t rw = FB_SETUPMAPPING_FLAG_READ | FB_SETUPMAPPING_FLAG_WRITE;
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h;
	int acc, r;

	if (len == 0 || !(flags & rw) || (flags & ~rw) || foffset > INT64_MAX ||
	    len > INT64_MAX - foffset || moffset + len < moffset)
		return -EINVAL;
	h = fb__pt_handle_of(pt, fh);
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
int fb__pt_removemapping(void *fs, const struct fb_ctx *ctx, const struct fb_mapping *ranges,
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
