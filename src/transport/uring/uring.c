/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * FUSE over io_uring: the rings, their entries and the queue threads (see uring.h for the
 * picture and uring_i.h for an entry's layout).
 *
 * Life of an engine:
 *   fb_uring_new()    before mounting: check that a ring can be made, offer FB_OVER_IO_URING
 *                     at INIT, set the session's init hook to fb_uring_start().
 *   fb_uring_start()  after the INIT reply, in the serving process: one ring per possible CPU
 *                     (SQE128: the FUSE command lives in the big SQE's command area), every
 *                     entry's buffers, one thread per queue; each thread registers its entries
 *                     (REGISTER) and reports back; the caller waits for all of them. A queue
 *                     that could not register a single entry makes the whole engine fall back
 *                     to /dev/fuse.
 *   queue thread      waits for completions: a completed entry holds a request; the thread
 *                     hands it to the server and answers with COMMIT_AND_FETCH, which waits
 *                     for the entry's next request. An entry the kernel ends (-ENOTCONN on
 *                     unmount or abort) is dropped; the thread leaves when it has none left,
 *                     or when fb_uring_stop() pokes the stop eventfd every ring polls.
 *   waiting requests  a request that may wait for another one (SETLKW: a lock held by a
 *                     process whose unlock comes to the same queue) is served on a thread of
 *                     its own, or the queue would deadlock. That thread puts the finished
 *                     entry on the queue's done list and pokes the queue's wake eventfd; the
 *                     queue thread then commits it. A file system that answers such a request
 *                     later (the passthrough hands its waiting locks to a waiter of its own)
 *                     lets that thread go at once. The thread stays for those that block in
 *                     setlk or flock: the ops table allows it and the transport cannot tell
 *                     beforehand.
 *
 * Why the kernel must always be answered: once FB_OVER_IO_URING is negotiated the kernel holds
 * every new request until each queue has an entry, or until a REGISTER fails. So every way out
 * of fb_uring_start() other than success sends one REGISTER the kernel must refuse
 * (uring_refuse()), which makes it give io_uring up for the connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include <fuse_backend/abi.h>
#include <fuse_backend/server.h>
#include <fuse_backend/uring.h>

#include <fuse_backend/fusedev.h>

#include "uring_i.h"
#include "sized_i.h"

/* How long a /dev/fuse worker lets FORGETs gather after one (fb_session_set_forget_gather()). */
#define FORGET_GATHER_US 1000

#define URING_PARAM	"/sys/module/fuse/parameters/enable_uring"
/* user_data of the stop and wake polls; entries use their address, never 0, 1 or ~0. */
#define UD_STOP		0
#define UD_WAKE		1
/* How long fb_uring_stop() waits for requests still served on their own threads. */
#define SLOW_WAIT_SEC	5
/* user_data of the REGISTER that uring_refuse() sends. */
#define UD_REFUSE	(~(uint64_t)0)

struct uring_queue {
	struct fb_uring *u;
	unsigned int qid;
	struct io_uring ring;
	int ring_ok;			/* ring was created */
	pthread_t thread;
	int thread_ok;			/* thread was started */
	struct fb__uring_ent *ents;	/* u->depth entries */
	void *mem;			/* their header, payload and side buffers */
	unsigned int live;		/* entries the kernel holds (queue thread only) */
	atomic_uint_fast64_t requests;	/* requests served (written by the queue thread) */
	int wake_fd;			/* eventfd: a waiting request has finished */
	pthread_mutex_t done_lock;	/* protects done */
	struct fb__uring_ent *done;	/* finished waiting requests, to commit */
};

struct fb_uring {
	struct fb_session *se;		/* borrowed */
	struct fb_server *srv;		/* borrowed, the session's */
	int fd;				/* the session's /dev/fuse fd, borrowed; -1 before start */
	unsigned int depth;
	unsigned int nr_queues;
	int pin;
	int boost;			/* raise the queue threads' priority */
	int stop_fd;			/* eventfd: readable once fb_uring_stop() was called */
	struct uring_queue *queues;	/* nr_queues */
	size_t payload_size;
	atomic_int started;		/* fb_uring_start() was entered */
	atomic_int active;		/* the rings serve requests */
	int was_active;			/* they did at some point (caller's thread only) */
	int stopped;			/* fb_uring_stop() ran (caller's thread only) */

	pthread_mutex_t lock;		/* protects reported, reg_err and slow */
	pthread_cond_t cond;		/* signalled when a queue reports or a slow thread ends */
	unsigned int reported;		/* queues that finished registering */
	int reg_err;			/* first queue failure (no entry registered), or 0 */
	unsigned int slow;		/* requests being served on their own threads */
	int slow_stuck;			/* some did not end at stop: memory must stay */
};

/* The kernel has one queue per possible CPU: count the CPUs in the "possible" list. */
static unsigned int possible_cpus(void)
{
	char buf[1024];
	unsigned int n = 0;
	ssize_t len;
	int fd;

	fd = open("/sys/devices/system/cpu/possible", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len > 0) {
			buf[len] = '\0';
			n = fb__uring_count_cpus(buf);
		}
	}
	if (n == 0) {
		int c = get_nprocs_conf();

		n = c > 0 ? (unsigned int)c : 1;
	}
	return n;
}

