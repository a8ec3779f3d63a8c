/* cp.h - dpsec-ctld, the control plane: its state and the functions its
 * files share. It holds the policy store (the file, plus the dynamic
 * changes made since it started), the segment of the dpsecd it manages, the
 * commands in flight, the SAs it knows by id, the per-peer rules it adds
 * (soft associations, blocks after a failed negotiation), the acquires in
 * progress, and the Main Mode statistics. One thread; nothing blocks for
 * long. */
#ifndef CP_H
#define CP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cfg_store.h"
#include "cp_ikelog.h"
#include "cp_mmstats.h"
#include "dpsec_shm.h"

#define CP_ERR_MAX 512
#define CP_DYN_RULE_BIT 0x80000000u /* ids of ctld's per-peer rules */
#define CP_MAX_DYN_RULES 8192 /* per-peer rules: one a child SA's rule and peer, blocks, soft SAs */
#define CP_MAX_ACQUIRES 1024
#define CP_MAX_DYN_OPS 4096

/* A change to the store, kept so dynamic changes can be replayed over the
 * file (static ones go into the file itself). */
enum cp_op_kind {
	CP_OP_FILTER_ADD, CP_OP_FILTER_DEL, CP_OP_SA_ADD, CP_OP_SA_DEL, CP_OP_ASSIGN,
	CP_OP_RULE_ADD, CP_OP_RULE_DEL,
};

struct cp_op {
	uint8_t kind;                    /* enum cp_op_kind */
	char target[DPSEC_NAME_MAX];     /* filter list, SA, policy name */
	struct dpsec_filter filter;
	struct cfg_static_sa sa;         /* keys: wiped with the op */
	struct cfg_store_rule rule;      /* its auth NULL: the op's one method is below */
	uint32_t psk_len;                /* rule add with rule.n_auth 1: its pre-shared key */
	uint8_t psk[CFG_PSK_MAX];
};

/* The segment of the dpsecd being managed. */
struct cp_seg {
	int fd;
	void *base;
	size_t size;
	uint64_t generation;
	struct dpsec_shm_hdr *hdr;
	struct dpsec_ring *cmd, *ev;
	struct dpsec_shm_stats *stats;
	struct dpsec_shm_sa *sas;
	struct dpsec_shm_neighs *neighs;
	struct dpsec_shm_ports *ports;
};

/* The SA ids ctld has handed out (the directory says what each holds). */
struct cp_sa {
	bool used;
	bool negotiated;            /* by IKE: not in the store, kept by cp_apply() */
	uint64_t add_seq;           /* the SA_ADD command that filled it: its refusal frees it */
	uint32_t spi;               /* of the SA it holds: an event about an earlier */
	uint8_t direction;          /* one the id held is stale (cp_sa_holds) */
	bool waits_sync;            /* freed, but a rule in dpsecd may still name it: not handed
				     * out again before the next sync (cp_sa_id_release) */
};

enum cp_dyn_kind { CP_DYN_SOFT, CP_DYN_BLOCK, CP_DYN_SA };

/* A rule for one peer of a generic rule: a soft association (permit), a
 * block after a failed negotiation, or the outbound SA IKE negotiated.
 * The last, for a tunnel rule and the peer that is its endpoint, has no
 * rule of its own in dpsecd (it would hold the same filters): the generic
 * rule itself carries the SA (on_rule), so that a tunnel's first pair, and
 * its last going, cost dpsecd no classifier build. */
struct cp_dyn_rule {
	bool used;
	bool on_rule;               /* CP_DYN_SA carried by the generic rule (cp_dyn_carrier) */
	uint8_t kind;               /* enum cp_dyn_kind */
	uint32_t id;                /* CP_DYN_RULE_BIT | n */
	uint32_t sa_out;            /* CP_DYN_SA: the outbound SA id */
	uint32_t sa_sent;           /* the one dpsecd's rule carries (DPSEC_SA_NONE: none yet) */
	uint32_t generic_id;
	char generic_name[DPSEC_NAME_MAX];
	struct dpsec_addr peer;
	uint64_t expires_ns;        /* CLOCK_MONOTONIC */
};

/* Whether compiled rule r is a tunnel rule whose endpoint is peer: its
 * filters are all the peer's. */
static inline bool cp_rule_is_tunnel_to(const struct dpsec_rule *r, const struct dpsec_addr *peer)
{
	return r->tunnel && memcmp(&r->tunnel_endpoint, peer, sizeof(*peer)) == 0;
}

/* The rule in dpsecd that carries d's outbound SA, and that the inbound SAs
 * of d's pairs are bound to. */
static inline uint32_t cp_dyn_carrier(const struct cp_dyn_rule *d)
{
	return d->on_rule ? d->generic_id : d->id;
}

struct cp_acquire {
	bool used;
	uint32_t rule_id;
	struct dpsec_addr peer;
	uint64_t deadline_ns;       /* negotiation gives up (fallback timeout) */
	uint8_t ike_spi_i[8];       /* the IKE SA negotiating it (zero: none) */
	bool reconnect;             /* cp_reconnect()'s: no packet held, no fallback */
	bool peer_pair_up;          /* a pair the peer negotiated is up (cp_negotiate_answered) */
	bool awaits_sync;           /* a pair was up already: none negotiated (cp_acquires_synced) */
};

