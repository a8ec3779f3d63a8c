/* test_ikev1_quick.c - Check tests of the IKEv1 engine's Quick Mode
 * (ike/ikev1_quick.c), in the two-peer world of ikev1_world.h: with and
 * without PFS (and PFS on one side only, refused), refusals that name
 * the Quick Mode they end (or name none), a lost Quick Mode 3 recovered,
 * an unanswered Quick Mode given up alone, a corrupted one dropped,
 * RESPONDER-LIFETIME, AH in transport mode, AH left out across a NAT by
 * the initiator and refused there by the responder, encapsulation modes
 * that contradict NAT-D refused, selectors outside the responder's
 * policy, and an answer in another encapsulation mode than the one
 * offered refused by the initiator; AES-GCM and AES-GMAC offered with an
 * Authentication Algorithm not chosen, AES without a Key Length not
 * chosen. The suites (their numbers and keys) are test_ikev1_qm_suites.c's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ike_sk.h"
#include "ikev1_exchange.h"
#include "ikev1_prf.h"
#include "ikev1_world.h"

START_TEST(quick_mode_with_pfs)
{
	struct world w;
	struct ike_qm_method qm = qm_cbc;

	world_init(&w);
	qm.dh_group = IKE_DH_MODP_2048;
	w.i.pol.qm[0] = qm;
	w.r.pol.qm[0] = qm;
	world_go(&w);
	main_and_quick(&w);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	ck_assert_uint_eq(child_of(&w.i)->method.dh_group, IKE_DH_MODP_2048);
	ck_assert_uint_eq(child_of(&w.r)->method.dh_group, IKE_DH_MODP_2048);
	world_end(&w);
}
END_TEST

/* Main Mode up and our Quick Mode 1 sent, with PFS (ECP-256) that the
 * responder's policy does not want: it will refuse it. */
static struct ikev2_sa_id quick_mode_sent(struct world *w)
{
	struct ike_qm_method qm = qm_cbc;
	struct ikev2_sa_id id;

	world_init(w);
	qm.dh_group = IKE_DH_ECP_256;
	w->i.pol.qm[0] = qm;
	world_go(w);
	id = initiate(w);
	for (int k = 0; k < 6; k++)
		pass(w, k % 2 ? &w->r : &w->i);
	return id;
}

START_TEST(pfs_on_one_side_only)
{
	struct world w;

	quick_mode_sent(&w);
	refused(&w, &w.i, -ENOENT); /* QM 1: refused with a protected NO-PROPOSAL-CHOSEN */
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_FAILED)->reason.notify, ISAKMP_N_NO_PROPOSAL_CHOSEN);
	pass(&w, &w.r);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_FAILED)->reason.notify, ISAKMP_N_NO_PROPOSAL_CHOSEN);
	ck_assert(!last_ev(&w.i, IKEV2_EV_FAILED)->reason.ike_sa_gone);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 0);
	/* the refusal ends our Quick Mode at once: one failure, nothing resent */
	ck_assert_ptr_nonnull(strstr(last_ev(&w.i, IKEV2_EV_FAILED)->reason.text, "Quick Mode"));
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_FAILED), 1);
	ck_assert_uint_eq(ikev1_next_timer(w.i.e), 1000 + 28800 * 1000ull); /* only the lifetime */
	world_end(&w);
}
END_TEST

/* quick_mode_sent(), then a second Quick Mode: both await their
 * answers. Returns the first one's message ID. */
static uint32_t two_quick_modes(struct world *w, struct ikev2_sa_id *id)
{
	struct ike_err err = { 0 };
	uint32_t first;

	*id = quick_mode_sent(w);
	first = quick_xchg(&w->i, *id)->mid;
	ck_assert_int_eq(ikev1_quick_mode(w->i.e, id, w->now, &err), 0);
	return first;
}

/* Our Quick Modes still awaiting an answer on the SA id. */
static int quick_modes_waiting(struct side *s, struct ikev2_sa_id id)
{
	struct ikev1_sa *sa = ikev1_find_sa(s->e, &id);
	int n = 0;

	for (int k = 0; sa != NULL && k < IKEV1_MAX_XCHG; k++)
		n += sa->xchg[k].kind == IKEV1_X_QUICK && sa->xchg[k].initiator && !sa->xchg[k].done;
	return n;
}

