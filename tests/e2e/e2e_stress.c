/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * e2e_stress: many processes x threads hammering one directory tree under FB_TEST_DIR, with
 * every result checked against what must have happened. See tests/e2e/README.md.
 *
 * stress_mixed: FB_STRESS_PROCS processes x FB_STRESS_THREADS threads for FB_STRESS_SECONDS.
 *   Each thread ("writer" w) mixes:
 *   - writes of its own blocks of one shared data file (blocks of all writers interleave, each
 *     3001 bytes so they share pages), each tagged (writer, sequence, block, offset) and read
 *     back at once; the last sequence of every block is kept in shared memory and the whole
 *     file is verified at the end: a lost, torn or misplaced write shows;
 *   - O_APPEND records to one shared log, parsed at the end: no record torn or interleaved,
 *     every writer's records present and in order;
 *   - a private file changed by random writes and truncates, checked against a copy in memory;
 *   - private names (create/unlink/mkdir/rmdir/rename/stat/list) whose every result, errno
 *     included, is predicted by a model of the directory;
 *   - files with unique names in the shared directory (create, write, rename, read, unlink),
 *     shared names replaced by rename(2) of complete files (a reader must never see a partial
 *     file), links and unlinks racing on those names, directories created and removed by
 *     several threads, and listings of the shared directory (stable names seen exactly once).
 *   Only the errnos a race can cause are accepted (e.g. ENOENT for a name another thread may
 *   have removed); any other errno, any data mismatch, fails. A watchdog fails the run after
 *   3x the time budget. Everything created is removed at the end and the removal is checked.
 *
 * many_files: FB_STRESS_FILES files (default 5000) created in one directory, each stat'ed,
 *   listed (each name exactly once), unlinked, listed again (empty). With FB_STRESS_FILES set
 *   only this test runs (stress_mixed skips).
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define MAX_WRITERS	  1024
#define BLOCKS_PER_WRITER 16
#define BS		  3001	       /* shared block size: odd, so blocks share pages */
#define PRIV_MAX	  (256 * 1024) /* largest private file */
#define NPRIV		  16	       /* private names n0..n15 */
#define NSHARED		  8	       /* contended names c0..c7 */
#define NDIRS		  4	       /* contended directories dd0..dd3 */
#define NSTABLE		  16	       /* names that exist for the whole run */
#define BLOCK_MAGIC	  0x5354524bu
#define LOG_MAGIC	  0x4c4f4752u
#define PUB_MAGIC	  0x50554221u

static char g_dir[PATH_MAX];  /* FB_TEST_DIR */
static char g_root[PATH_MAX]; /* <g_dir>/e2e-stress-<pid> */
static int g_seconds = 10, g_threads = 8, g_procs = 4;
static long g_files;	  /* FB_STRESS_FILES, 0 when unset */
static long g_max_ops;	  /* FB_STRESS_OPS per thread, 0 = only the time bound */
static pid_t g_kids[256]; /* worker processes, killed by the watchdog */
static int g_nkids;

/* Shared between all processes (MAP_SHARED | MAP_ANONYMOUS, set up before fork). */
struct shm {
	atomic_long ops;    /* operations done */
	atomic_long raced;  /* operations that met an accepted race errno */
	atomic_long errors; /* unexpected errnos and mismatches */
	atomic_int printed; /* error lines printed (capped) */
	uint32_t block_seq[MAX_WRITERS * BLOCKS_PER_WRITER]; /* last seq written, by its owner */
	uint32_t log_count[MAX_WRITERS];		     /* records appended, by each writer */
};
static struct shm *g_shm;

/* ------------------------------------------------------------------------------------------ */

static int xsnprintf(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int xsnprintf(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}

static uint64_t mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static uint64_t rnd(uint64_t *s)
{
	*s = mix(*s);
	return *s;
}

/* Body byte @j of a record tagged (a, b, c). */
static uint8_t gen(uint32_t a, uint32_t b, uint32_t c, uint32_t j)
{
	uint64_t h =
		mix(((uint64_t)a << 40) ^ ((uint64_t)b << 20) ^ c ^ ((uint64_t)(j >> 3) << 48));

	return (uint8_t)(h >> ((j & 7) * 8));
}

static void gen_fill(uint8_t *p, uint32_t from, uint32_t to, uint32_t a, uint32_t b, uint32_t c)
{
	for (uint32_t j = from; j < to; j++)
		p[j] = gen(a, b, c, j);
}

static bool gen_check(const uint8_t *p, uint32_t from, uint32_t to, uint32_t a, uint32_t b,
		      uint32_t c)
{
	for (uint32_t j = from; j < to; j++)
		if (p[j] != gen(a, b, c, j))
			return false;
	return true;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* An unexpected result: count it, print the first ones. */
static void bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void bad(const char *fmt, ...)
{
	va_list ap;
	char line[512];

	atomic_fetch_add(&g_shm->errors, 1);
	if (atomic_fetch_add(&g_shm->printed, 1) >= 30)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "  [pid %d] %s\n", getpid(), line);
}

/* @r is a syscall result with errno; true when it failed with an errno not in the list. */
static bool unexpected(long r, const char *what, const char *path, int ok1, int ok2, int ok3)
{
	if (r >= 0)
		return false;
	int e = errno;

	if (e == ok1 || e == ok2 || e == ok3) {
		atomic_fetch_add(&g_shm->raced, 1);
		return false;
	}
	bad("%s %s: unexpected %s", what, path, strerror(e));
	errno = e;
	return true;
}
#define MUST(r, what, path) unexpected((long)(r), what, path, -1, -1, -1)

static int rm_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP || type == FTW_D || type == FTW_DNR)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

