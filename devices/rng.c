/* SPDX-License-Identifier: Apache-2.0 */
/* libvmmio: virtio-rng device model (virtio 1.2 §5.4), token-bucket limit. */
/* POSIX clocks; timerfd and getrandom need no feature macro beyond it. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include <vmmio/rng.h>

#include "../src/internal.h"

#define NS_PER_S 1000000000u
#define RNG_QUEUE_DEFAULT 64u
#define RNG_QUEUE_MAX 1024u
/*
 * Segments a chain may occupy, sized from the configuration only: a chain
 * is at most queue-size descriptors plus an indirect table of queue-size
 * entries (checklist row 9), and a buffer crossing memory regions takes
 * more. A chain beyond this faults SEGMENTS (row 13).
 */
#define RNG_SEGS_PER_ENTRY 4u
#define RNG_SEGS_EXTRA 256u

/* The configuration with defaults applied. */
struct rng_params {
	uint32_t max_request;
	uint16_t queue_size;
	uint64_t rate, burst;
};

struct vmmio_rng {
	struct vmmio_dev *dev;
	const struct vmmio_host_ops *host;
	void *host_opaque;
	struct rng_params p;
	/* Token bucket, in bytes; frac is the part of a byte (in 1e-9
	 * bytes) accrued but not yet whole. Only used when p.rate != 0. */
	uint64_t tokens, frac, last_ns;
	int tfd;    /* timerfd, -1 without a rate limit */
	bool armed; /* tfd set to fire */
	uint64_t bytes;
	struct vmmio__ratelimit rl;
	uint32_t seg_cap;
	struct vmmio_seg *iov; /* seg_cap entries after seg[] */
	struct vmmio_seg seg[];
};

/* Token bucket */

static void refill(struct vmmio_rng *rng)
{
	uint64_t now = vmmio__now_ns(), room = rng->p.burst - rng->tokens;
	unsigned __int128 units;

	if (now <= rng->last_ns)
		return;
	/* Exact: (2^64 - 1)^2 + 1e9 fits in 128 bits, no drift. */
	units =
	    (unsigned __int128)(now - rng->last_ns) * rng->p.rate + rng->frac;
	rng->last_ns = now;
	if (units / NS_PER_S >= room) {
		rng->tokens = rng->p.burst;
		rng->frac = 0;
		return;
	}
	rng->tokens += (uint64_t)(units / NS_PER_S);
	rng->frac = (uint64_t)(units % NS_PER_S);
}

/* Nanoseconds until the bucket holds @need (> tokens, <= max_request). */
static uint64_t wait_ns(const struct vmmio_rng *rng, uint64_t need)
{
	/* deficit <= 2^20, so deficit * 1e9 < 2^50; frac < 1e9. */
	uint64_t units = (need - rng->tokens) * NS_PER_S - rng->frac;

	return units / rng->p.rate + (units % rng->p.rate != 0);
}

static void timer_set(struct vmmio_rng *rng, uint64_t ns)
{
	struct itimerspec its = {0};

	its.it_value.tv_sec = (time_t)(ns / NS_PER_S);
	its.it_value.tv_nsec = (long)(ns % NS_PER_S);
	if (timerfd_settime(rng->tfd, 0, &its, NULL) < 0) {
		vmmio__log(rng->host, rng->host_opaque, &rng->rl,
			   VMMIO_LOG_ERROR, "virtio-rng: timerfd_settime: %d",
			   errno);
		return;
	}
	rng->armed = ns != 0;
}

/* Serving requests */

/* Fill one host segment; 0 or the errno of getrandom. */
static int fill_seg(const struct vmmio_seg *s, uint32_t *done)
{
	size_t off = 0;
	ssize_t got;

	while (off < s->len) {
		got =
		    getrandom((unsigned char *)s->base + off, s->len - off, 0);
		if (got > 0) {
			/* Short returns (a signal, > 256 bytes) go round. */
			off += (size_t)got;
			*done += (uint32_t)got;
		} else if (got == 0 || errno != EINTR) {
			return got == 0 ? EIO : errno;
		}
	}
	return 0;
}

/* Fill [0, n) of the writable part straight in guest memory; return the
 * bytes filled (fewer only if getrandom failed). */
static uint32_t fill(struct vmmio_rng *rng, const struct vmmio_chain *c,
		     uint32_t n)
{
	uint32_t done = 0;
	unsigned count, i;
	int err = 0;

	/* n <= writable_len; iov has room for every segment of a chain. */
	if (n == 0 ||
	    vmmio_chain_iov(c, true, 0, n, rng->iov, rng->seg_cap, &count))
		return 0;
	for (i = 0; i < count && !err; i++)
		err = fill_seg(&rng->iov[i], &done);
	if (err)
		vmmio__log(rng->host, rng->host_opaque, &rng->rl,
			   VMMIO_LOG_ERROR,
			   "virtio-rng: getrandom failed (%d): served %" PRIu32
			   " of %" PRIu32 " bytes",
			   err, done, n);
	return done;
}

