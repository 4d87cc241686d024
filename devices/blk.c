/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-blk device model: requests parsed from chains, I/O by an engine. */
/* fallocate() modes, the BLK* ioctls and O_DIRECT need the GNU API: the
 * backing is an OS file. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "blk_internal.h"

#define SECTOR 512u
#define SECTOR_SHIFT 9u
#define HDR_LEN ((uint32_t)sizeof(struct virtio_blk_outhdr))
#define BIT(n) (1ull << (n))
#define CONFIG_SIZE offsetof(struct virtio_blk_config, max_secure_erase_sectors)

/* Feature bits this model can offer; features_off may only remove these. */
#define BLK_FEATURES                                                           \
	(BIT(VIRTIO_BLK_F_SIZE_MAX) | BIT(VIRTIO_BLK_F_SEG_MAX) |              \
	 BIT(VIRTIO_BLK_F_BLK_SIZE) | BIT(VIRTIO_BLK_F_FLUSH) |                \
	 BIT(VIRTIO_BLK_F_CONFIG_WCE) | BIT(VIRTIO_BLK_F_MQ) |                 \
	 BIT(VIRTIO_BLK_F_DISCARD) | BIT(VIRTIO_BLK_F_WRITE_ZEROES) |          \
	 BIT(VIRTIO_RING_F_INDIRECT_DESC) | BIT(VIRTIO_RING_F_EVENT_IDX))

/* Status bytes (VIRTIO_BLK_S_OK, _IOERR, _UNSUPP as uint8_t, checked
 * below), and "the engine has it, no status yet". */
#define ST_OK ((uint8_t)0)
#define ST_IOERR ((uint8_t)1)
#define ST_UNSUPP ((uint8_t)2)
#define ST_PENDING ((uint8_t)0xff)
_Static_assert(VIRTIO_BLK_S_OK == 0 && VIRTIO_BLK_S_IOERR == 1 &&
		   VIRTIO_BLK_S_UNSUPP == 2,
	       "status values");

/* Discard / write-zeroes flags (virtio 1.2 §5.2.6). */
#define DWZ_UNMAP 1u

static bool negotiated(const struct vmmio_blk *b, unsigned bit)
{
	return (vmmio_dev_features(b->dev) & BIT(bit)) != 0;
}

/* ---- completion ---- */

static void publish(struct blk_queue *q)
{
	if (!q->dirty)
		return;
	q->dirty = false;
	/* A fault (-EIO) is latched and reported by the transport. */
	if (vmmio_vq_publish(q->vq) < 0)
		return;
}

static void req_free(struct blk_queue *q, struct blk_req *r)
{
	r->next_free = q->free;
	q->free = r;
}

/* Status byte, used element (published per batch), request recycled. The
 * used length covers the writable part up to the status byte, its end. */
static void complete(struct blk_req *r, uint8_t status)
{
	struct blk_queue *q = r->q;

	*r->status = status;
	if (vmmio_vq_add_used(q->vq, r->c.head, r->used) == 0)
		q->dirty = true;
	req_free(q, r);
}

bool vmmio__blk_io_advance(struct blk_req *r, uint32_t n)
{
	r->done += n;
	if (r->done >= r->len)
		return false; /* the common case: all of it in one go */
	while (n && r->niov) {
		size_t k = n < r->iov->len ? n : r->iov->len;

		r->iov->base = (unsigned char *)r->iov->base + k;
		r->iov->len -= k;
		n -= (uint32_t)k;
		if (r->iov->len == 0) {
			r->iov++;
			r->niov--;
		}
	}
	return r->done < r->len;
}

void vmmio__blk_io_done(struct vmmio_blk *b, struct blk_req *r, int res)
{
	b->inflight--;
	if (b->discarding) {
		req_free(r->q, r);
		return;
	}
	if (res < 0)
		vmmio__log(b->host, b->host_opaque, &b->rl, VMMIO_LOG_WARN,
			   "virtio-blk: %s at byte %llu (%u bytes) failed: %s",
			   r->op == BLK_OP_READ	   ? "read"
			   : r->op == BLK_OP_WRITE ? "write"
						   : "flush",
			   (unsigned long long)r->off, r->len, strerror(-res));
	complete(r, (uint8_t)(res < 0 ? ST_IOERR : ST_OK));
}

