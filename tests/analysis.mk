# SPDX-License-Identifier: Apache-2.0
# Sanitizer and static-analysis runs, included by the top-level Makefile.
#   make check-valgrind  unit tests under valgrind memcheck (release build)
#   make check-tsan      vmm-demo and the KVM suites under ThreadSanitizer
#   make clang-tidy      the .clang-tidy checks over src/ devices/ vmm-demo/

.PHONY: check-valgrind check-tsan check-tsan-repeat tsan-build

# Every test runs in its own forked process, as in check-unit; valgrind
# follows fork() without --trace-children, checks each process at exit
# and a child with errors exits 1, which Check reports as an error of that
# test. -q: only errors are printed. Every test runs (the round trips'
# millions of checks cost nothing until one fails, tests/unit/qfix.c);
# VG_EXCLUDE_TAGS=slow leaves out the randomized ring round trips.
VG_EXCLUDE_TAGS ?=
VALGRIND := valgrind -q --tool=memcheck --error-exitcode=1 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect --track-fds=no

check-valgrind: $(UNIT)
	@case "$(VARIANT)" in asan|tsan) \
		echo "check-valgrind: needs a build without sanitizers"; \
		exit 1;; esac
	@t0=$$(date +%s); cd $(BUILD) && CK_FORK=yes \
		CK_TIMEOUT_MULTIPLIER=20 CK_EXCLUDE_TAGS=$(VG_EXCLUDE_TAGS) \
		$(VALGRIND) ./tests/unit/run && \
	echo "check-valgrind: memcheck: no errors, no definite or indirect" \
		"leaks in any test process ($$(( $$(date +%s) - t0 )) s)"

# vmm-demo, its tests and the library built with -fsanitize=thread in
# TSAN_BUILD; the suites that run the I/O thread against vCPU threads.
# A report stops vmm-demo with status 66 and its log holds
# "ThreadSanitizer": either fails the test (vmrun.c assert_no_sanitizer).
# Without seccomp: the TSan runtime makes syscalls the filters forbid.
TSAN_BUILD ?= build/tsan
TSAN_SUITES ?= kvm hostile faults
TSAN_REPEAT ?= 20
TSAN_ENV = VMT_NO_SECCOMP=1 \
	TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
	VMM_DEMO=$(CURDIR)/$(TSAN_BUILD)/vmm-demo/vmm-demo \
	TEST_GUEST=$(CURDIR)/$(TEST_GUEST) GUEST_DIR=none CK_FORK=yes

tsan-build: $(TEST_GUEST)
	$(MAKE) VARIANT=tsan BUILD=$(TSAN_BUILD) $(TSAN_BUILD)/vmm-demo/vmm-demo \
		$(TSAN_BUILD)/tests/vm/run

# A suite absent from tests/vm/main.c runs no test and passes.
check-tsan: tsan-build
	@set -e; for s in $(TSAN_SUITES); do \
		echo "check-tsan: suite $$s"; \
		$(TSAN_ENV) CK_RUN_SUITE=$$s $(TSAN_BUILD)/tests/vm/run; \
	done

# The boots with 2 vCPUs (every scenario, smp and irq among them)
# TSAN_REPEAT times: races need the threads to meet.
check-tsan-repeat: tsan-build
	@set -e; for i in $$(seq $(TSAN_REPEAT)); do \
		echo "check-tsan-repeat: run $$i of $(TSAN_REPEAT)"; \
		$(TSAN_ENV) CK_RUN_SUITE=kvm CK_RUN_CASE=testguest \
			$(TSAN_BUILD)/tests/vm/run; \
	done

# clang-tidy per file (make -j2 runs two), a stamp for each clean one;
# findings on stdout, clang's "N warnings generated" (system headers,
# not shown) only on failure. vmm-demo needs _GNU_SOURCE, as in its build.
TIDY_FLAGS := -Iinclude -std=c11 $(filter -DVMMIO_HAVE_URING,$(CPPFLAGS))
TIDY_DEPS := .clang-tidy $(wildcard include/vmmio/*.h src/*.h devices/*.h \
	vmm-demo/*.h)
TIDY_STAMPS := $(patsubst %.c,$(BUILD)/tidy/%.ok,$(LIB_SRCS) $(VMM_SRCS))

$(BUILD)/tidy/vmm-demo/%.ok: vmm-demo/%.c $(TIDY_DEPS)
	@mkdir -p $(dir $@)
	@echo "clang-tidy $<"
	@clang-tidy --quiet $< -- $(TIDY_FLAGS) -D_GNU_SOURCE 2>$@.err || \
		{ cat $@.err; exit 1; }
	@touch $@

$(BUILD)/tidy/%.ok: %.c $(TIDY_DEPS)
	@mkdir -p $(dir $@)
	@echo "clang-tidy $<"
	@clang-tidy --quiet $< -- $(TIDY_FLAGS) 2>$@.err || \
		{ cat $@.err; exit 1; }
	@touch $@

clang-tidy: $(TIDY_STAMPS)
	@echo "clang-tidy: $(words $(TIDY_STAMPS)) files clean"
