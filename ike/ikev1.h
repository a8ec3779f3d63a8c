/* ikev1.h - the IKEv1 exchange engine (RFC 2409 over ISAKMP, RFC 2408, and
 * the IPsec DOI, RFC 2407): Main Mode with pre-shared keys, Quick Mode,
 * and Informational exchanges (deletes, notifies, dead peer detection, RFC
 * 3706), with NAT traversal (RFC 3947). Like ikev2.h it opens no socket
 * and reads no clock: the caller feeds datagrams and milliseconds and
 * takes back events.
 *
 * So that dpsec-ctld drives both versions with one event loop, this engine
 * reuses IKEv2's public types: the peer policy and its lookup (struct
 * ikev2_peer, struct ikev2_lookup), the endpoints, and the events (struct
 * ikev2_event, released with ikev2_event_release()). struct ikev2_sa_id
 * names an ISAKMP SA by its cookies (spi_i = CKY-I, spi_r = CKY-R). The
 * event kinds used are SEND, NAT, IKE_UP, CHILD_UP, CHILD_DOWN, IKE_DOWN,
 * FAILED and IKE_REKEYED (IKEv1 has no IKE SA rekey: a new Main Mode
 * replaces one, ikev1_renew(), and adopts its Quick Mode SAs).
 *
 * What IKEv1 takes from the policy: mm[] (only AES-CBC, 3DES and, with
 * conf.legacy, DES suites; the IKEv2 integrity algorithm is ignored,
 * IKEv1 authenticates with the HMAC of the PRF's hash), qm[] (its
 * dh_group is the PFS group, its lifetimes the Quick Mode SA's), the
 * selectors (the first of each side is Quick Mode's IDci/IDcr), the
 * identities and the pre-shared key. docs/ike.md describes the whole. */
#ifndef IKEV1_H
#define IKEV1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ikev2.h"

#define IKEV1_PORT 500
#define IKEV1_NATT_PORT 4500 /* after a NAT is detected (RFC 3947 §4) */

#define IKEV1_STATS(X)                                                          \
	X(RECEIVED, "datagrams received")                                       \
	X(SENT, "datagrams sent")                                               \
	X(INVALID_PACKETS, "invalid packets received")                          \
	X(INVALID_COOKIES, "invalid cookies received")                          \
	X(HASH_FAILED, "messages failing their hash check")                     \
	X(UNEXPECTED_EXCHANGE, "exchanges not allowed in the SA's state")       \
	X(AGGRESSIVE_REFUSED, "aggressive modes refused")                       \
	X(HALF_OPEN_REFUSED, "main modes refused: too many half-open")          \
	X(RETRANSMITS, "messages retransmitted")                                \
	X(REPLAYED_RESPONSES, "cached responses replayed")                      \
	X(AUTH_FAILURES, "authentication failures")                             \
	X(NEGOTIATION_FAILURES, "negotiation failures")                         \
	X(NOTIFIES_RECEIVED, "notifications received")                          \
	X(PEER_TIMEOUTS, "exchanges given up after retransmissions")            \
	X(IKE_ESTABLISHED, "main modes established")                            \
	X(CHILD_ESTABLISHED, "quick modes established")                         \
	X(CHILD_REKEYS, "quick mode SAs rekeyed")                               \
	X(IKE_RENEWED, "main mode SAs replaced by a new main mode")             \
	X(IKE_DELETED, "main mode SAs deleted")                                 \
	X(CHILD_DELETED, "quick mode SAs deleted")                              \
	X(DPD_SENT, "R-U-THERE sent")                                           \
	X(DPD_ANSWERED, "R-U-THERE answered")

#define IKEV1_X_ENUM(n, s) IKEV1_STAT_##n,
enum ikev1_stat { IKEV1_STATS(IKEV1_X_ENUM) IKEV1_STAT_COUNT };
#undef IKEV1_X_ENUM

struct ikev1_stats {
	uint64_t n[IKEV1_STAT_COUNT];
};

const char *ikev1_stat_name(enum ikev1_stat s);

/* The engine's configuration. ikev1_conf_default() fills the defaults. */
struct ikev1_conf {
	/* The policy for a peer, as for IKEv2: by addresses at Main Mode 1,
	 * by addresses and identity at Main Mode 5. Required. */
	int (*lookup)(void *ctx, const struct ikev2_lookup *q, struct ikev2_peer *out);
	void *lookup_ctx;
	uint32_t (*spi_alloc)(void *ctx); /* Quick Mode inbound SPIs; NULL: random */
	void *spi_ctx;
	void (*log)(void *ctx, int level, const char *line);
	void *log_ctx;
	uint32_t retransmit_base_ms;  /* default 500, doubling */
	uint32_t retransmit_tries;    /* default 5 */
	uint32_t half_open_timeout_ms;/* a Main Mode not finished; default 30000 */
	uint32_t half_open_max;       /* responder Main Modes not finished at once; default
				       * 1000 (IKEv1 has no cookie challenge: this bounds a flood) */
	uint32_t ike_lifetime_s;      /* ISAKMP SA lifetime offered and accepted; default
				       * 28800 (480 minutes), 10 to 172800 (the policy store
				       * keeps the seeds' 5 minutes; less is for tests) */
	bool legacy;                  /* also DES, MD5 and MODP-1024 (group 2) in Phase 1 */
	/* TEST HOOK, as in ikev2_conf: ECP key pairs from this private value. */
	const uint8_t *test_dh_private;
	size_t test_dh_private_len;
};

