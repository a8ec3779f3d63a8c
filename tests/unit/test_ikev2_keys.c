/* test_ikev2_keys.c - Check tests of the IKEv2 engine's key schedule, in
 * the two-peer world of ikev2_world.h, recomputed by the independent
 * reference ike_vectors/ike_crypto_ref.py from the nonces and SPIs on the
 * wire and g^ir (the responder's Curve25519 key is fixed by the test
 * hook): SKEYSEED, SK_d..SK_pr and KEYMAT of a real exchange, and the IKE
 * SA rekey (CREATE_CHILD_SA, ike/ikev2_child.c) with its children moved,
 * the old SA deleted and the new one carrying exchanges. */
#include <stdlib.h>
#include <string.h>

#include "ike_dh.h"
#include "ike_prf.h"
#include "ike_ref.h"
#include "ikev2_world.h"

static const uint8_t fixed_priv[32] = { /* RFC 7748 §6.1, Bob's X25519 key */
	0x5d, 0xab, 0x08, 0x7e, 0x62, 0x4a, 0x8a, 0x4b, 0x79, 0xe1, 0x7f, 0x8b, 0x83, 0x80,
	0x0e, 0xe6, 0x6f, 0x3b, 0xb1, 0x29, 0x26, 0x18, 0xb6, 0xfd, 0x1c, 0x2f, 0x8b, 0x27,
	0xff, 0x88, 0xe0, 0xeb,
};

/* The pieces of a message for `to`: nonce and KE data copied out. */
static void nonce_ke(struct side *to, const struct msg *m, uint8_t *nonce, size_t *nonce_len,
		     uint8_t *ke, size_t *ke_len)
{
	static uint8_t buf[IKE_MSG_MAX];
	union ikev2_body b;

	ck_assert(body_of(to, m, IKEV2_PL_NONCE, &b, buf));
	memcpy(nonce, b.nonce.p, b.nonce.len);
	*nonce_len = b.nonce.len;
	if (ke == NULL)
		return;
	ck_assert(body_of(to, m, IKEV2_PL_KE, &b, buf));
	memcpy(ke, b.ke.data.p, b.ke.data.len);
	*ke_len = b.ke.data.len;
}

/* g^ir as the responder (fixed key) computes it from the initiator's KE. */
static size_t fixed_g_ir(uint16_t group, const uint8_t *ke, size_t ke_len, uint8_t *g_ir)
{
	struct ike_dh *dh;
	struct ike_err err = { 0 };
	size_t len = 0;

	ck_assert_msg(ike_dh_new_fixed_for_test(group, fixed_priv, sizeof(fixed_priv), &dh, &err) == 0,
		      "%s", err.msg);
	ck_assert_msg(ike_dh_derive(dh, ke, ke_len, g_ir, IKE_DH_SECRET_MAX, &len, &err) == 0, "%s",
		      err.msg);
	ike_dh_free(dh);
	return len;
}

static void ref_keys(struct ref *r, const struct ikev2_keys *k, const uint8_t *seed,
		     const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
		     const struct ikev2_sa_id *id)
{
	ref_op(r, "keys");
	ref_add(r, " %s", md_name(k->suite.prf));
	ref_hex(r, seed, k->prf_len);
	ref_hex(r, ni, ni_len);
	ref_hex(r, nr, nr_len);
	ref_hex(r, id->spi_i, 8);
	ref_hex(r, id->spi_r, 8);
	ref_add(r, " %u %u", k->a_len, k->e_len);
}

static void expect_keys(struct ref *r, const struct ikev2_keys *k)
{
	ref_expect(r, k->sk_d, k->prf_len, "SK_d");
	ref_expect(r, k->sk_ai, k->a_len, "SK_ai");
	ref_expect(r, k->sk_ar, k->a_len, "SK_ar");
	ref_expect(r, k->sk_ei, k->e_len, "SK_ei");
	ref_expect(r, k->sk_er, k->e_len, "SK_er");
	ref_expect(r, k->sk_pi, k->prf_len, "SK_pi");
	ref_expect(r, k->sk_pr, k->prf_len, "SK_pr");
}

/* The key schedule of a real exchange, recomputed by ike_crypto_ref.py from
 * the nonces and SPIs on the wire and g^ir (the responder's key pair is
 * fixed by the test hook): SKEYSEED, SK_d..SK_pr of both SAs, and the
 * child SA's KEYMAT cut as RFC 7296 §2.17 and RFC 4106 §8.1 say. */
