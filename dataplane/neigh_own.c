/* neigh_own.c - the gateway's own addresses on its links, for neigh.c:
 * the IPv6 ones tested for duplicates at start (RFC 4862 §5.4: one
 * solicitation from the unspecified address each, tentative for a second,
 * not used if another node claims one meanwhile); announced (ANNOUNCEMENTS
 * rounds a second apart: a gratuitous ARP request, RFC 5227 §3, and,
 * once tested, an unsolicited neighbour advertisement with the override
 * flag, RFC 4861 §7.2.6), so that hosts and switches that knew another
 * MAC for them follow at once; both again, port by port, whenever a link
 * comes back, and not before a link is up; and defended when another MAC
 * claims one later (a duplicate on the link, RFC 5227 §2.4). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>

#include "neigh_own.h"
#include "dp_mgr.h"
#include "neigh_wire.h"

#define ANNOUNCEMENTS 3      /* of our addresses at start, a second apart (RFC 4861 §10) */
#define DAD_WAIT_S 1         /* RetransTimer after the one solicitation (RFC 4862 §5.1) */
#define DEFEND_INTERVAL_S 10 /* between defences of a port's addresses (RFC 5227 §1.1) */

_Static_assert(CFG_MAX_PORT_ADDRS <= 8, "dp_neigh_own.duplicate holds a bit per address");

const struct dpsec_prefix *dp_neigh_own_address(const struct dp_ctx *dp, uint16_t port,
						uint8_t family, const uint8_t *a)
{
	const struct cfg_port *c = port < dp->cfg->n_ports ? &dp->cfg->ports[port] : NULL;
	size_t len = family == DPSEC_AF_INET6 ? 16 : 4;

	for (uint32_t i = 0; c != NULL && i < c->n_addrs; i++)
		if (c->addrs[i].addr.family == family && memcmp(c->addrs[i].addr.a, a, len) == 0)
			return &c->addrs[i];
	return NULL;
}

static uint8_t addr_bit(const struct dp_ctx *dp, uint16_t port, const struct dpsec_prefix *a)
{
	return (uint8_t)(1u << (a - dp->cfg->ports[port].addrs));
}

static bool dad_passed(const struct dp_own_port *o, uint64_t now)
{
	return o->dad_tsc != 0 && now - o->dad_tsc >= DAD_WAIT_S * rte_get_tsc_hz();
}

enum dp_own_state dp_neigh_own_state(const struct dp_ctx *dp, const struct dp_neigh_own *own,
				     uint16_t port, const struct dpsec_prefix *a, uint64_t now)
{
	if (a->addr.family != DPSEC_AF_INET6)
		return DP_OWN_IN_USE;
	if (own->port[port].duplicate & addr_bit(dp, port, a))
		return DP_OWN_DUPLICATE;
	return dad_passed(&own->port[port], now) ? DP_OWN_IN_USE : DP_OWN_TENTATIVE;
}

uint8_t dp_neigh_router_flag(const struct dp_ctx *dp)
{
	return dp->cfg->n_ports > 1 ? ND_NA_ROUTER : 0;
}

/* Tells port's link that a (one of the port's addresses) is at the port's
 * MAC. False when it could not be sent. */
static bool announce(struct dp_ctx *dp, uint16_t port, const struct dpsec_prefix *a)
{
	const struct rte_ether_addr *mac = &dp->ports[port].mac;
	struct rte_mbuf *m;

	if (a->addr.family == DPSEC_AF_INET)
		m = dp_arp_request(dp->pool, mac, a->addr.a, a->addr.a, &dp_eth_broadcast);
	else
		m = dp_nd_build(dp->pool, mac, a->addr.a, dp_ipv6_all_nodes, &dp_ipv6_all_nodes_mac,
				ND_NA, ND_NA_OVERRIDE | dp_neigh_router_flag(dp), a->addr.a);
	return m != NULL && dp_mgr_inject(dp, m, port);
}

/* Asks port's link whether another node holds a, which we are about to
 * use (RFC 4862 §5.4.2). */
static void test_for_duplicate(struct dp_ctx *dp, uint16_t port, const struct dpsec_prefix *a)
{
	static const uint8_t unspecified[16];
	struct rte_mbuf *m;

	m = dp_nd_solicit_group(dp->pool, &dp->ports[port].mac, unspecified, a->addr.a);
	if (m != NULL)
		dp_mgr_inject(dp, m, port);
}

/* Round r of port's announcements: IPv4 addresses in the first
 * ANNOUNCEMENTS rounds, IPv6 ones in the next ANNOUNCEMENTS once tested
 * (the first round tests them). */
static void announce_round(struct dp_ctx *dp, struct dp_neigh_own *own, uint16_t port, uint32_t r,
			   uint64_t now)
{
	for (uint32_t i = 0; i < dp->cfg->ports[port].n_addrs; i++) {
		const struct dpsec_prefix *a = &dp->cfg->ports[port].addrs[i];
		bool v6 = a->addr.family == DPSEC_AF_INET6;

		if (r == 0 && v6)
			test_for_duplicate(dp, port, a);
		else if ((v6 ? r >= 1 && dp_neigh_own_state(dp, own, port, a, now) == DP_OWN_IN_USE
			     : r < ANNOUNCEMENTS) &&
			 announce(dp, port, a))
			dp->mgr_ctr.c[DP_C_neigh_announced]++;
	}
}

