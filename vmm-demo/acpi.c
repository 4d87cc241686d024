/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vmm-demo: ACPI tables for a hardware-reduced x86 microVM (ACPI 6.5):
 * RSDP -> XSDT -> FADT (-> DSDT), MADT. Section numbers are ACPI 6.5.
 *
 * Layout from @gpa, each table 16-byte aligned:
 *   RSDP (36) | XSDT (36 + 2*8) | FADT (276) | MADT | DSDT
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "acpi.h"
#include "aml.h"
#include "layout.h"

#define OEM_ID "LIBVMM"
#define OEM_TABLE_ID "VMMDEMO "
#define OEM_REVISION 1
#define CREATOR_ID "LVMM"
#define CREATOR_REVISION 1
#define HYPERVISOR_ID "LIBVMMIO"

#define HDR_LEN 36
#define RSDP_LEN 36
#define XSDT_LEN (HDR_LEN + 2 * 8)
#define FADT_LEN 276 /* revision 6, §5.2.9 */
#define MADT_LAPIC_LEN 8
#define MADT_IOAPIC_LEN 12
#define MADT_ISO_LEN 10
#define MADT_NMI_LEN 6
#define MADT_FIXED_LEN                                                         \
	(HDR_LEN + 8 + MADT_IOAPIC_LEN + MADT_ISO_LEN + MADT_NMI_LEN)

#define RSDP_OFF 0u
#define XSDT_OFF 0x30u
#define FADT_OFF 0x70u
#define MADT_OFF 0x190u

/* FADT fields (byte offsets, §5.2.9 Table 5.9). */
#define FADT_DSDT 40
#define FADT_PM_PROFILE 45
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_MINOR 131
#define FADT_X_DSDT 140
#define FADT_SLEEP_CONTROL 244
#define FADT_SLEEP_STATUS 256
#define FADT_HYPERVISOR_ID 268

#define FADT_F_RESET_REG_SUP (1u << 10)
#define FADT_F_HW_REDUCED_ACPI (1u << 20)
/*
 * IAPC_BOOT_ARCH (§5.2.9.3): LEGACY_DEVICES and 8042 clear (Linux then
 * skips PnP BIOS and the i8042 probe), VGA Not Present and CMOS RTC Not
 * Present set: vmm-demo emulates neither, and Linux then neither probes
 * VGA nor registers the rtc_cmos platform device.
 */
#define IAPC_VGA_NOT_PRESENT (1u << 2)
#define IAPC_CMOS_RTC_NOT_PRESENT (1u << 5)
#define PM_PROFILE_UNSPECIFIED 0

#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1

/*
 * MADT flags: PCAT_COMPAT clear. With HW_REDUCED_ACPI set, x86 Linux
 * replaces the 8259 by null_legacy_pic and never programs or masks it,
 * whatever this flag says; the KVM in-kernel 8259 therefore has to be
 * masked by vmm-demo itself (it stays at vector base 0, unmasked, with
 * LVT0 in ExtINT on the BSP). We describe an APIC-only machine.
 */
#define MADT_FLAGS 0u
#define MADT_TYPE_LAPIC 0
#define MADT_TYPE_IOAPIC 1
#define MADT_TYPE_ISO 2
#define MADT_TYPE_LAPIC_NMI 4
#define MADT_LAPIC_ENABLED 1u
#define MPS_INTI_EDGE_HIGH 0x5u /* polarity 01 high, trigger 01 edge */
#define NMI_ALL_CPUS 0xff
#define NMI_LINT1 1

#define IOAPIC_PINS 24u
#define DSDT_MAX 4096u /* generous: 8 devices + COM1 need about 600 */

static void fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static size_t align16(size_t v)
{
	return (v + 15) & ~(size_t)15;
}

/* NOLINTBEGIN(bugprone-not-null-terminated-result): ACPI signatures and
 * ids are fixed-width fields without a NUL. */
