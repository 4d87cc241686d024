/* SPDX-License-Identifier: Apache-2.0 */
/* libvmmio: the virtio-mmio transport (virtio 1.2 §4.2) around a device. */
#ifndef VMMIO_DEVICE_H
#define VMMIO_DEVICE_H

#include <vmmio/common.h>
#include <vmmio/mem.h>
#include <vmmio/queue.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Threading contract
 *
 * - vmmio_dev_read(), vmmio_dev_write(), vmmio_dev_notify(),
 *   vmmio_dev_reset(), vmmio_dev_set_mem() and all processing of the
 *   device's queues must be serialized per device by the embedder: one
 *   lock per device (not per queue: a fault found on one queue stops
 *   every queue of the device), or one thread owning the device.
 * - The interrupt status and the fault latch are atomic, so the interrupt
 *   hook may fire on whichever thread holds the device lock, and the
 *   accessors below may be read from any thread.
 * - Different devices share nothing and need no common lock.
 * - Device callbacks run on the thread that made the call that triggered
 *   them, with the embedder's serialization held.
 */

/* Size of one virtio-mmio register window. */
#define VMMIO_DEV_WINDOW 0x200u
/* Most queues one device may have. */
#define VMMIO_DEV_MAX_QUEUES 64u
/* Largest device-specific configuration space (0x100..0x200 window). */
#define VMMIO_DEV_MAX_CONFIG 0x100u
/* Default VendorID: "VMIO" little-endian. */
#define VMMIO_DEV_VENDOR 0x4f494d56u

/* A virtio-mmio device instance; opaque. */
struct vmmio_dev;

/*
 * What a device model plugs in. Const; never written by the library.
 * size:         sizeof(struct vmmio_dev_ops).
 * device_id:    required, non-zero (VIRTIO_ID_BLOCK, ...).
 * config_read:  required if config_size > 0: copy @len bytes of the
 *               device configuration at @off (already bounds-checked
 *               against config_size).
 * config_write: optional; NULL makes the config space read-only.
 * features_ok:  optional extra check of the driver's accepted features at
 *               FEATURES_OK (unoffered bits and a missing VERSION_1 are
 *               already refused); false refuses FEATURES_OK.
 * activate:     optional; called at DRIVER_OK with the negotiated
 *               features and the queues set up; the device should look at
 *               its queues then (a driver may fill them before
 *               DRIVER_OK). A negative errno latches fault DEVICE.
 * reset:        optional; the driver or host reset the device: stop all
 *               use of the queues and chains (they are reset right after).
 * queue_notify: required; the driver kicked queue @queue (ready,
 *               DRIVER_OK set, no fault latched).
 */
struct vmmio_dev_ops {
	uint32_t size;
	uint32_t device_id;
	void (*config_read)(void *opaque, uint32_t off, void *buf,
			    uint32_t len);
	void (*config_write)(void *opaque, uint32_t off, const void *buf,
			     uint32_t len);
	bool (*features_ok)(void *opaque, uint64_t features);
	int (*activate)(void *opaque, uint64_t features);
	void (*reset)(void *opaque);
	void (*queue_notify)(void *opaque, uint16_t queue);
};

/*
 * Per-instance parameters, copied by vmmio_dev_new().
 * size:        sizeof(struct vmmio_dev_config).
 * version:     2 (modern, also when 0) or 1 (legacy: GuestPageSize,
 *              QueueAlign, QueuePFN; no FEATURES_OK).
 * vendor_id:   0 means VMMIO_DEV_VENDOR.
 * num_queues:  1..VMMIO_DEV_MAX_QUEUES.
 * queue_sizes: num_queues maximum sizes, each a power of two in
 *              1..VMMIO_VQ_MAX_SIZE.
 * features:    offered feature bits (device-specific and ring ones such as
 *              VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC).
 *              VIRTIO_F_VERSION_1 is added for version 2 and refused for
 *              version 1. Of the transport bits (24..41) only
 *              VIRTIO_F_ANY_LAYOUT, VIRTIO_RING_F_INDIRECT_DESC,
 *              VIRTIO_RING_F_EVENT_IDX and VERSION_1 are implemented;
 *              offering another (packed ring, IN_ORDER,
 *              NOTIFICATION_DATA, ...) is refused with -EINVAL.
 * config_size: bytes of device configuration, 0..VMMIO_DEV_MAX_CONFIG.
 * mem:         guest memory; must outlive the device.
 * host, host_opaque: hooks; host->irq is required.
 */
struct vmmio_dev_config {
	uint32_t size;
	uint32_t version;
	uint32_t vendor_id;
	uint16_t num_queues;
	const uint16_t *queue_sizes;
	uint64_t features;
	uint32_t config_size;
	const struct vmmio_mem *mem;
	const struct vmmio_host_ops *host;
	void *host_opaque;
};

