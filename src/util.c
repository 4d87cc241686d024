/* SPDX-License-Identifier: Apache-2.0 */
/* libvmmio: allocation hooks, rate-limited logging, fault names. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

void *vmmio__alloc(const struct vmmio_host_ops *host, void *opaque, size_t size)
{
	if (VMMIO_HAS_OP(host, alloc))
		return host->alloc(opaque, size);
	return malloc(size);
}

void *vmmio__zalloc(const struct vmmio_host_ops *host, void *opaque,
		    size_t size)
{
	void *p = vmmio__alloc(host, opaque, size);

	if (p)
		memset(p, 0, size);
	return p;
}

void vmmio__free(const struct vmmio_host_ops *host, void *opaque, void *ptr)
{
	if (!ptr)
		return;
	/* NOLINTNEXTLINE(misc-redundant-expression): each tests host != NULL */
	if (VMMIO_HAS_OP(host, alloc) && VMMIO_HAS_OP(host, free))
		host->free(opaque, ptr);
	else if (!VMMIO_HAS_OP(host, alloc))
		free(ptr);
}

uint64_t vmmio__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Returns false if the line must be dropped; reports drops when due. */
static bool ratelimit_pass(const struct vmmio_host_ops *host, void *opaque,
			   struct vmmio__ratelimit *rl,
			   enum vmmio_log_level level)
{
	uint64_t now = vmmio__now_ns();
	uint32_t *printed;
	char line[96];

	if (now - rl->window_ns >= 1000000000u) {
		if (rl->dropped) {
			snprintf(line, sizeof(line),
				 "%u guest-triggered messages suppressed",
				 rl->dropped);
			host->log(opaque, VMMIO_LOG_WARN, line);
		}
		rl->window_ns = now;
		rl->printed = 0;
		rl->printed_debug = 0;
		rl->dropped = 0;
	}
	printed = level <= VMMIO_LOG_WARN ? &rl->printed : &rl->printed_debug;
	if (*printed >= VMMIO_RATELIMIT_BURST) {
		rl->dropped++;
		return false;
	}
	(*printed)++;
	return true;
}

void vmmio__log(const struct vmmio_host_ops *host, void *opaque,
		struct vmmio__ratelimit *rl, enum vmmio_log_level level,
		const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!VMMIO_HAS_OP(host, log))
		return;
	if (rl && !ratelimit_pass(host, opaque, rl, level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	host->log(opaque, level, line);
}

static const char *const fault_str[VMMIO_FAULT__COUNT] = {
    [VMMIO_FAULT_NONE] = "no fault",
    [VMMIO_FAULT_REG_ACCESS] = "register access of wrong width or alignment",
    [VMMIO_FAULT_STATUS] = "illegal device status transition",
    [VMMIO_FAULT_QUEUE_SEL] = "queue register used with QueueSel out of range",
    [VMMIO_FAULT_QUEUE_STATE] = "queue register written in the wrong state",
    [VMMIO_FAULT_QUEUE_SIZE] =
	"queue size zero, above maximum or not a power of two",
    [VMMIO_FAULT_RING_ALIGN] = "virtqueue ring misaligned",
    [VMMIO_FAULT_RING_RANGE] = "virtqueue ring outside guest RAM",
    [VMMIO_FAULT_NOTIFY] = "notification of a missing or unready queue",
    [VMMIO_FAULT_AVAIL_IDX] = "avail index moved by more than the queue size",
    [VMMIO_FAULT_HEAD_RANGE] = "chain head index out of range",
    [VMMIO_FAULT_HEAD_INFLIGHT] = "chain head made available while in use",
    [VMMIO_FAULT_NEXT_RANGE] = "descriptor next index out of range",
    [VMMIO_FAULT_CHAIN_LOOP] = "descriptor chain loops or exceeds its table",
    [VMMIO_FAULT_INDIRECT] = "indirect descriptor not negotiated",
    [VMMIO_FAULT_INDIRECT_NESTED] = "nested indirect descriptor",
    [VMMIO_FAULT_INDIRECT_NEXT] = "indirect descriptor with NEXT flag",
    [VMMIO_FAULT_INDIRECT_LEN] = "indirect table length invalid",
    [VMMIO_FAULT_DESC_ORDER] =
	"device-readable descriptor after a writable one",
    [VMMIO_FAULT_BUFFER_RANGE] =
	"buffer wraps, leaves guest RAM or is read-only",
    [VMMIO_FAULT_CHAIN_LEN] = "total chain length exceeds 4 GiB - 1",
    [VMMIO_FAULT_SEGMENTS] = "chain has more segments than the device accepts",
    [VMMIO_FAULT_DEVICE] = "device reported a driver error",
};

static const char *const fault_name[VMMIO_FAULT__COUNT] = {
    [VMMIO_FAULT_NONE] = "NONE",
    [VMMIO_FAULT_REG_ACCESS] = "REG_ACCESS",
    [VMMIO_FAULT_STATUS] = "STATUS",
    [VMMIO_FAULT_QUEUE_SEL] = "QUEUE_SEL",
    [VMMIO_FAULT_QUEUE_STATE] = "QUEUE_STATE",
    [VMMIO_FAULT_QUEUE_SIZE] = "QUEUE_SIZE",
    [VMMIO_FAULT_RING_ALIGN] = "RING_ALIGN",
    [VMMIO_FAULT_RING_RANGE] = "RING_RANGE",
    [VMMIO_FAULT_NOTIFY] = "NOTIFY",
    [VMMIO_FAULT_AVAIL_IDX] = "AVAIL_IDX",
    [VMMIO_FAULT_HEAD_RANGE] = "HEAD_RANGE",
    [VMMIO_FAULT_HEAD_INFLIGHT] = "HEAD_INFLIGHT",
    [VMMIO_FAULT_NEXT_RANGE] = "NEXT_RANGE",
    [VMMIO_FAULT_CHAIN_LOOP] = "CHAIN_LOOP",
    [VMMIO_FAULT_INDIRECT] = "INDIRECT",
    [VMMIO_FAULT_INDIRECT_NESTED] = "INDIRECT_NESTED",
    [VMMIO_FAULT_INDIRECT_NEXT] = "INDIRECT_NEXT",
    [VMMIO_FAULT_INDIRECT_LEN] = "INDIRECT_LEN",
    [VMMIO_FAULT_DESC_ORDER] = "DESC_ORDER",
    [VMMIO_FAULT_BUFFER_RANGE] = "BUFFER_RANGE",
    [VMMIO_FAULT_CHAIN_LEN] = "CHAIN_LEN",
    [VMMIO_FAULT_SEGMENTS] = "SEGMENTS",
    [VMMIO_FAULT_DEVICE] = "DEVICE",
};

const char *vmmio_fault_str(enum vmmio_fault fault)
{
	if ((unsigned)fault >= VMMIO_FAULT__COUNT || !fault_str[fault])
		return "unknown fault";
	return fault_str[fault];
}

const char *vmmio_fault_name(enum vmmio_fault fault)
{
	if ((unsigned)fault >= VMMIO_FAULT__COUNT || !fault_name[fault])
		return "UNKNOWN";
	return fault_name[fault];
}
