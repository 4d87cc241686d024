/* SPDX-License-Identifier: Apache-2.0 */
/* libvmmio: internals shared between the library's source files. */
#ifndef VMMIO_INTERNAL_H
#define VMMIO_INTERNAL_H

#include <vmmio/common.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "libvmmio supports little-endian hosts only (virtio is little-endian)"
#endif

#define VMMIO_LIKELY(x) __builtin_expect(!!(x), 1)
#define VMMIO_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* True if the caller's table (of the size it declared) has @member set. */
#define VMMIO_HAS_OP(tbl, member)                                              \
	((tbl) != NULL &&                                                      \
	 (tbl)->size >=                                                        \
	     offsetof(__typeof__(*(tbl)), member) + sizeof((tbl)->member) &&   \
	 (tbl)->member != NULL)

/* Allocation through the instance's hooks; uninitialised, or zeroed. */
void *vmmio__alloc(const struct vmmio_host_ops *host, void *opaque,
		   size_t size);
void *vmmio__zalloc(const struct vmmio_host_ops *host, void *opaque,
		    size_t size);
void vmmio__free(const struct vmmio_host_ops *host, void *opaque, void *ptr);

/*
 * Rate limiting for log lines a guest can trigger: at most
 * VMMIO_RATELIMIT_BURST lines per second per instance, then a count of
 * what was dropped once the window moves on. Debug lines have a budget of
 * their own: a guest must not keep a fault out of a log that shows only
 * warnings by spending the budget on lines the host never prints.
 */
#define VMMIO_RATELIMIT_BURST 10u
struct vmmio__ratelimit {
	uint64_t window_ns;
	uint32_t printed;	/* warnings and errors in this window */
	uint32_t printed_debug; /* debug and info lines in this window */
	uint32_t dropped;
};

/* CLOCK_MONOTONIC in nanoseconds (rate limits, poll windows). */
uint64_t vmmio__now_ns(void);

/* Log a line; @rl NULL means not guest-triggerable (never dropped). */
void vmmio__log(const struct vmmio_host_ops *host, void *opaque,
		struct vmmio__ratelimit *rl, enum vmmio_log_level level,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Adaptive polling of an avail ring by a device that has just completed
 * work: a driver that polls its used ring answers within microseconds,
 * and a chain found this way costs the driver no notification and, with
 * vmmio_vq_publish_deferred(), often no interrupt. The window doubles
 * (up to max_ns) when a poll finds chains and halves (down to
 * VMMIO_POLL_MIN_NS) when it runs out; max_ns 0 never polls.
 */
#define VMMIO_POLL_MIN_NS 1000u
struct vmmio__poll {
	uint32_t max_ns;
	uint32_t ns; /* current window */
};
struct vmmio_vq;
/* Spin up to the window until @q has chains not yet popped: true if it
 * has (pop them now), false if not (or @q is not live). */
bool vmmio__vq_poll_avail(struct vmmio_vq *q, struct vmmio__poll *p);

struct vmmio_mem;
struct vmmio_mem_region;
/* The region holding @gpa, or NULL. */
const struct vmmio_mem_region *vmmio__mem_find(const struct vmmio_mem *mem,
					       vmmio_gpa_t gpa);
/* 0 if every byte of [gpa, gpa + len) is guest RAM (writable if @write);
 * -EFAULT / -EROFS otherwise. Overflow-safe; len 0 is always fine. */
int vmmio__mem_check(const struct vmmio_mem *mem, vmmio_gpa_t gpa, uint64_t len,
		     bool write);

static inline bool vmmio__is_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

#endif /* VMMIO_INTERNAL_H */
