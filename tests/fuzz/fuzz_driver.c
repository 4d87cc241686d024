/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the driver harness facing a hostile device. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include <vmmio/driver.h>

#include "fuzz_input.h"

/*
 * The input is the device: its register values and what it writes into
 * the used ring. Setup: version byte (0: 2, 1: 1, else the byte itself),
 * DeviceID byte, offered features (8 bytes), QueueNumMax (2 bytes). Then
 * operations, an opcode byte (op % 20) and its arguments:
 *  driver (the harness under test):
 *   0 vmmio_drv_init            1 w: negotiate (wanted from w)
 *   2 q, s, g: vq_init q (size 1 << (s % 9), align 4096 if s & 0x80 or
 *     legacy; ring gpa by g), features negotiated (or ~0 if g & 0x80)
 *   3 q: setup_queue            4 driver_ok, add_status, get_status
 *   5 q, shape, nd, a byte per buffer (gpa and length): vq_add with
 *     shape bits 0-2 readable, 3-5 writable buffers, 6 no indirect
 *     table, 7 then kick_prepare and notify; nd gives n_direct
 *   6 q, n: get_used up to n % 32 + 1 times
 *   7 q, b: disable_cb / enable_cb
 *   8 off, len, w: config_read (w & 1: config_write)
 *   9 b: ack_interrupt, queue_max, reset, notify, ring_bytes
 *  device (hostile):
 *  10 reg, val32: register value       11 n, val32 x n: scripted reads
 *  12 q, slot, id16, len32: used element 13 q, m, v16: used idx
 *  14 q, w, v16: used flags / avail_event 15 q, n, len8: complete in order
 *  16 q, i, desc[16]: scribble descriptor  17 or8, and8: Status mask
 *  18 g: ConfigGeneration moves at every read (g & 1)
 *  19 off, bytes[4]: config space
 * Checked (abort on violation): register accesses in the window, aligned,
 * 32-bit below the config space, bounded per call; every return code
 * against a model of the harness; tokens only as given and in flight,
 * each once, with the length the device wrote; chains on free
 * descriptors, disjoint from those in flight, their descriptors and
 * indirect tables as requested; nothing the harness writes lands in the
 * used ring; config bytes assembled little-endian. Rings, slot arrays,
 * indirect tables and config buffers are heap blocks of the exact size,
 * so ASan catches any access outside them.
 */

#define NQ 2u
#define NSEL 4u
#define MAXTOK 64u
#define MAXBUF 12u
#define NSCRIPT 16u
/* A config read retries 64 times over at most 256 bytes. */
#define MAX_ACCESSES 20000u
#define OPS 20u

struct tok {
	bool busy;
	unsigned q;
	uint16_t head, ndesc;
	uint16_t idx[MAXBUF + 1];
};

struct dq {
	struct vmmio_drv_vq vq;
	unsigned char *ring;
	size_t ring_len;
	struct vmmio_drv_slot *slot;
	bool init;
	uint16_t last_used; /* the model's copy */
	uint16_t dev_avail; /* device: next avail entry to complete */
};

static struct {
	/* device */
	uint32_t regs[0x40];
	unsigned char cfg[0x100];
	uint64_t offered;
	uint32_t fsel, sel, status, st_or, st_and, gen, isr;
	uint32_t qmax[NSEL], ready[NSEL], pfn[NSEL];
	bool gen_moves;
	uint32_t script[NSCRIPT];
	unsigned nscript, spos;
	unsigned accesses;
	/* driver */
	struct vmmio_drv drv;
	bool drv_ok;
	uint64_t features;
	struct dq q[NQ];
	struct tok tok[MAXTOK];
} S;

/* ---- the device's register window ---- */

static void access_ok(uint32_t off, unsigned width)
{
	CHECK(off < 0x200u);
	CHECK(width == 1 || width == 2 || width == 4);
	CHECK(off % width == 0);
	CHECK(off >= VIRTIO_MMIO_CONFIG || width == 4);
	CHECK(++S.accesses <= MAX_ACCESSES);
}

static uint32_t by_sel(const uint32_t *a)
{
	return S.sel < NSEL ? a[S.sel] : 0;
}

