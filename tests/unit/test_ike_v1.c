/* test_ike_v1.c - Check unit tests of the IKE crypto layer's IKEv1 half
 * (dpsec_ike_crypto, ikev1_prf.h and ike_sk.h): SKEYID, SKEYID_d/a/e,
 * appendix B key expansion and IVs, HASH_I, HASH_R, Quick Mode HASH(1..3)
 * and KEYMAT against ike_vectors/ike_crypto_ref.py (hmac and hashlib
 * only), run with the same inputs through popen; CBC chains, each IV the
 * previous message's last block, decrypted by scapy (DES-CBC too); DES's
 * weak and semi-weak keys; DES refused by name when OpenSSL's legacy
 * provider does not load. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ike_keys.h"
#include "ike_ref.h"
#include "ike_sa.h"
#include "ike_sk.h"
#include "ikev1_prf.h"
#include "ike_crypto_world.h"
#include "check_run.h"

/* ---- IKEv1 derivation against the reference --------------------------- */

struct v1_case {
	uint16_t hash, encr, bits;
};

static const struct v1_case v1_cases[] = {
	{ IKEV1_HASH_SHA, IKEV1_ENCR_3DES_CBC, 0 },	   /* 20 bytes for a 24-byte key: stretched */
	{ IKEV1_HASH_SHA, IKEV1_ENCR_AES_CBC, 128 },	   /* long enough: cut */
	{ IKEV1_HASH_MD5, IKEV1_ENCR_AES_CBC, 256 },	   /* 16 for 32: two blocks */
	{ IKEV1_HASH_SHA2_256, IKEV1_ENCR_AES_CBC, 256 }, /* exactly */
	{ IKEV1_HASH_SHA2_384, IKEV1_ENCR_AES_CBC, 192 },
	{ IKEV1_HASH_SHA2_512, IKEV1_ENCR_3DES_CBC, 0 },
	{ IKEV1_HASH_SHA, IKEV1_ENCR_DES_CBC, 0 },	   /* legacy DES: the first 8 bytes */
};

/* Phase 1 inputs. */
struct v1_in {
	uint8_t ni[24], nr[16], gxi[128], gxr[128], gxy[128], cky_i[8], cky_r[8];
	uint8_t psk[11], sai_b[52], idii_b[12], idir_b[8];
};

static void v1_in_fill(struct v1_in *in)
{
	fill((uint8_t *)in, sizeof(*in));
}

/* Phase 1 keys from in; with check, every step against the reference. */
static void v1_phase1(const struct v1_case *c, const struct v1_in *in, struct ikev1_keys *k,
		      bool check)
{
	const struct ike_chunk ni = IKE_CHUNK(in->ni, sizeof(in->ni));
	const struct ike_chunk nr = IKE_CHUNK(in->nr, sizeof(in->nr));
	const struct ike_chunk gxy = IKE_CHUNK(in->gxy, sizeof(in->gxy));
	uint8_t psk_skeyid[IKE_PRF_MAX];
	struct ike_err err = { 0 };
	struct ref r = { 0 };
	const char *md;

	ck_assert_msg(ikev1_keys_init(k, c->hash, c->encr, c->bits, &err) == 0, "%s", err.msg);
	md = md_name(k->prf);
	ck_assert_msg(ikev1_skeyid_psk(k, IKE_CHUNK(in->psk, sizeof(in->psk)), ni, nr, &err) == 0,
		      "%s", err.msg);
	memcpy(psk_skeyid, k->skeyid, k->prf_len);
	ck_assert_msg(ikev1_skeyid_sig(k, ni, nr, gxy, &err) == 0, "%s", err.msg);
	ck_assert_msg(ikev1_keys_derive(k, gxy, in->cky_i, in->cky_r, &err) == 0, "%s", err.msg);
	if (!check)
		return;
	ref_op(&r, "v1-skeyid-psk");
	ref_add(&r, " %s", md);
	ref_hex(&r, in->psk, sizeof(in->psk));
	ref_hex(&r, in->ni, sizeof(in->ni));
	ref_hex(&r, in->nr, sizeof(in->nr));
	ref_op(&r, "v1-skeyid-sig");
	ref_add(&r, " %s", md);
	ref_hex(&r, in->ni, sizeof(in->ni));
	ref_hex(&r, in->nr, sizeof(in->nr));
	ref_hex(&r, in->gxy, sizeof(in->gxy));
	ref_op(&r, "v1-keys");
	ref_add(&r, " %s", md);
	ref_hex(&r, k->skeyid, k->prf_len);
	ref_hex(&r, in->gxy, sizeof(in->gxy));
	ref_hex(&r, in->cky_i, 8);
	ref_hex(&r, in->cky_r, 8);
	ref_add(&r, " %u", k->key_len);
	ref_run(&r);
	ref_expect(&r, psk_skeyid, k->prf_len, "SKEYID (pre-shared key)");
	ref_expect(&r, k->skeyid, k->prf_len, "SKEYID (signatures)");
	ref_expect(&r, k->skeyid_d, k->prf_len, "SKEYID_d");
	ref_expect(&r, k->skeyid_a, k->prf_len, "SKEYID_a");
	ref_expect(&r, k->skeyid_e, k->prf_len, "SKEYID_e");
	ref_expect(&r, k->key, k->key_len, "the cipher key (appendix B)");
	ref_done(&r);
}

