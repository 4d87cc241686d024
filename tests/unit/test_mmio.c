/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the virtio-mmio transport and the driver's transport half. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include <vmmio/device.h>
#include <vmmio/driver.h>

#include "tests.h"

#define MAGIC 0x74726976u
#define RAM_GPA 0x100000ull
#define RAM_SIZE 0x10000u
#define RAM_END (RAM_GPA + RAM_SIZE)
#define TDEV_ID 42u
#define CFG_SIZE 12u
#define NQ 2u
#define QMAX0 16u
#define QMAX1 8u
#define TFEAT                                                                  \
	((1ull << 0) | (1ull << VIRTIO_RING_F_INDIRECT_DESC) |                 \
	 (1ull << VIRTIO_RING_F_EVENT_IDX))
#define V1 (1ull << VIRTIO_F_VERSION_1)

/* Short names for status values. */
#define S_ACK VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRV (S_ACK | VIRTIO_CONFIG_S_DRIVER)
#define S_FOK (S_DRV | VIRTIO_CONFIG_S_FEATURES_OK)
#define S_LIVE (S_FOK | VIRTIO_CONFIG_S_DRIVER_OK)
#define S_LIVE1 (S_DRV | VIRTIO_CONFIG_S_DRIVER_OK)
#define S_NR VIRTIO_CONFIG_S_NEEDS_RESET
#define S_FAILED VIRTIO_CONFIG_S_FAILED

/* Modern ring placement used by the register sequences. */
#define Q0_DESC RAM_GPA
#define Q0_AVAIL (RAM_GPA + 0x100)
#define Q0_USED (RAM_GPA + 0x200)
#define Q1_DESC (RAM_GPA + 0x1000)
#define Q1_AVAIL (RAM_GPA + 0x1080)
#define Q1_USED (RAM_GPA + 0x1100)
/* Legacy PFNs (4096-byte pages). */
#define Q0_PFN 0x100u
#define Q1_PFN 0x102u

/* Everything one test sees of the device, the host and guest RAM. */
struct env {
	struct vmmio_mem *mem;
	struct vmmio_dev *dev;
	unsigned char *ram;
	unsigned char cfg[CFG_SIZE];
	unsigned notifies, notify[NQ];
	uint16_t last_notify;
	unsigned activates, resets, cfg_reads, bump_reads;
	uint64_t act_features;
	int act_rc;
	bool refuse_features, echo;
	unsigned raises, lowers;
	bool line;
	unsigned logs;
	char log[8192];
	unsigned host_resets, host_resets_at_status0;
};

static struct env E;

/* Host hooks */

static void t_irq(void *opaque, bool raise)
{
	ck_assert_ptr_eq(opaque, &E);
	if (raise)
		E.raises++;
	else
		E.lowers++;
	E.line = raise;
}

static void t_log(void *opaque, enum vmmio_log_level level, const char *msg)
{
	size_t n = strlen(E.log);

	(void)opaque;
	(void)level;
	E.logs++;
	snprintf(E.log + n, sizeof(E.log) - n, "%s\n", msg);
}

/* Called after the reset: the device must already read Status 0. */
static void t_host_reset(void *opaque)
{
	uint32_t st = 0xffffffffu;

	(void)opaque;
	E.host_resets++;
	if (vmmio_dev_read(E.dev, VIRTIO_MMIO_STATUS, &st, 4) == 0 && st == 0)
		E.host_resets_at_status0++;
}

static const struct vmmio_host_ops t_host = {
    .size = sizeof(struct vmmio_host_ops),
    .irq = t_irq,
    .log = t_log,
    .reset = t_host_reset,
};

static unsigned log_count(const char *needle)
{
	unsigned n = 0;
	const char *p = E.log;

	while ((p = strstr(p, needle))) {
		n++;
		p += strlen(needle);
	}
	return n;
}

/* The dummy device model */

static void t_config_read(void *opaque, uint32_t off, void *buf, uint32_t len)
{
	ck_assert_ptr_eq(opaque, &E);
	ck_assert_uint_le((uint64_t)off + len, CFG_SIZE);
	memcpy(buf, E.cfg + off, len);
	E.cfg_reads++;
	if (E.bump_reads) {
		E.bump_reads--;
		vmmio_dev_config_changed(E.dev);
	}
}

static void t_config_write(void *opaque, uint32_t off, const void *buf,
			   uint32_t len)
{
	(void)opaque;
	ck_assert_uint_le((uint64_t)off + len, CFG_SIZE);
	memcpy(E.cfg + off, buf, len);
}

static bool t_features_ok(void *opaque, uint64_t features)
{
	(void)opaque;
	(void)features;
	return !E.refuse_features;
}

static int t_activate(void *opaque, uint64_t features)
{
	(void)opaque;
	E.activates++;
	E.act_features = features;
	return E.act_rc;
}

static void t_reset(void *opaque)
{
	(void)opaque;
	E.resets++;
}

/* Complete every chain on the queue (used by the end-to-end tests). */
static void echo_queue(uint16_t queue)
{
	struct vmmio_vq *q = vmmio_dev_queue(E.dev, queue);
	struct vmmio_seg seg[8];
	struct vmmio_chain c = {.seg = seg, .seg_cap = 8};

	while (vmmio_vq_pop(q, &c) == 1)
		ck_assert_int_ge(vmmio_vq_push(q, c.head, c.writable_len), 0);
}

static void t_queue_notify(void *opaque, uint16_t queue)
{
	(void)opaque;
	ck_assert(vmmio_dev_is_active(E.dev));
	ck_assert_uint_lt(queue, NQ);
	E.notifies++;
	E.notify[queue]++;
	E.last_notify = queue;
	if (E.echo)
		echo_queue(queue);
}

static const struct vmmio_dev_ops t_ops = {
    .size = sizeof(struct vmmio_dev_ops),
    .device_id = TDEV_ID,
    .config_read = t_config_read,
    .config_write = t_config_write,
    .features_ok = t_features_ok,
    .activate = t_activate,
    .reset = t_reset,
    .queue_notify = t_queue_notify,
};

static const uint16_t t_sizes[NQ] = {QMAX0, QMAX1};

static struct vmmio_dev_config t_config(uint32_t version)
{
	struct vmmio_dev_config c = {
	    .size = sizeof(c),
	    .version = version,
	    .num_queues = NQ,
	    .queue_sizes = t_sizes,
	    .features = TFEAT,
	    .config_size = CFG_SIZE,
	    .mem = E.mem,
	    .host = &t_host,
	    .host_opaque = &E,
	};
	return c;
}

static void env_mem(void)
{
	struct vmmio_mem_region r = {.gpa = RAM_GPA, .size = RAM_SIZE};

	memset(&E, 0, sizeof(E));
	E.ram = calloc(1, RAM_SIZE);
	ck_assert_ptr_nonnull(E.ram);
	r.host = E.ram;
	ck_assert_int_eq(vmmio_mem_new(&r, 1, NULL, NULL, &E.mem), 0);
	for (unsigned i = 0; i < CFG_SIZE; i++)
		E.cfg[i] = (unsigned char)(0x10 + i);
}

static void env_init(uint32_t version)
{
	struct vmmio_dev_config c;

	env_mem();
	c = t_config(version);
	ck_assert_int_eq(vmmio_dev_new(&t_ops, &E, &c, &E.dev), 0);
}

static void env_fini(void)
{
	vmmio_dev_free(E.dev);
	vmmio_mem_free(E.mem);
	free(E.ram);
	E.dev = NULL;
	E.mem = NULL;
	E.ram = NULL;
}

static uint64_t rd(uint64_t off, uint32_t width)
{
	uint64_t v = 0;

	ck_assert_int_eq(vmmio_dev_read(E.dev, off, &v, width), 0);
	return v;
}

static int wr(uint64_t off, uint32_t width, uint64_t val)
{
	return vmmio_dev_write(E.dev, off, &val, width);
}

/* Register sequences (one row per sequence) */

enum step_op { END, RD, WR, NOTIFY, CFGCHG, HRESET };

/*
 * RD: read @width bytes at @off, expect @val and @rc.
 * WR: write @val, expect @rc. NOTIFY: vmmio_dev_notify(@val), expect @rc.
 * CFGCHG: vmmio_dev_config_changed(). HRESET: vmmio_dev_reset().
 */
struct step {
	enum step_op op;
	uint64_t off;
	uint32_t width;
	uint64_t val;
	int rc;
};

/* One step per macro, kept on one line each. */
/* clang-format off */
#define R(o, v) {RD, (o), 4, (v), 0}
#define W(o, v) {WR, (o), 4, (v), 0}
#define RX(o, w, v, r) {RD, (o), (w), (v), (r)}
#define WX(o, w, v, r) {WR, (o), (w), (v), (r)}
#define WF(o, v) {WR, (o), 4, (v), -EIO}
#define N(q, r) {NOTIFY, 0, 0, (q), (r)}
#define CC {CFGCHG, 0, 0, 0, 0}
#define HR {HRESET, 0, 0, 0, 0}
/* clang-format on */

#define ST VIRTIO_MMIO_STATUS
#define QSEL VIRTIO_MMIO_QUEUE_SEL
#define QNUM VIRTIO_MMIO_QUEUE_NUM
#define QREADY VIRTIO_MMIO_QUEUE_READY
#define QPFN VIRTIO_MMIO_QUEUE_PFN
#define QNOTIFY VIRTIO_MMIO_QUEUE_NOTIFY
#define ISR VIRTIO_MMIO_INTERRUPT_STATUS
#define IACK VIRTIO_MMIO_INTERRUPT_ACK
#define CFG VIRTIO_MMIO_CONFIG

#define PROBE(ver)                                                             \
	R(VIRTIO_MMIO_MAGIC_VALUE, MAGIC), R(VIRTIO_MMIO_VERSION, ver),        \
	    R(VIRTIO_MMIO_DEVICE_ID, TDEV_ID),                                 \
	    R(VIRTIO_MMIO_VENDOR_ID, VMMIO_DEV_VENDOR)
#define RESET W(ST, 0), R(ST, 0)
#define ACK_DRIVER W(ST, S_ACK), R(ST, S_ACK), W(ST, S_DRV), R(ST, S_DRV)
#define READ_FEATURES(hi, lo)                                                  \
	W(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1),                                 \
	    R(VIRTIO_MMIO_DEVICE_FEATURES, hi),                                \
	    W(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0),                             \
	    R(VIRTIO_MMIO_DEVICE_FEATURES, lo)
#define WRITE_FEATURES(hi, lo)                                                 \
	W(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1),                                 \
	    W(VIRTIO_MMIO_DRIVER_FEATURES, hi),                                \
	    W(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0),                             \
	    W(VIRTIO_MMIO_DRIVER_FEATURES, lo)
/* Linux's probe up to a driver that has accepted (hi, lo). */
#define NEGOTIATE_TO(hi, lo)                                                   \
	PROBE(2), RESET, ACK_DRIVER, READ_FEATURES(1, (uint32_t)TFEAT),        \
	    WRITE_FEATURES(hi, lo)
#define NEGOTIATE NEGOTIATE_TO(1, (uint32_t)TFEAT), W(ST, S_FOK), R(ST, S_FOK)
#define ADDR(reg, a) W(reg, (uint32_t)(a)), W(reg + 4, (uint64_t)(a) >> 32)
#define RINGS(d, a, u)                                                         \
	ADDR(VIRTIO_MMIO_QUEUE_DESC_LOW, d),                                   \
	    ADDR(VIRTIO_MMIO_QUEUE_AVAIL_LOW, a),                              \
	    ADDR(VIRTIO_MMIO_QUEUE_USED_LOW, u)
/* Linux's vm_setup_vq for a modern device. */
#define SETUP_Q(n, max, d, a, u)                                               \
	W(QSEL, n), R(QREADY, 0), R(VIRTIO_MMIO_QUEUE_NUM_MAX, max),           \
	    W(QNUM, max), RINGS(d, a, u), W(QREADY, 1), R(QREADY, 1)
