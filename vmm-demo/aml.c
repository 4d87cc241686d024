/* SPDX-License-Identifier: Apache-2.0 */
/* vmm-demo: a small AML encoder (see aml.h; ACPI 6.5 §20). */
#include <string.h>

#include "aml.h"

/* Opcodes and prefixes, ACPI 6.5 §20.2. */
#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME 0x08
#define AML_BYTE 0x0a
#define AML_WORD 0x0b
#define AML_DWORD 0x0c
#define AML_STRING 0x0d
#define AML_QWORD 0x0e
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_DUAL_NAME 0x2e
#define AML_MULTI_NAME 0x2f
#define AML_ROOT 0x5c
#define AML_EXT 0x5b
#define AML_EXT_DEVICE 0x82

#define AML_PKGLEN_MAX 0x0fffffffu /* 28 bits, §20.2.4 */
#define AML_MAX_SEGS 255u

/* Resource descriptor tags, §6.4. */
#define RES_IO 0x47  /* small item 0x08, length 7 */
#define RES_END 0x79 /* small item 0x0f, length 1 */
#define RES_MEM32FIXED 0x86
#define RES_EXT_IRQ 0x89

void aml_init(struct aml *a, void *buf, size_t cap)
{
	a->buf = buf;
	a->cap = buf ? cap : 0;
	a->len = 0;
	a->overflow = false;
	a->invalid = false;
}

bool aml_ok(const struct aml *a)
{
	return !a->overflow && !a->invalid;
}

/* Room for @n more bytes? Sets the sticky overflow flag if not. */
static bool room(struct aml *a, size_t n)
{
	if (!aml_ok(a))
		return false;
	if (n > a->cap - a->len) {
		a->overflow = true;
		return false;
	}
	return true;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (!room(a, n))
		return;
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

/* @n little-endian bytes of @v after an optional @prefix, all or nothing. */
static void le_op(struct aml *a, int prefix, uint64_t v, unsigned n)
{
	uint8_t b[9];
	unsigned k = 0;

	if (prefix >= 0)
		b[k++] = (uint8_t)prefix;
	for (unsigned i = 0; i < n; i++)
		b[k++] = (uint8_t)(v >> (8 * i));
	aml_bytes(a, b, k);
}

static void le(struct aml *a, uint64_t v, unsigned n)
{
	le_op(a, -1, v, n);
}

size_t aml_pkglen_encode(uint8_t out[4], size_t value)
{
	size_t n;

	/* One byte holds 6 bits; with 1..3 follow bytes the lead byte keeps
	 * 4 bits (bits 7:6 = follow count) and each follow byte 8 more. */
	if (value <= 0x3f) {
		out[0] = (uint8_t)value;
		return 1;
	}
	if (value <= 0xfff)
		n = 2;
	else if (value <= 0xfffff)
		n = 3;
	else if (value <= AML_PKGLEN_MAX)
		n = 4;
	else
		return 0;
	out[0] = (uint8_t)(((n - 1) << 6) | (value & 0x0f));
	for (size_t i = 1; i < n; i++)
		out[i] = (uint8_t)(value >> (4 + 8 * (i - 1)));
	return n;
}

size_t aml_pkg_begin(struct aml *a)
{
	return a->len;
}

void aml_pkg_end(struct aml *a, size_t mark)
{
	uint8_t enc[4];
	size_t body, n;

	if (!aml_ok(a))
		return;
	if (mark > a->len) {
		a->invalid = true;
		return;
	}
	body = a->len - mark;
	/* The PkgLength counts itself: pick the first form that fits. */
	for (n = 1; n <= 4; n++)
		if (aml_pkglen_encode(enc, body + n) == n)
			break;
	if (n > 4) {
		a->invalid = true;
		return;
	}
	if (!room(a, n))
		return;
	memmove(a->buf + mark + n, a->buf + mark, body);
	memcpy(a->buf + mark, enc, n);
	a->len += n;
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0)
		aml_byte(a, AML_ZERO);
	else if (v == 1)
		aml_byte(a, AML_ONE);
	else if (v <= 0xff)
		le_op(a, AML_BYTE, v, 1);
	else if (v <= 0xffff)
		le_op(a, AML_WORD, v, 2);
	else if (v <= 0xffffffffu)
		le_op(a, AML_DWORD, v, 4);
	else
		le_op(a, AML_QWORD, v, 8);
}

void aml_dword(struct aml *a, uint32_t v)
{
	le_op(a, AML_DWORD, v, 4);
}