START_TEST(ikev1_keys_match_reference)
{
	struct ikev1_keys k;
	struct v1_in in;

	v1_in_fill(&in);
	v1_phase1(&v1_cases[_i], &in, &k, true);
	ikev1_keys_wipe(&k);
}
END_TEST

START_TEST(ikev1_hashes_and_ivs_match_reference)
{
	struct ikev1_keys k;
	struct v1_in in;
	struct ike_err err = { 0 };
	struct ikev1_auth_in a;
	struct ikev1_iv iv, iv2;
	uint8_t hi[IKE_PRF_MAX], hr[IKE_PRF_MAX], mid_be[4] = { 0x9a, 0x3b, 0x01, 0xfe };
	const uint32_t mid = 0x9a3b01fe;
	struct ref r = { 0 };

	v1_in_fill(&in);
	v1_phase1(&v1_cases[_i], &in, &k, false);
	a = (struct ikev1_auth_in){ IKE_CHUNK(in.gxi, sizeof(in.gxi)), IKE_CHUNK(in.gxr, sizeof(in.gxr)),
				    in.cky_i, in.cky_r, IKE_CHUNK(in.sai_b, sizeof(in.sai_b)),
				    IKE_CHUNK(in.idii_b, sizeof(in.idii_b)) };
	ck_assert_int_eq(ikev1_hash_i(&k, &a, hi, &err), 0);
	a.id_b = IKE_CHUNK(in.idir_b, sizeof(in.idir_b));
	ck_assert_int_eq(ikev1_hash_r(&k, &a, hr, &err), 0);
	ck_assert_int_eq(ikev1_phase1_iv(&k, a.g_xi, a.g_xr, &iv, &err), 0);
	ck_assert_uint_eq(iv.len, k.block_len);
	ck_assert_int_eq(ikev1_phase2_iv(&k, &iv, mid, &iv2, &err), 0);
	for (int resp = 0; resp < 2; resp++) {
		ref_op(&r, "v1-hash");
		ref_add(&r, " %s", md_name(k.prf));
		ref_hex(&r, k.skeyid, k.prf_len);
		ref_hex(&r, in.gxi, sizeof(in.gxi));
		ref_hex(&r, in.gxr, sizeof(in.gxr));
		ref_hex(&r, in.cky_i, 8);
		ref_hex(&r, in.cky_r, 8);
		ref_hex(&r, in.sai_b, sizeof(in.sai_b));
		if (resp)
			ref_hex(&r, in.idir_b, sizeof(in.idir_b));
		else
			ref_hex(&r, in.idii_b, sizeof(in.idii_b));
		ref_add(&r, " %s", resp ? "r" : "i");
	}
	ref_op(&r, "v1-iv");
	ref_add(&r, " %s", md_name(k.prf));
	ref_hex(&r, in.gxi, sizeof(in.gxi));
	ref_hex(&r, in.gxr, sizeof(in.gxr));
	ref_add(&r, " %u", k.block_len);
	ref_op(&r, "v1-iv");
	ref_add(&r, " %s", md_name(k.prf));
	ref_hex(&r, iv.b, iv.len);
	ref_hex(&r, mid_be, 4);
	ref_add(&r, " %u", k.block_len);
	ref_run(&r);
	ref_expect(&r, hi, k.prf_len, "HASH_I");
	ref_expect(&r, hr, k.prf_len, "HASH_R");
	ref_expect(&r, iv.b, iv.len, "Phase 1 IV");
	ref_expect(&r, iv2.b, iv2.len, "Quick Mode IV");
	ref_done(&r);
	ikev1_keys_wipe(&k);
}
END_TEST

