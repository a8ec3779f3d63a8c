/* ofl_engine.h - the crypto engine interface of the dataplane. An SA's
 * crypto state is prepared once, at install, into a struct ofl_sa_crypto;
 * the fast path then describes each packet as a struct ofl_op and hands a
 * whole burst to the engine. The CPU engine (intel-ipsec-mb) is the first;
 * lookaside (cryptodev) and inline (rte_security) engines implement the
 * same three calls. */
#ifndef OFL_ENGINE_H
#define OFL_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <intel-ipsec-mb.h>

#include "dpsec_model.h"

#define OFL_MAX_BURST 128 /* a worker's whole burst (DP_BURST) is one job burst */
#define OFL_MAX_ICV 16

enum ofl_engine_kind { OFL_ENGINE_CPU };

/* Per-SA crypto template: algorithm parameters and the expanded keys. The
 * key schedule is kept apart from the SA's hot fields by the caller. A 3DES
 * template points into itself (des_ks_ptr): prepare it where it stays, or
 * copy it with ofl_sa_crypto_copy(). */
struct ofl_sa_crypto {
	uint8_t engine;     /* enum ofl_engine_kind */
	uint8_t enc_alg;    /* enum dpsec_enc_alg */
	uint8_t integ_alg;  /* enum dpsec_integ_alg */
	uint8_t key_len;    /* cipher key bytes: 16, 24 or 32 (AES), 24 (3DES), 0 (NULL) */
	uint8_t iv_len;     /* bytes carried in the packet: 8 (GCM, GMAC, CCM, ChaCha20, 3DES),
			     * 16 (AES-CBC), 0 (NULL) */
	uint8_t icv_len;    /* 16 (GCM, GMAC, Poly1305, SHA-256-128), 12 (SHA1-96, XCBC, CMAC),
			     * 24, 32 (SHA-384/512), 8, 12 or 16 (CCM) */
	uint8_t block_len;  /* ESP payload alignment: 4 (GCM, GMAC, CCM, ChaCha20, NULL),
			     * 8 (3DES), 16 (AES-CBC) */
	uint8_t auth_only;  /* AH: the MAC alone over [auth_off, +auth_len), nothing ciphered */
	uint8_t hash_alg;   /* IMB_HASH_ALG of the MAC (HMAC, XCBC, CMAC: CBC, NULL, AH) */
	uint8_t salt[DPSEC_GCM_SALT_LEN]; /* combined modes: the nonce's start; AES-CCM's
					   * 3 bytes after a 0 (see struct ofl_op's iv) */
	union {
		struct gcm_key_data gcm; /* AES-GCM and AES-GMAC */
		uint8_t chacha[32]; /* ChaCha20-Poly1305: the key itself, as IMB takes it */
		struct {
			union {
				struct { /* AES-CBC; AES-CCM (enc_keys) */
					uint32_t enc_keys[60] __attribute__((aligned(16)));
					uint32_t dec_keys[60] __attribute__((aligned(16)));
				};
				struct { /* 3DES-CBC: three DES key schedules, one per
					  * key, used both ways, and their addresses,
					  * which IMB_CIPHER_DES3 jobs take */
					uint64_t des_ks[3][IMB_DES_KEY_SCHED_SIZE / 8];
					const void *des_ks_ptr[3];
				};
			};
			union {
				struct { /* HMAC */
					uint8_t ipad[64] __attribute__((aligned(16))); /* H(K ^ ipad) */
					uint8_t opad[64] __attribute__((aligned(16))); /* H(K ^ opad) */
				};
				struct { /* AES-XCBC-MAC: K1's schedule, K2, K3 (RFC 3566
					  * §2.3); AES-CMAC: the key's schedule, the
					  * subkeys K1, K2 (RFC 4493 §2.3) */
					uint32_t ks[44] __attribute__((aligned(16)));
					uint8_t sub[2][16] __attribute__((aligned(16)));
				} aes_mac;
			};
		} cbc;
	} k __attribute__((aligned(64)));
};

