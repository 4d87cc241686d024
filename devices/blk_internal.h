/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-blk internals shared by the device model and its I/O engines. */
#ifndef VMMIO_BLK_INTERNAL_H
#define VMMIO_BLK_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_blk.h>

#include <vmmio/blk.h>
#include <vmmio/queue.h>

#include "../src/internal.h"

/*
 * Segments a popped chain may have: seg_max data segments, header and
 * status in their own descriptors, plus room for buffers that straddle
 * guest memory regions. More is a driver bug (fault SEGMENTS).
 */
#define BLK_SEG_CAP (VMMIO_BLK_SEG_MAX + 2u + 32u)

/* What the engine does for a request. */
enum blk_op {
	BLK_OP_READ,
	BLK_OP_WRITE,
	BLK_OP_FLUSH,
};

struct blk_queue;

/* One request in flight; one per queue entry, reused. */
struct blk_req {
	struct vmmio_chain c;
	struct blk_queue *q;
	struct blk_req *next_free;
	/* data segments: a window of c.seg, trimmed to the data bytes */
	struct vmmio_seg *iov;
	unsigned niov;
	unsigned char *status; /* host address of the status byte */
	uint64_t off;	       /* byte offset on the backing */
	uint32_t len;	       /* data bytes */
	uint32_t done;	       /* data bytes transferred so far */
	uint32_t used;	       /* used length on success */
	enum blk_op op;
	bool sync_data; /* writethrough: the write itself is durable */
	bool buffered;	/* O_DIRECT refused the buffers: page-cache fd */
	int inject;	/* errno the fault injection hook asked for */
};

struct blk_queue {
	struct vmmio_blk *blk;
	struct vmmio_vq *vq;
	uint16_t index;
	bool dirty;   /* used elements added, not yet published */
	bool stalled; /* stopped popping for lack of a free request */
	struct vmmio__poll poll;
	struct blk_req *free;
	struct blk_req *reqs;
	struct vmmio_seg *segs;
};

/* An I/O engine: how data, flush requests reach the backing. */
struct blk_engine {
	enum vmmio_blk_engine id;
	/* Set up for @entries requests in flight. 0 or -errno. */
	int (*init)(struct vmmio_blk *b, unsigned entries);
	void (*fini)(struct vmmio_blk *b);
	/* Start @r; may complete it at once (blk__io_done). */
	void (*submit)(struct vmmio_blk *b, struct blk_req *r);
	/* Push what submit queued to the kernel. */
	void (*kick)(struct vmmio_blk *b);
	/* Non-blocking: complete what finished. Count completed. */
	int (*reap)(struct vmmio_blk *b);
	/* Block until nothing is in flight; completions are discarded. */
	void (*drain)(struct vmmio_blk *b);
	int (*fd)(const struct vmmio_blk *b);
};

extern const struct blk_engine vmmio__blk_sync;
#ifdef VMMIO_HAVE_URING
extern const struct blk_engine vmmio__blk_uring;
#endif

struct vmmio_blk {
	struct vmmio_dev *dev;
	const struct blk_engine *eng;
	void *eng_state;
	int fd;
	int fd_buffered; /* with O_DIRECT: the same file through the cache */
	bool read_only;
	bool writeback; /* cache mode in force (virtio 1.2 §5.2.6) */
	bool punch_ok, zero_range_ok;
	uint64_t capacity; /* sectors */
	uint64_t offered;
	char id[VMMIO_BLK_ID_BYTES];
	struct virtio_blk_config cfg;
	uint16_t nq, qsize;
	uint32_t poll_ns; /* avail-ring poll window cap; 0: never */
	struct blk_queue *q;
	unsigned inflight;
	bool discarding; /* reset in progress: completions are dropped */
	const struct vmmio_host_ops *host;
	void *host_opaque;
	vmmio_blk_inject_fn inject;
	void *inject_opaque;
	struct vmmio__ratelimit rl;
};

/* The descriptor @r goes through. */
static inline int vmmio__blk_fd(const struct vmmio_blk *b,
				const struct blk_req *r)
{
	return r->buffered ? b->fd_buffered : b->fd;
}

/*
 * O_DIRECT refused @r's buffers (-EINVAL: guest buffers need not meet the
 * host's alignment rules): switch it to the page-cache descriptor.
 * Return: true if the engine should retry @r that way.
 */
static inline bool vmmio__blk_retry_buffered(const struct vmmio_blk *b,
					     struct blk_req *r, int res)
{
	if (res != -EINVAL || r->buffered || b->fd_buffered < 0 ||
	    r->op == BLK_OP_FLUSH)
		return false;
	r->buffered = true;
	return true;
}

/*
 * The engine finished @r with @res: bytes transferred (>= 0) or -errno.
 * Short transfers come back through blk__io_advance first.
 */
void vmmio__blk_io_done(struct vmmio_blk *b, struct blk_req *r, int res);
/*
 * Account @n transferred bytes of @r and trim its iov past them.
 * Return: true if the request has more to transfer.
 */
bool vmmio__blk_io_advance(struct blk_req *r, uint32_t n);

#endif
