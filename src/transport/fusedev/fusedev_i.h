/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Internal to the /dev/fuse transport: the session and channel objects, the mount helpers. */
#ifndef FB_FUSEDEV_I_H
#define FB_FUSEDEV_I_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <fuse_backend/fusedev.h>
#include <fuse_backend/server.h>

#include "transport/completion_i.h"

struct fb_session {
	struct fb_server *server;	/* borrowed */
	struct fb_transport_ops tops;	/* what the server sees of us; caps settable until INIT */
	int fd;				/* the connection's /dev/fuse fd, -1 before mounting */
	int exit_fd;			/* eventfd: written by fb_session_exit() and at the end */
	atomic_int exit_requested;	/* fb_session_exit() was called */
	atomic_int ended;		/* a channel saw ENODEV: the connection is gone */
	fb_session_init_fn init_hook;	/* called once after the INIT reply; set before mount */
	void *init_hook_priv;
	atomic_int init_hook_done;	/* the hook has been claimed by a channel */

	pthread_mutex_t lock;		/* protects the fields below (mount state) */
	char *mountpoint;		/* canonical path, or NULL */
	int mounted;			/* the mount is (believed to be) in place */
	int via_fusermount;		/* mounted by fusermount3: unmount through it unless root */
	pid_t helper_pid;		/* fusermount3 kept alive for auto_unmount, or 0 */
	int helper_sock;		/* our end of its socket; closing it unmounts, or -1 */
	int helper_err;			/* read end of the helper's stderr pipe, or -1 */
	unsigned int conn_id;		/* minor device number of the mount (fusectl name), or 0 */
	atomic_uint forget_gather_us;	/* > 0: see fb_session_set_forget_gather() */
};

/* A channel's reply buffer, which leaves the channel with a request that answers later. */
struct fb__dev_reply {
	struct fb__completion c;	/* writes the reply on ch's fd, then frees all this */
	struct fb_channel *ch;		/* holds a reference while the request is deferred */
	void *buf;
	size_t size;
	struct iovec iov;		/* the writer's iovec: must live as long as the request */
};

struct fb_channel {
	struct fb_session *se;		/* borrowed */
	atomic_uint refs;		/* fb_channel_free() and each deferred request's reply */
	struct fb__dev_reply *spare;	/* the reply buffer's token for the next request */
	int fd;				/* cloned /dev/fuse fd (owned) */
	unsigned int flags;		/* FB_CHANNEL_* */
	void *req;			/* request buffer */
	size_t req_size;
	void *rep;			/* reply buffer (spare->buf) */
	size_t rep_size;
	struct iovec req_iov;		/* what the reader of the last request walks */
	uint32_t opcode;		/* opcode of the last request received */
};

/* How a mount was made, for unmounting later (filled by fb__mount()). */
struct fb__mount_result {
	int fd;				/* /dev/fuse fd of the new connection */
	int via_fusermount;
	pid_t helper_pid;		/* auto_unmount helper still running, or 0 */
	int helper_sock;		/* socket to that helper, or -1 */
	int helper_err;			/* read end of its stderr pipe, or -1 */
};

/*
 * Build the data string mount(2) takes for a FUSE mount ("fd=N,rootmode=...,user_id=...,
 * group_id=...", then the kernel options) into @buf (@len bytes) and the MS_* flags into
 * *@flags. Pure function. Returns 0, -EINVAL for options the kernel cannot take for a "fuse"
 * mount (blksize), -ENAMETOOLONG when @buf is too small.
 */
int fb__mount_kernel_data(const struct fb_mount_opts *o, int fd, mode_t rootmode, uid_t uid,
			  gid_t gid, char *buf, size_t len, unsigned long *flags);

/*
 * Build the "-o" argument for fusermount3 from @o. Pure function. Returns 0, -EINVAL for
 * values fusermount3 would misparse (a comma in fsname/subtype), -ENAMETOOLONG.
 */
int fb__mount_fusermount_opts(const struct fb_mount_opts *o, char *buf, size_t len);

/*
 * Look @path (canonical) up in /proc/self/mountinfo. Returns 1 and fills @fstype (@fslen
 * bytes) and *@minor for the topmost mount there, 0 when nothing is mounted exactly there, or
 * a negative errno.
 */
int fb__mountinfo_find(const char *path, char *fstype, size_t fslen, unsigned int *minor);

/* Check @mnt and mount it; logs why it refuses. Fills @res. */
int fb__mount(const char *mnt, const struct fb_mount_opts *o, struct fb__mount_result *res);

/*
 * Unmount @mnt (lazily with @lazy); through fusermount3 when @via_fusermount and not root.
 * Logs why it failed unless @quiet. Not mounted counts as success.
 */
int fb__unmount(const char *mnt, int lazy, int via_fusermount, int quiet);

/* fb_session_unmount() with a @quiet flag for fb__unmount(). */
int fb__session_unmount(struct fb_session *se, int lazy, int quiet);

/*
 * umount2(MNT_FORCE) of the session's mount, which makes FUSE abort the connection: through a
 * descriptor of the mount, only when what is mounted on the mount point is still our
 * connection, so a newer mount on the same path is never touched. Root only; no-op otherwise.
 */
void fb__session_force_unmount(struct fb_session *se);

/* Abort connection @conn_id through the fusectl file system, if it is mounted. */
int fb__abort_conn(unsigned int conn_id);

/* A channel saw the end of the connection: mark the session ended and wake its waiters. */
void fb__session_ended(struct fb_session *se);

/* The second half of fb_channel_process(): hand a received request to the server and send
 * the reply. Returns 0, -ENODEV when the session is over, or another negative errno. */
int fb__channel_handle(struct fb_channel *ch, struct fb_reader *rd, struct fb_writer *wr);

#endif /* FB_FUSEDEV_I_H */
