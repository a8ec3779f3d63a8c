/* test_ikev1_renew.c - Check tests of the IKEv1 engine's renewals and
 * lifetimes (ike/ikev1_renew.c and the timers), in the two-peer world of
 * ikev1_world.h: Quick Mode rekey (make-before-break), the ISAKMP SA
 * renewed by either side keeping its Quick Mode SAs, the ISAKMP SA's
 * lifetime, and Phase 1 settings changed on a running engine; a failed
 * rekey's or renewal's event names what it was to replace. */
#include <errno.h>
#include <string.h>

#include "ikev1_world.h"

START_TEST(quick_mode_rekey_make_before_break)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	uint32_t old_i, old_r;
	const struct ike_child *ni;

	world_init(&w);
	world_go(&w);
	id = main_and_quick(&w);
	old_i = child_of(&w.i)->in.spi;
	old_r = child_of(&w.r)->in.spi;
	ck_assert_int_eq(ikev1_rekey_child(w.i.e, &id, old_i, w.now, &err), 0);
	pass(&w, &w.i);
	pass(&w, &w.r); /* the initiator installs, then deletes the old pair */
	ni = child_of(&w.i);
	ck_assert_uint_eq(ni->rekeys_spi, old_i);
	ck_assert_uint_ne(ni->in.spi, old_i);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_CHILD_DOWN)->child_down.spi_in, old_i);
	pass(&w, &w.i); /* QM 3: the responder's new pair is up before the old goes */
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_UP), 2);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_DOWN), 0);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	pass(&w, &w.i); /* the DELETE */
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_CHILD_DOWN)->child_down.spi_in, old_r);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_CHILD_REKEYS), 1);
	ck_assert_int_eq(ikev1_rekey_child(w.i.e, &id, old_i, w.now, &err), -ENOENT);
	world_end(&w);
}
END_TEST

/* Every message side s sends, and its retransmissions, lost until it
 * gives up. */
static void all_lost(struct world *w, struct side *s)
{
	drain(s);
	while (s->box.n_out)
		free(take(s).data);
	for (int k = 0; k < 8 && ikev1_next_timer(s->e) < w->now + 60 * 1000; k++) {
		w->now = ikev1_next_timer(s->e);
		ikev1_tick(s->e, w->now);
		drain(s);
		while (s->box.n_out)
			free(take(s).data);
	}
}

/* A rekey's Quick Mode of the initiator's that fails: lost, every
 * message and retransmission (refuse false), or refused by the responder,
 * whose policy for the ISAKMP SA changed so that no proposal fits. Either
 * way FAILED names the pair it was to replace (its inbound SPI, *old),
 * which stays; the initiator's last FAILED. */
static struct ikev2_event *rekey_fails(struct world *w, bool refuse, struct ikev2_sa_id *id,
				       uint32_t *old)
{
	struct ike_err err = { 0 };
	struct ikev2_event *f;

	world_init(w);
	world_go(w);
	*id = main_and_quick(w);
	*old = child_of(&w->i)->in.spi;
	if (refuse)
		ikev1_find_sa(w->r.e, id)->peer.qm[0].enc_key_len ^= 16;
	ck_assert_int_eq(ikev1_rekey_child(w->i.e, id, *old, w->now, &err), 0);
	if (refuse) {
		refused(w, &w->i, -ENOENT);
		pass(w, &w->r); /* NO-PROPOSAL-CHOSEN */
	} else {
		all_lost(w, &w->i);
	}
	f = last_ev(&w->i, IKEV2_EV_FAILED);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->reason.rekey_spi_in, *old);
	ck_assert(!f->reason.ike_sa_gone && !f->reason.rekey_ike);
	ck_assert_int_eq(count_ev(&w->i, IKEV2_EV_CHILD_DOWN), 0);
	return f;
}

