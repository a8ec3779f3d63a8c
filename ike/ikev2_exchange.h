/* ikev2_exchange.h - what the files of the IKEv2 engine share, inside the
 * library only: the engine's state, a received message being handled, a
 * message being built, event emission, and the entry points of each
 * exchange file (ikev2_sa_init.c, ikev2_auth.c, ikev2_child.c,
 * ikev2_info.c). Callers use ikev2.h. */
#ifndef IKEV2_EXCHANGE_H
#define IKEV2_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_dh.h"
#include "ike_evq.h"
#include "ikev2.h"
#include "ikev2_msg.h"
#include "ikev2_sa.h"

#define IKEV2_COOKIE_SECRET_LEN 32

struct ikev2_engine {
	struct ikev2_conf conf;
	struct ikev2_sa **sas;
	size_t n_sas, cap_sas;
	struct ike_evq evq;
	struct ikev2_stats stats;
	uint8_t cookie_secret[2][IKEV2_COOKIE_SECRET_LEN]; /* [version & 1]: current and previous */
	uint32_t cookie_version;
	uint8_t rx[IKE_MSG_MAX];    /* the datagram being handled, opened in place */
	uint8_t inner[IKE_MSG_MAX]; /* inner payloads being built */
	uint8_t out[IKE_MSG_MAX];   /* the message being built */
	uint8_t reasm[IKE_MSG_MAX]; /* a fragmented message's inner payloads, joined */
};

/* A received message being handled. */
struct ikev2_rx {
	struct ikev2_msg m;
	size_t len;                 /* of e->rx */
	const struct ike_endpoint *local, *remote;
	uint64_t now;
	struct ike_err *err;
};

/* A message being built: the payloads go into b; with SK, into the inner
 * chain that ikev2_tx_finish() encrypts. */
struct ikev2_tx {
	struct ikev2_builder b;
	struct ikev2_hdr hdr;
	bool encrypted;
};

/* ---- counting, logging, events (ikev2_engine.c) ---- */

