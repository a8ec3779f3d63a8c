/* stats.h - reading the dataplane's counters: sums over lcores, the Quick
 * Mode statistics table, text and JSON output, and DPDK telemetry
 * (/dpsec/stats, /dpsec/qm, /dpsec/sa/list). */
#ifndef DP_STATS_OUT_H
#define DP_STATS_OUT_H

#include <stdio.h>

#include "dp.h"

void dp_stats_sum(const struct dp_ctx *dp, uint64_t out[DP_C_MAX]);

/* One SA slot's counters summed over the workers (all SAs it ever held). */
struct dp_sa_counters dp_stats_sa_sum(const struct dp_ctx *dp, uint32_t idx);
void dp_stats_print(const struct dp_ctx *dp, FILE *f);
int dp_stats_write_json(const struct dp_ctx *dp, const char *path);

/* Bytes allocated from the DPDK heap, all sockets. */
uint64_t dp_heap_allocated(void);
int dp_stats_telemetry_register(void);

#endif