/*
 * Serve one popped chain: 1 served; 0 the bucket is short (chain given
 * back, timer armed); -EIO.
 */
static int serve_one(struct vmmio_rng *rng, struct vmmio_vq *q,
		     const struct vmmio_chain *c)
{
	/* virtio 1.2 §5.4.6.2: serve up to the cap; the readable part
	 * (a driver error, §5.4.6.1) is ignored. */
	uint32_t n = c->writable_len < rng->p.max_request ? c->writable_len
							  : rng->p.max_request;

	if (rng->p.rate) {
		refill(rng);
		if (n > rng->tokens) {
			if (vmmio_vq_unpop(q, 1))
				return -EIO;
			timer_set(rng, wait_ns(rng, n));
			return 0;
		}
	}
	n = fill(rng, c, n);
	if (rng->p.rate)
		rng->tokens -= n;
	rng->bytes += n;
	if (vmmio_vq_add_used(q, c->head, n))
		return -EIO;
	return 1;
}

/*
 * One batch with kicks off: pop and serve until the ring is empty (0),
 * the bucket is short or the budget is spent (1), or an error.
 */
static int batch(struct vmmio_rng *rng, struct vmmio_vq *q, unsigned *budget)
{
	struct vmmio_chain c = {.seg = rng->seg, .seg_cap = rng->seg_cap};
	int rc, pub;

	vmmio_vq_disable_notify(q);
	for (;;) {
		rc = vmmio_vq_pop(q, &c);
		if (rc <= 0)
			break;
		if (*budget == 0) {
			/* Row 14: bounded work per call; come back through
			 * the timer at once. */
			rc = vmmio_vq_unpop(q, 1) ? -EIO : 1;
			if (rc == 1)
				timer_set(rng, 1);
			break;
		}
		(*budget)--;
		rc = serve_one(rng, q, &c);
		if (rc <= 0) {
			rc = rc == 0 ? 1 : rc;
			break;
		}
	}
	/* One used.idx store and at most one interrupt per batch. */
	pub = vmmio_vq_publish(q);
	return rc < 0 ? rc : pub < 0 ? pub : rc;
}

static int serve(struct vmmio_rng *rng)
{
	struct vmmio_vq *q = vmmio_dev_queue(rng->dev, 0);
	/* Only with a timer to come back by; without one, the loop ends
	 * when the guest stops adding (see the report on row 14). */
	unsigned budget = rng->tfd >= 0 ? vmmio_vq_size(q) : UINT_MAX;
	int rc;

	if (vmmio_dev_fault(rng->dev) != VMMIO_FAULT_NONE)
		return -EIO;
	if (!vmmio_dev_is_active(rng->dev) || !vmmio_vq_is_ready(q))
		return 0;
	do {
		rc = batch(rng, q, &budget);
		if (rc < 0)
			goto out_fail;
		/* Waiting for tokens: kicks stay off, the timer calls. */
		if (rc == 1)
			return 0;
		/* Re-check after enabling kicks: no lost wake-up. */
		rc = vmmio_vq_enable_notify(q);
	} while (rc == 1);
	if (rc < 0)
		goto out_fail;
	if (rng->armed)
		timer_set(rng, 0);
	return 0;

out_fail:
	/* A queue fault is latched already; anything else is ours. */
	if (vmmio_dev_fault(rng->dev) == VMMIO_FAULT_NONE)
		vmmio_dev_fail(rng->dev, VMMIO_FAULT_DEVICE);
	return -EIO;
}

/* Device callbacks */

static int rng_activate(void *opaque, uint64_t features)
{
	(void)features;
	/* The driver may have queued requests before DRIVER_OK; a fault
	 * while serving them is latched already. */
	(void)serve(opaque);
	return 0;
}

static void rng_reset(void *opaque)
{
	struct vmmio_rng *rng = opaque;

	/*
	 * No chain is held across calls (short ones are given back), so
	 * only the timer goes. The bucket is not refilled: a reset must
	 * not buy the guest a fresh burst.
	 */
	if (rng->tfd >= 0)
		timer_set(rng, 0);
}

static void rng_notify(void *opaque, uint16_t queue)
{
	(void)queue;
	/* Errors are latched as device faults; nothing to report here. */
	(void)serve(opaque);
}

static const struct vmmio_dev_ops rng_ops = {
    .size = sizeof(struct vmmio_dev_ops),
    .device_id = VIRTIO_ID_RNG,
    .activate = rng_activate,
    .reset = rng_reset,
    .queue_notify = rng_notify,
};

/* Creation */

static int bad_value(const struct vmmio_rng_config *cfg, const char *what,
		     uint64_t val, const char *why)
{
	vmmio__log(cfg ? cfg->host : NULL, cfg ? cfg->host_opaque : NULL, NULL,
		   VMMIO_LOG_ERROR,
		   "vmmio_rng_new: invalid %s %" PRIu64 " (%s)", what, val,
		   why);
	return -EINVAL;
}

