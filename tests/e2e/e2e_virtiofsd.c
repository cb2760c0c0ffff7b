/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fb-virtiofsd from the outside: its command line (exit status 1 naming a bad option,
 * --print-capabilities, --version, --help), and its sandbox as /proc shows it while it
 * waits for a front end: capabilities, seccomp, NoNewPrivs, its root, its namespaces, its
 * open-file limit, the socket's mode; then SIGTERM/SIGINT and the death of its parent.
 * A front end that connects and goes away makes it exit 0.
 *
 *   FB_VIRTIOFSD=build/daemons/fb-virtiofsd build/tests/e2e/e2e_virtiofsd
 *
 * The sandbox tests need root (they skip otherwise).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID SETGID SETUID MKNOD SETFCAP */
#define CAPS_EXPECTED		0x880000dfull
#define CAP_DAC_READ_SEARCH_BIT (1ull << 2)

static const char *daemon_path(void)
{
	const char *p = getenv("FB_VIRTIOFSD");

	return p ? p : "build/daemons/fb-virtiofsd";
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A started daemon: its pid, its log file (stdout and stderr), a shared dir, a socket. */
struct vd {
	pid_t pid;
	char dir[64];	/* the test's temp dir */
	char share[96]; /* dir/share */
	char sock[96];	/* dir/vfsd.sock */
	char log[96];	/* dir/log */
};

static void vd_init(struct vd *d)
{
	memset(d, 0, sizeof(*d));
	strcpy(d->dir, "/tmp/fb-vfsd-XXXXXX");
	if (!mkdtemp(d->dir))
		abort();
	snprintf(d->share, sizeof(d->share), "%s/share", d->dir);
	snprintf(d->sock, sizeof(d->sock), "%s/vfsd.sock", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/log", d->dir);
	mkdir(d->share, 0755);
}

/* Start the daemon with @args (NULL-terminated, without argv[0]); @keep_fd stays open. */
static pid_t vd_start(struct vd *d, const char **args, int keep_fd)
{
	const char *argv[40];
	int n = 0;
	pid_t pid;

	argv[n++] = daemon_path();
	while (*args && n < 39)
		argv[n++] = *args++;
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);

		dup2(fd, 1);
		dup2(fd, 2);
		for (int i = 3; i < 1024; i++)
			if (i != keep_fd)
				close(i);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	d->pid = pid;
	return pid;
}

static int vd_log_has(const struct vd *d, const char *what)
{
	char buf[16384];
	int fd = open(d->log, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, what) != NULL;
}

static int vd_wait_log(const struct vd *d, const char *what, int ms)
{
	for (int i = 0; i < ms / 20; i++) {
		if (vd_log_has(d, what))
			return 1;
		sleep_ms(20);
	}
	return 0;
}

/* Exit status (or 128 + signal); -1 after @ms without an exit. */
static int vd_wait_exit(pid_t pid, int ms)
{
	int st;

	for (int i = 0; i < ms / 10; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		sleep_ms(10);
	}
	return -1;
}

static void vd_cleanup(struct vd *d)
{
	char cmd[160];

	if (d->pid > 0 && vd_wait_exit(d->pid, 0) < 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
	if (system(cmd) != 0) {
		/* a leftover temp dir is harmless */
	}
}

/* The pid that serves: the child of @pid in namespace mode, else @pid itself. */
static pid_t serving_pid(pid_t pid)
{
	char path[64], buf[64];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return pid;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return pid;
	buf[n] = '\0';
	return (pid_t)atoi(buf);
}

/* The value of "Key:" in /proc/PID/status, as text. */
static int status_field(pid_t pid, const char *key, char *out, size_t len)
{
	char path[64], line[256];
	FILE *f;
	size_t kl = strlen(key);

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			char *v = line + kl + 1;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			snprintf(out, len, "%s", v);
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -ENOENT;
}

static unsigned long long status_hex(pid_t pid, const char *key)
{
	char v[64];

	if (status_field(pid, key, v, sizeof(v)) < 0)
		return ~0ull;
	return strtoull(v, NULL, 16);
}

static long status_long(pid_t pid, const char *key)
{
	char v[64];

	if (status_field(pid, key, v, sizeof(v)) < 0)
		return -1;
	return strtol(v, NULL, 10);
}

static int same_ns(pid_t pid, const char *ns)
{
	char a[64], b[64], la[64] = "", lb[64] = "";

	snprintf(a, sizeof(a), "/proc/%d/ns/%s", pid, ns);
	snprintf(b, sizeof(b), "/proc/self/ns/%s", ns);
	if (readlink(a, la, sizeof(la) - 1) < 0 || readlink(b, lb, sizeof(lb) - 1) < 0)
		return -1;
	return strcmp(la, lb) == 0;
}

static int root_is(pid_t pid, const char *dir)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/root/", pid);
	if (stat(path, &a) < 0 || stat(dir, &b) < 0)
		return -1;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* "Max open files" soft limit of @pid. */
static long nofile_soft(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	long v = -1;

	snprintf(path, sizeof(path), "/proc/%d/limits", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Max open files", 14) == 0)
			v = strtol(line + 14, NULL, 10);
	fclose(f);
	return v;
}

static void need_root(void)
{
	if (geteuid() != 0)
		SKIP("the sandbox needs root");
}

/* ---- the command line ------------------------------------------------------------------- */

static void expect_refused(const char **args, const char *names)
{
	struct vd d;

	vd_init(&d);
	vd_start(&d, args, -1);
	int st = vd_wait_exit(d.pid, 5000);
	d.pid = 0;
	if (st != 1 || !vd_log_has(&d, names) || !vd_log_has(&d, "--help")) {
		vd_cleanup(&d);
		FBT_FAIL("%s: status %d, or no message naming '%s'", args[0], st, names);
	}
	vd_cleanup(&d);
}

TEST(bad_options_exit_1_naming_them)
{
	expect_refused((const char *[]){"--bogus-flag", NULL}, "--bogus-flag");
	expect_refused((const char *[]){"--socket-path=/tmp/x", "--shared-dir=/tmp",
					"--cache=sometimes", NULL},
		       "--cache");
	expect_refused((const char *[]){"--fd=3", "-o", "source=/tmp,frob", NULL}, "frob");
	expect_refused((const char *[]){"--socket-path=/tmp/x", NULL}, "--shared-dir");
	expect_refused((const char *[]){"--shared-dir=/tmp", NULL}, "--socket-path");
	expect_refused((const char *[]){"--socket-path=/tmp/x", "--shared-dir=/tmp", "--sandbox",
					"jail", NULL},
		       "--sandbox");
}

TEST(print_capabilities)
{
	struct vd d;
	char buf[512];
	int fd;
	ssize_t n;

	vd_init(&d);
	vd_start(&d, (const char *[]){"--print-capabilities", NULL}, -1);
	CHECK_EQ(vd_wait_exit(d.pid, 5000), 0);
	d.pid = 0;
	fd = open(d.log, O_RDONLY);
	CHECK(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	CHECK(n > 0);
	buf[n] = '\0';
	vd_cleanup(&d);
	CHECK_STR(buf,
		  "{\n  \"type\": \"fs\",\n  \"features\": [\n    \"separate-options\"\n  ]\n}\n");
}

TEST(version_and_help)
{
	struct vd d;

	vd_init(&d);
	vd_start(&d, (const char *[]){"--version", NULL}, -1);
	CHECK_EQ(vd_wait_exit(d.pid, 5000), 0);
	CHECK(vd_log_has(&d, "fb-virtiofsd (fuse-backend) "));
	vd_start(&d, (const char *[]){"--help", NULL}, -1);
	CHECK_EQ(vd_wait_exit(d.pid, 5000), 0);
	d.pid = 0;
	CHECK(vd_log_has(&d, "--shared-dir"));
	CHECK(vd_log_has(&d, "--translate-uid"));
	vd_cleanup(&d);
}

TEST(refuses_a_bad_shared_dir)
{
	struct vd d;
	char file[128];

	vd_init(&d);
	snprintf(file, sizeof(file), "%s/file", d.dir);
	close(open(file, O_CREAT | O_WRONLY, 0644));
	vd_start(&d, (const char *[]){"--socket-path", d.sock, "--shared-dir", file, NULL}, -1);
	CHECK_EQ(vd_wait_exit(d.pid, 5000), 1);
	CHECK(vd_log_has(&d, "not a directory"));
	vd_start(&d, (const char *[]){"--socket-path", d.sock, "--shared-dir=/nonexistent/x", NULL},
		 -1);
	CHECK_EQ(vd_wait_exit(d.pid, 5000), 1);
	d.pid = 0;
	CHECK(vd_log_has(&d, "No such file"));
	vd_cleanup(&d);
}

TEST(translate_ids_bad_map_refused)
{
	struct vd d;

	vd_init(&d);
	vd_start(&d,
		 (const char *[]){"--socket-path", d.sock, "--shared-dir", d.share,
				  "--translate-uid=map:0:1000:1", "--translate-uid=guest:0:5:1",
				  NULL},
		 -1);
	CHECK_EQ(vd_wait_exit(d.pid, 5000), 1);
	d.pid = 0;
	CHECK(vd_log_has(&d, "'guest:0:5:1' overlaps 'map:0:1000:1'"));
	vd_cleanup(&d);
}

/* ---- the sandbox ------------------------------------------------------------------------ */

/* Start with @extra options after the socket and shared dir; wait until it listens. */
static pid_t start_waiting(struct vd *d, const char **extra)
{
	const char *args[32] = {"--socket-path", d->sock, "--shared-dir", d->share};
	int n = 4;

	while (*extra && n < 31)
		args[n++] = *extra++;
	args[n] = NULL;
	vd_start(d, args, -1);
	if (!vd_wait_log(d, "Waiting for vhost-user socket connection", 5000))
		return -1;
	return serving_pid(d->pid);
}

TEST(namespace_sandbox)
{
	struct vd d;
	struct stat st;
	pid_t sp;

	need_root();
	vd_init(&d);
	sp = start_waiting(&d, (const char *[]){"--tag=myfs", NULL});
	if (sp < 0) {
		vd_cleanup(&d);
		FBT_FAIL("the daemon did not start");
	}
	CHECK(sp != d.pid); /* the pid namespace needs a child */
	CHECK_EQ(status_hex(sp, "CapEff"), CAPS_EXPECTED);
	CHECK_EQ(status_hex(sp, "CapPrm"), CAPS_EXPECTED);
	CHECK_EQ(status_hex(sp, "CapBnd"), CAPS_EXPECTED);
	CHECK_EQ(status_long(sp, "Seccomp"), 2);
	CHECK_EQ(status_long(sp, "NoNewPrivs"), 1);
	CHECK_EQ(root_is(sp, d.share), 1);
	CHECK_EQ(same_ns(sp, "mnt"), 0);
	CHECK_EQ(same_ns(sp, "pid"), 0);
	CHECK_EQ(same_ns(sp, "net"), 0);
	CHECK_EQ(same_ns(sp, "ipc"), 0);
	{
		char v[64];

		CHECK_EQ(status_field(sp, "NSpid", v, sizeof(v)), 0);
		CHECK(strstr(v, "\t1") || strstr(v, " 1")); /* pid 1 inside */
	}
	/* the open-file limit is raised to the hard limit */
	{
		char path[64];
		FILE *f;
		char line[256];
		long hard = -1;

		snprintf(path, sizeof(path), "/proc/%d/limits", sp);
		f = fopen(path, "re");
		CHECK(f);
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "Max open files", 14) == 0)
				sscanf(line + 14, "%*s %ld", &hard);
		fclose(f);
		CHECK(hard > 0);
		CHECK_EQ(nofile_soft(sp), hard);
	}
	/* only its owner may connect */
	CHECK_OK(stat(d.sock, &st));
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0600);
	CHECK(vd_log_has(&d, "--tag myfs: ignored"));

	/* SIGTERM to the process we started: the child stops, the parent passes on its 0 */
	CHECK_OK(kill(d.pid, SIGTERM));
	CHECK_EQ(vd_wait_exit(d.pid, 5000), 0);
	d.pid = 0;
	CHECK(vd_log_has(&d, "Stopped by a signal"));
	CHECK(kill(sp, 0) < 0);
	vd_cleanup(&d);
}

TEST(chroot_sandbox)
{
	struct vd d;
	pid_t sp;

	need_root();
	vd_init(&d);
	sp = start_waiting(&d, (const char *[]){"-o", "sandbox=chroot", NULL});
	if (sp < 0) {
		vd_cleanup(&d);
		FBT_FAIL("the daemon did not start");
	}
	CHECK_EQ(sp, d.pid); /* no fork */
	CHECK_EQ(root_is(sp, d.share), 1);
	CHECK_EQ(same_ns(sp, "mnt"), 1);
	CHECK_EQ(status_hex(sp, "CapEff"), CAPS_EXPECTED);
	CHECK_EQ(status_long(sp, "Seccomp"), 2);
	CHECK_OK(kill(d.pid, SIGINT));
	CHECK_EQ(vd_wait_exit(d.pid, 5000), 0);
	d.pid = 0;
	vd_cleanup(&d);
}

TEST(no_sandbox_no_seccomp)
{
	struct vd d;
	pid_t sp;

	need_root();
	vd_init(&d);
	sp = start_waiting(&d, (const char *[]){"--sandbox=none", "--seccomp=none",
						"--inode-file-handles=never", "--rlimit-nofile",
						"1000", NULL});
	if (sp < 0) {
		vd_cleanup(&d);
		FBT_FAIL("the daemon did not start");
	}
	CHECK_EQ(root_is(sp, "/"), 1);
	CHECK_EQ(status_long(sp, "Seccomp"), 0);
	/* no file handles: no CAP_DAC_READ_SEARCH either */
	CHECK_EQ(status_hex(sp, "CapEff"), CAPS_EXPECTED & ~CAP_DAC_READ_SEARCH_BIT);
	CHECK_EQ(nofile_soft(sp), 1000);
	CHECK_OK(kill(d.pid, SIGTERM));
	CHECK_EQ(vd_wait_exit(d.pid, 5000), 0);
	d.pid = 0;
	vd_cleanup(&d);
}

TEST(socket_group)
{
	struct vd d;
	struct stat st;

	need_root();
	vd_init(&d);
	if (start_waiting(&d, (const char *[]){"--socket-group=0", NULL}) < 0) {
		vd_cleanup(&d);
		FBT_FAIL("the daemon did not start");
	}
	CHECK_OK(stat(d.sock, &st));
	CHECK_EQ(st.st_mode & 0777, 0660);
	CHECK_EQ(st.st_gid, 0);
	kill(d.pid, SIGTERM);
	CHECK_EQ(vd_wait_exit(d.pid, 5000), 0);
	d.pid = 0;
	vd_cleanup(&d);
}

TEST(translate_ids_start_and_are_logged)
{
	struct vd d;

	need_root();
	vd_init(&d);
	if (start_waiting(&d, (const char *[]){"--translate-uid=map:1000:2000:1",
					       "--translate-gid=forbid-guest:5:10", NULL}) < 0) {
		vd_cleanup(&d);
		FBT_FAIL("the daemon did not start");
	}
	CHECK(vd_log_has(&d, "--translate-uid map:1000:2000:1"));
	CHECK(vd_log_has(&d, "--translate-gid forbid-guest:5:10"));
	kill(d.pid, SIGTERM);
	CHECK_EQ(vd_wait_exit(d.pid, 5000), 0);
	d.pid = 0;
	vd_cleanup(&d);
}

TEST(inherited_fd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vd d;
	char fdarg[32];
	int fd;
	pid_t sp;

	need_root();
	vd_init(&d);
	strcpy(sa.sun_path, d.sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(fd >= 0);
	CHECK_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	CHECK_OK(listen(fd, 1));
	snprintf(fdarg, sizeof(fdarg), "--fd=%d", fd);
	vd_start(&d, (const char *[]){fdarg, "-o", "source=/", "-o", NULL}, fd);
	/* "-o" without a list: refused */
	CHECK_EQ(vd_wait_exit(d.pid, 5000), 1);
	vd_start(&d, (const char *[]){fdarg, "-o", d.share, NULL}, fd);
	CHECK_EQ(vd_wait_exit(d.pid, 5000), 1); /* "-o DIR" is not source=DIR */
	{
		char src[256];

		snprintf(src, sizeof(src), "source=%s,cache=none,sandbox=namespace,xattr", d.share);
		vd_start(&d, (const char *[]){fdarg, "-o", src, NULL}, fd);
	}
	close(fd);
	CHECK(vd_wait_log(&d, "Waiting for vhost-user socket connection", 5000));
	sp = serving_pid(d.pid);
	CHECK_EQ(root_is(sp, d.share), 1);
	CHECK_EQ(status_long(sp, "Seccomp"), 2);
	kill(d.pid, SIGTERM);
	CHECK_EQ(vd_wait_exit(d.pid, 5000), 0);
	d.pid = 0;
	vd_cleanup(&d);
}

TEST(child_leaves_with_its_parent)
{
	struct vd d;
	pid_t sp;

	need_root();
	vd_init(&d);
	sp = start_waiting(&d, (const char *[]){NULL});
	if (sp < 0 || sp == d.pid) {
		vd_cleanup(&d);
		FBT_FAIL("the daemon did not start");
	}
	CHECK_OK(kill(d.pid, SIGKILL));
	CHECK_EQ(vd_wait_exit(d.pid, 5000), 128 + SIGKILL);
	d.pid = 0;
	for (int i = 0; i < 250 && kill(sp, 0) == 0; i++)
		sleep_ms(20);
	CHECK(kill(sp, 0) < 0);
	vd_cleanup(&d);
}

TEST(front_end_goes_away_exit_0)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vd d;
	int fd;

	need_root();
	vd_init(&d);
	if (start_waiting(&d, (const char *[]){NULL}) < 0) {
		vd_cleanup(&d);
		FBT_FAIL("the daemon did not start");
	}
	strcpy(sa.sun_path, d.sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(fd >= 0);
	CHECK_OK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	CHECK(vd_wait_log(&d, "Client connected", 5000));
	close(fd);
	CHECK_EQ(vd_wait_exit(d.pid, 5000), 0);
	d.pid = 0;
	CHECK(vd_log_has(&d, "Client disconnected"));
	vd_cleanup(&d);
}

TEST(sigterm_while_connected_exit_0)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vd d;
	int fd;

	need_root();
	vd_init(&d);
	if (start_waiting(&d, (const char *[]){NULL}) < 0) {
		vd_cleanup(&d);
		FBT_FAIL("the daemon did not start");
	}
	strcpy(sa.sun_path, d.sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(fd >= 0);
	CHECK_OK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	CHECK(vd_wait_log(&d, "Client connected", 5000));
	CHECK_OK(kill(d.pid, SIGTERM));
	CHECK_EQ(vd_wait_exit(d.pid, 5000), 0);
	d.pid = 0;
	close(fd);
	CHECK(vd_log_has(&d, "Stopped by a signal"));
	vd_cleanup(&d);
}

/*
 * --mount/--control (--sandbox=none: a jail cannot reach the control socket): the control
 * socket works under seccomp, its thread has only the daemon's capabilities, and it is
 * removed at exit.
 */
TEST(vfs_control_socket_in_the_sandbox)
{
	const char *ctl = getenv("FB_CTL");
	char csock[128], mnt[64], cmd[512];
	struct vd d;

	need_root();
	if (!ctl)
		SKIP("FB_CTL is not set");
	vd_init(&d);
	snprintf(csock, sizeof(csock), "%s/ctl.sock", d.dir);
	snprintf(mnt, sizeof(mnt), "/share=self");
	if (start_waiting(&d, (const char *[]){"--mount", "/a=memfs", "--mount", mnt, "--control",
					       csock, "--sandbox=none", NULL}) < 0) {
		vd_cleanup(&d);
		FBT_FAIL("the daemon did not start");
	}
	snprintf(cmd, sizeof(cmd), "%s %s list | grep -q '/share' && %s %s mount /m memfs", ctl,
		 csock, ctl, csock);
	CHECK_EQ(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s %s list | grep -q '/m'", ctl, csock);
	CHECK_EQ(system(cmd), 0);
	{
		/* every thread: the filter, and the capabilities cut */
		char path[64], buf[320];
		DIR *dir;
		struct dirent *de;
		int n = 0;

		snprintf(path, sizeof(path), "/proc/%d/task", d.pid);
		dir = opendir(path);
		CHECK(dir);
		while ((de = readdir(dir))) {
			FILE *f;
			char line[256];

			if (de->d_name[0] == '.')
				continue;
			snprintf(buf, sizeof(buf), "/proc/%d/task/%s/status", d.pid, de->d_name);
			f = fopen(buf, "re");
			if (!f)
				continue;
			while (fgets(line, sizeof(line), f)) {
				if (!strncmp(line, "CapEff:", 7))
					CHECK_EQ(strtoull(line + 7, NULL, 16), CAPS_EXPECTED);
				if (!strncmp(line, "Seccomp:", 8))
					CHECK_EQ(strtol(line + 8, NULL, 10), 2);
			}
			fclose(f);
			n++;
		}
		closedir(dir);
		CHECK(n >= 2); /* the main thread and the control thread */
	}
	CHECK_OK(kill(d.pid, SIGTERM));
	CHECK_EQ(vd_wait_exit(d.pid, 5000), 0);
	d.pid = 0;
	CHECK(access(csock, F_OK) < 0);
	vd_cleanup(&d);
}

TEST(control_refused_in_a_jail)
{
	expect_refused((const char *[]){"--socket-path=/tmp/x", "--shared-dir=/tmp",
					"--control=/tmp/ctl", NULL},
		       "--control");
}

TEST_MAIN()
