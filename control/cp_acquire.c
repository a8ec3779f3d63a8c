/* cp_acquire.c - what dpsec-ctld does with the dataplane's events. An
 * ACQUIRE (a packet for a negotiate rule without an SA) starts a
 * negotiation with the peer; when none concludes within the fallback
 * timeout, the rule's filter action decides: "allow unsecured communication
 * with non-IPsec-aware computers" makes a soft association (a permit rule
 * for that peer, just before the rule; the held packets go out), otherwise
 * the negotiation failed and the peer's traffic on that rule is blocked for
 * block_seconds, then tried again. Soft associations last idle_seconds.
 * cp_negotiate_start() hands the ACQUIRE to IKEv2 (cp_ike.c) when the rule
 * has an IKE policy; IKE ends it with cp_negotiate_done(): the held packets
 * go out through the new SA, or a failure applies the fallback at once.
 * cp_reconnect() negotiates the same way with the peers whose SAs a
 * restarted dpsec-ctld dropped, holding nothing and with no fallback.
 * Expiry events: a hard-expired SA is deleted (dpsecd already stopped it);
 * a soft one of a negotiated SA is rekeyed, an idle one deleted with the
 * peer (cp_ike_life.c); soft and idle ones of static SAs are logged
 * (static SAs cannot be rekeyed). */
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <arpa/inet.h>

#include "cp.h"
#include "cp_ike.h"

static const char *addr_str(const struct dpsec_addr *a, char *buf, size_t len)
{
	return inet_ntop(a->family == DPSEC_AF_INET6 ? AF_INET6 : AF_INET, a->a, buf, (socklen_t)len);
}

static struct cp_acquire *find_acquire(struct cp_ctx *c, uint32_t rule_id, const struct dpsec_addr *peer)
{
	for (int i = 0; i < CP_MAX_ACQUIRES; i++)
		if (c->acq[i].used && c->acq[i].rule_id == rule_id &&
		    memcmp(&c->acq[i].peer, peer, sizeof(*peer)) == 0)
			return &c->acq[i];
	return NULL;
}

static struct cp_acquire *new_acquire(struct cp_ctx *c)
{
	for (int i = 0; i < CP_MAX_ACQUIRES; i++)
		if (!c->acq[i].used)
			return &c->acq[i];
	return NULL;
}

int cp_negotiate_start(struct cp_ctx *c, struct cp_acquire *a)
{
	char p[64];

	if (cp_ike_initiate(c, a) == 0)
		return 0;
	cp_log(LOG_INFO, "negotiation with %s for rule %08x: no IKE policy for it; waiting "
	       "%u ms for the policy's fallback", addr_str(&a->peer, p, sizeof(p)), a->rule_id,
	       c->store.timeouts.fallback_ms);
	return -1;
}

void cp_acquire_event(struct cp_ctx *c, const struct dpsec_ev_acquire *ev)
{
	struct cp_acquire *a = find_acquire(c, ev->rule_id, &ev->peer);

	if (a != NULL) { /* dpsecd repeats it while packets come: one negotiation */
		a->reconnect = false; /* packets held for it now: its fallback applies */
		return;
	}
	c->mm[CP_MM_total_acquire]++;
	a = new_acquire(c);
	if (a == NULL) {
		c->mm[CP_MM_acquire_failures]++;
		cp_log(LOG_WARNING, "too many negotiations in progress: ACQUIRE for rule %08x dropped",
		       ev->rule_id);
		return;
	}
	memset(a, 0, sizeof(*a));
	a->used = true;
	a->rule_id = ev->rule_id;
	a->peer = ev->peer;
	a->deadline_ns = cp_now_ns() + (uint64_t)c->store.timeouts.fallback_ms * 1000000ull;
	c->mm[CP_MM_active_acquire]++;
	c->mm[CP_MM_acquire_heap_size]++;
	/* a pair is up for them that dpsecd's rule does not carry yet (the
	 * poll's sync is to come, or its packets raised this on their way):
	 * no second negotiation (IKEv1 would keep both pairs); the held
	 * packets go through it after the sync (cp_acquires_synced) */
	a->awaits_sync = cp_ike_pair_up_for(c, ev->rule_id, &ev->peer);
	if (!a->awaits_sync)
		cp_negotiate_start(c, a);
}

void cp_reconnect(struct cp_ctx *c, uint32_t rule_id, const struct dpsec_addr *peer)
{
	struct cp_acquire *a;
	char p[64];

	if (find_acquire(c, rule_id, peer) != NULL || (a = new_acquire(c)) == NULL)
		return;
	memset(a, 0, sizeof(*a));
	a->used = a->reconnect = true;
	a->rule_id = rule_id;
	a->peer = *peer;
	a->deadline_ns = cp_now_ns() + (uint64_t)c->store.timeouts.fallback_ms * 1000000ull;
	addr_str(peer, p, sizeof(p));
	if (cp_ike_initiate(c, a) < 0) {
		a->used = false;
		cp_log(LOG_NOTICE, "reconnect to %s for rule %08x not started; its next packet will "
		       "negotiate", p, rule_id);
		return;
	}
	c->mm[CP_MM_active_acquire]++;
	c->mm[CP_MM_acquire_heap_size]++;
	cp_log(LOG_NOTICE, "reconnecting to %s for rule %08x: its SAs were dropped", p, rule_id);
}

