/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * virtio_bench: the same server and file systems through the virtio-fs transport (an
 * in-process vhost-user front end, tests/unit/vhost_front.h, against the device's own queue
 * threads) and through /dev/fuse (an in-process mount served by fb_session_loop()).
 *
 *   virtio_bench [--secs S] [--reps N] [--dir TMPFS_DIR] [--only virtio|fusedev]
 *                [--test NAME] [--threads 1|4] [--fs memfs|passthrough]
 *
 * Tests, each run for S seconds (default 1) by 1 and by 4 caller threads (virtio: one
 * request queue per thread; /dev/fuse: as many daemon threads as callers):
 *   getattr   virtio: GETATTR (no file handle); /dev/fuse: statx() of the open file with
 *             AT_STATX_FORCE_SYNC (the kernel asks the daemon whatever it has cached)
 *   read4k    READ of 4 KiB at rotating offsets of a 1 MiB file; /dev/fuse: pread() O_DIRECT
 *   write4k   WRITE of 4 KiB likewise; /dev/fuse: pwrite() O_DIRECT
 *   read1m    READ of 1 MiB at offset 0; pread() O_DIRECT
 *   write1m   WRITE of 1 MiB at offset 0; pwrite() O_DIRECT
 * over memfs and over passthrough of a directory on tmpfs (cache=never: every open is
 * direct I/O). Each caller thread has its own file.
 *
 * CPU: everything runs in this process. The daemon's CPU time is the process's
 * (CLOCK_PROCESS_CPUTIME_ID, which also counts threads that have exited) minus each caller
 * thread's own (CLOCK_THREAD_CPUTIME_ID, taken in the thread around its timed loop) minus the
 * main thread's. Over /dev/fuse a caller's time includes the kernel's FUSE client work done in
 * its system calls; over virtio it is the "guest driver" (chain building, kick, wait).
 * Requests are counted by a thin shim around the file system's getattr/statx/read/write, so
 * requests per operation are measured, not assumed.
 *
 * Output: one line per cell and repetition, then a table of medians.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <fuse_backend/fusedev.h>

#include "unit/vhost_front.h"

#define MAX_THREADS 4
#define FILE_BYTES  (1u << 20)
#define MAX_REPS    15

enum test { T_GETATTR, T_READ4K, T_WRITE4K, T_READ1M, T_WRITE1M, T_COUNT };
static const char *test_name[T_COUNT] = {"getattr", "read4k", "write4k", "read1m", "write1m"};
static const uint32_t test_len[T_COUNT] = {0, 4096, 4096, 1u << 20, 1u << 20};

enum transport { X_VIRTIO, X_FUSEDEV, X_COUNT };
static const char *xname[X_COUNT] = {"virtio", "/dev/fuse"};
static const char *fsname[2] = {"memfs", "passthrough"};

static double opt_secs = 1.0;
static int opt_reps = 3;
static const char *opt_dir = "/dev/shm";
static int opt_only = -1;
static const char *opt_test; /* run only this test */
static int opt_threads;	     /* run only with this many threads (1 or 4) */
static int opt_fs = -1;	     /* run only over this file system */

/* ---- request counting shim ----------------------------------------------------------------- */

static const struct fb_fs_ops *base_ops;
static struct fb_fs_ops counted_ops;
static uint64_t nreq;

static int c_getattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino,
		     const struct fb_file_info *fi, struct stat *out, double *timeout)
{
	__atomic_add_fetch(&nreq, 1, __ATOMIC_RELAXED);
	return base_ops->getattr(fs, ctx, ino, fi, out, timeout);
}

static int c_statx(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, const struct fb_file_info *fi,
		   uint32_t sx_flags, uint32_t mask, struct statx *out, double *timeout)
{
	__atomic_add_fetch(&nreq, 1, __ATOMIC_RELAXED);
	return base_ops->statx(fs, ctx, ino, fi, sx_flags, mask, out, timeout);
}

