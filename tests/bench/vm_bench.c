/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vm_bench: vmm-demo against QEMU's microvm on the same KVM, both booting
 * the test guest (tests/guest/) in its benchmark mode (tg.run=bench).
 *
 *	vm_bench --vmm VMM --guest ELF [--runs N] [--secs S] [options]
 *
 * Runs alternate (ours, QEMU, ours, QEMU...), --runs of each (default 7),
 * in two passes: host page cache off (ours: --disk ...,cache=off, i.e.
 * O_DIRECT; QEMU: cache=none), then on (ours: plain --disk; QEMU:
 * cache=writeback). Each run is one VMM process; vm_bench
 *   - times launch -> first byte of the guest's serial output (the test
 *     guest's entry code writes a newline to the UART right after its
 *     boot marker, so this is the first guest instruction plus one exit), the
 *     guest's last line (`TG DONE`, written right before its poweroff) ->
 *     process exit, and launch -> exit (host CLOCK_MONOTONIC);
 *   - collects the guest's `TG BENCH <name> <value> <unit> reqs=<n>
 *     notify=<k> irq=<i>` lines, and for blk-* figures the exits per
 *     request, (notify + irq) / reqs, from the guest's own counters;
 *   - reads the virtio-console through a unix stream socket (ours:
 *     --console socket:PATH; QEMU: one end of a socketpair with a send
 *     buffer larger than the stream, passed as -chardev socket,fd=N to a
 *     virtconsole, which drops whatever its socket cannot take at once),
 *     sends the byte tg.console_sync=1 waits for, checks every byte of
 *     the stream (a `TG BENCH console-tx <n>` line, then n bytes, byte i =
 *     (i * 131 + 7) & 0xff) and times it on the host clock (first to last
 *     data byte);
 *   - reads /proc/PID/smaps when `TG BENCH DONE` appears: resident memory
 *     outside guest RAM = total Rss minus the Rss of the mappings whose
 *     size is exactly the guest RAM size (both VMMs map guest RAM as one
 *     anonymous block of that size).
 * The image is a file of non-zero data in a private directory under /tmp
 * (holes would make reads unrealistically fast), written back and, for the
 * cache-off pass, dropped from the page cache before every run; the
 * cache-on pass reads it once first so the cache is warm.
 *
 * Then one table: medians, min-max, ours/QEMU of the medians, and the
 * goals of the performance comparison. Without qemu-system-x86_64, or with
 * a test guest that has no PVH note (XEN_ELFNOTE_PHYS32_ENTRY: QEMU could
 * not boot it), ours runs alone; without a usable /dev/kvm nothing runs
 * (exit 0 with a message). A run that times out is killed and reported;
 * failed runs are left out of the table and make the exit status 1.
 *
 * Options:
 *   --runs N          runs of each VMM per pass (default 7)
 *   --secs S          tg.secs: guest seconds per blk figure (default 2)
 *   --cache off|on|both   passes to run (default both)
 *   --image-mib N     image size (default 256)
 *   --timeout S       per run (default 60 + 12 * secs)
 *   --budget S        start no run that would end later than S seconds
 *                     after --t0 (default 840): a stop is reported
 *   --t0 EPOCH        wall-clock start (make bench-vm passes the time it
 *                     started, so the total includes the build)
 *   --qemu PATH|none  QEMU binary (default qemu-system-x86_64 in PATH)
 *   --qemu-aio io_uring|native|threads   cache-off engine (default
 *                     native; cache on always uses io_uring: native needs
 *                     O_DIRECT)
 *   --qemu-poll-ns N  iothread poll-max-ns (default 500000; -1: QEMU's
 *                     own, 32768)
 *   --no-iothread     QEMU's blk on the main loop
 *   QEMU's defaults here are the settings that gave it its best figures
 *   on the PVM host, tried against aio=io_uring, poll-max-ns 0 / 32768,
 *   and no iothread.
 *   --cmdline S       more guest command line
 *   --quiet           no per-run progress lines
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <elf.h>

#define MEM_MIB 256u
#define MAX_RUNS 64u
#define MAX_SAMPLES (2u * MAX_RUNS)
#define MAX_SERIES 64u
#define MAX_FIGS 24u
#define TAIL_MAX 8192u
#define XEN_ELFNOTE_PHYS32_ENTRY 18u
#define CON_MAX (64u << 20) /* console stream sizes vm_bench provides for */
#define ROW_FIRST "launch -> first guest instruction"
#define ROW_EXIT "launch -> exit (whole run)"
#define ROW_OFF "TG DONE line -> exit"
#define ROW_MEM "VMM Rss outside guest RAM"
#define ROW_CON "console-tx (host clock)"

enum side { OURS, QEMU, NSIDE };
enum cache { CACHE_OFF, CACHE_ON, NCACHE };
/* Table sections: every run, then the blk figures of each pass. */
enum section { SEC_ALL, SEC_OFF, SEC_ON, NSEC };

static const char *const side_name[NSIDE] = {[OURS] = "ours", [QEMU] = "QEMU"};
static const char *const cache_name[NCACHE] = {
    [CACHE_OFF] = "off", [CACHE_ON] = "on"};

struct opts {
	const char *vmm, *guest, *qemu, *qemu_aio, *cmdline;
	unsigned runs, image_mib;
	unsigned secs;
	double timeout, budget, t0_wall;
	long qemu_poll_ns; /* < 0: QEMU's default */
	bool cache[NCACHE], iothread, quiet;
	char vmm_cache_off[32]; /* --disk suffix for O_DIRECT, "" if none */
	char qemu_version[64];
};

/* One row of the table: samples of each side. */
struct series {
	enum section sec;
	char label[48];
	char unit[12];
	bool lower_better;
	double v[NSIDE][MAX_SAMPLES];
	unsigned n[NSIDE];
};

/* A guest TG BENCH line. */
struct fig {
	char name[40], unit[12];
	double val;
	unsigned long long reqs, notify, irq;
};

/*
 * The console stream: one line `TG BENCH console-tx <n>`, then n bytes,
 * byte i = (i * 131 + 7) & 0xff (tests/guest/README.md).
 */
struct con_check {
	char hdr[64];
	unsigned hdr_len;
	bool in_data, hdr_bad;
	unsigned long long want, bytes, bad, first_bad;
	double t_first, t_last; /* first and last data byte */
};

struct run {
	enum side side;
	enum cache cache;
	pid_t pid;
	int out_fd, err_fd, con_fd, pidfd;
	int qemu_con; /* QEMU's end of the console socketpair */
	double t0, t_first, t_exit, t_done; /* seconds after launch */
	bool exited, timed_out, done_seen, guest_fail, no_bench, mem_ok;
	int status;
	char line[1024];
	size_t line_len;
	char tail[TAIL_MAX], err[TAIL_MAX];
	size_t tail_len, err_len;
	char fail_line[256];
	struct fig figs[MAX_FIGS];
	unsigned nfigs;
	struct con_check con;
	double mem_mib;
	unsigned ram_maps;
};

static struct series series[MAX_SERIES];
static unsigned nseries;
static char tmpdir[64], image[96], sock[96];
static volatile pid_t child = -1;
static int image_fd = -1;
static unsigned failures;
static int qemu_sndbuf; /* what the kernel gave QEMU's console socket */
static char fail_log[4096];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- temporary files ---- */

static void cleanup(void)
{
	if (child > 0)
		kill(child, SIGKILL);
	if (image[0])
		unlink(image);
	if (sock[0])
		unlink(sock);
	if (tmpdir[0])
		rmdir(tmpdir);
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt,
								...)
{
	va_list ap;

	fprintf(stderr, "vm_bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	cleanup();
	exit(1);
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

/* Non-zero data throughout: holes would read without touching the disk. */
static void make_image(unsigned mib)
{
	static uint64_t buf[(1u << 20) / 8];
	uint64_t rng = 0x9e3779b97f4a7c15ull;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vm-bench.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		tmpdir[0] = 0;
		die("mkdtemp /tmp: %s", strerror(errno));
	}
	snprintf(image, sizeof(image), "%s/disk.img", tmpdir);
	snprintf(sock, sizeof(sock), "%s/con.sock", tmpdir);
	image_fd = open(image, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (image_fd < 0)
		die("%s: cannot create", image);
	for (unsigned m = 0; m < mib; m++) {
		for (size_t i = 0; i < sizeof(buf) / 8; i++)
			buf[i] = xorshift(&rng);
		if (write(image_fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			die("%s: write failed", image);
	}
	if (fsync(image_fd))
		die("%s: fsync failed", image);
}

/* Before each run: nothing left dirty from the last one; for the
 * cache-off pass nothing cached either, for the cache-on pass all of it. */
static void settle_image(enum cache c, unsigned mib)
{
	static char buf[1u << 20];

	if (fdatasync(image_fd))
		die("%s: fdatasync failed", image);
	if (c == CACHE_OFF) {
		posix_fadvise(image_fd, 0, 0, POSIX_FADV_DONTNEED);
		return;
	}
	for (unsigned m = 0; m < mib; m++)
		if (pread(image_fd, buf, sizeof(buf), (off_t)m << 20) < 0)
			die("%s: read failed", image);
}

/* ---- environment checks ---- */

static bool have_kvm(char *why, size_t len)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, len, "/dev/kvm: %s", strerror(errno));
		return false;
	}
	close(fd);
	return true;
}

/* @name as given if it has a slash, else the first match in PATH. */
static bool find_prog(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH");

	if (strchr(name, '/')) {
		snprintf(out, len, "%s", name);
		return access(out, X_OK) == 0;
	}
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");

		snprintf(out, len, "%.*s/%s", (int)n, p, name);
		if (n && access(out, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

/* Does the ELF carry a Xen PVH entry note (what QEMU's -kernel needs)? */
static bool elf_has_pvh(const char *path)
{
	static unsigned char buf[4u << 20];
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)buf;
	FILE *f = fopen(path, "rb");
	size_t len = f ? fread(buf, 1, sizeof(buf), f) : 0;

	if (f)
		fclose(f);
	if (len < sizeof(*eh) || memcmp(buf, ELFMAG, SELFMAG) ||
	    eh->e_phoff > len || eh->e_phnum > (len - eh->e_phoff) / 56)
		return false;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph =
		    (const Elf64_Phdr *)(buf + eh->e_phoff + i * 56u);
		size_t off = ph->p_offset, end = off + ph->p_filesz;

		if (ph->p_type != PT_NOTE || off > len || end > len)
			continue;
		while (off + 12 <= end) {
			const Elf64_Nhdr *nh = (const Elf64_Nhdr *)(buf + off);
			size_t name = (nh->n_namesz + 3u) & ~3u;
			size_t desc = (nh->n_descsz + 3u) & ~3u;

			if (nh->n_type == XEN_ELFNOTE_PHYS32_ENTRY &&
			    nh->n_namesz == 4 && !memcmp(nh + 1, "Xen", 4))
				return true;
			off += 12 + name + desc;
		}
	}
	return false;
}

/* The first line of `@prog @arg`, or "" (help texts, versions). */
static void prog_output(const char *prog, const char *arg, const char *want,
			char *out, size_t len)
{
	char cmd[600], line[512];
	FILE *p;

	out[0] = 0;
	snprintf(cmd, sizeof(cmd), "'%s' %s 2>&1", prog, arg);
	p = popen(cmd, "r");
	if (!p)
		return;
	while (fgets(line, sizeof(line), p))
		if (!out[0] && strstr(line, want)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(out, len, "%s", line);
		}
	pclose(p);
}

/* vmm-demo's --disk suffix for O_DIRECT, from its --help. */
static void vmm_cache_option(struct opts *o)
{
	char line[512];

	prog_output(o->vmm, "--help", "--disk", line, sizeof(line));
	o->vmm_cache_off[0] = 0;
	/* "--disk PATH[,...][,cache=on|off]" */
	if (strstr(line, ",cache=") && strstr(strstr(line, ",cache="), "off"))
		snprintf(o->vmm_cache_off, sizeof(o->vmm_cache_off),
			 ",cache=off");
}

/* ---- the table's data ---- */

static struct series *series_get(enum section sec, const char *label,
				 const char *unit, bool lower_better)
{
	struct series *s;

	for (unsigned i = 0; i < nseries; i++)
		if (series[i].sec == sec && !strcmp(series[i].label, label))
			return &series[i];
	if (nseries == MAX_SERIES)
		return NULL;
	s = &series[nseries++];
	s->sec = sec;
	s->lower_better = lower_better;
	snprintf(s->label, sizeof(s->label), "%s", label);
	snprintf(s->unit, sizeof(s->unit), "%s", unit);
	return s;
}

static void add_sample(enum section sec, const char *label, const char *unit,
		       bool lower_better, enum side side, double v)
{
	struct series *s = series_get(sec, label, unit, lower_better);

	if (s && s->n[side] < MAX_SAMPLES)
		s->v[side][s->n[side]++] = v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The median of one side of a row, or -1 without samples. */
static double row_median(enum section sec, const char *label, enum side side)
{
	for (unsigned i = 0; i < nseries; i++)
		if (series[i].sec == sec && !strcmp(series[i].label, label))
			return series[i].n[side] ? median(series[i].v[side],
							  series[i].n[side])
						 : -1;
	return -1;
}

/* ---- the console checker ---- */

/*
 * Check @n bytes of the pattern from stream offset c->bytes on. It
 * repeats every 256 bytes, so runs compare against a doubled table; a
 * mismatch is then counted byte by byte.
 */
static void con_check_data(struct con_check *c, const unsigned char *p,
			   size_t n)
{
	static unsigned char pat[512];

	if (!pat[1])
		for (unsigned i = 0; i < sizeof(pat); i++)
			pat[i] = (unsigned char)((i * 131u + 7u) & 0xffu);
	while (n) {
		size_t k = n < 256 ? n : 256, at = (size_t)(c->bytes & 255u);

		if (memcmp(p, pat + at, k))
			for (size_t i = 0; i < k; i++)
				if (p[i] != pat[(at + i) & 255u] && !c->bad++)
					c->first_bad = c->bytes + i;
		c->bytes += k;
		p += k;
		n -= k;
	}
}

/* Feed what the socket delivered at time @t: the header line, then data. */
static void con_check_feed(struct con_check *c, const unsigned char *p,
			   size_t n, double t)
{
	while (n && !c->in_data) {
		char ch = (char)*p++;

		n--;
		if (ch != '\n' && c->hdr_len < sizeof(c->hdr) - 1) {
			c->hdr[c->hdr_len++] = ch;
			continue;
		}
		c->hdr[c->hdr_len] = 0;
		c->in_data = true;
		c->hdr_bad =
		    ch != '\n' ||
		    sscanf(c->hdr, "TG BENCH console-tx %llu", &c->want) != 1;
	}
	if (!n)
		return;
	if (!c->bytes)
		c->t_first = t;
	c->t_last = t;
	con_check_data(c, p, n);
}

/* Why the stream is wrong, or NULL. @expected: the guest reported it. */
static const char *con_problem(const struct con_check *c, bool expected,
			       char *buf, size_t len)
{
	if (!expected && !c->hdr_len && !c->bytes)
		return NULL;
	if (!c->in_data || c->hdr_bad)
		snprintf(buf, len,
			 "console: no 'TG BENCH console-tx <n>' line "
			 "first (got '%s')",
			 c->hdr);
	else if (c->bad)
		snprintf(buf, len,
			 "console: %llu of %llu bytes wrong, first at %llu",
			 c->bad, c->bytes, c->first_bad);
	else if (c->bytes != c->want)
		snprintf(buf, len, "console: %llu bytes, the header said %llu",
			 c->bytes, c->want);
	else
		return NULL;
	return buf;
}

/* ---- VMM memory outside guest RAM ---- */

/*
 * Total Rss of @pid minus the Rss of every anonymous mapping whose size
 * is exactly the guest RAM size. Returns the number of such mappings
 * (0: guest RAM not identified), -1 if smaps cannot be read.
 */
/* An smaps header's path (after the inode) names anonymous memory:
 * none, an anonymous name, a shared anonymous or memfd mapping. */
static bool anon_path(const char *p)
{
	p += strspn(p, " \t");
	return *p == '\n' || !*p || !strncmp(p, "[anon", 5) ||
	       !strncmp(p, "/dev/zero", 9) || !strncmp(p, "/memfd:", 7);
}

static int vmm_rss(pid_t pid, unsigned long long ram_bytes, double *mib)
{
	unsigned long long lo, hi, kb, total = 0, ram = 0;
	char path[64], line[512];
	bool in_ram = false;
	int maps = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		int end = 0;

		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s%n", &lo, &hi,
			   &end) == 2 &&
		    end > 0) {
			in_ram = hi - lo == ram_bytes && anon_path(line + end);
			maps += in_ram;
		} else if (sscanf(line, "Rss: %llu kB", &kb) == 1) {
			total += kb;
			if (in_ram)
				ram += kb;
		}
	}
	fclose(f);
	*mib = (double)(total - ram) / 1024.0;
	return maps;
}

/* ---- one run ---- */

static void append(char *buf, size_t cap, size_t *len, const char *src,
		   size_t n)
{
	if (n >= cap)
		return;
	if (*len + n >= cap) {
		/* Keep the newer half: the tail is what explains a failure. */
		size_t keep = cap / 2 < *len ? cap / 2 : *len;

		memmove(buf, buf + *len - keep, keep);
		*len = keep;
	}
	if (*len + n >= cap)
		n = cap - 1 - *len;
	memcpy(buf + *len, src, n);
	*len += n;
	buf[*len] = 0;
}

static void parse_line(struct run *r, const char *l, unsigned long long ram)
{
	struct fig *f = &r->figs[r->nfigs];

	if (!strncmp(l, "TG DONE ", 8)) {
		/* The guest's last line, right before it powers off. */
		r->t_done = now() - r->t0;
	} else if (!strncmp(l, "TG BENCH DONE", 13)) {
		int maps = vmm_rss(r->pid, ram, &r->mem_mib);

		r->done_seen = true;
		r->mem_ok = maps > 0;
		r->ram_maps = maps > 0 ? (unsigned)maps : 0;
	} else if (!strncmp(l, "TG BENCH ", 9) && r->nfigs < MAX_FIGS) {
		if (sscanf(l + 9,
			   "%39s %lf %11s reqs=%llu notify=%llu irq=%llu",
			   f->name, &f->val, f->unit, &f->reqs, &f->notify,
			   &f->irq) >= 3)
			r->nfigs++;
	} else if ((!strncmp(l, "TG RESULT ", 10) && strstr(l, " FAIL")) ||
		   !strncmp(l, "TG EXCEPTION", 12)) {
		r->guest_fail = true;
		if (strstr(l, "unknown scenario"))
			r->no_bench = true;
		if (!r->fail_line[0])
			snprintf(r->fail_line, sizeof(r->fail_line), "%s", l);
	}
}

static void on_stdout(struct run *r, const char *buf, size_t n,
		      unsigned long long ram)
{
	append(r->tail, sizeof(r->tail), &r->tail_len, buf, n);
	for (size_t i = 0; i < n; i++) {
		if (buf[i] != '\n') {
			if (r->line_len < sizeof(r->line) - 1)
				r->line[r->line_len++] = buf[i];
			continue;
		}
		r->line[r->line_len] = 0;
		parse_line(r, r->line, ram);
		r->line_len = 0;
	}
}

static int try_connect(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The argument vector of one run (strings in @store). */
static void build_argv(const struct opts *o, const struct run *r,
		       char store[][640], char **argv)
{
	unsigned n = 0;

#define ARG(...) snprintf(argv[n] = store[n], 640, __VA_ARGS__), n++
	if (r->side == OURS) {
		ARG("%s", o->vmm);
		ARG("--kernel");
		ARG("%s", o->guest);
		ARG("--cmdline");
		ARG("tg.run=bench tg.console_sync=1 tg.secs=%u%s%s", o->secs,
		    o->cmdline ? " " : "", o->cmdline ? o->cmdline : "");
		ARG("--cmdline-devices");
		ARG("--memory");
		ARG("%u", MEM_MIB);
		ARG("--vcpus");
		ARG("1");
		ARG("--disk");
		ARG("%s%s", image,
		    r->cache == CACHE_OFF ? o->vmm_cache_off : "");
		ARG("--console");
		ARG("socket:%s", sock);
		ARG("--rng");
	} else {
		ARG("%s", o->qemu);
		ARG("-M");
		ARG("microvm,acpi=off");
		ARG("-accel");
		ARG("kvm");
		ARG("-cpu");
		ARG("qemu64,-pni");
		ARG("-m");
		ARG("%u", MEM_MIB);
		ARG("-smp");
		ARG("1");
		ARG("-nodefaults");
		ARG("-no-user-config");
		ARG("-nographic");
		ARG("-serial");
		ARG("stdio");
		ARG("-kernel");
		ARG("%s", o->guest);
		ARG("-append");
		ARG("tg.run=bench tg.console_sync=1 tg.secs=%u%s%s", o->secs,
		    o->cmdline ? " " : "", o->cmdline ? o->cmdline : "");
		ARG("-global");
		ARG("virtio-mmio.force-legacy=false");
		if (o->iothread) {
			ARG("-object");
			if (o->qemu_poll_ns >= 0)
				ARG("iothread,id=io0,poll-max-ns=%ld",
				    o->qemu_poll_ns);
			else
				ARG("iothread,id=io0");
		}
		ARG("-drive");
		ARG("id=d0,file=%s,format=raw,if=none,cache=%s,aio=%s", image,
		    r->cache == CACHE_OFF ? "none" : "writeback",
		    r->cache == CACHE_OFF ? o->qemu_aio : "io_uring");
		ARG("-device");
		ARG("virtio-blk-device,drive=d0%s",
		    o->iothread ? ",iothread=io0" : "");
		ARG("-chardev");
		ARG("socket,id=c0,fd=%d", r->qemu_con);
		ARG("-device");
		ARG("virtio-serial-device");
		ARG("-device");
		ARG("virtconsole,chardev=c0");
		ARG("-device");
		ARG("virtio-rng-device");
		ARG("-device");
		ARG("isa-debug-exit,iobase=0xf4,iosize=4");
	}
#undef ARG
	argv[n] = NULL;
}

/*
 * QEMU's console: a connected socketpair, its end passed with
 * -chardev socket,fd=N and given a send buffer larger than the stream.
 * QEMU's virtconsole drops what its chardev cannot take at once (it
 * throttles virtserialport, never a console), so with the default buffer
 * most of the stream would be lost whenever vm_bench reads a little late.
 */
static void qemu_console(struct run *r)
{
	int sv[2], size = 2 * (int)CON_MAX;
	socklen_t len = sizeof(qemu_sndbuf);

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair: %s", strerror(errno));
	if (setsockopt(sv[1], SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)))
		(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size,
				 sizeof(size));
	(void)getsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &qemu_sndbuf, &len);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	r->con_fd = sv[0];
	r->qemu_con = sv[1];
	/* tg.console_sync=1: the guest streams after a byte. */
	(void)!write(r->con_fd, "g", 1);
}

static void spawn(const struct opts *o, struct run *r)
{
	static char store[64][640];
	char *argv[64];
	int out[2], err[2];

	r->con_fd = r->qemu_con = -1;
	unlink(sock);
	if (r->side == QEMU)
		qemu_console(r);
	build_argv(o, r, store, argv);
	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	r->t0 = now();
	r->pid = fork();
	if (r->pid < 0)
		die("fork: %s", strerror(errno));
	if (r->pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		if (r->qemu_con >= 0)
			fcntl(r->qemu_con, F_SETFD, 0);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	child = r->pid;
	close(out[1]);
	close(err[1]);
	if (r->qemu_con >= 0)
		close(r->qemu_con);
	r->out_fd = out[0];
	r->err_fd = err[0];
#ifdef SYS_pidfd_open
	r->pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
#else
	r->pidfd = -1;
#endif
}

/* Read what is there on one pipe; false at its end. */
static bool drain_pipe(struct run *r, int fd, unsigned long long ram)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0)
		return false;
	if (fd == r->err_fd) {
		append(r->err, sizeof(r->err), &r->err_len, buf, (size_t)n);
		return true;
	}
	if (!r->t_first)
		r->t_first = now() - r->t0;
	on_stdout(r, buf, (size_t)n, ram);
	return true;
}

static void drain_console(struct run *r)
{
	static unsigned char buf[256u << 10];
	ssize_t n;

	while ((n = read(r->con_fd, buf, sizeof(buf))) > 0)
		con_check_feed(&r->con, buf, (size_t)n, now());
	if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		close(r->con_fd);
		r->con_fd = -2; /* the VMM closed it: do not reconnect */
	}
}

static void reap(struct run *r)
{
	if (waitpid(r->pid, &r->status, 0) == r->pid) {
		r->exited = true;
		r->t_exit = now() - r->t0;
	}
	child = -1;
}

/* Poll until the VMM exits (or the timeout), reading all three streams. */
static void supervise(const struct opts *o, struct run *r)
{
	unsigned long long ram = (unsigned long long)MEM_MIB << 20;
	bool out_open = true, err_open = true;

	while (!r->exited && (out_open || err_open || r->pidfd >= 0)) {
		struct pollfd p[4] = {
		    {.fd = out_open ? r->out_fd : -1, .events = POLLIN},
		    {.fd = err_open ? r->err_fd : -1, .events = POLLIN},
		    {.fd = r->con_fd, .events = POLLIN},
		    {.fd = r->pidfd, .events = POLLIN}};

		if (now() - r->t0 > o->timeout) {
			r->timed_out = true;
			kill(r->pid, SIGKILL);
			break;
		}
		if (r->con_fd == -1 && (r->con_fd = try_connect(sock)) >= 0)
			/* tg.console_sync=1: the guest streams after a byte. */
			(void)!write(r->con_fd, "g", 1);
		p[2].fd = r->con_fd;
		if (poll(p, 4, r->con_fd == -1 ? 1 : 100) < 0 && errno != EINTR)
			break;
		if (p[3].revents)
			reap(r);
		if (p[0].revents)
			out_open = drain_pipe(r, r->out_fd, ram);
		if (p[1].revents)
			err_open = drain_pipe(r, r->err_fd, ram);
		if (r->con_fd >= 0 && p[2].revents)
			drain_console(r);
	}
	if (!r->exited)
		reap(r);
	/* What the VMM wrote just before it exited. */
	while (out_open && drain_pipe(r, r->out_fd, ram))
		;
	while (err_open && drain_pipe(r, r->err_fd, ram))
		;
	if (r->con_fd >= 0)
		drain_console(r);
	close(r->out_fd);
	close(r->err_fd);
	if (r->con_fd >= 0)
		close(r->con_fd);
	if (r->pidfd >= 0)
		close(r->pidfd);
}

/* ---- verdict and bookkeeping ---- */

static bool exit_ok(const struct run *r)
{
	if (!r->exited || !WIFEXITED(r->status))
		return false;
	/* QEMU's isa-debug-exit: status (value << 1) | 1 ends it normally. */
	return WEXITSTATUS(r->status) == 0 ||
	       (r->side == QEMU && (WEXITSTATUS(r->status) & 1));
}

static bool has_console_fig(const struct run *r)
{
	for (unsigned i = 0; i < r->nfigs; i++)
		if (!strncmp(r->figs[i].name, "console", 7))
			return true;
	return false;
}

/* Why the run does not count, or NULL. */
static const char *run_problem(const struct run *r, char *buf, size_t len)
{
	if (r->timed_out)
		snprintf(buf, len, "killed after %.0f s (timeout)",
			 r->t_exit > 0 ? r->t_exit : 0);
	else if (r->no_bench)
		snprintf(buf, len,
			 "the test guest has no bench mode "
			 "(tg.run=bench: unknown scenario)");
	else if (r->guest_fail)
		snprintf(buf, len, "guest reported: %s", r->fail_line);
	else if (!r->done_seen)
		snprintf(buf, len, "no 'TG BENCH DONE' line");
	else if (!exit_ok(r))
		snprintf(buf, len, "exit status 0x%x", r->status);
	else
		return NULL;
	return buf;
}

/* The samples of a run that counts; console ones only if @con_ok. */
static void record(const struct run *r, bool con_ok)
{
	enum section blk = r->cache == CACHE_OFF ? SEC_OFF : SEC_ON;
	char label[64];

	add_sample(SEC_ALL, ROW_FIRST, "ms", true, r->side, r->t_first * 1e3);
	add_sample(SEC_ALL, ROW_EXIT, "ms", true, r->side, r->t_exit * 1e3);
	if (r->t_done > 0)
		add_sample(SEC_ALL, ROW_OFF, "ms", true, r->side,
			   (r->t_exit - r->t_done) * 1e3);
	if (con_ok && r->con.bytes > 1 && r->con.t_last > r->con.t_first)
		add_sample(SEC_ALL, ROW_CON, "MB/s", false, r->side,
			   (double)r->con.bytes / 1e6 /
			       (r->con.t_last - r->con.t_first));
	if (r->mem_ok)
		add_sample(SEC_ALL, ROW_MEM, "MiB", true, r->side, r->mem_mib);
	for (unsigned i = 0; i < r->nfigs; i++) {
		const struct fig *f = &r->figs[i];
		bool is_blk = !strncmp(f->name, "blk", 3);

		if (!is_blk && !con_ok)
			continue;
		add_sample(is_blk ? blk : SEC_ALL, f->name, f->unit, false,
			   r->side, f->val);
		if (!f->reqs)
			continue;
		snprintf(label, sizeof(label), "  %s exits/req", f->name);
		add_sample(is_blk ? blk : SEC_ALL, label, "exits", true,
			   r->side,
			   (double)(f->notify + f->irq) / (double)f->reqs);
	}
}

static void log_problem(const struct run *r, unsigned no, const char *what,
			bool dump)
{
	char msg[1024];
	size_t len = strlen(fail_log);

	snprintf(msg, sizeof(msg), "run %u (%s, cache %s): %s\n", no,
		 side_name[r->side], cache_name[r->cache], what);
	snprintf(fail_log + len, sizeof(fail_log) - len, "%s", msg);
	fprintf(stderr, "vm_bench: %s", msg);
	if (dump)
		fprintf(stderr,
			"---- serial (tail) ----\n%s\n---- log ----\n"
			"%s----\n",
			r->tail, r->err);
	failures++;
}

static void report_run(const struct opts *o, const struct run *r, unsigned no,
		       unsigned total)
{
	if (o->quiet)
		return;
	printf("run %2u/%u %-4s cache %-3s: first byte %6.1f ms, exit %6.2f "
	       "s, %u figures, console %llu bytes, Rss outside RAM ",
	       no, total, side_name[r->side], cache_name[r->cache],
	       r->t_first * 1e3, r->t_exit, r->nfigs, r->con.bytes);
	if (r->mem_ok)
		printf("%.2f MiB (guest RAM: %u mapping(s) of %u MiB)\n",
		       r->mem_mib, r->ram_maps, MEM_MIB);
	else
		printf("n/a (no mapping of %u MiB)\n", MEM_MIB);
	fflush(stdout);
}

/*
 * One VMM process from launch to exit. A failed run counts for nothing;
 * a console stream that fails the check leaves out the console rows.
 */
static void one_run(const struct opts *o, enum side side, enum cache c,
		    unsigned no, unsigned total, bool *no_bench)
{
	static struct run r;
	char why[600], con_why[512];
	const char *problem, *con;

	memset(&r, 0, sizeof(r));
	r.side = side;
	r.cache = c;
	settle_image(c, o->image_mib);
	spawn(o, &r);
	supervise(o, &r);
	problem = run_problem(&r, why, sizeof(why));
	if (problem) {
		log_problem(&r, no, problem, true);
		*no_bench = r.no_bench;
		return;
	}
	report_run(o, &r, no, total);
	con =
	    con_problem(&r.con, has_console_fig(&r), con_why, sizeof(con_why));
	if (con) {
		snprintf(why, sizeof(why), "%s (console rows left out)", con);
		log_problem(&r, no, why, false);
	}
	record(&r, !con);
}

/* ---- the table ---- */

/* Four significant digits or so, never an exponent. */
static void fmt_num(char *buf, size_t len, double v)
{
	int dec = v >= 1000 ? 0 : v >= 100 ? 1 : v >= 10 ? 2 : 3;

	snprintf(buf, len, "%.*f", dec, v);
}

static void print_range(double *v, unsigned n)
{
	char med[24], lo[24], hi[24], range[52];

	if (!n) {
		printf(" %9s %19s", "-", "-");
		return;
	}
	fmt_num(med, sizeof(med), median(v, n));
	fmt_num(lo, sizeof(lo), v[0]);
	fmt_num(hi, sizeof(hi), v[n - 1]);
	snprintf(range, sizeof(range), "%s-%s", lo, hi);
	printf(" %9s %19s", med, range);
}

static void print_row(struct series *s)
{
	double mo = 0, mq = 0;

	printf("%-34s %-5s", s->label, s->unit);
	if (s->n[OURS])
		mo = median(s->v[OURS], s->n[OURS]);
	if (s->n[QEMU])
		mq = median(s->v[QEMU], s->n[QEMU]);
	print_range(s->v[OURS], s->n[OURS]);
	print_range(s->v[QEMU], s->n[QEMU]);
	if (s->n[OURS] && s->n[QEMU] && mq > 0)
		printf(" %7.2f  %s\n", mo / mq,
		       mo == mq			      ? "same"
		       : (mo < mq) == s->lower_better ? "ours"
						      : "QEMU");
	else
		printf(" %7s\n", "-");
}

static void print_table(const struct opts *o)
{
	static const char *const title[NSEC] = {
	    [SEC_ALL] = "every run",
	    [SEC_OFF] = "blk, host page cache off (O_DIRECT, cache=none)",
	    [SEC_ON] = "blk, host page cache on (QEMU cache=writeback)"};

	printf("\n%-34s %-5s %9s %19s %9s %19s %7s  %s\n", "figure", "unit",
	       "ours med", "ours min-max", "QEMU med", "QEMU min-max", "ours/Q",
	       "better");
	for (unsigned sec = 0; sec < NSEC; sec++) {
		bool any = false;

		for (unsigned i = 0; i < nseries; i++)
			any |= series[i].sec == sec;
		if (!any)
			continue;
		printf("-- %s\n", title[sec]);
		for (unsigned i = 0; i < nseries; i++)
			if (series[i].sec == sec &&
			    (series[i].n[OURS] || series[i].n[QEMU]))
				print_row(&series[i]);
	}
	printf("(guest figures are the guest's own TSC timing; exits/req = "
	       "(notify + irq) / reqs\n counted by the guest; Rss outside "
	       "guest RAM = smaps total Rss minus the Rss of\n the anonymous "
	       "mapping(s) of exactly %u MiB, taken at TG BENCH DONE)\n",
	       MEM_MIB);
	printf("(console: ours --console socket:PATH, vm_bench connects; QEMU "
	       "a socketpair end passed\n as -chardev socket,fd=N with a "
	       "%d MiB send buffer, since QEMU's virtconsole drops\n what its "
	       "socket cannot take at once; every byte checked on both)\n",
	       qemu_sndbuf >> 20);
	(void)o;
}

/* A goal on a ratio of medians: ours/QEMU >= @min (or <= @max). */
static void goal(const char *what, enum section sec, const char *label,
		 double min, double max)
{
	double o = row_median(sec, label, OURS),
	       q = row_median(sec, label, QEMU);
	double ratio = q > 0 && o >= 0 ? o / q : -1;

	if (ratio < 0) {
		printf("  %-52s n/a\n", what);
		return;
	}
	printf("  %-52s %6.2f  %s\n", what, ratio,
	       (min < 0 || ratio >= min) && (max < 0 || ratio <= max)
		   ? "met"
		   : "NOT met");
}

static void print_goals(void)
{
	double mem = row_median(SEC_ALL, ROW_MEM, OURS);
	unsigned below = 0, rows = 0;

	printf("\ngoals (ratio ours/QEMU of the medians):\n");
	goal("blk 4k randread qd32, cache off: >= 2", SEC_OFF,
	     "blk-randread-4k-qd32", 2, -1);
	goal("blk 1m seqread, cache off: >= 1.2", SEC_OFF, "blk-seqread-1m-qd8",
	     1.2, -1);
	goal("blk 1m seqwrite, cache off: >= 1.2", SEC_OFF,
	     "blk-seqwrite-1m-qd8", 1.2, -1);
	goal("console-tx-64m (guest clock): >= 2", SEC_ALL, "console-tx-64m", 2,
	     -1);
	goal("launch -> first guest instruction: <= 0.25", SEC_ALL, ROW_FIRST,
	     -1, 0.25);
	goal("VMM Rss outside guest RAM: <= 0.2", SEC_ALL, ROW_MEM, -1, 0.2);
	if (mem >= 0)
		printf("  %-52s %6.2f  %s\n",
		       "VMM Rss outside guest RAM: <= 5 MiB", mem,
		       mem <= 5 ? "met" : "NOT met");
	for (unsigned i = 0; i < nseries; i++) {
		struct series *s = &series[i];

		if (s->lower_better || !s->n[OURS] || !s->n[QEMU])
			continue;
		rows++;
		below += median(s->v[OURS], s->n[OURS]) <
			 median(s->v[QEMU], s->n[QEMU]);
	}
	if (rows)
		printf("  %-52s %2u/%-3u %s\n",
		       "every throughput figure >= QEMU's", rows - below, rows,
		       below ? "NOT met" : "met");
}

/* ---- options and main ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: vm_bench --vmm VMM --guest ELF [--runs N] [--secs S] "
		"[--cache off|on|both]\n"
		"\t[--image-mib N] [--timeout S] [--budget S] [--t0 EPOCH]\n"
		"\t[--qemu PATH|none] [--qemu-aio io_uring|native|threads]\n"
		"\t[--qemu-poll-ns N] [--no-iothread] [--cmdline S] "
		"[--quiet]\n");
	exit(2);
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){.qemu = "qemu-system-x86_64",
			   .qemu_aio = "native",
			   .runs = 7,
			   .image_mib = 256,
			   .secs = 2,
			   .budget = 840,
			   .qemu_poll_ns = 500000,
			   .cache = {true, true},
			   .iothread = true};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--no-iothread") || !strcmp(a, "--quiet")) {
			o->iothread &= strcmp(a, "--no-iothread") != 0;
			o->quiet |= !strcmp(a, "--quiet");
			continue;
		}
		if (!v)
			usage();
		else if (!strcmp(a, "--vmm"))
			o->vmm = v;
		else if (!strcmp(a, "--guest"))
			o->guest = v;
		else if (!strcmp(a, "--qemu"))
			o->qemu = v;
		else if (!strcmp(a, "--qemu-aio"))
			o->qemu_aio = v;
		else if (!strcmp(a, "--cmdline"))
			o->cmdline = v;
		else if (!strcmp(a, "--runs"))
			o->runs = (unsigned)atoi(v);
		else if (!strcmp(a, "--image-mib"))
			o->image_mib = (unsigned)atoi(v);
		else if (!strcmp(a, "--secs"))
			o->secs = (unsigned)atoi(v);
		else if (!strcmp(a, "--timeout"))
			o->timeout = atof(v);
		else if (!strcmp(a, "--budget"))
			o->budget = atof(v);
		else if (!strcmp(a, "--t0"))
			o->t0_wall = atof(v);
		else if (!strcmp(a, "--qemu-poll-ns"))
			o->qemu_poll_ns = atol(v);
		else if (!strcmp(a, "--cache")) {
			o->cache[CACHE_OFF] = strcmp(v, "on") != 0;
			o->cache[CACHE_ON] = strcmp(v, "off") != 0;
		} else
			usage();
		i++;
	}
	if (!o->vmm || !o->guest || !o->runs || o->runs > MAX_RUNS ||
	    o->secs < 1 || o->secs > 60 || o->image_mib < 16)
		usage();
	if (!o->timeout)
		o->timeout = 60 + 12 * o->secs;
	if (!o->t0_wall)
		o->t0_wall = wall();
}

/* Can QEMU take part? Sets o->qemu to NULL (with the reason) if not. */
static void check_qemu(struct opts *o, char *path, size_t len)
{
	if (!strcmp(o->qemu, "none")) {
		printf("vm_bench: QEMU left out (--qemu none): ours only\n");
		o->qemu = NULL;
	} else if (!find_prog(o->qemu, path, len)) {
		printf("vm_bench: %s not found (Debian: apt-get install "
		       "qemu-system-x86): ours only\n",
		       o->qemu);
		o->qemu = NULL;
	} else if (!elf_has_pvh(o->guest)) {
		printf("vm_bench: %s has no PVH note (XEN_ELFNOTE_PHYS32_ENTRY)"
		       ", QEMU cannot boot it: ours only\n",
		       o->guest);
		o->qemu = NULL;
	} else {
		o->qemu = path;
		prog_output(path, "--version", "version", o->qemu_version,
			    sizeof(o->qemu_version));
	}
}

static void print_setup(const struct opts *o)
{
	printf("vm_bench: ours %s, guest %s, %u MiB RAM, 1 vCPU, tg.secs=%u,"
	       " %u runs per VMM per pass, image %u MiB in %s\n",
	       o->vmm, o->guest, MEM_MIB, o->secs, o->runs, o->image_mib,
	       tmpdir);
	if (!o->vmm_cache_off[0])
		printf(
		    "vm_bench: vmm-demo --help lists no cache=off for --disk:"
		    " ours skips the cache-off pass\n");
	else
		printf("vm_bench: ours cache off: --disk IMG%s\n",
		       o->vmm_cache_off);
	if (!o->qemu)
		return;
	printf("vm_bench: QEMU %s: -M microvm,acpi=off -accel kvm, modern "
	       "virtio-mmio (-global virtio-mmio.force-legacy=false)\n"
	       "vm_bench: QEMU blk: cache off aio=%s cache=none, cache on "
	       "aio=io_uring cache=writeback, %s",
	       o->qemu_version, o->qemu_aio,
	       o->iothread ? "iothread" : "main loop (no iothread)");
	if (o->iothread && o->qemu_poll_ns >= 0)
		printf(" poll-max-ns=%ld\n", o->qemu_poll_ns);
	else
		printf("%s\n",
		       o->iothread ? " poll-max-ns=default (32768)" : "");
}

/* Alternating runs of one pass; *stop at the time budget. False when the
 * guest has no bench mode. */
static bool run_pass(const struct opts *o, enum cache c, unsigned *no,
		     unsigned total, double *longest, bool *stop)
{
	bool ours = c == CACHE_ON || o->vmm_cache_off[0];
	bool no_bench = false;

	for (unsigned i = 0; i < o->runs; i++)
		for (enum side s = OURS; s < NSIDE; s++) {
			double t = wall(), est = longest[s] * 1.2 + 5;

			if ((s == OURS && !ours) || (s == QEMU && !o->qemu))
				continue;
			if (t + est > o->t0_wall + o->budget) {
				printf("vm_bench: time budget (%.0f s): "
				       "no more runs\n",
				       o->budget);
				failures++;
				*stop = true;
				return true;
			}
			++*no;
			one_run(o, s, c, *no, total, &no_bench);
			if (no_bench)
				return false;
			if (wall() - t > longest[s])
				longest[s] = wall() - t;
		}
	return true;
}

int main(int argc, char **argv)
{
	static char qemu_path[512];
	struct opts o;
	char why[256];
	double longest[NSIDE] = {0, 0}, start = now();
	unsigned no = 0, total = 0;
	bool stop = false;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_opts(argc, argv, &o);
	if (!have_kvm(why, sizeof(why))) {
		printf("vm_bench: SKIP: %s (no KVM: neither VMM can run)\n",
		       why);
		return 0;
	}
	check_qemu(&o, qemu_path, sizeof(qemu_path));
	vmm_cache_option(&o);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);
	atexit(cleanup);
	make_image(o.image_mib);
	print_setup(&o);
	/* The rows of every run, in this order. */
	series_get(SEC_ALL, ROW_FIRST, "ms", true);
	series_get(SEC_ALL, ROW_OFF, "ms", true);
	series_get(SEC_ALL, ROW_EXIT, "ms", true);
	series_get(SEC_ALL, ROW_MEM, "MiB", true);
	series_get(SEC_ALL, "console-tx-64m", "MB/s", false);
	series_get(SEC_ALL, ROW_CON, "MB/s", false);
	for (enum cache c = CACHE_OFF; c < NCACHE; c++)
		if (o.cache[c])
			total +=
			    o.runs * ((c == CACHE_ON || o.vmm_cache_off[0]) +
				      (o.qemu != NULL));
	for (enum cache c = CACHE_OFF; c < NCACHE; c++)
		if (o.cache[c] && !stop &&
		    !run_pass(&o, c, &no, total, longest, &stop)) {
			fprintf(stderr, "vm_bench: stopped: rebuild the test "
					"guest with its bench mode\n");
			return 1;
		}
	print_table(&o);
	if (o.qemu)
		print_goals();
	printf("\nvm_bench: %u runs, %u failed; %.0f s of runs, %.0f s in "
	       "all since --t0 (build included when make passes it)\n",
	       no, failures, now() - start, wall() - o.t0_wall);
	if (fail_log[0])
		printf("failed runs:\n%s", fail_log);
	return failures ? 1 : 0;
}
