/* ikev2.h - the IKEv2 exchange engine (RFC 7296), initiator and responder,
 * with no sockets, no clock and no DPDK: dpsec-ctld (or a test) feeds it
 * datagrams (bytes with the local and remote address and port) and the
 * time in milliseconds, and takes back events: datagrams to send, IKE SAs
 * established, rekeyed or deleted, child SAs to install or remove, and
 * failures with their reasons. ikev2_next_timer() says when to call
 * ikev2_tick() next (retransmissions, half-open expiry).
 *
 * The engine is single-threaded and holds every IKE SA it negotiates. Which
 * policy applies to a peer is the caller's answer to a lookup (by addresses
 * at IKE_SA_INIT, by addresses and identity at IKE_AUTH). The exchanges are
 * one file each (ikev2_sa_init.c, ikev2_auth.c, ikev2_child.c,
 * ikev2_info.c); the IKE SA object, its state machine and message windows
 * are ikev2_sa.[ch]. docs/ike.md describes the whole. */
#ifndef IKEV2_H
#define IKEV2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dpsec_model.h"
#include "ike_auth.h"
#include "ike_child.h"
#include "ike_keys.h"
#include "ike_proposal.h"

#define IKEV2_PORT 500
#define IKEV2_NATT_PORT 4500 /* after a NAT is detected (RFC 7296 §2.23) */

struct ike_endpoint {
	struct dpsec_addr addr;
	uint16_t port;
};

/* Whether a and b are the same address, of the same family (the bytes
 * of that family only). */
static inline bool ike_addr_same(const struct dpsec_addr *a, const struct dpsec_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->a, b->a, a->family == DPSEC_AF_INET6 ? 16 : 4) == 0;
}

/* Whether a and b are the same address and port. */
static inline bool ike_endpoint_same(const struct ike_endpoint *a, const struct ike_endpoint *b)
{
	return a->port == b->port && ike_addr_same(&a->addr, &b->addr);
}

/* A peer's endpoint *at, as its NAT maps it, now to: false when it is
 * there already; else *at moved and the change said in what for the
 * engines' logs ("port 4500, now 4500, from another address"). */
static inline bool ike_endpoint_move(struct ike_endpoint *at, const struct ike_endpoint *to,
				     char *what, size_t len)
{
	if (ike_endpoint_same(at, to))
		return false;
	snprintf(what, len, "port %u, now %u%s", at->port, to->port,
		 ike_addr_same(&at->addr, &to->addr) ? "" : ", from another address");
	*at = *to;
	return true;
}

/* Names an IKE SA: its two SPIs (the responder's is zero until it answers). */
struct ikev2_sa_id {
	uint8_t spi_i[8], spi_r[8];
};

/* The policy for one peer, as the caller's lookup gives it. */
struct ikev2_peer {
	uint64_t user;                      /* the caller's tag (its rule), given back in events */
	struct ike_id local_id;             /* our identity */
	struct ike_id remote_id;            /* the peer's expected one; type 0: any */
	struct ike_auth_conf local_auth;    /* how we prove ours */
	struct ike_auth_conf remote_auth;   /* how we check the peer's */
	uint8_t n_mm, n_qm;
	struct ike_mm_method mm[IKE_MAX_METHODS]; /* IKE SA methods, in order of preference */
	struct ike_qm_method qm[IKE_MAX_METHODS]; /* child SA methods, in order of preference */
	struct ike_ts_set ts_local, ts_remote;    /* initiator: proposed; responder: allowed */
	bool transport;                     /* child SAs in transport mode (USE_TRANSPORT_MODE) */
};

/* What a lookup knows: addresses always; from IKE_AUTH on the peer's
 * identity and the child SA it asks for (its selectors, TSi the
 * initiator's side, and whether it wants transport mode), so that one
 * peer's tunnel and transport rules can be told apart. */
