/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vmm-demo: the virtio-mmio devices. Each device model comes from the
 * library; here it gets its window (register accesses from vCPU exits),
 * one ioeventfd per queue on QueueNotify (datamatch on the queue index,
 * so a notify costs no exit to user space), one irqfd on its IOAPIC pin,
 * and a place in the I/O thread's epoll set.
 *
 * Interrupts are edge-triggered irqfds without resample: the library
 * calls the irq hook once per interrupt it raises and virtio-mmio's
 * InterruptStatus latches the reason, so an edge loses nothing; level
 * lines would need the resamplefd round trip per interrupt, and on PVM
 * the resample fires at delivery anyway (measured). The DSDT
 * describes the lines as edge, active high, to match.
 *
 * Locking (the library's threading contract): vdev->lock serializes the
 * device's register accesses (any vCPU) and its processing (I/O thread).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <linux/kvm.h>
#include <linux/virtio_blk.h>

#include "layout.h"
#include "log.h"
#include "sandbox.h"
#include "vm.h"

#define VIRTIO_MMIO_QUEUE_NOTIFY 0x50

enum src_kind { SRC_STOP, SRC_NOTIFY, SRC_DEV, SRC_STDIN };

struct src {
	enum src_kind kind;
	void *ptr;
};

/* epoll data: a tagged pointer to one of these per source. */
static struct src *src_new(enum src_kind kind, void *ptr)
{
	struct src *s = malloc(sizeof(*s));

	if (s)
		*s = (struct src){kind, ptr};
	return s;
}

static int epoll_add(struct vmm *vm, int fd, enum src_kind kind, void *ptr,
		     struct src **keep)
{
	struct src *s = src_new(kind, ptr);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};

	if (!s)
		return -1;
	if (epoll_ctl(vm->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		vmm_err("epoll_ctl add fd %d: %s", fd, strerror(errno));
		free(s);
		return -1;
	}
	*keep = s;
	return 0;
}

/* ---- interrupts ---------------------------------------------------- */

static void vdev_irq(void *opaque, bool raise)
{
	struct vmm_vdev *v = opaque;
	uint64_t one = 1;

	if (raise && write(v->irqfd, &one, sizeof(one)) < 0)
		vmm_warn("%s: irqfd write: %s", v->name, strerror(errno));
}

static void vdev_log(void *opaque, enum vmmio_log_level level, const char *msg)
{
	struct vmm_vdev *v = opaque;

	vmm_log((enum vmm_log_level)level, "%s: %s", v->name, msg);
}

/* ---- terminal: raw mode for a stdio console, always restored ------- */

static struct termios saved_tio;
static volatile sig_atomic_t tio_saved;

void vmm_tty_restore(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
}

/* Installed with SA_RESETHAND: the re-raised signal takes the default
 * action; tcsetattr and raise are allowed by every thread's filter. */
static void tty_signal(int sig)
{
	vmm_tty_restore();
	(void)raise(sig);
}

static void tty_raw(void)
{
	/* Not SIGSYS: the sandbox kills the process without a handler. */
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV,
				   SIGBUS, SIGABRT, SIGFPE, SIGILL};
	struct sigaction sa = {.sa_handler = tty_signal,
			       .sa_flags = (int)SA_RESETHAND};
	struct termios raw;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return;
	tio_saved = 1;
	(void)atexit(vmm_tty_restore);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	raw = saved_tio;
	cfmakeraw(&raw);
	raw.c_oflag |= OPOST | ONLCR; /* keep "\n" readable on the host */
	tcsetattr(STDIN_FILENO, TCSANOW, &raw);
}

/* ---- device creation ----------------------------------------------- */

/* Host hook after each reset of the device (Status = 0): kicks still
 * sitting in the ioeventfds belong to the old queues; drop them so they
 * are not taken for kicks of the re-initialised device. Runs with
 * v->lock held (on the vCPU thread that wrote Status). */
static void vdev_reset(void *opaque)
{
	struct vmm_vdev *v = opaque;
	uint64_t cnt;

	for (unsigned q = 0; q < v->nnotify; q++)
		while (read(v->notify[q].fd, &cnt, sizeof(cnt)) > 0)
			;
}

/* fail_eio (testing): EIO for every data, discard or write-zeroes request
 * touching the configured sectors; FLUSH touches none and passes. */
static int vdev_fail_eio(void *opaque, uint32_t type, uint64_t sector,
			 uint64_t bytes)
{
	const struct vmm_dev_cfg *d = ((const struct vmm_vdev *)opaque)->cfg;
	uint64_t last;

	if (type == VIRTIO_BLK_T_FLUSH || !bytes)
		return 0;
	if (__builtin_add_overflow(sector, (bytes - 1) / 512, &last))
		last = UINT64_MAX;
	return sector <= d->eio_end && last >= d->eio_start ? -EIO : 0;
}

