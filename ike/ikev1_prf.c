/* ikev1_prf.c - IKEv1 key derivation, IVs and authentication hashes (see
 * ikev1_prf.h). Local key material is cleansed at each function's one
 * exit. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ike_prf.h"
#include "ikev1_prf.h"

#define EXPAND_SEED_MAX 5 /* g(qm)^xy | protocol | SPI | Ni_b | Nr_b */
#define EXPAND_BLOCKS 255  /* a bound for the caller's mistakes, as prf+ has */

static void put_be32(uint8_t b[4], uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

/* K1 | K2 | ... cut to len, K1 = prf(key, first), Ki+1 = prf(key, Ki |
 * next): how appendix B stretches SKEYID_e and §5.5 stretches KEYMAT. */
static int expand(uint16_t prf, struct ike_chunk key, const struct ike_chunk *first,
		  size_t n_first, const struct ike_chunk *next, size_t n_next, uint8_t *out,
		  size_t len, struct ike_err *err)
{
	size_t plen = ike_prf_len(prf), done = 0;
	struct ike_chunk in[EXPAND_SEED_MAX + 1];
	uint8_t kb[IKE_PRF_MAX];
	int rc;

	if (len > EXPAND_BLOCKS * plen || n_next > EXPAND_SEED_MAX)
		return ike_fail(err, -EINVAL, "IKEv1 key expansion: %zu bytes asked, at most %zu",
				len, EXPAND_BLOCKS * plen);
	rc = ike_prf(prf, key, first, n_first, kb, err);
	while (rc == 0) {
		size_t take = len - done < plen ? len - done : plen;

		memcpy(out + done, kb, take);
		done += take;
		if (done == len)
			break;
		in[0] = IKE_CHUNK(kb, plen); /* HMAC reads Ki before writing Ki+1 over it */
		if (n_next)
			memcpy(in + 1, next, n_next * sizeof(*next));
		rc = ike_prf(prf, key, in, n_next + 1, kb, err);
	}
	OPENSSL_cleanse(kb, sizeof(kb));
	if (rc)
		OPENSSL_cleanse(out, len);
	return rc;
}

int ikev1_skeyid_psk(struct ikev1_keys *k, struct ike_chunk psk, struct ike_chunk ni_b,
		     struct ike_chunk nr_b, struct ike_err *err)
{
	const struct ike_chunk in[] = { ni_b, nr_b };

	return ike_prf(k->prf, psk, in, IKE_NCHUNKS(in), k->skeyid, err);
}

int ikev1_skeyid_sig(struct ikev1_keys *k, struct ike_chunk ni_b, struct ike_chunk nr_b,
		     struct ike_chunk g_xy, struct ike_err *err)
{
	return ikev2_skeyseed(k->prf, ni_b, nr_b, g_xy, k->skeyid, err); /* the same formula */
}

/* Appendix B: the cipher key from SKEYID_e, stretched if it is too short.
 * A weak or semi-weak DES key is refused, as RFC 2409 asks (once in 2^52
 * Main Modes: the exchange fails and the peer tries again). */
static int cipher_key(struct ikev1_keys *k, struct ike_err *err)
{
	static const uint8_t zero;
	const struct ike_chunk first = IKE_CHUNK(&zero, 1);
	int rc = 0;

	if (k->prf_len >= k->key_len)
		memcpy(k->key, k->skeyid_e, k->key_len);
	else
		rc = expand(k->prf, IKE_CHUNK(k->skeyid_e, k->prf_len), &first, 1, NULL, 0, k->key,
			    k->key_len, err);
	if (rc == 0 && ikecr_weak_key(k->cipher, k->key))
		rc = ike_fail(err, -EKEYREJECTED, "IKEv1: a weak %s key derived; refused", k->cipher);
	return rc;
}

int ikev1_keys_derive(struct ikev1_keys *k, struct ike_chunk g_xy, const uint8_t cky_i[8],
		      const uint8_t cky_r[8], struct ike_err *err)
{
	static const uint8_t n0 = 0, n1 = 1, n2 = 2;
	const struct ike_chunk skeyid = IKE_CHUNK(k->skeyid, k->prf_len);
	const struct ike_chunk ci = IKE_CHUNK(cky_i, 8), cr = IKE_CHUNK(cky_r, 8);
	const struct ike_chunk d_in[] = { g_xy, ci, cr, IKE_CHUNK(&n0, 1) };
	const struct ike_chunk a_in[] = { IKE_CHUNK(k->skeyid_d, k->prf_len), g_xy, ci, cr,
					  IKE_CHUNK(&n1, 1) };
	const struct ike_chunk e_in[] = { IKE_CHUNK(k->skeyid_a, k->prf_len), g_xy, ci, cr,
					  IKE_CHUNK(&n2, 1) };
	int rc = ike_prf(k->prf, skeyid, d_in, IKE_NCHUNKS(d_in), k->skeyid_d, err);

	if (rc == 0)
		rc = ike_prf(k->prf, skeyid, a_in, IKE_NCHUNKS(a_in), k->skeyid_a, err);
	if (rc == 0)
		rc = ike_prf(k->prf, skeyid, e_in, IKE_NCHUNKS(e_in), k->skeyid_e, err);
	if (rc == 0)
		rc = cipher_key(k, err);
	if (rc)
		OPENSSL_cleanse(k->skeyid, sizeof(*k) - offsetof(struct ikev1_keys, skeyid));
	return rc;
}

/* prf(SKEYID, g^x(me) | g^x(peer) | CKY-me | CKY-peer | SAi_b | ID_b). */
static int auth_hash(const struct ikev1_keys *k, const struct ikev1_auth_in *a, bool responder,
		     uint8_t *out, struct ike_err *err)
{
	const struct ike_chunk gi = a->g_xi, gr = a->g_xr;
	const struct ike_chunk ci = IKE_CHUNK(a->cky_i, 8), cr = IKE_CHUNK(a->cky_r, 8);
	const struct ike_chunk in[] = { responder ? gr : gi, responder ? gi : gr,
					responder ? cr : ci, responder ? ci : cr,
					a->sai_b, a->id_b };

	return ike_prf(k->prf, IKE_CHUNK(k->skeyid, k->prf_len), in, IKE_NCHUNKS(in), out, err);
}

int ikev1_hash_i(const struct ikev1_keys *k, const struct ikev1_auth_in *in, uint8_t *out,
		 struct ike_err *err)
{
	return auth_hash(k, in, false, out, err);
}

int ikev1_hash_r(const struct ikev1_keys *k, const struct ikev1_auth_in *in, uint8_t *out,
		 struct ike_err *err)
{
	return auth_hash(k, in, true, out, err);
}

/* hash(in...) cut to the cipher's block: the negotiated hash, not its HMAC. */
static int iv_hash(const struct ikev1_keys *k, const struct ike_chunk *in, size_t n,
		   struct ikev1_iv *iv, struct ike_err *err)
{
	uint8_t h[IKE_PRF_MAX];
	int rc = ikecr_hash(ikecr_prf_find(k->prf)->md, in, n, h, err);

	if (rc == 0) {
		memcpy(iv->b, h, k->block_len);
		iv->len = k->block_len;
	}
	return rc;
}

int ikev1_phase1_iv(const struct ikev1_keys *k, struct ike_chunk g_xi, struct ike_chunk g_xr,
		    struct ikev1_iv *iv, struct ike_err *err)
{
	const struct ike_chunk in[] = { g_xi, g_xr };

	return iv_hash(k, in, IKE_NCHUNKS(in), iv, err);
}

int ikev1_phase2_iv(const struct ikev1_keys *k, const struct ikev1_iv *last, uint32_t mid,
		    struct ikev1_iv *iv, struct ike_err *err)
{
	uint8_t m[4];
	const struct ike_chunk in[] = { IKE_CHUNK(last->b, last->len), IKE_CHUNK(m, 4) };

	put_be32(m, mid);
	return iv_hash(k, in, IKE_NCHUNKS(in), iv, err);
}

static int hash_a(const struct ikev1_keys *k, const struct ike_chunk *in, size_t n, uint8_t *out,
		  struct ike_err *err)
{
	return ike_prf(k->prf, IKE_CHUNK(k->skeyid_a, k->prf_len), in, n, out, err);
}

int ikev1_qm_hash1(const struct ikev1_keys *k, uint32_t mid, struct ike_chunk rest, uint8_t *out,
		   struct ike_err *err)
{
	uint8_t m[4];
	const struct ike_chunk in[] = { IKE_CHUNK(m, 4), rest };

	put_be32(m, mid);
	return hash_a(k, in, IKE_NCHUNKS(in), out, err);
}

int ikev1_qm_hash2(const struct ikev1_keys *k, uint32_t mid, struct ike_chunk ni_b,
		   struct ike_chunk rest, uint8_t *out, struct ike_err *err)
{
	uint8_t m[4];
	const struct ike_chunk in[] = { IKE_CHUNK(m, 4), ni_b, rest };

	put_be32(m, mid);
	return hash_a(k, in, IKE_NCHUNKS(in), out, err);
}

int ikev1_qm_hash3(const struct ikev1_keys *k, uint32_t mid, struct ike_chunk ni_b,
		   struct ike_chunk nr_b, uint8_t *out, struct ike_err *err)
{
	static const uint8_t zero;
	uint8_t m[4];
	const struct ike_chunk in[] = { IKE_CHUNK(&zero, 1), IKE_CHUNK(m, 4), ni_b, nr_b };

	put_be32(m, mid);
	return hash_a(k, in, IKE_NCHUNKS(in), out, err);
}

int ikev1_qm_keymat(const struct ikev1_keys *k, struct ike_chunk g_qm, uint8_t protocol,
		    const uint8_t spi[4], struct ike_chunk ni_b, struct ike_chunk nr_b,
		    uint8_t *keymat, size_t len, struct ike_err *err)
{
	const struct ike_chunk seed[] = { g_qm, IKE_CHUNK(&protocol, 1), IKE_CHUNK(spi, 4), ni_b,
					  nr_b }; /* an empty g(qm)^xy adds nothing */

	return expand(k->prf, IKE_CHUNK(k->skeyid_d, k->prf_len), seed, IKE_NCHUNKS(seed), seed,
		      IKE_NCHUNKS(seed), keymat, len, err);
}
