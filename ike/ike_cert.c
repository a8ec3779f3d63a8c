/* ike_cert.c - certificate chains, a rule's trust (roots, CRLs, revocation
 * level) and chain validation with OpenSSL 3, and the identities a
 * certificate holds (ike_cert.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ike_cert.h"
#include "ikev2_msg.h"

struct ike_trust {
	size_t n_roots, n_crls;
	X509 *roots[IKE_CERT_ROOTS_MAX];
	char crls[IKE_CERT_CRLS_MAX][CFG_PATH_MAX];
	enum ike_crl_level level;
};

int ike_dn_text(const X509_NAME *name, char *buf, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n = 0;

	if (b && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0)
		n = BIO_read(b, buf, (int)cap - 1);
	buf[n > 0 ? n : 0] = '\0';
	BIO_free(b);
	return n > 0 ? 0 : -EINVAL;
}

void ike_cert_name(X509 *x, char *buf, size_t cap)
{
	ike_dn_text(X509_get_subject_name(x), buf, cap);
}

/* ---- chains ---- */

static BIO *open_file(const char *path, const char *what, struct ike_err *err)
{
	BIO *b = BIO_new_file(path, "r");

	if (b == NULL) {
		ERR_clear_error();
		ike_fail(err, errno == ENOENT ? -ENOENT : -EINVAL, "%s %.100s: cannot open (%s)", what,
			 path, strerror(errno ? errno : EINVAL));
	}
	return b;
}

int ike_certchain_load(const char *path, struct ike_certchain *out, struct ike_err *err)
{
	BIO *b = open_file(path, "certificate file", err);
	X509 *x;

	*out = (struct ike_certchain){ 0 };
	if (b == NULL)
		return err->code;
	out->inter = sk_X509_new_null();
	while (out->inter && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (out->ee == NULL)
			out->ee = x;
		else if (sk_X509_num(out->inter) >= IKE_CERT_CHAIN_MAX - 1 || !sk_X509_push(out->inter, x))
			X509_free(x);
	}
	ERR_clear_error(); /* the end of the file reads as "no start line" */
	BIO_free(b);
	if (out->ee == NULL || out->inter == NULL) {
		ike_certchain_free(out);
		return ike_fail(err, -EINVAL, "certificate file %.100s: no PEM certificate in it", path);
	}
	return 0;
}

int ike_certchain_from_der(const struct ike_chunk *der, size_t n, struct ike_certchain *out,
			   struct ike_err *err)
{
	*out = (struct ike_certchain){ 0 };
	if (n == 0 || n > IKE_CERT_CHAIN_MAX)
		return ike_fail(err, -EBADMSG, "%zu certificates sent (1 to %d)", n, IKE_CERT_CHAIN_MAX);
	out->inter = sk_X509_new_null();
	for (size_t i = 0; i < n && out->inter; i++) {
		const unsigned char *p = der[i].p;
		X509 *x = d2i_X509(NULL, &p, (long)der[i].len);

		if (x == NULL || p != der[i].p + der[i].len) {
			X509_free(x);
			ERR_clear_error();
			ike_certchain_free(out);
			return ike_fail(err, -EBADMSG, "CERT payload %zu is not one DER X.509 certificate", i + 1);
		}
		if (i == 0)
			out->ee = x;
		else if (!sk_X509_push(out->inter, x))
			X509_free(x);
	}
	if (out->inter == NULL)
		return ike_fail(err, -ENOMEM, "no memory for a certificate chain");
	return 0;
}

int ike_certchain_der(const struct ike_certchain *c, struct ike_chunk *out, size_t cap)
{
	size_t n = 0;

	for (int i = -1; i < sk_X509_num(c->inter) && n < cap; i++) {
		unsigned char *p = NULL;
		int len = i2d_X509(i < 0 ? c->ee : sk_X509_value(c->inter, i), &p);

		if (len <= 0) {
			while (n > 0)
				OPENSSL_free((void *)out[--n].p);
			return -ENOMEM;
		}
		out[n++] = IKE_CHUNK(p, (size_t)len);
	}
	return (int)n;
}