static uint32_t reg_value(uint32_t off)
{
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return S.fsel < 2 ? (uint32_t)(S.offered >> (32 * S.fsel)) : 0;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return by_sel(S.qmax);
	case VIRTIO_MMIO_QUEUE_READY:
		return by_sel(S.ready);
	case VIRTIO_MMIO_QUEUE_PFN:
		return by_sel(S.pfn);
	case VIRTIO_MMIO_STATUS:
		return (S.status | S.st_or) & ~S.st_and;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return S.isr;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return S.gen_moves ? S.gen++ : S.gen;
	default:
		return S.regs[off / 4];
	}
}

static uint32_t d_read(void *opaque, uint32_t off, unsigned width)
{
	uint32_t v = 0;

	CHECK(opaque == &S);
	access_ok(off, width);
	if (S.spos < S.nscript)
		return S.script[S.spos++];
	if (off < VIRTIO_MMIO_CONFIG)
		return reg_value(off);
	for (unsigned i = 0; i < width; i++)
		v |= (uint32_t)S.cfg[off - VIRTIO_MMIO_CONFIG + i] << (8 * i);
	return v;
}

static void set_by_sel(uint32_t *a, uint32_t v)
{
	if (S.sel < NSEL)
		a[S.sel] = v;
}

static void d_write(void *opaque, uint32_t off, uint32_t val, unsigned width)
{
	CHECK(opaque == &S);
	access_ok(off, width);
	if (off >= VIRTIO_MMIO_CONFIG) {
		for (unsigned i = 0; i < width; i++)
			S.cfg[off - VIRTIO_MMIO_CONFIG + i] =
			    (unsigned char)(val >> (8 * i));
		return;
	}
	switch (off) {
	case VIRTIO_MMIO_STATUS:
		S.status = val;
		if (val == 0) {
			memset(S.ready, 0, sizeof(S.ready));
			memset(S.pfn, 0, sizeof(S.pfn));
		}
		break;
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		S.fsel = val;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		S.sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		set_by_sel(S.ready, val);
		break;
	case VIRTIO_MMIO_QUEUE_PFN:
		set_by_sel(S.pfn, val);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		S.isr &= ~val;
		break;
	default:
		break;
	}
}

static const struct vmmio_drv_ops d_ops = {
    .size = sizeof(d_ops), .read = d_read, .write = d_write};

/* Values the device answers with: its registers, not a script. */
static bool plain(void)
{
	return S.nscript == 0;
}

/* ---- ring views (the device's side, and the model's checks) ---- */

