/* test_ikev1_info.c - Check tests of the IKEv1 engine's informational
 * exchanges (ike/ikev1_info.c), in the two-peer world of ikev1_world.h:
 * DELETE of IPsec and ISAKMP SAs both ways, DPD answered and a silent
 * peer found dead, and INITIAL-CONTACT from a restarted peer replacing
 * its older SAs; a peer's new NAT mapping followed on its DPD request, its
 * ESP and its Quick Mode's completion, never on what may be replayed; a
 * Quick Mode 1 from elsewhere answered there across a NAT, at the SA's
 * peer without one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ikev1_world.h"

START_TEST(delete_ipsec_sa_both_ways)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	uint32_t spi_i, spi_r;

	world_init(&w);
	world_go(&w);
	id = main_and_quick(&w);
	spi_i = child_of(&w.i)->in.spi;
	spi_r = child_of(&w.r)->in.spi;
	ck_assert_int_eq(ikev1_delete_child(w.i.e, &id, spi_i, w.now, &err), 0);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_CHILD_DOWN)->child_down.spi_in, spi_i);
	pass(&w, &w.i);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_CHILD_DOWN)->child_down.spi_in, spi_r);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_CHILD_DOWN)->child_down.spi_out, spi_i);
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_CHILD_DELETED), 1);
	/* a second pair, deleted by the responder */
	ck_assert_int_eq(ikev1_quick_mode(w.r.e, &id, w.now, &err), 0);
	pass(&w, &w.r);
	pass(&w, &w.i);
	pass(&w, &w.r);
	spi_r = child_of(&w.r)->in.spi;
	ck_assert_int_eq(ikev1_delete_child(w.r.e, &id, spi_r, w.now, &err), 0);
	pass(&w, &w.r);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_CHILD_DOWN)->child_down.spi_out, spi_r);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_CHILD_DELETED), 2);
	ck_assert_int_eq(ikev1_delete_child(w.r.e, &id, spi_r, w.now, &err), -ENOENT);
	world_end(&w);
}
END_TEST

START_TEST(delete_isakmp_sa_both_ways)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };

	for (int by_responder = 0; by_responder < 2; by_responder++) {
		struct side *from, *to;

		world_init(&w);
		world_go(&w);
		id = main_and_quick(&w);
		from = by_responder ? &w.r : &w.i;
		to = other(&w, from);
		ck_assert_int_eq(ikev1_delete_ike(from->e, &id, w.now, &err), 0);
		ck_assert_int_eq(count_ev(from, IKEV2_EV_IKE_DOWN), 1);
		ck_assert_int_eq(count_ev(from, IKEV2_EV_CHILD_DOWN), 1);
		pass(&w, from);
		ck_assert_int_eq(count_ev(to, IKEV2_EV_IKE_DOWN), 1);
		ck_assert_int_eq(count_ev(to, IKEV2_EV_CHILD_DOWN), 1);
		ck_assert_str_eq(last_ev(to, IKEV2_EV_IKE_DOWN)->reason.text, "deleted by the peer");
		ck_assert_uint_eq(ikev1_sa_count(w.i.e) + ikev1_sa_count(w.r.e), 0);
		world_end(&w);
	}
}
END_TEST

START_TEST(dpd_answered_and_silent_peer)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };

	world_init(&w);
	world_go(&w);
	id = main_and_quick(&w);
	ck_assert_int_eq(ikev1_check_liveness(w.i.e, &id, w.now, &err), 0);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_DPD_SENT), 1);
	pass(&w, &w.i);
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_DPD_ANSWERED), 1);
	pass(&w, &w.r); /* the ACK */
	ck_assert_ptr_nonnull(log_has(&w.i, &id, "the peer is alive"));
	ck_assert_uint_eq(ikev1_next_timer(w.i.e), w.now + 28800 * 1000ull);
	/* now the peer stays silent */
	ck_assert_int_eq(ikev1_check_liveness(w.i.e, &id, w.now, &err), 0);
	for (int k = 0; k < 6; k++) {
		free(take(&w.i).data);
		w.now = ikev1_next_timer(w.i.e);
		ikev1_tick(w.i.e, w.now);
	}
	nothing_sent(&w.i);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_RETRANSMITS), 5);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_PEER_TIMEOUTS), 1);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_DOWN), 1);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_DOWN), 1);
	ck_assert_uint_eq(ikev1_sa_count(w.i.e), 0);
	world_end(&w);
}
END_TEST

/* The initiator restarts (a new engine, no SA with the responder): its
 * Main Mode says INITIAL-CONTACT and the responder's old SAs go. */
