/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vmm-demo: Linux x86 boot-protocol loader (bzImage and ELF64), the zero
 * page, the GDT and the identity page tables (Linux
 * Documentation/arch/x86/boot.rst, "64-bit Boot Protocol").
 *
 * ELF note contract with the test guest (tests/guest/): an ELF kernel may
 * carry, in a PT_NOTE segment, a note with name "LIBVMMIO" (namesz 9, the
 * NUL included), type 1 and an 8-byte little-endian descriptor: the 64-bit
 * entry address of the secondary vCPUs. Layout per the ELF gABI: the
 * descriptor starts at note start + 12 + namesz rounded up to 4 (to 8 when
 * the PT_NOTE segment has p_align 8), i.e. at +24 either way. The address is
 * translated like e_entry (a virtual address inside a PT_LOAD's
 * [p_vaddr, p_vaddr + p_memsz) maps to its p_paddr, anything else is taken
 * as physical) and must land in a loaded segment's file bytes. Absent note:
 * ap_entry 0. A type-1 LIBVMMIO note whose descsz is not 8 is an error;
 * other types are ignored.
 *
 * PVH (Xen's x86 HVM direct boot ABI, as QEMU and Firecracker use it): an
 * ELF kernel with a note named "Xen" (namesz 4) of type 18
 * (XEN_ELFNOTE_PHYS32_ENTRY) whose 4- or 8-byte descriptor is a physical
 * address inside a loaded segment's file bytes is started there in 32-bit
 * protected mode, paging off, ebx = struct hvm_start_info (version 1:
 * command line, initrd as module 0, RSDP, memory map). Any other descsz is
 * an error. The first note of each kind counts. Except a Linux vmlinux
 * (it has "Linux" notes): it carries a PVH note too, but is entered
 * through the 64-bit boot protocol like the bzImage.
 */
#include <asm/bootparam.h>
#include <asm/e820.h>
#include <assert.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layout.h"
#include "loader.h"

/* Zero-page offsets of Documentation/arch/x86/zero-page.rst and boot.rst. */
#define BP_OFF(f) __builtin_offsetof(struct boot_params, f)
_Static_assert(sizeof(struct boot_params) == 0x1000, "zero page size");
_Static_assert(BP_OFF(acpi_rsdp_addr) == 0x070, "acpi_rsdp_addr");
_Static_assert(BP_OFF(ext_ramdisk_image) == 0x0c0, "ext_ramdisk_image");
_Static_assert(BP_OFF(ext_ramdisk_size) == 0x0c4, "ext_ramdisk_size");
_Static_assert(BP_OFF(ext_cmd_line_ptr) == 0x0c8, "ext_cmd_line_ptr");
_Static_assert(BP_OFF(e820_entries) == 0x1e8, "e820_entries");
_Static_assert(BP_OFF(hdr) == 0x1f1, "setup header");
_Static_assert(BP_OFF(hdr.boot_flag) == 0x1fe, "boot_flag");
_Static_assert(BP_OFF(hdr.header) == 0x202, "header");
_Static_assert(BP_OFF(hdr.version) == 0x206, "version");
_Static_assert(BP_OFF(hdr.type_of_loader) == 0x210, "type_of_loader");
_Static_assert(BP_OFF(hdr.loadflags) == 0x211, "loadflags");
_Static_assert(BP_OFF(hdr.ramdisk_image) == 0x218, "ramdisk_image");
_Static_assert(BP_OFF(hdr.ramdisk_size) == 0x21c, "ramdisk_size");
_Static_assert(BP_OFF(hdr.heap_end_ptr) == 0x224, "heap_end_ptr");
_Static_assert(BP_OFF(hdr.cmd_line_ptr) == 0x228, "cmd_line_ptr");
_Static_assert(BP_OFF(hdr.initrd_addr_max) == 0x22c, "initrd_addr_max");
_Static_assert(BP_OFF(hdr.kernel_alignment) == 0x230, "kernel_alignment");
_Static_assert(BP_OFF(hdr.relocatable_kernel) == 0x234, "relocatable");
_Static_assert(BP_OFF(hdr.xloadflags) == 0x236, "xloadflags");
_Static_assert(BP_OFF(hdr.cmdline_size) == 0x238, "cmdline_size");
_Static_assert(BP_OFF(hdr.pref_address) == 0x258, "pref_address");
_Static_assert(BP_OFF(hdr.init_size) == 0x260, "init_size");
_Static_assert(BP_OFF(e820_table) == 0x2d0, "e820_table");
_Static_assert(sizeof(struct boot_e820_entry) == 20, "e820 entry");

#define MIB 0x100000ull
#define PAGE 0x1000ull
#define HDR_START 0x1f1u
/* Fields read from a bzImage: through init_size (protocol 2.10). */
#define HDR_NEED 0x264u
#define HDR_END (HDR_START + (unsigned)sizeof(struct setup_header))
#define BOOT_FLAG 0xaa55
#define HDRS_MAGIC 0x53726448u /* "HdrS" */
#define PROTO_MIN 0x020c       /* xloadflags and the 64-bit entry */
#define PROTO_RSDP 0x020e      /* acpi_rsdp_addr */
#define PROTO_ELF 0x020f       /* what we claim for an ELF kernel */
#define ENTRY64_OFF 0x200
#define HEAP_END_PTR 0xfe00 /* boot.rst: setup heap end - 0x200 */
#define LOADER_UNDEFINED 0xff
#define ELF_INITRD_MAX 0x7fffffffu
#define ELF_ALIGN 0x200000u /* x86-64 CONFIG_PHYSICAL_ALIGN default */
#define ELF_MAX_PHDRS 128u
#define NOTE_MAX (1u << 20)
#define NOTE_NAME "LIBVMMIO"
#define NOTE_TYPE_AP_ENTRY 1u
#define XEN_NOTE_NAME "Xen"
/* A Linux vmlinux carries "Linux" notes (and a PVH note too): it boots
 * through the x86 64-bit boot protocol (boot.rst), never PVH. */
#define LINUX_NOTE_NAME "Linux"
#define XEN_ELFNOTE_PHYS32_ENTRY 18u

/* Page-table and GDT bits (Intel SDM vol. 3, 4.5 and 3.4.5). */
#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull
#define GDT_CODE32 0x00cf9b000000ffffull
#define GDT_CODE64 0x00af9b000000ffffull
#define GDT_DATA 0x00cf93000000ffffull

/*
 * PVH start info, version 1 (layout of Xen's public header
 * arch-x86/hvm/start_info.h; no system header carries it). The memory map
 * types are the e820 ones.
 */
#define XEN_HVM_START_MAGIC_VALUE 0x336ec578u
#define PVH_VERSION 1u
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};
struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};
struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "memmap entry");
_Static_assert(VMM_PVH_INFO_ADDR + sizeof(struct hvm_start_info) <=
		       VMM_PVH_MODLIST_ADDR &&
		   VMM_PVH_MODLIST_ADDR + sizeof(struct hvm_modlist_entry) <=
		       VMM_PVH_MEMMAP_ADDR &&
		   VMM_PVH_MEMMAP_ADDR +
			   VMM_PVH_MEMMAP_MAX *
			       sizeof(struct hvm_memmap_table_entry) <=
		       VMM_BOOT_PARAMS_ADDR,
	       "PVH area overlaps");

