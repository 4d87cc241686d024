/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-blk synchronous engine: preadv/pwritev2/fdatasync inline. */
/* pwritev2() and RWF_DSYNC are GNU API: the backing is an OS file. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <limits.h>
#include <unistd.h>
#include <sys/uio.h>

#include "blk_internal.h"

_Static_assert(sizeof(struct vmmio_seg) == sizeof(struct iovec) &&
		   offsetof(struct vmmio_seg, base) ==
		       offsetof(struct iovec, iov_base) &&
		   offsetof(struct vmmio_seg, len) ==
		       offsetof(struct iovec, iov_len),
	       "struct vmmio_seg must have the layout of struct iovec");

/* Transfer all of @r, resuming after short transfers. 0 or -errno. */
static int rw(struct vmmio_blk *b, struct blk_req *r)
{
	while (r->done < r->len) {
		const struct iovec *iov = (const struct iovec *)(void *)r->iov;
		int cnt = r->niov < IOV_MAX ? (int)r->niov : IOV_MAX;
		off_t off = (off_t)(r->off + r->done);
		ssize_t n;

		if (r->op == BLK_OP_READ)
			n = preadv(vmmio__blk_fd(b, r), iov, cnt, off);
		else
			n = pwritev2(vmmio__blk_fd(b, r), iov, cnt, off,
				     r->sync_data ? RWF_DSYNC : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && vmmio__blk_retry_buffered(b, r, -errno))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* the backing shrank under us */
		(void)vmmio__blk_io_advance(r, (uint32_t)n);
	}
	return 0;
}

static int sync_init(struct vmmio_blk *b, unsigned entries)
{
	(void)b;
	(void)entries;
	return 0;
}

static void sync_fini(struct vmmio_blk *b)
{
	(void)b;
}

static void sync_submit(struct vmmio_blk *b, struct blk_req *r)
{
	int res = r->inject;

	if (!res && r->op == BLK_OP_FLUSH)
		res = fdatasync(b->fd) ? -errno : 0;
	else if (!res)
		res = rw(b, r);
	vmmio__blk_io_done(b, r, res);
}

static void sync_kick(struct vmmio_blk *b)
{
	(void)b;
}

static int sync_reap(struct vmmio_blk *b)
{
	(void)b;
	return 0;
}

static void sync_drain(struct vmmio_blk *b)
{
	(void)b;
}

static int sync_fd(const struct vmmio_blk *b)
{
	(void)b;
	return -1;
}

const struct blk_engine vmmio__blk_sync = {
    .id = VMMIO_BLK_ENGINE_SYNC,
    .init = sync_init,
    .fini = sync_fini,
    .submit = sync_submit,
    .kick = sync_kick,
    .reap = sync_reap,
    .drain = sync_drain,
    .fd = sync_fd,
};
