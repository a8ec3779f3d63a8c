/* ike_sig.c - signature AUTH data for IKEv2: methods 1, 9-11 and 14 made
 * through the key process and checked with a public key (ike_sig.h). */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "ike_sig.h"

/* The AlgorithmIdentifiers we send (RFC 7427 Appendix A): the hash is
 * patched in at hash_at (SHA-256: 1, SHA-384: 2, SHA-512: 3), and for PSS
 * the salt length (as long as the hash) at the last byte. */
static const uint8_t aid_rsa[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
				   0x01, 0x0b, 0x05, 0x00 };      /* sha256WithRSAEncryption: 11 */
static const uint8_t aid_ecdsa[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04,
				     0x03, 0x02 };                  /* ecdsa-with-SHA256: 2 */
static const uint8_t aid_pss[] = {                              /* RSASSA-PSS, SHA-256, MGF1 SHA-256, salt 32 */
	0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x34,
	0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
	0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
	0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
	0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x20
};
#define PSS_HASH_AT_1 29 /* the last byte of the hash OID */
#define PSS_HASH_AT_2 59 /* of MGF1's hash OID */

static const struct ecdsa_method {
	uint8_t method;
	const char *curve;
	uint8_t hash;
} ecdsa_methods[] = {
	{ IKEV2_AUTH_ECDSA_256, SN_X9_62_prime256v1, IKE_HASH_SHA256 },
	{ IKEV2_AUTH_ECDSA_384, SN_secp384r1, IKE_HASH_SHA384 },
	{ IKEV2_AUTH_ECDSA_521, SN_secp521r1, IKE_HASH_SHA512 },
};

static const struct ecdsa_method *ecdsa_of_key(EVP_PKEY *pk)
{
	char curve[64];

	if (!EVP_PKEY_get_group_name(pk, curve, sizeof(curve), NULL))
		return NULL;
	for (size_t i = 0; i < sizeof(ecdsa_methods) / sizeof(ecdsa_methods[0]); i++)
		if (strcmp(curve, ecdsa_methods[i].curve) == 0)
			return &ecdsa_methods[i];
	return NULL;
}

static size_t ec_field_len(EVP_PKEY *pk)
{
	return ((size_t)EVP_PKEY_get_bits(pk) + 7) / 8;
}

/* ---- ECDSA: DER Ecdsa-Sig-Value and r | s (RFC 4754) ---- */

static int ecdsa_der_to_rs(const uint8_t *der, size_t len, size_t field, uint8_t *out, size_t cap,
			   size_t *out_len, struct ike_err *err)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r, *s;
	int rc = 0;

	if (sig == NULL || 2 * field > cap)
		rc = ike_fail(err, -EIO, "ECDSA signature does not convert to r|s");
	if (rc == 0) {
		ECDSA_SIG_get0(sig, &r, &s);
		if (BN_bn2binpad(r, out, (int)field) < 0 || BN_bn2binpad(s, out + field, (int)field) < 0)
			rc = ike_fail(err, -EIO, "ECDSA signature does not convert to r|s");
		*out_len = 2 * field;
	}
	ECDSA_SIG_free(sig);
	ERR_clear_error();
	return rc;
}

/* r | s to DER in *der (OPENSSL_free); length or -1. */
static int ecdsa_rs_to_der(const uint8_t *rs, size_t len, unsigned char **der)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(rs, (int)(len / 2), NULL), *s = BN_bin2bn(rs + len / 2, (int)(len / 2), NULL);
	int n = -1;

	if (sig && r && s && ECDSA_SIG_set0(sig, r, s) == 1) {
		r = s = NULL; /* owned by sig */
		n = i2d_ECDSA_SIG(sig, der);
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	return n;
}

/* ---- making ---- */

static uint8_t hash_choose(uint16_t peer_hashes)
{
	static const uint8_t pref[] = { IKE_HASH_SHA256, IKE_HASH_SHA384, IKE_HASH_SHA512 };

	for (size_t i = 0; i < sizeof(pref); i++)
		if (peer_hashes & IKE_SIG_HASHES & (1u << pref[i]))
			return pref[i];
	return IKE_HASH_NONE;
}

