/* SPDX-License-Identifier: Apache-2.0 */
/* Test guest: hostile-driver scenarios (being written). */
#include "tg.h"

void tg_scen_hostile(void)
{
	tg_result("hostile", TG_SKIP, "not written yet");
}
