/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The vhost-user-fs device end to end, with no VM and no mount: an in-process front end
 * (vhost_front.h) does what QEMU 7.2 and Linux's virtio-fs driver do (memfd regions, the
 * handshake, rings, Linux-shaped descriptor chains) against the device's own threads, and
 * sends FUSE requests through it to a passthrough of a temporary directory (memfs where that
 * is simpler). What a guest relies on is checked: replies, the host files, queues that work
 * at once, rings that stop and start again, sessions that restart, a front end that goes
 * away, and chains a hostile guest builds.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "harness.h"
#include "vhost_front.h"

static char base[64]; /* mkdtemp */
static char src[128]; /* the directory served */
static struct vf *vf;
static struct fbreq q;
static struct fbrep rep;

static int rm_rf(const char *path)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	return system(cmd);
}

static int setup(void)
{
	snprintf(base, sizeof(base), "/tmp/fb-vhost-XXXXXX");
	if (!mkdtemp(base))
		return 1;
	snprintf(src, sizeof(src), "%s/src", base);
	fbrep_init(&rep, VF_SLOT_IO);
	return 0;
}
TEST_SETUP(setup)

static int teardown(void)
{
	vf_free(vf);
	vf = NULL;
	fbrep_free(&rep);
	fbreq_free(&q);
	rm_rf(base);
	return 0;
}
TEST_TEARDOWN(teardown)

/* A fresh source directory and a connected device over it, INIT done. */
static void fresh_cfg(struct vf_config *cfg)
{
	int r;

	vf_free(vf);
	vf = NULL;
	rm_rf(src);
	CHECK_OK(mkdir(src, 0755));
	cfg->source = src;
	r = vf_new(cfg, &vf);
	if (r < 0)
		FBT_FAIL("vf_new: %s", strerror(-r));
	CHECK_EQ(vf_fuse_init(vf, &rep), 0);
}

static void fresh(unsigned int queues)
{
	struct vf_config cfg = VF_CONFIG_DEFAULT;

	cfg.kind = VF_FS_PASSTHROUGH;
	cfg.request_queues = queues;
	fresh_cfg(&cfg);
}

static uint64_t next_unique(void)
{
	return ++vf->unique;
}

/* Send q on request queue @qi; the reply must be for it. */
static int call_q(struct vf *v, unsigned int qi, struct fbreq *rq, struct fbrep *p)
{
	uint64_t u = fbreq_hdr(rq)->unique;
	int64_t len = vf_fuse(v, qi, rq, p);

	if (len < 0)
		FBT_FAIL("no reply on queue %u: %s", qi, strerror((int)-len));
	if (len < 16 || p->oh.len != len || p->oh.unique != u)
		FBT_FAIL("bad reply: used len %lld, oh.len %u, unique %llu (want %llu)",
			 (long long)len, p->oh.len, (unsigned long long)p->oh.unique,
			 (unsigned long long)u);
	return p->oh.error;
}

static int call(void)
{
	return call_q(vf, 1, &q, &rep);
}

/* A negative entry (success with node id 0, cached by the guest) counts as -ENOENT. */
static int do_lookup(uint64_t parent, const char *name, struct fb_entry_out *eo)
{
	int err;

	fbreq_start(&q, FB_LOOKUP, next_unique(), parent);
	fbreq_str(&q, name);
	err = call();
	if (!err) {
		*eo = FBREP_AS(&rep, struct fb_entry_out);
		if (!eo->nodeid)
			return -ENOENT;
	}
	return err;
}

static int do_create(uint64_t parent, const char *name, struct fb_entry_out *eo, uint64_t *fh)
{
	struct fb_create_in ci = {.flags = O_RDWR | O_CREAT, .mode = S_IFREG | 0644, .umask = 022};
	int err;

	fbreq_start(&q, FB_CREATE, next_unique(), parent);
	fbreq_put(&q, &ci, sizeof(ci));
	fbreq_str(&q, name);
	err = call();
	if (!err) {
		struct fb_open_out oo;

		CHECK_EQ(rep.bodylen, sizeof(*eo) + sizeof(oo));
		memcpy(eo, rep.body, sizeof(*eo));
		memcpy(&oo, rep.body + sizeof(*eo), sizeof(oo));
		*fh = oo.fh;
	}
	return err;
}

static int do_open(uint64_t node, uint32_t flags, uint64_t *fh)
{
	struct fb_open_in oi = {.flags = flags};
	int err;

	fbreq_start(&q, FB_OPEN, next_unique(), node);
	fbreq_put(&q, &oi, sizeof(oi));
	err = call();
	if (!err)
		*fh = FBREP_AS(&rep, struct fb_open_out).fh;
	return err;
}

static int do_release(uint64_t node, uint64_t fh, int dir)
{
	struct fb_release_in ri = {.fh = fh};

	fbreq_start(&q, dir ? FB_RELEASEDIR : FB_RELEASE, next_unique(), node);
	fbreq_put(&q, &ri, sizeof(ri));
	return call();
}

