/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fb-virtiofsd's sandbox against every FUSE operation: in a child process, the daemon's own
 * sandbox code (daemons/virtiofsd_sandbox.c: namespaces, pivot_root, capabilities, seccomp
 * with --seccomp=kill) closes around a passthrough server, which then serves hand-built
 * requests for every operation the passthrough implements, from threads too. A system call
 * missing from the allowlist kills the child with SIGSYS; a refused operation names itself.
 *
 * The in-process cases do not cover the device's own calls (its socket, eventfds, guest
 * memory maps, queue threads): every_op_through_the_daemon_over_vhost_user does, sending the
 * same operations to the fb-virtiofsd binary (namespace sandbox, seccomp kill) through its
 * socket from the front end of tests/unit/vhost_front.h, as QEMU would.
 *
 * Needs root (skips otherwise).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fuse_backend/passthrough.h>
#include <fuse_backend/server.h>

#include "fbreq.h"
#include "harness.h"
#include "vhost_front.h"
#include "virtiofsd_opts.h"
#include "virtiofsd_sandbox.h"

static struct fb_server *srv; /* in process: requests go straight to the server */
static struct vf *front;      /* or through the daemon's socket as a VMM would */
static uint64_t uniq = 100;

/* Send @q, fill @p: p->ret is what the server returned or the used length. */
static void send_q(struct fbreq *q, struct fbrep *p)
{
	uint32_t op = fbreq_hdr(q)->opcode;

	if (!front) {
		fbreq_send(srv, q, p);
		return;
	}
	if (op == FB_FORGET || op == FB_BATCH_FORGET) {
		/* as Linux sends them: alone on the hiprio queue, no writable part */
		fbreq_finish(q);
		p->ret = vf_submit(front, 0, 0, q->buf, q->len, 0);
		if (p->ret == 0)
			p->ret = vf_complete(front, 0, 0, NULL, 0);
		return;
	}
	vf_fuse(front, 1, q, p);
}

/* One request as @uid (0 or 1000); returns the reply's error; the body stays in @p. */
static int req(struct fbrep *p, uint32_t op, uint64_t node, uint32_t uid, const void *arg,
	       size_t alen, const char *name1, const char *name2)
{
	struct fbreq q = {0};

	fbreq_start(&q, op, uniq += 2, node);
	fbreq_hdr(&q)->uid = uid;
	fbreq_hdr(&q)->gid = uid;
	if (alen)
		fbreq_put(&q, arg, alen);
	if (name1)
		fbreq_str(&q, name1);
	if (name2)
		fbreq_str(&q, name2);
	send_q(&q, p);
	fbreq_free(&q);
	if (op == FB_FORGET || op == FB_BATCH_FORGET)
		return 0;
	return p->ret >= 16 ? p->oh.error : -1000;
}

#define STEP(what, call)                                                                           \
	do {                                                                                       \
		int r_ = (call);                                                                   \
		if (r_ != 0) {                                                                     \
			fprintf(stderr, "  %s: %d (%s)\n", what, r_, strerror(-r_));               \
			_exit(3);                                                                  \
		}                                                                                  \
	} while (0)

static uint64_t entry_node(struct fbrep *p)
{
	return FBREP_AS(p, struct fb_entry_out).nodeid;
}

static uint64_t open_fh(struct fbrep *p)
{
	return FBREP_AS(p, struct fb_open_out).fh;
}

/* Lookups and reads from a second thread: a thread created under the filter works. */
static void *reader_thread(void *arg)
{
	struct fbrep p;
	struct fb_getattr_in ga = {0};
	long ok = 1;

	(void)arg;
	fbrep_init(&p, 0);
	for (int i = 0; i < 50 && ok; i++) {
		if (req(&p, FB_LOOKUP, FB_ROOT_ID, 1000, NULL, 0, "dir", NULL) != 0)
			ok = 0;
		else if (req(&p, FB_GETATTR, entry_node(&p), 1000, &ga, sizeof(ga), NULL, NULL) !=
			 0)
			ok = 0;
	}
	fbrep_free(&p);
	return (void *)ok;
}

