/* SPDX-License-Identifier: Apache-2.0 */
/* Test guest RAM: one ring area plus a data area, optionally split into
 * many tiny regions whose host memory is not contiguous. */
#ifndef VMMIO_TGUEST_H
#define VMMIO_TGUEST_H

#include <vmmio/mem.h>

#define TG_RING_GPA 0x10000ull
#define TG_RING_LEN 0x40000ull
#define TG_DATA_GPA 0x100000ull
#define TG_DATA_LEN 0x100000ull
#define TG_ROM_GPA 0x300000ull /* a read-only region */
#define TG_ROM_LEN 0x1000ull
#define TG_MAX_REGIONS 4096

struct tguest {
	bool split;
	unsigned nreg;
	struct vmmio_mem_region reg[TG_MAX_REGIONS];
	struct vmmio_mem *mem;
	unsigned char *ring; /* host view of the ring area (contiguous) */
	vmmio_gpa_t data_next;
	unsigned seed;
};

/* Build guest RAM; @split: data area from random 16..1024-byte regions,
 * ring area as 4 KiB regions. */
void tg_init(struct tguest *g, bool split, unsigned seed);
void tg_free(struct tguest *g);
/* Bump allocator in the data area; aborts the test when exhausted. */
vmmio_gpa_t tg_alloc(struct tguest *g, size_t len, size_t align);
void tg_reset_alloc(struct tguest *g);
void tg_write(struct tguest *g, vmmio_gpa_t gpa, const void *src, size_t len);
void tg_read(struct tguest *g, vmmio_gpa_t gpa, void *dst, size_t len);
/* Host pointer of a ring-area gpa. */
void *tg_ring_ptr(struct tguest *g, vmmio_gpa_t gpa);

/* Small deterministic PRNG for reproducible random tests. */
static inline unsigned tg_rand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 8) & 0xffffff;
}

#endif
