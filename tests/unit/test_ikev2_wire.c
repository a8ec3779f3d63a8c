/* test_ikev2_wire.c - Check tests of the IKEv2 engine's messages on their
 * way (ike/ikev2_frag.c, ike/ikev2_wire.c, ike/ikev2_sa_init.c), in the
 * two-peer world of ikev2_world.h: IKE_AUTH in fragments (RFC 7383) out
 * of order, fragments copied, forged and retransmitted, none unless both
 * agree; a lost response, the request retransmitted and the cached
 * response replayed; no answer, the resends at the backoff times and the
 * give-up; NAT detection and the move to port 4500, AH left out across
 * the NAT. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ikev2_world.h"

/* ---- fragmentation (RFC 7383) ---- */

#define SMALL_FRAGMENTS 128 /* bytes: IKE_AUTH needs several */

/* IKE_SA_INIT both ways with fragments agreed; the initiator's IKE_AUTH
 * request is then waiting, in fragments, on its side. */
static void init_with_small_fragments(struct world *w)
{
	w->i.conf.fragment_size = w->r.conf.fragment_size = SMALL_FRAGMENTS;
	world_go(w);
	initiate(w);
	free(step(w, &w->i).data);
	free(step(w, &w->r).data);
	drain(&w->i);
}

/* Every datagram s has waiting: a fragment (SKF its only payload) of at
 * most SMALL_FRAGMENTS bytes, numbered 1..n of n in order, the first
 * naming the message's first inner payload. Returns n. */
static int check_fragments(struct side *s, uint8_t first)
{
	drain(s);
	for (int k = 0; k < s->box.n_out; k++) {
		const uint8_t *d = s->box.out[k].data;

		ck_assert_uint_le(s->box.out[k].len, SMALL_FRAGMENTS);
		ck_assert_uint_eq(d[16], IKEV2_PL_SKF);                   /* the only payload */
		ck_assert_uint_eq(ike_get16(d + IKEV2_HDR_LEN + 4), k + 1); /* Fragment Number */
		ck_assert_uint_eq(ike_get16(d + IKEV2_HDR_LEN + 6), s->box.n_out);
		ck_assert_uint_eq(d[IKEV2_HDR_LEN], (k == 0 ? first : IKEV2_PL_NONE));
	}
	return s->box.n_out;
}

/* Delivers every waiting datagram of `from`, in order or last first. */
static void deliver_all(struct world *w, struct side *from, bool reversed)
{
	drain(from);
	for (int j = 0; j < from->box.n_out; j++) {
		int k = reversed ? from->box.n_out - 1 - j : j;

		deliver(w, other(w, from), &from->box.out[k]);
		free(from->box.out[k].data);
	}
	from->box.n_out = 0;
}

/* IKE_AUTH both ways in fragments, delivered out of order: reassembled,
 * the SA and its child come up as without fragments. */

/* IKE_AUTH both ways in fragments, delivered out of order: reassembled,
 * the SA and its child come up as without fragments. */
START_TEST(ike_auth_in_fragments)
{
	struct world w;
	int n;

	world_init(&w);
	init_with_small_fragments(&w);
	n = check_fragments(&w.i, IKEV2_PL_IDI);
	ck_assert_int_ge(n, 2);
	deliver_all(&w, &w.i, true);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_REASSEMBLED), 1);
	ck_assert_int_ge(check_fragments(&w.r, IKEV2_PL_IDR), 2);
	deliver_all(&w, &w.r, true);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_IKE_UP), 1);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_FRAGMENTED), 1);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_FRAGMENTED), 1);
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_REASSEMBLED), 1);
	world_end(&w);
}
END_TEST

/* A copy of a fragment adds nothing; a changed one fails its ICV and is
 * dropped (counted) while the good fragments wait; the request's
 * retransmission (every fragment again) completes it; the answer's loss
 * makes the initiator send all fragments again, and the responder
 * replays its cached answer once, on fragment 1 (RFC 7383 §2.6.1; here
 * it comes last). */
