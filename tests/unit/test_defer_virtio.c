/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Replies later over virtio-fs (the vhost-user device with its queue threads, driven by the
 * in-process front end of vhost_front.h): chains whose requests answer later are completed
 * when the answer comes, out of order, while the queue goes on serving; GET_VRING_BASE with
 * chains deferred completes them (ENOTCONN) before it answers, so the base it gives is
 * consistent, and the late replies are dropped.
 */
#include "harness.h"
#include "fbreq.h"
#include "vhost_front.h"

static struct vf *vf;
static struct fbrep rep;
static struct fbreq q;

static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static struct fb_req *taken[16];
static unsigned int ntaken;

/* LOOKUP "nN" answers node id 100 + N, later; "now" answers at once. */
static int d_lookup(void *fs, const struct fb_ctx *ctx, fb_ino_t parent, const char *name,
		    struct fb_entry *out)
{
	struct fb_req *r;

	if (strcmp(name, "now") == 0 || !(r = fb_ctx_defer(ctx))) {
		out->ino = 99;
		out->attr.st_mode = S_IFREG | 0644;
		return 0;
	}
	pthread_mutex_lock(&qlock);
	taken[ntaken++] = r;
	pthread_cond_broadcast(&qcond);
	pthread_mutex_unlock(&qlock);
	return FB_REPLY_LATER;
}

static const struct fb_fs_ops d_ops = {.lookup = d_lookup};

static int setup(void)
{
	fbrep_init(&rep, 0);
	return 0;
}
TEST_SETUP(setup)

static int teardown(void)
{
	vf_free(vf);
	fbrep_free(&rep);
	fbreq_free(&q);
	return 0;
}
TEST_TEARDOWN(teardown)

static void fresh(void)
{
	struct vf_config cfg = VF_CONFIG_DEFAULT;
	int r;

	vf_free(vf);
	vf = NULL;
	cfg.ops = &d_ops;
	r = vf_new(&cfg, &vf);
	if (r < 0)
		FBT_FAIL("vf_new: %s", strerror(-r));
	CHECK_EQ(vf_fuse_init(vf, &rep), 0);
	ntaken = 0;
}

static void wait_taken(unsigned int n)
{
	pthread_mutex_lock(&qlock);
	while (ntaken < n)
		pthread_cond_wait(&qcond, &qlock);
	pthread_mutex_unlock(&qlock);
}

static void submit_lookup(int slot, const char *name)
{
	fbreq_start(&q, FB_LOOKUP, ++vf->unique, FB_ROOT_ID);
	fbreq_str(&q, name);
	fbreq_finish(&q);
	CHECK_EQ(vf_submit(vf, 1, slot, q.buf, q.len, 4096), 0);
}

static struct fb_out_header slot_reply(int slot, struct fb_entry_out *eo, int64_t *len)
{
	uint8_t buf[256];
	struct fb_out_header oh;

	memset(buf, 0, sizeof(buf));
	*len = vf_complete(vf, 1, slot, buf, sizeof(buf));
	memcpy(&oh, buf, sizeof(oh));
	if (eo)
		memcpy(eo, buf + sizeof(oh), sizeof(*eo));
	return oh;
}

static void *answer_reversed(void *arg)
{
	(void)arg;
	for (unsigned int i = VF_SLOTS - 1; i > 0; i--) {
		struct fb_entry e = {.ino = 100 + fb_req_ctx(taken[i - 1])->unique};

		e.attr.st_mode = S_IFREG | 0644;
		CHECK_EQ(fb_req_reply_entry(taken[i - 1], &e), 0);
	}
	return NULL;
}

TEST(chains_answered_later_complete_out_of_order_while_the_queue_serves)
{
	struct fb_entry_out eo;
	pthread_t t;
	int64_t len;

	fresh();
	/* VF_SLOTS - 1 requests wait in the file system... */
	for (int s = 0; s < VF_SLOTS - 1; s++)
		submit_lookup(s, "later");
	wait_taken(VF_SLOTS - 1);
	/* ...and the queue still serves the next one at once. */
	submit_lookup(VF_SLOTS - 1, "now");
	CHECK_EQ(slot_reply(VF_SLOTS - 1, &eo, &len).error, 0);
	CHECK_EQ(eo.nodeid, 99);
	/* Another thread answers them, newest first. */
	CHECK_EQ(pthread_create(&t, NULL, answer_reversed, NULL), 0);
	pthread_join(t, NULL);
	for (int s = 0; s < VF_SLOTS - 1; s++) {
		struct fb_out_header oh = slot_reply(s, &eo, &len);

		CHECK_EQ(len, sizeof(oh) + sizeof(eo));
		CHECK_EQ(oh.error, 0);
		CHECK_EQ(eo.nodeid, 100 + oh.unique);
	}
}

TEST(get_vring_base_completes_deferred_chains_first)
{
	struct fb_entry_out eo;
	struct fb_entry e = {.ino = 5};
	int64_t len;

	fresh();
	submit_lookup(0, "later");
	submit_lookup(1, "later");
	wait_taken(2);
	/* The front end stops the rings (GET_VRING_BASE): both chains are used by then. */
	CHECK_EQ(vf_stop(vf), 0);
	for (int s = 0; s < 2; s++) {
		struct fb_out_header oh = slot_reply(s, NULL, &len);

		CHECK_EQ(len, sizeof(oh));
		CHECK_EQ(oh.error, -ENOTCONN);
	}
	CHECK_EQ(vf->q[1].base, vf->q[1].last_used);
	/* The late answers are dropped: the memory is the guest's again. */
	CHECK_EQ(fb_req_reply_entry(taken[0], &e), -ECANCELED);
	CHECK_EQ(fb_req_reply_err(taken[1], -EIO), -ECANCELED);
	/* The rings start again where they were and serve. */
	CHECK_EQ(vf_restart(vf, 1), 0);
	submit_lookup(0, "now");
	CHECK_EQ(slot_reply(0, &eo, &len).error, 0);
	CHECK_EQ(eo.nodeid, 99);
}

TEST_MAIN()
