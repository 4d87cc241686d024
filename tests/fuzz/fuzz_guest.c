/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: a hostile guest's program of registers and rings. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include <vmmio/blk.h>
#include <vmmio/console.h>
#include <vmmio/driver.h>
#include <vmmio/rng.h>

#include "fuzz_input.h"

/*
 * What a guest does to a device, decoded so that the fuzzer gets past the
 * transport's state machine into the device models. Setup: two bytes.
 *   s0 % 3: device (0 blk on a memfd with the sync engine, 1 console on
 *   pipes, 2 rng); bit 2 legacy (version 1); bit 3 guest RAM as two
 *   regions; bit 4 blk read-only / rng rate-limited; bit 5 blk two
 *   queues / rng max_request 100; bit 6 blk serial.
 *   s1: features not offered: bit 0 FLUSH, 1 DISCARD, 2 WRITE_ZEROES,
 *   3 CONFIG_WCE (console: EMERG_WRITE), 4 INDIRECT_DESC, 5 EVENT_IDX.
 * Then steps: an opcode byte (low 5 bits, modulo the step count) and its
 * arguments; "kind" bytes place an address relative to a data buffer,
 * an indirect table, the rings, or nowhere valid (see addr_of).
 *   0 reg, val32       register write (reg & 0x3f) * 4
 *   1 reg              register read
 *   2 f                negotiate: reset, ACKNOWLEDGE, DRIVER, accept the
 *                      offer masked by f, FEATURES_OK (modern)
 *   3 q, n             set up queue q of size 1 << (n % 5) at its ring
 *                      slot (QueueAlign 4096 and PFN on legacy), ready
 *   4                  DRIVER_OK
 *   5 q, i, desc       descriptor i of queue q's table
 *   6 q, head, m       avail entry (m: bit 0 keep idx, bits 2-4 idx
 *                      jump, bit 7 notify)
 *   7 t, i, desc       entry i of indirect table t
 *   8 b, type, smode   virtio-blk header at the start of buffer b
 *   9 b, i, seg        discard / write-zeroes segment i after it
 *  10 b, off16, n, n bytes   data into buffer b
 *  11 q                notify (op bit 5: QueueNotify register)
 *  12 e                backend event: blk/rng process; console: e bit 0
 *                      feed input (then n, bytes), bit 1 drain output,
 *                      then process
 *  13                  reset (op bit 5: host reset)
 *  14 off, w, val32    config space write (op bit 5: read)
 *  15 q, which, v16    avail flags / used_event / raw avail idx
 *  16                  interrupt status read and acknowledge
 *  17 q, kind, len     a well-formed request on queue q (see op_request)
 *  18 m                memory map m & 1 (one region, two)
 *  19 reg, n           register write of RAM_GPA + 64 * n
 * desc: kind, off16, len16, flags, next (kind 6: a raw 64-bit address
 * follows).
 * After the program: fault and NEEDS_RESET agree, the interrupt status
 * holds no unknown bit; then the driver harness resets the device, sets
 * it up and one well-formed request must succeed (blk: write then read
 * back a sector, or read on a read-only image; console: output reaches
 * the pipe, input reaches the guest; rng: bytes served). A blk image
 * never changes size, a read-only one never changes.
 */

#define RAM_GPA 0x40000000ull
#define RAM_SIZE 0x20000u
#define RING_OFF(q) (0x2000u * (q))
#define TABLE_OFF 0x4000u
#define TABLE_SLOT 0x100u /* 16 entries */
#define NTABLE 16u
#define BUF_OFF 0x6000u
#define BUF_SLOT 0x1000u
#define NBUF 16u
#define DRV_RING_OFF 0x16000u /* the harness's rings and buffers */
#define DRV_DATA_OFF 0x1c000u
#define QMAX 16u
#define NQ 2u
#define SECT 512u
#define IMG_BYTES 65536u
#define CAP (IMG_BYTES / SECT)
#define SERIAL "guest-fuzz"
#define NOPS 20u

enum { BLK, CONSOLE, RNG };

struct gq {
	bool set;
	uint16_t size;
	vmmio_gpa_t desc, avail, used;
	uint16_t avail_idx;
	uint16_t next_desc; /* op_request's rotating descriptor */
};

static struct {
	unsigned kind;
	bool legacy, ro, serial;
	uint64_t features_off;
	struct vmmio_blk *blk;
	struct vmmio_console *con;
	struct vmmio_rng *rng;
	struct vmmio_dev *dev;
	struct vmmio_mem *mem[2];
	unsigned nq;
	int memfd;
	char path[64];
	int in_r, in_w, out_r, out_w;
	bool line;
	struct gq q[NQ];
	unsigned next_buf;
} S = {.memfd = -1};