void aml_string(struct aml *a, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] > 0x7f) {
			a->invalid = true;
			return;
		}
	}
	aml_byte(a, AML_STRING);
	aml_bytes(a, s, n + 1);
}

static bool seg_char(char c, bool first)
{
	if ((c >= 'A' && c <= 'Z') || c == '_')
		return true;
	return !first && c >= '0' && c <= '9';
}

/* Validate one segment of @n chars and append it padded to 4. */
static void seg(struct aml *a, const char *s, size_t n)
{
	char out[4] = {'_', '_', '_', '_'};

	if (n == 0 || n > 4) {
		a->invalid = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!seg_char(s[i], i == 0)) {
			a->invalid = true;
			return;
		}
		out[i] = s[i];
	}
	aml_bytes(a, out, 4);
}

void aml_namestring(struct aml *a, const char *path)
{
	size_t nseg = 1;
	const char *p;

	if (*path == '\\') {
		aml_byte(a, AML_ROOT);
		path++;
	}
	for (p = path; *p; p++)
		nseg += *p == '.';
	if (nseg > AML_MAX_SEGS) {
		a->invalid = true;
		return;
	}
	if (nseg == 2) {
		aml_byte(a, AML_DUAL_NAME);
	} else if (nseg > 2) {
		aml_byte(a, AML_MULTI_NAME);
		aml_byte(a, (uint8_t)nseg);
	}
	for (p = path;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		seg(a, p, n);
		if (!dot)
			break;
		p = dot + 1;
	}
}

void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME);
	aml_namestring(a, name);
}

size_t aml_scope_begin(struct aml *a, const char *name)
{
	size_t mark;

	aml_byte(a, AML_SCOPE);
	mark = aml_pkg_begin(a);
	aml_namestring(a, name);
	return mark;
}

size_t aml_device_begin(struct aml *a, const char *name)
{
	size_t mark;

	aml_byte(a, AML_EXT);
	aml_byte(a, AML_EXT_DEVICE);
	mark = aml_pkg_begin(a);
	aml_namestring(a, name);
	return mark;
}

size_t aml_package_begin(struct aml *a, uint8_t nelem)
{
	size_t mark;

	aml_byte(a, AML_PACKAGE);
	mark = aml_pkg_begin(a);
	aml_byte(a, nelem);
	return mark;
}

void aml_buffer(struct aml *a, const void *bytes, size_t n)
{
	size_t mark;

	aml_byte(a, AML_BUFFER);
	mark = aml_pkg_begin(a);
	aml_integer(a, n);
	aml_bytes(a, bytes, n);
	aml_pkg_end(a, mark);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int aml_eisaid(const char *id, uint32_t *out)
{
	uint32_t v = 0;

	if (strlen(id) != 7)
		return -1;
	/* Three 5-bit letters (A = 1) then four hex digits, stored big-endian
	 * and read back as a little-endian DWord (§19.6.35 EISAID). */
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return -1;
		v = (v << 5) | (uint32_t)(id[i] - 'A' + 1);
	}
	for (int i = 3; i < 7; i++) {
		int h = hexval(id[i]);

		if (h < 0)
			return -1;
		v = (v << 4) | (uint32_t)h;
	}
	*out = __builtin_bswap32(v);
	return 0;
}

void aml_res_mem32fixed(struct aml *r, bool writable, uint32_t base,
			uint32_t len)
{
	aml_byte(r, RES_MEM32FIXED);
	le(r, 9, 2);
	aml_byte(r, writable ? 1 : 0);
	le(r, base, 4);
	le(r, len, 4);
}

void aml_res_io16(struct aml *r, uint16_t min, uint16_t max, uint8_t align,
		  uint8_t len)
{
	aml_byte(r, RES_IO);
	aml_byte(r, 1); /* 16-bit decode */
	le(r, min, 2);
	le(r, max, 2);
	aml_byte(r, align);
	aml_byte(r, len);
}

void aml_res_interrupt(struct aml *r, bool consumer, bool edge, bool active_low,
		       bool shared, uint32_t irq)
{
	uint8_t flags = (uint8_t)((consumer ? 1 : 0) | (edge ? 2 : 0) |
				  (active_low ? 4 : 0) | (shared ? 8 : 0));

	aml_byte(r, RES_EXT_IRQ);
	le(r, 6, 2); /* flags, count, one DWord */
	aml_byte(r, flags);
	aml_byte(r, 1);
	le(r, irq, 4);
}

void aml_res_end(struct aml *r)
{
	aml_byte(r, RES_END);
	aml_byte(r, 0);
}
