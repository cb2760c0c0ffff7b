/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The VFS control protocol: every malformed request gets an error reply and changes nothing;
 * mounts by type name; and a real Unix socket served by the control thread in-process.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fuse_backend/main.h>
#include <fuse_backend/memfs.h>
#include <fuse_backend/vfs.h>

#include "harness.h"

static int memfs_create(void *priv, const char *args, const struct fb_fs_ops **ops,
			size_t *ops_size, void **fs, char *err, size_t errlen)
{
	struct fb_memfs *m;
	int r;

	if (args[0]) {
		snprintf(err, errlen, "unknown memfs option '%s'", args);
		return -EINVAL;
	}
	r = fb_memfs_new(NULL, &m);
	if (r < 0)
		return r;
	*ops = &fb_memfs_ops;
	*ops_size = sizeof(fb_memfs_ops);
	*fs = m;
	return 0;
}

static void memfs_free(void *priv, void *fs)
{
	fb_memfs_free(fs);
}

static const struct fb_vfs_type memfs_type = {
	.name = "memfs",
	.create = memfs_create,
	.free = memfs_free,
};

static struct fb_vfs *new_vfs(void)
{
	struct fb_vfs *v = NULL;

	if (fb_vfs_new(NULL, &v) < 0 || fb_vfs_register_type(v, &memfs_type) < 0)
		abort();
	return v;
}

static char reply[1 << 20];

static int req(struct fb_vfs *v, const char *line)
{
	return fb_vfs_control_handle(v, line, strlen(line), reply, sizeof(reply));
}

TEST(mount_list_umount)
{
	struct fb_vfs *v = new_vfs();

	CHECK_EQ(req(v, "list"), 0);
	CHECK_STR(reply, "ok 0\n");
	CHECK_EQ(req(v, "mount /m memfs"), 0);
	CHECK_STR(reply, "ok slot 1\n");
	CHECK_EQ(req(v, "mount  /x/y\tmemfs:ro,timeout=2\r"), 0);
	CHECK_STR(reply, "ok slot 2\n");
	CHECK_EQ(req(v, "list"), 0);
	CHECK_STR(reply, "ok 2\n/m memfs - 1\n/x/y memfs - 2 ro\n");
	CHECK_EQ(req(v, "umount /m"), 0);
	CHECK_STR(reply, "ok\n");
	CHECK_EQ(req(v, "list"), 0);
	CHECK_STR(reply, "ok 1\n/x/y memfs - 2 ro\n");
	fb_vfs_free(v);
}

