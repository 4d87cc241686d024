/* SPDX-License-Identifier: Apache-2.0 */
/* libvmmio: device side of the virtio split virtqueue (virtio 1.2 §2.7). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include <vmmio/queue.h>

#include "internal.h"

enum ring { RING_DESC, RING_AVAIL, RING_USED, RING__COUNT };

/* What the device knows about each head it handed out. */
struct head_state {
	uint32_t wlen; /* writable bytes of the chain, bounds push's len */
	bool busy;     /* popped and not yet pushed */
};

struct vmmio_vq {
	const struct vmmio_mem *mem;
	const struct vmmio_host_ops *host;
	void *opaque;
	const struct vmmio_vq_hooks *hooks;
	void *hooks_opaque;

	uint16_t max_size, size;
	bool ready, event_idx, indirect;
	enum vmmio_fault fault;
	uint64_t features;

	vmmio_gpa_t gpa[RING__COUNT];
	/* Host views of whole rings that lie in one region; NULL otherwise
	 * (then each element is translated on its own). Dropped whenever
	 * the memory map changes. */
	unsigned char *hva[RING__COUNT];

	uint16_t next_avail;   /* next avail ring slot to pop */
	uint16_t shadow_avail; /* last avail.idx read (acquire) */
	uint16_t next_used;    /* next used ring slot to fill */
	uint16_t published;    /* used.idx last stored */
	uint16_t signalled_used;
	bool signalled_valid;
	bool intr_deferred; /* published without an interrupt decision */
	uint16_t inflight;

	struct head_state *head; /* max_size entries */
	uint16_t *popped;	 /* head popped at avail slot, for unpop */
	/* Last region a buffer was found in: most buffers of a guest sit in
	 * one big region, so this skips the map's binary search. Per queue,
	 * so no sharing between threads; dropped when the map changes. */
	struct vmmio_mem_region rc;
	struct vmmio__ratelimit rl;
};

/* Byte sizes of the three rings with their event fields (§2.7.6, §2.7.8). */
static uint64_t ring_bytes(enum ring r, uint16_t size)
{
	switch (r) {
	case RING_DESC:
		return 16u * (uint64_t)size;
	case RING_AVAIL:
		return 6u + 2u * (uint64_t)size;
	default:
		return 6u + 8u * (uint64_t)size;
	}
}

int vmmio_vq_new(uint16_t max_size, const struct vmmio_mem *mem,
		 const struct vmmio_host_ops *host, void *opaque,
		 struct vmmio_vq **out)
{
	struct vmmio_vq *q;

