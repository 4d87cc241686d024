/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The test guest (tests/guest/) under vmm-demo, through real KVM exits:
 * each test boots it with some scenarios (tg.run=), talks to its console
 * socket, and checks its report lines, the exit status and the bytes it
 * left on the disk image. Skipped (with a message) without /dev/kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <pty.h>
#include <time.h>
#include <unistd.h>

#include "vmrun.h"
#include "vmtests.h"

/* The guest's data patterns (tests/guest/README.md). */
static unsigned char blk_pattern(unsigned i)
{
	return (unsigned char)((i * 7u + 0x5au) & 0xffu);
}

static unsigned char reset_pattern(unsigned i)
{
	return (unsigned char)((i * 13u + 0x33u) & 0xffu);
}

static unsigned char smp_pattern(unsigned round, unsigned i)
{
	return (unsigned char)((i * 3u + round * 31u + 1u) & 0xffu);
}

/* Every scenario in one boot, 2 vCPUs, console answered. */
START_TEST(test_all_scenarios)
{
	static struct vmrun r;
	char want[64];
	const char *hello_end;

	if (skip_without_kvm())
		return;
	memset(&r, 0, sizeof(r));
	r.cmdline = "tg.run=blk,console,rng,smp,reset,irq";
	r.vcpus = "2";
	r.talk = true;
	vm_run(&r);
	assert_exit0(&r);
	assert_line(&r, "TG cmdline: tg.run=blk,console,rng,smp,reset,irq");
	assert_line(&r, "TG dev 0: ");
	assert_line(&r, "TG blk id=" SERIAL "\n");
	assert_line(&r, "TG RESULT blk PASS ");
	assert_line(&r, "TG RESULT console PASS ");
	assert_line(&r, "TG RESULT rng PASS ");
	assert_line(&r, "TG RESULT smp PASS ");
	assert_line(&r, "TG RESULT reset PASS ");
	assert_line(&r, "TG RESULT irq PASS ");
	assert_line(&r, "TG console got=ping\n");
	assert_line(&r, "TG DONE pass=6 fail=0 skip=0\n");
	assert_log(&r, " (PVH: 32-bit, start info in ebx)");
	/* The VMM timed the guest's first marker write and its poweroff. */
	assert_log(&r, "boot marker: first guest write to port 0x3f0 after ");
	assert_log(&r, "guest powered off after ");
	/* Sectors 0-7 of the zeroed image, as the guest read them. */
	snprintf(want, sizeof(want), "TG blk sectors 0-7 fnv1a=%08x\n",
		 fnv1a(r.img, 4096));
	assert_line(&r, want);
	/* The bytes the guest wrote, on the host image. */
	for (unsigned i = 0; i < 4096; i++)
		ck_assert_msg(r.img[8 * 512 + i] == blk_pattern(i),
			      "sector 8 byte %u: 0x%02x, want 0x%02x", i,
			      r.img[8 * 512 + i], blk_pattern(i));
	for (unsigned i = 0; i < 512; i++)
		ck_assert_uint_eq(r.img[24 * 512 + i], reset_pattern(i));
	for (unsigned rd = 0; rd < 32; rd++)
		for (unsigned i = 0; i < 4096; i++)
			ck_assert_uint_eq(r.img[(64 + 8 * rd) * 512 + i],
					  smp_pattern(rd, i));
	ck_assert_uint_eq(r.img[7 * 512], 0);
	ck_assert_uint_eq(r.img[(64 + 8 * 32) * 512], 0);
	/* Console: the hello line (repeated until we connected and
	 * answered), then the echo of our ping. */
	ck_assert_msg(r.pinged, "no hello line on the console socket: '%s'",
		      r.con);
	ck_assert_msg(!strncmp(r.con, HELLO, strlen(HELLO)),
		      "console starts '%.40s', want the hello line", r.con);
	hello_end = r.con;
	while (!strncmp(hello_end, HELLO, strlen(HELLO)))
		hello_end += strlen(HELLO);
	ck_assert_str_eq(hello_end, "echo:ping\n");
	/* Interrupts through the IOAPIC, per device. */
	ck_assert_uint_gt(irq_of(&r, "blk"), 0);
	ck_assert_uint_gt(irq_of(&r, "rng"), 0);
	ck_assert_uint_gt(irq_of(&r, "console"), 0);
}
END_TEST

