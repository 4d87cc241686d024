/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: virtio-blk requests of any shape, kicks and resets. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include <vmmio/blk.h>
#include <vmmio/driver.h>

#include "fuzz_input.h"

/*
 * Input: two setup bytes, then operations (opcode byte, low 3 bits).
 * setup[0]: bits 0-1 both set: io_uring engine (else sync); bit 2
 *   read-only; bit 3 fault injection (data/discard requests whose sector
 *   is 3 mod 5 fail with -EIO); bit 4 refuse EVENT_IDX; bit 5 refuse
 *   INDIRECT_DESC; bit 6 two queues; bit 7 a serial.
 * setup[1]: queue size 1 << (b % 6).
 * ops:
 *   0 request: q, type, sector, layout, counts, then one length byte per
 *     data segment and a content seed (see op_request); op bit 3: no kick
 *   1 q: vmmio_dev_notify
 *   2   collect used elements (checks every completion)
 *   3   vmmio_blk_process and interrupt acknowledge
 *   4   reset: op bit 3 host reset, else driver reset; then set up again
 *   5 off, width, val: config space write (op bit 3: read)
 *   6,7 as 2
 * Checked: no crash, leak or hang (ASan, libFuzzer); a completion only for
 * well-formed chains, its used length within the writable part, a legal
 * status byte, UNSUPP exactly for unknown types, OK only for requests
 * the contract allows (and, on the sync engine, OK for every request it
 * requires), the bytes read equal a shadow copy of the image (sync), the
 * image size never changes and a read-only image never changes, faults
 * only DEVICE and only after a malformed chain, fault == NEEDS_RESET.
 * FUZZ_BLK_TRACE=1 prints every request, completion and fault (to
 * replay a crash input).
 */

#define SECT 512u
#define IMG_BYTES 65536u
#define CAP (IMG_BYTES / SECT)
#define RAM_GPA 0x100000ull
#define R0_LEN 0x9000u /* rings, tables, start of the data area */
#define R1_LEN 0x37000u
#define RAM_LEN (R0_LEN + R1_LEN)
#define RING_SLOT 0x1000u
#define TABLE_GPA (RAM_GPA + 0x2000u) /* one table slot per record */
#define TABLE_SLOT (16u * (2 * MAXSEG + 4))
#define DATA_GPA (RAM_GPA + 0x7000u)
#define DATA_END (RAM_GPA + RAM_LEN)
#define NQ 2
#define QMAX 32
#define MAXREC (NQ * QMAX)
#define MAXSEG 8
#define MAXR 20000u /* readable stream bytes kept per request */
#define SERIAL "fuzz-serial-0123"

struct rec {
	bool busy;
	unsigned q;
	uint32_t type;
	uint64_t sector;
	uint32_t rlen, wlen;
	vmmio_gpa_t status;
	unsigned nw;
	struct vmmio_drv_buf w[MAXSEG + 1]; /* writable segments */
	unsigned char r[MAXR];		    /* readable stream (prefix) */
};

static struct {
	int memfd;
	char path[64];
	struct vmmio_blk *blk;
	struct vmmio_dev *dev;
	struct vmmio_mem *mem;
	struct vmmio_drv drv;
	struct vmmio_drv_vq vq[NQ];
	struct vmmio_drv_slot slot[NQ][QMAX];
	uint64_t wanted, features;
	unsigned nq;
	uint16_t qsize;
	bool uring, ro, inject, serial;
	vmmio_gpa_t data_next;
	unsigned busy;	    /* records in flight */
	unsigned malformed; /* malformed chains made available since reset */
	struct rec rec[MAXREC];
	unsigned char shadow[IMG_BYTES];
	bool known[CAP];
} S;

static _Alignas(4096) unsigned char ram0[R0_LEN];
static _Alignas(4096) unsigned char ram1[R1_LEN];

static void f_irq(void *opaque, bool raise)
{
	(void)opaque;
	(void)raise;
}

static const struct vmmio_host_ops f_host = {
    .size = sizeof(struct vmmio_host_ops),
    .irq = f_irq,
};

static bool injected(uint32_t type, uint64_t sector)
{
	return S.inject && type != VIRTIO_BLK_T_FLUSH && sector % 5 == 3;
}

static int f_inject(void *opaque, uint32_t type, uint64_t sector,
		    uint64_t bytes)
{
	(void)opaque;
	(void)bytes;
	return injected(type, sector) ? -EIO : 0;
}

