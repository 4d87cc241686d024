/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: guest MMIO accesses and kicks against a device. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include <vmmio/device.h>

#include "fuzz_input.h"

/*
 * Input: one byte of setup (bit 0: legacy version 1), then operations,
 * each an opcode byte (low 3 bits select it) and its arguments:
 *   0 reg, val32      aligned register write
 *   1 reg             aligned register read
 *   2 off16, w, val64 raw access: width 1-8 (w & 7) + 1, write if op & 8,
 *                     offset near 2^64 if op & 0x80
 *   3 q               vmmio_dev_notify (q & 3, or ~0 for 0xff)
 *   4                 by (op >> 3) & 7: 1 vmmio_dev_reset, 2-4 switch to
 *                     memory map 0-2 (one region, two regions, first half
 *                     only), else config changed
 *   5 off16, data64   poke guest RAM
 *   6 reg, val8       aligned register write of a small value
 *   7 reg, n          aligned register write of RAM_GPA + 64 * n
 * where reg is a byte giving register offset (reg & 0x3f) * 4.
 */

#define RAM_GPA 0x10000u
#define RAM_SIZE 0x4000u
#define CFG_SIZE 12u
#define NQ 2u
static struct {
	struct vmmio_dev *dev;
	struct vmmio_mem *mem[3];
	unsigned char cfg[CFG_SIZE];
	bool line;
} S;

static _Alignas(16) unsigned char ram[RAM_SIZE];

static void f_irq(void *opaque, bool raise)
{
	(void)opaque;
	/* The line only goes down with nothing pending. */
	CHECK(raise || vmmio_dev_interrupt_status(S.dev) == 0);
	S.line = raise;
}

static const struct vmmio_host_ops f_host = {
    .size = sizeof(struct vmmio_host_ops),
    .irq = f_irq,
};

static void f_config_read(void *opaque, uint32_t off, void *buf, uint32_t len)
{
	(void)opaque;
	CHECK(off < CFG_SIZE && len <= CFG_SIZE - off);
	memcpy(buf, S.cfg + off, len);
}

static void f_config_write(void *opaque, uint32_t off, const void *buf,
			   uint32_t len)
{
	(void)opaque;
	CHECK(off < CFG_SIZE && len <= CFG_SIZE - off);
	memcpy(S.cfg + off, buf, len);
}

static bool f_features_ok(void *opaque, uint64_t features)
{
	(void)opaque;
	return !(features & 2); /* a device that refuses feature bit 1 */
}

/* Complete what the driver made available, writing a little back. */
static void process(uint16_t queue)
{
	static const unsigned char reply[16] = "fuzzed reply....";
	struct vmmio_vq *q = vmmio_dev_queue(S.dev, queue);
	struct vmmio_seg seg[8];
	struct vmmio_chain c = {.seg = seg, .seg_cap = 8};
	unsigned i;
	uint32_t n;

	for (i = 0; i < 64 && vmmio_vq_pop(q, &c) == 1; i++) {
		CHECK(c.nreadable <= c.nseg && c.nseg <= c.seg_cap);
		n = c.writable_len < sizeof(reply) ? c.writable_len
						   : sizeof(reply);
		CHECK(vmmio_chain_write(&c, 0, reply, n) == 0);
		if (vmmio_vq_push(q, c.head, n) < 0)
			break;
	}
}

static int f_activate(void *opaque, uint64_t features)
{
	uint16_t i;

	(void)opaque;
	/* Legacy drivers can accept bit 1 (no FEATURES_OK to refuse it). */
	if (features & 2)
		return -EINVAL;
	for (i = 0; i < NQ; i++)
		if (vmmio_vq_is_valid(vmmio_dev_queue(S.dev, i)))
			process(i);
	return 0;
}

static void f_reset(void *opaque)
{
	(void)opaque;
	CHECK(S.dev != NULL);
}

static void f_queue_notify(void *opaque, uint16_t queue)
{
	(void)opaque;
	CHECK(queue < NQ && vmmio_dev_is_active(S.dev));
	process(queue);
}

static const struct vmmio_dev_ops f_ops = {
    .size = sizeof(struct vmmio_dev_ops),
    .device_id = VIRTIO_ID_RNG,
    .config_read = f_config_read,
    .config_write = f_config_write,
    .features_ok = f_features_ok,
    .activate = f_activate,
    .reset = f_reset,
    .queue_notify = f_queue_notify,
};

static void reg_write(uint8_t reg, uint32_t val)
{
	(void)vmmio_dev_write(S.dev, (reg & 0x3fu) * 4u, &val, 4);
}