static uint16_t rd16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint32_t rd32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void wr16(unsigned char *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static size_t used_bytes(const struct dq *d)
{
	return 6u + 8u * (size_t)d->vq.size;
}

/* The harness never writes the device's used ring. */
struct snap {
	unsigned char b[NQ][6 + 8 * 256];
};

static void snap_take(struct snap *s)
{
	for (unsigned q = 0; q < NQ; q++)
		if (S.q[q].init)
			memcpy(s->b[q], S.q[q].vq.used, used_bytes(&S.q[q]));
}

static void snap_check(const struct snap *s)
{
	for (unsigned q = 0; q < NQ; q++)
		if (S.q[q].init)
			CHECK(memcmp(s->b[q], S.q[q].vq.used,
				     used_bytes(&S.q[q])) == 0);
}

/* Free descriptors plus those in flight make the whole table. */
static void check_accounting(const struct dq *d, unsigned q)
{
	unsigned n = vmmio_drv_vq_num_free(&d->vq);

	for (unsigned i = 0; i < MAXTOK; i++)
		if (S.tok[i].busy && S.tok[i].q == q)
			n += S.tok[i].ndesc;
	CHECK(n == d->vq.size);
}

/* ---- driver operations ---- */

static uint8_t byte(struct in *in)
{
	uint8_t b = 0;

	(void)take(in, &b, 1);
	return b;
}

static void op_init(void)
{
	uint32_t v = S.regs[VIRTIO_MMIO_VERSION / 4];
	bool expect_ok = S.regs[0] == 0x74726976u && (v == 1 || v == 2) &&
			 S.regs[VIRTIO_MMIO_DEVICE_ID / 4];
	bool p = plain();
	int rc = vmmio_drv_init(&S.drv, &d_ops, &S);

	CHECK(rc == 0 || rc == -ENODEV || rc == -ENOTSUP);
	if (p)
		CHECK((rc == 0) == expect_ok);
	S.drv_ok = rc == 0;
	if (rc == 0)
		CHECK(vmmio_drv_version(&S.drv) == 1 ||
		      vmmio_drv_version(&S.drv) == 2);
	if (rc == 0 && p)
		CHECK(vmmio_drv_device_id(&S.drv) ==
		      S.regs[VIRTIO_MMIO_DEVICE_ID / 4]);
}

static uint64_t wanted_of(uint8_t w)
{
	uint64_t f = 0;

	if (w & 0x80)
		return ~0ull;
	if (w & 1)
		f |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (w & 2)
		f |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	return f | (uint64_t)(w >> 2) << 1;
}

static void op_negotiate(struct in *in)
{
	uint64_t wanted = wanted_of(byte(in)), acc = 0, v1;
	bool p = plain();
	int rc;

	if (!S.drv_ok)
		return;
	rc = vmmio_drv_negotiate(&S.drv, wanted, &acc);
	CHECK(rc == 0 || rc == -EIO);
	if (rc)
		return;
	v1 = vmmio_drv_version(&S.drv) == 2 ? 1ull << VIRTIO_F_VERSION_1 : 0;
	CHECK((acc & ~wanted & ~v1) == 0);
	if (p)
		CHECK(acc == ((S.offered & wanted) | v1));
	S.features = acc;
}

static void free_queue(struct dq *d, unsigned q)
{
	for (unsigned i = 0; i < MAXTOK; i++)
		if (S.tok[i].q == q)
			S.tok[i].busy = false;
	free(d->ring);
	free(d->slot);
	memset(d, 0, sizeof(*d));
}

static vmmio_gpa_t ring_gpa(unsigned q, uint8_t g)
{
	switch (g & 3u) {
	case 0:
		return 0x100000ull * (q + 1);
	case 1:
		return 0x100000ull * (q + 1) + 16u * (g >> 2);
	case 2:
		return 0xfffffffffffff000ull;
	default:
		return 1ull << 45;
	}
}

static void op_vq_init(struct in *in)
{
	uint8_t q = byte(in) % NQ, s = byte(in), g = byte(in);
	struct dq *d = &S.q[q];
	uint16_t size = (uint16_t)(1u << (s % 9u));
	bool legacy = (s & 0x80) || (S.drv_ok && S.drv.version == 1);
	uint32_t align = legacy ? 4096u : 4u;
	uint64_t feat = g & 0x80 ? ~0ull : S.features;
	void *mem = NULL;
	int rc;

	free_queue(d, q);
	d->ring_len = vmmio_drv_vq_ring_bytes(size, align);
	CHECK(d->ring_len > 0);
	CHECK(posix_memalign(&mem, legacy ? 4096 : 16, d->ring_len) == 0);
	d->ring = mem;
	d->slot = malloc(size * sizeof(*d->slot));
	CHECK(d->slot != NULL);
	/* A short ring is refused. */
	CHECK(vmmio_drv_vq_init(&d->vq, size, d->ring, ring_gpa(q, g),
				d->ring_len - 1, align, d->slot,
				feat) == -EINVAL);
	rc = vmmio_drv_vq_init(&d->vq, size, d->ring, ring_gpa(q, g),
			       d->ring_len, align, d->slot, feat);
	CHECK(rc == 0);
	d->init = true;
	CHECK(vmmio_drv_vq_num_free(&d->vq) == size);
	CHECK(vmmio_drv_vq_used_pending(&d->vq) == 0);
}

static void op_setup(struct in *in)
{
	uint8_t b = byte(in);
	struct dq *d = &S.q[b % NQ];
	int rc;

	if (!S.drv_ok)
		return;
	/* Index from the byte: queues past NSEL read as missing. */
	rc = vmmio_drv_setup_queue(&S.drv, b & 0x80 ? b : b % NQ,
				   d->init ? &d->vq : NULL);
	CHECK(rc == 0 || rc == -ENOENT || rc == -EBUSY || rc == -EINVAL ||
	      rc == -EIO);
	if (!d->init)
		CHECK(rc == -EINVAL);
}

static void op_status(struct in *in)
{
	uint8_t b = byte(in);
	int rc;

	if (!S.drv_ok)
		return;
	if (b & 1) {
		rc = vmmio_drv_driver_ok(&S.drv);
		CHECK(rc == 0 || rc == -EIO);
	} else if (b & 2) {
		vmmio_drv_add_status(&S.drv, b >> 2);
	} else {
		(void)vmmio_drv_get_status(&S.drv);
	}
}

/* Walk the chain the harness just wrote at @head; record its
 * descriptors and check them against the request. */
static void check_chain(struct tok *t, struct dq *d,
			const struct vmmio_drv_req *r)
{
	unsigned total = r->n_out + r->n_in, i;
	uint16_t cur = t->head;
	struct vring_desc v;

	t->ndesc = 0;
	for (i = 0; i < r->n_direct; i++) {
		CHECK(cur < d->vq.size);
		memcpy(&v, d->vq.desc + 16u * cur, sizeof(v));
		CHECK(v.addr == r->buf[i].gpa && v.len == r->buf[i].len);
		CHECK(!!(v.flags & VRING_DESC_F_WRITE) == (i >= r->n_out));
		CHECK(!(v.flags & VRING_DESC_F_INDIRECT));
		t->idx[t->ndesc++] = cur;
		if (i + 1 == total) {
			CHECK(!(v.flags & VRING_DESC_F_NEXT));
			return;
		}
		CHECK(v.flags & VRING_DESC_F_NEXT);
		cur = v.next;
	}
	CHECK(cur < d->vq.size);
	memcpy(&v, d->vq.desc + 16u * cur, sizeof(v));
	CHECK(v.flags == VRING_DESC_F_INDIRECT && v.addr == r->table_gpa);
	CHECK(v.len == 16u * (total - r->n_direct));
	t->idx[t->ndesc++] = cur;
	for (i = r->n_direct; i < total; i++) {
		unsigned j = i - r->n_direct;

		memcpy(&v, (unsigned char *)r->table + 16u * j, sizeof(v));
		CHECK(v.addr == r->buf[i].gpa && v.len == r->buf[i].len);
		CHECK(!!(v.flags & VRING_DESC_F_WRITE) == (i >= r->n_out));
		CHECK(!!(v.flags & VRING_DESC_F_NEXT) == (i + 1 < total));
		if (i + 1 < total)
			CHECK(v.next == j + 1);
	}
}

/* No descriptor of the new chain belongs to a chain in flight. */
static void check_disjoint(const struct tok *t)
{
	for (unsigned i = 0; i < MAXTOK; i++) {
		const struct tok *o = &S.tok[i];

		if (!o->busy || o == t || o->q != t->q)
			continue;
		for (unsigned a = 0; a < t->ndesc; a++)
			for (unsigned b = 0; b < o->ndesc; b++)
				CHECK(t->idx[a] != o->idx[b]);
	}
}

static int add_expect(const struct dq *d, const struct vmmio_drv_req *r)
{
	unsigned total = r->n_out + r->n_in, ndesc;

	if (total == 0 || r->n_direct > total)
		return -EINVAL;
	if (r->n_direct < total && (!d->vq.indirect || !r->table))
		return -EINVAL;
	ndesc = r->n_direct + (r->n_direct < total);
	return ndesc > vmmio_drv_vq_num_free(&d->vq) ? -ENOSPC : 0;
}

static struct tok *tok_free(void)
{
	for (unsigned i = 0; i < MAXTOK; i++)
		if (!S.tok[i].busy)
			return &S.tok[i];
	return NULL;
}

static void kick(struct dq *d, unsigned q)
{
	uint16_t old = d->vq.kicked_idx, now = d->vq.avail_idx, ev, fl;
	bool want, got;

	ev = rd16(d->vq.used + 4u + 8u * d->vq.size);
	fl = rd16(d->vq.used);
	/* virtio 1.2 §2.7.10 / vring_need_event(). */
	want = d->vq.event_idx
		   ? (uint16_t)(now - ev - 1) < (uint16_t)(now - old)
		   : !(fl & VRING_USED_F_NO_NOTIFY);
	got = vmmio_drv_vq_kick_prepare(&d->vq);
	CHECK(got == want);
	if (got && S.drv_ok)
		vmmio_drv_notify(&S.drv, q);
}

static void op_add(struct in *in)
{
	uint8_t q = byte(in) % NQ, shape = byte(in), nd = byte(in);
	struct vmmio_drv_buf buf[MAXBUF];
	struct vmmio_drv_req r = {.buf = buf};
	struct dq *d = &S.q[q];
	unsigned total;
	struct tok *t;
	void *table = NULL;
	uint16_t slot_i;
	int rc, want;

	r.n_out = shape & 7u;
	r.n_in = (shape >> 3) & 7u;
	total = r.n_out + r.n_in;
	if (total > MAXBUF || !d->init || !(t = tok_free()))
		return;
	r.n_direct = nd & 0x80 ? (nd & 0x7fu) : (nd % (total + 1u));
	for (unsigned i = 0; i < total; i++) {
		uint8_t g = byte(in);

		buf[i].gpa = (uint64_t)g << (g & 0x3fu);
		buf[i].len = (uint32_t)g * 0x01010101u;
	}
	if (r.n_direct < total && !(shape & 0x40)) {
		table = malloc(16u * (total - r.n_direct));
		CHECK(table != NULL);
		r.table = table;
		r.table_gpa = 0x200000u + 0x1000u * q;
	}
	want = add_expect(d, &r);
	slot_i = d->vq.avail_idx & (uint16_t)(d->vq.size - 1);
	rc = vmmio_drv_vq_add(&d->vq, &r, t);
	CHECK(rc == want);
	if (rc == 0) {
		t->q = q;
		t->head = rd16(d->vq.avail + 4u + 2u * slot_i);
		CHECK(rd16(d->vq.avail + 2u) == d->vq.avail_idx);
		check_chain(t, d, &r);
		t->busy = true;
		check_disjoint(t);
	}
	free(table);
	check_accounting(d, q);
	if (shape & 0x80)
		kick(d, q);
}

static struct tok *tok_of_head(unsigned q, uint32_t id)
{
	for (unsigned i = 0; i < MAXTOK; i++)
		if (S.tok[i].busy && S.tok[i].q == q && S.tok[i].head == id)
			return &S.tok[i];
	return NULL;
}

/* One get_used, checked against what the device wrote. */
static bool get_used_once(struct dq *d, unsigned q)
{
	uint16_t idx = rd16(d->vq.used + 2u), s;
	uint32_t id, len, got_len = 0;
	struct tok *want = NULL;
	void *got = NULL;
	int rc, expect;
	unsigned before = vmmio_drv_vq_num_free(&d->vq);

	s = d->last_used & (uint16_t)(d->vq.size - 1);
	id = rd32(d->vq.used + 4u + 8u * s);
	len = rd32(d->vq.used + 8u + 8u * s);
	if (idx == d->last_used)
		expect = 0;
	else if ((uint16_t)(idx - d->last_used) > d->vq.size)
		expect = -EIO;
	else if (id >= d->vq.size || !(want = tok_of_head(q, id)))
		expect = -EIO;
	else
		expect = 1;
	CHECK(vmmio_drv_vq_used_pending(&d->vq) ==
	      (uint16_t)(idx - d->last_used));
	rc = vmmio_drv_vq_get_used(&d->vq, &got, &got_len);
	CHECK(rc == expect);
	if (rc != 1) {
		CHECK(vmmio_drv_vq_num_free(&d->vq) == before);
		return false;
	}
	CHECK(got == want && got_len == len);
	want->busy = false;
	d->last_used++;
	CHECK(vmmio_drv_vq_num_free(&d->vq) == before + want->ndesc);
	return true;
}

static void op_get_used(struct in *in)
{
	uint8_t q = byte(in) % NQ, n = byte(in);
	struct dq *d = &S.q[q];

	if (!d->init)
		return;
	for (unsigned i = 0; i <= n % 32u && get_used_once(d, q); i++)
		;
	check_accounting(d, q);
}

static void op_cb(struct in *in)
{
	uint8_t q = byte(in) % NQ, b = byte(in);
	struct dq *d = &S.q[q];
	uint16_t ev;

	if (!d->init)
		return;
	if (b & 1) {
		vmmio_drv_vq_disable_cb(&d->vq);
		ev = rd16(d->vq.avail + 4u + 2u * d->vq.size);
		if (d->vq.event_idx)
			CHECK(ev == (uint16_t)(d->last_used + 0x8000u));
		else
			CHECK(rd16(d->vq.avail) == VRING_AVAIL_F_NO_INTERRUPT);
		return;
	}
	CHECK(vmmio_drv_vq_enable_cb(&d->vq) ==
	      (rd16(d->vq.used + 2u) != d->last_used));
	ev = rd16(d->vq.avail + 4u + 2u * d->vq.size);
	if (d->vq.event_idx)
		CHECK(ev == d->last_used);
	else
		CHECK(rd16(d->vq.avail) == 0);
}

static void op_config(struct in *in)
{
	uint8_t off = byte(in), len = byte(in), w = byte(in);
	uint32_t o = off & 0x80 ? 0x100u - (off & 0x7fu) : off;
	uint32_t n = len & 0x80 ? 0x100u - o + (len & 1u) : len % 17u;
	bool ok = o + n <= 0x100u, stable = !S.gen_moves && plain();
	unsigned char *buf;
	int rc;

	if (!S.drv_ok)
		return;
	buf = malloc(n ? n : 1);
	CHECK(buf != NULL);
	memset(buf, w, n);
	if (w & 1) {
		rc = vmmio_drv_config_write(&S.drv, o, buf, n);
		CHECK(rc == (ok ? 0 : -EINVAL));
		if (rc == 0)
			CHECK(n == 0 || memcmp(S.cfg + o, buf, n) == 0);
	} else {
		rc = vmmio_drv_config_read(&S.drv, o, buf, n);
		CHECK(rc == 0 || rc == -EAGAIN || rc == -EINVAL);
		CHECK((rc == -EINVAL) == !ok);
		if (stable)
			CHECK(rc == (ok ? 0 : -EINVAL));
		if (rc == 0 && stable)
			CHECK(memcmp(S.cfg + o, buf, n) == 0);
	}
	free(buf);
}

/* virtio 1.2 §2.7: desc 16 * n, avail 6 + 2 * n, used 6 + 8 * n at
 * @align. */
static void check_ring_bytes(uint16_t size, uint32_t align)
{
	size_t want = 0, a;

	if (size && !(size & (size - 1)) && size <= 32768 && align >= 4 &&
	    !(align & (align - 1))) {
		a = 18u * (size_t)size + 6u;
		want = (a + align - 1) / align * align + 6u + 8u * size;
	}
	CHECK(vmmio_drv_vq_ring_bytes(size, align) == want);
}

static void op_misc(struct in *in)
{
	uint8_t b = byte(in);
	int rc;

	if (b % 5 == 4) {
		check_ring_bytes((uint16_t)(b * 0x101u), 1u << (b % 14));
		return;
	}
	if (!S.drv_ok)
		return;
	switch (b % 5) {
	case 0:
		(void)vmmio_drv_ack_interrupt(&S.drv);
		break;
	case 1:
		(void)vmmio_drv_queue_max(&S.drv, b >> 3);
		break;
	case 2:
		rc = vmmio_drv_reset(&S.drv);
		CHECK(rc == 0 || rc == -EIO);
		break;
	default:
		vmmio_drv_notify(&S.drv, b >> 3);
		break;
	}
}

/* ---- device operations ---- */

static void op_script(struct in *in)
{
	uint8_t n = byte(in) % (NSCRIPT + 1);

	S.nscript = S.spos = 0;
	for (unsigned i = 0; i < n && take(in, &S.script[i], 4); i++)
		S.nscript = i + 1;
}

static void op_used_elem(struct in *in)
{
	uint8_t q = byte(in) % NQ, slot = byte(in);
	uint16_t id = 0;
	uint32_t len = 0;
	struct dq *d = &S.q[q];
	unsigned char *e;

	(void)take(in, &id, 2);
	(void)take(in, &len, 4);
	if (!d->init)
		return;
	e = d->vq.used + 4u + 8u * (slot % d->vq.size);
	/* Ids past 16 bits too: the used element's id is 32-bit. */
	memcpy(e, &(uint32_t){id & 0x8000 ? (uint32_t)id << 12 : id}, 4);
	memcpy(e + 4, &len, 4);
}

static void op_used_idx(struct in *in)
{
	uint8_t q = byte(in) % NQ, m = byte(in);
	uint16_t v = 0;
	struct dq *d = &S.q[q];

	(void)take(in, &v, 2);
	if (!d->init)
		return;
	if (m & 1)
		v = (uint16_t)(rd16(d->vq.used + 2u) + (v & 7u));
	__atomic_store_n((uint16_t *)(void *)(d->vq.used + 2u), v,
			 __ATOMIC_RELEASE);
}

static void op_used_flags(struct in *in)
{
	uint8_t q = byte(in) % NQ, w = byte(in);
	uint16_t v = 0;
	struct dq *d = &S.q[q];

	(void)take(in, &v, 2);
	if (!d->init)
		return;
	wr16(w & 1 ? d->vq.used + 4u + 8u * d->vq.size : d->vq.used, v);
}

/* A well-behaved device: complete the next @n available chains. */
static void op_complete(struct in *in)
{
	uint8_t q = byte(in) % NQ, n = byte(in), len = byte(in);
	struct dq *d = &S.q[q];
	uint16_t avail, used;

	if (!d->init)
		return;
	avail = rd16(d->vq.avail + 2u);
	used = rd16(d->vq.used + 2u);
	for (unsigned i = 0; i < n % 8u && d->dev_avail != avail; i++) {
		uint16_t s = d->dev_avail & (uint16_t)(d->vq.size - 1);
		uint16_t head = rd16(d->vq.avail + 4u + 2u * s);
		unsigned char *e =
		    d->vq.used + 4u + 8u * (used & (d->vq.size - 1u));

		memcpy(e, &(uint32_t){head}, 4);
		memcpy(e + 4, &(uint32_t){len * 3u}, 4);
		used++;
		d->dev_avail++;
	}
	__atomic_store_n((uint16_t *)(void *)(d->vq.used + 2u), used,
			 __ATOMIC_RELEASE);
	S.isr |= VIRTIO_MMIO_INT_VRING;
}

static void op_scribble(struct in *in)
{
	uint8_t q = byte(in) % NQ, i = byte(in);
	unsigned char v[16] = {0};
	struct dq *d = &S.q[q];

	(void)take(in, v, sizeof(v));
	if (d->init)
		memcpy(d->vq.desc + 16u * (i % d->vq.size), v, sizeof(v));
}

static void op_device(uint8_t op, struct in *in)
{
	uint8_t reg, b;
	uint32_t v = 0;

	switch (op) {
	case 10:
		reg = byte(in);
		(void)take(in, &v, 4);
		if ((reg & 0x3fu) == VIRTIO_MMIO_QUEUE_NUM_MAX / 4)
			S.qmax[reg >> 6] = v;
		else
			S.regs[reg & 0x3fu] = v;
		break;
	case 11:
		op_script(in);
		break;
	case 12:
		op_used_elem(in);
		break;
	case 13:
		op_used_idx(in);
		break;
	case 14:
		op_used_flags(in);
		break;
	case 15:
		op_complete(in);
		break;
	case 16:
		op_scribble(in);
		break;
	case 17:
		S.st_or = byte(in);
		S.st_and = byte(in);
		break;
	case 18:
		S.gen_moves = byte(in) & 1;
		break;
	default:
		b = byte(in);
		(void)take(in, S.cfg + b, b <= 0xfc ? 4 : 0x100u - b);
		break;
	}
}

static void step(uint8_t op, struct in *in)
{
	struct snap s;

	snap_take(&s);
	S.accesses = 0;
	switch (op) {
	case 0:
		op_init();
		break;
	case 1:
		op_negotiate(in);
		break;
	case 2:
		op_vq_init(in);
		break;
	case 3:
		op_setup(in);
		break;
	case 4:
		op_status(in);
		break;
	case 5:
		op_add(in);
		break;
	case 6:
		op_get_used(in);
		break;
	case 7:
		op_cb(in);
		break;
	case 8:
		op_config(in);
		break;
	case 9:
		op_misc(in);
		break;
	default:
		op_device(op, in);
		return;
	}
	/* Scripted values serve one driver call only. */
	S.nscript = S.spos = 0;
	/* vq_init zeroes a new ring, used ring included. */
	if (op != 2)
		snap_check(&s);
}

static void device_init(struct in *in)
{
	uint8_t v = byte(in), id = byte(in);
	uint16_t qmax = 0;

	memset(&S, 0, sizeof(S));
	S.regs[0] = 0x74726976u; /* "virt" */
	S.regs[VIRTIO_MMIO_VERSION / 4] = v == 0 ? 2u : v;
	S.regs[VIRTIO_MMIO_DEVICE_ID / 4] = id;
	(void)take(in, &S.offered, 8);
	(void)take(in, &qmax, 2);
	for (unsigned i = 0; i < NSEL; i++)
		S.qmax[i] = i < NQ ? qmax : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = {data, size};
	uint8_t op;

	device_init(&in);
	while (take(&in, &op, 1))
		step(op % OPS, &in);
	for (unsigned q = 0; q < NQ; q++)
		free_queue(&S.q[q], q);
	return 0;
}
