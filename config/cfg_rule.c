/* cfg_rule.c - policy rules: each joins a filter list and a filter action;
 * negotiate rules may name their SA bundle and a tunnel endpoint. Checks
 * that the SAs fit the rule (direction, mode, endpoint, family) and copies
 * the list's filters into the rule. */
#include <stdlib.h>
#include <string.h>

#include "cfg_priv.h"

static const char *const rule_fields[] = {
	"name", "filter_list", "filter_action", "priority", "tunnel_endpoint", "outbound_sa",
	"inbound_sa", NULL
};
static const char *const store_rule_fields[] = {
	"name", "description", "enabled", "filter_list", "filter_action", "priority",
	"tunnel_endpoint", "authentication", "outbound_sa", "inbound_sa", NULL
};

static const char *dir_name(uint8_t dir)
{
	return dir == DPSEC_DIR_IN ? "inbound" : "outbound";
}

/* Permit and block rules neither tunnel nor use SAs. */
static int rule_plain(struct cfg_ctx *c, const config_setting_t *g, const struct dpsec_rule *r)
{
	static const char *const fields[] = { "tunnel_endpoint", "outbound_sa", "inbound_sa" };
	const config_setting_t *s;
	size_t i;

	for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		s = config_setting_get_member(g, fields[i]);
		if (s)
			return cfg_fail(c, s, "only negotiate rules %s, but filter action \"%s\" is %s",
					i == 0 ? "have a tunnel endpoint" : "use SAs",
					r->filter_action, cfg_action_name(r->action));
	}
	return 0;
}

/* A negotiate rule's inbound traffic must match the same rule. */
static int rule_mirrored(struct cfg_ctx *c, const config_setting_t *g, const struct cfg_flist *fl)
{
	uint32_t i;

	for (i = 0; i < fl->n; i++) {
		if (fl->f[i].mirrored)
			continue;
		return cfg_fail(c, config_setting_get_member(g, "filter_list"),
				"filter [%u] of list \"%s\" (line %u) has mirrored = false, but a "
				"negotiate rule needs mirrored filters: inbound traffic must match the "
				"same rule to be accepted", i, fl->name,
				config_setting_source_line(config_setting_get_elem(fl->filters, i)));
	}
	return 0;
}

static int tunnel_sa(struct cfg_ctx *c, const config_setting_t *s, const struct dpsec_rule *r,
		     const struct dpsec_sa_conf *sa)
{
	char a[CFG_ADDR_STRLEN], b[CFG_ADDR_STRLEN];

	if (sa->mode != DPSEC_MODE_TUNNEL)
		return cfg_fail(c, s, "SA \"%s\" is transport mode, but this rule has a "
				"tunnel_endpoint and needs tunnel-mode SAs", sa->name);
	if (sa->local.family != r->tunnel_endpoint.family)
		return cfg_fail(c, s, "SA \"%s\" is %s (remote %s) but tunnel_endpoint %s is %s; "
				"the SA's endpoints and the tunnel endpoint are of one family",
				sa->name, cfg_family_name(sa->local.family), cfg_fmt_addr(&sa->remote, a),
				cfg_fmt_addr(&r->tunnel_endpoint, b),
				cfg_family_name(r->tunnel_endpoint.family));
	if (sa->direction == DPSEC_DIR_OUT && !cfg_addr_equal(&sa->remote, &r->tunnel_endpoint))
		return cfg_fail(c, s, "SA \"%s\" has remote %s, but the rule's tunnel_endpoint is "
				"%s; outbound packets are tunnelled to the SA's remote", sa->name,
				cfg_fmt_addr(&sa->remote, a), cfg_fmt_addr(&r->tunnel_endpoint, b));
	return 0;
}

/* Transport mode keeps the packet's addresses: filters and SA share a family. */
static int transport_sa(struct cfg_ctx *c, const config_setting_t *s,
			const struct dpsec_sa_conf *sa, const struct cfg_flist *fl)
{
	uint32_t i;

	if (sa->mode != DPSEC_MODE_TRANSPORT)
		return cfg_fail(c, s, "SA \"%s\" is tunnel mode, but this rule has no "
				"tunnel_endpoint; set tunnel_endpoint or use transport-mode SAs",
				sa->name);
	for (i = 0; i < fl->n; i++)
		if (fl->f[i].src.addr.family != sa->local.family)
			return cfg_fail(c, s, "transport-mode SA \"%s\" is %s, but filter [%u] of "
					"list \"%s\" is %s", sa->name, cfg_family_name(sa->local.family),
					i, fl->name, cfg_family_name(fl->f[i].src.addr.family));
	return 0;
}