static void every_op(void)
{
	struct fbrep p;
	uint64_t dir, file, fh, dfh, sym, node, file2, fh2;
	char data[8192];

	fbrep_init(&p, 0);
	{
		struct fbreq q = {0};

		fbreq_init_msg(&q, 1, 7, 45, 128 * 1024, FBREQ_ALL_FLAGS);
		send_q(&q, &p);
		fbreq_free(&q);
		STEP("INIT", p.ret >= 16 ? p.oh.error : -EPROTO);
	}

	{
		struct fb_mkdir_in in = {.mode = 0755, .umask = 022};

		STEP("MKDIR", req(&p, FB_MKDIR, FB_ROOT_ID, 1000, &in, sizeof(in), "dir", NULL));
		dir = entry_node(&p);
	}
	{
		struct fb_create_in in = {.flags = O_RDWR | O_CREAT, .mode = 0644, .umask = 022};

		STEP("CREATE", req(&p, FB_CREATE, dir, 1000, &in, sizeof(in), "f", NULL));
		file = entry_node(&p);
		fh = FBREP_AS(
			     &p,
			     struct {
				     struct fb_entry_out e;
				     struct fb_open_out o;
			     })
			     .o.fh;
	}
	{
		struct fb_write_in in = {.fh = fh, .offset = 0, .size = sizeof(data)};
		struct fbreq q = {0};

		memset(data, 'x', sizeof(data));
		fbreq_start(&q, FB_WRITE, uniq += 2, file);
		fbreq_put(&q, &in, sizeof(in));
		fbreq_put(&q, data, sizeof(data));
		send_q(&q, &p);
		fbreq_free(&q);
		STEP("WRITE", p.oh.error);
	}
	{
		struct fb_read_in in = {.fh = fh, .offset = 0, .size = 4096};

		STEP("READ", req(&p, FB_READ, file, 1000, &in, sizeof(in), NULL, NULL));
		if (p.bodylen != 4096 || p.body[0] != 'x')
			STEP("READ data", -EIO);
	}
	{
		struct fb_getattr_in in = {0};
		struct fb_statx_in sx = {.sx_mask = 0x7ff};

		STEP("GETATTR", req(&p, FB_GETATTR, file, 1000, &in, sizeof(in), NULL, NULL));
		STEP("STATX", req(&p, FB_STATX, file, 1000, &sx, sizeof(sx), NULL, NULL));
	}
	{
		struct fb_setattr_in in = {.valid = FB_FATTR_MODE, .mode = 0600};

		STEP("SETATTR mode", req(&p, FB_SETATTR, file, 1000, &in, sizeof(in), NULL, NULL));
		in = (struct fb_setattr_in){
			.valid = FB_FATTR_SIZE | FB_FATTR_FH, .fh = fh, .size = 6000};
		STEP("SETATTR size", req(&p, FB_SETATTR, file, 1000, &in, sizeof(in), NULL, NULL));
		in = (struct fb_setattr_in){
			.valid = FB_FATTR_ATIME | FB_FATTR_MTIME, .atime = 1000, .mtime = 2000};
		STEP("SETATTR times", req(&p, FB_SETATTR, file, 1000, &in, sizeof(in), NULL, NULL));
		in = (struct fb_setattr_in){.valid = FB_FATTR_ATIME_NOW | FB_FATTR_MTIME_NOW |
						     FB_FATTR_ATIME | FB_FATTR_MTIME};
		STEP("SETATTR now", req(&p, FB_SETATTR, file, 1000, &in, sizeof(in), NULL, NULL));
		in = (struct fb_setattr_in){
			.valid = FB_FATTR_UID | FB_FATTR_GID, .uid = 2000, .gid = 2000};
		STEP("SETATTR chown", req(&p, FB_SETATTR, file, 0, &in, sizeof(in), NULL, NULL));
		in = (struct fb_setattr_in){
			.valid = FB_FATTR_UID | FB_FATTR_GID, .uid = 1000, .gid = 1000};
		STEP("SETATTR chown back",
		     req(&p, FB_SETATTR, file, 0, &in, sizeof(in), NULL, NULL));
	}
	{
		struct fb_fallocate_in in = {.fh = fh, .offset = 0, .length = 65536};

		STEP("FALLOCATE", req(&p, FB_FALLOCATE, file, 1000, &in, sizeof(in), NULL, NULL));
	}
	{
		struct fb_lseek_in in = {.fh = fh, .offset = 0, .whence = SEEK_DATA};

		STEP("LSEEK", req(&p, FB_LSEEK, file, 1000, &in, sizeof(in), NULL, NULL));
	}
	{
		struct fb_fsync_in in = {.fh = fh};

		STEP("FSYNC", req(&p, FB_FSYNC, file, 1000, &in, sizeof(in), NULL, NULL));
		in.fsync_flags = 1; /* datasync */
		STEP("FSYNC data", req(&p, FB_FSYNC, file, 1000, &in, sizeof(in), NULL, NULL));
	}
	{
		struct fb_lk_in in = {
			.fh = fh, .owner = 7, .lk = {.start = 0, .end = 100, .type = F_WRLCK}};

		STEP("SETLK", req(&p, FB_SETLK, file, 1000, &in, sizeof(in), NULL, NULL));
		STEP("GETLK", req(&p, FB_GETLK, file, 1000, &in, sizeof(in), NULL, NULL));
		in.lk.type = F_UNLCK;
		STEP("SETLK unlock", req(&p, FB_SETLK, file, 1000, &in, sizeof(in), NULL, NULL));
		in.lk_flags = FB_LK_FLOCK;
		in.lk.type = F_WRLCK;
		STEP("FLOCK", req(&p, FB_SETLK, file, 1000, &in, sizeof(in), NULL, NULL));
		in.lk.type = F_UNLCK;
		STEP("FLOCK unlock", req(&p, FB_SETLK, file, 1000, &in, sizeof(in), NULL, NULL));
	}
	{
		struct fb_setxattr_in in = {.size = 2};
		struct fb_getxattr_in gin = {.size = 256};
		struct fbreq q = {0};

		fbreq_start(&q, FB_SETXATTR, uniq += 2, file);
		fbreq_hdr(&q)->uid = fbreq_hdr(&q)->gid = 1000;
		fbreq_put(&q, &in, sizeof(in));
		fbreq_str(&q, "user.k");
		fbreq_put(&q, "v1", 2);
		send_q(&q, &p);
		fbreq_free(&q);
		STEP("SETXATTR", p.oh.error);
		STEP("GETXATTR",
		     req(&p, FB_GETXATTR, file, 1000, &gin, sizeof(gin), "user.k", NULL));
		STEP("LISTXATTR", req(&p, FB_LISTXATTR, file, 1000, &gin, sizeof(gin), NULL, NULL));
		STEP("GETXATTR dir",
		     req(&p, FB_LISTXATTR, dir, 1000, &gin, sizeof(gin), NULL, NULL));
		STEP("REMOVEXATTR", req(&p, FB_REMOVEXATTR, file, 1000, NULL, 0, "user.k", NULL));
	}
	{
		struct fb_copy_file_range_in in = {.fh_in = fh,
						   .off_in = 0,
						   .nodeid_out = file,
						   .fh_out = fh,
						   .off_out = 16384,
						   .len = 4096};
		struct fb_open_in oin = {.flags = O_RDONLY};

		STEP("COPY_FILE_RANGE",
		     req(&p, FB_COPY_FILE_RANGE, file, 1000, &in, sizeof(in), NULL, NULL));
		STEP("OPEN", req(&p, FB_OPEN, file, 1000, &oin, sizeof(oin), NULL, NULL));
		fh2 = open_fh(&p);
	}
	{
		struct fb_flush_in in = {.fh = fh, .lock_owner = 7};
		struct fb_release_in rin = {.fh = fh, .flags = O_RDWR};

		STEP("FLUSH", req(&p, FB_FLUSH, file, 1000, &in, sizeof(in), NULL, NULL));
		STEP("RELEASE", req(&p, FB_RELEASE, file, 1000, &rin, sizeof(rin), NULL, NULL));
		rin.fh = fh2;
		STEP("RELEASE 2", req(&p, FB_RELEASE, file, 1000, &rin, sizeof(rin), NULL, NULL));
	}
	{
		struct fb_access_in in = {.mask = R_OK | W_OK};

		STEP("ACCESS", req(&p, FB_ACCESS, file, 1000, &in, sizeof(in), NULL, NULL));
	}
	{
		struct fb_link_in in = {.oldnodeid = file};

		STEP("LINK", req(&p, FB_LINK, dir, 1000, &in, sizeof(in), "hard", NULL));
		file2 = entry_node(&p);
	}
	STEP("SYMLINK", req(&p, FB_SYMLINK, dir, 1000, NULL, 0, "sym", "f"));
	sym = entry_node(&p);
	STEP("READLINK", req(&p, FB_READLINK, sym, 1000, NULL, 0, NULL, NULL));
	{
		/* a symlink's xattrs go by path through /proc/self/fd: not in the sandbox's root */
		struct fb_getxattr_in gin = {.size = 256};
		int r = req(&p, FB_GETXATTR, sym, 1000, &gin, sizeof(gin), "security.nothing",
			    NULL);

		STEP("GETXATTR symlink", r == -ENODATA ? 0 : r ? r : -EEXIST);
		STEP("LISTXATTR symlink",
		     req(&p, FB_LISTXATTR, sym, 1000, &gin, sizeof(gin), NULL, NULL));
	}
	{
		struct fb_mknod_in in = {.mode = S_IFIFO | 0644, .umask = 022};

		STEP("MKNOD fifo", req(&p, FB_MKNOD, dir, 1000, &in, sizeof(in), "fifo", NULL));
		in = (struct fb_mknod_in){.mode = S_IFCHR | 0600, .rdev = makedev(1, 3)};
		STEP("MKNOD chr", req(&p, FB_MKNOD, dir, 0, &in, sizeof(in), "null", NULL));
		node = entry_node(&p);
	}
	{
		struct fb_rename2_in in = {.newdir = FB_ROOT_ID};

		STEP("RENAME2", req(&p, FB_RENAME2, dir, 1000, &in, sizeof(in), "hard", "moved"));
		in.flags = 2; /* RENAME_EXCHANGE */
		STEP("RENAME2 exchange",
		     req(&p, FB_RENAME2, dir, 1000, &in, sizeof(in), "f", "moved"));
	}
	{
		struct fb_open_in in = {.flags = O_RDONLY | O_DIRECTORY};
		struct fb_read_in rin = {.size = 4096};
		struct fb_release_in rel = {0};
		struct fb_fsync_in fs = {0};

		STEP("OPENDIR", req(&p, FB_OPENDIR, dir, 1000, &in, sizeof(in), NULL, NULL));
		dfh = open_fh(&p);
		rin.fh = dfh;
		STEP("READDIR", req(&p, FB_READDIR, dir, 1000, &rin, sizeof(rin), NULL, NULL));
		STEP("READDIRPLUS",
		     req(&p, FB_READDIRPLUS, dir, 1000, &rin, sizeof(rin), NULL, NULL));
		fs.fh = dfh;
		STEP("FSYNCDIR", req(&p, FB_FSYNCDIR, dir, 1000, &fs, sizeof(fs), NULL, NULL));
		rel.fh = dfh;
		STEP("RELEASEDIR",
		     req(&p, FB_RELEASEDIR, dir, 1000, &rel, sizeof(rel), NULL, NULL));
	}
	STEP("STATFS", req(&p, FB_STATFS, dir, 1000, NULL, 0, NULL, NULL));
	{
		struct fb_syncfs_in in = {0};

		STEP("SYNCFS", req(&p, FB_SYNCFS, FB_ROOT_ID, 0, &in, sizeof(in), NULL, NULL));
	}
	{
		struct fb_create_in in = {.flags = O_RDWR, .mode = 0600, .umask = 022};
		struct fb_release_in rel = {.flags = O_RDWR};

		STEP("TMPFILE", req(&p, FB_TMPFILE, dir, 1000, &in, sizeof(in), NULL, NULL));
		rel.fh = FBREP_AS(
				 &p,
				 struct {
					 struct fb_entry_out e;
					 struct fb_open_out o;
				 })
				 .o.fh;
		node = entry_node(&p);
		STEP("RELEASE tmpfile",
		     req(&p, FB_RELEASE, node, 1000, &rel, sizeof(rel), NULL, NULL));
	}
	if (!front) {
		pthread_t t[2];
		void *ok;

		for (int i = 0; i < 2; i++)
			if (pthread_create(&t[i], NULL, reader_thread, NULL) != 0)
				STEP("pthread_create", -EAGAIN);
		for (int i = 0; i < 2; i++) {
			pthread_join(t[i], &ok);
			if (!ok)
				STEP("requests from threads", -EIO);
		}
	}
	STEP("UNLINK", req(&p, FB_UNLINK, dir, 1000, NULL, 0, "sym", NULL));
	STEP("UNLINK 2", req(&p, FB_UNLINK, dir, 1000, NULL, 0, "fifo", NULL));
	STEP("UNLINK 3", req(&p, FB_UNLINK, dir, 0, NULL, 0, "null", NULL));
	STEP("UNLINK 4", req(&p, FB_UNLINK, dir, 1000, NULL, 0, "f", NULL));
	STEP("UNLINK 5", req(&p, FB_UNLINK, FB_ROOT_ID, 1000, NULL, 0, "moved", NULL));
	STEP("RMDIR", req(&p, FB_RMDIR, FB_ROOT_ID, 1000, NULL, 0, "dir", NULL));
	{
		struct fb_forget_in in = {.nlookup = 1};
		struct {
			struct fb_batch_forget_in h;
			struct fb_forget_one one[2];
		} b = {{.count = 2}, {{file2, 1}, {sym, 1}}};

		req(&p, FB_FORGET, file, 1000, &in, sizeof(in), NULL, NULL);
		req(&p, FB_BATCH_FORGET, 0, 1000, &b, sizeof(b), NULL, NULL);
	}
	{
		/* ENOENT, or a negative entry (node id 0) */
		int r = req(&p, FB_LOOKUP, FB_ROOT_ID, 1000, NULL, 0, "dir", NULL);

		STEP("LOOKUP gone", r == -ENOENT || (r == 0 && entry_node(&p) == 0) ? 0 : -EEXIST);
	}
	/* DESTROY ends the session (-ENODEV: nothing more to serve), maybe without a reply */
	req(&p, FB_DESTROY, 0, 0, NULL, 0, NULL, NULL);
	STEP("DESTROY", p.ret < 0 && p.ret != -ENODEV ? (int)p.ret : 0);
	fbrep_free(&p);
}

