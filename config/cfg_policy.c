/* cfg_policy.c - the policy: its default action, filter lists (filters with
 * prefixes, protocol, ports and mirroring) and filter actions. Rules, which
 * join the two, are in cfg_rule.c. */
#include <stdlib.h>
#include <string.h>

#include "cfg_priv.h"

static const char *const policy_fields[] = {
	"default_action", "filter_lists", "filter_actions", "rules", NULL
};
static const char *const flist_fields[] = { "name", "filters", NULL };
static const char *const filter_fields[] = {
	"source", "destination", "protocol", "mirrored", "source_ports", "destination_ports", NULL
};
static const char *const faction_fields[] = { "name", "action", NULL };
static const char *const store_faction_fields[] = {
	"name", "description", "action", "accept_unsecured", "fallback_to_clear", "pfs", "methods",
	"df_bit", "dscp", NULL
};
static const char *const store_flist_fields[] = { "name", "description", "filters", NULL };

static const struct cfg_kw proto_kw[] = {
	{ "any", 0 }, { "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "esp", 50 },
	{ "ah", 51 }, { "icmpv6", 58 }, { "sctp", 132 }, { NULL, 0 }
};
static const struct cfg_kw default_kw[] = {
	{ "permit", DPSEC_ACTION_PERMIT }, { "block", DPSEC_ACTION_BLOCK }, { NULL, 0 }
};
static const struct cfg_kw action_kw[] = {
	{ "permit", DPSEC_ACTION_PERMIT }, { "block", DPSEC_ACTION_BLOCK },
	{ "negotiate", DPSEC_ACTION_NEGOTIATE }, { NULL, 0 }
};

#define PROTO_WHAT "\"any\", \"icmp\", \"tcp\", \"udp\", \"esp\", \"ah\", \"icmpv6\", \"sctp\" " \
		   "or a number 0..255"

static const char *proto_name(uint8_t proto)
{
	int i;

	for (i = 0; proto_kw[i].name; i++)
		if (proto_kw[i].value == proto)
			return proto_kw[i].name;
	return NULL;
}

static int proto_family(struct cfg_ctx *c, const config_setting_t *s, const struct dpsec_filter *f)
{
	uint8_t fam = f->src.addr.family;

	if (f->proto == 1 && fam == DPSEC_AF_INET6)
		return cfg_fail(c, s, "icmp (1) is IPv4's; this filter is IPv6, use icmpv6 (58)");
	if (f->proto == 58 && fam == DPSEC_AF_INET)
		return cfg_fail(c, s, "icmpv6 (58) is IPv6's; this filter is IPv4, use icmp (1)");
	return 0;
}

static int filter_proto(struct cfg_ctx *c, const config_setting_t *g, struct dpsec_filter *f)
{
	const config_setting_t *s;
	const char *v;
	long long n;
	int i, r = cfg_member(c, g, "protocol", false, CFG_T_STR | CFG_T_INT, PROTO_WHAT, &s);

	if (r <= 0)
		return r;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		n = cfg_int_value(s);
		if (n < 0 || n > 255)
			return cfg_fail(c, s, "%lld is out of range; expected " PROTO_WHAT, n);
		f->proto = (uint8_t)n;
		return proto_family(c, s, f);
	}
	v = config_setting_get_string(s);
	for (i = 0; proto_kw[i].name; i++)
		if (strcmp(v, proto_kw[i].name) == 0)
			break;
	if (!proto_kw[i].name)
		return cfg_fail(c, s, "expected " PROTO_WHAT ", got \"%.40s\"", v);
	f->proto = (uint8_t)proto_kw[i].value;
	return proto_family(c, s, f);
}

/* Reads a decimal port 0..65535 at *p and moves *p past it. */
static int parse_port(const char **p, unsigned *out)
{
	unsigned v = 0;
	int n = 0;

	for (; **p >= '0' && **p <= '9'; (*p)++, n++) {
		if (n == 5)
			return -1;
		v = v * 10 + (unsigned)(**p - '0');
	}
	if (n == 0 || v > 65535)
		return -1;
	*out = v;
	return 0;
}

