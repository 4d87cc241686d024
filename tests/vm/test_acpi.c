/* SPDX-License-Identifier: Apache-2.0 */
/* vmm-demo tests: the AML encoder, the ACPI tables, and iasl -d on them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmtests.h"
#include "acpi.h"
#include "aml.h"
#include "layout.h"

#define BUFSZ (VMM_ACPI_END - VMM_ACPI_ADDR)
#define GPA VMM_ACPI_ADDR

static uint8_t tbuf[BUFSZ];

static uint64_t rd(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = n; i--;)
		v = (v << 8) | p[i];
	return v;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void fill_devs(struct vmm_acpi_mmio *d, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		d[i].base = VMM_VIRTIO_BASE + i * VMM_VIRTIO_SIZE;
		d[i].size = VMM_VIRTIO_SIZE;
		d[i].irq = VMM_VIRTIO_IRQ_BASE + i;
	}
}

/* ---- AML encoder ---- */

static const struct {
	size_t value;
	size_t n;
	uint8_t bytes[4];
} pkglen_rows[] = {
    {0, 1, {0x00}},
    {63, 1, {0x3f}},
    {64, 2, {0x40, 0x04}},
    {4095, 2, {0x4f, 0xff}},
    {4096, 3, {0x80, 0x00, 0x01}},
    {0xfffff, 3, {0x8f, 0xff, 0xff}},
    {0x100000, 4, {0xc0, 0x00, 0x00, 0x01}},
    {0xfffffff, 4, {0xcf, 0xff, 0xff, 0xff}},
    {0x10000000, 0, {0}},
};

START_TEST(test_pkglen_encode)
{
	for (size_t i = 0; i < sizeof(pkglen_rows) / sizeof(pkglen_rows[0]);
	     i++) {
		uint8_t out[4] = {0xee, 0xee, 0xee, 0xee};
		size_t n = aml_pkglen_encode(out, pkglen_rows[i].value);

		ck_assert_msg(n == pkglen_rows[i].n, "value %zu: %zu bytes",
			      pkglen_rows[i].value, n);
		ck_assert_mem_eq(out, pkglen_rows[i].bytes, n);
	}
}
END_TEST

/* A body of @body bytes gets a PkgLength of @n bytes holding @value. */
static const struct {
	size_t body, n, value;
} wrap_rows[] = {
    {0, 1, 1}, {62, 1, 63}, {63, 2, 65}, {4093, 2, 4095}, {4094, 3, 4097},
};

START_TEST(test_pkg_wrap)
{
	static uint8_t buf[8192];

	for (size_t i = 0; i < sizeof(wrap_rows) / sizeof(wrap_rows[0]); i++) {
		struct aml a;
		uint8_t enc[4];
		size_t m, body = wrap_rows[i].body;

		aml_init(&a, buf, sizeof(buf));
		aml_byte(&a, 0x12);
		m = aml_pkg_begin(&a);
		for (size_t j = 0; j < body; j++)
			aml_byte(&a, (uint8_t)(j * 7 + 1));
		aml_pkg_end(&a, m);
		ck_assert(aml_ok(&a));
		ck_assert_uint_eq(a.len, 1 + wrap_rows[i].n + body);
		ck_assert_uint_eq(aml_pkglen_encode(enc, wrap_rows[i].value),
				  wrap_rows[i].n);
		ck_assert_mem_eq(buf + 1, enc, wrap_rows[i].n);
		/* The body moved intact behind the PkgLength. */
		for (size_t j = 0; j < body; j++)
			ck_assert_uint_eq(buf[1 + wrap_rows[i].n + j],
					  (uint8_t)(j * 7 + 1));
	}
}
END_TEST