/* ---- request parsing (virtio 1.2 §5.2.6) ---- */

/*
 * Point r->iov at bytes [skip, skip + len) of the stream held by
 * c.seg[first, end), trimming the segments in place.
 */
static void window(struct blk_req *r, uint32_t first, uint32_t end,
		   uint32_t skip, uint32_t len)
{
	struct vmmio_seg *s = r->c.seg;
	uint32_t i = first, n = 0;

	while (i < end && skip >= s[i].len) {
		skip -= (uint32_t)s[i].len;
		i++;
	}
	r->iov = &s[i];
	r->niov = 0;
	if (len == 0)
		return;
	s[i].base = (unsigned char *)s[i].base + skip;
	s[i].len -= skip;
	while (len) {
		if (s[i + n].len >= len) {
			s[i + n].len = len;
			len = 0;
		} else {
			len -= (uint32_t)s[i + n].len;
		}
		n++;
	}
	r->niov = n;
}

/* The status byte: the last byte of the writable part. */
static unsigned char *status_byte(const struct vmmio_chain *c)
{
	for (uint32_t i = c->nseg; i > c->nreadable; i--) {
		const struct vmmio_seg *s = &c->seg[i - 1];

		if (s->len)
			return (unsigned char *)s->base + s->len - 1;
	}
	return NULL;
}

/* [sector, sector + bytes / 512) inside the capacity, overflow-safe. */
static bool range_ok(const struct vmmio_blk *b, uint64_t sector, uint64_t bytes)
{
	uint64_t end;

	if (__builtin_add_overflow(sector, bytes >> SECTOR_SHIFT, &end))
		return false;
	return end <= b->capacity;
}

static int inject(struct vmmio_blk *b, uint32_t type, uint64_t sector,
		  uint64_t bytes)
{
	return b->inject ? b->inject(b->inject_opaque, type, sector, bytes) : 0;
}

static void submit(struct vmmio_blk *b, struct blk_req *r, enum blk_op op,
		   uint32_t type, uint64_t sector)
{
	r->op = op;
	r->done = 0;
	r->sync_data = op == BLK_OP_WRITE && !b->writeback;
	r->buffered = false;
	r->inject = inject(b, type, sector, r->len);
	b->inflight++;
	b->eng->submit(b, r);
}

/* IN: header only readable; data, then status, writable. */
static uint8_t start_read(struct vmmio_blk *b, struct blk_req *r,
			  uint64_t sector)
{
	uint32_t len = r->c.writable_len - 1;

	if (r->c.readable_len != HDR_LEN || len % SECTOR ||
	    !range_ok(b, sector, len))
		return ST_IOERR;
	r->off = sector << SECTOR_SHIFT;
	r->len = len;
	window(r, r->c.nreadable, r->c.nseg, 0, len);
	submit(b, r, BLK_OP_READ, VIRTIO_BLK_T_IN, sector);
	return ST_PENDING;
}

/* OUT: header, then data, readable; the status byte alone writable. */
static uint8_t start_write(struct vmmio_blk *b, struct blk_req *r,
			   uint64_t sector)
{
	uint32_t len = r->c.readable_len - HDR_LEN;

	if (r->c.writable_len != 1 || len % SECTOR || !range_ok(b, sector, len))
		return ST_IOERR;
	/* virtio 1.2 §5.2.6.2: IOERR for writes when RO is offered. */
	if (b->read_only)
		return ST_IOERR;
	r->off = sector << SECTOR_SHIFT;
	r->len = len;
	window(r, 0, r->c.nreadable, HDR_LEN, len);
	submit(b, r, BLK_OP_WRITE, VIRTIO_BLK_T_OUT, sector);
	return ST_PENDING;
}

static uint8_t start_flush(struct vmmio_blk *b, struct blk_req *r)
{
	if (!negotiated(b, VIRTIO_BLK_F_FLUSH))
		return ST_UNSUPP;
	r->off = 0;
	r->len = 0;
	r->niov = 0;
	submit(b, r, BLK_OP_FLUSH, VIRTIO_BLK_T_FLUSH, 0);
	return ST_PENDING;
}

static uint8_t get_id(struct vmmio_blk *b, struct blk_req *r)
{
	uint32_t n = r->c.writable_len - 1;

	if (n > VMMIO_BLK_ID_BYTES)
		n = VMMIO_BLK_ID_BYTES;
	if (vmmio_chain_write(&r->c, 0, b->id, n))
		return ST_IOERR;
	return ST_OK;
}

