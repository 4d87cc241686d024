# SPDX-License-Identifier: Apache-2.0
# Fuzzing (tests/fuzz/). Included by the top-level Makefile.

# libFuzzer targets: clang, the library compiled into each target.
FUZZ_BUILD := build/fuzz
FUZZ_FLAGS := -std=c11 -g -O1 -D_GNU_SOURCE -Iinclude \
	$(if $(filter 1,$(URING)),-DVMMIO_HAVE_URING) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRCS) $(wildcard include/vmmio/*.h src/*.h tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_FLAGS) -o $@ $< $(LIB_SRCS) $(LIBS)

fuzz: $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)

# Run each target for FUZZ_TIME seconds on a scratch copy of its corpus.
fuzz-run: fuzz
	@set -e; for t in $(FUZZ_NAMES); do \
		work=$(FUZZ_BUILD)/work-$$t; rm -rf $$work; mkdir -p $$work; \
		cp tests/fuzz/corpus/$$t/* $$work/ 2>/dev/null || true; \
		echo "fuzz $$t: $(FUZZ_TIME)s"; \
		$(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_TIME) \
			-print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/crash-$$t- \
			$$work > $(FUZZ_BUILD)/$$t.log 2>&1 || \
			{ tail -40 $(FUZZ_BUILD)/$$t.log; exit 1; }; \
		grep -E 'stat::number_of_executed_units|Done' $(FUZZ_BUILD)/$$t.log | tail -2; \
	done

# Line coverage of src/ and devices/ (clang source-based coverage) from
# the unit tests plus every corpus replayed once (-runs=0). The library
# is built once with coverage; the unit runner and coverage builds of the
# fuzz targets (no sanitizer) link it, so their counts merge per function.
# The unit run uses continuous mode (%c: counters live in the mmapped
# profile, which forked test children share), so children that leave with
# _exit() or a signal are counted too; that needs counter relocation.
COV_BUILD ?= build/coverage
COVERAGE_MIN ?= 90
LLVM_PROFDATA ?= llvm-profdata-14
LLVM_COV ?= llvm-cov-14
COV_FLAGS := -fprofile-instr-generate -fcoverage-mapping \
	-mllvm -runtime-counter-relocation
COV_PROF = $(abspath $(COV_BUILD))/prof
COV_FUZZ := $(FUZZ_NAMES:%=$(COV_BUILD)/fuzz/fuzz_%)

.PHONY: coverage coverage-lib
coverage-lib:
	$(MAKE) VARIANT=debug BUILD=$(COV_BUILD) CC="$(CLANG) $(COV_FLAGS)" \
		$(COV_BUILD)/libvmmio.a $(COV_BUILD)/tests/unit/run

$(COV_BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c coverage-lib
	@mkdir -p $(dir $@)
	$(CLANG) -std=c11 -g -O0 -D_GNU_SOURCE -Iinclude $(COV_FLAGS) \
		-fsanitize=fuzzer -o $@ $< $(COV_BUILD)/libvmmio.a $(LIBS)

coverage: coverage-lib $(COV_FUZZ)
	@rm -rf $(COV_PROF) && mkdir -p $(COV_PROF)
	cd $(COV_BUILD) && LLVM_PROFILE_FILE=$(COV_PROF)/unit-%c%p.profraw \
		CK_FORK=yes ./tests/unit/run
	@set -e; for t in $(FUZZ_NAMES); do \
		if [ ! -d tests/fuzz/corpus/$$t ]; then \
			echo "coverage: no corpus for $$t"; continue; fi; \
		scratch=$(COV_BUILD)/scratch-$$t; rm -rf $$scratch; \
		mkdir -p $$scratch; \
		echo "coverage: replaying tests/fuzz/corpus/$$t"; \
		LLVM_PROFILE_FILE=$(COV_PROF)/fuzz-$$t-%p.profraw \
			$(COV_BUILD)/fuzz/fuzz_$$t -runs=0 $$scratch \
			tests/fuzz/corpus/$$t > $(COV_BUILD)/replay-$$t.log \
			2>&1 || { tail -20 $(COV_BUILD)/replay-$$t.log; exit 1; }; \
	done
	$(LLVM_PROFDATA) merge -sparse $(COV_PROF)/*.profraw \
		-o $(COV_BUILD)/all.profdata
	$(LLVM_COV) report $(COV_BUILD)/tests/unit/run \
		$(COV_FUZZ:%=-object %) -instr-profile=$(COV_BUILD)/all.profdata \
		$(LIB_SRCS) | tee $(COV_BUILD)/report.txt
	@awk -v min=$(COVERAGE_MIN) '$$1 == "TOTAL" { \
		seen = 1; pct = $$10; sub("%", "", pct); rc = pct + 0 < min; \
		printf "coverage: %s of the lines of src/ and devices/ (minimum %s%%)\n", $$10, min } \
		END { if (!seen) print "coverage: no report"; exit !seen || rc }' \
		$(COV_BUILD)/report.txt
