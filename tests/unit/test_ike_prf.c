/* test_ike_prf.c - Check unit tests of the IKE crypto layer's PRFs and
 * the IKEv2 key schedule (dpsec_ike_crypto, ike_prf.h): HMAC against RFC
 * 4231 (SHA-256/384/512) and RFC 2202 (SHA-1, MD5) vectors, AES-XCBC-MAC
 * and AES-CMAC against RFC 3566 and RFC 4493's, their PRFs against RFC 4434
 * and RFC 4615's; prf+,
 * SKEYSEED, SK_d..SK_pr, Child SA KEYMAT with and without PFS and a
 * rekeyed SKEYSEED against ike_vectors/ike_crypto_ref.py (hmac and hashlib
 * only), run with the same inputs through popen; suites refused by name. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ike_keys.h"
#include "ike_prf.h"
#include "ike_ref.h"
#include "ikecr.h"
#include "ike_test_util.h"
#include "ike_crypto_world.h"
#include "check_run.h"

/* ---- HMAC: RFC 4231 and RFC 2202 -------------------------------------- */

/* A vector's bytes: "0b*20" (a byte repeated), 'Text' (ASCII) or hex. */
static size_t spec(const char *s, uint8_t *out, size_t cap)
{
	unsigned byte, count;

	if (s[0] == '\'') {
		size_t n = strlen(s) - 2;

		memcpy(out, s + 1, n);
		return n;
	}
	if (sscanf(s, "%2x*%u", &byte, &count) == 2) {
		memset(out, (int)byte, count);
		return count;
	}
	return hex2bin(s, out, cap);
}

struct mac_vec {
	uint16_t prf;
	const char *key, *data, *mac; /* mac: the RFC's, truncated for case 5 */
};

#define T6 "'Test Using Larger Than Block-Size Key - Hash Key First'"
#define T7 "'This is a test using a larger than block-size key and a larger than block-size data. " \
	   "The key needs to be hashed before being used by the HMAC algorithm.'"
#define KEY4 "0102030405060708090a0b0c0d0e0f10111213141516171819"
#define JEFE "'Jefe'", "'what do ya want for nothing?'"

