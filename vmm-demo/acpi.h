/* SPDX-License-Identifier: Apache-2.0 */
/* vmm-demo: ACPI tables (RSDP, XSDT, FADT, MADT, DSDT) for the guest. */
#ifndef VMM_ACPI_H
#define VMM_ACPI_H

#include <stddef.h>
#include <stdint.h>

/* One virtio-mmio window described in the DSDT as an LNRO0005 device. */
struct vmm_acpi_mmio {
	uint64_t base;
	uint32_t size;
	uint32_t irq; /* GSI; edge-triggered, active high */
};

/*
 * Build all tables into @buf, which the guest sees at @gpa (the RSDP sits
 * at @gpa, 16-byte aligned; the rest follows). @ncpus local APICs
 * (APIC ids 0..ncpus-1), the IOAPIC at VMM_IOAPIC_ADDR, @ndev LNRO0005
 * devices. Returns bytes used, or 0 with a message in @err if @buflen is
 * too small or an argument is out of range.
 */
size_t vmm_acpi_build(void *buf, size_t buflen, uint64_t gpa, unsigned ncpus,
		      const struct vmm_acpi_mmio *dev, unsigned ndev, char *err,
		      size_t errlen);

#endif
