/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test guest, ring 3: tg.run=bench. virtio-blk random and sequential
 * throughput at fixed queue depths, virtio-console guest->host throughput,
 * with the notifications sent and interrupts taken per figure. Every read
 * is checked against the stamps the write figures leave on the disk.
 * README.md has the options, the output format and the data patterns.
 */
#include <linux/errno.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include <vmmio/driver.h>

#include "bench.h"
#include "tg.h"

#define BIT(n) (1ull << (n))
#define KIB 1024u
#define MIB (1024u * 1024u)
#define BLOCK 4096u   /* random request size, stamp unit */
#define SEQ_BYTES MIB /* sequential request size */
#define MAX_QD 128    /* random figures */
#define MAX_SEQQD 32  /* sequential figures */
#define MAX_LIST 8    /* entries of tg.qd= / tg.seqqd= */
#define MAX_SEG 62    /* data segments per request (64-entry tables) */
#define QSIZE_MAX 256 /* ring entries we ask for */
#define CON_CHUNK (64u * KIB)
#define CON_QD 16
#define IO_STALL_MS 5000 /* no completion for this long: a failure */

/*
 * Working memory, identity-mapped guest-physical RAM above the image
 * (guest.ld keeps the image under 16 MiB): rings, request headers,
 * indirect tables, the random buffers, the bitmap of blocks written in
 * this run, then OFF_BIG.. for the sequential buffers (seqqd MiB) or the
 * console chunk.
 */
#define AREA 0x1000000u
#define OFF_RING 0x0u /* 3 rings of RING_MAX */
#define RING_MAX 0x4000u
#define OFF_CON_RX 0xc000u
#define OFF_REQ 0x10000u
#define REQ_STRIDE 64u
#define OFF_TABLE 0x20000u
#define TABLE_STRIDE (16u * (MAX_SEG + 2u))
#define OFF_RAND 0x40000u
#define OFF_BITMAP 0xc0000u
#define BITMAP_BYTES 0x20000u
#define OFF_BIG 0x100000u
#define RAM_MAPPED 0x40000000u

_Static_assert(OFF_TABLE + MAX_QD * TABLE_STRIDE <= OFF_RAND, "tables");
_Static_assert(OFF_REQ + MAX_QD * REQ_STRIDE <= OFF_TABLE, "headers");
_Static_assert(OFF_RAND + MAX_QD * BLOCK <= OFF_BITMAP, "random buffers");
_Static_assert(OFF_BITMAP + BITMAP_BYTES <= OFF_BIG, "bitmap");

static unsigned char *area(uint32_t off)
{
	return (unsigned char *)(uintptr_t)(AREA + off);
}

/* --- Options (tg.bench= and friends) ---------------------------------- */

enum fig {
	FIG_RANDWRITE,
	FIG_RANDREAD,
	FIG_SEQWRITE,
	FIG_SEQREAD,
	FIG_CONSOLE,
	FIG__COUNT
};

/* Run order: writes first, so the reads that follow check their stamps. */
static const char *const fig_names[FIG__COUNT] = {
    [FIG_RANDWRITE] = "blk-randwrite", [FIG_RANDREAD] = "blk-randread",
    [FIG_SEQWRITE] = "blk-seqwrite",   [FIG_SEQREAD] = "blk-seqread",
    [FIG_CONSOLE] = "console",
};

struct opts {
	unsigned figs; /* BIT(enum fig) */
	unsigned qd[MAX_LIST], nqd;
	unsigned seqqd[MAX_LIST], nseqqd;
	unsigned secs, console_mb, hold_ms;
	bool console_sync;
	unsigned bad; /* options that did not parse */
};

static bool end_of_value(char c)
{
	return !c || c == ' ' || c == ',';
}

/* Decimal in [lo, hi]; advances *p. */
static bool parse_dec(const char **p, unsigned lo, unsigned hi, unsigned *out)
{
	const char *s = *p;
	unsigned v = 0;

	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9') {
		v = v * 10u + (unsigned)(*s++ - '0');
		if (v > hi)
			return false;
	}
	if (!end_of_value(*s) || v < lo)
		return false;
	*p = s;
	*out = v;
	return true;
}

