/* ike_auth_cert.c - certificate authentication behind struct ike_auth_ops
 * (ike_auth.h): our certificates chosen by the peer's CERTREQ and our AUTH
 * signed by the key process; the peer's chain validated against the rule's
 * roots and CRLs, its identity found in its certificate, its signature
 * checked with the certificate's key. Shared by IKEv2 and IKEv1. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>

#include "ike_cert.h"
#include "ike_sig.h"

struct cert_cred {
	struct ike_certchain chain;
	uint16_t key;          /* handle in the key process */
	size_t root;           /* the root it chains to */
	int n_der;
	struct ike_chunk der[IKE_AUTH_CERTS_MAX]; /* what CERT payloads carry */
};

struct ike_cert_auth {
	struct ike_trust *trust;
	struct ike_keyproc *kp;
	bool rsa_pss;
	size_t n_creds;
	struct cert_cred cred[IKE_CERT_CREDS_MAX];
	uint8_t keyid[IKE_CERT_ROOTS_MAX][IKE_CERT_KEYID_LEN]; /* CERTREQ: of each root */
	size_t n_dns;
	struct ike_chunk dn[IKE_CERT_ROOTS_MAX]; /* IKEv1's CERTREQ: each root's subject (DER) */
};

static int cred_load(struct ike_cert_auth *ca, const char *path, uint16_t key, struct ike_err *err)
{
	struct cert_cred *c = &ca->cred[ca->n_creds];
	char msg[IKE_ERR_MSG_MAX];

	if (ike_certchain_load(path, &c->chain, err))
		return err->code;
	ca->n_creds++; /* freed with ca from here on */
	c->key = key;
	if (ike_trust_verify(ca->trust, &c->chain, &c->root, err)) {
		memcpy(msg, err->msg, sizeof(msg));
		return ike_fail(err, -EINVAL, "our %.60s: %s", path, msg);
	}
	c->n_der = ike_certchain_der(&c->chain, c->der, IKE_AUTH_CERTS_MAX);
	return c->n_der > 0 ? 0 : ike_fail(err, -ENOMEM, "no memory for certificate %.100s", path);
}

int ike_cert_auth_new(const struct ike_cert_auth_conf *conf, struct ike_cert_auth **out,
		      struct ike_err *err)
{
	struct ike_cert_auth *ca;
	int rc;

	*out = NULL;
	if (conf->n_certs > IKE_CERT_CREDS_MAX)
		return ike_fail(err, -EINVAL, "certificates: %zu of ours (at most %d)", conf->n_certs,
				IKE_CERT_CREDS_MAX);
	ca = calloc(1, sizeof(*ca));
	if (ca == NULL)
		return ike_fail(err, -ENOMEM, "no memory for a certificate method");
	ca->kp = conf->kp;
	ca->rsa_pss = conf->rsa_pss;
	rc = ike_trust_new(conf->roots, conf->n_roots, conf->crls, conf->n_crls, conf->crl_level,
			   &ca->trust, err);
	for (size_t i = 0; rc == 0 && i < conf->n_roots; i++)
		rc = ike_trust_keyid(ca->trust, i, ca->keyid[i], err);
	for (; rc == 0 && ca->n_dns < conf->n_roots; ca->n_dns++)
		rc = ike_trust_dn(ca->trust, ca->n_dns, &ca->dn[ca->n_dns], err);
	for (size_t i = 0; rc == 0 && i < conf->n_certs; i++)
		rc = cred_load(ca, conf->certs[i], conf->key_handles[i], err);
	if (rc) {
		ike_cert_auth_free(ca);
		return rc;
	}
	*out = ca;
	return 0;
}

void ike_cert_auth_free(struct ike_cert_auth *ca)
{
	if (ca == NULL)
		return;
	for (size_t i = 0; i < ca->n_creds; i++) {
		for (int j = 0; j < ca->cred[i].n_der; j++)
			OPENSSL_free((void *)ca->cred[i].der[j].p);
		ike_certchain_free(&ca->cred[i].chain);
	}
	for (size_t i = 0; i < ca->n_dns; i++)
		OPENSSL_free((void *)ca->dn[i].p);
	ike_trust_free(ca->trust);
	free(ca);
}

/* Is root's DN one of IKEv1's CERTREQ DNs in req (DER, one after another)? */
static bool requested_dn(const struct ike_cert_auth *ca, size_t root, struct ike_chunk req)
{
	const unsigned char *p = req.p, *end = req.p + req.len;

	while (p < end) {
		const unsigned char *start = p;
		long body;
		int tag, cls;

		if (ASN1_get_object(&p, &body, &tag, &cls, end - p) & 0x80)
			return false;
		p += body;
		if ((size_t)(p - start) == ca->dn[root].len && !memcmp(start, ca->dn[root].p, ca->dn[root].len))
			return true;
	}
	return false;
}

static bool requested(const struct ike_cert_auth *ca, size_t root, struct ike_chunk req, bool dns)
{
	if (dns)
		return requested_dn(ca, root, req);
	for (size_t off = 0; off + IKE_CERT_KEYID_LEN <= req.len; off += IKE_CERT_KEYID_LEN)
		if (memcmp(req.p + off, ca->keyid[root], IKE_CERT_KEYID_LEN) == 0)
			return true;
	return false;
}

