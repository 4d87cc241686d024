/* SPDX-License-Identifier: Apache-2.0 */
/* libvmmio: the guest's half of the virtio-mmio transport, freestanding. */
#include <vmmio/driver.h>

#include <linux/errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

/* The uapi errno list lacks this alias; glibc defines it the same way. */
#ifndef ENOTSUP
#define ENOTSUP EOPNOTSUPP
#endif

/* "virt" little-endian (virtio 1.2 §4.2.2). */
#define MMIO_MAGIC 0x74726976u
/* The legacy page size we tell the device (GuestPageSize). */
#define LEGACY_PAGE 4096u
/* Config space window below VIRTIO_MMIO_CONFIG + this. */
#define CONFIG_WINDOW 0x100u
/* Retries of a config read racing device updates before giving up. */
#define CONFIG_TRIES 64

static uint32_t rd(const struct vmmio_drv *d, uint32_t off)
{
	return d->ops->read(d->opaque, off, 4);
}

static void wr(const struct vmmio_drv *d, uint32_t off, uint32_t val)
{
	d->ops->write(d->opaque, off, val, 4);
}

int vmmio_drv_init(struct vmmio_drv *d, const struct vmmio_drv_ops *ops,
		   void *opaque)
{
	if (!d || !ops || !ops->read || !ops->write || ops->size < sizeof(*ops))
		return -EINVAL;
	d->ops = ops;
	d->opaque = opaque;
	d->features = 0;
	d->version = 0;
	d->device_id = 0;
	if (rd(d, VIRTIO_MMIO_MAGIC_VALUE) != MMIO_MAGIC)
		return -ENODEV;
	d->version = rd(d, VIRTIO_MMIO_VERSION);
	if (d->version != 1 && d->version != 2)
		return -ENOTSUP;
	/* DeviceID 0 is a placeholder window with no device behind it. */
	d->device_id = rd(d, VIRTIO_MMIO_DEVICE_ID);
	if (d->device_id == 0)
		return -ENODEV;
	if (d->version == 1)
		wr(d, VIRTIO_MMIO_GUEST_PAGE_SIZE, LEGACY_PAGE);
	return 0;
}

uint32_t vmmio_drv_device_id(const struct vmmio_drv *d)
{
	return d->device_id;
}

uint32_t vmmio_drv_version(const struct vmmio_drv *d)
{
	return d->version;
}

uint32_t vmmio_drv_get_status(const struct vmmio_drv *d)
{
	return rd(d, VIRTIO_MMIO_STATUS);
}

void vmmio_drv_add_status(const struct vmmio_drv *d, uint32_t bits)
{
	wr(d, VIRTIO_MMIO_STATUS, vmmio_drv_get_status(d) | bits);
}

int vmmio_drv_reset(const struct vmmio_drv *d)
{
	wr(d, VIRTIO_MMIO_STATUS, 0);
	return vmmio_drv_get_status(d) == 0 ? 0 : -EIO;
}

static uint64_t read_features(const struct vmmio_drv *d)
{
	uint64_t hi, lo;

	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	hi = rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	lo = rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
	return hi << 32 | lo;
}

static void write_features(const struct vmmio_drv *d, uint64_t f)
{
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
}

/* virtio 1.2 §3.1.1: the driver initialization sequence up to FEATURES_OK. */
int vmmio_drv_negotiate(struct vmmio_drv *d, uint64_t wanted,
			uint64_t *accepted)
{
	uint64_t acc;

	if (vmmio_drv_reset(d))
		return -EIO;
	vmmio_drv_add_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	vmmio_drv_add_status(d, VIRTIO_CONFIG_S_DRIVER);
	acc = read_features(d) & wanted;
	if (d->version == 2)
		acc |= 1ull << VIRTIO_F_VERSION_1;
	write_features(d, acc);
	/* Legacy devices have no FEATURES_OK step (Linux skips it too). */
	if (d->version == 2) {
		vmmio_drv_add_status(d, VIRTIO_CONFIG_S_FEATURES_OK);
		if (!(vmmio_drv_get_status(d) & VIRTIO_CONFIG_S_FEATURES_OK))
			return -EIO;
	}
	d->features = acc;
	if (accepted)
		*accepted = acc;
	return 0;
}

uint32_t vmmio_drv_queue_max(const struct vmmio_drv *d, uint32_t index)
{
	wr(d, VIRTIO_MMIO_QUEUE_SEL, index);
	return rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
}

/* The PFN of a ring laid out where a legacy device will look for it. */
static int legacy_pfn(const struct vmmio_drv_vq *vq, uint32_t *pfn)
{
	uint64_t num = vq->size, align = vq->align, used;

	if (align < 4 || (align & (align - 1)) || vq->desc_gpa % LEGACY_PAGE ||
	    vq->desc_gpa / LEGACY_PAGE > 0xffffffffu)
		return -EINVAL;
	/* desc < 2^44 here, so none of this can overflow. */
	used = vq->desc_gpa + 16u * num + 6u + 2u * num + align - 1u;
	used &= ~(align - 1u);
	if (vq->avail_gpa != vq->desc_gpa + 16u * num || vq->used_gpa != used)
		return -EINVAL;
	*pfn = (uint32_t)(vq->desc_gpa / LEGACY_PAGE);
	return 0;
}

