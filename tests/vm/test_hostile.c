/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The test guest's hostile mode (tests/guest/hostile.c) under vmm-demo:
 * every scenario passes in the guest, vmm-demo logged exactly one fault
 * line naming the expected fault for each one that latches a fault (and
 * no other), nothing was rate limited away, nothing else went wrong, and
 * the disk holds exactly what the recovery checks wrote. Skipped without
 * /dev/kvm.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vmrun.h"
#include "vmtests.h"

#define MIN_SCENARIOS 40
#define MAX_SCENARIOS 128
#define SCRATCH_SECTOR 1024u

struct hline {
	unsigned n;
	char name[64], dev[16], fault[32];
};

/* tests/guest/README.md: what scenario n leaves in sector 1024 + n. */
static unsigned char scratch_pattern(unsigned n, unsigned i)
{
	return (unsigned char)((i * 11u + n * 37u + 0x5bu) & 0xffu);
}

/* Parse "TG HOSTILE nn name dev clause fault=X [what] PASS" lines. */
static unsigned parse_lines(const struct vmrun *r, struct hline *h)
{
	const char *p = r->out;
	unsigned count = 0;

	while ((p = strstr(p, "TG HOSTILE ")) != NULL) {
		const char *eol = strchr(p, '\n');
		char clause[32];

		ck_assert_msg(eol, "unterminated line: %s", p);
		ck_assert_uint_lt(count, MAX_SCENARIOS);
		ck_assert_msg(sscanf(p,
				     "TG HOSTILE %u %63s %15s %31s fault=%31s",
				     &h[count].n, h[count].name, h[count].dev,
				     clause, h[count].fault) == 5,
			      "bad line: %.*s", (int)(eol - p), p);
		ck_assert_msg(eol - p > 5 && !strncmp(eol - 5, " PASS", 5),
			      "scenario failed: %.*s", (int)(eol - p), p);
		ck_assert_uint_eq(h[count].n, count + 1);
		count++;
		p = eol;
	}
	return count;
}

/* Lines of @text that contain both @a and @b. */
static unsigned count_lines(const char *text, const char *a, const char *b)
{
	unsigned n = 0;

	for (const char *p = text; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char line[512];

		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		if (strstr(line, a) && strstr(line, b))
			n++;
		p += len + (eol != NULL);
	}
	return n;
}

/* Each expected fault: as many vmm-demo lines naming it on that device
 * as scenarios expecting it there; and no fault line beyond those. */
static void check_fault_lines(const struct vmrun *r, const struct hline *h,
			      unsigned count)
{
	unsigned faults = 0;

	for (unsigned i = 0; i < count; i++) {
		char dev[32], fault[48];
		unsigned want = 0;

		if (!strcmp(h[i].fault, "none"))
			continue;
		faults++;
		for (unsigned j = 0; j < count; j++)
			want += !strcmp(h[j].dev, h[i].dev) &&
				!strcmp(h[j].fault, h[i].fault);
		snprintf(dev, sizeof(dev), "virtio-%s@0x", h[i].dev);
		snprintf(fault, sizeof(fault), ": fault %s (", h[i].fault);
		ck_assert_msg(count_lines(r->err, dev, fault) == want,
			      "%s %s: %u log lines, want %u", h[i].dev,
			      h[i].fault, count_lines(r->err, dev, fault),
			      want);
	}
	ck_assert_uint_eq(
	    count_lines(r->err, ": virtio-mmio device ", ": fault "), faults);
}

/* Warnings only of the kinds the scenarios provoke; no error, no
 * sanitizer report, no line suppressed by a rate limit. */
static void check_log_clean(const struct vmrun *r)
{
	unsigned warnings = count_lines(r->err, "warning: ", "");

	ck_assert_uint_eq(
	    warnings,
	    count_lines(r->err, "warning: ", ": fault ") +
		count_lines(r->err, "warning: ", "virtqueue fault ") +
		count_lines(r->err, "warning: ", "virtio-blk: chain "));
	ck_assert_msg(!strstr(r->err, "error: "), "log:\n%s", r->err);
	ck_assert_msg(!strstr(r->err, "suppressed"), "log:\n%s", r->err);
	ck_assert_msg(!strstr(r->err, "Sanitizer"), "log:\n%s", r->err);
	ck_assert_msg(!strstr(r->err, "runtime error"), "log:\n%s", r->err);
	ck_assert_msg(!strstr(r->err, "fatal"), "log:\n%s", r->err);
	assert_log(r, "guest powered off after ");
}

/* Scratch sectors of the blk scenarios hold their pattern; every other
 * byte of the disk is still zero (no hostile request wrote anything). */
static void check_disk(const struct vmrun *r, const struct hline *h,
		       unsigned count)
{
	static bool written[DISK_BYTES / 512];

	memset(written, 0, sizeof(written));
	for (unsigned i = 0; i < count; i++) {
		unsigned s = SCRATCH_SECTOR + h[i].n;

		if (strcmp(h[i].dev, "blk"))
			continue;
		ck_assert_uint_lt(s, DISK_BYTES / 512);
		written[s] = true;
		for (unsigned b = 0; b < 512; b++)
			ck_assert_msg(r->img[s * 512 + b] ==
					  scratch_pattern(h[i].n, b),
				      "sector %u byte %u: 0x%02x", s, b,
				      r->img[s * 512 + b]);
	}
	for (unsigned s = 0; s < DISK_BYTES / 512; s++)
		for (unsigned b = 0; !written[s] && b < 512; b++)
			ck_assert_msg(!r->img[s * 512 + b],
				      "sector %u byte %u written", s, b);
}

START_TEST(test_hostile_scenarios)
{
	static struct vmrun r;
	static struct hline h[MAX_SCENARIOS];
	char want[96];
	unsigned count;

	if (skip_without_kvm())
		return;
	memset(&r, 0, sizeof(r));
	r.cmdline = "tg.run=hostile";
	r.vcpus = "2";
	vm_run(&r);
	assert_exit0(&r);
	count = parse_lines(&r, h);
	ck_assert_uint_ge(count, MIN_SCENARIOS);
	snprintf(want, sizeof(want), "TG RESULT hostile PASS %u/%u scenarios\n",
		 count, count);
	assert_line(&r, want);
	assert_line(&r, "TG DONE pass=1 fail=0 skip=0\n");
	check_fault_lines(&r, h, count);
	check_log_clean(&r);
	check_disk(&r, h, count);
}
END_TEST

Suite *hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("guest");

	tcase_set_timeout(tc, TIMEOUT_S + 30);
	tcase_add_test(tc, test_hostile_scenarios);
	suite_add_tcase(s, tc);
	return s;
}
