/* test_ikev2_rekeys.c - Check tests of the IKEv2 engine's rekeys that do
 * not go the plain way (ike/ikev2_child.c), in the two-peer world of
 * ikev2_world.h: both peers rekeying one child SA at once (RFC 7296
 * §2.8.1) or the IKE SA at once (§2.8.2), a rekey of an SA the other side
 * already replaced (TEMPORARY_FAILURE, §2.25), and a refused rekey's
 * FAILED naming the SA it was to replace, which stays. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ikev2_exchange.h"
#include "ikev2_world.h"

/* Every datagram either side has sent, or sends while answering,
 * delivered, until both are quiet. */
static void until_quiet(struct world *w)
{
	for (int k = 0; k < 32; k++) {
		struct side *from = NULL;

		drain(&w->i);
		drain(&w->r);
		if (w->i.box.n_out > 0)
			from = &w->i;
		else if (w->r.box.n_out > 0)
			from = &w->r;
		if (from == NULL)
			return;
		free(step(w, from).data);
	}
	ck_abort_msg("the peers still talk after 32 datagrams");
}

/* Each side holds one child SA, and the two are the halves of one pair. */
static void one_pair_left(struct world *w, const struct ikev2_sa_id *id)
{
	const struct ike_child_recs *ci = &ikev2_find_sa(w->i.e, id)->children;
	const struct ike_child_recs *cr = &ikev2_find_sa(w->r.e, id)->children;

	ck_assert_uint_eq(ci->n, 1);
	ck_assert_uint_eq(cr->n, 1);
	ck_assert_uint_eq(ci->rec[0].spi_in, cr->rec[0].spi_out);
	ck_assert_uint_eq(ci->rec[0].spi_out, cr->rec[0].spi_in);
}

/* Both peers start rekeying the child SA (or with ike the IKE SA) at
 * once, their requests crossing; the requests, not yet delivered, into
 * *qi and *qr. */
static struct ikev2_sa_id crossing_rekeys(struct world *w, bool ike, struct msg *qi, struct msg *qr)
{
	struct ike_err err = { 0 };
	struct ikev2_sa_id id;

	id = world_up(w);
	for (int k = 0; k < 2; k++) {
		struct side *s = k ? &w->r : &w->i;

		ck_assert_int_eq(ike ? ikev2_rekey_ike(s->e, &id, w->now, &err)
				     : ikev2_rekey_child(s->e, &id, child_of(s)->in.spi, w->now, &err),
				 0);
	}
	*qi = take(&w->i);
	*qr = take(&w->r);
	return id;
}

/* The lower of the nonces of an exchange's request q and answer a, as
 * byte strings (q opened by the responder rs, a by the initiator is): the
 * collision rule's view of that exchange. */
static void exchange_low_nonce(struct side *rs, const struct msg *q, struct side *is,
			       const struct msg *a, uint8_t *low, size_t *low_len)
{
	static uint8_t buf[2][IKE_MSG_MAX];
	union ikev2_body nq, na;
	size_t n;
	int d;

	ck_assert(body_of(rs, q, IKEV2_PL_NONCE, &nq, buf[0]));
	ck_assert(body_of(is, a, IKEV2_PL_NONCE, &na, buf[1]));
	n = nq.nonce.len < na.nonce.len ? nq.nonce.len : na.nonce.len;
	d = memcmp(nq.nonce.p, na.nonce.p, n);
	if (d == 0)
		d = nq.nonce.len - na.nonce.len;
	*low_len = d <= 0 ? nq.nonce.len : na.nonce.len;
	memcpy(low, d <= 0 ? nq.nonce.p : na.nonce.p, *low_len);
}

/* The crossing requests qi, qr each delivered while the receiver's own is
 * out, their answers taken into *ai, *ar (not delivered). Returns whether
 * the initiator's exchange holds the lowest of the four nonces. */
