/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The server as a whole: interrupts, many threads at once, passthrough backing files through
 * the context, and a small session over memfs from INIT to FORGET.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include <fuse_backend/memfs.h>

#include "harness.h"
#include "fbreq.h"
#include "recfs.h"

/* ---- interrupts ---------------------------------------------------------------------------- */

static atomic_int op_entered;
static atomic_int op_saw_interrupt;

/* A lookup that waits (up to 5 s) until the kernel interrupts it. */
static int slow_lookup(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		       struct fb_entry *out)
{
	atomic_store(&op_entered, 1);
	for (int i = 0; i < 5000; i++) {
		if (fb_ctx_interrupted(ctx)) {
			atomic_store(&op_saw_interrupt, 1);
			return -EINTR;
		}
		usleep(1000);
	}
	return -ETIMEDOUT;
}

static const struct fb_fs_ops slow_ops = {.lookup = slow_lookup};

struct handle_job {
	struct fb_server *s;
	struct fbreq q;
	struct fbrep p;
};

static void *handle_thread(void *arg)
{
	struct handle_job *j = arg;

	fbreq_send(j->s, &j->q, &j->p);
	return NULL;
}

static void interrupt_case(uint64_t target_unique, uint64_t intr_target)
{
	struct fb_server *s = NULL;
	struct handle_job j = {0};
	struct fbreq q = {0};
	struct fbrep p;
	struct fb_interrupt_in in = {.unique = intr_target};
	pthread_t t;

	fbrep_init(&p, 0);
	fbrep_init(&j.p, 0);
	CHECK_EQ(fb_server_new(&slow_ops, sizeof(slow_ops), NULL, NULL, &s), 0);
	CHECK_EQ(fbreq_init_session(s, 45, FBREQ_ALL_FLAGS, &p), 0);
	atomic_store(&op_entered, 0);
	atomic_store(&op_saw_interrupt, 0);
	j.s = s;
	fbreq_start(&j.q, FB_LOOKUP, target_unique, 1);
	fbreq_str(&j.q, "slow");
	CHECK_EQ(pthread_create(&t, NULL, handle_thread, &j), 0);
	while (!atomic_load(&op_entered))
		usleep(100);
	/* The interrupt's own unique is the target's with the interrupt bit. */
	fbreq_start(&q, FB_INTERRUPT, (intr_target & ~FB_UNIQUE_RESEND) | FB_INT_REQ_BIT, 0);
	fbreq_put(&q, &in, sizeof(in));
	CHECK_EQ(fbreq_send(s, &q, &p), 0); /* marked: no reply */
	pthread_join(t, NULL);
	CHECK_EQ(atomic_load(&op_saw_interrupt), 1);
	CHECK_EQ(j.p.ret, 16);
	CHECK_EQ(j.p.oh.error, -EINTR);
	CHECK_EQ(j.p.oh.unique, target_unique);

	/* The target is gone now: EAGAIN, so the kernel queues the interrupt again. */
	CHECK_EQ(fbreq_send(s, &q, &p), 16);
	CHECK_EQ(p.oh.error, -EAGAIN);
	CHECK_EQ(p.oh.unique, (intr_target & ~FB_UNIQUE_RESEND) | FB_INT_REQ_BIT);
	fbreq_free(&q);
	fbreq_free(&j.q);
	fbrep_free(&p);
	fbrep_free(&j.p);
	fb_server_free(s);
}

TEST(interrupt_marks_running_request)
{
	interrupt_case(1000, 1000);
}

TEST(interrupt_matches_resent_request)
{
	/* A resent request carries FB_UNIQUE_RESEND; the interrupt names it without. */
	interrupt_case(FB_UNIQUE_RESEND | 2000, 2000);
}

TEST(interrupt_unknown_target)
{
	struct fb_server *s = NULL;
	struct fbreq q = {0};
	struct fbrep p;
	struct fb_interrupt_in in = {.unique = 4242};

	fbrep_init(&p, 0);
	CHECK_EQ(fb_server_new(&slow_ops, sizeof(slow_ops), NULL, NULL, &s), 0);
	CHECK_EQ(fbreq_init_session(s, 45, FBREQ_ALL_FLAGS, &p), 0);
	fbreq_start(&q, FB_INTERRUPT, 4243, 0);
	fbreq_put(&q, &in, sizeof(in));
	CHECK_EQ(fbreq_send(s, &q, &p), 16);
	CHECK_EQ(p.oh.error, -EAGAIN);
	CHECK_EQ(p.oh.unique, 4243);
	fbreq_free(&q);
	fbrep_free(&p);
	fb_server_free(s);
}

