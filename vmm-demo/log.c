/* SPDX-License-Identifier: Apache-2.0 */
/* vmm-demo: logging. One write() per line so threads do not interleave. */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"

enum vmm_log_level vmm_log_level = VMM_LOG_INFO;

void vmm_log(enum vmm_log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info",
					    "debug"};
	char line[1024];
	va_list ap;
	int n;

	if (level > vmm_log_level)
		return;
	n = snprintf(line, sizeof(line), "vmm-demo: %s: ", names[level]);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}