/* The responder's ISAKMP SA (the one up) refuses an offer whose ESP SPI
 * was spi, naming it; spi 0: an offer without one, refused naming the
 * cookies. */
static void peer_refuses_spi(struct world *w, uint32_t spi)
{
	struct ikev1_sa *sa = ikev1_find_sa(w->r.e, &last_ev(&w->r, IKEV2_EV_IKE_UP)->sa);
	struct ike_err err = { 0 };
	struct ike_sa offer = { 0 };
	uint8_t b[4] = { spi >> 24, spi >> 16, spi >> 8, spi };
	struct ikev1_rx qm1 = { .now = w->now, .remote = &w->i.ep, .err = &err }; /* the refused one */

	ck_assert_ptr_nonnull(sa);
	if (spi)
		ike_sa_add_proposal(&offer, 1, IKE_PROTO_ESP, b, 4);
	ck_assert_int_eq(ikev1_info_send_qm_refusal(w->r.e, sa, ISAKMP_N_NO_PROPOSAL_CHOSEN, &offer,
						    &qm1, &err), 0);
	pass(w, &w->r);
}

/* Two Quick Modes of ours await their answers and the peer refuses each:
 * its notification names the refused offer's SPI, so each refusal ends
 * the one it names, at once, and leaves the other waiting. */
START_TEST(refusal_ends_the_quick_mode_it_names)
{
	struct world w;
	struct ikev2_sa_id id;
	char named[32];
	uint32_t first = two_quick_modes(&w, &id);

	refused(&w, &w.i, -ENOENT); /* the first */
	pass(&w, &w.r);
	snprintf(named, sizeof(named), "Quick Mode #%08x refused", first);
	ck_assert_ptr_nonnull(strstr(last_ev(&w.i, IKEV2_EV_FAILED)->reason.text, named));
	ck_assert_int_eq(quick_modes_waiting(&w.i, id), 1);
	ck_assert_uint_ne(quick_xchg(&w.i, id)->mid, first);
	refused(&w, &w.i, -ENOENT); /* the second */
	pass(&w, &w.r);
	ck_assert_int_eq(quick_modes_waiting(&w.i, id), 0);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_FAILED), 2);
	ck_assert_uint_eq(ikev1_next_timer(w.i.e), w.now + 28800 * 1000ull); /* nothing resent */
	world_end(&w);
}
END_TEST

/* A notification that names no SPI (the cookies, as some peers send)
 * while two Quick Modes wait: which one it refuses cannot be told, so
 * neither is ended (each runs to its answer or its retransmissions' end,
 * and reports its own failure), and nothing fails yet: no failure counted
 * twice, no negotiation given up that may still succeed. One naming an
 * SPI no Quick Mode of ours offered ends none either, and is reported. */
START_TEST(refusal_naming_neither_ends_neither)
{
	struct world w;
	struct ikev2_sa_id id;

	two_quick_modes(&w, &id);
	free(take(&w.i).data); /* both Quick Mode 1 lost on their way */
	free(take(&w.i).data);
	peer_refuses_spi(&w, 0);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_FAILED), 0);
	ck_assert_int_eq(quick_modes_waiting(&w.i, id), 2);
	peer_refuses_spi(&w, 0xdeadbeef);
	ck_assert_ptr_null(strstr(last_ev(&w.i, IKEV2_EV_FAILED)->reason.text, "Quick Mode"));
	ck_assert_int_eq(quick_modes_waiting(&w.i, id), 2);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_FAILED), 1);
	ck_assert_uint_eq(ikev1_next_timer(w.i.e), w.now + 500); /* both still resent */
	world_end(&w);
}
END_TEST

/* With one Quick Mode of ours waiting, a notification naming no SPI is
 * taken as its refusal; one naming another SPI is not. */
START_TEST(refusal_naming_no_spi_ends_the_only_one)
{
	struct world w;
	struct ikev2_sa_id id = quick_mode_sent(&w);

	free(take(&w.i).data); /* Quick Mode 1 lost */
	peer_refuses_spi(&w, 0xdeadbeef);
	ck_assert_int_eq(quick_modes_waiting(&w.i, id), 1);
	peer_refuses_spi(&w, 0);
	ck_assert_ptr_nonnull(strstr(last_ev(&w.i, IKEV2_EV_FAILED)->reason.text, "refused"));
	ck_assert_int_eq(quick_modes_waiting(&w.i, id), 0);
	world_end(&w);
}
END_TEST

