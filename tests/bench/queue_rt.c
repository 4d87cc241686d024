/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark: driver harness <-> device queue round trip per chain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <linux/virtio_ring.h>

#include <vmmio/driver.h>
#include <vmmio/queue.h>

#define QSIZE 256u
#define RAM_GPA 0x100000ull
#define RAM_LEN (4u << 20)
#define TABLES 0x80000u /* offset of indirect tables in RAM */

struct cfg {
	const char *name;
	unsigned ndesc;
	bool indirect, event_idx;
	unsigned batch; /* chains in flight per round */
};

struct bench {
	unsigned char *ram;
	struct vmmio_mem *mem;
	struct vmmio_vq *q;
	struct vmmio_drv_vq d;
	struct vmmio_drv_slot slot[QSIZE];
	struct vmmio_drv_buf buf[16];
	struct vmmio_drv_req req[64];
	unsigned irqs;
};

static void on_irq(void *opaque, struct vmmio_vq *q)
{
	(void)q;
	((struct bench *)opaque)->irqs++;
}

static const struct vmmio_vq_hooks hooks = {.size = sizeof(hooks),
					    .interrupt = on_irq};

static void die(const char *what)
{
	fprintf(stderr, "queue_rt: %s failed\n", what);
	exit(1);
}

static void setup(struct bench *b, const struct cfg *c)
{
	uint64_t feat =
	    (c->indirect ? 1ull << VIRTIO_RING_F_INDIRECT_DESC : 0) |
	    (c->event_idx ? 1ull << VIRTIO_RING_F_EVENT_IDX : 0);
	struct vmmio_mem_region r = {RAM_GPA, RAM_LEN, NULL, false};
	size_t rb = vmmio_drv_vq_ring_bytes(QSIZE, 4);

	memset(b, 0, sizeof(*b));
	b->ram = aligned_alloc(4096, RAM_LEN);
	if (!b->ram)
		die("alloc");
	memset(b->ram, 0, RAM_LEN);
	r.host = b->ram;
	if (vmmio_mem_new(&r, 1, NULL, NULL, &b->mem) ||
	    vmmio_vq_new(QSIZE, b->mem, NULL, NULL, &b->q) ||
	    vmmio_drv_vq_init(&b->d, QSIZE, b->ram, RAM_GPA, rb, 4, b->slot,
			      feat) ||
	    vmmio_vq_set_features(b->q, feat) ||
	    vmmio_vq_set_addr(b->q, b->d.desc_gpa, b->d.avail_gpa,
			      b->d.used_gpa) ||
	    vmmio_vq_set_ready(b->q, true))
		die("setup");
	vmmio_vq_set_hooks(b->q, &hooks, b);
	/* A blk-like request: 16-byte header, data, 1-byte status. */
	for (unsigned i = 0; i < c->ndesc; i++) {
		b->buf[i].gpa = RAM_GPA + 0x10000 + 4096u * i;
		b->buf[i].len = c->ndesc == 1 ? 16
					      : (i == 0		     ? 16
						 : i + 1 == c->ndesc ? 1
								     : 512);
	}
	for (unsigned k = 0; k < 64; k++) {
		unsigned n_in = c->ndesc == 1 ? 0 : 1;

		b->req[k] = (struct vmmio_drv_req){
		    .buf = b->buf,
		    .n_out = c->ndesc - n_in,
		    .n_in = n_in,
		    .n_direct = c->indirect ? 0 : c->ndesc,
		    .table = b->ram + TABLES + 256u * k,
		    .table_gpa = RAM_GPA + TABLES + 256u * k};
	}
}

static void teardown(struct bench *b)
{
	vmmio_vq_free(b->q);
	vmmio_mem_free(b->mem);
	free(b->ram);
}

/* The device's work per chain: read the header, write the status. */
static inline void device_one(struct bench *b, struct vmmio_chain *ch)
{
	unsigned char hdr[16];
	uint32_t wrote = 0;

	if (vmmio_chain_read(ch, 0, hdr, sizeof(hdr)))
		die("read");
	if (ch->writable_len) {
		if (vmmio_chain_write(ch, ch->writable_len - 1, hdr, 1))
			die("write");
		wrote = 1;
	}
	if (vmmio_vq_add_used(b->q, ch->head, wrote))
		die("add_used");
}

