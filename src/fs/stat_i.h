/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * struct stat <-> struct statx, for the file systems (memfs, passthrough, the VFS): one copy of
 * the field mapping. The server's encoding of either into the kernel's structures is in
 * src/api/reply.c.
 */
#ifndef FB_FS_STAT_I_H
#define FB_FS_STAT_I_H

#include <sys/stat.h>

/*
 * Fill @sx from @st: the basic fields (stx_mask = STATX_BASIC_STATS), device numbers split;
 * everything else (btime, attributes, mount id) zero.
 */
void fb__statx_from_stat(const struct stat *st, struct statx *sx);

/* Fill @st from the basic fields of @sx; the rest of @st is zero. */
void fb__stat_from_statx(const struct statx *sx, struct stat *st);

#endif /* FB_FS_STAT_I_H */