static int c_read(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		  struct fb_writer *w, uint32_t size, uint64_t off, int flags)
{
	__atomic_add_fetch(&nreq, 1, __ATOMIC_RELAXED);
	return base_ops->read(fs, ctx, ino, fh, w, size, off, flags);
}

static int c_write(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, uint64_t fh,
		   struct fb_reader *r, uint32_t size, uint64_t off, uint32_t write_flags,
		   int flags)
{
	__atomic_add_fetch(&nreq, 1, __ATOMIC_RELAXED);
	return base_ops->write(fs, ctx, ino, fh, r, size, off, write_flags, flags);
}

static void shim(const struct fb_fs_ops *ops)
{
	base_ops = ops;
	counted_ops = *ops;
	counted_ops.getattr = c_getattr;
	if (ops->statx)
		counted_ops.statx = c_statx;
	counted_ops.read = c_read;
	counted_ops.write = c_write;
}

/* ---- a configuration: file system + transport ---------------------------------------------- */

struct setup {
	int x, fs, nthreads;
	struct fb_memfs *memfs;
	struct fb_passthrough *pt;
	void *fsp;
	char src[256], mnt[256];
	/* virtio */
	struct vf *vf;
	uint64_t node[MAX_THREADS], fh[MAX_THREADS];
	/* /dev/fuse */
	struct fb_server *srv;
	struct fb_session *se;
	pthread_t loop;
	int fd[MAX_THREADS];
};

static void die(const char *what, int err)
{
	fprintf(stderr, "virtio_bench: %s: %s\n", what, strerror(err));
	exit(1);
}

static void fs_new(struct setup *s)
{
	int r;

	if (s->fs == 0) {
		struct fb_memfs_config mc = {
			.entry_timeout = 1e-9, .attr_timeout = 1e-9, .root_mode = 0777};

		if ((r = fb_memfs_new(&mc, &s->memfs)) < 0)
			die("memfs", -r);
		s->fsp = s->memfs;
		shim(&fb_memfs_ops);
	} else {
		struct fb_passthrough_config pc;

		snprintf(s->src, sizeof(s->src), "%s/virtio_bench.XXXXXX", opt_dir);
		if (!mkdtemp(s->src))
			die(s->src, errno);
		fb_passthrough_config_init(&pc);
		pc.source = s->src;
		pc.cache = FB_PT_CACHE_NEVER;
		pc.cred_switch = 0;
		if ((r = fb_passthrough_new(&pc, &s->pt)) < 0)
			die("passthrough", -r);
		s->fsp = s->pt;
		shim(&fb_passthrough_ops);
	}
}

static void fs_free(struct setup *s)
{
	char cmd[300];

	fb_memfs_free(s->memfs);
	fb_passthrough_free(s->pt);
	s->memfs = NULL;
	s->pt = NULL;
	if (s->src[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->src);
		if (system(cmd) != 0)
			fprintf(stderr, "virtio_bench: could not remove %s\n", s->src);
		s->src[0] = 0;
	}
}

static void *loop_thread(void *arg)
{
	struct setup *s = arg;

	fb_session_loop(s->se, (unsigned int)s->nthreads);
	return NULL;
}