static void opt_num(struct opts *o, const char *key, unsigned lo, unsigned hi,
		    unsigned *out)
{
	const char *v = tg_opt(key);

	if (v && (!parse_dec(&v, lo, hi, out) || (*v && *v != ' '))) {
		tg_printf("TG bench: bad %s (%u..%u)\n", key, lo, hi);
		o->bad++;
	}
}

static void opt_list(struct opts *o, const char *key, unsigned hi,
		     unsigned *list, unsigned *n)
{
	const char *v = tg_opt(key);
	unsigned k = 0;

	if (!v)
		return;
	while (k < MAX_LIST && parse_dec(&v, 1, hi, &list[k])) {
		k++;
		if (*v != ',')
			break;
		v++;
	}
	if (!k || (*v && *v != ' ')) {
		tg_printf("TG bench: bad %s (up to %u values 1..%u)\n", key,
			  MAX_LIST, hi);
		o->bad++;
		return;
	}
	*n = k;
}

static bool name_is(const char *s, size_t n, const char *name)
{
	return strlen(name) == n && !tg_strncmp(s, name, n);
}

static void opt_figs(struct opts *o)
{
	const char *v = tg_opt("tg.bench=");

	o->figs = BIT(FIG__COUNT) - 1;
	if (!v)
		return;
	o->figs = 0;
	while (*v && *v != ' ') {
		size_t n = 0;
		unsigned f;

		while (!end_of_value(v[n]))
			n++;
		for (f = 0; f < FIG__COUNT; f++)
			if (name_is(v, n, fig_names[f]))
				break;
		if (f < FIG__COUNT)
			o->figs |= (unsigned)BIT(f);
		else if (name_is(v, n, "all"))
			o->figs = BIT(FIG__COUNT) - 1;
		else if (n) {
			tg_printf("TG bench: unknown figure in tg.bench=\n");
			o->bad++;
		}
		v += n;
		if (*v == ',')
			v++;
	}
}

static void opts_read(struct opts *o)
{
	unsigned sync = 0;

	*o = (struct opts){.qd = {1, 32, 128},
			   .nqd = 3,
			   .seqqd = {8},
			   .nseqqd = 1,
			   .secs = 2,
			   .console_mb = 64,
			   .hold_ms = 300};
	opt_figs(o);
	opt_list(o, "tg.qd=", MAX_QD, o->qd, &o->nqd);
	opt_list(o, "tg.seqqd=", MAX_SEQQD, o->seqqd, &o->nseqqd);
	opt_num(o, "tg.secs=", 1, 60, &o->secs);
	opt_num(o, "tg.console_mb=", 1, 1024, &o->console_mb);
	opt_num(o, "tg.hold_ms=", 0, 600000, &o->hold_ms);
	opt_num(o, "tg.console_sync=", 0, 1, &sync);
	o->console_sync = sync;
}

/* --- RAM: is the working area backed? ------------------------------- */

#define HVM_START_MAGIC 0x336ec578u
#define E820_RAM 1u

static bool map_ok(uint64_t p, uint64_t len)
{
	return p >= 0x1000 && p < RAM_MAPPED && len <= RAM_MAPPED - p;
}

/* Where a memory map entry list is: @e, @n entries of @stride bytes
 * (addr u64, size u64, type u32). PVH start_info (version >= 1) or the
 * zero page's e820 table. false: none found. */
