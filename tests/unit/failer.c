/* SPDX-License-Identifier: Apache-2.0 */
/* Allocation-failure sweep hooks (see failer.h). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <check.h>

#include "failer.h"

static void *fa_alloc(void *opaque, size_t n)
{
	struct failer *f = opaque;

	if (++f->count == f->fail_at)
		return NULL;
	f->live++;
	return malloc(n);
}

static void fa_free(void *opaque, void *p)
{
	struct failer *f = opaque;

	if (p)
		f->live--;
	free(p);
}

static void fa_irq(void *opaque, bool raise)
{
	(void)opaque;
	(void)raise;
}

static void fa_log(void *opaque, enum vmmio_log_level level, const char *msg)
{
	struct failer *f = opaque;

	(void)level;
	f->logs++;
	snprintf(f->last, sizeof(f->last), "%s", msg);
}

const struct vmmio_host_ops failer_ops = {.size = sizeof(failer_ops),
					  .irq = fa_irq,
					  .log = fa_log,
					  .alloc = fa_alloc,
					  .free = fa_free};

int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}