START_TEST(test_pkg_nested)
{
	uint8_t buf[16];
	static const uint8_t want[] = {0x10, 0x07, 0x12, 0x04,
				       0x01, 0x0a, 0x05, 0xaa};
	struct aml a;
	size_t outer, inner;

	aml_init(&a, buf, sizeof(buf));
	aml_byte(&a, 0x10);
	outer = aml_pkg_begin(&a);
	inner = aml_package_begin(&a, 1);
	aml_integer(&a, 5);
	aml_pkg_end(&a, inner);
	aml_byte(&a, 0xaa);
	aml_pkg_end(&a, outer);
	ck_assert(aml_ok(&a));
	ck_assert_uint_eq(a.len, sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
}
END_TEST

static const struct {
	uint64_t v;
	size_t n;
	uint8_t bytes[9];
} int_rows[] = {
    {0, 1, {0x00}},
    {1, 1, {0x01}},
    {2, 2, {0x0a, 0x02}},
    {0xff, 2, {0x0a, 0xff}},
    {0x100, 3, {0x0b, 0x00, 0x01}},
    {0xffff, 3, {0x0b, 0xff, 0xff}},
    {0x10000, 5, {0x0c, 0x00, 0x00, 0x01, 0x00}},
    {0xffffffffu, 5, {0x0c, 0xff, 0xff, 0xff, 0xff}},
    {0x100000000ull, 9, {0x0e, 0, 0, 0, 0, 0x01, 0, 0, 0}},
    {0x0123456789abcdefull,
     9,
     {0x0e, 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01}},
};

START_TEST(test_integer)
{
	for (size_t i = 0; i < sizeof(int_rows) / sizeof(int_rows[0]); i++) {
		uint8_t buf[16];
		struct aml a;

		aml_init(&a, buf, sizeof(buf));
		aml_integer(&a, int_rows[i].v);
		ck_assert(aml_ok(&a));
		ck_assert_msg(a.len == int_rows[i].n, "0x%llx: %zu bytes",
			      (unsigned long long)int_rows[i].v, a.len);
		ck_assert_mem_eq(buf, int_rows[i].bytes, a.len);
	}
}
END_TEST

static const struct {
	const char *path;
	size_t n;
	const char *bytes; /* NULL: invalid */
} name_rows[] = {
    {"_SB_", 4, "_SB_"},
    {"_SB", 4, "_SB_"},
    {"VR00", 4, "VR00"},
    {"\\_S5_", 5, "\\_S5_"},
    {"\\_SB_.VR01", 10, "\\\x2e_SB_VR01"},
    {"A.B.C", 14,
     "\x2f\x03"
     "A___B___C___"},
    {"", 0, NULL},
    {"1ABC", 0, NULL},
    {"ABCDE", 0, NULL},
    {"vr00", 0, NULL},
    {"A..B", 0, NULL},
    {"AB.", 0, NULL},
};

START_TEST(test_namestring)
{
	for (size_t i = 0; i < sizeof(name_rows) / sizeof(name_rows[0]); i++) {
		uint8_t buf[32];
		struct aml a;

		aml_init(&a, buf, sizeof(buf));
		aml_namestring(&a, name_rows[i].path);
		if (!name_rows[i].bytes) {
			ck_assert_msg(a.invalid, "\"%s\" accepted",
				      name_rows[i].path);
			continue;
		}
		ck_assert_msg(aml_ok(&a), "\"%s\" rejected", name_rows[i].path);
		ck_assert_uint_eq(a.len, name_rows[i].n);
		ck_assert_mem_eq(buf, name_rows[i].bytes, a.len);
	}
}
END_TEST

START_TEST(test_string_name_device)
{
	uint8_t buf[64];
	static const uint8_t want[] = {
	    0x5b, 0x82, 0x14, 'V', 'R', '0', '3', 0x08, '_', 'H', 'I',
	    'D',  0x0d, 'L',  'N', 'R', 'O', '0', '0',	'0', '5', 0x00};
	struct aml a;
	size_t m;

	aml_init(&a, buf, sizeof(buf));
	m = aml_device_begin(&a, "VR03");
	aml_name(&a, "_HID");
	aml_string(&a, "LNRO0005");
	aml_pkg_end(&a, m);
	ck_assert(aml_ok(&a));
	ck_assert_uint_eq(a.len, sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));

	aml_init(&a, buf, sizeof(buf));
	aml_string(&a, "caf\xc3\xa9");
	ck_assert(a.invalid);
	ck_assert_uint_eq(a.len, 0);
}
END_TEST

START_TEST(test_eisaid)
{
	static const char *const bad[] = {"PNP050",   "PNP05011", "pnp0501",
					  "PNP050g",  "1NP0501",  "PN@0501",
					  "PNP 0501", ""};
	uint32_t v = 0;

	ck_assert_int_eq(aml_eisaid("PNP0501", &v), 0);
	ck_assert_uint_eq(v, 0x0105d041);
	ck_assert_int_eq(aml_eisaid("PNP0A03", &v), 0);
	ck_assert_uint_eq(v, 0x030ad041);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(aml_eisaid(bad[i], &v) == -1, "\"%s\" accepted",
			      bad[i]);
}
END_TEST

