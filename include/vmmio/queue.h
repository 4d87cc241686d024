/* SPDX-License-Identifier: Apache-2.0 */
/* libvmmio: device side of a virtio split virtqueue (virtio 1.2 §2.7). */
#ifndef VMMIO_QUEUE_H
#define VMMIO_QUEUE_H

#include <vmmio/common.h>
#include <vmmio/mem.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A device-side split virtqueue; opaque. Devices on the mmio transport get
 * theirs from vmmio_dev_queue(); embedders with their own transport may
 * create queues directly and drive the set_* calls themselves.
 *
 * Threading: one thread at a time per queue (the embedder serializes);
 * the hooks are called from the thread that called into the queue.
 * Every value read from the rings is guest-written and checked before
 * use; a violation latches a fault (enum vmmio_fault), calls the fault
 * hook and makes every later pop/push return -EIO until reset.
 */
struct vmmio_vq;

/* Largest queue size allowed by the split ring (virtio 1.2 §2.7). */
#define VMMIO_VQ_MAX_SIZE 32768u

/*
 * A popped descriptor chain. The caller sets seg/seg_cap; pop fills the
 * rest. seg[0, nreadable) are device-readable, seg[nreadable, nseg)
 * device-writable; a descriptor that crosses regions of the memory map
 * occupies several segments. The host pointers stay valid until the chain
 * is pushed or the memory map is freed.
 */
struct vmmio_chain {
	struct vmmio_seg *seg; /* in: segment array */
	uint32_t seg_cap;      /* in: its capacity, >= 1 */
	uint16_t head;	       /* out: head descriptor index, for push */
	uint32_t nseg;	       /* out: segments used */
	uint32_t nreadable;    /* out: readable segments, first in seg[] */
	uint32_t readable_len; /* out: bytes in the readable part */
	uint32_t writable_len; /* out: bytes in the writable part */
};

/*
 * Hooks a transport installs (the mmio transport does it for its queues).
 * size: sizeof(struct vmmio_vq_hooks).
 * interrupt: required; the driver wants a used-buffer notification.
 * fault: optional; a fault was just latched on @q.
 */
struct vmmio_vq_hooks {
	uint32_t size;
	void (*interrupt)(void *opaque, struct vmmio_vq *q);
	void (*fault)(void *opaque, struct vmmio_vq *q, enum vmmio_fault fault);
};

/*
 * Queue state for snapshots. Save only while no chain is in flight.
 * features: the negotiated feature bits the queue uses
 * (VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC).
 */
struct vmmio_vq_state {
	uint16_t size;
	bool ready;
	vmmio_gpa_t desc, avail, used;
	uint16_t next_avail, next_used;
	uint16_t signalled_used;
	bool signalled_valid;
	uint64_t features;
};

/*
 * vmmio_vq_new() - create a queue in reset state (size = max_size).
 * @max_size: 1..VMMIO_VQ_MAX_SIZE, a power of two.
 * @mem:      guest memory; must outlive the queue (see vmmio_vq_set_mem).
 * @host, @opaque: allocation and log hooks, may be NULL.
 * @out:      receives the queue.
 * Return: 0; -EINVAL (bad max_size, NULL mem); -ENOMEM.
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_vq_new(uint16_t max_size,
					    const struct vmmio_mem *mem,
					    const struct vmmio_host_ops *host,
					    void *opaque,
					    struct vmmio_vq **out);

/* vmmio_vq_free() - release a queue (NULL is ignored). */
VMMIO_API void vmmio_vq_free(struct vmmio_vq *q);

/* vmmio_vq_set_hooks() - install transport hooks (NULL table: none). */
VMMIO_API void vmmio_vq_set_hooks(struct vmmio_vq *q,
				  const struct vmmio_vq_hooks *hooks,
				  void *opaque);

/*
 * vmmio_vq_set_mem() - use another memory map. Drops every cached ring
 * pointer; a ready queue is re-validated against the new map.
 * Return: 0; -EINVAL for NULL; -EIO if the ready queue's rings are not in
 *         the new map (fault RING_RANGE latched).
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_vq_set_mem(struct vmmio_vq *q,
						const struct vmmio_mem *mem);

/*
 * vmmio_vq_reset() - back to the reset state: not ready, size = max,
 * addresses 0, indexes 0, no chain in flight, fault cleared.
 */
