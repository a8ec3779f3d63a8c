/* test_ikev1_qm_suites.c - Check tests of the IKEv1 engine's Quick Mode
 * suites (ike/ikev1_qm_payloads.c, ike/ikev1_quick.c), in the two-peer
 * world of ikev1_world.h: ESP 3DES, NULL encryption and AES-192 agreed;
 * AES-CCM's and AES-GMAC's transform IDs, Key Length and keys,
 * AES-XCBC-MAC-96's numbers (ESP and AH) and keys, Quick Mode 1 opened
 * to read them; ChaCha20-Poly1305 and AES-CMAC-96, which IKEv1 cannot
 * name, left out of the offer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ike_sk.h"
#include "ikev1_prf.h"
#include "ikev1_world.h"

static const struct ike_qm_method qm_3des = { /* the seeds' "High" */
	IKE_PROTO_ESP, DPSEC_ENC_3DES_CBC, 24, DPSEC_INTEG_HMAC_SHA1_96, 0, false, 3600, 100000
};

/* Both sides' child SAs agree, with m's algorithms and integrity keys of
 * integ_key_len bytes. */
static void pair_took(struct world *w, const struct ike_qm_method *m, uint8_t integ_key_len)
{
	const struct ike_child *ci = child_of(&w->i), *cr = child_of(&w->r);

	pair_agrees(ci, cr);
	ck_assert_uint_eq(ci->out.enc_alg, m->enc_alg);
	ck_assert_uint_eq(cr->in.enc_alg, m->enc_alg);
	ck_assert_uint_eq(ci->out.enc_key_len, m->enc_key_len);
	ck_assert_uint_eq(ci->out.integ_alg, m->integ_alg);
	ck_assert_uint_eq(ci->out.integ_key_len, integ_key_len);
}

/* The seeds' "High" end to end: Main Mode 3DES/SHA-1, Quick Mode ESP 3DES
 * (transform 3, no Key Length) with HMAC-SHA1-96; the responder prefers
 * AES but takes what the initiator offers. */
START_TEST(quick_mode_3des)
{
	struct world w;

	world_init(&w);
	pair_policy(&w.i.pol, true, &mm_3des, &qm_3des, "secret");
	pair_policy(&w.r.pol, false, &mm_3des, &qm_cbc, "secret");
	w.r.pol.n_qm = 2;
	w.r.pol.qm[1] = qm_3des;
	world_go(&w);
	main_and_quick(&w);
	pair_took(&w, &qm_3des, 20);
	world_end(&w);
}
END_TEST

/* w started with the initiator offering only m, the responder preferring
 * its AES-128-CBC method but having m too. */
static void world_with_method(struct world *w, const struct ike_qm_method *m)
{
	world_init(w);
	w->i.pol.qm[0] = *m;
	w->r.pol.n_qm = 2;
	w->r.pol.qm[1] = *m;
	world_go(w);
}

/* The initiator offers only m; the responder prefers AES-128-CBC but has
 * m too: both sides' pair takes m, with integrity keys of integ_key_len
 * bytes. */
static void initiator_method_taken(const struct ike_qm_method *m, uint8_t integ_key_len)
{
	struct world w;

	world_with_method(&w, m);
	main_and_quick(&w);
	pair_took(&w, m, integ_key_len);
	world_end(&w);
}

/* RFC 2410 in IKEv1: ESP_NULL (transform 11, no Key Length) with
 * HMAC-SHA-256-128; the child SAs have integrity keys alone. */
START_TEST(quick_mode_null_encryption)
{
	static const struct ike_qm_method qm_null = {
		IKE_PROTO_ESP, DPSEC_ENC_NULL, 0, DPSEC_INTEG_HMAC_SHA256_128, 0, false, 3600, 100000
	};

	initiator_method_taken(&qm_null, 32);
}
END_TEST

/* AES-192 (Key Length 192) beside the responder's AES-128: the attribute,
 * not the transform, tells them apart; the pair takes 24-byte keys. */
START_TEST(quick_mode_aes192)
{
	static const struct ike_qm_method qm_aes192 = {
		IKE_PROTO_ESP, DPSEC_ENC_AES_CBC, 24, DPSEC_INTEG_HMAC_SHA256_128, 0, false, 3600, 100000
	};

	initiator_method_taken(&qm_aes192, 32);
}
END_TEST

/* len bytes of KEYMAT of the SA c of the Quick Mode x, from its SPI (RFC
 * 2409 §5.5, no PFS). */
