/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fb-virtiofsd's sandbox (see virtiofsd_sandbox.h), after the Rust virtiofsd's.
 *
 * Why the steps come in this order: the passthrough needs /proc/self/fd (to reopen O_PATH
 * descriptors) and a descriptor of the shared directory; both are opened between
 * fb_vfsd_sandbox_enter() and fb_vfsd_sandbox_jail(), while a /proc of the new pid namespace
 * is still mounted. After pivot_root the daemon's root is the shared directory and nothing
 * else: no /proc, which a guest could otherwise reach by name (and write the daemon's memory
 * through /proc/1/mem). The socket is created before the jail too, at its host path.
 *
 * Capabilities are dropped in the serving thread before any other thread exists (capset is
 * per thread; threads inherit); seccomp is installed with TSYNC all the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cap-ng.h>
#include <seccomp.h>

#include <fuse_backend/passthrough.h>
#include <fuse_backend/server.h>

#include "virtiofsd_sandbox.h"

int fb_vfsd_rlimit(const struct fb_vfsd_opts *v)
{
	struct rlimit rl;
	rlim_t want;

	if (v->rlimit_set && v->rlimit_nofile == 0)
		return 0; /* --rlimit-nofile=0: leave the limit as it is (as virtiofsd) */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	want = v->rlimit_set ? (rlim_t)v->rlimit_nofile : rl.rlim_max;
	if (want == rl.rlim_cur)
		return 0;
	if (want > rl.rlim_max) {
		struct rlimit up = {want, want};

		/* Above the hard limit takes CAP_SYS_RESOURCE; without it, the hard limit. */
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return 0;
		fb_log(FB_LOG_WARNING,
		       "--rlimit-nofile %llu: above the hard limit %llu (%s); "
		       "using %llu",
		       (unsigned long long)want, (unsigned long long)rl.rlim_max, strerror(errno),
		       (unsigned long long)rl.rlim_max);
		want = rl.rlim_max;
	}
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		int r = -errno;

		fb_log(FB_LOG_ERR, "cannot set the open-file limit to %llu: %s",
		       (unsigned long long)want, strerror(-r));
		return r;
	}
	return 0;
}

/* ---- namespace: the parent stays outside the pid namespace and waits ---------------------- */

static volatile pid_t child_pid;

static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

/* The parent: forward SIGTERM/SIGINT/SIGHUP to the child, exit with its status. */
static void __attribute__((noreturn)) wait_child(pid_t pid)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	struct sigaction sa;
	int status;
	pid_t r;

	child_pid = pid;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	do {
		r = waitpid(pid, &status, 0);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		_exit(1);
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	/* killed by a signal: say so the shell's way */
	_exit(128 + WTERMSIG(status));
}

static int mount_log(const char *src, const char *dst, const char *type, unsigned long flags,
		     const char *what)
{
	if (mount(src, dst, type, flags, NULL) < 0) {
		int r = -errno;

		fb_log(FB_LOG_ERR, "sandbox: %s: %s", what, strerror(-r));
		return r;
	}
	return 0;
}

int fb_vfsd_sandbox_enter(const struct fb_vfsd_opts *v)
{
	pid_t pid;
	int r;

	if (v->sandbox != FB_VFSD_SANDBOX_NAMESPACE)
		return 0;
	if (unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC) < 0) {
		r = -errno;
		fb_log(FB_LOG_ERR,
		       "sandbox: cannot create namespaces: %s (run as root, or try "
		       "--sandbox chroot inside a container)",
		       strerror(-r));
		return r;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		r = -errno;
		fb_log(FB_LOG_ERR, "sandbox: fork: %s", strerror(-r));
		return r;
	}
	if (pid > 0)
		wait_child(pid);

	/* pid 1 of the new namespace; leave with the parent */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
		return -errno;
	r = mount_log(NULL, "/", NULL, MS_REC | MS_PRIVATE, "making mounts private");
	if (r < 0)
		return r;
	/* A /proc of the new pid namespace, for the passthrough's /proc/self/fd */
	r = mount_log("proc", "/proc", "proc", MS_NODEV | MS_NOEXEC | MS_NOSUID | MS_RELATIME,
		      "mounting /proc");
	if (r < 0)
		return r;
	/* pivot_root needs the new root to be a mount point */
	return mount_log(v->shared_dir, v->shared_dir, NULL, MS_BIND | MS_REC,
			 "binding the shared directory");
}