	if (!mem || !out || !vmmio__is_pow2(max_size) ||
	    max_size > VMMIO_VQ_MAX_SIZE)
		return -EINVAL;
	q = vmmio__zalloc(host, opaque, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->host = host;
	q->opaque = opaque;
	q->head = vmmio__zalloc(host, opaque, max_size * sizeof(q->head[0]));
	if (!q->head)
		goto out_free_q;
	q->popped = vmmio__zalloc(host, opaque, max_size * sizeof(uint16_t));
	if (!q->popped)
		goto out_free_head;
	q->mem = mem;
	q->max_size = max_size;
	vmmio_vq_reset(q);
	*out = q;
	return 0;

out_free_head:
	vmmio__free(host, opaque, q->head);
out_free_q:
	vmmio__free(host, opaque, q);
	return -ENOMEM;
}

void vmmio_vq_free(struct vmmio_vq *q)
{
	if (!q)
		return;
	vmmio__free(q->host, q->opaque, q->popped);
	vmmio__free(q->host, q->opaque, q->head);
	vmmio__free(q->host, q->opaque, q);
}

void vmmio_vq_set_hooks(struct vmmio_vq *q, const struct vmmio_vq_hooks *hooks,
			void *opaque)
{
	q->hooks = hooks;
	q->hooks_opaque = opaque;
}

static void clear_indexes(struct vmmio_vq *q)
{
	q->next_avail = q->shadow_avail = 0;
	q->next_used = q->published = 0;
	q->signalled_used = 0;
	q->signalled_valid = false;
	q->intr_deferred = false;
	q->inflight = 0;
	memset(q->head, 0, q->max_size * sizeof(q->head[0]));
}

void vmmio_vq_reset(struct vmmio_vq *q)
{
	q->size = q->max_size;
	q->ready = false;
	q->event_idx = q->indirect = false;
	q->features = 0;
	q->fault = VMMIO_FAULT_NONE;
	memset(q->gpa, 0, sizeof(q->gpa));
	memset(q->hva, 0, sizeof(q->hva));
	memset(&q->rc, 0, sizeof(q->rc));
	clear_indexes(q);
}

void vmmio_vq_fail(struct vmmio_vq *q, enum vmmio_fault fault)
{
	if (q->fault != VMMIO_FAULT_NONE || fault == VMMIO_FAULT_NONE)
		return;
	q->fault = fault;
	vmmio__log(q->host, q->opaque, &q->rl, VMMIO_LOG_WARN,
		   "virtqueue fault %s: %s", vmmio_fault_name(fault),
		   vmmio_fault_str(fault));
	if (VMMIO_HAS_OP(q->hooks, fault))
		q->hooks->fault(q->hooks_opaque, q, fault);
}

static int fail(struct vmmio_vq *q, enum vmmio_fault fault)
{
	vmmio_vq_fail(q, fault);
	return -EIO;
}

int vmmio_vq_set_size(struct vmmio_vq *q, uint16_t size)
{
	if (q->ready)
		return -EBUSY;
	if (!vmmio__is_pow2(size) || size > q->max_size)
		return -EINVAL;
	q->size = size;
	return 0;
}

int vmmio_vq_set_addr(struct vmmio_vq *q, vmmio_gpa_t desc, vmmio_gpa_t avail,
		      vmmio_gpa_t used)
{
	if (q->ready)
		return -EBUSY;
	q->gpa[RING_DESC] = desc;
	q->gpa[RING_AVAIL] = avail;
	q->gpa[RING_USED] = used;
	return 0;
}

static void apply_features(struct vmmio_vq *q, uint64_t features)
{
	q->features = features;
	q->event_idx = features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	q->indirect = features & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
}

int vmmio_vq_set_features(struct vmmio_vq *q, uint64_t features)
{
	if (q->ready)
		return -EBUSY;
	apply_features(q, features);
	return 0;
}

/*
 * Check the rings against the current map and cache host views
 * (DESIGN.md checklist row 3): alignment, then every byte of each ring,
 * event fields included, inside RAM with overflow-safe math.
 */
static int map_rings(struct vmmio_vq *q)
{
	static const uint64_t align[RING__COUNT] = {16, 2, 4};
	int r;

	for (r = 0; r < RING__COUNT; r++)
		if (q->gpa[r] % align[r])
			return fail(q, VMMIO_FAULT_RING_ALIGN);
	for (r = 0; r < RING__COUNT; r++) {
		uint64_t len = ring_bytes((enum ring)r, q->size);
		bool wr = r == RING_USED;

		if (vmmio__mem_check(q->mem, q->gpa[r], len, wr))
			return fail(q, VMMIO_FAULT_RING_RANGE);
		q->hva[r] = vmmio_mem_ptr(q->mem, q->gpa[r], (size_t)len, wr);
	}
	return 0;
}

int vmmio_vq_set_ready(struct vmmio_vq *q, bool ready)
{
	int rc;

	if (!ready) {
		q->ready = false;
		memset(q->hva, 0, sizeof(q->hva));
		clear_indexes(q);
		return 0;
	}
	if (q->fault)
		return -EIO;
	clear_indexes(q);
	rc = map_rings(q);
	if (rc)
		return rc;
	q->ready = true;
	return 0;
}

int vmmio_vq_set_mem(struct vmmio_vq *q, const struct vmmio_mem *mem)
{
	if (!mem)
		return -EINVAL;
	q->mem = mem;
	memset(q->hva, 0, sizeof(q->hva));
	memset(&q->rc, 0, sizeof(q->rc));
	if (!q->ready || q->fault)
		return 0;
	return map_rings(q);
}

bool vmmio_vq_is_ready(const struct vmmio_vq *q)
{
	return q->ready;
}

bool vmmio_vq_is_valid(const struct vmmio_vq *q)
{
	return q->ready && q->fault == VMMIO_FAULT_NONE;
}

uint16_t vmmio_vq_size(const struct vmmio_vq *q)
{
	return q->size;
}

uint16_t vmmio_vq_max_size(const struct vmmio_vq *q)
{
	return q->max_size;
}

uint16_t vmmio_vq_inflight(const struct vmmio_vq *q)
{
	return q->inflight;
}

enum vmmio_fault vmmio_vq_fault(const struct vmmio_vq *q)
{
	return q->fault;
}

/*
 * Host address of an element of a validated ring. Regions are
 * VMMIO_MEM_ALIGN-aligned, so a naturally aligned element never straddles
 * two of them; NULL only if the map changed under us.
 */
static inline void *ring_elem(const struct vmmio_vq *q, enum ring r,
			      uint64_t off, size_t len)
{
	if (VMMIO_LIKELY(q->hva[r] != NULL))
		return q->hva[r] + off;
	return vmmio_mem_ptr(q->mem, q->gpa[r] + off, len, r == RING_USED);
}

static inline int load16(struct vmmio_vq *q, enum ring r, uint64_t off,
			 int order, uint16_t *val)
{
	uint16_t *p = ring_elem(q, r, off, 2);

	if (VMMIO_UNLIKELY(!p))
		return fail(q, VMMIO_FAULT_RING_RANGE);
	*val = __atomic_load_n(p, order);
	return 0;
}

static inline int store16(struct vmmio_vq *q, enum ring r, uint64_t off,
			  uint16_t val, int order)
{
	uint16_t *p = ring_elem(q, r, off, 2);

	if (VMMIO_UNLIKELY(!p))
		return fail(q, VMMIO_FAULT_RING_RANGE);
	__atomic_store_n(p, val, order);
	return 0;
}

/* Offsets inside the rings (virtio 1.2 §2.7.6, §2.7.8). */
#define AVAIL_FLAGS 0u
#define AVAIL_IDX 2u
#define AVAIL_RING(i) (4u + 2u * (uint64_t)(i))
#define USED_FLAGS 0u
#define USED_IDX 2u
#define USED_RING(i) (4u + 8u * (uint64_t)(i))

/* A descriptor copied out of guest memory exactly once (checklist row 7). */
struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static inline void desc_load(const void *p, struct desc *d)
{
	/* Two single loads: the guest may rewrite the descriptor at any
	 * time, so no field is ever read from guest memory twice. */
	uint64_t lo = __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
	uint64_t hi =
	    __atomic_load_n((const uint64_t *)p + 1, __ATOMIC_RELAXED);

	d->addr = lo;
	d->len = (uint32_t)hi;
	d->flags = (uint16_t)(hi >> 32);
	d->next = (uint16_t)(hi >> 48);
}

/* Work in progress while walking one chain. */
struct walk {
	struct vmmio_vq *q;
	struct vmmio_chain *c;
	uint64_t rlen, wlen;
	bool seen_write;
};

/*
 * Slow path of add_buffer: the buffer is not inside the cached region.
 * Look its start up again; if it lies in one region cache that, else
 * split it into one segment per region crossed.
 */
static __attribute__((noinline)) int append_slow(struct walk *w,
						 const struct desc *d, bool wr)
{
	struct vmmio_vq *q = w->q;
	struct vmmio_chain *c = w->c;
	const struct vmmio_mem_region *r = vmmio__mem_find(q->mem, d->addr);
	unsigned n;
	int rc;

	if (r && d->len <= r->size - (d->addr - r->gpa) &&
	    !(wr && r->read_only)) {
		q->rc = *r;
		if (c->nseg == c->seg_cap)
			return fail(q, VMMIO_FAULT_SEGMENTS);
		c->seg[c->nseg].base =
		    (unsigned char *)r->host + (d->addr - r->gpa);
		c->seg[c->nseg].len = d->len;
		c->nseg++;
		return 0;
	}
	rc = vmmio_mem_segments(q->mem, d->addr, d->len, wr, c->seg + c->nseg,
				c->seg_cap - c->nseg, &n);
	if (rc == -ENOSPC)
		return fail(q, VMMIO_FAULT_SEGMENTS);
	if (rc)
		return fail(q, VMMIO_FAULT_BUFFER_RANGE);
	c->nseg += n;
	return 0;
}

/* Append one descriptor's buffer (checklist rows 11, 12, 13). */
static inline __attribute__((always_inline)) int
add_buffer(struct walk *w, const struct desc *d)
{
	struct vmmio_vq *q = w->q;
	struct vmmio_chain *c = w->c;
	bool wr = d->flags & VRING_DESC_F_WRITE;
	uint64_t off = d->addr - q->rc.gpa;
	int rc = 0;

	if (VMMIO_UNLIKELY(!wr && w->seen_write))
		return fail(q, VMMIO_FAULT_DESC_ORDER);
	w->seen_write |= wr;
	if (wr)
		w->wlen += d->len;
	else
		w->rlen += d->len;
	if (VMMIO_UNLIKELY(w->rlen + w->wlen > UINT32_MAX))
		return fail(q, VMMIO_FAULT_CHAIN_LEN);
	if (VMMIO_UNLIKELY(d->len == 0))
		return 0;
	/* off < size also rejects an empty cache (size 0) and wrap-around. */
	if (VMMIO_LIKELY(off < q->rc.size && d->len <= q->rc.size - off &&
			 !(wr && q->rc.read_only) && c->nseg < c->seg_cap)) {
		c->seg[c->nseg].base = (unsigned char *)q->rc.host + off;
		c->seg[c->nseg].len = d->len;
		c->nseg++;
	} else {
		rc = append_slow(w, d, wr);
	}
	if (!rc && !wr)
		c->nreadable = c->nseg;
	return rc;
}

/* Read entry @i of an indirect table that is not in one region. */
static int indirect_copy(struct vmmio_vq *q, vmmio_gpa_t table, uint32_t i,
			 struct desc *d)
{
	unsigned char raw[16];