static _Alignas(4096) unsigned char ram[RAM_SIZE];

static void f_irq(void *opaque, bool raise)
{
	(void)opaque;
	S.line = raise;
}

static const struct vmmio_host_ops f_host = {
    .size = sizeof(struct vmmio_host_ops),
    .irq = f_irq,
};

/* ---- guest memory and registers ---- */

static void gput(uint32_t off, const void *src, size_t len)
{
	CHECK(off <= RAM_SIZE && len <= RAM_SIZE - off);
	memcpy(ram + off, src, len);
}

static uint32_t offset_of(vmmio_gpa_t gpa)
{
	return (uint32_t)(gpa - RAM_GPA);
}

static void reg_w(uint32_t off, uint32_t val)
{
	(void)vmmio_dev_write(S.dev, off, &val, 4);
}

static uint32_t reg_r(uint32_t off)
{
	uint32_t v = 0;

	(void)vmmio_dev_read(S.dev, off, &v, 4);
	return v;
}

static uint8_t byte(struct in *in)
{
	uint8_t b = 0;

	(void)take(in, &b, 1);
	return b;
}

static uint16_t half(struct in *in)
{
	uint16_t v = 0;

	(void)take(in, &v, 2);
	return v;
}

static uint32_t word(struct in *in)
{
	uint32_t v = 0;

	(void)take(in, &v, 4);
	return v;
}

/* ---- the transport, step by step ---- */