/*
 * With --translate-uid=map:1000:2000:1 --translate-gid=map:1000:2000:1
 * --translate-uid=forbid-guest:3000:1: guest 1000 creates as host 2000 and sees 1000, guest
 * 3000 gets EPERM. The parent checks the host owner afterwards.
 */
static void mapped_ops(void)
{
	struct fbrep p;

	fbrep_init(&p, 0);
	{
		struct fbreq q = {0};

		fbreq_init_msg(&q, 1, 7, 45, 128 * 1024, FBREQ_ALL_FLAGS);
		send_q(&q, &p);
		fbreq_free(&q);
		STEP("INIT", p.ret >= 16 ? p.oh.error : -EPROTO);
	}
	{
		struct fb_mkdir_in in = {.mode = 0755, .umask = 022};

		STEP("MKDIR as 1000",
		     req(&p, FB_MKDIR, FB_ROOT_ID, 1000, &in, sizeof(in), "m", NULL));
		STEP("MKDIR owner shown",
		     FBREP_AS(&p, struct fb_entry_out).attr.uid == 1000 &&
				     FBREP_AS(&p, struct fb_entry_out).attr.gid == 1000
			     ? 0
			     : -EBADE);
		STEP("MKDIR as 3000",
		     req(&p, FB_MKDIR, FB_ROOT_ID, 3000, &in, sizeof(in), "x", NULL) == -EPERM
			     ? 0
			     : -EBADE);
	}
	fbrep_free(&p);
}

