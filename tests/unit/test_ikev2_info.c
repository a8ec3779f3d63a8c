/* test_ikev2_info.c - Check tests of the IKEv2 engine's INFORMATIONAL
 * exchange (ike/ikev2_info.c) and of the input and states it refuses, in
 * the two-peer world of ikev2_world.h: deletes of child SAs and of the IKE
 * SA from either side, INITIAL_CONTACT after a restart, liveness checks
 * answered and a dead peer; malformed datagrams, IKE_AUTH for no IKE SA,
 * a bad ICV and unexpected message IDs dropped and counted; illegal state
 * transitions refused by the SA's state setter. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ikev2_world.h"

START_TEST(delete_child_and_ike_sa)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	const struct ike_child *c;
	uint32_t spi_in, spi_out;

	world_init(&w);
	world_go(&w);
	id = establish(&w);
	c = child_of(&w.r);
	spi_in = c->in.spi;
	spi_out = c->out.spi;
	ck_assert_int_eq(ikev2_delete_child(w.r.e, &id, 0x1234, w.now, &err), -ENOENT);
	ck_assert_int_eq(ikev2_delete_child(w.r.e, &id, spi_in, w.now, &err), 0);
	pass(&w, &w.r, "D");
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_CHILD_DOWN)->child_down.spi_out, spi_in);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_CHILD_DOWN)->child_down.spi_in, spi_out);
	pass(&w, &w.i, "D");
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_CHILD_DOWN)->child_down.spi_in, spi_in);
	ck_assert_int_eq(ikev2_delete_ike(w.i.e, &id, w.now, &err), 0);
	ck_assert_int_eq(ikev2_find_sa(w.i.e, &id)->state, IKEV2_S_DELETING);
	pass(&w, &w.i, "D");
	ck_assert_msg(strstr(last_ev(&w.r, IKEV2_EV_IKE_DOWN)->reason.text, "deleted by the peer"), "%s",
		      last_ev(&w.r, IKEV2_EV_IKE_DOWN)->reason.text);
	pass(&w, &w.r, "");
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_DOWN), 1);
	ck_assert_uint_eq(ikev2_sa_count(w.i.e) + ikev2_sa_count(w.r.e), 0);
	world_end(&w);
}
END_TEST

/* Deleting an IKE SA with children takes them down on both sides. */
START_TEST(delete_ike_sa_takes_children)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };

	world_init(&w);
	world_go(&w);
	id = establish(&w);
	ck_assert_int_eq(ikev2_delete_ike(w.r.e, &id, w.now, &err), 0);
	free(step(&w, &w.r).data);
	free(step(&w, &w.i).data);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_DOWN), 1);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_DOWN), 1);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_DOWN), 1);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_IKE_DOWN), 1);
	world_end(&w);
}
END_TEST

/* INITIAL_CONTACT (RFC 7296 §2.4): a second IKE SA beside the first says
 * nothing; after the initiator restarts (a fresh engine, same identity)
 * its first IKE_AUTH says it, and the responder takes the old SA and its
 * child down (counted) and keeps the new one. */
START_TEST(initial_contact_after_a_restart)
{
	struct world w;

	world_init(&w);
	world_go(&w);
	establish(&w);
	initiate(&w);
	free(step(&w, &w.i).data);
	free(step(&w, &w.r).data);
	pass(&w, &w.i, "IDi AUTH IDr SA TSi TSr");
	pass(&w, &w.r, "IDr AUTH SA TSi TSr");
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_IKE_DOWN), 0);
	side_end(&w.i); /* the initiator restarts */
	memset(&w.i.box, 0, sizeof(w.i.box));
	w.i.box.name = "initiator";
	pair_policy(&w.i.pol, true, &mm_gcm_ecp, &qm_gcm, "secret");
	side_start(&w.i);
	establish(&w);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_IKE_DOWN), 2);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_DOWN), 2);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_INITIAL_CONTACTS), 2);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_IKE_UP), 3);
	world_end(&w);
}
END_TEST

START_TEST(liveness_check_answered_or_peer_declared_dead)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	int down;

	world_init(&w);
	world_go(&w);
	id = establish(&w);
	ck_assert_int_eq(ikev2_check_liveness(w.i.e, &id, w.now, &err), 0);
	round_trip(&w, &w.i, "", "");
	ck_assert_uint_eq(ikev2_next_timer(w.i.e), UINT64_MAX);
	/* the peer goes silent: the next check takes the SA down */
	ck_assert_int_eq(ikev2_check_liveness(w.i.e, &id, w.now, &err), 0);
	for (int k = 0; k < 7; k++) {
		ikev2_tick(w.i.e, ikev2_next_timer(w.i.e));
		drain(&w.i);
	}
	down = count_ev(&w.i, IKEV2_EV_IKE_DOWN);
	ck_assert_int_eq(down, 1);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_DOWN), 1);
	ck_assert_msg(strstr(last_ev(&w.i, IKEV2_EV_IKE_DOWN)->reason.text, "did not answer"), "%s",
		      last_ev(&w.i, IKEV2_EV_IKE_DOWN)->reason.text);
	world_end(&w);
}
END_TEST