/*
 * vmmio_dev_new() - create a device in reset state.
 * @ops, @opaque: the device model and its state.
 * Return: 0; -EINVAL a bad parameter (see the struct docs; a message
 *         naming it goes to the log hook when there is one); -ENOMEM.
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_dev_new(const struct vmmio_dev_ops *ops,
					     void *opaque,
					     const struct vmmio_dev_config *cfg,
					     struct vmmio_dev **out);

/* vmmio_dev_free() - release the device and its queues (NULL ignored). */
VMMIO_API void vmmio_dev_free(struct vmmio_dev *dev);

/*
 * vmmio_dev_read() / vmmio_dev_write() - a guest access to the register
 * window at @off (0..VMMIO_DEV_WINDOW-1) of @len bytes, data
 * little-endian as the guest sees it. Registers below 0x100 take aligned
 * 32-bit accesses only; the config space takes 1, 2, 4 or 8 bytes, reads
 * past its end return zeros and writes there are ignored. Undefined
 * offsets and write-only registers read 0; writes to read-only registers
 * and undefined offsets are ignored.
 * Return: 0; -EIO the access was illegal and latched a fault, or a queue
 *         register or notify was refused because a fault is latched
 *         (reads then return zeros); -EINVAL @len is 0 or above 8, or
 *         @data is NULL (nothing done).
 * The embedder resumes the vCPU whatever the result.
 */
VMMIO_API int vmmio_dev_read(struct vmmio_dev *dev, uint64_t off, void *data,
			     uint32_t len);
VMMIO_API int vmmio_dev_write(struct vmmio_dev *dev, uint64_t off,
			      const void *data, uint32_t len);

/*
 * vmmio_dev_notify() - QueueNotify delivered through the embedder's fast
 * path (ioeventfd): same effect as writing @queue to QueueNotify.
 * Return: 0; -EIO fault (queue missing or not ready) or already faulted.
 */
VMMIO_API int vmmio_dev_notify(struct vmmio_dev *dev, uint32_t queue);

/*
 * vmmio_dev_queue() - queue @index, or NULL if out of range. The queue is
 * owned by the device (freed with it); process it under the device lock.
 */
VMMIO_API struct vmmio_vq *vmmio_dev_queue(struct vmmio_dev *dev,
					   uint32_t index);
/* vmmio_dev_num_queues() - num_queues from the device's config. */
VMMIO_API uint16_t vmmio_dev_num_queues(const struct vmmio_dev *dev);

/*
 * vmmio_dev_config_changed() - the device changed its configuration
 * space: bump ConfigGeneration and raise a configuration interrupt
 * (virtio 1.2 §2.5.1). Call with the config already updated.
 */
VMMIO_API void vmmio_dev_config_changed(struct vmmio_dev *dev);

/*
 * vmmio_dev_fail() - latch a fault (first reason kept): status gets
 * VIRTIO_CONFIG_S_NEEDS_RESET, a configuration interrupt is raised, the
 * queues stop, the device's queue_notify is no longer called.
 */
VMMIO_API void vmmio_dev_fail(struct vmmio_dev *dev, enum vmmio_fault fault);

/* vmmio_dev_reset() - host-initiated reset, as if the driver wrote 0. */
VMMIO_API void vmmio_dev_reset(struct vmmio_dev *dev);

/*
 * vmmio_dev_set_mem() - switch to another guest memory map (all queues
 * re-validated; a ring that no longer fits latches RING_RANGE).
 * Return: 0; -EINVAL NULL; -EIO a queue faulted.
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_dev_set_mem(struct vmmio_dev *dev,
						 const struct vmmio_mem *mem);

struct vmmio_drv_ops;
/*
 * vmmio_dev_driver_ops() - register access for the driver harness
 * (<vmmio/driver.h>) straight into a device in this process: pass it to
 * vmmio_drv_init() with the struct vmmio_dev as opaque. Reads and writes
 * go through vmmio_dev_read() / vmmio_dev_write() and their results are
 * dropped, so the driver sees what a guest would (zeros for a refused
 * read). For tests, benchmarks and fuzzers of device models.
 * Threading: as vmmio_dev_read() / vmmio_dev_write().
 * Return: a static table, valid for the life of the process.
 */
VMMIO_API const struct vmmio_drv_ops *vmmio_dev_driver_ops(void);

/* Accessors, for embedders, logs and tests. */
VMMIO_API uint32_t vmmio_dev_status(const struct vmmio_dev *dev);
/* Negotiated features (what the driver accepted at FEATURES_OK). */
VMMIO_API uint64_t vmmio_dev_features(const struct vmmio_dev *dev);
VMMIO_API uint32_t vmmio_dev_interrupt_status(const struct vmmio_dev *dev);
VMMIO_API uint32_t vmmio_dev_config_generation(const struct vmmio_dev *dev);
VMMIO_API enum vmmio_fault vmmio_dev_fault(const struct vmmio_dev *dev);
/* DRIVER_OK set and no fault latched. */
VMMIO_API bool vmmio_dev_is_active(const struct vmmio_dev *dev);
VMMIO_API uint32_t vmmio_dev_version(const struct vmmio_dev *dev);

#ifdef __cplusplus
}
#endif

#endif /* VMMIO_DEVICE_H */
