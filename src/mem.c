/* SPDX-License-Identifier: Apache-2.0 */
/* libvmmio: guest-physical memory map with bounds- and overflow-checked access.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vmmio/mem.h>

#include "internal.h"

struct vmmio_mem {
	const struct vmmio_host_ops *host;
	void *opaque;
	unsigned count;
	struct vmmio_mem_region r[]; /* sorted by gpa, disjoint */
};

static int region_cmp(const void *a, const void *b)
{
	const struct vmmio_mem_region *x = a, *y = b;

	return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

static bool region_ok(const struct vmmio_mem_region *r)
{
	uint64_t last;

	return r->host && r->size && r->gpa % VMMIO_MEM_ALIGN == 0 &&
	       r->size % VMMIO_MEM_ALIGN == 0 &&
	       !__builtin_add_overflow(r->gpa, r->size - 1, &last);
}

int vmmio_mem_new(const struct vmmio_mem_region *regions, unsigned count,
		  const struct vmmio_host_ops *host, void *opaque,
		  struct vmmio_mem **out)
{
	struct vmmio_mem *m;
	unsigned i;

	if (!regions || !out || count == 0 || count > VMMIO_MEM_MAX_REGIONS)
		return -EINVAL;
	for (i = 0; i < count; i++)
		if (!region_ok(&regions[i]))
			return -EINVAL;
	m = vmmio__zalloc(host, opaque,
			  sizeof(*m) + count * sizeof(struct vmmio_mem_region));
	if (!m)
		return -ENOMEM;
	m->host = host;
	m->opaque = opaque;
	m->count = count;
	memcpy(m->r, regions, count * sizeof(struct vmmio_mem_region));
	qsort(m->r, count, sizeof(m->r[0]), region_cmp);
	for (i = 0; i + 1 < count; i++) {
		/* Inclusive ends: region_ok() proved they do not wrap. */
		if (m->r[i].gpa + (m->r[i].size - 1) >= m->r[i + 1].gpa) {
			vmmio__free(host, opaque, m);
			return -EINVAL;
		}
	}
	*out = m;
	return 0;
}

void vmmio_mem_free(struct vmmio_mem *mem)
{
	if (mem)
		vmmio__free(mem->host, mem->opaque, mem);
}

/* The region holding @gpa, or NULL. */
static const struct vmmio_mem_region *find(const struct vmmio_mem *m,
					   vmmio_gpa_t gpa)
{
	unsigned lo = 0, hi = m->count;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct vmmio_mem_region *r = &m->r[mid];

		if (gpa < r->gpa)
			hi = mid;
		else if (gpa - r->gpa >= r->size)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

void *vmmio_mem_ptr(const struct vmmio_mem *mem, vmmio_gpa_t gpa, size_t len,
		    bool write)
{
	const struct vmmio_mem_region *r;
	uint64_t off;

	if (len == 0)
		len = 1;
	r = find(mem, gpa);
	if (!r || (write && r->read_only))
		return NULL;
	off = gpa - r->gpa;
	if (len > r->size - off)
		return NULL;
	return (char *)r->host + off;
}

/*
 * Walk [gpa, gpa + len) region by region. With @seg NULL only check;
 * otherwise also record up to @cap segments.
 */
static int walk(const struct vmmio_mem *m, vmmio_gpa_t gpa, size_t len,
		bool write, struct vmmio_seg *seg, unsigned cap, unsigned *n)
{
	unsigned used = 0;
	uint64_t last;

	if (len && __builtin_add_overflow(gpa, len - 1, &last))
		return -EFAULT;
	while (len) {
		const struct vmmio_mem_region *r = find(m, gpa);
		uint64_t off, chunk;

		if (!r)
			return -EFAULT;
		if (write && r->read_only)
			return -EROFS;
		off = gpa - r->gpa;
		chunk = r->size - off < len ? r->size - off : len;
		if (seg) {
			if (used == cap)
				return -ENOSPC;
			seg[used].base = (char *)r->host + off;
			seg[used].len = (size_t)chunk;
		}
		used++;
		gpa += chunk;
		len -= (size_t)chunk;
	}
	if (n)
		*n = used;
	return 0;
}

int vmmio_mem_segments(const struct vmmio_mem *mem, vmmio_gpa_t gpa, size_t len,
		       bool write, struct vmmio_seg *seg, unsigned cap,
		       unsigned *n)
{
	if (!seg || !n)
		return -EINVAL;
	return walk(mem, gpa, len, write, seg, cap, n);
}

int vmmio_mem_read(const struct vmmio_mem *mem, vmmio_gpa_t gpa, void *dst,
		   size_t len)
{
	char *d = dst;
	int rc = walk(mem, gpa, len, false, NULL, 0, NULL);

	if (rc)
		return rc;
	while (len) {
		const struct vmmio_mem_region *r = find(mem, gpa);
		uint64_t off = gpa - r->gpa;
		size_t chunk =
		    (size_t)(r->size - off < len ? r->size - off : len);

		memcpy(d, (const char *)r->host + off, chunk);
		d += chunk;
		gpa += chunk;
		len -= chunk;
	}
	return 0;
}

int vmmio_mem_write(const struct vmmio_mem *mem, vmmio_gpa_t gpa,
		    const void *src, size_t len)
{
	const char *s = src;
	int rc = walk(mem, gpa, len, true, NULL, 0, NULL);

	if (rc)
		return rc;
	while (len) {
		const struct vmmio_mem_region *r = find(mem, gpa);
		uint64_t off = gpa - r->gpa;
		size_t chunk =
		    (size_t)(r->size - off < len ? r->size - off : len);

		memcpy((char *)r->host + off, s, chunk);
		s += chunk;
		gpa += chunk;
		len -= chunk;
	}
	return 0;
}

static void *atomic_ptr(const struct vmmio_mem *m, vmmio_gpa_t gpa, size_t size,
			bool write, int *rc)
{
	const struct vmmio_mem_region *r;
	void *p;

	if (gpa % size) {
		*rc = -EINVAL;
		return NULL;
	}
	p = vmmio_mem_ptr(m, gpa, size, write);
	if (p)
		return p;
	r = find(m, gpa);
	*rc = (r && write && r->read_only) ? -EROFS : -EFAULT;
	return NULL;
}

int vmmio_mem_load16(const struct vmmio_mem *mem, vmmio_gpa_t gpa,
		     uint16_t *val)
{
	int rc = 0;
	uint16_t *p = atomic_ptr(mem, gpa, 2, false, &rc);

	if (p)
		*val = __atomic_load_n(p, __ATOMIC_ACQUIRE);
	return rc;
}

int vmmio_mem_load32(const struct vmmio_mem *mem, vmmio_gpa_t gpa,
		     uint32_t *val)
{
	int rc = 0;
	uint32_t *p = atomic_ptr(mem, gpa, 4, false, &rc);

	if (p)
		*val = __atomic_load_n(p, __ATOMIC_ACQUIRE);
	return rc;
}

int vmmio_mem_store16(const struct vmmio_mem *mem, vmmio_gpa_t gpa,
		      uint16_t val)
{
	int rc = 0;
	uint16_t *p = atomic_ptr(mem, gpa, 2, true, &rc);

	if (p)
		__atomic_store_n(p, val, __ATOMIC_RELEASE);
	return rc;
}

int vmmio_mem_store32(const struct vmmio_mem *mem, vmmio_gpa_t gpa,
		      uint32_t val)
{
	int rc = 0;
	uint32_t *p = atomic_ptr(mem, gpa, 4, true, &rc);

	if (p)
		__atomic_store_n(p, val, __ATOMIC_RELEASE);
	return rc;
}

const struct vmmio_mem_region *vmmio__mem_find(const struct vmmio_mem *mem,
					       vmmio_gpa_t gpa)
{
	return find(mem, gpa);
}

int vmmio__mem_check(const struct vmmio_mem *mem, vmmio_gpa_t gpa, uint64_t len,
		     bool write)
{
	if (len > SIZE_MAX)
		return -EFAULT;
	return walk(mem, gpa, (size_t)len, write, NULL, 0, NULL);
}
