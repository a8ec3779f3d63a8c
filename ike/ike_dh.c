/* ike_dh.c - IKE key exchange with OpenSSL 3's EVP (see ike_dh.h): one
 * table of groups, key generation, the wire form of public values, and the
 * checks every peer value passes before it reaches a derivation. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "ike_dh.h"
#include "ikecr.h"

enum kind { MODP, ECP, X25519 };

struct group {
	uint16_t id;
	enum kind kind;
	const char *name;  /* OpenSSL's group or curve name; NULL: prime below */
	const char *prime; /* hex, for the one group OpenSSL does not name */
	uint16_t pub_len, secret_len;
};

/* RFC 2409 §6.2, the Second Oakley Group: 2^1024 - 2^960 - 1 + 2^64 *
 * ([2^894 pi] + 129093), generator 2. OpenSSL 3 knows only the RFC 3526
 * groups by name. */
static const char modp_1024[] =
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
	"020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
	"4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF";

static const struct group groups[] = {
	{ IKE_DH_MODP_1024, MODP, NULL, modp_1024, 128, 128 },
	{ IKE_DH_MODP_2048, MODP, "modp_2048", NULL, 256, 256 },
	{ IKE_DH_MODP_3072, MODP, "modp_3072", NULL, 384, 384 },
	{ IKE_DH_MODP_4096, MODP, "modp_4096", NULL, 512, 512 },
	{ IKE_DH_ECP_256, ECP, "P-256", NULL, 64, 32 },
	{ IKE_DH_ECP_384, ECP, "P-384", NULL, 96, 48 },
	{ IKE_DH_ECP_521, ECP, "P-521", NULL, 132, 66 },
	{ IKE_DH_CURVE25519, X25519, "X25519", NULL, 32, 32 },
};

struct ike_dh {
	const struct group *g;
	EVP_PKEY *key;
	BIGNUM *p; /* MODP: the prime, to check peer values against */
	uint8_t pub[IKE_DH_PUBLIC_MAX];
};

static const struct group *find(uint16_t id)
{
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (groups[i].id == id)
			return &groups[i];
	return NULL;
}

size_t ike_dh_public_len(uint16_t group)
{
	const struct group *g = find(group);

	return g ? g->pub_len : 0;
}

size_t ike_dh_secret_len(uint16_t group)
{
	const struct group *g = find(group);

	return g ? g->secret_len : 0;
}

uint16_t ike_dh_group(const struct ike_dh *dh)
{
	return dh->g->id;
}

const uint8_t *ike_dh_public(const struct ike_dh *dh, size_t *len)
{
	*len = dh->g->pub_len;
	return dh->pub;
}

void ike_dh_free(struct ike_dh *dh)
{
	if (dh == NULL)
		return;
	EVP_PKEY_free(dh->key); /* OpenSSL clears the private value */
	BN_free(dh->p);
	OPENSSL_clear_free(dh, sizeof(*dh));
}

static const char *algorithm(const struct group *g)
{
	return g->kind == MODP ? "DH" : g->kind == ECP ? "EC" : "X25519";
}

/* The group's domain (a name OpenSSL knows or, for group 2, p and g = 2)
 * plus a public value if one is given: y for MODP, a SEC 1 point for ECP. */
static OSSL_PARAM *domain_params(const struct ike_dh *dh, const BIGNUM *y, const uint8_t *pt,
				 size_t pt_len)
{
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	BIGNUM *gen = BN_new();
	OSSL_PARAM *params = NULL;
	int ok = b && gen;

	if (ok && dh->g->name)
		ok = OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, dh->g->name, 0);
	else if (ok)
		ok = BN_set_word(gen, 2) &&
		     OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_FFC_P, dh->p) &&
		     OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_FFC_G, gen);
	if (ok && y)
		ok = OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PUB_KEY, y);
	if (ok && pt)
		ok = OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt, pt_len);
	if (ok)
		params = OSSL_PARAM_BLD_to_param(b);
	BN_free(gen);
	OSSL_PARAM_BLD_free(b);
	return params;
}

