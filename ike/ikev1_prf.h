/* ikev1_prf.h - IKEv1 key derivation and hashes (RFC 2409): SKEYID for
 * pre-shared keys and for signatures, SKEYID_d, SKEYID_a, SKEYID_e and the
 * cipher key (§5, appendix B), the Phase 1 and Phase 2 IVs (appendix B),
 * HASH_I and HASH_R (§5), and Quick Mode's HASH(1), HASH(2), HASH(3) and
 * KEYMAT (§5.5). The prf is the HMAC of the negotiated hash, k->prf (see
 * ikev1_keys_init()). Inputs named *_b are payload bodies, without their
 * generic payload header; M-IDs go in network order. Errors as in
 * ike_prf.h. */
#ifndef IKEV1_PRF_H
#define IKEV1_PRF_H

#include <stddef.h>
#include <stdint.h>

#include "ike_keys.h"
#include "ikecr.h"

/* SKEYID = prf(pre-shared-key, Ni_b | Nr_b), into k->skeyid. */
int ikev1_skeyid_psk(struct ikev1_keys *k, struct ike_chunk psk, struct ike_chunk ni_b,
		     struct ike_chunk nr_b, struct ike_err *err);
/* SKEYID = prf(Ni_b | Nr_b, g^xy) for signature authentication. */
int ikev1_skeyid_sig(struct ikev1_keys *k, struct ike_chunk ni_b, struct ike_chunk nr_b,
		     struct ike_chunk g_xy, struct ike_err *err);

/* From k->skeyid:
 *	SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
 *	SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
 *	SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
 * and the cipher key k->key: the first bytes of SKEYID_e or, when that is
 * too short, of K1 | K2 | ... with K1 = prf(SKEYID_e, 0), Ki+1 =
 * prf(SKEYID_e, Ki) (appendix B). On failure k's keys are wiped. */
int ikev1_keys_derive(struct ikev1_keys *k, struct ike_chunk g_xy, const uint8_t cky_i[8],
		      const uint8_t cky_r[8], struct ike_err *err);

/* What HASH_I and HASH_R cover. */
struct ikev1_auth_in {
	struct ike_chunk g_xi, g_xr;  /* the initiator's and the responder's KE data */
	const uint8_t *cky_i, *cky_r; /* the cookies, 8 bytes each */
	struct ike_chunk sai_b;       /* the initiator's SA payload, as sent */
	struct ike_chunk id_b;        /* the hashing side's ID: IDii_b or IDir_b */
};

/* HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)
 * HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)
 * k->prf_len bytes each. */
int ikev1_hash_i(const struct ikev1_keys *k, const struct ikev1_auth_in *in, uint8_t *out,
		 struct ike_err *err);
int ikev1_hash_r(const struct ikev1_keys *k, const struct ikev1_auth_in *in, uint8_t *out,
		 struct ike_err *err);

/* The IV of the first encrypted Phase 1 message: hash(g^xi | g^xr) cut to
 * the cipher's block. */
int ikev1_phase1_iv(const struct ikev1_keys *k, struct ike_chunk g_xi, struct ike_chunk g_xr,
		    struct ikev1_iv *iv, struct ike_err *err);
/* The IV of a Quick Mode (or Informational) exchange: hash(last Phase 1
 * CBC block | M-ID), cut to the block; last is the Phase 1 chain's state
 * once Phase 1 is done. */
int ikev1_phase2_iv(const struct ikev1_keys *k, const struct ikev1_iv *last, uint32_t mid,
		    struct ikev1_iv *iv, struct ike_err *err);

/* HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [| KE] [| IDci | IDcr]): rest is
 * the message after the HASH payload (for an Informational exchange, the
 * N or D payload: RFC 2409 §5.7). */
int ikev1_qm_hash1(const struct ikev1_keys *k, uint32_t mid, struct ike_chunk rest, uint8_t *out,
		   struct ike_err *err);
/* HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr [| KE] [| IDci | IDcr]). */
int ikev1_qm_hash2(const struct ikev1_keys *k, uint32_t mid, struct ike_chunk ni_b,
		   struct ike_chunk rest, uint8_t *out, struct ike_err *err);
/* HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b). */
int ikev1_qm_hash3(const struct ikev1_keys *k, uint32_t mid, struct ike_chunk ni_b,
		   struct ike_chunk nr_b, uint8_t *out, struct ike_err *err);

/* KEYMAT = K1 | K2 | ..., cut to len bytes:
 *	K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
 *	Ki+1 = prf(SKEYID_d, Ki | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
 * g_qm.len == 0 without PFS; spi is the receiving side's 4-byte SPI. */
int ikev1_qm_keymat(const struct ikev1_keys *k, struct ike_chunk g_qm, uint8_t protocol,
		    const uint8_t spi[4], struct ike_chunk ni_b, struct ike_chunk nr_b,
		    uint8_t *keymat, size_t len, struct ike_err *err);

#endif