#define SETUP_Q0 SETUP_Q(0, QMAX0, Q0_DESC, Q0_AVAIL, Q0_USED)
#define SETUP_Q1 SETUP_Q(1, QMAX1, Q1_DESC, Q1_AVAIL, Q1_USED)
#define LIVE NEGOTIATE, SETUP_Q0, SETUP_Q1, W(ST, S_LIVE), R(ST, S_LIVE)
#define TEARDOWN_Q(n) W(QSEL, n), W(QREADY, 0), R(QREADY, 0)
/* Linux's probe of a legacy device up to DRIVER with features written. */
#define LEGACY_NEGOTIATE                                                       \
	PROBE(1), W(VIRTIO_MMIO_GUEST_PAGE_SIZE, 4096), RESET, ACK_DRIVER,     \
	    READ_FEATURES(0, (uint32_t)TFEAT),                                 \
	    WRITE_FEATURES(0, (uint32_t)TFEAT)
#define SETUP_LEGACY_Q(n, max, pfn)                                            \
	W(QSEL, n), R(QPFN, 0), R(VIRTIO_MMIO_QUEUE_NUM_MAX, max),             \
	    W(QNUM, max), W(VIRTIO_MMIO_QUEUE_ALIGN, 4096), W(QPFN, pfn),      \
	    R(QPFN, pfn)
#define LEGACY_LIVE                                                            \
	LEGACY_NEGOTIATE, SETUP_LEGACY_Q(0, QMAX0, Q0_PFN),                    \
	    SETUP_LEGACY_Q(1, QMAX1, Q1_PFN), W(ST, S_LIVE1), R(ST, S_LIVE1)

struct seq {
	const char *name;
	uint32_t version;
	const struct step *steps;
	uint32_t status;
	enum vmmio_fault fault;
	unsigned notifies, activates, resets;
	int act_rc;
	bool refuse;
	bool chk_features;
	uint64_t features;
};

#define STEPS(...) ((const struct step[]){__VA_ARGS__, {END, 0, 0, 0, 0}})

static const struct seq reg_seqs[] = {
    {
	.name = "linux v2 probe, setup, kick, teardown",
	.version = 2,
	.steps =
	    STEPS(LIVE, W(QSEL, 2), R(VIRTIO_MMIO_QUEUE_NUM_MAX, 0),
		  W(QNOTIFY, 0), W(QNOTIFY, 1), R(ISR, 0), CC, R(ISR, 2),
		  W(IACK, 2), R(ISR, 0), R(VIRTIO_MMIO_CONFIG_GENERATION, 1),
		  RESET, TEARDOWN_Q(0), TEARDOWN_Q(1)),
	.status = 0,
	.notifies = 2,
	.activates = 1,
	.resets = 2,
    },
    {
	.name = "linux v2 live features",
	.version = 2,
	.steps = STEPS(LIVE),
	.status = S_LIVE,
	.activates = 1,
	.resets = 1,
	.chk_features = true,
	.features = TFEAT | V1,
    },
    {
	.name = "legacy v1 probe, setup, kick, teardown",
	.version = 1,
	.steps = STEPS(LEGACY_LIVE, R(QREADY, 0),
		       R(VIRTIO_MMIO_CONFIG_GENERATION, 0), W(QNOTIFY, 1),
		       RESET, W(QSEL, 0), W(QPFN, 0), R(QPFN, 0), W(QSEL, 1),
		       W(QPFN, 0), R(QPFN, 0)),
	.status = 0,
	.notifies = 1,
	.activates = 1,
	.resets = 2,
    },
    {
	.name = "legacy v1 live features (no VERSION_1)",
	.version = 1,
	.steps = STEPS(LEGACY_LIVE),
	.status = S_LIVE1,
	.activates = 1,
	.resets = 1,
	.chk_features = true,
	.features = TFEAT,
    },
    {
	.name = "legacy v1 ignores modern registers",
	.version = 1,
	.steps = STEPS(LEGACY_NEGOTIATE, W(QSEL, 0), W(QREADY, 1), R(QREADY, 0),
		       RINGS(Q0_DESC, Q0_AVAIL, Q0_USED), R(QPFN, 0)),
	.status = S_DRV,
	.resets = 1,
    },
    {
	.name = "modern v2 ignores legacy registers",
	.version = 2,
	.steps = STEPS(NEGOTIATE, W(VIRTIO_MMIO_GUEST_PAGE_SIZE, 4096),
		       W(QSEL, 0), W(VIRTIO_MMIO_QUEUE_ALIGN, 4096),
		       W(QPFN, Q0_PFN), R(QPFN, 0), R(QREADY, 0)),
	.status = S_FOK,
	.resets = 1,
    },
    {
	.name = "QueueReady 0 of a ready queue before DRIVER_OK",
	.version = 2,
	.steps = STEPS(NEGOTIATE, SETUP_Q0, W(QREADY, 0), R(QREADY, 0),
		       SETUP_Q0, W(ST, S_LIVE)),
	.status = S_LIVE,
	.activates = 1,
	.resets = 1,
    },
    {
	.name = "QueueReady 0 of an unready queue in any state",
	.version = 2,
	.steps = STEPS(W(QSEL, 1), W(QREADY, 0), NEGOTIATE, SETUP_Q0,
		       W(ST, S_LIVE), W(QSEL, 1), W(QREADY, 0)),
	.status = S_LIVE,
	.activates = 1,
	.resets = 1,
    },
    {
	.name = "notify before DRIVER_OK is ignored",
	.version = 2,
	.steps = STEPS(NEGOTIATE, SETUP_Q0, W(QNOTIFY, 0), N(0, 0), SETUP_Q1,
		       W(ST, S_LIVE), N(0, 0)),
	.status = S_LIVE,
	.notifies = 1,
	.activates = 1,
	.resets = 1,
    },
    {
	.name = "rings ending exactly at the end of RAM",
	.version = 2,
	.steps =
	    STEPS(NEGOTIATE, W(QSEL, 0), RINGS(Q0_DESC, RAM_END - 38, Q0_USED),
		  W(QREADY, 1), R(QREADY, 1), W(QSEL, 1),
		  RINGS(RAM_END - 128, Q1_AVAIL, Q1_USED), W(QREADY, 1),
		  R(QREADY, 1)),
	.status = S_FOK,
	.resets = 1,
    },
    {
	.name = "QueueSel out of range reads zeros",
	.version = 2,
	.steps = STEPS(NEGOTIATE, W(QSEL, 2), R(VIRTIO_MMIO_QUEUE_NUM_MAX, 0),
		       R(QREADY, 0), W(QSEL, 0xffffffff),
		       R(VIRTIO_MMIO_QUEUE_NUM_MAX, 0)),
	.status = S_FOK,
	.resets = 1,
    },
    {
	.name = "FEATURES_OK refused: feature not offered",
	.version = 2,
	.steps = STEPS(NEGOTIATE_TO(1, (uint32_t)TFEAT | 0x20), W(ST, S_FOK),
		       R(ST, S_DRV)),
	.status = S_DRV,
	.resets = 1,
    },
    {
	.name = "FEATURES_OK refused: VERSION_1 missing",
	.version = 2,
	.steps =
	    STEPS(NEGOTIATE_TO(0, (uint32_t)TFEAT), W(ST, S_FOK), R(ST, S_DRV)),
	.status = S_DRV,
	.resets = 1,
    },
    {
	.name = "FEATURES_OK refused: bits above 63",
	.version = 2,
	.steps = STEPS(NEGOTIATE_TO(1, (uint32_t)TFEAT),
		       W(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2),
		       W(VIRTIO_MMIO_DRIVER_FEATURES, 1), W(ST, S_FOK),
		       R(ST, S_DRV)),
	.status = S_DRV,
	.resets = 1,
    },
    {
	.name = "FEATURES_OK refused by the device model",
	.version = 2,
	.steps = STEPS(NEGOTIATE_TO(1, (uint32_t)TFEAT), W(ST, S_FOK),
		       R(ST, S_DRV), W(ST, S_DRV | S_FAILED)),
	.status = S_DRV | S_FAILED,
	.resets = 1,
	.refuse = true,
    },
    {
	.name = "FEATURES_OK retried with fixed features",
	.version = 2,
	.steps = STEPS(NEGOTIATE_TO(1, (uint32_t)TFEAT | 0x20), W(ST, S_FOK),
		       R(ST, S_DRV), WRITE_FEATURES(1, 1), W(ST, S_FOK),
		       R(ST, S_FOK)),
	.status = S_FOK,
	.resets = 1,
	.chk_features = true,
	.features = V1 | 1,
    },
    {
	.name = "DriverFeatures after FEATURES_OK ignored",
	.version = 2,
	.steps = STEPS(NEGOTIATE, WRITE_FEATURES(0, 0)),
	.status = S_FOK,
	.resets = 1,
	.chk_features = true,
	.features = TFEAT | V1,
    },
    {
	.name = "driver's NEEDS_RESET bit ignored, FAILED any time",
	.version = 2,
	.steps =
	    STEPS(W(ST, S_ACK | S_NR), R(ST, S_ACK), W(ST, S_ACK | S_FAILED),
		  R(ST, S_ACK | S_FAILED), W(ST, S_ACK | S_FAILED | 0x100),
		  R(ST, S_ACK | S_FAILED)),
	.status = S_ACK | S_FAILED,
    },
    {
	.name = "write-only registers read 0",
	.version = 2,
	.steps = STEPS(
	    NEGOTIATE,
	    W(QSEL, 1), W(QNUM, 4), R(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0),
	    R(VIRTIO_MMIO_DRIVER_FEATURES, 0),
	    R(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0), R(QSEL, 0), R(QNUM, 0),
	    R(QNOTIFY, 0), R(IACK, 0), RINGS(Q1_DESC, Q1_AVAIL, Q1_USED),
	    R(VIRTIO_MMIO_QUEUE_DESC_LOW, 0), R(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0),
	    R(VIRTIO_MMIO_QUEUE_AVAIL_LOW, 0),
	    R(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0),
	    R(VIRTIO_MMIO_QUEUE_USED_LOW, 0), R(VIRTIO_MMIO_QUEUE_USED_HIGH, 0),
	    W(VIRTIO_MMIO_SHM_SEL, 0), R(VIRTIO_MMIO_SHM_SEL, 0)),
	.status = S_FOK,
	.resets = 1,
    },
    {
	.name = "read-only registers ignore writes",
	.version = 2,
	.steps = STEPS(
	    W(VIRTIO_MMIO_MAGIC_VALUE, 1), W(VIRTIO_MMIO_VERSION, 1),
	    W(VIRTIO_MMIO_DEVICE_ID, 1), W(VIRTIO_MMIO_VENDOR_ID, 1),
	    W(VIRTIO_MMIO_DEVICE_FEATURES, 0), W(VIRTIO_MMIO_QUEUE_NUM_MAX, 1),
	    CC, W(ISR, 0), R(ISR, 2), W(VIRTIO_MMIO_CONFIG_GENERATION, 7),
	    W(VIRTIO_MMIO_SHM_LEN_LOW, 0), W(VIRTIO_MMIO_SHM_BASE_HIGH, 0),
	    PROBE(2), R(VIRTIO_MMIO_DEVICE_FEATURES, (uint32_t)TFEAT),
	    R(VIRTIO_MMIO_QUEUE_NUM_MAX, QMAX0),
	    R(VIRTIO_MMIO_CONFIG_GENERATION, 1),
	    R(VIRTIO_MMIO_SHM_LEN_LOW, 0xffffffff),
	    R(VIRTIO_MMIO_SHM_LEN_HIGH, 0xffffffff),
	    R(VIRTIO_MMIO_SHM_BASE_LOW, 0xffffffff),
	    R(VIRTIO_MMIO_SHM_BASE_HIGH, 0xffffffff)),
	.status = 0,
    },
    {
	.name = "undefined offsets read 0 and ignore writes",
	.version = 2,
	.steps = STEPS(
	    W(0x018, 5), R(0x018, 0), W(0x01c, 5), R(0x01c, 0), W(0x02c, 5),
	    R(0x02c, 0), W(0x048, 5), R(0x048, 0), W(0x04c, 5), R(0x04c, 0),
	    W(0x054, 5), R(0x054, 0), W(0x068, 5), R(0x068, 0), W(0x074, 5),
	    R(0x074, 0), W(0x0c0, 5), R(0x0c0, 0), W(0x0f8, 5), R(0x0f8, 0),
	    W(0x028, 5), R(0x028, 0), W(0x03c, 5), R(0x03c, 0), R(ST, 0),
	    R(VIRTIO_MMIO_DEVICE_FEATURES, (uint32_t)TFEAT)),
	.status = 0,
    },
    {
	.name = "DeviceFeatures selector beyond 1 reads 0",
	.version = 2,
	.steps = STEPS(W(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2),
		       R(VIRTIO_MMIO_DEVICE_FEATURES, 0),
		       W(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0xffffffff),
		       R(VIRTIO_MMIO_DEVICE_FEATURES, 0)),
	.status = 0,
    },
    {
	.name = "config reads of 1, 2, 4, 8 bytes, zeros past the end",
	.version = 2,
	.steps = STEPS(
	    RX(CFG, 1, 0x10, 0), RX(CFG + 1, 2, 0x1211, 0),
	    RX(CFG + 4, 4, 0x17161514, 0), RX(CFG, 8, 0x1716151413121110ull, 0),
	    RX(CFG + 3, 8, 0x1a19181716151413ull, 0),
	    RX(CFG + 10, 4, 0x1b1a, 0), RX(CFG + 8, 8, 0x1b1a1918, 0),
	    RX(CFG + 12, 4, 0, 0), RX(CFG + 0xfc, 4, 0, 0),
	    RX(CFG + 0xf8, 8, 0, 0), RX(0x200, 4, 0, 0), RX(0x1000, 8, 0, 0)),
	.status = 0,
    },
    {
	.name = "config writes inside, straddling and past the end",
	.version = 2,
	.steps =
	    STEPS(WX(CFG, 1, 0xaa, 0), RX(CFG, 1, 0xaa, 0),
		  WX(CFG + 2, 8, 0x0807060504030201ull, 0),
		  RX(CFG, 4, 0x020111aa, 0), WX(CFG + 11, 4, 0x11223344, 0),
		  RX(CFG + 8, 4, 0x441a0807, 0), WX(CFG + 12, 4, 0x55, 0),
		  RX(CFG + 12, 4, 0, 0), WX(0x1f8, 8, 0x55, 0)),
	.status = 0,
    },
    {
	.name = "offsets near UINT64_MAX",
	.version = 2,
	.steps = STEPS(RX(UINT64_MAX, 1, 0, 0), RX(UINT64_MAX - 3, 4, 0, 0),
		       RX(UINT64_MAX - 7, 8, 0, 0), RX(UINT64_MAX - 1, 8, 0, 0),
		       WX(UINT64_MAX - 1, 4, 0x55, 0),
		       RX(0x100000100ull, 1, 0, 0), RX(0x100000000ull, 4, 0, 0),
		       WX(0x100000070ull, 4, S_ACK, 0), R(ST, 0)),
	.status = 0,
    },
    {
	.name = "length 0 or above 8 does nothing",
	.version = 2,
	.steps = STEPS(RX(VIRTIO_MMIO_MAGIC_VALUE, 0, 0, -EINVAL),
		       RX(VIRTIO_MMIO_MAGIC_VALUE, 9, 0, -EINVAL),
		       WX(ST, 0, 1, -EINVAL), WX(ST, 9, 1, -EINVAL),
		       RX(CFG, 16, 0, -EINVAL), R(ST, 0)),
	.status = 0,
    },
    {
	.name = "host reset mid-setup",
	.version = 2,
	.steps = STEPS(NEGOTIATE, SETUP_Q0, CC, HR, R(ST, 0), R(ISR, 0),
		       W(QSEL, 0), R(QREADY, 0)),
	.status = 0,
	.resets = 2,
    },
    {
	.name = "interrupt ack of one bit keeps the other",
	.version = 2,
	.steps = STEPS(LIVE, CC, W(IACK, 1), R(ISR, 2), W(IACK, 0), R(ISR, 2),
		       W(IACK, 0xffffffff), R(ISR, 0)),
	.status = S_LIVE,
	.activates = 1,
	.resets = 1,
    },
};

