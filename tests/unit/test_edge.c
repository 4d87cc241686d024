/* SPDX-License-Identifier: Apache-2.0 */
/* Device paths the coverage run showed untested: short reads, a full
 * io_uring queue, odd backings, bounded console work per call. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include <vmmio/blk.h>
#include <vmmio/console.h>

#include "tests.h"
#include "dfix.h"

#define SECT 512u
#define IMG_SECTORS 16u
#define BIT(n) (1ull << (n))
#define ENG(i) ((i) ? VMMIO_BLK_ENGINE_URING : VMMIO_BLK_ENGINE_SYNC)

static struct {
	struct dfix f;
	struct vmmio_blk *blk;
	char path[64];
	int img;
	enum df_layout layout;
	int tok[16];
} B;

static unsigned char pat(unsigned off)
{
	return (unsigned char)(off * 7u + 3u);
}

static int blk_process(void *obj)
{
	return vmmio_blk_process(obj);
}

/* An image of IMG_SECTORS with pat(); false (skip) where the io_uring
 * engine is not built in. */
static bool blk_open(enum vmmio_blk_engine e, uint16_t qsize,
		     uint64_t features_off)
{
	unsigned char b[IMG_SECTORS * SECT];
	struct vmmio_blk_config cfg = {.size = sizeof(cfg)};
	int rc;

	snprintf(B.path, sizeof(B.path), "/tmp/vmmio-edge-XXXXXX");
	B.img = mkstemp(B.path);
	ck_assert_int_ge(B.img, 0);
	for (unsigned i = 0; i < sizeof(b); i++)
		b[i] = pat(i);
	ck_assert_int_eq(pwrite(B.img, b, sizeof(b), 0), (ssize_t)sizeof(b));
	df_mem(&B.f, false, 1);
	cfg.path = B.path;
	cfg.engine = e;
	cfg.queue_size = qsize;
	cfg.features_off = features_off;
	cfg.mem = B.f.g.mem;
	cfg.host = &df_host;
	cfg.host_opaque = &B.f;
	rc = vmmio_blk_new(&cfg, &B.blk);
	unlink(B.path);
#ifndef VMMIO_HAVE_URING
	if (rc == -ENOTSUP && e == VMMIO_BLK_ENGINE_URING) {
		fprintf(stderr, "SKIP: io_uring engine not built in\n");
		close(B.img);
		df_free(&B.f);
		return false;
	}
#endif
	ck_assert_int_eq(rc, 0);
	B.layout = DF_DIRECT;
	df_loop(&B.f, vmmio_blk_fd(B.blk), blk_process, B.blk);
	df_start(&B.f, vmmio_blk_dev(B.blk), ~0ull, 1, qsize);
	return true;
}

static void blk_close(void)
{
	vmmio_blk_free(B.blk);
	close(B.img);
	df_free(&B.f);
}

/* Submit a request: header, @nseg data segments of @seglen (the first
 * at *data), status byte at *status. */
static void blk_submit(uint32_t type, uint64_t sector, unsigned nseg,
		       uint32_t seglen, int *tok, vmmio_gpa_t *status,
		       vmmio_gpa_t *data)
{
	struct virtio_blk_outhdr h = {.type = type, .sector = sector};
	struct vmmio_drv_buf b[8];
	bool in = type == VIRTIO_BLK_T_IN;
	unsigned n = 0;

	b[n++] = (struct vmmio_drv_buf){tg_alloc(&B.f.g, 16, 16), 16};
	tg_write(&B.f.g, b[0].gpa, &h, sizeof(h));
	for (unsigned i = 0; i < nseg; i++)
		b[n++] = (struct vmmio_drv_buf){tg_alloc(&B.f.g, seglen, 16),
						seglen};
	*data = b[1].gpa;
	*status = tg_alloc(&B.f.g, 1, 1);
	b[n++] = (struct vmmio_drv_buf){*status, 1};
	ck_assert_int_eq(df_submit(&B.f, 0, b, in ? 1 : n - 1, in ? n - 1 : 1,
				   B.layout, tok),
			 0);
}