/* FNV-1a, a checksum that sees order. */
static uint64_t sum64(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static int write_q(struct vf *v, unsigned int qi, struct fbreq *rq, struct fbrep *p, uint64_t node,
		   uint64_t fh, uint64_t off, const void *data, uint32_t len)
{
	struct fb_write_in wi = {.fh = fh, .offset = off, .size = len, .flags = O_RDWR};
	int err;

	fbreq_start(rq, FB_WRITE, ++v->unique, node);
	fbreq_put(rq, &wi, sizeof(wi));
	fbreq_put(rq, data, len);
	err = call_q(v, qi, rq, p);
	if (!err)
		CHECK_EQ(FBREP_AS(p, struct fb_write_out).size, len);
	return err;
}

/* Read @len bytes at @off into @out; returns the bytes read or a negative error. */
static int64_t read_q(struct vf *v, unsigned int qi, struct fbreq *rq, struct fbrep *p,
		      uint64_t node, uint64_t fh, uint64_t off, void *out, uint32_t len)
{
	struct fb_read_in ri = {.fh = fh, .offset = off, .size = len, .flags = O_RDWR};
	int err;

	fbreq_start(rq, FB_READ, ++v->unique, node);
	fbreq_put(rq, &ri, sizeof(ri));
	err = call_q(v, qi, rq, p);
	if (err)
		return err;
	memcpy(out, p->body, p->bodylen);
	return (int64_t)p->bodylen;
}

/* ---- the handshake -------------------------------------------------------------------------- */

TEST(handshake_as_qemu_and_init)
{
	struct fb_init_out io;

	fresh(2);
	/* What a VMM relies on from the replies. */
	CHECK(vf->dev_features & (1ull << FB_VIRTIO_F_VERSION_1));
	CHECK(vf->dev_features & (1ull << VF_F_PROTOCOL_FEATURES));
	CHECK(vf->dev_features & (1ull << FB_VIRTIO_F_RING_INDIRECT_DESC));
	CHECK(vf->dev_features & (1ull << FB_VIRTIO_F_RING_EVENT_IDX));
	CHECK(vf->dev_protocol & (1ull << VF_PF_MQ));
	CHECK(vf->dev_protocol & (1ull << VF_PF_REPLY_ACK));
	CHECK(vf->dev_protocol & (1ull << VF_PF_CONFIGURE_MEM_SLOTS));
	CHECK_EQ(vf->dev_queue_num, 3);
	CHECK(vf->max_mem_slots >= VF_NREG);
	CHECK_EQ(fb_vhost_user_queue_count(vf->dev), 3);
	/* The INIT reply (taken by fresh()). */
	io = FBREP_AS(&rep, struct fb_init_out);
	CHECK_EQ(io.major, 7);
	CHECK(io.minor >= 38);
	CHECK(io.max_write >= (1u << 20));
}

TEST(set_features_beyond_offer_is_refused)
{
	fresh(1);
	/* A feature the device did not offer: REPLY_ACK carries the refusal, the stream lives. */
	CHECK_ERR(vf_set_u64(vf, VF_SET_FEATURES, vf->dev_features | (1ull << 55)), -EIO);
	CHECK_EQ(vf_get(vf, VF_GET_QUEUE_NUM, NULL, 0, &vf->dev_queue_num, 8), 0);
	CHECK_EQ(vf->dev_queue_num, 2);
}

TEST(bad_messages_get_an_error_ack_and_the_device_goes_on)
{
	struct {
		uint64_t padding;
		struct vf_mem_region m;
	} reg = {0};
	struct fb_entry_out eo;
	int fds;

	fresh(1);
	fds = vf_count_fds();
	/* A region overlapping region 1 in guest-physical space, with its fd (which the device
	 * must close again). */
	reg.m = (struct vf_mem_region){VF_R1_GPA + 4096, 4096, 0x10000000, 0};
	CHECK_ERR(vf_set(vf, VF_ADD_MEM_REG, &reg, sizeof(reg), &vf->reg[1].fd, 1), -EIO);
	CHECK_EQ(vf_count_fds(), fds);
	/* A ring index the device does not have. */
	CHECK_ERR(vf_set_state(vf, VF_SET_VRING_NUM, 40, 256), -EIO);
	CHECK_ERR(vf_set_state(vf, VF_SET_VRING_ENABLE, 40, 1), -EIO);
	/* The connection and the queues still work. */
	CHECK_EQ(do_lookup(FB_ROOT_ID, "nothing", &eo), -ENOENT);
	CHECK_EQ(vf_get(vf, VF_GET_QUEUE_NUM, NULL, 0, &vf->dev_queue_num, 8), 0);
	CHECK_EQ(vf->dev_queue_num, 2);
}

/* ---- file operations ------------------------------------------------------------------------ */

TEST(lookup_create_getattr)
{
	struct fb_entry_out eo, eo2;
	struct fb_getattr_in gi = {0};
	struct stat st;
	char path[256];
	uint64_t fh;

	fresh(1);
	CHECK_EQ(do_lookup(FB_ROOT_ID, "missing", &eo), -ENOENT);
	CHECK_EQ(do_create(FB_ROOT_ID, "file", &eo, &fh), 0);
	CHECK(eo.nodeid > FB_ROOT_ID);
	CHECK_EQ(eo.attr.mode & S_IFMT, S_IFREG);
	snprintf(path, sizeof(path), "%s/file", src);
	CHECK_OK(stat(path, &st));
	CHECK_EQ(st.st_ino, eo.attr.ino);
	CHECK_EQ(do_lookup(FB_ROOT_ID, "file", &eo2), 0);
	CHECK_EQ(eo2.nodeid, eo.nodeid);
	fbreq_start(&q, FB_GETATTR, next_unique(), eo.nodeid);
	fbreq_put(&q, &gi, sizeof(gi));
	CHECK_EQ(call(), 0);
	CHECK_EQ(FBREP_AS(&rep, struct fb_attr_out).attr.ino, st.st_ino);
	CHECK_EQ(FBREP_AS(&rep, struct fb_attr_out).attr.size, 0);
	CHECK_EQ(do_release(eo.nodeid, fh, 0), 0);
}

static void rw_1mib(void)
{
	const uint32_t len = 1u << 20;
	uint8_t *data = malloc(len), *back = malloc(len);
	struct fb_entry_out eo;
	char path[256];
	uint64_t fh;
	int fd;

	CHECK(data && back);
	fill(data, len, 7);
	CHECK_EQ(do_create(FB_ROOT_ID, "big", &eo, &fh), 0);
	CHECK_EQ(write_q(vf, 1, &q, &rep, eo.nodeid, fh, 0, data, len), 0);
	/* Unaligned, across the first write's end. */
	CHECK_EQ(write_q(vf, 1, &q, &rep, eo.nodeid, fh, len - 100, data, 4096), 0);
	memcpy(data + len - 100, data, 100);
	CHECK_EQ(read_q(vf, 1, &q, &rep, eo.nodeid, fh, 0, back, len), len);
	CHECK_EQ(sum64(back, len), sum64(data, len));
	/* On the host. */
	snprintf(path, sizeof(path), "%s/big", src);
	fd = open(path, O_RDONLY);
	CHECK_OK(fd);
	memset(back, 0, len);
	CHECK_EQ(pread(fd, back, len, 0), len);
	close(fd);
	CHECK_EQ(sum64(back, len), sum64(data, len));
	CHECK_EQ(do_release(eo.nodeid, fh, 0), 0);
	free(data);
	free(back);
}

/* Linux's shape: pages, out header alone, every multi-element request indirect. */
TEST(write_read_1mib_indirect_pages)
{
	struct vf_queue *vq;

	fresh(1);
	vq = &vf->q[1];
	/* Slot 0 of queue 1 crosses from region 0 into region 1: so does every chain here. */
	CHECK_EQ(vf_region_of(vf, vq->slot_gpa[0]), 0);
	CHECK_EQ(vf_region_of(vf, vq->slot_gpa[0] + 8192), 1);
	rw_1mib();
}

TEST(write_read_1mib_direct_chains)
{
	struct vf_config cfg = VF_CONFIG_DEFAULT;

	cfg.kind = VF_FS_PASSTHROUGH;
	cfg.no_indirect = 1;
	fresh_cfg(&cfg);
	CHECK(!(vf->features & (1ull << FB_VIRTIO_F_RING_INDIRECT_DESC)));
	rw_1mib();
}

TEST(write_read_1mib_one_descriptor_per_part_no_event_idx)
{
	struct vf_config cfg = VF_CONFIG_DEFAULT;

	cfg.kind = VF_FS_PASSTHROUGH;
	cfg.seg = 0;
	cfg.no_event_idx = 1;
	cfg.queue_size = 64;
	fresh_cfg(&cfg);
	/* One descriptor spans the R0/R1 boundary: the device maps it in two pieces. */
	rw_1mib();
}

TEST(set_mem_table_instead_of_add_mem_reg)
{
	struct vf_config cfg = VF_CONFIG_DEFAULT;

	cfg.kind = VF_FS_PASSTHROUGH;
	cfg.no_mem_slots = 1;
	fresh_cfg(&cfg);
	CHECK(!(vf->protocol & (1ull << VF_PF_CONFIGURE_MEM_SLOTS)));
	rw_1mib();
}

TEST(readdirplus)
{
	static const char *names[] = {"a", "bb", "ccc", "dir"};
	struct fb_open_in oi = {.flags = O_RDONLY | O_DIRECTORY};
	struct fb_read_in ri = {.size = 65536};
	int seen[4] = {0}, dots = 0;
	char path[256];
	uint64_t fh;

	fresh(1);
	for (int i = 0; i < 3; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s", src, names[i]);
		fd = open(path, O_CREAT | O_WRONLY, 0600);
		CHECK_OK(fd);
		CHECK_EQ(write(fd, "xyz", (size_t)i), i);
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/dir", src);
	CHECK_OK(mkdir(path, 0700));
	fbreq_start(&q, FB_OPENDIR, next_unique(), FB_ROOT_ID);
	fbreq_put(&q, &oi, sizeof(oi));
	CHECK_EQ(call(), 0);
	fh = FBREP_AS(&rep, struct fb_open_out).fh;
	ri.fh = fh;
	fbreq_start(&q, FB_READDIRPLUS, next_unique(), FB_ROOT_ID);
	fbreq_put(&q, &ri, sizeof(ri));
	CHECK_EQ(call(), 0);
	for (size_t off = 0; off < rep.bodylen;) {
		struct fb_direntplus dp;
		char name[256] = "";

		CHECK(rep.bodylen - off >= sizeof(dp));
		memcpy(&dp, rep.body + off, sizeof(dp));
		CHECK(dp.dirent.namelen < sizeof(name));
		memcpy(name, rep.body + off + FB_NAME_OFFSET_DIRENTPLUS, dp.dirent.namelen);
		off += FB_DIRENTPLUS_SIZE(&dp);
		if (!strcmp(name, ".") || !strcmp(name, "..")) {
			dots++;
			continue;
		}
		for (int i = 0; i < 4; i++) {
			if (strcmp(name, names[i]))
				continue;
			seen[i]++;
			CHECK(dp.entry_out.nodeid > FB_ROOT_ID);
			CHECK_EQ(dp.entry_out.attr.ino, dp.dirent.ino);
			if (i < 3) {
				CHECK_EQ(dp.dirent.type, DT_REG);
				CHECK_EQ(dp.entry_out.attr.size, i);
			} else {
				CHECK_EQ(dp.dirent.type, DT_DIR);
			}
		}
	}
	for (int i = 0; i < 4; i++)
		CHECK_EQ(seen[i], 1);
	CHECK(dots <= 2);
	CHECK_EQ(do_release(FB_ROOT_ID, fh, 1), 0);
}

TEST(xattrs)
{
	struct fb_entry_out eo;
	struct fb_init_out io;
	struct fb_getxattr_in gi = {0};
	char path[256], val[64];
	uint64_t fh;
	int err;

	fresh(1);
	io = FBREP_AS(&rep, struct fb_init_out);
	CHECK_EQ(do_create(FB_ROOT_ID, "x", &eo, &fh), 0);
	snprintf(path, sizeof(path), "%s/x", src);
	if (setxattr(path, "user.probe", "1", 1, 0) < 0)
		SKIP("%s: no user xattrs on the host (%s)", base, strerror(errno));
	removexattr(path, "user.probe");

	fbreq_start(&q, FB_SETXATTR, next_unique(), eo.nodeid);
	if (io.flags & FB_SETXATTR_EXT) {
		struct fb_setxattr_in si = {.size = 5};

		fbreq_put(&q, &si, sizeof(si));
	} else {
		struct fb_setxattr_in si = {.size = 5};

		fbreq_put(&q, &si, 8);
	}
	fbreq_str(&q, "user.colour");
	fbreq_put(&q, "green", 5);
	CHECK_EQ(call(), 0);
	/* On the host. */
	CHECK_EQ(getxattr(path, "user.colour", val, sizeof(val)), 5);
	CHECK(!memcmp(val, "green", 5));
	/* Size probe, then the value. */
	fbreq_start(&q, FB_GETXATTR, next_unique(), eo.nodeid);
	fbreq_put(&q, &gi, sizeof(gi));
	fbreq_str(&q, "user.colour");
	CHECK_EQ(call(), 0);
	CHECK_EQ(FBREP_AS(&rep, struct fb_getxattr_out).size, 5);
	gi.size = 64;
	fbreq_start(&q, FB_GETXATTR, next_unique(), eo.nodeid);
	fbreq_put(&q, &gi, sizeof(gi));
	fbreq_str(&q, "user.colour");
	CHECK_EQ(call(), 0);
	CHECK_EQ(rep.bodylen, 5);
	CHECK(!memcmp(rep.body, "green", 5));
	/* Too small a buffer. */
	gi.size = 2;
	fbreq_start(&q, FB_GETXATTR, next_unique(), eo.nodeid);
	fbreq_put(&q, &gi, sizeof(gi));
	fbreq_str(&q, "user.colour");
	CHECK_EQ(call(), -ERANGE);
	/* The list. */
	gi.size = 256;
	fbreq_start(&q, FB_LISTXATTR, next_unique(), eo.nodeid);
	fbreq_put(&q, &gi, sizeof(gi));
	err = call();
	CHECK_EQ(err, 0);
	CHECK(rep.bodylen >= sizeof("user.colour"));
	CHECK(memmem(rep.body, rep.bodylen, "user.colour", sizeof("user.colour")) != NULL);
	CHECK_EQ(do_release(eo.nodeid, fh, 0), 0);
}

TEST(rename_link_symlink_readlink_unlink)
{
	struct fb_entry_out eo, eo2, eo3;
	struct fb_rename2_in rn = {.newdir = FB_ROOT_ID};
	struct fb_link_in li;
	struct stat st;
	char path[256], target[64];
	uint64_t fh;

	fresh(1);
	CHECK_EQ(do_create(FB_ROOT_ID, "old", &eo, &fh), 0);
	CHECK_EQ(do_release(eo.nodeid, fh, 0), 0);

	fbreq_start(&q, FB_RENAME2, next_unique(), FB_ROOT_ID);
	fbreq_put(&q, &rn, sizeof(rn));
	fbreq_str(&q, "old");
	fbreq_str(&q, "new");
	CHECK_EQ(call(), 0);
	snprintf(path, sizeof(path), "%s/old", src);
	CHECK_ERR(stat(path, &st), -ENOENT);
	snprintf(path, sizeof(path), "%s/new", src);
	CHECK_OK(stat(path, &st));
	CHECK_EQ(st.st_ino, eo.attr.ino);

	li.oldnodeid = eo.nodeid;
	fbreq_start(&q, FB_LINK, next_unique(), FB_ROOT_ID);
	fbreq_put(&q, &li, sizeof(li));
	fbreq_str(&q, "hard");
	CHECK_EQ(call(), 0);
	eo2 = FBREP_AS(&rep, struct fb_entry_out);
	CHECK_EQ(eo2.nodeid, eo.nodeid);
	CHECK_EQ(eo2.attr.nlink, 2);
	snprintf(path, sizeof(path), "%s/hard", src);
	CHECK_OK(stat(path, &st));
	CHECK_EQ(st.st_ino, eo.attr.ino);

	fbreq_start(&q, FB_SYMLINK, next_unique(), FB_ROOT_ID);
	fbreq_str(&q, "sym");
	fbreq_str(&q, "new");
	CHECK_EQ(call(), 0);
	eo3 = FBREP_AS(&rep, struct fb_entry_out);
	CHECK_EQ(eo3.attr.mode & S_IFMT, S_IFLNK);
	snprintf(path, sizeof(path), "%s/sym", src);
	CHECK_EQ(readlink(path, target, sizeof(target)), 3);
	CHECK(!memcmp(target, "new", 3));
	fbreq_start(&q, FB_READLINK, next_unique(), eo3.nodeid);
	CHECK_EQ(call(), 0);
	CHECK_EQ(rep.bodylen, 3);
	CHECK(!memcmp(rep.body, "new", 3));

	fbreq_start(&q, FB_UNLINK, next_unique(), FB_ROOT_ID);
	fbreq_str(&q, "new");
	CHECK_EQ(call(), 0);
	snprintf(path, sizeof(path), "%s/new", src);
	CHECK_ERR(stat(path, &st), -ENOENT);
	snprintf(path, sizeof(path), "%s/hard", src);
	CHECK_OK(stat(path, &st));
	CHECK_EQ(st.st_nlink, 1);
	fbreq_start(&q, FB_UNLINK, next_unique(), FB_ROOT_ID);
	fbreq_str(&q, "new");
	CHECK_EQ(call(), -ENOENT);
	CHECK_EQ(do_lookup(FB_ROOT_ID, "new", &eo), -ENOENT);
}

TEST(forget_alone_on_hiprio_queue)
{
	struct fb_entry_out eo;
	uint64_t n0, fh;

	fresh(1);
	CHECK_EQ(do_create(FB_ROOT_ID, "f", &eo, &fh), 0);
	CHECK_EQ(do_release(eo.nodeid, fh, 0), 0);
	CHECK_EQ(do_lookup(FB_ROOT_ID, "f", &eo), 0);
	n0 = fb_passthrough_inode_count(vf->pt);
	CHECK_EQ(n0, 2);
	/* Two lookups (create, lookup): completed with length 0, the inode goes. */
	CHECK_EQ(vf_forget(vf, eo.nodeid, 2), 0);
	/* The hiprio queue is served by its own thread: a request on queue 1 after the forget
	 * does not order them, so wait for the count. */
	for (int i = 0; i < 200 && fb_passthrough_inode_count(vf->pt) != 1; i++)
		usleep(5000);
	CHECK_EQ(fb_passthrough_inode_count(vf->pt), 1);
	CHECK_EQ(do_lookup(FB_ROOT_ID, "f", &eo), 0);

	/* BATCH_FORGET, likewise alone and read-only. */
	{
		struct fb_batch_forget_in bi = {.count = 2};
		struct fb_forget_one one[2];
		struct fb_entry_out eo2;
		struct fbreq rq = {0};
		char path[256];
		int fd;

		snprintf(path, sizeof(path), "%s/g", src);
		fd = open(path, O_CREAT | O_WRONLY, 0644);
		CHECK_OK(fd);
		close(fd);
		CHECK_EQ(do_lookup(FB_ROOT_ID, "g", &eo2), 0);
		CHECK_EQ(fb_passthrough_inode_count(vf->pt), 3);
		one[0] = (struct fb_forget_one){eo.nodeid, 1};
		one[1] = (struct fb_forget_one){eo2.nodeid, 1};
		fbreq_start(&rq, FB_BATCH_FORGET, next_unique(), 0);
		fbreq_put(&rq, &bi, sizeof(bi));
		fbreq_put(&rq, one, sizeof(one));
		fbreq_finish(&rq);
		CHECK_EQ(vf_submit(vf, 0, 0, rq.buf, rq.len, 0), 0);
		CHECK_EQ(vf_complete(vf, 0, 0, NULL, 0), 0);
		fbreq_free(&rq);
		for (int i = 0; i < 200 && fb_passthrough_inode_count(vf->pt) != 1; i++)
			usleep(5000);
		CHECK_EQ(fb_passthrough_inode_count(vf->pt), 1);
	}
}

/* A 6.1 guest starts only the first request queue of several offered. */
TEST(guest_starts_fewer_queues_than_offered)
{
	struct vf_config cfg = VF_CONFIG_DEFAULT;
	struct fb_entry_out eo;

	cfg.kind = VF_FS_PASSTHROUGH;
	cfg.request_queues = 4;
	cfg.queues_used = 1;
	fresh_cfg(&cfg);
	CHECK_EQ(vf->dev_queue_num, 5);
	CHECK_EQ(vf->nq, 2);
	CHECK_EQ(fb_vhost_user_queue_fd(vf->dev, 2), -1);
	CHECK_EQ(do_lookup(FB_ROOT_ID, "none", &eo), -ENOENT);
	rw_1mib();
	CHECK_EQ(vf_stop(vf), 0);
	CHECK_EQ(vf_restart(vf, 1), 0);
	CHECK_EQ(do_lookup(FB_ROOT_ID, "big", &eo), 0);
}

/* ---- queues at once ------------------------------------------------------------------------- */

struct worker {
	unsigned int qi;
	int fails;
	char err[160];
};

#define WFAIL(w, ...)                                                                              \
	do {                                                                                       \
		snprintf((w)->err, sizeof((w)->err), __VA_ARGS__);                                 \
		(w)->fails++;                                                                      \
		goto out;                                                                          \
	} while (0)

/* One "vCPU": its own file through its own queue, 20 rounds of write, read back, getattr. */
static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	struct fbreq rq = {0};
	struct fbrep p;
	struct fb_create_in ci = {.flags = O_RDWR | O_CREAT, .mode = S_IFREG | 0644};
	const uint32_t len = 256 * 1024;
	uint8_t *data = malloc(len);
	char name[16];
	uint64_t node, fh;
	int64_t r;

	fbrep_init(&p, VF_SLOT_IO);
	snprintf(name, sizeof(name), "q%u", w->qi);
	fbreq_start(&rq, FB_CREATE, 1000 * w->qi + 1, FB_ROOT_ID);
	fbreq_put(&rq, &ci, sizeof(ci));
	fbreq_str(&rq, name);
	r = vf_fuse(vf, w->qi, &rq, &p);
	if (r < 16 || p.oh.error)
		WFAIL(w, "create on queue %u: len %lld error %d", w->qi, (long long)r, p.oh.error);
	node = FBREP_AS(&p, struct fb_entry_out).nodeid;
	memcpy(&fh, p.body + sizeof(struct fb_entry_out), sizeof(fh));
	for (int round = 0; round < 20; round++) {
		struct fb_write_in wi = {.fh = fh, .offset = 0, .size = len};
		struct fb_read_in ri = {.fh = fh, .offset = 0, .size = len};
		uint64_t u = 1000 * w->qi + 10 + 3 * (uint64_t)round;

		fill(data, len, w->qi * 100 + (uint32_t)round);
		fbreq_start(&rq, FB_WRITE, u, node);
		fbreq_put(&rq, &wi, sizeof(wi));
		fbreq_put(&rq, data, len);
		r = vf_fuse(vf, w->qi, &rq, &p);
		if (r != 16 + (int64_t)sizeof(struct fb_write_out) || p.oh.error ||
		    p.oh.unique != u)
			WFAIL(w, "write on queue %u round %d: len %lld", w->qi, round,
			      (long long)r);
		fbreq_start(&rq, FB_READ, u + 1, node);
		fbreq_put(&rq, &ri, sizeof(ri));
		r = vf_fuse(vf, w->qi, &rq, &p);
		if (r != 16 + (int64_t)len || p.oh.unique != u + 1)
			WFAIL(w, "read on queue %u round %d: len %lld", w->qi, round, (long long)r);
		if (sum64(p.body, len) != sum64(data, len))
			WFAIL(w, "queue %u round %d: data differs", w->qi, round);
	}
out:
	fbreq_free(&rq);
	fbrep_free(&p);
	free(data);
	return NULL;
}

TEST(four_request_queues_from_four_threads)
{
	struct worker w[4];
	pthread_t t[4];

	fresh(4);
	CHECK_EQ(vf->nq, 5);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.qi = (unsigned int)i + 1};
		CHECK_EQ(pthread_create(&t[i], NULL, worker_fn, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 4; i++) {
		if (w[i].fails)
			FBT_FAIL("%s", w[i].err);
		/* Each queue carried its own requests. */
		CHECK(vf->q[i + 1].avail_idx >= 41);
	}
	/* The device counted them on the queue they came on (exact once the rings stopped:
	 * each queue thread has finished its batch). */
	CHECK_EQ(vf_stop(vf), 0);
	for (unsigned int i = 0; i < 5; i++) {
		struct fb_vhost_user_queue_stats st = {.size = sizeof(st)};

		CHECK_EQ(fb_vhost_user_queue_stats(vf->dev, i, &st), 0);
		CHECK_EQ(st.size, sizeof(st));
		CHECK_EQ(st.requests, vf->q[i].avail_idx);
	}
}

TEST(queue_stats_count_chains_per_queue)
{
	struct fb_vhost_user_queue_stats st = {.size = sizeof(st)};
	struct fb_entry_out eo;
	uint64_t fh;

	fresh(2);
	CHECK_EQ(do_create(FB_ROOT_ID, "f", &eo, &fh), 0);
	CHECK_EQ(vf_forget(vf, eo.nodeid, 1), 0);
	CHECK_EQ(vf_stop(vf), 0);
	/* INIT and CREATE on queue 1, the FORGET on hiprio, nothing on queue 2. */
	CHECK_EQ(fb_vhost_user_queue_stats(vf->dev, 0, &st), 0);
	CHECK_EQ(st.requests, 1);
	CHECK_EQ(fb_vhost_user_queue_stats(vf->dev, 1, &st), 0);
	CHECK_EQ(st.requests, 2);
	CHECK_EQ(fb_vhost_user_queue_stats(vf->dev, 2, &st), 0);
	CHECK_EQ(st.requests, 0);
	/* The count goes on across a restart of the rings. */
	CHECK_EQ(vf_restart(vf, 1), 0);
	CHECK_EQ(do_lookup(FB_ROOT_ID, "f", &eo), 0);
	CHECK_EQ(vf_stop(vf), 0);
	CHECK_EQ(fb_vhost_user_queue_stats(vf->dev, 1, &st), 0);
	CHECK_EQ(st.requests, 3);
	/* Bad arguments. */
	CHECK_EQ(fb_vhost_user_queue_stats(vf->dev, 3, &st), -EINVAL);
	CHECK_EQ(fb_vhost_user_queue_stats(NULL, 0, &st), -EINVAL);
	CHECK_EQ(fb_vhost_user_queue_stats(vf->dev, 0, NULL), -EINVAL);
	st.size = sizeof(size_t);
	CHECK_EQ(fb_vhost_user_queue_stats(vf->dev, 0, &st), -EINVAL);
}

TEST(requests_in_flight_on_one_queue_answered_each)
{
	struct fbreq rq[VF_SLOTS] = {{0}};
	struct fb_entry_out eo;
	uint64_t fh;

	fresh(1);
	CHECK_EQ(do_create(FB_ROOT_ID, "f", &eo, &fh), 0);
	for (int s = 0; s < VF_SLOTS; s++) {
		struct fb_getattr_in gi = {0};

		fbreq_start(&rq[s], FB_GETATTR, 500 + (uint64_t)s, eo.nodeid);
		fbreq_put(&rq[s], &gi, sizeof(gi));
		fbreq_finish(&rq[s]);
		CHECK_EQ(vf_submit(vf, 1, s, rq[s].buf, rq[s].len, 4096), 0);
	}
	for (int s = VF_SLOTS - 1; s >= 0; s--) {
		struct fb_out_header oh;

		CHECK_EQ(vf_complete(vf, 1, s, &oh, sizeof(oh)), 16 + sizeof(struct fb_attr_out));
		CHECK_EQ(oh.unique, 500 + s);
		CHECK_EQ(oh.error, 0);
		fbreq_free(&rq[s]);
	}
}

/* ---- rings stopped and started ----------------------------------------------------------------
 */

TEST(stop_and_restart_rings_keep_the_avail_index)
{
	struct fb_entry_out eo;
	struct fbreq rq = {0};
	uint16_t idx;
	uint64_t fh;

	fresh(2);
	CHECK_EQ(do_create(FB_ROOT_ID, "f", &eo, &fh), 0);
	for (int i = 0; i < 5; i++)
		CHECK_EQ(do_lookup(FB_ROOT_ID, "f", &eo), 0);
	idx = vf->q[1].avail_idx;
	CHECK_EQ(vf_stop(vf), 0);
	/* The device's base is where the driver is: everything was consumed. */
	CHECK_EQ(vf->q[1].base, idx);
	CHECK_EQ(vf->q[2].base, 0);
	CHECK_EQ(vf->q[0].base, 0);
	/* A request the guest puts in while the ring is stopped waits... */
	fbreq_start(&rq, FB_LOOKUP, 777, FB_ROOT_ID);
	fbreq_str(&rq, "f");
	fbreq_finish(&rq);
	CHECK_EQ(vf_submit(vf, 1, 1, rq.buf, rq.len, 4096), 0);
	usleep(200000);
	CHECK_EQ(vf_used_idx(&vf->q[1]), idx);
	/* ...and is served once the ring runs again from the same index. */
	CHECK_EQ(vf_restart(vf, 1), 0);
	{
		struct fb_out_header oh;

		CHECK_EQ(vf_complete(vf, 1, 1, &oh, sizeof(oh)), 16 + sizeof(eo));
		CHECK_EQ(oh.unique, 777);
		CHECK_EQ(oh.error, 0);
	}
	CHECK_EQ(vf_used_idx(&vf->q[1]), (uint16_t)(idx + 1));
	/* The session went on: the open handle still works, on both request queues. */
	{
		uint8_t b[4] = {0};

		CHECK_EQ(write_q(vf, 1, &q, &rep, eo.nodeid, fh, 0, "abcd", 4), 0);
		CHECK_EQ(read_q(vf, 2, &q, &rep, eo.nodeid, fh, 0, b, 4), 4);
		CHECK(!memcmp(b, "abcd", 4));
	}
	/* Stop and start a second time. */
	idx = vf->q[1].avail_idx;
	CHECK_EQ(vf_stop(vf), 0);
	CHECK_EQ(vf->q[1].base, idx);
	CHECK_EQ(vf->q[2].base, 1);
	CHECK_EQ(vf_restart(vf, 1), 0);
	CHECK_EQ(do_lookup(FB_ROOT_ID, "f", &eo), 0);
	fbreq_free(&rq);
}

/* ---- sessions that restart ------------------------------------------------------------------ */

/* Lookups of 10 files and opens of 5, left as a guest that dies leaves them. */
static void busy_session(void)
{
	struct fb_entry_out eo;
	uint64_t fh;
	char name[16];

	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		CHECK_EQ(do_lookup(FB_ROOT_ID, name, &eo), 0);
		if (i < 5)
			CHECK_EQ(do_open(eo.nodeid, O_RDWR, &fh), 0);
	}
	CHECK(fb_passthrough_inode_count(vf->pt) >= 11);
	CHECK_EQ(fb_passthrough_handle_count(vf->pt), 5);
}