static const struct mac_vec mac_vecs[] = {
	/* RFC 4231 §4.2-4.8 */
	{ 5, "0b*20", "'Hi There'", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ 5, JEFE, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ 5, "aa*20", "dd*50", "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
	{ 5, KEY4, "cd*50", "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	{ 5, "0c*20", "'Test With Truncation'", "a3b6167473100ee06e0c796c2955552b" },
	{ 5, "aa*131", T6, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ 5, "aa*131", T7, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
	{ 6, "0b*20", "'Hi There'",
	  "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6" },
	{ 6, JEFE,
	  "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649" },
	{ 6, "aa*20", "dd*50",
	  "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27" },
	{ 6, KEY4, "cd*50",
	  "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb" },
	{ 6, "0c*20", "'Test With Truncation'", "3abf34c3503b2a23a46efc619baef897" },
	{ 6, "aa*131", T6,
	  "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952" },
	{ 6, "aa*131", T7,
	  "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e" },
	{ 7, "0b*20", "'Hi There'",
	  "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	  "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
	{ 7, JEFE,
	  "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	  "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
	{ 7, "aa*20", "dd*50",
	  "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
	  "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb" },
	{ 7, KEY4, "cd*50",
	  "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
	  "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd" },
	{ 7, "0c*20", "'Test With Truncation'", "415fad6271580a531d4179bc891d87a6" },
	{ 7, "aa*131", T6,
	  "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
	  "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" },
	{ 7, "aa*131", T7,
	  "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
	  "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58" },
	/* RFC 2202 §3 (SHA-1, cases 1-7) and §2 (MD5, cases 1-2) */
	{ 2, "0b*20", "'Hi There'", "b617318655057264e28bc0b6fb378c8ef146be00" },
	{ 2, JEFE, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
	{ 2, "aa*20", "dd*50", "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
	{ 2, KEY4, "cd*50", "4c9007f4026250c6bc8414f9bf50c86c2d7235da" },
	{ 2, "0c*20", "'Test With Truncation'", "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04" },
	{ 2, "aa*80", T6, "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
	{ 2, "aa*80", "'Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data'",
	  "e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
	{ 1, "0b*16", "'Hi There'", "9294727a3638bb1c13f48ef8158bfc9d" },
	{ 1, JEFE, "750c783e6ab0b503eaa86e310a5db738" },
};

START_TEST(hmac_rfc_vectors)
{
	const struct mac_vec *v = &mac_vecs[_i];
	uint8_t key[256], data[256], want[64], got[IKE_PRF_MAX];
	size_t klen = spec(v->key, key, sizeof(key)), dlen = spec(v->data, data, sizeof(data));
	size_t mlen = hex2bin(v->mac, want, sizeof(want));
	const struct ike_chunk in = IKE_CHUNK(data, dlen);
	struct ike_err err = { 0 };

	ck_assert_msg(ike_prf(v->prf, IKE_CHUNK(key, klen), &in, 1, got, &err) == 0, "%s", err.msg);
	ck_assert_mem_eq(got, want, mlen);
}
END_TEST

/* ---- the AES MACs and PRFs: RFC 3566, RFC 4493, RFC 4434, RFC 4615 ---- */

#define RFC4493_MSG "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51" \
		    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"

/* RFC 3566 §4 (key 000102..0f, message 00 01 02.. or 1,000 zeros) and
 * RFC 4493 §4 (key 2b7e1516.., the first len bytes of its message): the
 * whole MAC. */
static const struct {
	uint8_t kind;
	size_t len;
	bool zeros;
	const char *mac;
} aes_macs[] = {
	{ IKECR_MAC_AES_XCBC, 0, false, "75f0251d528ac01c4573dfd584d79f29" },
	{ IKECR_MAC_AES_XCBC, 3, false, "5b376580ae2f19afe7219ceef172756f" },
	{ IKECR_MAC_AES_XCBC, 16, false, "d2a246fa349b68a79998a4394ff7a263" },
	{ IKECR_MAC_AES_XCBC, 20, false, "47f51b4564966215b8985c63055ed308" },
	{ IKECR_MAC_AES_XCBC, 32, false, "f54f0ec8d2b9f3d36807734bd5283fd4" },
	{ IKECR_MAC_AES_XCBC, 34, false, "becbb3bccdb518a30677d5481fb6b4d8" },
	{ IKECR_MAC_AES_XCBC, 1000, true, "f0dafee895db30253761103b5d84528f" },
	{ IKECR_MAC_AES_CMAC, 0, false, "bb1d6929e95937287fa37d129b756746" },
	{ IKECR_MAC_AES_CMAC, 16, false, "070a16b46b4d4144f79bdd9dd04a287c" },
	{ IKECR_MAC_AES_CMAC, 40, false, "dfa66747de9ae63030ca32611497c827" },
	{ IKECR_MAC_AES_CMAC, 64, false, "51f0bebf7e3b9d92fc49741779363cfe" },
};

/* Each vector whole, and fed in three pieces cut at odd places: the
 * chaining over pieces must give the same MAC. */
START_TEST(aes_mac_rfc_vectors)
{
	uint8_t key[16], msg[1000] = { 0 }, want[16], got[16];
	struct ike_err err = { 0 };
	size_t n = aes_macs[_i].len, a = n / 3, b = n - n / 5;

	if (aes_macs[_i].kind == IKECR_MAC_AES_XCBC) {
		for (int i = 0; i < 16; i++)
			key[i] = (uint8_t)i;
		for (size_t i = 0; i < n && !aes_macs[_i].zeros; i++)
			msg[i] = (uint8_t)i;
	} else {
		hex2bin("2b7e151628aed2a6abf7158809cf4f3c", key, sizeof(key));
		hex2bin(RFC4493_MSG, msg, sizeof(msg));
	}
	hex2bin(aes_macs[_i].mac, want, sizeof(want));
	const struct ike_chunk whole = IKE_CHUNK(msg, n);
	const struct ike_chunk parts[] = { IKE_CHUNK(msg, a), IKE_CHUNK(msg + a, b - a),
					   IKE_CHUNK(msg + b, n - b) };

	ck_assert_msg(ikecr_mac(aes_macs[_i].kind, NULL, key, 16, &whole, 1, got, &err) == 0,
		      "%s", err.msg);
	ck_assert_mem_eq(got, want, 16);
	memset(got, 0, sizeof(got));
	ck_assert_int_eq(ikecr_mac(aes_macs[_i].kind, NULL, key, 16, parts, 3, got, &err), 0);
	ck_assert_mem_eq(got, want, 16);
}
END_TEST

/* RFC 4434 §4 (AES-XCBC-PRF-128) and RFC 4615 §4 (AES-CMAC-PRF-128): the
 * message 00 01 .. 13 under keys of 16, 10 and 18 bytes (000102..0f,
 * 00..09, 000102..0fedcb): the short key zero padded by the one, made the
 * MAC of itself under a zero key by the other, as the long key by both. */
START_TEST(aes_prf_rfc_vectors)
{
	static const struct {
		uint16_t prf;
		size_t key_len;
		const char *out;
	} v[] = {
		{ IKE_PRF_AES128_XCBC, 16, "47f51b4564966215b8985c63055ed308" },
		{ IKE_PRF_AES128_XCBC, 10, "0fa087af7d866e7653434e602fdde835" },
		{ IKE_PRF_AES128_XCBC, 18, "8cd3c93ae598a9803006ffb67c40e9e4" },
		{ IKE_PRF_AES128_CMAC, 16, "980ae87b5f4c9c5214f5b6a8455e4c2d" },
		{ IKE_PRF_AES128_CMAC, 10, "290d9e112edb09ee141fcf64c0b72f3d" },
		{ IKE_PRF_AES128_CMAC, 18, "84a348a4a45d235babfffc0d2b4da09a" },
	};
	uint8_t key[18], msg[20], want[16], got[IKE_PRF_MAX];
	struct ike_err err = { 0 };
	const struct ike_chunk in = IKE_CHUNK(msg, sizeof(msg));

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	key[16] = 0xed, key[17] = 0xcb;
	for (int i = 0; i < 20; i++)
		msg[i] = (uint8_t)i;
	for (size_t i = 0; i < N(v); i++) {
		hex2bin(v[i].out, want, sizeof(want));
		ck_assert_msg(ike_prf(v[i].prf, IKE_CHUNK(key, v[i].key_len), &in, 1, got, &err) == 0,
			      "%s", err.msg);
		ck_assert_msg(memcmp(got, want, 16) == 0, "PRF %u, %zu-byte key", v[i].prf,
			      v[i].key_len);
	}
}
END_TEST

START_TEST(prf_refuses_unknown)
{
	struct ike_err err = { 0 };
	uint8_t out[IKE_PRF_MAX];

	ck_assert_int_eq(ike_prf(3 /* HMAC_TIGER */, IKE_CHUNK("k", 1), NULL, 0, out, &err),
			 -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(err.msg, "PRF 3 is not supported"));
	ck_assert_uint_eq(ike_prf_len(3), 0);
	ck_assert_uint_eq(ike_prf_len(IKE_PRF_AES128_XCBC), 16);
	ck_assert_uint_eq(ike_prf_len(IKE_PRF_HMAC_SHA2_384), 48);
}
END_TEST

/* ---- IKEv2 key derivation against the reference ----------------------- */

static const uint16_t prfs[] = { 1, 2, 5, 6, 7, IKE_PRF_AES128_XCBC, IKE_PRF_AES128_CMAC };

START_TEST(prf_plus_matches_reference)
{
	uint16_t prf = prfs[_i];
	size_t plen = ike_prf_len(prf);
	const size_t lens[] = { 1, plen, plen + 1, 3 * plen + 7, 255 * plen };
	uint8_t key[40], s[41], got[255 * IKE_PRF_MAX];
	const struct ike_chunk seed[] = { IKE_CHUNK(s, 33), IKE_CHUNK(s + 33, 8) }; /* in pieces */
	struct ike_err err = { 0 };
	struct ref r = { 0 };

	fill(key, sizeof(key));
	fill(s, sizeof(s));
	for (size_t i = 0; i < N(lens); i++) {
		ref_op(&r, "prfplus");
		ref_add(&r, " %s", md_name(prf));
		ref_hex(&r, key, sizeof(key));
		ref_hex(&r, s, sizeof(s));
		ref_add(&r, " %zu", lens[i]);
	}
	ref_run(&r);
	for (size_t i = 0; i < N(lens); i++) {
		ck_assert_msg(ike_prf_plus(prf, IKE_CHUNK(key, sizeof(key)), seed, 2, got, lens[i],
					   &err) == 0, "%s", err.msg);
		ref_expect(&r, got, lens[i], "prf+");
	}
	ref_done(&r);
	ck_assert_int_eq(ike_prf_plus(prf, IKE_CHUNK(key, 1), seed, 2, got, 255 * plen + 1, &err),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "bytes asked"));
}
END_TEST


START_TEST(ikev2_keys_match_reference)
{
	const struct ike_suite *s = &suites[_i];
	const char *md = md_name(s->prf);
	struct ikev2_keys k, peer;
	uint8_t seed[IKE_PRF_MAX];
	struct ike_err err = { 0 };
	struct sa_in in;
	struct ref r = { 0 };

	sa_in_fill(&in);
	sa_keys(s, &in, &k, &peer);
	ck_assert_int_eq(ikev2_skeyseed(s->prf, NI(&in), NR(&in), IKE_CHUNK(in.gir, 256), seed, &err), 0);
	ref_op(&r, "skeyseed");
	ref_add(&r, " %s", md);
	ref_hex(&r, in.ni, sizeof(in.ni));
	ref_hex(&r, in.nr, sizeof(in.nr));
	ref_hex(&r, in.gir, sizeof(in.gir));
	ref_op(&r, "keys");
	ref_add(&r, " %s", md);
	ref_hex(&r, seed, k.prf_len);
	ref_hex(&r, in.ni, sizeof(in.ni));
	ref_hex(&r, in.nr, sizeof(in.nr));
	ref_hex(&r, in.spi_i, 8);
	ref_hex(&r, in.spi_r, 8);
	ref_add(&r, " %u %u", k.a_len, k.e_len);
	ref_run(&r);
	ref_expect(&r, seed, k.prf_len, "SKEYSEED");
	ref_expect(&r, k.sk_d, k.prf_len, "SK_d");
	ref_expect(&r, k.sk_ai, k.a_len, "SK_ai");
	ref_expect(&r, k.sk_ar, k.a_len, "SK_ar");
	ref_expect(&r, k.sk_ei, k.e_len, "SK_ei");
	ref_expect(&r, k.sk_er, k.e_len, "SK_er");
	ref_expect(&r, k.sk_pi, k.prf_len, "SK_pi");
	ref_expect(&r, k.sk_pr, k.prf_len, "SK_pr");
	ref_done(&r);
	ck_assert_mem_eq(k.sk_d, peer.sk_d, sizeof(k.sk_d)); /* both ends agree */
	ck_assert_mem_eq(k.sk_er, peer.sk_er, sizeof(k.sk_er));
	ikev2_keys_wipe(&k);
	ikev2_keys_wipe(&peer);
	for (size_t i = 0; i < sizeof(k); i++)
		EXPECT(((uint8_t *)&k)[i] == 0, "byte %zu survived the wipe", i);
}
END_TEST

/* Child SA KEYMAT with and without PFS, and a rekeyed IKE SA's SKEYSEED
 * under a different (the old SA's) PRF. */
START_TEST(ikev2_child_and_rekey_match_reference)
{
	const struct ike_suite *s = &suites[_i];
	uint16_t old_prf = s->prf == IKE_PRF_HMAC_SHA1 ? IKE_PRF_HMAC_SHA2_512 : IKE_PRF_HMAC_SHA1;
	uint8_t km[2][200], old_d[IKE_PRF_MAX], seed[IKE_PRF_MAX];
	struct ikev2_keys k, peer;
	struct ike_err err = { 0 };
	struct sa_in in, child;
	struct ref r = { 0 };

	sa_in_fill(&in);
	sa_in_fill(&child);
	sa_keys(s, &in, &k, &peer);
	for (int pfs = 0; pfs < 2; pfs++) {
		struct ike_chunk g = IKE_CHUNK(child.gir, pfs ? sizeof(child.gir) : 0);

		ck_assert_msg(ikev2_child_keymat(&k, g, NI(&child), NR(&child), km[pfs],
						 sizeof(km[pfs]), &err) == 0, "%s", err.msg);
		ref_op(&r, "child");
		ref_add(&r, " %s", md_name(s->prf));
		ref_hex(&r, k.sk_d, k.prf_len);
		ref_hex(&r, g.p, g.len);
		ref_hex(&r, child.ni, sizeof(child.ni));
		ref_hex(&r, child.nr, sizeof(child.nr));
		ref_add(&r, " %zu", sizeof(km[pfs]));
	}
	fill(old_d, ike_prf_len(old_prf));
	ck_assert_msg(ikev2_skeyseed_rekey(old_prf, IKE_CHUNK(old_d, ike_prf_len(old_prf)),
					   IKE_CHUNK(child.gir, 256), NI(&child), NR(&child), seed,
					   &err) == 0, "%s", err.msg);
	ref_op(&r, "skeyseed-rekey");
	ref_add(&r, " %s", md_name(old_prf));
	ref_hex(&r, old_d, ike_prf_len(old_prf));
	ref_hex(&r, child.gir, 256);
	ref_hex(&r, child.ni, sizeof(child.ni));
	ref_hex(&r, child.nr, sizeof(child.nr));
	ref_run(&r);
	ref_expect(&r, km[0], sizeof(km[0]), "KEYMAT without PFS");
	ref_expect(&r, km[1], sizeof(km[1]), "KEYMAT with PFS");
	ref_expect(&r, seed, ike_prf_len(old_prf), "rekeyed SKEYSEED");
	ref_done(&r);
	ikev2_keys_wipe(&k);
	ikev2_keys_wipe(&peer);
}
END_TEST

START_TEST(ikev2_suites_refused_by_name)
{
	static const struct {
		struct ike_suite s;
		const char *fragment;
	} bad[] = {
		{ { IKE_ENCR_AES_CBC, 64, IKE_INTEG_HMAC_SHA1_96, 2 }, "cipher 12 with a 64-bit key" },
		{ { 13 /* CTR */, 128, IKE_INTEG_HMAC_SHA1_96, 2 }, "cipher 13" },
		{ { IKE_ENCR_AES_CBC, 128, IKE_INTEG_NONE, 2 }, "(CBC needs one)" },
		{ { IKE_ENCR_AES_CBC, 128, 7 /* DES-MAC */, 2 }, "integrity algorithm 7" },
		{ { IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_AES_XCBC_96, 2 }, "takes no integrity" },
		/* AES-GMAC (RFC 4543) encrypts nothing: child SAs only */
		{ { IKE_ENCR_NULL_AUTH_AES_GMAC, 128, IKE_INTEG_NONE, 2 },
		  "cipher 21 with a 128-bit key" },
		{ { IKE_ENCR_NULL_AUTH_AES_GMAC, 256, IKE_INTEG_NONE, 2 },
		  "cipher 21 with a 256-bit key" },
		{ { IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_HMAC_SHA1_96, 2 }, "takes no integrity" },
		{ { IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96, IKE_PRF_HMAC_MD5 }, "PRF 1" },
		{ { IKE_ENCR_DES, 0, IKE_INTEG_HMAC_SHA1_96, 2 }, "cipher 2" }, /* IKEv1 only */
	};
	struct ike_err err = { 0 };
	struct ikev2_keys k;
	struct ikev1_keys k1;

	for (size_t i = 0; i < N(bad); i++) {
		ck_assert_int_eq(ikev2_keys_init(&k, &bad[i].s, true, &err), -EOPNOTSUPP);
		ck_assert_msg(strstr(err.msg, bad[i].fragment), "'%s' lacks '%s'", err.msg,
			      bad[i].fragment);
	}
	ck_assert_int_eq(ikev1_keys_init(&k1, IKEV1_HASH_SHA, IKEV1_ENCR_AES_CBC, 0, &err),
			 -EOPNOTSUPP);
	ck_assert_int_eq(ikev1_keys_init(&k1, 3 /* Tiger */, IKEV1_ENCR_3DES_CBC, 0, &err),
			 -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(err.msg, "hash algorithm 3"));
}
END_TEST

static Suite *ike_prf_suite(void)
{
	Suite *s = suite_create("ike_prf");
	TCase *tc;

	tc = tcase_create("hmac");
	tcase_add_loop_test(tc, hmac_rfc_vectors, 0, N(mac_vecs));
	tcase_add_test(tc, prf_refuses_unknown);
	suite_add_tcase(s, tc);

	tc = tcase_create("aes");
	tcase_add_loop_test(tc, aes_mac_rfc_vectors, 0, N(aes_macs));
	tcase_add_test(tc, aes_prf_rfc_vectors);
	suite_add_tcase(s, tc);

	tc = tcase_create("derivation");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, prf_plus_matches_reference, 0, N(prfs));
	tcase_add_loop_test(tc, ikev2_keys_match_reference, 0, N(suites));
	tcase_add_loop_test(tc, ikev2_child_and_rekey_match_reference, 0, N(suites));
	tcase_add_test(tc, ikev2_suites_refused_by_name);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(ike_prf_suite());
}
