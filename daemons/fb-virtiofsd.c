/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fb-virtiofsd: a virtio-fs device back end (vhost-user) serving a host directory, with the
 * command line of the Rust virtiofsd so that QEMU and libvirt can run it in its place.
 *
 *   fb-virtiofsd --socket-path=/run/vfsd.sock --shared-dir=/srv/share [--cache=auto] ...
 *   fb-virtiofsd --fd=3 -o source=/srv/share,cache=none,sandbox=chroot	(libvirt < 9)
 *
 * It stays in the foreground, serves one front end, and exits 0 when that front end goes
 * away or on SIGTERM/SIGINT. Options: virtiofsd_opts.c; sandbox: virtiofsd_sandbox.c;
 * docs/virtiofsd.md and fb-virtiofsd(1).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <fuse_backend/passthrough.h>
#include <fuse_backend/server.h>
#include <fuse_backend/vhost_user.h>
#include <fuse_backend/version.h>

#include "virtiofsd_opts.h"
#include "virtiofsd_sandbox.h"

#define PROG "fb-virtiofsd"

/* ---- logging: the Rust virtiofsd's line shape on stderr, or syslog ---------------------- */

struct vfsd_log {
	int threshold; /* show levels <= this (FB_LOG_*), 0: nothing */
	int syslog;
};

static void log_line(enum fb_log_level level, const char *msg, void *priv)
{
	const struct vfsd_log *l = priv;
	const char *name;
	char ts[32] = "";
	struct tm tm;
	time_t now;

	if ((int)level > l->threshold)
		return;
	if (l->syslog) {
		syslog((int)level, "%s", msg);
		return;
	}
	switch (level) {
	case FB_LOG_ERR:
		name = "ERROR";
		break;
	case FB_LOG_WARNING:
		name = "WARN ";
		break;
	case FB_LOG_INFO:
		name = "INFO ";
		break;
	default:
		name = "DEBUG";
		break;
	}
	now = time(NULL);
	if (gmtime_r(&now, &tm))
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* one call per line: lines of several threads do not interleave */
	fprintf(stderr, "[%s %s " PROG "] %s\n", ts, name, msg);
}

/* ---- signals: stop the device; the loop then returns -EINTR ------------------------------ */

static struct fb_vhost_user *volatile signal_dev;

static void on_signal(int sig)
{
	struct fb_vhost_user *dev = signal_dev;

	(void)sig;
	if (dev)
		fb_vhost_user_stop(dev);
}

static int install_signals(struct fb_vhost_user *dev)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa;

	signal_dev = dev;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -errno;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return -errno;
	return 0;
}

/* ---- start-up checks ------------------------------------------------------------------- */

static int lookup_group(const char *name, gid_t *out)
{
	struct group *g;
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(name, &end, 10);
	if (!errno && *name && !*end) {
		*out = (gid_t)n;
		return 0;
	}
	g = getgrnam(name);
	if (!g)
		return errno ? -errno : -ENOENT;
	*out = g->gr_gid;
	return 0;
}

/* The socket: listen on --socket-path (group and mode from --socket-group) or take --fd. */
static int open_socket(const struct fb_vfsd_opts *v, struct fb_vhost_user *dev)
{
	gid_t gid = 0;
	mode_t old_umask;
	int r;

	if (v->fd >= 0) {
		r = fb_vhost_user_set_fd(dev, v->fd);
		if (r < 0)
			fb_log(FB_LOG_ERR, "--fd %d: %s", v->fd, strerror(-r));
		return r;
	}
	/* no window in which others could connect: create it private, then open it up */
	old_umask = umask(S_IRWXG | S_IRWXO);
	r = fb_vhost_user_listen(dev, v->socket_path);
	umask(old_umask);
	if (r < 0) {
		fb_log(FB_LOG_ERR, "cannot listen on %s: %s", v->socket_path, strerror(-r));
		return r;
	}
	if (!v->socket_group) {
		/* only the owner (the VMM runs as us) may connect: a peer gets the shared dir */
		if (chmod(v->socket_path, S_IRUSR | S_IWUSR) < 0) {
			r = -errno;
			fb_log(FB_LOG_ERR, "%s: %s", v->socket_path, strerror(-r));
			return r;
		}
		return 0;
	}
	r = lookup_group(v->socket_group, &gid);
	if (r < 0) {
		fb_log(FB_LOG_ERR, "--socket-group %s: no such group", v->socket_group);
		return r;
	}
	/* the group may connect: it needs write permission on the socket file */
	if (chown(v->socket_path, (uid_t)-1, gid) < 0 ||
	    chmod(v->socket_path, S_IRUSR | S_IWUSR | S_IRGRP | S_IWGRP) < 0) {
		r = -errno;
		fb_log(FB_LOG_ERR, "--socket-group %s: %s: %s", v->socket_group, v->socket_path,
		       strerror(-r));
		return r;
	}
	return 0;
}

