/* dp_test_worker.h - the context a unit test runs the real ESP burst
 * functions in: the EAL, mbuf pools with dpsec's per-packet metadata (the
 * packet buffers, and the big ones of packets made whole), and
 * one worker with its crypto engine, global counters and per-SA counters.
 * The test adds its SA table and policy. */
#ifndef DP_TEST_WORKER_H
#define DP_TEST_WORKER_H

#include <stdlib.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "dp_pkt.h"
#include "eal_setup.h"
#include "ofl_engine.h"
#include "reass.h"

/* Call once; exits the program when something cannot be made. */
static inline void dp_test_worker_init(struct dp_ctx *ctx, struct dp_worker *w, uint32_t n_sas,
				       unsigned int mbufs)
{
	dp_test_eal_init();
	ctx->n_workers = 1;
	dp_g = ctx;
	ctx->pool = rte_pktmbuf_pool_create("t", mbufs, 0, DP_META_SIZE, 2048 + 128, SOCKET_ID_ANY);
	ctx->big_pool = dp_reass_big_pool_create("tb", SOCKET_ID_ANY);
	w->crypto = ofl_cpu_create(SOCKET_ID_ANY);
	w->ctr = rte_zmalloc(NULL, sizeof(*w->ctr), 64);
	w->sa_ctr = rte_zmalloc(NULL, sizeof(*w->sa_ctr) * n_sas, 64);
	if (!ctx->pool || !ctx->big_pool || !w->crypto || !w->ctr || !w->sa_ctr)
		abort();
}

#endif
