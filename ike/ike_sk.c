/* ike_sk.c - encryption of IKE messages: IKEv2 Encrypted payloads (CBC +
 * HMAC, AES-GCM, ChaCha20-Poly1305) and IKEv1's chained CBC (see ike_sk.h). */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ike_sk.h"
#include "ikecr.h"
#include "ikev2_msg.h"
#include "isakmp_msg.h"

#define AEAD_NONCE_LEN 12 /* RFC 5282 §4, RFC 7634 §3: salt (4) | IV (8) */

/* CBC over whole blocks, in place, no padding of OpenSSL's own. */
static int cbc(const char *name, int enc, const uint8_t *key, const uint8_t *iv, uint8_t *buf,
	       size_t len, struct ike_err *err)
{
	const EVP_CIPHER *c = ikecr_cipher_fetch(name);
	EVP_CIPHER_CTX *ctx = c ? EVP_CIPHER_CTX_new() : NULL;
	int out = 0;
	int ok = ctx && EVP_CipherInit_ex2(ctx, c, key, iv, enc, NULL) &&
		 EVP_CIPHER_CTX_set_padding(ctx, 0) &&
		 EVP_CipherUpdate(ctx, buf, &out, buf, (int)len) && out == (int)len;

	EVP_CIPHER_CTX_free(ctx); /* cleanses the key schedule */
	return ok ? 0 : ikecr_ossl_fail(err, name);
}

static int integrity_failed(struct ike_err *err)
{
	return ike_fail(err, -EKEYREJECTED, "Encrypted payload: integrity check failed");
}

/* RFC 5282 (AES-GCM), RFC 7634 §3 (ChaCha20-Poly1305): SK_e is the key
 * followed by a 4-byte salt; the nonce is salt | the 8-byte IV; the
 * 16-byte tag is the ICV. Encrypting writes the tag, decrypting checks it
 * (-EKEYREJECTED). */
static int aead(const struct ikev2_keys *k, int enc, const uint8_t *sk_e, const uint8_t *iv,
	       const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len, uint8_t *tag,
	       struct ike_err *err)
{
	const EVP_CIPHER *c = ikecr_cipher_fetch(k->cipher);
	EVP_CIPHER_CTX *ctx = c ? EVP_CIPHER_CTX_new() : NULL;
	size_t key_len = k->e_len - k->salt_len;
	uint8_t nonce[AEAD_NONCE_LEN], fin[IKE_BLOCK_MAX];
	int out = 0, rc = 0;

	memcpy(nonce, sk_e + key_len, k->salt_len);
	memcpy(nonce + k->salt_len, iv, k->iv_len);
	if (!ctx || !EVP_CipherInit_ex2(ctx, c, sk_e, nonce, enc, NULL) ||
	    !EVP_CipherUpdate(ctx, NULL, &out, aad, (int)aad_len) ||
	    !EVP_CipherUpdate(ctx, buf, &out, buf, (int)len) ||
	    (!enc && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, k->icv_len, tag)))
		rc = ikecr_ossl_fail(err, k->cipher);
	else if (EVP_CipherFinal_ex(ctx, fin, &out) <= 0)
		rc = enc ? ikecr_ossl_fail(err, k->cipher) : integrity_failed(err);
	else if (enc && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, k->icv_len, tag))
		rc = ikecr_ossl_fail(err, k->cipher);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* The truncated MAC over msg[0..len). */
static int icv(const struct ikev2_keys *k, const uint8_t *sk_a, const uint8_t *msg, size_t len,
	       uint8_t *out, struct ike_err *err)
{
	const struct ike_chunk in = IKE_CHUNK(msg, len);
	uint8_t mac[EVP_MAX_MD_SIZE];
	int rc = ikecr_mac(k->integ_mac, k->integ_md, sk_a, k->a_len, &in, 1, mac, err);

	if (rc == 0)
		memcpy(out, mac, k->icv_len);
	return rc;
}

size_t ikev2_sk_ct_len(const struct ikev2_keys *k, size_t plain_len)
{
	return (plain_len + 1 + k->block_len - 1) / k->block_len * k->block_len;
}