	if (vmmio_mem_read(q->mem, table + 16u * (uint64_t)i, raw, 16))
		return fail(q, VMMIO_FAULT_INDIRECT_LEN);
	desc_load(raw, d);
	return 0;
}

/* Walk an indirect table (checklist rows 8, 9, 10). */
static int walk_indirect(struct walk *w, const struct desc *ind)
{
	struct vmmio_vq *q = w->q;
	uint32_t n = ind->len / 16u, i = 0, count = 0;
	const unsigned char *table;
	struct desc d;
	int rc;

	if (!q->indirect)
		return fail(q, VMMIO_FAULT_INDIRECT);
	if (ind->flags & VRING_DESC_F_NEXT)
		return fail(q, VMMIO_FAULT_INDIRECT_NEXT);
	if (ind->len == 0 || ind->len % 16u || n > q->size)
		return fail(q, VMMIO_FAULT_INDIRECT_LEN);
	if (vmmio__mem_check(q->mem, ind->addr, ind->len, false))
		return fail(q, VMMIO_FAULT_BUFFER_RANGE);
	table = vmmio_mem_ptr(q->mem, ind->addr, ind->len, false);
	for (;;) {
		if (++count > n)
			return fail(q, VMMIO_FAULT_CHAIN_LOOP);
		if (table)
			desc_load(table + 16 * (size_t)i, &d);
		else if ((rc = indirect_copy(q, ind->addr, i, &d)))
			return rc;
		if (d.flags & VRING_DESC_F_INDIRECT)
			return fail(q, VMMIO_FAULT_INDIRECT_NESTED);
		if ((rc = add_buffer(w, &d)))
			return rc;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= n)
			return fail(q, VMMIO_FAULT_NEXT_RANGE);
		i = d.next;
	}
}

