/* SPDX-License-Identifier: Apache-2.0 */
/* libvmmio: virtio-blk device model (virtio 1.2 §5.2). */
#ifndef VMMIO_BLK_H
#define VMMIO_BLK_H

#include <vmmio/common.h>
#include <vmmio/device.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A virtio-blk device over a raw image file or a block device. It owns
 * its virtio-mmio transport (vmmio_blk_dev()): the embedder dispatches
 * register accesses and QueueNotify (vmmio_dev_notify) to that, and runs
 * the device's completions from its event loop:
 *
 *	fd = vmmio_blk_fd(blk);        // poll for POLLIN, if >= 0
 *	...on POLLIN, under the device lock:
 *	vmmio_blk_process(blk);
 *
 * Requests are parsed from the chain's byte streams (any descriptor
 * layout). A bad request (sector range past the capacity, length not a
 * multiple of 512, a data segment in the wrong direction, a bad
 * discard/write-zeroes list) completes with VIRTIO_BLK_S_IOERR; an
 * unknown type, a type whose feature was not negotiated, and unknown
 * discard/write-zeroes flags (or unmap on a discard) with
 * VIRTIO_BLK_S_UNSUPP (virtio 1.2 §5.2.6.2); the queue keeps working.
 * Segments of 0 sectors are accepted and do nothing. The used length is
 * the whole writable part (the status byte is its last byte). A
 * chain without a 16-byte readable header or without a writable status
 * byte is a driver bug: fault VMMIO_FAULT_DEVICE (NEEDS_RESET).
 *
 * Backend errors (EIO, ENOSPC, ...) fail only the request that met them.
 * FLUSH completes after fdatasync() returned: what the guest saw flushed
 * survives the host process being killed.
 *
 * Threading: the device contract of <vmmio/device.h> (one lock per
 * device); vmmio_blk_process() is queue processing and takes that lock
 * too. vmmio_blk_fd() may be read from any thread.
 */
struct vmmio_blk;

enum vmmio_blk_engine {
	VMMIO_BLK_ENGINE_AUTO, /* io_uring where the kernel has it, else sync */
	VMMIO_BLK_ENGINE_SYNC, /* preadv/pwritev inline on notify */
	VMMIO_BLK_ENGINE_URING, /* io_uring, out-of-order batched completion */
	VMMIO_BLK_ENGINE__COUNT
};

/* Segments per request offered in seg_max (and accepted). */
#define VMMIO_BLK_SEG_MAX 126u
/* Largest data segment offered in size_max. */
#define VMMIO_BLK_SIZE_MAX (1u << 20)
/* Bytes of the GET_ID serial string. */
#define VMMIO_BLK_ID_BYTES 20u
/* Segments accepted in one DISCARD / WRITE_ZEROES request. */
#define VMMIO_BLK_DISCARD_SEG_MAX 32u
/* poll_us: the default window cap, the largest accepted, and "never". */
#define VMMIO_BLK_POLL_US_DEFAULT 50u
#define VMMIO_BLK_POLL_US_MAX 1000u
#define VMMIO_BLK_POLL_OFF UINT32_MAX
/* Sectors of one discard / write-zeroes segment (1 GiB). */
#define VMMIO_BLK_DISCARD_SECTORS_MAX (1u << 21)

/*
 * Fault injection, for tests and for embedders' own fault drills (as
 * QEMU's blkdebug): called for each data, flush, discard and
 * write-zeroes request before it reaches the backend. Return 0 to let it
 * through, or a negative errno (-EIO, -ENOSPC...) that the backend then
 * reports for this request, through the engine's normal completion path
 * (on io_uring the request still completes through the ring, in its
 * turn). @type is VIRTIO_BLK_T_*, @sector and @bytes the request's
 * range (0 for FLUSH).
 */
typedef int (*vmmio_blk_inject_fn)(void *opaque, uint32_t type, uint64_t sector,
				   uint64_t bytes);

