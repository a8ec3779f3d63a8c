/* worker.c - the worker lcore: receive a burst, parse and sort it by path
 * (outbound, inbound clear, inbound ESP, control), apply the policy, run the
 * ESP bursts, route (cutting IPv4 without DF forwarded in clear or
 * decrypted to fit its port, and what the host's port cannot take whole),
 * and transmit; then cut the packets set aside
 * as too big for their tunnel (IPv4 without DF) and send their fragments
 * the same way, and put the ICMP errors the gateway made about the
 * burst's packets through the outbound policy.
 * ESP and AH fragments to the gateway wait for their packet (reass.c), as
 * do fragments bound for transport mode SAs, whose datagrams take the
 * outbound path once whole, after the burst.
 * Run to completion; no locks, no allocation but mbufs (ICMP errors,
 * fragments); backs off with short sleeps when idle unless busy polling. */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_udp.h>

#include "dp.h"
#include "dp_pkt.h"
#include "dp_policy.h"
#include "dp_rcu.h"
#include "esp.h"
#include "frag.h"
#include "frag_track.h"
#include "icmp_err.h"
#include "natt.h"
#include "reass.h"
#include "tunnel_pmtu.h"

struct dp_ctx *dp_g; /* set once by dpsecd (or a test harness) before workers start */

#define IKE_PORT 500
#define DP_SA_PREFETCH_MIN 64 /* fewer SAs stay in cache: no prefetch pass */
#define IKE_NATT_PORT DPSEC_NATT_PORT

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

static void sort_init(struct dp_sort *s, uint16_t n_out, bool may_cut)
{
	s->n_out = n_out;
	s->n_clear_in = s->n_esp = s->n_fwd = s->n_host = 0;
	s->may_cut = may_cut;
}

struct dp_txq {
	uint16_t n;
	struct rte_mbuf *m[DP_BURST];
};

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

static bool is_nd(struct rte_mbuf *m, const struct dp_meta *md)
{
	const uint8_t *icmp;

	if (md->family != DPSEC_AF_INET6 || md->l4proto != IPPROTO_ICMPV6 ||
	    m->pkt_len < md->l3_len + 4u)
		return false;
	icmp = rte_pktmbuf_mtod_offset(m, const uint8_t *, md->l3_len);
	return icmp[0] >= 133 && icmp[0] <= 137; /* RS, RA, NS, NA, redirect */
}

static void to_control(struct dp_worker *w, struct rte_mbuf *m)
{
	if (rte_ring_enqueue(dp_g->control, m) != 0) {
		dp_drop(w, m, DP_DROP_control_full);
		return;
	}
	w->ctr->c[DP_C_control_packets]++;
}

/* Link layer: our MAC or a group address; ARP to the manager; IP stripped
 * of its Ethernet header, meta.family set from the EtherType. Returns false
 * when the packet was consumed. */
