/* SPDX-License-Identifier: Apache-2.0 */
/* libvmmio: virtio-mmio registers and state machine (virtio 1.2 §4.2.2). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include <vmmio/device.h>
#include <vmmio/driver.h>

#include "internal.h"

/* "virt" little-endian (virtio 1.2 §4.2.2). */
#define MMIO_MAGIC 0x74726976u
/* Legacy defaults before the driver writes GuestPageSize / QueueAlign. */
#define LEGACY_PAGE_SIZE 4096u
#define LEGACY_ALIGN 4096u
/* Status bits are the low byte (virtio 1.2 §2.1). */
#define STATUS_MASK 0xffu
#define F_VERSION_1 (1ull << VIRTIO_F_VERSION_1)

/* Per-queue transport state beside the queue itself. */
struct mq {
	struct vmmio_vq *vq;
	uint64_t desc, avail, used; /* QueueDesc/Driver/Device as written */
	uint32_t align;		    /* legacy QueueAlign */
	uint32_t pfn;		    /* legacy QueuePFN while ready */
};

struct vmmio_dev {
	const struct vmmio_dev_ops *ops;
	void *opaque;
	const struct vmmio_host_ops *host;
	void *host_opaque;
	const struct vmmio_mem *mem;
	uint32_t version, vendor_id, config_size;
	uint64_t offered;
	uint16_t num_queues;

	uint32_t status;       /* driver-written bits; NEEDS_RESET is fault */
	uint32_t isr;	       /* interrupt status: __atomic_* only */
	uint32_t generation;   /* ConfigGeneration: __atomic_* only */
	uint32_t fault;	       /* enum vmmio_fault: __atomic_* only */
	uint64_t features;     /* negotiated */
	uint64_t drv_features; /* DriverFeatures as written */
	bool drv_features_bad; /* a non-zero word written with sel >= 2 */
	uint32_t dev_features_sel, drv_features_sel, queue_sel;
	uint32_t page_size; /* legacy GuestPageSize */
	struct vmmio__ratelimit rl;
	struct mq q[];
};

static enum vmmio_fault fault_of(const struct vmmio_dev *dev)
{
	return (enum vmmio_fault)__atomic_load_n(&dev->fault, __ATOMIC_ACQUIRE);
}

static bool faulted(const struct vmmio_dev *dev)
{
	return fault_of(dev) != VMMIO_FAULT_NONE;
}

/* The Status register: what the driver wrote, plus the device's bit. */
static uint32_t status_reg(const struct vmmio_dev *dev)
{
	return dev->status | (faulted(dev) ? VIRTIO_CONFIG_S_NEEDS_RESET : 0u);
}

static void queue_interrupt(void *opaque, struct vmmio_vq *q);
static void queue_fault(void *opaque, struct vmmio_vq *q,
			enum vmmio_fault fault);

static const struct vmmio_vq_hooks queue_hooks = {
    .size = sizeof(struct vmmio_vq_hooks),
    .interrupt = queue_interrupt,
    .fault = queue_fault,
};

/* Parameter checks of vmmio_dev_new() */

static int bad_param(const struct vmmio_dev_config *cfg, const char *what)
{
	vmmio__log(cfg ? cfg->host : NULL, cfg ? cfg->host_opaque : NULL, NULL,
		   VMMIO_LOG_ERROR, "vmmio_dev_new: invalid %s", what);
	return -EINVAL;
}

static int check_ops(const struct vmmio_dev_ops *ops,
		     const struct vmmio_dev_config *cfg)
{
	if (!ops)
		return bad_param(cfg, "ops");
	if (ops->size < offsetof(struct vmmio_dev_ops, device_id) +
			    sizeof(ops->device_id) ||
	    ops->device_id == 0)
		return bad_param(cfg, "ops->device_id");
	if (!VMMIO_HAS_OP(ops, queue_notify))
		return bad_param(cfg, "ops->queue_notify");
	if (cfg->config_size && !VMMIO_HAS_OP(ops, config_read))
		return bad_param(cfg, "ops->config_read");
	return 0;
}