static void (*child_ops)(void) = every_op;

/* The child: sandbox as fb-virtiofsd does, then every op. Exit 0, 3 (an op), 2 (setup). */
static void __attribute__((noreturn)) child(const char *share, const char *const *extra)
{
	char *argv[16] = {"fb-virtiofsd", "--socket-path=/unused",
			  "--shared-dir", (char *)share,
			  "--xattr",	  "-o",
			  "posix_lock"};
	int argc = 7;
	struct fb_vfsd_opts v;
	struct fb_passthrough *pt;
	char err[256];

	while (*extra && argc < 15)
		argv[argc++] = (char *)*extra++;
	argv[argc] = NULL;
	if (fb_vfsd_parse(argc, argv, &v, err, sizeof(err)) != 0) {
		fprintf(stderr, "  parse: %s\n", err);
		_exit(2);
	}
	if (fb_vfsd_rlimit(&v) < 0 || fb_vfsd_sandbox_enter(&v) < 0)
		_exit(2);
	if (fb_vfsd_passthrough_new(&v, &pt) < 0 ||
	    fb_server_new(&fb_passthrough_ops, sizeof(fb_passthrough_ops), pt, NULL, &srv) < 0)
		_exit(2);
	if (fb_vfsd_sandbox_jail(&v) < 0 || fb_vfsd_drop_caps(&v) < 0 || fb_vfsd_seccomp(&v) < 0)
		_exit(2);
	if (getenv("FB_VFSD_OPS_FORBIDDEN")) {
		/* not on the list, or not with these arguments: must not return */
		if (strcmp(getenv("FB_VFSD_OPS_FORBIDDEN"), "unshare") == 0)
			syscall(SYS_unshare, CLONE_NEWUSER);
		else
			syscall(SYS_ptrace, 0, 0, 0, 0);
	}
	child_ops();
	fb_server_free(srv);
	fb_passthrough_free(pt);
	fb_vfsd_opts_done(&v);
	_exit(0);
}

