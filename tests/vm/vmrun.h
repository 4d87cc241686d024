/* SPDX-License-Identifier: Apache-2.0 */
/* vmm-demo tests: run vmm-demo with the test guest and collect what it
 * printed, what its console socket delivered and the disk image. */
#ifndef VMRUN_H
#define VMRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIMEOUT_S 60
#define DISK_BYTES (1u << 20)
#define SERIAL "tg-disk-1"
#define HELLO_NOLF "hello from the test guest"
#define HELLO HELLO_NOLF "\n"
#define OUT_MAX (256u << 10)

#define VMRUN_EXTRA 8

struct vmrun {
	/* in */
	const char *cmdline;
	const char *vcpus;
	bool disk_ro;
	bool talk; /* connect to the console, answer the hello with ping */
	const char *extra[VMRUN_EXTRA]; /* more vmm-demo arguments */
	const char *selftest; /* VMM_DEMO_SECCOMP_SELFTEST for the child */
	unsigned disk_bytes;  /* 0: DISK_BYTES */
	bool stdio_console;   /* --console stdio instead of the socket */
	bool prefill;	      /* stdout pipe full before the VM starts */
	double stall_s;	      /* do not read stdout for this long */
	bool close_stdin;
	bool stop_cont;	    /* SIGSTOP + SIGCONT before answering the hello */
	const char *kernel; /* NULL: TEST_GUEST */
	/* out */
	char dir[64], disk[96], sock[96];
	char out[OUT_MAX];	       /* vmm-demo stdout (the guest's UART) */
	char err[OUT_MAX];	       /* vmm-demo stderr (its log) */
	char con[4096];		       /* what the console socket delivered */
	unsigned char img[DISK_BYTES]; /* the disk image afterwards */
	size_t out_len, con_len, err_len;
	int status; /* waitpid status */
	bool timed_out, pinged;
	double seconds;
};

/* VMT_NO_SECCOMP set (the ASan run): vmm-demo gets --no-seccomp except in
 * the sandbox tests. */
bool no_seccomp(void);
/* Seconds on CLOCK_MONOTONIC. */
double now_s(void);
/* true (and a SKIP message) when /dev/kvm is unusable. */
bool skip_without_kvm(void);
/* Run vmm-demo with the guest until it exits or TIMEOUT_S passes: a fresh
 * disk image, the console on a socket (or stdio), the rng; r->extra
 * appended. Fails the test on a timeout. */
void vm_run(struct vmrun *r);
/* @log (vmm-demo's stderr) holds no ASan/UBSan/TSan/LSan report. */
void assert_no_sanitizer(const char *log);
void assert_exit0(const struct vmrun *r);
void assert_exit(const struct vmrun *r, int code);
/* The guest's output has a line starting with @prefix. */
void assert_line(const struct vmrun *r, const char *prefix);
/* vmm-demo's log (stderr) holds @text. */
void assert_log(const struct vmrun *r, const char *text);
/* Interrupts the guest counted for @dev in its "TG irq" line. */
unsigned irq_of(const struct vmrun *r, const char *dev);
/* Append @n bytes of @src to the NUL-terminated @buf (capacity @cap),
 * truncating. */
void append(char *buf, size_t cap, size_t *len, const char *src, size_t n);
uint32_t fnv1a(const unsigned char *p, size_t n);

#endif
