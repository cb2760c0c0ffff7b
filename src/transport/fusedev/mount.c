/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Mounting and unmounting a FUSE file system.
 *
 * Two ways in: as root, mount(2) directly with the /dev/fuse fd in the data string; otherwise
 * (or for auto_unmount) the set-uid helper fusermount3, which opens /dev/fuse, mounts, and
 * hands the fd back over a unix socket named in the _FUSE_COMMFD environment variable (one
 * byte of data with the fd as SCM_RIGHTS). With auto_unmount the helper stays alive until
 * that socket closes, which happens when we exit or die, and then unmounts; for a user who is
 * not root a watchdog of ours does that instead (start_watchdog()).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fusedev_i.h"

extern char **environ;

/* The flags fb_mount_opts.ms_flags may add. */
#define FB__MOUNT_MS_FLAGS                                                                         \
	(MS_RELATIME | MS_STRICTATIME | MS_NODIRATIME | MS_LAZYTIME | MS_SYNCHRONOUS | MS_DIRSYNC)

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int fb_mount_opts_set(struct fb_mount_opts *o, const char *name, const char *value)
{
	static const struct {
		const char *name;
		size_t off;
		int val;
	} flags[] = {
		{"allow_other", offsetof(struct fb_mount_opts, allow_other), 1},
		{"default_permissions", offsetof(struct fb_mount_opts, default_permissions), 1},
		{"ro", offsetof(struct fb_mount_opts, ro), 1},
		{"rw", offsetof(struct fb_mount_opts, ro), 0},
		{"suid", offsetof(struct fb_mount_opts, suid), 1},
		{"nosuid", offsetof(struct fb_mount_opts, suid), 0},
		{"dev", offsetof(struct fb_mount_opts, dev), 1},
		{"nodev", offsetof(struct fb_mount_opts, dev), 0},
		{"exec", offsetof(struct fb_mount_opts, noexec), 0},
		{"noexec", offsetof(struct fb_mount_opts, noexec), 1},
		{"atime", offsetof(struct fb_mount_opts, noatime), 0},
		{"noatime", offsetof(struct fb_mount_opts, noatime), 1},
		{"auto_unmount", offsetof(struct fb_mount_opts, auto_unmount), 1},
	};

	/* Options that only set or clear an MS_* flag (mount(8), libfuse's mount_flags). */
	static const struct {
		const char *name;
		unsigned long flag;
		int on;
	} ms[] = {
		{"relatime", MS_RELATIME, 1},	  {"norelatime", MS_RELATIME, 0},
		{"strictatime", MS_STRICTATIME, 1}, {"nostrictatime", MS_STRICTATIME, 0},
		{"nodiratime", MS_NODIRATIME, 1},  {"diratime", MS_NODIRATIME, 0},
		{"lazytime", MS_LAZYTIME, 1},	  {"nolazytime", MS_LAZYTIME, 0},
		{"sync", MS_SYNCHRONOUS, 1},	  {"async", MS_SYNCHRONOUS, 0},
		{"dirsync", MS_DIRSYNC, 1},
	};

	if (!o || !name)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		if (strcmp(name, ms[i].name) != 0)
			continue;
		if (value)
			return -EINVAL;
		if (ms[i].on)
			o->ms_flags |= ms[i].flag;
		else
			o->ms_flags &= ~ms[i].flag;
		return 0;
	}
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (strcmp(name, flags[i].name) != 0)
			continue;
		if (value)
			return -EINVAL;
		*(int *)((char *)o + flags[i].off) = flags[i].val;
		return 0;
	}
	if (strcmp(name, "fsname") == 0 || strcmp(name, "subtype") == 0) {
		/*
		 * fusermount3 splits its -o on commas; the kernel would too. An empty subtype
		 * (libfuse's "-o subtype=") asks for the plain type "fuse".
		 */
		if (!value || (!*value && name[0] == 'f') || strchr(value, ','))
			return -EINVAL;
		if (name[0] == 'f')
			o->fsname = value;
		else
			o->subtype = value;
		return 0;
	}
	if (strcmp(name, "max_read") == 0)
		return parse_u32(value, &o->max_read);
	if (strcmp(name, "blksize") == 0) {
		uint32_t v;
		int r = parse_u32(value, &v);

		if (r < 0 || v < 512 || v > 65536 || (v & (v - 1)))
			return -EINVAL;
		o->blksize = v;
		return 0;
	}
	return -ENOENT;
}

