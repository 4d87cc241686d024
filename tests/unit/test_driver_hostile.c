/* SPDX-License-Identifier: Apache-2.0 */
/* Driver harness facing a hostile device: used ring and registers that lie. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include <vmmio/driver.h>

#include "tests.h"

#define QS 8u
#define RING_GPA 0x10000ull
#define IDX_OFF 2u
#define RING_OFF(i) (4u + 8u * (i))

/* The driver's ring in a heap block of the exact size (ASan sees any
 * access outside it), and the device's view of the used ring. */
static struct {
	unsigned char *ring;
	struct vmmio_drv_vq vq;
	struct vmmio_drv_slot slot[QS];
	int tok[QS];
} H;

static void hd_init(uint64_t features)
{
	size_t len = vmmio_drv_vq_ring_bytes(QS, 4);
	void *p = NULL;

	memset(&H, 0, sizeof(H));
	ck_assert_int_eq(posix_memalign(&p, 16, len), 0);
	H.ring = p;
	ck_assert_int_eq(vmmio_drv_vq_init(&H.vq, QS, H.ring, RING_GPA, len, 4,
					   H.slot, features),
			 0);
}

static void hd_fini(void)
{
	free(H.ring);
}

/* Device side: used element @i, used.idx. */
static void used_put(unsigned i, uint32_t id, uint32_t len)
{
	memcpy(H.vq.used + RING_OFF(i % QS), &id, 4);
	memcpy(H.vq.used + RING_OFF(i % QS) + 4u, &len, 4);
}

static void used_idx(uint16_t idx)
{
	memcpy(H.vq.used + IDX_OFF, &idx, 2);
}

static uint16_t avail_head(unsigned i)
{
	uint16_t h;

	memcpy(&h, H.vq.avail + 4u + 2u * (i % QS), 2);
	return h;
}

/* A direct request of @n buffers (one readable, the rest writable). */
static int add(void *tok, unsigned n)
{
	struct vmmio_drv_buf b[QS + 1];
	struct vmmio_drv_req r = {
	    .buf = b, .n_out = 1, .n_in = n - 1, .n_direct = n};

	for (unsigned i = 0; i < n; i++)
		b[i] = (struct vmmio_drv_buf){0x100000u + 0x1000u * i, 64};
	return vmmio_drv_vq_add(&H.vq, &r, tok);
}

static int get(void **tok, uint32_t *len)
{
	*tok = NULL;
	*len = 0;
	return vmmio_drv_vq_get_used(&H.vq, tok, len);
}

/* An id past the ring is refused, with nothing freed, as often as it is
 * asked; once the device writes a real head, that request completes. */
START_TEST(test_used_id_out_of_range)
{
	void *tok;
	uint32_t len;

	hd_init(0);
	ck_assert_int_eq(add(&H.tok[0], 2), 0);
	used_put(0, QS, 1);
	used_idx(1);
	for (unsigned k = 0; k < 3; k++) {
		ck_assert_int_eq(get(&tok, &len), -EIO);
		ck_assert_ptr_null(tok);
		ck_assert_uint_eq(vmmio_drv_vq_num_free(&H.vq), QS - 2);
	}
	used_put(0, 0x10000u + avail_head(0), 1);
	ck_assert_int_eq(get(&tok, &len), -EIO);
	/* The used length is the device's word: passed on unchanged. */
	used_put(0, avail_head(0), 0xffffffffu);
	ck_assert_int_eq(get(&tok, &len), 1);
	ck_assert_ptr_eq(tok, &H.tok[0]);
	ck_assert_uint_eq(len, 0xffffffffu);
	ck_assert_uint_eq(vmmio_drv_vq_num_free(&H.vq), QS);
	ck_assert_int_eq(get(&tok, &len), 0);
	hd_fini();
}
END_TEST

/* Only heads in flight come back: not the second descriptor of a chain,
 * not a free descriptor, not the same head twice. */
START_TEST(test_used_not_in_flight)
{
	struct vring_desc d;
	uint16_t a, b, second;
	void *tok;
	uint32_t len;

	hd_init(0);
	ck_assert_int_eq(add(&H.tok[0], 3), 0);
	ck_assert_int_eq(add(&H.tok[1], 1), 0);
	a = avail_head(0);
	b = avail_head(1);
	memcpy(&d, H.vq.desc + 16u * a, sizeof(d));
	second = d.next;
	ck_assert_uint_ne(second, a);
	used_put(0, second, 1);
	used_idx(1);
	ck_assert_int_eq(get(&tok, &len), -EIO);
	used_put(0, QS - 1, 1); /* never handed out */
	ck_assert_int_eq(get(&tok, &len), -EIO);
	used_put(0, a, 7);
	ck_assert_int_eq(get(&tok, &len), 1);
	ck_assert_ptr_eq(tok, &H.tok[0]);
	used_put(1, a, 7);
	used_idx(2);
	ck_assert_int_eq(get(&tok, &len), -EIO);
	ck_assert_uint_eq(vmmio_drv_vq_num_free(&H.vq), QS - 1);
	used_put(1, b, 3);
	ck_assert_int_eq(get(&tok, &len), 1);
	ck_assert_ptr_eq(tok, &H.tok[1]);
	ck_assert_uint_eq(len, 3);
	ck_assert_uint_eq(vmmio_drv_vq_num_free(&H.vq), QS);
	hd_fini();
}
END_TEST

