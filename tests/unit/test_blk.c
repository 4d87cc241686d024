/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-blk device model: requests through the driver harness against a
 * temporary image file, every I/O test on both engines (sync, io_uring). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <check.h>

#include <linux/magic.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include <vmmio/blk.h>

#include "tests.h"
#include "dfix.h"
#include "failer.h"

#define SECT 512u
#define IMG_SECTORS 4096u /* 2 MiB */
#define IMG_BYTES ((uint64_t)IMG_SECTORS * SECT)
#define HDR_LEN 16u
#define ALL (~0ull)
#define BIT(n) (1ull << (n))
#define NENG 2
#define ENG(i) ((i) % NENG ? VMMIO_BLK_ENGINE_URING : VMMIO_BLK_ENGINE_SYNC)
#define S_OK VIRTIO_BLK_S_OK
#define S_IOERR VIRTIO_BLK_S_IOERR
#define S_UNSUPP VIRTIO_BLK_S_UNSUPP
#define T_IN VIRTIO_BLK_T_IN
#define T_OUT VIRTIO_BLK_T_OUT
#define T_FLUSH VIRTIO_BLK_T_FLUSH
#define T_GET_ID VIRTIO_BLK_T_GET_ID
#define T_DISCARD VIRTIO_BLK_T_DISCARD
#define T_WZ VIRTIO_BLK_T_WRITE_ZEROES
#define CFG(field) ((uint32_t)offsetof(struct virtio_blk_config, field))
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* Bits the model offers unless told otherwise (blk.h, features_off). */
#define BASE_FEATURES                                                          \
	(BIT(VIRTIO_BLK_F_SIZE_MAX) | BIT(VIRTIO_BLK_F_SEG_MAX) |              \
	 BIT(VIRTIO_BLK_F_BLK_SIZE) | BIT(VIRTIO_BLK_F_FLUSH) |                \
	 BIT(VIRTIO_BLK_F_CONFIG_WCE) | BIT(VIRTIO_BLK_F_DISCARD) |            \
	 BIT(VIRTIO_BLK_F_WRITE_ZEROES) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |   \
	 BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VIRTIO_F_VERSION_1))

/* ---- fault injection hook ---- */

struct inj_call {
	uint32_t type;
	uint64_t sector, bytes;
};

/* Fail requests of @types (mask of 1 << type) meeting [lo, hi) with err. */
struct inj {
	uint32_t types;
	uint64_t lo, hi;
	int err;
	unsigned calls, hits;
	struct inj_call log[512];
};

/* ---- the device under test ---- */

static struct bt {
	struct dfix f;
	struct vmmio_blk *blk;
	int img; /* host view of the image */
	uint64_t bytes;
	uint64_t offered;
	enum vmmio_blk_engine engine;
	struct inj inj;
} T;

struct bopt {
	uint64_t bytes; /* image size (0: IMG_BYTES) */
	bool sparse;	/* leave the image a hole instead of the pattern */
	bool read_only, split, inject, direct;
	uint64_t features_off;
	uint64_t wanted_off; /* features the driver refuses */
	const char *serial;
	uint16_t nq;
	uint16_t queue_size;
	uint32_t version;
	uint32_t poll_us;
};

static int t_inject(void *opaque, uint32_t type, uint64_t sector,
		    uint64_t bytes)
{
	struct inj *j = opaque;
	uint64_t end;

	/* No ck_assert here: the hook may run on an engine's thread. */
	if (j != &T.inj)
		abort();
	if (j->calls < NELEM(j->log))
		j->log[j->calls] = (struct inj_call){type, sector, bytes};
	j->calls++;
	if (!j->err || type >= 32 || !(j->types & (1u << type)))
		return 0;
	end = sector + (bytes + SECT - 1) / SECT;
	if (type != T_FLUSH && (sector >= j->hi || end <= j->lo))
		return 0;
	j->hits++;
	return j->err;
}

/* Image bytes: a position-dependent pattern, different in every sector. */
static uint8_t pat(uint64_t off)
{
	uint64_t x = (off + 1) * 0x9e3779b97f4a7c15ull;

	return (uint8_t)((x >> 56) ^ (off >> 9));
}

static void fill_pat(unsigned char *b, uint64_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		b[i] = pat(off + i);
}

static void rnd_fill(unsigned *seed, unsigned char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (unsigned char)tg_rand(seed);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(p);
	return p;
}

/*
 * A fresh image in its own temporary directory; the directory and file
 * are unlinked as soon as the device has opened the image (bt_unlink), so
 * nothing is left behind even when a test dies.
 */
static char img_dir[64], img_path[96];

