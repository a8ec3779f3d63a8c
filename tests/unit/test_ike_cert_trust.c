/* test_ike_cert_trust.c - certificate chains and a rule's trust
 * (ike_cert.h) against the PKI of ike_cert_world.h: a chain and the root
 * it ends at; expired, not yet valid, unknown CA; revocation at levels 0,
 * 1 and 2, with a CRL missing or none at all; the identities in a
 * certificate, right and wrong; the CERTREQ hashes of the roots, in order,
 * against the openssl command; unreadable and wrong files named. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ike_cert.h"
#include "ikev2_msg.h"
#include "ike_cert_world.h"
#include "check_run.h"

/* ---- chains, revocation, identities ------------------------------------ */

/* Validates NAME.pem against trust; 0 or the error (message in err). */
static int verify(const char *name, const char *const *roots, size_t n_roots,
		  const char *const *crls, size_t n_crls, int level, size_t *root, struct ike_err *err)
{
	struct ike_trust *t;
	struct ike_certchain c;
	char file[64];
	size_t r = 99;
	int rc;

	snprintf(file, sizeof(file), "%s.pem", name);
	ck_assert_int_eq(ike_trust_new(roots, n_roots, crls, n_crls, level, &t, err), 0);
	ck_assert_int_eq(ike_certchain_load(path(file), &c, err), 0);
	rc = ike_trust_verify(t, &c, &r, err);
	if (root)
		*root = r;
	ike_certchain_free(&c);
	ike_trust_free(t);
	return rc;
}

static void expect_fail(int rc, const struct ike_err *err, const char *text)
{
	ck_assert_int_eq(rc, -EACCES);
	ck_assert_msg(strstr(err->msg, text) != NULL, "\"%s\" lacks \"%s\"", err->msg, text);
}