static int rule_sa(struct cfg_ctx *c, const config_setting_t *g, const struct dpsec_rule *r,
		   const struct cfg_flist *fl, const char *field, uint8_t dir, int32_t *out)
{
	const struct dpsec_sa_conf *sa;
	const config_setting_t *s;
	uint32_t i;
	int k = cfg_ref(c, g, field, false, &c->sa_names, c->cfg->sas, sizeof *c->cfg->sas, c->cfg->n_sas,
			"security association", &i);

	if (k <= 0)
		return k;
	s = config_setting_get_member(g, field);
	sa = &c->cfg->sas[i];
	if (sa->direction != dir)
		return cfg_fail(c, s, "SA \"%s\" is %s; %s needs an %s SA", sa->name,
				dir_name(sa->direction), field, dir_name(dir));
	if (r->tunnel ? tunnel_sa(c, s, r, sa) : transport_sa(c, s, sa, fl))
		return -1;
	*out = (int32_t)i;
	return 0;
}

static int rule_negotiate(struct cfg_ctx *c, const config_setting_t *g, struct dpsec_rule *r,
			  const struct cfg_flist *fl)
{
	int t = 0;

	if (rule_mirrored(c, g, fl) ||
	    (t = cfg_addr(c, g, "tunnel_endpoint", false, &r->tunnel_endpoint)) < 0)
		return -1;
	r->tunnel = t == 1;
	if (rule_sa(c, g, r, fl, "outbound_sa", DPSEC_DIR_OUT, &r->sa_out) < 0 ||
	    rule_sa(c, g, r, fl, "inbound_sa", DPSEC_DIR_IN, &r->sa_in) < 0)
		return -1;
	return 0;
}

static int rule_filters(struct cfg_ctx *c, const config_setting_t *g, struct dpsec_rule *r,
			const struct cfg_flist *fl)
{
	if (fl->n > CFG_MAX_RULE_FILTERS - c->n_rule_filters)
		return cfg_fail(c, config_setting_get_member(g, "filter_list"),
				"rules would hold more than %u filters in all", CFG_MAX_RULE_FILTERS);
	r->filters = malloc((size_t)fl->n * sizeof *r->filters);
	if (!r->filters)
		return cfg_fail(c, g, "out of memory");
	memcpy(r->filters, fl->f, (size_t)fl->n * sizeof *r->filters);
	r->n_filters = fl->n;
	c->n_rule_filters += fl->n;
	return 0;
}

static int load_rule(struct cfg_ctx *c, const config_setting_t *g, uint32_t idx)
{
	struct dpsec_rule *r = &c->cfg->rules[idx];
	const struct cfg_flist *fl;
	uint32_t li, ai;
	long long prio = 0;

	if (cfg_group(c, g, c->store ? store_rule_fields : rule_fields) ||
	    cfg_name(c, g, "name", true, r->name) < 0 ||
	    cfg_unique(c, g, &c->rule_names, c->cfg->rules, sizeof *r, idx, 0, "rule") ||
	    cfg_ref(c, g, "filter_list", true, &c->list_names, c->lists, sizeof *c->lists, c->n_lists,
		    "filter list", &li) < 0 ||
	    cfg_ref(c, g, "filter_action", true, &c->faction_names, c->factions, sizeof *c->factions,
		    c->n_factions, "filter action", &ai) < 0 ||
	    cfg_int(c, g, "priority", false, 0, 1000000, &prio) < 0)
		return -1;
	fl = &c->lists[li];
	strcpy(r->filter_list, fl->name);
	strcpy(r->filter_action, c->factions[ai].name);
	r->priority = (uint32_t)prio;
	r->action = c->factions[ai].action;
	if (r->action == DPSEC_ACTION_NEGOTIATE ? rule_negotiate(c, g, r, fl) : rule_plain(c, g, r))
		return -1;
	return rule_filters(c, g, r, fl);
}

int cfg_load_rules(struct cfg_ctx *c, const config_setting_t *policy)
{
	const config_setting_t *l;
	uint32_t i, n;
	int r = cfg_list(c, policy, "rules", false, 0, CFG_MAX_RULES, &l);

	cfg_names_free(&c->rule_names);
	if (r <= 0)
		return r;
	n = (uint32_t)config_setting_length(l);
	c->cfg->rules = calloc(n ? n : 1, sizeof *c->cfg->rules);
	if (!c->cfg->rules)
		return cfg_fail(c, l, "out of memory");
	c->cfg->n_rules = n;
	for (i = 0; i < n; i++)
		c->cfg->rules[i].sa_out = c->cfg->rules[i].sa_in = -1;
	for (i = 0; i < n; i++)
		if (load_rule(c, config_setting_get_elem(l, i), i))
			return -1;
	return 0;
}
