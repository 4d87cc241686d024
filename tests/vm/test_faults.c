/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Crash and fault safety of vmm-demo with the test guest (tests/guest/
 * faults.c): SIGKILL at random moments loses no flushed block; backend
 * errors (injected EIO, a full tmpfs) fail only the requests that met
 * them; console, rng and notify floods leave the VMM's memory bounded.
 * Skipped (with a message) without /dev/kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmrun.h"
#include "vmtests.h"

#define F_MEMORY_MIB 72u /* guest RAM: a size no other mapping has */
#define F_TIMEOUT_S 60
#define BLOCK 4096u

/* ---- Running vmm-demo with live output ---- */

struct frun {
	/* in */
	const char *cmdline;
	const char *disk;      /* image path */
	const char *disk_opts; /* appended to --disk PATH,serial=... */
	bool console;	       /* --console socket:DIR/con.sock */
	void (*on_line)(struct frun *r, const char *line);
	void (*on_tick)(struct frun *r); /* at least every 10 ms */
	void *ctx;
	/* out */
	char dir[64], sock[96];
	pid_t pid;
	char out[OUT_MAX], err[OUT_MAX];
	size_t out_len, err_len;
	char line[512];
	size_t line_len;
	int status;
	bool timed_out;
};

/* A fresh directory for the run's files (image, socket). */
static void frun_dir(struct frun *r)
{
	snprintf(r->dir, sizeof(r->dir), "/tmp/vmt-faults.XXXXXX");
	ck_assert_msg(mkdtemp(r->dir), "mkdtemp: %s", strerror(errno));
	snprintf(r->sock, sizeof(r->sock), "%s/con.sock", r->dir);
}

static void make_image(const char *path, off_t bytes)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(ftruncate(fd, bytes), 0);
	close(fd);
}

/* The whole image into a malloc'd buffer of *len bytes. */
static unsigned char *read_image(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	struct stat st;

	ck_assert_msg(f && fstat(fileno(f), &st) == 0, "%s: %s", path,
		      strerror(errno));
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	*len = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	ck_assert_uint_eq(*len, (size_t)st.st_size);
	return buf;
}

static void frun_child(struct frun *r, int out, int err)
{
	char disk[PATH_MAX + 128], con[128];
	const char *args[24];
	char *argv[24];
	int n = 0;

	snprintf(disk, sizeof(disk), "%s,serial=%s%s", r->disk, SERIAL,
		 r->disk_opts ? r->disk_opts : "");
	snprintf(con, sizeof(con), "socket:%s", r->sock);
	args[n++] = vmt_env("VMM_DEMO");
	args[n++] = "--kernel";
	args[n++] = vmt_env("TEST_GUEST");
	args[n++] = "--cmdline";
	args[n++] = r->cmdline;
	args[n++] = "--cmdline-devices";
	args[n++] = "--memory";
	args[n++] = "72";
	args[n++] = "--disk";
	args[n++] = disk;
	if (r->console) {
		args[n++] = "--console";
		args[n++] = con;
	}
	args[n++] = "--rng";
	if (no_seccomp())
		args[n++] = "--no-seccomp";
	for (int i = 0; i < n; i++)
		argv[i] = strdup(args[i]);
	argv[n] = NULL;
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	execv(argv[0], argv);
	_exit(127);
}

/* Complete UART lines to the callback; r->out keeps the start. */
static void frun_out(struct frun *r, const char *buf, size_t n)
{
	append(r->out, sizeof(r->out), &r->out_len, buf, n);
	for (size_t i = 0; i < n; i++) {
		if (buf[i] != '\n') {
			if (r->line_len + 1 < sizeof(r->line))
				r->line[r->line_len++] = buf[i];
			continue;
		}
		r->line[r->line_len] = '\0';
		if (r->on_line)
			r->on_line(r, r->line);
		r->line_len = 0;
	}
}

