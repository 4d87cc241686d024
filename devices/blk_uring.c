/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-blk io_uring engine: batched submission, out-of-order completion. */
/* liburing.h itself needs the GNU API (cpu_set_t, RWF_DSYNC). */
#define _GNU_SOURCE 1
#include <errno.h>

#include "blk_internal.h"

#ifdef VMMIO_HAVE_URING
#include <liburing.h>

struct uring {
	struct io_uring ring;
	unsigned queued; /* SQEs prepared, not yet submitted */
};

static struct uring *U(const struct vmmio_blk *b)
{
	return b->eng_state;
}

static int uring_init(struct vmmio_blk *b, unsigned entries)
{
	struct uring *u;
	unsigned n = 1;
	int rc;

	while (n < entries && n < 4096)
		n <<= 1;
	u = vmmio__zalloc(b->host, b->host_opaque, sizeof(*u));
	if (!u)
		return -ENOMEM;
	rc = io_uring_queue_init(n, &u->ring, 0);
	if (rc < 0) {
		vmmio__free(b->host, b->host_opaque, u);
		return rc == -ENOMEM ? -ENOTSUP : rc;
	}
	b->eng_state = u;
	return 0;
}

static void uring_fini(struct vmmio_blk *b)
{
	struct uring *u = U(b);

	if (!u)
		return;
	io_uring_queue_exit(&u->ring);
	vmmio__free(b->host, b->host_opaque, u);
	b->eng_state = NULL;
}

static struct io_uring_sqe *get_sqe(struct uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe && io_uring_submit(&u->ring) >= 0) {
		u->queued = 0;
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

static void prep_rw1(struct io_uring_sqe *sqe, int fd, const struct blk_req *r,
		     uint64_t off)
{
	unsigned len = (unsigned)r->iov->len;

	if (r->op == BLK_OP_READ) {
		io_uring_prep_read(sqe, fd, r->iov->base, len, off);
	} else {
		io_uring_prep_write(sqe, fd, r->iov->base, len, off);
		sqe->rw_flags = r->sync_data ? RWF_DSYNC : 0;
	}
}

/* Queue (the rest of) @r. The ring holds an entry per request, so an SQE
 * is always there after a submit; -EBUSY if the kernel refuses that. */
static int prep(struct vmmio_blk *b, struct blk_req *r)
{
	struct uring *u = U(b);
	struct io_uring_sqe *sqe = get_sqe(u);
	const struct iovec *iov = (const struct iovec *)(void *)r->iov;
	uint64_t off = r->off + r->done;

	if (!sqe)
		return -EBUSY;
	if (r->inject)
		io_uring_prep_nop(sqe);
	else if (r->op == BLK_OP_FLUSH)
		io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
	else if (r->niov == 1)
		/* No iovec for the kernel to copy in. */
		prep_rw1(sqe, vmmio__blk_fd(b, r), r, off);
	else if (r->op == BLK_OP_READ)
		io_uring_prep_readv(sqe, vmmio__blk_fd(b, r), iov, r->niov,
				    off);
	else
		io_uring_prep_writev2(sqe, vmmio__blk_fd(b, r), iov, r->niov,
				      off, r->sync_data ? RWF_DSYNC : 0);
	io_uring_sqe_set_data(sqe, r);
	u->queued++;
	return 0;
}

static void uring_submit(struct vmmio_blk *b, struct blk_req *r)
{
	int rc = prep(b, r);

	if (rc)
		vmmio__blk_io_done(b, r, rc);
}

static void uring_kick(struct vmmio_blk *b)
{
	struct uring *u = U(b);

	if (u->queued && io_uring_submit(&u->ring) >= 0)
		u->queued = 0;
}

/* One completion: done, failed, or short and resubmitted. */
static void handle(struct vmmio_blk *b, struct blk_req *r, int res)
{
	if (r->inject)
		res = r->inject;
	else if (res == 0 && r->op != BLK_OP_FLUSH)
		res = -EIO; /* nothing transferred: the backing shrank */
	if (!b->discarding && vmmio__blk_retry_buffered(b, r, res)) {
		res = prep(b, r);
		if (res == 0)
			return;
	}
	if (res > 0 && r->op != BLK_OP_FLUSH &&
	    vmmio__blk_io_advance(r, (uint32_t)res) && !b->discarding) {
		res = prep(b, r);
		if (res == 0)
			return;
	}
	vmmio__blk_io_done(b, r, res < 0 ? res : 0);
}

static int uring_reap(struct vmmio_blk *b)
{
	struct uring *u = U(b);
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&u->ring, head, cqe)
	{
		handle(b, io_uring_cqe_get_data(cqe), cqe->res);
		n++;
	}
	io_uring_cq_advance(&u->ring, n);
	return (int)n;
}

static void uring_drain(struct vmmio_blk *b)
{
	struct uring *u = U(b);

	if (!u)
		return;
	uring_kick(b);
	while (b->inflight) {
		struct io_uring_cqe *cqe;
		int rc = io_uring_wait_cqe(&u->ring, &cqe);

		if (rc == -EINTR)
			continue;
		if (rc < 0)
			break; /* the ring is broken: nothing will complete */
		(void)uring_reap(b);
		uring_kick(b);
	}
}

static int uring_fd(const struct vmmio_blk *b)
{
	return U(b)->ring.ring_fd;
}

const struct blk_engine vmmio__blk_uring = {
    .id = VMMIO_BLK_ENGINE_URING,
    .init = uring_init,
    .fini = uring_fini,
    .submit = uring_submit,
    .kick = uring_kick,
    .reap = uring_reap,
    .drain = uring_drain,
    .fd = uring_fd,
};
#endif
