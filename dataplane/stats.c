/* stats.c - the dataplane's counters as people and programs read them: the
 * global and drop counters summed over lcores, the Quick Mode statistics
 * table of the Windows IPsec monitor, per-SA counters; as text (SIGUSR1 and
 * exit), as JSON (--stats-file) and through DPDK telemetry. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_telemetry.h>

#include "dp_mgr.h"
#include "stats.h"

static void add_counters(uint64_t out[DP_C_MAX], const struct dp_counters *c)
{
	for (int k = 0; k < DP_C_MAX; k++)
		out[k] += c->c[k];
}

void dp_stats_sum(const struct dp_ctx *dp, uint64_t out[DP_C_MAX])
{
	memcpy(out, dp->mgr_ctr.c, sizeof(dp->mgr_ctr.c));
	for (uint16_t w = 0; w < dp->n_workers; w++)
		add_counters(out, dp->workers[w].ctr);
}

struct dp_sa_counters dp_stats_sa_sum(const struct dp_ctx *dp, uint32_t idx)
{
	struct dp_sa_counters s = { 0 };

	for (uint16_t w = 0; w < dp->n_workers; w++) {
		const struct dp_sa_counters *c = &dp->workers[w].sa_ctr[idx];

		s.packets += c->packets;
		s.bytes += c->bytes;
		s.drops += c->drops;
		s.last_use_tsc = RTE_MAX(s.last_use_tsc, c->last_use_tsc);
	}
	return s;
}

static bool ecn_gained(const struct dp_ecn_report *r, const uint64_t c[DP_C_MAX])
{
	return c[DP_C_ecn_unused_combinations] != r->unused ||
	       c[DP_DROP_ecn_ce_not_ect] != r->ce_not_ect;
}

static void ecn_write(struct dp_ecn_report *r, const uint64_t c[DP_C_MAX], FILE *f)
{
	uint64_t unused = c[DP_C_ecn_unused_combinations] - r->unused;
	uint64_t dropped = c[DP_DROP_ecn_ce_not_ect] - r->ce_not_ect;

	fprintf(f, "dpsecd: RFC 6040: since the last report, %" PRIu64 " decapsulated packets "
		   "carried an ECN combination no tunnel ingress makes: %" PRIu64 " CE outside a "
		   "packet that is not ECN-capable (dropped: drop_ecn_ce_not_ect), %" PRIu64 " of the "
		   "combinations the RFC calls unused (forwarded as it says: ecn_unused_combinations); "
		   "a router on the tunnel's path or the peer's ingress marks ECN wrongly\n",
		unused + dropped, dropped, unused);
	fflush(f);
	r->unused = c[DP_C_ecn_unused_combinations];
	r->ce_not_ect = c[DP_DROP_ecn_ce_not_ect];
}

bool dp_stats_ecn_report(struct dp_ecn_report *r, const uint64_t c[DP_C_MAX], uint64_t now,
			 uint64_t hz, FILE *f)
{
	if (!ecn_gained(r, c) || !dp_log_due(&r->next_tsc, now, hz))
		return false;
	ecn_write(r, c, f);
	return true;
}

void dp_stats_ecn_report_rest(struct dp_ecn_report *r, const uint64_t c[DP_C_MAX], FILE *f)
{
	if (ecn_gained(r, c))
		ecn_write(r, c, f);
}

/* The Quick Mode statistics table; pending key operations and rekeys
 * belong to the control plane. */
static void qm_table(const struct dp_ctx *dp, const uint64_t c[DP_C_MAX],
		     struct dpsec_qm_row t[DPSEC_QM_ROWS])
{
	struct dpsec_qm_gauges g = {
		.active_sas = dp->sas.count,
		.key_additions = dp->key_additions,
		.key_deletions = dp->key_deletions,
		.active_tunnels = dp->sas.tunnels_out,
	};

	dpsec_qm_table(c, &g, t);
}

static const char *sa_dir(const struct dp_sa *sa)
{
	return sa->direction == DPSEC_DIR_IN ? "inbound" : "outbound";
}