START_TEST(ikev1_quick_mode_matches_reference)
{
	struct ikev1_keys k;
	struct v1_in in;
	struct ike_err err = { 0 };
	uint8_t h1[IKE_PRF_MAX], h2[IKE_PRF_MAX], h3[IKE_PRF_MAX];
	uint8_t rest[90], qni[20], qnr[32], gqm[96], spi[4], km[2][150];
	uint8_t mid_be[4] = { 0x00, 0x00, 0x12, 0x34 };
	struct ref r = { 0 };

	v1_in_fill(&in);
	v1_phase1(&v1_cases[_i], &in, &k, false);
	fill(rest, sizeof(rest));
	fill(qni, sizeof(qni));
	fill(qnr, sizeof(qnr));
	fill(gqm, sizeof(gqm));
	fill(spi, sizeof(spi));
	ck_assert_int_eq(ikev1_qm_hash1(&k, 0x1234, IKE_CHUNK(rest, sizeof(rest)), h1, &err), 0);
	ck_assert_int_eq(ikev1_qm_hash2(&k, 0x1234, IKE_CHUNK(qni, sizeof(qni)),
					IKE_CHUNK(rest, sizeof(rest)), h2, &err), 0);
	ck_assert_int_eq(ikev1_qm_hash3(&k, 0x1234, IKE_CHUNK(qni, sizeof(qni)),
					IKE_CHUNK(qnr, sizeof(qnr)), h3, &err), 0);
	ref_op(&r, "v1-qm-hash1");
	ref_add(&r, " %s", md_name(k.prf));
	ref_hex(&r, k.skeyid_a, k.prf_len);
	ref_hex(&r, mid_be, 4);
	ref_hex(&r, rest, sizeof(rest));
	ref_op(&r, "v1-qm-hash2");
	ref_add(&r, " %s", md_name(k.prf));
	ref_hex(&r, k.skeyid_a, k.prf_len);
	ref_hex(&r, mid_be, 4);
	ref_hex(&r, qni, sizeof(qni));
	ref_hex(&r, rest, sizeof(rest));
	ref_op(&r, "v1-qm-hash3");
	ref_add(&r, " %s", md_name(k.prf));
	ref_hex(&r, k.skeyid_a, k.prf_len);
	ref_hex(&r, mid_be, 4);
	ref_hex(&r, qni, sizeof(qni));
	ref_hex(&r, qnr, sizeof(qnr));
	for (int pfs = 0; pfs < 2; pfs++) {
		struct ike_chunk g = IKE_CHUNK(gqm, pfs ? sizeof(gqm) : 0);

		ck_assert_int_eq(ikev1_qm_keymat(&k, g, IKE_PROTO_ESP, spi, IKE_CHUNK(qni, sizeof(qni)),
						 IKE_CHUNK(qnr, sizeof(qnr)), km[pfs],
						 sizeof(km[pfs]), &err), 0);
		ref_op(&r, "v1-keymat");
		ref_add(&r, " %s", md_name(k.prf));
		ref_hex(&r, k.skeyid_d, k.prf_len);
		ref_hex(&r, g.p, g.len);
		ref_add(&r, " %02x", IKE_PROTO_ESP);
		ref_hex(&r, spi, 4);
		ref_hex(&r, qni, sizeof(qni));
		ref_hex(&r, qnr, sizeof(qnr));
		ref_add(&r, " %zu", sizeof(km[pfs]));
	}
	ref_run(&r);
	ref_expect(&r, h1, k.prf_len, "HASH(1)");
	ref_expect(&r, h2, k.prf_len, "HASH(2)");
	ref_expect(&r, h3, k.prf_len, "HASH(3)");
	ref_expect(&r, km[0], sizeof(km[0]), "KEYMAT without PFS");
	ref_expect(&r, km[1], sizeof(km[1]), "KEYMAT with PFS");
	ref_done(&r);
	ikev1_keys_wipe(&k);
}
END_TEST

