/* ike_prf.h - the PRFs of IKE (HMAC with SHA-1 and SHA-2, and with MD5 for
 * legacy IKEv1 peers only; for IKEv2 also AES-XCBC-PRF-128 and
 * AES-CMAC-PRF-128), prf+ (RFC 7296 §2.13) and the IKEv2 key
 * derivation: SKEYSEED and SK_d .. SK_pr (§2.14), the SKEYSEED of a
 * rekeyed IKE SA (§2.18) and the keying material of a Child SA (§2.17).
 * IKEv1's derivation is in ikev1_prf.h.
 *
 * Inputs are given as struct ike_chunk pieces in the order the RFC writes
 * them. Outputs that are keys are the caller's to cleanse; on failure they
 * are cleansed here. Errors: -EOPNOTSUPP (unknown PRF), -EINVAL (lengths
 * out of the RFC's range), -EIO (OpenSSL). */
#ifndef IKE_PRF_H
#define IKE_PRF_H

#include <stddef.h>
#include <stdint.h>

#include "ike_keys.h"
#include "ikecr.h"

#define IKE_NONCE_MAX 256 /* RFC 7296 §3.9, RFC 2409 §5 */

/* Output length of the PRF, which is also its preferred key length (RFC
 * 7296 §2.13); 0 if not supported. */
size_t ike_prf_len(uint16_t prf);

/* prf(key, in[0] | in[1] | ...): ike_prf_len(prf) bytes into out. */
int ike_prf(uint16_t prf, struct ike_chunk key, const struct ike_chunk *in, size_t n,
	    uint8_t *out, struct ike_err *err);

/* prf+(key, seed) = T1 | T2 | ..., Ti = prf(key, Ti-1 | seed | i), cut
 * to len bytes; at most 255 blocks (-EINVAL beyond). */
int ike_prf_plus(uint16_t prf, struct ike_chunk key, const struct ike_chunk *seed, size_t n,
		 uint8_t *out, size_t len, struct ike_err *err);

/* SKEYSEED = prf(Ni | Nr, g^ir), ike_prf_len(prf) bytes; with an AES PRF
 * the first 8 bytes of each nonce only (§2.14). */
int ikev2_skeyseed(uint16_t prf, struct ike_chunk ni, struct ike_chunk nr,
		   struct ike_chunk g_ir, uint8_t *skeyseed, struct ike_err *err);

/* Rekeying an IKE SA: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr),
 * with the old SA's PRF (RFC 7296 §2.18); ike_prf_len(old_prf) bytes. */
int ikev2_skeyseed_rekey(uint16_t old_prf, struct ike_chunk old_sk_d, struct ike_chunk g_ir,
			 struct ike_chunk ni, struct ike_chunk nr, uint8_t *skeyseed,
			 struct ike_err *err);

/* {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
 *	= prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)
 * into k, set up by ikev2_keys_init() (which gave the lengths). skeyseed
 * is k->prf_len bytes. On failure k's keys are wiped. */
int ikev2_keys_derive(struct ikev2_keys *k, const uint8_t *skeyseed, struct ike_chunk ni,
		      struct ike_chunk nr, const uint8_t spi_i[8], const uint8_t spi_r[8],
		      struct ike_err *err);

/* KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) of a Child SA (RFC 7296
 * §2.17); g_ir.len == 0 without PFS. The caller takes the keys from it in
 * the RFC's order: initiator-to-responder encryption then integrity key,
 * then those of the other direction. */
int ikev2_child_keymat(const struct ikev2_keys *k, struct ike_chunk g_ir, struct ike_chunk ni,
		       struct ike_chunk nr, uint8_t *keymat, size_t len, struct ike_err *err);

#endif
