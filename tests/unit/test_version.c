/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The version a program is built against and the one it runs with, and what the shared
 * library exports: only fb_* names, each bound to the FB_1.0 version node. Linked against the
 * shared library (FB_LIBRARY names its file for readelf).
 */
#include <dlfcn.h>
#include <stdio.h>

#include <fuse_backend/version.h>

#include "harness.h"

TEST(macros_match_the_library)
{
	char want[32];

	snprintf(want, sizeof(want), "%d.%d.%d", FB_VERSION_MAJOR, FB_VERSION_MINOR,
		 FB_VERSION_PATCH);
	CHECK_STR(FB_VERSION, want);
	CHECK_STR(fb_version(), FB_VERSION);
	CHECK_EQ(fb_version_number(), FB_VERSION_NUMBER);
	CHECK_EQ(FB_VERSION_NUMBER,
		 FB_VERSION_MAJOR * 10000 + FB_VERSION_MINOR * 100 + FB_VERSION_PATCH);
	CHECK(FB_MAKE_VERSION(1, 0, 0) <= FB_VERSION_NUMBER);
	CHECK(FB_MAKE_VERSION(1, 2, 0) > FB_MAKE_VERSION(1, 1, 99));
}

#ifdef FB_PROJECT_VERSION
TEST(headers_match_the_project_version)
{
	CHECK_STR(FB_VERSION, FB_PROJECT_VERSION);
}
#endif

/* pkg-config --modversion fuse-backend gives the same version (FB_PC: the generated .pc). */
TEST(pkg_config_carries_the_version)
{
	const char *pc = getenv("FB_PC");
	char line[256], want[64];
	int found = 0;
	FILE *f;

	if (!pc)
		SKIP("FB_PC not set (run through meson test)");
	f = fopen(pc, "r");
	CHECK(f != NULL);
	snprintf(want, sizeof(want), "Version: %s\n", FB_VERSION);
	while (fgets(line, sizeof(line), f))
		found += strcmp(line, want) == 0;
	fclose(f);
	CHECK_EQ(found, 1);
}

/* A program resolves the versioned symbol, as the dynamic linker does for a binary built
 * against 1.0 (fb_version@FB_1.0). */
TEST(symbols_bound_to_the_version_node)
{
	const char *(*fn)(void) = (const char *(*)(void))dlvsym(RTLD_DEFAULT, "fb_version",
								 "FB_1.0");

	CHECK(fn != NULL);
	CHECK_STR(fn(), FB_VERSION);
	CHECK(dlvsym(RTLD_DEFAULT, "fb_version", "FB_0.9") == NULL);
}

/* readelf --dyn-syms: every symbol the library defines is fb_<letter>..., @@FB_1.0. */
TEST(only_fb_symbols_exported_under_the_node)
{
	const char *lib = getenv("FB_LIBRARY");
	char cmd[4096], line[1024];
	int defined = 0, bad = 0, node = 0;
	FILE *p;

	if (!lib)
		SKIP("FB_LIBRARY not set (run through meson test)");
	snprintf(cmd, sizeof(cmd), "readelf --dyn-syms --wide '%s' 2>&1", lib);
	p = popen(cmd, "r");
	CHECK(p != NULL);
	while (fgets(line, sizeof(line), p)) {
		char num[32], value[64], size[32], type[32], bind[32], vis[32], ndx[32];
		char name[512];

		if (sscanf(line, "%31s %63s %31s %31s %31s %31s %31s %511s", num, value, size,
			   type, bind, vis, ndx, name) != 8 ||
		    num[0] < '0' || num[0] > '9')
			continue;
		if (strcmp(ndx, "UND") == 0 || strcmp(bind, "LOCAL") == 0)
			continue;
		if (strcmp(ndx, "ABS") == 0 && strcmp(name, "FB_1.0") == 0) {
			node++; /* the version definition itself */
			continue;
		}
		defined++;
		size_t n = strlen(name);
		if (strncmp(name, "fb_", 3) != 0 || name[3] < 'a' || name[3] > 'z' ||
		    n < 9 || strcmp(name + n - 8, "@@FB_1.0") != 0) {
			fprintf(stderr, "  unexpected export: %s", line);
			bad++;
		}
	}
	CHECK_EQ(pclose(p), 0);
	CHECK(defined > 50);
	CHECK_EQ(bad, 0);
	(void)node;
}

TEST_MAIN()
