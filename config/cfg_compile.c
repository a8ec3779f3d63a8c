/* cfg_compile.c - a store policy into the rules the dataplane takes:
 * exemption rules first (flagged, permit), then every enabled rule with its
 * filter list's filters, priority 2p + 1 (the even values are left to the
 * control plane's per-peer rules), "accept unsecured" as a flag, static SAs
 * as indexes into the store. Rule ids are stable: FNV-1a of the policy and
 * rule names, 30 bits, never 0; exemptions use ids with bit 30 set; the
 * control plane's own rules have bit 31 set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_priv.h"
#include "cfg_store.h"

#define EXEMPT_ID_BASE 0x40000000u

static uint32_t rule_id(const char *policy, const char *rule)
{
	uint32_t h = 2166136261u;

	for (const char *s = policy; ; s++) { /* policy, a NUL, then rule */
		h = (h ^ (uint8_t)*s) * 16777619u;
		if (*s == '\0')
			break;
	}
	for (const char *s = rule; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	h &= EXEMPT_ID_BASE - 1;
	return h ? h : 1;
}

static void any_filter(struct dpsec_filter *f, uint8_t family)
{
	memset(f, 0, sizeof(*f));
	f->src.addr.family = f->dst.addr.family = family;
	f->mirrored = true;
	f->sport_hi = f->dport_hi = 65535;
}

/* Appends one exemption rule of n filters made by fill(). */
static int add_exempt(struct cfg_compiled *out, const char *name, uint32_t n,
		      void (*fill)(struct dpsec_filter *f, uint32_t i))
{
	struct dpsec_rule *r = &out->rules[out->n_rules];

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "exempt %s", name);
	r->id = EXEMPT_ID_BASE + out->n_rules + 1;
	r->flags = DPSEC_RULE_EXEMPT;
	r->action = DPSEC_ACTION_PERMIT;
	r->sa_out = r->sa_in = -1;
	r->filters = calloc(n, sizeof(*r->filters));
	if (r->filters == NULL)
		return -1;
	r->n_filters = n;
	for (uint32_t i = 0; i < n; i++)
		fill(&r->filters[i], i);
	out->origin[out->n_rules++] = NULL;
	return 0;
}

static void fill_broadcast(struct dpsec_filter *f, uint32_t i)
{
	(void)i;
	any_filter(f, DPSEC_AF_INET);
	memset(f->dst.addr.a, 0xff, 4);
	f->dst.len = 32;
}

static void fill_multicast(struct dpsec_filter *f, uint32_t i)
{
	any_filter(f, i == 0 ? DPSEC_AF_INET : DPSEC_AF_INET6);
	f->dst.addr.a[0] = i == 0 ? 224 : 0xff;
	f->dst.len = i == 0 ? 4 : 8;
	f->mirrored = false; /* a multicast source makes no sense */
}

static void fill_rsvp(struct dpsec_filter *f, uint32_t i)
{
	any_filter(f, i == 0 ? DPSEC_AF_INET : DPSEC_AF_INET6);
	f->proto = 46;
}

/* Kerberos: TCP and UDP port 88, both families; mirrored covers replies. */
static void fill_kerberos(struct dpsec_filter *f, uint32_t i)
{
	any_filter(f, i < 2 ? DPSEC_AF_INET : DPSEC_AF_INET6);
	f->proto = (i & 1) ? 17 : 6;
	f->dport_lo = f->dport_hi = 88;
}

static int add_exemptions(const struct cfg_exemptions *e, struct cfg_compiled *out)
{
	if (e->broadcast && add_exempt(out, "broadcast", 1, fill_broadcast) < 0)
		return -1;
	if (e->multicast && add_exempt(out, "multicast", 2, fill_multicast) < 0)
		return -1;
	if (e->rsvp && add_exempt(out, "rsvp", 2, fill_rsvp) < 0)
		return -1;
	if (e->kerberos && add_exempt(out, "kerberos", 4, fill_kerberos) < 0)
		return -1;
	return 0;
}