static int rm_rf(const char *path)
{
	if (access(path, F_OK) < 0)
		return 0;
	return nftw(path, rm_cb, 32, FTW_DEPTH | FTW_PHYS) < 0 ? -errno : 0;
}

/* Read the whole of @fd from offset 0 into @buf (at most @cap); length or -errno. */
static ssize_t read_all(int fd, void *buf, size_t cap)
{
	size_t got = 0;

	while (got < cap) {
		ssize_t n = pread(fd, (char *)buf + got, cap - got, (off_t)got);

		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static bool write_all(int fd, const void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, (const char *)buf + done, len - done, off + (off_t)done);

		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

/* ------------------------------------------------------------------------------------------ */
/* One worker thread                                                                          */

enum ptype { P_NONE, P_FILE, P_DIR };

struct worker {
	int proc, thread;
	uint32_t w; /* writer id */
	uint64_t rng;
	char shared[PATH_MAX]; /* <root>/shared */
	char priv[PATH_MAX];   /* <root>/p<proc>t<thread> */
	int shared_fd;	       /* the shared data file */
	int log_fd;	       /* the shared log, O_APPEND */
	uint32_t seq;	       /* next sequence number */
	uint32_t nseq;	       /* next unique-name number */
	/* private data file and its model */
	int priv_fd;
	uint8_t *shadow;
	size_t shadow_size;
	/* private names and their model */
	enum ptype ptype[NPRIV];
	uint32_t plen[NPRIV], pseed[NPRIV];
	long ops;
};

static void block_fill(uint8_t *p, uint32_t w, uint32_t seq, uint32_t b)
{
	uint32_t hdr[6] = {BLOCK_MAGIC, w, seq, b, (uint32_t)((uint64_t)b * BS), 0};

	memcpy(p, hdr, sizeof(hdr));
	gen_fill(p, sizeof(hdr), BS, w, seq, b);
}

/* Check one shared block; returns NULL or what is wrong. */
static const char *block_check(const uint8_t *p, uint32_t w, uint32_t seq, uint32_t b)
{
	uint32_t hdr[6];

	memcpy(hdr, p, sizeof(hdr));
	if (seq == 0) {
		for (int j = 0; j < BS; j++)
			if (p[j])
				return "never written, but not zero";
		return NULL;
	}
	if (hdr[0] != BLOCK_MAGIC)
		return "bad magic (lost or misplaced write)";
	if (hdr[1] != w || hdr[3] != b || hdr[4] != (uint32_t)((uint64_t)b * BS))
		return "tag of another writer/block (misplaced write)";
	if (hdr[2] != seq)
		return "stale sequence (lost write)";
	if (!gen_check(p, sizeof(hdr), BS, w, seq, b))
		return "body does not match its header (torn write)";
	return NULL;
}

static void op_shared_block(struct worker *k)
{
	uint8_t buf[BS], back[BS];
	uint32_t i = (uint32_t)(rnd(&k->rng) % BLOCKS_PER_WRITER);
	uint32_t nw = (uint32_t)(g_procs * g_threads);
	uint32_t b = i * nw + k->w; /* the writers' blocks interleave */
	uint32_t seq = ++k->seq;
	off_t off = (off_t)b * BS;

	block_fill(buf, k->w, seq, b);
	if (!write_all(k->shared_fd, buf, BS, off)) {
		bad("shared block %u write: %s", b, strerror(errno));
		return;
	}
	__atomic_store_n(&g_shm->block_seq[b], seq, __ATOMIC_SEQ_CST);
	ssize_t n = pread(k->shared_fd, back, BS, off);
	if (n != BS) {
		bad("shared block %u read back: %zd (%s)", b, n, n < 0 ? strerror(errno) : "short");
		return;
	}
	const char *why = block_check(back, k->w, seq, b);
	if (why)
		bad("shared block %u read back after write: %s", b, why);
}

static void op_log_append(struct worker *k)
{
	uint8_t rec[2048];
	uint32_t len = 32 + (uint32_t)(rnd(&k->rng) % 2000);
	uint32_t seq = g_shm->log_count[k->w];
	uint32_t hdr[4] = {LOG_MAGIC, k->w, seq, len};

	memcpy(rec, hdr, sizeof(hdr));
	gen_fill(rec, sizeof(hdr), len, k->w, seq, 0xabcdef);
	ssize_t n = write(k->log_fd, rec, len);
	if (n != (ssize_t)len) {
		bad("log append of %u bytes: %zd (%s)", len, n, n < 0 ? strerror(errno) : "short");
		return;
	}
	__atomic_store_n(&g_shm->log_count[k->w], seq + 1, __ATOMIC_SEQ_CST);
}

/* The private data file against its model. */
static void op_private_data(struct worker *k)
{
	static __thread uint8_t buf[32768];
	uint64_t r = rnd(&k->rng);
	char path[PATH_MAX];

	xsnprintf(path, sizeof(path), "%s/data", k->priv);
	switch (r % 8) {
	case 0: /* truncate */
	{
		size_t sz = (size_t)(rnd(&k->rng) % PRIV_MAX);

		if (MUST(ftruncate(k->priv_fd, (off_t)sz), "ftruncate", path))
			return;
		if (sz > k->shadow_size)
			memset(k->shadow + k->shadow_size, 0, sz - k->shadow_size);
		k->shadow_size = sz;
		break;
	}
	case 1: /* close and reopen */
		if (MUST(close(k->priv_fd), "close", path))
			return;
		k->priv_fd = open(path, O_RDWR);
		if (MUST(k->priv_fd, "reopen", path))
			return;
		break;
	case 2:
	case 3:
	case 4: /* write */
	{
		size_t len = 1 + (size_t)(rnd(&k->rng) % sizeof(buf));
		size_t off = (size_t)(rnd(&k->rng) % (PRIV_MAX - len));

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rnd(&k->rng);
		if (!write_all(k->priv_fd, buf, len, (off_t)off)) {
			bad("write %s: %s", path, strerror(errno));
			return;
		}
		if (off > k->shadow_size)
			memset(k->shadow + k->shadow_size, 0, off - k->shadow_size);
		memcpy(k->shadow + off, buf, len);
		if (off + len > k->shadow_size)
			k->shadow_size = off + len;
		break;
	}
	default: /* read and compare */
	{
		size_t len = 1 + (size_t)(rnd(&k->rng) % sizeof(buf));
		size_t off = (size_t)(rnd(&k->rng) % PRIV_MAX);
		size_t want = off >= k->shadow_size
				      ? 0
				      : (k->shadow_size - off < len ? k->shadow_size - off : len);
		ssize_t n = pread(k->priv_fd, buf, len, (off_t)off);

		if (n < 0) {
			bad("read %s: %s", path, strerror(errno));
			return;
		}
		if ((size_t)n != want || memcmp(buf, k->shadow + off, want))
			bad("read %s at %zu: %zd bytes, model has %zu%s", path, off, n, want,
			    (size_t)n == want ? " (contents differ)" : "");
		struct stat st;
		if (!MUST(fstat(k->priv_fd, &st), "fstat", path) &&
		    (size_t)st.st_size != k->shadow_size)
			bad("%s: size %lld, model %zu", path, (long long)st.st_size,
			    k->shadow_size);
	}
	}
}

/* Check a call's outcome against the model's prediction (0 or an errno). */
static bool predicted(struct worker *k, long r, int want, const char *what, int i, int j)
{
	int got = r < 0 ? errno : 0;
	char to[32] = "";

	if (got == want)
		return true;
	if (j >= 0)
		xsnprintf(to, sizeof(to), " -> n%d", j);
	bad("private %s n%d%s in %s: got %s, model says %s", what, i, to, k->priv,
	    got ? strerror(got) : "success", want ? strerror(want) : "success");
	return false;
}

static int pname(struct worker *k, char *buf, size_t cap, int i)
{
	return xsnprintf(buf, cap, "%s/n%d", k->priv, i);
}

/* Private names: every result is predicted by the model. */
static void op_private_names(struct worker *k)
{
	char a[PATH_MAX], b[PATH_MAX];
	uint8_t data[4096];
	int i = (int)(rnd(&k->rng) % NPRIV), j = (int)(rnd(&k->rng) % NPRIV);
	enum ptype ti = k->ptype[i], tj = k->ptype[j];
	long r;

	pname(k, a, sizeof(a), i);
	pname(k, b, sizeof(b), j);
	switch (rnd(&k->rng) % 8) {
	case 0: /* create */
	{
		int fd = open(a, O_CREAT | O_EXCL | O_WRONLY, 0644);
		uint32_t len = (uint32_t)(rnd(&k->rng) % sizeof(data)), seed = ++k->seq;

		if (!predicted(k, fd, ti == P_NONE ? 0 : EEXIST, "create", i, -1) || fd < 0) {
			if (fd >= 0)
				close(fd);
			return;
		}
		gen_fill(data, 0, len, k->w, seed, 7);
		if (!write_all(fd, data, len, 0))
			bad("write %s: %s", a, strerror(errno));
		close(fd);
		k->ptype[i] = P_FILE;
		k->plen[i] = len;
		k->pseed[i] = seed;
		break;
	}
	case 1: /* unlink */
		r = unlink(a);
		if (predicted(k, r,
			      ti == P_FILE  ? 0
			      : ti == P_DIR ? EISDIR
					    : ENOENT,
			      "unlink", i, -1) &&
		    r == 0)
			k->ptype[i] = P_NONE;
		break;
	case 2: /* mkdir */
		r = mkdir(a, 0755);
		if (predicted(k, r, ti == P_NONE ? 0 : EEXIST, "mkdir", i, -1) && r == 0)
			k->ptype[i] = P_DIR;
		break;
	case 3: /* rmdir */
		r = rmdir(a);
		if (predicted(k, r,
			      ti == P_DIR    ? 0
			      : ti == P_FILE ? ENOTDIR
					     : ENOENT,
			      "rmdir", i, -1) &&
		    r == 0)
			k->ptype[i] = P_NONE;
		break;
	case 4:
	case 5: /* rename */
	{
		int want;

		if (ti == P_NONE)
			want = ENOENT;
		else if (i == j || tj == P_NONE || ti == tj)
			want = 0;
		else
			want = ti == P_FILE ? EISDIR : ENOTDIR;
		r = rename(a, b);
		if (predicted(k, r, want, "rename", i, j) && r == 0 && i != j) {
			k->ptype[j] = ti;
			k->plen[j] = k->plen[i];
			k->pseed[j] = k->pseed[i];
			k->ptype[i] = P_NONE;
		}
		break;
	}
	case 6: /* stat and read */
	{
		struct stat st;

		r = lstat(a, &st);
		if (!predicted(k, r, ti == P_NONE ? ENOENT : 0, "stat", i, -1) || r < 0)
			return;
		if ((ti == P_FILE && !S_ISREG(st.st_mode)) || (ti == P_DIR && !S_ISDIR(st.st_mode)))
			bad("%s: type %o, model says %s", a, st.st_mode & S_IFMT,
			    ti == P_FILE ? "file" : "dir");
		if (ti != P_FILE)
			return;
		if ((uint32_t)st.st_size != k->plen[i])
			bad("%s: size %lld, model %u", a, (long long)st.st_size, k->plen[i]);
		int fd = open(a, O_RDONLY);
		if (MUST(fd, "open", a))
			return;
		ssize_t n = read_all(fd, data, sizeof(data));
		close(fd);
		if (n != (ssize_t)k->plen[i] ||
		    !gen_check(data, 0, k->plen[i], k->w, k->pseed[i], 7))
			bad("%s: contents differ from the model (%zd bytes)", a, n);
		break;
	}
	default: /* list */
	{
		DIR *d = opendir(k->priv);
		struct dirent *de;
		int seen[NPRIV] = {0}, other = 0;

		if (!d) {
			bad("opendir %s: %s", k->priv, strerror(errno));
			return;
		}
		while ((de = readdir(d))) {
			int x;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
			    !strcmp(de->d_name, "data"))
				continue;
			if (sscanf(de->d_name, "n%d", &x) == 1 && x >= 0 && x < NPRIV)
				seen[x]++;
			else
				other++;
		}
		closedir(d);
		for (int x = 0; x < NPRIV; x++)
			if (seen[x] != (k->ptype[x] != P_NONE))
				bad("list %s: n%d seen %d times, model says %s", k->priv, x,
				    seen[x], k->ptype[x] != P_NONE ? "present" : "absent");
		if (other)
			bad("list %s: %d unknown names", k->priv, other);
	}
	}
}

/* A file with a unique name in the shared directory: create, write, rename, read, unlink. */
static void op_unique_file(struct worker *k)
{
	char u[PATH_MAX], v[PATH_MAX];
	uint8_t data[9000], back[9001];
	uint32_t n = ++k->nseq, len = 1 + (uint32_t)(rnd(&k->rng) % sizeof(data));
	struct stat st;

	xsnprintf(u, sizeof(u), "%s/u-%u-%u", k->shared, k->w, n);
	xsnprintf(v, sizeof(v), "%s/v-%u-%u", k->shared, k->w, n);
	int fd = open(u, O_CREAT | O_EXCL | O_RDWR, 0640);
	if (MUST(fd, "create", u))
		return;
	gen_fill(data, 0, len, k->w, n, 1);
	if (!write_all(fd, data, len, 0))
		bad("write %s: %s", u, strerror(errno));
	if (!MUST(fstat(fd, &st), "fstat", u) && (st.st_size != len || st.st_nlink != 1))
		bad("%s: size %lld nlink %lu, want %u 1", u, (long long)st.st_size,
		    (unsigned long)st.st_nlink, len);
	close(fd);
	if (MUST(rename(u, v), "rename", u))
		return;
	if (lstat(u, &st) == 0 || errno != ENOENT)
		bad("%s still there after rename", u);
	fd = open(v, O_RDONLY);
	if (!MUST(fd, "open", v)) {
		ssize_t r = read_all(fd, back, sizeof(back));

		if (r != (ssize_t)len || memcmp(back, data, len))
			bad("%s: read %zd bytes, wrote %u (or contents differ)", v, r, len);
		close(fd);
	}
	MUST(unlink(v), "unlink", v);
}

/* Shared names replaced by rename of complete files; readers must see whole files. */
static void check_published(const uint8_t *p, ssize_t n, const char *path)
{
	uint32_t hdr[4];

	if (n < (ssize_t)sizeof(hdr)) {
		bad("%s: %zd bytes, shorter than a header (partial file seen)", path, n);
		return;
	}
	memcpy(hdr, p, sizeof(hdr));
	if (hdr[0] != PUB_MAGIC || hdr[3] != (uint32_t)n ||
	    !gen_check(p, sizeof(hdr), (uint32_t)n, hdr[1], hdr[2], 3))
		bad("%s: %zd bytes, not a complete published file (header len %u)", path, n,
		    hdr[3]);
}

static void op_contended(struct worker *k)
{
	char c[PATH_MAX], other[PATH_MAX], t[PATH_MAX];
	static __thread uint8_t buf[8192];
	int x = (int)(rnd(&k->rng) % NSHARED), y = (int)(rnd(&k->rng) % NSHARED);
	uint32_t n = ++k->nseq;
	int fd;

	xsnprintf(c, sizeof(c), "%s/c%d", k->shared, x);
	xsnprintf(other, sizeof(other), "%s/c%d", k->shared, y);
	switch (rnd(&k->rng) % 6) {
	case 0:
	case 1: /* publish a complete file under the name */
	{
		uint32_t len = 16 + (uint32_t)(rnd(&k->rng) % 6000);
		uint32_t hdr[4] = {PUB_MAGIC, k->w, n, len};

		xsnprintf(t, sizeof(t), "%s/t-%u-%u", k->shared, k->w, n);
		memcpy(buf, hdr, sizeof(hdr));
		gen_fill(buf, sizeof(hdr), len, k->w, n, 3);
		fd = open(t, O_CREAT | O_EXCL | O_WRONLY, 0644);
		if (MUST(fd, "create", t))
			return;
		if (!write_all(fd, buf, len, 0))
			bad("write %s: %s", t, strerror(errno));
		close(fd);
		MUST(rename(t, c), "rename", t);
		break;
	}
	case 2: /* read whatever is there */
	{
		fd = open(c, O_RDONLY);
		if (unexpected(fd, "open", c, ENOENT, -1, -1) || fd < 0)
			return;
		check_published(buf, read_all(fd, buf, sizeof(buf)), c);
		close(fd);
		break;
	}
	case 3: /* link it to a unique name, read that, remove it */
		xsnprintf(t, sizeof(t), "%s/l-%u-%u", k->shared, k->w, n);
		{
			long r = link(c, t);

			if (unexpected(r, "link", c, ENOENT, -1, -1) || r < 0)
				return;
			fd = open(t, O_RDONLY);
			if (!MUST(fd, "open", t)) {
				check_published(buf, read_all(fd, buf, sizeof(buf)), t);
				close(fd);
			}
			MUST(unlink(t), "unlink", t);
			break;
		}
	case 4:
		unexpected(unlink(c), "unlink", c, ENOENT, -1, -1);
		break;
	default:
		unexpected(rename(c, other), "rename", c, ENOENT, -1, -1);
		break;
	}
}

/* Directories created and removed by several threads. */
static void op_dirs(struct worker *k)
{
	char d[PATH_MAX], f[PATH_MAX];
	int x = (int)(rnd(&k->rng) % NDIRS);
	uint32_t n = ++k->nseq;
	struct stat st;

	xsnprintf(d, sizeof(d), "%s/dd%d", k->shared, x);
	xsnprintf(f, sizeof(f), "%s/f-%u-%u", d, k->w, n);
	switch (rnd(&k->rng) % 3) {
	case 0:
		unexpected(mkdir(d, 0755), "mkdir", d, EEXIST, -1, -1);
		break;
	case 1:
		unexpected(rmdir(d), "rmdir", d, ENOENT, ENOTEMPTY, EEXIST);
		break;
	default: {
		int fd = open(f, O_CREAT | O_EXCL | O_WRONLY, 0644);

		if (unexpected(fd, "create", f, ENOENT, -1, -1) || fd < 0)
			return;
		/* while our file is in it, the directory cannot go away */
		if (write(fd, "dd", 2) != 2)
			bad("write %s: %s", f, strerror(errno));
		close(fd);
		if (!MUST(stat(f, &st), "stat", f) && st.st_size != 2)
			bad("%s: size %lld, want 2", f, (long long)st.st_size);
		MUST(unlink(f), "unlink", f);
	}
	}
}

/* List the shared directory: stable names once each, names created once never twice. */
static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void op_list_shared(struct worker *k)
{
	DIR *d = opendir(k->shared);
	struct dirent *de;
	int stable[NSTABLE] = {0};
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		bad("opendir %s: %s", k->shared, strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		int x;

		if (sscanf(de->d_name, "stable-%d", &x) == 1 && x >= 0 && x < NSTABLE) {
			stable[x]++;
			continue;
		}
		/* c* and dd* names are re-created and may legitimately show twice */
		if (de->d_name[0] == 'c' || de->d_name[0] == 'd' || de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
		}
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	for (int x = 0; x < NSTABLE; x++)
		if (stable[x] != 1)
			bad("list %s: stable-%02d seen %d times", k->shared, x, stable[x]);
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(names[i], names[i - 1]))
			bad("list %s: %s listed twice", k->shared, names[i]);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* At the end: the private file equals its model; the private names are removed. */
static void worker_finish(struct worker *k)
{
	char path[PATH_MAX];
	uint8_t *back = malloc(PRIV_MAX + 1);

	xsnprintf(path, sizeof(path), "%s/data", k->priv);
	ssize_t n = read_all(k->priv_fd, back, PRIV_MAX + 1);
	if (n != (ssize_t)k->shadow_size || memcmp(back, k->shadow, k->shadow_size))
		bad("final %s: %zd bytes, model %zu (or contents differ)", path, n, k->shadow_size);
	free(back);
	close(k->priv_fd);
	MUST(unlink(path), "unlink", path);
	for (int i = 0; i < NPRIV; i++) {
		pname(k, path, sizeof(path), i);
		if (k->ptype[i] == P_FILE)
			MUST(unlink(path), "unlink", path);
		else if (k->ptype[i] == P_DIR)
			MUST(rmdir(path), "rmdir", path);
	}
	/* nothing else may be left */
	MUST(rmdir(k->priv), "rmdir", k->priv);
}

static void *worker_main(void *p)
{
	struct worker *k = p;
	double end = now_s() + g_seconds;
	char path[PATH_MAX];

	k->shadow = calloc(1, PRIV_MAX);
	xsnprintf(path, sizeof(path), "%s/data", k->priv);
	if (MUST(mkdir(k->priv, 0755), "mkdir", k->priv))
		return NULL;
	k->priv_fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0644);
	if (MUST(k->priv_fd, "create", path))
		return NULL;
	while ((g_max_ops == 0 || k->ops < g_max_ops) && ((k->ops & 15) || now_s() < end)) {
		unsigned r = (unsigned)(rnd(&k->rng) % 100);

		if (r < 20)
			op_shared_block(k);
		else if (r < 30)
			op_log_append(k);
		else if (r < 50)
			op_private_data(k);
		else if (r < 65)
			op_private_names(k);
		else if (r < 75)
			op_unique_file(k);
		else if (r < 88)
			op_contended(k);
		else if (r < 97)
			op_dirs(k);
		else
			op_list_shared(k);
		k->ops++;
	}
	worker_finish(k);
	atomic_fetch_add(&g_shm->ops, k->ops);
	free(k->shadow);
	return NULL;
}

/* One worker process: its threads, then exit. */
static int proc_main(int proc)
{
	struct worker *ks = calloc((size_t)g_threads, sizeof(*ks));
	pthread_t *th = calloc((size_t)g_threads, sizeof(*th));
	char path[PATH_MAX], dpath[PATH_MAX];
	int shared_fd, log_fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm((unsigned)g_seconds * 3 + 5);
	xsnprintf(dpath, sizeof(dpath), "%s/shared/data", g_root);
	shared_fd = open(dpath, O_RDWR);
	if (MUST(shared_fd, "open", dpath))
		return 1;
	xsnprintf(path, sizeof(path), "%s/shared/log", g_root);
	log_fd = open(path, O_WRONLY | O_APPEND);
	if (MUST(log_fd, "open", path))
		return 1;
	for (int t = 0; t < g_threads; t++) {
		struct worker *k = &ks[t];

		k->proc = proc;
		k->thread = t;
		k->w = (uint32_t)(proc * g_threads + t);
		k->rng = mix(((uint64_t)getpid() << 32) ^ (uint64_t)t ^ (uint64_t)time(NULL));
		xsnprintf(k->shared, sizeof(k->shared), "%s/shared", g_root);
		xsnprintf(k->priv, sizeof(k->priv), "%s/p%dt%d", g_root, proc, t);
		/* each thread has its own fds of the shared files, as separate processes would */
		k->shared_fd = t % 2 ? dup(shared_fd) : open(dpath, O_RDWR);
		if (MUST(k->shared_fd, "open", dpath))
			return 1;
		k->log_fd = log_fd;
		if (pthread_create(&th[t], NULL, worker_main, k)) {
			bad("pthread_create failed");
			return 1;
		}
	}
	for (int t = 0; t < g_threads; t++) {
		pthread_join(th[t], NULL);
		close(ks[t].shared_fd);
	}
	close(shared_fd);
	close(log_fd);
	free(ks);
	free(th);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The watchdog                                                                               */

static void on_watchdog(int sig)
{
	static const char msg[] = "  FAIL: watchdog: no completion within 3x the time budget "
				  "(hang)\n0 passed, 1 failed, 0 skipped\n";

	(void)sig;
	for (int i = 0; i < g_nkids; i++)
		if (g_kids[i] > 0)
			kill(g_kids[i], SIGKILL);
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

static void arm_watchdog(unsigned seconds)
{
	signal(SIGALRM, on_watchdog);
	alarm(seconds);
}

/* ------------------------------------------------------------------------------------------ */

TEST(stress_mixed)
{
	char shared[PATH_MAX], path[PATH_MAX];
	int nw = g_procs * g_threads;
	double t0 = now_s();

	if (g_files)
		SKIP("FB_STRESS_FILES set: many-files mode only");
	CHECK(nw <= MAX_WRITERS);
	memset(g_shm, 0, sizeof(*g_shm));
	xsnprintf(shared, sizeof(shared), "%s/shared", g_root);
	CHECK_OK(mkdir(g_root, 0755));
	CHECK_OK(mkdir(shared, 0755));
	for (int i = 0; i < NSTABLE; i++) {
		xsnprintf(path, sizeof(path), "%s/stable-%02d", shared, i);
		int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
		CHECK_OK(fd);
		close(fd);
	}
	xsnprintf(path, sizeof(path), "%s/data", shared);
	int fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0644);
	CHECK_OK(fd);
	CHECK_OK(ftruncate(fd, (off_t)nw * BLOCKS_PER_WRITER * BS));
	close(fd);
	xsnprintf(path, sizeof(path), "%s/log", shared);
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
	CHECK_OK(fd);
	close(fd);

	arm_watchdog((unsigned)g_seconds * 3);
	fflush(NULL);
	g_nkids = 0;
	for (int p = 0; p < g_procs; p++) {
		pid_t pid = fork();

		CHECK_OK(pid);
		if (pid == 0)
			_exit(proc_main(p));
		g_kids[g_nkids++] = pid;
	}
	int crashed = 0;
	for (int i = 0; i < g_nkids; i++) {
		int st;

		if (waitpid(g_kids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "  worker process %d ended badly (status %#x)\n", g_kids[i],
				st);
			crashed++;
		}
		g_kids[i] = 0;
	}
	double t1 = now_s();

	/* the shared data file: every block holds its owner's last write */
	xsnprintf(path, sizeof(path), "%s/data", shared);
	fd = open(path, O_RDONLY);
	CHECK_OK(fd);
	uint8_t blk[BS];
	long bad_blocks = 0;
	for (uint32_t b = 0; b < (uint32_t)nw * BLOCKS_PER_WRITER; b++) {
		ssize_t n = pread(fd, blk, BS, (off_t)b * BS);
		const char *why =
			n != BS ? "short read"
				: block_check(blk, b % (uint32_t)nw, g_shm->block_seq[b], b);
		if (why) {
			if (bad_blocks++ < 10)
				fprintf(stderr, "  final shared block %u (writer %u, seq %u): %s\n",
					b, b % (uint32_t)nw, g_shm->block_seq[b], why);
		}
	}
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, (off_t)nw * BLOCKS_PER_WRITER * BS);
	close(fd);

	/* the log: whole records, each writer's in order, none missing */
	xsnprintf(path, sizeof(path), "%s/log", shared);
	fd = open(path, O_RDONLY);
	CHECK_OK(fd);
	CHECK_OK(fstat(fd, &st));
	uint8_t *log = malloc((size_t)st.st_size + 1);
	CHECK_EQ(read_all(fd, log, (size_t)st.st_size + 1), st.st_size);
	close(fd);
	uint32_t *next = calloc((size_t)nw, sizeof(*next));
	long records = 0, bad_log = 0;
	for (off_t pos = 0; pos < st.st_size;) {
		uint32_t hdr[4];

		if (st.st_size - pos < (off_t)sizeof(hdr)) {
			fprintf(stderr, "  log: %lld stray bytes at the end\n",
				(long long)(st.st_size - pos));
			bad_log++;
			break;
		}
		memcpy(hdr, log + pos, sizeof(hdr));
		if (hdr[0] != LOG_MAGIC || hdr[1] >= (uint32_t)nw || hdr[3] < 32 ||
		    pos + hdr[3] > st.st_size ||
		    !gen_check(log + pos, sizeof(hdr), hdr[3], hdr[1], hdr[2], 0xabcdef)) {
			fprintf(stderr,
				"  log: bad record at offset %lld (torn/interleaved append)\n",
				(long long)pos);
			bad_log++;
			break;
		}
		if (hdr[2] != next[hdr[1]]) {
			if (bad_log++ < 10)
				fprintf(stderr, "  log: writer %u record %u where %u was due\n",
					hdr[1], hdr[2], next[hdr[1]]);
		}
		next[hdr[1]] = hdr[2] + 1;
		records++;
		pos += hdr[3];
	}
	for (int w = 0; w < nw && !bad_log; w++)
		if (next[w] != g_shm->log_count[w]) {
			fprintf(stderr, "  log: writer %d has %u records, appended %u\n", w,
				next[w], g_shm->log_count[w]);
			bad_log++;
		}
	free(next);
	free(log);

	/* what is left in the shared directory: only names that may be left, then remove it all */
	DIR *d = opendir(shared);
	CHECK(d);
	struct dirent *de;
	int leftovers = 0;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		int x;

		if (!strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, "data") ||
		    !strcmp(n, "log") || sscanf(n, "stable-%d", &x) == 1 ||
		    (n[0] == 'c' && sscanf(n, "c%d", &x) == 1))
			continue;
		xsnprintf(path, sizeof(path), "%s/%s", shared, n);
		if (n[0] == 'd' && n[1] == 'd') {
			if (rmdir(path) < 0) {
				fprintf(stderr, "  leftover: %s not empty (%s)\n", n,
					strerror(errno));
				leftovers++;
			}
			continue;
		}
		fprintf(stderr, "  leftover: %s\n", n);
		leftovers++;
	}
	closedir(d);
	d = opendir(shared);
	CHECK(d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		xsnprintf(path, sizeof(path), "%s/%s", shared, de->d_name);
		if (unlink(path) < 0 && rm_rf(path) < 0)
			fprintf(stderr, "  cannot remove %s: %s\n", path, strerror(errno));
	}
	closedir(d);
	CHECK_OK(rmdir(shared));
	/* every private directory was removed by its thread: the root is empty */
	int rm = rmdir(g_root);
	if (rm < 0) {
		fprintf(stderr, "  %s not empty after the run: %s\n", g_root, strerror(errno));
		rm_rf(g_root);
	}
	alarm(0);

	long ops = atomic_load(&g_shm->ops), errs = atomic_load(&g_shm->errors);
	printf("# %d procs x %d threads, %.1f s: %ld ops (%.0f/s), %ld raced (accepted errno), "
	       "%ld errors, %ld log records, %ld bad blocks\n",
	       g_procs, g_threads, t1 - t0, ops, ops / (t1 - t0), atomic_load(&g_shm->raced), errs,
	       records, bad_blocks);
	CHECK_EQ(crashed, 0);
	CHECK_EQ(errs, 0);
	CHECK_EQ(bad_blocks, 0);
	CHECK_EQ(bad_log, 0);
	CHECK_EQ(leftovers, 0);
	CHECK_OK(rm);
	CHECK(ops > 0);
}