/* The Encrypted payload's body, cut up: IV | ciphertext | ICV. */
struct sk_parts {
	uint8_t *iv, *ct, *icv;
	size_t ct_len;
};

/* code: -EBADMSG for a received message, -EINVAL for one we seal. */
static int split(const struct ikev2_keys *k, uint8_t *msg, size_t len, size_t aad_len, int code,
		 struct sk_parts *s, struct ike_err *err)
{
	size_t min = (size_t)k->iv_len + k->block_len + k->icv_len;

	if (aad_len < IKEV2_HDR_LEN + IKEV2_PL_HDR_LEN || aad_len > len)
		return ike_fail(err, -EINVAL, "Encrypted payload: body at %zu in a %zu-byte message",
				aad_len, len);
	if (len - aad_len < min)
		return ike_fail(err, code,
				"Encrypted payload: %zu bytes, fewer than IV, one block and ICV (%zu)",
				len - aad_len, min);
	s->iv = msg + aad_len;
	s->ct = s->iv + k->iv_len;
	s->ct_len = len - aad_len - k->iv_len - k->icv_len;
	s->icv = s->ct + s->ct_len;
	if (s->ct_len % k->block_len)
		return ike_fail(err, code,
				"Encrypted payload: %zu bytes of ciphertext, not whole %u-byte blocks",
				s->ct_len, k->block_len);
	return 0;
}

/* The header's length field must be the message's: a message cut short
 * is malformed, not merely unauthentic. */
static int length_ok(const uint8_t *msg, size_t len, int code, struct ike_err *err)
{
	if (len < IKEV2_HDR_LEN)
		return ike_fail(err, code, "IKEv2 message: %zu bytes, shorter than the header",
				len);
	if (ike_get32(msg + 24) != len)
		return ike_fail(err, code, "IKEv2 header: length %u but the message has %zu bytes",
				ike_get32(msg + 24), len);
	return 0;
}

int ikev2_sk_seal(const struct ikev2_keys *k, uint8_t *msg, size_t len, size_t aad_len,
		  size_t plain_len, struct ike_err *err)
{
	const uint8_t *ek = k->initiator ? k->sk_ei : k->sk_er;
	const uint8_t *ak = k->initiator ? k->sk_ai : k->sk_ar;
	struct sk_parts s = { 0 }; /* split() fills it; zeroed for -O3's flow analysis */
	int rc = length_ok(msg, len, -EINVAL, err);

	if (rc == 0)
		rc = split(k, msg, len, aad_len, -EINVAL, &s, err);
	if (rc == 0 && s.ct_len != ikev2_sk_ct_len(k, plain_len))
		rc = ike_fail(err, -EINVAL, "SK seal: %zu bytes of ciphertext space for %zu, not %zu",
			      s.ct_len, plain_len, ikev2_sk_ct_len(k, plain_len));
	if (rc)
		return rc;
	memset(s.ct + plain_len, 0, s.ct_len - plain_len - 1);	/* RFC 7296 §3.14: any value */
	s.ct[s.ct_len - 1] = (uint8_t)(s.ct_len - plain_len - 1); /* Pad Length */
	if (RAND_bytes(s.iv, k->iv_len) != 1)
		rc = ikecr_ossl_fail(err, "SK IV");
	else if (k->integ_md == NULL)
		rc = aead(k, 1, ek, s.iv, msg, aad_len, s.ct, s.ct_len, s.icv, err);
	else if ((rc = cbc(k->cipher, 1, ek, s.iv, s.ct, s.ct_len, err)) == 0)
		rc = icv(k, ak, msg, len - k->icv_len, s.icv, err);
	if (rc)
		OPENSSL_cleanse(s.ct, s.ct_len);
	return rc;
}

/* Verifies the ICV, then decrypts (CBC), or both at once (AEAD). */
static int decrypt(const struct ikev2_keys *k, uint8_t *msg, size_t len, size_t aad_len,
		   const struct sk_parts *s, struct ike_err *err)
{
	const uint8_t *ek = k->initiator ? k->sk_er : k->sk_ei; /* the peer's keys */
	const uint8_t *ak = k->initiator ? k->sk_ar : k->sk_ai;
	uint8_t want[EVP_MAX_MD_SIZE];
	int rc;

	if (k->integ_md == NULL)
		return aead(k, 0, ek, s->iv, msg, aad_len, s->ct, s->ct_len, s->icv, err);
	rc = icv(k, ak, msg, len - k->icv_len, want, err);
	if (rc == 0 && CRYPTO_memcmp(want, s->icv, k->icv_len) != 0)
		rc = integrity_failed(err);
	return rc ? rc : cbc(k->cipher, 0, ek, s->iv, s->ct, s->ct_len, err);
}

