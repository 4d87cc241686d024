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