TEST(interrupt_before_its_target_arrives)
{
	struct fb_server *s = NULL;
	struct fbreq q = {0}, r = {0};
	struct fbrep p;
	struct fb_interrupt_in in = {.unique = 5000};

	/* Another thread (or an io_uring queue) still holds request 5000 when its INTERRUPT is
	 * handled: the request starts interrupted once it gets here. */
	fbrep_init(&p, 0);
	CHECK_EQ(fb_server_new(&slow_ops, sizeof(slow_ops), NULL, NULL, &s), 0);
	CHECK_EQ(fbreq_init_session(s, 45, FBREQ_ALL_FLAGS, &p), 0);
	atomic_store(&op_saw_interrupt, 0);
	fbreq_start(&q, FB_INTERRUPT, 5001, 0);
	fbreq_put(&q, &in, sizeof(in));
	CHECK_EQ(fbreq_send(s, &q, &p), 16);
	CHECK_EQ(p.oh.error, -EAGAIN);
	fbreq_start(&r, FB_LOOKUP, 5000, FB_ROOT_ID);
	fbreq_str(&r, "slow");
	CHECK_EQ(fbreq_send(s, &r, &p), 16);
	CHECK_EQ(p.oh.error, -EINTR);
	CHECK_EQ(atomic_load(&op_saw_interrupt), 1);
	fbreq_free(&q);
	fbreq_free(&r);
	fbrep_free(&p);
	fb_server_free(s);
}

TEST(ctx_interrupted_outside_a_request)
{
	struct fb_ctx ctx = {0};

	CHECK_EQ(fb_ctx_interrupted(&ctx), 0);
	CHECK_EQ(fb_ctx_interrupted(NULL), 0);
}

/* ---- many threads --------------------------------------------------------------------------- */

static atomic_int getattr_calls;

static int mt_getattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino,
		      const struct fb_file_info *fi, struct stat *out, double *timeout)
{
	atomic_fetch_add(&getattr_calls, 1);
	memset(out, 0, sizeof(*out));
	out->st_ino = ino;
	out->st_mode = S_IFREG | 0644;
	out->st_size = (off_t)(ino * 3);
	*timeout = 1;
	return 0;
}

static const struct fb_fs_ops mt_ops = {.getattr = mt_getattr};

#define MT_THREADS 4
#define MT_REQS	   3000

static atomic_int mt_bad;

static void *mt_thread(void *arg)
{
	struct fb_server *s = arg;
	struct fbreq q = {0};
	struct fbrep p;
	struct fb_getattr_in in = {0};

	fbrep_init(&p, 4096);
	for (int i = 0; i < MT_REQS; i++) {
		uint64_t ino = 2 + (uint64_t)i;
		uint64_t unique = ((uint64_t)(uintptr_t)&q << 16) + (uint64_t)i * 2 + 2;
		struct fb_attr_out ao;

		fbreq_start(&q, FB_GETATTR, unique, ino);
		fbreq_put(&q, &in, sizeof(in));
		fbreq_send(s, &q, &p);
		ao = FBREP_AS(&p, struct fb_attr_out);
		if (p.ret != 16 + (ssize_t)sizeof(ao) || p.oh.unique != unique ||
		    ao.attr.ino != ino || ao.attr.size != ino * 3)
			atomic_fetch_add(&mt_bad, 1);
	}
	fbreq_free(&q);
	fbrep_free(&p);
	return NULL;
}

TEST(concurrent_requests)
{
	struct fb_server *s = NULL;
	struct fbrep p;
	pthread_t t[MT_THREADS];

	fbrep_init(&p, 0);
	CHECK_EQ(fb_server_new(&mt_ops, sizeof(mt_ops), NULL, NULL, &s), 0);
	CHECK_EQ(fbreq_init_session(s, 45, FBREQ_ALL_FLAGS, &p), 0);
	atomic_store(&mt_bad, 0);
	atomic_store(&getattr_calls, 0);
	for (int i = 0; i < MT_THREADS; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, mt_thread, s), 0);
	for (int i = 0; i < MT_THREADS; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ(atomic_load(&mt_bad), 0);
	CHECK_EQ(atomic_load(&getattr_calls), MT_THREADS * MT_REQS);
	fbrep_free(&p);
	fb_server_free(s);
}

/* ---- passthrough backing files ----------------------------------------------------------------
 */

static int backing_fd_seen, backing_closed;

static int t_backing_open(void *priv, int fd)
{
	backing_fd_seen = fd;
	return 7;
}

static int t_backing_close(void *priv, int id)
{
	backing_closed = id;
	return 0;
}

static int bk_ret;

static int bk_open(void *fs, const struct fb_ctx *ctx, fb_ino_t ino, int flags,
		   struct fb_file_info *fi)
{
	int id = fb_ctx_backing_open(ctx, 0);