void dp_neigh_own_announce(struct dp_ctx *dp, struct dp_neigh_own *own, uint64_t now)
{
	for (uint16_t p = 0; p < dp->cfg->n_ports; p++) {
		struct dp_own_port *o = &own->port[p];

		if (o->link != DPSEC_LINK_UP || o->announced == ANNOUNCEMENTS + 1 ||
		    (o->announced > 0 && now - o->announce_tsc < rte_get_tsc_hz()))
			continue;
		if (o->announced == 0)
			o->dad_tsc = now;
		o->announce_tsc = now;
		announce_round(dp, own, p, o->announced++, now);
	}
}

bool dp_neigh_own_link(struct dp_ctx *dp, struct dp_neigh_own *own, uint16_t port, bool up)
{
	struct dp_own_port *o = &own->port[port];
	bool first = o->link == DPSEC_LINK_UNKNOWN;
	bool changed = first ? !up : up != (o->link == DPSEC_LINK_UP); /* up at start: as ever */

	o->link = up ? DPSEC_LINK_UP : DPSEC_LINK_DOWN;
	if (!changed)
		return false;
	dp->mgr_ctr.c[up ? DP_C_port_link_up : DP_C_port_link_down]++;
	fprintf(stderr, "dpsecd: port %s: link %s\n", dp->cfg->ports[port].name,
		up ? "up: its addresses tested and announced again"
		   : first ? "down at start: its addresses are announced when it comes up" : "down");
	if (up) /* as at start; defend_tsc kept: the defences' pace is the port's */
		*o = (struct dp_own_port){ .link = DPSEC_LINK_UP, .defend_tsc = o->defend_tsc };
	return true;
}

/* Another node (mac, NULL if unknown) holds a, which we were testing: a
 * is not ours to use (RFC 4862 §5.4.5): counted and logged once. */
static void dad_failed(struct dp_ctx *dp, struct dp_neigh_own *own, uint16_t port,
		       const struct dpsec_prefix *a, const struct rte_ether_addr *mac)
{
	char text[INET6_ADDRSTRLEN], m[RTE_ETHER_ADDR_FMT_SIZE] = "another node";

	own->port[port].duplicate |= addr_bit(dp, port, a);
	dp->mgr_ctr.c[DP_C_neigh_dad_failed]++;
	inet_ntop(AF_INET6, a->addr.a, text, sizeof(text));
	if (mac != NULL)
		rte_ether_format_addr(m, sizeof(m), mac);
	fprintf(stderr,
		"dpsecd: port %s: %s is already in use on the link by %s: duplicate address "
		"detection failed (RFC 4862 §5.4.5); dpsecd neither answers for it nor announces "
		"it: give the port another address\n",
		dp->cfg->ports[port].name, text, m);
}

bool dp_neigh_own_solicited(struct dp_ctx *dp, struct dp_neigh_own *own, uint16_t port,
			    const struct dpsec_prefix *a, const struct rte_ether_addr *eth_src,
			    bool dad, uint64_t now)
{
	enum dp_own_state state = dp_neigh_own_state(dp, own, port, a, now);

	if (state == DP_OWN_TENTATIVE && dad &&
	    !rte_is_same_ether_addr(eth_src, &dp->ports[port].mac))
		dad_failed(dp, own, port, a, eth_src);
	return state == DP_OWN_IN_USE;
}

/* mac, not ours, claims addr, one of port's addresses: counted; at most
 * every DEFEND_INTERVAL_S per port, logged and the address announced once
 * more, so that the link's caches come back to the gateway. */
static void address_conflict(struct dp_ctx *dp, struct dp_neigh_own *own, uint16_t port,
			     const struct dpsec_prefix *addr, const struct rte_ether_addr *mac,
			     uint64_t now)
{
	uint64_t *last = &own->port[port].defend_tsc;
	char a[INET6_ADDRSTRLEN], m[RTE_ETHER_ADDR_FMT_SIZE];

	dp->mgr_ctr.c[DP_C_neigh_address_conflicts]++;
	if (*last != 0 && now - *last < DEFEND_INTERVAL_S * rte_get_tsc_hz())
		return;
	*last = now;
	inet_ntop(addr->addr.family == DPSEC_AF_INET6 ? AF_INET6 : AF_INET, addr->addr.a, a,
		  sizeof(a));
	rte_ether_format_addr(m, sizeof(m), mac);
	fprintf(stderr,
		"dpsecd: port %s: %s is claimed by %s too, a duplicate address on the link; "
		"announced again\n",
		dp->cfg->ports[port].name, a, m);
	if (announce(dp, port, addr))
		dp->mgr_ctr.c[DP_C_neigh_announced]++;
}

bool dp_neigh_conflicts(struct dp_ctx *dp, struct dp_neigh_own *own, uint16_t port,
			uint8_t family, const uint8_t *addr, const struct rte_ether_addr *mac,
			uint64_t now)
{
	const struct dpsec_prefix *ours = dp_neigh_own_address(dp, port, family, addr);

	if (ours == NULL || mac == NULL || rte_is_same_ether_addr(mac, &dp->ports[port].mac))
		return false;
	switch (dp_neigh_own_state(dp, own, port, ours, now)) {
	case DP_OWN_TENTATIVE:
		dad_failed(dp, own, port, ours, mac);
		break;
	case DP_OWN_DUPLICATE: /* its holder's: not defended */
		dp->mgr_ctr.c[DP_C_neigh_address_conflicts]++;
		break;
	case DP_OWN_IN_USE:
		address_conflict(dp, own, port, ours, mac, now);
		break;
	}
	return true;
}
