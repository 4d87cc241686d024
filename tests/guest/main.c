/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test guest, ring 3: finds the virtio-mmio devices on the command line,
 * drives them with libvmmio's driver harness and reports on the UART.
 * See README.md for the command line, the scenarios, the output format
 * and the data patterns the host side checks.
 */
#include <linux/errno.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include <vmmio/driver.h>

#include "../../vmm-demo/layout.h"
#include "bench.h"
#include "tg.h"

_Static_assert(TG_VIRTIO_BASE == VMM_VIRTIO_BASE, "layout.h changed");
_Static_assert(TG_IOAPIC == VMM_IOAPIC_ADDR, "layout.h changed");
_Static_assert(TG_LAPIC == VMM_LAPIC_ADDR, "layout.h changed");
_Static_assert(TG_MAXDEV >= VMM_VIRTIO_MAX, "layout.h changed");
_Static_assert(TG_MAXDEV == 1 << TG_MAXDEV_SHIFT, "tg_asm.h");

#define BIT(n) (1ull << (n))
/* Virtio-mmio windows ring 3 may touch: the user-mapped 2 MiB page. */
#define WIN_END (TG_VIRTIO_BASE + 0x200000u)
/* QEMU microvm's windows: the 2 MiB page entry.S maps for them. */
#define QWIN_BASE (TG_VIRTIO_QEMU & ~0x1fffffu)
#define QWIN_END (QWIN_BASE + 0x200000u)
/* Zero page fields (Documentation/arch/x86/zero-page.rst). */
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_CMD_LINE_PTR 0x228
/* struct hvm_start_info (Xen's arch-x86/hvm/start_info.h): PVH boot. */
#define PVH_MAGIC 0x336ec578u
#define PVH_CMDLINE_PADDR 24
#define PVH_INFO_SIZE 56
/* RAM ring 3 can read (guest.ld / entry.S map 0..1 GiB). */
#define RAM_MAPPED 0x40000000u

#define QSIZE 64
#define RING_BYTES 0x2000u
#define IO_TIMEOUT_MS 5000

/* --- Data patterns the host checks (README.md) ------------------------ */
#define BLK_SECTOR 8 /* blk: 8 sectors from here */
#define BLK_BYTES 4096u
#define RESET_SECTOR 24 /* reset: one sector */
#define SMP_SECTOR 64	/* smp: SMP_ROUNDS x 8 sectors from here */
#define SMP_ROUNDS 32
#define SMP_RNG_REQS 512

static uint8_t blk_pattern(uint32_t i)
{
	return (uint8_t)((i * 7u + 0x5au) & 0xffu);
}

static uint8_t reset_pattern(uint32_t i)
{
	return (uint8_t)((i * 13u + 0x33u) & 0xffu);
}

static uint8_t smp_pattern(uint32_t round, uint32_t i)
{
	return (uint8_t)((i * 3u + round * 31u + 1u) & 0xffu);
}

/* --- Devices ---------------------------------------------------------- */

struct tgdev {
	uint64_t base;
	uint64_t size;
	uint32_t irq, slot;
	int init_rc;
	struct vmmio_drv drv;
	uint64_t features;
	unsigned nq;
	struct vmmio_drv_vq vq[2];
	struct vmmio_drv_slot slots[2][QSIZE];
	unsigned completed; /* requests the device completed */
	unsigned irq_seen;  /* interrupt count at the last ISR ack */
};

static struct tgdev devs[TG_MAXDEV];
static unsigned ndev;
static unsigned char rings[TG_MAXDEV][2][RING_BYTES]
    __attribute__((aligned(4096)));

static uint32_t mmio_read(void *opaque, uint32_t off, unsigned width)
{
	uintptr_t a = (uintptr_t)opaque + off;

	if (width == 1)
		return *(volatile uint8_t *)a;
	if (width == 2)
		return *(volatile uint16_t *)a;
	return *(volatile uint32_t *)a;
}

static void mmio_write(void *opaque, uint32_t off, uint32_t val, unsigned width)
{
	uintptr_t a = (uintptr_t)opaque + off;

	if (width == 1)
		*(volatile uint8_t *)a = (uint8_t)val;
	else if (width == 2)
		*(volatile uint16_t *)a = (uint16_t)val;
	else
		*(volatile uint32_t *)a = val;
}

static const struct vmmio_drv_ops mmio_ops = {
    .size = sizeof(mmio_ops), .read = mmio_read, .write = mmio_write};

static const char *dev_name(const struct tgdev *d)
{
	if (d->init_rc)
		return "none";
	switch (vmmio_drv_device_id(&d->drv)) {
	case VIRTIO_ID_BLOCK:
		return "blk";
	case VIRTIO_ID_CONSOLE:
		return "console";
	case VIRTIO_ID_RNG:
		return "rng";
	default:
		return "other";
	}
}

static struct tgdev *find_dev(uint32_t id)
{
	for (unsigned i = 0; i < ndev; i++)
		if (!devs[i].init_rc && vmmio_drv_device_id(&devs[i].drv) == id)
			return &devs[i];
	return NULL;
}

/* Ring-0 service through ud2 (entry.S). */
static long svc(long op, uint32_t a, uint32_t b)
{
	long ret;

	__asm__ volatile("ud2"
			 : "=a"(ret)
			 : "a"(op), "D"(a), "S"(b)
			 : "memory", "cc");
	return ret;
}

/* IOAPIC pin -> vector, fixed, physical, active high, edge, unmasked. */
static void ioapic_route(uint32_t pin, uint32_t vector, uint32_t apic_id)
{
	(void)svc(TG_SVC_IOAPIC, 0x10u + 2u * pin + 1u, apic_id << 24);
	(void)svc(TG_SVC_IOAPIC, 0x10u + 2u * pin, vector);
}

