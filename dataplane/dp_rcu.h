/* dp_rcu.h - deferred reclamation for the tables workers read without
 * locks. Workers report a quiescent state once per loop (rte_rcu_qsbr); the
 * manager unpublishes an SA, a policy or a neighbour, hands it to
 * dp_rcu_defer_*(), and it is freed once every worker has passed a
 * quiescent state since. */
#ifndef DP_RCU_H
#define DP_RCU_H

#include <stdint.h>

struct dp_ctx;
struct dp_sa;
struct dp_policy;
struct dp_worker;

/* capacity: how many objects may wait at once before the manager blocks
 * for a grace period. Returns 0 or -1. */
int dp_rcu_init(struct dp_ctx *dp, uint32_t capacity);

/* Frees everything still waiting; workers must have stopped. */
void dp_rcu_fini(struct dp_ctx *dp);

void dp_rcu_defer_sa(struct dp_ctx *dp, struct dp_sa *sa);
void dp_rcu_defer_policy(struct dp_ctx *dp, struct dp_policy *p);
/* A neighbour table position dp_neigh_forget gave back. */
void dp_rcu_defer_neigh(struct dp_ctx *dp, int32_t position);

/* Frees what no worker can still hold; never blocks. */
void dp_rcu_reclaim(struct dp_ctx *dp);

/* Worker side: before the loop, once per loop, after the loop. */
void dp_rcu_worker_start(struct dp_worker *w);
void dp_rcu_quiescent(struct dp_worker *w);
void dp_rcu_worker_stop(struct dp_worker *w);

#endif