TEST(errors_change_nothing)
{
	static const struct {
		const char *line;
		int err;
		const char *reply_start;
	} cases[] = {
		{"", -EINVAL, "error EINVAL: empty request"},
		{"   ", -EINVAL, "error EINVAL: empty request"},
		{"frobnicate /a", -EINVAL, "error EINVAL: unknown command"},
		{"list all", -EINVAL, "error EINVAL: usage: list"},
		{"mount /n", -EINVAL, "error EINVAL: usage: mount"},
		{"mount /n memfs extra", -EINVAL, "error EINVAL: usage: mount"},
		{"mount a b c d e", -EINVAL, "error EINVAL: too many words"},
		{"umount", -EINVAL, "error EINVAL: usage: umount"},
		{"mount rel memfs", -EINVAL, "error EINVAL: mount path must be absolute"},
		{"mount /a/../b memfs", -EINVAL, "error EINVAL: '.' and '..'"},
		{"mount /n nosuch", -ENOENT, "error ENOENT: unknown backend type 'nosuch'"},
		{"mount /n :x", -EINVAL, "error EINVAL: bad backend type"},
		{"mount /n Mem$fs", -EINVAL, "error EINVAL: bad backend type"},
		{"mount /n memfs:timeout=abc", -EINVAL, "error EINVAL: bad timeout 'abc'"},
		{"mount /n memfs:entry_timeout=-1", -EINVAL, "error EINVAL: bad entry_timeout"},
		{"mount /n memfs:bogus", -EINVAL, "error EINVAL: memfs: unknown memfs option"},
		{"mount /m memfs", -EEXIST, "error EEXIST: /m is already mounted"},
		{"mount /m/sub memfs", -EBUSY, "error EBUSY: /m/sub is inside the backend"},
		{"mount / memfs", -EBUSY, "error EBUSY: backends are mounted below /"},
		{"umount /nothing", -ENOENT, "error ENOENT: nothing is mounted at /nothing"},
		{"umount /", -ENOENT, "error ENOENT: nothing is mounted at /"},
		{"mount /a\x01 memfs", -EINVAL, "error EINVAL: control character"},
		{"list\nlist", -EINVAL, "error EINVAL: more than one line"},
	};
	struct fb_vfs *v = new_vfs();
	char big[5000];

	CHECK_EQ(req(v, "mount /m memfs"), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = req(v, cases[i].line);

		if (r != cases[i].err ||
		    strncmp(reply, cases[i].reply_start, strlen(cases[i].reply_start)) != 0)
			FBT_FAIL("'%s': got %d '%s'", cases[i].line, r, reply);
		CHECK(reply[strlen(reply) - 1] == '\n');
		CHECK(strchr(reply, '\n') == reply + strlen(reply) - 1); /* one line */
	}
	/* NUL bytes inside the line */
	CHECK_EQ(fb_vfs_control_handle(v, "list\0x", 6, reply, sizeof(reply)), -EINVAL);
	CHECK(strncmp(reply, "error EINVAL: NUL byte", 22) == 0);
	/* too long */
	memset(big, 'a', sizeof(big));
	memcpy(big, "mount /", 7);
	CHECK_EQ(fb_vfs_control_handle(v, big, sizeof(big), reply, sizeof(reply)), -EMSGSIZE);
	CHECK(strncmp(reply, "error EMSGSIZE: request longer than 4096 bytes", 46) == 0);
	/* a path component over 255 bytes, inside the 4 KiB */
	big[300] = ' ';
	memcpy(big + 301, "memfs", 6);
	CHECK_EQ(fb_vfs_control_handle(v, big, 306, reply, sizeof(reply)), -EINVAL);
	/* a reply buffer too small to say anything */
	CHECK_EQ(fb_vfs_control_handle(v, "list", 4, reply, 10), -EINVAL);
	/* through it all, only the first mount exists */
	CHECK_EQ(req(v, "list"), 0);
	CHECK_STR(reply, "ok 1\n/m memfs - 1\n");
	fb_vfs_free(v);
}

TEST(mount_spec_direct)
{
	struct fb_vfs *v = new_vfs();
	struct fb_vfs_mount_info mi[2];
	int slot = 0;

	CHECK_EQ(fb_vfs_mount_spec(v, "/a", "memfs:entry_timeout=0.5,attr_timeout=1", &slot), 0);
	CHECK_EQ(slot, 1);
	CHECK_EQ(fb_vfs_list(v, mi, 2), 1);
	CHECK_STR(mi[0].path, "/a");
	CHECK_STR(mi[0].type, "memfs");
	CHECK_EQ(mi[0].flags, FB_VFS_MOUNT_ENTRY_TIMEOUT | FB_VFS_MOUNT_ATTR_TIMEOUT);
	/* re-registering a type replaces it; bad names are refused */
	CHECK_EQ(fb_vfs_register_type(v, &memfs_type), 0);
	CHECK_EQ(fb_vfs_register_type(
			 v, &(struct fb_vfs_type){.name = "Bad Name", .create = memfs_create}),
		 -EINVAL);
	fb_vfs_free(v);
}

