/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Backend types (name -> constructor), mounts described by text, and the control socket.
 * The types themselves (memfs, passthrough) are registered from above (src/main/vfs_types.c):
 * the VFS builds no file system.
 *
 * The control socket is served by one thread with poll(): a client that sends half a line and
 * stalls holds one of a few connection places until its deadline, never the thread. Requests
 * run mount/unmount, which take the VFS's write lock only for a few pointer updates, so the
 * request path is never held up by the control thread.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <fuse_backend/server.h>
#include <fuse_backend/vfs.h>

#include "util/parse_i.h"
#include "vfs/vfs_i.h"

/* Longest request line, without its newline. */
#define CTL_LINE_MAX 4096
/* Connections served at once; more are answered EBUSY and closed. */
#define CTL_CONN_MAX 16
/* Time a client has to send its line. */
#define CTL_TIMEOUT_MS 5000
/* Reply buffer: "ok N" and up to 255 lines of two escaped paths and a type. */
#define CTL_REPLY_MAX (FB_VFS_MAX_SLOTS * (4 * 2 * FB_VFS_PATH_MAX + 128) + 64)

/* ---- types ---------------------------------------------------------------------------- */

static int type_name_ok(const char *name)
{
	if (!name || !*name || strlen(name) > 63)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '-'))
			return 0;
	return 1;
}

int fb_vfs_register_type(struct fb_vfs *vfs, const struct fb_vfs_type *type)
{
	struct fb_vfs_type *t;
	char *name;

	if (!vfs || !type || !type->create || !type_name_ok(type->name))
		return -EINVAL;
	name = strdup(type->name);
	if (!name)
		return -ENOMEM;
	pthread_mutex_lock(&vfs->types_lock);
	for (size_t i = 0; i < vfs->ntypes; i++) {
		if (strcmp(vfs->types[i].name, name) == 0) {
			free((char *)vfs->types[i].name);
			vfs->types[i] = *type;
			vfs->types[i].name = name;
			pthread_mutex_unlock(&vfs->types_lock);
			return 0;
		}
	}
	t = realloc(vfs->types, (vfs->ntypes + 1) * sizeof(*t));
	if (!t) {
		pthread_mutex_unlock(&vfs->types_lock);
		free(name);
		return -ENOMEM;
	}
	vfs->types = t;
	t[vfs->ntypes] = *type;
	t[vfs->ntypes].name = name;
	vfs->ntypes++;
	pthread_mutex_unlock(&vfs->types_lock);
	return 0;
}

/* What a slot made from a type needs to free its backend. */
struct typed_release {
	void (*free)(void *priv, void *fs);
	void *priv;
};

static void typed_release(void *fs, void *priv)
{
	struct typed_release *tr = priv;

	if (tr->free)
		tr->free(tr->priv, fs);
	free(tr);
}

/*
 * Split @args (modified) into the VFS's own options (into @opts) and the rest (into @rest,
 * comma-joined, at most @restlen bytes).
 */
