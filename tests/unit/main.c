/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test runner: every suite linked in, one Check summary line. */
#include <stdlib.h>
#include <check.h>

#include "tests.h"

int main(void)
{
	Suite *(*const suites[])(void) = {
	    util_suite,	 mem_suite,
	    queue_suite, driver_suite,
	    mmio_suite,	 alloc_suite,
	    blk_suite,	 console_suite,
	    rng_suite,	 driver_hostile_suite,
	    edge_suite,
	};
	SRunner *sr = srunner_create(NULL);
	int failed;

	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (suites[i])
			srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