START_TEST(initial_contact_replaces_old_sas)
{
	struct world w;
	struct ikev2_sa_id old;

	world_init(&w);
	world_go(&w);
	old = main_and_quick(&w);
	side_end(&w.i);
	memset(&w.i.box, 0, sizeof(w.i.box));
	w.i.box.name = "restarted initiator";
	pair_policy(&w.i.pol, true, &mm_aes256, &qm_cbc, "secret");
	side_start(&w.i);
	initiate(&w);
	for (int k = 0; k < 9; k++) /* Main Mode and Quick Mode again */
		pass(&w, k % 2 ? &w.r : &w.i);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_IKE_UP), 2);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 1);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_IKE_DOWN), 1);
	ck_assert_mem_eq(last_ev(&w.r, IKEV2_EV_IKE_DOWN)->sa.spi_i, old.spi_i, 8);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_DOWN), 1);
	ck_assert_uint_eq(ikev1_sa_count(w.r.e), 1);
	world_end(&w);
}
END_TEST

/* The initiator behind a NAT (203.0.113.7, its port 500 mapped to 40000,
 * 4500 to 40001), Main Mode and a Quick Mode done. */
static struct ikev2_sa_id behind_nat_up(struct world *w)
{
	world_init(w);
	w->nat = true;
	w->nat_ep = (struct ike_endpoint){ v4(203, 0, 113, 7), 40000 };
	world_go(w);
	return main_and_quick(w);
}

/* The initiator behind a NAT gets a new mapping and starts a Quick Mode
 * (a rekey, say) before anything else: the responder answers its Quick
 * Mode 1 where it came from without moving (it may be an old one
 * replayed: a copy from elsewhere is answered there, and moves nothing),
 * and follows the new mapping at Quick Mode 3, whose HASH covers the
 * responder's fresh nonce: PEER_MOVED once, the pair up, its next
 * messages there. Quick Mode 1 once more after that is dropped. */
START_TEST(quick_mode_from_new_mapping_followed)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	struct msg qm1, qm2, m;

	id = behind_nat_up(&w);
	w.nat_ep.port = 50000; /* port 4500 now maps to 50001 */
	ck_assert_int_eq(ikev1_quick_mode(w.i.e, &id, w.now, &err), 0);
	qm1 = step(&w, &w.i);
	qm2 = take(&w.r);
	ck_assert_uint_eq(qm2.to.port, 50001); /* where Quick Mode 1 came from */
	w.nat_ep.port = 60000;
	deliver(&w, &w.r, &qm1); /* a copy from elsewhere */
	m = take(&w.r);
	ck_assert_uint_eq(m.to.port, 60001); /* answered there */
	free(m.data);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_PEER_MOVED), 0);
	w.nat_ep.port = 50000;
	deliver(&w, &w.i, &qm2);
	free(qm2.data);
	free(step(&w, &w.i).data); /* Quick Mode 3 */
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_PEER_MOVED), 1);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_PEER_MOVED)->moved.remote.port, 50001);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_UP), 2);
	ck_assert_int_ne(feed(&w, &w.r, &qm1, &err), 0);
	free(qm1.data);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_PEER_MOVED), 1);
	ck_assert_int_eq(ikev1_check_liveness(w.r.e, &id, w.now, &err), 0);
	m = take(&w.r);
	ck_assert_uint_eq(m.to.port, 50001); /* the SA's peer is where Quick Mode 3 came from */
	free(m.data);
	world_end(&w);
}
END_TEST

/* A Quick Mode 1 from a new mapping that the responder refuses (PFS it
 * does not want): the refusal goes back where it came from, and the SA
 * stays where it was. */
START_TEST(quick_mode_refused_from_new_mapping)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	struct msg m;

	id = behind_nat_up(&w);
	ikev1_find_sa(w.i.e, &id)->peer.qm[0].dh_group = IKE_DH_ECP_256;
	w.nat_ep.port = 50000;
	ck_assert_int_eq(ikev1_quick_mode(w.i.e, &id, w.now, &err), 0);
	m = take(&w.i);
	ck_assert_int_ne(feed(&w, &w.r, &m, &err), 0); /* refused */
	free(m.data);
	m = take(&w.r);
	ck_assert_uint_eq(m.to.port, 50001);
	deliver(&w, &w.i, &m);
	free(m.data);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_FAILED)->reason.notify, ISAKMP_N_NO_PROPOSAL_CHOSEN);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_PEER_MOVED), 0);
	world_end(&w);
}
END_TEST

/* Without a NAT between the peers, a Quick Mode 1 from another address
 * is answered at the SA's peer, and moves nothing. */