static int split_options(char *args, struct fb_vfs_mount_opts *opts, char *rest, size_t restlen)
{
	size_t o = 0;
	char *save = NULL;

	rest[0] = '\0';
	for (char *tok = strtok_r(args, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		double d;

		if (strcmp(tok, "ro") == 0) {
			opts->flags |= FB_VFS_MOUNT_READ_ONLY;
		} else if (strncmp(tok, "entry_timeout=", 14) == 0) {
			if (fb__parse_seconds(tok + 14, &d) < 0)
				return fb__vfs_error(-EINVAL, "bad entry_timeout '%s'", tok + 14);
			opts->flags |= FB_VFS_MOUNT_ENTRY_TIMEOUT;
			opts->entry_timeout = d;
		} else if (strncmp(tok, "attr_timeout=", 13) == 0) {
			if (fb__parse_seconds(tok + 13, &d) < 0)
				return fb__vfs_error(-EINVAL, "bad attr_timeout '%s'", tok + 13);
			opts->flags |= FB_VFS_MOUNT_ATTR_TIMEOUT;
			opts->attr_timeout = d;
		} else if (strncmp(tok, "timeout=", 8) == 0) {
			if (fb__parse_seconds(tok + 8, &d) < 0)
				return fb__vfs_error(-EINVAL, "bad timeout '%s'", tok + 8);
			opts->flags |= FB_VFS_MOUNT_ENTRY_TIMEOUT | FB_VFS_MOUNT_ATTR_TIMEOUT;
			opts->entry_timeout = d;
			opts->attr_timeout = d;
		} else {
			int n = snprintf(rest + o, restlen - o, "%s%s", o ? "," : "", tok);

			if (n < 0 || (size_t)n >= restlen - o)
				return fb__vfs_error(-EINVAL, "mount arguments too long");
			o += (size_t)n;
		}
	}
	return 0;
}

int fb_vfs_mount_spec(struct fb_vfs *vfs, const char *path, const char *spec, int *ret_slot)
{
	char type[64], args[CTL_LINE_MAX + 1], rest[CTL_LINE_MAX + 1], err[200];
	struct fb_vfs_mount_opts opts = {0};
	struct fb_vfs_type t = {0};
	struct typed_release *tr;
	const struct fb_fs_ops *ops = NULL;
	const char *colon;
	size_t ops_size = 0, tlen;
	void *fs = NULL;
	int found = 0, r;

	if (!vfs || !spec)
		return fb__vfs_error(-EINVAL, "no backend given");
	colon = strchr(spec, ':');
	tlen = colon ? (size_t)(colon - spec) : strlen(spec);
	if (tlen == 0 || tlen >= sizeof(type))
		return fb__vfs_error(-EINVAL, "bad backend type");
	memcpy(type, spec, tlen);
	type[tlen] = '\0';
	if (!type_name_ok(type))
		return fb__vfs_error(-EINVAL, "bad backend type '%.63s'", type);
	if (snprintf(args, sizeof(args), "%s", colon ? colon + 1 : "") >= (int)sizeof(args))
		return fb__vfs_error(-EINVAL, "mount arguments too long");
	r = split_options(args, &opts, rest, sizeof(rest));
	if (r < 0)
		return r;

	pthread_mutex_lock(&vfs->types_lock);
	for (size_t i = 0; i < vfs->ntypes; i++) {
		if (strcmp(vfs->types[i].name, type) == 0) {
			t = vfs->types[i];
			found = 1;
		}
	}
	pthread_mutex_unlock(&vfs->types_lock);
	if (!found)
		return fb__vfs_error(-ENOENT, "unknown backend type '%s'", type);

	tr = calloc(1, sizeof(*tr));
	if (!tr)
		return fb__vfs_error(-ENOMEM, "out of memory");
	tr->free = t.free;
	tr->priv = t.priv;
	err[0] = '\0';
	r = t.create(t.priv, rest, &ops, &ops_size, &fs, err, sizeof(err));
	if (r < 0) {
		free(tr);
		return fb__vfs_error(r, "%s: %s", type, err[0] ? err : strerror(-r));
	}
	opts.type = type;
	opts.source = rest;
	opts.release = typed_release;
	opts.release_priv = tr;
	r = fb_vfs_mount(vfs, path, ops, ops_size, fs, &opts, ret_slot);
	if (r < 0) {
		/* The caller (we) still owns the backend. */
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", fb_vfs_last_error());
		typed_release(fs, tr);
		return fb__vfs_error(r, "%s", msg);
	}
	return 0;
}

/* ---- the line protocol ---------------------------------------------------------------- */

static const char *errno_name(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "EIO";
}

static int reply_error(char *reply, size_t size, int err, const char *msg)
{
	if (err >= 0)
		err = -EINVAL;
	snprintf(reply, size, "error %s: %s\n", errno_name(-err), msg);
	return err;
}

/* Append @s with spaces, backslashes and non-printable bytes as \xHH. */
static size_t put_escaped(char *out, size_t o, size_t size, const char *s)
{
	for (; *s && o + 5 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c >= 0x7f || c == '\\')
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return o;
}

static int list_reply(struct fb_vfs *vfs, char *reply, size_t size)
{
	struct fb_vfs_mount_info *mi;
	size_t o;
	int n;

	mi = calloc(FB_VFS_MAX_SLOTS, sizeof(*mi));
	if (!mi)
		return reply_error(reply, size, -ENOMEM, "out of memory");
	n = fb_vfs_list(vfs, mi, FB_VFS_MAX_SLOTS);
	if (n > FB_VFS_MAX_SLOTS)
		n = FB_VFS_MAX_SLOTS;
	o = (size_t)snprintf(reply, size, "ok %d\n", n);
	for (int i = 0; i < n && o + 16 < size; i++) {
		o = put_escaped(reply, o, size, mi[i].path);
		reply[o++] = ' ';
		o = put_escaped(reply, o, size, mi[i].type);
		reply[o++] = ' ';
		o = put_escaped(reply, o, size, mi[i].source);
		o += (size_t)snprintf(reply + o, size - o, " %d%s\n", mi[i].slot,
				      (mi[i].flags & FB_VFS_MOUNT_READ_ONLY) ? " ro" : "");
	}
	free(mi);
	return 0;
}

/* A printable token: no control bytes (spaces separate tokens already). */
static int token_ok(const char *t)
{
	for (; *t; t++)
		if ((unsigned char)*t < 0x20 || (unsigned char)*t == 0x7f)
			return 0;
	return 1;
}

int fb_vfs_control_handle(struct fb_vfs *vfs, const char *line, size_t len, char *reply,
			  size_t size)
{
	char buf[CTL_LINE_MAX + 1], *tok[4], *save = NULL;
	int ntok = 0, slot = 0, r;

	if (!reply || size < 64)
		return -EINVAL;
	if (!vfs || !line)
		return reply_error(reply, size, -EINVAL, "no request");
	if (len > CTL_LINE_MAX)
		return reply_error(reply, size, -EMSGSIZE, "request longer than 4096 bytes");
	if (memchr(line, '\0', len))
		return reply_error(reply, size, -EINVAL, "NUL byte in request");
	if (memchr(line, '\n', len))
		return reply_error(reply, size, -EINVAL, "more than one line in request");
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (len && buf[len - 1] == '\r')
		buf[len - 1] = '\0';
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (ntok == 4)
			return reply_error(reply, size, -EINVAL, "too many words in request");
		if (!token_ok(t))
			return reply_error(reply, size, -EINVAL, "control character in request");
		tok[ntok++] = t;
	}
	if (ntok == 0)
		return reply_error(reply, size, -EINVAL, "empty request");

	if (strcmp(tok[0], "list") == 0) {
		if (ntok != 1)
			return reply_error(reply, size, -EINVAL, "usage: list");
		return list_reply(vfs, reply, size);
	}
	if (strcmp(tok[0], "umount") == 0) {
		if (ntok != 2)
			return reply_error(reply, size, -EINVAL, "usage: umount PATH");
		r = fb_vfs_umount(vfs, tok[1]);
		if (r < 0)
			return reply_error(reply, size, r, fb_vfs_last_error());
		snprintf(reply, size, "ok\n");
		return 0;
	}
	if (strcmp(tok[0], "mount") == 0) {
		if (ntok != 3)
			return reply_error(reply, size, -EINVAL, "usage: mount PATH TYPE[:ARGS]");
		r = fb_vfs_mount_spec(vfs, tok[1], tok[2], &slot);
		if (r < 0)
			return reply_error(reply, size, r, fb_vfs_last_error());
		snprintf(reply, size, "ok slot %d\n", slot);
		return 0;
	}
	return reply_error(reply, size, -EINVAL, "unknown command (mount, umount, list)");
}

