/* test_ike_crypto.c - Check unit tests of the IKE crypto layer
 * (dpsec_ike_crypto), each against values nobody here computed:
 * - HMAC: RFC 4231 (SHA-256/384/512) and RFC 2202 (SHA-1, MD5) vectors;
 * - ECDH: RFC 5903 §8 (groups 19, 20, 21); X25519: RFC 7748 §6.1;
 * - MODP: fresh key pairs agree; peer values 0, 1, p - 1, >= p and of a
 *   wrong length are refused by name, one outside the subgroup is taken
 *   (RFC 6989 §2.2), p computed from its RFC definition by the reference
 *   script;
 * - prf+, SKEYSEED, SK_d..SK_pr, rekeyed SKEYSEED, Child SA KEYMAT, and
 *   IKEv1's SKEYID, SKEYID_d/a/e, appendix B key expansion and IVs, HASH_I,
 *   HASH_R, Quick Mode HASH(1..3) and KEYMAT: against
 *   ike_vectors/ike_crypto_ref.py (hmac and hashlib only), run with the
 *   same inputs through popen;
 * - Encrypted payloads: every suite round-trips; every flipped bit fails
 *   the integrity check; truncated messages are malformed; messages sealed
 *   here are opened by scapy's IPsec algorithms and the other way round;
 * - IKEv1 CBC chains: each IV is the previous message's last block, and
 *   scapy decrypts the chain (DES-CBC too);
 * - DES's weak and semi-weak keys; DES refused by name when OpenSSL's
 *   legacy provider does not load. */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike_dh.h"
#include "ike_keys.h"
#include "ike_prf.h"
#include "ike_sk.h"
#include "ike_ref.h"
#include "ike_test_util.h"
#include "ikev1_prf.h"
#include "ikev2_msg.h"
#include "check_run.h"

/* ck_assert_msg() records its location on every call; in loops only a
 * failure is worth that. */
