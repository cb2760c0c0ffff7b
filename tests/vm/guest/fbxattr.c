// SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
/*
 * fbxattr: extended attributes for the test guest, whose busybox has no setfattr/getfattr.
 * Built with gcc -static by tests/vm/setup and put into the initramfs as /bin/fbxattr.
 *
 *   fbxattr set PATH NAME VALUE     setxattr (flags 0)
 *   fbxattr create PATH NAME VALUE  setxattr with XATTR_CREATE
 *   fbxattr get PATH NAME           the value on stdout, no newline added
 *   fbxattr list PATH               the names, one per line
 *   fbxattr remove PATH NAME        removexattr
 *
 * Exit 0 on success; on failure the errno name's text on stderr and exit 1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

static int fail(const char *what, const char *path)
{
	fprintf(stderr, "fbxattr: %s %s: %s\n", what, path, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	static char buf[65536];
	ssize_t n;

	if (argc == 5 && (!strcmp(argv[1], "set") || !strcmp(argv[1], "create"))) {
		int flags = argv[1][0] == 'c' ? XATTR_CREATE : 0;

		if (setxattr(argv[2], argv[3], argv[4], strlen(argv[4]), flags) < 0)
			return fail(argv[1], argv[2]);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "get")) {
		n = getxattr(argv[2], argv[3], buf, sizeof(buf));
		if (n < 0)
			return fail("get", argv[2]);
		fwrite(buf, 1, n, stdout);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "list")) {
		n = listxattr(argv[2], buf, sizeof(buf));
		if (n < 0)
			return fail("list", argv[2]);
		for (ssize_t i = 0; i < n; i += strlen(buf + i) + 1)
			puts(buf + i);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "remove")) {
		if (removexattr(argv[2], argv[3]) < 0)
			return fail("remove", argv[2]);
		return 0;
	}
	fprintf(stderr, "usage: fbxattr set|create PATH NAME VALUE | get PATH NAME | list PATH |"
			" remove PATH NAME\n");
	return 2;
}