VMMIO_API void vmmio_vq_reset(struct vmmio_vq *q);

/*
 * Setup, allowed only while the queue is not ready:
 * set_size:     0 < size <= max_size and a power of two.
 * set_addr:     ring addresses (checked when made ready).
 * set_features: negotiated features (EVENT_IDX, INDIRECT_DESC used).
 * Return: 0; -EINVAL bad value; -EBUSY if the queue is ready.
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_vq_set_size(struct vmmio_vq *q,
						 uint16_t size);
VMMIO_API VMMIO_MUST_CHECK int vmmio_vq_set_addr(struct vmmio_vq *q,
						 vmmio_gpa_t desc,
						 vmmio_gpa_t avail,
						 vmmio_gpa_t used);
VMMIO_API VMMIO_MUST_CHECK int vmmio_vq_set_features(struct vmmio_vq *q,
						     uint64_t features);

/*
 * vmmio_vq_set_ready() - make the queue live or take it down.
 * Making it ready checks the rings: desc 16-, avail 2-, used 4-byte
 * aligned, and each whole ring (event fields included) inside guest RAM
 * with overflow-safe bounds; the used ring must be writable. On success
 * next_avail/next_used start from 0.
 * Return: 0; -EIO with fault RING_ALIGN or RING_RANGE latched.
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_vq_set_ready(struct vmmio_vq *q,
						  bool ready);

/*
 * Queue accessors; same threading as the queue (one thread at a time).
 * is_ready: made ready and not taken down (a fault does not clear it).
 * is_valid: ready, rings validated and no fault latched.
 * size: the accepted QueueNum (max_size after reset); max_size: as created.
 */
VMMIO_API bool vmmio_vq_is_ready(const struct vmmio_vq *q);
VMMIO_API bool vmmio_vq_is_valid(const struct vmmio_vq *q);
VMMIO_API uint16_t vmmio_vq_size(const struct vmmio_vq *q);
VMMIO_API uint16_t vmmio_vq_max_size(const struct vmmio_vq *q);
/* Chains popped and not yet pushed or given back. */
VMMIO_API uint16_t vmmio_vq_inflight(const struct vmmio_vq *q);
VMMIO_API enum vmmio_fault vmmio_vq_fault(const struct vmmio_vq *q);

/*
 * vmmio_vq_fail() - latch a fault on behalf of a device model (a request
 * the spec calls a driver bug). Calls the fault hook; later pops return
 * -EIO. A second fault keeps the first reason.
 */
VMMIO_API void vmmio_vq_fail(struct vmmio_vq *q, enum vmmio_fault fault);