/* Walk the chain from @head (checklist rows 6 to 13). */
static int walk_chain(struct walk *w, uint16_t head)
{
	struct vmmio_vq *q = w->q;
	uint32_t count = 0;
	uint16_t i = head;
	struct desc d;
	const void *p;
	int rc;

	for (;;) {
		if (++count > q->size)
			return fail(q, VMMIO_FAULT_CHAIN_LOOP);
		p = ring_elem(q, RING_DESC, 16u * (uint64_t)i, 16);
		if (VMMIO_UNLIKELY(!p))
			return fail(q, VMMIO_FAULT_RING_RANGE);
		desc_load(p, &d);
		if (d.flags & VRING_DESC_F_INDIRECT)
			return walk_indirect(w, &d);
		if ((rc = add_buffer(w, &d)))
			return rc;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= q->size)
			return fail(q, VMMIO_FAULT_NEXT_RANGE);
		i = d.next;
	}
}

/* How many new chains the driver published (checklist row 5). */
static int avail_pending(struct vmmio_vq *q, uint16_t *pending)
{
	uint16_t idx;
	int rc;

	if (q->shadow_avail == q->next_avail) {
		/* Acquire pairs with the driver's virtio_wmb() before it
		 * stores avail->idx (virtqueue_add_split). */
		rc = load16(q, RING_AVAIL, AVAIL_IDX, __ATOMIC_ACQUIRE, &idx);
		if (rc)
			return rc;
		if ((uint16_t)(idx - q->next_avail) > q->size)
			return fail(q, VMMIO_FAULT_AVAIL_IDX);
		q->shadow_avail = idx;
	}
	*pending = (uint16_t)(q->shadow_avail - q->next_avail);
	return 0;
}

