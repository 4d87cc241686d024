/* SPDX-License-Identifier: Apache-2.0 */
/* Host hooks for allocation-failure sweeps: allocation number fail_at
 * fails, live counts what is still allocated, log lines are recorded. */
#ifndef VMMIO_FAILER_H
#define VMMIO_FAILER_H

#include <vmmio/common.h>

struct failer {
	unsigned fail_at, count; /* fail allocation fail_at; count made */
	int live;		 /* allocated and not yet freed */
	unsigned logs;		 /* lines through the log hook */
	char last[256];		 /* the last of them */
};

/* irq (ignored), log, alloc, free; host_opaque = a struct failer. */
extern const struct vmmio_host_ops failer_ops;

/* Open file descriptors of this process, to catch leaks. */
int count_fds(void);

#endif
