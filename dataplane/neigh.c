/* neigh.c - ARP and IPv6 neighbour discovery for the gateway's ports, run
 * by the manager lcore. Replies and requests leave through the inject ring
 * (worker 0 transmits them). Packets for a next hop being asked for wait
 * here (HOLD_PER_NEXT_HOP of them) and go back to worker 0 to be routed
 * again (the reroute ring) when it answers. A next hop that leaves
 * RESOLVE_TRIES requests a second apart unanswered is marked failed, so
 * that workers answer packets for it with host unreachable (RFC 1812
 * §5.2.7.1), until it answers; the packets that waited for it go back
 * too, and draw the same. One asked for or failed that no packet wanted
 * for UNWANTED_FORGET_S is forgotten, failure and all. A learnt neighbour
 * that said nothing for dataplane.neighbour_reachable_seconds is stale; if
 * a packet went to it since it was last heard from (the workers mark it,
 * dp_neigh_use) it is asked again by unicast (RFC 1122 §2.3.2.1, RFC 4861
 * §7.3's probe, only for neighbours in use, §7.3.3), and forgotten when
 * PROBE_TRIES such requests go unanswered: its next packet asks the whole
 * link again (a next hop replaced, or gone). One no packet went to is not
 * asked, and is forgotten after twice that silence: the table keeps
 * neighbours in use, whatever has spoken on the link. What the manager
 * believes of the ARP and ND packets it receives is here (arp_learn,
 * nd_solicited, nd_advertised); their checks and the frames it sends are
 * neigh_wire.c's; the gateway's own addresses (tested and announced at
 * start and when a link comes back, defended against another MAC claiming
 * one) neigh_own.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_random.h>

#include "dp_mgr.h"
#include "dp_pkt.h"
#include "dp_rcu.h"
#include "neigh.h"
#include "neigh_own.h"
#include "neigh_wire.h"

#define RESOLVE_SLOTS 64
#define RESOLVE_TRIES 3 /* requests a second apart unanswered: the next hop failed */
#define PROBE_TRIES 3   /* unicast requests a second apart unanswered: forgotten */
#define HOLD_PER_NEXT_HOP 8 /* packets held while their next hop is asked for */
#define UNWANTED_FORGET_S 60 /* a next hop asked for or failed, no packet for it this long:
			      * forgotten (Linux's gc_stale_time) */
#define ARP_LOCK_S 1 /* an ARP answer naming another MAC this soon after the last word
		      * from a neighbour is not believed (Linux's locktime) */
#define ANYCAST_WAITING 16 /* anycast answers waiting for their moment */

/* A next hop being resolved: its last request, how many went unanswered,
 * when a packet last wanted it, and the packets waiting for its MAC. */
struct resolve_slot {
	struct dp_resolve_req req; /* req.m unused */
	uint64_t tsc;
	uint64_t wanted_tsc;
	uint32_t tries;
	uint32_t n_held;
	struct rte_mbuf *held[HOLD_PER_NEXT_HOP];
};

/* A learnt neighbour's reachability: when it last said something, and
 * the unicast requests sent since it fell silent. */
struct neigh_reach {
	uint64_t heard_tsc;
	uint64_t probe_tsc;
	uint32_t probes;
};

/* An advertisement for a Subnet-Router anycast address, built and
 * waiting until due_tsc (m NULL: the slot is free). */
struct anycast_answer {
	struct rte_mbuf *m;
	uint16_t port;
	uint64_t due_tsc;
};

/* The manager's side of resolution (dp_ctx.neigh; manager lcore only). */
struct dp_neigh_state {
	struct resolve_slot resolve[RESOLVE_SLOTS];
	struct neigh_reach reach[DP_MAX_NEIGHBOURS]; /* by position in the neighbour table */
	struct anycast_answer anycast[ANYCAST_WAITING];
	uint32_t n_anycast; /* slots in use */
	bool changed; /* an input or a request since the last publication */
	struct dp_neigh_own own;
};

int dp_neigh_init(struct dp_ctx *dp)
{
	dp->neigh = calloc(1, sizeof(*dp->neigh));
	return dp->neigh != NULL ? 0 : -1;
}

void dp_neigh_fini(struct dp_ctx *dp)
{
	for (int i = 0; dp->neigh != NULL && i < RESOLVE_SLOTS; i++)
		for (uint32_t k = 0; k < dp->neigh->resolve[i].n_held; k++)
			rte_pktmbuf_free(dp->neigh->resolve[i].held[k]);
	for (int i = 0; dp->neigh != NULL && i < ANYCAST_WAITING; i++)
		rte_pktmbuf_free(dp->neigh->anycast[i].m);
	free(dp->neigh);
	dp->neigh = NULL;
}

static bool prefix_contains(const struct dpsec_prefix *p, uint8_t family, const uint8_t *a)
{
	uint32_t bits = p->len;

	if (p->addr.family != family)
		return false;
	for (uint32_t i = 0; bits > 0; i++, bits = bits >= 8 ? bits - 8 : 0) {
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

		if ((p->addr.a[i] ^ a[i]) & mask)
			return false;
	}
	return true;
}

/* The port's own address for family that is on-link with a, or NULL. */
static const struct dpsec_prefix *port_addr_for(const struct dp_ctx *dp, uint16_t port,
						uint8_t family, const uint8_t *a)
{
	const struct cfg_port *c = port < dp->cfg->n_ports ? &dp->cfg->ports[port] : NULL;

	for (uint32_t i = 0; c != NULL && i < c->n_addrs; i++)
		if (prefix_contains(&c->addrs[i], family, a))
			return &c->addrs[i];
	return NULL;
}

static bool port_owns(const struct dp_ctx *dp, uint16_t port, uint8_t family, const uint8_t *a)
{
	return dp_neigh_own_address(dp, port, family, a) != NULL;
}

static bool same_next_hop(const struct dp_resolve_req *a, const struct dp_resolve_req *b)
{
	return a->port == b->port && a->family == b->family &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/* The slot request r is being resolved in, or NULL. */
static struct resolve_slot *resolving(const struct dp_ctx *dp,
				      const struct dp_resolve_req *r)
{
	for (int i = 0; i < RESOLVE_SLOTS; i++)
		if (dp->neigh->resolve[i].tries > 0 && same_next_hop(&dp->neigh->resolve[i].req, r))
			return &dp->neigh->resolve[i];
	return NULL;
}

/* The slot addr on port is being asked for in (a request of ours is
 * out), or NULL. */
static struct resolve_slot *asked_for(const struct dp_ctx *dp, uint16_t port, uint8_t family,
				      const uint8_t *addr)
{
	struct dp_resolve_req r = { .port = port, .family = family };

	memcpy(r.addr, addr, family == DPSEC_AF_INET6 ? 16 : 4);
	return resolving(dp, &r);
}

/* Frees the packets s holds: s is taken over by another next hop. */
static void drop_held(struct dp_ctx *dp, struct resolve_slot *s)
{
	for (uint32_t i = 0; i < s->n_held; i++)
		rte_pktmbuf_free(s->held[i]);
	dp->mgr_ctr.c[DP_C_neigh_held_dropped] += s->n_held;
	s->n_held = 0;
}

/* The slot of request r: its own, or the one asked longest ago, taken
 * over: its next hop's packets freed and its failure forgotten, as if
 * unwanted (forget_unwanted). */
static struct resolve_slot *resolve_slot_of(struct dp_ctx *dp, const struct dp_resolve_req *r)
{
	struct resolve_slot *s = resolving(dp, r), *oldest = &dp->neigh->resolve[0];

	if (s != NULL)
		return s;
	for (int i = 1; i < RESOLVE_SLOTS; i++)
		if (dp->neigh->resolve[i].tsc < oldest->tsc)
			oldest = &dp->neigh->resolve[i];
	drop_held(dp, oldest);
	if (oldest->tries > 0)
		dp_neigh_mark_failed(&dp->routes, oldest->req.port, oldest->req.family,
				     oldest->req.addr, false);
	memset(oldest, 0, sizeof(*oldest));
	oldest->req.port = r->port;
	oldest->req.family = r->family;
	memcpy(oldest->req.addr, r->addr, sizeof(r->addr));
	return oldest;
}

/* m waits in s for its next hop's MAC; beyond HOLD_PER_NEXT_HOP it is
 * freed (the first packets of a flow are the ones worth keeping). */
static void hold(struct dp_ctx *dp, struct resolve_slot *s, struct rte_mbuf *m)
{
	if (s->n_held == HOLD_PER_NEXT_HOP) {
		rte_pktmbuf_free(m);
		dp->mgr_ctr.c[DP_C_neigh_held_dropped]++;
		return;
	}
	s->held[s->n_held++] = m;
	dp->mgr_ctr.c[DP_C_neigh_held]++;
}

/* A held packet goes back to worker 0 to be routed again, counted under
 * counter (sent or unanswered); freed when the ring is full. */
static void reroute(struct dp_ctx *dp, struct rte_mbuf *m, int counter)
{
	if (rte_ring_enqueue(dp->reroute, m) == 0) {
		dp->mgr_ctr.c[counter]++;
		return;
	}
	rte_pktmbuf_free(m);
	dp->mgr_ctr.c[DP_C_neigh_held_dropped]++;
}

/* s's next hop answered, or failed: its packets are routed again, in the
 * order they came (to their next hop, or to host unreachable). */
static void return_held(struct dp_ctx *dp, struct resolve_slot *s, int counter)
{
	for (uint32_t i = 0; i < s->n_held; i++)
		reroute(dp, s->held[i], counter);
	s->n_held = 0;
}

/* addr on port answered with mac (at TSC now): learnt and heard from,
 * its failure and requests forgotten; a configured neighbour stays as
 * configured. */
static void learn(struct dp_ctx *dp, uint16_t port, uint8_t family, const uint8_t *addr,
		  const struct rte_ether_addr *mac, uint64_t now)
{
	struct resolve_slot *s;
	int pos;

	if (dp_neigh_known(&dp->routes, port, family, addr) == DP_NEIGH_PERMANENT)
		return;
	pos = dp_neigh_set(&dp->routes, port, family, addr, mac, false);
	if (pos < 0) {
		dp->mgr_ctr.c[DP_C_neigh_table_full]++;
		return;
	}
	dp->neigh->reach[pos] = (struct neigh_reach){ .heard_tsc = now };
	dp_neigh_clear_used(&dp->routes, pos);
	dp_neigh_mark_failed(&dp->routes, port, family, addr, false);
	if ((s = asked_for(dp, port, family, addr)) != NULL) {
		return_held(dp, s, DP_C_neigh_held_sent);
		memset(s, 0, sizeof(*s));
	}
}

/* Whether an ARP packet's sender, a learnt neighbour (held at pos) last
 * heard from less than ARP_LOCK_S ago, now names another MAC in a reply
 * (or a request for someone else): the second of two answers to one
 * request (a proxy answering beside the owner, two hosts set to one
 * address). The first stays, as in Linux, rather than whichever came
 * last; a gratuitous ARP (a failover) or a request to us from the new MAC
 * moves the neighbour at once. */
static bool arp_second_answer(const struct dp_ctx *dp, const struct rte_arp_ipv4 *d,
			      enum dp_neigh_kind kind, const struct rte_ether_addr *held,
			      int32_t pos, bool request_to_us, uint64_t now)
{
	return kind == DP_NEIGH_LEARNT && !request_to_us && d->arp_sip != d->arp_tip &&
	       !rte_is_same_ether_addr(held, &d->arp_sha) &&
	       now - dp->neigh->reach[pos].heard_tsc < ARP_LOCK_S * rte_get_tsc_hz();
}

/* What an ARP packet teaches about its sender (RFC 826's merge): a sender
 * already known is updated whatever the packet (a gratuitous ARP after a
 * failover, say), unless it is a second answer (counted); an unknown one
 * is learnt from a request to us, or from a reply while we ask for it. A
 * reply nobody asked for is not believed (counted): anyone on the link
 * could otherwise fill the table or take a next hop's place. */
static void arp_learn(struct dp_ctx *dp, uint16_t port, const struct rte_arp_ipv4 *d, uint16_t op,
		      bool for_us, uint64_t now)
{
	const uint8_t *sip = (const uint8_t *)&d->arp_sip;
	bool request_to_us = op == RTE_ARP_OP_REQUEST && for_us;
	enum dp_neigh_kind kind;
	struct rte_ether_addr held;
	int32_t pos;

	if (d->arp_sip == 0 || port_addr_for(dp, port, DPSEC_AF_INET, sip) == NULL)
		return;
	kind = dp_neigh_entry(&dp->routes, port, DPSEC_AF_INET, sip, &held, &pos);
	if (arp_second_answer(dp, d, kind, &held, pos, request_to_us, now))
		dp->mgr_ctr.c[DP_C_neigh_second_answers]++;
	else if (kind != DP_NEIGH_UNKNOWN || request_to_us ||
		 (op == RTE_ARP_OP_REPLY && asked_for(dp, port, DPSEC_AF_INET, sip)))
		learn(dp, port, DPSEC_AF_INET, sip, &d->arp_sha, now);
	else if (op == RTE_ARP_OP_REPLY)
		dp->mgr_ctr.c[DP_C_neigh_unsolicited]++;
}

static void arp_input(struct dp_ctx *dp, struct rte_mbuf *m, uint16_t port, uint64_t now)
{
	struct rte_arp_hdr *arp = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *,
							  sizeof(struct rte_ether_hdr));
	const struct rte_arp_ipv4 *d = &arp->arp_data;
	uint16_t op;
	bool for_us;

	if (!dp_arp_valid(m, arp)) {
		dp->mgr_ctr.c[DP_C_neigh_invalid]++;
		rte_pktmbuf_free(m);
		return;
	}
	if (dp_neigh_conflicts(dp, &dp->neigh->own, port, DPSEC_AF_INET,
			       (const uint8_t *)&d->arp_sip, &d->arp_sha, now)) {
		rte_pktmbuf_free(m);
		return;
	}
	op = rte_be_to_cpu_16(arp->arp_opcode);
	for_us = port_owns(dp, port, DPSEC_AF_INET, (const uint8_t *)&d->arp_tip);
	arp_learn(dp, port, d, op, for_us, now);
	if (op == RTE_ARP_OP_REQUEST && for_us) {
		dp_arp_make_reply(m, &dp->ports[port].mac);
		dp_mgr_inject(dp, m, port);
	} else {
		rte_pktmbuf_free(m);
	}
}

/* Holds an anycast answer for a random time of up to
 * MAX_ANYCAST_DELAY_TIME, a second (RFC 4861 §7.2.7, §10), so that the
 * answers of several routers holding the address do not meet; with every
 * slot taken it is not sent (the node asks again). */
static void answer_later(struct dp_ctx *dp, uint16_t port, struct rte_mbuf *m, uint64_t now)
{
	struct dp_neigh_state *ns = dp->neigh;

	for (int i = 0; i < ANYCAST_WAITING; i++) {
		if (ns->anycast[i].m != NULL)
			continue;
		ns->anycast[i] = (struct anycast_answer){
			.m = m, .port = port, .due_tsc = now + rte_rand_max(rte_get_tsc_hz())
		};
		ns->n_anycast++;
		return;
	}
	dp->mgr_ctr.c[DP_C_neigh_anycast_unanswered]++;
	rte_pktmbuf_free(m);
}

void dp_neigh_answer_due(struct dp_ctx *dp, uint64_t now)
{
	struct dp_neigh_state *ns = dp->neigh;

	for (int i = 0; ns->n_anycast > 0 && i < ANYCAST_WAITING; i++) {
		struct anycast_answer *a = &ns->anycast[i];

		if (a->m == NULL || now < a->due_tsc)
			continue;
		dp_mgr_inject(dp, a->m, a->port);
		a->m = NULL;
		ns->n_anycast--;
	}
}

/* Answers a solicitation for target (one of ours) from our address src:
 * to all nodes when it came from an address being tested for duplicates
 * (RFC 4862 §5.4.3), else to its sender at the MAC its link-layer option
 * gives or, without one (a unicast probe may leave it out), the MAC we
 * hold for it; not at all when there is neither (the sender asks the
 * whole link next). With the override flag, at once, unless target is an
 * anycast address, which src is not (RFC 4861 §7.2.4): then without, and
 * after a random wait (answer_later). */
static void nd_answer(struct dp_ctx *dp, uint16_t port, const struct rte_ipv6_hdr *ip,
		      const uint8_t *src, const uint8_t *target, const struct rte_ether_addr *slla,
		      uint64_t now)
{
	bool override = memcmp(src, target, 16) == 0;
	bool dad = dp_ipv6_unspecified(ip->src_addr);
	struct rte_ether_addr dst_mac;
	struct rte_mbuf *m;

	if (dad)
		dst_mac = dp_ipv6_all_nodes_mac;
	else if (slla != NULL)
		dst_mac = *slla;
	else if (!dp_neigh_lookup(&dp->routes, port, DPSEC_AF_INET6, ip->src_addr, &dst_mac))
		return;
	m = dp_nd_build(dp->pool, &dp->ports[port].mac, src,
			dad ? dp_ipv6_all_nodes : ip->src_addr, &dst_mac, ND_NA,
			(override ? ND_NA_OVERRIDE : 0) | dp_neigh_router_flag(dp) |
				(dad ? 0 : ND_NA_SOLICITED),
			target);
	if (m == NULL)
		return;
	if (override)
		dp_mgr_inject(dp, m, port);
	else
		answer_later(dp, port, m, now);
}

/* The port's own address whose prefix has a for its Subnet-Router
 * anycast address (dp_subnet_router_anycast), or NULL: the gateway, a
 * router on that link, answers for a from that address. */
static const struct dpsec_prefix *anycast_owner(const struct dp_ctx *dp, uint16_t port,
						const uint8_t *a)
{
	const struct cfg_port *c = &dp->cfg->ports[port];
	uint8_t anycast[16];

	for (uint32_t i = 0; i < c->n_addrs; i++)
		if (dp_subnet_router_anycast(&c->addrs[i], anycast) && memcmp(anycast, a, 16) == 0)
			return &c->addrs[i];
	return NULL;
}

/* A solicitation, in a frame from eth_src, for one of our addresses in
 * use: answered, and its sender, on the port's prefix, learnt from its
 * link-layer option (RFC 4861 §7.2.3). One for an address being tested
 * for duplicates, or found one, is not (neigh_own.c). One for the
 * Subnet-Router anycast address of one of the port's prefixes is
 * answered from the port's address on it, once that is in use, without
 * the override flag (RFC 4861 §7.2.4) and after a random wait of up to a
 * second (§7.2.7); an anycast address is not tested for duplicates (RFC
 * 4862 §5.4). */
static void nd_solicited(struct dp_ctx *dp, uint16_t port, const struct rte_ipv6_hdr *ip,
			 const uint8_t *icmp, const uint8_t *end,
			 const struct rte_ether_addr *eth_src, uint64_t now)
{
	const uint8_t *target = icmp + 8;
	const struct rte_ether_addr *ll;
	const struct dpsec_prefix *ours;

	ll = dp_nd_lladdr(icmp + ND_MIN_LEN, end, ND_OPT_SLLA);
	if (dp_neigh_conflicts(dp, &dp->neigh->own, port, DPSEC_AF_INET6, ip->src_addr, ll, now))
		return;
	ours = dp_neigh_own_address(dp, port, DPSEC_AF_INET6, target);
	if (ours != NULL) {
		if (!dp_neigh_own_solicited(dp, &dp->neigh->own, port, ours, eth_src,
					    dp_ipv6_unspecified(ip->src_addr), now))
			return;
	} else if ((ours = anycast_owner(dp, port, target)) == NULL ||
		   dp_neigh_own_state(dp, &dp->neigh->own, port, ours, now) != DP_OWN_IN_USE) {
		return;
	}
	if (ll != NULL && port_addr_for(dp, port, DPSEC_AF_INET6, ip->src_addr) != NULL)
		learn(dp, port, DPSEC_AF_INET6, ip->src_addr, ll, now);
	nd_answer(dp, port, ip, ours->addr.a, target, ll, now);
}

/* An advertisement (RFC 4861 §7.2.5) is believed for a neighbour we know
 * or ask for; one nobody asked for is not (counted), as with ARP. Without
 * a target link-layer option (the answer to a unicast solicitation: how
 * Linux answers our reachability probes) a solicited one confirms the MAC
 * we hold; without the override flag one does not move a known neighbour
 * to another MAC (an anycast or proxy answer). One for our own address
 * from another node (its option's MAC, else its frame's) is a conflict. */
static void nd_advertised(struct dp_ctx *dp, uint16_t port, const uint8_t *icmp,
			  const uint8_t *end, const struct rte_ether_addr *eth_src, uint64_t now)
{
	const uint8_t *target = icmp + 8;
	const struct rte_ether_addr *ll = dp_nd_lladdr(icmp + ND_MIN_LEN, end, ND_OPT_TLLA);
	struct rte_ether_addr held;

	if (port_addr_for(dp, port, DPSEC_AF_INET6, target) == NULL ||
	    dp_neigh_conflicts(dp, &dp->neigh->own, port, DPSEC_AF_INET6, target,
			       ll != NULL ? ll : eth_src, now))
		return;
	if (!dp_neigh_lookup(&dp->routes, port, DPSEC_AF_INET6, target, &held)) {
		if (!asked_for(dp, port, DPSEC_AF_INET6, target))
			dp->mgr_ctr.c[DP_C_neigh_unsolicited]++;
		else if (ll != NULL)
			learn(dp, port, DPSEC_AF_INET6, target, ll, now);
		else
			dp->mgr_ctr.c[DP_C_neigh_ignored]++;
		return;
	}
	if (ll == NULL || rte_is_same_ether_addr(ll, &held)) {
		if (icmp[4] & ND_NA_SOLICITED)
			learn(dp, port, DPSEC_AF_INET6, target, &held, now);
	} else if (icmp[4] & ND_NA_OVERRIDE) {
		learn(dp, port, DPSEC_AF_INET6, target, ll, now);
	} else {
		dp->mgr_ctr.c[DP_C_neigh_ignored]++;
	}
}

/* ICMPv6 the workers sorted as ND (types 133 to 137): solicitations and
 * advertisements checked and acted on; router solicitations and
 * advertisements and redirects ignored (counted): the gateway's routes
 * are its configuration's (RFC 4861 §8.3: a router follows no redirect). */
static void nd_input(struct dp_ctx *dp, struct rte_mbuf *m, uint16_t port, uint64_t now)
{
	const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *);
	const uint8_t *icmp = (const uint8_t *)ip + dp_meta(m)->l3_len;
	const uint8_t *end = rte_pktmbuf_mtod_offset(m, uint8_t *, m->pkt_len);
	/* the Ethernet header the worker stepped over (worker_sort.c) */
	const struct rte_ether_addr *eth_src =
		&((const struct rte_ether_hdr *)ip - 1)->src_addr;

	if (end - icmp >= 1 && icmp[0] != ND_NS && icmp[0] != ND_NA)
		dp->mgr_ctr.c[DP_C_neigh_ignored]++;
	else if (!dp_nd_valid(ip, icmp, end))
		dp->mgr_ctr.c[DP_C_neigh_invalid]++;
	else if (icmp[0] == ND_NS)
		nd_solicited(dp, port, ip, icmp, end, eth_src, now);
	else
		nd_advertised(dp, port, icmp, end, eth_src, now);
	rte_pktmbuf_free(m);
}

void dp_neigh_input(struct dp_ctx *dp, struct rte_mbuf *m, uint64_t now)
{
	uint16_t port = dp_meta(m)->in_port;

	dp->neigh->changed = true;
	if (dp_meta(m)->family == DPSEC_AF_NONE)
		arp_input(dp, m, port, now);
	else
		nd_input(dp, m, port, now);
}

/* An ARP request or a neighbour solicitation for addr on port, from the
 * port's address on its prefix: to the whole link (mac NULL: broadcast, or
 * addr's solicited-node group), or to mac (and for IPv6 to addr itself).
 * False when none left. */
static bool send_request(struct dp_ctx *dp, uint16_t port, uint8_t family, const uint8_t *addr,
			 const struct rte_ether_addr *mac, uint64_t now)
{
	const struct dpsec_prefix *src = port_addr_for(dp, port, family, addr);
	struct rte_mbuf *m;

	if (src == NULL || dp_neigh_own_state(dp, &dp->neigh->own, port, src, now) != DP_OWN_IN_USE)
		return false; /* nor from an address tested for duplicates, or found one */
	if (family == DPSEC_AF_INET) {
		m = dp_arp_request(dp->pool, &dp->ports[port].mac, src->addr.a, addr,
				   mac != NULL ? mac : &dp_eth_broadcast);
	} else if (mac != NULL) {
		m = dp_nd_build(dp->pool, &dp->ports[port].mac, src->addr.a, addr, mac, ND_NS, 0,
				addr);
	} else {
		m = dp_nd_solicit_group(dp->pool, &dp->ports[port].mac, src->addr.a, addr);
	}
	return m != NULL && dp_mgr_inject(dp, m, port);
}

/* Whether r's request would come from an address still being tested for
 * duplicates: asked once the test is over, no try counted meanwhile. */
static bool source_tentative(struct dp_ctx *dp, const struct dp_resolve_req *r, uint64_t now)
{
	const struct dpsec_prefix *src = port_addr_for(dp, r->port, r->family, r->addr);

	return src != NULL &&
	       dp_neigh_own_state(dp, &dp->neigh->own, r->port, src, now) == DP_OWN_TENTATIVE;
}

/* Asks for s's next hop unless it was asked less than a second ago (or
 * its request's source is still being tested for duplicates); once
 * RESOLVE_TRIES requests went unanswered, marks it failed and returns the
 * packets waiting for it (still asking, once a second). */
static void ask(struct dp_ctx *dp, struct resolve_slot *s, uint64_t now)
{
	const struct dp_resolve_req *r = &s->req;

	if ((s->tries > 0 && now - s->tsc < rte_get_tsc_hz()) || source_tentative(dp, r, now))
		return;
	if (s->tries >= RESOLVE_TRIES) {
		dp_neigh_mark_failed(&dp->routes, r->port, r->family, r->addr, true);
		return_held(dp, s, DP_C_neigh_held_unanswered);
	}
	s->tsc = now;
	s->tries++;
	send_request(dp, r->port, r->family, r->addr, NULL, now);
}

void dp_neigh_resolve(struct dp_ctx *dp, const struct dp_resolve_req *r, uint64_t now)
{
	struct rte_ether_addr mac;
	struct resolve_slot *s;

	dp->neigh->changed = true;
	if (dp_neigh_lookup(&dp->routes, r->port, r->family, r->addr, &mac)) {
		/* learnt since the worker looked */
		if (r->m != NULL) {
			dp->mgr_ctr.c[DP_C_neigh_held]++;
			reroute(dp, r->m, DP_C_neigh_held_sent);
		}
		return;
	}
	if (port_addr_for(dp, r->port, r->family, r->addr) == NULL) {
		if (r->m != NULL) {
			rte_pktmbuf_free(r->m); /* a route to a next hop off the port's prefixes */
			dp->mgr_ctr.c[DP_C_neigh_held_dropped]++;
		}
		return;
	}
	s = resolve_slot_of(dp, r);
	s->wanted_tsc = now;
	if (r->m != NULL)
		hold(dp, s, r->m);
	ask(dp, s, now);
}

/* Next hops packets wait for are asked again a second apart without
 * waiting for more packets, until they answer or fail. */
static void ask_for_held(struct dp_ctx *dp, uint64_t now)
{
	for (int i = 0; i < RESOLVE_SLOTS; i++) {
		struct resolve_slot *s = &dp->neigh->resolve[i];

		if (s->n_held > 0)
			ask(dp, s, now);
	}
}

/* Forgets the neighbour k at position pos (counted as counter): workers
 * stop finding it at once; its position is reused after a grace period. */
static void forget(struct dp_ctx *dp, const struct dp_neigh_key *k, int32_t pos, int counter)
{
	dp->neigh->reach[pos] = (struct neigh_reach){ 0 };
	if (dp_neigh_forget(&dp->routes, k) >= 0)
		dp_rcu_defer_neigh(dp, pos);
	dp->mgr_ctr.c[counter]++;
}

/* The neighbour at pos said nothing for silent_tsc (TSC cycles): if in
 * use, asked a second apart and forgotten after PROBE_TRIES requests
 * unanswered; if not, left stale, and forgotten after silent_tsc more. */
static void check_reachable(struct dp_ctx *dp, const struct dp_neigh_key *k,
			    const struct rte_ether_addr *mac, int32_t pos, uint64_t silent_tsc,
			    uint64_t now)
{
	struct neigh_reach *n = &dp->neigh->reach[pos];

	if (now - n->heard_tsc < silent_tsc)
		return;
	if (n->probes == 0 && !dp_neigh_used(&dp->routes, pos)) {
		if (now - n->heard_tsc >= 2 * silent_tsc)
			forget(dp, k, pos, DP_C_neigh_stale_removed);
		return;
	}
	if (n->probes > 0 && now - n->probe_tsc < rte_get_tsc_hz())
		return;
	if (n->probes >= PROBE_TRIES) {
		forget(dp, k, pos, DP_C_neigh_expired);
		return;
	}
	n->probes++;
	n->probe_tsc = now;
	if (send_request(dp, k->port, k->family, k->addr, mac, now)) /* is it still there? */
		dp->mgr_ctr.c[DP_C_neigh_probes]++;
}

/* Learnt neighbours silent for neighbour_reachable_seconds asked again if
 * in use, forgotten when they do not answer or stay unused. */
static void age_learnt(struct dp_ctx *dp, uint64_t now)
{
	uint64_t silent_tsc = rte_get_tsc_hz() * dp->cfg->opts.neighbour_reachable_s;
	struct rte_ether_addr mac;
	struct dp_neigh_key k;
	uint32_t next = 0;
	bool permanent;
	int32_t pos;

	if (silent_tsc == 0)
		return;
	while ((pos = dp_neigh_next(&dp->routes, &next, &k, &mac, &permanent)) >= 0)
		if (!permanent)
			check_reachable(dp, &k, &mac, pos, silent_tsc, now);
}

/* What port learnt is forgotten: its link went down, and may come back
 * on another link (a cable moved, a switch replaced) where those MACs
 * mean nothing, as Linux forgets on carrier loss. Configured neighbours
 * stay; the next packet for a forgotten one asks again. */
static void forget_port(struct dp_ctx *dp, uint16_t port)
{
	struct rte_ether_addr mac;
	struct dp_neigh_key k;
	uint32_t next = 0;
	bool permanent;
	int32_t pos;

	while ((pos = dp_neigh_next(&dp->routes, &next, &k, &mac, &permanent)) >= 0)
		if (!permanent && k.port == port)
			forget(dp, &k, pos, DP_C_neigh_link_down_forgotten);
	dp->neigh->changed = true;
}

void dp_neigh_link(struct dp_ctx *dp, uint16_t port, bool up)
{
	if (dp_neigh_own_link(dp, &dp->neigh->own, port, up) && !up)
		forget_port(dp, port);
}

void dp_neigh_announce(struct dp_ctx *dp, uint64_t now)
{
	dp_neigh_own_announce(dp, &dp->neigh->own, now);
}

/* Next hops asked for, or failed, that no packet wanted for
 * UNWANTED_FORGET_S are forgotten, their failure too: the next packet for
 * one asks the link again, held meanwhile. */
static void forget_unwanted(struct dp_ctx *dp, uint64_t now)
{
	for (int i = 0; i < RESOLVE_SLOTS; i++) {
		struct resolve_slot *s = &dp->neigh->resolve[i];
		const struct dp_resolve_req *r = &s->req;

		if (s->tries == 0 || s->n_held > 0 ||
		    now - s->wanted_tsc < UNWANTED_FORGET_S * rte_get_tsc_hz())
			continue;
		dp_neigh_mark_failed(&dp->routes, r->port, r->family, r->addr, false);
		memset(s, 0, sizeof(*s));
		dp->neigh->changed = true;
	}
}

void dp_neigh_tick(struct dp_ctx *dp, uint64_t now)
{
	ask_for_held(dp, now);
	forget_unwanted(dp, now);
	age_learnt(dp, now);
}

/* One entry more in dst, while there is room. */
static struct dpsec_shm_neigh *publish_one(struct dpsec_shm_neighs *dst, uint16_t port,
					   uint8_t family, const uint8_t *addr, uint8_t state)
{
	struct dpsec_shm_neigh *e;

	if (dst->n == DPSEC_SHM_NEIGHBOURS)
		return NULL;
	e = &dst->e[dst->n++];
	memset(e, 0, sizeof(*e));
	e->port = port;
	e->addr.family = family;
	memcpy(e->addr.a, addr, family == DPSEC_AF_INET6 ? 16 : 4);
	e->state = state;
	return e;
}

/* What the manager makes of the neighbour n (silent_tsc: the
 * configured neighbour_reachable_seconds, 0: never stale). */
static uint8_t learnt_state(const struct neigh_reach *n, uint64_t silent_tsc, uint64_t now)
{
	if (n->probes > 0)
		return DPSEC_NEIGH_PROBE;
	if (silent_tsc != 0 && now - n->heard_tsc >= silent_tsc)
		return DPSEC_NEIGH_STALE;
	return DPSEC_NEIGH_REACHABLE;
}

/* The table's neighbours: configured, or learnt. */
static void publish_table(const struct dp_ctx *dp, struct dpsec_shm_neighs *dst, uint64_t now)
{
	uint64_t silent_tsc = rte_get_tsc_hz() * dp->cfg->opts.neighbour_reachable_s;
	struct rte_ether_addr mac;
	struct dp_neigh_key k;
	uint32_t next = 0;
	bool permanent;
	int32_t pos;

	while ((pos = dp_neigh_next(&dp->routes, &next, &k, &mac, &permanent)) >= 0) {
		const struct neigh_reach *n = &dp->neigh->reach[pos];
		uint8_t state = permanent ? DPSEC_NEIGH_PERMANENT
					  : learnt_state(n, silent_tsc, now);
		struct dpsec_shm_neigh *e = publish_one(dst, k.port, k.family, k.addr, state);

		if (e == NULL)
			return;
		memcpy(e->mac, mac.addr_bytes, sizeof(e->mac));
		e->asked = permanent ? 0 : (uint16_t)n->probes;
		e->silent_s = permanent ? 0 : (uint32_t)((now - n->heard_tsc) / rte_get_tsc_hz());
	}
}

/* The next hops being asked for, and those that failed to answer. */
static void publish_resolving(const struct dp_ctx *dp, struct dpsec_shm_neighs *dst)
{
	for (int i = 0; i < RESOLVE_SLOTS; i++) {
		const struct resolve_slot *s = &dp->neigh->resolve[i];
		const struct dp_resolve_req *r = &s->req;
		struct dpsec_shm_neigh *e;

		if (s->tries == 0)
			continue;
		e = publish_one(dst, r->port, r->family, r->addr,
				dp_neigh_failed(&dp->routes, r->port, r->family, r->addr)
					? DPSEC_NEIGH_FAILED
					: DPSEC_NEIGH_INCOMPLETE);
		if (e == NULL)
			return;
		e->asked = (uint16_t)s->tries;
		e->held = (uint16_t)s->n_held;
	}
}

bool dp_neigh_changed(const struct dp_ctx *dp)
{
	return dp->neigh->changed;
}

void dp_neigh_publish(struct dp_ctx *dp, struct dpsec_shm_neighs *dst, uint64_t now)
{
	dp->neigh->changed = false;
	dst->n = 0;
	dst->n_ports = RTE_MIN(dp->cfg->n_ports, (uint32_t)DPSEC_SHM_PORTS);
	for (uint32_t i = 0; i < dst->n_ports; i++)
		snprintf(dst->ports[i], sizeof(dst->ports[i]), "%s", dp->cfg->ports[i].name);
	publish_table(dp, dst, now);
	publish_resolving(dp, dst);
}

int dp_neigh_static(struct dp_ctx *dp)
{
	for (uint32_t i = 0; i < dp->cfg->n_neighbours; i++) {
		const struct cfg_neighbour *n = &dp->cfg->neighbours[i];
		struct rte_ether_addr mac; /* aligned: the config's bytes may not be */
		int rc;

		memcpy(mac.addr_bytes, n->mac, RTE_ETHER_ADDR_LEN);
		rc = dp_neigh_set(&dp->routes, n->port, n->addr.family, n->addr.a, &mac, true);

		if (rc < 0)
			return rc;
	}
	return 0;
}
