/* worker_send.c - the worker's last stage: each packet to route looked up
 * (route, next hop's MAC, port MTU), its Ethernet header written and
 * batched per port; those for the host to the exception port; the batches
 * transmitted. Packets too big for their port are cut (IPv4 without DF,
 * and anything for the host) or refused with an ICMP error, those without
 * a route refused, those whose next hop has no MAC handed to the manager
 * to hold while it asks (neigh.c). */
#include <string.h>

#include <rte_ethdev.h>

#include "dp_pkt.h"
#include "frag.h"
#include "icmp_err.h"
#include "worker.h"

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
	if (!dp_neigh_use(&dp_g->routes, nh->port, family, addr, mac))
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

/* Whether m, decrypted, may be routed: sort's tests of received packets
 * from outside (worker_sort.c) applied to the packets tunnels carry, the
 * gateway's own addresses as a source included (a peer whose selectors
 * allow it would speak for the gateway), and no group destination;
 * dropped if not. Out of line: only those route_one's screen singles
 * out come here. */
static __rte_noinline bool inner_routable(struct dp_worker *w, struct rte_mbuf *m,
					  const struct dp_meta *md)
{
	int rc = dp_meta_to_group(md) ? DP_DROP_multicast : dp_worker_odd_address_drop(md, true);

	if (rc == 0)
		return true;
	dp_drop(w, m, rc);
	return false;
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

	if (unlikely(md->flags & DP_M_FROM_SA) &&
	    unlikely(dp_meta_to_group(md) || dp_worker_odd_address(md, true)) &&
	    !inner_routable(w, m, md))
		return;
	if (unlikely(nh == NULL)) {
		no_route(w, m);
		return;
	}
	if (unlikely(dp_nexthop_broadcast(nh, dst))) { /* no error about it either */
		dp_drop(w, m, DP_DROP_directed_broadcast);
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

/* The packets to route and those for the host sent. */
void dp_worker_send_sorted(struct dp_worker *w, struct dp_sort *s, struct dp_txq *txq)
{
	struct dp_nh_cache nc = { .nh = NULL };

	for (uint16_t i = 0; i < s->n_fwd; i++)
		route_one(w, s->fwd[i], txq, &nc);
	for (uint16_t i = 0; i < s->n_host; i++)
		to_host(w, s->host[i], txq);
	tx_flush(w, txq);
}