static int vdev_create_model(struct vmm *vm, struct vmm_vdev *v,
			     const struct vmmio_host_ops *host)
{
	const struct vmm_dev_cfg *d = v->cfg;
	int r = -EINVAL;

	switch (d->kind) {
	case VMM_DEV_BLK: {
		struct vmmio_blk_config c = {
		    .size = sizeof(c),
		    .path = d->path,
		    .read_only = d->read_only,
		    .direct = d->direct,
		    .engine = d->engine,
		    .serial = d->serial,
		    .mem = vm->mem,
		    .host = host,
		    .host_opaque = v,
		    .inject = d->fail_eio ? vdev_fail_eio : NULL,
		    .inject_opaque = v,
		};
		r = vmmio_blk_new(&c, &v->blk);
		if (r == 0) {
			v->dev = vmmio_blk_dev(v->blk);
			v->dev_fd = vmmio_blk_fd(v->blk);
		}
		if (r == 0 && d->fail_eio)
			vmm_info("%s: fail-eio: requests touching sectors "
				 "%llu-%llu fail with EIO (testing)",
				 v->name, (unsigned long long)d->eio_start,
				 (unsigned long long)d->eio_end);
		break;
	}
	case VMM_DEV_CONSOLE: {
		struct vmmio_console_config c = {
		    .size = sizeof(c),
		    .in_fd = -1,
		    .out_fd = -1,
		    .mem = vm->mem,
		    .host = host,
		    .host_opaque = v,
		};
		switch (d->console) {
		case VMM_CONSOLE_STDIO:
			if (pipe2(vm->con_in, O_CLOEXEC | O_NONBLOCK) < 0)
				return -errno;
			fcntl(vm->con_in[1], F_SETPIPE_SZ, 1 << 20);
			c.backend = VMMIO_CONSOLE_FD;
			c.in_fd = vm->con_in[0];
			c.out_fd = STDOUT_FILENO;
			vm->stdin_fd = STDIN_FILENO;
			break;
		case VMM_CONSOLE_FILE:
			c.backend = VMMIO_CONSOLE_FILE;
			c.out_path = d->console_path;
			break;
		case VMM_CONSOLE_SOCKET:
			c.backend = VMMIO_CONSOLE_SOCKET;
			c.path = d->console_path;
			break;
		case VMM_CONSOLE_PTY:
			c.backend = VMMIO_CONSOLE_PTY;
			break;
		}
		r = vmmio_console_new(&c, &v->con);
		if (r == 0) {
			v->dev = vmmio_console_dev(v->con);
			v->dev_fd = vmmio_console_fd(v->con);
			if (d->console == VMM_CONSOLE_PTY)
				vmm_info("%s: guest console on %s", v->name,
					 vmmio_console_pty_name(v->con));
		}
		break;
	}
	case VMM_DEV_RNG: {
		struct vmmio_rng_config c = {
		    .size = sizeof(c),
		    .rate = d->rate,
		    .burst = d->burst,
		    .mem = vm->mem,
		    .host = host,
		    .host_opaque = v,
		};
		r = vmmio_rng_new(&c, &v->rng);
		if (r == 0) {
			v->dev = vmmio_rng_dev(v->rng);
			v->dev_fd = vmmio_rng_fd(v->rng);
		}
		break;
	}
	}
	return r;
}

static int vdev_wire(struct vmm *vm, struct vmm_vdev *v, struct src ***keep)
{
	struct kvm_irqfd irqfd;
	uint16_t nq = vmmio_dev_num_queues(v->dev);

	v->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->irqfd < 0)
		return -1;
	irqfd =
	    (struct kvm_irqfd){.fd = (uint32_t)v->irqfd, .gsi = v->cfg->irq};
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		vmm_err("%s: KVM_IRQFD on GSI %u: %s", v->name, v->cfg->irq,
			strerror(errno));
		return -1;
	}
	v->notify = calloc(nq, sizeof(*v->notify));
	if (!v->notify)
		return -1;
	for (uint16_t q = 0; q < nq; q++) {
		struct vmm_notify *n = &v->notify[q];
		struct kvm_ioeventfd io;

		n->vdev = v;
		n->queue = q;
		n->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (n->fd < 0)
			return -1;
		v->nnotify++;
		io = (struct kvm_ioeventfd){
		    .datamatch = q,
		    .addr = v->cfg->addr + VIRTIO_MMIO_QUEUE_NOTIFY,
		    .len = 4,
		    .fd = n->fd,
		    .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
		};
		if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0) {
			vmm_err("%s: KVM_IOEVENTFD queue %u: %s", v->name, q,
				strerror(errno));
			return -1;
		}
		if (epoll_add(vm, n->fd, SRC_NOTIFY, n, (*keep)++) < 0)
			return -1;
	}
	if (v->dev_fd >= 0) {
		if (epoll_add(vm, v->dev_fd, SRC_DEV, v, *keep) < 0)
			return -1;
		v->dev_src = **keep;
		(*keep)++;
	}
	return 0;
}