struct ikev2_lookup {
	const struct ike_endpoint *local, *remote;
	const struct ike_id *peer_id;              /* NULL at IKE_SA_INIT */
	const struct ike_ts_set *ts_i, *ts_r;      /* NULL at IKE_SA_INIT, or when unreadable */
	bool transport;
};

/* Errors by one list: the enum and the names of the counters (VPP style). */
#define IKEV2_STATS(X)                                                          \
	X(RECEIVED, "datagrams received")                                       \
	X(SENT, "datagrams sent")                                               \
	X(INVALID_PACKETS, "invalid packets received")                          \
	X(UNKNOWN_SPI, "messages for no known IKE SA")                          \
	X(INTEGRITY_FAILED, "messages failing their integrity check")           \
	X(UNEXPECTED_MSG_ID, "messages with an unexpected message ID")          \
	X(UNEXPECTED_EXCHANGE, "exchanges not allowed in the SA's state")       \
	X(RETRANSMITS, "requests retransmitted")                                \
	X(REPLAYED_RESPONSES, "cached responses replayed")                      \
	X(COOKIES_SENT, "cookie challenges sent")                               \
	X(INVALID_COOKIES, "invalid cookies received")                          \
	X(FRAGMENTED, "messages sent in fragments")                             \
	X(INITIAL_CONTACTS, "IKE SAs taken down by the peer's INITIAL_CONTACT")   \
	X(REASSEMBLED, "messages received in fragments")                        \
	X(HALF_OPEN_LIMIT, "IKE_SA_INIT over its address's half-open limit")    \
	X(INVALID_KE, "INVALID_KE_PAYLOAD exchanged")                           \
	X(AUTH_FAILURES, "authentication failures")                             \
	X(NEGOTIATION_FAILURES, "negotiation failures")                         \
	X(PEER_TIMEOUTS, "requests given up after retransmissions")             \
	X(IKE_ESTABLISHED, "IKE SAs established (main modes)")                  \
	X(CHILD_ESTABLISHED, "child SAs established (quick modes)")             \
	X(IKE_REKEYS, "IKE SAs rekeyed")                                        \
	X(CHILD_REKEYS, "child SAs rekeyed")                                    \
	X(REKEY_COLLISIONS, "child SA rekeys met by the peer's of the same SA") \
	X(IKE_DELETED, "IKE SAs deleted")                                       \
	X(CHILD_DELETED, "child SAs deleted")

#define IKEV2_X_ENUM(n, s) IKEV2_STAT_##n,
enum ikev2_stat { IKEV2_STATS(IKEV2_X_ENUM) IKEV2_STAT_COUNT };
#undef IKEV2_X_ENUM

struct ikev2_stats {
	uint64_t n[IKEV2_STAT_COUNT];
};

const char *ikev2_stat_name(enum ikev2_stat s);

/* The engine's configuration. ikev2_conf_default() fills the defaults. */
struct ikev2_conf {
	/* The policy for a peer: 0 and *out filled, or -ENOENT. Required. */
	int (*lookup)(void *ctx, const struct ikev2_lookup *q, struct ikev2_peer *out);
	void *lookup_ctx;
	/* Inbound SPIs of child SAs (ctld's SA manager keeps them unique);
	 * NULL: random. */
	uint32_t (*spi_alloc)(void *ctx);
	void *spi_ctx;
	/* The diagnostic log: every SA event line, level 0 (errors) to 7. */
	void (*log)(void *ctx, int level, const char *line);
	void *log_ctx;
	uint32_t retransmit_base_ms;  /* first retransmission after this; default 500 */
	uint32_t retransmit_tries;    /* retransmissions before giving up; default 5 */
	uint32_t half_open_timeout_ms;/* a responder's SA without IKE_AUTH; default 30000 */
	uint32_t cookie_threshold;    /* half-open SAs from which IKE_SA_INIT needs a cookie;
				       * 0: always; default 1000 */
	uint32_t fragment_size;       /* IKE fragmentation (RFC 7383): announced, and an
				       * encrypted message longer than this many bytes is
				       * sent in fragments of at most this size, once both
				       * sides announce it; 0: neither; default 1200 (a
				       * 1280-byte IPv6 packet holds it, with the NAT-T marker) */
	uint32_t half_open_per_source;/* half-open SAs one address may hold; its IKE_SA_INIT
				       * beyond is dropped (after any cookie check, so the
				       * address is the sender's); 0: no limit; default 10 */
	/* TEST HOOK: every ECP/Curve25519 key pair of this engine from this
	 * private value, so that a test can recompute g^ir. Never in production. */
	const uint8_t *test_dh_private;
	size_t test_dh_private_len;
};

