/* cp_ike.h - dpsec-ctld's IKEv2 (cp_ike.c): the engine of ike/ikev2.h on
 * UDP 500/4500 of the gateway's namespace, driven by ACQUIREs and the
 * assigned policy, installing the child SAs it negotiates; IKEv1's engine
 * beside it (cp_ikev1.c). */
#ifndef CP_IKE_H
#define CP_IKE_H

#include "cp.h"
#include "ikev2.h"

struct cp_ikev1;

#define CP_IKE_MAX_SAS 8192 /* IKE SAs at once: a gateway's peers (tests/unit/test_ike_sync.c) */

/* An established IKE SA, as show mmsas lists it, with its life
 * (cp_ike_life.c): times are CLOCK_MONOTONIC nanoseconds. */
struct cp_ike_sa {
	bool used;
	struct ikev2_sa_id id;
	uint32_t rule_id;
	struct ike_id peer_id;
	struct ike_mm_method mm;
	bool initiator;          /* of this SA (after a rekey: of the rekey) */
	uint32_t lifetime_s;     /* IKEv1: as agreed in Main Mode; 0: the policy's */
	uint64_t up_ns;
	uint64_t rekey_ns;       /* soft lifetime: ikev2_rekey_ike() */
	uint64_t expire_ns;      /* hard lifetime: ikev2_delete_ike() */
	uint64_t active_ns;      /* last IKE message or inbound ESP packet */
	uint64_t in_packets;     /* inbound packets of its child SAs at active_ns */
	uint32_t quick_modes;    /* child SAs keyed from it (max_quick_modes) */
	bool rekeying;           /* we started its rekey */
	uint32_t rekey_failures; /* in a row: the pause before another grows */
	bool expiring;           /* we started its delete */
	bool replaced;           /* IKEv1: the peer's new Main Mode took its pairs */
	bool checking;           /* a liveness check is out */
	int version;             /* 1: an ISAKMP SA (id: its cookies), 2: an IKEv2 SA */
};

/* A child SA installed in dpsecd. */
struct cp_ike_child {
	bool used;
	struct ikev2_sa_id ike;
	uint32_t spi_in;
	uint32_t sa_in, sa_out;   /* dpsecd's SA ids */
	bool udp_encap;           /* ESP in UDP: a NAT between the peers */
	struct cp_dyn_rule *dyn;  /* the per-peer rule its inbound SA is bound to, which carries the
				   * newest outbound SA of the pairs sharing it (one rule and
				   * peer); NULL once a newer pair replaced it (cp_ike_rule.c), or
				   * the dataplane that held it is gone; read through
				   * cp_ike_child_rule() */
	uint32_t dyn_id;          /* dyn's id when bound: its slot may hold another rule since
				   * (its rule left the policy, ctld detached) */
	uint64_t up_ns;           /* installed at (CLOCK_MONOTONIC) */
	bool rekeying;            /* its soft lifetime started a rekey */
	bool deleting;            /* it went idle: its delete is out */
	int version;              /* of its IKE SA: the engine that owns it */
	bool initiated;           /* we started the exchange that made it */
	uint32_t hard_seconds;    /* its lifetime */
	uint64_t fallback_ns;     /* IKEv1: the peer's rekey is due; ours if not by then */
	uint64_t retry_ns;        /* a rekey of ours failed: when to try again; 0: none */
	uint32_t rekey_failures;  /* in a row: the pause before another grows */
};

#define CP_IKE_MAX_CHILDREN 8192 /* child SA pairs at once */
#define CP_IKE_HELD_MAX 4096 /* datagrams one sync of the child SAs' rules may hold */
#define CP_SA_NONE UINT32_MAX /* sa_in, sa_out of a child SA no dataplane holds */

/* The engine, its sockets and what it installed (cp_ike.c, cp_ike_life.c). */
struct cp_ike {
	struct ikev2_engine *e;
	struct cp_ikev1 *v1;     /* IKEv1's engine beside it (cp_ikev1.c) */
	int fd[2][2];            /* [IPv6][NAT-T]: UDP 500 and 4500 over IPv4 and IPv6; -1: none */
	uint32_t next_spi;
	uint64_t life_due_ns;    /* cp_ike_life_tick()'s next look at the SAs */
	struct cp_ike_child ch[CP_IKE_MAX_CHILDREN];
	struct cp_ike_sa sa[CP_IKE_MAX_SAS];
	/* datagrams held while dpsecd is behind the child SAs (cp_ike_flush) */
	uint32_t n_held;
	struct ikev2_event held[CP_IKE_HELD_MAX];
};

/* The engine and its sockets (UDP 500, 4500 on every address); -1 and err
 * when a port cannot be bound: ctld then runs without IKE. */
int cp_ike_open(struct cp_ctx *c, char *err, size_t errlen);
void cp_ike_close(struct cp_ctx *c);
/* Reads the sockets, runs the engine's timers, acts on its events. */
void cp_ike_poll(struct cp_ctx *c);
/* Acts on one event of either engine (version 1 or 2): sends a datagram,
 * installs or removes child SAs, records IKE SAs, counts a failure (a
 * failed rekey of ours tried again later). */