/* ---- the socket ----------------------------------------------------------------------- */

struct ctl_conn {
	int fd; /* -1 when the place is free */
	size_t len;
	struct timespec deadline;
	char buf[CTL_LINE_MAX + 2];
};

struct fb_vfs_control {
	struct fb_vfs *vfs;
	char *path;
	int lfd;     /* listening socket */
	int stop[2]; /* pipe: a byte stops the thread */
	pthread_t thread;
	char *reply;			     /* CTL_REPLY_MAX bytes, used by the thread only */
	struct ctl_conn conns[CTL_CONN_MAX]; /* used by the thread only */
};

static int64_t ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(deadline->tv_sec - now.tv_sec) * 1000 +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* Send the whole reply, waiting at most 2 s for a slow reader; then close. */
static void conn_finish(struct ctl_conn *c, const char *reply)
{
	struct timeval tv = {.tv_sec = 2};
	size_t len = strlen(reply), off = 0;
	int fl = fcntl(c->fd, F_GETFL);

	if (fl >= 0)
		fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (off < len) {
		ssize_t n = send(c->fd, reply + off, len - off, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	/* Closing with unread input would reset the connection and could lose the reply at
	 * the client: read (a bounded amount of) what is left first. */
	shutdown(c->fd, SHUT_WR);
	for (int i = 0; i < 16; i++) {
		char sink[4096];

		if (recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
			break;
	}
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static void conn_error(struct ctl_conn *c, int err, const char *msg)
{
	char reply[256];

	reply_error(reply, sizeof(reply), err, msg);
	conn_finish(c, reply);
}

static void conn_read(struct fb_vfs_control *ctl, struct ctl_conn *c)
{
	size_t room = sizeof(c->buf) - 1 - c->len;
	ssize_t n = recv(c->fd, c->buf + c->len, room, MSG_DONTWAIT);
	char *nl;

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		close(c->fd);
		c->fd = -1;
		return;
	}
	if (n == 0) {
		conn_error(c, -EINVAL,
			   c->len ? "partial line (no newline before end of stream)"
				  : "empty request");
		return;
	}
	c->len += (size_t)n;
	nl = memchr(c->buf, '\n', c->len);
	if (!nl) {
		if (c->len > CTL_LINE_MAX)
			conn_error(c, -EMSGSIZE, "request longer than 4096 bytes");
		return;
	}
	if ((size_t)(nl - c->buf) + 1 != c->len) {
		conn_error(c, -EINVAL, "more than one line in request");
		return;
	}
	fb_vfs_control_handle(ctl->vfs, c->buf, (size_t)(nl - c->buf), ctl->reply, CTL_REPLY_MAX);
	conn_finish(c, ctl->reply);
}

static void ctl_accept(struct fb_vfs_control *ctl)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct ctl_conn *c = NULL;
	struct ctl_conn tmp;
	int fd = accept4(ctl->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	tmp.fd = fd;
	tmp.len = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		conn_error(&tmp, -EACCES, "peer is not the daemon's user or root");
		return;
	}
	for (int i = 0; i < CTL_CONN_MAX; i++) {
		if (ctl->conns[i].fd < 0) {
			c = &ctl->conns[i];
			break;
		}
	}
	if (!c) {
		conn_error(&tmp, -EBUSY, "too many control connections");
		return;
	}
	c->fd = fd;
	c->len = 0;
	clock_gettime(CLOCK_MONOTONIC, &c->deadline);
	c->deadline.tv_sec += CTL_TIMEOUT_MS / 1000;
}

static void *ctl_thread(void *arg)
{
	struct fb_vfs_control *ctl = arg;
	struct pollfd pfd[CTL_CONN_MAX + 2];
	int map[CTL_CONN_MAX + 2];

	for (;;) {
		int n = 0, timeout = -1;

		pfd[n++] = (struct pollfd){.fd = ctl->stop[0], .events = POLLIN};
		pfd[n++] = (struct pollfd){.fd = ctl->lfd, .events = POLLIN};
		for (int i = 0; i < CTL_CONN_MAX; i++) {
			struct ctl_conn *c = &ctl->conns[i];
			int64_t left;

			if (c->fd < 0)
				continue;
			left = ms_left(&c->deadline);
			if (left <= 0) {
				conn_error(c, -ETIMEDOUT, "no complete request line in time");
				continue;
			}
			if (timeout < 0 || left < timeout)
				timeout = (int)left;
			map[n] = i;
			pfd[n++] = (struct pollfd){.fd = c->fd, .events = POLLIN};
		}
		if (poll(pfd, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			fb_log(FB_LOG_ERR, "vfs control: poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents)
			break;
		for (int k = 2; k < n; k++)
			if (pfd[k].revents)
				conn_read(ctl, &ctl->conns[map[k]]);
		if (pfd[1].revents & POLLIN)
			ctl_accept(ctl);
	}
	for (int i = 0; i < CTL_CONN_MAX; i++) {
		if (ctl->conns[i].fd >= 0) {
			close(ctl->conns[i].fd);
			ctl->conns[i].fd = -1;
		}
	}
	return NULL;
}

int fb_vfs_control_new(struct fb_vfs *vfs, const char *path, struct fb_vfs_control **ret)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct fb_vfs_control *ctl;
	struct stat st;
	int r;

	if (!vfs || !path || !ret)
		return -EINVAL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return fb__vfs_error(-ENAMETOOLONG, "control socket path too long");
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return fb__vfs_error(-EEXIST, "%s exists and is not a socket", path);
		unlink(path);
	}
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->vfs = vfs;
	ctl->stop[0] = ctl->stop[1] = -1;
	for (int i = 0; i < CTL_CONN_MAX; i++)
		ctl->conns[i].fd = -1;
	ctl->path = strdup(path);
	ctl->reply = malloc(CTL_REPLY_MAX);
	if (!ctl->path || !ctl->reply) {
		r = -ENOMEM;
		goto out_free;
	}
	ctl->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ctl->lfd < 0) {
		r = -errno;
		goto out_free;
	}
	if (bind(ctl->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = fb__vfs_error(-errno, "bind %s: %s", path, strerror(errno));
		goto out_close;
	}
	/* Only the owner may connect; the peer's uid is checked as well. */
	if (chmod(path, 0600) < 0 || listen(ctl->lfd, 16) < 0) {
		r = -errno;
		goto out_unlink;
	}
	if (pipe2(ctl->stop, O_CLOEXEC) < 0) {
		r = -errno;
		goto out_unlink;
	}
	r = -pthread_create(&ctl->thread, NULL, ctl_thread, ctl);
	if (r < 0)
		goto out_pipe;
	*ret = ctl;
	return 0;

out_pipe:
	close(ctl->stop[0]);
	close(ctl->stop[1]);
out_unlink:
	unlink(path);
out_close:
	close(ctl->lfd);
out_free:
	free(ctl->reply);
	free(ctl->path);
	free(ctl);
	return r;
}

void fb_vfs_control_free(struct fb_vfs_control *ctl)
{
	char b = 1;

	if (!ctl)
		return;
	while (write(ctl->stop[1], &b, 1) < 0 && errno == EINTR)
		;
	pthread_join(ctl->thread, NULL);
	close(ctl->stop[0]);
	close(ctl->stop[1]);
	close(ctl->lfd);
	unlink(ctl->path);
	free(ctl->reply);
	free(ctl->path);
	free(ctl);
}
