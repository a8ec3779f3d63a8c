/* dp_mgr.c - the manager's control work put together: the segment and the
 * state created at start (the rule set seeded with dpsecd's own policy, so
 * that edits apply to it until a control plane replaces it), and one round
 * of work per manager loop: heartbeat, commands, acquires, a slice of the
 * SA scan, statistics, reclamation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "dp.h"
#include "dp_mgr.h"
#include "dp_pkt.h"
#include "dp_policy.h"
#include "dp_rcu.h"
#include "neigh.h"
#include "ofl_engine.h"
#include "tunnel_pmtu.h"


static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* dpsecd's own rules become the live rule set, with the ids the boot
 * policy gave them. */
static int seed_rules(struct dp_ctx *dp, char *err, size_t errlen)
{
	const struct cfg_dataplane *cfg = dp->cfg;
	struct dp_ruleset *rs = &dp->mgr->live;

	dp_ruleset_init(rs, cfg->default_action);
	for (uint32_t i = 0; i < cfg->n_rules; i++) {
		struct dpsec_rule r = cfg->rules[i];
		uint32_t sa_out = r.sa_out >= 0 ? (uint32_t)r.sa_out : DPSEC_SA_NONE;

		r.id = dp_cfg_rule_id(i);
		r.n_filters = 0;
		r.filters = NULL;
		if (dp_ruleset_set_rule(rs, &r, sa_out, err, errlen) < 0)
			return -1;
		for (uint32_t f = 0; f < cfg->rules[i].n_filters; f++)
			if (dp_ruleset_add_filter(rs, r.id, f + 1, &cfg->rules[i].filters[f], err, errlen) < 0)
				return -1;
	}
	return 0;
}

int dp_mgr_init(struct dp_ctx *dp, const char *instance, char *err, size_t errlen)
{
	struct dp_mgr *m = calloc(1, sizeof(*m));

	dp->mgr = m;
	if (m == NULL)
		goto nomem;
	m->shm.fd = -1;
	if (dp_shm_create(&m->shm, instance, dp->sas.capacity, dp->n_workers, err, errlen) < 0)
		return -1;
	m->sa = calloc(dp->sas.capacity, sizeof(*m->sa));
	m->crypto = ofl_cpu_create((int)rte_socket_id());
	if (m->sa == NULL || m->crypto == NULL || dp_acq_init(dp) < 0 || dp_pmtu_init(dp) < 0)
		goto nomem;
	m->boot_tsc = rte_get_tsc_cycles();
	m->boot_ns = clock_ns(CLOCK_REALTIME);
	dp_ruleset_init(&m->staged, DPSEC_ACTION_PERMIT);
	return seed_rules(dp, err, errlen);
nomem:
	snprintf(err, errlen, "manager state: out of memory");
	return -1;
}

void dp_mgr_fini(struct dp_ctx *dp)
{
	struct dp_mgr *m = dp->mgr;

	if (m == NULL)
		return;
	dp_acq_fini(dp);
	dp_pmtu_fini(dp);
	dp_ruleset_free(&m->live);
	dp_ruleset_free(&m->staged);
	if (m->have_backup)
		dp_ruleset_free(&m->backup);
	ofl_cpu_free(m->crypto);
	free(m->sa);
	dp_shm_destroy(&m->shm);
	free(m);
	dp->mgr = NULL;
}

bool dp_mgr_inject(struct dp_ctx *dp, struct rte_mbuf *m, uint16_t port)
{
	dp_meta(m)->in_port = (uint8_t)port;
	if (rte_ring_enqueue(dp->inject, m) == 0)
		return true;
	rte_pktmbuf_free(m);
	return false;
}

void dp_mgr_ready(struct dp_ctx *dp)
{
	/* at start the table holds the configuration's SAs, each at its index */
	for (uint32_t i = 0; i < dp->cfg->n_sas && i < dp->sas.capacity; i++)
		if (dp->sas.sa[i] != NULL)
			dp_mgr_sa_installed(dp, i, &dp->cfg->sas[i]);
	dp->mgr->last_stats_tsc = 0;
	dp_life_publish_stats(dp);
	atomic_store(&dp->mgr->shm.hdr->ready, 1);
}

_Static_assert(CFG_MAX_PORTS <= DPSEC_SHM_PORTS,
	       "every network port has a row in the port table");

/* Network port p as its driver tells now, into e; whether its link is
 * up (a driver that cannot tell: taken as up). */
static bool read_port(const struct dp_ctx *dp, uint16_t p, struct dpsec_shm_port *e)
{
	const struct dp_port *port = &dp->ports[p];
	struct rte_eth_link link;
	struct rte_eth_stats st = { 0 };
	bool known = rte_eth_link_get_nowait(port->port_id, &link) == 0;
	bool up = !known || link.link_status == RTE_ETH_LINK_UP;
	bool speed = known && up && link.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN;

	rte_eth_stats_get(port->port_id, &st);
	*e = (struct dpsec_shm_port){
		.role = port->role,
		.link = !known ? DPSEC_LINK_UNKNOWN : up ? DPSEC_LINK_UP : DPSEC_LINK_DOWN,
		.full_duplex = known && up && link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX,
		.mtu = port->mtu,
		.speed_mbps = speed ? link.link_speed : 0,
		.ipackets = st.ipackets, .opackets = st.opackets, .ibytes = st.ibytes,
		.obytes = st.obytes, .imissed = st.imissed, .ierrors = st.ierrors,
		.oerrors = st.oerrors, .rx_nombuf = st.rx_nombuf,
	};
	snprintf(e->name, sizeof(e->name), "%s", port->name);
	memcpy(e->mac, port->mac.addr_bytes, sizeof(e->mac));
	return up;
}