START_TEST(test_resources)
{
	uint8_t buf[64];
	static const uint8_t want[] = {
	    /* Memory32Fixed (ReadWrite, 0xd0000200, 0x200) */
	    0x86, 0x09, 0x00, 0x01, 0x00, 0x02, 0x00, 0xd0, 0x00, 0x02, 0x00,
	    0x00,
	    /* Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) {17}*/
	    0x89, 0x06, 0x00, 0x03, 0x01, 0x11, 0x00, 0x00, 0x00,
	    /* Interrupt (ResourceProducer, Level, ActiveLow, Shared) {5} */
	    0x89, 0x06, 0x00, 0x0c, 0x01, 0x05, 0x00, 0x00, 0x00,
	    /* IO (Decode16, 0x3f8, 0x3f8, 1, 8) */
	    0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
	    /* Memory32Fixed (ReadOnly, 0, 4) */
	    0x86, 0x09, 0x00, 0x00, 0, 0, 0, 0, 0x04, 0, 0, 0,
	    /* EndTag */
	    0x79, 0x00};
	struct aml r;

	aml_init(&r, buf, sizeof(buf));
	aml_res_mem32fixed(&r, true, 0xd0000200, 0x200);
	aml_res_interrupt(&r, true, true, false, false, 17);
	aml_res_interrupt(&r, false, false, true, true, 5);
	aml_res_io16(&r, 0x3f8, 0x3f8, 1, 8);
	aml_res_mem32fixed(&r, false, 0, 4);
	aml_res_end(&r);
	ck_assert(aml_ok(&r));
	ck_assert_uint_eq(r.len, sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
}
END_TEST

START_TEST(test_buffer)
{
	uint8_t buf[400], data[300];
	struct aml a;

	memset(data, 0x5a, sizeof(data));
	aml_init(&a, buf, sizeof(buf));
	aml_buffer(&a, data, 3);
	ck_assert(aml_ok(&a));
	ck_assert_uint_eq(a.len, 7);
	/* PkgLength 6: itself, 0x0a 0x03 and the three bytes. */
	ck_assert_mem_eq(buf, "\x11\x06\x0a\x03\x5a\x5a\x5a", 7);

	/* 300 bytes: WordPrefix size, two-byte PkgLength 2+3+300 = 305. */
	aml_init(&a, buf, sizeof(buf));
	aml_buffer(&a, data, sizeof(data));
	ck_assert(aml_ok(&a));
	ck_assert_uint_eq(a.len, 1 + 2 + 3 + 300);
	ck_assert_mem_eq(buf, "\x11\x41\x13\x0b\x2c\x01", 6);
}
END_TEST

START_TEST(test_overflow_sticky)
{
	uint8_t buf[8];
	struct aml a;
	size_t m;

	memset(buf, 0xee, sizeof(buf));
	aml_init(&a, buf, 6);
	aml_name(&a, "_UID");	 /* 5 bytes */
	aml_integer(&a, 0x1234); /* 3 more: does not fit */
	ck_assert(a.overflow);
	ck_assert(!aml_ok(&a));
	ck_assert_uint_eq(a.len, 5);
	aml_byte(&a, 0); /* would fit, but errors are sticky */
	ck_assert_uint_eq(a.len, 5);
	ck_assert_uint_eq(buf[5], 0xee);

	/* The PkgLength insertion itself can overflow. */
	aml_init(&a, buf, 4);
	aml_byte(&a, 0x10);
	m = aml_pkg_begin(&a);
	aml_bytes(&a, "abc", 3);
	aml_pkg_end(&a, m);
	ck_assert(a.overflow);
	ck_assert_uint_eq(a.len, 4);
	ck_assert_mem_eq(buf,
			 "\x10"
			 "abc",
			 4);

	aml_init(&a, NULL, 100);
	aml_byte(&a, 1);
	ck_assert(a.overflow);
}
END_TEST

/* ---- the tables ---- */

struct cfg {
	unsigned ncpus, ndev;
};
static const struct cfg cfgs[] = {{1, 0}, {2, 3}, {4, 8}};

struct walk {
	size_t total;
	size_t xsdt, fadt, madt, dsdt; /* offsets into tbuf */
	size_t xsdt_len, fadt_len, madt_len, dsdt_len;
};

/* Table at @gpa: inside what was built, checksum 0, header fields. */
static size_t table_at(const struct walk *w, uint64_t gpa, const char *sig,
		       uint8_t rev)
{
	size_t off, len;

	ck_assert_msg(gpa >= GPA && gpa - GPA < w->total,
		      "%s at 0x%llx outside the tables", sig,
		      (unsigned long long)gpa);
	off = (size_t)(gpa - GPA);
	ck_assert_msg(off % 16 == 0, "%s not 16-aligned", sig);
	ck_assert_msg(w->total - off >= 36, "%s header cut", sig);
	ck_assert_mem_eq(tbuf + off, sig, 4);
	len = (size_t)rd(tbuf + off + 4, 4);
	ck_assert_msg(len >= 36 && len <= w->total - off, "%s length %zu", sig,
		      len);
	ck_assert_msg(sum8(tbuf + off, len) == 0, "%s checksum", sig);
	ck_assert_uint_eq(tbuf[off + 8], rev);
	ck_assert_mem_eq(tbuf + off + 10, "LIBVMM", 6);
	ck_assert_mem_eq(tbuf + off + 16, "VMMDEMO ", 8);
	ck_assert_uint_eq(rd(tbuf + off + 24, 4), 1);
	ck_assert_mem_eq(tbuf + off + 28, "LVMM", 4);
	ck_assert_uint_eq(rd(tbuf + off + 32, 4), 1);
	return off;
}

static void walk(struct walk *w, size_t total)
{
	const uint8_t *r = tbuf;

	w->total = total;
	ck_assert_mem_eq(r, "RSD PTR ", 8);
	ck_assert_uint_eq(sum8(r, 20), 0);
	ck_assert_uint_eq(sum8(r, 36), 0);
	ck_assert_mem_eq(r + 9, "LIBVMM", 6);
	ck_assert_uint_eq(r[15], 2);
	ck_assert_uint_eq(rd(r + 16, 4), 0); /* no RSDT */
	ck_assert_uint_eq(rd(r + 20, 4), 36);
	w->xsdt = table_at(w, rd(r + 24, 8), "XSDT", 1);
	w->xsdt_len = (size_t)rd(tbuf + w->xsdt + 4, 4);
	ck_assert_uint_eq(w->xsdt_len, 36 + 2 * 8);
	w->fadt = table_at(w, rd(tbuf + w->xsdt + 36, 8), "FACP", 6);
	w->madt = table_at(w, rd(tbuf + w->xsdt + 44, 8), "APIC", 5);
	w->fadt_len = (size_t)rd(tbuf + w->fadt + 4, 4);
	w->madt_len = (size_t)rd(tbuf + w->madt + 4, 4);
	w->dsdt = table_at(w, rd(tbuf + w->fadt + 140, 8), "DSDT", 2);
	w->dsdt_len = (size_t)rd(tbuf + w->dsdt + 4, 4);
	ck_assert_uint_eq(rd(tbuf + w->fadt + 40, 4), GPA + w->dsdt);
	/* The DSDT is last and the build returned exactly its end. */
	ck_assert_uint_eq(w->dsdt + w->dsdt_len, total);
}

static void check_gas_io8(const uint8_t *g, uint16_t port)
{
	ck_assert_uint_eq(g[0], 1); /* System I/O */
	ck_assert_uint_eq(g[1], 8);
	ck_assert_uint_eq(g[2], 0);
	ck_assert_uint_eq(g[3], 1); /* byte access */
	ck_assert_uint_eq(rd(g + 4, 8), port);
}

static void check_fadt(const uint8_t *f, size_t len)
{
	ck_assert_uint_eq(len, 276);
	ck_assert_uint_eq(rd(f + 36, 4), 0);	 /* no FACS */
	ck_assert_uint_eq(f[45], 0);		 /* PM profile: unspecified */
	ck_assert_uint_eq(rd(f + 46, 2), 0);	 /* no SCI */
	ck_assert_uint_eq(rd(f + 76, 4), 0);	 /* no PM timer */
	ck_assert_uint_eq(rd(f + 109, 2), 0x24); /* no VGA, no CMOS RTC */
	ck_assert_uint_eq(rd(f + 112, 4), (1u << 20) | (1u << 10));
	check_gas_io8(f + 116, VMM_RESET_PORT);
	ck_assert_uint_eq(f[128], VMM_RESET_VALUE);
	ck_assert_uint_eq(f[131], 5);
	ck_assert_uint_eq(rd(f + 132, 8), 0); /* X_FIRMWARE_CTRL */
	for (size_t o = 148; o < 244; o++)    /* X_PM1a_EVT_BLK..X_GPE1_BLK */
		ck_assert_msg(f[o] == 0, "FADT byte %zu not 0", o);
	check_gas_io8(f + 244, VMM_SLEEP_CTL_PORT);
	check_gas_io8(f + 256, VMM_SLEEP_STS_PORT);
	ck_assert_mem_eq(f + 268, "LIBVMMIO", 8);
}

static void check_madt(const uint8_t *m, size_t len, unsigned ncpus)
{
	size_t o = 44;
	unsigned lapics = 0, n = 0;

	ck_assert_uint_eq(len, 44 + 8 * ncpus + 12 + 10 + 6);
	ck_assert_uint_eq(rd(m + 36, 4), VMM_LAPIC_ADDR);
	ck_assert_uint_eq(rd(m + 40, 4), 0); /* PCAT_COMPAT clear */
	while (o < len) {
		const uint8_t *e = m + o;

		ck_assert_msg(e[1] >= 2 && e[1] <= len - o, "entry %u len %u",
			      n, e[1]);
		if (n < ncpus) {
			ck_assert_uint_eq(e[0], 0);
			ck_assert_uint_eq(e[1], 8);
			ck_assert_uint_eq(e[2], n); /* ACPI UID */
			ck_assert_uint_eq(e[3], n); /* APIC id */
			ck_assert_uint_eq(rd(e + 4, 4), 1);
			lapics++;
		} else if (n == ncpus) {
			ck_assert_uint_eq(e[0], 1);
			ck_assert_uint_eq(e[1], 12);
			ck_assert_uint_eq(e[2], ncpus);
			ck_assert_uint_eq(rd(e + 4, 4), VMM_IOAPIC_ADDR);
			ck_assert_uint_eq(rd(e + 8, 4), 0);
		} else if (n == ncpus + 1) {
			ck_assert_mem_eq(e,
					 "\x02\x0a\x00\x00\x02\x00\x00\x00"
					 "\x05\x00",
					 10);
		} else {
			ck_assert_mem_eq(e, "\x04\x06\xff\x05\x00\x01", 6);
		}
		o += e[1];
		n++;
	}
	ck_assert_uint_eq(o, len);
	ck_assert_uint_eq(lapics, ncpus);
	ck_assert_uint_eq(n, ncpus + 3);
}

static void check_dsdt(const uint8_t *d, size_t len, const struct cfg *c)
{
	static const uint8_t s5[] = {0x08, '_',	 'S',  '5',  '_',  0x12, 0x07,
				     0x04, 0x0a, 0x05, 0x00, 0x00, 0x00};
	uint8_t crs[26];

	for (unsigned i = 0; i < c->ndev; i++) {
		uint32_t base = VMM_VIRTIO_BASE + i * VMM_VIRTIO_SIZE;
		char name[16];

		/* Name (_CRS, Buffer (0x17) {Memory32Fixed, Interrupt, End}) */
		memcpy(crs, "_CRS\x11\x1a\x0a\x17\x86\x09\x00\x01", 12);
		crs[12] = (uint8_t)base;
		crs[13] = (uint8_t)(base >> 8);
		crs[14] = (uint8_t)(base >> 16);
		crs[15] = (uint8_t)(base >> 24);
		memcpy(crs + 16, "\x00\x02\x00\x00\x89\x06\x00\x03\x01", 9);
		crs[25] = (uint8_t)(VMM_VIRTIO_IRQ_BASE + i);
		ck_assert_msg(memmem(d, len, crs, sizeof(crs)),
			      "device %u: _CRS bytes missing", i);
		snprintf(name, sizeof(name), "VR%02u", i);
		ck_assert_msg(memmem(d, len, name, 4), "Device VR%02u missing",
			      i);
	}
	ck_assert_ptr_null(memmem(d, len, "VR08", 4));
	ck_assert_ptr_nonnull(
	    memmem(d, len, "\x08_HID\x0c\x41\xd0\x05\x01", 10));
	ck_assert_ptr_nonnull(
	    memmem(d, len, "\x47\x01\xf8\x03\xf8\x03\x01\x08", 8));
	/* \_S5_ last: Name (_S5_, Package (4) {5, 0, 0, 0}) */
	ck_assert_mem_eq(d + len - sizeof(s5), s5, sizeof(s5));
}

static size_t build(const struct cfg *c)
{
	struct vmm_acpi_mmio dev[VMM_VIRTIO_MAX];
	char err[256] = "";
	size_t n;

	fill_devs(dev, c->ndev);
	memset(tbuf, 0xaa, sizeof(tbuf));
	n = vmm_acpi_build(tbuf, sizeof(tbuf), GPA, c->ncpus, dev, c->ndev, err,
			   sizeof(err));
	ck_assert_msg(n > 0, "build failed: %s", err);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(tbuf[n], 0xaa); /* nothing written past the end */
	return n;
}

START_TEST(test_tables)
{
	const struct cfg *c = &cfgs[_i];
	struct walk w;
	size_t n = build(c);

	walk(&w, n);
	check_fadt(tbuf + w.fadt, w.fadt_len);
	check_madt(tbuf + w.madt, w.madt_len, c->ncpus);
	check_dsdt(tbuf + w.dsdt + 36, w.dsdt_len - 36, c);
}
END_TEST

/* Sizes from the layout: RSDP, XSDT, FADT at 0x70, MADT at 0x190, DSDT. */
START_TEST(test_sizes)
{
	static const struct cfg c = {2, 3};

	/* MADT 88 bytes -> DSDT at 0x1f0; DSDT 36 + 252 AML bytes (iasl
	 * compiles the disassembly back to the same 288). */
	ck_assert_uint_eq(build(&c), 0x1f0 + 288);
}
END_TEST

/* Extremes that must be accepted. */
START_TEST(test_limits_ok)
{
	struct vmm_acpi_mmio dev[VMM_VIRTIO_MAX];
	char err[256] = "";
	struct walk w;
	size_t n;

	fill_devs(dev, VMM_VIRTIO_MAX);
	dev[7].base = 0xfffffe00; /* ends exactly at 4 GiB */
	dev[7].irq = 23;
	dev[6].irq = 0;
	n = vmm_acpi_build(tbuf, sizeof(tbuf), GPA, 255, dev, VMM_VIRTIO_MAX,
			   err, sizeof(err));
	ck_assert_msg(n > 0, "%s", err);
	walk(&w, n);
	check_madt(tbuf + w.madt, w.madt_len, 255);
	ck_assert_ptr_nonnull(memmem(tbuf + w.dsdt, w.dsdt_len,
				     "\x86\x09\x00\x01\x00\xfe\xff\xff", 8));
	/* The exact size works, one byte less does not. */
	ck_assert_uint_eq(
	    vmm_acpi_build(tbuf, n, GPA, 255, dev, 8, err, sizeof(err)), n);
	ck_assert_uint_eq(
	    vmm_acpi_build(tbuf, n - 1, GPA, 255, dev, 8, err, sizeof(err)), 0);
	{
		char want[128];

		snprintf(want, sizeof(want),
			 "acpi: tables need %zu bytes, buffer has %zu", n,
			 n - 1);
		ck_assert_str_eq(err, want);
	}
}
END_TEST

enum { F_NONE, F_BASE, F_SIZE, F_IRQ, F_NODEV, F_NOBUF };

static const struct {
	unsigned ncpus, ndev;
	int field;
	unsigned idx;
	uint64_t val, val2;
	uint64_t gpa;
	size_t buflen;
	const char *msg;
} err_rows[] = {
    {0, 1, F_NONE, 0, 0, 0, GPA, BUFSZ, "acpi: 0 vCPUs, need 1..255"},
    {256, 1, F_NONE, 0, 0, 0, GPA, BUFSZ, "acpi: 256 vCPUs, need 1..255"},
    {1, 9, F_NONE, 0, 0, 0, GPA, BUFSZ,
     "acpi: 9 virtio-mmio devices, at most 8"},
    {1, 3, F_BASE, 1, 0xd0000202, 0x200, GPA, BUFSZ,
     "acpi: device 1: base 0xd0000202 not 4-aligned"},
    {1, 3, F_SIZE, 2, 0, 0, GPA, BUFSZ,
     "acpi: device 2: size 0x0 not a non-zero multiple of 4"},
    {1, 3, F_SIZE, 2, 0x1ff, 0, GPA, BUFSZ,
     "acpi: device 2: size 0x1ff not a non-zero multiple of 4"},
    {1, 3, F_BASE, 0, 0xfffffe00, 0x400, GPA, BUFSZ,
     "acpi: device 0: window 0xfffffe00+0x400 not inside 32-bit space"},
    {1, 3, F_BASE, 0, 0x100000000ull, 0x200, GPA, BUFSZ,
     "acpi: device 0: window 0x100000000+0x200 not inside 32-bit space"},
    {1, 3, F_BASE, 0, 0xfffffffffffffe00ull, 0x200, GPA, BUFSZ,
     "acpi: device 0: window 0xfffffffffffffe00+0x200 not inside 32-bit "
     "space"},
    {1, 3, F_IRQ, 1, 24, 0, GPA, BUFSZ,
     "acpi: device 1: irq 24 above 23 (IOAPIC pins 0..23)"},
    {1, 3, F_IRQ, 2, 0xffffffffu, 0, GPA, BUFSZ,
     "acpi: device 2: irq 4294967295 above 23 (IOAPIC pins 0..23)"},
    {1, 0, F_NONE, 0, 0, 0, GPA + 8, BUFSZ,
     "acpi: RSDP address 0xe0008 not 16-aligned"},
    {2, 3, F_NONE, 0, 0, 0, GPA, 0x1f0 + 288 - 1,
     "acpi: tables need 784 bytes, buffer has 783"},
    {2, 3, F_NONE, 0, 0, 0, GPA, 36,
     "acpi: tables need 784 bytes, buffer has 36"},
    {1, 2, F_NODEV, 0, 0, 0, GPA, BUFSZ, "acpi: 2 devices but no device array"},
    {1, 0, F_NOBUF, 0, 0, 0, GPA, BUFSZ, "acpi: no buffer"},
};

START_TEST(test_errors)
{
	struct vmm_acpi_mmio dev[VMM_VIRTIO_MAX + 1];
	char err[256];
	const struct vmm_acpi_mmio *dp = dev;
	void *bp = tbuf;
	size_t n;

	for (size_t i = 0; i < sizeof(err_rows) / sizeof(err_rows[0]); i++) {
		fill_devs(dev, VMM_VIRTIO_MAX + 1);
		dp = dev;
		bp = tbuf;
		switch (err_rows[i].field) {
		case F_BASE:
			dev[err_rows[i].idx].base = err_rows[i].val;
			dev[err_rows[i].idx].size = (uint32_t)err_rows[i].val2;
			break;
		case F_SIZE:
			dev[err_rows[i].idx].size = (uint32_t)err_rows[i].val;
			break;
		case F_IRQ:
			dev[err_rows[i].idx].irq = (uint32_t)err_rows[i].val;
			break;
		case F_NODEV:
			dp = NULL;
			break;
		case F_NOBUF:
			bp = NULL;
			break;
		default:
			break;
		}
		memset(tbuf, 0xaa, sizeof(tbuf));
		strcpy(err, "untouched");
		n = vmm_acpi_build(bp, err_rows[i].buflen, err_rows[i].gpa,
				   err_rows[i].ncpus, dp, err_rows[i].ndev, err,
				   sizeof(err));
		ck_assert_msg(n == 0, "row %zu: returned %zu", i, n);
		ck_assert_msg(strcmp(err, err_rows[i].msg) == 0,
			      "row %zu: \"%s\", want \"%s\"", i, err,
			      err_rows[i].msg);
		ck_assert_msg(tbuf[0] == 0xaa && tbuf[100] == 0xaa,
			      "row %zu: buffer written on error", i);
		/* Without an error buffer it fails the same, quietly. */
		ck_assert_uint_eq(vmm_acpi_build(bp, err_rows[i].buflen,
						 err_rows[i].gpa,
						 err_rows[i].ncpus, dp,
						 err_rows[i].ndev, NULL, 0),
				  0);
	}
}
END_TEST

START_TEST(test_error_truncated)
{
	char err[8];

	memset(err, 'x', sizeof(err));
	ck_assert_uint_eq(
	    vmm_acpi_build(tbuf, sizeof(tbuf), GPA, 0, NULL, 0, err, 8), 0);
	ck_assert_str_eq(err, "acpi: 0");
}
END_TEST

/* ---- iasl -d ---- */

static void need_iasl(void)
{
	ck_assert_msg(system("command -v iasl >/dev/null 2>&1") == 0,
		      "iasl not found in PATH: install acpica-tools "
		      "(make deps installs it)");
}

static void write_file(const char *dir, const char *name, const void *p,
		       size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	ck_assert_msg(f, "%s: %s", path, strerror(errno));
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
}

static char *read_file(const char *dir, const char *name, size_t *len)
{
	char path[512];
	char *s;
	long n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	ck_assert_msg(f, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	s = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = 0;
	fclose(f);
	if (len)
		*len = (size_t)n;
	return s;
}

/* Run iasl @args in @dir; fail with its output unless it exits 0. */
static void iasl(const char *dir, const char *args)
{
	char cmd[1024];
	char *log;
	int st;

	snprintf(cmd, sizeof(cmd), "cd '%s' && iasl %s > iasl.log 2>&1", dir,
		 args);
	st = system(cmd);
	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return;
	log = read_file(dir, "iasl.log", NULL);
	ck_abort_msg("iasl %s in %s: status 0x%x\n%s", args, dir, st, log);
}

static void has(const char *dsl, const char *what, const char *file)
{
	ck_assert_msg(strstr(dsl, what), "%s lacks:\n%s", file, what);
}

static void check_dsdt_dsl(const char *dsl, const struct cfg *c)
{
	char want[1024], uid[16];

	for (unsigned i = 0; i < c->ndev; i++) {
		if (i < 2)
			snprintf(uid, sizeof(uid), "%s", i ? "One" : "Zero");
		else
			snprintf(uid, sizeof(uid), "0x%02X", i);
		snprintf(
		    want, sizeof(want),
		    "        Device (VR%02u)\n"
		    "        {\n"
		    "            Name (_HID, \"LNRO0005\")  // _HID: Hardware "
		    "ID\n"
		    "            Name (_UID, %s)  // _UID: Unique ID\n"
		    "            Name (_CRS, ResourceTemplate ()  // _CRS: "
		    "Current Resource Settings\n"
		    "            {\n"
		    "                Memory32Fixed (ReadWrite,\n"
		    "                    0x%08X,         // Address Base\n"
		    "                    0x00000200,         // Address "
		    "Length\n"
		    "                    )\n"
		    "                Interrupt (ResourceConsumer, Edge, "
		    "ActiveHigh, Exclusive, ,, )\n"
		    "                {\n"
		    "                    0x%08X,\n"
		    "                }\n"
		    "            })\n"
		    "        }\n",
		    i, uid, VMM_VIRTIO_BASE + i * VMM_VIRTIO_SIZE,
		    VMM_VIRTIO_IRQ_BASE + i);
		has(dsl, want, "dsdt.dsl");
	}
	ck_assert_ptr_null(strstr(dsl, "Device (VR08)"));
	has(dsl,
	    "DefinitionBlock (\"\", \"DSDT\", 2, \"LIBVMM\", "
	    "\"VMMDEMO \", 0x00000001)",
	    "dsdt.dsl");
	has(dsl, "    Scope (_SB)\n", "dsdt.dsl");
	has(dsl,
	    "        Device (COM1)\n"
	    "        {\n"
	    "            Name (_HID, EisaId (\"PNP0501\") /* 16550A-compatible "
	    "COM Serial Port */)  // _HID: Hardware ID\n"
	    "            Name (_UID, Zero)  // _UID: Unique ID\n",
	    "dsdt.dsl");
	has(dsl,
	    "                IO (Decode16,\n"
	    "                    0x03F8,             // Range Minimum\n"
	    "                    0x03F8,             // Range Maximum\n"
	    "                    0x01,               // Alignment\n"
	    "                    0x08,               // Length\n"
	    "                    )\n"
	    "                Interrupt (ResourceConsumer, Edge, ActiveHigh, "
	    "Exclusive, ,, )\n"
	    "                {\n"
	    "                    0x00000004,\n"
	    "                }\n",
	    "dsdt.dsl");
	has(dsl,
	    "    Name (_S5, Package (0x04)  // _S5_: S5 System State\n"
	    "    {\n"
	    "        0x05, \n"
	    "        Zero, \n"
	    "        Zero, \n"
	    "        Zero\n"
	    "    })\n",
	    "dsdt.dsl");
}

static void check_fadt_dsl(const char *dsl)
{
	static const char *const want[] = {
	    "Signature : \"FACP\"",
	    "Revision : 06",
	    "DSDT Address : 000E0",
	    "PM Profile : 00 [Unspecified]",
	    "VGA Not Present (V4) : 1",
	    "CMOS RTC Not Present (V5) : 1",
	    "8042 Present on ports 60/64 (V2) : 0",
	    "Flags (decoded below) : 00100400",
	    "Reset Register Supported (V2) : 1",
	    "Hardware Reduced (V5) : 1",
	    "Address : 0000000000000602",
	    "Value to cause reset : 01",
	    "FADT Minor Revision : 05",
	    "Address : 0000000000000600",
	    "Address : 0000000000000601",
	    "Hypervisor ID : 4F494D4D5642494C", /* "LIBVMMIO" as a u64 */
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		has(dsl, want[i], "facp.dsl");
}

static void check_apic_dsl(const char *dsl, unsigned ncpus)
{
	char want[128];
	const char *p = dsl;
	unsigned n = 0;

	while ((p = strstr(p, "[Processor Local APIC]")) != NULL) {
		n++;
		p++;
	}
	ck_assert_uint_eq(n, ncpus);
	has(dsl, "Local Apic Address : FEE00000", "apic.dsl");
	has(dsl, "PC-AT Compatibility : 0", "apic.dsl");
	snprintf(want, sizeof(want), "Local Apic ID : %02X", ncpus - 1);
	has(dsl, want, "apic.dsl");
	snprintf(want, sizeof(want), "I/O Apic ID : %02X", ncpus);
	has(dsl, want, "apic.dsl");
	has(dsl, "Address : FEC00000", "apic.dsl");
	has(dsl, "[Interrupt Source Override]", "apic.dsl");
	has(dsl, "[Local APIC NMI]", "apic.dsl");
	has(dsl, "Interrupt Input LINT : 01", "apic.dsl");
}

/* Lines of an iasl data-table dump, with the column padding squeezed:
 * "[024h 0036   4]   Local Apic Address : FEE00000" -> "Local Apic
 * Address : FEE00000", so the checks do not depend on iasl's widths. */
static void squeeze(char *s)
{
	char *w = s;

	for (char *r = s; *r;) {
		if (*r == '[' && r[1] && strchr(r, ']') &&
		    (r == s || r[-1] == '\n')) {
			char *e = strchr(r, ']');

			if ((size_t)(e - r) == 14) {
				r = e + 1;
				continue;
			}
		}
		if (*r == ' ' && (w == s || w[-1] == ' ' || w[-1] == '\n')) {
			r++;
			continue;
		}
		*w++ = *r++;
	}
	*w = 0;
}

/*
 * Scratch files live under one directory per test case, made and removed
 * by an unchecked fixture: it runs in the parent process, so the files go
 * even when a forked test dies on a failed assertion.
 */
static char tmproot[64];

static void iasl_setup(void)
{
	snprintf(tmproot, sizeof(tmproot), "/tmp/vmm-acpi-XXXXXX");
	if (!mkdtemp(tmproot))
		tmproot[0] = 0; /* the tests then fail naming the error */
}

static void iasl_teardown(void)
{
	char cmd[128];

	if (!tmproot[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmproot);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmproot);
	tmproot[0] = 0;
}

static const char *make_tmpdir(char *dir, size_t len, int i)
{
	ck_assert_msg(tmproot[0], "no scratch directory under /tmp");
	snprintf(dir, len, "%s/cfg%d", tmproot, i);
	ck_assert_msg(mkdir(dir, 0700) == 0, "mkdir %s: %s", dir,
		      strerror(errno));
	return dir;
}

START_TEST(test_iasl)
{
	const struct cfg *c = &cfgs[_i];
	struct walk w;
	size_t n = build(c), aml_len;
	char dir[128], *dsl, *aml;

	need_iasl();
	walk(&w, n);
	make_tmpdir(dir, sizeof(dir), _i);
	write_file(dir, "xsdt.dat", tbuf + w.xsdt, w.xsdt_len);
	write_file(dir, "facp.dat", tbuf + w.fadt, w.fadt_len);
	write_file(dir, "apic.dat", tbuf + w.madt, w.madt_len);
	write_file(dir, "dsdt.dat", tbuf + w.dsdt, w.dsdt_len);
	/* iasl 2020 cannot read a bare RSDP ("does not contain a valid ACPI
	 * table"); walk() checks it instead. */
	iasl(dir, "-d dsdt.dat");
	iasl(dir, "-d facp.dat");
	iasl(dir, "-d apic.dat");
	iasl(dir, "-d xsdt.dat");

	dsl = read_file(dir, "dsdt.dsl", NULL);
	check_dsdt_dsl(dsl, c);
	free(dsl);
	dsl = read_file(dir, "facp.dsl", NULL);
	squeeze(dsl);
	check_fadt_dsl(dsl);
	free(dsl);
	dsl = read_file(dir, "apic.dsl", NULL);
	squeeze(dsl);
	check_apic_dsl(dsl, c->ncpus);
	free(dsl);
	dsl = read_file(dir, "xsdt.dsl", NULL);
	squeeze(dsl);
	has(dsl, "ACPI Table Address 0 : 00000000000E0070", "xsdt.dsl");
	has(dsl, "ACPI Table Address 1 : 00000000000E0190", "xsdt.dsl");
	free(dsl);

	/* iasl compiles the disassembly back to our AML, byte for byte
	 * (the header differs: iasl puts its own compiler id there). */
	iasl(dir, "-p re dsdt.dsl");
	aml = read_file(dir, "re.aml", &aml_len);
	ck_assert_uint_eq(aml_len, w.dsdt_len);
	ck_assert_mem_eq(aml + 36, tbuf + w.dsdt + 36, w.dsdt_len - 36);
	free(aml);
}
END_TEST

Suite *acpi_suite(void)
{
	Suite *s = suite_create("acpi");
	TCase *tc = tcase_create("aml");

	tcase_add_test(tc, test_pkglen_encode);
	tcase_add_test(tc, test_pkg_wrap);
	tcase_add_test(tc, test_pkg_nested);
	tcase_add_test(tc, test_integer);
	tcase_add_test(tc, test_namestring);
	tcase_add_test(tc, test_string_name_device);
	tcase_add_test(tc, test_eisaid);
	tcase_add_test(tc, test_resources);
	tcase_add_test(tc, test_buffer);
	tcase_add_test(tc, test_overflow_sticky);
	suite_add_tcase(s, tc);

	tc = tcase_create("tables");
	tcase_add_loop_test(tc, test_tables, 0, sizeof(cfgs) / sizeof(cfgs[0]));
	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_limits_ok);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_error_truncated);
	suite_add_tcase(s, tc);

	tc = tcase_create("iasl");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, iasl_setup, iasl_teardown);
	tcase_add_loop_test(tc, test_iasl, 0, sizeof(cfgs) / sizeof(cfgs[0]));
	suite_add_tcase(s, tc);
	return s;
}