struct ld {
	const struct vmm_ram *ram;
	const struct vmm_boot_cfg *cfg;
	char *err;
	size_t errlen;
	int fd;
	uint64_t fsize;
	uint64_t low_end; /* end of RAM region 0 */
	uint64_t entry, ap_entry, kernel_end;
	uint64_t ap_raw, pvh_raw; /* note descriptors, not yet checked */
	bool have_ap, have_pvh, have_linux;
	uint64_t initrd_top;  /* first byte the initrd may not occupy */
	uint64_t cmdline_max; /* bytes, without the NUL */
	struct boot_params bp;
};

static int fail(struct ld *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct ld *ld, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ld->err, ld->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

void *vmm_gpa(const struct vmm_ram *ram, uint64_t gpa, uint64_t len)
{
	unsigned n = ram->n < 2 ? ram->n : 2;

	for (unsigned i = 0; i < n; i++) {
		const struct vmm_ram_region *r = &ram->r[i];
		uint64_t off = gpa - r->gpa;

		if (gpa < r->gpa || off > r->size || len > r->size - off)
			continue;
		return (char *)r->host + off;
	}
	return NULL;
}

static int check_ram(struct ld *ld)
{
	const struct vmm_ram *ram = ld->ram;
	const struct vmm_ram_region *hi = &ram->r[1];
	uint64_t end;

	if (ram->n < 1 || ram->n > 2)
		return fail(ld, "guest RAM: %u regions, need 1 or 2", ram->n);
	if (ram->r[0].gpa != 0 || !ram->r[0].host)
		return fail(ld, "guest RAM: region 0 at 0x%llx, need 0",
			    (unsigned long long)ram->r[0].gpa);
	if (ram->r[0].size < 2 * MIB || ram->r[0].size > VMM_LOW_RAM_MAX)
		return fail(ld,
			    "guest RAM: low region 0x%llx bytes, need 2 MiB "
			    "to 3 GiB",
			    (unsigned long long)ram->r[0].size);
	if (ram->n == 2 &&
	    (hi->gpa < VMM_HIGH_RAM_ADDR || !hi->size || !hi->host ||
	     __builtin_add_overflow(hi->gpa, hi->size, &end)))
		return fail(ld,
			    "guest RAM: high region [0x%llx, +0x%llx) must "
			    "start at or above 4 GiB and be non-empty",
			    (unsigned long long)hi->gpa,
			    (unsigned long long)hi->size);
	ld->low_end = ram->r[0].size;
	return 0;
}

/* Read exactly @len bytes at @off of the file @what @path into @buf. */
static int rd(struct ld *ld, const char *what, const char *path, int fd,
	      uint64_t off, void *buf, uint64_t len)
{
	uint64_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done,
				  (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(ld, "%s %s: read at 0x%llx: %s", what, path,
				    (unsigned long long)off + done,
				    strerror(errno));
		if (n == 0)
			return fail(ld,
				    "%s %s: truncated: 0x%llx bytes at 0x%llx "
				    "wanted, file ends at 0x%llx",
				    what, path, (unsigned long long)len,
				    (unsigned long long)off,
				    (unsigned long long)off + done);
		done += (uint64_t)n;
	}
	return 0;
}

static int open_file(struct ld *ld, const char *what, const char *path,
		     uint64_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return fail(ld, "%s %s: %s", what, path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		fail(ld, "%s %s: %s", what, path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		fail(ld, "%s %s: not a regular file", what, path);
		close(fd);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

/*
 * Where the decompressor runs (boot.rst, init_size): a relocatable kernel
 * moves to max(pref_address, load address aligned to kernel_alignment), a
 * fixed one to pref_address.
 */
static int bz_runtime(struct ld *ld, const struct setup_header *h,
		      uint64_t *start)
{
	uint64_t align = h->kernel_alignment;
	uint64_t s = VMM_KERNEL_ADDR;

	if (h->relocatable_kernel) {
		if (!align || (align & (align - 1)))
			return fail(ld,
				    "kernel %s: kernel_alignment 0x%llx is not "
				    "a power of two",
				    ld->cfg->kernel, (unsigned long long)align);
		s = (s + align - 1) & ~(align - 1);
		if (s < h->pref_address)
			s = h->pref_address;
	} else if (h->pref_address) {
		s = h->pref_address;
	}
	*start = s;
	return 0;
}

static int bz_check(struct ld *ld, const uint8_t *sec)
{
	const char *k = ld->cfg->kernel;
	struct setup_header h;
	uint16_t flag;
	uint32_t magic;

	memcpy(&flag, sec + 0x1fe, sizeof(flag));
	memcpy(&magic, sec + 0x202, sizeof(magic));
	memcpy(&h, sec + HDR_START, sizeof(h));
	if (flag != BOOT_FLAG)
		return fail(ld,
			    "kernel %s: boot sector magic 0x%04x at 0x1fe, "
			    "want 0xaa55 (not a bzImage or ELF)",
			    k, flag);
	if (magic != HDRS_MAGIC)
		return fail(ld,
			    "kernel %s: no setup header (0x%08x at 0x202, "
			    "want \"HdrS\")",
			    k, magic);
	if (h.version < PROTO_MIN)
		return fail(ld,
			    "kernel %s: boot protocol %u.%02u too old, need "
			    ">= 2.12",
			    k, h.version >> 8, h.version & 0xff);
	if (0x202u + sec[0x201] < HDR_NEED)
		return fail(ld,
			    "kernel %s: setup header ends at 0x%x, need 0x%x",
			    k, 0x202u + sec[0x201], HDR_NEED);
	if (!(h.xloadflags & XLF_KERNEL_64))
		return fail(ld,
			    "kernel %s: xloadflags 0x%x lacks XLF_KERNEL_64 "
			    "(no 64-bit entry)",
			    k, h.xloadflags);
	if (!(h.loadflags & LOADED_HIGH))
		return fail(ld,
			    "kernel %s: loadflags 0x%x lacks LOADED_HIGH "
			    "(zImage)",
			    k, h.loadflags);
	return 0;
}

/*
 * Protected-mode part at 1 MiB; the decompressor's area must fit too, and
 * kernel_end covers it, so the initrd is placed above it.
 */
static int bz_place(struct ld *ld, const struct setup_header *h,
		    uint64_t pm_off)
{
	const char *k = ld->cfg->kernel;
	uint64_t pm_size = ld->fsize - pm_off, run = 0, run_end;

	if (pm_size > ld->low_end - VMM_KERNEL_ADDR)
		return fail(
		    ld,
		    "kernel %s: protected-mode part 0x%llx bytes, "
		    "RAM above 1 MiB is 0x%llx bytes",
		    k, (unsigned long long)pm_size,
		    (unsigned long long)(ld->low_end - VMM_KERNEL_ADDR));
	if (bz_runtime(ld, h, &run) < 0)
		return -1;
	run_end = run + h->init_size;
	if (run_end > ld->low_end)
		return fail(ld,
			    "kernel %s: needs RAM up to 0x%llx (init_size 0x%x "
			    "from 0x%llx), RAM ends at 0x%llx",
			    k, (unsigned long long)run_end, h->init_size,
			    (unsigned long long)run,
			    (unsigned long long)ld->low_end);
	if (rd(ld, "kernel", k, ld->fd, pm_off,
	       vmm_gpa(ld->ram, VMM_KERNEL_ADDR, pm_size), pm_size) < 0)
		return -1;
	ld->kernel_end = VMM_KERNEL_ADDR + pm_size;
	if (run_end > ld->kernel_end)
		ld->kernel_end = run_end;
	ld->entry = VMM_KERNEL_ADDR + ENTRY64_OFF;
	return 0;
}

static int load_bzimage(struct ld *ld)
{
	const char *k = ld->cfg->kernel;
	uint8_t sec[0x400] = {0};
	struct setup_header *h = &ld->bp.hdr;
	uint64_t pm_off;
	unsigned hdr_end;

	if (ld->fsize < HDR_NEED)
		return fail(ld,
			    "kernel %s: 0x%llx bytes, too short for a bzImage "
			    "(0x%x) or ELF",
			    k, (unsigned long long)ld->fsize, HDR_NEED);
	if (rd(ld, "kernel", k, ld->fd, 0, sec,
	       ld->fsize < sizeof(sec) ? ld->fsize : sizeof(sec)) < 0)
		return -1;
	if (bz_check(ld, sec) < 0)
		return -1;
	/* boot.rst: the header ends at 0x202 + the byte at 0x201. */
	hdr_end = 0x202u + sec[0x201];
	if (hdr_end > HDR_END)
		hdr_end = HDR_END;
	memcpy(h, sec + HDR_START, hdr_end - HDR_START);
	pm_off = ((uint64_t)(h->setup_sects ? h->setup_sects : 4) + 1) * 512;
	if (ld->fsize <= pm_off + ENTRY64_OFF)
		return fail(ld,
			    "kernel %s: truncated: 0x%llx bytes, setup alone "
			    "is 0x%llx",
			    k, (unsigned long long)ld->fsize,
			    (unsigned long long)pm_off);
	if (bz_place(ld, h, pm_off) < 0)
		return -1;
	ld->initrd_top = (uint64_t)h->initrd_addr_max + 1;
	ld->cmdline_max = h->cmdline_size;
	h->type_of_loader = LOADER_UNDEFINED;
	h->loadflags |= CAN_USE_HEAP;
	h->heap_end_ptr = HEAP_END_PTR;
	return 0;
}

/* Whether physical @p lies in a PT_LOAD's file bytes. */
static bool elf_loaded(const Elf64_Phdr *ph, unsigned n, uint64_t p)
{
	for (unsigned i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && p >= ph[i].p_paddr &&
		    p - ph[i].p_paddr < ph[i].p_filesz)
			return true;
	return false;
}

/* e_entry and the note's address: virtual inside a PT_LOAD, else physical. */
static int elf_phys(struct ld *ld, const Elf64_Phdr *ph, unsigned n,
		    const char *what, uint64_t addr, uint64_t *phys)
{
	uint64_t p = addr;

	for (unsigned i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && addr >= ph[i].p_vaddr &&
		    addr - ph[i].p_vaddr < ph[i].p_memsz) {
			p = addr - ph[i].p_vaddr + ph[i].p_paddr;
			break;
		}
	if (!elf_loaded(ph, n, p))
		return fail(ld,
			    "kernel %s: %s 0x%llx (physical 0x%llx) outside "
			    "the loaded segments",
			    ld->cfg->kernel, what, (unsigned long long)addr,
			    (unsigned long long)p);
	*phys = p;
	return 0;
}

static int elf_segment(struct ld *ld, const Elf64_Phdr *ph, unsigned i)
{
	const char *k = ld->cfg->kernel;
	uint64_t fend, mend;
	char *host;

	if (ph->p_filesz > ph->p_memsz)
		return fail(ld,
			    "kernel %s: segment %u: p_filesz 0x%llx > p_memsz "
			    "0x%llx",
			    k, i, (unsigned long long)ph->p_filesz,
			    (unsigned long long)ph->p_memsz);
	if (__builtin_add_overflow(ph->p_offset, ph->p_filesz, &fend) ||
	    fend > ld->fsize)
		return fail(ld,
			    "kernel %s: segment %u: file bytes 0x%llx+0x%llx "
			    "past end of file (0x%llx bytes)",
			    k, i, (unsigned long long)ph->p_offset,
			    (unsigned long long)ph->p_filesz,
			    (unsigned long long)ld->fsize);
	if (__builtin_add_overflow(ph->p_paddr, ph->p_memsz, &mend) ||
	    ph->p_paddr < VMM_KERNEL_ADDR || mend > ld->low_end)
		return fail(ld,
			    "kernel %s: segment %u: 0x%llx+0x%llx outside "
			    "guest RAM [0x%llx, 0x%llx)",
			    k, i, (unsigned long long)ph->p_paddr,
			    (unsigned long long)ph->p_memsz, MIB,
			    (unsigned long long)ld->low_end);
	host = vmm_gpa(ld->ram, ph->p_paddr, ph->p_memsz);
	if (rd(ld, "kernel", k, ld->fd, ph->p_offset, host, ph->p_filesz) < 0)
		return -1;
	memset(host + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
	if (mend > ld->kernel_end)
		ld->kernel_end = mend;
	return 0;
}

static bool note_is(const Elf64_Nhdr *nh, const uint8_t *name, const char *want,
		    size_t wantsz, uint32_t type)
{
	return nh->n_namesz == wantsz && nh->n_type == type &&
	       !memcmp(name, want, wantsz);
}

/* Record the first LIBVMMIO and the first PVH descriptor. */
static int note_take(struct ld *ld, const Elf64_Nhdr *nh, const uint8_t *name,
		     const uint8_t *desc)
{
	if (note_is(nh, name, NOTE_NAME, sizeof(NOTE_NAME),
		    NOTE_TYPE_AP_ENTRY)) {
		if (nh->n_descsz != 8)
			return fail(ld,
				    "kernel %s: LIBVMMIO note: descsz %u, "
				    "want 8",
				    ld->cfg->kernel, nh->n_descsz);
		if (!ld->have_ap)
			memcpy(&ld->ap_raw, desc, 8);
		ld->have_ap = true;
	} else if (nh->n_namesz == sizeof(LINUX_NOTE_NAME) &&
		   !memcmp(name, LINUX_NOTE_NAME, sizeof(LINUX_NOTE_NAME))) {
		ld->have_linux = true;
	} else if (note_is(nh, name, XEN_NOTE_NAME, sizeof(XEN_NOTE_NAME),
			   XEN_ELFNOTE_PHYS32_ENTRY)) {
		if (nh->n_descsz != 4 && nh->n_descsz != 8)
			return fail(ld,
				    "kernel %s: PVH note (Xen, type 18): "
				    "descsz %u, want 4 or 8",
				    ld->cfg->kernel, nh->n_descsz);
		if (!ld->have_pvh)
			memcpy(&ld->pvh_raw, desc, nh->n_descsz);
		ld->have_pvh = true;
	}
	return 0;
}

/*
 * The note at @off of @buf (ELF gABI layout: descriptor at the note start
 * + 12 + namesz rounded up to @align, next note after the descriptor
 * rounded up likewise). Returns 1 and advances @off past it, 0 at the end
 * or at a malformed note (the rest is ignored), -1 for a malformed note of
 * ours.
 */
static int elf_note(struct ld *ld, const uint8_t *buf, uint64_t len,
		    uint64_t align, uint64_t *off)
{
	Elf64_Nhdr nh;
	uint64_t name_at = *off + sizeof(nh), desc_at, end;

	if (len - *off < sizeof(nh))
		return 0;
	memcpy(&nh, buf + *off, sizeof(nh));
	desc_at = (name_at + nh.n_namesz + align - 1) & ~(align - 1);
	end = (desc_at + nh.n_descsz + align - 1) & ~(align - 1);
	if (desc_at > len || nh.n_descsz > len - desc_at)
		return 0;
	*off = end < len ? end : len;
	if (note_take(ld, &nh, buf + name_at, buf + desc_at) < 0)
		return -1;
	return 1;
}

static int elf_note_seg(struct ld *ld, const Elf64_Phdr *ph, unsigned i)
{
	uint64_t off = 0, fend, align = ph->p_align == 8 ? 8 : 4;
	uint8_t *buf;
	int r = 1;

	if (ph->p_filesz > NOTE_MAX ||
	    __builtin_add_overflow(ph->p_offset, ph->p_filesz, &fend) ||
	    fend > ld->fsize)
		return fail(ld,
			    "kernel %s: note segment %u: 0x%llx+0x%llx past "
			    "end of file or over 1 MiB",
			    ld->cfg->kernel, i,
			    (unsigned long long)ph->p_offset,
			    (unsigned long long)ph->p_filesz);
	buf = malloc(ph->p_filesz + 1);
	if (!buf)
		return fail(ld, "kernel %s: out of memory", ld->cfg->kernel);
	if (rd(ld, "kernel", ld->cfg->kernel, ld->fd, ph->p_offset, buf,
	       ph->p_filesz) < 0)
		r = -1;
	while (r == 1 && !(ld->have_ap && ld->have_pvh))
		r = elf_note(ld, buf, ph->p_filesz, align, &off);
	free(buf);
	return r < 0 ? -1 : 0;
}

static int elf_notes(struct ld *ld, const Elf64_Phdr *ph, unsigned n)
{
	for (unsigned i = 0; i < n && !(ld->have_ap && ld->have_pvh); i++)
		if (ph[i].p_type == PT_NOTE && elf_note_seg(ld, &ph[i], i) < 0)
			return -1;
	if (ld->have_ap && elf_phys(ld, ph, n, "LIBVMMIO entry", ld->ap_raw,
				    &ld->ap_entry) < 0)
		return -1;
	/* The PVH entry is physical by definition: no vaddr translation. */
	if (ld->have_pvh && !elf_loaded(ph, n, ld->pvh_raw))
		return fail(ld,
			    "kernel %s: PVH entry 0x%llx outside the loaded "
			    "segments",
			    ld->cfg->kernel, (unsigned long long)ld->pvh_raw);
	return 0;
}

static int elf_ehdr(struct ld *ld, Elf64_Ehdr *eh)
{
	const char *k = ld->cfg->kernel;

	if (ld->fsize < sizeof(*eh))
		return fail(ld,
			    "kernel %s: truncated ELF header (0x%llx bytes)", k,
			    (unsigned long long)ld->fsize);
	if (rd(ld, "kernel", k, ld->fd, 0, eh, sizeof(*eh)) < 0)
		return -1;
	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return fail(ld, "kernel %s: ELF class %u, need ELFCLASS64 (2)",
			    k, eh->e_ident[EI_CLASS]);
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return fail(ld, "kernel %s: ELF data %u, need little-endian", k,
			    eh->e_ident[EI_DATA]);
	if (eh->e_machine != EM_X86_64)
		return fail(ld, "kernel %s: e_machine %u, need EM_X86_64 (62)",
			    k, eh->e_machine);
	if (eh->e_type != ET_EXEC)
		return fail(ld, "kernel %s: e_type %u, need ET_EXEC (2)", k,
			    eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || !eh->e_phnum ||
	    eh->e_phnum > ELF_MAX_PHDRS)
		return fail(ld,
			    "kernel %s: %u program headers of %u bytes, need "
			    "1 to %u of %zu",
			    k, eh->e_phnum, eh->e_phentsize, ELF_MAX_PHDRS,
			    sizeof(Elf64_Phdr));
	if (eh->e_phoff > ld->fsize ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) >
		ld->fsize - eh->e_phoff)
		return fail(ld,
			    "kernel %s: program headers at 0x%llx past end of "
			    "file (0x%llx bytes)",
			    k, (unsigned long long)eh->e_phoff,
			    (unsigned long long)ld->fsize);
	return 0;
}

static void elf_zero_page(struct ld *ld)
{
	struct setup_header *h = &ld->bp.hdr;

	h->boot_flag = BOOT_FLAG;
	h->header = HDRS_MAGIC;
	h->version = PROTO_ELF;
	h->type_of_loader = LOADER_UNDEFINED;
	h->loadflags = LOADED_HIGH | CAN_USE_HEAP;
	h->heap_end_ptr = HEAP_END_PTR;
	h->initrd_addr_max = ELF_INITRD_MAX;
	h->kernel_alignment = ELF_ALIGN;
	h->cmdline_size = VMM_CMDLINE_MAX - 1;
	ld->initrd_top = (uint64_t)ELF_INITRD_MAX + 1;
	ld->cmdline_max = VMM_CMDLINE_MAX - 1;
}

static int load_elf(struct ld *ld)
{
	Elf64_Ehdr eh;
	Elf64_Phdr *ph;
	unsigned i, loads = 0;
	int r = -1;

	if (elf_ehdr(ld, &eh) < 0)
		return -1;
	/* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage) */
	ph = calloc(eh.e_phnum, sizeof(*ph));
	if (!ph)
		return fail(ld, "kernel %s: out of memory", ld->cfg->kernel);
	if (rd(ld, "kernel", ld->cfg->kernel, ld->fd, eh.e_phoff, ph,
	       eh.e_phnum * sizeof(*ph)) < 0)
		goto out_free_ph;
	for (i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || !ph[i].p_memsz)
			continue;
		if (elf_segment(ld, &ph[i], i) < 0)
			goto out_free_ph;
		loads++;
	}
	if (!loads) {
		fail(ld, "kernel %s: no PT_LOAD segment", ld->cfg->kernel);
		goto out_free_ph;
	}
	if (elf_phys(ld, ph, eh.e_phnum, "entry", eh.e_entry, &ld->entry) < 0 ||
	    elf_notes(ld, ph, eh.e_phnum) < 0)
		goto out_free_ph;
	elf_zero_page(ld);
	r = 0;
out_free_ph:
	free(ph);
	return r;
}

static int load_kernel(struct ld *ld, struct vmm_boot_info *out)
{
	static const uint8_t elfmag[SELFMAG] = {ELFMAG0, ELFMAG1, ELFMAG2,
						ELFMAG3};
	uint8_t magic[SELFMAG] = {0};
	int r;

	ld->fd = open_file(ld, "kernel", ld->cfg->kernel, &ld->fsize);
	if (ld->fd < 0)
		return -1;
	if (ld->fsize >= SELFMAG &&
	    rd(ld, "kernel", ld->cfg->kernel, ld->fd, 0, magic, SELFMAG) < 0) {
		close(ld->fd);
		return -1;
	}
	if (!memcmp(magic, elfmag, SELFMAG)) {
		out->format = "ELF";
		r = load_elf(ld);
	} else {
		out->format = "bzImage";
		r = load_bzimage(ld);
	}
	close(ld->fd);
	return r;
}

static int load_cmdline(struct ld *ld)
{
	const char *s = ld->cfg->cmdline ? ld->cfg->cmdline : "";
	size_t len = strlen(s);
	uint64_t max = ld->cmdline_max;

	if (max > VMM_CMDLINE_MAX - 1)
		max = VMM_CMDLINE_MAX - 1;
	if (len > max)
		return fail(ld,
			    "command line: %zu bytes, kernel %s takes at most "
			    "%llu",
			    len, ld->cfg->kernel, (unsigned long long)max);
	memcpy(vmm_gpa(ld->ram, VMM_CMDLINE_ADDR, len + 1), s, len + 1);
	ld->bp.hdr.cmd_line_ptr = VMM_CMDLINE_ADDR;
	ld->bp.ext_cmd_line_ptr = 0;
	return 0;
}

/* As high as possible below the limits, page aligned, above the kernel. */
static int load_initrd(struct ld *ld, struct vmm_boot_info *out)
{
	const char *path = ld->cfg->initrd;
	uint64_t size = 0, top = ld->initrd_top, base, addr;
	int fd, r;

	if (!path)
		return 0;
	fd = open_file(ld, "initrd", path, &size);
	if (fd < 0)
		return -1;
	if (top > ld->low_end)
		top = ld->low_end;
	top &= ~(PAGE - 1);
	base = (ld->kernel_end + PAGE - 1) & ~(PAGE - 1);
	if (base > top || size > top - base) {
		close(fd);
		return fail(ld,
			    "initrd %s: 0x%llx bytes do not fit: 0x%llx bytes "
			    "free between kernel end 0x%llx and limit 0x%llx",
			    path, (unsigned long long)size,
			    (unsigned long long)(base < top ? top - base : 0),
			    (unsigned long long)base, (unsigned long long)top);
	}
	addr = (top - size) & ~(PAGE - 1);
	r = rd(ld, "initrd", path, fd, 0, vmm_gpa(ld->ram, addr, size), size);
	close(fd);
	if (r < 0)
		return -1;
	ld->bp.hdr.ramdisk_image = (uint32_t)addr;
	ld->bp.hdr.ramdisk_size = (uint32_t)size;
	ld->bp.ext_ramdisk_image = (uint32_t)(addr >> 32);
	ld->bp.ext_ramdisk_size = (uint32_t)(size >> 32);
	out->initrd_addr = addr;
	out->initrd_size = size;
	return 0;
}

static void e820_add(struct boot_params *bp, uint64_t addr, uint64_t size,
		     uint32_t type)
{
	struct boot_e820_entry e = {.addr = addr, .size = size, .type = type};

	memcpy(&bp->e820_table[bp->e820_entries++], &e, sizeof(e));
}

static void build_e820(struct ld *ld)
{
	const struct vmm_ram *ram = ld->ram;

	e820_add(&ld->bp, 0, VMM_EBDA_ADDR, E820_RAM);
	e820_add(&ld->bp, VMM_EBDA_ADDR, VMM_KERNEL_ADDR - VMM_EBDA_ADDR,
		 E820_RESERVED);
	e820_add(&ld->bp, VMM_KERNEL_ADDR, ld->low_end - VMM_KERNEL_ADDR,
		 E820_RAM);
	if (ram->n == 2)
		e820_add(&ld->bp, ram->r[1].gpa, ram->r[1].size, E820_RAM);
}

/*
 * PVH: start info, module list and memory map at VMM_PVH_INFO_ADDR (the
 * zero page is written too; a PVH kernel just does not look at it).
 */
static void write_pvh(struct ld *ld, const struct vmm_boot_info *out)
{
	struct hvm_start_info si = {
	    .magic = XEN_HVM_START_MAGIC_VALUE,
	    .version = PVH_VERSION,
	    .cmdline_paddr = VMM_CMDLINE_ADDR,
	    .rsdp_paddr = ld->cfg->rsdp,
	    .memmap_paddr = VMM_PVH_MEMMAP_ADDR,
	    .memmap_entries = ld->bp.e820_entries,
	};
	struct hvm_memmap_table_entry mm[VMM_PVH_MEMMAP_MAX] = {{0}};

	_Static_assert(E820_RAM == 1 && E820_RESERVED == 2, "PVH memmap types");
	assert(ld->bp.e820_entries <= VMM_PVH_MEMMAP_MAX);
	for (unsigned i = 0; i < ld->bp.e820_entries; i++) {
		struct boot_e820_entry e;

		memcpy(&e, &ld->bp.e820_table[i], sizeof(e));
		mm[i] = (struct hvm_memmap_table_entry){
		    .addr = e.addr, .size = e.size, .type = e.type};
	}
	memcpy(vmm_gpa(ld->ram, VMM_PVH_MEMMAP_ADDR, sizeof(mm)), mm,
	       sizeof(mm));
	if (out->initrd_size) {
		struct hvm_modlist_entry mod = {.paddr = out->initrd_addr,
						.size = out->initrd_size};

		memcpy(vmm_gpa(ld->ram, VMM_PVH_MODLIST_ADDR, sizeof(mod)),
		       &mod, sizeof(mod));
		si.nr_modules = 1;
		si.modlist_paddr = VMM_PVH_MODLIST_ADDR;
	}
	memcpy(vmm_gpa(ld->ram, VMM_PVH_INFO_ADDR, sizeof(si)), &si,
	       sizeof(si));
}

/*
 * GDT and 0..4 GiB identity map with 2 MiB pages (no 1 GiB pages here).
 * The 32-bit code descriptor only for PVH: the 64-bit paths keep slot 1
 * null.
 */
static void write_tables(struct ld *ld)
{
	const uint64_t gdt[4] = {
	    0, ld->have_pvh && !ld->have_linux ? GDT_CODE32 : 0, GDT_CODE64,
	    GDT_DATA};
	uint64_t *pml4 = vmm_gpa(ld->ram, VMM_PML4_ADDR, PAGE);
	uint64_t *pdpt = vmm_gpa(ld->ram, VMM_PDPT_ADDR, PAGE);
	uint64_t *pd = vmm_gpa(ld->ram, VMM_PD_ADDR, 4 * PAGE);

	_Static_assert(VMM_SEL_CODE32 == 1 * 8 && VMM_SEL_CODE64 == 2 * 8 &&
			   VMM_SEL_DATA == 3 * 8,
		       "GDT slots");
	memcpy(vmm_gpa(ld->ram, VMM_GDT_ADDR, sizeof(gdt)), gdt, sizeof(gdt));
	memset(pml4, 0, PAGE);
	memset(pdpt, 0, PAGE);
	pml4[0] = VMM_PDPT_ADDR | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (VMM_PD_ADDR + i * PAGE) | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 4 * 512ull; i++)
		pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
}

int vmm_load_linux(const struct vmm_ram *ram, const struct vmm_boot_cfg *cfg,
		   struct vmm_boot_info *out, char *err, size_t errlen)
{
	struct ld ld = {.ram = ram, .cfg = cfg, .err = err, .errlen = errlen};

	memset(out, 0, sizeof(*out));
	if (errlen)
		err[0] = '\0';
	if (check_ram(&ld) < 0)
		return -1;
	if (!cfg->kernel)
		return fail(&ld, "kernel: no path given");
	if (load_kernel(&ld, out) < 0 || load_cmdline(&ld) < 0 ||
	    load_initrd(&ld, out) < 0)
		return -1;
	build_e820(&ld);
	if (cfg->rsdp && ld.bp.hdr.version >= PROTO_RSDP)
		ld.bp.acpi_rsdp_addr = cfg->rsdp;
	memcpy(vmm_gpa(ram, VMM_BOOT_PARAMS_ADDR, sizeof(ld.bp)), &ld.bp,
	       sizeof(ld.bp));
	write_tables(&ld);
	if (ld.have_pvh && !ld.have_linux) {
		write_pvh(&ld, out);
		out->pvh = true;
		out->pvh_entry = ld.pvh_raw;
		out->pvh_start_info = VMM_PVH_INFO_ADDR;
	}
	out->entry = ld.entry;
	out->boot_params = VMM_BOOT_PARAMS_ADDR;
	out->ap_entry = ld.ap_entry;
	out->kernel_end = ld.kernel_end;
	return 0;
}
