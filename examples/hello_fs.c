/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * hello_fs: the smallest complete file system over fuse-backend. A read-only root directory
 * holding one file, "hello", that reads "Hello, world!\n".
 *
 *   hello_fs [-d] [-o opt,...] MOUNTPOINT    (-d: log every request and reply to stderr;
 *                                            --help lists the rest)
 *
 * It stays in the foreground and serves until SIGINT, SIGTERM or SIGHUP (it unmounts, exit 0)
 * or until the mount is removed from outside (`umount MOUNTPOINT`, exit 0). fb_main() does
 * the command line, the signals, the mount and the loop (fuse_backend/main.h).
 *
 * Build it after `meson install`:  cc hello_fs.c $(pkg-config --cflags --libs fuse-backend)
 * docs/guide.md explains each piece. Operations get more parameters than a small file system
 * needs; fuse-backend builds with -Wno-unused-parameter rather than casting each to void.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fuse_backend/abi.h>	 /* FB_FOPEN_* */
#include <fuse_backend/main.h>	 /* fb_main() */
#include <fuse_backend/server.h> /* struct fb_fs_ops (fs.h) */

#define HELLO_INO 2 /* node id of "hello"; 1 (FB_FS_ROOT_INO) is the root */

static const char hello_text[] = "Hello, world!\n";

/* The file system's private data: handed to fb_server_new(), passed back as `fs`. */
struct hello {
	uid_t uid; /* everything belongs to whoever mounted */
	gid_t gid;
	time_t mounted; /* used as every timestamp */
};

/* Attributes of our two inodes; -ENOENT for any other node id. */
static int hello_stat(const struct hello *h, fb_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	if (ino == FB_FS_ROOT_INO) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
	} else if (ino == HELLO_INO) {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = sizeof(hello_text) - 1;
	} else {
		return -ENOENT;
	}
	st->st_ino = ino;
	st->st_uid = h->uid;
	st->st_gid = h->gid;
	st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = h->mounted;
	return 0;
}

static int hello_lookup(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
			struct fb_entry *out)
{
	if (parent != FB_FS_ROOT_INO || strcmp(name, "hello") != 0)
		return -ENOENT;
	out->ino = HELLO_INO;	  /* the kernel now holds one lookup of it */
	out->entry_timeout = 1.0; /* seconds the kernel may cache the name ... */
	out->attr_timeout = 1.0;  /* ... and the attributes */
	return hello_stat(fs, HELLO_INO, &out->attr);
}

/* Our inodes are static: nothing to free when the kernel forgets them. */
static void hello_forget(void *fs, fb_ino_t ino, uint64_t nlookup)
{
}

static int hello_getattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino,
			 const struct fb_file_info *fi, struct stat *out, double *timeout)
{
	*timeout = 1.0;
	return hello_stat(fs, ino, out);
}

static int hello_readdir(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
			 uint64_t off, struct fb_dirbuf *buf)
{
	static const struct {
		const char *name;
		fb_ino_t ino;
		uint32_t type;
	} ents[] = {
		{".", FB_FS_ROOT_INO, DT_DIR},
		{"..", FB_FS_ROOT_INO, DT_DIR},
		{"hello", HELLO_INO, DT_REG},
	};

	if (ino != FB_FS_ROOT_INO)
		return -ENOTDIR;
	/* Entry i is followed by offset i + 1: the kernel hands that back to continue. */
	for (uint64_t i = off; i < sizeof(ents) / sizeof(ents[0]); i++) {
		if (fb_dirbuf_add(buf, ents[i].name, strlen(ents[i].name), ents[i].ino,
				  ents[i].type, i + 1) == -ENOSPC)
			break; /* full: the kernel asks again from here */
	}
	return 0;
}

static int hello_open(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		      struct fb_file_info *fi)
{
	if (ino != HELLO_INO)
		return -EISDIR;
	if ((flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;		      /* read-only: refuse writers at open */
	fi->fh = 0;			      /* no per-open state */
	fi->open_flags = FB_FOPEN_KEEP_CACHE; /* the content never changes */
	return 0;
}

static int hello_read(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		      struct fb_writer *w, uint32_t size, uint64_t off, int flags)
{
	size_t len = sizeof(hello_text) - 1;

	if (ino != HELLO_INO)
		return -EISDIR;
	if (off >= len)
		return 0; /* end of file */
	if (size > len - off)
		size = (uint32_t)(len - off);
	if (fb_writer_write(w, hello_text + off, size) < 0)
		return -EIO;
	return (int)size; /* the bytes put into w */
}

/* For df(1) and statvfs(3); without it they fail with ENOSYS. */
static int hello_statfs(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, struct statvfs *out)
{
	out->f_bsize = out->f_frsize = 4096;
	out->f_blocks = 1;
	out->f_files = 2;
	out->f_namemax = 255;
	return 0;
}

/* Entries left out (NULL) answer ENOSYS: no write, mkdir, unlink ... */
static const struct fb_fs_ops hello_ops = {
	.lookup = hello_lookup,
	.forget = hello_forget,
	.getattr = hello_getattr,
	.readdir = hello_readdir,
	.open = hello_open,
	.read = hello_read,
	.statfs = hello_statfs,
};

/* What --help and the error messages say; fb_main() reads the command line from it. */
static const struct fb_main_info hello_info = {
	.name = "hello_fs",
	.summary = "Serve a read-only directory holding one file, hello.",
	.args = {"MOUNTPOINT"},
	.nargs = 1,
	.foreground = 1, /* an example: stay attached to the terminal (no -f needed) */
	.fsname = "hello_fs",
	.subtype = "hello",
};

int main(int argc, char **argv)
{
	struct hello h = {.uid = getuid(), .gid = getgid(), .mounted = time(NULL)};

	/* Parse -d/-o/..., mount, serve until a signal or an unmount, clean up. */
	return fb_main(&hello_info, argc, argv, &hello_ops, sizeof(hello_ops), &h);
}
