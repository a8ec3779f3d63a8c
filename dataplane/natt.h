/* natt.h - NAT traversal, UDP encapsulation of ESP (RFC 3948): sorting what
 * arrives on a NAT-T port (IKE, keepalive, ESP in UDP), the per-packet parts
 * of the UDP header outbound, the inner checksums after transport-mode
 * decapsulation, and the keepalives the manager sends for silent SAs
 * (RFC 3948 §4). */
#ifndef DP_NATT_H
#define DP_NATT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "dp_pkt.h"
#include "dp_sa.h"

struct dp_ctx;
struct dp_worker;

#define DP_NATT_KEEPALIVE_BYTE 0xff /* RFC 3948 §2.3: the whole payload */

enum dp_natt_class {
	DP_NATT_CLEAR, /* not NAT-T traffic (a later fragment): the clear path */
	DP_NATT_IKE,   /* non-ESP marker: IKE, for the host (md flag DP_M_IKE) */
	DP_NATT_ESP,   /* ESP in UDP: md.l3_len now covers the UDP header (DP_M_NATT) */
	DP_NATT_FRAGMENT, /* the first fragment of ESP in UDP: to reassemble (reass.h) */
	DP_NATT_DONE,  /* consumed: a keepalive, or a counted drop */
};

/* Whether md (parsed) is UDP to one of our NAT-T ports: 4500, or the local
 * port of an installed UDP-encapsulated inbound SA (table t). */
static inline bool dp_natt_to_port(const struct dp_sa_table *t, const struct dp_meta *md)
{
	uint16_t dport = md->family == DPSEC_AF_INET6 ? md->key.k6.dport : md->key.k4.dport;

	return md->l4proto == IPPROTO_UDP && dp_sa_natt_port(t, rte_be_to_cpu_16(dport));
}

/* m: UDP to one of the gateway's addresses on a NAT-T port, parsed.
 * Decides what it carries; keepalives and malformed packets are counted and
 * freed here (DP_NATT_DONE). */
enum dp_natt_class dp_natt_classify(struct dp_worker *w, struct rte_mbuf *m, struct dp_meta *md);

/* Outbound over IPv6, after encryption: the UDP checksum (RFC 8200 §8.1;
 * RFC 6935/6936 allow zero only for tunnels that meet conditions dpsec
 * cannot promise). m: data at the IPv6 header, no extension headers. */
void dp_natt_udp6_cksum(struct rte_mbuf *m);

/* After transport-mode decapsulation of ESP in UDP (RFC 3948 §3.1.2): the
 * TCP or UDP checksum, which the sender computed over addresses a NAT may
 * have changed, recomputed over the packet as delivered. The packet passed
 * the ICV, so nothing is lost by it; fragments and IPv6 extension headers
 * are left as they are, an IPv4 UDP checksum of zero too (none sent). */
void dp_natt_fix_inner_cksum(struct rte_mbuf *m, const struct dp_meta *md);

/* Keepalive schedule of one outbound UDP-encapsulated SA (manager lcore). */
struct dp_natt_ka {
	uint64_t packets; /* the SA's packet count when last looked at */
	uint64_t quiet_since_tsc; /* when that count was last seen to change, or the last keepalive */
};

/* Starts the schedule of an SA installed at now with packets sent so far. */
void dp_natt_ka_start(struct dp_natt_ka *ka, uint64_t now_tsc, uint64_t packets);

/* True when the SA sent nothing (its count did not move) for interval_tsc
 * and a keepalive is due now; the schedule then restarts from now. An
 * interval of 0 turns keepalives off. */
bool dp_natt_ka_due(struct dp_natt_ka *ka, uint64_t now_tsc, uint64_t packets,
		    uint64_t interval_tsc);

/* Builds the keepalive of the outbound SA described by c into m (empty):
 * IP, UDP from the SA's local address and port to the peer's, one 0xff
 * byte; data at the IP header. Returns 0, or -1 when m has no room. */
int dp_natt_ka_build(struct rte_mbuf *m, const struct dpsec_sa_conf *c);

/* Sends the keepalive of the SA described by c through the inject ring (worker 0 transmits);
 * counted as natt_keepalives_out, or natt_keepalives_unsent when there is
 * no route, neighbour (resolution is asked for) or buffer. */
void dp_natt_ka_send(struct dp_ctx *dp, const struct dpsec_sa_conf *c);

#endif
