/* SPDX-License-Identifier: Apache-2.0 */
/* vmm-demo: guest RAM map and the Linux x86 boot-protocol loader. */
#ifndef VMM_LOADER_H
#define VMM_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Guest RAM: up to two regions (below 3 GiB, from 4 GiB). */
struct vmm_ram_region {
	uint64_t gpa;
	uint64_t size;
	void *host;
};
struct vmm_ram {
	struct vmm_ram_region r[2];
	unsigned n;
};

/* Host pointer for [gpa, gpa+len) if it lies inside one region, else NULL. */
void *vmm_gpa(const struct vmm_ram *ram, uint64_t gpa, uint64_t len);

struct vmm_boot_cfg {
	const char *kernel;  /* bzImage or ELF64 (vmlinux or the test guest) */
	const char *initrd;  /* NULL for none */
	const char *cmdline; /* NULL for empty */
	uint64_t rsdp;	     /* guest address of the ACPI RSDP, 0 for none */
};

struct vmm_boot_info {
	uint64_t entry;	      /* 64-bit entry, guest-physical */
	uint64_t boot_params; /* zero page address: rsi at entry */
	uint64_t ap_entry;    /* 64-bit entry for secondary vCPUs, 0 = none */
	const char *format;   /* "bzImage" or "ELF" */
	uint64_t kernel_end;  /* first byte past the loaded image */
	uint64_t initrd_addr, initrd_size;
	/*
	 * PVH boot (an ELF with a Xen PHYS32_ENTRY note): the BSP starts at
	 * pvh_entry in 32-bit protected mode, paging off, ebx =
	 * pvh_start_info; entry is then unused.
	 */
	bool pvh;
	uint64_t pvh_entry, pvh_start_info;
};

/*
 * Load @cfg->kernel (and initrd, command line) into @ram per
 * Documentation/arch/x86/boot.rst, fill the zero page at
 * VMM_BOOT_PARAMS_ADDR (e820 map from @ram, command line, initrd,
 * acpi_rsdp_addr), and write the GDT and identity page tables of
 * layout.h. An ELF kernel with a PVH note also gets struct hvm_start_info
 * at VMM_PVH_INFO_ADDR (same memory map, command line, initrd as module 0,
 * RSDP) and @out->pvh set. Returns 0, or -1 with a message naming the file
 * and the bad value in @err.
 */
int vmm_load_linux(const struct vmm_ram *ram, const struct vmm_boot_cfg *cfg,
		   struct vmm_boot_info *out, char *err, size_t errlen);

#endif