/* Append ",text" (or "text" at the start) to buf; -ENAMETOOLONG when it does not fit. */
static int append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos) {
		if (*pos + 1 >= len)
			return -ENAMETOOLONG;
		buf[(*pos)++] = ',';
		buf[*pos] = '\0';
	}
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *pos)
		return -ENAMETOOLONG;
	*pos += (size_t)n;
	return 0;
}

int fb__mount_kernel_data(const struct fb_mount_opts *o, int fd, mode_t rootmode, uid_t uid,
			  gid_t gid, char *buf, size_t len, unsigned long *flags)
{
	static const struct fb_mount_opts defaults;
	size_t pos = 0;
	int r;

	if (!o)
		o = &defaults;
	if (!buf || len == 0)
		return -ENAMETOOLONG;
	if (o->blksize)
		return -EINVAL; /* the kernel takes blksize for fuseblk mounts only */
	buf[0] = '\0';
	r = append(buf, len, &pos, "fd=%d,rootmode=%o,user_id=%u,group_id=%u", fd,
		   (unsigned int)(rootmode & S_IFMT), (unsigned int)uid, (unsigned int)gid);
	if (r == 0 && o->allow_other)
		r = append(buf, len, &pos, "allow_other");
	if (r == 0 && o->default_permissions)
		r = append(buf, len, &pos, "default_permissions");
	if (r == 0 && o->max_read)
		r = append(buf, len, &pos, "max_read=%u", o->max_read);
	if (r < 0)
		return r;

	*flags = 0;
	if (!o->suid)
		*flags |= MS_NOSUID;
	if (!o->dev)
		*flags |= MS_NODEV;
	if (o->ro)
		*flags |= MS_RDONLY;
	if (o->noexec)
		*flags |= MS_NOEXEC;
	if (o->noatime)
		*flags |= MS_NOATIME;
	*flags |= o->ms_flags & FB__MOUNT_MS_FLAGS;
	return 0;
}

int fb__mount_fusermount_opts(const struct fb_mount_opts *o, char *buf, size_t len)
{
	static const struct {
		unsigned long flag;
		const char *name;
	} ms_names[] = {
		{MS_RELATIME, "relatime"}, {MS_STRICTATIME, "strictatime"},
		{MS_NODIRATIME, "nodiratime"}, {MS_LAZYTIME, "lazytime"},
		{MS_SYNCHRONOUS, "sync"}, {MS_DIRSYNC, "dirsync"},
	};
	static const struct fb_mount_opts defaults;
	size_t pos = 0;
	int r = 0;

	if (!o)
		o = &defaults;
	if (!buf || len == 0)
		return -ENAMETOOLONG;
	buf[0] = '\0';
	if ((o->fsname && strchr(o->fsname, ',')) || (o->subtype && strchr(o->subtype, ',')))
		return -EINVAL;
	if (o->blksize)
		return -EINVAL;
	r = append(buf, len, &pos, "fsname=%s", o->fsname ? o->fsname : "fuse-backend");
	if (r == 0 && o->subtype && *o->subtype)
		r = append(buf, len, &pos, "subtype=%s", o->subtype);
	if (r == 0 && o->allow_other)
		r = append(buf, len, &pos, "allow_other");
	if (r == 0 && o->default_permissions)
		r = append(buf, len, &pos, "default_permissions");
	if (r == 0 && o->max_read)
		r = append(buf, len, &pos, "max_read=%u", o->max_read);
	if (r == 0)
		r = append(buf, len, &pos, "%s", o->ro ? "ro" : "rw");
	if (r == 0)
		r = append(buf, len, &pos, "%s", o->suid ? "suid" : "nosuid");
	if (r == 0)
		r = append(buf, len, &pos, "%s", o->dev ? "dev" : "nodev");
	if (r == 0 && o->noexec)
		r = append(buf, len, &pos, "noexec");
	if (r == 0 && o->noatime)
		r = append(buf, len, &pos, "noatime");
	for (size_t i = 0; r == 0 && i < sizeof(ms_names) / sizeof(ms_names[0]); i++)
		if (o->ms_flags & ms_names[i].flag)
			r = append(buf, len, &pos, "%s", ms_names[i].name);
	if (r == 0 && o->auto_unmount)
		r = append(buf, len, &pos, "auto_unmount");
	return r;
}

