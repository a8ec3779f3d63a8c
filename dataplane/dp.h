/* dp.h - the dataplane's process-wide context: ports and their roles, the
 * exception (TAP) port, the tables workers read (policy, SAs, routes), the
 * control queue to the manager lcore, and the per-worker state. */
#ifndef DP_H
#define DP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "cfg.h"
#include "dp_burst.h"
#include "dp_route.h"
#include "dp_sa.h"
#include "dp_stats.h"
#include "spd.h"

#define DP_MAX_PORTS (CFG_MAX_PORTS + 1) /* network ports + the exception port */
#define DP_MAX_WORKERS 16
#define DP_MAX_LOCAL_ADDRS (CFG_MAX_PORTS * CFG_MAX_PORT_ADDRS)

enum dp_port_role { DP_ROLE_PROTECTED, DP_ROLE_UNPROTECTED, DP_ROLE_HOST };

struct dp_port {
	uint16_t port_id;  /* DPDK port */
	uint8_t role;      /* enum dp_port_role */
	uint16_t nb_rxq;   /* rx queues (<= workers) */
	uint16_t mtu;
	uint64_t rss_hf;   /* what RSS spreads the rx queues by; 0: none */
	struct rte_ether_addr mac;
	struct rte_ether_addr host_mac; /* exception port: the kernel side's MAC */
	char name[DPSEC_NAME_MAX];
};

/* One compiled policy: the SPD and, per rule, what its action needs. A
 * policy is never changed once published: a new one replaces it. */
struct dp_rule_rt {
	uint32_t id;     /* the rule's stable id */
	uint32_t sa_out; /* SA table index or DP_SA_NONE */
	uint8_t action;  /* enum dpsec_action */
	uint8_t flags;   /* enum dpsec_rule_flags */
	uint8_t tunnel;
	struct dpsec_addr endpoint; /* tunnel rules: the peer of an ACQUIRE */
};

struct dp_policy {
	struct dp_spd *spd;
	uint32_t n_rules;
	struct dp_rule_rt *rules;
	uint8_t default_action;
	uint32_t n_filters;
	bool port_specific; /* a filter names ports: later fragments tracked (frag_track.c) */
};

/* A token bucket: up to a burst of tokens, one more each period. */
struct dp_tokens {
	uint64_t tsc; /* when it last grew */
	uint32_t n;   /* tokens left */
};

/* Takes a token from b at TSC now, one earned each period_tsc, at most
 * burst saved; false when none is left. */
static inline bool dp_tokens_take(struct dp_tokens *b, uint64_t now, uint64_t period_tsc,
				  uint32_t burst)
{
	uint64_t earned = (now - b->tsc) / period_tsc;

	if (earned > 0) {
		b->n = (uint32_t)RTE_MIN((uint64_t)b->n + earned, (uint64_t)burst);
		b->tsc = now;
	}
	if (b->n == 0)
		return false;
	b->n--;
	return true;
}

/* A rate the workers share, in one word (the generic cell rate algorithm):
 * tat is when the next take would be on time. A take at TSC now is let
 * through while tat lies at most tolerance_tsc ahead of now, and moves tat
 * a period on; so a burst of tolerance / period + 1 at once, then one a
 * period. period_tsc 0: nothing let through. A refused take writes
 * nothing: a flood of them costs shared reads only. */
struct dp_rate {
	uint64_t tat;
	uint64_t period_tsc;
	uint64_t tolerance_tsc;
};