START_TEST(lost_quick_mode_3_is_recovered)
{
	struct world w;
	struct msg qm2, qm3, again;

	world_init(&w);
	w.r.conf.retransmit_base_ms = 1000;
	world_go(&w);
	initiate(&w);
	for (int k = 0; k < 6; k++)
		pass(&w, k % 2 ? &w.r : &w.i);
	pass(&w, &w.i);
	qm2 = step(&w, &w.r);
	qm3 = take(&w.i); /* lost */
	w.now += 1000;
	ikev1_tick(w.r.e, w.now); /* the responder resends QM 2 */
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_RETRANSMITS), 1);
	again = step(&w, &w.r);
	ck_assert_mem_eq(again.data, qm2.data, qm2.len);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_REPLAYED_RESPONSES), 1);
	pass(&w, &w.i); /* QM 3 replayed */
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_UP), 1);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 1);
	free(qm2.data);
	free(qm3.data);
	free(again.data);
	world_end(&w);
}
END_TEST

/* An unanswered Quick Mode fails alone: the ISAKMP SA stays up. */
START_TEST(quick_mode_given_up)
{
	struct world w;

	world_init(&w);
	world_go(&w);
	initiate(&w);
	for (int k = 0; k < 6; k++)
		pass(&w, k % 2 ? &w.r : &w.i);
	free(take(&w.i).data); /* QM 1 lost, and every retransmission */
	for (int k = 0; k < 6; k++) {
		w.now = ikev1_next_timer(w.i.e);
		ikev1_tick(w.i.e, w.now);
		drain(&w.i);
		while (w.i.box.n_out)
			free(take(&w.i).data);
	}
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_RETRANSMITS), 5);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_PEER_TIMEOUTS), 1);
	ck_assert(!last_ev(&w.i, IKEV2_EV_FAILED)->reason.ike_sa_gone);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_FAILED)->reason.rekey_spi_in, 0); /* not a rekey */
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_DOWN), 0);
	ck_assert_uint_eq(ikev1_sa_count(w.i.e), 1);
	ck_assert_uint_eq(ikev1_next_timer(w.i.e), 1000 + 28800 * 1000ull); /* only the lifetime */
	world_end(&w);
}
END_TEST

START_TEST(corrupted_quick_mode_dropped)
{
	struct world w;
	struct msg qm1;
	uint8_t buf[2048];
	struct ike_err err = { 0 };

	world_init(&w);
	world_go(&w);
	initiate(&w);
	for (int k = 0; k < 6; k++)
		pass(&w, k % 2 ? &w.r : &w.i);
	qm1 = take(&w.i);
	memcpy(buf, qm1.data, qm1.len);
	buf[qm1.len - 20] ^= 1; /* inside the HASH(1)-covered payloads */
	ck_assert_int_lt(feed(&w, &w.r, &(struct msg){ buf, qm1.len, qm1.from, qm1.to }, &err), 0);
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_HASH_FAILED) + stat(&w.r, IKEV1_STAT_INVALID_PACKETS), 1);
	nothing_sent(&w.r);
	deliver(&w, &w.r, &qm1);
	free(qm1.data);
	pass(&w, &w.r);
	pass(&w, &w.i);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	world_end(&w);
}
END_TEST

/* An offer longer than the responder's lifetime is answered with
 * RESPONDER-LIFETIME and the shorter one holds on both sides. */
START_TEST(responder_lifetime)
{
	struct world w;

	world_init(&w);
	w.r.pol.qm[0].lifetime_seconds = 1200;
	w.r.pol.qm[0].lifetime_kilobytes = 5000;
	world_go(&w);
	main_and_quick(&w);
	ck_assert_uint_eq(child_of(&w.r)->method.lifetime_seconds, 1200);
	ck_assert_uint_eq(child_of(&w.i)->method.lifetime_seconds, 1200);
	ck_assert_uint_eq(child_of(&w.i)->method.lifetime_kilobytes, 5000);
	world_end(&w);
}
END_TEST

/* Both policies transport mode between the two hosts themselves. */
static void transport_policies(struct world *w)
{
	w->i.pol.transport = w->r.pol.transport = true;
	w->i.pol.ts_local = ts_prefix(w->i.ep.addr, 32);
	w->i.pol.ts_remote = ts_prefix(w->r.ep.addr, 32);
	w->r.pol.ts_local = w->i.pol.ts_remote;
	w->r.pol.ts_remote = w->i.pol.ts_local;
}

