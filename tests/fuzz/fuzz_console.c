/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: a virtio-console on pipes, driven by the guest. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include <vmmio/console.h>
#include <vmmio/driver.h>
#include <vmmio/queue.h>

#include "fuzz_input.h"

/*
 * Input: one setup byte, then operations. Setup: bit 0 legacy (version
 * 1); bit 1 guest RAM as two regions; bits 2-4 the driver's queue size
 * (1 << n, at most QMAX); bit 5 EMERG_WRITE not offered; bit 6
 * INDIRECT_DESC not offered; bit 7 leave the device in reset (the input
 * brings it up through raw register writes). Each operation is an
 * opcode byte (low 4 bits select it) and its arguments:
 *   0 q, i, addr16, len16, flags8, next8  write descriptor i of queue q
 *                     (addr RAM_GPA + addr16; op & 0x80: a raw 64-bit
 *                     address from the next 8 bytes instead)
 *   1 q, head         publish head on q's avail ring; kick if op & 0x10
 *   2 q               vmmio_dev_notify (q byte as is)
 *   3 off, w, val32   config write at off & 0xf, width 1 << (w & 3)
 *                     (an 8-byte write has val32 zero-extended)
 *   4 n, bytes[n]     host input into the pipe
 *   5 n               drain up to 64 * n + 1 bytes of output
 *   6 cols16, rows16  vmmio_console_resize
 *   7                 op & 0x10: vmmio_dev_reset, else driver restart
 *   8                 vmmio_console_process
 *   9 reg, val32      aligned register write (reg & 0x3f) * 4
 *  10 off16, data8    poke 8 bytes of guest RAM
 *  11 q, shape, len8  a well-formed request through the driver harness:
 *                     shape bits 0-1 readable buffers, 2-3 writable, 4-5
 *                     layout (direct, indirect, mixed)
 *  12 q               the driver collects used elements of q
 *  13 off             config read (4 bytes)
 *  14                 op & 0x10: close the output pipe's reader (EPIPE),
 *                     else close the input pipe's writer (EOF)
 *  15 m               switch to memory map m & 1
 */

#define RAM_GPA 0x10000u
#define RAM_SIZE 0x10000u
#define RING_OFF(q) ((q)*0x2000u)
#define DATA_OFF 0x4000u
#define TABLE_OFF 0xe000u
#define QMAX 16u
static _Alignas(4096) unsigned char ram[RAM_SIZE];

static struct {
	struct vmmio_console *con;
	struct vmmio_dev *dev;
	struct vmmio_mem *mem[2];
	struct vmmio_drv drv;
	struct vmmio_drv_vq vq[2];
	struct vmmio_drv_slot slot[2][QMAX];
	uint16_t qsize;
	uint64_t features;
	int in_r, in_w, out_r, out_w;
	uint64_t fed, drained;
	unsigned tok;
} S;

static void f_irq(void *opaque, bool raise)
{
	(void)opaque;
	(void)raise;
}

static const struct vmmio_host_ops f_host = {
    .size = sizeof(struct vmmio_host_ops),
    .irq = f_irq,
};

/* The driver brings the device up (errors are data: it may refuse). */
static void drv_start(void)
{
	uint32_t align;

	if (vmmio_drv_init(&S.drv, vmmio_dev_driver_ops(), S.dev) ||
	    vmmio_drv_negotiate(&S.drv, ~0ull, &S.features))
		return;
	align = vmmio_drv_version(&S.drv) == 1 ? 4096u : 4u;
	for (unsigned q = 0; q < 2; q++) {
		size_t len = vmmio_drv_vq_ring_bytes(S.qsize, align);

		if (vmmio_drv_vq_init(&S.vq[q], S.qsize, ram + RING_OFF(q),
				      RAM_GPA + RING_OFF(q), len, align,
				      S.slot[q], S.features) ||
		    vmmio_drv_setup_queue(&S.drv, q, &S.vq[q]))
			return;
	}
	(void)vmmio_drv_driver_ok(&S.drv);
}

static bool op_desc(uint8_t op, struct in *in)
{
	uint8_t q, i, flags, next;
	uint16_t addr16, len16;
	uint64_t addr;
	struct vring_desc d;

	if (!take(in, &q, 1) || !take(in, &i, 1) || !take(in, &addr16, 2) ||
	    !take(in, &len16, 2) || !take(in, &flags, 1) || !take(in, &next, 1))
		return false;
	addr = RAM_GPA + (uint64_t)addr16;
	if ((op & 0x80) && !take(in, &addr, 8))
		return false;
	d.addr = addr;
	d.len = len16;
	d.flags = flags & 7u;
	d.next = next;
	memcpy(ram + RING_OFF(q & 1u) + 16u * (i % S.qsize), &d, sizeof(d));
	return true;
}