/* A used index more than a ring ahead, or behind, is refused. */
START_TEST(test_used_idx_jump)
{
	void *tok;
	uint32_t len;

	hd_init(0);
	ck_assert_int_eq(add(&H.tok[0], 1), 0);
	used_put(0, avail_head(0), 4);
	used_idx(QS + 1);
	ck_assert_uint_eq(vmmio_drv_vq_used_pending(&H.vq), QS + 1);
	ck_assert_int_eq(get(&tok, &len), -EIO);
	used_idx(0xffff);
	ck_assert_int_eq(get(&tok, &len), -EIO);
	ck_assert_uint_eq(vmmio_drv_vq_num_free(&H.vq), QS - 1);
	used_idx(1);
	ck_assert_int_eq(get(&tok, &len), 1);
	ck_assert_ptr_eq(tok, &H.tok[0]);
	hd_fini();
}
END_TEST

/* The free list lives in the driver's slots, not in the ring: a device
 * that overwrites the whole descriptor table changes nothing for it. */
START_TEST(test_desc_table_scribbled)
{
	uint16_t seen = 0;
	void *tok;
	uint32_t len;

	hd_init(0);
	ck_assert_int_eq(add(&H.tok[0], 4), 0);
	memset(H.vq.desc, 0xff, 16u * QS);
	used_put(0, avail_head(0), 0);
	used_idx(1);
	ck_assert_int_eq(get(&tok, &len), 1);
	ck_assert_uint_eq(vmmio_drv_vq_num_free(&H.vq), QS);
	for (unsigned i = 0; i < QS; i++) {
		ck_assert_int_eq(add(&H.tok[i], 1), 0);
		ck_assert_uint_lt(avail_head(1 + i), QS);
		seen |= (uint16_t)(1u << avail_head(1 + i));
	}
	ck_assert_uint_eq(seen, (1u << QS) - 1);
	ck_assert_int_eq(add(&H.tok[0], 1), -ENOSPC);
	hd_fini();
}
END_TEST

/* Requests the harness cannot express: refused, nothing published. */
START_TEST(test_add_refused)
{
	struct vmmio_drv_buf b[2] = {{0x1000, 16}, {0x2000, 16}};
	struct vmmio_drv_req r = {
	    .buf = b, .n_out = 1, .n_in = 1, .n_direct = 1};
	unsigned char table[16];

	hd_init(0);
	ck_assert_int_eq(vmmio_drv_vq_add(&H.vq, &r, NULL), -EINVAL);
	/* The indirect part without INDIRECT_DESC negotiated. */
	r.table = table;
	ck_assert_int_eq(vmmio_drv_vq_add(&H.vq, &r, &H.tok[0]), -EINVAL);
	r.n_direct = 3;
	ck_assert_int_eq(vmmio_drv_vq_add(&H.vq, &r, &H.tok[0]), -EINVAL);
	r.n_out = r.n_in = r.n_direct = 0;
	ck_assert_int_eq(vmmio_drv_vq_add(&H.vq, &r, &H.tok[0]), -EINVAL);
	ck_assert_int_eq(add(&H.tok[0], QS + 1), -ENOSPC);
	ck_assert_uint_eq(H.vq.avail_idx, 0);
	ck_assert_uint_eq(vmmio_drv_vq_num_free(&H.vq), QS);
	hd_fini();
	/* With the feature, but no table to put the indirect part in. */
	hd_init(1ull << VIRTIO_RING_F_INDIRECT_DESC);
	r = (struct vmmio_drv_req){
	    .buf = b, .n_out = 1, .n_in = 1, .n_direct = 1};
	ck_assert_int_eq(vmmio_drv_vq_add(&H.vq, &r, &H.tok[0]), -EINVAL);
	r.table = table;
	r.table_gpa = 0x3000;
	ck_assert_int_eq(vmmio_drv_vq_add(&H.vq, &r, &H.tok[0]), 0);
	ck_assert_uint_eq(vmmio_drv_vq_num_free(&H.vq), QS - 2);
	hd_fini();
}
END_TEST

/* A ConfigGeneration that changes at every read: the read gives up. */
static unsigned gen_reads;

static uint32_t gen_read(void *opaque, uint32_t off, unsigned width)
{
	(void)opaque;
	(void)width;
	gen_reads++;
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return 0x74726976u;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return 4;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return gen_reads;
	default:
		return 0;
	}
}

static void gen_write(void *opaque, uint32_t off, uint32_t val, unsigned width)
{
	(void)opaque;
	(void)off;
	(void)val;
	(void)width;
}

START_TEST(test_config_generation_unstable)
{
	static const struct vmmio_drv_ops ops = {
	    .size = sizeof(ops), .read = gen_read, .write = gen_write};
	struct vmmio_drv d;
	unsigned char buf[8];

	ck_assert_int_eq(vmmio_drv_init(&d, &ops, NULL), 0);
	gen_reads = 0;
	ck_assert_int_eq(vmmio_drv_config_read(&d, 0, buf, sizeof(buf)),
			 -EAGAIN);
	/* 64 tries of generation, two 4-byte reads, generation. */
	ck_assert_uint_eq(gen_reads, 64u * 4u);
}
END_TEST

Suite *driver_hostile_suite(void)
{
	Suite *s = suite_create("driver_hostile");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_used_id_out_of_range);
	tcase_add_test(tc, test_used_not_in_flight);
	tcase_add_test(tc, test_used_idx_jump);
	tcase_add_test(tc, test_desc_table_scribbled);
	tcase_add_test(tc, test_add_refused);
	tcase_add_test(tc, test_config_generation_unstable);
	suite_add_tcase(s, tc);
	return s;
}