static void run_in_child_then(const char *const *extra, void (*check)(const char *share));

static void run_in_child(const char *const *extra)
{
	run_in_child_then(extra, NULL);
}

static void run_in_child_then(const char *const *extra, void (*check)(const char *share))
{
	char share[] = "/tmp/fb-vfsd-ops-XXXXXX";
	char cmd[64];
	pid_t pid;
	int st;

	if (geteuid() != 0)
		SKIP("the sandbox needs root");
	CHECK(mkdtemp(share));
	CHECK_OK(chmod(share, 0777));
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		child(share, extra);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	if (check && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		check(share);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", share);
	if (system(cmd) != 0) {
		/* harmless */
	}
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
		FBT_FAIL("killed by seccomp: a system call is missing from the allowlist");
	/* the namespace sandbox's parent reports a signal as 128 + signal */
	if (WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGSYS)
		FBT_FAIL("killed by seccomp: a system call is missing from the allowlist");
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
}

TEST(every_op_in_namespace_sandbox_seccomp_kill)
{
	run_in_child((const char *const[]){NULL});
}

TEST(every_op_in_chroot_sandbox_seccomp_kill)
{
	run_in_child((const char *const[]){"--sandbox=chroot", NULL});
}

TEST(every_op_no_file_handles)
{
	run_in_child((const char *const[]){"--inode-file-handles=never", NULL});
}

static void mapped_owner(const char *share)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/m", share);
	CHECK_OK(stat(path, &st));
	CHECK_EQ(st.st_uid, 2000);
	CHECK_EQ(st.st_gid, 2000);
	snprintf(path, sizeof(path), "%s/x", share);
	CHECK_ERR(stat(path, &st), -ENOENT);
}