/* Undo mountinfo's octal escapes (\040 for a space and so on) in place. */
static void unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

int fb__mountinfo_find(const char *path, char *fstype, size_t fslen, unsigned int *minor)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	int found = 0;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER" */
	while (getline(&line, &cap, f) > 0) {
		unsigned int maj, min;
		char *save = NULL, *tok, *mp = NULL, *type = NULL;
		int field = 0, after_dash = 0;

		for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
			if (field == 2 && sscanf(tok, "%u:%u", &maj, &min) != 2)
				break;
			if (field == 4)
				mp = tok;
			if (after_dash) {
				type = tok;
				break;
			}
			if (field > 5 && strcmp(tok, "-") == 0)
				after_dash = 1;
			field++;
		}
		if (!mp || !type)
			continue;
		unescape(mp);
		if (strcmp(mp, path) != 0)
			continue;
		/* Later lines are mounted on top of earlier ones: keep the last. */
		found = 1;
		if (fstype && fslen) {
			snprintf(fstype, fslen, "%s", type);
		}
		if (minor)
			*minor = min;
	}
	free(line);
	fclose(f);
	return found;
}

/* A FUSE mount whose daemon is gone (ENOTCONN): say how to remove it. */
static void log_stale(const char *mnt)
{
	fb_log(FB_LOG_ERR,
	       "mount point %s is a stale FUSE mount (its daemon is gone); clean it up with "
	       "'%s %s' and mount again",
	       mnt, geteuid() == 0 ? "umount -l" : "fusermount3 -uz", mnt);
}

/* Check that @mnt can take a mount; store its canonical path and mode. Logs refusals. */
static int check_mountpoint(const char *mnt, char *canon, mode_t *mode)
{
	struct stat st;
	char type[64];
	int r;

	if (stat(mnt, &st) < 0) {
		r = -errno;
		if (r == -ENOENT)
			fb_log(FB_LOG_ERR, "mount point %s does not exist", mnt);
		else if (r == -ENOTCONN)
			log_stale(mnt);
		else
			fb_log(FB_LOG_ERR, "mount point %s: %s", mnt, strerror(-r));
		return r;
	}
	if (!S_ISDIR(st.st_mode)) {
		fb_log(FB_LOG_ERR, "mount point %s is not a directory", mnt);
		return -ENOTDIR;
	}
	if (!realpath(mnt, canon)) {
		r = -errno;
		fb_log(FB_LOG_ERR, "mount point %s: %s", mnt, strerror(-r));
		return r;
	}
	r = fb__mountinfo_find(canon, type, sizeof(type), NULL);
	if (r > 0 && (strcmp(type, "fuse") == 0 || strncmp(type, "fuse.", 5) == 0 ||
		      strcmp(type, "fuseblk") == 0)) {
		struct statfs sfs;

		/*
		 * Its root's attributes may still be cached after its daemon died (SIGKILL):
		 * statfs always asks the daemon, and a dead connection answers ENOTCONN.
		 */
		if (statfs(canon, &sfs) < 0 && errno == ENOTCONN) {
			log_stale(mnt);
			return -ENOTCONN;
		}
		fb_log(FB_LOG_ERR,
		       "mount point %s is already a FUSE mount (%s) in use; "
		       "unmount it first",
		       mnt, type);
		return -EBUSY;
	}
	*mode = st.st_mode;
	return 0;
}

