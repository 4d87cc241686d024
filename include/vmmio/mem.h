/* SPDX-License-Identifier: Apache-2.0 */
/* libvmmio: guest-physical memory map with checked accessors. */
#ifndef VMMIO_MEM_H
#define VMMIO_MEM_H

#include <vmmio/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * One region of guest RAM as the embedder mapped it. gpa and size must be
 * multiples of VMMIO_MEM_ALIGN (so no ring element ever straddles two
 * regions; KVM's page-granular memory slots always are), size non-zero,
 * [gpa, gpa + size) must not wrap and must not overlap another region.
 * host must stay mapped for the lifetime of the map.
 */
struct vmmio_mem_region {
	vmmio_gpa_t gpa;
	uint64_t size;
	void *host;
	bool read_only;
};

#define VMMIO_MEM_ALIGN 16u
#define VMMIO_MEM_MAX_REGIONS 4096u

/*
 * A host view of part of a guest buffer. Same layout as struct iovec,
 * so arrays of it can be handed to preadv()/pwritev() after a cast the
 * device code checks with a static assertion.
 */
struct vmmio_seg {
	void *base;
	size_t len;
};

/* An immutable map of guest RAM; opaque. */
struct vmmio_mem;

/*
 * vmmio_mem_new() - build a guest memory map.
 * @regions: @count regions, in any order; copied, the array may be freed.
 * @count:   1 to VMMIO_MEM_MAX_REGIONS.
 * @host:    allocation and log hooks (may be NULL); @opaque is passed to them.
 * @out:     receives the map on success; untouched on failure.
 * Return: 0; -EINVAL for a bad count, a NULL host pointer, a zero or
 *         unaligned size or gpa, a region that wraps, or overlapping
 *         regions; -ENOMEM if allocation fails.
 * Threading: the map is immutable; any number of threads may use it.
 */
VMMIO_API VMMIO_MUST_CHECK int
vmmio_mem_new(const struct vmmio_mem_region *regions, unsigned count,
	      const struct vmmio_host_ops *host, void *opaque,
	      struct vmmio_mem **out);

/* vmmio_mem_free() - release a map (NULL is ignored). Queues and devices
 * using it must have been freed or given another map first. */
VMMIO_API void vmmio_mem_free(struct vmmio_mem *mem);

/*
 * vmmio_mem_read() - copy @len bytes at @gpa into @dst, across region
 * boundaries where the regions are adjacent in guest-physical space.
 * Return: 0; -EFAULT if any byte of [gpa, gpa + len) is not guest RAM or
 *         the range wraps (nothing is guaranteed about @dst then).
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_mem_read(const struct vmmio_mem *mem,
					      vmmio_gpa_t gpa, void *dst,
					      size_t len);

/*
 * vmmio_mem_write() - copy @len bytes from @src to @gpa (split as above).
 * Return: 0; -EFAULT as for vmmio_mem_read(); -EROFS if any byte lies in
 *         a read-only region. On error nothing has been written.
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_mem_write(const struct vmmio_mem *mem,
					       vmmio_gpa_t gpa, const void *src,
					       size_t len);

/*
 * vmmio_mem_ptr() - host pointer for [gpa, gpa + len) if the whole range
 * lies in one region (and that region is writable when @write).
 * Return: the pointer, or NULL (range outside RAM, wrapping, spanning two
 *         regions, or read-only for a write). len 0 is treated as 1.
 */
VMMIO_API void *vmmio_mem_ptr(const struct vmmio_mem *mem, vmmio_gpa_t gpa,
			      size_t len, bool write);

/*
 * vmmio_mem_segments() - split [gpa, gpa + len) into host segments, one
 * per region crossed.
 * @seg, @cap: output array and its capacity; @n receives the count used.
 * Return: 0; -EFAULT (outside RAM / wraps); -EROFS (@write and read-only);
 *         -ENOSPC (more than @cap segments needed). len 0 gives *n = 0.
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_mem_segments(const struct vmmio_mem *mem,
						  vmmio_gpa_t gpa, size_t len,
						  bool write,
						  struct vmmio_seg *seg,
						  unsigned cap, unsigned *n);

/*
 * Naturally aligned atomic accesses for ring indexes and flags: loads
 * with acquire, stores with release ordering.
 * Return: 0; -EINVAL if @gpa is not aligned to the access size; -EFAULT
 *         outside RAM; -EROFS (stores) into a read-only region.
 */
VMMIO_API VMMIO_MUST_CHECK int vmmio_mem_load16(const struct vmmio_mem *mem,
						vmmio_gpa_t gpa, uint16_t *val);
VMMIO_API VMMIO_MUST_CHECK int vmmio_mem_load32(const struct vmmio_mem *mem,
						vmmio_gpa_t gpa, uint32_t *val);
VMMIO_API VMMIO_MUST_CHECK int vmmio_mem_store16(const struct vmmio_mem *mem,
						 vmmio_gpa_t gpa, uint16_t val);
VMMIO_API VMMIO_MUST_CHECK int vmmio_mem_store32(const struct vmmio_mem *mem,
						 vmmio_gpa_t gpa, uint32_t val);

#ifdef __cplusplus
}
#endif

#endif /* VMMIO_MEM_H */