START_TEST(key_schedule_matches_reference)
{
	struct world w;
	uint8_t ni[256], nr[256], ke[256], g_ir[IKE_DH_SECRET_MAX], seed[IKE_PRF_MAX], km[200];
	size_t ni_len, nr_len, ke_len, g_len, km_len;
	const struct ike_child *c;
	struct ikev2_sa_id id;
	struct ikev2_sa *sa;
	struct msg m1, m2;
	struct ref r = { 0 };
	struct ike_err err = { 0 };

	world_init(&w);
	pair_policy(&w.i.pol, true, &mm_gcm_x25519, &qm_gcm, "secret");
	pair_policy(&w.r.pol, false, &mm_gcm_x25519, &qm_gcm, "secret");
	w.r.conf.test_dh_private = fixed_priv;
	w.r.conf.test_dh_private_len = sizeof(fixed_priv);
	world_go(&w);
	id = initiate(&w);
	m1 = step(&w, &w.i);
	m2 = step(&w, &w.r);
	nonce_ke(&w.r, &m1, ni, &ni_len, ke, &ke_len);
	nonce_ke(&w.i, &m2, nr, &nr_len, NULL, NULL);
	memcpy(id.spi_r, m2.data + 8, 8);
	g_len = fixed_g_ir(IKE_DH_CURVE25519, ke, ke_len, g_ir);
	free(step(&w, &w.i).data);
	free(step(&w, &w.r).data);
	sa = ikev2_find_sa(w.i.e, &id);
	ck_assert_ptr_nonnull(sa);
	ck_assert_int_eq(ikev2_skeyseed(sa->keys.suite.prf, IKE_CHUNK(ni, ni_len), IKE_CHUNK(nr, nr_len),
					IKE_CHUNK(g_ir, g_len), seed, &err), 0);
	ref_op(&r, "skeyseed");
	ref_add(&r, " %s", md_name(sa->keys.suite.prf));
	ref_hex(&r, ni, ni_len);
	ref_hex(&r, nr, nr_len);
	ref_hex(&r, g_ir, g_len);
	ref_keys(&r, &sa->keys, seed, ni, ni_len, nr, nr_len, &id);
	km_len = 2 * (32 + 4);
	ref_op(&r, "child");
	ref_add(&r, " %s", md_name(sa->keys.suite.prf));
	ref_hex(&r, sa->keys.sk_d, sa->keys.prf_len);
	ref_hex(&r, NULL, 0);
	ref_hex(&r, ni, ni_len);
	ref_hex(&r, nr, nr_len);
	ref_add(&r, " %zu", km_len);
	ref_run(&r);
	ref_expect(&r, seed, sa->keys.prf_len, "SKEYSEED");
	expect_keys(&r, &sa->keys);
	memcpy(km, ref_take(&r, km_len, "KEYMAT"), km_len);
	ref_done(&r);
	ck_assert_mem_eq(sa->keys.sk_er, ikev2_find_sa(w.r.e, &id)->keys.sk_er, sa->keys.e_len);
	c = child_of(&w.i); /* initiator-to-responder first: the initiator's outbound */
	ck_assert_mem_eq(c->out.enc_key, km, 32);
	ck_assert_mem_eq(c->out.salt, km + 32, 4);
	ck_assert_mem_eq(c->in.enc_key, km + 36, 32);
	ck_assert_mem_eq(c->in.salt, km + 68, 4);
	pair_agrees(c, child_of(&w.r));
	free(m1.data);
	free(m2.data);
	world_end(&w);
}
END_TEST

/* IKE SA rekey: new SPIs, SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)
 * recomputed by the reference, children moved, old SA deleted, and the new
 * one carries exchanges. */