bool cp_rule_tunnels_to(struct cp_ctx *c, uint32_t rule_id, const struct dpsec_addr *peer)
{
	const struct cfg_compiled *cc = cp_compiled(c, NULL, 0);

	for (uint32_t i = 0; cc != NULL && i < cc->n_rules; i++)
		if (cc->rules[i].id == rule_id)
			return cp_rule_is_tunnel_to(&cc->rules[i], peer);
	return false;
}

const struct cfg_filter_action *cp_rule_action(struct cp_ctx *c, uint32_t rule_id,
					       char name[DPSEC_NAME_MAX])
{
	const struct cfg_compiled *cc = cp_compiled(c, NULL, 0);
	const struct cfg_filter_action *fa = NULL;

	for (uint32_t i = 0; cc != NULL && i < cc->n_rules; i++)
		if (cc->rules[i].id == rule_id && cc->origin[i] != NULL) {
			fa = cfg_store_filter_action(&c->store, cc->origin[i]->filter_action);
			snprintf(name, DPSEC_NAME_MAX, "%s", cc->rules[i].name);
		}
	return fa;
}

struct cp_dyn_rule *cp_dyn_add(struct cp_ctx *c, uint8_t kind, uint32_t generic_id,
				   const char *name, const struct dpsec_addr *peer, uint64_t ttl_ns)
{
	for (int i = 0; i < CP_MAX_DYN_RULES; i++) {
		struct cp_dyn_rule *d = &c->dyn[i];

		if (d->used)
			continue;
		memset(d, 0, sizeof(*d));
		d->used = true;
		d->kind = kind;
		d->id = CP_DYN_RULE_BIT | ++c->next_dyn_id;
		d->generic_id = generic_id;
		d->sa_out = d->sa_sent = DPSEC_SA_NONE;
		snprintf(d->generic_name, sizeof(d->generic_name), "%s", name);
		d->peer = *peer;
		d->expires_ns = ttl_ns == UINT64_MAX ? UINT64_MAX : cp_now_ns() + ttl_ns;
		return d;
	}
	return NULL;
}

static void release_held(struct cp_ctx *c, const struct cp_acquire *a, uint8_t result)
{
	struct dpsec_cmd_acquire_done d = { .rule_id = a->rule_id, .result = result, .peer = a->peer };
	char err[CP_ERR_MAX] = "";

	if (cp_cmd_send(c, DPSEC_CMD_ACQUIRE_DONE, &d, sizeof(d)) == 0)
		cp_cmd_wait(c, 2000, err, sizeof(err)); /* nothing held any more: harmless */
}

/* No negotiation concluded (why: no answer, or IKE's reason): soft
 * association or a blocked peer. */
static void fallback(struct cp_ctx *c, struct cp_acquire *a, const char *why)
{
	char name[DPSEC_NAME_MAX] = "?", p[64], err[CP_ERR_MAX] = "";
	const struct cfg_filter_action *fa;
	bool soft;
	uint64_t ttl_s;

	c->mm[CP_MM_active_acquire]--;
	c->mm[CP_MM_acquire_heap_size]--;
	addr_str(&a->peer, p, sizeof(p));
	if (a->reconnect) {
		cp_log(LOG_NOTICE, "reconnect to %s for rule %08x failed: %s; its next packet will "
		       "negotiate", p, a->rule_id, why);
		a->used = false;
		return;
	}
	fa = cp_rule_action(c, a->rule_id, name);
	soft = fa != NULL && fa->fallback_to_clear;
	ttl_s = soft ? c->store.timeouts.idle_seconds : c->store.timeouts.block_seconds;
	if (soft)
		c->mm[CP_MM_soft_associations]++;
	else {
		c->mm[CP_MM_acquire_failures]++;
		c->mm[CP_MM_negotiation_failures]++;
		cp_audit("negotiation failed: rule \"%s\", peer %s: %s; its traffic is blocked for %u s",
			 name, p, why, c->store.timeouts.block_seconds);
	}
	if (fa != NULL && cp_dyn_add(c, soft ? CP_DYN_SOFT : CP_DYN_BLOCK, a->rule_id, name, &a->peer,
				  (ttl_s ? ttl_s : 1) * 1000000000ull) == NULL)
		cp_log(LOG_WARNING, "too many per-peer rules: peer %s of rule \"%s\" not recorded", p, name);
	else if (soft)
		cp_log(LOG_NOTICE, "soft association with %s (rule \"%s\"): %s, the policy allows "
		       "clear traffic", p, name, why);
	if (cp_apply(c, err, sizeof(err)) < 0)
		cp_log(LOG_ERR, "per-peer rule for %s not applied: %s", p, err);
	release_held(c, a, soft ? DPSEC_ACQUIRE_SEND : DPSEC_ACQUIRE_DROP);
	a->used = false;
}

