/* SPDX-License-Identifier: Apache-2.0 */
/* vmm-demo: the KVM VM, its memory, its vCPUs and their exits. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "acpi.h"
#include "layout.h"
#include "log.h"
#include "sandbox.h"
#include "vm.h"

double vmm_elapsed_ms(const struct vmm *vm)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - vm->t0.tv_sec) * 1e3 +
	       (double)(now.tv_nsec - vm->t0.tv_nsec) / 1e6;
}

void vmm_detect_host(struct vmm *vm)
{
	struct stat st;
	char line[4096];
	bool vmx = false, svm = false;
	FILE *f;

	if (stat("/sys/module/kvm_pvm", &st) == 0) {
		vm->host_kvm = "PVM (kvm_pvm, no VMX/SVM)";
		vm->host_can_boot_linux = false;
		return;
	}
	f = fopen("/proc/cpuinfo", "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		vmx = strstr(line, " vmx") != NULL;
		svm = strstr(line, " svm") != NULL;
		break;
	}
	if (f)
		(void)fclose(f);
	vm->host_kvm = vmx   ? "VMX (kvm_intel)"
		       : svm ? "SVM (kvm_amd)"
			     : "unknown (no vmx/svm flag)";
	vm->host_can_boot_linux = vmx || svm;
}

void vmm_stop(struct vmm *vm, int status, const char *fmt, ...)
{
	int expect = VMM_RUNNING;
	uint64_t one = 1;
	va_list ap;

	if (!atomic_compare_exchange_strong(&vm->state, &expect, VMM_STOPPING))
		return;
	vm->exit_status = status;
	vm->stopping = true;
	va_start(ap, fmt);
	vsnprintf(vm->exit_msg, sizeof(vm->exit_msg), fmt, ap);
	va_end(ap);
	/* The main thread wakes on stop_fd and kicks every vCPU it
	 * started: vcpu[].started and .thread are its own. */
	if (write(vm->stop_fd, &one, sizeof(one)) < 0)
		abort();
}

static int kvm_ioctl_checked(int fd, unsigned long req, void *arg,
			     const char *what)
{
	int r = ioctl(fd, req, arg);

	if (r < 0)
		vmm_err("KVM %s: %s", what, strerror(errno));
	return r;
}

/* Mask both 8259s: KVM feeds GSI 0-15 to them too, and unprogrammed they
 * deliver at vector base 0 (IRQ 5 would arrive as #BR); hardware-reduced
 * Linux never programs them; our lines go through the IOAPIC only. */
static int pic_mask(struct vmm *vm)
{
	for (unsigned chip = KVM_IRQCHIP_PIC_MASTER;
	     chip <= KVM_IRQCHIP_PIC_SLAVE; chip++) {
		struct kvm_irqchip ic = {.chip_id = chip};

		if (kvm_ioctl_checked(vm->vm_fd, KVM_GET_IRQCHIP, &ic,
				      "KVM_GET_IRQCHIP") < 0)
			return -1;
		ic.chip.pic.imr = 0xff;
		if (kvm_ioctl_checked(vm->vm_fd, KVM_SET_IRQCHIP, &ic,
				      "KVM_SET_IRQCHIP") < 0)
			return -1;
	}
	return 0;
}

/*
 * Guest RAM: anonymous, 2 MiB aligned and marked for transparent huge
 * pages, as QEMU does. It matters beyond TLBs: a guest buffer then sits in
 * few host-contiguous pieces, so O_DIRECT requests reach the disk as few
 * large segments and merge; with scattered 4 KiB pages a 1 MiB request is
 * split by the disk's segment limit (254 here), completions trickle in one
 * at a time and sequential throughput halves (make bench-vm).
 */
