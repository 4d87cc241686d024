/* SPDX-License-Identifier: Apache-2.0 */
/* Queue fixture: a device-side queue and the driver harness on test RAM. */
#ifndef VMMIO_QFIX_H
#define VMMIO_QFIX_H

#include <vmmio/device.h>
#include <vmmio/driver.h>
#include <vmmio/queue.h>

#include "tguest.h"

#define QF_MAX 256
/* Indirect tables live in the ring area (host-contiguous for the driver). */
#define QF_TABLE_GPA (TG_RING_GPA + 0x20000)
/*
 * In split mode the ring area is made of 4 KiB regions; rings start this
 * far in, so for queue sizes 8 and up a ring crosses a region boundary and
 * the queue takes its per-element translation path.
 */
#define QF_SPLIT_RING_OFF 0xf70u

struct qfix {
	struct tguest g;
	struct vmmio_vq *q;
	struct vmmio_drv_vq d;
	struct vmmio_drv_slot slot[QF_MAX];
	uint16_t size;
	uint64_t features;
	unsigned faults, irqs;
	enum vmmio_fault last;
	vmmio_gpa_t table_next;
	/* Device mode (qf_init_dev): the queue belongs to a virtio-mmio
	 * device set up through the driver harness. */
	struct vmmio_dev *dev;
	struct vmmio_drv drv;
	uint32_t seg_cap;	  /* the model's segment capacity */
	unsigned notified;	  /* model queue_notify calls */
	unsigned served;	  /* chains the model completed */
	unsigned raised, lowered; /* interrupt line */
};

extern const struct vmmio_vq_hooks qf_hooks;

void qf_init(struct qfix *f, uint16_t size, uint64_t features, bool split);
void qf_free(struct qfix *f);
/* A device (VIRTIO_ID_RNG-like model that completes every chain, writing
 * "ok" into writable parts) with one queue of @size, brought to
 * DRIVER_OK through the driver harness. */
void qf_init_dev(struct qfix *f, uint16_t size, uint64_t features,
		 uint32_t seg_cap);
/* Driver reset and full re-initialisation of a device-mode fixture. */
void qf_reinit_dev(struct qfix *f);
/* Reset the queue and lay out fresh rings (all descriptors zeroed). */
void qf_restart(struct qfix *f, uint64_t features);
/* As qf_restart, then descriptor 0 = 16 readable bytes at the data area. */
void qf_restart_keep_desc(struct qfix *f);
void qf_put_desc(struct qfix *f, uint16_t i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next);
vmmio_gpa_t qf_table(struct qfix *f, unsigned entries);
void qf_put_entry(struct qfix *f, vmmio_gpa_t table, unsigned j, uint64_t addr,
		  uint32_t len, uint16_t flags, uint16_t next);
void qf_avail_push(struct qfix *f, uint16_t head);
void qf_set_avail_idx(struct qfix *f, uint16_t idx);
uint16_t qf_used_idx(struct qfix *f);
/* One 8-byte-out / 8-byte-in request through both halves, checked. */
void qf_roundtrip_one(struct qfix *f);

struct rt_stats {
	unsigned completed, max_chain, indirect, unpopped, out_of_order;
	unsigned table_straddles; /* indirect tables across a 4 KiB region */
};
/* Random chains through driver and device, byte-exact both ways. */
void rt_run(uint64_t features, bool split, uint16_t size, unsigned count,
	    unsigned seed, struct rt_stats *st);

#endif
