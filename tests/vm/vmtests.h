/* SPDX-License-Identifier: Apache-2.0 */
/* vmm-demo tests: one suite per part. Weak so a part can be absent. */
#ifndef VMTESTS_H
#define VMTESTS_H

#include <check.h>

#define VM_SUITE(name) Suite *name(void) __attribute__((weak))

VM_SUITE(config_suite);	 /* test_config.c: YAML and flags */
VM_SUITE(loader_suite);	 /* test_loader.c: bzImage/ELF loading, zero page */
VM_SUITE(acpi_suite);	 /* test_acpi.c: tables, iasl -d */
VM_SUITE(kvm_suite);	 /* test_kvm.c: the test guest under vmm-demo */
VM_SUITE(sandbox_suite); /* test_sandbox.c: seccomp */
VM_SUITE(linux_suite);	 /* test_linux.c: Debian kernel early boot */
VM_SUITE(faults_suite);	 /* test_faults.c: kill, backend faults, floods */
VM_SUITE(hostile_suite); /* test_hostile.c: hostile guest, fault table */

/*
 * Paths the Makefile passes in the environment: VMM_DEMO (the binary),
 * TEST_GUEST (tests/guest ELF), GUEST_DIR (build/guest bundle, may be
 * absent). vmt_env() returns the value or fails the test with a message.
 */
const char *vmt_env(const char *name);
/* 1 when /dev/kvm opens read-write; else 0 and the reason in @why. */
int vmt_have_kvm(char *why, unsigned long len);

#endif