/* The method-14 AlgorithmIdentifier for scheme and hash into out. */
static size_t aid_put(enum ike_sig_scheme scheme, uint8_t hash, uint8_t *out)
{
	uint8_t code = (uint8_t)(hash - IKE_HASH_SHA256); /* 0, 1, 2 */

	switch (scheme) {
	case IKE_SIG_RSA_PKCS1:
		memcpy(out, aid_rsa, sizeof(aid_rsa));
		out[12] = (uint8_t)(0x0b + code);
		return sizeof(aid_rsa);
	case IKE_SIG_ECDSA:
		memcpy(out, aid_ecdsa, sizeof(aid_ecdsa));
		out[11] = (uint8_t)(0x02 + code);
		return sizeof(aid_ecdsa);
	case IKE_SIG_RSA_PSS:
		memcpy(out, aid_pss, sizeof(aid_pss));
		out[PSS_HASH_AT_1] = out[PSS_HASH_AT_2] = (uint8_t)(0x01 + code);
		out[sizeof(aid_pss) - 1] = (uint8_t)ike_hash_len(hash);
		return sizeof(aid_pss);
	}
	return 0;
}

static int sign_digest(const struct ike_signer *s, enum ike_sig_scheme scheme, uint8_t hash,
		       const struct ike_chunk *octets, size_t n, uint8_t *out, size_t cap,
		       size_t *len, struct ike_err *err)
{
	uint8_t digest[IKE_KEYPROC_DIGEST_MAX];
	int rc = ikecr_hash(ike_hash_md(hash), octets, n, digest, err);

	if (rc == 0)
		rc = ike_keyproc_sign(s->kp, s->handle, scheme, hash, digest, ike_hash_len(hash), out,
				      cap, len, err);
	return rc;
}

/* Methods 1 and 9-11, for a peer that announced no hash algorithms. */
static int make_legacy(const struct ike_signer *s, const struct ike_chunk *octets, size_t n,
		       uint8_t *method, uint8_t *out, size_t cap, size_t *len, struct ike_err *err)
{
	const struct ecdsa_method *m;
	uint8_t der[IKE_KEYPROC_SIG_MAX];
	size_t der_len;
	int rc;

	if (EVP_PKEY_is_a(s->pub, "RSA")) {
		*method = IKEV2_AUTH_RSA_SIG;
		return sign_digest(s, IKE_SIG_RSA_PKCS1, IKE_HASH_SHA1, octets, n, out, cap, len, err);
	}
	m = ecdsa_of_key(s->pub);
	if (m == NULL)
		return ike_fail(err, -EINVAL, "our key is neither RSA nor ECDSA over P-256/384/521");
	*method = m->method;
	rc = sign_digest(s, IKE_SIG_ECDSA, m->hash, octets, n, der, sizeof(der), &der_len, err);
	return rc ? rc : ecdsa_der_to_rs(der, der_len, ec_field_len(s->pub), out, cap, len, err);
}

int ike_sig_make(const struct ike_signer *s, uint16_t peer_hashes, const struct ike_chunk *octets,
		 size_t n, uint8_t *method, uint8_t *out, size_t cap, size_t *len,
		 struct ike_err *err)
{
	uint8_t hash = hash_choose(peer_hashes);
	bool rsa = EVP_PKEY_is_a(s->pub, "RSA");
	enum ike_sig_scheme scheme = !rsa ? IKE_SIG_ECDSA : s->rsa_pss ? IKE_SIG_RSA_PSS : IKE_SIG_RSA_PKCS1;
	size_t aid_len, sig_len;
	int rc;

	if (hash == IKE_HASH_NONE)
		return make_legacy(s, octets, n, method, out, cap, len, err);
	if (!rsa && ecdsa_of_key(s->pub) == NULL)
		return ike_fail(err, -EINVAL, "our key is neither RSA nor ECDSA over P-256/384/521");
	if (cap < 1 + sizeof(aid_pss))
		return ike_fail(err, -E2BIG, "no room for a signature");
	aid_len = aid_put(scheme, hash, out + 1);
	out[0] = (uint8_t)aid_len;
	rc = sign_digest(s, scheme, hash, octets, n, out + 1 + aid_len, cap - 1 - aid_len, &sig_len, err);
	*method = IKEV2_AUTH_DIGITAL_SIG;
	*len = 1 + aid_len + sig_len;
	return rc;
}

/* ---- checking ---- */

/* How a signature is to be checked. */
struct sig_params {
	enum ike_sig_scheme scheme;
	uint8_t hash;
	int salt; /* PSS */
};

static uint8_t hash_of_nid(int nid)
{
	switch (nid) {
	case NID_sha1: return IKE_HASH_SHA1;
	case NID_sha256: return IKE_HASH_SHA256;
	case NID_sha384: return IKE_HASH_SHA384;
	case NID_sha512: return IKE_HASH_SHA512;
	default: return IKE_HASH_NONE;
	}
}