TEST(id_maps_in_namespace_sandbox_seccomp_kill)
{
	child_ops = mapped_ops;
	run_in_child_then((const char *const[]){"--translate-uid=map:1000:2000:1",
						"--translate-gid=map:1000:2000:1",
						"--translate-uid=forbid-guest:3000:1", NULL},
			  mapped_owner);
	child_ops = every_op;
}

/* and the filter does bite: an unlisted call kills the process */
static void forbidden(const char *what)
{
	pid_t pid;
	int st;

	if (geteuid() != 0)
		SKIP("the sandbox needs root");
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char share[] = "/tmp/fb-vfsd-ops-XXXXXX";

		setenv("FB_VFSD_OPS_FORBIDDEN", what, 1);
		if (!mkdtemp(share))
			_exit(2);
		child(share, (const char *const[]){NULL});
	}
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	/* the pid namespace's parent passes the child's death on as 128 + SIGSYS */
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 128 + SIGSYS);
	if (system("rm -rf /tmp/fb-vfsd-ops-*") != 0) {
		/* harmless */
	}
}

TEST(an_unlisted_call_is_fatal)
{
	forbidden("ptrace");
}

TEST(unshare_of_a_namespace_is_fatal)
{
	forbidden("unshare");
}

/* ---- the daemon binary, driven through its socket as QEMU would ------------------------- */

