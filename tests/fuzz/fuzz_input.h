/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz input cursor: targets decode their input with take(). */
#ifndef VMMIO_FUZZ_INPUT_H
#define VMMIO_FUZZ_INPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An invariant of the target: a failure names the line and crashes the
 * run (libFuzzer keeps the input). */
#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x)) {                                                    \
			fprintf(stderr, "CHECK failed line %d: %s\n",          \
				__LINE__, #x);                                 \
			abort();                                               \
		}                                                              \
	} while (0)

struct in {
	const uint8_t *p;
	size_t left;
};

/* Copy the next @n input bytes to @dst; false (nothing copied) at the
 * end of the input. */
static inline bool take(struct in *in, void *dst, size_t n)
{
	if (in->left < n)
		return false;
	memcpy(dst, in->p, n);
	in->p += n;
	in->left -= n;
	return true;
}

#endif