/* FUZZ_BLK_TRACE=1 in the environment: print completions and faults. */
static bool trace(void)
{
	static int on = -1;

	if (on < 0)
		on = getenv("FUZZ_BLK_TRACE") != NULL;
	return on;
}

static uint8_t pat(uint64_t off)
{
	return (uint8_t)(((off + 1) * 0x9e3779b97f4a7c15ull) >> 56 ^ off >> 9);
}

/* One image per process (a memfd reached through /proc/self/fd). */
static void image_init(void)
{
	unsigned char b[IMG_BYTES];

	if (!S.path[0]) {
		S.memfd = memfd_create("fuzz-blk", MFD_CLOEXEC);
		CHECK(S.memfd >= 0);
		snprintf(S.path, sizeof(S.path), "/proc/self/fd/%d", S.memfd);
	}
	for (unsigned i = 0; i < IMG_BYTES; i++)
		b[i] = pat(i);
	/* Drop holes of earlier runs, then the pattern. */
	CHECK(ftruncate(S.memfd, 0) == 0);
	CHECK(pwrite(S.memfd, b, IMG_BYTES, 0) == (ssize_t)IMG_BYTES);
	memcpy(S.shadow, b, IMG_BYTES);
	memset(S.known, 1, sizeof(S.known));
}

/* ---- guest memory ---- */

static void gwrite(vmmio_gpa_t gpa, const void *src, size_t len)
{
	CHECK(vmmio_mem_write(S.mem, gpa, src, len) == 0);
}

static void gread(vmmio_gpa_t gpa, void *dst, size_t len)
{
	CHECK(vmmio_mem_read(S.mem, gpa, dst, len) == 0);
}

static void *ring_host(vmmio_gpa_t gpa)
{
	return ram0 + (gpa - RAM_GPA);
}

/* Bump allocation in the data area; 0 when full with requests in flight. */
static vmmio_gpa_t galloc(uint32_t len)
{
	vmmio_gpa_t g;

	if (S.data_next + len > DATA_END) {
		if (S.busy)
			return 0;
		S.data_next = DATA_GPA;
	}
	if (S.data_next + len > DATA_END)
		return 0;
	g = S.data_next;
	S.data_next += len;
	return g;
}

/* ---- device bring-up ---- */

static void setup_queues(void)
{
	for (unsigned q = 0; q < S.nq; q++) {
		vmmio_gpa_t g = RAM_GPA + q * RING_SLOT;
		size_t len = vmmio_drv_vq_ring_bytes(S.qsize, 4);

		CHECK(len > 0 && len <= RING_SLOT);
		CHECK(vmmio_drv_vq_init(&S.vq[q], S.qsize, ring_host(g), g, len,
					4, S.slot[q], S.features) == 0);
		CHECK(vmmio_drv_setup_queue(&S.drv, q, &S.vq[q]) == 0);
	}
}

static void start(void)
{
	CHECK(vmmio_drv_init(&S.drv, vmmio_dev_driver_ops(), S.dev) == 0);
	CHECK(vmmio_drv_negotiate(&S.drv, S.wanted, &S.features) == 0);
	setup_queues();
	CHECK(vmmio_drv_driver_ok(&S.drv) == 0);
	for (unsigned i = 0; i < MAXREC; i++)
		S.rec[i].busy = false;
	S.busy = 0;
	S.malformed = 0;
	S.data_next = DATA_GPA;
}

/* ---- checks ---- */

static void check_fault(void)
{
	uint32_t status = vmmio_dev_status(S.dev);
	enum vmmio_fault f = vmmio_dev_fault(S.dev);

	CHECK((f != VMMIO_FAULT_NONE) ==
	      !!(status & VIRTIO_CONFIG_S_NEEDS_RESET));
	if (f != VMMIO_FAULT_NONE && trace())
		fprintf(stderr, "fault %s\n", vmmio_fault_name(f));
	/* Well-formed chains never fault the device. */
	CHECK(f == VMMIO_FAULT_NONE ||
	      (f == VMMIO_FAULT_DEVICE && S.malformed));
}

/* [sector, sector + n) inside the image, overflow-safe. */
static bool in_range(uint64_t sector, uint64_t n)
{
	return sector <= CAP && n <= CAP - sector;
}