START_TEST(fragments_copied_forged_and_retransmitted)
{
	struct world w;
	struct ike_err err = { 0 };
	struct msg m;
	int n;

	world_init(&w);
	init_with_small_fragments(&w);
	n = check_fragments(&w.i, IKEV2_PL_IDI);
	m = w.i.box.out[0];
	deliver(&w, &w.r, &m);
	deliver(&w, &w.r, &m); /* a copy */
	m.data[m.len - 1] ^= 0x80;
	ck_assert_int_eq(feed(&w, &w.r, &m, &err), -EKEYREJECTED);
	m.data[m.len - 1] ^= 0x80;
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_INTEGRITY_FAILED), 1);
	nothing_sent(&w.r); /* still waiting for the rest */
	for (int k = 0; k < n; k++)
		free(w.i.box.out[k].data);
	w.i.box.n_out = 0;
	w.now += w.i.conf.retransmit_base_ms;
	ikev2_tick(w.i.e, w.now);
	ck_assert_int_eq(check_fragments(&w.i, IKEV2_PL_IDI), n); /* the whole message again */
	deliver_all(&w, &w.i, false); /* its fragment 1 a copy of the one kept */
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_REASSEMBLED), 1);
	n = check_fragments(&w.r, IKEV2_PL_IDR);
	for (int k = 0; k < n; k++) /* the answer lost */
		free(w.r.box.out[k].data);
	w.r.box.n_out = 0;
	w.now += 2 * w.i.conf.retransmit_base_ms;
	ikev2_tick(w.i.e, w.now);
	deliver_all(&w, &w.i, true);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_REPLAYED_RESPONSES), 1);
	ck_assert_int_eq(check_fragments(&w.r, IKEV2_PL_IDR), n);
	deliver_all(&w, &w.r, true);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	world_end(&w);
}
END_TEST

/* Without the responder's agreement nothing is fragmented, however long. */
START_TEST(no_fragments_unless_both_agree)
{
	struct world w;

	world_init(&w);
	w.i.conf.fragment_size = SMALL_FRAGMENTS;
	w.r.conf.fragment_size = 0;
	world_go(&w);
	initiate(&w);
	free(step(&w, &w.i).data);
	pass(&w, &w.r, "SA KE Nonce N(NAT_DETECTION_SOURCE_IP) N(NAT_DETECTION_DESTINATION_IP)");
	drain(&w.i);
	ck_assert_int_eq(w.i.box.n_out, 1);
	ck_assert_uint_gt(w.i.box.out[0].len, SMALL_FRAGMENTS);
	pass(&w, &w.i, "IDi AUTH N(INITIAL_CONTACT) IDr SA TSi TSr");
	pass(&w, &w.r, "IDr AUTH SA TSi TSr");
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_FRAGMENTED), 0);
	world_end(&w);
}
END_TEST

START_TEST(dropped_response_retransmitted_and_replayed)
{
	struct world w;
	struct msg req, resp, again, replay;
	uint64_t t0;

	world_init(&w);
	world_go(&w);
	initiate(&w);
	free(step(&w, &w.i).data);
	free(step(&w, &w.r).data);
	t0 = w.now;
	req = step(&w, &w.i);      /* IKE_AUTH request */
	resp = take(&w.r);         /* ...its response is lost */
	ck_assert_uint_eq(ikev2_next_timer(w.i.e), t0 + 500);
	ikev2_tick(w.i.e, t0 + 499);
	nothing_sent(&w.i);
	w.now = t0 + 500;
	ikev2_tick(w.i.e, w.now);
	again = take(&w.i);
	ck_assert_uint_eq(again.len, req.len);
	ck_assert_mem_eq(again.data, req.data, req.len);
	ck_assert_uint_eq(ikev2_next_timer(w.i.e), t0 + 1500);
	deliver(&w, &w.r, &again);
	replay = take(&w.r);
	ck_assert_uint_eq(replay.len, resp.len); /* byte-identical */
	ck_assert_mem_eq(replay.data, resp.data, resp.len);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_REPLAYED_RESPONSES), 1);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_UP), 1); /* not made twice */
	deliver(&w, &w.i, &replay);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	ck_assert_uint_eq(ikev2_next_timer(w.i.e), UINT64_MAX);
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_RETRANSMITS), 1);
	free(req.data);
	free(resp.data);
	free(again.data);
	free(replay.data);
	world_end(&w);
}
END_TEST

/* No answer at all: resent at 0.5, 1.5, 3.5, 7.5, 15.5 s, given up at 31.5 s. */
START_TEST(no_answer_given_up_after_the_tries)
{
	static const uint64_t at[] = { 500, 1500, 3500, 7500, 15500 };
	struct world w;
	struct ikev2_event *f;
	uint64_t t0;

	world_init(&w);
	world_go(&w);
	t0 = w.now;
	initiate(&w);
	free(take(&w.i).data);
	for (size_t k = 0; k < N(at); k++) {
		ck_assert_uint_eq(ikev2_next_timer(w.i.e), t0 + at[k]);
		ikev2_tick(w.i.e, t0 + at[k] - 1);
		nothing_sent(&w.i);
		ikev2_tick(w.i.e, t0 + at[k]);
		free(take(&w.i).data);
	}
	ck_assert_uint_eq(ikev2_next_timer(w.i.e), t0 + 31500);
	ikev2_tick(w.i.e, t0 + 31499);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_FAILED), 0);
	ikev2_tick(w.i.e, t0 + 31500);
	nothing_sent(&w.i);
	f = last_ev(&w.i, IKEV2_EV_FAILED);
	ck_assert(f->reason.ike_sa_gone);
	ck_assert_msg(strstr(f->reason.text, "did not answer IKE_SA_INIT after 5"), "%s", f->reason.text);
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_RETRANSMITS), 5);
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_PEER_TIMEOUTS), 1);
	ck_assert_uint_eq(ikev2_sa_count(w.i.e), 0);
	world_end(&w);
}
END_TEST