/* A ring for FUSE commands: 128-byte SQEs, whose command area holds struct fb_uring_cmd_req. */
static int ring_create(struct io_uring *ring, unsigned int entries)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SQE128 };

	return io_uring_queue_init_params(entries, ring, &p);
}

/* Fill a 128-byte SQE with a FUSE io_uring command on the /dev/fuse fd. */
static void prep_fuse_cmd(struct io_uring_sqe *sqe, int fd, uint32_t cmd_op, uint16_t qid,
			  uint64_t commit_id, const struct iovec *iov, unsigned int iovcnt,
			  uint64_t user_data)
{
	struct fb_uring_cmd_req req = { .commit_id = commit_id, .qid = qid };

	memset(sqe, 0, 2 * sizeof(*sqe));	/* SQE128: two of liburing's 64-byte SQEs */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = cmd_op;
	sqe->addr = (uint64_t)(uintptr_t)iov;
	sqe->len = iovcnt;
	sqe->user_data = user_data;
	memcpy((char *)sqe + offsetof(struct io_uring_sqe, addr3), &req, sizeof(req));
}

/* A free SQE, flushing the submission queue once if it is full. */
static struct io_uring_sqe *get_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

/*
 * Tell the kernel to give io_uring up for this connection: a REGISTER without buffers fails,
 * and a failed REGISTER clears the connection's io_uring mode, releasing requests it holds.
 * Uses queue 0's ring; its thread must not be running.
 */