static int port_string(struct cfg_ctx *c, const config_setting_t *s, uint16_t *lo, uint16_t *hi)
{
	const char *v = config_setting_get_string(s), *p = v;
	unsigned a, b;

	if (parse_port(&p, &a))
		goto bad;
	b = a;
	if (*p == '-') {
		p++;
		if (parse_port(&p, &b))
			goto bad;
	}
	if (*p)
		goto bad;
	if (a > b)
		return cfg_fail(c, s, "range \"%s\" is reversed; expected N-M with N <= M", v);
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
bad:
	return cfg_fail(c, s, "expected a port \"N\" or a range \"N-M\" with 0 <= N <= M <= 65535, "
			"got \"%.40s\"", v);
}

static int port_range(struct cfg_ctx *c, const config_setting_t *g, const char *name,
		      const struct dpsec_filter *f, uint16_t *lo, uint16_t *hi)
{
	const config_setting_t *s;
	const char *pn = proto_name(f->proto);
	long long v;
	int r = cfg_member(c, g, name, false, CFG_T_STR | CFG_T_INT,
			   "a port \"N\" or a range \"N-M\"", &s);

	*lo = 0;
	*hi = 65535;
	if (r <= 0)
		return r;
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (port_string(c, s, lo, hi))
			return -1;
	} else {
		v = cfg_int_value(s);
		if (v < 0 || v > 65535)
			return cfg_fail(c, s, "%lld is out of range; expected a port 0..65535", v);
		*lo = *hi = (uint16_t)v;
	}
	if ((*lo == 0 && *hi == 65535) || f->proto == 6 || f->proto == 17 || f->proto == 132)
		return 0;
	if (pn)
		return cfg_fail(c, s, "ports apply to tcp, udp and sctp only, but protocol is %s", pn);
	return cfg_fail(c, s, "ports apply to tcp, udp and sctp only, but protocol is %u",
			f->proto);
}

static int load_filter(struct cfg_ctx *c, const config_setting_t *g, struct dpsec_filter *f)
{
	char s[CFG_ADDR_STRLEN], d[CFG_ADDR_STRLEN];

	f->mirrored = true;
	if (cfg_group(c, g, filter_fields) || cfg_net_prefix(c, g, "source", true, &f->src) < 0 ||
	    cfg_net_prefix(c, g, "destination", true, &f->dst) < 0)
		return -1;
	if (f->src.addr.family != f->dst.addr.family)
		return cfg_fail(c, config_setting_get_member(g, "destination"),
				"destination %s is %s but source %s is %s; a filter's addresses are "
				"of one family", cfg_fmt_prefix(&f->dst, d),
				cfg_family_name(f->dst.addr.family), cfg_fmt_prefix(&f->src, s),
				cfg_family_name(f->src.addr.family));
	if (filter_proto(c, g, f) < 0 || cfg_bool(c, g, "mirrored", false, &f->mirrored) < 0 ||
	    port_range(c, g, "source_ports", f, &f->sport_lo, &f->sport_hi) < 0 ||
	    port_range(c, g, "destination_ports", f, &f->dport_lo, &f->dport_hi) < 0)
		return -1;
	return 0;
}

static int load_flist(struct cfg_ctx *c, const config_setting_t *g, uint32_t idx)
{
	struct cfg_flist *fl = &c->lists[idx];
	const config_setting_t *l;
	uint32_t i, n;

	if (cfg_group(c, g, c->store ? store_flist_fields : flist_fields) ||
	    cfg_name(c, g, "name", true, fl->name) < 0 ||
	    cfg_unique(c, g, &c->list_names, c->lists, sizeof *fl, idx, c->lists_base,
		       "filter list") ||
	    cfg_list(c, g, "filters", true, 1, CFG_MAX_LIST, &l) < 0)
		return -1;
	n = (uint32_t)config_setting_length(l);
	fl->filters = l;
	fl->f = calloc(n, sizeof *fl->f);
	if (!fl->f)
		return cfg_fail(c, l, "out of memory");
	fl->n = n;
	for (i = 0; i < n; i++)
		if (load_filter(c, config_setting_get_elem(l, i), &fl->f[i]))
			return -1;
	return 0;
}

