/* dp_test_worker.h - the context a unit test runs the real ESP burst
 * functions in: the EAL, mbuf pools with dpsec's per-packet metadata (the
 * packet buffers, and the big ones of packets made whole), and
 * one worker with its crypto engine, global counters and per-SA counters
 * (more workers: dp_test_worker_add), the ring of its reports of peers'
 * new NAT mappings.
 * The test adds its SA table, and its policy (or the one-tunnel policy
 * below). */
#ifndef DP_TEST_WORKER_H
#define DP_TEST_WORKER_H

#include <stdio.h>
#include <stdlib.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring_elem.h>

#include "dp.h"
#include "dp_pkt.h"
#include "dp_policy.h"
#include "eal_setup.h"
#include "ofl_engine.h"
#include "reass.h"

/* A worker's own parts: its crypto engine, global counters and per-SA
 * counters for n_sas slots. Aborts when something cannot be made. */
static inline void dp_test_worker_add(struct dp_worker *w, uint32_t n_sas)
{
	w->crypto = ofl_cpu_create(SOCKET_ID_ANY);
	w->ctr = rte_zmalloc(NULL, sizeof(*w->ctr), 64);
	w->sa_ctr = rte_zmalloc(NULL, sizeof(*w->sa_ctr) * n_sas, 64);
	if (!w->crypto || !w->ctr || !w->sa_ctr)
		abort();
}

/* Call once; exits the program when something cannot be made. */
static inline void dp_test_worker_init(struct dp_ctx *ctx, struct dp_worker *w, uint32_t n_sas,
				       unsigned int mbufs)
{
	dp_test_eal_init();
	ctx->n_workers = 1;
	dp_g = ctx;
	ctx->pool = rte_pktmbuf_pool_create("t", mbufs, 0, DP_META_SIZE, 2048 + 128, SOCKET_ID_ANY);
	ctx->big_pool = dp_reass_big_pool_create("tb", SOCKET_ID_ANY);
	ctx->peer_moved = rte_ring_create_elem("tm", sizeof(struct dp_peer_moved), 64,
					       SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (!ctx->pool || !ctx->big_pool || !ctx->peer_moved)
		abort();
	dp_test_worker_add(w, n_sas);
}

/* The policy of a test with one tunnel: one negotiate rule for all IPv4
 * traffic, its outbound SA in slot 0 and its inbound SA in slot 1 (bound
 * to it as dp_cfg_rule_id(0)). Call once; exits the program on failure. */
static inline void dp_test_one_rule_policy(struct dp_ctx *ctx, const char *name)
{
	static struct cfg_dataplane cfg;
	static struct dpsec_filter f;
	static struct dpsec_rule r;
	char err[256];

	f.src.addr.family = f.dst.addr.family = DPSEC_AF_INET;
	f.mirrored = true;
	f.sport_hi = f.dport_hi = 65535;
	r = (struct dpsec_rule){ .action = DPSEC_ACTION_NEGOTIATE, .tunnel = true, .n_filters = 1,
				 .filters = &f, .sa_out = 0, .sa_in = 1 };
	cfg.n_rules = 1;
	cfg.rules = &r;
	ctx->cfg = &cfg;
	ctx->policy = dp_policy_build(&cfg, name, err, sizeof(err));
	if (ctx->policy == NULL) {
		fprintf(stderr, "%s: policy: %s\n", name, err);
		exit(EXIT_FAILURE);
	}
}

#endif