static bool mem_map(const unsigned char **e, unsigned *n, unsigned *stride)
{
	if (tg_pvh_info) {
		const unsigned char *si = (const unsigned char *)tg_pvh_info;
		uint64_t mp;

		if (!map_ok(tg_pvh_info, 0x38) ||
		    *(const uint32_t *)si != HVM_START_MAGIC ||
		    *(const uint32_t *)(si + 4) < 1)
			return false;
		mp = *(const uint64_t *)(si + 0x28);
		*n = *(const uint32_t *)(si + 0x30);
		*stride = 24;
		*e = (const unsigned char *)(uintptr_t)mp;
		return *n <= 128 && map_ok(mp, 24u * *n);
	}
	if (!map_ok(tg_boot_params, 0x1000))
		return false;
	*e = (const unsigned char *)tg_boot_params + 0x2d0;
	*n = ((const unsigned char *)tg_boot_params)[0x1e8];
	*stride = 20;
	return *n <= 128;
}

/* Does one RAM entry of the boot memory map cover [lo, hi)? 1 yes, 0 no,
 * -1 no map found. */
static int ram_covers(uint64_t lo, uint64_t hi)
{
	const unsigned char *e;
	unsigned n, stride;

	if (!mem_map(&e, &n, &stride) || !n)
		return -1;
	for (unsigned i = 0; i < n; i++, e += stride) {
		uint64_t a = *(const uint64_t *)e,
			 s = *(const uint64_t *)(e + 8);

		if (*(const uint32_t *)(e + 16) == E820_RAM && a <= lo &&
		    s >= hi - a)
			return 1;
	}
	return 0;
}

/* --- Devices ---------------------------------------------------------- */

static struct vmmio_drv_slot bslots[3][QSIZE_MAX];

/* Negotiate @wanted, set up @nq queues on rings @ring.., DRIVER_OK. */
static int bdev_start(struct tg_vdev *d, uint64_t wanted, unsigned nq,
		      unsigned ring)
{
	unsigned char *r[2] = {area(OFF_RING + ring * RING_MAX),
			       area(OFF_RING + (ring + 1) * RING_MAX)};
	struct vmmio_drv_slot *sl[2] = {bslots[ring], bslots[ring + 1]};

	return tg_vdev_start(d, wanted, nq, r, RING_MAX, sl, QSIZE_MAX);
}

/* --- Figures: counting and output ------------------------------------- */

struct count {
	uint64_t t0, reqs, bytes;
	unsigned notify, irq;
};

static void count_start(struct count *c, const struct tg_vdev *d)
{
	c->t0 = tg_rdtsc();
	c->reqs = c->bytes = 0;
	c->notify = d->notifies;
	c->irq = tg_irq_total(d->slot);
}

/* TG BENCH <name> <value> <unit> reqs=<n> notify=<k> irq=<i>; the value
 * has one decimal: requests/s (iops) or 10^6 bytes/s (MB/s). */
static void count_print(const struct count *c, const struct tg_vdev *d,
			const char *name, bool mbs)
{
	uint64_t ticks = tg_rdtsc() - c->t0, v;

	if (!ticks)
		ticks = 1;
	if (mbs) /* bytes * 10 / (ticks / (khz * 1000)) / 10^6 */
		v = c->bytes * 10u / 1000u * tg_tsc_khz / ticks;
	else
		v = c->reqs * 10u * tg_tsc_khz * 1000u / ticks;
	tg_printf("TG BENCH %s %llu.%llu %s reqs=%llu notify=%u irq=%u\n", name,
		  (unsigned long long)(v / 10), (unsigned long long)(v % 10),
		  mbs ? "MB/s" : "iops", (unsigned long long)c->reqs,
		  d->notifies - c->notify, tg_irq_total(d->slot) - c->irq);
}

/* --- Stamps: what the write figures put in every 4 KiB block ---------- */

#define STAMP_MAGIC 0x4b4d48434e454254ull /* "TBENCHMK" */
#define STAMP_STEP 0x9e3779b97f4a7c15ull

static uint64_t run_seed;
static struct {
	uint64_t checked, fresh; /* stamped blocks checked; of them this run */
	uint64_t unstamped;	 /* blocks read that no run wrote */
} vstat;

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Word 0 magic, 1 block number, 2 the writing run's seed, then a
 * sequence derived from both. */
