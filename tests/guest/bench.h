/* SPDX-License-Identifier: Apache-2.0 */
/* Test guest: tg.run=bench, device throughput figures (README.md). */
#ifndef TG_BENCH_H
#define TG_BENCH_H

/* Runs the figures tg.bench= selects, prints one `TG BENCH` line each,
 * then `TG BENCH DONE`, holds tg.hold_ms and reports `TG RESULT bench`. */
void scen_bench(void);

#endif
