/* SPDX-License-Identifier: Apache-2.0 */
/* Test guest RAM fixture (see tguest.h). */
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include "tguest.h"

static void add_region(struct tguest *g, vmmio_gpa_t gpa, uint64_t size,
		       void *host, bool ro)
{
	ck_assert_uint_lt(g->nreg, TG_MAX_REGIONS);
	g->reg[g->nreg++] = (struct vmmio_mem_region){
	    .gpa = gpa, .size = size, .host = host, .read_only = ro};
}

/* Separate allocations, so neighbours in gpa are not neighbours in host
 * memory: a device that assumes contiguity reads the wrong bytes. */
static void split_data(struct tguest *g)
{
	vmmio_gpa_t gpa = TG_DATA_GPA;

	while (gpa < TG_DATA_GPA + TG_DATA_LEN) {
		uint64_t size = 16u * (1 + tg_rand(&g->seed) % 64);
		void *host;

		if (size > TG_DATA_GPA + TG_DATA_LEN - gpa)
			size = TG_DATA_GPA + TG_DATA_LEN - gpa;
		host = aligned_alloc(16, size + 16);
		ck_assert_ptr_nonnull(host);
		memset(host, 0, size + 16);
		add_region(g, gpa, size, host, false);
		gpa += size;
	}
}

void tg_init(struct tguest *g, bool split, unsigned seed)
{
	void *rom;

	memset(g, 0, sizeof(*g));
	g->split = split;
	g->seed = seed;
	g->ring = aligned_alloc(4096, TG_RING_LEN);
	ck_assert_ptr_nonnull(g->ring);
	memset(g->ring, 0, TG_RING_LEN);
	if (split) {
		/* Host-contiguous, but every 4 KiB is its own region, so
		 * rings cross region boundaries. */
		for (uint64_t o = 0; o < TG_RING_LEN; o += 4096)
			add_region(g, TG_RING_GPA + o, 4096, g->ring + o,
				   false);
		split_data(g);
	} else {
		add_region(g, TG_RING_GPA, TG_RING_LEN, g->ring, false);
		void *data = aligned_alloc(4096, TG_DATA_LEN);

		ck_assert_ptr_nonnull(data);
		memset(data, 0, TG_DATA_LEN);
		add_region(g, TG_DATA_GPA, TG_DATA_LEN, data, false);
	}
	rom = aligned_alloc(4096, TG_ROM_LEN);
	memset(rom, 0xee, TG_ROM_LEN);
	add_region(g, TG_ROM_GPA, TG_ROM_LEN, rom, true);
	ck_assert_int_eq(vmmio_mem_new(g->reg, g->nreg, NULL, NULL, &g->mem),
			 0);
	tg_reset_alloc(g);
}

void tg_free(struct tguest *g)
{
	vmmio_mem_free(g->mem);
	for (unsigned i = 0; i < g->nreg; i++)
		if (g->reg[i].host != g->ring &&
		    (g->reg[i].gpa < TG_RING_GPA ||
		     g->reg[i].gpa >= TG_RING_GPA + TG_RING_LEN))
			free(g->reg[i].host);
	free(g->ring);
}

void tg_reset_alloc(struct tguest *g)
{
	g->data_next = TG_DATA_GPA;
}

vmmio_gpa_t tg_alloc(struct tguest *g, size_t len, size_t align)
{
	vmmio_gpa_t a = (g->data_next + align - 1) & ~(vmmio_gpa_t)(align - 1);

	if (a + len > TG_DATA_GPA + TG_DATA_LEN) {
		tg_reset_alloc(g);
		a = TG_DATA_GPA;
	}
	ck_assert_uint_le(a + len, TG_DATA_GPA + TG_DATA_LEN);
	g->data_next = a + len;
	return a;
}

void tg_write(struct tguest *g, vmmio_gpa_t gpa, const void *src, size_t len)
{
	ck_assert_int_eq(vmmio_mem_write(g->mem, gpa, src, len), 0);
}

void tg_read(struct tguest *g, vmmio_gpa_t gpa, void *dst, size_t len)
{
	ck_assert_int_eq(vmmio_mem_read(g->mem, gpa, dst, len), 0);
}

void *tg_ring_ptr(struct tguest *g, vmmio_gpa_t gpa)
{
	ck_assert_uint_ge(gpa, TG_RING_GPA);
	ck_assert_uint_lt(gpa, TG_RING_GPA + TG_RING_LEN);
	return g->ring + (gpa - TG_RING_GPA);
}
