# SPDX-License-Identifier: Apache-2.0
# libvmmio build. Variants go to build/$(VARIANT): release, debug, asan.
#   make              libvmmio.a, libvmmio.so, vmmio.pc (release)
#   make check        unit tests (release, valgrind, ASan+UBSan), vmm-demo
#                     tests (test guest, hostile mode, kill and fault tests,
#                     Linux under KVM; again under ASan+UBSan and TSan),
#                     freestanding driver check, brief fuzz runs
#   make check-long   the kill test 20 times (VMT_KILL_RUNS=N)
#   make clang-tidy   static analysis (.clang-tidy); also cppcheck
#   make run          boot the demo microVM (vmm-demo)
#   make guest        Linux guest bundle in build/guest (Debian packages)
#   make fuzz         libFuzzer targets (clang); make fuzz-run FUZZ_TIME=600
#   make bench        benchmarks (not part of check)
#   make bench-vm     vmm-demo against QEMU microvm, test guest under KVM
#                     (VM_BENCH_ARGS="--runs 7 --secs 3" ...)
#   make install PREFIX=/usr/local DESTDIR=

VARIANT ?= release
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
WERROR ?= 1
FUZZ_TIME ?= 20
CC ?= gcc
CLANG ?= clang

VERSION_MAJOR := 0
VERSION := 0.1.0

BUILD ?= build/$(VARIANT)

WARN := -std=c11 -Wall -Wextra -Wshadow -Wpointer-arith -Wcast-qual \
	-Wwrite-strings -Wstrict-prototypes -Wmissing-prototypes \
	-Wold-style-definition -Wundef -Wformat=2 -Wvla -Wimplicit-fallthrough
ifneq ($(WERROR),0)
WARN += -Werror
endif
LIB_WARN := -Wconversion -Wsign-conversion

OPT_release := -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
OPT_debug := -O0 -g3 -fstack-protector-strong
OPT_asan := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
OPT_tsan := -O1 -g -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan
OPT := $(OPT_$(VARIANT))
ifeq ($(OPT),)
$(error VARIANT=$(VARIANT): use release, debug, asan or tsan)
endif
comma := ,
LDSAN := $(if $(filter asan,$(VARIANT)),-fsanitize=address$(comma)undefined) \
	$(if $(filter tsan,$(VARIANT)),-fsanitize=thread)

CPPFLAGS += -Iinclude -MMD -MP
LIB_CFLAGS := $(WARN) $(LIB_WARN) $(OPT) -fPIC -fvisibility=hidden
TEST_CFLAGS := $(WARN) $(OPT) -D_GNU_SOURCE -Wno-missing-prototypes \
	-Wno-unused-function
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)
# io_uring engine of virtio-blk: built when liburing is installed.
URING ?= $(shell pkg-config --exists liburing 2>/dev/null && echo 1 || echo 0)
ifeq ($(URING),1)
URING_LIBS := $(shell pkg-config --libs liburing)
CPPFLAGS += -DVMMIO_HAVE_URING
endif
LIBS := $(URING_LIBS) -lpthread

