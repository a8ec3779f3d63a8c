/* ike_keys.h - the algorithm sets dpsec negotiates for an IKE SA and the
 * contexts that hold their keys: struct ikev2_keys (SK_d .. SK_pr, RFC 7296
 * §2.14) and struct ikev1_keys (SKEYID .. SKEYID_e and the cipher key, RFC
 * 2409 §5 and appendix B). A context is set up from the negotiated set by
 * *_keys_init(), filled by the derivation functions of ike_prf.h /
 * ikev1_prf.h, used by ike_sk.h, and wiped with *_keys_wipe() when the SA
 * goes (every function that fails part-way wipes it too). */
#ifndef IKE_KEYS_H
#define IKE_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_buf.h"

/* IKEv2 transform IDs (IANA "IKEv2 Transform Type 1/2/3"). */
enum ike_encr_id {
	IKE_ENCR_DES = 2, /* legacy, IKEv1 Phase 1 only: RFC 8247 forbids it in IKEv2 */
	IKE_ENCR_3DES = 3,
	IKE_ENCR_NULL = 11, /* RFC 2410: child SAs (ESP) only, never an IKE SA (RFC 7296 §3.3.2) */
	IKE_ENCR_AES_CBC = 12,
	IKE_ENCR_AES_CCM_8 = 14,  /* RFC 4309 §7: child SAs (ESP) only here */
	IKE_ENCR_AES_CCM_12 = 15,
	IKE_ENCR_AES_CCM_16 = 16,
	IKE_ENCR_AES_GCM_16 = 20, /* RFC 5282: 16-byte ICV */
	IKE_ENCR_NULL_AUTH_AES_GMAC = 21, /* RFC 4543: child SAs (ESP) only, no confidentiality */
	IKE_ENCR_CHACHA20_POLY1305 = 28, /* RFC 7634: no key length attribute */
};

enum ike_prf_id {
	IKE_PRF_HMAC_MD5 = 1, /* legacy: IKEv1 peers that negotiate MD5 */
	IKE_PRF_HMAC_SHA1 = 2,
	IKE_PRF_HMAC_SHA2_256 = 5,
	IKE_PRF_HMAC_SHA2_384 = 6,
	IKE_PRF_HMAC_SHA2_512 = 7,
	IKE_PRF_AES128_XCBC = 4, /* RFC 4434: 16-byte output, any key (RFC 7296 §2.14) */
	IKE_PRF_AES128_CMAC = 8, /* RFC 4615 */
};

enum ike_integ_id {
	IKE_INTEG_NONE = 0, /* with an AEAD cipher */
	IKE_INTEG_HMAC_SHA1_96 = 2,
	IKE_INTEG_AES_XCBC_96 = 5, /* RFC 3566: 16-byte key, 12-byte ICV */
	IKE_INTEG_AES_CMAC_96 = 8, /* RFC 4494 */
	IKE_INTEG_HMAC_SHA2_256_128 = 12,
	IKE_INTEG_HMAC_SHA2_384_192 = 13,
	IKE_INTEG_HMAC_SHA2_512_256 = 14,
};

/* IKEv1 attribute values (RFC 2409 appendix A, RFC 4868 for SHA-2). */
enum ikev1_encr_id { IKEV1_ENCR_DES_CBC = 1, IKEV1_ENCR_3DES_CBC = 5, IKEV1_ENCR_AES_CBC = 7 };
enum ikev1_hash_id {
	IKEV1_HASH_MD5 = 1,
	IKEV1_HASH_SHA = 2,
	IKEV1_HASH_SHA2_256 = 4,
	IKEV1_HASH_SHA2_384 = 5,
	IKEV1_HASH_SHA2_512 = 6,
};

#define IKE_PRF_MAX 64       /* longest PRF output and key: HMAC-SHA2-512 */
#define IKE_ENCR_KEY_MAX 36  /* SK_e of AES-256-GCM: key and 4-byte salt */
#define IKE_INTEG_KEY_MAX 64 /* HMAC-SHA2-512-256 */
#define IKE_BLOCK_MAX 16     /* AES block */