static const char *sa_mode(const struct dp_sa *sa)
{
	return (sa->flags & DP_SA_TUNNEL) ? "tunnel" : "transport";
}

static void addr_str(const struct dpsec_addr *a, char *buf, size_t len)
{
	inet_ntop(a->family == DPSEC_AF_INET6 ? AF_INET6 : AF_INET, a->a, buf, (socklen_t)len);
}

/* An SA's name, addresses and algorithms: kept in its directory entry only
 * (read here on the manager lcore, which writes it). */
static const struct dpsec_sa_conf *sa_description(const struct dp_ctx *dp, uint32_t idx)
{
	return &dp->mgr->shm.sas[idx].conf;
}

static void print_sas(const struct dp_ctx *dp, FILE *f)
{
	fprintf(f, "%-20s %-10s %-8s %-9s %-20s %-20s %12s %14s %8s\n", "SA", "SPI", "dir",
		"mode", "local", "remote", "packets", "bytes", "drops");
	for (uint32_t i = 0; i < dp->sas.capacity; i++) {
		const struct dp_sa *sa = dp->sas.sa[i];
		const struct dpsec_sa_conf *d;
		struct dp_sa_counters s;
		char l[64], r[64];

		if (sa == NULL)
			continue;
		d = sa_description(dp, i);
		s = dp_stats_sa_sum(dp, i);
		addr_str(&d->local, l, sizeof(l));
		addr_str(&d->remote, r, sizeof(r));
		fprintf(f, "%-20s 0x%08x %-8s %-9s %-20s %-20s %12" PRIu64 " %14" PRIu64 " %8" PRIu64 "\n",
			d->name, d->spi, sa_dir(sa), sa_mode(sa), l, r, s.packets, s.bytes, s.drops);
	}
}

void dp_stats_print(const struct dp_ctx *dp, FILE *f)
{
	uint64_t c[DP_C_MAX];
	struct dpsec_qm_row qm[DPSEC_QM_ROWS];

	dp_stats_sum(dp, c);
	qm_table(dp, c, qm);
	fprintf(f, "== dpsecd counters ==\n");
	for (int i = 0; i < DP_C_MAX; i++)
		if (i < DP_DROP_FIRST || c[i] != 0)
			fprintf(f, "%-36s %16" PRIu64 "\n", dp_counter_name(i), c[i]);
	fprintf(f, "%-36s %16" PRIu64 "\n", "drops", dp_counters_drops(c));
	fprintf(f, "== Quick Mode statistics ==\n");
	for (int i = 0; i < DPSEC_QM_ROWS; i++)
		fprintf(f, "%-36s %16" PRIu64 "\n", qm[i].name, qm[i].value);
	fprintf(f, "== Security associations ==\n");
	print_sas(dp, f);
	fflush(f);
}

static void json_counters(FILE *f, const uint64_t c[DP_C_MAX])
{
	fprintf(f, "\"global\": {");
	for (int i = 0; i < DP_C_MAX; i++)
		fprintf(f, "\"%s\": %" PRIu64 ", ", dp_counter_name(i), c[i]);
	fprintf(f, "\"drops\": %" PRIu64 "}", dp_counters_drops(c));
}

static void json_qm(FILE *f, const struct dp_ctx *dp, const uint64_t c[DP_C_MAX])
{
	struct dpsec_qm_row qm[DPSEC_QM_ROWS];

	qm_table(dp, c, qm);
	fprintf(f, "\"quick_mode\": {");
	for (int i = 0; i < DPSEC_QM_ROWS; i++)
		fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "", qm[i].name, qm[i].value);
	fprintf(f, "}");
}

#define JSON_SAS_MAX 100000 /* a million SAs would make a 150 MB file */

