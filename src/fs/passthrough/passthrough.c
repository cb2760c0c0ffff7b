/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The passthrough instance: configuration, opening the source, INIT negotiation.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/server.h>

#include "passthrough_i.h"
#include "util/parse_i.h"
#include "sized_i.h"

void fb_passthrough_config_init(struct fb_passthrough_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cache = FB_PT_CACHE_AUTO;
	cfg->timeout = -1;
	cfg->dir_timeout = -1;
	cfg->readdirplus = 1;
	cfg->xattr = 1;
	cfg->allow_direct_io = 1;
	cfg->killpriv_v2 = 1;
	cfg->passthrough = 1;
	cfg->cred_switch = 1;
	cfg->size = sizeof(*cfg);
}

int fb_passthrough_cache_parse(const char *name, enum fb_passthrough_cache *out)
{
	static const char *const names[] = {"never", "metadata", "auto", "always"};

	for (int i = 0; i < 4; i++) {
		if (name && strcmp(name, names[i]) == 0) {
			*out = (enum fb_passthrough_cache)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* On/off options: "NAME" sets the field, "no_NAME" clears it. */
static const struct {
	const char *name;
	size_t off;
} pt_flags[] = {
	{"writeback", offsetof(struct fb_passthrough_config, writeback)},
	{"readdirplus", offsetof(struct fb_passthrough_config, readdirplus)},
	{"xattr", offsetof(struct fb_passthrough_config, xattr)},
	{"posix_acl", offsetof(struct fb_passthrough_config, posix_acl)},
	{"open", offsetof(struct fb_passthrough_config, no_open)}, /* inverted: see below */
	{"opendir", offsetof(struct fb_passthrough_config, no_opendir)},
	{"killpriv_v2", offsetof(struct fb_passthrough_config, killpriv_v2)},
	{"submounts", offsetof(struct fb_passthrough_config, submounts)},
	{"passthrough", offsetof(struct fb_passthrough_config, passthrough)},
	{"posix_lock", offsetof(struct fb_passthrough_config, posix_locks)},
	{"direct_io", offsetof(struct fb_passthrough_config, allow_direct_io)},
	{"allow_idmap", offsetof(struct fb_passthrough_config, allow_idmap)},
};

int fb_passthrough_opt_set(struct fb_passthrough_config *cfg, const char *name,
			   const char *value)
{
	const char *base = name;
	int on = 1;

	if (!cfg || !name)
		return -EINVAL;
	if (strcmp(name, "cache") == 0)
		return fb_passthrough_cache_parse(value, &cfg->cache);
	if (strcmp(name, "timeout") == 0)
		return fb__parse_seconds(value, &cfg->timeout);
	if (strcmp(name, "dir_timeout") == 0)
		return fb__parse_seconds(value, &cfg->dir_timeout);
	if (strncmp(name, "no_", 3) == 0) {
		base = name + 3;
		on = 0;
	}
	for (size_t i = 0; i < sizeof(pt_flags) / sizeof(pt_flags[0]); i++) {
		if (strcmp(pt_flags[i].name, base) != 0)
			continue;
		if (value)
			return -EINVAL;
		/* no_open and no_opendir are the fields; "open" alone is not an option. */
		if (pt_flags[i].off == offsetof(struct fb_passthrough_config, no_open) ||
		    pt_flags[i].off == offsetof(struct fb_passthrough_config, no_opendir)) {
			if (on)
				return -ENOENT;
			on = 1;
		}
		*(int *)((char *)cfg + pt_flags[i].off) = on;
		return 0;
	}
	return -ENOENT;
}

const char *fb_passthrough_opt_help(void)
{
	return "cache=MODE\tnever|metadata|auto|always (default auto)\n"
	       "timeout=SECONDS\tname/attribute cache (default by cache=)\n"
	       "dir_timeout=SECONDS\tthe same for directories (default timeout)\n"
	       "[no_]writeback\tkernel write-back cache (off)\n"
	       "[no_]readdirplus\tattributes with listings (on)\n"
	       "[no_]xattr\textended attributes (on)\n"
	       "[no_]posix_acl\tkernel enforces ACLs (fb-passthrough: on if SOURCE has them)\n"
	       "no_open\tno OPEN requests (use with read-only data)\n"
	       "no_opendir\tno OPENDIR requests\n"
	       "[no_]killpriv_v2\tclear suid/sgid as the kernel asks (on)\n"
	       "[no_]submounts\tannounce mounts inside the source (off)\n"
	       "[no_]passthrough\tFUSE passthrough I/O (on if offered)\n"
	       "[no_]posix_lock\tfcntl/flock locks on the host (off)\n"
	       "[no_]direct_io\thonour O_DIRECT opens (on)\n"
	       "[no_]allow_idmap\tidmapped mounts of the mount point (off; with default_permissions)";
}

static double policy_timeout(enum fb_passthrough_cache c)
{
	switch (c) {
	case FB_PT_CACHE_NEVER:
		return 0;
	case FB_PT_CACHE_ALWAYS:
		return 86400;
	default:
		return 1;
	}
}

/*
 * With FUSE passthrough the kernel reads the host file through a backing file it opens on the
 * registered file's mount, with the FUSE file's flags: our O_NOATIME does not reach it, but a
 * noatime mount does. A private clone of the source's mount (not attached anywhere, gone with
 * its last descriptor) with MOUNT_ATTR_NOATIME, or -1 (needs CAP_SYS_ADMIN; the caller then
 * registers its ordinary descriptors). Only inodes on the source's own mount use it.
 */
static int noatime_mount(int root_fd)
{
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_NOATIME,
		.attr_clr = MOUNT_ATTR__ATIME,
	};
	int fd = open_tree(root_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);

	if (fd < 0)
		return -1;
	if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Whether the file system of directory @fd keeps POSIX ACLs: asking for one answers ENODATA
 * (or the ACL) there, EOPNOTSUPP elsewhere.
 */
static int source_has_acls(int fd)
{
	return fgetxattr(fd, "system.posix_acl_access", NULL, 0) >= 0 || errno != EOPNOTSUPP;
}

int fb_passthrough_new(const struct fb_passthrough_config *cfg, struct fb_passthrough **ret)
{
	struct fb_passthrough_config c;
	struct fb_passthrough *pt;
	struct statx sx;
	int has_maps, r;

	if (!cfg)
		return -EINVAL;
	/* Fields the caller's (older) layout lacks keep the defaults. */
	fb_passthrough_config_init(&c);
	r = fb__sized_in(&c, sizeof(c), cfg, FB__PASSTHROUGH_CONFIG_SIZE_V1);
	if (r < 0)
		return r;
	cfg = &c;
	if (!cfg->source || !cfg->source[0])
		return -EINVAL;
	if ((unsigned)cfg->cache > FB_PT_CACHE_ALWAYS || cfg->timeout > 1e9 ||
	    cfg->dir_timeout > 1e9 || cfg->timeout != cfg->timeout ||
	    cfg->dir_timeout != cfg->dir_timeout)
		return -EINVAL;

	has_maps = cfg->nuid_map || cfg->ngid_map;
	if (has_maps && cfg->posix_acl > 0)
		return -EINVAL;

	pt = calloc(1, sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	pt->cfg = *cfg;
	pt->cfg.source = NULL;
	pt->cfg.uid_map = pt->cfg.gid_map = NULL; /* borrowed: kept as tables below */
	pt->cfg.nuid_map = pt->cfg.ngid_map = 0;
	if (has_maps) {
		r = fb__pt_idmap_init(&pt->uids, cfg->uid_map, cfg->nuid_map);
		if (r == 0)
			r = fb__pt_idmap_init(&pt->gids, cfg->gid_map, cfg->ngid_map);
		if (r < 0)
			goto out_free;
		pt->idmapped = pt->uids.set || pt->gids.set;
	}
	pt->proc_fd = -1;
	pt->entry_timeout = cfg->timeout >= 0 ? cfg->timeout : policy_timeout(cfg->cache);
	pt->dir_timeout = cfg->dir_timeout >= 0 ? cfg->dir_timeout : pt->entry_timeout;

	pt->root_fd = open(cfg->source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pt->root_fd < 0) {
		r = -errno;
		goto out_free;
	}
	pt->host_acls = source_has_acls(pt->root_fd);
	if (pt->cfg.posix_acl < 0)
		pt->cfg.posix_acl = cfg->xattr && !has_maps && pt->host_acls;
	pt->proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pt->proc_fd < 0) {
		r = -errno;
		goto out_close;
	}
	pt->proc_pid = getpid();
	if (statx(pt->root_fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_MNT_ID, &sx) < 0) {
		r = -errno;
		goto out_close;
	}
	pt->root.id = FB_ROOT_ID;
	pt->root.dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	pt->root.ino = sx.stx_ino;
	pt->root.mnt_id = (sx.stx_mask & STATX_MNT_ID) ? sx.stx_mnt_id : 0;
	pt->root.mode = S_IFDIR;
	pt->root.fd = pt->root_fd;
	pt->root.nlookup = 1;

	r = fb__pt_tables_init(pt);
	if (r < 0)
		goto out_close;
	pthread_mutex_init(&pt->lock, NULL);
	pthread_mutex_init(&pt->hlock, NULL);
	pthread_mutex_init(&pt->backing_lock, NULL);
	fb__pt_locks_init(pt);
	pt->ninodes = 1;

	/* File handles: can we make one and open it again (needs CAP_DAC_READ_SEARCH)? */
	{
		union {
			struct file_handle fh;
			char raw[sizeof(struct file_handle) + FB__PT_HANDLE_MAX];
		} hb;
		int mid, fd;
		hb.fh.handle_bytes = FB__PT_HANDLE_MAX;
		if (name_to_handle_at(pt->root_fd, "", &hb.fh, &mid, AT_EMPTY_PATH) == 0) {
			fd = open_by_handle_at(pt->root_fd, &hb.fh, O_PATH | O_CLOEXEC);
			if (fd >= 0) {
				close(fd);
				pt->mounts = malloc(sizeof(*pt->mounts));
				if (pt->mounts) {
					pt->mounts[0].mnt_id = pt->root.mnt_id;
					pt->mounts[0].fd = pt->root_fd;
					pt->nmounts = 1;
					pt->use_handles = 1;
				}
			}
		}
	}

	pt->noatime_fd = -1;
	if (cfg->noatime)
		pt->noatime_fd = noatime_mount(pt->root_fd);

	pt->cred_switch = cfg->cred_switch && geteuid() == 0;
	pt->saved_egid = getegid();
	int ng = getgroups(0, NULL);
	if (ng > 0) {
		pt->saved_groups = calloc((size_t)ng, sizeof(gid_t));
		if (!pt->saved_groups) {
			r = -ENOMEM;
			goto out_tables;
		}
		ng = getgroups(ng, pt->saved_groups);
		pt->saved_ngroups = ng > 0 ? (uint32_t)ng : 0;
	}
	/* The caller's umask is applied from each request; the process's must not add to it. */
	umask(0);
	*ret = pt;
	return 0;

out_tables:
	fb__pt_locks_done(pt);
	fb__pt_tables_done(pt);
	pthread_mutex_destroy(&pt->lock);
	pthread_mutex_destroy(&pt->hlock);
	pthread_mutex_destroy(&pt->backing_lock);
out_close:
	if (pt->proc_fd >= 0)
		close(pt->proc_fd);
	close(pt->root_fd);
out_free:
	fb__pt_idmap_done(&pt->uids);
	fb__pt_idmap_done(&pt->gids);
	free(pt);
	return r;
}

void fb_passthrough_free(struct fb_passthrough *pt)
{
	if (!pt)
		return;
	fb__pt_locks_done(pt);
	fb__pt_tables_done(pt);
	pthread_mutex_destroy(&pt->lock);
	pthread_mutex_destroy(&pt->hlock);
	pthread_mutex_destroy(&pt->backing_lock);
	close(pt->proc_fd);
	close(pt->root_fd);
	if (pt->noatime_fd >= 0)
		close(pt->noatime_fd);
	free(pt->saved_groups);
	fb__pt_idmap_done(&pt->uids);
	fb__pt_idmap_done(&pt->gids);
	free(pt);
}

uint64_t fb_passthrough_inode_count(const struct fb_passthrough *pt)
{
	uint64_t n;

	pthread_mutex_lock((pthread_mutex_t *)&pt->lock);
	n = pt->ninodes;
	pthread_mutex_unlock((pthread_mutex_t *)&pt->lock);
	return n;
}

uint64_t fb_passthrough_handle_count(const struct fb_passthrough *pt)
{
	uint64_t n;

	pthread_mutex_lock((pthread_mutex_t *)&pt->hlock);
	n = pt->handles_open;
	pthread_mutex_unlock((pthread_mutex_t *)&pt->hlock);
	return n;
}

/* Set @bit in conn->want when @on and the kernel offers it, else clear it. Returns on-ness. */
static int want(struct fb_conn *conn, uint64_t bit, int on)
{
	if (on && (conn->capable & bit)) {
		conn->want |= bit;
		return 1;
	}
	conn->want &= ~bit;
	return 0;
}

/*
 * Does FLUSH (close() of a duplicate of the host descriptor) do anything? It releases host
 * locks, and on a network file system close() writes back and reports errors. On the local
 * file systems below it does nothing, so opens there carry FOPEN_NOFLUSH and each close() is
 * one round trip shorter. Anything else, or an unknown type, keeps FLUSH.
 */
static int want_flush(struct fb_passthrough *pt, const struct fb_passthrough_config *c)
{
	static const unsigned long local[] = {
		0xEF53,		/* ext2, ext3, ext4 */
		0x01021994,	/* tmpfs */
		0x58465342,	/* xfs */
		0x9123683E,	/* btrfs */
		0xF2F52010,	/* f2fs */
	};
	struct statfs sfs;

	if (c->posix_locks)
		return 1;
	if (fstatfs(pt->root_fd, &sfs) < 0)
		return 1;
	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if ((unsigned long)sfs.f_type == local[i])
			return 0;
	return 1;
}

int fb__pt_init(void *fs, struct fb_conn *conn)
{
	struct fb_passthrough *pt = fs;
	const struct fb_passthrough_config *c = &pt->cfg;
	int fd;

	/*
	 * /proc/self/fd as opened by fb_passthrough_new() names that process; a daemon that
	 * forked to the background since then serves from its child. Reopen it here, in the
	 * serving process, before any other request runs. Only then: a sandboxed daemon
	 * (fb-virtiofsd) has no /proc in its root any more and keeps the descriptor it opened.
	 */
	if (getpid() != pt->proc_pid) {
		fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (dup3(fd, pt->proc_fd, O_CLOEXEC) < 0) {
			int r = -errno;
			close(fd);
			return r;
		}
		close(fd);
		pt->proc_pid = getpid();
	}

	want(conn, FB_DONT_MASK, 1);
	/* Without OPEN requests nobody would truncate: let the kernel send SETATTR instead. */
	want(conn, FB_ATOMIC_O_TRUNC, !c->no_open);
	want(conn, FB_DIRECT_IO_ALLOW_MMAP, 1);
	want(conn, FB_PARALLEL_DIROPS, 1);
	want(conn, FB_POSIX_LOCKS, c->posix_locks);
	/*
	 * flock() needs an open file to hold the lock; and since the kernel sends RELEASE
	 * asynchronously, a lock dropped by the last close() may still be held on the host
	 * for a moment, so host flock locks come only with the other host locks.
	 */
	want(conn, FB_FLOCK_LOCKS, c->posix_locks && !c->no_open);
	want(conn, FB_HAS_IOCTL_DIR, 1);
	/*
	 * NFS-style export (name_to_handle_at / open_by_handle_at on the mount): the kernel looks
	 * up "." and ".." (ops.c); handles of forgotten inodes work with host file handles only.
	 */
	pt->export = want(conn, FB_EXPORT_SUPPORT, 1) && pt->use_handles;
	if (conn->want & FB_EXPORT_SUPPORT)
		want(conn, FB_NO_EXPORT_SUPPORT, 0);
	if (want(conn, FB_DO_READDIRPLUS, c->readdirplus))
		want(conn, FB_READDIRPLUS_AUTO, 1);
	else
		want(conn, FB_READDIRPLUS_AUTO, 0);
	want(conn, FB_AUTO_INVAL_DATA, c->cache == FB_PT_CACHE_AUTO);
	want(conn, FB_CACHE_SYMLINKS, c->cache == FB_PT_CACHE_ALWAYS);
	want(conn, FB_POSIX_ACL, c->posix_acl && c->xattr);
	/* With FB_ALLOW_IDMAP the kernel sends FB_INVALID_UIDGID as the caller of most requests
	 * (creds.c); our own id map needs the caller's real ids. */
	pt->allow_idmap = want(conn, FB_ALLOW_IDMAP,
			       !pt->idmapped && c->allow_idmap);
	pt->writeback =
		want(conn, FB_WRITEBACK_CACHE, c->writeback && c->cache != FB_PT_CACHE_NEVER);
	pt->no_open = want(conn, FB_NO_OPEN_SUPPORT, c->no_open);
	pt->no_opendir = want(conn, FB_NO_OPENDIR_SUPPORT, c->no_opendir);
	pt->killpriv_v2 = want(conn, FB_HANDLE_KILLPRIV_V2, c->killpriv_v2);
	pt->submounts = want(conn, FB_SUBMOUNTS, c->submounts);
	/*
	 * FUSE passthrough: the kernel turns it off silently together with the writeback cache,
	 * it would bypass cache=never's direct I/O, and the kernel fails (EIO) an open without
	 * a backing file while another open of the inode has one, which is what no_open opens
	 * are. So it is asked only without all three.
	 */
	pt->flush = want_flush(pt, c);
	pt->passthrough = want(conn, FB_PASSTHROUGH,
			       c->passthrough && !pt->writeback && c->cache != FB_PT_CACHE_NEVER &&
				       !pt->no_open);
	if (pt->passthrough) {
		struct statfs sfs;
		/* Stacking depth: one above the source's file system (overlayfs is stacked). */
		conn->max_stack_depth = 1;
		if (fstatfs(pt->root_fd, &sfs) == 0 && sfs.f_type == OVERLAYFS_SUPER_MAGIC)
			conn->max_stack_depth = 2;
	}
	return 0;
}

void fb__pt_destroy(void *fs)
{
	struct fb_passthrough *pt = fs;

	/* The kernel forgot everything: a new session (a rebooted guest) starts clean, and the
	 * O_PATH fds and open files of the old one are closed. Waiting locks end first: their
	 * requests are cancelled, and their waiters hold handles. */
	fb__pt_locks_cancel(pt);
	fb__pt_tables_clear(pt);
}