static void sa_keymat(const struct ikev1_sa *sa, const struct ikev1_xchg *x, uint8_t protocol,
		      const struct dpsec_sa_conf *c, uint8_t *km, size_t len)
{
	uint8_t spi[4] = { (uint8_t)(c->spi >> 24), (uint8_t)(c->spi >> 16), (uint8_t)(c->spi >> 8),
			   (uint8_t)c->spi };
	struct ike_err err = { 0 };

	ck_assert_msg(ikev1_qm_keymat(&sa->keys, IKE_CHUNK(NULL, 0), protocol, spi,
				      IKE_CHUNK(x->ni, x->ni_len), IKE_CHUNK(x->nr, x->nr_len), km,
				      len, &err) == 0, "%s", err.msg);
}

/* A combined mode SA of the Quick Mode x with method m as cut from its
 * KEYMAT: the key, then salt_len bytes of salt; the salt field's bytes
 * past it stay 0. */
static void key_salt_cut(const struct ikev1_sa *sa, const struct ikev1_xchg *x,
			 const struct ike_qm_method *m, const struct dpsec_sa_conf *c,
			 size_t salt_len)
{
	uint8_t km[DPSEC_MAX_ENC_KEY + DPSEC_GCM_SALT_LEN];

	sa_keymat(sa, x, IKE_PROTO_ESP, c, km, m->enc_key_len + salt_len);
	ck_assert_uint_eq(c->enc_key_len, m->enc_key_len);
	ck_assert_mem_eq(c->enc_key, km, m->enc_key_len);
	ck_assert_mem_eq(c->salt, km + m->enc_key_len, salt_len);
	for (size_t k = salt_len; k < DPSEC_GCM_SALT_LEN; k++)
		ck_assert_uint_eq(c->salt[k], 0);
}

/* CCM's salt: 3 bytes (RFC 4309 §7.1). */
static void ccm_cut(const struct ikev1_sa *sa, const struct ikev1_xchg *x,
		    const struct ike_qm_method *m, const struct dpsec_sa_conf *c)
{
	key_salt_cut(sa, x, m, c, 3);
}

/* GMAC's salt: 4 bytes, as GCM's (RFC 4543); no integrity key. */
static void gmac_cut(const struct ikev1_sa *sa, const struct ikev1_xchg *x,
		     const struct ike_qm_method *m, const struct dpsec_sa_conf *c)
{
	key_salt_cut(sa, x, m, c, 4);
	ck_assert_uint_eq(c->integ_key_len, 0);
}

/* An SA of the Quick Mode x with method m's algorithms as cut from its
 * KEYMAT: the encryption key (none for AH), then the 16-byte AES-XCBC-MAC
 * key. */
static void xcbc_cut(const struct ikev1_sa *sa, const struct ikev1_xchg *x,
		     const struct ike_qm_method *m, const struct dpsec_sa_conf *c)
{
	uint8_t km[DPSEC_MAX_ENC_KEY + 16];

	sa_keymat(sa, x, m->protocol, c, km, m->enc_key_len + 16u);
	ck_assert_mem_eq(c->enc_key, km, m->enc_key_len);
	ck_assert_uint_eq(c->integ_key_len, 16);
	ck_assert_mem_eq(c->integ_key, km + m->enc_key_len, 16);
}

/* Main Mode, then Quick Mode 1 delivered; *offer its SA payload. */
static struct ikev2_sa_id quick_mode_1(struct world *w, struct ike_sa *offer)
{
	struct ikev2_sa_id id = initiate(w);
	struct msg qm1;

	for (int n = 0; n < 6; n++) /* Main Mode: its last message starts Quick Mode */
		pass(w, n % 2 ? &w->r : &w->i);
	qm1 = step(w, &w->i);
	qm1_sa(&w->i, id, &qm1, offer);
	free(qm1.data);
	return id;
}

typedef void key_cut_fn(const struct ikev1_sa *sa, const struct ikev1_xchg *x,
			const struct ike_qm_method *m, const struct dpsec_sa_conf *c);

/* The initiator offers only m, as Quick Mode 1's one proposal of m's
 * protocol with one transform, `transform`, whose attributes go to *pol;
 * the responder prefers AES-128-CBC with HMAC-SHA-256-128 but has m too:
 * both pairs take m (integrity keys of integ_key_len bytes), and cut
 * checks each SA of the initiator's pair against its KEYMAT. */