static void header(uint8_t *t, const char *sig, size_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put(t + 4, len, 4);
	t[8] = rev;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	put(t + 24, OEM_REVISION, 4);
	memcpy(t + 28, CREATOR_ID, 4);
	put(t + 32, CREATOR_REVISION, 4);
}

/* Checksum byte at offset 9 makes the whole table sum to 0. */
static void seal(uint8_t *t, size_t len)
{
	t[9] = 0;
	t[9] = (uint8_t)-sum(t, len);
}

static void rsdp(uint8_t *p, uint64_t xsdt)
{
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, OEM_ID, 6);
	p[15] = 2;	   /* revision: ACPI 2.0+ layout */
	put(p + 16, 0, 4); /* RsdtAddress: none, XSDT only */
	put(p + 20, RSDP_LEN, 4);
	put(p + 24, xsdt, 8);
	p[8] = (uint8_t)-sum(p, 20);	    /* over the ACPI 1.0 part */
	p[32] = (uint8_t)-sum(p, RSDP_LEN); /* extended checksum */
}
/* NOLINTEND(bugprone-not-null-terminated-result) */

static void xsdt(uint8_t *t, uint64_t fadt, uint64_t madt)
{
	header(t, "XSDT", XSDT_LEN, 1);
	put(t + HDR_LEN, fadt, 8);
	put(t + HDR_LEN + 8, madt, 8);
	seal(t, XSDT_LEN);
}

/* Generic Address Structure (§5.2.3.2): one byte in System I/O space. */
static void gas_io8(uint8_t *g, uint16_t port)
{
	g[0] = GAS_SYSTEM_IO;
	g[1] = 8; /* register bit width */
	g[2] = 0; /* bit offset */
	g[3] = GAS_ACCESS_BYTE;
	put(g + 4, port, 8);
}

static void fadt(uint8_t *t, uint64_t dsdt)
{
	header(t, "FACP", FADT_LEN, 6);
	/* The 32-bit DSDT field only where the address fits; X_DSDT always. */
	put(t + FADT_DSDT, dsdt <= 0xffffffffu ? dsdt : 0, 4);
	t[FADT_PM_PROFILE] = PM_PROFILE_UNSPECIFIED;
	put(t + FADT_IAPC_BOOT_ARCH,
	    IAPC_VGA_NOT_PRESENT | IAPC_CMOS_RTC_NOT_PRESENT, 2);
	put(t + FADT_FLAGS, FADT_F_HW_REDUCED_ACPI | FADT_F_RESET_REG_SUP, 4);
	gas_io8(t + FADT_RESET_REG, VMM_RESET_PORT);
	t[FADT_RESET_VALUE] = VMM_RESET_VALUE;
	t[FADT_MINOR] = 5; /* ACPI 6.5 */
	put(t + FADT_X_DSDT, dsdt, 8);
	gas_io8(t + FADT_SLEEP_CONTROL, VMM_SLEEP_CTL_PORT);
	gas_io8(t + FADT_SLEEP_STATUS, VMM_SLEEP_STS_PORT);
	memcpy(t + FADT_HYPERVISOR_ID, HYPERVISOR_ID, 8);
	seal(t, FADT_LEN);
}

static size_t madt_len(unsigned ncpus)
{
	return MADT_FIXED_LEN + (size_t)ncpus * MADT_LAPIC_LEN;
}

