/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-rng device model driven through the driver harness (dfix.h). */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>
#include <check.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include <vmmio/rng.h>

#include "dfix.h"
#include "failer.h"
#include "tests.h"

#define CANARY 0xa5u
#define GUARD 32u
#define F_RING                                                                 \
	((1ull << VIRTIO_RING_F_INDIRECT_DESC) |                               \
	 (1ull << VIRTIO_RING_F_EVENT_IDX))

/* ---- rig: fixture + device ---- */

struct rig {
	struct dfix f; /* first: host_opaque may point at either */
	struct vmmio_rng *rng;
	/* the concurrent-guest test's state */
	unsigned added, collected, total;
	vmmio_gpa_t buf;
};

static int rng_process(void *obj)
{
	return vmmio_rng_process(obj);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct rig *rig_mem(bool split)
{
	struct rig *r = calloc(1, sizeof(*r));

	ck_assert_ptr_nonnull(r);
	df_mem(&r->f, split, 777);
	return r;
}

static struct vmmio_rng_config rig_cfg(struct rig *r)
{
	struct vmmio_rng_config c = {.size = sizeof(c),
				     .mem = r->f.g.mem,
				     .host = &df_host,
				     .host_opaque = &r->f};

	return c;
}

static void rig_start(struct rig *r, const struct vmmio_rng_config *cfg,
		      uint64_t wanted, uint16_t qsize)
{
	ck_assert_int_eq(vmmio_rng_new(cfg, &r->rng), 0);
	df_loop(&r->f, vmmio_rng_fd(r->rng), rng_process, r->rng);
	df_start(&r->f, vmmio_rng_dev(r->rng), wanted, 1, qsize);
	ck_assert_uint_eq(vmmio_drv_device_id(&r->f.drv), VIRTIO_ID_RNG);
}

/* Plain or split RAM, all ring features, default config. */
static struct rig *rig_up(bool split, uint32_t max_request)
{
	struct rig *r = rig_mem(split);
	struct vmmio_rng_config cfg = rig_cfg(r);

	cfg.max_request = max_request;
	rig_start(r, &cfg, F_RING, 64);
	return r;
}

static void rig_free(struct rig *r)
{
	ck_assert_int_eq(vmmio_dev_fault(vmmio_rng_dev(r->rng)),
			 VMMIO_FAULT_NONE);
	vmmio_rng_free(r->rng);
	df_free(&r->f);
	free(r);
}

/* ---- guarded guest buffers ---- */

/* @len writable bytes with GUARD canary bytes either side. */
static vmmio_gpa_t guarded(struct rig *r, uint32_t len)
{
	size_t n = len + 2u * GUARD;
	unsigned char *b = malloc(n);
	vmmio_gpa_t gpa = tg_alloc(&r->f.g, n, 1);

	ck_assert_ptr_nonnull(b);
	memset(b, CANARY, n);
	tg_write(&r->f.g, gpa, b, n);
	free(b);
	return gpa + GUARD;
}

static bool all_are(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/*
 * Check a guarded buffer after the device wrote @filled of its @len
 * bytes: guards and the unfilled tail still canary, the filled part not.
 * Copies the filled bytes to @out when non-NULL.
 */
static void check_guarded(struct rig *r, vmmio_gpa_t gpa, uint32_t len,
			  uint32_t filled, unsigned char *out)
{
	size_t n = len + 2u * GUARD;
	unsigned char *b = malloc(n);

	ck_assert_ptr_nonnull(b);
	tg_read(&r->f.g, gpa - GUARD, b, n);
	ck_assert_msg(all_are(b, GUARD, CANARY), "guard before buffer hit");
	ck_assert_msg(all_are(b + GUARD + len, GUARD, CANARY),
		      "guard after buffer hit");
	ck_assert_msg(all_are(b + GUARD + filled, len - filled, CANARY),
		      "bytes past the used length written");
	/* 8+ random bytes all equal to the canary: 2^-64. */
	if (filled >= 8)
		ck_assert_msg(!all_are(b + GUARD, filled, CANARY),
			      "used bytes not written");
	if (out)
		memcpy(out, b + GUARD, filled);
	free(b);
}

/* Submit one writable buffer and wait for it; return the used length. */
static uint32_t one_req(struct rig *r, vmmio_gpa_t gpa, uint32_t len)
{
	struct vmmio_drv_buf b = {gpa, len};
	void *tok;
	uint32_t got;

	ck_assert_int_eq(df_submit(&r->f, 0, &b, 0, 1, DF_DIRECT, &b), 0);
	ck_assert_int_eq(df_wait(&r->f, 0, &tok, &got), 1);
	ck_assert_ptr_eq(tok, &b);
	return got;
}

/* Used elements waiting; each must have length @len. */
static unsigned collect(struct rig *r, uint32_t len)
{
	unsigned n = 0;
	uint32_t got;
	void *tok;

	while (vmmio_drv_vq_get_used(&r->f.vq[0], &tok, &got) == 1) {
		ck_assert_uint_eq(got, len);
		n++;
	}
	return n;
}

static bool timer_armed(int fd)
{
	struct itimerspec its;

	ck_assert_int_eq(timerfd_gettime(fd, &its), 0);
	return its.it_value.tv_sec || its.it_value.tv_nsec;
}

static bool fd_ready(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int rc = poll(&p, 1, timeout_ms);

	ck_assert_int_ge(rc, 0);
	return rc == 1 && (p.revents & POLLIN);
}

/* ---- request lengths ---- */

/* _i: bit 0 split RAM, bit 1 no ring features (no EVENT_IDX). */
START_TEST(test_lengths)
{
	static const uint32_t len[] = {1,    2,	   15,	 64,   1000,
				       4095, 4096, 4097, 8192, 12345};
	struct rig *r = rig_mem(_i & 1);
	struct vmmio_rng_config cfg = rig_cfg(r);
	uint64_t total = 0;

	rig_start(r, &cfg, (_i & 2) ? 0 : F_RING, 64);
	for (size_t i = 0; i < sizeof(len) / sizeof(len[0]); i++) {
		uint32_t want = len[i] < VMMIO_RNG_REQUEST_DEFAULT
				    ? len[i]
				    : VMMIO_RNG_REQUEST_DEFAULT;
		vmmio_gpa_t gpa = guarded(r, len[i]);

		ck_assert_uint_eq(one_req(r, gpa, len[i]), want);
		check_guarded(r, gpa, len[i], want, NULL);
		total += want;
		ck_assert_uint_eq(vmmio_rng_bytes(r->rng), total);
	}
	rig_free(r);
}
END_TEST

/* _i % 3: the cap; _i / 3: split RAM. */
START_TEST(test_cap)
{
	static const uint32_t caps[] = {1, 100, 65536};
	static const uint32_t len[] = {1, 2, 99, 100, 101, 5000, 65536, 70000};
	uint32_t cap = caps[_i % 3];
	struct rig *r = rig_up(_i / 3, cap);

	for (size_t i = 0; i < sizeof(len) / sizeof(len[0]); i++) {
		uint32_t want = len[i] < cap ? len[i] : cap;
		vmmio_gpa_t gpa = guarded(r, len[i]);

		ck_assert_uint_eq(one_req(r, gpa, len[i]), want);
		check_guarded(r, gpa, len[i], want, NULL);
	}
	rig_free(r);
}
END_TEST

START_TEST(test_random)
{
	struct rig *r = rig_up(false, 0);
	unsigned char a[64], b[64], zero[64] = {0}, big[4096];
	vmmio_gpa_t ga = guarded(r, 64), gb = guarded(r, 64);
	vmmio_gpa_t gbig = guarded(r, 4096);
	bool seen[256] = {false};
	unsigned distinct = 0;

	ck_assert_uint_eq(one_req(r, ga, 64), 64);
	ck_assert_uint_eq(one_req(r, gb, 64), 64);
	check_guarded(r, ga, 64, 64, a);
	check_guarded(r, gb, 64, 64, b);
	ck_assert_mem_ne(a, zero, 64);
	ck_assert_mem_ne(b, zero, 64);
	ck_assert_mem_ne(a, b, 64);
	/* 4096 uniform bytes miss a given value with p = e^-16. */
	ck_assert_uint_eq(one_req(r, gbig, 4096), 4096);
	check_guarded(r, gbig, 4096, 4096, big);
	for (size_t i = 0; i < sizeof(big); i++) {
		distinct += !seen[big[i]];
		seen[big[i]] = true;
	}
	ck_assert_uint_ge(distinct, 250);
	rig_free(r);
}
END_TEST

/*
 * A readable buffer (ignored) then three writable ones, each guarded,
 * in each layout; the cap cuts the third. _i % 3: layout; _i / 3: split.
 */
START_TEST(test_layouts)
{
	static const enum df_layout lay[] = {DF_DIRECT, DF_INDIRECT, DF_MIXED};
	static const char text[16] = "readable part!!";
	static const uint32_t wl[3] = {10, 20, 30};
	struct rig *r = rig_up(_i / 3, 45);
	struct vmmio_drv_buf b[4];
	unsigned char rd[16];
	uint32_t len;
	void *tok;

	b[0].gpa = guarded(r, sizeof(text));
	b[0].len = sizeof(text);
	tg_write(&r->f.g, b[0].gpa, text, sizeof(text));
	for (unsigned i = 0; i < 3; i++) {
		b[1 + i].gpa = guarded(r, wl[i]);
		b[1 + i].len = wl[i];
	}
	ck_assert_int_eq(df_submit(&r->f, 0, b, 1, 3, lay[_i % 3], b), 0);
	ck_assert_int_eq(df_wait(&r->f, 0, &tok, &len), 1);
	ck_assert_ptr_eq(tok, b);
	ck_assert_uint_eq(len, 45);
	check_guarded(r, b[1].gpa, 10, 10, NULL);
	check_guarded(r, b[2].gpa, 20, 20, NULL);
	check_guarded(r, b[3].gpa, 30, 15, NULL);
	tg_read(&r->f.g, b[0].gpa, rd, sizeof(rd));
	ck_assert_mem_eq(rd, text, sizeof(text));
	ck_assert_uint_eq(vmmio_rng_bytes(r->rng), 45);
	rig_free(r);
}
END_TEST

/*
 * virtio 1.2 §5.4.6: the driver must not queue device-readable buffers
 * and the device must give one or more bytes; with no writable part the
 * only answer is used length 0. The device goes on working.
 */
START_TEST(test_no_writable)
{
	static const char text[8] = "in only";
	struct rig *r = rig_up(_i, 0);
	struct vmmio_drv_buf b = {guarded(r, 8), 8};
	unsigned char rd[8];
	uint32_t len = 99;
	void *tok;

	tg_write(&r->f.g, b.gpa, text, 8);
	ck_assert_int_eq(df_submit(&r->f, 0, &b, 1, 0, DF_DIRECT, &b), 0);
	ck_assert_int_eq(df_wait(&r->f, 0, &tok, &len), 1);
	ck_assert_ptr_eq(tok, &b);
	ck_assert_uint_eq(len, 0);
	tg_read(&r->f.g, b.gpa, rd, 8);
	ck_assert_mem_eq(rd, text, 8);
	ck_assert_uint_eq(vmmio_rng_bytes(r->rng), 0);
	ck_assert_uint_eq(one_req(r, guarded(r, 32), 32), 32);
	rig_free(r);
}
END_TEST

START_TEST(test_legacy)
{
	struct rig *r = rig_mem(false);
	struct vmmio_rng_config cfg = rig_cfg(r);
	vmmio_gpa_t gpa = guarded(r, 100);

	cfg.version = 1;
	rig_start(r, &cfg, F_RING, 16);
	ck_assert_uint_eq(vmmio_drv_version(&r->f.drv), 1);
	ck_assert_uint_eq(one_req(r, gpa, 100), 100);
	check_guarded(r, gpa, 100, 100, NULL);
	rig_free(r);
}
END_TEST

/* Offered ring features minus features_off; no config space. */
START_TEST(test_features)
{
	static const uint64_t off[] = {0, 1ull << VIRTIO_RING_F_EVENT_IDX,
				       1ull << VIRTIO_RING_F_INDIRECT_DESC,
				       F_RING};
	struct rig *r = rig_mem(false);
	struct vmmio_rng_config cfg = rig_cfg(r);
	uint32_t cfgword = 0xffffffffu;

	cfg.features_off = off[_i];
	rig_start(r, &cfg, ~0ull, 16);
	ck_assert_uint_eq(vmmio_dev_features(vmmio_rng_dev(r->rng)),
			  (F_RING & ~off[_i]) | (1ull << VIRTIO_F_VERSION_1));
	df_config(&r->f, 0, &cfgword, 4);
	ck_assert_uint_eq(cfgword, 0);
	ck_assert_uint_eq(one_req(r, guarded(r, 16), 16), 16);
	rig_free(r);
}
END_TEST

/* ---- rate limit ---- */

START_TEST(test_fd)
{
	struct rig *r = rig_mem(false);
	struct vmmio_rng_config cfg = rig_cfg(r);
	struct vmmio_rng *lim;

	ck_assert_int_eq(vmmio_rng_new(&cfg, &r->rng), 0);
	ck_assert_int_eq(vmmio_rng_fd(r->rng), -1);
	cfg.rate = 1;
	ck_assert_int_eq(vmmio_rng_new(&cfg, &lim), 0);
	ck_assert_int_ge(vmmio_rng_fd(lim), 0);
	ck_assert(!timer_armed(vmmio_rng_fd(lim)));
	/* Before DRIVER_OK there is nothing to serve. */
	ck_assert_int_eq(vmmio_rng_process(lim), 0);
	ck_assert_int_eq(vmmio_rng_process(r->rng), 0);
	vmmio_rng_free(lim);
	vmmio_rng_free(NULL);
	rig_free(r);
}
END_TEST

/*
 * rate R, burst B: B bytes at once, the rest only as the timer fires,
 * and never more than B + R * elapsed. _i: split RAM.
 */
#define RL_RATE 2048u
#define RL_BURST 2048u
#define RL_REQ 512u
#define RL_N 6u

static void rate_bound(struct rig *r, unsigned served, double t0)
{
	double limit = RL_BURST + RL_RATE * (now_s() - t0);

	ck_assert_uint_eq(vmmio_rng_bytes(r->rng), (uint64_t)served * RL_REQ);
	ck_assert_msg(served * RL_REQ <= limit + 1.0,
		      "%u bytes served, bucket allows %.0f", served * RL_REQ,
		      limit);
}

START_TEST(test_rate_burst)
{
	struct rig *r = rig_mem(_i);
	struct vmmio_rng_config cfg = rig_cfg(r);
	struct vmmio_drv_buf b[RL_N];
	unsigned served, n, wakeups = 0;
	double t0 = now_s(), t1;
	bool armed;
	int fd;

	cfg.rate = RL_RATE;
	cfg.burst = RL_BURST;
	cfg.max_request = RL_REQ;
	rig_start(r, &cfg, F_RING, 16);
	fd = vmmio_rng_fd(r->rng);
	for (unsigned i = 0; i < RL_N; i++) {
		/* Twice the cap: the used length says the cap was kept. */
		b[i].gpa = guarded(r, 2 * RL_REQ);
		b[i].len = 2 * RL_REQ;
		ck_assert_int_eq(
		    df_submit(&r->f, 0, &b[i], 0, 1, DF_DIRECT, &b[i]), 0);
	}
	served = collect(r, RL_REQ);
	armed = timer_armed(fd);
	t1 = now_s();
	/* The whole burst at once, and no more than the bucket allows. */
	ck_assert_uint_ge(served * RL_REQ, RL_BURST);
	rate_bound(r, served, t0);
	if ((t1 - t0) * RL_RATE < RL_REQ) {
		/* Too soon for one more request's tokens: exactly B, and
		 * the timer waits for the next request's tokens. */
		ck_assert_uint_eq(served, RL_BURST / RL_REQ);
		ck_assert(armed);
	}
	while (served < RL_N) {
		ck_assert_msg(fd_ready(fd, 5000), "timer never fired");
		wakeups++;
		ck_assert_int_eq(vmmio_rng_process(r->rng), 0);
		/* The timer is set for when one request's tokens are back. */
		n = collect(r, RL_REQ);
		ck_assert_uint_ge(n, 1);
		served += n;
		rate_bound(r, served, t0);
	}
	ck_assert_uint_ge(wakeups, 1);
	/* (N * REQ - B) / R seconds at least: 0.5 s. */
	ck_assert_msg(now_s() - t0 >=
			  (double)(RL_N * RL_REQ - RL_BURST) / RL_RATE - 1e-3,
		      "served too fast");
	for (unsigned i = 0; i < RL_N; i++)
		check_guarded(r, b[i].gpa, 2 * RL_REQ, RL_REQ, NULL);
	/* All done: the timer is disarmed and kicks are back on. */
	ck_assert(!timer_armed(fd));
	ck_assert_uint_eq(one_req(r, guarded(r, 1), 1), 1);
	rig_free(r);
}
END_TEST

/* burst 0 = max(rate, max_request). _i 0: rate < cap; 1: rate > cap. */
START_TEST(test_rate_default_burst)
{
	static const uint64_t rate[] = {100, 10000};
	struct rig *r = rig_mem(false);
	struct vmmio_rng_config cfg = rig_cfg(r);
	uint64_t burst = rate[_i] > 512 ? rate[_i] : 512;
	struct vmmio_drv_buf b = {0, 512};
	double t0 = now_s(), dt;
	unsigned served, i;

	cfg.rate = rate[_i];
	cfg.max_request = 512;
	rig_start(r, &cfg, F_RING, 32);
	b.gpa = guarded(r, 512);
	for (i = 0; i < 24; i++)
		ck_assert_int_eq(df_submit(&r->f, 0, &b, 0, 1, DF_DIRECT, &b),
				 0);
	served = collect(r, 512);
	dt = now_s() - t0;
	ck_assert_uint_ge(served, burst / 512);
	ck_assert_double_le(served * 512.0,
			    (double)burst + (double)rate[_i] * dt + 1.0);
	if (dt < 0.2)
		ck_assert_uint_lt(served, 24);
	if (_i == 0 && dt < 2.0) {
		struct itimerspec its;

		/* 512 tokens at 100 B/s: about 5 s away. */
		ck_assert_uint_eq(served, 1);
		ck_assert_int_eq(timerfd_gettime(vmmio_rng_fd(r->rng), &its),
				 0);
		ck_assert_int_ge(its.it_value.tv_sec, 3);
	}
	rig_free(r);
}
END_TEST

static void sleep_150ms(void)
{
	struct timespec ts = {0, 150000000};

	while (nanosleep(&ts, &ts))
		;
}

/*
 * Idle time fills the bucket up to the burst only. A (spurious) kick once
 * tokens are back serves waiting requests before the timer is handled,
 * and leaves no stale wake-up behind.
 */
START_TEST(test_kick_while_waiting)
{
	struct rig *r = rig_mem(false);
	struct vmmio_rng_config cfg = rig_cfg(r);
	struct vmmio_drv_buf b;
	unsigned n, m;
	double t0;
	int fd;

	/* 1000 B/s: the second 100-byte request is 100 ms away. */
	cfg.rate = 1000;
	cfg.burst = 100;
	cfg.max_request = 100;
	rig_start(r, &cfg, F_RING, 8);
	fd = vmmio_rng_fd(r->rng);
	b = (struct vmmio_drv_buf){guarded(r, 100), 100};
	/* 150 ms idle: 150 tokens, capped at the 100-byte burst. */
	sleep_150ms();
	t0 = now_s();
	ck_assert_int_eq(df_submit(&r->f, 0, &b, 0, 1, DF_DIRECT, &b), 0);
	ck_assert_int_eq(df_submit(&r->f, 0, &b, 0, 1, DF_DIRECT, &b), 0);
	ck_assert_int_eq(df_submit(&r->f, 0, &b, 0, 1, DF_DIRECT, &b), 0);
	n = collect(r, 100);
	ck_assert_uint_ge(n, 1);
	if (now_s() - t0 < 0.09)
		ck_assert_uint_eq(n, 1);
	while (n < 3) {
		ck_assert(timer_armed(fd) || fd_ready(fd, 0));
		/* 150 tokens back: a kick serves at least one. */
		sleep_150ms();
		ck_assert_int_eq(vmmio_dev_notify(vmmio_rng_dev(r->rng), 0), 0);
		m = collect(r, 100);
		ck_assert_uint_ge(m, 1);
		n += m;
	}
	ck_assert_uint_eq(n, 3);
	/* The timer was never handled, yet nothing is left to wake for. */
	ck_assert(!timer_armed(fd));
	ck_assert(!fd_ready(fd, 0));
	rig_free(r);
}
END_TEST

/* ---- reset ---- */

/* Rate-limited: a request waits for tokens, reset, a fresh one served. */
START_TEST(test_reset_pending)
{
	struct rig *r = rig_mem(_i);
	struct vmmio_rng_config cfg = rig_cfg(r);
	struct vmmio_drv_buf a = {0, 1024}, b = {0, 1024}, c = {0, 16};
	double t_drained;
	uint32_t len;
	void *tok;
	int fd;

	/* 64 B/s: the second 1024-byte request is 16 s away. */
	cfg.rate = 64;
	cfg.burst = 1024;
	cfg.max_request = 1024;
	rig_start(r, &cfg, F_RING, 8);
	fd = vmmio_rng_fd(r->rng);
	a.gpa = guarded(r, 1024);
	b.gpa = guarded(r, 1024);
	c.gpa = guarded(r, 16);
	/* Before a is served: the bucket is empty from then on. */
	t_drained = now_s();
	ck_assert_int_eq(df_submit(&r->f, 0, &a, 0, 1, DF_DIRECT, &a), 0);
	ck_assert_int_eq(df_submit(&r->f, 0, &b, 0, 1, DF_DIRECT, &b), 0);
	ck_assert_int_eq(vmmio_drv_vq_get_used(&r->f.vq[0], &tok, &len), 1);
	ck_assert_ptr_eq(tok, &a);
	ck_assert_int_eq(vmmio_drv_vq_get_used(&r->f.vq[0], &tok, &len), 0);
	ck_assert(timer_armed(fd));

	ck_assert_int_eq(vmmio_drv_reset(&r->f.drv), 0);
	ck_assert(!timer_armed(fd));
	ck_assert(!fd_ready(fd, 0));
	ck_assert_int_eq(vmmio_rng_process(r->rng), 0);
	check_guarded(r, b.gpa, 1024, 0, NULL);

	df_start(&r->f, vmmio_rng_dev(r->rng), F_RING, 1, 8);
	ck_assert_int_eq(df_submit(&r->f, 0, &c, 0, 1, DF_DIRECT, &c), 0);
	/* The reset gave no fresh burst: 16 tokens take 250 ms. */
	if (now_s() - t_drained < 0.2)
		ck_assert_uint_eq(vmmio_drv_vq_used_pending(&r->f.vq[0]), 0);
	ck_assert_int_eq(df_wait(&r->f, 0, &tok, &len), 1);
	ck_assert_ptr_eq(tok, &c);
	ck_assert_uint_eq(len, 16);
	check_guarded(r, c.gpa, 16, 16, NULL);
	/* b was never completed. */
	check_guarded(r, b.gpa, 1024, 0, NULL);
	ck_assert_uint_eq(vmmio_drv_vq_used_pending(&r->f.vq[0]), 0);
	ck_assert_uint_eq(vmmio_rng_bytes(r->rng), 1024 + 16);
	rig_free(r);
}
END_TEST

/* No limit: a request added without a kick, host reset, fresh request. */
START_TEST(test_reset_unkicked)
{
	struct rig *r = rig_up(_i, 0);
	struct vmmio_drv_buf a = {guarded(r, 64), 64};
	struct vmmio_drv_req req = {.buf = &a, .n_in = 1, .n_direct = 1};
	vmmio_gpa_t gpa = guarded(r, 64);

	ck_assert_int_eq(vmmio_drv_vq_add(&r->f.vq[0], &req, &a), 0);
	vmmio_dev_reset(vmmio_rng_dev(r->rng));
	ck_assert_int_eq(vmmio_rng_process(r->rng), 0);
	df_start(&r->f, vmmio_rng_dev(r->rng), F_RING, 1, 64);
	ck_assert_uint_eq(one_req(r, gpa, 64), 64);
	check_guarded(r, gpa, 64, 64, NULL);
	check_guarded(r, a.gpa, 64, 0, NULL);
	ck_assert_uint_eq(vmmio_rng_bytes(r->rng), 64);
	rig_free(r);
}
END_TEST

/* virtio 1.2 §3.1.1: a driver may queue before DRIVER_OK; activation
 * serves what is there. _i: split RAM. */
START_TEST(test_queued_before_driver_ok)
{
	struct rig *r = rig_mem(_i);
	struct vmmio_rng_config cfg = rig_cfg(r);
	struct dfix *f = &r->f;
	struct vmmio_drv_buf b;
	struct vmmio_drv_req req = {.buf = &b, .n_in = 1, .n_direct = 1};

	ck_assert_int_eq(vmmio_rng_new(&cfg, &r->rng), 0);
	f->dev = vmmio_rng_dev(r->rng);
	f->nq = 1;
	f->qsize = 16;
	ck_assert_int_eq(
	    vmmio_drv_init(&f->drv, vmmio_dev_driver_ops(), f->dev), 0);
	ck_assert_int_eq(vmmio_drv_negotiate(&f->drv, F_RING, &f->features), 0);
	ck_assert_int_eq(
	    vmmio_drv_vq_init(&f->vq[0], 16, tg_ring_ptr(&f->g, TG_RING_GPA),
			      TG_RING_GPA, vmmio_drv_vq_ring_bytes(16, 4), 4,
			      f->slot[0], f->features),
	    0);
	ck_assert_int_eq(vmmio_drv_setup_queue(&f->drv, 0, &f->vq[0]), 0);
	b = (struct vmmio_drv_buf){guarded(r, 32), 32};
	ck_assert_int_eq(vmmio_drv_vq_add(&f->vq[0], &req, &b), 0);
	/* A kick before DRIVER_OK is absorbed by the transport. */
	vmmio_drv_notify(&f->drv, 0);
	ck_assert_uint_eq(vmmio_drv_vq_used_pending(&f->vq[0]), 0);
	ck_assert_int_eq(vmmio_drv_driver_ok(&f->drv), 0);
	ck_assert_uint_eq(collect(r, 32), 1);
	check_guarded(r, b.gpa, 32, 32, NULL);
	rig_free(r);
}
END_TEST

/* ---- hostile buffers ---- */

/* A writable buffer in ROM or outside RAM: queue fault, -EIO, reset. */
START_TEST(test_fault)
{
	static const vmmio_gpa_t where[] = {TG_ROM_GPA, 0x40000000ull};
	struct rig *r = rig_mem(false);
	struct vmmio_rng_config cfg = rig_cfg(r);
	struct vmmio_drv_buf b = {where[_i % 2], 64};
	struct vmmio_dev *dev;
	unsigned char rom[64];

	cfg.rate = _i / 2 ? 1000000 : 0;
	rig_start(r, &cfg, F_RING, 16);
	dev = vmmio_rng_dev(r->rng);
	ck_assert_int_eq(df_submit(&r->f, 0, &b, 0, 1, DF_DIRECT, &b), 0);
	ck_assert_int_eq(vmmio_dev_fault(dev), VMMIO_FAULT_BUFFER_RANGE);
	ck_assert_uint_ne(vmmio_dev_status(dev) & VIRTIO_CONFIG_S_NEEDS_RESET,
			  0);
	ck_assert_int_eq(vmmio_rng_process(r->rng), -EIO);
	ck_assert_uint_eq(vmmio_rng_bytes(r->rng), 0);
	tg_read(&r->f.g, TG_ROM_GPA, rom, sizeof(rom));
	ck_assert(all_are(rom, sizeof(rom), 0xee));
	df_restart(&r->f, F_RING);
	ck_assert_uint_eq(one_req(r, guarded(r, 8), 8), 8);
	rig_free(r);
}
END_TEST

/*
 * A guest on another vCPU adds a request each time it is interrupted
 * (here: from the interrupt hook, inside the device's publish). Without a
 * limit one kick serves them all (the enable_notify re-check loop); with
 * a timer, each call serves at most the queue size (checklist row 14)
 * and the timer brings the device back. _i: rate-limited.
 */
static void conc_irq(void *opaque, bool raise)
{
	struct rig *r = opaque;
	struct vmmio_drv_buf b = {r->buf, 64};
	struct vmmio_drv_req req = {.buf = &b, .n_in = 1, .n_direct = 1};

	if (!raise)
		return;
	r->f.raised++;
	r->collected += collect(r, 64);
	if (r->added < r->total) {
		/* No kick: a concurrent driver's kick comes later. */
		ck_assert_int_eq(vmmio_drv_vq_add(&r->f.vq[0], &req, r), 0);
		r->added++;
	}
}

static const struct vmmio_host_ops conc_host = {.size = sizeof(conc_host),
						.irq = conc_irq};

START_TEST(test_concurrent_guest)
{
	struct rig *r = rig_mem(false);
	struct vmmio_rng_config cfg = rig_cfg(r);
	struct vmmio_drv_buf b;
	unsigned before, rounds = 0;

	cfg.host = &conc_host;
	cfg.host_opaque = r;
	cfg.max_request = 64;
	if (_i) {
		cfg.rate = 1000000000;
		cfg.burst = 1u << 20;
	}
	r->total = 100;
	rig_start(r, &cfg, 0, 8);
	r->buf = guarded(r, 64);
	b = (struct vmmio_drv_buf){r->buf, 64};
	r->added = 1;
	ck_assert_int_eq(df_submit(&r->f, 0, &b, 0, 1, DF_DIRECT, r), 0);
	if (!_i) {
		ck_assert_uint_eq(r->collected, r->total);
	} else {
		ck_assert_uint_eq(r->collected, 8);
		while (r->collected < r->total) {
			ck_assert(fd_ready(vmmio_rng_fd(r->rng), 5000));
			before = r->collected;
			ck_assert_int_eq(vmmio_rng_process(r->rng), 0);
			ck_assert_uint_gt(r->collected, before);
			ck_assert_uint_le(r->collected - before, 8);
			ck_assert_uint_lt(++rounds, 100);
		}
		ck_assert_uint_ge(rounds, 11);
	}
	ck_assert_uint_eq(vmmio_rng_bytes(r->rng), 64u * r->total);
	check_guarded(r, r->buf, 64, 64, NULL);
	rig_free(r);
}
END_TEST

/* ---- creation ---- */

/* Fail allocation 1, 2, ... in turn: -ENOMEM, nothing left. _i: rate. */
START_TEST(test_alloc_sweep)
{
	struct rig *r = rig_mem(false);
	unsigned fds = (unsigned)count_fds(), n;

	for (n = 1;; n++) {
		struct failer h = {.fail_at = n};
		struct vmmio_rng_config cfg = rig_cfg(r);
		struct vmmio_rng *rng = NULL;
		int rc;

		cfg.host = &failer_ops;
		cfg.host_opaque = &h;
		cfg.rate = _i ? 4096 : 0;
		rc = vmmio_rng_new(&cfg, &rng);
		if (rc == 0) {
			ck_assert_uint_lt(h.count, n); /* none failed */
			ck_assert_int_eq(vmmio_rng_fd(rng) >= 0, _i);
			vmmio_rng_free(rng);
			ck_assert_int_eq(h.live, 0);
			break;
		}
		ck_assert_int_eq(rc, -ENOMEM);
		ck_assert_ptr_null(rng);
		ck_assert_int_eq(h.live, 0);
		ck_assert_uint_lt(n, 100);
	}
	/* rng, device, queue at least went through the hook. */
	ck_assert_uint_ge(n - 1, 3);
	ck_assert_uint_eq((unsigned)count_fds(), fds);
	df_free(&r->f);
	free(r);
}
END_TEST

/* The timer cannot be made (no descriptor left): its errno, no leak. */
START_TEST(test_timer_fails)
{
	struct rig *r = rig_mem(false);
	struct failer h = {0};
	struct vmmio_rng_config cfg = rig_cfg(r);
	struct vmmio_rng *rng = NULL;
	struct rlimit old, none;
	int rc;

	cfg.host = &failer_ops;
	cfg.host_opaque = &h;
	cfg.rate = 1000;
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	none = old;
	none.rlim_cur = 0;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &none), 0);
	rc = vmmio_rng_new(&cfg, &rng);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	ck_assert_int_eq(rc, -EMFILE);
	ck_assert_ptr_null(rng);
	ck_assert_int_eq(h.live, 0);
	ck_assert_uint_ge(h.count, 3);
	ck_assert_ptr_nonnull(strstr(h.last, "timerfd"));
	/* No limit, no timer: fine without descriptors. */
	cfg.rate = 0;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &none), 0);
	rc = vmmio_rng_new(&cfg, &rng);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	ck_assert_int_eq(rc, 0);
	vmmio_rng_free(rng);
	ck_assert_int_eq(h.live, 0);
	df_free(&r->f);
	free(r);
}
END_TEST