static bool rx_l2(struct dp_worker *w, const struct dp_port *port, struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	uint16_t type;

	if (m->data_len < sizeof(*eth)) {
		dp_drop(w, m, DP_DROP_unsupported_l2);
		return false;
	}
	if (port->role != DP_ROLE_HOST && rte_is_unicast_ether_addr(&eth->dst_addr) &&
	    !rte_is_same_ether_addr(&eth->dst_addr, &port->mac)) {
		dp_drop(w, m, DP_DROP_not_for_us);
		return false;
	}
	type = rte_be_to_cpu_16(eth->ether_type);
	if (type == RTE_ETHER_TYPE_ARP && port->role != DP_ROLE_HOST) {
		dp_meta(m)->family = DPSEC_AF_NONE;
		dp_meta(m)->flags = 0; /* the buffer's last packet's are there */
		to_control(w, m);
		return false;
	}
	if (type != RTE_ETHER_TYPE_IPV4 && type != RTE_ETHER_TYPE_IPV6) {
		dp_drop(w, m, DP_DROP_unsupported_l2);
		return false;
	}
	dp_meta(m)->family = type == RTE_ETHER_TYPE_IPV6 ? DPSEC_AF_INET6 : DPSEC_AF_INET;
	rte_pktmbuf_adj(m, sizeof(*eth));
	return true;
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

/* A fragment of ESP or AH to us: held until its packet is whole, which
 * then joins the burst's ESP. */
static void reassemble(struct dp_worker *w, struct rte_mbuf *m, struct dp_sort *s)
{
	m = dp_reass_take(w, m, w->round_tsc);
	if (m != NULL)
		s->esp[s->n_esp++] = m;
}

/* UDP on a NAT-T port to us, whole, sorted by what it carries. */
static void sort_natt(struct dp_worker *w, struct rte_mbuf *m, struct dp_meta *md,
		      struct dp_sort *s)
{
	switch (dp_natt_classify(w, m, md)) {
	case DP_NATT_ESP:
		s->esp[s->n_esp++] = m;
		return;
	case DP_NATT_DONE:
		return;
	default:
		s->clear_in[s->n_clear_in++] = m;
		return;
	}
}

/* A packet to one of the gateway's addresses: ESP (plain or in UDP) to the
 * inbound SAs, the rest to the clear path (IKE among it); a UDP datagram
 * in fragments once whole, if made whole here. */
static void sort_local(struct dp_worker *w, struct rte_mbuf *m, struct dp_meta *md,
		       struct dp_sort *s)
{
	if (md->l4proto == IPPROTO_UDP && (md->flags & DP_M_FRAG)) {
		if (dp_reass_udp_fragment(w, &m, w->round_tsc) == DP_UDP_FRAG_HOST) {
			s->clear_in[s->n_clear_in++] = m;
			return;
		}
		if (m == NULL)
			return;
		md = dp_meta(m);
	}
	if (dp_natt_to_port(&dp_g->sas, md)) { /* IKE, keepalive or ESP in UDP */
		sort_natt(w, m, md, s);
		return;
	}
	if (md->l4proto != IPPROTO_ESP && md->l4proto != IPPROTO_AH)
		s->clear_in[s->n_clear_in++] = m;
	else if (md->flags & DP_M_FRAG)
		reassemble(w, m, s);
	else
		s->esp[s->n_esp++] = m;
}

/* Sorts one received packet into its path. */
static void rx_sort(struct dp_worker *w, uint16_t in_port, struct rte_mbuf *m, struct dp_sort *s)
{
	const struct dp_port *port = &dp_g->ports[in_port];
	struct dp_meta *md = dp_meta(m);
	int rc;

	w->ctr->c[DP_C_rx_packets]++;
	if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0) {
		dp_drop(w, m, DP_DROP_no_room);
		return;
	}
	md->in_port = (uint8_t)in_port; /* before rx_l2: ARP goes to the manager with it */
	if (!rx_l2(w, port, m))
		return;
	if ((rc = dp_parse_ip_as(m, md, md->family)) != 0) {
		dp_drop(w, m, rc);
		return;
	}
	if (port->role == DP_ROLE_HOST) {
		s->out[s->n_out++] = m;
	} else if (is_nd(m, md)) {
		to_control(w, m);
	} else if (dp_local_addr(dp_g, md->family, dp_meta_dst(md))) {
		sort_local(w, m, md, s);
	} else if (port->role == DP_ROLE_UNPROTECTED) {
		s->clear_in[s->n_clear_in++] = m;
	} else {
		s->out[s->n_out++] = m;
	}
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

/* An ICMP error the gateway made (or NULL: none) is kept to go through the
 * outbound policy after the burst. */
static void keep_error(struct dp_worker *w, struct rte_mbuf *reply)
{
	if (reply != NULL)
		w->errs[w->n_errs++] = reply; /* at most one per packet of a burst: room for all */
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
		to_control(w, m);
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
	if (r->sa_out >= dp_g->sas.capacity)
		return NULL;
	return __atomic_load_n(&dp_g->sas.sa[r->sa_out], __ATOMIC_ACQUIRE);
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

		slot[i] = md->rule < pol->n_rules ? pol->rules[md->rule].sa_out : DP_SA_NONE;
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
static void policy_out(struct dp_worker *w, struct dp_sort *s)
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
static void policy_in_clear(struct dp_worker *w, struct dp_sort *s)
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

/* dpsec does not route multicast (the host's MLD reports, router
 * solicitations, mDNS... included). */
static bool is_multicast(const struct dp_meta *md)
{
	if (md->family == DPSEC_AF_INET6)
		return md->key.k6.dst[0] == 0xff;
	return (md->key.k4.dst[0] & 0xf0) == 0xe0;
}

/* Asks the manager for addr's MAC on port, handing it m (or NULL) to hold
 * until then; false when the queue is full (asked already). */
static bool request_resolution(uint16_t port, const struct dp_meta *md, const uint8_t *addr,
			       struct rte_mbuf *m)
{
	struct dp_resolve_req r = { .port = port, .family = md->family, .m = m };

	memcpy(r.addr, addr, md->family == DPSEC_AF_INET6 ? 16 : 4);
	return rte_ring_enqueue_elem(dp_g->resolve, &r, sizeof(r)) == 0;
}

/* The last next hop a burst resolved, so that a run of packets to the same
 * neighbour looks it up once (valid within one burst only). */
struct dp_nh_cache {
	const struct dp_nexthop *nh;
	uint8_t family;
	uint8_t addr[16];
	struct rte_ether_addr mac;
};

/* Compares an address of family with the cached one without a variable
 * length copy (which would stall the loads that follow it). */
static bool nh_addr_equal(const uint8_t *a, const uint8_t *cached, uint8_t family)
{
	uint64_t x[2], y[2];
	uint32_t x4, y4;

	if (family != DPSEC_AF_INET6) {
		memcpy(&x4, a, 4);
		memcpy(&y4, cached, 4);
		return x4 == y4;
	}
	memcpy(x, a, 16);
	memcpy(y, cached, 16);
	return x[0] == y[0] && x[1] == y[1];
}

static bool neighbour_mac(struct dp_nh_cache *c, const struct dp_nexthop *nh, const uint8_t *addr,
			  uint8_t family, struct rte_ether_addr *mac)
{
	if (c->nh == nh && c->family == family && nh_addr_equal(addr, c->addr, family)) {
		*mac = c->mac;
		return true;
	}
	if (!dp_neigh_lookup(&dp_g->routes, nh->port, family, addr, mac))
		return false;
	c->nh = nh;
	c->family = family;
	memcpy(c->addr, addr, family == DPSEC_AF_INET6 ? 16 : 4);
	c->mac = *mac;
	return true;
}

static inline void tx_flush_port(struct dp_worker *w, struct dp_txq *txq, uint16_t p)
{
	uint16_t n = txq[p].n, sent;

	if (n == 0)
		return;
	sent = rte_eth_tx_burst(dp_g->ports[p].port_id, w->index, txq[p].m, n);
	w->ctr->c[(int)p == dp_g->host_port ? DP_C_host_packets : DP_C_fwd_packets] += sent;
	for (uint16_t i = sent; i < n; i++)
		dp_drop(w, txq[p].m[i], DP_DROP_tx_full);
	txq[p].n = 0;
}

static void tx_flush(struct dp_worker *w, struct dp_txq *txq)
{
	for (uint16_t p = 0; p < dp_g->n_ports; p++)
		tx_flush_port(w, txq, p);
}

/* m (IPv4 without DF; IPv6 only for the host) is cut to fit port p, its
 * fragments sent in its place, in order; the batch is sent before them if
 * they would not fit it, and with them, leaving room for the rest of the
 * burst. */
static void cut_to_port(struct dp_worker *w, struct rte_mbuf *m, uint16_t p,
			const struct rte_ether_addr *mac, struct dp_txq *txq)
{
	const struct dp_port *port = &dp_g->ports[p];
	struct rte_mbuf *frags[DP_FRAG_MAX];
	uint8_t family = dp_meta(m)->family;
	uint16_t n;

	if (txq[p].n + DP_FRAG_MAX > DP_BURST)
		tx_flush_port(w, txq, p);
	n = family == DPSEC_AF_INET6 ? dp_frag6_split(w, m, port->mtu, frags)
				     : dp_frag4_split(w, m, port->mtu, DP_FRAG_TO_FIT_PORT, frags);
	for (uint16_t i = 0; i < n; i++) {
		dp_push_eth(frags[i], mac, &port->mac, family);
		txq[p].m[txq[p].n++] = frags[i];
	}
	tx_flush_port(w, txq, p);
}

/* m does not fit port p it is routed to: cut to its MTU (IPv4 without DF),
 * or dropped (the ICMP error about it kept). Out of line: the routing loop
 * keeps its registers and stack frame. */
static __rte_noinline void too_big_for_port(struct dp_worker *w, struct rte_mbuf *m, uint16_t p,
					    const struct rte_ether_addr *mac, struct dp_txq *txq)
{
	struct rte_mbuf *reply;

	if (dp_port_fits(w, m, dp_g->ports[p].mtu, &reply) == DP_FIT_CUT)
		cut_to_port(w, m, p, mac, txq);
	keep_error(w, reply);
}

/* m has no route: dropped, and its source told (ICMP destination
 * unreachable). Out of line, as too_big_for_port. */
static __rte_noinline void no_route(struct dp_worker *w, struct rte_mbuf *m)
{
	keep_error(w, dp_icmp_no_route(w, m));
	dp_drop(w, m, DP_DROP_no_route);
}

/* m's next hop (addr on port) has no MAC: asked for, and m handed to the
 * manager to hold until it answers; dropped when it failed to answer (its
 * source told: host unreachable), or when m would not fit the port as it
 * is. Out of line, as no_route. */
static __rte_noinline void no_neighbour(struct dp_worker *w, struct rte_mbuf *m, uint16_t port,
					const uint8_t *addr)
{
	const struct dp_meta *md = dp_meta(m);
	bool failed = dp_neigh_failed(&dp_g->routes, port, md->family, addr);
	bool to_hold = !failed && m->pkt_len <= dp_g->ports[port].mtu;

	if (request_resolution(port, md, addr, to_hold ? m : NULL) && to_hold)
		return;
	if (failed)
		keep_error(w, dp_icmp_host_unreachable(w, m));
	dp_drop(w, m, DP_DROP_no_neighbour);
}

/* Route lookup, neighbour, MTU, Ethernet header, into the port's tx batch. */
static void route_one(struct dp_worker *w, struct rte_mbuf *m, struct dp_txq *txq,
		      struct dp_nh_cache *nc)
{
	struct dp_meta *md = dp_meta(m);
	const uint8_t *dst = dp_meta_dst(md);
	const struct dp_nexthop *nh = dp_route_lookup(&dp_g->routes, md->family, dst);
	struct rte_ether_addr mac;
	const struct dp_port *port;

	if (is_multicast(md)) {
		dp_drop(w, m, DP_DROP_multicast);
		return;
	}
	if (unlikely(nh == NULL)) {
		no_route(w, m);
		return;
	}
	port = &dp_g->ports[nh->port];
	if (!neighbour_mac(nc, nh, dp_nexthop_addr(nh, dst), md->family, &mac)) {
		no_neighbour(w, m, nh->port, dp_nexthop_addr(nh, dst));
		return;
	}
	if (unlikely(m->pkt_len > port->mtu)) {
		too_big_for_port(w, m, nh->port, &mac, txq);
		return;
	}
	dp_push_eth(m, &mac, &port->mac, md->family);
	txq[nh->port].m[txq[nh->port].n++] = m;
}

/* m, for the host, is longer than the exception port's MTU (made whole
 * from fragments, then decrypted): cut to fit it, the host's stack, its
 * destination, making it whole again (IPv6 too: no link lies beyond);
 * IPv4 with DF is dropped (too_big). Sent whole, the TAP would refuse it
 * and the rest of its batch. Out of line, as too_big_for_port. */
static __rte_noinline void too_big_for_host(struct dp_worker *w, struct rte_mbuf *m,
					    struct dp_txq *txq)
{
	uint16_t p = (uint16_t)dp_g->host_port;

	cut_to_port(w, m, p, &dp_g->ports[p].host_mac, txq);
}

static void to_host(struct dp_worker *w, struct rte_mbuf *m, struct dp_txq *txq)
{
	const struct dp_port *hp = &dp_g->ports[dp_g->host_port];

	if (unlikely(m->pkt_len > hp->mtu)) {
		too_big_for_host(w, m, txq);
		return;
	}
	dp_push_eth(m, &hp->host_mac, &hp->mac, dp_meta(m)->family);
	txq[dp_g->host_port].m[txq[dp_g->host_port].n++] = m;
}

/* Decrypted packets to their destination, then everything routed and sent. */
static void send_sorted(struct dp_worker *w, struct dp_sort *s, struct dp_txq *txq)
{
	struct dp_nh_cache nc = { .nh = NULL };

	for (uint16_t i = 0; i < s->n_esp; i++)
		deliver(w, s->esp[i], s);
	for (uint16_t i = 0; i < s->n_fwd; i++)
		route_one(w, s->fwd[i], txq, &nc);
	for (uint16_t i = 0; i < s->n_host; i++)
		to_host(w, s->host[i], txq);
	tx_flush(w, txq);
}

/* Fragments through the outbound path as packets of their own: policy,
 * SA, encapsulation, route. */
static void send_fragments(struct dp_worker *w, struct dp_sort *f, struct dp_txq *txq)
{
	policy_out(w, f);
	send_sorted(w, f, txq);
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
	policy_out(w, &e);
	send_sorted(w, &e, txq);
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
			send_sorted(w, &f, txq);
			sort_init(&f, 0, false);
		}
		f.n_fwd += dp_frag6_split(w, cut[i], dp_meta(cut[i])->cut_to, f.fwd + f.n_fwd);
	}
	send_sorted(w, &f, txq);
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
	policy_out(w, &d);
	n_cut = take_cut_after_esp(&d, cut);
	send_sorted(w, &d, txq);
	if (n_cut > 0)
		send_cut_after_esp(w, cut, n_cut, txq);
}

/* A sorted burst routed and sent, then the datagrams its fragments made
 * whole, then the packets they set aside cut and their fragments sent,
 * then the errors they made. */
static void send_all(struct dp_worker *w, struct dp_sort *s, struct dp_txq *txq)
{
	send_sorted(w, s, txq);
	if (unlikely(w->n_whole > 0))
		send_whole(w, txq);
	if (unlikely(w->n_cut > 0))
		send_cut(w, txq);
	if (unlikely(w->n_errs > 0))
		send_errors(w, txq);
}

static void process_burst(struct dp_worker *w, uint16_t in_port, struct rte_mbuf **mb, uint16_t n,
			  struct dp_txq *txq)
{
	struct dp_sort s;

	sort_init(&s, 0, true);
	for (uint16_t i = 0; i < n; i++)
		rx_sort(w, in_port, mb[i], &s);
	policy_out(w, &s);
	policy_in_clear(w, &s);
	s.n_esp = dp_esp_in(w, s.esp, s.n_esp);
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
	policy_out(w, &s);
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
				process_burst(w, port, mb, n, txq);
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