int vmmio_vq_pop(struct vmmio_vq *q, struct vmmio_chain *c)
{
	struct walk w = {.q = q, .c = c};
	uint16_t pending, head, slot;
	int rc;

	if (VMMIO_UNLIKELY(q->fault))
		return -EIO;
	if (VMMIO_UNLIKELY(!q->ready || !c || !c->seg || !c->seg_cap))
		return -EINVAL;
	rc = avail_pending(q, &pending);
	if (rc || !pending)
		return rc;
	slot = q->next_avail & (uint16_t)(q->size - 1);
	rc = load16(q, RING_AVAIL, AVAIL_RING(slot), __ATOMIC_RELAXED, &head);
	if (rc)
		return rc;
	if (head >= q->size)
		return fail(q, VMMIO_FAULT_HEAD_RANGE);
	if (q->head[head].busy)
		return fail(q, VMMIO_FAULT_HEAD_INFLIGHT);
	c->nseg = c->nreadable = 0;
	rc = walk_chain(&w, head);
	if (rc)
		return rc;
	c->head = head;
	c->readable_len = (uint32_t)w.rlen;
	c->writable_len = (uint32_t)w.wlen;
	q->head[head].busy = true;
	q->head[head].wlen = c->writable_len;
	q->popped[slot] = head;
	q->inflight++;
	q->next_avail++;
	return 1;
}

int vmmio_vq_unpop(struct vmmio_vq *q, unsigned n)
{
	uint16_t mask = (uint16_t)(q->size - 1);
	unsigned i;

	if (q->fault)
		return -EIO;
	if (!q->ready || n > q->inflight)
		return -EINVAL;
	/* Every one of the last n pops must still be in flight. */
	for (i = 1; i <= n; i++) {
		uint16_t h = q->popped[(uint16_t)(q->next_avail - i) & mask];

		if (!q->head[h].busy)
			return -EINVAL;
	}
	for (i = 1; i <= n; i++) {
		uint16_t h = q->popped[(uint16_t)(q->next_avail - i) & mask];

		q->head[h].busy = false;
	}
	q->next_avail = (uint16_t)(q->next_avail - n);
	q->inflight = (uint16_t)(q->inflight - n);
	return 0;
}

