/* SPDX-License-Identifier: Apache-2.0 */
/* Fault names and strings; rate limiting of guest-triggered log lines. */
#include <string.h>
#include <unistd.h>
#include <check.h>

#include <vmmio/queue.h>

#include "tests.h"

START_TEST(test_fault_strings)
{
	for (int f = 0; f < VMMIO_FAULT__COUNT; f++) {
		ck_assert_str_ne(vmmio_fault_str(f), "unknown fault");
		ck_assert_str_ne(vmmio_fault_name(f), "UNKNOWN");
		for (int g = 0; g < f; g++)
			ck_assert_str_ne(vmmio_fault_name(f),
					 vmmio_fault_name(g));
	}
	ck_assert_str_eq(vmmio_fault_str(VMMIO_FAULT__COUNT), "unknown fault");
	ck_assert_str_eq(vmmio_fault_name(-1), "UNKNOWN");
	ck_assert_str_eq(vmmio_fault_name(VMMIO_FAULT_HEAD_RANGE),
			 "HEAD_RANGE");
}
END_TEST

struct logrec {
	unsigned lines, suppressed_notes;
	char last[256];
};

static void rec_log(void *opaque, enum vmmio_log_level level, const char *msg)
{
	struct logrec *r = opaque;

	(void)level;
	r->lines++;
	if (strstr(msg, "suppressed"))
		r->suppressed_notes++;
	strncpy(r->last, msg, sizeof(r->last) - 1);
}

static const struct vmmio_host_ops log_ops = {.size = sizeof(log_ops),
					      .log = rec_log};

/* A guest that faults its queue again after every reset cannot flood
 * the host log (DESIGN.md checklist row 18). */
START_TEST(test_log_rate_limit)
{
	static unsigned char ram[4096] __attribute__((aligned(16)));
	struct vmmio_mem_region r = {0x1000, sizeof(ram), ram, false};
	struct vmmio_mem *m;
	struct vmmio_vq *q;
	struct logrec rec = {0};

	ck_assert_int_eq(vmmio_mem_new(&r, 1, NULL, NULL, &m), 0);
	ck_assert_int_eq(vmmio_vq_new(8, m, &log_ops, &rec, &q), 0);
	for (int i = 0; i < 1000; i++) {
		vmmio_vq_fail(q, VMMIO_FAULT_HEAD_RANGE);
		vmmio_vq_reset(q);
	}
	ck_assert_uint_eq(rec.lines, 10);
	ck_assert_ptr_nonnull(strstr(rec.last, "HEAD_RANGE"));
	usleep(1100 * 1000);
	vmmio_vq_fail(q, VMMIO_FAULT_NEXT_RANGE);
	ck_assert_uint_eq(rec.lines, 12);
	ck_assert_uint_eq(rec.suppressed_notes, 1);
	ck_assert_ptr_nonnull(strstr(rec.last, "NEXT_RANGE"));
	vmmio_vq_free(q);
	vmmio_mem_free(m);
}
END_TEST

Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("util");

	tcase_add_test(tc, test_fault_strings);
	tcase_add_test(tc, test_log_rate_limit);
	suite_add_tcase(s, tc);
	return s;
}
