/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Private parts of the request server, shared by server.c (lifecycle, entry point, INIT,
 * interrupts), dispatch.c (the opcode table and decoders), reply.c (encoders), dirbuf.c and
 * notify.c.
 */
#ifndef FB_API_SERVER_I_H
#define FB_API_SERVER_I_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/fs.h>
#include <fuse_backend/server.h>

/* Protocol version we speak. */
#define FB__PROTO_MAJOR 7
#define FB__PROTO_MINOR 45
/* Oldest kernel minor accepted at INIT. */
#define FB__PROTO_MINOR_MIN 27

/* Longest name (without the NUL) accepted in a request or a notification. */
#define FB__NAME_MAX 1024
/* Longest symlink target (without the NUL). */
#define FB__SYMLINK_MAX 4095
/* Largest xattr value or list (XATTR_SIZE_MAX / XATTR_LIST_MAX). */
#define FB__XATTR_MAX 65536
/* Largest restricted ioctl input or output (_IOC_SIZE is 14 bits). */
#define FB__IOCTL_MAX 16384
/* Largest argument area (fixed part + names + values) of any request but WRITE/NOTIFY_REPLY. */
#define FB__ARGS_MAX (FB__XATTR_MAX + 2 * (FB__NAME_MAX + 1) + 4096)
/* Supplementary groups accepted in an FB_EXT_GROUPS extension (the kernel sends one). */
#define FB__GROUPS_MAX 32

#define FB__MAX_WRITE_DEFAULT (1u << 20)
#define FB__MAX_WRITE_LIMIT   (16u << 20)
#define FB__MAX_WRITE_MIN     4096u

/* Bytes of argument area and extensions a request copies into itself (struct fb__req.small)
 * rather than the heap when its reader is shared: a LOOKUP or CREATE with a name of up to ~200
 * bytes and its extensions. */
#define FB__REQ_SMALL 512

/* INTERRUPTs remembered for requests not seen yet (see fb_server.early_intr). */
#define FB__EARLY_INTR_MAX 64

/* Server states; only ever move forward, except that a failed INIT stays in NEW and a reset
 * (fb_server_reset(), or INIT / DESTROY under FB_TRANSPORT_RESTART) goes back to NEW. */
enum {
	FB__STATE_NEW = 0,	/* waiting for INIT */
	FB__STATE_READY = 1,	/* INIT answered; conn is read-only from now on */
	FB__STATE_DESTROYED = 2 /* DESTROY handled */
};

/* One request being served, linked in the server's in-flight list while its operation runs. */
struct fb__inflight {
	struct fb__inflight *next;
	struct fb__inflight *prev;
	uint64_t unique;	 /* without FB_UNIQUE_RESEND */
	atomic_int interrupted;	 /* set by INTERRUPT; read by fb_ctx_interrupted() */
	struct fb_req *deferred; /* the deferred request this entry belongs to, or NULL */
};

/* fb_req.state bits. Each is set once, with an atomic OR or compare-and-swap. */
#define FB__REQ_REPLIED	  (1u << 0) /* the owner's reply call came (whatever its outcome) */
#define FB__REQ_DONE	  (1u << 1) /* the reply is encoded; fb_req.len is valid */
#define FB__REQ_CANCELLED (1u << 2) /* cancelled (DESTROY, reset, fb_server_cancel_deferred) */
#define FB__REQ_RETURNED  (1u << 3) /* fb_server_handle_async() returned -EINPROGRESS for it */

/*
 * A request whose operation answers later (fb_ctx_defer()). Reference-counted: one reference
 * for the operation's owner (dropped by its reply), one for the server (dropped when the
 * transport got the reply through tops.complete(), or when fb_server_handle_async() answered
 * it itself), plus fb_req_ref() and short-lived ones taken while callbacks run.
 *
 * Who completes: the state bits decide it without a lock. A reply that is DONE before the
 * handler RETURNED is returned by fb_server_handle_async() like an immediate one; after it,
 * the replier calls tops.complete(). A cancellation that wins the race against the reply
 * (REPLIED not set) completes the request itself when RETURNED was set, else the handler's
 * return path does. Once CANCELLED, nothing of the handle touches the server again.
 */
