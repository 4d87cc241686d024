/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vmm-demo tests: Debian's cloud kernel (make guest: build/guest) under
 * vmm-demo. The early-boot tests check what the kernel printed about our
 * boot data: the command line, the e820 map of loader.c, the ACPI tables of
 * acpi.c. On PVM hosts the kernel cannot boot further (ring 0 is emulated), so
 * vmm-demo is killed once the lines are there. The full boot (initramfs,
 * virtio-blk write) runs only with hardware virtualization.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "layout.h"
#include "vmtests.h"

#define MEM_MIB 256
#define OUT_MAX (8u << 20) /* serial output kept; more is dropped */

/*
 * Bounds, about 3x what a PVM host (ring 0 emulated, ~1 us/instruction)
 * takes: vmlinux prints its command line 12.4 s after launch and the last
 * ACPI table line at 13.9 s; the bzImage's decompressor prints its KASLR
 * line at 2.1 s and the kernel its lines at 85 s. With hardware
 * virtualization all of this takes well under a second.
 */
#define ELF_TIMEOUT_S 45
#define BZ_TIMEOUT_S 240
#define FULL_TIMEOUT_S 120

/* A running vmm-demo: stdout and stderr into one pipe, kept in buf. */
struct vm {
	pid_t pid;
	int out; /* read end of stdout+stderr */
	int in;	 /* write end of stdin, -1 when stdin is /dev/null */
	char *buf;
	size_t len;
	struct timespec t0;
	int status; /* wait status once reaped */
	int reaped;
};

/* A condition on the output so far. */
enum verdict { PENDING, OK, BAD };
struct expect {
	const char *what;
	enum verdict (*check)(const struct expect *e, const char *out,
			      char *why, size_t n);
	const char *arg;
	double at; /* seconds after launch it first held, < 0 not yet */
};

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Path of @name in the bundle, or 0 (test skipped) if it is absent. */
static int bundle_file(char *path, size_t n, const char *name)
{
	const char *dir = vmt_env("GUEST_DIR");

	snprintf(path, n, "%s/%s", dir, name);
	if (access(path, R_OK) == 0)
		return 1;
	fprintf(stderr, "linux: SKIP: %s: %s (run make guest)\n", path,
		strerror(errno));
	return 0;
}

static int have_kvm(void)
{
	char why[256];

	if (vmt_have_kvm(why, sizeof(why)))
		return 1;
	fprintf(stderr, "linux: SKIP: %s\n", why);
	return 0;
}

/* An argv of strdup'd strings (execv wants them writable). */
struct args {
	char *v[32];
	int n;
};

static void args_add(struct args *a, const char *s)
{
	ck_assert_int_lt(a->n, 31);
	a->v[a->n] = strdup(s);
	ck_assert_ptr_nonnull(a->v[a->n]);
	a->v[++a->n] = NULL;
}

/* vmm-demo with the flags every boot here shares, then @kernel. */
static void args_vmm(struct args *a, const char *kernel, const char *cmdline)
{
	const char *fixed[] = {"--vcpus", "1", "--rng"};
	char mem[16];

	a->n = 0;
	args_add(a, vmt_env("VMM_DEMO"));
	args_add(a, "--kernel");
	args_add(a, kernel);
	args_add(a, "--cmdline");
	args_add(a, cmdline);
	snprintf(mem, sizeof(mem), "%d", MEM_MIB);
	args_add(a, "--memory");
	args_add(a, mem);
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		args_add(a, fixed[i]);
}

static void args_free(struct args *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
}

static void child(char *const argv[], int in, int out)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setpgid(0, 0); /* vm_stop kills the group */
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(126);
	execv(argv[0], argv);
	dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Start vmm-demo with @argv; @with_stdin gives the test its stdin. */
static void vm_start(struct vm *vm, char *const argv[], int with_stdin)
{
	int out[2], in[2] = {-1, -1};

	memset(vm, 0, sizeof(*vm));
	vm->in = -1;
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	if (with_stdin)
		ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	else
		in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(in[0], 0);
	vm->buf = malloc(OUT_MAX + 1);
	ck_assert_ptr_nonnull(vm->buf);
	vm->buf[0] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &vm->t0);
	vm->pid = fork();
	ck_assert_int_ge(vm->pid, 0);
	if (vm->pid == 0)
		child(argv, in[0], out[1]);
	close(out[1]);
	close(in[0]);
	vm->out = out[0];
	vm->in = in[1];
}

