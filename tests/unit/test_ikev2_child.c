/* test_ikev2_child.c - Check tests of the IKEv2 engine's child SAs
 * (ike/ikev2_child_nego.c, ike/ikev2_child.c), in the two-peer world of
 * ikev2_world.h: traffic selectors narrowed and unacceptable, transport
 * mode and inbound SPIs from the caller, the responder's policy chosen by
 * the child asked for, a declined transport mode deleted, and
 * CREATE_CHILD_SA: a new child SA, a child rekey
 * with PFS, a KE of another group than the responder's (the IKE SA
 * rekey is in test_ikev2_keys.c); the responder's child SA installed
 * before its answer leaves. Rekey collisions and refused rekeys are in
 * test_ikev2_rekeys.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ikev2_world.h"

START_TEST(traffic_selectors_narrowed)
{
	struct world w;
	const struct ike_child *ci, *cr;
	char text[128];

	world_init(&w);
	w.i.pol.ts_local = ts_prefix(v4(10, 0, 0, 0), 8);
	w.r.pol.ts_remote = ts_prefix(v4(10, 1, 0, 0), 16);
	world_go(&w);
	establish(&w);
	ci = child_of(&w.i);
	cr = child_of(&w.r);
	ck_assert_uint_eq(ci->ts_local.n, 1);
	ike_ts_describe(&ci->ts_local.ts[0], text, sizeof(text));
	ck_assert_str_eq(text, "10.1.0.0-10.1.255.255 proto 0 ports 0-65535");
	ike_ts_describe(&cr->ts_remote.ts[0], text, sizeof(text));
	ck_assert_str_eq(text, "10.1.0.0-10.1.255.255 proto 0 ports 0-65535");
	ike_ts_describe(&cr->ts_local.ts[0], text, sizeof(text));
	ck_assert_str_eq(text, "10.2.0.0-10.2.255.255 proto 0 ports 0-65535");
	world_end(&w);
}
END_TEST

START_TEST(traffic_selectors_unacceptable)
{
	struct world w;
	struct msg m;

	world_init(&w);
	w.r.pol.ts_remote = ts_prefix(v4(172, 16, 0, 0), 12);
	world_go(&w);
	m = auth_answer(&w);
	expect_summary(&w.i, &m, "IDr AUTH N(TS_UNACCEPTABLE)");
	deliver(&w, &w.i, &m);
	free(m.data);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_FAILED)->reason.notify, IKEV2_N_TS_UNACCEPTABLE);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	world_end(&w);
}
END_TEST

static uint32_t next_spi = 0x10000;

static uint32_t spi_from_the_sa_manager(void *ctx)
{
	(void)ctx;
	return next_spi++;
}

/* Transport mode when both policies ask; inbound SPIs from the caller. */

/* Transport mode when both policies ask; inbound SPIs from the caller. */
START_TEST(transport_mode_and_allocated_spis)
{
	struct world w;
	const struct ike_child *ci, *cr;

	world_init(&w);
	w.i.pol.transport = w.r.pol.transport = true;
	w.r.conf.spi_alloc = spi_from_the_sa_manager;
	world_go(&w);
	initiate(&w);
	free(step(&w, &w.i).data);
	free(step(&w, &w.r).data);
	pass(&w, &w.i, "IDi AUTH N(INITIAL_CONTACT) IDr SA TSi TSr N(USE_TRANSPORT_MODE)");
	pass(&w, &w.r, "IDr AUTH SA TSi TSr N(USE_TRANSPORT_MODE)");
	ci = child_of(&w.i);
	cr = child_of(&w.r);
	pair_agrees(ci, cr);
	ck_assert_uint_eq(ci->out.mode, DPSEC_MODE_TRANSPORT);
	ck_assert_uint_eq(cr->in.spi, 0x10000);
	ck_assert_uint_eq(ci->out.spi, 0x10000);
	world_end(&w);
}
END_TEST

/* One peer, two rules: the responder's lookup at IKE_AUTH is told the
 * selectors and mode the initiator asks for, and its choice (here the
 * transport rule, user 33) is the one the child SA is made by. */
