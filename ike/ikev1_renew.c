/* ikev1_renew.c - an ISAKMP SA replaced before its lifetime ends. IKEv1
 * has no rekey of the ISAKMP SA (RFC 2409): a new Main Mode with the same
 * peer takes its place. Quick Mode SAs are not bound to the ISAKMP SA that
 * made them, so when the new one is up it adopts them (IKE_REKEYED, old to
 * new) and the side that renewed deletes the old one. The responder adopts
 * too, which is also how a peer's re-authentication (strongSwan's IKEv1
 * reauth, make-before-break) keeps the traffic flowing. Adoption is by
 * peer: the same policy tag, address and identity. */
#include <errno.h>
#include <string.h>

#include "ike_auth.h"
#include "ikev1_exchange.h"

static bool same_peer(const struct ikev1_sa *a, const struct ikev1_sa *b)
{
	return a->peer.user == b->peer.user &&
	       memcmp(&a->remote.addr, &b->remote.addr, sizeof(a->remote.addr)) == 0 &&
	       ike_id_matches(&a->peer_id, &b->peer_id);
}

bool ikev1_peer_has_sa(const struct ikev1_engine *e, const struct ikev1_sa *sa)
{
	for (size_t i = 0; i < e->n_sas; i++) {
		const struct ikev1_sa *o = e->sas[i];

		if (o != sa && o->state == IKEV1_S_ESTABLISHED &&
		    memcmp(&o->remote.addr, &sa->remote.addr, sizeof(o->remote.addr)) == 0)
			return true;
	}
	return false;
}

/* The SA this one replaces: the one we renewed, else an older one with
 * the same peer that still holds Quick Mode SAs. */
static struct ikev1_sa *predecessor(struct ikev1_engine *e, const struct ikev1_sa *sa)
{
	for (size_t i = 0; i < e->n_sas; i++) {
		struct ikev1_sa *o = e->sas[i];

		if (o == sa || o->state != IKEV1_S_ESTABLISHED)
			continue;
		if (sa->renewal ? memcmp(&o->id, &sa->renews, sizeof(o->id)) == 0
				: o->children.n > 0 && same_peer(o, sa))
			return o;
	}
	return NULL;
}

static void move_children(struct ikev1_sa *to, struct ikev1_sa *from)
{
	while (from->children.n > 0 && to->children.n < IKE_SA_MAX_CHILDREN) {
		struct ike_child_rec *c = &from->children.rec[from->children.n - 1];

		ike_child_recs_add(&to->children, c);
		ike_child_recs_remove(&from->children, c);
	}
}

void ikev1_adopt(struct ikev1_engine *e, struct ikev1_sa *sa, uint64_t now)
{
	struct ikev1_sa *old = predecessor(e, sa);
	struct ikev2_event ev;
	struct ike_err err = { 0 };
	uint8_t cookies[16];
	unsigned moved;

	if (old == NULL)
		return;
	moved = old->children.n;
	move_children(sa, old);
	moved -= old->children.n;
	ev = ikev1_event_for(old, IKEV2_EV_IKE_REKEYED);
	ev.rekeyed.new_sa = sa->id;
	ev.rekeyed.initiator = sa->initiator;
	ikev1_emit(e, &ev);
	ikev1_count(e, IKEV1_STAT_IKE_RENEWED);
	ikev1_sa_log(sa, e, 5, now, "replaces an older ISAKMP SA: %u quick mode SAs adopted", moved);
	ikev1_sa_log(old, e, 5, now, "replaced by a new Main Mode: its %u quick mode SAs moved", moved);
	if (!sa->renewal)
		return; /* the peer renewed: it deletes the old one */
	memcpy(cookies, old->id.spi_i, 8);
	memcpy(cookies + 8, old->id.spi_r, 8);
	ikev1_info_send_delete(e, old, IKE_PROTO_IKE, cookies, 16, now, &err);
	ikev1_sa_down(e, old, now, "replaced by a new Main Mode");
}

int ikev1_renew(struct ikev1_engine *e, const struct ikev2_sa_id *id, uint64_t now_ms,
		struct ikev2_sa_id *out, struct ike_err *err)
{
	struct ikev1_sa *old = ikev1_find_sa(e, id), *sa;
	int rc;

	if (old == NULL || old->state != IKEV1_S_ESTABLISHED)
		return ike_fail(err, old ? -EAGAIN : -ENOENT, "renew: %s",
				old ? "the ISAKMP SA is not established" : "no such ISAKMP SA");
	for (size_t i = 0; i < e->n_sas; i++)
		if (e->sas[i]->renewal && memcmp(&e->sas[i]->renews, &old->id, sizeof(old->id)) == 0 &&
		    e->sas[i]->state != IKEV1_S_CLOSED)
			return ike_fail(err, -EALREADY, "renew: a new Main Mode is already under way");
	sa = ikev1_sa_new(true);
	if (sa == NULL || ikev1_sa_insert(e, sa)) {
		ikev1_sa_free(sa);
		return ike_fail(err, -ENOMEM, "renew: no memory for an ISAKMP SA");
	}
	sa->peer = old->peer;
	sa->local = old->local;
	sa->remote = old->remote;
	sa->local.port = sa->remote.port = IKEV1_PORT; /* NAT detection runs again */
	sa->renewal = true;
	sa->renews = old->id;
	*out = sa->id;
	rc = ikev1_main_start(e, sa, now_ms, err);
	if (rc)
		ikev1_set_state(sa, IKEV1_S_CLOSED, now_ms, e);
	else
		ikev1_sa_log(old, e, 5, now_ms, "renewal: a new Main Mode started");
	return rc;
}
