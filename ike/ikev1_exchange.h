/* ikev1_exchange.h - what the files of the IKEv1 engine share, inside the
 * library only: the engine's state, a received message being handled, a
 * message being built, counting and events, and the entry points of each
 * exchange file (ikev1_main.c, ikev1_quick.c, ikev1_info.c). Callers use
 * ikev1.h. */
#ifndef IKEV1_EXCHANGE_H
#define IKEV1_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_evq.h"
#include "ikev1.h"
#include "ikev1_prf.h"
#include "ikev1_sa.h"
#include "isakmp_msg.h"

struct ikev1_engine {
	struct ikev1_conf conf;
	struct ikev1_sa **sas;
	size_t n_sas, cap_sas;
	struct ike_evq evq;
	struct ikev1_stats stats;
	uint8_t rx[IKE_MSG_MAX];    /* the datagram being handled, decrypted in place */
	uint8_t inner[IKE_MSG_MAX]; /* a plaintext chain being built */
	uint8_t out[IKE_MSG_MAX];   /* the message being built */
};

/* A received message being handled. */
struct ikev1_rx {
	struct isakmp_msg m;
	const uint8_t *raw;         /* the datagram as received (the caller's bytes) */
	size_t len;
	const struct ike_endpoint *local, *remote;
	uint64_t now;
	struct ike_err *err;
	/* after ikev1_rx_open(): the decrypted chain, without padding */
	const uint8_t *plain;
	size_t plain_len;
	struct ikev1_iv next_iv;    /* the chain's state once the message is accepted */
};

/* A message being built: payloads go into a plaintext chain (e->inner)
 * that ikev1_tx_finish() encrypts, or straight after the header. */
struct ikev1_tx {
	struct isakmp_builder b;
	struct isakmp_hdr hdr;
	bool encrypted;
	size_t hash_at;             /* HASH(1)/(2) payload's data offset in the chain, 0: none */
};

/* ---- counting, logging, events (ikev1_engine.c) ---- */