static bool known_type(uint32_t t)
{
	return t == VIRTIO_BLK_T_IN || t == VIRTIO_BLK_T_OUT ||
	       t == VIRTIO_BLK_T_FLUSH || t == VIRTIO_BLK_T_GET_ID ||
	       t == VIRTIO_BLK_T_DISCARD || t == VIRTIO_BLK_T_WRITE_ZEROES;
}

/* Writable stream bytes [0, n) of @r. */
static void wstream(const struct rec *r, unsigned char *out, uint32_t n)
{
	uint32_t done = 0;

	for (unsigned i = 0; i < r->nw && done < n; i++) {
		uint32_t k = r->w[i].len < n - done ? r->w[i].len : n - done;

		gread(r->w[i].gpa, out + done, k);
		done += k;
	}
}

/* The shadow bytes of sectors [s, s + n) become unknown. */
static void forget(uint64_t s, uint64_t n)
{
	for (uint64_t i = 0; i < n && s + i < CAP; i++)
		S.known[s + i] = false;
}

static void check_read(const struct rec *r)
{
	static unsigned char b[MAXSEG * 4096 + 8];
	uint32_t n = r->wlen - 1;

	if (S.uring || n > sizeof(b))
		return;
	wstream(r, b, n);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t off = r->sector * SECT + i;

		if (S.known[off / SECT] && b[i] != S.shadow[off] && trace())
			fprintf(stderr, "byte %llu: read %#x, image had %#x\n",
				(unsigned long long)off, b[i], S.shadow[off]);
		if (S.known[off / SECT])
			CHECK(b[i] == S.shadow[off]);
	}
}

/* The discard / write-zeroes list as the guest wrote it. */
static unsigned dwz_list(const struct rec *r,
			 struct virtio_blk_discard_write_zeroes *s,
			 unsigned cap)
{
	uint32_t bytes = r->rlen - 16;
	unsigned n = bytes / 16;

	if (n > cap || r->rlen > MAXR)
		return 0;
	memcpy(s, r->r + 16, n * 16u);
	return n;
}

static void check_dwz(const struct rec *r, uint8_t st)
{
	struct virtio_blk_discard_write_zeroes s[64];
	bool wz = r->type == VIRTIO_BLK_T_WRITE_ZEROES;
	unsigned n = dwz_list(r, s, 64);
	bool ok = n > 0 && (r->rlen - 16) % 16 == 0 && r->wlen == 1 &&
		  n <= VMMIO_BLK_DISCARD_SEG_MAX && !S.ro;
	bool empty = false; /* a 0-sector segment: OK or IOERR, unsaid */

	for (unsigned i = 0; i < n; i++) {
		uint32_t fl = s[i].flags;

		if (trace())
			fprintf(stderr, "  seg %llu +%u flags %#x\n",
				(unsigned long long)s[i].sector,
				s[i].num_sectors, fl);
		ok = ok && in_range(s[i].sector, s[i].num_sectors) &&
		     !(fl & ~1u) && !(fl && !wz) &&
		     !injected(r->type, s[i].sector);
		empty = empty || s[i].num_sectors == 0;
		forget(s[i].sector, s[i].num_sectors);
	}
	if (st == VIRTIO_BLK_S_OK)
		CHECK(ok);
	if (ok && !empty && !S.uring)
		CHECK(st == VIRTIO_BLK_S_OK);
	if (st != VIRTIO_BLK_S_OK || !wz)
		return;
	for (unsigned i = 0; i < n; i++)
		for (uint64_t k = 0; k < s[i].num_sectors; k++) {
			memset(S.shadow + (s[i].sector + k) * SECT, 0, SECT);
			S.known[s[i].sector + k] = true;
		}
}

static void check_getid(const struct rec *r)
{
	unsigned char id[VMMIO_BLK_ID_BYTES] = {0}, got[VMMIO_BLK_ID_BYTES];
	uint32_t n = r->wlen - 1 < sizeof(got) ? r->wlen - 1 : sizeof(got);

	if (S.serial)
		memcpy(id, SERIAL, strlen(SERIAL));
	wstream(r, got, n);
	CHECK(memcmp(got, id, n) == 0);
}