TEST(guest_reboots_5_times_nothing_leaks)
{
	int fds[6];

	fresh(1);
	for (int i = 0; i < 10; i++) {
		char path[256];
		int fd;

		snprintf(path, sizeof(path), "%s/f%d", src, i);
		fd = open(path, O_CREAT | O_WRONLY, 0644);
		CHECK_OK(fd);
		close(fd);
	}
	busy_session();
	fds[0] = vf_count_fds();
	for (int boot = 1; boot <= 5; boot++) {
		/* QEMU at reboot: rings stopped; the new kernel lays out new rings from 0 and
		 * sends INIT with no DESTROY. */
		CHECK_EQ(vf_stop(vf), 0);
		CHECK_EQ(vf_restart(vf, 0), 0);
		CHECK_EQ(vf_fuse_init(vf, &rep), 0);
		CHECK_EQ(fb_passthrough_inode_count(vf->pt), 1);
		CHECK_EQ(fb_passthrough_handle_count(vf->pt), 0);
		busy_session();
		fds[boot] = vf_count_fds();
		CHECK_EQ(fds[boot], fds[0]);
	}
}

TEST(destroy_then_init_remounts)
{
	struct fb_entry_out eo;
	uint64_t fh;
	int64_t len;

	fresh(1);
	CHECK_EQ(do_create(FB_ROOT_ID, "f", &eo, &fh), 0);
	fbreq_start(&q, FB_DESTROY, next_unique(), 0);
	len = vf_fuse(vf, 1, &q, &rep);
	/* The guest waits for DESTROY's reply (FB_TRANSPORT_RESTART: it is answered). */
	CHECK_EQ(len, 16);
	CHECK_EQ(rep.oh.error, 0);
	CHECK_EQ(rep.oh.unique, vf->unique);
	CHECK_EQ(fb_passthrough_handle_count(vf->pt), 0);
	CHECK_EQ(fb_passthrough_inode_count(vf->pt), 1);
	CHECK_EQ(vf_fuse_init(vf, &rep), 0);
	CHECK_EQ(do_lookup(FB_ROOT_ID, "f", &eo), 0);
	CHECK_EQ(do_open(eo.nodeid, O_RDONLY, &fh), 0);
	CHECK_EQ(fb_passthrough_handle_count(vf->pt), 1);
}