START_TEST(chain_ok_and_the_root_it_ends_at)
{
	const char *one[] = { ROOT_A }, *two[] = { ROOT_B, ROOT_A };
	struct ike_err err = { 0 };
	size_t root;

	ck_assert_msg(verify("i_rsa", one, 1, NULL, 0, 0, &root, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(root, 0);
	ck_assert_int_eq(verify("i_rsa", two, 2, NULL, 0, 0, &root, &err), 0);
	ck_assert_uint_eq(root, 1); /* through the intermediate sent with it */
	ck_assert_int_eq(verify("r_ec", two, 2, NULL, 0, 0, &root, &err), 0);
	ck_assert_uint_eq(root, 0);
}
END_TEST

START_TEST(expired_not_yet_valid_unknown_ca)
{
	const char *roots[] = { ROOT_A, ROOT_B };
	struct ike_err err = { 0 };

	expect_fail(verify("expired", roots, 2, NULL, 0, 0, NULL, &err), &err, "CN=expired,O=dpsec test has expired");
	expect_fail(verify("notyet", roots, 2, NULL, 0, 0, NULL, &err), &err, "is not yet valid");
	expect_fail(verify("i_rogue", roots, 2, NULL, 0, 0, NULL, &err), &err, "chains to no trusted root CA");
	/* the RSA chain with only root B trusted */
	expect_fail(verify("i_rsa", roots + 1, 1, NULL, 0, 0, NULL, &err), &err, "chains to no trusted root CA");
}
END_TEST

START_TEST(revocation_levels)
{
	const char *roots[] = { ROOT_A };
	const char *both[] = { path("inter_a.crl"), path("root_a.crl") };
	const char *inter_only[] = { path("inter_a.crl") };
	const char *missing[] = { path("nowhere.crl"), path("inter_a.crl"), path("root_a.crl") };
	struct ike_err err = { 0 };

	/* level 0: no CRL looked at */
	ck_assert_int_eq(verify("revoked", roots, 1, both, 2, 0, NULL, &err), 0);
	/* levels 1 and 2: revoked fails, a good certificate passes */
	for (int level = 1; level <= 2; level++) {
		expect_fail(verify("revoked", roots, 1, both, 2, level, NULL, &err), &err, "CN=revoked,O=dpsec test is revoked");
		ck_assert_msg(verify("i_rsa", roots, 1, both, 2, level, NULL, &err) == 0, "%s", err.msg);
	}
	/* no CRL for the root's issuance of the intermediate: level 1 passes, 2 fails */
	ck_assert_msg(verify("i_rsa", roots, 1, inter_only, 1, 1, NULL, &err) == 0, "%s", err.msg);
	expect_fail(verify("i_rsa", roots, 1, inter_only, 1, 2, NULL, &err), &err,
		    "no CRL for the issuer of CN=Inter A,O=dpsec test (revocation level 2)");
	/* a CRL file that is not there: level 1 passes (and still sees a revocation), 2 fails */
	ck_assert_msg(verify("i_rsa", roots, 1, missing, 3, 1, NULL, &err) == 0, "%s", err.msg);
	expect_fail(verify("revoked", roots, 1, missing, 3, 1, NULL, &err), &err, "is revoked");
	expect_fail(verify("i_rsa", roots, 1, missing, 3, 2, NULL, &err), &err, "nowhere.crl: missing or unreadable");
	/* no CRL at all */
	ck_assert_int_eq(verify("i_rsa", roots, 1, NULL, 0, 1, NULL, &err), 0);
	expect_fail(verify("i_rsa", roots, 1, NULL, 0, 2, NULL, &err), &err, "no CRL for the issuer");
}
END_TEST

START_TEST(identities_in_the_certificate)
{
	struct ike_err err = { 0 };
	struct ike_certchain c, r;
	struct ike_id id, dn_r;
	struct dpsec_addr a = { .family = DPSEC_AF_INET, .a = { 192, 0, 2, 1 } };
	char text[96];

	ck_assert_int_eq(ike_certchain_load(path("i_rsa.pem"), &c, &err), 0);
	ck_assert_int_eq(ike_certchain_load(path("r_rsa.pem"), &r, &err), 0);
	ck_assert_int_eq(sk_X509_num(c.inter), 1);
	ike_id_fqdn(&id, "i.example", &err);
	ck_assert_int_eq(ike_cert_id_check(c.ee, &id, &err), 0);
	ike_id_rfc822(&id, "i@example.com", &err);
	ck_assert_int_eq(ike_cert_id_check(c.ee, &id, &err), 0);
	ike_id_addr(&id, &a, &err);
	ck_assert_int_eq(ike_cert_id_check(c.ee, &id, &err), 0);
	ck_assert_int_eq(ike_cert_id(c.ee, IKEV2_ID_DER_ASN1_DN, &id, &err), 0);
	ck_assert_int_eq(ike_cert_id_check(c.ee, &id, &err), 0);
	ike_id_describe(&id, text, sizeof(text)); /* as show mmsas prints it */
	ck_assert_str_eq(text, "DN CN=i_rsa,O=dpsec test");
	id.data[1] ^= 0x40; /* the SEQUENCE's length: no DN any more */
	ike_id_describe(&id, text, sizeof(text));
	ck_assert_str_eq(text, "DN (39 bytes)");
	ck_assert_int_eq(ike_cert_id(c.ee, IKEV2_ID_DER_ASN1_DN, &id, &err), 0);
	/* our own identities taken from the certificate */
	ck_assert_int_eq(ike_cert_id(c.ee, IKEV2_ID_FQDN, &id, &err), 0);
	ck_assert_int_eq(id.len, 9);
	ck_assert_int_eq(memcmp(id.data, "i.example", 9), 0);
	ck_assert_int_eq(ike_cert_id(c.ee, IKEV2_ID_IPV4_ADDR, &id, &err), 0);
	ck_assert_int_eq(memcmp(id.data, a.a, 4), 0);
	ck_assert_int_eq(ike_cert_id(c.ee, IKEV2_ID_IPV6_ADDR, &id, &err), -ENOENT);
	/* wrong identities */
	ike_id_fqdn(&id, "r.example", &err);
	expect_fail(ike_cert_id_check(c.ee, &id, &err), &err, "identity FQDN r.example is not in certificate CN=i_rsa");
	ike_id_fqdn(&id, "example", &err);
	ck_assert_int_eq(ike_cert_id_check(c.ee, &id, &err), -EACCES);
	a.a[3] = 2;
	ike_id_addr(&id, &a, &err);
	ck_assert_int_eq(ike_cert_id_check(c.ee, &id, &err), -EACCES);
	ck_assert_int_eq(ike_cert_id(r.ee, IKEV2_ID_DER_ASN1_DN, &dn_r, &err), 0);
	expect_fail(ike_cert_id_check(c.ee, &dn_r, &err), &err, "is not in certificate");
	ike_certchain_free(&c);
	ike_certchain_free(&r);
}
END_TEST

START_TEST(certreq_hashes_of_the_roots_in_order)
{
	const char *roots[] = { ROOT_B, ROOT_A };
	struct ike_err err = { 0 };
	struct ike_trust *t;
	uint8_t id[IKE_CERT_KEYID_LEN];
	char cmd[512], want[128], got[2 * IKE_CERT_KEYID_LEN + 1];

	ck_assert_int_eq(ike_trust_new(roots, 2, NULL, 0, 0, &t, &err), 0);
	for (size_t i = 0; i < 2; i++) {
		ck_assert_int_eq(ike_trust_keyid(t, i, id, &err), 0);
		for (size_t k = 0; k < sizeof(id); k++)
			sprintf(got + 2 * k, "%02x", id[k]);
		snprintf(cmd, sizeof(cmd),
			 OPENSSL_BIN " x509 -in %s -noout -pubkey | " OPENSSL_BIN
			 " pkey -pubin -outform DER | " OPENSSL_BIN " dgst -sha1 -r | cut -d' ' -f1",
			 roots[i]);
		run_cmd(cmd, want, sizeof(want));
		ck_assert_str_eq(got, want);
	}
	ike_trust_free(t);
}
END_TEST

START_TEST(bad_files_named)
{
	const char *roots[] = { path("nowhere.pem") }, *junk[] = { path("inter_a.crl") };
	struct ike_chunk der5[5] = { IKE_CHUNK("", 0) };
	struct ike_err err = { 0 };
	struct ike_trust *t;
	struct ike_certchain c;

	ck_assert_int_eq(ike_trust_new(roots, 1, NULL, 0, 0, &t, &err), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "nowhere.pem: cannot open"));
	ck_assert_int_eq(ike_trust_new(junk, 1, NULL, 0, 0, &t, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "no PEM certificate"));
	ck_assert_int_eq(ike_trust_new(junk, 1, NULL, 0, 3, &t, &err), -EINVAL);
	ck_assert_int_eq(ike_certchain_load(path("i_rsa.key"), &c, &err), -EINVAL);
	ck_assert_int_eq(ike_certchain_from_der(&IKE_CHUNK("\x30\x03\x02\x01\x01", 5), 1, &c, &err), -EBADMSG);
	ck_assert_int_eq(ike_certchain_from_der(der5, 5, &c, &err), -EBADMSG); /* too many: nothing leaks */
	ck_assert_int_eq(ike_certchain_from_der(der5, 0, &c, &err), -EBADMSG);
	ike_certchain_free(&c);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ike_cert_trust");
	TCase *t = pki_tcase("trust");

	tcase_add_test(t, chain_ok_and_the_root_it_ends_at);
	tcase_add_test(t, expired_not_yet_valid_unknown_ca);
	tcase_add_test(t, revocation_levels);
	tcase_add_test(t, identities_in_the_certificate);
	tcase_add_test(t, certreq_hashes_of_the_roots_in_order);
	tcase_add_test(t, bad_files_named);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return check_run(suite());
}