static void setup_up(struct setup *s)
{
	static char *fill;
	int r;

	if (!fill) {
		fill = aligned_alloc(4096, FILE_BYTES);
		memset(fill, 'x', FILE_BYTES);
	}
	fs_new(s);
	if (s->x == X_VIRTIO) {
		struct vf_config cfg = VF_CONFIG_DEFAULT;
		struct fbreq q = {0};
		struct fbrep p;

		cfg.ops = &counted_ops;
		cfg.fs = s->fsp;
		cfg.request_queues = (unsigned int)s->nthreads;
		if ((r = vf_new(&cfg, &s->vf)) < 0)
			die("vhost-user front end", -r);
		fbrep_init(&p, VF_SLOT_IO);
		if ((r = vf_fuse_init(s->vf, &p)) != 0)
			die("INIT", -r);
		for (int t = 0; t < s->nthreads; t++) {
			struct fb_create_in ci = {.flags = O_RDWR | O_CREAT,
						  .mode = S_IFREG | 0644};
			struct fb_write_in wi = {.size = FILE_BYTES};
			char name[16];

			snprintf(name, sizeof(name), "t%d", t);
			fbreq_start(&q, FB_CREATE, ++s->vf->unique, FB_ROOT_ID);
			fbreq_put(&q, &ci, sizeof(ci));
			fbreq_str(&q, name);
			if (vf_fuse(s->vf, 1, &q, &p) < 16 || p.oh.error)
				die("CREATE", p.oh.error ? -p.oh.error : EIO);
			s->node[t] = FBREP_AS(&p, struct fb_entry_out).nodeid;
			memcpy(&s->fh[t], p.body + sizeof(struct fb_entry_out), 8);
			wi.fh = s->fh[t];
			fbreq_start(&q, FB_WRITE, ++s->vf->unique, s->node[t]);
			fbreq_put(&q, &wi, sizeof(wi));
			fbreq_put(&q, fill, FILE_BYTES);
			if (vf_fuse(s->vf, 1, &q, &p) < 16 || p.oh.error)
				die("WRITE", p.oh.error ? -p.oh.error : EIO);
		}
		fbreq_free(&q);
		fbrep_free(&p);
		return;
	}
	snprintf(s->mnt, sizeof(s->mnt), "/tmp/virtio_bench_mnt.XXXXXX");
	if (!mkdtemp(s->mnt))
		die(s->mnt, errno);
	if ((r = fb_server_new(&counted_ops, sizeof(counted_ops), s->fsp, NULL, &s->srv)) < 0)
		die("server", -r);
	if ((r = fb_session_new(s->srv, &s->se)) < 0)
		die("session", -r);
	if ((r = fb_session_mount(s->se, s->mnt, NULL)) < 0)
		die("mount (needs root)", -r);
	if ((r = pthread_create(&s->loop, NULL, loop_thread, s)) != 0)
		die("thread", r);
	for (int t = 0; t < s->nthreads; t++) {
		char path[300];

		snprintf(path, sizeof(path), "%s/t%d", s->mnt, t);
		s->fd[t] = open(path, O_RDWR | O_CREAT | O_DIRECT | O_CLOEXEC, 0644);
		if (s->fd[t] < 0)
			die(path, errno);
		if (pwrite(s->fd[t], fill, FILE_BYTES, 0) != FILE_BYTES)
			die("pwrite", errno);
	}
}

static void setup_down(struct setup *s)
{
	if (s->x == X_VIRTIO) {
		vf_free(s->vf);
		s->vf = NULL;
	} else {
		for (int t = 0; t < s->nthreads; t++)
			close(s->fd[t]);
		fb_session_exit(s->se);
		pthread_join(s->loop, NULL);
		fb_session_free(s->se);
		fb_server_free(s->srv);
		rmdir(s->mnt);
		s->se = NULL;
		s->srv = NULL;
	}
	fs_free(s);
}

/* ---- timed loops --------------------------------------------------------------------------- */

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct job {
	struct setup *s;
	int t;
	enum test test;
	double end; /* monotonic deadline */
	uint64_t ops;
	double cpu; /* this thread's CPU seconds in the loop */
	int err;
	pthread_barrier_t *go;
};

