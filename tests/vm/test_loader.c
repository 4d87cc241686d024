/* SPDX-License-Identifier: Apache-2.0 */
/* vmm-demo tests: the Linux loader (bzImage, ELF64, zero page, tables). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layout.h"
#include "loader.h"
#include "vmtests.h"

/*
 * Offsets written out from boot.rst and zero-page.rst on purpose (not
 * taken from <asm/bootparam.h>), so a wrong struct use in the loader shows.
 */
#define ZP_RSDP 0x070
#define ZP_EXT_RD_IMAGE 0x0c0
#define ZP_EXT_RD_SIZE 0x0c4
#define ZP_EXT_CMDLINE 0x0c8
#define ZP_E820_N 0x1e8
#define ZP_SETUP_SECTS 0x1f1
#define ZP_BOOT_FLAG 0x1fe
#define ZP_HEADER 0x202
#define ZP_VERSION 0x206
#define ZP_LOADER 0x210
#define ZP_LOADFLAGS 0x211
#define ZP_RD_IMAGE 0x218
#define ZP_RD_SIZE 0x21c
#define ZP_HEAP_END 0x224
#define ZP_CMDLINE 0x228
#define ZP_INITRD_MAX 0x22c
#define ZP_ALIGN 0x230
#define ZP_RELOC 0x234
#define ZP_XLF 0x236
#define ZP_CMDLINE_SIZE 0x238
#define ZP_PREF 0x258
#define ZP_INIT_SIZE 0x260
#define ZP_E820 0x2d0

#define MIB 0x100000ull
#define GIB 0x40000000ull

static char tmpdir[64], kpath[128], ipath[128];

