/* SPDX-License-Identifier: Apache-2.0 */
/* Test guest: hostile-driver scenarios through real exits (tg.run=hostile). */
/*
 * Each scenario breaks one driver MUST of virtio 1.2 (or, for the floods,
 * storms and the reset with requests in flight, leans on a device
 * requirement) on the real devices vmm-demo gives us, then checks the
 * exact outcome libvmmio promises (shared/DESIGN.md, hostile checklist):
 * NEEDS_RESET and a configuration-change interrupt iff a fault is latched,
 * the value a bad read returns, a write that must be ignored, a blk
 * status byte, a request that must not complete. After each one the device
 * is reset, re-initialised with the driver harness and must serve a
 * well-formed request (blk: sector 1024 + n written and read back; see
 * README.md). One "TG HOSTILE" line per scenario, then a TG RESULT line.
 *
 * Registers are reached with plain mov instructions of the width under
 * test, so every access is one MMIO exit (or an ioeventfd hit for 4-byte
 * QueueNotify writes) exactly as a hostile guest would make it.
 */
#include <linux/errno.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include <vmmio/driver.h>

#include "tg.h"

#define BIT(n) (1ull << (n))
#define F_V1 BIT(VIRTIO_F_VERSION_1)
#define F_IND BIT(VIRTIO_RING_F_INDIRECT_DESC)
#define F_FLUSH BIT(VIRTIO_BLK_F_FLUSH)

#define S_ACK VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_AD (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER)
#define S_FEAT (S_AD | VIRTIO_CONFIG_S_FEATURES_OK)
#define S_LIVE (S_FEAT | VIRTIO_CONFIG_S_DRIVER_OK)
#define S_NR VIRTIO_CONFIG_S_NEEDS_RESET
#define S_FAILED VIRTIO_CONFIG_S_FAILED

#define MMIO_MAGIC 0x74726976u
#define REG_CONFIG VIRTIO_MMIO_CONFIG
#define WAIT_MS 1000u /* a fault or a completion that must come */
#define STOP_MS 30u   /* a completion that must not come */

/* Rings: queue size of the hostile rings, their layout in one area. */
#define HQ_SIZE 8
#define HQ_BIG 64
#define QMEM 0x2000u
#define Q_AVAIL 0x1000u
#define Q_USED 0x1400u
#define VQ_SIZE 16

/*
 * Guest RAM the big buffers use (floods, 1 MiB reads): 32 MiB up, never
 * the image. Scratch sectors: scenario n writes sector 1024 + n when it
 * checks blk after the reset (README.md, checked by the host test).
 */
#define SCRATCH_RAM 0x2000000u
#define SCRATCH_RAM_LEN 0x800000u
#define SCRATCH_SECTOR 1024u
#define RNG_CAP 4096u /* vmm-demo's rng max_request (the library default) */

/* Pacing: libvmmio prints at most 10 guest-triggered lines per second
 * per device; stay under that with margin for the TSC calibration. */
#define PACE_LINES 8u
#define PACE_MS 1300u
#define PACE_HIST 16

enum { HBLK, HCON, HRNG, HNDEV };

struct hdev {
	const char *name;
	uint32_t id;
	unsigned nq; /* queues a live device gets */
	unsigned rq; /* queue requests go to (console: transmitq) */
	struct vmmio_drv *drv;
	unsigned slot;
	uintptr_t win;
	uint64_t pace_t[PACE_HIST];
	uint8_t pace_n[PACE_HIST];
	unsigned pace_next;
};

static struct hdev hdevs[HNDEV] = {
    [HBLK] = {.name = "blk", .id = VIRTIO_ID_BLOCK, .nq = 1, .rq = 0},
    [HCON] = {.name = "console", .id = VIRTIO_ID_CONSOLE, .nq = 2, .rq = 1},
    [HRNG] = {.name = "rng", .id = VIRTIO_ID_RNG, .nq = 1, .rq = 0},
};