/* ---- the front end goes away ---------------------------------------------------------------- */

static const struct fb_fs_ops *slow_base;
static int slow_started;

static int slow_getattr(void *fs, const struct fb_ctx *ctx, fb_ino_t ino,
			const struct fb_file_info *fi, struct stat *out, double *timeout)
{
	__atomic_add_fetch(&slow_started, 1, __ATOMIC_SEQ_CST);
	usleep(300000);
	return slow_base->getattr(fs, ctx, ino, fi, out, timeout);
}

TEST(eof_with_requests_in_flight)
{
	static struct fb_fs_ops slow;
	struct vf_config cfg = VF_CONFIG_DEFAULT;
	struct fb_memfs *m = NULL;
	struct fbreq rq = {0};
	int fds0, maps;

	vf_free(vf);
	vf = NULL;
	fds0 = vf_count_fds();
	CHECK_EQ(vf_count_maps("vf-region"), 0);
	CHECK_EQ(fb_memfs_new(NULL, &m), 0);
	slow_base = &fb_memfs_ops;
	slow = fb_memfs_ops;
	slow.getattr = slow_getattr;
	__atomic_store_n(&slow_started, 0, __ATOMIC_SEQ_CST);
	cfg.ops = &slow;
	cfg.fs = m;
	cfg.request_queues = 2;
	CHECK_EQ(vf_new(&cfg, &vf), 0);
	CHECK_EQ(vf_fuse_init(vf, &rep), 0);
	/* The device mapped each region once more. */
	CHECK_EQ(vf_count_maps("vf-region"), 2 * VF_NREG);
	for (unsigned int qi = 1; qi <= 2; qi++) {
		for (int s = 0; s < 2; s++) {
			struct fb_getattr_in gi = {0};

			fbreq_start(&rq, FB_GETATTR, 900 + qi * 10 + (uint64_t)s, FB_ROOT_ID);
			fbreq_put(&rq, &gi, sizeof(gi));
			fbreq_finish(&rq);
			CHECK_EQ(vf_submit(vf, qi, s, rq.buf, rq.len, 4096), 0);
		}
	}
	for (int i = 0; i < 200 && __atomic_load_n(&slow_started, __ATOMIC_SEQ_CST) < 2; i++)
		usleep(5000);
	CHECK(__atomic_load_n(&slow_started, __ATOMIC_SEQ_CST) >= 2);
	/* QEMU killed: EOF only. The device returns from its loop... */
	CHECK_EQ(vf_disconnect(vf), 0);
	CHECK_EQ(vf->run_ret, 0);
	/* ...with the guest's memory unmapped (ours stays). */
	maps = vf_count_maps("vf-region");
	CHECK_EQ(maps, VF_NREG);
	vf_free(vf);
	vf = NULL;
	fb_memfs_free(m);
	fbreq_free(&rq);
	CHECK_EQ(vf_count_fds(), fds0);
	CHECK_EQ(vf_count_maps("vf-region"), 0);
}