START_TEST(responder_policy_chosen_by_the_child_asked_for)
{
	struct world w;
	const struct ike_child *cr;
	const struct ikev2_event *up;

	world_init(&w);
	w.i.pol.transport = true;
	w.r.pol_transport = w.r.pol;
	w.r.pol_transport.user = 33;
	w.r.pol_transport.transport = true;
	w.r.by_mode = true;
	world_go(&w);
	initiate(&w);
	free(step(&w, &w.i).data);
	ck_assert_int_eq(w.r.lookups_with_ts, 0); /* IKE_SA_INIT: addresses only */
	free(step(&w, &w.r).data);
	pass(&w, &w.i, "IDi AUTH N(INITIAL_CONTACT) IDr SA TSi TSr N(USE_TRANSPORT_MODE)");
	ck_assert_int_eq(w.r.lookups_with_ts, 1);
	ck_assert_int_eq(w.r.seen_ts_i.n, 1);
	ck_assert_int_eq(memcmp(&w.r.seen_ts_i.ts[0], &w.i.pol.ts_local.ts[0], sizeof(struct ike_ts)), 0);
	pass(&w, &w.r, "IDr AUTH SA TSi TSr N(USE_TRANSPORT_MODE)");
	cr = child_of(&w.r);
	ck_assert_uint_eq(cr->in.mode, DPSEC_MODE_TRANSPORT);
	up = last_ev(&w.r, IKEV2_EV_CHILD_UP);
	ck_assert_uint_eq(up->user, 33);
	ike_auth_wipe(&w.r.pol_transport.local_auth);
	ike_auth_wipe(&w.r.pol_transport.remote_auth);
	world_end(&w);
}
END_TEST

/* Asked for transport mode, the responder (its policy tunnel mode)
 * declines: the initiator installs nothing, says why, and deletes the
 * responder's half with its own inbound SPI (RFC 7296 §1.3.1); the IKE SA
 * stays up. */
START_TEST(declined_transport_mode_deleted)
{
	struct world w;
	uint32_t spi_in_r;

	world_init(&w);
	w.i.pol.transport = true;
	world_go(&w);
	initiate(&w);
	free(step(&w, &w.i).data);
	free(step(&w, &w.r).data);
	pass(&w, &w.i, "IDi AUTH N(INITIAL_CONTACT) IDr SA TSi TSr N(USE_TRANSPORT_MODE)");
	pass(&w, &w.r, "IDr AUTH SA TSi TSr");
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 0);
	ck_assert_ptr_nonnull(strstr(last_ev(&w.i, IKEV2_EV_FAILED)->reason.text,
				     "declined transport mode"));
	ck_assert(!last_ev(&w.i, IKEV2_EV_FAILED)->reason.ike_sa_gone);
	spi_in_r = child_of(&w.r)->in.spi;
	pass(&w, &w.i, "D");
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_CHILD_DOWN)->child_down.spi_in, spi_in_r);
	pass(&w, &w.r, "D");
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_DOWN), 0);
	ck_assert_ptr_nonnull(ikev2_find_sa(w.i.e, &last_ev(&w.i, IKEV2_EV_IKE_UP)->sa));
	world_end(&w);
}
END_TEST

START_TEST(child_rekey_with_pfs)
{
	struct world w;
	struct ike_qm_method pfs = qm_gcm;
	struct ikev2_sa_id id;
	struct ike_child old_i, old_r;
	const struct ike_child *ni, *nr;
	struct ike_err err = { 0 };
	struct ikev2_event *d;

	pfs.dh_group = IKE_DH_ECP_256;
	world_init(&w);
	w.i.pol.qm[0] = pfs;
	w.r.pol.qm[0] = pfs;
	world_go(&w);
	id = establish(&w);
	old_i = *child_of(&w.i);
	old_r = *child_of(&w.r);
	ck_assert_uint_eq(old_i.method.dh_group, 0); /* no KE in IKE_AUTH */
	ck_assert_int_eq(ikev2_rekey_child(w.i.e, &id, old_i.in.spi, w.now, &err), 0);
	round_trip(&w, &w.i, "N(REKEY_SA) SA TSi TSr Nonce KE", "SA TSi TSr Nonce KE");
	ni = child_of(&w.i);
	nr = child_of(&w.r);
	pair_agrees(ni, nr);
	ck_assert_uint_eq(ni->rekeys_spi, old_i.in.spi);
	ck_assert_uint_eq(nr->rekeys_spi, old_r.in.spi);
	ck_assert_uint_eq(ni->method.dh_group, IKE_DH_ECP_256);
	ck_assert_uint_ne(ni->in.spi, old_i.in.spi);
	ck_assert_uint_ne(ni->out.spi, old_i.out.spi);
	ck_assert(memcmp(ni->in.enc_key, old_i.in.enc_key, 32) != 0);
	ck_assert(memcmp(ni->out.enc_key, old_i.out.enc_key, 32) != 0);
	/* make-before-break: the old pair is deleted after the new one is up */
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_DOWN), 0);
	round_trip(&w, &w.i, "D", "D");
	d = last_ev(&w.i, IKEV2_EV_CHILD_DOWN);
	ck_assert_uint_eq(d->child_down.spi_in, old_i.in.spi);
	ck_assert_uint_eq(d->child_down.spi_out, old_i.out.spi);
	d = last_ev(&w.r, IKEV2_EV_CHILD_DOWN);
	ck_assert_uint_eq(d->child_down.spi_in, old_r.in.spi);
	ck_assert_uint_eq(ikev2_find_sa(w.i.e, &id)->children.n, 1);
	ck_assert_uint_eq(ikev2_find_sa(w.r.e, &id)->children.n, 1);
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_CHILD_REKEYS), 1);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_CHILD_REKEYS), 1);
	ike_child_wipe(&old_i);
	ike_child_wipe(&old_r);
	world_end(&w);
}
END_TEST

