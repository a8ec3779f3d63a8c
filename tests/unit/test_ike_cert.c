/* test_ike_cert.c - certificate authentication: the test makes its own PKI
 * with OpenSSL's API (RSA and ECDSA roots, an intermediate, end entities
 * valid, expired, not yet valid, revoked, from an untrusted CA, and CRLs),
 * then checks chain validation and revocation levels 0/1/2, identities,
 * the CERTREQ key hashes and the key process (signatures checked by the
 * openssl command, an independent verifier; malformed requests answered
 * with errors), and runs two IKEv2 engines authenticating with RSA
 * (PKCS#1 v1.5 and PSS, RFC 7427) and ECDSA certificates, and failing
 * with a certificate from an untrusted CA; and two IKEv1 engines through
 * Main Mode with RSA signatures (RFC 2409 §5.1) and Quick Mode, refusing a
 * certificate from an untrusted CA, a tampered SIG and a SIG without CERT. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "ike_cert.h"
#include "ike_dh.h"
#include "ike_keyproc.h"
#include "ike_sig.h"
#include "ike_pair.h"
#include "ikev1.h"
#include "ikev2.h"
#include "ikev2_msg.h"
#include "isakmp_msg.h"
#include "check_run.h"

#define DAY (24 * 3600L)

/* ---- the test PKI ------------------------------------------------------ */

static char dir[64];
static char root_a[128], root_b[128]; /* the two trusted roots' files */

/* DIR/name, in one of 32 buffers used in turn: enough for one test's names. */
static const char *path(const char *name)
{
	static char buf[32][128];
	static int next;
	char *p = buf[next++ % 32];

	snprintf(p, 128, "%s/%s", dir, name);
	return p;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ck_assert_ptr_nonnull(ext);
	ck_assert_int_eq(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* A certificate for key, signed by issuer (NULL: self-signed), valid from
 * `from` to `to` seconds from now. */
static X509 *cert_make(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, bool ca,
		       long from, long to, const char *san, long serial)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_get_subject_name(x);

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"dpsec test", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	add_ext(x, issuer ? issuer : x, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
	if (ca)
		add_ext(x, issuer ? issuer : x, NID_key_usage, "critical,keyCertSign,cRLSign");
	add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash");
	if (san)
		add_ext(x, issuer ? issuer : x, NID_subject_alt_name, san);
	ck_assert_int_gt(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()), 0);
	return x;
}

static void pem_write(const char *name, X509 *a, X509 *b, EVP_PKEY *key)
{
	FILE *f = fopen(path(name), "w");

	ck_assert_ptr_nonnull(f);
	if (a)
		PEM_write_X509(f, a);
	if (b)
		PEM_write_X509(f, b);
	if (key)
		PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
}

static void crl_write(const char *name, X509 *ca, EVP_PKEY *ca_key, long revoked)
{
	X509_CRL *c = X509_CRL_new();
	ASN1_TIME *t = X509_gmtime_adj(NULL, -3600);
	FILE *f = fopen(path(name), "w");

	X509_CRL_set_version(c, 1);
	X509_CRL_set_issuer_name(c, X509_get_subject_name(ca));
	X509_CRL_set1_lastUpdate(c, t);
	X509_gmtime_adj(t, DAY);
	X509_CRL_set1_nextUpdate(c, t);
	if (revoked) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *s = ASN1_INTEGER_new();

		ASN1_INTEGER_set(s, revoked);
		X509_REVOKED_set_serialNumber(r, s);
		X509_REVOKED_set_revocationDate(r, t);
		X509_CRL_add0_revoked(c, r);
		ASN1_INTEGER_free(s);
	}
	X509_CRL_sort(c);
	ck_assert_int_gt(X509_CRL_sign(c, ca_key, EVP_sha256()), 0);
	PEM_write_X509_CRL(f, c);
	fclose(f);
	ASN1_TIME_free(t);
	X509_CRL_free(c);
}

