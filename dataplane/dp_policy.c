/* dp_policy.c - compiles the policy for the workers and looks bursts up. */
#include <stdio.h>
#include <stdlib.h>

#include <rte_malloc.h>

#include "dp_pkt.h"
#include "dp_policy.h"

struct dp_policy *dp_policy_build(const struct cfg_dataplane *cfg, const char *name, char *err,
				  size_t errlen)
{
	struct dp_policy *p = rte_zmalloc("dpsec_policy", sizeof(*p), RTE_CACHE_LINE_SIZE);

	if (p == NULL)
		goto nomem;
	p->default_action = cfg->default_action;
	p->n_rules = cfg->n_rules;
	p->rules = rte_zmalloc("dpsec_rules", sizeof(p->rules[0]) * (cfg->n_rules + 1),
			       RTE_CACHE_LINE_SIZE);
	if (p->rules == NULL)
		goto nomem;
	for (uint32_t i = 0; i < cfg->n_rules; i++) {
		const struct dpsec_rule *r = &cfg->rules[i];

		p->rules[i].action = r->action;
		p->rules[i].sa_out = r->sa_out >= 0 ? (uint32_t)r->sa_out : DP_SA_NONE;
		p->rules[i].sa_in = r->sa_in >= 0 ? (uint32_t)r->sa_in : DP_SA_NONE;
	}
	p->spd = dp_spd_build(name, cfg->rules, cfg->n_rules, SOCKET_ID_ANY, err, errlen);
	if (p->spd == NULL) {
		dp_policy_free(p);
		return NULL;
	}
	return p;
nomem:
	snprintf(err, errlen, "policy %s: out of memory", name);
	dp_policy_free(p);
	return NULL;
}

void dp_policy_free(struct dp_policy *p)
{
	if (p == NULL)
		return;
	dp_spd_free(p->spd);
	rte_free(p->rules);
	rte_free(p);
}

void dp_policy_lookup(const struct dp_policy *p, struct rte_mbuf **mb, uint16_t n)
{
	const struct dp_spd_key4 *k4[DP_BURST];
	const struct dp_spd_key6 *k6[DP_BURST];
	uint32_t r4[DP_BURST], r6[DP_BURST];
	uint16_t i4[DP_BURST], i6[DP_BURST];
	uint16_t n4 = 0, n6 = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct dp_meta *md = dp_meta(mb[i]);

		if (md->family == DPSEC_AF_INET6) {
			i6[n6] = i;
			k6[n6++] = &md->key.k6;
		} else {
			i4[n4] = i;
			k4[n4++] = &md->key.k4;
		}
	}
	if (n4)
		dp_spd_lookup4(p->spd, k4, r4, n4);
	if (n6)
		dp_spd_lookup6(p->spd, k6, r6, n6);
	for (uint16_t j = 0; j < n4; j++)
		dp_meta(mb[i4[j]])->rule = r4[j];
	for (uint16_t j = 0; j < n6; j++)
		dp_meta(mb[i6[j]])->rule = r6[j];
}
