/* dp_policy.h - the compiled policy the workers read: the SPD and, per rule,
 * the action, outbound SA and tunnel endpoint; and the burst lookup that
 * sets meta.rule. */
#ifndef DP_POLICY_H
#define DP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "cfg.h"
#include "dp.h"

/* Rules of dpsecd's own configuration get the ids 1, 2, ... in file order. */
static inline uint32_t dp_cfg_rule_id(uint32_t index)
{
	return index + 1;
}

/* Compiles rules (sa_out[i]: rule i's outbound SA id, or DP_SA_NONE). name
 * must be unique among live policies; max_bytes bounds each family's
 * classifier (0: no bound). Returns NULL with a message in err. */
struct dp_policy *dp_policy_build_rules(const struct dpsec_rule *rules, const uint32_t *sa_out,
					uint32_t n_rules, uint8_t default_action,
					const char *name, size_t max_bytes, char *err, size_t errlen);

/* What dataplane.policy_memory_mb allows one family's classifier, in bytes
 * (0: no bound). */
static inline size_t dp_policy_max_bytes(const struct cfg_dataplane *cfg)
{
	return (size_t)cfg->opts.policy_memory_mb << 20;
}

/* Compiles the configuration's rules. Static SAs live at the SA table slot of
 * their index in the configuration. Returns NULL with a message in err. */
struct dp_policy *dp_policy_build(const struct cfg_dataplane *cfg, const char *name, char *err,
				  size_t errlen);
void dp_policy_free(struct dp_policy *p);

/* Rule rule_id's outbound SA, changed in p while workers use it (they read
 * it with relaxed loads; an SA they found stays theirs until their next
 * quiescent state). Returns false when p has no negotiate rule of that id. */
bool dp_policy_set_rule_sa(struct dp_policy *p, uint32_t rule_id, uint32_t sa_out);

/* The SA table slot of rule r's outbound SA (DP_SA_NONE: none; the slot
 * may hold no SA yet). */
static inline uint32_t dp_rule_sa_id(const struct dp_rule_rt *r)
{
	return __atomic_load_n(&r->sa_out, __ATOMIC_RELAXED);
}

/* Sets dp_meta.rule of each (parsed) packet: a rule index or DP_SPD_NO_MATCH. */
void dp_policy_lookup(const struct dp_policy *p, struct rte_mbuf **mb, uint16_t n);

static inline uint8_t dp_policy_action(const struct dp_policy *p, uint32_t rule)
{
	return rule < p->n_rules ? p->rules[rule].action : p->default_action;
}

#endif