/* ---- IKEv1 CBC chains -------------------------------------------------- */

START_TEST(ikev1_cbc_chain)
{
	const struct v1_case *c = &v1_cases[_i];
	const char *cipher = c->encr == IKEV1_ENCR_3DES_CBC  ? "3DES"
			     : c->encr == IKEV1_ENCR_DES_CBC ? "DES"
							     : "AES-CBC";
	static const uint8_t zeros[IKE_BLOCK_MAX];
	uint8_t m1[64], m2[96], b1[128], b2[128];
	struct ikev1_iv iv0, next1, next2, iv;
	struct ike_err err = { 0 };
	struct ikev1_keys k;
	size_t n1, n2;
	struct v1_in in;
	struct ref r = { 0 };

	v1_in_fill(&in);
	v1_phase1(c, &in, &k, false);
	ck_assert_int_eq(ikev1_phase1_iv(&k, IKE_CHUNK(in.gxi, sizeof(in.gxi)),
					 IKE_CHUNK(in.gxr, sizeof(in.gxr)), &iv0, &err), 0);
	fill(m1, sizeof(m1));
	fill(m2, sizeof(m2));
	memcpy(b1, m1, 37);
	memcpy(b2, m2, 80);
	ck_assert_int_eq(ikev1_encrypt(&k, &iv0, b1, 37, sizeof(b1), &n1, &next1, &err), 0);
	ck_assert_uint_eq(n1, ikev1_ct_len(&k, 37));
	ck_assert_uint_eq(n1 % k.block_len, 0);
	ck_assert_uint_eq(next1.len, k.block_len);
	ck_assert_mem_eq(next1.b, b1 + n1 - k.block_len, k.block_len); /* RFC 2409 appendix B */
	ck_assert_int_eq(ikev1_encrypt(&k, &next1, b2, 80, sizeof(b2), &n2, &next2, &err), 0);
	ck_assert_uint_eq(n2, 80 + k.block_len); /* always padded */
	ck_assert_mem_eq(next2.b, b2 + n2 - k.block_len, k.block_len);

	/* scapy decrypts the chain from the Phase 1 IV alone */
	ref_op(&r, "v1-decrypt-chain");
	ref_add(&r, " %s", cipher);
	ref_hex(&r, k.key, k.key_len);
	ref_hex(&r, iv0.b, iv0.len);
	ref_hex(&r, b1, n1);
	ref_hex(&r, b2, n2);
	ref_run(&r);
	ref_expect(&r, m1, 37, "message 1");
	ref_expect(&r, zeros, n1 - 37, "message 1's padding");
	ref_expect(&r, m2, 80, "message 2, decrypted with message 1's last block as IV");
	ref_expect(&r, zeros, n2 - 80, "message 2's padding");
	ref_expect(&r, next2.b, k.block_len, "the IV after message 2");
	ref_done(&r);

	/* and so do we; the IV is passed on in place */
	iv = iv0;
	ck_assert_int_eq(ikev1_decrypt(&k, &iv, b1, n1, &iv, &err), 0);
	ck_assert_mem_eq(iv.b, next1.b, k.block_len);
	ck_assert_int_eq(ikev1_decrypt(&k, &iv, b2, n2, &iv, &err), 0);
	ck_assert_mem_eq(b1, m1, 37);
	ck_assert_mem_eq(b2, m2, 80);
	ck_assert_mem_eq(iv.b, next2.b, k.block_len);

	ck_assert_int_eq(ikev1_decrypt(&k, &iv, b2, n2 - 1, &iv, &err), -EBADMSG);
	ck_assert_uint_eq(err.notify, 16 /* PAYLOAD-MALFORMED */);
	ck_assert_int_eq(ikev1_decrypt(&k, &iv, b2, 0, &iv, &err), -EBADMSG);
	ck_assert_int_eq(ikev1_encrypt(&k, &iv, b2, 80, 80, &n2, &iv, &err), -ENOSPC);
	iv.len = 4;
	ck_assert_int_eq(ikev1_encrypt(&k, &iv, b2, 8, sizeof(b2), &n2, &iv, &err), -EINVAL);
	ikev1_keys_wipe(&k);
}
END_TEST