static void uring_refuse(struct fb_uring *u)
{
	struct uring_queue *q = &u->queues[0];
	struct io_uring tmp, *ring = &q->ring;
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	int r;

	if (u->fd < 0)
		return;
	if (!q->ring_ok) {
		r = ring_create(&tmp, 1);
		if (r < 0) {
			fb_log(FB_LOG_ERR, "io_uring: cannot tell the kernel to give io_uring up "
			       "(%s): requests may hang until unmount", strerror(-r));
			return;
		}
		ring = &tmp;
	}
	sqe = get_sqe(ring);
	if (!sqe)
		goto out_exit_tmp;
	prep_fuse_cmd(sqe, u->fd, FB_IO_URING_CMD_REGISTER, 0, 0, NULL, 0, UD_REFUSE);
	r = io_uring_submit(ring);
	while (r >= 0) {
		r = io_uring_wait_cqe(ring, &cqe);
		if (r == -EINTR) {
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		r = cqe->user_data == UD_REFUSE ? -1 : 0;
		io_uring_cqe_seen(ring, cqe);
	}
out_exit_tmp:
	if (ring == &tmp)
		io_uring_queue_exit(&tmp);
}

/* Answer the request in @e (@n from the server, @written in its writer): COMMIT_AND_FETCH. */
static void queue_commit(struct uring_queue *q, struct fb__uring_ent *e, ssize_t n,
			 size_t written)
{
	struct io_uring_sqe *sqe;
	uint64_t commit_id;

	commit_id = fb__uring_ent_reply(e, n, written);
	atomic_fetch_add_explicit(&q->requests, 1, memory_order_relaxed);
	e->served = 1;
	e->reregistered = 0;

	sqe = get_sqe(&q->ring);
	if (!sqe) {	/* cannot happen: the ring has a slot per entry */
		fb_log(FB_LOG_ERR, "io_uring: queue %u: no submission slot", q->qid);
		q->live--;
		return;
	}
	prep_fuse_cmd(sqe, q->u->fd, FB_IO_URING_CMD_COMMIT_AND_FETCH, (uint16_t)q->qid,
		      commit_id, NULL, 0, (uint64_t)(uintptr_t)e);
}

/* Put the finished @e on its queue's done list and wake the queue thread to commit it. */
static void queue_done(struct uring_queue *q, struct fb__uring_ent *e)
{
	uint64_t one = 1;
	ssize_t n;

	pthread_mutex_lock(&q->done_lock);
	e->next = q->done;
	q->done = e;
	pthread_mutex_unlock(&q->done_lock);
	n = write(q->wake_fd, &one, sizeof(one));
	(void)n;
}

static void ent_complete(struct fb__completion *c, ssize_t len);

/* A thread serving one request that may wait (see the top of the file). */
static void *slow_main(void *arg)
{
	struct fb__uring_ent *e = arg;
	struct uring_queue *q = e->queue;
	struct fb_uring *u = q->u;

	/* A file system that defers the wait (the passthrough does) lets this thread go at
	 * once; ent_complete() then commits the entry when the lock is taken. */
	e->comp.fn = ent_complete;
	e->result = fb_server_handle_async(u->srv, &e->r, &e->w, &e->comp);
	if (e->result != -EINPROGRESS) {
		e->written = fb_writer_written(&e->w);
		queue_done(q, e);
	}

	pthread_mutex_lock(&u->lock);
	u->slow--;
	pthread_cond_broadcast(&u->cond);
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

/*
 * A deferred request in @c (an entry) is answered (@len > 0), or cancelled (0: the entry is
 * still committed, with an error reply, so the kernel gets it back). Any thread.
 */
static void ent_complete(struct fb__completion *c, ssize_t len)
{
	struct fb__uring_ent *e = (struct fb__uring_ent *)((char *)c -
							   offsetof(struct fb__uring_ent, comp));

	e->result = len;
	e->written = 0;
	queue_done(e->queue, e);
}

/* Serve @e's request on a thread of its own. Returns 0, or a negative errno (serve inline). */
static int slow_start(struct uring_queue *q, struct fb__uring_ent *e)
{
	struct fb_uring *u = q->u;
	pthread_attr_t attr;
	pthread_t t;
	int r;

	r = -pthread_attr_init(&attr);
	if (r < 0)
		return r;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_mutex_lock(&u->lock);
	u->slow++;
	pthread_mutex_unlock(&u->lock);
	r = -pthread_create(&t, &attr, slow_main, e);
	pthread_attr_destroy(&attr);
	if (r < 0) {
		pthread_mutex_lock(&u->lock);
		u->slow--;
		pthread_mutex_unlock(&u->lock);
	}
	return r;
}

/* Commit what the slow threads finished, and listen for the next ones. */
static void queue_wake(struct uring_queue *q)
{
	struct fb__uring_ent *e, *next;
	struct io_uring_sqe *sqe;
	uint64_t v;
	ssize_t n;

	n = read(q->wake_fd, &v, sizeof(v));
	(void)n;
	sqe = get_sqe(&q->ring);
	if (sqe) {
		io_uring_prep_poll_add(sqe, q->wake_fd, POLLIN);
		io_uring_sqe_set_data64(sqe, UD_WAKE);
	}
	pthread_mutex_lock(&q->done_lock);
	e = q->done;
	q->done = NULL;
	pthread_mutex_unlock(&q->done_lock);
	for (; e; e = next) {
		next = e->next;
		queue_commit(q, e, e->result, e->written);
	}
}

/* Serve the request in @e and queue its COMMIT_AND_FETCH. */
static void queue_serve(struct uring_queue *q, struct fb__uring_ent *e)
{
	struct fb_uring *u = q->u;
	struct fb_in_header h;
	size_t written = 0;
	ssize_t n;

	n = fb__uring_ent_request(e, &e->r, &e->w);
	if (n == 0 && fb_server_peek(&e->r, &h) == 0 && h.opcode == FB_SETLKW &&
	    slow_start(q, e) == 0)
		return;
	if (n == 0) {
		/* A deferred request keeps its entry (the kernel does not get it back, and its
		 * buffers are not reused) until ent_complete(); the queue fetches with the
		 * others meanwhile. */
		e->comp.fn = ent_complete;
		n = fb_server_handle_async(u->srv, &e->r, &e->w, &e->comp);
		if (n == -EINPROGRESS)
			return;
		written = fb_writer_written(&e->w);
	} else {
		fb_log(FB_LOG_WARNING, "io_uring: queue %u: malformed request (opcode %u, len %u, "
		       "payload %u): answered EIO", q->qid, e->in.opcode, e->in.len,
		       e->hdr->ring_ent_in_out.payload_sz);
	}
	queue_commit(q, e, n, written);
}

/*
 * The kernel completed @e with an error. The end of the connection ends the entry quietly.
 * Otherwise (a commit the kernel could not match, which leaves the entry unusable) an entry
 * that has worked before is registered once more, so a queue does not lose its entries one by
 * one; an entry that fails again is given up with a log line.
 */
static void queue_ent_ended(struct uring_queue *q, struct fb__uring_ent *e, int res)
{
	struct io_uring_sqe *sqe;

	switch (res) {
	case -ENOTCONN:		/* unmount, abort, DESTROY */
	case -ECONNABORTED:
	case -ECANCELED:
	case -ENODEV:
		q->live--;
		return;
	}
	if (e->served && !e->reregistered) {
		sqe = get_sqe(&q->ring);
		if (sqe) {
			fb_log(FB_LOG_WARNING, "io_uring: queue %u: the kernel dropped an entry "
			       "(%s); registering it again", q->qid, strerror(-res));
			e->served = 0;
			e->reregistered = 1;
			prep_fuse_cmd(sqe, q->u->fd, FB_IO_URING_CMD_REGISTER, (uint16_t)q->qid, 0,
				      e->reg_iov, 2, (uint64_t)(uintptr_t)e);
			return;
		}
	}
	q->live--;
	if (e->served || e->reregistered)
		fb_log(FB_LOG_WARNING, "io_uring: queue %u: an entry ended (%s); %u left", q->qid,
		       strerror(-res), q->live);
}

/* The completion loop, until every entry has ended or fb_uring_stop() was called. */
static void queue_loop(struct uring_queue *q)
{
	struct io_uring_cqe *cqe;
	unsigned int head, seen;
	int stop = 0, r;

	while (!stop && q->live > 0) {
		r = io_uring_submit_and_wait(&q->ring, 1);
		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
			fb_log(FB_LOG_ERR, "io_uring: queue %u: %s; the queue stops", q->qid,
			       strerror(-r));
			break;
		}
		seen = 0;
		io_uring_for_each_cqe(&q->ring, head, cqe) {
			struct fb__uring_ent *e = io_uring_cqe_get_data(cqe);

			seen++;
			if (cqe->user_data == UD_STOP)
				stop = 1;
			else if (cqe->user_data == UD_WAKE)
				queue_wake(q);
			else if (cqe->res == 0)
				queue_serve(q, e);
			else
				queue_ent_ended(q, e, cqe->res);
		}
		io_uring_cq_advance(&q->ring, seen);
	}
}

/*
 * Register every entry of @q and the stop poll. Returns 0 when at least one entry is with
 * the kernel, else the error of the first refused REGISTER (or of the submission).
 * Completions are only looked at, not consumed: a request may already have arrived, and the
 * loop serves it.
 */
static int queue_register(struct uring_queue *q)
{
	struct fb_uring *u = q->u;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	unsigned int head, refused = 0;
	int err = 0, r;

	for (unsigned int i = 0; i < u->depth; i++) {
		if (fb__uring_test_short_payload &&
		    q->ents[i].reg_iov[1].iov_len > fb__uring_test_short_payload)
			q->ents[i].reg_iov[1].iov_len -= fb__uring_test_short_payload;
		sqe = get_sqe(&q->ring);
		if (!sqe)
			return -EBUSY;
		prep_fuse_cmd(sqe, u->fd, FB_IO_URING_CMD_REGISTER, (uint16_t)q->qid, 0,
			      q->ents[i].reg_iov, 2, (uint64_t)(uintptr_t)&q->ents[i]);
	}
	sqe = get_sqe(&q->ring);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_add(sqe, u->stop_fd, POLLIN);
	io_uring_sqe_set_data64(sqe, UD_STOP);
	sqe = get_sqe(&q->ring);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_add(sqe, q->wake_fd, POLLIN);
	io_uring_sqe_set_data64(sqe, UD_WAKE);

	do {
		r = io_uring_submit(&q->ring);
	} while (r == -EINTR);
	if (r < 0)
		return r;
	q->live = u->depth;

	/* The kernel checks a REGISTER while it is submitted: a refusal is already here. */
	io_uring_for_each_cqe(&q->ring, head, cqe) {
		if (cqe->user_data != UD_STOP && cqe->user_data != UD_WAKE && cqe->res < 0) {
			refused++;
			if (!err)
				err = cqe->res;
		}
	}
	if (refused && refused < u->depth)
		fb_log(FB_LOG_DEBUG, "io_uring: queue %u: %u of %u entries refused (%s)", q->qid,
		       refused, u->depth, strerror(-err));
	return refused == u->depth ? err : 0;
}

/*
 * Raise the calling queue thread FB_URING_NICE_BOOST nice levels above where it runs (see
 * uring.h for why); without the right to, stay as is with a debug line.
 */
static void queue_boost(struct uring_queue *q)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	int cur, want;

	errno = 0;
	cur = getpriority(PRIO_PROCESS, (id_t)tid);
	if (cur == -1 && errno)
		return;
	want = cur - FB_URING_NICE_BOOST < -20 ? -20 : cur - FB_URING_NICE_BOOST;
	if (want != cur && setpriority(PRIO_PROCESS, (id_t)tid, want) < 0)
		fb_log(FB_LOG_DEBUG, "io_uring: queue %u: cannot raise priority to nice %d (%s)",
		       q->qid, want, strerror(errno));
}

