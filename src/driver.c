/* SPDX-License-Identifier: Apache-2.0 */
/* libvmmio: driver side of a split virtqueue (the guest's half), freestanding.
 */
#include <vmmio/driver.h>

#include <linux/errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#if __STDC_HOSTED__
#include <string.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
#endif

/* Offsets inside the rings (virtio 1.2 §2.7.6, §2.7.8). */
#define AVAIL_FLAGS 0u
#define AVAIL_IDX 2u
#define AVAIL_RING(i) (4u + 2u * (size_t)(i))
#define USED_FLAGS 0u
#define USED_IDX 2u
#define USED_RING(i) (4u + 8u * (size_t)(i))

static inline uint16_t *u16_at(unsigned char *base, size_t off)
{
	return (uint16_t *)(void *)(base + off);
}

static inline uint32_t *u32_at(unsigned char *base, size_t off)
{
	return (uint32_t *)(void *)(base + off);
}

static bool size_ok(uint16_t size)
{
	return size && (size & (size - 1)) == 0;
}

size_t vmmio_drv_vq_ring_bytes(uint16_t size, uint32_t align)
{
	size_t used;

	if (!size_ok(size) || size > 32768u || align < 4 ||
	    (align & (align - 1)))
		return 0;
	used = 16u * (size_t)size + 6u + 2u * (size_t)size;
	used = (used + align - 1) & ~(size_t)(align - 1);
	return used + 6u + 8u * (size_t)size;
}

int vmmio_drv_vq_init(struct vmmio_drv_vq *vq, uint16_t size, void *ring,
		      vmmio_gpa_t ring_gpa, size_t ring_len, uint32_t align,
		      struct vmmio_drv_slot *slot, uint64_t features)
{
	size_t need = vmmio_drv_vq_ring_bytes(size, align);
	unsigned char *r = ring;
	uint16_t i;

	if (!vq || !ring || !slot || !need || ring_len < need ||
	    ring_gpa % 16u || (uintptr_t)ring % 16u)
		return -EINVAL;
	memset(vq, 0, sizeof(*vq));
	memset(ring, 0, need);
	vq->size = size;
	vq->align = align;
	vq->desc = r;
	vq->avail = r + 16u * (size_t)size;
	vq->used = r + (need - 6u - 8u * (size_t)size);
	vq->desc_gpa = ring_gpa;
	vq->avail_gpa = ring_gpa + (vmmio_gpa_t)(vq->avail - r);
	vq->used_gpa = ring_gpa + (vmmio_gpa_t)(vq->used - r);
	vq->event_idx = features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = features & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
	vq->slot = slot;
	vq->num_free = size;
	for (i = 0; i < size; i++) {
		slot[i].token = NULL;
		slot[i].ndesc = 0;
		slot[i].next = (uint16_t)(i + 1u);
	}
	return 0;
}

static void write_desc(unsigned char *d, vmmio_gpa_t addr, uint32_t len,
		       uint16_t flags, uint16_t next)
{
	struct vring_desc v;

	v.addr = addr;
	v.len = len;
	v.flags = flags;
	v.next = next;
	memcpy(d, &v, sizeof(v));
}

static uint16_t buf_flags(const struct vmmio_drv_req *r, unsigned i)
{
	return i >= r->n_out ? VRING_DESC_F_WRITE : 0;
}

/* Fill the indirect table with buffers [n_direct, total). */
static void fill_table(const struct vmmio_drv_req *r, unsigned total)
{
	unsigned char *t = r->table;
	unsigned j, k = total - r->n_direct;

	for (j = 0; j < k; j++) {
		unsigned b = r->n_direct + j;
		uint16_t f = buf_flags(r, b);

		if (j + 1 < k)
			f |= VRING_DESC_F_NEXT;
		write_desc(t + 16 * (size_t)j, r->buf[b].gpa, r->buf[b].len, f,
			   (uint16_t)(j + 1));
	}
}

static int check_req(const struct vmmio_drv_vq *vq,
		     const struct vmmio_drv_req *r, void *token,
		     unsigned *ndesc)
{
	unsigned total;

	if (!r || !token || !r->buf)
		return -EINVAL;
	total = r->n_out + r->n_in;
	if (total == 0 || total > 65535u || r->n_out > 65535u ||
	    r->n_direct > total)
		return -EINVAL;
	if (r->n_direct < total && (!vq->indirect || !r->table))
		return -EINVAL;
	*ndesc = r->n_direct + (r->n_direct < total);
	return *ndesc > vq->num_free ? -ENOSPC : 0;
}