struct fb_req {
	struct fb__inflight track; /* in the server's in-flight list until answered */
	atomic_uint state;	   /* FB__REQ_* */
	atomic_uint refs;
	struct fb_server *s;
	struct fb_in_header h;
	struct fb_ctx ctx; /* a copy; groups point to groups[] below, secctx is NULL */
	uint32_t groups[FB__GROUPS_MAX];
	void *token;		 /* the transport's, passed back to tops.complete() */
	struct fb_writer start;	 /* the reply memory, at the out header */
	struct fb_writer w;	 /* the reply memory, after the out header */
	size_t data_max;	 /* READ: most data bytes; WRITE: the payload size */
	ssize_t len;		 /* the encoded reply (valid with FB__REQ_DONE) */
	int cancel_returned;	 /* RETURNED was set when the cancellation won (canceller's) */
	fb_req_interrupt_fn intr_fn; /* protected by the server's intr_lock, with intr_called */
	void *intr_priv;
	int intr_called; /* intr_fn ran (or is queued to run) for INTERRUPT */
	struct fb_req *cnext; /* on a canceller's or interrupter's private list */
};

struct fb_server {
	struct fb_fs_ops ops; /* the caller's table, padded with NULLs */
	void *fs;
	struct fb_server_config cfg; /* with defaults filled in */
	struct fb_transport_ops tops; /* the caller's table, padded with zeros (all zero: none) */
	void *tpriv;

	/* With FB_TRANSPORT_RESTART: every request holds it for reading; INIT, DESTROY and
	 * fb_server_reset() hold it for writing, so a session never ends under an operation.
	 * Protects the session (state, conn, the file system's inodes) against a reset. Not
	 * taken at all without the flag. Writer-preferring, so resets are not starved. */
	pthread_rwlock_t session_lock;

	atomic_int state;	   /* FB__STATE_*; READY published with release order */
	pthread_mutex_t init_lock; /* serialises INIT handling (writes of conn) */
	struct fb_conn conn;	   /* written under init_lock before READY, then read-only */

	pthread_mutex_t intr_lock;    /* protects the inflight list and each entry's flag, and
				       * early_intr and early_next */
	struct fb__inflight inflight; /* list head (circular) */
	/* INTERRUPTs whose target was not in flight yet (0: free slot). The target may still
	 * be on its way to fb_server_handle() (read by another channel, waiting in an io_uring
	 * completion queue): it starts interrupted. Oldest overwritten first. */
	uint64_t early_intr[FB__EARLY_INTR_MAX];
	unsigned int early_next;

	/* Deferred requests handed to the transport (RETURNED) and not completed yet; protected
	 * by intr_lock. fb_server_cancel_deferred() waits on deferred_cond for it to reach 0. */
	unsigned int deferred_n;
	pthread_cond_t deferred_cond;

	pthread_mutex_t retrieve_lock; /* protects retrieve_fn and retrieve_priv */
	fb_retrieve_fn retrieve_fn;
	void *retrieve_priv;
};

/*
 * What follows an opcode's fixed argument (the kernel's FUSE_ARGS), described once in the
 * dispatch table and checked by fb__args_decode() before any handler runs. Entry names are
 * NUL-terminated, at most FB__NAME_MAX bytes, neither empty nor "." nor "..", without '/' (the
 * kernel never sends those; a hostile peer could walk out of a passthrough tree with them).
 * Unless said otherwise nothing may follow the last item.
 */
enum {
	FB__ARGS_ANY = 0, /* the fixed part; what follows is ignored (or the handler's, RAW) */
	FB__ARGS_EXACT,	  /* the fixed part only */
	FB__ARGS_NAME,	  /* one entry name */
	FB__ARGS_NAME2,	  /* two entry names: the old one, the new one */
	FB__ARGS_SYMLINK, /* an entry name, then a non-empty target of <= FB__SYMLINK_MAX */
	FB__ARGS_XNAME,	  /* one non-empty xattr name (any bytes but NUL) */
	FB__ARGS_XVALUE,  /* an xattr name, then a value of fb_setxattr_in.size bytes (payload),
			   * at most FB__XATTR_MAX (else E2BIG) */
	FB__ARGS_OPT_STR, /* nothing, or one string of <= FB__NAME_MAX (TMPFILE's placeholder) */
	FB__ARGS_PAYLOAD, /* bytes the handler checks against its fixed part (payload) */
};