/* GET_VRING_BASE is answered once the ring's requests in progress are answered. */
TEST(stop_waits_for_requests_in_progress)
{
	static struct fb_fs_ops slow;
	struct vf_config cfg = VF_CONFIG_DEFAULT;
	struct fb_memfs *m = NULL;
	struct fbreq rq = {0};
	struct fb_getattr_in gi = {0};
	struct fb_out_header oh;

	vf_free(vf);
	vf = NULL;
	CHECK_EQ(fb_memfs_new(NULL, &m), 0);
	slow_base = &fb_memfs_ops;
	slow = fb_memfs_ops;
	slow.getattr = slow_getattr;
	__atomic_store_n(&slow_started, 0, __ATOMIC_SEQ_CST);
	cfg.ops = &slow;
	cfg.fs = m;
	CHECK_EQ(vf_new(&cfg, &vf), 0);
	CHECK_EQ(vf_fuse_init(vf, &rep), 0);
	fbreq_start(&rq, FB_GETATTR, 31337, FB_ROOT_ID);
	fbreq_put(&rq, &gi, sizeof(gi));
	fbreq_finish(&rq);
	CHECK_EQ(vf_submit(vf, 1, 0, rq.buf, rq.len, 4096), 0);
	for (int i = 0; i < 200 && !__atomic_load_n(&slow_started, __ATOMIC_SEQ_CST); i++)
		usleep(5000);
	CHECK_EQ(__atomic_load_n(&slow_started, __ATOMIC_SEQ_CST), 1);
	CHECK_EQ(vf_stop(vf), 0);
	/* The reply is in the used ring by the time the base came back. */
	CHECK_EQ(vf_used_idx(&vf->q[1]), vf->q[1].avail_idx);
	CHECK_EQ(vf->q[1].base, vf->q[1].avail_idx);
	CHECK_EQ(vf_complete(vf, 1, 0, &oh, sizeof(oh)), 16 + sizeof(struct fb_attr_out));
	CHECK_EQ(oh.unique, 31337);
	CHECK_EQ(oh.error, 0);
	vf_free(vf);
	vf = NULL;
	fb_memfs_free(m);
	fbreq_free(&rq);
}