static inline bool dp_rate_take(struct dp_rate *r, uint64_t now)
{
	uint64_t tat = __atomic_load_n(&r->tat, __ATOMIC_RELAXED);

	if (r->period_tsc == 0)
		return false;
	for (;;) {
		uint64_t from = tat > now ? tat : now;

		if (from - now > r->tolerance_tsc)
			return false;
		if (__atomic_compare_exchange_n(&r->tat, &tat, from + r->period_tsc, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return true;
	}
}

/* per_second takes a second (0: none), burst at once, with TSC at hz. */
static inline void dp_rate_set(struct dp_rate *r, uint32_t per_second, uint32_t burst, uint64_t hz)
{
	r->period_tsc = per_second ? RTE_MAX(hz / per_second, (uint64_t)1) : 0;
	r->tolerance_tsc = r->period_tsc * (burst ? burst - 1 : 0);
}

/* The manager's rate-limited logs (a failure it retries at every turn,
 * such as a sequence file it cannot write; RFC 6040's odd ECN marks):
 * true at most once a minute for the caller's *next (0 at first). */
static inline bool dp_log_due(uint64_t *next, uint64_t now, uint64_t hz)
{
	if (now < *next)
		return false;
	*next = now + 60 * hz;
	return true;
}

struct ofl_cpu;
struct rte_rcu_qsbr;
struct rte_rcu_qsbr_dq;
struct rte_ip_frag_tbl;
struct rte_ip_frag_death_row;
struct dp_frag_first;
struct dp_mgr;

/* A worker's counters at the end of a poll round, when none of its packets
 * is in flight: the worker copies them when the manager asks (snap_req
 * ahead of snap_done), so that counters written while traffic flows still
 * add up: packets in = packets out + drops. */
struct dp_worker_snap {
	struct dp_counters ctr;
	uint64_t busy_tsc, steady_tsc, steady_rx, steady_rounds, stalled_rounds;
};

struct dp_worker {
	unsigned int lcore_id;
	uint16_t index;                  /* 0..n_workers-1: also its tx queue */
	uint16_t n_rxq;
	struct { uint16_t port; uint16_t queue; } rxq[DP_MAX_PORTS];
	struct ofl_cpu *crypto;
	struct dp_counters *ctr;         /* this worker's global counters */
	struct dp_sa_counters *sa_ctr;   /* this worker's per-SA counters */
	uint16_t ip_id;                  /* outer IPv4 identification */
	/* --exit-when-idle: 0 while the worker receives, else the TSC of its
	 * first empty poll round since; a round still running (a worker stalled
	 * in the middle of a burst) is never idle */
	volatile uint64_t idle_since_tsc;
	uint64_t round_tsc;              /* TSC at the start of the current poll round */
	uint64_t busy_tsc;               /* TSC cycles spent on non-empty poll rounds */
	/* The same for rounds shorter than dp_ctx.stall_tsc only, and the packets
	 * they received: a round the OS or the hypervisor interrupted is left
	 * out, so that cycles per packet measure dpsec, not the neighbours; the
	 * number of those rounds tells how full the bursts were (bench/). */
	uint64_t steady_tsc, steady_rx, steady_rounds;
	uint64_t stalled_rounds;
	struct dp_tokens pmtu_tokens;    /* path MTU reports it may hand over (worker_policy.c) */
	struct dp_worker_snap *snap;     /* written by this worker only */
	uint32_t snap_req, snap_done;    /* the manager's request, the worker's answer */
	/* Packets of the current burst set aside to be cut into fragments of
	 * at most cut_len bytes once it is sent (worker_policy.c, worker.c, frag.c): rare, so
	 * kept here, off the stack of the burst's own arrays. */
	uint16_t n_cut;
	struct rte_mbuf *cut[DP_BURST];
	uint32_t cut_len[DP_BURST];
	/* ESP and AH fragments to the gateway, collected here (reass.c) */
	struct rte_ip_frag_tbl *reass;
	struct rte_ip_frag_death_row *reass_dr;
	struct dp_frag_first *reass_udp; /* whose UDP fragments to us are (reass.c) */
	uint64_t reass_timeout_tsc;
	struct dp_frag_first *frag_first; /* first fragments' ports (frag_track.c) */
	/* ICMP errors the gateway makes about the burst's packets (at most one
	 * each), to go through the outbound policy once it is sent, like any
	 * packet the gateway sends (worker*.c, icmp_err.c); last, leaving the
	 * other fields where they were */
	uint16_t n_errs;
	struct rte_mbuf *errs[DP_BURST];
	/* datagrams made whole from fragments for transport mode SAs, to go
	 * through the outbound path after the burst (worker_policy.c, worker.c) */
	uint16_t n_whole;
	struct rte_mbuf *whole[DP_BURST];
};

/* A worker's counters as they are now: by the worker between two poll
 * rounds, or by anyone once the worker has stopped. */
static inline void dp_worker_snap_take(const struct dp_worker *w, struct dp_worker_snap *s)
{
	s->ctr = *w->ctr;
	s->busy_tsc = w->busy_tsc;
	s->steady_tsc = w->steady_tsc;
	s->steady_rx = w->steady_rx;
	s->steady_rounds = w->steady_rounds;
	s->stalled_rounds = w->stalled_rounds;
}

struct dp_neigh_state;

struct dp_ctx {
	struct cfg_dataplane *cfg;
	uint16_t n_ports;                /* network ports, then the exception port */
	struct dp_port ports[DP_MAX_PORTS];
	int host_port;                   /* index in ports[], -1 without one */
	uint16_t port_index[RTE_MAX_ETHPORTS]; /* DPDK port id -> index in ports[] */
	/* the gateway's own addresses, by family, compared as integers; for
	 * IPv6 the ports' addresses first, then their prefixes' Subnet-Router
	 * anycast addresses (dp_subnet_router_anycast) */
	uint32_t n_local4, n_local6;
	uint32_t local4[DP_MAX_LOCAL_ADDRS];
	uint64_t local_screen[4]; /* bit dp_addr_fold(a) set for each own address a */
	uint64_t local6[2 * DP_MAX_LOCAL_ADDRS][2];
	uint32_t out_fits_len;           /* packets no longer fit any port with any SA */
	struct rte_mempool *pool;
	struct rte_mempool *big_pool;    /* packets made whole longer than a buffer (reass.c) */
	struct dp_policy *policy;
	struct dp_sa_table sas;
	struct dp_routes routes;
	struct rte_ring *control;        /* workers -> manager: ARP, ND, path MTU reports */
	struct rte_ring *resolve;        /* workers -> manager: struct dp_resolve_req */
	struct rte_ring *peer_moved;     /* workers -> manager: struct dp_peer_moved */
	struct rte_ring *inject;         /* manager -> worker 0: packets to send */
	struct rte_ring *acquire;        /* workers -> manager: packets waiting for an SA */
	struct rte_ring *reinject;       /* manager -> worker 0: held packets to process again */
	struct rte_rcu_qsbr *rcu;        /* workers' quiescent states */
	struct rte_rcu_qsbr_dq *gc;      /* what waits for a grace period */
	struct dp_mgr *mgr;              /* the manager's control state; NULL in unit tests */
	volatile bool managed;           /* a control plane took over: ACQUIRE instead of drop */
	uint16_t n_workers;
	struct dp_worker workers[DP_MAX_WORKERS];
	struct dp_counters mgr_ctr;      /* counters of the manager lcore */
	uint64_t key_additions;          /* SAs installed (manager lcore) */
	uint64_t key_deletions;
	uint32_t idle_sleep_us;
	bool busy_poll;
	uint64_t stall_tsc;              /* a poll round longer than this was interrupted */
	uint64_t reass_timeout_tsc;      /* how long fragments wait for the rest of their packet */
	/* each port's packets sent, read just before the workers were asked
	 * for snapshots (dp_stats_take_snaps): with the count read after they
	 * answered, it brackets the count at the snapshots */
	uint64_t opackets_before_snaps[DP_MAX_PORTS];
	uint64_t sa_table_bytes;         /* heap the SA table and SAD took when made */
	/* at the end, so that the workers' hot fields keep their places: */
	struct dp_neigh_state *neigh;    /* the manager's resolution state (neigh.c) */
	struct rte_ring *reroute;        /* manager -> worker 0: packets held for a next hop's
					  * MAC, to route again */
	volatile bool quit;
	/* the ICMP errors all workers together may send (icmp_err.c); a line of
	 * its own: the workers write it */
	struct dp_rate icmp_rate __rte_cache_aligned;
};

extern struct dp_ctx *dp_g;

/* A worker asks the manager to resolve a next hop's MAC, handing it the
 * packet that found none (m; NULL: none), ready to send but for its
 * Ethernet header, to hold until the next hop answers. */
struct dp_resolve_req {
	uint16_t port;
	uint8_t family;
	uint8_t pad;
	uint8_t addr[16];
	struct rte_mbuf *m;
};

/* A worker tells the manager that ESP in UDP of the inbound SA at sa_idx,
 * verified and new to its window, came from another address or port than
 * its peer's (esp_in.c): the peer's NAT mapped it anew. */
struct dp_peer_moved {
	uint32_t sa_idx;
	uint16_t port_be;
	uint8_t family;
	uint8_t pad;
	uint8_t addr[16]; /* the packet's source */
};

/* The Subnet-Router anycast address of p, an IPv6 prefix on one of the
 * gateway's links, into out: the prefix with an interface identifier of
 * zeros, which a router answers for on that link and takes packets to
 * (RFC 4291 §2.6.1). False for IPv4, and for /127 (RFC 6164 §6: not on
 * point-to-point links) and /128, which have none. */
static inline bool dp_subnet_router_anycast(const struct dpsec_prefix *p, uint8_t out[16])
{
	if (p->addr.family != DPSEC_AF_INET6 || p->len > 126)
		return false;
	memset(out, 0, 16);
	memcpy(out, p->addr.a, p->len / 8u);
	if (p->len % 8u)
		out[p->len / 8u] = (uint8_t)(p->addr.a[p->len / 8u] & (0xff00u >> (p->len % 8u)));
	return true;
}

/* Worker entry point (rte_eal_remote_launch). */
int dp_worker_main(void *arg);

/* An address folded to a byte, its place in dp_ctx.local_screen: the
 * bytes that differ between neighbouring hosts, XORed. */
static inline uint8_t dp_addr_fold(uint8_t family, const uint8_t *a)
{
	const uint8_t *b = family == DPSEC_AF_INET6 ? a + 12 : a;

	return b[0] ^ b[1] ^ b[2] ^ b[3];
}

/* Whether a (of family) may be one of the gateway's own addresses: false
 * for nearly every other one at the cost of one bit test, true for all
 * of them (then dp_local_addr tells). */
static inline bool dp_maybe_local(const struct dp_ctx *dp, uint8_t family, const uint8_t *a)
{
	uint8_t h = dp_addr_fold(family, a);

	return (dp->local_screen[h >> 6] >> (h & 63)) & 1;
}

/* Is a (of family) one of the gateway's own addresses? Per packet: inline,
 * no memcmp call. */
static inline bool dp_local_addr(const struct dp_ctx *dp, uint8_t family, const uint8_t *a)
{
	uint64_t v6[2];
	uint32_t v4;

	if (family != DPSEC_AF_INET6) {
		memcpy(&v4, a, 4);
		for (uint32_t i = 0; i < dp->n_local4; i++)
			if (dp->local4[i] == v4)
				return true;
		return false;
	}
	memcpy(v6, a, 16);
	for (uint32_t i = 0; i < dp->n_local6; i++)
		if (dp->local6[i][0] == v6[0] && dp->local6[i][1] == v6[1])
			return true;
	return false;
}



/* Prepends the Ethernet header of an IP packet of family. */
static inline void dp_push_eth(struct rte_mbuf *m, const struct rte_ether_addr *dst,
			       const struct rte_ether_addr *src, uint8_t family)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));

	eth->dst_addr = *dst;
	eth->src_addr = *src;
	eth->ether_type = rte_cpu_to_be_16(family == DPSEC_AF_INET6 ? RTE_ETHER_TYPE_IPV6
								    : RTE_ETHER_TYPE_IPV4);
}

/* Counts a packet under a drop reason and frees it. */
static inline void dp_drop(struct dp_worker *w, struct rte_mbuf *m, int reason)
{
	w->ctr->c[reason]++;
	rte_pktmbuf_free(m);
}
#endif