static int check_queues(const struct vmmio_dev_config *cfg)
{
	uint16_t i;

	if (cfg->num_queues == 0 || cfg->num_queues > VMMIO_DEV_MAX_QUEUES)
		return bad_param(cfg, "num_queues");
	if (!cfg->queue_sizes)
		return bad_param(cfg, "queue_sizes");
	for (i = 0; i < cfg->num_queues; i++)
		if (!vmmio__is_pow2(cfg->queue_sizes[i]) ||
		    cfg->queue_sizes[i] > VMMIO_VQ_MAX_SIZE)
			return bad_param(cfg, "queue_sizes[]");
	return 0;
}

/*
 * virtio 1.2 §6: bits 24..41 extend the queue and transport. Offer only
 * those this library implements (chains are byte streams, so ANY_LAYOUT
 * holds); a packed ring, IN_ORDER or NOTIFICATION_DATA offered but not
 * implemented would break a driver that accepts them.
 */
#define F_TRANSPORT_BITS (((1ull << 42) - 1) & ~((1ull << 24) - 1))
#define F_TRANSPORT_OK                                                         \
	((1ull << VIRTIO_F_ANY_LAYOUT) |                                       \
	 (1ull << VIRTIO_RING_F_INDIRECT_DESC) |                               \
	 (1ull << VIRTIO_RING_F_EVENT_IDX) | F_VERSION_1)

static int check_config(const struct vmmio_dev_config *cfg)
{
	if (cfg->features & F_TRANSPORT_BITS & ~F_TRANSPORT_OK)
		return bad_param(cfg, "features (transport feature not "
				      "implemented by libvmmio)");
	if (cfg->version > 2)
		return bad_param(cfg, "version");
	if (cfg->version == 1 && (cfg->features & F_VERSION_1))
		return bad_param(cfg, "features (VERSION_1 on version 1)");
	if (cfg->config_size > VMMIO_DEV_MAX_CONFIG)
		return bad_param(cfg, "config_size");
	if (!cfg->mem)
		return bad_param(cfg, "mem");
	if (!VMMIO_HAS_OP(cfg->host, irq))
		return bad_param(cfg, "host->irq");
	return check_queues(cfg);
}

static int check_params(const struct vmmio_dev_ops *ops,
			const struct vmmio_dev_config *cfg,
			struct vmmio_dev **out)
{
	int rc;

	/* Nothing of a short or missing config is read, not even host. */
	if (!cfg || cfg->size < sizeof(*cfg))
		return bad_param(NULL, "cfg");
	if (!out)
		return bad_param(cfg, "out");
	rc = check_config(cfg);
	return rc ? rc : check_ops(ops, cfg);
}

/* Creation and destruction */

static void free_queues(struct vmmio_dev *dev, uint16_t n)
{
	while (n--)
		vmmio_vq_free(dev->q[n].vq);
}

static int make_queues(struct vmmio_dev *dev, const uint16_t *sizes)
{
	uint16_t i;
	int rc;

	for (i = 0; i < dev->num_queues; i++) {
		rc = vmmio_vq_new(sizes[i], dev->mem, dev->host,
				  dev->host_opaque, &dev->q[i].vq);
		if (rc)
			goto out_free_queues;
		vmmio_vq_set_hooks(dev->q[i].vq, &queue_hooks, dev);
		dev->q[i].align = LEGACY_ALIGN;
	}
	return 0;

out_free_queues:
	free_queues(dev, i);
	return rc;
}

int vmmio_dev_new(const struct vmmio_dev_ops *ops, void *opaque,
		  const struct vmmio_dev_config *cfg, struct vmmio_dev **out)
{
	struct vmmio_dev *dev;
	int rc = check_params(ops, cfg, out);

	if (rc)
		return rc;
	dev = vmmio__zalloc(cfg->host, cfg->host_opaque,
			    sizeof(*dev) + cfg->num_queues * sizeof(dev->q[0]));
	if (!dev)
		return -ENOMEM;
	dev->ops = ops;
	dev->opaque = opaque;
	dev->host = cfg->host;
	dev->host_opaque = cfg->host_opaque;
	dev->mem = cfg->mem;
	dev->version = cfg->version == 1 ? 1 : 2;
	dev->vendor_id = cfg->vendor_id ? cfg->vendor_id : VMMIO_DEV_VENDOR;
	dev->config_size = cfg->config_size;
	dev->offered = cfg->features | (dev->version == 2 ? F_VERSION_1 : 0);
	dev->num_queues = cfg->num_queues;
	dev->page_size = LEGACY_PAGE_SIZE;
	rc = make_queues(dev, cfg->queue_sizes);
	if (rc)
		goto out_free_dev;
	*out = dev;
	return 0;

out_free_dev:
	vmmio__free(cfg->host, cfg->host_opaque, dev);
	return rc;
}

