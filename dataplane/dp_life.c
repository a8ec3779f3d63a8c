/* dp_life.c - the manager's watch over SAs and counters: a scan that walks
 * a slice of the SA table each round, sums each SA's per-worker counters
 * into the shared-memory SA directory, enforces hard lifetimes (the SA
 * stops carrying packets even with no control plane), reports soft, hard,
 * idle and sequence-number events once each, and sends the NAT keepalives
 * of silent UDP-encapsulated SAs; and the statistics area, refreshed every
 * 10 ms. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>

#include "dp.h"
#include "dp_mgr.h"
#include "stats.h"
#include "tunnel_pmtu.h"

#define STATS_PERIOD_MS 10
#define SCAN_PASS_MS 250            /* every SA looked at 4 times a second... */
#define SCAN_SLOTS_PER_S 1000000ull /* ...up to a million slots a second */

uint64_t dp_mgr_tsc_to_ns(const struct dp_ctx *dp, uint64_t tsc)
{
	const struct dp_mgr *m = dp->mgr;

	if (tsc < m->boot_tsc)
		return m->boot_ns - (m->boot_tsc - tsc) * 1000000000ull / rte_get_tsc_hz();
	return m->boot_ns + (tsc - m->boot_tsc) * 1000000000ull / rte_get_tsc_hz();
}

/* The counters of the SA now in slot idx (a slot's earlier SAs excluded). */
static struct dp_sa_counters sa_usage(const struct dp_ctx *dp, uint32_t idx)
{
	const struct dp_sa_mgr *sm = &dp->mgr->sa[idx];
	struct dp_sa_counters s = dp_stats_sa_sum(dp, idx);

	s.packets -= sm->base_packets;
	s.bytes -= sm->base_bytes;
	s.drops -= sm->base_drops;
	if (s.last_use_tsc < dp->sas.sa[idx]->added_tsc)
		s.last_use_tsc = 0;
	return s;
}

/* The SA's description goes into its directory entry once, without keys:
 * the dataplane keeps no other copy (struct dp_sa). */
static void describe_sa(struct dp_ctx *dp, uint32_t idx, const struct dpsec_sa_conf *conf)
{
	struct dpsec_shm_sa e = dp->mgr->shm.sas[idx]; /* the manager is the only writer */

	e.conf = *conf;
	explicit_bzero(e.conf.enc_key, sizeof(e.conf.enc_key));
	explicit_bzero(e.conf.salt, sizeof(e.conf.salt));
	explicit_bzero(e.conf.integ_key, sizeof(e.conf.integ_key));
	dp_shm_sa_write(&dp->mgr->shm, idx, &e);
}

void dp_mgr_sa_installed(struct dp_ctx *dp, uint32_t idx, const struct dpsec_sa_conf *conf)
{
	struct dp_sa_mgr *sm = &dp->mgr->sa[idx];
	struct dp_sa_counters s = dp_stats_sa_sum(dp, idx);

	memset(sm, 0, sizeof(*sm));
	sm->base_packets = s.packets;
	sm->base_bytes = s.bytes;
	sm->base_drops = s.drops;
	sm->last_in_tsc = dp->sas.sa[idx]->added_tsc;
	dp_natt_ka_start(&sm->ka, dp->sas.sa[idx]->added_tsc, 0); /* usage counts from 0 */
	describe_sa(dp, idx, conf);
	dp_pmtu_sa_added(dp, idx, conf);
	dp_life_publish_sa(dp, idx);
}

void dp_mgr_sa_moved(struct dp_ctx *dp, uint32_t idx, const struct dpsec_sa_conf *from,
		     const struct dpsec_sa_conf *to)
{
	dp_pmtu_sa_removed(dp, idx, from);
	describe_sa(dp, idx, to);
	dp_pmtu_sa_added(dp, idx, to);
	dp_life_publish_sa(dp, idx);
}

/* The path MTU a router reported for sa, while it holds; 0: none. */
static uint32_t path_mtu_shown(const struct dp_sa *sa)
{
	uint32_t mtu = dp_sa_path_mtu(sa, rte_rdtsc());

	return mtu == UINT32_MAX ? 0 : mtu;
}

static void fill_entry(const struct dp_ctx *dp, uint32_t idx, const struct dp_sa *sa,
		       const struct dp_sa_counters *u, struct dpsec_shm_sa *e)
{
	struct dpsec_sa_conf conf = dp->mgr->shm.sas[idx].conf; /* written by describe_sa() */

	memset(e, 0, sizeof(*e));
	e->conf = conf;
	e->sa_id = idx;
	e->state = sa->expired ? DPSEC_SA_EXPIRED : DPSEC_SA_ACTIVE;
	e->rule_id = sa->rule_id;
	e->added_ns = dp_mgr_tsc_to_ns(dp, sa->added_tsc);
	e->packets = u->packets;
	e->bytes = u->bytes;
	e->drops = u->drops;
	e->last_use_ns = u->last_use_tsc ? dp_mgr_tsc_to_ns(dp, u->last_use_tsc) : 0;
	e->seq = __atomic_load_n(&sa->seq, __ATOMIC_RELAXED);
	e->life = sa->life;
	e->expired = dp->mgr->sa[idx].reported;
	e->path_mtu = (uint16_t)path_mtu_shown(sa);
}