/* A key (or, with selection EVP_PKEY_KEY_PARAMETERS, just the domain) of
 * dh's group from parameters, which it frees; NULL on failure, OpenSSL's
 * reason queued. */
static EVP_PKEY *from_params(const struct ike_dh *dh, int selection, OSSL_PARAM *params)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, algorithm(dh->g), NULL);
	EVP_PKEY *key = NULL;

	if (ctx && params && EVP_PKEY_fromdata_init(ctx) > 0)
		EVP_PKEY_fromdata(ctx, &key, selection, params);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return key;
}

static int keygen(struct ike_dh *dh, struct ike_err *err)
{
	EVP_PKEY *domain = NULL;
	EVP_PKEY_CTX *ctx;

	if (dh->g->kind == X25519) {
		dh->key = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
		return dh->key ? 0 : ikecr_ossl_fail(err, "X25519 key generation");
	}
	domain = from_params(dh, EVP_PKEY_KEY_PARAMETERS, domain_params(dh, NULL, NULL, 0));
	ctx = domain ? EVP_PKEY_CTX_new_from_pkey(NULL, domain, NULL) : NULL;
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_generate(ctx, &dh->key) <= 0)
		dh->key = NULL;
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(domain);
	return dh->key ? 0 : ikecr_ossl_fail(err, "DH key generation");
}

/* Our public value in wire form (see ike_dh_public()), and for the RFC
 * 3526 groups the prime OpenSSL used. */
static int load_public(struct ike_dh *dh, struct ike_err *err)
{
	uint8_t pt[1 + IKE_DH_PUBLIC_MAX];
	BIGNUM *y = NULL;
	size_t n = 0;
	int ok;

	switch (dh->g->kind) {
	case MODP:
		ok = (dh->p || EVP_PKEY_get_bn_param(dh->key, OSSL_PKEY_PARAM_FFC_P, &dh->p)) &&
		     EVP_PKEY_get_bn_param(dh->key, OSSL_PKEY_PARAM_PUB_KEY, &y) &&
		     BN_bn2binpad(y, dh->pub, dh->g->pub_len) == dh->g->pub_len;
		BN_free(y);
		break;
	case ECP: /* SEC 1 uncompressed: 0x04 | x | y */
		ok = EVP_PKEY_get_octet_string_param(dh->key, OSSL_PKEY_PARAM_PUB_KEY, pt,
						     sizeof(pt), &n) &&
		     n == 1u + dh->g->pub_len && pt[0] == 0x04;
		if (ok)
			memcpy(dh->pub, pt + 1, dh->g->pub_len);
		break;
	default:
		n = dh->g->pub_len;
		ok = EVP_PKEY_get_raw_public_key(dh->key, dh->pub, &n) && n == dh->g->pub_len;
	}
	return ok ? 0 : ikecr_ossl_fail(err, "DH public value");
}

/* A struct ike_dh for the group, without a key yet. */
static int dh_alloc(uint16_t group, struct ike_dh **out, struct ike_err *err)
{
	const struct group *g = find(group);
	struct ike_dh *dh;

	*out = NULL;
	if (g == NULL)
		return ike_fail(err, -EOPNOTSUPP, "DH group %u is not supported", group);
	dh = OPENSSL_zalloc(sizeof(*dh));
	if (dh == NULL)
		return ike_fail(err, -ENOMEM, "DH group %u: out of memory", group);
	dh->g = g;
	if (g->prime && !BN_hex2bn(&dh->p, g->prime)) {
		ike_dh_free(dh);
		return ikecr_ossl_fail(err, "DH prime");
	}
	*out = dh;
	return 0;
}

int ike_dh_new(uint16_t group, struct ike_dh **out, struct ike_err *err)
{
	int rc = dh_alloc(group, out, err);

	if (rc == 0)
		rc = keygen(*out, err);
	if (rc == 0)
		rc = load_public(*out, err);
	if (rc) {
		ike_dh_free(*out);
		*out = NULL;
	}
	return rc;
}

