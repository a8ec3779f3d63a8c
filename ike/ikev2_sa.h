/* ikev2_sa.h - the IKE SA object of the IKEv2 engine: its SPIs and role, its
 * state (an ordered enum changed only by ikev2_set_state(), which refuses
 * illegal transitions and logs old -> new), its message IDs and windows,
 * the retransmission of its outstanding request, the cached last response
 * replayed for a retransmitted request, the queue of exchanges waiting for
 * the window, its child SAs, and a log of its events.
 *
 * Windows: one request in flight each way (window size 1, the RFC 7296
 * §2.3 default; we never send SET_WINDOW_SIZE). Our requests carry
 * next_msg_id, 0, 1, 2...; a response must carry the outstanding request's
 * ID. The peer's requests must carry peer_msg_id; the one before it is a
 * retransmission, answered with the cached response byte for byte.
 *
 * Retransmission: a request is resent after base, 2 base, 4 base...
 * (default 0.5 s doubling); after `tries` resends (default 5) and one more
 * doubled wait without an answer the exchange is given up and the IKE SA
 * fails: with the defaults at 0.5, 1.5, 3.5, 7.5, 15.5 s, giving up at 31.5 s. */
#ifndef IKEV2_SA_H
#define IKEV2_SA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_dh.h"
#include "ike_keys.h"
#include "ike_log.h"
#include "ikev2.h"

/* Ordered: later states hold everything earlier ones had (keys from
 * INIT_DONE on). */
#define IKEV2_STATES(X)                                                   \
	X(IDLE)        /* created, nothing sent or answered */            \
	X(INIT_SENT)   /* initiator: IKE_SA_INIT request out */           \
	X(INIT_DONE)   /* responder: IKE_SA_INIT answered, keys derived */ \
	X(AUTH_SENT)   /* initiator: keys derived, IKE_AUTH request out */ \
	X(ESTABLISHED) /* authenticated both ways */                      \
	X(DELETING)    /* we asked the peer to delete it */               \
	X(CLOSED)      /* gone: freed by the engine */

#define IKEV2_X_ENUM(n) IKEV2_S_##n,
enum ikev2_state { IKEV2_STATES(IKEV2_X_ENUM) };
#undef IKEV2_X_ENUM

const char *ikev2_state_name(enum ikev2_state s);

/* What our outstanding request is, so that its response is read right. */
enum ikev2_req_kind {
	IKEV2_REQ_NONE,
	IKEV2_REQ_SA_INIT,
	IKEV2_REQ_AUTH,
	IKEV2_REQ_CREATE_CHILD,
	IKEV2_REQ_REKEY_CHILD,
	IKEV2_REQ_REKEY_IKE,
	IKEV2_REQ_DELETE_CHILD,
	IKEV2_REQ_DELETE_IKE,
	IKEV2_REQ_LIVENESS,
	IKEV2_REQ_DELETE_REFUSED, /* a child the peer made and we refuse: never installed here */
};

#define IKEV2_NONCE_LEN 32 /* ours: at least half the PRF's key size (RFC 7296 §2.10) */

/* The outstanding request and what its answer needs. */
struct ikev2_request {
	enum ikev2_req_kind kind;
	uint32_t msg_id;
	uint8_t *data; /* as sent, resent as is */
	size_t len;
	uint64_t next_ms;      /* next retransmission (or giving up) */
	uint32_t retransmits;
	struct ike_dh *dh;     /* KE sent: PFS or IKE SA rekey */
	uint8_t nonce[IKEV2_NONCE_LEN];
	uint32_t spi;          /* child SA: our proposed inbound SPI */
	uint32_t old_spi;      /* rekey or delete: the child SA's inbound SPI */
	uint8_t ike_spi[8];    /* IKE SA rekey: our new SPI */
	const struct ike_qm_method *offered; /* into peer.qm: what we offered */
	bool ke_asked;         /* its KE's group is the one an INVALID_KE_PAYLOAD asked for */
	/* a rekey: the peer's rekey of the same SA, answered while this one
	 * was outstanding (RFC 7296 §2.8.1, §2.8.2), and the lower of that
	 * exchange's two nonces; a child SA's: our inbound SPI of the child SA
	 * it made; the IKE SA's: the new IKE SA it made, which takes the
	 * children only once the collision is settled */
	bool collided;
	uint32_t collided_spi;
	struct ikev2_sa_id collided_sa;
	uint16_t collided_nonce_len;
	uint8_t collided_nonce[IKEV2_NONCE_MAX];
};

/* A queued exchange waiting for the window. */
struct ikev2_task {
	enum ikev2_req_kind kind;
	uint32_t spi;     /* the child SA's inbound SPI (rekey, delete) */
	uint8_t protocol; /* DELETE_REFUSED: the child's (ESP or AH) */
	uint16_t group;   /* CREATE_CHILD_SA: the KE's group the responder asked for; 0: our
			   * first method's */
};

#define IKEV2_MAX_TASKS 8
#define IKEV2_MAX_FRAGMENTS 64 /* of one message (RFC 7383): 64 KB in 1,200-byte datagrams */

/* A message arriving in fragments (RFC 7383), each kept decrypted. */
struct ikev2_reasm {
	bool active;
	uint32_t msg_id;
	uint16_t total, have;
	uint8_t inner_next;         /* fragment 1's first inner payload */
	size_t bytes;
	uint8_t *piece[IKEV2_MAX_FRAGMENTS];
	size_t len[IKEV2_MAX_FRAGMENTS];
};