static int alg_hash(const X509_ALGOR *a)
{
	return a ? OBJ_obj2nid(a->algorithm) : NID_sha1; /* absent: SHA-1 (RFC 4055 §3.1) */
}

/* RSASSA-PSS-params: the hash, MGF1 with the same hash, the salt. */
static int pss_params(const X509_ALGOR *alg, struct sig_params *sp, struct ike_err *err)
{
	const unsigned char *p;
	RSA_PSS_PARAMS *pss = NULL;
	X509_ALGOR *mgf_md = NULL;
	int rc = -EPROTO;

	if (alg->parameter && alg->parameter->type == V_ASN1_SEQUENCE) {
		p = alg->parameter->value.sequence->data;
		pss = d2i_RSA_PSS_PARAMS(NULL, &p, alg->parameter->value.sequence->length);
	}
	if (pss && pss->maskGenAlgorithm && OBJ_obj2nid(pss->maskGenAlgorithm->algorithm) == NID_mgf1 &&
	    pss->maskGenAlgorithm->parameter &&
	    pss->maskGenAlgorithm->parameter->type == V_ASN1_SEQUENCE) {
		p = pss->maskGenAlgorithm->parameter->value.sequence->data;
		mgf_md = d2i_X509_ALGOR(NULL, &p, pss->maskGenAlgorithm->parameter->value.sequence->length);
	}
	if (pss && (pss->maskGenAlgorithm == NULL || mgf_md)) {
		sp->scheme = IKE_SIG_RSA_PSS;
		sp->hash = hash_of_nid(alg_hash(pss->hashAlgorithm));
		sp->salt = pss->saltLength ? (int)ASN1_INTEGER_get(pss->saltLength) : 20;
		if (sp->hash != IKE_HASH_NONE && alg_hash(mgf_md) == alg_hash(pss->hashAlgorithm) &&
		    sp->salt >= 0 && sp->salt <= 512)
			rc = 0;
	}
	RSA_PSS_PARAMS_free(pss);
	X509_ALGOR_free(mgf_md);
	ERR_clear_error();
	return rc ? ike_fail(err, -EPROTO, "AUTH: RSASSA-PSS parameters we do not take") : 0;
}

/* Method 14's AlgorithmIdentifier. */
static int aid_parse(const uint8_t *p, size_t len, struct sig_params *sp, struct ike_err *err)
{
	const unsigned char *q = p;
	X509_ALGOR *alg = d2i_X509_ALGOR(NULL, &q, (long)len);
	int nid = alg && q == p + len ? OBJ_obj2nid(alg->algorithm) : NID_undef;
	int md = NID_undef, pkey = NID_undef, rc = 0;

	if (nid == NID_rsassaPss)
		rc = pss_params(alg, sp, err);
	else if (nid != NID_undef && OBJ_find_sigid_algs(nid, &md, &pkey) &&
		 (pkey == NID_rsaEncryption || pkey == NID_X9_62_id_ecPublicKey) &&
		 hash_of_nid(md) != IKE_HASH_NONE)
		*sp = (struct sig_params){ pkey == NID_rsaEncryption ? IKE_SIG_RSA_PKCS1 : IKE_SIG_ECDSA,
					   hash_of_nid(md), 0 };
	else
		rc = ike_fail(err, -EPROTO, "AUTH: signature algorithm %s not supported",
			      nid == NID_undef ? "(unparsable)" : OBJ_nid2sn(nid));
	X509_ALGOR_free(alg);
	ERR_clear_error();
	return rc;
}

static int verify(EVP_PKEY *pub, const struct sig_params *sp, const uint8_t *sig, size_t sig_len,
		  const struct ike_chunk *octets, size_t n, struct ike_err *err)
{
	uint8_t digest[IKE_KEYPROC_DIGEST_MAX];
	EVP_PKEY_CTX *ctx = NULL;
	int ok = ikecr_hash(ike_hash_md(sp->hash), octets, n, digest, err) == 0;

	if (ok && EVP_PKEY_is_a(pub, "RSA") != (sp->scheme != IKE_SIG_ECDSA))
		return ike_fail(err, -EPROTO, "AUTH: the signature's algorithm does not fit the certificate's key");
	if (!ok)
		return err->code;
	ctx = EVP_PKEY_CTX_new(pub, NULL);
	ok = ctx && EVP_PKEY_verify_init(ctx) == 1;
	if (ok && sp->scheme != IKE_SIG_ECDSA)
		ok = EVP_PKEY_CTX_set_rsa_padding(ctx, sp->scheme == IKE_SIG_RSA_PSS ? RSA_PKCS1_PSS_PADDING
										     : RSA_PKCS1_PADDING) == 1;
	if (ok)
		ok = EVP_PKEY_CTX_set_signature_md(ctx, EVP_get_digestbyname(ike_hash_md(sp->hash))) == 1;
	if (ok && sp->scheme == IKE_SIG_RSA_PSS)
		ok = EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, sp->salt) == 1;
	ok = ok && EVP_PKEY_verify(ctx, sig, sig_len, digest, ike_hash_len(sp->hash)) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok ? 0 : ike_fail(err, -EACCES, "AUTH: the signature does not verify");
}