/*
 * vmmio_vq_pop() - take the next available chain.
 * Walks direct descriptors and (if negotiated) one indirect table at the
 * end of the chain, copying each descriptor once and checking every row
 * of the hostile-guest checklist (DESIGN.md 5-13).
 * @c: seg and seg_cap set by the caller; filled on success.
 * Return: 1 a chain; 0 nothing new; -EIO a fault is latched (now or
 *         before; see vmmio_vq_fault()), nothing was consumed; -EINVAL
 *         queue not ready, or @c has no segment array.
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_vq_pop(struct vmmio_vq *q,
					    struct vmmio_chain *c);

/*
 * vmmio_vq_unpop() - give back the last @n popped chains that were not
 * pushed, so the next pops return them again (re-validated).
 * Return: 0; -EINVAL if @n exceeds the popped-and-unpushed chains at the
 *         end of the pop order; -EIO faulted.
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_vq_unpop(struct vmmio_vq *q, unsigned n);

/*
 * vmmio_vq_add_used() - write a used element for a popped @head without
 * publishing it. @len is the number of bytes the device wrote.
 * Return: 0; -EINVAL if @head is not in flight or @len exceeds the
 *         chain's writable length (device bug, nothing written); -EIO.
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_vq_add_used(struct vmmio_vq *q,
						 uint16_t head, uint32_t len);

/*
 * vmmio_vq_publish() - publish the used elements added so far with one
 * release store of used.idx, then decide (EVENT_IDX or
 * VRING_AVAIL_F_NO_INTERRUPT) whether the driver wants an interrupt and
 * if so call the interrupt hook once.
 * Return: 1 interrupt wanted; 0 not wanted or nothing to publish; -EIO.
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_vq_publish(struct vmmio_vq *q);

/*
 * vmmio_vq_publish_deferred() - publish the used elements added so far
 * (the same release store of used.idx) but leave the interrupt decision
 * to the next vmmio_vq_publish(), which then decides once for every
 * element published since the last decision (EVENT_IDX: did used.idx pass
 * used_event anywhere in that range). For a device that keeps polling the
 * avail ring after completing work: a driver that is itself polling the
 * used ring sees the elements at once, and by the time the device stops
 * polling it has usually moved used_event past them, so no interrupt is
 * owed. The caller MUST call vmmio_vq_publish() before it stops (waits for
 * a notification, a backend event or a timer): until then the driver may
 * be owed an interrupt. Past 2^15 undecided elements it decides at once.
 * Return: 0; 1 (interrupt wanted, hook called) when it decided at once;
 *         -EIO; -EINVAL not ready.
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_vq_publish_deferred(struct vmmio_vq *q);

/* vmmio_vq_push() - add_used() then publish(); same return values. */
VMMIO_API VMMIO_MUST_CHECK int vmmio_vq_push(struct vmmio_vq *q, uint16_t head,
					     uint32_t len);

/*
 * vmmio_vq_disable_notify() - ask the driver not to kick
 * (VRING_USED_F_NO_NOTIFY, or a stale avail_event with EVENT_IDX).
 * vmmio_vq_enable_notify() - ask for kicks again, then re-check the avail
 * ring after a full fence, closing the lost-wake-up window.
 * Return (enable): 1 new chains are already available (keep processing);
 *         0 idle; -EIO; -EINVAL not ready.
 */
VMMIO_API void vmmio_vq_disable_notify(struct vmmio_vq *q);
VMMIO_API VMMIO_MUST_CHECK int vmmio_vq_enable_notify(struct vmmio_vq *q);

/*
 * vmmio_vq_save() / vmmio_vq_restore() - snapshot support.
 * save: Return 0; -EBUSY chains in flight, or an interrupt decision
 *   deferred (vmmio_vq_publish() settles it); -EIO faulted.
 * restore: the state is re-validated as if written by the guest (size,
 *   alignment, rings in RAM, used.idx in memory equal to next_used,
 *   avail.idx - next_avail <= size).
 *   Return: 0; -EINVAL bad state (queue left reset); -EIO ring fault.
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_vq_save(const struct vmmio_vq *q,
					     struct vmmio_vq_state *st);
VMMIO_API VMMIO_MUST_CHECK int
vmmio_vq_restore(struct vmmio_vq *q, const struct vmmio_vq_state *st);

/*
 * Byte-stream access to a popped chain: the readable part and the
 * writable part each read as one contiguous stream, whatever the
 * descriptor layout.
 * vmmio_chain_read():  copy [off, off + n) of the readable part to @dst.
 * vmmio_chain_write(): copy @src to [off, off + n) of the writable part.
 * Return: 0; -ERANGE if the range is past the end of that part (nothing
 *         copied).
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_chain_read(const struct vmmio_chain *c,
						uint32_t off, void *dst,
						uint32_t n);
VMMIO_API VMMIO_MUST_CHECK int vmmio_chain_write(const struct vmmio_chain *c,
						 uint32_t off, const void *src,
						 uint32_t n);

/*
 * vmmio_chain_iov() - host segments covering [off, off + n) of the
 * readable (@writable false) or writable part, for vectored I/O straight
 * into guest memory.
 * Return: 0 with *count set; -ERANGE past the end; -ENOSPC more than @cap
 *         segments needed.
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_chain_iov(const struct vmmio_chain *c,
					       bool writable, uint32_t off,
					       uint32_t n,
					       struct vmmio_seg *out,
					       unsigned cap, unsigned *count);

#ifdef __cplusplus
}
#endif

#endif /* VMMIO_QUEUE_H */