void ike_certchain_free(struct ike_certchain *c)
{
	X509_free(c->ee);
	sk_X509_pop_free(c->inter, X509_free);
	*c = (struct ike_certchain){ 0 };
}

/* ---- trust ---- */

static int root_load(const char *path, X509 **out, struct ike_err *err)
{
	BIO *b = open_file(path, "root CA file", err);

	if (b == NULL)
		return err->code;
	*out = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	return *out ? 0 : ike_fail(err, -EINVAL, "root CA file %.100s: no PEM certificate in it", path);
}

int ike_trust_new(const char *const *roots, size_t n_roots, const char *const *crls,
		  size_t n_crls, enum ike_crl_level level, struct ike_trust **out,
		  struct ike_err *err)
{
	struct ike_trust *t;

	*out = NULL;
	if (n_roots == 0 || n_roots > IKE_CERT_ROOTS_MAX || n_crls > IKE_CERT_CRLS_MAX ||
	    (unsigned)level > IKE_CRL_STRICT)
		return ike_fail(err, -EINVAL, "trust: %zu roots (1 to %d), %zu CRLs (at most %d), level %d (0 to 2)",
				n_roots, IKE_CERT_ROOTS_MAX, n_crls, IKE_CERT_CRLS_MAX, (int)level);
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return ike_fail(err, -ENOMEM, "no memory for a trust");
	t->level = level;
	for (size_t i = 0; i < n_crls; i++) {
		if (strlen(crls[i]) >= CFG_PATH_MAX) {
			ike_trust_free(t);
			return ike_fail(err, -EINVAL, "CRL file name of %zu characters", strlen(crls[i]));
		}
		strcpy(t->crls[t->n_crls++], crls[i]);
	}
	for (; t->n_roots < n_roots; t->n_roots++)
		if (root_load(roots[t->n_roots], &t->roots[t->n_roots], err)) {
			ike_trust_free(t);
			return err->code;
		}
	*out = t;
	return 0;
}

void ike_trust_free(struct ike_trust *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_roots; i++)
		X509_free(t->roots[i]);
	free(t);
}

size_t ike_trust_n_roots(const struct ike_trust *t)
{
	return t->n_roots;
}

int ike_trust_keyid(const struct ike_trust *t, size_t i, uint8_t out[IKE_CERT_KEYID_LEN],
		    struct ike_err *err)
{
	unsigned char *spki = NULL;
	int len = i < t->n_roots ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(t->roots[i]), &spki) : -1;
	int rc;

	if (len <= 0)
		return ike_fail(err, -EIO, "root CA %zu: no SubjectPublicKeyInfo", i + 1);
	rc = ikecr_hash("SHA1", &IKE_CHUNK(spki, (size_t)len), 1, out, err);
	OPENSSL_free(spki);
	return rc;
}

int ike_trust_dn(const struct ike_trust *t, size_t i, struct ike_chunk *der, struct ike_err *err)
{
	unsigned char *p = NULL;
	int len = i < t->n_roots ? i2d_X509_NAME(X509_get_subject_name(t->roots[i]), &p) : -1;

	if (len <= 0)
		return ike_fail(err, -EIO, "root CA %zu: no subject DN", i + 1);
	*der = IKE_CHUNK(p, (size_t)len);
	return 0;
}

/* A CRL file, PEM or DER; NULL when it cannot be read. */
static X509_CRL *crl_read(const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	X509_CRL *crl = b ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) : NULL;

	if (b && crl == NULL && BIO_reset(b) == 0)
		crl = d2i_X509_CRL_bio(b, NULL);
	BIO_free(b);
	ERR_clear_error();
	return crl;
}

/* The CRL files into st. At level 2 one that cannot be read fails; at
 * level 1 it is skipped (a missing CRL is no failure there). */