LIB_SRCS := $(wildcard src/*.c) $(wildcard devices/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/%.o)
BENCH_SRCS := $(filter-out tests/bench/vm_bench.c,$(wildcard tests/bench/*.c))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=%)

STATIC := $(BUILD)/libvmmio.a
SHARED := $(BUILD)/libvmmio.so.$(VERSION)
SONAME := libvmmio.so.$(VERSION_MAJOR)
PCFILE := $(BUILD)/vmmio.pc
UNIT := $(BUILD)/tests/unit/run

.PHONY: all lib check check-unit check-symbols check-freestanding fuzz \
	check-readme \
	vmm-demo check-vm guest run \
	fuzz-run bench bench-vm install uninstall format format-check cppcheck \
	clang-tidy compdb deps clean

all: lib
lib: $(STATIC) $(SHARED) $(BUILD)/libvmmio.so $(PCFILE)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(LIB_CFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(TEST_CFLAGS) $(CFLAGS) -c $< -o $@

$(STATIC): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(SHARED): $(LIB_OBJS) src/libvmmio.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=src/libvmmio.map \
		-Wl,-z,noexecstack -Wl,-z,relro -Wl,-z,now $(LDSAN) \
		-o $@ $(LIB_OBJS) $(LIBS)

$(BUILD)/libvmmio.so: $(SHARED)
	ln -sf libvmmio.so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf libvmmio.so.$(VERSION) $@

$(PCFILE): src/vmmio.pc.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS_PRIVATE@|$(LIBS)|' \
	    $< > $@

$(UNIT): $(UNIT_OBJS) $(STATIC)
	$(CC) $(OPT) $(LDSAN) -o $@ $(UNIT_OBJS) $(STATIC) $(CHECK_LIBS) $(LIBS)

# Unit tests of one variant.
check-unit: $(UNIT)
	cd $(BUILD) && CK_FORK=yes ./tests/unit/run

# Only the documented vmmio_ API may be exported by the shared library.
check-symbols: $(SHARED)
	@bad=$$(nm -D --defined-only $(SHARED) | awk '{print $$3}' | \
		grep -v '^vmmio_[a-z]' | grep -v '^VMMIO_' || true); \
	if [ -n "$$bad" ]; then echo "unexpected exports: $$bad"; exit 1; fi; \
	echo "check-symbols: $$(nm -D --defined-only $(SHARED) | grep -c ' T ') exported functions, all vmmio_"

# The driver harness must build freestanding and call nothing but
# memcpy/memset/memcmp.
check-freestanding:
	@mkdir -p build/freestanding
	@set -e; for f in $(wildcard src/driver*.c); do \
		o=build/freestanding/$$(basename $$f .c).o; \
		$(CC) -std=c11 -ffreestanding -fno-builtin -nostdlib \
			-fno-stack-protector -O2 -Wall -Wextra -Werror -Iinclude \
			-c $$f -o $$o; \
		und=$$(nm -u $$o | awk '{print $$2}' | \
			grep -v -x -e memcpy -e memset -e memcmp || true); \
		if [ -n "$$und" ]; then echo "$$f needs: $$und"; exit 1; fi; \
		echo "check-freestanding: $$f needs only memcpy/memset/memcmp"; \
	done

# The embedding example in README.md must compile and link.
check-readme: $(STATIC)
	@mkdir -p $(BUILD)/readme
	awk '/<!-- embed-example -->/{f=1; next} f && /^```c/{g=1; next} g && /^```/{exit} g' \
		README.md > $(BUILD)/readme/embed.c
	$(CC) $(CPPFLAGS) $(TEST_CFLAGS) -fPIC -c $(BUILD)/readme/embed.c \
		-o $(BUILD)/readme/embed.o
	$(CC) -shared -Wl,-z,defs -o $(BUILD)/readme/embed.so \
		$(BUILD)/readme/embed.o $(STATIC) $(LIBS)
	@echo "check-readme: the README embedding example compiles and links"

check: deps guest
	$(MAKE) VARIANT=release lib check-symbols check-readme check-unit \
		check-valgrind check-vm
	$(MAKE) VARIANT=asan check-unit
	@# vmm-demo and its tests under ASan+UBSan; sanitizer reports need
	@# syscalls the sandbox forbids, so seccomp is off except in the
	@# sandbox tests; the Linux boot adds nothing here (loader and ACPI
	@# run in process) and is left to the release run.
	VMT_NO_SECCOMP=1 $(MAKE) VARIANT=asan check-vm VMT_GUEST_DIR=none
	@# The I/O thread against the vCPU threads under ThreadSanitizer.
	$(MAKE) check-tsan
	$(MAKE) check-freestanding
	$(MAKE) fuzz-run FUZZ_TIME=$(FUZZ_TIME)

# vmm-demo: the KVM launcher (the only part that uses KVM, libcyaml and
# libseccomp). Its parts other than main.c also link into tests/vm/run.
VMM_SRCS := $(wildcard vmm-demo/*.c)
VMM_OBJS := $(VMM_SRCS:%.c=$(BUILD)/%.o)
VMM_PARTS := $(filter-out $(BUILD)/vmm-demo/main.o,$(VMM_OBJS))
VMM := $(BUILD)/vmm-demo/vmm-demo
VMM_CFLAGS := $(WARN) $(OPT) -D_GNU_SOURCE
VMM_LIBS := -lcyaml -lseccomp
VMTEST_SRCS := $(wildcard tests/vm/*.c)
VMTEST_OBJS := $(VMTEST_SRCS:%.c=$(BUILD)/%.o)
VMTEST := $(BUILD)/tests/vm/run

$(BUILD)/vmm-demo/%.o: vmm-demo/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(VMM_CFLAGS) $(CFLAGS) -c $< -o $@

$(VMM): $(VMM_OBJS) $(STATIC)
	$(CC) $(OPT) $(LDSAN) -o $@ $(VMM_OBJS) $(STATIC) $(VMM_LIBS) $(LIBS)

$(BUILD)/tests/vm/%.o: tests/vm/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Ivmm-demo $(TEST_CFLAGS) $(CFLAGS) -c $< -o $@

$(VMTEST): $(VMTEST_OBJS) $(VMM_PARTS) $(STATIC)
	$(CC) $(OPT) $(LDSAN) -o $@ $(VMTEST_OBJS) $(VMM_PARTS) $(STATIC) \
		$(CHECK_LIBS) $(VMM_LIBS) -lutil $(LIBS)

vmm-demo: $(VMM)

# The test guest (tests/guest/): freestanding x86-64 ELF, one for all variants.
-include tests/guest/guest.mk

# vmm-demo tests: config, loader, ACPI, the test guest under KVM (skipped
# without /dev/kvm), sandbox, Linux early boot (skipped without the bundle).
VMT_GUEST_DIR ?= $(CURDIR)/build/guest
check-vm: $(VMM) $(VMTEST) $(TEST_GUEST)
	VMM_DEMO=$(CURDIR)/$(VMM) TEST_GUEST=$(CURDIR)/$(TEST_GUEST) \
	GUEST_DIR=$(VMT_GUEST_DIR) CK_FORK=yes $(VMTEST)

# Long runs (check-long): tests/vm/long.mk. Sanitizer and analysis runs
# (valgrind, TSan, clang-tidy): tests/analysis.mk.
-include tests/vm/long.mk
-include tests/analysis.mk

# Linux guest bundle from Debian packages (kernel, busybox initramfs, disk).
guest:
	bash vmm-demo/bundle/mkguest.sh build/guest

# Boot the demo microVM. With hardware virtualization: the Linux guest of
# configs/default.yaml (a shell on the console; Ctrl-A x quits). On a host
# whose KVM cannot run Linux (PVM: guest ring 0 is emulated one instruction
# at a time), say so and boot the test guest (configs/testguest.yaml)
# instead, which shows each device at work and powers off.
run: deps $(VMM) testguest
	@if [ -e /sys/module/kvm_pvm ] || ! grep -qwE 'vmx|svm' /proc/cpuinfo; then \
		echo "make run: this host's KVM is $$( [ -e /sys/module/kvm_pvm ] && echo 'PVM (kvm_pvm)' || echo 'without VMX/SVM'): guest ring 0 is"; \
		echo "make run: emulated instruction by instruction, so a Linux kernel starts but"; \
		echo "make run: cannot finish booting (make check shows how far it gets). Booting"; \
		echo "make run: the test guest instead: configs/testguest.yaml"; \
		$(VMM) --config configs/testguest.yaml; \
	else \
		$(MAKE) guest && $(VMM) --config configs/default.yaml; \
	fi

# libFuzzer targets, corpora and coverage: tests/fuzz/fuzz.mk.
-include tests/fuzz/fuzz.mk

BENCH := $(BUILD)/tests/bench/queue_rt
$(BUILD)/tests/bench/%: tests/bench/%.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(TEST_CFLAGS) $(CFLAGS) -o $@ $< $(STATIC) $(LIBS)

bench: $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/tests/bench/%)
	@for b in $^; do echo "== $$b"; $$b || exit 1; done
	@if command -v valgrind >/dev/null; then \
		echo "== callgrind: instructions per 3-descriptor chain"; \
		$(BENCH) --callgrind; \
	fi

# vmm-demo against QEMU: tests/bench/vm_bench.c. Its total time counts
# from when make started (the build included).
ifneq ($(filter bench-vm,$(MAKECMDGOALS)),)
BENCH_VM_T0 := $(shell date +%s)
endif
VM_BENCH := $(BUILD)/tests/bench/vm_bench
bench-vm: $(VM_BENCH) $(VMM) $(TEST_GUEST)
	@dpkg -s qemu-system-x86 >/dev/null 2>&1 || { apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q qemu-system-x86; }
	$(VM_BENCH) --vmm $(VMM) --guest $(TEST_GUEST) \
		--t0 $(or $(BENCH_VM_T0),0) $(VM_BENCH_ARGS)

install: lib
	install -d $(DESTDIR)$(INCLUDEDIR)/vmmio $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 644 include/vmmio/*.h $(DESTDIR)$(INCLUDEDIR)/vmmio/
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf libvmmio.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf libvmmio.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libvmmio.so
	install -m 644 $(PCFILE) $(DESTDIR)$(LIBDIR)/pkgconfig/

uninstall:
	rm -rf $(DESTDIR)$(INCLUDEDIR)/vmmio
	rm -f $(DESTDIR)$(LIBDIR)/libvmmio.* $(DESTDIR)$(LIBDIR)/pkgconfig/vmmio.pc

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

cppcheck:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --std=c11 -Iinclude -D__GNUC__ \
		--suppress=missingIncludeSystem $(wildcard src devices vmm-demo)

compdb:
	$(MAKE) clean
	bear -- $(MAKE) all

# Debian packages a fresh machine needs to build and test.
DEPS := build-essential pkg-config check clang libclang-rt-14-dev \
	clang-format clang-tidy llvm cppcheck valgrind linux-libc-dev liburing-dev fio \
	libcyaml-dev libseccomp-dev acpica-tools busybox-static cpio e2fsprogs \
	lz4 xz-utils llvm-14
deps:
	@missing=$$(for p in $(DEPS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

clean:
	rm -rf build

-include $(shell find build -name "*.d" -type f 2>/dev/null)