/*
 * Parameters, copied by vmmio_blk_new().
 * size:         sizeof(struct vmmio_blk_config).
 * path:         image file or block device, required. Its size must be a
 *               multiple of 512 bytes.
 * read_only:    open read-only and offer VIRTIO_BLK_F_RO; writes,
 *               discards and write-zeroes complete with IOERR.
 * direct:       O_DIRECT (host page cache off).
 * engine:       see enum vmmio_blk_engine.
 * features_off: VIRTIO_BLK_F_* and ring feature bits (1ULL << bit) not
 *               to offer, out of: SIZE_MAX, SEG_MAX, BLK_SIZE, FLUSH,
 *               CONFIG_WCE, MQ, DISCARD, WRITE_ZEROES,
 *               VIRTIO_RING_F_INDIRECT_DESC, VIRTIO_RING_F_EVENT_IDX.
 *               (RO follows read_only.)
 * serial:       GET_ID string, at most VMMIO_BLK_ID_BYTES bytes; NULL
 *               answers GET_ID with an empty id.
 * num_queues:   request queues, 0 means 1; above 1 offers
 *               VIRTIO_BLK_F_MQ. At most VMMIO_DEV_MAX_QUEUES.
 * queue_size:   entries per queue, a power of two up to 1024; 0 = 256.
 * version:      transport version (see struct vmmio_dev_config).
 * mem, host, host_opaque: as struct vmmio_dev_config; host->irq is
 *               required, host->log receives the creation errors.
 * inject, inject_opaque: optional fault injection (see above).
 * poll_us:      after completing requests, vmmio_blk_process() polls each
 *               queue's avail ring for the driver's next requests for an
 *               adaptive window (doubled when it finds some, halved when
 *               not, 1 us at least) of up to poll_us microseconds, and
 *               only then decides on the interrupt for the completions.
 *               A driver polling its used ring answers within the window:
 *               its next request needs no notification and the interrupt
 *               is usually no longer owed. Costs the calling thread up to
 *               that much CPU per completion batch. 0 =
 *               VMMIO_BLK_POLL_US_DEFAULT; VMMIO_BLK_POLL_OFF never polls;
 *               at most VMMIO_BLK_POLL_US_MAX.
 */
struct vmmio_blk_config {
	uint32_t size;
	const char *path;
	bool read_only;
	bool direct;
	enum vmmio_blk_engine engine;
	uint64_t features_off;
	const char *serial;
	uint16_t num_queues;
	uint16_t queue_size;
	uint32_t version;
	const struct vmmio_mem *mem;
	const struct vmmio_host_ops *host;
	void *host_opaque;
	vmmio_blk_inject_fn inject;
	void *inject_opaque;
	uint32_t poll_us;
};

/*
 * vmmio_blk_new() - open the backing and create the device (reset state).
 * Return: 0; -EINVAL a bad parameter or a backing size that is not a
 *         multiple of 512 (a message naming the value goes to the log
 *         hook); -ENOTSUP engine URING asked for but unavailable (not
 *         built in, or the kernel refused io_uring); -ENOMEM; or the
 *         negative errno of opening/examining the backing (-ENOENT,
 *         -EACCES, -EROFS...).
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_blk_new(const struct vmmio_blk_config *cfg,
					     struct vmmio_blk **out);

/* vmmio_blk_free() - wait for requests in flight, close, free (NULL ok). */
VMMIO_API void vmmio_blk_free(struct vmmio_blk *blk);

/* vmmio_blk_dev() - the device's virtio-mmio transport (owned by @blk). */
VMMIO_API struct vmmio_dev *vmmio_blk_dev(struct vmmio_blk *blk);

/*
 * vmmio_blk_fd() - descriptor that polls readable when completions are
 * waiting for vmmio_blk_process(); -1 with the sync engine (requests
 * complete inside the notify call).
 */
VMMIO_API int vmmio_blk_fd(const struct vmmio_blk *blk);

/*
 * vmmio_blk_process() - reap finished I/O, complete those requests
 * (status byte, used ring, one interrupt per batch) and submit requests
 * that were waiting for room in the engine. Never blocks.
 * Return: number of requests completed; -EIO the device is faulted.
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_blk_process(struct vmmio_blk *blk);

/* The engine chosen (never AUTO), capacity in 512-byte sectors, and the
 * requests submitted to the backend and not yet completed (read the last
 * under the device lock). */
VMMIO_API enum vmmio_blk_engine vmmio_blk_engine(const struct vmmio_blk *blk);
VMMIO_API uint64_t vmmio_blk_capacity(const struct vmmio_blk *blk);
VMMIO_API unsigned vmmio_blk_inflight(const struct vmmio_blk *blk);

#ifdef __cplusplus
}
#endif

#endif /* VMMIO_BLK_H */