/* A digest of what changes in an SA's directory entry while it lives. */
static uint64_t entry_digest(const struct dp_sa *sa, const struct dp_sa_counters *u, uint8_t reported)
{
	return u->packets * 0x9e3779b97f4a7c15ull ^ u->drops * 0xc2b2ae3d27d4eb4full ^
	       __atomic_load_n(&sa->seq, __ATOMIC_RELAXED) * 0x165667b19e3779f9ull ^
	       (uint64_t)sa->rule_id << 8 ^ (uint64_t)sa->expired << 1 ^ reported ^
	       (uint64_t)path_mtu_shown(sa) << 40;
}

/* Writes the SA's directory entry (the readers' view) when it changed, or
 * always with force (install, update). */
static void publish_sa(struct dp_ctx *dp, uint32_t idx, bool force)
{
	const struct dp_sa *sa = dp->sas.sa[idx];
	struct dp_sa_mgr *sm = &dp->mgr->sa[idx];
	struct dp_sa_counters u;
	struct dpsec_shm_sa e;
	uint64_t digest;

	if (sa == NULL)
		return;
	u = sa_usage(dp, idx);
	digest = entry_digest(sa, &u, sm->reported);
	if (!force && digest == sm->published)
		return;
	sm->published = digest;
	fill_entry(dp, idx, sa, &u, &e);
	dp_shm_sa_write(&dp->mgr->shm, idx, &e);
}

void dp_life_publish_sa(struct dp_ctx *dp, uint32_t idx)
{
	publish_sa(dp, idx, true);
}

static bool over(uint64_t limit, uint64_t value)
{
	return limit != 0 && value >= limit;
}

/* Which limit, if any, an SA of this usage and age has crossed. */
static int crossed(const struct dp_sa *sa, const struct dp_sa_counters *u, uint64_t age_s, bool hard,
		   uint8_t *trigger)
{
	const struct dpsec_lifetime *l = &sa->life;

	if (over(hard ? l->hard_seconds : l->soft_seconds, age_s))
		*trigger = DPSEC_TRIGGER_TIME;
	else if (over(hard ? l->hard_bytes : l->soft_bytes, u->bytes))
		*trigger = DPSEC_TRIGGER_BYTES;
	else if (over(hard ? l->hard_packets : l->soft_packets, u->packets))
		*trigger = DPSEC_TRIGGER_PACKETS;
	else
		return 0;
	return 1;
}

/* Sends an expiry event once; false when the event ring was full. */
static bool report(struct dp_ctx *dp, uint32_t idx, const struct dp_sa_counters *u, uint8_t kind,
		   uint8_t trigger)
{
	struct dp_sa_mgr *sm = &dp->mgr->sa[idx];
	const struct dp_sa *sa = dp->sas.sa[idx];
	struct dpsec_ev_sa_expire ev = {
		.sa_id = idx, .spi = rte_be_to_cpu_32(sa->spi_be), .kind = kind, .trigger = trigger,
		.direction = sa->direction, .bytes = u->bytes, .packets = u->packets,
	};

	if (sm->reported & (1u << kind))
		return true;
	if (!dp->managed || dp_ev_push(dp, DPSEC_EV_SA_EXPIRE, &ev, sizeof(ev))) {
		sm->reported |= (uint8_t)(1u << kind); /* nobody to tell without a control plane */
		return true;
	}
	return false;
}

static bool seq_near_end(const struct dp_sa *sa)
{
	uint64_t seq = __atomic_load_n(&sa->seq, __ATOMIC_RELAXED);

	return sa->direction == DPSEC_DIR_OUT && dp_sa_seq_end(sa) - RTE_MIN(seq, dp_sa_seq_end(sa)) <
							 DP_SEQ_SOFT_LEFT;
}

/* A static key's SA running short of reserved numbers gets the next
 * chunk (dp_sa_seq_top_up). A failure is logged once a minute at most:
 * the SA drops what passes its limit (seq_unsaved). */
static void check_seq_reserve(struct dp_ctx *dp, struct dp_sa *sa, uint64_t now)
{
	static uint64_t next_log;
	char err[256];

	if (dp_sa_seq_top_up(&dp->sas, sa, err, sizeof(err)) < 0 &&
	    dp_log_due(&next_log, now, rte_get_tsc_hz()))
		fprintf(stderr, "dpsecd: SA id %u: %s; its packets wait (drop_seq_unsaved)\n", sa->idx, err);
}

