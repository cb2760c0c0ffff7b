/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Per-thread credentials.
 *
 * Each request runs with the caller's effective uid, gid and supplementary groups so that the
 * host kernel does the permission checks and new files get the caller as owner. The glibc
 * wrappers setresuid(), setresgid() and setgroups() change every thread of the process (they
 * signal all threads to follow), so we call the system calls directly: on Linux credentials
 * are per thread, and only the calling worker changes. The real and saved uid stay 0, which
 * lets the thread switch back.
 *
 * The caller's supplementary groups come with the request when the kernel sends them
 * (FB_CREATE_SUPP_GROUP, create-like requests only); otherwise they are read from
 * /proc/PID/status of the calling process, provided its fsuid and fsgid there are the
 * request's (the pid could have been reused). If that fails (the process is gone, another pid
 * namespace) the request runs with no supplementary groups, which can only deny access. Each
 * worker keeps the status file of its last caller open and reads it again with pread(): one
 * system call instead of open, read and close. That descriptor stays bound to the process it
 * was opened for: once that process is gone its reads fail (ESRCH) even if the pid is reused,
 * and the file is opened again by number.
 *
 * With FB_ALLOW_IDMAP negotiated, the caller of most requests is FB_INVALID_UIDGID (see
 * fb__pt_creds_enter()).
 *
 * With an id map (idmap.c) the caller's ids are the client's: fsuid, fsgid and each group are
 * mapped to host ids first. A forbidden fsuid or fsgid fails the request with -EPERM; a
 * forbidden supplementary group is dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fuse_backend/abi.h>

#include "passthrough_i.h"

#define PT_GROUPS_MAX 256

/* The fourth number (the fs id) of the "Uid:" / "Gid:" line @key in @status, or -1. */
static long fs_id(const char *status, const char *key)
{
	const char *p = strstr(status, key);
	unsigned long v = 0;
	char *end;

	if (!p)
		return -1;
	p += strlen(key);
	for (int i = 0; i < 4; i++) {
		v = strtoul(p, &end, 10);
		if (end == p)
			return -1;
		p = end;
	}
	return (long)v;
}

/* This worker's open /proc/PID/status (-1: none) and its pid; the key closes it at thread exit. */
static __thread int status_fd = -1;
static __thread uint32_t status_pid;
static pthread_key_t status_key;
static pthread_once_t status_once = PTHREAD_ONCE_INIT;
static int status_key_ok;

static void status_fd_close(void *v)
{
	close((int)(intptr_t)v - 1);
}

static void status_key_init(void)
{
	status_key_ok = pthread_key_create(&status_key, status_fd_close) == 0;
}

static void status_forget(void)
{
	if (status_fd < 0)
		return;
	pthread_setspecific(status_key, NULL);
	close(status_fd);
	status_fd = -1;
}

/* Read /proc/@pid/status into @buf, from this worker's descriptor when it is @pid's. */
static ssize_t read_status(uint32_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	if (status_fd >= 0 && status_pid == pid) {
		n = pread(status_fd, buf, size, 0);
		if (n >= 0)
			return n;
	}
	status_forget();	/* another caller, or that process is gone */
	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	pthread_once(&status_once, status_key_init);
	if (status_key_ok && pthread_setspecific(status_key, (void *)(intptr_t)(fd + 1)) == 0) {
		status_fd = fd;
		status_pid = pid;
	} else {
		close(fd);
	}
	return n;
}

/*
 * Parse the "Groups:" line of /proc/@pid/status into @out, if that process still has the
 * fsuid/fsgid of the request (a pid may have been reused). Returns the count or -errno.
 */
static int groups_of_pid(uint32_t pid, uint32_t uid, uint32_t gid, gid_t *out, int max)
{
	char buf[4096];
	ssize_t n;
	int count = 0;

	n = read_status(pid, buf, sizeof(buf) - 1);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';

	if (fs_id(buf, "\nUid:") != (long)uid || fs_id(buf, "\nGid:") != (long)gid)
		return -ESRCH;
	char *p = strstr(buf, "\nGroups:");
	if (!p)
		return -ENOENT;
	p += strlen("\nGroups:");
	while (*p && *p != '\n' && count < max) {
		char *end;
		unsigned long g = strtoul(p, &end, 10);
		if (end == p) {
			if (*p == ' ' || *p == '\t') {
				p++;
				continue;
			}
			break;
		}
		out[count++] = (gid_t)g;
		p = end;
	}
	return count;
}

