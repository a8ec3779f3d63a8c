/* dp_setup.c - what dpsecd builds from its configuration before its
 * lcores start, and takes down at exit: the packet pools, the rings
 * between workers and manager, the SA table and its sequence store, the
 * workers' state, the ports, routes and neighbours, the SAs of the
 * configuration, the policy, RCU and the manager with its shared-memory
 * segment. main.c and the whole-pipeline fuzz target run the same
 * code. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dp_setup.h"
#include "dp_mgr.h"
#include "dp_pkt.h"
#include "dp_policy.h"
#include "dp_rcu.h"
#include "frag_track.h"
#include "neigh.h"
#include "ofl_engine.h"
#include "port.h"
#include "reass.h"
#include "stats.h"

#define POOL_CACHE 256
#define SA_DEFAULT_CAPACITY 4096

static int setup_pool(struct dp_ctx *dp, uint32_t mbufs)
{
	uint32_t room = RTE_MBUF_DEFAULT_DATAROOM;

	for (uint32_t i = 0; i < dp->cfg->n_ports; i++)
		room = RTE_MAX(room, (uint32_t)dp->cfg->ports[i].mtu + 256u);
	dp->pool = rte_pktmbuf_pool_create("dpsec_mbufs", mbufs ? mbufs : DP_POOL_MBUFS, POOL_CACHE, DP_META_SIZE,
					   (uint16_t)(room + RTE_PKTMBUF_HEADROOM), rte_socket_id());
	dp->big_pool = dp_reass_big_pool_create("dpsec_big", rte_socket_id());
	return dp->pool && dp->big_pool ? 0 : -1;
}

static int setup_rings(struct dp_ctx *dp)
{
	dp->control = rte_ring_create("dpsec_ctl", 1024, rte_socket_id(), RING_F_SC_DEQ);
	dp->resolve = rte_ring_create_elem("dpsec_res", sizeof(struct dp_resolve_req), 256,
					   rte_socket_id(), RING_F_SC_DEQ);
	dp->peer_moved = rte_ring_create_elem("dpsec_moved", sizeof(struct dp_peer_moved), 256,
					      rte_socket_id(), RING_F_SC_DEQ);
	dp->inject = rte_ring_create("dpsec_inj", 1024, rte_socket_id(),
				     RING_F_SP_ENQ | RING_F_SC_DEQ);
	dp->acquire = rte_ring_create("dpsec_acq", 1024, rte_socket_id(), RING_F_SC_DEQ);
	dp->reinject = rte_ring_create("dpsec_reinj", 1024, rte_socket_id(),
				       RING_F_SP_ENQ | RING_F_SC_DEQ);
	dp->reroute = rte_ring_create("dpsec_rerte", 1024, rte_socket_id(),
				      RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!dp->control || !dp->resolve || !dp->peer_moved || !dp->inject || !dp->acquire ||
	    !dp->reinject)
		return -1;
	return dp->reroute != NULL ? 0 : -1;
}

/* Assigns lcores to workers and spreads the ports' rx queues over them. */
static int setup_workers(struct dp_ctx *dp)
{
	unsigned int lcore;
	uint16_t n = 0;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (n == dp->n_workers)
			break;
		struct dp_worker *w = &dp->workers[n];

		w->lcore_id = lcore;
		w->index = n++;
		w->crypto = ofl_cpu_create((int)rte_lcore_to_socket_id(lcore));
		w->ctr = rte_zmalloc("dpsec_ctr", sizeof(*w->ctr), RTE_CACHE_LINE_SIZE);
		w->sa_ctr = rte_zmalloc("dpsec_sactr", sizeof(*w->sa_ctr) * dp->sas.capacity,
					RTE_CACHE_LINE_SIZE);
		w->snap = rte_zmalloc("dpsec_snap", sizeof(*w->snap), RTE_CACHE_LINE_SIZE);
		if (w->crypto == NULL || w->ctr == NULL || w->sa_ctr == NULL || w->snap == NULL ||
		    dp_reass_init(w, dp->reass_timeout_tsc, (int)rte_lcore_to_socket_id(lcore)) != 0 ||
		    dp_frag_track_init(w, (int)rte_lcore_to_socket_id(lcore)) != 0)
			return -1;
	}
	return n == dp->n_workers ? 0 : -1;
}

