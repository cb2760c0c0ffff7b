/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * One log function per process. Messages are formatted into a bounded stack buffer, so
 * logging never allocates and a hostile name in a request cannot make a line grow without
 * bound.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <fuse_backend/server.h>

#define FB_LOG_LINE_MAX 1024

/* fn and priv change together under a lock-free pair of loads; they are set at start-up. */
static _Atomic(fb_log_fn) log_fn;
static void *_Atomic log_priv;
static atomic_int log_debug;

void fb_log_set(fb_log_fn fn, void *priv)
{
	atomic_store(&log_priv, priv);
	atomic_store(&log_fn, fn);
}

void fb_log_set_debug(int on)
{
	atomic_store(&log_debug, on != 0);
}

void fb_log(enum fb_log_level level, const char *fmt, ...)
{
	char line[FB_LOG_LINE_MAX];
	fb_log_fn fn = atomic_load(&log_fn);
	va_list ap;

	if (!fn && level == FB_LOG_DEBUG && !atomic_load(&log_debug))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (fn) {
		fn(level, line, atomic_load(&log_priv));
		return;
	}
	/* One write per line so that lines from several threads do not interleave. */
	fprintf(stderr, "fuse-backend: %s\n", line);
}
