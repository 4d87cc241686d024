/* SPDX-License-Identifier: Apache-2.0 */
/* libvmmio: shared scalar types, host hooks and fault reasons. */
#ifndef VMMIO_COMMON_H
#define VMMIO_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A guest-physical address. */
typedef uint64_t vmmio_gpa_t;

#define VMMIO_MUST_CHECK __attribute__((warn_unused_result))
#define VMMIO_API __attribute__((visibility("default")))

/* Version of the library, also in vmmio.pc. */
#define VMMIO_VERSION_MAJOR 0
#define VMMIO_VERSION_MINOR 1
#define VMMIO_VERSION_PATCH 0

enum vmmio_log_level {
	VMMIO_LOG_ERROR,
	VMMIO_LOG_WARN,
	VMMIO_LOG_INFO,
	VMMIO_LOG_DEBUG,
	VMMIO_LOG__COUNT
};

/*
 * Host hooks, per instance (memory map, queue, device). The table is
 * const and never written by the library; every callback receives the
 * opaque pointer given beside the table. A NULL table means "all
 * defaults".
 *
 * size:  sizeof(struct vmmio_host_ops) as the caller compiled it; members
 *        past it are treated as NULL (required).
 * irq:   interrupt line of a device (required by vmmio_dev_new, unused
 *        elsewhere). Called with raise=true each time the device raises
 *        an interrupt (even if one is pending: edge-triggered embedders
 *        send one edge per call), and with raise=false when the guest's
 *        InterruptACK leaves no interrupt pending (level-triggered
 *        embedders lower the line). May be called from any thread that
 *        processes the device (vCPU or I/O thread).
 * log:   optional; receives one formatted line without a newline. Lines
 *        the guest can trigger are rate limited by the library.
 * alloc: optional (default malloc); returns uninitialised memory or NULL.
 * free:  optional (default free); required if alloc is set.
 * reset: optional; a device calls it after each reset (the driver wrote
 *        Status 0, or vmmio_dev_reset()), its queues already back to
 *        their initial state, on the thread that made the access and
 *        under the same serialization. An embedder with notify channels of
 *        its own (ioeventfds) drops kicks meant for the old queues here,
 *        so they are not taken for kicks of the re-initialised device.
 */
struct vmmio_host_ops {
	uint32_t size;
	void (*irq)(void *opaque, bool raise);
	void (*log)(void *opaque, enum vmmio_log_level level, const char *msg);
	void *(*alloc)(void *opaque, size_t size);
	void (*free)(void *opaque, void *ptr);
	void (*reset)(void *opaque);
};

/*
 * Why a device stopped: the first guest protocol violation seen since the
 * last reset. While a fault is latched the device reports
 * VIRTIO_CONFIG_S_NEEDS_RESET, has raised a configuration-change
 * interrupt, and its queues refuse further work (-EIO) until the driver
 * resets the device (Status = 0) or the host calls vmmio_dev_reset().
 */
enum vmmio_fault {
	VMMIO_FAULT_NONE,
	VMMIO_FAULT_REG_ACCESS,	 /* register access not 32-bit or misaligned */
	VMMIO_FAULT_STATUS,	 /* illegal status transition */
	VMMIO_FAULT_QUEUE_SEL,	 /* queue register used with QueueSel >= num */
	VMMIO_FAULT_QUEUE_STATE, /* queue register written in the wrong state */
	VMMIO_FAULT_QUEUE_SIZE,	 /* QueueNum 0, above max or not a power of 2 */
	VMMIO_FAULT_RING_ALIGN,	 /* desc/avail/used ring misaligned */
	VMMIO_FAULT_RING_RANGE,	 /* a ring is not wholly inside guest RAM */
	VMMIO_FAULT_NOTIFY,	 /* QueueNotify of a missing or unready queue */
	VMMIO_FAULT_AVAIL_IDX,	 /* avail.idx moved more than the queue size */
	VMMIO_FAULT_HEAD_RANGE,	 /* head index >= queue size */
	VMMIO_FAULT_HEAD_INFLIGHT, /* head made available again while in use */
	VMMIO_FAULT_NEXT_RANGE,	   /* descriptor next >= table size */
	VMMIO_FAULT_CHAIN_LOOP,	   /* chain longer than its table: a loop */
	VMMIO_FAULT_INDIRECT,	   /* indirect descriptor not negotiated */
	VMMIO_FAULT_INDIRECT_NESTED, /* indirect inside an indirect table */
	VMMIO_FAULT_INDIRECT_NEXT,   /* indirect descriptor with F_NEXT */
	VMMIO_FAULT_INDIRECT_LEN,    /* table length 0, not 16n, or too long */
	VMMIO_FAULT_DESC_ORDER,	     /* device-readable after device-writable */
	VMMIO_FAULT_BUFFER_RANGE, /* buffer wraps, leaves RAM or is read-only */
	VMMIO_FAULT_CHAIN_LEN,	  /* total chain length above 4 GiB - 1 */
	VMMIO_FAULT_SEGMENTS,	  /* more segments than the device accepts */
	VMMIO_FAULT_DEVICE,	  /* the device model reported a driver bug */
	VMMIO_FAULT__COUNT
};

/*
 * vmmio_fault_str() - short English description of a fault reason.
 * @fault: any value, including out-of-range ones.
 * Return: a static string; "unknown fault" for values outside the enum.
 * Threading: any thread.
 */
VMMIO_API const char *vmmio_fault_str(enum vmmio_fault fault);

/*
 * vmmio_fault_name() - stable identifier of a fault ("HEAD_RANGE"), for
 * logs and test tables.
 * Return: a static string; "UNKNOWN" for values outside the enum.
 */
VMMIO_API const char *vmmio_fault_name(enum vmmio_fault fault);

#ifdef __cplusplus
}
#endif

#endif /* VMMIO_COMMON_H */