START_TEST(new_child_sa_on_established_ike_sa)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };

	world_init(&w);
	world_go(&w);
	id = establish(&w);
	ck_assert_int_eq(ikev2_create_child(w.i.e, &id, w.now, &err), 0);
	round_trip(&w, &w.i, "SA TSi TSr Nonce", "SA TSi TSr Nonce");
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 2);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	ck_assert_uint_eq(child_of(&w.i)->rekeys_spi, 0);
	world_end(&w);
}
END_TEST

/* A responder's answer that creates a child SA leaves after that SA's
 * CHILD_UP, whose handler installs it (dpsec-ctld waits for dpsecd's
 * acknowledgement): the initiator sends ESP as soon as it reads the answer,
 * its first packets must find the inbound SA. IKE_AUTH, then
 * CREATE_CHILD_SA. */
START_TEST(responder_installs_the_child_before_answering)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	struct msg m;

	world_init(&w);
	world_go(&w);
	m = auth_answer(&w);
	ck_assert_int_eq(outbox_count_before(&w.r.box, &m, IKEV2_EV_CHILD_UP), 1);
	deliver(&w, &w.i, &m);
	free(m.data);
	id = last_ev(&w.i, IKEV2_EV_IKE_UP)->sa;
	ck_assert_int_eq(ikev2_create_child(w.i.e, &id, w.now, &err), 0);
	pass(&w, &w.i, "SA TSi TSr Nonce");
	m = take(&w.r);
	ck_assert_int_eq(outbox_count_before(&w.r.box, &m, IKEV2_EV_CHILD_UP), 2);
	deliver(&w, &w.i, &m);
	free(m.data);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 2);
	world_end(&w);
}
END_TEST

/* Child methods with PFS: the initiator's KE for ECP-256, MODP-2048 also
 * offered; the responder wants MODP-2048. An IKE SA up between them, its
 * id in *id. */
static const struct ike_qm_method *pfs_two_groups(struct world *w, struct ikev2_sa_id *id)
{
	static struct ike_qm_method methods[2];

	methods[0] = methods[1] = qm_gcm;
	methods[0].dh_group = IKE_DH_ECP_256;
	methods[1].dh_group = IKE_DH_MODP_2048;
	world_init(w);
	w->i.pol.n_qm = 2;
	w->i.pol.qm[0] = methods[0];
	w->i.pol.qm[1] = methods[1];
	w->r.pol.qm[0] = methods[1];
	world_go(w);
	*id = establish(w);
	return methods;
}

/* A KE of another group than the responder's choice in CREATE_CHILD_SA:
 * INVALID_KE_PAYLOAD naming its group; the initiator, which offered that
 * group too, asks again with a KE of it (RFC 7296 §1.3), and the child SA
 * comes up with it, for a new child SA and for a rekey. */
START_TEST(create_child_with_pfs_for_another_group)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	uint32_t old;

	pfs_two_groups(&w, &id);
	ck_assert_int_eq(ikev2_create_child(w.i.e, &id, w.now, &err), 0);
	round_trip(&w, &w.i, "SA TSi TSr Nonce KE", "N(INVALID_KE_PAYLOAD)");
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_FAILED), 0);
	round_trip(&w, &w.i, "SA TSi TSr Nonce KE", "SA TSi TSr Nonce KE");
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 2);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	ck_assert_uint_eq(child_of(&w.i)->method.dh_group, IKE_DH_MODP_2048);
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_INVALID_KE), 1);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_INVALID_KE), 1);
	old = child_of(&w.i)->in.spi;
	ck_assert_int_eq(ikev2_rekey_child(w.i.e, &id, old, w.now, &err), 0);
	round_trip(&w, &w.i, "N(REKEY_SA) SA TSi TSr Nonce KE", "N(INVALID_KE_PAYLOAD)");
	round_trip(&w, &w.i, "N(REKEY_SA) SA TSi TSr Nonce KE", "SA TSi TSr Nonce KE");
	ck_assert_uint_eq(child_of(&w.i)->rekeys_spi, old);
	ck_assert_uint_eq(child_of(&w.i)->method.dh_group, IKE_DH_MODP_2048);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_FAILED), 0);
	ck_assert_int_eq(ikev2_find_sa(w.i.e, &id)->state, IKEV2_S_ESTABLISHED);
	world_end(&w);
}
END_TEST

