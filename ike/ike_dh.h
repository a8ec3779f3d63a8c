/* ike_dh.h - the key exchange of IKEv2 (RFC 7296 §1.2, §3.4) and IKEv1
 * (RFC 2409 §5) over OpenSSL 3's EVP: MODP groups 2 (RFC 2409 §6.2, 1024
 * bits, legacy), 14, 15 and 16 (RFC 3526), ECP groups 19, 20 and 21 (RFC
 * 5903) and Curve25519, group 31 (RFC 8031). Group numbers are IKEv2's
 * Transform Type 4 IDs, which are also IKEv1's group descriptions.
 *
 * A struct ike_dh holds one local key pair. Every peer value is checked
 * before use, and a bad one is -EBADMSG with a sentence naming the problem;
 * which notify to answer with (INVALID_SYNTAX, INVALID-KEY-INFORMATION) is
 * the exchange's choice, so err.notify stays 0. */
#ifndef IKE_DH_H
#define IKE_DH_H

#include <stddef.h>
#include <stdint.h>

#include "ike_buf.h"

enum ike_dh_group {
	IKE_DH_MODP_1024 = 2,
	IKE_DH_MODP_2048 = 14,
	IKE_DH_MODP_3072 = 15,
	IKE_DH_MODP_4096 = 16,
	IKE_DH_ECP_256 = 19,
	IKE_DH_ECP_384 = 20,
	IKE_DH_ECP_521 = 21,
	IKE_DH_CURVE25519 = 31,
};

#define IKE_DH_PUBLIC_MAX 512 /* MODP 4096 */
#define IKE_DH_SECRET_MAX 512

struct ike_dh;

/* The length of the group's public value on the wire (the KE payload's
 * data) and of its shared secret; 0 if the group is not supported. */
size_t ike_dh_public_len(uint16_t group);
size_t ike_dh_secret_len(uint16_t group);

/* A fresh key pair. -EOPNOTSUPP (group not supported), -ENOMEM, -EIO. */
int ike_dh_new(uint16_t group, struct ike_dh **out, struct ike_err *err);

uint16_t ike_dh_group(const struct ike_dh *dh);

/* Our public value in wire format, ike_dh_public_len() bytes inside dh:
 * MODP: big-endian, left-padded with zeros to the prime's length (RFC 7296
 * §3.4); ECP: x | y, each as long as the field, without SEC 1's 0x04 (RFC
 * 5903 §7); Curve25519: the 32-byte u-coordinate (RFC 8031 §3). */
const uint8_t *ike_dh_public(const struct ike_dh *dh, size_t *len);

/* The shared secret from the peer's wire value, ike_dh_secret_len() bytes
 * (cap must allow them): MODP: g^ir left-padded to the prime's length (RFC
 * 7296 §2.14); ECP: the x-coordinate (RFC 5903 §7); Curve25519: 32 bytes.
 * The peer's value is checked first: -EBADMSG for a wrong length; MODP 0,
 * 1, p - 1, values not below p (the whole check for safe primes, RFC
 * 6989 §2.2: values outside the order-q subgroup are taken); ECP
 * values that are not a point of the curve; Curve25519 low-order points,
 * whose secret is all zero (RFC 8031, RFC 7748 §6.1). The caller cleanses the secret
 * (OPENSSL_cleanse) when done with it. */
int ike_dh_derive(const struct ike_dh *dh, const uint8_t *peer, size_t peer_len, uint8_t *secret,
		  size_t cap, size_t *len, struct ike_err *err);

/* Frees the key pair, cleansing the private value. NULL is fine. */
void ike_dh_free(struct ike_dh *dh);

/* TEST HOOK, for known-answer tests only (RFC 5903 §8, RFC 7748 §6.1): a
 * key pair from a fixed private value, for ECP the big-endian scalar as
 * long as the field, for Curve25519 the 32-byte scalar. Never use it in an
 * exchange: a fixed private key voids forward secrecy. -EOPNOTSUPP for the
 * MODP groups, which have no published vectors to test against. */
int ike_dh_new_fixed_for_test(uint16_t group, const uint8_t *priv, size_t len,
			      struct ike_dh **out, struct ike_err *err);

#endif