static void *ram_map(uint64_t size)
{
	const uint64_t huge = 2u << 20;
	uint8_t *p = mmap(NULL, size + huge, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint8_t *a;

	if (p == MAP_FAILED)
		return NULL;
	/* NOLINTNEXTLINE(performance-no-int-to-ptr): aligned, in the mapping */
	a = (uint8_t *)(((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	munmap(a + size, (size_t)(p + huge - a));
	madvise(a, size, MADV_DONTDUMP);
	madvise(a, size, MADV_HUGEPAGE); /* best effort: THP may be off */
	return a;
}

static int ram_create(struct vmm *vm)
{
	uint64_t total = vm->cfg->memory_mib << 20;
	uint64_t low = total < VMM_LOW_RAM_MAX ? total : VMM_LOW_RAM_MAX;
	struct vmmio_mem_region mr[2];

	vm->ram.n = 0;
	for (unsigned i = 0; i < 2; i++) {
		uint64_t size = i == 0 ? low : total - low;
		uint64_t gpa = i == 0 ? 0 : VMM_HIGH_RAM_ADDR;
		struct kvm_userspace_memory_region r;
		void *p;

		if (!size)
			break;
		p = ram_map(size);
		if (!p) {
			vmm_err("guest RAM: mmap of %llu MiB: %s",
				(unsigned long long)(size >> 20),
				strerror(errno));
			return -1;
		}
		vm->ram.r[i] = (struct vmm_ram_region){
		    .gpa = gpa, .size = size, .host = p};
		vm->ram.n++;
		r = (struct kvm_userspace_memory_region){
		    .slot = i,
		    .guest_phys_addr = gpa,
		    .memory_size = size,
		    .userspace_addr = (uintptr_t)p,
		};
		if (kvm_ioctl_checked(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r,
				      "KVM_SET_USER_MEMORY_REGION") < 0)
			return -1;
		mr[i] = (struct vmmio_mem_region){
		    .gpa = gpa, .size = size, .host = p};
	}
	if (vmmio_mem_new(mr, vm->ram.n, &vm->host, vm, &vm->mem) < 0) {
		vmm_err("guest RAM: the library refused the memory map");
		return -1;
	}
	return 0;
}

static int cpuid_setup(struct vmm *vm, struct vmm_vcpu *c)
{
	const unsigned max = 256;
	struct kvm_cpuid2 *cpuid;
	int r = -1;

	cpuid = calloc(1, sizeof(*cpuid) + max * sizeof(cpuid->entries[0]));
	if (!cpuid)
		return -1;
	cpuid->nent = max;
	if (kvm_ioctl_checked(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid,
			      "KVM_GET_SUPPORTED_CPUID") < 0)
		goto out;
	for (unsigned i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		switch (e->function) {
		case 1: /* initial APIC id; "hypervisor" bit */
			e->ebx = (e->ebx & 0x00ffffffu) | (c->idx << 24);
			e->ecx |= 1u << 31;
			break;
		case 0xb: /* x2APIC topology: one thread per core */
		case 0x1f:
			e->edx = c->idx;
			break;
		default:
			break;
		}
	}
	r = kvm_ioctl_checked(c->fd, KVM_SET_CPUID2, cpuid, "KVM_SET_CPUID2");
out:
	free(cpuid);
	return r;
}

/* A flat 4 GiB segment of the loader's GDT. */
static struct kvm_segment flat_seg(uint16_t sel, uint8_t type, bool code64)
{
	struct kvm_segment s = {
	    .base = 0,
	    .limit = 0xffffffff,
	    .selector = sel,
	    .type = type,
	    .present = 1,
	    .s = 1,
	    .g = 1,
	};

	if (code64)
		s.l = 1;
	else
		s.db = 1;
	return s;
}

/*
 * 64-bit long mode with the loader's GDT and identity page tables, or for
 * @pvh the PVH entry state (Xen's HVM direct boot ABI): 32-bit protected
 * mode, paging off, CR4 and EFER clear, flat 4 GiB code and data.
 */
static int sregs_setup(struct vmm_vcpu *c, bool pvh)
{
	struct kvm_segment data = flat_seg(VMM_SEL_DATA, 3, false);
	struct kvm_sregs sregs;

	if (kvm_ioctl_checked(c->fd, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS") <
	    0)
		return -1;
	sregs.cs = pvh ? flat_seg(VMM_SEL_CODE32, 11, false)
		       : flat_seg(VMM_SEL_CODE64, 11, true);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.gdt.base = VMM_GDT_ADDR;
	sregs.gdt.limit = 4 * 8 - 1;
	if (pvh) {
		sregs.cr0 = 0x1u | 0x10u; /* PE ET */
		sregs.cr3 = 0;
		sregs.cr4 = 0;
		sregs.efer = 0;
	} else {
		sregs.cr0 = 0x80000001u | 0x10u | 0x20u; /* PG PE ET NE */
		sregs.cr3 = VMM_PML4_ADDR;
		sregs.cr4 = 0x20u;   /* PAE */
		sregs.efer = 0x500u; /* LME LMA */
	}
	return kvm_ioctl_checked(c->fd, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
}

/* The PVH BSP gets ebx = start info and no stack; 64-bit entries get rsi =
 * zero page, rdi = vCPU index and a stack. */
static int regs_setup(struct vmm *vm, struct vmm_vcpu *c, uint64_t entry,
		      bool pvh)
{
	struct kvm_regs regs;

	if (sregs_setup(c, pvh) < 0)
		return -1;
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 2;
	regs.rip = entry;
	if (pvh) {
		regs.rbx = vm->boot.pvh_start_info;
	} else {
		regs.rsi = vm->boot.boot_params;
		regs.rsp = VMM_BOOT_STACK_ADDR;
		regs.rdi = c->idx;
	}
	return kvm_ioctl_checked(c->fd, KVM_SET_REGS, &regs, "KVM_SET_REGS");
}

static int vcpus_create(struct vmm *vm)
{
	vm->nvcpu = vm->cfg->vcpus;
	vm->vcpu = calloc(vm->nvcpu, sizeof(*vm->vcpu));
	if (!vm->vcpu)
		return -1;
	for (unsigned i = 0; i < vm->nvcpu; i++)
		vm->vcpu[i].fd = -1;
	for (unsigned i = 0; i < vm->nvcpu; i++) {
		struct vmm_vcpu *c = &vm->vcpu[i];

		c->vm = vm;
		c->idx = i;
		c->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (c->fd < 0) {
			vmm_err("KVM_CREATE_VCPU %u: %s", i, strerror(errno));
			return -1;
		}
		c->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, c->fd, 0);
		if (c->run == MAP_FAILED) {
			c->run = NULL;
			vmm_err("mmap kvm_run of vCPU %u: %s", i,
				strerror(errno));
			return -1;
		}
		if (cpuid_setup(vm, c) < 0)
			return -1;
		/* Secondaries wait for INIT/SIPI unless the guest named an
		 * entry for them (the test guest's LIBVMMIO note): they start
		 * in 64-bit mode even when the BSP starts the PVH way. */
		if (i == 0 && regs_setup(vm, c,
					 vm->boot.pvh ? vm->boot.pvh_entry
						      : vm->boot.entry,
					 vm->boot.pvh) < 0)
			return -1;
		if (i > 0 && vm->boot.ap_entry &&
		    regs_setup(vm, c, vm->boot.ap_entry, false) < 0)
			return -1;
		if (i > 0 && vm->boot.ap_entry) {
			struct kvm_mp_state mp = {KVM_MP_STATE_RUNNABLE};

			if (kvm_ioctl_checked(c->fd, KVM_SET_MP_STATE, &mp,
					      "KVM_SET_MP_STATE") < 0)
				return -1;
		}
	}
	return 0;
}

/* The command line the guest sees: the config's, plus the devices. */
static char *cmdline_compose(const struct vmm *vm)
{
	const struct vmm_config *cfg = vm->cfg;
	size_t len = (cfg->cmdline ? strlen(cfg->cmdline) : 0) + 1 +
		     (size_t)cfg->ndev * 64;
	char *s = malloc(len);
	size_t n;

	if (!s)
		return NULL;
	n = (size_t)snprintf(s, len, "%s", cfg->cmdline ? cfg->cmdline : "");
	for (unsigned i = 0; cfg->cmdline_devices && i < cfg->ndev; i++)
		n += (size_t)snprintf(
		    s + n, len - n, "%svirtio_mmio.device=%u@0x%llx:%u",
		    n ? " " : "", VMM_VIRTIO_SIZE,
		    (unsigned long long)cfg->dev[i].addr, cfg->dev[i].irq);
	return s;
}

static int acpi_setup(struct vmm *vm)
{
	struct vmm_acpi_mmio dev[VMM_VIRTIO_MAX];
	size_t len = VMM_ACPI_END - VMM_ACPI_ADDR;
	void *buf = vmm_gpa(&vm->ram, VMM_ACPI_ADDR, len);
	char err[256];

	if (!buf) {
		vmm_err("guest RAM too small for the ACPI tables");
		return -1;
	}
	for (unsigned i = 0; i < vm->cfg->ndev; i++)
		dev[i] = (struct vmm_acpi_mmio){.base = vm->cfg->dev[i].addr,
						.size = VMM_VIRTIO_SIZE,
						.irq = vm->cfg->dev[i].irq};
	if (!vmm_acpi_build(buf, len, VMM_ACPI_ADDR, vm->nvcpu, dev,
			    vm->cfg->ndev, err, sizeof(err))) {
		vmm_err("ACPI tables: %s", err);
		return -1;
	}
	return 0;
}

static void host_log(void *opaque, enum vmmio_log_level level, const char *msg)
{
	(void)opaque;
	vmm_log((enum vmm_log_level)level, "%s", msg);
}

int vmm_create(struct vmm *vm, const struct vmm_config *cfg)
{
	struct vmm_boot_cfg boot;
	char err[512];
	char *cmdline;
	int r;

	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = vm->epoll_fd = vm->stop_fd = -1;
	vm->stdin_fd = vm->con_in[0] = vm->con_in[1] = -1;
	vm->host =
	    (struct vmmio_host_ops){.size = sizeof(vm->host), .log = host_log};
	atomic_init(&vm->state, VMM_RUNNING);
	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_fd < 0)
		return -1;
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		vmm_err("/dev/kvm: %s", strerror(errno));
		return -1;
	}
	r = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (r != KVM_API_VERSION) {
		vmm_err("/dev/kvm: API version %d, need %d", r,
			KVM_API_VERSION);
		return -1;
	}
	static const struct {
		int cap;
		const char *name;
	} caps[] = {
	    {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
	    {KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"},
	    {KVM_CAP_IRQFD, "KVM_CAP_IRQFD"},
	    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
	    {KVM_CAP_PIT2, "KVM_CAP_PIT2"},
	};
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0) {
			vmm_err("/dev/kvm lacks %s", caps[i].name);
			return -1;
		}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		vmm_err("KVM_CREATE_VM: %s", strerror(errno));
		return -1;
	}
	r = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (r <= 0)
		return -1;
	vm->run_size = (size_t)r;
	/* VMX needs these; PVM and SVM ignore or refuse them harmlessly. */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul) < 0)
		vmm_debug("KVM_SET_TSS_ADDR: %s (ignored)", strerror(errno));
	/* Guest RAM before the irqchip: with an in-kernel irqchip present,
	 * KVM_SET_USER_MEMORY_REGION took 5-7 ms here instead of 0.15 ms
	 * (measured on this project's PVM host), half of the launch. */
	if (ram_create(vm) < 0)
		return -1;
	if (kvm_ioctl_checked(vm->vm_fd, KVM_CREATE_IRQCHIP, NULL,
			      "KVM_CREATE_IRQCHIP") < 0)
		return -1;
	if (pic_mask(vm) < 0)
		return -1;
	/* Port 0x61 (PIT channel 2 gate, speaker) in the kernel too. */
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
	if (kvm_ioctl_checked(vm->vm_fd, KVM_CREATE_PIT2, &pit,
			      "KVM_CREATE_PIT2") < 0)
		return -1;
	vm->nvcpu = cfg->vcpus;
	if (acpi_setup(vm) < 0)
		return -1;
	cmdline = cmdline_compose(vm);
	if (!cmdline)
		return -1;
	boot = (struct vmm_boot_cfg){.kernel = cfg->kernel,
				     .initrd = cfg->initrd,
				     .cmdline = cmdline,
				     .rsdp = VMM_ACPI_ADDR};
	r = vmm_load_linux(&vm->ram, &boot, &vm->boot, err, sizeof(err));
	vmm_debug("command line: %s", cmdline);
	free(cmdline);
	if (r < 0) {
		vmm_err("%s", err);
		return -2;
	}
	vm->linux_guest = vm->boot.ap_entry == 0;
	vmm_info("%s %s loaded, entry 0x%llx%s%s", vm->boot.format, cfg->kernel,
		 (unsigned long long)(vm->boot.pvh ? vm->boot.pvh_entry
						   : vm->boot.entry),
		 vm->boot.pvh ? " (PVH: 32-bit, start info in ebx)" : "",
		 vm->boot.ap_entry
		     ? " (test guest: secondaries start in 64-bit "
		       "mode)"
		     : "");
	if (vcpus_create(vm) < 0)
		return -1;
	vmm_uart_init(&vm->uart, vm, STDOUT_FILENO);
	return 0;
}

/* Print the instruction KVM could not run: address and bytes. */
static void report_emulation_failure(struct vmm_vcpu *c)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_translation tr;
	char bytes[64] = "unreadable";
	const uint8_t *p;

	if (ioctl(c->fd, KVM_GET_REGS, &regs) < 0 ||
	    ioctl(c->fd, KVM_GET_SREGS, &sregs) < 0) {
		vmm_stop(c->vm, 1, "vCPU %u: KVM emulation failure", c->idx);
		return;
	}
	tr = (struct kvm_translation){.linear_address =
					  sregs.cs.base + regs.rip};
	if (ioctl(c->fd, KVM_TRANSLATE, &tr) == 0 && tr.valid &&
	    (p = vmm_gpa(&c->vm->ram, tr.physical_address, 15))) {
		size_t n = 0;

		for (unsigned i = 0; i < 15; i++)
			n += (size_t)snprintf(bytes + n, sizeof(bytes) - n,
					      "%s%02x", i ? " " : "", p[i]);
	}
	vmm_stop(c->vm, 1,
		 "vCPU %u: KVM cannot emulate the instruction at rip 0x%llx "
		 "(cs 0x%x, cpl %u): bytes %s",
		 c->idx, (unsigned long long)regs.rip, sregs.cs.selector,
		 sregs.cs.dpl, bytes);
}

