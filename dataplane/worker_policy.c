/* worker_policy.c - the worker's policy stage: the outbound packets of a
 * burst looked up in the policy (permit forwards, block drops, negotiate
 * encapsulates through the rule's SA, or holds the packet for an ACQUIRE),
 * those too big for their tunnel set aside or refused, the rest through
 * ESP/AH; inbound clear packets checked against it; decrypted and
 * permitted packets delivered (to the host, the manager, or to route, the
 * TTL taken). IKE is exempt from the policy. */
#include <string.h>

#include <rte_prefetch.h>

#include "dp_pkt.h"
#include "dp_policy.h"
#include "esp.h"
#include "frag_track.h"
#include "icmp_err.h"
#include "reass.h"
#include "tunnel_pmtu.h"
#include "worker.h"

#define IKE_PORT 500
#define IKE_NATT_PORT DPSEC_NATT_PORT
#define DP_SA_PREFETCH_MIN 64 /* fewer SAs stay in cache: no prefetch pass */

/* IKE is always exempt from the policy (UDP 500 and 4500, and what the
 * non-ESP marker shows to be IKE on an SA's own NAT-T port). */
static bool is_ike(const struct dp_meta *md)
{
	const struct dp_spd_key4 *k = &md->key.k4;
	uint16_t sp, dp;

	if (md->l4proto != IPPROTO_UDP)
		return false;
	if (md->flags & DP_M_IKE)
		return true;
	if (md->family == DPSEC_AF_INET6) {
		sp = rte_be_to_cpu_16(md->key.k6.sport);
		dp = rte_be_to_cpu_16(md->key.k6.dport);
	} else {
		sp = rte_be_to_cpu_16(k->sport);
		dp = rte_be_to_cpu_16(k->dport);
	}
	return sp == IKE_PORT || dp == IKE_PORT || sp == IKE_NATT_PORT || dp == IKE_NATT_PORT;
}

/* The host's own IKE: UDP 500/4500, or from the NAT-T port of one of our
 * UDP-encapsulated SAs (the host side only: no other traffic pays for the
 * port lookup). */
static bool ike_exempt_out(const struct dp_meta *md, bool from_host)
{
	uint16_t sport = md->family == DPSEC_AF_INET6 ? md->key.k6.sport : md->key.k4.sport;

	if (is_ike(md))
		return true;
	return from_host && md->l4proto == IPPROTO_UDP &&
	       dp_sa_natt_port(&dp_g->sas, rte_be_to_cpu_16(sport));
}

/* Forwarding decrements the TTL / hop limit (RFC 1812 §5.3.1); the IPv4
 * checksum is updated incrementally (RFC 1624). */
static bool ttl_decrement(struct rte_mbuf *m, const struct dp_meta *md)
{
	if (md->family == DPSEC_AF_INET6) {
		struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *);

		if (ip->hop_limits <= 1)
			return false;
		ip->hop_limits--;
		return true;
	}
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint32_t sum;

	if (ip->time_to_live <= 1)
		return false;
	ip->time_to_live--;
	sum = (uint32_t)ip->hdr_checksum + rte_cpu_to_be_16(0x0100);
	ip->hdr_checksum = (uint16_t)(sum + (sum >> 16));
	return true;
}

/* m's TTL ran out: dropped, and its source told when it may be (ICMP time
 * exceeded). */
static void ttl_expired(struct dp_worker *w, struct rte_mbuf *m)
{
	keep_error(w, dp_icmp_time_exceeded(w, m));
	dp_drop(w, m, DP_DROP_ttl_exceeded);
}

/* A router's report that one of our ESP or AH packets did not fit its
 * next hop, from outside in clear: for the manager (tunnel_pmtu.c; one
 * whose quote stops after the UDP header of our NAT-T port, which may be
 * about IKE as well, it passes on to the host). Other ICMP, about IKE's
 * datagrams among them, is the host's. */
static bool is_pmtu_report(const struct rte_mbuf *m, struct dp_meta *md)
{
	struct dp_pmtu_report r;

	if (md->l4proto != IPPROTO_ICMP && md->l4proto != IPPROTO_ICMPV6)
		return false;
	if ((md->flags & DP_M_FROM_SA) || dp_g->ports[md->in_port].role != DP_ROLE_UNPROTECTED ||
	    !dp_pmtu_parse(m, md, &r))
		return false;
	md->flags |= DP_M_PMTU;
	return true;
}

