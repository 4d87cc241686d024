/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test guest, ring 3: crash and backend-fault scenarios (README.md).
 * killtest: numbered, checksummed 4 KiB blocks, a FLUSH after each batch,
 * "TG KILL flushed <n>" after each completed flush, until the host kills
 * the VMM. ioerr: requests touching an injected-EIO range (tg.eio=) fail
 * with IOERR and only those; or (tg.enospc=1) writes until the backing
 * is full, then checks what still works. flood: console, rng and notify
 * floods between "TG FLOOD <name> begin/end" lines, for the host to
 * measure the VMM's memory.
 */
#include <linux/errno.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include <vmmio/driver.h>

#include "tg.h"

#define BIT(n) (1ull << (n))
#define MIB (1024u * 1024u)
#define QSIZE 128u
#define RING_BYTES 0x4000u
#define IO_TIMEOUT_MS 5000u
#define BLOCK 4096u
#define BLOCK_SECTORS 8u
#define BLK_WANTED (BIT(VIRTIO_BLK_F_FLUSH) | BIT(VIRTIO_RING_F_EVENT_IDX))

/* --- Options ---------------------------------------------------------- */

static int digit(char c, unsigned base)
{
	int v = c >= '0' && c <= '9'   ? c - '0'
		: c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10
				       : 99;

	return v < (int)base ? v : -1;
}

/* Decimal or 0x hex at *p; advances it. false: no digits, overflow. */
static bool parse_u64(const char **p, uint64_t *out)
{
	const char *s = *p;
	unsigned base = 10;
	uint64_t v = 0;
	int d, n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	while ((d = digit(*s, base)) >= 0) {
		if (__builtin_mul_overflow(v, base, &v) ||
		    __builtin_add_overflow(v, (uint64_t)d, &v))
			return false;
		s++;
		n++;
	}
	*p = s;
	*out = v;
	return n > 0;
}

/* @key's number in [lo, hi] into *out (left alone if absent); false if
 * it is there but malformed (reported). */
static bool opt_num(const char *key, uint64_t lo, uint64_t hi, uint64_t *out)
{
	const char *v = tg_opt(key);
	uint64_t n;

	if (!v)
		return true;
	if (!parse_u64(&v, &n) || (*v && *v != ' ') || n < lo || n > hi) {
		tg_printf("TG bad %s (%llu..%llu)\n", key,
			  (unsigned long long)lo, (unsigned long long)hi);
		return false;
	}
	*out = n;
	return true;
}

/* --- Devices ---------------------------------------------------------- */

enum ring { RING_BLK, RING_CON_RX, RING_CON_TX, RING_RNG, RING__COUNT };

static unsigned char rings[RING__COUNT][RING_BYTES]
    __attribute__((aligned(4096)));
static struct vmmio_drv_slot slots[RING__COUNT][QSIZE];

static bool fdev_get(uint32_t id, struct tg_vdev *d)
{
	d->drv = tg_dev_find(id, &d->slot);
	return d->drv;
}

/* Negotiate @wanted, set up @nq queues on rings @ring.., DRIVER_OK. */
static int fdev_start(struct tg_vdev *d, uint64_t wanted, unsigned nq,
		      enum ring ring)
{
	unsigned char *r[2] = {rings[ring], NULL};
	struct vmmio_drv_slot *sl[2] = {slots[ring], NULL};

	if (nq > 1) {
		r[1] = rings[ring + 1];
		sl[1] = slots[ring + 1];
	}

	return tg_vdev_start(d, wanted, nq, r, RING_BYTES, sl, QSIZE);
}

static int fdev_add(struct tg_vdev *d, unsigned q,
		    const struct vmmio_drv_buf *b, unsigned n_out,
		    unsigned n_in, void *token)
{
	struct vmmio_drv_req r = {
	    .buf = b, .n_out = n_out, .n_in = n_in, .n_direct = n_out + n_in};

	return vmmio_drv_vq_add(&d->vq[q], &r, token);
}

/* Next used element of queue @q within @ms: 1 got, 0 timeout, -errno. */
static int fdev_wait(struct tg_vdev *d, unsigned q, uint64_t ms, void **token,
		     uint32_t *len)
{
	uint64_t end = tg_deadline(ms);
	int rc;

	while (!(rc = vmmio_drv_vq_get_used(&d->vq[q], token, len))) {
		tg_vdev_irq_poll(d);
		if (tg_expired(end))
			return 0;
		tg_pause();
	}
	return rc;
}