static bool op_avail(uint8_t op, struct in *in)
{
	uint8_t q, head;
	struct vmmio_drv_vq *vq;
	uint16_t idx, h;

	if (!take(in, &q, 1) || !take(in, &head, 1))
		return false;
	q &= 1u;
	vq = &S.vq[q];
	if (!vq->avail)
		return true;
	idx = vq->avail_idx;
	h = head;
	memcpy(vq->avail + 4 + 2u * (idx % vq->size), &h, 2);
	/* Keep the harness in step so its next add does not go back. */
	vq->avail_idx = (uint16_t)(idx + 1);
	__atomic_store_n((uint16_t *)(void *)(vq->avail + 2), vq->avail_idx,
			 __ATOMIC_RELEASE);
	if (op & 0x10)
		(void)vmmio_dev_notify(S.dev, q);
	return true;
}

static bool op_config_write(struct in *in)
{
	uint8_t off, w;
	uint64_t val = 0;

	if (!take(in, &off, 1) || !take(in, &w, 1) || !take(in, &val, 4))
		return false;
	(void)vmmio_dev_write(S.dev, VIRTIO_MMIO_CONFIG + (off & 0xfu), &val,
			      1u << (w & 3u));
	return true;
}

static bool op_input(struct in *in)
{
	uint8_t n;
	ssize_t k;

	if (!take(in, &n, 1) || in->left < n)
		return false;
	if (S.in_w >= 0) {
		k = write(S.in_w, in->p, n);
		if (k > 0)
			S.fed += (uint64_t)k;
	}
	in->p += n;
	in->left -= n;
	return true;
}

static void drain(size_t max)
{
	unsigned char buf[16384];
	ssize_t k;

	while (S.out_r >= 0 && max) {
		k = read(S.out_r, buf, max < sizeof(buf) ? max : sizeof(buf));
		if (k <= 0)
			return;
		S.drained += (uint64_t)k;
		max -= (size_t)k;
	}
}

static bool op_request(struct in *in)
{
	uint8_t q, shape, len8;
	struct vmmio_drv_buf b[6];
	struct vmmio_drv_req r = {.buf = b};
	unsigned n;

	if (!take(in, &q, 1) || !take(in, &shape, 1) || !take(in, &len8, 1))
		return false;
	q &= 1u;
	if (!S.vq[q].avail)
		return true;
	r.n_out = shape & 3u;
	r.n_in = (shape >> 2) & 3u;
	n = r.n_out + r.n_in;
	if (!n)
		return true;
	for (unsigned i = 0; i < n; i++) {
		b[i].gpa = RAM_GPA + DATA_OFF + 0x400u * i + len8;
		b[i].len = 1u + len8 * 4u;
	}
	r.n_direct = (shape >> 4) % 3u == 0   ? n
		     : (shape >> 4) % 3u == 1 ? 0
					      : 1;
	if (r.n_direct < n) {
		r.table = ram + TABLE_OFF + 0x100u * q;
		r.table_gpa = RAM_GPA + TABLE_OFF + 0x100u * q;
	}
	if (vmmio_drv_vq_add(&S.vq[q], &r, &S.tok) == 0 &&
	    vmmio_drv_vq_kick_prepare(&S.vq[q]))
		vmmio_drv_notify(&S.drv, q);
	return true;
}

static void collect(uint8_t q)
{
	void *tok;
	uint32_t len;

	if (!S.vq[q & 1u].avail)
		return;
	for (unsigned i = 0; i < QMAX; i++)
		if (vmmio_drv_vq_get_used(&S.vq[q & 1u], &tok, &len) != 1)
			return;
}