/*
 * Rows that must fault (DESIGN.md hostile-guest checklist rows 1-4, 15
 * and the status machine). Each asserts the exact reason and that the
 * device stopped (see assert_stopped()).
 */
static const struct seq bad_seqs[] = {
    /* Row 1: QueueSel and QueueNotify range checks. */
    {
	.name = "row 1: QueueSel 0xffffffff then QueueNum",
	.version = 2,
	.steps = STEPS(NEGOTIATE, W(QSEL, 0xffffffff), WF(QNUM, 8)),
	.status = S_FOK | S_NR,
	.fault = VMMIO_FAULT_QUEUE_SEL,
	.resets = 1,
    },
    {
	.name = "row 1: QueueSel == num_queues then QueueReady",
	.version = 2,
	.steps = STEPS(NEGOTIATE, W(QSEL, NQ), WF(QREADY, 1)),
	.status = S_FOK | S_NR,
	.fault = VMMIO_FAULT_QUEUE_SEL,
	.resets = 1,
    },
    {
	.name = "row 1: QueueSel == num_queues then QueueDescLow",
	.version = 2,
	.steps =
	    STEPS(NEGOTIATE, W(QSEL, NQ), WF(VIRTIO_MMIO_QUEUE_DESC_LOW, 0)),
	.status = S_FOK | S_NR,
	.fault = VMMIO_FAULT_QUEUE_SEL,
	.resets = 1,
    },
    {
	.name = "row 1: legacy QueueSel == num_queues then QueuePFN",
	.version = 1,
	.steps = STEPS(LEGACY_NEGOTIATE, W(QSEL, NQ), WF(QPFN, Q0_PFN)),
	.status = S_DRV | S_NR,
	.fault = VMMIO_FAULT_QUEUE_SEL,
	.resets = 1,
    },
    {
	.name = "row 1: QueueNotify == num_queues",
	.version = 2,
	.steps = STEPS(LIVE, WF(QNOTIFY, NQ)),
	.status = S_LIVE | S_NR,
	.fault = VMMIO_FAULT_NOTIFY,
	.activates = 1,
	.resets = 1,
    },
    {
	.name = "row 1: QueueNotify 0xffffffff",
	.version = 2,
	.steps = STEPS(LIVE, WF(QNOTIFY, 0xffffffff)),
	.status = S_LIVE | S_NR,
	.fault = VMMIO_FAULT_NOTIFY,
	.activates = 1,
	.resets = 1,
    },
    {
	.name = "row 1: vmmio_dev_notify 0xffffffff",
	.version = 2,
	.steps = STEPS(LIVE, N(0, 0), N(0xffffffff, -EIO)),
	.status = S_LIVE | S_NR,
	.fault = VMMIO_FAULT_NOTIFY,
	.notifies = 1,
	.activates = 1,
	.resets = 1,
    },
    {
	.name = "row 1: QueueNotify of a queue not ready",
	.version = 2,
	.steps = STEPS(NEGOTIATE, SETUP_Q0, W(ST, S_LIVE), WF(QNOTIFY, 1)),
	.status = S_LIVE | S_NR,
	.fault = VMMIO_FAULT_NOTIFY,
	.activates = 1,
	.resets = 1,
    },
    {
	.name = "row 1: a kick delivered after the guest's reset is absorbed",
	.version = 2,
	.steps = STEPS(LIVE, W(ST, 0), N(0, 0), W(QNOTIFY, 1), R(ST, 0)),
	.status = 0,
	.fault = VMMIO_FAULT_NONE,
	.activates = 1,
	.resets = 2,
    },
    /* Row 2: QueueNum. */
    {
	.name = "row 2: QueueNum 0",
	.version = 2,
	.steps = STEPS(NEGOTIATE, W(QSEL, 0), WF(QNUM, 0)),
	.status = S_FOK | S_NR,
	.fault = VMMIO_FAULT_QUEUE_SIZE,
	.resets = 1,
    },
    {
	.name = "row 2: QueueNum max + 1",
	.version = 2,
	.steps = STEPS(NEGOTIATE, W(QSEL, 0), WF(QNUM, QMAX0 + 1)),
	.status = S_FOK | S_NR,
	.fault = VMMIO_FAULT_QUEUE_SIZE,
	.resets = 1,
    },
    {
	.name = "row 2: QueueNum power of two above max",
	.version = 2,
	.steps = STEPS(NEGOTIATE, W(QSEL, 1), WF(QNUM, QMAX1 * 2)),
	.status = S_FOK | S_NR,
	.fault = VMMIO_FAULT_QUEUE_SIZE,
	.resets = 1,
    },
    {
	.name = "row 2: QueueNum 65536 (truncates to 0)",
	.version = 2,
	.steps = STEPS(NEGOTIATE, W(QSEL, 0), WF(QNUM, 0x10000)),
	.status = S_FOK | S_NR,
	.fault = VMMIO_FAULT_QUEUE_SIZE,
	.resets = 1,
    },
    {
	.name = "row 2: QueueNum not a power of two",
	.version = 2,
	.steps = STEPS(NEGOTIATE, W(QSEL, 0), WF(QNUM, 12)),
	.status = S_FOK | S_NR,
	.fault = VMMIO_FAULT_QUEUE_SIZE,
	.resets = 1,
    },
    {
	.name = "row 2: legacy QueueNum not a power of two",
	.version = 1,
	.steps = STEPS(LEGACY_NEGOTIATE, W(QSEL, 0), WF(QNUM, 3)),
	.status = S_DRV | S_NR,
	.fault = VMMIO_FAULT_QUEUE_SIZE,
	.resets = 1,
    },
    /* Row 3: ring addresses, checked when the queue is made ready. */
    {
	.name = "row 3: descriptor table misaligned",
	.version = 2,
	.steps =
	    STEPS(NEGOTIATE, W(QSEL, 0), RINGS(Q0_DESC + 8, Q0_AVAIL, Q0_USED),
		  WF(QREADY, 1), R(QREADY, 0)),
	.status = S_FOK | S_NR,
	.fault = VMMIO_FAULT_RING_ALIGN,
	.resets = 1,
    },
    {
	.name = "row 3: avail ring misaligned",
	.version = 2,
	.steps =
	    STEPS(NEGOTIATE, W(QSEL, 0), RINGS(Q0_DESC, Q0_AVAIL + 1, Q0_USED),
		  WF(QREADY, 1), R(QREADY, 0)),
	.status = S_FOK | S_NR,
	.fault = VMMIO_FAULT_RING_ALIGN,
	.resets = 1,
    },
    {
	.name = "row 3: used ring misaligned",
	.version = 2,
	.steps =
	    STEPS(NEGOTIATE, W(QSEL, 0), RINGS(Q0_DESC, Q0_AVAIL, Q0_USED + 2),
		  WF(QREADY, 1), R(QREADY, 0)),
	.status = S_FOK | S_NR,
	.fault = VMMIO_FAULT_RING_ALIGN,
	.resets = 1,
    },
    {
	.name = "row 3: descriptor table outside RAM",
	.version = 2,
	.steps = STEPS(NEGOTIATE, W(QSEL, 0), RINGS(0x1000, Q0_AVAIL, Q0_USED),
		       WF(QREADY, 1), R(QREADY, 0)),
	.status = S_FOK | S_NR,
	.fault = VMMIO_FAULT_RING_RANGE,
	.resets = 1,
    },
    {
	.name = "row 3: used ring straddles the end of RAM",
	.version = 2,
	.steps = STEPS(NEGOTIATE, W(QSEL, 0),
		       RINGS(Q0_DESC, Q0_AVAIL, RAM_END - 132), WF(QREADY, 1),
		       R(QREADY, 0)),
	.status = S_FOK | S_NR,
	.fault = VMMIO_FAULT_RING_RANGE,
	.resets = 1,
    },
    {
	.name = "row 3: avail ring straddles the end of RAM",
	.version = 2,
	.steps =
	    STEPS(NEGOTIATE, W(QSEL, 0), RINGS(Q0_DESC, RAM_END - 36, Q0_USED),
		  WF(QREADY, 1), R(QREADY, 0)),
	.status = S_FOK | S_NR,
	.fault = VMMIO_FAULT_RING_RANGE,
	.resets = 1,
    },
    {
	.name = "row 3: descriptor table near 2^64",
	.version = 2,
	.steps = STEPS(NEGOTIATE, W(QSEL, 0),
		       RINGS(0xfffffffffffffff0ull, Q0_AVAIL, Q0_USED),
		       WF(QREADY, 1), R(QREADY, 0)),
	.status = S_FOK | S_NR,
	.fault = VMMIO_FAULT_RING_RANGE,
	.resets = 1,
    },
    {
	.name = "row 3: used ring wrapping past 2^64",
	.version = 2,
	.steps = STEPS(NEGOTIATE, W(QSEL, 0),
		       RINGS(Q0_DESC, Q0_AVAIL, 0xffffffffffffffc0ull),
		       WF(QREADY, 1), R(QREADY, 0)),
	.status = S_FOK | S_NR,
	.fault = VMMIO_FAULT_RING_RANGE,
	.resets = 1,
    },
    {
	.name = "row 3: legacy QueueAlign not a power of two",
	.version = 1,
	.steps = STEPS(LEGACY_NEGOTIATE, W(QSEL, 0),
		       W(VIRTIO_MMIO_QUEUE_ALIGN, 3000), WF(QPFN, Q0_PFN),
		       R(QPFN, 0)),
	.status = S_DRV | S_NR,
	.fault = VMMIO_FAULT_RING_ALIGN,
	.resets = 1,
    },
    {
	.name = "row 3: legacy QueueAlign 2",
	.version = 1,
	.steps = STEPS(LEGACY_NEGOTIATE, W(QSEL, 0),
		       W(VIRTIO_MMIO_QUEUE_ALIGN, 2), WF(QPFN, Q0_PFN)),
	.status = S_DRV | S_NR,
	.fault = VMMIO_FAULT_RING_ALIGN,
	.resets = 1,
    },
    {
	.name = "row 3: legacy PFN outside RAM",
	.version = 1,
	.steps = STEPS(LEGACY_NEGOTIATE, W(QSEL, 0), WF(QPFN, 0xfffff)),
	.status = S_DRV | S_NR,
	.fault = VMMIO_FAULT_RING_RANGE,
	.resets = 1,
    },
    {
	.name = "row 3: legacy ring straddles the end of RAM",
	.version = 1,
	.steps = STEPS(LEGACY_NEGOTIATE, W(QSEL, 0),
		       WF(QPFN, (uint32_t)(RAM_END / 4096) - 1)),
	.status = S_DRV | S_NR,
	.fault = VMMIO_FAULT_RING_RANGE,
	.resets = 1,
    },
    {
	.name = "row 3: legacy PFN 0xffffffff with 2 GiB pages",
	.version = 1,
	.steps =
	    STEPS(LEGACY_NEGOTIATE, W(VIRTIO_MMIO_GUEST_PAGE_SIZE, 0x80000000u),
		  W(QSEL, 0), WF(QPFN, 0xffffffff)),
	.status = S_DRV | S_NR,
	.fault = VMMIO_FAULT_RING_RANGE,
	.resets = 1,
    },
    /* Row 4: queue registers only between FEATURES_OK and DRIVER_OK. */
    {
	.name = "row 4: QueueNum before FEATURES_OK",
	.version = 2,
	.steps = STEPS(PROBE(2), RESET, ACK_DRIVER, W(QSEL, 0), WF(QNUM, 8)),
	.status = S_DRV | S_NR,
	.fault = VMMIO_FAULT_QUEUE_STATE,
	.resets = 1,
    },
    {
	.name = "row 4: QueueReady before FEATURES_OK",
	.version = 2,
	.steps = STEPS(W(ST, S_ACK), W(QSEL, 0), WF(QREADY, 1)),
	.status = S_ACK | S_NR,
	.fault = VMMIO_FAULT_QUEUE_STATE,
    },
    {
	.name = "row 4: QueueNum after DRIVER_OK",
	.version = 2,
	.steps =
	    STEPS(NEGOTIATE, SETUP_Q0, W(ST, S_LIVE), W(QSEL, 1), WF(QNUM, 8)),
	.status = S_LIVE | S_NR,
	.fault = VMMIO_FAULT_QUEUE_STATE,
	.activates = 1,
	.resets = 1,
    },
    {
	.name = "row 4: QueueDescLow while ready",
	.version = 2,
	.steps = STEPS(NEGOTIATE, SETUP_Q0, WF(VIRTIO_MMIO_QUEUE_DESC_LOW, 0)),
	.status = S_FOK | S_NR,
	.fault = VMMIO_FAULT_QUEUE_STATE,
	.resets = 1,
    },
    {
	.name = "row 4: QueueReady 1 while ready",
	.version = 2,
	.steps = STEPS(NEGOTIATE, SETUP_Q0, WF(QREADY, 1)),
	.status = S_FOK | S_NR,
	.fault = VMMIO_FAULT_QUEUE_STATE,
	.resets = 1,
    },
    {
	.name = "row 4: QueueReady 0 of a live queue after DRIVER_OK",
	.version = 2,
	.steps = STEPS(LIVE, W(QSEL, 0), WF(QREADY, 0), R(QREADY, 1)),
	.status = S_LIVE | S_NR,
	.fault = VMMIO_FAULT_QUEUE_STATE,
	.activates = 1,
	.resets = 1,
    },
    {
	.name = "row 4: QueueReady 2",
	.version = 2,
	.steps = STEPS(NEGOTIATE, W(QSEL, 0), WF(QREADY, 2)),
	.status = S_FOK | S_NR,
	.fault = VMMIO_FAULT_QUEUE_STATE,
	.resets = 1,
    },
    {
	.name = "row 4: legacy QueuePFN before DRIVER",
	.version = 1,
	.steps = STEPS(W(ST, S_ACK), W(QSEL, 0), WF(QPFN, Q0_PFN)),
	.status = S_ACK | S_NR,
	.fault = VMMIO_FAULT_QUEUE_STATE,
    },
    {
	.name = "row 4: legacy QueuePFN 0 of a live queue",
	.version = 1,
	.steps = STEPS(LEGACY_LIVE, W(QSEL, 1), WF(QPFN, 0)),
	.status = S_LIVE1 | S_NR,
	.fault = VMMIO_FAULT_QUEUE_STATE,
	.activates = 1,
	.resets = 1,
    },
    /* Row 15: register access width and alignment. */
    {
	.name = "row 15: 1-byte register read",
	.version = 2,
	.steps = STEPS(RX(VIRTIO_MMIO_MAGIC_VALUE, 1, 0, -EIO)),
	.status = S_NR,
	.fault = VMMIO_FAULT_REG_ACCESS,
    },
    {
	.name = "row 15: 2-byte register read",
	.version = 2,
	.steps = STEPS(RX(VIRTIO_MMIO_VERSION, 2, 0, -EIO)),
	.status = S_NR,
	.fault = VMMIO_FAULT_REG_ACCESS,
    },
    {
	.name = "row 15: 8-byte register read",
	.version = 2,
	.steps = STEPS(RX(VIRTIO_MMIO_MAGIC_VALUE, 8, 0, -EIO)),
	.status = S_NR,
	.fault = VMMIO_FAULT_REG_ACCESS,
    },
    {
	.name = "row 15: misaligned register read",
	.version = 2,
	.steps = STEPS(RX(VIRTIO_MMIO_MAGIC_VALUE + 2, 4, 0, -EIO)),
	.status = S_NR,
	.fault = VMMIO_FAULT_REG_ACCESS,
    },
    {
	.name = "row 15: 1-byte Status write",
	.version = 2,
	.steps = STEPS(WX(ST, 1, S_ACK, -EIO), R(ST, S_NR)),
	.status = S_NR,
	.fault = VMMIO_FAULT_REG_ACCESS,
    },
    {
	.name = "row 15: 2-byte QueueNotify write",
	.version = 2,
	.steps = STEPS(LIVE, WX(QNOTIFY, 2, 0, -EIO)),
	.status = S_LIVE | S_NR,
	.fault = VMMIO_FAULT_REG_ACCESS,
	.activates = 1,
	.resets = 1,
    },
    {
	.name = "row 15: 8-byte QueueDescLow write",
	.version = 2,
	.steps = STEPS(NEGOTIATE, W(QSEL, 0),
		       WX(VIRTIO_MMIO_QUEUE_DESC_LOW, 8, Q0_DESC, -EIO)),
	.status = S_FOK | S_NR,
	.fault = VMMIO_FAULT_REG_ACCESS,
	.resets = 1,
    },
    {
	.name = "row 15: misaligned Status write",
	.version = 2,
	.steps = STEPS(WX(ST + 1, 4, 0, -EIO)),
	.status = S_NR,
	.fault = VMMIO_FAULT_REG_ACCESS,
    },
    {
	.name = "row 15: 4 bytes across registers and config",
	.version = 2,
	.steps = STEPS(RX(CFG - 2, 4, 0, -EIO)),
	.status = S_NR,
	.fault = VMMIO_FAULT_REG_ACCESS,
    },
    {
	.name = "row 15: 3-byte config read",
	.version = 2,
	.steps = STEPS(RX(CFG, 3, 0, -EIO)),
	.status = S_NR,
	.fault = VMMIO_FAULT_REG_ACCESS,
    },
    {
	.name = "row 15: 6-byte config write",
	.version = 2,
	.steps = STEPS(WX(CFG, 6, 0, -EIO), RX(CFG, 1, 0x10, 0)),
	.status = S_NR,
	.fault = VMMIO_FAULT_REG_ACCESS,
    },
    {
	.name = "row 15: 7-byte read near UINT64_MAX",
	.version = 2,
	.steps = STEPS(RX(UINT64_MAX - 3, 7, 0, -EIO)),
	.status = S_NR,
	.fault = VMMIO_FAULT_REG_ACCESS,
    },
    /* Status machine (virtio 1.2 §2.1.2, §3.1.1). */
    {
	.name = "status: clearing a bit",
	.version = 2,
	.steps = STEPS(W(ST, S_ACK), W(ST, S_DRV), WF(ST, S_ACK),
		       R(ST, S_DRV | S_NR), R(ISR, 2)),
	.status = S_DRV | S_NR,
	.fault = VMMIO_FAULT_STATUS,
    },
    {
	.name = "status: DRIVER_OK before FEATURES_OK",
	.version = 2,
	.steps = STEPS(W(ST, S_ACK), W(ST, S_DRV),
		       WF(ST, S_DRV | VIRTIO_CONFIG_S_DRIVER_OK)),
	.status = S_DRV | S_NR,
	.fault = VMMIO_FAULT_STATUS,
    },
    {
	.name = "status: DRIVER_OK after a refused FEATURES_OK",
	.version = 2,
	.steps = STEPS(NEGOTIATE_TO(0, (uint32_t)TFEAT), W(ST, S_FOK),
		       R(ST, S_DRV), WF(ST, S_DRV | VIRTIO_CONFIG_S_DRIVER_OK)),
	.status = S_DRV | S_NR,
	.fault = VMMIO_FAULT_STATUS,
	.resets = 1,
    },
    {
	.name = "status: FEATURES_OK before DRIVER",
	.version = 2,
	.steps =
	    STEPS(W(ST, S_ACK), WF(ST, S_ACK | VIRTIO_CONFIG_S_FEATURES_OK)),
	.status = S_ACK | S_NR,
	.fault = VMMIO_FAULT_STATUS,
    },
    {
	.name = "status: legacy DRIVER_OK without DRIVER",
	.version = 1,
	.steps = STEPS(W(ST, S_ACK), WF(ST, S_ACK | VIRTIO_CONFIG_S_DRIVER_OK)),
	.status = S_ACK | S_NR,
	.fault = VMMIO_FAULT_STATUS,
    },
    {
	.name = "status: activate fails",
	.version = 2,
	.steps = STEPS(NEGOTIATE, SETUP_Q0, SETUP_Q1, WF(ST, S_LIVE)),
	.status = S_LIVE | S_NR,
	.fault = VMMIO_FAULT_DEVICE,
	.activates = 1,
	.resets = 1,
	.act_rc = -EINVAL,
    },
    {
	.name = "status: writes after a fault only take FAILED",
	.version = 2,
	.steps = STEPS(W(ST, S_ACK), RX(ST, 2, 0, -EIO), W(ST, S_DRV),
		       R(ST, S_ACK | S_NR), W(ST, S_ACK | S_FAILED),
		       R(ST, S_ACK | S_FAILED | S_NR), W(ST, S_FAILED),
		       R(ST, S_ACK | S_FAILED | S_NR)),
	.status = S_ACK | S_FAILED | S_NR,
	.fault = VMMIO_FAULT_REG_ACCESS,
    },
};

