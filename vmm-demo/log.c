/* SPDX-License-Identifier: Apache-2.0 */
/* vmm-demo: logging. One write() per line so threads do not interleave. */
#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

enum vmm_log_level vmm_log_level = VMM_LOG_INFO;

static void vlog(enum vmm_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

void vmm_log(enum vmm_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void vmm_log_guest(enum vmm_log_level level, const char *fmt, ...)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static time_t window;
	static unsigned in_window, dropped;
	struct timespec now;
	unsigned was_dropped = 0;
	bool let = false;
	va_list ap;

	if (level > vmm_log_level)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&lock);
	if (now.tv_sec != window) {
		window = now.tv_sec;
		in_window = 0;
	}
	if (in_window < VMM_LOG_GUEST_BURST) {
		in_window++;
		let = true;
		was_dropped = dropped;
		dropped = 0;
	} else {
		dropped++;
	}
	pthread_mutex_unlock(&lock);
	if (!let)
		return;
	if (was_dropped)
		vmm_log(level, "(%u guest-triggered lines suppressed)",
			was_dropped);
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

static void vlog(enum vmm_log_level level, const char *fmt, va_list ap)
{
	static const char *const names[] = {"error", "warning", "info",
					    "debug"};
	char line[1024];
	int n;

	if (level > vmm_log_level)
		return;
	n = snprintf(line, sizeof(line), "vmm-demo: %s: ", names[level]);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}
