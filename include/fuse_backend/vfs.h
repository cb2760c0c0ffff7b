/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The VFS: several file systems served under one mount, mounted and unmounted while it serves.
 *
 * An fb_vfs is itself a file system: hand `fb_vfs_ops` and the struct fb_vfs pointer to
 * fb_server_new() and any transport serves it. It holds a pseudo file system (a read-only tree
 * of directories, created on demand for mount points; the root of the mount unless a backend is
 * mounted at "/") and up to FB_VFS_MAX_SLOTS backend file systems mounted at paths in it.
 *
 * Node ids: the top 8 bits of a node id name the slot (0 = the pseudo fs), the low 56 bits the
 * backend's own ino. A backend's root (FB_ROOT_ID) appears under the node id of its
 * mount-point directory. A backend that returns an ino of 2^56 or more gets -EOVERFLOW for
 * that entry (its lookup is given back with forget()): node ids never collide and no table
 * is needed on the request path. File handles are the backend's own.
 *
 * Lifecycle of a slot: fb_vfs_mount() puts a backend in a free slot and makes it visible at
 * its path. fb_vfs_umount() hides it at once (new lookups answer ENOENT, the kernel is told to
 * drop the name when a server is attached); requests on inodes the kernel still holds go on
 * being served, and once the kernel has forgotten every inode of the backend and no request
 * on it runs, the backend's destroy() and the release callback given at mount run, and only
 * then can the slot be used again. See docs/vfs.md.
 *
 * Thread safety: every function may be called from any thread while requests are served.
 */
#ifndef FUSE_BACKEND_VFS_H
#define FUSE_BACKEND_VFS_H

#include <stddef.h>
#include <stdint.h>

#include <fuse_backend/fs.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fb_vfs;
struct fb_server;

/* Backend slots are 1 to FB_VFS_MAX_SLOTS; slot 0 is the pseudo fs. */
#define FB_VFS_MAX_SLOTS 255
/* Bits of a node id that carry a backend's ino. */
#define FB_VFS_INO_BITS 56
#define FB_VFS_INO_MASK ((UINT64_C(1) << FB_VFS_INO_BITS) - 1)
/* Longest mount path accepted (bytes, without the NUL). */
#define FB_VFS_PATH_MAX 1024

/* The operations table of the VFS; its `fs` pointer is the struct fb_vfs. */
extern const struct fb_fs_ops fb_vfs_ops;

/* Settings for fb_vfs_new(). Zero fields take the defaults given. */
struct fb_vfs_config {
	size_t size;	/* sizeof(struct fb_vfs_config) as the caller was built; 0: the
			 * 1.0 layout (see version.h). Larger than the library knows: accepted
			 * when the fields it does not know are zero, else -E2BIG */
	/* Seconds the kernel may cache names and attributes of the pseudo fs: used when
	 * has_pseudo_timeout is non-zero, else 1.0. Mount and unmount tell the kernel to drop
	 * the mount point's name at once when a server is attached (fb_vfs_set_server). */
	double pseudo_timeout;
	int has_pseudo_timeout;
};

/* Create an empty VFS (a pseudo root, no backend). @cfg may be NULL. Stores it in *@ret. */
int fb_vfs_new(const struct fb_vfs_config *cfg, struct fb_vfs **ret);

/*
 * Free a VFS (NULL-safe): every backend still in a slot gets destroy() (if its init ran and
 * DESTROY has not come) and its release callback. No request may be running.
 */
void fb_vfs_free(struct fb_vfs *vfs);

/*
 * Attach the server that serves @vfs (borrowed; NULL detaches). Used for notifications: the
 * fb_vfs_notify_* helpers and the entry invalidations sent on mount and unmount.
 */
void fb_vfs_set_server(struct fb_vfs *vfs, struct fb_server *server);

/* fb_vfs_mount_opts.flags */
#define FB_VFS_MOUNT_READ_ONLY	   (1u << 0) /* every write operation answers EROFS */
#define FB_VFS_MOUNT_ENTRY_TIMEOUT (1u << 1) /* entry_timeout overrides the backend's */
#define FB_VFS_MOUNT_ATTR_TIMEOUT  (1u << 2) /* attr_timeout overrides the backend's */