static void write_addr(const struct vmmio_drv *d, uint32_t low, uint64_t a)
{
	wr(d, low, (uint32_t)a);
	wr(d, low + 4u, (uint32_t)(a >> 32));
}

static int setup_modern(const struct vmmio_drv *d,
			const struct vmmio_drv_vq *vq)
{
	write_addr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, vq->desc_gpa);
	write_addr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, vq->avail_gpa);
	write_addr(d, VIRTIO_MMIO_QUEUE_USED_LOW, vq->used_gpa);
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	return rd(d, VIRTIO_MMIO_QUEUE_READY) ? 0 : -EIO;
}

static int setup_legacy(const struct vmmio_drv *d,
			const struct vmmio_drv_vq *vq, uint32_t pfn)
{
	wr(d, VIRTIO_MMIO_QUEUE_ALIGN, vq->align);
	wr(d, VIRTIO_MMIO_QUEUE_PFN, pfn);
	return rd(d, VIRTIO_MMIO_QUEUE_PFN) == pfn ? 0 : -EIO;
}

int vmmio_drv_setup_queue(const struct vmmio_drv *d, uint32_t index,
			  const struct vmmio_drv_vq *vq)
{
	uint32_t max, pfn = 0;

	if (!vq)
		return -EINVAL;
	wr(d, VIRTIO_MMIO_QUEUE_SEL, index);
	if (rd(d, d->version == 1 ? VIRTIO_MMIO_QUEUE_PFN
				  : VIRTIO_MMIO_QUEUE_READY))
		return -EBUSY;
	max = rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (max == 0)
		return -ENOENT;
	if (vq->size == 0 || vq->size > max)
		return -EINVAL;
	if (d->version == 1 && legacy_pfn(vq, &pfn))
		return -EINVAL;
	wr(d, VIRTIO_MMIO_QUEUE_NUM, vq->size);
	if (d->version == 1)
		return setup_legacy(d, vq, pfn);
	return setup_modern(d, vq);
}

int vmmio_drv_driver_ok(const struct vmmio_drv *d)
{
	vmmio_drv_add_status(d, VIRTIO_CONFIG_S_DRIVER_OK);
	if (vmmio_drv_get_status(d) & VIRTIO_CONFIG_S_NEEDS_RESET)
		return -EIO;
	return 0;
}

void vmmio_drv_notify(const struct vmmio_drv *d, uint32_t index)
{
	wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, index);
}

uint32_t vmmio_drv_ack_interrupt(const struct vmmio_drv *d)
{
	uint32_t s = rd(d, VIRTIO_MMIO_INTERRUPT_STATUS);

	if (s)
		wr(d, VIRTIO_MMIO_INTERRUPT_ACK, s);
	return s;
}

static bool range_ok(uint32_t off, const void *buf, uint32_t len)
{
	return off <= CONFIG_WINDOW && len <= CONFIG_WINDOW - off &&
	       (buf || len == 0);
}

/* Width of the next naturally aligned access at @off, @left bytes to go. */
static unsigned chunk(uint32_t off, uint32_t left)
{
	if (off % 4 == 0 && left >= 4)
		return 4;
	if (off % 2 == 0 && left >= 2)
		return 2;
	return 1;
}

static void config_bytes(const struct vmmio_drv *d, uint32_t off,
			 unsigned char *b, uint32_t len)
{
	while (len) {
		unsigned w = chunk(off, len), i;
		uint32_t v =
		    d->ops->read(d->opaque, VIRTIO_MMIO_CONFIG + off, w);

		/* The bus is little-endian whatever the CPU is. */
		for (i = 0; i < w; i++)
			b[i] = (unsigned char)(v >> (8 * i));
		b += w;
		off += w;
		len -= w;
	}
}

/* virtio 1.2 §4.2.3.1: re-read until ConfigGeneration is stable. */
int vmmio_drv_config_read(const struct vmmio_drv *d, uint32_t off, void *buf,
			  uint32_t len)
{
	uint32_t gen;
	int tries;

	if (!range_ok(off, buf, len))
		return -EINVAL;
	if (d->version == 1) {
		config_bytes(d, off, buf, len);
		return 0;
	}
	for (tries = 0; tries < CONFIG_TRIES; tries++) {
		gen = rd(d, VIRTIO_MMIO_CONFIG_GENERATION);
		config_bytes(d, off, buf, len);
		if (rd(d, VIRTIO_MMIO_CONFIG_GENERATION) == gen)
			return 0;
	}
	return -EAGAIN;
}

int vmmio_drv_config_write(const struct vmmio_drv *d, uint32_t off,
			   const void *buf, uint32_t len)
{
	const unsigned char *b = buf;

	if (!range_ok(off, buf, len))
		return -EINVAL;
	while (len) {
		unsigned w = chunk(off, len), i;
		uint32_t v = 0;

		for (i = 0; i < w; i++)
			v |= (uint32_t)b[i] << (8 * i);
		d->ops->write(d->opaque, VIRTIO_MMIO_CONFIG + off, v, w);
		b += w;
		off += w;
		len -= w;
	}
	return 0;
}
