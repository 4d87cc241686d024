/* SPDX-License-Identifier: Apache-2.0 */
/* vmm-demo: logging. One write() per line so threads do not interleave. */
#include <errno.h>
#include <poll.h>
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

int vmm_write_full(int fd, const void *buf, size_t len,
		   const volatile bool *stop)
{
	const char *p = buf;

	while (len) {
		struct pollfd pf = {.fd = fd, .events = POLLOUT};
		ssize_t n = write(fd, p, len);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -1;
		if (stop && *stop) {
			errno = ECANCELED;
			return -1;
		}
		(void)poll(&pf, 1, 100);
	}
	return 0;
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
	/* stderr may share stdout's non-blocking file description. */
	(void)vmm_write_full(STDERR_FILENO, line, (size_t)n, NULL);
}
