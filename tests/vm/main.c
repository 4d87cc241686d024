/* SPDX-License-Identifier: Apache-2.0 */
/* vmm-demo test runner: every suite linked in, one Check summary line. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmtests.h"

const char *vmt_env(const char *name)
{
	const char *v = getenv(name);

	ck_assert_msg(v && *v, "environment variable %s not set (run via make)",
		      name);
	return v;
}

int vmt_have_kvm(char *why, unsigned long len)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, len, "/dev/kvm: %s", strerror(errno));
		return 0;
	}
	close(fd);
	return 1;
}

int main(void)
{
	Suite *(*const suites[])(void) = {
	    config_suite,  loader_suite, acpi_suite,   kvm_suite,
	    sandbox_suite, linux_suite,	 faults_suite, hostile_suite,
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
