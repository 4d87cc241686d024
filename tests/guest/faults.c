/* SPDX-License-Identifier: Apache-2.0 */
/* Test guest: crash and backend-fault scenarios (being written). */
#include "tg.h"

void tg_scen_killtest(void)
{
	tg_result("killtest", TG_SKIP, "not written yet");
}

void tg_scen_ioerr(void)
{
	tg_result("ioerr", TG_SKIP, "not written yet");
}

void tg_scen_flood(void)
{
	tg_result("flood", TG_SKIP, "not written yet");
}