static int32_t sa_index(const struct cfg_store *s, const char *name)
{
	const struct cfg_static_sa *sa = name[0] ? cfg_store_sa(s, name) : NULL;

	return sa ? (int32_t)(sa - s->sas) : -1;
}

static int add_rule(const struct cfg_store *s, const struct cfg_policy *p,
		    const struct cfg_store_rule *sr, struct cfg_compiled *out, char *err)
{
	const struct cfg_filter_list *fl = cfg_store_filter_list(s, sr->filter_list);
	const struct cfg_filter_action *fa = cfg_store_filter_action(s, sr->filter_action);
	struct dpsec_rule *r = &out->rules[out->n_rules];

	if (fl == NULL || fa == NULL) {
		snprintf(err, CFG_ERR_MAX, "policy \"%s\" rule \"%s\": filter list or action missing",
			 p->name, sr->name);
		return -1;
	}
	memset(r, 0, sizeof(*r));
	strcpy(r->name, sr->name);
	strcpy(r->filter_list, sr->filter_list);
	strcpy(r->filter_action, sr->filter_action);
	r->id = rule_id(p->name, sr->name);
	r->priority = 2 * sr->priority + 1;
	r->action = fa->action;
	r->flags = fa->accept_unsecured ? DPSEC_RULE_ACCEPT_UNSECURED : 0;
	r->tunnel = sr->tunnel;
	r->tunnel_endpoint = sr->tunnel_endpoint;
	r->sa_out = sa_index(s, sr->outbound_sa);
	r->sa_in = sa_index(s, sr->inbound_sa);
	r->filters = malloc((fl->n_filters + 1) * sizeof(*r->filters));
	if (r->filters == NULL) {
		snprintf(err, CFG_ERR_MAX, "out of memory");
		return -1;
	}
	memcpy(r->filters, fl->filters, fl->n_filters * sizeof(*r->filters));
	r->n_filters = fl->n_filters;
	out->origin[out->n_rules++] = sr;
	return 0;
}

/* Two rules of one policy whose names hash alike cannot both be tracked. */
static int check_ids(const struct cfg_policy *p, const struct cfg_compiled *out, char *err)
{
	for (uint32_t i = 0; i < out->n_rules; i++)
		for (uint32_t j = i + 1; j < out->n_rules; j++)
			if (out->rules[i].id == out->rules[j].id) {
				snprintf(err, CFG_ERR_MAX, "policy \"%s\": rules \"%s\" and \"%s\" get the "
					 "same rule id; rename one", p->name, out->rules[i].name,
					 out->rules[j].name);
				return -1;
			}
	return 0;
}

int cfg_compile(const struct cfg_store *s, const char *policy, struct cfg_compiled *out,
		char err[CFG_ERR_MAX])
{
	const struct cfg_policy *p = cfg_store_policy(s, policy);
	uint32_t cap;

	memset(out, 0, sizeof(*out));
	if (p == NULL) {
		snprintf(err, CFG_ERR_MAX, "no policy named \"%s\"", policy);
		return -1;
	}
	cap = p->n_rules + 4;
	out->default_action = p->default_action;
	out->rules = calloc(cap, sizeof(*out->rules));
	out->origin = calloc(cap, sizeof(*out->origin));
	if (out->rules == NULL || out->origin == NULL || add_exemptions(&s->exemptions, out) < 0) {
		snprintf(err, CFG_ERR_MAX, "out of memory");
		goto fail;
	}
	for (uint32_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].enabled && add_rule(s, p, &p->rules[i], out, err) < 0)
			goto fail;
	if (check_ids(p, out, err) < 0)
		goto fail;
	return 0;
fail:
	cfg_compiled_free(out);
	return -1;
}

void cfg_compiled_free(struct cfg_compiled *c)
{
	for (uint32_t i = 0; c->rules && i < c->n_rules; i++)
		free(c->rules[i].filters);
	free(c->rules);
	free(c->origin);
	memset(c, 0, sizeof(*c));
}
