/* crypto_world.h - what the CPU crypto engine's tests share
 * (test_crypto.c: vectors; test_crypto_burst.c: random bursts): the
 * engine of one test, reproducible random data, SA configurations of each
 * kind, and OpenSSL, which shares no code with intel-ipsec-mb, as the
 * reference. No EAL: the engine needs none. */
#ifndef CRYPTO_WORLD_H
#define CRYPTO_WORLD_H

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ofl_engine.h"
#include "check_run.h"

/* ck_assert_msg() records its location on every call; in loops only a
 * failure is worth that. */
#define EXPECT(cond, ...)                          \
	do {                                       \
		if (!(cond))                       \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

#define GUARD 0xa5
#define MAX_DATA 1600

static struct ofl_cpu *eng;
static uint64_t rng_state;

static inline void setup(void)
{
	eng = ofl_cpu_create(0);
	ck_assert_ptr_nonnull(eng);
}

static inline void teardown(void)
{
	ofl_cpu_free(eng);
	eng = NULL;
}

/* xorshift64*: reproducible test data (seed printed by crypto_seed) */
static inline uint32_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * UINT64_C(2685821657736338717)) >> 32);
}

static inline void rnd_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* Hex, or "XX*N" for N bytes of XX (the RFC's 0xaa repeated 20 times). */
static inline size_t unhex(const char *s, uint8_t *out, size_t max)
{
	unsigned v, count;
	size_t n = 0;

	if (sscanf(s, "%2x*%u", &v, &count) == 2 && strchr(s, '*') != NULL) {
		ck_assert_uint_le(count, max);
		memset(out, (int)v, count);
		return count;
	}
	ck_assert_uint_eq(strlen(s) % 2, 0);
	for (; *s != '\0'; s += 2) {
		ck_assert_uint_lt(n, max);
		ck_assert_int_eq(sscanf(s, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static inline bool all_bytes(const uint8_t *p, size_t n, uint8_t b)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != b)
			return false;
	return true;
}

static inline void conf_gcm(struct dpsec_sa_conf *c, const uint8_t *key, uint8_t key_len,
		     const uint8_t *salt)
{
	memset(c, 0, sizeof(*c));
	c->enc_alg = DPSEC_ENC_AES_GCM_16;
	c->enc_key_len = key_len;
	memcpy(c->enc_key, key, key_len);
	memcpy(c->salt, salt, DPSEC_GCM_SALT_LEN);
	c->integ_alg = DPSEC_INTEG_NONE;
}

static inline void conf_chacha(struct dpsec_sa_conf *c, const uint8_t *key, const uint8_t *salt)
{
	conf_gcm(c, key, 32, salt);
	c->enc_alg = DPSEC_ENC_CHACHA20_POLY1305;
}

/* RFC 4309: alg picks the ICV (8, 12 or 16 bytes); a 3-byte salt. */
static inline void conf_ccm(struct dpsec_sa_conf *c, uint8_t alg, const uint8_t *key, uint8_t key_len,
		     const uint8_t *salt)
{
	conf_gcm(c, key, key_len, salt);
	c->enc_alg = alg;
	c->salt[3] = 0;
}

static inline void conf_cbc(struct dpsec_sa_conf *c, const uint8_t *key, uint8_t key_len, uint8_t integ,
		     const uint8_t *ikey, uint8_t ikey_len)
{
	memset(c, 0, sizeof(*c));
	c->enc_alg = DPSEC_ENC_AES_CBC;
	c->enc_key_len = key_len;
	memcpy(c->enc_key, key, key_len);
	c->integ_alg = integ;
	c->integ_key_len = ikey_len;
	memcpy(c->integ_key, ikey, ikey_len);
}

static inline void conf_des3(struct dpsec_sa_conf *c, const uint8_t *key, uint8_t integ,
		      const uint8_t *ikey, uint8_t ikey_len)
{
	conf_cbc(c, key, 24, integ, ikey, ikey_len);
	c->enc_alg = DPSEC_ENC_3DES_CBC;
}

/* RFC 2410: no key, the HMAC alone protects. */
static inline void conf_null(struct dpsec_sa_conf *c, uint8_t integ, const uint8_t *ikey,
		      uint8_t ikey_len)
{
	conf_cbc(c, ikey, 0, integ, ikey, ikey_len);
	c->enc_alg = DPSEC_ENC_NULL;
}

static inline void run1(struct ofl_op *op)
{
	op->status = 12345;
	ofl_cpu_run(eng, op, 1);
	ck_assert_int_eq(op->status, 0);
}

/* ---- OpenSSL references ------------------------------------------------- */

static inline void ref_gcm(const struct dpsec_sa_conf *c, const uint8_t *nonce, const uint8_t *aad,
		    int aad_len, const uint8_t *pt, int len, uint8_t *ct, uint8_t *tag)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int out = 0;

	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(EVP_EncryptInit_ex(x, c->enc_alg == DPSEC_ENC_CHACHA20_POLY1305
						       ? EVP_chacha20_poly1305()
					       : c->enc_key_len == 16 ? EVP_aes_128_gcm()
					       : c->enc_key_len == 24 ? EVP_aes_192_gcm()
								      : EVP_aes_256_gcm(),
					    NULL, NULL, NULL), 1);
	ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL), 1);
	ck_assert_int_eq(EVP_EncryptInit_ex(x, NULL, NULL, c->enc_key, nonce), 1);
	if (aad_len > 0)
		ck_assert_int_eq(EVP_EncryptUpdate(x, NULL, &out, aad, aad_len), 1);
	if (len > 0)
		ck_assert_int_eq(EVP_EncryptUpdate(x, ct, &out, pt, len), 1);
	ck_assert_int_eq(EVP_EncryptFinal_ex(x, ct + out, &out), 1);
	ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, tag), 1);
	EVP_CIPHER_CTX_free(x);
}