	bk_ret = id;
	if (id < 0)
		return 0;
	fi->open_flags = FB_FOPEN_PASSTHROUGH;
	fi->backing_id = id;
	return fb_ctx_backing_close(ctx, id);
}

static int bk_init(void *fs, struct fb_conn *c)
{
	c->want |= FB_PASSTHROUGH;
	return 0;
}

static const struct fb_fs_ops bk_ops = {.init = bk_init, .open = bk_open};

TEST(ctx_backing_open_close)
{
	struct fb_transport_ops t = {.caps = FB_PASSTHROUGH,
				     .backing_open = t_backing_open,
				     .backing_close = t_backing_close};
	struct fb_server *s = NULL;
	struct fbreq q = {0};
	struct fbrep p;
	struct fb_open_in in = {.flags = O_RDONLY};

	fbrep_init(&p, 0);
	CHECK_EQ(fb_server_new(&bk_ops, sizeof(bk_ops), NULL, NULL, &s), 0);
	fb_server_set_transport(s, &t, NULL);
	CHECK_EQ(fbreq_init_session(s, 45, FBREQ_ALL_FLAGS, &p), 0);
	fbreq_start(&q, FB_OPEN, 5, 2);
	fbreq_put(&q, &in, sizeof(in));
	fbreq_send(s, &q, &p);
	CHECK_EQ(p.oh.error, 0);
	CHECK_EQ(bk_ret, 7);
	CHECK_EQ(backing_fd_seen, 0);
	CHECK_EQ(backing_closed, 7);
	CHECK_EQ(FBREP_AS(&p, struct fb_open_out).backing_id, 7);
	fb_server_free(s);

	/* Passthrough not negotiated (the kernel did not offer it): EOPNOTSUPP. */
	s = NULL;
	CHECK_EQ(fb_server_new(&bk_ops, sizeof(bk_ops), NULL, NULL, &s), 0);
	fb_server_set_transport(s, &t, NULL);
	CHECK_EQ(fbreq_init_session(s, 45, FBREQ_ALL_FLAGS & ~FB_PASSTHROUGH, &p), 0);
	fbreq_send(s, &q, &p);
	CHECK_EQ(bk_ret, -EOPNOTSUPP);
	CHECK_EQ(FBREP_AS(&p, struct fb_open_out).backing_id, 0);
	fbreq_free(&q);
	fbrep_free(&p);
	fb_server_free(s);
}

/* ---- a session over memfs -------------------------------------------------------------------- */

static uint64_t uniq = 100;

static ssize_t msend(struct fb_server *s, struct fbreq *q, struct fbrep *p)
{
	return fbreq_send(s, q, p);
}