struct bad_row {
	const char *what;
	uint32_t max_request;
	uint16_t queue_size;
	uint64_t rate, burst;
	uint32_t version;
	bool no_mem;
	const char *name, *value; /* both must be in the log line */
};

static const struct bad_row bad_rows[] = {
    {"max_request 0x200000", 0x200000, 0, 0, 0, 0, false, "max_request",
     "2097152"},
    {"max_request max + 1", VMMIO_RNG_REQUEST_MAX + 1, 0, 0, 0, 0, false,
     "max_request", "1048577"},
    {"queue_size 3", 0, 3, 0, 0, 0, false, "queue_size", " 3 "},
    {"queue_size 96", 0, 96, 0, 0, 0, false, "queue_size", "96"},
    {"queue_size 2048", 0, 2048, 0, 0, 0, false, "queue_size", "2048"},
    {"burst < default max_request", 0, 0, 100000, 4095, 0, false, "burst",
     "4095"},
    {"burst < max_request", 512, 0, 1000, 511, 0, false, "burst", "511"},
    {"burst < max_request, no rate", 512, 0, 0, 1, 0, false, "burst", " 1 "},
    {"version 3", 0, 0, 0, 0, 3, false, "version", "version"},
    {"no memory map", 0, 0, 0, 0, 0, true, "mem", "mem"},
};
#define NBAD (sizeof(bad_rows) / sizeof(bad_rows[0]))

