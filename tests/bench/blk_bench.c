/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark: virtio-blk driven in process through the driver harness
 * (queue depth 32, one queue of 256) on a 1 GiB image in /tmp, beside
 * fio on the same file with the same engine and depth.
 *
 *	blk_bench [seconds [filter [rounds]]]
 *
 * seconds: measured time per run (default 1.5); filter: run only the rows
 * whose "engine cache workload" contains it ("uring off 4k randread");
 * rounds: best of that many runs of each side for every row (default: 3
 * for the goal row, uring cache off 4k randread, 1 for the others).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include <vmmio/blk.h>
#include <vmmio/driver.h>
#include <vmmio/mem.h>

#define QSIZE 256u
#define DEPTH 32u
#define RAM_GPA 0x100000ull
#define RAM_LEN (64u << 20)
#define HDR_OFF 0x10000u    /* 16-byte request headers, one per slot */
#define STATUS_OFF 0x11000u /* status bytes, one per slot */
#define DATA_OFF (1u << 20) /* data buffers, one MiB per slot */
#define SLOT_DATA (1u << 20)
#define IMAGE_SIZE (1ull << 30)
#define FILL_BLOCK (1u << 20)
#define WARM_S 0.25
#define DUR_S 1.5
#define STALL_S 10.0
#define GOAL 0.80
#define GOAL_REPS 3 /* rounds of the goal row, cache off (best of) */

_Static_assert(DATA_OFF + DEPTH * SLOT_DATA <= RAM_LEN, "RAM too small");
_Static_assert(sizeof(struct virtio_blk_outhdr) == 16, "blk header");

struct workload {
	const char *name;
	const char *fio_rw;
	uint32_t bs;
	bool write, seq;
};

static const struct workload works[] = {
    {"4k randread", "randread", 4096, false, false},
    {"4k randwrite", "randwrite", 4096, true, false},
    {"1M seqread", "read", 1u << 20, false, true},
    {"1M seqwrite", "write", 1u << 20, true, true},
};
#define NWORK (sizeof(works) / sizeof(works[0]))

struct engine {
	const char *name;
	enum vmmio_blk_engine id;
	const char *fio_engine;
	unsigned fio_depth;
};

static const struct engine engines[] = {
    {"uring", VMMIO_BLK_ENGINE_URING, "io_uring", DEPTH},
    {"sync", VMMIO_BLK_ENGINE_SYNC, "pvsync", 1},
};
#define NENG (sizeof(engines) / sizeof(engines[0]))

struct bench {
	unsigned char *ram;
	struct vmmio_mem *mem;
	struct vmmio_blk *blk;
	struct vmmio_drv drv;
	struct vmmio_drv_vq vq;
	struct vmmio_drv_slot slot[QSIZE];
	unsigned tok[DEPTH]; /* token of slot i: &tok[i] */
	int fd;		     /* vmmio_blk_fd(), -1 for the sync engine */
	unsigned long raised, acked;
	double warm, dur;
	unsigned reps; /* rounds per row; 0: GOAL_REPS for the goal row, 1 */
};

/* One workload's run on the device. */
struct run {
	const struct workload *w;
	uint64_t rng;
	uint64_t next_off; /* sequential workloads */
	uint64_t off[DEPTH];
	unsigned inflight;
	unsigned long done;
	bool refill;
	double last_progress;
};

/* A measured figure: IOPS (4 KiB) or MB/s (1 MiB); < 0 not measured. */
struct result {
	double val;
	double req_per_irq;
};

static const char *filter;
static bool with_fio;
static char image_path[64];
static int image_fd = -1;

static void cleanup(void)
{
	if (image_path[0])
		(void)unlink(image_path);
	image_path[0] = 0;
}

