/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vmm-demo: the microVM. One KVM VM with the in-kernel irqchip, guest RAM,
 * vCPU threads that take register accesses (UART, ACPI ports, virtio-mmio
 * windows) and an I/O thread that runs the device models.
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <vmmio/blk.h>
#include <vmmio/console.h>
#include <vmmio/device.h>
#include <vmmio/rng.h>

#include "config.h"
#include "loader.h"

struct kvm_run;
struct vmm;

struct vmm_vcpu {
	struct vmm *vm;
	unsigned idx;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
};

/* 8250 UART: enough of a 16550A for Linux's probe and console. */
struct vmm_uart {
	pthread_mutex_t lock;
	struct vmm *vm;
	int out_fd;
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	bool fifo;
	bool thri_pending; /* THR-empty interrupt owed to the guest */
};

/* Where a queue's ioeventfd leads (epoll data). */
struct vmm_notify {
	struct vmm_vdev *vdev;
	uint16_t queue;
	int fd;
};

/* One virtio-mmio device: the library's model, its window and wiring. */
struct vmm_vdev {
	const struct vmm_dev_cfg *cfg;
	struct vmm *vm;
	pthread_mutex_t lock; /* serializes register access and processing */
	struct vmmio_dev *dev;
	struct vmmio_blk *blk;
	struct vmmio_console *con;
	struct vmmio_rng *rng;
	int dev_fd; /* vmmio_X_fd(), -1 if none */
	int irqfd;
	struct vmm_notify *notify;
	unsigned nnotify;
	struct vmmio_host_ops *host;
	void *dev_src; /* epoll data of dev_fd */
	bool parked;   /* dev_fd out of epoll while the device is faulted */
	char name[40];
};

enum vmm_state {
	VMM_RUNNING,
	VMM_STOPPING,
};

struct vmm {
	const struct vmm_config *cfg;
	int kvm_fd, vm_fd;
	size_t run_size;
	struct vmm_ram ram;
	struct vmmio_mem *mem;
	struct vmmio_host_ops host;
	struct vmm_boot_info boot;
	bool linux_guest;     /* not our test guest */
	const char *host_kvm; /* "PVM (kvm_pvm)", "VMX (kvm_intel)" ... */
	bool host_can_boot_linux;

	unsigned nvcpu;
	struct vmm_vcpu *vcpu;
	struct vmm_uart uart;
	struct vmm_vdev vdev[VMM_VIRTIO_MAX];
	unsigned nvdev;

	int epoll_fd;
	int stop_fd; /* eventfd: readable once the VM stops */
	pthread_t io_thread;
	bool io_started;
	int stdin_fd;  /* -1 unless a stdio console reads stdin */
	int con_in[2]; /* pipe: filtered stdin -> console input */
	bool ctrl_a;

	struct timespec t0;
	atomic_bool marker_seen;
	atomic_int state;
	volatile bool stopping; /* set with state: writers stop waiting */
	int exit_status;
	char exit_msg[512];
};

/* Host KVM flavour; sets host_kvm and host_can_boot_linux. */
void vmm_detect_host(struct vmm *vm);
/* KVM VM, irqchip, PIT, RAM, ACPI, kernel, vCPUs; -1 after logging. */
int vmm_create(struct vmm *vm, const struct vmm_config *cfg);
/* Devices, ioeventfds, irqfds; -1 after logging. */
int vmm_devices_create(struct vmm *vm);
/* Start the I/O and vCPU threads, wait for the end; exit status. */
int vmm_run(struct vmm *vm);
void vmm_destroy(struct vmm *vm);

/*
 * End the VM (first caller wins): @status is the process exit status,
 * @fmt the message logged at the end (error level if status != 0).
 */
void vmm_stop(struct vmm *vm, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* vCPU-side handlers. */
void vmm_uart_init(struct vmm_uart *u, struct vmm *vm, int out_fd);
void vmm_uart_io(struct vmm_uart *u, uint16_t off, bool is_write, uint8_t *val);
int vmm_vdev_mmio(struct vmm *vm, uint64_t addr, bool write, uint8_t *data,
		  uint32_t len);
/* The I/O thread. */
void *vmm_io_thread(void *arg);
void vmm_vdev_destroy(struct vmm *vm);
/* Put a terminal stdin back as it was (async-signal-safe; no-op if it
 * was never made raw). */
void vmm_tty_restore(void);

/* Milliseconds since vm->t0. */
double vmm_elapsed_ms(const struct vmm *vm);

#endif