START_TEST(test_bad_config)
{
	const struct bad_row *row = &bad_rows[_i];
	struct rig *r = rig_mem(false);
	struct failer h = {0};
	struct vmmio_rng_config cfg = rig_cfg(r);
	struct vmmio_rng *rng = (struct vmmio_rng *)&h;

	cfg.host = &failer_ops;
	cfg.host_opaque = &h;
	cfg.max_request = row->max_request;
	cfg.queue_size = row->queue_size;
	cfg.rate = row->rate;
	cfg.burst = row->burst;
	cfg.version = row->version;
	if (row->no_mem)
		cfg.mem = NULL;
	ck_assert_int_eq(vmmio_rng_new(&cfg, &rng), -EINVAL);
	ck_assert_ptr_eq(rng, (struct vmmio_rng *)&h);
	ck_assert_int_eq(h.live, 0);
	ck_assert_uint_ge(h.logs, 1);
	ck_assert_msg(strstr(h.last, row->name) && strstr(h.last, row->value),
		      "%s: log \"%s\" lacks \"%s\"/\"%s\"", row->what, h.last,
		      row->name, row->value);
	df_free(&r->f);
	free(r);
}
END_TEST

/* Bounds accepted, and the calls that cannot name a config. */
START_TEST(test_good_bounds)
{
	struct rig *r = rig_mem(false);
	struct vmmio_rng_config cfg = rig_cfg(r);
	struct vmmio_rng *rng = NULL;

	cfg.max_request = VMMIO_RNG_REQUEST_MAX;
	cfg.queue_size = 1024;
	cfg.rate = 1;
	cfg.burst = VMMIO_RNG_REQUEST_MAX;
	ck_assert_int_eq(vmmio_rng_new(&cfg, &rng), 0);
	vmmio_rng_free(rng);
	cfg.max_request = 1;
	cfg.queue_size = 1;
	cfg.burst = 1;
	ck_assert_int_eq(vmmio_rng_new(&cfg, &rng), 0);
	vmmio_rng_free(rng);
	ck_assert_int_eq(vmmio_rng_new(NULL, &rng), -EINVAL);
	ck_assert_int_eq(vmmio_rng_new(&cfg, NULL), -EINVAL);
	cfg.size = sizeof(cfg) - 1;
	ck_assert_int_eq(vmmio_rng_new(&cfg, &rng), -EINVAL);
	df_free(&r->f);
	free(r);
}
END_TEST

