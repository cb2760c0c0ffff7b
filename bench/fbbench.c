/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fbbench: one small, dependency-free file-system benchmark.
 *
 *   fbbench TEST DIR [options]
 *
 * TEST is one of seqwrite seqread randread randwrite create stat readdir unlink untar rmtree
 * clean. Each test prints one line:
 *
 *   test=NAME dir=DIR ops=N secs=S ops_per_sec=X mib_per_sec=Y dropped=0|1 cpu_us_per_op=C
 *   daemon_cpu_us_per_op=D caller_cpu_us_per_op=E clients=K [log_from=A log_to=B]
 *
 * Files it uses, all inside DIR: fbbench.dat (sequential and random tests), the directory
 * fbbench.d/ with files f0000000... (metadata tests; with --clients K > 1 one subdirectory
 * c0..cK-1 per client, the files split among them) and fbbench.t/c0.. (untar, rmtree: one
 * copy of the --tar archive per client). A test that needs files that are not there creates
 * them first, outside the timed part. `clean` removes all three.
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
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SEQ_BLOCK	(1024 * 1024)
#define RAND_BLOCK	4096
#define DATA_NAME	"fbbench.dat"
#define META_NAME	"fbbench.d"
#define TREE_NAME	"fbbench.t"
#define MAX_CLIENTS	64
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
	int clients;		/* concurrent clients of the metadata and tree tests */
	const char *tar;	/* archive of untar and rmtree */
	const char *log;	/* the daemon's log: its size at start and stop is printed */
	const char *strace;	/* strace -c -f of the daemon (--pid) into this file */
};

static struct opts o = {
	.size = 1024ULL * SEQ_BLOCK,
	.count = 20000,
	.files = 10000,
	.drop = -1,
	.seed = 1,
	.clients = 1,
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

/*
 * Counting runs (bench/README.md): --log takes the size of the daemon's debug log at start and
 * stop, so that the requests of the timed part can be cut out of it; --strace runs
 * "strace -c -f -p PID" over the timed part only. Both wait a moment before the mark so that
 * requests still on their way (FORGET after a cache drop) fall on the right side.
 */
static int64_t log_from = -1, log_to = -1;
static pid_t strace_pid;

static int64_t log_size(void)
{
	struct stat st;

	usleep(200000);
	if (stat(o.log, &st) < 0)
		die(o.log);
	return st.st_size;
}

/* True when every thread of PID is traced. */
static bool all_traced(pid_t pid)
{
	char path[320], line[256];
	struct dirent *de;
	bool all = true;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return false;
	while (all && (de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)pid, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "TracerPid:", 10))
				all = strtol(line + 10, NULL, 10) != 0;
		fclose(f);
	}
	closedir(d);
	return all;
}

