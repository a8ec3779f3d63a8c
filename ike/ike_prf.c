/* ike_prf.c - IKE's PRFs, prf+ and the IKEv2 key derivation (see
 * ike_prf.h). Every function that holds key material in a local buffer
 * leaves through one exit label that cleanses it. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ike_prf.h"

#define PRF_PLUS_SEED_MAX 4 /* Ni | Nr | SPIi | SPIr */
#define PRF_PLUS_BLOCKS 255 /* RFC 7296 §2.13: the counter is one octet */

static const struct ikecr_prf *prf_get(uint16_t prf, struct ike_err *err)
{
	const struct ikecr_prf *p = ikecr_prf_find(prf);

	if (p == NULL)
		ike_fail(err, -EOPNOTSUPP, "PRF %u is not supported", prf);
	return p;
}

size_t ike_prf_len(uint16_t prf)
{
	const struct ikecr_prf *p = ikecr_prf_find(prf);

	return p ? p->len : 0;
}

int ike_prf(uint16_t prf, struct ike_chunk key, const struct ike_chunk *in, size_t n,
	    uint8_t *out, struct ike_err *err)
{
	const struct ikecr_prf *p = prf_get(prf, err);

	if (p == NULL)
		return -EOPNOTSUPP;
	return ikecr_mac(p->mac, p->md, key.p, key.len, in, n, out, err);
}

int ike_prf_plus(uint16_t prf, struct ike_chunk key, const struct ike_chunk *seed, size_t n,
		 uint8_t *out, size_t len, struct ike_err *err)
{
	const struct ikecr_prf *p = prf_get(prf, err);
	struct ike_chunk in[PRF_PLUS_SEED_MAX + 2];
	uint8_t t[IKE_PRF_MAX];
	size_t done = 0;
	int rc = 0;

	if (p == NULL)
		return -EOPNOTSUPP;
	if (n > PRF_PLUS_SEED_MAX)
		return ike_fail(err, -EINVAL, "prf+: %zu seed pieces, at most %d", n,
				PRF_PLUS_SEED_MAX);
	if (len > (size_t)PRF_PLUS_BLOCKS * p->len)
		return ike_fail(err, -EINVAL, "prf+: %zu bytes asked, %s gives at most %d", len,
				p->md, PRF_PLUS_BLOCKS * p->len);
	for (uint8_t i = 1; done < len; i++) {
		size_t k = 0, take = len - done < p->len ? len - done : p->len;

		if (i > 1)
			in[k++] = IKE_CHUNK(t, p->len); /* T(i-1) */
		memcpy(in + k, seed, n * sizeof(*seed));
		k += n;
		in[k++] = IKE_CHUNK(&i, 1);
		rc = ikecr_mac(p->mac, p->md, key.p, key.len, in, k, t, err);
		if (rc)
			goto out;
		memcpy(out + done, t, take);
		done += take;
	}
out:
	OPENSSL_cleanse(t, sizeof(t));
	if (rc)
		OPENSSL_cleanse(out, len);
	return rc;
}

static int nonce_ok(const char *name, struct ike_chunk n, struct ike_err *err)
{
	if (n.len == 0 || n.len > IKE_NONCE_MAX)
		return ike_fail(err, -EINVAL, "%s of %zu bytes (1 to %d)", name, n.len,
				IKE_NONCE_MAX);
	return 0;
}

/* RFC 7296 §2.14: a PRF of a fixed key length (the AES PRFs) is keyed
 * with the first 64 bits of Ni and of Nr, not with all of both. */
static void cut_nonces(uint16_t prf, struct ike_chunk *ni, struct ike_chunk *nr)
{
	const struct ikecr_prf *p = ikecr_prf_find(prf);

	if (p == NULL || p->mac == IKECR_MAC_HMAC)
		return;
	ni->len = ni->len < 8 ? ni->len : 8;
	nr->len = nr->len < 8 ? nr->len : 8;
}