START_TEST(ike_sa_rekey)
{
	struct world w;
	uint8_t ni[256], nr[256], ke[256], g_ir[IKE_DH_SECRET_MAX], seed[IKE_PRF_MAX], old_d[IKE_PRF_MAX];
	size_t ni_len, nr_len, ke_len, g_len;
	struct ikev2_sa_id id, new_i, new_r;
	struct ikev2_sa *old, *sa_i, *sa_r;
	struct ike_err err = { 0 };
	uint16_t old_prf;
	struct ref r = { 0 };
	struct msg m;

	world_init(&w);
	pair_policy(&w.i.pol, true, &mm_gcm_x25519, &qm_gcm, "secret");
	pair_policy(&w.r.pol, false, &mm_gcm_x25519, &qm_gcm, "secret");
	w.r.conf.test_dh_private = fixed_priv;
	w.r.conf.test_dh_private_len = sizeof(fixed_priv);
	world_go(&w);
	id = establish(&w);
	old = ikev2_find_sa(w.i.e, &id);
	old_prf = old->keys.suite.prf;
	memcpy(old_d, old->keys.sk_d, old->keys.prf_len);
	ck_assert_int_eq(ikev2_rekey_ike(w.i.e, &id, w.now, &err), 0);
	m = take(&w.i);
	expect_summary(&w.r, &m, "SA Nonce KE");
	nonce_ke(&w.r, &m, ni, &ni_len, ke, &ke_len);
	deliver(&w, &w.r, &m);
	free(m.data);
	m = take(&w.r);
	expect_summary(&w.i, &m, "SA Nonce KE");
	nonce_ke(&w.i, &m, nr, &nr_len, NULL, NULL);
	deliver(&w, &w.i, &m);
	free(m.data);
	new_i = last_ev(&w.i, IKEV2_EV_IKE_REKEYED)->rekeyed.new_sa;
	new_r = last_ev(&w.r, IKEV2_EV_IKE_REKEYED)->rekeyed.new_sa;
	ck_assert_mem_eq(&new_i, &new_r, sizeof(new_i));
	ck_assert(memcmp(new_i.spi_i, id.spi_i, 8) != 0 && memcmp(new_i.spi_r, id.spi_r, 8) != 0);
	sa_i = ikev2_find_sa(w.i.e, &new_i);
	sa_r = ikev2_find_sa(w.r.e, &new_r);
	ck_assert_uint_eq(sa_i->children.n, 1);
	ck_assert_uint_eq(sa_r->children.n, 1);
	ck_assert_uint_eq(ikev2_find_sa(w.i.e, &id)->children.n, 0);
	g_len = fixed_g_ir(IKE_DH_CURVE25519, ke, ke_len, g_ir);
	ck_assert_int_eq(ikev2_skeyseed_rekey(old_prf, IKE_CHUNK(old_d, ike_prf_len(old_prf)),
					      IKE_CHUNK(g_ir, g_len), IKE_CHUNK(ni, ni_len),
					      IKE_CHUNK(nr, nr_len), seed, &err), 0);
	ref_op(&r, "skeyseed-rekey");
	ref_add(&r, " %s", md_name(old_prf));
	ref_hex(&r, old_d, ike_prf_len(old_prf));
	ref_hex(&r, g_ir, g_len);
	ref_hex(&r, ni, ni_len);
	ref_hex(&r, nr, nr_len);
	ref_keys(&r, &sa_i->keys, seed, ni, ni_len, nr, nr_len, &new_i);
	ref_run(&r);
	ref_expect(&r, seed, ike_prf_len(old_prf), "rekeyed SKEYSEED");
	expect_keys(&r, &sa_i->keys);
	ref_done(&r);
	ck_assert_mem_eq(sa_i->keys.sk_d, sa_r->keys.sk_d, sa_i->keys.prf_len);
	/* the rekey's initiator deletes the old SA */
	pass(&w, &w.i, "D");
	free(step(&w, &w.r).data);
	ck_assert_mem_eq(&last_ev(&w.i, IKEV2_EV_IKE_DOWN)->sa, &id, sizeof(id));
	ck_assert_mem_eq(&last_ev(&w.r, IKEV2_EV_IKE_DOWN)->sa, &id, sizeof(id));
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_DOWN) + count_ev(&w.r, IKEV2_EV_CHILD_DOWN), 0);
	ck_assert_ptr_null(ikev2_find_sa(w.i.e, &id));
	ck_assert_uint_eq(ikev2_sa_count(w.i.e), 1);
	/* the new SA works, from either side */
	ck_assert_int_eq(ikev2_check_liveness(w.r.e, &new_r, w.now, &err), 0);
	pass(&w, &w.r, "");
	free(step(&w, &w.i).data);
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_IKE_REKEYS), 1);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_IKE_REKEYS), 1);
	world_end(&w);
}
END_TEST

int main(void)
{
	const TTest *tests[] = {
		key_schedule_matches_reference,
		ike_sa_rekey,
	};

	return world_run("ikev2_keys", NULL, 0, tests, N(tests));
}