void vmmio_dev_free(struct vmmio_dev *dev)
{
	if (!dev)
		return;
	free_queues(dev, dev->num_queues);
	vmmio__free(dev->host, dev->host_opaque, dev);
}

/* Interrupts, faults and reset */

static void raise_irq(struct vmmio_dev *dev, uint32_t bit)
{
	__atomic_fetch_or(&dev->isr, bit, __ATOMIC_SEQ_CST);
	/* One call per raise: edge-triggered embedders need every edge. */
	dev->host->irq(dev->host_opaque, true);
}

static void ack_irq(struct vmmio_dev *dev, uint32_t bits)
{
	uint32_t old = __atomic_fetch_and(&dev->isr, ~bits, __ATOMIC_SEQ_CST);

	if (old == 0 || (old & ~bits) != 0)
		return;
	dev->host->irq(dev->host_opaque, false);
	/* A worker may have raised between our AND and the lowering: raise
	 * again so a level-triggered line does not lose it. */
	if (__atomic_load_n(&dev->isr, __ATOMIC_SEQ_CST))
		dev->host->irq(dev->host_opaque, true);
}

static void queue_interrupt(void *opaque, struct vmmio_vq *q)
{
	(void)q;
	raise_irq(opaque, VIRTIO_MMIO_INT_VRING);
}

static void queue_fault(void *opaque, struct vmmio_vq *q,
			enum vmmio_fault fault)
{
	(void)q;
	vmmio_dev_fail(opaque, fault);
}