/* Read what is there within @ms: bytes read, 0 on timeout, -1 at EOF. */
static int vm_read(struct vm *vm, int ms)
{
	struct pollfd p = {.fd = vm->out, .events = POLLIN};
	char tmp[65536];
	ssize_t r;
	size_t room;

	if (poll(&p, 1, ms) <= 0)
		return 0;
	r = read(vm->out, tmp, sizeof(tmp));
	if (r < 0 && errno == EINTR)
		return 0;
	if (r <= 0)
		return -1;
	if (vm->len == OUT_MAX)
		return (int)r;
	room = OUT_MAX - vm->len;
	if ((size_t)r < room)
		room = (size_t)r;
	memcpy(vm->buf + vm->len, tmp, room);
	vm->len += room;
	vm->buf[vm->len] = '\0';
	return (int)r;
}

/* Kill (if still running) and reap. */
static void vm_stop(struct vm *vm)
{
	if (!vm->reaped) {
		kill(-vm->pid, SIGKILL);
		kill(vm->pid, SIGKILL);
		while (waitpid(vm->pid, &vm->status, 0) < 0 && errno == EINTR)
			;
		vm->reaped = 1;
	}
	if (vm->in >= 0)
		close(vm->in);
	vm->in = -1;
}

/* Wait until @secs after launch for exit; 1 when it exited. */
static int vm_wait_exit(struct vm *vm, double secs)
{
	while (since(&vm->t0) < secs) {
		if (waitpid(vm->pid, &vm->status, WNOHANG) == vm->pid) {
			vm->reaped = 1;
			while (vm_read(vm, 100) > 0)
				;
			return 1;
		}
		vm_read(vm, 100);
	}
	return 0;
}

static void vm_free(struct vm *vm)
{
	vm_stop(vm);
	close(vm->out);
	free(vm->buf);
}

/*
 * Check every expectation against the output until all are OK, one is BAD,
 * the process ends or @secs pass. Returns the index of the first one not
 * OK (with the reason in @why), or -1 when all held.
 */
static int vm_expect(struct vm *vm, struct expect *e, int n, double secs,
		     char *why, size_t wn)
{
	int eof = 0;

	for (;;) {
		int first = -1;

		for (int i = 0; i < n; i++) {
			enum verdict v = e[i].check(&e[i], vm->buf, why, wn);

			if (v == OK && e[i].at < 0)
				e[i].at = since(&vm->t0);
			if (v == BAD)
				return i;
			if (v == PENDING && first < 0)
				first = i;
		}
		if (first < 0)
			return -1;
		if (eof || since(&vm->t0) > secs) {
			e[first].check(&e[first], vm->buf, why, wn);
			snprintf(why + strlen(why), wn - strlen(why),
				 " (%s after %.1f s)",
				 eof ? "vmm-demo ended" : "timed out",
				 since(&vm->t0));
			return first;
		}
		eof = vm_read(vm, 200) < 0;
	}
}

/* Save the output; returns the path (static buffer) for messages. */
static const char *save_log(const struct vm *vm, const char *name)
{
	static char path[256];
	const char *tmp = getenv("TMPDIR");
	int fd;

	snprintf(path, sizeof(path), "%s/vmt-linux-%s-XXXXXX.log",
		 tmp && *tmp ? tmp : "/tmp", name);
	fd = mkstemps(path, 4);
	if (fd < 0)
		return "(log not saved)";
	if (write(fd, vm->buf, vm->len) != (ssize_t)vm->len)
		strcpy(path, "(log not saved)");
	close(fd);
	return path;
}

/* The last @n bytes of output, for failure messages. */
static const char *tail(const struct vm *vm, size_t n)
{
	return vm->len > n ? vm->buf + vm->len - n : vm->buf;
}

/* Copy line at @p (up to \r or \n) into @line. */
static void copy_line(const char *p, char *line, size_t n)
{
	size_t l = strcspn(p, "\r\n");

	if (l >= n)
		l = n - 1;
	memcpy(line, p, l);
	line[l] = '\0';
}

