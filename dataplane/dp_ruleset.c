/* dp_ruleset.c - the manager's editable policy: rules and filters by id. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_ruleset.h"
#include "spd.h"

void dp_ruleset_init(struct dp_ruleset *rs, uint8_t default_action)
{
	memset(rs, 0, sizeof(*rs));
	rs->default_action = default_action;
}

static void rule_free(struct dp_rs_rule *r)
{
	free(r->r.filters);
	free(r->filter_ids);
}

void dp_ruleset_clear(struct dp_ruleset *rs, uint8_t default_action)
{
	for (uint32_t i = 0; i < rs->n; i++)
		rule_free(&rs->rules[i]);
	rs->n = 0;
	rs->n_filters = 0;
	rs->default_action = default_action;
}

void dp_ruleset_free(struct dp_ruleset *rs)
{
	dp_ruleset_clear(rs, rs->default_action);
	free(rs->rules);
	memset(rs, 0, sizeof(*rs));
}

static int rule_copy(struct dp_rs_rule *dst, const struct dp_rs_rule *src)
{
	uint32_t n = src->r.n_filters;

	*dst = *src;
	dst->cap_filters = n;
	dst->r.filters = n ? malloc(n * sizeof(*dst->r.filters)) : NULL;
	dst->filter_ids = n ? malloc(n * sizeof(*dst->filter_ids)) : NULL;
	if (n && (dst->r.filters == NULL || dst->filter_ids == NULL)) {
		rule_free(dst);
		return -ENOMEM;
	}
	if (n) {
		memcpy(dst->r.filters, src->r.filters, n * sizeof(*dst->r.filters));
		memcpy(dst->filter_ids, src->filter_ids, n * sizeof(*dst->filter_ids));
	}
	return 0;
}

int dp_ruleset_copy(struct dp_ruleset *dst, const struct dp_ruleset *src)
{
	dp_ruleset_init(dst, src->default_action);
	dst->rules = calloc(src->n ? src->n : 1, sizeof(*dst->rules));
	if (dst->rules == NULL)
		return -ENOMEM;
	dst->cap = src->n ? src->n : 1;
	for (uint32_t i = 0; i < src->n; i++) {
		if (rule_copy(&dst->rules[i], &src->rules[i]) < 0) {
			dp_ruleset_free(dst);
			return -ENOMEM;
		}
		dst->n++;
	}
	dst->n_filters = src->n_filters;
	return 0;
}

static struct dp_rs_rule *find_rule(struct dp_ruleset *rs, uint32_t id)
{
	for (uint32_t i = 0; i < rs->n; i++)
		if (rs->rules[i].r.id == id)
			return &rs->rules[i];
	return NULL;
}

static const char *rule_problem(const struct dpsec_rule *r)
{
	if (memchr(r->name, 0, sizeof(r->name)) == NULL)
		return "name not terminated";
	if (r->action > DPSEC_ACTION_NEGOTIATE)
		return "action unknown";
	if (r->flags & ~(DPSEC_RULE_EXEMPT | DPSEC_RULE_ACCEPT_UNSECURED))
		return "unknown flags";
	if (r->tunnel && r->tunnel_endpoint.family != DPSEC_AF_INET &&
	    r->tunnel_endpoint.family != DPSEC_AF_INET6)
		return "tunnel rule without a tunnel endpoint";
	return NULL;
}

static int grow_rules(struct dp_ruleset *rs)
{
	uint32_t cap = rs->cap ? rs->cap * 2 : 16;
	struct dp_rs_rule *r;

	if (rs->n < rs->cap)
		return 0;
	r = realloc(rs->rules, cap * sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	rs->rules = r;
	rs->cap = cap;
	return 0;
}

int dp_ruleset_set_rule(struct dp_ruleset *rs, const struct dpsec_rule *r, uint32_t sa_out,
			char *err, size_t errlen)
{
	const char *problem = rule_problem(r);
	struct dp_rs_rule *cur = find_rule(rs, r->id);

	if (problem != NULL) {
		snprintf(err, errlen, "rule %u: %s", r->id, problem);
		return -EINVAL;
	}
	if (cur == NULL) {
		if (grow_rules(rs) < 0) {
			snprintf(err, errlen, "rule %u: out of memory", r->id);
			return -ENOMEM;
		}
		cur = &rs->rules[rs->n++];
		memset(cur, 0, sizeof(*cur));
	}
	/* a replaced rule keeps its filters */
	struct dpsec_filter *filters = cur->r.filters;
	uint32_t n_filters = cur->r.n_filters;

	cur->r = *r;
	cur->r.filters = filters;
	cur->r.n_filters = n_filters;
	cur->r.sa_out = cur->r.sa_in = -1;
	cur->sa_out = sa_out;
	return 0;
}