static void *queue_main(void *arg)
{
	struct uring_queue *q = arg;
	struct fb_uring *u = q->u;
	sigset_t all;
	int r;

	/* Signals are for the session's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);

	if (u->pin) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(q->qid, &set);
		/* A possible but offline CPU cannot be pinned to: run anywhere. */
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			fb_log(FB_LOG_DEBUG, "io_uring: queue %u: not pinned: %s", q->qid,
			       strerror(errno));
	}

	/* Visible in ps -L, top -H, /proc/PID/task/TID/comm: fb-uring-q0, ... */
	char name[16];
	snprintf(name, sizeof(name), "fb-uring-q%u", q->qid);
	pthread_setname_np(pthread_self(), name);
	if (u->boost)
		queue_boost(q);
	r = queue_register(q);

	pthread_mutex_lock(&u->lock);
	u->reported++;
	if (r < 0 && !u->reg_err)
		u->reg_err = r;
	pthread_cond_broadcast(&u->cond);
	pthread_mutex_unlock(&u->lock);

	queue_loop(q);
	return NULL;
}

/* Give @q its entries: one allocation per entry for header and side, page-aligned payloads. */
static int queue_alloc(struct uring_queue *q)
{
	struct fb_uring *u = q->u;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t hdr_sz = (sizeof(struct fb_uring_req_header) + 63) & ~(size_t)63;
	size_t slot = u->payload_size + hdr_sz + FB__URING_SIDE_SIZE;
	char *mem;

	slot = (slot + page - 1) & ~(page - 1);
	q->ents = calloc(u->depth, sizeof(*q->ents));
	if (!q->ents)
		return -ENOMEM;
	if (posix_memalign(&q->mem, page, slot * u->depth)) {
		free(q->ents);
		q->ents = NULL;
		return -ENOMEM;
	}
	mem = q->mem;
	for (unsigned int i = 0; i < u->depth; i++) {
		char *base = mem + i * slot;

		/* payload first (page-aligned), then header, then side buffer */
		fb__uring_ent_init(&q->ents[i],
				   (struct fb_uring_req_header *)(base + u->payload_size),
				   base, u->payload_size, base + u->payload_size + hdr_sz);
		memset(q->ents[i].hdr, 0, sizeof(struct fb_uring_req_header));
		q->ents[i].queue = q;
	}
	return 0;
}

