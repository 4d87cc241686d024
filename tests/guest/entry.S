/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test guest: ring-0 part. Everything here runs in KVM's instruction
 * emulator on PVM (about 1 us per instruction), so it is short, and every
 * table (GDT, IDT, TSS, page tables) is built by the assembler and linker,
 * not by loops at run time.
 *
 * .boot is linked at exactly 0x100000 (guest.ld asserts it) and is smaller
 * than 64 KiB, so an address inside it is 0x10_xxxx: IDT gates and TSS
 * descriptors take their low 16 bits as "symbol - boot_base", a constant.
 */
#include "../../vmm-demo/layout.h"
#include "tg_asm.h"

#define KCODE 0x08
#define KDATA 0x10
#define UDATA 0x18
#define UCODE 0x20
#define TSS_SEL0 0x28
#define TSS_SIZE 104
#define IOMAP_BYTES 8192

	.section .boot, "awx"
	.code64

/* --- 256 interrupt stubs, 16 bytes apart, at the start of .boot ------- */
	.balign 16
	.globl boot_base
boot_base:
isr_stubs:
	.set v, 0
	.rept 256
	.balign 16
	.if v == 6
	jmp ud_entry
	.elseif (v == 8) || (v == 10) || (v == 11) || (v == 12) || (v == 13) || (v == 14) || (v == 17) || (v == 21) || (v == 29) || (v == 30)
	pushq $v
	jmp exc_common
	.elseif (v >= TG_VEC_DEV) && (v < TG_VEC_DEV + TG_MAXDEV)
	pushq %rax
	movl $(v - TG_VEC_DEV), %eax
	jmp irq_common
	.elseif v == TG_VEC_SPURIOUS
	iretq
	.else
	pushq $0
	pushq $v
	jmp exc_common
	.endif
	.set v, v + 1
	.endr
	.balign 16
isr_stubs_end:

/* --- GDT: kernel code/data, user data/code, one TSS per vCPU ---------- */
	.balign 16
gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08 ring-0 code, 64-bit */
	.quad 0x00cf92000000ffff	/* 0x10 ring-0 data */
	.quad 0x00cff2000000ffff	/* 0x18 ring-3 data */
	.quad 0x00affa000000ffff	/* 0x20 ring-3 code, 64-bit */
	.set k, 0
	.rept TG_MAXCPU
	/* 64-bit available TSS; limit covers the shared I/O bitmap and its
	 * terminating 0xff byte. */
	.word (iomap - tss0 - TSS_SIZE * k) + IOMAP_BYTES
	.word (tss0 - boot_base) + TSS_SIZE * k
	.byte 0x10
	.byte 0x89
	.byte 0
	.byte 0
	.long 0
	.long 0
	.set k, k + 1
	.endr
gdt_end:
	.balign 8
	.word 0
gdt_desc:
	.word gdt_end - gdt - 1
	.quad gdt

/* --- IDT: every vector, ring-0 interrupt gates ------------------------ */
	.balign 16
idt:
	.set v, 0
	.rept 256
	.word (isr_stubs - boot_base) + 16 * v
	.word KCODE
	.byte 0
	.byte 0x8e
	.word 0x0010
	.long 0
	.long 0
	.set v, v + 1
	.endr
idt_end:
	.balign 8
	.word 0
idt_desc:
	.word idt_end - idt - 1
	.quad idt

/* --- TSSs (RSP0 = the vCPU's ring-0 stack) and one shared I/O bitmap -- */
	.balign 16
tss0:
	.set k, 0
	.rept TG_MAXCPU
	.long 0
	.quad kstacks + TG_KSTACK * (k + 1)
	.fill 90, 1, 0			/* rsp1, rsp2, ist, reserved */
	.word iomap - tss0 - TSS_SIZE * k
	.set k, k + 1
	.endr
iomap:
	.fill IOMAP_BYTES, 1, 0		/* every port allowed from ring 3 */
	.byte 0xff
	.globl boot_end
boot_end:

/* --- Entry points ------------------------------------------------------ */
	.text
	.globl tg_entry
tg_entry:
	/* The boot-time marker, before anything else; then one newline on
	 * the UART, so a host that cannot see the marker (QEMU) times the
	 * first guest instruction from its first serial byte. */
	movw $VMM_MARKER_PORT, %dx
	movb $'T', %al
	outb %al, %dx
	movw $VMM_UART_PORT, %dx
	movb $'\n', %al
	outb %al, %dx
	movq %rsi, tg_boot_params(%rip)
	xorl %edi, %edi
	jmp cpu_setup

	/*
	 * PVH entry (the Xen note below; QEMU's -kernel and vmm-demo use
	 * it): 32-bit protected mode, paging off, flat segments, no stack,
	 * ebx = struct hvm_start_info. Straight into long mode with our own
	 * page tables, then the BSP path above.
	 */
	.code32
	.globl tg_pvh_entry