#define EXPECT(cond, ...)                          \
	do {                                       \
		if (!(cond))                       \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define BUF 4096

static uint32_t rng = 0x1d2c3b4a;

static void fill(uint8_t *p, size_t n)
{
	rnd_bytes(&rng, p, n);
}


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

START_TEST(prf_refuses_unknown)
{
	struct ike_err err = { 0 };
	uint8_t out[IKE_PRF_MAX];

	ck_assert_int_eq(ike_prf(4 /* AES128_XCBC */, IKE_CHUNK("k", 1), NULL, 0, out, &err),
			 -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(err.msg, "PRF 4 is not supported"));
	ck_assert_uint_eq(ike_prf_len(4), 0);
	ck_assert_uint_eq(ike_prf_len(IKE_PRF_HMAC_SHA2_384), 48);
}
END_TEST

/* ---- key exchange ------------------------------------------------------ */

/* RFC 5903 §8: i, g^i = gix | giy, r, g^r = grx | gry, girx. */
struct ecp_vec {
	uint16_t group;
	const char *i, *gi, *r, *gr, *gir;
};

static const struct ecp_vec ecp_vecs[] = {
	{ 19, "C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 862D1433",
	  "DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF 945D0C37 72581180"
	  "5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 389E0577 B8990BB3",
	  "C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 476BEE53",
	  "D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C 736FC755 4494BF63"
	  "56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 53E74F33 039872AB",
	  "D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 4B9442DE" },
	{ 20,
	  "099F3C70 34D4A2C6 99884D73 A375A67F 7624EF7C 6B3C0F16 0647B674 14DCE655"
	  "E35B5380 41E649EE 3FAEF896 783AB194",
	  "667842D7 D180AC2C DE6F74F3 7551F557 55C7645C 20EF73E3 1634FE72 B4C55EE6"
	  "DE3AC808 ACB4BDB4 C88732AE E95F41AA"
	  "9482ED1F C0EEB9CA FC498462 5CCFC23F 65032149 E0E144AD A0241815 35A0F38E"
	  "EB9FCFF3 C2C947DA E69B4C63 4573A81C",
	  "41CB0779 B4BDB85D 47846725 FBEC3C94 30FAB46C C8DC5060 855CC9BD A0AA2942"
	  "E0308312 916B8ED2 960E4BD5 5A7448FC",
	  "E558DBEF 53EECDE3 D3FCCFC1 AEA08A89 A987475D 12FD950D 83CFA417 32BC509D"
	  "0D1AC43A 0336DEF9 6FDA41D0 774A3571"
	  "DCFBEC7A ACF31964 72169E83 8430367F 66EEBE3C 6E70C416 DD5F0C68 759DD1FF"
	  "F83FA401 42209DFF 5EAAD96D B9E6386C",
	  "11187331 C279962D 93D60424 3FD592CB 9D0A926F 422E4718 7521287E 7156C5C4"
	  "D6031355 69B9E9D0 9CF5D4A2 70F59746" },
	{ 21,
	  "0037ADE9 319A89F4 DABDB3EF 411AACCC A5123C61 ACAB57B5 393DCE47 608172A0"
	  "95AA85A3 0FE1C295 2C6771D9 37BA9777 F5957B26 39BAB072 462F68C2 7A57382D 4A52",
	  "0015417E 84DBF28C 0AD3C278 713349DC 7DF153C8 97A1891B D98BAB43 57C9ECBE"
	  "E1E3BF42 E00B8E38 0AEAE57C 2D107564 94188594 2AF5A7F4 601723C4 195D176C ED3E"
	  "017CAE20 B6641D2E EB695786 D8C94614 6239D099 E18E1D5A 514C739D 7CB4A10A"
	  "D8A78801 5AC405D7 799DC75E 7B7D5B6C F2261A6A 7F150743 8BF01BEB 6CA3926F 9582",
	  "0145BA99 A847AF43 793FDD0E 872E7CDF A16BE30F DC780F97 BCCC3F07 8380201E"
	  "9C677D60 0B343757 A3BDBF2A 3163E4C2 F869CCA7 458AA4A4 EFFC311F 5CB15168 5EB9",
	  "00D0B397 5AC4B799 F5BEA16D 5E13E9AF 971D5E9B 984C9F39 728B5E57 39735A21"
	  "9B97C356 436ADC6E 95BB0352 F6BE64A6 C2912D4E F2D0433C ED2B6171 640012D9 460F"
	  "015C6822 6383956E 3BD066E7 97B623C2 7CE0EAC2 F551A10C 2C724D98 52077B87"
	  "220B6536 C5C408A1 D2AEBB8E 86D678AE 49CB5709 1F473229 6579AB44 FCD17F0F C56A",
	  "01144C7D 79AE6956 BC8EDB8E 7C787C45 21CB086F A64407F9 7894E5E6 B2D79B04"
	  "D1427E73 CA4BAA24 0A347868 59810C06 B3C715A3 A8CC3151 F2BEE417 996D19F3 DDEA" },
	/* RFC 7748 §6.1: Alice's and Bob's private keys, public keys, K */
	{ 31, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	  "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	  "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	  "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
	  "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742" },
};

/* A fixed key pair whose public value must be the vector's. */
static struct ike_dh *fixed_key(uint16_t group, const char *priv, const char *pub)
{
	uint8_t d[128], want[IKE_DH_PUBLIC_MAX];
	size_t dlen = hex2bin(priv, d, sizeof(d)), wlen = hex2bin(pub, want, sizeof(want)), plen;
	struct ike_err err = { 0 };
	struct ike_dh *dh;
	const uint8_t *p;

	ck_assert_msg(ike_dh_new_fixed_for_test(group, d, dlen, &dh, &err) == 0, "%s", err.msg);
	p = ike_dh_public(dh, &plen);
	ck_assert_uint_eq(plen, wlen);
	ck_assert_mem_eq(p, want, wlen);
	return dh;
}

static void derive_ok(const struct ike_dh *dh, const uint8_t *peer, size_t len, uint8_t *secret,
		      size_t *slen)
{
	struct ike_err err = { 0 };

	ck_assert_msg(ike_dh_derive(dh, peer, len, secret, IKE_DH_SECRET_MAX, slen, &err) == 0,
		      "group %u: %s", ike_dh_group(dh), err.msg);
	ck_assert_uint_eq(*slen, ike_dh_secret_len(ike_dh_group(dh)));
}

START_TEST(ecdh_and_x25519_rfc_vectors)
{
	const struct ecp_vec *v = &ecp_vecs[_i];
	struct ike_dh *i = fixed_key(v->group, v->i, v->gi), *r = fixed_key(v->group, v->r, v->gr);
	uint8_t want[IKE_DH_SECRET_MAX], s[IKE_DH_SECRET_MAX];
	size_t wlen = hex2bin(v->gir, want, sizeof(want)), plen, slen;
	const uint8_t *p;

	p = ike_dh_public(r, &plen);
	derive_ok(i, p, plen, s, &slen);
	ck_assert_uint_eq(slen, wlen);
	ck_assert_mem_eq(s, want, wlen);
	p = ike_dh_public(i, &plen);
	derive_ok(r, p, plen, s, &slen);
	ck_assert_mem_eq(s, want, wlen);
	ike_dh_free(i);
	ike_dh_free(r);
}
END_TEST

static const uint16_t all_groups[] = { 2, 14, 15, 16, 19, 20, 21, 31 };

START_TEST(fresh_key_pairs_agree)
{
	uint16_t g = all_groups[_i];
	struct ike_dh *a, *b;
	struct ike_err err = { 0 };
	uint8_t s1[IKE_DH_SECRET_MAX], s2[IKE_DH_SECRET_MAX];
	const uint8_t *pa, *pb;
	size_t la, lb, l1, l2;

	ck_assert_msg(ike_dh_new(g, &a, &err) == 0 && ike_dh_new(g, &b, &err) == 0, "%s", err.msg);
	pa = ike_dh_public(a, &la);
	pb = ike_dh_public(b, &lb);
	ck_assert_uint_eq(la, ike_dh_public_len(g));
	ck_assert_uint_eq(lb, la);
	ck_assert_mem_ne(pa, pb, la);
	derive_ok(a, pb, lb, s1, &l1);
	derive_ok(b, pa, la, s2, &l2);
	ck_assert_uint_eq(l1, l2);
	ck_assert_mem_eq(s1, s2, l1);
	ike_dh_free(a);
	ike_dh_free(b);
}
END_TEST

/* The secret keeps the prime's length when g^ir has leading zero bytes
 * (RFC 7296 §2.14): group 2 pairs until one comes up, 1 in 256. */
START_TEST(modp_secret_is_left_padded)
{
	struct ike_err err = { 0 };
	uint8_t s1[IKE_DH_SECRET_MAX], s2[IKE_DH_SECRET_MAX];
	struct ike_dh *a, *b = NULL;
	const uint8_t *pa, *pb;
	size_t la, lb, l1, l2;
	int tries;

	ck_assert_msg(ike_dh_new(2, &a, &err) == 0, "%s", err.msg);
	pa = ike_dh_public(a, &la);
	for (tries = 0; tries < 4000; tries++) {
		ike_dh_free(b);
		ck_assert_msg(ike_dh_new(2, &b, &err) == 0, "%s", err.msg);
		pb = ike_dh_public(b, &lb);
		derive_ok(a, pb, lb, s1, &l1);
		if (s1[0] == 0)
			break;
	}
	ck_assert_msg(tries < 4000, "no secret with a leading zero byte in 4000 tries");
	derive_ok(b, pa, la, s2, &l2);
	ck_assert_uint_eq(l1, 128);
	ck_assert_uint_eq(l2, 128);
	ck_assert_mem_eq(s1, s2, 128);
	ike_dh_free(a);
	ike_dh_free(b);
}
END_TEST

/* Expects the peer value refused with -EBADMSG and fragment in the message. */
static void refused(const struct ike_dh *dh, const uint8_t *v, size_t len, const char *fragment)
{
	struct ike_err err = { 0 };
	uint8_t s[IKE_DH_SECRET_MAX];
	size_t slen = 1;

	ck_assert_int_eq(ike_dh_derive(dh, v, len, s, sizeof(s), &slen, &err), -EBADMSG);
	ck_assert_msg(strstr(err.msg, fragment), "group %u: '%s' lacks '%s'", ike_dh_group(dh),
		      err.msg, fragment);
	ck_assert_uint_eq(slen, 0);
}

/* p + delta (delta small, may be negative), big-endian in len bytes. */
static void p_plus(const uint8_t *p, size_t len, int delta, uint8_t *out)
{
	int carry = delta;

	memcpy(out, p, len);
	for (size_t i = len; i-- > 0 && carry;) {
		int v = out[i] + carry;

		out[i] = (uint8_t)v;
		carry = v < 0 ? -1 : v > 255 ? 1 : 0;
	}
}

static const uint16_t modp_groups[] = { 2, 14, 15, 16 };

START_TEST(modp_refuses_bad_peer_values)
{
	uint16_t g = modp_groups[_i];
	size_t len = ike_dh_public_len(g);
	uint8_t p[IKE_DH_PUBLIC_MAX], v[IKE_DH_PUBLIC_MAX + 1] = { 0 }, s[IKE_DH_SECRET_MAX];
	size_t slen;
	struct ike_err err = { 0 };
	struct ref r = { 0 };
	struct ike_dh *dh;

	ref_op(&r, "modp-prime");
	ref_add(&r, " %u", g);
	ref_run(&r);
	memcpy(p, ref_take(&r, len, "p"), len);
	ref_done(&r); /* p had len bytes, no more */
	ck_assert_msg(ike_dh_new(g, &dh, &err) == 0, "%s", err.msg);
	refused(dh, v, len, "is 0");
	v[len - 1] = 1;
	refused(dh, v, len, "is 1");
	p_plus(p, len, -1, v);
	refused(dh, v, len, "is p - 1");
	refused(dh, p, len, "is not below the prime");
	p_plus(p, len, 1, v);
	refused(dh, v, len, "is not below the prime");
	p_plus(p, len, -2, v); /* a non-residue (p = 7 mod 8), outside the order-q subgroup, */
	ck_assert_msg(ike_dh_derive(dh, v, len, s, sizeof(s), &slen, &err) == 0, /* taken: */
		      "%s", err.msg);                                          /* RFC 6989 §2.2 */
	memset(s, 0, sizeof(s));
	refused(dh, p, len - 1, "bytes, not");
	memset(v, 0, sizeof(v));
	v[len] = 2;
	refused(dh, v, len + 1, "bytes, not");
	refused(dh, v, 0, "has 0 bytes");
	ike_dh_free(dh);
}
END_TEST

static const uint16_t ecp_groups[] = { 19, 20, 21 };

START_TEST(ecp_refuses_bad_points)
{
	uint16_t g = ecp_groups[_i];
	uint8_t v[1 + IKE_DH_PUBLIC_MAX];
	struct ike_err err = { 0 };
	struct ike_dh *dh, *peer;
	const uint8_t *pub;
	size_t len;

	ck_assert_msg(ike_dh_new(g, &dh, &err) == 0 && ike_dh_new(g, &peer, &err) == 0, "%s",
		      err.msg);
	pub = ike_dh_public(peer, &len);
	memcpy(v, pub, len);
	v[len - 1] ^= 1; /* y changed: off the curve */
	refused(dh, v, len, "is not a point on the curve");
	memset(v, 0, len);
	refused(dh, v, len, "is not a point on the curve");
	memset(v, 0xff, len); /* coordinates beyond the field */
	refused(dh, v, len, "is not a point on the curve");
	v[0] = 0x04; /* SEC 1's uncompressed form is not IKE's (RFC 5903 §7) */
	memcpy(v + 1, pub, len);
	refused(dh, v, len + 1, "bytes, not");
	refused(dh, pub, len / 2 + 1, "bytes, not"); /* compressed-size */
	ike_dh_free(dh);
	ike_dh_free(peer);
}
END_TEST

START_TEST(x25519_refuses_low_order_points)
{
	static const char *const low[] = {
		"0000000000000000000000000000000000000000000000000000000000000000", /* 0 */
		"0100000000000000000000000000000000000000000000000000000000000000", /* 1 */
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p - 1 */
	};
	struct ike_err err = { 0 };
	struct ike_dh *dh;
	uint8_t v[32];

	ck_assert_msg(ike_dh_new(31, &dh, &err) == 0, "%s", err.msg);
	for (size_t i = 0; i < N(low); i++) {
		hex2bin(low[i], v, sizeof(v));
		refused(dh, v, 32, "the shared secret is all zero");
	}
	refused(dh, v, 31, "has 31 bytes, not 32");
	ike_dh_free(dh);
}
END_TEST

START_TEST(dh_refuses_unknown_groups_and_modp_test_keys)
{
	struct ike_err err = { 0 };
	struct ike_dh *dh = (struct ike_dh *)&err;
	uint8_t d[32] = { 1 }, s[8];
	size_t len;

	ck_assert_int_eq(ike_dh_new(5, &dh, &err), -EOPNOTSUPP);
	ck_assert_ptr_null(dh);
	ck_assert_ptr_nonnull(strstr(err.msg, "DH group 5 is not supported"));
	ck_assert_uint_eq(ike_dh_public_len(22), 0);
	ck_assert_int_eq(ike_dh_new_fixed_for_test(14, d, 32, &dh, &err), -EOPNOTSUPP);
	ck_assert_int_eq(ike_dh_new_fixed_for_test(19, d, 31, &dh, &err), -EOPNOTSUPP);
	ck_assert_int_eq(ike_dh_new(19, &dh, &err), 0);
	ck_assert_int_eq(ike_dh_derive(dh, d, 64, s, sizeof(s), &len, &err), -EINVAL);
	ike_dh_free(dh);
	ike_dh_free(NULL);
}
END_TEST

/* ---- IKEv2 key derivation against the reference ----------------------- */

static const uint16_t prfs[] = { 1, 2, 5, 6, 7 };

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

/* An IKE SA's inputs: nonces, SPIs, g^ir. */
struct sa_in {
	uint8_t ni[32], nr[48], spi_i[8], spi_r[8], gir[256];
};

static void sa_in_fill(struct sa_in *in)
{
	fill(in->ni, sizeof(in->ni));
	fill(in->nr, sizeof(in->nr));
	fill(in->spi_i, 8);
	fill(in->spi_r, 8);
	fill(in->gir, sizeof(in->gir));
}

#define NI(in) IKE_CHUNK((in)->ni, sizeof((in)->ni))
#define NR(in) IKE_CHUNK((in)->nr, sizeof((in)->nr))

static const struct ike_suite suites[] = {
	{ IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96, IKE_PRF_HMAC_SHA1 },
	{ IKE_ENCR_AES_CBC, 192, IKE_INTEG_HMAC_SHA2_256_128, IKE_PRF_HMAC_SHA2_256 },
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128, IKE_PRF_HMAC_SHA2_256 },
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_384_192, IKE_PRF_HMAC_SHA2_384 },
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_512_256, IKE_PRF_HMAC_SHA2_512 },
	{ IKE_ENCR_3DES, 0, IKE_INTEG_HMAC_SHA1_96, IKE_PRF_HMAC_SHA2_256 },
	{ IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256 },
	{ IKE_ENCR_AES_GCM_16, 192, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_384 },
	{ IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_512 },
};

