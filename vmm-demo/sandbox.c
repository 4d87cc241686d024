/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vmm-demo: per-thread seccomp filters (libseccomp). Each thread installs
 * its own filter (no TSYNC) once its setup is done; anything not listed
 * kills the whole process (SCMP_ACT_KILL_PROCESS: SIGSYS). The lists were
 * taken from strace of every test scenario and trimmed by hand; each
 * entry says who needs it.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>

#include <linux/kvm.h>
#include <seccomp.h>

#include "log.h"
#include "sandbox.h"
#include "vm.h"

struct rule {
	int nr;
	const char *why;
};

#define R(name, why)                                                           \
	{                                                                      \
		SCMP_SYS(name), why                                            \
	}

/* Every thread: memory, locks, signals, logging, thread exit. */
static const struct rule common[] = {
    R(futex, "pthread mutexes and joins"),
    R(restart_syscall, "a wait resumed after SIGSTOP/SIGCONT or ptrace"),
    R(poll, "a full non-blocking stdout: UART and log output wait"),
    R(munmap, "free of large blocks"),
    R(madvise, "glibc trims arenas and exiting thread stacks"),
    R(brk, "malloc"),
    R(rt_sigreturn, "return from the SIGUSR1 kick and tty handlers"),
    R(rt_sigprocmask, "glibc around thread exit and raise()"),
    R(tgkill, "vmm_stop() kicks vCPU threads out of KVM_RUN"),
    R(gettid, "pthread_kill"),
    R(getpid, "pthread_kill, raise"),
    R(clock_gettime, "timestamps when the vDSO is not used"),
    R(exit, "thread exit"),
    R(exit_group, "process exit"),
};

/*
 * Device backends: the I/O thread runs them, and a vCPU thread may too
 * when a register write activates or resets a device (the library lets
 * a device look at its queues at DRIVER_OK and drain I/O at reset).
 */
static const struct rule device_rules[] = {
    R(read, "eventfds, console input, rng timerfd"),
    R(readv, "console input into guest buffers"),
    R(write, "console output, irqfds, stop eventfd, UART, logs"),
    R(writev, "console output from guest buffers"),
    R(sendmsg, "console socket output (MSG_NOSIGNAL)"),
    R(recvmsg, "console socket input"),
    R(pread64, "blk sync engine"),
    R(pwrite64, "blk sync engine"),
    R(preadv, "blk sync engine"),
    R(pwritev, "blk sync engine"),
    R(preadv2, "blk sync engine"),
    R(pwritev2, "blk sync engine (RWF_DSYNC writethrough)"),
    R(fdatasync, "blk FLUSH"),
    R(fsync, "blk FLUSH fallback"),
    R(fallocate, "blk DISCARD and WRITE_ZEROES"),
    R(io_uring_enter, "blk io_uring engine; reset drains it"),
    R(getrandom, "virtio-rng"),
    R(timerfd_settime, "virtio-rng rate limit"),
    R(epoll_ctl, "device fds change the events they wait for"),
    R(fcntl, "console backend descriptor flags"),
    R(rt_sigpending, "console: a write to a closed pipe, SIGPIPE swallowed"),
    R(rt_sigtimedwait, "console: a write to a closed pipe, SIGPIPE swallowed"),
    R(poll, "console backend readiness"),
    R(ppoll, "console backend readiness"),
    R(close, "console socket client leaves"),
    R(fstat, "blk: image size"),
    R(newfstatat, "blk: image size"),
    R(lseek, "blk: image size"),
};

/* The I/O thread only. */
static const struct rule io_rules[] = {
    R(epoll_wait, "the I/O loop"),
    R(epoll_pwait, "the I/O loop (glibc may use it)"),
    R(accept4, "console socket backend: a client connects"),
};

/* The main thread once everything runs: wait, then free the devices
 * (device_rules) and exit. */
static const struct rule main_rules[] = {
    R(poll, "wait for the stop eventfd"),
    R(ppoll, "wait for the stop eventfd (glibc may use it)"),
    R(read, "the stop eventfd"),
    R(write, "final log line, tty restore"),
    R(close, "teardown"),
    R(io_uring_enter, "blk free waits for requests in flight"),
    R(newfstatat, "console socket file checked before its removal"),
    R(fstat, "console socket file checked before its removal"),
    R(statx, "console socket file checked before its removal"),
    R(unlink, "console socket file removed at the end"),
    R(unlinkat, "console socket file removed at the end"),
    R(fdatasync, "blk free"),
    R(lseek, "blk free"),
};

static int add_rules(scmp_filter_ctx ctx, const struct rule *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int e = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r[i].nr, 0);

		if (e < 0 && e != -EEXIST) {
			vmm_err("seccomp: rule for syscall %d (%s): %s",
				r[i].nr, r[i].why, strerror(-e));
			return -1;
		}
	}
	return 0;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* mmap and mprotect for malloc (arenas, large blocks), never executable. */
static int allow_memory(scmp_filter_ctx ctx)
{
	int e = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				 SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));

	if (!e)
		e = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (e < 0)
		vmm_err("seccomp: mmap/mprotect rules: %s", strerror(-e));
	return e;
}

/* A filter with the common rules, the device rules and @own. */
static scmp_filter_ctx ctx_new(const struct rule *own, size_t n)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);

	if (!ctx) {
		vmm_err("seccomp_init failed");
		return NULL;
	}
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 0) < 0 ||
	    add_rules(ctx, common, N(common)) < 0 ||
	    add_rules(ctx, device_rules, N(device_rules)) < 0 ||
	    add_rules(ctx, own, n) < 0 || allow_memory(ctx) < 0) {
		seccomp_release(ctx);
		return NULL;
	}
	return ctx;
}

