/* ikecr_aesmac.c - the AES MACs of IKEv2 over concatenated pieces:
 * AES-XCBC-MAC (RFC 3566, on AES-128-ECB: OpenSSL has no XCBC) and AES-CMAC
 * (RFC 4493, OpenSSL's CMAC), their PRFs' key rule (AES-XCBC-PRF-128, RFC
 * 4434; AES-CMAC-PRF-128, RFC 4615), and ikecr_mac(), which picks the MAC
 * of an integrity algorithm or PRF (see ikecr.h). */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ikecr.h"

#define AES_BLOCK 16

/* One AES-128 block in place with a context keyed for ECB. */
static int aes_block(EVP_CIPHER_CTX *ctx, uint8_t b[AES_BLOCK])
{
	int out = 0;

	return EVP_EncryptUpdate(ctx, b, &out, b, AES_BLOCK) && out == AES_BLOCK ? 0 : -1;
}

static EVP_CIPHER_CTX *aes_ecb(const uint8_t key[AES_BLOCK])
{
	const EVP_CIPHER *c = ikecr_cipher_fetch("AES-128-ECB");
	EVP_CIPHER_CTX *ctx = c ? EVP_CIPHER_CTX_new() : NULL;

	if (ctx && EVP_EncryptInit_ex2(ctx, c, key, NULL, NULL) && EVP_CIPHER_CTX_set_padding(ctx, 0))
		return ctx;
	EVP_CIPHER_CTX_free(ctx);
	return NULL;
}

/* RFC 3566 §4: K1, K2 and K3 are AES-K of 16 bytes of 0x01, 0x02, 0x03. */
static int xcbc_subkeys(const uint8_t key[AES_BLOCK], uint8_t k[3][AES_BLOCK])
{
	EVP_CIPHER_CTX *ctx = aes_ecb(key);
	int rc = ctx ? 0 : -1;

	for (int i = 0; rc == 0 && i < 3; i++) {
		memset(k[i], i + 1, AES_BLOCK);
		rc = aes_block(ctx, k[i]);
	}
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* The chain E = AES-K1(M[i] ^ E) over every block but the last, which
 * stays in last (*last_len bytes, 1..16; 0 for an empty message). */
static int xcbc_chain(EVP_CIPHER_CTX *k1, const struct ike_chunk *in, size_t n, uint8_t e[AES_BLOCK],
		      uint8_t last[AES_BLOCK], size_t *last_len)
{
	*last_len = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < in[i].len; j++) {
			if (*last_len == AES_BLOCK) { /* more follows: not the last block */
				for (int b = 0; b < AES_BLOCK; b++)
					e[b] ^= last[b];
				if (aes_block(k1, e) < 0)
					return -1;
				*last_len = 0;
			}
			last[(*last_len)++] = in[i].p[j];
		}
	return 0;
}

/* RFC 3566 §4: a whole last block is XORed with K2, a short one (or an
 * empty message) padded with 0x80 0x00... and XORed with K3. */
static int xcbc(const uint8_t key[AES_BLOCK], const struct ike_chunk *in, size_t n,
		uint8_t out[AES_BLOCK])
{
	uint8_t k[3][AES_BLOCK], e[AES_BLOCK] = { 0 }, last[AES_BLOCK];
	EVP_CIPHER_CTX *k1 = NULL;
	size_t len = 0;
	int rc = xcbc_subkeys(key, k);

	if (rc == 0 && (k1 = aes_ecb(k[0])) == NULL)
		rc = -1;
	if (rc == 0)
		rc = xcbc_chain(k1, in, n, e, last, &len);
	if (rc == 0) {
		const uint8_t *kx = len == AES_BLOCK ? k[1] : k[2];

		if (len < AES_BLOCK) {
			last[len] = 0x80;
			memset(last + len + 1, 0, AES_BLOCK - len - 1);
		}
		for (int b = 0; b < AES_BLOCK; b++)
			e[b] ^= last[b] ^ kx[b];
		rc = aes_block(k1, e);
	}
	if (rc == 0)
		memcpy(out, e, AES_BLOCK);
	EVP_CIPHER_CTX_free(k1);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(e, sizeof(e));
	OPENSSL_cleanse(last, sizeof(last));
	return rc;
}

/* OpenSSL's CMAC, fetched on first use and kept for the process (as the
 * HMAC templates of ikecr.c): a fetch looks the name up among the
 * providers. A racing second fetch is freed. */
static EVP_MAC *cmac_alg(void)
{
	static EVP_MAC *kept;
	EVP_MAC *m = __atomic_load_n(&kept, __ATOMIC_ACQUIRE), *expected = NULL;

	if (m != NULL || (m = EVP_MAC_fetch(NULL, "CMAC", NULL)) == NULL)
		return m;
	if (!__atomic_compare_exchange_n(&kept, &expected, m, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		EVP_MAC_free(m);
		return expected;
	}
	return m;
}

/* AES-CMAC with OpenSSL's CMAC on AES-128-CBC. */
static int cmac(const uint8_t key[AES_BLOCK], const struct ike_chunk *in, size_t n,
		uint8_t out[AES_BLOCK])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, "AES-128-CBC", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = cmac_alg();
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	size_t len = 0;
	int ok = ctx && EVP_MAC_init(ctx, key, AES_BLOCK, params);

	for (size_t i = 0; ok && i < n; i++)
		ok = in[i].len == 0 || EVP_MAC_update(ctx, in[i].p, in[i].len);
	ok = ok && EVP_MAC_final(ctx, out, &len, AES_BLOCK) && len == AES_BLOCK;
	EVP_MAC_CTX_free(ctx); /* cleanses the keyed state */
	return ok ? 0 : -1;
}

static int aes_mac(uint8_t kind, const uint8_t key[AES_BLOCK], const struct ike_chunk *in,
		   size_t n, uint8_t out[AES_BLOCK])
{
	return kind == IKECR_MAC_AES_XCBC ? xcbc(key, in, n, out) : cmac(key, in, n, out);
}

/* The PRFs' key rule: a 16-byte key as it is; RFC 4434 pads a shorter
 * one with zeros, both RFCs make any other the MAC of it under a key of
 * zeros (RFC 4615 a shorter one too). */
static int aes_prf_key(uint8_t kind, const uint8_t *key, size_t key_len, uint8_t k[AES_BLOCK])
{
	static const uint8_t zero[AES_BLOCK];
	const struct ike_chunk vk = IKE_CHUNK(key, key_len);

	if (key_len == AES_BLOCK) {
		memcpy(k, key, AES_BLOCK);
		return 0;
	}
	if (key_len < AES_BLOCK && kind == IKECR_MAC_AES_XCBC) {
		memset(k, 0, AES_BLOCK);
		memcpy(k, key, key_len);
		return 0;
	}
	return aes_mac(kind, zero, &vk, 1, k);
}

int ikecr_mac(uint8_t kind, const char *md, const uint8_t *key, size_t key_len,
	      const struct ike_chunk *in, size_t n, uint8_t *out, struct ike_err *err)
{
	uint8_t k[AES_BLOCK];
	int rc;

	if (kind == IKECR_MAC_HMAC)
		return ikecr_hmac(md, key, key_len, in, n, out, err);
	rc = aes_prf_key(kind, key, key_len, k);
	if (rc == 0)
		rc = aes_mac(kind, k, in, n, out);
	OPENSSL_cleanse(k, sizeof(k));
	return rc == 0 ? 0 : ikecr_ossl_fail(err, kind == IKECR_MAC_AES_XCBC ? "AES-XCBC" : "AES-CMAC");
}