/* Both ends' keys of one IKE SA, derived from in. */
static void sa_keys(const struct ike_suite *s, const struct sa_in *in, struct ikev2_keys *i,
		    struct ikev2_keys *r)
{
	uint8_t seed[IKE_PRF_MAX];
	struct ike_err err = { 0 };

	ck_assert_msg(ikev2_keys_init(i, s, true, &err) == 0 && ikev2_keys_init(r, s, false, &err) == 0,
		      "%s", err.msg);
	ck_assert_msg(ikev2_skeyseed(s->prf, NI(in), NR(in), IKE_CHUNK(in->gir, sizeof(in->gir)),
				     seed, &err) == 0, "%s", err.msg);
	ck_assert_msg(ikev2_keys_derive(i, seed, NI(in), NR(in), in->spi_i, in->spi_r, &err) == 0 &&
		      ikev2_keys_derive(r, seed, NI(in), NR(in), in->spi_i, in->spi_r, &err) == 0,
		      "%s", err.msg);
}

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
		{ { IKE_ENCR_AES_CBC, 128, 5 /* AES-XCBC */, 2 }, "integrity algorithm 5" },
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

/* ---- IKEv2 Encrypted payloads ----------------------------------------- */

/* A message of k's suite: header, a Vendor ID payload (so that the AAD is
 * more than header and SK header), SK with n bytes of inner payloads,
 * built by the codec and sealed; *aad_len is where the IV starts. */
