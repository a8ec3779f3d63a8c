/* ike_sig.h - IKEv2 signature AUTH data (RFC 7296 §3.8, RFC 4754, RFC
 * 7427): RSA PKCS#1 v1.5 with SHA-1 (method 1), ECDSA with r|s over
 * P-256/SHA-256, P-384/SHA-384, P-521/SHA-512 (methods 9, 10, 11), and the
 * Digital Signature method (14): an AlgorithmIdentifier then the
 * signature, with RSA PKCS#1 v1.5, RSA-PSS or ECDSA. Signing hashes the
 * octets here and has the digest signed by the key process; checking
 * uses the public key of the peer's certificate. IKEv1 Main Mode's SIG
 * (ike_sig_make_v1(), ike_sig_check_v1()) is RSA PKCS#1 v1.5 over HASH_I
 * or HASH_R itself, without DigestInfo, through the same key process. */
#ifndef IKE_SIG_H
#define IKE_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "ike_keyproc.h"
#include "ikecr.h"

enum ikev2_auth_method {
	IKEV2_AUTH_RSA_SIG = 1,
	IKEV2_AUTH_ECDSA_256 = 9,
	IKEV2_AUTH_ECDSA_384 = 10,
	IKEV2_AUTH_ECDSA_521 = 11,
	IKEV2_AUTH_DIGITAL_SIG = 14,
};

/* The hashes we announce in SIGNATURE_HASH_ALGORITHMS and accept in
 * method 14, as a bit set (bit n: hash n of enum ike_hash). */
#define IKE_SIG_HASHES ((1u << IKE_HASH_SHA256) | (1u << IKE_HASH_SHA384) | (1u << IKE_HASH_SHA512))

/* What signs: a key in the key process and the certificate's public key
 * (its type and curve choose the method). */
struct ike_signer {
	struct ike_keyproc *kp;
	uint16_t handle;
	EVP_PKEY *pub;
	bool rsa_pss;  /* method 14 with an RSA key: PSS, else PKCS#1 v1.5 */
};

/* The AUTH method and data for the octets. peer_hashes: the hashes the
 * peer announced (0: none, so methods 1 or 9-11); method 14 takes the
 * first of SHA-256, SHA-384, SHA-512 both sides have. */
int ike_sig_make(const struct ike_signer *s, uint16_t peer_hashes, const struct ike_chunk *octets,
		 size_t n, uint8_t *method, uint8_t *out, size_t cap, size_t *len,
		 struct ike_err *err);

/* Checks AUTH data of that method with the peer's public key: 0, -EACCES
 * "does not verify", -EPROTO for a method or algorithm that is not a
 * signature we take or does not fit the key. */
int ike_sig_check(EVP_PKEY *pub, uint8_t method, const uint8_t *data, size_t len,
		  const struct ike_chunk *octets, size_t n, struct ike_err *err);

#define IKEV1_AUTH_RSA_SIG 3 /* RFC 2409 appendix A, Authentication Method */

/* IKEv1 Main Mode's SIG (RFC 2409 §5.1): HASH_I or HASH_R itself signed
 * with RSA PKCS#1 v1.5, no DigestInfo (the key process's IKE_HASH_NONE).
 * -EINVAL for a key that is not RSA. */
int ike_sig_make_v1(const struct ike_signer *s, struct ike_chunk hash, uint8_t *out, size_t cap,
		    size_t *len, struct ike_err *err);
/* 0, -EKEYREJECTED "SIG does not verify", -EPROTO for a key not RSA. */
int ike_sig_check_v1(EVP_PKEY *pub, const uint8_t *sig, size_t len, struct ike_chunk hash,
		     struct ike_err *err);

#endif
