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
 * Only FS_IOC_GETFLAGS / FS_IOC_SETFLAGS (chattr/lsattr) are passed to the host: their
 * argument is one integer, so nothing the caller sends is interpreted as a pointer.
 */
int fb__pt_ioctl(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint32_t flags,
		 uint32_t cmd, const void *in, uint32_t in_size, void *out, uint32_t *out_size)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h;
	struct fb__pt_creds cr;
	int val = 0, r;

	if (cmd != (uint32_t)FS_IOC_GETFLAGS && cmd != (uint32_t)FS_IOC_SETFLAGS &&
	    cmd != (uint32_t)FS_IOC32_GETFLAGS && cmd != (uint32_t)FS_IOC32_SETFLAGS)
		return -ENOTTY;
	h = fb__pt_handle_of(pt, fh);
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