/* A line containing arg exactly followed by end of line or a space. */
static enum verdict has_text(const struct expect *e, const char *out, char *why,
			     size_t n)
{
	size_t l = strlen(e->arg);

	for (const char *p = strstr(out, e->arg); p; p = strstr(p + 1, e->arg))
		if (p[l] && strchr(" \r\n", p[l]))
			return OK;
	snprintf(why, n, "%s: no line with \"%s\"", e->what, e->arg);
	return PENDING;
}

/* A whole line (after a printk timestamp, if any) equal to arg. */
static enum verdict has_line(const struct expect *e, const char *out, char *why,
			     size_t n)
{
	size_t l = strlen(e->arg);

	for (const char *p = strstr(out, e->arg); p; p = strstr(p + 1, e->arg))
		if ((p == out || p[-1] == '\n' || p[-1] == ' ') && p[l] &&
		    strchr("\r\n", p[l]))
			return OK;
	snprintf(why, n, "%s: no line \"%s\"", e->what, e->arg);
	return PENDING;
}

/* Output that must not appear. */
static enum verdict lacks_text(const struct expect *e, const char *out,
			       char *why, size_t n)
{
	const char *p = strstr(out, e->arg);
	char line[200];

	if (!p)
		return OK;
	while (p > out && p[-1] != '\n')
		p--;
	copy_line(p, line, sizeof(line));
	snprintf(why, n, "%s: \"%s\"", e->what, line);
	return BAD;
}

/* The e820 lines loader.c must produce for MEM_MIB of RAM (< 3 GiB). */
static int e820_expected(char exp[3][96])
{
	const uint64_t mem = (uint64_t)MEM_MIB << 20;
	const uint64_t r[3][2] = {
	    {0, VMM_EBDA_ADDR},
	    {VMM_EBDA_ADDR, VMM_KERNEL_ADDR},
	    {VMM_KERNEL_ADDR, mem},
	};

	for (int i = 0; i < 3; i++)
		snprintf(exp[i], 96,
			 "[mem 0x%016" PRIx64 "-0x%016" PRIx64 "] %s", r[i][0],
			 r[i][1] - 1, i == 1 ? "reserved" : "usable");
	return 3;
}

/* Exactly the expected BIOS-e820 lines, each at least once. */
static enum verdict e820_ok(const struct expect *e, const char *out, char *why,
			    size_t n)
{
	char exp[3][96], line[200];
	int seen[3] = {0, 0, 0}, ne = e820_expected(exp);

	for (const char *p = strstr(out, e->arg); p;
	     p = strstr(p + 1, e->arg)) {
		int k;

		if (!strpbrk(p, "\r\n"))
			break; /* line not complete yet */
		copy_line(p + strlen(e->arg), line, sizeof(line));
		for (k = 0; k < ne && strcmp(line, exp[k]); k++)
			;
		if (k == ne) {
			snprintf(why, n, "e820: unexpected \"%s%s\"", e->arg,
				 line);
			return BAD;
		}
		seen[k] = 1;
	}
	for (int k = 0; k < ne; k++)
		if (!seen[k]) {
			snprintf(why, n, "e820: missing \"%s%s\"", e->arg,
				 exp[k]);
			return PENDING;
		}
	return OK;
}

/*
 * "ACPI: SIG 0x<16 hex> <len> (vNN LIBVMM...": the table sits in the ACPI
 * area of layout.h and carries our OEM id; the RSDP exactly at its start.
 */
static enum verdict acpi_ok(const struct expect *e, const char *out, char *why,
			    size_t n)
{
	char key[16], oem[8], line[200];
	const char *p;
	uint64_t addr, len;
	unsigned rev;

	snprintf(key, sizeof(key), "ACPI: %s 0x", e->arg);
	p = strstr(out, key);
	if (!p || !strpbrk(p, "\r\n")) {
		snprintf(why, n, "ACPI: no \"%s\" line", key);
		return PENDING;
	}
	copy_line(p, line, sizeof(line));
	if (sscanf(line + strlen(key) - 2,
		   "0x%16" SCNx64 " %" SCNx64 " (v%u %6s", &addr, &len, &rev,
		   oem) != 4) {
		snprintf(why, n, "ACPI: cannot parse \"%s\"", line);
		return BAD;
	}
	if (strncmp(oem, "LIBVMM", 6) || addr < VMM_ACPI_ADDR ||
	    addr + len > VMM_ACPI_END || len == 0 ||
	    (!strcmp(e->arg, "RSDP") &&
	     (addr != VMM_ACPI_ADDR || rev != 2 || !strstr(line, "LIBVMM)")))) {
		snprintf(why, n, "ACPI: unexpected \"%s\"", line);
		return BAD;
	}
	return OK;
}