/* ------------------------------------------------------------------------------------------ */
/* Many files in one directory                                                                */

struct mf {
	const char *dir;
	long n;
	int nthreads, id, phase; /* 0 create, 1 stat, 2 unlink */
	long errors;
};

static void *mf_thread(void *p)
{
	struct mf *m = p;
	char path[PATH_MAX], buf[32];
	struct stat st;

	for (long i = m->id; i < m->n; i += m->nthreads) {
		int len;

		xsnprintf(path, sizeof(path), "%s/f%07ld", m->dir, i);
		len = xsnprintf(buf, sizeof(buf), "%ld\n", i);
		if (m->phase == 0) {
			int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);

			if (fd < 0 || write(fd, buf, (size_t)len) != len || close(fd) < 0) {
				if (m->errors++ < 5)
					fprintf(stderr, "  create %s: %s\n", path, strerror(errno));
				if (fd >= 0)
					close(fd);
			}
		} else if (m->phase == 1) {
			if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != len) {
				if (m->errors++ < 5)
					fprintf(stderr, "  stat %s: %s (size %lld)\n", path,
						strerror(errno), (long long)st.st_size);
			}
		} else if (unlink(path) < 0) {
			if (m->errors++ < 5)
				fprintf(stderr, "  unlink %s: %s\n", path, strerror(errno));
		}
	}
	return NULL;
}