static bool requests_cross(struct world *w, const struct msg *qi, const struct msg *qr,
			   struct msg *ai, struct msg *ar)
{
	uint8_t low_i[IKEV2_NONCE_MAX], low_r[IKEV2_NONCE_MAX];
	size_t len_i, len_r, n;

	deliver(w, &w->r, qi);
	*ar = take(&w->r); /* the responder's answer to the initiator's rekey */
	deliver(w, &w->i, qr);
	*ai = take(&w->i);
	exchange_low_nonce(&w->r, qi, &w->i, ar, low_i, &len_i);
	exchange_low_nonce(&w->i, qr, &w->r, ai, low_r, &len_r);
	n = len_i < len_r ? len_i : len_r;
	return memcmp(low_i, low_r, n) < 0 || (memcmp(low_i, low_r, n) == 0 && len_i < len_r);
}

/* The answers of requests_cross() delivered, the four messages freed, and
 * whatever follows exchanged until both sides are quiet. */
static void answers_cross(struct world *w, struct msg *qi, struct msg *qr, struct msg *ai,
			  struct msg *ar)
{
	deliver(w, &w->i, ar);
	deliver(w, &w->r, ai);
	free(qi->data);
	free(qr->data);
	free(ai->data);
	free(ar->data);
	until_quiet(w);
}

/* collide() until each side's exchange has held the lowest nonce (the
 * nonces are random: twice in a row the same is as likely as not). */
static void each_side_lowest_once(bool (*collide)(void))
{
	bool seen[2] = { false, false };

	for (int k = 0; k < 64 && !(seen[0] && seen[1]); k++)
		seen[collide()] = true;
	ck_assert(seen[0] && seen[1]);
}

/* The child SA s holds now was made by an exchange s initiated (or by
 * one the other side initiated). */
static bool kept_own(struct side *s, const struct ikev2_sa_id *id)
{
	uint32_t spi = ikev2_find_sa(s->e, id)->children.rec[0].spi_in;

	drain(s);
	for (int k = 0; k < s->box.n_ev; k++)
		if (s->box.ev[k].kind == IKEV2_EV_CHILD_UP && s->box.ev[k].child->in.spi == spi)
			return s->box.ev[k].child->initiator;
	ck_abort_msg("%s: no CHILD_UP for the child SA it holds", s->box.name);
	return false;
}

/* Each request reaches the other peer while its own is out (RFC 7296
 * §2.8.1): both are answered and both new child SAs come up; then the
 * one made by the exchange holding the lowest of the four nonces is
 * deleted by that exchange's initiator, and the old one by both. One
 * pair is left, the other exchange's; each side saw the collision once
 * and took two child SAs down. Returns whether the initiator's exchange
 * held the lowest nonce. */
static bool rekeys_collide(void)
{
	struct world w;
	struct msg qi, qr, ai, ar;
	struct ikev2_sa_id id = crossing_rekeys(&w, false, &qi, &qr);
	bool i_exchange_goes = requests_cross(&w, &qi, &qr, &ai, &ar);

	answers_cross(&w, &qi, &qr, &ai, &ar);
	one_pair_left(&w, &id);
	ck_assert(kept_own(&w.i, &id) == !i_exchange_goes);
	ck_assert(kept_own(&w.r, &id) == i_exchange_goes);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 3);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_UP), 3);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_DOWN), 2);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_DOWN), 2);
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_REKEY_COLLISIONS), 1);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_REKEY_COLLISIONS), 1);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_FAILED) + count_ev(&w.r, IKEV2_EV_FAILED), 0);
	world_end(&w);
	return i_exchange_goes;
}

START_TEST(simultaneous_child_rekeys_settled)
{
	each_side_lowest_once(rekeys_collide);
}
END_TEST

/* The initiator's rekey completes before the responder's request
 * reaches it: the child SA named is already replaced, and the request is
 * answered TEMPORARY_FAILURE (RFC 7296 §2.25), not with a second new
 * child SA. One pair is left, the one the initiator's rekey made. */
