/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Passthrough POSIX record locks and flock(), held on the host file.
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

int fb__pt_getlk(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		 struct fb_lock *lk)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h = fb__pt_handle_of(pt, fh);
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

int fb__pt_setlk(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		 const struct fb_lock *lk, int sleep)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h = fb__pt_handle_of(pt, fh);
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

int fb__pt_flock(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh, uint64_t owner,
		 int op)
{
	struct fb_passthrough *pt = PT(fs);
	struct fb__pt_handle *h = fb__pt_handle_of(pt, fh);
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