static void json_sas(FILE *f, const struct dp_ctx *dp)
{
	bool first = true;
	uint32_t listed = 0;

	fprintf(f, "\"sa_count\": %u, \"sas_listed_max\": %u, \"sas\": [", dp->sas.count, JSON_SAS_MAX);
	for (uint32_t i = 0; i < dp->sas.capacity && listed < JSON_SAS_MAX; i++) {
		const struct dp_sa *sa = dp->sas.sa[i];
		struct dp_sa_counters s;

		if (sa == NULL)
			continue;
		s = dp_stats_sa_sum(dp, i);
		fprintf(f, "%s{\"name\": \"%s\", \"spi\": %u, \"direction\": \"%s\", \"mode\": \"%s\", "
			   "\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"drops\": %" PRIu64
			   ", \"seq\": %" PRIu64 "}",
			first ? "" : ", ", sa_description(dp, i)->name, rte_be_to_cpu_32(sa->spi_be), sa_dir(sa),
			sa_mode(sa), s.packets,
			s.bytes, s.drops, sa->seq);
		first = false;
		listed++;
	}
	fprintf(f, "]");
}

/* Each port's counters now; with snapshots also the packets it had sent
 * before the workers took them (opackets_before): the count at the
 * snapshots lies between the two, however late the manager reads. */
static void json_ports(FILE *f, const struct dp_ctx *dp, enum dp_stats_source src)
{
	fprintf(f, "\"ports\": [");
	for (uint16_t i = 0; i < dp->n_ports; i++) {
		struct rte_eth_stats st = { 0 };

		rte_eth_stats_get(dp->ports[i].port_id, &st);
		fprintf(f, "%s{\"name\": \"%s\", \"ipackets\": %" PRIu64 ", \"opackets\": %" PRIu64
			   ", \"opackets_before\": %" PRIu64 ", \"imissed\": %" PRIu64
			   ", \"oerrors\": %" PRIu64 "}",
			i ? ", " : "", dp->ports[i].name, st.ipackets, st.opackets,
			src == DP_STATS_SNAPS ? dp->opackets_before_snaps[i] : st.opackets, st.imissed,
			st.oerrors);
	}
	fprintf(f, "]");
}

static void read_opackets(struct dp_ctx *dp)
{
	for (uint16_t i = 0; i < dp->n_ports; i++) {
		struct rte_eth_stats st = { 0 };

		rte_eth_stats_get(dp->ports[i].port_id, &st);
		dp->opackets_before_snaps[i] = st.opackets;
	}
}

/* Per worker: the cycles it spent on poll rounds that received packets, and
 * what it received, for cycles-per-packet figures (bench/); the same for
 * the rounds nothing interrupted (struct dp_worker). */
static void json_workers(FILE *f, const struct dp_ctx *dp, const struct dp_worker_snap *v,
			 enum dp_stats_source src)
{
	static const char *const source[] = { [DP_STATS_SNAPS] = "snapshot",
					      [DP_STATS_STOPPED] = "stopped", [DP_STATS_LIVE] = "live" };

	fprintf(f, "\"tsc_hz\": %" PRIu64 ", \"stall_cycles\": %" PRIu64
		   ", \"worker_counters\": \"%s\", \"workers\": [",
		rte_get_tsc_hz(), dp->stall_tsc, source[src]);
	for (uint16_t i = 0; i < dp->n_workers; i++)
		fprintf(f, "%s{\"lcore\": %u, \"busy_cycles\": %" PRIu64 ", \"rx_packets\": %" PRIu64
			   ", \"steady_cycles\": %" PRIu64
			   ", \"steady_rx_packets\": %" PRIu64 ", \"steady_rounds\": %" PRIu64
			   ", \"stalled_rounds\": %" PRIu64 "}",
			i ? ", " : "", dp->workers[i].lcore_id, v[i].busy_tsc, v[i].ctr.c[DP_C_rx_packets],
			v[i].steady_tsc, v[i].steady_rx, v[i].steady_rounds, v[i].stalled_rounds);
	fprintf(f, "]");
}

/* Heap in use and what the SA table took when it was made, so that bench/
 * can tell the bytes an SA costs (dp_ctx.sa_table_bytes). */
uint64_t dp_heap_allocated(void)
{
	struct rte_malloc_socket_stats st;
	uint64_t sum = 0;

	for (int s = 0; s < RTE_MAX_NUMA_NODES; s++)
		if (rte_malloc_get_socket_stats(s, &st) == 0)
			sum += st.heap_allocsz_bytes;
	return sum;
}