/* One vCPU: smp reports SKIP, not PASS or FAIL. */
START_TEST(test_smp_needs_two_vcpus)
{
	static struct vmrun r;

	if (skip_without_kvm())
		return;
	memset(&r, 0, sizeof(r));
	r.cmdline = "tg.run=smp,rng";
	r.vcpus = "1";
	vm_run(&r);
	assert_exit0(&r);
	assert_line(&r, "TG RESULT rng PASS ");
	assert_line(&r, "TG RESULT smp SKIP vCPU 1 not online");
	assert_line(&r, "TG DONE pass=1 fail=0 skip=1\n");
}
END_TEST

/* Nobody on the console and tg.console_in=0: hello sent, input skipped. */
START_TEST(test_console_no_input)
{
	static struct vmrun r;

	if (skip_without_kvm())
		return;
	memset(&r, 0, sizeof(r));
	r.cmdline = "tg.run=console tg.console_in=0";
	r.vcpus = "1";
	vm_run(&r);
	assert_exit0(&r);
	assert_line(&r, "TG RESULT console SKIP hello sent, no input");
	assert_line(&r, "TG DONE pass=0 fail=0 skip=1\n");
}
END_TEST

/* The guest reports failures: a read-only disk refuses the write (and
 * vmm-demo still exits 0: the verdict is in the output). */
START_TEST(test_failures_reported)
{
	static struct vmrun r;

	if (skip_without_kvm())
		return;
	memset(&r, 0, sizeof(r));
	r.cmdline = "tg.run=blk,nosuch";
	r.vcpus = "1";
	r.disk_ro = true;
	vm_run(&r);
	assert_exit0(&r);
	assert_line(&r, "TG RESULT nosuch FAIL unknown scenario");
	assert_line(&r, "TG blk id=" SERIAL "\n");
	assert_line(&r, "TG blk type=1 sector=8 status=1\n");
	assert_line(&r, "TG RESULT blk FAIL write rc=-5");
	assert_line(&r, "TG DONE pass=0 fail=2 skip=0\n");
	for (unsigned i = 0; i < DISK_BYTES; i++)
		ck_assert_uint_eq(r.img[i], 0);
}
END_TEST

/* A fault in the guest is reported with its vector, address and cr2. */
START_TEST(test_guest_exception_reported)
{
	static struct vmrun r;

	if (skip_without_kvm())
		return;
	memset(&r, 0, sizeof(r));
	r.cmdline = "tg.run=rng,fault";
	r.vcpus = "2";
	vm_run(&r);
	assert_exit0(&r);
	assert_line(&r, "TG RESULT rng PASS ");
	assert_line(&r, "TG EXCEPTION vec=14 err=0x4 rip=0x");
	ck_assert_ptr_nonnull(strstr(r.out, " cs=0x23 "));
	ck_assert_ptr_nonnull(strstr(r.out, " cr2=0x8\n"));
	assert_line(&r, "TG RESULT exception FAIL vector 14 at 0x");
	assert_line(&r, "TG DONE pass=1 fail=1 skip=0\n");
}
END_TEST

/* ---- How the VM ends: every way gives a clear message and status ---- */

/* KVM's emulator cannot run fwait (PVM): the address and the bytes of
 * the instruction are reported, exit status 1. On a host with hardware
 * virtualization fwait just runs: the guest then reports FAIL. */