/* Read both pipes until EOF, ticking; SIGKILL after F_TIMEOUT_S. */
static void frun_loop(struct frun *r, int out, int err)
{
	double end = now_s() + F_TIMEOUT_S;
	bool out_open = true, err_open = true;

	while (out_open || err_open) {
		struct pollfd p[2] = {
		    {.fd = out_open ? out : -1, .events = POLLIN},
		    {.fd = err_open ? err : -1, .events = POLLIN}};
		char buf[4096];
		ssize_t n;

		if (now_s() > end && !r->timed_out) {
			r->timed_out = true;
			kill(r->pid, SIGKILL);
		}
		if (poll(p, 2, 10) < 0 && errno != EINTR)
			break;
		if (p[0].revents) {
			n = read(out, buf, sizeof(buf));
			if (n <= 0)
				out_open = false;
			else
				frun_out(r, buf, (size_t)n);
		}
		if (p[1].revents) {
			n = read(err, buf, sizeof(buf));
			if (n <= 0)
				err_open = false;
			else
				append(r->err, sizeof(r->err), &r->err_len, buf,
				       (size_t)n);
		}
		if (r->on_tick)
			r->on_tick(r);
	}
}

/* Run vmm-demo with the test guest until it exits (or is killed). */
static void frun_exec(struct frun *r)
{
	int out[2], err[2];
	double t0 = now_s();

	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(err, O_CLOEXEC), 0);
	r->pid = fork();
	ck_assert_int_ge(r->pid, 0);
	if (r->pid == 0)
		frun_child(r, out[1], err[1]);
	close(out[1]);
	close(err[1]);
	frun_loop(r, out[0], err[0]);
	close(out[0]);
	close(err[0]);
	ck_assert_int_eq(waitpid(r->pid, &r->status, 0), r->pid);
	fprintf(stderr, "---- vmm-demo (%s) %.2f s ----\n%.4000s%s----\n",
		r->cmdline, now_s() - t0, r->out, r->err);
	ck_assert_msg(!r->timed_out, "vmm-demo killed after %d s", F_TIMEOUT_S);
	assert_no_sanitizer(r->err);
}

static void frun_cleanup(struct frun *r)
{
	unlink(r->sock);
	rmdir(r->dir);
}

static void frun_exit0(const struct frun *r)
{
	ck_assert_msg(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0,
		      "vmm-demo status 0x%x, want exit 0; log:\n%s", r->status,
		      r->err);
}

/* The guest's output has the line @want (with its newline). */
static void assert_has_line(const struct frun *r, const char *want)
{
	const char *p = r->out;
	size_t n = strlen(want);

	while ((p = strstr(p, want)) && p != r->out && p[-1] != '\n')
		p += n;
	ck_assert_msg(p, "no line '%s' in:\n%s", want, r->out);
}

/*
 * ---- Kill test ----
 * The guest writes blocks n = 0, 1, ... (4 KiB each, in slot n % blocks)
 * in batches, a FLUSH after each, and prints "TG KILL flushed <n>" after
 * each completed FLUSH; vmm-demo gets SIGKILL at a random moment. Every
 * block up to the last reported one must be on the image, whole, with
 * its number and this run's nonce, except those whose slot later,
 * possibly unflushed, writes may have reused: the guest writes at most
 * `window` blocks beyond the last one it reported.
 */
#define KT_MAGIC 0x4b4c424c4c494b54ull
#define KT_DISK (2u << 20)
#define KT_BATCH 16u
#define KT_MIN_DELAY_MS 50u
#define KT_MAX_DELAY_MS 1500u

struct kill_run {
	double delay_s, t_start, t_kill;
	bool started, killed;
	unsigned long long nonce, blocks, batch, window, flushed;
};

static uint64_t fnv1a64(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ull;
	return h;
}

/* Block @n in its slot: magic, number, nonce, checksum. */
static const char *kill_block_bad(const unsigned char *img, uint64_t n,
				  uint64_t blocks, uint64_t nonce)
{
	uint64_t w[BLOCK / 8], sum;

	memcpy(w, img + (n % blocks) * BLOCK, BLOCK);
	if (w[0] != KT_MAGIC)
		return "no magic";
	if (w[1] != n)
		return "another block number";
	if (w[2] != nonce)
		return "another nonce";
	sum = w[3];
	w[3] = 0;
	return fnv1a64(w, BLOCK) == sum ? NULL : "bad checksum";
}

/* Blocks lost among those the guest reported flushed (@flushed of them:
 * 0..flushed-1), leaving out slots that the @window blocks written after
 * them may have reused. */