struct ikev2_sa {
	struct ikev2_sa_id id;
	bool initiator;             /* the original initiator of this SA */
	enum ikev2_state state;
	struct ikev2_peer peer;     /* policy copy, with the auth secrets: wiped on free */
	bool have_peer;             /* responder: looked up at IKE_SA_INIT */
	struct ike_endpoint local, remote;
	bool local_nat, remote_nat;
	bool frag_ok;               /* both announced IKE fragmentation (RFC 7383) */
	struct ikev2_reasm reasm[2];/* [response]: the peer's request, the answer to ours */
	struct ike_mm_method mm;    /* chosen */
	struct ikev2_keys keys;
	struct ike_id peer_id;      /* as authenticated */
	uint16_t peer_hashes;       /* SIGNATURE_HASH_ALGORITHMS of the peer (bit n: hash n) */
	uint16_t peer_certreq_len;  /* the peer's CERTREQ of IKE_SA_INIT (initiator) */
	uint8_t peer_certreq[IKE_CERTREQ_MAX];
	/* IKE_SA_INIT material, kept until IKE_AUTH is done */
	struct ike_dh *dh;
	uint8_t ni[IKEV2_NONCE_MAX], nr[IKEV2_NONCE_MAX];
	uint16_t ni_len, nr_len;
	uint8_t *init_msg[2]; /* RealMessage1 and 2 (RFC 7296 §2.15) */
	size_t init_len[2];
	uint8_t cookie[64];
	uint8_t cookie_len;
	uint8_t init_retries;       /* IKE_SA_INIT sent again for a COOKIE or INVALID_KE */
	/* message IDs and windows */
	uint32_t next_msg_id;       /* of our next request */
	uint32_t peer_msg_id;       /* of the peer's next request */
	struct ikev2_request req;
	struct {
		bool valid;
		uint32_t msg_id;
		uint8_t *data;
		size_t len;
	} last_resp;
	struct ikev2_task tasks[IKEV2_MAX_TASKS];
	uint8_t n_tasks;
	struct ike_child_recs children;
	bool rekeyed;               /* replaced by an IKE SA rekey: only its delete is left */
	uint64_t expire_ms;         /* half-open SA given up at; 0: none */
	/* the log: a ring of the last lines */
	struct ike_log log;
};

struct ikev2_engine;

/* Allocates an SA in IDLE with a fresh SPI of ours. NULL on no memory. */
struct ikev2_sa *ikev2_sa_new(bool initiator);
/* Wipes every key and secret it holds and frees it. */
void ikev2_sa_free(struct ikev2_sa *sa);

/* The only way the state changes. Legal: IDLE -> INIT_SENT, INIT_DONE,
 * ESTABLISHED (the new SA of an IKE SA rekey);
 * INIT_SENT -> AUTH_SENT; INIT_DONE, AUTH_SENT -> ESTABLISHED;
 * ESTABLISHED -> DELETING; any -> CLOSED (CLOSED is final). Anything else
 * is refused (-EPERM) and logged; every change is logged "A -> B". */
int ikev2_set_state(struct ikev2_sa *sa, enum ikev2_state to, uint64_t now_ms,
		    const struct ikev2_engine *e);

/* The SA has derived its IKE keys (it can seal and open SK). */
bool ikev2_sa_has_keys(const struct ikev2_sa *sa);
/* Our SPI and the peer's, whichever role we have. */
const uint8_t *ikev2_sa_our_spi(const struct ikev2_sa *sa);

/* Appends a line to the SA's log and passes it to the engine's log. */
void ikev2_sa_log(const struct ikev2_sa *sa_const, const struct ikev2_engine *e, int level,
		  uint64_t now_ms, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The newest log line containing text, or NULL. */
const char *ikev2_sa_log_find(const struct ikev2_sa *sa, const char *text);

/* Records a request as sent (takes data) and schedules its retransmission. */
void ikev2_sa_request_sent(struct ikev2_sa *sa, enum ikev2_req_kind kind, uint8_t *data,
			   size_t len, uint64_t now_ms, uint32_t base_ms);
/* Forgets the outstanding request (answered or given up), freeing its data
 * and any key pair; the message ID moves on. */
void ikev2_sa_request_done(struct ikev2_sa *sa);
/* The retransmission is due: true and the next deadline set when it is to
 * be resent; false when the tries are used up. */
bool ikev2_sa_retransmit_due(struct ikev2_sa *sa, uint32_t base_ms, uint32_t tries);
/* Caches the response to the peer's request msg_id (takes data). */
void ikev2_sa_response_sent(struct ikev2_sa *sa, uint32_t msg_id, uint8_t *data, size_t len);

/* Queues an exchange; -EBUSY when full. */
int ikev2_sa_task_add(struct ikev2_sa *sa, enum ikev2_req_kind kind, uint32_t spi);
/* Queues the DELETE of a child the peer made and we refuse (protocol, our
 * inbound SPI of it), which was never installed; -EBUSY when full. */
int ikev2_sa_task_add_refused(struct ikev2_sa *sa, uint8_t protocol, uint32_t spi);
/* Takes the next queued exchange; false when none. */
bool ikev2_sa_task_take(struct ikev2_sa *sa, struct ikev2_task *out);


/* Frees the IKE_SA_INIT material (messages, DH, kept nonces are left). */
void ikev2_sa_init_material_free(struct ikev2_sa *sa);

/* For tests and `show`: the SA named id, or NULL. */
struct ikev2_sa *ikev2_find_sa(struct ikev2_engine *e, const struct ikev2_sa_id *id);

#endif