static void *job_virtio(void *arg)
{
	struct job *j = arg;
	struct vf *vf = j->s->vf;
	unsigned int qi = (unsigned int)j->t + 1;
	struct fbreq q = {0};
	uint32_t len = test_len[j->test];
	size_t outlen = 16;
	double c0;

	/* The request once in the slot; each round rewrites unique and offset only. */
	switch (j->test) {
	case T_GETATTR: {
		/* No FB_GETATTR_FH: the kernel sends none for stat() or statx() of a path or
		 * AT_EMPTY_PATH either, so both transports ask the same question. */
		struct fb_getattr_in gi = {0};

		fbreq_start(&q, FB_GETATTR, 1, j->s->node[j->t]);
		fbreq_put(&q, &gi, sizeof(gi));
		outlen = 16 + sizeof(struct fb_attr_out);
		break;
	}
	case T_READ4K:
	case T_READ1M: {
		struct fb_read_in ri = {.fh = j->s->fh[j->t], .size = len, .flags = O_RDWR};

		fbreq_start(&q, FB_READ, 1, j->s->node[j->t]);
		fbreq_put(&q, &ri, sizeof(ri));
		outlen = 16 + len;
		break;
	}
	default: {
		struct fb_write_in wi = {.fh = j->s->fh[j->t], .size = len, .flags = O_RDWR};

		fbreq_start(&q, FB_WRITE, 1, j->s->node[j->t]);
		fbreq_put(&q, &wi, sizeof(wi));
		fbreq_zero(&q, len);
		outlen = 16 + sizeof(struct fb_write_out);
		break;
	}
	}
	fbreq_finish(&q);
	vf_slot_io(vf, qi, 0, 0, 0, q.buf, q.len, 1);
	pthread_barrier_wait(j->go);
	c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	while (clock_s(CLOCK_MONOTONIC) < j->end) {
		for (int k = 0; k < 16; k++) {
			uint64_t u = j->ops + 2;
			uint64_t off = len == 4096 ? (j->ops % 256) * 4096 : 0;
			struct fb_out_header oh;
			int64_t n;

			vf_slot_io(vf, qi, 0, 0, offsetof(struct fb_in_header, unique), &u, 8, 1);
			if (j->test != T_GETATTR)
				vf_slot_io(vf, qi, 0, 0, sizeof(struct fb_in_header) + 8, &off, 8,
					   1);
			if ((j->err = vf_submit(vf, qi, 0, NULL, q.len, outlen)) < 0)
				goto out;
			n = vf_complete(vf, qi, 0, &oh, sizeof(oh));
			if (n < 16 || oh.error || oh.unique != u) {
				j->err = n < 0 ? (int)n : oh.error ? oh.error : -EIO;
				goto out;
			}
			j->ops++;
		}
	}
out:
	j->cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	fbreq_free(&q);
	return NULL;
}

static void *job_fusedev(void *arg)
{
	struct job *j = arg;
	int fd = j->s->fd[j->t];
	uint32_t len = test_len[j->test];
	char *b = aligned_alloc(4096, FILE_BYTES);
	double c0;

	memset(b, 'y', FILE_BYTES);
	pthread_barrier_wait(j->go);
	c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	while (clock_s(CLOCK_MONOTONIC) < j->end) {
		for (int k = 0; k < 16; k++) {
			off_t off = len == 4096 ? (off_t)(j->ops % 256) * 4096 : 0;
			struct statx st;
			ssize_t n = 0;

			switch (j->test) {
			case T_GETATTR:
				n = statx(fd, "", AT_EMPTY_PATH | AT_STATX_FORCE_SYNC,
					  STATX_BASIC_STATS, &st);
				break;
			case T_READ4K:
			case T_READ1M:
				n = pread(fd, b, len, off);
				break;
			default:
				n = pwrite(fd, b, len, off);
				break;
			}
			if (n < 0 || (j->test != T_GETATTR && (uint32_t)n != len)) {
				j->err = n < 0 ? -errno : -EIO;
				goto out;
			}
			j->ops++;
		}
	}
out:
	j->cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	free(b);
	return NULL;
}

struct cell {
	double rate;	  /* operations per second */
	double daemon_us; /* daemon CPU per operation */
	double caller_us; /* caller threads' CPU per operation */
	double req_per_op;
	double kicks_per_op, waits_per_op; /* virtio front end: eventfd writes, sleeps */
};