/* One request, waited for: its status byte (used length checked). */
static uint8_t blk_io(uint32_t type, uint64_t sector, unsigned nseg,
		      uint32_t seglen)
{
	vmmio_gpa_t st, data;
	void *tok;
	uint32_t len;
	uint8_t s = 0xee;

	blk_submit(type, sector, nseg, seglen, &B.tok[0], &st, &data);
	ck_assert_int_eq(df_wait(&B.f, 0, &tok, &len), 1);
	ck_assert_ptr_eq(tok, &B.tok[0]);
	ck_assert_uint_eq(len, type == VIRTIO_BLK_T_IN ? nseg * seglen + 1 : 1);
	tg_read(&B.f.g, st, &s, 1);
	return s;
}

/* The image shrinks to end in the middle of a sector: a read across the
 * new end gets part of its data (a short read), then nothing, and fails
 * with IOERR; the device goes on serving the rest. */
START_TEST(test_blk_short_read)
{
	unsigned char got[SECT];
	vmmio_gpa_t st, data;
	void *tok;
	uint32_t len;

	if (!blk_open(ENG(_i), 8, 0))
		return;
	ck_assert_int_eq(ftruncate(B.img, 8 * SECT + SECT / 2), 0);
	ck_assert_uint_eq(blk_io(VIRTIO_BLK_T_IN, 7, 3, SECT),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(blk_io(VIRTIO_BLK_T_IN, 8, 2, SECT / 2),
			  VIRTIO_BLK_S_IOERR);
	tg_reset_alloc(&B.f.g);
	blk_submit(VIRTIO_BLK_T_IN, 6, 2, SECT, &B.tok[1], &st, &data);
	ck_assert_int_eq(df_wait(&B.f, 0, &tok, &len), 1);
	ck_assert_ptr_eq(tok, &B.tok[1]);
	tg_read(&B.f.g, st, got, 1);
	ck_assert_uint_eq(got[0], VIRTIO_BLK_S_OK);
	tg_read(&B.f.g, data, got, SECT);
	for (unsigned i = 0; i < SECT; i++)
		ck_assert_uint_eq(got[i], pat(6 * SECT + i));
	ck_assert_uint_eq(vmmio_dev_fault(vmmio_blk_dev(B.blk)),
			  VMMIO_FAULT_NONE);
	blk_close();
}
END_TEST

/* io_uring: every request of the queue in flight at once; all complete,
 * and the queue takes new requests afterwards. */
START_TEST(test_blk_queue_full)
{
	vmmio_gpa_t st[8], data;
	unsigned seen = 0;
	uint8_t s;
	void *tok;
	uint32_t len;

	if (!blk_open(VMMIO_BLK_ENGINE_URING, 4, 0))
		return;
	B.layout = DF_INDIRECT; /* one descriptor per request */
	for (unsigned round = 0; round < 2; round++) {
		for (unsigned i = 0; i < 4; i++)
			blk_submit(VIRTIO_BLK_T_IN, i, 1, SECT,
				   &B.tok[4 * round + i], &st[4 * round + i],
				   &data);
		for (unsigned i = 0; i < 4; i++) {
			ck_assert_int_eq(df_wait(&B.f, 0, &tok, &len), 1);
			ck_assert_uint_eq(len, SECT + 1);
			seen |= 1u << ((int *)tok - B.tok);
		}
	}
	ck_assert_uint_eq(seen, 0xff);
	for (unsigned i = 0; i < 8; i++) {
		tg_read(&B.f.g, st[i], &s, 1);
		ck_assert_uint_eq(s, VIRTIO_BLK_S_OK);
	}
	ck_assert_uint_eq(vmmio_blk_inflight(B.blk), 0);
	blk_close();
}
END_TEST

/* Without FLUSH and CONFIG_WCE the device is writethrough: write zeroes
 * completes after the data is synced; the sectors read back as zeroes. */
START_TEST(test_blk_writethrough_zeroes)
{
	struct virtio_blk_outhdr h = {.type = VIRTIO_BLK_T_WRITE_ZEROES};
	struct virtio_blk_discard_write_zeroes seg = {.sector = 2,
						      .num_sectors = 3};
	unsigned char b[3 * SECT];
	struct vmmio_drv_buf buf[3];
	void *tok;
	uint32_t len;
	uint8_t s;

	if (!blk_open(ENG(_i), 8,
		      BIT(VIRTIO_BLK_F_FLUSH) | BIT(VIRTIO_BLK_F_CONFIG_WCE)))
		return;
	buf[0] = (struct vmmio_drv_buf){tg_alloc(&B.f.g, 16, 16), 16};
	buf[1] = (struct vmmio_drv_buf){tg_alloc(&B.f.g, 16, 16), 16};
	buf[2] = (struct vmmio_drv_buf){tg_alloc(&B.f.g, 1, 1), 1};
	tg_write(&B.f.g, buf[0].gpa, &h, sizeof(h));
	tg_write(&B.f.g, buf[1].gpa, &seg, sizeof(seg));
	ck_assert_int_eq(df_submit(&B.f, 0, buf, 2, 1, DF_DIRECT, &B.tok[0]),
			 0);
	ck_assert_int_eq(df_wait(&B.f, 0, &tok, &len), 1);
	tg_read(&B.f.g, buf[2].gpa, &s, 1);
	ck_assert_uint_eq(s, VIRTIO_BLK_S_OK);
	ck_assert_int_eq(pread(B.img, b, sizeof(b), 2 * SECT),
			 (ssize_t)sizeof(b));
	for (unsigned i = 0; i < sizeof(b); i++)
		ck_assert_uint_eq(b[i], 0);
	ck_assert_uint_eq(pread(B.img, b, 1, 5 * SECT), 1);
	ck_assert_uint_eq(b[0], pat(5 * SECT));
	blk_close();
}
END_TEST

/* A character device is not a backing; features_off outside the model's
 * bits is a caller error. Both named in the log. */
START_TEST(test_blk_new_refused)
{
	struct vmmio_blk_config cfg = {.size = sizeof(cfg)};
	struct vmmio_blk *blk = NULL;

	df_mem(&B.f, false, 1);
	cfg.path = "/dev/null";
	cfg.engine = VMMIO_BLK_ENGINE_SYNC;
	cfg.mem = B.f.g.mem;
	cfg.host = &df_host;
	cfg.host_opaque = &B.f;
	ck_assert_int_eq(vmmio_blk_new(&cfg, &blk), -EINVAL);
	ck_assert_ptr_null(blk);
	ck_assert_ptr_nonnull(strstr(B.f.last_log, "not a file or block"));
	cfg.features_off = BIT(VIRTIO_BLK_F_RO);
	ck_assert_int_eq(vmmio_blk_new(&cfg, &blk), -EINVAL);
	ck_assert_ptr_nonnull(strstr(B.f.last_log, "features_off"));
	cfg.size = sizeof(cfg) - 1;
	ck_assert_int_eq(vmmio_blk_new(&cfg, &blk), -EINVAL);
	df_free(&B.f);
}
END_TEST

/* ---- console: bounded work per call (checklist row 14) ---- */

static struct {
	struct dfix f;
	struct vmmio_console *con;
	int in[2], out[2];
	int tok[8];
} C;

static int con_process(void *obj)
{
	return vmmio_console_process(obj);
}

static void con_open(void)
{
	struct vmmio_console_config cfg = {.size = sizeof(cfg)};

	ck_assert_int_eq(pipe2(C.in, O_NONBLOCK | O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(C.out, O_NONBLOCK | O_CLOEXEC), 0);
	df_mem(&C.f, false, 2);
	cfg.backend = VMMIO_CONSOLE_FD;
	cfg.in_fd = C.in[0];
	cfg.out_fd = C.out[1];
	cfg.queue_size = 4;
	cfg.mem = C.f.g.mem;
	cfg.host = &df_host;
	cfg.host_opaque = &C.f;
	ck_assert_int_eq(vmmio_console_new(&cfg, &C.con), 0);
	df_loop(&C.f, vmmio_console_fd(C.con), con_process, C.con);
}

static void con_close(void)
{
	vmmio_console_free(C.con);
	for (unsigned i = 0; i < 2; i++) {
		close(C.in[i]);
		close(C.out[i]);
	}
	df_free(&C.f);
}

/* Make a one-buffer request available without notifying. */
static void con_add(unsigned q, struct vmmio_drv_buf *b, int *tok)
{
	struct vmmio_drv_req r = {
	    .buf = b, .n_out = q == 1, .n_in = q == 0, .n_direct = 1};

	ck_assert_int_eq(vmmio_drv_vq_add(&C.f.vq[q], &r, tok), 0);
}

static bool readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1;
}

/* A whole ring of output and one notify: the call writes the ring's
 * worth and leaves the event descriptor readable to come back. */
START_TEST(test_console_tx_ring_per_call)
{
	struct vmmio_drv_buf b[4];
	char got[32];
	void *tok;
	uint32_t len;

	con_open();
	df_start(&C.f, vmmio_console_dev(C.con), ~0ull, 2, 4);
	for (unsigned i = 0; i < 4; i++) {
		char s[4] = {'a', (char)('0' + i), 'z', '\n'};

		b[i] = (struct vmmio_drv_buf){tg_alloc(&C.f.g, 4, 4), 4};
		tg_write(&C.f.g, b[i].gpa, s, 4);
		con_add(1, &b[i], &C.tok[i]);
	}
	vmmio_drv_notify(&C.f.drv, 1);
	ck_assert_int_eq(read(C.out[0], got, sizeof(got)), 16);
	ck_assert_mem_eq(got, "a0z\na1z\na2z\na3z\n", 16);
	ck_assert(readable(vmmio_console_fd(C.con)));
	for (unsigned i = 0; i < 4; i++) {
		ck_assert_int_eq(df_wait(&C.f, 1, &tok, &len), 1);
		ck_assert_ptr_eq(tok, &C.tok[i]);
		ck_assert_uint_eq(len, 0);
	}
	con_close();
}
END_TEST

/* Input for a whole ring of 2-byte receive buffers: filled in order, one
 * ring's worth per call. */
START_TEST(test_console_rx_ring_per_call)
{
	struct vmmio_drv_buf b[4];
	char got[2];
	void *tok;
	uint32_t len;

	con_open();
	df_start(&C.f, vmmio_console_dev(C.con), ~0ull, 2, 4);
	ck_assert_int_eq(write(C.in[1], "abcdefghij", 10), 10);
	for (unsigned i = 0; i < 4; i++) {
		b[i] = (struct vmmio_drv_buf){tg_alloc(&C.f.g, 2, 2), 2};
		con_add(0, &b[i], &C.tok[i]);
	}
	vmmio_drv_notify(&C.f.drv, 0);
	ck_assert(readable(vmmio_console_fd(C.con)));
	for (unsigned i = 0; i < 4; i++) {
		ck_assert_int_eq(df_wait(&C.f, 0, &tok, &len), 1);
		ck_assert_ptr_eq(tok, &C.tok[i]);
		ck_assert_uint_eq(len, 2);
		tg_read(&C.f.g, b[i].gpa, got, 2);
		ck_assert_int_eq(got[0], 'a' + 2 * (int)i);
		ck_assert_int_eq(got[1], 'b' + 2 * (int)i);
	}
	/* The last two bytes wait in the pipe for the next buffer. */
	ck_assert_int_eq(read(C.in[0], got, 2), 2);
	ck_assert_mem_eq(got, "ij", 2);
	con_close();
}
END_TEST

Suite *edge_suite(void)
{
	Suite *s = suite_create("edge");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_blk_short_read, 0, 2);
	tcase_add_test(tc, test_blk_queue_full);
	tcase_add_loop_test(tc, test_blk_writethrough_zeroes, 0, 2);
	tcase_add_test(tc, test_blk_new_refused);
	tcase_add_test(tc, test_console_tx_ring_per_call);
	tcase_add_test(tc, test_console_rx_ring_per_call);
	suite_add_tcase(s, tc);
	return s;
}
