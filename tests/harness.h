/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The test harness: plain C, no framework.
 *
 *   TEST(name) { CHECK(x); CHECK_EQ(a, b); CHECK_ERR(call, -ENOENT); }
 *   ...
 *   TEST_MAIN()
 *
 * Tests register themselves at load time and run in file order. A failed check prints its
 * place and ends the test. SKIP("why") ends a test as skipped. The binary prints
 * "N passed, N failed, N skipped", exits 1 on any failure, 77 when every test skipped,
 * else 0. `TEST_FILTER=substring` runs only matching tests.
 */
#ifndef FB_TEST_HARNESS_H
#define FB_TEST_HARNESS_H

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fbt_test {
	const char *name;
	void (*fn)(void);
};

#define FBT_MAX 512
static struct fbt_test fbt_tests[FBT_MAX];
static int fbt_count;
static jmp_buf fbt_jmp;
static int fbt_state; /* 0 ok, 1 failed, 2 skipped */

static inline void fbt_register(const char *name, void (*fn)(void))
{
	if (fbt_count < FBT_MAX)
		fbt_tests[fbt_count++] = (struct fbt_test){ name, fn };
}

#define TEST(name)                                                                               \
	static void fbt_fn_##name(void);                                                         \
	__attribute__((constructor)) static void fbt_reg_##name(void)                             \
	{                                                                                        \
		fbt_register(#name, fbt_fn_##name);                                              \
	}                                                                                        \
	static void fbt_fn_##name(void)

#define FBT_FAIL(...)                                                                            \
	do {                                                                                     \
		fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                               \
		fprintf(stderr, __VA_ARGS__);                                                    \
		fprintf(stderr, "\n");                                                           \
		fbt_state = 1;                                                                   \
		longjmp(fbt_jmp, 1);                                                             \
	} while (0)

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond))                                                                     \
			FBT_FAIL("CHECK(%s) failed", #cond);                                     \
	} while (0)

#define CHECK_EQ(a, b)                                                                           \
	do {                                                                                     \
		long long fbt_a = (long long)(a), fbt_b = (long long)(b);                        \
		if (fbt_a != fbt_b)                                                              \
			FBT_FAIL("CHECK_EQ(%s, %s): %lld != %lld", #a, #b, fbt_a, fbt_b);        \
	} while (0)

#define CHECK_STR(a, b)                                                                          \
	do {                                                                                     \
		const char *fbt_a = (a), *fbt_b = (b);                                           \
		if (!fbt_a || !fbt_b || strcmp(fbt_a, fbt_b) != 0)                               \
			FBT_FAIL("CHECK_STR(%s, %s): \"%s\" != \"%s\"", #a, #b,                  \
				 fbt_a ? fbt_a : "(null)", fbt_b ? fbt_b : "(null)");            \
	} while (0)

/* A call returning 0 / -errno (or -1 with errno set) must fail with @err (negative). */
#define CHECK_ERR(call, err)                                                                     \
	do {                                                                                     \
		errno = 0;                                                                       \
		long long fbt_r = (long long)(call);                                             \
		if (fbt_r == -1 && errno)                                                        \
			fbt_r = -errno;                                                          \
		if (fbt_r != (long long)(err))                                                   \
			FBT_FAIL("CHECK_ERR(%s): got %lld (%s), want %lld (%s)", #call, fbt_r,   \
				 fbt_r < 0 ? strerror((int)-fbt_r) : "ok", (long long)(err),     \
				 strerror((int)-(err)));                                         \
	} while (0)

/* A libc-style call (returns -1 and sets errno on failure) must succeed. */
#define CHECK_OK(call)                                                                           \
	do {                                                                                     \
		errno = 0;                                                                       \
		long long fbt_r = (long long)(call);                                             \
		if (fbt_r < 0)                                                                   \
			FBT_FAIL("CHECK_OK(%s): %lld (%s)", #call, fbt_r,                        \
				 strerror(fbt_r == -1 && errno ? errno : (int)-fbt_r));          \
	} while (0)

#define SKIP(...)                                                                                \
	do {                                                                                     \
		fprintf(stderr, "  skip: ");                                                     \
		fprintf(stderr, __VA_ARGS__);                                                    \
		fprintf(stderr, "\n");                                                           \
		fbt_state = 2;                                                                   \
		longjmp(fbt_jmp, 1);                                                             \
	} while (0)

/* Optional per-binary setup, run once before the tests; non-zero return skips them all. */
typedef int (*fbt_setup_fn)(void);
static fbt_setup_fn fbt_setup, fbt_teardown;
#define TEST_SETUP(fn) __attribute__((constructor)) static void fbt_setup_reg(void) { fbt_setup = fn; }
#define TEST_TEARDOWN(fn)                                                                        \
	__attribute__((constructor)) static void fbt_teardown_reg(void) { fbt_teardown = fn; }

/* Run one test; its own frame holds the setjmp, so no caller local can be clobbered. */
static inline int fbt_run_one(int i)
{
	fbt_state = 0;
	if (setjmp(fbt_jmp) == 0)
		fbt_tests[i].fn();
	return fbt_state;
}

#if defined(__SANITIZE_THREAD__)
#define FBT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FBT_TSAN 1
#endif
#endif
#ifdef FBT_TSAN
#include <pthread.h>
static void *fbt_nothing(void *arg)
{
	return arg;
}
#endif

static inline int fbt_main(void)
{
	int passed = 0, failed = 0, skipped = 0;
	const char *filter = getenv("TEST_FILTER");

	setvbuf(stdout, NULL, _IOLBF, 0);
#ifdef FBT_TSAN
	/* ThreadSanitizer starts a helper thread of its own at the first pthread_create(): make
	 * that happen now, so that tests counting the process's threads count only theirs. */
	pthread_t fbt_t;
	if (pthread_create(&fbt_t, NULL, fbt_nothing, NULL) == 0)
		pthread_join(fbt_t, NULL);
#endif
	if (fbt_setup && fbt_setup() != 0) {
		printf("0 passed, 0 failed, %d skipped\n", fbt_count);
		return 77;
	}
	for (int i = 0; i < fbt_count; i++) {
		if (filter && !strstr(fbt_tests[i].name, filter))
			continue;
		int st = fbt_run_one(i);
		const char *what = st == 0 ? "ok" : st == 1 ? "FAIL" : "skip";
		printf("%-4s %s\n", what, fbt_tests[i].name);
		if (st == 0)
			passed++;
		else if (st == 1)
			failed++;
		else
			skipped++;
	}
	if (fbt_teardown)
		fbt_teardown();
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	if (failed)
		return 1;
	return passed == 0 && skipped > 0 ? 77 : 0;
}

#define TEST_MAIN()                                                                              \
	int main(void)                                                                           \
	{                                                                                        \
		return fbt_main();                                                               \
	}

#endif /* FB_TEST_HARNESS_H */