void ikev2_conf_default(struct ikev2_conf *c);

enum ikev2_event_kind {
	IKEV2_EV_SEND,        /* send: a datagram */
	IKEV2_EV_NAT,         /* nat: after IKE_SA_INIT; on NAT, the engine moves to port 4500 */
	IKEV2_EV_IKE_UP,      /* up: the IKE SA is established */
	IKEV2_EV_IKE_REKEYED, /* rekeyed: sa is replaced by new_sa, children moved */
	IKEV2_EV_IKE_DOWN,    /* reason: the IKE SA is gone (deleted, or given up) */
	IKEV2_EV_CHILD_UP,    /* child: to install (ike_child_wipe()d by the release) */
	IKEV2_EV_CHILD_DOWN,  /* child_down: to remove */
	IKEV2_EV_FAILED,      /* reason: a negotiation failed */
	IKEV2_EV_PEER_MOVED,  /* moved: a peer behind a NAT now sends from another address or
			       * port (RFC 7296 §2.23); its child SAs are to follow */
};

struct ikev2_event {
	enum ikev2_event_kind kind;
	struct ikev2_sa_id sa;
	uint64_t user; /* the peer policy's tag */
	union {
		struct {
			struct ike_endpoint local, remote;
			uint8_t *data;
			size_t len;
		} send;
		struct {
			bool local_behind_nat, remote_behind_nat;
		} nat;
		struct {
			struct ike_id peer_id;
			struct ike_mm_method mm;
			bool initiator;
			uint32_t lifetime_s; /* IKEv1: the ISAKMP SA's, as agreed; 0: the caller's */
		} up;
		struct {
			struct ikev2_sa_id new_sa;
			bool initiator; /* we initiated new_sa (the rekey that made it) */
		} rekeyed;
		struct {
			struct ike_endpoint remote;
		} moved;
		struct ike_child *child;
		struct {
			uint8_t protocol;
			uint32_t spi_in, spi_out;
		} child_down;
		struct {
			uint16_t notify;  /* the notify sent or received, 0 if none */
			bool ike_sa_gone; /* the IKE SA failed too (else only a child SA) */
			/* a rekey of ours failed, the SA it was to replace stays (to
			 * be rekeyed again later, RFC 7296 §2.25): a child SA's
			 * (its inbound SPI; else 0), or the IKE SA's */
			uint32_t rekey_spi_in;
			bool rekey_ike;
			char text[IKE_ERR_MSG_MAX];
		} reason;
	};
};

struct ikev2_engine;

/* -EINVAL naming the bad setting (no lookup, zero retransmission base). */
struct ikev2_engine *ikev2_engine_new(const struct ikev2_conf *c, struct ike_err *err);
/* Frees every SA, wiping keys; pending events are released. */
void ikev2_engine_free(struct ikev2_engine *e);

/* Starts IKE_SA_INIT to remote with the peer's policy; the first child SA
 * follows in IKE_AUTH. *out names the SA (its SPIr stays zero: events
 * carry the full id once the responder answered; either works in the
 * calls below). -EINVAL for a policy without methods or selectors. */
int ikev2_initiate(struct ikev2_engine *e, const struct ikev2_peer *peer,
		   const struct ike_endpoint *local, const struct ike_endpoint *remote,
		   uint64_t now_ms, struct ikev2_sa_id *out, struct ike_err *err);