/* -EBADMSG naming the group and what is wrong with the peer's value, with
 * OpenSSL's reason where it had one. */
static int bad_peer(const struct ike_dh *dh, struct ike_err *err, const char *what)
{
	unsigned long e = ERR_get_error();
	const char *why = e ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return ike_fail(err, -EBADMSG, "DH group %u: peer public value %s%s%s%s", dh->g->id, what,
			why ? " (OpenSSL: " : "", why ? why : "", why ? ")" : "");
}

/* RFC 7296 §3.4, RFC 6989 §2.1: 1 < y < p - 1; 0, 1 and p - 1 would force
 * the secret into a subgroup of order 1 or 2. That is the whole check for
 * the MODP groups: their primes are safe (p = 2q + 1), so a value outside
 * the order-q subgroup can confine the secret to a subgroup of order 2q
 * at worst, which tells one bit of an exponent used once (RFC 6989 §2.2:
 * the y^q = 1 test is optional there). strongSwan checks the same; peers
 * that send random KE data, as ike-scan does, get their answer. */
static int modp_check(const struct ike_dh *dh, const BIGNUM *y, struct ike_err *err)
{
	BIGNUM *pm1 = BN_dup(dh->p);
	int rc = 0;

	if (pm1 == NULL || !BN_sub_word(pm1, 1))
		rc = ikecr_ossl_fail(err, "DH peer check");
	else if (BN_is_zero(y) || BN_is_one(y))
		rc = bad_peer(dh, err, BN_is_zero(y) ? "is 0" : "is 1");
	else if (BN_cmp(y, pm1) == 0)
		rc = bad_peer(dh, err, "is p - 1");
	else if (BN_cmp(y, pm1) > 0)
		rc = bad_peer(dh, err, "is not below the prime");
	BN_free(pm1);
	return rc;
}

/* The peer's wire value as an EVP_PKEY of our group, its form checked. */
static int peer_key(const struct ike_dh *dh, const uint8_t *v, size_t len, EVP_PKEY **out,
		    struct ike_err *err)
{
	uint8_t pt[1 + IKE_DH_PUBLIC_MAX];
	BIGNUM *y;
	int rc = 0;

	*out = NULL;
	if (len != dh->g->pub_len)
		return ike_fail(err, -EBADMSG, "DH group %u: peer public value has %zu bytes, not %u",
				dh->g->id, len, dh->g->pub_len);
	switch (dh->g->kind) {
	case MODP:
		y = BN_bin2bn(v, (int)len, NULL);
		rc = y ? modp_check(dh, y, err) : ikecr_ossl_fail(err, "DH peer value");
		if (rc == 0)
			*out = from_params(dh, EVP_PKEY_PUBLIC_KEY, domain_params(dh, y, NULL, 0));
		BN_free(y);
		break;
	case ECP: /* RFC 5903 §7: x | y, given to OpenSSL as SEC 1 0x04 | x | y */
		pt[0] = 0x04;
		memcpy(pt + 1, v, len);
		*out = from_params(dh, EVP_PKEY_PUBLIC_KEY, domain_params(dh, NULL, pt, len + 1));
		break;
	default:
		*out = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, v, len);
	}
	if (rc == 0 && *out == NULL)
		rc = bad_peer(dh, err, dh->g->kind == ECP ? "is not a point on the curve"
							  : "is not a valid public key");
	return rc;
}

/* RFC 7748 §6.1 and RFC 8031: a low-order u gives an all-zero secret.
 * OpenSSL refuses to derive it; the check after a success keeps that
 * promise whatever OpenSSL's version does. */
static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static int derive_failed(const struct ike_dh *dh, struct ike_err *err)
{
	if (dh->g->kind == X25519)
		return bad_peer(dh, err, "is a low-order point: the shared secret is all zero");
	return ikecr_ossl_fail(err, "DH derivation");
}