struct cp_opts {
	const char *store_path;
	const char *instance;
	const char *socket_path;
	const char *group;
	int log_level;
	bool use_syslog;
	const char *ike_log_path;        /* NULL: no IKE log */
	int ike_log_level;
	bool allow_insecure_keys;
	bool check_only;
	uint32_t dpd_seconds;        /* liveness check after this long without traffic; 0: off */
	uint32_t test_ike_lifetime_s;/* TESTS ONLY: IKE SA lifetime instead of the Main Mode one */
	uint32_t ike_fragment_size;  /* the IKE engines' (ike/ikev2.h): RFC 7383 fragments */
	uint32_t ike_cookie_threshold;
	uint32_t ike_half_open_per_source;
};

struct cp_ctx {
	struct cp_opts o;
	struct cfg_store store;          /* the file plus the dynamic changes */
	uint32_t n_ops;
	struct cp_op *ops;               /* dynamic changes since start */
	struct cp_seg seg;
	bool attached, synced;           /* synced: the dataplane matches the store */
	bool sync_wanted;                /* IKE changed its child SAs' rules since the last
					  * cp_apply(): cp_sync_if_wanted() or cp_ike_flush() */
	uint64_t ack_base;               /* the first command of this attachment */
	uint64_t acked;                  /* ack_base + answers to our commands */
	uint64_t refused;
	uint64_t want_seq;               /* answers awaited up to this command */
	/* the first command whose refusal the next cp_cmd_wait() reports:
	 * answers that come after their wait ended (timed out) are only logged */
	uint64_t wait_from;
	bool posted[DPSEC_RING_SLOTS];   /* by command number: sent with cp_cmd_post() */
	char first_refusal[DPSEC_REASON_MAX];
	/* the fingerprint of the policy transaction dpsecd last took
	 * (cp_sync.c); unknown after a flush, a timeout or an attachment */
	uint64_t policy_fp;
	bool policy_fp_known;
	/* after a failed sync: when to try again, and the wait before that
	 * try (doubling, ctld.c); 0 once a sync went through */
	uint64_t resync_at_ns, resync_wait_ns;
	struct cp_sa *sa;                /* sa_capacity entries */
	uint32_t sa_free_from;           /* every id below it is used or waits: where a free one is
					  * sought */
	uint32_t sa_waiting_from, sa_waiting; /* the lowest id that waits_sync, and how many do */
	struct cfg_compiled *compiled;   /* the store's assigned policy compiled, for lookups by
					  * rule (cp_compiled()); NULL until asked after a change */
	uint32_t next_dyn_id;
	struct cp_dyn_rule dyn[CP_MAX_DYN_RULES];
	struct cp_acquire acq[CP_MAX_ACQUIRES];
	uint64_t mm[CP_MM_MAX];          /* the Main Mode statistics */
	struct cp_ike *ike;              /* the IKEv2 engine and its sockets; NULL: none */
	struct cp_ikelog ikelog;         /* the IKE (Oakley) log */
	struct cp_ike_auth *ike_auth;    /* the key process and certificate methods (cp_ike_auth.c) */
	int listen_fd;
	volatile int quit, reload;
};

uint64_t cp_now_ns(void);

/* cp_log.c */
void cp_log_init(int level, bool use_syslog);
void cp_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cp_audit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cp_seg.c: attaching to dpsecd's segment. */
int cp_seg_attach(struct cp_seg *s, const char *instance, char *err, size_t errlen);
void cp_seg_detach(struct cp_seg *s);
/* 1 when the instance's segment is another one now (dpsecd restarted) or
 * gone, 0 when it is the one attached. */
int cp_seg_replaced(const struct cp_seg *s, const char *instance);

/* cp_cmd.c: commands and their answers; events dispatched. */
int cp_cmd_send(struct cp_ctx *c, uint16_t type, const void *body, uint32_t len);
/* As cp_cmd_send(), for a command nobody waits for: a refusal of it is
 * logged, never reported by a cp_cmd_wait() for other commands. */
int cp_cmd_post(struct cp_ctx *c, uint16_t type, const void *body, uint32_t len);
int cp_cmd_wait(struct cp_ctx *c, int timeout_ms, char *err, size_t errlen);
void cp_events_poll(struct cp_ctx *c);

/* cp_sync.c: the dataplane made to hold the store's state. */
int cp_sync_full(struct cp_ctx *c, char *err, size_t errlen);
int cp_sync_readback(struct cp_ctx *c, char *err, size_t errlen);
int cp_apply(struct cp_ctx *c, char *err, size_t errlen);
/* cp_apply() when c->sync_wanted, before what needs dpsecd in line (a
 * negotiation's held packets sent through its new pair). */
void cp_sync_if_wanted(struct cp_ctx *c);
/* A negotiated SA into a free slot (bound to rule_id); its id or -ENOSPC. */
int cp_sa_add_negotiated(struct cp_ctx *c, const struct dpsec_sa_conf *conf,
			 const struct dpsec_lifetime *life, uint32_t rule_id);
