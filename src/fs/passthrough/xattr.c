/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Passthrough extended attributes, run as the caller.
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
 * Run an xattr call on the inode as the caller. Regular files and directories are reopened
 * read-only through proc_fd (as the daemon: the xattr call itself checks the caller's rights)
 * and use the f*xattr calls, so no /proc path is needed (a sandboxed daemon has none in its
 * root); other types, as opening them could block or act, go through their /proc/self/fd
 * entry by path (fb__pt_proc_path()).
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
void fb__pt_proc_path(struct fb_passthrough *pt, int fd, char *path, size_t len)
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
	r = fb__pt_ifd_get(pt, ino, &f);
	if (r < 0)
		return r;
	if (S_ISREG(f.in->mode) || S_ISDIR(f.in->mode)) {
		rfd = fb__pt_reopen_fd(pt, f.fd, O_RDONLY | O_NONBLOCK);
		/* A daemon without root may not read it: the path still works where /proc is. */
		if (rfd < 0 && rfd != -EACCES) {
			r = rfd;
			goto out_put;
		}
	}
	if (rfd < 0)
		fb__pt_proc_path(pt, f.fd, path, sizeof(path));
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
	fb__pt_ifd_put(pt, &f);
	return r;
}

/*
 * Setting or removing an access ACL changes the mode on the host (its group bits are the
 * ACL's mask): tell the kernel, whose cached mode would otherwise stay until the attribute
 * timeout, so that ls and the kernel's own permission checks see the new mode at once.
 */
static void acl_mode_changed(const struct fb_ctx *ctx, fb_ino_t ino, const char *name, int r)
{
	if (r == 0 && strcmp(name, "system.posix_acl_access") == 0)
		fb__pt_mode_changed(ctx, ino);
}

int fb__pt_setxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name,
		    const void *value, size_t size, int flags, uint32_t setxattr_flags)
{
	int r;

	if (size > XATTR_SIZE_MAX)
		return -E2BIG;
	r = xattr_common(PT(fs), ctx, ino, XA_SET, name, (void *)value, size, flags);
	acl_mode_changed(ctx, ino, name, r);
	return r;
}

int fb__pt_getxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name, void *buf,
		    size_t size)
{
	return xattr_common(PT(fs), ctx, ino, XA_GET, name, buf, size, 0);
}

int fb__pt_listxattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, char *buf, size_t size)
{
	return xattr_common(PT(fs), ctx, ino, XA_LIST, NULL, buf, size, 0);
}

/*
 * The kernel drops a file's capabilities before it is modified (fallocate, truncate, write:
 * security_inode_killpriv()) by sending REMOVEXATTR "security.capability" with the writer's
 * credentials, which the host refuses (EPERM) to anyone without CAP_SETFCAP; the operation
 * then fails. The host kernel drops them for any writer, so a caller who may write the file is
 * allowed to remove them: that takes privilege away, as their next write would.
 */
int fb__pt_removexattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const char *name)
{
	int r = xattr_common(PT(fs), ctx, ino, XA_REMOVE, name, NULL, 0, 0);

	if (r == -EPERM && ctx && strcmp(name, "security.capability") == 0 &&
	    fb__pt_access(fs, ctx, ino, W_OK) == 0)
		r = xattr_common(PT(fs), NULL, ino, XA_REMOVE, name, NULL, 0, 0);
	acl_mode_changed(ctx, ino, name, r);
	return r;
}