tg_pvh_entry:
	movw $VMM_MARKER_PORT, %dx
	movb $'T', %al
	outb %al, %dx
	movw $VMM_UART_PORT, %dx	/* first serial byte: see tg_entry */
	movb $'\n', %al
	outb %al, %dx
	movl %ebx, tg_pvh_info
	movl $pml4, %eax
	movl %eax, %cr3
	movl $0x20, %eax		/* CR4.PAE */
	movl %eax, %cr4
	movl $0xc0000080, %ecx		/* EFER.LME */
	movl $0x100, %eax
	xorl %edx, %edx
	wrmsr
	movl $0x80000031, %eax		/* CR0: PG NE ET PE */
	movl %eax, %cr0
	lgdt gdt_desc			/* 32-bit form: base = low half */
	ljmp $KCODE, $1f
	.code64
1:	xorl %edi, %edi
	jmp cpu_setup

	/* Secondary vCPUs (LIBVMMIO note): rdi = index 1, 2, ... */
	.globl tg_ap_entry
tg_ap_entry:
	testq %rdi, %rdi
	jz park
	cmpq $TG_MAXCPU, %rdi
	jae park

/* rdi = vCPU index. Load our GDT/IDT/TSS/page tables, enable the LAPIC,
 * then iretq to tg_user_start(index) in ring 3. */
cpu_setup:
	movq %rdi, %rbx
	movq %rbx, %rsp
	shlq $TG_KSTACK_SHIFT, %rsp
	addq $(kstacks + TG_KSTACK), %rsp
	lgdt gdt_desc(%rip)
	lidt idt_desc(%rip)
	pushq $KCODE
	leaq 1f(%rip), %rax
	pushq %rax
	lretq
1:	movl $KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %ebx, %eax
	shll $4, %eax
	addl $TSS_SEL0, %eax
	ltr %ax
	movl $pml4, %eax
	movq %rax, %cr3
	movq %cr4, %rax			/* no SMEP/SMAP: ring 0 reads ring-3 rip */
	andq $~0x300000, %rax
	movq %rax, %cr4
	movl $TG_LAPIC, %ecx
	movl $(0x100 | TG_VEC_SPURIOUS), 0xf0(%rcx)	/* SVR: enable */
	movl 0x20(%rcx), %eax
	shrl $24, %eax
	movl %eax, tg_apic_id(, %rbx, 4)
	testl %ebx, %ebx
	jnz 2f
	movb $0xff, %al			/* mask both 8259s */
	outb %al, $0x21
	outb %al, $0xa1
2:	movq %rbx, %rax
	shlq $TG_USTACK_SHIFT, %rax
	addq $(ustacks + TG_USTACK), %rax
	pushq $(UDATA | 3)
	pushq %rax
	pushq $0x202			/* IF */
	pushq $(UCODE | 3)
	leaq tg_user_start(%rip), %rax
	pushq %rax
	movq %rbx, %rdi
	iretq

park:
	cli
1:	hlt
	jmp 1b

/* Ring 3 starts here: rdi = vCPU index, rsp 16-byte aligned. */
tg_user_start:
	xorl %ebp, %ebp
	call tg_main
1:	pause
	jmp 1b

/* --- Interrupts: count per (vCPU, device), EOI, return ----------------- */
/* eax = device slot, original rax pushed. */
irq_common:
	pushq %rdx
	movl $TG_LAPIC, %edx
	movl $0, 0xb0(%rdx)		/* EOI */
	movl 0x20(%rdx), %edx		/* APIC ID -> row */
	shrl $24, %edx
	andl $(TG_MAXCPU - 1), %edx
	shll $TG_MAXDEV_SHIFT, %edx
	addl %eax, %edx
	incl tg_irq_count(, %rdx, 4)
	popq %rdx
	popq %rax
	iretq

/*
 * #UD. From ring 3 on a ud2 it is a service call: eax = TG_SVC_*, edi/esi
 * arguments, eax = 0 back (-1 unknown service). Anything else is fatal.
 */