static unsigned kill_lost(const unsigned char *img, uint64_t blocks,
			  uint64_t nonce, uint64_t flushed, uint64_t window)
{
	uint64_t lo = flushed + window > blocks ? flushed + window - blocks : 0;
	unsigned lost = 0;

	for (uint64_t n = lo; n < flushed; n++) {
		const char *why = kill_block_bad(img, n, blocks, nonce);

		if (why && ++lost <= 5)
			fprintf(stderr,
				"kill test: block %" PRIu64 " (slot %" PRIu64
				"): %s\n",
				n, n % blocks, why);
	}
	return lost;
}

static void kill_line(struct frun *r, const char *l)
{
	struct kill_run *k = r->ctx;
	unsigned long long n;

	if (sscanf(l,
		   "TG KILL start nonce=0x%llx blocks=%llu batch=%llu "
		   "window=%llu",
		   &k->nonce, &k->blocks, &k->batch, &k->window) == 4) {
		k->started = true;
		k->t_start = now_s();
	} else if (sscanf(l, "TG KILL flushed %llu", &n) == 1) {
		k->flushed = n + 1;
	}
}

static void kill_tick(struct frun *r)
{
	struct kill_run *k = r->ctx;

	if (k->started && !k->killed && now_s() >= k->t_start + k->delay_s) {
		kill(r->pid, SIGKILL);
		k->killed = true;
		k->t_kill = now_s();
	}
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static const char *const engines[] = {"sync", "uring"};
static const char *const caches[] = {"on", "off"};

/* Run @i of @n: engine and cache setting alternate. Blocks lost. */
static unsigned kill_one(unsigned i, unsigned n, uint64_t *rng)
{
	static struct frun r;
	struct kill_run k = {0};
	char cmd[128], opts[64], disk[128];
	unsigned char *img;
	size_t len;
	unsigned lost;
	uint64_t nonce = xorshift(rng);

	k.delay_s =
	    (double)(KT_MIN_DELAY_MS +
		     xorshift(rng) % (KT_MAX_DELAY_MS - KT_MIN_DELAY_MS)) /
	    1000.0;
	memset(&r, 0, sizeof(r));
	frun_dir(&r);
	snprintf(disk, sizeof(disk), "%s/disk.img", r.dir);
	make_image(disk, KT_DISK);
	snprintf(cmd, sizeof(cmd),
		 "tg.run=killtest tg.nonce=0x%" PRIx64 " tg.batch=%u", nonce,
		 KT_BATCH);
	snprintf(opts, sizeof(opts), ",engine=%s,cache=%s", engines[i % 2],
		 caches[i / 2 % 2]);
	r.cmdline = cmd;
	r.disk = disk;
	r.disk_opts = opts;
	r.on_line = kill_line;
	r.on_tick = kill_tick;
	r.ctx = &k;
	frun_exec(&r);
	img = read_image(disk, &len);
	unlink(disk);
	frun_cleanup(&r);
	ck_assert_msg(k.started, "the guest never started writing:\n%s", r.out);
	ck_assert_msg(
	    k.killed && WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL,
	    "vmm-demo status 0x%x before the kill; log:\n%s", r.status, r.err);
	ck_assert_ptr_null(strstr(r.out, "TG KILL error"));
	ck_assert_uint_eq(k.nonce, nonce);
	ck_assert_uint_eq(k.blocks, KT_DISK / BLOCK);
	ck_assert_uint_eq(k.window, 3 * KT_BATCH);
	lost = kill_lost(img, k.blocks, nonce, k.flushed, k.window);
	free(img);
	fprintf(stderr,
		"kill test: run %u/%u killed after %.0f ms, flushed %llu "
		"blocks, lost %u (engine %s, cache %s)\n",
		i + 1, n, (k.t_kill - k.t_start) * 1000.0, k.flushed, lost,
		engines[i % 2], caches[i / 2 % 2]);
	return lost;
}

static unsigned kill_runs(void)
{
	const char *v = getenv("VMT_KILL_RUNS");
	unsigned n = v && *v ? (unsigned)strtoul(v, NULL, 10) : 3;

	return n ? n : 1;
}

/* VMT_KILL_RUNS runs (3 by default; make check-long: 20), VMT_KILL_SEED
 * repeats a sequence of kill moments. */
START_TEST(test_kill_loses_nothing)
{
	const char *s = getenv("VMT_KILL_SEED");
	uint64_t seed = s && *s ? strtoull(s, NULL, 0)
				: (uint64_t)time(NULL) ^ (uint64_t)getpid();
	uint64_t rng = seed ? seed : 1;
	unsigned n = kill_runs(), lost = 0;

	if (skip_without_kvm())
		return;
	fprintf(stderr,
		"kill test: seed %" PRIu64 " (VMT_KILL_SEED=%" PRIu64
		" repeats it), %u runs\n",
		seed, seed, n);
	for (unsigned i = 0; i < n; i++)
		lost += kill_one(i, n, &rng);
	fprintf(stderr, "kill test: %u runs, %u blocks lost\n", n, lost);
	ck_assert_uint_eq(lost, 0);
}
END_TEST

/* The checker itself: a guest that stops after 480 blocks leaves every
 * one intact; one changed byte, or another nonce, is caught. */
START_TEST(test_kill_checker)
{
	static struct frun r;
	struct kill_run k = {0};
	char disk[128];
	unsigned char *img;
	size_t len;

	if (skip_without_kvm())
		return;
	memset(&r, 0, sizeof(r));
	frun_dir(&r);
	snprintf(disk, sizeof(disk), "%s/disk.img", r.dir);
	make_image(disk, KT_DISK);
	r.cmdline = "tg.run=killtest tg.nonce=0xfeedf00d tg.kill_max=480";
	r.disk = disk;
	r.on_line = kill_line;
	r.ctx = &k;
	frun_exec(&r);
	img = read_image(disk, &len);
	unlink(disk);
	frun_cleanup(&r);
	frun_exit0(&r);
	fprintf(stderr, "kill test: checking the checker (the block errors "
			"below are planted)\n");
	assert_has_line(&r, "TG RESULT killtest PASS rc=0, 480 blocks "
			    "written, 480 flushed\n");
	ck_assert_uint_eq(k.flushed, 480);
	ck_assert_uint_eq(kill_lost(img, 512, 0xfeedf00d, 480, 0), 0);
	img[100 * BLOCK + 2000] ^= 1;
	ck_assert_uint_eq(kill_lost(img, 512, 0xfeedf00d, 480, 0), 1);
	ck_assert_uint_eq(kill_lost(img, 512, 0xfeedf00e, 480, 0), 480);
	/* Reported flushed but never written: lost. */
	ck_assert_uint_eq(kill_lost(img, 512, 0xfeedf00d, 481, 0), 2);
	/* A window of 48 leaves out blocks 0..15 (their slots may hold
	 * blocks 512..527 in flight), not block 16. */
	img[100 * BLOCK + 2000] ^= 1;
	img[15 * BLOCK + 8] ^= 1;
	ck_assert_uint_eq(kill_lost(img, 512, 0xfeedf00d, 480, 48), 0);
	img[16 * BLOCK + 4095] ^= 0x80;
	ck_assert_uint_eq(kill_lost(img, 512, 0xfeedf00d, 480, 48), 1);
	free(img);
}
END_TEST

/*
 * ---- Backend faults ----
 * fail-eio=64-127: the guest's writes and reads around and across both
 * edges (tests/guest/faults.c) get IOERR exactly when they touch the
 * range; the bytes outside are on the image, the range stays zero.
 */
static unsigned char eio_pattern(unsigned sector, unsigned i)
{
	return (unsigned char)((i * 7u + sector * 13u + 0x21u) & 0xffu);
}

static void assert_sectors(const unsigned char *img, unsigned first, unsigned n,
			   unsigned pattern_sector)
{
	for (unsigned i = 0; i < n * 512; i++) {
		unsigned char want = pattern_sector == UINT_MAX
					 ? 0
					 : eio_pattern(pattern_sector, i);

		ck_assert_msg(img[first * 512 + i] == want,
			      "sector %u byte %u: 0x%02x, want 0x%02x",
			      first + i / 512, i % 512, img[first * 512 + i],
			      want);
	}
}

START_TEST(test_eio_only_those_requests)
{
	static const char *const lines[] = {
	    "TG ioerr write sector=56 sectors=8 status=0 want=0\n",
	    "TG ioerr write sector=60 sectors=8 status=1 want=1\n",
	    "TG ioerr write sector=64 sectors=8 status=1 want=1\n",
	    "TG ioerr write sector=127 sectors=1 status=1 want=1\n",
	    "TG ioerr write sector=128 sectors=8 status=0 want=0\n",
	    "TG ioerr write sector=124 sectors=8 status=1 want=1\n",
	    "TG ioerr read sector=56 sectors=8 status=0 want=0\n",
	    "TG ioerr read sector=72 sectors=8 status=1 want=1\n",
	    "TG ioerr read sector=124 sectors=8 status=1 want=1\n",
	    "TG ioerr read sector=128 sectors=8 status=0 want=0\n",
	    "TG ioerr read sector=63 sectors=2 status=1 want=1\n",
	    "TG ioerr flush status=0\n",
	    "TG ioerr get_id status=0\n",
	    "TG ioerr write+read sector=0 sectors=8 status=0\n",
	    "TG RESULT ioerr PASS eio 64-127: rc=0; 6 writes and 5 reads "
	    "together, IOERR exactly where they touch the range\n",
	    "TG DONE pass=1 fail=0 skip=0\n",
	};
	static struct frun r;
	char disk[128], opts[64];
	unsigned char *img;
	size_t len;

	if (skip_without_kvm())
		return;
	memset(&r, 0, sizeof(r));
	frun_dir(&r);
	snprintf(disk, sizeof(disk), "%s/disk.img", r.dir);
	make_image(disk, DISK_BYTES);
	snprintf(opts, sizeof(opts), ",engine=%s,fail-eio=64-127", engines[_i]);
	r.cmdline = "tg.run=ioerr tg.eio=64-127";
	r.disk = disk;
	r.disk_opts = opts;
	frun_exec(&r);
	img = read_image(disk, &len);
	unlink(disk);
	frun_cleanup(&r);
	frun_exit0(&r);
	ck_assert_ptr_nonnull(strstr(r.err, "fail-eio: requests touching "
					    "sectors 64-127 fail with EIO "
					    "(testing)"));
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_has_line(&r, lines[i]);
	assert_sectors(img, 0, 8, 0);
	assert_sectors(img, 56, 8, 56);
	assert_sectors(img, 64, 64, UINT_MAX);
	assert_sectors(img, 128, 8, 128);
	assert_sectors(img, 136, 8, UINT_MAX);
	free(img);
	fprintf(stderr,
		"eio (engine %s): 7 of 11 requests IOERR, exactly "
		"those touching sectors 64-127\n",
		engines[_i]);
}
END_TEST

/*
 * A 1 MiB sparse image on a 256 KiB tmpfs: the guest's 65th 4 KiB block
 * meets ENOSPC. Mounted in a private mount namespace, so the mount goes
 * with this test's process even if it fails half way; unmounted
 * explicitly on the way out.
 */
#define NOSPC_KIB 256u

static unsigned char nospc_pattern(unsigned b, unsigned i)
{
	return (unsigned char)((i * 11u + b * 29u + 3u) & 0xffu);
}

/* Mount a NOSPC_KIB tmpfs on @mnt; false (and why) if we cannot. */
static bool tiny_tmpfs(const char *mnt)
{
	if (unshare(CLONE_NEWNS) == 0)
		(void)mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	if (mkdir(mnt, 0700) == 0 &&
	    mount("tmpfs", mnt, "tmpfs", 0, "size=256k,huge=never,mode=0700") ==
		0)
		return true;
	fprintf(stderr, "enospc: SKIP (mount -t tmpfs -o size=256k: %s)\n",
		strerror(errno));
	rmdir(mnt);
	return false;
}

static void nospc_check_image(const unsigned char *img, size_t len)
{
	ck_assert_uint_eq(len, DISK_BYTES);
	for (unsigned i = 0; i < BLOCK; i++)
		ck_assert_uint_eq(img[i], (i * 5u + 0x77u) & 0xffu);
	for (unsigned b = 1; b < NOSPC_KIB / 4; b++)
		for (unsigned i = 0; i < BLOCK; i++)
			ck_assert_msg(img[b * BLOCK + i] == nospc_pattern(b, i),
				      "block %u byte %u", b, i);
	for (size_t i = NOSPC_KIB * 1024u; i < len; i++)
		ck_assert_msg(img[i] == 0, "byte %zu past the full tmpfs", i);
}

START_TEST(test_enospc_only_those_requests)
{
	static struct frun r;
	char mnt[96], disk[128], opts[32];
	unsigned char *img;
	size_t len;

	if (skip_without_kvm())
		return;
	memset(&r, 0, sizeof(r));
	frun_dir(&r);
	snprintf(mnt, sizeof(mnt), "%s/mnt", r.dir);
	if (!tiny_tmpfs(mnt)) {
		frun_cleanup(&r);
		return;
	}
	snprintf(disk, sizeof(disk), "%s/disk.img", mnt);
	make_image(disk, DISK_BYTES);
	snprintf(opts, sizeof(opts), ",engine=%s", engines[_i]);
	r.cmdline = "tg.run=ioerr tg.enospc=1";
	r.disk = disk;
	r.disk_opts = opts;
	frun_exec(&r);
	img = read_image(disk, &len);
	unlink(disk);
	ck_assert_int_eq(umount(mnt), 0);
	rmdir(mnt);
	frun_cleanup(&r);
	frun_exit0(&r);
	assert_has_line(&r, "TG ioerr enospc: 64 blocks written, block 64 "
			    "status 1\n");
	assert_has_line(&r, "TG RESULT ioerr PASS enospc: rc=0; 64 blocks "
			    "written, IOERR at block 64 and 3 of the 3 after, "
			    "flush OK, read back, block 0 rewritten\n");
	assert_has_line(&r, "TG DONE pass=1 fail=0 skip=0\n");
	ck_assert_ptr_nonnull(strstr(r.err, "No space left on device"));
	nospc_check_image(img, len);
	free(img);
	fprintf(stderr,
		"enospc (engine %s): 64 blocks fit the 256 KiB tmpfs, "
		"the next 4 writes IOERR, then reads, FLUSH and a "
		"rewrite OK\n",
		engines[_i]);
}
END_TEST

/*
 * ---- Resource bounds ----
 * The VMM's resident memory outside guest RAM (smaps: total Rss minus
 * the Rss of the anonymous mapping of exactly the guest RAM size), sampled
 * at each "TG FLOOD <name> begin" line, every tick during the flood and
 * at its "end" line. The console's client connects, sends one byte and
 * never reads; it hangs up after the console "end" sample.
 */
#define FLOOD_BOUND_MIB 8.0

struct phase {
	char name[16];
	double base, end, peak;
	bool ended;
};

struct flood_run {
	int con; /* -1 not yet, -2 hung up */
	int ram_maps;
	struct phase ph[4];
	unsigned nph;
	unsigned long long sent;
	unsigned in_flight;
};

static bool anon(const char *p)
{
	p += strspn(p, " \t");
	return *p == '\n' || !*p || !strncmp(p, "[anon", 5);
}

/* Rss in MiB outside guest RAM; *maps: guest RAM mappings found. */
static double rss_outside_ram(pid_t pid, int *maps)
{
	unsigned long long lo, hi, kb, total = 0, ram = 0;
	char path[64], line[512];
	bool in_ram = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	*maps = 0;
	if (!f)
		return -1.0;
	while (fgets(line, sizeof(line), f)) {
		int end = 0;

		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s%n", &lo, &hi,
			   &end) == 2 &&
		    end > 0) {
			in_ram = hi - lo == (unsigned long long)F_MEMORY_MIB
						<< 20 &&
				 anon(line + end);
			*maps += in_ram;
		} else if (sscanf(line, "Rss: %llu kB", &kb) == 1) {
			total += kb;
			ram += in_ram ? kb : 0;
		}
	}
	fclose(f);
	return (double)(total - ram) / 1024.0;
}

