/* dp_mgr.h - the manager lcore's control work: the shared-memory segment,
 * commands from the control plane (SAs, the policy, acquires) applied and
 * acknowledged, the policy rebuilt and swapped, SA lifetimes watched, the
 * statistics area and SA directory kept current, ACQUIRE and expiry events
 * sent. Everything here runs on the manager lcore only. */
#ifndef DP_MGR_H
#define DP_MGR_H

#include <stdbool.h>
#include <stdint.h>

#include "dp_ruleset.h"
#include "dp_shm.h"
#include "natt.h"
#include "stats.h"

struct dp_ctx;
struct rte_hash;
struct rte_mbuf;

#define DP_ACQ_ENTRIES 4096   /* (rule, peer) pairs awaiting an SA at once */
#define DP_ACQ_HOLD 4         /* packets held per pair */
#define DP_ACQ_RETRY_S 1      /* ACQUIRE repeated at most this often while packets come */
#define DP_ACQ_TIMEOUT_S 30   /* unanswered: held packets freed, pair forgotten */
#define DP_SEQ_SOFT_LEFT (1ull << 20) /* outbound numbers left when SEQ is reported */

/* Hands m, a frame the manager made (ARP/ND, a NAT-T keepalive, an ICMP
 * error for the host), to worker 0 to send on port; false (m freed) when
 * the inject ring is full. */
bool dp_mgr_inject(struct dp_ctx *dp, struct rte_mbuf *m, uint16_t port);

/* Per SA slot: what the manager needs that workers never read. */
struct dp_sa_mgr {
	uint64_t base_packets, base_bytes, base_drops; /* counters when installed */
	uint64_t last_in_tsc;   /* last seen packet, for idle */
	uint8_t reported;       /* 1 << enum dpsec_expire_kind, events sent */
	uint64_t published;     /* what the directory entry last showed (dp_life_publish_sa) */
	struct dp_natt_ka ka;   /* outbound UDP-encapsulated SAs: keepalive schedule */
};

struct dp_acq {
	bool used, sent, fresh;  /* fresh: packets came since the last ACQUIRE */
	uint64_t created_tsc, sent_tsc;
	uint16_t n_held;
	struct rte_mbuf *held[DP_ACQ_HOLD];
	struct dpsec_ev_acquire ev;
};

struct dp_pending_ack {
	uint64_t seq;
	uint16_t type;
};

struct dp_mgr {
	struct dp_shm shm;
	struct dp_ruleset live, staged, backup;
	bool staging, dirty, have_backup;
	bool staged_refused;        /* a command of the open transaction was refused */
	uint32_t n_deferred;
	struct dp_pending_ack deferred[DPSEC_RING_SLOTS];
	uint64_t builds, commit_seq;
	uint64_t sa_changes;           /* RULE_SA taken (no build) */
	struct dp_sa_mgr *sa;       /* sa_capacity entries */
	uint32_t scan_cursor;
	uint64_t scan_tsc;          /* when the lifetime scan last ran */
	uint64_t neigh_scan_tsc;    /* when the neighbours were last looked at */
	uint64_t neigh_publish_tsc; /* and last published */
	uint64_t last_stats_tsc, last_acq_scan_tsc;
	uint64_t boot_tsc, boot_ns; /* to turn TSC into CLOCK_REALTIME */
	struct rte_hash *acq_hash;  /* (rule id, peer) -> index in acq */
	struct dp_acq *acq;
	uint32_t n_acq;
	struct ofl_cpu *crypto;     /* the manager's engine, to prepare SA keys */
	struct rte_hash *out_sas;   /* outbound SAs by SPI and peer (tunnel_pmtu.c) */
	struct rte_hash *peer_pmtu; /* peer address -> its last path MTU record (tunnel_pmtu.c) */
	uint64_t pmtu_until_tsc;    /* when the last recorded path MTU ages out; 0: none */
	struct dp_ecn_report ecn;   /* RFC 6040's log of odd ECN marks (stats.c) */
};

/* Creates the segment and the manager state. Returns 0 or -1 with err. */
int dp_mgr_init(struct dp_ctx *dp, const char *instance, char *err, size_t errlen);
void dp_mgr_fini(struct dp_ctx *dp);

/* Marks the segment ready for commands (after the workers started). */
void dp_mgr_ready(struct dp_ctx *dp);

/* One round of control work; returns true when it did something. */
bool dp_mgr_poll(struct dp_ctx *dp);

/* The manager's round over what the workers passed it: ARP, ND and path
 * MTU reports, next hops to resolve. Whether there was any. */
bool dp_mgr_poll_packets(struct dp_ctx *dp);

/* Records the SAs dpsecd's own configuration installed (directory, base). */
void dp_mgr_sa_installed(struct dp_ctx *dp, uint32_t idx, const struct dpsec_sa_conf *conf);
/* The SA at idx moved (SA_MOVE): its description and the path MTU
 * table follow it from from to to. */
void dp_mgr_sa_moved(struct dp_ctx *dp, uint32_t idx, const struct dpsec_sa_conf *from,
		     const struct dpsec_sa_conf *to);

/* dp_cmd.c */
void dp_cmd_poll(struct dp_ctx *dp);
bool dp_ev_push(struct dp_ctx *dp, uint16_t type, const void *body, uint32_t len);

/* dp_acquire.c */
int dp_acq_init(struct dp_ctx *dp);
void dp_acq_fini(struct dp_ctx *dp);
bool dp_acq_poll(struct dp_ctx *dp);
int dp_acq_done(struct dp_ctx *dp, const struct dpsec_cmd_acquire_done *c, char *err,
		size_t errlen);
void dp_acq_flush(struct dp_ctx *dp);

/* dp_life.c */
void dp_life_scan(struct dp_ctx *dp);
void dp_life_publish_sa(struct dp_ctx *dp, uint32_t idx);
void dp_life_publish_stats(struct dp_ctx *dp);
uint64_t dp_mgr_tsc_to_ns(const struct dp_ctx *dp, uint64_t tsc);

#endif