/* Negotiate @wanted, set up @nq queues, DRIVER_OK. */
static int dev_start(struct tgdev *d, uint64_t wanted, unsigned nq)
{
	uint32_t align = vmmio_drv_version(&d->drv) == 1 ? 4096u : 4u;
	int rc = vmmio_drv_negotiate(&d->drv, wanted, &d->features);

	if (rc)
		return rc;
	for (unsigned q = 0; q < nq; q++) {
		uint32_t max = vmmio_drv_queue_max(&d->drv, q);
		uint16_t qs = QSIZE;
		unsigned char *ring = rings[d->slot][q];

		if (!max)
			return -ENOENT;
		while (qs > max)
			qs /= 2;
		rc = vmmio_drv_vq_init(&d->vq[q], qs, ring, (uintptr_t)ring,
				       RING_BYTES, align, d->slots[q],
				       d->features);
		if (rc)
			return rc;
		rc = vmmio_drv_setup_queue(&d->drv, q, &d->vq[q]);
		if (rc)
			return rc;
	}
	d->nq = nq;
	return vmmio_drv_driver_ok(&d->drv);
}

/* Acknowledge the device's InterruptStatus once per interrupt taken. */
static void dev_irq_poll(struct tgdev *d)
{
	unsigned n = tg_irq_total(d->slot);

	if (n != d->irq_seen) {
		d->irq_seen = n;
		(void)vmmio_drv_ack_interrupt(&d->drv);
	}
}

/* Add a request; @table (16 bytes per buffer) makes every buffer
 * indirect when INDIRECT_DESC was negotiated. */
static int dev_submit(struct tgdev *d, unsigned q,
		      const struct vmmio_drv_buf *b, unsigned n_out,
		      unsigned n_in, void *token, void *table)
{
	struct vmmio_drv_req r = {
	    .buf = b, .n_out = n_out, .n_in = n_in, .n_direct = n_out + n_in};
	int rc;

	/* All buffers in the table, the indirect descriptor as the chain's
	 * head: QEMU (like Linux's driver) follows an indirect descriptor
	 * only there and takes one later in a chain for a plain buffer. */
	if (table && d->vq[q].indirect && r.n_direct > 1) {
		r.n_direct = 0;
		r.table = table;
		r.table_gpa = (uintptr_t)table;
	}
	rc = vmmio_drv_vq_add(&d->vq[q], &r, token);
	if (rc)
		return rc;
	if (vmmio_drv_vq_kick_prepare(&d->vq[q]))
		vmmio_drv_notify(&d->drv, q);
	return 0;
}

/* Next used element of queue @q, polling up to @ms. 1 got, 0 timeout. */
static int dev_wait(struct tgdev *d, unsigned q, uint64_t ms, void **token,
		    uint32_t *len)
{
	uint64_t end = tg_deadline(ms);

	for (;;) {
		int rc = vmmio_drv_vq_get_used(&d->vq[q], token, len);

		if (rc) {
			if (rc == 1)
				d->completed++;
			return rc;
		}
		dev_irq_poll(d);
		if (tg_expired(end))
			return 0;
		tg_pause();
	}
}

/* One request, synchronously. */
static int dev_io(struct tgdev *d, unsigned q, const struct vmmio_drv_buf *b,
		  unsigned n_out, unsigned n_in, void *table, uint32_t *len)
{
	void *tok = NULL;
	int rc = dev_submit(d, q, b, n_out, n_in, (void *)b, table);

	if (rc)
		return rc;
	rc = dev_wait(d, q, IO_TIMEOUT_MS, &tok, len);
	if (rc == 0)
		return -ETIMEDOUT;
	if (rc < 0)
		return rc;
	return tok == b ? 0 : -EPROTO;
}

/* --- Results ---------------------------------------------------------- */

static unsigned n_pass, n_fail, n_skip;

enum verdict { PASS, FAIL, SKIP };