START_TEST(test_emulation_failure_reported)
{
	static struct vmrun r;
	char want[96];
	const char *p;
	unsigned addr = 0;

	if (skip_without_kvm())
		return;
	memset(&r, 0, sizeof(r));
	r.cmdline = "tg.run=emufail";
	r.vcpus = "1";
	vm_run(&r);
	p = strstr(r.out, "TG emufail: fwait in ring 0 at 0x");
	ck_assert_msg(p, "no emufail line:\n%s", r.out);
	ck_assert_int_eq(
	    sscanf(p + strlen("TG emufail: fwait in ring 0 at "), "%x", &addr),
	    1);
	if (access("/sys/module/kvm_pvm", F_OK) != 0) {
		fprintf(stderr, "emulation failure: SKIP (not PVM)\n");
		return;
	}
	assert_exit(&r, 1);
	snprintf(want, sizeof(want),
		 "KVM cannot emulate the instruction at rip 0x%x (cs 0x8, "
		 "cpl 0): bytes 9b ",
		 addr);
	assert_log(&r, want);
}
END_TEST

START_TEST(test_triple_fault_reported)
{
	static struct vmrun r;

	if (skip_without_kvm())
		return;
	memset(&r, 0, sizeof(r));
	r.cmdline = "tg.run=triple";
	r.vcpus = "1";
	vm_run(&r);
	assert_exit(&r, 1);
	assert_line(&r, "TG triple: empty IDT, then #UD\n");
	assert_log(&r, "vmm-demo: error: vCPU 0: guest triple fault (KVM "
		       "shutdown exit)");
}
END_TEST

START_TEST(test_reboot_exits_0)
{
	static struct vmrun r;

	if (skip_without_kvm())
		return;
	memset(&r, 0, sizeof(r));
	r.cmdline = "tg.run=reboot";
	r.vcpus = "1";
	vm_run(&r);
	assert_exit(&r, 0);
	assert_line(&r, "TG reboot: reset register\n");
	assert_log(&r, "vmm-demo: info: guest reset (reboot): exiting");
	ck_assert_ptr_null(strstr(r.out, "TG RESULT reboot"));
}
END_TEST

/* A bad value: exit 2, one message, nothing started. */
START_TEST(test_bad_config_exits_2)
{
	static struct vmrun r;

	if (skip_without_kvm())
		return;
	memset(&r, 0, sizeof(r));
	r.cmdline = "tg.run=rng";
	r.vcpus = "0";
	vm_run(&r);
	assert_exit(&r, 2);
	assert_log(&r, "--vcpus");
	ck_assert_ptr_null(strstr(r.err, "loaded"));
	ck_assert_uint_eq(r.out_len, 0);
}
END_TEST

/* MMIO where no device is: reads all-ones, and the log line it triggers
 * is rate limited (at most 20 a second), the rest counted. */
START_TEST(test_nodev_mmio_rate_limited)
{
	static struct vmrun r;
	unsigned lines = 0;

	if (skip_without_kvm())
		return;
	memset(&r, 0, sizeof(r));
	r.cmdline = "tg.run=nodev";
	r.vcpus = "1";
	r.extra[0] = "--log-level";
	r.extra[1] = "debug";
	vm_run(&r);
	assert_exit(&r, 0);
	assert_line(&r, "TG RESULT nodev PASS ");
	for (const char *p = r.err; (p = strstr(p, ": no device")); p++)
		lines++;
	/* 401 accesses in about 1.1 s: two windows at most. */
	ck_assert_msg(lines >= 2 && lines <= 40, "%u 'no device' lines", lines);
	assert_log(&r, "vmm-demo: debug: MMIO write of 4 bytes at 0xd0100000: "
		       "no device");
	assert_log(&r, " guest-triggered lines suppressed)");
}
END_TEST

/* Sleep/reset register values other than the FADT's do nothing; the
 * guest powers off normally afterwards. */