START_TEST(rekey_of_a_replaced_child_refused)
{
	struct world w;
	struct msg qi, qr;
	struct ikev2_sa_id id = crossing_rekeys(&w, false, &qi, &qr);
	uint32_t old_r = child_of(&w.r)->in.spi, made;

	deliver(&w, &w.r, &qi);
	free(qi.data);
	free(step(&w, &w.r).data); /* the answer: the initiator's rekey is done */
	made = last_ev(&w.i, IKEV2_EV_CHILD_UP)->child->in.spi;
	deliver(&w, &w.i, &qr);
	free(qr.data);
	until_quiet(&w);
	one_pair_left(&w, &id);
	ck_assert_uint_eq(ikev2_find_sa(w.i.e, &id)->children.rec[0].spi_in, made);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_FAILED)->reason.notify, IKEV2_N_TEMPORARY_FAILURE);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_FAILED)->reason.rekey_spi_in, old_r);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_FAILED)->reason.rekey_spi_in, 0); /* it refused */
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 2);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_UP), 2);
	world_end(&w);
}
END_TEST

/* Our rekey of a child SA refused (here the responder's policy for the
 * IKE SA changed, and no proposal fits): FAILED names the child SA by its
 * inbound SPI, which stays up and not replaced, so that the caller can
 * rekey it again (RFC 7296 §2.25); the responder's FAILED, for a refusal
 * of its own, names none. The next try succeeds. */
START_TEST(refused_rekey_names_the_child)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	struct ike_qm_method other = qm_gcm;
	struct ikev2_event *f;
	uint32_t old;

	id = world_up(&w);
	old = child_of(&w.i)->in.spi;
	other.enc_key_len = 16;
	ikev2_find_sa(w.r.e, &id)->peer.qm[0] = other;
	ck_assert_int_eq(ikev2_rekey_child(w.i.e, &id, old, w.now, &err), 0);
	round_trip(&w, &w.i, "N(REKEY_SA) SA TSi TSr Nonce", "N(NO_PROPOSAL_CHOSEN)");
	f = last_ev(&w.i, IKEV2_EV_FAILED);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->reason.notify, IKEV2_N_NO_PROPOSAL_CHOSEN);
	ck_assert_uint_eq(f->reason.rekey_spi_in, old);
	ck_assert(!f->reason.rekey_ike && !f->reason.ike_sa_gone);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_FAILED)->reason.rekey_spi_in, 0);
	ck_assert_uint_eq(ikev2_find_sa(w.i.e, &id)->children.n, 1);
	ck_assert_uint_eq(ikev2_find_sa(w.i.e, &id)->children.rec[0].spi_in, old);
	ck_assert(!ikev2_find_sa(w.i.e, &id)->children.rec[0].replaced);
	ikev2_find_sa(w.r.e, &id)->peer.qm[0] = qm_gcm;
	ck_assert_int_eq(ikev2_rekey_child(w.i.e, &id, old, w.now, &err), 0);
	round_trip(&w, &w.i, "N(REKEY_SA) SA TSi TSr Nonce", "SA TSi TSr Nonce");
	ck_assert_uint_eq(child_of(&w.i)->rekeys_spi, old);
	world_end(&w);
}
END_TEST

/* The same for the IKE SA's rekey: FAILED says so (rekey_ike), the IKE SA
 * stays established. */
START_TEST(refused_ike_rekey_says_so)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	struct ike_mm_method other = mm_gcm_ecp;
	struct ikev2_event *f;

	id = world_up(&w);
	other.dh_group = IKE_DH_MODP_2048;
	ikev2_find_sa(w.r.e, &id)->peer.mm[0] = other;
	ck_assert_int_eq(ikev2_rekey_ike(w.i.e, &id, w.now, &err), 0);
	round_trip(&w, &w.i, "SA Nonce KE", "N(NO_PROPOSAL_CHOSEN)");
	f = last_ev(&w.i, IKEV2_EV_FAILED);
	ck_assert_ptr_nonnull(f);
	ck_assert(f->reason.rekey_ike && !f->reason.ike_sa_gone);
	ck_assert_uint_eq(f->reason.rekey_spi_in, 0);
	ck_assert_int_eq(ikev2_find_sa(w.i.e, &id)->state, IKEV2_S_ESTABLISHED);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_REKEYED), 0);
	world_end(&w);
}
END_TEST

