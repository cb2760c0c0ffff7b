/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The library's version: the one a program was compiled against (the macros) and the one it
 * runs with (fb_version(), fb_version_number()).
 *
 * Versions follow semantic versioning. Within one major version the ABI only grows: functions
 * are added, never removed or changed, and every public struct that may grow carries a leading
 * `size` field (0 means the 1.0 layout), so a program built against 1.x runs with any later 1.y.
 * The shared library's soname is libfuse-backend.so.MAJOR and every symbol is bound to a
 * version node (FB_1.0 for the 1.0 API); ./scripts/abi compares the ABI against abi/.
 *
 *	if (fb_version_number() < FB_VERSION_NUMBER)
 *		fprintf(stderr, "built against %s, running with %s\n", FB_VERSION, fb_version());
 */
#ifndef FUSE_BACKEND_VERSION_H
#define FUSE_BACKEND_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

/* The version of these headers (meson.build checks that they match the project's version). */
#define FB_VERSION_MAJOR 1
#define FB_VERSION_MINOR 0
#define FB_VERSION_PATCH 0

/* The same as a string ("1.0.0") and as one ordered number (10000 for 1.0.0). */
#define FB_VERSION_STR_(x) #x
#define FB_VERSION_XSTR_(x) FB_VERSION_STR_(x)
#define FB_VERSION                                                                             \
	FB_VERSION_XSTR_(FB_VERSION_MAJOR) "." FB_VERSION_XSTR_(FB_VERSION_MINOR) "."              \
		FB_VERSION_XSTR_(FB_VERSION_PATCH)
#define FB_MAKE_VERSION(major, minor, patch) ((major) * 10000 + (minor) * 100 + (patch))
#define FB_VERSION_NUMBER FB_MAKE_VERSION(FB_VERSION_MAJOR, FB_VERSION_MINOR, FB_VERSION_PATCH)

/* The version of the library the program runs with, "MAJOR.MINOR.PATCH"; a static string. */
const char *fb_version(void);

/* The same as FB_MAKE_VERSION(major, minor, patch), for comparing with FB_VERSION_NUMBER. */
unsigned int fb_version_number(void);

#ifdef __cplusplus
}
#endif

#endif /* FUSE_BACKEND_VERSION_H */
