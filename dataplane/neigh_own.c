/* neigh_own.c - the gateway's own addresses on its links, for neigh.c:
 * announced at start (ANNOUNCEMENTS rounds a second apart: a gratuitous
 * ARP request, RFC 5227 §3, and an unsolicited neighbour advertisement
 * with the override flag, RFC 4861 §7.2.6), so that hosts and switches
 * that knew another MAC for them follow at once; and defended when
 * another MAC claims one (a duplicate on the link, RFC 5227 §2.4). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>

#include "neigh_own.h"
#include "dp_mgr.h"
#include "neigh_wire.h"

#define ANNOUNCEMENTS 3      /* of our addresses at start, a second apart (RFC 4861 §10) */
#define DEFEND_INTERVAL_S 10 /* between defences of a port's addresses (RFC 5227 §1.1) */

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

void dp_neigh_own_announce(struct dp_ctx *dp, struct dp_neigh_own *own, uint64_t now)
{
	if (own->announced == ANNOUNCEMENTS ||
	    (own->announced > 0 && now - own->announce_tsc < rte_get_tsc_hz()))
		return;
	own->announced++;
	own->announce_tsc = now;
	for (uint16_t p = 0; p < dp->cfg->n_ports; p++)
		for (uint32_t i = 0; i < dp->cfg->ports[p].n_addrs; i++)
			if (announce(dp, p, &dp->cfg->ports[p].addrs[i]))
				dp->mgr_ctr.c[DP_C_neigh_announced]++;
}

/* mac, not ours, claims addr, one of port's addresses: counted; at most
 * every DEFEND_INTERVAL_S per port, logged and the address announced once
 * more, so that the link's caches come back to the gateway. */
static void address_conflict(struct dp_ctx *dp, struct dp_neigh_own *own, uint16_t port,
			     const struct dpsec_prefix *addr, const struct rte_ether_addr *mac,
			     uint64_t now)
{
	uint64_t *last = &own->defend_tsc[port];
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
	address_conflict(dp, own, port, ours, mac, now);
	return true;
}