static int connect_sock(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

static void flood_tick(struct frun *r)
{
	struct flood_run *f = r->ctx;
	struct phase *p = f->nph ? &f->ph[f->nph - 1] : NULL;
	int maps;
	double v;

	if (f->con == -1) {
		f->con = connect_sock(r->sock);
		if (f->con >= 0)
			ck_assert_int_eq(write(f->con, "go\n", 3), 3);
	}
	if (!p || p->ended)
		return;
	v = rss_outside_ram(r->pid, &maps);
	if (maps == 1 && v > p->peak)
		p->peak = v;
}

static void flood_line(struct frun *r, const char *l)
{
	struct flood_run *f = r->ctx;
	char name[16], what[8];
	struct phase *p;
	int maps;

	(void)sscanf(l, "TG FLOOD console end sent=%llu in_flight=%u", &f->sent,
		     &f->in_flight);
	if (sscanf(l, "TG FLOOD %15s %7s", name, what) != 2)
		return;
	if (!strcmp(what, "begin") && f->nph < 4) {
		p = &f->ph[f->nph++];
		snprintf(p->name, sizeof(p->name), "%s", name);
		p->base = p->peak = rss_outside_ram(r->pid, &f->ram_maps);
		return;
	}
	if (!f->nph || strcmp(what, "end"))
		return;
	p = &f->ph[f->nph - 1];
	p->end = rss_outside_ram(r->pid, &maps);
	/* The guest powers off right after the last end line: a sample of
	 * a process already gone finds no RAM and counts for nothing. */
	if (maps == 0)
		p->end = p->peak;
	else
		f->ram_maps = maps;
	p->peak = p->end > p->peak ? p->end : p->peak;
	p->ended = true;
	if (!strcmp(name, "console") && f->con >= 0) {
		close(f->con);
		f->con = -2;
	}
}

START_TEST(test_floods_bounded)
{
	static const char *const names[] = {"console", "rng", "notify"};
	static struct frun r;
	struct flood_run f = {.con = -1};
	char disk[128];

	if (skip_without_kvm())
		return;
	memset(&r, 0, sizeof(r));
	frun_dir(&r);
	snprintf(disk, sizeof(disk), "%s/disk.img", r.dir);
	make_image(disk, DISK_BYTES);
	r.cmdline = "tg.run=flood tg.flood_mb=64 tg.rng_reqs=20000 "
		    "tg.notifies=40000";
	r.disk = disk;
	r.console = true;
	r.on_line = flood_line;
	r.on_tick = flood_tick;
	r.ctx = &f;
	frun_exec(&r);
	if (f.con >= 0)
		close(f.con);
	unlink(disk);
	frun_cleanup(&r);
	frun_exit0(&r);
	assert_has_line(&r, "TG RESULT flood PASS console 64 MiB done rc=0; "
			    "rng 20000 reqs rc=0; notify 40000+20000+20000 "
			    "rc=0\n");
	assert_has_line(&r, "TG FLOOD rng end reqs=20000 bytes=81920000 "
			    "max_len=4096\n");
	assert_has_line(&r, "TG FLOOD notify end valid=40000 unready=20000 "
			    "invalid=20000 status=0x4f\n");
	assert_has_line(&r, "TG DONE pass=1 fail=0 skip=0\n");
	/* One fault report for 20000 bad notifies: latched, then quiet. */
	ck_assert_ptr_nonnull(strstr(r.err, ": fault NOTIFY (notification "
					    "of a missing or unready queue), "
					    "needs reset\n"));
	ck_assert_ptr_null(
	    strstr(strstr(r.err, "needs reset") + 1, "needs reset"));
	/* The client never read: the stream stalled with requests held. */
	ck_assert_uint_gt(f.in_flight, 0);
	ck_assert_uint_lt(f.sent, 64ull << 20);
	ck_assert_int_eq(f.ram_maps, 1);
	ck_assert_uint_eq(f.nph, 3);
	for (unsigned i = 0; i < 3; i++) {
		const struct phase *p = &f.ph[i];

		ck_assert_str_eq(p->name, names[i]);
		ck_assert(p->ended);
		fprintf(stderr,
			"flood %s: VMM Rss outside guest RAM %.1f MiB "
			"before, %.1f at the end, peak %.1f (bound: before "
			"+ %.0f MiB)\n",
			p->name, p->base, p->end, p->peak, FLOOD_BOUND_MIB);
		ck_assert_msg(p->base > 0 &&
				  p->peak <= p->base + FLOOD_BOUND_MIB,
			      "flood %s: Rss %.1f -> peak %.1f MiB", p->name,
			      p->base, p->peak);
	}
}
END_TEST

Suite *faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = tcase_create("kill");

	tcase_set_timeout(tc, 60.0 + 10.0 * kill_runs());
	tcase_add_test(tc, test_kill_checker);
	tcase_add_test(tc, test_kill_loses_nothing);
	suite_add_tcase(s, tc);
	tc = tcase_create("backend");
	tcase_set_timeout(tc, F_TIMEOUT_S + 30);
	tcase_add_loop_test(tc, test_eio_only_those_requests, 0, 2);
	tcase_add_loop_test(tc, test_enospc_only_those_requests, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("flood");
	tcase_set_timeout(tc, F_TIMEOUT_S + 30);
	tcase_add_test(tc, test_floods_bounded);
	suite_add_tcase(s, tc);
	return s;
}
