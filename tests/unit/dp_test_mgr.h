/* dp_test_mgr.h - a dataplane manager on a shared-memory segment of its
 * own, as dpsecd starts one (its configuration's policy, RCU, dp_mgr_init),
 * for the unit tests that drive the manager through its real rings. */
#ifndef DP_TEST_MGR_H
#define DP_TEST_MGR_H

#include <stdio.h>
#include <stdlib.h>

#include "dp.h"
#include "dp_mgr.h"
#include "dp_policy.h"
#include "dp_rcu.h"
#include "dp_test_worker.h"

/* ctx (its configuration, workers and SA table set) gets the policy of its
 * configuration and a manager on segment instance; aborts saying why. */
static inline void dp_test_mgr_start(struct dp_ctx *ctx, const char *policy_name,
				     const char *instance)
{
	char err[256];

	ctx->policy = dp_policy_build(ctx->cfg, policy_name, err, sizeof(err));
	if (ctx->policy == NULL || dp_rcu_init(ctx, 64) < 0 ||
	    dp_mgr_init(ctx, instance, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", instance, err);
		abort();
	}
}

/* ctx with configuration cfg (no policy: permit), one worker, an SA table
 * of capacity slots and a manager on segment instance, ready for
 * dpsec-ctld (the tests that drive it from control/, cp_test_ctld.h). */
static inline void dp_test_mgr_ready_for_ctld(struct dp_ctx *ctx, struct cfg_dataplane *cfg,
					      struct dp_worker *worker, uint32_t capacity,
					      const char *policy_name, const char *instance)
{
	cfg->default_action = DPSEC_ACTION_PERMIT;
	ctx->cfg = cfg;
	dp_test_worker_init(ctx, worker, capacity, 512); /* its SA counters for every slot */
	ctx->workers[0] = *worker;
	if (dp_sa_table_init(&ctx->sas, capacity, SOCKET_ID_ANY) < 0)
		abort();
	dp_test_mgr_start(ctx, policy_name, instance);
	dp_mgr_ready(ctx);
}

#endif