START_TEST(ah_and_transport_mode)
{
	static const struct ike_qm_method qm_ah = {
		IKE_PROTO_AH, 0, 0, DPSEC_INTEG_HMAC_SHA1_96, 0, false, 3600, 100000
	};
	struct world w;
	const struct ike_child *ci;

	world_init(&w);
	w.i.pol.qm[0] = qm_ah;
	w.r.pol.qm[0] = qm_ah;
	transport_policies(&w);
	world_go(&w);
	main_and_quick(&w);
	ci = child_of(&w.i);
	ck_assert_uint_eq(ci->protocol, IKE_PROTO_AH);
	ck_assert_uint_eq(ci->out.integ_alg, DPSEC_INTEG_HMAC_SHA1_96);
	ck_assert_uint_eq(ci->out.integ_key_len, 20);
	ck_assert_uint_eq(ci->out.mode, DPSEC_MODE_TRANSPORT);
	ck_assert_uint_eq(child_of(&w.r)->out.mode, DPSEC_MODE_TRANSPORT);
	pair_agrees(ci, child_of(&w.r));
	world_end(&w);
}
END_TEST

/* AH covers the outer addresses: once NAT-D found a NAT, Quick Mode offers
 * only the ESP methods (in UDP), and without one it starts no Quick Mode. */
static const struct ike_qm_method qm_ah_sha1 = {
	IKE_PROTO_AH, 0, 0, DPSEC_INTEG_HMAC_SHA1_96, 0, false, 3600, 100000
};

static void nat_world(struct world *w)
{
	world_init(w);
	w->nat = true;
	w->nat_ep = (struct ike_endpoint){ v4(203, 0, 113, 7), 40000 };
}

START_TEST(nat_leaves_ah_out)
{
	struct world w;
	const struct ike_child *ci;

	nat_world(&w);
	for (struct side *s = &w.i; s; s = s == &w.i ? &w.r : NULL) {
		s->pol.n_qm = 2;
		s->pol.qm[1] = s->pol.qm[0]; /* ESP second: AH would be chosen first */
		s->pol.qm[0] = qm_ah_sha1;
	}
	world_go(&w);
	main_and_quick(&w);
	ci = child_of(&w.i);
	ck_assert_uint_eq(ci->protocol, IKE_PROTO_ESP);
	ck_assert(ci->udp_encap);
	ck_assert_uint_eq(child_of(&w.r)->protocol, IKE_PROTO_ESP);
	pair_agrees(ci, child_of(&w.r));
	world_end(&w);
}
END_TEST

START_TEST(nat_with_only_ah_starts_no_quick_mode)
{
	struct world w;

	nat_world(&w);
	no_quick_mode_with(&w, &qm_ah_sha1);
}
END_TEST

/* The responder's own filters, which a dpsec initiator never reaches: Main
 * Mode up (through a NAT if nat), its last message read by an initiator
 * made to misjudge the NAT for that message only, as a peer ignoring
 * RFC 3947 would: forgetting a NAT, its Quick Mode 1 offers every method
 * of its policy, AH included, in plain tunnel mode; imagining one, it
 * offers ESP in UDP. The responder's policy has AH first, then ESP. */
static void qm1_misjudging_nat(struct world *w, bool nat, const struct ike_qm_method *offered,
			       uint8_t n)
{
	struct ikev2_sa_id id;
	struct ikev1_sa *sa;
	bool remote_nat;

	if (nat)
		nat_world(w);
	else
		world_init(w);
	w->i.pol.n_qm = n;
	memcpy(w->i.pol.qm, offered, n * sizeof(*offered));
	w->r.pol.n_qm = 2;
	w->r.pol.qm[0] = qm_ah_sha1;
	w->r.pol.qm[1] = qm_cbc;
	world_go(w);
	initiate(w);
	for (int k = 0; k < 5; k++)
		pass(w, k % 2 ? &w->r : &w->i);
	id = last_ev(&w->i, IKEV2_EV_NAT)->sa;
	ck_assert(ikev1_find_sa(w->r.e, &id)->remote_nat == nat); /* what the responder found */
	sa = ikev1_find_sa(w->i.e, &id);
	ck_assert(sa->local_nat == nat);
	remote_nat = sa->remote_nat;
	sa->local_nat = sa->remote_nat = !nat;
	pass(w, &w->r); /* Main Mode 6: up, and Quick Mode 1 goes out */
	sa->local_nat = nat;
	sa->remote_nat = remote_nat;
}

