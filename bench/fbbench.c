/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fbbench: one small, dependency-free file-system benchmark.
 *
 *   fbbench TEST DIR [options]
 *
 * TEST is one of seqwrite seqread randread randwrite create stat readdir unlink clean.
 * Each test prints one line:
 *
 *   test=NAME dir=DIR ops=N secs=S ops_per_sec=X mib_per_sec=Y dropped=0|1 cpu_us_per_op=C
 *   daemon_cpu_us_per_op=D
 *
 * Files it uses, all inside DIR: fbbench.dat (sequential and random tests) and the directory
 * fbbench.d/ with files f0000000... (metadata tests). A test that needs a file or files that
 * are not there creates them first, outside the timed part. `clean` removes both.
 *
 * "dropped=1" means the page, dentry and inode caches were dropped (sync, then
 * "3" > /proc/sys/vm/drop_caches) right before the timed part; see bench/README.md for which
 * test does that by default and why.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SEQ_BLOCK	(1024 * 1024)
#define RAND_BLOCK	4096
#define DATA_NAME	"fbbench.dat"
#define META_NAME	"fbbench.d"
#define MAX_FILES	10000000

struct opts {
	const char *test;
	const char *dir;
	uint64_t size;		/* bytes of fbbench.dat */
	uint64_t count;		/* random I/O operations (0: use duration) */
	double duration;	/* seconds of random I/O, when > 0 */
	unsigned long files;	/* files of the metadata tests */
	int drop;		/* -1: the test's default, 0: never, 1: always */
	uint64_t seed;
	pid_t pid;		/* daemon whose CPU time is counted too, 0: none */
};

static struct opts o = {
	.size = 1024ULL * SEQ_BLOCK,
	.count = 20000,
	.files = 10000,
	.drop = -1,
	.seed = 1,
};

static char *buf;

static void die(const char *what)
{
	fprintf(stderr, "fbbench: %s: %s: %s\n", o.test, what, strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * CPU time of the timed part: this process (user + system, so the kernel's FUSE client work
 * is in it) and, with --pid, the daemon's whole process. Unlike wall time it hardly changes
 * when other work shares the machine.
 */
static clockid_t daemon_clock;
static double cpu_self, cpu_daemon;

static double clock_secs(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) < 0)
		return 0;
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double timer_start(void)
{
	cpu_self = clock_secs(CLOCK_PROCESS_CPUTIME_ID);
	cpu_daemon = o.pid ? clock_secs(daemon_clock) : 0;
	return now();
}

static double timer_stop(void)
{
	double t = now();

	cpu_self = clock_secs(CLOCK_PROCESS_CPUTIME_ID) - cpu_self;
	cpu_daemon = o.pid ? clock_secs(daemon_clock) - cpu_daemon : 0;
	return t;
}

/* Returns 1 when the caches were dropped, 0 when not (not root): the result line says which. */
static int drop_caches(void)
{
	int fd;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "fbbench: cannot drop caches (%s); figures may be warm\n",
			strerror(errno));
		return 0;
	}
	if (write(fd, "3", 1) != 1) {
		fprintf(stderr, "fbbench: drop_caches: %s\n", strerror(errno));
		close(fd);
		return 0;
	}
	close(fd);
	return 1;
}

static int maybe_drop(bool by_default)
{
	if (o.drop == 1 || (o.drop == -1 && by_default))
		return drop_caches();
	return 0;
}

static void report(uint64_t ops, uint64_t bytes, double secs, int dropped)
{
	if (secs <= 0)
		secs = 1e-9;
	printf("test=%s dir=%s ops=%" PRIu64 " secs=%.6f ops_per_sec=%.1f mib_per_sec=%.2f "
	       "dropped=%d cpu_us_per_op=%.2f daemon_cpu_us_per_op=%.2f\n", o.test, o.dir, ops,
	       secs, ops / secs, bytes / secs / (1024.0 * 1024.0), dropped,
	       ops ? (cpu_self + cpu_daemon) * 1e6 / ops : 0, ops ? cpu_daemon * 1e6 / ops : 0);
	fflush(stdout);
}

/* xorshift64*: a fixed, seeded sequence so that every configuration reads the same offsets. */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static void write_full(int fd, const char *p, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		if (n == 0) {
			errno = EIO;
			die("write returned 0");
		}
		p += n;
		len -= n;
		off += n;
	}
}