TEST(builtin_types)
{
	struct fb_vfs *v;
	char src[] = "/tmp/fb-vfs-src-XXXXXX", line[128];

	CHECK_EQ(fb_vfs_new(NULL, &v), 0);
	CHECK_EQ(fb_vfs_register_builtin_types(v), 0);
	CHECK(mkdtemp(src) != NULL);
	snprintf(line, sizeof(line), "mount /p passthrough:%s,cache=never,ro", src);
	CHECK_EQ(req(v, line), 0);
	CHECK_EQ(req(v, "mount /m memfs:size=1M,max_inodes=100"), 0);
	CHECK_EQ(req(v, "mount /q passthrough:rel"), -EINVAL);
	CHECK(strstr(reply, "absolute source directory") != NULL);
	CHECK_EQ(req(v, "mount /q passthrough:/nonexistent-fb-dir"), -ENOENT);
	CHECK(strstr(reply, "/nonexistent-fb-dir") != NULL);
	CHECK_EQ(req(v, "mount /q passthrough:/etc/hostname"), -ENOTDIR);
	CHECK_EQ(req(v, "mount /q passthrough:/tmp,bogus"), -EINVAL);
	CHECK_EQ(req(v, "mount /q memfs:size=lots"), -EINVAL);
	CHECK_EQ(req(v, "list"), 0);
	snprintf(line, sizeof(line),
		 "ok 2\n/p passthrough %s,cache=never 1 ro\n"
		 "/m memfs size=1M,max_inodes=100 2\n",
		 src);
	CHECK_STR(reply, line);
	fb_vfs_free(v);
	rmdir(src);
}

/* ---- a real socket -------------------------------------------------------------------- */

static char dir[40];
static char sock[100];

static int sock_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Read until EOF (the server closes after its reply), at most 8 s. */
static ssize_t read_reply(int fd, char *buf, size_t size)
{
	size_t o = 0;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 8000) <= 0)
			return -ETIMEDOUT;
		n = read(fd, buf + o, size - 1 - o);
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		o += (size_t)n;
	}
	buf[o] = '\0';
	return (ssize_t)o;
}

static int transact(const void *msg, size_t len, int shut, char *out, size_t size)
{
	int fd = sock_connect();
	ssize_t n;

	if (fd < 0)
		return -errno;
	/* A refused peer may be answered and closed before it has written: read anyway. */
	if (len)
		(void)!send(fd, msg, len, MSG_NOSIGNAL);
	if (shut)
		shutdown(fd, SHUT_WR);
	n = read_reply(fd, out, size);
	close(fd);
	return n < 0 ? (int)n : 0;
}