static void on_signal(int sig)
{
	if (image_path[0])
		(void)unlink(image_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void die(const char *what)
{
	fprintf(stderr, "blk_bench: %s failed\n", what);
	exit(1);
}

static void die_rc(const char *what, int rc)
{
	fprintf(stderr, "blk_bench: %s failed: %s\n", what, strerror(-rc));
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static void fill_random(unsigned char *p, size_t len, uint64_t *rng)
{
	for (size_t i = 0; i + 8 <= len; i += 8) {
		uint64_t v = xorshift(rng);

		memcpy(p + i, &v, 8);
	}
}

/* ---- the image ---- */

static void write_all(int fd, const unsigned char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("image write");
		p += n;
		len -= (size_t)n;
	}
}

/* 1 GiB of non-zero data (holes would make reads unrealistically fast). */
static void make_image(void)
{
	unsigned char *buf = malloc(FILL_BLOCK);
	uint64_t rng = 0x9e3779b97f4a7c15ull;

	snprintf(image_path, sizeof(image_path), "/tmp/vmmio-blk-XXXXXX");
	image_fd = mkstemp(image_path);
	if (image_fd < 0 || !buf)
		die("image create");
	for (uint64_t off = 0; off < IMAGE_SIZE; off += FILL_BLOCK) {
		fill_random(buf, FILL_BLOCK, &rng);
		write_all(image_fd, buf, FILL_BLOCK);
	}
	if (fsync(image_fd))
		die("image fsync");
	free(buf);
}

/* Write back what buffered writes left dirty, outside any timed run. */
static void settle(void)
{
	if (fdatasync(image_fd))
		die("image fdatasync");
}

/* Read the whole image once: page cache warm for direct=0 runs. */
static void warm_cache(void)
{
	unsigned char *buf = aligned_alloc(4096, FILL_BLOCK);

	if (!buf)
		die("alloc");
	for (uint64_t off = 0; off < IMAGE_SIZE; off += FILL_BLOCK)
		if (pread(image_fd, buf, FILL_BLOCK, (off_t)off) != FILL_BLOCK)
			die("image warm-up read");
	free(buf);
}

/* ---- the device and the driver harness ---- */

static void on_irq(void *opaque, bool raise_line)
{
	struct bench *b = opaque;

	if (raise_line)
		b->raised++;
}

static void on_log(void *opaque, enum vmmio_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	fprintf(stderr, "blk_bench: device: %s\n", msg);
}

static const struct vmmio_host_ops host_ops = {
    .size = sizeof(host_ops), .irq = on_irq, .log = on_log};

static uint32_t reg_read(void *opaque, uint32_t off, unsigned width)
{
	uint32_t v = 0;

	if (vmmio_dev_read(opaque, off, &v, width))
		die("vmmio_dev_read");
	return v;
}

static void reg_write(void *opaque, uint32_t off, uint32_t val, unsigned width)
{
	if (vmmio_dev_write(opaque, off, &val, width))
		die("vmmio_dev_write");
}

static const struct vmmio_drv_ops reg_ops = {
    .size = sizeof(reg_ops), .read = reg_read, .write = reg_write};

static void ram_init(struct bench *b)
{
	struct vmmio_mem_region r = {RAM_GPA, RAM_LEN, NULL, false};
	uint64_t rng = 0x2545f4914f6cdd1dull;
	int rc;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->ram = aligned_alloc(4096, RAM_LEN); /* O_DIRECT-aligned buffers */
	if (!b->ram)
		die("alloc");
	memset(b->ram, 0, DATA_OFF);
	fill_random(b->ram + DATA_OFF, RAM_LEN - DATA_OFF, &rng);
	r.host = b->ram;
	rc = vmmio_mem_new(&r, 1, NULL, NULL, &b->mem);
	if (rc)
		die_rc("vmmio_mem_new", rc);
}

static void driver_start(struct bench *b)
{
	const uint64_t want =
	    (1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << VIRTIO_BLK_F_FLUSH);
	size_t rb = vmmio_drv_vq_ring_bytes(QSIZE, 4);
	uint64_t feat;
	int rc;

	rc = vmmio_drv_init(&b->drv, &reg_ops, vmmio_blk_dev(b->blk));
	if (rc)
		die_rc("vmmio_drv_init", rc);
	rc = vmmio_drv_negotiate(&b->drv, want, &feat);
	if (rc)
		die_rc("vmmio_drv_negotiate", rc);
	if ((feat & want) != want)
		die("negotiating EVENT_IDX and FLUSH");
	if (rb == 0 || rb > HDR_OFF)
		die("vmmio_drv_vq_ring_bytes");
	rc = vmmio_drv_vq_init(&b->vq, QSIZE, b->ram, RAM_GPA, rb, 4, b->slot,
			       feat);
	if (rc)
		die_rc("vmmio_drv_vq_init", rc);
	rc = vmmio_drv_setup_queue(&b->drv, 0, &b->vq);
	if (rc)
		die_rc("vmmio_drv_setup_queue", rc);
	rc = vmmio_drv_driver_ok(&b->drv);
	if (rc)
		die_rc("vmmio_drv_driver_ok", rc);
}

/* Return: 0, or -ENOTSUP the engine is unavailable here. */
static int dev_start(struct bench *b, const struct engine *e, bool direct)
{
	struct vmmio_blk_config c = {
	    .size = sizeof(c),
	    .path = image_path,
	    .direct = direct,
	    .engine = e->id,
	    .queue_size = QSIZE,
	    .mem = b->mem,
	    .host = &host_ops,
	    .host_opaque = b,
	};
	int rc = vmmio_blk_new(&c, &b->blk);

	if (rc == -ENOTSUP)
		return rc;
	if (rc)
		die_rc("vmmio_blk_new", rc);
	if (vmmio_blk_capacity(b->blk) != IMAGE_SIZE / 512)
		die("vmmio_blk_capacity");
	b->fd = vmmio_blk_fd(b->blk);
	driver_start(b);
	return 0;
}

static void dev_stop(struct bench *b)
{
	vmmio_blk_free(b->blk);
	b->blk = NULL;
	b->fd = -1;
}

/* ---- requests ---- */

static uint64_t next_offset(struct run *r)
{
	uint64_t off;

	if (!r->w->seq)
		return xorshift(&r->rng) % (IMAGE_SIZE / r->w->bs) * r->w->bs;
	off = r->next_off;
	r->next_off = (off + r->w->bs) % IMAGE_SIZE;
	return off;
}

/* Slot @i: header, data, status as three descriptors. */
static void submit(struct bench *b, struct run *r, unsigned i)
{
	struct virtio_blk_outhdr h = {0};
	struct vmmio_drv_buf buf[3] = {
	    {RAM_GPA + HDR_OFF + 16u * i, 16},
	    {RAM_GPA + DATA_OFF + (vmmio_gpa_t)SLOT_DATA * i, r->w->bs},
	    {RAM_GPA + STATUS_OFF + i, 1},
	};
	struct vmmio_drv_req req = {.buf = buf,
				    .n_out = r->w->write ? 2 : 1,
				    .n_in = r->w->write ? 1 : 2,
				    .n_direct = 3};
	int rc;

	r->off[i] = next_offset(r);
	h.type = r->w->write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
	h.sector = r->off[i] / 512;
	memcpy(b->ram + HDR_OFF + 16u * i, &h, sizeof(h));
	b->ram[STATUS_OFF + i] = 0xff;
	rc = vmmio_drv_vq_add(&b->vq, &req, &b->tok[i]);
	if (rc)
		die_rc("vmmio_drv_vq_add", rc);
	r->inflight++;
}

static void kick(struct bench *b)
{
	if (vmmio_drv_vq_kick_prepare(&b->vq))
		vmmio_drv_notify(&b->drv, 0);
}

/* The guest's interrupt handler: acknowledge what the device raised. */
static void ack(struct bench *b)
{
	if (b->acked == b->raised)
		return;
	b->acked = b->raised;
	(void)vmmio_drv_ack_interrupt(&b->drv);
}

/* The device's event loop: wait for completions, then process them. */
static void device_wait(struct bench *b)
{
	int rc;

	if (b->fd >= 0) {
		struct pollfd p = {.fd = b->fd, .events = POLLIN};

		if (poll(&p, 1, 100) < 0 && errno != EINTR)
			die("poll");
	}
	rc = vmmio_blk_process(b->blk);
	if (rc < 0)
		die_rc("vmmio_blk_process", rc);
}

static void complete(struct bench *b, struct run *r, void *tok, uint32_t len)
{
	unsigned i = (unsigned)((unsigned *)tok - b->tok);
	uint32_t want = r->w->write ? 1 : r->w->bs + 1;

	if (i >= DEPTH)
		die("used token");
	if (b->ram[STATUS_OFF + i] != VIRTIO_BLK_S_OK) {
		fprintf(stderr, "blk_bench: %s at %llu: status %u\n",
			r->w->name, (unsigned long long)r->off[i],
			b->ram[STATUS_OFF + i]);
		exit(1);
	}
	if (len != want)
		die("used length");
	r->inflight--;
	r->done++;
}

/* Take what completed, refill those slots, notify once per batch. */
static void step(struct bench *b, struct run *r)
{
	unsigned freed[DEPTH], n = 0;
	uint32_t len;
	void *tok;
	int rc;

	if (!vmmio_drv_vq_used_pending(&b->vq))
		device_wait(b);
	while ((rc = vmmio_drv_vq_get_used(&b->vq, &tok, &len)) == 1) {
		complete(b, r, tok, len);
		freed[n++] = (unsigned)((unsigned *)tok - b->tok);
	}
	if (rc < 0)
		die_rc("vmmio_drv_vq_get_used", rc);
	ack(b);
	if (n) {
		r->last_progress = now();
		if (!r->refill)
			return;
		for (unsigned k = 0; k < n; k++)
			submit(b, r, freed[k]);
		kick(b);
	} else if (now() - r->last_progress > STALL_S) {
		die("progress (stalled)");
	}
}

/* Keep DEPTH requests in flight for @secs; completions counted. */
static double run_for(struct bench *b, struct run *r, double secs,
		      unsigned long *count)
{
	unsigned long d0 = r->done;
	double t0 = now(), t;

	do {
		step(b, r);
		t = now();
	} while (t - t0 < secs);
	*count = r->done - d0;
	return t - t0;
}

/* Reads: the last data must match the image (the bench moves real data). */
static void verify(struct bench *b, const struct run *r)
{
	unsigned char *buf = malloc(r->w->bs);

	if (!buf)
		die("alloc");
	for (unsigned i = 0; i < DEPTH; i++) {
		if (pread(image_fd, buf, r->w->bs, (off_t)r->off[i]) !=
		    (ssize_t)r->w->bs)
			die("verify read");
		if (memcmp(buf, b->ram + DATA_OFF + (size_t)SLOT_DATA * i,
			   r->w->bs))
			die("read data check");
	}
	free(buf);
}

static struct result ours(struct bench *b, const struct workload *w)
{
	struct run r = {.w = w, .rng = 0x853c49e6748fea9bull, .refill = true};
	unsigned long n, irq0;
	struct result res;
	double dt;

	r.last_progress = now();
	for (unsigned i = 0; i < DEPTH; i++)
		submit(b, &r, i);
	kick(b);
	(void)run_for(b, &r, b->warm, &n);
	irq0 = b->raised;
	dt = run_for(b, &r, b->dur, &n);
	res.req_per_irq =
	    b->raised > irq0 ? (double)n / (double)(b->raised - irq0) : 0;
	r.refill = false;
	while (r.inflight)
		step(b, &r);
	if (!w->write)
		verify(b, &r);
	res.val = (double)n / dt;
	if (w->bs >= (1u << 20))
		res.val = res.val * w->bs / 1e6;
	return res;
}

/* ---- fio ---- */

static bool have_fio(void)
{
	return system("command -v fio >/dev/null 2>&1") == 0;
}

/* Terse v3 fields (1-based): 5 error, 7/8 read bw KiB/s and IOPS,
 * 48/49 write bw KiB/s and IOPS. */
static double parse_terse(char *line, const struct workload *w)
{
	char *field[64], *save = NULL, *t;
	unsigned n = 0;
	double bw, iops;

	for (t = strtok_r(line, ";", &save); t && n < 64;
	     t = strtok_r(NULL, ";", &save))
		field[n++] = t;
	if (n < 50 || strtol(field[4], NULL, 10) != 0)
		return -1;
	bw = strtod(field[w->write ? 47 : 6], NULL);
	iops = strtod(field[w->write ? 48 : 7], NULL);
	return w->bs >= (1u << 20) ? bw * 1024 / 1e6 : iops;
}

static double fio(const struct bench *b, const struct engine *e,
		  const struct workload *w, bool direct)
{
	char cmd[1024], line[4096], last[4096] = "";
	double val = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "fio --name=blk --filename=%s --size=%llu --rw=%s --bs=%u "
		 "--ioengine=%s --iodepth=%u --direct=%d --invalidate=0 "
		 "--iomem_align=4096 "
		 "--norandommap --numjobs=1 --time_based --runtime=%ums "
		 "--ramp_time=%ums --output-format=terse --terse-version=3 "
		 "2>&1",
		 image_path, (unsigned long long)IMAGE_SIZE, w->fio_rw, w->bs,
		 e->fio_engine, e->fio_depth, direct ? 1 : 0,
		 (unsigned)(b->dur * 1000), (unsigned)(b->warm * 1000));
	p = popen(cmd, "r");
	if (!p)
		die("popen fio");
	while (fgets(line, sizeof(line), p)) {
		if (!strncmp(line, "3;", 2))
			val = parse_terse(line, w);
		else
			snprintf(last, sizeof(last), "%s", line);
	}
	if (pclose(p) != 0 || val < 0) {
		fprintf(stderr, "blk_bench: fio failed: %s", last);
		val = -1;
	}
	return val;
}

/* ---- output ---- */

static void fmt(char *s, size_t n, double v, const struct workload *w)
{
	if (v < 0)
		snprintf(s, n, "%s", "n/a");
	else if (w->bs >= (1u << 20))
		snprintf(s, n, "%.0f MB/s", v);
	else
		snprintf(s, n, "%.0f IOPS", v);
}

static void row(const struct engine *e, bool direct, const struct workload *w,
		struct result o, double f, unsigned reps)
{
	char a[32], c[32], ratio[16] = "-", best[32] = "";

	fmt(a, sizeof(a), o.val, w);
	fmt(c, sizeof(c), f, w);
	if (f > 0)
		snprintf(ratio, sizeof(ratio), "%.2f", o.val / f);
	if (reps > 1)
		snprintf(best, sizeof(best), "  best of %u", reps);
	printf("  %-6s  %-5s  %-13s  %14s  %14s  %8s  %7.1f%s\n", e->name,
	       direct ? "off" : "on", w->name, a, c, ratio, o.req_per_irq,
	       best);
	fflush(stdout);
}

/* ---- main ---- */

struct goal {
	double ratio[2]; /* cache off, on; < 0 not measured */
};

/* Our side once, on a fresh device. Return: false engine unavailable. */
static bool ours_once(struct bench *b, const struct engine *e, bool direct,
		      const struct workload *w, struct result *best)
{
	struct result o;

	settle();
	if (!direct)
		warm_cache();
	if (dev_start(b, e, direct))
		return false;
	o = ours(b, w);
	dev_stop(b);
	if (o.val > best->val)
		*best = o;
	return true;
}

static void fio_once(const struct bench *b, const struct engine *e, bool direct,
		     const struct workload *w, double *best)
{
	double f;

	settle();
	if (!direct)
		warm_cache();
	f = fio(b, e, w, direct);
	if (f > *best)
		*best = f;
}

/*
 * Best of @reps rounds of each side, alternating which side goes first
 * (the host's own writeback and caches drift; that cancels order bias).
 * Return: false the engine is unavailable here.
 */
static bool pair(struct bench *b, const struct engine *e, bool direct,
		 const struct workload *w, unsigned reps, struct result *o,
		 double *f)
{
	o->val = -1;
	o->req_per_irq = 0;
	*f = -1;
	for (unsigned i = 0; i < reps; i++) {
		if (i % 2 && with_fio)
			fio_once(b, e, direct, w, f);
		if (!ours_once(b, e, direct, w, o))
			return false;
		if (i % 2 == 0 && with_fio)
			fio_once(b, e, direct, w, f);
	}
	return true;
}

/* Rounds of a row: the command line's, else GOAL_REPS for the goal row. */
static unsigned rounds(const struct bench *b, bool goal_row)
{
	if (b->reps)
		return b->reps;
	return goal_row ? GOAL_REPS : 1;
}

static void group(struct bench *b, const struct engine *e, bool direct,
		  struct goal *g)
{
	for (unsigned k = 0; k < NWORK; k++) {
		const struct workload *w = &works[k];
		bool goal_row = e->id == VMMIO_BLK_ENGINE_URING && k == 0;
		unsigned reps = rounds(b, goal_row && direct);
		struct result o;
		char name[64];
		double f;

		snprintf(name, sizeof(name), "%s %s %s", e->name,
			 direct ? "off" : "on", w->name);
		if (filter && !strstr(name, filter))
			continue;
		if (!pair(b, e, direct, w, reps, &o, &f)) {
			printf("  %-6s  %-5s  engine unavailable here: "
			       "skipped\n",
			       e->name, direct ? "off" : "on");
			return;
		}
		row(e, direct, w, o, f, reps);
		if (goal_row && f > 0)
			g->ratio[direct ? 0 : 1] = o.val / f;
	}
}

static void header(const struct bench *b)
{
	printf("virtio-blk in process through the driver harness (queue depth "
	       "%u, queue size %u,\n"
	       "  EVENT_IDX+FLUSH so writeback; header/data/status as 3 "
	       "descriptors) vs fio on the same file\n",
	       DEPTH, QSIZE);
	printf("image: %s, 1 GiB of random data; per run %.2f s warm-up then "
	       "%.2f s measured, both sides\n",
	       image_path, b->warm, b->dur);
	printf("fio: uring rows --ioengine=io_uring --iodepth=%u; sync rows "
	       "--ioengine=pvsync --iodepth=1\n"
	       "  (the sync engine runs the requests one by one inside the "
	       "notify: it has no depth);\n"
	       "  --norandommap --iomem_align=4096 (page-aligned buffers, as "
	       "ours)\n",
	       DEPTH);
	printf("cache off: direct=true / --direct=1; cache on: direct=false / "
	       "--direct=0 --invalidate=0,\n"
	       "  the whole file read first so both sides run on a warm page "
	       "cache\n");
	printf("  sync rows: ours cycles %u data buffers, fio at depth 1 "
	       "reuses one (cache on, 1M: memory\n"
	       "  bandwidth differs, not the device)\n",
	       DEPTH);
	printf("req/irq: our requests completed per interrupt raised\n");
	if (!with_fio)
		printf("fio not found: ratios skipped\n");
	printf("  engine  cache  workload                 ours             fio "
	       "  ours/fio  req/irq\n");
	fflush(stdout);
}

static void goal_line(const struct goal *g)
{
	static const char *const cache[2] = {"off", "on"};

	for (unsigned i = 0; i < 2; i++) {
		if (g->ratio[i] < 0) {
			printf("goal: in-process blk 4 KiB random read >= 80%% "
			       "of host fio IOPS with io_uring (cache %s): "
			       "not measured\n",
			       cache[i]);
			continue;
		}
		printf("goal: in-process blk 4 KiB random read >= 80%% of "
		       "host fio IOPS with io_uring (cache %s): %.1f%% -> %s\n",
		       cache[i], g->ratio[i] * 100,
		       g->ratio[i] >= GOAL ? "met" : "NOT met");
	}
}

int main(int argc, char **argv)
{
	struct goal g = {{-1, -1}};
	double t0 = now();
	struct bench b;

	ram_init(&b);
	b.dur = DUR_S;
	b.warm = WARM_S;
	if (argc > 1) {
		b.dur = strtod(argv[1], NULL);
		if (!(b.dur >= 0.01 && b.dur <= 600)) {
			fprintf(stderr,
				"usage: %s [seconds [filter [rounds]]]\n",
				argv[0]);
			return 2;
		}
		if (b.warm > b.dur / 2)
			b.warm = b.dur / 2;
	}
	if (argc > 2)
		filter = argv[2];
	if (argc > 3)
		b.reps = (unsigned)strtoul(argv[3], NULL, 10);
	if (atexit(cleanup))
		die("atexit");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	make_image();
	with_fio = have_fio();
	header(&b);
	for (unsigned e = 0; e < NENG; e++) {
		group(&b, &engines[e], true, &g);
		group(&b, &engines[e], false, &g);
	}
	goal_line(&g);
	printf("blk bench: %.0f s in all\n", now() - t0);
	close(image_fd);
	cleanup();
	vmmio_mem_free(b.mem);
	free(b.ram);
	return 0;
}