/* A world whose initiator, 192.168.1.2, is behind a NAT that maps it to
 * 203.0.113.7:31000. */
static void world_behind_a_nat(struct world *w)
{
	world_init(w);
	w->i.ep = (struct ike_endpoint){ v4(192, 168, 1, 2), 500 };
	w->nat = true;
	w->nat_ep = (struct ike_endpoint){ v4(203, 0, 113, 7), 31000 };
}

/* i behind a NAT: both see it, IKE_AUTH moves to port 4500. */
START_TEST(nat_detected_and_port_4500)
{
	struct world w;
	struct msg m;

	world_behind_a_nat(&w);
	world_go(&w);
	initiate(&w);
	free(step(&w, &w.i).data);
	free(step(&w, &w.r).data);
	ck_assert(last_ev(&w.i, IKEV2_EV_NAT)->nat.local_behind_nat);
	ck_assert(!last_ev(&w.i, IKEV2_EV_NAT)->nat.remote_behind_nat);
	ck_assert(last_ev(&w.r, IKEV2_EV_NAT)->nat.remote_behind_nat);
	ck_assert(!last_ev(&w.r, IKEV2_EV_NAT)->nat.local_behind_nat);
	m = take(&w.i);
	ck_assert_uint_eq(m.from.port, IKEV2_NATT_PORT);
	ck_assert_uint_eq(m.to.port, IKEV2_NATT_PORT);
	w.nat_ep.port = 31001; /* the NAT's mapping for port 4500 */
	deliver(&w, &w.r, &m);
	free(m.data);
	m = take(&w.r); /* answered where the initiator now sends from */
	ck_assert_uint_eq(m.to.port, 31001);
	ck_assert_uint_eq(m.from.port, IKEV2_NATT_PORT);
	deliver(&w, &w.i, &m);
	free(m.data);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	ck_assert_mem_eq(child_of(&w.r)->out.remote.a, w.nat_ep.addr.a, 4);
	ck_assert(child_of(&w.r)->udp_encap);
	ck_assert_uint_eq(child_of(&w.r)->remote_port, 31001);
	ck_assert(child_of(&w.i)->udp_encap);
	ck_assert_uint_eq(child_of(&w.i)->local_port, IKEV2_NATT_PORT);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_PEER_MOVED), 0); /* before any child SA */
	world_end(&w);
}
END_TEST

/* The initiator behind a NAT gets a new mapping (the NAT forgot the old
 * one): the responder follows the first authenticated request from the
 * new port, answers there and tells its caller once (PEER_MOVED, for the
 * child SAs); a forged request from yet another port moves nothing (RFC
 * 7296 §2.23: only a packet whose integrity checks). */
START_TEST(nat_mapping_change_followed)
{
	struct world w;
	struct ike_err err = { 0 };
	struct ikev2_sa_id id;
	struct ikev2_event *ev;
	struct msg m;

	world_behind_a_nat(&w);
	world_go(&w);
	id = establish(&w);
	w.nat_ep.port = 42000;
	ck_assert_int_eq(ikev2_check_liveness(w.i.e, &id, w.now, &err), 0);
	m = step(&w, &w.i);
	free(m.data);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_PEER_MOVED), 1);
	ev = last_ev(&w.r, IKEV2_EV_PEER_MOVED);
	ck_assert_mem_eq(ev->sa.spi_i, id.spi_i, 8);
	ck_assert_mem_eq(ev->moved.remote.addr.a, w.nat_ep.addr.a, 4);
	ck_assert_uint_eq(ev->moved.remote.port, 42000);
	m = take(&w.r);
	ck_assert_uint_eq(m.to.port, 42000); /* answered at the new mapping */
	deliver(&w, &w.i, &m);
	free(m.data);
	ck_assert_int_eq(ikev2_check_liveness(w.i.e, &id, w.now, &err), 0);
	round_trip(&w, &w.i, "", ""); /* the same port again: no move */
	w.nat_ep.port = 43000;
	ck_assert_int_eq(ikev2_check_liveness(w.i.e, &id, w.now, &err), 0);
	m = take(&w.i);
	m.data[m.len - 1] ^= 1; /* its ICV */
	ck_assert_int_eq(feed(&w, &w.r, &m, &err), -EKEYREJECTED);
	free(m.data);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_PEER_MOVED), 1);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_PEER_MOVED), 0); /* its peer is not behind one */
	world_end(&w);
}
END_TEST