/*
 * The caller's host fsuid and fsgid under the id maps. -EPERM for an id the map forbids, and
 * for (uint32_t)-1, which no range can cover and which setresuid() would take as "leave
 * unchanged" (that is, root): with a map, every caller must end up with a host identity.
 */
static int host_ids(const struct fb_passthrough *pt, const struct fb_ctx *ctx, uint32_t *uid,
		    uint32_t *gid)
{
	if (ctx->uid == (uint32_t)-1 || ctx->gid == (uint32_t)-1)
		return -EPERM;
	if (fb__pt_idmap_to_host(&pt->uids, ctx->uid, uid) < 0 ||
	    fb__pt_idmap_to_host(&pt->gids, ctx->gid, gid) < 0)
		return -EPERM;
	return 0;
}

/* Map the @n supplementary groups in @groups to host gids in place; drop forbidden ones. */
static int host_groups(const struct fb_passthrough *pt, gid_t *groups, int n)
{
	int kept = 0;

	for (int i = 0; i < n; i++) {
		uint32_t g;

		if (groups[i] != (gid_t)-1 && fb__pt_idmap_to_host(&pt->gids, groups[i], &g) == 0)
			groups[kept++] = g;
	}
	return kept;
}

int fb__pt_creds_enter(struct fb_passthrough *pt, const struct fb_ctx *ctx,
		       struct fb__pt_creds *save)
{
	gid_t groups[PT_GROUPS_MAX];
	int ngroups = 0;
	uint32_t uid, gid;
	long r;

	save->switched = 0;
	if (!ctx)
		return 0;
	/*
	 * FB_ALLOW_IDMAP: only requests that create inodes name their caller (mapped through
	 * an idmapped mount, if any); the kernel checked every other one (default_permissions,
	 * which it requires) and sends no caller: run it as the daemon.
	 */
	if (pt->allow_idmap && (ctx->uid == FB_INVALID_UIDGID || ctx->gid == FB_INVALID_UIDGID))
		return 0;
	uid = ctx->uid;
	gid = ctx->gid;
	if (pt->idmapped) {
		/* checked even without switching: a forbidden caller is refused all the same */
		r = host_ids(pt, ctx, &uid, &gid);
		if (r < 0)
			return (int)r;
	}
	if (!pt->cred_switch || (uid == 0 && gid == 0))
		return 0;

	/* the groups are the client's ids, like ctx->uid and ctx->gid: mapped below */
	if (ctx->ngroups && ctx->groups) {
		for (uint32_t i = 0; i < ctx->ngroups && i < PT_GROUPS_MAX; i++)
			groups[ngroups++] = ctx->groups[i];
	} else if (ctx->pid && ctx->uid != 0) {
		int n = groups_of_pid(ctx->pid, ctx->uid, ctx->gid, groups, PT_GROUPS_MAX);
		if (n > 0)
			ngroups = n;
	}
	if (pt->idmapped)
		ngroups = host_groups(pt, groups, ngroups);

	r = syscall(SYS_setgroups, ngroups, groups);
	if (r < 0)
		return -errno;
	r = syscall(SYS_setresgid, -1, gid, -1);
	if (r < 0) {
		r = -errno;
		goto out_groups;
	}
	r = syscall(SYS_setresuid, -1, uid, -1);
	if (r < 0) {
		r = -errno;
		goto out_gid;
	}
	save->switched = 1;
	return 0;

out_gid:
	syscall(SYS_setresgid, -1, pt->saved_egid, -1);
out_groups:
	syscall(SYS_setgroups, pt->saved_ngroups, pt->saved_groups);
	return (int)r;
}

void fb__pt_creds_leave(struct fb_passthrough *pt, struct fb__pt_creds *save)
{
	int saved = errno;

	if (!save->switched)
		return;
	/* Back to root first: only then may the thread change its gid and groups again. */
	if (syscall(SYS_setresuid, -1, 0, -1) < 0 ||
	    syscall(SYS_setresgid, -1, pt->saved_egid, -1) < 0 ||
	    syscall(SYS_setgroups, pt->saved_ngroups, pt->saved_groups) < 0)
		abort(); /* a worker stuck with a user's credentials must not go on */
	save->switched = 0;
	errno = saved;
}