ud_entry:
	testb $3, 8(%rsp)
	jz 9f
	pushq %rcx
	movq 8(%rsp), %rcx
	cmpw $0x0b0f, (%rcx)
	jne 8f
	addq $2, 8(%rsp)
	cmpl $TG_SVC_IOAPIC, %eax
	jne 7f
	movl $TG_IOAPIC, %ecx	/* IOREGSEL = edi, IOWIN = esi */
	movl %edi, (%rcx)
	movl %esi, 0x10(%rcx)
	xorl %eax, %eax
	popq %rcx
	iretq
7:	cmpl $TG_SVC_EMUFAIL, %eax
	jne 6f
	.globl tg_emufail_insn
tg_emufail_insn:
	fwait				/* KVM's emulator has no fwait */
	jmp park
6:	cmpl $TG_SVC_TRIPLE, %eax
	jne 5f
	lidt empty_idt			/* no handler for anything... */
	ud2				/* ...so #UD -> #DF -> shutdown */
	jmp park
5:	movq $-1, %rax
	popq %rcx
	iretq
empty_idt:
	.word 0
	.quad 0
8:	popq %rcx
9:	pushq $0
	pushq $6

/* Fatal: stack holds vector, error code, then the CPU's frame. */
exc_common:
	movq %rsp, %rdi
	andq $-16, %rsp
	call tg_exception
	jmp park

/*
 * --- The PVH note (XEN_ELFNOTE_PHYS32_ENTRY): 32-bit physical entry ------
 * First in the note segment: QEMU 7.2 reads 8 bytes at the descriptor and
 * keeps the low 32 bits.
 */
	.section .note.pvh, "a", @note
	.balign 4
	.long 4				/* namesz, with the NUL */
	.long 4				/* descsz */
	.long 18			/* type: XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.long tg_pvh_entry
	.balign 4

/* --- The LIBVMMIO note: where vmm-demo starts secondary vCPUs ---------- */
	.section .note.libvmmio, "a", @note
	.balign 4
	.long 9				/* namesz, with the NUL */
	.long 8				/* descsz */
	.long 1				/* type */
	.asciz "LIBVMMIO"
	.balign 4
	.quad tg_ap_entry
	.balign 4

/* --- State written by ring 0 (in .data: no reliance on .bss zeroing) -- */
	.data
	.balign 8
	.globl tg_boot_params, tg_pvh_info, tg_apic_id, tg_irq_count
tg_boot_params:
	.quad 0
tg_pvh_info:
	.quad 0
tg_apic_id:
	.fill TG_MAXCPU, 4, 0xffffffff
tg_irq_count:
	.fill TG_MAXCPU * TG_MAXDEV, 4, 0

/*
 * Page tables: 0..1 GiB user-accessible (RAM; page 0 left unmapped to
 * catch NULL), the 2 MiB at VMM_VIRTIO_BASE and the 2 MiB holding QEMU
 * microvm's virtio-mmio windows user-accessible and uncached, the IOAPIC
 * and LAPIC pages supervisor-only and uncached, the rest of the 4 GiB not
 * present.
 */
	.section .data.pt, "aw"
	.balign 4096
pml4:
	.quad pdpt + 0x7
	.fill 511, 8, 0
pdpt:
	.quad pd0 + 0x7
	.quad 0
	.quad 0
	.quad pd3 + 0x7
	.fill 508, 8, 0
pd0:
	.quad pt0 + 0x7
	.set i, 1
	.rept 511
	.quad (i << 21) | 0x87		/* P RW U PS */
	.set i, i + 1
	.endr
pd3:
	.set i, 0
	.rept 512
	.set pa, 0xc0000000 + (i << 21)
	.if (pa == (TG_VIRTIO_BASE & ~0x1fffff)) || (pa == (TG_VIRTIO_QEMU & ~0x1fffff))
	.quad pa | 0x9f			/* P RW U PWT PCD PS */
	.elseif (pa == (TG_IOAPIC & ~0x1fffff)) || (pa == (TG_LAPIC & ~0x1fffff))
	.quad pa | 0x9b			/* P RW PWT PCD PS, ring 0 only */
	.else
	.quad 0
	.endif
	.set i, i + 1
	.endr
pt0:
	.quad 0				/* page 0: not present */
	.set i, 1
	.rept 511
	.quad (i << 12) | 0x7
	.set i, i + 1
	.endr

/* Stacks: not loaded from the file. */
	.section .stack, "aw", @nobits
	.balign 4096
	.globl kstacks, ustacks
kstacks:
	.skip TG_KSTACK * TG_MAXCPU
ustacks:
	.skip TG_USTACK * TG_MAXCPU

	.section .note.GNU-stack, "", @progbits
