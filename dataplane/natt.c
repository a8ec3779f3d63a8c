/* natt.c - the workers' side of NAT traversal (RFC 3948): what a packet on
 * a NAT-T port carries, the UDP checksum of ESP in UDP over IPv6, and the
 * inner checksums after transport-mode decapsulation. */
#include <stddef.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "dp.h"
#include "natt.h"

#define NON_ESP_MARKER_LEN 4 /* RFC 3948 §2.2: four zero bytes where an SPI would be */

static bool non_esp_marker(const uint8_t *payload, uint32_t len)
{
	static const uint8_t zero[NON_ESP_MARKER_LEN];

	return len >= NON_ESP_MARKER_LEN && memcmp(payload, zero, NON_ESP_MARKER_LEN) == 0;
}

static enum dp_natt_class drop(struct dp_worker *w, struct rte_mbuf *m, int reason)
{
	dp_drop(w, m, reason);
	return DP_NATT_DONE;
}

enum dp_natt_class dp_natt_classify(struct dp_worker *w, struct rte_mbuf *m, struct dp_meta *md)
{
	uint32_t avail = m->pkt_len - md->l3_len; /* the parser trimmed m to the IP length */
	const struct rte_udp_hdr *udp;
	const uint8_t *payload;
	uint32_t len;

	if (md->flags & DP_M_NOT_FIRST)
		return DP_NATT_CLEAR; /* no UDP header to read: as any fragment to us */
	if (avail < sizeof(*udp))
		return drop(w, m, DP_DROP_natt_bad_length);
	udp = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, md->l3_len);
	payload = (const uint8_t *)(udp + 1);
	len = avail - (uint32_t)sizeof(*udp);
	if (non_esp_marker(payload, len)) {
		md->flags |= DP_M_IKE; /* a first fragment of IKE too (reass.h) */
		return DP_NATT_IKE;
	}
	if (md->flags & DP_M_FRAG)
		return DP_NATT_FRAGMENT; /* its length is checked once it is whole */
	if (rte_be_to_cpu_16(udp->dgram_len) != avail)
		return drop(w, m, DP_DROP_natt_bad_length);
	if (len == 1 && payload[0] == DP_NATT_KEEPALIVE_BYTE) {
		w->ctr->c[DP_C_natt_keepalives_in]++;
		rte_pktmbuf_free(m);
		return DP_NATT_DONE;
	}
	md->l3_len = (uint16_t)(md->l3_len + sizeof(*udp));
	md->flags |= DP_M_NATT;
	return DP_NATT_ESP;
}

void dp_natt_udp6_cksum(struct rte_mbuf *m)
{
	const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	udp->dgram_cksum = 0;
	udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp); /* never 0: 0xffff instead */
}

/* Offset of the checksum in a TCP or UDP header of l4_len bytes, or -1. */
static int inner_cksum_offset(uint8_t proto, uint32_t l4_len)
{
	if (proto == IPPROTO_TCP && l4_len >= sizeof(struct rte_tcp_hdr))
		return offsetof(struct rte_tcp_hdr, cksum);
	if (proto == IPPROTO_UDP && l4_len >= sizeof(struct rte_udp_hdr))
		return offsetof(struct rte_udp_hdr, dgram_cksum);
	return -1;
}

void dp_natt_fix_inner_cksum(struct rte_mbuf *m, const struct dp_meta *md)
{
	uint8_t *ip = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *l4 = ip + md->l3_len;
	int off = inner_cksum_offset(md->l4proto, m->pkt_len - md->l3_len);
	bool v6 = md->family == DPSEC_AF_INET6;
	uint16_t sum;

	if (off < 0 || (md->flags & DP_M_FRAG) || (v6 && md->l3_len != sizeof(struct rte_ipv6_hdr)))
		return;
	memcpy(&sum, l4 + off, sizeof(sum));
	if (!v6 && md->l4proto == IPPROTO_UDP && sum == 0)
		return; /* the sender chose no checksum (RFC 768) */
	memset(l4 + off, 0, sizeof(sum));
	sum = v6 ? rte_ipv6_udptcp_cksum((const struct rte_ipv6_hdr *)ip, l4)
		 : rte_ipv4_udptcp_cksum((const struct rte_ipv4_hdr *)ip, l4);
	memcpy(l4 + off, &sum, sizeof(sum));
}