START_TEST(test_bad_port_values_ignored)
{
	static struct vmrun r;

	if (skip_without_kvm())
		return;
	memset(&r, 0, sizeof(r));
	r.cmdline = "tg.run=badports";
	r.vcpus = "1";
	vm_run(&r);
	assert_exit(&r, 0);
	assert_line(&r, "TG RESULT badports PASS ");
	assert_line(&r, "TG DONE pass=1 fail=0 skip=0\n");
	assert_log(&r, "guest powered off after ");
	ck_assert_ptr_null(strstr(r.err, "reset"));
}
END_TEST

/* ---- Sandbox: a forbidden syscall from each thread kind is SIGSYS ---- */

static void selftest(const char *thread, bool seccomp)
{
	static struct vmrun r;
	char want[128];

	memset(&r, 0, sizeof(r));
	r.cmdline = "tg.run=rng";
	r.vcpus = "1";
	r.selftest = thread;
	r.extra[0] = seccomp ? NULL : "--no-seccomp";
	vm_run(&r);
	if (!seccomp) {
		/* The same forbidden call is harmless without the filter. */
		assert_exit(&r, 0);
		assert_line(&r, "TG DONE pass=1 fail=0 skip=0\n");
		return;
	}
	ck_assert_msg(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGSYS,
		      "%s thread: status 0x%x, want SIGSYS; log:\n%s", thread,
		      r.status, r.err);
	/* The SIGSYS is the self-test's socket(), not a later call, and
	 * the handler named the thread and the syscall. */
	assert_log(&r, "seccomp self-test: the ");
	snprintf(want, sizeof(want),
		 "vmm-demo: error: seccomp: the %s thread made forbidden "
		 "syscall %d\n",
		 !strcmp(thread, "vcpu") ? "vCPU"
		 : !strcmp(thread, "io") ? "I/O"
					 : "main",
		 (int)SYS_socket);
	assert_log(&r, want);
	ck_assert_ptr_null(strstr(r.err, "socket() was allowed"));
	ck_assert_ptr_null(strstr(r.out, "TG DONE"));
}

START_TEST(test_seccomp_kills)
{
	static const char *const threads[] = {"vcpu", "io", "main"};

	if (skip_without_kvm())
		return;
	selftest(threads[_i], true);
}
END_TEST

START_TEST(test_seccomp_off)
{
	if (skip_without_kvm())
		return;
	selftest("vcpu", false);
}
END_TEST

/* ---- The stdio console on a terminal: raw mode, Ctrl-A x, restored ---- */

struct ptyrun {
	int master;
	pid_t pid;
	char out[OUT_MAX];
	size_t len;
};

static void pty_start(struct ptyrun *p, const char *cmdline)
{
	const char *vmm = vmt_env("VMM_DEMO"), *guest = vmt_env("TEST_GUEST");
	struct termios tio;

	p->len = 0;
	p->out[0] = 0;
	p->pid = forkpty(&p->master, NULL, NULL, NULL);
	ck_assert_int_ge(p->pid, 0);
	if (p->pid == 0) {
		execl(vmm, vmm, "--kernel", guest, "--cmdline", cmdline,
		      "--cmdline-devices", "--memory", "64", "--console",
		      "stdio", no_seccomp() ? "--no-seccomp" : (char *)NULL,
		      (char *)NULL);
		_exit(127);
	}
	/* The terminal starts cooked: canonical input, echo. */
	ck_assert_int_eq(tcgetattr(p->master, &tio), 0);
	ck_assert(tio.c_lflag & ICANON);
}

/* Read the terminal until @text shows (true) or @secs pass / EOF. */
static bool pty_until(struct ptyrun *p, const char *text, double secs)
{
	double end = now_s() + secs;

	while (!strstr(p->out, text) && now_s() < end) {
		struct pollfd pf = {.fd = p->master, .events = POLLIN};
		char buf[4096];
		ssize_t n;

		if (poll(&pf, 1, 100) <= 0)
			continue;
		n = read(p->master, buf, sizeof(buf));
		if (n <= 0)
			break;
		append(p->out, sizeof(p->out), &p->len, buf, (size_t)n);
	}
	return strstr(p->out, text) != NULL;
}