/* Appends the lists of g to those loaded already (the store's built-ins). */
int cfg_load_flists(struct cfg_ctx *c, const config_setting_t *policy)
{
	const config_setting_t *l;
	struct cfg_flist *grown;
	uint32_t i, n, base = c->n_lists;
	int r = cfg_list(c, policy, "filter_lists", false, 0, CFG_MAX_RULES, &l);

	if (r <= 0)
		return r;
	n = (uint32_t)config_setting_length(l);
	grown = realloc(c->lists, (base + n + 1) * sizeof *c->lists);
	if (!grown)
		return cfg_fail(c, l, "out of memory");
	c->lists = grown;
	c->lists_base = base;
	memset(&c->lists[base], 0, (n + 1) * sizeof *c->lists);
	c->n_lists = base + n;
	for (i = 0; i < n; i++)
		if (load_flist(c, config_setting_get_elem(l, i), base + i))
			return -1;
	return 0;
}

/* Appends the filter actions of g to those loaded already. */
int cfg_load_factions(struct cfg_ctx *c, const config_setting_t *policy)
{
	const config_setting_t *l, *g;
	struct cfg_faction *grown;
	uint32_t i, n, base = c->n_factions;
	int a, r = cfg_list(c, policy, "filter_actions", false, 0, CFG_MAX_LIST, &l);

	if (r <= 0)
		return r;
	n = (uint32_t)config_setting_length(l);
	grown = realloc(c->factions, (base + n + 1) * sizeof *c->factions);
	if (!grown)
		return cfg_fail(c, l, "out of memory");
	c->factions = grown;
	c->factions_base = base;
	memset(&c->factions[base], 0, (n + 1) * sizeof *c->factions);
	c->n_factions = base + n;
	for (i = base; i < base + n; i++) {
		g = config_setting_get_elem(l, i - base);
		if (cfg_group(c, g, c->store ? store_faction_fields : faction_fields) ||
		    cfg_name(c, g, "name", true, c->factions[i].name) < 0 ||
		    cfg_unique(c, g, &c->faction_names, c->factions, sizeof *c->factions, i, base,
			       "filter action") ||
		    cfg_keyword(c, g, "action", true, action_kw, &a) < 0)
			return -1;
		c->factions[i].action = (uint8_t)a;
	}
	return 0;
}

int cfg_load_policy(struct cfg_ctx *c, const config_setting_t *root)
{
	const config_setting_t *g;
	int a = DPSEC_ACTION_PERMIT;
	int r = cfg_member(c, root, "policy", false, CFG_T_GROUP, "a group { ... }", &g);

	c->cfg->default_action = DPSEC_ACTION_PERMIT;
	if (r <= 0)
		return r;
	if (cfg_group(c, g, policy_fields) ||
	    cfg_keyword(c, g, "default_action", false, default_kw, &a) < 0)
		return -1;
	c->cfg->default_action = (uint8_t)a;
	if (cfg_load_flists(c, g) || cfg_load_factions(c, g) || cfg_load_rules(c, g))
		return -1;
	return 0;
}

void cfg_ctx_free(struct cfg_ctx *c)
{
	uint32_t i;

	for (i = 0; c->lists && i < c->n_lists; i++)
		free(c->lists[i].f);
	free(c->lists);
	free(c->factions);
	c->lists = NULL;
	c->factions = NULL;
	c->n_lists = c->n_factions = 0;
	cfg_names_free(&c->port_names);
	cfg_names_free(&c->sa_names);
	cfg_names_free(&c->rule_names);
	cfg_names_free(&c->list_names);
	cfg_names_free(&c->faction_names);
	cfg_names_free(&c->policy_names);
}