/* Per-backend settings for fb_vfs_mount(). A zeroed struct (or NULL) means none. */
struct fb_vfs_mount_opts {
	size_t size;	/* sizeof(struct fb_vfs_mount_opts) as the caller was built; 0: the
			 * 1.0 layout (see version.h). Larger than the library knows: accepted
			 * when the fields it does not know are zero, else -E2BIG */
	uint32_t flags;	      /* FB_VFS_MOUNT_* */
	double entry_timeout; /* seconds, with FB_VFS_MOUNT_ENTRY_TIMEOUT */
	double attr_timeout;  /* seconds, with FB_VFS_MOUNT_ATTR_TIMEOUT */
	/* Called once when the slot is freed (after destroy()), to free @fs; may be NULL. Also
	 * called when fb_vfs_mount() fails after taking ownership (it never does: on failure
	 * the caller still owns @fs). */
	void (*release)(void *fs, void *priv);
	void *release_priv;
	/* Shown by fb_vfs_list(); copied. May be NULL. */
	const char *type;   /* e.g. "memfs" */
	const char *source; /* e.g. "/srv/data" */
};

/*
 * Mount the file system (@ops of @ops_size bytes, private pointer @fs) at @path, an absolute
 * path in the pseudo fs ("/" for the root). Missing directories on the way are created in the
 * pseudo fs. If the VFS has already answered INIT, the backend's init() runs now with the
 * negotiated connection; a backend that wants a flag the session did not negotiate is refused.
 * On success the VFS owns @fs (it is freed with opts->release), stores the slot (1-255) in
 * *@ret_slot if not NULL and returns 0. Errors (nothing changed, the caller keeps @fs):
 *   -EINVAL   bad path (relative, "." or "..", empty component, too long) or arguments
 *   -EEXIST   something is already mounted at @path
 *   -EBUSY    @path is inside a mounted backend, or backends are mounted below it
 *   -ENOTDIR  the backend's root is not a directory
 *   -ENOSPC   all 255 slots are in use (unmounted backends hold theirs until forgotten)
 *   -EOPNOTSUPP the backend needs INIT flags the session did not negotiate
 *   other     the backend's init() failed with it
 * fb_vfs_last_error() describes the failure in words.
 */
int fb_vfs_mount(struct fb_vfs *vfs, const char *path, const struct fb_fs_ops *ops, size_t ops_size,
		 void *fs, const struct fb_vfs_mount_opts *opts, int *ret_slot);

/*
 * Unmount the backend at @path: it disappears at once, its slot is freed when the kernel has
 * forgotten its inodes. Returns 0, -EINVAL for a bad path, -ENOENT when nothing is mounted
 * there.
 */
int fb_vfs_umount(struct fb_vfs *vfs, const char *path);

/*
 * The message of the last failing fb_vfs_* call on this thread ("" when none): for example
 * "/a/b is inside the backend mounted at /a". Valid until the next fb_vfs_* call here.
 */
const char *fb_vfs_last_error(void);

/* One mounted backend, as fb_vfs_list() reports it. */
struct fb_vfs_mount_info {
	char path[FB_VFS_PATH_MAX + 1];
	char type[64];
	char source[FB_VFS_PATH_MAX + 1];
	int slot;
	uint32_t flags; /* FB_VFS_MOUNT_* */
};

/*
 * Fill up to @max entries of @out with the mounted backends (in slot order) and return how
 * many are mounted (which may be more than @max). Unmounted backends waiting for the kernel
 * to forget them are not listed.
 */
int fb_vfs_list(struct fb_vfs *vfs, struct fb_vfs_mount_info *out, int max);

/*
 * Node ids for notifications. A backend's inos are not the kernel's node ids under a VFS:
 * map @ino of the backend in @slot to the node id the kernel knows. Returns 0, -ENOENT for an
 * empty slot, -EOVERFLOW for an ino that does not fit in 56 bits.
 */
