/* ike_sk.h - encryption of IKE messages. IKEv2's Encrypted payload (RFC
 * 7296 §3.14): AES-CBC or 3DES with HMAC-SHA1-96 or HMAC-SHA2 (RFC 4868),
 * encrypt-then-MAC, or AES-GCM with a 16-byte ICV (RFC 5282). IKEv1's
 * encrypted messages (RFC 2409 appendix B): DES-CBC (legacy), 3DES-CBC or
 * AES-CBC, each IV the last cipher block of the exchange's previous
 * message.
 *
 * IKEv2 works in place on a message the codec built (ikev2_build_sk()) or
 * parsed (ikev2_msg_parse()), with the keys of a struct ikev2_keys: we
 * send with SK_ei/SK_ai as initiator and SK_er/SK_ar as responder. A
 * message that fails to open is -EBADMSG "malformed" (it cannot be a
 * sealed message of this suite: sizes, header length, padding) or
 * -EKEYREJECTED "integrity check failed" (the ICV does not match: the
 * message was changed or is not from the peer). Neither is answered (RFC
 * 7296 §2.21), so err.notify stays 0, except for bad padding found after
 * the ICV verified (INVALID_SYNTAX). */
#ifndef IKE_SK_H
#define IKE_SK_H

#include <stddef.h>
#include <stdint.h>

#include "ike_buf.h"
#include "ike_keys.h"

/* Ciphertext bytes (inner payloads, padding and the Pad Length byte) for
 * plain_len bytes of inner payloads. To build a message:
 *	ikev2_build_sk(&b, first, NULL, k->iv_len, ikev2_sk_ct_len(k, n), k->icv_len, &sp);
 *	ikev2_build_end(&b, &len, &err);
 *	memcpy(sp.ct, inner, n);
 *	ikev2_sk_seal(k, buf, len, sp.aad_len, n, &err); */
size_t ikev2_sk_ct_len(const struct ikev2_keys *k, size_t plain_len);

/* Seals msg[0..len), whose header already holds len: pads after the
 * plain_len bytes at the start of the ciphertext, draws a random IV,
 * encrypts, and fills the ICV (CBC: HMAC over msg[0..len - ICV); GCM: the
 * tag over associated data msg[0..aad_len), the IKE header through the
 * Encrypted payload's header, RFC 5282 §5.1). aad_len is the offset of
 * the IV. -EINVAL if the layout does not match the keys. */
int ikev2_sk_seal(const struct ikev2_keys *k, uint8_t *msg, size_t len, size_t aad_len,
		  size_t plain_len, struct ike_err *err);

/* Opens msg[0..len) in place; aad_len is the parsed message's sk_body_off.
 * On success the inner payloads are *plain (inside msg), *plain_len
 * bytes. On failure nothing decrypted is left in msg. */
int ikev2_sk_open(const struct ikev2_keys *k, uint8_t *msg, size_t len, size_t aad_len,
		  uint8_t **plain, size_t *plain_len, struct ike_err *err);

/* IKEv1: the ciphertext length for plain_len bytes of payloads padded
 * with zeros to a whole number of blocks (RFC 2409 appendix B); always at
 * least one byte of padding, as strongSwan sends, so that a peer reading
 * the last byte as a pad count (RFC 2409 §5.3) strips only padding. */
size_t ikev1_ct_len(const struct ikev1_keys *k, size_t plain_len);

/* Encrypts buf[0..plain_len) in place, padding it to *ct_len =
 * ikev1_ct_len() bytes (cap must allow them), with IV iv. *next gets the
 * IV that follows: the last cipher block. next may be iv itself. */
int ikev1_encrypt(const struct ikev1_keys *k, const struct ikev1_iv *iv, uint8_t *buf,
		  size_t plain_len, size_t cap, size_t *ct_len, struct ikev1_iv *next,
		  struct ike_err *err);

/* Decrypts buf[0..len) in place with IV iv; *next gets the last cipher
 * block. IKEv1 has no ICV here: commit next only once the message's HASH
 * verified, so that a forged message cannot break the chain. -EBADMSG if
 * len is not a whole number of blocks. */
int ikev1_decrypt(const struct ikev1_keys *k, const struct ikev1_iv *iv, uint8_t *buf,
		  size_t len, struct ikev1_iv *next, struct ike_err *err);

#endif