/* A completed request: what the contract says about it. */
static void check_done(struct rec *r, uint32_t used)
{
	uint32_t data;
	uint8_t st;
	bool ok;

	/* Only well-formed chains complete. */
	CHECK(r->rlen >= 16 && r->wlen >= 1);
	CHECK(used <= r->wlen && used >= 1);
	gread(r->status, &st, 1);
	if (trace())
		fprintf(stderr,
			"q%u type %#x sector %llu rlen %u wlen %u: "
			"status %u used %u\n",
			r->q, r->type, (unsigned long long)r->sector, r->rlen,
			r->wlen, st, used);
	CHECK(st <= VIRTIO_BLK_S_UNSUPP);
	if (!known_type(r->type)) {
		CHECK(st == VIRTIO_BLK_S_UNSUPP);
		return;
	}
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		data = r->wlen - 1;
		ok = r->rlen == 16 && data % SECT == 0 &&
		     in_range(r->sector, data / SECT) &&
		     !injected(r->type, r->sector);
		break;
	case VIRTIO_BLK_T_OUT:
		data = r->rlen - 16;
		ok = r->wlen == 1 && data % SECT == 0 &&
		     in_range(r->sector, data / SECT) && !S.ro &&
		     !injected(r->type, r->sector);
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		check_dwz(r, st);
		return;
	default:
		/* FLUSH and GET_ID: always fine. */
		ok = true;
		break;
	}
	if (st == VIRTIO_BLK_S_OK)
		CHECK(ok);
	if (ok && !S.uring)
		CHECK(st == VIRTIO_BLK_S_OK);
	if (st != VIRTIO_BLK_S_OK)
		return;
	if (r->type == VIRTIO_BLK_T_IN) {
		CHECK(used == r->wlen);
		check_read(r);
	} else if (r->type == VIRTIO_BLK_T_OUT) {
		CHECK(used == 1);
		if (r->rlen <= MAXR) {
			memcpy(S.shadow + r->sector * SECT, r->r + 16,
			       r->rlen - 16);
			for (uint64_t k = 0; k < (r->rlen - 16) / SECT; k++)
				S.known[r->sector + k] = true;
		} else {
			forget(r->sector, (r->rlen - 16) / SECT);
		}
	} else if (r->type == VIRTIO_BLK_T_GET_ID) {
		check_getid(r);
	}
}

static void collect(void)
{
	for (unsigned q = 0; q < S.nq; q++) {
		void *tok;
		uint32_t len;
		int rc;

		while ((rc = vmmio_drv_vq_get_used(&S.vq[q], &tok, &len)) ==
		       1) {
			struct rec *r = tok;

			if (trace())
				fprintf(stderr, "used rec %td len %u\n",
					r - S.rec, len);
			CHECK(r >= S.rec && r < S.rec + MAXREC && r->busy);
			CHECK(r->q == q);
			check_done(r, len);
			r->busy = false;
			S.busy--;
		}
		CHECK(rc == 0);
	}
	(void)vmmio_drv_ack_interrupt(&S.drv);
}

/*
 * Notify queue @q. The sync engine runs that queue's requests inside the
 * call: collecting right after it keeps the shadow image in execution
 * order across queues.
 */
static void kick(unsigned q)
{
	(void)vmmio_dev_notify(S.dev, q);
	if (!S.uring)
		collect();
}

static void process(void)
{
	int rc = vmmio_blk_process(S.blk);

	CHECK(rc >= 0 || (rc == -EIO && vmmio_dev_fault(S.dev)));
	collect();
}

/* Wait (bounded) for everything in flight on an io_uring device. */
static void settle(void)
{
	int fd = vmmio_blk_fd(S.blk);

	process();
	for (unsigned i = 0; i < 400 && vmmio_blk_inflight(S.blk); i++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		if (fd < 0 || vmmio_dev_fault(S.dev))
			return;
		(void)poll(&p, 1, 5);
		process();
	}
	/* io_uring: nothing stays in flight for seconds. */
	CHECK(vmmio_blk_inflight(S.blk) == 0 || vmmio_dev_fault(S.dev));
}

/* ---- input ---- */

static uint8_t byte(struct in *in)
{
	uint8_t b = 0;

	(void)take(in, &b, 1);
	return b;
}

static uint32_t seglen(uint8_t l)
{
	if (l < 0x80)
		return l * 8u; /* 0..1016, often not whole sectors */
	if (l < 0xc0)
		return SECT * ((l & 0x3fu) % 8u + 1); /* 512..4096 */
	return l & 0x3fu;			      /* 0..63 */
}

static uint64_t sector_of(uint8_t m, struct in *in)
{
	uint64_t raw = 0;

	switch (m & 3u) {
	case 0:
		return m >> 2;
	case 1:
		return CAP - (m >> 2); /* around the end, past it too */
	case 2:
		(void)take(in, &raw, sizeof(raw));
		return raw;
	default:
		return (1ull << 55) + (m >> 2); /* byte offset wraps */
	}
}

