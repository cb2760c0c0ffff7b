/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Running a daemon: signals, going to the background, the serving loop, fb_main(). See
 * main.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fuse_backend/main.h>
#include <fuse_backend/uring.h>

/* The session the signal handlers end; set before they are installed. */
static struct fb_session *volatile signal_session;

static void on_signal(int sig)
{
	struct fb_session *se = signal_session;

	(void)sig;
	if (se)
		fb_session_exit(se); /* async-signal-safe */
}

int fb_signals_install(struct fb_session *se)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa;

	signal_session = se;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked read() returns EINTR so its thread notices. */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -errno;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return -errno;
	return 0;
}

void fb_signals_forget(void)
{
	signal_session = NULL;
}

int fb_daemonize(int *ret_fd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		close(p[0]);
		close(p[1]);
		return r;
	}
	if (pid > 0) {
		char c = 1;
		ssize_t n;

		close(p[1]);
		do {
			n = read(p[0], &c, 1);
		} while (n < 0 && errno == EINTR);
		_exit(n == 1 && c == 0 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	*ret_fd = p[1];
	return 0;
}

void fb_daemonize_ready(int fd)
{
	char ok = 0;
	int null;

	if (fd < 0)
		return;
	if (chdir("/") < 0) {
		/* harmless: the session holds the mount point's absolute path */
	}
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	if (write(fd, &ok, 1) != 1) {
		/* the parent is gone: nobody to tell */
	}
	close(fd);
}

/*
 * The library's log lines as "NAME: message" on stderr. The name is copied: the log function
 * stays installed for the rest of the process, longer than the caller's fb_main_info may.
 */
static atomic_int log_debug_on;
static char log_name[64];

static void main_log(enum fb_log_level level, const char *msg, void *priv)
{
	(void)priv;
	if (level == FB_LOG_DEBUG && !atomic_load(&log_debug_on))
		return;
	/* One write per line so that lines from several threads do not interleave. */
	fprintf(stderr, "%s: %s\n", log_name, msg);
}

int fb_main_run(const struct fb_main_info *info, const struct fb_cmdline *cl,
		struct fb_server *server)
{
	struct fb_session *se;
	struct fb_uring *uring = NULL;
	int r, status = 1, ready_fd = -1;

	/* Mount errors still reach the shell: the parent waits for the child's word. */
	if (!cl->foreground) {
		r = fb_daemonize(&ready_fd);
		if (r < 0) {
			fprintf(stderr, "%s: cannot go to the background: %s\n", info->name,
				strerror(-r));
			return 1;
		}
	}
	if (cl->debug)
		fb_log_set_debug(1);
	if (!info->keep_log) {
		atomic_store(&log_debug_on, cl->debug ? 1 : 0);
		snprintf(log_name, sizeof(log_name), "%s", info->name ? info->name : "fuse-backend");
		fb_log_set(main_log, NULL);
	}
	r = fb_session_new(server, &se);
	if (r < 0) {
		fprintf(stderr, "%s: cannot create a session: %s\n", info->name, strerror(-r));
		goto out_not_ready;
	}
	r = fb_signals_install(se);
	if (r < 0) {
		fprintf(stderr, "%s: cannot install signal handlers: %s\n", info->name,
			strerror(-r));
		goto out_free_session;
	}
	/* When FUSE over io_uring cannot be used the engine logs one line and the session
	 * serves over /dev/fuse alone. */
	if (cl->io_uring) {
		struct fb_uring_opts uo = {.depth = cl->uring_depth,
					   .keep_nice = cl->uring_keep_nice};

		if (fb_uring_new(se, &uo, &uring) < 0)
			uring = NULL;
	}
	/* The library logs why a mount fails, in one line: nothing to add. */
	r = fb_session_mount(se, cl->mountpoint, &cl->mount);
	if (r < 0)
		goto out_free_session;
	if (info->started) {
		r = info->started(info->priv, se);
		if (r < 0) {
			fprintf(stderr, "%s: start-up failed: %s\n", info->name, strerror(-r));
			goto out_unmount;
		}
	}
	fb_daemonize_ready(ready_fd);
	ready_fd = -1;
	r = fb_session_loop(se, fb_cmdline_threads(cl));
	if (r < 0)
		fprintf(stderr, "%s: serving ended with an error: %s\n", info->name, strerror(-r));
	else
		status = 0;
	if (info->stopped)
		info->stopped(info->priv, se);
	goto out_free_session;

out_unmount:
	if (fb_session_unmount(se, 0) < 0)
		fb_session_unmount(se, 1);
out_free_session:
	fb_signals_forget();
	fb_uring_free(uring); /* the connection has ended: the rings have nothing left */
	fb_session_free(se);
out_not_ready:
	if (ready_fd >= 0)
		close(ready_fd); /* never ready: the parent exits 1 */
	return status;
}

int fb_main(const struct fb_main_info *info, int argc, char **argv, const struct fb_fs_ops *ops,
	    size_t ops_size, void *fs)
{
	struct fb_server_config scfg;
	struct fb_server *server;
	struct fb_cmdline cl;
	int r, status;

	fb_cmdline_parse_or_exit(info, argc, argv, &cl);
	fb_cmdline_server_config(&cl, &scfg);
	r = fb_server_new(ops, ops_size, fs, &scfg, &server);
	if (r < 0) {
		fprintf(stderr, "%s: cannot create the server: %s\n", info->name, strerror(-r));
		fb_cmdline_done(&cl);
		return 1;
	}
	status = fb_main_run(info, &cl, server);
	fb_server_free(server);
	fb_cmdline_done(&cl);
	return status;
}
