/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Names of opcodes and notify codes for log messages. Tables indexed by value; holes (opcode 7,
 * 19) and values past the end read as "UNKNOWN". CUSE_INIT sits far outside the table, so it is
 * matched on its own rather than growing the table to 4 KiB of pointers.
 */
#include <stddef.h>

#include "fuse_backend/abi.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const opcode_names[] = {
	[FB_LOOKUP] = "LOOKUP",
	[FB_FORGET] = "FORGET",
	[FB_GETATTR] = "GETATTR",
	[FB_SETATTR] = "SETATTR",
	[FB_READLINK] = "READLINK",
	[FB_SYMLINK] = "SYMLINK",
	[FB_MKNOD] = "MKNOD",
	[FB_MKDIR] = "MKDIR",
	[FB_UNLINK] = "UNLINK",
	[FB_RMDIR] = "RMDIR",
	[FB_RENAME] = "RENAME",
	[FB_LINK] = "LINK",
	[FB_OPEN] = "OPEN",
	[FB_READ] = "READ",
	[FB_WRITE] = "WRITE",
	[FB_STATFS] = "STATFS",
	[FB_RELEASE] = "RELEASE",
	[FB_FSYNC] = "FSYNC",
	[FB_SETXATTR] = "SETXATTR",
	[FB_GETXATTR] = "GETXATTR",
	[FB_LISTXATTR] = "LISTXATTR",
	[FB_REMOVEXATTR] = "REMOVEXATTR",
	[FB_FLUSH] = "FLUSH",
	[FB_INIT] = "INIT",
	[FB_OPENDIR] = "OPENDIR",
	[FB_READDIR] = "READDIR",
	[FB_RELEASEDIR] = "RELEASEDIR",
	[FB_FSYNCDIR] = "FSYNCDIR",
	[FB_GETLK] = "GETLK",
	[FB_SETLK] = "SETLK",
	[FB_SETLKW] = "SETLKW",
	[FB_ACCESS] = "ACCESS",
	[FB_CREATE] = "CREATE",
	[FB_INTERRUPT] = "INTERRUPT",
	[FB_BMAP] = "BMAP",
	[FB_DESTROY] = "DESTROY",
	[FB_IOCTL] = "IOCTL",
	[FB_POLL] = "POLL",
	[FB_NOTIFY_REPLY] = "NOTIFY_REPLY",
	[FB_BATCH_FORGET] = "BATCH_FORGET",
	[FB_FALLOCATE] = "FALLOCATE",
	[FB_READDIRPLUS] = "READDIRPLUS",
	[FB_RENAME2] = "RENAME2",
	[FB_LSEEK] = "LSEEK",
	[FB_COPY_FILE_RANGE] = "COPY_FILE_RANGE",
	[FB_SETUPMAPPING] = "SETUPMAPPING",
	[FB_REMOVEMAPPING] = "REMOVEMAPPING",
	[FB_SYNCFS] = "SYNCFS",
	[FB_TMPFILE] = "TMPFILE",
	[FB_STATX] = "STATX",
	[FB_COPY_FILE_RANGE_64] = "COPY_FILE_RANGE_64",
};

static const char *const notify_names[] = {
	[FB_NOTIFY_POLL] = "POLL",
	[FB_NOTIFY_INVAL_INODE] = "INVAL_INODE",
	[FB_NOTIFY_INVAL_ENTRY] = "INVAL_ENTRY",
	[FB_NOTIFY_STORE] = "STORE",
	[FB_NOTIFY_RETRIEVE] = "RETRIEVE",
	[FB_NOTIFY_DELETE] = "DELETE",
	[FB_NOTIFY_RESEND] = "RESEND",
	[FB_NOTIFY_INC_EPOCH] = "INC_EPOCH",
	[FB_NOTIFY_PRUNE] = "PRUNE",
};

_Static_assert(ARRAY_SIZE(notify_names) == FB_NOTIFY_CODE_MAX, "a notify code has no name");

const char *fb_opcode_name(uint32_t opcode)
{
	if (opcode < ARRAY_SIZE(opcode_names) && opcode_names[opcode])
		return opcode_names[opcode];
	if (opcode == FB_CUSE_INIT)
		return "CUSE_INIT";
	return "UNKNOWN";
}

const char *fb_notify_name(int32_t code)
{
	if (code >= 0 && (uint32_t)code < ARRAY_SIZE(notify_names) && notify_names[code])
		return notify_names[code];
	return "UNKNOWN";
}