/* Idle: an inbound SA without a packet for idle_seconds; re-armed by traffic. */
static void check_idle(struct dp_ctx *dp, uint32_t idx, const struct dp_sa_counters *u,
		       uint64_t now)
{
	struct dp_sa_mgr *sm = &dp->mgr->sa[idx];
	const struct dp_sa *sa = dp->sas.sa[idx];

	if (u->last_use_tsc > sm->last_in_tsc) {
		sm->last_in_tsc = u->last_use_tsc;
		sm->reported &= (uint8_t)~(1u << DPSEC_EXPIRE_IDLE);
	}
	if (sa->direction == DPSEC_DIR_IN && sa->life.idle_seconds != 0 &&
	    now - sm->last_in_tsc >= (uint64_t)sa->life.idle_seconds * rte_get_tsc_hz())
		report(dp, idx, u, DPSEC_EXPIRE_IDLE, DPSEC_TRIGGER_IDLE);
}

/* RFC 3948 §4: a UDP-encapsulated outbound SA silent for the interval
 * sends a keepalive (the scan sees each SA several times a second). */
static void check_keepalive(struct dp_ctx *dp, uint32_t idx, const struct dp_sa_counters *u,
			    uint64_t now)
{
	const struct dp_sa *sa = dp->sas.sa[idx];
	uint64_t interval = (uint64_t)dp->cfg->opts.natt_keepalive_s * rte_get_tsc_hz();

	if (sa->direction == DPSEC_DIR_OUT && (sa->flags & DP_SA_NATT) && !sa->expired &&
	    dp_natt_ka_due(&dp->mgr->sa[idx].ka, now, u->packets, interval))
		dp_natt_ka_send(dp, &dp->mgr->shm.sas[idx].conf); /* its description */
}

static void check_one(struct dp_ctx *dp, uint32_t idx, uint64_t now)
{
	struct dp_sa *sa = dp->sas.sa[idx];
	struct dp_sa_counters u = sa_usage(dp, idx);
	uint64_t age_s = (now - sa->added_tsc) / rte_get_tsc_hz();
	uint8_t trigger;

	if (crossed(sa, &u, age_s, true, &trigger)) {
		__atomic_store_n(&sa->expired, 1, __ATOMIC_RELAXED); /* workers drop from now on */
		report(dp, idx, &u, DPSEC_EXPIRE_HARD, trigger);
	}
	if (crossed(sa, &u, age_s, false, &trigger))
		report(dp, idx, &u, DPSEC_EXPIRE_SOFT, trigger);
	if (seq_near_end(sa))
		report(dp, idx, &u, DPSEC_EXPIRE_SEQ, DPSEC_TRIGGER_SEQ);
	check_seq_reserve(dp, sa, now);
	check_idle(dp, idx, &u, now);
	check_keepalive(dp, idx, &u, now);
	dp_pmtu_scan_sa(dp, idx, now);
	publish_sa(dp, idx, false);
}

/* Slots due for a look since the last scan: a whole pass every
 * SCAN_PASS_MS, or slower for big tables, at most SCAN_SLOTS_PER_S (a
 * million SAs scanned flat out would take a core and the workers' cache). */
static uint32_t scan_budget(const struct dp_ctx *dp, uint64_t now)
{
	uint64_t hz = rte_get_tsc_hz();
	uint64_t elapsed = now - dp->mgr->scan_tsc;
	uint64_t per_s = RTE_MIN((uint64_t)dp->sas.capacity * 1000 / SCAN_PASS_MS, SCAN_SLOTS_PER_S);
	uint64_t n = elapsed >= hz ? per_s : elapsed * per_s / hz;

	return (uint32_t)RTE_MIN(n, (uint64_t)dp->sas.capacity);
}

void dp_life_scan(struct dp_ctx *dp)
{
	struct dp_mgr *m = dp->mgr;
	uint64_t now = rte_get_tsc_cycles();
	uint32_t max_slots = scan_budget(dp, now);

	if (max_slots == 0)
		return;
	m->scan_tsc = now;
	for (uint32_t n = 0; n < max_slots; n++) {
		uint32_t idx = m->scan_cursor;

		m->scan_cursor = (idx + 1) % dp->sas.capacity;
		if (dp->sas.sa[idx] != NULL)
			check_one(dp, idx, now);
	}
}

void dp_life_publish_stats(struct dp_ctx *dp)
{
	struct dp_mgr *m = dp->mgr;
	struct dpsec_shm_stats *st = m->shm.stats;
	uint64_t now = rte_get_tsc_cycles();

	if (now - m->last_stats_tsc < rte_get_tsc_hz() / 1000 * STATS_PERIOD_MS)
		return;
	m->last_stats_tsc = now;
	dp_shm_stats_begin(&m->shm);
	dp_stats_sum(dp, st->counters);
	st->active_sas = dp->sas.count;
	st->active_tunnels = dp->sas.tunnels_out;
	st->key_additions = dp->key_additions;
	st->key_deletions = dp->key_deletions;
	st->policy_rules = dp->policy->n_rules;
	st->policy_filters = dp->policy->n_filters;
	st->policy_builds = m->builds;
	st->policy_sa_changes = m->sa_changes;
	st->policy_commit_seq = m->commit_seq;
	st->acquires_pending = m->n_acq;
	dp_shm_stats_end(&m->shm);
	dp_stats_ecn_report(&m->ecn, st->counters, now, rte_get_tsc_hz(), stderr);
}