int dp_ruleset_set_sa(struct dp_ruleset *rs, uint32_t rule_id, uint32_t sa_out, char *err,
		      size_t errlen)
{
	struct dp_rs_rule *cur = find_rule(rs, rule_id);

	if (cur == NULL) {
		snprintf(err, errlen, "rule %u: no such rule", rule_id);
		return -ENOENT;
	}
	if (cur->r.action != DPSEC_ACTION_NEGOTIATE) {
		snprintf(err, errlen, "rule %u: not a negotiate rule: it carries no SA", rule_id);
		return -EINVAL;
	}
	cur->sa_out = sa_out;
	return 0;
}

int dp_ruleset_del_rule(struct dp_ruleset *rs, uint32_t rule_id, char *err, size_t errlen)
{
	struct dp_rs_rule *cur = find_rule(rs, rule_id);

	if (cur == NULL) {
		snprintf(err, errlen, "rule %u: no such rule", rule_id);
		return -ENOENT;
	}
	rs->n_filters -= cur->r.n_filters;
	rule_free(cur);
	*cur = rs->rules[--rs->n];
	return 0;
}

static int grow_filters(struct dp_rs_rule *r)
{
	uint32_t cap = r->cap_filters ? r->cap_filters * 2 : 4;
	struct dpsec_filter *f;
	uint32_t *ids;

	if (r->r.n_filters < r->cap_filters)
		return 0;
	f = realloc(r->r.filters, cap * sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	r->r.filters = f;
	ids = realloc(r->filter_ids, cap * sizeof(*ids));
	if (ids == NULL)
		return -ENOMEM;
	r->filter_ids = ids;
	r->cap_filters = cap;
	return 0;
}

static int find_filter(const struct dp_rs_rule *r, uint32_t filter_id)
{
	for (uint32_t i = 0; i < r->r.n_filters; i++)
		if (r->filter_ids[i] == filter_id)
			return (int)i;
	return -1;
}

int dp_ruleset_add_filter(struct dp_ruleset *rs, uint32_t rule_id, uint32_t filter_id,
			  const struct dpsec_filter *f, char *err, size_t errlen)
{
	struct dp_rs_rule *cur = find_rule(rs, rule_id);
	char why[128];

	if (cur == NULL) {
		snprintf(err, errlen, "filter %u: no rule %u", filter_id, rule_id);
		return -ENOENT;
	}
	if (find_filter(cur, filter_id) >= 0) {
		snprintf(err, errlen, "rule %u: filter %u exists", rule_id, filter_id);
		return -EEXIST;
	}
	if (dp_spd_filter_check(f, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "rule %u filter %u: %s", rule_id, filter_id, why);
		return -EINVAL;
	}
	if (grow_filters(cur) < 0) {
		snprintf(err, errlen, "rule %u: out of memory", rule_id);
		return -ENOMEM;
	}
	cur->r.filters[cur->r.n_filters] = *f;
	cur->filter_ids[cur->r.n_filters++] = filter_id;
	rs->n_filters++;
	return 0;
}

int dp_ruleset_del_filter(struct dp_ruleset *rs, uint32_t rule_id, uint32_t filter_id,
			  char *err, size_t errlen)
{
	struct dp_rs_rule *cur = find_rule(rs, rule_id);
	int i = cur ? find_filter(cur, filter_id) : -1;

	if (i < 0) {
		snprintf(err, errlen, "rule %u: no filter %u", rule_id, filter_id);
		return -ENOENT;
	}
	cur->r.filters[i] = cur->r.filters[cur->r.n_filters - 1];
	cur->filter_ids[i] = cur->filter_ids[--cur->r.n_filters];
	rs->n_filters--;
	return 0;
}
