/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * e2e_perm: fb-passthrough's permission model through a real mount, as a non-root caller
 * (uid/gid 65534 without groups, through setpriv(1)) with -o allow_other and otherwise the
 * default options; every case over /dev/fuse and again over FUSE io_uring (-o io_uring, the
 * fuse module's enable_uring turned on for the run and restored):
 *
 *  - search permission holds for cached entries: after a directory loses its x bit, chmod,
 *    chown, truncate, link and open of a file below it fail with EACCES;
 *  - opening a FIFO the caller may not read fails with EACCES;
 *  - fs.protected_regular / protected_fifos / protected_symlinks (set to 1 for the case,
 *    then restored) hold as on the host;
 *  - a 0711 program runs (an exec open needs no read permission); a 0700 one does not; also
 *    with -o no_default_permissions (the daemon's check alone);
 *  - a default ACL on the parent: the umask is not applied (0666 files, 0777 directories),
 *    as on the host; also with -o no_posix_acl;
 *  - after setfacl through the mount the mode shows the new ACL mask at once, and an ACL
 *    entry grants access that the mode bits alone do not; with -o no_posix_acl the mode is
 *    fresh too (the daemon invalidates it) and the kernel checks the mode bits alone;
 *  - an O_DIRECT open while another process holds a buffered open of the same file, and the
 *    other order, with and without FUSE passthrough;
 *  - with -o no_default_permissions, a supplementary group the caller gives up is no longer
 *    honoured on its next request (the daemon reads the groups anew each time).
 *
 * Each result is compared with the same call on the host directory where the host decides.
 * Environment (set by meson): FB_PASSTHROUGH.
 */
#include <grp.h>
#include <stdarg.h>
#include <sys/xattr.h>

#include "harness.h"
#include "e2e_util.h"

#define NOBODY 65534
#define OTHER 1000
#define PARAM "/sys/module/fuse/parameters/enable_uring"

static const char *g_daemon;
static char g_base[256];		/* holds src/, mnt/ and the helper copy */
static char g_src[300], g_mnt[300], g_helper[300];
static char g_param_saved;		/* enable_uring as found ('Y'/'N'), 0 if absent */

/* ------------------------------------------------------------------------------------------
 * The caller: this program again, as uid/gid 65534 without groups, doing one system call.
 */

/*
 * Child side of "--as groups_drop DIR", started as root: look DIR/f up in group 4242, then
 * DIR/g with no groups. 0 when the first works and the second fails with EACCES.
 */
static int groups_drop(const char *dir)
{
	char p1[512], p2[512];
	gid_t g = 4242;
	struct stat st;

	snprintf(p1, sizeof(p1), "%s/f", dir);
	snprintf(p2, sizeof(p2), "%s/g", dir);
	if (setgroups(1, &g) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
	    setresuid(0, NOBODY, 0) < 0)
		return 254;
	if (stat(p1, &st) < 0)
		return errno;
	if (seteuid(0) < 0 || setgroups(0, NULL) < 0 || seteuid(NOBODY) < 0)
		return 254;
	if (stat(p2, &st) == 0)
		return 253;
	return errno == EACCES ? 0 : errno;
}

/* Child side: "--as OP PATH [ARG]"; exits with 0 or the errno of the call. */
static int as_main(int argc, char **argv)
{
	const char *op = argv[2], *path = argv[3], *arg = argc > 4 ? argv[4] : NULL;
	char buf[4096] __attribute__((aligned(4096)));
	int fd, r = 0;

	umask(022);
	if (strcmp(op, "stat") == 0) {
		struct stat st;
		r = stat(path, &st);
	} else if (strcmp(op, "chmod") == 0) {
		r = chmod(path, 0600);
	} else if (strcmp(op, "chown") == 0) {
		r = chown(path, NOBODY, (gid_t)-1);
	} else if (strcmp(op, "truncate") == 0) {
		r = truncate(path, 0);
	} else if (strcmp(op, "link") == 0) {
		r = link(path, arg);
	} else if (strcmp(op, "open") == 0 || strcmp(op, "read") == 0 ||
		   strcmp(op, "read_direct") == 0) {
		int flags = strcmp(op, "read_direct") == 0 ? O_RDONLY | O_DIRECT : O_RDONLY;
		fd = open(path, flags);
		if (fd < 0)
			return errno;
		if (strcmp(op, "open") != 0 && read(fd, buf, sizeof(buf)) < 0)
			r = -1;
		close(fd);
	} else if (strcmp(op, "open_fifo") == 0) {
		fd = open(path, O_RDONLY | O_NONBLOCK);
		if (fd >= 0)
			close(fd);
		r = fd;
	} else if (strcmp(op, "open_creat") == 0) {
		/* O_RDWR never blocks on a FIFO */
		fd = open(path, O_RDWR | O_CREAT | O_NONBLOCK, 0666);
		if (fd >= 0)
			close(fd);
		r = fd;
	} else if (strcmp(op, "create") == 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
		if (fd >= 0)
			close(fd);
		r = fd;
	} else if (strcmp(op, "mkdir") == 0) {
		r = mkdir(path, 0777);
	} else if (strcmp(op, "groups_drop") == 0) {
		/* _exit: changing ids makes the process undumpable, which LeakSanitizer's exit
		 * check cannot cope with */
		_exit(groups_drop(path));
	} else if (strcmp(op, "exec") == 0) {
		char *av[] = {(char *)path, NULL};
		execv(path, av);
		return errno;
	} else {
		return 255;
	}
	return r < 0 ? errno : 0;
}

/* Run OP on @path (@arg or NULL) as nobody; 0 or -errno of the call (other failures: -EIO). */
static int nobody(const char *op, const char *path, const char *arg)
{
	char *argv[] = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			g_helper, "--as", (char *)op, (char *)path, (char *)arg, NULL};
	int r = e2e_wait(e2e_spawn(argv, NULL, -1), 20000);

	if (r == 255 || r < 0 || r >= 128)
		return -EIO;
	return -r;
}

/* ------------------------------------------------------------------------------------------
 * Mounts and trees.
 */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void path_in(char *out, size_t len, const char *root, const char *name)
{
	snprintf(out, len, "%s/%s", root, name);
}

/* An empty source directory. */
static void empty_src(void)
{
	sh("rm -rf '%s'", g_src);
	mkdir(g_src, 0755);
	chmod(g_src, 0755);
}

/* Mount SOURCE on g_mnt with "-o allow_other[,io_uring][,@opts]"; returns the daemon's pid. */
static pid_t mount_pt(int uring, const char *opts)
{
	char o[512];

	snprintf(o, sizeof(o), "allow_other%s%s%s", uring ? ",io_uring" : "",
		 opts && *opts ? "," : "", opts ? opts : "");
	char *argv[] = {(char *)g_daemon, "-f", "-o", o, g_src, g_mnt, NULL};
	return e2e_start_daemon(argv, g_mnt);
}

static void unmount_pt(pid_t pid)
{
	if (pid <= 0)
		return;
	umount2(g_mnt, MNT_DETACH);
	e2e_stop_daemon(pid, SIGTERM);
}

static void need_uring(int uring)
{
	if (uring && !g_param_saved)
		SKIP("this kernel has no FUSE over io_uring (%s)", PARAM);
}

static char param_get(void)
{
	char v = 0;
	int fd = open(PARAM, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (read(fd, &v, 1) != 1)
		v = 0;
	close(fd);
	return v;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		r = -errno;
	close(fd);
	return r;
}

static int setup(void)
{
	char self[256];
	ssize_t n;

	if (e2e_need_root_and_fuse())
		return 1;
	g_daemon = getenv("FB_PASSTHROUGH");
	if (!g_daemon || access(g_daemon, X_OK) != 0) {
		fprintf(stderr, "  skip: FB_PASSTHROUGH does not name the fb-passthrough binary\n");
		return 1;
	}
	if (access("/usr/bin/setpriv", X_OK) != 0) {
		fprintf(stderr, "  skip: setpriv is missing\n");
		return 1;
	}
	snprintf(g_base, sizeof(g_base), "/tmp/fb-perm-e2e-XXXXXX");
	if (!mkdtemp(g_base))
		return 1;
	chmod(g_base, 0755);
	path_in(g_src, sizeof(g_src), g_base, "src");
	path_in(g_mnt, sizeof(g_mnt), g_base, "mnt");
	path_in(g_helper, sizeof(g_helper), g_base, "helper");
	mkdir(g_src, 0755);
	mkdir(g_mnt, 0755);
	/* a copy of this program that nobody may run, wherever the build tree is */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	if (sh("cp '%s' '%s' && chmod 755 '%s'", self, g_helper, g_helper) != 0)
		return 1;
	g_param_saved = param_get();
	if (g_param_saved && write_str(PARAM, "Y") < 0)
		g_param_saved = 0;
	return 0;
}

static int teardown(void)
{
	char v[2] = {g_param_saved, 0};

	umount2(g_mnt, MNT_DETACH);
	if (g_param_saved)
		write_str(PARAM, v);
	sh("rm -rf '%s'", g_base);
	return 0;
}
TEST_SETUP(setup)
TEST_TEARDOWN(teardown)

/* ------------------------------------------------------------------------------------------
 * Search permission through the kernel's caches.
 */

/*
 * d/ (root, 0755) holds f (nobody's own, 0666); w/ is 0777. Before each call nobody looks f
 * up (the kernel caches the entries), then root takes d's x bit away through the mount.
 */
static void search_body(int uring)
{
	static const char *const ops[] = {"chmod", "chown", "truncate", "link", "open"};
	char d[400], f[400], w[400];
	pid_t pid;

	need_uring(uring);
	empty_src();
	CHECK_EQ(sh("cd '%s' && mkdir d w && chmod 777 w && echo x > d/f && chmod 666 d/f && "
		    "chown %d:%d d/f", g_src, NOBODY, NOBODY), 0);
	pid = mount_pt(uring, NULL);
	CHECK(pid > 0);
	path_in(d, sizeof(d), g_mnt, "d");
	path_in(f, sizeof(f), g_mnt, "d/f");
	path_in(w, sizeof(w), g_mnt, "w/l");
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		int r;

		chmod(d, 0755);
		r = nobody("stat", f, NULL);
		if (r == 0) {
			chmod(d, 0700);
			r = nobody(ops[i], f, w);
		}
		unlink(w);
		if (r != -EACCES) {
			unmount_pt(pid);
			FBT_FAIL("%s below a directory without search permission: %s, want "
				 "EACCES", ops[i], r ? strerror(-r) : "success");
		}
	}
	unmount_pt(pid);
}

TEST(search_permission_holds_for_cached_entries_dev)
{
	search_body(0);
}

TEST(search_permission_holds_for_cached_entries_uring)
{
	search_body(1);
}

/* A FIFO of mode 0600 owned by root: nobody's open is refused, on the host and the mount. */
static void fifo_body(int uring)
{
	char p[400];
	pid_t pid;
	int r;

	need_uring(uring);
	empty_src();
	path_in(p, sizeof(p), g_src, "p");
	CHECK_OK(mkfifo(p, 0600));
	CHECK_ERR(nobody("open_fifo", p, NULL), -EACCES);
	pid = mount_pt(uring, NULL);
	CHECK(pid > 0);
	path_in(p, sizeof(p), g_mnt, "p");
	r = nobody("open_fifo", p, NULL);
	unmount_pt(pid);
	CHECK_ERR(r, -EACCES);
}

TEST(fifo_open_checks_permission_dev)
{
	fifo_body(0);
}

TEST(fifo_open_checks_permission_uring)
{
	fifo_body(1);
}

/*
 * t/ (root, 01777) holds r (a file), p (a FIFO) and s (a symlink to ../o), all uid 1000's:
 * with fs.protected_regular, protected_fifos and protected_symlinks at 1, nobody may neither
 * open r or p with O_CREAT nor follow s. The sysctls are restored at once.
 */
static const char *const prot_names[] = {"regular", "fifos", "symlinks"};

static int prot_get(const char *name)
{
	char path[128], v[16] = "";
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/fs/protected_%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (read(fd, v, sizeof(v) - 1) <= 0)
		v[0] = '\0';
	close(fd);
	return v[0] ? atoi(v) : -EIO;
}

static int prot_set(const char *name, int v)
{
	char path[128], s[16];

	snprintf(path, sizeof(path), "/proc/sys/fs/protected_%s", name);
	snprintf(s, sizeof(s), "%d", v);
	return write_str(path, s);
}

/* The three calls under @root: 0 when all were refused with EACCES, else which one was not. */
static int prot_calls(const char *root, char *what, size_t len)
{
	static const char *const calls[][2] = {
		{"open_creat", "t/r"}, {"open_creat", "t/p"}, {"open", "t/s"}};
	int bad = 0;

	what[0] = '\0';
	for (int i = 0; i < 3; i++) {
		char p[400];
		int r;

		path_in(p, sizeof(p), root, calls[i][1]);
		r = nobody(calls[i][0], p, NULL);
		if (r != -EACCES) {
			size_t used = strlen(what);
			snprintf(what + used, len - used, " %s %s: %s;", calls[i][0], calls[i][1],
				 r ? strerror(-r) : "success");
			bad = 1;
		}
	}
	return bad;
}

static void protected_body(int uring)
{
	int saved[3], host_bad, mnt_bad;
	char host_what[256], mnt_what[256];
	pid_t pid;

	need_uring(uring);
	empty_src();
	CHECK_EQ(sh("cd '%s' && echo o > o && chmod 644 o && mkdir t && chmod 1777 t && "
		    "echo r > t/r && chmod 666 t/r && mkfifo -m 666 t/p && ln -s ../o t/s && "
		    "chown -h %d t/r t/p t/s", g_src, OTHER), 0);
	pid = mount_pt(uring, NULL);
	CHECK(pid > 0);
	for (int i = 0; i < 3; i++) {
		saved[i] = prot_get(prot_names[i]);
		if (saved[i] < 0 || prot_set(prot_names[i], 1) < 0) {
			for (int j = 0; j < i; j++)
				prot_set(prot_names[j], saved[j]);
			unmount_pt(pid);
			SKIP("cannot set fs.protected_%s", prot_names[i]);
		}
	}
	host_bad = prot_calls(g_src, host_what, sizeof(host_what));
	mnt_bad = prot_calls(g_mnt, mnt_what, sizeof(mnt_what));
	for (int i = 0; i < 3; i++)
		prot_set(prot_names[i], saved[i]);
	unmount_pt(pid);
	if (host_bad)
		SKIP("the host does not enforce the protected_* rules here:%s", host_what);
	if (mnt_bad)
		FBT_FAIL("protected_* rules not enforced through the mount:%s", mnt_what);
}

TEST(protected_regular_fifos_symlinks_dev)
{
	protected_body(0);
}

TEST(protected_regular_fifos_symlinks_uring)
{
	protected_body(1);
}

/* ------------------------------------------------------------------------------------------
 * Execute without read permission.
 */

static void exec_body(int uring, const char *opts)
{
	char x[400], y[400];
	pid_t pid;
	int r_x, r_y;

	need_uring(uring);
	empty_src();
	CHECK_EQ(sh("cp /bin/true '%s/x' && chmod 711 '%s/x' && cp /bin/true '%s/y' && "
		    "chmod 700 '%s/y'", g_src, g_src, g_src, g_src), 0);
	path_in(x, sizeof(x), g_src, "x");
	CHECK_EQ(nobody("exec", x, NULL), 0);
	pid = mount_pt(uring, opts);
	CHECK(pid > 0);
	path_in(x, sizeof(x), g_mnt, "x");
	path_in(y, sizeof(y), g_mnt, "y");
	r_x = nobody("exec", x, NULL);
	r_y = nobody("exec", y, NULL);
	unmount_pt(pid);
	CHECK_ERR(r_x, 0);	/* 0711: runs */
	CHECK_ERR(r_y, -EACCES); /* 0700: not ours */
}

/* The same caller (one pid) with group 4242, then without: the second lookup is refused. */
static void groups_body(int uring)
{
	char sub[400];
	pid_t pid;
	int r;

	need_uring(uring);
	empty_src();
	CHECK_EQ(sh("mkdir '%s/sub' && touch '%s/sub/f' '%s/sub/g' && chgrp 4242 '%s/sub' && "
		    "chmod 710 '%s/sub'", g_src, g_src, g_src, g_src, g_src), 0);
	/* one worker: both lookups read the groups through the same thread */
	pid = mount_pt(uring, "no_default_permissions,threads=1");
	CHECK(pid > 0);
	path_in(sub, sizeof(sub), g_mnt, "sub");
	char *argv[] = {g_helper, "--as", "groups_drop", sub, NULL};
	r = e2e_wait(e2e_spawn(argv, NULL, -1), 20000);
	unmount_pt(pid);
	CHECK_EQ(r, 0);	/* 253: the dropped group still opened sub/ */
}

TEST(dropped_group_is_not_honoured_dev)
{
	groups_body(0);
}

TEST(dropped_group_is_not_honoured_uring)
{
	groups_body(1);
}

TEST(exec_needs_no_read_permission_dev)
{
	exec_body(0, NULL);
}

TEST(exec_needs_no_read_permission_uring)
{
	exec_body(1, NULL);
}

/* The daemon's own check, without the kernel's. */
TEST(exec_needs_no_read_permission_no_default_permissions_dev)
{
	exec_body(0, "no_default_permissions");
}

TEST(exec_needs_no_read_permission_no_default_permissions_uring)
{
	exec_body(1, "no_default_permissions");
}

/* ------------------------------------------------------------------------------------------
 * POSIX ACLs.
 */

static int host_has_acls(void)
{
	char p[400];

	path_in(p, sizeof(p), g_src, "");
	return !(getxattr(p, "system.posix_acl_access", NULL, 0) < 0 && errno == EOPNOTSUPP);
}

/* The mode as ls -l or a permission check sees it: statx(STATX_MODE) alone. */
static mode_t mode_of(const char *path)
{
	struct statx sx;

	return statx(AT_FDCWD, path, 0, STATX_MODE, &sx) < 0 ? (mode_t)-1 : sx.stx_mode & 07777;
}

/*
 * a/ is 0777 with the default ACL u::rwx,g::rwx,o::rwx: a file created by nobody (umask 022)
 * with mode 0666 is 0666 and a directory with 0777 is 0777, as on the host.
 */
static void default_acl_body(int uring, const char *opts)
{
	char p[400], q[400];
	mode_t fm, dm;
	pid_t pid;

	need_uring(uring);
	empty_src();
	if (!host_has_acls())
		SKIP("the source's file system has no POSIX ACLs");
	if (access("/usr/bin/setfacl", X_OK) != 0)
		SKIP("setfacl is missing (package acl)");
	CHECK_EQ(sh("cd '%s' && mkdir a && chmod 777 a && setfacl -d -m u::rwx,g::rwx,o::rwx a",
		    g_src), 0);
	path_in(p, sizeof(p), g_src, "a/host_f");
	path_in(q, sizeof(q), g_src, "a/host_d");
	CHECK_EQ(nobody("create", p, NULL), 0);
	CHECK_EQ(nobody("mkdir", q, NULL), 0);
	CHECK_EQ(mode_of(p), 0666);
	CHECK_EQ(mode_of(q), 0777);
	pid = mount_pt(uring, opts);
	CHECK(pid > 0);
	path_in(p, sizeof(p), g_mnt, "a/f");
	path_in(q, sizeof(q), g_mnt, "a/d");
	if (nobody("create", p, NULL) != 0 || nobody("mkdir", q, NULL) != 0) {
		unmount_pt(pid);
		FBT_FAIL("create or mkdir as nobody through the mount failed");
	}
	fm = mode_of(p);
	dm = mode_of(q);
	unmount_pt(pid);
	CHECK_EQ(fm, 0666);
	CHECK_EQ(dm, 0777);
	path_in(p, sizeof(p), g_src, "a/f");
	CHECK_EQ(mode_of(p), 0666);
}

TEST(default_acl_ignores_umask_dev)
{
	default_acl_body(0, NULL);
}

TEST(default_acl_ignores_umask_uring)
{
	default_acl_body(1, NULL);
}

TEST(default_acl_ignores_umask_no_posix_acl_dev)
{
	default_acl_body(0, "no_posix_acl");
}

TEST(default_acl_ignores_umask_no_posix_acl_uring)
{
	default_acl_body(1, "no_posix_acl");
}

/*
 * m is root's, 0600. Through the mount: stat it (the kernel caches the mode), then
 * setfacl -m u:65534:r: the mode shows the mask (0640) at once, and nobody may read it; after
 * setfacl -x the mode is 0600 again and nobody may not. With @opts no_posix_acl the kernel
 * checks the mode bits alone (default_permissions), so the ACL entry grants nothing there.
 */
static void setfacl_body(int uring, const char *opts)
{
	int acl_grants = !opts || !strstr(opts, "no_posix_acl");
	char m[400];
	mode_t after_set, after_del;
	int r_set, r_del;
	pid_t pid;

	need_uring(uring);
	empty_src();
	if (!host_has_acls())
		SKIP("the source's file system has no POSIX ACLs");
	if (access("/usr/bin/setfacl", X_OK) != 0)
		SKIP("setfacl is missing (package acl)");
	CHECK_EQ(sh("cd '%s' && echo m > m && chmod 600 m", g_src), 0);
	pid = mount_pt(uring, opts);
	CHECK(pid > 0);
	path_in(m, sizeof(m), g_mnt, "m");
	mode_of(m);
	nobody("read", m, NULL);
	sh("setfacl -m u:%d:r '%s'", NOBODY, m);
	after_set = mode_of(m);
	r_set = nobody("read", m, NULL);
	sh("setfacl -x u:%d -n '%s' && chmod 600 '%s'", NOBODY, m, m);
	after_del = mode_of(m);
	r_del = nobody("read", m, NULL);
	unmount_pt(pid);
	CHECK_EQ(after_set, 0640);
	CHECK_ERR(r_set, acl_grants ? 0 : -EACCES);
	CHECK_EQ(after_del, 0600);
	CHECK_ERR(r_del, -EACCES);
}

TEST(setfacl_shows_and_grants_at_once_dev)
{
	setfacl_body(0, NULL);
}

TEST(setfacl_shows_and_grants_at_once_uring)
{
	setfacl_body(1, NULL);
}

/* The daemon's attribute invalidation, without the kernel's ACL handling. */
TEST(setfacl_shows_at_once_no_posix_acl_dev)
{
	setfacl_body(0, "no_posix_acl");
}

TEST(setfacl_shows_at_once_no_posix_acl_uring)
{
	setfacl_body(1, "no_posix_acl");
}

/* ------------------------------------------------------------------------------------------
 * O_DIRECT beside buffered opens.
 */

/*
 * f (8 KiB, 0644): root holds a buffered open while nobody opens it with O_DIRECT and reads;
 * then root holds an O_DIRECT open while nobody opens it buffered and reads.
 */
static void direct_body(int uring, const char *opts)
{
	char f[400];
	int fd, r1, r2;
	pid_t pid;

	need_uring(uring);
	empty_src();
	CHECK_EQ(sh("head -c 8192 /dev/zero > '%s/f' && chmod 644 '%s/f'", g_src, g_src), 0);
	path_in(f, sizeof(f), g_src, "f");
	fd = open(f, O_RDONLY | O_DIRECT);
	if (fd < 0)
		SKIP("the source's file system has no O_DIRECT: %s", strerror(errno));
	close(fd);
	pid = mount_pt(uring, opts);
	CHECK(pid > 0);
	path_in(f, sizeof(f), g_mnt, "f");
	fd = open(f, O_RDONLY);
	r1 = fd < 0 ? -errno : nobody("read_direct", f, NULL);
	if (fd >= 0)
		close(fd);
	fd = open(f, O_RDONLY | O_DIRECT);
	r2 = fd < 0 ? -errno : nobody("read", f, NULL);
	if (fd >= 0)
		close(fd);
	unmount_pt(pid);
	CHECK_ERR(r1, 0); /* O_DIRECT beside a buffered open */
	CHECK_ERR(r2, 0); /* buffered beside an O_DIRECT open */
}

TEST(odirect_beside_buffered_open_dev)
{
	direct_body(0, NULL);
}

TEST(odirect_beside_buffered_open_uring)
{
	direct_body(1, NULL);
}

TEST(odirect_beside_buffered_open_no_passthrough_dev)
{
	direct_body(0, "no_passthrough");
}

TEST(odirect_beside_buffered_open_no_passthrough_uring)
{
	direct_body(1, "no_passthrough");
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "--as") == 0)
		return as_main(argc, argv);
	return fbt_main();
}
