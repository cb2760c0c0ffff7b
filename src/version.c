/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The library's version, as compiled in: what a program linked against it runs with. */
#include <fuse_backend/version.h>

const char *fb_version(void)
{
	return FB_VERSION;
}

unsigned int fb_version_number(void)
{
	return FB_VERSION_NUMBER;
}