/* Heap in use, and what every SA slot costs besides the SA itself (made
 * once, for --max-sas slots): bench/ tells the bytes an SA costs from these
 * and the heap's growth while SAs are added. */
static void json_memory(FILE *f, const struct dp_ctx *dp)
{
	fprintf(f, "\"memory\": {\"heap_allocated_bytes\": %" PRIu64 ", \"sa_capacity\": %u, "
		   "\"sa_table_bytes\": %" PRIu64 ", \"sa_struct_bytes\": %zu, \"key_schedule_bytes\": %zu, "
		   "\"per_slot\": {\"table_and_sad\": %.1f, \"worker_counters\": %zu, "
		   "\"manager_state\": %zu, \"shm_directory\": %zu}}",
		dp_heap_allocated(), dp->sas.capacity, dp->sa_table_bytes, sizeof(struct dp_sa),
		sizeof(struct ofl_sa_crypto), (double)dp->sa_table_bytes / dp->sas.capacity,
		sizeof(struct dp_sa_counters) * dp->n_workers, sizeof(struct dp_sa_mgr),
		sizeof(struct dpsec_shm_sa));
}

/* A worker answers within a poll round or an idle sleep; one that has not
 * in this long is stuck or starved of its core. */
#define SNAP_WAIT_MS 2000

bool dp_stats_take_snaps(struct dp_ctx *dp)
{
	uint64_t deadline = rte_get_timer_cycles() + rte_get_timer_hz() / 1000 * SNAP_WAIT_MS;
	uint32_t req[RTE_MAX_LCORE];
	bool all = true;

	read_opackets(dp);
	for (uint16_t i = 0; i < dp->n_workers; i++)
		req[i] = __atomic_add_fetch(&dp->workers[i].snap_req, 1, __ATOMIC_RELEASE);
	for (uint16_t i = 0; i < dp->n_workers; i++) {
		const struct dp_worker *w = &dp->workers[i];

		while (__atomic_load_n(&w->snap_done, __ATOMIC_ACQUIRE) != req[i] &&
		       rte_get_timer_cycles() < deadline)
			rte_delay_us_sleep(10);
		if (__atomic_load_n(&w->snap_done, __ATOMIC_ACQUIRE) != req[i]) {
			fprintf(stderr, "dpsecd: worker %u took no snapshot of its counters in %u ms: "
				"read live\n", i, SNAP_WAIT_MS);
			all = false;
		}
	}
	return all;
}

/* Each worker's counters from src, and the global counters summed from
 * them and the manager's. */
static void read_workers(const struct dp_ctx *dp, enum dp_stats_source src,
			 struct dp_worker_snap *v, uint64_t c[DP_C_MAX])
{
	memcpy(c, dp->mgr_ctr.c, sizeof(dp->mgr_ctr.c));
	for (uint16_t i = 0; i < dp->n_workers; i++) {
		if (src == DP_STATS_SNAPS)
			v[i] = *dp->workers[i].snap;
		else
			dp_worker_snap_take(&dp->workers[i], &v[i]);
		add_counters(c, &v[i].ctr);
	}
}

int dp_stats_write_json(const struct dp_ctx *dp, const char *path, enum dp_stats_source src)
{
	uint64_t c[DP_C_MAX];
	/* cache-line aligned, as struct dp_counters is declared */
	struct dp_worker_snap *v = aligned_alloc(RTE_CACHE_LINE_SIZE,
						 (dp->n_workers ? dp->n_workers : 1u) * sizeof(*v));
	FILE *f = v != NULL ? fopen(path, "w") : NULL;

	if (f == NULL) {
		free(v);
		return -1;
	}
	read_workers(dp, src, v, c);
	fprintf(f, "{");
	json_counters(f, c);
	fprintf(f, ", ");
	json_qm(f, dp, c);
	fprintf(f, ", ");
	json_ports(f, dp, src);
	fprintf(f, ", ");
	json_workers(f, dp, v, src);
	free(v);
	fprintf(f, ", ");
	json_memory(f, dp);
	fprintf(f, ", ");
	json_sas(f, dp); /* last: listing many SAs takes long enough to skew the rest */
	fprintf(f, "}\n");
	return fclose(f);
}

