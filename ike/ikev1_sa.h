/* ikev1_sa.h - the ISAKMP SA object of the IKEv1 engine: its cookies and
 * role, its state (changed only by ikev1_set_state(), which refuses
 * illegal transitions and logs old -> new), the Main Mode material, the
 * Phase 1 CBC chain, and its Phase 2 exchanges (Quick Mode and
 * Informational), each keyed by its message ID with its own IV.
 *
 * Every exchange, Main Mode included, keeps the last message it sent and
 * the last one it received. A message equal byte for byte to the last one
 * received is a retransmission by the peer: the last message sent is
 * replayed, nothing is decrypted (which would move the IV chain). The
 * side that waits for an answer retransmits its last message after base,
 * 2 base, 4 base... (default 0.5 s doubling) and gives up after `tries`
 * resends and one more doubled wait. */
#ifndef IKEV1_SA_H
#define IKEV1_SA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_dh.h"
#include "ike_keys.h"
#include "ike_log.h"
#include "ikev1.h"

/* Ordered: the Main Mode steps, then ESTABLISHED. */
#define IKEV1_STATES(X)                                                  \
	X(IDLE)        /* created, nothing sent */                       \
	X(MM1_SENT)    /* initiator: SA offered */                       \
	X(MM2_SENT)    /* responder: SA chosen */                        \
	X(MM3_SENT)    /* initiator: KE, Ni sent */                      \
	X(MM4_SENT)    /* responder: KE, Nr sent, keys derived */        \
	X(MM5_SENT)    /* initiator: keys derived, IDii HASH_I sent */   \
	X(ESTABLISHED) /* authenticated both ways */                     \
	X(CLOSED)      /* gone: freed by the engine */

#define IKEV1_X_ENUM(n) IKEV1_S_##n,
enum ikev1_state { IKEV1_STATES(IKEV1_X_ENUM) };
#undef IKEV1_X_ENUM

const char *ikev1_state_name(enum ikev1_state s);

#define IKEV1_NONCE_LEN 32
#define IKEV1_MAX_XCHG 8     /* Phase 2 exchanges remembered per SA */

/* The last message sent and received in one exchange, and the
 * retransmission of what we sent while we wait for an answer. */
struct ikev1_msgs {
	uint8_t *out;
	size_t out_len;
	uint8_t *in;
	size_t in_len;
	bool waiting;        /* an answer is due: retransmit */
	uint64_t next_ms;
	uint32_t retransmits;
};

enum ikev1_xchg_kind { IKEV1_X_NONE, IKEV1_X_QUICK, IKEV1_X_DPD };

/* A Phase 2 exchange, keyed by its message ID. */
struct ikev1_xchg {
	enum ikev1_xchg_kind kind;
	uint32_t mid;
	bool initiator;     /* we sent its first message */
	bool done;          /* finished: kept only to replay our last message */
	struct ikev1_iv iv; /* CBC chain state: the IV of the next message */
	struct ikev1_msgs msgs;
	/* Quick Mode */
	struct ike_dh *dh;  /* PFS: our key pair (initiator) */
	uint8_t g_qm[IKE_DH_SECRET_MAX]; /* PFS: the shared secret (responder, until QM3) */
	uint16_t g_qm_len;
	uint8_t ni[256], nr[256];         /* the Quick Mode nonces */
	uint16_t ni_len, nr_len;
	uint32_t spi_in, spi_out;
	uint32_t rekeys;    /* inbound SPI of the child this one replaces */
	struct ike_qm_method method;
	bool transport;
	struct ike_ts_set ts_local, ts_remote;
	/* DPD */
	uint32_t dpd_seq;
};


#define IKEV1_CERTREQ_MAX 1024 /* bytes of the peer's CERTREQ DNs kept */

