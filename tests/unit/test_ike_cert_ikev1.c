/* test_ike_cert_ikev1.c - two IKEv1 engines with RSA certificates through
 * Main Mode (RFC 2409 §5.1) and Quick Mode: the pair checked key by key,
 * each side's identity the other's subject DN, each check seeing the
 * other's certificate; a certificate from an untrusted CA refused
 * (AUTHENTICATION-FAILED), a tampered SIG refused (INVALID-SIGNATURE) and
 * a SIG without a CERT refused, each counted. */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ike_cert.h"
#include "ike_pair.h"
#include "ikev1.h"
#include "ikev2_msg.h"
#include "isakmp_msg.h"
#include "ike_cert_world.h"
#include "check_run.h"

/* ---- two IKEv1 engines: Main Mode with RSA signatures ------------------ */

static const struct ike_mm_method mm_v1 = { /* no AEAD in IKEv1's Phase 1 */
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256 }, IKE_DH_ECP_256
};
static const struct ike_qm_method qm_v1 = {
	IKE_PROTO_ESP, DPSEC_ENC_AES_CBC, 16, DPSEC_INTEG_HMAC_SHA256_128, 0, false, 3600, 100000
};

/* An IKEv1 side: its certificate's subject DN as its identity. */
static void side_init_v1(struct peer_side *s, bool initiator, const char *name,
			 const char *const *roots, size_t n_roots)
{
	struct ike_err err = { 0 };
	struct ikev1_conf conf;

	side_policy(s, initiator, &name, 1, roots, n_roots, false, IKEV2_ID_DER_ASN1_DN);
	s->pol.mm[0] = mm_v1;
	s->pol.qm[0] = qm_v1;
	ikev1_conf_default(&conf);
	conf.lookup = lookup;
	conf.lookup_ctx = s;
	s->e1 = ikev1_engine_new(&conf, &err);
	ck_assert_msg(s->e1 != NULL, "%s", err.msg);
}

START_TEST(ikev1_certificates_authenticate)
{
	const char *roots[] = { ROOT_B, ROOT_A };
	struct peer_side i, r;

	side_init_v1(&i, true, "i_rsa", roots, 2);
	side_init_v1(&r, false, "r_rsa", roots + 1, 1);
	negotiate(&i, &r);
	ck_assert_msg(i.ike_up == 1 && r.ike_up == 1, "not up: %s / %s", i.reason, r.reason);
	ck_assert_int_eq(i.child_up, 1);
	ck_assert_int_eq(r.child_up, 1);
	pair_agrees(&i.child, &r.child);
	ck_assert(ike_id_matches(&r.pol.local_id, &i.peer_id)); /* the subject DNs */
	ck_assert(ike_id_matches(&i.pol.local_id, &r.peer_id));
	ck_assert_uint_eq(spy.seen[1].method, IKEV1_AUTH_RSA_SIG);
	ck_assert(saw_cert(&spy.seen[1], "i_rsa"));
	ck_assert(saw_cert(&spy.seen[0], "r_rsa"));
	side_free(&i);
	side_free(&r);
}
END_TEST

START_TEST(ikev1_untrusted_ca_refused)
{
	const char *i_roots[] = { path("rogue.pem") }, *r_roots[] = { ROOT_A, ROOT_B };
	struct peer_side i, r;

	side_init_v1(&i, true, "i_rogue", i_roots, 1);
	side_init_v1(&r, false, "r_rsa", r_roots, 2);
	negotiate(&i, &r);
	ck_assert_int_eq(i.ike_up + r.ike_up, 0);
	ck_assert_int_eq(r.failed, 1);
	ck_assert_msg(strstr(r.reason, "CN=i_rogue,O=dpsec test chains to no trusted root CA"), "%s", r.reason);
	ck_assert_uint_eq(r.notify, ISAKMP_N_AUTHENTICATION_FAILED);
	ck_assert_uint_eq(ikev1_engine_stats(r.e1)->n[IKEV1_STAT_AUTH_FAILURES], 1);
	ck_assert_int_eq(i.failed, 1); /* told by the responder's AUTHENTICATION-FAILED */
	ck_assert_uint_eq(i.notify, ISAKMP_N_AUTHENTICATION_FAILED);
	side_free(&i);
	side_free(&r);
}
END_TEST

/* The initiator's make, with the SIG's last byte flipped. */
static const struct ike_auth_ops *honest_ops;

static int tampered_make(const struct ike_auth_conf *c, const struct ike_auth_octets *o, uint8_t *method,
			 uint8_t *out, size_t cap, size_t *len, struct ike_err *err)
{
	int rc = honest_ops->make(c, o, method, out, cap, len, err);

	if (rc == 0)
		out[*len - 1] ^= 1;
	return rc;
}

START_TEST(ikev1_tampered_sig_refused)
{
	const char *roots[] = { ROOT_A };
	struct ike_auth_ops tampering;
	struct peer_side i, r;

	side_init_v1(&i, true, "i_rsa", roots, 1);
	side_init_v1(&r, false, "r_rsa", roots, 1);
	honest_ops = i.pol.local_auth.ops;
	tampering = *honest_ops;
	tampering.make = tampered_make;
	i.pol.local_auth.ops = &tampering;
	negotiate(&i, &r);
	ck_assert_int_eq(i.ike_up + r.ike_up, 0);
	ck_assert_msg(strstr(r.reason, "SIG does not verify"), "%s", r.reason);
	ck_assert_uint_eq(r.notify, ISAKMP_N_INVALID_SIGNATURE);
	ck_assert_uint_eq(ikev1_engine_stats(r.e1)->n[IKEV1_STAT_AUTH_FAILURES], 1);
	ck_assert_uint_eq(i.notify, ISAKMP_N_INVALID_SIGNATURE);
	side_free(&i);
	side_free(&r);
}
END_TEST

static int no_certs(const struct ike_auth_conf *c, const struct ike_auth_octets *o,
		    struct ike_chunk *out, size_t cap, struct ike_err *err)
{
	(void)c, (void)o, (void)out, (void)cap, (void)err;
	return 0;
}

START_TEST(ikev1_no_certificate_refused)
{
	const char *roots[] = { ROOT_A };
	struct ike_auth_ops certless;
	struct peer_side i, r;

	side_init_v1(&i, true, "i_rsa", roots, 1);
	side_init_v1(&r, false, "r_rsa", roots, 1);
	certless = *i.pol.local_auth.ops;
	certless.certs = no_certs; /* SIG without a CERT payload */
	i.pol.local_auth.ops = &certless;
	negotiate(&i, &r);
	ck_assert_int_eq(i.ike_up + r.ike_up, 0);
	ck_assert_msg(strstr(r.reason, "the peer sent no certificate"), "%s", r.reason);
	ck_assert_uint_eq(r.notify, ISAKMP_N_AUTHENTICATION_FAILED);
	ck_assert_uint_eq(ikev1_engine_stats(r.e1)->n[IKEV1_STAT_AUTH_FAILURES], 1);
	side_free(&i);
	side_free(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ike_cert_ikev1");
	TCase *t = pki_tcase("ikev1");

	tcase_add_test(t, ikev1_certificates_authenticate);
	tcase_add_test(t, ikev1_untrusted_ca_refused);
	tcase_add_test(t, ikev1_tampered_sig_refused);
	tcase_add_test(t, ikev1_no_certificate_refused);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return check_run(suite());
}