/* ESP from a new address and port, verified and new (dpsecd's report):
 * the IKE SA follows it as it would an IKE request, once; the side whose
 * peer is not behind a NAT, and an SA it does not have, ignore such a
 * report. */
START_TEST(nat_mapping_change_seen_in_esp)
{
	struct world w;
	struct ike_endpoint esp_from = { v4(203, 0, 113, 8), 45000 }; /* the NAT's other address */
	struct ikev2_sa_id id, none = { { 1 } };
	struct ikev2_event *ev;
	struct msg m;

	world_behind_a_nat(&w);
	world_go(&w);
	id = establish(&w);
	ck_assert_int_eq(ikev2_peer_moved(w.r.e, &id, &esp_from, w.now), 0);
	drain(&w.r);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_PEER_MOVED), 1);
	ev = last_ev(&w.r, IKEV2_EV_PEER_MOVED);
	ck_assert_uint_eq(ev->moved.remote.port, 45000);
	ck_assert(ike_addr_same(&ev->moved.remote.addr, &esp_from.addr));
	ck_assert_int_eq(ikev2_peer_moved(w.r.e, &id, &esp_from, w.now), 0);
	drain(&w.r);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_PEER_MOVED), 1); /* no news */
	ck_assert_int_eq(ikev2_check_liveness(w.r.e, &id, w.now, &(struct ike_err){ 0 }), 0);
	m = take(&w.r);
	ck_assert(ike_endpoint_same(&m.to, &esp_from)); /* IKE goes there too */
	free(m.data);
	ck_assert_int_eq(ikev2_peer_moved(w.i.e, &id, &esp_from, w.now), 0);
	drain(&w.i);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_PEER_MOVED), 0);
	ck_assert_int_eq(ikev2_peer_moved(w.r.e, &none, &esp_from, w.now), -ENOENT);
	world_end(&w);
}
END_TEST

/* i behind a NAT, as above, and each side's policy offering AH first. */
static void ah_first_behind_a_nat(struct world *w, bool esp_too)
{
	static const struct ike_qm_method qm_ah = {
		IKE_PROTO_AH, 0, 0, DPSEC_INTEG_HMAC_SHA256_128, 0, false, 3600, 100000
	};

	world_behind_a_nat(w);
	for (struct side *s = &w->i; s; s = s == &w->i ? &w->r : NULL) {
		s->pol.qm[1] = s->pol.qm[0];
		s->pol.qm[0] = qm_ah;
		s->pol.n_qm = esp_too ? 2 : 1;
	}
	world_go(w);
	initiate(w);
	free(step(w, &w->i).data);
}

/* AH covers the addresses a NAT rewrites and cannot ride in UDP (RFC
 * 3948): across the NAT the pair is the ESP method the policies list
 * after it; with AH alone the initiator says why it offers nothing. */
START_TEST(nat_leaves_ah_out)
{
	struct ike_err err = { 0 };
	struct world w;
	struct msg m;

	ah_first_behind_a_nat(&w, true);
	free(step(&w, &w.r).data);
	free(step(&w, &w.i).data);
	free(step(&w, &w.r).data);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	ck_assert_uint_eq(child_of(&w.i)->out.protocol, DPSEC_PROTO_ESP);
	ck_assert_uint_eq(child_of(&w.r)->in.protocol, DPSEC_PROTO_ESP);
	ck_assert(child_of(&w.i)->udp_encap && child_of(&w.r)->udp_encap);
	world_end(&w);

	ah_first_behind_a_nat(&w, false);
	m = take(&w.r);
	ck_assert_int_eq(feed(&w, &w.i, &m, &err), -EPROTONOSUPPORT);
	free(m.data);
	ck_assert_msg(strstr(err.msg, "every method of the policy is AH"), "%s", err.msg);
	ck_assert_msg(strstr(last_ev(&w.i, IKEV2_EV_FAILED)->reason.text, "IKE_AUTH not sent"), "%s",
		      last_ev(&w.i, IKEV2_EV_FAILED)->reason.text);
	ck_assert_uint_eq(ikev2_sa_count(w.i.e), 0);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP) + count_ev(&w.r, IKEV2_EV_CHILD_UP), 0);
	world_end(&w);
}
END_TEST

int main(void)
{
	const TTest *tests[] = {
		ike_auth_in_fragments,
		fragments_copied_forged_and_retransmitted,
		no_fragments_unless_both_agree,
		dropped_response_retransmitted_and_replayed,
		no_answer_given_up_after_the_tries,
		nat_detected_and_port_4500, nat_mapping_change_followed, nat_mapping_change_seen_in_esp,
		nat_leaves_ah_out,
	};

	return world_run("ikev2_wire", NULL, 0, tests, N(tests));
}
