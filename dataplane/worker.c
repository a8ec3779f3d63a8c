/* worker.c - the worker lcore: receive a burst, sort it by path
 * (worker_sort.c), apply the policy and run the ESP bursts
 * (worker_policy.c, esp_out.c, esp_in.c), route and transmit
 * (worker_send.c); then, rare, the datagrams its fragments made whole for
 * transport mode SAs, the packets set aside as too big for their tunnel
 * (IPv4 without DF) cut and their fragments sent the same way, and the
 * ICMP errors the gateway made about the burst's packets through the
 * outbound policy. Worker 0 also sends what the manager built (ARP, ND),
 * and takes back the packets it held for an SA or a next hop's MAC.
 * Run to completion; no locks, no allocation but mbufs (ICMP errors,
 * fragments); backs off with short sleeps when idle unless busy polling. */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "dp_rcu.h"
#include "esp.h"
#include "frag.h"
#include "reass.h"
#include "worker.h"

struct dp_ctx *dp_g; /* set once by dpsecd (or a test harness) before workers start */

/* Fragments through the outbound path as packets of their own: policy,
 * SA, encapsulation, route. */
static void send_fragments(struct dp_worker *w, struct dp_sort *f, struct dp_txq *txq)
{
	dp_worker_policy_out(w, f);
	dp_worker_send_sorted(w, f, txq);
	sort_init(f, 0, false);
}

/* The packets set aside to be cut: cut, and their fragments sent in rounds
 * of up to a burst (which set none aside). */
static void send_cut(struct dp_worker *w, struct dp_txq *txq)
{
	struct dp_sort f;

	sort_init(&f, 0, false);
	for (uint16_t i = 0; i < w->n_cut; i++) {
		if (f.n_out + DP_FRAG_MAX > DP_BURST)
			send_fragments(w, &f, txq);
		f.n_out += dp_frag4_split(w, w->cut[i], w->cut_len[i], DP_FRAG_BEFORE_ESP,
					  f.out + f.n_out);
	}
	if (f.n_out > 0)
		send_fragments(w, &f, txq);
	w->n_cut = 0;
}

/* The errors the gateway made through the outbound policy, as its own
 * packets: permitted, secured or blocked by its rules (one about a
 * decrypted packet leaves only secured); none is made about them. Those
 * about the host's own packets (too big for their SA's path) go straight
 * to the host, as if a router beyond had sent them. */
static void send_errors(struct dp_worker *w, struct dp_txq *txq)
{
	struct dp_sort e;

	sort_init(&e, 0, false);
	for (uint16_t i = 0; i < w->n_errs; i++) {
		struct rte_mbuf *m = w->errs[i];

		if (dp_g->ports[dp_meta(m)->in_port].role == DP_ROLE_HOST)
			e.host[e.n_host++] = m;
		else
			e.out[e.n_out++] = m;
	}
	w->n_errs = 0;
	dp_worker_policy_out(w, &e);
	dp_worker_send_sorted(w, &e, txq);
}

/* The ESP packets of IPv6 datagrams made whole (DP_M_CUT_AFTER_ESP) out
 * of d's packets to route, into cut; returns how many. */
static uint16_t take_cut_after_esp(struct dp_sort *d, struct rte_mbuf **cut)
{
	uint16_t kept = 0, n = 0;

	for (uint16_t i = 0; i < d->n_fwd; i++) {
		struct rte_mbuf *m = d->fwd[i];

		if (dp_meta(m)->flags & DP_M_CUT_AFTER_ESP)
			cut[n++] = m;
		else
			d->fwd[kept++] = m;
	}
	d->n_fwd = kept;
	return n;
}

/* Those ESP packets cut to their cut_to (frag.c) and their fragments
 * routed and sent, in rounds of up to a burst. */
static void send_cut_after_esp(struct dp_worker *w, struct rte_mbuf **cut, uint16_t n,
			       struct dp_txq *txq)
{
	struct dp_sort f;

	sort_init(&f, 0, false);
	for (uint16_t i = 0; i < n; i++) {
		if (f.n_fwd + DP_FRAG_MAX > DP_BURST) {
			dp_worker_send_sorted(w, &f, txq);
			sort_init(&f, 0, false);
		}
		f.n_fwd += dp_frag6_split(w, cut[i], dp_meta(cut[i])->cut_to, f.fwd + f.n_fwd);
	}
	dp_worker_send_sorted(w, &f, txq);
}

/* The datagrams made whole for transport mode SAs through the outbound
 * path, as if they had come whole; an IPv6 one too big once encapsulated
 * leaves in fragments of its ESP packet. */
static void send_whole(struct dp_worker *w, struct dp_txq *txq)
{
	struct rte_mbuf *cut[DP_BURST];
	struct dp_sort d;
	uint16_t n_cut;

	sort_init(&d, w->n_whole, true);
	memcpy(d.out, w->whole, w->n_whole * sizeof(d.out[0]));
	w->n_whole = 0;
	dp_worker_policy_out(w, &d);
	n_cut = take_cut_after_esp(&d, cut);
	dp_worker_send_sorted(w, &d, txq);
	if (n_cut > 0)
		send_cut_after_esp(w, cut, n_cut, txq);
}

/* A sorted burst routed and sent, then the datagrams its fragments made
 * whole, then the packets they set aside cut and their fragments sent,
 * then the errors they made. */