static void stamp_fill(uint64_t *w, uint64_t block)
{
	uint64_t v = mix64(block ^ run_seed);

	w[0] = STAMP_MAGIC;
	w[1] = block;
	w[2] = run_seed;
	for (unsigned k = 3; k < BLOCK / 8; k++)
		w[k] = v + k * STAMP_STEP;
}

static bool bit_test(uint64_t block)
{
	const unsigned char *bm = area(OFF_BITMAP);

	return block < BITMAP_BYTES * 8ull &&
	       (bm[block / 8] >> (block % 8) & 1u);
}

static void bit_set(uint64_t block)
{
	unsigned char *bm = area(OFF_BITMAP);

	if (block < BITMAP_BYTES * 8ull)
		bm[block / 8] |= (unsigned char)(1u << (block % 8));
}

/* 0 fine (checked, or never written by any run); -EILSEQ wrong data. */
static int stamp_check(const uint64_t *w, uint64_t block)
{
	bool mine = bit_test(block);
	uint64_t v;

	if (w[0] != STAMP_MAGIC) {
		vstat.unstamped++;
		return mine ? -EILSEQ : 0;
	}
	if (w[1] != block || (mine && w[2] != run_seed))
		return -EILSEQ;
	v = mix64(block ^ w[2]);
	for (unsigned k = 3; k < BLOCK / 8; k++)
		if (w[k] != v + k * STAMP_STEP)
			return -EILSEQ;
	vstat.checked++;
	vstat.fresh += mine;
	return 0;
}

/* --- virtio-blk ------------------------------------------------------- */

#define BLK_WANTED                                                             \
	(BIT(VIRTIO_BLK_F_FLUSH) | BIT(VIRTIO_BLK_F_RO) |                      \
	 BIT(VIRTIO_BLK_F_SIZE_MAX) | BIT(VIRTIO_BLK_F_SEG_MAX) |              \
	 BIT(VIRTIO_RING_F_INDIRECT_DESC) | BIT(VIRTIO_RING_F_EVENT_IDX))

/* Per request: header, status (device-writable), bookkeeping. */
struct breq {
	struct virtio_blk_outhdr hdr;
	volatile uint8_t status;
	unsigned index;
	uint64_t unit;
};
_Static_assert(sizeof(struct breq) <= REQ_STRIDE, "REQ_STRIDE");

struct job {
	struct tg_vdev *d;
	bool write, seq;
	unsigned qd, inflight;
	uint32_t bytes, seg_len, nseg;
	uint64_t nunits, next, rng, deadline;
	struct count c;
	uint64_t bad_block;
};

static struct breq *req_at(unsigned i)
{
	return (struct breq *)(void *)area(OFF_REQ + i * REQ_STRIDE);
}