/* Say, in one line, why the session stays on /dev/fuse when INIT did not negotiate io_uring. */
static void log_not_offered(const struct fb_conn *conn)
{
	char v = 0;
	int fd;

	fd = open(URING_PARAM, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &v, 1) != 1)
			v = 0;
		close(fd);
	}
	if (fd < 0)
		fb_log(FB_LOG_WARNING, "io_uring: not offered by the kernel at INIT (no %s: kernel "
		       "older than 6.14 or without CONFIG_FUSE_IO_URING); serving over /dev/fuse",
		       URING_PARAM);
	else if (v != 'Y' && v != 'y' && v != '1')
		fb_log(FB_LOG_WARNING, "io_uring: not offered by the kernel at INIT (%s is off; "
		       "as root: echo Y > %s); serving over /dev/fuse", URING_PARAM, URING_PARAM);
	else if (!conn)
		fb_log(FB_LOG_WARNING, "io_uring: INIT was not answered; serving over /dev/fuse");
	else
		fb_log(FB_LOG_WARNING, "io_uring: not negotiated at INIT (protocol 7.%u, the "
		       "file system turned it off, or the kernel did not offer it); serving over "
		       "/dev/fuse", conn->proto_minor);
}

/* Stop and join the queue threads. */
static void stop_threads(struct fb_uring *u)
{
	uint64_t one = 1;
	ssize_t n;

	n = write(u->stop_fd, &one, sizeof(one));
	(void)n;
	for (unsigned int i = 0; i < u->nr_queues; i++) {
		if (u->queues[i].thread_ok) {
			pthread_join(u->queues[i].thread, NULL);
			u->queues[i].thread_ok = 0;
		}
	}
}

