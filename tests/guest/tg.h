/* SPDX-License-Identifier: Apache-2.0 */
/* Test guest: helpers shared by lib.c and main.c (ring 3 unless noted). */
#ifndef TG_H
#define TG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmmio/driver.h>

#include "tg_asm.h"

/* entry.S */
extern uint64_t tg_boot_params; /* zero page (64-bit entry), else 0 */
extern uint64_t tg_pvh_info;	/* hvm_start_info (PVH entry), else 0 */
extern volatile uint32_t tg_apic_id[TG_MAXCPU];
extern volatile uint32_t tg_irq_count[TG_MAXCPU][TG_MAXDEV];
void tg_main(uint64_t cpu);

/* The frame exc_common hands to tg_exception() (ring 0). */
struct tg_frame {
	uint64_t vec, err, rip, cs, rflags, rsp, ss;
};
void tg_exception(struct tg_frame *f);

/* libc subset (gcc emits calls to these even freestanding). */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int tg_strncmp(const char *a, const char *b, size_t n);

static inline void tg_outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint8_t tg_inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline uint64_t tg_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static inline void tg_pause(void)
{
	__asm__ volatile("pause" : : : "memory");
}

/* TSC: calibrated from CPUID at start (tg_tsc_init), else a guess. */
extern uint64_t tg_tsc_khz;
const char *tg_tsc_init(void);
/* A TSC value @ms milliseconds from now. */
uint64_t tg_deadline(uint64_t ms);
static inline bool tg_expired(uint64_t deadline)
{
	return tg_rdtsc() > deadline;
}

/*
 * Output to the UART, one line at a time under a lock (vCPUs do not
 * interleave). Formats: %s %c %d %u %x with l/ll, width, 0 flag, %%.
 */
void tg_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int tg_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);
int tg_snprintf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Unlocked output for the fatal path (ring 0 may have preempted the
 * lock holder). */
void tg_printf_raw(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ACPI sleep register: S5. Does not return. */
void tg_poweroff(void) __attribute__((noreturn));

/* main.c, for bench.c */
enum tg_verdict { TG_PASS, TG_FAIL, TG_SKIP };
/* The first device that probed with DeviceID @device_id, its slot in
 * *@slot (tg_irq_count's column); NULL if none. */
struct vmmio_drv *tg_dev_find(uint32_t device_id, unsigned *slot);
/* One TG RESULT line, counted in TG DONE. */
void tg_result(const char *name, enum tg_verdict v, const char *detail);
/* The kernel command line as read at start. */
const char *tg_cmdline(void);
/* The value of its first "@key" token (key includes the '='), or NULL. */
const char *tg_opt(const char *key);
/* The register window of device slot @slot (hostile.c pokes it with
 * accesses of any width); NULL if there is no such slot. */
void *tg_dev_window(unsigned slot);

/* dev.c: a device as a scenario file drives it, through the harness. */
/* Interrupts taken for device slot @slot, on all CPUs (entry.S counts). */
unsigned tg_irq_total(unsigned slot);
struct tg_vdev {
	struct vmmio_drv *drv; /* from tg_dev_find() */
	unsigned slot;	       /* tg_irq_count's column */
	uint64_t features;     /* negotiated */
	struct vmmio_drv_vq vq[2];
	unsigned irq_seen; /* interrupts acknowledged so far */
	unsigned notifies; /* QueueNotify writes tg_vdev_kick() made */
};
/* Negotiate @wanted, set up @nq queues (queue q on @ring[q], @ring_bytes,
 * with @slots[q]; at most @qsize entries, halved to the device's
 * maximum), DRIVER_OK. 0, -ENOENT (no such queue) or the harness's errno. */
int tg_vdev_start(struct tg_vdev *d, uint64_t wanted, unsigned nq,
		  unsigned char *const ring[], uint32_t ring_bytes,
		  struct vmmio_drv_slot *const slots[], uint16_t qsize);
/* Acknowledge InterruptStatus once per interrupt taken since the last. */
void tg_vdev_irq_poll(struct tg_vdev *d);
/* Notify queue @q if the device asked for it (EVENT_IDX, NO_NOTIFY). */
void tg_vdev_kick(struct tg_vdev *d, unsigned q);

/* Scenarios in their own files (tg.run=NAME; none in the default set).
 * hostile.c: hostile-driver scenarios, one table line each.
 * faults.c: killtest (flushed numbered blocks until killed), ioerr
 * (backend errors reach the guest), flood (console, rng and notify
 * floods for the host to measure). */
void tg_scen_hostile(void);
void tg_scen_killtest(void);
void tg_scen_ioerr(void);
void tg_scen_flood(void);

#endif
