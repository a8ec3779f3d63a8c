/* ikev2_ike_rekey.c - the IKE SA rekey (RFC 7296 §1.3.2, §2.18), a
 * CREATE_CHILD_SA with IKE proposals: new SPIs, a SKEYSEED from the old
 * SK_d and a fresh g^ir, the children moved to the new SA, and the old
 * one deleted by the rekey's initiator. Both peers rekeying the IKE SA at
 * once (§2.8.2): both exchanges complete, the new SA of the one holding
 * the lowest of the four nonces is deleted by its initiator, and the
 * other takes the children once that is settled. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ike_prf.h"
#include "ikev2_exchange.h"
#include "ikev2_proposal.h"

/* ---- the new IKE SA of a rekey ---- */

struct ike_rekey {
	struct ike_mm_method mm;
	uint8_t spi_i[8], spi_r[8];
	bool initiator; /* of the rekey: the new SA's original initiator */
	struct ike_chunk g_ir, ni, nr;
};

static int rekeyed_keys(struct ikev2_sa *sa, const struct ikev2_sa *old, const struct ike_rekey *r,
			struct ike_err *err)
{
	uint8_t seed[IKE_PRF_MAX];
	int rc = ikev2_skeyseed_rekey(old->mm.suite.prf, IKE_CHUNK(old->keys.sk_d, old->keys.prf_len),
				      r->g_ir, r->ni, r->nr, seed, err);

	if (rc == 0)
		rc = ikev2_keys_init(&sa->keys, &r->mm.suite, r->initiator, err);
	if (rc == 0)
		rc = ikev2_keys_derive(&sa->keys, seed, r->ni, r->nr, r->spi_i, r->spi_r, err);
	OPENSSL_cleanse(seed, sizeof(seed));
	return rc;
}

/* The new SA of an IKE SA rekey: the old one's policy and peer, new keys,
 * established; the children move by ike_rekey_adopt(). NULL with err. */
static struct ikev2_sa *ike_rekey_new(struct ikev2_engine *e, struct ikev2_sa *old,
				      const struct ike_rekey *r, uint64_t now, struct ike_err *err)
{
	struct ikev2_sa *sa = ikev2_sa_new(r->initiator);

	if (sa == NULL || ikev2_sa_insert(e, sa)) {
		ikev2_sa_free(sa);
		ike_fail(err, -ENOMEM, "IKE SA rekey: no memory for the new SA");
		return NULL;
	}
	memcpy(sa->id.spi_i, r->spi_i, 8);
	memcpy(sa->id.spi_r, r->spi_r, 8);
	sa->peer = old->peer;
	sa->have_peer = true;
	sa->local = old->local;
	sa->remote = old->remote;
	sa->local_nat = old->local_nat;
	sa->remote_nat = old->remote_nat;
	sa->frag_ok = old->frag_ok;
	sa->peer_id = old->peer_id;
	sa->mm = r->mm;
	if (rekeyed_keys(sa, old, r, err)) {
		ikev2_set_state(sa, IKEV2_S_CLOSED, now, e);
		return NULL;
	}
	ikev2_set_state(sa, IKEV2_S_ESTABLISHED, now, e);
	return sa;
}

/* The rekey is done: sa replaces old and takes its children
 * (IKE_REKEYED); old is left for its delete. */
static void ike_rekey_adopt(struct ikev2_engine *e, struct ikev2_sa *old, struct ikev2_sa *sa,
			    uint64_t now)
{
	struct ikev2_event ev = ikev2_event_for(old, IKEV2_EV_IKE_REKEYED);

	sa->children = old->children;
	old->children.n = 0;
	old->rekeyed = true;
	ikev2_sa_log(sa, e, 5, now, "IKE SA rekeyed: this SA replaces the old one");
	ikev2_sa_log(old, e, 5, now, "IKE SA rekeyed: children moved to the new SA");
	ikev2_count(e, IKEV2_STAT_IKE_REKEYS);
	ev.rekeyed.new_sa = sa->id;
	ev.rekeyed.initiator = sa->initiator;
	ikev2_emit(e, &ev);
}

/* ---- IKE SA rekeys: two colliding (RFC 7296 §2.8.2) ---- */

/* The peer's rekey of sa answered, its new SA n made of nonces ni and nr:
 * n takes the children, unless our own rekey of sa is out; then which new
 * SA stays waits for our answer (ike_rekey_settle). Either way sa is
 * replaced: another rekey of it is refused TEMPORARY_FAILURE. */
