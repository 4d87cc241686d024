/* SPDX-License-Identifier: Apache-2.0 */
/* vmm-demo: one-line log messages on stderr, filtered by level. */
#ifndef VMM_LOG_H
#define VMM_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

extern enum vmm_log_level vmm_log_level;

/* "vmm-demo: <level>: message\n" on stderr if @level is enabled. */
void vmm_log(enum vmm_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * The same for lines a guest can trigger at will: at most
 * VMM_LOG_GUEST_BURST per second; the count of dropped lines is logged
 * with the next line let through.
 */
#define VMM_LOG_GUEST_BURST 20
void vmm_log_guest(enum vmm_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * write() all of @buf to @fd, waiting (poll, 100 ms steps) while the
 * descriptor is non-blocking and full: stdout is shared with the stdio
 * console, which makes it non-blocking, and UART output must not be lost
 * to EAGAIN. Gives up on another error, or when *@stop becomes true.
 * Returns 0, or -1 with errno.
 */
int vmm_write_full(int fd, const void *buf, size_t len,
		   const volatile bool *stop);

#define vmm_err(...) vmm_log(VMM_LOG_ERROR, __VA_ARGS__)
#define vmm_warn(...) vmm_log(VMM_LOG_WARN, __VA_ARGS__)
#define vmm_info(...) vmm_log(VMM_LOG_INFO, __VA_ARGS__)
#define vmm_debug(...) vmm_log(VMM_LOG_DEBUG, __VA_ARGS__)

#endif
