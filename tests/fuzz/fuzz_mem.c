/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: guest memory maps and accesses from the input. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vmmio/mem.h>

/*
 * Input: [0] region count (1..8), then per region 17 bytes: gpa (u64 LE),
 * size (u64 LE, reduced modulo 64 KiB + 1), flags (bit 0 read-only).
 * Then 18-byte ops: {code, gpa u64, len u64, value}.
 */
#define MAXR 8
#define MAXLEN 0x10000u

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

struct map {
	struct vmmio_mem_region r[MAXR];
	unsigned n;
};

/* Every pointer handed out must lie inside one region's host buffer. */
static void check_ptr(const struct map *m, const void *p, size_t len)
{
	const unsigned char *b = p;

	for (unsigned i = 0; i < m->n; i++) {
		const unsigned char *h = m->r[i].host;

		if (b >= h && b < h + m->r[i].size &&
		    len <= (size_t)(h + m->r[i].size - b))
			return;
	}
	abort();
}

static void run_op(const struct vmmio_mem *mem, const struct map *m,
		   const uint8_t *op, unsigned char *buf)
{
	vmmio_gpa_t gpa = rd64(op + 1);
	size_t len = (size_t)(rd64(op + 9) % (MAXLEN + 1));
	struct vmmio_seg seg[16];
	unsigned n;
	uint16_t v16;
	uint32_t v32;
	void *p;

	switch (op[0] % 7) {
	case 0:
		(void)vmmio_mem_read(mem, gpa, buf, len);
		break;
	case 1:
		(void)vmmio_mem_write(mem, gpa, buf, len);
		break;
	case 2:
		p = vmmio_mem_ptr(mem, gpa, len, op[17] & 1);
		if (p)
			check_ptr(m, p, len ? len : 1);
		break;
	case 3:
		if (vmmio_mem_segments(mem, gpa, len, op[17] & 1, seg, 16,
				       &n) == 0) {
			size_t total = 0;

			for (unsigned i = 0; i < n; i++) {
				check_ptr(m, seg[i].base, seg[i].len);
				total += seg[i].len;
			}
			if (total != len)
				abort();
		}
		break;
	case 4:
		if (vmmio_mem_load16(mem, gpa, &v16) == 0 && gpa % 2)
			abort();
		break;
	case 5:
		if (vmmio_mem_store32(mem, gpa, op[17]) == 0 && gpa % 4)
			abort();
		break;
	default:
		(void)vmmio_mem_load32(mem, gpa, &v32);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char *host[MAXR], *buf;
	struct vmmio_mem *mem;
	struct map m;
	size_t pos = 1;

	if (size < 1)
		return 0;
	if (!buf) {
		buf = calloc(1, MAXLEN);
		for (int i = 0; i < MAXR; i++)
			host[i] = aligned_alloc(16, MAXLEN + 16);
	}
	m.n = data[0] % MAXR + 1;
	for (unsigned i = 0; i < m.n; i++, pos += 17) {
		if (pos + 17 > size)
			return 0;
		m.r[i] = (struct vmmio_mem_region){
		    .gpa = rd64(data + pos),
		    .size = rd64(data + pos + 8) % (MAXLEN + 1),
		    .host = host[i],
		    .read_only = data[pos + 16] & 1};
	}
	if (vmmio_mem_new(m.r, m.n, NULL, NULL, &mem))
		return 0;
	for (; pos + 18 <= size; pos += 18)
		run_op(mem, &m, data + pos, buf);
	vmmio_mem_free(mem);
	return 0;
}