/* Lost: the caller can rekey the pair again, and the next try succeeds. */
START_TEST(quick_mode_rekey_given_up_names_the_pair)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	uint32_t old;

	rekey_fails(&w, false, &id, &old);
	ck_assert_int_eq(ikev1_rekey_child(w.i.e, &id, old, w.now, &err), 0);
	pass(&w, &w.i);
	pass(&w, &w.r);
	ck_assert_uint_eq(child_of(&w.i)->rekeys_spi, old);
	world_end(&w);
}
END_TEST

/* Refused: FAILED comes at once, with the notify, and the exchange is
 * over (nothing resent). */
START_TEST(quick_mode_rekey_refused_names_the_pair)
{
	struct world w;
	struct ikev2_sa_id id;
	uint32_t old;

	ck_assert_uint_eq(rekey_fails(&w, true, &id, &old)->reason.notify,
			  ISAKMP_N_NO_PROPOSAL_CHOSEN);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_FAILED), 1);
	ck_assert_uint_gt(ikev1_next_timer(w.i.e), w.now + 60 * 1000); /* no retransmission due */
	world_end(&w);
}
END_TEST

/* A renewal whose new Main Mode the peer never answers: FAILED names the
 * renewed ISAKMP SA (rekey_ike), which stays up with its Quick Mode SA,
 * and a new renewal may start. */
START_TEST(renewal_given_up_names_the_renewed_sa)
{
	struct world w;
	struct ikev2_sa_id old, fresh;
	struct ike_err err = { 0 };
	struct ikev2_event *f;

	world_init(&w);
	world_go(&w);
	old = main_and_quick(&w);
	ck_assert_int_eq(ikev1_renew(w.i.e, &old, w.now, &fresh, &err), 0);
	all_lost(&w, &w.i);
	f = last_ev(&w.i, IKEV2_EV_FAILED);
	ck_assert_ptr_nonnull(f);
	ck_assert(f->reason.rekey_ike);
	ck_assert(!f->reason.ike_sa_gone); /* the renewed SA's: it stays */
	ck_assert_mem_eq(f->sa.spi_i, old.spi_i, 8);
	ck_assert_mem_eq(f->sa.spi_r, old.spi_r, 8);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_DOWN) + count_ev(&w.i, IKEV2_EV_CHILD_DOWN), 0);
	ck_assert_int_eq(ikev1_renew(w.i.e, &old, w.now, &fresh, &err), 0);
	world_end(&w);
}
END_TEST

/* Main Mode again, six messages, no Quick Mode. */
static void main_mode_only(struct world *w, struct side *from)
{
	for (int k = 0; k < 6; k++)
		pass(w, k % 2 ? other(w, from) : from);
}

/* A renewal by either side: the new ISAKMP SA adopts the Quick Mode SA on
 * both (IKE_REKEYED, no CHILD_DOWN: no INITIAL-CONTACT either), the
 * renewing side deletes the old one, and the pair is rekeyed on the new. */
