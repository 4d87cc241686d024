/* SPDX-License-Identifier: Apache-2.0 */
/* Test guest: a device driven by a scenario file (see tg.h, struct tg_vdev). */
#include <linux/errno.h>

#include "tg.h"

unsigned tg_irq_total(unsigned slot)
{
	unsigned n = 0;

	for (unsigned c = 0; c < TG_MAXCPU; c++)
		n += tg_irq_count[c][slot];
	return n;
}

int tg_vdev_start(struct tg_vdev *d, uint64_t wanted, unsigned nq,
		  unsigned char *const ring[], uint32_t ring_bytes,
		  struct vmmio_drv_slot *const slots[], uint16_t qsize)
{
	uint32_t align = vmmio_drv_version(d->drv) == 1 ? 4096u : 4u;
	int rc = vmmio_drv_negotiate(d->drv, wanted, &d->features);

	for (unsigned q = 0; !rc && q < nq; q++) {
		uint32_t max = vmmio_drv_queue_max(d->drv, q);
		uint16_t qs = qsize;

		if (!max)
			return -ENOENT;
		while (qs > max)
			qs /= 2;
		rc = vmmio_drv_vq_init(&d->vq[q], qs, ring[q],
				       (uintptr_t)ring[q], ring_bytes, align,
				       slots[q], d->features);
		if (!rc)
			rc = vmmio_drv_setup_queue(d->drv, q, &d->vq[q]);
	}
	d->irq_seen = tg_irq_total(d->slot);
	return rc ? rc : vmmio_drv_driver_ok(d->drv);
}

void tg_vdev_irq_poll(struct tg_vdev *d)
{
	unsigned n = tg_irq_total(d->slot);

	if (n != d->irq_seen) {
		d->irq_seen = n;
		(void)vmmio_drv_ack_interrupt(d->drv);
	}
}

void tg_vdev_kick(struct tg_vdev *d, unsigned q)
{
	if (vmmio_drv_vq_kick_prepare(&d->vq[q])) {
		vmmio_drv_notify(d->drv, q);
		d->notifies++;
	}
}