static void pio_write_special(struct vmm *vm, uint16_t port, uint8_t v)
{
	switch (port) {
	case VMM_MARKER_PORT:
		if (!atomic_exchange(&vm->marker_seen, true))
			vmm_info("boot marker: first guest write to port 0x%x "
				 "after %.3f ms",
				 port, vmm_elapsed_ms(vm));
		break;
	case VMM_SLEEP_CTL_PORT:
		if ((v & VMM_SLP_EN) && ((v >> 2) & 7) == VMM_SLP_TYP_S5)
			vmm_stop(vm, 0, "guest powered off after %.1f ms",
				 vmm_elapsed_ms(vm));
		break;
	case VMM_RESET_PORT:
		if (v == VMM_RESET_VALUE)
			vmm_stop(vm, 0, "guest reset (reboot): exiting");
		break;
	case 0x64: /* i8042 pulse reset line: Linux's reboot fallback */
		if (v == 0xfe)
			vmm_stop(vm, 0, "guest reset via i8042: exiting");
		break;
	default:
		break;
	}
}

static void pio_exit(struct vmm_vcpu *c)
{
	struct kvm_run *run = c->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool write = run->io.direction == KVM_EXIT_IO_OUT;
	uint16_t port = run->io.port;

	for (uint32_t n = 0; n < run->io.count; n++, data += run->io.size) {
		if (port >= VMM_UART_PORT && port < VMM_UART_PORT + 8) {
			vmm_uart_io(&c->vm->uart,
				    (uint16_t)(port - VMM_UART_PORT), write,
				    data);
			continue;
		}
		if (write)
			pio_write_special(c->vm, port, data[0]);
		else
			memset(data, 0xff, run->io.size);
	}
}