static void assign_queues(struct dp_ctx *dp)
{
	for (uint16_t p = 0; p < dp->n_ports; p++)
		for (uint16_t q = 0; q < dp->ports[p].nb_rxq; q++) {
			struct dp_worker *w = &dp->workers[q % dp->n_workers];

			w->rxq[w->n_rxq].port = p;
			w->rxq[w->n_rxq++].queue = q;
		}
}

/* Connected routes from the ports' addresses, then the configured ones. */
static int setup_routes(struct dp_ctx *dp)
{
	const struct cfg_dataplane *cfg = dp->cfg;

	if (dp_routes_init(&dp->routes, "dpsec", (int)rte_socket_id()) < 0 || dp_neigh_init(dp) < 0)
		return -1;
	for (uint32_t i = 0; i < cfg->n_ports; i++)
		for (uint32_t j = 0; j < cfg->ports[i].n_addrs; j++)
			if (dp_route_add(&dp->routes, &cfg->ports[i].addrs[j], (uint16_t)i, NULL) < 0)
				return -1;
	for (uint32_t i = 0; i < cfg->n_routes; i++)
		if (dp_route_add(&dp->routes, &cfg->routes[i].dst, cfg->routes[i].port,
				 &cfg->routes[i].via) < 0)
			return -1;
	return dp_neigh_static(dp);
}

/* The rule whose inbound SA the configuration's SA idx is, by rule id. */
static uint32_t cfg_sa_rule(const struct cfg_dataplane *cfg, uint32_t idx)
{
	for (uint32_t r = 0; r < cfg->n_rules; r++)
		if (cfg->rules[r].sa_in == (int32_t)idx)
			return dp_cfg_rule_id(r);
	return 0;
}

/* Concurrent dpsecd processes already differ by EAL file prefix (the last
 * element of the runtime directory): the instance follows it by default. */
static const char *eal_file_prefix(void)
{
	const char *dir = rte_eal_get_runtime_dir();
	const char *slash = strrchr(dir, '/');

	return slash != NULL ? slash + 1 : dir;
}

/* Where static keys' sequence numbers are reserved: the configured file,
 * /var/lib/dpsec/INSTANCE.seq by default, or none (said once: a restart
 * then starts those keys' numbers at 1 again); the keys shared between
 * installed SAs are refused either way. */
static int setup_seq_store(struct dp_ctx *dp, const char *instance, char *err, size_t errlen)
{
	const struct cfg_dataplane_opts *o = &dp->cfg->opts;
	char path[PATH_MAX];

	if (o->sequence_file_off) {
		printf("dpsecd: sequence_file \"none\": static keys' sequence numbers start at 1 with "
		       "every dpsecd, which with AES-GCM repeats nonces under the same key\n");
		return dp_seq_store_open(&dp->sas.seq_store, NULL, err, errlen);
	}
	if (o->sequence_file[0])
		snprintf(path, sizeof(path), "%s", o->sequence_file);
	else
		snprintf(path, sizeof(path), "/var/lib/dpsec/%s.seq", instance);
	return dp_seq_store_open(&dp->sas.seq_store, path, err, errlen);
}

static int install_sas(struct dp_ctx *dp, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < dp->cfg->n_sas; i++) {
		if (dp_sa_install(&dp->sas, dp->workers[0].crypto, i, &dp->cfg->sas[i],
				  cfg_sa_rule(dp->cfg, i), NULL, err, errlen) < 0)
			return -1;
		dp->key_additions++;
	}
	return dp_sa_grants_commit(&dp->sas, err, errlen) < 0 ? -1 : 0;
}