/* What was negotiated for an IKEv2 SA. */
struct ike_suite {
	uint16_t encr;      /* enum ike_encr_id */
	uint16_t encr_bits; /* Key Length attribute: 128/192/256 for AES, 0 for DES and 3DES */
	uint16_t integ;     /* enum ike_integ_id; IKE_INTEG_NONE with AES-GCM */
	uint16_t prf;       /* enum ike_prf_id */
};

/* The key-holding context of one IKEv2 SA. */
struct ikev2_keys {
	struct ike_suite suite;
	bool initiator;        /* our role: we send with SK_ei/SK_ai, receive with SK_er/SK_ar */
	const char *cipher;    /* OpenSSL's names for the suite */
	const char *integ_md;  /* NULL with an AEAD cipher; the HMAC's digest, or the AES MAC's name */
	uint8_t integ_mac;     /* enum ikecr_mac_kind */
	uint8_t prf_len;       /* SK_d, SK_pi, SK_pr and SKEYSEED */
	uint8_t e_len;         /* SK_ei, SK_er: cipher key and AEAD salt */
	uint8_t salt_len;
	uint8_t a_len;         /* SK_ai, SK_ar; 0 with AEAD */
	uint8_t iv_len, icv_len, block_len;
	uint8_t sk_d[IKE_PRF_MAX];
	uint8_t sk_ai[IKE_INTEG_KEY_MAX], sk_ar[IKE_INTEG_KEY_MAX];
	uint8_t sk_ei[IKE_ENCR_KEY_MAX], sk_er[IKE_ENCR_KEY_MAX];
	uint8_t sk_pi[IKE_PRF_MAX], sk_pr[IKE_PRF_MAX];
};

#define IKEV1_KEY_MAX 32 /* AES-256 */

/* The key-holding context of one IKEv1 (ISAKMP) SA. IKEv1 negotiates a
 * hash and uses its HMAC as the prf (RFC 2409 §4). */
struct ikev1_keys {
	uint16_t prf;       /* enum ike_prf_id of the HMAC of the negotiated hash */
	const char *cipher; /* OpenSSL's CBC cipher name */
	uint8_t prf_len;
	uint8_t key_len, block_len;
	uint8_t skeyid[IKE_PRF_MAX], skeyid_d[IKE_PRF_MAX], skeyid_a[IKE_PRF_MAX],
		skeyid_e[IKE_PRF_MAX];
	uint8_t key[IKEV1_KEY_MAX]; /* the cipher key, from SKEYID_e (appendix B) */
};

/* The CBC chaining state of one IKEv1 exchange (RFC 2409 appendix B): the
 * IV of the next message to encrypt or decrypt. */
struct ikev1_iv {
	uint8_t b[IKE_BLOCK_MAX];
	uint8_t len; /* the cipher's block */
};

/* Checks the set (a known cipher and key length; an integrity algorithm
 * with CBC and none with GCM; a known PRF) and records the sizes and names
 * it needs. -EOPNOTSUPP with a sentence naming what is not supported. */
int ikev2_keys_init(struct ikev2_keys *k, const struct ike_suite *s, bool initiator,
		    struct ike_err *err);
/* The same for IKEv1 attribute values (key_bits: 0 for DES and 3DES).
 * DES-CBC loads OpenSSL's legacy provider on first use (ikecr.h): -EOPNOTSUPP
 * saying so if it cannot. */
int ikev1_keys_init(struct ikev1_keys *k, uint16_t hash, uint16_t encr, uint16_t key_bits,
		    struct ike_err *err);

/* Zero the whole context (OPENSSL_cleanse: not optimised away). */
void ikev2_keys_wipe(struct ikev2_keys *k);
void ikev1_keys_wipe(struct ikev1_keys *k);

#endif