static uint64_t offered(void)
{
	uint64_t hi, lo;

	reg_w(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	hi = reg_r(VIRTIO_MMIO_DEVICE_FEATURES);
	reg_w(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	lo = reg_r(VIRTIO_MMIO_DEVICE_FEATURES);
	return hi << 32 | lo;
}

/* f: bit 0 drop EVENT_IDX, 1 drop INDIRECT_DESC, 2 drop the device
 * bits, 3 add an unoffered bit, 4 drop VERSION_1, 5 no FEATURES_OK. */
static void op_negotiate(uint8_t f)
{
	uint64_t acc;

	reg_w(VIRTIO_MMIO_STATUS, 0);
	if (S.legacy)
		reg_w(VIRTIO_MMIO_GUEST_PAGE_SIZE, 4096);
	reg_w(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	reg_w(VIRTIO_MMIO_STATUS,
	      VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	acc = offered();
	if (f & 1)
		acc &= ~(1ull << VIRTIO_RING_F_EVENT_IDX);
	if (f & 2)
		acc &= ~(1ull << VIRTIO_RING_F_INDIRECT_DESC);
	if (f & 4)
		acc &= ~((1ull << 24) - 1);
	if (f & 8)
		acc |= 1ull << 23;
	if (f & 16)
		acc &= ~(1ull << VIRTIO_F_VERSION_1);
	reg_w(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	reg_w(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(acc >> 32));
	reg_w(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	reg_w(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)acc);
	if (!S.legacy && !(f & 32))
		reg_w(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
					      VIRTIO_CONFIG_S_DRIVER |
					      VIRTIO_CONFIG_S_FEATURES_OK);
}

static void write_addr(uint32_t low, vmmio_gpa_t a)
{
	reg_w(low, (uint32_t)a);
	reg_w(low + 4u, (uint32_t)(a >> 32));
}

/* Ring slot of queue q: desc, avail after it, used at the next page
 * (the legacy layout with QueueAlign 4096, also used for modern). */
static void op_setup(uint8_t qb, uint8_t n)
{
	unsigned q = qb % NQ;
	struct gq *g = &S.q[q];
	vmmio_gpa_t base = RAM_GPA + RING_OFF(q);

	memset(g, 0, sizeof(*g));
	g->size = (uint16_t)(1u << (n % 5u));
	g->desc = base;
	g->avail = base + 16u * g->size;
	g->used = base + 0x1000u;
	memset(ram + RING_OFF(q), 0, 0x2000u);
	reg_w(VIRTIO_MMIO_QUEUE_SEL, qb & 0x80 ? qb : q);
	reg_w(VIRTIO_MMIO_QUEUE_NUM, g->size);
	if (S.legacy) {
		reg_w(VIRTIO_MMIO_QUEUE_ALIGN, 4096);
		reg_w(VIRTIO_MMIO_QUEUE_PFN, (uint32_t)(base / 4096u));
	} else {
		write_addr(VIRTIO_MMIO_QUEUE_DESC_LOW, g->desc);
		write_addr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, g->avail);
		write_addr(VIRTIO_MMIO_QUEUE_USED_LOW, g->used);
		reg_w(VIRTIO_MMIO_QUEUE_READY, 1);
	}
	g->set = true;
}

static void op_driver_ok(void)
{
	reg_w(VIRTIO_MMIO_STATUS,
	      reg_r(VIRTIO_MMIO_STATUS) | VIRTIO_CONFIG_S_DRIVER_OK);
}

/* ---- rings in guest memory ---- */

static vmmio_gpa_t buf_gpa(unsigned b)
{
	return RAM_GPA + BUF_OFF + BUF_SLOT * (b % NBUF);
}

static vmmio_gpa_t table_gpa(unsigned t)
{
	return RAM_GPA + TABLE_OFF + TABLE_SLOT * (t % NTABLE);
}

/*
 * kind & 7: 0-3 data buffer kind >> 3 plus off % 4096; 4 indirect table
 * kind >> 3 plus off % 256; 5 the ring area plus off; 6 a raw address
 * (next 8 bytes); 7 the end of RAM minus off (straddles, runs past it).
 */
static vmmio_gpa_t addr_of(uint8_t kind, uint16_t off, struct in *in)
{
	uint64_t raw = 0;

	switch (kind & 7u) {
	case 4:
		return table_gpa(kind >> 3) + off % TABLE_SLOT;
	case 5:
		return RAM_GPA + off % TABLE_OFF;
	case 6:
		(void)take(in, &raw, 8);
		return raw;
	case 7:
		return RAM_GPA + RAM_SIZE - off;
	default:
		return buf_gpa(kind >> 3) + off % BUF_SLOT;
	}
}

static void read_desc(struct vring_desc *d, struct in *in)
{
	uint8_t kind = byte(in), flags;
	uint16_t off = half(in), len = half(in);

	flags = byte(in);
	d->next = byte(in);
	d->addr = addr_of(kind, off, in);
	/* Mostly whole sectors and small headers; sometimes huge. */
	d->len = len & 0x8000 ? (uint32_t)(len & 0x7fff) << 9 : len;
	d->flags = flags & 0x80 ? (uint16_t)(flags << 8 | flags) : flags & 7u;
}

static void op_desc(struct in *in)
{
	uint8_t q = byte(in) % NQ, i = byte(in);
	struct vring_desc d;
	struct gq *g = &S.q[q];

	read_desc(&d, in);
	if (g->set)
		gput(offset_of(g->desc) + 16u * (i % g->size), &d, sizeof(d));
}

static void op_table(struct in *in)
{
	uint8_t t = byte(in), i = byte(in);
	struct vring_desc d;

	read_desc(&d, in);
	gput(offset_of(table_gpa(t)) + 16u * (i % 16u), &d, sizeof(d));
}

static void avail_publish(struct gq *g)
{
	__atomic_store_n((uint16_t *)(void *)(ram + offset_of(g->avail) + 2u),
			 g->avail_idx, __ATOMIC_RELEASE);
}

static void put_avail(struct gq *g, uint16_t head)
{
	gput(offset_of(g->avail) + 4u + 2u * (g->avail_idx % g->size), &head,
	     2);
	g->avail_idx++;
	avail_publish(g);
}

static void notify(unsigned q, bool reg)
{
	if (reg)
		reg_w(VIRTIO_MMIO_QUEUE_NOTIFY, q);
	else
		(void)vmmio_dev_notify(S.dev, q);
}

static void op_avail(struct in *in)
{
	uint8_t q = byte(in) % NQ, head = byte(in), m = byte(in);
	struct gq *g = &S.q[q];

	if (!g->set)
		return;
	gput(offset_of(g->avail) + 4u + 2u * (g->avail_idx % g->size), &head,
	     1);
	if (!(m & 1))
		g->avail_idx++;
	g->avail_idx = (uint16_t)(g->avail_idx + ((m >> 2) & 7u) * g->size);
	avail_publish(g);
	if (m & 0x80)
		notify(q, m & 0x40);
}

static void op_ring_misc(struct in *in)
{
	uint8_t q = byte(in) % NQ, which = byte(in);
	uint16_t v = half(in);
	struct gq *g = &S.q[q];
	uint32_t a;

	if (!g->set)
		return;
	a = offset_of(g->avail);
	switch (which % 3) {
	case 0:
		gput(a, &v, 2);
		break;
	case 1:
		gput(a + 4u + 2u * g->size, &v, 2);
		break;
	default:
		g->avail_idx = v;
		avail_publish(g);
		break;
	}
}

/* ---- request contents ---- */

static uint32_t blk_type(uint8_t t, struct in *in)
{
	static const uint32_t types[8] = {
	    VIRTIO_BLK_T_IN,	       VIRTIO_BLK_T_OUT,
	    VIRTIO_BLK_T_FLUSH,	       VIRTIO_BLK_T_GET_ID,
	    VIRTIO_BLK_T_DISCARD,      VIRTIO_BLK_T_WRITE_ZEROES,
	    VIRTIO_BLK_T_SECURE_ERASE, 0x42};

	return t & 0x80 ? word(in) : types[t & 7u];
}

static uint64_t blk_sector(uint8_t m, struct in *in)
{
	uint64_t raw = 0;

	switch (m & 3u) {
	case 0:
		return m >> 2;
	case 1:
		return CAP - (m >> 2);
	case 2:
		(void)take(in, &raw, 8);
		return raw;
	default:
		return (1ull << 55) + (m >> 2);
	}
}

static void op_blk_hdr(struct in *in)
{
	uint8_t b = byte(in), t = byte(in), m = byte(in);
	struct virtio_blk_outhdr h = {0};

	h.type = blk_type(t, in);
	h.sector = blk_sector(m, in);
	gput(offset_of(buf_gpa(b)), &h, sizeof(h));
}

static void op_blk_seg(struct in *in)
{
	uint8_t b = byte(in), i = byte(in), m = byte(in), f = byte(in);
	uint16_t n = half(in);
	struct virtio_blk_discard_write_zeroes s;

	s.sector = blk_sector(m, in);
	s.num_sectors = n & 0x8000 ? (uint32_t)n << 12 : n;
	s.flags = f;
	gput(offset_of(buf_gpa(b)) + 16u + 16u * (i % 32u), &s, sizeof(s));
}

static void op_data(struct in *in)
{
	uint8_t b = byte(in), n = byte(in);
	uint16_t off = half(in) % BUF_SLOT;
	unsigned char d[256];

	n = (uint8_t)(n < in->left ? n : in->left);
	(void)take(in, d, n);
	if (off + n > BUF_SLOT)
		n = (uint8_t)(BUF_SLOT - off);
	gput(offset_of(buf_gpa(b)) + off, d, n);
}

/* ---- well-formed requests ---- */

struct chain {
	struct vring_desc d[8];
	unsigned n;
};

static void chain_add(struct chain *c, vmmio_gpa_t addr, uint32_t len, bool w)
{
	c->d[c->n].addr = addr;
	c->d[c->n].len = len;
	c->d[c->n].flags = w ? VRING_DESC_F_WRITE : 0;
	c->n++;
}

/* The chain as direct descriptors, or (indirect) as one table. */
static void post(unsigned q, struct chain *c, bool indirect)
{
	struct gq *g = &S.q[q];
	uint16_t head = g->next_desc % g->size, cur = head;

	if (indirect) {
		unsigned t = S.next_buf++ % NTABLE;

		for (unsigned i = 0; i < c->n; i++) {
			if (i + 1 < c->n) {
				c->d[i].flags |= VRING_DESC_F_NEXT;
				c->d[i].next = (uint16_t)(i + 1);
			}
			gput(offset_of(table_gpa(t)) + 16u * i, &c->d[i], 16);
		}
		c->d[0] = (struct vring_desc){.addr = table_gpa(t),
					      .len = 16u * c->n,
					      .flags = VRING_DESC_F_INDIRECT};
		c->n = 1;
	}
	for (unsigned i = 0; i < c->n; i++) {
		uint16_t nx = (uint16_t)((cur + 1u) % g->size);

		if (i + 1 < c->n) {
			c->d[i].flags |= VRING_DESC_F_NEXT;
			c->d[i].next = nx;
		}
		gput(offset_of(g->desc) + 16u * cur, &c->d[i], 16);
		cur = nx;
	}
	g->next_desc = cur;
	put_avail(g, head);
}

/*
 * blk: kind % 6 selects IN, OUT, FLUSH, GET_ID, DISCARD, WRITE_ZEROES at
 * sector (kind >> 3) % 8, len % 4 + 1 sectors; bit 6 header and data in
 * one descriptor. Console: queue 0 a receive buffer of len + 1 bytes,
 * queue 1 len + 1 bytes of output. Rng: len * 16 + 1 bytes. Bit 7 of
 * kind: indirect.
 */
static void blk_request(struct chain *c, uint8_t kind, uint8_t len)
{
	static const uint32_t types[6] = {
	    VIRTIO_BLK_T_IN,	  VIRTIO_BLK_T_OUT,
	    VIRTIO_BLK_T_FLUSH,	  VIRTIO_BLK_T_GET_ID,
	    VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES};
	uint32_t type = types[kind % 6u], n = SECT * (len % 4u + 1u);
	vmmio_gpa_t b = buf_gpa(S.next_buf++), st = b + 0xff0u;
	struct virtio_blk_outhdr h = {.type = type, .sector = (kind >> 3) % 8u};
	struct virtio_blk_discard_write_zeroes s = {
	    .sector = h.sector, .num_sectors = len % 4u + 1u};

	gput(offset_of(b), &h, sizeof(h));
	if (type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID) {
		chain_add(c, b, 16, false);
		chain_add(c, b + 16, type == VIRTIO_BLK_T_IN ? n : 20u, true);
	} else if (type == VIRTIO_BLK_T_OUT) {
		chain_add(c, b, kind & 0x40 ? 16u + n : 16u, false);
		if (!(kind & 0x40))
			chain_add(c, b + 16, n, false);
	} else if (type == VIRTIO_BLK_T_FLUSH) {
		chain_add(c, b, 16, false);
	} else {
		gput(offset_of(b) + 16u, &s, sizeof(s));
		chain_add(c, b, 32, false);
	}
	chain_add(c, st, 1, true);
}

static void op_request(struct in *in)
{
	uint8_t q = byte(in) % NQ, kind = byte(in), len = byte(in);
	struct chain c = {.n = 0};
	vmmio_gpa_t b = buf_gpa(S.next_buf++);

	if (!S.q[q].set)
		return;
	if (S.kind == BLK)
		blk_request(&c, kind, len);
	else if (S.kind == CONSOLE)
		chain_add(&c, b, len + 1u, q == 0);
	else
		chain_add(&c, b, len * 16u + 1u, true);
	post(q, &c, kind & 0x80);
	notify(q, kind & 0x20);
}

/* ---- backends ---- */

static void drain_out(void)
{
	unsigned char buf[4096];

	while (S.out_r >= 0 && read(S.out_r, buf, sizeof(buf)) > 0)
		;
}

static void op_event(uint8_t e, struct in *in)
{
	int rc = 0;

	if (S.kind == BLK) {
		rc = vmmio_blk_process(S.blk);
	} else if (S.kind == RNG) {
		rc = vmmio_rng_process(S.rng);
	} else {
		if (e & 1) {
			uint8_t n = byte(in);

			n = (uint8_t)(n < in->left ? n : in->left);
			if (write(S.in_w, in->p, n) < 0)
				CHECK(errno == EAGAIN);
			in->p += n;
			in->left -= n;
		}
		if (e & 2)
			drain_out();
		rc = vmmio_console_process(S.con);
	}
	CHECK(rc >= 0 || (rc == -EIO && vmmio_dev_fault(S.dev)));
}

static void op_config(uint8_t op, struct in *in)
{
	static const unsigned widths[4] = {1, 2, 4, 8};
	uint8_t off = byte(in), w = byte(in);
	uint64_t v = word(in);

	if (op & 0x20)
		(void)vmmio_dev_read(S.dev, VIRTIO_MMIO_CONFIG + (off & 0x3fu),
				     &v, widths[w & 3u]);
	else
		(void)vmmio_dev_write(S.dev, VIRTIO_MMIO_CONFIG + (off & 0x3fu),
				      &v, widths[w & 3u]);
}

static void step(uint8_t op, struct in *in)
{
	uint8_t b;

	switch ((op & 0x1fu) % NOPS) {
	case 0:
		b = byte(in);
		reg_w((b & 0x3fu) * 4u, word(in));
		break;
	case 1:
		(void)reg_r((byte(in) & 0x3fu) * 4u);
		break;
	case 2:
		op_negotiate(byte(in));
		break;
	case 3:
		b = byte(in);
		op_setup(b, byte(in));
		break;
	case 4:
		op_driver_ok();
		break;
	case 5:
		op_desc(in);
		break;
	case 6:
		op_avail(in);
		break;
	case 7:
		op_table(in);
		break;
	case 8:
		op_blk_hdr(in);
		break;
	case 9:
		op_blk_seg(in);
		break;
	case 10:
		op_data(in);
		break;
	case 11:
		notify(byte(in), op & 0x20);
		break;
	case 12:
		op_event(byte(in), in);
		break;
	case 13:
		if (op & 0x20)
			vmmio_dev_reset(S.dev);
		else
			reg_w(VIRTIO_MMIO_STATUS, 0);
		break;
	case 14:
		op_config(op, in);
		break;
	case 15:
		op_ring_misc(in);
		break;
	case 16:
		reg_w(VIRTIO_MMIO_INTERRUPT_ACK,
		      reg_r(VIRTIO_MMIO_INTERRUPT_STATUS));
		break;
	case 17:
		op_request(in);
		break;
	case 18:
		(void)vmmio_dev_set_mem(S.dev, S.mem[byte(in) & 1u]);
		break;
	default:
		b = byte(in);
		reg_w((b & 0x3fu) * 4u, (uint32_t)RAM_GPA + 64u * byte(in));
		break;
	}
}

static void check_invariants(void)
{
	uint32_t status = vmmio_dev_status(S.dev);
	uint32_t isr = vmmio_dev_interrupt_status(S.dev);
	enum vmmio_fault f = vmmio_dev_fault(S.dev);

	CHECK((f != VMMIO_FAULT_NONE) ==
	      !!(status & VIRTIO_CONFIG_S_NEEDS_RESET));
	CHECK((isr & ~3u) == 0);
	CHECK(S.line == (isr != 0));
	for (unsigned q = 0; q < S.nq; q++) {
		struct vmmio_vq *vq = vmmio_dev_queue(S.dev, q);

		CHECK(vmmio_vq_inflight(vq) <= vmmio_vq_size(vq));
		/* The console holds at most one chain per queue. */
		if (S.kind == CONSOLE)
			CHECK(vmmio_vq_inflight(vq) <= 1);
	}
}

/* ---- the final request, through the driver harness ---- */

static struct {
	struct vmmio_drv drv;
	struct vmmio_drv_vq vq[NQ];
	struct vmmio_drv_slot slot[NQ][QMAX];
	uint64_t features;
	int token;
} D;

static void drv_start(void)
{
	uint32_t align = S.legacy ? 4096u : 4u;

	CHECK(vmmio_drv_init(&D.drv, vmmio_dev_driver_ops(), S.dev) == 0);
	CHECK(vmmio_drv_negotiate(&D.drv, ~0ull, &D.features) == 0);
	CHECK(vmmio_dev_fault(S.dev) == VMMIO_FAULT_NONE);
	for (unsigned q = 0; q < S.nq; q++) {
		uint32_t off = DRV_RING_OFF + 0x2000u * q;
		size_t len = vmmio_drv_vq_ring_bytes(QMAX, align);

		CHECK(len <= 0x2000u);
		CHECK(vmmio_drv_vq_init(&D.vq[q], QMAX, ram + off,
					RAM_GPA + off, len, align, D.slot[q],
					D.features) == 0);
		CHECK(vmmio_drv_setup_queue(&D.drv, q, &D.vq[q]) == 0);
	}
	CHECK(vmmio_drv_driver_ok(&D.drv) == 0);
}

/* Add @n buffers (the first @n_out readable) on queue @q, kick, and
 * return the used length of the completion. */
static uint32_t drv_request(unsigned q, const struct vmmio_drv_buf *buf,
			    unsigned n_out, unsigned n)
{
	struct vmmio_drv_req r = {
	    .buf = buf, .n_out = n_out, .n_in = n - n_out, .n_direct = n};
	void *tok = NULL;
	uint32_t len = 0;
	int rc = 0;

	CHECK(vmmio_drv_vq_add(&D.vq[q], &r, &D.token) == 0);
	if (vmmio_drv_vq_kick_prepare(&D.vq[q]))
		vmmio_drv_notify(&D.drv, q);
	for (unsigned i = 0; i < 1000; i++) {
		rc = vmmio_drv_vq_get_used(&D.vq[q], &tok, &len);
		if (rc != 0)
			break;
		if (S.kind == RNG) {
			struct pollfd p = {.fd = vmmio_rng_fd(S.rng),
					   .events = POLLIN};

			(void)poll(&p, 1, 1);
			CHECK(vmmio_rng_process(S.rng) == 0);
		} else if (S.kind == CONSOLE) {
			CHECK(vmmio_console_process(S.con) == 0);
		}
	}
	CHECK(rc == 1 && tok == &D.token);
	CHECK(vmmio_dev_fault(S.dev) == VMMIO_FAULT_NONE);
	return len;
}

static vmmio_gpa_t dgpa(uint32_t off)
{
	return RAM_GPA + DRV_DATA_OFF + off;
}

static void final_blk(void)
{
	struct virtio_blk_outhdr h = {.type = VIRTIO_BLK_T_OUT, .sector = 3};
	struct vmmio_drv_buf b[3] = {
	    {dgpa(0), 16}, {dgpa(0x100), SECT}, {dgpa(0x400), 1}};
	unsigned char *data = ram + DRV_DATA_OFF + 0x100u, want[SECT];

	for (unsigned i = 0; i < SECT; i++)
		want[i] = (unsigned char)(i * 7u + 1u);
	if (S.ro) {
		/* The image as created: byte i is (i * 13) & 0xff. */
		for (unsigned i = 0; i < SECT; i++)
			want[i] = (unsigned char)((3u * SECT + i) * 13u);
	} else {
		gput(DRV_DATA_OFF, &h, sizeof(h));
		memcpy(data, want, SECT);
		ram[DRV_DATA_OFF + 0x400u] = 0xff;
		CHECK(drv_request(0, b, 2, 3) == 1);
		CHECK(ram[DRV_DATA_OFF + 0x400u] == VIRTIO_BLK_S_OK);
	}
	h.type = VIRTIO_BLK_T_IN;
	gput(DRV_DATA_OFF, &h, sizeof(h));
	memset(data, 0, SECT);
	ram[DRV_DATA_OFF + 0x400u] = 0xff;
	CHECK(drv_request(0, b, 1, 3) == SECT + 1);
	CHECK(ram[DRV_DATA_OFF + 0x400u] == VIRTIO_BLK_S_OK);
	CHECK(memcmp(data, want, SECT) == 0);
}

static void final_console(void)
{
	static const char out[] = "final output\n";
	struct vmmio_drv_buf tx = {dgpa(0), sizeof(out) - 1};
	struct vmmio_drv_buf rx = {dgpa(0x100), 64};
	char got[64];
	ssize_t n;

	/* Leftovers of the program, both ways. */
	drain_out();
	while (read(S.in_r, got, sizeof(got)) > 0)
		;
	gput(DRV_DATA_OFF, out, sizeof(out) - 1);
	CHECK(drv_request(1, &tx, 1, 1) == 0);
	n = read(S.out_r, got, sizeof(got));
	CHECK(n == (ssize_t)sizeof(out) - 1 &&
	      memcmp(got, out, (size_t)n) == 0);
	CHECK(write(S.in_w, "in", 2) == 2);
	CHECK(drv_request(0, &rx, 0, 1) == 2);
	CHECK(memcmp(ram + DRV_DATA_OFF + 0x100u, "in", 2) == 0);
}

static void final_rng(void)
{
	struct vmmio_drv_buf b = {dgpa(0), 64};

	CHECK(drv_request(0, &b, 0, 1) == 64);
}

/* ---- devices ---- */

static void image_init(void)
{
	unsigned char b[IMG_BYTES];

	if (S.memfd < 0) {
		S.memfd = memfd_create("fuzz-guest", MFD_CLOEXEC);
		CHECK(S.memfd >= 0);
		snprintf(S.path, sizeof(S.path), "/proc/self/fd/%d", S.memfd);
	}
	for (unsigned i = 0; i < IMG_BYTES; i++)
		b[i] = (unsigned char)(i * 13u);
	CHECK(ftruncate(S.memfd, 0) == 0);
	CHECK(pwrite(S.memfd, b, IMG_BYTES, 0) == (ssize_t)IMG_BYTES);
}

static void check_image(void)
{
	unsigned char b[IMG_BYTES];
	struct stat st;

	CHECK(fstat(S.memfd, &st) == 0);
	CHECK(st.st_size == IMG_BYTES);
	if (!S.ro)
		return;
	CHECK(pread(S.memfd, b, IMG_BYTES, 0) == (ssize_t)IMG_BYTES);
	for (unsigned i = 0; i < IMG_BYTES; i++)
		CHECK(b[i] == (unsigned char)(i * 13u));
}

static uint64_t off_bits(uint8_t s1)
{
	uint64_t f = 0;

	if (s1 & 1)
		f |= 1ull << VIRTIO_BLK_F_FLUSH;
	if (s1 & 2)
		f |= 1ull << VIRTIO_BLK_F_DISCARD;
	if (s1 & 4)
		f |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	if (s1 & 8)
		f |= 1ull << VIRTIO_BLK_F_CONFIG_WCE;
	if (S.kind != BLK)
		f = s1 & 8 ? 1ull << VIRTIO_CONSOLE_F_EMERG_WRITE : 0;
	if (S.kind == RNG)
		f = 0;
	if (s1 & 16)
		f |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (s1 & 32)
		f |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	return f;
}

static void make_blk(uint8_t s0)
{
	struct vmmio_blk_config c = {
	    .size = sizeof(c),
	    .path = S.path,
	    .read_only = s0 & 0x10,
	    .engine = VMMIO_BLK_ENGINE_SYNC,
	    .features_off = S.features_off,
	    .serial = s0 & 0x40 ? SERIAL : NULL,
	    .num_queues = s0 & 0x20 ? 2 : 1,
	    .queue_size = QMAX,
	    .version = S.legacy ? 1 : 2,
	    .mem = S.mem[0],
	    .host = &f_host,
	};

	S.ro = c.read_only;
	S.nq = c.num_queues;
	image_init();
	CHECK(vmmio_blk_new(&c, &S.blk) == 0);
	S.dev = vmmio_blk_dev(S.blk);
}

static void make_pipes(void)
{
	int a[2], b[2];

	CHECK(pipe2(a, O_CLOEXEC | O_NONBLOCK) == 0);
	CHECK(pipe2(b, O_CLOEXEC | O_NONBLOCK) == 0);
	S.in_r = a[0];
	S.in_w = a[1];
	S.out_r = b[0];
	S.out_w = b[1];
	/* Small pipes: output backpressure is reached quickly. */
	(void)fcntl(S.out_w, F_SETPIPE_SZ, 4096);
}

static void make_console(void)
{
	struct vmmio_console_config c = {
	    .size = sizeof(c),
	    .backend = VMMIO_CONSOLE_FD,
	    .features_off = S.features_off,
	    .queue_size = QMAX,
	    .version = S.legacy ? 1 : 2,
	    .mem = S.mem[0],
	    .host = &f_host,
	};

	make_pipes();
	c.in_fd = S.in_r;
	c.out_fd = S.out_w;
	S.nq = 2;
	CHECK(vmmio_console_new(&c, &S.con) == 0);
	S.dev = vmmio_console_dev(S.con);
}

static void make_rng(uint8_t s0)
{
	struct vmmio_rng_config c = {
	    .size = sizeof(c),
	    .max_request = s0 & 0x20 ? 100 : 0,
	    /* A bucket of one request, refilled fast enough that the final
	     * request waits a few milliseconds at most. */
	    .rate = s0 & 0x10 ? 1u << 20 : 0,
	    .burst = s0 & 0x10 ? (s0 & 0x20 ? 100 : 4096) : 0,
	    .features_off = S.features_off,
	    .queue_size = QMAX,
	    .version = S.legacy ? 1 : 2,
	    .mem = S.mem[0],
	    .host = &f_host,
	};

	S.nq = 1;
	CHECK(vmmio_rng_new(&c, &S.rng) == 0);
	S.dev = vmmio_rng_dev(S.rng);
}

static void teardown(void)
{
	int *fds[4] = {&S.in_r, &S.in_w, &S.out_r, &S.out_w};

	vmmio_blk_free(S.blk);
	vmmio_console_free(S.con);
	vmmio_rng_free(S.rng);
	S.blk = NULL;
	S.con = NULL;
	S.rng = NULL;
	for (unsigned i = 0; i < 4; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	vmmio_mem_free(S.mem[0]);
	vmmio_mem_free(S.mem[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct vmmio_mem_region whole = {
	    .gpa = RAM_GPA, .size = RAM_SIZE, .host = ram};
	const struct vmmio_mem_region two[2] = {
	    {.gpa = RAM_GPA, .size = RAM_SIZE / 2, .host = ram},
	    {.gpa = RAM_GPA + RAM_SIZE / 2,
	     .size = RAM_SIZE / 2,
	     .host = ram + RAM_SIZE / 2},
	};
	struct in in = {data, size};
	uint8_t s0, s1, op;

	if (!take(&in, &s0, 1) || !take(&in, &s1, 1))
		return 0;
	memset(ram, 0, sizeof(ram));
	memset(S.q, 0, sizeof(S.q));
	memset(&D, 0, sizeof(D));
	S.in_r = S.in_w = S.out_r = S.out_w = -1;
	S.next_buf = 0;
	S.line = false;
	S.kind = s0 % 3u;
	S.legacy = s0 & 4;
	S.ro = false;
	S.features_off = off_bits(s1);
	CHECK(vmmio_mem_new(&whole, 1, NULL, NULL, &S.mem[0]) == 0);
	CHECK(vmmio_mem_new(two, 2, NULL, NULL, &S.mem[1]) == 0);
	if (S.kind == BLK)
		make_blk(s0);
	else if (S.kind == CONSOLE)
		make_console();
	else
		make_rng(s0);
	if (s0 & 8)
		CHECK(vmmio_dev_set_mem(S.dev, S.mem[1]) == 0);
	while (take(&in, &op, 1)) {
		step(op, &in);
		check_invariants();
	}
	drv_start();
	if (S.kind == BLK)
		final_blk();
	else if (S.kind == CONSOLE)
		final_console();
	else
		final_rng();
	check_invariants();
	teardown();
	if (S.kind == BLK)
		check_image();
	return 0;
}