int ike_cert_auth_choose(const struct ike_cert_auth *ca, struct ike_chunk req, bool dns)
{
	int best = -ENOENT;

	for (size_t i = 0; i < ca->n_creds; i++)
		if (requested(ca, ca->cred[i].root, req, dns))
			return (int)i;
	for (size_t i = 0; i < ca->n_creds; i++)
		if (best < 0 || ca->cred[i].root < ca->cred[best].root)
			best = (int)i;
	return best;
}

int ike_cert_auth_id(const struct ike_cert_auth *ca, uint8_t type, struct ike_id *out,
		     struct ike_err *err)
{
	if (ca->n_creds == 0)
		return ike_fail(err, -ENOENT, "no certificate of ours");
	return ike_cert_id(ca->cred[0].chain.ee, type, out, err);
}

/* ---- the ops ---- */

static const struct cert_cred *chosen(const struct ike_auth_conf *c, const struct ike_auth_octets *o,
				      struct ike_err *err)
{
	const struct ike_cert_auth *ca = c->ctx;
	int i = ike_cert_auth_choose(ca, o->certreq, o->ikev1);

	if (i < 0)
		ike_fail(err, -ENOENT, "certificate authentication: no certificate of ours to send");
	return i < 0 ? NULL : &ca->cred[i];
}

static int cert_make(const struct ike_auth_conf *c, const struct ike_auth_octets *o,
		     uint8_t *method, uint8_t *out, size_t cap, size_t *len, struct ike_err *err)
{
	const struct ike_cert_auth *ca = c->ctx;
	const struct cert_cred *cred = chosen(c, o, err);
	struct ike_signer s;

	if (cred == NULL)
		return err->code;
	if (ca->kp == NULL)
		return ike_fail(err, -EINVAL, "certificate authentication: no key process to sign");
	s = (struct ike_signer){ ca->kp, cred->key, X509_get0_pubkey(cred->chain.ee), ca->rsa_pss };
	if (o->ikev1) {
		*method = IKEV1_AUTH_RSA_SIG;
		return ike_sig_make_v1(&s, o->piece[0], out, cap, len, err);
	}
	return ike_sig_make(&s, o->peer_hashes, o->piece, IKE_NCHUNKS(o->piece), method, out, cap,
			    len, err);
}

static int cert_check(const struct ike_auth_conf *c, const struct ike_auth_octets *o,
		      uint8_t method, const uint8_t *data, size_t len, struct ike_err *err)
{
	const struct ike_cert_auth *ca = c->ctx;
	struct ike_certchain chain;
	size_t root;
	int rc;

	if (o->n_certs == 0)
		return ike_fail(err, -EACCES, "the peer sent no certificate (CERT payload)");
	rc = ike_certchain_from_der(o->certs, o->n_certs, &chain, err);
	if (rc == 0)
		rc = ike_trust_verify(ca->trust, &chain, &root, err);
	if (rc == 0 && o->id)
		rc = ike_cert_id_check(chain.ee, o->id, err);
	if (rc == 0 && o->ikev1)
		rc = ike_sig_check_v1(X509_get0_pubkey(chain.ee), data, len, o->piece[0], err);
	else if (rc == 0)
		rc = ike_sig_check(X509_get0_pubkey(chain.ee), method, data, len, o->piece,
				   IKE_NCHUNKS(o->piece), err);
	ike_certchain_free(&chain);
	return rc;
}

static int cert_certs(const struct ike_auth_conf *c, const struct ike_auth_octets *o,
		      struct ike_chunk *out, size_t cap, struct ike_err *err)
{
	const struct cert_cred *cred = chosen(c, o, err);
	int n = 0;

	if (cred == NULL)
		return err->code;
	for (; n < cred->n_der && (size_t)n < cap; n++)
		out[n] = cred->der[n];
	return n;
}

static int cert_certreq(const struct ike_auth_conf *c, uint8_t *out, size_t cap, size_t *len,
			struct ike_err *err)
{
	const struct ike_cert_auth *ca = c->ctx;
	size_t n = ike_trust_n_roots(ca->trust);

	if (n * IKE_CERT_KEYID_LEN > cap)
		return ike_fail(err, -E2BIG, "CERTREQ: %zu roots do not fit", n);
	memcpy(out, ca->keyid, n * IKE_CERT_KEYID_LEN);
	*len = n * IKE_CERT_KEYID_LEN;
	return 0;
}

static int cert_certreq_dns(const struct ike_auth_conf *c, struct ike_chunk *out, size_t cap)
{
	const struct ike_cert_auth *ca = c->ctx;
	size_t n = 0;

	for (; n < ca->n_dns && n < cap; n++)
		out[n] = ca->dn[n];
	return (int)n;
}

static const struct ike_auth_ops cert_ops = {
	.name = "certificate",
	.make = cert_make,
	.check = cert_check,
	.certs = cert_certs,
	.certreq = cert_certreq,
	.certreq_dns = cert_certreq_dns,
};

void ike_auth_cert(struct ike_auth_conf *c, const struct ike_cert_auth *ca)
{
	*c = (struct ike_auth_conf){ .ops = &cert_ops, .ctx = (void *)ca };
}