void cp_ike_event(struct cp_ctx *c, struct ikev2_event *ev, int version);
/* dpsecd brought in line with the child SAs that came and went (one
 * cp_apply() for all of a poll's events), then the datagrams held for it
 * sent, in order: an answer leaves only once the pair it makes is usable,
 * and a burst of peers costs one policy build, not one each. */
void cp_ike_flush(struct cp_ctx *c);
/* dpsecd saw ESP of a child SA's inbound SA, verified and new, from
 * another address or port than its peer's (its NAT mapped it anew): its IKE
 * SA follows the peer there (ikev2_peer_moved), and PEER_MOVED moves the
 * child SAs. An SA no child has any more is ignored. */
void cp_ike_esp_moved(struct cp_ctx *c, const struct dpsec_ev_peer_moved *ev);
/* Starts IKE_SA_INIT for an ACQUIRE (naming the IKE SA in a->ike_spi_i):
 * 0, or -1 when the rule has no IKE policy (no PSK, no usable method, not
 * a tunnel rule), there is no route to the peer or no engine. */
int cp_ike_initiate(struct cp_ctx *c, struct cp_acquire *a);
/* A soft lifetime of a negotiated SA: rekey it. false: not one of IKE's. */
bool cp_ike_soft_expire(struct cp_ctx *c, uint32_t sa_id);
/* The IKE SA in table slot i (0 .. CP_IKE_MAX_SAS - 1), NULL when free. */
const struct cp_ike_sa *cp_ike_sa_at(const struct cp_ctx *c, int i);
/* The established IKE SA with this id (by SPIi), NULL when none. */
struct cp_ike_sa *cp_ike_find_sa(struct cp_ike *k, const struct ikev2_sa_id *id);
/* The child SA pair with inbound SPI spi_in, NULL when none. */
struct cp_ike_child *cp_ike_find_child(struct cp_ike *k, uint32_t spi_in);
uint64_t cp_ike_now_ms(void);

/* cp_ike_policy.c: which negotiate rule, and so which IKE policy, meets a
 * peer. The rule rule_id (0: the first that fits the peer and, when q says,
 * the child SA asked for) between our address local and peer, into p;
 * -ENOENT when none. */
int cp_ike_policy_for(struct cp_ctx *c, uint32_t rule_id, const struct dpsec_addr *peer,
		      const struct dpsec_addr *local, const struct ikev2_lookup *q,
		      struct ikev2_peer *p);
/* The assigned policy (NULL without one); and its Main Mode methods into
 * p: the policy's, in its order, or n_defs of defs (the IKE version's own)
 * when it names none. */
const struct cfg_policy *cp_ike_assigned_policy(const struct cp_ctx *c);
void cp_ike_mm_methods(const struct cp_ctx *c, const struct ike_mm_method *defs, size_t n_defs,
		       struct ikev2_peer *p);
/* The engines' lookup: the peer's policy for either version (IKEv1's);
 * IKEv2's, none while the assigned policy negotiates IKEv1, and as
 * responder also the older suites that ike-scan's probe offers. */
int cp_ike_lookup_any(void *ctx, const struct ikev2_lookup *q, struct ikev2_peer *out);
int cp_ike_lookup_v2(void *ctx, const struct ikev2_lookup *q, struct ikev2_peer *out);

/* cp_ike_rule.c: the per-peer rules of child SA pairs. How a new pair
 * came by its rule. */
enum cp_ike_rule_how { CP_IKE_RULE_NEW, CP_IKE_RULE_OF_REPLACED, CP_IKE_RULE_SHARED };
/* The pair a new pair for rule_id and peer replaces: the one its rekey
 * names (rekeys_spi: IKEv2's REKEY_SA, our own IKEv1 rekeys), or, since
 * IKEv1 tells the responder nothing of a rekey, a live IKEv1 pair of that
 * rule and peer not replaced already; NULL when none. */
struct cp_ike_child *cp_ike_rule_replaces(struct cp_ike *k, int version, uint32_t rekeys_spi,
					  uint32_t rule_id, const struct dpsec_addr *peer);
/* The per-peer rule of a new pair for rule_id and peer that replaces old
 * (NULL: none): old's (both inbound SAs then match it, and the outbound
 * one moves to the new pair at once); else that of another pair with the
 * same rule and peer (a second IKE SA, as when both peers negotiated at
 * once or the peer re-authenticates make-before-break), since two rules
 * alike would leave the inbound SA of the one the lookup does not pick
 * dropping everything; else a new one (NULL: no room). *how says which. */
struct cp_dyn_rule *cp_ike_rule_for(struct cp_ctx *c, const struct cp_ike_child *old,
				    uint32_t rule_id, const struct dpsec_addr *peer,
				    enum cp_ike_rule_how *how);
/* Whether a pair is up for generic rule rule_id and peer (its per-peer
 * rule carries it, or will at the poll's sync). */