TEST(connect_disconnect_20_times_no_fd_leak)
{
	struct vf_config cfg = VF_CONFIG_DEFAULT;
	int fds0;

	vf_free(vf);
	vf = NULL;
	fds0 = vf_count_fds();
	cfg.request_queues = 3;
	for (int i = 0; i < 20; i++) {
		struct fb_entry_out eo;

		CHECK_EQ(vf_new(&cfg, &vf), 0);
		CHECK_EQ(vf_fuse_init(vf, &rep), 0);
		CHECK_EQ(do_lookup(FB_ROOT_ID, "nothing", &eo), -ENOENT);
		vf_free(vf);
		vf = NULL;
	}
	CHECK_EQ(vf_count_fds(), fds0);
}

/* ---- chains a hostile guest builds -------------------------------------------------------- */

/* Publish raw chain @d[0..n) (linked by the test) and expect it back with length 0. */
static void bad_chain(const struct vf_desc *d, unsigned int n)
{
	struct vf_queue *vq = &vf->q[1];
	uint16_t idx[8];
	int64_t len;

	CHECK(n <= 8);
	CHECK_EQ(vf_desc_alloc(vq, n, idx), 0);
	for (unsigned int i = 0; i < n; i++) {
		vq->desc[idx[i]] = d[i];
		/* d[i].next names a position in d[]: make it a descriptor index. */
		if (d[i].flags & VF_DESC_F_NEXT)
			vq->desc[idx[i]].next = d[i].next < n ? idx[d[i].next] : d[i].next;
	}
	CHECK_EQ(vf_publish(vf, 1, idx[0], idx, n), 0);
	len = vf_wait_head(vf, 1, idx[0], VF_TIMEOUT_MS);
	CHECK_EQ(len, 0);
}