static size_t sealed_msg(const struct ikev2_keys *k, const uint8_t *inner, size_t n, uint8_t *buf,
			 size_t *aad_len)
{
	const struct ikev2_hdr h = { .spi_i = { 1, 2, 3, 4, 5, 6, 7, 8 },
				     .spi_r = { 9, 10, 11, 12, 13, 14, 15, 16 },
				     .version = IKEV2_VERSION,
				     .exchange = IKEV2_IKE_AUTH,
				     .flags = k->initiator ? IKEV2_FLAG_I : IKEV2_FLAG_R,
				     .msg_id = 1 };
	static const uint8_t vid[] = "dpsec test vendor";
	struct ike_err err = { 0 };
	struct ikev2_builder b;
	struct ikev2_sk_space sp;
	size_t len;

	ikev2_build_begin(&b, buf, BUF, &h);
	ikev2_build_raw(&b, IKEV2_PL_VENDOR, false, vid, sizeof(vid));
	ikev2_build_sk(&b, IKEV2_PL_IDI, NULL, k->iv_len, ikev2_sk_ct_len(k, n), k->icv_len, &sp);
	ck_assert_msg(ikev2_build_end(&b, &len, &err) == 0, "%s", err.msg);
	memcpy(sp.ct, inner, n);
	ck_assert_msg(ikev2_sk_seal(k, buf, len, sp.aad_len, n, &err) == 0, "%s", err.msg);
	*aad_len = sp.aad_len;
	return len;
}