static void strace_start(void)
{
	char pid[16];
	int i;

	snprintf(pid, sizeof(pid), "%d", (int)o.pid);
	strace_pid = fork();
	if (strace_pid < 0)
		die("fork");
	if (strace_pid == 0) {
		execlp("strace", "strace", "-qq", "-c", "-f", "-o", o.strace, "-p", pid,
		       (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100 && !all_traced(o.pid); i++)
		usleep(50000);
	if (i == 100) {
		errno = ETIMEDOUT;
		die("strace did not attach");
	}
	usleep(200000);
}

static void strace_stop(void)
{
	int status;

	usleep(200000);
	kill(strace_pid, SIGINT);
	if (waitpid(strace_pid, &status, 0) < 0)
		die("waitpid strace");
}

static double timer_start(void)
{
	if (o.log)
		log_from = log_size();
	if (o.strace)
		strace_start();
	cpu_self = clock_secs(CLOCK_PROCESS_CPUTIME_ID);
	cpu_daemon = o.pid ? clock_secs(daemon_clock) : 0;
	return now();
}

static double timer_stop(void)
{
	double t = now();

	cpu_self = clock_secs(CLOCK_PROCESS_CPUTIME_ID) - cpu_self;
	cpu_daemon = o.pid ? clock_secs(daemon_clock) - cpu_daemon : 0;
	if (o.strace)
		strace_stop();
	if (o.log)
		log_to = log_size();
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
	       "dropped=%d cpu_us_per_op=%.2f daemon_cpu_us_per_op=%.2f caller_cpu_us_per_op=%.2f "
	       "clients=%d", o.test, o.dir, ops, secs, ops / secs,
	       bytes / secs / (1024.0 * 1024.0), dropped,
	       ops ? (cpu_self + cpu_daemon) * 1e6 / ops : 0, ops ? cpu_daemon * 1e6 / ops : 0,
	       ops ? cpu_self * 1e6 / ops : 0, o.clients);
	if (o.log)
		printf(" log_from=%" PRId64 " log_to=%" PRId64, log_from, log_to);
	printf("\n");
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

/* Removes NAME under DFD and everything below it (no error when it is not there). */
static void remove_tree(int dfd, const char *name)
{
	struct dirent *de;
	DIR *d;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return;
		if (errno == ENOTDIR || errno == ELOOP) {
			if (unlinkat(dfd, name, 0) < 0)
				die("unlink");
			return;
		}
		die(name);
	}
	d = fdopendir(fd);
	if (!d)
		die("fdopendir");
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN)
			remove_tree(fd, de->d_name);
		else if (unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT)
			die("unlink");
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		die("rmdir");
}

/* Files of client K: --files split among the clients, the first ones taking the remainder. */
static unsigned long client_files(int k)
{
	return o.files / o.clients + ((unsigned long)k < o.files % o.clients);
}

/*
 * Opens the directory of client K (fbbench.d itself with one client, fbbench.d/cK with more),
 * creating it, and its files first when FILL and they are not there (the first and the last
 * name are checked: the tests create and remove the set as a whole).
 */
