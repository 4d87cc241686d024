/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: ring contents plus a sequence of queue API calls. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include <vmmio/queue.h>

/*
 * Input: [0] log2 queue size, [1] features (bit 0 indirect, bit 1
 * event_idx), [2] placement (0: standard), [3..8] desc/avail/used offsets
 * (u16 LE, RAM-relative), [9..1032] initial ring-area bytes, then 4-byte
 * ops {code, a, b, c}.
 */
#define RAM0 0x1000ull
#define RAM0_LEN 0x8000u
#define RAM1 (RAM0 + RAM0_LEN)
#define RAM1_LEN 0x8000u
#define ROM 0x20000ull
#define HDR 9u
#define RING_BYTES 1024u

static unsigned char *ram0, *ram1, *rom;

static int inside(const void *p, size_t len)
{
	const unsigned char *b = p;
	const unsigned char *bases[3] = {ram0, ram1, rom};
	const size_t lens[3] = {RAM0_LEN, RAM1_LEN, 4096};

	for (int i = 0; i < 3; i++)
		if (b >= bases[i] && len <= lens[i] &&
		    (size_t)(b - bases[i]) <= lens[i] - len)
			return 1;
	return 0;
}

static void check_chain(const struct vmmio_chain *c)
{
	uint64_t r = 0, w = 0;

	if (c->nseg > c->seg_cap || c->nreadable > c->nseg)
		abort();
	for (uint32_t i = 0; i < c->nseg; i++) {
		if (!inside(c->seg[i].base, c->seg[i].len))
			abort();
		if (i < c->nreadable)
			r += c->seg[i].len;
		else
			w += c->seg[i].len;
	}
	if (r != c->readable_len || w != c->writable_len)
		abort();
}

struct st {
	struct vmmio_vq *q;
	struct vmmio_seg seg[8][32];
	struct vmmio_chain c[8];
	unsigned npop;
	uint16_t size;
	uint64_t feat;
	vmmio_gpa_t desc, avail, used;
};

static void setup(struct st *s)
{
	vmmio_vq_reset(s->q);
	if (vmmio_vq_set_size(s->q, s->size) ||
	    vmmio_vq_set_features(s->q, s->feat) ||
	    vmmio_vq_set_addr(s->q, s->desc, s->avail, s->used))
		abort();
	if (vmmio_vq_set_ready(s->q, true) &&
	    vmmio_vq_fault(s->q) == VMMIO_FAULT_NONE)
		abort();
	s->npop = 0;
}

static void op_pop(struct st *s, uint8_t a)
{
	struct vmmio_chain *c;
	int rc;

	if (s->npop == 8)
		return;
	c = &s->c[s->npop];
	*c =
	    (struct vmmio_chain){.seg = s->seg[s->npop], .seg_cap = a % 32 + 1};
	rc = vmmio_vq_pop(s->q, c);
	if (rc == 1) {
		check_chain(c);
		s->npop++;
	} else if (rc == -EIO && vmmio_vq_fault(s->q) == VMMIO_FAULT_NONE) {
		abort();
	}
}

static void op_rw(struct st *s, uint8_t a, uint8_t b, uint8_t cc)
{
	unsigned char buf[256];
	struct vmmio_chain *c;

	if (!s->npop)
		return;
	c = &s->c[a % s->npop];
	if (cc & 1) {
		memset(buf, cc, sizeof(buf));
		(void)vmmio_chain_write(c, b, buf, cc);
	} else {
		(void)vmmio_chain_read(c, b, buf, cc);
	}
}

static void op_complete(struct st *s, uint8_t a, uint8_t b, bool publish)
{
	struct vmmio_chain *c;
	unsigned i;

	if (!s->npop)
		return;
	i = a % s->npop;
	c = &s->c[i];
	if (publish)
		(void)vmmio_vq_push(s->q, c->head, b);
	else
		(void)vmmio_vq_add_used(s->q, c->head, b);
	s->c[i] = s->c[--s->npop];
	memcpy(s->seg[i], s->seg[s->npop], sizeof(s->seg[i]));
	s->c[i].seg = s->seg[i];
}

static void op_misc(struct st *s, uint8_t code, uint8_t a, uint8_t b, uint8_t c)
{
	struct vmmio_vq_state vs;

	switch (code) {
	case 3:
		(void)vmmio_vq_publish(s->q);
		break;
	case 4:
		if (vmmio_vq_unpop(s->q, a % 4) == 0)
			s->npop = s->npop >= a % 4u ? s->npop - a % 4u : 0;
		break;
	case 5:
		(void)vmmio_vq_enable_notify(s->q);
		break;
	case 6:
		vmmio_vq_disable_notify(s->q);
		break;
	case 7:
		ram0[(unsigned)(a | b << 8) % RING_BYTES] = c;
		break;
	case 8:
		setup(s);
		break;
	case 9:
		if (vmmio_vq_save(s->q, &vs) == 0)
			(void)vmmio_vq_restore(s->q, &vs);
		s->npop = 0;
		if (vmmio_vq_inflight(s->q))
			setup(s);
		break;
	default:
		(void)vmmio_vq_push(s->q, (uint16_t)(a | b << 8), c);
		break;
	}
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmmio_mem_region r[3];
	struct vmmio_mem *mem;
	struct st s;
	size_t n;

	if (size < HDR)
		return 0;
	if (!ram0) {
		ram0 = aligned_alloc(4096, RAM0_LEN);
		ram1 = aligned_alloc(4096, RAM1_LEN);
		rom = aligned_alloc(4096, 4096);
	}
	memset(ram0, 0, RAM0_LEN);
	memset(ram1, 0, RAM1_LEN);
	memset(rom, 0, 4096);
	r[0] = (struct vmmio_mem_region){RAM0, RAM0_LEN, ram0, false};
	r[1] = (struct vmmio_mem_region){RAM1, RAM1_LEN, ram1, false};
	r[2] = (struct vmmio_mem_region){ROM, 4096, rom, true};
	if (vmmio_mem_new(r, 3, NULL, NULL, &mem))
		abort();
	memset(&s, 0, sizeof(s));
	s.size = (uint16_t)(1u << (data[0] % 5));
	s.feat = (data[1] & 1 ? 1ull << VIRTIO_RING_F_INDIRECT_DESC : 0) |
		 (data[1] & 2 ? 1ull << VIRTIO_RING_F_EVENT_IDX : 0);
	s.desc = RAM0;
	s.avail = RAM0 + 256;
	s.used = RAM0 + 512;
	if (data[2]) {
		s.desc = RAM0 + rd16(data + 3) * 2u;
		s.avail = RAM0 + rd16(data + 5);
		s.used = RAM0 + rd16(data + 7) * 2u;
	}
	n = size - HDR < RING_BYTES ? size - HDR : RING_BYTES;
	memcpy(ram0, data + HDR, n);
	if (vmmio_vq_new(16, mem, NULL, NULL, &s.q))
		abort();
	setup(&s);
	for (size_t i = HDR + RING_BYTES; i + 4 <= size; i += 4) {
		const uint8_t *op = data + i;

		switch (op[0] % 11) {
		case 0:
			op_pop(&s, op[1]);
			break;
		case 1:
			op_complete(&s, op[1], op[2], true);
			break;
		case 2:
			op_complete(&s, op[1], op[2], false);
			break;
		case 10:
			op_rw(&s, op[1], op[2], op[3]);
			break;
		default:
			op_misc(&s, op[0] % 11, op[1], op[2], op[3]);
			break;
		}
	}
	vmmio_vq_free(s.q);
	vmmio_mem_free(mem);
	return 0;
}
