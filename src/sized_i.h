/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Public structs that may grow: each starts with `size_t size`, set by the caller to the
 * sizeof() it was compiled with, 0 meaning the 1.0 layout (so a zero-initialised struct with
 * designated initialisers needs nothing more). The library copies a caller's struct into its
 * own layout at the API boundary (fb__sized_in) and reads only its copy. docs/abi.md has the
 * rules for adding a field.
 */
#ifndef FB_SIZED_I_H
#define FB_SIZED_I_H

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* The end of @field in @type: a layout's size without the tail padding. */
#define FB__SIZE_TO(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

/*
 * The 1.0 layouts, what a size of 0 stands for: frozen. A field added later goes after the
 * last one named here, and these lines do not change.
 */
#define FB__SERVER_CONFIG_SIZE_V1 FB__SIZE_TO(struct fb_server_config, debug)
#define FB__MOUNT_OPTS_SIZE_V1 FB__SIZE_TO(struct fb_mount_opts, ms_flags)
#define FB__MEMFS_CONFIG_SIZE_V1 FB__SIZE_TO(struct fb_memfs_config, max_file_size)
#define FB__URING_OPTS_SIZE_V1 FB__SIZE_TO(struct fb_uring_opts, keep_nice)
#define FB__VFS_CONFIG_SIZE_V1 FB__SIZE_TO(struct fb_vfs_config, has_pseudo_timeout)
#define FB__VFS_MOUNT_OPTS_SIZE_V1 FB__SIZE_TO(struct fb_vfs_mount_opts, source)
#define FB__VHOST_USER_CONFIG_SIZE_V1 FB__SIZE_TO(struct fb_vhost_user_config, flags)
#define FB__PASSTHROUGH_CONFIG_SIZE_V1 FB__SIZE_TO(struct fb_passthrough_config, allow_idmap)

/* A caller's struct may be larger than ours (a newer header) up to this many bytes. */
#define FB__SIZED_MAX 4096

/*
 * Copy the caller's struct @src (NULL: none) over @dst, our layout of @dst_size bytes, which
 * the caller of this function has filled with the defaults; set dst's size to @dst_size.
 * @v1_size is the 1.0 layout's size (what src->size 0 means). Fields beyond src->size keep
 * their defaults. Returns 0, -EINVAL when src->size is below the 1.0 layout (no such layout
 * exists), or -E2BIG when it is larger than ours and sets a field we do not know (a non-zero
 * byte past ours: a newer field asked for something this library cannot do; zero bytes are a
 * newer field left at its default and are accepted, as the kernel's openat2 and clone3 do).
 */
static inline int fb__sized_in(void *dst, size_t dst_size, const void *src, size_t v1_size)
{
	const unsigned char *s = src;
	size_t n;

	if (src) {
		memcpy(&n, src, sizeof(n));
		if (n == 0)
			n = v1_size;
		if (n < v1_size)
			return -EINVAL;
		if (n > dst_size) {
			if (n > FB__SIZED_MAX)
				return -E2BIG;
			for (size_t i = dst_size; i < n; i++) {
				if (s[i])
					return -E2BIG;
			}
			n = dst_size;
		}
		memcpy((char *)dst + sizeof(size_t), s + sizeof(size_t), n - sizeof(size_t));
	}
	memcpy(dst, &dst_size, sizeof(dst_size));
	return 0;
}

#endif /* FB_SIZED_I_H */