static void make_image(uint64_t bytes, bool sparse)
{
	unsigned char buf[65536];

	strcpy(img_dir, "/tmp/vmmio-blk-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(img_dir));
	snprintf(img_path, sizeof(img_path), "%s/disk.img", img_dir);
	T.img = open(img_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_int_ge(T.img, 0);
	ck_assert_int_eq(ftruncate(T.img, (off_t)bytes), 0);
	for (uint64_t off = 0; !sparse && off < bytes; off += sizeof(buf)) {
		size_t n = bytes - off < sizeof(buf) ? (size_t)(bytes - off)
						     : sizeof(buf);

		fill_pat(buf, off, n);
		ck_assert_int_eq(pwrite(T.img, buf, n, (off_t)off), (ssize_t)n);
	}
	ck_assert_int_eq(fsync(T.img), 0);
	T.bytes = bytes;
}

static void bt_unlink(void)
{
	if (img_path[0])
		(void)unlink(img_path);
	if (img_dir[0])
		(void)rmdir(img_dir);
	img_path[0] = img_dir[0] = 0;
}

static int blk_process(void *obj)
{
	return vmmio_blk_process(obj);
}

static struct vmmio_blk_config bt_config(enum vmmio_blk_engine e,
					 const struct bopt *o)
{
	struct vmmio_blk_config c = {
	    .size = sizeof(c),
	    .path = img_path,
	    .read_only = o->read_only,
	    .direct = o->direct,
	    .engine = e,
	    .features_off = o->features_off,
	    .serial = o->serial,
	    .num_queues = o->nq,
	    .queue_size = o->queue_size,
	    .version = o->version,
	    .poll_us = o->poll_us,
	    .mem = T.f.g.mem,
	    .host = &df_host,
	    .host_opaque = &T.f,
	};

	if (o->inject) {
		c.inject = t_inject;
		c.inject_opaque = &T.inj;
	}
	return c;
}

/* Report (and skip) an engine the build or the kernel does not have. */
static bool engine_missing(enum vmmio_blk_engine e, int rc)
{
	if (e != VMMIO_BLK_ENGINE_URING || rc != -ENOTSUP)
		return false;
#ifdef VMMIO_HAVE_URING
	ck_abort_msg("io_uring engine built in but refused (-ENOTSUP)");
#endif
	fprintf(stderr, "SKIP: io_uring engine not built in\n");
	return true;
}

static uint64_t read_offered(struct vmmio_dev *d)
{
	uint64_t v = 0;

	for (uint32_t sel = 0; sel < 2; sel++) {
		uint32_t w = 0;

		ck_assert_int_eq(
		    vmmio_dev_write(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, &sel,
				    4),
		    0);
		ck_assert_int_eq(
		    vmmio_dev_read(d, VIRTIO_MMIO_DEVICE_FEATURES, &w, 4), 0);
		v |= (uint64_t)w << (32 * sel);
	}
	return v;
}

/* Image, device, event loop, DRIVER_OK. false: engine not available. */
static bool bt_open(enum vmmio_blk_engine e, const struct bopt *o)
{
	struct vmmio_blk_config c;
	int rc;

	memset(&T.inj, 0, sizeof(T.inj));
	T.engine = e;
	df_mem(&T.f, o->split, 77u + (unsigned)o->split);
	make_image(o->bytes ? o->bytes : IMG_BYTES, o->sparse);
	c = bt_config(e, o);
	rc = vmmio_blk_new(&c, &T.blk);
	bt_unlink();
	if (engine_missing(e, rc)) {
		close(T.img);
		df_free(&T.f);
		return false;
	}
	ck_assert_msg(rc == 0, "vmmio_blk_new: %d (%s)", rc, T.f.last_log);
	ck_assert_ptr_nonnull(T.blk);
	T.offered = read_offered(vmmio_blk_dev(T.blk));
	df_loop(&T.f, vmmio_blk_fd(T.blk), blk_process, T.blk);
	df_start(&T.f, vmmio_blk_dev(T.blk), ALL & ~o->wanted_off,
		 o->nq ? o->nq : 1, DF_QSIZE);
	return true;
}

static void bt_close(void)
{
	ck_assert_uint_eq(vmmio_blk_inflight(T.blk), 0);
	vmmio_blk_free(T.blk);
	T.blk = NULL;
	df_free(&T.f);
	close(T.img);
}

/* ---- host view of the image ---- */

static void img_read(uint64_t off, void *buf, size_t len)
{
	ck_assert_int_eq(pread(T.img, buf, len, (off_t)off), (ssize_t)len);
}

static unsigned char *img_snapshot(void)
{
	unsigned char *s = xmalloc(T.bytes);

	img_read(0, s, T.bytes);
	return s;
}

/* The image is byte for byte @snap (and freed). */
static void img_same(unsigned char *snap)
{
	unsigned char *now = img_snapshot();
	struct stat st;

	ck_assert_int_eq(fstat(T.img, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, T.bytes);
	for (uint64_t i = 0; i < T.bytes; i++)
		if (now[i] != snap[i])
			ck_abort_msg("image changed at byte %llu (sector %llu)",
				     (unsigned long long)i,
				     (unsigned long long)(i / SECT));
	free(now);
	free(snap);
}

static void expect_pat(const unsigned char *b, uint64_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (b[i] != pat(off + i))
			ck_abort_msg("byte %llu: got %#x, want pattern %#x",
				     (unsigned long long)(off + i), b[i],
				     pat(off + i));
}

static void expect_zero(const unsigned char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (b[i])
			ck_abort_msg("byte %zu is %#x, want 0", i, b[i]);
}

/* ---- requests ---- */

#define MAXB 200

struct rq {
	struct vmmio_drv_buf b[MAXB];
	unsigned n_out, n_in;
	vmmio_gpa_t status;
	uint32_t rlen, wlen;
};

static void rq_out(struct rq *r, vmmio_gpa_t gpa, uint32_t len)
{
	ck_assert_uint_eq(r->n_in, 0);
	ck_assert_uint_lt(r->n_out, MAXB);
	r->b[r->n_out++] = (struct vmmio_drv_buf){gpa, len};
	r->rlen += len;
}

static void rq_in(struct rq *r, vmmio_gpa_t gpa, uint32_t len)
{
	ck_assert_uint_lt(r->n_out + r->n_in, MAXB);
	r->b[r->n_out + r->n_in++] = (struct vmmio_drv_buf){gpa, len};
	r->wlen += len;
	/* The status byte is the last writable byte. */
	r->status = gpa + len - 1;
}

static vmmio_gpa_t put(const void *src, size_t len, size_t align)
{
	vmmio_gpa_t g = tg_alloc(&T.f.g, len, align);

	tg_write(&T.f.g, g, src, len);
	return g;
}

static vmmio_gpa_t put_hdr(uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = {.type = type, .sector = sector};

	return put(&h, sizeof(h), 16);
}

/* Header in one readable descriptor. */
static void rq_init(struct rq *r, uint32_t type, uint64_t sector)
{
	memset(r, 0, sizeof(*r));
	rq_out(r, put_hdr(type, sector), HDR_LEN);
}

/* A writable buffer of @len preset to @fill. */
static vmmio_gpa_t wbuf(uint32_t len, uint8_t fill)
{
	vmmio_gpa_t g = tg_alloc(&T.f.g, len ? len : 1, 16);
	unsigned char *tmp = xmalloc(len);

	memset(tmp, fill, len);
	tg_write(&T.f.g, g, tmp, len);
	free(tmp);
	return g;
}

/* Status byte in its own descriptor, preset to 0xff. */
static void rq_status(struct rq *r)
{
	rq_in(r, wbuf(1, 0xff), 1);
}

static uint8_t rq_sbyte(const struct rq *r)
{
	uint8_t s;

	tg_read(&T.f.g, r->status, &s, 1);
	return s;
}

static void rq_submit(struct rq *r, unsigned q, enum df_layout l)
{
	ck_assert_int_eq(df_submit(&T.f, q, r->b, r->n_out, r->n_in, l, r), 0);
}

/* Next used element of @q: its request; *used its length. */
static struct rq *rq_reap(unsigned q, uint32_t *used)
{
	void *tok = NULL;
	uint32_t n = 0;
	struct rq *r;

	ck_assert_int_eq(df_wait(&T.f, q, &tok, &n), 1);
	r = tok;
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_le(n, r->wlen);
	if (used)
		*used = n;
	return r;
}

/* Submit, wait for this very request, return its status byte. */
static uint8_t rq_run(struct rq *r, unsigned q, enum df_layout l,
		      uint32_t *used)
{
	rq_submit(r, q, l);
	ck_assert_ptr_eq(rq_reap(q, used), r);
	return rq_sbyte(r);
}

/* IN or OUT of @len bytes at @sector with the data in one buffer. */
static uint8_t io(uint32_t type, uint64_t sector, vmmio_gpa_t data,
		  uint32_t len, enum df_layout l, uint32_t *used)
{
	struct rq r;

	rq_init(&r, type, sector);
	if (type == T_IN)
		rq_in(&r, data, len);
	else if (len)
		rq_out(&r, data, len);
	rq_status(&r);
	return rq_run(&r, 0, l, used);
}

static uint8_t io_simple(uint32_t type, uint64_t sector, vmmio_gpa_t data,
			 uint32_t len)
{
	uint32_t used = 0;
	uint8_t s = io(type, sector, data, len, DF_DIRECT, &used);

	if (s == S_OK)
		ck_assert_uint_eq(used, type == T_IN ? len + 1 : 1);
	return s;
}

/* Write random bytes at @sector, check them on the image and read them
 * back through the device (the queue works). */
static void good_roundtrip(unsigned q, uint64_t sector, uint32_t len,
			   unsigned seed)
{
	unsigned char *src = xmalloc(len), *back = xmalloc(len);
	vmmio_gpa_t g;
	struct rq r;
	uint32_t used;

	rnd_fill(&seed, src, len);
	g = put(src, len, 16);
	rq_init(&r, T_OUT, sector);
	rq_out(&r, g, len);
	rq_status(&r);
	ck_assert_uint_eq(rq_run(&r, q, DF_DIRECT, &used), S_OK);
	ck_assert_uint_eq(used, 1);
	img_read(sector * SECT, back, len);
	ck_assert_mem_eq(back, src, len);
	g = wbuf(len, 0x5a);
	rq_init(&r, T_IN, sector);
	rq_in(&r, g, len);
	rq_status(&r);
	ck_assert_uint_eq(rq_run(&r, q, DF_DIRECT, &used), S_OK);
	ck_assert_uint_eq(used, len + 1);
	tg_read(&T.f.g, g, back, len);
	ck_assert_mem_eq(back, src, len);
	free(src);
	free(back);
}

static void expect_fault(void)
{
	struct vmmio_dev *d = vmmio_blk_dev(T.blk);
	unsigned before = T.f.config_irqs;

	df_poll(&T.f);
	ck_assert_msg(vmmio_dev_fault(d) == VMMIO_FAULT_DEVICE,
		      "fault %s, want DEVICE",
		      vmmio_fault_name(vmmio_dev_fault(d)));
	ck_assert(vmmio_dev_status(d) & VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert(vmmio_drv_get_status(&T.f.drv) & VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert_uint_gt(T.f.config_irqs, before);
	ck_assert_uint_eq(vmmio_drv_vq_used_pending(&T.f.vq[0]), 0);
	ck_assert_int_eq(vmmio_blk_process(T.blk), -EIO);
}

/* ---- write / read back ---- */

/* _i: engine (bit 0), region-split guest RAM (bit 1). */
START_TEST(test_rw_roundtrip)
{
	static const uint32_t sizes[] = {512,  1024,  4096,  1536,
					 8704, 16384, 65536, 131072};
	struct bopt o = {.split = _i >= 2};
	unsigned seed = 1234u + (unsigned)_i;

	if (!bt_open(ENG(_i), &o))
		return;
	for (unsigned k = 0; k < 3 * NELEM(sizes) + 2; k++) {
		uint32_t len = sizes[k % NELEM(sizes)], used;
		enum df_layout l = (enum df_layout)(k % 3);
		uint64_t sector;
		unsigned char *src, *back;
		vmmio_gpa_t g;

		if (o.split && len > 16384)
			continue;
		if (k == 3 * NELEM(sizes))
			sector = 0;
		else if (k == 3 * NELEM(sizes) + 1)
			sector = IMG_SECTORS - len / SECT; /* the last ones */
		else
			sector =
			    tg_rand(&seed) % (IMG_SECTORS - len / SECT + 1);
		tg_reset_alloc(&T.f.g);
		src = xmalloc(len);
		back = xmalloc(len);
		rnd_fill(&seed, src, len);
		(void)tg_alloc(&T.f.g, k % 7, 1); /* odd guest addresses */
		g = put(src, len, 1);
		ck_assert_uint_eq(io(T_OUT, sector, g, len, l, &used), S_OK);
		ck_assert_uint_eq(used, 1);
		img_read(sector * SECT, back, len);
		ck_assert_mem_eq(back, src, len);
		g = wbuf(len, 0x5a);
		ck_assert_uint_eq(io(T_IN, sector, g, len, l, &used), S_OK);
		ck_assert_uint_eq(used, len + 1);
		tg_read(&T.f.g, g, back, len);
		ck_assert_mem_eq(back, src, len);
		free(src);
		free(back);
	}
	bt_close();
}
END_TEST

/* Reads of the untouched image return its bytes, every layout. */
START_TEST(test_read_image)
{
	struct bopt o = {0};
	unsigned seed = 99;

	if (!bt_open(ENG(_i), &o))
		return;
	for (unsigned k = 0; k < 12; k++) {
		uint32_t len = SECT * (1 + tg_rand(&seed) % 64);
		uint64_t sector = tg_rand(&seed) % (IMG_SECTORS - len / SECT);
		unsigned char *b = xmalloc(len);
		vmmio_gpa_t g;
		uint32_t used;

		tg_reset_alloc(&T.f.g);
		g = wbuf(len, 0xa5);
		ck_assert_uint_eq(
		    io(T_IN, sector, g, len, (enum df_layout)(k % 3), &used),
		    S_OK);
		ck_assert_uint_eq(used, len + 1);
		tg_read(&T.f.g, g, b, len);
		expect_pat(b, sector * SECT, len);
		free(b);
	}
	bt_close();
}
END_TEST

/* ---- read-only backing ---- */

static uint8_t dwz(uint32_t type,
		   const struct virtio_blk_discard_write_zeroes *s, unsigned n,
		   uint32_t extra, uint32_t *used);

START_TEST(test_read_only)
{
	struct bopt o = {.read_only = true};
	struct virtio_blk_discard_write_zeroes seg = {.sector = 8,
						      .num_sectors = 8};
	unsigned char *snap, b[4096];
	uint32_t used;
	vmmio_gpa_t g;

	if (!bt_open(ENG(_i), &o))
		return;
	ck_assert(T.offered & BIT(VIRTIO_BLK_F_RO));
	ck_assert(vmmio_dev_features(vmmio_blk_dev(T.blk)) &
		  BIT(VIRTIO_BLK_F_RO));
	snap = img_snapshot();
	memset(b, 0x11, sizeof(b));
	g = put(b, sizeof(b), 16);
	ck_assert_uint_eq(io(T_OUT, 8, g, sizeof(b), DF_DIRECT, &used),
			  S_IOERR);
	ck_assert_uint_eq(used, 1);
	ck_assert_uint_eq(dwz(T_DISCARD, &seg, 1, 0, &used), S_IOERR);
	ck_assert_uint_eq(dwz(T_WZ, &seg, 1, 0, &used), S_IOERR);
	seg.flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	ck_assert_uint_eq(dwz(T_WZ, &seg, 1, 0, &used), S_IOERR);
	img_same(snap);
	/* Reads work. */
	g = wbuf(sizeof(b), 0);
	ck_assert_uint_eq(io(T_IN, 8, g, sizeof(b), DF_INDIRECT, &used), S_OK);
	ck_assert_uint_eq(used, sizeof(b) + 1);
	tg_read(&T.f.g, g, b, sizeof(b));
	expect_pat(b, 8 * SECT, sizeof(b));
	/* FLUSH on a read-only disk is harmless. */
	{
		struct rq r;

		rq_init(&r, T_FLUSH, 0);
		rq_status(&r);
		ck_assert_uint_eq(rq_run(&r, 0, DF_DIRECT, NULL), S_OK);
	}
	bt_close();
}
END_TEST

/* A read-write disk does not claim to be read-only. */
START_TEST(test_read_write_not_ro)
{
	struct bopt o = {0};

	if (!bt_open(ENG(_i), &o))
		return;
	ck_assert(!(T.offered & BIT(VIRTIO_BLK_F_RO)));
	bt_close();
}
END_TEST

/* ---- bad requests: IOERR, nothing written, the queue keeps working ---- */

enum where {
	AT_10,	     /* sector 10 */
	AT_CAP,	     /* capacity */
	AT_CAP_M1,   /* capacity - 1 */
	AT_U64MAX,   /* UINT64_MAX */
	AT_U64MAX_1, /* UINT64_MAX - 1 */
	AT_WRAP,     /* 2^55: sector * 512 wraps to byte 0 */
	AT_WRAP_8,   /* 2^55 + 8: wraps to byte 4096 */
	AT_HUGE,     /* 2^54 */
};

enum shape {
	SH_PLAIN,	    /* header, data (own direction), status */
	SH_IN_READABLE,	    /* IN: header + readable data; data + status */
	SH_IN_READ_ONLY,    /* IN: header + readable data; status */
	SH_OUT_WRITABLE,    /* OUT: header + data; writable data + status */
	SH_OUT_WRITE_ONLY,  /* OUT: header; writable data + status */
	SH_IN_STATUS_SHARE, /* IN: data and status in one descriptor */
};

struct bad_row {
	const char *name;
	uint32_t type;
	enum where at;
	uint32_t len;
	enum shape shape;
};

static const struct bad_row bad_rows[] = {
    {"in_at_capacity", T_IN, AT_CAP, 512, SH_PLAIN},
    {"out_at_capacity", T_OUT, AT_CAP, 512, SH_PLAIN},
    {"in_past_end", T_IN, AT_CAP_M1, 1024, SH_PLAIN},
    {"out_past_end", T_OUT, AT_CAP_M1, 1024, SH_PLAIN},
    {"in_past_end_shared", T_IN, AT_CAP_M1, 1024, SH_IN_STATUS_SHARE},
    {"in_u64max", T_IN, AT_U64MAX, 512, SH_PLAIN},
    {"out_u64max", T_OUT, AT_U64MAX, 512, SH_PLAIN},
    {"out_u64max_m1_2sect", T_OUT, AT_U64MAX_1, 1024, SH_PLAIN},
    {"in_u64max_m1_2sect", T_IN, AT_U64MAX_1, 1024, SH_PLAIN},
    {"out_wrap_2p55", T_OUT, AT_WRAP, 512, SH_PLAIN},
    {"in_wrap_2p55", T_IN, AT_WRAP, 512, SH_PLAIN},
    {"out_wrap_2p55_8", T_OUT, AT_WRAP_8, 4096, SH_PLAIN},
    {"out_2p54", T_OUT, AT_HUGE, 512, SH_PLAIN},
    {"in_len_511", T_IN, AT_10, 511, SH_PLAIN},
    {"in_len_100", T_IN, AT_10, 100, SH_PLAIN},
    {"in_len_513_shared", T_IN, AT_10, 513, SH_IN_STATUS_SHARE},
    {"out_len_513", T_OUT, AT_10, 513, SH_PLAIN},
    {"out_len_1", T_OUT, AT_10, 1, SH_PLAIN},
    {"out_len_4095", T_OUT, AT_10, 4095, SH_PLAIN},
    {"in_readable_data", T_IN, AT_10, 512, SH_IN_READABLE},
    {"in_readable_only", T_IN, AT_10, 512, SH_IN_READ_ONLY},
    {"out_writable_data", T_OUT, AT_10, 512, SH_OUT_WRITABLE},
    {"out_writable_only", T_OUT, AT_10, 512, SH_OUT_WRITE_ONLY},
};

static uint64_t where(enum where w)
{
	switch (w) {
	case AT_CAP:
		return IMG_SECTORS;
	case AT_CAP_M1:
		return IMG_SECTORS - 1;
	case AT_U64MAX:
		return UINT64_MAX;
	case AT_U64MAX_1:
		return UINT64_MAX - 1;
	case AT_WRAP:
		return 1ull << 55;
	case AT_WRAP_8:
		return (1ull << 55) + 8;
	case AT_HUGE:
		return 1ull << 54;
	default:
		return 10;
	}
}

static void build_bad(struct rq *r, const struct bad_row *row, unsigned seed)
{
	unsigned char *d = xmalloc(row->len + 1);
	vmmio_gpa_t g;

	rnd_fill(&seed, d, row->len);
	rq_init(r, row->type, where(row->at));
	switch (row->shape) {
	case SH_PLAIN:
		if (row->type == T_IN) {
			rq_in(r, wbuf(row->len, 0x5a), row->len);
		} else {
			rq_out(r, put(d, row->len, 16), row->len);
		}
		rq_status(r);
		break;
	case SH_IN_STATUS_SHARE:
		g = wbuf(row->len + 1, 0xff);
		rq_in(r, g, row->len + 1);
		break;
	case SH_IN_READABLE:
	case SH_OUT_WRITABLE:
		rq_out(r, put(d, row->len, 16), row->len);
		rq_in(r, wbuf(row->len, 0x5a), row->len);
		rq_status(r);
		break;
	case SH_IN_READ_ONLY:
		rq_out(r, put(d, row->len, 16), row->len);
		rq_status(r);
		break;
	case SH_OUT_WRITE_ONLY:
		rq_in(r, wbuf(row->len, 0x5a), row->len);
		rq_status(r);
		break;
	}
	free(d);
}

/* _i: row * NENG + engine. */
START_TEST(test_bad_request)
{
	const struct bad_row *row = &bad_rows[_i / NENG];
	struct bopt o = {0};
	unsigned char *snap;
	uint32_t used = 0;
	struct rq r;
	uint8_t s;

	if (!bt_open(ENG(_i), &o))
		return;
	snap = img_snapshot();
	for (enum df_layout l = DF_DIRECT; l <= DF_MIXED; l++) {
		tg_reset_alloc(&T.f.g);
		build_bad(&r, row, (unsigned)_i);
		s = rq_run(&r, 0, l, &used);
		ck_assert_msg(s == S_IOERR,
			      "%s (layout %d): status %u, want IOERR (1)",
			      row->name, l, s);
		ck_assert_uint_ge(used, 1);
		ck_assert_int_eq(vmmio_dev_fault(vmmio_blk_dev(T.blk)),
				 VMMIO_FAULT_NONE);
	}
	img_same(snap);
	/* The queue keeps working. */
	good_roundtrip(0, 8, 1024, 5);
	bt_close();
}
END_TEST

/* ---- malformed chains: fault DEVICE, NEEDS_RESET, recovery ---- */

struct fault_row {
	const char *name;
	uint32_t type;
	unsigned n_out, n_in;
	uint32_t len[4]; /* readable lengths, then writable ones */
};

static const struct fault_row fault_rows[] = {
    {"header_8_bytes", T_OUT, 1, 1, {8, 1}},
    {"header_15_bytes", T_IN, 1, 1, {15, 1}},
    {"header_split_12_bytes", T_OUT, 2, 1, {8, 4, 1}},
    {"no_readable_in", T_IN, 0, 2, {512, 1}},
    {"no_readable_status_only", T_FLUSH, 0, 1, {1}},
    {"out_no_status", T_OUT, 2, 0, {16, 512}},
    {"in_no_status", T_IN, 1, 0, {16}},
    {"flush_no_status", T_FLUSH, 1, 0, {16}},
    {"get_id_no_status", T_GET_ID, 1, 0, {16}},
    {"header_split_no_status", T_OUT, 3, 0, {10, 6, 512}},
};

/* _i: row * NENG + engine. */
START_TEST(test_fault_request)
{
	const struct fault_row *row = &fault_rows[_i / NENG];
	struct virtio_blk_outhdr h = {.type = row->type, .sector = 8};
	unsigned char hb[HDR_LEN + 512], *snap;
	unsigned seed = 3, off = 0;
	struct bopt o = {0};
	struct rq r;

	if (!bt_open(ENG(_i), &o))
		return;
	snap = img_snapshot();
	memcpy(hb, &h, sizeof(h));
	rnd_fill(&seed, hb + HDR_LEN, 512);
	memset(&r, 0, sizeof(r));
	/* Readable: consecutive bytes of header + data. */
	for (unsigned k = 0; k < row->n_out; k++) {
		rq_out(&r, put(hb + off, row->len[k], 1), row->len[k]);
		off += row->len[k];
	}
	for (unsigned k = 0; k < row->n_in; k++)
		rq_in(&r, wbuf(row->len[row->n_out + k], 0xff),
		      row->len[row->n_out + k]);
	rq_submit(&r, 0, DF_DIRECT);
	expect_fault();
	img_same(snap);
	/* The driver resets; the device works again. */
	df_restart(&T.f, ALL);
	ck_assert_int_eq(vmmio_dev_fault(vmmio_blk_dev(T.blk)),
			 VMMIO_FAULT_NONE);
	ck_assert(!(vmmio_dev_status(vmmio_blk_dev(T.blk)) &
		    VIRTIO_CONFIG_S_NEEDS_RESET));
	tg_reset_alloc(&T.f.g);
	good_roundtrip(0, 16, 2048, 9);
	bt_close();
}
END_TEST

/* ---- unknown request types ---- */

START_TEST(test_unsupported)
{
	static const uint32_t types[] = {
	    2,	3,  5,	6,	    7,		9,  10,
	    12, 14, 15, 0x80000001, 0x7fffffff, 16, 0xffffffff};
	struct bopt o = {0};
	unsigned char d[SECT], *snap;
	unsigned seed = 11;

	if (!bt_open(ENG(_i), &o))
		return;
	snap = img_snapshot();
	for (unsigned k = 0; k < NELEM(types); k++) {
		struct rq r;
		uint32_t used;
		uint8_t s;

		tg_reset_alloc(&T.f.g);
		rnd_fill(&seed, d, sizeof(d));
		/* Shaped like a write of sector 4... */
		rq_init(&r, types[k], 4);
		rq_out(&r, put(d, sizeof(d), 16), sizeof(d));
		rq_status(&r);
		s = rq_run(&r, 0, (enum df_layout)(k % 3), &used);
		ck_assert_msg(s == S_UNSUPP, "type %#x: status %u, want UNSUPP",
			      types[k], s);
		ck_assert_uint_eq(used, 1);
		/* ... and like a read. */
		rq_init(&r, types[k], 4);
		rq_in(&r, wbuf(SECT, 0x77), SECT);
		rq_status(&r);
		s = rq_run(&r, 0, DF_DIRECT, &used);
		ck_assert_msg(s == S_UNSUPP, "type %#x (in): status %u",
			      types[k], s);
		ck_assert_uint_ge(used, 1);
	}
	img_same(snap);
	good_roundtrip(0, 4, 512, 1);
	bt_close();
}
END_TEST

/* ---- GET_ID ---- */

/* GET_ID into @len writable bytes (status separate unless @shared). */
static uint8_t get_id(uint32_t len, bool shared, unsigned char *out,
		      uint32_t *used)
{
	vmmio_gpa_t g = wbuf(len + 32, 0xaa);
	struct rq r;
	uint8_t s;

	rq_init(&r, T_GET_ID, 0);
	if (shared) {
		rq_in(&r, g, len + 1);
	} else {
		rq_in(&r, g, len);
		rq_status(&r);
	}
	s = rq_run(&r, 0, DF_DIRECT, used);
	/* Bytes past the buffer untouched (+1: a shared status byte). */
	tg_read(&T.f.g, g, out, len + 32);
	for (uint32_t i = len + (shared ? 1 : 0); i < len + 32; i++)
		ck_assert_msg(out[i] == 0xaa, "GET_ID wrote past its buffer");
	return s;
}

START_TEST(test_get_id_short_serial)
{
	static const char serial[] = "vmmio-disk-7";
	struct bopt o = {.serial = serial};
	unsigned char id[64], want[20] = {0};
	uint32_t used;

	if (!bt_open(ENG(_i), &o))
		return;
	memcpy(want, serial, strlen(serial));
	/* A full buffer: the serial, NUL padded to 20 bytes. */
	ck_assert_uint_eq(get_id(20, false, id, &used), S_OK);
	ck_assert_uint_eq(used, 21);
	ck_assert_mem_eq(id, want, 20);
	/* Status in the same descriptor as the id. */
	ck_assert_uint_eq(get_id(20, true, id, &used), S_OK);
	ck_assert_uint_eq(used, 21);
	ck_assert_mem_eq(id, want, 20);
	ck_assert_uint_eq(id[20], S_OK);
	/* A short buffer gets the id truncated. */
	ck_assert_uint_eq(get_id(8, false, id, &used), S_OK);
	ck_assert_uint_eq(used, 9);
	ck_assert_mem_eq(id, serial, 8);
	ck_assert_uint_eq(get_id(1, false, id, &used), S_OK);
	ck_assert_uint_eq(used, 2);
	ck_assert_uint_eq(id[0], 'v');
	/* A bigger buffer gets the 20 bytes and nothing else. */
	ck_assert_uint_eq(get_id(32, false, id, &used), S_OK);
	ck_assert_uint_ge(used, 21);
	ck_assert_mem_eq(id, want, 20);
	for (unsigned i = 20; i < 32; i++)
		ck_assert_msg(id[i] == 0xaa, "GET_ID wrote byte %u", i);
	bt_close();
}
END_TEST

START_TEST(test_get_id_full_serial)
{
	static const char serial[] = "ABCDEFGHIJKLMNOPQRST"; /* 20 bytes */
	struct bopt o = {.serial = serial};
	unsigned char id[64];
	uint32_t used;

	if (!bt_open(ENG(_i), &o))
		return;
	ck_assert_uint_eq(get_id(20, false, id, &used), S_OK);
	ck_assert_uint_eq(used, 21);
	ck_assert_mem_eq(id, serial, 20);
	ck_assert_uint_eq(get_id(19, true, id, &used), S_OK);
	ck_assert_uint_eq(used, 20);
	ck_assert_mem_eq(id, serial, 19);
	ck_assert_uint_eq(id[19], S_OK);
	bt_close();
}
END_TEST

START_TEST(test_get_id_no_serial)
{
	struct bopt o = {0};
	unsigned char id[64], zero[20] = {0};
	uint32_t used;

	if (!bt_open(ENG(_i), &o))
		return;
	ck_assert_uint_eq(get_id(20, false, id, &used), S_OK);
	ck_assert_uint_eq(used, 21);
	ck_assert_mem_eq(id, zero, 20);
	bt_close();
}
END_TEST

/* ---- FLUSH ---- */

START_TEST(test_flush)
{
	struct bopt o = {.inject = true};
	struct rq r;
	uint32_t used;
	unsigned c0;

	if (!bt_open(ENG(_i), &o))
		return;
	ck_assert(T.offered & BIT(VIRTIO_BLK_F_FLUSH));
	ck_assert(T.f.features & BIT(VIRTIO_BLK_F_FLUSH));
	good_roundtrip(0, 30, 4096, 2);
	rq_init(&r, T_FLUSH, 0);
	rq_status(&r);
	ck_assert_uint_eq(rq_run(&r, 0, DF_DIRECT, &used), S_OK);
	ck_assert_uint_eq(used, 1);
	/* The hook saw the flush, with range 0. */
	ck_assert_uint_ge(T.inj.calls, 1);
	ck_assert_uint_eq(T.inj.log[T.inj.calls - 1].type, T_FLUSH);
	ck_assert_uint_eq(T.inj.log[T.inj.calls - 1].sector, 0);
	ck_assert_uint_eq(T.inj.log[T.inj.calls - 1].bytes, 0);
	/* The backend fails the flush: IOERR. */
	T.inj.types = 1u << T_FLUSH;
	T.inj.err = -EIO;
	c0 = T.inj.hits;
	rq_init(&r, T_FLUSH, 0);
	rq_status(&r);
	ck_assert_uint_eq(rq_run(&r, 0, DF_INDIRECT, &used), S_IOERR);
	ck_assert_uint_ge(used, 1);
	ck_assert_uint_eq(T.inj.hits, c0 + 1);
	/* Writes are not flushes: unaffected. */
	good_roundtrip(0, 40, 512, 3);
	/* Healed. */
	T.inj.err = 0;
	rq_init(&r, T_FLUSH, 0);
	rq_status(&r);
	ck_assert_uint_eq(rq_run(&r, 0, DF_MIXED, &used), S_OK);
	bt_close();
}
END_TEST

/* ---- DISCARD / WRITE_ZEROES ---- */

static uint8_t dwz(uint32_t type,
		   const struct virtio_blk_discard_write_zeroes *s, unsigned n,
		   uint32_t extra, uint32_t *used)
{
	size_t len = n * sizeof(*s) + extra;
	unsigned char *b = xmalloc(len);
	struct rq r;

	memset(b, 0, len);
	memcpy(b, s, n * sizeof(*s));
	rq_init(&r, type, 0);
	rq_out(&r, put(b, len, 16), (uint32_t)len);
	rq_status(&r);
	free(b);
	return rq_run(&r, 0, DF_DIRECT, used);
}

/* Read sectors [first, first + n) through the device. */
static unsigned char *dev_read(uint64_t first, uint32_t n)
{
	uint32_t len = n * SECT;
	unsigned char *b = xmalloc(len);
	vmmio_gpa_t g;

	tg_reset_alloc(&T.f.g);
	g = wbuf(len, 0xcc);
	ck_assert_uint_eq(io_simple(T_IN, first, g, len), S_OK);
	tg_read(&T.f.g, g, b, len);
	return b;
}

static bool punch_supported(void)
{
	char p[] = "/tmp/vmmio-punch-XXXXXX";
	int fd = mkstemp(p);
	char buf[8192];
	bool ok;

	ck_assert_int_ge(fd, 0);
	unlink(p);
	memset(buf, 1, sizeof(buf));
	ck_assert_int_eq(pwrite(fd, buf, sizeof(buf), 0), sizeof(buf));
	ok = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
		       4096) == 0;
	close(fd);
	if (!ok)
		fprintf(stderr,
			"SKIP: /tmp cannot punch holes (%s); discard "
			"not checked for holes\n",
			strerror(errno));
	return ok;
}

/* The neighbours of [first, first + n) still hold the pattern. */
static void neighbours_intact(uint64_t first, uint32_t n)
{
	unsigned char *b = dev_read(first - 1, 1);

	expect_pat(b, (first - 1) * SECT, SECT);
	free(b);
	b = dev_read(first + n, 1);
	expect_pat(b, (first + n) * SECT, SECT);
	free(b);
}

START_TEST(test_discard)
{
	struct virtio_blk_discard_write_zeroes s[2] = {
	    {.sector = 64, .num_sectors = 128}, /* 64 KiB at 32 KiB */
	    {.sector = 1024, .num_sectors = 16},
	};
	struct bopt o = {0};
	bool holes = punch_supported();
	struct stat st0, st1;
	unsigned char *b;
	uint32_t used;
	off_t data;

	if (!bt_open(ENG(_i), &o))
		return;
	ck_assert(T.offered & BIT(VIRTIO_BLK_F_DISCARD));
	ck_assert_int_eq(fstat(T.img, &st0), 0);
	ck_assert_uint_eq(dwz(T_DISCARD, s, 2, 0, &used), S_OK);
	ck_assert_uint_eq(used, 1);
	for (unsigned k = 0; k < 2; k++) {
		b = dev_read(s[k].sector, s[k].num_sectors);
		expect_zero(b, s[k].num_sectors * SECT);
		free(b);
		b = xmalloc(s[k].num_sectors * SECT);
		img_read(s[k].sector * SECT, b, s[k].num_sectors * SECT);
		expect_zero(b, s[k].num_sectors * SECT);
		free(b);
		neighbours_intact(s[k].sector, s[k].num_sectors);
	}
	if (holes) {
		/* A hole in the file, not zeros written. */
		data = lseek(T.img, 64 * SECT, SEEK_DATA);
		ck_assert_int_ge(data, (64 + 128) * SECT);
		ck_assert_int_eq(lseek(T.img, 64 * SECT, SEEK_HOLE), 64 * SECT);
		ck_assert_int_eq(fstat(T.img, &st1), 0);
		ck_assert_int_lt(st1.st_blocks, st0.st_blocks);
	}
	bt_close();
}
END_TEST

/* Exactly max_discard_seg segments, and one of max_discard_sectors. */
START_TEST(test_discard_limits)
{
	/* Sparse 2 GiB + 1 MiB: room for a segment of 2^21 sectors. */
	struct bopt o = {.bytes = (2ull << 30) + (1u << 20), .sparse = true};
	struct virtio_blk_discard_write_zeroes s[VMMIO_BLK_DISCARD_SEG_MAX + 1];
	uint32_t max_seg, max_sect, wz_seg, wz_sect, used;
	unsigned char *b;

	if (!bt_open(ENG(_i), &o))
		return;
	df_config(&T.f, CFG(max_discard_sectors), &max_sect, 4);
	df_config(&T.f, CFG(max_discard_seg), &max_seg, 4);
	df_config(&T.f, CFG(max_write_zeroes_sectors), &wz_sect, 4);
	df_config(&T.f, CFG(max_write_zeroes_seg), &wz_seg, 4);
	ck_assert_uint_eq(max_sect, VMMIO_BLK_DISCARD_SECTORS_MAX);
	ck_assert_uint_eq(max_seg, VMMIO_BLK_DISCARD_SEG_MAX);
	ck_assert_uint_eq(wz_sect, VMMIO_BLK_DISCARD_SECTORS_MAX);
	ck_assert_uint_eq(wz_seg, VMMIO_BLK_DISCARD_SEG_MAX);
	/* Write something to see the discard happen. */
	good_roundtrip(0, 8, 4096, 4);
	memset(s, 0, sizeof(s));
	for (unsigned k = 0; k < max_seg; k++)
		s[k] = (struct virtio_blk_discard_write_zeroes){
		    .sector = 8u * k, .num_sectors = 8};
	ck_assert_uint_eq(dwz(T_DISCARD, s, max_seg, 0, &used), S_OK);
	ck_assert_uint_eq(dwz(T_WZ, s, wz_seg, 0, &used), S_OK);
	b = dev_read(8, 8);
	expect_zero(b, 4096);
	free(b);
	/* One segment of the largest size, and one sector more. */
	s[0] = (struct virtio_blk_discard_write_zeroes){
	    .sector = 0, .num_sectors = max_sect};
	ck_assert_uint_eq(dwz(T_DISCARD, s, 1, 0, &used), S_OK);
	s[0].num_sectors = max_sect + 1;
	ck_assert_uint_eq(dwz(T_DISCARD, s, 1, 0, &used), S_IOERR);
	s[0].num_sectors = wz_sect + 1;
	ck_assert_uint_eq(dwz(T_WZ, s, 1, 0, &used), S_IOERR);
	bt_close();
}
END_TEST

START_TEST(test_write_zeroes)
{
	struct virtio_blk_discard_write_zeroes s[3] = {
	    {.sector = 200, .num_sectors = 17},
	    {.sector = 300,
	     .num_sectors = 8,
	     .flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP},
	    {.sector = 401, .num_sectors = 1},
	};
	struct bopt o = {0};
	unsigned char *b;
	uint32_t used;

	if (!bt_open(ENG(_i), &o))
		return;
	ck_assert(T.offered & BIT(VIRTIO_BLK_F_WRITE_ZEROES));
	/* One segment, then two (one with UNMAP) in one request. */
	ck_assert_uint_eq(dwz(T_WZ, s, 1, 0, &used), S_OK);
	ck_assert_uint_eq(used, 1);
	ck_assert_uint_eq(dwz(T_WZ, s + 1, 2, 0, &used), S_OK);
	for (unsigned k = 0; k < 3; k++) {
		b = dev_read(s[k].sector, s[k].num_sectors);
		expect_zero(b, s[k].num_sectors * SECT);
		free(b);
		b = xmalloc(s[k].num_sectors * SECT);
		img_read(s[k].sector * SECT, b, s[k].num_sectors * SECT);
		expect_zero(b, s[k].num_sectors * SECT);
		free(b);
		neighbours_intact(s[k].sector, s[k].num_sectors);
	}
	bt_close();
}
END_TEST

/* Bad discard / write-zeroes lists. */
enum dwz_bad {
	DB_TOO_MANY,   /* max_*_seg + 1 segments */
	DB_PAST_CAP,   /* [cap - 1, +2) */
	DB_AT_CAP,     /* [cap, +1) */
	DB_U64MAX,     /* [UINT64_MAX, +1) */
	DB_WRAP_SUM,   /* [UINT64_MAX - 1, +4): sector + n wraps */
	DB_WRAP_BYTES, /* [2^55, +8): sector * 512 wraps to byte 0 */
	DB_FLAGS_RES,  /* reserved flag bit 1 */
	DB_FLAGS_HIGH, /* reserved flag bit 31 */
	DB_UNMAP,      /* UNMAP on a DISCARD */
	DB_RAGGED,     /* payload not a multiple of 16 bytes */
	DB_LATE_BAD,   /* good segment, then one past capacity */
	DB__COUNT
};

static const char *const db_names[DB__COUNT] = {
    [DB_TOO_MANY] = "too_many_segments",   [DB_PAST_CAP] = "past_capacity",
    [DB_AT_CAP] = "at_capacity",	   [DB_U64MAX] = "sector_u64max",
    [DB_WRAP_SUM] = "sector_plus_n_wraps", [DB_WRAP_BYTES] = "bytes_wrap_2p55",
    [DB_FLAGS_RES] = "reserved_flag",	   [DB_FLAGS_HIGH] = "reserved_flag_31",
    [DB_UNMAP] = "unmap_on_discard",	   [DB_RAGGED] = "ragged_payload",
    [DB_LATE_BAD] = "late_bad_segment",
};

/* _i: (case * 2 + discard/wz) * NENG + engine. */
START_TEST(test_dwz_bad)
{
	enum dwz_bad c = (enum dwz_bad)(_i / NENG / 2);
	uint32_t type = (_i / NENG) % 2 ? T_WZ : T_DISCARD;
	struct virtio_blk_discard_write_zeroes s[VMMIO_BLK_DISCARD_SEG_MAX + 8];
	unsigned n = 1, extra = 0;
	uint32_t max_seg = 0, used;
	struct bopt o = {0};
	unsigned char *snap;
	bool flags_row = false;
	uint8_t st;

	if (c == DB_UNMAP && type == T_WZ)
		return; /* UNMAP is valid on WRITE_ZEROES */
	if (!bt_open(ENG(_i), &o))
		return;
	df_config(&T.f,
		  type == T_WZ ? CFG(max_write_zeroes_seg)
			       : CFG(max_discard_seg),
		  &max_seg, 4);
	ck_assert_uint_ge(max_seg, 1);
	ck_assert_uint_lt(max_seg, NELEM(s));
	memset(s, 0, sizeof(s));
	s[0] = (struct virtio_blk_discard_write_zeroes){.sector = 16,
							.num_sectors = 8};
	switch (c) {
	case DB_TOO_MANY:
		n = max_seg + 1;
		for (unsigned k = 0; k < n; k++)
			s[k] = (struct virtio_blk_discard_write_zeroes){
			    .sector = 16u + 8u * k, .num_sectors = 1};
		break;
	case DB_PAST_CAP:
		s[0].sector = IMG_SECTORS - 1;
		s[0].num_sectors = 2;
		break;
	case DB_AT_CAP:
		s[0].sector = IMG_SECTORS;
		s[0].num_sectors = 1;
		break;
	case DB_U64MAX:
		s[0].sector = UINT64_MAX;
		s[0].num_sectors = 1;
		break;
	case DB_WRAP_SUM:
		s[0].sector = UINT64_MAX - 1;
		s[0].num_sectors = 4;
		break;
	case DB_WRAP_BYTES:
		s[0].sector = 1ull << 55;
		s[0].num_sectors = 8;
		break;
	case DB_FLAGS_RES:
		s[0].flags = 2;
		flags_row = true;
		break;
	case DB_FLAGS_HIGH:
		s[0].flags = 0x80000000u;
		flags_row = true;
		break;
	case DB_UNMAP:
		s[0].flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
		flags_row = true;
		break;
	case DB_RAGGED:
		extra = 8;
		break;
	case DB_LATE_BAD:
		n = 2;
		s[1].sector = IMG_SECTORS - 4;
		s[1].num_sectors = 8;
		break;
	default:
		break;
	}
	snap = img_snapshot();
	st = dwz(type, s, n, extra, &used);
	/* virtio 1.2 §5.2.6.2 wants UNSUPP for bad flags, blk.h IOERR for a
	 * bad list: either is a refusal. */
	ck_assert_msg(st == S_IOERR || (flags_row && st == S_UNSUPP),
		      "%s %s: status %u, want IOERR",
		      type == T_WZ ? "WRITE_ZEROES" : "DISCARD", db_names[c],
		      st);
	ck_assert_uint_ge(used, 1);
	if (c != DB_LATE_BAD)
		img_same(snap);
	else
		free(snap);
	good_roundtrip(0, 16, 4096, 8);
	bt_close();
}
END_TEST

/* ---- multi-segment and indirect ---- */

/* Split @total into @n pieces of random sizes (>= 1). */
static void split_sizes(unsigned *seed, uint32_t total, unsigned n,
			uint32_t *out)
{
	uint32_t left = total;

	for (unsigned k = 0; k + 1 < n; k++) {
		uint32_t room = left - (n - 1 - k);
		uint32_t want = 1 + tg_rand(seed) % (2 * total / n);

		out[k] = want < room ? want : room;
		left -= out[k];
	}
	out[n - 1] = left;
}

/* _i: layout * NENG + engine. */
START_TEST(test_multi_segment)
{
	static const uint32_t wsz[16] = {1,   511,  100,  924,	4096, 3,
					 509, 1000, 24,	  2048, 7,    505,
					 512, 1536, 2000, 48}; /* 27 sectors */
	enum df_layout l = (enum df_layout)(_i / NENG);
	struct virtio_blk_outhdr h = {.type = T_OUT, .sector = 77};
	uint32_t total = 0, rsz[13], used, off = 0;
	unsigned char *src, *back;
	unsigned seed = 21u + (unsigned)_i;
	struct bopt o = {0};
	vmmio_gpa_t hg;
	struct rq r;

	if (!bt_open(ENG(_i), &o))
		return;
	for (unsigned k = 0; k < 16; k++)
		total += wsz[k];
	ck_assert_uint_eq(total % SECT, 0);
	src = xmalloc(total);
	back = xmalloc(total + 1);
	rnd_fill(&seed, src, total);
	/* OUT: header split 7 + 9, 16 data pieces, status separate. */
	memset(&r, 0, sizeof(r));
	hg = put(&h, sizeof(h), 16);
	rq_out(&r, hg, 7);
	rq_out(&r, hg + 7, 9);
	for (unsigned k = 0; k < 16; k++) {
		rq_out(&r, put(src + off, wsz[k], 1), wsz[k]);
		off += wsz[k];
	}
	rq_status(&r);
	ck_assert_uint_eq(rq_run(&r, 0, l, &used), S_OK);
	ck_assert_uint_eq(used, 1);
	img_read(77 * SECT, back, total);
	ck_assert_mem_eq(back, src, total);
	/* IN: header in one piece, 13 data pieces, the status byte in the
	 * same descriptor as the end of the data. */
	tg_reset_alloc(&T.f.g);
	split_sizes(&seed, total, 13, rsz);
	rq_init(&r, T_IN, 77);
	for (unsigned k = 0; k < 13; k++) {
		uint32_t len = rsz[k] + (k == 12 ? 1 : 0);

		rq_in(&r, wbuf(len, 0x3c), len);
	}
	ck_assert_uint_eq(rq_run(&r, 0, l, &used), S_OK);
	ck_assert_uint_eq(used, total + 1);
	off = 0;
	for (unsigned k = 0; k < 13; k++) {
		tg_read(&T.f.g, r.b[1 + k].gpa, back + off, r.b[1 + k].len);
		off += rsz[k];
	}
	ck_assert_mem_eq(back, src, total);
	ck_assert_uint_eq(back[total], S_OK);
	/* seg_max data segments of one sector each are accepted. */
	tg_reset_alloc(&T.f.g);
	{
		uint32_t seg_max = 0;

		df_config(&T.f, CFG(seg_max), &seg_max, 4);
		ck_assert_uint_eq(seg_max, VMMIO_BLK_SEG_MAX);
		rq_init(&r, T_IN, 200);
		for (unsigned k = 0; k < seg_max; k++)
			rq_in(&r, wbuf(SECT, 0), SECT);
		rq_status(&r);
		ck_assert_uint_eq(rq_run(&r, 0, l, &used), S_OK);
		ck_assert_uint_eq(used, seg_max * SECT + 1);
		for (unsigned k = 0; k < seg_max; k += 25) {
			tg_read(&T.f.g, r.b[1 + k].gpa, back, SECT);
			expect_pat(back, (200u + (uint64_t)k) * SECT, SECT);
		}
	}
	free(src);
	free(back);
	bt_close();
}
END_TEST

/* ---- queue depth: 64 requests in flight ---- */

#define DEPTH 64
static struct rq depth_rq[DEPTH];

START_TEST(test_depth)
{
	static unsigned char data[DEPTH][4096];
	struct bopt o = {0};
	unsigned seed = 64, seen[DEPTH] = {0};
	vmmio_gpa_t dg[DEPTH];
	unsigned char back[4096];

	if (!bt_open(ENG(_i), &o))
		return;
	ck_assert_int_eq(vmmio_blk_fd(T.blk) >= 0,
			 T.engine == VMMIO_BLK_ENGINE_URING);
	for (unsigned k = 0; k < DEPTH; k++) {
		struct rq *r = &depth_rq[k];
		/* Even: writes at 100 + 8k; odd: reads at 2000 + 8k. */
		uint64_t sector = k % 2 ? 2000u + 8u * k : 100u + 8u * k;

		rq_init(r, k % 2 ? T_IN : T_OUT, sector);
		if (k % 2) {
			dg[k] = wbuf(4096, 0xee);
			rq_in(r, dg[k], 4096);
		} else {
			rnd_fill(&seed, data[k], 4096);
			dg[k] = put(data[k], 4096, 16);
			rq_out(r, dg[k], 4096);
		}
		rq_status(r);
		rq_submit(r, 0, (enum df_layout)(k % 3));
	}
	if (T.engine == VMMIO_BLK_ENGINE_SYNC) {
		/* Completed inside the notify calls. */
		ck_assert_uint_eq(vmmio_blk_inflight(T.blk), 0);
		ck_assert_uint_eq(vmmio_drv_vq_used_pending(&T.f.vq[0]), DEPTH);
	} else {
		/* Really in flight together, waiting for vmmio_blk_process. */
		ck_assert_uint_ge(vmmio_blk_inflight(T.blk), 1);
		ck_assert_uint_le(vmmio_blk_inflight(T.blk), DEPTH);
	}
	for (unsigned n = 0; n < DEPTH; n++) {
		uint32_t used;
		struct rq *r = rq_reap(0, &used);
		unsigned k = (unsigned)(r - depth_rq);

		ck_assert_uint_lt(k, DEPTH);
		ck_assert_uint_eq(seen[k]++, 0);
		ck_assert_uint_eq(rq_sbyte(r), S_OK);
		ck_assert_uint_eq(used, k % 2 ? 4097 : 1);
	}
	for (unsigned k = 0; k < DEPTH; k++) {
		if (k % 2) {
			tg_read(&T.f.g, dg[k], back, 4096);
			expect_pat(back, (2000u + 8u * k) * SECT, 4096);
		} else {
			img_read((100u + 8u * k) * SECT, back, 4096);
			ck_assert_mem_eq(back, data[k], 4096);
		}
	}
	ck_assert_uint_eq(vmmio_blk_inflight(T.blk), 0);
	bt_close();
}
END_TEST

/* ---- io_uring: completions out of submission order ---- */

#define OOO_SMALL 24
static struct rq ooo_rq[OOO_SMALL + 1];

START_TEST(test_out_of_order)
{
	const uint32_t big = 512u * 1024;
	struct bopt o = {0};
	unsigned attempts, reordered = 0;
	unsigned char *b = xmalloc(big);
	struct statfs sfs;

	if (!bt_open(VMMIO_BLK_ENGINE_URING, &o)) {
		free(b);
		return;
	}
	/* Reads only go asynchronous where the page cache can be dropped. */
	ck_assert_int_eq(fstatfs(T.img, &sfs), 0);
	if (sfs.f_type == TMPFS_MAGIC) {
		fprintf(stderr, "SKIP: /tmp is tmpfs, reads never wait\n");
		free(b);
		bt_close();
		return;
	}
	for (attempts = 0; attempts < 40 && reordered == 0; attempts++) {
		unsigned order[OOO_SMALL + 1];
		vmmio_gpa_t g[OOO_SMALL + 1];

		/* Cold cache for the big read, warm for the small ones. */
		ck_assert_int_eq(fdatasync(T.img), 0);
		ck_assert_int_eq(
		    posix_fadvise(T.img, 0, 0, POSIX_FADV_DONTNEED), 0);
		img_read(0, b, 64 * 1024);
		tg_reset_alloc(&T.f.g);
		for (unsigned k = 0; k <= OOO_SMALL; k++) {
			uint32_t len = k ? SECT : big;
			uint64_t sector = k ? (uint64_t)k * 4 : 2048;

			rq_init(&ooo_rq[k], T_IN, sector);
			g[k] = wbuf(len, 0);
			rq_in(&ooo_rq[k], g[k], len);
			rq_status(&ooo_rq[k]);
			rq_submit(&ooo_rq[k], 0, DF_DIRECT);
		}
		for (unsigned n = 0; n <= OOO_SMALL; n++) {
			uint32_t used;
			struct rq *r = rq_reap(0, &used);

			order[n] = (unsigned)(r - ooo_rq);
			ck_assert_uint_le(order[n], OOO_SMALL);
			ck_assert_uint_eq(rq_sbyte(r), S_OK);
			ck_assert_uint_eq(used, r->wlen);
			if (order[n] != n)
				reordered++;
		}
		for (unsigned k = 0; k <= OOO_SMALL; k++) {
			uint32_t len = k ? SECT : big;

			tg_read(&T.f.g, g[k], b, len);
			expect_pat(b, k ? (uint64_t)k * 4 * SECT : 2048u * SECT,
				   len);
		}
	}
	ck_assert_msg(reordered > 0,
		      "io_uring engine completed %u batches strictly in "
		      "submission order",
		      attempts);
	free(b);
	bt_close();
}
END_TEST

/* ---- injected backend errors fail only their request ---- */

#define NINJ 8
static struct rq inj_rq[NINJ];

/* _i: (EIO / ENOSPC) * NENG + engine. */
START_TEST(test_inject)
{
	static unsigned char data[NINJ][4096];
	int err = _i / NENG ? -ENOSPC : -EIO;
	struct bopt o = {.inject = true};
	unsigned seed = 17, bad = 2;
	unsigned char back[4096];
	vmmio_gpa_t g[NINJ];
	bool found = false;

	if (!bt_open(ENG(_i), &o))
		return;
	T.inj.types = 1u << T_OUT | 1u << T_IN | 1u << T_WZ;
	T.inj.lo = 384 + 8 * bad;
	T.inj.hi = T.inj.lo + 8;
	T.inj.err = err;
	/* Eight writes in flight; the third meets the error. */
	for (unsigned k = 0; k < NINJ; k++) {
		rnd_fill(&seed, data[k], 4096);
		rq_init(&inj_rq[k], T_OUT, 384 + 8 * k);
		rq_out(&inj_rq[k], put(data[k], 4096, 16), 4096);
		rq_status(&inj_rq[k]);
		rq_submit(&inj_rq[k], 0, (enum df_layout)(k % 3));
	}
	for (unsigned n = 0; n < NINJ; n++) {
		struct rq *r = rq_reap(0, NULL);
		unsigned k = (unsigned)(r - inj_rq);

		ck_assert_uint_lt(k, NINJ);
		ck_assert_msg(rq_sbyte(r) == (k == bad ? S_IOERR : S_OK),
			      "write %u: status %u", k, rq_sbyte(r));
	}
	for (unsigned k = 0; k < NINJ; k++) {
		img_read((384 + 8 * k) * SECT, back, 4096);
		if (k == bad)
			expect_pat(back, (384 + 8 * k) * SECT, 4096);
		else
			ck_assert_mem_eq(back, data[k], 4096);
	}
	/* The hook saw that write with its range. */
	for (unsigned c = 0; c < T.inj.calls && c < NELEM(T.inj.log); c++)
		if (T.inj.log[c].type == T_OUT &&
		    T.inj.log[c].sector == 384 + 8 * bad &&
		    T.inj.log[c].bytes == 4096)
			found = true;
	ck_assert(found);
	ck_assert_uint_eq(T.inj.hits, 1);
	/* Reads back: the same one fails, the others bring their data. */
	tg_reset_alloc(&T.f.g);
	for (unsigned k = 0; k < NINJ; k++) {
		rq_init(&inj_rq[k], T_IN, 384 + 8 * k);
		g[k] = wbuf(4096, 0);
		rq_in(&inj_rq[k], g[k], 4096);
		rq_status(&inj_rq[k]);
		rq_submit(&inj_rq[k], 0, DF_DIRECT);
	}
	for (unsigned n = 0; n < NINJ; n++) {
		uint32_t used;
		struct rq *r = rq_reap(0, &used);
		unsigned k = (unsigned)(r - inj_rq);

		ck_assert_uint_lt(k, NINJ);
		ck_assert_msg(rq_sbyte(r) == (k == bad ? S_IOERR : S_OK),
			      "read %u: status %u", k, rq_sbyte(r));
		if (k != bad) {
			ck_assert_uint_eq(used, 4097);
			tg_read(&T.f.g, g[k], back, 4096);
			ck_assert_mem_eq(back, data[k], 4096);
		}
	}
	/* WRITE_ZEROES meets it too; the range keeps its bytes. */
	{
		struct virtio_blk_discard_write_zeroes s = {
		    .sector = 384 + 8 * bad, .num_sectors = 8};
		uint32_t used;

		ck_assert_uint_eq(dwz(T_WZ, &s, 1, 0, &used), S_IOERR);
		img_read((384 + 8 * bad) * SECT, back, 4096);
		expect_pat(back, (384 + 8 * bad) * SECT, 4096);
	}
	/* Outside the range nothing fails. */
	good_roundtrip(0, 0, 4096, 12);
	bt_close();
}
END_TEST

/* ---- multiqueue ---- */

/* _i: num_queues (1, 2, 4) * NENG + engine. */
START_TEST(test_mq)
{
	static const uint16_t nqs[] = {1, 2, 4};
	static struct rq r[DF_MAXQ][2];
	uint16_t nq = nqs[_i / NENG], cfg_nq = 0;
	struct bopt o = {.nq = nq};
	unsigned char d[DF_MAXQ][1024], back[1024];
	unsigned seed = 5;

	if (!bt_open(ENG(_i), &o))
		return;
	ck_assert_uint_eq(vmmio_dev_num_queues(vmmio_blk_dev(T.blk)), nq);
	ck_assert_uint_eq(vmmio_drv_queue_max(&T.f.drv, nq), 0);
	if (nq > 1) {
		ck_assert(T.offered & BIT(VIRTIO_BLK_F_MQ));
		df_config(&T.f, CFG(num_queues), &cfg_nq, 2);
		ck_assert_uint_eq(cfg_nq, nq);
	} else {
		ck_assert(!(T.offered & BIT(VIRTIO_BLK_F_MQ)));
	}
	/* A write on every queue at once... */
	for (unsigned q = 0; q < nq; q++) {
		rnd_fill(&seed, d[q], sizeof(d[q]));
		rq_init(&r[q][0], T_OUT, 500 + 2 * q);
		rq_out(&r[q][0], put(d[q], sizeof(d[q]), 16), sizeof(d[q]));
		rq_status(&r[q][0]);
		rq_submit(&r[q][0], q, DF_DIRECT);
	}
	for (unsigned q = 0; q < nq; q++) {
		ck_assert_ptr_eq(rq_reap(q, NULL), &r[q][0]);
		ck_assert_uint_eq(rq_sbyte(&r[q][0]), S_OK);
		img_read((500 + 2 * q) * SECT, back, sizeof(back));
		ck_assert_mem_eq(back, d[q], sizeof(back));
	}
	/* ... read back on the next queue. */
	for (unsigned q = 0; q < nq; q++) {
		unsigned rq2 = (q + 1) % nq;

		rq_init(&r[q][1], T_IN, 500 + 2 * q);
		rq_in(&r[q][1], wbuf(1024, 0), 1024);
		rq_status(&r[q][1]);
		rq_submit(&r[q][1], rq2, DF_INDIRECT);
	}
	for (unsigned q = 0; q < nq; q++) {
		unsigned rq2 = (q + 1) % nq;
		uint32_t used;

		ck_assert_ptr_eq(rq_reap(rq2, &used), &r[q][1]);
		ck_assert_uint_eq(rq_sbyte(&r[q][1]), S_OK);
		ck_assert_uint_eq(used, 1025);
		tg_read(&T.f.g, r[q][1].b[1].gpa, back, sizeof(back));
		ck_assert_mem_eq(back, d[q], sizeof(back));
	}
	bt_close();
}
END_TEST

/* O_DIRECT backing: guest buffers of any alignment and length still work
 * (the guest knows nothing of the host's alignment rules). */
START_TEST(test_direct)
{
	static const uint32_t pieces[] = {100, 412, 3, 1021, 512, 2048};
	struct bopt o = {.direct = true};
	unsigned char src[4096], back[4096 + 1];
	unsigned seed = 41;
	uint32_t used, off = 0;
	char fails[256] = "";
	struct rq r;
	vmmio_gpa_t g;
	uint8_t st;

	if (!bt_open(ENG(_i), &o))
		return;
	/* Page-aligned buffer. */
	rnd_fill(&seed, src, sizeof(src));
	g = tg_alloc(&T.f.g, sizeof(src), 4096);
	tg_write(&T.f.g, g, src, sizeof(src));
	ck_assert_uint_eq(io(T_OUT, 64, g, sizeof(src), DF_DIRECT, &used),
			  S_OK);
	img_read(64 * SECT, back, sizeof(src));
	ck_assert_mem_eq(back, src, sizeof(src));
	/* Read back in pieces of odd lengths at odd addresses, the status
	 * sharing the last. */
	rq_init(&r, T_IN, 64);
	for (unsigned k = 0; k < NELEM(pieces); k++) {
		uint32_t len = pieces[k] + (k + 1 == NELEM(pieces) ? 1 : 0);

		(void)tg_alloc(&T.f.g, 1, 1);
		rq_in(&r, wbuf(len, 0), len);
	}
	st = rq_run(&r, 0, DF_INDIRECT, &used);
	for (unsigned k = 0; st == S_OK && k < NELEM(pieces); k++) {
		tg_read(&T.f.g, r.b[1 + k].gpa, back + off, r.b[1 + k].len);
		off += pieces[k];
	}
	if (st != S_OK || memcmp(back, src, sizeof(src)))
		snprintf(fails, sizeof(fails), "odd pieces IN: status %u; ",
			 st);
	/* Write from an odd address. */
	rnd_fill(&seed, src, sizeof(src));
	(void)tg_alloc(&T.f.g, 3, 1);
	g = put(src, sizeof(src), 1);
	st = io(T_OUT, 72, g, sizeof(src), DF_DIRECT, &used);
	img_read(72 * SECT, back, sizeof(src));
	if (st != S_OK || memcmp(back, src, sizeof(src)))
		snprintf(fails + strlen(fails), sizeof(fails) - strlen(fails),
			 "odd-address OUT: status %u; ", st);
	/* A page-aligned read sees what the misaligned write wrote. */
	g = tg_alloc(&T.f.g, sizeof(src), 4096);
	st = io(T_IN, 72, g, sizeof(src), DF_DIRECT, &used);
	tg_read(&T.f.g, g, back, sizeof(src));
	if (st != S_OK || memcmp(back, src, sizeof(src)))
		snprintf(fails + strlen(fails), sizeof(fails) - strlen(fails),
			 "aligned IN after odd OUT: status %u", st);
	ck_assert_msg(!fails[0], "direct: %s", fails);
	bt_close();
}
END_TEST

/* ---- configuration space and features ---- */

START_TEST(test_config)
{
	struct bopt o = {0};
	uint64_t cap = 0;
	uint32_t blk_size = 0, seg_max = 0, size_max = 0;

	if (!bt_open(ENG(_i), &o))
		return;
	ck_assert_uint_eq(vmmio_drv_device_id(&T.f.drv), VIRTIO_ID_BLOCK);
	ck_assert_int_eq(vmmio_blk_engine(T.blk), T.engine);
	ck_assert_int_eq(vmmio_blk_fd(T.blk) >= 0,
			 T.engine == VMMIO_BLK_ENGINE_URING);
	ck_assert_uint_eq(vmmio_blk_capacity(T.blk), IMG_SECTORS);
	df_config(&T.f, CFG(capacity), &cap, 8);
	ck_assert_uint_eq(cap, IMG_SECTORS);
	df_config(&T.f, CFG(blk_size), &blk_size, 4);
	ck_assert_uint_eq(blk_size, 512);
	df_config(&T.f, CFG(seg_max), &seg_max, 4);
	ck_assert_uint_eq(seg_max, VMMIO_BLK_SEG_MAX);
	df_config(&T.f, CFG(size_max), &size_max, 4);
	ck_assert_uint_eq(size_max, VMMIO_BLK_SIZE_MAX);
	ck_assert_msg((T.offered & BASE_FEATURES) == BASE_FEATURES,
		      "offered %#llx lacks %#llx",
		      (unsigned long long)T.offered,
		      (unsigned long long)(BASE_FEATURES & ~T.offered));
	ck_assert(!(T.offered & BIT(VIRTIO_BLK_F_RO)));
	ck_assert(!(T.offered & BIT(VIRTIO_BLK_F_MQ)));
	ck_assert(!(T.offered & BIT(VIRTIO_BLK_F_SECURE_ERASE)));
	ck_assert(!(T.offered & BIT(VIRTIO_BLK_F_SCSI)));
	ck_assert(!(T.offered & BIT(VIRTIO_BLK_F_BARRIER)));
	/* The driver accepted everything offered. */
	ck_assert_uint_eq(vmmio_dev_features(vmmio_blk_dev(T.blk)), T.offered);
	bt_close();
}
END_TEST

/* Odd image sizes: capacity follows the file. */
START_TEST(test_capacity)
{
	struct bopt o = {.bytes = 512 * 3};
	uint64_t cap = 0;
	unsigned char b[SECT];
	vmmio_gpa_t g;

	if (!bt_open(ENG(_i), &o))
		return;
	df_config(&T.f, CFG(capacity), &cap, 8);
	ck_assert_uint_eq(cap, 3);
	g = wbuf(2 * SECT, 0);
	ck_assert_uint_eq(io_simple(T_IN, 2, g, SECT), S_OK);
	tg_read(&T.f.g, g, b, SECT);
	expect_pat(b, 2 * SECT, SECT);
	ck_assert_uint_eq(io_simple(T_IN, 3, g, SECT), S_IOERR);
	ck_assert_uint_eq(io_simple(T_IN, 2, g, 2 * SECT), S_IOERR);
	bt_close();
}
END_TEST

static const uint64_t off_bits[] = {
    BIT(VIRTIO_BLK_F_SIZE_MAX),
    BIT(VIRTIO_BLK_F_SEG_MAX),
    BIT(VIRTIO_BLK_F_BLK_SIZE),
    BIT(VIRTIO_BLK_F_FLUSH),
    BIT(VIRTIO_BLK_F_CONFIG_WCE),
    BIT(VIRTIO_BLK_F_DISCARD),
    BIT(VIRTIO_BLK_F_WRITE_ZEROES),
    BIT(VIRTIO_RING_F_INDIRECT_DESC),
    BIT(VIRTIO_RING_F_EVENT_IDX),
    /* all of them */
    BIT(VIRTIO_BLK_F_SIZE_MAX) | BIT(VIRTIO_BLK_F_SEG_MAX) |
	BIT(VIRTIO_BLK_F_BLK_SIZE) | BIT(VIRTIO_BLK_F_FLUSH) |
	BIT(VIRTIO_BLK_F_CONFIG_WCE) | BIT(VIRTIO_BLK_F_DISCARD) |
	BIT(VIRTIO_BLK_F_WRITE_ZEROES) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |
	BIT(VIRTIO_RING_F_EVENT_IDX),
};

/* _i: row * NENG + engine. */
START_TEST(test_features_off)
{
	uint64_t off = off_bits[_i / NENG];
	struct bopt o = {.features_off = off};
	enum df_layout l;

	if (!bt_open(ENG(_i), &o))
		return;
	ck_assert_msg(!(T.offered & off), "offered %#llx, off %#llx",
		      (unsigned long long)T.offered, (unsigned long long)off);
	ck_assert_uint_eq(T.offered & BASE_FEATURES, BASE_FEATURES & ~off);
	ck_assert_uint_eq(vmmio_dev_features(vmmio_blk_dev(T.blk)) & off, 0);
	/* Still a working disk. */
	l = off & BIT(VIRTIO_RING_F_INDIRECT_DESC) ? DF_DIRECT : DF_INDIRECT;
	{
		unsigned char d[2048], back[2048];
		unsigned seed = 31;
		uint32_t used;
		vmmio_gpa_t g;

		rnd_fill(&seed, d, sizeof(d));
		g = put(d, sizeof(d), 16);
		ck_assert_uint_eq(io(T_OUT, 20, g, sizeof(d), l, &used), S_OK);
		g = wbuf(sizeof(d), 0);
		ck_assert_uint_eq(io(T_IN, 20, g, sizeof(d), l, &used), S_OK);
		tg_read(&T.f.g, g, back, sizeof(back));
		ck_assert_mem_eq(back, d, sizeof(d));
	}
	bt_close();
}
END_TEST

/* The driver may refuse features: the device works without them. */
START_TEST(test_driver_refuses)
{
	struct bopt o = {.wanted_off = BIT(VIRTIO_RING_F_EVENT_IDX) |
				       BIT(VIRTIO_RING_F_INDIRECT_DESC) |
				       BIT(VIRTIO_BLK_F_FLUSH) |
				       BIT(VIRTIO_BLK_F_CONFIG_WCE)};

	if (!bt_open(ENG(_i), &o))
		return;
	ck_assert_uint_eq(
	    vmmio_dev_features(vmmio_blk_dev(T.blk)) & o.wanted_off, 0);
	good_roundtrip(0, 50, 8192, 6);
	bt_close();
}
END_TEST

/* Version 1 (legacy) transport. */
START_TEST(test_legacy)
{
	struct bopt o = {.version = 1};
	uint64_t cap = 0;

	if (!bt_open(ENG(_i), &o))
		return;
	ck_assert_uint_eq(vmmio_dev_version(vmmio_blk_dev(T.blk)), 1);
	df_config(&T.f, CFG(capacity), &cap, 8);
	ck_assert_uint_eq(cap, IMG_SECTORS);
	good_roundtrip(0, 60, 4096, 7);
	bt_close();
}
END_TEST

/* WCE: offered, readable, writable; the disk works in both modes. */
START_TEST(test_wce)
{
	struct bopt o = {0};
	uint8_t wce = 0xff, v;

	if (!bt_open(ENG(_i), &o))
		return;
	ck_assert(T.offered & BIT(VIRTIO_BLK_F_CONFIG_WCE));
	df_config(&T.f, CFG(wce), &wce, 1);
	ck_assert_uint_le(wce, 1);
	for (unsigned k = 0; k < 4; k++) {
		v = (uint8_t)(k % 2 ? 1 : 0);
		ck_assert_int_eq(
		    vmmio_drv_config_write(&T.f.drv, CFG(wce), &v, 1), 0);
		wce = 0xff;
		df_config(&T.f, CFG(wce), &wce, 1);
		ck_assert_uint_eq(wce, v);
		tg_reset_alloc(&T.f.g);
		good_roundtrip(0, 70 + 8 * k, 4096, k);
	}
	/* Writes elsewhere in the config space change nothing. */
	{
		uint64_t cap = 0, junk = 0x1234;

		ck_assert_int_eq(
		    vmmio_drv_config_write(&T.f.drv, CFG(capacity), &junk, 4),
		    0);
		df_config(&T.f, CFG(capacity), &cap, 8);
		ck_assert_uint_eq(cap, IMG_SECTORS);
	}
	bt_close();
}
END_TEST

/* ---- creation errors ---- */

enum bad_new {
	BN_ODD_SIZE,
	BN_MISSING,
	BN_QSIZE_3,
	BN_QSIZE_2048,
	BN_NQ_65,
	BN_ENGINE,
	BN_SERIAL_21,
	BN_NO_PATH,
	BN_NO_MEM,
	BN_NO_HOST,
	BN_POLL_1001,
	BN__COUNT
};

/* _i: case * NENG + engine. */
START_TEST(test_new_errors)
{
	enum bad_new c = (enum bad_new)(_i / NENG);
	enum vmmio_blk_engine e = ENG(_i);
	struct vmmio_blk *blk = NULL;
	struct vmmio_blk_config cfg;
	struct bopt o = {0};
	int want = -EINVAL, rc, fds;

	memset(&T.inj, 0, sizeof(T.inj));
	df_mem(&T.f, false, 1);
	make_image(c == BN_ODD_SIZE ? 1000 : IMG_BYTES, false);
	cfg = bt_config(e, &o);
	switch (c) {
	case BN_ODD_SIZE:
		break;
	case BN_MISSING:
		cfg.path = "/tmp/vmmio-blk-no-such-dir/none.img";
		want = -ENOENT;
		break;
	case BN_QSIZE_3:
		cfg.queue_size = 3;
		break;
	case BN_QSIZE_2048:
		cfg.queue_size = 2048;
		break;
	case BN_NQ_65:
		cfg.num_queues = VMMIO_DEV_MAX_QUEUES + 1;
		break;
	case BN_ENGINE:
		cfg.engine = VMMIO_BLK_ENGINE__COUNT;
		break;
	case BN_SERIAL_21:
		cfg.serial = "123456789012345678901";
		break;
	case BN_NO_PATH:
		cfg.path = NULL;
		break;
	case BN_NO_MEM:
		cfg.mem = NULL;
		break;
	case BN_POLL_1001:
		cfg.poll_us = VMMIO_BLK_POLL_US_MAX + 1;
		break;
	default:
		cfg.host = NULL;
		break;
	}
	fds = count_fds();
	rc = vmmio_blk_new(&cfg, &blk);
	bt_unlink();
	if (rc == -ENOTSUP && engine_missing(e, rc))
		goto out;
	ck_assert_msg(rc == want, "case %d: %d, want %d", c, rc, want);
	ck_assert_int_eq(count_fds(), fds);
	if (c == BN_ODD_SIZE || c == BN_POLL_1001) {
		ck_assert_uint_ge(T.f.logs, 1);
		ck_assert_msg(
		    strstr(T.f.last_log,
			   c == BN_ODD_SIZE ? "1000" : "poll_us 1001") != NULL,
		    "log line does not name the value: \"%s\"", T.f.last_log);
	}
out:
	close(T.img);
	df_free(&T.f);
}
END_TEST

/* AUTO picks a real engine; the 3 good sizes are accepted. */
START_TEST(test_new_ok)
{
	static const uint16_t qs[] = {0, 1, 2, 1024};
	struct bopt o = {0};

	df_mem(&T.f, false, 1);
	make_image(IMG_BYTES, true);
	for (unsigned k = 0; k <= NELEM(qs); k++) {
		struct vmmio_blk_config cfg = bt_config(
		    k == NELEM(qs) ? VMMIO_BLK_ENGINE_AUTO : ENG(_i), &o);
		struct vmmio_blk *blk = NULL;
		int rc;

		if (k < NELEM(qs))
			cfg.queue_size = qs[k];
		rc = vmmio_blk_new(&cfg, &blk);
		if (engine_missing(cfg.engine, rc))
			break;
		ck_assert_msg(rc == 0, "queue_size %u: %d",
			      k < NELEM(qs) ? qs[k] : 0, rc);
		ck_assert_int_ne(vmmio_blk_engine(blk), VMMIO_BLK_ENGINE_AUTO);
		ck_assert_uint_eq(vmmio_blk_capacity(blk), IMG_SECTORS);
		ck_assert_uint_eq(vmmio_blk_inflight(blk), 0);
		vmmio_blk_free(blk);
	}
	/* The most queues a device may have. */
	{
		struct vmmio_blk_config cfg = bt_config(ENG(_i), &o);
		struct vmmio_blk *blk = NULL;
		uint16_t nq = 0;

		cfg.num_queues = VMMIO_DEV_MAX_QUEUES;
		cfg.queue_size = 64;
		if (!engine_missing(cfg.engine, vmmio_blk_new(&cfg, &blk))) {
			ck_assert_ptr_nonnull(blk);
			nq = vmmio_dev_num_queues(vmmio_blk_dev(blk));
			ck_assert_uint_eq(nq, VMMIO_DEV_MAX_QUEUES);
			vmmio_blk_free(blk);
		}
	}
	vmmio_blk_free(NULL);
	bt_unlink();
	close(T.img);
	df_free(&T.f);
}
END_TEST

/* Request types and config writes whose feature the driver refused
 * (virtio 1.2 §5.2.6.2): UNSUPP, nothing done; writeback values other
 * than 0/1 and a segment list of zero segments are refused too. */
START_TEST(test_unnegotiated)
{
	struct bopt o = {.wanted_off = BIT(VIRTIO_BLK_F_FLUSH) |
				       BIT(VIRTIO_BLK_F_DISCARD) |
				       BIT(VIRTIO_BLK_F_WRITE_ZEROES) |
				       BIT(VIRTIO_BLK_F_CONFIG_WCE)};
	struct virtio_blk_discard_write_zeroes seg = {.sector = 8,
						      .num_sectors = 8};
	unsigned char *snap, *now;
	uint8_t wce = 0xff, v = 0;
	uint32_t used;
	struct rq r;

	if (!bt_open(ENG(_i), &o))
		return;
	ck_assert(!(T.f.features & o.wanted_off));
	snap = img_snapshot();
	rq_init(&r, T_FLUSH, 0);
	rq_status(&r);
	ck_assert_uint_eq(rq_run(&r, 0, DF_DIRECT, &used), S_UNSUPP);
	ck_assert_uint_eq(dwz(T_DISCARD, &seg, 1, 0, &used), S_UNSUPP);
	ck_assert_uint_eq(dwz(T_WZ, &seg, 1, 0, &used), S_UNSUPP);
	/* writeback is read-only without CONFIG_WCE. */
	ck_assert_int_eq(vmmio_drv_config_write(&T.f.drv, CFG(wce), &v, 1), 0);
	df_config(&T.f, CFG(wce), &wce, 1);
	ck_assert_uint_eq(wce, 1);
	now = img_snapshot();
	ck_assert_mem_eq(now, snap, IMG_BYTES);
	free(now);
	free(snap);
	ck_assert_uint_eq(vmmio_dev_fault(vmmio_blk_dev(T.blk)),
			  VMMIO_FAULT_NONE);
	bt_close();

	/* All negotiated: writeback 2 is ignored, an empty list is IOERR. */
	o.wanted_off = 0;
	if (!bt_open(ENG(_i), &o))
		return;
	v = 2;
	ck_assert_int_eq(vmmio_drv_config_write(&T.f.drv, CFG(wce), &v, 1), 0);
	wce = 0xff;
	df_config(&T.f, CFG(wce), &wce, 1);
	ck_assert_uint_eq(wce, 1);
	ck_assert_uint_eq(dwz(T_DISCARD, &seg, 0, 0, &used), S_IOERR);
	ck_assert_uint_eq(dwz(T_WZ, &seg, 0, 0, &used), S_IOERR);
	good_roundtrip(0, 90, 4096, 5);
	bt_close();
}
END_TEST

/* ---- allocation-failure sweep ---- */

START_TEST(test_alloc_sweep)
{
	struct bopt o = {.nq = 2, .serial = "sweep"};
	unsigned n;
	int fds;

	df_mem(&T.f, false, 1);
	make_image(IMG_BYTES, true);
	fds = count_fds();
	for (n = 1;; n++) {
		struct failer fl = {.fail_at = n};
		struct vmmio_blk_config cfg = bt_config(ENG(_i), &o);
		struct vmmio_blk *blk = NULL;
		int rc;

		cfg.host = &failer_ops;
		cfg.host_opaque = &fl;
		rc = vmmio_blk_new(&cfg, &blk);
		if (engine_missing(cfg.engine, rc))
			break;
		if (rc == 0) {
			ck_assert_uint_lt(fl.count, n); /* none failed */
			vmmio_blk_free(blk);
			ck_assert_int_eq(fl.live, 0);
			break;
		}
		ck_assert_msg(rc == -ENOMEM, "allocation %u failed: %d", n, rc);
		ck_assert_int_eq(fl.live, 0);
		ck_assert_int_eq(count_fds(), fds);
		ck_assert_uint_lt(n, 2000);
	}
	ck_assert_int_eq(count_fds(), fds);
	/* The device allocates through the hook at all. */
	ck_assert_uint_ge(n, 2);
	bt_unlink();
	close(T.img);
	df_free(&T.f);
}
END_TEST

/* ---- reset and free with requests in flight ---- */

#define NFLY 48
static struct rq fly_rq[NFLY];

START_TEST(test_reset_inflight)
{
	struct bopt o = {0};
	unsigned seed = 8;
	unsigned char d[4096], back[4096];
	vmmio_gpa_t g[NFLY];
	uint32_t used;
	struct rq r;

	if (!bt_open(ENG(_i), &o))
		return;
	rnd_fill(&seed, d, sizeof(d));
	for (unsigned k = 0; k < NFLY; k++) {
		rq_init(&fly_rq[k], k % 2 ? T_OUT : T_IN, 8u * k);
		if (k % 2) {
			g[k] = put(d, sizeof(d), 16);
			rq_out(&fly_rq[k], g[k], sizeof(d));
		} else {
			g[k] = wbuf(sizeof(d), 0);
			rq_in(&fly_rq[k], g[k], sizeof(d));
		}
		rq_status(&fly_rq[k]);
		rq_submit(&fly_rq[k], 0, DF_DIRECT);
	}
	/* Driver reset with all that in flight. */
	df_restart(&T.f, ALL);
	ck_assert_uint_eq(vmmio_blk_inflight(T.blk), 0);
	/* Nothing of the old requests reaches guest memory afterwards. */
	for (unsigned k = 0; k < NFLY; k += 2) {
		unsigned char mark[4096];

		memset(mark, 0x42, sizeof(mark));
		tg_write(&T.f.g, g[k], mark, sizeof(mark));
	}
	for (unsigned k = 0; k < 20; k++) {
		df_poll(&T.f);
		usleep(1000);
	}
	for (unsigned k = 0; k < NFLY; k += 2) {
		tg_read(&T.f.g, g[k], back, sizeof(back));
		for (unsigned i = 0; i < sizeof(back); i++)
			ck_assert_msg(back[i] == 0x42,
				      "read %u landed after the reset", k);
	}
	ck_assert_uint_eq(vmmio_drv_vq_used_pending(&T.f.vq[0]), 0);
	/* The next request is the next used element. */
	rq_init(&r, T_IN, 8);
	rq_in(&r, wbuf(SECT, 0), SECT);
	rq_status(&r);
	ck_assert_uint_eq(rq_run(&r, 0, DF_DIRECT, &used), S_OK);
	ck_assert_uint_eq(used, SECT + 1);
	/* And requests still in flight when the device is freed. */
	for (unsigned k = 0; k < 16; k++) {
		rq_init(&fly_rq[k], T_IN, 16u * k);
		rq_in(&fly_rq[k], wbuf(4096, 0), 4096);
		rq_status(&fly_rq[k]);
		rq_submit(&fly_rq[k], 0, DF_INDIRECT);
	}
	vmmio_blk_free(T.blk);
	df_free(&T.f);
	close(T.img);
}
END_TEST

/* The host shrinks the image under the device: reads past the new end
 * fail (no hang, no zeros passed off as data), the rest still works, and
 * the guest cannot flood the log with the errors. */
START_TEST(test_backing_shrinks)
{
	struct bopt o = {0};
	unsigned char b[SECT];
	unsigned logs;
	vmmio_gpa_t g;

	if (!bt_open(ENG(_i), &o))
		return;
	ck_assert_int_eq(ftruncate(T.img, (off_t)(IMG_BYTES / 2)), 0);
	T.bytes = IMG_BYTES / 2;
	g = wbuf(SECT, 0);
	ck_assert_uint_eq(io_simple(T_IN, IMG_SECTORS - 1, g, SECT), S_IOERR);
	ck_assert_uint_eq(io_simple(T_IN, 100, g, SECT), S_OK);
	tg_read(&T.f.g, g, b, SECT);
	expect_pat(b, 100 * SECT, SECT);
	logs = T.f.logs;
	for (unsigned k = 0; k < 300; k++) {
		tg_reset_alloc(&T.f.g);
		g = wbuf(SECT, 0);
		ck_assert_uint_eq(
		    io_simple(T_IN, IMG_SECTORS / 2 + k % 64, g, SECT),
		    S_IOERR);
	}
	ck_assert_msg(T.f.logs - logs <= 20,
		      "300 failed reads gave %u log lines", T.f.logs - logs);
	bt_close();
}
END_TEST

/* A device reset by the host (vmmio_dev_reset) also recovers a fault. */
/* Polling after completions (poll_us): a request the driver adds without
 * a notification while the device completes the previous one is picked
 * up by the same vmmio_blk_process() call; with VMMIO_BLK_POLL_OFF it
 * waits for the notification. _i: 0 default window, 1 off. */
START_TEST(test_poll)
{
	struct bopt o = {.poll_us = _i ? VMMIO_BLK_POLL_OFF : 0};
	vmmio_gpa_t data[2];
	struct rq r[2];
	unsigned char back[4096];

	if (!bt_open(VMMIO_BLK_ENGINE_URING, &o))
		return;
	for (unsigned k = 0; k < 2; k++) {
		data[k] = tg_alloc(&T.f.g, 4096, 4096);
		rq_init(&r[k], T_IN, 8 * k);
		rq_in(&r[k], data[k], 4096);
		rq_status(&r[k]);
	}
	rq_submit(&r[0], 0, DF_DIRECT); /* notified: in the engine */
	ck_assert_uint_eq(vmmio_blk_inflight(T.blk), 1);
	/* The second one made available without a notification. */
	struct vmmio_drv_req dr = {.buf = r[1].b,
				   .n_out = r[1].n_out,
				   .n_in = r[1].n_in,
				   .n_direct = r[1].n_out + r[1].n_in};
	ck_assert_int_eq(vmmio_drv_vq_add(&T.f.vq[0], &dr, &r[1]), 0);
	struct pollfd p = {.fd = vmmio_blk_fd(T.blk), .events = POLLIN};
	ck_assert_int_eq(poll(&p, 1, 5000), 1);
	ck_assert_int_eq(vmmio_blk_process(T.blk), 1); /* first completed */
	/* Polling: the second was found and started; off: not seen. */
	ck_assert_uint_eq(vmmio_blk_inflight(T.blk), (_i ? 0u : 1u));
	if (_i)
		vmmio_drv_notify(&T.f.drv, 0);
	for (unsigned k = 0; k < 2; k++) {
		ck_assert_ptr_eq(rq_reap(0, NULL), &r[k]);
		ck_assert_uint_eq(rq_sbyte(&r[k]), VIRTIO_BLK_S_OK);
		tg_read(&T.f.g, data[k], back, sizeof(back));
		expect_pat(back, 4096 * k, sizeof(back));
	}
	bt_close();
}
END_TEST

/* Checklist row 3 through the poll: an avail.idx more than a queue ahead,
 * written after a request completes and without a notification, is found
 * by the poll and latches AVAIL_IDX in that same vmmio_blk_process() call
 * (NEEDS_RESET, config interrupt); with VMMIO_BLK_POLL_OFF the value is
 * not read until the notification, which latches the same fault.
 * _i: 0 default window, 1 off. */
START_TEST(test_poll_bad_avail_idx)
{
	struct bopt o = {.poll_us = _i ? VMMIO_BLK_POLL_OFF : 0};
	struct vmmio_dev *d;
	struct rq r;
	unsigned before;
	uint16_t bad;

	if (!bt_open(VMMIO_BLK_ENGINE_URING, &o))
		return;
	d = vmmio_blk_dev(T.blk);
	rq_init(&r, T_IN, 0);
	rq_in(&r, tg_alloc(&T.f.g, 4096, 4096), 4096);
	rq_status(&r);
	rq_submit(&r, 0, DF_DIRECT);
	bad = (uint16_t)(T.f.vq[0].avail_idx + DF_QSIZE + 1);
	memcpy(T.f.vq[0].avail + 2, &bad, sizeof(bad)); /* avail.idx */
	struct pollfd p = {.fd = vmmio_blk_fd(T.blk), .events = POLLIN};
	ck_assert_int_eq(poll(&p, 1, 5000), 1);
	before = T.f.config_irqs;
	ck_assert_int_eq(vmmio_blk_process(T.blk), _i ? 1 : -EIO);
	if (_i) {
		ck_assert_int_eq(vmmio_dev_fault(d), VMMIO_FAULT_NONE);
		vmmio_drv_notify(&T.f.drv, 0);
	}
	df_poll(&T.f);
	ck_assert_msg(vmmio_dev_fault(d) == VMMIO_FAULT_AVAIL_IDX,
		      "fault %s, want AVAIL_IDX",
		      vmmio_fault_name(vmmio_dev_fault(d)));
	ck_assert(vmmio_drv_get_status(&T.f.drv) & VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert_uint_gt(T.f.config_irqs, before);
	/* The request that completed before the bad index is published. */
	ck_assert_ptr_eq(rq_reap(0, NULL), &r);
	ck_assert_uint_eq(rq_sbyte(&r), VIRTIO_BLK_S_OK);
	bt_close();
}
END_TEST

START_TEST(test_host_reset)
{
	struct bopt o = {0};
	struct rq r;

	if (!bt_open(ENG(_i), &o))
		return;
	memset(&r, 0, sizeof(r));
	rq_out(&r, put_hdr(T_IN, 0), 8); /* short header */
	rq_status(&r);
	rq_submit(&r, 0, DF_DIRECT);
	expect_fault();
	vmmio_dev_reset(vmmio_blk_dev(T.blk));
	ck_assert_int_eq(vmmio_dev_fault(vmmio_blk_dev(T.blk)),
			 VMMIO_FAULT_NONE);
	df_start(&T.f, vmmio_blk_dev(T.blk), ALL, 1, DF_QSIZE);
	tg_reset_alloc(&T.f.g);
	good_roundtrip(0, 90, 1024, 3);
	bt_close();
}
END_TEST

static TCase *tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return tc;
}

Suite *blk_suite(void)
{
	Suite *s = suite_create("blk");
	TCase *io = tcase(s, "io");
	TCase *bad = tcase(s, "bad");
	TCase *cmd = tcase(s, "commands");
	TCase *cfg = tcase(s, "config");
	TCase *life = tcase(s, "lifecycle");

	tcase_add_loop_test(io, test_rw_roundtrip, 0, 2 * NENG);
	tcase_add_loop_test(io, test_read_image, 0, NENG);
	tcase_add_loop_test(io, test_multi_segment, 0, 3 * NENG);
	tcase_add_loop_test(io, test_depth, 0, NENG);
	tcase_add_test(io, test_out_of_order);
	tcase_add_loop_test(io, test_inject, 0, 2 * NENG);
	tcase_add_loop_test(io, test_mq, 0, 3 * NENG);
	tcase_add_loop_test(io, test_direct, 0, NENG);
	tcase_add_loop_test(bad, test_read_only, 0, NENG);
	tcase_add_loop_test(bad, test_read_write_not_ro, 0, NENG);
	tcase_add_loop_test(bad, test_bad_request, 0,
			    (int)NELEM(bad_rows) * NENG);
	tcase_add_loop_test(bad, test_fault_request, 0,
			    (int)NELEM(fault_rows) * NENG);
	tcase_add_loop_test(bad, test_unsupported, 0, NENG);
	tcase_add_loop_test(bad, test_dwz_bad, 0, DB__COUNT * 2 * NENG);
	tcase_add_loop_test(cmd, test_get_id_short_serial, 0, NENG);
	tcase_add_loop_test(cmd, test_get_id_full_serial, 0, NENG);
	tcase_add_loop_test(cmd, test_get_id_no_serial, 0, NENG);
	tcase_add_loop_test(cmd, test_flush, 0, NENG);
	tcase_add_loop_test(cmd, test_discard, 0, NENG);
	tcase_add_loop_test(cmd, test_discard_limits, 0, NENG);
	tcase_add_loop_test(cmd, test_write_zeroes, 0, NENG);
	tcase_add_loop_test(cfg, test_config, 0, NENG);
	tcase_add_loop_test(cfg, test_capacity, 0, NENG);
	tcase_add_loop_test(cfg, test_features_off, 0,
			    (int)NELEM(off_bits) * NENG);
	tcase_add_loop_test(cfg, test_driver_refuses, 0, NENG);
	tcase_add_loop_test(cfg, test_legacy, 0, NENG);
	tcase_add_loop_test(cfg, test_wce, 0, NENG);
	tcase_add_loop_test(cfg, test_unnegotiated, 0, NENG);
	tcase_add_loop_test(life, test_new_errors, 0, BN__COUNT * NENG);
	tcase_add_loop_test(life, test_new_ok, 0, NENG);
	tcase_add_loop_test(life, test_alloc_sweep, 0, NENG);
	tcase_add_loop_test(life, test_reset_inflight, 0, NENG);
	tcase_add_loop_test(life, test_host_reset, 0, NENG);
	tcase_add_loop_test(life, test_poll, 0, 2);
	tcase_add_loop_test(life, test_poll_bad_avail_idx, 0, 2);
	tcase_add_loop_test(life, test_backing_shrinks, 0, NENG);
	return s;
}