bool cp_ike_pair_up_for(struct cp_ctx *c, uint32_t rule_id, const struct dpsec_addr *peer);
/* ch's per-peer rule, or NULL: none, or its slot holds another rule now. */
struct cp_dyn_rule *cp_ike_child_rule(const struct cp_ike_child *ch);
/* old was replaced by a pair now installed: the new pair has its rule, and
 * old starts no rekey of its own. */
void cp_ike_rule_replaced(struct cp_ike_child *old);
/* s goes: when its rule carries s's outbound SA, the newest other pair
 * holding the rule carries it on; with none, the rule goes too. */
void cp_ike_rule_release(struct cp_ctx *c, const struct cp_ike_child *s);

/* cp_ike_life.c: the IKE SA's lifetimes, dead peer detection, idle child SAs. */
/* Its rekey and expiry times from now: the Main Mode lifetime of the
 * assigned policy (or --test-ike-lifetime), the initiator's soft point at
 * 85-90 %, the responder's at 92-97 %, with random jitter. */
void cp_ike_life_start(struct cp_ctx *c, struct cp_ike_sa *s, bool initiator);
/* A soft point in hundredths of a percent of a lifetime: 85-90 % for the
 * SA's initiator, 92-97 % for its responder, the place in the band random,
 * so that two peers (or many SAs set up together) do not rekey at once. */
uint32_t cp_ike_soft_point(bool initiator);
/* An IKE message the engine took for the SA whose SPIi is spi_i. */
void cp_ike_life_heard(struct cp_ctx *c, const uint8_t spi_i[8]);
/* Our rekey of the IKE SA id failed (the engine's FAILED with rekey_ike;
 * IKEv1: the renewal's new Main Mode failed): it stays, and
 * its rekey is tried again after a pause that grows with each failure in
 * a row, until one succeeds or its hard lifetime ends it. */
void cp_ike_life_rekey_failed(struct cp_ctx *c, const struct ikev2_sa_id *id);
/* A child SA keyed from the IKE SA: at the assigned policy's
 * max_quick_modes (0: no limit) the IKE SA is rekeyed (IKEv1: renewed by
 * a new Main Mode) at once, so that the next child SA is keyed from new
 * keying material; the seeds' limit on the quick modes of a main mode. */
void cp_ike_life_quick_mode(struct cp_ctx *c, const struct ikev2_sa_id *id);
/* Rekeys, expiries and liveness checks that are due. */
void cp_ike_life_tick(struct cp_ctx *c);
/* At a child SA's soft lifetime: is its rekey ours? IKEv2: yes (the
 * lifetimes' bands keep the peers apart). IKEv1, the seeds' rule: the side
 * that sent more, or on a tie the one that made the pair, rekeys; the
 * other waits a while (fallback_ns) for it. */
bool cp_ike_rekey_is_ours(struct cp_ctx *c, struct cp_ike_child *s);
/* Starts the rekey of child SA ch (why: for the log, "at its soft
 * lifetime"); one the engine cannot start now (its IKE SA busy or not
 * established) is tried again later. */
void cp_ike_child_rekey(struct cp_ctx *c, struct cp_ike_child *ch, const char *why);
/* Our rekey of the child SA with inbound SPI spi_in failed (the engine's
 * FAILED naming it): the pair stays, and its rekey is tried again after a
 * pause (RFC 7296 §2.25), which grows with each failure in a row, until
 * one succeeds or the pair's hard lifetime ends it. true when a rekey of
 * the peer's replaced the pair meanwhile (a rekey collision's usual end):
 * nothing to try again, and no failure. */
bool cp_ike_child_rekey_failed(struct cp_ctx *c, uint32_t spi_in);
/* An idle inbound SA of a child SA: its delete goes to the peer. false:
 * not one of IKE's. */
bool cp_ike_idle_expire(struct cp_ctx *c, uint32_t sa_id);

/* A child SA's SA at its hard lifetime, not rekeyed in time (dpsecd drops
 * its packets already): the pair leaves the dataplane now (cp_ike_pair_out:
 * the next packet for its rule negotiates afresh) and its delete goes to
 * the peer. false: not one of IKE's. */
bool cp_ike_hard_expire(struct cp_ctx *c, uint32_t sa_id);
/* ch's SAs out of dpsecd, its rule first (to another pair's outbound SA,
 * or gone: cp_ike_rule_release), so that no rule carries an SA id a new SA
 * may take; ch keeps no SA id (its CHILD_DOWN, if it comes later, deletes
 * nothing more). */
void cp_ike_pair_out(struct cp_ctx *c, struct cp_ike_child *ch);

/* A new dpsecd (the one that held the child SAs restarted): their
 * sequence numbers and replay windows are gone with it, and the peer would
 * go on sending with them. Each is deleted with its peer (the IKE SA stays,
 * the next packet negotiates a new child SA over it) and forgets its SA ids,
 * which the new dataplane gives to other SAs. */
void cp_ike_children_lost(struct cp_ctx *c);

#endif