/* The terminal is back in canonical mode with echo. */
static void assert_cooked(int master)
{
	struct termios tio;

	ck_assert_int_eq(tcgetattr(master, &tio), 0);
	ck_assert_msg((tio.c_lflag & (ICANON | ECHO)) == (ICANON | ECHO),
		      "terminal left raw: lflag 0x%x", tio.c_lflag);
}

/* Read the terminal until vmm-demo closes it (bounded), then reap it. */
static int pty_wait(struct ptyrun *p)
{
	double end = now_s() + TIMEOUT_S;
	int status = -1;

	for (;;) {
		struct pollfd pf = {.fd = p->master, .events = POLLIN};
		char buf[4096];
		ssize_t n;

		if (now_s() > end) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &status, 0);
			ck_abort_msg("vmm-demo did not exit; terminal:\n%s",
				     p->out);
		}
		if (poll(&pf, 1, 100) <= 0)
			continue;
		n = read(p->master, buf, sizeof(buf));
		if (n <= 0)
			break; /* EIO: no process has the terminal open */
		append(p->out, sizeof(p->out), &p->len, buf, (size_t)n);
	}
	ck_assert_int_eq(waitpid(p->pid, &status, 0), p->pid);
	assert_no_sanitizer(p->out);
	return status;
}

/* Typed input reaches the guest; the guest's output reaches the terminal. */
START_TEST(test_stdio_console_both_ways)
{
	static struct ptyrun p;
	int status;

	if (skip_without_kvm())
		return;
	pty_start(&p, "tg.run=console");
	ck_assert_msg(pty_until(&p, HELLO_NOLF, TIMEOUT_S),
		      "no hello on the terminal:\n%s", p.out);
	ck_assert_int_eq(write(p.master, "ping\n", 5), 5);
	ck_assert_msg(pty_until(&p, "echo:ping", TIMEOUT_S),
		      "no echo on the terminal:\n%s", p.out);
	status = pty_wait(&p);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "status 0x%x:\n%s", status, p.out);
	ck_assert_msg(strstr(p.out, "TG RESULT console PASS "), "%s", p.out);
	close(p.master);
}
END_TEST

/* SIGTERM ends vmm-demo by SIGTERM (not SIGSYS from the sandbox) and
 * the terminal is restored first. */
START_TEST(test_stdio_sigterm_restores)
{
	static struct ptyrun p;
	int status;

	if (skip_without_kvm())
		return;
	pty_start(&p, "tg.run=console");
	ck_assert_msg(pty_until(&p, HELLO_NOLF, TIMEOUT_S),
		      "no hello on the terminal:\n%s", p.out);
	kill(p.pid, SIGTERM);
	status = pty_wait(&p);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
		      "status 0x%x, want SIGTERM:\n%s", status, p.out);
	assert_cooked(p.master);
	close(p.master);
}
END_TEST

/* A forbidden syscall with the console on a terminal: SIGSYS, and the
 * terminal is restored by the sandbox's handler first. */
START_TEST(test_stdio_sigsys_restores)
{
	static struct ptyrun p;
	int status;

	if (skip_without_kvm() || no_seccomp())
		return;
	setenv("VMM_DEMO_SECCOMP_SELFTEST", "io", 1);
	pty_start(&p, "tg.run=console");
	unsetenv("VMM_DEMO_SECCOMP_SELFTEST");
	status = pty_wait(&p);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
		      "status 0x%x, want SIGSYS:\n%s", status, p.out);
	ck_assert_msg(strstr(p.out, "seccomp: the I/O thread made forbidden"),
		      "%s", p.out);
	assert_cooked(p.master);
	close(p.master);
}
END_TEST