/* The responder chose nothing from Quick Mode 1, which it refused: a
 * protected NO-PROPOSAL-CHOSEN, no pair on either side, the ISAKMP SA
 * kept. */
static void nothing_chosen(struct world *w)
{
	ck_assert_uint_eq(last_ev(&w->r, IKEV2_EV_FAILED)->reason.notify, ISAKMP_N_NO_PROPOSAL_CHOSEN);
	ck_assert_int_eq(count_ev(&w->r, IKEV2_EV_CHILD_UP), 0);
	ck_assert_uint_eq(stat(&w->r, IKEV1_STAT_CHILD_ESTABLISHED), 0);
	pass(w, &w->r);
	ck_assert_uint_eq(last_ev(&w->i, IKEV2_EV_FAILED)->reason.notify, ISAKMP_N_NO_PROPOSAL_CHOSEN);
	ck_assert(!last_ev(&w->i, IKEV2_EV_FAILED)->reason.ike_sa_gone);
	ck_assert_int_eq(count_ev(&w->i, IKEV2_EV_CHILD_UP), 0);
	ck_assert_uint_eq(ikev1_sa_count(w->r.e), 1);
}

/* Quick Mode 1 refused by the responder, which chose nothing. */
static void no_proposal_chosen(struct world *w)
{
	refused(w, &w->i, -ENOENT);
	nothing_chosen(w);
}

/* Offered only AH across the NAT, the responder chooses nothing. */
START_TEST(nat_responder_refuses_ah)
{
	struct world w;

	qm1_misjudging_nat(&w, true, &qm_ah_sha1, 1);
	no_proposal_chosen(&w);
	world_end(&w);
}
END_TEST

/* Offered AH and then ESP in plain tunnel mode across the NAT, the
 * responder takes neither: plain ESP would not cross the NAT, and ESP in
 * UDP, which NAT-D calls for, is not what was offered (RFC 3947 §5.1). */
START_TEST(nat_responder_refuses_plain_esp)
{
	const struct ike_qm_method offered[2] = { qm_ah_sha1, qm_cbc };
	struct world w;

	qm1_misjudging_nat(&w, true, offered, 2);
	no_proposal_chosen(&w);
	world_end(&w);
}
END_TEST

/* Offered ESP in UDP where NAT-D found no NAT, the responder refuses it:
 * the peers would encapsulate differently. */
START_TEST(responder_refuses_udp_without_nat)
{
	struct world w;

	qm1_misjudging_nat(&w, false, &qm_cbc, 1);
	no_proposal_chosen(&w);
	world_end(&w);
}
END_TEST

/* Main Mode between an initiator with the one method offered and a
 * responder with held, then the initiator's Quick Mode 1, whose first
 * transform has the ID transform (its attributes into pol), refused by
 * the responder, which chooses nothing (nothing_chosen). */
static void quick_mode_1_refused(const struct ike_qm_method *offered,
				 const struct ike_qm_method *held, uint16_t transform,
				 struct isakmp_ipsec_policy *pol)
{
	struct ike_err err = { 0 };
	struct ikev2_sa_id id;
	struct ike_sa offer;
	struct world w;
	struct msg qm1;

	world_init(&w);
	w.i.pol.qm[0] = *offered;
	w.r.pol.qm[0] = *held;
	world_go(&w);
	id = initiate(&w);
	for (int n = 0; n < 6; n++)
		pass(&w, n % 2 ? &w.r : &w.i);
	qm1 = take(&w.i);
	qm1_sa(&w.i, id, &qm1, &offer);
	ck_assert_uint_eq(offer.tr[0].id, transform);
	ck_assert_int_eq(isakmp_ipsec_attrs_decode(&offer, &offer.tr[0], pol, &err), 0);
	ck_assert_int_eq(feed(&w, &w.r, &qm1, &err), -ENOENT);
	free(qm1.data);
	nothing_chosen(&w);
	world_end(&w);
}

