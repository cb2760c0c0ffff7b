/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Passthrough ioctls.
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
 * The ioctls passed to the host are those of chattr/lsattr and xfs_io's chattr/lsattr:
 * FS_IOC_GETFLAGS / FS_IOC_SETFLAGS (an int of FS_*_FL flags) and FS_IOC_FSGETXATTR /
 * FS_IOC_FSSETXATTR (a struct fsxattr). Since Linux 5.13 the kernel sends both kinds for one
 * chattr: its fileattr code reads the old attributes with FSGETXATTR before a SETFLAGS.
 * Each argument is fixed-size and copied; nothing the caller sends is a pointer, and no
 * other command reaches the host (a device's or a file system's private ioctls could do
 * anything).
 *
 * Permissions: the host checks them, in the caller's terms, because the ioctl runs under
 * the caller's credentials (creds.c). A caller other than root runs with no capabilities,
 * so only the file's owner may change flags, and only root (CAP_LINUX_IMMUTABLE) may set or
 * clear immutable and append-only; with an id map, under the mapped host ids. The client's
 * kernel checks the same before it sends a SET (vfs_fileattr_set()).
 */
struct pt_ioctl_cmd {
	uint32_t cmd;
	unsigned long host_cmd;
	uint32_t size;		/* of the argument the kernel sends or expects */
	int set;
};

static const struct pt_ioctl_cmd pt_ioctl_cmds[] = {
	{(uint32_t)FS_IOC_GETFLAGS, FS_IOC_GETFLAGS, sizeof(int), 0},
	{(uint32_t)FS_IOC32_GETFLAGS, FS_IOC_GETFLAGS, sizeof(int), 0},
	{(uint32_t)FS_IOC_SETFLAGS, FS_IOC_SETFLAGS, sizeof(int), 1},
	{(uint32_t)FS_IOC32_SETFLAGS, FS_IOC_SETFLAGS, sizeof(int), 1},
	{(uint32_t)FS_IOC_FSGETXATTR, FS_IOC_FSGETXATTR, sizeof(struct fsxattr), 0},
	{(uint32_t)FS_IOC_FSSETXATTR, FS_IOC_FSSETXATTR, sizeof(struct fsxattr), 1},
};

static const struct pt_ioctl_cmd *pt_ioctl_find(uint32_t cmd)
{
	for (size_t i = 0; i < sizeof(pt_ioctl_cmds) / sizeof(pt_ioctl_cmds[0]); i++)
		if (pt_ioctl_cmds[i].cmd == cmd)
			return &pt_ioctl_cmds[i];
	return NULL;
}

/*
 * A readable descriptor of @ino for an ioctl: the open file's, or, when the kernel sent no
 * handle (no_open / no_opendir, where its fileattr code "opens" without an OPEN request), a
 * new one for a regular file or directory. Returns the fd (close it when *@owned) or -errno.
 */
static int pt_ioctl_fd(struct fb_passthrough *pt, fb_ino_t ino, uint64_t fh,
		       struct fb__pt_handle **ret_h, int *owned)
{
	struct pt_ifd f;
	int fd, r;

	*owned = 0;
	*ret_h = fb__pt_handle_of(pt, fh);
	if (*ret_h)
		return (*ret_h)->fd;
	r = fb__pt_ifd_get(pt, ino, &f);
	if (r < 0)
		return r;
	if (S_ISDIR(f.in->mode))
		fd = fb__pt_reopen_fd(pt, f.fd, O_RDONLY | O_DIRECTORY);
	else if (S_ISREG(f.in->mode))
		fd = fb__pt_reopen_fd(pt, f.fd, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	else
		fd = -ENOTTY;
	fb__pt_ifd_put(pt, &f);
	*owned = fd >= 0;
	return fd;
}

int fb__pt_ioctl(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint32_t flags,
		 uint32_t cmd, const void *in, uint32_t in_size, void *out, uint32_t *out_size)
{
	struct fb_passthrough *pt = PT(fs);
	const struct pt_ioctl_cmd *c = pt_ioctl_find(cmd);
	union {
		int flags;
		struct fsxattr fsx;
	} arg;
	struct fb__pt_handle *h;
	struct fb__pt_creds cr;
	int fd, owned, r;

	(void)flags;
	if (!c)
		return -ENOTTY;
	memset(&arg, 0, sizeof(arg));
	if (c->set) {
		if (in_size < c->size)
			return -EINVAL;
		memcpy(&arg, in, c->size);
	} else if (*out_size < c->size) {
		return -EINVAL;
	}
	fd = pt_ioctl_fd(pt, ino, fh, &h, &owned);
	if (fd < 0)
		return fd;
	r = fb__pt_creds_enter(pt, ctx, &cr);
	if (r < 0)
		goto out_put;
	r = fb__pt_sys.ioctl(fd, c->host_cmd, &arg) < 0 ? -errno : 0;
	fb__pt_creds_leave(pt, &cr);
	if (r < 0)
		goto out_put;
	if (c->set) {
		/* The host changed ctime; the kernel would show the cached one until the timeout. */
		*out_size = 0;
		fb__pt_mode_changed(ctx, ino);
	} else if (c->size == sizeof(int) && *out_size >= sizeof(long)) {
		/* FS_IOC_GETFLAGS is declared with a long; the kernel's fileattr code asks an
		 * int, an old 64-bit caller may take the whole long. */
		long lv = arg.flags;

		memcpy(out, &lv, sizeof(lv));
		*out_size = sizeof(lv);
	} else {
		memcpy(out, &arg, c->size);
		*out_size = c->size;
	}
out_put:
	if (h)
		fb__pt_handle_put(pt, h);
	else if (owned)
		fb__pt_sys.close(fd);
	return r;
}
