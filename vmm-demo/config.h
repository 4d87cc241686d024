/* SPDX-License-Identifier: Apache-2.0 */
/* vmm-demo: configuration from YAML (libcyaml) and the command line. */
#ifndef VMM_CONFIG_H
#define VMM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <vmmio/blk.h>

#include "layout.h"

enum vmm_log_level {
	VMM_LOG_ERROR,
	VMM_LOG_WARN,
	VMM_LOG_INFO,
	VMM_LOG_DEBUG,
};

enum vmm_console_kind {
	VMM_CONSOLE_STDIO,
	VMM_CONSOLE_FILE,   /* path: output file */
	VMM_CONSOLE_SOCKET, /* path: Unix socket vmm-demo listens on */
	VMM_CONSOLE_PTY,
};

enum vmm_dev_kind {
	VMM_DEV_BLK,
	VMM_DEV_CONSOLE,
	VMM_DEV_RNG,
};

/*
 * One virtio-mmio device. addr/irq: given in the file, or assigned by
 * validation in list order (VMM_VIRTIO_BASE + i * VMM_VIRTIO_SIZE,
 * VMM_VIRTIO_IRQ_BASE + i); always set after vmm_config_from_args().
 */
struct vmm_dev_cfg {
	enum vmm_dev_kind kind;
	uint64_t addr;
	uint32_t irq;
	/* blk */
	char *path;
	bool read_only;
	char *serial; /* NULL: none */
	enum vmmio_blk_engine engine;
	bool direct; /* cache off: O_DIRECT, bypassing the host page cache */
	/* Testing: requests touching sectors eio_start..eio_end fail with
	 * EIO (the library's fault injection hook). */
	bool fail_eio;
	uint64_t eio_start, eio_end;
	/* console */
	enum vmm_console_kind console;
	char *console_path;
	/* rng */
	uint64_t rate;	/* bytes/s, 0 = unlimited */
	uint64_t burst; /* bytes, 0 = library default */
};

struct vmm_config {
	unsigned vcpus; /* 1..64 */
	uint64_t memory_mib;
	char *kernel;
	char *initrd;  /* NULL: none */
	char *cmdline; /* NULL: "" */
	struct vmm_dev_cfg dev[VMM_VIRTIO_MAX];
	unsigned ndev;
	bool seccomp;
	bool cmdline_devices; /* append virtio_mmio.device= entries */
	enum vmm_log_level log_level;
	char *config_path; /* the file read, NULL if none */
};

/*
 * Parse argv: --config FILE first (if given), then every other flag
 * overrides the file. Validates everything (files exist, sizes possible,
 * windows fit). Returns 0 to run; 1 when --help/--version was printed
 * (exit 0); 2 on a bad value, after one message on @err naming the file,
 * key or flag and the value (exit 2, nothing started).
 */
int vmm_config_from_args(int argc, char **argv, struct vmm_config *cfg,
			 FILE *err);
void vmm_config_free(struct vmm_config *cfg);

#endif
