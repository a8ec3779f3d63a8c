/* dp_rcu.c - grace periods (rte_rcu_qsbr) and the defer queue of objects
 * the manager took out of the workers' tables. */
#include <stdio.h>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "dp.h"
#include "dp_policy.h"
#include "dp_rcu.h"

enum gc_kind { GC_SA, GC_POLICY, GC_NEIGH };

struct gc_item {
	uint32_t kind; /* enum gc_kind */
	int32_t position; /* GC_NEIGH: the neighbour table's */
	void *ptr;
};

static void gc_free_one(struct dp_ctx *dp, const struct gc_item *it)
{
	if (it->kind == GC_SA)
		dp_sa_destroy(&dp->sas, it->ptr);
	else if (it->kind == GC_POLICY)
		dp_policy_free(it->ptr);
	else
		dp_neigh_free_position(&dp->routes, it->position);
}

static void gc_free(void *p, void *e, unsigned int n)
{
	const struct gc_item *it = e;

	for (unsigned int i = 0; i < n; i++)
		gc_free_one(p, &it[i]);
}

int dp_rcu_init(struct dp_ctx *dp, uint32_t capacity)
{
	size_t sz = rte_rcu_qsbr_get_memsize(dp->n_workers);
	char name[RTE_RCU_QSBR_DQ_NAMESIZE];
	struct rte_rcu_qsbr_dq_parameters params = {
		.name = name,
		.size = capacity,
		.esize = sizeof(struct gc_item),
		.trigger_reclaim_limit = 0,
		.max_reclaim_size = 256,
		.free_fn = gc_free,
		.p = dp,
	};

	dp->rcu = rte_zmalloc("dpsec_rcu", sz, RTE_CACHE_LINE_SIZE);
	if (dp->rcu == NULL || rte_rcu_qsbr_init(dp->rcu, dp->n_workers) != 0)
		return -1;
	snprintf(name, sizeof(name), "dpsec_gc");
	params.v = dp->rcu;
	dp->gc = rte_rcu_qsbr_dq_create(&params);
	return dp->gc != NULL ? 0 : -1;
}

void dp_rcu_fini(struct dp_ctx *dp)
{
	unsigned int freed, pending, avail;

	if (dp->gc != NULL) {
		rte_rcu_qsbr_dq_reclaim(dp->gc, UINT32_MAX, &freed, &pending, &avail);
		rte_rcu_qsbr_dq_delete(dp->gc); /* frees what is left: workers are gone */
	}
	rte_free(dp->rcu);
	dp->gc = NULL;
	dp->rcu = NULL;
}

static void defer(struct dp_ctx *dp, struct gc_item it)
{
	if (rte_rcu_qsbr_dq_enqueue(dp->gc, &it) == 0)
		return;
	/* the queue is full even after reclaiming: wait out one grace period */
	rte_rcu_qsbr_synchronize(dp->rcu, RTE_QSBR_THRID_INVALID);
	gc_free_one(dp, &it);
}

void dp_rcu_defer_sa(struct dp_ctx *dp, struct dp_sa *sa)
{
	defer(dp, (struct gc_item){ .kind = GC_SA, .ptr = sa });
}

void dp_rcu_defer_policy(struct dp_ctx *dp, struct dp_policy *p)
{
	defer(dp, (struct gc_item){ .kind = GC_POLICY, .ptr = p });
}

void dp_rcu_defer_neigh(struct dp_ctx *dp, int32_t position)
{
	defer(dp, (struct gc_item){ .kind = GC_NEIGH, .position = position });
}

void dp_rcu_reclaim(struct dp_ctx *dp)
{
	unsigned int freed, pending, avail;

	rte_rcu_qsbr_dq_reclaim(dp->gc, 256, &freed, &pending, &avail);
}

void dp_rcu_worker_start(struct dp_worker *w)
{
	if (dp_g->rcu == NULL)
		return;
	rte_rcu_qsbr_thread_register(dp_g->rcu, w->index);
	rte_rcu_qsbr_thread_online(dp_g->rcu, w->index);
}

void dp_rcu_quiescent(struct dp_worker *w)
{
	if (dp_g->rcu != NULL)
		rte_rcu_qsbr_quiescent(dp_g->rcu, w->index);
}

void dp_rcu_worker_stop(struct dp_worker *w)
{
	if (dp_g->rcu == NULL)
		return;
	rte_rcu_qsbr_thread_offline(dp_g->rcu, w->index);
	rte_rcu_qsbr_thread_unregister(dp_g->rcu, w->index);
}