static int exchange(const struct ike_dh *dh, EVP_PKEY *peer, uint8_t *secret, size_t *len,
		    struct ike_err *err)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, dh->key, NULL);
	int rc = 0;

	*len = dh->g->secret_len;
	if (ctx == NULL || EVP_PKEY_derive_init(ctx) <= 0 ||
	    (dh->g->kind == MODP && EVP_PKEY_CTX_set_dh_pad(ctx, 1) <= 0))
		rc = ikecr_ossl_fail(err, "DH derivation");
	/* checked already (RFC 6989): MODP by modp_check(), a curve point by its
	 * import (on the curve, coordinates in the field: all a cofactor-1
	 * curve needs, no n * Q test), Curve25519 by the secret after */
	else if (EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) <= 0)
		rc = bad_peer(dh, err, "fails the public key check");
	else if (EVP_PKEY_derive(ctx, secret, len) <= 0 ||
		 (dh->g->kind == X25519 && all_zero(secret, *len)))
		rc = derive_failed(dh, err);
	else if (*len != dh->g->secret_len)
		rc = ike_fail(err, -EIO, "DH group %u: OpenSSL gave a %zu-byte secret, not %u",
			      dh->g->id, *len, dh->g->secret_len);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

int ike_dh_derive(const struct ike_dh *dh, const uint8_t *peer, size_t peer_len, uint8_t *secret,
		  size_t cap, size_t *len, struct ike_err *err)
{
	EVP_PKEY *pk = NULL;
	int rc;

	*len = 0;
	if (cap < dh->g->secret_len)
		return ike_fail(err, -EINVAL, "DH group %u: the secret needs %u bytes, %zu given",
				dh->g->id, dh->g->secret_len, cap);
	rc = peer_key(dh, peer, peer_len, &pk, err);
	if (rc == 0)
		rc = exchange(dh, pk, secret, len, err);
	if (rc) {
		OPENSSL_cleanse(secret, cap);
		*len = 0;
	}
	EVP_PKEY_free(pk);
	return rc;
}

/* Test hook: the ECP key pair of a fixed scalar d, its public point d * G
 * computed here since OpenSSL's import does not derive it. */
static EVP_PKEY *ecp_fixed(const struct ike_dh *dh, const uint8_t *priv, size_t len)
{
	EC_GROUP *grp = EC_GROUP_new_by_curve_name(EC_curve_nist2nid(dh->g->name));
	EC_POINT *pub = grp ? EC_POINT_new(grp) : NULL;
	BIGNUM *d = BN_bin2bn(priv, (int)len, NULL);
	uint8_t pt[1 + IKE_DH_PUBLIC_MAX];
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	EVP_PKEY *key = NULL;
	size_t n = 0;

	if (pub && d && b && EC_POINT_mul(grp, pub, d, NULL, NULL, NULL))
		n = EC_POINT_point2oct(grp, pub, POINT_CONVERSION_UNCOMPRESSED, pt, sizeof(pt),
				       NULL);
	if (n && OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, dh->g->name, 0) &&
	    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, d) &&
	    OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt, n))
		key = from_params(dh, EVP_PKEY_KEYPAIR, OSSL_PARAM_BLD_to_param(b));
	OSSL_PARAM_BLD_free(b);
	BN_clear_free(d);
	EC_POINT_free(pub);
	EC_GROUP_free(grp);
	return key;
}

int ike_dh_new_fixed_for_test(uint16_t group, const uint8_t *priv, size_t len,
			      struct ike_dh **out, struct ike_err *err)
{
	int rc = dh_alloc(group, out, err);
	struct ike_dh *dh = *out;

	if (rc)
		return rc;
	if (dh->g->kind == MODP || len != dh->g->secret_len)
		rc = ike_fail(err, -EOPNOTSUPP, "DH group %u: no fixed %zu-byte test key", group,
			      len);
	else
		dh->key = dh->g->kind == ECP ? ecp_fixed(dh, priv, len)
					     : EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL,
									    priv, len);
	if (rc == 0 && dh->key == NULL)
		rc = ikecr_ossl_fail(err, "DH test key");
	if (rc == 0)
		rc = load_public(dh, err);
	if (rc) {
		ike_dh_free(dh);
		*out = NULL;
	}
	return rc;
}