static long mf_phase(const char *dir, long n, int phase)
{
	int nt = g_threads > 0 ? g_threads : 1;
	struct mf *ms = calloc((size_t)nt, sizeof(*ms));
	pthread_t *th = calloc((size_t)nt, sizeof(*th));
	long errors = 0;

	for (int t = 0; t < nt; t++) {
		ms[t] = (struct mf){.dir = dir, .n = n, .nthreads = nt, .id = t, .phase = phase};
		pthread_create(&th[t], NULL, mf_thread, &ms[t]);
	}
	for (int t = 0; t < nt; t++) {
		pthread_join(th[t], NULL);
		errors += ms[t].errors;
	}
	free(ms);
	free(th);
	return errors;
}

/* List @dir: count names f<N> seen exactly once into *ok; others/duplicates are errors. */
static long mf_list(const char *dir, long n, long *ok)
{
	uint8_t *seen = calloc((size_t)n + 1, 1);
	DIR *d = opendir(dir);
	struct dirent *de;
	long errors = 0;

	*ok = 0;
	if (!d) {
		fprintf(stderr, "  opendir %s: %s\n", dir, strerror(errno));
		free(seen);
		return 1;
	}
	errno = 0;
	while ((de = readdir(d))) {
		long i;
		char extra;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (sscanf(de->d_name, "f%ld%c", &i, &extra) != 1 || i < 0 || i >= n) {
			if (errors++ < 5)
				fprintf(stderr, "  list: unexpected name %s\n", de->d_name);
			continue;
		}
		if (seen[i]++) {
			if (errors++ < 5)
				fprintf(stderr, "  list: %s seen twice\n", de->d_name);
			continue;
		}
		(*ok)++;
	}
	if (errno) {
		fprintf(stderr, "  readdir %s: %s\n", dir, strerror(errno));
		errors++;
	}
	closedir(d);
	free(seen);
	return errors;
}