int vmmio_drv_vq_add(struct vmmio_drv_vq *vq, const struct vmmio_drv_req *r,
		     void *token)
{
	unsigned ndesc, total, i;
	uint16_t head = vq->free_head, cur = head, prev = head, slot_i;
	struct vring_desc *desc = (struct vring_desc *)(void *)vq->desc;
	int rc = check_req(vq, r, token, &ndesc);

	if (rc)
		return rc;
	total = r->n_out + r->n_in;
	for (i = 0; i < r->n_direct; i++) {
		desc[cur].addr = r->buf[i].gpa;
		desc[cur].len = r->buf[i].len;
		desc[cur].flags =
		    (uint16_t)(buf_flags(r, i) | VRING_DESC_F_NEXT);
		desc[cur].next = vq->slot[cur].next;
		prev = cur;
		cur = vq->slot[cur].next;
	}
	if (r->n_direct < total) {
		fill_table(r, total);
		desc[cur].addr = r->table_gpa;
		desc[cur].len = 16u * (total - r->n_direct);
		desc[cur].flags = VRING_DESC_F_INDIRECT;
		desc[cur].next = 0;
		cur = vq->slot[cur].next;
	} else {
		desc[prev].flags &= (uint16_t)~VRING_DESC_F_NEXT;
	}
	vq->free_head = cur;
	vq->num_free = (uint16_t)(vq->num_free - ndesc);
	vq->slot[head].token = token;
	vq->slot[head].ndesc = (uint16_t)ndesc;
	slot_i = vq->avail_idx & (uint16_t)(vq->size - 1);
	*u16_at(vq->avail, AVAIL_RING(slot_i)) = head;
	vq->avail_idx++;
	/* Release: descriptors and ring entry before the index (the
	 * device's acquire load of avail.idx pairs with it). */
	__atomic_store_n(u16_at(vq->avail, AVAIL_IDX), vq->avail_idx,
			 __ATOMIC_RELEASE);
	return 0;
}

bool vmmio_drv_vq_kick_prepare(struct vmmio_drv_vq *vq)
{
	uint16_t old = vq->kicked_idx, now = vq->avail_idx, v;

	/* Full fence: avail.idx before avail_event / used flags; pairs
	 * with the device's fence in vmmio_vq_enable_notify(). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->kicked_idx = now;
	if (vq->event_idx) {
		v = __atomic_load_n(u16_at(vq->used, USED_RING(vq->size)),
				    __ATOMIC_RELAXED);
		return (uint16_t)(now - v - 1) < (uint16_t)(now - old);
	}
	v = __atomic_load_n(u16_at(vq->used, USED_FLAGS), __ATOMIC_RELAXED);
	return !(v & VRING_USED_F_NO_NOTIFY);
}

static uint16_t used_idx(const struct vmmio_drv_vq *vq)
{
	return __atomic_load_n(u16_at(vq->used, USED_IDX), __ATOMIC_ACQUIRE);
}

unsigned vmmio_drv_vq_used_pending(const struct vmmio_drv_vq *vq)
{
	return (uint16_t)(used_idx(vq) - vq->last_used);
}

unsigned vmmio_drv_vq_num_free(const struct vmmio_drv_vq *vq)
{
	return vq->num_free;
}

static void set_used_event(struct vmmio_drv_vq *vq, uint16_t v)
{
	__atomic_store_n(u16_at(vq->avail, AVAIL_RING(vq->size)), v,
			 __ATOMIC_RELAXED);
}

int vmmio_drv_vq_get_used(struct vmmio_drv_vq *vq, void **token, uint32_t *len)
{
	uint16_t idx = used_idx(vq), slot_i, cur, k;
	uint32_t id, n;
	struct vmmio_drv_slot *s;

	if (idx == vq->last_used)
		return 0;
	if ((uint16_t)(idx - vq->last_used) > vq->size)
		return -EIO;
	slot_i = vq->last_used & (uint16_t)(vq->size - 1);
	id = __atomic_load_n(u32_at(vq->used, USED_RING(slot_i)),
			     __ATOMIC_RELAXED);
	n = __atomic_load_n(u32_at(vq->used, USED_RING(slot_i) + 4u),
			    __ATOMIC_RELAXED);
	if (id >= vq->size || !vq->slot[id].token)
		return -EIO;
	s = &vq->slot[id];
	for (cur = (uint16_t)id, k = 1; k < s->ndesc; k++)
		cur = vq->slot[cur].next;
	vq->slot[cur].next = vq->free_head;
	vq->free_head = (uint16_t)id;
	vq->num_free = (uint16_t)(vq->num_free + s->ndesc);
	*token = s->token;
	*len = n;
	s->token = NULL;
	s->ndesc = 0;
	vq->last_used++;
	if (vq->event_idx && !vq->no_interrupt) {
		set_used_event(vq, vq->last_used);
		/* Pairs with the device's fence before it reads used_event. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	return 1;
}

void vmmio_drv_vq_disable_cb(struct vmmio_drv_vq *vq)
{
	vq->no_interrupt = true;
	if (vq->event_idx)
		/* Far ahead: no used index the device can reach soon. */
		set_used_event(vq, (uint16_t)(vq->last_used + 0x8000u));
	else
		__atomic_store_n(u16_at(vq->avail, AVAIL_FLAGS),
				 (uint16_t)VRING_AVAIL_F_NO_INTERRUPT,
				 __ATOMIC_RELAXED);
}

bool vmmio_drv_vq_enable_cb(struct vmmio_drv_vq *vq)
{
	vq->no_interrupt = false;
	if (vq->event_idx)
		set_used_event(vq, vq->last_used);
	else
		__atomic_store_n(u16_at(vq->avail, AVAIL_FLAGS), (uint16_t)0,
				 __ATOMIC_RELAXED);
	/* Pairs with the device's fence in vmmio_vq_publish(). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return used_idx(vq) != vq->last_used;
}
