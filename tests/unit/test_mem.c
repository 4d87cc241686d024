/* SPDX-License-Identifier: Apache-2.0 */
/* Guest memory map: construction checks, bounds, splitting, atomics. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include <vmmio/mem.h>

#include "tests.h"
#include "tguest.h"

static unsigned char ram_a[4096] __attribute__((aligned(16)));
static unsigned char ram_b[4096] __attribute__((aligned(16)));

/* Two adjacent regions at 0x1000 and 0x2000, the second read-only. */
static struct vmmio_mem *two_regions(void)
{
	struct vmmio_mem_region r[2] = {
	    {.gpa = 0x2000, .size = 4096, .host = ram_b, .read_only = true},
	    {.gpa = 0x1000, .size = 4096, .host = ram_a},
	};
	struct vmmio_mem *m = NULL;

	ck_assert_int_eq(vmmio_mem_new(r, 2, NULL, NULL, &m), 0);
	return m;
}

struct bad_map {
	const char *what;
	vmmio_gpa_t gpa[2];
	uint64_t size[2];
	unsigned count;
	bool null_host;
};

static const struct bad_map bad_maps[] = {
    {"no regions", {0}, {0}, 0, false},
    {"zero size", {0x1000}, {0}, 1, false},
    {"NULL host", {0x1000}, {4096}, 1, true},
    {"unaligned gpa", {0x1008}, {4096}, 1, false},
    {"unaligned size", {0x1000}, {4095}, 1, false},
    {"wraps past 2^64", {UINT64_MAX - 4095 + 1 - 16}, {8192}, 1, false},
    {"overlap", {0x1000, 0x1ff0}, {4096, 4096}, 2, false},
    {"same base", {0x1000, 0x1000}, {16, 16}, 2, false},
    {"too many", {0}, {0}, VMMIO_MEM_MAX_REGIONS + 1, false},
};

START_TEST(test_new_rejects)
{
	const struct bad_map *b = &bad_maps[_i];
	struct vmmio_mem_region r[2];
	struct vmmio_mem *m = (struct vmmio_mem *)0x1;

	for (unsigned i = 0; i < 2; i++)
		r[i] = (struct vmmio_mem_region){.gpa = b->gpa[i],
						 .size = b->size[i],
						 .host = b->null_host ? NULL
								      : ram_a};
	ck_assert_msg(vmmio_mem_new(r, b->count, NULL, NULL, &m) == -EINVAL,
		      "%s accepted", b->what);
	ck_assert_ptr_eq(m, (struct vmmio_mem *)0x1);
}
END_TEST

START_TEST(test_read_write_across_regions)
{
	struct vmmio_mem *m = two_regions();
	unsigned char buf[64], out[64];

	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)i;
	ck_assert_int_eq(vmmio_mem_write(m, 0x1000, buf, 64), 0);
	ck_assert_mem_eq(ram_a, buf, 64);
	/* A read across the boundary comes from both host buffers. */
	memset(ram_a + 4096 - 8, 0xaa, 8);
	memset(ram_b, 0xbb, 8);
	ck_assert_int_eq(vmmio_mem_read(m, 0x2000 - 8, out, 16), 0);
	for (unsigned i = 0; i < 16; i++)
		ck_assert_uint_eq(out[i], i < 8 ? 0xaa : 0xbb);
	vmmio_mem_free(m);
}
END_TEST

START_TEST(test_write_read_only_writes_nothing)
{
	struct vmmio_mem *m = two_regions();
	unsigned char buf[16];

	memset(buf, 0x11, sizeof(buf));
	memset(ram_a + 4096 - 8, 0, 8);
	/* Half in RAM, half in the read-only region: nothing written. */
	ck_assert_int_eq(vmmio_mem_write(m, 0x2000 - 8, buf, 16), -EROFS);
	for (unsigned i = 0; i < 8; i++)
		ck_assert_uint_eq(ram_a[4096 - 8 + i], 0);
	vmmio_mem_free(m);
}
END_TEST