static pid_t start_daemon(const char *sock, const char *share, const char *log)
{
	const char *bin = getenv("FB_VIRTIOFSD");
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(bin, bin, "--socket-path", sock, "--shared-dir", share, "--xattr",
		      "--seccomp=kill", "--sandbox=namespace", "-o", "posix_lock", (char *)NULL);
		_exit(127);
	}
	return pid;
}

TEST(every_op_through_the_daemon_over_vhost_user)
{
	char dir[] = "/tmp/fb-vfsd-vu-XXXXXX", share[64], sock[64], log[64], cmd[256];
	struct stat st;
	pid_t d, c;
	int s, ds = -1;

	if (geteuid() != 0)
		SKIP("the sandbox needs root");
	if (!getenv("FB_VIRTIOFSD"))
		SKIP("FB_VIRTIOFSD (the daemon to run) is not set");
	CHECK(mkdtemp(dir));
	snprintf(share, sizeof(share), "%s/share", dir);
	snprintf(sock, sizeof(sock), "%s/sock", dir);
	snprintf(log, sizeof(log), "%s/log", dir);
	CHECK_OK(mkdir(share, 0777));
	CHECK_OK(chmod(share, 0777));
	d = start_daemon(sock, share, log);
	CHECK(d > 0);
	for (int i = 0; i < 500 && stat(sock, &st) < 0; i++)
		usleep(10000);
	usleep(100000); /* the sandbox closes before accept */

	c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		struct vf_config cfg = VF_CONFIG_DEFAULT;
		struct vf *vf = NULL;
		int r = vf_connect(sock, &cfg, &vf);

		if (r < 0) {
			fprintf(stderr, "  connecting to fb-virtiofsd: %s\n", strerror(-r));
			_exit(2);
		}
		front = vf;
		every_op();
		_exit(0); /* the socket closes: the daemon sees its front end go */
	}
	CHECK_EQ(waitpid(c, &s, 0), c);
	for (int i = 0; i < 1000; i++) {
		if (waitpid(d, &ds, WNOHANG) == d)
			break;
		ds = -1;
		usleep(10000);
	}
	if (ds == -1) {
		kill(d, SIGKILL);
		waitpid(d, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "cat %s >&2; rm -rf %s", log, dir);
	if (!(WIFEXITED(s) && WEXITSTATUS(s) == 0) || ds != 0)
		if (system(cmd) != 0) {
			/* the log is only for the reader */
		}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0) {
		/* harmless */
	}
	CHECK(ds != -1); /* it exits when the front end goes away */
	if (WIFEXITED(ds) && WEXITSTATUS(ds) == 128 + SIGSYS)
		FBT_FAIL("fb-virtiofsd was killed by seccomp: its allowlist misses a call");
	CHECK(WIFEXITED(s));
	CHECK_EQ(WEXITSTATUS(s), 0);
	CHECK(WIFEXITED(ds));
	CHECK_EQ(WEXITSTATUS(ds), 0);
}

/* for a failing case: FB_VFSD_OPS_ARGS="--sandbox=none --seccomp=none" */
TEST(every_op_with_args_from_env)
{
	char *env = getenv("FB_VFSD_OPS_ARGS"), *copy, *save = NULL;
	const char *args[8] = {NULL};
	int n = 0;

	if (!env)
		SKIP("FB_VFSD_OPS_ARGS is not set");
	copy = strdup(env);
	for (char *t = strtok_r(copy, " ", &save); t && n < 7; t = strtok_r(NULL, " ", &save))
		args[n++] = t;
	run_in_child(args);
	free(copy);
}

TEST_MAIN()