static int crls_add(const struct ike_trust *t, X509_STORE *st, struct ike_err *err)
{
	for (size_t i = 0; i < t->n_crls; i++) {
		X509_CRL *crl = crl_read(t->crls[i]);

		if (crl == NULL && t->level == IKE_CRL_STRICT)
			return ike_fail(err, -EACCES, "CRL file %.100s: missing or unreadable (revocation level 2)",
					t->crls[i]);
		if (crl && !X509_STORE_add_crl(st, crl))
			ERR_clear_error(); /* the same CRL twice */
		X509_CRL_free(crl);
	}
	return 0;
}

static bool crl_error(int e)
{
	switch (e) {
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
	case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
	case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
	case X509_V_ERR_DIFFERENT_CRL_SCOPE:
	case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
	case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
		return true;
	default:
		return false;
	}
}

/* Level 1 lets every CRL error but "revoked" pass. */
static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
	const struct ike_trust *t = X509_STORE_CTX_get_app_data(ctx);

	if (!ok && t->level == IKE_CRL_REVOKED && crl_error(X509_STORE_CTX_get_error(ctx)))
		return 1;
	return ok;
}

static int verify_fail(X509_STORE_CTX *ctx, struct ike_err *err)
{
	int e = X509_STORE_CTX_get_error(ctx);
	X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
	char name[96] = "?";

	if (cur)
		ike_cert_name(cur, name, sizeof(name));
	switch (e) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return ike_fail(err, -EACCES, "certificate %s has expired", name);
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return ike_fail(err, -EACCES, "certificate %s is not yet valid", name);
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return ike_fail(err, -EACCES, "certificate %s chains to no trusted root CA", name);
	case X509_V_ERR_CERT_REVOKED:
		return ike_fail(err, -EACCES, "certificate %s is revoked", name);
	case X509_V_ERR_UNABLE_TO_GET_CRL:
		return ike_fail(err, -EACCES, "no CRL for the issuer of %s (revocation level 2)", name);
	default:
		return ike_fail(err, -EACCES, "certificate %s: %s%s", name, X509_verify_cert_error_string(e),
				crl_error(e) ? " (revocation level 2)" : "");
	}
}

/* Which of our roots the verified chain ends at. */
static size_t chain_root(const struct ike_trust *t, X509_STORE_CTX *ctx)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
	X509 *top = sk_X509_value(chain, sk_X509_num(chain) - 1);

	for (size_t i = 0; i < t->n_roots; i++)
		if (X509_cmp(top, t->roots[i]) == 0)
			return i;
	return 0;
}

static X509_STORE *store_of(const struct ike_trust *t, struct ike_err *err)
{
	X509_STORE *st = X509_STORE_new();

	if (st == NULL) {
		ike_fail(err, -ENOMEM, "no memory for a certificate store");
		return NULL;
	}
	for (size_t i = 0; i < t->n_roots; i++)
		if (!X509_STORE_add_cert(st, t->roots[i]))
			ERR_clear_error(); /* the same root twice */
	if (t->level != IKE_CRL_OFF) {
		X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
		if (crls_add(t, st, err)) {
			X509_STORE_free(st);
			return NULL;
		}
	}
	X509_STORE_set_verify_cb(st, verify_cb);
	return st;
}

int ike_trust_verify(const struct ike_trust *t, const struct ike_certchain *c, size_t *root,
		     struct ike_err *err)
{
	X509_STORE *st = store_of(t, err);
	X509_STORE_CTX *ctx = st ? X509_STORE_CTX_new() : NULL;
	int rc;

	if (st == NULL)
		return err->code;
	if (ctx == NULL || !X509_STORE_CTX_init(ctx, st, c->ee, c->inter)) {
		rc = ikecr_ossl_fail(err, "certificate validation");
	} else {
		X509_STORE_CTX_set_app_data(ctx, (void *)t);
		rc = X509_verify_cert(ctx) == 1 ? 0 : verify_fail(ctx, err);
		if (rc == 0)
			*root = chain_root(t, ctx);
	}
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return rc;
}