static void ike_rekey_answered(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_sa *n,
			       struct ike_chunk ni, struct ike_chunk nr, uint64_t now)
{
	struct ike_chunk low = ikev2_nonce_lower(ni, nr);

	if (sa->req.kind != IKEV2_REQ_REKEY_IKE) {
		ike_rekey_adopt(e, sa, n, now);
		return;
	}
	sa->rekeyed = true;
	sa->req.collided = true;
	sa->req.collided_sa = n->id;
	sa->req.collided_nonce_len = (uint16_t)low.len;
	memcpy(sa->req.collided_nonce, low.p, low.len);
	ikev2_sa_log(sa, e, 5, now, "IKE SA rekey collision: the peer's rekey answered while ours is out");
}

/* The peer's new SA of a collision noted on sa, if it is still up. */
static struct ikev2_sa *collided_ike_sa(struct ikev2_engine *e, const struct ikev2_sa *sa)
{
	struct ikev2_sa *theirs;

	if (sa->req.kind != IKEV2_REQ_REKEY_IKE || !sa->req.collided)
		return NULL;
	theirs = ikev2_find_sa(e, &sa->req.collided_sa);
	return theirs != NULL && theirs->state == IKEV2_S_ESTABLISHED ? theirs : NULL;
}

/* Our rekey of sa answered, its new SA n made of nonces ni and nr. Alone:
 * n takes the children and we delete sa. After a collision the new SA
 * made by the exchange holding the lowest of the four nonces is
 * redundant: that exchange's initiator deletes it, the other takes the
 * children, and its initiator deletes sa. */
static void ike_rekey_settle(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_sa *n,
			     struct ike_chunk ni, struct ike_chunk nr, uint64_t now)
{
	struct ikev2_sa *theirs = collided_ike_sa(e, sa);
	struct ike_chunk theirs_low = IKE_CHUNK(sa->req.collided_nonce, sa->req.collided_nonce_len);
	bool ours_goes;

	if (theirs == NULL) {
		ike_rekey_adopt(e, sa, n, now);
		ikev2_sa_task_add(sa, IKEV2_REQ_DELETE_IKE, 0);
		return;
	}
	ours_goes = ikev2_nonce_cmp(ikev2_nonce_lower(ni, nr), theirs_low) < 0;
	ikev2_count(e, IKEV2_STAT_REKEY_COLLISIONS);
	ikev2_sa_log(sa, e, 5, now,
		     "IKE SA rekey collision: both sides rekeyed it; the lowest nonce is in %s "
		     "exchange, whose new SA %s",
		     ours_goes ? "our" : "the peer's", ours_goes ? "we delete" : "the peer deletes");
	ike_rekey_adopt(e, sa, ours_goes ? theirs : n, now);
	if (!ours_goes) {
		ikev2_sa_task_add(sa, IKEV2_REQ_DELETE_IKE, 0);
		return;
	}
	ikev2_sa_task_add(n, IKEV2_REQ_DELETE_IKE, 0);
	ikev2_start_next(e, n, now);
}

bool ikev2_rekey_hand_over(struct ikev2_engine *e, struct ikev2_sa *sa, uint64_t now)
{
	struct ikev2_sa *theirs = collided_ike_sa(e, sa);

	if (theirs == NULL)
		return false;
	ikev2_sa_log(sa, e, 5, now, "IKE SA rekey collision: our rekey did not complete, the peer's did");
	ike_rekey_adopt(e, sa, theirs, now);
	return true;
}

int ikev2_ike_rekey_start(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_tx *t,
			  uint16_t group, struct ike_err *err)
{
	union ikev2_body *b = malloc(sizeof(*b));
	int rc = b ? 0 : -ENOMEM;

	if (rc == 0)
		rc = ikev2_random(sa->req.ike_spi, 8, err);
	if (rc == 0)
		rc = ikev2_sa_from_mm(sa->peer.mm, sa->peer.n_mm, sa->req.ike_spi, &b->sa);
	if (rc == 0)
		ikev2_tx_add(t, IKEV2_PL_SA, b);
	free(b);
	if (rc)
		return ike_fail(err, rc, "IKE SA rekey: our proposals make no SA payload");
	return ikev2_nonce_and_ke(e, t, sa->req.nonce, group ? group : sa->peer.mm[0].dh_group,
				  &sa->req.dh, err);
}