int fb_vfsd_sandbox_jail(const struct fb_vfsd_opts *v)
{
	int r;

	switch (v->sandbox) {
	case FB_VFSD_SANDBOX_NONE:
		return 0;
	case FB_VFSD_SANDBOX_CHROOT:
		if (chroot(v->shared_dir) < 0 || chdir("/") < 0) {
			r = -errno;
			fb_log(FB_LOG_ERR, "sandbox: chroot %s: %s", v->shared_dir, strerror(-r));
			return r;
		}
		return 0;
	case FB_VFSD_SANDBOX_NAMESPACE:
		break;
	}
	if (chdir(v->shared_dir) < 0) {
		r = -errno;
		fb_log(FB_LOG_ERR, "sandbox: %s: %s", v->shared_dir, strerror(-r));
		return r;
	}
	/* new root and old root both "."; the old one ends up stacked on top, then goes */
	if (syscall(SYS_pivot_root, ".", ".") < 0) {
		r = -errno;
		fb_log(FB_LOG_ERR, "sandbox: pivot_root: %s", strerror(-r));
		return r;
	}
	r = mount_log(NULL, ".", NULL, MS_REC | MS_SLAVE, "detaching the old root's mounts");
	if (r < 0)
		return r;
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0) {
		r = -errno;
		fb_log(FB_LOG_ERR, "sandbox: unmounting the old root: %s", strerror(-r));
		return r;
	}
	return 0;
}

/* ---- capabilities ---------------------------------------------------------------------- */

/* --inode-file-handles=never: CAP_DAC_READ_SEARCH out of the effective set (@hide) or back */
static int handles_cap(int hide)
{
	if (geteuid() != 0)
		return 0;
	if (capng_get_caps_process() < 0)
		return -EIO;
	if (capng_update(hide ? CAPNG_DROP : CAPNG_ADD, CAPNG_EFFECTIVE, CAP_DAC_READ_SEARCH) < 0 ||
	    capng_apply(CAPNG_SELECT_CAPS) < 0)
		return -EPERM;
	return 0;
}

int fb_vfsd_drop_caps(const struct fb_vfsd_opts *v)
{
	int r;

	if (geteuid() != 0) {
		fb_log(FB_LOG_WARNING, "not running as root: capabilities left as they are");
		return 0;
	}
	capng_clear(CAPNG_SELECT_BOTH);
	/*
	 * What the passthrough does for the guest: own and chmod any file (CHOWN, FOWNER,
	 * FSETID), reach any file whatever its mode (DAC_OVERRIDE), switch each thread to the
	 * caller's ids (SETUID, SETGID), create device nodes (MKNOD), set file capabilities
	 * (SETFCAP: security.capability xattrs, which --killpriv-v2 also clears).
	 */
	r = capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
			  CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_SETGID,
			  CAP_SETUID, CAP_MKNOD, CAP_SETFCAP, -1);
	/* File handles: open_by_handle_at() needs DAC_READ_SEARCH */
	if (r == 0 && v->handles != FB_VFSD_HANDLES_NEVER)
		r = capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
				 CAP_DAC_READ_SEARCH);
	if (r == 0)
		r = capng_apply(CAPNG_SELECT_BOTH);
	if (r < 0) {
		fb_log(FB_LOG_ERR, "cannot drop capabilities (libcap-ng: %d)", r);
		return -EPERM;
	}
	return 0;
}