/* Ctrl-A x quits at once with status 0 and leaves the terminal cooked. */
START_TEST(test_stdio_ctrl_a_x)
{
	static struct ptyrun p;
	struct termios tio;
	int status;

	if (skip_without_kvm())
		return;
	pty_start(&p, "tg.run=console");
	ck_assert_msg(pty_until(&p, HELLO_NOLF, TIMEOUT_S),
		      "no hello on the terminal:\n%s", p.out);
	/* Raw while the VM runs: no canonical mode, no echo. */
	ck_assert_int_eq(tcgetattr(p.master, &tio), 0);
	ck_assert(!(tio.c_lflag & (ICANON | ECHO)));
	ck_assert_int_eq(write(p.master, "\x01x", 2), 2);
	status = pty_wait(&p);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "status 0x%x:\n%s", status, p.out);
	ck_assert_msg(strstr(p.out, "quit (Ctrl-A x)"), "%s", p.out);
	ck_assert_ptr_null(strstr(p.out, "TG DONE"));
	assert_cooked(p.master);
	close(p.master);
}
END_TEST

/* ---- Robustness of the process around the guest -------------------- */

/* SIGSTOP/SIGCONT (Ctrl-Z, a debugger) resumes waits through
 * restart_syscall: the sandbox must allow it. */
START_TEST(test_stop_continue)
{
	static struct vmrun r;

	if (skip_without_kvm())
		return;
	memset(&r, 0, sizeof(r));
	r.cmdline = "tg.run=console";
	r.vcpus = "1";
	r.talk = true;
	r.stop_cont = true;
	vm_run(&r);
	assert_exit(&r, 0);
	assert_line(&r, "TG RESULT console PASS ");
}
END_TEST

/* The stdio console makes stdout non-blocking; the UART output sharing
 * it must wait for a slow reader, not drop bytes. */
START_TEST(test_uart_waits_for_slow_stdout)
{
	static struct vmrun r;

	if (skip_without_kvm())
		return;
	memset(&r, 0, sizeof(r));
	r.cmdline = "tg.run=blk,rng";
	r.vcpus = "1";
	r.stdio_console = true;
	r.prefill = true;
	r.stall_s = 1.5;
	vm_run(&r);
	assert_exit(&r, 0);
	assert_line(&r, "TG cmdline: tg.run=blk,rng");
	assert_line(&r, "TG RESULT blk PASS ");
	assert_line(&r, "TG DONE pass=2 fail=0 skip=0\n");
}
END_TEST

/* stdin closed by the caller with a stdio console: no hang, no mix-up
 * of descriptors. */
START_TEST(test_closed_stdin)
{
	static struct vmrun r;

	if (skip_without_kvm())
		return;
	memset(&r, 0, sizeof(r));
	r.cmdline = "tg.run=rng tg.console_in=0";
	r.vcpus = "1";
	r.stdio_console = true;
	r.close_stdin = true;
	vm_run(&r);
	assert_exit(&r, 0);
	assert_line(&r, "TG DONE pass=1 fail=0 skip=0\n");
}
END_TEST

/* An image whose size is not a multiple of 512: a configuration error
 * (exit 2) naming the device and file, and the guest never runs. */
START_TEST(test_bad_image_exits_2)
{
	static struct vmrun r;

	if (skip_without_kvm())
		return;
	memset(&r, 0, sizeof(r));
	r.cmdline = "tg.run=blk";
	r.vcpus = "1";
	r.disk_bytes = 1000;
	vm_run(&r);
	assert_exit(&r, 2);
	assert_log(&r, "vmm-demo: error: devices[0] (virtio-blk@0xd0000000 ");
	assert_log(&r,
		   "/disk.img): cannot create the device: Invalid argument");
	ck_assert_ptr_null(strstr(r.out, "TG "));
}
END_TEST