/* A child SA the peer replaced is not rekeyed again by us: our rekey of
 * it, asked for after the peer's, is refused at once. */
START_TEST(replaced_child_not_rekeyed_again)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	uint32_t old_r;

	id = world_up(&w);
	old_r = child_of(&w.r)->in.spi;
	ck_assert_int_eq(ikev2_rekey_child(w.i.e, &id, child_of(&w.i)->in.spi, w.now, &err), 0);
	round_trip(&w, &w.i, "N(REKEY_SA) SA TSi TSr Nonce", "SA TSi TSr Nonce");
	ck_assert_int_eq(ikev2_rekey_child(w.r.e, &id, old_r, w.now, &err), -EALREADY);
	nothing_sent(&w.r);
	world_end(&w);
}
END_TEST

/* The IKE SAs of side s that are not closed: exactly one, returned. */
static struct ikev2_sa *the_live_sa(struct side *s)
{
	struct ikev2_sa *live = NULL;

	for (size_t k = 0; k < s->e->n_sas; k++) {
		if (s->e->sas[k]->state == IKEV2_S_CLOSED)
			continue;
		ck_assert_msg(live == NULL, "%s: more than one IKE SA up", s->box.name);
		live = s->e->sas[k];
	}
	ck_assert_msg(live != NULL, "%s: no IKE SA up", s->box.name);
	return live;
}

/* After a settled IKE SA rekey: each side holds one IKE SA, the same one,
 * named by its one IKE_REKEYED, with the child SA pair of before on it
 * (no child SA went down) and working: a child rekey over it succeeds. */
static void one_ike_sa_left(struct world *w, uint32_t child_i)
{
	struct ikev2_sa *si = the_live_sa(&w->i), *sr = the_live_sa(&w->r);
	struct ike_err err = { 0 };

	ck_assert_mem_eq(&si->id, &sr->id, sizeof(si->id));
	ck_assert_int_eq(count_ev(&w->i, IKEV2_EV_IKE_REKEYED), 1);
	ck_assert_int_eq(count_ev(&w->r, IKEV2_EV_IKE_REKEYED), 1);
	ck_assert_mem_eq(&last_ev(&w->i, IKEV2_EV_IKE_REKEYED)->rekeyed.new_sa, &si->id, sizeof(si->id));
	ck_assert_mem_eq(&last_ev(&w->r, IKEV2_EV_IKE_REKEYED)->rekeyed.new_sa, &sr->id, sizeof(sr->id));
	ck_assert(last_ev(&w->i, IKEV2_EV_IKE_REKEYED)->rekeyed.initiator ==
		  !last_ev(&w->r, IKEV2_EV_IKE_REKEYED)->rekeyed.initiator);
	ck_assert_uint_eq(si->children.n, 1);
	ck_assert_uint_eq(sr->children.n, 1);
	ck_assert_uint_eq(si->children.rec[0].spi_in, child_i);
	ck_assert_uint_eq(sr->children.rec[0].spi_out, child_i);
	ck_assert_int_eq(count_ev(&w->i, IKEV2_EV_CHILD_DOWN) + count_ev(&w->r, IKEV2_EV_CHILD_DOWN), 0);
	ck_assert_int_eq(ikev2_rekey_child(w->i.e, &si->id, child_i, w->now, &err), 0);
	round_trip(w, &w->i, "N(REKEY_SA) SA TSi TSr Nonce", "SA TSi TSr Nonce");
	ck_assert_uint_eq(child_of(&w->r)->rekeys_spi, si->children.rec[0].spi_out);
}