/* ---- identities ---- */

static bool dn_matches(X509 *x, const struct ike_id *id)
{
	const unsigned char *p = id->data;
	X509_NAME *n = d2i_X509_NAME(NULL, &p, id->len);
	bool ok = n && p == id->data + id->len && X509_NAME_cmp(X509_get_subject_name(x), n) == 0;

	X509_NAME_free(n);
	ERR_clear_error();
	return ok;
}

int ike_cert_id_check(X509 *x, const struct ike_id *id, struct ike_err *err)
{
	const unsigned int never_subject = X509_CHECK_FLAG_NEVER_CHECK_SUBJECT;
	char name[96], want[96];
	bool ok;

	switch (id->type) {
	case IKEV2_ID_DER_ASN1_DN:
		ok = dn_matches(x, id);
		break;
	case IKEV2_ID_FQDN:
		ok = X509_check_host(x, (const char *)id->data, id->len,
				     never_subject | X509_CHECK_FLAG_NO_WILDCARDS, NULL) == 1;
		break;
	case IKEV2_ID_RFC822_ADDR:
		ok = X509_check_email(x, (const char *)id->data, id->len, never_subject) == 1;
		break;
	case IKEV2_ID_IPV4_ADDR:
	case IKEV2_ID_IPV6_ADDR:
		ok = X509_check_ip(x, id->data, id->len, 0) == 1;
		break;
	default:
		ok = false;
	}
	ERR_clear_error();
	if (ok)
		return 0;
	ike_cert_name(x, name, sizeof(name));
	ike_id_describe(id, want, sizeof(want));
	return ike_fail(err, -EACCES, "identity %s is not in certificate %s", want, name);
}

static int san_id(X509 *x, uint8_t type, struct ike_id *out, struct ike_err *err)
{
	int gen = type == IKEV2_ID_FQDN ? GEN_DNS : type == IKEV2_ID_RFC822_ADDR ? GEN_EMAIL : GEN_IPADD;
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int rc = -ENOENT;

	for (int i = 0; i < sk_GENERAL_NAME_num(names) && rc == -ENOENT; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const ASN1_STRING *s = g->d.ia5; /* dNSName, rfc822Name and iPAddress alike */
		int len = g->type == gen ? ASN1_STRING_length(s) : 0;

		if (len > 0 && len <= IKE_ID_MAX && (gen != GEN_IPADD || len == (type == IKEV2_ID_IPV4_ADDR ? 4 : 16))) {
			out->type = type;
			out->len = (uint16_t)len;
			memcpy(out->data, ASN1_STRING_get0_data(s), (size_t)len);
			rc = 0;
		}
	}
	GENERAL_NAMES_free(names);
	return rc ? ike_fail(err, rc, "the certificate has no subjectAltName of type %s",
			     ikev2_id_type_name(type) ? ikev2_id_type_name(type) : "?")
		  : 0;
}

int ike_cert_id(X509 *x, uint8_t type, struct ike_id *out, struct ike_err *err)
{
	unsigned char *der = NULL;
	int len, rc;

	switch (type) {
	case IKEV2_ID_DER_ASN1_DN:
		len = i2d_X509_NAME(X509_get_subject_name(x), &der);
		rc = len > 0 ? ike_id_der_dn(out, der, (size_t)len, err)
			     : ike_fail(err, -EINVAL, "the certificate's subject does not encode");
		OPENSSL_free(der);
		return rc;
	case IKEV2_ID_FQDN:
	case IKEV2_ID_RFC822_ADDR:
	case IKEV2_ID_IPV4_ADDR:
	case IKEV2_ID_IPV6_ADDR:
		return san_id(x, type, out, err);
	default:
		return ike_fail(err, -EINVAL, "identity type %u does not come from a certificate", type);
	}
}
