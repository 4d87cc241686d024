/* SPDX-License-Identifier: Apache-2.0 */
/* libvmmio: the driver's half (what a guest does), for tests and guests. */
#ifndef VMMIO_DRIVER_H
#define VMMIO_DRIVER_H

/*
 * The guest side of the virtio-mmio transport and of a split virtqueue.
 * Tests, benchmarks and fuzzers drive device models in process with it,
 * embedders can test their own devices with it, and the test guest links
 * the same code inside a VM. It compiles freestanding: no allocation (the
 * caller provides every buffer), no libc beyond memcpy/memset/memcmp, and
 * device registers are reached through a small ops table.
 *
 * Threading: a struct vmmio_drv or vmmio_drv_vq is used by one thread at
 * a time. Nothing the device wrote (used ring, registers) is trusted.
 */

#include <vmmio/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Register access. width is 1, 2 or 4; @off is the offset in the
 * device's register window; values little-endian as on the bus.
 */
struct vmmio_drv_ops {
	uint32_t size;
	uint32_t (*read)(void *opaque, uint32_t off, unsigned width);
	void (*write)(void *opaque, uint32_t off, uint32_t val, unsigned width);
};

/* Transport driver state; caller-allocated, fields private. */
struct vmmio_drv {
	const struct vmmio_drv_ops *ops;
	void *opaque;
	uint32_t version;
	uint32_t device_id;
	uint64_t features;
};

/* One buffer of a request: guest-physical address and length. */
struct vmmio_drv_buf {
	vmmio_gpa_t gpa;
	uint32_t len;
};

/*
 * A request to add: buf[0, n_out) device-readable, then buf[n_out,
 * n_out + n_in) device-writable. The first n_direct buffers go into ring
 * descriptors; the rest (if any) into an indirect table at
 * table/table_gpa (caller memory, 16 bytes per buffer), referenced by one
 * more ring descriptor at the end of the chain.
 */
struct vmmio_drv_req {
	const struct vmmio_drv_buf *buf;
	unsigned n_out, n_in;
	unsigned n_direct;
	void *table;
	vmmio_gpa_t table_gpa;
};

/* Per-descriptor bookkeeping; the caller provides one per queue entry. */
struct vmmio_drv_slot {
	void *token;
	uint16_t ndesc;
	uint16_t next;
};

/* Split ring driver state; caller-allocated, fields private. */
struct vmmio_drv_vq {
	uint16_t size;
	uint16_t free_head, num_free;
	uint16_t avail_idx, kicked_idx, last_used;
	bool event_idx, indirect, no_interrupt;
	uint32_t align;
	unsigned char *desc, *avail, *used;
	vmmio_gpa_t desc_gpa, avail_gpa, used_gpa;
	struct vmmio_drv_slot *slot;
};

/*
 * vmmio_drv_vq_ring_bytes() - bytes of ring memory for @size entries:
 * descriptor table, avail ring (with used_event), padding to @align, used
 * ring (with avail_event). @align is 4 for modern devices, the legacy
 * QueueAlign (4096) for version 1.
 * Return: the size; 0 if size is not a power of two in 1..32768 or align
 *         is not a power of two >= 4.
 */
VMMIO_API size_t vmmio_drv_vq_ring_bytes(uint16_t size, uint32_t align);

/*
 * vmmio_drv_vq_init() - lay out a split ring in caller memory.
 * @ring, @ring_gpa: host and guest-physical address of the same memory,
 *         16-byte aligned (4096 for legacy); @ring_len at least
 *         vmmio_drv_vq_ring_bytes(size, align). The memory is zeroed.
 * @slot:  @size entries.
 * @features: the negotiated features (EVENT_IDX, INDIRECT_DESC).
 * Return: 0; -EINVAL bad size, alignment or too little memory.
 */
VMMIO_API VMMIO_MUST_CHECK int
vmmio_drv_vq_init(struct vmmio_drv_vq *vq, uint16_t size, void *ring,
		  vmmio_gpa_t ring_gpa, size_t ring_len, uint32_t align,
		  struct vmmio_drv_slot *slot, uint64_t features);

/*
 * vmmio_drv_vq_add() - put a request on the ring and publish it (release
 * store of avail.idx). @token (non-NULL) comes back from get_used.
 * Return: 0; -ENOSPC not enough free descriptors; -EINVAL empty request,
 *         NULL token, indirect part without the feature or table, more
 *         than 65535 buffers.
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_drv_vq_add(struct vmmio_drv_vq *vq,
						const struct vmmio_drv_req *r,
						void *token);

/*
 * vmmio_drv_vq_kick_prepare() - after adding: does the device want a
 * notification (EVENT_IDX avail_event, or VRING_USED_F_NO_NOTIFY)?
 * Return: true to notify (then call vmmio_drv_notify()).
 */
VMMIO_API bool vmmio_drv_vq_kick_prepare(struct vmmio_drv_vq *vq);

/*
 * vmmio_drv_vq_get_used() - take the next used element.
 * *len is the length the device wrote, unchecked (as Linux's driver
 * returns it): a caller that trusts it no more than the device must clamp
 * it to the writable bytes it posted.
 * Return: 1 with *token and *len set; 0 none; -EIO the device returned a
 *         head that is out of range or not in flight.
 */
