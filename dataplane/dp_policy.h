/* dp_policy.h - the compiled policy the workers read: the SPD and, per rule,
 * the action and SA bundle; and the burst lookup that sets meta.rule. */
#ifndef DP_POLICY_H
#define DP_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "cfg.h"
#include "dp.h"

/* Compiles the configuration's rules. Static SAs live at the SA table slot of
 * their index in the configuration. Returns NULL with a message in err. */
struct dp_policy *dp_policy_build(const struct cfg_dataplane *cfg, const char *name, char *err,
				  size_t errlen);
void dp_policy_free(struct dp_policy *p);

/* Sets dp_meta.rule of each (parsed) packet: a rule index or DP_SPD_NO_MATCH. */
void dp_policy_lookup(const struct dp_policy *p, struct rte_mbuf **mb, uint16_t n);

static inline uint8_t dp_policy_action(const struct dp_policy *p, uint32_t rule)
{
	return rule < p->n_rules ? p->rules[rule].action : p->default_action;
}

#endif
