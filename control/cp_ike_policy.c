/* cp_ike_policy.c - which rule of the assigned policy, and so which IKE
 * policy, meets a peer: a negotiate rule with an authentication method IKE
 * can use, either a tunnel rule whose endpoint is the peer or a transport
 * rule with a filter from our address to the peer's; its selectors, its
 * filter action's security methods as child SA methods, the policy's Main
 * Mode methods or dpsec's suites (ike_mm_defaults). As responder the rule
 * is chosen again at IKE_AUTH by the child SA asked for, so that a peer's
 * tunnel and transport rules are told apart. The engines of both versions
 * ask through here. */
#include <errno.h>
#include <string.h>
#include <syslog.h>

#include "cp.h"
#include "cp_ike.h"
#include "cp_ike_auth.h"
#include "cp_ikev1.h"
#include "ike_dh.h"
#include "ikev2.h"

#define PFS_GROUP IKE_DH_ECP_256 /* a filter action's "pfs = true" */

/* A tunnel rule's selectors: each filter's source (ours) and destination. */
static void tunnel_selectors(const struct dpsec_rule *r, struct ikev2_peer *p)
{
	p->ts_local.n = p->ts_remote.n = 0;
	for (uint32_t i = 0; i < r->n_filters && p->ts_local.n < IKE_MAX_TS; i++) {
		p->ts_local.ts[p->ts_local.n++] = ike_ts_from_prefix(&r->filters[i].src);
		p->ts_remote.ts[p->ts_remote.n++] = ike_ts_from_prefix(&r->filters[i].dst);
	}
}

static struct ike_ts host_ts(const struct dpsec_addr *a, uint8_t proto, uint16_t lo, uint16_t hi)
{
	return (struct ike_ts){ .lo = *a, .hi = *a, .proto = proto, .port_lo = lo, .port_hi = hi };
}

/* A transport rule's selectors: the two hosts, with the protocol and
 * ports of each filter from our address to the peer's. */
static void host_selectors(const struct dpsec_rule *r, const struct dpsec_addr *local,
			   const struct dpsec_addr *peer, struct ikev2_peer *p)
{
	p->ts_local.n = p->ts_remote.n = 0;
	for (uint32_t i = 0; i < r->n_filters && p->ts_local.n < IKE_MAX_TS; i++) {
		const struct dpsec_filter *f = &r->filters[i];

		if (!cfg_prefix_holds(&f->src, local) || !cfg_prefix_holds(&f->dst, peer))
			continue;
		p->ts_local.ts[p->ts_local.n++] = host_ts(local, f->proto, f->sport_lo, f->sport_hi);
		p->ts_remote.ts[p->ts_remote.n++] = host_ts(peer, f->proto, f->dport_lo, f->dport_hi);
	}
}

static bool transport_rule_for(const struct dpsec_rule *r, const struct dpsec_addr *local,
			       const struct dpsec_addr *peer)
{
	for (uint32_t i = 0; i < r->n_filters; i++)
		if (cfg_prefix_holds(&r->filters[i].src, local) && cfg_prefix_holds(&r->filters[i].dst, peer))
			return true;
	return false;
}

/* Whether negotiate rule r is for this peer: a tunnel rule by its
 * endpoint, a transport rule by its filters. */
static bool rule_for_peer(const struct dpsec_rule *r, const struct dpsec_addr *local,
			  const struct dpsec_addr *peer)
{
	if (r->tunnel)
		return memcmp(&r->tunnel_endpoint, peer, sizeof(*peer)) == 0;
	return transport_rule_for(r, local, peer);
}

/* As responder at IKE_AUTH: the rule's mode is the one asked for, and
 * the selectors asked for meet the rule's. True when not yet known. */
static bool rule_fits_child(const struct ikev2_peer *p, const struct ikev2_lookup *q)
{
	struct ike_ts_set met;

	if (q == NULL || q->ts_i == NULL || q->ts_r == NULL)
		return true;
	return p->transport == q->transport && ike_ts_narrow(q->ts_i, &p->ts_remote, &met) == 0 &&
	       ike_ts_narrow(q->ts_r, &p->ts_local, &met) == 0;
}

static int child_methods(const struct cfg_filter_action *fa, struct ikev2_peer *p, const char *rule)
{
	struct ike_err err = { 0 };

	p->n_qm = 0;
	for (uint32_t i = 0; i < fa->n_methods && p->n_qm < IKE_MAX_METHODS; i++) {
		if (ike_qm_method_from_cfg(&fa->methods[i], fa->pfs ? PFS_GROUP : 0,
					   &p->qm[p->n_qm], &err) == 0)
			p->n_qm++;
		else
			cp_log(LOG_WARNING, "rule \"%s\": security method %u left out of IKE: %s", rule,
			       i + 1, err.msg);
	}
	return p->n_qm > 0 ? 0 : -ENOENT;
}

const struct cfg_policy *cp_ike_assigned_policy(const struct cp_ctx *c)
{
	return c->store.assigned[0] ? cfg_store_policy(&c->store, c->store.assigned) : NULL;
}