static int meta_open(int dfd, int k, bool fill)
{
	unsigned long i, n = client_files(k);
	struct stat st;
	char name[32];
	int mfd, fd;

	if (mkdirat(dfd, META_NAME, 0755) < 0 && errno != EEXIST)
		die("mkdir " META_NAME);
	mfd = openat(dfd, META_NAME, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		die("open " META_NAME);
	if (o.clients > 1) {
		snprintf(name, sizeof(name), "c%d", k);
		if (mkdirat(mfd, name, 0755) < 0 && errno != EEXIST)
			die("mkdir client directory");
		fd = openat(mfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			die("open client directory");
		close(mfd);
		mfd = fd;
	}
	if (fill && n > 0) {
		file_name(name, sizeof(name), 0);
		if (fstatat(mfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			file_name(name, sizeof(name), n - 1);
			if (fstatat(mfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
				fill = false;
		}
	}
	for (i = 0; fill && i < n; i++) {
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
	remove_tree(dfd, META_NAME);
}

/*
 * Concurrent clients: one thread each, started together; the timed part is from the start
 * signal until the last one is done. One client is one thread too, so both cost the same.
 */
struct client {
	pthread_t thread;
	int k;
	int fd;			/* the client's directory */
	uint64_t ops;		/* what it did (readdir: entries seen) */
};

static pthread_barrier_t start_line;
static struct client clients[MAX_CLIENTS];

static void *client_main(void *arg)
{
	struct client *c = arg;
	unsigned long i, n = client_files(c->k);
	static char dbufs[MAX_CLIENTS][65536];
	struct stat st;
	char name[32];
	long r;
	int fd;

	pthread_barrier_wait(&start_line);
	if (!strcmp(o.test, "create")) {
		for (i = 0; i < n; i++, c->ops++) {
			file_name(name, sizeof(name), i);
			fd = openat(c->fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if (fd < 0)
				die("create");
			if (close(fd) < 0)
				die("close");
		}
	} else if (!strcmp(o.test, "stat")) {
		for (i = 0; i < n; i++, c->ops++) {
			file_name(name, sizeof(name), i);
			if (fstatat(c->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				die("stat");
		}
	} else if (!strcmp(o.test, "unlink")) {
		for (i = 0; i < n; i++, c->ops++) {
			file_name(name, sizeof(name), i);
			if (unlinkat(c->fd, name, 0) < 0)
				die("unlink");
		}
	} else {
		/* readdir: one listing with getdents64 and a 64 KiB buffer, no libc buffering */
		char *dbuf = dbufs[c->k];

		fd = openat(c->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			die("open directory");
		while ((r = syscall(SYS_getdents64, fd, dbuf, sizeof(dbufs[0]))) > 0) {
			long pos = 0;

			while (pos < r) {
				unsigned short reclen;
				const char *dname = dbuf + pos + 19; /* d_ino, d_off, d_reclen, d_type */

				memcpy(&reclen, dbuf + pos + 16, sizeof(reclen));
				if (reclen == 0 || pos + reclen > r) {
					errno = EIO;
					die("bad getdents64 record");
				}
				if (strcmp(dname, ".") && strcmp(dname, ".."))
					c->ops++;
				pos += reclen;
			}
		}
		if (r < 0)
			die("getdents64");
		close(fd);
	}
	return NULL;
}

/* Runs o.test in every client's directory, timed; returns the operations of all clients. */
static uint64_t run_clients(double *ret_secs)
{
	uint64_t ops = 0;
	double t0, t1;
	int k;

	if (pthread_barrier_init(&start_line, NULL, o.clients + 1))
		die("pthread_barrier_init");
	for (k = 0; k < o.clients; k++) {
		errno = pthread_create(&clients[k].thread, NULL, client_main, &clients[k]);
		if (errno)
			die("pthread_create");
	}
	t0 = timer_start();
	pthread_barrier_wait(&start_line);
	for (k = 0; k < o.clients; k++) {
		pthread_join(clients[k].thread, NULL);
		ops += clients[k].ops;
	}
	t1 = timer_stop();
	pthread_barrier_destroy(&start_line);
	*ret_secs = t1 - t0;
	return ops;
}

static void clients_open(int dfd, bool fill)
{
	for (int k = 0; k < o.clients; k++) {
		clients[k].k = k;
		clients[k].ops = 0;
		clients[k].fd = meta_open(dfd, k, fill);
	}
}

static void clients_close(void)
{
	for (int k = 0; k < o.clients; k++)
		close(clients[k].fd);
}

static int test_create(int dfd)
{
	uint64_t ops;
	double secs;
	int dropped;

	meta_remove(dfd);
	clients_open(dfd, false);
	dropped = maybe_drop(false);
	ops = run_clients(&secs);
	clients_close();
	report(ops, 0, secs, dropped);
	return 0;
}

static int test_stat(int dfd)
{
	uint64_t ops;
	double secs;
	int dropped;

	clients_open(dfd, true);
	dropped = maybe_drop(true);
	ops = run_clients(&secs);
	clients_close();
	report(ops, 0, secs, dropped);
	return 0;
}

/* One listing of each client's directory; ops = entries. */
static int test_readdir(int dfd)
{
	uint64_t ops;
	double secs;
	int dropped;

	clients_open(dfd, true);
	dropped = maybe_drop(true);
	ops = run_clients(&secs);
	clients_close();
	if (ops < o.files)
		fprintf(stderr, "fbbench: readdir: %" PRIu64 " entries, expected %lu\n", ops,
			o.files);
	report(ops, 0, secs, dropped);
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
	uint64_t ops;
	double secs;
	int k, dropped;

	clients_open(dfd, true);
	dropped = maybe_drop(false);
	for (k = 0; !dropped && k < o.clients; k++) {
		for (i = 0; i < client_files(k); i++) {
			file_name(name, sizeof(name), i);
			if (fstatat(clients[k].fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				die("stat");
		}
	}
	ops = run_clients(&secs);
	clients_close();
	meta_remove(dfd);
	report(ops, 0, secs, dropped);
	return 0;
}

/* Entries (files, directories, links) of a tar archive: its headers, extension ones aside. */
static uint64_t tar_entries(const char *path)
{
	unsigned char h[512];
	uint64_t n = 0;
	FILE *f = fopen(path, "rb");

	if (!f)
		die(path);
	while (fread(h, 1, sizeof(h), f) == sizeof(h)) {
		char sz[13];
		uint64_t size;
		int zero = 1;

		for (size_t i = 0; i < sizeof(h) && zero; i++)
			zero = h[i] == 0;
		if (zero)
			break;
		memcpy(sz, h + 124, 12);
		sz[12] = 0;
		size = strtoull(sz, NULL, 8);
		if (!strchr("LKxg", h[156]) || h[156] == 0)
			n++;
		if (fseeko(f, (off_t)((size + 511) / 512 * 512), SEEK_CUR) < 0)
			die("seek in the archive");
	}
	fclose(f);
	return n;
}

/* Entries below the directory NAME of DFD, NAME excluded. */
static uint64_t count_tree(int dfd, const char *name)
{
	struct dirent *de;
	uint64_t n = 0;
	DIR *d;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		die(name);
	d = fdopendir(fd);
	if (!d)
		die("fdopendir");
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n++;
		if (de->d_type == DT_DIR)
			n += count_tree(fd, de->d_name);
	}
	closedir(d);
	return n;
}

static double children_cpu(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_CHILDREN, &ru) < 0)
		return 0;
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/*
 * Runs one command per client, all at once, each in fbbench.t/cK ("%s" in ARGV is replaced by
 * that path); dies when one fails. The caller times it; the children's CPU time is added to
 * this process's in the result line.
 */
static void run_commands(char *const argv_tmpl[], int nargs)
{
	pid_t pids[MAX_CLIENTS];
	int k, status;

	for (k = 0; k < o.clients; k++) {
		char path[PATH_MAX], *argv[16];

		snprintf(path, sizeof(path), "%s/" TREE_NAME "/c%d", o.dir, k);
		for (int i = 0; i < nargs && i < 15; i++)
			argv[i] = strcmp(argv_tmpl[i], "%s") ? argv_tmpl[i] : path;
		argv[nargs < 15 ? nargs : 15] = NULL;
		pids[k] = fork();
		if (pids[k] < 0)
			die("fork");
		if (pids[k] == 0) {
			execvp(argv[0], argv);
			_exit(127);
		}
	}
	for (k = 0; k < o.clients; k++) {
		if (waitpid(pids[k], &status, 0) < 0)
			die("waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			errno = EIO;
			die(argv_tmpl[0]);
		}
	}
}

/* Unpacks --tar once per client into fbbench.t/cK (which is made empty first). */
static uint64_t tree_unpack(int dfd, bool timed, double *ret_secs, int *ret_dropped)
{
	char *argv[] = { "tar", "-xf", (char *)o.tar, "-C", "%s", NULL };
	double t0 = 0, t1 = 0, cpu0 = 0;
	char name[32];
	int tfd;

	if (!o.tar) {
		errno = EINVAL;
		die("--tar ARCHIVE is needed");
	}
	remove_tree(dfd, TREE_NAME);
	if (mkdirat(dfd, TREE_NAME, 0755) < 0)
		die("mkdir " TREE_NAME);
	tfd = openat(dfd, TREE_NAME, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0)
		die("open " TREE_NAME);
	for (int k = 0; k < o.clients; k++) {
		snprintf(name, sizeof(name), "c%d", k);
		if (mkdirat(tfd, name, 0755) < 0)
			die("mkdir " TREE_NAME "/cK");
	}
	close(tfd);
	if (timed) {
		*ret_dropped = maybe_drop(false);
		cpu0 = children_cpu();
		t0 = timer_start();
	}
	run_commands(argv, 5);
	if (timed) {
		t1 = timer_stop();
		cpu_self += children_cpu() - cpu0;
		*ret_secs = t1 - t0;
	}
	return tar_entries(o.tar) * o.clients;
}

static int test_untar(int dfd)
{
	uint64_t ops;
	double secs;
	int dropped;

	ops = tree_unpack(dfd, true, &secs, &dropped);
	report(ops, 0, secs, dropped);
	return 0;
}

/* rm -r of each client's copy, right after it was unpacked (names cached, as after tar). */
static int test_rmtree(int dfd)
{
	char *argv[] = { "rm", "-r", "--", "%s", NULL };
	char name[32];
	uint64_t ops = 0;
	double t0, t1, cpu0;
	struct stat st;
	int k, tfd, dropped;

	/* Unpacked for as many clients as now: cK-1 is there, cK is not. */
	snprintf(name, sizeof(name), TREE_NAME "/c%d", o.clients - 1);
	if (fstatat(dfd, name, &st, 0) < 0) {
		tree_unpack(dfd, false, NULL, NULL);
	} else {
		snprintf(name, sizeof(name), TREE_NAME "/c%d", o.clients);
		if (fstatat(dfd, name, &st, 0) == 0)
			tree_unpack(dfd, false, NULL, NULL);
	}
	tfd = openat(dfd, TREE_NAME, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0)
		die("open " TREE_NAME);
	for (k = 0; k < o.clients; k++) {
		snprintf(name, sizeof(name), "c%d", k);
		ops += count_tree(tfd, name);
	}
	dropped = maybe_drop(false);
	cpu0 = children_cpu();
	t0 = timer_start();
	run_commands(argv, 4);
	t1 = timer_stop();
	cpu_self += children_cpu() - cpu0;
	close(tfd);
	remove_tree(dfd, TREE_NAME);
	report(ops, 0, t1 - t0, dropped);
	return 0;
}

static int test_clean(int dfd)
{
	if (unlinkat(dfd, DATA_NAME, 0) < 0 && errno != ENOENT)
		die("unlink " DATA_NAME);
	meta_remove(dfd);
	remove_tree(dfd, TREE_NAME);
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
	{ "untar", test_untar, NULL, false },
	{ "rmtree", test_rmtree, NULL, false },
	{ "clean", test_clean, NULL, false },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fbbench TEST DIR [options]\n"
		"tests: seqwrite seqread (1 MiB blocks), randread randwrite (4 KiB, aligned),\n"
		"       create stat readdir unlink (many empty files), untar rmtree (tar -x and\n"
		"       rm -r of --tar ARCHIVE), clean (remove our files)\n"
		"  --size MIB       size of " DATA_NAME " (default 1024)\n"
		"  --count N        random I/O operations (default 20000)\n"
		"  --duration SECS  random I/O for this long instead of --count\n"
		"  --files N        files of the metadata tests (default 10000)\n"
		"  --drop           drop caches before every timed part\n"
		"  --no-drop        never drop caches\n"
		"  --seed N         seed of the random offsets (default 1)\n"
		"  --pid PID        add this daemon's CPU time to cpu_us_per_op\n"
		"  --clients N      concurrent clients of the metadata and tree tests (default 1)\n"
		"  --tar ARCHIVE    the tree of untar and rmtree\n"
		"  --log FILE       print the size of FILE (the daemon's log) at start and stop\n"
		"  --strace FILE    strace -c -f the --pid daemon over the timed part into FILE\n");
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
		{ "clients", required_argument, NULL, 'k' },
		{ "tar", required_argument, NULL, 'a' },
		{ "log", required_argument, NULL, 'l' },
		{ "strace", required_argument, NULL, 'S' },
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
		case 'k':
			if (!parse_u64(optarg, MAX_CLIENTS, &v) || v == 0)
				goto bad;
			o.clients = (int)v;
			break;
		case 'a':
			o.tar = optarg;
			break;
		case 'l':
			o.log = optarg;
			break;
		case 'S':
			o.strace = optarg;
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
	if (o.strace && !o.pid) {
		fprintf(stderr, "fbbench: --strace needs --pid\n");
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
		lopts[c == 's' ? 0 : c == 'c' ? 1 : c == 't' ? 2 : c == 'n' ? 3 : c == 'r' ? 6 :
		      c == 'p' ? 7 : 8].name);
	return 2;
}