/* Each network port's link, for its addresses' tests and announcements,
 * and the port table, written as read. */
static void read_ports(struct dp_ctx *dp)
{
	struct dpsec_shm_ports *t = dp->mgr->shm.ports;

	dp_shm_ports_begin(&dp->mgr->shm);
	t->n = dp->cfg->n_ports;
	for (uint16_t p = 0; p < dp->cfg->n_ports; p++)
		dp_neigh_link(dp, p, read_port(dp, p, &t->p[p]));
	dp_shm_ports_end(&dp->mgr->shm);
}

/* The ports read (links, counters) and our addresses tested and announced
 * (at start, and when a link comes back); next hops being resolved and
 * learnt neighbours looked at four times a second; anycast answers sent
 * when due; the neighbours published then, and after any change. */
static void neigh_tick(struct dp_ctx *dp)
{
	struct dp_mgr *m = dp->mgr;
	uint64_t now = rte_get_tsc_cycles(), hz = rte_get_tsc_hz();
	bool due = now - m->neigh_scan_tsc >= hz / 4;

	if (due) {
		m->neigh_scan_tsc = now;
		read_ports(dp);
		dp_neigh_announce(dp, now);
		dp_neigh_tick(dp, now);
	}
	dp_neigh_answer_due(dp, now);
	/* what changed is shown within 20 ms, an ARP flood or not */
	if (!due && !(dp_neigh_changed(dp) && now - m->neigh_publish_tsc >= hz / 50))
		return;
	m->neigh_publish_tsc = now;
	dp_shm_neighs_begin(&m->shm);
	dp_neigh_publish(dp, m->shm.neighs, now);
	dp_shm_neighs_end(&m->shm);
}

/* A worker's report of a peer's new NAT mapping (esp_in.c): told to the
 * control plane for an inbound SA IKE negotiated, whose SA_MOVEs follow.
 * Another SA's is left (reported, so its packets say no more); a report
 * the event ring has no room for is forgotten, for a later packet from
 * there to make again. */
static void peer_moved_input(struct dp_ctx *dp, const struct dp_peer_moved *r)
{
	struct dp_sa *sa = r->sa_idx < dp->sas.capacity ? dp->sas.sa[r->sa_idx] : NULL;
	const struct dpsec_sa_conf *c = sa != NULL ? &dp->mgr->shm.sas[r->sa_idx].conf : NULL;
	struct dpsec_ev_peer_moved ev = { .sa_id = r->sa_idx,
					  .udp_sport = rte_be_to_cpu_16(r->port_be),
					  .remote = { .family = r->family } };

	if (c == NULL || !c->negotiated || c->direction != DPSEC_DIR_IN)
		return;
	memcpy(ev.remote.a, r->addr, sizeof(r->addr));
	if (!dp_ev_push(dp, DPSEC_EV_PEER_MOVED, &ev, sizeof(ev))) {
		__atomic_store_n(&sa->natt_reported_be, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&sa->natt_reported_fp, 0, __ATOMIC_RELAXED);
		return;
	}
	dp->mgr_ctr.c[DP_C_natt_peer_moved]++;
}

bool dp_mgr_poll_packets(struct dp_ctx *dp)
{
	struct rte_mbuf *m[DP_BURST];
	struct dp_resolve_req r[DP_BURST];
	struct dp_peer_moved moved[16];
	unsigned int n = rte_ring_dequeue_burst(dp->control, (void **)m, DP_BURST, NULL);
	unsigned int k = rte_ring_dequeue_burst_elem(dp->resolve, r, sizeof(r[0]), DP_BURST, NULL);
	unsigned int p = rte_ring_dequeue_burst_elem(dp->peer_moved, moved, sizeof(moved[0]),
						     RTE_DIM(moved), NULL);

	for (unsigned int i = 0; i < n; i++)
		if (dp_meta(m[i])->flags & DP_M_PMTU)
			dp_pmtu_input(dp, m[i]);
		else
			dp_neigh_input(dp, m[i], rte_rdtsc());
	for (unsigned int i = 0; i < k; i++)
		dp_neigh_resolve(dp, &r[i], rte_rdtsc());
	for (unsigned int i = 0; i < p; i++)
		peer_moved_input(dp, &moved[i]);
	return n + k + p > 0;
}

bool dp_mgr_poll(struct dp_ctx *dp)
{
	struct dp_mgr *m = dp->mgr;
	uint64_t cmd_before = atomic_load_explicit(&m->shm.cmd->tail, memory_order_relaxed);
	bool busy;

	atomic_store_explicit(&m->shm.hdr->heartbeat_ns, clock_ns(CLOCK_MONOTONIC),
			      memory_order_relaxed);
	dp_cmd_poll(dp);
	busy = dp_acq_poll(dp);
	dp_life_scan(dp);
	dp_pmtu_tick(dp);
	neigh_tick(dp);
	dp_life_publish_stats(dp);
	dp_rcu_reclaim(dp);
	return busy || atomic_load_explicit(&m->shm.cmd->tail, memory_order_relaxed) != cmd_before;
}
