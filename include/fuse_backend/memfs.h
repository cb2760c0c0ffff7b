/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * memfs: a complete POSIX file system kept in memory.
 *
 * memfs implements struct fb_fs_ops (fs.h) with files (sparse: holes cost nothing), directories,
 * symlinks, hard links, special nodes (fifo, socket, devices), xattrs, rename with
 * RENAME_NOREPLACE / RENAME_EXCHANGE, fallocate, SEEK_DATA / SEEK_HOLE, O_TMPFILE,
 * copy_file_range and statx. It checks permissions itself from the request's context, so it is
 * correct with or without the kernel's default_permissions. It is the backend of the server
 * tests, the fuzzer and the fb-memfs daemon, and the simplest example of the API.
 *
 *	struct fb_memfs *m;
 *	r = fb_memfs_new(NULL, &m);
 *	... fb_server_new(&fb_memfs_ops, sizeof(fb_memfs_ops), m, NULL, &server) ...
 *	fb_memfs_free(m);
 *
 * All operations may be called from several threads at once. Inodes are freed when the kernel
 * has forgotten them, their last name is gone and no handle is open, so memory follows the
 * file system's contents, not the number of requests served.
 */
#ifndef FUSE_BACKEND_MEMFS_H
#define FUSE_BACKEND_MEMFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <fuse_backend/fs.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A memfs instance: the `fs` pointer to pass with fb_memfs_ops. Opaque. */
struct fb_memfs;

/* Settings for fb_memfs_new(). A zero field takes its default. */
struct fb_memfs_config {
	size_t size;	/* sizeof(struct fb_memfs_config) as the caller was built; 0: the
			 * 1.0 layout (see version.h). Larger than the library knows: accepted
			 * when the fields it does not know are zero, else -E2BIG */
	double entry_timeout;	/* seconds the kernel may cache names; default 1.0 */
	double attr_timeout;	/* seconds the kernel may cache attributes; default 1.0 */
	uint64_t max_bytes;	/* file data, symlink targets and xattrs, bytes; default 1 GiB.
				 * Beyond it writes fail with ENOSPC. statfs reports it. */
	uint64_t max_inodes;	/* live inodes, root included; default 1M (ENOSPC beyond) */
	uid_t root_uid;		/* owner of the root directory; default 0 */
	gid_t root_gid;		/* group of the root directory; default 0 */
	mode_t root_mode;	/* permission bits of the root directory; default 0755 */
	uint64_t max_file_size;	/* largest file size (EFBIG beyond); default max_bytes */
};

/*
 * Create an empty file system (only the root directory) with @cfg, or the defaults when @cfg
 * is NULL. Returns 0 and sets *@ret, or -ENOMEM / -EINVAL (a negative timeout).
 */
int fb_memfs_new(const struct fb_memfs_config *cfg, struct fb_memfs **ret);

/*
 * Set one option of @cfg by its name as text, the one parser behind fb-memfs's "-o" options
 * and the VFS's "memfs:OPTIONS" specs: @value is the text after '=' or NULL.
 *   size=BYTES (max_bytes), max_inodes=N, max_file_size=BYTES   a count with an optional
 *       K, M, G or T suffix (powers of 1024)
 *   entry_timeout=SECONDS, attr_timeout=SECONDS                 decimal seconds
 *   root_mode=OCTAL                                             permission bits, <= 07777
 * Returns 0; -ENOENT when @name is not one of these; -EINVAL for a missing or bad value;
 * -ERANGE for 0, which the fields above take as "the default" (so "size=0" cannot silently
 * mean 1 GiB). @cfg is unchanged on failure.
 */
int fb_memfs_opt_set(struct fb_memfs_config *cfg, const char *name, const char *value);

/* The options of fb_memfs_opt_set() for --help: lines "NAME=VALUE\tdescription". Static. */
const char *fb_memfs_opt_help(void);

/* Free @m and everything in it. NULL-safe. No operation may be running. */
void fb_memfs_free(struct fb_memfs *m);

/* The operations table; the `fs` argument of each operation is the struct fb_memfs *. */
extern const struct fb_fs_ops fb_memfs_ops;

/* Live inodes, the root included (1 for an empty file system whose inodes were forgotten). */
uint64_t fb_memfs_inode_count(const struct fb_memfs *m);

/* Bytes accounted against max_bytes: data pages, symlink targets, xattr names and values. */
uint64_t fb_memfs_bytes_used(const struct fb_memfs *m);

/* Open file and directory handles (from open, create, tmpfile, opendir) not yet released. */
uint64_t fb_memfs_handle_count(const struct fb_memfs *m);

#ifdef __cplusplus
}
#endif

#endif /* FUSE_BACKEND_MEMFS_H */