/* AES-GCM and AES-GMAC have no integrity algorithm beside them: offered
 * with one (a method with HMAC-SHA-256-128 too: ESP transform 20 or 23
 * with Authentication Algorithm 5 and Key Length 256), they are not
 * chosen by a responder that has the cipher alone. */
START_TEST(combined_mode_with_auth_not_chosen)
{
	static const struct { uint8_t alg; uint16_t transform; } modes[] = {
		{ DPSEC_ENC_AES_GCM_16, 20 },
		{ DPSEC_ENC_NULL_AUTH_AES_GMAC, 23 },
	};

	for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
		const struct ike_qm_method alone = { IKE_PROTO_ESP, modes[k].alg, 32,
						     DPSEC_INTEG_NONE, 0, false, 3600, 100000 };
		struct ike_qm_method with_auth = alone;
		struct isakmp_ipsec_policy pol;

		with_auth.integ_alg = DPSEC_INTEG_HMAC_SHA256_128;
		quick_mode_1_refused(&with_auth, &alone, modes[k].transform, &pol);
		ck_assert_uint_eq(pol.auth, 5);
		ck_assert_uint_eq(pol.key_len, 256);
	}
}
END_TEST

/* AES offered without its Key Length attribute (an initiator whose AES
 * method has no key length leaves it out): RFC 3602 §5.3 says it MUST be
 * there, so the responder, which has AES-128, does not read it as
 * AES-128 and chooses nothing. */
START_TEST(aes_without_key_length_not_chosen)
{
	struct ike_qm_method no_length = qm_cbc;
	struct isakmp_ipsec_policy pol;

	no_length.enc_key_len = 0;
	quick_mode_1_refused(&no_length, &qm_cbc, 12 /* ESP_AES */, &pol);
	ck_assert_uint_eq(pol.key_len, 0); /* absent */
}
END_TEST

/* Selectors outside the responder's policy: INVALID-ID-INFORMATION. */
START_TEST(selectors_outside_policy)
{
	struct world w;

	world_init(&w);
	w.i.pol.ts_local = ts_prefix(v4(10, 9, 0, 0), 16);
	world_go(&w);
	initiate(&w);
	for (int k = 0; k < 6; k++)
		pass(&w, k % 2 ? &w.r : &w.i);
	refused(&w, &w.i, -ENOENT);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_FAILED)->reason.notify,
			  ISAKMP_N_INVALID_ID_INFORMATION);
	pass(&w, &w.r);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_FAILED)->reason.notify,
			  ISAKMP_N_INVALID_ID_INFORMATION);
	world_end(&w);
}
END_TEST

/* An answer in the other encapsulation mode than the one offered (here
 * the initiator made to have offered tunnel mode once the responder chose
 * its transport-mode transform): refused, no pair installed (the peers
 * would frame packets differently). */
START_TEST(answer_in_another_mode_refused)
{
	struct world w;
	struct ikev2_sa_id id;

	world_init(&w);
	transport_policies(&w);
	world_go(&w);
	id = initiate(&w);
	for (int k = 0; k < 7; k++) /* Main Mode, then Quick Mode 1 */
		pass(&w, k % 2 ? &w.r : &w.i);
	quick_xchg(&w.i, id)->transport = false;
	refused(&w, &w.r, -EPROTO);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 0);
	ck_assert_ptr_nonnull(strstr(last_ev(&w.i, IKEV2_EV_FAILED)->reason.text,
				     "encapsulation mode is transport, tunnel was offered"));
	world_end(&w);
}
END_TEST

int main(void)
{
	const TTest *tests[] = {
		quick_mode_with_pfs,
		pfs_on_one_side_only,
		refusal_ends_the_quick_mode_it_names,
		refusal_naming_neither_ends_neither,
		refusal_naming_no_spi_ends_the_only_one,
		lost_quick_mode_3_is_recovered,
		quick_mode_given_up,
		corrupted_quick_mode_dropped,
		nat_leaves_ah_out,
		nat_with_only_ah_starts_no_quick_mode,
		nat_responder_refuses_ah,
		nat_responder_refuses_plain_esp,
		responder_refuses_udp_without_nat,
		responder_lifetime,
		ah_and_transport_mode,
		combined_mode_with_auth_not_chosen,
		aes_without_key_length_not_chosen,
		selectors_outside_policy,
		answer_in_another_mode_refused,
	};

	return world_run("ikev1_quick", tests, sizeof(tests) / sizeof(tests[0]));
}