static void log_settings(const struct fb_vfsd_opts *v)
{
	if (v->tag)
		fb_log(FB_LOG_INFO,
		       "--tag %s: ignored, the VMM sets the tag (QEMU: "
		       "-device vhost-user-fs-pci,tag=...)",
		       v->tag);
	for (int i = 0; i < v->nignored; i++)
		fb_log(FB_LOG_WARNING, "option '%s' is accepted and ignored", v->ignored[i]);
	for (int i = 0; i < v->nuid_map; i++)
		fb_log(FB_LOG_INFO, "--translate-uid %s", v->uid_spec[i]);
	for (int i = 0; i < v->ngid_map; i++)
		fb_log(FB_LOG_INFO, "--translate-gid %s", v->gid_spec[i]);
	if (v->common.mount.allow_other || v->common.mount.default_permissions)
		fb_log(FB_LOG_WARNING, "mount options (-o allow_other, ...) mean nothing to a "
				       "virtio-fs back end: ignored");
}

/*
 * One line with the requests each queue served, the queues that served none left out: shows
 * whether a multi-queue guest spread its requests (the vm suite's multiqueue scenario reads it).
 */
static void log_queue_stats(const struct fb_vhost_user *dev)
{
	char line[900];
	size_t len = 0;
	unsigned int n = fb_vhost_user_queue_count(dev), shown = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct fb_vhost_user_queue_stats st = {.size = sizeof(st)};
		int w;

		if (fb_vhost_user_queue_stats(dev, i, &st) < 0 || !st.requests)
			continue;
		w = snprintf(line + len, sizeof(line) - len, "%squeue %u%s: %llu request%s",
			     shown ? ", " : "", i, i == 0 ? " (hiprio)" : "",
			     (unsigned long long)st.requests, st.requests == 1 ? "" : "s");
		if (w < 0 || (size_t)w >= sizeof(line) - len) {
			line[len] = '\0'; /* 64 busy queues do not fit: the line ends early */
			break;
		}
		len += (size_t)w;
		shown++;
	}
	if (!shown)
		snprintf(line, sizeof(line), "no queue served a request");
	fb_log(FB_LOG_INFO, "Requests per queue: %s", line);
}

