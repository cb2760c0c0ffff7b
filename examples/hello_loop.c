/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * hello_loop: serve memfs with a hand-written, single-threaded loop instead of
 * fb_session_loop(), the way an application with its own event loop would.
 *
 *   hello_loop MOUNTPOINT
 *
 * It stays in the foreground, puts one file, "hello", in the file system through the mount
 * itself once INIT is done, and serves until SIGINT/SIGTERM/SIGHUP or an unmount. The loop waits
 * with poll() on two fds: the channel (a request is waiting) and the session's exit fd
 * (fb_session_exit() was called), as it would inside a larger event loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fuse_backend/fusedev.h>
#include <fuse_backend/main.h>
#include <fuse_backend/memfs.h>
#include <fuse_backend/server.h>

static struct fb_session *session;

/* Handle every request that is waiting right now; -ENODEV when the session is over. */
static int drain(struct fb_session *se, struct fb_channel *ch)
{
	for (;;) {
		struct fb_reader rd;
		struct fb_writer wr;
		ssize_t n;
		int r;

		n = fb_channel_receive(ch, &rd, &wr);
		if (n == -EAGAIN || n == -EINTR)
			return 0; /* nothing more for now */
		if (n < 0)
			return (int)n; /* -ENODEV: unmounted */
		n = fb_server_handle(fb_session_server(se), &rd, &wr);
		if (n > 0) {
			r = fb_channel_send(ch, (size_t)n);
			if (r < 0)
				return r;
		} else if (n == -ENODEV) {
			return -ENODEV; /* DESTROY */
		}
	}
}

int main(int argc, char **argv)
{
	struct fb_memfs *fs;
	struct fb_server *server;
	struct fb_channel *ch;
	int r, status = 1, wrote_hello = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s MOUNTPOINT\n", argv[0]);
		return 1;
	}
	r = fb_memfs_new(NULL, &fs);
	if (r < 0)
		goto out;
	r = fb_server_new(&fb_memfs_ops, sizeof(fb_memfs_ops), fs, NULL, &server);
	if (r < 0)
		goto out_free_fs;
	r = fb_session_new(server, &session);
	if (r < 0)
		goto out_free_server;
	/* SIGINT, SIGTERM and SIGHUP call fb_session_exit(), which wakes the exit fd below. */
	r = fb_signals_install(session);
	if (r < 0)
		goto out_free_session;

	r = fb_session_mount(session, argv[1], NULL);
	if (r < 0)
		goto out_free_session;
	/* Non-blocking: poll() says when to read, and a read never waits. */
	r = fb_session_channel_new(session, FB_CHANNEL_NONBLOCK, &ch);
	if (r < 0)
		goto out_unmount;

	for (;;) {
		struct pollfd p[2] = {
			{.fd = fb_channel_fd(ch), .events = POLLIN},
			{.fd = fb_session_exit_fd(session), .events = POLLIN},
		};

		if (poll(p, 2, -1) < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		if (fb_session_exited(session)) {
			/* Unmount; the kernel then ends the connection and drain() sees -ENODEV. */
			r = fb_session_unmount(session, 0);
			if (r < 0)
				r = fb_session_unmount(session, 1);
			break;
		}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			; /* the helper child below */
		r = drain(session, ch);
		if (r == -ENODEV) {
			r = 0;
			break;
		}
		if (r < 0)
			break;
		if (!wrote_hello && fb_server_conn(server)) {
			/*
			 * INIT is answered. Creating the file goes through the mount, so it
			 * needs this very loop to answer: do it from a child process.
			 */
			wrote_hello = 1;
			if (fork() == 0) {
				char tmp[4096], path[4096];
				int fd;

				/* Written under another name first, so "hello" appears whole. */
				snprintf(tmp, sizeof(tmp), "%s/.hello", argv[1]);
				snprintf(path, sizeof(path), "%s/hello", argv[1]);
				fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
				if (fd < 0 || write(fd, "Hello, world!\n", 14) != 14)
					_exit(1);
				close(fd);
				_exit(rename(tmp, path) == 0 ? 0 : 1);
			}
		}
	}
	if (r == 0)
		status = 0;
	fb_channel_free(ch);
out_unmount:
	fb_session_unmount(session, 1);
out_free_session:
	fb_signals_forget();
	fb_session_free(session);
out_free_server:
	fb_server_free(server);
out_free_fs:
	fb_memfs_free(fs);
out:
	if (r < 0 && status)
		fprintf(stderr, "hello_loop: %s\n", strerror(-r));
	return status;
}