static void close_end(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static bool op_misc(uint8_t op, struct in *in)
{
	uint16_t cols, rows;
	uint8_t b;
	uint32_t v;

	switch (op & 0xfu) {
	case 6:
		if (!take(in, &cols, 2) || !take(in, &rows, 2))
			return false;
		vmmio_console_resize(S.con, cols, rows);
		return true;
	case 7:
		if (op & 0x10)
			vmmio_dev_reset(S.dev);
		else
			drv_start();
		return true;
	case 8: {
		int rc = vmmio_console_process(S.con);

		CHECK(rc == 0 || rc == -EIO);
		CHECK((rc == -EIO) ==
		      (vmmio_dev_fault(S.dev) != VMMIO_FAULT_NONE));
		return true;
	}
	case 12:
		if (!take(in, &b, 1))
			return false;
		collect(b);
		return true;
	case 13:
		if (!take(in, &b, 1))
			return false;
		(void)vmmio_dev_read(S.dev, VIRTIO_MMIO_CONFIG + (b & 0xfu), &v,
				     4);
		return true;
	case 14:
		close_end(op & 0x10 ? &S.out_r : &S.in_w);
		return true;
	default:
		if (!take(in, &b, 1))
			return false;
		(void)vmmio_dev_set_mem(S.dev, S.mem[b & 1u]);
		return true;
	}
}

static bool step(uint8_t op, struct in *in)
{
	uint8_t reg, b;
	uint16_t off;
	uint32_t val;

	switch (op & 0xfu) {
	case 0:
		return op_desc(op, in);
	case 1:
		return op_avail(op, in);
	case 2:
		if (!take(in, &b, 1))
			return false;
		(void)vmmio_dev_notify(S.dev, b);
		return true;
	case 3:
		return op_config_write(in);
	case 4:
		return op_input(in);
	case 5:
		if (!take(in, &b, 1))
			return false;
		drain(64u * b + 1u);
		return true;
	case 9:
		if (!take(in, &reg, 1) || !take(in, &val, 4))
			return false;
		(void)vmmio_dev_write(S.dev, (reg & 0x3fu) * 4u, &val, 4);
		return true;
	case 10:
		if (!take(in, &off, 2) || in->left < 8)
			return false;
		memcpy(ram + off % (RAM_SIZE - 8u), in->p, 8);
		in->p += 8;
		in->left -= 8;
		return true;
	case 11:
		return op_request(in);
	default:
		return op_misc(op, in);
	}
}

/* What must hold between any two operations. */
static void check_invariants(void)
{
	struct vmmio_console_stats st;

	vmmio_console_stats(S.con, &st);
	/* The device holds at most one chain per queue (no host buffer
	 * proportional to guest traffic). */
	for (unsigned q = 0; q < 2; q++)
		CHECK(vmmio_vq_inflight(vmmio_dev_queue(S.dev, q)) <= 1);
	CHECK(S.drained <= st.tx_bytes);
	CHECK(st.rx_bytes <= S.fed);
}

static void make_pipes(void)
{
	int a[2], b[2];

	if (pipe2(a, O_CLOEXEC) || pipe2(b, O_CLOEXEC))
		abort();
	S.in_r = a[0];
	S.in_w = a[1];
	S.out_r = b[0];
	S.out_w = b[1];
	/* Small pipes: backpressure (EAGAIN) is reached quickly. */
	(void)fcntl(S.in_w, F_SETPIPE_SZ, 4096);
	(void)fcntl(S.out_w, F_SETPIPE_SZ, 4096);
	(void)fcntl(S.in_w, F_SETFL, O_NONBLOCK);
	(void)fcntl(S.out_r, F_SETFL, O_NONBLOCK);
}

static void teardown(bool check_output)
{
	struct vmmio_console_stats st;

	vmmio_console_stats(S.con, &st);
	drain(SIZE_MAX);
	/* Everything the device wrote came out of the pipe, in full. */
	if (check_output && S.out_r >= 0)
		CHECK(S.drained == st.tx_bytes);
	vmmio_console_free(S.con);
	close_end(&S.in_r);
	close_end(&S.in_w);
	close_end(&S.out_r);
	close_end(&S.out_w);
	vmmio_mem_free(S.mem[0]);
	vmmio_mem_free(S.mem[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct vmmio_mem_region whole = {
	    .gpa = RAM_GPA, .size = RAM_SIZE, .host = ram};
	const struct vmmio_mem_region two[2] = {
	    {.gpa = RAM_GPA, .size = RAM_SIZE / 2, .host = ram},
	    {.gpa = RAM_GPA + RAM_SIZE / 2,
	     .size = RAM_SIZE / 2,
	     .host = ram + RAM_SIZE / 2},
	};
	struct vmmio_console_config cfg = {
	    .size = sizeof(cfg),
	    .backend = VMMIO_CONSOLE_FD,
	    .queue_size = QMAX,
	    .host = &f_host,
	};
	struct in in = {data, size};
	uint8_t setup, op;

	if (!take(&in, &setup, 1))
		return 0;
	memset(ram, 0, sizeof(ram));
	memset(&S, 0, sizeof(S));
	if (vmmio_mem_new(&whole, 1, NULL, NULL, &S.mem[0]) ||
	    vmmio_mem_new(two, 2, NULL, NULL, &S.mem[1]))
		abort();
	make_pipes();
	cfg.in_fd = S.in_r;
	cfg.out_fd = S.out_w;
	cfg.version = setup & 1u ? 1 : 2;
	cfg.mem = S.mem[(setup >> 1) & 1u];
	if (setup & 0x20)
		cfg.features_off |= 1ull << VIRTIO_CONSOLE_F_EMERG_WRITE;
	if (setup & 0x40)
		cfg.features_off |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	S.qsize = (uint16_t)(1u << ((setup >> 2) & 7u));
	if (S.qsize > QMAX)
		S.qsize = QMAX;
	if (vmmio_console_new(&cfg, &S.con))
		abort();
	S.dev = vmmio_console_dev(S.con);
	if (!(setup & 0x80))
		drv_start();
	while (take(&in, &op, 1) && step(op, &in))
		check_invariants();
	teardown(true);
	return 0;
}
