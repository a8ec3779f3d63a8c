/* ike_proposal.h - security methods and their negotiation, shared by IKEv2
 * and (later) IKEv1: what we offer for an IKE SA (Main Mode) and for a child
 * SA (Quick Mode), what the peer offered reduced to the values each of its
 * proposals accepts, and the choice between them.
 *
 * Selection rule (both versions, documented in docs/ike.md): the responder
 * takes ITS most-preferred method that the initiator also offered. It walks
 * its own methods in order of preference and, for each, the initiator's
 * proposals in the order they came; the first method some proposal accepts
 * wins, and that proposal's number is answered. The initiator's order only
 * breaks ties between its proposals that accept the same method.
 *
 * Child SA algorithms are dpsec's own enums (DPSEC_ENC_*, DPSEC_INTEG_* of
 * dpsec_model.h), so a chosen method maps straight onto struct
 * dpsec_sa_conf; IKE SA suites use IKEv2's transform IDs (struct
 * ike_suite of ike_keys.h), to which IKEv1 maps its attribute values. */
#ifndef IKE_PROPOSAL_H
#define IKE_PROPOSAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg_store.h"
#include "ike_buf.h"
#include "ike_keys.h"

/* Methods of one side: most are dpsec-ctld's IKEv1 Main Mode suites with
 * the legacy ones (cp_ikev1.c); child SAs have at most CFG_MAX_METHODS. */
#define IKE_MAX_METHODS 12
#define IKE_OFFER_MAX 8    /* values of one transform type kept per proposal */

/* A Main Mode (IKE SA) security method: one full suite and its DH group. */
struct ike_mm_method {
	struct ike_suite suite; /* IKEv2 transform IDs: encr + key bits, integ, prf */
	uint16_t dh_group;      /* enum ike_dh_group */
};

/* A Quick Mode (child SA) security method. */
struct ike_qm_method {
	uint8_t protocol;            /* IKE_PROTO_ESP or IKE_PROTO_AH */
	uint8_t enc_alg;             /* enum dpsec_enc_alg (ESP only) */
	uint8_t enc_key_len;         /* bytes, without the GCM salt; 0 for AH */
	uint8_t integ_alg;           /* enum dpsec_integ_alg */
	uint16_t dh_group;           /* PFS group; 0: no PFS */
	bool esn;                    /* 64-bit sequence numbers */
	uint32_t lifetime_seconds;
	uint64_t lifetime_kilobytes;
};

/* A value list of one transform type in a proposal as offered. */
struct ike_values {
	uint8_t n;
	bool unknown; /* values we do not know (or past IKE_OFFER_MAX) were left out */
	uint16_t v[IKE_OFFER_MAX];
	uint16_t bits[IKE_OFFER_MAX]; /* key length of each cipher (encryption lists only) */
};

/* One proposal the peer offered for an IKE SA (IKEv2 transform IDs). */
struct ike_mm_offer {
	uint8_t num;
	uint8_t spi_len; /* 8 when rekeying an IKE SA, else 0 */
	uint8_t spi[8];
	struct ike_values encr, integ, prf, dh;
};

/* One proposal the peer offered for a child SA, in dpsec's enums (values
 * dpsec cannot run are left out, so they never match). */
struct ike_qm_offer {
	uint8_t num;
	uint8_t protocol;
	uint32_t spi;
	struct ike_values enc;   /* enum dpsec_enc_alg, bits = key bytes * 8 */
	struct ike_values integ; /* enum dpsec_integ_alg; DPSEC_INTEG_NONE when offered as NONE */
	struct ike_values dh;    /* 0 for NONE */
	struct ike_values esn;   /* 0 or 1 */
};

/* The choice: our method and the peer's proposal that accepted it. */
struct ike_choice {
	size_t method; /* index into our methods */
	size_t offer;  /* index into the offers */
};

/* Does the proposal accept the method? */
bool ike_mm_offer_accepts(const struct ike_mm_offer *o, const struct ike_mm_method *m);
bool ike_qm_offer_accepts(const struct ike_qm_offer *o, const struct ike_qm_method *m);

/* The responder's choice by the rule above: 0, or -ENOENT when no method
 * of ours is accepted by any proposal (NO_PROPOSAL_CHOSEN). */
int ike_mm_select(const struct ike_mm_method *ours, size_t n_ours, const struct ike_mm_offer *offers,
		  size_t n_offers, struct ike_choice *out);
int ike_qm_select(const struct ike_qm_method *ours, size_t n_ours, const struct ike_qm_offer *offers,
		  size_t n_offers, struct ike_choice *out);

/* An answer (the responder's single proposal) must name exactly one value
 * of each type the initiator asked for; -EBADMSG "...: 2 encryption
 * algorithms in the answer" otherwise. */
int ike_mm_answer_ok(const struct ike_mm_offer *o, struct ike_err *err);
int ike_qm_answer_ok(const struct ike_qm_offer *o, struct ike_err *err);

/* A filter action's security method as a Quick Mode method, with the
 * action's PFS group (0 when the action has no PFS). -EOPNOTSUPP, naming
 * it, for what the dataplane does not run. */
int ike_qm_method_from_cfg(const struct cfg_sec_method *m, uint16_t pfs_group,
			   struct ike_qm_method *out, struct ike_err *err);

/* Key and ICV sizes of a child SA's algorithms: the encryption key
 * material (GCM: key and 4-byte salt, RFC 4106 §8.1) and the integrity
 * key (RFC 2404: 20, RFC 4868: 32). */
size_t ike_qm_enc_keymat_len(const struct ike_qm_method *m);
size_t ike_qm_integ_key_len(const struct ike_qm_method *m);

/* Whether a child SA cipher (enum dpsec_enc_alg) carries a Key Length
 * attribute: AES only, the one of several key lengths (RFC 7296 §3.3.5,
 * RFC 2407 §4.5). */
bool ike_enc_has_key_length(uint8_t enc_alg);

/* The Key Length attribute of a method's cipher, in bits: 0 (none sent,
 * none expected) for the ciphers without one. */
uint16_t ike_qm_enc_bits(const struct ike_qm_method *m);

/* What dpsec offers for an IKE SA when the policy names nothing else:
 * AES-GCM-16 256 and 128, then AES-CBC 256 with HMAC-SHA2-256-128, each
 * with PRF HMAC-SHA2-256 over ECP-256, then the same over MODP-2048. */
extern const struct ike_mm_method ike_mm_defaults[];
extern const size_t ike_mm_defaults_n;

#endif