/* This thread's kvm_run, for the kick handler (NULL off vCPU threads). */
static _Thread_local struct kvm_run *kick_run;

/*
 * SIGUSR1 from the main thread once the VM stops. It runs on the vCPU
 * thread, so immediate_exit is only written by its own thread: a KVM_RUN
 * in progress returns EINTR, one entered later returns at once.
 */
static void sig_kick(int sig)
{
	(void)sig;
	if (kick_run)
		__atomic_store_n(&kick_run->immediate_exit, 1,
				 __ATOMIC_RELAXED);
}

static void *vcpu_thread(void *arg)
{
	struct vmm_vcpu *c = arg;
	struct vmm *vm = c->vm;

	kick_run = c->run;
	if (vm->cfg->seccomp && vmm_sandbox_vcpu(vm, c) < 0) {
		vmm_stop(vm, 1, "vCPU %u: cannot install the seccomp filter",
			 c->idx);
		return NULL;
	}
	while (atomic_load(&vm->state) == VMM_RUNNING) {
		struct kvm_run *run = c->run;

		if (ioctl(c->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				__atomic_store_n(&run->immediate_exit, 0,
						 __ATOMIC_RELAXED);
				continue;
			}
			vmm_stop(vm, 1, "vCPU %u: KVM_RUN: %s", c->idx,
				 strerror(errno));
			break;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			pio_exit(c);
			break;
		case KVM_EXIT_MMIO:
			vmm_vdev_mmio(vm, run->mmio.phys_addr,
				      run->mmio.is_write, run->mmio.data,
				      run->mmio.len);
			break;
		case KVM_EXIT_SHUTDOWN:
			vmm_stop(vm, 1,
				 "vCPU %u: guest triple fault (KVM shutdown "
				 "exit) after %.1f ms",
				 c->idx, vmm_elapsed_ms(vm));
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			switch (run->system_event.type) {
			case KVM_SYSTEM_EVENT_SHUTDOWN:
				vmm_stop(vm, 0, "guest shut down");
				break;
			case KVM_SYSTEM_EVENT_RESET:
				vmm_stop(vm, 0, "guest reset: exiting");
				break;
			default:
				vmm_stop(vm, 1,
					 "vCPU %u: guest system event %u "
					 "(crash)",
					 c->idx, run->system_event.type);
				break;
			}
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			if (run->internal.suberror ==
			    KVM_INTERNAL_ERROR_EMULATION)
				report_emulation_failure(c);
			else
				vmm_stop(vm, 1,
					 "vCPU %u: KVM internal error, "
					 "suberror %u",
					 c->idx, run->internal.suberror);
			break;
		case KVM_EXIT_FAIL_ENTRY:
			vmm_stop(vm, 1,
				 "vCPU %u: KVM entry failed, hardware reason "
				 "0x%llx",
				 c->idx,
				 (unsigned long long)run->fail_entry
				     .hardware_entry_failure_reason);
			break;
		case KVM_EXIT_HLT:
			/* The in-kernel LAPIC handles HLT; seen only if the
			 * guest halted with nothing to wake it. */
			vmm_stop(vm, 1, "vCPU %u: halted for good", c->idx);
			break;
		default:
			vmm_stop(vm, 1, "vCPU %u: unexpected KVM exit %u",
				 c->idx, run->exit_reason);
			break;
		}
	}
	return NULL;
}