static struct cell run_cell(struct setup *s, enum test t)
{
	struct job j[MAX_THREADS];
	pthread_t th[MAX_THREADS];
	pthread_barrier_t go;
	double p0, m0, w0, w1, callers = 0;
	uint64_t ops = 0, r0, kicks0 = 0, waits0 = 0, kicks1 = 0, waits1 = 0;
	struct cell c;

	pthread_barrier_init(&go, NULL, (unsigned int)s->nthreads + 1);
	for (int i = 0; i < s->nthreads; i++) {
		j[i] = (struct job){.s = s, .t = i, .test = t, .go = &go};
		if (s->vf) {
			kicks0 += s->vf->q[i + 1].kicks;
			waits0 += s->vf->q[i + 1].waits;
		}
		pthread_create(&th[i], NULL, s->x == X_VIRTIO ? job_virtio : job_fusedev, &j[i]);
	}
	/* Deadline set before the barrier releases the callers. */
	w0 = clock_s(CLOCK_MONOTONIC);
	for (int i = 0; i < s->nthreads; i++)
		j[i].end = w0 + 0.02 + opt_secs;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	p0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	m0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	r0 = __atomic_load_n(&nreq, __ATOMIC_RELAXED);
	pthread_barrier_wait(&go);
	for (int i = 0; i < s->nthreads; i++)
		pthread_join(th[i], NULL);
	w1 = clock_s(CLOCK_MONOTONIC);
	double proc = clock_s(CLOCK_PROCESS_CPUTIME_ID) - p0;
	double mainc = clock_s(CLOCK_THREAD_CPUTIME_ID) - m0;
	uint64_t reqs = __atomic_load_n(&nreq, __ATOMIC_RELAXED) - r0;

	for (int i = 0; i < s->nthreads; i++) {
		if (j[i].err) {
			fprintf(stderr, "virtio_bench: %s %s %s thread %d: %s\n", xname[s->x],
				fsname[s->fs], test_name[t], i, strerror(-j[i].err));
			exit(1);
		}
		ops += j[i].ops;
		callers += j[i].cpu;
		if (s->vf) {
			kicks1 += s->vf->q[i + 1].kicks;
			waits1 += s->vf->q[i + 1].waits;
		}
	}
	pthread_barrier_destroy(&go);
	/* The loop starts after w0 + 0.02 at the earliest but counts from the barrier. */
	c.rate = (double)ops / (w1 - w0);
	c.daemon_us = (proc - callers - mainc) / (double)ops * 1e6;
	c.caller_us = callers / (double)ops * 1e6;
	c.req_per_op = (double)reqs / (double)ops;
	c.kicks_per_op = (double)(kicks1 - kicks0) / (double)ops;
	c.waits_per_op = (double)(waits1 - waits0) / (double)ops;
	return c;
}

/* ---- main ---------------------------------------------------------------------------------- */

