/* SPDX-License-Identifier: Apache-2.0 */
/* Device fixture (see dfix.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <check.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "dfix.h"

/* Ring area layout: one 16 KiB slot per queue (legacy rings need 4 KiB
 * alignment), then indirect tables in a circular area. */
#define DF_RING_SLOT 0x4000u
#define DF_TABLE_GPA (TG_RING_GPA + 0x20000u)
#define DF_TABLE_END (TG_RING_GPA + TG_RING_LEN)

static void df_irq(void *opaque, bool raise)
{
	struct dfix *f = opaque;

	if (raise)
		f->raised++;
	else
		f->lowered++;
}

static void df_log(void *opaque, enum vmmio_log_level level, const char *msg)
{
	struct dfix *f = opaque;

	(void)level;
	f->logs++;
	snprintf(f->last_log, sizeof(f->last_log), "%s", msg);
}

const struct vmmio_host_ops df_host = {
    .size = sizeof(df_host), .irq = df_irq, .log = df_log};

void df_mem(struct dfix *f, bool split, unsigned seed)
{
	memset(f, 0, sizeof(*f));
	tg_init(&f->g, split, seed);
	f->fd = -1;
}

void df_loop(struct dfix *f, int fd, int (*process)(void *obj), void *obj)
{
	f->fd = fd;
	f->process = process;
	f->obj = obj;
}

static int setup_queue(struct dfix *f, unsigned q, uint16_t qsize)
{
	uint32_t align = vmmio_drv_version(&f->drv) == 1 ? 4096u : 4u;
	uint32_t max = vmmio_drv_queue_max(&f->drv, q);
	vmmio_gpa_t gpa = TG_RING_GPA + (vmmio_gpa_t)q * DF_RING_SLOT;
	size_t len;
	int rc;

	if (max == 0)
		return -ENOENT;
	while (qsize > max)
		qsize /= 2;
	len = vmmio_drv_vq_ring_bytes(qsize, align);
	ck_assert_uint_le(len, DF_RING_SLOT);
	rc = vmmio_drv_vq_init(&f->vq[q], qsize, tg_ring_ptr(&f->g, gpa), gpa,
			       len, align, f->slot[q], f->features);
	if (rc)
		return rc;
	f->ring_gpa[q] = gpa;
	return vmmio_drv_setup_queue(&f->drv, q, &f->vq[q]);
}

int df_try_start(struct dfix *f, struct vmmio_dev *dev, uint64_t wanted,
		 unsigned nq, uint16_t qsize)
{
	int rc;

	ck_assert_uint_le(nq, DF_MAXQ);
	ck_assert_uint_le(qsize, DF_QSIZE);
	f->dev = dev;
	f->nq = nq;
	f->qsize = qsize;
	f->table_next = DF_TABLE_GPA;
	rc = vmmio_drv_init(&f->drv, vmmio_dev_driver_ops(), dev);
	if (rc)
		return rc;
	rc = vmmio_drv_negotiate(&f->drv, wanted, &f->features);
	if (rc)
		return rc;
	for (unsigned q = 0; q < nq; q++) {
		rc = setup_queue(f, q, qsize);
		if (rc)
			return rc;
	}
	return vmmio_drv_driver_ok(&f->drv);
}

void df_start(struct dfix *f, struct vmmio_dev *dev, uint64_t wanted,
	      unsigned nq, uint16_t qsize)
{
	ck_assert_int_eq(df_try_start(f, dev, wanted, nq, qsize), 0);
}

void df_restart(struct dfix *f, uint64_t wanted)
{
	ck_assert_int_eq(vmmio_drv_reset(&f->drv), 0);
	df_start(f, f->dev, wanted, f->nq, f->qsize);
}

/* Room for an @n-entry indirect table, wrapping around the table area. */
static vmmio_gpa_t table_alloc(struct dfix *f, unsigned n)
{
	vmmio_gpa_t t;

	ck_assert_uint_le(16u * n, DF_TABLE_END - DF_TABLE_GPA);
	if (f->table_next + 16u * n > DF_TABLE_END)
		f->table_next = DF_TABLE_GPA;
	t = f->table_next;
	f->table_next += 16u * n;
	return t;
}

int df_submit(struct dfix *f, unsigned q, const struct vmmio_drv_buf *buf,
	      unsigned n_out, unsigned n_in, enum df_layout layout, void *token)
{
	unsigned n = n_out + n_in;
	struct vmmio_drv_req r = {.buf = buf, .n_out = n_out, .n_in = n_in};
	int rc;

	ck_assert_uint_lt(q, f->nq);
	r.n_direct = layout == DF_DIRECT ? n : layout == DF_MIXED ? 1 : 0;
	if (r.n_direct > n)
		r.n_direct = n;
	if (r.n_direct < n) {
		r.table_gpa = table_alloc(f, n - r.n_direct);
		r.table = tg_ring_ptr(&f->g, r.table_gpa);
	}
	rc = vmmio_drv_vq_add(&f->vq[q], &r, token);
	if (rc)
		return rc;
	if (vmmio_drv_vq_kick_prepare(&f->vq[q]))
		vmmio_drv_notify(&f->drv, q);
	return 0;
}

static void ack(struct dfix *f)
{
	uint32_t isr = vmmio_drv_ack_interrupt(&f->drv);

	if (isr & VIRTIO_MMIO_INT_VRING)
		f->vring_irqs++;
	if (isr & VIRTIO_MMIO_INT_CONFIG)
		f->config_irqs++;
}

void df_poll(struct dfix *f)
{
	if (f->process)
		(void)f->process(f->obj);
	ack(f);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int df_wait(struct dfix *f, unsigned q, void **token, uint32_t *len)
{
	double end = now_s() + 5.0;

	ck_assert_uint_lt(q, f->nq);
	for (;;) {
		int rc = vmmio_drv_vq_get_used(&f->vq[q], token, len);

		if (rc != 0)
			return rc;
		if (now_s() > end)
			return 0;
		if (f->fd >= 0) {
			struct pollfd p = {.fd = f->fd, .events = POLLIN};

			(void)poll(&p, 1, 10);
		}
		df_poll(f);
	}
}

void df_config(struct dfix *f, uint32_t off, void *buf, uint32_t len)
{
	ck_assert_int_eq(vmmio_drv_config_read(&f->drv, off, buf, len), 0);
}

void df_free(struct dfix *f)
{
	tg_free(&f->g);
}