int vmmio_vq_add_used(struct vmmio_vq *q, uint16_t head, uint32_t len)
{
	uint64_t off;
	uint32_t *p;

	if (VMMIO_UNLIKELY(q->fault))
		return -EIO;
	/* Checklist row 14: only heads that were popped come back. */
	if (VMMIO_UNLIKELY(!q->ready || head >= q->size ||
			   !q->head[head].busy || len > q->head[head].wlen))
		return -EINVAL;
	off = USED_RING(q->next_used & (uint16_t)(q->size - 1));
	/* id and len as two 4-byte stores: a used element is only 4-byte
	 * aligned and may sit across a VMMIO_MEM_ALIGN boundary. */
	p = ring_elem(q, RING_USED, off, 4);
	if (VMMIO_UNLIKELY(!p))
		return fail(q, VMMIO_FAULT_RING_RANGE);
	__atomic_store_n(p, (uint32_t)head, __ATOMIC_RELAXED);
	p = ring_elem(q, RING_USED, off + 4, 4);
	if (VMMIO_UNLIKELY(!p))
		return fail(q, VMMIO_FAULT_RING_RANGE);
	__atomic_store_n(p, len, __ATOMIC_RELAXED);
	q->head[head].busy = false;
	q->inflight--;
	q->next_used++;
	return 0;
}

/* Does the driver want an interrupt for what was just published? */
static int want_interrupt(struct vmmio_vq *q)
{
	uint16_t v, old;
	int rc;

	/* Full fence: our used.idx store must be visible before we read
	 * used_event / avail flags; pairs with the virtio_mb() in the
	 * driver's virtqueue_enable_cb_delayed / virtqueue_poll. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx) {
		rc = load16(q, RING_AVAIL, AVAIL_FLAGS, __ATOMIC_RELAXED, &v);
		return rc ? rc : !(v & VRING_AVAIL_F_NO_INTERRUPT);
	}
	rc = load16(q, RING_AVAIL, AVAIL_RING(q->size), __ATOMIC_RELAXED, &v);
	if (rc)
		return rc;
	old = q->signalled_used;
	q->signalled_used = q->published;
	if (!q->signalled_valid) {
		q->signalled_valid = true;
		return 1;
	}
	/* virtio 1.2 §2.7.10: wrap-safe "did we pass used_event?" */
	return (uint16_t)(q->published - v - 1) <
	       (uint16_t)(q->published - old);
}

/* The release store of used.idx behind both publish calls. */
static int store_used_idx(struct vmmio_vq *q)
{
	int rc;

	if (q->published == q->next_used)
		return 0;
	/* Release: the used elements are visible before the index; pairs
	 * with the driver's virtio_rmb() in virtqueue_get_buf. */
	rc = store16(q, RING_USED, USED_IDX, q->next_used, __ATOMIC_RELEASE);
	if (rc)
		return rc;
	q->published = q->next_used;
	return 0;
}

int vmmio_vq_publish(struct vmmio_vq *q)
{
	int rc;

	if (VMMIO_UNLIKELY(q->fault))
		return -EIO;
	if (!q->ready)
		return -EINVAL;
	if (q->published == q->next_used && !q->intr_deferred)
		return 0;
	rc = store_used_idx(q);
	if (rc)
		return rc;
	q->intr_deferred = false;
	rc = want_interrupt(q);
	if (rc == 1 && VMMIO_HAS_OP(q->hooks, interrupt))
		q->hooks->interrupt(q->hooks_opaque, q);
	return rc;
}