int cp_sa_del_negotiated(struct cp_ctx *c, uint32_t id);
/* SA id freed in dpsec-ctld's registry. A rule dpsecd has may still name
 * it (a pair's per-peer rule, a static rule whose SA expired) until the
 * next sync brings the rules in line: until then the id waits, not given
 * to a new SA, whose peer would get that rule's traffic. */
void cp_sa_id_release(struct cp_ctx *c, uint32_t id);
/* dpsecd refused SA_ADD command seq: its slot is free again. */
void cp_sa_add_refused(struct cp_ctx *c, uint64_t seq);
/* d goes (its last pair went). A per-peer rule of its own leaves dpsecd
 * with the next sync's policy; a generic rule that carried d's SA itself
 * carries none from now on (RULE_SA at once: the sync's fingerprint leaves
 * carried SAs out, so it would not tell). */
void cp_dyn_drop(struct cp_ctx *c, struct cp_dyn_rule *d);
/* Whether id holds, as far as ctld knows, the SA of that SPI and direction:
 * false for an event dpsecd sent about an SA ctld has deleted since (its
 * id free, or another SA's). */
bool cp_sa_holds(const struct cp_ctx *c, uint32_t id, uint32_t spi, uint8_t direction);

/* cp_acquire.c */
void cp_acquire_event(struct cp_ctx *c, const struct dpsec_ev_acquire *ev);
void cp_expire_event(struct cp_ctx *c, const struct dpsec_ev_sa_expire *ev);
void cp_timers(struct cp_ctx *c);
int cp_negotiate_start(struct cp_ctx *c, struct cp_acquire *a);
/* Negotiates with peer for rule_id now, as an ACQUIRE would, but holding
 * no packet and with no fallback if it fails: after a restart, for the
 * peers whose SAs were dropped. */
void cp_reconnect(struct cp_ctx *c, uint32_t rule_id, const struct dpsec_addr *peer);
/* The negotiation for (rule, peer) ended: ok releases the held packets
 * through the new SA; otherwise the filter action's fallback applies now
 * (soft association or block), why saying what failed. */
void cp_negotiate_done(struct cp_ctx *c, uint32_t rule_id, const struct dpsec_addr *peer, bool ok,
		       const char *why);
/* A pair for (rule, peer) came up that the peer negotiated while we
 * negotiate too (both sides' packets raised an ACQUIRE at once), installed
 * before our answer (IKEv2's responder): the peer installs it only once
 * that answer arrives, so the packets held for our ACQUIRE wait for our
 * own negotiation's end; if it fails, or does not end before the fallback
 * timeout, they go out through the peer's pair, which it has by then. */
void cp_negotiate_answered(struct cp_ctx *c, uint32_t rule_id, const struct dpsec_addr *peer);
/* After a poll's sync: the ACQUIREs raised for a pair that was up already
 * (its rule not yet in dpsecd) release their held packets through it. */
void cp_acquires_synced(struct cp_ctx *c);
struct cp_dyn_rule *cp_dyn_add(struct cp_ctx *c, uint8_t kind, uint32_t generic_id, const char *name,
			       const struct dpsec_addr *peer, uint64_t ttl_ns);
/* Whether the assigned policy's rule rule_id is a tunnel rule whose
 * endpoint is peer: its filters are all the peer's, and it carries the
 * peer's negotiated SA itself (struct cp_dyn_rule's on_rule). */
bool cp_rule_tunnels_to(struct cp_ctx *c, uint32_t rule_id, const struct dpsec_addr *peer);
/* The filter action (and the rule's name) behind a compiled rule id of
 * the assigned policy, or NULL. */
const struct cfg_filter_action *cp_rule_action(struct cp_ctx *c, uint32_t rule_id,
					       char name[DPSEC_NAME_MAX]);

/* cp_edit.c: changes, static (saved) or dynamic. */
int cp_change(struct cp_ctx *c, const struct cp_op *op, bool save, char *err, size_t errlen);
int cp_store_reload(struct cp_ctx *c, char *err, size_t errlen);
/* The store's assigned policy compiled (the rules by id, with the store
 * rules they come from; none, permit, when no policy is assigned), made
 * once per store rather than for each sync and IKE lookup; NULL with err
 * (when not NULL) when it does not compile. */
const struct cfg_compiled *cp_compiled(struct cp_ctx *c, char *err, size_t errlen);
/* The store freed (and what was compiled from it). */
void cp_store_free(struct cp_ctx *c);

/* cp_mgmt.c: the management socket. */
int cp_mgmt_open(struct cp_ctx *c, char *err, size_t errlen);
void cp_mgmt_poll(struct cp_ctx *c, int timeout_ms);
void cp_mgmt_close(struct cp_ctx *c);

/* cp_cli.c: one request, argv, into a reply. Returns the exit status. */
int cp_cli_run(struct cp_ctx *c, int argc, char **argv, char **out, size_t *out_len);

#endif