/* The fixed argument of every opcode that has one (INIT's is read by fb__do_init()). */
union fb__fixed_in {
	struct fb_forget_in forget;
	struct fb_batch_forget_in batch_forget;
	struct fb_getattr_in getattr;
	struct fb_setattr_in setattr;
	struct fb_mknod_in mknod;
	struct fb_mkdir_in mkdir;
	struct fb_rename_in rename;
	struct fb_rename2_in rename2;
	struct fb_link_in link;
	struct fb_open_in open;
	struct fb_read_in read;
	struct fb_write_in write;
	struct fb_release_in release;
	struct fb_fsync_in fsync;
	struct fb_setxattr_in setxattr;
	struct fb_getxattr_in getxattr;
	struct fb_flush_in flush;
	struct fb_lk_in lk;
	struct fb_access_in access;
	struct fb_create_in create;
	struct fb_bmap_in bmap;
	struct fb_ioctl_in ioctl;
	struct fb_poll_in poll;
	struct fb_notify_retrieve_in notify_retrieve;
	struct fb_fallocate_in fallocate;
	struct fb_lseek_in lseek;
	struct fb_copy_file_range_in copy_file_range;
	struct fb_setupmapping_in setupmapping;
	struct fb_removemapping_in removemapping;
	struct fb_statx_in statx;
	uint8_t bytes[8]; /* INIT's first 8 bytes, SYNCFS, INTERRUPT: not used */
};

/* The decoded arguments: a private copy of the fixed part (zero-padded when the peer sent a
 * shorter compat layout), and what follows it, pointing into fb__req.args. */
struct fb__args {
	union fb__fixed_in in;
	const char *name[2];	/* names (and SYMLINK's target in name[1]) */
	const uint8_t *payload; /* XVALUE, PAYLOAD: the bytes after the last name, or NULL */
	size_t payload_len;
};

/* A request while it is decoded and dispatched (lives on fb_server_handle's stack). */
struct fb__req {
	struct fb_server *s;
	struct fb_in_header h;
	struct fb_ctx ctx;
	struct fb_reader *r; /* after the fixed argument, limited to the arguments */
	struct fb_writer *w; /* the reply writer, after the out header */
	const uint8_t *args; /* the whole argument area, contiguous (not for RAW ops) */
	size_t argslen;
	size_t fixed;	   /* fixed argument size for this opcode and minor */
	struct fb__args a; /* fixed part and what follows, decoded per the table */
	void *args_copy;   /* malloc'd copy of args (scattered, or shared and too big for small) */
	void *ext_copy;	   /* malloc'd copy of the extensions, likewise */
	size_t small_used; /* bytes of small[] in use */
	void *token;	   /* the transport's completion token, NULL: cannot be deferred */
	const struct fb_writer *start; /* the reply writer at the out header */
	struct fb__inflight *track;    /* the request's in-flight entry, or NULL */
	struct fb_req *d;	       /* set by fb_ctx_defer() */
	size_t data_max;	       /* READ: the size asked; WRITE: the payload size */
	uint8_t op_flags;	       /* FB__OP_* of the opcode */
	uint32_t groups[FB__GROUPS_MAX];
	/* Private copies of small argument areas and extensions of shared readers (buf.h:
	 * fb_reader_init_shared), so the common case needs no malloc. 8-byte aligned. */
	uint64_t small[FB__REQ_SMALL / 8];
};

/* Handler results besides 0 (reply written) and -errno (error reply). */
#define FB__NO_REPLY 1
#define FB__DEFERRED 2 /* the operation took the request (fb_ctx_defer()) and answers later */

typedef int (*fb__handler_fn)(struct fb__req *req);

/* Flags of a dispatch table entry. */
#define FB__OP_NO_REPLY (1u << 0) /* never answered (FORGET, BATCH_FORGET, NOTIFY_REPLY) */
#define FB__OP_RAW	(1u << 1) /* handler reads the payload from req->r itself */
#define FB__OP_NO_TRACK (1u << 2) /* not entered in the in-flight list */
#define FB__OP_DEFER	(1u << 3) /* its operation may answer later (fb_ctx_defer()) */

/* Names for logs come from fb_opcode_name() (src/abi/names.c), the one opcode-name table. */
struct fb__op {
	fb__handler_fn handler;
	uint16_t min_size; /* fixed argument size */
	uint8_t flags;
	uint8_t shape; /* FB__ARGS_*: what follows the fixed part */
};