static int mount_direct(const char *canon, mode_t mode, const struct fb_mount_opts *o, int *ret_fd)
{
	char data[512], type[128];
	const char *source;
	unsigned long flags;
	int fd, r;

	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		fb_log(FB_LOG_ERR, "cannot open /dev/fuse: %s%s", strerror(-r),
		       r == -ENOENT ? " (is the fuse module loaded?)" : "");
		return r == -ENOENT ? -ENODEV : r;
	}
	r = fb__mount_kernel_data(o, fd, mode, getuid(), getgid(), data, sizeof(data), &flags);
	if (r < 0) {
		fb_log(FB_LOG_ERR, "mount %s: bad or too long mount options", canon);
		goto out_close_fd;
	}
	snprintf(type, sizeof(type), "fuse%s%s", o->subtype && *o->subtype ? "." : "",
		 o->subtype ? o->subtype : "");
	source = o->fsname ? o->fsname : "fuse-backend";
	if (mount(source, canon, type, flags, data) < 0) {
		r = -errno;
		goto out_close_fd;
	}
	*ret_fd = fd;
	return 0;

out_close_fd:
	close(fd);
	return r;
}

static const char *find_fusermount(void)
{
	static const char *const paths[] = {
		"/usr/bin/fusermount3",
		"/bin/fusermount3",
		"/usr/local/bin/fusermount3",
		"/usr/sbin/fusermount3",
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

/*
 * Run fusermount3 with @argv (argv[0] is replaced by its path). With @commfd >= 0 the helper
 * gets it as _FUSE_COMMFD; with @errfd >= 0 its stderr goes there. Returns the child's pid or
 * a negative errno.
 */
static pid_t spawn_fusermount(const char **argv, int commfd, int errfd)
{
	const char *prog = find_fusermount();
	char env_fd[32];
	char **envp;
	size_t n = 0;
	int nullfd;
	pid_t pid;

	if (!prog) {
		fb_log(FB_LOG_ERR, "fusermount3 not found (install the fuse3 package)");
		return -ENOENT;
	}
	argv[0] = prog;
	/* Build the environment before fork(): the child may only call async-signal-safe code. */
	while (environ && environ[n])
		n++;
	envp = calloc(n + 2, sizeof(*envp));
	if (!envp)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "_FUSE_COMMFD=", 13) != 0)
			envp[k++] = environ[i];
	if (commfd >= 0) {
		snprintf(env_fd, sizeof(env_fd), "_FUSE_COMMFD=%d", commfd);
		envp[k++] = env_fd;
	}
	envp[k] = NULL;
	/*
	 * The helper gets /dev/null as stdin and stdout: the auto_unmount helper lives as long as
	 * the mount, and must not keep the caller's pipe open ("fb-memfs ... | cmd" would hang).
	 */
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);

	pid = fork();
	if (pid == 0) {
		if (commfd >= 0)
			fcntl(commfd, F_SETFD, 0);
		if (nullfd >= 0) {
			dup2(nullfd, STDIN_FILENO);
			dup2(nullfd, STDOUT_FILENO);
		}
		if (errfd >= 0)
			dup2(errfd, STDERR_FILENO);
		execve(prog, (char *const *)argv, envp);
		_exit(127);
	}
	if (nullfd >= 0)
		close(nullfd);
	free(envp);
	if (pid < 0)
		return -errno;
	return pid;
}

/* Receive one fd sent with SCM_RIGHTS on @sock. Returns it, or -EIO when none came. */
static int receive_fd(int sock)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	ssize_t n;
	int fd;

	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EIO; /* the helper failed and closed the socket */
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len != CMSG_LEN(sizeof(int)))
			continue;
		memcpy(&fd, CMSG_DATA(c), sizeof(fd));
		return fd;
	}
	return -EIO;
}