VMMIO_API VMMIO_MUST_CHECK int
vmmio_drv_vq_get_used(struct vmmio_drv_vq *vq, void **token, uint32_t *len);

/* Descriptors free for new requests (a request takes n_direct, plus one
 * for its indirect table if it has one). */
VMMIO_API unsigned vmmio_drv_vq_num_free(const struct vmmio_drv_vq *vq);
/* Used elements published by the device and not yet taken. */
VMMIO_API unsigned vmmio_drv_vq_used_pending(const struct vmmio_drv_vq *vq);

/*
 * Used-buffer interrupts: disable asks the device not to interrupt
 * (VRING_AVAIL_F_NO_INTERRUPT, or used_event far ahead with EVENT_IDX);
 * enable asks again and then re-checks after a full fence.
 * Return (enable): true if used elements are already waiting.
 */
VMMIO_API void vmmio_drv_vq_disable_cb(struct vmmio_drv_vq *vq);
VMMIO_API bool vmmio_drv_vq_enable_cb(struct vmmio_drv_vq *vq);

/*
 * vmmio_drv_init() - probe a device: MagicValue, Version (1 or 2),
 * DeviceID non-zero; sets GuestPageSize to 4096 for version 1.
 * Return: 0; -ENODEV bad magic or DeviceID 0; -ENOTSUP other version;
 *         -EINVAL NULL @d or @ops, or an ops table without read/write.
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_drv_init(struct vmmio_drv *d,
					      const struct vmmio_drv_ops *ops,
					      void *opaque);

/* DeviceID and Version as read by vmmio_drv_init(). */
VMMIO_API uint32_t vmmio_drv_device_id(const struct vmmio_drv *d);
VMMIO_API uint32_t vmmio_drv_version(const struct vmmio_drv *d);
/* Status register as the device reports it now (a register read). */
VMMIO_API uint32_t vmmio_drv_get_status(const struct vmmio_drv *d);
/* OR @bits into Status. */
VMMIO_API void vmmio_drv_add_status(const struct vmmio_drv *d, uint32_t bits);

/* vmmio_drv_reset() - write 0 to Status. Return: 0; -EIO not 0 after. */
VMMIO_API VMMIO_MUST_CHECK int vmmio_drv_reset(const struct vmmio_drv *d);

/*
 * vmmio_drv_negotiate() - reset, ACKNOWLEDGE, DRIVER, read the offered
 * features, accept offered & @wanted (plus VERSION_1 on version 2), write
 * them, set FEATURES_OK (version 2) and check it stuck.
 * Return: 0 with *accepted set; -EIO FEATURES_OK refused or reset failed.
 */
VMMIO_API VMMIO_MUST_CHECK int
vmmio_drv_negotiate(struct vmmio_drv *d, uint64_t wanted, uint64_t *accepted);

/* QueueNumMax of queue @index (0: the queue does not exist). */
VMMIO_API uint32_t vmmio_drv_queue_max(const struct vmmio_drv *d,
				       uint32_t index);

/*
 * vmmio_drv_setup_queue() - select queue @index, check it is not in use
 * and big enough, write QueueNum and the ring addresses (QueueAlign and
 * QueuePFN on version 1), set QueueReady.
 * Return: 0; -ENOENT queue missing; -EBUSY already ready; -EINVAL NULL
 *         @vq, too big, or a ring not expressible as a legacy PFN; -EIO
 *         not ready after the write (device refused, NEEDS_RESET).
 */
VMMIO_API VMMIO_MUST_CHECK int
vmmio_drv_setup_queue(const struct vmmio_drv *d, uint32_t index,
		      const struct vmmio_drv_vq *vq);

/* vmmio_drv_driver_ok() - set DRIVER_OK. Return 0; -EIO NEEDS_RESET set. */
VMMIO_API VMMIO_MUST_CHECK int vmmio_drv_driver_ok(const struct vmmio_drv *d);

/* vmmio_drv_notify() - write @index to QueueNotify. */
VMMIO_API void vmmio_drv_notify(const struct vmmio_drv *d, uint32_t index);

/* vmmio_drv_ack_interrupt() - read InterruptStatus, ACK what was set;
 * return those bits (VIRTIO_MMIO_INT_VRING, VIRTIO_MMIO_INT_CONFIG). */
VMMIO_API uint32_t vmmio_drv_ack_interrupt(const struct vmmio_drv *d);

/*
 * vmmio_drv_config_read() / _write() - device configuration bytes at @off,
 * in naturally aligned 1/2/4-byte accesses. Reads retry until
 * ConfigGeneration is stable (version 2).
 * Return: 0; -EINVAL range beyond the 0x100-byte config window, or NULL
 *         @buf with @len > 0; -EAGAIN the generation never settled.
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_drv_config_read(const struct vmmio_drv *d,
						     uint32_t off, void *buf,
						     uint32_t len);
VMMIO_API VMMIO_MUST_CHECK int vmmio_drv_config_write(const struct vmmio_drv *d,
						      uint32_t off,
						      const void *buf,
						      uint32_t len);

#ifdef __cplusplus
}
#endif

#endif /* VMMIO_DRIVER_H */
