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

#endif
