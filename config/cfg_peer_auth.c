/* cfg_peer_auth.c - one authentication method between a pair of
 * addresses (the seeds' rule): Main Mode is chosen by the peers'
 * addresses alone, before any rule's filters or identities are known, so
 * two negotiate rules of one policy that may negotiate with the same peer
 * must authenticate the same way. A policy that would need two is refused
 * at load, naming both rules and the peer. */
#include <stdlib.h>
#include <string.h>

#include "cfg_priv.h"
#include "cfg_store.h"

/* Filters that may cover one pair of addresses (either way round when
 * one of them is mirrored). */
static bool filters_meet(const struct dpsec_filter *f, const struct dpsec_filter *g)
{
	if (cfg_prefixes_meet(&f->src, &g->src) && cfg_prefixes_meet(&f->dst, &g->dst))
		return true;
	return (f->mirrored || g->mirrored) && cfg_prefixes_meet(&f->src, &g->dst) &&
	       cfg_prefixes_meet(&f->dst, &g->src);
}

/* A transport rule that may negotiate with a tunnel rule's endpoint. */
static bool transport_reaches(const struct dpsec_rule *t, const struct dpsec_addr *endpoint)
{
	for (uint32_t i = 0; i < t->n_filters; i++)
		if (cfg_prefix_holds(&t->filters[i].dst, endpoint) ||
		    (t->filters[i].mirrored && cfg_prefix_holds(&t->filters[i].src, endpoint)))
			return true;
	return false;
}

/* Whether rules a and b may negotiate with the same peer. */
static bool same_peer_possible(const struct dpsec_rule *a, const struct dpsec_rule *b)
{
	if (a->tunnel && b->tunnel)
		return cfg_addr_equal(&a->tunnel_endpoint, &b->tunnel_endpoint);
	if (a->tunnel)
		return transport_reaches(b, &a->tunnel_endpoint);
	if (b->tunnel)
		return transport_reaches(a, &b->tunnel_endpoint);
	for (uint32_t i = 0; i < a->n_filters; i++)
		for (uint32_t j = 0; j < b->n_filters; j++)
			if (filters_meet(&a->filters[i], &b->filters[j]))
				return true;
	return false;
}

static bool same_method(const struct cfg_auth_method *a, const struct cfg_auth_method *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == CFG_AUTH_PSK)
		return a->psk_len == b->psk_len && memcmp(a->psk, b->psk, a->psk_len) == 0;
	if (a->n_roots != b->n_roots)
		return false;
	for (uint32_t i = 0; i < a->n_roots; i++)
		if (strcmp(a->roots[i], b->roots[i]) != 0)
			return false;
	return true;
}

static bool same_authentication(const struct cfg_store_rule *a, const struct cfg_store_rule *b)
{
	if (a->n_auth != b->n_auth)
		return false;
	for (uint32_t i = 0; i < a->n_auth; i++)
		if (!same_method(&a->auth[i], &b->auth[i]))
			return false;
	return true;
}

static bool negotiates(const struct dpsec_rule *r, const struct cfg_store_rule *sr)
{
	return r->action == DPSEC_ACTION_NEGOTIATE && sr->enabled && sr->outbound_sa[0] == '\0';
}

/* Rules j and i < j, of those that negotiate (neg: their numbers). */
static int check_pairs(struct cfg_ctx *c, const config_setting_t *rules, const struct dpsec_rule *r,
		       const struct cfg_store_rule *sr, const uint32_t *neg, uint32_t n_neg)
{
	for (uint32_t b = 1; b < n_neg; b++) {
		for (uint32_t a = 0; a < b; a++) {
			uint32_t i = neg[a], j = neg[b];

			if (!same_peer_possible(&r[i], &r[j]) || same_authentication(&sr[i], &sr[j]))
				continue;
			return cfg_fail_in(c, config_setting_get_elem(rules, j), "authentication",
					   "rules \"%s\" and \"%s\" may negotiate with the same peer but "
					   "authenticate differently; Main Mode is chosen by the two "
					   "addresses alone, so a pair of addresses has one authentication: "
					   "give both rules the same methods",
					   sr[i].name, sr[j].name);
		}
	}
	return 0;
}

int cfg_check_peer_auth(struct cfg_ctx *c, const config_setting_t *rules,
			const struct dpsec_rule *r, const struct cfg_store_rule *sr, uint32_t n)
{
	uint32_t *neg = malloc((n + 1) * sizeof(*neg)), n_neg = 0;
	int rc;

	if (neg == NULL)
		return cfg_fail(c, rules, "out of memory");
	for (uint32_t i = 0; i < n; i++)
		if (negotiates(&r[i], &sr[i]))
			neg[n_neg++] = i;
	rc = check_pairs(c, rules, r, sr, neg, n_neg);
	free(neg);
	return rc;
}
