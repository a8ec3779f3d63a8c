/* dp_stats.h - where the dataplane keeps its counters: per lcore (no atomics
 * on the fast path), summed by whoever reads them. The counters themselves
 * are declared in dpsec_counters.h. */
#ifndef DP_STATS_H
#define DP_STATS_H

#include <stdint.h>

#include <rte_common.h>

#include "dpsec_counters.h"

struct dp_counters {
	uint64_t c[DP_C_MAX];
} __rte_cache_aligned;

/* Per-SA counters of one lcore. */
struct dp_sa_counters {
	uint64_t packets;
	uint64_t bytes; /* inner bytes */
	uint64_t drops;
	uint64_t last_use_tsc;
};

#endif