/* The SA table and SAD, sized once; what they took is reported (bytes per SA). */
static int setup_sa_table(struct dp_ctx *dp, uint32_t capacity)
{
	uint64_t before = dp_heap_allocated();

	if (dp_sa_table_init(&dp->sas, capacity, SOCKET_ID_ANY) < 0)
		return -1;
	dp->sa_table_bytes = dp_heap_allocated() - before;
	return 0;
}

int dp_setup(struct dp_ctx *dp, const struct dp_setup_opts *o, char *err, size_t errlen)
{
	uint32_t cap = RTE_MAX(dp->cfg->n_sas, o->max_sas ? o->max_sas : SA_DEFAULT_CAPACITY);
	const char *instance = o->instance ? o->instance : eal_file_prefix();

	dp->n_workers = (uint16_t)dp->cfg->opts.workers;
	dp->busy_poll = dp->cfg->opts.idle == CFG_IDLE_BUSY;
	dp->stall_tsc = rte_get_tsc_hz() / 1000000 * (o->stall_us ? o->stall_us : DP_STALL_US);
	dp->idle_sleep_us = dp->cfg->opts.idle_sleep_us;
	dp->reass_timeout_tsc = rte_get_tsc_hz() / 1000 * dp->cfg->opts.reassembly_timeout_ms;
	if (rte_lcore_count() < dp->n_workers + 1u) {
		snprintf(err, errlen, "%u workers need %u lcores (one manager), EAL gave %u: use -l",
			 dp->n_workers, dp->n_workers + 1, rte_lcore_count());
		return -1;
	}
	if (setup_pool(dp, o->mbufs) < 0 || setup_rings(dp) < 0 || setup_sa_table(dp, cap) < 0 ||
	    setup_workers(dp) < 0) {
		snprintf(err, errlen, "out of memory (or the crypto engine failed): try a larger -m");
		return -1;
	}
	if (dp_ports_setup(dp, err, errlen) < 0)
		return -1;
	assign_queues(dp);
	if (setup_routes(dp) < 0) {
		snprintf(err, errlen, "route or neighbour table full");
		return -1;
	}
	if (setup_seq_store(dp, instance, err, errlen) < 0 || install_sas(dp, err, errlen) < 0)
		return -1;
	dp->policy = dp_policy_build(dp->cfg, "dpsec_spd", err, errlen);
	if (dp->policy == NULL)
		return -1;
	if (dp_rcu_init(dp, 2 * cap + 1024) < 0) {
		snprintf(err, errlen, "RCU: out of memory");
		return -1;
	}
	return dp_mgr_init(dp, instance, err, errlen);
}

void dp_teardown(struct dp_ctx *dp)
{
	struct dp_seq_store *seq;

	dp_ports_close(dp);
	dp_mgr_fini(dp);
	dp_neigh_fini(dp);
	dp_rcu_fini(dp);
	dp_policy_free(dp->policy);
	seq = dp->sas.seq_store;
	dp_sa_table_fini(&dp->sas);
	dp_seq_store_close(seq);
	dp_routes_fini(&dp->routes);
	for (uint16_t w = 0; w < dp->n_workers; w++) {
		ofl_cpu_free(dp->workers[w].crypto);
		rte_free(dp->workers[w].ctr);
		rte_free(dp->workers[w].sa_ctr);
		rte_free(dp->workers[w].snap);
		dp_reass_fini(&dp->workers[w]);
		dp_frag_track_fini(&dp->workers[w]);
	}
	rte_ring_free(dp->control);
	rte_ring_free(dp->resolve);
	rte_ring_free(dp->peer_moved);
	rte_ring_free(dp->inject);
	rte_ring_free(dp->acquire);
	rte_ring_free(dp->reinject);
	rte_ring_free(dp->reroute);
	rte_mempool_free(dp->pool);
	rte_mempool_free(dp->big_pool);
}
