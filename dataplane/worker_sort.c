/* worker_sort.c - the worker's first stage: each received packet checked
 * at the link layer (our MAC or a group address; ARP to the manager) and
 * parsed, then sorted by its path: outbound (from the protected side or
 * the host), inbound clear, ESP/AH to one of the gateway's addresses (its
 * fragments made whole first), or the manager (ARP, ND); packets to a
 * group (multicast, broadcast) not for the gateway are dropped, never
 * routed, and so are unicast packets that came in a link-layer broadcast
 * or multicast frame, packets from martian sources, and packets that must
 * stay on their link. */
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dp_pkt.h"
#include "natt.h"
#include "reass.h"
#include "worker.h"

/* family is the caller's copy of md->family: the compiler read it with
 * l4proto as one 16-bit load, which the two byte stores just made apart
 * (rx_l2's and the parse's) cannot forward to, a stall on every packet. */
static bool is_nd(struct rte_mbuf *m, const struct dp_meta *md, uint8_t family)
{
	const uint8_t *icmp;

	if (family != DPSEC_AF_INET6 || md->l4proto != IPPROTO_ICMPV6 ||
	    m->pkt_len < md->l3_len + 4u)
		return false;
	icmp = rte_pktmbuf_mtod_offset(m, const uint8_t *, md->l3_len);
	return icmp[0] >= 133 && icmp[0] <= 137; /* RS, RA, NS, NA, redirect */
}

void dp_worker_to_control(struct dp_worker *w, struct rte_mbuf *m)
{
	if (rte_ring_enqueue(dp_g->control, m) != 0) {
		dp_drop(w, m, DP_DROP_control_full);
		return;
	}
	w->ctr->c[DP_C_control_packets]++;
}

/* Link layer: our MAC or a group address (*to_group set); ARP to the
 * manager; IP stripped of its Ethernet header, meta.family set from the
 * EtherType. Returns false when the packet was consumed. */
static bool rx_l2(struct dp_worker *w, const struct dp_port *port, struct rte_mbuf *m,
		  bool *to_group)
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
	*to_group = rte_is_multicast_ether_addr(&eth->dst_addr); /* broadcast too */
	type = rte_be_to_cpu_16(eth->ether_type);
	if (type == RTE_ETHER_TYPE_ARP && port->role != DP_ROLE_HOST) {
		dp_meta(m)->family = DPSEC_AF_NONE;
		dp_meta(m)->flags = 0; /* the buffer's last packet's are there */
		dp_worker_to_control(w, m);
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

/* A source no host has, or one of our own from outside; not for us, an
 * address that keeps it on its link. */
__rte_noinline int dp_worker_odd_address_drop(const struct dp_meta *md, bool outside)
{
	if (dp_meta_bad_source(md) || (outside && dp_local_addr(dp_g, md->family, dp_meta_src(md))))
		return DP_DROP_martian_source;
	if (dp_meta_stays_on_link(md) &&
	    !(outside && dp_local_addr(dp_g, md->family, dp_meta_dst(md))))
		return DP_DROP_stays_on_link;
	return 0;
}

/* Sorts one received packet into its path. */
static void rx_sort(struct dp_worker *w, uint16_t in_port, struct rte_mbuf *m, struct dp_sort *s)
{
	const struct dp_port *port = &dp_g->ports[in_port];
	struct dp_meta *md = dp_meta(m);
	bool l2_group;
	uint8_t family;
	int rc;

	w->ctr->c[DP_C_rx_packets]++;
	if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0) {
		dp_drop(w, m, DP_DROP_no_room);
		return;
	}
	md->in_port = (uint8_t)in_port; /* before rx_l2: ARP goes to the manager with it */
	if (!rx_l2(w, port, m, &l2_group))
		return;
	family = md->family;
	if ((rc = dp_parse_ip_as(m, md, family)) != 0) {
		dp_drop(w, m, rc);
		return;
	}
	if (port->role != DP_ROLE_HOST && is_nd(m, md, family)) {
		dp_worker_to_control(w, m);
	} else if (dp_meta_to_group(md)) { /* not routed: no policy, no TTL, no error */
		dp_drop(w, m, DP_DROP_multicast);
	} else if (unlikely(l2_group) && port->role != DP_ROLE_HOST) {
		dp_drop(w, m, DP_DROP_l2_group_unicast); /* a unicast packet sent to all */
	} else if (unlikely(dp_worker_odd_address(md, port->role != DP_ROLE_HOST)) &&
		   (rc = dp_worker_odd_address_drop(md, port->role != DP_ROLE_HOST)) != 0) {
		dp_drop(w, m, rc);
	} else if (port->role != DP_ROLE_HOST && dp_local_addr(dp_g, md->family, dp_meta_dst(md))) {
		sort_local(w, m, md, s);
	} else if (port->role == DP_ROLE_UNPROTECTED) {
		s->clear_in[s->n_clear_in++] = m;
	} else {
		s->out[s->n_out++] = m;
	}
}

void dp_worker_sort_burst(struct dp_worker *w, uint16_t in_port, struct rte_mbuf **mb, uint16_t n,
			  struct dp_sort *s)
{
	for (uint16_t i = 0; i < n; i++)
		rx_sort(w, in_port, mb[i], s);
}