/* The device is stopped: exact fault, NEEDS_RESET, config interrupt. */
static void assert_stopped(const char *name, enum vmmio_fault fault)
{
	unsigned before = E.notifies;
	uint16_t i;

	ck_assert_msg(vmmio_dev_fault(E.dev) == fault, "%s: fault %s, want %s",
		      name, vmmio_fault_name(vmmio_dev_fault(E.dev)),
		      vmmio_fault_name(fault));
	ck_assert(vmmio_dev_status(E.dev) & S_NR);
	ck_assert(vmmio_dev_interrupt_status(E.dev) & VIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_ge(E.raises, 1);
	ck_assert(E.line);
	ck_assert(!vmmio_dev_is_active(E.dev));
	for (i = 0; i < NQ; i++)
		ck_assert_int_eq(vmmio_vq_fault(vmmio_dev_queue(E.dev, i)),
				 fault);
	/* The device model hears nothing more. */
	ck_assert_int_eq(vmmio_dev_notify(E.dev, 0), -EIO);
	ck_assert_int_eq(wr(QNOTIFY, 4, 0), -EIO);
	ck_assert_int_eq(wr(QNOTIFY, 4, 1), -EIO);
	ck_assert_uint_eq(E.notifies, before);
	/* The fault was logged once; the transport keeps answering. */
	ck_assert_uint_eq(log_count("needs reset"), 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_MAGIC_VALUE, 4), MAGIC);
}