int ikev2_skeyseed(uint16_t prf, struct ike_chunk ni, struct ike_chunk nr,
		   struct ike_chunk g_ir, uint8_t *skeyseed, struct ike_err *err)
{
	uint8_t key[2 * IKE_NONCE_MAX]; /* Ni | Nr: public, but cleansed like any key */
	int rc = nonce_ok("Ni", ni, err);

	if (rc == 0)
		rc = nonce_ok("Nr", nr, err);
	if (rc)
		return rc;
	cut_nonces(prf, &ni, &nr);
	memcpy(key, ni.p, ni.len);
	memcpy(key + ni.len, nr.p, nr.len);
	rc = ike_prf(prf, IKE_CHUNK(key, ni.len + nr.len), &g_ir, 1, skeyseed, err);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int ikev2_skeyseed_rekey(uint16_t old_prf, struct ike_chunk old_sk_d, struct ike_chunk g_ir,
			 struct ike_chunk ni, struct ike_chunk nr, uint8_t *skeyseed,
			 struct ike_err *err)
{
	const struct ike_chunk in[] = { g_ir, ni, nr };
	int rc = nonce_ok("Ni", ni, err);

	if (rc == 0)
		rc = nonce_ok("Nr", nr, err);
	if (rc == 0)
		rc = ike_prf(old_prf, old_sk_d, in, IKE_NCHUNKS(in), skeyseed, err);
	return rc;
}

/* Copies the next len bytes of the key stream to dst. */
static void take(const uint8_t **src, uint8_t *dst, size_t len)
{
	memcpy(dst, *src, len);
	*src += len;
}

static void wipe_keys(struct ikev2_keys *k)
{
	OPENSSL_cleanse(k->sk_d, sizeof(*k) - offsetof(struct ikev2_keys, sk_d));
}

int ikev2_keys_derive(struct ikev2_keys *k, const uint8_t *skeyseed, struct ike_chunk ni,
		      struct ike_chunk nr, const uint8_t spi_i[8], const uint8_t spi_r[8],
		      struct ike_err *err)
{
	const struct ike_chunk seed[] = { ni, nr, IKE_CHUNK(spi_i, 8), IKE_CHUNK(spi_r, 8) };
	uint8_t km[3 * IKE_PRF_MAX + 2 * IKE_INTEG_KEY_MAX + 2 * IKE_ENCR_KEY_MAX];
	size_t len = 3u * k->prf_len + 2u * (k->a_len + k->e_len);
	const uint8_t *p = km;
	int rc = nonce_ok("Ni", ni, err);

	if (rc == 0)
		rc = nonce_ok("Nr", nr, err);
	if (rc == 0)
		rc = ike_prf_plus(k->suite.prf, IKE_CHUNK(skeyseed, k->prf_len), seed,
				  IKE_NCHUNKS(seed), km, len, err);
	if (rc)
		goto out;
	take(&p, k->sk_d, k->prf_len);
	take(&p, k->sk_ai, k->a_len);
	take(&p, k->sk_ar, k->a_len);
	take(&p, k->sk_ei, k->e_len);
	take(&p, k->sk_er, k->e_len);
	take(&p, k->sk_pi, k->prf_len);
	take(&p, k->sk_pr, k->prf_len);
out:
	OPENSSL_cleanse(km, sizeof(km));
	if (rc)
		wipe_keys(k);
	return rc;
}

int ikev2_child_keymat(const struct ikev2_keys *k, struct ike_chunk g_ir, struct ike_chunk ni,
		       struct ike_chunk nr, uint8_t *keymat, size_t len, struct ike_err *err)
{
	const struct ike_chunk seed[] = { g_ir, ni, nr }; /* an empty g^ir adds nothing */
	int rc = nonce_ok("Ni", ni, err);

	if (rc == 0)
		rc = nonce_ok("Nr", nr, err);
	if (rc == 0)
		rc = ike_prf_plus(k->suite.prf, IKE_CHUNK(k->sk_d, k->prf_len), seed,
				  IKE_NCHUNKS(seed), keymat, len, err);
	return rc;
}
