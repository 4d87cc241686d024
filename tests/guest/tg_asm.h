/* SPDX-License-Identifier: Apache-2.0 */
/* Test guest: constants shared by entry.S and the C code (plain numbers:
 * the assembler takes no C suffixes; main.c checks them against
 * vmm-demo/layout.h). */
#ifndef TG_ASM_H
#define TG_ASM_H

#define TG_MAXCPU 4 /* vCPUs the guest uses; others park (power of 2) */
#define TG_MAXDEV 8 /* virtio-mmio devices (VMM_VIRTIO_MAX) */
#define TG_MAXDEV_SHIFT 3
#define TG_VEC_DEV 0x30 /* device slot d interrupts at vector 0x30 + d */
#define TG_VEC_SPURIOUS 0xff
#define TG_KSTACK 0x4000 /* ring-0 stack per vCPU */
#define TG_KSTACK_SHIFT 14
#define TG_USTACK 0x10000 /* ring-3 stack per vCPU */
#define TG_USTACK_SHIFT 16
#define TG_SVC_IOAPIC 1	 /* ud2 service: IOREGSEL = edi, IOWIN = esi */
#define TG_SVC_EMUFAIL 2 /* ud2 service: run fwait in ring 0 (PVM cannot) */
#define TG_SVC_TRIPLE 3	 /* ud2 service: empty IDT, then a fault */

#define TG_VIRTIO_BASE 0xd0000000
#define TG_VIRTIO_QEMU 0xfeb00000 /* QEMU microvm's virtio-mmio windows */
#define TG_DEBUG_EXIT_PORT 0xf4	  /* QEMU -device isa-debug-exit,iobase=0xf4 */
#define TG_IOAPIC 0xfec00000
#define TG_LAPIC 0xfee00000

#endif
