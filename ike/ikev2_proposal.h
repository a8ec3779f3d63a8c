/* ikev2_proposal.h - IKEv2's wire forms of what ike_proposal.h and
 * ike_child.h negotiate: SA payloads built from our security methods and
 * read back into offers (RFC 7296 §3.3), TS payloads to and from
 * selector sets (§3.13). */
#ifndef IKEV2_PROPOSAL_H
#define IKEV2_PROPOSAL_H

#include <stddef.h>
#include <stdint.h>

#include "ike_child.h"
#include "ike_proposal.h"
#include "ikev2_msg.h"

/* One proposal per method, numbered from 1, each with a single transform
 * of each type; spi: 8 bytes (IKE SA rekey) or NULL (IKE_SA_INIT). */
int ikev2_sa_from_mm(const struct ike_mm_method *m, size_t n, const uint8_t *spi,
		     struct ike_sa *out);
/* The same for child SAs, with our inbound SPI. */
int ikev2_sa_from_qm(const struct ike_qm_method *m, size_t n, uint32_t spi, struct ike_sa *out);

/* The answer: the chosen method alone, under the number of the proposal
 * that accepted it. */
int ikev2_sa_answer_mm(const struct ike_mm_method *m, uint8_t num, const uint8_t *spi,
		       struct ike_sa *out);
int ikev2_sa_answer_qm(const struct ike_qm_method *m, uint8_t num, uint32_t spi,
		       struct ike_sa *out);

/* The proposals of an SA payload as offers. Proposals of another protocol
 * (or, for child SAs, without a 4-byte SPI) are left out. */
size_t ikev2_mm_offers(const struct ike_sa *sa, struct ike_mm_offer *out, size_t cap);
size_t ikev2_qm_offers(const struct ike_sa *sa, struct ike_qm_offer *out, size_t cap);

/* An answer (the responder's SA payload) read by the initiator: exactly one
 * proposal of the right protocol, one value of each type, and one of our
 * methods; *chosen is its index. -EBADMSG naming what is wrong. */
int ikev2_mm_answer(const struct ike_sa *pl, const struct ike_mm_method *ours, size_t n,
		    struct ike_mm_offer *got, size_t *chosen, struct ike_err *err);
int ikev2_qm_answer(const struct ike_sa *pl, const struct ike_qm_method *ours, size_t n,
		    struct ike_qm_offer *got, size_t *chosen, struct ike_err *err);

/* TS payload bodies to and from selector sets. Selectors that do not fit
 * IKE_MAX_TS are left out (-E2BIG when none fits). */
void ikev2_ts_from_set(const struct ike_ts_set *s, struct ikev2_ts_list *out);
int ikev2_ts_to_set(const struct ikev2_ts_list *l, struct ike_ts_set *out);

#endif