/* A split ring the scenario writes by hand. */
struct hq {
	uint16_t size, idx;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

struct hctx;

struct scen {
	const char *name;
	unsigned dev;
	const char *clause; /* virtio 1.2 section */
	const char *fault;  /* vmmio_fault_name() expected, NULL: none */
	unsigned logs;	    /* device log lines it causes (pacing) */
	int (*run)(struct hctx *c);
};

struct hctx {
	const struct scen *s;
	struct hdev *d;
	unsigned n;
	struct hq q[2];
	unsigned irq_mark; /* interrupts counted before the violation */
	char what[40];	   /* fault=none: what was checked */
	char why[112];	   /* first failed check */
};

static uint64_t ram_top;
static unsigned char qmem[2][QMEM] __attribute__((aligned(4096)));
static unsigned char vmem[QMEM] __attribute__((aligned(4096)));
static struct vmmio_drv_vq vvq;
static struct vmmio_drv_slot vslot[VQ_SIZE];
static struct vring_desc itab[2][16] __attribute__((aligned(16)));

#define BSLOTS 4
#define BGOOD 3
static struct virtio_blk_outhdr bhdr[BSLOTS];
static uint8_t bstat[BSLOTS];
static unsigned char bdata[BSLOTS][4096] __attribute__((aligned(64)));
static unsigned char rbuf[2][64] __attribute__((aligned(64)));
static unsigned char cbuf[HQ_BIG] __attribute__((aligned(64)));
static unsigned char vbuf[2][512] __attribute__((aligned(64)));

/* --- Helpers ---------------------------------------------------------- */

static uint64_t gpa(const void *p)
{
	return (uintptr_t)p;
}

static uint8_t peek8(const uint8_t *p)
{
	return *(const volatile uint8_t *)p;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (peek8(&p[i]))
			return false;
	return true;
}

static bool all_byte(const unsigned char *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (peek8(&p[i]) != v)
			return false;
	return true;
}

static void spin_us(unsigned us)
{
	uint64_t end = tg_rdtsc() + us * tg_tsc_khz / 1000u;

	while (tg_rdtsc() < end)
		tg_pause();
}

static void delay_ms(unsigned ms)
{
	uint64_t end = tg_deadline(ms);

	while (!tg_expired(end))
		tg_pause();
}

static int bad(struct hctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int bad(struct hctx *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->why[0]) {
		va_start(ap, fmt);
		tg_vsnprintf(c->why, sizeof(c->why), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int note(struct hctx *c, const char *what)
{
	tg_snprintf(c->what, sizeof(c->what), "%s", what);
	return 0;
}

/* --- Registers: one mov of the given width, one exit ------------------ */

static uint64_t io_rd(const struct hdev *d, uint32_t off, unsigned w)
{
	uintptr_t a = d->win + off;
	uint64_t q;
	uint32_t l;
	uint16_t s;
	uint8_t b;

	switch (w) {
	case 1:
		__asm__ volatile("movb (%1), %0" : "=q"(b) : "r"(a) : "memory");
		return b;
	case 2:
		__asm__ volatile("movw (%1), %0" : "=r"(s) : "r"(a) : "memory");
		return s;
	case 4:
		__asm__ volatile("movl (%1), %0" : "=r"(l) : "r"(a) : "memory");
		return l;
	default:
		__asm__ volatile("movq (%1), %0" : "=r"(q) : "r"(a) : "memory");
		return q;
	}
}

static void io_wr(const struct hdev *d, uint32_t off, uint64_t v, unsigned w)
{
	uintptr_t a = d->win + off;

	switch (w) {
	case 1:
		__asm__ volatile("movb %0, (%1)"
				 :
				 : "q"((uint8_t)v), "r"(a)
				 : "memory");
		break;
	case 2:
		__asm__ volatile("movw %0, (%1)"
				 :
				 : "r"((uint16_t)v), "r"(a)
				 : "memory");
		break;
	case 4:
		__asm__ volatile("movl %0, (%1)"
				 :
				 : "r"((uint32_t)v), "r"(a)
				 : "memory");
		break;
	default:
		__asm__ volatile("movq %0, (%1)" : : "r"(v), "r"(a) : "memory");
		break;
	}
}

static uint32_t rd(const struct hdev *d, uint32_t off)
{
	return (uint32_t)io_rd(d, off, 4);
}

static void wr(const struct hdev *d, uint32_t off, uint32_t v)
{
	io_wr(d, off, v, 4);
}

static void wr64(const struct hdev *d, uint32_t low, uint64_t v)
{
	wr(d, low, (uint32_t)v);
	wr(d, low + 4u, (uint32_t)(v >> 32));
}

/* Status reads @want within WAIT_MS (a kick's fault lands on the I/O
 * thread, after the write that caused it returned). */
static int want_status(struct hctx *c, uint32_t want)
{
	uint64_t end = tg_deadline(WAIT_MS);
	uint32_t st;

	for (;;) {
		st = rd(c->d, VIRTIO_MMIO_STATUS);
		if (st == want)
			return 0;
		if (tg_expired(end))
			return bad(c, "status 0x%x, want 0x%x", st, want);
		spin_us(20);
	}
}

/* --- Hand-written rings ----------------------------------------------- */

static struct hq *hq_init(struct hctx *c, unsigned qi, uint16_t size)
{
	struct hq *q = &c->q[qi];
	unsigned char *m = qmem[qi];

	memset(m, 0, QMEM);
	q->size = size;
	q->idx = 0;
	q->desc = (struct vring_desc *)(void *)m;
	q->avail = (struct vring_avail *)(void *)(m + Q_AVAIL);
	q->used = (struct vring_used *)(void *)(m + Q_USED);
	return q;
}

static struct hq *rq(struct hctx *c)
{
	return &c->q[c->d->rq];
}

static void set_desc(struct vring_desc *t, uint16_t i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	t[i] = (struct vring_desc){
	    .addr = addr, .len = len, .flags = flags, .next = next};
}

static void desc(struct hq *q, uint16_t i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	set_desc(q->desc, i, addr, len, flags, next);
}

/* Make @head available: ring entry, then idx with release. */
static void post(struct hq *q, uint16_t head)
{
	q->avail->ring[q->idx % q->size] = head;
	q->idx++;
	__atomic_store_n(&q->avail->idx, q->idx, __ATOMIC_RELEASE);
}

static void set_avail_idx(struct hq *q, uint16_t idx)
{
	q->idx = idx;
	__atomic_store_n(&q->avail->idx, idx, __ATOMIC_RELEASE);
}

static uint16_t used_idx(const struct hq *q)
{
	return __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
}

static uint32_t used_len(const struct hq *q, uint16_t i)
{
	return q->used->ring[i % q->size].len;
}

static int wait_used(struct hq *q, uint16_t want)
{
	uint64_t end = tg_deadline(WAIT_MS);

	while ((uint16_t)(used_idx(q) - want) > 0x8000u)
		if (tg_expired(end))
			return -1;
		else
			tg_pause();
	return 0;
}

/* The driver's 4-byte QueueNotify: vmm-demo's ioeventfd takes it. */
static void kick(struct hctx *c)
{
	wr(c->d, VIRTIO_MMIO_QUEUE_NOTIFY, c->d->rq);
}

/* --- Bringing a device up by hand ------------------------------------- */

static void wr_features(const struct hdev *d, uint64_t f)
{
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
}

/* Reset, ACKNOWLEDGE, DRIVER, DriverFeatures = @f (VERSION_1 not added). */
static int h_accept(struct hctx *c, uint64_t f)
{
	const struct hdev *d = c->d;

	wr(d, VIRTIO_MMIO_STATUS, 0);
	if (rd(d, VIRTIO_MMIO_STATUS))
		return bad(c, "reset: status not 0");
	wr(d, VIRTIO_MMIO_STATUS, S_ACK);
	wr(d, VIRTIO_MMIO_STATUS, S_AD);
	wr_features(d, f);
	return 0;
}

static int h_feat(struct hctx *c, uint64_t feat)
{
	if (h_accept(c, feat | F_V1))
		return -1;
	wr(c->d, VIRTIO_MMIO_STATUS, S_FEAT);
	return want_status(c, S_FEAT);
}

static void q_regs(const struct hdev *d, unsigned qi, uint16_t size,
		   uint64_t desc_a, uint64_t avail_a, uint64_t used_a)
{
	wr(d, VIRTIO_MMIO_QUEUE_SEL, qi);
	wr(d, VIRTIO_MMIO_QUEUE_NUM, size);
	wr64(d, VIRTIO_MMIO_QUEUE_DESC_LOW, desc_a);
	wr64(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, avail_a);
	wr64(d, VIRTIO_MMIO_QUEUE_USED_LOW, used_a);
}

static int h_queue(struct hctx *c, unsigned qi, uint16_t size)
{
	struct hq *q = hq_init(c, qi, size);

	q_regs(c->d, qi, size, gpa(q->desc), gpa(q->avail), gpa(q->used));
	wr(c->d, VIRTIO_MMIO_QUEUE_READY, 1);
	if (rd(c->d, VIRTIO_MMIO_QUEUE_READY) != 1)
		return bad(c, "queue %u not ready", qi);
	return 0;
}

/* FEATURES_OK with @feat, every queue of the device, DRIVER_OK. */
static int h_live(struct hctx *c, uint64_t feat, uint16_t size)
{
	if (h_feat(c, feat))
		return -1;
	for (unsigned qi = 0; qi < c->d->nq; qi++)
		if (h_queue(c, qi, size))
			return -1;
	wr(c->d, VIRTIO_MMIO_STATUS, S_LIVE);
	return want_status(c, S_LIVE);
}

static int h_up(struct hctx *c)
{
	return h_live(c, 0, HQ_SIZE);
}

/* --- Requests --------------------------------------------------------- */

/* A blk request at descriptors i.. (header, data if @len, status). */
static uint16_t blk_req(struct hq *q, uint16_t i, unsigned k, uint32_t type,
			uint64_t sector, uint32_t len)
{
	uint16_t dflag = type == VIRTIO_BLK_T_OUT ? 0 : VRING_DESC_F_WRITE;
	uint16_t st = (uint16_t)(len ? i + 2 : i + 1);

	bhdr[k] = (struct virtio_blk_outhdr){.type = type, .sector = sector};
	bstat[k] = 0xff;
	desc(q, i, gpa(&bhdr[k]), sizeof(bhdr[k]), VRING_DESC_F_NEXT,
	     (uint16_t)(i + 1));
	if (len)
		desc(q, (uint16_t)(i + 1), gpa(bdata[k]), len,
		     dflag | VRING_DESC_F_NEXT, st);
	desc(q, st, gpa(&bstat[k]), 1, VRING_DESC_F_WRITE, 0);
	return i;
}

/* Where a scenario's well-formed request goes: the ring's last slots. */
static uint16_t good_base(const struct hctx *c)
{
	return c->s->dev == HBLK ? HQ_SIZE - 3 : HQ_SIZE - 1;
}

static uint16_t good_req(struct hctx *c)
{
	struct hq *q = rq(c);
	uint16_t i = good_base(c);

	if (c->s->dev == HBLK)
		return blk_req(q, i, BGOOD, VIRTIO_BLK_T_IN, SCRATCH_SECTOR,
			       512);
	if (c->s->dev == HRNG) {
		memset(rbuf[1], 0, sizeof(rbuf[1]));
		desc(q, i, gpa(rbuf[1]), sizeof(rbuf[1]), VRING_DESC_F_WRITE,
		     0);
	} else {
		cbuf[0] = '\n';
		desc(q, i, gpa(cbuf), 1, 0, 0);
	}
	return i;
}

static int good_result(struct hctx *c, uint32_t len)
{
	if (c->s->dev == HBLK && peek8(&bstat[BGOOD]) != VIRTIO_BLK_S_OK)
		return bad(c, "blk status %u", peek8(&bstat[BGOOD]));
	if (c->s->dev == HBLK && len != 513)
		return bad(c, "blk used len %u, want 513", len);
	if (c->s->dev == HRNG &&
	    (len == 0 || len > 64 || all_zero(rbuf[1], len)))
		return bad(c, "rng used len %u or zero bytes", len);
	if (c->s->dev == HCON && len != 0)
		return bad(c, "console used len %u, want 0", len);
	return 0;
}

static int wait_irq(struct hctx *c, unsigned since)
{
	uint64_t end = tg_deadline(WAIT_MS);

	while (tg_irq_total(c->d->slot) == since)
		if (tg_expired(end))
			return bad(c, "no interrupt");
		else
			tg_pause();
	return 0;
}

/* A well-formed request on the live ring is served and interrupts. */
static int serve(struct hctx *c)
{
	struct hq *q = rq(c);
	uint16_t want = (uint16_t)(used_idx(q) + 1);
	unsigned irq = tg_irq_total(c->d->slot);

	post(q, good_req(c));
	kick(c);
	if (wait_used(q, want))
		return bad(c, "well-formed request not served");
	if (good_result(c, used_len(q, (uint16_t)(want - 1))) ||
	    wait_irq(c, irq))
		return -1;
	c->irq_mark = tg_irq_total(c->d->slot);
	return 0;
}

/* After a fault: another kick changes nothing, used.idx stays @used. */
static int stopped(struct hctx *c, uint16_t used)
{
	struct hq *q = rq(c);

	if (want_status(c, S_LIVE | S_NR))
		return -1;
	kick(c);
	delay_ms(STOP_MS);
	if (used_idx(q) != used)
		return bad(c, "used.idx %u after the fault, want %u",
			   used_idx(q), used);
	return 0;
}

/* Make @head (a chain breaking a rule) available, a well-formed request
 * behind it, kick: the device faults and serves neither. */
static int ring_bad(struct hctx *c, uint16_t head, bool good)
{
	struct hq *q = rq(c);

	post(q, head);
	if (good)
		post(q, good_req(c));
	kick(c);
	return stopped(c, 0);
}

/* --- Transport: access width, offsets, directions --------------------- */

static int s_read8(struct hctx *c)
{
	uint64_t v;

	if (h_up(c))
		return -1;
	v = io_rd(c->d, VIRTIO_MMIO_MAGIC_VALUE, 1);
	if (v)
		return bad(c, "1-byte read gave 0x%x, want 0", (unsigned)v);
	return want_status(c, S_LIVE | S_NR);
}

/* A 16-bit Status = 0 must not reset the device. */
static int s_write16(struct hctx *c)
{
	if (h_up(c))
		return -1;
	io_wr(c->d, VIRTIO_MMIO_STATUS, 0, 2);
	return want_status(c, S_LIVE | S_NR);
}

static int s_read64(struct hctx *c)
{
	uint64_t v;

	if (h_up(c))
		return -1;
	v = io_rd(c->d, VIRTIO_MMIO_MAGIC_VALUE, 8);
	if (v)
		return bad(c, "8-byte read gave 0x%llx, want 0",
			   (unsigned long long)v);
	return want_status(c, S_LIVE | S_NR);
}

static int s_read_misaligned(struct hctx *c)
{
	uint64_t v;

	if (h_up(c))
		return -1;
	v = io_rd(c->d, VIRTIO_MMIO_MAGIC_VALUE + 2, 4);
	if (v)
		return bad(c, "read at 0x2 gave 0x%x, want 0", (unsigned)v);
	return want_status(c, S_LIVE | S_NR);
}

/* 0 written across Status must not reset the device. */
static int s_write_misaligned(struct hctx *c)
{
	if (h_up(c))
		return -1;
	io_wr(c->d, VIRTIO_MMIO_STATUS + 1, 0, 4);
	return want_status(c, S_LIVE | S_NR);
}

/* A 2-byte QueueNotify misses the ioeventfd (4 bytes): an exit, a
 * fault, and the request it would have started is never served. */
static int s_notify16(struct hctx *c)
{
	if (h_up(c))
		return -1;
	post(rq(c), good_req(c));
	io_wr(c->d, VIRTIO_MMIO_QUEUE_NOTIFY, 0, 2);
	return stopped(c, 0);
}

/* Holes of the register table and the legacy-only registers. */
static const uint32_t undef_off[] = {
    0x018, 0x048, 0x0e0, VIRTIO_MMIO_GUEST_PAGE_SIZE, VIRTIO_MMIO_QUEUE_ALIGN};

static int s_undef_read(struct hctx *c)
{
	if (h_up(c))
		return -1;
	for (unsigned i = 0; i < sizeof(undef_off) / sizeof(undef_off[0]);
	     i++) {
		uint32_t v = rd(c->d, undef_off[i]);

		if (v)
			return bad(c, "0x%x reads 0x%x", undef_off[i], v);
	}
	if (rd(c->d, VIRTIO_MMIO_QUEUE_PFN))
		return bad(c, "QueuePFN (legacy) reads non-zero");
	return note(c, "reads=0");
}

static int s_undef_write(struct hctx *c)
{
	if (h_up(c))
		return -1;
	for (unsigned i = 0; i < sizeof(undef_off) / sizeof(undef_off[0]); i++)
		wr(c->d, undef_off[i], 0xffffffffu);
	if (serve(c))
		return -1;
	return note(c, "ignored,served");
}

/* QueuePFN = 0 disables a legacy queue; on version 2 it is no register. */
static int s_legacy_pfn(struct hctx *c)
{
	if (h_up(c))
		return -1;
	wr(c->d, VIRTIO_MMIO_QUEUE_PFN, 0);
	if (rd(c->d, VIRTIO_MMIO_QUEUE_READY) != 1)
		return bad(c, "queue disabled");
	if (serve(c))
		return -1;
	return note(c, "queue-kept,served");
}

static const uint32_t wo_off[] = {
    VIRTIO_MMIO_DEVICE_FEATURES_SEL, VIRTIO_MMIO_DRIVER_FEATURES,
    VIRTIO_MMIO_DRIVER_FEATURES_SEL, VIRTIO_MMIO_QUEUE_SEL,
    VIRTIO_MMIO_QUEUE_NUM,	     VIRTIO_MMIO_QUEUE_NOTIFY,
    VIRTIO_MMIO_INTERRUPT_ACK,	     VIRTIO_MMIO_QUEUE_DESC_LOW,
    VIRTIO_MMIO_QUEUE_AVAIL_LOW,     VIRTIO_MMIO_QUEUE_USED_LOW};

/* Write-only registers, all written non-zero by the setup, read 0. */
static int s_read_wo(struct hctx *c)
{
	if (h_up(c))
		return -1;
	wr(c->d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	wr(c->d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	for (unsigned i = 0; i < sizeof(wo_off) / sizeof(wo_off[0]); i++) {
		uint32_t v = rd(c->d, wo_off[i]);

		if (v)
			return bad(c, "0x%x reads 0x%x", wo_off[i], v);
	}
	return note(c, "reads=0");
}

static const uint32_t ro_off[] = {
    VIRTIO_MMIO_MAGIC_VALUE,	  VIRTIO_MMIO_VERSION,
    VIRTIO_MMIO_DEVICE_ID,	  VIRTIO_MMIO_VENDOR_ID,
    VIRTIO_MMIO_DEVICE_FEATURES,  VIRTIO_MMIO_QUEUE_NUM_MAX,
    VIRTIO_MMIO_INTERRUPT_STATUS, VIRTIO_MMIO_CONFIG_GENERATION};

/* Read-only registers keep their value when written. */
static int s_write_ro(struct hctx *c)
{
	uint32_t v[sizeof(ro_off) / sizeof(ro_off[0])];

	if (h_up(c))
		return -1;
	wr(c->d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		v[i] = rd(c->d, ro_off[i]);
		wr(c->d, ro_off[i], ~v[i]);
	}
	for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (rd(c->d, ro_off[i]) != v[i])
			return bad(c, "0x%x changed from 0x%x", ro_off[i],
				   v[i]);
	if (v[0] != MMIO_MAGIC)
		return bad(c, "magic 0x%x", v[0]);
	return note(c, "unchanged");
}

/* --- Queue registers: order, values, ring placement ------------------- */

static int s_qsel_range(struct hctx *c)
{
	if (h_feat(c, 0))
		return -1;
	wr(c->d, VIRTIO_MMIO_QUEUE_SEL, c->d->nq);
	if (rd(c->d, VIRTIO_MMIO_QUEUE_NUM_MAX))
		return bad(c, "QueueNumMax of a missing queue is not 0");
	if (want_status(c, S_FEAT))
		return -1;
	wr(c->d, VIRTIO_MMIO_QUEUE_NUM, HQ_SIZE);
	return want_status(c, S_FEAT | S_NR);
}

/* QueueNum @num on queue 0 after FEATURES_OK; 0 = twice the maximum. */
static int qnum_bad(struct hctx *c, uint32_t num)
{
	uint32_t max;

	if (h_feat(c, 0))
		return -1;
	wr(c->d, VIRTIO_MMIO_QUEUE_SEL, 0);
	max = rd(c->d, VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (max < HQ_SIZE)
		return bad(c, "QueueNumMax %u", max);
	wr(c->d, VIRTIO_MMIO_QUEUE_NUM, num ? num : 2 * max);
	if (want_status(c, S_FEAT | S_NR))
		return -1;
	if (rd(c->d, VIRTIO_MMIO_QUEUE_READY))
		return bad(c, "queue ready");
	return 0;
}

static int s_qnum_pow2(struct hctx *c)
{
	return qnum_bad(c, 100);
}

static int s_qnum_max(struct hctx *c)
{
	return qnum_bad(c, 0);
}

static int s_qnum_zero(struct hctx *c)
{
	if (h_feat(c, 0))
		return -1;
	wr(c->d, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(c->d, VIRTIO_MMIO_QUEUE_NUM, 0);
	return want_status(c, S_FEAT | S_NR);
}

static int s_q_before_fok(struct hctx *c)
{
	if (h_accept(c, F_V1))
		return -1;
	wr(c->d, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(c->d, VIRTIO_MMIO_QUEUE_NUM, HQ_SIZE);
	return want_status(c, S_AD | S_NR);
}

static int s_q_while_ready(struct hctx *c)
{
	if (h_feat(c, 0) || h_queue(c, 0, HQ_SIZE))
		return -1;
	wr(c->d, VIRTIO_MMIO_QUEUE_NUM, HQ_SIZE / 2);
	return want_status(c, S_FEAT | S_NR);
}

/* Console: receiveq set up, DRIVER_OK, then the transmitq. */
static int s_q_after_dok(struct hctx *c)
{
	if (h_feat(c, 0) || h_queue(c, 0, HQ_SIZE))
		return -1;
	wr(c->d, VIRTIO_MMIO_STATUS, S_LIVE);
	if (want_status(c, S_LIVE))
		return -1;
	wr(c->d, VIRTIO_MMIO_QUEUE_SEL, 1);
	wr(c->d, VIRTIO_MMIO_QUEUE_NUM, HQ_SIZE);
	if (want_status(c, S_LIVE | S_NR))
		return -1;
	if (rd(c->d, VIRTIO_MMIO_QUEUE_READY))
		return bad(c, "queue 1 ready");
	return 0;
}

/* Queue @qi with these ring addresses; QueueReady = 1 is refused. */
static int ring_addr_bad(struct hctx *c, unsigned qi, uint64_t d_a,
			 uint64_t a_a, uint64_t u_a)
{
	q_regs(c->d, qi, HQ_SIZE, d_a, a_a, u_a);
	wr(c->d, VIRTIO_MMIO_QUEUE_READY, 1);
	if (want_status(c, S_FEAT | S_NR))
		return -1;
	if (rd(c->d, VIRTIO_MMIO_QUEUE_READY))
		return bad(c, "queue ready");
	return 0;
}

/* Move one of the three parts of queue @qi: @part 0 desc, 1 avail,
 * 2 used; @to is the new address, or the old one plus @by. */
static int ring_part_bad(struct hctx *c, unsigned qi, unsigned part,
			 uint64_t to, uint64_t by)
{
	struct hq *q;
	uint64_t a[3];

	if (h_feat(c, 0))
		return -1;
	q = hq_init(c, qi, HQ_SIZE);
	a[0] = gpa(q->desc);
	a[1] = gpa(q->avail);
	a[2] = gpa(q->used);
	a[part] = to ? to : a[part] + by;
	return ring_addr_bad(c, qi, a[0], a[1], a[2]);
}

static int s_desc_misaligned(struct hctx *c)
{
	return ring_part_bad(c, 0, 0, 0, 8);
}

static int s_avail_misaligned(struct hctx *c)
{
	return ring_part_bad(c, 0, 1, 0, 1);
}

static int s_used_misaligned(struct hctx *c)
{
	return ring_part_bad(c, 1, 2, 0, 2);
}

static int s_ring_beyond_ram(struct hctx *c)
{
	return ring_part_bad(c, 0, 0, ram_top, 0);
}

/* Only the used ring's last field (avail_event) lies past the end. */
static int s_used_crosses_end(struct hctx *c)
{
	return ring_part_bad(c, 0, 2, ram_top - (4u + 8u * HQ_SIZE), 0);
}

static int s_ring_above_4g(struct hctx *c)
{
	return ring_part_bad(c, 0, 0, 0, 1ull << 32);
}

static int s_ring_wraps(struct hctx *c)
{
	return ring_part_bad(c, 1, 1, 0xfffffffffffffffeull, 0);
}

/* The descriptor table on the device's own registers. */
static int s_ring_in_mmio(struct hctx *c)
{
	return ring_part_bad(c, 0, 0, c->d->win, 0);
}

/* --- Status and feature negotiation ----------------------------------- */

static int s_status_clear(struct hctx *c)
{
	if (h_feat(c, 0))
		return -1;
	wr(c->d, VIRTIO_MMIO_STATUS, S_AD);
	return want_status(c, S_FEAT | S_NR);
}

static int s_dok_before_fok(struct hctx *c)
{
	if (h_accept(c, F_V1))
		return -1;
	wr(c->d, VIRTIO_MMIO_STATUS, S_AD | VIRTIO_CONFIG_S_DRIVER_OK);
	return want_status(c, S_AD | S_NR);
}

static int s_fok_before_driver(struct hctx *c)
{
	const struct hdev *d = c->d;

	wr(d, VIRTIO_MMIO_STATUS, 0);
	wr(d, VIRTIO_MMIO_STATUS, S_ACK);
	wr_features(d, F_V1);
	wr(d, VIRTIO_MMIO_STATUS, S_ACK | VIRTIO_CONFIG_S_FEATURES_OK);
	return want_status(c, S_ACK | S_NR);
}

/* FAILED is taken; re-initialising without a reset clears bits. */
static int s_failed_reinit(struct hctx *c)
{
	if (h_accept(c, F_V1))
		return -1;
	wr(c->d, VIRTIO_MMIO_STATUS, S_AD | S_FAILED);
	if (want_status(c, S_AD | S_FAILED))
		return -1;
	wr(c->d, VIRTIO_MMIO_STATUS, S_ACK);
	return want_status(c, S_AD | S_FAILED | S_NR);
}

/* After a fault only FAILED is taken from the driver, nothing else. */
static int s_status_after_nr(struct hctx *c)
{
	if (h_up(c))
		return -1;
	(void)io_rd(c->d, VIRTIO_MMIO_STATUS, 1);
	if (want_status(c, S_LIVE | S_NR))
		return -1;
	wr(c->d, VIRTIO_MMIO_STATUS, S_LIVE | S_FAILED);
	return want_status(c, S_LIVE | S_FAILED | S_NR);
}

/* Accept @f; FEATURES_OK must not stick, and no fault. */
static int feat_refused(struct hctx *c, uint64_t f)
{
	if (h_accept(c, f))
		return -1;
	wr(c->d, VIRTIO_MMIO_STATUS, S_FEAT);
	if (want_status(c, S_AD))
		return -1;
	return note(c, "FEATURES_OK=0");
}

static int s_feat_not_offered(struct hctx *c)
{
	wr(c->d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	if (rd(c->d, VIRTIO_MMIO_DEVICE_FEATURES) & 1u)
		return bad(c, "feature bit 0 offered");
	return feat_refused(c, F_V1 | 1u);
}

static int s_feat_above_63(struct hctx *c)
{
	if (h_accept(c, F_V1))
		return -1;
	wr(c->d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
	wr(c->d, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(c->d, VIRTIO_MMIO_STATUS, S_FEAT);
	if (want_status(c, S_AD))
		return -1;
	return note(c, "FEATURES_OK=0");
}

static int s_feat_no_v1(struct hctx *c)
{
	return feat_refused(c, 0);
}

/* FLUSH accepted after FEATURES_OK is ignored: FLUSH is UNSUPP. */
static int s_feat_after_fok(struct hctx *c)
{
	struct hq *q;

	wr(c->d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	if (!(rd(c->d, VIRTIO_MMIO_DEVICE_FEATURES) & F_FLUSH))
		return bad(c, "FLUSH not offered");
	if (h_feat(c, 0))
		return -1;
	wr(c->d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(c->d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)F_FLUSH);
	if (h_queue(c, 0, HQ_SIZE))
		return -1;
	wr(c->d, VIRTIO_MMIO_STATUS, S_LIVE);
	if (want_status(c, S_LIVE))
		return -1;
	q = rq(c);
	post(q, blk_req(q, 0, 0, VIRTIO_BLK_T_FLUSH, 0, 0));
	kick(c);
	if (wait_used(q, 1))
		return bad(c, "FLUSH not served");
	if (peek8(&bstat[0]) != VIRTIO_BLK_S_UNSUPP)
		return bad(c, "FLUSH status %u, want UNSUPP", peek8(&bstat[0]));
	return note(c, "flush=UNSUPP");
}

/* --- Notifications, interrupt acknowledgement, config space ---------- */

/* A kick before DRIVER_OK starts nothing; DRIVER_OK then serves. */
static int s_notify_before_dok(struct hctx *c)
{
	struct hq *q;

	if (h_feat(c, 0) || h_queue(c, 0, HQ_SIZE))
		return -1;
	q = rq(c);
	post(q, good_req(c));
	kick(c);
	delay_ms(STOP_MS);
	if (used_idx(q))
		return bad(c, "served before DRIVER_OK");
	wr(c->d, VIRTIO_MMIO_STATUS, S_LIVE);
	if (wait_used(q, 1))
		return bad(c, "not served after DRIVER_OK");
	if (good_result(c, used_len(q, 0)))
		return -1;
	return note(c, "served-at-DRIVER_OK");
}

static int s_notify_range(struct hctx *c)
{
	if (h_up(c))
		return -1;
	wr(c->d, VIRTIO_MMIO_QUEUE_NOTIFY, c->d->nq);
	return want_status(c, S_LIVE | S_NR);
}

/* Console transmitq never set up, kicked after DRIVER_OK. */
static int s_notify_unready(struct hctx *c)
{
	if (h_feat(c, 0) || h_queue(c, 0, HQ_SIZE))
		return -1;
	wr(c->d, VIRTIO_MMIO_STATUS, S_LIVE);
	if (want_status(c, S_LIVE))
		return -1;
	wr(c->d, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	return want_status(c, S_LIVE | S_NR);
}

#define STORM 5000u

/* Thousands of kicks: one request served once, nothing else. */
static int s_notify_storm(struct hctx *c)
{
	struct hq *q;

	if (h_up(c))
		return -1;
	q = rq(c);
	post(q, good_req(c));
	for (unsigned i = 0; i < STORM; i++)
		kick(c);
	if (wait_used(q, 1) || good_result(c, used_len(q, 0)))
		return bad(c, "request not served in the storm");
	for (unsigned i = 0; i < STORM; i++)
		kick(c);
	delay_ms(STOP_MS);
	if (used_idx(q) != 1)
		return bad(c, "used.idx %u, want 1", used_idx(q));
	return note(c, "2x5000-kicks,1-served");
}

/* Every one is an exit and a fault; one fault is latched and logged. */
static int s_notify_storm_bad(struct hctx *c)
{
	if (h_up(c))
		return -1;
	for (unsigned i = 0; i < 2000; i++)
		wr(c->d, VIRTIO_MMIO_QUEUE_NOTIFY, 5);
	return want_status(c, S_LIVE | S_NR);
}

static int isr_is(struct hctx *c, uint32_t want)
{
	uint32_t isr = rd(c->d, VIRTIO_MMIO_INTERRUPT_STATUS);

	return isr == want
		   ? 0
		   : bad(c, "InterruptStatus 0x%x, want 0x%x", isr, want);
}

/* InterruptACK with only undefined bits clears nothing. */
static int s_isr_ack(struct hctx *c)
{
	if (h_up(c) || serve(c) || isr_is(c, VIRTIO_MMIO_INT_VRING))
		return -1;
	wr(c->d, VIRTIO_MMIO_INTERRUPT_ACK,
	   ~(uint32_t)(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG));
	if (isr_is(c, VIRTIO_MMIO_INT_VRING))
		return -1;
	wr(c->d, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	if (isr_is(c, 0))
		return -1;
	return note(c, "isr=1,then-0");
}

static uint64_t capacity(const struct hdev *d)
{
	return rd(d, REG_CONFIG) | (uint64_t)rd(d, REG_CONFIG + 4) << 32;
}

/* The 64-bit capacity in one 8-byte access (the driver MUST use two). */
static int s_cfg_64bit(struct hctx *c)
{
	uint64_t cap, v;

	if (h_up(c))
		return -1;
	cap = capacity(c->d);
	v = io_rd(c->d, REG_CONFIG, 8);
	if (!cap || v != cap)
		return bad(c, "capacity 0x%llx, 8-byte read 0x%llx",
			   (unsigned long long)cap, (unsigned long long)v);
	return note(c, "capacity-read");
}

/* Bytes 1..4 of the capacity, as they lie. */
static int s_cfg_misaligned(struct hctx *c)
{
	uint64_t cap;
	uint32_t v;

	if (h_up(c))
		return -1;
	cap = capacity(c->d);
	v = (uint32_t)io_rd(c->d, REG_CONFIG + 1, 4);
	if (v != (uint32_t)(cap >> 8))
		return bad(c, "read at config+1 gave 0x%x", v);
	return note(c, "bytes-1..4");
}

/* The console's config space is 12 bytes; the window is 256. */
static int s_cfg_past_end(struct hctx *c)
{
	if (h_up(c))
		return -1;
	if (io_rd(c->d, REG_CONFIG + 0x40, 4) || io_rd(c->d, 0x1fc, 4) ||
	    io_rd(c->d, REG_CONFIG + 12, 8))
		return bad(c, "read past the config space not 0");
	return note(c, "reads=0");
}

/* --- The rings -------------------------------------------------------- */

static int s_avail_jump(struct hctx *c)
{
	struct hq *q;

	if (h_up(c))
		return -1;
	q = rq(c);
	q->avail->ring[0] = good_req(c);
	set_avail_idx(q, HQ_SIZE + 1);
	kick(c);
	return stopped(c, 0);
}

static int s_avail_dec(struct hctx *c)
{
	if (h_up(c) || serve(c))
		return -1;
	set_avail_idx(rq(c), 0);
	kick(c);
	return stopped(c, 1);
}

static int s_head_range(struct hctx *c)
{
	if (h_up(c))
		return -1;
	return ring_bad(c, HQ_SIZE, true);
}

static int s_next_range(struct hctx *c)
{
	struct hq *q;

	if (h_up(c))
		return -1;
	q = rq(c);
	blk_req(q, 0, 0, VIRTIO_BLK_T_IN, SCRATCH_SECTOR, 512);
	q->desc[0].next = HQ_SIZE;
	return ring_bad(c, 0, true);
}

static int s_desc_loop(struct hctx *c)
{
	struct hq *q;

	if (h_up(c))
		return -1;
	q = rq(c);
	desc(q, 0, gpa(rbuf[0]), 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	desc(q, 1, gpa(rbuf[0]) + 16, 16,
	     VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0);
	return ring_bad(c, 0, true);
}

/* Every descriptor of the table in one chain, the last back to 0. */
static int s_chain_long(struct hctx *c)
{
	struct hq *q;

	if (h_up(c))
		return -1;
	q = rq(c);
	for (uint16_t i = 0; i < HQ_SIZE; i++)
		desc(q, i, gpa(bdata[0]) + 64u * i, 64,
		     VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
		     (uint16_t)((i + 1) % HQ_SIZE));
	return ring_bad(c, 0, false);
}

/* Ring descriptor 0 pointing to itab[0] (@n entries, @flags added). */
static int ind_bad(struct hctx *c, uint64_t feat, uint32_t len, uint16_t flags)
{
	struct hq *q;

	if (h_live(c, feat, HQ_SIZE))
		return -1;
	q = rq(c);
	desc(q, 0, gpa(itab[0]), len, VRING_DESC_F_INDIRECT | flags, 1);
	return ring_bad(c, 0, true);
}

static int s_ind_not_neg(struct hctx *c)
{
	set_desc(itab[0], 0, gpa(rbuf[0]), 64, VRING_DESC_F_WRITE, 0);
	return ind_bad(c, 0, 16, 0);
}

static int s_ind_nested(struct hctx *c)
{
	bhdr[0] = (struct virtio_blk_outhdr){.type = VIRTIO_BLK_T_IN};
	set_desc(itab[0], 0, gpa(&bhdr[0]), 16, VRING_DESC_F_NEXT, 1);
	set_desc(itab[0], 1, gpa(itab[1]), 16, VRING_DESC_F_INDIRECT, 0);
	set_desc(itab[1], 0, gpa(&bstat[0]), 1, VRING_DESC_F_WRITE, 0);
	return ind_bad(c, F_IND, 32, 0);
}

static int s_ind_next(struct hctx *c)
{
	set_desc(itab[0], 0, gpa(rbuf[0]), 64, VRING_DESC_F_WRITE, 0);
	return ind_bad(c, F_IND, 16, VRING_DESC_F_NEXT);
}

static int s_ind_len(struct hctx *c)
{
	set_desc(itab[0], 0, gpa(cbuf), 1, 0, 0);
	return ind_bad(c, F_IND, 24, 0);
}

/* One entry more than the queue size (a chain longer than the queue). */
static int s_ind_long(struct hctx *c)
{
	bhdr[0] = (struct virtio_blk_outhdr){.type = VIRTIO_BLK_T_IN};
	set_desc(itab[0], 0, gpa(&bhdr[0]), 16, VRING_DESC_F_NEXT, 1);
	for (uint16_t i = 1; i <= HQ_SIZE; i++)
		set_desc(itab[0], i, gpa(bdata[0]) + 64u * i, 64,
			 VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
			 (uint16_t)(i + 1));
	itab[0][HQ_SIZE].flags = VRING_DESC_F_WRITE;
	return ind_bad(c, F_IND, 16u * (HQ_SIZE + 1), 0);
}

static int s_ind_beyond_ram(struct hctx *c)
{
	struct hq *q;

	if (h_live(c, F_IND, HQ_SIZE))
		return -1;
	q = rq(c);
	desc(q, 0, ram_top - 8, 16, VRING_DESC_F_INDIRECT, 0);
	return ring_bad(c, 0, true);
}

static int s_ind_loop(struct hctx *c)
{
	bhdr[0] = (struct virtio_blk_outhdr){.type = VIRTIO_BLK_T_IN};
	set_desc(itab[0], 0, gpa(&bhdr[0]), 16, VRING_DESC_F_NEXT, 1);
	set_desc(itab[0], 1, gpa(bdata[0]), 512,
		 VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	set_desc(itab[0], 2, gpa(&bstat[0]), 1,
		 VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	return ind_bad(c, F_IND, 48, 0);
}

static int s_ind_next_range(struct hctx *c)
{
	set_desc(itab[0], 0, gpa(cbuf), 1, VRING_DESC_F_NEXT, 5);
	set_desc(itab[0], 1, gpa(cbuf), 1, 0, 0);
	return ind_bad(c, F_IND, 32, 0);
}

/* Descriptor 0 (readable unless @wr) at @addr, @len bytes. */
static int buf_bad(struct hctx *c, uint64_t addr, uint32_t len, bool wr_)
{
	struct hq *q;

	if (h_up(c))
		return -1;
	q = rq(c);
	if (c->s->dev == HBLK) {
		blk_req(q, 0, 0, VIRTIO_BLK_T_IN, SCRATCH_SECTOR, 512);
		q->desc[0].addr = addr;
		q->desc[0].len = len;
	} else {
		desc(q, 0, addr, len, wr_ ? VRING_DESC_F_WRITE : 0, 0);
	}
	return ring_bad(c, 0, true);
}

static int s_buf_wraps(struct hctx *c)
{
	return buf_bad(c, 0xfffffffffffff000ull, 0x2000, false);
}

static int s_buf_beyond_ram(struct hctx *c)
{
	return buf_bad(c, ram_top - 16, 64, true);
}

/* A transmit buffer on the IOAPIC's registers. */
static int s_buf_mmio(struct hctx *c)
{
	return buf_bad(c, 0xfec00000u, 16, false);
}

/* Header, status (writable), then data (readable). */
static int s_desc_order(struct hctx *c)
{
	struct hq *q;

	if (h_up(c))
		return -1;
	q = rq(c);
	bhdr[0] = (struct virtio_blk_outhdr){.type = VIRTIO_BLK_T_OUT,
					     .sector = SCRATCH_SECTOR};
	desc(q, 0, gpa(&bhdr[0]), 16, VRING_DESC_F_NEXT, 1);
	desc(q, 1, gpa(&bstat[0]), 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
	     2);
	desc(q, 2, gpa(bdata[0]), 512, 0, 0);
	return ring_bad(c, 0, true);
}

/* All of RAM above 1 MiB readable, then 4 GiB - 1 writable. */
static int s_chain_4g(struct hctx *c)
{
	struct hq *q;

	if (h_up(c))
		return -1;
	q = rq(c);
	desc(q, 0, 0x100000u, (uint32_t)(ram_top - 0x100000u),
	     VRING_DESC_F_NEXT, 1);
	desc(q, 1, SCRATCH_RAM, 0xffffffffu, VRING_DESC_F_WRITE, 0);
	return ring_bad(c, 0, true);
}

/* --- Device requests ---------------------------------------------------- */

/* One blk request of @len data bytes: status @want, used length right,
 * and (unless it succeeded) the data buffer untouched. */
static int blk_expect(struct hctx *c, uint32_t type, uint64_t sector,
		      uint32_t len, uint8_t want)
{
	struct hq *q = rq(c);
	uint16_t u = (uint16_t)(used_idx(q) + 1);
	uint32_t ulen = type == VIRTIO_BLK_T_OUT ? 1 : len + 1;

	memset(bdata[0], 0xa5, sizeof(bdata[0]));
	post(q, blk_req(q, 0, 0, type, sector, len));
	kick(c);
	if (wait_used(q, u))
		return bad(c, "request not served");
	if (peek8(&bstat[0]) != want)
		return bad(c, "status %u, want %u", peek8(&bstat[0]), want);
	if (used_len(q, (uint16_t)(u - 1)) != ulen)
		return bad(c, "used len %u, want %u",
			   used_len(q, (uint16_t)(u - 1)), ulen);
	if (want != VIRTIO_BLK_S_OK &&
	    !all_byte(bdata[0], sizeof(bdata[0]), 0xa5))
		return bad(c, "data buffer written");
	return 0;
}

static int blk_ioerr(struct hctx *c, uint32_t type, uint64_t sector,
		     uint32_t len)
{
	if (h_up(c) || blk_expect(c, type, sector, len, VIRTIO_BLK_S_IOERR))
		return -1;
	return note(c, "status=IOERR");
}

static int s_blk_beyond_cap(struct hctx *c)
{
	return blk_ioerr(c, VIRTIO_BLK_T_IN, capacity(c->d), 512);
}

static int s_blk_straddle(struct hctx *c)
{
	return blk_ioerr(c, VIRTIO_BLK_T_OUT, capacity(c->d) - 1, 1024);
}

static int s_blk_overflow(struct hctx *c)
{
	return blk_ioerr(c, VIRTIO_BLK_T_OUT, ~0ull, 1024);
}

static int s_blk_not_512(struct hctx *c)
{
	return blk_ioerr(c, VIRTIO_BLK_T_IN, SCRATCH_SECTOR, 100);
}

/* GET_ID with 8 bytes instead of 20: the first 8 bytes of the id. */
static int s_blk_get_id(struct hctx *c)
{
	unsigned char id[20];

	if (h_up(c) ||
	    blk_expect(c, VIRTIO_BLK_T_GET_ID, 0, 20, VIRTIO_BLK_S_OK))
		return -1;
	/* An empty id (no serial) is as good: the bytes past 8 tell. */
	memcpy(id, bdata[0], sizeof(id));
	if (blk_expect(c, VIRTIO_BLK_T_GET_ID, 0, 8, VIRTIO_BLK_S_OK))
		return -1;
	if (memcmp(bdata[0], id, 8) || !all_byte(bdata[0] + 8, 4088, 0xa5))
		return bad(c, "short GET_ID wrote other bytes");
	return note(c, "status=OK,8-bytes");
}

/* A header and nothing writable: no status byte to answer in. */
static int s_blk_no_status(struct hctx *c)
{
	struct hq *q;

	if (h_up(c))
		return -1;
	q = rq(c);
	bhdr[0] = (struct virtio_blk_outhdr){.type = VIRTIO_BLK_T_IN};
	desc(q, 0, gpa(&bhdr[0]), 16, 0, 0);
	return ring_bad(c, 0, true);
}

/* A device-writable buffer on the transmitq: ignored, used length 0. */
static int s_con_tx_writable(struct hctx *c)
{
	struct hq *q;

	if (h_up(c))
		return -1;
	q = rq(c);
	cbuf[0] = '\n';
	memset(rbuf[0], 0x5a, sizeof(rbuf[0]));
	desc(q, 0, gpa(cbuf), 1, VRING_DESC_F_NEXT, 1);
	desc(q, 1, gpa(rbuf[0]), 8, VRING_DESC_F_WRITE, 0);
	post(q, 0);
	kick(c);
	if (wait_used(q, 1))
		return bad(c, "not served");
	if (used_len(q, 0) || !all_byte(rbuf[0], 8, 0x5a))
		return bad(c, "used len %u or writable part written",
			   used_len(q, 0));
	return note(c, "used-len=0");
}

#define FLOOD_ROUNDS 8u

/* Rounds of a full ring, kicked once each; every request completes. */
static int flood(struct hctx *c, void (*fill)(struct hq *q, uint16_t i),
		 int (*check)(struct hctx *c, uint16_t id, uint32_t len))
{
	struct hq *q;

	if (h_live(c, 0, HQ_BIG))
		return -1;
	q = rq(c);
	for (unsigned r = 0; r < FLOOD_ROUNDS; r++) {
		uint16_t base = used_idx(q);

		for (uint16_t i = 0; i < HQ_BIG; i++) {
			fill(q, i);
			post(q, i);
		}
		kick(c);
		if (wait_used(q, (uint16_t)(base + HQ_BIG)))
			return bad(c, "round %u: %u of %u served", r,
				   (uint16_t)(used_idx(q) - base), HQ_BIG);
		for (uint16_t i = 0; i < HQ_BIG; i++) {
			uint16_t u = (uint16_t)(base + i);

			if (check(c, (uint16_t)q->used->ring[u % HQ_BIG].id,
				  used_len(q, u)))
				return -1;
		}
	}
	return 0;
}

/* 63 dots and a newline per round: one line on the console. */
static void con_fill(struct hq *q, uint16_t i)
{
	cbuf[i] = i == HQ_BIG - 1 ? '\n' : '.';
	desc(q, i, gpa(&cbuf[i]), 1, 0, 0);
}

static int con_check(struct hctx *c, uint16_t id, uint32_t len)
{
	if (id >= HQ_BIG || len)
		return bad(c, "used id %u len %u", id, len);
	return 0;
}

static int s_con_flood(struct hctx *c)
{
	if (flood(c, con_fill, con_check))
		return -1;
	return note(c, "8x64-served");
}

static unsigned char *rng_big(uint16_t i)
{
	return (unsigned char *)(uintptr_t)(SCRATCH_RAM + 0x10000u * i);
}

/* 64 KiB per request; the device serves its cap and not a byte more. */
static void rng_fill(struct hq *q, uint16_t i)
{
	unsigned char *b = rng_big(i);

	memset(b, 0, 16);
	b[RNG_CAP] = 0xa5;
	desc(q, i, gpa(b), 0x10000u, VRING_DESC_F_WRITE, 0);
}

static int rng_check(struct hctx *c, uint16_t id, uint32_t len)
{
	if (id >= HQ_BIG || len != RNG_CAP)
		return bad(c, "used id %u len %u, want len %u", id, len,
			   RNG_CAP);
	if (all_zero(rng_big(id), 16) || peek8(&rng_big(id)[RNG_CAP]) != 0xa5)
		return bad(c, "request %u: bytes wrong", id);
	return 0;
}

static int s_rng_flood(struct hctx *c)
{
	if (flood(c, rng_fill, rng_check))
		return -1;
	return note(c, "8x64x4096-served");
}

/* A device-readable buffer first: ignored, the writable part served. */
static int s_rng_readable(struct hctx *c)
{
	struct hq *q;

	if (h_up(c))
		return -1;
	q = rq(c);
	memset(rbuf[0], 0x77, 16);
	memset(rbuf[0] + 16, 0, 32);
	desc(q, 0, gpa(rbuf[0]), 16, VRING_DESC_F_NEXT, 1);
	desc(q, 1, gpa(rbuf[0]) + 16, 32, VRING_DESC_F_WRITE, 0);
	post(q, 0);
	kick(c);
	if (wait_used(q, 1))
		return bad(c, "not served");
	if (used_len(q, 0) != 32 || !all_byte(rbuf[0], 16, 0x77) ||
	    all_zero(rbuf[0] + 16, 32))
		return bad(c, "used len %u or bytes wrong", used_len(q, 0));
	return note(c, "used-len=32");
}

#define INFLIGHT 16u
static uint8_t istat[INFLIGHT];

/* 16 reads of 1 MiB, then reset at once: after Status reads 0 the old
 * ring never moves again, and only the used requests have a status. */
static int s_reset_inflight(struct hctx *c)
{
	struct hq *q;
	uint16_t u;

	if (h_feat(c, 0) || h_queue(c, 0, HQ_BIG))
		return -1;
	q = rq(c);
	bhdr[0] = (struct virtio_blk_outhdr){.type = VIRTIO_BLK_T_IN};
	for (uint16_t k = 0; k < INFLIGHT; k++) {
		uint16_t i = (uint16_t)(3 * k);

		istat[k] = 0xff;
		desc(q, i, gpa(&bhdr[0]), 16, VRING_DESC_F_NEXT,
		     (uint16_t)(i + 1));
		desc(q, (uint16_t)(i + 1), SCRATCH_RAM, 1u << 20,
		     VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, (uint16_t)(i + 2));
		desc(q, (uint16_t)(i + 2), gpa(&istat[k]), 1,
		     VRING_DESC_F_WRITE, 0);
		post(q, i);
	}
	wr(c->d, VIRTIO_MMIO_STATUS, S_LIVE);
	wr(c->d, VIRTIO_MMIO_STATUS, 0);
	if (want_status(c, 0))
		return -1;
	u = used_idx(q);
	delay_ms(50);
	if (used_idx(q) != u || u > INFLIGHT)
		return bad(c, "used.idx %u, then %u", u, used_idx(q));
	for (uint16_t k = 0; k < INFLIGHT; k++)
		if ((peek8(&istat[k]) == 0) != (k < u))
			return bad(c, "request %u status 0x%x, %u used", k,
				   peek8(&istat[k]), u);
	tg_snprintf(c->what, sizeof(c->what), "used=%u/16,frozen", u);
	return 0;
}

/* --- The table ---------------------------------------------------------- */

#define R422 "§4.2.2.2"

static const struct scen scens[] = {
    {"reg-read-8bit", HRNG, R422, "REG_ACCESS", 1, s_read8},
    {"reg-write-16bit", HRNG, R422, "REG_ACCESS", 1, s_write16},
    {"reg-read-64bit", HBLK, R422, "REG_ACCESS", 1, s_read64},
    {"reg-read-misaligned", HCON, R422, "REG_ACCESS", 1, s_read_misaligned},
    {"reg-write-misaligned", HCON, R422, "REG_ACCESS", 1, s_write_misaligned},
    {"notify-16bit", HBLK, R422, "REG_ACCESS", 1, s_notify16},
    {"undefined-offset-read", HRNG, R422, NULL, 0, s_undef_read},
    {"undefined-offset-write", HRNG, R422, NULL, 5, s_undef_write},
    {"legacy-queue-pfn-write", HBLK, R422, NULL, 1, s_legacy_pfn},
    {"read-write-only-regs", HCON, R422, NULL, 0, s_read_wo},
    {"write-read-only-regs", HCON, R422, NULL, 8, s_write_ro},
    {"queue-sel-out-of-range", HBLK, R422, "QUEUE_SEL", 1, s_qsel_range},
    {"queue-num-not-pow2", HBLK, "§2.7", "QUEUE_SIZE", 1, s_qnum_pow2},
    {"queue-num-above-max", HBLK, R422, "QUEUE_SIZE", 1, s_qnum_max},
    {"queue-num-zero", HRNG, "§2.7", "QUEUE_SIZE", 1, s_qnum_zero},
    {"queue-setup-before-features-ok", HRNG, "§3.1.1", "QUEUE_STATE", 1,
     s_q_before_fok},
    {"queue-num-while-ready", HBLK, R422, "QUEUE_STATE", 1, s_q_while_ready},
    {"queue-setup-after-driver-ok", HCON, "§3.1.1", "QUEUE_STATE", 1,
     s_q_after_dok},
    {"queue-desc-misaligned", HBLK, "§2.7.1", "RING_ALIGN", 1,
     s_desc_misaligned},
    {"queue-avail-misaligned", HRNG, "§2.7.1", "RING_ALIGN", 1,
     s_avail_misaligned},
    {"queue-used-misaligned", HCON, "§2.7.1", "RING_ALIGN", 1,
     s_used_misaligned},
    {"queue-ring-beyond-ram", HBLK, "§2.7", "RING_RANGE", 1, s_ring_beyond_ram},
    {"queue-used-crosses-ram-end", HRNG, "§2.7", "RING_RANGE", 1,
     s_used_crosses_end},
    {"queue-ring-above-4g", HBLK, "§2.7", "RING_RANGE", 1, s_ring_above_4g},
    {"queue-ring-addr-wraps", HCON, "§2.7", "RING_RANGE", 1, s_ring_wraps},
    {"queue-ring-on-mmio", HBLK, "§2.7", "RING_RANGE", 1, s_ring_in_mmio},
    {"status-clear-bit", HRNG, "§2.1.1", "STATUS", 1, s_status_clear},
    {"driver-ok-before-features-ok", HBLK, "§3.1.1", "STATUS", 1,
     s_dok_before_fok},
    {"features-ok-before-driver", HCON, "§3.1.1", "STATUS", 1,
     s_fok_before_driver},
    {"failed-then-reinit-no-reset", HRNG, "§2.1.1", "STATUS", 1,
     s_failed_reinit},
    {"status-write-after-needs-reset", HCON, "§2.1.1", "REG_ACCESS", 2,
     s_status_after_nr},
    {"feature-not-offered", HBLK, "§2.2.1", NULL, 1, s_feat_not_offered},
    {"feature-bits-above-63", HRNG, "§2.2.1", NULL, 1, s_feat_above_63},
    {"feature-without-version-1", HCON, "§6.1", NULL, 1, s_feat_no_v1},
    {"features-after-features-ok", HBLK, "§3.1.1", NULL, 1, s_feat_after_fok},
    {"notify-before-driver-ok", HBLK, "§3.1.1", NULL, 0, s_notify_before_dok},
    {"notify-queue-out-of-range", HBLK, "§4.2.3.3", "NOTIFY", 1,
     s_notify_range},
    {"notify-queue-not-ready", HCON, "§4.2.3.3", "NOTIFY", 1, s_notify_unready},
    {"notify-storm", HBLK, "§2.7.10", NULL, 0, s_notify_storm},
    {"notify-storm-bad-index", HRNG, "§4.2.3.3", "NOTIFY", 1,
     s_notify_storm_bad},
    {"interrupt-ack-undefined-bits", HBLK, R422, NULL, 0, s_isr_ack},
    {"config-64bit-access", HBLK, R422, NULL, 0, s_cfg_64bit},
    {"config-misaligned-access", HBLK, R422, NULL, 0, s_cfg_misaligned},
    {"config-read-past-end", HCON, R422, NULL, 0, s_cfg_past_end},
    {"avail-idx-jump", HBLK, "§2.7", "AVAIL_IDX", 1, s_avail_jump},
    {"avail-idx-decrement", HRNG, "§2.7.6.1", "AVAIL_IDX", 1, s_avail_dec},
    {"avail-head-out-of-range", HBLK, "§2.7.6", "HEAD_RANGE", 1, s_head_range},
    {"desc-next-out-of-range", HBLK, "§2.7.5", "NEXT_RANGE", 1, s_next_range},
    {"desc-loop", HRNG, "§2.7.5.2", "CHAIN_LOOP", 1, s_desc_loop},
    {"chain-longer-than-queue", HBLK, "§2.7.5.3.1", "CHAIN_LOOP", 1,
     s_chain_long},
    {"indirect-not-negotiated", HRNG, "§2.7.5.3.1", "INDIRECT", 1,
     s_ind_not_neg},
    {"indirect-nested", HBLK, "§2.7.5.3.1", "INDIRECT_NESTED", 1, s_ind_nested},
    {"indirect-with-next", HRNG, "§2.7.5.3.1", "INDIRECT_NEXT", 1, s_ind_next},
    {"indirect-len-not-16n", HCON, "§2.7.5.3", "INDIRECT_LEN", 1, s_ind_len},
    {"indirect-longer-than-queue", HBLK, "§2.7.5.3.1", "INDIRECT_LEN", 1,
     s_ind_long},
    {"indirect-table-beyond-ram", HRNG, "§2.7.5.3", "BUFFER_RANGE", 1,
     s_ind_beyond_ram},
    {"indirect-loop", HBLK, "§2.7.5.2", "CHAIN_LOOP", 1, s_ind_loop},
    {"indirect-next-out-of-range", HCON, "§2.7.5.3", "NEXT_RANGE", 1,
     s_ind_next_range},
    {"buffer-addr-wraps", HBLK, "§2.7.5", "BUFFER_RANGE", 1, s_buf_wraps},
    {"buffer-beyond-ram", HRNG, "§2.7.5", "BUFFER_RANGE", 1, s_buf_beyond_ram},
    {"buffer-on-mmio", HCON, "§2.7.5", "BUFFER_RANGE", 1, s_buf_mmio},
    {"readable-after-writable", HBLK, "§2.7.4.2", "DESC_ORDER", 1,
     s_desc_order},
    {"chain-over-4gib", HBLK, "§2.7.5.2", "CHAIN_LEN", 1, s_chain_4g},
    {"blk-read-beyond-capacity", HBLK, "§5.2.6.1", NULL, 0, s_blk_beyond_cap},
    {"blk-write-straddles-end", HBLK, "§5.2.6.1", NULL, 0, s_blk_straddle},
    {"blk-sector-overflow", HBLK, "§5.2.6.1", NULL, 0, s_blk_overflow},
    {"blk-data-not-512-multiple", HBLK, "§5.2.6.1", NULL, 0, s_blk_not_512},
    {"blk-get-id-short", HBLK, "§5.2.6.1", NULL, 0, s_blk_get_id},
    {"blk-no-status-byte", HBLK, "§5.2.6", "DEVICE", 1, s_blk_no_status},
    {"console-tx-writable-buffer", HCON, "§5.3.6.1", NULL, 0,
     s_con_tx_writable},
    {"console-flood", HCON, "§5.3.6", NULL, 0, s_con_flood},
    {"rng-readable-buffer", HRNG, "§5.4.6.1", NULL, 0, s_rng_readable},
    {"rng-flood", HRNG, "§5.4.6.2", NULL, 0, s_rng_flood},
    {"reset-requests-in-flight", HBLK, "§2.4.1", NULL, 0, s_reset_inflight},
};
#define NSCENS (sizeof(scens) / sizeof(scens[0]))

/* --- After each scenario: reset, re-initialise, serve ----------------- */

static int v_start(struct hctx *c, unsigned qi)
{
	struct vmmio_drv *drv = c->d->drv;
	uint64_t acc = 0;
	int rc = vmmio_drv_negotiate(drv, 0, &acc);

	if (!rc)
		rc = vmmio_drv_vq_init(&vvq, VQ_SIZE, vmem, gpa(vmem),
				       sizeof(vmem), 4, vslot, acc);
	if (!rc)
		rc = vmmio_drv_setup_queue(drv, qi, &vvq);
	if (!rc)
		rc = vmmio_drv_driver_ok(drv);
	return rc ? bad(c, "re-init rc=%d", rc) : 0;
}

/* One request through the harness, polled. */
static int v_io(struct hctx *c, const struct vmmio_drv_buf *b, unsigned n_out,
		unsigned n_in, uint32_t *len)
{
	struct vmmio_drv_req r = {
	    .buf = b, .n_out = n_out, .n_in = n_in, .n_direct = n_out + n_in};
	void *tok = (void *)(uintptr_t)b, *got = NULL;
	uint64_t end = tg_deadline(WAIT_MS);
	int rc = vmmio_drv_vq_add(&vvq, &r, tok);

	if (rc)
		return bad(c, "after reset: add rc=%d", rc);
	if (vmmio_drv_vq_kick_prepare(&vvq))
		vmmio_drv_notify(c->d->drv, c->d->rq);
	while ((rc = vmmio_drv_vq_get_used(&vvq, &got, len)) == 0 &&
	       !tg_expired(end))
		tg_pause();
	if (rc != 1 || got != tok)
		return bad(c, "after reset: request not served (%d)", rc);
	return 0;
}

static uint8_t scratch_pattern(unsigned n, unsigned i)
{
	return (uint8_t)((i * 11u + n * 37u + 0x5bu) & 0xffu);
}

/* Sector 1024 + n: write the pattern, read it back. */
static int v_blk(struct hctx *c)
{
	struct vmmio_drv_buf b[3] = {{gpa(&bhdr[0]), sizeof(bhdr[0])},
				     {gpa(vbuf[0]), 512},
				     {gpa(&bstat[0]), 1}};
	uint32_t len;

	for (unsigned i = 0; i < 512; i++)
		vbuf[0][i] = scratch_pattern(c->n, i);
	bhdr[0] = (struct virtio_blk_outhdr){.type = VIRTIO_BLK_T_OUT,
					     .sector = SCRATCH_SECTOR + c->n};
	bstat[0] = 0xff;
	if (v_start(c, 0) || v_io(c, b, 2, 1, &len))
		return -1;
	if (peek8(&bstat[0]) != VIRTIO_BLK_S_OK)
		return bad(c, "after reset: write status %u", peek8(&bstat[0]));
	bhdr[0].type = VIRTIO_BLK_T_IN;
	bstat[0] = 0xff;
	b[1].gpa = gpa(vbuf[1]);
	memset(vbuf[1], 0, 512);
	if (v_io(c, b, 1, 2, &len))
		return -1;
	if (peek8(&bstat[0]) != VIRTIO_BLK_S_OK || len != 513 ||
	    memcmp(vbuf[0], vbuf[1], 512))
		return bad(c, "after reset: read back differs");
	return 0;
}

static int v_rng(struct hctx *c)
{
	struct vmmio_drv_buf b = {gpa(vbuf[0]), 64};
	uint32_t len;

	memset(vbuf[0], 0, 64);
	if (v_start(c, 0) || v_io(c, &b, 0, 1, &len))
		return -1;
	if (len == 0 || len > 64 || all_zero(vbuf[0], len))
		return bad(c, "after reset: rng len %u or zeros", len);
	return 0;
}

static int v_console(struct hctx *c)
{
	struct vmmio_drv_buf b = {gpa(vbuf[0]), 0};
	uint32_t len;

	b.len = (uint32_t)tg_snprintf((char *)vbuf[0], sizeof(vbuf[0]),
				      "hostile %02u ok\n", c->n);
	if (v_start(c, 1) || v_io(c, &b, 1, 0, &len))
		return -1;
	return len ? bad(c, "after reset: console used len %u", len) : 0;
}

/* NEEDS_RESET and a config interrupt iff a fault was expected. */
static int outcome(struct hctx *c)
{
	const struct hdev *d = c->d;
	uint32_t st = rd(d, VIRTIO_MMIO_STATUS);
	uint32_t isr = rd(d, VIRTIO_MMIO_INTERRUPT_STATUS);

	if (!c->s->fault) {
		if (st & S_NR)
			return bad(c, "NEEDS_RESET (status 0x%x)", st);
		if (isr & VIRTIO_MMIO_INT_CONFIG)
			return bad(c, "config interrupt pending");
		return 0;
	}
	if (!(st & S_NR))
		return bad(c, "no NEEDS_RESET (status 0x%x)", st);
	if (!(isr & VIRTIO_MMIO_INT_CONFIG))
		return bad(c, "InterruptStatus 0x%x: no config bit", isr);
	return wait_irq(c, c->irq_mark);
}

static int recover(struct hctx *c)
{
	const struct hdev *d = c->d;
	int rc;

	wr(d, VIRTIO_MMIO_STATUS, 0);
	if (rd(d, VIRTIO_MMIO_STATUS) || rd(d, VIRTIO_MMIO_INTERRUPT_STATUS))
		return bad(c, "reset: status or InterruptStatus not 0");
	if (c->s->dev == HBLK)
		rc = v_blk(c);
	else if (c->s->dev == HRNG)
		rc = v_rng(c);
	else
		rc = v_console(c);
	if (vmmio_drv_reset(d->drv))
		rc = bad(c, "final reset failed");
	if (rd(d, VIRTIO_MMIO_MAGIC_VALUE) != MMIO_MAGIC ||
	    rd(d, VIRTIO_MMIO_DEVICE_ID) != d->id)
		rc = bad(c, "MagicValue/DeviceID wrong");
	return rc;
}

/* --- Pacing the device's log lines -------------------------------------- */

static unsigned pace_recent(const struct hdev *d)
{
	uint64_t now = tg_rdtsc(), win = PACE_MS * tg_tsc_khz;
	unsigned sum = 0;

	for (unsigned i = 0; i < PACE_HIST; i++)
		if (d->pace_n[i] && now - d->pace_t[i] < win)
			sum += d->pace_n[i];
	return sum;
}

static void pace_wait(const struct hdev *d, unsigned lines)
{
	while (pace_recent(d) + lines > PACE_LINES)
		tg_pause();
}

/* Charged at the end of the scenario: every line came before. */
static void pace_note(struct hdev *d, unsigned lines)
{
	if (!lines)
		return;
	d->pace_t[d->pace_next] = tg_rdtsc();
	d->pace_n[d->pace_next] = (uint8_t)lines;
	d->pace_next = (d->pace_next + 1) % PACE_HIST;
}

/* --- Running ------------------------------------------------------------ */

static bool run_one(unsigned n, const struct scen *s)
{
	static struct hctx ctx;
	struct hctx *c = &ctx;
	bool ok;

	memset(c, 0, sizeof(*c));
	c->s = s;
	c->d = &hdevs[s->dev];
	c->n = n;
	pace_wait(c->d, s->logs);
	c->irq_mark = tg_irq_total(c->d->slot);
	ok = !s->run(c) && !outcome(c);
	ok = !recover(c) && ok;
	pace_note(c->d, s->logs);
	tg_printf("TG HOSTILE %02u %30s %7s %11s fault=%s%s%s %s%s%s\n", n,
		  s->name, c->d->name, s->clause, s->fault ? s->fault : "none",
		  c->what[0] ? " " : "", c->what, ok ? "PASS" : "FAIL",
		  ok ? "" : ": ", c->why);
	return ok;
}

static bool find_devices(char *why, size_t len)
{
	for (unsigned i = 0; i < HNDEV; i++) {
		struct hdev *d = &hdevs[i];

		d->drv = tg_dev_find(d->id, &d->slot);
		d->win = (uintptr_t)tg_dev_window(d->slot);
		if (!d->drv || !d->win || vmmio_drv_version(d->drv) != 2) {
			tg_snprintf(why, len, "needs a version 2 virtio-%s",
				    d->name);
			return false;
		}
	}
	return true;
}

/* End of the boot memory map's RAM entry that holds the image. */
static uint64_t find_ram_top(void)
{
	const unsigned char *e;
	unsigned n, stride;

	if (tg_pvh_info) {
		const unsigned char *si =
		    (const unsigned char *)(uintptr_t)tg_pvh_info;
		uint64_t mp;

		memcpy(&mp, si + 0x28, 8);
		e = (const unsigned char *)(uintptr_t)mp;
		n = *(const uint32_t *)(si + 0x30);
		stride = 24;
	} else if (tg_boot_params) {
		e = (const unsigned char *)(uintptr_t)tg_boot_params + 0x2d0;
		n = ((const unsigned char *)(uintptr_t)tg_boot_params)[0x1e8];
		stride = 20;
	} else {
		return 0;
	}
	for (unsigned i = 0; i < n && i < 128; i++, e += stride) {
		uint64_t a, s;
		uint32_t type;

		memcpy(&a, e, 8);
		memcpy(&s, e + 8, 8);
		memcpy(&type, e + 16, 4);
		if (type == 1 && a <= 0x100000u && s > 0x100000u - a)
			return a + s;
	}
	return 0;
}

void tg_scen_hostile(void)
{
	char why[160], failed[128] = "";
	unsigned pass = 0;
	size_t w = 0;

	if (!find_devices(why, sizeof(why))) {
		tg_result("hostile", TG_FAIL, why);
		return;
	}
	ram_top = find_ram_top();
	if (ram_top < SCRATCH_RAM + SCRATCH_RAM_LEN || ram_top > 0x40000000u) {
		tg_snprintf(why, sizeof(why),
			    "RAM ends at 0x%llx: needs 0x%x..0x%x, below 1 GiB",
			    (unsigned long long)ram_top, SCRATCH_RAM,
			    SCRATCH_RAM + SCRATCH_RAM_LEN);
		tg_result("hostile", TG_FAIL, why);
		return;
	}
	for (unsigned n = 1; n <= NSCENS; n++) {
		if (run_one(n, &scens[n - 1]))
			pass++;
		else if (w < sizeof(failed))
			w += (size_t)tg_snprintf(failed + w, sizeof(failed) - w,
						 " %s", scens[n - 1].name);
	}
	tg_snprintf(why, sizeof(why), "%u/%u scenarios%s%s", pass,
		    (unsigned)NSCENS, *failed ? "; failed:" : "", failed);
	tg_result("hostile", pass == NSCENS ? TG_PASS : TG_FAIL, why);
}