/* The held packets go out through an SA the peer has. */
static void concluded(struct cp_ctx *c, struct cp_acquire *a)
{
	cp_sync_if_wanted(c); /* the pair's rule in dpsecd first */
	c->mm[CP_MM_active_acquire]--;
	c->mm[CP_MM_acquire_heap_size]--;
	release_held(c, a, DPSEC_ACQUIRE_SEND);
	a->used = false;
}

void cp_negotiate_done(struct cp_ctx *c, uint32_t rule_id, const struct dpsec_addr *peer, bool ok,
		       const char *why)
{
	struct cp_acquire *a = find_acquire(c, rule_id, peer);
	char p[64];

	if (a == NULL)
		return; /* the peer started it, or the fallback came first */
	if (ok) {
		concluded(c, a);
	} else if (a->peer_pair_up) {
		cp_log(LOG_NOTICE, "negotiation with %s for rule %08x: %s; its held packets go through "
		       "the pair the peer negotiated", addr_str(peer, p, sizeof(p)), rule_id, why);
		concluded(c, a);
	} else {
		fallback(c, a, why);
	}
}

void cp_acquires_synced(struct cp_ctx *c)
{
	for (int i = 0; i < CP_MAX_ACQUIRES; i++)
		if (c->acq[i].used && c->acq[i].awaits_sync)
			concluded(c, &c->acq[i]);
}

void cp_negotiate_answered(struct cp_ctx *c, uint32_t rule_id, const struct dpsec_addr *peer)
{
	struct cp_acquire *a = find_acquire(c, rule_id, peer);

	if (a != NULL)
		a->peer_pair_up = true;
}

void cp_timers(struct cp_ctx *c)
{
	char why[64];

	uint64_t now = cp_now_ns();
	bool changed = false;
	char err[CP_ERR_MAX] = "";

	for (int i = 0; i < CP_MAX_ACQUIRES; i++)
		if (c->acq[i].used && now >= c->acq[i].deadline_ns) {
			snprintf(why, sizeof(why), "no answer within %u ms", c->store.timeouts.fallback_ms);
			cp_negotiate_done(c, c->acq[i].rule_id, &c->acq[i].peer, false, why);
		}
	for (int i = 0; i < CP_MAX_DYN_RULES; i++)
		if (c->dyn[i].used && now >= c->dyn[i].expires_ns) {
			c->dyn[i].used = false; /* a block served, or a soft association aged out */
			changed = true;
		}
	if (changed && cp_apply(c, err, sizeof(err)) < 0)
		cp_log(LOG_ERR, "removing expired per-peer rules: %s", err);
}

void cp_expire_event(struct cp_ctx *c, const struct dpsec_ev_sa_expire *ev)
{
	static const char *const kinds[] = { "soft", "hard", "idle", "sequence" };
	const char *kind = ev->kind < 4 ? kinds[ev->kind] : "unknown";
	struct dpsec_cmd_sa_del d = { .sa_id = ev->sa_id };

	if (!cp_sa_holds(c, ev->sa_id, ev->spi, ev->direction)) {
		cp_log(LOG_DEBUG, "SA id %u SPI 0x%08x: %s lifetime event about an SA already deleted",
		       ev->sa_id, ev->spi, kind);
		return;
	}
	if (ev->kind == DPSEC_EXPIRE_SOFT && cp_ike_soft_expire(c, ev->sa_id))
		return;
	if (ev->kind == DPSEC_EXPIRE_IDLE && cp_ike_idle_expire(c, ev->sa_id))
		return;
	if (ev->kind == DPSEC_EXPIRE_HARD && cp_ike_hard_expire(c, ev->sa_id))
		return;
	if (ev->kind != DPSEC_EXPIRE_HARD) {
		cp_log(LOG_NOTICE, "SA id %u SPI 0x%08x: %s lifetime reached after %llu packets, %llu "
		       "bytes (a static SA is not rekeyed)", ev->sa_id, ev->spi, kind,
		       (unsigned long long)ev->packets, (unsigned long long)ev->bytes);
		return;
	}
	cp_audit("SA deleted: id %u SPI 0x%08x, hard lifetime reached", ev->sa_id, ev->spi);
	cp_sa_id_release(c, ev->sa_id);
	cp_cmd_post(c, DPSEC_CMD_SA_DEL, &d, sizeof(d));
}