/* Each IKE SA rekey request reaches the other peer while its own is out
 * (RFC 7296 §2.8.2): both are answered and both new IKE SAs come up, but
 * the children wait; then the new SA made by the exchange holding the
 * lowest of the four nonces is deleted by that exchange's initiator, the
 * other takes the children, and its initiator deletes the old SA. Returns
 * whether the initiator's exchange held the lowest nonce. */
static bool ike_rekeys_collide(void)
{
	struct world w;
	struct msg qi, qr, ai, ar;
	struct ikev2_sa_id id = crossing_rekeys(&w, true, &qi, &qr);
	uint32_t child_i = child_of(&w.i)->in.spi;
	bool i_exchange_goes = requests_cross(&w, &qi, &qr, &ai, &ar);

	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_REKEYED) + count_ev(&w.r, IKEV2_EV_IKE_REKEYED), 0);
	answers_cross(&w, &qi, &qr, &ai, &ar);
	ck_assert(last_ev(&w.i, IKEV2_EV_IKE_REKEYED)->rekeyed.initiator == !i_exchange_goes);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_DOWN), 2); /* the old SA, the redundant one */
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_IKE_DOWN), 2);
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_REKEY_COLLISIONS), 1);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_REKEY_COLLISIONS), 1);
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_UNKNOWN_SPI) + stat(&w.r, IKEV2_STAT_UNKNOWN_SPI), 0);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_FAILED) + count_ev(&w.r, IKEV2_EV_FAILED), 0);
	ck_assert(ikev2_find_sa(w.i.e, &id) == NULL || ikev2_find_sa(w.i.e, &id)->state == IKEV2_S_CLOSED);
	one_ike_sa_left(&w, child_i);
	world_end(&w);
	return i_exchange_goes;
}

START_TEST(simultaneous_ike_rekeys_settled)
{
	each_side_lowest_once(ike_rekeys_collide);
}
END_TEST

/* The initiator's IKE SA rekey completes before the responder's request
 * reaches it: that request is answered TEMPORARY_FAILURE (§2.8.2, the SA
 * is being closed), and the responder, which answered the initiator's
 * rekey meanwhile, hands its children to that new SA, whether the refusal
 * or the initiator's DELETE of the old SA reaches it first (_i: 0, 1; a
 * refusal after the DELETE finds no SA). Its own rekey is no failure. */
START_TEST(ike_rekey_of_a_replaced_sa_refused)
{
	struct world w;
	struct msg qi, qr, del, refusal;
	struct ikev2_sa_id id = crossing_rekeys(&w, true, &qi, &qr);
	struct ike_err err = { 0 };
	uint32_t child_i = child_of(&w.i)->in.spi;

	deliver(&w, &w.r, &qi);
	free(qi.data);
	free(step(&w, &w.r).data); /* the answer: the initiator's rekey is done */
	del = take(&w.i);          /* its DELETE of the old SA */
	expect_summary(&w.r, &del, "D");
	deliver(&w, &w.i, &qr);
	free(qr.data);
	refusal = take(&w.i);
	expect_summary(&w.r, &refusal, "N(TEMPORARY_FAILURE)");
	if (_i) { /* the DELETE first: the refusal then finds no SA */
		deliver(&w, &w.r, &del);
		ck_assert_int_eq(feed(&w, &w.r, &refusal, &err), -ENOENT);
	} else {
		deliver(&w, &w.r, &refusal);
		deliver(&w, &w.r, &del);
	}
	free(del.data);
	free(refusal.data);
	until_quiet(&w);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_FAILED), 0);
	ck_assert(last_ev(&w.i, IKEV2_EV_IKE_REKEYED)->rekeyed.initiator);
	ck_assert(ikev2_find_sa(w.r.e, &id) == NULL || ikev2_find_sa(w.r.e, &id)->state == IKEV2_S_CLOSED);
	one_ike_sa_left(&w, child_i);
	world_end(&w);
}
END_TEST