/* A path MTU report to the manager, within the worker's allowance
 * (DP_PMTU_REPORT_RATE): a flood of them, forged or not, must not fill the
 * control ring that ARP and ND share. */
static void hand_pmtu_report(struct dp_worker *w, struct rte_mbuf *m)
{
	if (dp_tokens_take(&w->pmtu_tokens, w->round_tsc, rte_get_tsc_hz() / DP_PMTU_REPORT_RATE,
			   DP_PMTU_REPORT_BURST))
		dp_worker_to_control(w, m);
	else
		dp_drop(w, m, DP_DROP_pmtu_report_limited);
}

/* Local destinations go to the host (or the manager), others are
 * forwarded (TTL first). */
static void deliver(struct dp_worker *w, struct rte_mbuf *m, struct dp_sort *s)
{
	struct dp_meta *md = dp_meta(m);

	if (dp_local_addr(dp_g, md->family, dp_meta_dst(md))) {
		if (unlikely(is_pmtu_report(m, md)))
			hand_pmtu_report(w, m);
		else if (dp_g->host_port < 0)
			dp_drop(w, m, DP_DROP_no_host);
		else
			s->host[s->n_host++] = m;
		return;
	}
	if (!ttl_decrement(m, md)) {
		ttl_expired(w, m);
		return;
	}
	s->fwd[s->n_fwd++] = m;
}

static const struct dp_policy *current_policy(void)
{
	return __atomic_load_n(&dp_g->policy, __ATOMIC_ACQUIRE);
}

/* A negotiate rule without a usable SA: with a control plane to negotiate
 * one, the manager holds the packet and raises an ACQUIRE; without, drop. */
static void await_sa(struct dp_worker *w, struct rte_mbuf *m, const struct dp_rule_rt *r)
{
	struct dp_meta *md = dp_meta(m);

	if (!dp_g->managed || dp_g->acquire == NULL) {
		dp_drop(w, m, DP_DROP_no_sa);
		return;
	}
	md->rule_id = r->id;
	if (r->tunnel) {
		md->peer = r->endpoint;
	} else {
		md->peer.family = md->family;
		memset(md->peer.a, 0, sizeof(md->peer.a));
		memcpy(md->peer.a, dp_meta_dst(md), md->family == DPSEC_AF_INET6 ? 16 : 4);
	}
	if (rte_ring_enqueue(dp_g->acquire, m) != 0) {
		dp_drop(w, m, DP_DROP_acquire_queue_full);
		return;
	}
	w->ctr->c[DP_C_acquire_packets]++;
}

/* The outbound SA of a negotiate rule, or NULL: none installed (yet). */
static struct dp_sa *rule_sa(const struct dp_rule_rt *r)
{
	uint32_t slot = dp_rule_sa_id(r);

	if (slot >= dp_g->sas.capacity)
		return NULL;
	return __atomic_load_n(&dp_g->sas.sa[slot], __ATOMIC_ACQUIRE);
}

/* A packet of the host's own with a TTL or hop limit of 0, which no host
 * may send (RFC 1122 §3.2.1.7); the host's packets are not forwarded, so
 * theirs is not decremented. */
static bool host_ttl_zero(const struct rte_mbuf *m, const struct dp_meta *md)
{
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);

	return ip[md->family == DPSEC_AF_INET6 ? 7 : 8] == 0;
}

static bool ttl_once(struct rte_mbuf *m, struct dp_meta *md)
{
	if (md->flags & DP_M_TTL_DONE)
		return true;
	md->flags |= DP_M_TTL_DONE;
	return ttl_decrement(m, md);
}

/* With many SAs every packet of a burst may need a different one, each a
 * chain of cache misses: the table slot, then the SA (both its lines), then
 * its key schedule and counters. Each link is fetched for the whole burst
 * before the next, so that the misses overlap instead of queueing. */
