/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Option values as text, parsed the same way wherever an option is given: on a daemon's
 * command line (src/main), in a VFS mount spec (src/vfs/control.c), and by the file systems'
 * option setters (fb_passthrough_opt_set(), fb_memfs_opt_set()). One parser per kind of value,
 * so "-o size=1G" and "--mount /a=memfs:size=1G" cannot mean different things.
 */
#ifndef FB_UTIL_PARSE_I_H
#define FB_UTIL_PARSE_I_H

#include <stdint.h>

/*
 * A decimal count up to @max ("0", "4096"): no sign, no blanks. Returns 0 or -EINVAL
 * (missing, malformed, above @max).
 */
int fb__parse_uint(const char *s, uint64_t max, uint64_t *out);

/*
 * A size in bytes: a decimal count with an optional suffix K, M, G or T (powers of 1024,
 * either case), which may be followed by "i" and/or "B" ("64K", "512MiB", "1GB", "4096",
 * "4096B"). Returns 0 or -EINVAL (missing, malformed, above 2^64 - 1). 0 is a valid size:
 * callers that need room say so themselves.
 */
int fb__parse_size(const char *s, uint64_t *out);

/* Seconds: a finite decimal number >= 0 and <= 1e9 ("1", "0.5"). Returns 0 or -EINVAL. */
int fb__parse_seconds(const char *s, double *out);

/* Octal permission bits up to 07777 ("755", "1777"). Returns 0 or -EINVAL. */
int fb__parse_mode(const char *s, unsigned int *out);

#endif /* FB_UTIL_PARSE_I_H */