static int check_ecdsa_legacy(EVP_PKEY *pub, uint8_t method, const uint8_t *data, size_t len,
			      const struct ike_chunk *octets, size_t n, struct ike_err *err)
{
	const struct ecdsa_method *m = EVP_PKEY_is_a(pub, "EC") ? ecdsa_of_key(pub) : NULL;
	struct sig_params sp = { IKE_SIG_ECDSA, m ? m->hash : 0, 0 };
	unsigned char *der = NULL;
	int der_len, rc;

	if (m == NULL || m->method != method)
		return ike_fail(err, -EPROTO, "AUTH method %u does not fit the certificate's key", method);
	if (len != 2 * ec_field_len(pub))
		return ike_fail(err, -EACCES, "AUTH: an ECDSA signature of %zu bytes, expected %zu", len,
				2 * ec_field_len(pub));
	der_len = ecdsa_rs_to_der(data, len, &der);
	rc = der_len > 0 ? verify(pub, &sp, der, (size_t)der_len, octets, n, err)
			 : ike_fail(err, -ENOMEM, "no memory for an ECDSA signature");
	OPENSSL_free(der);
	return rc;
}

int ike_sig_check(EVP_PKEY *pub, uint8_t method, const uint8_t *data, size_t len,
		  const struct ike_chunk *octets, size_t n, struct ike_err *err)
{
	struct sig_params sp = { IKE_SIG_RSA_PKCS1, IKE_HASH_SHA1, 0 };

	switch (method) {
	case IKEV2_AUTH_RSA_SIG:
		return verify(pub, &sp, data, len, octets, n, err);
	case IKEV2_AUTH_ECDSA_256:
	case IKEV2_AUTH_ECDSA_384:
	case IKEV2_AUTH_ECDSA_521:
		return check_ecdsa_legacy(pub, method, data, len, octets, n, err);
	case IKEV2_AUTH_DIGITAL_SIG:
		if (len < 1 || (size_t)data[0] + 1 >= len)
			return ike_fail(err, -EACCES, "AUTH: a digital signature of %zu bytes is cut short", len);
		if (aid_parse(data + 1, data[0], &sp, err))
			return err->code;
		if (!(IKE_SIG_HASHES & (1u << sp.hash)))
			return ike_fail(err, -EPROTO, "AUTH: hash %s is not one we announced", ike_hash_md(sp.hash));
		return verify(pub, &sp, data + 1 + data[0], len - 1 - data[0], octets, n, err);
	default:
		return ike_fail(err, -EPROTO, "AUTH method %u is not a signature method we take", method);
	}
}

/* ---- IKEv1 ---- */

int ike_sig_make_v1(const struct ike_signer *s, struct ike_chunk hash, uint8_t *out, size_t cap,
		    size_t *len, struct ike_err *err)
{
	if (!EVP_PKEY_is_a(s->pub, "RSA"))
		return ike_fail(err, -EINVAL, "IKEv1 signatures: our key is not RSA");
	return ike_keyproc_sign(s->kp, s->handle, IKE_SIG_RSA_PKCS1, IKE_HASH_NONE, hash.p, hash.len,
				out, cap, len, err);
}

int ike_sig_check_v1(EVP_PKEY *pub, const uint8_t *sig, size_t len, struct ike_chunk hash,
		     struct ike_err *err)
{
	EVP_PKEY_CTX *ctx;
	int ok;

	if (!EVP_PKEY_is_a(pub, "RSA"))
		return ike_fail(err, -EPROTO, "SIG: the peer's certificate key is not RSA");
	ctx = EVP_PKEY_CTX_new(pub, NULL);
	ok = ctx && EVP_PKEY_verify_init(ctx) == 1 &&
	     EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
	     EVP_PKEY_verify(ctx, sig, len, hash.p, hash.len) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok ? 0 : ike_fail(err, -EKEYREJECTED, "SIG does not verify with the peer's certificate");
}