/* Whether the assigned policy names its own Main Mode methods. */
static bool named_mm(const struct cp_ctx *c)
{
	const struct cfg_policy *p = cp_ike_assigned_policy(c);

	return p != NULL && p->main_mode.n_methods > 0;
}

void cp_ike_mm_methods(const struct cp_ctx *c, const struct ike_mm_method *defs, size_t n_defs,
		       struct ikev2_peer *p)
{
	const struct cfg_policy *pol = cp_ike_assigned_policy(c);
	const struct cfg_main_mode *mm = pol ? &pol->main_mode : NULL;

	p->n_mm = 0;
	if (mm == NULL || mm->n_methods == 0) {
		p->n_mm = (uint8_t)(n_defs < IKE_MAX_METHODS ? n_defs : IKE_MAX_METHODS);
		memcpy(p->mm, defs, p->n_mm * sizeof(p->mm[0]));
		return;
	}
	for (uint8_t i = 0; i < mm->n_methods && p->n_mm < IKE_MAX_METHODS; i++) {
		const struct cfg_mm_method *m = &mm->methods[i];

		p->mm[p->n_mm++] = (struct ike_mm_method){
			{ m->encr, m->encr_bits, m->integ, m->prf }, m->dh_group };
	}
}

/* The IKE policy of compiled rule r between our address local and peer;
 * -ENOENT (logged) when the rule has none. */
static int peer_of_rule(const struct cp_ctx *c, const struct dpsec_rule *r,
			const struct cfg_store_rule *o, const struct dpsec_addr *local,
			const struct dpsec_addr *peer, struct ikev2_peer *p)
{
	const struct cfg_filter_action *fa = cfg_store_filter_action(&c->store, o->filter_action);
	struct ike_err err = { 0 };

	memset(p, 0, sizeof(*p));
	if (fa == NULL || local->family != peer->family)
		return -ENOENT;
	p->user = r->id;
	cp_ike_mm_methods(c, ike_mm_defaults, ike_mm_defaults_n, p);
	p->transport = !r->tunnel;
	if (r->tunnel)
		tunnel_selectors(r, p);
	else
		host_selectors(r, local, peer, p);
	if (child_methods(fa, p, r->name) < 0 ||
	    cp_ike_auth_for_rule(c, o, local, peer, p, &err) < 0) {
		cp_log(LOG_ERR, "rule \"%s\": no IKE policy: %s", r->name,
		       err.msg[0] ? err.msg : "no security method IKE can offer");
		explicit_bzero(p, sizeof(*p));
		return -ENOENT;
	}
	return 0;
}

/* The negotiate rule of the assigned policy for peer (rule_id 0: the
 * first that fits the peer and, when q tells it, the child SA asked for). */
int cp_ike_policy_for(struct cp_ctx *c, uint32_t rule_id, const struct dpsec_addr *peer,
		      const struct dpsec_addr *local, const struct ikev2_lookup *q,
		      struct ikev2_peer *p)
{
	const struct cfg_compiled *cc = cp_compiled(c, NULL, 0);
	int rc = -ENOENT;

	for (uint32_t i = 0; cc != NULL && i < cc->n_rules && rc < 0; i++) {
		const struct dpsec_rule *r = &cc->rules[i];

		if (cc->origin[i] == NULL || r->action != DPSEC_ACTION_NEGOTIATE ||
		    (rule_id != 0 && r->id != rule_id) || !rule_for_peer(r, local, peer) ||
		    !cp_ike_auth_usable(c, cc->origin[i]) ||
		    peer_of_rule(c, r, cc->origin[i], local, peer, p) < 0)
			continue;
		if (rule_fits_child(p, q))
			rc = 0;
		else
			explicit_bzero(p, sizeof(*p));
	}
	return rc;
}

/* What a responder accepts besides the suites it offers: HMAC-SHA1 as PRF
 * and integrity with AES-CBC over MODP-2048, for initiators that offer
 * nothing newer (ike-scan's IKEv2 probe); last, so never chosen over them. */
static const struct ike_mm_method responder_extra[] = {
	{ { IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA1_96, IKE_PRF_HMAC_SHA1 }, IKE_DH_MODP_2048 },
	{ { IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96, IKE_PRF_HMAC_SHA1 }, IKE_DH_MODP_2048 },
};

/* The peer's policy for either version (cp_ikev1.c's lookup). */
int cp_ike_lookup_any(void *ctx, const struct ikev2_lookup *q, struct ikev2_peer *out)
{
	return cp_ike_policy_for(ctx, 0, &q->remote->addr, &q->local->addr, q, out);
}

/* IKEv2's: none while the assigned policy negotiates IKEv1; as responder
 * also the suites of responder_extra, unless the policy names its own. */
int cp_ike_lookup_v2(void *ctx, const struct ikev2_lookup *q, struct ikev2_peer *out)
{
	int rc = cp_ikev1_assigned(ctx) ? -ENOENT : cp_ike_lookup_any(ctx, q, out);

	if (named_mm(ctx))
		return rc;
	for (size_t i = 0; rc == 0 && i < sizeof(responder_extra) / sizeof(responder_extra[0]) &&
			   out->n_mm < IKE_MAX_METHODS; i++)
		out->mm[out->n_mm++] = responder_extra[i];
	return rc;
}