static uint32_t type_of(uint8_t t, struct in *in)
{
	static const uint32_t types[8] = {
	    VIRTIO_BLK_T_IN,	  VIRTIO_BLK_T_OUT,
	    VIRTIO_BLK_T_FLUSH,	  VIRTIO_BLK_T_GET_ID,
	    VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES,
	    VIRTIO_BLK_T_IN,	  VIRTIO_BLK_T_OUT};
	uint32_t raw = 0;

	if (t & 0x80) {
		(void)take(in, &raw, sizeof(raw));
		return raw;
	}
	return types[t & 7u];
}

/* Readable payload after the header: data, or a discard list. */
static void fill_payload(struct rec *r, unsigned char *p, uint32_t len,
			 unsigned seed)
{
	for (uint32_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
	if (r->type != VIRTIO_BLK_T_DISCARD &&
	    r->type != VIRTIO_BLK_T_WRITE_ZEROES)
		return;
	for (uint32_t o = 0; o + 16 <= len; o += 16) {
		struct virtio_blk_discard_write_zeroes s;

		s.sector = p[o] % (CAP + 8u);
		s.num_sectors = p[o + 1] % 17u;
		s.flags = p[o + 2] < 200 ? 0 : p[o + 3] % 4u;
		if (p[o + 4] == 0xff)
			s.sector = UINT64_MAX - p[o + 5] % 4u;
		memcpy(p + o, &s, sizeof(s));
	}
}

static struct rec *rec_get(void)
{
	for (unsigned i = 0; i < MAXREC; i++)
		if (!S.rec[i].busy)
			return &S.rec[i];
	return NULL;
}

/* The indirect table of record @r: its own slot, never reused while the
 * request is in flight. */
static vmmio_gpa_t table_of(const struct rec *r)
{
	return TABLE_GPA + (vmmio_gpa_t)(r - S.rec) * TABLE_SLOT;
}

/*
 * q, type, sector, layout, counts, lengths..., seed.
 * layout: bits 0-1 direct/indirect/mixed; bit 2 header split at
 *   (layout >> 3) % 16; bit 7 header of (layout >> 3) & 15 bytes only.
 * counts: bits 0-2 readable data segments, 3-5 writable ones, bit 6 no
 *   separate status byte.
 */
static bool op_request(uint8_t op, struct in *in)
{
	static unsigned char stream[MAXSEG * 4096 + 64];
	struct vmmio_drv_buf buf[2 * MAXSEG + 4];
	struct virtio_blk_outhdr h;
	uint8_t bq, bt, bs, bl, bn, len8[2 * MAXSEG], seed;
	unsigned nr, nw, n = 0, q;
	uint32_t hlen = 16, rlen, off;
	struct vmmio_drv_req req = {.buf = buf};
	struct rec *r;
	vmmio_gpa_t g;
	int rc;

	if (!take(in, &bq, 1) || !take(in, &bt, 1) || !take(in, &bs, 1))
		return false;
	memset(&h, 0, sizeof(h));
	h.type = type_of(bt, in);
	h.sector = sector_of(bs, in);
	bl = byte(in);
	bn = byte(in);
	nr = bn & 7u;
	nw = (bn >> 3) & 7u;
	for (unsigned i = 0; i < nr + nw; i++)
		len8[i] = byte(in);
	seed = byte(in);
	q = bq % S.nq;
	r = rec_get();
	if (!r)
		return true;
	memset(r, 0, offsetof(struct rec, r));
	r->q = q;
	r->type = h.type;
	r->sector = h.sector;
	if (bl & 0x80)
		hlen = (bl >> 3) & 15u;
	/* Readable stream: header, then data. */
	memcpy(stream, &h, sizeof(h));
	rlen = hlen;
	for (unsigned i = 0; i < nr; i++)
		rlen += seglen(len8[i]);
	fill_payload(r, stream + hlen, rlen - hlen, seed);
	memcpy(r->r, stream, rlen < MAXR ? rlen : MAXR);
	r->rlen = rlen;
	/* The device reads its header from the stream's first 16 bytes,
	 * whatever the descriptors. */
	if (rlen >= 16) {
		memcpy(&h, stream, sizeof(h));
		r->type = h.type;
		r->sector = h.sector;
	}
	/* Readable descriptors. */
	off = 0;
	if ((bl & 4) && hlen == 16) {
		uint32_t cut = ((bl >> 3) % 15u) + 1;

		if (!(g = galloc(16)))
			return true;
		gwrite(g, stream, 16);
		buf[n++] = (struct vmmio_drv_buf){g, cut};
		buf[n++] = (struct vmmio_drv_buf){g + cut, 16 - cut};
		off = 16;
	} else if (hlen) {
		if (!(g = galloc(hlen)))
			return true;
		gwrite(g, stream, hlen);
		buf[n++] = (struct vmmio_drv_buf){g, hlen};
		off = hlen;
	}
	for (unsigned i = 0; i < nr; i++) {
		uint32_t l = seglen(len8[i]);

		if (!(g = galloc(l + 1)))
			return true;
		gwrite(g, stream + off, l);
		buf[n++] = (struct vmmio_drv_buf){g, l};
		off += l;
	}
	req.n_out = n;
	/* Writable descriptors: data, then (usually) a status byte. */
	for (unsigned i = 0; i < nw; i++) {
		uint32_t l = seglen(len8[nr + i]);

		if (!(g = galloc(l + 1)))
			return true;
		buf[n++] = (struct vmmio_drv_buf){g, l};
		r->w[r->nw++] = buf[n - 1];
		r->wlen += l;
	}
	if (!(bn & 0x40)) {
		if (!(g = galloc(1)))
			return true;
		buf[n++] = (struct vmmio_drv_buf){g, 1};
		r->w[r->nw++] = buf[n - 1];
		r->wlen += 1;
	}
	req.n_in = n - req.n_out;
	/* virtio 1.2 §2.7.5.3.1: no chain longer than the queue size, an
	 * indirect one included (the queue faults it: not this target's
	 * business). */
	if (n == 0 || n > S.qsize)
		return true;
	/* The status byte: the last byte of the writable part. */
	for (unsigned i = r->nw; i > 0; i--)
		if (r->w[i - 1].len) {
			r->status = r->w[i - 1].gpa + r->w[i - 1].len - 1;
			break;
		}
	if (r->wlen) {
		uint8_t ff = 0xff;

		gwrite(r->status, &ff, 1);
	}
	switch (bl & 3u) {
	case 0:
		req.n_direct = n;
		break;
	case 1:
		req.n_direct = 0;
		break;
	default:
		req.n_direct = 1;
		break;
	}
	if (!(S.features & (1ull << VIRTIO_RING_F_INDIRECT_DESC)))
		req.n_direct = n;
	if (req.n_direct < n) {
		req.table_gpa = table_of(r);
		req.table = ring_host(req.table_gpa);
	}
	if (trace())
		fprintf(stderr,
			"add q%u type %#x sector %llu rlen %u wlen %u "
			"n %u direct %u\n",
			q, r->type, (unsigned long long)r->sector, r->rlen,
			r->wlen, n, req.n_direct);
	if ((rc = vmmio_drv_vq_add(&S.vq[q], &req, r)) != 0) {
		if (trace())
			fprintf(stderr, "add: %d\n", rc);
		return true;
	}
	r->busy = true;
	S.busy++;
	if (r->rlen < 16 || r->wlen == 0)
		S.malformed++;
	if (!(op & 8) && vmmio_drv_vq_kick_prepare(&S.vq[q]))
		kick(q);
	return true;
}

static bool op_config(uint8_t op, struct in *in)
{
	static const unsigned widths[4] = {1, 2, 4, 8};
	uint8_t off, w, val;
	uint64_t v, cap = 0;

	if (!take(in, &off, 1) || !take(in, &w, 1) || !take(in, &val, 1))
		return false;
	v = val;
	if (op & 8)
		(void)vmmio_dev_read(S.dev, 0x100u + (off & 0x7fu), &v,
				     widths[w & 3u]);
	else
		(void)vmmio_dev_write(S.dev, 0x100u + (off & 0x7fu), &v,
				      widths[w & 3u]);
	/* The capacity is not the guest's to change. */
	if (vmmio_dev_fault(S.dev) == VMMIO_FAULT_NONE) {
		CHECK(vmmio_dev_read(S.dev, 0x100, &cap, 8) == 0);
		CHECK(cap == CAP);
	}
	return true;
}

/* A request dropped by a reset may or may not have reached the image. */
static void forget_rec(const struct rec *r)
{
	struct virtio_blk_discard_write_zeroes s[64];
	unsigned n;

	if (r->rlen < 16)
		return;
	if (r->type == VIRTIO_BLK_T_OUT) {
		forget(r->sector, (r->rlen - 16) / SECT + 1);
	} else if (r->type == VIRTIO_BLK_T_DISCARD ||
		   r->type == VIRTIO_BLK_T_WRITE_ZEROES) {
		n = dwz_list(r, s, 64);
		for (unsigned i = 0; i < n; i++)
			forget(s[i].sector, s[i].num_sectors);
	}
}

static void op_reset(uint8_t op)
{
	for (unsigned i = 0; i < MAXREC; i++)
		if (S.rec[i].busy)
			forget_rec(&S.rec[i]);
	if (op & 8)
		vmmio_dev_reset(S.dev);
	else
		CHECK(vmmio_drv_reset(&S.drv) == 0);
	CHECK(vmmio_dev_fault(S.dev) == VMMIO_FAULT_NONE);
	CHECK(vmmio_blk_inflight(S.blk) == 0);
	start();
}

static bool step(uint8_t op, struct in *in)
{
	uint8_t b;

	switch (op & 7u) {
	case 0:
		return op_request(op, in);
	case 1:
		if (!take(in, &b, 1))
			return false;
		kick(b % S.nq);
		return true;
	case 3:
		process();
		return true;
	case 4:
		op_reset(op);
		return true;
	case 5:
		return op_config(op, in);
	default:
		collect();
		return true;
	}
}

static void check_image(void)
{
	unsigned char b[IMG_BYTES];
	struct stat st;

	CHECK(fstat(S.memfd, &st) == 0);
	CHECK(st.st_size == IMG_BYTES);
	if (!S.ro)
		return;
	CHECK(pread(S.memfd, b, IMG_BYTES, 0) == (ssize_t)IMG_BYTES);
	for (unsigned i = 0; i < IMG_BYTES; i++)
		CHECK(b[i] == pat(i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct vmmio_mem_region reg[2] = {
	    {.gpa = RAM_GPA, .size = R0_LEN, .host = ram0},
	    {.gpa = RAM_GPA + R0_LEN, .size = R1_LEN, .host = ram1},
	};
	struct vmmio_blk_config cfg = {.size = sizeof(cfg), .host = &f_host};
	struct in in = {data, size};
	uint8_t s0, s1, op;
	int rc;

	if (!take(&in, &s0, 1) || !take(&in, &s1, 1))
		return 0;
	image_init();
	S.uring = (s0 & 3u) == 3u;
	S.ro = s0 & 4u;
	S.inject = s0 & 8u;
	S.serial = s0 & 0x80u;
	S.nq = s0 & 0x40u ? 2 : 1;
	S.qsize = (uint16_t)(1u << (s1 % 6u));
	S.wanted = ~0ull;
	if (s0 & 0x10u)
		S.wanted &= ~(1ull << VIRTIO_RING_F_EVENT_IDX);
	if (s0 & 0x20u)
		S.wanted &= ~(1ull << VIRTIO_RING_F_INDIRECT_DESC);
	memset(ram0, 0, sizeof(ram0));
	memset(ram1, 0, sizeof(ram1));
	CHECK(vmmio_mem_new(reg, 2, NULL, NULL, &S.mem) == 0);
	cfg.path = S.path;
	cfg.read_only = S.ro;
	cfg.engine = S.uring ? VMMIO_BLK_ENGINE_URING : VMMIO_BLK_ENGINE_SYNC;
	cfg.serial = S.serial ? SERIAL : NULL;
	cfg.num_queues = (uint16_t)S.nq;
	cfg.queue_size = QMAX;
	cfg.mem = S.mem;
	if (S.inject)
		cfg.inject = f_inject;
	rc = vmmio_blk_new(&cfg, &S.blk);
	if (rc == -ENOTSUP && S.uring) {
		vmmio_mem_free(S.mem);
		return 0;
	}
	CHECK(rc == 0);
	S.dev = vmmio_blk_dev(S.blk);
	CHECK(vmmio_blk_capacity(S.blk) == CAP);
	start();
	while (take(&in, &op, 1) && step(op, &in))
		check_fault();
	settle();
	check_fault();
	vmmio_blk_free(S.blk);
	S.blk = NULL;
	check_image();
	vmmio_mem_free(S.mem);
	return 0;
}