static size_t read_full(int fd, char *p, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, p + done, len - done, off + done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

static int dir_open(void)
{
	int fd = open(o.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		die(o.dir);
	return fd;
}

/* Writes fbbench.dat in 1 MiB blocks and fsyncs it; the caller decides what is timed. */
static void data_write(int dfd, uint64_t *ret_ops)
{
	uint64_t off, ops = 0;
	int fd;

	fd = openat(dfd, DATA_NAME, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("create " DATA_NAME);
	for (off = 0; off < o.size; off += SEQ_BLOCK, ops++) {
		size_t len = o.size - off < SEQ_BLOCK ? o.size - off : SEQ_BLOCK;

		/* A different first word per block keeps the data from being all alike. */
		memcpy(buf, &off, sizeof(off));
		write_full(fd, buf, len, off);
	}
	if (fsync(fd) < 0)
		die("fsync");
	if (close(fd) < 0)
		die("close");
	if (ret_ops)
		*ret_ops = ops;
}

/* Makes sure fbbench.dat exists with at least o.size bytes (untimed). */
static void data_ensure(int dfd)
{
	struct stat st;

	if (fstatat(dfd, DATA_NAME, &st, 0) == 0 && (uint64_t)st.st_size >= o.size)
		return;
	data_write(dfd, NULL);
}

static int test_seqwrite(int dfd)
{
	int dropped = maybe_drop(false);
	uint64_t ops;
	double t0, t1;

	t0 = timer_start();
	data_write(dfd, &ops);
	t1 = timer_stop();
	report(ops, o.size, t1 - t0, dropped);
	return 0;
}

static int test_seqread(int dfd)
{
	uint64_t off, ops = 0, bytes = 0;
	double t0, t1;
	int fd, dropped;

	data_ensure(dfd);
	dropped = maybe_drop(true);
	t0 = timer_start();
	fd = openat(dfd, DATA_NAME, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open " DATA_NAME);
	for (off = 0; off < o.size; off += SEQ_BLOCK, ops++) {
		size_t len = o.size - off < SEQ_BLOCK ? o.size - off : SEQ_BLOCK;
		size_t n = read_full(fd, buf, len, off);

		bytes += n;
		if (n < len) {
			errno = EIO;
			die("short read");
		}
	}
	close(fd);
	t1 = timer_stop();
	report(ops, bytes, t1 - t0, dropped);
	return 0;
}

static int test_random(int dfd, bool writing)
{
	uint64_t blocks, ops = 0;
	double t0, t1, end;
	int fd, dropped;

	data_ensure(dfd);
	blocks = o.size / RAND_BLOCK;
	if (blocks == 0) {
		errno = EINVAL;
		die("--size is below 4 KiB");
	}
	fd = openat(dfd, DATA_NAME, (writing ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		die("open " DATA_NAME);
	/* Random access: no readahead, so each read is one 4 KiB request below the page cache. */
	posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	dropped = maybe_drop(!writing);
	rng_state = o.seed ? o.seed : 1;
	t0 = timer_start();
	end = o.duration > 0 ? t0 + o.duration : 0;
	for (;;) {
		off_t off = (off_t)(rng_next() % blocks) * RAND_BLOCK;

		if (writing) {
			memcpy(buf, &ops, sizeof(ops));
			write_full(fd, buf, RAND_BLOCK, off);
		} else if (read_full(fd, buf, RAND_BLOCK, off) != RAND_BLOCK) {
			errno = EIO;
			die("short read");
		}
		ops++;
		if (end > 0) {
			if ((ops & 63) == 0 && now() >= end)
				break;
		} else if (ops >= o.count) {
			break;
		}
	}
	/* Writes count when they are on the file, not when they are in the page cache. */
	if (writing && fsync(fd) < 0)
		die("fsync");
	t1 = timer_stop();
	close(fd);
	report(ops, ops * RAND_BLOCK, t1 - t0, dropped);
	return 0;
}

static void file_name(char *name, size_t size, unsigned long i)
{
	snprintf(name, size, "f%07lu", i);
}

/*
 * Opens fbbench.d, creating it and its o.files files first when they are not there (the
 * first and the last name are checked: the tests create and remove the set as a whole).
 */
static int meta_open(int dfd, bool fill)
{
	struct stat st;
	char name[32];
	unsigned long i;
	int mfd, fd;

	if (mkdirat(dfd, META_NAME, 0755) < 0 && errno != EEXIST)
		die("mkdir " META_NAME);
	mfd = openat(dfd, META_NAME, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		die("open " META_NAME);
	if (fill) {
		file_name(name, sizeof(name), 0);
		if (fstatat(mfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			file_name(name, sizeof(name), o.files - 1);
			if (fstatat(mfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
				fill = false;
		}
	}
	for (i = 0; fill && i < o.files; i++) {
		file_name(name, sizeof(name), i);
		fd = openat(mfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			die("create");
		close(fd);
	}
	return mfd;
}

static void meta_remove(int dfd)
{
	struct dirent *de;
	DIR *d;
	int mfd;

	mfd = openat(dfd, META_NAME, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0) {
		if (errno == ENOENT)
			return;
		die("open " META_NAME);
	}
	d = fdopendir(mfd);
	if (!d)
		die("fdopendir");
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    unlinkat(mfd, de->d_name, 0) < 0 && errno != ENOENT)
			die("unlink");
	}
	closedir(d);
	if (unlinkat(dfd, META_NAME, AT_REMOVEDIR) < 0)
		die("rmdir " META_NAME);
}

static int test_create(int dfd)
{
	char name[32];
	unsigned long i;
	double t0, t1;
	int mfd, fd, dropped;

	meta_remove(dfd);
	mfd = meta_open(dfd, false);
	dropped = maybe_drop(false);
	t0 = timer_start();
	for (i = 0; i < o.files; i++) {
		file_name(name, sizeof(name), i);
		fd = openat(mfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			die("create");
		if (close(fd) < 0)
			die("close");
	}
	t1 = timer_stop();
	close(mfd);
	report(o.files, 0, t1 - t0, dropped);
	return 0;
}

static int test_stat(int dfd)
{
	struct stat st;
	char name[32];
	unsigned long i;
	double t0, t1;
	int mfd, dropped;

	mfd = meta_open(dfd, true);
	dropped = maybe_drop(true);
	t0 = timer_start();
	for (i = 0; i < o.files; i++) {
		file_name(name, sizeof(name), i);
		if (fstatat(mfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			die("stat");
	}
	t1 = timer_stop();
	close(mfd);
	report(o.files, 0, t1 - t0, dropped);
	return 0;
}

/* One listing of fbbench.d with getdents64 and a 64 KiB buffer (no libc buffering in between). */
static int test_readdir(int dfd)
{
	static char dbuf[65536];
	uint64_t entries = 0;
	double t0, t1;
	int mfd, dropped;
	long n;

	mfd = meta_open(dfd, true);
	close(mfd);
	dropped = maybe_drop(true);
	t0 = timer_start();
	mfd = openat(dfd, META_NAME, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		die("open " META_NAME);
	while ((n = syscall(SYS_getdents64, mfd, dbuf, sizeof(dbuf))) > 0) {
		long pos = 0;

		while (pos < n) {
			unsigned short reclen;
			const char *dname = dbuf + pos + 19;	/* d_ino, d_off, d_reclen, d_type */

			memcpy(&reclen, dbuf + pos + 16, sizeof(reclen));
			if (reclen == 0 || pos + reclen > n) {
				errno = EIO;
				die("bad getdents64 record");
			}
			if (strcmp(dname, ".") && strcmp(dname, ".."))
				entries++;
			pos += reclen;
		}
	}
	if (n < 0)
		die("getdents64");
	close(mfd);
	t1 = timer_stop();
	if (entries < o.files)
		fprintf(stderr, "fbbench: readdir: %" PRIu64 " entries, expected %lu\n",
			entries, o.files);
	report(entries, 0, t1 - t0, dropped);
	return 0;
}

/*
 * Unlink with the names in the dentry cache, as right after creating or listing them (rm -r):
 * one untimed stat of each file first. With --drop the names are cold instead, and each
 * unlink through FUSE starts with a LOOKUP.
 */
static int test_unlink(int dfd)
{
	struct stat st;
	char name[32];
	unsigned long i;
	double t0, t1;
	int mfd, dropped;

	mfd = meta_open(dfd, true);
	dropped = maybe_drop(false);
	for (i = 0; !dropped && i < o.files; i++) {
		file_name(name, sizeof(name), i);
		if (fstatat(mfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			die("stat");
	}
	t0 = timer_start();
	for (i = 0; i < o.files; i++) {
		file_name(name, sizeof(name), i);
		if (unlinkat(mfd, name, 0) < 0)
			die("unlink");
	}
	t1 = timer_stop();
	close(mfd);
	meta_remove(dfd);
	report(o.files, 0, t1 - t0, dropped);
	return 0;
}

static int test_clean(int dfd)
{
	if (unlinkat(dfd, DATA_NAME, 0) < 0 && errno != ENOENT)
		die("unlink " DATA_NAME);
	meta_remove(dfd);
	return 0;
}

static const struct {
	const char *name;
	int (*run)(int dfd);
	int (*run_rw)(int dfd, bool writing);
	bool writing;
} tests[] = {
	{ "seqwrite", test_seqwrite, NULL, false },
	{ "seqread", test_seqread, NULL, false },
	{ "randread", NULL, test_random, false },
	{ "randwrite", NULL, test_random, true },
	{ "create", test_create, NULL, false },
	{ "stat", test_stat, NULL, false },
	{ "readdir", test_readdir, NULL, false },
	{ "unlink", test_unlink, NULL, false },
	{ "clean", test_clean, NULL, false },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fbbench TEST DIR [options]\n"
		"tests: seqwrite seqread (1 MiB blocks), randread randwrite (4 KiB, aligned),\n"
		"       create stat readdir unlink (many empty files), clean (remove our files)\n"
		"  --size MIB       size of " DATA_NAME " (default 1024)\n"
		"  --count N        random I/O operations (default 20000)\n"
		"  --duration SECS  random I/O for this long instead of --count\n"
		"  --files N        files of the metadata tests (default 10000)\n"
		"  --drop           drop caches before every timed part\n"
		"  --no-drop        never drop caches\n"
		"  --seed N         seed of the random offsets (default 1)\n"
		"  --pid PID        add this daemon's CPU time to cpu_us_per_op\n");
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		return false;
	*ret = v;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 't' },
		{ "files", required_argument, NULL, 'n' },
		{ "drop", no_argument, NULL, 'D' },
		{ "no-drop", no_argument, NULL, 'N' },
		{ "seed", required_argument, NULL, 'r' },
		{ "pid", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	size_t i;
	char *end;
	int c, dfd, r;

	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!parse_u64(optarg, 1ULL << 30, &v) || v == 0)
				goto bad;
			o.size = v * SEQ_BLOCK;
			break;
		case 'c':
			if (!parse_u64(optarg, UINT64_MAX, &v) || v == 0)
				goto bad;
			o.count = v;
			break;
		case 't':
			errno = 0;
			o.duration = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o.duration > 0) ||
			    o.duration > 86400)
				goto bad;
			break;
		case 'n':
			if (!parse_u64(optarg, MAX_FILES, &v) || v == 0)
				goto bad;
			o.files = v;
			break;
		case 'D':
			o.drop = 1;
			break;
		case 'N':
			o.drop = 0;
			break;
		case 'r':
			if (!parse_u64(optarg, UINT64_MAX, &v))
				goto bad;
			o.seed = v;
			break;
		case 'p':
			if (!parse_u64(optarg, INT_MAX, &v) || v == 0)
				goto bad;
			o.pid = (pid_t)v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	o.test = argv[optind];
	o.dir = argv[optind + 1];
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (!strcmp(tests[i].name, o.test))
			break;
	if (i == sizeof(tests) / sizeof(tests[0])) {
		fprintf(stderr, "fbbench: unknown test '%s'\n", o.test);
		usage(stderr);
		return 2;
	}
	if (o.pid && clock_getcpuclockid(o.pid, &daemon_clock)) {
		fprintf(stderr, "fbbench: --pid %d: no CPU clock for it\n", (int)o.pid);
		return 2;
	}
	if (posix_memalign((void **)&buf, 4096, SEQ_BLOCK))
		return 1;
	memset(buf, 0xa5, SEQ_BLOCK);
	dfd = dir_open();
	r = tests[i].run ? tests[i].run(dfd) : tests[i].run_rw(dfd, tests[i].writing);
	close(dfd);
	free(buf);
	return r ? 1 : 0;

bad:
	fprintf(stderr, "fbbench: bad value '%s' for --%s\n", optarg,
		lopts[c == 's' ? 0 : c == 'c' ? 1 : c == 't' ? 2 : c == 'n' ? 3 : c == 'r' ? 6 : 7].name);
	return 2;
}