static void prefetch_out_sas(struct dp_worker *w, const struct dp_policy *pol, struct rte_mbuf **mb,
			     uint16_t n)
{
	const struct dp_sa *sa[DP_BURST];
	uint32_t slot[DP_BURST];

	for (uint16_t i = 0; i < n; i++) {
		const struct dp_meta *md = dp_meta(mb[i]);

		slot[i] = md->rule < pol->n_rules ? dp_rule_sa_id(&pol->rules[md->rule]) : DP_SA_NONE;
		if (slot[i] < dp_g->sas.capacity)
			rte_prefetch0(&dp_g->sas.sa[slot[i]]);
	}
	for (uint16_t i = 0; i < n; i++) {
		sa[i] = slot[i] < dp_g->sas.capacity
				? __atomic_load_n(&dp_g->sas.sa[slot[i]], __ATOMIC_ACQUIRE)
				: NULL;
		if (sa[i] != NULL) {
			rte_prefetch0(sa[i]);
			rte_prefetch0(&sa[i]->seq);
		}
	}
	for (uint16_t i = 0; i < n; i++)
		if (sa[i] != NULL) {
			rte_prefetch0(&sa[i]->crypto);
			rte_prefetch0(&sa[i]->crypto.k);
			rte_prefetch0(&w->sa_ctr[sa[i]->idx]);
		}
}

/* m is to be cut into fragments of at most fit_len bytes, after the
 * burst; a fragment is not cut again (another SA's larger overhead). */
static void set_aside(struct dp_worker *w, struct dp_sort *s, struct rte_mbuf *m, uint32_t fit_len)
{
	if (!s->may_cut) {
		dp_drop(w, m, DP_DROP_too_big);
		return;
	}
	w->cut[w->n_cut] = m;
	w->cut_len[w->n_cut++] = fit_len;
}

/* Packets that will not fit their way out once encapsulated leave the
 * burst (icmp_err.c): set aside to be cut, or dropped, the ICMP errors
 * about them kept. A pass of its own: the policy loop stays as tight as
 * it was. */
static uint16_t keep_fitting(struct dp_worker *w, struct rte_mbuf **esp, uint16_t n,
			     struct dp_sort *s)
{
	uint16_t kept = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = esp[i], *reply;
		uint32_t fit_len;

		if (likely(m->pkt_len <= dp_g->out_fits_len)) {
			esp[kept++] = m;
			continue;
		}
		switch (dp_out_fits(w, m, dp_meta(m)->sap, &reply, &fit_len)) {
		case DP_FIT_YES:
			esp[kept++] = m;
			break;
		case DP_FIT_CUT:
			set_aside(w, s, m, fit_len);
			break;
		case DP_FIT_CUT_AFTER: /* by send_whole, once encapsulated */
			dp_meta(m)->flags |= DP_M_CUT_AFTER_ESP;
			dp_meta(m)->cut_to = (uint16_t)fit_len;
			esp[kept++] = m;
			break;
		case DP_FIT_DROPPED:
			keep_error(w, reply);
			break;
		}
	}
	return kept;
}

/* Permitted in clear: forwarded, but for an error about a decrypted
 * packet, which may leave only through a tunnel. */
static void permit(struct dp_worker *w, struct rte_mbuf *m, const struct dp_meta *md,
		   struct dp_sort *s)
{
	if (unlikely(md->flags & DP_M_SECURE_ONLY))
		dp_drop(w, m, DP_DROP_icmp_error_unsecured);
	else
		s->fwd[s->n_fwd++] = m;
}

/* A fragment bound for a transport mode SA, which carries whole datagrams
 * only (RFC 4303 §3.1.1; the host's stack cuts a UDP datagram longer than
 * the exception interface's MTU): collected (reass.c), and the datagram,
 * once whole, takes the outbound path again after the burst (send_whole),
 * its policy looked up with its ports, and is cut after encapsulation if
 * it does not fit its port (IPv4 by the route step, IPv6 by send_whole).
 * Out of line, as too_big_for_port. */
static __rte_noinline void collect_for_transport(struct dp_worker *w, struct rte_mbuf *m,
						 const struct dp_meta *md)
{
	uint16_t ttl_done = md->flags & DP_M_TTL_DONE;

	m = dp_reass_take(w, m, w->round_tsc);
	if (m == NULL)
		return;
	dp_meta(m)->flags |= ttl_done | DP_M_WHOLE_HERE; /* parsed again: its TTL was taken */
	w->whole[w->n_whole++] = m; /* at most one per packet of a burst */
}