struct ikev1_sa {
	struct ikev2_sa_id id;      /* the cookies */
	bool initiator;
	enum ikev1_state state;
	struct ikev2_peer peer;     /* policy copy with the secrets: wiped on free */
	struct ike_endpoint local, remote;
	bool local_nat, remote_nat;
	bool peer_natt, peer_dpd;   /* vendor IDs the peer sent */
	struct ike_mm_method mm;    /* chosen */
	uint32_t lifetime_s;
	uint64_t expire_ms;         /* half-open give-up, then the lifetime's end */
	struct ikev1_keys keys;
	struct ike_id peer_id;
	/* Main Mode material, freed once established */
	uint8_t *sai_b;             /* the initiator's SA payload body */
	size_t sai_len;
	struct ike_dh *dh;
	uint8_t g_xi[IKE_DH_PUBLIC_MAX], g_xr[IKE_DH_PUBLIC_MAX];
	uint16_t g_len;
	uint8_t ni[256], nr[256];
	uint16_t ni_len, nr_len;
	uint8_t peer_cr[IKEV1_CERTREQ_MAX]; /* signatures: the peer's CERTREQ DNs, one after another */
	uint16_t peer_cr_len;
	struct ikev1_iv p1_iv;      /* the Phase 1 chain */
	struct ikev1_msgs mm_msgs;
	struct ikev1_xchg xchg[IKEV1_MAX_XCHG];
	struct ike_child_recs children;
	bool start_qm;              /* initiator: the first Quick Mode once up */
	bool renewal;               /* ours, to replace the ISAKMP SA `renews` */
	struct ikev2_sa_id renews;
	uint32_t dpd_seq;
	uint32_t peer_dpd_seq;      /* the highest R-U-THERE number of the peer's (RFC 3706) */
	bool peer_dpd_seen;
	struct ike_log log;
};

struct ikev1_engine;

/* An SA in IDLE with a fresh cookie of ours; NULL on no memory. */
struct ikev1_sa *ikev1_sa_new(bool initiator);
/* Wipes every key and secret and frees it. */
void ikev1_sa_free(struct ikev1_sa *sa);

/* The only way the state changes. Legal: IDLE -> MM1_SENT, MM2_SENT;
 * MM1_SENT -> MM3_SENT; MM2_SENT -> MM4_SENT; MM3_SENT -> MM5_SENT;
 * MM4_SENT, MM5_SENT -> ESTABLISHED; any -> CLOSED (final). Anything else
 * is refused (-EPERM) and logged; every change is logged "A -> B". */
int ikev1_set_state(struct ikev1_sa *sa, enum ikev1_state to, uint64_t now_ms,
		    const struct ikev1_engine *e);

const uint8_t *ikev1_sa_our_cookie(const struct ikev1_sa *sa);

void ikev1_sa_log(const struct ikev1_sa *sa_const, const struct ikev1_engine *e, int level,
		  uint64_t now_ms, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The newest log line containing text, or NULL. */
const char *ikev1_sa_log_find(const struct ikev1_sa *sa, const char *text);

/* Records data (taken) as the exchange's last message sent; with
 * waiting, its retransmission is scheduled. */
void ikev1_msgs_sent(struct ikev1_msgs *m, uint8_t *data, size_t len, bool waiting,
		     uint64_t now_ms, uint32_t base_ms);
/* Records a received message (copied); -ENOMEM. */
int ikev1_msgs_received(struct ikev1_msgs *m, const uint8_t *data, size_t len);
/* Is data the last message received (a retransmission by the peer)? */
bool ikev1_msgs_is_repeat(const struct ikev1_msgs *m, const uint8_t *data, size_t len);
/* Retransmission due: true and the next deadline set, or false when the
 * tries are used up. */
bool ikev1_msgs_retransmit_due(struct ikev1_msgs *m, uint32_t base_ms, uint32_t tries);
void ikev1_msgs_free(struct ikev1_msgs *m);

/* The Phase 2 exchange with that message ID, or NULL. */
struct ikev1_xchg *ikev1_xchg_find(struct ikev1_sa *sa, uint32_t mid);
/* A free slot (reusing the oldest finished exchange), with its IV from the
 * Phase 1 chain; NULL when every slot is busy or the IV fails. */
struct ikev1_xchg *ikev1_xchg_new(struct ikev1_sa *sa, enum ikev1_xchg_kind kind, uint32_t mid,
				  bool initiator);
void ikev1_xchg_free(struct ikev1_xchg *x);


/* Frees the Main Mode material (SA payload copy, key pair, KE values). */
void ikev1_sa_mm_material_free(struct ikev1_sa *sa);

/* For tests and `show`: the SA named id, or NULL. */
struct ikev1_sa *ikev1_find_sa(struct ikev1_engine *e, const struct ikev2_sa_id *id);

#endif