void ikev1_count(struct ikev1_engine *e, enum ikev1_stat s);
/* Counts s, logs the reason on the SA (if any) and returns code. */
int ikev1_drop(struct ikev1_engine *e, struct ikev1_sa *sa, enum ikev1_stat s, uint64_t now,
	       struct ike_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
void ikev1_emit(struct ikev1_engine *e, const struct ikev2_event *ev);
struct ikev2_event ikev1_event_for(const struct ikev1_sa *sa, enum ikev2_event_kind kind);
/* rx authenticated and fresh (Main Mode's last messages; a peer's
 * R-U-THERE numbered above its earlier ones: IKEv1 has no other guard
 * against a replayed Informational; a responder's Quick Mode 3, whose HASH
 * covers our fresh nonce): with a NAT between the peers, the SA
 * talks to where rx came from; an established SA's peer that moved is told
 * to the caller (PEER_MOVED), for its Quick Mode pairs. */
void ikev1_follow_peer(struct ikev1_engine *e, struct ikev1_sa *sa, const struct ikev1_rx *rx);
/* A negotiation failed (notify sent or received, 0 if none): FAILED; with
 * ike_sa_gone the SA closes too. A renewal's new Main Mode that fails
 * reports the renewed SA's rekey failed (that SA, rekey_ike). */
void ikev1_fail(struct ikev1_engine *e, struct ikev1_sa *sa, uint64_t now, uint16_t notify,
		bool ike_sa_gone, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* ikev1_fail() of Quick Mode x (notify: the peer's refusal, 0 if none),
 * which leaves the ISAKMP SA up; one of ours that rekeys a pair names it
 * (the event's rekey_spi_in): that pair stays, and the caller tries again
 * later. */
void ikev1_fail_quick(struct ikev1_engine *e, struct ikev1_sa *sa, uint64_t now,
		      const struct ikev1_xchg *x, uint16_t notify, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void ikev1_child_down(struct ikev1_engine *e, struct ikev1_sa *sa, struct ike_child_rec *c,
		      uint64_t now);
/* CHILD_DOWN for each child, IKE_DOWN with the reason, state CLOSED. */
void ikev1_sa_down(struct ikev1_engine *e, struct ikev1_sa *sa, uint64_t now, const char *reason);
int ikev1_sa_insert(struct ikev1_engine *e, struct ikev1_sa *sa);
/* The policy's methods IKEv1 can use (CBC suites; legacy ones only with
 * conf.legacy), integrity cleared: the hash's HMAC does its work. */
size_t ikev1_mm_methods(const struct ikev1_engine *e, const struct ikev2_peer *p,
			struct ike_mm_method *out);

/* ---- the wire (ikev1_wire.c) ---- */

int ikev1_random(void *p, size_t n, struct ike_err *err);
int ikev1_dh_new(struct ikev1_engine *e, uint16_t group, struct ike_dh **out, struct ike_err *err);
uint32_t ikev1_new_child_spi(struct ikev1_engine *e);

void ikev1_tx_begin(struct ikev1_engine *e, const struct ikev1_sa *sa, struct ikev1_tx *t,
		    uint8_t exchange, uint32_t mid, bool encrypted);
void ikev1_tx_add(struct ikev1_tx *t, uint8_t type, const union isakmp_body *body);
void ikev1_tx_raw(struct ikev1_tx *t, uint8_t type, const uint8_t *body, size_t len);
/* A HASH payload of the prf's length, filled in by ikev1_tx_finish_hashed(). */
void ikev1_tx_hash_slot(struct ikev1_tx *t, const struct ikev1_sa *sa);
void ikev1_tx_notify(struct ikev1_tx *t, uint8_t protocol, uint16_t type, const uint8_t *spi,
		     uint8_t spi_len, const uint8_t *data, size_t len);
/* Finishes the message, encrypting it with *iv (which moves on); *data is
 * a malloc'd copy. */
int ikev1_tx_finish(struct ikev1_engine *e, const struct ikev1_sa *sa, struct ikev1_tx *t,
		    struct ikev1_iv *iv, uint8_t **data, size_t *len, struct ike_err *err);
/* The same, with the HASH slot filled first: HASH(1) (ni NULL) or HASH(2)
 * (ni the initiator's nonce) over the payloads after it. */
int ikev1_tx_finish_hashed(struct ikev1_engine *e, const struct ikev1_sa *sa, struct ikev1_tx *t,
			   const uint8_t *ni, size_t ni_len, struct ikev1_iv *iv, uint8_t **data,
			   size_t *len, struct ike_err *err);
/* A SEND event (data copied), from the SA's endpoints or given ones. */
void ikev1_send_to(struct ikev1_engine *e, const struct ike_endpoint *local,
		   const struct ike_endpoint *remote, const uint8_t *data, size_t len);
void ikev1_send(struct ikev1_engine *e, const struct ikev1_sa *sa, const uint8_t *data, size_t len);
/* Finishes, sends and remembers the message in msgs (waiting: retransmit). */
int ikev1_send_msg(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_msgs *msgs,
		   uint8_t *data, size_t len, bool waiting, uint64_t now);
/* Where an answer to rx goes: back where rx came from when a NAT is
 * between the peers (its mapping may have changed; the SA itself follows a
 * new one only on fresh, authenticated evidence: ikev1_follow_peer()),
 * else to the SA's peer. One answer per message received, so that a
 * replayed message from a forged source reflects no more than itself. */
const struct ike_endpoint *ikev1_reply_to(const struct ikev1_sa *sa, const struct ikev1_rx *rx);
/* ikev1_send_msg() for a message that answers rx: sent to
 * ikev1_reply_to(); its retransmissions, if due, go to the SA's peer. */
int ikev1_answer_msg(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_msgs *msgs,
		     uint8_t *data, size_t len, bool waiting, const struct ikev1_rx *rx);

/* Decrypts the received message with iv (rx->next_iv gets the chain's next
 * state, to be committed once the hash verified) and parses its payloads. */
int ikev1_rx_open(struct ikev1_engine *e, const struct ikev1_sa *sa, struct ikev1_rx *rx,
		  const struct ikev1_iv *iv);
/* Checks the HASH that must come first in a Phase 2 message: HASH(1)
 * (ni NULL) or HASH(2). -EKEYREJECTED when it does not verify. */
int ikev1_rx_check_hash(const struct ikev1_sa *sa, const struct ikev1_rx *rx, const uint8_t *ni,
			size_t ni_len);
bool ikev1_rx_body(const struct ikev1_rx *rx, uint8_t type, union isakmp_body *body);
/* The n-th (0-based) payload of that type. */
bool ikev1_rx_body_nth(const struct ikev1_rx *rx, uint8_t type, int nth, union isakmp_body *body);
/* The first notify with a type from lo to hi (errors: 1 to 8191). */
bool ikev1_rx_notify_in(const struct ikev1_rx *rx, uint16_t lo, uint16_t hi,
			struct isakmp_notify *out);

/* ---- the exchanges ---- */

/* ikev1_renew.c */
/* Another established SA with the peer's address? (INITIAL-CONTACT is
 * sent only without one, RFC 2407 §4.6.3.3.) */
bool ikev1_peer_has_sa(const struct ikev1_engine *e, const struct ikev1_sa *sa);
/* The SA just established takes over the Quick Mode SAs of the one it
 * replaces (ours renewed, or an older one with the same peer); a renewal
 * of ours then deletes the old one. */
void ikev1_adopt(struct ikev1_engine *e, struct ikev1_sa *sa, uint64_t now);

/* ikev1_main.c */
/* Does the policy authenticate: a pre-shared key, or certificate methods
 * both ways (RSA signatures)? */
bool ikev1_policy_authenticates(const struct ikev2_peer *p);
int ikev1_main_start(struct ikev1_engine *e, struct ikev1_sa *sa, uint64_t now, struct ike_err *err);
int ikev1_main_first(struct ikev1_engine *e, struct ikev1_rx *rx);
int ikev1_main_input(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_rx *rx);

/* ikev1_qm_payloads.c: Quick Mode's SA and ID payloads */
/* The initiator's transforms as offers: each with its transform and
 * proposal index. */
struct ikev1_qm_offers {
	size_t n;
	struct ike_qm_offer o[IKE_MAX_TRANSFORMS];
	uint16_t tr[IKE_MAX_TRANSFORMS];   /* the transform of each offer */
	uint16_t prop[IKE_MAX_TRANSFORMS]; /* and its proposal */
};
/* The first method IKEv1 can offer on sa (not AH across a NAT, none
 * without an IKEv1 number), whose PFS group the Quick Mode uses; NULL if
 * none. */
const struct ike_qm_method *ikev1_qm_first_offered(const struct ikev1_sa *sa);
/* Our SA payload into out: a proposal per offerable method, numbered by
 * its place, with x's inbound SPI; life holds the lifetimes' bytes. */
void ikev1_qm_offer_build(const struct ikev1_sa *sa, const struct ikev1_xchg *x,
			  struct ike_sa *out, uint8_t life[][2][8]);
/* Every transform of the peer's SA payload sa that dpsec could take on
 * ike (single-protocol proposals, an encapsulation NAT-D allows). */
void ikev1_qm_offers_read(const struct ikev1_sa *ike, const struct ike_sa *sa,
			  struct ikev1_qm_offers *out);
/* Whether an Encapsulation Mode attribute says transport mode. */
bool ikev1_qm_mode_is_transport(uint16_t m);
/* A selector as an ID payload's body into out (at most 36 bytes): its
 * length. */
size_t ikev1_qm_id_from_ts(const struct ike_ts *t, uint8_t *out);
/* Whether t lies within one of allowed's selectors. */
bool ikev1_qm_ts_allowed(const struct ike_ts *t, const struct ike_ts_set *allowed);
/* IDci and IDcr of rx (or the two hosts when absent) as x's selectors. */
int ikev1_qm_read_ids(const struct ikev1_sa *sa, const struct ikev1_rx *rx, struct ikev1_xchg *x);

/* ikev1_quick.c */
int ikev1_quick_start(struct ikev1_engine *e, struct ikev1_sa *sa, uint32_t rekeys, uint64_t now,
		      struct ike_err *err);
int ikev1_quick_input(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_xchg *x,
		      struct ikev1_rx *rx);

/* ikev1_info.c */
int ikev1_info_input(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_rx *rx);
/* An Informational exchange with one NOTIFY or DELETE, HASH(1)-protected. */
int ikev1_info_send_delete(struct ikev1_engine *e, struct ikev1_sa *sa, uint8_t protocol,
			   const uint8_t *spi, uint8_t spi_len, uint64_t now, struct ike_err *err);
/* A NOTIFY naming the ISAKMP SA's cookies that answers rx: sent to
 * ikev1_reply_to(). */
int ikev1_info_answer_notify(struct ikev1_engine *e, struct ikev1_sa *sa, uint16_t type,
			     const uint8_t *data, size_t len, const struct ikev1_rx *rx,
			     struct ike_err *err);
/* The error notify refusing a peer's Quick Mode (its message 1, rx): it
 * names the SPI of the offer's first proposal (ESP or AH), so that an
 * initiator with several Quick Modes in flight can tell which one ends;
 * the ISAKMP SA's cookies when the offer has no such SPI. Sent where rx
 * came from, as any answer (ikev1_reply_to()). */
int ikev1_info_send_qm_refusal(struct ikev1_engine *e, struct ikev1_sa *sa, uint16_t type,
			       const struct ike_sa *offer, const struct ikev1_rx *rx,
			       struct ike_err *err);
/* An unprotected notify answering a Main Mode message (before keys exist). */
void ikev1_info_send_clear_notify(struct ikev1_engine *e, const struct ikev1_rx *rx, uint16_t type);
int ikev1_dpd_start(struct ikev1_engine *e, struct ikev1_sa *sa, uint64_t now, struct ike_err *err);

#endif