static void cmdline_marker(char *cmd, size_t n, const char *prefix)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	snprintf(cmd, n, "%slibvmmio.test=%ld%06ld", prefix, (long)getpid(),
		 t.tv_nsec / 1000);
}

/* What the kernel prints about our boot data (see the file comment). */
static char want_cmdline[200]; /* "Command line: " and ours */
static const struct expect kernel_lines[] = {
    {"command line", has_text, want_cmdline, -1},
    {"e820", e820_ok, "BIOS-e820: ", -1},
    {"ACPI RSDP", acpi_ok, "RSDP", -1},
    {"ACPI XSDT", acpi_ok, "XSDT", -1},
    {"ACPI FADT", acpi_ok, "FACP", -1},
    {"ACPI DSDT", acpi_ok, "DSDT", -1},
    {"ACPI MADT", acpi_ok, "APIC", -1},
    {"ACPI checksums", lacks_text, "Incorrect checksum", -1},
    {"ACPI errors", lacks_text, "ACPI Error", -1},
    {"ACPI BIOS errors", lacks_text, "ACPI BIOS Error", -1},
};
#define NKERNEL ((int)(sizeof(kernel_lines) / sizeof(kernel_lines[0])))

/*
 * Boot @kernel with @cmd (read-only disk, rng) until all of @e held, then
 * kill vmm-demo; report when each line came.
 */
static void early_boot(const char *name, const char *kernel, const char *cmd,
		       struct expect *e, int ne, double secs)
{
	char disk[512], why[512];
	struct args args;
	struct vm vm;
	int bad;

	if (!have_kvm() || !bundle_file(disk, sizeof(disk), "disk.ext4"))
		return;
	strcat(disk, ",ro");
	args_vmm(&args, kernel, cmd);
	args_add(&args, "--disk");
	args_add(&args, disk);
	vm_start(&vm, args.v, 0);
	args_free(&args);
	bad = vm_expect(&vm, e, ne, secs, why, sizeof(why));
	vm_stop(&vm);
	fprintf(stderr, "linux: %s: seconds after launch:", name);
	for (int i = 0; i < ne; i++)
		if (e[i].check != lacks_text && e[i].at >= 0)
			fprintf(stderr, " %s %.2f;", e[i].what, e[i].at);
		else if (e[i].check != lacks_text)
			fprintf(stderr, " %s not seen;", e[i].what);
	fputc('\n', stderr);
	if (bad >= 0) {
		const char *log = save_log(&vm, name);
		char last[1024];

		snprintf(last, sizeof(last), "%s", tail(&vm, 900));
		vm_free(&vm);
		ck_abort_msg("%s: %s; output in %s; its end:\n%s", name, why,
			     log, last);
	}
	vm_free(&vm);
}

/*
 * 1 when the host has hardware virtualization under a non-PVM KVM; else 0
 * with the reason in @why.
 */
static int hw_virt(char *why, size_t n)
{
	char line[8192];
	int found = 0;
	FILE *f;

	if (access("/sys/module/kvm_pvm", F_OK) == 0) {
		snprintf(why, n,
			 "host KVM is PVM (kvm_pvm): guest ring 0 runs in "
			 "KVM's instruction emulator");
		return 0;
	}
	f = fopen("/proc/cpuinfo", "r");
	if (!f) {
		snprintf(why, n, "/proc/cpuinfo: %s", strerror(errno));
		return 0;
	}
	while (!found && fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5))
			found = strstr(line, " vmx ") ||
				strstr(line, " vmx\n") ||
				strstr(line, " svm ") || strstr(line, " svm\n");
	fclose(f);
	if (!found)
		snprintf(why, n,
			 "no vmx or svm flag in /proc/cpuinfo: no "
			 "hardware virtualization for a full boot");
	return found;
}