/* One packet's crypto operation, in place in a contiguous buffer.
 * Encrypt: cipher [cipher_off, +cipher_len), then authenticate
 * [auth_off, +auth_len) (GCM: aad + ciphertext) and write icv_len bytes to
 * tag. Decrypt: authenticate first, then decrypt; the computed ICV goes to
 * tag and the caller compares it (ofl_icv_equal) with the received one.
 * An auth_only SA (AH) only authenticates; cipher_len is 0. AES-GMAC
 * (RFC 4543) ciphers nothing: its tag covers the aad, the iv_len bytes of
 * IV before the cipher range, and that range; the engine writes the aad
 * over the aad_len bytes before the IV meanwhile and puts them back, so
 * the buffer must hold them (else -EINVAL). */
struct ofl_op {
	const struct ofl_sa_crypto *sa;
	uint8_t *buf;
	uint32_t cipher_off, cipher_len;
	uint32_t auth_off, auth_len;  /* the MAC's range; combined modes authenticate the aad and
				       * the cipher range: auth_len = cipher_len */
	const uint8_t *iv;            /* combined modes: 12 bytes, the template's salt || IV: the
				       * nonce (AES-CCM's 11-byte nonce is their last 11);
				       * CBC: the IV */
	const uint8_t *aad;           /* combined modes only */
	uint8_t aad_len;              /* 8, or 12 with ESN (RFC 4106 §5, RFC 4309 §5, RFC 7634 §2.1) */
	bool encrypt;
	uint8_t *tag;                 /* where the engine writes the computed ICV */
	int status;                   /* out: 0, -EINVAL (a length the cipher or MAC
				       * cannot take: refused) or -EIO (failed) */
};

/* A worker's private engine state (one IMB_MGR per worker, never shared). */
struct ofl_cpu;

struct ofl_cpu *ofl_cpu_create(int socket_id);
void ofl_cpu_free(struct ofl_cpu *e);

/* Prepares an SA's template from its configuration. Returns 0, or -EINVAL
 * for an algorithm/key combination the engine cannot run. */
int ofl_cpu_sa_prepare(struct ofl_cpu *e, const struct dpsec_sa_conf *conf,
		       struct ofl_sa_crypto *out);

/* A prepared template copied to dst, whose pointers into itself (3DES's)
 * then point into dst. */
void ofl_sa_crypto_copy(struct ofl_sa_crypto *dst, const struct ofl_sa_crypto *src);

/* Runs n operations, any mix of SAs: GCM ops one call each (the function
 * chosen once for a run of one SA and direction), the others
 * in job bursts of up to OFL_MAX_BURST; each op's status is set. */
void ofl_cpu_run(struct ofl_cpu *e, struct ofl_op *ops, uint16_t n);

/* Fills buf with len bytes from the worker's CSPRNG (AES-CTR keystream under
 * a key drawn from getrandom() at creation): CBC IVs, RFC 3602 §3. */
void ofl_cpu_random(struct ofl_cpu *e, uint8_t *buf, uint32_t len);

/* SHA-256 of buf (not on the fast path: static keys' fingerprints). */
void ofl_cpu_sha256(struct ofl_cpu *e, const void *buf, uint32_t len, uint8_t out[32]);

/* Copies an ICV; the usual 12 and 16 bytes as fixed-size copies, which
 * the compiler inlines, instead of a memcpy call of a variable length. */
static inline void ofl_icv_copy(uint8_t *dst, const uint8_t *src, uint8_t len)
{
	if (len == 16)
		memcpy(dst, src, 16);
	else if (len == 12)
		memcpy(dst, src, 12);
	else
		memcpy(dst, src, len);
}

/* Constant-time ICV comparison; the usual 12- and 16-byte ICVs in words. */
static inline bool ofl_icv_equal(const uint8_t *a, const uint8_t *b, uint8_t len)
{
	uint64_t a8[2], b8[2];
	uint32_t a4, b4;
	uint8_t diff = 0;

	if (len == 16 || len == 12) {
		memcpy(a8, a, 8);
		memcpy(b8, b, 8);
		if (len == 16) {
			memcpy(&a8[1], a + 8, 8);
			memcpy(&b8[1], b + 8, 8);
			return ((a8[0] ^ b8[0]) | (a8[1] ^ b8[1])) == 0;
		}
		memcpy(&a4, a + 8, 4);
		memcpy(&b4, b + 8, 4);
		return ((a8[0] ^ b8[0]) | (a4 ^ b4)) == 0;
	}
	for (uint8_t i = 0; i < len; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

#endif