/* n round trips; noinline so callgrind can count exactly this. */
__attribute__((noinline)) void run_rt(struct bench *b, const struct cfg *c,
				      unsigned n)
{
	struct vmmio_seg seg[16];
	struct vmmio_chain ch = {.seg = seg, .seg_cap = 16};
	void *tok;
	uint32_t len;

	for (unsigned done = 0; done < n; done += c->batch) {
		unsigned k;

		for (k = 0; k < c->batch; k++)
			if (vmmio_drv_vq_add(&b->d, &b->req[k], b))
				die("add");
		(void)vmmio_drv_vq_kick_prepare(&b->d);
		vmmio_vq_disable_notify(b->q);
		while (vmmio_vq_pop(b->q, &ch) == 1)
			device_one(b, &ch);
		if (vmmio_vq_publish(b->q) < 0 || vmmio_vq_enable_notify(b->q))
			die("publish");
		for (k = 0; k < c->batch; k++)
			if (vmmio_drv_vq_get_used(&b->d, &tok, &len) != 1)
				die("get_used");
	}
}

static const struct cfg cfgs[] = {
    {"1 desc direct", 1, false, false, 1},
    {"1 desc direct event_idx", 1, false, true, 1},
    {"3 desc direct", 3, false, false, 1},
    {"3 desc direct event_idx", 3, false, true, 1},
    {"3 desc indirect", 3, true, false, 1},
    {"3 desc indirect event_idx", 3, true, true, 1},
    {"16 desc direct", 16, false, false, 1},
    {"16 desc indirect event_idx", 16, true, true, 1},
    {"3 desc direct batch 32", 3, false, false, 32},
    {"3 desc direct event_idx batch 32", 3, false, true, 32},
    {"3 desc indirect event_idx batch 32", 3, true, true, 32},
    {"16 desc indirect event_idx batch 8", 16, true, true, 8},
};
#define NCFG (sizeof(cfgs) / sizeof(cfgs[0]))

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void timed(const struct cfg *c)
{
	struct bench b;
	unsigned n = 2000000 / c->ndesc * 3;
	double best = 1e9;

	setup(&b, c);
	run_rt(&b, c, 10000); /* warm up */
	for (int rep = 0; rep < 5; rep++) {
		double t0 = now(), dt;

		run_rt(&b, c, n);
		dt = (now() - t0) * 1e9 / n;
		if (dt < best)
			best = dt;
	}
	printf("%-36s %8.1f ns/chain %12.0f chains/s  (best of 5 x %u)\n",
	       c->name, best, 1e9 / best, n);
	teardown(&b);
}

/* Inner callgrind run: only run_rt is collected. */
static int inner(unsigned idx, unsigned n)
{
	struct bench b;

	setup(&b, &cfgs[idx]);
	run_rt(&b, &cfgs[idx], n);
	teardown(&b);
	return 0;
}

static int callgrind(const char *self)
{
	static const unsigned pick[] = {0, 2, 3, 4, 6, 9};
	const unsigned n = 100000;

	for (unsigned i = 0; i < sizeof(pick) / sizeof(pick[0]); i++) {
		char cmd[512], line[256], arg[16];
		unsigned long long ir = 0;
		FILE *p;

		snprintf(arg, sizeof(arg), "%u", pick[i]);
		snprintf(cmd, sizeof(cmd),
			 "valgrind --tool=callgrind --toggle-collect=run_rt "
			 "--callgrind-out-file=/dev/null %s --inner %s %u 2>&1",
			 self, arg, n);
		p = popen(cmd, "r");
		if (!p)
			return 1;
		while (fgets(line, sizeof(line), p))
			if (sscanf(line, "==%*d== Collected : %llu", &ir) == 1)
				break;
		while (fgets(line, sizeof(line), p))
			;
		if (pclose(p) != 0 || ir == 0) {
			fprintf(stderr, "callgrind run failed\n");
			return 1;
		}
		printf(
		    "%-36s %8.1f instructions/chain (callgrind, %u chains)\n",
		    cfgs[pick[i]].name, (double)ir / n, n);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--inner"))
		return inner((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]));
	if (argc == 2 && !strcmp(argv[1], "--callgrind"))
		return callgrind(argv[0]);
	printf("driver harness <-> device queue round trip, queue size %u\n",
	       QSIZE);
	for (unsigned i = 0; i < NCFG; i++)
		timed(&cfgs[i]);
	return 0;
}