static void result(const char *name, enum verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void result(const char *name, enum verdict v, const char *fmt, ...)
{
	static const char *const word[] = {"PASS", "FAIL", "SKIP"};
	char detail[160];
	va_list ap;

	va_start(ap, fmt);
	tg_vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (v == PASS)
		n_pass++;
	else if (v == FAIL)
		n_fail++;
	else
		n_skip++;
	tg_printf("TG RESULT %s %s %s\n", name, word[v], detail);
}

/* Printable copy of @n bytes of @s (for guest and host text). */
static void printable(char *dst, size_t cap, const unsigned char *s, size_t n)
{
	size_t j = 0;

	for (size_t i = 0; i < n && s[i] && j + 1 < cap; i++)
		dst[j++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	dst[j] = 0;
}

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* --- virtio-blk ------------------------------------------------------- */

#define BLK_WANTED                                                             \
	(BIT(VIRTIO_BLK_F_FLUSH) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |          \
	 BIT(VIRTIO_RING_F_EVENT_IDX))

static unsigned char blk_buf[BLK_BYTES] __attribute__((aligned(64)));
static unsigned char blk_buf2[BLK_BYTES] __attribute__((aligned(64)));

/* One blk command; the data buffer direct or (indirect) in a table. */
static int blk_cmd(struct tgdev *d, uint32_t type, uint64_t sector, void *data,
		   uint32_t len, bool indirect)
{
	struct virtio_blk_outhdr hdr = {.type = type, .sector = sector};
	volatile uint8_t status = 0xff;
	unsigned char table[16 * 3] __attribute__((aligned(16)));
	struct vmmio_drv_buf b[3];
	unsigned n = 0, n_out = 1;
	uint32_t used = 0;
	int rc;

	b[n++] = (struct vmmio_drv_buf){(uintptr_t)&hdr, sizeof(hdr)};
	if (len) {
		b[n++] = (struct vmmio_drv_buf){(uintptr_t)data, len};
		if (type == VIRTIO_BLK_T_OUT)
			n_out = 2;
	}
	b[n++] = (struct vmmio_drv_buf){(uintptr_t)&status, 1};
	rc = dev_io(d, 0, b, n_out, n - n_out, indirect ? table : NULL, &used);
	if (rc)
		return rc;
	if (status != VIRTIO_BLK_S_OK) {
		tg_printf("TG blk type=%u sector=%llu status=%u\n", type,
			  (unsigned long long)sector, status);
		return -EIO;
	}
	return 0;
}

static void scen_blk(void)
{
	struct tgdev *d = find_dev(VIRTIO_ID_BLOCK);
	unsigned char id[VIRTIO_BLK_ID_BYTES + 1];
	char idstr[VIRTIO_BLK_ID_BYTES + 1];
	bool flush;
	int rc;

	if (!d) {
		result("blk", FAIL, "no virtio-blk device");
		return;
	}
	rc = dev_start(d, BLK_WANTED, 1);
	if (rc) {
		result("blk", FAIL, "init rc=%d", rc);
		return;
	}
	memset(id, 0, sizeof(id));
	rc = blk_cmd(d, VIRTIO_BLK_T_GET_ID, 0, id, VIRTIO_BLK_ID_BYTES, false);
	if (rc) {
		result("blk", FAIL, "GET_ID rc=%d", rc);
		return;
	}
	printable(idstr, sizeof(idstr), id, VIRTIO_BLK_ID_BYTES);
	tg_printf("TG blk id=%s\n", idstr);
	for (uint32_t i = 0; i < BLK_BYTES; i++)
		blk_buf[i] = blk_pattern(i);
	rc = blk_cmd(d, VIRTIO_BLK_T_OUT, BLK_SECTOR, blk_buf, BLK_BYTES, true);
	if (rc) {
		result("blk", FAIL, "write rc=%d", rc);
		return;
	}
	flush = d->features & BIT(VIRTIO_BLK_F_FLUSH);
	if (flush) {
		rc = blk_cmd(d, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false);
		if (rc) {
			result("blk", FAIL, "flush rc=%d", rc);
			return;
		}
	}
	memset(blk_buf2, 0xee, BLK_BYTES);
	rc =
	    blk_cmd(d, VIRTIO_BLK_T_IN, BLK_SECTOR, blk_buf2, BLK_BYTES, false);
	if (rc) {
		result("blk", FAIL, "read rc=%d", rc);
		return;
	}
	for (uint32_t i = 0; i < BLK_BYTES; i++)
		if (blk_buf2[i] != blk_pattern(i)) {
			result("blk", FAIL,
			       "read back: byte %u is 0x%02x, wrote 0x%02x", i,
			       blk_buf2[i], blk_pattern(i));
			return;
		}
	rc = blk_cmd(d, VIRTIO_BLK_T_IN, 0, blk_buf2, BLK_BYTES, true);
	if (rc) {
		result("blk", FAIL, "read 0-7 rc=%d", rc);
		return;
	}
	tg_printf("TG blk sectors 0-7 fnv1a=%08x\n",
		  fnv1a(blk_buf2, BLK_BYTES));
	result("blk", PASS, "id=%s wrote+read 8 sectors at %u%s", idstr,
	       BLK_SECTOR, flush ? ", flushed" : ", no FLUSH feature");
}

/* --- virtio-console --------------------------------------------------- */

#define CON_NRX 4
#define CON_RXLEN 64
#define CON_LINE 64
#define CON_HELLO "hello from the test guest\n"

static unsigned char con_rx[CON_NRX][CON_RXLEN];
static unsigned char con_tx[CON_LINE + 8];
static bool console_in = true; /* tg.console_in */

static int con_post_rx(struct tgdev *d, unsigned i)
{
	struct vmmio_drv_buf b = {(uintptr_t)con_rx[i], CON_RXLEN};

	return dev_submit(d, 0, &b, 0, 1, con_rx[i], NULL);
}

static int con_write(struct tgdev *d, const char *s, size_t n)
{
	struct vmmio_drv_buf b = {(uintptr_t)con_tx, (uint32_t)n};
	uint32_t len;

	if (n > sizeof(con_tx))
		return -EINVAL;
	memcpy(con_tx, s, n);
	return dev_io(d, 1, &b, 1, 0, NULL, &len);
}

static void scen_console(void)
{
	struct tgdev *d = find_dev(VIRTIO_ID_CONSOLE);
	char line[CON_LINE + 1], shown[CON_LINE + 1], echo[CON_LINE + 8];
	unsigned got = 0, hellos = 1;
	uint64_t end, resend;
	bool done = false;
	int rc;

	if (!d) {
		result("console", FAIL, "no virtio-console device");
		return;
	}
	rc = dev_start(d, BIT(VIRTIO_RING_F_EVENT_IDX), 2);
	for (unsigned i = 0; !rc && i < CON_NRX; i++)
		rc = con_post_rx(d, i);
	if (rc) {
		result("console", FAIL, "init rc=%d", rc);
		return;
	}
	rc = con_write(d, CON_HELLO, sizeof(CON_HELLO) - 1);
	if (rc) {
		result("console", FAIL, "hello rc=%d", rc);
		return;
	}
	/* Output is dropped while no client is connected to a socket
	 * backend: repeat the hello until the host answers. */
	end = tg_deadline(console_in ? 20000 : 1000);
	resend = tg_deadline(500);
	while (!done) {
		void *tok;
		uint32_t len;

		rc = vmmio_drv_vq_get_used(&d->vq[0], &tok, &len);
		if (rc < 0) {
			result("console", FAIL, "receiveq rc=%d", rc);
			return;
		}
		if (rc == 1) {
			unsigned i = 0;

			while (i < CON_NRX && tok != con_rx[i])
				i++;
			d->completed++;
			if (i >= CON_NRX || len > CON_RXLEN) {
				result("console", FAIL, "bad rx element");
				return;
			}
			for (uint32_t k = 0; k < len && !done; k++) {
				char c = (char)con_rx[i][k];

				if (c == '\n' || got == CON_LINE)
					done = true;
				else if (c != '\r')
					line[got++] = c;
			}
			rc = con_post_rx(d, i);
			if (rc) {
				result("console", FAIL, "repost rc=%d", rc);
				return;
			}
			continue;
		}
		dev_irq_poll(d);
		if (tg_expired(end))
			break;
		if (!got && console_in && tg_expired(resend)) {
			rc = con_write(d, CON_HELLO, sizeof(CON_HELLO) - 1);
			if (rc) {
				result("console", FAIL, "hello rc=%d", rc);
				return;
			}
			hellos++;
			resend = tg_deadline(500);
		}
		tg_pause();
	}
	if (!done) {
		if (console_in)
			result("console", FAIL,
			       "hello sent x%u, no input line in 20 s", hellos);
		else
			result("console", SKIP,
			       "hello sent, no input (tg.console_in=0)");
		return;
	}
	line[got] = 0;
	printable(shown, sizeof(shown), (const unsigned char *)line, got);
	tg_printf("TG console got=%s\n", shown);
	rc = tg_snprintf(echo, sizeof(echo), "echo:%s\n", line);
	rc = con_write(
	    d, echo, (size_t)rc < sizeof(echo) ? (size_t)rc : sizeof(echo) - 1);
	if (rc) {
		result("console", FAIL, "echo rc=%d", rc);
		return;
	}
	result("console", PASS, "hello sent x%u, got '%s', echoed", hellos,
	       shown);
}

/* --- virtio-rng ------------------------------------------------------- */

#define RNG_WANTED (BIT(VIRTIO_RING_F_EVENT_IDX))

/* Fill @n bytes (the device may return fewer per request). */
static int rng_fill(struct tgdev *d, unsigned char *buf, uint32_t n)
{
	uint64_t end = tg_deadline(IO_TIMEOUT_MS);
	uint32_t got = 0;

	while (got < n) {
		struct vmmio_drv_buf b = {(uintptr_t)(buf + got), n - got};
		uint32_t len = 0;
		int rc = dev_io(d, 0, &b, 0, 1, NULL, &len);

		if (rc)
			return rc;
		if (len > n - got)
			return -EPROTO;
		got += len;
		if (got < n && tg_expired(end))
			return -ETIMEDOUT;
	}
	return 0;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void scen_rng(void)
{
	struct tgdev *d = find_dev(VIRTIO_ID_RNG);
	unsigned char a[64], b[64];
	int rc;

	if (!d) {
		result("rng", FAIL, "no virtio-rng device");
		return;
	}
	rc = dev_start(d, RNG_WANTED, 1);
	if (rc) {
		result("rng", FAIL, "init rc=%d", rc);
		return;
	}
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	rc = rng_fill(d, a, sizeof(a));
	if (!rc)
		rc = rng_fill(d, b, sizeof(b));
	if (rc) {
		result("rng", FAIL, "read rc=%d", rc);
		return;
	}
	if (all_zero(a, sizeof(a)) || all_zero(b, sizeof(b)) ||
	    !memcmp(a, b, sizeof(a))) {
		result("rng", FAIL, "64-byte reads zero or equal");
		return;
	}
	result("rng", PASS, "2x64 bytes, differ, %02x%02x%02x%02x..", a[0],
	       a[1], a[2], a[3]);
}

/* --- smp: vCPU 1 drives rng while vCPU 0 drives blk -------------------- */

static int ap_online[TG_MAXCPU];
static int smp_go, smp_done;
static struct {
	int rc;
	unsigned reqs, bytes, zero;
} smp_ap;

static void ap_rng_run(void)
{
	struct tgdev *d = find_dev(VIRTIO_ID_RNG);
	unsigned char buf[64];

	smp_ap.rc = 0;
	for (unsigned i = 0; i < SMP_RNG_REQS; i++) {
		struct vmmio_drv_buf b = {(uintptr_t)buf, sizeof(buf)};
		uint32_t len = 0;
		int rc;

		memset(buf, 0, sizeof(buf));
		rc = dev_io(d, 0, &b, 0, 1, NULL, &len);
		if (rc || len > sizeof(buf)) {
			smp_ap.rc = rc ? rc : -EPROTO;
			return;
		}
		smp_ap.reqs++;
		smp_ap.bytes += len;
		if (len && all_zero(buf, len))
			smp_ap.zero++;
	}
}

static void ap_main(unsigned cpu)
{
	__atomic_store_n(&ap_online[cpu], 1, __ATOMIC_RELEASE);
	for (;;) {
		if (cpu == 1 && __atomic_load_n(&smp_go, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&smp_go, 0, __ATOMIC_RELAXED);
			ap_rng_run();
			__atomic_store_n(&smp_done, 1, __ATOMIC_RELEASE);
		}
		tg_pause();
	}
}

static bool wait_flag(int *flag, uint64_t ms)
{
	uint64_t end = tg_deadline(ms);

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE))
		if (tg_expired(end))
			return false;
		else
			tg_pause();
	return true;
}

static int smp_blk_run(struct tgdev *d, unsigned *rounds)
{
	for (uint32_t r = 0; r < SMP_ROUNDS; r++) {
		uint64_t sector = SMP_SECTOR + 8u * r;
		int rc;

		for (uint32_t i = 0; i < BLK_BYTES; i++)
			blk_buf[i] = smp_pattern(r, i);
		rc = blk_cmd(d, VIRTIO_BLK_T_OUT, sector, blk_buf, BLK_BYTES,
			     r & 1);
		if (!rc)
			rc = blk_cmd(d, VIRTIO_BLK_T_IN, sector, blk_buf2,
				     BLK_BYTES, !(r & 1));
		if (rc)
			return rc;
		if (memcmp(blk_buf, blk_buf2, BLK_BYTES))
			return -EILSEQ;
		(*rounds)++;
	}
	return 0;
}

static void scen_smp(void)
{
	struct tgdev *blk = find_dev(VIRTIO_ID_BLOCK);
	struct tgdev *rng = find_dev(VIRTIO_ID_RNG);
	unsigned rounds = 0, cpu1_irqs;
	int rc;

	if (!blk || !rng) {
		result("smp", FAIL, "needs virtio-blk and virtio-rng");
		return;
	}
	if (!wait_flag(&ap_online[1], 1000)) {
		result("smp", SKIP, "vCPU 1 not online (needs --vcpus 2)");
		return;
	}
	/* Fresh queues, so the scenario does not depend on blk/rng. */
	rc = dev_start(blk, BLK_WANTED, 1);
	if (!rc)
		rc = dev_start(rng, RNG_WANTED, 1);
	if (rc) {
		result("smp", FAIL, "init rc=%d", rc);
		return;
	}
	/* rng's interrupts go to vCPU 1 while it drives rng. */
	ioapic_route(rng->irq, TG_VEC_DEV + rng->slot, tg_apic_id[1]);
	cpu1_irqs = tg_irq_count[1][rng->slot];
	smp_ap.reqs = smp_ap.bytes = smp_ap.zero = 0;
	__atomic_store_n(&smp_done, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&smp_go, 1, __ATOMIC_RELEASE);
	rc = smp_blk_run(blk, &rounds);
	tg_printf("TG smp cpu0 blk rounds=%u rc=%d\n", rounds, rc);
	if (!wait_flag(&smp_done, 30000)) {
		result("smp", FAIL, "vCPU 1 did not finish (%u rng requests)",
		       __atomic_load_n(&smp_ap.reqs, __ATOMIC_RELAXED));
		return;
	}
	cpu1_irqs = tg_irq_count[1][rng->slot] - cpu1_irqs;
	ioapic_route(rng->irq, TG_VEC_DEV + rng->slot, tg_apic_id[0]);
	tg_printf("TG smp cpu1 rng reqs=%u bytes=%u irqs=%u rc=%d\n",
		  smp_ap.reqs, smp_ap.bytes, cpu1_irqs, smp_ap.rc);
	if (rc || smp_ap.rc || smp_ap.reqs != SMP_RNG_REQS || smp_ap.zero) {
		result("smp", FAIL, "blk rc=%d rounds=%u, rng rc=%d reqs=%u",
		       rc, rounds, smp_ap.rc, smp_ap.reqs);
		return;
	}
	result("smp", PASS,
	       "cpu0 blk %u x 4 KiB write+read, cpu1 rng %u reqs (%u irqs)",
	       rounds, smp_ap.reqs, cpu1_irqs);
}

/* --- reset: status 0, re-initialise, serve requests ------------------- */

static void scen_reset(void)
{
	struct tgdev *blk = find_dev(VIRTIO_ID_BLOCK);
	struct tgdev *rng = find_dev(VIRTIO_ID_RNG);
	char done[64] = "";
	int rc;

	if (!blk && !rng) {
		result("reset", FAIL, "needs virtio-blk or virtio-rng");
		return;
	}
	if (blk) {
		rc = dev_start(blk, BLK_WANTED, 1);
		for (uint32_t i = 0; !rc && i < 512; i++)
			blk_buf[i] = reset_pattern(i);
		if (!rc)
			rc = blk_cmd(blk, VIRTIO_BLK_T_OUT, RESET_SECTOR,
				     blk_buf, 512, false);
		if (!rc)
			rc = vmmio_drv_reset(&blk->drv);
		/* setup_queue fails with -EBUSY if the reset kept the queue */
		if (!rc)
			rc = dev_start(blk, BLK_WANTED, 1);
		if (!rc) {
			memset(blk_buf2, 0, 512);
			rc = blk_cmd(blk, VIRTIO_BLK_T_IN, RESET_SECTOR,
				     blk_buf2, 512, true);
		}
		if (!rc && memcmp(blk_buf, blk_buf2, 512))
			rc = -EILSEQ;
		if (rc) {
			result("reset", FAIL, "blk rc=%d", rc);
			return;
		}
		tg_snprintf(done, sizeof(done), "blk");
	}
	if (rng) {
		unsigned char a[32];

		rc = dev_start(rng, RNG_WANTED, 1);
		if (!rc)
			rc = vmmio_drv_reset(&rng->drv);
		if (!rc)
			rc = dev_start(rng, RNG_WANTED, 1);
		memset(a, 0, sizeof(a));
		if (!rc)
			rc = rng_fill(rng, a, sizeof(a));
		if (!rc && all_zero(a, sizeof(a)))
			rc = -EILSEQ;
		if (rc) {
			result("reset", FAIL, "rng rc=%d", rc);
			return;
		}
		tg_snprintf(done + strlen(done), sizeof(done) - strlen(done),
			    "%srng", *done ? "+" : "");
	}
	result("reset", PASS, "%s: reset, re-init, request served", done);
}

/* --- irq: every device that completed requests interrupted ------------ */

static void scen_irq(void)
{
	char line[160];
	unsigned active = 0, silent = 0;
	size_t n;
	uint64_t end;

	/* Make each blk/rng do something even if no other scenario ran. */
	for (unsigned i = 0; i < ndev; i++) {
		struct tgdev *d = &devs[i];
		uint32_t id = d->init_rc ? 0 : vmmio_drv_device_id(&d->drv);
		unsigned char buf[16];

		if (d->completed ||
		    (id != VIRTIO_ID_BLOCK && id != VIRTIO_ID_RNG))
			continue;
		if (id == VIRTIO_ID_BLOCK && !dev_start(d, BLK_WANTED, 1))
			(void)blk_cmd(d, VIRTIO_BLK_T_IN, 0, blk_buf2, 512,
				      false);
		if (id == VIRTIO_ID_RNG && !dev_start(d, RNG_WANTED, 1))
			(void)rng_fill(d, buf, sizeof(buf));
	}
	/* An interrupt may trail its used element by tens of us. */
	end = tg_deadline(200);
	for (;;) {
		bool missing = false;

		for (unsigned i = 0; i < ndev; i++)
			if (devs[i].completed && !tg_irq_total(i))
				missing = true;
		if (!missing || tg_expired(end))
			break;
		tg_pause();
	}
	n = (size_t)tg_snprintf(line, sizeof(line), "TG irq");
	for (unsigned i = 0; i < ndev && n < sizeof(line); i++) {
		n += (size_t)tg_snprintf(line + n, sizeof(line) - n,
					 " %s=%u/%u", dev_name(&devs[i]),
					 tg_irq_total(i), devs[i].completed);
		if (devs[i].completed) {
			active++;
			silent += !tg_irq_total(i);
		}
	}
	tg_printf("%s (irqs/requests)\n", line);
	if (!active)
		result("irq", SKIP, "no device completed a request");
	else if (silent)
		result("irq", FAIL, "%u of %u active devices never interrupted",
		       silent, active);
	else
		result("irq", PASS, "%u devices, each interrupted", active);
}

/* --- fault: the fatal path on purpose (not in the default set) -------- */

static void scen_fault(void)
{
	/* Page 0 is not mapped: #PF, reported by tg_exception(). */
	tg_printf("TG fault: reading address 0x8\n");
	uintptr_t a = 8;

	__asm__ volatile("" : "+r"(a));
	(void)*(volatile uint32_t *)a;
	result("fault", FAIL, "no page fault");
}

/*
 * --- Ending the VM on purpose (not in the default set) ----------------
 * emufail: ring 0 runs an instruction KVM cannot emulate on PVM (fwait);
 * vmm-demo must print its address and bytes and exit non-zero.
 * triple: ring 0 loads an empty IDT and faults: a triple fault.
 * reboot: the FADT reset register; vmm-demo exits 0.
 */
extern const char tg_emufail_insn[];

static void scen_emufail(void)
{
	tg_printf("TG emufail: fwait in ring 0 at 0x%x\n",
		  (unsigned)(uintptr_t)tg_emufail_insn);
	(void)svc(TG_SVC_EMUFAIL, 0, 0);
	result("emufail", FAIL, "fwait ran in ring 0");
}

static void scen_triple(void)
{
	tg_printf("TG triple: empty IDT, then #UD\n");
	(void)svc(TG_SVC_TRIPLE, 0, 0);
	result("triple", FAIL, "still running");
}

static void scen_reboot(void)
{
	tg_printf("TG reboot: reset register\n");
	tg_outb(VMM_RESET_PORT, VMM_RESET_VALUE);
	result("reboot", FAIL, "reset register did not stop the VM");
}

/*
 * --- nodev: MMIO where no device is (not in the default set) ----------
 * 400 accesses in a burst at an address past the last window: reads
 * float high, writes are dropped, vmm-demo rate-limits its log line;
 * then, after a second, one more access lets it report how many lines it
 * suppressed.
 */
#define NODEV_ADDR (TG_VIRTIO_BASE + 0x100000u)

static void scen_nodev(void)
{
	void *base = (void *)(uintptr_t)NODEV_ADDR;
	unsigned bad = 0;
	uint64_t end;

	for (unsigned i = 0; i < 200; i++) {
		mmio_write(base, 4 * (i % 16), 0x12345678u, 4);
		if (mmio_read(base, 4 * (i % 16), 4) != 0xffffffffu)
			bad++;
	}
	end = tg_deadline(1100);
	while (tg_rdtsc() < end)
		;
	if (mmio_read(base, 0, 4) != 0xffffffffu)
		bad++;
	if (bad)
		result("nodev", FAIL, "%u reads were not all-ones", bad);
	else
		result("nodev", PASS, "401 reads all-ones, 200 writes dropped");
}

/*
 * --- badports: port writes that must not end the VM (not default) ----
 * The sleep register with SLP_EN but a sleep type other than S5, or
 * without SLP_EN; the reset register with values other than the FADT's;
 * the i8042 command port with values other than 0xfe (reset);
 * a read of a port nothing decodes (all-ones). The VM must keep running.
 */
static void scen_badports(void)
{
	static const uint8_t reset_vals[] = {0x00, 0x02, 0x06, 0xfe, 0xff};
	uint8_t v;

	for (unsigned typ = 0; typ < 8; typ++)
		if (typ != VMM_SLP_TYP_S5)
			tg_outb(VMM_SLEEP_CTL_PORT,
				(uint8_t)((typ << 2) | VMM_SLP_EN));
	tg_outb(VMM_SLEEP_CTL_PORT, VMM_SLP_TYP_S5 << 2); /* no SLP_EN */
	for (unsigned i = 0; i < sizeof(reset_vals); i++)
		if (reset_vals[i] != VMM_RESET_VALUE)
			tg_outb(VMM_RESET_PORT, reset_vals[i]);
	/* i8042 command port: only 0xfe (pulse reset) reboots. */
	for (unsigned i = 0; i < sizeof(reset_vals); i++)
		if (reset_vals[i] != 0xfe)
			tg_outb(0x64, reset_vals[i]);
	v = tg_inb(0x510);
	if (v != 0xff)
		result("badports", FAIL, "port 0x510 read 0x%x", v);
	else
		result("badports", PASS,
		       "still running; port 0x510 reads 0xff");
}

/* --- Command line ----------------------------------------------------- */

static char cmdline[2048];
static char run_list[256];
static bool run_given;

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hexval(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decimal or 0x hex; false on no digits or overflow. */
static bool parse_num(const char **p, uint64_t *out)
{
	const char *s = *p;
	unsigned base = 10;
	uint64_t v = 0;
	int dv, n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	while ((dv = hexval(*s)) >= 0 && (unsigned)dv < base) {
		if (__builtin_mul_overflow(v, base, &v) ||
		    __builtin_add_overflow(v, (uint64_t)dv, &v))
			return false;
		s++;
		n++;
	}
	*p = s;
	*out = v;
	return n > 0;
}

/* Inside one of the two 2 MiB pages entry.S maps for virtio-mmio. */
static bool in_window(uint64_t base, uint64_t size)
{
	return (base >= TG_VIRTIO_BASE && base < WIN_END &&
		size <= WIN_END - base) ||
	       (base >= QWIN_BASE && base < QWIN_END &&
		size <= QWIN_END - base);
}

/* SIZE@BASE:IRQ[:ID], SIZE with an optional K/M/G suffix. */
static void add_device(const char *spec)
{
	const char *p = spec;
	uint64_t size, base, irq, id;
	struct tgdev *d;

	if (!parse_num(&p, &size))
		goto bad;
	if (*p == 'K' || *p == 'k')
		size <<= 10, p++;
	else if (*p == 'M' || *p == 'm')
		size <<= 20, p++;
	if (*p++ != '@' || !parse_num(&p, &base) || *p++ != ':' ||
	    !parse_num(&p, &irq))
		goto bad;
	if (*p == ':' && (p++, !parse_num(&p, &id)))
		goto bad;
	if (*p && *p != ' ')
		goto bad;
	if (size < 0x200 || size > 0x1000 || !in_window(base, size) ||
	    base % 0x200 || irq > 23) {
		tg_printf("TG bad device (window outside 0x%x..0x%x and "
			  "0x%x..0x%x, or irq over 23): %s\n",
			  TG_VIRTIO_BASE, WIN_END, QWIN_BASE, QWIN_END, spec);
		return;
	}
	if (ndev == TG_MAXDEV) {
		tg_printf("TG too many devices, ignored: %s\n", spec);
		return;
	}
	d = &devs[ndev];
	d->slot = ndev++;
	d->base = base;
	d->size = size;
	d->irq = (uint32_t)irq;
	return;
bad:
	tg_printf("TG bad virtio_mmio.device= entry: %s\n", spec);
}

static uint32_t rd32(const volatile unsigned char *p)
{
	return (uint32_t)(p[0] | p[1] << 8 | p[2] << 16) | (uint32_t)p[3] << 24;
}

/* The command line's address: PVH start info, else the zero page. */
static uint64_t cmdline_ptr(void)
{
	const volatile unsigned char *si =
	    (const volatile unsigned char *)tg_pvh_info;
	const volatile unsigned char *bp =
	    (const volatile unsigned char *)tg_boot_params;

	if (tg_pvh_info) {
		if (tg_pvh_info < 0x1000 ||
		    tg_pvh_info > RAM_MAPPED - PVH_INFO_SIZE ||
		    rd32(si) != PVH_MAGIC)
			return 0;
		return rd32(si + PVH_CMDLINE_PADDR) |
		       (uint64_t)rd32(si + PVH_CMDLINE_PADDR + 4) << 32;
	}
	if (tg_boot_params < 0x1000 || tg_boot_params > RAM_MAPPED - 0x1000)
		return 0;
	return rd32(bp + BP_CMD_LINE_PTR) |
	       (uint64_t)rd32(bp + BP_EXT_CMD_LINE_PTR) << 32;
}

static void read_cmdline(void)
{
	uint64_t ptr = cmdline_ptr();
	size_t n = 0;

	cmdline[0] = 0;
	if (ptr < 0x1000 || ptr >= RAM_MAPPED - sizeof(cmdline))
		return;
	for (; n + 1 < sizeof(cmdline); n++) {
		char c = ((const volatile char *)ptr)[n];

		if (!c)
			break;
		cmdline[n] = c;
	}
	cmdline[n] = 0;
}

/* Copy the value of the token at @p (after "key=") into @dst. */
static void token_value(char *dst, size_t cap, const char *p)
{
	size_t n = 0;

	while (p[n] && p[n] != ' ' && n + 1 < cap) {
		dst[n] = p[n];
		n++;
	}
	dst[n] = 0;
}

static void parse_cmdline(void)
{
	static const char dev_key[] = "virtio_mmio.device=";
	static const char run_key[] = "tg.run=";
	static const char cin_key[] = "tg.console_in=";
	const char *p = cmdline;

	while (*p) {
		char val[64];

		while (*p == ' ')
			p++;
		if (!tg_strncmp(p, dev_key, sizeof(dev_key) - 1)) {
			token_value(val, sizeof(val), p + sizeof(dev_key) - 1);
			add_device(val);
		} else if (!tg_strncmp(p, run_key, sizeof(run_key) - 1)) {
			token_value(run_list, sizeof(run_list),
				    p + sizeof(run_key) - 1);
			run_given = true;
		} else if (!tg_strncmp(p, cin_key, sizeof(cin_key) - 1)) {
			token_value(val, sizeof(val), p + sizeof(cin_key) - 1);
			console_in = !(val[0] == '0' && !val[1]);
		}
		while (*p && *p != ' ')
			p++;
	}
}

/* --- For bench.c (tg.h) ---------------------------------------------- */

_Static_assert(PASS == (int)TG_PASS && FAIL == (int)TG_FAIL &&
		   SKIP == (int)TG_SKIP,
	       "tg_verdict");

struct vmmio_drv *tg_dev_find(uint32_t device_id, unsigned *slot)
{
	struct tgdev *d = find_dev(device_id);

	if (!d)
		return NULL;
	*slot = d->slot;
	return &d->drv;
}

void tg_result(const char *name, enum tg_verdict v, const char *detail)
{
	result(name, (enum verdict)v, "%s", detail);
}

const char *tg_cmdline(void)
{
	return cmdline;
}

const char *tg_opt(const char *key)
{
	const char *cmd = cmdline;
	size_t n = strlen(key);

	while (*cmd) {
		while (*cmd == ' ')
			cmd++;
		if (!tg_strncmp(cmd, key, n))
			return cmd + n;
		while (*cmd && *cmd != ' ')
			cmd++;
	}
	return NULL;
}

void *tg_dev_window(unsigned slot)
{
	return slot < ndev ? (void *)(uintptr_t)devs[slot].base : NULL;
}

/* --- Scenarios -------------------------------------------------------- */

struct scenario {
	const char *name;
	void (*run)(void);
	bool selected;
};

static struct scenario scenarios[] = {
    {"blk", scen_blk, false},
    {"console", scen_console, false},
    {"rng", scen_rng, false},
    {"smp", scen_smp, false},
    {"reset", scen_reset, false},
    {"irq", scen_irq, false},
    {"fault", scen_fault, false},
    {"emufail", scen_emufail, false},
    {"triple", scen_triple, false},
    {"reboot", scen_reboot, false},
    {"nodev", scen_nodev, false},
    {"badports", scen_badports, false},
    {"bench", scen_bench, false},
    {"hostile", tg_scen_hostile, false},
    {"killtest", tg_scen_killtest, false},
    {"ioerr", tg_scen_ioerr, false},
    {"flood", tg_scen_flood, false},
};
#define NSCEN (sizeof(scenarios) / sizeof(scenarios[0]))

static void select_default(void)
{
	bool blk = find_dev(VIRTIO_ID_BLOCK), rng = find_dev(VIRTIO_ID_RNG);
	bool con = find_dev(VIRTIO_ID_CONSOLE);

	scenarios[0].selected = blk;
	scenarios[1].selected = con;
	scenarios[2].selected = rng;
	scenarios[3].selected = blk && rng;
	scenarios[4].selected = blk || rng;
	scenarios[5].selected = blk || rng || con;
}

/* tg.run=a,b,c: unknown names are failures. */
static void select_run(void)
{
	char *p = run_list;

	if (!run_given || !*run_list) {
		select_default();
		return;
	}
	while (*p) {
		char *name = p;
		bool found = false;

		while (*p && *p != ',')
			p++;
		if (*p)
			*p++ = 0;
		if (!*name)
			continue;
		if (!tg_strncmp(name, "all", 4)) {
			select_default();
			continue;
		}
		for (unsigned i = 0; i < NSCEN; i++)
			if (!tg_strncmp(name, scenarios[i].name, 16)) {
				scenarios[i].selected = true;
				found = true;
			}
		if (!found)
			result(name, FAIL, "unknown scenario (tg.run)");
	}
}

static void finish(void)
{
	tg_printf("TG DONE pass=%u fail=%u skip=%u\n", n_pass, n_fail, n_skip);
	tg_poweroff();
}

static void bsp_main(void)
{
	const char *tsc_src = tg_tsc_init();

	read_cmdline();
	tg_printf("TG test guest, tsc %llu kHz (%s)\n",
		  (unsigned long long)tg_tsc_khz, tsc_src);
	tg_printf("TG cmdline: %s\n", cmdline);
	parse_cmdline();
	for (unsigned i = 0; i < ndev; i++) {
		struct tgdev *d = &devs[i];

		d->init_rc = vmmio_drv_init(&d->drv, &mmio_ops,
					    (void *)(uintptr_t)d->base);
		if (!d->init_rc)
			ioapic_route(d->irq, TG_VEC_DEV + d->slot,
				     tg_apic_id[0]);
		tg_printf("TG dev %u: %s @0x%llx size 0x%llx irq %u version %u "
			  "rc %d\n",
			  i, dev_name(d), (unsigned long long)d->base,
			  (unsigned long long)d->size, d->irq,
			  d->init_rc ? 0 : vmmio_drv_version(&d->drv),
			  d->init_rc);
	}
	select_run();
	for (unsigned i = 0; i < NSCEN; i++)
		if (scenarios[i].selected)
			scenarios[i].run();
	finish();
}

void tg_main(uint64_t cpu)
{
	if (cpu == 0)
		bsp_main();
	else
		ap_main((unsigned)cpu);
}

/* Ring 0, fatal: any exception, or an interrupt we did not ask for. */
void tg_exception(struct tg_frame *f)
{
	uint64_t cr2;

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	tg_printf_raw("TG EXCEPTION vec=%llu err=0x%llx rip=0x%llx cs=0x%llx "
		      "rsp=0x%llx cr2=0x%llx\n",
		      (unsigned long long)f->vec, (unsigned long long)f->err,
		      (unsigned long long)f->rip, (unsigned long long)f->cs,
		      (unsigned long long)f->rsp, (unsigned long long)cr2);
	tg_printf_raw("TG RESULT exception FAIL vector %llu at 0x%llx\n",
		      (unsigned long long)f->vec, (unsigned long long)f->rip);
	tg_printf_raw("TG DONE pass=%u fail=%u skip=%u\n", n_pass, n_fail + 1,
		      n_skip);
	tg_poweroff();
}
