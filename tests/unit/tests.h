/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test suites; each file provides one (weak: a suite may be absent). */
#ifndef VMMIO_TESTS_H
#define VMMIO_TESTS_H

#include <check.h>

#define TEST_SUITE __attribute__((weak))
TEST_SUITE Suite *util_suite(void);
TEST_SUITE Suite *mem_suite(void);
TEST_SUITE Suite *queue_suite(void);
TEST_SUITE Suite *driver_suite(void);
TEST_SUITE Suite *mmio_suite(void);
TEST_SUITE Suite *alloc_suite(void);
TEST_SUITE Suite *blk_suite(void);
TEST_SUITE Suite *console_suite(void);
TEST_SUITE Suite *rng_suite(void);
TEST_SUITE Suite *driver_hostile_suite(void);
TEST_SUITE Suite *edge_suite(void);

#endif