void ikev1_conf_default(struct ikev1_conf *c);

struct ikev1_engine;

/* -EINVAL naming the bad setting. */
struct ikev1_engine *ikev1_engine_new(const struct ikev1_conf *c, struct ike_err *err);
void ikev1_engine_free(struct ikev1_engine *e);
/* Changes ike_lifetime_s and legacy for the Main Modes started from now on
 * (dpsec-ctld follows its assigned policy); -EINVAL naming a lifetime out
 * of range, and nothing changed. */
int ikev1_engine_set_phase1(struct ikev1_engine *e, uint32_t ike_lifetime_s, bool legacy,
			    struct ike_err *err);

/* Starts Main Mode to remote; once it is up, the first Quick Mode
 * follows. *out names the SA (CKY-R zero until the responder answers). */
int ikev1_initiate(struct ikev1_engine *e, const struct ikev2_peer *peer,
		   const struct ike_endpoint *local, const struct ike_endpoint *remote,
		   uint64_t now_ms, struct ikev2_sa_id *out, struct ike_err *err);

/* A datagram received (the non-ESP marker removed on port 4500). 0 when
 * taken, else a negative errno with err naming why it was dropped (also
 * counted and logged): -EBADMSG malformed, -ENOENT no such SA (invalid
 * cookies), -EKEYREJECTED hash check failed, -EPROTO an exchange not
 * allowed (Aggressive Mode, a message out of order), -EBUSY a first
 * message beyond half_open_max. */
int ikev1_input(struct ikev1_engine *e, const uint8_t *buf, size_t len,
		const struct ike_endpoint *local, const struct ike_endpoint *remote,
		uint64_t now_ms, struct ike_err *err);

uint64_t ikev1_next_timer(const struct ikev1_engine *e);
void ikev1_tick(struct ikev1_engine *e, uint64_t now_ms);

/* Events as in ikev2.h; release each with ikev2_event_release(). */
bool ikev1_next_event(struct ikev1_engine *e, struct ikev2_event *ev);

/* On an established ISAKMP SA; -ENOENT no such SA (or child), -EAGAIN not
 * established, -EBUSY too many Quick Modes in flight. */
int ikev1_quick_mode(struct ikev1_engine *e, const struct ikev2_sa_id *sa, uint64_t now_ms,
		     struct ike_err *err);
/* A new Quick Mode for the child; once it is up, the old one is deleted
 * (make-before-break). */
int ikev1_rekey_child(struct ikev1_engine *e, const struct ikev2_sa_id *sa, uint32_t spi_in,
		      uint64_t now_ms, struct ike_err *err);
int ikev1_delete_child(struct ikev1_engine *e, const struct ikev2_sa_id *sa, uint32_t spi_in,
		       uint64_t now_ms, struct ike_err *err);
int ikev1_delete_ike(struct ikev1_engine *e, const struct ikev2_sa_id *sa, uint64_t now_ms,
		     struct ike_err *err);
/* A new Main Mode with the SA's peer to replace it before its lifetime
 * ends (no Quick Mode follows). Once it is up, it adopts the old SA's
 * Quick Mode SAs (IKE_UP for the new SA, then IKE_REKEYED: sa the old,
 * new_sa the new) and the old one is deleted (DELETE sent, IKE_DOWN). The
 * responder's engine adopts them as well, from an SA with the same policy
 * tag, address and identity. *out names the new SA. -ENOENT no such SA,
 * -EAGAIN not established, -EALREADY a renewal is under way. */
int ikev1_renew(struct ikev1_engine *e, const struct ikev2_sa_id *sa, uint64_t now_ms,
		struct ikev2_sa_id *out, struct ike_err *err);
/* ESP of one of sa's pairs, verified and new to its window, came from
 * remote: an established SA whose peer is behind a NAT talks to it there
 * from now on, and PEER_MOVED follows if that is a new place (as
 * ikev2_peer_moved()). -ENOENT: no such SA. */
int ikev1_peer_moved(struct ikev1_engine *e, const struct ikev2_sa_id *sa,
		     const struct ike_endpoint *remote, uint64_t now_ms);
/* R-U-THERE (RFC 3706); no R-U-THERE-ACK after the retransmissions takes
 * the ISAKMP SA down. -EOPNOTSUPP when the peer did not announce DPD. */
int ikev1_check_liveness(struct ikev1_engine *e, const struct ikev2_sa_id *sa, uint64_t now_ms,
			 struct ike_err *err);

const struct ikev1_stats *ikev1_engine_stats(const struct ikev1_engine *e);
size_t ikev1_sa_count(const struct ikev1_engine *e);
/* Responder SAs whose Main Mode is not done. */
size_t ikev1_half_open_count(const struct ikev1_engine *e);

#endif