/* Opens as the codec's parser directs (sk_body_off) and checks the result. */
static void opens_to(const struct ikev2_keys *k, uint8_t *msg, size_t len, const uint8_t *inner,
		     size_t n)
{
	struct ikev2_msg *m = malloc(sizeof(*m));
	struct ike_err err = { 0 };
	uint8_t *plain;
	size_t plen;

	ck_assert_ptr_nonnull(m);
	ck_assert_msg(ikev2_msg_parse(msg, len, m, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(m->sk_inner_next, IKEV2_PL_IDI);
	ck_assert_msg(ikev2_sk_open(k, msg, len, m->sk_body_off, &plain, &plen, &err) == 0, "%s",
		      err.msg);
	ck_assert_uint_eq(plen, n);
	ck_assert_mem_eq(plain, inner, n);
	ck_assert(plain > msg && plain + plen < msg + len);
	free(m);
}

/* What the plaintext is padded to: the cipher's block for CBC, nothing
 * for GCM, which needs only the Pad Length byte (RFC 5282). */
static size_t pad_unit(const struct ike_suite *s)
{
	return s->encr == IKE_ENCR_3DES ? 8 : s->encr == IKE_ENCR_AES_CBC ? 16 : 1;
}

START_TEST(sk_round_trips_both_ways)
{
	static const size_t lens[] = { 0, 1, 7, 15, 16, 17, 100, 1000 };
	struct ikev2_keys i, r;
	uint8_t inner[1000], msg[BUF], copy[BUF];
	struct ike_err err = { 0 };
	struct sa_in in;
	size_t len, aad;
	uint8_t *plain;
	size_t plen;

	sa_in_fill(&in);
	sa_keys(&suites[_i], &in, &i, &r);
	for (size_t j = 0; j < N(lens); j++) {
		fill(inner, lens[j]);
		len = sealed_msg(&i, inner, lens[j], msg, &aad);
		ck_assert_uint_eq(ikev2_sk_ct_len(&i, lens[j]),
				  (lens[j] + pad_unit(&suites[_i])) / pad_unit(&suites[_i]) *
					  pad_unit(&suites[_i]));
		ck_assert_uint_eq(len, aad + i.iv_len + ikev2_sk_ct_len(&i, lens[j]) + i.icv_len);
		/* our own message does not open with our receive keys */
		memcpy(copy, msg, len);
		ck_assert_int_eq(ikev2_sk_open(&i, copy, len, aad, &plain, &plen, &err), -EKEYREJECTED);
		opens_to(&r, msg, len, inner, lens[j]);
		len = sealed_msg(&r, inner, lens[j], msg, &aad);
		opens_to(&i, msg, len, inner, lens[j]);
	}
	ikev2_keys_wipe(&i);
	ikev2_keys_wipe(&r);
}
END_TEST

/* One SA's two ends and 40 bytes of inner payloads the initiator sealed. */
struct sealed {
	struct ikev2_keys i, r;
	uint8_t inner[40], msg[BUF];
	size_t len, aad;
};

static void sealed_init(struct sealed *t, const struct ike_suite *suite)
{
	struct sa_in in;

	sa_in_fill(&in);
	sa_keys(suite, &in, &t->i, &t->r);
	fill(t->inner, sizeof(t->inner));
	t->len = sealed_msg(&t->i, t->inner, sizeof(t->inner), t->msg, &t->aad);
}

static void sealed_wipe(struct sealed *t)
{
	ikev2_keys_wipe(&t->i);
	ikev2_keys_wipe(&t->r);
}

/* Every single flipped bit is caught. Bits of the header's length field
 * make the message contradict its own size, which is malformed; every
 * other bit fails the integrity check. */
START_TEST(sk_every_flipped_bit_fails)
{
	struct sealed t;
	uint8_t bad[BUF], *plain;
	struct ike_err err = { 0 };
	size_t plen;

	sealed_init(&t, &suites[_i]);
	for (size_t bit = 0; bit < 8 * t.len; bit++) {
		bool in_length = bit / 8 >= 24 && bit / 8 < 28;
		int rc;

		memcpy(bad, t.msg, t.len);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rc = ikev2_sk_open(&t.r, bad, t.len, t.aad, &plain, &plen, &err);
		EXPECT(rc == (in_length ? -EBADMSG : -EKEYREJECTED), "bit %zu: %d %s", bit, rc,
		       err.msg);
		EXPECT(in_length || strstr(err.msg, "integrity check failed"), "bit %zu: %s", bit,
		       err.msg);
		EXPECT(err.notify == 0, "bit %zu: notify %u", bit, err.notify);
	}
	opens_to(&t.r, t.msg, t.len, t.inner, sizeof(t.inner)); /* the original still opens */
	sealed_wipe(&t);
}
END_TEST

START_TEST(sk_truncated_is_malformed)
{
	struct sealed t;
	uint8_t bad[BUF], *plain;
	struct ike_err err = { 0 };
	size_t plen, short_len;

	sealed_init(&t, &suites[_i]);
	for (size_t cut = 1; cut < t.len; cut++) { /* the datagram cut short */
		memcpy(bad, t.msg, t.len);
		EXPECT(ikev2_sk_open(&t.r, bad, t.len - cut, t.aad, &plain, &plen, &err) == -EBADMSG,
		       "cut %zu: %s", cut, err.msg);
		EXPECT(strstr(err.msg, "length") || strstr(err.msg, "shorter"), "cut %zu: %s", cut,
		       err.msg);
	}
	ck_assert_ptr_nonnull(strstr(err.msg, "shorter than the header"));
	/* cut and the header's length made to agree: too short for IV, one
	 * block and ICV */
	short_len = t.aad + t.i.iv_len;
	memcpy(bad, t.msg, t.len);
	bad[26] = (uint8_t)(short_len >> 8);
	bad[27] = (uint8_t)short_len;
	ck_assert_int_eq(ikev2_sk_open(&t.r, bad, short_len, t.aad, &plain, &plen, &err), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.msg, "fewer than IV, one block and ICV"));
	if (t.i.block_len > 1) { /* CBC: not whole blocks */
		memcpy(bad, t.msg, t.len);
		bad[26] = (uint8_t)((t.len - 1) >> 8);
		bad[27] = (uint8_t)(t.len - 1);
		ck_assert_int_eq(ikev2_sk_open(&t.r, bad, t.len - 1, t.aad, &plain, &plen, &err),
				 -EBADMSG);
		ck_assert_ptr_nonnull(strstr(err.msg, "not whole"));
	}
	memcpy(bad, t.msg, t.len);
	ck_assert_int_eq(ikev2_sk_open(&t.r, bad, t.len, 20, &plain, &plen, &err), -EINVAL);
	sealed_wipe(&t);
}
END_TEST

START_TEST(sk_seal_refuses_a_wrong_layout)
{
	struct ike_err err = { 0 };
	struct sealed t;

	sealed_init(&t, &suites[0]);
	ck_assert_int_eq(ikev2_sk_seal(&t.i, t.msg, t.len, t.aad, sizeof(t.inner) + 16, &err),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "ciphertext space"));
	ck_assert_int_eq(ikev2_sk_seal(&t.i, t.msg, t.len - 1, t.aad, sizeof(t.inner), &err),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "IKEv2 header: length"));
	sealed_wipe(&t);
}
END_TEST

