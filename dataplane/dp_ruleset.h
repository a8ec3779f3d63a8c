/* dp_ruleset.h - the manager lcore's editable copy of the policy: rules by
 * stable id, each with its filters by id. Commands from the control plane
 * edit it (a whole new set staged by POLICY_BEGIN, or the live one changed
 * rule by rule); dp_policy_build_rules() then compiles it into the read-only
 * policy the workers use. Ordinary heap memory: never read by workers. */
#ifndef DP_RULESET_H
#define DP_RULESET_H

#include <stddef.h>
#include <stdint.h>

#include "dpsec_model.h"

struct dp_rs_rule {
	struct dpsec_rule r;    /* r.filters / r.n_filters: this rule's filters */
	uint32_t sa_out;        /* SA id or DPSEC_SA_NONE */
	uint32_t *filter_ids;   /* parallel to r.filters */
	uint32_t cap_filters;
};

struct dp_ruleset {
	uint8_t default_action;
	uint32_t n, cap;
	struct dp_rs_rule *rules;
	uint64_t n_filters;
};

void dp_ruleset_init(struct dp_ruleset *rs, uint8_t default_action);
void dp_ruleset_clear(struct dp_ruleset *rs, uint8_t default_action);
void dp_ruleset_free(struct dp_ruleset *rs);
int dp_ruleset_copy(struct dp_ruleset *dst, const struct dp_ruleset *src);

/* Each returns 0, or -errno with a sentence in err (nothing changed). */
int dp_ruleset_set_rule(struct dp_ruleset *rs, const struct dpsec_rule *r, uint32_t sa_out,
			char *err, size_t errlen);
int dp_ruleset_del_rule(struct dp_ruleset *rs, uint32_t rule_id, char *err, size_t errlen);
int dp_ruleset_add_filter(struct dp_ruleset *rs, uint32_t rule_id, uint32_t filter_id,
			  const struct dpsec_filter *f, char *err, size_t errlen);
/* The outbound SA of negotiate rule rule_id. */
int dp_ruleset_set_sa(struct dp_ruleset *rs, uint32_t rule_id, uint32_t sa_out, char *err,
		      size_t errlen);
int dp_ruleset_del_filter(struct dp_ruleset *rs, uint32_t rule_id, uint32_t filter_id,
			  char *err, size_t errlen);

#endif
