/* test_ike_dh.c - Check unit tests of the IKE crypto layer's key
 * exchange (dpsec_ike_crypto, ike_dh.h), against values nobody here
 * computed: ECDH against RFC 5903 §8 (groups 19, 20, 21), X25519 against
 * RFC 7748 §6.1; fresh key pairs of every group agree; MODP secrets keep
 * the prime's length; MODP peer values 0, 1, p - 1, >= p and of a wrong
 * length are refused by name, one outside the subgroup is taken (RFC 6989
 * §2.2), p computed from its RFC definition by ike_crypto_ref.py; ECP
 * points off the curve or of a wrong size and X25519's low-order points
 * are refused; unknown groups too. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "ike_dh.h"
#include "ike_ref.h"
#include "ike_test_util.h"
#include "ike_crypto_world.h"
#include "check_run.h"

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

static Suite *ike_dh_suite(void)
{
	Suite *s = suite_create("ike_dh");
	TCase *tc;

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
	return s;
}

int main(void)
{
	return check_run(ike_dh_suite());
}
