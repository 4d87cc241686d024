# SPDX-License-Identifier: Apache-2.0
# make check-long: long runs, included by the top-level Makefile.
# The kill test of tests/vm/test_faults.c with VMT_KILL_RUNS runs (20 by
# default; make check runs 3): while the test guest writes numbered blocks
# and flushes them, vmm-demo gets SIGKILL at a random moment, and every
# block the guest saw flushed must be on the image. The engine (sync,
# io_uring) and the cache setting (on, off) alternate between runs; the
# seed is printed, VMT_KILL_SEED=N repeats a sequence of kill moments.

VMT_KILL_RUNS ?= 20

.PHONY: check-long
check-long: $(VMM) $(VMTEST) $(TEST_GUEST)
	VMM_DEMO=$(CURDIR)/$(VMM) TEST_GUEST=$(CURDIR)/$(TEST_GUEST) \
	VMT_KILL_RUNS=$(VMT_KILL_RUNS) CK_RUN_SUITE=faults CK_RUN_CASE=kill \
	CK_FORK=yes $(VMTEST)
