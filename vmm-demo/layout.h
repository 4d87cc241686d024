/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vmm-demo: the guest-physical layout every part agrees on (loader, ACPI
 * tables, KVM setup, the test guest). Plain constants only, so the
 * freestanding test guest can include it too.
 *
 *   0x000500  GDT (null, 32-bit code 0x08 for PVH only, 64-bit code 0x10,
 *             data 0x18)
 *   0x006000  PVH boot only: struct hvm_start_info, at 0x006040 the module
 *             list (the initrd), at 0x006080 the memory map (the e820
 *             entries of the zero page, up to VMM_PVH_MEMMAP_MAX)
 *   0x007000  zero page (struct boot_params)
 *   0x009000  PML4, 0x00a000 PDPT, 0x00b000.. 4 PDs: 0..4 GiB identity
 *             mapped with 2 MiB pages (the MMIO hole included)
 *   0x020000  kernel command line (up to VMM_CMDLINE_MAX bytes)
 *   0x09fc00  EBDA .. 0x100000 reserved; ACPI tables at 0x0e0000
 *   0x100000  kernel (protected-mode part of a bzImage, or ELF segments)
 *   RAM       [0, min(size, 3 GiB)) and, above 3 GiB of RAM, [4 GiB, ..)
 *   MMIO hole [3 GiB, 4 GiB): virtio-mmio windows, IOAPIC, LAPIC
 */
#ifndef VMM_LAYOUT_H
#define VMM_LAYOUT_H

#define VMM_GDT_ADDR 0x500
#define VMM_PVH_INFO_ADDR 0x6000
#define VMM_PVH_MODLIST_ADDR 0x6040
#define VMM_PVH_MEMMAP_ADDR 0x6080
#define VMM_PVH_MEMMAP_MAX 8
#define VMM_BOOT_PARAMS_ADDR 0x7000
#define VMM_PML4_ADDR 0x9000
#define VMM_PDPT_ADDR 0xa000
#define VMM_PD_ADDR 0xb000	   /* 4 pages */
#define VMM_BOOT_STACK_ADDR 0x8ff0 /* initial rsp, below the PML4 */
#define VMM_CMDLINE_ADDR 0x20000
#define VMM_CMDLINE_MAX 0x10000
#define VMM_EBDA_ADDR 0x9fc00
#define VMM_ACPI_ADDR 0xe0000 /* RSDP here; tables follow up to 1 MiB */
#define VMM_ACPI_END 0x100000
#define VMM_KERNEL_ADDR 0x100000

#define VMM_LOW_RAM_MAX 0xc0000000ull	 /* 3 GiB */
#define VMM_HIGH_RAM_ADDR 0x100000000ull /* 4 GiB */

/* GDT selectors loaded for 64-bit entry (32-bit code: PVH entry). */
#define VMM_SEL_CODE32 0x08
#define VMM_SEL_CODE64 0x10
#define VMM_SEL_DATA 0x18

/* virtio-mmio windows: one per device, VMM_VIRTIO_SIZE apart. */
#define VMM_VIRTIO_BASE 0xd0000000u
#define VMM_VIRTIO_SIZE 0x200u
/* IOAPIC pins 16..23: not shared with the 8259s (KVM feeds GSI 0-15 to
 * them too; vmm-demo masks them, but a guest could unmask them). */
#define VMM_VIRTIO_IRQ_BASE 16u
#define VMM_VIRTIO_MAX 8u

#define VMM_IOAPIC_ADDR 0xfec00000u
#define VMM_LAPIC_ADDR 0xfee00000u

/* 8250 UART (COM1) for the kernel console. */
#define VMM_UART_PORT 0x3f8
#define VMM_UART_IRQ 4

/*
 * ACPI hardware-reduced registers, 8-bit I/O ports named in the FADT.
 * Sleep control: SLP_EN (bit 5) with SLP_TYP (bits 2..4) == VMM_SLP_TYP_S5
 * powers off. Reset: writing VMM_RESET_VALUE reboots (vmm-demo exits 0).
 */
#define VMM_SLEEP_CTL_PORT 0x600
#define VMM_SLEEP_STS_PORT 0x601
#define VMM_RESET_PORT 0x602
#define VMM_RESET_VALUE 0x1
#define VMM_SLP_TYP_S5 5
#define VMM_SLP_EN 0x20

/* Boot-time marker: the first guest write here is timed (any value). */
#define VMM_MARKER_PORT 0x3f0

#endif