TEST(many_files)
{
	long n = g_files ? g_files : 5000, seen;
	char dir[PATH_MAX];
	double t[6];

	/* budget: at least 500 files a second per phase, at least FB_STRESS_SECONDS */
	long budget = n / 500 > g_seconds ? n / 500 : g_seconds;
	arm_watchdog((unsigned)(budget * 3));
	CHECK_OK(mkdir(g_root, 0755));
	xsnprintf(dir, sizeof(dir), "%s/many", g_root);
	CHECK_OK(mkdir(dir, 0755));
	t[0] = now_s();
	long e_create = mf_phase(dir, n, 0);
	t[1] = now_s();
	long e_stat = mf_phase(dir, n, 1);
	t[2] = now_s();
	long e_list = mf_list(dir, n, &seen);
	t[3] = now_s();
	struct stat st;
	CHECK_OK(stat(dir, &st));
	long e_unlink = mf_phase(dir, n, 2);
	t[4] = now_s();
	long left;
	long e_list2 = mf_list(dir, n, &left);
	t[5] = now_s();
	int rm = rmdir(dir);
	int rme = errno;
	rm_rf(g_root);
	alarm(0);
	printf("# many_files: %ld files, %d threads: create %.1fs, stat %.1fs, list %.1fs (%ld "
	       "seen), unlink %.1fs, list %.1fs (%ld left)\n",
	       n, g_threads, t[1] - t[0], t[2] - t[1], t[3] - t[2], seen, t[4] - t[3], t[5] - t[4],
	       left);
	CHECK_EQ(e_create, 0);
	CHECK_EQ(e_stat, 0);
	CHECK_EQ(e_list, 0);
	CHECK_EQ(seen, n);
	CHECK_EQ(e_unlink, 0);
	CHECK_EQ(e_list2, 0);
	CHECK_EQ(left, 0);
	if (rm < 0)
		FBT_FAIL("rmdir of the emptied directory: %s", strerror(rme));
}

