/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * A session: one mount and its /dev/fuse connection, and the transport callbacks the server
 * uses to reach the kernel outside of a reply (notifications, passthrough backing files).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fuse_backend/abi.h>

#include "fusedev_i.h"
#include "sized_i.h"

static int dev_send_notify(void *priv, const struct iovec *iov, int iovcnt)
{
	struct fb_session *se = priv;
	ssize_t n;

	if (se->fd < 0)
		return -ENOTCONN;
	do {
		n = writev(se->fd, iov, iovcnt);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

static int dev_backing_open(void *priv, int fd)
{
	struct fb_session *se = priv;
	struct fb_backing_map map = {.fd = fd};
	int r;

	if (se->fd < 0)
		return -ENOTCONN;
	r = ioctl(se->fd, FB_DEV_IOC_BACKING_OPEN, &map);
	if (r < 0)
		return errno == ENOTTY ? -EOPNOTSUPP : -errno;
	return r;
}

static int dev_backing_close(void *priv, int backing_id)
{
	struct fb_session *se = priv;
	uint32_t id = (uint32_t)backing_id;

	if (se->fd < 0)
		return -ENOTCONN;
	if (backing_id <= 0)
		return -EINVAL;
	if (ioctl(se->fd, FB_DEV_IOC_BACKING_CLOSE, &id) < 0)
		return -errno;
	return 0;
}

/* A deferred request is answered: its token (a channel's reply buffer, an io_uring entry)
 * knows how to send the reply. */
static void dev_complete(void *priv, void *token, ssize_t len)
{
	struct fb__completion *c = token;

	(void)priv;
	c->fn(c, len);
}

/* Registering a backing file needs CAP_SYS_ADMIN: only offer passthrough when we have it. */
static int have_cap_sys_admin(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return 0;
	return !!(data[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32)));
}

int fb_session_new(struct fb_server *server, struct fb_session **ret)
{
	struct fb_session *se;
	int r;

	if (!server || !ret)
		return -EINVAL;
	se = calloc(1, sizeof(*se));
	if (!se)
		return -ENOMEM;
	se->server = server;
	se->fd = -1;
	se->helper_sock = -1;
	se->helper_err = -1;
	se->exit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (se->exit_fd < 0) {
		r = -errno;
		goto out_free;
	}
	r = pthread_mutex_init(&se->lock, NULL);
	if (r) {
		r = -r;
		goto out_close_exit_fd;
	}
	se->tops.size = sizeof(se->tops);
	se->tops.send_notify = dev_send_notify;
	se->tops.backing_open = dev_backing_open;
	se->tops.backing_close = dev_backing_close;
	se->tops.complete = dev_complete;
	if (have_cap_sys_admin())
		se->tops.caps |= FB_PASSTHROUGH;
	fb_server_set_transport(server, &se->tops, se);
	*ret = se;
	return 0;

out_close_exit_fd:
	close(se->exit_fd);
out_free:
	free(se);
	return r;
}

void fb_session_set_init_hook(struct fb_session *se, fb_session_init_fn fn, void *priv)
{
	se->init_hook = fn;
	se->init_hook_priv = priv;
}

void fb_session_add_caps(struct fb_session *se, uint64_t caps)
{
	se->tops.caps |= caps;
	/* The server keeps a copy of the table: hand it the new one. */
	fb_server_set_transport(se->server, &se->tops, se);
}

void fb_session_set_forget_gather(struct fb_session *se, unsigned int us)
{
	atomic_store(&se->forget_gather_us, us);
}

int fb_session_mount(struct fb_session *se, const char *mountpoint,
		     const struct fb_mount_opts *opts)
{
	struct fb_mount_opts o = { 0 };
	struct fb__mount_result res;
	char *mp;
	int r;

	if (!se || !mountpoint)
		return -EINVAL;
	if (se->fd >= 0)
		return -EALREADY;
	r = fb__sized_in(&o, sizeof(o), opts, FB__MOUNT_OPTS_SIZE_V1);
	if (r < 0)
		return r;
	opts = &o;
	r = fb__mount(mountpoint, opts, &res);
	if (r < 0)
		return r;
	mp = realpath(mountpoint, NULL);
	if (!mp)
		mp = strdup(mountpoint);
	pthread_mutex_lock(&se->lock);
	se->fd = res.fd;
	se->mountpoint = mp;
	se->mounted = 1;
	se->via_fusermount = res.via_fusermount;
	se->helper_pid = res.helper_pid;
	se->helper_sock = res.helper_sock;
	se->helper_err = res.helper_err;
	if (mp && fb__mountinfo_find(mp, NULL, 0, &se->conn_id) <= 0)
		se->conn_id = 0;
	pthread_mutex_unlock(&se->lock);
	/* The kernel takes FB_ALLOW_IDMAP only from a mount with default_permissions. */
	if (opts && opts->default_permissions)
		fb_session_add_caps(se, FB_ALLOW_IDMAP);
	if (!mp)
		fb_log(FB_LOG_WARNING, "out of memory: %s will not be unmounted at exit",
		       mountpoint);
	return 0;
}

int fb_session_adopt_fd(struct fb_session *se, int fd, const char *mountpoint)
{
	if (!se || fd < 0)
		return -EINVAL;
	if (se->fd >= 0)
		return -EALREADY;
	pthread_mutex_lock(&se->lock);
	se->fd = fd;
	if (mountpoint) {
		se->mountpoint = strdup(mountpoint);
		se->mounted = se->mountpoint != NULL;
		if (se->mounted && fb__mountinfo_find(mountpoint, NULL, 0, &se->conn_id) <= 0)
			se->conn_id = 0;
	}
	pthread_mutex_unlock(&se->lock);
	return 0;
}

/*
 * Let the auto_unmount helper go: it sees the socket close and exits. The byte tells our own
 * watchdog (mount.c) that the mount is no longer ours to remove; fusermount3 ignores it.
 * Lock held.
 */
static void release_helper(struct fb_session *se)
{
	if (se->helper_sock >= 0) {
		if (send(se->helper_sock, "q", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* the helper is gone: nothing to tell */
		}
		close(se->helper_sock);
		se->helper_sock = -1;
	}
	if (se->helper_pid > 0) {
		/* ECHILD when we daemonized after mounting: init reaps it then. */
		while (waitpid(se->helper_pid, NULL, 0) < 0 && errno == EINTR)
			;
		se->helper_pid = 0;
	}
	if (se->helper_err >= 0) {
		close(se->helper_err);
		se->helper_err = -1;
	}
}

/* Is our connection still what is mounted on the mount point? Lock held. */
static int still_ours(struct fb_session *se)
{
	unsigned int minor = 0;
	int r;

	if (!se->conn_id)
		return 1; /* unknown: assume so */
	r = fb__mountinfo_find(se->mountpoint, NULL, 0, &minor);
	if (r < 0)
		return 1;
	return r > 0 && minor == se->conn_id;
}

/*
 * An O_PATH descriptor of what is mounted on our mount point, when it is our connection (the
 * device of its root is our connection's; AT_STATX_DONT_SYNC: nothing is asked of a connection
 * that may be dead). Unmounting through /proc/self/fd/N then acts on that very mount, even if
 * the path is taken by a newer mount a moment later, where a path-based umount2() would take
 * the newer one down. Returns the descriptor, -ESRCH when another file system is mounted
 * there now, or -errno when it cannot tell (then the caller falls back to the path). Lock held.
 */
static int open_ours(struct fb_session *se)
{
	struct statx sx;
	int fd, r;

	if (!se->conn_id)
		return -ENOENT;
	fd = open(se->mountpoint, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE, &sx) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (sx.stx_dev_major != 0 || sx.stx_dev_minor != se->conn_id) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

/*
 * umount2(@flags) of our mount through its descriptor (see open_ours()). Returns 0, -ESRCH
 * when the mount point holds another file system now (nothing done), -EAGAIN when the
 * descriptor way is not available (no /proc, conn_id unknown: use the path), or -errno of
 * umount2(). Lock held.
 */
static int umount_ours(struct fb_session *se, int flags)
{
	char path[64];
	int fd = open_ours(se), r = 0;

	if (fd == -ESRCH)
		return fd;
	if (fd < 0)
		return -EAGAIN;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (umount2(path, flags) < 0)
		r = errno == ENOENT ? -EAGAIN : -errno;
	close(fd);
	return r;
}

void fb__session_force_unmount(struct fb_session *se)
{
	pthread_mutex_lock(&se->lock);
	/* MNT_FORCE makes FUSE abort the connection; only ever on our own mount. */
	if (se->mounted && se->mountpoint && geteuid() == 0)
		(void)umount_ours(se, MNT_FORCE);
	pthread_mutex_unlock(&se->lock);
}

int fb_session_unmount(struct fb_session *se, int lazy)
{
	return fb__session_unmount(se, lazy, 0);
}

int fb__session_unmount(struct fb_session *se, int lazy, int quiet)
{
	int r = 0;

	if (!se)
		return -EINVAL;
	pthread_mutex_lock(&se->lock);
	if (se->mounted && se->mountpoint && !still_ours(se))
		se->mounted = 0; /* unmounted from outside; never touch a newer mount */
	if (se->mounted && se->mountpoint) {
		r = -EAGAIN;
		/* A lazy unmount cannot be refused as busy: do it on our mount by descriptor
		 * (a non-lazy one by path: the descriptor itself would make the mount busy). */
		if (lazy && (geteuid() == 0 || !se->via_fusermount)) {
			r = umount_ours(se, MNT_DETACH);
			if (r == -ESRCH || r == -EINVAL)
				r = 0; /* not ours any more / already detached */
		}
		if (r == -EAGAIN)
			r = fb__unmount(se->mountpoint, lazy, se->via_fusermount, quiet);
		if (r == 0)
			se->mounted = 0;
	}
	if (r == 0)
		release_helper(se);
	pthread_mutex_unlock(&se->lock);
	return r;
}

void fb_session_exit(struct fb_session *se)
{
	uint64_t one = 1;
	ssize_t n;

	/* Only lock-free atomics and write(2): this runs in signal handlers. */
	atomic_store(&se->exit_requested, 1);
	n = write(se->exit_fd, &one, sizeof(one));
	(void)n;
}

void fb__session_ended(struct fb_session *se)
{
	uint64_t one = 1;
	ssize_t n;

	atomic_store(&se->ended, 1);
	n = write(se->exit_fd, &one, sizeof(one));
	(void)n;
}

int fb_session_exited(const struct fb_session *se)
{
	return atomic_load(&((struct fb_session *)se)->exit_requested) ||
	       atomic_load(&((struct fb_session *)se)->ended);
}

int fb_session_exit_fd(const struct fb_session *se)
{
	return se->exit_fd;
}

int fb_session_fd(const struct fb_session *se)
{
	return se->fd;
}

struct fb_server *fb_session_server(const struct fb_session *se)
{
	return se->server;
}

const char *fb_session_mountpoint(const struct fb_session *se)
{
	return se->mountpoint;
}

void fb_session_free(struct fb_session *se)
{
	if (!se)
		return;
	/* Channels and rings are gone or going: no deferred request may still wait for them. */
	fb_server_cancel_deferred(se->server);
	if (se->mounted && fb__session_unmount(se, 0, 1) < 0)
		fb_session_unmount(se, 1);
	pthread_mutex_lock(&se->lock);
	release_helper(se);
	pthread_mutex_unlock(&se->lock);
	if (se->fd >= 0)
		close(se->fd);
	close(se->exit_fd);
	pthread_mutex_destroy(&se->lock);
	free(se->mountpoint);
	free(se);
}