static int tel_stats(const char *cmd __rte_unused, const char *params __rte_unused,
		     struct rte_tel_data *d)
{
	uint64_t c[DP_C_MAX];

	dp_stats_sum(dp_g, c);
	rte_tel_data_start_dict(d);
	for (int i = 0; i < DP_C_MAX; i++)
		rte_tel_data_add_dict_u64(d, dp_counter_name(i), c[i]);
	rte_tel_data_add_dict_u64(d, "drops", dp_counters_drops(c));
	return 0;
}

static int tel_qm(const char *cmd __rte_unused, const char *params __rte_unused,
		  struct rte_tel_data *d)
{
	uint64_t c[DP_C_MAX];
	struct dpsec_qm_row qm[DPSEC_QM_ROWS];

	dp_stats_sum(dp_g, c);
	qm_table(dp_g, c, qm);
	rte_tel_data_start_dict(d);
	for (int i = 0; i < DPSEC_QM_ROWS; i++)
		rte_tel_data_add_dict_u64(d, qm[i].name, qm[i].value);
	return 0;
}

static struct rte_tel_data *tel_sa(const struct dpsec_shm_sa *e)
{
	struct rte_tel_data *t = rte_tel_data_alloc();

	if (t == NULL)
		return NULL;
	rte_tel_data_start_dict(t);
	rte_tel_data_add_dict_string(t, "name", e->conf.name);
	rte_tel_data_add_dict_u64(t, "spi", e->conf.spi);
	rte_tel_data_add_dict_string(t, "direction", e->conf.direction == DPSEC_DIR_IN ? "inbound" : "outbound");
	rte_tel_data_add_dict_string(t, "mode", e->conf.mode == DPSEC_MODE_TUNNEL ? "tunnel" : "transport");
	rte_tel_data_add_dict_string(t, "state", e->state == DPSEC_SA_EXPIRED ? "expired" : "active");
	rte_tel_data_add_dict_u64(t, "packets", e->packets);
	rte_tel_data_add_dict_u64(t, "bytes", e->bytes);
	rte_tel_data_add_dict_u64(t, "drops", e->drops);
	rte_tel_data_add_dict_u64(t, "seq", e->seq);
	return t;
}

/* Telemetry keys allow letters, digits, '_' and '/' only, and SA names may
 * hold others: the list is keyed by SA id, the name is a value. It reads
 * the shared-memory SA directory (this thread must not touch SAs the
 * manager may free). A dictionary holds RTE_TEL_MAX_DICT_ENTRIES entries:
 * the first SAs by id. */
static int tel_sa_list(const char *cmd __rte_unused, const char *params __rte_unused,
		       struct rte_tel_data *d)
{
	const struct dp_shm *shm = &dp_g->mgr->shm;
	uint32_t n = 0;

	rte_tel_data_start_dict(d);
	for (uint32_t i = 0; i < dp_g->sas.capacity && n < RTE_TEL_MAX_DICT_ENTRIES; i++) {
		struct dpsec_shm_sa e;
		struct rte_tel_data *t;
		char key[16];

		if (!dpsec_shm_sa_read(&shm->sas[i], &e, 100) || e.state == DPSEC_SA_FREE)
			continue;
		t = tel_sa(&e);
		snprintf(key, sizeof(key), "%u", i);
		if (t == NULL)
			continue;
		if (rte_tel_data_add_dict_container(d, key, t, 0) != 0)
			rte_tel_data_free(t);
		else
			n++;
	}
	return 0;
}

int dp_stats_telemetry_register(void)
{
	int rc = rte_telemetry_register_cmd("/dpsec/stats", tel_stats,
					    "dpsecd counters, drop reasons included. No parameters");

	rc |= rte_telemetry_register_cmd("/dpsec/qm", tel_qm,
					 "Quick Mode statistics table. No parameters");
	rc |= rte_telemetry_register_cmd("/dpsec/sa/list", tel_sa_list,
					 "SAs with their counters. No parameters");
	return rc;
}