/* Sources to free at the end (one per epoll registration). */
static struct src *srcs[VMM_VIRTIO_MAX * (VMMIO_DEV_MAX_QUEUES + 1) + 2];

int vmm_devices_create(struct vmm *vm)
{
	static const char *const kind[] = {"virtio-blk", "virtio-console",
					   "virtio-rng"};
	struct src **keep = srcs;

	vm->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (vm->epoll_fd < 0)
		return -1;
	if (epoll_add(vm, vm->stop_fd, SRC_STOP, NULL, keep++) < 0)
		return -1;
	for (unsigned i = 0; i < vm->cfg->ndev; i++) {
		struct vmm_vdev *v = &vm->vdev[i];
		struct vmmio_host_ops *host;
		int r;

		v->cfg = &vm->cfg->dev[i];
		v->vm = vm;
		v->dev_fd = v->irqfd = -1;
		pthread_mutex_init(&v->lock, NULL);
		snprintf(v->name, sizeof(v->name), "%s@0x%llx",
			 kind[v->cfg->kind], (unsigned long long)v->cfg->addr);
		vm->nvdev++;
		host = calloc(1, sizeof(*host));
		if (!host)
			return -1;
		*host = (struct vmmio_host_ops){.size = sizeof(*host),
						.irq = vdev_irq,
						.log = vdev_log,
						.reset = vdev_reset};
		v->host = host; /* the device keeps it: freed in destroy */
		r = vdev_create_model(vm, v, host);
		if (r < 0) {
			/* A value the config check could not see (image
			 * size, socket path...): a configuration error. */
			vmm_err(
			    "devices[%u] (%s%s%s): cannot create the device: "
			    "%s",
			    i, v->name, v->cfg->path ? " " : "",
			    v->cfg->path	   ? v->cfg->path
			    : v->cfg->console_path ? v->cfg->console_path
						   : "",
			    strerror(-r));
			return -2;
		}
		if (vdev_wire(vm, v, &keep) < 0)
			return -1;
		vmm_info("%s: irq %u, %u queue(s)%s%s", v->name, v->cfg->irq,
			 vmmio_dev_num_queues(v->dev),
			 v->cfg->kind == VMM_DEV_BLK ? ", " : "",
			 v->cfg->kind == VMM_DEV_BLK ? v->cfg->path : "");
	}
	if (vm->stdin_fd >= 0) {
		struct epoll_event ev = {.events = EPOLLIN};

		/* A regular file or /dev/null cannot be polled: no input. */
		if (epoll_ctl(vm->epoll_fd, EPOLL_CTL_ADD, vm->stdin_fd, &ev) <
			0 &&
		    errno == EPERM) {
			vmm_info("console: stdin cannot be polled, no input");
			vm->stdin_fd = -1;
			return 0;
		}
		epoll_ctl(vm->epoll_fd, EPOLL_CTL_DEL, vm->stdin_fd, NULL);
		if (epoll_add(vm, vm->stdin_fd, SRC_STDIN, NULL, keep++) < 0)
			return -1;
		tty_raw();
		if (isatty(STDIN_FILENO))
			vmm_info("console on this terminal: Ctrl-A x quits");
	}
	return 0;
}

void vmm_vdev_destroy(struct vmm *vm)
{
	for (unsigned i = 0; i < vm->nvdev; i++) {
		struct vmm_vdev *v = &vm->vdev[i];

		vmmio_blk_free(v->blk);
		vmmio_console_free(v->con);
		vmmio_rng_free(v->rng);
		for (unsigned q = 0; q < v->nnotify; q++)
			close(v->notify[q].fd);
		free(v->notify);
		free(v->host);
		if (v->irqfd >= 0)
			close(v->irqfd);
		pthread_mutex_destroy(&v->lock);
	}
	vm->nvdev = 0;
	for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		free(srcs[i]);
		srcs[i] = NULL;
	}
	for (int i = 0; i < 2; i++)
		if (vm->con_in[i] >= 0)
			close(vm->con_in[i]);
	if (vm->epoll_fd >= 0)
		close(vm->epoll_fd);
	vmm_tty_restore();
}

/* ---- vCPU side: register accesses ---------------------------------- */

/* A faulted device's fd can stay readable (backend data it will not
 * take): the I/O thread parks it; a register write that clears the
 * fault (the driver's reset) brings it back. Called with v->lock. */