/* Counts s, logs the reason on the SA (if any) and returns code. */
int ikev2_drop(struct ikev2_engine *e, struct ikev2_sa *sa, enum ikev2_stat s, uint64_t now,
	       struct ike_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
void ikev2_count(struct ikev2_engine *e, enum ikev2_stat s);
/* Queues ev, which the queue then owns (with no memory left it is released). */
void ikev2_emit(struct ikev2_engine *e, const struct ikev2_event *ev);
/* An event of kind about sa, with the id and user filled in. */
struct ikev2_event ikev2_event_for(const struct ikev2_sa *sa, enum ikev2_event_kind kind);
/* A negotiation failed (notify sent or received, 0 if none): FAILED event;
 * with ike_sa_gone the SA is also closed. */
void ikev2_fail(struct ikev2_engine *e, struct ikev2_sa *sa, uint64_t now, uint16_t notify,
		bool ike_sa_gone, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* ikev2_fail() of the request of ours in flight (sa->req), refused or
 * answered unusably, which leaves the IKE SA up; a rekey's names the SA it
 * was to replace (the event's rekey_spi_in, rekey_ike): that one stays,
 * and the caller tries again later (§2.25). */
void ikev2_fail_request(struct ikev2_engine *e, struct ikev2_sa *sa, uint64_t now, uint16_t notify,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A child SA goes: CHILD_DOWN event, record removed. */
void ikev2_child_down(struct ikev2_engine *e, struct ikev2_sa *sa, struct ike_child_rec *c,
		      uint64_t now);
/* The IKE SA goes: CHILD_DOWN for each child, IKE_DOWN with the reason,
 * state CLOSED. */
void ikev2_sa_down(struct ikev2_engine *e, struct ikev2_sa *sa, uint64_t now, const char *reason);
/* Adds a new SA to the table; -ENOMEM. */
int ikev2_sa_insert(struct ikev2_engine *e, struct ikev2_sa *sa);
/* A half-open SA of ours (responder) by the initiator's SPI and address. */
struct ikev2_sa *ikev2_find_half_open(struct ikev2_engine *e, const uint8_t spi_i[8],
				      const struct ike_endpoint *remote);
/* Starts the next queued exchange when the window is free. */
void ikev2_start_next(struct ikev2_engine *e, struct ikev2_sa *sa, uint64_t now);

/* ---- building, sending, opening (ikev2_wire.c) ---- */

void ikev2_tx_begin(struct ikev2_engine *e, const struct ikev2_sa *sa, struct ikev2_tx *t,
		    uint8_t exchange, bool response, uint32_t msg_id);
/* A message in the clear with the given header (stateless cookie answer). */
void ikev2_tx_begin_clear(struct ikev2_engine *e, struct ikev2_tx *t, const struct ikev2_hdr *hdr);
void ikev2_tx_add(struct ikev2_tx *t, uint8_t type, const union ikev2_body *body);
void ikev2_tx_notify(struct ikev2_tx *t, uint16_t type, uint8_t protocol, const uint8_t *spi,
		     uint8_t spi_len, const uint8_t *data, size_t len);
/* Finishes (and seals) the message; *data is a malloc'd copy. */
int ikev2_tx_finish(struct ikev2_engine *e, const struct ikev2_sa *sa, struct ikev2_tx *t,
		    uint8_t **data, size_t *len, struct ike_err *err);
/* Sends data from the SA's endpoints (a SEND event; data is copied). */
void ikev2_send(struct ikev2_engine *e, const struct ikev2_sa *sa, const uint8_t *data, size_t len);
void ikev2_send_to(struct ikev2_engine *e, const struct ike_endpoint *local,
		   const struct ike_endpoint *remote, const uint8_t *data, size_t len);
/* Finishes t as our request of that kind: sends it, keeps it for
 * retransmission. The SA's outstanding request fields set by the caller
 * (dh, nonce, spi...) are kept. */
int ikev2_send_request(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_tx *t,
		       enum ikev2_req_kind kind, uint64_t now, struct ike_err *err);
/* Finishes t as the response to the peer's request msg_id: sends it,
 * caches it, and moves the peer's window on. */
int ikev2_send_response(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_tx *t,
			struct ike_err *err);
/* The same in two steps: the response cached and the window moved on
 * (seal), then sent. A responder creating a child SA installs it between
 * them, so that the initiator's first ESP packets, sent as soon as it reads
 * the response, find the inbound SA in place. */
int ikev2_seal_response(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_tx *t,
			struct ike_err *err);
void ikev2_send_cached_response(struct ikev2_engine *e, const struct ikev2_sa *sa);
/* Opens the SK payload of the received message and parses its contents
 * into rx->m. -EKEYREJECTED / -EBADMSG. */
int ikev2_rx_open(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx);

/* The first payload of that type parsed into body; false if absent. */
bool ikev2_rx_body(const struct ikev2_rx *rx, uint8_t type, union ikev2_body *body);
bool ikev2_rx_has(const struct ikev2_rx *rx, uint8_t type);
/* The first notify of that type; false if absent. */
bool ikev2_rx_notify(const struct ikev2_rx *rx, uint16_t type, struct ikev2_notify *out);
/* The first notify whose type is an error (below 16384), or 0. */
uint16_t ikev2_rx_error_notify(const struct ikev2_rx *rx);
/* "IDi AUTH SA TSi TSr N(USE_TRANSPORT_MODE)" */
void ikev2_rx_summary(const struct ikev2_rx *rx, char *buf, size_t cap);

/* Randomness; a key pair (honouring the test hook); a child SA's inbound SPI. */
int ikev2_random(void *p, size_t n, struct ike_err *err);
int ikev2_dh_new(struct ikev2_engine *e, uint16_t group, struct ike_dh **out, struct ike_err *err);
uint32_t ikev2_new_child_spi(struct ikev2_engine *e);

/* ---- fragmentation, RFC 7383 (ikev2_frag.c) ---- */

/* IKE_SA_INIT: our IKEV2_FRAGMENTATION_SUPPORTED (initiator: when
 * configured; responder: when agreed); agreement from the peer's. */
void ikev2_frag_announce(const struct ikev2_engine *e, const struct ikev2_sa *sa,
			 struct ikev2_tx *t);
void ikev2_frag_agree(const struct ikev2_engine *e, struct ikev2_sa *sa, const struct ikev2_rx *rx);
/* The message whose inner payloads were built in inner[0..inner_len)
 * (header first) as sealed SKF fragments, back to back in *data
 * (malloc'd). -E2BIG when it needs more than IKEV2_MAX_FRAGMENTS. */
int ikev2_frag_seal(struct ikev2_engine *e, const struct ikev2_sa *sa, const struct ikev2_hdr *hdr,
		    const uint8_t *inner, size_t inner_len, uint8_t **data, size_t *len,
		    struct ike_err *err);
/* Sends a message kept by ikev2_tx_finish(): one datagram, or each fragment. */
void ikev2_send_message(struct ikev2_engine *e, const struct ikev2_sa *sa, const uint8_t *data,
			size_t len);
/* A received SKF fragment: checked and decrypted; with check_only (a
 * retransmitted request) nothing more. Otherwise kept, and once all are
 * there the message's inner payloads parsed into rx->m (0); -EINPROGRESS
 * while some are missing (or for a copy); -EKEYREJECTED / -EBADMSG /
 * -EPROTO / -E2BIG naming the problem. *number: the fragment's. */
int ikev2_frag_open(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx,
		    bool check_only, uint16_t *number);
void ikev2_frag_free(struct ikev2_sa *sa);

/* ---- child SA negotiation, carried by IKE_AUTH and CREATE_CHILD_SA
 * (ikev2_child_nego.c) ---- */

/* One child SA being agreed, from either side. */
struct ikev2_child_nego {
	struct ike_qm_method method; /* as chosen */
	uint8_t num;                 /* the accepting proposal's number */
	uint32_t spi_in, spi_out;
	struct ike_ts_set ts_local, ts_remote;
	bool transport;
	bool initiator;              /* we initiated the exchange: KEYMAT order, Ni */
};

/* The TSi and TSr of a received child SA request; -EBADMSG naming what
 * is missing or empty. */
int ikev2_child_ts_read(const struct ikev2_rx *rx, struct ike_ts_set *ts_i, struct ike_ts_set *ts_r,
			struct ike_err *err);
/* Initiator: SA (our methods; without PFS groups when pfs is false, as in
 * IKE_AUTH), TSi, TSr and USE_TRANSPORT_MODE for spi, our inbound SPI. */
int ikev2_child_offer(struct ikev2_sa *sa, struct ikev2_tx *t, uint32_t spi, bool pfs,
		      struct ike_err *err);
/* Responder: the choice for the peer's SA/TSi/TSr/notifies. 0, or the
 * error notify to answer (NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE,
 * INVALID_SYNTAX) with err naming why. */
uint16_t ikev2_child_choose(struct ikev2_engine *e, struct ikev2_sa *sa, const struct ikev2_rx *rx,
			    bool pfs, struct ikev2_child_nego *out, struct ike_err *err);
/* Responder: SA, TSi, TSr (and USE_TRANSPORT_MODE) of the choice. */
int ikev2_child_answer(const struct ikev2_child_nego *n, struct ikev2_tx *t, struct ike_err *err);
/* Initiator: reads the responder's SA/TS answer to our offer. -EBADMSG
 * naming what is wrong; -EPROTO when the responder declined the transport
 * mode our policy requires: its half exists, so its DELETE is queued. */
int ikev2_child_read_answer(struct ikev2_sa *sa, const struct ikev2_rx *rx, uint32_t spi, bool pfs,
			    struct ikev2_child_nego *out, struct ike_err *err);
/* KEYMAT = prf+(SK_d, [g^ir |] Ni | Nr) into a CHILD_UP event, and the
 * child recorded on sa. rekeys: the inbound SPI replaced, 0 if none. */
int ikev2_child_install(struct ikev2_engine *e, struct ikev2_sa *sa, const struct ikev2_child_nego *n,
			struct ike_chunk g_ir, struct ike_chunk ni, struct ike_chunk nr,
			uint32_t rekeys, uint64_t now, struct ike_err *err);

/* ---- the exchanges ---- */

/* ikev2_sa_init.c */
int ikev2_sa_init_start(struct ikev2_engine *e, struct ikev2_sa *sa, uint64_t now,
			struct ike_err *err);
int ikev2_sa_init_request(struct ikev2_engine *e, struct ikev2_rx *rx);
int ikev2_sa_init_response(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx);

/* ikev2_auth.c */
/* IKE_SA_INIT's part of certificate authentication: SIGNATURE_HASH_ALGORITHMS
 * when the policy signs or takes certificates, and the responder's CERTREQ. */
int ikev2_auth_init_payloads(const struct ikev2_sa *sa, struct ikev2_tx *t, struct ike_err *err);
/* The peer's SIGNATURE_HASH_ALGORITHMS and CERTREQ of IKE_SA_INIT, kept on sa. */
void ikev2_auth_init_read(struct ikev2_sa *sa, const struct ikev2_rx *rx);
int ikev2_auth_start(struct ikev2_engine *e, struct ikev2_sa *sa, uint64_t now,
		     struct ike_err *err);
int ikev2_auth_request(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx);
int ikev2_auth_response(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx);

/* ikev2_child.c: CREATE_CHILD_SA (new child, child rekey; the IKE SA
 * rekey's part in ikev2_ike_rekey.c) */
int ikev2_child_start(struct ikev2_engine *e, struct ikev2_sa *sa, const struct ikev2_task *task,
		      uint64_t now, struct ike_err *err);
int ikev2_child_request(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx);
int ikev2_child_response(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx);
/* What both kinds of CREATE_CHILD_SA use. Our nonce, and for a group a
 * fresh key pair (*dh) and its KE payload, added to t: */
int ikev2_nonce_and_ke(struct ikev2_engine *e, struct ikev2_tx *t, uint8_t *nonce, uint16_t group,
		       struct ike_dh **dh, struct ike_err *err);
/* g^ir from the peer's KE, which must be of dh's group: */
int ikev2_shared_secret(const struct ikev2_rx *rx, const struct ike_dh *dh, uint8_t *g_ir,
			size_t *len, struct ike_err *err);
/* The responder's nonce and KE into t, and g^ir from the peer's KE: */
int ikev2_responder_keys(struct ikev2_engine *e, struct ikev2_rx *rx, struct ikev2_tx *t,
			 uint8_t *nonce, uint16_t group, uint8_t *g_ir, size_t *g_len);
bool ikev2_nonce_read(const struct ikev2_rx *rx, struct ike_blob *out);
/* Nonces compared as byte strings (the rekey collision rule, §2.8): at
 * the first byte that differs, else the shorter first; and the lower. */
int ikev2_nonce_cmp(struct ike_chunk a, struct ike_chunk b);
struct ike_chunk ikev2_nonce_lower(struct ike_chunk a, struct ike_chunk b);
/* The peer's KE is of the chosen group (or none is asked for): */
bool ikev2_ke_group_ok(const struct ikev2_rx *rx, uint16_t group);
/* The peer's request answered with notify (its data) and counted as a
 * failure, why logged: */
int ikev2_child_refuse(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx,
		       uint16_t notify, const uint8_t *data, size_t len, const char *why);
/* ... with INVALID_KE_PAYLOAD naming group: */
int ikev2_invalid_ke(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx,
		     uint16_t group);

/* ikev2_ike_rekey.c: the IKE SA rekey. Our request's SA, nonce and KE
 * into t (group: the KE's, 0 for our first method's): */
int ikev2_ike_rekey_start(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_tx *t,
			  uint16_t group, struct ike_err *err);
/* Its answer read: the new SA made, settled with any collision: */
int ikev2_ike_rekey_answer(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx);
/* The peer's rekey request (its IKE offers, its nonce ni) answered: */
int ikev2_ike_rekey_request(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx,
			    const struct ike_mm_offer *offers, size_t n_offers,
			    const struct ike_blob *ni);
/* Our rekey of sa will not complete (refused, or sa goes down) after the
 * peer's rekey of it was answered (a collision, RFC 7296 §2.8.2): the
 * peer's new SA takes the children. false when there is no such SA. */
bool ikev2_rekey_hand_over(struct ikev2_engine *e, struct ikev2_sa *sa, uint64_t now);

/* ikev2_info.c: INFORMATIONAL (deletes, liveness) */
int ikev2_info_start(struct ikev2_engine *e, struct ikev2_sa *sa, const struct ikev2_task *task,
		     uint64_t now, struct ike_err *err);
int ikev2_info_request(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx);
int ikev2_info_response(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx);

#endif