int ikev2_ike_rekey_answer(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx)
{
	union ikev2_body *b = malloc(sizeof(*b));
	struct ikev2_sa *n = NULL;
	uint8_t g_ir[IKE_DH_SECRET_MAX];
	struct ike_rekey r = { .initiator = true };
	struct ike_mm_offer got;
	struct ike_blob nr = { 0 };
	size_t g_len = 0, chosen = 0;
	int rc = b && ikev2_rx_body(rx, IKEV2_PL_SA, b) && ikev2_nonce_read(rx, &nr)
			 ? 0
			 : ike_fail(rx->err, -EBADMSG, "IKE SA rekey answer without SA and nonce");

	if (rc == 0)
		rc = ikev2_mm_answer(&b->sa, sa->peer.mm, sa->peer.n_mm, &got, &chosen, rx->err);
	if (rc == 0 && got.spi_len != 8)
		rc = ike_fail(rx->err, -EBADMSG, "IKE SA rekey: the answer has no 8-byte SPI");
	free(b);
	if (rc == 0)
		rc = ikev2_shared_secret(rx, sa->req.dh, g_ir, &g_len, rx->err);
	if (rc == 0) {
		r.mm = sa->peer.mm[chosen];
		memcpy(r.spi_i, sa->req.ike_spi, 8);
		memcpy(r.spi_r, got.spi, 8);
		r.g_ir = IKE_CHUNK(g_ir, g_len);
		r.ni = IKE_CHUNK(sa->req.nonce, IKEV2_NONCE_LEN);
		r.nr = IKE_CHUNK(nr.p, nr.len);
		n = ike_rekey_new(e, sa, &r, rx->now, rx->err);
		rc = n != NULL ? 0 : rx->err->code;
	}
	if (rc == 0)
		ike_rekey_settle(e, sa, n, r.ni, r.nr, rx->now);
	OPENSSL_cleanse(g_ir, sizeof(g_ir));
	return rc;
}

int ikev2_ike_rekey_request(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx,
			    const struct ike_mm_offer *offers, size_t n_offers,
			    const struct ike_blob *ni)
{
	uint8_t nr[IKEV2_NONCE_LEN], g_ir[IKE_DH_SECRET_MAX];
	struct ike_rekey r = { .initiator = false };
	union ikev2_body *b = malloc(sizeof(*b));
	struct ikev2_sa *n = NULL;
	struct ike_choice c;
	struct ikev2_tx t;
	size_t g_len = 0;
	int rc;

	if (b == NULL || ike_mm_select(sa->peer.mm, sa->peer.n_mm, offers, n_offers, &c) ||
	    offers[c.offer].spi_len != 8) {
		free(b);
		return ikev2_child_refuse(e, sa, rx, IKEV2_N_NO_PROPOSAL_CHOSEN, NULL, 0,
					  "IKE SA rekey: no method of ours offered with an SPI");
	}
	r.mm = sa->peer.mm[c.method];
	if (!ikev2_ke_group_ok(rx, r.mm.dh_group)) {
		free(b);
		return ikev2_invalid_ke(e, sa, rx, r.mm.dh_group);
	}
	memcpy(r.spi_i, offers[c.offer].spi, 8);
	rc = ikev2_random(r.spi_r, 8, rx->err);
	if (rc == 0)
		rc = ikev2_sa_answer_mm(&r.mm, offers[c.offer].num, r.spi_r, &b->sa) ? -EINVAL : 0;
	ikev2_tx_begin(e, sa, &t, IKEV2_CREATE_CHILD_SA, true, rx->m.hdr.msg_id);
	if (rc == 0) {
		ikev2_tx_add(&t, IKEV2_PL_SA, b);
		rc = ikev2_responder_keys(e, rx, &t, nr, r.mm.dh_group, g_ir, &g_len);
	}
	free(b);
	if (rc == 0)
		rc = ikev2_send_response(e, sa, &t, rx->err);
	r.g_ir = IKE_CHUNK(g_ir, g_len);
	r.ni = IKE_CHUNK(ni->p, ni->len);
	r.nr = IKE_CHUNK(nr, sizeof(nr));
	if (rc == 0 && (n = ike_rekey_new(e, sa, &r, rx->now, rx->err)) == NULL)
		rc = rx->err->code;
	if (rc == 0)
		ike_rekey_answered(e, sa, n, r.ni, r.nr, rx->now);
	OPENSSL_cleanse(g_ir, sizeof(g_ir));
	OPENSSL_cleanse(nr, sizeof(nr));
	return rc;
}
