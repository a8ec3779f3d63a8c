/* neigh_wire.c - ARP (RFC 826) and IPv6 neighbour discovery (RFC 4861)
 * on the wire, for neigh.c: the checks a received packet passes before the
 * manager believes it, and the requests and answers it sends, built whole
 * with their Ethernet header. Nothing here keeps state. */
#include <string.h>

#include <rte_arp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "neigh_wire.h"

const struct rte_ether_addr dp_eth_broadcast = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
const uint8_t dp_ipv6_all_nodes[16] = { 0xff, 0x02, [15] = 0x01 };
const struct rte_ether_addr dp_ipv6_all_nodes_mac = { { 0x33, 0x33, 0, 0, 0, 1 } };

bool dp_arp_valid(const struct rte_mbuf *m, const struct rte_arp_hdr *arp)
{
	return m->data_len >= sizeof(struct rte_ether_hdr) + sizeof(*arp) &&
	       arp->arp_hardware == rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) &&
	       arp->arp_protocol == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) &&
	       arp->arp_hlen == RTE_ETHER_ADDR_LEN && arp->arp_plen == 4 &&
	       (arp->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
		arp->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REPLY));
}

void dp_arp_make_reply(struct rte_mbuf *m, const struct rte_ether_addr *our_mac)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	struct rte_arp_ipv4 *d = &arp->arp_data;
	uint32_t ours = d->arp_tip;

	eth->dst_addr = d->arp_sha;
	eth->src_addr = *our_mac;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	d->arp_tha = d->arp_sha;
	d->arp_tip = d->arp_sip;
	d->arp_sha = *our_mac;
	d->arp_sip = ours;
	rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - sizeof(*eth) - sizeof(*arp)));
}

struct rte_mbuf *dp_arp_request(struct rte_mempool *pool, const struct rte_ether_addr *our_mac,
				const uint8_t *sip, const uint8_t *tip,
				const struct rte_ether_addr *eth_dst)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;

	if (m == NULL)
		return NULL;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eth) + sizeof(*arp));
	arp = (struct rte_arp_hdr *)(eth + 1);
	eth->dst_addr = *eth_dst;
	eth->src_addr = *our_mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	arp->arp_data.arp_sha = *our_mac;
	memcpy(&arp->arp_data.arp_sip, sip, 4);
	memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
	memcpy(&arp->arp_data.arp_tip, tip, 4);
	return m;
}

bool dp_ipv6_unspecified(const uint8_t a[16])
{
	static const uint8_t unspecified[16];

	return memcmp(a, unspecified, 16) == 0;
}

void dp_nd_solicited_node(uint8_t dst[16], const uint8_t target[16])
{
	static const uint8_t base[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff };

	memcpy(dst, base, sizeof(base));
	memcpy(dst + 13, target + 13, 3);
}

/* Whether the ND options in [opt, end) are whole and none has length 0. */
static bool nd_options_valid(const uint8_t *opt, const uint8_t *end)
{
	while (opt < end) {
		if (end - opt < 8 || opt[1] == 0 || opt[1] * 8 > end - opt)
			return false;
		opt += opt[1] * 8;
	}
	return true;
}

const struct rte_ether_addr *dp_nd_lladdr(const uint8_t *opt, const uint8_t *end, uint8_t type)
{
	for (; opt < end; opt += opt[1] * 8)
		if (opt[0] == type)
			return (const struct rte_ether_addr *)(opt + 2);
	return NULL;
}

bool dp_nd_valid(const struct rte_ipv6_hdr *ip, const uint8_t *icmp, const uint8_t *end)
{
	uint8_t group[16];

	if (ip->hop_limits != 255 || end - icmp < ND_MIN_LEN || icmp[1] != 0 ||
	    icmp[8] == 0xff /* a multicast target */ || !nd_options_valid(icmp + ND_MIN_LEN, end) ||
	    rte_ipv6_udptcp_cksum_verify(ip, icmp) != 0)
		return false;
	if (icmp[0] == ND_NS && dp_ipv6_unspecified(ip->src_addr)) { /* duplicate address detection */
		dp_nd_solicited_node(group, icmp + 8);
		return memcmp(ip->dst_addr, group, 16) == 0 &&
		       dp_nd_lladdr(icmp + ND_MIN_LEN, end, ND_OPT_SLLA) == NULL;
	}
	if (icmp[0] == ND_NA && ip->dst_addr[0] == 0xff)
		return !(icmp[4] & ND_NA_SOLICITED);
	return true;
}

struct rte_mbuf *dp_nd_build(struct rte_mempool *pool, const struct rte_ether_addr *our_mac,
			     const uint8_t *src, const uint8_t *dst,
			     const struct rte_ether_addr *eth_dst, uint8_t type, uint8_t flags,
			     const uint8_t *target)
{
	/* no source link-layer option from the unspecified address (§7.1.1) */
	bool opt = !(type == ND_NS && dp_ipv6_unspecified(src));
	const uint16_t icmp_len = ND_MIN_LEN + (opt ? 8 : 0);
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip;
	uint8_t *icmp;
	uint16_t sum;

	if (m == NULL)
		return NULL;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eth) + sizeof(*ip) + icmp_len);
	ip = (struct rte_ipv6_hdr *)(eth + 1);
	icmp = (uint8_t *)(ip + 1);
	memset(eth, 0, m->data_len);
	eth->dst_addr = *eth_dst;
	eth->src_addr = *our_mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(icmp_len);
	ip->proto = IPPROTO_ICMPV6;
	ip->hop_limits = 255;
	memcpy(ip->src_addr, src, 16);
	memcpy(ip->dst_addr, dst, 16);
	icmp[0] = type;
	icmp[4] = flags;
	memcpy(icmp + 8, target, 16);
	if (opt) {
		icmp[24] = type == ND_NS ? ND_OPT_SLLA : ND_OPT_TLLA;
		icmp[25] = 1;
		memcpy(icmp + 26, our_mac->addr_bytes, RTE_ETHER_ADDR_LEN);
	}
	sum = rte_ipv6_udptcp_cksum(ip, icmp);
	memcpy(icmp + 2, &sum, 2); /* no alignment assumed of a header in a frame */
	return m;
}

struct rte_mbuf *dp_nd_solicit_group(struct rte_mempool *pool, const struct rte_ether_addr *our_mac,
				     const uint8_t *src, const uint8_t *target)
{
	struct rte_ether_addr mac = { { 0x33, 0x33, 0xff, target[13], target[14], target[15] } };
	uint8_t group[16];

	dp_nd_solicited_node(group, target);
	return dp_nd_build(pool, our_mac, src, group, &mac, ND_NS, 0, target);
}