TEST(memfs_session)
{
	struct fb_memfs_config mc = {.root_uid = FBREQ_UID, .root_gid = FBREQ_GID};
	struct fb_memfs *m = NULL;
	struct fb_server *s = NULL;
	struct fbreq q = {0};
	struct fbrep p;
	struct fb_mkdir_in mk = {.mode = 0755, .umask = 022};
	struct fb_create_in cr = {.flags = O_CREAT | O_RDWR, .mode = S_IFREG | 0644, .umask = 022};
	struct fb_entry_out dir, file;
	struct fb_open_out fo, dirh;
	struct fb_write_in wi = {.size = 11};
	struct fb_read_in ri = {.size = 4096};
	struct fb_open_in oi = {.flags = O_RDONLY | O_DIRECTORY};
	struct fb_forget_in fi = {.nlookup = 1};
	uint64_t before;
	const uint8_t *rp;
	int found = 0;

	fbrep_init(&p, 0);
	CHECK_EQ(fb_memfs_new(&mc, &m), 0);
	CHECK_EQ(fb_server_new(&fb_memfs_ops, sizeof(fb_memfs_ops), m, NULL, &s), 0);
	CHECK_EQ(fbreq_init_session(s, 45, FBREQ_ALL_FLAGS, &p), 0);
	CHECK(fb_server_conn(s)->want & FB_DO_READDIRPLUS);
	before = fb_memfs_inode_count(m);

	fbreq_start(&q, FB_MKDIR, uniq++, FB_ROOT_ID);
	fbreq_put(&q, &mk, sizeof(mk));
	fbreq_str(&q, "dir");
	msend(s, &q, &p);
	CHECK_EQ(p.oh.error, 0);
	dir = FBREP_AS(&p, struct fb_entry_out);
	CHECK(dir.nodeid > FB_ROOT_ID);
	CHECK_EQ(dir.attr.mode & S_IFMT, S_IFDIR);
	CHECK_EQ(dir.attr.mode & 07777, 0755);

	fbreq_start(&q, FB_CREATE, uniq++, dir.nodeid);
	fbreq_put(&q, &cr, sizeof(cr));
	fbreq_str(&q, "file");
	msend(s, &q, &p);
	CHECK_EQ(p.oh.error, 0);
	CHECK_EQ(p.ret, 16 + sizeof(file) + sizeof(fo));
	file = FBREP_AS(&p, struct fb_entry_out);
	memcpy(&fo, p.body + sizeof(file), sizeof(fo));
	CHECK_EQ(file.attr.mode & S_IFMT, S_IFREG);

	wi.fh = fo.fh;
	fbreq_start(&q, FB_WRITE, uniq++, file.nodeid);
	fbreq_put(&q, &wi, sizeof(wi));
	fbreq_put(&q, "hello world", 11);
	msend(s, &q, &p);
	CHECK_EQ(p.oh.error, 0);
	CHECK_EQ(FBREP_AS(&p, struct fb_write_out).size, 11);

	ri.fh = fo.fh;
	ri.offset = 6;
	fbreq_start(&q, FB_READ, uniq++, file.nodeid);
	fbreq_put(&q, &ri, sizeof(ri));
	msend(s, &q, &p);
	CHECK_EQ(p.oh.error, 0);
	CHECK_EQ(p.bodylen, 5);
	CHECK(memcmp(p.body, "world", 5) == 0);

	fbreq_start(&q, FB_OPENDIR, uniq++, dir.nodeid);
	fbreq_put(&q, &oi, sizeof(oi));
	msend(s, &q, &p);
	CHECK_EQ(p.oh.error, 0);
	dirh = FBREP_AS(&p, struct fb_open_out);

	ri.fh = dirh.fh;
	ri.offset = 0;
	fbreq_start(&q, FB_READDIRPLUS, uniq++, dir.nodeid);
	fbreq_put(&q, &ri, sizeof(ri));
	msend(s, &q, &p);
	CHECK_EQ(p.oh.error, 0);
	/* Walk the records: "file" comes with its node id (and a lookup). */
	for (rp = p.body; rp + FB_NAME_OFFSET_DIRENTPLUS <= p.body + p.bodylen;) {
		struct fb_direntplus d;

		memcpy(&d, rp, sizeof(d));
		if (d.dirent.namelen == 4 &&
		    memcmp(rp + FB_NAME_OFFSET_DIRENTPLUS, "file", 4) == 0) {
			CHECK_EQ(d.entry_out.nodeid, file.nodeid);
			CHECK_EQ(d.entry_out.attr.size, 11);
			found = 1;
		}
		rp += FB_DIRENT_ALIGN(FB_NAME_OFFSET_DIRENTPLUS + d.dirent.namelen);
	}
	CHECK(found);

	/* Unlink, release, and give back every lookup: the inodes go away. */
	fbreq_start(&q, FB_UNLINK, uniq++, dir.nodeid);
	fbreq_str(&q, "file");
	msend(s, &q, &p);
	CHECK_EQ(p.oh.error, 0);
	{
		struct fb_release_in rel = {.fh = fo.fh, .flags = O_RDWR};

		fbreq_start(&q, FB_RELEASE, uniq++, file.nodeid);
		fbreq_put(&q, &rel, sizeof(rel));
		msend(s, &q, &p);
		CHECK_EQ(p.oh.error, 0);
		rel.fh = dirh.fh;
		fbreq_start(&q, FB_RELEASEDIR, uniq++, dir.nodeid);
		fbreq_put(&q, &rel, sizeof(rel));
		msend(s, &q, &p);
		CHECK_EQ(p.oh.error, 0);
	}
	fi.nlookup = 2; /* CREATE + READDIRPLUS */
	fbreq_start(&q, FB_FORGET, uniq++, file.nodeid);
	fbreq_put(&q, &fi, sizeof(fi));
	CHECK_EQ(msend(s, &q, &p), 0);
	fbreq_start(&q, FB_RMDIR, uniq++, FB_ROOT_ID);
	fbreq_str(&q, "dir");
	msend(s, &q, &p);
	CHECK_EQ(p.oh.error, 0);
	fi.nlookup = 1;
	fbreq_start(&q, FB_FORGET, uniq++, dir.nodeid);
	fbreq_put(&q, &fi, sizeof(fi));
	CHECK_EQ(msend(s, &q, &p), 0);
	CHECK_EQ(fb_memfs_inode_count(m), before);
	CHECK_EQ(fb_memfs_handle_count(m), 0);

	fbreq_start(&q, FB_DESTROY, uniq++, 0);
	CHECK_EQ(msend(s, &q, &p), -ENODEV);
	fbreq_free(&q);
	fbrep_free(&p);
	fb_server_free(s);
	fb_memfs_free(m);
}

TEST_MAIN()