static void run_steps(const char *name, const struct step *s)
{
	for (unsigned i = 0; s[i].op != END; i++) {
		uint64_t v = 0, mask;
		int rc = 0;

		switch (s[i].op) {
		case RD:
			rc = vmmio_dev_read(E.dev, s[i].off, &v, s[i].width);
			mask = s[i].width >= 8 ? UINT64_MAX
					       : (1ull << (8 * s[i].width)) - 1;
			ck_assert_msg(s[i].width > 8 || (v & mask) == s[i].val,
				      "%s: step %u read %#llx at %#llx: %#llx",
				      name, i, (unsigned long long)s[i].val,
				      (unsigned long long)s[i].off,
				      (unsigned long long)v);
			break;
		case WR:
			v = s[i].val;
			rc = vmmio_dev_write(E.dev, s[i].off, &v, s[i].width);
			break;
		case NOTIFY:
			rc = vmmio_dev_notify(E.dev, (uint32_t)s[i].val);
			break;
		case CFGCHG:
			vmmio_dev_config_changed(E.dev);
			break;
		default:
			vmmio_dev_reset(E.dev);
			break;
		}
		ck_assert_msg(rc == s[i].rc, "%s: step %u returned %d, want %d",
			      name, i, rc, s[i].rc);
	}
}

static void run_seq(const struct seq *t)
{
	env_init(t->version);
	E.act_rc = t->act_rc;
	E.refuse_features = t->refuse;
	run_steps(t->name, t->steps);
	ck_assert_msg(vmmio_dev_status(E.dev) == t->status,
		      "%s: status %#x, want %#x", t->name,
		      vmmio_dev_status(E.dev), t->status);
	ck_assert_uint_eq(E.notifies, t->notifies);
	ck_assert_uint_eq(E.activates, t->activates);
	ck_assert_uint_eq(E.resets, t->resets);
	if (t->chk_features) {
		ck_assert_uint_eq(vmmio_dev_features(E.dev), t->features);
		ck_assert_uint_eq(E.act_features,
				  t->activates ? t->features : 0);
	}
	if (t->fault != VMMIO_FAULT_NONE)
		assert_stopped(t->name, t->fault);
	else
		ck_assert_msg(vmmio_dev_fault(E.dev) == VMMIO_FAULT_NONE,
			      "%s: unexpected fault %s", t->name,
			      vmmio_fault_name(vmmio_dev_fault(E.dev)));
	env_fini();
}

START_TEST(test_reg_seq)
{
	run_seq(&reg_seqs[_i]);
}
END_TEST

START_TEST(test_hostile_seq)
{
	run_seq(&bad_seqs[_i]);
}
END_TEST

/* Recovery, interrupts and embedder calls */

static const struct step linux_live[] = {LIVE, {END, 0, 0, 0, 0}};

START_TEST(test_reset_recovers)
{
	env_init(2);
	run_steps("live", linux_live);
	ck_assert_int_eq(wr(QNOTIFY, 2, 0), -EIO);
	ck_assert_uint_eq(vmmio_dev_fault(E.dev), VMMIO_FAULT_REG_ACCESS);
	ck_assert(E.line);
	/* A full re-initialization by the driver: Linux's sequence again. */
	run_steps("re-init", linux_live);
	ck_assert_uint_eq(E.lowers, 1);
	ck_assert(!E.line);
	ck_assert_uint_eq(vmmio_dev_fault(E.dev), VMMIO_FAULT_NONE);
	ck_assert_uint_eq(vmmio_dev_status(E.dev), S_LIVE);
	ck_assert_uint_eq(vmmio_vq_fault(vmmio_dev_queue(E.dev, 1)),
			  VMMIO_FAULT_NONE);
	ck_assert(vmmio_dev_is_active(E.dev));
	ck_assert_int_eq(wr(QNOTIFY, 4, 1), 0);
	ck_assert_uint_eq(E.notify[1], 1);
	ck_assert_uint_eq(E.activates, 2);
	env_fini();
}
END_TEST

START_TEST(test_host_reset)
{
	env_init(2);
	run_steps("live", linux_live);
	vmmio_dev_fail(E.dev, VMMIO_FAULT_DEVICE);
	ck_assert_uint_eq(E.raises, 1);
	vmmio_dev_reset(E.dev);
	ck_assert_uint_eq(E.resets, 2);
	ck_assert_uint_eq(vmmio_dev_status(E.dev), 0);
	ck_assert_uint_eq(vmmio_dev_interrupt_status(E.dev), 0);
	ck_assert_uint_eq(vmmio_dev_features(E.dev), 0);
	ck_assert_uint_eq(vmmio_dev_fault(E.dev), VMMIO_FAULT_NONE);
	ck_assert_uint_eq(E.lowers, 1);
	ck_assert(!E.line);
	ck_assert(!vmmio_vq_is_ready(vmmio_dev_queue(E.dev, 0)));
	/* A second reset with nothing pending does not touch the line. */
	vmmio_dev_reset(E.dev);
	ck_assert_uint_eq(E.lowers, 1);
	env_fini();
}
END_TEST

START_TEST(test_irq_ack_lowers_line)
{
	env_init(2);
	vmmio_dev_config_changed(E.dev);
	vmmio_dev_config_changed(E.dev);
	/* One edge per raise, even with the bit already pending. */
	ck_assert_uint_eq(E.raises, 2);
	ck_assert(E.line);
	ck_assert_uint_eq(rd(ISR, 4), VIRTIO_MMIO_INT_CONFIG);
	ck_assert_int_eq(wr(IACK, 4, VIRTIO_MMIO_INT_VRING), 0);
	ck_assert_uint_eq(E.lowers, 0);
	ck_assert_uint_eq(rd(ISR, 4), VIRTIO_MMIO_INT_CONFIG);
	ck_assert_int_eq(wr(IACK, 4, VIRTIO_MMIO_INT_CONFIG), 0);
	ck_assert_uint_eq(E.lowers, 1);
	ck_assert(!E.line);
	ck_assert_uint_eq(rd(ISR, 4), 0);
	/* Linux acks whatever it read, 0 included: no extra lowering. */
	ck_assert_int_eq(wr(IACK, 4, 0), 0);
	ck_assert_uint_eq(E.lowers, 1);
	env_fini();
}
END_TEST

START_TEST(test_config_generation)
{
	env_init(2);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG_GENERATION, 4), 0);
	E.cfg[0] = 0x77;
	vmmio_dev_config_changed(E.dev);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG_GENERATION, 4), 1);
	ck_assert_uint_eq(vmmio_dev_config_generation(E.dev), 1);
	ck_assert_uint_eq(rd(ISR, 4), VIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_eq(E.raises, 1);
	ck_assert_uint_eq(rd(CFG, 1), 0x77);
	/* The generation survives a reset (it only ever counts up). */
	ck_assert_int_eq(wr(ST, 4, 0), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG_GENERATION, 4), 1);
	env_fini();
}
END_TEST

START_TEST(test_notify_equivalence)
{
	env_init(2);
	run_steps("live", linux_live);
	ck_assert_int_eq(wr(QNOTIFY, 4, 1), 0);
	ck_assert_uint_eq(E.notify[1], 1);
	ck_assert_uint_eq(E.last_notify, 1);
	ck_assert_int_eq(vmmio_dev_notify(E.dev, 1), 0);
	ck_assert_uint_eq(E.notify[1], 2);
	ck_assert_int_eq(vmmio_dev_notify(E.dev, 0), 0);
	ck_assert_uint_eq(E.notify[0], 1);
	ck_assert_uint_eq(E.last_notify, 0);
	ck_assert_uint_eq(E.notifies, 3);
	/* Both paths fault the same way on a bad index. */
	ck_assert_int_eq(vmmio_dev_notify(E.dev, NQ), -EIO);
	ck_assert_uint_eq(vmmio_dev_fault(E.dev), VMMIO_FAULT_NOTIFY);
	env_fini();
}
END_TEST

START_TEST(test_fail_first_reason)
{
	env_init(2);
	vmmio_dev_fail(E.dev, VMMIO_FAULT_NONE);
	ck_assert_uint_eq(vmmio_dev_fault(E.dev), VMMIO_FAULT_NONE);
	vmmio_dev_fail(E.dev, VMMIO_FAULT_QUEUE_SIZE);
	vmmio_dev_fail(E.dev, VMMIO_FAULT_DEVICE);
	vmmio_vq_fail(vmmio_dev_queue(E.dev, 1), VMMIO_FAULT_HEAD_RANGE);
	ck_assert_uint_eq(vmmio_dev_fault(E.dev), VMMIO_FAULT_QUEUE_SIZE);
	ck_assert_uint_eq(vmmio_vq_fault(vmmio_dev_queue(E.dev, 0)),
			  VMMIO_FAULT_QUEUE_SIZE);
	ck_assert_uint_eq(vmmio_vq_fault(vmmio_dev_queue(E.dev, 1)),
			  VMMIO_FAULT_QUEUE_SIZE);
	ck_assert_uint_eq(E.raises, 1);
	ck_assert_uint_eq(log_count("needs reset"), 1);
	ck_assert_uint_eq(vmmio_dev_status(E.dev), S_NR);
	env_fini();
}
END_TEST

/* A queue fault found while the device pops reaches the transport. */
START_TEST(test_queue_fault_propagates)
{
	uint16_t idx = 100;

	env_init(2);
	run_steps("live", linux_live);
	E.echo = true;
	memcpy(E.ram + (Q1_AVAIL - RAM_GPA) + 2, &idx, 2);
	ck_assert_int_eq(wr(QNOTIFY, 4, 1), 0);
	ck_assert_uint_eq(E.notify[1], 1);
	assert_stopped("avail idx", VMMIO_FAULT_AVAIL_IDX);
	ck_assert_uint_eq(E.raises, 1);
	env_fini();
}
END_TEST

