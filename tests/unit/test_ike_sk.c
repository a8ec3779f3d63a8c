/* test_ike_sk.c - Check unit tests of IKEv2 Encrypted payloads
 * (dpsec_ike_crypto, ike_sk.h) for every suite: sealed by one end and
 * opened by the other; every flipped bit fails the integrity check;
 * truncated messages are malformed; a wrong layout is refused; messages
 * sealed here are opened by scapy's IPsec algorithms (through
 * ike_vectors/ike_crypto_ref.py) and the other way round. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ike_keys.h"
#include "ike_ref.h"
#include "ike_sk.h"
#include "ikev2_msg.h"
#include "ike_crypto_world.h"
#include "check_run.h"

#define BUF 4096

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
	case IKE_INTEG_AES_CMAC_96:
		*integ = "AES-CMAC-96";
		break;
	case IKE_INTEG_AES_XCBC_96: /* not scapy's: the reference's own, from RFC 3566 */
		*integ = "AES-XCBC-MAC-96";
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

static Suite *ike_sk_suite(void)
{
	Suite *s = suite_create("ike_sk");
	TCase *tc;

	tc = tcase_create("encryption");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, sk_round_trips_both_ways, 0, N(suites));
	tcase_add_loop_test(tc, sk_every_flipped_bit_fails, 0, N(suites));
	tcase_add_loop_test(tc, sk_truncated_is_malformed, 0, N(suites));
	tcase_add_test(tc, sk_seal_refuses_a_wrong_layout);
	tcase_add_loop_test(tc, sk_agrees_with_scapy, 0, N(suites));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(ike_sk_suite());
}
