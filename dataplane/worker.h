/* worker.h - what the worker's files share (worker.c, worker_sort.c,
 * worker_policy.c, worker_send.c): a received burst sorted by path, the
 * per-port transmit batches, and the stages each file exports. Internal to
 * the worker lcore: nothing else includes it. */
#ifndef DPSEC_WORKER_H
#define DPSEC_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "dp.h"

/* Packets of one received burst, sorted by what happens to them next. */
struct dp_sort {
	uint16_t n_out, n_clear_in, n_esp, n_fwd, n_host;
	bool may_cut;                        /* false for fragments: not cut again */
	struct rte_mbuf *out[DP_BURST];      /* to the outbound policy */
	struct rte_mbuf *clear_in[DP_BURST]; /* clear, from outside or to us */
	struct rte_mbuf *esp[DP_BURST];      /* ESP to one of our addresses */
	struct rte_mbuf *fwd[DP_BURST];      /* to route and send */
	struct rte_mbuf *host[DP_BURST];     /* to the exception interface */
};

static inline void sort_init(struct dp_sort *s, uint16_t n_out, bool may_cut)
{
	s->n_out = n_out;
	s->n_clear_in = s->n_esp = s->n_fwd = s->n_host = 0;
	s->may_cut = may_cut;
}

struct dp_txq {
	uint16_t n;
	struct rte_mbuf *m[DP_BURST];
};

/* An ICMP error the gateway made (or NULL: none) is kept to go through the
 * outbound policy after the burst. */
static inline void keep_error(struct dp_worker *w, struct rte_mbuf *reply)
{
	if (reply != NULL)
		w->errs[w->n_errs++] = reply; /* at most one per packet of a burst: room for all */
}

/* worker_sort.c: n received packets of in_port sorted into s. */
void dp_worker_sort_burst(struct dp_worker *w, uint16_t in_port, struct rte_mbuf **mb, uint16_t n,
			  struct dp_sort *s);
/* worker_sort.c: m handed to the manager (ARP, ND, path MTU reports). */
void dp_worker_to_control(struct dp_worker *w, struct rte_mbuf *m);

/* Whether a packet needs dp_worker_odd_address_drop's look: one or two
 * table tests nearly every packet passes. outside: it came from a network
 * port or out of a tunnel, not from the host stack behind the exception
 * port (which sends from the gateway's own addresses). */
static inline bool dp_worker_odd_address(const struct dp_meta *md, bool outside)
{
	return dp_meta_odd_address(md) || (outside && dp_maybe_local(dp_g, md->family, dp_meta_src(md)));
}

/* worker_sort.c: why such a packet is dropped, or 0: it goes on. Out of
 * line: nearly no packet comes here. */
int dp_worker_odd_address_drop(const struct dp_meta *md, bool outside);

/* worker_policy.c: s's outbound packets through the policy and ESP/AH,
 * into s's packets to route (or set aside, dropped, held). */
void dp_worker_policy_out(struct dp_worker *w, struct dp_sort *s);
/* worker_policy.c: s's inbound clear packets through the policy. */
void dp_worker_policy_in_clear(struct dp_worker *w, struct dp_sort *s);
/* worker_policy.c: s's decrypted packets (s->esp) to the host or to route. */
void dp_worker_deliver_decrypted(struct dp_worker *w, struct dp_sort *s);

/* worker_send.c: s's packets to route and for the host sent. */
void dp_worker_send_sorted(struct dp_worker *w, struct dp_sort *s, struct dp_txq *txq);

/* One received burst through the whole path (worker.c): sorted, the
 * policy both ways, ESP and AH, routed and sent, with the fragments,
 * reassembled datagrams and ICMP errors it made; txq: a queue per port,
 * empty again on return. */
void dp_worker_process_burst(struct dp_worker *w, uint16_t in_port, struct rte_mbuf **mb, uint16_t n,
			     struct dp_txq *txq);

#endif