static void one_method_pair(const struct ike_qm_method *m, uint16_t transform,
			    uint8_t integ_key_len, struct isakmp_ipsec_policy *pol, key_cut_fn *cut)
{
	struct ike_err err = { 0 };
	const struct ike_child *c;
	struct ikev1_xchg *x;
	struct ikev2_sa_id id;
	struct ikev1_sa *sa;
	struct ike_sa offer;
	struct world w;

	world_with_method(&w, m);
	id = quick_mode_1(&w, &offer);
	ck_assert_uint_eq(offer.n_prop, 1);
	ck_assert_uint_eq(offer.prop[0].protocol, m->protocol);
	ck_assert_uint_eq(offer.n_tr, 1);
	ck_assert_uint_eq(offer.tr[0].id, transform);
	ck_assert_int_eq(isakmp_ipsec_attrs_decode(&offer, &offer.tr[0], pol, &err), 0);
	pass(&w, &w.r);
	pass(&w, &w.i);
	pair_took(&w, m, integ_key_len);
	c = child_of(&w.i);
	ck_assert_uint_eq(c->protocol, m->protocol);
	sa = ikev1_find_sa(w.i.e, &id);
	x = quick_xchg(&w.i, id);
	cut(sa, x, m, &c->out);
	cut(sa, x, m, &c->in);
	world_end(&w);
}

/* RFC 4309 §7.1 in IKEv1: AES-CCM with an 8-, 12- and 16-byte ICV, beside
 * the responder's AES-128-CBC, is offered as ESP transform 14, 15 and 16
 * with its Key Length; both pairs take it, each SA's key and salt cut from
 * its KEYMAT. */
START_TEST(quick_mode_aes_ccm)
{
	static const struct ike_qm_method ccm[] = {
		{ IKE_PROTO_ESP, DPSEC_ENC_AES_CCM_8, 16, DPSEC_INTEG_NONE, 0, false, 3600, 100000 },
		{ IKE_PROTO_ESP, DPSEC_ENC_AES_CCM_12, 32, DPSEC_INTEG_NONE, 0, false, 3600, 100000 },
		{ IKE_PROTO_ESP, DPSEC_ENC_AES_CCM_16, 32, DPSEC_INTEG_NONE, 0, false, 3600, 100000 },
	};
	struct isakmp_ipsec_policy pol;

	for (uint16_t k = 0; k < sizeof(ccm) / sizeof(ccm[0]); k++) {
		one_method_pair(&ccm[k], 14 + k, 0, &pol, ccm_cut);
		ck_assert_uint_eq(pol.key_len, ccm[k].enc_key_len * 8);
	}
}
END_TEST

/* RFC 4543 in IKEv1: security methods as the policy store gives
 * aes128gmac, aes192gmac and aes256gmac (AES-GMAC, a 16-, 24- and 32-byte
 * key), beside the responder's AES-128-CBC, are offered as ESP transform 23
 * (ESP_NULL_AUTH_AES_GMAC) with their Key Length and no Authentication
 * Algorithm; both pairs take them, each SA's key and 4-byte salt cut from
 * its KEYMAT. */
START_TEST(quick_mode_aes_gmac)
{
	struct cfg_sec_method store = { .name = "gmac", .protocol = CFG_PROTO_ESP,
					.enc_alg = DPSEC_ENC_NULL_AUTH_AES_GMAC,
					.lifetime_seconds = 3600, .lifetime_kilobytes = 100000 };
	struct isakmp_ipsec_policy pol;
	struct ike_err err = { 0 };
	struct ike_qm_method m;

	for (uint8_t key = 16; key <= 32; key += 8) {
		store.enc_key_len = key;
		ck_assert_msg(ike_qm_method_from_cfg(&store, 0, &m, &err) == 0, "%s", err.msg);
		one_method_pair(&m, 23, 0, &pol, gmac_cut);
		ck_assert_uint_eq(pol.key_len, key * 8);
		ck_assert_uint_eq(pol.auth, 0);
	}
}
END_TEST

/* AES-XCBC-MAC-96 in IKEv1: ESP AES-128-CBC (transform 12) with it, and
 * AH transform 9 (AH_AES-XCBC-MAC), each with Authentication Algorithm 9
 * (RFC 3566 §5), up with keys from KEYMAT. */