/* A good LOOKUP after each bad chain: the queue still works. */
static void still_answers(void)
{
	struct fb_entry_out eo;

	CHECK_EQ(do_lookup(FB_ROOT_ID, "f", &eo), 0);
	CHECK(eo.nodeid > FB_ROOT_ID);
}

/* A LOOKUP "f" request written at slot 1's in area; its reply room at the out area. */
static void lookup_bytes(uint64_t *in_gpa, uint32_t *in_len, uint64_t *out_gpa)
{
	struct fbreq rq = {0};

	fbreq_start(&rq, FB_LOOKUP, 4242, FB_ROOT_ID);
	fbreq_str(&rq, "f");
	fbreq_finish(&rq);
	CHECK_EQ(vf_slot_io(vf, 1, 1, 0, 0, rq.buf, rq.len, 1), 0);
	*in_gpa = vf->q[1].slot_gpa[1];
	*in_len = (uint32_t)rq.len;
	*out_gpa = *in_gpa + VF_SLOT_IO;
	fbreq_free(&rq);
}

static void bad_setup(void)
{
	struct fb_entry_out eo;
	uint64_t fh;

	vf_log_errors = 1;
	fresh(1);
	CHECK_EQ(do_create(FB_ROOT_ID, "f", &eo, &fh), 0);
}

TEST(bad_chain_loop)
{
	uint64_t in, out;
	uint32_t inlen;

	bad_setup();
	lookup_bytes(&in, &inlen, &out);
	{
		struct vf_desc d[3] = {
			{in, inlen, VF_DESC_F_NEXT, 1},
			{out, 16, VF_DESC_F_WRITE | VF_DESC_F_NEXT, 2},
			{out + 16, 4096, VF_DESC_F_WRITE | VF_DESC_F_NEXT, 1},
		};

		bad_chain(d, 3);
	}
	still_answers();
	/* A loop onto the head itself. */
	{
		struct vf_desc d[1] = {{in, inlen, VF_DESC_F_NEXT, 0}};

		bad_chain(d, 1);
	}
	still_answers();
}

TEST(bad_chain_outside_guest_memory)
{
	uint64_t in, out;
	uint32_t inlen;

	bad_setup();
	lookup_bytes(&in, &inlen, &out);
	{
		/* Between R1's end and R2's start: no region. */
		struct vf_desc d[2] = {
			{in, inlen, VF_DESC_F_NEXT, 1},
			{VF_R1_GPA + VF_R1_SIZE + 4096, 4096, VF_DESC_F_WRITE, 0},
		};

		bad_chain(d, 2);
	}
	still_answers();
	{
		/* Runs off the end of R2. */
		struct vf_desc d[2] = {
			{in, inlen, VF_DESC_F_NEXT, 1},
			{VF_R2_GPA + VF_R2_SIZE - 100, 4096, VF_DESC_F_WRITE, 0},
		};

		bad_chain(d, 2);
	}
	still_answers();
	{
		/* An address that wraps around. */
		struct vf_desc d[2] = {
			{UINT64_MAX - 8, 64, VF_DESC_F_NEXT, 1},
			{out, 4096, VF_DESC_F_WRITE, 0},
		};

		bad_chain(d, 2);
	}
	still_answers();
	{
		/* A next index beyond the queue. */
		struct vf_desc d[1] = {{in, inlen, VF_DESC_F_NEXT, 5000}};

		bad_chain(d, 1);
	}
	still_answers();
}

TEST(bad_chain_readable_after_writable)
{
	uint64_t in, out;
	uint32_t inlen;

	bad_setup();
	lookup_bytes(&in, &inlen, &out);
	{
		struct vf_desc d[3] = {
			{in, inlen, VF_DESC_F_NEXT, 1},
			{out, 16, VF_DESC_F_WRITE | VF_DESC_F_NEXT, 2},
			{in, 8, 0, 0},
		};

		bad_chain(d, 3);
	}
	still_answers();
}

/* Chain with an indirect table at slot 1's table area holding @t[0..n). */
static void bad_indirect(const struct vf_desc *t, unsigned int n, uint32_t tlen, uint16_t hflags)
{
	struct vf_queue *vq = &vf->q[1];
	uint64_t tg = vf_ind_gpa(vq, 1);
	struct vf_desc *tp = vf_ptr(vf, tg, 16 * (size_t)(n ? n : 1));
	struct vf_desc d[1] = {{tg, tlen, hflags, 0}};

	CHECK(tp != NULL);
	if (n)
		memcpy(tp, t, 16 * (size_t)n);
	bad_chain(d, 1);
}

TEST(bad_chain_indirect)
{
	uint64_t in, out;
	uint32_t inlen;

	bad_setup();
	CHECK(vf->features & (1ull << FB_VIRTIO_F_RING_INDIRECT_DESC));
	lookup_bytes(&in, &inlen, &out);
	{
		/* The good shape first, to show what the bad ones change. */
		struct vf_desc t[2] = {
			{in, inlen, VF_DESC_F_NEXT, 1},
			{out, 4096, VF_DESC_F_WRITE, 0},
		};
		struct vf_queue *vq = &vf->q[1];
		uint64_t tg = vf_ind_gpa(vq, 1);
		uint16_t idx;

		memcpy(vf_ptr(vf, tg, 32), t, 32);
		CHECK_EQ(vf_desc_alloc(vq, 1, &idx), 0);
		vq->desc[idx] = (struct vf_desc){tg, 32, VF_DESC_F_INDIRECT, 0};
		CHECK_EQ(vf_publish(vf, 1, idx, &idx, 1), 0);
		CHECK_EQ(vf_wait_head(vf, 1, idx, VF_TIMEOUT_MS), 16 + sizeof(struct fb_entry_out));
	}
	{
		/* Table length not a multiple of 16. */
		struct vf_desc t[2] = {
			{in, inlen, VF_DESC_F_NEXT, 1},
			{out, 4096, VF_DESC_F_WRITE, 0},
		};

		bad_indirect(t, 2, 24, VF_DESC_F_INDIRECT);
	}
	still_answers();
	{
		/* An indirect descriptor inside the table. */
		struct vf_desc t[2] = {
			{in, inlen, VF_DESC_F_NEXT, 1},
			{out, 32, VF_DESC_F_INDIRECT, 0},
		};

		bad_indirect(t, 2, 32, VF_DESC_F_INDIRECT);
	}
	still_answers();
	{
		/* A loop inside the table. */
		struct vf_desc t[2] = {
			{in, inlen, VF_DESC_F_NEXT, 1},
			{out, 4096, VF_DESC_F_WRITE | VF_DESC_F_NEXT, 1},
		};

		bad_indirect(t, 2, 32, VF_DESC_F_INDIRECT);
	}
	still_answers();
	{
		/* next beyond the table. */
		struct vf_desc t[2] = {
			{in, inlen, VF_DESC_F_NEXT, 7},
			{out, 4096, VF_DESC_F_WRITE, 0},
		};

		bad_indirect(t, 2, 32, VF_DESC_F_INDIRECT);
	}
	still_answers();
	{
		/* The table outside guest memory, and an empty one. */
		struct vf_desc d[1] = {{VF_R1_GPA + VF_R1_SIZE + 8192, 32, VF_DESC_F_INDIRECT, 0}};

		bad_chain(d, 1);
		still_answers();
		bad_indirect(NULL, 0, 0, VF_DESC_F_INDIRECT);
	}
	still_answers();
	{
		/* Readable after writable inside the table. */
		struct vf_desc t[3] = {
			{in, inlen, VF_DESC_F_NEXT, 1},
			{out, 4096, VF_DESC_F_WRITE | VF_DESC_F_NEXT, 2},
			{in, 16, 0, 0},
		};

		bad_indirect(t, 3, 48, VF_DESC_F_INDIRECT);
	}
	still_answers();
}

