/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The dispatch table, the argument decoder it drives, and one handler per opcode.
 *
 * fb_server_handle() has already checked the header, split off the extensions, checked the
 * fixed argument size from the table below (fb__arg_size), copied the fixed part into req->a.in
 * (zero-padded) and decoded what follows it as the table's argument shape says
 * (fb__args_decode(): names, values, nothing trailing) into req->a. A handler maps them to the
 * operation's arguments, calls the file system, and appends the reply body; it returns 0, a
 * negative errno, or FB__NO_REPLY. LOOKUP alone still decodes its name itself (do_lookup).
 *
 * Names: NUL-terminated inside the argument area, at most FB__NAME_MAX bytes. A name that
 * names a directory entry must not be empty, ".", ".." or contain '/': the kernel never sends
 * those (LOOKUP's "." and ".." only when a file system negotiated EXPORT_SUPPORT), and a
 * hostile peer could use them to walk out of a passthrough tree. Nothing may follow the last expected item.
 *
 * Shared readers (buf.h): req->args is then always the server's private copy, so a name or
 * value checked here is the one the operation gets. For RAW opcodes the server reads the fixed
 * part from req->r into req->a.in (a copy); their handlers decide only on that copy and on the
 * reader's length, never on bytes still in the reader: WRITE and NOTIFY_REPLY leave only
 * payload there, BATCH_FORGET copies each record once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "api/server_i.h"

#define OPS  (req->s->ops)
#define FS   (req->s->fs)
#define CTX  (&req->ctx)
#define NODE (req->h.nodeid)

/* A cursor over what follows the fixed argument. */
struct cur {
	const uint8_t *p;
	size_t left;
};

static void cur_init(const struct fb__req *req, struct cur *c)
{
	c->p = req->args ? req->args + req->fixed : NULL;
	c->left = req->argslen - req->fixed;
}

/* Take a NUL-terminated string of at most @max bytes. */
static int take_str(const struct fb__req *req, struct cur *c, size_t max, const char **out)
{
	const uint8_t *nul = c->left ? memchr(c->p, 0, c->left) : NULL;
	size_t len;

	if (!nul) {
		fb_log(FB_LOG_ERR, "unique=%" PRIu64 " %s: name without NUL", req->h.unique,
		       fb_opcode_name(req->h.opcode));
		return -EINVAL;
	}
	len = (size_t)(nul - c->p);
	if (len > max) {
		fb_log(FB_LOG_ERR, "unique=%" PRIu64 " %s: name of %zu bytes", req->h.unique,
		       fb_opcode_name(req->h.opcode), len);
		return -ENAMETOOLONG;
	}
	*out = (const char *)c->p;
	c->p = nul + 1;
	c->left -= len + 1;
	return 0;
}

/* Take the name of a directory entry. */
static int take_name(const struct fb__req *req, struct cur *c, const char **out)
{
	const char *n;
	int r = take_str(req, c, FB__NAME_MAX, &n);

	if (r < 0)
		return r;
	if (n[0] == '\0' || strchr(n, '/') || strcmp(n, ".") == 0 || strcmp(n, "..") == 0) {
		fb_log(FB_LOG_ERR, "unique=%" PRIu64 " %s: invalid entry name", req->h.unique,
		       fb_opcode_name(req->h.opcode));
		return -EINVAL;
	}
	*out = n;
	return 0;
}

/* Nothing may be left after the last item. */
static int cur_end(const struct fb__req *req, const struct cur *c)
{
	if (c->left) {
		fb_log(FB_LOG_ERR, "unique=%" PRIu64 " %s: %zu trailing bytes", req->h.unique,
		       fb_opcode_name(req->h.opcode), c->left);
		return -EINVAL;
	}
	return 0;
}

/* The arguments are exactly one entry name after the fixed part. */
static int one_name(const struct fb__req *req, const char **name)
{
	struct cur c;
	int r;

	cur_init(req, &c);
	r = take_name(req, &c, name);
	return r != 0 ? r : cur_end(req, &c);
}

/* Log why the arguments of @req are refused; returns -EINVAL. */
static int bad_args(const struct fb__req *req, const char *what)
{
	fb_log(FB_LOG_ERR, "unique=%" PRIu64 " %s: %s", req->h.unique,
	       fb_opcode_name(req->h.opcode), what);
	return -EINVAL;
}

int fb__args_decode(struct fb__req *req, const struct fb__op *op, struct fb_reader *r_raw)
{
	struct fb__args *a = &req->a;
	uint32_t size;
	struct cur c;
	int r = 0;

	/* a->in is zeroed (fb__req is): a compat-size fixed part reads as zero-padded. */
	if (req->fixed > sizeof(a->in))
		return -EIO; /* a table bug */
	if (op->flags & FB__OP_RAW)
		return fb_reader_read(r_raw, &a->in, req->fixed) < 0 ? -EINVAL : 0;
	if (req->fixed)
		memcpy(&a->in, req->args, req->fixed);
	cur_init(req, &c);
	switch (op->shape) {
	case FB__ARGS_ANY:
		return 0;
	case FB__ARGS_EXACT:
		return c.left ? bad_args(req, "unexpected bytes after the fixed part") : 0;
	case FB__ARGS_NAME:
		r = take_name(req, &c, &a->name[0]);
		break;
	case FB__ARGS_NAME2:
		r = take_name(req, &c, &a->name[0]);
		if (r == 0)
			r = take_name(req, &c, &a->name[1]);
		break;
	case FB__ARGS_SYMLINK:
		r = take_name(req, &c, &a->name[0]);
		if (r == 0)
			r = take_str(req, &c, FB__SYMLINK_MAX, &a->name[1]);
		if (r == 0)
			r = cur_end(req, &c);
		if (r == 0 && a->name[1][0] == '\0')
			r = bad_args(req, "empty symlink target");
		return r;
	case FB__ARGS_XNAME:
		r = take_str(req, &c, FB__NAME_MAX, &a->name[0]);
		if (r == 0)
			r = cur_end(req, &c);
		if (r == 0 && a->name[0][0] == '\0')
			r = bad_args(req, "empty xattr name");
		return r;
	case FB__ARGS_XVALUE:
		r = take_str(req, &c, FB__NAME_MAX, &a->name[0]);
		if (r < 0)
			return r;
		/* Both SETXATTR layouts (compat and SETXATTR_EXT) start with the value's size. */
		memcpy(&size, req->args + offsetof(struct fb_setxattr_in, size), sizeof(size));
		if (a->name[0][0] == '\0' || size != c.left) {
			fb_log(FB_LOG_ERR,
			       "unique=%" PRIu64 " SETXATTR: value size %" PRIu32 " with %zu bytes",
			       req->h.unique, size, c.left);
			return -EINVAL;
		}
		if (size > FB__XATTR_MAX)
			return -E2BIG;
		a->payload = c.p;
		a->payload_len = c.left;
		return 0;
	case FB__ARGS_OPT_STR:
		if (c.left)
			r = take_str(req, &c, FB__NAME_MAX, &a->name[0]);
		break;
	case FB__ARGS_PAYLOAD:
		a->payload = c.left ? c.p : NULL;
		a->payload_len = c.left;
		return 0;
	default:
		return -EIO;
	}
	return r != 0 ? r : cur_end(req, &c);
}

/* Turn what an operation returned into 0 or a wire-safe errno (positive values are bugs). */
static int fs_ret(const struct fb__req *req, int r)
{
	return r == 0 ? 0 : fb__errno_check(req, r);
}

/*
 * Contiguous room of @size bytes for an operation that fills a buffer (readlink, getxattr,
 * listxattr, ioctl): the writer's memory when it is contiguous there, else a temporary buffer.
 * The operation gets a raw pointer, so the bytes just past it (in the writer's memory, or the
 * temporary buffer's tail) hold a guard pattern that must be intact afterwards: an operation
 * writing past its buffer is caught (logged, EIO) as a READ returning the wrong count is, not
 * left to corrupt the reply or the heap unnoticed.
 */
#define OUT_GUARD      16
#define OUT_GUARD_BYTE 0xa5

struct out_area {
	struct fb_writer saved;
	void *tmp;
	void *p;
	size_t size;
	uint8_t *guard; /* OUT_GUARD bytes after the area, or NULL (no room for them) */
	int direct;
};

static int guard_intact(const uint8_t *g)
{
	for (int i = 0; i < OUT_GUARD; i++)
		if (g[i] != OUT_GUARD_BYTE)
			return 0;
	return 1;
}

static int out_area_get(struct fb__req *req, size_t size, struct out_area *a)
{
	struct iovec v;

	a->saved = *req->w;
	a->tmp = NULL;
	a->direct = 0;
	a->size = size;
	a->guard = NULL;
	if (size == 0) {
		a->p = NULL;
		return 0;
	}
	if (fb_writer_iov(req->w, size, &v, 1) == 1) {
		a->p = v.iov_base;
		a->direct = 1;
		/* The guard only reserves writer memory; out_area_put() rewinds the writer. */
		if (fb_writer_iov(req->w, OUT_GUARD, &v, 1) == 1)
			a->guard = v.iov_base;
	} else {
		*req->w = a->saved;
		a->tmp = malloc(size + OUT_GUARD);
		if (!a->tmp)
			return -ENOMEM;
		a->p = a->tmp;
		a->guard = (uint8_t *)a->tmp + size;
	}
	if (a->guard)
		memset(a->guard, OUT_GUARD_BYTE, OUT_GUARD);
	return 0;
}

/* Keep the first @n bytes of the area as reply data (or none when @n < 0). */
static int out_area_put(struct fb__req *req, struct out_area *a, ssize_t n)
{
	struct iovec v;
	int r = 0;

	*req->w = a->saved;
	if (a->guard && !guard_intact(a->guard)) {
		fb_log(FB_LOG_ERR,
		       "unique=%" PRIu64 " %s: the operation wrote past its %zu-byte buffer",
		       req->h.unique, fb_opcode_name(req->h.opcode), a->size);
		n = -1;
		r = -EIO;
	}
	if (n > 0) {
		if (a->direct)
			r = fb_writer_iov(req->w, (size_t)n, &v, 1) == 1 ? 0 : -ERANGE;
		else
			r = fb__put(req, a->tmp, (size_t)n);
	}
	free(a->tmp);
	a->tmp = NULL;
	return r;
}

/* Encode an entry reply; if that fails, give back the lookup the operation took. */
int fb__entry_reply(struct fb__req *req, const struct fb_entry *e, int need_ino)
{
	int r;

	if (need_ino && e->ino == 0) {
		fb_log(FB_LOG_ERR, "unique=%" PRIu64 " %s: file system returned node id 0",
		       req->h.unique, fb_opcode_name(req->h.opcode));
		return -EIO;
	}
	r = fb__reply_entry(req, e);
	if (r < 0 && e->ino && OPS.forget)
		OPS.forget(FS, e->ino, 1);
	return r;
}

int fb__create_reply(struct fb__req *req, const struct fb_entry *e, const struct fb_file_info *fi)
{
	int r;

	if (e->ino == 0) {
		fb_log(FB_LOG_ERR, "unique=%" PRIu64 " %s: file system returned node id 0",
		       req->h.unique, fb_opcode_name(req->h.opcode));
		return -EIO;
	}
	r = fb__reply_create(req, e, fi);
	if (r < 0 && OPS.forget)
		OPS.forget(FS, e->ino, 1);
	return r;
}

/* The kernel encodes device numbers with new_encode_dev(). */
static dev_t decode_dev(uint32_t d)
{
	return makedev((d & 0xfff00) >> 8, (d & 0xff) | ((d >> 12) & 0xfff00));
}

/* ---- decoders ------------------------------------------------------------------------------ */

/*
 * LOOKUP's name. With FB_EXPORT_SUPPORT negotiated the kernel also looks up "." (a node by its
 * id, to open a file handle) and ".." (a directory's parent); the file system asked for them.
 */
static int lookup_name(const struct fb__req *req, const char **name)
{
	struct cur c;
	int r;

	if (!(req->s->conn.want & FB_EXPORT_SUPPORT))
		return one_name(req, name);
	cur_init(req, &c);
	r = take_str(req, &c, FB__NAME_MAX, name);
	if (r == 0 && strcmp(*name, ".") != 0 && strcmp(*name, "..") != 0)
		return one_name(req, name);
	return r < 0 ? r : cur_end(req, &c);
}

static int do_lookup(struct fb__req *req)
{
	struct fb_entry e;
	const char *name;
	int r = lookup_name(req, &name);

	if (r < 0)
		return r;
	if (!OPS.lookup)
		return -ENOSYS;
	memset(&e, 0, sizeof(e));
	r = fs_ret(req, OPS.lookup(FS, CTX, NODE, name, &e));
	return r != 0 ? r : fb__entry_reply(req, &e, 0);
}

static int do_forget(struct fb__req *req)
{
	const struct fb_forget_in *in = &req->a.in.forget;

	/* The root is never forgotten (fs.h); node id 0 names nothing. */
	if (OPS.forget && NODE != 0 && NODE != FB_ROOT_ID && in->nlookup)
		OPS.forget(FS, NODE, in->nlookup);
	return FB__NO_REPLY;
}

static int do_batch_forget(struct fb__req *req)
{
	const struct fb_batch_forget_in *in = &req->a.in.batch_forget;
	struct fb_forget_one one;
	uint64_t n;

	n = fb_reader_remaining(req->r) / sizeof(one);
	if ((uint64_t)in->count * sizeof(one) != fb_reader_remaining(req->r))
		fb_log(FB_LOG_ERR,
		       "unique=%" PRIu64 " BATCH_FORGET: count %" PRIu32
		       " does not match %zu bytes of records",
		       req->h.unique, in->count, fb_reader_remaining(req->r));
	if (in->count < n)
		n = in->count;
	for (uint64_t i = 0; i < n; i++) {
		if (fb_reader_read(req->r, &one, sizeof(one)) < 0)
			break;
		if (OPS.forget && one.nodeid != 0 && one.nodeid != FB_ROOT_ID && one.nlookup)
			OPS.forget(FS, one.nodeid, one.nlookup);
	}
	return FB__NO_REPLY;
}

static int do_getattr(struct fb__req *req)
{
	const struct fb_getattr_in *in = &req->a.in.getattr;
	struct fb_file_info fi = {0};
	struct stat st;
	double t = 0;
	int r;

	if (!OPS.getattr)
		return -ENOSYS;
	fi.fh = in->fh;
	memset(&st, 0, sizeof(st));
	r = fs_ret(req, OPS.getattr(FS, CTX, NODE, (in->getattr_flags & FB_GETATTR_FH) ? &fi : NULL,
				    &st, &t));
	return r != 0 ? r : fb__reply_attr(req, &st, t);
}

static int do_setattr(struct fb__req *req)
{
	const struct fb_setattr_in *in = &req->a.in.setattr;
	struct fb_file_info fi = {0};
	struct stat st, out;
	double t = 0;
	int r;

	if (!OPS.setattr)
		return -ENOSYS;
	memset(&st, 0, sizeof(st));
	st.st_mode = in->mode;
	st.st_uid = in->uid;
	st.st_gid = in->gid;
	st.st_size = (off_t)in->size;
	st.st_atim.tv_sec = (time_t)in->atime;
	st.st_atim.tv_nsec = in->atimensec;
	st.st_mtim.tv_sec = (time_t)in->mtime;
	st.st_mtim.tv_nsec = in->mtimensec;
	st.st_ctim.tv_sec = (time_t)in->ctime;
	st.st_ctim.tv_nsec = in->ctimensec;
	fi.fh = in->fh;
	memset(&out, 0, sizeof(out));
	r = fs_ret(req, OPS.setattr(FS, CTX, NODE, &st, in->valid,
				    (in->valid & FB_FATTR_FH) ? &fi : NULL, &out, &t));
	return r != 0 ? r : fb__reply_attr(req, &out, t);
}

static int do_readlink(struct fb__req *req)
{
	struct out_area a;
	size_t size = FB__SYMLINK_MAX;
	int r;

	if (!OPS.readlink)
		return -ENOSYS;
	if (size > fb_writer_available(req->w))
		size = fb_writer_available(req->w);
	r = out_area_get(req, size, &a);
	if (r < 0)
		return r;
	r = OPS.readlink(FS, CTX, NODE, a.p, size);
	if (r >= 0 && (size_t)r > size) {
		fb_log(FB_LOG_ERR, "unique=%" PRIu64 " READLINK: %d bytes for a %zu-byte buffer",
		       req->h.unique, r, size);
		r = -EIO;
	}
	if (r < 0) {
		out_area_put(req, &a, -1);
		return fb__errno_check(req, r);
	}
	return out_area_put(req, &a, r);
}

static int do_symlink(struct fb__req *req)
{
	struct fb_entry e;
	int r;

	if (!OPS.symlink)
		return -ENOSYS;
	memset(&e, 0, sizeof(e));
	r = fs_ret(req, OPS.symlink(FS, CTX, req->a.name[1], NODE, req->a.name[0], &e));
	return r != 0 ? r : fb__entry_reply(req, &e, 1);
}

static int do_mknod(struct fb__req *req)
{
	const struct fb_mknod_in *in = &req->a.in.mknod;
	struct fb_entry e;
	int r;

	if (!OPS.mknod)
		return -ENOSYS;
	req->ctx.umask = in->umask;
	memset(&e, 0, sizeof(e));
	r = fs_ret(req,
		   OPS.mknod(FS, CTX, NODE, req->a.name[0], in->mode, decode_dev(in->rdev), &e));
	return r != 0 ? r : fb__entry_reply(req, &e, 1);
}

static int do_mkdir(struct fb__req *req)
{
	const struct fb_mkdir_in *in = &req->a.in.mkdir;
	struct fb_entry e;
	int r;

	if (!OPS.mkdir)
		return -ENOSYS;
	req->ctx.umask = in->umask;
	memset(&e, 0, sizeof(e));
	r = fs_ret(req, OPS.mkdir(FS, CTX, NODE, req->a.name[0], in->mode, &e));
	return r != 0 ? r : fb__entry_reply(req, &e, 1);
}

static int do_unlink(struct fb__req *req)
{
	if (!OPS.unlink)
		return -ENOSYS;
	return fs_ret(req, OPS.unlink(FS, CTX, NODE, req->a.name[0]));
}

static int do_rmdir(struct fb__req *req)
{
	if (!OPS.rmdir)
		return -ENOSYS;
	return fs_ret(req, OPS.rmdir(FS, CTX, NODE, req->a.name[0]));
}

static int rename_common(struct fb__req *req, uint64_t newdir, uint32_t flags)
{
	if (!OPS.rename)
		return -ENOSYS;
	return fs_ret(req,
		      OPS.rename(FS, CTX, NODE, req->a.name[0], newdir, req->a.name[1], flags));
}

static int do_rename(struct fb__req *req)
{
	const struct fb_rename_in *in = &req->a.in.rename;

	return rename_common(req, in->newdir, 0);
}

static int do_rename2(struct fb__req *req)
{
	const struct fb_rename2_in *in = &req->a.in.rename2;

	return rename_common(req, in->newdir, in->flags);
}

static int do_link(struct fb__req *req)
{
	const struct fb_link_in *in = &req->a.in.link;
	struct fb_entry e;
	int r;

	if (!OPS.link)
		return -ENOSYS;
	memset(&e, 0, sizeof(e));
	r = fs_ret(req, OPS.link(FS, CTX, in->oldnodeid, NODE, req->a.name[0], &e));
	return r != 0 ? r : fb__entry_reply(req, &e, 1);
}

static int open_common(struct fb__req *req, int dir)
{
	const struct fb_open_in *in = &req->a.in.open;
	struct fb_file_info fi = {0};
	int r;

	if (dir ? !OPS.opendir : !OPS.open)
		return -ENOSYS;
	if (dir)
		r = OPS.opendir(FS, CTX, NODE, (int)in->flags, &fi);
	else
		r = OPS.open(FS, CTX, NODE, (int)in->flags, &fi);
	r = fs_ret(req, r);
	return r != 0 ? r : fb__reply_open(req, &fi);
}

static int do_open(struct fb__req *req)
{
	return open_common(req, 0);
}

static int do_opendir(struct fb__req *req)
{
	return open_common(req, 1);
}

static int do_read(struct fb__req *req)
{
	const struct fb_read_in *in = &req->a.in.read;
	size_t before = fb_writer_written(req->w);
	size_t size, done;
	int r;

	if (!OPS.read)
		return -ENOSYS;
	size = in->size;
	if (size > fb_writer_available(req->w))
		size = fb_writer_available(req->w);
	req->data_max = size;
	r = OPS.read(FS, CTX, NODE, in->fh, req->w, (uint32_t)size, in->offset, (int)in->flags);
	if (r < 0)
		return fb__errno_check(req, r);
	done = fb_writer_written(req->w) - before;
	if ((size_t)r != done || done > size) {
		fb_log(FB_LOG_ERR, "unique=%" PRIu64 " READ: returned %d, wrote %zu of %zu bytes",
		       req->h.unique, r, done, size);
		return -EIO;
	}
	return 0;
}

static int do_write(struct fb__req *req)
{
	const struct fb_write_in *in = &req->a.in.write;
	struct fb_write_out out = {0};
	int r;

	if (in->size != fb_reader_remaining(req->r) || in->size > req->s->conn.max_write) {
		fb_log(FB_LOG_ERR,
		       "unique=%" PRIu64 " WRITE: size %" PRIu32 " with %zu bytes of "
		       "data (max_write %" PRIu32 ")",
		       req->h.unique, in->size, fb_reader_remaining(req->r),
		       req->s->conn.max_write);
		return -EINVAL;
	}
	if (!OPS.write)
		return -ENOSYS;
	req->data_max = in->size;
	r = OPS.write(FS, CTX, NODE, in->fh, req->r, in->size, in->offset, in->write_flags,
		      (int)in->flags);
	if (r < 0)
		return fb__errno_check(req, r);
	if ((uint32_t)r > in->size) {
		fb_log(FB_LOG_ERR, "unique=%" PRIu64 " WRITE: wrote %d of %" PRIu32 " bytes",
		       req->h.unique, r, in->size);
		return -EIO;
	}
	out.size = (uint32_t)r;
	return fb__put(req, &out, sizeof(out));
}

static int do_statfs(struct fb__req *req)
{
	struct statvfs st;
	int r;

	if (!OPS.statfs)
		return -ENOSYS;
	memset(&st, 0, sizeof(st));
	r = fs_ret(req, OPS.statfs(FS, CTX, NODE, &st));
	return r != 0 ? r : fb__reply_statfs(req, &st);
}

static int release_common(struct fb__req *req, int dir)
{
	const struct fb_release_in *in = &req->a.in.release;

	/* The kernel cannot act on a failed release: a missing op is success. */
	if (dir)
		return OPS.releasedir
			       ? fs_ret(req, OPS.releasedir(FS, CTX, NODE, in->fh, (int)in->flags))
			       : 0;
	return OPS.release ? fs_ret(req, OPS.release(FS, CTX, NODE, in->fh, (int)in->flags,
						     in->release_flags, in->lock_owner))
			   : 0;
}

static int do_release(struct fb__req *req)
{
	return release_common(req, 0);
}

static int do_releasedir(struct fb__req *req)
{
	return release_common(req, 1);
}

static int do_fsync(struct fb__req *req)
{
	const struct fb_fsync_in *in = &req->a.in.fsync;

	if (!OPS.fsync)
		return -ENOSYS;
	return fs_ret(req, OPS.fsync(FS, CTX, NODE, in->fh, in->fsync_flags & FB_FSYNC_FDATASYNC));
}

static int do_fsyncdir(struct fb__req *req)
{
	const struct fb_fsync_in *in = &req->a.in.fsync;

	if (!OPS.fsyncdir)
		return -ENOSYS;
	return fs_ret(req,
		      OPS.fsyncdir(FS, CTX, NODE, in->fh, in->fsync_flags & FB_FSYNC_FDATASYNC));
}

static int do_setxattr(struct fb__req *req)
{
	const struct fb_setxattr_in *in = &req->a.in.setxattr;

	if (!OPS.setxattr)
		return -ENOSYS;
	return fs_ret(req, OPS.setxattr(FS, CTX, NODE, req->a.name[0], req->a.payload, in->size,
					(int)in->flags, in->setxattr_flags));
}

/* GETXATTR (@name != NULL) and LISTXATTR. */
static int xattr_get(struct fb__req *req, const char *name, uint32_t size)
{
	struct fb_getxattr_out out = {0};
	struct out_area a;
	size_t cap = size;
	int r;

	if (name ? !OPS.getxattr : !OPS.listxattr)
		return -ENOSYS;
	if (size == 0) {
		r = name ? OPS.getxattr(FS, CTX, NODE, name, NULL, 0)
			 : OPS.listxattr(FS, CTX, NODE, NULL, 0);
		if (r < 0)
			return fb__errno_check(req, r);
		out.size = (uint32_t)r;
		return fb__put(req, &out, sizeof(out));
	}
	if (cap > FB__XATTR_MAX)
		cap = FB__XATTR_MAX;
	if (cap > fb_writer_available(req->w))
		cap = fb_writer_available(req->w);
	if (cap == 0)
		return -ERANGE; /* 0 would turn the call into a size query */
	r = out_area_get(req, cap, &a);
	if (r < 0)
		return r;
	r = name ? OPS.getxattr(FS, CTX, NODE, name, a.p, cap)
		 : OPS.listxattr(FS, CTX, NODE, a.p, cap);
	if (r >= 0 && (size_t)r > cap) {
		fb_log(FB_LOG_ERR, "unique=%" PRIu64 " %s: %d bytes for a %zu-byte buffer",
		       req->h.unique, fb_opcode_name(req->h.opcode), r, cap);
		r = -EIO;
	}
	if (r < 0) {
		out_area_put(req, &a, -1);
		return fb__errno_check(req, r);
	}
	return out_area_put(req, &a, r);
}

static int do_getxattr(struct fb__req *req)
{
	const struct fb_getxattr_in *in = &req->a.in.getxattr;

	return xattr_get(req, req->a.name[0], in->size);
}

static int do_listxattr(struct fb__req *req)
{
	const struct fb_getxattr_in *in = &req->a.in.getxattr;

	return xattr_get(req, NULL, in->size);
}

static int do_removexattr(struct fb__req *req)
{
	if (!OPS.removexattr)
		return -ENOSYS;
	return fs_ret(req, OPS.removexattr(FS, CTX, NODE, req->a.name[0]));
}

static int do_flush(struct fb__req *req)
{
	const struct fb_flush_in *in = &req->a.in.flush;

	if (!OPS.flush)
		return -ENOSYS;
	return fs_ret(req, OPS.flush(FS, CTX, NODE, in->fh, in->lock_owner));
}

static int readdir_common(struct fb__req *req, int plus)
{
	const struct fb_read_in *in = &req->a.in.read;
	struct fb_dirbuf b;
	int r;

	if (plus ? !OPS.readdirplus : !OPS.readdir)
		return -ENOSYS;
	fb__dirbuf_init(&b, req->w, in->size, plus, fb__minor(req->s));
	if (plus)
		r = OPS.readdirplus(FS, CTX, NODE, in->fh, in->offset, &b);
	else
		r = OPS.readdir(FS, CTX, NODE, in->fh, in->offset, &b);
	if (r != 0 && b.added > 0) {
		/* Entries already added hold lookups: send them, the error comes next time. */
		fb_log(FB_LOG_DEBUG, "unique=%" PRIu64 " %s: %d after %d entries", req->h.unique,
		       fb_opcode_name(req->h.opcode), r, b.added);
		return 0;
	}
	return fs_ret(req, r);
}

static int do_readdir(struct fb__req *req)
{
	return readdir_common(req, 0);
}

static int do_readdirplus(struct fb__req *req)
{
	return readdir_common(req, 1);
}

static int do_getlk(struct fb__req *req)
{
	const struct fb_lk_in *in = &req->a.in.lk;
	struct fb_lk_out out;
	struct fb_lock lk;
	int r;

	if (!OPS.getlk)
		return -ENOSYS;
	lk.start = in->lk.start;
	lk.end = in->lk.end;
	lk.type = in->lk.type;
	lk.pid = in->lk.pid;
	r = fs_ret(req, OPS.getlk(FS, CTX, NODE, in->fh, in->owner, &lk));
	if (r < 0)
		return r;
	memset(&out, 0, sizeof(out));
	out.lk.start = lk.start;
	out.lk.end = lk.end;
	out.lk.type = lk.type;
	out.lk.pid = lk.pid;
	return fb__put(req, &out, sizeof(out));
}

static int do_setlk(struct fb__req *req)
{
	int sleep = req->h.opcode == FB_SETLKW;
	const struct fb_lk_in *in = &req->a.in.lk;
	struct fb_lock lk;

	/* A peer that never sends INTERRUPT could not get a waiting lock back: refuse to wait
	 * (unlocking never waits). */
	if (sleep && in->lk.type != F_UNLCK && (fb__tflags(req->s) & FB_TRANSPORT_NO_INTERRUPT))
		return -EOPNOTSUPP;
	if (in->lk_flags & FB_LK_FLOCK) {
		int op;

		switch (in->lk.type) {
		case F_RDLCK:
			op = LOCK_SH;
			break;
		case F_WRLCK:
			op = LOCK_EX;
			break;
		case F_UNLCK:
			op = LOCK_UN;
			break;
		default:
			return -EINVAL;
		}
		if (!sleep)
			op |= LOCK_NB;
		if (!OPS.flock)
			return -ENOSYS;
		return fs_ret(req, OPS.flock(FS, CTX, NODE, in->fh, in->owner, op));
	}
	if (!OPS.setlk)
		return -ENOSYS;
	lk.start = in->lk.start;
	lk.end = in->lk.end;
	lk.type = in->lk.type;
	lk.pid = in->lk.pid;
	return fs_ret(req, OPS.setlk(FS, CTX, NODE, in->fh, in->owner, &lk, sleep));
}

static int do_access(struct fb__req *req)
{
	const struct fb_access_in *in = &req->a.in.access;

	if (!OPS.access)
		return -ENOSYS;
	return fs_ret(req, OPS.access(FS, CTX, NODE, in->mask));
}

static int do_create(struct fb__req *req)
{
	const struct fb_create_in *in = &req->a.in.create;
	struct fb_file_info fi = {0};
	struct fb_entry e;
	int r;

	if (!OPS.create)
		return -ENOSYS;
	req->ctx.umask = in->umask;
	memset(&e, 0, sizeof(e));
	r = fs_ret(req,
		   OPS.create(FS, CTX, NODE, req->a.name[0], in->mode, (int)in->flags, &e, &fi));
	return r != 0 ? r : fb__create_reply(req, &e, &fi);
}

static int do_tmpfile(struct fb__req *req)
{
	const struct fb_create_in *in = &req->a.in.create;
	struct fb_file_info fi = {0};
	struct fb_entry e;
	int r;

	/* The kernel sends the name of its placeholder dentry ("/"): checked, not used. */
	if (!OPS.tmpfile)
		return -ENOSYS;
	req->ctx.umask = in->umask;
	memset(&e, 0, sizeof(e));
	r = fs_ret(req, OPS.tmpfile(FS, CTX, NODE, in->mode, (int)in->flags, &e, &fi));
	return r != 0 ? r : fb__create_reply(req, &e, &fi);
}

static int do_bmap(struct fb__req *req)
{
	const struct fb_bmap_in *in = &req->a.in.bmap;
	struct fb_bmap_out out;
	uint64_t block;
	int r;

	if (!OPS.bmap)
		return -ENOSYS;
	block = in->block;
	r = fs_ret(req, OPS.bmap(FS, CTX, NODE, in->blocksize, in->block, &block));
	if (r < 0)
		return r;
	out.block = block;
	return fb__put(req, &out, sizeof(out));
}

static int do_ioctl(struct fb__req *req)
{
	const struct fb_ioctl_in *in = &req->a.in.ioctl;
	struct fb_ioctl_out out;
	struct out_area a;
	size_t in_len = req->a.payload_len;
	uint32_t out_size;
	int r;

	/* Unrestricted ioctls need retries with addresses in the caller: not supported. */
	if (in->flags & FB_IOCTL_UNRESTRICTED)
		return -ENOSYS;
	if (in->in_size != in_len || in->in_size > FB__IOCTL_MAX || in->out_size > FB__IOCTL_MAX) {
		fb_log(FB_LOG_ERR,
		       "unique=%" PRIu64 " IOCTL: in_size %" PRIu32 " with %zu bytes, "
		       "out_size %" PRIu32,
		       req->h.unique, in->in_size, in_len, in->out_size);
		return -EINVAL;
	}
	if (!OPS.ioctl)
		return -ENOSYS;
	out_size = in->out_size;
	if (fb_writer_available(req->w) < sizeof(out) + out_size)
		return -ERANGE;
	memset(&out, 0, sizeof(out));
	r = fb__put(req, &out, sizeof(out));
	if (r < 0)
		return r;
	r = out_area_get(req, out_size, &a);
	if (r < 0)
		return r;
	r = OPS.ioctl(FS, CTX, NODE, in->fh, in->flags, in->cmd, req->a.payload, in->in_size, a.p,
		      &out_size);
	if (r >= 0 && out_size > in->out_size) {
		fb_log(FB_LOG_ERR,
		       "unique=%" PRIu64 " IOCTL: %" PRIu32 " output bytes for %" PRIu32,
		       req->h.unique, out_size, in->out_size);
		r = -EIO;
	}
	if (r < 0) {
		out_area_put(req, &a, -1);
		return fb__errno_check(req, r);
	}
	out.result = r;
	r = out_area_put(req, &a, out_size);
	if (r < 0)
		return r;
	return fb_writer_pwrite(req->w, fb_writer_written(req->w) - out_size - sizeof(out), &out,
				sizeof(out)) < 0
		       ? -ERANGE
		       : 0;
}

static int do_poll(struct fb__req *req)
{
	const struct fb_poll_in *in = &req->a.in.poll;
	struct fb_poll_out out = {0};
	uint32_t revents = 0;
	int r;

	if (!OPS.poll)
		return -ENOSYS;
	r = fs_ret(req, OPS.poll(FS, CTX, NODE, in->fh, in->kh, in->flags, in->events, &revents));
	if (r < 0)
		return r;
	out.revents = revents;
	return fb__put(req, &out, sizeof(out));
}

static int do_notify_reply(struct fb__req *req)
{
	struct fb_server *s = req->s;
	const struct fb_notify_retrieve_in *in = &req->a.in.notify_retrieve;
	fb_retrieve_fn fn;
	void *priv;

	if (in->size != fb_reader_remaining(req->r)) {
		fb_log(FB_LOG_ERR,
		       "unique=%" PRIu64 " NOTIFY_REPLY: size %" PRIu32 " with %zu "
		       "bytes: dropped",
		       req->h.unique, in->size, fb_reader_remaining(req->r));
		return FB__NO_REPLY;
	}
	pthread_mutex_lock(&s->retrieve_lock);
	fn = s->retrieve_fn;
	priv = s->retrieve_priv;
	pthread_mutex_unlock(&s->retrieve_lock);
	if (fn)
		fn(priv, req->h.unique, NODE, in->offset, req->r, in->size);
	return FB__NO_REPLY;
}

static int do_fallocate(struct fb__req *req)
{
	const struct fb_fallocate_in *in = &req->a.in.fallocate;

	if (!OPS.fallocate)
		return -ENOSYS;
	return fs_ret(req,
		      OPS.fallocate(FS, CTX, NODE, in->fh, (int)in->mode, in->offset, in->length));
}

static int do_lseek(struct fb__req *req)
{
	const struct fb_lseek_in *in = &req->a.in.lseek;
	struct fb_lseek_out out;
	uint64_t off = 0;
	int r;

	if (!OPS.lseek)
		return -ENOSYS;
	r = fs_ret(req, OPS.lseek(FS, CTX, NODE, in->fh, in->offset, (int)in->whence, &off));
	if (r < 0)
		return r;
	out.offset = off;
	return fb__put(req, &out, sizeof(out));
}

static int do_copy_file_range(struct fb__req *req)
{
	const struct fb_copy_file_range_in *in = &req->a.in.copy_file_range;
	uint64_t copied = 0;
	int r;

	if (!OPS.copy_file_range)
		return -ENOSYS;
	r = fs_ret(req, OPS.copy_file_range(FS, CTX, NODE, in->fh_in, in->off_in, in->nodeid_out,
					    in->fh_out, in->off_out, in->len, in->flags, &copied));
	if (r < 0)
		return r;
	if (copied > in->len) {
		fb_log(FB_LOG_ERR,
		       "unique=%" PRIu64 " COPY_FILE_RANGE: copied %" PRIu64 " of %" PRIu64,
		       req->h.unique, copied, in->len);
		return -EIO;
	}
	if (req->h.opcode == FB_COPY_FILE_RANGE_64) {
		struct fb_copy_file_range_out out = {.bytes_copied = copied};

		return fb__put(req, &out, sizeof(out));
	}
	/* The 32-bit reply: a short count is a valid answer, the caller copies the rest. */
	struct fb_write_out out = {.size = copied > UINT32_MAX ? UINT32_MAX : (uint32_t)copied};

	return fb__put(req, &out, sizeof(out));
}

static int do_setupmapping(struct fb__req *req)
{
	const struct fb_setupmapping_in *in = &req->a.in.setupmapping;

	if (!OPS.setupmapping)
		return -ENOSYS;
	return fs_ret(req, OPS.setupmapping(FS, CTX, NODE, in->fh, in->foffset, in->len, in->flags,
					    in->moffset));
}

static int do_removemapping(struct fb__req *req)
{
	const struct fb_removemapping_in *in = &req->a.in.removemapping;
	struct fb_mapping batch[64];
	const uint8_t *p;
	uint32_t done = 0;
	int r;

	if ((uint64_t)in->count * sizeof(struct fb_removemapping_one) != req->a.payload_len) {
		fb_log(FB_LOG_ERR,
		       "unique=%" PRIu64 " REMOVEMAPPING: count %" PRIu32 " with %zu "
		       "bytes",
		       req->h.unique, in->count, req->a.payload_len);
		return -EINVAL;
	}
	if (!OPS.removemapping)
		return -ENOSYS;
	p = req->a.payload;
	/* The records are not 8-byte aligned (after a 4-byte count): copy them in batches. */
	while (done < in->count) {
		uint32_t n = in->count - done < 64 ? in->count - done : 64;

		memcpy(batch, p + (size_t)done * sizeof(batch[0]), n * sizeof(batch[0]));
		r = fs_ret(req, OPS.removemapping(FS, CTX, batch, n));
		if (r < 0)
			return r;
		done += n;
	}
	return 0;
}

static int do_syncfs(struct fb__req *req)
{
	if (!OPS.syncfs)
		return -ENOSYS;
	return fs_ret(req, OPS.syncfs(FS, CTX, NODE));
}

static int do_statx(struct fb__req *req)
{
	const struct fb_statx_in *in = &req->a.in.statx;
	struct fb_file_info fi = {0};
	struct statx sx;
	double t = 0;
	int r;

	if (!OPS.statx)
		return -ENOSYS;
	fi.fh = in->fh;
	memset(&sx, 0, sizeof(sx));
	r = fs_ret(req, OPS.statx(FS, CTX, NODE, (in->getattr_flags & FB_GETATTR_FH) ? &fi : NULL,
				  in->sx_flags, in->sx_mask, &sx, &t));
	return r != 0 ? r : fb__reply_statx(req, &sx, t);
}

static int do_init(struct fb__req *req)
{
	return fb__do_init(req);
}

static int do_interrupt(struct fb__req *req)
{
	return fb__do_interrupt(req);
}

static int do_destroy(struct fb__req *req)
{
	return fb__do_destroy(req);
}

/* ---- the table ----------------------------------------------------------------------------- */

#define OP(code, fn, size, fl, shape) [FB_##code] = {fn, size, fl, FB__ARGS_##shape}
#define NONE			      0
#define NR			      (FB__OP_NO_REPLY | FB__OP_NO_TRACK)
#define DF			      FB__OP_DEFER

const struct fb__op fb__ops[] = {
	OP(LOOKUP, do_lookup, 0, DF, ANY),
	OP(FORGET, do_forget, sizeof(struct fb_forget_in), NR, ANY),
	OP(GETATTR, do_getattr, sizeof(struct fb_getattr_in), DF, ANY),
	OP(SETATTR, do_setattr, sizeof(struct fb_setattr_in), DF, ANY),
	OP(READLINK, do_readlink, 0, NONE, EXACT),
	OP(SYMLINK, do_symlink, 0, DF, SYMLINK),
	OP(MKNOD, do_mknod, sizeof(struct fb_mknod_in), DF, NAME),
	OP(MKDIR, do_mkdir, sizeof(struct fb_mkdir_in), DF, NAME),
	OP(UNLINK, do_unlink, 0, DF, NAME),
	OP(RMDIR, do_rmdir, 0, DF, NAME),
	OP(RENAME, do_rename, sizeof(struct fb_rename_in), DF, NAME2),
	OP(LINK, do_link, sizeof(struct fb_link_in), DF, NAME),
	OP(OPEN, do_open, sizeof(struct fb_open_in), DF, EXACT),
	OP(READ, do_read, sizeof(struct fb_read_in), DF, ANY),
	OP(WRITE, do_write, sizeof(struct fb_write_in), FB__OP_RAW | DF, ANY),
	OP(STATFS, do_statfs, 0, NONE, ANY),
	OP(RELEASE, do_release, sizeof(struct fb_release_in), DF, ANY),
	OP(FSYNC, do_fsync, sizeof(struct fb_fsync_in), DF, ANY),
	OP(SETXATTR, do_setxattr, sizeof(struct fb_setxattr_in), NONE, XVALUE),
	OP(GETXATTR, do_getxattr, sizeof(struct fb_getxattr_in), NONE, XNAME),
	OP(LISTXATTR, do_listxattr, sizeof(struct fb_getxattr_in), NONE, EXACT),
	OP(REMOVEXATTR, do_removexattr, 0, NONE, XNAME),
	OP(FLUSH, do_flush, sizeof(struct fb_flush_in), DF, ANY),
	OP(INIT, do_init, 8, FB__OP_NO_TRACK, ANY),
	OP(OPENDIR, do_opendir, sizeof(struct fb_open_in), DF, EXACT),
	OP(READDIR, do_readdir, sizeof(struct fb_read_in), NONE, ANY),
	OP(RELEASEDIR, do_releasedir, sizeof(struct fb_release_in), DF, ANY),
	OP(FSYNCDIR, do_fsyncdir, sizeof(struct fb_fsync_in), DF, ANY),
	OP(GETLK, do_getlk, sizeof(struct fb_lk_in), NONE, ANY),
	OP(SETLK, do_setlk, sizeof(struct fb_lk_in), DF, ANY),
	OP(SETLKW, do_setlk, sizeof(struct fb_lk_in), DF, ANY),
	OP(ACCESS, do_access, sizeof(struct fb_access_in), DF, ANY),
	OP(CREATE, do_create, sizeof(struct fb_create_in), DF, NAME),
	OP(INTERRUPT, do_interrupt, sizeof(struct fb_interrupt_in), FB__OP_NO_TRACK, ANY),
	OP(BMAP, do_bmap, sizeof(struct fb_bmap_in), NONE, ANY),
	OP(DESTROY, do_destroy, 0, FB__OP_NO_TRACK, ANY),
	OP(IOCTL, do_ioctl, sizeof(struct fb_ioctl_in), NONE, PAYLOAD),
	OP(POLL, do_poll, sizeof(struct fb_poll_in), NONE, ANY),
	OP(NOTIFY_REPLY, do_notify_reply, sizeof(struct fb_notify_retrieve_in), NR | FB__OP_RAW,
	   ANY),
	OP(BATCH_FORGET, do_batch_forget, sizeof(struct fb_batch_forget_in), NR | FB__OP_RAW, ANY),
	OP(FALLOCATE, do_fallocate, sizeof(struct fb_fallocate_in), DF, ANY),
	OP(READDIRPLUS, do_readdirplus, sizeof(struct fb_read_in), NONE, ANY),
	OP(RENAME2, do_rename2, sizeof(struct fb_rename2_in), DF, NAME2),
	OP(LSEEK, do_lseek, sizeof(struct fb_lseek_in), NONE, ANY),
	OP(COPY_FILE_RANGE, do_copy_file_range, sizeof(struct fb_copy_file_range_in), NONE, ANY),
	OP(SETUPMAPPING, do_setupmapping, sizeof(struct fb_setupmapping_in), NONE, ANY),
	OP(REMOVEMAPPING, do_removemapping, sizeof(struct fb_removemapping_in), NONE, PAYLOAD),
	OP(SYNCFS, do_syncfs, sizeof(struct fb_syncfs_in), NONE, ANY),
	OP(TMPFILE, do_tmpfile, sizeof(struct fb_create_in), NONE, OPT_STR),
	OP(STATX, do_statx, sizeof(struct fb_statx_in), NONE, ANY),
	OP(COPY_FILE_RANGE_64, do_copy_file_range, sizeof(struct fb_copy_file_range_in), NONE, ANY),
};

const uint32_t fb__ops_count = sizeof(fb__ops) / sizeof(fb__ops[0]);

size_t fb__arg_size(const struct fb_server *s, uint32_t opcode)
{
	/* conn is only read for opcodes that cannot come before INIT. */
	if (opcode >= fb__ops_count)
		return 0;
	/* INIT refuses minors before 7.27: only SETXATTR still has two layouts. */
	switch (opcode) {
	case FB_SETXATTR:
		/* The extended form only once SETXATTR_EXT is negotiated. */
		return (s->conn.want & FB_SETXATTR_EXT) ? sizeof(struct fb_setxattr_in)
							: FB_COMPAT_SETXATTR_IN_SIZE;
	default:
		return fb__ops[opcode].min_size;
	}
}