START_TEST(test_vmlinux_early_boot)
{
	char k[512], cmd[160];
	struct expect e[NKERNEL + 1];
	int ne = NKERNEL;

	if (!bundle_file(k, sizeof(k), "vmlinux"))
		return;
	cmdline_marker(cmd, sizeof(cmd), "earlyprintk=serial console=ttyS0 ");
	snprintf(want_cmdline, sizeof(want_cmdline), "Command line: %s", cmd);
	memcpy(e, kernel_lines, sizeof(kernel_lines));
	/* On PVM vmm-demo says at start why Linux cannot finish here. */
	if (access("/sys/module/kvm_pvm", F_OK) == 0)
		e[ne++] = (struct expect){
		    "PVM notice", has_text,
		    "vmm-demo: warning: host KVM is PVM (kvm_pvm, no VMX/SVM): "
		    "guest ring 0 runs in KVM's instruction emulator",
		    -1};
	early_boot("vmlinux", k, cmd, e, ne, ELF_TIMEOUT_S);
}
END_TEST

/*
 * The bzImage spends about 85 s in its decompressor on PVM before the
 * kernel prints a line (ring 0 emulated: lz4 into 53 MB, then the ELF
 * moves). The decompressor's own line comes first and shows it was
 * entered at the loader's 64-bit entry with our boot_params and command
 * line: with earlyprintk=serial and nokaslr it prints "KASLR disabled:
 * 'nokaslr' on cmdline." (arch/x86/boot/compressed/kaslr.c; "Decompressing
 * Linux..." needs CONFIG_X86_VERBOSE_BOOTUP, which Debian's kernel lacks).
 * Then the kernel's lines, as for vmlinux.
 */
START_TEST(test_bzimage_early_boot)
{
	char k[512], cmd[160];
	struct expect e[1 + NKERNEL] = {
	    {"decompressor", has_line, "KASLR disabled: 'nokaslr' on cmdline.",
	     -1},
	};

	if (!bundle_file(k, sizeof(k), "vmlinuz"))
		return;
	cmdline_marker(cmd, sizeof(cmd),
		       "earlyprintk=serial console=ttyS0 nokaslr ");
	snprintf(want_cmdline, sizeof(want_cmdline), "Command line: %s", cmd);
	memcpy(e + 1, kernel_lines, sizeof(kernel_lines));
	early_boot("bzImage", k, cmd, e, 1 + NKERNEL, BZ_TIMEOUT_S);
}
END_TEST