START_TEST(test_set_mem)
{
	struct vmmio_mem_region r = {.gpa = 0x800000, .size = RAM_SIZE};
	struct vmmio_mem *other, *same;
	void *host = calloc(1, RAM_SIZE);

	env_init(2);
	r.host = host;
	ck_assert_int_eq(vmmio_mem_new(&r, 1, NULL, NULL, &other), 0);
	r.gpa = RAM_GPA;
	r.host = E.ram;
	ck_assert_int_eq(vmmio_mem_new(&r, 1, NULL, NULL, &same), 0);
	ck_assert_int_eq(vmmio_dev_set_mem(E.dev, NULL), -EINVAL);
	/* Not ready queues move freely. */
	ck_assert_int_eq(vmmio_dev_set_mem(E.dev, other), 0);
	ck_assert_int_eq(vmmio_dev_set_mem(E.dev, E.mem), 0);
	run_steps("live", linux_live);
	ck_assert_int_eq(vmmio_dev_set_mem(E.dev, same), 0);
	ck_assert(vmmio_dev_is_active(E.dev));
	ck_assert_int_eq(vmmio_dev_set_mem(E.dev, other), -EIO);
	assert_stopped("set_mem", VMMIO_FAULT_RING_RANGE);
	vmmio_dev_free(E.dev);
	E.dev = NULL;
	vmmio_mem_free(other);
	vmmio_mem_free(same);
	free(host);
	env_fini();
}
END_TEST

START_TEST(test_accessors)
{
	env_init(0);
	ck_assert_uint_eq(vmmio_dev_version(E.dev), 2);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_VERSION, 4), 2);
	ck_assert_uint_eq(vmmio_dev_num_queues(E.dev), NQ);
	ck_assert_ptr_nonnull(vmmio_dev_queue(E.dev, 1));
	ck_assert_ptr_null(vmmio_dev_queue(E.dev, NQ));
	ck_assert_ptr_null(vmmio_dev_queue(E.dev, UINT32_MAX));
	ck_assert_uint_eq(vmmio_vq_max_size(vmmio_dev_queue(E.dev, 1)), QMAX1);
	ck_assert_uint_eq(vmmio_dev_status(E.dev), 0);
	ck_assert_uint_eq(vmmio_dev_features(E.dev), 0);
	ck_assert_uint_eq(vmmio_dev_interrupt_status(E.dev), 0);
	ck_assert(!vmmio_dev_is_active(E.dev));
	vmmio_dev_free(NULL);
	env_fini();
}
END_TEST

START_TEST(test_vendor_id)
{
	struct vmmio_dev_config c;
	struct vmmio_dev *d;
	uint32_t v = 0;

	env_init(2);
	c = t_config(1);
	c.vendor_id = 0x1af4;
	ck_assert_int_eq(vmmio_dev_new(&t_ops, &E, &c, &d), 0);
	ck_assert_int_eq(vmmio_dev_read(d, VIRTIO_MMIO_VENDOR_ID, &v, 4), 0);
	ck_assert_uint_eq(v, 0x1af4);
	ck_assert_int_eq(vmmio_dev_read(d, VIRTIO_MMIO_VERSION, &v, 4), 0);
	ck_assert_uint_eq(v, 1);
	vmmio_dev_free(d);
	env_fini();
}
END_TEST

/* Legacy ring layout follows GuestPageSize and QueueAlign. */
START_TEST(test_legacy_layout)
{
	static const struct step setup[] = {
	    LEGACY_NEGOTIATE,
	    W(VIRTIO_MMIO_GUEST_PAGE_SIZE, 3000),
	    W(QSEL, 0),
	    W(QNUM, 8),
	    W(VIRTIO_MMIO_QUEUE_ALIGN, 64),
	    W(QPFN, Q0_PFN),
	    W(VIRTIO_MMIO_GUEST_PAGE_SIZE, 8192),
	    W(QSEL, 1),
	    W(QPFN, Q1_PFN / 2),
	    {END, 0, 0, 0, 0},
	};
	struct vmmio_vq_state st;

	env_init(1);
	run_steps("legacy layout", setup);
	ck_assert_int_eq(vmmio_vq_save(vmmio_dev_queue(E.dev, 0), &st), 0);
	ck_assert(st.ready);
	ck_assert_uint_eq(st.size, 8);
	ck_assert_uint_eq(st.desc, Q0_PFN * 4096ull);
	ck_assert_uint_eq(st.avail, Q0_PFN * 4096ull + 128);
	ck_assert_uint_eq(st.used, Q0_PFN * 4096ull + 192);
	ck_assert_uint_eq(st.features, TFEAT);
	ck_assert_int_eq(vmmio_vq_save(vmmio_dev_queue(E.dev, 1), &st), 0);
	ck_assert_uint_eq(st.desc, Q1_PFN * 4096ull);
	ck_assert_uint_eq(st.used, Q1_PFN * 4096ull + 4096);
	/* The page size survives the reset that follows Linux's write. */
	ck_assert_int_eq(wr(ST, 4, 0), 0);
	run_steps("again", (const struct step[]){W(ST, S_DRV),
						 W(QSEL, 0),
						 W(QPFN, Q1_PFN / 2),
						 {END, 0, 0, 0, 0}});
	ck_assert_int_eq(vmmio_vq_save(vmmio_dev_queue(E.dev, 0), &st), 0);
	ck_assert_uint_eq(st.desc, Q1_PFN * 4096ull);
	ck_assert_uint_eq(st.features, 0);
	env_fini();
}
END_TEST

START_TEST(test_log_ratelimit)
{
	unsigned i;

	env_init(2);
	for (i = 0; i < 200; i++)
		ck_assert_int_eq(wr(0x0f8, 4, i), 0);
	ck_assert_uint_ge(E.logs, 1);
	ck_assert_uint_le(E.logs, 10);
	env_fini();
}
END_TEST

/* The host's reset hook: once per reset, after it, and never for a
 * Status write that is not a reset (wrong width, non-zero). */
START_TEST(test_host_reset_hook)
{
	env_init(2);
	ck_assert_uint_eq(E.host_resets, 0);
	ck_assert_int_eq(wr(ST, 4, VIRTIO_CONFIG_S_ACKNOWLEDGE), 0);
	ck_assert_uint_eq(E.host_resets, 0);
	ck_assert_int_eq(wr(ST, 4, 0), 0);
	ck_assert_uint_eq(E.host_resets, 1);
	ck_assert_int_eq(wr(ST, 2, 0), -EIO);
	ck_assert_uint_eq(E.host_resets, 1);
	vmmio_dev_reset(E.dev);
	ck_assert_uint_eq(E.host_resets, 2);
	ck_assert_uint_eq(E.host_resets_at_status0, 2);
	env_fini();
}
END_TEST

/* Debug lines (ignored writes) have their own budget: a guest that spends
 * it cannot keep a fault out of the log in the same second. */
START_TEST(test_log_ratelimit_fault_after_debug)
{
	env_init(2);
	for (unsigned i = 0; i < 200; i++)
		ck_assert_int_eq(wr(0x0f8, 4, i), 0);
	ck_assert_int_eq(wr(QNOTIFY, 2, 0), -EIO);
	ck_assert_ptr_nonnull(
	    strstr(E.log, ": fault REG_ACCESS (register access of wrong "));
	env_fini();
}
END_TEST

/* vmmio_dev_new parameter checks (one row each) */

struct new_args {
	struct vmmio_dev_ops ops;
	struct vmmio_dev_config cfg;
	struct vmmio_host_ops host;
	uint16_t sizes[NQ];
	const struct vmmio_dev_ops *opsp;
	const struct vmmio_dev_config *cfgp;
	bool no_out;
};

static void m_ops_null(struct new_args *a)
{
	a->opsp = NULL;
}
static void m_cfg_null(struct new_args *a)
{
	a->cfgp = NULL;
}
static void m_out_null(struct new_args *a)
{
	a->no_out = true;
}
static void m_cfg_size(struct new_args *a)
{
	a->cfg.size = sizeof(a->cfg) - 1;
}
static void m_version(struct new_args *a)
{
	a->cfg.version = 3;
}
static void m_v1_version1(struct new_args *a)
{
	a->cfg.version = 1;
	a->cfg.features |= V1;
}
static void m_nq_zero(struct new_args *a)
{
	a->cfg.num_queues = 0;
}
static void m_nq_big(struct new_args *a)
{
	a->cfg.num_queues = VMMIO_DEV_MAX_QUEUES + 1;
}
static void m_sizes_null(struct new_args *a)
{
	a->cfg.queue_sizes = NULL;
}
static void m_size_zero(struct new_args *a)
{
	a->sizes[1] = 0;
}
static void m_size_npow2(struct new_args *a)
{
	a->sizes[0] = 24;
}
static void m_size_big(struct new_args *a)
{
	a->sizes[0] = 0xffff;
}
static void m_cfg_big(struct new_args *a)
{
	a->cfg.config_size = VMMIO_DEV_MAX_CONFIG + 1;
}
static void m_no_config_read(struct new_args *a)
{
	a->ops.config_read = NULL;
}
static void m_mem_null(struct new_args *a)
{
	a->cfg.mem = NULL;
}
static void m_host_null(struct new_args *a)
{
	a->cfg.host = NULL;
}
static void m_no_irq(struct new_args *a)
{
	a->host.irq = NULL;
}
static void m_host_short(struct new_args *a)
{
	a->host.size = offsetof(struct vmmio_host_ops, irq);
}
static void m_devid_zero(struct new_args *a)
{
	a->ops.device_id = 0;
}
static void m_ops_short(struct new_args *a)
{
	a->ops.size = offsetof(struct vmmio_dev_ops, device_id);
}
static void m_no_notify(struct new_args *a)
{
	a->ops.queue_notify = NULL;
}
static void m_notify_past_size(struct new_args *a)
{
	a->ops.size = offsetof(struct vmmio_dev_ops, queue_notify);
}

static void m_packed(struct new_args *a)
{
	a->cfg.features |= 1ull << VIRTIO_F_RING_PACKED;
}
static void m_in_order(struct new_args *a)
{
	a->cfg.features |= 1ull << VIRTIO_F_IN_ORDER;
}

static const struct bad_new {
	const char *name;
	void (*mutate)(struct new_args *a);
	const char *log; /* expected in the log; NULL: nothing logged */
} bad_new[] = {
    {"ops NULL", m_ops_null, "invalid ops"},
    {"cfg NULL", m_cfg_null, NULL},
    {"out NULL", m_out_null, "invalid out"},
    {"cfg size short", m_cfg_size, NULL},
    {"version 3", m_version, "invalid version"},
    {"packed ring offered", m_packed, "transport feature not implemented"},
    {"IN_ORDER offered", m_in_order, "transport feature not implemented"},
    {"VERSION_1 offered by version 1", m_v1_version1, "VERSION_1"},
    {"num_queues 0", m_nq_zero, "invalid num_queues"},
    {"num_queues too big", m_nq_big, "invalid num_queues"},
    {"queue_sizes NULL", m_sizes_null, "invalid queue_sizes"},
    {"queue size 0", m_size_zero, "invalid queue_sizes[]"},
    {"queue size not a power of two", m_size_npow2, "queue_sizes[]"},
    {"queue size 65535", m_size_big, "invalid queue_sizes[]"},
    {"config_size too big", m_cfg_big, "invalid config_size"},
    {"config without config_read", m_no_config_read, "config_read"},
    {"mem NULL", m_mem_null, "invalid mem"},
    {"host NULL", m_host_null, NULL},
    {"host without irq", m_no_irq, "invalid host->irq"},
    {"host table too short for irq", m_host_short, NULL},
    {"device_id 0", m_devid_zero, "invalid ops->device_id"},
    {"ops table too short for device_id", m_ops_short, "device_id"},
    {"queue_notify NULL", m_no_notify, "invalid ops->queue_notify"},
    {"ops table too short for queue_notify", m_notify_past_size,
     "queue_notify"},
};

