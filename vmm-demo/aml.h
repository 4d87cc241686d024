/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vmm-demo: a small AML encoder (ACPI 6.5 §20.2), just enough for the
 * DSDT: name strings, PkgLength, integers, strings, Name, Scope, Device,
 * Package, Buffer and ResourceTemplate descriptors (§6.4).
 *
 * Output goes into a caller-provided, bounded buffer. Nothing is allocated.
 * Errors are sticky: once the buffer is full (overflow) or an argument is
 * invalid (a bad name segment, a PkgLength above 2^28-1), later calls do
 * nothing and the caller checks the flags once at the end. Not thread-safe
 * per struct aml; separate structs are independent.
 */
#ifndef VMM_AML_H
#define VMM_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow; /* an append did not fit in cap */
	bool invalid;  /* an argument could not be encoded */
};

/* Start encoding into @buf (@cap bytes). */
void aml_init(struct aml *a, void *buf, size_t cap);
/* True when nothing went wrong so far. */
bool aml_ok(const struct aml *a);

void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);

/*
 * Encode the PkgLength @value (which counts its own bytes, §20.2.4) into
 * @out. Returns 1..4 bytes written, or 0 when @value > 2^28 - 1.
 */
size_t aml_pkglen_encode(uint8_t out[4], size_t value);

/*
 * Open a PkgLength-prefixed body at the current position; aml_pkg_end()
 * inserts the PkgLength in front of everything emitted since, choosing
 * the shortest form that holds body plus its own bytes. Nesting works
 * (close inner bodies first). Returns the mark to pass to aml_pkg_end().
 */
size_t aml_pkg_begin(struct aml *a);
void aml_pkg_end(struct aml *a, size_t mark);

/*
 * Integer with the smallest encoding: ZeroOp, OneOp, BytePrefix,
 * WordPrefix, DWordPrefix or QWordPrefix (needs a revision 2 DSDT).
 */
void aml_integer(struct aml *a, uint64_t v);
/* DWordPrefix always (an EISA id is expected as a DWord). */
void aml_dword(struct aml *a, uint32_t v);
/* String: ASCII 0x01..0x7f only, else invalid. */
void aml_string(struct aml *a, const char *s);

/*
 * NameString: optional leading '\\' (root), then one or more segments
 * separated by '.'. A segment is 1..4 characters [A-Z_][A-Z0-9_]*,
 * padded with '_' to 4. Otherwise invalid.
 */
void aml_namestring(struct aml *a, const char *path);

/* Name (@name, <data object>): emits NameOp + NameString; the caller
 * emits the data object next. */
void aml_name(struct aml *a, const char *name);

/* Scope (@name) { ... } / Device (@name) { ... }: close with aml_pkg_end. */
size_t aml_scope_begin(struct aml *a, const char *name);
size_t aml_device_begin(struct aml *a, const char *name);
/* Package (@nelem) { ... }: emit @nelem data objects, then aml_pkg_end. */
size_t aml_package_begin(struct aml *a, uint8_t nelem);
/* Buffer (@n) { bytes }. */
void aml_buffer(struct aml *a, const void *bytes, size_t n);

/*
 * EISA id "PNP0501" -> 0x0105d041 (three letters A-Z, four upper-case hex
 * digits). Returns 0 and the value in @out, or -1 for a malformed id.
 */
int aml_eisaid(const char *id, uint32_t *out);

/*
 * Resource descriptors (§6.4), appended to a struct aml that holds the
 * ResourceTemplate bytes; pass those to aml_buffer() after aml_res_end().
 */
void aml_res_mem32fixed(struct aml *r, bool writable, uint32_t base,
			uint32_t len);
void aml_res_io16(struct aml *r, uint16_t min, uint16_t max, uint8_t align,
		  uint8_t len);
/* Extended Interrupt descriptor with one interrupt number, no source. */
void aml_res_interrupt(struct aml *r, bool consumer, bool edge, bool active_low,
		       bool shared, uint32_t irq);
/* End Tag with checksum 0 ("treat as correct", §6.4.2.9). */
void aml_res_end(struct aml *r);

#endif