static void vdev_unpark(struct vmm_vdev *v)
{
	struct epoll_event ev = {.events = EPOLLIN};

	if (!v->parked || vmmio_dev_fault(v->dev) != VMMIO_FAULT_NONE)
		return;
	ev.data.ptr = v->dev_src;
	if (epoll_ctl(v->vm->epoll_fd, EPOLL_CTL_ADD, v->dev_fd, &ev) == 0)
		v->parked = false;
}

int vmm_vdev_mmio(struct vmm *vm, uint64_t addr, bool write, uint8_t *data,
		  uint32_t len)
{
	for (unsigned i = 0; i < vm->nvdev; i++) {
		struct vmm_vdev *v = &vm->vdev[i];
		uint64_t off = addr - v->cfg->addr;

		if (addr < v->cfg->addr || off >= VMM_VIRTIO_SIZE)
			continue;
		pthread_mutex_lock(&v->lock);
		if (write) {
			vmmio_dev_write(v->dev, off, data, len);
			vdev_unpark(v);
		} else {
			vmmio_dev_read(v->dev, off, data, len);
		}
		pthread_mutex_unlock(&v->lock);
		return 0;
	}
	/* Nothing there: reads float high, writes are dropped. */
	if (!write)
		memset(data, 0xff, len);
	vmm_log_guest(VMM_LOG_DEBUG, "MMIO %s of %u bytes at 0x%llx: no device",
		      write ? "write" : "read", len, (unsigned long long)addr);
	return -1;
}

/* ---- the I/O thread ------------------------------------------------ */

static void dev_process(struct vmm_vdev *v)
{
	int r = 0;

	pthread_mutex_lock(&v->lock);
	if (v->blk)
		r = vmmio_blk_process(v->blk);
	else if (v->con)
		r = vmmio_console_process(v->con);
	else if (v->rng)
		r = vmmio_rng_process(v->rng);
	if (r == -EIO && !v->parked) {
		epoll_ctl(v->vm->epoll_fd, EPOLL_CTL_DEL, v->dev_fd, NULL);
		v->parked = true;
		vdev_unpark(v); /* in case a reset raced in */
	}
	pthread_mutex_unlock(&v->lock);
}

/* stdin -> console input; Ctrl-A x quits, Ctrl-A Ctrl-A sends one ^A. */
static bool stdin_forward(struct vmm *vm)
{
	uint8_t in[4096], out[4096];
	ssize_t n = read(vm->stdin_fd, in, sizeof(in));
	size_t m = 0;

	if (n <= 0)
		return n < 0 && (errno == EAGAIN || errno == EINTR);
	for (ssize_t i = 0; i < n; i++) {
		uint8_t c = in[i];

		if (vm->ctrl_a) {
			vm->ctrl_a = false;
			if (c == 'x' || c == 'X') {
				vmm_stop(vm, 0, "quit (Ctrl-A x)");
				return false;
			}
			if (c == 1)
				out[m++] = 1;
			continue;
		}
		if (c == 1 && isatty(vm->stdin_fd)) {
			vm->ctrl_a = true;
			continue;
		}
		out[m++] = c;
	}
	if (m) {
		ssize_t w = write(vm->con_in[1], out, m);

		if (w != (ssize_t)m)
			vmm_log_guest(
			    VMM_LOG_WARN,
			    "console input: the guest is not reading, "
			    "%zu bytes dropped",
			    m - (w > 0 ? (size_t)w : 0));
	}
	return true;
}

void *vmm_io_thread(void *arg)
{
	struct vmm *vm = arg;
	struct epoll_event ev[32];

	if (vm->cfg->seccomp && vmm_sandbox_io(vm) < 0) {
		vmm_stop(vm, 1,
			 "I/O thread: cannot install the seccomp filter");
		return NULL;
	}
	while (atomic_load(&vm->state) == VMM_RUNNING) {
		int n = epoll_wait(vm->epoll_fd, ev, 32, -1);

		if (n < 0 && errno != EINTR) {
			vmm_stop(vm, 1, "I/O thread: epoll_wait: %s",
				 strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			struct src *s = ev[i].data.ptr;
			struct vmm_notify *nt;
			uint64_t cnt;

			switch (s->kind) {
			case SRC_STOP:
				return NULL;
			case SRC_NOTIFY:
				nt = s->ptr;
				if (read(nt->fd, &cnt, sizeof(cnt)) < 0)
					break;
				pthread_mutex_lock(&nt->vdev->lock);
				vmmio_dev_notify(nt->vdev->dev, nt->queue);
				pthread_mutex_unlock(&nt->vdev->lock);
				break;
			case SRC_DEV:
				dev_process(s->ptr);
				break;
			case SRC_STDIN:
				if (!stdin_forward(vm))
					epoll_ctl(vm->epoll_fd, EPOLL_CTL_DEL,
						  vm->stdin_fd, NULL);
				break;
			}
		}
	}
	return NULL;
}