static void setup(void)
{
	strcpy(tmpdir, "/tmp/vmmld.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(kpath, sizeof(kpath), "%s/kernel", tmpdir);
	snprintf(ipath, sizeof(ipath), "%s/initrd", tmpdir);
}

static void teardown(void)
{
	unlink(kpath);
	unlink(ipath);
	rmdir(kpath);
	rmdir(tmpdir);
}

static uint8_t pat(uint64_t i, unsigned seed)
{
	return (uint8_t)((i * 131 + seed) ^ (i >> 9));
}

static void put(uint8_t *b, size_t off, uint64_t v, size_t n)
{
	memcpy(b + off, &v, n); /* little-endian host */
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* An initrd of @len pattern bytes (or a sparse one when @sparse). */
static void write_initrd(uint64_t len, int sparse)
{
	uint8_t *b;

	if (sparse) {
		int fd = open(ipath, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(ftruncate(fd, (off_t)len), 0);
		close(fd);
		return;
	}
	b = malloc(len ? len : 1);
	for (uint64_t i = 0; i < len; i++)
		b[i] = pat(i, 77);
	write_file(ipath, b, len);
	free(b);
}

/* Guest RAM: anonymous mappings, low region filled with 0xcc when small. */
struct tram {
	struct vmm_ram ram;
};

static void ram_new(struct tram *t, uint64_t low, uint64_t high)
{
	memset(t, 0, sizeof(*t));
	t->ram.n = high ? 2 : 1;
	t->ram.r[0].size = low;
	t->ram.r[0].host =
	    mmap(NULL, low, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ck_assert_ptr_ne(t->ram.r[0].host, MAP_FAILED);
	/* 4 KiB pages, so mincore() counts what the loader touched */
	madvise(t->ram.r[0].host, low, MADV_NOHUGEPAGE);
	if (low <= 256 * MIB)
		memset(t->ram.r[0].host, 0xcc, low);
	if (high) {
		/* Never touched by the loader: any access faults. */
		t->ram.r[1].gpa = VMM_HIGH_RAM_ADDR;
		t->ram.r[1].size = high;
		t->ram.r[1].host =
		    mmap(NULL, high, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		ck_assert_ptr_ne(t->ram.r[1].host, MAP_FAILED);
	}
}

static void ram_free(struct tram *t)
{
	for (unsigned i = 0; i < t->ram.n; i++)
		munmap(t->ram.r[i].host, t->ram.r[i].size);
}

static const uint8_t *gp(const struct tram *t, uint64_t gpa, uint64_t len)
{
	const uint8_t *p = vmm_gpa(&t->ram, gpa, len);

	ck_assert_msg(p, "gpa 0x%llx+0x%llx not in RAM",
		      (unsigned long long)gpa, (unsigned long long)len);
	return p;
}

static uint64_t g64(const struct tram *t, uint64_t gpa, size_t n)
{
	uint64_t v = 0;

	memcpy(&v, gp(t, gpa, n), n);
	return v;
}

#define ZP(t, off, n) g64((t), VMM_BOOT_PARAMS_ADDR + (off), (n))

/* ---- synthetic bzImage ---- */

struct bz {
	uint8_t setup_sects;
	uint16_t boot_flag, version, xloadflags;
	uint32_t header;
	uint8_t loadflags, relocatable, hdr_jump;
	uint32_t initrd_max, align, cmdline_size, init_size;
	uint64_t pref;
	uint64_t pm_size;
	uint64_t file_len; /* 0: the whole image */
};

static struct bz bz_default(void)
{
	return (struct bz){
	    .setup_sects = 2,
	    .boot_flag = 0xaa55,
	    .header = 0x53726448,
	    .version = 0x020f,
	    .xloadflags = 0x1,
	    .loadflags = 0x1,
	    .relocatable = 1,
	    .hdr_jump = 0x6a,
	    .initrd_max = 0x7fffffff,
	    .align = 0x200000,
	    .cmdline_size = 0x7ff,
	    .init_size = 0x400000,
	    .pref = 0x1000000,
	    .pm_size = 0x3000,
	};
}

static uint64_t bz_pm_off(const struct bz *b)
{
	return ((uint64_t)(b->setup_sects ? b->setup_sects : 4) + 1) * 512;
}

static void write_bz(const struct bz *b)
{
	uint64_t pm = bz_pm_off(b), len = pm + b->pm_size;
	uint8_t *f = calloc(1, len);

	f[0x1f1] = b->setup_sects;
	put(f, 0x1fe, b->boot_flag, 2);
	f[0x200] = 0xeb;
	f[0x201] = b->hdr_jump;
	put(f, 0x202, b->header, 4);
	put(f, 0x206, b->version, 2);
	f[0x211] = b->loadflags;
	put(f, 0x214, 0x100000, 4);
	put(f, 0x22c, b->initrd_max, 4);
	put(f, 0x230, b->align, 4);
	f[0x234] = b->relocatable;
	f[0x235] = 21;
	put(f, 0x236, b->xloadflags, 2);
	put(f, 0x238, b->cmdline_size, 4);
	put(f, 0x258, b->pref, 8);
	put(f, 0x260, b->init_size, 4);
	f[0x26c] = 0xee; /* past the header: must not reach the zero page */
	for (uint64_t i = 0; i < b->pm_size; i++)
		f[pm + i] = pat(i, 5);
	write_file(kpath, f, b->file_len ? b->file_len : len);
	free(f);
}

/* ---- synthetic ELF64 ---- */

struct seg {
	uint32_t type;
	uint64_t vaddr, paddr, filesz, memsz, offset, align;
};

struct elfimg {
	uint8_t cls, data;
	uint16_t machine, type, phentsize, phnum_override;
	uint64_t entry, phoff;
	unsigned nseg;
	struct seg seg[4];
	/* PT_NOTE payload: a foreign note, then PVH (Xen, type 18) when
	 * pvh != 0, then LIBVMMIO when ap != 0. */
	int note;
	uint64_t note_align, ap, pvh;
	uint32_t note_descsz, pvh_descsz;
	uint64_t file_len;
};

static struct elfimg elf_default(void)
{
	return (struct elfimg){
	    .cls = ELFCLASS64,
	    .data = ELFDATA2LSB,
	    .machine = EM_X86_64,
	    .type = ET_EXEC,
	    .phentsize = sizeof(Elf64_Phdr),
	    .phoff = sizeof(Elf64_Ehdr),
	    .entry = 0x100010,
	    .nseg = 1,
	    .seg = {{PT_LOAD, 0x100000, 0x100000, 0x2000, 0x3000, 0, 0x1000}},
	    .note_descsz = 8,
	    .pvh_descsz = 4,
	    .note_align = 4,
	};
}

static size_t note_bytes(const struct elfimg *e, uint8_t *b)
{
	size_t n = 0;

	/* A GNU build-id style note first, which the loader must skip. */
	put(b, 0, 4, 4);
	put(b, 4, 5, 4);
	put(b, 8, 3, 4);
	memcpy(b + 12, "GNU", 4);
	memcpy(b + 16, "abcde", 5);
	n = e->note_align == 8 ? 24 : 24; /* 16 + 5 rounded up to 4 or 8 */
	if (e->pvh) {
		uint32_t a = e->note_align == 8 ? 8 : 4;

		put(b, n, 4, 4);
		put(b, n + 4, e->pvh_descsz, 4);
		put(b, n + 8, 18, 4);
		memcpy(b + n + 12, "Xen", 4);
		put(b, n + 16, e->pvh, e->pvh_descsz < 8 ? e->pvh_descsz : 8);
		n += 16 + ((e->pvh_descsz + a - 1) & ~(a - 1));
	}
	if (e->ap) {
		put(b, n, 9, 4);
		put(b, n + 4, e->note_descsz, 4);
		put(b, n + 8, 1, 4);
		memcpy(b + n + 12, "LIBVMMIO", 9);
		put(b, n + 24, e->ap, 8);
		n += 24 + ((e->note_descsz + 7) & ~7u);
	}
	return n;
}

static void write_elf(const struct elfimg *e)
{
	size_t cap = 0x20000, off = 0x1000, nph = e->nseg + (e->note ? 1 : 0);
	uint8_t *f = calloc(1, cap);
	Elf64_Ehdr eh = {0};
	Elf64_Phdr ph[5] = {{0}};

	for (unsigned i = 0; i < e->nseg; i++) {
		const struct seg *s = &e->seg[i];

		ph[i] = (Elf64_Phdr){.p_type = s->type,
				     .p_flags = PF_R | PF_X,
				     .p_offset = s->offset ? s->offset : off,
				     .p_vaddr = s->vaddr,
				     .p_paddr = s->paddr,
				     .p_filesz = s->filesz,
				     .p_memsz = s->memsz,
				     .p_align = s->align};
		for (uint64_t j = 0; !s->offset && j < s->filesz; j++)
			f[off + j] = pat(j, i + 1);
		if (!s->offset)
			off += (s->filesz + 0xfff) & ~0xfffull;
	}
	if (e->note) {
		size_t n = note_bytes(e, f + off);

		ph[e->nseg] = (Elf64_Phdr){.p_type = PT_NOTE,
					   .p_offset = off,
					   .p_filesz = n,
					   .p_memsz = n,
					   .p_align = e->note_align};
		off += 0x1000;
	}
	ck_assert_uint_le(off, cap);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = e->cls;
	eh.e_ident[EI_DATA] = e->data;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = e->type;
	eh.e_machine = e->machine;
	eh.e_version = EV_CURRENT;
	eh.e_entry = e->entry;
	eh.e_phoff = e->phoff;
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = e->phentsize;
	eh.e_phnum = (uint16_t)(e->phnum_override ? e->phnum_override : nph);
	memcpy(f, &eh, sizeof(eh));
	memcpy(f + sizeof(eh), ph, nph * sizeof(ph[0]));
	write_file(kpath, f, e->file_len ? e->file_len : off);
	free(f);
}

/* ---- common checks ---- */

static int load(struct tram *t, const char *cmdline, int initrd, uint64_t rsdp,
		struct vmm_boot_info *bi, char *err, size_t errlen)
{
	struct vmm_boot_cfg cfg = {.kernel = kpath,
				   .initrd = initrd ? ipath : NULL,
				   .cmdline = cmdline,
				   .rsdp = rsdp};

	return vmm_load_linux(&t->ram, &cfg, bi, err, errlen);
}

static void check_e820(const struct tram *t, unsigned n,
		       const uint64_t (*want)[3])
{
	ck_assert_uint_eq(ZP(t, ZP_E820_N, 1), n);
	for (unsigned i = 0; i < n; i++) {
		uint64_t e = ZP_E820 + 20 * i;

		ck_assert_uint_eq(ZP(t, e, 8), want[i][0]);
		ck_assert_uint_eq(ZP(t, e + 8, 8), want[i][1]);
		ck_assert_uint_eq(ZP(t, e + 16, 4), want[i][2]);
	}
	ck_assert_uint_eq(ZP(t, ZP_E820 + 20 * n, 8), 0);
}

static void check_tables(const struct tram *t)
{
	ck_assert_uint_eq(g64(t, VMM_GDT_ADDR, 8), 0);
	ck_assert_uint_eq(g64(t, VMM_GDT_ADDR + 8, 8), 0);
	ck_assert_uint_eq(g64(t, VMM_GDT_ADDR + VMM_SEL_CODE64, 8),
			  0x00af9b000000ffffull);
	ck_assert_uint_eq(g64(t, VMM_GDT_ADDR + VMM_SEL_DATA, 8),
			  0x00cf93000000ffffull);
	ck_assert_uint_eq(g64(t, VMM_PML4_ADDR, 8), 0xa003);
	ck_assert_uint_eq(g64(t, VMM_PML4_ADDR + 8, 8), 0);
	ck_assert_uint_eq(g64(t, VMM_PML4_ADDR + 511 * 8, 8), 0);
	ck_assert_uint_eq(g64(t, VMM_PDPT_ADDR, 8), 0xb003);
	ck_assert_uint_eq(g64(t, VMM_PDPT_ADDR + 3 * 8, 8), 0xe003);
	ck_assert_uint_eq(g64(t, VMM_PDPT_ADDR + 4 * 8, 8), 0);
	ck_assert_uint_eq(g64(t, VMM_PD_ADDR, 8), 0x83);
	ck_assert_uint_eq(g64(t, VMM_PD_ADDR + 8, 8), 0x200083);
	/* 3 GiB (the MMIO hole) and the last 2 MiB below 4 GiB */
	ck_assert_uint_eq(g64(t, VMM_PD_ADDR + 1536 * 8, 8), 0xc0000083);
	ck_assert_uint_eq(g64(t, VMM_PD_ADDR + 2047 * 8, 8), 0xffe00083);
}

static const uint64_t e820_64m[3][3] = {
    {0, 0x9fc00, 1}, {0x9fc00, 0x60400, 2}, {0x100000, 0x3f00000, 1}};

START_TEST(test_gpa)
{
	uint8_t a[0x100], b[0x100];
	struct vmm_ram ram = {
	    .r = {{0, sizeof(a), a}, {0x100000000ull, sizeof(b), b}}, .n = 2};

	ck_assert_ptr_eq(vmm_gpa(&ram, 0, 0x100), a);
	ck_assert_ptr_eq(vmm_gpa(&ram, 0xff, 1), a + 0xff);
	ck_assert_ptr_null(vmm_gpa(&ram, 0xff, 2));
	ck_assert_ptr_null(vmm_gpa(&ram, 0x100, 1));
	ck_assert_ptr_eq(vmm_gpa(&ram, 0x100000010ull, 0xf0), b + 0x10);
	ck_assert_ptr_null(vmm_gpa(&ram, 0x100000010ull, 0xf1));
	ck_assert_ptr_null(vmm_gpa(&ram, 0xffffffffull, 2));
	ck_assert_ptr_null(vmm_gpa(&ram, UINT64_MAX, 2));
	ck_assert_ptr_null(vmm_gpa(&ram, 0x10, UINT64_MAX));
	ck_assert_ptr_null(vmm_gpa(&ram, 0x100000010ull, UINT64_MAX - 8));
	ram.n = 1;
	ck_assert_ptr_null(vmm_gpa(&ram, 0x100000010ull, 1));
}
END_TEST

START_TEST(test_bz_64m)
{
	struct bz b = bz_default();
	struct vmm_boot_info bi;
	struct tram t;
	char err[256];
	const char *cl = "console=ttyS0 root=/dev/vda";
	uint64_t rd = 0x12345, rd_at = (0x4000000 - rd) & ~0xfffull;

	write_bz(&b);
	write_initrd(rd, 0);
	ram_new(&t, 64 * MIB, 0);
	ck_assert_int_eq(load(&t, cl, 1, 0xe0000, &bi, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(bi.format, "bzImage");
	ck_assert_uint_eq(bi.entry, 0x100200);
	ck_assert_uint_eq(bi.boot_params, 0x7000);
	ck_assert_uint_eq(bi.ap_entry, 0);
	/* decompressor runs at pref_address 16 MiB for init_size 4 MiB */
	ck_assert_uint_eq(bi.kernel_end, 0x1400000);
	ck_assert_uint_eq(bi.initrd_addr, rd_at);
	ck_assert_uint_eq(bi.initrd_size, rd);
	/* setup header copied, loader fields set */
	ck_assert_uint_eq(ZP(&t, ZP_SETUP_SECTS, 1), 2);
	ck_assert_uint_eq(ZP(&t, ZP_BOOT_FLAG, 2), 0xaa55);
	ck_assert_uint_eq(ZP(&t, ZP_HEADER, 4), 0x53726448);
	ck_assert_uint_eq(ZP(&t, ZP_VERSION, 2), 0x020f);
	ck_assert_uint_eq(ZP(&t, ZP_LOADER, 1), 0xff);
	ck_assert_uint_eq(ZP(&t, ZP_LOADFLAGS, 1), 0x81);
	ck_assert_uint_eq(ZP(&t, ZP_HEAP_END, 2), 0xfe00);
	ck_assert_uint_eq(ZP(&t, ZP_CMDLINE, 4), 0x20000);
	ck_assert_uint_eq(ZP(&t, ZP_EXT_CMDLINE, 4), 0);
	ck_assert_uint_eq(ZP(&t, ZP_RD_IMAGE, 4), rd_at);
	ck_assert_uint_eq(ZP(&t, ZP_RD_SIZE, 4), rd);
	ck_assert_uint_eq(ZP(&t, ZP_EXT_RD_IMAGE, 4), 0);
	ck_assert_uint_eq(ZP(&t, ZP_EXT_RD_SIZE, 4), 0);
	ck_assert_uint_eq(ZP(&t, ZP_ALIGN, 4), 0x200000);
	ck_assert_uint_eq(ZP(&t, ZP_XLF, 2), 1);
	ck_assert_uint_eq(ZP(&t, ZP_CMDLINE_SIZE, 4), 0x7ff);
	ck_assert_uint_eq(ZP(&t, ZP_PREF, 8), 0x1000000);
	ck_assert_uint_eq(ZP(&t, ZP_INIT_SIZE, 4), 0x400000);
	ck_assert_uint_eq(ZP(&t, 0x26c, 1), 0);
	ck_assert_uint_eq(ZP(&t, ZP_RSDP, 8), 0xe0000);
	ck_assert_uint_eq(ZP(&t, 0, 8), 0); /* rest of the page zeroed */
	ck_assert_uint_eq(ZP(&t, 0xff8, 8), 0);
	check_e820(&t, 3, e820_64m);
	/* command line, NUL, and nothing more written */
	ck_assert_mem_eq(gp(&t, 0x20000, strlen(cl) + 1), cl, strlen(cl) + 1);
	ck_assert_uint_eq(*gp(&t, 0x20000 + strlen(cl) + 1, 1), 0xcc);
	/* protected-mode part at 1 MiB, nothing past it */
	for (uint64_t i = 0; i < b.pm_size; i++)
		ck_assert_uint_eq(*gp(&t, 0x100000 + i, 1), pat(i, 5));
	ck_assert_uint_eq(*gp(&t, 0x100000 + b.pm_size, 1), 0xcc);
	for (uint64_t i = 0; i < rd; i++)
		ck_assert_uint_eq(*gp(&t, rd_at + i, 1), pat(i, 77));
	ck_assert_uint_eq(*gp(&t, rd_at - 1, 1), 0xcc);
	check_tables(&t);
	ram_free(&t);
}
END_TEST

/* setup_sects 0 means 4; protocol 2.12 has no acpi_rsdp_addr. */
START_TEST(test_bz_sects0_proto212)
{
	struct bz b = bz_default();
	struct vmm_boot_info bi;
	struct tram t;
	char err[256], cl[0x800];

	b.setup_sects = 0;
	b.version = 0x020c;
	b.relocatable = 0;
	b.pref = 0x1000000;
	memset(cl, 'x', 0x7ff);
	cl[0x7ff] = '\0';
	write_bz(&b);
	ram_new(&t, 64 * MIB, 0);
	ck_assert_int_eq(load(&t, cl, 0, 0xe0000, &bi, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(bi.entry, 0x100200);
	ck_assert_uint_eq(bi.initrd_addr, 0);
	for (uint64_t i = 0; i < b.pm_size; i++)
		ck_assert_uint_eq(*gp(&t, 0x100000 + i, 1), pat(i, 5));
	ck_assert_uint_eq(ZP(&t, ZP_VERSION, 2), 0x020c);
	ck_assert_uint_eq(ZP(&t, ZP_RSDP, 8), 0);
	ck_assert_uint_eq(ZP(&t, ZP_RD_IMAGE, 4), 0);
	ck_assert_uint_eq(ZP(&t, ZP_RD_SIZE, 4), 0);
	ck_assert_uint_eq(*gp(&t, 0x20000 + 0x7fe, 1), 'x');
	ck_assert_uint_eq(*gp(&t, 0x20000 + 0x7ff, 1), 0);
	ram_free(&t);
}
END_TEST

/* 5 GiB: 3 GiB low + 2 GiB from 4 GiB; the high region is PROT_NONE. */
START_TEST(test_bz_5g_split)
{
	static const uint64_t want[4][3] = {{0, 0x9fc00, 1},
					    {0x9fc00, 0x60400, 2},
					    {0x100000, 0xbff00000, 1},
					    {0x100000000, 0x80000000, 1}};
	struct bz b = bz_default();
	struct vmm_boot_info bi;
	struct tram t;
	char err[256];
	unsigned char *vec;
	size_t pages = 3 * GIB / 4096, resident = 0;

	write_bz(&b);
	write_initrd(MIB + 5, 0);
	ram_new(&t, 3 * GIB, 2 * GIB);
	ck_assert_int_eq(load(&t, "", 1, 0, &bi, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	check_e820(&t, 4, want);
	/* below initrd_addr_max 0x7fffffff, not at the top of low RAM */
	ck_assert_uint_eq(bi.initrd_addr, 0x7feff000);
	ck_assert_uint_eq(ZP(&t, ZP_RD_IMAGE, 4), 0x7feff000);
	ck_assert_uint_eq(ZP(&t, ZP_RD_SIZE, 4), MIB + 5);
	ck_assert_uint_eq(ZP(&t, ZP_RSDP, 8), 0);
	ck_assert_uint_eq(*gp(&t, 0x7feff000 + MIB + 4, 1), pat(MIB + 4, 77));
	check_tables(&t);
	/* only what it wrote: tables, zero page, cmdline, kernel, initrd */
	vec = malloc(pages);
	ck_assert_int_eq(mincore(t.ram.r[0].host, 3 * GIB, vec), 0);
	for (size_t i = 0; i < pages; i++)
		resident += vec[i] & 1;
	free(vec);
	ck_assert_uint_le(resident, 16 + 4 + 1 + 300);
	ram_free(&t);
}
END_TEST

START_TEST(test_elf_virtual_entry_note)
{
	struct elfimg e = elf_default();
	struct vmm_boot_info bi;
	struct tram t;
	char err[256], *cl = malloc(VMM_CMDLINE_MAX);
	const uint64_t kva = 0xffffffff81000000ull;

	/* text linked high at 2 MiB; data + bss; the AP entry in data */
	e.nseg = 2;
	e.seg[0] = (struct seg){PT_LOAD, kva, 0x200000, 0x1800, 0x1800, 0, 0};
	e.seg[1] =
	    (struct seg){PT_LOAD, kva + 0x10000, 0x210000, 0x800, 0x5000, 0, 0};
	e.entry = kva + 0x40;
	e.note = 1;
	e.ap = kva + 0x10100;
	memset(cl, 'y', VMM_CMDLINE_MAX - 1);
	cl[VMM_CMDLINE_MAX - 1] = '\0';
	write_elf(&e);
	write_initrd(0x2000, 0);
	ram_new(&t, 64 * MIB, 0);
	ck_assert_int_eq(load(&t, cl, 1, 0xe0000, &bi, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(bi.format, "ELF");
	ck_assert_uint_eq(bi.entry, 0x200040);
	ck_assert_uint_eq(bi.ap_entry, 0x210100);
	ck_assert_uint_eq(bi.kernel_end, 0x215000);
	ck_assert_uint_eq(bi.initrd_addr, 0x4000000 - 0x2000);
	for (uint64_t i = 0; i < 0x1800; i++)
		ck_assert_uint_eq(*gp(&t, 0x200000 + i, 1), pat(i, 1));
	ck_assert_uint_eq(*gp(&t, 0x201800, 1), 0xcc);
	for (uint64_t i = 0; i < 0x800; i++)
		ck_assert_uint_eq(*gp(&t, 0x210000 + i, 1), pat(i, 2));
	for (uint64_t i = 0x800; i < 0x5000; i++)
		ck_assert_uint_eq(*gp(&t, 0x210000 + i, 1), 0);
	ck_assert_uint_eq(*gp(&t, 0x215000, 1), 0xcc);
	/* zero page built from scratch */
	ck_assert_uint_eq(ZP(&t, ZP_BOOT_FLAG, 2), 0xaa55);
	ck_assert_uint_eq(ZP(&t, ZP_HEADER, 4), 0x53726448);
	ck_assert_uint_eq(ZP(&t, ZP_VERSION, 2), 0x020f);
	ck_assert_uint_eq(ZP(&t, ZP_LOADER, 1), 0xff);
	ck_assert_uint_eq(ZP(&t, ZP_LOADFLAGS, 1), 0x81);
	ck_assert_uint_eq(ZP(&t, ZP_HEAP_END, 2), 0xfe00);
	ck_assert_uint_eq(ZP(&t, ZP_CMDLINE, 4), 0x20000);
	ck_assert_uint_eq(ZP(&t, ZP_CMDLINE_SIZE, 4), VMM_CMDLINE_MAX - 1);
	ck_assert_uint_eq(ZP(&t, ZP_INITRD_MAX, 4), 0x7fffffff);
	ck_assert_uint_eq(ZP(&t, ZP_ALIGN, 4), 0x200000);
	ck_assert_uint_eq(ZP(&t, ZP_RD_IMAGE, 4), 0x4000000 - 0x2000);
	ck_assert_uint_eq(ZP(&t, ZP_RD_SIZE, 4), 0x2000);
	ck_assert_uint_eq(ZP(&t, ZP_RSDP, 8), 0xe0000);
	ck_assert_uint_eq(ZP(&t, ZP_SETUP_SECTS, 1), 0);
	check_e820(&t, 3, e820_64m);
	ck_assert_uint_eq(*gp(&t, 0x20000 + VMM_CMDLINE_MAX - 2, 1), 'y');
	ck_assert_uint_eq(*gp(&t, 0x20000 + VMM_CMDLINE_MAX - 1, 1), 0);
	check_tables(&t);
	free(cl);
	ram_free(&t);
}
END_TEST

/* Debian's vmlinux shape: physical e_entry; an 8-aligned note segment. */
START_TEST(test_elf_physical_entry)
{
	struct elfimg e = elf_default();
	struct vmm_boot_info bi;
	struct tram t;
	char err[256];

	e.seg[0].vaddr = 0xffffffff81000000ull;
	e.entry = 0x100000;
	e.note = 1;
	e.note_align = 8;
	e.ap = 0x100800;
	write_elf(&e);
	ram_new(&t, 2 * MIB, 0);
	ck_assert_int_eq(load(&t, NULL, 0, 0, &bi, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(bi.entry, 0x100000);
	ck_assert_uint_eq(bi.ap_entry, 0x100800);
	ck_assert_uint_eq(bi.kernel_end, 0x103000);
	ck_assert_uint_eq(*gp(&t, 0x20000, 1), 0);
	ck_assert_uint_eq(ZP(&t, ZP_RSDP, 8), 0);
	ck_assert_uint_eq(ZP(&t, ZP_E820_N, 1), 3);
	ck_assert_uint_eq(ZP(&t, ZP_E820 + 40 + 8, 8), MIB);
	/* only the foreign note: no AP entry */
	e.ap = 0;
	write_elf(&e);
	ck_assert_int_eq(load(&t, NULL, 0, 0, &bi, err, sizeof(err)), 0);
	ck_assert_uint_eq(bi.ap_entry, 0);
	ram_free(&t);
}
END_TEST

/*
 * PVH: struct hvm_start_info and its tables, offsets written out from
 * Xen's arch-x86/hvm/start_info.h (version 1).
 */
#define SI_MAGIC 0
#define SI_VERSION 4
#define SI_FLAGS 8
#define SI_NR_MODULES 12
#define SI_MODLIST 16
#define SI_CMDLINE 24
#define SI_RSDP 32
#define SI_MEMMAP 40
#define SI_MEMMAP_N 48
#define SI_RESERVED 52
#define SI(t, off, n) g64((t), VMM_PVH_INFO_ADDR + (off), (n))

static void check_memmap(const struct tram *t, unsigned n,
			 const uint64_t (*want)[3])
{
	ck_assert_uint_eq(SI(t, SI_MEMMAP, 8), 0x6080);
	ck_assert_uint_eq(SI(t, SI_MEMMAP_N, 4), n);
	for (unsigned i = 0; i < n; i++) {
		uint64_t e = 0x6080 + 24 * i;

		ck_assert_uint_eq(g64(t, e, 8), want[i][0]);
		ck_assert_uint_eq(g64(t, e + 8, 8), want[i][1]);
		ck_assert_uint_eq(g64(t, e + 16, 4), want[i][2]);
		ck_assert_uint_eq(g64(t, e + 20, 4), 0);
	}
}

/* The test guest's shape: PVH note (4 bytes) first, then LIBVMMIO. */
START_TEST(test_elf_pvh)
{
	struct elfimg e = elf_default();
	struct vmm_boot_info bi;
	struct tram t;
	char err[256];
	const char *cl = "tg.run=blk virtio_mmio.device=512@0xd0000000:16";

	e.note = 1;
	e.pvh = 0x100020;
	e.ap = 0x100800;
	write_elf(&e);
	write_initrd(0x2000, 0);
	ram_new(&t, 64 * MIB, 0);
	ck_assert_int_eq(load(&t, cl, 1, 0xe0000, &bi, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert(bi.pvh);
	ck_assert_uint_eq(bi.pvh_entry, 0x100020);
	ck_assert_uint_eq(bi.pvh_start_info, 0x6000);
	ck_assert_uint_eq(bi.entry, 0x100010); /* e_entry, unused for PVH */
	ck_assert_uint_eq(bi.ap_entry, 0x100800);
	ck_assert_uint_eq(SI(&t, SI_MAGIC, 4), 0x336ec578);
	ck_assert_uint_eq(SI(&t, SI_VERSION, 4), 1);
	ck_assert_uint_eq(SI(&t, SI_FLAGS, 4), 0);
	ck_assert_uint_eq(SI(&t, SI_NR_MODULES, 4), 1);
	ck_assert_uint_eq(SI(&t, SI_MODLIST, 8), 0x6040);
	ck_assert_uint_eq(SI(&t, SI_CMDLINE, 8), 0x20000);
	ck_assert_uint_eq(SI(&t, SI_RSDP, 8), 0xe0000);
	ck_assert_uint_eq(SI(&t, SI_RESERVED, 4), 0);
	check_memmap(&t, 3, e820_64m);
	/* module 0: the initrd, no command line of its own */
	ck_assert_uint_eq(g64(&t, 0x6040, 8), 0x4000000 - 0x2000);
	ck_assert_uint_eq(g64(&t, 0x6048, 8), 0x2000);
	ck_assert_uint_eq(g64(&t, 0x6050, 8), 0);
	ck_assert_uint_eq(g64(&t, 0x6058, 8), 0);
	ck_assert_mem_eq(gp(&t, 0x20000, strlen(cl) + 1), cl, strlen(cl) + 1);
	ck_assert_uint_eq(*gp(&t, 0x20000 + strlen(cl) + 1, 1), 0xcc);
	/* GDT: 32-bit flat code at 0x08 for the PVH entry, the rest as
	 * for the 64-bit entry; the zero page is still written */
	ck_assert_uint_eq(g64(&t, VMM_GDT_ADDR + VMM_SEL_CODE32, 8),
			  0x00cf9b000000ffffull);
	ck_assert_uint_eq(g64(&t, VMM_GDT_ADDR + VMM_SEL_CODE64, 8),
			  0x00af9b000000ffffull);
	ck_assert_uint_eq(g64(&t, VMM_GDT_ADDR + VMM_SEL_DATA, 8),
			  0x00cf93000000ffffull);
	check_e820(&t, 3, e820_64m);
	ram_free(&t);
}
END_TEST

/* 8-byte descriptor (Linux's shape), 8-aligned notes, no initrd, no
 * RSDP, RAM above 4 GiB: four memory map entries. */
START_TEST(test_elf_pvh_desc8_5g)
{
	static const uint64_t want[4][3] = {{0, 0x9fc00, 1},
					    {0x9fc00, 0x60400, 2},
					    {0x100000, 0xbff00000, 1},
					    {0x100000000, 0x80000000, 1}};
	struct elfimg e = elf_default();
	struct vmm_boot_info bi;
	struct tram t;
	char err[256];

	e.note = 1;
	e.note_align = 8;
	e.pvh = 0x101ff8;
	e.pvh_descsz = 8;
	write_elf(&e);
	ram_new(&t, 3 * GIB, 2 * GIB);
	ck_assert_int_eq(load(&t, NULL, 0, 0, &bi, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert(bi.pvh);
	ck_assert_uint_eq(bi.pvh_entry, 0x101ff8);
	ck_assert_uint_eq(bi.ap_entry, 0);
	ck_assert_uint_eq(SI(&t, SI_NR_MODULES, 4), 0);
	ck_assert_uint_eq(SI(&t, SI_MODLIST, 8), 0);
	ck_assert_uint_eq(SI(&t, SI_RSDP, 8), 0);
	ck_assert_uint_eq(SI(&t, SI_CMDLINE, 8), 0x20000);
	ck_assert_uint_eq(*gp(&t, 0x20000, 1), 0);
	check_memmap(&t, 4, want);
	ram_free(&t);
}
END_TEST

/* No PVH note: the 64-bit path, nothing written at 0x6000, GDT slot 1
 * null; a bzImage never boots the PVH way. */
START_TEST(test_no_pvh)
{
	struct elfimg e = elf_default();
	struct bz b = bz_default();
	struct vmm_boot_info bi;
	struct tram t;
	char err[256];

	e.note = 1;
	e.ap = 0x100800;
	write_elf(&e);
	ram_new(&t, 64 * MIB, 0);
	ck_assert_int_eq(load(&t, "x", 0, 0xe0000, &bi, err, sizeof(err)), 0);
	ck_assert(!bi.pvh);
	ck_assert_uint_eq(bi.pvh_entry, 0);
	ck_assert_uint_eq(bi.pvh_start_info, 0);
	ck_assert_uint_eq(bi.entry, 0x100010);
	ck_assert_uint_eq(g64(&t, VMM_PVH_INFO_ADDR, 8), 0xccccccccccccccccull);
	check_tables(&t);
	ram_free(&t);
	write_bz(&b);
	ram_new(&t, 64 * MIB, 0);
	ck_assert_int_eq(load(&t, "x", 0, 0xe0000, &bi, err, sizeof(err)), 0);
	ck_assert(!bi.pvh);
	ck_assert_uint_eq(g64(&t, VMM_PVH_INFO_ADDR, 8), 0xccccccccccccccccull);
	ram_free(&t);
}
END_TEST

/* ---- one row per check ---- */

struct scen {
	int elf, no_kernel, dir_kernel, initrd_missing;
	struct bz bz;
	struct elfimg e;
	uint64_t ram, initrd; /* initrd bytes, 0: none */
	const char *cmdline;
};

struct bad {
	const char *name;
	void (*mut)(struct scen *s);
	const char *want; /* %s: the file the message must name */
	int names_initrd;
};

static void m_missing(struct scen *s)
{
	s->no_kernel = 1;
}
static void m_dir(struct scen *s)
{
	s->dir_kernel = 1;
}
static void m_tiny(struct scen *s)
{
	s->bz.file_len = 0x100;
}
static void m_trunc_pm(struct scen *s)
{
	s->bz.file_len = bz_pm_off(&s->bz) + 0x100;
}
static void m_magic(struct scen *s)
{
	s->bz.boot_flag = 0x1234;
}
static void m_hdrs(struct scen *s)
{
	s->bz.header = 0x12345678;
}
static void m_old(struct scen *s)
{
	s->bz.version = 0x020a;
}
static void m_short_hdr(struct scen *s)
{
	s->bz.hdr_jump = 0x40;
}
static void m_xlf(struct scen *s)
{
	s->bz.xloadflags = 0x2;
}
static void m_zimage(struct scen *s)
{
	s->bz.loadflags = 0;
}
static void m_align(struct scen *s)
{
	s->bz.align = 0x300000;
}
static void m_init_size(struct scen *s)
{
	s->ram = 32 * MIB;
	s->bz.init_size = 0x2000000;
}
static void m_pm_big(struct scen *s)
{
	s->ram = 2 * MIB;
	s->bz.pm_size = MIB + 1;
}
static void m_ram_small(struct scen *s)
{
	s->ram = MIB;
}
static void m_cmdline_bz(struct scen *s)
{
	static char cl[0x801];

	memset(cl, 'a', 0x800);
	s->cmdline = cl;
}
static void m_initrd_big(struct scen *s)
{
	s->initrd = 48 * MIB;
}
static void m_initrd_missing(struct scen *s)
{
	s->initrd_missing = 1;
}
static void m_elf32(struct scen *s)
{
	s->elf = 1;
	s->e.cls = ELFCLASS32;
}
static void m_elf_be(struct scen *s)
{
	s->elf = 1;
	s->e.data = ELFDATA2MSB;
}
static void m_elf_machine(struct scen *s)
{
	s->elf = 1;
	s->e.machine = EM_386;
}
static void m_elf_dyn(struct scen *s)
{
	s->elf = 1;
	s->e.type = ET_DYN;
}
static void m_elf_hdr_trunc(struct scen *s)
{
	s->elf = 1;
	s->e.file_len = 40;
}
static void m_elf_phnum(struct scen *s)
{
	s->elf = 1;
	s->e.phentsize = 32;
}
static void m_elf_phoff(struct scen *s)
{
	s->elf = 1;
	s->e.phoff = 0x1ffc0;
}
static void m_elf_outside(struct scen *s)
{
	s->elf = 1;
	s->e.seg[0].paddr = 0x3f00000;
	s->e.seg[0].memsz = 0x200000;
}
static void m_elf_low(struct scen *s)
{
	s->elf = 1;
	s->e.seg[0].paddr = 0x7000;
}
static void m_elf_wrap(struct scen *s)
{
	s->elf = 1;
	s->e.seg[0].paddr = 0xfffffffffffff000ull;
}
static void m_elf_past_eof(struct scen *s)
{
	s->elf = 1;
	s->e.seg[0].filesz = MIB;
	s->e.seg[0].memsz = MIB;
	s->e.seg[0].offset = 0x1000;
}
static void m_elf_off_wrap(struct scen *s)
{
	s->elf = 1;
	s->e.seg[0].offset = UINT64_MAX - 0x10;
}
static void m_elf_filesz(struct scen *s)
{
	s->elf = 1;
	s->e.seg[0].memsz = 0x1000;
}
static void m_elf_noload(struct scen *s)
{
	s->elf = 1;
	s->e.seg[0].type = PT_NULL;
}
static void m_elf_entry(struct scen *s)
{
	s->elf = 1;
	s->e.entry = 0x5000000;
}
static void m_elf_entry_bss(struct scen *s)
{
	s->elf = 1;
	s->e.entry = 0x102800;
}
static void m_elf_note(struct scen *s)
{
	s->elf = 1;
	s->e.note = 1;
	s->e.ap = 0x100000;
	s->e.note_descsz = 4;
}
static void m_elf_note_entry(struct scen *s)
{
	s->elf = 1;
	s->e.note = 1;
	s->e.ap = 0x900000;
}
static void m_pvh_descsz(struct scen *s)
{
	s->elf = 1;
	s->e.note = 1;
	s->e.pvh = 0x100020;
	s->e.pvh_descsz = 2;
}
static void m_pvh_entry(struct scen *s)
{
	s->elf = 1;
	s->e.note = 1;
	s->e.pvh = 0x900000;
}
static void m_pvh_entry_bss(struct scen *s)
{
	s->elf = 1;
	s->e.note = 1;
	s->e.pvh = 0x102800; /* in p_memsz, past p_filesz */
}
static void m_pvh_entry_high(struct scen *s)
{
	s->elf = 1;
	s->e.note = 1;
	s->e.pvh = 0x100000100020ull; /* low half inside: not truncated */
	s->e.pvh_descsz = 8;
}
static void m_cmdline_elf(struct scen *s)
{
	static char cl[VMM_CMDLINE_MAX + 1];

	s->elf = 1;
	memset(cl, 'b', VMM_CMDLINE_MAX);
	s->cmdline = cl;
}

static const struct bad bad[] = {
    {"missing", m_missing, "kernel %s: No such file or directory", 0},
    {"directory", m_dir, "kernel %s: not a regular file", 0},
    {"tiny", m_tiny,
     "kernel %s: 0x100 bytes, too short for a bzImage (0x264) or ELF", 0},
    {"truncated", m_trunc_pm,
     "kernel %s: truncated: 0x700 bytes, setup alone is 0x600", 0},
    {"magic", m_magic,
     "kernel %s: boot sector magic 0x1234 at 0x1fe, want 0xaa55", 0},
    {"HdrS", m_hdrs, "kernel %s: no setup header (0x12345678 at 0x202", 0},
    {"protocol", m_old, "kernel %s: boot protocol 2.10 too old, need >= 2.12",
     0},
    {"short header", m_short_hdr,
     "kernel %s: setup header ends at 0x242, need 0x264", 0},
    {"xloadflags", m_xlf,
     "kernel %s: xloadflags 0x2 lacks XLF_KERNEL_64 (no 64-bit entry)", 0},
    {"zImage", m_zimage, "kernel %s: loadflags 0x0 lacks LOADED_HIGH", 0},
    {"alignment", m_align,
     "kernel %s: kernel_alignment 0x300000 is not a power of two", 0},
    {"init_size", m_init_size,
     "kernel %s: needs RAM up to 0x3000000 (init_size 0x2000000 from "
     "0x1000000), RAM ends at 0x2000000",
     0},
    {"pm too big", m_pm_big,
     "kernel %s: protected-mode part 0x100001 bytes, RAM above 1 MiB is "
     "0x100000 bytes",
     0},
    {"RAM small", m_ram_small,
     "guest RAM: low region 0x100000 bytes, need 2 MiB to 3 GiB", 0},
    {"cmdline bz", m_cmdline_bz,
     "command line: 2048 bytes, kernel %s takes at most 2047", 0},
    {"initrd big", m_initrd_big,
     "initrd %s: 0x3000000 bytes do not fit: 0x2c00000 bytes free between "
     "kernel end 0x1400000 and limit 0x4000000",
     1},
    {"initrd missing", m_initrd_missing, "initrd %s: No such file or directory",
     1},
    {"ELF32", m_elf32, "kernel %s: ELF class 1, need ELFCLASS64 (2)", 0},
    {"ELF BE", m_elf_be, "kernel %s: ELF data 2, need little-endian", 0},
    {"ELF machine", m_elf_machine,
     "kernel %s: e_machine 3, need EM_X86_64 (62)", 0},
    {"ELF DYN", m_elf_dyn, "kernel %s: e_type 3, need ET_EXEC (2)", 0},
    {"ELF header", m_elf_hdr_trunc,
     "kernel %s: truncated ELF header (0x28 bytes)", 0},
    {"ELF phentsize", m_elf_phnum,
     "kernel %s: 1 program headers of 32 bytes, need 1 to 128 of 56", 0},
    {"ELF phoff", m_elf_phoff,
     "kernel %s: program headers at 0x1ffc0 past end of file (0x3000 "
     "bytes)",
     0},
    {"ELF outside", m_elf_outside,
     "kernel %s: segment 0: 0x3f00000+0x200000 outside guest RAM "
     "[0x100000, 0x4000000)",
     0},
    {"ELF low", m_elf_low,
     "kernel %s: segment 0: 0x7000+0x3000 outside guest RAM", 0},
    {"ELF wrap", m_elf_wrap,
     "kernel %s: segment 0: 0xfffffffffffff000+0x3000 outside guest RAM", 0},
    {"ELF past EOF", m_elf_past_eof,
     "kernel %s: segment 0: file bytes 0x1000+0x100000 past end of file "
     "(0x1000 bytes)",
     0},
    {"ELF offset wrap", m_elf_off_wrap,
     "kernel %s: segment 0: file bytes 0xffffffffffffffef+0x2000 past end "
     "of file",
     0},
    {"ELF filesz", m_elf_filesz,
     "kernel %s: segment 0: p_filesz 0x2000 > p_memsz 0x1000", 0},
    {"ELF no load", m_elf_noload, "kernel %s: no PT_LOAD segment", 0},
    {"ELF entry", m_elf_entry,
     "kernel %s: entry 0x5000000 (physical 0x5000000) outside the loaded "
     "segments",
     0},
    {"ELF entry bss", m_elf_entry_bss,
     "kernel %s: entry 0x102800 (physical 0x102800) outside the loaded "
     "segments",
     0},
    {"ELF note descsz", m_elf_note,
     "kernel %s: LIBVMMIO note: descsz 4, want 8", 0},
    {"ELF note entry", m_elf_note_entry,
     "kernel %s: LIBVMMIO entry 0x900000 (physical 0x900000) outside", 0},
    {"PVH note descsz", m_pvh_descsz,
     "kernel %s: PVH note (Xen, type 18): descsz 2, want 4 or 8", 0},
    {"PVH entry", m_pvh_entry,
     "kernel %s: PVH entry 0x900000 outside the loaded segments", 0},
    {"PVH entry bss", m_pvh_entry_bss,
     "kernel %s: PVH entry 0x102800 outside the loaded segments", 0},
    {"PVH entry high", m_pvh_entry_high,
     "kernel %s: PVH entry 0x100000100020 outside the loaded segments", 0},
    {"cmdline ELF", m_cmdline_elf,
     "command line: 65536 bytes, kernel %s takes at most 65535", 0},
};

/* @fmt with its one "%s" replaced by @path (no non-literal printf). */
static void expand(char *out, size_t len, const char *fmt, const char *path)
{
	const char *at = strstr(fmt, "%s");

	if (!at)
		snprintf(out, len, "%s", fmt);
	else
		snprintf(out, len, "%.*s%s%s", (int)(at - fmt), fmt, path,
			 at + 2);
}

START_TEST(test_bad)
{
	const struct bad *row = &bad[_i];
	struct scen s = {
	    .bz = bz_default(), .e = elf_default(), .ram = 64 * MIB};
	struct vmm_boot_info bi;
	struct tram t;
	char err[512], want[512];
	int r;

	row->mut(&s);
	if (s.dir_kernel)
		ck_assert_int_eq(mkdir(kpath, 0755), 0);
	else if (s.elf)
		write_elf(&s.e);
	else if (!s.no_kernel)
		write_bz(&s.bz);
	if (s.initrd)
		write_initrd(s.initrd, 1);
	ram_new(&t, s.ram, 0);
	memset(&bi, 0x5a, sizeof(bi));
	r = load(&t, s.cmdline, s.initrd || s.initrd_missing, 0, &bi, err,
		 sizeof(err));
	expand(want, sizeof(want), row->want,
	       row->names_initrd ? ipath : kpath);
	ck_assert_msg(r == -1, "%s: returned %d", row->name, r);
	ck_assert_msg(!strncmp(err, want, strlen(want)),
		      "%s:\n got  \"%s\"\n want \"%s...\"", row->name, err,
		      want);
	ck_assert_uint_eq(bi.entry, 0);
	ck_assert(!bi.pvh);
	if (s.dir_kernel)
		rmdir(kpath);
	ram_free(&t);
}
END_TEST

/* Bad RAM descriptions and the error buffer contract. */
START_TEST(test_bad_ram)
{
	struct bz b = bz_default();
	struct vmm_boot_info bi;
	struct tram t;
	char err[256], tiny[8];
	struct vmm_boot_cfg cfg = {.kernel = kpath};

	write_bz(&b);
	ram_new(&t, 64 * MIB, 0);
	t.ram.n = 3;
	ck_assert_int_eq(vmm_load_linux(&t.ram, &cfg, &bi, err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "guest RAM: 3 regions, need 1 or 2");
	t.ram.n = 2; /* region 1 is all zero: below 4 GiB, empty */
	ck_assert_int_eq(vmm_load_linux(&t.ram, &cfg, &bi, err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "guest RAM: high region [0x0, +0x0) must start "
			      "at or above 4 GiB and be non-empty");
	t.ram.n = 1;
	t.ram.r[0].gpa = 0x1000;
	ck_assert_int_eq(vmm_load_linux(&t.ram, &cfg, &bi, err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "guest RAM: region 0 at 0x1000, need 0");
	t.ram.r[0].gpa = 0;
	cfg.kernel = NULL;
	ck_assert_int_eq(vmm_load_linux(&t.ram, &cfg, &bi, err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "kernel: no path given");
	/* a short buffer gets a truncated, terminated message */
	t.ram.n = 3;
	ck_assert_int_eq(vmm_load_linux(&t.ram, &cfg, &bi, tiny, sizeof(tiny)),
			 -1);
	ck_assert_str_eq(tiny, "guest R");
	t.ram.n = 1;
	ram_free(&t);
}
END_TEST

/* ---- the Debian kernel from `make guest` (GUEST_DIR) ---- */

static int guest_file(const char *name, char *path, size_t len)
{
	const char *dir = getenv("GUEST_DIR");

	if (!dir || !*dir) {
		fprintf(stderr, "loader: GUEST_DIR unset, skipping the real "
				"kernel test (run `make guest`)\n");
		return 0;
	}
	snprintf(path, len, "%s/%s", dir, name);
	if (access(path, R_OK)) {
		fprintf(stderr, "loader: %s: %s, skipping (run `make guest`)\n",
			path, strerror(errno));
		return 0;
	}
	return 1;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long n;

	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b = malloc((size_t)n);
	ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

START_TEST(test_real_bzimage)
{
	char path[4096], err[512];
	struct vmm_boot_cfg cfg = {
	    .cmdline = "console=ttyS0 earlyprintk=serial", .rsdp = 0xe0000};
	struct vmm_boot_info bi;
	struct tram t;
	size_t len;
	uint8_t *f;
	uint16_t ver;
	uint32_t align, init_size;
	uint64_t pm, pref, run, need;

	if (!guest_file("vmlinuz", path, sizeof(path)))
		return;
	cfg.kernel = path;
	f = slurp(path, &len);
	memcpy(&ver, f + ZP_VERSION, 2);
	memcpy(&align, f + ZP_ALIGN, 4);
	memcpy(&init_size, f + ZP_INIT_SIZE, 4);
	memcpy(&pref, f + ZP_PREF, 8);
	pm = ((uint64_t)(f[0x1f1] ? f[0x1f1] : 4) + 1) * 512;
	run = f[ZP_RELOC] ? (MIB + align - 1) / align * align : pref;
	if (run < pref)
		run = pref;
	need = run + init_size;
	fprintf(stderr,
		"loader: %s: protocol %u.%02u xloadflags 0x%x init_size 0x%x "
		"pref 0x%llx align 0x%x relocatable %u: needs RAM to 0x%llx\n",
		path, ver >> 8, ver & 0xff, f[ZP_XLF] | f[ZP_XLF + 1] << 8,
		init_size, (unsigned long long)pref, align, f[ZP_RELOC],
		(unsigned long long)need);
	ram_new(&t, 256 * MIB, 0);
	ck_assert_int_eq(vmm_load_linux(&t.ram, &cfg, &bi, err, sizeof(err)),
			 0);
	ck_assert_str_eq(bi.format, "bzImage");
	ck_assert_uint_eq(bi.entry, 0x100200);
	ck_assert_uint_eq(bi.kernel_end,
			  need > MIB + len - pm ? need : MIB + len - pm);
	ck_assert_uint_eq(ZP(&t, ZP_VERSION, 2), ver);
	ck_assert_uint_eq(ZP(&t, ZP_LOADER, 1), 0xff);
	ck_assert_uint_eq(ZP(&t, ZP_LOADFLAGS, 1), f[ZP_LOADFLAGS] | 0x80);
	ck_assert_uint_eq(ZP(&t, ZP_INIT_SIZE, 4), init_size);
	ck_assert_uint_eq(ZP(&t, ZP_RSDP, 8), ver >= 0x020e ? 0xe0000 : 0);
	ck_assert_mem_eq(gp(&t, MIB, len - pm), f + pm, len - pm);
	ck_assert_str_eq((const char *)gp(&t, 0x20000, 1), cfg.cmdline);
	ram_free(&t);
	if (need > 64 * MIB) {
		/* Debian's decompressor wants ~68 MiB: 64 MiB is too little */
		ram_new(&t, 64 * MIB, 0);
		ck_assert_int_eq(
		    vmm_load_linux(&t.ram, &cfg, &bi, err, sizeof(err)), -1);
		ck_assert_ptr_nonnull(strstr(err, "needs RAM up to"));
		ram_free(&t);
	}
	free(f);
}
END_TEST

START_TEST(test_real_vmlinux)
{
	char path[4096], err[512];
	struct vmm_boot_cfg cfg = {.cmdline = "console=ttyS0", .rsdp = 0xe0000};
	struct vmm_boot_info bi;
	struct tram t;
	size_t len;
	uint8_t *f;
	Elf64_Ehdr eh;
	Elf64_Phdr ph;

	if (!guest_file("vmlinux", path, sizeof(path)))
		return;
	cfg.kernel = path;
	f = slurp(path, &len);
	memcpy(&eh, f, sizeof(eh));
	memcpy(&ph, f + eh.e_phoff, sizeof(ph));
	ram_new(&t, 128 * MIB, 0);
	ck_assert_int_eq(vmm_load_linux(&t.ram, &cfg, &bi, err, sizeof(err)),
			 0);
	fprintf(
	    stderr, "loader: %s: e_entry 0x%llx -> 0x%llx, kernel_end 0x%llx\n",
	    path, (unsigned long long)eh.e_entry, (unsigned long long)bi.entry,
	    (unsigned long long)bi.kernel_end);
	ck_assert_str_eq(bi.format, "ELF");
	ck_assert_uint_eq(bi.ap_entry, 0);
	/* It has a PVH note, but Linux's notes keep it on the 64-bit boot
	 * protocol. */
	ck_assert(!bi.pvh);
	/* Debian's e_entry is physical (phys_startup_64) */
	if (eh.e_entry < 0xffffffff80000000ull)
		ck_assert_uint_eq(bi.entry, eh.e_entry);
	ck_assert_uint_eq(ph.p_type, PT_LOAD);
	ck_assert_mem_eq(gp(&t, ph.p_paddr, ph.p_filesz), f + ph.p_offset,
			 ph.p_filesz);
	ck_assert_uint_eq(ZP(&t, ZP_VERSION, 2), 0x020f);
	ck_assert_uint_eq(ZP(&t, ZP_RSDP, 8), 0xe0000);
	free(f);
	ram_free(&t);
}
END_TEST

Suite *loader_suite(void)
{
	Suite *s = suite_create("loader");
	TCase *tc = tcase_create("loader");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_gpa);
	tcase_add_test(tc, test_bz_64m);
	tcase_add_test(tc, test_bz_sects0_proto212);
	tcase_add_test(tc, test_bz_5g_split);
	tcase_add_test(tc, test_elf_virtual_entry_note);
	tcase_add_test(tc, test_elf_physical_entry);
	tcase_add_test(tc, test_elf_pvh);
	tcase_add_test(tc, test_elf_pvh_desc8_5g);
	tcase_add_test(tc, test_no_pvh);
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_bad_ram);
	tcase_add_test(tc, test_real_bzimage);
	tcase_add_test(tc, test_real_vmlinux);
	suite_add_tcase(s, tc);
	return s;
}
