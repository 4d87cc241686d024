/* SPDX-License-Identifier: Apache-2.0 */
/* Queue fixture and random round-trip engine (see qfix.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include <linux/virtio_ring.h>

#include "qfix.h"

/*
 * The round trips make millions of checks. Check records the location of
 * every passing one (a message to its runner): that dominated the run and
 * took valgrind over 20 minutes. Here a check costs nothing until it
 * fails, and then reports like Check's own.
 */
#define QF_CMP(X, OP, Y, T, FMT)                                               \
	do {                                                                   \
		T x_ = (T)(X), y_ = (T)(Y);                                    \
		if (!(x_ OP y_))                                               \
			ck_abort_msg("Assertion '%s' failed: %s == " FMT       \
				     ", %s == " FMT,                           \
				     #X " " #OP " " #Y, #X, x_, #Y, y_);       \
	} while (0)
#undef ck_assert
#define ck_assert(C)                                                           \
	do {                                                                   \
		if (!(C))                                                      \
			ck_abort_msg("Assertion '%s' failed", #C);             \
	} while (0)
#undef ck_assert_int_eq
#define ck_assert_int_eq(X, Y) QF_CMP(X, ==, Y, intmax_t, "%jd")
#undef ck_assert_int_ge
#define ck_assert_int_ge(X, Y) QF_CMP(X, >=, Y, intmax_t, "%jd")
#undef ck_assert_uint_eq
#define ck_assert_uint_eq(X, Y) QF_CMP(X, ==, Y, uintmax_t, "%ju")
#undef ck_assert_uint_le
#define ck_assert_uint_le(X, Y) QF_CMP(X, <=, Y, uintmax_t, "%ju")
#undef ck_assert_uint_lt
#define ck_assert_uint_lt(X, Y) QF_CMP(X, <, Y, uintmax_t, "%ju")
#undef ck_assert_mem_eq
#define ck_assert_mem_eq(X, Y, N) ck_assert(memcmp((X), (Y), (N)) == 0)

static void on_irq(void *opaque, struct vmmio_vq *q)
{
	struct qfix *f = opaque;

	(void)q;
	f->irqs++;
}

static void on_fault(void *opaque, struct vmmio_vq *q, enum vmmio_fault fault)
{
	struct qfix *f = opaque;

	(void)q;
	f->faults++;
	f->last = fault;
}

const struct vmmio_vq_hooks qf_hooks = {
    .size = sizeof(struct vmmio_vq_hooks),
    .interrupt = on_irq,
    .fault = on_fault,
};

static void setup(struct qfix *f)
{
	size_t len = vmmio_drv_vq_ring_bytes(f->size, 4);
	unsigned off = f->g.split ? QF_SPLIT_RING_OFF : 0;

	ck_assert_int_eq(vmmio_drv_vq_init(&f->d, f->size, f->g.ring + off,
					   TG_RING_GPA + off, len, 4, f->slot,
					   f->features),
			 0);
	ck_assert_int_eq(vmmio_vq_set_size(f->q, f->size), 0);
	ck_assert_int_eq(vmmio_vq_set_features(f->q, f->features), 0);
	ck_assert_int_eq(vmmio_vq_set_addr(f->q, f->d.desc_gpa, f->d.avail_gpa,
					   f->d.used_gpa),
			 0);
	if (f->g.split && f->size >= 8)
		/* Some ring crosses a region boundary (see qfix.h). */
		ck_assert(!vmmio_mem_ptr(f->g.mem, f->d.desc_gpa, 16u * f->size,
					 false) ||
			  !vmmio_mem_ptr(f->g.mem, f->d.avail_gpa,
					 6u + 2u * f->size, false) ||
			  !vmmio_mem_ptr(f->g.mem, f->d.used_gpa,
					 6u + 8u * f->size, false));
	ck_assert_int_eq(vmmio_vq_set_ready(f->q, true), 0);
	f->table_next = QF_TABLE_GPA;
}

void qf_init(struct qfix *f, uint16_t size, uint64_t features, bool split)
{
	memset(f, 0, sizeof(*f));
	ck_assert_uint_le(size, QF_MAX);
	tg_init(&f->g, split, 4242);
	f->size = size;
	f->features = features;
	ck_assert_int_eq(vmmio_vq_new(size, f->g.mem, NULL, NULL, &f->q), 0);
	vmmio_vq_set_hooks(f->q, &qf_hooks, f);
	setup(f);
}

void qf_free(struct qfix *f)
{
	if (f->dev)
		vmmio_dev_free(f->dev);
	else
		vmmio_vq_free(f->q);
	tg_free(&f->g);
}

/* ---- device mode ---- */

static void model_notify(void *opaque, uint16_t qi)
{
	struct qfix *f = opaque;
	struct vmmio_vq *q = vmmio_dev_queue(f->dev, qi);
	struct vmmio_seg seg[64];
	struct vmmio_chain c = {.seg = seg, .seg_cap = f->seg_cap};

	f->notified++;
	while (vmmio_vq_pop(q, &c) == 1) {
		uint32_t n = c.writable_len < 2 ? c.writable_len : 2;

		ck_assert_int_eq(vmmio_chain_write(&c, 0, "ok", n), 0);
		ck_assert_int_ge(vmmio_vq_push(q, c.head, n), 0);
		f->served++;
	}
}

static void model_config(void *opaque, uint32_t off, void *buf, uint32_t len)
{
	(void)opaque;
	(void)off;
	memset(buf, 0, len);
}

static const struct vmmio_dev_ops model_ops = {
    .size = sizeof(model_ops),
    .device_id = 4, /* VIRTIO_ID_RNG */
    .config_read = model_config,
    .queue_notify = model_notify,
};

static void model_irq(void *opaque, bool raise)
{
	struct qfix *f = opaque;

	if (raise)
		f->raised++;
	else
		f->lowered++;
}

static const struct vmmio_host_ops model_host = {.size = sizeof(model_host),
						 .irq = model_irq};

void qf_reinit_dev(struct qfix *f)
{
	uint64_t acc;

	ck_assert_int_eq(
	    vmmio_drv_init(&f->drv, vmmio_dev_driver_ops(), f->dev), 0);
	ck_assert_int_eq(vmmio_drv_negotiate(&f->drv, f->features, &acc), 0);
	ck_assert_uint_eq(acc & f->features, f->features);
	ck_assert_int_eq(vmmio_drv_vq_init(&f->d, f->size, f->g.ring,
					   TG_RING_GPA,
					   vmmio_drv_vq_ring_bytes(f->size, 4),
					   4, f->slot, acc),
			 0);
	ck_assert_int_eq(vmmio_drv_setup_queue(&f->drv, 0, &f->d), 0);
	ck_assert_int_eq(vmmio_drv_driver_ok(&f->drv), 0);
	f->table_next = QF_TABLE_GPA;
}

void qf_init_dev(struct qfix *f, uint16_t size, uint64_t features,
		 uint32_t seg_cap)
{
	const uint16_t sizes[1] = {size};
	struct vmmio_dev_config cfg = {.size = sizeof(cfg),
				       .num_queues = 1,
				       .queue_sizes = sizes,
				       .features = features,
				       .host = &model_host,
				       .host_opaque = f};

	memset(f, 0, sizeof(*f));
	tg_init(&f->g, false, 4242);
	f->size = size;
	f->features = features;
	f->seg_cap = seg_cap;
	cfg.mem = f->g.mem;
	ck_assert_int_eq(vmmio_dev_new(&model_ops, f, &cfg, &f->dev), 0);
	f->q = vmmio_dev_queue(f->dev, 0);
	ck_assert_ptr_nonnull(f->q);
	qf_reinit_dev(f);
}

void qf_restart(struct qfix *f, uint64_t features)
{
	vmmio_vq_reset(f->q);
	f->features = features;
	setup(f);
}

void qf_restart_keep_desc(struct qfix *f)
{
	qf_restart(f, f->features);
	qf_put_desc(f, 0, TG_DATA_GPA, 16, 0, 0);
}

void qf_put_desc(struct qfix *f, uint16_t i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	struct vring_desc d = {addr, len, flags, next};

	ck_assert_uint_lt(i, f->size);
	memcpy(f->d.desc + 16u * i, &d, sizeof(d));
}

vmmio_gpa_t qf_table(struct qfix *f, unsigned entries)
{
	vmmio_gpa_t t = f->table_next;

	f->table_next += 16u * entries;
	ck_assert_uint_le(f->table_next, TG_RING_GPA + TG_RING_LEN);
	return t;
}

void qf_put_entry(struct qfix *f, vmmio_gpa_t table, unsigned j, uint64_t addr,
		  uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc d = {addr, len, flags, next};

	tg_write(&f->g, table + 16u * j, &d, sizeof(d));
}

void qf_set_avail_idx(struct qfix *f, uint16_t idx)
{
	f->d.avail_idx = idx;
	__atomic_store_n((uint16_t *)(void *)(f->d.avail + 2), idx,
			 __ATOMIC_RELEASE);
}

void qf_avail_push(struct qfix *f, uint16_t head)
{
	uint16_t slot = f->d.avail_idx & (uint16_t)(f->size - 1);

	memcpy(f->d.avail + 4 + 2u * slot, &head, 2);
	qf_set_avail_idx(f, (uint16_t)(f->d.avail_idx + 1));
}

uint16_t qf_used_idx(struct qfix *f)
{
	return __atomic_load_n((uint16_t *)(void *)(f->d.used + 2),
			       __ATOMIC_ACQUIRE);
}

void qf_roundtrip_one(struct qfix *f)
{
	struct vmmio_drv_buf b[2] = {{TG_DATA_GPA, 8}, {TG_DATA_GPA + 64, 8}};
	struct vmmio_drv_req r = {
	    .buf = b, .n_out = 1, .n_in = 1, .n_direct = 2};
	struct vmmio_seg seg[4];
	struct vmmio_chain c = {.seg = seg, .seg_cap = 4};
	unsigned char out[8], got[8];
	void *tok;
	uint32_t len;

	tg_write(&f->g, TG_DATA_GPA, "request!", 8);
	ck_assert_int_eq(vmmio_drv_vq_add(&f->d, &r, f), 0);
	ck_assert_int_eq(vmmio_vq_pop(f->q, &c), 1);
	ck_assert_int_eq(vmmio_chain_read(&c, 0, out, 8), 0);
	ck_assert_mem_eq(out, "request!", 8);
	ck_assert_int_eq(vmmio_chain_write(&c, 0, "response", 8), 0);
	ck_assert_int_ge(vmmio_vq_push(f->q, c.head, 8), 0);
	ck_assert_int_eq(vmmio_drv_vq_get_used(&f->d, &tok, &len), 1);
	ck_assert_ptr_eq(tok, f);
	ck_assert_uint_eq(len, 8);
	tg_read(&f->g, TG_DATA_GPA + 64, got, 8);
	ck_assert_mem_eq(got, "response", 8);
}

/* ---- random round trips ---- */

#define RT_MAXB 64
#define RT_SEGS 4096

struct rq {
	unsigned id;
	unsigned n_out, n_in;
	struct vmmio_drv_buf buf[RT_MAXB];
	unsigned char out[RT_MAXB * 600];
	uint32_t outlen, inlen, written;
};

struct pend {
	struct vmmio_chain c;
	struct vmmio_seg seg[RT_SEGS];
	struct rq *rq;
};

struct rt {
	struct qfix f;
	unsigned seed;
	struct rq *by_head[QF_MAX];
	struct pend *pend[QF_MAX];
	unsigned npend;
	unsigned next_id;
	struct rt_stats *st;
};

static unsigned char pattern(unsigned id, uint32_t off)
{
	return (unsigned char)(id * 7u + off * 13u + (off >> 8));
}

static unsigned pick_total(struct rt *t, bool *indirect)
{
	unsigned free_d = vmmio_drv_vq_num_free(&t->f.d);
	unsigned big = tg_rand(&t->seed) % 16 == 0;
	unsigned lim;

	*indirect = (t->f.features & (1ull << VIRTIO_RING_F_INDIRECT_DESC)) &&
		    tg_rand(&t->seed) % 2;
	lim = *indirect ? t->f.size : free_d;
	if (lim > RT_MAXB)
		lim = RT_MAXB;
	if (lim == 0)
		return 0;
	return big ? lim : 1 + tg_rand(&t->seed) % (lim < 6 ? lim : 6);
}

static void fill_req(struct rt *t, struct rq *rq, unsigned total)
{
	struct tguest *g = &t->f.g;

	rq->n_out = tg_rand(&t->seed) % (total + 1);
	rq->n_in = total - rq->n_out;
	rq->outlen = rq->inlen = 0;
	for (unsigned i = 0; i < total; i++) {
		uint32_t len = 1 + tg_rand(&t->seed) % 600;

		rq->buf[i].gpa = tg_alloc(g, len, 1);
		rq->buf[i].len = len;
		if (i < rq->n_out) {
			for (uint32_t k = 0; k < len; k++)
				rq->out[rq->outlen + k] =
				    (unsigned char)tg_rand(&t->seed);
			tg_write(g, rq->buf[i].gpa, rq->out + rq->outlen, len);
			rq->outlen += len;
		} else {
			rq->inlen += len;
		}
	}
}

/* Driver: add one random request if there is room. */
static void driver_add(struct rt *t)
{
	struct rq *rq;
	struct vmmio_drv_req r;
	uint16_t head = t->f.d.free_head;
	/* Shifted in split mode so some tables cross a 4 KiB region. */
	vmmio_gpa_t table = QF_TABLE_GPA + (t->f.g.split ? 0x200u : 0) +
			    (vmmio_gpa_t)head * 16u * t->f.size;
	bool indirect;
	unsigned total = pick_total(t, &indirect);

	if (total == 0 ||
	    (!indirect && total > vmmio_drv_vq_num_free(&t->f.d)) ||
	    vmmio_drv_vq_num_free(&t->f.d) == 0)
		return;
	rq = calloc(1, sizeof(*rq));
	ck_assert_ptr_nonnull(rq);
	rq->id = t->next_id++;
	fill_req(t, rq, total);
	r = (struct vmmio_drv_req){
	    .buf = rq->buf,
	    .n_out = rq->n_out,
	    .n_in = rq->n_in,
	    .n_direct = indirect ? tg_rand(&t->seed) % (total + 1) : total,
	    .table = tg_ring_ptr(&t->f.g, table),
	    .table_gpa = table};
	/* Descriptors needed: the direct ones plus one for the table. */
	if (r.n_direct + (r.n_direct < total) > vmmio_drv_vq_num_free(&t->f.d))
		r.n_direct = 0;
	ck_assert_int_eq(vmmio_drv_vq_add(&t->f.d, &r, rq), 0);
	t->by_head[head] = rq;
	if (r.n_direct < total) {
		vmmio_gpa_t end = table + 16u * (total - r.n_direct) - 1;

		t->st->indirect++;
		if (t->f.g.split && table / 4096 != end / 4096)
			t->st->table_straddles++;
	}
	if (total > t->st->max_chain)
		t->st->max_chain = total;
}

/* Device: read the readable stream in random pieces and compare. */
static void device_check(struct rt *t, struct pend *p)
{
	struct rq *rq = p->rq;
	unsigned char buf[700];
	uint32_t off = 0;

	ck_assert_uint_eq(p->c.readable_len, rq->outlen);
	ck_assert_uint_eq(p->c.writable_len, rq->inlen);
	while (off < rq->outlen) {
		uint32_t n = 1 + tg_rand(&t->seed) % sizeof(buf);

		if (n > rq->outlen - off)
			n = rq->outlen - off;
		ck_assert_int_eq(vmmio_chain_read(&p->c, off, buf, n), 0);
		ck_assert_mem_eq(buf, rq->out + off, n);
		off += n;
	}
	for (off = 0; off < rq->inlen;) {
		uint32_t n = 1 + tg_rand(&t->seed) % sizeof(buf);

		if (n > rq->inlen - off)
			n = rq->inlen - off;
		for (uint32_t k = 0; k < n; k++)
			buf[k] = pattern(rq->id, off + k);
		ck_assert_int_eq(vmmio_chain_write(&p->c, off, buf, n), 0);
		off += n;
	}
	rq->written = rq->inlen ? tg_rand(&t->seed) % (rq->inlen + 1) : 0;
}

static void device_pop_burst(struct rt *t)
{
	unsigned k = 1 + tg_rand(&t->seed) % 4, got = 0;

	while (got < k) {
		struct pend *p = malloc(sizeof(*p));
		int rc;

		ck_assert_ptr_nonnull(p);
		p->c = (struct vmmio_chain){.seg = p->seg, .seg_cap = RT_SEGS};
		rc = vmmio_vq_pop(t->f.q, &p->c);
		ck_assert_int_ge(rc, 0);
		if (rc == 0) {
			free(p);
			break;
		}
		p->rq = t->by_head[p->c.head];
		ck_assert_ptr_nonnull(p->rq);
		device_check(t, p);
		t->pend[t->npend++] = p;
		got++;
	}
	if (got && tg_rand(&t->seed) % 4 == 0) {
		unsigned j = 1 + tg_rand(&t->seed) % got;

		ck_assert_int_eq(vmmio_vq_unpop(t->f.q, j), 0);
		while (j--)
			free(t->pend[--t->npend]);
		t->st->unpopped++;
	}
}

static void device_complete(struct rt *t)
{
	unsigned k = 1 + tg_rand(&t->seed) % 4;

	while (k-- && t->npend) {
		unsigned i = tg_rand(&t->seed) % t->npend;
		struct pend *p = t->pend[i];

		if (i)
			t->st->out_of_order++;
		ck_assert_int_eq(
		    vmmio_vq_add_used(t->f.q, p->c.head, p->rq->written), 0);
		t->pend[i] = t->pend[--t->npend];
		free(p);
	}
	ck_assert_int_ge(vmmio_vq_publish(t->f.q), 0);
}

static void driver_collect(struct rt *t)
{
	void *tok;
	uint32_t len;
	unsigned char buf[600];

	while (vmmio_drv_vq_get_used(&t->f.d, &tok, &len) == 1) {
		struct rq *rq = tok;
		uint32_t off = 0;

		ck_assert_uint_eq(len, rq->written);
		for (unsigned i = rq->n_out; i < rq->n_out + rq->n_in; i++) {
			uint32_t n = rq->buf[i].len;

			if (off >= len)
				break;
			if (n > len - off)
				n = len - off;
			tg_read(&t->f.g, rq->buf[i].gpa, buf, n);
			for (uint32_t k = 0; k < n; k++)
				ck_assert_uint_eq(buf[k],
						  pattern(rq->id, off + k));
			off += n;
		}
		t->st->completed++;
		free(rq);
	}
}

void rt_run(uint64_t features, bool split, uint16_t size, unsigned count,
	    unsigned seed, struct rt_stats *st)
{
	struct rt *t = calloc(1, sizeof(*t));

	ck_assert_ptr_nonnull(t);
	memset(st, 0, sizeof(*st));
	t->st = st;
	t->seed = seed;
	qf_init(&t->f, size, features, split);
	while (st->completed < count) {
		unsigned r = tg_rand(&t->seed) % 4;

		if (r == 0 && t->next_id < count)
			driver_add(t);
		else if (r == 1)
			device_pop_burst(t);
		else if (r == 2)
			device_complete(t);
		else
			driver_collect(t);
		ck_assert_uint_eq(t->f.faults, 0);
	}
	ck_assert_uint_eq(t->npend, 0);
	ck_assert_uint_eq(vmmio_drv_vq_num_free(&t->f.d), size);
	ck_assert_uint_eq(vmmio_vq_inflight(t->f.q), 0);
	qf_free(&t->f);
	free(t);
}