/* scapy names of a suite's cipher and integrity algorithm. */
static void scapy_names(const struct ike_suite *s, const char **cipher, const char **integ)
{
	*cipher = s->encr == IKE_ENCR_3DES ? "3DES" : s->encr == IKE_ENCR_AES_CBC ? "AES-CBC"
									       : "AES-GCM";
	switch (s->integ) {
	case IKE_INTEG_HMAC_SHA1_96:
		*integ = "HMAC-SHA1-96";
		break;
	case IKE_INTEG_HMAC_SHA2_256_128:
		*integ = "SHA2-256-128";
		break;
	case IKE_INTEG_HMAC_SHA2_384_192:
		*integ = "SHA2-384-192";
		break;
	case IKE_INTEG_HMAC_SHA2_512_256:
		*integ = "SHA2-512-256";
		break;
	default:
		*integ = "-";
	}
}

/* One run of scapy: it opens an initiator's message sealed here, and seals
 * a responder's message twice, once with padding 1, 2, 3... that must
 * open here, once with a Pad Length past the plaintext, which only the
 * ICV check lets through and the padding check then refuses. */
START_TEST(sk_agrees_with_scapy)
{
	const struct ike_suite *s = &suites[_i];
	const struct ikev2_hdr h = { .spi_i = { 1 }, .version = IKEV2_VERSION,
				     .exchange = IKEV2_INFORMATIONAL, .flags = IKEV2_FLAG_R };
	const char *cipher, *integ;
	struct ikev2_keys i, r;
	uint8_t inner[77], msg[BUF], skel[BUF], out[BUF], iv[16], *plain;
	struct ike_err err = { 0 };
	struct ikev2_builder b;
	struct ikev2_sk_space sp;
	struct sa_in in;
	size_t len, slen, aad, plen;
	struct ref ref = { 0 };

	scapy_names(s, &cipher, &integ);
	sa_in_fill(&in);
	sa_keys(s, &in, &i, &r);
	fill(inner, sizeof(inner));
	len = sealed_msg(&i, inner, sizeof(inner), msg, &aad);
	ref_op(&ref, "sk-open");
	ref_add(&ref, " %s", cipher);
	ref_hex(&ref, i.sk_ei, i.e_len);
	ref_add(&ref, " %s", integ);
	ref_hex(&ref, i.sk_ai, i.a_len);
	ref_add(&ref, " %zu", aad);
	ref_hex(&ref, msg, len);

	ikev2_build_begin(&b, skel, BUF, &h); /* room for two more blocks of padding */
	ikev2_build_sk(&b, IKEV2_PL_IDI, NULL, r.iv_len,
		       ikev2_sk_ct_len(&r, sizeof(inner)) + 2 * r.block_len, r.icv_len, &sp);
	ck_assert_int_eq(ikev2_build_end(&b, &slen, &err), 0);
	memcpy(sp.ct, inner, sizeof(inner));
	fill(iv, r.iv_len);
	for (int badpad = 0; badpad < 2; badpad++) {
		ref_op(&ref, "sk-seal");
		ref_add(&ref, " %s", cipher);
		ref_hex(&ref, r.sk_er, r.e_len);
		ref_add(&ref, " %s", integ);
		ref_hex(&ref, r.sk_ar, r.a_len);
		ref_add(&ref, " %zu %zu", sp.aad_len, sizeof(inner));
		ref_hex(&ref, iv, r.iv_len);
		ref_hex(&ref, skel, slen);
		if (badpad)
			ref_add(&ref, " 255");
	}
	ref_run(&ref);
	ref_expect(&ref, inner, sizeof(inner), "what scapy opened");
	memcpy(out, ref_take(&ref, slen, "scapy's message"), slen);
	opens_to(&i, out, slen, inner, sizeof(inner));
	memcpy(out, ref_take(&ref, slen, "scapy's badly padded message"), slen);
	ck_assert_int_eq(ikev2_sk_open(&i, out, slen, sp.aad_len, &plain, &plen, &err), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.msg, "Pad Length 255"));
	ck_assert_uint_eq(err.notify, IKEV2_N_INVALID_SYNTAX);
	ref_done(&ref);
	ikev2_keys_wipe(&i);
	ikev2_keys_wipe(&r);
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