/* The 16 keys of FIPS 74 §3.6 are refused whatever their parity bits;
 * the others, and other ciphers' keys, are not. */
START_TEST(des_weak_keys)
{
	static const uint8_t weak[] = { 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01 };
	static const uint8_t semi[] = { 0xe0, 0xfe, 0xe0, 0xfe, 0xf1, 0xfe, 0xf1, 0xfe };
	static const uint8_t even[] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t fine[] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
	static const uint8_t near[] = { 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x03 };

	ck_assert(ikecr_weak_key("DES-CBC", weak));
	ck_assert(ikecr_weak_key("DES-CBC", semi));
	ck_assert(ikecr_weak_key("DES-CBC", even)); /* the first weak key, parity cleared */
	ck_assert(!ikecr_weak_key("DES-CBC", fine));
	ck_assert(!ikecr_weak_key("DES-CBC", near));
	ck_assert(!ikecr_weak_key("AES-128-CBC", weak));
}
END_TEST

/* Without OpenSSL's legacy provider, DES is refused by name. Needs Check's
 * fork (a process that has not loaded the provider yet). */
START_TEST(des_without_legacy_provider)
{
	struct ike_err err = { 0 };
	struct ikev1_keys k;
	const char *fork = getenv("CK_FORK");

	if (fork && strcmp(fork, "no") == 0)
		return;
	ck_assert_int_eq(setenv("OPENSSL_MODULES", "/nonexistent", 1), 0);
	ck_assert_int_eq(ikev1_keys_init(&k, IKEV1_HASH_SHA, IKEV1_ENCR_DES_CBC, 0, &err),
			 -EOPNOTSUPP);
	ck_assert_msg(strstr(err.msg, "DES-CBC needs OpenSSL's legacy provider"), "%s", err.msg);
	ck_assert_int_eq(ikev1_keys_init(&k, IKEV1_HASH_SHA, IKEV1_ENCR_3DES_CBC, 0, &err), 0);
}
END_TEST

static Suite *ike_v1_suite(void)
{
	Suite *s = suite_create("ike_v1");
	TCase *tc;

	tc = tcase_create("derivation");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, ikev1_keys_match_reference, 0, N(v1_cases));
	tcase_add_loop_test(tc, ikev1_hashes_and_ivs_match_reference, 0, N(v1_cases));
	tcase_add_loop_test(tc, ikev1_quick_mode_matches_reference, 0, N(v1_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("encryption");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, ikev1_cbc_chain, 0, N(v1_cases));
	tcase_add_test(tc, des_weak_keys);
	tcase_add_test(tc, des_without_legacy_provider);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(ike_v1_suite());
}