static int wait_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* Log what fusermount3 wrote to its stderr (the reason it failed), one line at a time. */
static void relay_helper_errors(int errfd)
{
	char buf[1024];
	size_t got = 0;
	ssize_t n;
	char *line, *save = NULL;

	while (got + 1 < sizeof(buf)) {
		n = read(errfd, buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		fb_log(FB_LOG_ERR, "%s", line);
}

/*
 * auto_unmount for a user who is not root. fusermount3's own auto_unmount (Debian 12: fuse3
 * 3.14) checks, as root, that it can open the mount point before unmounting; without
 * allow_other the kernel refuses root, so after a SIGKILL the dead mount stayed. Instead a
 * watchdog process of ours waits on a socket whose other end only the daemon holds: a byte
 * ('q', written by the session after its own clean unmount) means "done, leave it"; end of
 * file without it means the daemon died, and the watchdog runs "fusermount3 -u -z", which
 * the mounting user may. It keeps no descriptor but its end of the socket (not /dev/fuse, so
 * the connection still ends with the daemon; not the caller's stdout, so "daemon | cmd"
 * ends), leaves the terminal's session, and restores default signal dispositions.
 */
static pid_t start_watchdog(const char *canon, int *ret_wfd)
{
	const char *prog = find_fusermount();
	const char *argv[] = {prog, "-u", "-z", "-q", "--", canon, NULL};
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT, SIGUSR1, SIGUSR2};
	int p[2], nullfd;
	pid_t pid;

	if (!prog)
		return -ENOENT;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0)
		return -errno;
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid = fork();
	if (pid == 0) {
		/* Only async-signal-safe calls from here: the parent may have threads. */
		struct sigaction sa;
		sigset_t none;
		char c;
		ssize_t n;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			sigaction(sigs[i], &sa, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setsid();
		if (dup2(p[0], 3) < 0)
			_exit(1);
		if (nullfd >= 0) {
			dup2(nullfd, STDIN_FILENO);
			dup2(nullfd, STDOUT_FILENO);
			dup2(nullfd, STDERR_FILENO);
		}
		if (syscall(SYS_close_range, 4U, ~0U, 0U) < 0) {
			for (int fd = 4; fd < 65536; fd++)
				close(fd);
		}
		do {
			n = read(3, &c, 1);
		} while (n < 0 && errno == EINTR);
		if (n == 1)
			_exit(0);
		close(3);
		execve(prog, (char *const *)argv, environ);
		_exit(127);
	}
	if (nullfd >= 0)
		close(nullfd);
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return -errno;
	}
	*ret_wfd = p[1];
	return pid;
}

/* Tell the watchdog to leave (the mount is not ours to remove) and wait for it. */
static void stop_watchdog(pid_t pid, int wfd)
{
	if (send(wfd, "q", 1, MSG_NOSIGNAL) < 0) {
		/* it is gone already */
	}
	close(wfd);
	wait_child(pid);
}

static int mount_fusermount(const char *canon, const struct fb_mount_opts *o,
			    struct fb__mount_result *res)
{
	char opts[1024];
	const char *argv[] = {NULL, "-o", opts, "--", canon, NULL};
	struct fb_mount_opts plain;
	int sv[2], ep[2], fd, r, wfd = -1;
	pid_t pid, wpid = 0;

	if (o->auto_unmount && geteuid() != 0) {
		plain = *o;
		plain.auto_unmount = 0;
		o = &plain;
	}
	r = fb__mount_fusermount_opts(o, opts, sizeof(opts));
	if (r < 0) {
		fb_log(FB_LOG_ERR, "mount %s: bad or too long mount options", canon);
		return r;
	}
	if (o == &plain) {
		/* Before the mount exists: a daemon killed right after mounting is covered. */
		wpid = start_watchdog(canon, &wfd);
		if (wpid < 0) {
			fb_log(FB_LOG_ERR, "auto_unmount: cannot start the watchdog: %s",
			       strerror((int)-wpid));
			return (int)wpid;
		}
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		fb_log(FB_LOG_ERR, "mount %s: socketpair: %s", canon, strerror(-r));
		goto out_stop_watchdog;
	}
	/*
	 * The helper's stderr goes to a pipe: its error messages become our log lines, and the
	 * auto_unmount helper's complaint that the mount is already gone after our own clean
	 * unmount stays out of the user's terminal. We keep the read end open as long as the
	 * helper lives, so it never gets SIGPIPE.
	 */
	if (pipe2(ep, O_CLOEXEC) < 0) {
		r = -errno;
		goto out_close_sock;
	}
	pid = spawn_fusermount(argv, sv[1], ep[1]);
	close(sv[1]);
	sv[1] = -1;
	close(ep[1]);
	if (pid < 0) {
		r = pid;
		goto out_close_pipe;
	}
	fd = receive_fd(sv[0]);
	if (fd < 0) {
		int status;

		relay_helper_errors(ep[0]);
		status = wait_child(pid);
		fb_log(FB_LOG_ERR, "fusermount3 could not mount %s (exit status %d)", canon,
		       status);
		r = -EIO;
		goto out_close_pipe;
	}
	res->fd = fd;
	res->via_fusermount = 1;
	if (o->auto_unmount) {
		/* It waits for this socket to close, then unmounts. */
		res->helper_pid = pid;
		res->helper_sock = sv[0];
		res->helper_err = ep[0];
		return 0;
	}
	close(sv[0]);
	wait_child(pid);
	close(ep[0]);
	if (wpid > 0) {
		/* The session tells it to leave after its own clean unmount. */
		res->helper_pid = wpid;
		res->helper_sock = wfd;
	}
	return 0;

out_close_pipe:
	close(ep[0]);
out_close_sock:
	close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
out_stop_watchdog:
	if (wpid > 0)
		stop_watchdog(wpid, wfd);
	return r;
}

