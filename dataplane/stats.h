/* stats.h - reading the dataplane's counters: sums over lcores, the Quick
 * Mode statistics table, text and JSON output, and DPDK telemetry
 * (/dpsec/stats, /dpsec/qm, /dpsec/sa/list). */
#ifndef DP_STATS_OUT_H
#define DP_STATS_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include "dp.h"

void dp_stats_sum(const struct dp_ctx *dp, uint64_t out[DP_C_MAX]);

/* One SA slot's counters summed over the workers (all SAs it ever held). */
struct dp_sa_counters dp_stats_sa_sum(const struct dp_ctx *dp, uint32_t idx);
void dp_stats_print(const struct dp_ctx *dp, FILE *f);
/* Where dp_stats_write_json reads the workers' counters: the snapshots
 * they took (dp_stats_take_snaps), the counters themselves once the
 * workers have stopped, or, failing a snapshot, live while they run (then
 * packets in flight make the totals disagree a little). */
enum dp_stats_source { DP_STATS_SNAPS, DP_STATS_STOPPED, DP_STATS_LIVE };

/* Asks every worker for a snapshot of its counters and waits for them;
 * returns false (and says which) if one did not answer in time. Each
 * port's packets sent are read just before (opackets_before_snaps). */
bool dp_stats_take_snaps(struct dp_ctx *dp);
int dp_stats_write_json(const struct dp_ctx *dp, const char *path, enum dp_stats_source src);

/* RFC 6040 §4.2: a tunnel's egress SHOULD log the ECN combinations no
 * ingress makes (an ECN mark outside a packet that is not ECN-capable, CE
 * inside and ECT(1) outside), and rate-limit what it logs. The manager
 * reports what the two counters gained since its last report, at most
 * once a minute. */
struct dp_ecn_report {
	uint64_t unused, ce_not_ect; /* the counters as last reported */
	uint64_t next_tsc;           /* no report before this */
};

/* Writes one line to f when the counters c gained since the last report
 * and one is due (now: TSC at hz); returns whether it did. */
bool dp_stats_ecn_report(struct dp_ecn_report *r, const uint64_t c[DP_C_MAX], uint64_t now,
			 uint64_t hz, FILE *f);
/* At exit: what was gained since the last report, whenever that was. */
void dp_stats_ecn_report_rest(struct dp_ecn_report *r, const uint64_t c[DP_C_MAX], FILE *f);

/* Bytes allocated from the DPDK heap, all sockets. */
uint64_t dp_heap_allocated(void);
int dp_stats_telemetry_register(void);

#endif