/* AES-CCM with RFC 4309's 11-byte nonce, the conf's 3-byte salt || iv,
 * and its ICV length. */
static inline void ref_ccm(const struct dpsec_sa_conf *c, const uint8_t *iv, const uint8_t *aad,
		    int aad_len, const uint8_t *pt, int len, uint8_t *ct, uint8_t *tag)
{
	int tag_len = c->enc_alg == DPSEC_ENC_AES_CCM_8 ? 8 : c->enc_alg == DPSEC_ENC_AES_CCM_12 ? 12 : 16;
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	uint8_t nonce[11];
	int out = 0;

	memcpy(nonce, c->salt, 3);
	memcpy(nonce + 3, iv, 8);
	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(EVP_EncryptInit_ex(x, c->enc_key_len == 16 ? EVP_aes_128_ccm()
								    : EVP_aes_256_ccm(),
					    NULL, NULL, NULL), 1);
	ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, 11, NULL), 1);
	ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, tag_len, NULL), 1);
	ck_assert_int_eq(EVP_EncryptInit_ex(x, NULL, NULL, c->enc_key, nonce), 1);
	ck_assert_int_eq(EVP_EncryptUpdate(x, NULL, &out, NULL, len), 1); /* CCM: the length first */
	ck_assert_int_eq(EVP_EncryptUpdate(x, NULL, &out, aad, aad_len), 1);
	ck_assert_int_eq(EVP_EncryptUpdate(x, ct, &out, pt, len), 1);
	ck_assert_int_eq(EVP_EncryptFinal_ex(x, ct + out, &out), 1);
	ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, tag_len, tag), 1);
	EVP_CIPHER_CTX_free(x);
}

static inline void ref_cbc(const struct dpsec_sa_conf *c, const uint8_t *iv, const uint8_t *pt, int len,
		    uint8_t *ct)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int out = 0;

	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(EVP_EncryptInit_ex(x, c->enc_alg == DPSEC_ENC_NULL ? EVP_enc_null()
					    : c->enc_alg == DPSEC_ENC_3DES_CBC ? EVP_des_ede3_cbc()
					    : c->enc_key_len == 16		  ? EVP_aes_128_cbc()
					    : c->enc_key_len == 24		  ? EVP_aes_192_cbc()
										  : EVP_aes_256_cbc(),
					    NULL, c->enc_key, iv), 1);
	EVP_CIPHER_CTX_set_padding(x, 0);
	ck_assert_int_eq(EVP_EncryptUpdate(x, ct, &out, pt, len), 1);
	ck_assert_int_eq(out, len);
	ck_assert_int_eq(EVP_EncryptFinal_ex(x, ct + out, &out), 1);
	EVP_CIPHER_CTX_free(x);
}

/* Full HMAC into mac (64 bytes of room). */
static inline void ref_hmac(const struct dpsec_sa_conf *c, const uint8_t *data, size_t len, uint8_t *mac)
{
	const EVP_MD *md = c->integ_alg == DPSEC_INTEG_HMAC_SHA1_96     ? EVP_sha1()
			   : c->integ_alg == DPSEC_INTEG_HMAC_SHA256_128 ? EVP_sha256()
			   : c->integ_alg == DPSEC_INTEG_HMAC_SHA384_192 ? EVP_sha384()
									  : EVP_sha512();
	unsigned mac_len = 0;

	ck_assert_ptr_nonnull(HMAC(md, c->integ_key, c->integ_key_len, data, len, mac, &mac_len));
	ck_assert_uint_ge(mac_len, 20);
}


/* The random data's seed: DPSEC_TEST_SEED or the clock, printed so that a
 * failure can be run again. */
static inline void crypto_seed(const char *prog)
{
	const char *seed = getenv("DPSEC_TEST_SEED");

	rng_state = seed ? strtoull(seed, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
	if (rng_state == 0)
		rng_state = 1;
	printf("%s: DPSEC_TEST_SEED=%" PRIu64 "\n", prog, rng_state);
}

#endif