START_TEST(test_bounds)
{
	struct vmmio_mem *m = two_regions();
	unsigned char buf[16];
	unsigned n;
	struct vmmio_seg seg[4];

	ck_assert_int_eq(vmmio_mem_read(m, 0x3000 - 8, buf, 16), -EFAULT);
	ck_assert_int_eq(vmmio_mem_read(m, 0xff8, buf, 16), -EFAULT);
	ck_assert_int_eq(vmmio_mem_read(m, UINT64_MAX - 3, buf, 8), -EFAULT);
	ck_assert_int_eq(vmmio_mem_read(m, 0x1000, buf, 0), 0);
	ck_assert_int_eq(vmmio_mem_read(m, 0x1000, NULL, 0), 0);
	ck_assert_ptr_null(vmmio_mem_ptr(m, 0x1ff8, 16, false));
	ck_assert_ptr_null(vmmio_mem_ptr(m, 0x2000, 16, true));
	ck_assert_ptr_eq(vmmio_mem_ptr(m, 0x2000, 16, false), ram_b);
	ck_assert_ptr_null(vmmio_mem_ptr(m, UINT64_MAX, 2, false));
	ck_assert_ptr_null(vmmio_mem_ptr(m, 0x1000, SIZE_MAX, false));
	ck_assert_int_eq(vmmio_mem_segments(m, 0x1ff8, 16, false, seg, 4, &n),
			 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_ptr_eq(seg[0].base, ram_a + 4096 - 8);
	ck_assert_uint_eq(seg[0].len, 8);
	ck_assert_ptr_eq(seg[1].base, ram_b);
	ck_assert_uint_eq(seg[1].len, 8);
	ck_assert_int_eq(vmmio_mem_segments(m, 0x1ff8, 16, false, seg, 1, &n),
			 -ENOSPC);
	ck_assert_int_eq(vmmio_mem_segments(m, 0x1ff8, 16, true, seg, 4, &n),
			 -EROFS);
	ck_assert_int_eq(
	    vmmio_mem_segments(m, 0x1000, SIZE_MAX, false, seg, 4, &n),
	    -EFAULT);
	vmmio_mem_free(m);
}
END_TEST

START_TEST(test_atomics)
{
	struct vmmio_mem *m = two_regions();
	uint16_t v16;
	uint32_t v32;

	ck_assert_int_eq(vmmio_mem_store16(m, 0x1002, 0xbeef), 0);
	ck_assert_int_eq(vmmio_mem_load16(m, 0x1002, &v16), 0);
	ck_assert_uint_eq(v16, 0xbeef);
	ck_assert_uint_eq(ram_a[2] | ram_a[3] << 8, 0xbeef);
	ck_assert_int_eq(vmmio_mem_store32(m, 0x1004, 0xdeadbeef), 0);
	ck_assert_int_eq(vmmio_mem_load32(m, 0x1004, &v32), 0);
	ck_assert_uint_eq(v32, 0xdeadbeef);
	ck_assert_int_eq(vmmio_mem_load16(m, 0x1001, &v16), -EINVAL);
	ck_assert_int_eq(vmmio_mem_load32(m, 0x1002, &v32), -EINVAL);
	ck_assert_int_eq(vmmio_mem_store16(m, 0x2000, 1), -EROFS);
	ck_assert_int_eq(vmmio_mem_store32(m, 0x5000, 1), -EFAULT);
	ck_assert_int_eq(vmmio_mem_load32(m, 0x2000, &v32), 0);
	vmmio_mem_free(m);
}
END_TEST

/* Random ranges against a byte-for-byte model of the split test RAM. */
START_TEST(test_split_model)
{
	struct tguest g;
	unsigned char *model = calloc(1, TG_DATA_LEN), buf[3000];
	unsigned seed = 7;

	tg_init(&g, true, 99);
	ck_assert_uint_gt(g.nreg, 1000);
	for (int i = 0; i < 20000; i++) {
		size_t len = tg_rand(&seed) % sizeof(buf);
		uint64_t off = tg_rand(&seed) % (TG_DATA_LEN - len);

		if (i & 1) {
			for (size_t k = 0; k < len; k++)
				buf[k] = (unsigned char)tg_rand(&seed);
			tg_write(&g, TG_DATA_GPA + off, buf, len);
			memcpy(model + off, buf, len);
		} else {
			tg_read(&g, TG_DATA_GPA + off, buf, len);
			ck_assert_mem_eq(buf, model + off, len);
		}
	}
	free(model);
	tg_free(&g);
}
END_TEST

Suite *mem_suite(void)
{
	Suite *s = suite_create("mem");
	TCase *tc = tcase_create("mem");

	tcase_add_loop_test(tc, test_new_rejects, 0,
			    sizeof(bad_maps) / sizeof(bad_maps[0]));
	tcase_add_test(tc, test_read_write_across_regions);
	tcase_add_test(tc, test_write_read_only_writes_nothing);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_atomics);
	tcase_add_test(tc, test_split_model);
	suite_add_tcase(s, tc);
	return s;
}
