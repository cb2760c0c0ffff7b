/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * deferred_bench: many 4 KiB reads in flight against one file, for the "replies later"
 * comparison (bench/deferred-vs-threads runs it over examples/deferred_fs).
 *
 *   deferred_bench FILE [--inflight N] [--threads T] [--seconds S]
 *
 * T threads (default 16) each pread N/T x 4 KiB (default N 1024) with O_DIRECT in a loop for S
 * seconds (default 5). On a FUSE mount with max_read=4096 the kernel splits each pread into
 * 4 KiB READ requests and sends them together (async direct I/O), so about N requests wait in
 * the daemon at any time. One line out:
 *
 *   inflight=1024 threads=16 secs=5.00 requests=... requests_per_sec=...
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096

static const char *path;
static size_t per_read; /* bytes per pread */
static double seconds = 5;
static atomic_ulong requests;
static atomic_int failed;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *reader(void *arg)
{
	long id = (long)arg;
	void *buf = aligned_alloc(BLOCK, per_read);
	int fd = open(path, O_RDONLY | O_DIRECT);
	double end = now() + seconds;
	off_t off = (off_t)id * (off_t)per_read, size = lseek(fd, 0, SEEK_END);

	if (fd < 0 || !buf || size < (off_t)per_read) {
		perror(path);
		atomic_store(&failed, 1);
		free(buf);
		return NULL;
	}
	while (now() < end) {
		ssize_t n = pread(fd, buf, per_read, off);

		if (n != (ssize_t)per_read) {
			fprintf(stderr, "pread: %zd (%s)\n", n, n < 0 ? strerror(errno) : "short");
			atomic_store(&failed, 1);
			break;
		}
		atomic_fetch_add(&requests, per_read / BLOCK);
		off += (off_t)per_read;
		if (off + (off_t)per_read > size)
			off = 0;
	}
	close(fd);
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long inflight = 1024, threads = 16;
	pthread_t *t;
	double start, secs;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--inflight") == 0 && i + 1 < argc)
			inflight = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			threads = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = strtod(argv[++i], NULL);
		else if (argv[i][0] != '-' && !path)
			path = argv[i];
		else
			path = NULL, argc = 0;
	}
	if (!path || !threads || inflight < threads || seconds <= 0) {
		fprintf(stderr, "usage: %s FILE [--inflight N] [--threads T] [--seconds S]\n",
			argv[0]);
		return 2;
	}
	per_read = (inflight / threads) * BLOCK;
	t = calloc(threads, sizeof(*t));
	start = now();
	for (unsigned long i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, reader, (void *)i);
	for (unsigned long i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	secs = now() - start;
	free(t);
	printf("inflight=%lu threads=%lu secs=%.2f requests=%lu requests_per_sec=%.0f\n",
	       (inflight / threads) * threads, threads, secs, atomic_load(&requests),
	       (double)atomic_load(&requests) / secs);
	return atomic_load(&failed) ? 1 : 0;
}