/*
 * Wait (a few seconds at most) for requests still served on their own threads. One that does
 * not end (a lock nobody releases) keeps its entry: the memory is then left allocated.
 */
static void slow_wait(struct fb_uring *u)
{
	struct timespec until;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += SLOW_WAIT_SEC;
	pthread_mutex_lock(&u->lock);
	while (u->slow > 0 && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&u->cond, &u->lock, &until);
	if (u->slow > 0) {
		u->slow_stuck = 1;
		fb_log(FB_LOG_WARNING, "io_uring: %u waiting requests did not end; their memory "
		       "stays allocated", u->slow);
	}
	pthread_mutex_unlock(&u->lock);
}

int fb_uring_start(struct fb_uring *u)
{
	const struct fb_conn *conn;
	unsigned int started = 0;
	int r;

	if (!u)
		return -EINVAL;
	if (atomic_exchange(&u->started, 1))
		return -EALREADY;

	conn = fb_server_conn(u->srv);
	if (!conn || !(conn->want & FB_OVER_IO_URING)) {
		log_not_offered(conn);
		return -EOPNOTSUPP;
	}
	u->fd = fb_session_fd(u->se);
	if (u->fd < 0) {
		fb_log(FB_LOG_WARNING, "io_uring: the session has no /dev/fuse fd; serving over "
		       "/dev/fuse");
		return -ENOTCONN;
	}
	/* Without FB_MAX_PAGES the kernel keeps its default of 32 pages per request. */
	u->payload_size = fb__uring_payload_size(conn->max_write,
						 conn->max_pages > 32 ? conn->max_pages : 32,
						 (size_t)sysconf(_SC_PAGESIZE));

	for (unsigned int i = 0; i < u->nr_queues; i++) {
		struct uring_queue *q = &u->queues[i];

		/* one slot per entry, one each for the stop and wake polls */
		r = ring_create(&q->ring, u->depth + 2);
		if (r < 0) {
			fb_log(FB_LOG_WARNING, "io_uring: cannot create ring %u (%s); serving over "
			       "/dev/fuse", i, strerror(-r));
			goto out_refuse;
		}
		q->ring_ok = 1;
		r = queue_alloc(q);
		if (r < 0) {
			fb_log(FB_LOG_WARNING, "io_uring: cannot allocate %u entries of %zu bytes "
			       "per queue (%s); serving over /dev/fuse", u->depth, u->payload_size,
			       strerror(-r));
			goto out_refuse;
		}
	}

	for (; started < u->nr_queues; started++) {
		struct uring_queue *q = &u->queues[started];

		r = -pthread_create(&q->thread, NULL, queue_main, q);
		if (r < 0) {
			fb_log(FB_LOG_WARNING, "io_uring: cannot start queue thread %u (%s); "
			       "serving over /dev/fuse", started, strerror(-r));
			break;
		}
		q->thread_ok = 1;
	}

	pthread_mutex_lock(&u->lock);
	while (u->reported < started)
		pthread_cond_wait(&u->cond, &u->lock);
	if (started == u->nr_queues && u->reg_err < 0) {
		r = u->reg_err;
		fb_log(FB_LOG_WARNING, "io_uring: the kernel refused the ring entries (%s); "
		       "serving over /dev/fuse", strerror(-r));
	}
	pthread_mutex_unlock(&u->lock);
	if (r < 0)
		goto out_stop;

	atomic_store(&u->active, 1);
	u->was_active = 1;
	/* /dev/fuse is left with FORGETs (and INTERRUPTs): gather those rather than wake for
	 * each forgotten inode. */
	fb_session_set_forget_gather(u->se, FORGET_GATHER_US);
	fb_log(FB_LOG_INFO, "io_uring: serving over %u queues x %u entries (%zu KiB payload)",
	       u->nr_queues, u->depth, u->payload_size / 1024);
	return 0;

out_stop:
	stop_threads(u);
out_refuse:
	uring_refuse(u);
	return r;
}

