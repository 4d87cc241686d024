/* SPDX-License-Identifier: Apache-2.0 */
/* vmm-demo: seccomp filters, one per thread kind (libseccomp). */
#ifndef VMM_SANDBOX_H
#define VMM_SANDBOX_H

struct vmm;
struct vmm_vcpu;

/*
 * Install the SIGSYS handler the filters report to (before any thread
 * starts): it names the thread and the syscall, restores the terminal
 * and lets SIGSYS end the process.
 */
void vmm_sandbox_prepare(void);

/*
 * Install the calling thread's filter (not the whole process's): an
 * allowlist per thread kind; anything else traps (SIGSYS, see
 * vmm_sandbox_prepare()) and ends the process. 0, or -1 logged.
 */
int vmm_sandbox_vcpu(const struct vmm *vm, const struct vmm_vcpu *c);
int vmm_sandbox_io(const struct vmm *vm);
int vmm_sandbox_main(const struct vmm *vm);

#endif