/* The test guest's 64-bit entry (the Linux-style path vmm-demo takes for
 * an ELF without a PVH note): a copy with its PVH note's type changed
 * from 18 to 19 must boot just the same. */
START_TEST(test_64bit_entry)
{
	static struct vmrun r;
	static const unsigned char pvh_note[] = {4,  0, 0, 0, 4,   0,	0,   0,
						 18, 0, 0, 0, 'X', 'e', 'n', 0};
	char path[] = "/tmp/vmt-tg64.XXXXXX";
	size_t len = 0, hits = 0;
	unsigned char *img = malloc(4u << 20);
	FILE *f = fopen(vmt_env("TEST_GUEST"), "rb");
	int fd;

	if (skip_without_kvm())
		return;
	ck_assert(img && f);
	len = fread(img, 1, 4u << 20, f);
	fclose(f);
	for (size_t i = 0; i + sizeof(pvh_note) <= len; i++)
		if (!memcmp(img + i, pvh_note, sizeof(pvh_note))) {
			img[i + 8] = 19;
			hits++;
		}
	ck_assert_uint_eq(hits, 1);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, img, len), (ssize_t)len);
	close(fd);
	free(img);
	memset(&r, 0, sizeof(r));
	r.kernel = path;
	r.cmdline = "tg.run=blk,rng,smp";
	r.vcpus = "2";
	vm_run(&r);
	unlink(path);
	assert_exit(&r, 0);
	assert_line(&r, "TG DONE pass=3 fail=0 skip=0\n");
	ck_assert_ptr_null(strstr(r.err, "(PVH"));
}
END_TEST

Suite *kvm_suite(void)
{
	Suite *s = suite_create("kvm");
	TCase *tc = tcase_create("testguest");

	tcase_set_timeout(tc, TIMEOUT_S + 30);
	tcase_add_test(tc, test_all_scenarios);
	tcase_add_test(tc, test_smp_needs_two_vcpus);
	tcase_add_test(tc, test_64bit_entry);
	tcase_add_test(tc, test_console_no_input);
	tcase_add_test(tc, test_failures_reported);
	tcase_add_test(tc, test_guest_exception_reported);
	suite_add_tcase(s, tc);
	tc = tcase_create("exits");
	tcase_set_timeout(tc, TIMEOUT_S + 30);
	tcase_add_test(tc, test_emulation_failure_reported);
	tcase_add_test(tc, test_triple_fault_reported);
	tcase_add_test(tc, test_reboot_exits_0);
	tcase_add_test(tc, test_bad_config_exits_2);
	tcase_add_test(tc, test_nodev_mmio_rate_limited);
	tcase_add_test(tc, test_bad_port_values_ignored);
	suite_add_tcase(s, tc);
	tc = tcase_create("process");
	tcase_set_timeout(tc, TIMEOUT_S + 30);
	tcase_add_test(tc, test_stop_continue);
	tcase_add_test(tc, test_uart_waits_for_slow_stdout);
	tcase_add_test(tc, test_closed_stdin);
	tcase_add_test(tc, test_bad_image_exits_2);
	suite_add_tcase(s, tc);
	tc = tcase_create("terminal");
	tcase_set_timeout(tc, TIMEOUT_S + 30);
	tcase_add_test(tc, test_stdio_console_both_ways);
	tcase_add_test(tc, test_stdio_ctrl_a_x);
	tcase_add_test(tc, test_stdio_sigterm_restores);
	tcase_add_test(tc, test_stdio_sigsys_restores);
	suite_add_tcase(s, tc);
	tc = tcase_create("sandbox");
	tcase_set_timeout(tc, TIMEOUT_S + 30);
	tcase_add_loop_test(tc, test_seccomp_kills, 0, 3);
	tcase_add_test(tc, test_seccomp_off);
	suite_add_tcase(s, tc);
	return s;
}