int vmmio_vq_publish_deferred(struct vmmio_vq *q)
{
	int rc;

	if (VMMIO_UNLIKELY(q->fault))
		return -EIO;
	if (!q->ready)
		return -EINVAL;
	if (q->published == q->next_used)
		return 0;
	/* The next decision covers (signalled_used, published]: more than
	 * 2^15 elements could wrap out of the 16-bit comparison. */
	if ((uint16_t)(q->next_used - q->signalled_used) >= 0x8000u)
		return vmmio_vq_publish(q);
	rc = store_used_idx(q);
	if (rc)
		return rc;
	q->intr_deferred = true;
	return 0;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

bool vmmio__vq_poll_avail(struct vmmio_vq *q, struct vmmio__poll *p)
{
	uint64_t end;
	uint16_t idx;

	if (!p->max_ns || !q->ready || q->fault)
		return false;
	if (p->ns < VMMIO_POLL_MIN_NS || p->ns > p->max_ns)
		p->ns = p->max_ns < VMMIO_POLL_MIN_NS ? p->max_ns
						      : VMMIO_POLL_MIN_NS;
	end = vmmio__now_ns() + p->ns;
	do {
		if (load16(q, RING_AVAIL, AVAIL_IDX, __ATOMIC_ACQUIRE, &idx))
			return false;
		if (idx != q->next_avail) {
			p->ns = p->ns > p->max_ns / 2 ? p->max_ns : p->ns * 2;
			return true;
		}
		cpu_relax();
	} while (vmmio__now_ns() < end);
	p->ns /= 2;
	return false;
}

int vmmio_vq_push(struct vmmio_vq *q, uint16_t head, uint32_t len)
{
	int rc = vmmio_vq_add_used(q, head, len);

	return rc ? rc : vmmio_vq_publish(q);
}

void vmmio_vq_disable_notify(struct vmmio_vq *q)
{
	if (!q->ready || q->fault || q->event_idx)
		return; /* with EVENT_IDX a stale avail_event suppresses */
	(void)store16(q, RING_USED, USED_FLAGS, VRING_USED_F_NO_NOTIFY,
		      __ATOMIC_RELAXED);
}

int vmmio_vq_enable_notify(struct vmmio_vq *q)
{
	uint16_t idx;
	int rc;

	if (q->fault)
		return -EIO;
	if (!q->ready)
		return -EINVAL;
	if (q->event_idx)
		rc = store16(q, RING_USED, USED_RING(q->size), q->next_avail,
			     __ATOMIC_RELAXED);
	else
		rc = store16(q, RING_USED, USED_FLAGS, 0, __ATOMIC_RELAXED);
	if (rc)
		return rc;
	/* Full fence: publish avail_event / flags before re-reading
	 * avail.idx; pairs with the virtio_mb() in the driver's
	 * virtqueue_kick_prepare between its avail.idx store and its read
	 * of avail_event. Without it a kick can be lost. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	rc = load16(q, RING_AVAIL, AVAIL_IDX, __ATOMIC_ACQUIRE, &idx);
	if (rc)
		return rc;
	return idx != q->next_avail;
}

int vmmio_vq_save(const struct vmmio_vq *q, struct vmmio_vq_state *st)
{
	if (q->fault)
		return -EIO;
	if (q->inflight || q->intr_deferred)
		return -EBUSY;
	memset(st, 0, sizeof(*st));
	st->size = q->size;
	st->ready = q->ready;
	st->desc = q->gpa[RING_DESC];
	st->avail = q->gpa[RING_AVAIL];
	st->used = q->gpa[RING_USED];
	st->next_avail = q->next_avail;
	st->next_used = q->next_used;
	st->signalled_used = q->signalled_used;
	st->signalled_valid = q->signalled_valid;
	st->features = q->features;
	return 0;
}

/* Indexes restored must agree with the rings in guest memory. */
static int restore_indexes(struct vmmio_vq *q, const struct vmmio_vq_state *st)
{
	uint16_t used_idx, avail_idx;

	if (load16(q, RING_USED, USED_IDX, __ATOMIC_ACQUIRE, &used_idx) ||
	    load16(q, RING_AVAIL, AVAIL_IDX, __ATOMIC_ACQUIRE, &avail_idx))
		return -EIO;
	if (used_idx != st->next_used || st->next_avail != st->next_used ||
	    (uint16_t)(avail_idx - st->next_avail) > q->size)
		return -EINVAL;
	q->next_avail = q->shadow_avail = st->next_avail;
	q->next_used = q->published = st->next_used;
	q->signalled_used = st->signalled_used;
	q->signalled_valid = st->signalled_valid;
	return 0;
}

int vmmio_vq_restore(struct vmmio_vq *q, const struct vmmio_vq_state *st)
{
	int rc;

	vmmio_vq_reset(q);
	if (!st || !vmmio__is_pow2(st->size) || st->size > q->max_size)
		return -EINVAL;
	q->size = st->size;
	apply_features(q, st->features);
	if (!st->ready)
		return 0;
	q->gpa[RING_DESC] = st->desc;
	q->gpa[RING_AVAIL] = st->avail;
	q->gpa[RING_USED] = st->used;
	rc = map_rings(q);
	if (rc)
		return rc;
	rc = restore_indexes(q, st);
	if (rc) {
		vmmio_vq_reset(q);
		return rc;
	}
	q->ready = true;
	return 0;
}

/* First segment and offset inside it for byte @off of one part. */
static bool seek(const struct vmmio_chain *c, bool writable, uint32_t off,
		 uint32_t n, uint32_t *seg, size_t *in)
{
	uint32_t i = writable ? c->nreadable : 0;
	uint32_t end = writable ? c->nseg : c->nreadable;
	uint32_t total = writable ? c->writable_len : c->readable_len;

	if (off > total || n > total - off)
		return false;
	while (i < end && off >= c->seg[i].len) {
		off -= (uint32_t)c->seg[i].len;
		i++;
	}
	*seg = i;
	*in = off;
	return true;
}

static int chain_copy(const struct vmmio_chain *c, bool writable, uint32_t off,
		      void *buf, uint32_t n)
{
	unsigned char *b = buf;
	uint32_t i = writable ? c->nreadable : 0;
	size_t in;

	/* Fast path: the range sits in the part's first segment (headers,
	 * status bytes). seg[i] exists when i < nseg. */
	if (VMMIO_LIKELY(i < c->nseg && off < c->seg[i].len &&
			 n <= c->seg[i].len - off &&
			 (writable || i < c->nreadable))) {
		unsigned char *p = (unsigned char *)c->seg[i].base + off;

		if (writable)
			memcpy(p, b, n);
		else
			memcpy(b, p, n);
		return 0;
	}
	if (!seek(c, writable, off, n, &i, &in))
		return -ERANGE;
	while (n) {
		size_t chunk = c->seg[i].len - in;

		if (chunk > n)
			chunk = n;
		if (writable)
			memcpy((unsigned char *)c->seg[i].base + in, b, chunk);
		else
			memcpy(b, (unsigned char *)c->seg[i].base + in, chunk);
		b += chunk;
		n -= (uint32_t)chunk;
		in = 0;
		i++;
	}
	return 0;
}

int vmmio_chain_read(const struct vmmio_chain *c, uint32_t off, void *dst,
		     uint32_t n)
{
	return chain_copy(c, false, off, dst, n);
}

int vmmio_chain_write(const struct vmmio_chain *c, uint32_t off,
		      const void *src, uint32_t n)
{
	/* NOLINTNEXTLINE(performance-no-int-to-ptr): drops const; only read */
	return chain_copy(c, true, off, (void *)(uintptr_t)src, n);
}

int vmmio_chain_iov(const struct vmmio_chain *c, bool writable, uint32_t off,
		    uint32_t n, struct vmmio_seg *out, unsigned cap,
		    unsigned *count)
{
	unsigned used = 0;
	uint32_t i;
	size_t in;

	if (!seek(c, writable, off, n, &i, &in))
		return -ERANGE;
	while (n) {
		size_t chunk = c->seg[i].len - in;

		if (chunk > n)
			chunk = n;
		if (used == cap)
			return -ENOSPC;
		out[used].base = (unsigned char *)c->seg[i].base + in;
		out[used].len = chunk;
		used++;
		n -= (uint32_t)chunk;
		in = 0;
		i++;
	}
	*count = used;
	return 0;
}