/* A second INVALID_KE_PAYLOAD to the same request (here the responder's
 * IKE SA's policy changed between the two, so that it names the group offered
 * first): the retry was the one allowed, the child fails on both sides
 * with that notify and no third request goes; the IKE SA stays. A
 * responder naming groups in turn would otherwise keep the exchange
 * going for ever. */
START_TEST(create_child_second_invalid_ke_ends_it)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	const struct ike_qm_method *methods = pfs_two_groups(&w, &id);
	struct ikev2_event *f;

	ck_assert_int_eq(ikev2_create_child(w.i.e, &id, w.now, &err), 0);
	round_trip(&w, &w.i, "SA TSi TSr Nonce KE", "N(INVALID_KE_PAYLOAD)");
	ikev2_find_sa(w.r.e, &id)->peer.qm[0] = methods[0]; /* now it wants the group the retry left */
	round_trip(&w, &w.i, "SA TSi TSr Nonce KE", "N(INVALID_KE_PAYLOAD)");
	nothing_sent(&w.i);
	f = last_ev(&w.i, IKEV2_EV_FAILED);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->reason.notify, IKEV2_N_INVALID_KE_PAYLOAD);
	ck_assert(!f->reason.ike_sa_gone);
	ck_assert(f->reason.rekey_spi_in == 0 && !f->reason.rekey_ike); /* a new child SA's */
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_INVALID_KE), 2);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 1); /* the first one only */
	ck_assert_int_eq(ikev2_find_sa(w.i.e, &id)->state, IKEV2_S_ESTABLISHED);
	world_end(&w);
}
END_TEST

/* The same for the IKE SA's rekey: its KE is of our first IKE method's
 * group (as in IKE_SA_INIT, which the responder answered likewise); the
 * responder names the group the IKE SA was made with, and the rekey runs
 * again with it. */
START_TEST(ike_rekey_for_another_group)
{
	static const char init[] = INIT_PAYLOADS;
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	struct ike_mm_method x25519 = mm_gcm_ecp;

	world_init(&w);
	x25519.dh_group = IKE_DH_CURVE25519;
	w.i.pol.n_mm = 2; /* KE for Curve25519, ECP-256 also offered */
	w.i.pol.mm[0] = x25519;
	w.i.pol.mm[1] = mm_gcm_ecp;
	world_go(&w);
	id = initiate(&w);
	round_trip(&w, &w.i, init, "N(INVALID_KE_PAYLOAD)");
	round_trip(&w, &w.i, init, init);
	round_trip(&w, &w.i, "IDi AUTH N(INITIAL_CONTACT) IDr SA TSi TSr", "IDr AUTH SA TSi TSr");
	id = last_ev(&w.i, IKEV2_EV_IKE_UP)->sa;
	ck_assert_int_eq(ikev2_rekey_ike(w.i.e, &id, w.now, &err), 0);
	round_trip(&w, &w.i, "SA Nonce KE", "N(INVALID_KE_PAYLOAD)");
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_REKEYED), 0);
	round_trip(&w, &w.i, "SA Nonce KE", "SA Nonce KE");
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_REKEYED), 1);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_IKE_REKEYED), 1);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_FAILED), 0);
	world_end(&w);
}
END_TEST

int main(void)
{
	const TTest *tests[] = {
		traffic_selectors_narrowed,
		traffic_selectors_unacceptable,
		transport_mode_and_allocated_spis,
		responder_policy_chosen_by_the_child_asked_for,
		declined_transport_mode_deleted,
		child_rekey_with_pfs,
		new_child_sa_on_established_ike_sa,
		responder_installs_the_child_before_answering,
		create_child_with_pfs_for_another_group,
		create_child_second_invalid_ke_ends_it,
		ike_rekey_for_another_group,
	};

	return world_run("ikev2_child", NULL, 0, tests, N(tests));
}