#define NCONF (X_COUNT * 2 * 2)

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	double t[MAX_REPS];

	memcpy(t, v, sizeof(double) * (size_t)n);
	qsort(t, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static int wanted(int x, int fs, int nthreads)
{
	return (opt_only < 0 || x == opt_only) && (opt_fs < 0 || fs == opt_fs) &&
	       (!opt_threads || nthreads == opt_threads);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"secs", required_argument, NULL, 's'}, {"reps", required_argument, NULL, 'r'},
		{"dir", required_argument, NULL, 'd'},	{"only", required_argument, NULL, 'o'},
		{"test", required_argument, NULL, 't'}, {"threads", required_argument, NULL, 'n'},
		{"fs", required_argument, NULL, 'f'},	{0},
	};
	static struct cell res[NCONF][T_COUNT][MAX_REPS];
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			opt_secs = atof(optarg);
			break;
		case 'r':
			opt_reps = atoi(optarg);
			break;
		case 'd':
			opt_dir = optarg;
			break;
		case 'o':
			opt_only = !strcmp(optarg, "virtio") ? X_VIRTIO : X_FUSEDEV;
			break;
		case 't':
			opt_test = optarg;
			break;
		case 'n':
			opt_threads = atoi(optarg);
			break;
		case 'f':
			opt_fs = !strcmp(optarg, "memfs") ? 0 : 1;
			break;
		default:
			fprintf(stderr,
				"usage: virtio_bench [--secs S] [--reps N] [--dir TMPFS_DIR] "
				"[--only virtio|fusedev] [--test NAME] [--threads 1|4] "
				"[--fs memfs|passthrough]\n");
			return 2;
		}
	}
	if (opt_reps < 1 || opt_reps > MAX_REPS || opt_secs <= 0) {
		fprintf(stderr, "virtio_bench: --reps 1..%d, --secs > 0\n", MAX_REPS);
		return 2;
	}
	fb_log_set_debug(0);
	vf_log_errors = 1;

	/* Repetitions interleaved: every configuration once, then again. */
	for (int rep = 0; rep < opt_reps; rep++) {
		for (int k = 0; k < NCONF; k++) {
			struct setup s = {.x = k / 4, .fs = (k / 2) % 2, .nthreads = k % 2 ? 4 : 1};

			if (!wanted(s.x, s.fs, s.nthreads))
				continue;
			setup_up(&s);
			for (int t = 0; t < T_COUNT; t++) {
				if (opt_test && strcmp(opt_test, test_name[t]))
					continue;
				struct cell r = run_cell(&s, (enum test)t);

				res[k][t][rep] = r;
				printf("rep=%d transport=%s fs=%s threads=%d test=%s "
				       "ops_per_sec=%.0f "
				       "daemon_us_per_op=%.2f caller_us_per_op=%.2f "
				       "req_per_op=%.2f "
				       "kicks_per_op=%.2f waits_per_op=%.2f\n",
				       rep, xname[s.x], fsname[s.fs], s.nthreads, test_name[t],
				       r.rate, r.daemon_us, r.caller_us, r.req_per_op,
				       r.kicks_per_op, r.waits_per_op);
				fflush(stdout);
			}
			setup_down(&s);
		}
	}

	printf("\nMedians of %d repetitions, %.1f s each\n\n", opt_reps, opt_secs);
	printf("| test | fs | threads | transport | ops/s | MiB/s | daemon µs/op | caller µs/op | "
	       "requests/op | kicks/op | waits/op |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (int t = 0; t < T_COUNT; t++) {
		for (int f = 0; f < 2; f++) {
			for (int n = 0; n < 2; n++) {
				for (int x = 0; x < X_COUNT; x++) {
					int k = x * 4 + f * 2 + n;
					double rate[MAX_REPS], d[MAX_REPS], cl[MAX_REPS],
						rq[MAX_REPS];
					double ki[MAX_REPS], wa[MAX_REPS];
					char mib[32] = "-", kw[64] = "- | -";

					if (!wanted(x, f, n ? 4 : 1) ||
					    (opt_test && strcmp(opt_test, test_name[t])))
						continue;
					for (int i = 0; i < opt_reps; i++) {
						rate[i] = res[k][t][i].rate;
						d[i] = res[k][t][i].daemon_us;
						cl[i] = res[k][t][i].caller_us;
						rq[i] = res[k][t][i].req_per_op;
						ki[i] = res[k][t][i].kicks_per_op;
						wa[i] = res[k][t][i].waits_per_op;
					}
					double m = median(rate, opt_reps);

					if (test_len[t])
						snprintf(mib, sizeof(mib), "%.0f",
							 m * test_len[t] / 1048576.0);
					if (x == X_VIRTIO)
						snprintf(kw, sizeof(kw), "%.2f | %.2f",
							 median(ki, opt_reps),
							 median(wa, opt_reps));
					printf("| %s | %s | %d | %s | %.0f | %s | %.2f | %.2f | "
					       "%.2f | %s |\n",
					       test_name[t], fsname[f], n ? 4 : 1, xname[x], m, mib,
					       median(d, opt_reps), median(cl, opt_reps),
					       median(rq, opt_reps), kw);
				}
			}
		}
	}
	return 0;
}