/* fallocate with EINTR retried; -errno. */
static int do_fallocate(int fd, int mode, uint64_t off, uint64_t len)
{
	int rc;

	do
		rc = fallocate(fd, mode, (off_t)off, (off_t)len);
	while (rc < 0 && errno == EINTR);
	return rc < 0 ? -errno : 0;
}

static int write_zero_bytes(int fd, uint64_t off, uint64_t len)
{
	static const unsigned char zero[4096];

	while (len) {
		size_t n = len < sizeof(zero) ? (size_t)len : sizeof(zero);
		ssize_t w = pwrite(fd, zero, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

/*
 * Zero [off, off + len): ZERO_RANGE, else (or when @unmap allows) a hole,
 * else plain writes of zeroes. Reads return zeroes after any of them.
 */
static int zero_range(struct vmmio_blk *b, uint64_t off, uint64_t len,
		      bool unmap)
{
	int rc = -EOPNOTSUPP;

	if (unmap && b->punch_ok)
		rc = do_fallocate(b->fd,
				  FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  off, len);
	if (rc == -EOPNOTSUPP && b->zero_range_ok) {
		rc = do_fallocate(b->fd,
				  FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
				  off, len);
		if (rc == -EOPNOTSUPP)
			b->zero_range_ok = false;
	}
	if (rc == -EOPNOTSUPP && b->punch_ok) {
		rc = do_fallocate(b->fd,
				  FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  off, len);
		if (rc == -EOPNOTSUPP)
			b->punch_ok = false;
	}
	if (rc == -EOPNOTSUPP)
		rc = write_zero_bytes(b->fd, off, len);
	return rc;
}

static int discard_range(struct vmmio_blk *b, uint64_t off, uint64_t len)
{
	int rc;

	if (!b->punch_ok)
		return 0; /* a hint: nothing to do without hole punching */
	rc = do_fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  off, len);
	if (rc == -EOPNOTSUPP) {
		b->punch_ok = false;
		rc = 0;
	}
	return rc;
}

/* Check a segment list; copy it to @seg. Status byte, or ST_PENDING if fine. */
static uint8_t dwz_parse(struct vmmio_blk *b, struct blk_req *r, bool discard,
			 struct virtio_blk_discard_write_zeroes *seg,
			 uint32_t *nseg)
{
	uint32_t bytes = r->c.readable_len - HDR_LEN;
	uint32_t max_sectors = discard ? b->cfg.max_discard_sectors
				       : b->cfg.max_write_zeroes_sectors;

	*nseg = bytes / sizeof(*seg);
	if (r->c.writable_len != 1 || bytes == 0 || bytes % sizeof(*seg) ||
	    *nseg > VMMIO_BLK_DISCARD_SEG_MAX)
		return ST_IOERR;
	if (vmmio_chain_read(&r->c, HDR_LEN, seg, bytes))
		return ST_IOERR;
	for (uint32_t i = 0; i < *nseg; i++) {
		uint32_t flags = seg[i].flags;

		/* §5.2.6.2: UNSUPP for unknown flags, and for unmap on a
		 * discard. */
		if ((flags & ~DWZ_UNMAP) || (discard && (flags & DWZ_UNMAP)))
			return ST_UNSUPP;
		if (seg[i].num_sectors > max_sectors ||
		    !range_ok(b, seg[i].sector,
			      (uint64_t)seg[i].num_sectors << SECTOR_SHIFT))
			return ST_IOERR;
	}
	return ST_PENDING;
}

static uint8_t discard_zero(struct vmmio_blk *b, struct blk_req *r,
			    uint32_t type)
{
	struct virtio_blk_discard_write_zeroes seg[VMMIO_BLK_DISCARD_SEG_MAX];
	bool discard = type == VIRTIO_BLK_T_DISCARD;
	uint32_t n;
	uint8_t st;
	int rc = 0;

	if (!negotiated(b, discard ? VIRTIO_BLK_F_DISCARD
				   : VIRTIO_BLK_F_WRITE_ZEROES))
		return ST_UNSUPP;
	st = dwz_parse(b, r, discard, seg, &n);
	if (st != ST_PENDING)
		return st;
	if (b->read_only)
		return ST_IOERR;
	for (uint32_t i = 0; i < n && !rc; i++) {
		uint64_t off = seg[i].sector << SECTOR_SHIFT;
		uint64_t len = (uint64_t)seg[i].num_sectors << SECTOR_SHIFT;

		rc = inject(b, type, seg[i].sector, len);
		if (!rc && len)
			rc = discard ? discard_range(b, off, len)
				     : zero_range(b, off, len,
						  seg[i].flags & DWZ_UNMAP);
	}
	if (!rc && !discard && !b->writeback)
		rc = fdatasync(b->fd) ? -errno : 0;
	return (uint8_t)(rc ? ST_IOERR : ST_OK);
}

/* Parse and start @r: completes it now, or hands it to the engine. */
static void start(struct vmmio_blk *b, struct blk_req *r)
{
	struct virtio_blk_outhdr h;
	uint8_t st;

	r->status = status_byte(&r->c);
	if (r->c.readable_len < HDR_LEN || !r->status) {
		/* No header or no status byte: nothing to answer with. */
		vmmio__log(b->host, b->host_opaque, &b->rl, VMMIO_LOG_WARN,
			   "virtio-blk: chain %u without %s", r->c.head,
			   r->status ? "a 16-byte header" : "a status byte");
		vmmio_vq_fail(r->q->vq, VMMIO_FAULT_DEVICE);
		req_free(r->q, r);
		return;
	}
	r->used = r->c.writable_len;
	if (vmmio_chain_read(&r->c, 0, &h, sizeof(h)))
		st = ST_IOERR;
	else if (h.type == VIRTIO_BLK_T_IN)
		st = start_read(b, r, h.sector);
	else if (h.type == VIRTIO_BLK_T_OUT)
		st = start_write(b, r, h.sector);
	else if (h.type == VIRTIO_BLK_T_FLUSH)
		st = start_flush(b, r);
	else if (h.type == VIRTIO_BLK_T_GET_ID)
		st = get_id(b, r);
	else if (h.type == VIRTIO_BLK_T_DISCARD ||
		 h.type == VIRTIO_BLK_T_WRITE_ZEROES)
		st = discard_zero(b, r, h.type);
	else
		st = ST_UNSUPP;
	if (st != ST_PENDING)
		complete(r, st);
}

/* ---- queue processing ---- */

/* Pop and start chains while requests are free. 0, or -EIO faulted. */
static int pop_all(struct blk_queue *q)
{
	for (;;) {
		struct blk_req *r = q->free;
		int rc;

		if (!r) {
			q->stalled = true;
			return 0;
		}
		r->c.seg = q->segs + (size_t)(r - q->reqs) * BLK_SEG_CAP;
		r->c.seg_cap = BLK_SEG_CAP;
		rc = vmmio_vq_pop(q->vq, &r->c);
		if (rc != 1)
			return rc;
		q->free = r->next_free;
		start(q->blk, r);
	}
}

static void queue_run(struct blk_queue *q)
{
	struct vmmio_blk *b = q->blk;
	int more;

	q->stalled = false;
	do {
		vmmio_vq_disable_notify(q->vq);
		more = pop_all(q);
		b->eng->kick(b);
		publish(q);
		if (more < 0 || q->stalled)
			return;
		/* Re-enabling re-checks the ring: 1 means more arrived. */
		more = vmmio_vq_enable_notify(q->vq);
	} while (more == 1);
}

/* ---- transport callbacks ---- */

static void config_read(void *opaque, uint32_t off, void *buf, uint32_t len)
{
	struct vmmio_blk *b = opaque;

	memcpy(buf, (const unsigned char *)&b->cfg + off, len);
}

/* Only writeback is writable, with CONFIG_WCE (virtio 1.2 §5.2.5). */
static void config_write(void *opaque, uint32_t off, const void *buf,
			 uint32_t len)
{
	struct vmmio_blk *b = opaque;
	const uint32_t wce = offsetof(struct virtio_blk_config, wce);
	uint8_t v;

	if (off > wce || off + len <= wce ||
	    !negotiated(b, VIRTIO_BLK_F_CONFIG_WCE))
		return;
	v = ((const uint8_t *)buf)[wce - off];
	if (v > 1)
		return;
	b->cfg.wce = v;
	b->writeback = v;
}

static int activate(void *opaque, uint64_t features)
{
	struct vmmio_blk *b = opaque;

	/* §5.2.6: writethrough unless FLUSH (or WCE with writeback=1). */
	if (features & BIT(VIRTIO_BLK_F_CONFIG_WCE))
		b->writeback = b->cfg.wce;
	else
		b->writeback = (features & BIT(VIRTIO_BLK_F_FLUSH)) != 0;
	for (uint16_t i = 0; i < b->nq; i++)
		queue_run(&b->q[i]);
	return 0;
}

static void reset_requests(struct vmmio_blk *b)
{
	for (uint16_t i = 0; i < b->nq; i++) {
		struct blk_queue *q = &b->q[i];

		q->free = NULL;
		q->dirty = false;
		q->stalled = false;
		for (uint16_t j = b->qsize; j > 0; j--) {
			q->reqs[j - 1].q = q;
			req_free(q, &q->reqs[j - 1]);
		}
	}
}

/* Requests in flight write guest memory: let them finish first. */
static void reset(void *opaque)
{
	struct vmmio_blk *b = opaque;

	b->discarding = true;
	b->eng->drain(b);
	b->discarding = false;
	reset_requests(b);
	b->cfg.wce = 1;
	b->writeback = true;
}

static void queue_notify(void *opaque, uint16_t queue)
{
	struct vmmio_blk *b = opaque;

	if (queue < b->nq)
		queue_run(&b->q[queue]);
}

static const struct vmmio_dev_ops blk_ops = {
    .size = sizeof(blk_ops),
    .device_id = VIRTIO_ID_BLOCK,
    .config_read = config_read,
    .config_write = config_write,
    .activate = activate,
    .reset = reset,
    .queue_notify = queue_notify,
};

/* ---- creation ---- */

static int bad(const struct vmmio_blk_config *cfg, const char *what,
	       unsigned long long val)
{
	vmmio__log(cfg->host, cfg->host_opaque, NULL, VMMIO_LOG_ERROR,
		   "virtio-blk %s: bad %s %llu",
		   cfg->path ? cfg->path : "(no path)", what, val);
	return -EINVAL;
}

static int check_config(const struct vmmio_blk_config *cfg)
{
	if (!cfg || cfg->size < sizeof(*cfg))
		return -EINVAL;
	if (!cfg->path || !cfg->mem || !cfg->host)
		return bad(cfg, "path/mem/host (NULL)", 0);
	if (cfg->engine >= VMMIO_BLK_ENGINE__COUNT)
		return bad(cfg, "engine", cfg->engine);
	if (cfg->features_off & ~BLK_FEATURES)
		return bad(cfg, "features_off bits",
			   cfg->features_off & ~BLK_FEATURES);
	if (cfg->num_queues > VMMIO_DEV_MAX_QUEUES ||
	    (cfg->num_queues > 1 && (cfg->features_off & BIT(VIRTIO_BLK_F_MQ))))
		return bad(cfg, "num_queues", cfg->num_queues);
	if (cfg->queue_size &&
	    (!vmmio__is_pow2(cfg->queue_size) || cfg->queue_size > 1024))
		return bad(cfg, "queue_size", cfg->queue_size);
	if (cfg->serial && strlen(cfg->serial) > VMMIO_BLK_ID_BYTES)
		return bad(cfg, "serial length", strlen(cfg->serial));
	if (cfg->poll_us > VMMIO_BLK_POLL_US_MAX &&
	    cfg->poll_us != VMMIO_BLK_POLL_OFF)
		return bad(cfg, "poll_us", cfg->poll_us);
	return 0;
}

/* Open the backing; capacity from its size, a multiple of 512. */
static int open_backing(struct vmmio_blk *b, const struct vmmio_blk_config *cfg)
{
	int flags = (cfg->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC |
		    (cfg->direct ? O_DIRECT : 0);
	uint64_t size;
	struct stat st;

	b->fd = open(cfg->path, flags);
	if (b->fd >= 0 && cfg->direct)
		b->fd_buffered = open(cfg->path, flags & ~O_DIRECT);
	if (b->fd < 0 || (cfg->direct && b->fd_buffered < 0)) {
		int err = -errno;

		vmmio__log(cfg->host, cfg->host_opaque, NULL, VMMIO_LOG_ERROR,
			   "virtio-blk: %s: %s", cfg->path, strerror(-err));
		return err;
	}
	if (fstat(b->fd, &st))
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(b->fd, BLKGETSIZE64, &size))
			return -errno;
	} else if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else {
		vmmio__log(cfg->host, cfg->host_opaque, NULL, VMMIO_LOG_ERROR,
			   "virtio-blk: %s: not a file or block device",
			   cfg->path);
		return -EINVAL;
	}
	if (size % SECTOR) {
		vmmio__log(cfg->host, cfg->host_opaque, NULL, VMMIO_LOG_ERROR,
			   "virtio-blk: %s: size %llu is not a multiple of 512",
			   cfg->path, (unsigned long long)size);
		return -EINVAL;
	}
	b->capacity = size >> SECTOR_SHIFT;
	return 0;
}

static void fill_config(struct vmmio_blk *b, const struct vmmio_blk_config *cfg)
{
	struct virtio_blk_config *c = &b->cfg;

	b->offered = BLK_FEATURES & ~cfg->features_off;
	if (b->nq < 2)
		b->offered &= ~BIT(VIRTIO_BLK_F_MQ);
	if (b->read_only)
		b->offered |= BIT(VIRTIO_BLK_F_RO);
	c->capacity = b->capacity;
	c->size_max = VMMIO_BLK_SIZE_MAX;
	c->seg_max = VMMIO_BLK_SEG_MAX;
	c->blk_size = SECTOR;
	c->wce = 1;
	c->num_queues = b->nq;
	c->max_discard_sectors = VMMIO_BLK_DISCARD_SECTORS_MAX;
	c->max_discard_seg = VMMIO_BLK_DISCARD_SEG_MAX;
	c->discard_sector_alignment = 8;
	c->max_write_zeroes_sectors = VMMIO_BLK_DISCARD_SECTORS_MAX;
	c->max_write_zeroes_seg = VMMIO_BLK_DISCARD_SEG_MAX;
	c->write_zeroes_may_unmap = 1;
	b->writeback = true;
	b->punch_ok = b->zero_range_ok = true;
	if (cfg->serial)
		memcpy(b->id, cfg->serial, strlen(cfg->serial));
}

static int alloc_queues(struct vmmio_blk *b)
{
	b->q = vmmio__zalloc(b->host, b->host_opaque, b->nq * sizeof(*b->q));
	if (!b->q)
		return -ENOMEM;
	for (uint16_t i = 0; i < b->nq; i++) {
		struct blk_queue *q = &b->q[i];

		q->blk = b;
		q->index = i;
		q->poll.max_ns = b->poll_ns;
		q->reqs = vmmio__zalloc(b->host, b->host_opaque,
					b->qsize * sizeof(*q->reqs));
		/* Not zeroed: only the pages requests use get touched. */
		q->segs = vmmio__alloc(b->host, b->host_opaque,
				       (size_t)b->qsize * BLK_SEG_CAP *
					   sizeof(*q->segs));
		if (!q->reqs || !q->segs)
			return -ENOMEM;
	}
	return 0;
}

static int pick_engine(struct vmmio_blk *b, const struct vmmio_blk_config *cfg)
{
	unsigned entries = (unsigned)b->nq * b->qsize;
	int rc = -ENOTSUP;

#ifdef VMMIO_HAVE_URING
	if (cfg->engine != VMMIO_BLK_ENGINE_SYNC) {
		b->eng = &vmmio__blk_uring;
		rc = b->eng->init(b, entries);
		if (rc == 0 || rc == -ENOMEM)
			return rc;
		b->eng = NULL;
	}
#endif
	if (cfg->engine == VMMIO_BLK_ENGINE_URING) {
		vmmio__log(cfg->host, cfg->host_opaque, NULL, VMMIO_LOG_ERROR,
			   "virtio-blk: %s: io_uring engine unavailable (%s)",
			   cfg->path, strerror(-rc));
		return -ENOTSUP;
	}
	b->eng = &vmmio__blk_sync;
	return b->eng->init(b, entries);
}

static int make_dev(struct vmmio_blk *b, const struct vmmio_blk_config *cfg)
{
	uint16_t sizes[VMMIO_DEV_MAX_QUEUES];
	struct vmmio_dev_config dc = {
	    .size = sizeof(dc),
	    .version = cfg->version,
	    .num_queues = b->nq,
	    .queue_sizes = sizes,
	    .features = b->offered,
	    .config_size = (uint32_t)CONFIG_SIZE,
	    .mem = cfg->mem,
	    .host = cfg->host,
	    .host_opaque = cfg->host_opaque,
	};
	int rc;

	for (uint16_t i = 0; i < b->nq; i++)
		sizes[i] = b->qsize;
	rc = vmmio_dev_new(&blk_ops, b, &dc, &b->dev);
	if (rc)
		return rc;
	for (uint16_t i = 0; i < b->nq; i++)
		b->q[i].vq = vmmio_dev_queue(b->dev, i);
	return 0;
}

int vmmio_blk_new(const struct vmmio_blk_config *cfg, struct vmmio_blk **out)
{
	struct vmmio_blk *b;
	int rc = check_config(cfg);

	if (rc || !out)
		return rc ? rc : -EINVAL;
	b = vmmio__zalloc(cfg->host, cfg->host_opaque, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->fd = b->fd_buffered = -1;
	b->host = cfg->host;
	b->host_opaque = cfg->host_opaque;
	b->inject = cfg->inject;
	b->inject_opaque = cfg->inject_opaque;
	b->read_only = cfg->read_only;
	b->nq = cfg->num_queues ? cfg->num_queues : 1;
	b->qsize = cfg->queue_size ? cfg->queue_size : 256;
	if (cfg->poll_us != VMMIO_BLK_POLL_OFF)
		b->poll_ns = 1000u * (cfg->poll_us ? cfg->poll_us
						   : VMMIO_BLK_POLL_US_DEFAULT);
	rc = open_backing(b, cfg);
	if (rc)
		goto out_free;
	fill_config(b, cfg);
	rc = alloc_queues(b);
	if (rc)
		goto out_free;
	reset_requests(b);
	rc = pick_engine(b, cfg);
	if (rc)
		goto out_free;
	rc = make_dev(b, cfg);
	if (rc)
		goto out_free;
	*out = b;
	return 0;
out_free:
	vmmio_blk_free(b);
	return rc;
}

void vmmio_blk_free(struct vmmio_blk *b)
{
	if (!b)
		return;
	if (b->eng) {
		b->discarding = true;
		b->eng->drain(b);
		b->eng->fini(b);
	}
	vmmio_dev_free(b->dev);
	for (uint16_t i = 0; b->q && i < b->nq; i++) {
		vmmio__free(b->host, b->host_opaque, b->q[i].reqs);
		vmmio__free(b->host, b->host_opaque, b->q[i].segs);
	}
	vmmio__free(b->host, b->host_opaque, b->q);
	if (b->fd >= 0)
		close(b->fd);
	if (b->fd_buffered >= 0)
		close(b->fd_buffered);
	vmmio__free(b->host, b->host_opaque, b);
}

/* ---- event loop ---- */

struct vmmio_dev *vmmio_blk_dev(struct vmmio_blk *b)
{
	return b->dev;
}

int vmmio_blk_fd(const struct vmmio_blk *b)
{
	return b->eng->fd(b);
}

int vmmio_blk_process(struct vmmio_blk *b)
{
	int n = b->eng->reap(b);

	b->eng->kick(b);
	for (uint16_t i = 0; i < b->nq; i++) {
		struct blk_queue *q = &b->q[i];

		/* Completions out: poll for the driver's next requests before
		 * deciding on an interrupt it may no longer need (publish()
		 * below, or queue_run's, makes the decision). */
		if (q->dirty && q->poll.max_ns && !q->stalled &&
		    vmmio_dev_is_active(b->dev) &&
		    vmmio_vq_publish_deferred(q->vq) == 0 &&
		    vmmio__vq_poll_avail(q->vq, &q->poll))
			queue_run(q);
		publish(q);
		if (q->stalled && q->free && vmmio_dev_is_active(b->dev))
			queue_run(q);
	}
	if (vmmio_dev_fault(b->dev) != VMMIO_FAULT_NONE)
		return -EIO;
	return n;
}

enum vmmio_blk_engine vmmio_blk_engine(const struct vmmio_blk *b)
{
	return b->eng->id;
}

uint64_t vmmio_blk_capacity(const struct vmmio_blk *b)
{
	return b->capacity;
}

unsigned vmmio_blk_inflight(const struct vmmio_blk *b)
{
	return b->inflight;
}