START_TEST(quick_mode_aes_xcbc)
{
	static const struct ike_qm_method esp = {
		IKE_PROTO_ESP, DPSEC_ENC_AES_CBC, 16, DPSEC_INTEG_AES_XCBC_96, 0, false, 3600, 100000
	};
	static const struct ike_qm_method ah = {
		IKE_PROTO_AH, 0, 0, DPSEC_INTEG_AES_XCBC_96, 0, false, 3600, 100000
	};
	struct isakmp_ipsec_policy pol;

	one_method_pair(&esp, 12, 16, &pol, xcbc_cut);
	ck_assert_uint_eq(pol.auth, 9);
	one_method_pair(&ah, 9, 16, &pol, xcbc_cut);
	ck_assert_uint_eq(pol.auth, 9);
}
END_TEST

/* Method m first on both sides, the method each had second. */
static void put_first(struct world *w, const struct ike_qm_method *m)
{
	for (struct side *s = &w->i; s; s = s == &w->i ? &w->r : NULL) {
		s->pol.n_qm = 2;
		s->pol.qm[1] = s->pol.qm[0];
		s->pol.qm[0] = *m;
	}
}

/* ChaCha20-Poly1305 has no IKEv1 transform ID (RFC 7634 is IKEv2's): a
 * policy listing it first still makes a Quick Mode with IKEv1, offering
 * only the methods IKEv1 can name, and both sides agree on the next. */
START_TEST(quick_mode_skips_chacha20_poly1305)
{
	static const struct ike_qm_method qm_chacha = {
		IKE_PROTO_ESP, DPSEC_ENC_CHACHA20_POLY1305, 32, DPSEC_INTEG_NONE, 0, false, 3600, 100000
	};
	struct world w;
	const struct ike_child *ci;

	world_init(&w);
	put_first(&w, &qm_chacha);
	world_go(&w);
	main_and_quick(&w);
	ci = child_of(&w.i);
	ck_assert_uint_eq(ci->out.enc_alg, w.i.pol.qm[1].enc_alg);
	pair_agrees(ci, child_of(&w.r));
	world_end(&w);

	world_init(&w); /* ChaCha20-Poly1305 alone: nothing IKEv1 can offer */
	no_quick_mode_with(&w, &qm_chacha);
}
END_TEST

/* AES-CMAC-96 has no IKEv1 number (RFC 4494 is IKEv2's): with an
 * AES-256-CBC + AES-CMAC-96 method first on both sides, Quick Mode 1
 * offers only the second, as proposal 2 (ESP AES-128-CBC, Authentication
 * Algorithm 5: HMAC-SHA-256-128), which both pairs take, without the
 * first's PFS group; with the CMAC method alone, no Quick Mode starts. */
START_TEST(quick_mode_skips_aes_cmac)
{
	/* with a PFS group the method offered has not: the Quick Mode takes
	 * its group (none) from the method it offers, not from the first */
	static const struct ike_qm_method qm_cmac = {
		IKE_PROTO_ESP, DPSEC_ENC_AES_CBC, 32, DPSEC_INTEG_AES_CMAC_96, IKE_DH_ECP_256, false,
		3600, 100000
	};
	struct isakmp_ipsec_policy pol;
	struct ike_err err = { 0 };
	struct ike_sa offer;
	struct world w;

	world_init(&w);
	put_first(&w, &qm_cmac);
	world_go(&w);
	quick_mode_1(&w, &offer);
	ck_assert_uint_eq(offer.n_prop, 1);
	ck_assert_uint_eq(offer.prop[0].num, 2);
	ck_assert_uint_eq(offer.n_tr, 1);
	ck_assert_uint_eq(offer.tr[0].id, 12);
	ck_assert_int_eq(isakmp_ipsec_attrs_decode(&offer, &offer.tr[0], &pol, &err), 0);
	ck_assert_uint_eq(pol.auth, 5);
	ck_assert_uint_eq(pol.key_len, 128);
	pass(&w, &w.r);
	pass(&w, &w.i);
	pair_took(&w, &qm_cbc, 32);
	world_end(&w);

	world_init(&w);
	no_quick_mode_with(&w, &qm_cmac);
}
END_TEST

int main(void)
{
	const TTest *tests[] = {
		quick_mode_3des,
		quick_mode_null_encryption,
		quick_mode_aes192,
		quick_mode_aes_ccm,
		quick_mode_aes_gmac,
		quick_mode_aes_xcbc,
		quick_mode_skips_chacha20_poly1305,
		quick_mode_skips_aes_cmac,
	};

	return world_run("ikev1_qm_suites", tests, sizeof(tests) / sizeof(tests[0]));
}