START_TEST(isakmp_sa_renewed_keeps_quick_modes)
{
	for (int by_responder = 0; by_responder < 2; by_responder++) {
		struct world w;
		struct ikev2_sa_id old, fresh;
		struct ike_err err = { 0 };
		struct side *from, *to;
		uint32_t spi;

		world_init(&w);
		world_go(&w);
		old = main_and_quick(&w);
		from = by_responder ? &w.r : &w.i;
		to = other(&w, from);
		spi = child_of(from)->in.spi;
		ck_assert_int_eq(ikev1_renew(from->e, &old, w.now, &fresh, &err), 0);
		ck_assert_int_eq(ikev1_renew(from->e, &old, w.now, &fresh, &err), -EALREADY);
		main_mode_only(&w, from);
		for (int k = 0; k < 2; k++) {
			struct side *s = k ? to : from;

			ck_assert_int_eq(count_ev(s, IKEV2_EV_IKE_UP), 2);
			ck_assert_int_eq(count_ev(s, IKEV2_EV_IKE_REKEYED), 1);
			ck_assert_mem_eq(last_ev(s, IKEV2_EV_IKE_REKEYED)->sa.spi_i, old.spi_i, 8);
		}
		fresh = last_ev(from, IKEV2_EV_IKE_REKEYED)->rekeyed.new_sa;
		ck_assert_mem_eq(last_ev(to, IKEV2_EV_IKE_REKEYED)->rekeyed.new_sa.spi_r, fresh.spi_r, 8);
		ck_assert_str_eq(last_ev(from, IKEV2_EV_IKE_DOWN)->reason.text, "replaced by a new Main Mode");
		pass(&w, from); /* the DELETE of the old ISAKMP SA */
		ck_assert_str_eq(last_ev(to, IKEV2_EV_IKE_DOWN)->reason.text, "deleted by the peer");
		ck_assert_int_eq(count_ev(from, IKEV2_EV_CHILD_DOWN) + count_ev(to, IKEV2_EV_CHILD_DOWN), 0);
		ck_assert_uint_eq(ikev1_sa_count(w.i.e) + ikev1_sa_count(w.r.e), 2);
		ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_IKE_RENEWED), 1);
		ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_IKE_RENEWED), 1);
		ck_assert_int_eq(ikev1_rekey_child(from->e, &old, spi, w.now, &err), -ENOENT);
		ck_assert_int_eq(ikev1_rekey_child(from->e, &fresh, spi, w.now, &err), 0);
		pass(&w, from);
		pass(&w, to);
		pass(&w, from); /* QM 3, then the DELETE of the old pair */
		pass(&w, from);
		ck_assert_int_eq(count_ev(to, IKEV2_EV_CHILD_UP), 2);
		ck_assert_int_eq(count_ev(to, IKEV2_EV_CHILD_DOWN), 1);
		pair_agrees(child_of(&w.i), child_of(&w.r));
		world_end(&w);
	}
}
END_TEST

/* At the end of its lifetime the ISAKMP SA is deleted (the peer told). */
START_TEST(isakmp_sa_lifetime)
{
	struct world w;

	world_init(&w);
	w.r.conf.ike_lifetime_s = 600; /* the initiator offers 28800: the shorter holds */
	world_go(&w);
	main_and_quick(&w);
	w.now += 600 * 1000;
	ck_assert_uint_eq(ikev1_next_timer(w.r.e), w.now);
	ikev1_tick(w.r.e, w.now);
	ck_assert_str_eq(last_ev(&w.r, IKEV2_EV_IKE_DOWN)->reason.text, "ISAKMP SA lifetime expired");
	pass(&w, &w.r);
	ck_assert_str_eq(last_ev(&w.i, IKEV2_EV_IKE_DOWN)->reason.text, "deleted by the peer");
	world_end(&w);
}
END_TEST

/* The lifetime set on a running engine (dpsec-ctld's assigned policy
 * changed) holds for the next Main Mode; one out of range changes nothing. */
START_TEST(phase1_settings_changed)
{
	struct world w;
	struct ike_err err = { 0 };

	world_init(&w);
	world_go(&w);
	ck_assert_int_eq(ikev1_engine_set_phase1(w.r.e, 9, false, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "lifetime 9 s"));
	ck_assert_int_eq(ikev1_engine_set_phase1(w.r.e, 900, false, &err), 0);
	main_and_quick(&w);
	w.now += 900 * 1000;
	ck_assert_uint_eq(ikev1_next_timer(w.r.e), w.now);
	ikev1_tick(w.r.e, w.now);
	ck_assert_str_eq(last_ev(&w.r, IKEV2_EV_IKE_DOWN)->reason.text, "ISAKMP SA lifetime expired");
	world_end(&w);
}
END_TEST

int main(void)
{
	const TTest *tests[] = {
		phase1_settings_changed,
		quick_mode_rekey_make_before_break,
		quick_mode_rekey_given_up_names_the_pair,
		quick_mode_rekey_refused_names_the_pair,
		renewal_given_up_names_the_renewed_sa,
		isakmp_sa_lifetime,
		isakmp_sa_renewed_keeps_quick_modes,
	};

	return world_run("ikev1_renew", tests, sizeof(tests) / sizeof(tests[0]));
}
