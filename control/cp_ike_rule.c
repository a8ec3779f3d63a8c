/* cp_ike_rule.c - the per-peer rules of IKE's child SA pairs (dpsec-ctld):
 * which rule a new pair is bound to (the rule of the pair it replaces, or
 * that of another pair with the same rule and peer, or a new one), and,
 * when a pair goes, which pair's outbound SA its rule carries on. A
 * replaced pair lets its rule go to the new one: an IKEv1 peer keeps the
 * old pair until it expires or is deleted, but only to take what is still
 * on its way (strongSwan's REKEYED pair); should the peer delete the new
 * pair first, the rule goes with it and the next packet negotiates again,
 * rather than falling back to a pair the peer sends nothing on and has no
 * policy for any more (tests/e2e/ikev1_e2e.py, newer_pair_deleted_first). */
#include <string.h>
#include <syslog.h>

#include "cp.h"
#include "cp_ike.h"

/* A live rule of a pair for rule_id and peer (d may be NULL or stale). */
static bool rule_of(const struct cp_dyn_rule *d, uint32_t rule_id, const struct dpsec_addr *peer)
{
	return d != NULL && d->used && d->kind == CP_DYN_SA && d->generic_id == rule_id &&
	       memcmp(&d->peer, peer, sizeof(*peer)) == 0;
}

struct cp_dyn_rule *cp_ike_child_rule(const struct cp_ike_child *ch)
{
	return ch->dyn != NULL && ch->dyn->used && ch->dyn->id == ch->dyn_id ? ch->dyn : NULL;
}

bool cp_ike_pair_up_for(struct cp_ctx *c, uint32_t rule_id, const struct dpsec_addr *peer)
{
	for (int i = 0; c->ike != NULL && i < CP_MAX_DYN_RULES; i++)
		if (rule_of(&c->dyn[i], rule_id, peer) && c->dyn[i].sa_out != DPSEC_SA_NONE)
			return true;
	return false;
}

struct cp_ike_child *cp_ike_rule_replaces(struct cp_ike *k, int version, uint32_t rekeys_spi,
					  uint32_t rule_id, const struct dpsec_addr *peer)
{
	if (rekeys_spi != 0)
		return cp_ike_find_child(k, rekeys_spi);
	if (version != 1)
		return NULL;
	for (int i = 0; i < CP_IKE_MAX_CHILDREN; i++) {
		struct cp_ike_child *s = &k->ch[i];

		if (s->used && s->version == 1 && rule_of(cp_ike_child_rule(s), rule_id, peer))
			return s;
	}
	return NULL;
}

struct cp_dyn_rule *cp_ike_rule_for(struct cp_ctx *c, const struct cp_ike_child *old,
				    uint32_t rule_id, const struct dpsec_addr *peer,
				    enum cp_ike_rule_how *how)
{
	struct cp_dyn_rule *d = old != NULL ? cp_ike_child_rule(old) : NULL;

	if (d != NULL) {
		*how = CP_IKE_RULE_OF_REPLACED;
		return d;
	}
	*how = CP_IKE_RULE_SHARED;
	for (int i = 0; i < CP_IKE_MAX_CHILDREN; i++) {
		const struct cp_ike_child *s = &c->ike->ch[i];

		if (s->used && rule_of(cp_ike_child_rule(s), rule_id, peer))
			return s->dyn;
	}
	*how = CP_IKE_RULE_NEW;
	d = cp_dyn_add(c, CP_DYN_SA, rule_id, "ike", peer, UINT64_MAX);
	if (d != NULL)
		d->on_rule = cp_rule_tunnels_to(c, rule_id, peer);
	return d;
}

void cp_ike_rule_replaced(struct cp_ike_child *old)
{
	old->dyn = NULL;
	old->rekeying = true; /* its soft lifetime starts no rekey of its own */
}

void cp_ike_rule_release(struct cp_ctx *c, const struct cp_ike_child *s)
{
	const struct cp_ike_child *heir = NULL;
	struct cp_dyn_rule *d = cp_ike_child_rule(s);

	/* no rule (s was replaced, or its slot holds another rule since), or
	 * one that carries another pair's outbound SA */
	if (d == NULL || d->kind != CP_DYN_SA || d->sa_out != s->sa_out)
		return;
	for (int i = 0; i < CP_IKE_MAX_CHILDREN; i++) {
		const struct cp_ike_child *o = &c->ike->ch[i];

		if (o != s && o->used && cp_ike_child_rule(o) == d && (heir == NULL || o->up_ns > heir->up_ns))
			heir = o;
	}
	if (heir == NULL) {
		cp_dyn_drop(c, d);
		return;
	}
	d->sa_out = heir->sa_out;
	cp_log(LOG_INFO, "ike: child SA SPI in 0x%08x goes: its rule carries SPI in 0x%08x's "
	       "outbound SA now", s->spi_in, heir->spi_in);
}
