/* natt_keepalive.c - NAT keepalives (RFC 3948 §4): the manager lcore keeps
 * the NAT mapping of each UDP-encapsulated outbound SA open by sending a
 * one-byte 0xff UDP packet from the SA's local address and port to the peer
 * when the SA itself sent nothing for the configured interval. The packets
 * leave through the inject ring, as ARP and ND do (worker 0 transmits). */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dp.h"
#include "dp_mgr.h"
#include "natt.h"
#include "neigh.h"

#define KA_TTL 64

void dp_natt_ka_start(struct dp_natt_ka *ka, uint64_t now_tsc, uint64_t packets)
{
	ka->packets = packets;
	ka->quiet_since_tsc = now_tsc;
}

bool dp_natt_ka_due(struct dp_natt_ka *ka, uint64_t now_tsc, uint64_t packets,
		    uint64_t interval_tsc)
{
	if (interval_tsc == 0)
		return false;
	if (packets != ka->packets) { /* it sent since: quiet from now on at most */
		dp_natt_ka_start(ka, now_tsc, packets);
		return false;
	}
	if (now_tsc - ka->quiet_since_tsc < interval_tsc)
		return false;
	ka->quiet_since_tsc = now_tsc;
	return true;
}

static void ka_udp(struct rte_udp_hdr *udp, const struct dpsec_sa_conf *c)
{
	udp->src_port = rte_cpu_to_be_16(c->udp_sport);
	udp->dst_port = rte_cpu_to_be_16(c->udp_dport);
	udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + 1);
	udp->dgram_cksum = 0; /* IPv4: none (RFC 3948 §2.3); IPv6: computed by the caller */
	*(uint8_t *)(udp + 1) = DP_NATT_KEEPALIVE_BYTE;
}

static void ka_ipv4(struct rte_ipv4_hdr *ip, const struct dpsec_sa_conf *c)
{
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(struct rte_udp_hdr) + 1);
	ip->time_to_live = KA_TTL;
	ip->next_proto_id = IPPROTO_UDP;
	memcpy(&ip->src_addr, c->local.a, 4);
	memcpy(&ip->dst_addr, c->remote.a, 4);
	ka_udp((struct rte_udp_hdr *)(ip + 1), c);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

static void ka_ipv6(struct rte_ipv6_hdr *ip, const struct dpsec_sa_conf *c)
{
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	memset(ip, 0, sizeof(*ip));
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(sizeof(*udp) + 1);
	ip->proto = IPPROTO_UDP;
	ip->hop_limits = KA_TTL;
	memcpy(ip->src_addr, c->local.a, 16);
	memcpy(ip->dst_addr, c->remote.a, 16);
	ka_udp(udp, c);
	udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
}

int dp_natt_ka_build(struct rte_mbuf *m, const struct dpsec_sa_conf *c)
{
	bool v6 = c->local.family == DPSEC_AF_INET6;
	uint16_t len = (uint16_t)((v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr)) +
				  sizeof(struct rte_udp_hdr) + 1);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, len);

	if (p == NULL)
		return -1;
	if (v6)
		ka_ipv6((struct rte_ipv6_hdr *)p, c);
	else
		ka_ipv4((struct rte_ipv4_hdr *)p, c);
	return 0;
}

/* The port and the next hop's MAC towards the peer; false (resolution
 * asked for when only the MAC is missing) when there is none yet. */
static bool ka_next_hop(struct dp_ctx *dp, const struct dpsec_addr *peer, uint16_t *port,
			struct rte_ether_addr *mac)
{
	const struct dp_nexthop *nh = dp_route_lookup(&dp->routes, peer->family, peer->a);
	struct dp_resolve_req r = { .family = peer->family };

	if (nh == NULL)
		return false;
	*port = nh->port;
	if (dp_neigh_use(&dp->routes, nh->port, peer->family, dp_nexthop_addr(nh, peer->a), mac))
		return true;
	r.port = nh->port;
	memcpy(r.addr, dp_nexthop_addr(nh, peer->a), peer->family == DPSEC_AF_INET6 ? 16 : 4);
	dp_neigh_resolve(dp, &r, rte_rdtsc());
	return false;
}

void dp_natt_ka_send(struct dp_ctx *dp, const struct dpsec_sa_conf *c)
{
	const struct dpsec_addr *peer = &c->remote;
	struct rte_ether_addr mac;
	struct rte_mbuf *m;
	uint16_t port;

	if (!ka_next_hop(dp, peer, &port, &mac) || (m = rte_pktmbuf_alloc(dp->pool)) == NULL) {
		dp->mgr_ctr.c[DP_C_natt_keepalives_unsent]++;
		return;
	}
	if (dp_natt_ka_build(m, c) < 0) {
		rte_pktmbuf_free(m);
		dp->mgr_ctr.c[DP_C_natt_keepalives_unsent]++;
		return;
	}
	dp_push_eth(m, &mac, &dp->ports[port].mac, peer->family);
	if (!dp_mgr_inject(dp, m, port)) {
		dp->mgr_ctr.c[DP_C_natt_keepalives_unsent]++;
		return;
	}
	dp->mgr_ctr.c[DP_C_natt_keepalives_out]++;
}