/* ------------------------------------------------------------------------------------------ */

static int env_int(const char *name, int def, int min, int max)
{
	const char *v = getenv(name);
	char *end;
	long x;

	if (!v || !*v)
		return def;
	x = strtol(v, &end, 10);
	if (*end || x < min || x > max) {
		fprintf(stderr, "%s=%s: want a number in [%d, %d]\n", name, v, min, max);
		exit(2);
	}
	return (int)x;
}

static int setup(void)
{
	const char *d = getenv("FB_TEST_DIR");

	if (!d || !*d) {
		fprintf(stderr, "usage: FB_TEST_DIR=<directory> [FB_STRESS_SECONDS=10] "
				"[FB_STRESS_THREADS=8] [FB_STRESS_PROCS=4] [FB_STRESS_OPS=n] "
				"[FB_STRESS_FILES=n] e2e_stress\n");
		exit(2);
	}
	if (!realpath(d, g_dir)) {
		fprintf(stderr, "FB_TEST_DIR %s: %s\n", d, strerror(errno));
		exit(2);
	}
	g_seconds = env_int("FB_STRESS_SECONDS", 10, 1, 3600);
	g_threads = env_int("FB_STRESS_THREADS", 8, 1, 128);
	g_procs = env_int("FB_STRESS_PROCS", 4, 1, 64);
	g_files = env_int("FB_STRESS_FILES", 0, 0, 100000000);
	g_max_ops = env_int("FB_STRESS_OPS", 0, 0, 1000000000);
	if (g_procs * g_threads > MAX_WRITERS) {
		fprintf(stderr, "FB_STRESS_PROCS x FB_STRESS_THREADS must be <= %d\n", MAX_WRITERS);
		exit(2);
	}
	xsnprintf(g_root, sizeof(g_root), "%s/e2e-stress-%d", g_dir, getpid());
	g_shm = mmap(NULL, sizeof(*g_shm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		     0);
	if (g_shm == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	umask(022);
	signal(SIGPIPE, SIG_IGN);
	printf("# e2e_stress on %s\n", g_dir);
	return 0;
}

static int teardown(void)
{
	rm_rf(g_root);
	return 0;
}

TEST_SETUP(setup)
TEST_TEARDOWN(teardown)
TEST_MAIN()
