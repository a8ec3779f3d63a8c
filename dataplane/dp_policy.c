/* dp_policy.c - compiles a set of rules into the read-only policy the
 * workers use (the SPD and each rule's action, SA and tunnel endpoint), from
 * dpsecd's own configuration or from the manager's rule set, and looks
 * bursts up in it. */
#include <stdio.h>
#include <stdlib.h>

#include <rte_malloc.h>

#include "dp_pkt.h"
#include "dp_policy.h"

static void rule_rt_fill(struct dp_rule_rt *rt, const struct dpsec_rule *r, uint32_t sa_out)
{
	rt->id = r->id;
	rt->action = r->action;
	rt->flags = r->flags;
	rt->tunnel = r->tunnel;
	rt->endpoint = r->tunnel_endpoint;
	rt->sa_out = r->action == DPSEC_ACTION_NEGOTIATE ? sa_out : DP_SA_NONE;
}

bool dp_policy_set_rule_sa(struct dp_policy *p, uint32_t rule_id, uint32_t sa_out)
{
	for (uint32_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].id == rule_id && p->rules[i].action == DPSEC_ACTION_NEGOTIATE) {
			__atomic_store_n(&p->rules[i].sa_out, sa_out, __ATOMIC_RELAXED);
			return true;
		}
	return false;
}

/* Does a filter of r name ports (anything narrower than 0-65535)? */
static bool names_ports(const struct dpsec_rule *r)
{
	for (uint32_t i = 0; i < r->n_filters; i++) {
		const struct dpsec_filter *f = &r->filters[i];

		if (f->sport_lo != 0 || f->sport_hi != UINT16_MAX || f->dport_lo != 0 ||
		    f->dport_hi != UINT16_MAX)
			return true;
	}
	return false;
}

struct dp_policy *dp_policy_build_rules(const struct dpsec_rule *rules, const uint32_t *sa_out,
					uint32_t n_rules, uint8_t default_action,
					const char *name, size_t max_bytes, char *err, size_t errlen)
{
	struct dp_policy *p = rte_zmalloc("dpsec_policy", sizeof(*p), RTE_CACHE_LINE_SIZE);

	if (p == NULL)
		goto nomem;
	p->default_action = default_action;
	p->n_rules = n_rules;
	p->rules = rte_zmalloc("dpsec_rules", sizeof(p->rules[0]) * (n_rules + 1),
			       RTE_CACHE_LINE_SIZE);
	if (p->rules == NULL)
		goto nomem;
	for (uint32_t i = 0; i < n_rules; i++) {
		rule_rt_fill(&p->rules[i], &rules[i], sa_out[i]);
		p->n_filters += rules[i].n_filters;
		p->port_specific |= names_ports(&rules[i]);
	}
	p->spd = dp_spd_build(name, rules, n_rules, SOCKET_ID_ANY, max_bytes, err, errlen);
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

struct dp_policy *dp_policy_build(const struct cfg_dataplane *cfg, const char *name, char *err,
				  size_t errlen)
{
	struct dpsec_rule *rules = calloc(cfg->n_rules + 1, sizeof(*rules));
	uint32_t *sa_out = calloc(cfg->n_rules + 1, sizeof(*sa_out));
	struct dp_policy *p = NULL;

	if (rules == NULL || sa_out == NULL) {
		snprintf(err, errlen, "policy %s: out of memory", name);
		goto out;
	}
	for (uint32_t i = 0; i < cfg->n_rules; i++) {
		rules[i] = cfg->rules[i];
		rules[i].id = dp_cfg_rule_id(i);
		sa_out[i] = cfg->rules[i].sa_out >= 0 ? (uint32_t)cfg->rules[i].sa_out : DP_SA_NONE;
	}
	p = dp_policy_build_rules(rules, sa_out, cfg->n_rules, cfg->default_action, name,
				  dp_policy_max_bytes(cfg), err, errlen);
out:
	free(rules);
	free(sa_out);
	return p;
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