static void uring_init_hook(void *priv, struct fb_session *se)
{
	(void)se;
	fb_uring_start(priv);
}

int fb_uring_new(struct fb_session *se, const struct fb_uring_opts *opts, struct fb_uring **ret)
{
	struct fb_uring_opts o = { 0 };
	struct fb_uring *u;
	unsigned int depth;
	struct io_uring probe;
	int r;

	if (!se || !ret)
		return -EINVAL;
	r = fb__sized_in(&o, sizeof(o), opts, FB__URING_OPTS_SIZE_V1);
	if (r < 0)
		return r;
	opts = &o;
	depth = opts->depth ? opts->depth : FB_URING_DEPTH_DEFAULT;
	if (depth > FB_URING_DEPTH_MAX) {
		fb_log(FB_LOG_WARNING, "io_uring: depth %u is more than %u; serving over /dev/fuse",
		       depth, FB_URING_DEPTH_MAX);
		return -EINVAL;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->se = se;
	u->srv = fb_session_server(se);
	u->fd = -1;
	u->depth = depth;
	u->pin = !(opts && opts->no_pin);
	u->boost = !(opts && opts->keep_nice);
	u->nr_queues = possible_cpus();
	if (u->nr_queues > 65536) {
		r = -EINVAL;
		goto out_free;
	}
	r = pthread_mutex_init(&u->lock, NULL);
	if (r) {
		r = -r;
		goto out_free;
	}
	r = pthread_cond_init(&u->cond, NULL);
	if (r) {
		r = -r;
		goto out_destroy_lock;
	}
	u->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (u->stop_fd < 0) {
		r = -errno;
		goto out_destroy_cond;
	}
	u->queues = calloc(u->nr_queues, sizeof(*u->queues));
	if (!u->queues) {
		r = -ENOMEM;
		goto out_close_stop;
	}
	for (unsigned int i = 0; i < u->nr_queues; i++)
		u->queues[i].wake_fd = -1;
	for (unsigned int i = 0; i < u->nr_queues; i++) {
		struct uring_queue *q = &u->queues[i];

		q->u = u;
		q->qid = i;
		atomic_init(&q->requests, 0);
		q->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->wake_fd < 0) {
			r = -errno;
			goto out_close_wake;
		}
		r = -pthread_mutex_init(&q->done_lock, NULL);
		if (r < 0) {
			close(q->wake_fd);
			q->wake_fd = -1;
			goto out_close_wake;
		}
	}
	/*
	 * The rings themselves are made by fb_uring_start(), in the process that serves (a
	 * daemon forks after mounting); here one is only tried, so that io_uring is not offered
	 * at INIT when this system cannot make rings at all.
	 */
	r = ring_create(&probe, 1);
	if (r < 0) {
		fb_log(FB_LOG_WARNING, "io_uring: cannot create a ring (%s); serving over "
		       "/dev/fuse", strerror(-r));
		r = -EOPNOTSUPP;
		goto out_close_wake;
	}
	io_uring_queue_exit(&probe);

	fb_session_add_caps(se, FB_OVER_IO_URING);
	fb_session_set_init_hook(se, uring_init_hook, u);
	*ret = u;
	return 0;

out_close_wake:
	for (unsigned int i = 0; i < u->nr_queues; i++) {
		if (u->queues[i].wake_fd >= 0) {
			close(u->queues[i].wake_fd);
			pthread_mutex_destroy(&u->queues[i].done_lock);
		}
	}
	free(u->queues);
out_close_stop:
	close(u->stop_fd);
out_destroy_cond:
	pthread_cond_destroy(&u->cond);
out_destroy_lock:
	pthread_mutex_destroy(&u->lock);
out_free:
	free(u);
	return r;
}