/* A world up, and the responder's answer to the initiator's IKE SA
 * rekey sent (not yet read): the responder's SA is rekeyed. */
static struct ikev2_sa_id ike_rekey_answered(struct world *w)
{
	struct ike_err err = { 0 };
	struct ikev2_sa_id id = world_up(w);

	ck_assert_int_eq(ikev2_rekey_ike(w->i.e, &id, w->now, &err), 0);
	pass(w, &w->i, "SA Nonce KE");
	return id;
}

/* An IKE SA replaced by the peer's rekey is not rekeyed again by us. */
START_TEST(replaced_ike_sa_not_rekeyed_again)
{
	struct world w;
	struct ikev2_sa_id id = ike_rekey_answered(&w);
	struct ike_err err = { 0 };

	ck_assert_int_eq(ikev2_rekey_ike(w.r.e, &id, w.now, &err), -EALREADY);
	world_end(&w);
}
END_TEST

/* A peer that goes on using an IKE SA the responder has rekeyed (here the
 * initiator, its rekey's answer lost, forgets that rekey and asks for a
 * new child SA on the old SA): refused TEMPORARY_FAILURE (§2.8.2), the
 * responder's old SA holding no child since the rekey. */
START_TEST(create_child_on_a_rekeyed_sa_refused)
{
	struct world w;
	struct ikev2_sa_id id = ike_rekey_answered(&w);
	struct ike_err err = { 0 };

	free(take(&w.r).data);
	ikev2_sa_request_done(ikev2_find_sa(w.i.e, &id));
	ck_assert_int_eq(ikev2_create_child(w.i.e, &id, w.now, &err), 0);
	round_trip(&w, &w.i, "SA TSi TSr Nonce", "N(TEMPORARY_FAILURE)");
	ck_assert_uint_eq(ikev2_find_sa(w.r.e, &id)->children.n, 0);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_UP), 1); /* IKE_AUTH's only */
	world_end(&w);
}
END_TEST

/* A child SA rekey queued behind our IKE SA rekey cannot start when its
 * turn comes (the children moved to the new SA, the old one is left for
 * its delete): FAILED names the child SA, which the caller then rekeys on
 * the new SA. */
START_TEST(queued_child_rekey_after_ike_rekey_reported)
{
	struct world w;
	struct ikev2_sa_id id, fresh;
	struct ike_err err = { 0 };
	uint32_t child_i;
	struct ikev2_event *f;

	id = world_up(&w);
	child_i = child_of(&w.i)->in.spi;
	ck_assert_int_eq(ikev2_rekey_ike(w.i.e, &id, w.now, &err), 0);
	ck_assert_int_eq(ikev2_rekey_child(w.i.e, &id, child_i, w.now, &err), 0);
	round_trip(&w, &w.i, "SA Nonce KE", "SA Nonce KE");
	f = last_ev(&w.i, IKEV2_EV_FAILED);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->reason.rekey_spi_in, child_i);
	fresh = last_ev(&w.i, IKEV2_EV_IKE_REKEYED)->rekeyed.new_sa;
	round_trip(&w, &w.i, "D", "");
	ck_assert_int_eq(ikev2_rekey_child(w.i.e, &fresh, child_i, w.now, &err), 0);
	round_trip(&w, &w.i, "N(REKEY_SA) SA TSi TSr Nonce", "SA TSi TSr Nonce");
	world_end(&w);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		simultaneous_ike_rekeys_settled,
		replaced_ike_sa_not_rekeyed_again,
		queued_child_rekey_after_ike_rekey_reported,
		create_child_on_a_rekeyed_sa_refused,
		simultaneous_child_rekeys_settled,
		rekey_of_a_replaced_child_refused,
		refused_rekey_names_the_child,
		refused_ike_rekey_says_so,
		replaced_child_not_rekeyed_again,
	};

	return world_run("ikev2_rekeys", ike_rekey_of_a_replaced_sa_refused, 2, tests, N(tests));
}