/* ioctl(any fd, @req) for each request; 0 or a negative errno. */
static int allow_ioctls(scmp_filter_ctx ctx, const unsigned long *req, size_t n)
{
	int e = 0;

	for (size_t i = 0; !e && i < n; i++)
		e = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, req[i]));
	return e;
}

/* Terminal requests: the console's size and the raw-mode restore. */
static const unsigned long tty_ioctls[] = {
    TIOCGWINSZ, /* console: terminal size */
    TIOCSWINSZ, /* console pty: size set on resize */
    TCGETS,	/* terminal attributes */
    TCSETS,	/* raw mode restored (tcsetattr) */
};

/* The kind of the thread's filter ("vCPU", "I/O", "main"), for SIGSYS. */
static _Thread_local const char *sandbox_who;

/* SA_RESETHAND: the raise() below takes the default action (the process
 * ends with SIGSYS). Only write, ioctl(0, TCSETS) and tgkill, which every
 * filter allows. */
static void sys_trap(int sig, siginfo_t *si, void *uc)
{
	char msg[128] = "vmm-demo: error: seccomp: the ";
	size_t n = strlen(msg);
	const char *who = sandbox_who ? sandbox_who : "?";
	char num[12];
	int nr = si->si_syscall, k = 0;

	(void)uc;
	while (*who && n < 60)
		msg[n++] = *who++;
	memcpy(msg + n, " thread made forbidden syscall ", 31);
	n += 31;
	if (nr < 0)
		nr = 0;
	do
		num[k++] = (char)('0' + nr % 10);
	while ((nr /= 10) && k < 11);
	while (k)
		msg[n++] = num[--k];
	msg[n++] = '\n';
	if (write(STDERR_FILENO, msg, n) < 0) {
		/* nothing left to tell */
	}
	vmm_tty_restore();
	(void)raise(sig);
}

void vmm_sandbox_prepare(void)
{
	struct sigaction sa = {.sa_sigaction = sys_trap,
			       .sa_flags = (int)(SA_SIGINFO | SA_RESETHAND)};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
}

/*
 * Test hook: VMM_DEMO_SECCOMP_SELFTEST=vcpu|io|main makes that thread
 * call socket(), which no filter allows, right after its filter is in:
 * the test expects the process to die of SIGSYS (and to live with
 * --no-seccomp, where this is never reached).
 */
static void selftest(const char *key)
{
	const char *t = getenv("VMM_DEMO_SECCOMP_SELFTEST");

	if (!t || strcmp(t, key))
		return;
	vmm_warn("seccomp self-test: the %s thread calls socket()", key);
	if (syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0) >= 0)
		vmm_err("seccomp self-test: socket() was allowed");
}

/* Load @ctx unless building it failed (@e < 0); release it. */
static int load(scmp_filter_ctx ctx, int e, const char *who, const char *key)
{
	if (e >= 0)
		e = seccomp_load(ctx);
	seccomp_release(ctx);
	if (e < 0) {
		vmm_err("seccomp: the %s filter: %s", who, strerror(-e));
		return -1;
	}
	vmm_debug("seccomp: %s filter installed", who);
	sandbox_who = who;
	selftest(key);
	return 0;
}

int vmm_sandbox_vcpu(const struct vmm *vm, const struct vmm_vcpu *c)
{
	static const unsigned long vcpu_ioctls[] = {
	    KVM_RUN,	   /* the loop */
	    KVM_GET_REGS,  /* emulation-failure report */
	    KVM_GET_SREGS, /* emulation-failure report */
	    KVM_TRANSLATE, /* emulation-failure report: rip -> bytes */
	};
	scmp_filter_ctx ctx = ctx_new(NULL, 0);
	int e = 0;

	if (!ctx)
		return -1;
	/* ioctl only on this vCPU's fd with the requests above, and
	 * KVM_IRQ_LINE on the VM fd (UART interrupt). */
	for (size_t i = 0; !e && i < N(vcpu_ioctls); i++)
		e = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 2,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)c->fd),
				     SCMP_A1(SCMP_CMP_EQ, vcpu_ioctls[i]));
	if (!e)
		e = seccomp_rule_add(
		    ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 2,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)vm->vm_fd),
		    SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)KVM_IRQ_LINE));
	/* The terminal restore of the signal handlers (stdin, TCSETS). */
	if (!e)
		e = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 2,
				     SCMP_A0(SCMP_CMP_EQ, 0),
				     SCMP_A1(SCMP_CMP_EQ, TCSETS));
	return load(ctx, e, "vCPU", "vcpu");
}

int vmm_sandbox_io(const struct vmm *vm)
{
	scmp_filter_ctx ctx = ctx_new(io_rules, N(io_rules));

	(void)vm;
	if (!ctx)
		return -1;
	return load(ctx, allow_ioctls(ctx, tty_ioctls, N(tty_ioctls)), "I/O",
		    "io");
}

int vmm_sandbox_main(const struct vmm *vm)
{
	scmp_filter_ctx ctx = ctx_new(main_rules, N(main_rules));

	(void)vm;
	if (!ctx)
		return -1;
	return load(ctx, allow_ioctls(ctx, tty_ioctls, N(tty_ioctls)), "main",
		    "main");
}