int fb__mount(const char *mnt, const struct fb_mount_opts *o, struct fb__mount_result *res)
{
	static const struct fb_mount_opts defaults;
	char canon[PATH_MAX];
	mode_t mode = S_IFDIR;
	int r;

	if (!o)
		o = &defaults;
	res->fd = -1;
	res->via_fusermount = 0;
	res->helper_pid = 0;
	res->helper_sock = -1;
	res->helper_err = -1;
	if (o->blksize) {
		fb_log(FB_LOG_ERR, "blksize= applies to block-device (fuseblk) mounts only, "
				   "which fuse-backend does not make");
		return -EINVAL;
	}
	r = check_mountpoint(mnt, canon, &mode);
	if (r < 0)
		return r;
	if (geteuid() == 0 && !o->auto_unmount) {
		r = mount_direct(canon, mode, o, &res->fd);
		if (r == 0)
			return 0;
		if (r != -EPERM) {
			fb_log(FB_LOG_ERR, "mount %s: %s", canon, strerror(-r));
			return r;
		}
		/* No CAP_SYS_ADMIN in this namespace: let the set-uid helper try. */
	}
	return mount_fusermount(canon, o, res);
}

int fb__unmount(const char *mnt, int lazy, int via_fusermount, int quiet)
{
	int r;

	if (geteuid() == 0 || !via_fusermount) {
		if (umount2(mnt, lazy ? MNT_DETACH : 0) == 0)
			return 0;
		r = -errno;
	} else {
		const char *argv[] = {NULL, lazy ? "-uz" : "-u", "--", mnt, NULL};
		pid_t pid = spawn_fusermount(argv, -1, -1);

		if (pid < 0)
			return pid;
		r = wait_child(pid);
		return r == 0 ? 0 : -EBUSY;
	}
	if (r == -EINVAL)
		return 0; /* not mounted (any more) */
	if (quiet)
		return r;
	if (r == -EBUSY)
		fb_log(FB_LOG_ERR,
		       "%s is busy (open files or a process's working directory); "
		       "close them or unmount lazily ('umount -l %s')",
		       mnt, mnt);
	else if (r == -ENOENT)
		fb_log(FB_LOG_ERR, "cannot unmount %s: it does not exist", mnt);
	else
		fb_log(FB_LOG_ERR, "cannot unmount %s: %s", mnt, strerror(-r));
	return r;
}

int fb__abort_conn(unsigned int conn_id)
{
	char path[64];
	int fd, r = 0;

	if (!conn_id)
		return -ENOENT;
	snprintf(path, sizeof(path), "/sys/fs/fuse/connections/%u/abort", conn_id);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && geteuid() == 0 &&
	    fb__mountinfo_find("/sys/fs/fuse/connections", NULL, 0, NULL) == 0) {
		/* The control file system is usually mounted at boot; as root, mount it. */
		if (mount("fusectl", "/sys/fs/fuse/connections", "fusectl", 0, NULL) == 0)
			fd = open(path, O_WRONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	if (write(fd, "1", 1) < 0)
		r = -errno;
	close(fd);
	return r;
}