int fb_vfs_ino_to_node(struct fb_vfs *vfs, int slot, fb_ino_t ino, fb_ino_t *ret);

/*
 * fb_server_notify_* for a backend of the VFS: the inos (backend's own) are mapped first.
 * Return what the server's function returns, -ENOTCONN without a server, or the error of
 * fb_vfs_ino_to_node().
 */
int fb_vfs_notify_inval_inode(struct fb_vfs *vfs, int slot, fb_ino_t ino, int64_t off, int64_t len);
int fb_vfs_notify_inval_entry(struct fb_vfs *vfs, int slot, fb_ino_t parent, const char *name,
			      size_t namelen, uint32_t flags);
int fb_vfs_notify_delete(struct fb_vfs *vfs, int slot, fb_ino_t parent, fb_ino_t child,
			 const char *name, size_t namelen);
int fb_vfs_notify_store(struct fb_vfs *vfs, int slot, fb_ino_t ino, uint64_t off, const void *data,
			size_t size);
int fb_vfs_notify_retrieve(struct fb_vfs *vfs, int slot, fb_ino_t ino, uint64_t off, uint32_t size,
			   uint64_t cookie);

/*
 * Backend types, so that mounts can be named in text ("memfs", "passthrough:/srv") by the
 * control socket and by daemons' --mount options.
 */
struct fb_vfs_type {
	const char *name; /* [a-z0-9_-]+, copied */
	/*
	 * Create a backend from @args (the text after "TYPE:" with the VFS's own options
	 * removed; "" when none). Fill *@ops, *@ops_size and *@fs and return 0, or return a
	 * negative errno and may write a message into @err (@errlen bytes).
	 */
	int (*create)(void *priv, const char *args, const struct fb_fs_ops **ops, size_t *ops_size,
		      void **fs, char *err, size_t errlen);
	/* Free a backend made by create(). */
	void (*free)(void *priv, void *fs);
	void *priv;
};

/* Register a type (copied; a later registration of the same name replaces it). */
int fb_vfs_register_type(struct fb_vfs *vfs, const struct fb_vfs_type *type);

/* The types the library ships (memfs, passthrough): fb_vfs_register_builtin_types() in main.h. */

/*
 * Mount a backend described by text at @path: @spec is "TYPE" or "TYPE:ARGS", where ARGS is a
 * comma-separated list. The VFS takes its own options out of it (`ro`, `entry_timeout=SEC`,
 * `attr_timeout=SEC`, `timeout=SEC` for both) and gives the rest to the type's create().
 * Returns 0 or a negative errno as fb_vfs_mount(), plus -ENOENT for an unknown type, with a
 * message in fb_vfs_last_error().
 */
int fb_vfs_mount_spec(struct fb_vfs *vfs, const char *path, const char *spec, int *ret_slot);

/*
 * The control socket: a Unix stream socket at @path (created with mode 0600; an existing
 * socket file there is replaced) served by a thread of its own. Only a peer with the daemon's
 * uid, or root, is answered. One request line per connection, one reply line:
 *   mount PATH TYPE[:ARGS]    ->  "ok slot N"
 *   umount PATH               ->  "ok"
 *   list                      ->  "ok N" then N lines "PATH TYPE SOURCE SLOT"
 * Errors: "error <ERRNO-NAME>: <message>". See docs/vfs.md.
 */
struct fb_vfs_control;
int fb_vfs_control_new(struct fb_vfs *vfs, const char *path, struct fb_vfs_control **ret);

/* Stop the control thread, close and unlink the socket (NULL-safe). */
void fb_vfs_control_free(struct fb_vfs_control *c);

/*
 * Handle one request line @line (without the newline, @len bytes) and write the reply (with
 * its final newline, NUL-terminated) into @reply (@size bytes). The control socket's parser,
 * exposed for tests and for other front ends. Returns 0 when the reply is "ok", else the
 * negative errno reported.
 */
int fb_vfs_control_handle(struct fb_vfs *vfs, const char *line, size_t len, char *reply,
			  size_t size);

#ifdef __cplusplus
}
#endif

#endif /* FUSE_BACKEND_VFS_H */
