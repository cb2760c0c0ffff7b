/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fb-ctl: change a running daemon's VFS through its control socket (--control PATH).
 *
 *   fb-ctl SOCKET mount PATH TYPE[:ARGS]
 *   fb-ctl SOCKET umount PATH
 *   fb-ctl SOCKET list
 *
 * Prints the daemon's reply. Exits 0 when it starts with "ok", 1 otherwise (the error line
 * goes to stderr), 2 for a usage error. See docs/vfs.md.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096
#define REPLY_MAX      (1 << 20)

static void usage(FILE *f)
{
	fprintf(f, "usage: fb-ctl SOCKET mount PATH TYPE[:ARGS]\n"
		   "       fb-ctl SOCKET umount PATH\n"
		   "       fb-ctl SOCKET list\n"
		   "TYPE is memfs[:size=BYTES] or passthrough:/DIR[,opts]; ARGS may add ro,\n"
		   "entry_timeout=S, attr_timeout=S, timeout=S (see docs/vfs.md).\n");
}

/* An argument that fits in one request line: no spaces or control characters. */
static int word_ok(const char *w)
{
	if (!*w)
		return 0;
	for (; *w; w++)
		if ((unsigned char)*w <= ' ' || (unsigned char)*w == 0x7f)
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char line[LINE_MAX_BYTES + 2];
	char *reply;
	size_t len = 0, got = 0;
	int fd, want;

	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc < 3) {
		usage(stderr);
		return 2;
	}
	want = strcmp(argv[2], "mount") == 0	? 5
	       : strcmp(argv[2], "umount") == 0 ? 4
	       : strcmp(argv[2], "list") == 0	? 3
						: -1;
	if (want != argc) {
		usage(stderr);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		int n;

		if (!word_ok(argv[i])) {
			fprintf(stderr,
				"fb-ctl: '%s': spaces and control characters cannot be "
				"sent\n",
				argv[i]);
			return 2;
		}
		n = snprintf(line + len, sizeof(line) - len, "%s%s", i > 2 ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof(line) - len - 1) {
			fprintf(stderr, "fb-ctl: request longer than %d bytes\n", LINE_MAX_BYTES);
			return 2;
		}
		len += (size_t)n;
	}
	line[len++] = '\n';

	if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "fb-ctl: socket path too long\n");
		return 2;
	}
	memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "fb-ctl: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (send(fd, line, len, MSG_NOSIGNAL) != (ssize_t)len && errno != EPIPE &&
	    errno != ECONNRESET) {
		fprintf(stderr, "fb-ctl: send: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	reply = malloc(REPLY_MAX + 1);
	if (!reply) {
		close(fd);
		return 1;
	}
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 30000) <= 0) {
			fprintf(stderr, "fb-ctl: no reply from %s\n", argv[1]);
			free(reply);
			close(fd);
			return 1;
		}
		n = read(fd, reply + got, REPLY_MAX - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == REPLY_MAX)
			break;
	}
	close(fd);
	reply[got] = '\0';
	if (strncmp(reply, "ok", 2) == 0) {
		/* "ok" alone says nothing more; "ok slot N" and list lines are printed. */
		fputs(reply, stdout);
		free(reply);
		return 0;
	}
	fprintf(stderr, "fb-ctl: %s", got ? reply : "connection closed without a reply\n");
	if (got && reply[got - 1] != '\n')
		fputc('\n', stderr);
	free(reply);
	return 1;
}