/* A datagram received on local from remote (the non-ESP marker already
 * removed on port 4500). Returns 0 when it was taken, or a negative errno
 * and err naming why it was dropped (also counted and logged):
 * -EBADMSG malformed, -ENOENT no such IKE SA, -EKEYREJECTED integrity
 * check failed, -EALREADY an old message ID, -ERANGE an unexpected one,
 * -EPROTO an exchange the SA's state does not allow. */
int ikev2_input(struct ikev2_engine *e, const uint8_t *buf, size_t len,
		const struct ike_endpoint *local, const struct ike_endpoint *remote,
		uint64_t now_ms, struct ike_err *err);

/* When ikev2_tick() has work next (UINT64_MAX: nothing pending). */
uint64_t ikev2_next_timer(const struct ikev2_engine *e);
void ikev2_tick(struct ikev2_engine *e, uint64_t now_ms);

/* Takes the oldest event; false when there is none. Every event taken is
 * given back with ikev2_event_release(), which frees its data and wipes
 * the keys of a child SA. */
bool ikev2_next_event(struct ikev2_engine *e, struct ikev2_event *ev);
void ikev2_event_release(struct ikev2_event *ev);

/* Exchanges on an established IKE SA. Each queues a request (one is in
 * flight at a time: window 1); -ENOENT for no such SA or child, -EAGAIN
 * when the SA is not established, -EBUSY when its queue is full;
 * ikev2_rekey_child -EALREADY for a child SA already replaced (by our
 * rekey or the peer's), ikev2_rekey_ike for an IKE SA already replaced.
 * A queued rekey that cannot start when its turn comes ends in FAILED
 * naming what it was to replace, as one refused by the peer does. */
int ikev2_create_child(struct ikev2_engine *e, const struct ikev2_sa_id *sa, uint64_t now_ms,
		       struct ike_err *err);
int ikev2_rekey_child(struct ikev2_engine *e, const struct ikev2_sa_id *sa, uint32_t spi_in,
		      uint64_t now_ms, struct ike_err *err);
int ikev2_rekey_ike(struct ikev2_engine *e, const struct ikev2_sa_id *sa, uint64_t now_ms,
		    struct ike_err *err);
int ikev2_delete_child(struct ikev2_engine *e, const struct ikev2_sa_id *sa, uint32_t spi_in,
		       uint64_t now_ms, struct ike_err *err);
int ikev2_delete_ike(struct ikev2_engine *e, const struct ikev2_sa_id *sa, uint64_t now_ms,
		     struct ike_err *err);
/* An empty INFORMATIONAL request (dead peer detection); no answer after
 * the retransmissions takes the IKE SA down. */
int ikev2_check_liveness(struct ikev2_engine *e, const struct ikev2_sa_id *sa, uint64_t now_ms,
			 struct ike_err *err);
/* ESP of one of sa's child SAs, verified and new to its window, came from
 * remote (RFC 7296 §2.23: a packet whose integrity protection validates):
 * an established SA whose peer is behind a NAT talks to it there from now
 * on, and PEER_MOVED follows if that is a new place. -ENOENT: no such SA. */
int ikev2_peer_moved(struct ikev2_engine *e, const struct ikev2_sa_id *sa,
		     const struct ike_endpoint *remote, uint64_t now_ms);

/* A new cookie secret; cookies made with the one before stay valid until
 * the next change (RFC 7296 §2.6). */
void ikev2_new_cookie_secret(struct ikev2_engine *e);

const struct ikev2_stats *ikev2_engine_stats(const struct ikev2_engine *e);
/* IKE SAs held, and how many of them are half-open (responder, before IKE_AUTH). */
size_t ikev2_sa_count(const struct ikev2_engine *e);
size_t ikev2_half_open_count(const struct ikev2_engine *e);
/* Those of them whose initiator is at that address. */
size_t ikev2_half_open_from(const struct ikev2_engine *e, const struct dpsec_addr *a);

#endif