/* The largest cap in one request: 1 MiB less the guards of plain RAM. */
START_TEST(test_max_request_max)
{
	struct rig *r = rig_up(false, VMMIO_RNG_REQUEST_MAX);
	uint32_t len = (uint32_t)TG_DATA_LEN - 2u * GUARD;
	vmmio_gpa_t gpa = guarded(r, len);

	ck_assert_uint_eq(one_req(r, gpa, len), len);
	check_guarded(r, gpa, len, len, NULL);
	rig_free(r);
}
END_TEST

Suite *rng_suite(void)
{
	Suite *s = suite_create("rng");
	TCase *req = tcase_create("requests");
	TCase *rate = tcase_create("rate");
	TCase *life = tcase_create("lifecycle");

	tcase_add_loop_test(req, test_lengths, 0, 4);
	tcase_add_loop_test(req, test_cap, 0, 6);
	tcase_add_test(req, test_random);
	tcase_add_loop_test(req, test_layouts, 0, 6);
	tcase_add_loop_test(req, test_no_writable, 0, 2);
	tcase_add_test(req, test_legacy);
	tcase_add_loop_test(req, test_features, 0, 4);
	tcase_add_test(req, test_max_request_max);
	tcase_add_loop_test(req, test_fault, 0, 4);
	tcase_add_loop_test(req, test_concurrent_guest, 0, 2);
	suite_add_tcase(s, req);

	tcase_set_timeout(rate, 30);
	tcase_add_test(rate, test_fd);
	tcase_add_loop_test(rate, test_rate_burst, 0, 2);
	tcase_add_loop_test(rate, test_rate_default_burst, 0, 2);
	tcase_add_test(rate, test_kick_while_waiting);
	suite_add_tcase(s, rate);

	tcase_set_timeout(life, 30);
	tcase_add_loop_test(life, test_reset_pending, 0, 2);
	tcase_add_loop_test(life, test_reset_unkicked, 0, 2);
	tcase_add_loop_test(life, test_queued_before_driver_ok, 0, 2);
	tcase_add_test(life, test_timer_fails);
	tcase_add_loop_test(life, test_alloc_sweep, 0, 2);
	tcase_add_loop_test(life, test_bad_config, 0, NBAD);
	tcase_add_test(life, test_good_bounds);
	suite_add_tcase(s, life);
	return s;
}