static Suite *ike_crypto_suite(void)
{
	Suite *s = suite_create("ike_crypto");
	TCase *tc;

	tc = tcase_create("hmac");
	tcase_add_loop_test(tc, hmac_rfc_vectors, 0, N(mac_vecs));
	tcase_add_test(tc, prf_refuses_unknown);
	suite_add_tcase(s, tc);

	tc = tcase_create("dh");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, ecdh_and_x25519_rfc_vectors, 0, N(ecp_vecs));
	tcase_add_loop_test(tc, fresh_key_pairs_agree, 0, N(all_groups));
	tcase_add_test(tc, modp_secret_is_left_padded);
	tcase_add_loop_test(tc, modp_refuses_bad_peer_values, 0, N(modp_groups));
	tcase_add_loop_test(tc, ecp_refuses_bad_points, 0, N(ecp_groups));
	tcase_add_test(tc, x25519_refuses_low_order_points);
	tcase_add_test(tc, dh_refuses_unknown_groups_and_modp_test_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("derivation");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, prf_plus_matches_reference, 0, N(prfs));
	tcase_add_loop_test(tc, ikev2_keys_match_reference, 0, N(suites));
	tcase_add_loop_test(tc, ikev2_child_and_rekey_match_reference, 0, N(suites));
	tcase_add_test(tc, ikev2_suites_refused_by_name);
	tcase_add_loop_test(tc, ikev1_keys_match_reference, 0, N(v1_cases));
	tcase_add_loop_test(tc, ikev1_hashes_and_ivs_match_reference, 0, N(v1_cases));
	tcase_add_loop_test(tc, ikev1_quick_mode_matches_reference, 0, N(v1_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("encryption");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, sk_round_trips_both_ways, 0, N(suites));
	tcase_add_loop_test(tc, sk_every_flipped_bit_fails, 0, N(suites));
	tcase_add_loop_test(tc, sk_truncated_is_malformed, 0, N(suites));
	tcase_add_test(tc, sk_seal_refuses_a_wrong_layout);
	tcase_add_loop_test(tc, sk_agrees_with_scapy, 0, N(suites));
	tcase_add_loop_test(tc, ikev1_cbc_chain, 0, N(v1_cases));
	tcase_add_test(tc, des_weak_keys);
	tcase_add_test(tc, des_without_legacy_provider);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(ike_crypto_suite());
}