START_TEST(quick_mode_from_elsewhere_without_nat)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	struct msg qm1, m;

	world_init(&w);
	world_go(&w);
	id = main_and_quick(&w);
	ck_assert_int_eq(ikev1_quick_mode(w.i.e, &id, w.now, &err), 0);
	qm1 = take(&w.i);
	qm1.from = (struct ike_endpoint){ v4(203, 0, 113, 9), 500 };
	deliver(&w, &w.r, &qm1);
	free(qm1.data);
	m = take(&w.r);
	ck_assert_mem_eq(&m.to.addr, &w.i.ep.addr, sizeof(m.to.addr)); /* the SA's peer */
	ck_assert_uint_eq(m.to.port, w.i.ep.port);
	free(m.data);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_PEER_MOVED), 0);
	world_end(&w);
}
END_TEST

/* The initiator behind a NAT gets a new mapping: the responder follows
 * its first DPD request (HASH checked, its number new) from the new port,
 * answers there, and tells its caller once (PEER_MOVED, for the Quick
 * Mode pairs); that request replayed from another port, and one whose
 * HASH fails, move nothing; Main Mode's move to port 4500 was no
 * PEER_MOVED. */
START_TEST(nat_mapping_change_followed)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	struct ikev2_event *ev;
	struct msg m, dpd;

	id = behind_nat_up(&w);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_PEER_MOVED), 0);
	w.nat_ep.port = 50000; /* port 4500 now maps to 50001 */
	ck_assert_int_eq(ikev1_check_liveness(w.i.e, &id, w.now, &err), 0);
	dpd = take(&w.i);
	deliver(&w, &w.r, &dpd);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_PEER_MOVED), 1);
	ev = last_ev(&w.r, IKEV2_EV_PEER_MOVED);
	ck_assert_mem_eq(ev->sa.spi_i, id.spi_i, 8);
	ck_assert_uint_eq(ev->moved.remote.port, 50001);
	m = take(&w.r);
	ck_assert_uint_eq(m.to.port, 50001); /* the ACK goes to the new mapping */
	deliver(&w, &w.i, &m);
	free(m.data);
	w.nat_ep.port = 60000;
	deliver(&w, &w.r, &dpd); /* replayed from elsewhere: its number is not new */
	free(dpd.data);
	m = take(&w.r);
	ck_assert_uint_eq(m.to.port, 60001); /* its ACK goes back there, once */
	free(m.data);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_PEER_MOVED), 1);
	ck_assert_int_eq(ikev1_check_liveness(w.i.e, &id, w.now, &err), 0);
	m = take(&w.i);
	m.data[m.len - 1] ^= 1; /* the encrypted HASH and notify: garbage */
	ck_assert_int_ne(feed(&w, &w.r, &m, &err), 0);
	free(m.data);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_PEER_MOVED), 1);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_PEER_MOVED), 0);
	world_end(&w);
}
END_TEST

/* ESP from a new port, verified and new (dpsecd's report): the ISAKMP SA
 * follows it once, its next message goes there; the side whose peer is
 * not behind a NAT ignores such a report. */
START_TEST(nat_mapping_change_seen_in_esp)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	struct ike_endpoint esp_from = { v4(203, 0, 113, 7), 45000 };
	struct msg m;

	id = behind_nat_up(&w);
	ck_assert_int_eq(ikev1_peer_moved(w.r.e, &id, &esp_from, w.now), 0);
	ck_assert_int_eq(ikev1_peer_moved(w.r.e, &id, &esp_from, w.now), 0);
	drain(&w.r);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_PEER_MOVED), 1);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_PEER_MOVED)->moved.remote.port, 45000);
	ck_assert_int_eq(ikev1_check_liveness(w.r.e, &id, w.now, &err), 0);
	m = take(&w.r);
	ck_assert_uint_eq(m.to.port, 45000);
	free(m.data);
	ck_assert_int_eq(ikev1_peer_moved(w.i.e, &id, &esp_from, w.now), 0);
	drain(&w.i);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_PEER_MOVED), 0);
	world_end(&w);
}
END_TEST

int main(void)
{
	const TTest *tests[] = {
		delete_ipsec_sa_both_ways,
		delete_isakmp_sa_both_ways,
		dpd_answered_and_silent_peer,
		initial_contact_replaces_old_sas,
		nat_mapping_change_followed,
		quick_mode_from_new_mapping_followed,
		quick_mode_from_elsewhere_without_nat,
		quick_mode_refused_from_new_mapping,
		nat_mapping_change_seen_in_esp,
	};

	return world_run("ikev1_info", tests, sizeof(tests) / sizeof(tests[0]));
}