static void madt(uint8_t *t, unsigned ncpus)
{
	size_t len = madt_len(ncpus);
	uint8_t *e = t + HDR_LEN + 8;

	header(t, "APIC", len, 5);
	put(t + HDR_LEN, VMM_LAPIC_ADDR, 4);
	put(t + HDR_LEN + 4, MADT_FLAGS, 4);
	for (unsigned i = 0; i < ncpus; i++, e += MADT_LAPIC_LEN) {
		e[0] = MADT_TYPE_LAPIC;
		e[1] = MADT_LAPIC_LEN;
		e[2] = (uint8_t)i; /* ACPI processor UID */
		e[3] = (uint8_t)i; /* APIC id */
		put(e + 4, MADT_LAPIC_ENABLED, 4);
	}
	/* IOAPIC id ncpus: distinct from every local APIC id. */
	e[0] = MADT_TYPE_IOAPIC;
	e[1] = MADT_IOAPIC_LEN;
	e[2] = (uint8_t)ncpus;
	put(e + 4, VMM_IOAPIC_ADDR, 4);
	put(e + 8, 0, 4); /* GSI base */
	e += MADT_IOAPIC_LEN;
	/* ISA IRQ 0 (PIT) -> GSI 2, as on PC firmware. */
	e[0] = MADT_TYPE_ISO;
	e[1] = MADT_ISO_LEN;
	e[2] = 0; /* bus: ISA */
	e[3] = 0; /* source IRQ */
	put(e + 4, 2, 4);
	put(e + 8, MPS_INTI_EDGE_HIGH, 2);
	e += MADT_ISO_LEN;
	e[0] = MADT_TYPE_LAPIC_NMI;
	e[1] = MADT_NMI_LEN;
	e[2] = NMI_ALL_CPUS;
	put(e + 3, MPS_INTI_EDGE_HIGH, 2);
	e[5] = NMI_LINT1;
	seal(t, len);
}

/* _CRS of one virtio-mmio window: Memory32Fixed + one edge interrupt. */
static void dev_crs(struct aml *a, const struct vmm_acpi_mmio *d)
{
	uint8_t rb[32];
	struct aml r;

	aml_init(&r, rb, sizeof(rb));
	aml_res_mem32fixed(&r, true, (uint32_t)d->base, d->size);
	aml_res_interrupt(&r, true, true, false, false, d->irq);
	aml_res_end(&r);
	if (!aml_ok(&r))
		a->invalid = true;
	aml_name(a, "_CRS");
	aml_buffer(a, rb, r.len);
}

static void dev_virtio(struct aml *a, unsigned i, const struct vmm_acpi_mmio *d)
{
	char name[5];
	size_t m;

	snprintf(name, sizeof(name), "VR%02u", i);
	m = aml_device_begin(a, name);
	aml_name(a, "_HID");
	aml_string(a, "LNRO0005");
	aml_name(a, "_UID");
	aml_integer(a, i);
	dev_crs(a, d);
	aml_pkg_end(a, m);
}

/* COM1, so Linux's PnP layer describes the 8250 it already uses. */
static void dev_com1(struct aml *a)
{
	uint8_t rb[32];
	struct aml r;
	uint32_t hid = 0;
	size_t m;

	aml_init(&r, rb, sizeof(rb));
	aml_res_io16(&r, VMM_UART_PORT, VMM_UART_PORT, 1, 8);
	aml_res_interrupt(&r, true, true, false, false, VMM_UART_IRQ);
	aml_res_end(&r);
	if (!aml_ok(&r) || aml_eisaid("PNP0501", &hid) < 0)
		a->invalid = true;
	m = aml_device_begin(a, "COM1");
	aml_name(a, "_HID");
	aml_dword(a, hid);
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_CRS");
	aml_buffer(a, rb, r.len);
	aml_pkg_end(a, m);
}

/*
 * DSDT body (AML after the header). \_S5_ is Package {SLP_TYP_a,
 * SLP_TYP_b, 0, 0}; ACPICA reads elements 0 and 1 and, on a hardware-
 * reduced machine, writes (SLP_TYP_a << 2) | SLP_EN to SLEEP_CONTROL_REG.
 * Names are relative: the DSDT is loaded at the root scope, and iasl
 * compiles its own disassembly back to the same bytes.
 */
static void dsdt_body(struct aml *a, const struct vmm_acpi_mmio *dev,
		      unsigned ndev)
{
	size_t sb, pkg;

	sb = aml_scope_begin(a, "_SB_");
	for (unsigned i = 0; i < ndev; i++)
		dev_virtio(a, i, &dev[i]);
	dev_com1(a);
	aml_pkg_end(a, sb);
	aml_name(a, "_S5_");
	pkg = aml_package_begin(a, 4);
	aml_integer(a, VMM_SLP_TYP_S5);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_pkg_end(a, pkg);
}