START_TEST(test_new_invalid)
{
	const struct bad_new *row = &bad_new[_i];
	struct new_args a;
	struct vmmio_dev *dev = NULL;
	int rc;

	env_mem();
	a.ops = t_ops;
	a.host = t_host;
	a.sizes[0] = QMAX0;
	a.sizes[1] = QMAX1;
	a.cfg = t_config(2);
	a.cfg.host = &a.host;
	a.cfg.queue_sizes = a.sizes;
	a.opsp = &a.ops;
	a.cfgp = &a.cfg;
	a.no_out = false;
	/* The untouched arguments are good. */
	ck_assert_int_eq(vmmio_dev_new(a.opsp, &E, a.cfgp, &dev), 0);
	vmmio_dev_free(dev);
	dev = NULL;
	row->mutate(&a);
	rc = vmmio_dev_new(a.opsp, &E, a.cfgp, a.no_out ? NULL : &dev);
	ck_assert_msg(rc == -EINVAL, "%s: %d", row->name, rc);
	ck_assert_ptr_null(dev);
	if (row->log)
		ck_assert_msg(strstr(E.log, row->log), "%s: log '%s'",
			      row->name, E.log);
	else
		ck_assert_uint_eq(E.logs, 0);
	env_fini();
}
END_TEST

/* Allocation failures: fail allocation 1, 2, ... in turn, no leaks. */

static struct {
	unsigned count, fail_at, live;
} A;

static void *a_alloc(void *opaque, size_t size)
{
	(void)opaque;
	if (++A.count == A.fail_at)
		return NULL;
	A.live++;
	return malloc(size);
}

static void a_free(void *opaque, void *p)
{
	(void)opaque;
	A.live--;
	free(p);
}

START_TEST(test_new_alloc_sweep)
{
	struct vmmio_host_ops h = t_host;
	struct vmmio_dev_config c;
	struct vmmio_dev *dev = NULL;
	unsigned n;
	int rc = -ENOMEM;

	env_mem();
	h.alloc = a_alloc;
	h.free = a_free;
	c = t_config(2);
	c.host = &h;
	for (n = 1; n < 100 && rc; n++) {
		memset(&A, 0, sizeof(A));
		A.fail_at = n;
		rc = vmmio_dev_new(&t_ops, &E, &c, &dev);
		ck_assert_msg(rc == 0 || rc == -ENOMEM, "alloc %u: %d", n, rc);
		if (rc) {
			ck_assert_ptr_null(dev);
			ck_assert_uint_eq(A.live, 0);
		}
	}
	ck_assert_int_eq(rc, 0);
	/* Device plus three allocations per queue. */
	ck_assert_uint_eq(n - 1, 1 + 3 * NQ + 1);
	ck_assert_uint_eq(A.live, 1 + 3 * NQ);
	vmmio_dev_free(dev);
	ck_assert_uint_eq(A.live, 0);
	env_fini();
}
END_TEST

/* The driver's transport half (src/driver_mmio.c) */

/* Every access the driver makes, for asserting widths and offsets. */
static struct {
	unsigned n, gen_reads, ack_writes;
	uint32_t off[256];
	unsigned width[256];
	bool write[256];
} T;

static void t_trace(uint32_t off, unsigned width, bool write)
{
	if (T.n < 256) {
		T.off[T.n] = off;
		T.width[T.n] = width;
		T.write[T.n] = write;
	}
	T.n++;
	if (off == VIRTIO_MMIO_CONFIG_GENERATION && !write)
		T.gen_reads++;
	if (off == IACK && write)
		T.ack_writes++;
}

static uint32_t t_drv_read(void *opaque, uint32_t off, unsigned width)
{
	uint32_t v = 0;

	t_trace(off, width, false);
	(void)vmmio_dev_read(opaque, off, &v, width);
	return v;
}

static void t_drv_write(void *opaque, uint32_t off, uint32_t val,
			unsigned width)
{
	t_trace(off, width, true);
	(void)vmmio_dev_write(opaque, off, &val, width);
}

static const struct vmmio_drv_ops t_drv_ops = {
    .size = sizeof(struct vmmio_drv_ops),
    .read = t_drv_read,
    .write = t_drv_write,
};

static void drv_init(struct vmmio_drv *d, uint32_t version)
{
	env_init(version);
	memset(&T, 0, sizeof(T));
	ck_assert_int_eq(vmmio_drv_init(d, &t_drv_ops, E.dev), 0);
	ck_assert_uint_eq(vmmio_drv_version(d), version);
	ck_assert_uint_eq(vmmio_drv_device_id(d), TDEV_ID);
}

/* A ring for queue index @size at @gpa laid out for @align. */
static struct vmmio_drv_vq mkvq(uint16_t size, uint32_t align, uint64_t gpa)
{
	struct vmmio_drv_vq vq;
	uint64_t used;

	memset(&vq, 0, sizeof(vq));
	vq.size = size;
	vq.align = align;
	vq.desc_gpa = gpa;
	vq.avail_gpa = gpa + 16u * size;
	used = vq.avail_gpa + 6u + 2u * size;
	vq.used_gpa = (used + align - 1) & ~(uint64_t)(align - 1);
	return vq;
}

/* A fake register file for the probe errors. */
static struct {
	uint32_t magic, version, devid, status;
} F;

static uint32_t f_read(void *opaque, uint32_t off, unsigned width)
{
	(void)opaque;
	ck_assert_uint_eq(width, 4);
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return F.magic;
	case VIRTIO_MMIO_VERSION:
		return F.version;
	case VIRTIO_MMIO_DEVICE_ID:
		return F.devid;
	case ST:
		return F.status;
	default:
		return 0;
	}
}

static void f_write(void *opaque, uint32_t off, uint32_t val, unsigned width)
{
	(void)opaque;
	(void)width;
	if (off == ST && val)
		F.status = val;
}

static const struct vmmio_drv_ops f_ops = {
    .size = sizeof(struct vmmio_drv_ops),
    .read = f_read,
    .write = f_write,
};

START_TEST(test_drv_init_errors)
{
	struct vmmio_drv d;

	F.magic = MAGIC;
	F.version = 2;
	F.devid = 1;
	F.status = 0;
	ck_assert_int_eq(vmmio_drv_init(&d, &f_ops, NULL), 0);
	/* A device whose status never reads 0 again: reset fails. */
	F.status = S_ACK;
	ck_assert_int_eq(vmmio_drv_reset(&d), -EIO);
	ck_assert_int_eq(vmmio_drv_negotiate(&d, 0, NULL), -EIO);
	F.magic = 0x12345678;
	ck_assert_int_eq(vmmio_drv_init(&d, &f_ops, NULL), -ENODEV);
	F.magic = MAGIC;
	F.version = 3;
	ck_assert_int_eq(vmmio_drv_init(&d, &f_ops, NULL), -ENOTSUP);
	F.version = 0;
	ck_assert_int_eq(vmmio_drv_init(&d, &f_ops, NULL), -ENOTSUP);
	F.version = 1;
	F.devid = 0;
	ck_assert_int_eq(vmmio_drv_init(&d, &f_ops, NULL), -ENODEV);
	ck_assert_int_eq(vmmio_drv_init(&d, NULL, NULL), -EINVAL);
}
END_TEST

START_TEST(test_drv_negotiate_v2)
{
	struct vmmio_drv d;
	uint64_t acc = 0;

	drv_init(&d, 2);
	ck_assert_int_eq(
	    vmmio_drv_negotiate(&d, TFEAT | (1ull << 5) | (1ull << 40), &acc),
	    0);
	ck_assert_uint_eq(acc, TFEAT | V1);
	ck_assert_uint_eq(vmmio_dev_features(E.dev), TFEAT | V1);
	ck_assert_uint_eq(vmmio_drv_get_status(&d), S_FOK);
	ck_assert_uint_eq(E.resets, 1);
	/* Negotiating again starts with a reset. */
	ck_assert_int_eq(vmmio_drv_negotiate(&d, 0, &acc), 0);
	ck_assert_uint_eq(acc, V1);
	ck_assert_uint_eq(E.resets, 2);
	E.refuse_features = true;
	ck_assert_int_eq(vmmio_drv_negotiate(&d, TFEAT, &acc), -EIO);
	ck_assert_uint_eq(vmmio_drv_get_status(&d), S_DRV);
	ck_assert_uint_eq(vmmio_dev_fault(E.dev), VMMIO_FAULT_NONE);
	env_fini();
}
END_TEST

START_TEST(test_drv_negotiate_v1)
{
	struct vmmio_drv d;
	uint64_t acc = 0;

	drv_init(&d, 1);
	/* GuestPageSize was written at probe. */
	ck_assert_uint_eq(T.off[3], VIRTIO_MMIO_GUEST_PAGE_SIZE);
	ck_assert(T.write[3]);
	ck_assert_int_eq(vmmio_drv_negotiate(&d, TFEAT | V1, &acc), 0);
	ck_assert_uint_eq(acc, TFEAT);
	ck_assert_uint_eq(vmmio_drv_get_status(&d), S_DRV);
	env_fini();
}
END_TEST

START_TEST(test_drv_setup_queue_v2)
{
	struct vmmio_drv d;
	struct vmmio_drv_vq vq = mkvq(QMAX0, 4, Q0_DESC), big, bad;
	struct vmmio_vq_state st;

	drv_init(&d, 2);
	ck_assert_int_eq(vmmio_drv_negotiate(&d, TFEAT, NULL), 0);
	ck_assert_uint_eq(vmmio_drv_queue_max(&d, 0), QMAX0);
	ck_assert_uint_eq(vmmio_drv_queue_max(&d, 1), QMAX1);
	ck_assert_uint_eq(vmmio_drv_queue_max(&d, 2), 0);
	ck_assert_int_eq(vmmio_drv_setup_queue(&d, 2, &vq), -ENOENT);
	big = mkvq(2 * QMAX1, 4, Q1_DESC);
	ck_assert_int_eq(vmmio_drv_setup_queue(&d, 1, &big), -EINVAL);
	ck_assert_int_eq(vmmio_drv_setup_queue(&d, 0, NULL), -EINVAL);
	ck_assert_int_eq(vmmio_drv_setup_queue(&d, 0, &vq), 0);
	ck_assert_int_eq(vmmio_vq_save(vmmio_dev_queue(E.dev, 0), &st), 0);
	ck_assert(st.ready);
	ck_assert_uint_eq(st.desc, vq.desc_gpa);
	ck_assert_uint_eq(st.avail, vq.avail_gpa);
	ck_assert_uint_eq(st.used, vq.used_gpa);
	ck_assert_uint_eq(st.features, TFEAT | V1);
	ck_assert_int_eq(vmmio_drv_setup_queue(&d, 0, &vq), -EBUSY);
	ck_assert_uint_eq(vmmio_dev_fault(E.dev), VMMIO_FAULT_NONE);
	bad = mkvq(4, 4, Q1_DESC + 8);
	ck_assert_int_eq(vmmio_drv_setup_queue(&d, 1, &bad), -EIO);
	ck_assert_uint_eq(vmmio_dev_fault(E.dev), VMMIO_FAULT_RING_ALIGN);
	ck_assert_int_eq(vmmio_drv_driver_ok(&d), -EIO);
	ck_assert_uint_eq(E.activates, 0);
	env_fini();
}
END_TEST