static int serve(struct fb_vfsd_opts *v)
{
	const struct fb_vhost_user_config vcfg = {
		.size = sizeof(vcfg),
		/* QEMU does not check the guest's num-request-queues against ours: offer all */
		.request_queues = FB_VHOST_USER_REQUEST_QUEUES_MAX,
	};
	const struct fb_fs_ops *ops = &fb_passthrough_ops;
	size_t ops_size = sizeof(fb_passthrough_ops);
	struct fb_server_config scfg;
	struct fb_passthrough *pt;
	struct fb_server *server;
	struct fb_vhost_user *dev;
	void *fs;
	int r;

	r = fb_vfsd_passthrough_new(v, &pt);
	if (r < 0)
		return 1;
	/* --mount / --control: a VFS on top, the shared directory being "self" */
	fs = pt;
	if (fb_daemon_vfs_setup(&v->vfs, PROG, &ops, &ops_size, &fs) < 0) {
		r = -EINVAL;
		goto out_free_vfs;
	}
	fb_cmdline_server_config(&v->common, &scfg);
	r = fb_server_new(ops, ops_size, fs, &scfg, &server);
	if (r < 0) {
		fb_log(FB_LOG_ERR, "cannot create the server: %s", strerror(-r));
		goto out_free_vfs;
	}
	fb_daemon_vfs_server(&v->vfs, server);
	r = fb_vhost_user_new(server, &vcfg, &dev);
	if (r < 0) {
		fb_log(FB_LOG_ERR, "cannot create the vhost-user device: %s", strerror(-r));
		goto out_free_server;
	}
	r = open_socket(v, dev);
	if (r < 0)
		goto out_free_dev;
	/* the jail: from here on the shared directory is all there is */
	r = fb_vfsd_sandbox_jail(v);
	if (r == 0)
		r = fb_vfsd_drop_caps(v);
	/*
	 * --control (only without a jail, see virtiofsd_opts.c): its thread starts after the
	 * capabilities are dropped, since it inherits them, and before seccomp, which covers it.
	 */
	if (r == 0)
		r = fb_daemon_vfs_started(&v->vfs, NULL);
	if (r == 0)
		r = install_signals(dev);
	if (r == 0)
		r = fb_vfsd_seccomp(v);
	if (r < 0)
		goto out_free_dev;

	fb_log(FB_LOG_INFO, "Waiting for vhost-user socket connection...");
	r = fb_vhost_user_accept(dev);
	if (r == 0) {
		fb_log(FB_LOG_INFO, "Client connected, servicing requests");
		r = fb_vhost_user_run(dev);
	}
	if (r == 0)
		fb_log(FB_LOG_INFO, "Client disconnected, shutting down");
	else if (r == -EINTR)
		fb_log(FB_LOG_INFO, "Stopped by a signal, shutting down");
	else
		fb_log(FB_LOG_ERR, "serving ended with an error: %s", strerror(-r));
	if (r == -EINTR)
		r = 0;
	log_queue_stats(dev);

out_free_dev:
	signal_dev = NULL;
	fb_daemon_vfs_stopped(&v->vfs, NULL);
	fb_vhost_user_free(dev);
out_free_server:
	fb_server_free(server);
out_free_vfs:
	fb_daemon_vfs_done(&v->vfs);
	fb_passthrough_free(pt);
	return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	static struct vfsd_log lg;
	struct fb_vfsd_opts v;
	char err[256];
	struct stat st;
	int r, status = 1;

	r = fb_vfsd_parse(argc, argv, &v, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, PROG ": %s\n", r == -ENOMEM ? "out of memory" : err);
		fprintf(stderr, "Try '" PROG " --help' for more information.\n");
		goto out;
	}
	if (r == 1) {
		if (v.print_capabilities)
			fb_vfsd_print_capabilities(stdout);
		else if (v.common.help)
			fb_vfsd_usage(stdout);
		else
			printf(PROG " (fuse-backend) %s\n", fb_version());
		status = 0;
		goto out;
	}

	lg.threshold = v.log_level;
	lg.syslog = v.syslog;
	if (lg.syslog) /* connect now: /dev/log is outside the sandbox */
		openlog(PROG, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	fb_log_set(log_line, &lg);
	if (v.common.debug)
		fb_log_set_debug(1);

	if (stat(v.shared_dir, &st) < 0) {
		fb_log(FB_LOG_ERR, "shared directory %s: %s", v.shared_dir, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		fb_log(FB_LOG_ERR, "shared directory %s is not a directory", v.shared_dir);
		goto out;
	}
	log_settings(&v);

	if (fb_vfsd_rlimit(&v) < 0 || fb_vfsd_sandbox_enter(&v) < 0)
		goto out;
	status = serve(&v);
	if (v.sandbox != FB_VFSD_SANDBOX_NONE || v.seccomp != FB_VFSD_SECCOMP_NONE) {
		/*
		 * Leave without the atexit handlers: nothing of ours needs them, and a sanitizer
		 * build's leak check there needs ptrace and /proc, which the sandbox forbids (it
		 * would turn a clean exit into a seccomp kill).
		 */
		fb_vfsd_opts_done(&v);
		fflush(NULL);
		_exit(status);
	}
out:
	fb_vfsd_opts_done(&v);
	return status;
}
