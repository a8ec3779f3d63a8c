/* ikecr.h - what the files of the IKE crypto library (dpsec_ike_crypto)
 * share: a slice type for inputs made of several pieces (prf(K, Ni | Nr |
 * SPIi | SPIr) is four), HMAC and hash over such pieces with OpenSSL 3's
 * EVP, the error that carries OpenSSL's own reason, and the tables of the
 * ciphers and integrity algorithms we support. DES-CBC, which OpenSSL 3
 * keeps in its legacy provider, loads that provider when first fetched.
 * The codec (dpsec_ike) never includes this: it stays free of crypto. */
#ifndef IKECR_H
#define IKECR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "ike_buf.h"

/* One piece of a concatenated input; by value, so that calls read like the
 * RFC's formulas. */
struct ike_chunk {
	const uint8_t *p;
	size_t len;
};

#define IKE_CHUNK(ptr, n) ((struct ike_chunk){ (const uint8_t *)(ptr), (n) })
#define IKE_NCHUNKS(a) (sizeof(a) / sizeof((a)[0]))

/* Records -EIO with "what: <OpenSSL's reason>" and empties OpenSSL's error
 * queue, so that the next failure does not report this one's reason. */
int ikecr_ossl_fail(struct ike_err *err, const char *what);

/* The MACs of IKE's integrity algorithms and PRFs. */
enum ikecr_mac_kind {
	IKECR_MAC_HMAC,     /* with a digest */
	IKECR_MAC_AES_XCBC, /* RFC 3566, and as a PRF RFC 4434 */
	IKECR_MAC_AES_CMAC, /* RFC 4493, and as a PRF RFC 4615 */
};

/* HMAC with the named digest ("SHA256") over the pieces in order; out
 * receives the whole digest. 0 or -EIO. */
int ikecr_hmac(const char *md, const uint8_t *key, size_t key_len, const struct ike_chunk *in,
	       size_t n, uint8_t *out, struct ike_err *err);
/* The MAC of kind over the pieces (ikecr_aesmac.c): HMAC with digest md,
 * or AES-XCBC-MAC or AES-CMAC with the PRFs' rule for a key that is not
 * 16 bytes (RFC 4434 §2: shorter padded with zeros, longer made the MAC of
 * itself under a zero key; RFC 4615 §3: any other made so). out receives
 * the digest, or 16 bytes. 0 or -EIO. */
int ikecr_mac(uint8_t kind, const char *md, const uint8_t *key, size_t key_len,
	      const struct ike_chunk *in, size_t n, uint8_t *out, struct ike_err *err);
/* The cipher or digest OpenSSL has under that name ("AES-128-GCM",
 * "SHA1"), fetched on first use and kept for the process: a fetch looks the
 * name up among the providers, and an exchange needs dozens. NULL when
 * OpenSSL has none (its reason queued). Safe with threads. */
const EVP_CIPHER *ikecr_cipher_fetch(const char *name);
const EVP_MD *ikecr_md_fetch(const char *name);
/* Whether OpenSSL has the cipher: 0, or -EOPNOTSUPP with OpenSSL's reason.
 * A cipher of OpenSSL 3's legacy provider (DES-CBC) loads that provider
 * (and the default one beside it, which an explicit load would otherwise
 * leave out) on its first fetch, once for the process and only then; the
 * error then says the legacy provider did not load. */
int ikecr_cipher_check(const char *name, struct ike_err *err);
/* The plain digest of the pieces. 0 or -EIO. */
int ikecr_hash(const char *md, const struct ike_chunk *in, size_t n, uint8_t *out,
	       struct ike_err *err);

/* A cipher as negotiated: IKEv2 transform ID and key length attribute. */
struct ikecr_cipher {
	uint16_t encr;     /* IKEv2 ENCR transform ID */
	uint16_t bits;     /* Key Length attribute; 0 for 3DES, which has none */
	const char *evp;   /* OpenSSL's name */
	uint8_t key_len;   /* cipher key bytes */
	uint8_t salt_len;  /* AEAD: salt bytes that follow the key in SK_e (RFC 5282 §7.1) */
	uint8_t block_len; /* what the plaintext is padded to */
	uint8_t iv_len;    /* IV bytes on the wire */
	uint8_t icv_len;   /* AEAD tag bytes; 0 for CBC, whose ICV the integrity algorithm gives */
};

struct ikecr_integ {
	uint16_t integ;  /* IKEv2 INTEG transform ID */
	const char *md;  /* HMAC digest; the AES MAC's name for the others */
	uint8_t key_len; /* RFC 2104 keys as long as the digest (RFC 4868 §2.1.1); AES: 16 */
	uint8_t icv_len; /* the truncated MAC */
	uint8_t mac;     /* enum ikecr_mac_kind */
};

struct ikecr_prf {
	uint16_t prf;        /* IKEv2 PRF transform ID */
	uint16_t ikev1_hash; /* the IKEv1 hash whose HMAC it is; 0: none (the AES PRFs) */
	const char *md;
	uint8_t len;         /* output bytes, also the preferred key length */
	uint8_t mac;         /* enum ikecr_mac_kind */
};

/* The table entries, or NULL if not supported. */
const struct ikecr_cipher *ikecr_cipher_find(uint16_t encr, uint16_t bits);
const struct ikecr_integ *ikecr_integ_find(uint16_t integ);
const struct ikecr_prf *ikecr_prf_find(uint16_t prf);
const struct ikecr_prf *ikecr_prf_of_ikev1_hash(uint16_t hash);
/* Is key one of DES's four weak and twelve semi-weak keys (parity bits
 * ignored)? Always false for the other ciphers. */
bool ikecr_weak_key(const char *cipher, const uint8_t *key);

#endif