START_TEST(test_drv_setup_queue_v1)
{
	struct vmmio_drv d;
	struct vmmio_drv_vq vq = mkvq(QMAX0, 4096, Q0_DESC), bad;
	struct vmmio_vq_state st;

	drv_init(&d, 1);
	ck_assert_int_eq(vmmio_drv_negotiate(&d, TFEAT, NULL), 0);
	bad = mkvq(QMAX1, 4096, Q1_DESC + 16);
	ck_assert_int_eq(vmmio_drv_setup_queue(&d, 1, &bad), -EINVAL);
	bad = mkvq(QMAX1, 4096, Q1_DESC);
	bad.used_gpa += 4096;
	ck_assert_int_eq(vmmio_drv_setup_queue(&d, 1, &bad), -EINVAL);
	bad = mkvq(QMAX1, 4096, Q1_DESC);
	bad.avail_gpa += 16;
	ck_assert_int_eq(vmmio_drv_setup_queue(&d, 1, &bad), -EINVAL);
	bad = mkvq(QMAX1, 4096, 0x100000000000ull);
	ck_assert_int_eq(vmmio_drv_setup_queue(&d, 1, &bad), -EINVAL);
	ck_assert_int_eq(vmmio_drv_setup_queue(&d, 0, &vq), 0);
	ck_assert_uint_eq(rd(QPFN, 4), Q0_PFN);
	ck_assert_int_eq(vmmio_vq_save(vmmio_dev_queue(E.dev, 0), &st), 0);
	ck_assert_uint_eq(st.used, vq.used_gpa);
	ck_assert_uint_eq(st.features, TFEAT);
	ck_assert_int_eq(vmmio_drv_setup_queue(&d, 0, &vq), -EBUSY);
	/* A small QueueAlign works the same way. */
	vq = mkvq(QMAX1, 64, Q1_DESC);
	ck_assert_int_eq(vmmio_drv_setup_queue(&d, 1, &vq), 0);
	ck_assert_int_eq(vmmio_vq_save(vmmio_dev_queue(E.dev, 1), &st), 0);
	ck_assert_uint_eq(st.used, vq.used_gpa);
	ck_assert_int_eq(vmmio_drv_driver_ok(&d), 0);
	ck_assert_uint_eq(E.activates, 1);
	ck_assert_uint_eq(vmmio_drv_get_status(&d), S_LIVE1);
	/* Outside RAM: the device refuses, the driver sees -EIO. */
	ck_assert_int_eq(vmmio_drv_reset(&d), 0);
	ck_assert_int_eq(vmmio_drv_negotiate(&d, TFEAT, NULL), 0);
	vq = mkvq(QMAX0, 4096, 0x40000000);
	ck_assert_int_eq(vmmio_drv_setup_queue(&d, 0, &vq), -EIO);
	ck_assert_uint_eq(vmmio_dev_fault(E.dev), VMMIO_FAULT_RING_RANGE);
	env_fini();
}
END_TEST

START_TEST(test_drv_notify_ack)
{
	struct vmmio_drv d;
	struct vmmio_drv_vq q0 = mkvq(QMAX0, 4, Q0_DESC);
	struct vmmio_drv_vq q1 = mkvq(QMAX1, 4, Q1_DESC);

	drv_init(&d, 2);
	ck_assert_int_eq(vmmio_drv_negotiate(&d, TFEAT, NULL), 0);
	ck_assert_int_eq(vmmio_drv_setup_queue(&d, 0, &q0), 0);
	ck_assert_int_eq(vmmio_drv_setup_queue(&d, 1, &q1), 0);
	ck_assert_int_eq(vmmio_drv_driver_ok(&d), 0);
	ck_assert_uint_eq(E.activates, 1);
	ck_assert_uint_eq(E.act_features, TFEAT | V1);
	vmmio_drv_notify(&d, 1);
	ck_assert_uint_eq(E.notify[1], 1);
	ck_assert_uint_eq(vmmio_drv_ack_interrupt(&d), 0);
	ck_assert_uint_eq(T.ack_writes, 0);
	vmmio_dev_config_changed(E.dev);
	ck_assert_uint_eq(vmmio_drv_ack_interrupt(&d), VIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_eq(T.ack_writes, 1);
	ck_assert_uint_eq(vmmio_dev_interrupt_status(E.dev), 0);
	ck_assert_uint_eq(E.lowers, 1);
	ck_assert(!E.line);
	env_fini();
}
END_TEST

START_TEST(test_drv_config_read)
{
	struct vmmio_drv d;
	unsigned char buf[0x100];
	unsigned i, first;

	drv_init(&d, 2);
	memset(buf, 0xee, sizeof(buf));
	first = T.n;
	ck_assert_int_eq(vmmio_drv_config_read(&d, 1, buf, 7), 0);
	ck_assert_mem_eq(buf, E.cfg + 1, 7);
	/* Generation, then 1@1, 2@2, 4@4, then generation. */
	ck_assert_uint_eq(T.n - first, 5);
	ck_assert_uint_eq(T.off[first + 1], CFG + 1);
	ck_assert_uint_eq(T.width[first + 1], 1);
	ck_assert_uint_eq(T.off[first + 2], CFG + 2);
	ck_assert_uint_eq(T.width[first + 2], 2);
	ck_assert_uint_eq(T.off[first + 3], CFG + 4);
	ck_assert_uint_eq(T.width[first + 3], 4);
	ck_assert_uint_eq(T.gen_reads, 2);
	/* The device changes its config once, mid-read: one retry. */
	E.bump_reads = 1;
	E.cfg_reads = 0;
	ck_assert_int_eq(vmmio_drv_config_read(&d, 0, buf, CFG_SIZE), 0);
	ck_assert_mem_eq(buf, E.cfg, CFG_SIZE);
	ck_assert_uint_eq(E.cfg_reads, 6);
	ck_assert_uint_eq(T.gen_reads, 6);
	ck_assert_uint_eq(vmmio_dev_config_generation(E.dev), 1);
	/* It never settles. */
	E.bump_reads = 100000;
	ck_assert_int_eq(vmmio_drv_config_read(&d, 0, buf, 4), -EAGAIN);
	E.bump_reads = 0;
	/* The whole window: zeros past the config size. */
	ck_assert_int_eq(vmmio_drv_config_read(&d, 0, buf, 0x100), 0);
	ck_assert_mem_eq(buf, E.cfg, CFG_SIZE);
	for (i = CFG_SIZE; i < 0x100; i++)
		ck_assert_uint_eq(buf[i], 0);
	ck_assert_int_eq(vmmio_drv_config_read(&d, 0x100, buf, 0), 0);
	ck_assert_int_eq(vmmio_drv_config_read(&d, 0xfc, buf, 8), -EINVAL);
	ck_assert_int_eq(vmmio_drv_config_read(&d, 0x101, buf, 0), -EINVAL);
	ck_assert_int_eq(vmmio_drv_config_read(&d, UINT32_MAX, buf, 2),
			 -EINVAL);
	ck_assert_int_eq(vmmio_drv_config_read(&d, 0, buf, UINT32_MAX),
			 -EINVAL);
	ck_assert_int_eq(vmmio_drv_config_read(&d, 0, NULL, 4), -EINVAL);
	ck_assert_uint_eq(vmmio_dev_fault(E.dev), VMMIO_FAULT_NONE);
	env_fini();
}
END_TEST

START_TEST(test_drv_config_legacy)
{
	struct vmmio_drv d;
	unsigned char buf[CFG_SIZE];

	drv_init(&d, 1);
	E.bump_reads = 100000;
	ck_assert_int_eq(vmmio_drv_config_read(&d, 0, buf, CFG_SIZE), 0);
	ck_assert_mem_eq(buf, E.cfg, CFG_SIZE);
	ck_assert_uint_eq(T.gen_reads, 0);
	ck_assert_uint_eq(E.cfg_reads, 3);
	env_fini();
}
END_TEST

/* End to end: a request through the driver harness and back. */
START_TEST(test_vring_interrupt)
{
	static struct vmmio_drv_slot slot[QMAX1];
	struct vmmio_drv_vq vq;
	struct vmmio_drv_buf buf = {.gpa = RAM_GPA + 0x8000, .len = 64};
	struct vmmio_drv_req req = {.buf = &buf, .n_out = 1, .n_direct = 1};
	struct vmmio_drv d;
	uint64_t acc;
	void *tok = NULL;
	uint32_t len = 1;
	int token;

	env_init(2);
	E.echo = true;
	ck_assert_int_eq(vmmio_drv_init(&d, &t_drv_ops, E.dev), 0);
	ck_assert_int_eq(vmmio_drv_negotiate(&d, TFEAT, &acc), 0);
	ck_assert_int_eq(vmmio_drv_vq_init(&vq, QMAX1, E.ram + 0x4000,
					   RAM_GPA + 0x4000, 0x1000, 4, slot,
					   acc),
			 0);
	ck_assert_int_eq(vmmio_drv_setup_queue(&d, 1, &vq), 0);
	ck_assert_int_eq(vmmio_drv_driver_ok(&d), 0);
	ck_assert_int_eq(vmmio_drv_vq_add(&vq, &req, &token), 0);
	if (vmmio_drv_vq_kick_prepare(&vq))
		vmmio_drv_notify(&d, 1);
	ck_assert_uint_eq(E.notify[1], 1);
	ck_assert_uint_eq(vmmio_dev_interrupt_status(E.dev),
			  VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(E.raises, 1);
	ck_assert(E.line);
	ck_assert_uint_eq(vmmio_drv_ack_interrupt(&d), VIRTIO_MMIO_INT_VRING);
	ck_assert(!E.line);
	ck_assert_int_eq(vmmio_drv_vq_get_used(&vq, &tok, &len), 1);
	ck_assert_ptr_eq(tok, &token);
	ck_assert_uint_eq(len, 0);
	env_fini();
}
END_TEST

START_TEST(test_drv_config_write)
{
	static const unsigned char in[5] = {1, 2, 3, 4, 5};
	static const unsigned char want[CFG_SIZE] = {
	    0x10, 0x11, 0x12, 1, 2, 3, 4, 5, 0x18, 0x19, 0x1a, 0x1b};
	struct vmmio_drv d;
	unsigned first;

	drv_init(&d, 2);
	first = T.n;
	ck_assert_int_eq(vmmio_drv_config_write(&d, 3, in, 5), 0);
	ck_assert_mem_eq(E.cfg, want, CFG_SIZE);
	/* 1@3, 4@4. */
	ck_assert_uint_eq(T.n - first, 2);
	ck_assert_uint_eq(T.width[first], 1);
	ck_assert_uint_eq(T.width[first + 1], 4);
	ck_assert(T.write[first + 1]);
	ck_assert_int_eq(vmmio_drv_config_write(&d, 0xff, in, 2), -EINVAL);
	ck_assert_int_eq(vmmio_drv_config_write(&d, 0xff, in, 1), 0);
	ck_assert_uint_eq(vmmio_dev_fault(E.dev), VMMIO_FAULT_NONE);
	env_fini();
}
END_TEST

Suite *mmio_suite(void)
{
	Suite *s = suite_create("mmio");
	TCase *seq = tcase_create("sequences");
	TCase *dev = tcase_create("device");
	TCase *drv = tcase_create("driver");

	tcase_add_loop_test(seq, test_reg_seq, 0,
			    sizeof(reg_seqs) / sizeof(reg_seqs[0]));
	tcase_add_loop_test(seq, test_hostile_seq, 0,
			    sizeof(bad_seqs) / sizeof(bad_seqs[0]));
	tcase_add_loop_test(seq, test_new_invalid, 0,
			    sizeof(bad_new) / sizeof(bad_new[0]));
	suite_add_tcase(s, seq);

	tcase_add_test(dev, test_reset_recovers);
	tcase_add_test(dev, test_host_reset);
	tcase_add_test(dev, test_irq_ack_lowers_line);
	tcase_add_test(dev, test_config_generation);
	tcase_add_test(dev, test_notify_equivalence);
	tcase_add_test(dev, test_fail_first_reason);
	tcase_add_test(dev, test_queue_fault_propagates);
	tcase_add_test(dev, test_set_mem);
	tcase_add_test(dev, test_accessors);
	tcase_add_test(dev, test_vendor_id);
	tcase_add_test(dev, test_legacy_layout);
	tcase_add_test(dev, test_log_ratelimit);
	tcase_add_test(dev, test_log_ratelimit_fault_after_debug);
	tcase_add_test(dev, test_host_reset_hook);
	tcase_add_test(dev, test_new_alloc_sweep);
	suite_add_tcase(s, dev);

	tcase_add_test(drv, test_drv_init_errors);
	tcase_add_test(drv, test_drv_negotiate_v2);
	tcase_add_test(drv, test_drv_negotiate_v1);
	tcase_add_test(drv, test_drv_setup_queue_v2);
	tcase_add_test(drv, test_drv_setup_queue_v1);
	tcase_add_test(drv, test_drv_notify_ack);
	tcase_add_test(drv, test_drv_config_read);
	tcase_add_test(drv, test_drv_config_legacy);
	tcase_add_test(drv, test_drv_config_write);
	tcase_add_test(drv, test_vring_interrupt);
	suite_add_tcase(s, drv);
	return s;
}