/* An end entity: NAME.pem (with intermediate `with`), NAME.key. */
static void ee_write(const char *name, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
		     X509 *with, long from, long to, const char *san, long serial)
{
	char n[64];
	X509 *x = cert_make(name, key, issuer, issuer_key, false, from, to, san, serial);

	snprintf(n, sizeof(n), "%s.pem", name);
	pem_write(n, x, with, NULL);
	snprintf(n, sizeof(n), "%s.key", name);
	pem_write(n, NULL, NULL, key);
	X509_free(x);
}

#define SAN_I "DNS:i.example,email:i@example.com,IP:192.0.2.1"
#define SAN_R "DNS:r.example,IP:198.51.100.1"

static void pki_make(void)
{
	EVP_PKEY *ka = EVP_RSA_gen(2048), *ki = EVP_RSA_gen(2048), *kb = EVP_EC_gen("P-256");
	EVP_PKEY *ku = EVP_RSA_gen(2048), *k1 = EVP_RSA_gen(2048), *k2 = EVP_RSA_gen(2048);
	EVP_PKEY *ke = EVP_EC_gen("P-256"), *ke384 = EVP_EC_gen("P-384");
	X509 *ca_a = cert_make("Root A", ka, NULL, NULL, true, -DAY, 30 * DAY, NULL, 1);
	X509 *inter = cert_make("Inter A", ki, ca_a, ka, true, -DAY, 30 * DAY, NULL, 2);
	X509 *ca_b = cert_make("Root B", kb, NULL, NULL, true, -DAY, 30 * DAY, NULL, 3);
	X509 *rogue = cert_make("Rogue Root", ku, NULL, NULL, true, -DAY, 30 * DAY, NULL, 4);

	strcpy(dir, "/tmp/dpsec-cert-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	pem_write("root_a.pem", ca_a, NULL, NULL);
	pem_write("root_b.pem", ca_b, NULL, NULL);
	snprintf(root_a, sizeof(root_a), "%s/root_a.pem", dir);
	snprintf(root_b, sizeof(root_b), "%s/root_b.pem", dir);
	pem_write("rogue.pem", rogue, NULL, NULL);
	ee_write("i_rsa", k1, inter, ki, inter, -DAY, 30 * DAY, SAN_I, 10);
	ee_write("r_rsa", k2, inter, ki, inter, -DAY, 30 * DAY, SAN_R, 11);
	ee_write("r_ec", ke, ca_b, kb, NULL, -DAY, 30 * DAY, SAN_R, 12);
	ee_write("i_ec384", ke384, ca_b, kb, NULL, -DAY, 30 * DAY, SAN_I, 13);
	ee_write("i_rogue", k1, rogue, ku, NULL, -DAY, 30 * DAY, SAN_I, 14);
	ee_write("expired", k1, inter, ki, inter, -2 * DAY, -DAY, SAN_I, 15);
	ee_write("notyet", k1, inter, ki, inter, DAY, 2 * DAY, SAN_I, 16);
	ee_write("revoked", k1, inter, ki, inter, -DAY, 30 * DAY, SAN_I, 17);
	crl_write("inter_a.crl", inter, ki, 17);
	crl_write("root_a.crl", ca_a, ka, 0);
	pem_write("other.key", NULL, NULL, k2);
	X509_free(ca_a), X509_free(inter), X509_free(ca_b), X509_free(rogue);
	EVP_PKEY_free(ka), EVP_PKEY_free(ki), EVP_PKEY_free(kb), EVP_PKEY_free(ku);
	EVP_PKEY_free(k1), EVP_PKEY_free(k2), EVP_PKEY_free(ke), EVP_PKEY_free(ke384);
}

static void pki_remove(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

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

#define ROOT_A root_a
#define ROOT_B root_b

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

/* Output of a shell command, trimmed. */
static void run_cmd(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	size_t n;

	ck_assert_ptr_nonnull(p);
	n = fread(out, 1, cap - 1, p);
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	ck_assert_int_eq(pclose(p), 0);
}

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

/* ---- the key process ---------------------------------------------------- */

static struct ike_keyproc *keyproc_of(const char *const *names, size_t n)
{
	struct ike_keyproc_key keys[4];
	static char files[8][128];
	struct ike_keyproc *kp;
	struct ike_err err = { 0 };

	for (size_t i = 0; i < n; i++) {
		snprintf(files[2 * i], 128, "%s/%s.pem", dir, names[i]);
		snprintf(files[2 * i + 1], 128, "%s/%s.key", dir, names[i]);
		keys[i] = (struct ike_keyproc_key){ files[2 * i], files[2 * i + 1] };
	}
	ck_assert_msg(ike_keyproc_start(keys, n, &kp, &err) == 0, "%s", err.msg);
	return kp;
}

static void file_write(const char *name, const uint8_t *p, size_t len)
{
	FILE *f = fopen(path(name), "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, len, f), len);
	fclose(f);
}

/* openssl pkeyutl -verify of sig over the len bytes of digest with NAME's
 * certificate key, with the options given (the digest, the padding). */
static bool openssl_verifies(const char *name, const uint8_t *digest, size_t len, const uint8_t *sig,
			     size_t sig_len, const char *opts)
{
	char cmd[1024], out[256];

	file_write("digest.bin", digest, len);
	file_write("sig.bin", sig, sig_len);
	snprintf(cmd, sizeof(cmd), OPENSSL_BIN " x509 -in %s/%s.pem -noout -pubkey > %s/pub.pem && "
		 OPENSSL_BIN " pkeyutl -verify -pubin -inkey %s/pub.pem -in %s/digest.bin -sigfile %s/sig.bin "
		 "%s 2>&1; true", dir, name, dir, dir, dir, dir, opts);
	run_cmd(cmd, out, sizeof(out));
	return strstr(out, "Signature Verified Successfully") != NULL;
}

#define SHA256_OPT "-pkeyopt digest:sha256 "
#define PSS_OPTS SHA256_OPT "-pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32"

START_TEST(key_process_signs_and_openssl_verifies)
{
	const char *names[] = { "i_rsa", "r_ec" };
	struct ike_keyproc *kp = keyproc_of(names, 2);
	uint8_t digest[32], sig[IKE_KEYPROC_SIG_MAX];
	struct ike_err err = { 0 };
	size_t len;

	for (size_t i = 0; i < sizeof(digest); i++)
		digest[i] = (uint8_t)(i * 7 + 1);
	ck_assert_int_eq(ike_keyproc_sign(kp, 0, IKE_SIG_RSA_PKCS1, IKE_HASH_SHA256, digest, 32, sig,
					  sizeof(sig), &len, &err), 0);
	ck_assert_uint_eq(len, 256);
	ck_assert(openssl_verifies("i_rsa", digest, 32, sig, len, SHA256_OPT));
	sig[10] ^= 1;
	ck_assert(!openssl_verifies("i_rsa", digest, 32, sig, len, SHA256_OPT)); /* the check can fail */
	ck_assert_int_eq(ike_keyproc_sign(kp, 0, IKE_SIG_RSA_PSS, IKE_HASH_SHA256, digest, 32, sig,
					  sizeof(sig), &len, &err), 0);
	ck_assert(openssl_verifies("i_rsa", digest, 32, sig, len, PSS_OPTS));
	ck_assert(!openssl_verifies("i_rsa", digest, 32, sig, len, SHA256_OPT)); /* PSS is not PKCS#1 v1.5 */
	ck_assert_int_eq(ike_keyproc_sign(kp, 1, IKE_SIG_ECDSA, IKE_HASH_SHA256, digest, 32, sig,
					  sizeof(sig), &len, &err), 0);
	ck_assert(openssl_verifies("r_ec", digest, 32, sig, len, SHA256_OPT));
	ck_assert(!openssl_verifies("i_rsa", digest, 32, sig, len, SHA256_OPT));
	/* IKEv1's SIG: PKCS#1 v1.5 over HASH_I itself, no DigestInfo */
	ck_assert_int_eq(ike_keyproc_sign(kp, 0, IKE_SIG_RSA_PKCS1, IKE_HASH_NONE, digest, 20, sig,
					  sizeof(sig), &len, &err), 0);
	ck_assert(openssl_verifies("i_rsa", digest, 20, sig, len, ""));
	ck_assert(!openssl_verifies("i_rsa", digest, 20, sig, len, "-pkeyopt digest:sha1"));
	ike_keyproc_stop(kp);
}
END_TEST

/* A raw request on the key process's socket and its answer. */
static int raw_request(struct ike_keyproc *kp, const void *req, size_t len, char *text)
{
	struct ike_keyproc_resp r;
	ssize_t n;

	ck_assert_int_eq(send(ike_keyproc_fd(kp), req, len, 0), (ssize_t)len);
	n = recv(ike_keyproc_fd(kp), &r, sizeof(r), 0);
	ck_assert_int_ge(n, (ssize_t)offsetof(struct ike_keyproc_resp, data));
	snprintf(text, 200, "%.*s", r.status ? (int)r.len : 0, (const char *)r.data);
	return r.status;
}

START_TEST(key_process_refuses_malformed_requests)
{
	const char *names[] = { "i_rsa", "r_ec" };
	struct ike_keyproc *kp = keyproc_of(names, 2);
	struct ike_keyproc_req good = { IKE_KEYPROC_MAGIC, 0, IKE_SIG_RSA_PKCS1, IKE_HASH_SHA256, 32, { 1 } };
	struct ike_keyproc_req q;
	struct ike_err err = { 0 };
	uint8_t sig[IKE_KEYPROC_SIG_MAX];
	char text[200];
	size_t len;

	ck_assert_int_eq(raw_request(kp, &good, sizeof(good), text), 0);
	ck_assert_int_eq(raw_request(kp, &good, 5, text), -EINVAL);
	ck_assert_str_eq(text, "request of 5 bytes, expected 76");
	q = good, q.magic = 7;
	ck_assert_int_eq(raw_request(kp, &q, sizeof(q), text), -EINVAL);
	ck_assert_ptr_nonnull(strstr(text, "bad magic"));
	q = good, q.handle = 2;
	ck_assert_int_eq(raw_request(kp, &q, sizeof(q), text), -EINVAL);
	ck_assert_str_eq(text, "key handle 2: only 2 keys");
	q = good, q.scheme = IKE_SIG_ECDSA;
	ck_assert_int_eq(raw_request(kp, &q, sizeof(q), text), -EINVAL);
	ck_assert_ptr_nonnull(strstr(text, "does not fit key 0 (RSA)"));
	q = good, q.scheme = 9;
	ck_assert_int_eq(raw_request(kp, &q, sizeof(q), text), -EINVAL);
	q = good, q.hash = 9;
	ck_assert_int_eq(raw_request(kp, &q, sizeof(q), text), -EINVAL);
	q = good, q.len = 31;
	ck_assert_int_eq(raw_request(kp, &q, sizeof(q), text), -EINVAL);
	ck_assert_str_eq(text, "digest of 31 bytes for hash 2");
	q = good, q.len = 65535;
	ck_assert_int_eq(raw_request(kp, &q, sizeof(q), text), -EINVAL);
	q = good, q.scheme = IKE_SIG_RSA_PSS, q.hash = IKE_HASH_NONE;
	ck_assert_int_eq(raw_request(kp, &q, sizeof(q), text), -EINVAL);
	/* still serving, through the client too */
	ck_assert_int_eq(ike_keyproc_sign(kp, 1, IKE_SIG_ECDSA, IKE_HASH_SHA256, good.digest, 32, sig,
					  sizeof(sig), &len, &err), 0);
	ck_assert_int_eq(ike_keyproc_sign(kp, 1, IKE_SIG_RSA_PSS, IKE_HASH_SHA256, good.digest, 32, sig,
					  sizeof(sig), &len, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "key process: signature scheme 2 does not fit key 1 (EC)"));
	ike_keyproc_stop(kp);
}
END_TEST

START_TEST(key_process_load_errors_named)
{
	char cert[128], key[128];
	struct ike_keyproc_key k = { cert, key };
	struct ike_keyproc *kp;
	struct ike_err err = { 0 };

	snprintf(cert, sizeof(cert), "%s/i_rsa.pem", dir);
	snprintf(key, sizeof(key), "%s/none.key", dir);
	ck_assert_int_eq(ike_keyproc_start(&k, 1, &kp, &err), -ENOENT);
	ck_assert_msg(strstr(err.msg, "i_rsa.pem has no private key: ") && strstr(err.msg, "none.key"), "%s", err.msg);
	snprintf(key, sizeof(key), "%s/other.key", dir);
	ck_assert_int_eq(ike_keyproc_start(&k, 1, &kp, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "other.key is not the private key of certificate"), "%s", err.msg);
	ck_assert_int_eq(ike_keyproc_start(&k, 0, &kp, &err), -EINVAL);
}
END_TEST

START_TEST(key_process_exits_when_its_socket_closes)
{
	const char *names[] = { "r_ec" };
	struct ike_keyproc *kp = keyproc_of(names, 1);
	pid_t pid = ike_keyproc_pid(kp);
	int status;

	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(shutdown(ike_keyproc_fd(kp), SHUT_WR), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid); /* it ends by itself */
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(close(ike_keyproc_fd(kp)), 0);
	free(kp); /* already reaped: ike_keyproc_stop() would wait again */
}
END_TEST

/* A key process that stops answering fails the request after its timeout
 * and is stopped: the caller never hangs. */
START_TEST(key_process_that_hangs_is_given_up)
{
	const char *names[] = { "r_ec" };
	struct ike_keyproc *kp = keyproc_of(names, 1);
	uint8_t digest[32] = { 0 }, sig[IKE_KEYPROC_SIG_MAX];
	struct ike_err err = { 0 };
	pid_t pid = ike_keyproc_pid(kp);
	size_t len;

	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	ck_assert_int_eq(ike_keyproc_sign(kp, 0, IKE_SIG_ECDSA, IKE_HASH_SHA256, digest, 32, sig,
					  sizeof(sig), &len, &err), -EIO);
	ck_assert_msg(strstr(err.msg, "the key process did not answer"), "%s", err.msg);
	ck_assert_int_eq(kill(pid, 0), -1); /* killed and reaped */
	ck_assert_int_eq(ike_keyproc_sign(kp, 0, IKE_SIG_ECDSA, IKE_HASH_SHA256, digest, 32, sig,
					  sizeof(sig), &len, &err), -EIO);
	ck_assert_str_eq(err.msg, "the key process is gone");
	ike_keyproc_stop(kp);
}
END_TEST

/* ---- signature AUTH data ------------------------------------------------ */

static EVP_PKEY *pubkey_of(const char *name, X509 **x)
{
	struct ike_certchain c;
	struct ike_err err = { 0 };
	char file[64];

	snprintf(file, sizeof(file), "%s.pem", name);
	ck_assert_int_eq(ike_certchain_load(path(file), &c, &err), 0);
	*x = c.ee;
	c.ee = NULL;
	ike_certchain_free(&c);
	return X509_get0_pubkey(*x);
}

START_TEST(signature_methods_round_trip)
{
	const char *names[] = { "i_rsa", "r_ec", "i_ec384" };
	struct ike_keyproc *kp = keyproc_of(names, 3);
	static const struct {
		uint16_t key;
		bool pss;
		uint16_t peer_hashes;
		uint8_t method;
		size_t len;        /* of the AUTH data, 0: not fixed */
	} cases[] = {
		{ 0, false, 0, IKEV2_AUTH_RSA_SIG, 256 },
		{ 1, false, 0, IKEV2_AUTH_ECDSA_256, 64 },
		{ 2, false, 0, IKEV2_AUTH_ECDSA_384, 96 },
		{ 0, false, IKE_SIG_HASHES, IKEV2_AUTH_DIGITAL_SIG, 1 + 15 + 256 },
		{ 0, true, 1u << IKE_HASH_SHA384, IKEV2_AUTH_DIGITAL_SIG, 1 + 67 + 256 },
		{ 1, false, IKE_SIG_HASHES, IKEV2_AUTH_DIGITAL_SIG, 0 },
	};
	struct ike_chunk octets[] = { IKE_CHUNK("message", 7), IKE_CHUNK("nonce", 5), IKE_CHUNK("id", 2) };
	struct ike_chunk other[] = { IKE_CHUNK("messagf", 7), IKE_CHUNK("nonce", 5), IKE_CHUNK("id", 2) };
	uint8_t out[IKE_AUTH_DATA_MAX], method;
	struct ike_err err = { 0 };
	X509 *x[3];
	EVP_PKEY *pub[3] = { pubkey_of("i_rsa", &x[0]), pubkey_of("r_ec", &x[1]), pubkey_of("i_ec384", &x[2]) };
	size_t len;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ike_signer s = { kp, cases[i].key, pub[cases[i].key], cases[i].pss };

		ck_assert_msg(ike_sig_make(&s, cases[i].peer_hashes, octets, 3, &method, out, sizeof(out),
					   &len, &err) == 0, "case %zu: %s", i, err.msg);
		ck_assert_uint_eq(method, cases[i].method);
		if (cases[i].len)
			ck_assert_uint_eq(len, cases[i].len);
		ck_assert_msg(ike_sig_check(pub[cases[i].key], method, out, len, octets, 3, &err) == 0,
			      "case %zu: %s", i, err.msg);
		ck_assert_int_eq(ike_sig_check(pub[cases[i].key], method, out, len, other, 3, &err), -EACCES);
		ck_assert_int_eq(ike_sig_check(pub[(cases[i].key + 1) % 3], method, out, len, octets, 3, &err) < 0, 1);
		out[len / 2] ^= 0x40;
		ck_assert_int_lt(ike_sig_check(pub[cases[i].key], method, out, len, octets, 3, &err), 0);
	}
	/* not a signature method; a method-14 payload cut short */
	ck_assert_int_eq(ike_sig_check(pub[0], 2, out, 10, octets, 3, &err), -EPROTO);
	ck_assert_int_eq(ike_sig_check(pub[0], IKEV2_AUTH_DIGITAL_SIG, out, 1, octets, 3, &err), -EACCES);
	for (int i = 0; i < 3; i++)
		X509_free(x[i]);
	ike_keyproc_stop(kp);
}
END_TEST

/* ---- two IKEv2 engines authenticating with certificates ----------------- */

struct peer_side {
	struct ikev2_engine *e;
	struct ikev1_engine *e1;       /* instead of e: an IKEv1 side */
	struct ike_child child;        /* the last child SA up */
	uint16_t notify;               /* of the last failure */
	struct ike_endpoint ep;
	struct ikev2_peer pol;
	struct ike_cert_auth *ca;
	struct ike_keyproc *kp;
	int ike_up, child_up, failed;
	struct ike_id peer_id;
	char reason[IKE_ERR_MSG_MAX];
};

/* What each side's check saw of the other's AUTH: the method, the
 * AlgorithmIdentifier's OID, the end-entity certificate; [0] the
 * initiator's check, [1] the responder's. Then the real check runs. */
struct seen {
	uint8_t method;
	int aid_nid;
	uint8_t cert[4096];
	size_t cert_len;
};

static struct {
	const struct ike_auth_ops *real;
	const void *initiator_ca;
	struct seen seen[2];
} spy;

static int spy_check(const struct ike_auth_conf *c, const struct ike_auth_octets *o, uint8_t method,
		     const uint8_t *data, size_t len, struct ike_err *err)
{
	struct seen *s = &spy.seen[c->ctx == spy.initiator_ca ? 0 : 1];
	struct ike_auth_conf real = *c;
	const unsigned char *p = data + 1;
	X509_ALGOR *alg;

	s->method = method;
	s->aid_nid = NID_undef;
	if (method == IKEV2_AUTH_DIGITAL_SIG && len > 1 && (alg = d2i_X509_ALGOR(NULL, &p, data[0]))) {
		s->aid_nid = OBJ_obj2nid(alg->algorithm);
		X509_ALGOR_free(alg);
	}
	s->cert_len = o->n_certs && o->certs[0].len <= sizeof(s->cert) ? o->certs[0].len : 0;
	if (s->cert_len) /* none when the peer sent no CERT */
		memcpy(s->cert, o->certs[0].p, s->cert_len);
	real.ops = spy.real;
	return spy.real->check(&real, o, method, data, len, err);
}

static struct ike_auth_ops spy_ops;

static int lookup(void *ctx, const struct ikev2_lookup *q, struct ikev2_peer *out)
{
	(void)q;
	*out = ((struct peer_side *)ctx)->pol;
	return 0;
}

static const struct ike_mm_method mm = {
	{ IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256 }, IKE_DH_ECP_256
};
static const struct ike_qm_method qm = {
	IKE_PROTO_ESP, DPSEC_ENC_AES_GCM_16, 32, DPSEC_INTEG_NONE, 0, false, 3600, 100000
};

static struct ike_ts_set ts_of(uint8_t net)
{
	struct dpsec_prefix p = { { .family = DPSEC_AF_INET, .a = { 10, net, 0, 0 } }, 16 };
	struct ike_ts_set s = { .n = 1 };

	s.ts[0] = ike_ts_from_prefix(&p);
	return s;
}

/* A side's policy with our certificates (their keys in a key process of
 * its own), the roots it trusts, RSA-PSS or not, an identity of id_type. */
static void side_policy(struct peer_side *s, bool initiator, const char *const *names, size_t n,
			const char *const *roots, size_t n_roots, bool pss, uint8_t id_type)
{
	char files[2][128];
	const char *certs[2] = { files[0], files[1] };
	uint16_t handles[2] = { 0, 1 };
	struct ike_cert_auth_conf cc = { certs, handles, n, NULL, roots, n_roots, NULL, 0, 0, pss };
	struct ike_err err = { 0 };

	memset(s, 0, sizeof(*s));
	for (size_t k = 0; k < n && k < 2; k++)
		snprintf(files[k], sizeof(files[k]), "%s/%s.pem", dir, names[k]);
	s->kp = cc.kp = keyproc_of(names, n);
	ck_assert_msg(ike_cert_auth_new(&cc, &s->ca, &err) == 0, "%s", err.msg);
	ike_auth_cert(&s->pol.local_auth, s->ca);
	ike_auth_cert(&s->pol.remote_auth, s->ca);
	ck_assert_int_eq(ike_cert_auth_id(s->ca, id_type, &s->pol.local_id, &err), 0);
	s->pol.n_mm = 1, s->pol.mm[0] = mm;
	s->pol.n_qm = 1, s->pol.qm[0] = qm;
	s->pol.ts_local = ts_of(initiator ? 1 : 2);
	s->pol.ts_remote = ts_of(initiator ? 2 : 1);
	s->ep = (struct ike_endpoint){ { .family = DPSEC_AF_INET, .a = { 192, 0, 2, initiator ? 1 : 2 } }, 500 };
}

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

static void side_free(struct peer_side *s)
{
	ikev1_engine_free(s->e1);
	ikev2_engine_free(s->e);
	ike_cert_auth_free(s->ca);
	ike_keyproc_stop(s->kp);
}

/* Takes s's events: datagrams go to `to`, the rest are counted. */
static bool pump(struct peer_side *s, struct peer_side *to)
{
	struct ikev2_event ev;
	struct ike_err err = { 0 };
	bool moved = false;

	while (s->e1 ? ikev1_next_event(s->e1, &ev) : ikev2_next_event(s->e, &ev)) {
		if (ev.kind == IKEV2_EV_SEND && to->e1) {
			ikev1_input(to->e1, ev.send.data, ev.send.len, &ev.send.remote, &ev.send.local, 1000, &err);
			moved = true;
		} else if (ev.kind == IKEV2_EV_SEND) {
			ikev2_input(to->e, ev.send.data, ev.send.len, &ev.send.remote, &ev.send.local, 1000, &err);
			moved = true;
		} else if (ev.kind == IKEV2_EV_IKE_UP) {
			s->ike_up++;
			s->peer_id = ev.up.peer_id;
		} else if (ev.kind == IKEV2_EV_CHILD_UP) {
			s->child_up++;
			s->child = *ev.child;
		} else if (ev.kind == IKEV2_EV_FAILED) {
			s->failed++;
			s->notify = ev.reason.notify;
			snprintf(s->reason, sizeof(s->reason), "%s", ev.reason.text);
		}
		ikev2_event_release(&ev);
	}
	return moved;
}

static void negotiate(struct peer_side *i, struct peer_side *r)
{
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };

	memset(&spy, 0, sizeof(spy));
	spy.real = r->pol.remote_auth.ops;
	spy.initiator_ca = i->ca;
	spy_ops = *spy.real;
	spy_ops.check = spy_check;
	r->pol.remote_auth.ops = &spy_ops;
	i->pol.remote_auth.ops = &spy_ops;
	if (i->e1)
		ck_assert_msg(ikev1_initiate(i->e1, &i->pol, &i->ep, &r->ep, 1000, &id, &err) == 0, "%s", err.msg);
	else
		ck_assert_msg(ikev2_initiate(i->e, &i->pol, &i->ep, &r->ep, 1000, &id, &err) == 0, "%s", err.msg);
	for (int round = 0; round < 10 && (pump(i, r) | pump(r, i)); round++)
		;
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

/* The DER of NAME's end-entity certificate equals what a check saw. */
static bool saw_cert(const struct seen *seen, const char *name)
{
	X509 *x;
	unsigned char *der = NULL;
	int len;
	bool same;

	pubkey_of(name, &x);
	len = i2d_X509(x, &der);
	same = len > 0 && (size_t)len == seen->cert_len && memcmp(der, seen->cert, seen->cert_len) == 0;
	OPENSSL_free(der);
	X509_free(x);
	return same;
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

/* ---- two IKEv1 engines: Main Mode with RSA signatures ------------------ */

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
	Suite *s = suite_create("ike_cert");
	TCase *t = tcase_create("cert");

	tcase_add_unchecked_fixture(t, pki_make, pki_remove);
	tcase_set_timeout(t, 120);
	tcase_add_test(t, chain_ok_and_the_root_it_ends_at);
	tcase_add_test(t, expired_not_yet_valid_unknown_ca);
	tcase_add_test(t, revocation_levels);
	tcase_add_test(t, identities_in_the_certificate);
	tcase_add_test(t, certreq_hashes_of_the_roots_in_order);
	tcase_add_test(t, bad_files_named);
	tcase_add_test(t, key_process_signs_and_openssl_verifies);
	tcase_add_test(t, key_process_refuses_malformed_requests);
	tcase_add_test(t, key_process_load_errors_named);
	tcase_add_test(t, key_process_exits_when_its_socket_closes);
	tcase_add_test(t, key_process_that_hangs_is_given_up);
	tcase_add_test(t, signature_methods_round_trip);
	tcase_add_test(t, certificate_chosen_by_the_peers_certreq);
	tcase_add_test(t, our_own_certificate_checked_at_load);
	tcase_add_loop_test(t, ikev2_certificates_authenticate, 0, sizeof(auth_cases) / sizeof(auth_cases[0]));
	tcase_add_test(t, ikev2_untrusted_ca_fails);
	tcase_add_test(t, ikev2_identity_not_in_the_certificate_fails);
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