/* --inode-file-handles=mandatory: can this process make and open a handle of the root? */
static int handles_work(const char *dir)
{
	union {
		struct file_handle fh;
		char raw[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} hb;
	int mid, fd, r;

	hb.fh.handle_bytes = MAX_HANDLE_SZ;
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = name_to_handle_at(fd, "", &hb.fh, &mid, AT_EMPTY_PATH);
	if (r == 0) {
		int h = open_by_handle_at(fd, &hb.fh, O_PATH | O_CLOEXEC);

		r = h < 0 ? -errno : 0;
		if (h >= 0)
			close(h);
	} else {
		r = -errno;
	}
	close(fd);
	return r;
}

int fb_vfsd_passthrough_new(const struct fb_vfsd_opts *v, struct fb_passthrough **ret)
{
	struct fb_passthrough_config pcfg = v->pt;
	int r;

	pcfg.source = v->shared_dir;
	/* without CAP_DAC_READ_SEARCH the passthrough's probe fails: O_PATH descriptors */
	if (v->handles == FB_VFSD_HANDLES_NEVER)
		handles_cap(1);
	r = fb_passthrough_new(&pcfg, ret);
	if (v->handles == FB_VFSD_HANDLES_NEVER)
		handles_cap(0);
	if (r < 0) {
		fb_log(FB_LOG_ERR, "shared directory %s: %s", v->shared_dir, strerror(-r));
		return r;
	}
	if (v->handles == FB_VFSD_HANDLES_MANDATORY) {
		r = handles_work(v->shared_dir);
		if (r < 0) {
			fb_log(FB_LOG_ERR,
			       "--inode-file-handles=mandatory: %s cannot use file "
			       "handles: %s",
			       v->shared_dir, strerror(-r));
			fb_passthrough_free(*ret);
			*ret = NULL;
			return r;
		}
	}
	return 0;
}

/* ---- seccomp --------------------------------------------------------------------------- */

/*
 * Every system call the daemon makes once it serves: the library (vhost-user messages,
 * queue threads, eventfds), the passthrough (see src/fs/passthrough/syscalls.c: the
 * table of host calls, plus per-thread credentials) and glibc underneath (malloc, threads,
 * stdio, syslog). Names unknown on an architecture are skipped. Grouped by purpose, several
 * to a line, so clang-format is told to leave the table alone.
 */
/* clang-format off */
static const char *const allowed_syscalls[] = {
	/* I/O */
	"read", "readv", "write", "writev", "pread64", "preadv", "preadv2", "pwrite64",
	"pwritev", "pwritev2", "lseek", "_llseek", "fsync", "fdatasync", "syncfs",
	"sync_file_range", "fallocate", "ftruncate", "copy_file_range", "splice", "tee",
	"sendfile", "fadvise64", "readahead",
	/* names and inodes */
	"openat", "openat2", "open", "close", "close_range", "fstat", "newfstatat", "fstatat64",
	"statx", "lstat", "stat", "getdents64", "mkdirat", "mknodat", "symlinkat", "unlinkat",
	"renameat", "renameat2", "linkat", "readlinkat", "fchmodat", "fchmodat2", "fchmod",
	"fchownat", "fchown", "utimensat", "name_to_handle_at", "open_by_handle_at",
	"faccessat", "faccessat2", "fstatfs", "statfs", "fcntl", "fcntl64", "flock", "ioctl",
	"dup", "dup2", "dup3", "umask", "getcwd", "fchdir", "chdir",
	/* xattrs */
	"getxattr", "lgetxattr", "fgetxattr", "setxattr", "lsetxattr", "fsetxattr", "listxattr",
	"llistxattr", "flistxattr", "removexattr", "lremovexattr", "fremovexattr",
	"getxattrat", "setxattrat", "listxattrat", "removexattrat",
	/* waiting, events, sockets */
	"eventfd2", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
	"poll", "ppoll", "select", "pselect6", "futex", "futex_waitv", "recvmsg", "sendmsg",
	"recvfrom", "sendto", "accept", "accept4", "shutdown", "getsockopt", "setsockopt",
	"getsockname", "pipe2", "nanosleep", "clock_nanosleep", "clock_gettime", "gettimeofday",
	"sched_yield", "sched_getaffinity", "restart_syscall",
	/* memory */
	"mmap", "munmap", "mremap", "madvise", "mprotect", "brk", "msync", "mincore",
	"membarrier",
	/* threads, signals, exit */
	"clone", "clone3", "set_robust_list", "get_robust_list", "rseq", "set_tid_address",
	"rt_sigreturn", "rt_sigaction", "rt_sigprocmask", "sigaltstack", "exit", "exit_group",
	"gettid", "getpid", "getppid", "tgkill", "tkill", "prctl", "getrandom",
	/* credentials, per thread (raw system calls) */
	"setresuid", "setresgid", "setgroups", "setfsuid", "setfsgid", "getuid", "geteuid",
	"getgid", "getegid", "getresuid", "getresgid", "getgroups", "capget", "capset",
	/* syslog(3) (socket: AF_UNIX only, below) */
	"connect",
	/* the VFS control socket (--control, --sandbox=none) removed at exit */
	"unlink",
};
/* clang-format on */

int fb_vfsd_seccomp(const struct fb_vfsd_opts *v)
{
	scmp_filter_ctx ctx;
	uint32_t deflt;
	int r = 0;

	switch (v->seccomp) {
	case FB_VFSD_SECCOMP_NONE:
		return 0;
	case FB_VFSD_SECCOMP_LOG:
		deflt = SCMP_ACT_LOG;
		break;
	case FB_VFSD_SECCOMP_TRAP:
		deflt = SCMP_ACT_TRAP;
		break;
	case FB_VFSD_SECCOMP_KILL:
	default:
		deflt = SCMP_ACT_KILL_PROCESS;
		break;
	}
	ctx = seccomp_init(deflt);
	if (!ctx) {
		fb_log(FB_LOG_ERR, "seccomp: cannot create a filter");
		return -ENOMEM;
	}
	/* every thread, and NoNewPrivs (libseccomp's default, said again) */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	for (size_t i = 0; r == 0 && i < sizeof(allowed_syscalls) / sizeof(allowed_syscalls[0]);
	     i++) {
		int nr = seccomp_syscall_resolve_name(allowed_syscalls[i]);

		if (nr == __NR_SCMP_ERROR)
			continue; /* not a call of this architecture (or libseccomp) */
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (r == -EDOM || r == -EFAULT)
			r = 0; /* a pseudo number libseccomp cannot place: skip */
	}
	/*
	 * Allowed with one argument fixed: unshare() only for a thread's own working directory
	 * (the passthrough's xattr calls on symlinks), never for new namespaces; socket() only
	 * for AF_UNIX (syslog's reconnection).
	 */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(unshare), 1,
				     SCMP_A0(SCMP_CMP_EQ, CLONE_FS));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				     SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		fb_log(FB_LOG_ERR, "seccomp: cannot install the filter: %s", strerror(-r));
	return r < 0 ? r : 0;
}
