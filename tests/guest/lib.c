/* SPDX-License-Identifier: Apache-2.0 */
/* Test guest: libc subset, formatted UART output, TSC, poweroff. */
#include "tg.h"

#include "../../vmm-demo/layout.h"

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep movsb"
			 : "+D"(d), "+S"(src), "+c"(n)
			 :
			 : "memory");
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int tg_strncmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i])
			return (unsigned char)a[i] < (unsigned char)b[i] ? -1
									 : 1;
		if (!a[i])
			return 0;
	}
	return 0;
}

/* --- TSC -------------------------------------------------------------- */

uint64_t tg_tsc_khz = 2000000;

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c,
		  uint32_t *d)
{
	__asm__ volatile("cpuid"
			 : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
			 : "a"(leaf), "c"(0));
}

static uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static uint16_t pit0_count(void)
{
	uint8_t lo, hi;

	tg_outb(0x43, 0x00); /* latch channel 0 */
	lo = inb(0x40);
	hi = inb(0x40);
	return (uint16_t)(hi << 8 | lo);
}

/*
 * Time 10 ms of PIT channel 0 (1.193182 MHz, counting down from 0xffff
 * in mode 0; its IRQ 0 is masked at the PIC and the IOAPIC). Without a
 * PIT the count never moves: give up after a TSC-bounded while.
 */
static bool pit_calibrate(void)
{
	const unsigned span = 1193182u / 100u;
	uint16_t c0, c;
	uint64_t t0, t1;

	tg_outb(0x43, 0x30); /* channel 0, lo/hi byte, mode 0, binary */
	tg_outb(0x40, 0xff);
	tg_outb(0x40, 0xff);
	c0 = pit0_count();
	t0 = tg_rdtsc();
	do {
		c = pit0_count();
		t1 = tg_rdtsc();
		if (t1 - t0 > 400000000u || c > c0)
			return false;
	} while ((unsigned)(c0 - c) < span);
	tg_tsc_khz = (t1 - t0) * 1193182u / (c0 - c) / 1000u;
	return tg_tsc_khz >= 100000 && tg_tsc_khz <= 10000000;
}

const char *tg_tsc_init(void)
{
	uint32_t a, b, c, d, max;

	cpuid(0, &max, &b, &c, &d);
	if (max >= 0x15) {
		cpuid(0x15, &a, &b, &c, &d);
		if (a && b && c) {
			tg_tsc_khz = (uint64_t)c / 1000u * b / a;
			if (tg_tsc_khz >= 100000 && tg_tsc_khz <= 10000000)
				return "cpuid 0x15";
		}
	}
	if (max >= 0x16) {
		cpuid(0x16, &a, &b, &c, &d);
		if (a >= 100 && a <= 10000) {
			tg_tsc_khz = (uint64_t)a * 1000u;
			return "cpuid 0x16";
		}
	}
	if (pit_calibrate())
		return "PIT";
	tg_tsc_khz = 2000000;
	return "guess";
}

uint64_t tg_deadline(uint64_t ms)
{
	return tg_rdtsc() + ms * tg_tsc_khz;
}

/* --- Formatting ------------------------------------------------------- */

struct out {
	char *buf;
	size_t len, pos;
};

static void put(struct out *o, char c)
{
	if (o->pos + 1 < o->len)
		o->buf[o->pos] = c;
	o->pos++;
}

static void put_num(struct out *o, unsigned long long v, unsigned base,
		    int width, bool zero, bool neg)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		width--;
	if (neg && zero)
		put(o, '-');
	for (int i = n; i < width; i++)
		put(o, zero ? '0' : ' ');
	if (neg && !zero)
		put(o, '-');
	while (n)
		put(o, tmp[--n]);
}

int tg_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
	struct out o = {buf, len, 0};

	for (; *fmt; fmt++) {
		int width = 0, lng = 0;
		bool zero = false;
		unsigned long long u;
		long long s;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0') {
			zero = true;
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
			s = lng ? va_arg(ap, long long) : va_arg(ap, int);
			put_num(&o,
				s < 0 ? 0ull - (unsigned long long)s
				      : (unsigned long long)s,
				10, width, zero, s < 0);
			break;
		case 'u':
		case 'x':
			u = lng ? va_arg(ap, unsigned long long)
				: va_arg(ap, unsigned);
			put_num(&o, u, *fmt == 'u' ? 10 : 16, width, zero,
				false);
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			int n = 0;

			if (!str)
				str = "(null)";
			for (; str[n]; n++)
				put(&o, str[n]);
			for (; n < width; n++)
				put(&o, ' ');
			break;
		}
		case '%':
			put(&o, '%');
			break;
		default: /* unknown: print it, stop at a trailing '%' */
			put(&o, '%');
			if (!*fmt)
				goto done;
			put(&o, *fmt);
		}
	}
done:
	if (len)
		buf[o.pos < len ? o.pos : len - 1] = 0;
	return (int)o.pos;
}

int tg_snprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = tg_vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n;
}

/* --- UART ------------------------------------------------------------- */

static int print_lock;

static void uart_write(const char *s)
{
	for (; *s; s++)
		tg_outb(VMM_UART_PORT, (uint8_t)*s);
}

void tg_printf(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	tg_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE))
		tg_pause();
	uart_write(line);
	__atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
}

void tg_printf_raw(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	tg_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	uart_write(line);
}

void tg_poweroff(void)
{
	uint64_t t;

	tg_outb(VMM_SLEEP_CTL_PORT, (VMM_SLP_TYP_S5 << 2) | VMM_SLP_EN);
	/* Still running: QEMU (microvm, acpi=off) has no sleep register;
	 * its isa-debug-exit device then exits with status (0 << 1) | 1. */
	tg_outb(TG_DEBUG_EXIT_PORT, 0);
	t = tg_deadline(2000);
	while (!tg_expired(t))
		tg_pause();
	tg_printf_raw("TG poweroff did not stop the VM\n");
	for (;;)
		tg_pause();
}
