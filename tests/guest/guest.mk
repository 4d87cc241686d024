# SPDX-License-Identifier: Apache-2.0
# The test guest (tests/guest/): a freestanding x86-64 ELF that vmm-demo
# boots like an ELF vmlinux, with libvmmio's driver harness inside.
# Included by the top-level Makefile; one build for every variant.

TG_OUT ?= build/testguest
TEST_GUEST := $(TG_OUT)/testguest.elf
TG_CFLAGS := -std=c11 -m64 -O2 -g -ffreestanding -fno-builtin -nostdlib \
	-static -fno-pic -fno-pie -mcmodel=small -mno-red-zone \
	-mgeneral-regs-only -fno-stack-protector -fno-stack-clash-protection \
	-fno-asynchronous-unwind-tables -fno-unwind-tables \
	-fcf-protection=none -fno-tree-loop-distribute-patterns \
	-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Wimplicit-fallthrough -Wundef \
	-Iinclude -MMD -MP
TG_SRCS := $(wildcard tests/guest/*.c) src/driver.c src/driver_mmio.c
TG_OBJS := $(TG_SRCS:%.c=$(TG_OUT)/%.o) $(TG_OUT)/tests/guest/entry.o

$(TG_OUT)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(TG_CFLAGS) -c $< -o $@

$(TG_OUT)/tests/guest/entry.o: tests/guest/entry.S
	@mkdir -p $(dir $@)
	$(CC) $(TG_CFLAGS) -c $< -o $@

$(TEST_GUEST): $(TG_OBJS) tests/guest/guest.ld
	$(CC) -nostdlib -static -no-pie -Wl,-T,tests/guest/guest.ld \
		-Wl,--build-id=none -Wl,--no-warn-rwx-segments -Wl,-z,noexecstack -Wl,-z,max-page-size=4096 \
		-o $@ $(TG_OBJS)
	@undef=$$(nm -u $@); if [ -n "$$undef" ]; then \
		echo "$@: undefined symbols: $$undef"; rm -f $@; exit 1; fi

# The 1 MiB zero-filled disk of configs/testguest.yaml.
$(TG_OUT)/disk.img:
	@mkdir -p $(dir $@)
	dd if=/dev/zero of=$@ bs=1M count=1 status=none

.PHONY: testguest
testguest: $(TEST_GUEST) $(TG_OUT)/disk.img

-include $(TG_OBJS:.o=.d)