void fb_uring_stop(struct fb_uring *u)
{
	struct fb_uring_stats st;

	if (!u || u->stopped)
		return;
	u->stopped = 1;
	stop_threads(u);
	slow_wait(u);
	/* Deferred requests hold entries: hand them back before the memory goes (their late
	 * replies are dropped). */
	fb_server_cancel_deferred(u->srv);
	fb_uring_stats(u, &st);
	atomic_store(&u->active, 0);
	if (u->was_active) {
		fb_session_set_forget_gather(u->se, 0);
		fb_log(FB_LOG_INFO, "io_uring: stopped; %" PRIu64 " requests were served over the "
		       "rings", st.requests);
	}
	/* Closing a ring cancels what the kernel still holds; only then can buffers go. */
	for (unsigned int i = 0; i < u->nr_queues && !u->slow_stuck; i++) {
		struct uring_queue *q = &u->queues[i];

		if (q->ring_ok) {
			io_uring_queue_exit(&q->ring);
			q->ring_ok = 0;
		}
		for (unsigned int j = 0; q->ents && j < u->depth; j++)
			fb__uring_ent_done(&q->ents[j]);
		free(q->ents);
		q->ents = NULL;
		free(q->mem);
		q->mem = NULL;
	}
}

void fb_uring_free(struct fb_uring *u)
{
	if (!u)
		return;
	fb_uring_stop(u);
	if (u->slow_stuck)
		return;	/* still in use by a request that never ended: leave it all */
	for (unsigned int i = 0; i < u->nr_queues; i++) {
		close(u->queues[i].wake_fd);
		pthread_mutex_destroy(&u->queues[i].done_lock);
	}
	free(u->queues);
	close(u->stop_fd);
	pthread_cond_destroy(&u->cond);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

void fb_uring_stats(const struct fb_uring *u, struct fb_uring_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!u)
		return;
	out->active = atomic_load(&u->active);
	out->queues = u->nr_queues;
	out->depth = u->depth;
	out->payload_size = u->payload_size;
	for (unsigned int i = 0; i < u->nr_queues; i++)
		out->requests += atomic_load_explicit(&u->queues[i].requests,
						      memory_order_relaxed);
}