static int check_dev(const struct vmm_acpi_mmio *d, unsigned i, char *err,
		     size_t errlen)
{
	if (d->base % 4) {
		fail(err, errlen, "acpi: device %u: base 0x%llx not 4-aligned",
		     i, (unsigned long long)d->base);
		return -1;
	}
	if (d->size == 0 || d->size % 4) {
		fail(err, errlen,
		     "acpi: device %u: size 0x%x not a non-zero multiple of 4",
		     i, d->size);
		return -1;
	}
	if (d->base > 0x100000000ull - d->size) {
		fail(err, errlen,
		     "acpi: device %u: window 0x%llx+0x%x not inside 32-bit "
		     "space",
		     i, (unsigned long long)d->base, d->size);
		return -1;
	}
	if (d->irq >= IOAPIC_PINS) {
		fail(err, errlen,
		     "acpi: device %u: irq %u above 23 (IOAPIC pins 0..23)", i,
		     d->irq);
		return -1;
	}
	return 0;
}

static int check_args(const void *buf, uint64_t gpa, unsigned ncpus,
		      const struct vmm_acpi_mmio *dev, unsigned ndev, char *err,
		      size_t errlen)
{
	if (!buf) {
		fail(err, errlen, "acpi: no buffer");
		return -1;
	}
	if (gpa % 16) {
		fail(err, errlen, "acpi: RSDP address 0x%llx not 16-aligned",
		     (unsigned long long)gpa);
		return -1;
	}
	if (ncpus == 0 || ncpus > 255) {
		fail(err, errlen, "acpi: %u vCPUs, need 1..255", ncpus);
		return -1;
	}
	if (ndev > VMM_VIRTIO_MAX) {
		fail(err, errlen, "acpi: %u virtio-mmio devices, at most %u",
		     ndev, VMM_VIRTIO_MAX);
		return -1;
	}
	if (ndev && !dev) {
		fail(err, errlen, "acpi: %u devices but no device array", ndev);
		return -1;
	}
	for (unsigned i = 0; i < ndev; i++)
		if (check_dev(&dev[i], i, err, errlen) < 0)
			return -1;
	return 0;
}

size_t vmm_acpi_build(void *buf, size_t buflen, uint64_t gpa, unsigned ncpus,
		      const struct vmm_acpi_mmio *dev, unsigned ndev, char *err,
		      size_t errlen)
{
	uint8_t aml_buf[DSDT_MAX];
	size_t dsdt_off, total;
	struct aml a;
	uint8_t *b = buf;

	if (check_args(buf, gpa, ncpus, dev, ndev, err, errlen) < 0)
		return 0;
	aml_init(&a, aml_buf, sizeof(aml_buf));
	dsdt_body(&a, dev, ndev);
	if (!aml_ok(&a)) {
		fail(err, errlen, "acpi: DSDT AML does not fit in %u bytes",
		     DSDT_MAX);
		return 0;
	}
	dsdt_off = align16(MADT_OFF + madt_len(ncpus));
	total = dsdt_off + HDR_LEN + a.len;
	if (buflen < total) {
		fail(err, errlen, "acpi: tables need %zu bytes, buffer has %zu",
		     total, buflen);
		return 0;
	}
	if (gpa > UINT64_MAX - total) {
		fail(err, errlen, "acpi: tables at 0x%llx wrap around",
		     (unsigned long long)gpa);
		return 0;
	}
	memset(b, 0, total);
	rsdp(b + RSDP_OFF, gpa + XSDT_OFF);
	xsdt(b + XSDT_OFF, gpa + FADT_OFF, gpa + MADT_OFF);
	fadt(b + FADT_OFF, gpa + dsdt_off);
	madt(b + MADT_OFF, ncpus);
	header(b + dsdt_off, "DSDT", HDR_LEN + a.len, 2);
	memcpy(b + dsdt_off + HDR_LEN, aml_buf, a.len);
	seal(b + dsdt_off, HDR_LEN + a.len);
	return total;
}