int vmm_run(struct vmm *vm)
{
	struct sigaction sa = {.sa_handler = sig_kick};
	int r;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	if (vm->cfg->seccomp)
		vmm_sandbox_prepare();
	r = pthread_create(&vm->io_thread, NULL, vmm_io_thread, vm);
	if (r) {
		vmm_err("I/O thread: %s", strerror(r));
		return 1;
	}
	vm->io_started = true;
	for (unsigned i = 0; i < vm->nvcpu; i++) {
		struct vmm_vcpu *c = &vm->vcpu[i];

		r = pthread_create(&c->thread, NULL, vcpu_thread, c);
		if (r) {
			vmm_stop(vm, 1, "vCPU thread %u: %s", i, strerror(r));
			break;
		}
		c->started = true;
	}
	if (vm->cfg->seccomp && vmm_sandbox_main(vm) < 0)
		vmm_stop(vm, 1, "cannot install the main thread's filter");
	for (;;) {
		struct pollfd pfd = {.fd = vm->stop_fd, .events = POLLIN};

		if (poll(&pfd, 1, -1) > 0 || errno != EINTR)
			break;
	}
	/* stop_fd stays readable: the I/O thread sees it too. */
	/* Kick every vCPU started (sig_kick sets its immediate_exit). */
	for (unsigned i = 0; i < vm->nvcpu; i++) {
		struct vmm_vcpu *c = &vm->vcpu[i];

		if (!c->started)
			continue;
		pthread_kill(c->thread, SIGUSR1);
		pthread_join(c->thread, NULL);
		c->started = false;
	}
	pthread_join(vm->io_thread, NULL);
	vm->io_started = false;
	vmm_log(vm->exit_status ? VMM_LOG_ERROR : VMM_LOG_INFO, "%s",
		vm->exit_msg);
	return vm->exit_status;
}

void vmm_destroy(struct vmm *vm)
{
	vmm_vdev_destroy(vm);
	for (unsigned i = 0; vm->vcpu && i < vm->nvcpu; i++) {
		if (vm->vcpu[i].run)
			munmap(vm->vcpu[i].run, vm->run_size);
		if (vm->vcpu[i].fd >= 0)
			close(vm->vcpu[i].fd);
	}
	free(vm->vcpu);
	vmmio_mem_free(vm->mem);
	for (unsigned i = 0; i < vm->ram.n; i++)
		munmap(vm->ram.r[i].host, vm->ram.r[i].size);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->stop_fd >= 0)
		close(vm->stop_fd);
	pthread_mutex_destroy(&vm->uart.lock);
}