/* dispatch.c */
extern const struct fb__op fb__ops[];
extern const uint32_t fb__ops_count;
/* Fixed argument size of @opcode (SETXATTR: as negotiated with SETXATTR_EXT). */
size_t fb__arg_size(const struct fb_server *s, uint32_t opcode);
/* Copy the fixed part of @req into req->a.in (from req->args, or for RAW opcodes read from
 * @r, which is then left at the payload) and decode and check what follows it as @op's shape
 * says (not for RAW). Returns 0 or a negative errno to answer with (logged). */
int fb__args_decode(struct fb__req *req, const struct fb__op *op, struct fb_reader *r);

/* server.c */
/* The request whose handler runs on this thread, or NULL. */
struct fb__req *fb__current_req(void);
int fb__do_init(struct fb__req *req);
int fb__do_interrupt(struct fb__req *req);
int fb__do_destroy(struct fb__req *req);
uint32_t fb__minor(const struct fb_server *s);
/* The transport's FB_TRANSPORT_* flags. */
static inline uint32_t fb__tflags(const struct fb_server *s)
{
	return s->tops.flags;
}

/*
 * Encode the reply of @req: @rc is the handler's result (0 with the body written after
 * @start's out header, or -errno). Returns what fb_server_handle() returns.
 */
ssize_t fb__encode(struct fb__req *req, const struct fb_writer *start, int rc);

/* defer.c */
/* Cancel every deferred request (see fb_server_cancel_deferred()) and wait for them. */
void fb__cancel_deferred(struct fb_server *s);
/* After the handler of @req returned: see fb_server_handle_async(). */
ssize_t fb__deferred_returned(struct fb__req *req, int rc, struct fb_writer *w);
/* Drop a reference to @d. */
void fb__req_unref(struct fb_req *d);
/* INTERRUPT found deferred request(s) with callbacks, chained through cnext: run them. */
void fb__run_interrupt_cbs(struct fb_req *list);

/* dispatch.c */
int fb__entry_reply(struct fb__req *req, const struct fb_entry *e, int need_ino);
int fb__create_reply(struct fb__req *req, const struct fb_entry *e, const struct fb_file_info *fi);

/* reply.c */
void fb__timeout_split(double t, uint64_t *sec, uint32_t *nsec);
void fb__attr_from_stat(const struct stat *st, uint32_t flags, struct fb_attr *out);
void fb__entry_out_fill(const struct fb_entry *e, struct fb_entry_out *out);
/* Check an errno returned by a file system; returns it, or -EIO (logged) when invalid. */
int fb__errno_check(const struct fb__req *req, int err);
int fb__reply_entry(struct fb__req *req, const struct fb_entry *e);
int fb__reply_attr(struct fb__req *req, const struct stat *st, double timeout);
int fb__reply_open(struct fb__req *req, const struct fb_file_info *fi);
int fb__reply_create(struct fb__req *req, const struct fb_entry *e, const struct fb_file_info *fi);
int fb__reply_statfs(struct fb__req *req, const struct statvfs *st);
int fb__reply_statx(struct fb__req *req, const struct statx *sx, double timeout);
/* Append @len bytes to the reply; -ERANGE (not -ENOSPC) when the writer cannot hold them. */
int fb__put(struct fb__req *req, const void *src, size_t len);
/* Encode a reply header at the start of the reply (position @start of @w). */
int fb__reply_header(struct fb_writer *w, size_t start, uint64_t unique, int32_t error);
/* Reset @w to @start and write an error reply. Returns the reply length or -ENOSPC. */
ssize_t fb__reply_error(struct fb_writer *w, const struct fb_writer *start, uint64_t unique,
			int err);

/* dirbuf.c */

struct fb_dirbuf {
	struct fb_writer *w;
	size_t left; /* bytes the kernel still accepts */
	int plus;    /* READDIRPLUS records */
	int added;   /* entries added */
	uint32_t minor;
	fb_dirbuf_hook hook; /* fb_dirbuf_swap_hook(); NULL: add directly */
	void *hook_priv;
};

void fb__dirbuf_init(struct fb_dirbuf *b, struct fb_writer *w, size_t size, int plus,
		     uint32_t minor);

#endif /* FB_API_SERVER_I_H */