int ikev2_sk_open(const struct ikev2_keys *k, uint8_t *msg, size_t len, size_t aad_len,
		  uint8_t **plain, size_t *plain_len, struct ike_err *err)
{
	struct sk_parts s = { 0 }; /* split() fills it; zeroed for -O3's flow analysis */
	int rc = length_ok(msg, len, -EBADMSG, err);

	if (rc == 0)
		rc = split(k, msg, len, aad_len, -EBADMSG, &s, err);
	if (rc)
		return rc;
	rc = decrypt(k, msg, len, aad_len, &s, err);
	if (rc == 0 && s.ct[s.ct_len - 1] >= s.ct_len) {
		rc = ike_fail(err, -EBADMSG, "Encrypted payload: Pad Length %u in %zu bytes",
			      s.ct[s.ct_len - 1], s.ct_len);
		if (err)
			err->notify = IKEV2_N_INVALID_SYNTAX;
	}
	if (rc) { /* wipe what was decrypted: all but CBC with a bad ICV */
		if (rc != -EKEYREJECTED || k->integ_md == NULL)
			OPENSSL_cleanse(s.ct, s.ct_len);
		return rc;
	}
	*plain = s.ct;
	*plain_len = s.ct_len - s.ct[s.ct_len - 1] - 1;
	return 0;
}

size_t ikev1_ct_len(const struct ikev1_keys *k, size_t plain_len)
{
	return (plain_len / k->block_len + 1) * k->block_len;
}

static int iv_ok(const struct ikev1_keys *k, const struct ikev1_iv *iv, struct ike_err *err)
{
	if (iv->len != k->block_len)
		return ike_fail(err, -EINVAL, "IKEv1: a %u-byte IV for %u-byte blocks", iv->len,
				k->block_len);
	return 0;
}

static void last_block(struct ikev1_iv *next, const uint8_t *ct, size_t len, uint8_t block)
{
	memcpy(next->b, ct + len - block, block);
	next->len = block;
}

int ikev1_encrypt(const struct ikev1_keys *k, const struct ikev1_iv *iv, uint8_t *buf,
		  size_t plain_len, size_t cap, size_t *ct_len, struct ikev1_iv *next,
		  struct ike_err *err)
{
	size_t n = ikev1_ct_len(k, plain_len);
	int rc = iv_ok(k, iv, err);

	if (rc == 0 && n > cap)
		rc = ike_fail(err, -ENOSPC, "IKEv1: %zu bytes padded to %zu, the buffer holds %zu",
			      plain_len, n, cap);
	if (rc)
		return rc;
	memset(buf + plain_len, 0, n - plain_len);
	rc = cbc(k->cipher, 1, k->key, iv->b, buf, n, err);
	if (rc) {
		OPENSSL_cleanse(buf, n);
		return rc;
	}
	*ct_len = n;
	last_block(next, buf, n, k->block_len);
	return 0;
}

int ikev1_decrypt(const struct ikev1_keys *k, const struct ikev1_iv *iv, uint8_t *buf,
		  size_t len, struct ikev1_iv *next, struct ike_err *err)
{
	struct ikev1_iv last;
	int rc = iv_ok(k, iv, err);

	if (rc)
		return rc;
	if (len == 0 || len % k->block_len) {
		rc = ike_fail(err, -EBADMSG,
			      "IKEv1 encrypted message: %zu bytes, not whole %u-byte blocks", len,
			      k->block_len);
		if (err)
			err->notify = ISAKMP_N_PAYLOAD_MALFORMED;
		return rc;
	}
	last_block(&last, buf, len, k->block_len); /* before it is decrypted over */
	rc = cbc(k->cipher, 0, k->key, iv->b, buf, len, err);
	if (rc == 0)
		*next = last;
	return rc;
}