/* Outbound policy: permit forwards, block drops, negotiate encapsulates. */
void dp_worker_policy_out(struct dp_worker *w, struct dp_sort *s)
{
	const struct dp_policy *pol = current_policy();
	struct rte_mbuf *esp[DP_BURST];
	uint16_t n_esp = 0;

	if (unlikely(pol->port_specific))
		s->n_out = dp_frag_track_burst(w, s->out, s->n_out, false);
	dp_policy_lookup(pol, s->out, s->n_out);
	if (dp_g->sas.count > DP_SA_PREFETCH_MIN)
		prefetch_out_sas(w, pol, s->out, s->n_out);
	for (uint16_t i = 0; i < s->n_out; i++) {
		struct rte_mbuf *m = s->out[i];
		struct dp_meta *md = dp_meta(m);
		bool from_host = dp_g->ports[md->in_port].role == DP_ROLE_HOST;
		uint8_t action = ike_exempt_out(md, from_host) ? DPSEC_ACTION_PERMIT
							    : dp_policy_action(pol, md->rule);
		struct dp_sa *sa;

		if (action == DPSEC_ACTION_BLOCK) {
			dp_drop(w, m, DP_DROP_policy_block);
		} else if (from_host && host_ttl_zero(m, md)) {
			dp_drop(w, m, DP_DROP_ttl_exceeded);
		} else if (!from_host && !ttl_once(m, md)) {
			ttl_expired(w, m);
		} else if (action == DPSEC_ACTION_PERMIT) {
			permit(w, m, md, s);
		} else if ((sa = rule_sa(&pol->rules[md->rule])) == NULL) {
			await_sa(w, m, &pol->rules[md->rule]);
		} else if (unlikely(sa->expired)) {
			dp_drop(w, m, DP_DROP_sa_expired);
		} else if (unlikely((md->flags & DP_M_FRAG) && !(sa->flags & DP_SA_TUNNEL))) {
			collect_for_transport(w, m, md);
		} else {
			md->sap = sa;
			md->sa = sa->idx;
			esp[n_esp++] = m;
		}
	}
	n_esp = keep_fitting(w, esp, n_esp, s);
	n_esp = dp_esp_out(w, esp, n_esp);
	for (uint16_t i = 0; i < n_esp; i++)
		s->fwd[s->n_fwd++] = esp[i];
}

/* Inbound clear packets: a negotiate filter means it should have been
 * secured; IKE to us is always let through. */
void dp_worker_policy_in_clear(struct dp_worker *w, struct dp_sort *s)
{
	const struct dp_policy *pol = current_policy();

	if (unlikely(pol->port_specific))
		s->n_clear_in = dp_frag_track_burst(w, s->clear_in, s->n_clear_in, false);
	dp_policy_lookup(pol, s->clear_in, s->n_clear_in);
	for (uint16_t i = 0; i < s->n_clear_in; i++) {
		struct rte_mbuf *m = s->clear_in[i];
		struct dp_meta *md = dp_meta(m);
		uint8_t action = dp_policy_action(pol, md->rule);

		if (is_ike(md) && dp_local_addr(dp_g, md->family, dp_meta_dst(md)))
			action = DPSEC_ACTION_PERMIT;
		else if (action == DPSEC_ACTION_NEGOTIATE && md->rule < pol->n_rules &&
			 (pol->rules[md->rule].flags & DPSEC_RULE_ACCEPT_UNSECURED))
			action = DPSEC_ACTION_PERMIT; /* "accept unsecured communication" */
		if (action == DPSEC_ACTION_NEGOTIATE)
			dp_drop(w, m, DP_DROP_clear_should_be_secured);
		else if (action == DPSEC_ACTION_BLOCK)
			dp_drop(w, m, DP_DROP_policy_block);
		else
			deliver(w, m, s);
	}
}

/* The burst's decrypted packets, after the inbound policy's. */
void dp_worker_deliver_decrypted(struct dp_worker *w, struct dp_sort *s)
{
	for (uint16_t i = 0; i < s->n_esp; i++)
		deliver(w, s->esp[i], s);
}