TEST_MAIN()

/* ---- DAX: SETUPMAPPING and REMOVEMAPPING reach the VMM on the back-end channel ---------------- */

/* The fs-map / fs-unmap message of the back-end channel (docs/virtio.md, "DAX"). */
struct dax_msg {
	struct vf_msg_hdr h;
	uint64_t fd_offset[8], cache_offset[8], len[8], flags[8];
} __attribute__((packed));

/* Receive one back-end request (and its fd, or -1) as the VMM. */
static void dax_recv(struct dax_msg *m, int *ret_fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {m, sizeof(*m)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *c;

	CHECK_OK(vf_io_wait(vf->backend, POLLIN));
	CHECK_EQ(recvmsg(vf->backend, &mh, MSG_WAITALL | MSG_CMSG_CLOEXEC), (ssize_t)sizeof(*m));
	CHECK_EQ(m->h.size, sizeof(*m) - sizeof(m->h));
	*ret_fd = -1;
	c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
}

/* The VMM's answer to back-end request @req: 0 or a negative errno. */
static void dax_ack(uint32_t req, int64_t answer)
{
	struct {
		struct vf_msg_hdr h;
		uint64_t v;
	} __attribute__((packed)) ack = {{req, VF_MSG_VERSION | VF_MSG_REPLY, 8}, (uint64_t)answer};

	CHECK_EQ(write(vf->backend, &ack, sizeof(ack)), (ssize_t)sizeof(ack));
}

/* Send @rq on queue 1, slot 0, without waiting for the reply. */
static void submit(struct fbreq *rq)
{
	fbreq_finish(rq);
	CHECK_EQ(vf_submit(vf, 1, 0, rq->buf, rq->len, 4096), 0);
}

static int complete(void)
{
	struct fb_out_header oh;

	CHECK_EQ(vf_complete(vf, 1, 0, &oh, sizeof(oh)), sizeof(oh));
	return oh.error;
}

TEST(dax_mapping_reaches_the_vmm_with_the_file)
{
	struct vf_config cfg = VF_CONFIG_DEFAULT;
	struct fb_setupmapping_in si;
	struct fb_removemapping_in ri = {.count = 1};
	struct fb_removemapping_one one = {.moffset = 2 << 20, .len = 4096};
	struct fb_init_out io;
	struct fb_entry_out eo;
	struct dax_msg m;
	uint8_t data[8192];
	char path[256];
	uint64_t fh;
	void *map;
	int fd, hfd;

	cfg.kind = VF_FS_PASSTHROUGH;
	cfg.backend_req = 1;
	fresh_cfg(&cfg);
	/* The guest offered MAP_ALIGNMENT (as one with a cache window does): it is taken. */
	io = FBREP_AS(&rep, struct fb_init_out);
	CHECK(io.flags & FB_MAP_ALIGNMENT);
	CHECK_EQ(io.map_alignment, 12);

	CHECK_EQ(do_create(FB_ROOT_ID, "dax", &eo, &fh), 0);
	fill(data, sizeof(data), 3);
	snprintf(path, sizeof(path), "%s/dax", src);
	hfd = open(path, O_WRONLY);
	CHECK_OK(hfd);
	CHECK_EQ(pwrite(hfd, data, sizeof(data), 0), (ssize_t)sizeof(data));
	close(hfd);

	/* SETUPMAPPING of the file's second page at 2 MiB of the window, read-only. */
	si = (struct fb_setupmapping_in){.fh = fh, .foffset = 4096, .len = 4096,
					 .flags = FB_SETUPMAPPING_FLAG_READ, .moffset = 2 << 20};
	fbreq_start(&q, FB_SETUPMAPPING, next_unique(), eo.nodeid);
	fbreq_put(&q, &si, sizeof(si));
	submit(&q);
	dax_recv(&m, &fd);
	CHECK_EQ(m.h.request, 6);
	CHECK_EQ(m.fd_offset[0], 4096);
	CHECK_EQ(m.cache_offset[0], 2 << 20);
	CHECK_EQ(m.len[0], 4096);
	CHECK_EQ(m.len[1], 0);
	CHECK(fd >= 0);
	/* The fd is the guest's file: what the VMM maps is its data. */
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 4096);
	CHECK(map != MAP_FAILED);
	CHECK_EQ(memcmp(map, data + 4096, 4096), 0);
	munmap(map, 4096);
	close(fd);
	dax_ack(6, 0);
	CHECK_EQ(complete(), 0);

	/* The VMM refuses a mapping: the guest gets the errno, the device goes on. */
	si.moffset = 4 << 20;
	fbreq_start(&q, FB_SETUPMAPPING, next_unique(), eo.nodeid);
	fbreq_put(&q, &si, sizeof(si));
	submit(&q);
	dax_recv(&m, &fd);
	if (fd >= 0)
		close(fd);
	dax_ack(6, -ENOMEM);
	CHECK_EQ(complete(), -ENOMEM);

	/* REMOVEMAPPING of the first. */
	fbreq_start(&q, FB_REMOVEMAPPING, next_unique(), eo.nodeid);
	fbreq_put(&q, &ri, sizeof(ri));
	fbreq_put(&q, &one, sizeof(one));
	submit(&q);
	dax_recv(&m, &fd);
	CHECK_EQ(fd, -1);
	CHECK_EQ(m.h.request, 7);
	CHECK_EQ(m.cache_offset[0], 2 << 20);
	CHECK_EQ(m.len[0], 4096);
	dax_ack(7, 0);
	CHECK_EQ(complete(), 0);

	/* A read-only handle cannot be mapped for writing. */
	CHECK_EQ(do_release(eo.nodeid, fh, 0), 0);
	CHECK_EQ(do_open(eo.nodeid, O_RDONLY, &fh), 0);
	si = (struct fb_setupmapping_in){.fh = fh, .foffset = 0, .len = 4096,
					 .flags = FB_SETUPMAPPING_FLAG_WRITE, .moffset = 0};
	fbreq_start(&q, FB_SETUPMAPPING, next_unique(), eo.nodeid);
	fbreq_put(&q, &si, sizeof(si));
	CHECK_EQ(call(), -EACCES);
	CHECK_EQ(do_release(eo.nodeid, fh, 0), 0);
}

/* Without the channel (QEMU 7.2 has no window) DAX is not negotiated. */
TEST(no_backend_channel_no_dax)
{
	struct fb_setupmapping_in si = {.len = 4096, .flags = FB_SETUPMAPPING_FLAG_READ};
	struct fb_entry_out eo;
	uint64_t fh;

	fresh(1);
	CHECK(!(FBREP_AS(&rep, struct fb_init_out).flags & FB_MAP_ALIGNMENT));
	CHECK_EQ(do_create(FB_ROOT_ID, "f", &eo, &fh), 0);
	si.fh = fh;
	fbreq_start(&q, FB_SETUPMAPPING, next_unique(), eo.nodeid);
	fbreq_put(&q, &si, sizeof(si));
	CHECK(call() < 0);
	CHECK_EQ(do_release(eo.nodeid, fh, 0), 0);
}
