/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vmm-demo: one process per microVM. Reads the configuration, builds the
 * VM (RAM, ACPI tables, kernel, vCPUs, virtio-mmio devices from
 * libvmmio), runs it and exits with the guest's verdict: 0 after a guest
 * poweroff or reboot, 1 on a fatal VM error, 2 on a bad configuration.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "vm.h"

int main(int argc, char **argv)
{
	static struct vmm vm;
	struct vmm_config cfg;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &vm.t0);
	/* stdin/stdout/stderr closed by the caller: /dev/null, so no
	 * descriptor we open later is taken for them. */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 &&
		    open("/dev/null", fd ? O_WRONLY : O_RDONLY) < 0)
			return 1;
	memset(&cfg, 0, sizeof(cfg));
	r = vmm_config_from_args(argc, argv, &cfg, stderr);
	if (r) {
		vmm_config_free(&cfg);
		return r == 1 ? 0 : 2;
	}
	vmm_log_level = cfg.log_level;
	(void)signal(SIGPIPE, SIG_IGN);
	vmm_detect_host(&vm);
	r = vmm_create(&vm, &cfg);
	if (r == 0 && vm.linux_guest && !vm.host_can_boot_linux)
		vmm_warn("host KVM is %s: guest ring 0 runs in KVM's "
			 "instruction emulator (about 1 us per instruction), "
			 "so a Linux kernel starts and prints its early log "
			 "but cannot finish booting here; a host with VMX or "
			 "SVM boots it normally",
			 vm.host_kvm);
	else
		vmm_debug("host KVM: %s", vm.host_kvm);
	if (r == 0)
		r = vmm_devices_create(&vm);
	/* -2: a configuration value only the device could check. */
	if (r == 0)
		r = vmm_run(&vm);
	else
		r = r == -2 ? 2 : 1;
	vmm_destroy(&vm);
	vmm_config_free(&cfg);
	return r;
}