static bool op_raw(uint8_t op, struct in *in)
{
	uint16_t off16;
	uint8_t w;
	uint64_t off, val = 0;

	if (!take(in, &off16, 2) || !take(in, &w, 1) || !take(in, &val, 8))
		return false;
	off = off16;
	if (op & 0x80)
		off |= 0xffffffffffff0000ull;
	if (op & 8)
		(void)vmmio_dev_write(S.dev, off, &val, (w & 7u) + 1u);
	else
		(void)vmmio_dev_read(S.dev, off, &val, (w & 7u) + 1u);
	return true;
}

static bool op_poke(struct in *in)
{
	uint16_t off;
	unsigned char data[8];

	if (!take(in, &off, 2) || !take(in, data, 8))
		return false;
	off %= RAM_SIZE - 8u;
	memcpy(ram + off, data, 8);
	return true;
}

static bool step(uint8_t op, struct in *in)
{
	uint8_t reg, b;
	uint32_t val;

	switch (op & 7u) {
	case 0:
		if (!take(in, &reg, 1) || !take(in, &val, 4))
			return false;
		reg_write(reg, val);
		return true;
	case 1:
		if (!take(in, &reg, 1))
			return false;
		(void)vmmio_dev_read(S.dev, (reg & 0x3fu) * 4u, &val, 4);
		return true;
	case 2:
		return op_raw(op, in);
	case 3:
		if (!take(in, &b, 1))
			return false;
		(void)vmmio_dev_notify(S.dev, b == 0xff ? UINT32_MAX : b & 3u);
		return true;
	case 4:
		b = (op >> 3) & 7u;
		if (b == 1)
			vmmio_dev_reset(S.dev);
		else if (b >= 2 && b <= 4)
			(void)vmmio_dev_set_mem(S.dev, S.mem[b - 2]);
		else
			vmmio_dev_config_changed(S.dev);
		return true;
	case 5:
		return op_poke(in);
	default:
		if (!take(in, &reg, 1) || !take(in, &b, 1))
			return false;
		reg_write(reg, (op & 7u) == 6 ? b : RAM_GPA + 64u * b);
		return true;
	}
}

/* What must hold between any two guest accesses. */
static void check_invariants(void)
{
	uint32_t status = vmmio_dev_status(S.dev), isr, reg = 0;
	enum vmmio_fault fault = vmmio_dev_fault(S.dev);

	CHECK((fault != VMMIO_FAULT_NONE) ==
	      !!(status & VIRTIO_CONFIG_S_NEEDS_RESET));
	CHECK(!vmmio_dev_is_active(S.dev) ||
	      (status & VIRTIO_CONFIG_S_DRIVER_OK));
	isr = vmmio_dev_interrupt_status(S.dev);
	CHECK((isr & ~3u) == 0);
	CHECK(S.line == (isr != 0));
	CHECK(vmmio_dev_read(S.dev, VIRTIO_MMIO_STATUS, &reg, 4) == 0);
	CHECK(reg == status);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t sizes[NQ] = {8, 4};
	const struct vmmio_mem_region r[2] = {
	    {.gpa = RAM_GPA, .size = RAM_SIZE / 2, .host = ram},
	    {.gpa = RAM_GPA + RAM_SIZE / 2,
	     .size = RAM_SIZE / 2,
	     .host = ram + RAM_SIZE / 2},
	};
	const struct vmmio_mem_region whole = {
	    .gpa = RAM_GPA, .size = RAM_SIZE, .host = ram};
	struct vmmio_dev_config cfg = {
	    .size = sizeof(cfg),
	    .num_queues = NQ,
	    .queue_sizes = sizes,
	    .features = 3u | (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
			(1ull << VIRTIO_RING_F_EVENT_IDX),
	    .config_size = CFG_SIZE,
	    .host = &f_host,
	};
	struct in in = {data, size};
	uint8_t setup, op;

	if (!take(&in, &setup, 1))
		return 0;
	memset(ram, 0, sizeof(ram));
	memset(&S, 0, sizeof(S));
	for (unsigned i = 0; i < CFG_SIZE; i++)
		S.cfg[i] = (unsigned char)i;
	if (vmmio_mem_new(&whole, 1, NULL, NULL, &S.mem[0]) ||
	    vmmio_mem_new(r, 2, NULL, NULL, &S.mem[1]) ||
	    vmmio_mem_new(r, 1, NULL, NULL, &S.mem[2]))
		abort();
	cfg.mem = S.mem[0];
	cfg.version = setup & 1 ? 1 : 2;
	if (vmmio_dev_new(&f_ops, NULL, &cfg, &S.dev))
		abort();
	while (take(&in, &op, 1) && step(op, &in))
		check_invariants();
	vmmio_dev_free(S.dev);
	for (unsigned i = 0; i < 3; i++)
		vmmio_mem_free(S.mem[i]);
	return 0;
}