/* Copy @src to a new temporary file; its path in @dst. */
static void copy_disk(const char *src, char *dst, size_t n)
{
	const char *tmp = getenv("TMPDIR");
	char buf[1 << 16];
	ssize_t r;
	int in, out;

	snprintf(dst, n, "%s/vmt-linux-disk-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	out = mkstemp(dst);
	ck_assert_msg(out >= 0, "mkstemp %s: %s", dst, strerror(errno));
	in = open(src, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(in >= 0, "%s: %s", src, strerror(errno));
	while ((r = read(in, buf, sizeof(buf))) > 0)
		ck_assert_msg(write(out, buf, (size_t)r) == r, "write %s: %s",
			      dst, strerror(errno));
	ck_assert_msg(r == 0, "read %s: %s", src, strerror(errno));
	close(in);
	ck_assert_int_eq(close(out), 0);
}

/* What debugfs reads from /written.txt on @disk, into @got. */
static void debugfs_cat(const char *disk, char *got, size_t n)
{
	char cmd[600];
	size_t l;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "debugfs -R 'cat /written.txt' '%s' 2>/dev/null", disk);
	p = popen(cmd, "r");
	ck_assert_msg(p, "popen debugfs: %s", strerror(errno));
	l = fread(got, 1, n - 1, p);
	got[l] = '\0';
	pclose(p);
}

/* The bundle files of the full boot; 0 (skipped) if one is missing. */
struct full {
	char kernel[512], initrd[512], src[512], disk[512];
	char token[32], answer[64];
};

/*
 * Boot the bzImage with the initramfs, write /dev/vda from the shell, power
 * off. Returns 0, or -1 with the reason in @why.
 */
static int full_boot(struct vm *vm, struct full *f, char *why, size_t wn)
{
	char cmd[160], input[256];
	struct expect boot[] = {
	    {"init", has_line, "init: loaded virtio_blk.ko", -1},
	    {"init", has_line, "init: mounted /dev/vda on /mnt (read-write)",
	     -1},
	    {"init", has_line,
	     "init: hello.txt: hello from the vmm-demo guest disk", -1},
	    {"init", has_line, "init: ready: shell on /dev/hvc0", -1},
	};
	struct expect done[] = {{"shell", has_line, f->answer, -1}};
	struct args args;
	ssize_t l;

	cmdline_marker(cmd, sizeof(cmd), "console=ttyS0 ");
	args_vmm(&args, f->kernel, cmd);
	args_add(&args, "--initrd");
	args_add(&args, f->initrd);
	args_add(&args, "--disk");
	args_add(&args, f->disk);
	args_add(&args, "--console");
	args_add(&args, "stdio");
	vm_start(vm, args.v, 1);
	args_free(&args);
	if (vm_expect(vm, boot, 4, FULL_TIMEOUT_S, why, wn) >= 0)
		return -1;
	/* Upper case on the way: the tty's echo of the input does not match. */
	snprintf(input, sizeof(input),
		 "echo vmt-%s | tr a-z A-Z >/mnt/written.txt; "
		 "cat /mnt/written.txt; sync; umount /mnt; poweroff -f\n",
		 f->token);
	l = write(vm->in, input, strlen(input));
	if (l != (ssize_t)strlen(input)) {
		snprintf(why, wn, "write to vmm-demo's stdin: %s",
			 l < 0 ? strerror(errno) : "short write");
		return -1;
	}
	if (vm_expect(vm, done, 1, FULL_TIMEOUT_S, why, wn) >= 0)
		return -1;
	if (!vm_wait_exit(vm, FULL_TIMEOUT_S)) {
		snprintf(why, wn, "vmm-demo still running %d s after launch",
			 FULL_TIMEOUT_S);
		return -1;
	}
	if (!WIFEXITED(vm->status) || WEXITSTATUS(vm->status) != 0) {
		snprintf(why, wn, "vmm-demo ended with wait status 0x%x",
			 (unsigned)vm->status);
		return -1;
	}
	return 0;
}

START_TEST(test_full_boot)
{
	char why[512], got[128], want[80];
	struct full f;
	struct vm vm;

	if (!hw_virt(why, sizeof(why))) {
		fprintf(stderr,
			"linux: SKIP full boot: %s; a stock kernel cannot "
			"boot to a shell here\n",
			why);
		return;
	}
	if (!have_kvm() ||
	    !bundle_file(f.kernel, sizeof(f.kernel), "vmlinuz") ||
	    !bundle_file(f.initrd, sizeof(f.initrd), "initramfs.cpio.gz") ||
	    !bundle_file(f.src, sizeof(f.src), "disk.ext4"))
		return;
	copy_disk(f.src, f.disk, sizeof(f.disk));
	snprintf(f.token, sizeof(f.token), "%ld", (long)getpid());
	snprintf(f.answer, sizeof(f.answer), "VMT-%s", f.token);
	if (full_boot(&vm, &f, why, sizeof(why)) < 0) {
		const char *log = save_log(&vm, "full");
		char last[1024];

		snprintf(last, sizeof(last), "%s", tail(&vm, 900));
		vm_free(&vm);
		unlink(f.disk);
		ck_abort_msg("full boot: %s; output in %s; its end:\n%s", why,
			     log, last);
	}
	vm_free(&vm);
	debugfs_cat(f.disk, got, sizeof(got));
	unlink(f.disk);
	snprintf(want, sizeof(want), "%s\n", f.answer);
	ck_assert_str_eq(got, want);
}
END_TEST

Suite *linux_suite(void)
{
	Suite *s = suite_create("linux");
	TCase *tc = tcase_create("early_boot");

	tcase_set_timeout(tc, BZ_TIMEOUT_S + 30);
	tcase_add_test(tc, test_vmlinux_early_boot);
	tcase_add_test(tc, test_bzimage_early_boot);
	suite_add_tcase(s, tc);
	tc = tcase_create("full_boot");
	tcase_set_timeout(tc, 3 * FULL_TIMEOUT_S + 30);
	tcase_add_test(tc, test_full_boot);
	suite_add_tcase(s, tc);
	return s;
}