TEST(socket_round_trip)
{
	struct fb_vfs *v = new_vfs();
	struct fb_vfs_control *c;
	struct stat st;
	char out[4096];
	int fds[20];

	snprintf(dir, sizeof(dir), "/tmp/fb-vfs-ctl-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(sock, sizeof(sock), "%s/ctl", dir);
	CHECK_EQ(fb_vfs_control_new(v, sock, &c), 0);
	CHECK_OK(stat(sock, &st));
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0600);

	CHECK_EQ(transact("mount /s memfs\n", 15, 0, out, sizeof(out)), 0);
	CHECK_STR(out, "ok slot 1\n");
	CHECK_EQ(transact("list\n", 5, 0, out, sizeof(out)), 0);
	CHECK_STR(out, "ok 1\n/s memfs - 1\n");
	/* a partial line, then end of stream */
	CHECK_EQ(transact("umount /s", 9, 1, out, sizeof(out)), 0);
	CHECK_STR(out, "error EINVAL: partial line (no newline before end of stream)\n");
	/* two lines in one request */
	CHECK_EQ(transact("list\nlist\n", 10, 0, out, sizeof(out)), 0);
	CHECK(strncmp(out, "error EINVAL: more than one line", 32) == 0);
	/* NUL byte */
	CHECK_EQ(transact("umount /s\0\n", 11, 0, out, sizeof(out)), 0);
	CHECK(strncmp(out, "error EINVAL: NUL byte", 22) == 0);
	/* more than 4 KiB without a newline: answered without waiting for the rest */
	{
		char big[6000];

		memset(big, 'x', sizeof(big));
		CHECK_EQ(transact(big, sizeof(big), 0, out, sizeof(out)), 0);
		CHECK(strncmp(out, "error EMSGSIZE", 14) == 0);
	}
	/* many connections: the ones beyond the limit are told so, the rest still work */
	for (int i = 0; i < 20; i++)
		fds[i] = sock_connect();
	int busy = 0;

	for (int i = 0; i < 20; i++) {
		struct pollfd p = {.fd = fds[i], .events = POLLIN};

		if (fds[i] >= 0 && poll(&p, 1, 200) == 1) {
			if (read_reply(fds[i], out, sizeof(out)) > 0 &&
			    strncmp(out, "error EBUSY", 11) == 0)
				busy++;
		}
	}
	CHECK_EQ(busy, 4);
	CHECK_EQ(write(fds[0], "list\n", 5), 5);
	CHECK(read_reply(fds[0], out, sizeof(out)) > 0);
	CHECK_STR(out, "ok 1\n/s memfs - 1\n");
	for (int i = 0; i < 20; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	/* still serving; nothing changed by any of it */
	CHECK_EQ(transact("umount /s\n", 10, 0, out, sizeof(out)), 0);
	CHECK_STR(out, "ok\n");
	CHECK_EQ(transact("list\n", 5, 0, out, sizeof(out)), 0);
	CHECK_STR(out, "ok 0\n");
	fb_vfs_control_free(c);
	CHECK_ERR(access(sock, F_OK), -ENOENT);
	rmdir(dir);
	fb_vfs_free(v);
}

TEST(socket_stalled_client_times_out)
{
	struct fb_vfs *v = new_vfs();
	struct fb_vfs_control *c;
	char out[256];
	struct timespec t0, t1;
	int fd;

	snprintf(dir, sizeof(dir), "/tmp/fb-vfs-ctl-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(sock, sizeof(sock), "%s/ctl", dir);
	CHECK_EQ(fb_vfs_control_new(v, sock, &c), 0);
	fd = sock_connect();
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, "li", 2), 2);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* meanwhile others are served */
	CHECK_EQ(transact("list\n", 5, 0, out, sizeof(out)), 0);
	CHECK_STR(out, "ok 0\n");
	CHECK(read_reply(fd, out, sizeof(out)) > 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(strncmp(out, "error ETIMEDOUT", 15) == 0);
	CHECK(t1.tv_sec - t0.tv_sec >= 3);
	close(fd);
	fb_vfs_control_free(c);
	rmdir(dir);
	fb_vfs_free(v);
}

TEST(socket_refuses_other_users)
{
	struct fb_vfs *v;
	struct fb_vfs_control *c;
	char out[256];
	pid_t pid;
	int status;

	if (geteuid() != 0)
		SKIP("needs root to connect as another user");
	v = new_vfs();
	snprintf(dir, sizeof(dir), "/tmp/fb-vfs-ctl-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	chmod(dir, 0755);
	snprintf(sock, sizeof(sock), "%s/ctl", dir);
	CHECK_EQ(fb_vfs_control_new(v, sock, &c), 0);
	/* Open the file mode up so that only the SO_PEERCRED check stands in the way. */
	CHECK_OK(chmod(sock, 0666));
	pid = fork();
	if (pid == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		if (transact("mount /evil memfs\n", 18, 0, out, sizeof(out)) < 0)
			_exit(3);
		_exit(strncmp(out, "error EACCES", 12) == 0 ? 0 : 1);
	}
	CHECK(pid > 0);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	CHECK_EQ(fb_vfs_list(v, NULL, 0), 0);
	fb_vfs_control_free(c);
	rmdir(dir);
	fb_vfs_free(v);
}

TEST_MAIN()