void vmmio_dev_fail(struct vmmio_dev *dev, enum vmmio_fault fault)
{
	uint32_t none = VMMIO_FAULT_NONE;
	uint16_t i;

	/* Latch first (first reason wins): vmmio_vq_fail() below calls
	 * back into us, and a worker may fail while a vCPU does. */
	if (fault == VMMIO_FAULT_NONE ||
	    !__atomic_compare_exchange_n(&dev->fault, &none, (uint32_t)fault,
					 false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return;
	vmmio__log(dev->host, dev->host_opaque, &dev->rl, VMMIO_LOG_WARN,
		   "virtio-mmio device %u: fault %s (%s), needs reset",
		   dev->ops->device_id, vmmio_fault_name(fault),
		   vmmio_fault_str(fault));
	for (i = 0; i < dev->num_queues; i++)
		vmmio_vq_fail(dev->q[i].vq, fault);
	/* virtio 1.2 §2.1.2: NEEDS_RESET comes with a config change
	 * notification. */
	raise_irq(dev, VIRTIO_MMIO_INT_CONFIG);
}

static int fail(struct vmmio_dev *dev, enum vmmio_fault fault)
{
	vmmio_dev_fail(dev, fault);
	return -EIO;
}

/* A queue call failed: the queue's own fault if it latched one. */
static int queue_error(struct vmmio_dev *dev, const struct mq *q,
		       enum vmmio_fault fallback)
{
	enum vmmio_fault f = vmmio_vq_fault(q->vq);

	return fail(dev, f != VMMIO_FAULT_NONE ? f : fallback);
}

static void do_reset(struct vmmio_dev *dev)
{
	uint16_t i;

	if (VMMIO_HAS_OP(dev->ops, reset))
		dev->ops->reset(dev->opaque);
	for (i = 0; i < dev->num_queues; i++) {
		struct mq *q = &dev->q[i];

		vmmio_vq_reset(q->vq);
		q->desc = q->avail = q->used = 0;
		q->align = LEGACY_ALIGN;
		q->pfn = 0;
	}
	dev->features = dev->drv_features = 0;
	dev->drv_features_bad = false;
	dev->dev_features_sel = dev->drv_features_sel = dev->queue_sel = 0;
	__atomic_store_n(&dev->fault, VMMIO_FAULT_NONE, __ATOMIC_RELEASE);
	dev->status = 0;
	/* GuestPageSize survives: Linux writes it once, before its reset. */
	if (__atomic_exchange_n(&dev->isr, 0, __ATOMIC_SEQ_CST))
		dev->host->irq(dev->host_opaque, false);
	if (VMMIO_HAS_OP(dev->host, reset))
		dev->host->reset(dev->host_opaque);
}

void vmmio_dev_reset(struct vmmio_dev *dev)
{
	do_reset(dev);
}

/* Feature negotiation and device status (virtio 1.2 §2.1, §3.1.1) */

static uint64_t legacy_features(const struct vmmio_dev *dev)
{
	return dev->drv_features & dev->offered;
}

static int features_write(struct vmmio_dev *dev, uint32_t val)
{
	uint32_t done = dev->version == 1 ? VIRTIO_CONFIG_S_DRIVER_OK
					  : VIRTIO_CONFIG_S_FEATURES_OK;

	if (dev->status & done) {
		vmmio__log(dev->host, dev->host_opaque, &dev->rl,
			   VMMIO_LOG_DEBUG,
			   "DriverFeatures written after negotiation: ignored");
		return 0;
	}
	if (dev->drv_features_sel == 0)
		dev->drv_features = (dev->drv_features & ~0xffffffffull) | val;
	else if (dev->drv_features_sel == 1)
		dev->drv_features =
		    (dev->drv_features & 0xffffffffull) | (uint64_t)val << 32;
	else if (val)
		dev->drv_features_bad = true;
	return 0;
}

/* virtio 1.2 §2.2.2: accept only a subset of the offer, with VERSION_1. */
static bool features_accept(struct vmmio_dev *dev)
{
	uint64_t acc = dev->drv_features;
	bool ok = !dev->drv_features_bad && !(acc & ~dev->offered) &&
		  (acc & F_VERSION_1);
	uint16_t i;

	if (ok && VMMIO_HAS_OP(dev->ops, features_ok))
		ok = dev->ops->features_ok(dev->opaque, acc);
	for (i = 0; ok && i < dev->num_queues; i++)
		ok = vmmio_vq_set_features(dev->q[i].vq, acc) == 0;
	if (!ok) {
		vmmio__log(
		    dev->host, dev->host_opaque, &dev->rl, VMMIO_LOG_INFO,
		    "FEATURES_OK refused: driver accepted %#llx of %#llx%s",
		    (unsigned long long)acc, (unsigned long long)dev->offered,
		    dev->drv_features_bad ? " (and bits above 63)" : "");
		return false;
	}
	dev->features = acc;
	return true;
}

static int activate(struct vmmio_dev *dev)
{
	if (dev->version == 1)
		dev->features = legacy_features(dev);
	if (!VMMIO_HAS_OP(dev->ops, activate))
		return 0;
	if (dev->ops->activate(dev->opaque, dev->features) < 0)
		return fail(dev, VMMIO_FAULT_DEVICE);
	return 0;
}

/* Only FAILED is taken from a driver that has not reset a faulted device. */
static int status_while_faulted(struct vmmio_dev *dev, uint32_t val)
{
	dev->status |= val & VIRTIO_CONFIG_S_FAILED;
	vmmio__log(dev->host, dev->host_opaque, &dev->rl, VMMIO_LOG_DEBUG,
		   "Status %#x written while needing reset: ignored", val);
	return 0;
}

static int status_write(struct vmmio_dev *dev, uint32_t val)
{
	const uint32_t ack_drv =
	    VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	uint32_t old = dev->status;
	uint32_t set, need;

	if (val == 0) {
		do_reset(dev);
		return 0;
	}
	/* NEEDS_RESET is the device's bit; the driver's copy is ignored. */
	val &= STATUS_MASK & ~(uint32_t)VIRTIO_CONFIG_S_NEEDS_RESET;
	if (faulted(dev))
		return status_while_faulted(dev, val);
	/* virtio 1.2 §2.1.2: only a reset clears status bits. */
	if (old & ~val)
		return fail(dev, VMMIO_FAULT_STATUS);
	set = val & ~old;
	if ((set & VIRTIO_CONFIG_S_FEATURES_OK) && dev->version == 2) {
		if ((val & ack_drv) != ack_drv)
			return fail(dev, VMMIO_FAULT_STATUS);
		if (!features_accept(dev))
			val &= ~(uint32_t)VIRTIO_CONFIG_S_FEATURES_OK;
	}
	need = dev->version == 1 ? VIRTIO_CONFIG_S_DRIVER
				 : VIRTIO_CONFIG_S_FEATURES_OK;
	if ((set & VIRTIO_CONFIG_S_DRIVER_OK) && !(val & need))
		return fail(dev, VMMIO_FAULT_STATUS);
	dev->status = val;
	if (set & VIRTIO_CONFIG_S_DRIVER_OK)
		return activate(dev);
	return 0;
}

/* Queue registers (virtio 1.2 §4.2.3.2, legacy §4.2.4) */

static bool queue_writable(const struct vmmio_dev *dev, const struct mq *q)
{
	uint32_t need = dev->version == 1 ? VIRTIO_CONFIG_S_DRIVER
					  : VIRTIO_CONFIG_S_FEATURES_OK;

	/* Checklist row 4: after FEATURES_OK, before DRIVER_OK, not live. */
	return !faulted(dev) && (dev->status & need) &&
	       !(dev->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !vmmio_vq_is_ready(q->vq);
}

static int queue_disable(struct vmmio_dev *dev, struct mq *q)
{
	/* Linux's vm_del_vq writes 0 after its reset: a no-op then. */
	if (!vmmio_vq_is_ready(q->vq))
		return 0;
	if (faulted(dev) || (dev->status & VIRTIO_CONFIG_S_DRIVER_OK))
		return fail(dev, VMMIO_FAULT_QUEUE_STATE);
	if (vmmio_vq_set_ready(q->vq, false))
		return queue_error(dev, q, VMMIO_FAULT_QUEUE_STATE);
	q->pfn = 0;
	return 0;
}

static int queue_num_write(struct vmmio_dev *dev, struct mq *q, uint32_t val)
{
	/* Checklist row 2. */
	if (!vmmio__is_pow2(val) || val > vmmio_vq_max_size(q->vq))
		return fail(dev, VMMIO_FAULT_QUEUE_SIZE);
	if (vmmio_vq_set_size(q->vq, (uint16_t)val))
		return queue_error(dev, q, VMMIO_FAULT_QUEUE_SIZE);
	return 0;
}

static void queue_addr_write(struct mq *q, uint32_t off, uint32_t val)
{
	uint64_t *a;

	switch (off & ~4u) {
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		a = &q->desc;
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
		a = &q->avail;
		break;
	default:
		a = &q->used;
		break;
	}
	if (off & 4u)
		*a = (*a & 0xffffffffull) | (uint64_t)val << 32;
	else
		*a = (*a & ~0xffffffffull) | val;
}

/* The queue checks alignment and RAM (checklist row 3) and latches. */
static int queue_enable(struct vmmio_dev *dev, struct mq *q)
{
	int rc = vmmio_vq_set_addr(q->vq, q->desc, q->avail, q->used);

	if (!rc)
		rc = vmmio_vq_set_ready(q->vq, true);
	return rc ? queue_error(dev, q, VMMIO_FAULT_QUEUE_STATE) : 0;
}

/*
 * Legacy ring layout from a PFN (virtio 1.2 §2.7.2, legacy interface):
 * desc at pfn * page size, avail right after it, used at the next
 * QueueAlign boundary after avail (used_event included).
 */
static bool legacy_layout(const struct vmmio_dev *dev, const struct mq *q,
			  uint32_t pfn, uint64_t r[3])
{
	uint64_t num = vmmio_vq_size(q->vq), end;

	if (__builtin_mul_overflow((uint64_t)pfn, dev->page_size, &r[0]) ||
	    __builtin_add_overflow(r[0], 16u * num, &r[1]) ||
	    __builtin_add_overflow(r[1], 6u + 2u * num + (q->align - 1u), &end))
		return false;
	r[2] = end & ~(uint64_t)(q->align - 1u);
	return true;
}

static int legacy_enable(struct vmmio_dev *dev, struct mq *q, uint32_t pfn)
{
	uint64_t r[3];
	int rc;

	if (q->align < 4 || !vmmio__is_pow2(q->align))
		return fail(dev, VMMIO_FAULT_RING_ALIGN);
	if (!legacy_layout(dev, q, pfn, r))
		return fail(dev, VMMIO_FAULT_RING_RANGE);
	rc = vmmio_vq_set_features(q->vq, legacy_features(dev));
	if (!rc)
		rc = vmmio_vq_set_addr(q->vq, r[0], r[1], r[2]);
	if (!rc)
		rc = vmmio_vq_set_ready(q->vq, true);
	if (rc)
		return queue_error(dev, q, VMMIO_FAULT_QUEUE_STATE);
	q->pfn = pfn;
	return 0;
}

static int queue_write(struct vmmio_dev *dev, uint32_t off, uint32_t val)
{
	struct mq *q;

	/* Checklist row 1: range-check QueueSel before any use. */
	if (dev->queue_sel >= dev->num_queues)
		return fail(dev, VMMIO_FAULT_QUEUE_SEL);
	q = &dev->q[dev->queue_sel];
	if ((off == VIRTIO_MMIO_QUEUE_READY || off == VIRTIO_MMIO_QUEUE_PFN) &&
	    val == 0)
		return queue_disable(dev, q);
	if (!queue_writable(dev, q))
		return fail(dev, VMMIO_FAULT_QUEUE_STATE);
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		return queue_num_write(dev, q, val);
	case VIRTIO_MMIO_QUEUE_READY:
		if (val != 1)
			return fail(dev, VMMIO_FAULT_QUEUE_STATE);
		return queue_enable(dev, q);
	case VIRTIO_MMIO_QUEUE_ALIGN:
		q->align = val; /* checked when QueuePFN is written */
		return 0;
	case VIRTIO_MMIO_QUEUE_PFN:
		return legacy_enable(dev, q, val);
	default:
		queue_addr_write(q, off, val);
		return 0;
	}
}

static uint32_t queue_read(const struct vmmio_dev *dev, uint32_t off)
{
	const struct mq *q;

	/* QueueNumMax 0 says "no such queue"; Linux probes for it. */
	if (dev->queue_sel >= dev->num_queues)
		return 0;
	q = &dev->q[dev->queue_sel];
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return vmmio_vq_max_size(q->vq);
	case VIRTIO_MMIO_QUEUE_READY:
		return vmmio_vq_is_ready(q->vq);
	default:
		return vmmio_vq_is_ready(q->vq) ? q->pfn : 0;
	}
}

/* Register window */

/* Registers of the other version are undefined offsets here. */
static bool reg_defined(const struct vmmio_dev *dev, uint32_t off)
{
	switch (off) {
	case VIRTIO_MMIO_GUEST_PAGE_SIZE:
	case VIRTIO_MMIO_QUEUE_ALIGN:
	case VIRTIO_MMIO_QUEUE_PFN:
		return dev->version == 1;
	case VIRTIO_MMIO_QUEUE_READY:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return dev->version == 2;
	default:
		return true;
	}
}

static uint32_t reg_read(const struct vmmio_dev *dev, uint32_t off)
{
	if (!reg_defined(dev, off))
		return 0;
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return dev->version;
	case VIRTIO_MMIO_DEVICE_ID:
		return dev->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return dev->vendor_id;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (dev->dev_features_sel > 1)
			return 0;
		return (uint32_t)(dev->offered >> (32 * dev->dev_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
	case VIRTIO_MMIO_QUEUE_READY:
	case VIRTIO_MMIO_QUEUE_PFN:
		return queue_read(dev, off);
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return __atomic_load_n(&dev->isr, __ATOMIC_SEQ_CST);
	case VIRTIO_MMIO_STATUS:
		return status_reg(dev);
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		/* No shared memory regions: Linux checks the length for ~0. */
		return UINT32_MAX;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return __atomic_load_n(&dev->generation, __ATOMIC_SEQ_CST);
	default:
		return 0; /* write-only registers and undefined offsets */
	}
}

static int ignored(struct vmmio_dev *dev, uint32_t off, uint32_t val)
{
	vmmio__log(
	    dev->host, dev->host_opaque, &dev->rl, VMMIO_LOG_DEBUG,
	    "write of %#x to read-only or undefined register %#x ignored", val,
	    off);
	return 0;
}

static int page_size_write(struct vmmio_dev *dev, uint32_t val)
{
	if (!vmmio__is_pow2(val)) {
		vmmio__log(
		    dev->host, dev->host_opaque, &dev->rl, VMMIO_LOG_DEBUG,
		    "GuestPageSize %#x is not a power of two: ignored", val);
		return 0;
	}
	dev->page_size = val;
	return 0;
}

static int reg_write(struct vmmio_dev *dev, uint32_t off, uint32_t val)
{
	if (!reg_defined(dev, off))
		return ignored(dev, off, val);
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		dev->dev_features_sel = val;
		return 0;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		return features_write(dev, val);
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		dev->drv_features_sel = val;
		return 0;
	case VIRTIO_MMIO_GUEST_PAGE_SIZE:
		return page_size_write(dev, val);
	case VIRTIO_MMIO_QUEUE_SEL:
		dev->queue_sel = val; /* range-checked at each use */
		return 0;
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_ALIGN:
	case VIRTIO_MMIO_QUEUE_PFN:
	case VIRTIO_MMIO_QUEUE_READY:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		return queue_write(dev, off, val);
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		return vmmio_dev_notify(dev, val);
	case VIRTIO_MMIO_INTERRUPT_ACK:
		ack_irq(dev, val);
		return 0;
	case VIRTIO_MMIO_STATUS:
		return status_write(dev, val);
	case VIRTIO_MMIO_SHM_SEL:
		return 0; /* every region reads as absent */
	default:
		return ignored(dev, off, val);
	}
}

/* Bytes of [off, off + len) inside the config space; @off is relative. */
static uint32_t config_span(const struct vmmio_dev *dev, uint64_t off,
			    uint32_t len)
{
	uint32_t left;

	if (off >= dev->config_size)
		return 0;
	/* off < config_size <= VMMIO_DEV_MAX_CONFIG: the cast is exact. */
	left = dev->config_size - (uint32_t)off;
	return len < left ? len : left;
}

static bool config_width_ok(uint32_t len)
{
	return len == 1 || len == 2 || len == 4 || len == 8;
}

int vmmio_dev_read(struct vmmio_dev *dev, uint64_t off, void *data,
		   uint32_t len)
{
	uint32_t val, n;

	if (len == 0 || len > 8 || !data)
		return -EINVAL;
	memset(data, 0, len);
	if (off >= VIRTIO_MMIO_CONFIG) {
		/* Checklist row 15: 1/2/4/8 bytes, zeros past the end. */
		if (!config_width_ok(len))
			return fail(dev, VMMIO_FAULT_REG_ACCESS);
		n = config_span(dev, off - VIRTIO_MMIO_CONFIG, len);
		if (n)
			dev->ops->config_read(
			    dev->opaque, (uint32_t)(off - VIRTIO_MMIO_CONFIG),
			    data, n);
		return 0;
	}
	/* virtio 1.2 §4.2.2.2: registers take aligned 32-bit accesses. */
	if (len != 4 || off % 4)
		return fail(dev, VMMIO_FAULT_REG_ACCESS);
	val = reg_read(dev, (uint32_t)off);
	memcpy(data, &val, sizeof(val));
	return 0;
}

int vmmio_dev_write(struct vmmio_dev *dev, uint64_t off, const void *data,
		    uint32_t len)
{
	uint32_t val, n;

	if (len == 0 || len > 8 || !data)
		return -EINVAL;
	if (off >= VIRTIO_MMIO_CONFIG) {
		if (!config_width_ok(len))
			return fail(dev, VMMIO_FAULT_REG_ACCESS);
		n = config_span(dev, off - VIRTIO_MMIO_CONFIG, len);
		if (n && VMMIO_HAS_OP(dev->ops, config_write))
			dev->ops->config_write(
			    dev->opaque, (uint32_t)(off - VIRTIO_MMIO_CONFIG),
			    data, n);
		return 0;
	}
	if (len != 4 || off % 4)
		return fail(dev, VMMIO_FAULT_REG_ACCESS);
	memcpy(&val, data, sizeof(val));
	return reg_write(dev, (uint32_t)off, val);
}

int vmmio_dev_notify(struct vmmio_dev *dev, uint32_t queue)
{
	/* Checklist row 1: range-check the index before any use. */
	if (queue >= dev->num_queues)
		return fail(dev, VMMIO_FAULT_NOTIFY);
	if (faulted(dev))
		return -EIO;
	/*
	 * Before DRIVER_OK there is nothing to do: activate looks at the
	 * queues. This also absorbs a kick that an embedder's ioeventfd
	 * delivers after the guest reset the device.
	 */
	if (!(dev->status & VIRTIO_CONFIG_S_DRIVER_OK))
		return 0;
	if (!vmmio_vq_is_ready(dev->q[queue].vq))
		return fail(dev, VMMIO_FAULT_NOTIFY);
	dev->ops->queue_notify(dev->opaque, (uint16_t)queue);
	return 0;
}

/* Embedder calls and accessors */

void vmmio_dev_config_changed(struct vmmio_dev *dev)
{
	__atomic_add_fetch(&dev->generation, 1, __ATOMIC_SEQ_CST);
	raise_irq(dev, VIRTIO_MMIO_INT_CONFIG);
}

int vmmio_dev_set_mem(struct vmmio_dev *dev, const struct vmmio_mem *mem)
{
	uint16_t i;
	int rc = 0;

	if (!mem)
		return -EINVAL;
	dev->mem = mem;
	/* Every queue moves, even after one failed: the old map may go. */
	for (i = 0; i < dev->num_queues; i++)
		if (vmmio_vq_set_mem(dev->q[i].vq, mem))
			rc = -EIO;
	return rc;
}

struct vmmio_vq *vmmio_dev_queue(struct vmmio_dev *dev, uint32_t index)
{
	return index < dev->num_queues ? dev->q[index].vq : NULL;
}

uint16_t vmmio_dev_num_queues(const struct vmmio_dev *dev)
{
	return dev->num_queues;
}

uint32_t vmmio_dev_status(const struct vmmio_dev *dev)
{
	return status_reg(dev);
}

uint64_t vmmio_dev_features(const struct vmmio_dev *dev)
{
	return dev->features;
}

uint32_t vmmio_dev_interrupt_status(const struct vmmio_dev *dev)
{
	return __atomic_load_n(&dev->isr, __ATOMIC_SEQ_CST);
}

uint32_t vmmio_dev_config_generation(const struct vmmio_dev *dev)
{
	return __atomic_load_n(&dev->generation, __ATOMIC_SEQ_CST);
}

enum vmmio_fault vmmio_dev_fault(const struct vmmio_dev *dev)
{
	return fault_of(dev);
}

bool vmmio_dev_is_active(const struct vmmio_dev *dev)
{
	return (dev->status & VIRTIO_CONFIG_S_DRIVER_OK) && !faulted(dev);
}

uint32_t vmmio_dev_version(const struct vmmio_dev *dev)
{
	return dev->version;
}

static uint32_t drv_read(void *opaque, uint32_t off, unsigned width)
{
	uint32_t v = 0;

	(void)vmmio_dev_read(opaque, off, &v, width);
	return v;
}

static void drv_write(void *opaque, uint32_t off, uint32_t val, unsigned width)
{
	(void)vmmio_dev_write(opaque, off, &val, width);
}

static const struct vmmio_drv_ops drv_ops = {
    .size = sizeof(drv_ops), .read = drv_read, .write = drv_write};

const struct vmmio_drv_ops *vmmio_dev_driver_ops(void)
{
	return &drv_ops;
}