/* One request, synchronously: 0 done, -ETIMEDOUT, -EPROTO, -errno. */
static int fdev_io(struct tg_vdev *d, unsigned q, const struct vmmio_drv_buf *b,
		   unsigned n_out, unsigned n_in, uint32_t *len)
{
	void *tok = NULL;
	int rc = fdev_add(d, q, b, n_out, n_in, (void *)(uintptr_t)b);

	if (rc)
		return rc;
	tg_vdev_kick(d, q);
	rc = fdev_wait(d, q, IO_TIMEOUT_MS, &tok, len);
	if (rc <= 0)
		return rc ? rc : -ETIMEDOUT;
	return tok == b ? 0 : -EPROTO;
}

static uint64_t fnv1a64(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* --- virtio-blk requests ---------------------------------------------- */

struct breq {
	struct virtio_blk_outhdr hdr;
	volatile uint8_t status;
	bool flush;
	uint32_t index;
};

/* Header, data (device-readable for OUT, writable for IN), status. */
static int blk_add(struct tg_vdev *d, struct breq *r, uint32_t type,
		   uint64_t sector, void *data, uint32_t len)
{
	struct vmmio_drv_buf b[3];
	unsigned n = 0, n_out = 1;

	r->hdr = (struct virtio_blk_outhdr){.type = type, .sector = sector};
	r->status = 0xff;
	b[n++] = (struct vmmio_drv_buf){(uintptr_t)&r->hdr, sizeof(r->hdr)};
	if (len) {
		b[n++] = (struct vmmio_drv_buf){(uintptr_t)data, len};
		if (type == VIRTIO_BLK_T_OUT)
			n_out = 2;
	}
	b[n++] = (struct vmmio_drv_buf){(uintptr_t)&r->status, 1};
	return fdev_add(d, 0, b, n_out, n - n_out, r);
}

/* One blk request, synchronously: its status byte, or -errno. */
static int blk_sync(struct tg_vdev *d, uint32_t type, uint64_t sector,
		    void *data, uint32_t len)
{
	static struct breq r;
	void *tok = NULL;
	uint32_t used;
	int rc = blk_add(d, &r, type, sector, data, len);

	if (rc)
		return rc;
	tg_vdev_kick(d, 0);
	rc = fdev_wait(d, 0, IO_TIMEOUT_MS, &tok, &used);
	if (rc <= 0)
		return rc ? rc : -ETIMEDOUT;
	return tok == &r ? r.status : -EPROTO;
}

static int blk_capacity(struct tg_vdev *d, uint64_t *sectors)
{
	uint32_t w[2] = {0, 0};
	int rc = vmmio_drv_config_read(d->drv, 0, w, sizeof(w));

	*sectors = (uint64_t)w[1] << 32 | w[0];
	return rc;
}

/* Start the blk device; its capacity in *sectors. Reports failures. */
static bool blk_open(const char *name, struct tg_vdev *d, uint64_t *sectors)
{
	char msg[64];
	int rc;

	if (!fdev_get(VIRTIO_ID_BLOCK, d)) {
		tg_result(name, TG_FAIL, "no virtio-blk device");
		return false;
	}
	rc = fdev_start(d, BLK_WANTED, 1, RING_BLK);
	if (!rc)
		rc = blk_capacity(d, sectors);
	if (!rc && !(d->features & BIT(VIRTIO_BLK_F_FLUSH)))
		rc = -EOPNOTSUPP;
	if (rc) {
		tg_snprintf(msg, sizeof(msg), "blk init rc=%d", rc);
		tg_result(name, TG_FAIL, msg);
		return false;
	}
	return true;
}

/*
 * --- killtest ---------------------------------------------------------
 * Block n (4 KiB) goes to slot n % blocks of the disk: word 0 magic, 1 n,
 * 2 the nonce (tg.nonce=, from the host), 3 FNV-1a 64 of the block with
 * word 3 zero, then words derived from n and the nonce. Batches of
 * tg.batch blocks are written at that queue depth; when all of a batch
 * completed its FLUSH goes out (so it covers the batch), while the next
 * batch is written; at most two FLUSHes are in flight. After each FLUSH
 * completes: "TG KILL flushed <last block number>". Blocks written but not
 * yet reported are therefore never more than 3 batches (the window): the
 * host checks the blocks.. - window most recent flushed ones.
 */
#define KT_MAGIC 0x4b4c424c4c494b54ull /* "TKILLBLK" */
#define KT_STEP 0x9e3779b97f4a7c15ull
#define KT_BATCH_MAX 32u

struct kt {
	struct tg_vdev d;
	uint64_t nonce, blocks, batch, max;
	uint64_t next;	  /* next block number to write */
	uint64_t flushed; /* blocks < this are durable and reported */
	unsigned writes;  /* writes in flight */
	bool fbusy[2];
	uint64_t fupto[2]; /* a FLUSH covers blocks < this */
};

static uint64_t kt_data[KT_BATCH_MAX][BLOCK / 8] __attribute__((aligned(4096)));
static struct breq kt_w[KT_BATCH_MAX], kt_f[2];

static void kt_fill(uint64_t *w, uint64_t n, uint64_t nonce)
{
	uint64_t v = mix64(n ^ nonce);

	w[0] = KT_MAGIC;
	w[1] = n;
	w[2] = nonce;
	w[3] = 0;
	for (unsigned k = 4; k < BLOCK / 8; k++)
		w[k] = v + k * KT_STEP;
	w[3] = fnv1a64(w, BLOCK);
}

/* One used element: a write or a FLUSH. */
static int kt_complete(struct kt *t, struct breq *r)
{
	unsigned i;

	if (r->status != VIRTIO_BLK_S_OK) {
		tg_printf("TG KILL error: %s status %u\n",
			  r->flush ? "flush" : "write", r->status);
		return -EIO;
	}
	if (!r->flush) {
		t->writes--;
		return 0;
	}
	i = r->index;
	t->fbusy[i] = false;
	if (t->fupto[i] > t->flushed) {
		t->flushed = t->fupto[i];
		tg_printf("TG KILL flushed %llu\n",
			  (unsigned long long)(t->flushed - 1));
	}
	return 0;
}

/* Reap until writes are done (@slot < 0) or FLUSH @slot is free. */
static int kt_wait(struct kt *t, int slot)
{
	uint64_t stall = tg_deadline(IO_TIMEOUT_MS);

	while (slot < 0 ? t->writes > 0 : t->fbusy[slot]) {
		void *tok;
		uint32_t len;
		int rc = vmmio_drv_vq_get_used(&t->d.vq[0], &tok, &len);

		if (rc < 0)
			return rc;
		if (rc == 1) {
			rc = kt_complete(t, tok);
			if (rc)
				return rc;
			stall = tg_deadline(IO_TIMEOUT_MS);
			continue;
		}
		tg_vdev_irq_poll(&t->d);
		if (tg_expired(stall)) {
			tg_printf("TG KILL error: no completion in %u ms\n",
				  IO_TIMEOUT_MS);
			return -ETIMEDOUT;
		}
		tg_pause();
	}
	return 0;
}

/* Write batch @k, wait for it, send its FLUSH. */
static int kt_batch(struct kt *t, uint64_t k)
{
	unsigned slot = (unsigned)(k % 2);
	int rc = 0;

	for (unsigned i = 0; !rc && i < t->batch; i++) {
		uint64_t n = t->next++;

		kt_fill(kt_data[i], n, t->nonce);
		kt_w[i].flush = false;
		rc =
		    blk_add(&t->d, &kt_w[i], VIRTIO_BLK_T_OUT,
			    (n % t->blocks) * BLOCK_SECTORS, kt_data[i], BLOCK);
		t->writes += !rc;
	}
	tg_vdev_kick(&t->d, 0);
	if (!rc)
		rc = kt_wait(t, -1);
	if (!rc)
		rc = kt_wait(t, (int)slot);
	if (rc)
		return rc;
	kt_f[slot].flush = true;
	kt_f[slot].index = slot;
	t->fupto[slot] = t->next;
	t->fbusy[slot] = true;
	rc = blk_add(&t->d, &kt_f[slot], VIRTIO_BLK_T_FLUSH, 0, NULL, 0);
	tg_vdev_kick(&t->d, 0);
	return rc;
}

static bool kt_options(struct kt *t)
{
	const char *v = tg_opt("tg.nonce=");

	t->batch = 16;
	t->max = 0;
	if (!v || !parse_u64(&v, &t->nonce)) {
		tg_printf("TG KILL: no tg.nonce= (0x hex), using the TSC\n");
		t->nonce = mix64(tg_rdtsc());
	}
	return opt_num("tg.batch=", 1, KT_BATCH_MAX, &t->batch) &&
	       opt_num("tg.kill_max=", 1, UINT64_MAX, &t->max);
}

void tg_scen_killtest(void)
{
	static struct kt t;
	uint64_t sectors = 0;
	char msg[96];
	int rc = 0;

	memset(&t, 0, sizeof(t));
	if (!kt_options(&t)) {
		tg_result("killtest", TG_FAIL, "bad options");
		return;
	}
	if (!blk_open("killtest", &t.d, &sectors))
		return;
	t.blocks = sectors / BLOCK_SECTORS;
	if (t.blocks < 4 * t.batch) {
		tg_result("killtest", TG_FAIL, "disk under 4 batches");
		return;
	}
	tg_printf("TG KILL start nonce=0x%llx blocks=%llu batch=%llu "
		  "window=%llu\n",
		  (unsigned long long)t.nonce, (unsigned long long)t.blocks,
		  (unsigned long long)t.batch, (unsigned long long)t.batch * 3);
	/* Until killed; tg.kill_max= stops after that many blocks. */
	for (uint64_t k = 0; !rc && (!t.max || t.next < t.max); k++)
		rc = kt_batch(&t, k);
	if (!rc)
		rc = kt_wait(&t, 0);
	if (!rc)
		rc = kt_wait(&t, 1);
	tg_snprintf(msg, sizeof(msg),
		    "rc=%d, %llu blocks written, %llu flushed", rc,
		    (unsigned long long)t.next, (unsigned long long)t.flushed);
	tg_result("killtest", rc ? TG_FAIL : TG_PASS, msg);
}

/*
 * --- ioerr, tg.eio=START-END: the VMM fails requests touching sectors
 * START..END with EIO (vmm-demo --disk ...,fail-eio=START-END). Writes
 * around and across both edges go out together, then reads likewise;
 * each must get IOERR exactly when it touches the range. Then FLUSH,
 * GET_ID, and a write and read elsewhere: the device keeps working.
 * Data of a write at sector s: byte i = i * 7 + s * 13 + 0x21.
 */
enum io_base { AT_START, AT_END };

struct io_case {
	uint32_t type;
	enum io_base base;
	int32_t off;
	uint32_t sectors;
};

static const struct io_case io_writes[] = {
    {VIRTIO_BLK_T_OUT, AT_START, -8, 8}, {VIRTIO_BLK_T_OUT, AT_START, -4, 8},
    {VIRTIO_BLK_T_OUT, AT_START, 0, 8},	 {VIRTIO_BLK_T_OUT, AT_END, 0, 1},
    {VIRTIO_BLK_T_OUT, AT_END, 1, 8},	 {VIRTIO_BLK_T_OUT, AT_END, -3, 8},
};
static const struct io_case io_reads[] = {
    {VIRTIO_BLK_T_IN, AT_START, -8, 8}, {VIRTIO_BLK_T_IN, AT_START, 8, 8},
    {VIRTIO_BLK_T_IN, AT_END, -3, 8},	{VIRTIO_BLK_T_IN, AT_END, 1, 8},
    {VIRTIO_BLK_T_IN, AT_START, -1, 2},
};
#define IO_MAX 8u

static unsigned char io_data[IO_MAX][BLOCK] __attribute__((aligned(4096)));
static struct breq io_req[IO_MAX];

static uint8_t io_pattern(uint64_t sector, uint32_t i)
{
	return (uint8_t)((i * 7u + sector * 13u + 0x21u) & 0xffu);
}

struct io_range {
	uint64_t start, end;
};

static uint64_t io_sector(const struct io_range *g, const struct io_case *c)
{
	return (uint64_t)((int64_t)(c->base == AT_START ? g->start : g->end) +
			  c->off);
}

static bool io_touches(const struct io_range *g, uint64_t s, uint32_t n)
{
	return s <= g->end && s + n - 1 >= g->start;
}

/* Submit @n cases together; each status as expected? Prints a line each.
 * Reads of sectors outside the range must return what the writes left. */
static int io_batch(struct tg_vdev *d, const struct io_range *g,
		    const struct io_case *c, unsigned n)
{
	unsigned bad = 0, left = n;
	int rc = 0;

	for (unsigned i = 0; !rc && i < n; i++) {
		uint64_t s = io_sector(g, &c[i]);

		for (uint32_t k = 0; k < c[i].sectors * 512u; k++)
			io_data[i][k] = c[i].type == VIRTIO_BLK_T_OUT
					    ? io_pattern(s, k)
					    : 0xee;
		io_req[i].index = i;
		rc = blk_add(d, &io_req[i], c[i].type, s, io_data[i],
			     c[i].sectors * 512u);
	}
	tg_vdev_kick(d, 0);
	while (!rc && left) {
		void *tok;
		uint32_t len;

		rc = fdev_wait(d, 0, IO_TIMEOUT_MS, &tok, &len);
		rc = rc == 1 ? 0 : rc ? rc : -ETIMEDOUT;
		left -= !rc;
	}
	for (unsigned i = 0; !rc && i < n; i++) {
		uint64_t s = io_sector(g, &c[i]);
		bool err = io_touches(g, s, c[i].sectors);
		uint8_t want = err ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;

		tg_printf("TG ioerr %s sector=%llu sectors=%u status=%u "
			  "want=%u\n",
			  c[i].type == VIRTIO_BLK_T_OUT ? "write" : "read",
			  (unsigned long long)s, c[i].sectors, io_req[i].status,
			  want);
		bad += io_req[i].status != want;
		/* Data read outside the range: what the writes left. */
		for (uint32_t k = 0; !err && c[i].type == VIRTIO_BLK_T_IN &&
				     k < c[i].sectors * 512u;
		     k++)
			if (io_data[i][k] != io_pattern(s, k)) {
				tg_printf("TG ioerr read sector=%llu byte %u "
					  "is 0x%02x\n",
					  (unsigned long long)s, k,
					  io_data[i][k]);
				bad++;
				break;
			}
	}
	return rc ? rc : bad ? -EILSEQ : 0;
}

/* FLUSH, GET_ID, write + read back sectors 0-7: the device still works. */
static int io_after(struct tg_vdev *d)
{
	int st = blk_sync(d, VIRTIO_BLK_T_FLUSH, 0, NULL, 0);

	tg_printf("TG ioerr flush status=%d\n", st);
	if (st != VIRTIO_BLK_S_OK)
		return -EIO;
	st = blk_sync(d, VIRTIO_BLK_T_GET_ID, 0, io_data[1], 20);
	tg_printf("TG ioerr get_id status=%d\n", st);
	if (st != VIRTIO_BLK_S_OK)
		return -EIO;
	for (uint32_t k = 0; k < BLOCK; k++)
		io_data[0][k] = io_pattern(0, k);
	st = blk_sync(d, VIRTIO_BLK_T_OUT, 0, io_data[0], BLOCK);
	if (st == VIRTIO_BLK_S_OK)
		st = blk_sync(d, VIRTIO_BLK_T_IN, 0, io_data[1], BLOCK);
	if (st == VIRTIO_BLK_S_OK && memcmp(io_data[0], io_data[1], BLOCK))
		st = -EILSEQ;
	tg_printf("TG ioerr write+read sector=0 sectors=8 status=%d\n", st);
	return st == VIRTIO_BLK_S_OK ? 0 : -EIO;
}

static void ioerr_eio(struct tg_vdev *d, const char *spec, uint64_t cap)
{
	struct io_range g = {0, 0};
	const char *p = spec;
	char msg[128];
	int rc;

	if (!parse_u64(&p, &g.start) || *p++ != '-' || !parse_u64(&p, &g.end) ||
	    g.start < 8 || g.end < g.start + 16 || g.end + 9 > cap) {
		tg_result("ioerr", TG_FAIL,
			  "tg.eio=START-END needs 8 <= START, START + 16 <= "
			  "END, END + 9 <= capacity");
		return;
	}
	rc = io_batch(d, &g, io_writes, sizeof(io_writes) / sizeof(*io_writes));
	if (!rc)
		rc = io_batch(d, &g, io_reads,
			      sizeof(io_reads) / sizeof(*io_reads));
	if (!rc)
		rc = io_after(d);
	tg_snprintf(msg, sizeof(msg),
		    "eio %llu-%llu: rc=%d; 6 writes and 5 reads together, "
		    "IOERR exactly where they touch the range",
		    (unsigned long long)g.start, (unsigned long long)g.end, rc);
	tg_result("ioerr", rc ? TG_FAIL : TG_PASS, msg);
}

/*
 * --- ioerr, tg.enospc=1: the backing (a tiny tmpfs) fills up. 4 KiB
 * writes from block 0 on until one fails: it must be IOERR, and so the
 * next 3; then FLUSH, every block written reads back, the first failed
 * one reads zero, and block 0 can be rewritten (already allocated).
 * Data of block b: byte i = i * 11 + b * 29 + 3; block 0 rewritten:
 * i * 5 + 0x77.
 */
static uint8_t nospc_pattern(uint64_t b, uint32_t i)
{
	return (uint8_t)((i * 11u + b * 29u + 3u) & 0xffu);
}

static int nospc_write(struct tg_vdev *d, uint64_t b)
{
	for (uint32_t i = 0; i < BLOCK; i++)
		io_data[0][i] = nospc_pattern(b, i);
	return blk_sync(d, VIRTIO_BLK_T_OUT, b * BLOCK_SECTORS, io_data[0],
			BLOCK);
}

/* Blocks 0..@n-1 read back; block @n reads zero. */
static int nospc_check(struct tg_vdev *d, uint64_t n)
{
	for (uint64_t b = 0; b <= n; b++) {
		int st = blk_sync(d, VIRTIO_BLK_T_IN, b * BLOCK_SECTORS,
				  io_data[1], BLOCK);

		if (st != VIRTIO_BLK_S_OK) {
			tg_printf("TG ioerr read block %llu status %d\n",
				  (unsigned long long)b, st);
			return -EIO;
		}
		for (uint32_t i = 0; i < BLOCK; i++)
			if (io_data[1][i] !=
			    (b < n ? nospc_pattern(b, i) : 0)) {
				tg_printf("TG ioerr block %llu byte %u is "
					  "0x%02x\n",
					  (unsigned long long)b, i,
					  io_data[1][i]);
				return -EILSEQ;
			}
	}
	return 0;
}

static int nospc_rewrite(struct tg_vdev *d)
{
	int st;

	for (uint32_t i = 0; i < BLOCK; i++)
		io_data[0][i] = (uint8_t)((i * 5u + 0x77u) & 0xffu);
	st = blk_sync(d, VIRTIO_BLK_T_OUT, 0, io_data[0], BLOCK);
	if (st == VIRTIO_BLK_S_OK)
		st = blk_sync(d, VIRTIO_BLK_T_IN, 0, io_data[1], BLOCK);
	if (st == VIRTIO_BLK_S_OK && memcmp(io_data[0], io_data[1], BLOCK))
		st = -EILSEQ;
	return st;
}

static void ioerr_enospc(struct tg_vdev *d, uint64_t cap)
{
	uint64_t n = 0, blocks = cap / BLOCK_SECTORS;
	int st = VIRTIO_BLK_S_OK, after = 0, rc = -ENOSPC;
	char msg[160];

	while (n < blocks && (st = nospc_write(d, n)) == VIRTIO_BLK_S_OK)
		n++;
	tg_printf("TG ioerr enospc: %llu blocks written, block %llu status "
		  "%d\n",
		  (unsigned long long)n, (unsigned long long)n, st);
	for (uint64_t b = n + 1; b < n + 4 && b < blocks; b++)
		after += nospc_write(d, b) == VIRTIO_BLK_S_IOERR;
	if (st == VIRTIO_BLK_S_IOERR && after == 3) {
		st = blk_sync(d, VIRTIO_BLK_T_FLUSH, 0, NULL, 0);
		rc = st == VIRTIO_BLK_S_OK ? nospc_check(d, n) : -EIO;
	}
	if (!rc)
		rc = nospc_rewrite(d) == VIRTIO_BLK_S_OK ? 0 : -EIO;
	tg_snprintf(msg, sizeof(msg),
		    "enospc: rc=%d; %llu blocks written, IOERR at block %llu "
		    "and %d of the 3 after, flush OK, read back, block 0 "
		    "rewritten",
		    rc, (unsigned long long)n, (unsigned long long)n, after);
	tg_result("ioerr", rc ? TG_FAIL : TG_PASS, msg);
}

void tg_scen_ioerr(void)
{
	const char *eio = tg_opt("tg.eio=");
	uint64_t cap = 0, enospc = 0;
	struct tg_vdev d;

	if (!opt_num("tg.enospc=", 0, 1, &enospc)) {
		tg_result("ioerr", TG_FAIL, "bad options");
		return;
	}
	if (!eio && !enospc) {
		tg_result("ioerr", TG_SKIP,
			  "needs tg.eio=START-END or "
			  "tg.enospc=1");
		return;
	}
	if (!blk_open("ioerr", &d, &cap))
		return;
	if (eio)
		ioerr_eio(&d, eio, cap);
	else
		ioerr_enospc(&d, cap);
}

/*
 * --- flood ------------------------------------------------------------
 * console: wait for one byte of input (the host's client is connected),
 * then tg.flood_mb MiB on the transmitq in 512 KiB requests, as many in
 * flight as the ring holds, all from one buffer; the host's client never
 * reads, so the stream stalls: "end" after 1 s without a completion; then
 * wait (30 s) for the host to hang up (output is then dropped and every
 * request completes) and send one short line.
 * rng: tg.rng_reqs requests of 1 MiB (the device serves at most its
 * max_request each), ring full; then one 64-byte read.
 * notify: tg.notifies QueueNotify writes for the rng's queue 0 (ring
 * empty), half that many after a reset (queue not ready), half that many
 * for queue 7 (none: the device latches NEEDS_RESET); reset, set up again,
 * one 64-byte read.
 */
#define CON_CHUNK (512u * 1024u)
#define RNG_BUF MIB
#define CON_WAIT_MS 30000u
#define CON_STALL_MS 1000u

static unsigned char con_chunk[CON_CHUNK] __attribute__((aligned(4096)));
static unsigned char rng_buf[RNG_BUF] __attribute__((aligned(4096)));
static unsigned char small[128];

struct flood {
	uint64_t mb, rng_reqs, notifies;
	char detail[160];
	size_t len;
};

static void flood_note(struct flood *f, const char *s)
{
	size_t n = strlen(s);

	if (f->len + n + 2 < sizeof(f->detail)) {
		if (f->len) {
			f->detail[f->len++] = ';';
			f->detail[f->len++] = ' ';
		}
		memcpy(f->detail + f->len, s, n + 1);
		f->len += n;
	}
}

/* One byte of console input within CON_WAIT_MS. */
static int con_wait_input(struct tg_vdev *d)
{
	struct vmmio_drv_buf b = {(uintptr_t)small, sizeof(small)};
	void *tok;
	uint32_t len;
	int rc = fdev_add(d, 0, &b, 0, 1, small);

	if (rc)
		return rc;
	tg_vdev_kick(d, 0);
	tg_printf("TG FLOOD console: waiting for input\n");
	rc = fdev_wait(d, 0, CON_WAIT_MS, &tok, &len);
	return rc == 1 ? 0 : rc ? rc : -ETIMEDOUT;
}

/* Keep the transmitq full from @left requests until @stall_ms pass
 * without a completion (or all are done). */
static int con_stream(struct tg_vdev *d, uint64_t *left, unsigned *inflight,
		      uint64_t *done, uint64_t stall_ms)
{
	struct vmmio_drv_buf b = {(uintptr_t)con_chunk, CON_CHUNK};
	uint64_t stall = tg_deadline(stall_ms);
	int rc = 0;

	while (*left || *inflight) {
		void *tok;
		uint32_t len;
		bool added = false;

		while (*left && !fdev_add(d, 1, &b, 1, 0, con_chunk)) {
			(*left)--;
			(*inflight)++;
			added = true;
		}
		if (added)
			tg_vdev_kick(d, 1);
		while ((rc = vmmio_drv_vq_get_used(&d->vq[1], &tok, &len)) ==
		       1) {
			(*inflight)--;
			*done += CON_CHUNK;
			stall = tg_deadline(stall_ms);
		}
		if (rc < 0)
			return rc;
		tg_vdev_irq_poll(d);
		if (tg_expired(stall))
			return -ETIMEDOUT;
		tg_pause();
	}
	return 0;
}

static int flood_console(struct flood *f)
{
	static const char line[] = "TG console: after the flood\n";
	struct vmmio_drv_buf b = {(uintptr_t)small, sizeof(line) - 1};
	struct tg_vdev d;
	uint64_t left = f->mb * MIB / CON_CHUNK, done = 0;
	unsigned inflight = 0;
	char msg[96];
	uint32_t len;
	int rc;

	if (!fdev_get(VIRTIO_ID_CONSOLE, &d))
		return -ENODEV;
	rc = fdev_start(&d, BIT(VIRTIO_RING_F_EVENT_IDX), 2, RING_CON_RX);
	if (!rc)
		rc = con_wait_input(&d);
	if (rc)
		return rc;
	for (uint32_t i = 0; i < CON_CHUNK; i++)
		con_chunk[i] = (i % 64 == 63) ? '\n' : (uint8_t)('A' + i % 26);
	tg_printf("TG FLOOD console begin\n");
	rc = con_stream(&d, &left, &inflight, &done, CON_STALL_MS);
	if (rc && rc != -ETIMEDOUT)
		return rc;
	tg_printf("TG FLOOD console end sent=%llu in_flight=%u\n",
		  (unsigned long long)done, inflight);
	rc = con_stream(&d, &left, &inflight, &done, CON_WAIT_MS);
	memcpy(small, line, sizeof(line) - 1);
	if (!rc)
		rc = fdev_io(&d, 1, &b, 1, 0, &len);
	tg_snprintf(msg, sizeof(msg), "console %llu MiB done rc=%d",
		    (unsigned long long)(done / MIB), rc);
	flood_note(f, msg);
	return rc;
}

/* 64 bytes from the rng, not all zero. */
static int rng_small(struct tg_vdev *d)
{
	struct vmmio_drv_buf b = {(uintptr_t)small, 64};
	uint32_t len = 0;
	int rc;

	memset(small, 0, 64);
	rc = fdev_io(d, 0, &b, 0, 1, &len);
	if (!rc && (len == 0 || len > 64))
		rc = -EPROTO;
	for (uint32_t i = 0; !rc && i < len && !small[i]; i++)
		if (i == len - 1)
			rc = -EILSEQ;
	return rc;
}

static int flood_rng(struct flood *f, struct tg_vdev *d)
{
	struct vmmio_drv_buf b = {(uintptr_t)rng_buf, RNG_BUF};
	uint64_t left = f->rng_reqs, bytes = 0, stall;
	unsigned inflight = 0;
	uint32_t maxlen = 0;
	char msg[96];
	int rc = 0;

	tg_printf("TG FLOOD rng begin\n");
	stall = tg_deadline(IO_TIMEOUT_MS);
	while (!rc && (left || inflight)) {
		void *tok;
		uint32_t len;
		bool added = false;

		while (left && !fdev_add(d, 0, &b, 0, 1, rng_buf)) {
			left--;
			inflight++;
			added = true;
		}
		if (added)
			tg_vdev_kick(d, 0);
		while ((rc = vmmio_drv_vq_get_used(&d->vq[0], &tok, &len)) ==
		       1) {
			inflight--;
			bytes += len;
			maxlen = len > maxlen ? len : maxlen;
			stall = tg_deadline(IO_TIMEOUT_MS);
		}
		tg_vdev_irq_poll(d);
		if (!rc && tg_expired(stall))
			rc = -ETIMEDOUT;
	}
	tg_printf("TG FLOOD rng end reqs=%llu bytes=%llu max_len=%u\n",
		  (unsigned long long)f->rng_reqs, (unsigned long long)bytes,
		  maxlen);
	if (!rc)
		rc = rng_small(d);
	tg_snprintf(msg, sizeof(msg), "rng %llu reqs rc=%d",
		    (unsigned long long)f->rng_reqs, rc);
	flood_note(f, msg);
	return rc;
}

static void notify_n(struct tg_vdev *d, uint32_t q, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		vmmio_drv_notify(d->drv, q);
}

static int flood_notify(struct flood *f, struct tg_vdev *d)
{
	uint64_t half = f->notifies / 2;
	uint32_t status;
	char msg[96];
	int rc;

	tg_printf("TG FLOOD notify begin\n");
	notify_n(d, 0, f->notifies);
	rc = rng_small(d);
	if (!rc)
		rc = vmmio_drv_reset(d->drv);
	if (rc)
		return rc;
	notify_n(d, 0, half);
	rc = fdev_start(d, 0, 1, RING_RNG);
	if (rc)
		return rc;
	notify_n(d, 7, half);
	status = vmmio_drv_get_status(d->drv);
	tg_printf("TG FLOOD notify end valid=%llu unready=%llu invalid=%llu "
		  "status=0x%x\n",
		  (unsigned long long)f->notifies, (unsigned long long)half,
		  (unsigned long long)half, status);
	if (!(status & VIRTIO_CONFIG_S_NEEDS_RESET))
		return -EPROTO;
	rc = fdev_start(d, 0, 1, RING_RNG); /* negotiate resets first */
	if (!rc)
		rc = rng_small(d);
	tg_snprintf(msg, sizeof(msg), "notify %llu+%llu+%llu rc=%d",
		    (unsigned long long)f->notifies, (unsigned long long)half,
		    (unsigned long long)half, rc);
	flood_note(f, msg);
	return rc;
}

void tg_scen_flood(void)
{
	static struct flood f;
	struct tg_vdev rng;
	int rc;

	memset(&f, 0, sizeof(f));
	f.mb = 64;
	f.rng_reqs = 20000;
	f.notifies = 40000;
	if (!opt_num("tg.flood_mb=", 1, 1024, &f.mb) ||
	    !opt_num("tg.rng_reqs=", 1, 10000000, &f.rng_reqs) ||
	    !opt_num("tg.notifies=", 2, 10000000, &f.notifies)) {
		tg_result("flood", TG_FAIL, "bad options");
		return;
	}
	rc = flood_console(&f);
	if (!rc && !fdev_get(VIRTIO_ID_RNG, &rng))
		rc = -ENODEV;
	if (!rc)
		rc = fdev_start(&rng, 0, 1, RING_RNG);
	if (!rc)
		rc = flood_rng(&f, &rng);
	if (!rc)
		rc = flood_notify(&f, &rng);
	if (rc) {
		char msg[32];

		tg_snprintf(msg, sizeof(msg), "rc=%d", rc);
		flood_note(&f, msg);
	}
	tg_result("flood", rc ? TG_FAIL : TG_PASS, f.detail);
}
