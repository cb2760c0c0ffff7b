/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The host system-call table. Variadic libc calls get a fixed-argument wrapper so every entry
 * has a plain prototype a test can replace.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "passthrough_i.h"

static int sys_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	return openat(dirfd, path, flags, mode);
}

static int sys_openat2(int dirfd, const char *path, struct open_how *how, size_t size)
{
	return (int)syscall(SYS_openat2, dirfd, path, how, size);
}

static int sys_fcntl_lock(int fd, int cmd, struct flock *fl)
{
	return fcntl(fd, cmd, fl);
}

static int sys_fcntl_int(int fd, int cmd, int arg)
{
	return fcntl(fd, cmd, arg);
}

static int sys_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg);
}

static ssize_t sys_getdents64(int fd, void *buf, size_t size)
{
	return getdents64(fd, buf, size);
}

/* The real calls; a macro so both tables below start from it (C needs a constant). */
#define PT_SYS_DEFAULT { \
	.openat = sys_openat, \
	.open_by_handle_at = open_by_handle_at, \
	.name_to_handle_at = name_to_handle_at, \
	.close = close, \
	.statx = statx, \
	.readlinkat = readlinkat, \
	.mkdirat = mkdirat, \
	.mknodat = mknodat, \
	.symlinkat = symlinkat, \
	.unlinkat = unlinkat, \
	.renameat2 = renameat2, \
	.linkat = linkat, \
	.fchmodat = fchmodat, \
	.fchmod = fchmod, \
	.fchownat = fchownat, \
	.ftruncate = ftruncate, \
	.utimensat = utimensat, \
	.fallocate = fallocate, \
	.lseek = lseek, \
	.fsync = fsync, \
	.fdatasync = fdatasync, \
	.syncfs = syncfs, \
	.getxattr = getxattr, \
	.setxattr = setxattr, \
	.listxattr = listxattr, \
	.removexattr = removexattr, \
	.copy_file_range = copy_file_range, \
	.fcntl_lock = sys_fcntl_lock, \
	.fcntl_int = sys_fcntl_int, \
	.openat2 = sys_openat2, \
	.flock = flock, \
	.fstatvfs = fstatvfs, \
	.ioctl = sys_ioctl, \
	.getdents64 = sys_getdents64, \
	.faccessat = faccessat, \
	.dup = dup, \
	.fgetxattr = fgetxattr, \
	.fsetxattr = fsetxattr, \
	.flistxattr = flistxattr, \
	.fremovexattr = fremovexattr, \
}

static const struct fb__pt_syscalls pt_sys_default = PT_SYS_DEFAULT;

struct fb__pt_syscalls fb__pt_sys = PT_SYS_DEFAULT;

void fb__pt_syscalls_reset(void)
{
	fb__pt_sys = pt_sys_default;
}