static void send_all(struct dp_worker *w, struct dp_sort *s, struct dp_txq *txq)
{
	dp_worker_send_sorted(w, s, txq);
	if (unlikely(w->n_whole > 0))
		send_whole(w, txq);
	if (unlikely(w->n_cut > 0))
		send_cut(w, txq);
	if (unlikely(w->n_errs > 0))
		send_errors(w, txq);
}

void dp_worker_process_burst(struct dp_worker *w, uint16_t in_port, struct rte_mbuf **mb, uint16_t n,
			     struct dp_txq *txq)
{
	struct dp_sort s;

	sort_init(&s, 0, true);
	dp_worker_sort_burst(w, in_port, mb, n, &s);
	dp_worker_policy_out(w, &s);
	dp_worker_policy_in_clear(w, &s);
	s.n_esp = dp_esp_in(w, s.esp, s.n_esp);
	dp_worker_deliver_decrypted(w, &s);
	send_all(w, &s, txq);
}

/* Held packets whose ACQUIRE was answered go through the outbound policy
 * again (worker 0). */
static void process_reinjected(struct dp_worker *w, struct dp_txq *txq)
{
	struct dp_sort s;
	uint16_t n;

	if (dp_g->reinject == NULL)
		return;
	n = (uint16_t)rte_ring_dequeue_burst(dp_g->reinject, (void **)s.out, DP_BURST, NULL);
	if (n == 0)
		return;
	w->ctr->c[DP_C_reinject_in] += n;
	sort_init(&s, n, true);
	dp_worker_policy_out(w, &s);
	send_all(w, &s, txq);
}

/* Packets the manager held for their next hop's MAC, routed again now
 * that it answered or failed (worker 0). */
static void process_rerouted(struct dp_worker *w, struct dp_txq *txq)
{
	struct dp_sort s;

	if (dp_g->reroute == NULL)
		return;
	sort_init(&s, 0, false);
	s.n_fwd = (uint16_t)rte_ring_dequeue_burst(dp_g->reroute, (void **)s.fwd, DP_BURST, NULL);
	if (s.n_fwd > 0)
		send_all(w, &s, txq);
}

/* Packets the manager built (ARP, ND) leave through worker 0's queues. */
static void send_injected(struct dp_worker *w)
{
	struct rte_mbuf *m[DP_BURST];
	unsigned int n = rte_ring_dequeue_burst(dp_g->inject, (void **)m, DP_BURST, NULL);

	for (unsigned int i = 0; i < n; i++) {
		uint16_t port = dp_meta(m[i])->in_port;

		if (rte_eth_tx_burst(dp_g->ports[port].port_id, w->index, &m[i], 1) == 1) {
			w->ctr->c[DP_C_control_tx]++;
		} else {
			w->ctr->c[DP_C_control_tx_failed]++;
			rte_pktmbuf_free(m[i]);
		}
	}
}

/* Cycles of a poll round that received packets: all of them, and apart
 * those of rounds nothing interrupted. */
static void account_round(struct dp_worker *w, uint64_t cycles, uint32_t got)
{
	w->busy_tsc += cycles;
	if (cycles > dp_g->stall_tsc) {
		w->stalled_rounds++;
		return;
	}
	w->steady_tsc += cycles;
	w->steady_rx += got;
	w->steady_rounds++;
}

/* The manager asked for a snapshot of the counters (dp_stats_take_snaps):
 * this poll round is over, none of its packets is in flight. */
static void take_snap(struct dp_worker *w, uint32_t req)
{
	dp_worker_snap_take(w, w->snap);
	__atomic_store_n(&w->snap_done, req, __ATOMIC_RELEASE);
}

int dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct dp_txq txq[DP_MAX_PORTS];
	struct rte_mbuf *mb[DP_BURST];

	memset(txq, 0, sizeof(txq));
	dp_rcu_worker_start(w);
	while (!dp_g->quit) {
		uint64_t start = rte_rdtsc();

		w->round_tsc = start;
		uint32_t got = 0;

		for (uint16_t q = 0; q < w->n_rxq; q++) {
			uint16_t port = w->rxq[q].port;
			uint16_t n = rte_eth_rx_burst(dp_g->ports[port].port_id, w->rxq[q].queue, mb,
						      DP_BURST);

			if (n > 0)
				dp_worker_process_burst(w, port, mb, n, txq);
			got += n;
		}
		if (w->index == 0) {
			send_injected(w);
			process_reinjected(w, txq);
			process_rerouted(w, txq);
		}
		if (unlikely(w->ctr->c[DP_C_reass_held] != 0))
			dp_reass_expire(w, start);
		dp_rcu_quiescent(w); /* holds no table pointer from here on */
		if (got > 0) {
			w->idle_since_tsc = 0;
			account_round(w, rte_rdtsc() - start, got);
		} else {
			if (w->idle_since_tsc == 0)
				w->idle_since_tsc = start;
			if (!dp_g->busy_poll)
				rte_delay_us_sleep(dp_g->idle_sleep_us);
		}
		uint32_t req = __atomic_load_n(&w->snap_req, __ATOMIC_ACQUIRE);

		if (unlikely(req != w->snap_done))
			take_snap(w, req);
	}
	dp_rcu_worker_stop(w);
	return 0;
}
