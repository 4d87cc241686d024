/* SPDX-License-Identifier: Apache-2.0 */
/* Allocation-failure sweep: fail allocation 1, 2, ... N in turn through
 * the host hook; every failure must be a clean -ENOMEM with nothing
 * left allocated. */
#include <errno.h>
#include <stdlib.h>
#include <check.h>

#include <linux/virtio_ids.h>

#include <vmmio/device.h>

#include "failer.h"
#include "tests.h"

static unsigned char ram[65536] __attribute__((aligned(4096)));

/* Build (and free) one object with allocation @fail_at failing. */
typedef int build_fn(struct failer *f);

static int build_mem(struct failer *f)
{
	struct vmmio_mem_region r = {0x1000, sizeof(ram), ram, false};
	struct vmmio_mem *m;
	int rc = vmmio_mem_new(&r, 1, &failer_ops, f, &m);

	if (!rc)
		vmmio_mem_free(m);
	return rc;
}

static int build_vq(struct failer *f)
{
	struct vmmio_mem_region r = {0x1000, sizeof(ram), ram, false};
	struct vmmio_mem *m;
	struct vmmio_vq *q;
	int rc = vmmio_mem_new(&r, 1, &failer_ops, f, &m);

	if (rc)
		return rc;
	rc = vmmio_vq_new(256, m, &failer_ops, f, &q);
	if (!rc)
		vmmio_vq_free(q);
	vmmio_mem_free(m);
	return rc;
}

static void dummy_notify(void *opaque, uint16_t q)
{
	(void)opaque;
	(void)q;
}

static void dummy_config(void *opaque, uint32_t off, void *buf, uint32_t len)
{
	(void)opaque;
	(void)off;
	(void)buf;
	(void)len;
}

static const struct vmmio_dev_ops dummy_dev = {.size = sizeof(dummy_dev),
					       .device_id = VIRTIO_ID_RNG,
					       .config_read = dummy_config,
					       .queue_notify = dummy_notify};

static int build_dev(struct failer *f)
{
	static const uint16_t sizes[4] = {256, 128, 64, 8};
	struct vmmio_mem_region r = {0x1000, sizeof(ram), ram, false};
	struct vmmio_dev_config cfg = {.size = sizeof(cfg),
				       .num_queues = 4,
				       .queue_sizes = sizes,
				       .config_size = 8,
				       .host = &failer_ops,
				       .host_opaque = f};
	struct vmmio_mem *m;
	struct vmmio_dev *d;
	int rc = vmmio_mem_new(&r, 1, &failer_ops, f, &m);

	if (rc)
		return rc;
	cfg.mem = m;
	rc = vmmio_dev_new(&dummy_dev, NULL, &cfg, &d);
	if (!rc)
		vmmio_dev_free(d);
	vmmio_mem_free(m);
	return rc;
}

static void sweep(build_fn *build, unsigned min_allocs)
{
	unsigned n;

	for (n = 1;; n++) {
		struct failer f = {.fail_at = n};
		int rc = build(&f);

		ck_assert_int_eq(f.live, 0);
		if (rc == 0) {
			ck_assert_uint_lt(f.count, n); /* none failed */
			break;
		}
		ck_assert_int_eq(rc, -ENOMEM);
		ck_assert_uint_lt(n, 1000);
	}
	/* The sweep really went through the hook. */
	ck_assert_uint_ge(n - 1, min_allocs);
}

START_TEST(test_sweep_mem)
{
	sweep(build_mem, 1);
}
END_TEST

START_TEST(test_sweep_vq)
{
	sweep(build_vq, 4);
}
END_TEST

START_TEST(test_sweep_dev)
{
	sweep(build_dev, 10);
}
END_TEST

Suite *alloc_suite(void)
{
	Suite *s = suite_create("alloc");
	TCase *tc = tcase_create("sweep");

	tcase_add_test(tc, test_sweep_mem);
	tcase_add_test(tc, test_sweep_vq);
	tcase_add_test(tc, test_sweep_dev);
	suite_add_tcase(s, tc);
	return s;
}