/* Check @cfg and work out the defaults into @p. */
static int check_config(const struct vmmio_rng_config *cfg,
			struct rng_params *p)
{
	uint64_t mr =
	    cfg->max_request ? cfg->max_request : VMMIO_RNG_REQUEST_DEFAULT;
	uint16_t qs = cfg->queue_size ? cfg->queue_size : RNG_QUEUE_DEFAULT;

	if (mr > VMMIO_RNG_REQUEST_MAX)
		return bad_value(cfg, "max_request", mr, "above 1048576");
	if (!vmmio__is_pow2(qs) || qs > RNG_QUEUE_MAX)
		return bad_value(cfg, "queue_size", qs,
				 "not a power of two up to 1024");
	if (cfg->burst && cfg->burst < mr)
		return bad_value(cfg, "burst", cfg->burst, "below max_request");
	p->max_request = (uint32_t)mr;
	p->queue_size = qs;
	p->rate = cfg->rate;
	p->burst = cfg->burst ? cfg->burst : (cfg->rate > mr ? cfg->rate : mr);
	return 0;
}

static int make_dev(struct vmmio_rng *rng, const struct vmmio_rng_config *cfg)
{
	const uint16_t sizes[1] = {rng->p.queue_size};
	const uint64_t ring = (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
			      (1ull << VIRTIO_RING_F_EVENT_IDX);
	struct vmmio_dev_config dc = {
	    .size = sizeof(dc),
	    .version = cfg->version,
	    .num_queues = 1,
	    .queue_sizes = sizes,
	    .features = ring & ~cfg->features_off,
	    .config_size = 0,
	    .mem = cfg->mem,
	    .host = cfg->host,
	    .host_opaque = cfg->host_opaque,
	};

	return vmmio_dev_new(&rng_ops, rng, &dc, &rng->dev);
}

static int make_timer(struct vmmio_rng *rng)
{
	rng->tfd = -1;
	if (!rng->p.rate)
		return 0;
	rng->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (rng->tfd < 0) {
		int err = errno;

		vmmio__log(rng->host, rng->host_opaque, NULL, VMMIO_LOG_ERROR,
			   "vmmio_rng_new: timerfd_create: %d", err);
		return -err;
	}
	/* Full bucket from the start. */
	rng->tokens = rng->p.burst;
	rng->last_ns = vmmio__now_ns();
	return 0;
}

int vmmio_rng_new(const struct vmmio_rng_config *cfg, struct vmmio_rng **out)
{
	struct rng_params p;
	struct vmmio_rng *rng;
	uint32_t segs;
	int rc;

	if (!cfg || cfg->size < sizeof(*cfg))
		return bad_value(NULL, "cfg size", cfg ? cfg->size : 0,
				 "short or NULL");
	if (!out)
		return bad_value(cfg, "out", 0, "NULL");
	rc = check_config(cfg, &p);
	if (rc)
		return rc;
	segs = RNG_SEGS_PER_ENTRY * p.queue_size + RNG_SEGS_EXTRA;
	rng = vmmio__zalloc(cfg->host, cfg->host_opaque,
			    sizeof(*rng) + 2 * sizeof(rng->seg[0]) * segs);
	if (!rng)
		return -ENOMEM;
	rng->p = p;
	rng->host = cfg->host;
	rng->host_opaque = cfg->host_opaque;
	rng->seg_cap = segs;
	rng->iov = rng->seg + segs;
	rng->tfd = -1;
	rc = make_dev(rng, cfg);
	if (rc)
		goto out_free_rng;
	rc = make_timer(rng);
	if (rc)
		goto out_free_dev;
	*out = rng;
	return 0;

out_free_dev:
	vmmio_dev_free(rng->dev);
out_free_rng:
	vmmio__free(cfg->host, cfg->host_opaque, rng);
	return rc;
}

void vmmio_rng_free(struct vmmio_rng *rng)
{
	if (!rng)
		return;
	vmmio_dev_free(rng->dev);
	if (rng->tfd >= 0)
		close(rng->tfd);
	vmmio__free(rng->host, rng->host_opaque, rng);
}

struct vmmio_dev *vmmio_rng_dev(struct vmmio_rng *rng)
{
	return rng->dev;
}

int vmmio_rng_fd(const struct vmmio_rng *rng)
{
	return rng->tfd;
}

int vmmio_rng_process(struct vmmio_rng *rng)
{
	uint64_t ticks;

	if (rng->tfd >= 0 && read(rng->tfd, &ticks, sizeof(ticks)) > 0)
		rng->armed = false;
	return serve(rng);
}

uint64_t vmmio_rng_bytes(const struct vmmio_rng *rng)
{
	return rng->bytes;
}