/* Bad input is counted and dropped with a reason; nothing changes. */
START_TEST(malformed_and_unexpected_input)
{
	static const uint8_t junk[] = "not an IKE message at all, just some bytes";
	struct world w;
	struct ike_err err = { 0 };
	struct ikev2_sa_id id;
	struct msg m;
	uint8_t fake[64];
	struct ikev2_builder b;
	struct ikev2_sk_space sp;
	struct ikev2_hdr h = { .version = IKEV2_VERSION, .exchange = IKEV2_IKE_AUTH,
			       .flags = IKEV2_FLAG_I, .msg_id = 1 };
	size_t len;

	world_init(&w);
	world_go(&w);
	/* garbage */
	ck_assert_int_eq(ikev2_input(w.r.e, junk, sizeof(junk), &w.r.ep, &w.i.ep, w.now, &err), -EBADMSG);
	ck_assert_msg(strstr(err.msg, "malformed"), "%s", err.msg);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_INVALID_PACKETS), 1);
	/* IKE_AUTH before any IKE_SA_INIT */
	memset(h.spi_i, 0x11, 8);
	memset(h.spi_r, 0x22, 8);
	ikev2_build_begin(&b, fake, sizeof(fake), &h);
	ikev2_build_sk(&b, IKEV2_PL_IDI, NULL, 8, 8, 16, &sp);
	ck_assert_int_eq(ikev2_build_end(&b, &len, &err), 0);
	memset(sp.iv, 0, 32);
	ck_assert_int_eq(ikev2_input(w.r.e, fake, len, &w.r.ep, &w.i.ep, w.now, &err), -ENOENT);
	ck_assert_msg(strstr(err.msg, "no known IKE SA"), "%s", err.msg);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_UNKNOWN_SPI), 1);
	/* a bad ICV on IKE_AUTH: dropped, the intact copy still works */
	id = initiate(&w);
	free(step(&w, &w.i).data);
	free(step(&w, &w.r).data);
	m = take(&w.i);
	m.data[m.len - 1] ^= 0x80;
	ck_assert_int_eq(feed(&w, &w.r, &m, &err), -EKEYREJECTED);
	ck_assert_msg(strstr(err.msg, "integrity check failed"), "%s", err.msg);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_INTEGRITY_FAILED), 1);
	nothing_sent(&w.r);
	m.data[m.len - 1] ^= 0x80;
	deliver(&w, &w.r, &m);
	free(m.data);
	/* the response with another message ID: unexpected, dropped */
	m = take(&w.r);
	m.data[20 + 3] ^= 0x04;
	ck_assert_int_eq(feed(&w, &w.i, &m, &err), -ERANGE);
	ck_assert_msg(strstr(err.msg, "response message ID 5"), "%s", err.msg);
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_UNEXPECTED_MSG_ID), 1);
	m.data[20 + 3] ^= 0x04;
	deliver(&w, &w.i, &m);
	free(m.data);
	memcpy(id.spi_r, last_ev(&w.i, IKEV2_EV_IKE_UP)->sa.spi_r, 8);
	/* a request from the past, and one from the future */
	ck_assert_int_eq(ikev2_check_liveness(w.i.e, &id, w.now, &err), 0);
	m = take(&w.i);
	m.data[20 + 3] = 7;
	ck_assert_int_eq(feed(&w, &w.r, &m, &err), -ERANGE);
	m.data[20 + 3] = 0;
	ck_assert_int_eq(feed(&w, &w.r, &m, &err), -EALREADY);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_UNEXPECTED_MSG_ID), 2);
	free(m.data);
	/* IKE_AUTH again on an established SA: not in this state */
	ck_assert_int_eq(ikev2_find_sa(w.r.e, &id)->state, IKEV2_S_ESTABLISHED);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_FAILED), 0);
	world_end(&w);
}
END_TEST

START_TEST(state_setter_refuses_illegal_transitions)
{
	struct ikev2_sa *sa = ikev2_sa_new(true);

	ck_assert_int_eq(ikev2_set_state(sa, IKEV2_S_AUTH_SENT, 5, NULL), -EPERM);
	ck_assert_ptr_nonnull(ikev2_sa_log_find(sa, "state IDLE -> AUTH_SENT refused"));
	ck_assert_int_eq(ikev2_set_state(sa, IKEV2_S_INIT_SENT, 6, NULL), 0);
	ck_assert_ptr_nonnull(ikev2_sa_log_find(sa, "state IDLE -> INIT_SENT"));
	ck_assert_int_eq(ikev2_set_state(sa, IKEV2_S_ESTABLISHED, 7, NULL), -EPERM);
	ck_assert_int_eq(ikev2_set_state(sa, IKEV2_S_CLOSED, 8, NULL), 0);
	ck_assert_int_eq(ikev2_set_state(sa, IKEV2_S_CLOSED, 9, NULL), -EPERM);
	ck_assert_int_eq(ikev2_set_state(sa, IKEV2_S_IDLE, 9, NULL), -EPERM);
	ikev2_sa_free(sa);
}
END_TEST

int main(void)
{
	const TTest *tests[] = {
		delete_child_and_ike_sa,
		delete_ike_sa_takes_children,
		initial_contact_after_a_restart,
		liveness_check_answered_or_peer_declared_dead,
		malformed_and_unexpected_input,
		state_setter_refuses_illegal_transitions,
	};

	return world_run("ikev2_info", NULL, 0, tests, N(tests));
}
