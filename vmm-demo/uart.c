/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vmm-demo: an 8250/16550A UART at COM1 for the kernel console. Output
 * only (input goes to virtio-console): THR bytes are written to out_fd;
 * LSR always reports an empty transmitter; the loopback bits and the FIFO
 * identification are there so Linux's probe sees a 16550A; the THR-empty
 * interrupt (IER bit 1) is raised on IRQ 4 when the driver asks for it.
 */
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "layout.h"
#include "log.h"
#include "vm.h"

enum {
	UART_RBR_THR = 0,
	UART_IER = 1,
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

#define LCR_DLAB 0x80
#define IER_THRI 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MCR_LOOP 0x10
#define IIR_NONE 0x01
#define IIR_THRI 0x02

void vmm_uart_init(struct vmm_uart *u, struct vmm *vm, int out_fd)
{
	pthread_mutex_init(&u->lock, NULL);
	u->vm = vm;
	u->out_fd = out_fd;
	u->lcr = 0x03;
	u->mcr = 0x08;
}

static void irq_line(struct vmm_uart *u, int level)
{
	struct kvm_irq_level l = {.irq = VMM_UART_IRQ, .level = level};

	ioctl(u->vm->vm_fd, KVM_IRQ_LINE, &l);
}

/* IRQ 4 follows "THR-empty interrupt owed": the transmitter is always
 * empty, so enabling THRI (or writing THR with it on) raises it and
 * reading IIR clears it, as on the chip. */
static void update_irq(struct vmm_uart *u)
{
	irq_line(u, u->thri_pending && (u->ier & IER_THRI));
}

static uint8_t modem_status(const struct vmm_uart *u)
{
	uint8_t m = u->mcr;

	if (!(m & MCR_LOOP))
		return 0xb0; /* DCD, DSR, CTS */
	/* Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
	return (uint8_t)(((m & 1) << 5) | ((m & 2) << 3) | ((m & 4) << 4) |
			 ((m & 8) << 4));
}

void vmm_uart_io(struct vmm_uart *u, uint16_t off, bool is_write, uint8_t *val)
{
	bool dlab;

	pthread_mutex_lock(&u->lock);
	dlab = u->lcr & LCR_DLAB;
	if (is_write) {
		uint8_t v = *val;

		switch (off) {
		case UART_RBR_THR:
			if (dlab) {
				u->dll = v;
			} else {
				/* Waits while the reader is slow, as a real
				 * UART holds the CPU; lost only at exit. */
				if (!(u->mcr & MCR_LOOP))
					(void)vmm_write_full(u->out_fd, &v, 1,
							     &u->vm->stopping);
				u->thri_pending = true;
				update_irq(u);
			}
			break;
		case UART_IER:
			if (dlab) {
				u->dlm = v;
			} else {
				u->ier = v & 0x0f;
				if (u->ier & IER_THRI)
					u->thri_pending = true;
				update_irq(u);
			}
			break;
		case UART_IIR_FCR:
			u->fifo = v & 1;
			break;
		case UART_LCR:
			u->lcr = v;
			break;
		case UART_MCR:
			u->mcr = v & 0x1f;
			break;
		case UART_SCR:
			u->scr = v;
			break;
		default:
			break;
		}
	} else {
		uint8_t v = 0;

		switch (off) {
		case UART_RBR_THR:
			v = dlab ? u->dll : 0;
			break;
		case UART_IER:
			v = dlab ? u->dlm : u->ier;
			break;
		case UART_IIR_FCR:
			if (u->thri_pending && (u->ier & IER_THRI)) {
				v = IIR_THRI;
				u->thri_pending = false;
				update_irq(u);
			} else {
				v = IIR_NONE;
			}
			if (u->fifo)
				v |= 0xc0;
			break;
		case UART_LCR:
			v = u->lcr;
			break;
		case UART_MCR:
			v = u->mcr;
			break;
		case UART_LSR:
			v = LSR_THRE | LSR_TEMT;
			break;
		case UART_MSR:
			v = modem_status(u);
			break;
		case UART_SCR:
			v = u->scr;
			break;
		default:
			break;
		}
		*val = v;
	}
	pthread_mutex_unlock(&u->lock);
}