static unsigned char *data_at(const struct job *j, unsigned i)
{
	return j->seq ? area(OFF_BIG + i * SEQ_BYTES)
		      : area(OFF_RAND + i * BLOCK);
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* Fill the data (write) or poison its stamps (read), then add it. */
static int blk_submit(struct job *j, unsigned i)
{
	struct breq *r = req_at(i);
	unsigned char *data = data_at(j, i);
	struct vmmio_drv_buf b[MAX_SEG + 2];
	struct vmmio_drv_req req;
	uint32_t nb = j->bytes / BLOCK, n = 0;

	r->unit =
	    j->seq ? j->next++ % j->nunits : xorshift(&j->rng) % j->nunits;
	r->index = i;
	r->hdr.type = j->write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
	r->hdr.ioprio = 0;
	r->hdr.sector = r->unit * (j->bytes / 512u);
	r->status = 0xff;
	for (uint32_t k = 0; k < nb; k++) {
		uint64_t *w = (uint64_t *)(void *)(data + k * BLOCK);

		if (j->write)
			stamp_fill(w, r->unit * nb + k);
		else
			w[0] = 0;
	}
	b[n++] = (struct vmmio_drv_buf){(uintptr_t)&r->hdr, sizeof(r->hdr)};
	for (uint32_t s = 0; s < j->nseg; s++) {
		uint32_t off = s * j->seg_len, len = j->bytes - off;

		b[n++] =
		    (struct vmmio_drv_buf){(uintptr_t)(data + off),
					   len < j->seg_len ? len : j->seg_len};
	}
	b[n++] = (struct vmmio_drv_buf){(uintptr_t)&r->status, 1};
	req = (struct vmmio_drv_req){
	    .buf = b,
	    .n_out = j->write ? n - 1 : 1,
	    .n_in = j->write ? 1 : n - 1,
	    .n_direct = j->d->vq[0].indirect ? 0 : n,
	    .table = area(OFF_TABLE + i * TABLE_STRIDE),
	    .table_gpa = AREA + OFF_TABLE + i * TABLE_STRIDE};
	return vmmio_drv_vq_add(&j->d->vq[0], &req, r);
}

static int blk_complete(struct job *j, const struct breq *r)
{
	const unsigned char *data = data_at(j, r->index);
	uint32_t nb = j->bytes / BLOCK;

	if (r->status != VIRTIO_BLK_S_OK) {
		tg_printf("TG bench: blk sector %llu status %u\n",
			  (unsigned long long)r->hdr.sector, r->status);
		return -EIO;
	}
	j->c.reqs++;
	j->c.bytes += j->bytes;
	for (uint32_t k = 0; k < nb; k++) {
		uint64_t block = r->unit * nb + k;

		if (j->write)
			bit_set(block);
		else if (stamp_check(
			     (const uint64_t *)(const void *)(data + k * BLOCK),
			     block)) {
			j->bad_block = block;
			return -EILSEQ;
		}
	}
	return 0;
}

/* Take every used element; resubmit while the clock runs. Returns the
 * number taken or -errno. */
static int blk_reap(struct job *j, bool *added)
{
	void *tok;
	uint32_t len;
	int rc, n = 0;

	while ((rc = vmmio_drv_vq_get_used(&j->d->vq[0], &tok, &len)) == 1) {
		const struct breq *r = tok;

		rc = blk_complete(j, r);
		if (rc)
			return rc;
		n++;
		if (!tg_expired(j->deadline)) {
			rc = blk_submit(j, r->index);
			if (rc)
				return rc;
			*added = true;
		} else {
			j->inflight--;
		}
	}
	return rc < 0 ? rc : n;
}

/* Keep qd requests in flight for tg.secs, then drain. */
static int blk_job_run(struct job *j, uint64_t secs)
{
	uint64_t stall;
	int rc = 0;

	count_start(&j->c, j->d);
	j->deadline = j->c.t0 + secs * 1000u * tg_tsc_khz;
	for (unsigned i = 0; !rc && i < j->qd; i++)
		rc = blk_submit(j, i);
	if (rc)
		return rc;
	j->inflight = j->qd;
	tg_vdev_kick(j->d, 0);
	stall = tg_deadline(IO_STALL_MS);
	while (j->inflight) {
		bool added = false;

		tg_vdev_irq_poll(j->d);
		rc = blk_reap(j, &added);
		if (rc < 0)
			return rc;
		if (added)
			tg_vdev_kick(j->d, 0);
		if (rc > 0)
			stall = tg_deadline(IO_STALL_MS);
		else if (tg_expired(stall))
			return -ETIMEDOUT;
		else
			tg_pause();
	}
	return 0;
}

/* Segments per request within the device's size_max and seg_max. */
static int seg_plan(struct job *j)
{
	const struct vmmio_drv *drv = j->d->drv;
	uint32_t smax = 0, gmax = 0;

	j->seg_len = j->bytes;
	if ((j->d->features & BIT(VIRTIO_BLK_F_SIZE_MAX)) &&
	    !vmmio_drv_config_read(drv, 8, &smax, 4) && smax < j->bytes)
		j->seg_len = smax < BLOCK ? BLOCK : smax & ~(BLOCK - 1);
	j->nseg = (j->bytes + j->seg_len - 1) / j->seg_len;
	if ((j->d->features & BIT(VIRTIO_BLK_F_SEG_MAX)) &&
	    !vmmio_drv_config_read(drv, 12, &gmax, 4) && gmax && j->nseg > gmax)
		return -E2BIG;
	return j->nseg > MAX_SEG ? -E2BIG : 0;
}

/* Queue depth the ring can hold (indirect: one descriptor a request). */
static unsigned qd_fit(const struct job *j, unsigned want)
{
	unsigned per = j->d->vq[0].indirect ? 1 : j->nseg + 2;
	unsigned fit = vmmio_drv_vq_num_free(&j->d->vq[0]) / per;

	if (want > fit)
		tg_printf("TG bench: queue depth %u does not fit the ring, "
			  "%u used\n",
			  want, fit);
	return want > fit ? fit : want;
}

/* One blk figure; 0 or -errno (already reported). */
static int blk_figure(struct tg_vdev *d, enum fig f, unsigned qd, uint64_t cap,
		      unsigned secs)
{
	struct job j = {.d = d,
			.write = f == FIG_RANDWRITE || f == FIG_SEQWRITE,
			.seq = f == FIG_SEQWRITE || f == FIG_SEQREAD,
			.rng = mix64(run_seed + f * 1000u + qd) | 1u};
	char name[48];
	int rc;

	j.bytes = j.seq ? SEQ_BYTES : BLOCK;
	j.nunits = cap * 512u / j.bytes;
	if (!j.nunits) {
		tg_printf("TG bench: %s: disk smaller than one request\n",
			  fig_names[f]);
		return -ENOSPC;
	}
	rc = seg_plan(&j);
	if (rc) {
		tg_printf("TG bench: %s: 1 MiB needs %u segments, too many\n",
			  fig_names[f], j.nseg);
		return rc;
	}
	j.qd = qd_fit(&j, qd);
	if (!j.qd)
		return -ENOSPC;
	tg_snprintf(name, sizeof(name), "%s-%s-qd%u", fig_names[f],
		    j.seq ? "1m" : "4k", j.qd);
	rc = blk_job_run(&j, secs);
	if (rc == -EILSEQ)
		tg_printf("TG bench: %s: block %llu read back wrong\n", name,
			  (unsigned long long)j.bad_block);
	else if (rc)
		tg_printf("TG bench: %s: rc=%d\n", name, rc);
	else
		count_print(&j.c, d, name, j.seq);
	return rc;
}

static int blk_capacity(struct tg_vdev *d, uint64_t *cap)
{
	uint32_t w[2];
	int rc = vmmio_drv_config_read(d->drv, 0, w, sizeof(w));

	*cap = (uint64_t)w[1] << 32 | w[0];
	return rc;
}

/* Every selected blk figure, in enum order; -errno stops the run. */
static int blk_figures(struct tg_vdev *d, const struct opts *o)
{
	uint64_t cap;
	int rc = bdev_start(d, BLK_WANTED, 1, 0);

	if (!rc)
		rc = blk_capacity(d, &cap);
	if (rc) {
		tg_printf("TG bench: blk init rc=%d\n", rc);
		return rc;
	}
	for (unsigned f = FIG_RANDWRITE; f <= FIG_SEQREAD; f++) {
		bool seq = f == FIG_SEQWRITE || f == FIG_SEQREAD;
		const unsigned *qd = seq ? o->seqqd : o->qd;
		unsigned n = seq ? o->nseqqd : o->nqd;

		if (!(o->figs & BIT(f)))
			continue;
		if ((f == FIG_RANDWRITE || f == FIG_SEQWRITE) &&
		    (d->features & BIT(VIRTIO_BLK_F_RO))) {
			tg_printf("TG bench: %s: read-only disk, skipped\n",
				  fig_names[f]);
			continue;
		}
		for (unsigned i = 0; i < n; i++) {
			rc = blk_figure(d, (enum fig)f, qd[i], cap, o->secs);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* --- virtio-console: guest -> host ------------------------------------ */

/* Byte i of the stream after the header line (README.md). */
static uint8_t con_pattern(uint64_t i)
{
	return (uint8_t)((i * 131u + 7u) & 0xffu);
}

/* One transmitq request of @len bytes at @p, synchronously. */
static int con_send_sync(struct tg_vdev *d, const void *p, uint32_t len)
{
	struct vmmio_drv_buf b = {(uintptr_t)p, len};
	struct vmmio_drv_req r = {.buf = &b, .n_out = 1, .n_direct = 1};
	uint64_t end = tg_deadline(IO_STALL_MS);
	void *tok;
	int rc = vmmio_drv_vq_add(&d->vq[1], &r, (void *)(uintptr_t)p);

	if (rc)
		return rc;
	tg_vdev_kick(d, 1);
	while (!(rc = vmmio_drv_vq_get_used(&d->vq[1], &tok, &len))) {
		tg_vdev_irq_poll(d);
		if (tg_expired(end))
			return -ETIMEDOUT;
		tg_pause();
	}
	return rc < 0 ? rc : 0;
}

/* tg.console_sync=1: wait for one byte from the host (it is reading). */
static int con_sync(struct tg_vdev *d)
{
	struct vmmio_drv_buf b = {AREA + OFF_CON_RX, 64};
	struct vmmio_drv_req r = {.buf = &b, .n_in = 1, .n_direct = 1};
	uint64_t end = tg_deadline(30000);
	uint32_t len;
	void *tok;
	int rc = vmmio_drv_vq_add(&d->vq[0], &r, area(OFF_CON_RX));

	if (rc)
		return rc;
	tg_vdev_kick(d, 0);
	tg_printf("TG bench: console: waiting for a byte from the host\n");
	while (!(rc = vmmio_drv_vq_get_used(&d->vq[0], &tok, &len))) {
		tg_vdev_irq_poll(d);
		if (tg_expired(end))
			return -ETIMEDOUT;
		tg_pause();
	}
	return rc < 0 ? rc : 0;
}

/* Stream @total bytes in CON_CHUNK requests, CON_QD in flight. The
 * pattern repeats every 256 bytes, so one chunk buffer serves all. */
static int con_stream(struct tg_vdev *d, uint64_t total, struct count *c)
{
	unsigned char *chunk = area(OFF_BIG);
	struct vmmio_drv_buf b = {AREA + OFF_BIG, CON_CHUNK};
	struct vmmio_drv_req r = {.buf = &b, .n_out = 1, .n_direct = 1};
	uint64_t left = total / CON_CHUNK, stall = tg_deadline(IO_STALL_MS);
	unsigned inflight = 0;
	int rc = 0;

	for (uint32_t i = 0; i < CON_CHUNK; i++)
		chunk[i] = con_pattern(i);
	count_start(c, d);
	while (left || inflight) {
		void *tok;
		uint32_t len;
		bool added = false;

		while (left && inflight < CON_QD &&
		       !(rc = vmmio_drv_vq_add(&d->vq[1], &r, chunk))) {
			left--;
			inflight++;
			added = true;
		}
		if (added)
			tg_vdev_kick(d, 1);
		tg_vdev_irq_poll(d);
		while ((rc = vmmio_drv_vq_get_used(&d->vq[1], &tok, &len)) ==
		       1) {
			inflight--;
			c->reqs++;
			c->bytes += CON_CHUNK;
			stall = tg_deadline(IO_STALL_MS);
		}
		if (rc < 0)
			return rc;
		if (tg_expired(stall))
			return -ETIMEDOUT;
	}
	return 0;
}

static int con_figure(struct tg_vdev *d, const struct opts *o)
{
	uint64_t total = (uint64_t)o->console_mb * MIB;
	char hdr[48], name[32];
	struct count c;
	int rc = bdev_start(d, BIT(VIRTIO_RING_F_EVENT_IDX), 2, 1);

	if (!rc && o->console_sync)
		rc = con_sync(d);
	if (!rc) {
		int n =
		    tg_snprintf(hdr, sizeof(hdr), "TG BENCH console-tx %llu\n",
				(unsigned long long)total);

		rc = con_send_sync(d, hdr, (uint32_t)n);
	}
	if (!rc)
		rc = con_stream(d, total, &c);
	if (rc) {
		tg_printf("TG bench: console rc=%d\n", rc);
		return rc;
	}
	tg_snprintf(name, sizeof(name), "console-tx-%um", o->console_mb);
	count_print(&c, d, name, true);
	return 0;
}

/* --- The scenario ----------------------------------------------------- */

static bool dev_get(uint32_t id, struct tg_vdev *d)
{
	d->drv = tg_dev_find(id, &d->slot);
	return d->drv;
}

/* Bytes of the working area the selected figures use. */
static uint64_t area_need(const struct opts *o)
{
	uint64_t big = 0;

	if (o->figs & (BIT(FIG_SEQWRITE) | BIT(FIG_SEQREAD)))
		for (unsigned i = 0; i < o->nseqqd; i++)
			if (o->seqqd[i] * (uint64_t)SEQ_BYTES > big)
				big = o->seqqd[i] * (uint64_t)SEQ_BYTES;
	if ((o->figs & BIT(FIG_CONSOLE)) && big < CON_CHUNK)
		big = CON_CHUNK;
	return OFF_BIG + big;
}

static int bench_prepare(const struct opts *o)
{
	uint64_t need = area_need(o);
	int ram = ram_covers(AREA, AREA + need);

	if (ram == 0) {
		tg_printf("TG bench: needs RAM up to 0x%llx (%llu MiB)\n",
			  (unsigned long long)(AREA + need),
			  (unsigned long long)((AREA + need + MIB - 1) / MIB));
		return -ENOMEM;
	}
	if (ram < 0)
		tg_printf(
		    "TG bench: no memory map, assuming RAM up to 0x%llx\n",
		    (unsigned long long)(AREA + need));
	memset(area(OFF_BITMAP), 0, BITMAP_BYTES);
	run_seed = mix64(tg_rdtsc()) | 1u;
	vstat.checked = vstat.fresh = vstat.unstamped = 0;
	return 0;
}

static void hold(unsigned ms)
{
	uint64_t end = tg_deadline(ms);

	while (!tg_expired(end))
		tg_pause();
}

void scen_bench(void)
{
	struct opts o;
	struct tg_vdev blk = {0}, con = {0};
	char detail[160];
	int rc;

	opts_read(&o);
	rc = o.bad ? -EINVAL : bench_prepare(&o);
	if (!rc && (o.figs & (BIT(FIG__COUNT) - 1 - BIT(FIG_CONSOLE))) &&
	    !dev_get(VIRTIO_ID_BLOCK, &blk)) {
		tg_printf("TG bench: no virtio-blk device\n");
		rc = -ENODEV;
	}
	if (!rc && (o.figs & BIT(FIG_CONSOLE)) &&
	    !dev_get(VIRTIO_ID_CONSOLE, &con)) {
		tg_printf("TG bench: no virtio-console device\n");
		rc = -ENODEV;
	}
	if (!rc && blk.drv)
		rc = blk_figures(&blk, &o);
	if (!rc && con.drv)
		rc = con_figure(&con, &o);
	tg_printf("TG BENCH DONE\n");
	hold(o.hold_ms);
	/* Stop the devices' DMA into the working area. */
	if (blk.drv && vmmio_drv_reset(blk.drv))
		tg_printf("TG bench: blk reset failed\n");
	if (con.drv && vmmio_drv_reset(con.drv))
		tg_printf("TG bench: console reset failed\n");
	tg_snprintf(detail, sizeof(detail),
		    "rc=%d; blocks checked %llu (%llu written this run), "
		    "%llu read unstamped",
		    rc, (unsigned long long)vstat.checked,
		    (unsigned long long)vstat.fresh,
		    (unsigned long long)vstat.unstamped);
	tg_result("bench", rc ? TG_FAIL : TG_PASS, detail);
}
