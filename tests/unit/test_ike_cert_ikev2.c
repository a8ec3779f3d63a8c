/* test_ike_cert_ikev2.c - the certificate method (ike_cert_auth) and two
 * IKEv2 engines authenticating with it: the certificate sent chosen by
 * the peer's CERTREQ (IKEv2's key hashes, IKEv1's DNs); our own
 * certificate checked when the method is built, and no signing without a
 * key process; RSA PKCS#1 v1.5 and PSS (RFC 7427) and ECDSA certificates,
 * each side's check seeing method 14, the expected algorithm and the
 * other's certificate; an untrusted CA and an identity not in the
 * certificate failing. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ike_cert.h"
#include "ikev2.h"
#include "ikev2_msg.h"
#include "ike_cert_world.h"
#include "check_run.h"

/* ---- the certificate method: what CERTREQ chooses, ours checked -------- */

START_TEST(certificate_chosen_by_the_peers_certreq)
{
	const char *certs[] = { path("r_ec.pem"), path("r_rsa.pem") }, *roots[] = { ROOT_A, ROOT_B };
	const char *names[] = { "r_ec", "r_rsa" };
	uint16_t handles[] = { 0, 1 };
	struct ike_cert_auth_conf cc = { certs, handles, 2, keyproc_of(names, 2), roots, 2, NULL, 0, 0, false };
	struct ike_cert_auth *ca;
	struct ike_trust *t;
	struct ike_err err = { 0 };
	uint8_t a[IKE_CERT_KEYID_LEN], b[IKE_CERT_KEYID_LEN], ab[2 * IKE_CERT_KEYID_LEN];
	struct ike_chunk dn;

	ck_assert_msg(ike_cert_auth_new(&cc, &ca, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(ike_trust_new(roots, 2, NULL, 0, 0, &t, &err), 0);
	ike_trust_keyid(t, 0, a, &err);
	ike_trust_keyid(t, 1, b, &err);
	memcpy(ab, b, sizeof(b));
	memcpy(ab + sizeof(b), a, sizeof(a));
	ck_assert_int_eq(ike_cert_auth_choose(ca, IKE_CHUNK(b, sizeof(b)), false), 0); /* r_ec chains to B */
	ck_assert_int_eq(ike_cert_auth_choose(ca, IKE_CHUNK(a, sizeof(a)), false), 1); /* r_rsa to A */
	ck_assert_int_eq(ike_cert_auth_choose(ca, IKE_CHUNK(ab, sizeof(ab)), false), 0); /* ours in order */
	/* nothing asked, or only roots we do not know: the one of our first root */
	ck_assert_int_eq(ike_cert_auth_choose(ca, IKE_CHUNK(NULL, 0), false), 1);
	memset(ab, 0x5a, sizeof(ab));
	ck_assert_int_eq(ike_cert_auth_choose(ca, IKE_CHUNK(ab, sizeof(ab)), false), 1);
	/* IKEv1's CERTREQ: the roots' DNs */
	ck_assert_int_eq(ike_trust_dn(t, 1, &dn, &err), 0);
	ck_assert_int_eq(ike_cert_auth_choose(ca, dn, true), 0);
	OPENSSL_free((void *)dn.p);
	ck_assert_int_eq(ike_trust_dn(t, 0, &dn, &err), 0);
	ck_assert_int_eq(ike_cert_auth_choose(ca, dn, true), 1);
	ck_assert_int_eq(ike_cert_auth_choose(ca, IKE_CHUNK(dn.p, dn.len - 1), true), 1); /* cut short */
	OPENSSL_free((void *)dn.p);
	ike_trust_free(t);
	ike_cert_auth_free(ca);
	ike_keyproc_stop(cc.kp);
}
END_TEST

START_TEST(our_own_certificate_checked_at_load)
{
	const char *certs[] = { path("expired.pem") }, *roots[] = { ROOT_A };
	uint16_t handle = 0;
	struct ike_cert_auth_conf cc = { certs, &handle, 1, NULL, roots, 1, NULL, 0, 0, false };
	const char *names[] = { "r_rsa" };
	struct ike_cert_auth *ca;
	struct ike_err err = { 0 };
	struct ike_auth_conf conf;
	struct ike_auth_octets o = { .prf = 0 };
	uint8_t out[IKE_AUTH_DATA_MAX], method;
	size_t len;

	ck_assert_int_eq(ike_cert_auth_new(&cc, &ca, &err), -EINVAL); /* checked without a key process too */
	ck_assert_msg(strstr(err.msg, "has expired"), "%s", err.msg);
	cc.kp = keyproc_of(names, 1);
	ck_assert_int_eq(ike_cert_auth_new(&cc, &ca, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "expired.pem: certificate CN=expired,O=dpsec test has expired"), "%s", err.msg);
	certs[0] = path("r_ec.pem");
	ck_assert_int_eq(ike_cert_auth_new(&cc, &ca, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "chains to no trusted root CA"), "%s", err.msg);
	ike_keyproc_stop(cc.kp);
	/* built without a key process (dpsec-ctld --check): it cannot sign */
	cc.kp = NULL;
	certs[0] = path("r_rsa.pem");
	ck_assert_msg(ike_cert_auth_new(&cc, &ca, &err) == 0, "%s", err.msg);
	ike_auth_cert(&conf, ca);
	ck_assert_int_eq(conf.ops->make(&conf, &o, &method, out, sizeof(out), &len, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "certificate authentication: no key process to sign");
	ike_cert_auth_free(ca);
}
END_TEST

/* ---- two IKEv2 engines authenticating with certificates ----------------- */

/* An IKEv2 side: FQDN identities. */
static void side_init(struct peer_side *s, bool initiator, const char *const *names, size_t n,
		      const char *const *roots, size_t n_roots, bool pss)
{
	struct ike_err err = { 0 };
	struct ikev2_conf conf;

	side_policy(s, initiator, names, n, roots, n_roots, pss, IKEV2_ID_FQDN);
	ikev2_conf_default(&conf);
	conf.lookup = lookup;
	conf.lookup_ctx = s;
	s->e = ikev2_engine_new(&conf, &err);
	ck_assert_ptr_nonnull(s->e);
}

static void expect_up(struct peer_side *i, struct peer_side *r)
{
	struct ike_id want;
	struct ike_err err = { 0 };

	ck_assert_msg(i->ike_up == 1 && r->ike_up == 1, "not up: %s / %s", i->reason, r->reason);
	ck_assert_int_eq(i->child_up, 1);
	ck_assert_int_eq(r->child_up, 1);
	ike_id_fqdn(&want, "r.example", &err);
	ck_assert(ike_id_matches(&want, &i->peer_id));
	ike_id_fqdn(&want, "i.example", &err);
	ck_assert(ike_id_matches(&want, &r->peer_id));
}

/* Each side's certificates and the roots it trusts ("BA": root B, then
 * A); which of its certificates the responder sends (chosen by the
 * initiator's CERTREQ), the algorithm of the initiator's AUTH. */
static const struct {
	const char *i_cert, *i_roots, *r_certs[2], *r_roots, *r_sends;
	bool pss;
	int aid_nid;
} auth_cases[] = {
	{ "i_rsa", "AB", { "r_ec" }, "BA", "r_ec", false, NID_sha256WithRSAEncryption },
	{ "i_rsa", "A", { "r_rsa" }, "A", "r_rsa", true, NID_rsassaPss },
	{ "i_ec384", "BA", { "r_rsa" }, "AB", "r_rsa", false, NID_ecdsa_with_SHA256 },
	/* the responder has both: the initiator's CERTREQ decides */
	{ "i_rsa", "A", { "r_ec", "r_rsa" }, "BA", "r_rsa", false, NID_sha256WithRSAEncryption },
	{ "i_ec384", "B", { "r_rsa", "r_ec" }, "AB", "r_ec", false, NID_ecdsa_with_SHA256 },
};

static size_t roots_of(const char *which, const char **out)
{
	size_t n = 0;

	for (; which[n]; n++)
		out[n] = which[n] == 'A' ? ROOT_A : ROOT_B;
	return n;
}

START_TEST(ikev2_certificates_authenticate)
{
	const char *i_roots[2], *r_roots[2];
	struct peer_side i, r;
	size_t n_r = auth_cases[_i].r_certs[1] ? 2 : 1;

	side_init(&i, true, &auth_cases[_i].i_cert, 1, i_roots, roots_of(auth_cases[_i].i_roots, i_roots),
		  auth_cases[_i].pss);
	side_init(&r, false, auth_cases[_i].r_certs, n_r, r_roots,
		  roots_of(auth_cases[_i].r_roots, r_roots), auth_cases[_i].pss);
	negotiate(&i, &r);
	expect_up(&i, &r);
	ck_assert_uint_eq(spy.seen[1].method, IKEV2_AUTH_DIGITAL_SIG);
	ck_assert_int_eq(spy.seen[1].aid_nid, auth_cases[_i].aid_nid);
	ck_assert(saw_cert(&spy.seen[1], auth_cases[_i].i_cert));
	ck_assert_uint_eq(spy.seen[0].method, IKEV2_AUTH_DIGITAL_SIG);
	ck_assert_msg(saw_cert(&spy.seen[0], auth_cases[_i].r_sends), "the responder sent another certificate");
	side_free(&i);
	side_free(&r);
}
END_TEST

START_TEST(ikev2_untrusted_ca_fails)
{
	const char *i_roots[] = { path("rogue.pem") }, *r_roots[] = { ROOT_A, ROOT_B };
	struct peer_side i, r;

	side_init(&i, true, (const char *[]){ "i_rogue" }, 1, i_roots, 1, false);
	side_init(&r, false, (const char *[]){ "r_rsa" }, 1, r_roots, 2, false);
	negotiate(&i, &r);
	ck_assert_int_eq(i.ike_up + r.ike_up, 0);
	ck_assert_int_eq(r.failed, 1);
	ck_assert_msg(strstr(r.reason, "CN=i_rogue,O=dpsec test chains to no trusted root CA"), "%s", r.reason);
	ck_assert_int_eq(i.failed, 1);
	ck_assert_msg(strstr(i.reason, "AUTHENTICATION_FAILED"), "%s", i.reason);
	ck_assert_uint_eq(ikev2_engine_stats(r.e)->n[IKEV2_STAT_AUTH_FAILURES], 1);
	side_free(&i);
	side_free(&r);
}
END_TEST

START_TEST(ikev2_identity_not_in_the_certificate_fails)
{
	const char *roots[] = { ROOT_A };
	struct peer_side i, r;
	struct ike_err err = { 0 };

	side_init(&i, true, (const char *[]){ "i_rsa" }, 1, roots, 1, false);
	side_init(&r, false, (const char *[]){ "r_rsa" }, 1, roots, 1, false);
	ike_id_fqdn(&i.pol.local_id, "x.example", &err);
	negotiate(&i, &r);
	ck_assert_int_eq(i.ike_up + r.ike_up, 0);
	ck_assert_msg(strstr(r.reason, "identity FQDN x.example is not in certificate CN=i_rsa"), "%s", r.reason);
	side_free(&i);
	side_free(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ike_cert_ikev2");
	TCase *t = pki_tcase("ikev2");

	tcase_add_test(t, certificate_chosen_by_the_peers_certreq);
	tcase_add_test(t, our_own_certificate_checked_at_load);
	tcase_add_loop_test(t, ikev2_certificates_authenticate, 0, sizeof(auth_cases) / sizeof(auth_cases[0]));
	tcase_add_test(t, ikev2_untrusted_ca_fails);
	tcase_add_test(t, ikev2_identity_not_in_the_certificate_fails);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return check_run(suite());
}
