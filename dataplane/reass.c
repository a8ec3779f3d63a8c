/* reass.c - reassembly of the ESP and AH fragments addressed to the
 * gateway. A peer whose path to us is narrower than its ESP packets, and
 * which lets them be fragmented (its outer DF clear, or IPv6 fragmenting at
 * the source), sends them in pieces; ESP and AH are processed on whole
 * packets only (RFC 4303 §3.4.1, RFC 4302 §3.4.1), so the receiver
 * reassembles first. DPDK's rte_ip_frag tables do the collecting, one per
 * worker: up to RTE_LIBRTE_IP_FRAG_MAX_FRAG (8) fragments a packet,
 * DP_REASS_MAX_PACKETS packets at once, each for at most the configured
 * timeout; a duplicate or overlapping fragment voids its packet (RFC 5722
 * asks that of IPv6). Here: the checks DPDK 22.11 leaves to its caller, the
 * one-buffer copy the ESP path needs (into a buffer of the big pool when
 * the packet is longer than a packet buffer), the IPv4 header checksum DPDK leaves
 * 0, and the count of every fragment to its end (dpsec_counters.h). UDP
 * to the gateway too: ESP in UDP (RFC 3948), whose first fragment alone
 * shows the NAT-T port and that it is not IKE, so whose datagram each
 * fragment belongs to is remembered; and any datagram whose later
 * fragments come ahead of its first (dp_reass_udp_here). The
 * same table makes whole the datagrams bound for transport-mode SAs,
 * which carry whole datagrams only (RFC 4303 §3.1.1; worker_policy.c). */

#include <string.h>

#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_malloc.h>

#include "dp.h"
#include "dp_pkt.h"
#include "frag_track.h"
#include "natt.h"
#include "reass.h"

#define REASS_BUCKET_ENTRIES 8 /* twice the slots the table may fill: few full buckets */
#define REASS_BUCKETS (2 * DP_REASS_MAX_PACKETS / REASS_BUCKET_ENTRIES)
#define IPV6_FRAG_HDR_END (sizeof(struct rte_ipv6_hdr) + sizeof(struct rte_ipv6_fragment_ext))
#define IPV6_FRAG_MF 1u

struct rte_mempool *dp_reass_big_pool_create(const char *name, int socket)
{
	return rte_pktmbuf_pool_create(name, DP_REASS_BIG_BUFFERS, 0, DP_META_SIZE,
				       DP_REASS_BIG_ROOM, socket);
}

int dp_reass_init(struct dp_worker *w, uint64_t timeout_tsc, int socket)
{
	w->reass_timeout_tsc = timeout_tsc;
	w->reass = rte_ip_frag_table_create(REASS_BUCKETS, REASS_BUCKET_ENTRIES,
					    DP_REASS_MAX_PACKETS, timeout_tsc, socket);
	w->reass_dr = rte_zmalloc_socket("dpsec_reass_dr", sizeof(*w->reass_dr),
					 RTE_CACHE_LINE_SIZE, socket);
	w->reass_udp = rte_zmalloc_socket("dpsec_reass_udp",
					  sizeof(*w->reass_udp) * DP_REASS_UDP_KEYS,
					  RTE_CACHE_LINE_SIZE, socket);
	return w->reass != NULL && w->reass_dr != NULL && w->reass_udp != NULL ? 0 : -1;
}

void dp_reass_fini(struct dp_worker *w)
{
	if (w->reass != NULL)
		rte_ip_frag_table_destroy(w->reass); /* frees the fragments it holds */
	rte_free(w->reass_dr);
	rte_free(w->reass_udp);
	w->reass = NULL;
	w->reass_dr = NULL;
	w->reass_udp = NULL;
}

/* A fragment's data: at least a byte, a multiple of 8 unless it is the
 * last (RFC 791; RFC 8200 §4.5), and not reaching past the 65,535 bytes a
 * packet may have (RFC 791; RFC 8200 §4.5 for the payload). */
static bool data_fits(uint32_t offset, uint32_t data, bool more, uint32_t limit)
{
	return data > 0 && !(more && data % 8 != 0) && offset + data <= limit;
}

static bool ipv4_fragment_ok(const struct rte_mbuf *m, const struct dp_meta *md)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	uint16_t fo = rte_be_to_cpu_16(ip->fragment_offset);
	uint32_t offset = (uint32_t)(fo & RTE_IPV4_HDR_OFFSET_MASK) * RTE_IPV4_HDR_OFFSET_UNITS;

	return data_fits(offset, m->pkt_len - md->l3_len, fo & RTE_IPV4_HDR_MF_FLAG,
			 UINT16_MAX - md->l3_len);
}

/* The fragment header right behind m's IPv6 header, or NULL. DPDK takes
 * it only there (it removes it from there): headers between them would be
 * lost, so such fragments are not taken. */
static const struct rte_ipv6_fragment_ext *ipv6_frag_hdr(const struct rte_mbuf *m)
{
	const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *);

	if (ip->proto != IPPROTO_FRAGMENT || m->pkt_len < IPV6_FRAG_HDR_END)
		return NULL;
	return (const struct rte_ipv6_fragment_ext *)(ip + 1);
}

static bool ipv6_fragment_ok(const struct rte_mbuf *m)
{
	const struct rte_ipv6_fragment_ext *fh = ipv6_frag_hdr(m);
	uint16_t fd;

	if (fh == NULL)
		return false;
	fd = rte_be_to_cpu_16(fh->frag_data);
	return data_fits(fd & ~7u, m->pkt_len - (uint32_t)IPV6_FRAG_HDR_END, fd & IPV6_FRAG_MF,
			 UINT16_MAX);
}

/* Hands m to the table: the whole packet, chained, when m completed it. */
static struct rte_mbuf *collect(struct dp_worker *w, struct rte_mbuf *m, uint8_t family,
				uint64_t now)
{
	m->l2_len = 0;
	if (family == DPSEC_AF_INET) {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);

		m->l3_len = sizeof(*ip);
		return rte_ipv4_frag_reassemble_packet(w->reass, w->reass_dr, m, now, ip);
	}
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *);

	m->l3_len = IPV6_FRAG_HDR_END;
	return rte_ipv6_frag_reassemble_packet(w->reass, w->reass_dr, m, now, ip,
					       (struct rte_ipv6_fragment_ext *)(ip + 1));
}

/* The fragments the table gave up (timed out, duplicate or overlapping,
 * too many, no room): each buffer on the death row is one fragment, or
 * several already chained. */
static void bury_dead(struct dp_worker *w)
{
	struct rte_ip_frag_death_row *dr = w->reass_dr;
	uint64_t n = 0;

	if (dr->cnt == 0)
		return;
	for (uint32_t i = 0; i < dr->cnt; i++)
		n += dr->row[i]->nb_segs;
	w->ctr->c[DP_C_reass_held] -= n;
	w->ctr->c[DP_DROP_reass_failed] += n;
	rte_ip_frag_free_death_row(dr, 0);
}

/* m's segments copied into one buffer of the big pool, with its meta;
 * frees m. NULL when it was dropped: longer than that buffer holds
 * (reass_too_big), or none free (no_buffer). */
static struct rte_mbuf *into_big_buffer(struct dp_worker *w, struct rte_mbuf *m)
{
	struct rte_mbuf *b = rte_pktmbuf_alloc(dp_g->big_pool);
	uint8_t *p = b != NULL && m->pkt_len <= rte_pktmbuf_tailroom(b)
			     ? (uint8_t *)rte_pktmbuf_append(b, (uint16_t)m->pkt_len)
			     : NULL;

	if (p == NULL) {
		dp_drop(w, m, b == NULL ? DP_DROP_no_buffer : DP_DROP_reass_too_big);
		rte_pktmbuf_free(b);
		return NULL;
	}
	for (const struct rte_mbuf *s = m; s != NULL; s = s->next) {
		memcpy(p, rte_pktmbuf_mtod(s, const uint8_t *), s->data_len);
		p += s->data_len;
	}
	memcpy(dp_meta(b), dp_meta(m), sizeof(struct dp_meta));
	rte_pktmbuf_free(m);
	return b;
}

/* The packet the table put together, made one buffer and parsed again. */
static struct rte_mbuf *finish(struct dp_worker *w, struct rte_mbuf *m, uint8_t family)
{
	struct dp_meta *md = dp_meta(m);
	int rc;

	w->ctr->c[DP_C_reass_held] -= m->nb_segs;
	w->ctr->c[DP_C_reass_fragments] += m->nb_segs;
	w->ctr->c[DP_C_reass_packets]++;
	if (rte_pktmbuf_linearize(m) != 0) { /* longer than its first buffer holds */
		m = into_big_buffer(w, m);
		if (m == NULL)
			return NULL;
		md = dp_meta(m);
	}
	if (family == DPSEC_AF_INET) {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);

		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	rc = dp_parse_ip_as(m, md, family);
	if (rc != 0) {
		dp_drop(w, m, rc);
		return NULL;
	}
	return m;
}

struct rte_mbuf *dp_reass_take(struct dp_worker *w, struct rte_mbuf *m, uint64_t now)
{
	struct dp_meta *md = dp_meta(m);
	uint8_t family = md->family;
	struct rte_mbuf *whole;

	if (family == DPSEC_AF_INET ? !ipv4_fragment_ok(m, md) : !ipv6_fragment_ok(m)) {
		dp_drop(w, m, DP_DROP_esp_fragment);
		return NULL;
	}
	w->ctr->c[DP_C_reass_held]++;
	whole = collect(w, m, family, now);
	bury_dead(w);
	return whole != NULL ? finish(w, whole, family) : NULL;
}

/* Who makes a UDP datagram to the gateway whole (dp_frag_first.owner). */
enum udp_owner { UDP_HERE = 1, UDP_HOST };

bool dp_reass_udp_here(struct dp_worker *w, struct rte_mbuf *m, bool esp_in_udp,
		       uint64_t now)
{
	const struct dp_frag_first *known;
	struct dp_frag_first k;

	if (!dp_frag_first_key(m, &k))
		return esp_in_udp; /* IPv6 with a header before the fragment header: dropped there */
	known = dp_frag_first_get(w->reass_udp, DP_REASS_UDP_KEYS, &k, now, w->reass_timeout_tsc);
	if (dp_meta(m)->flags & DP_M_NOT_FIRST) {
		if (known != NULL)
			return known->owner == UDP_HERE;
		k.owner = UDP_HERE; /* ahead of its first: held until the first shows whose */
	} else {
		k.owner = esp_in_udp || (known != NULL && known->owner == UDP_HERE) ? UDP_HERE
										   : UDP_HOST;
	}
	dp_frag_first_put(w->reass_udp, DP_REASS_UDP_KEYS, &k, now);
	return k.owner == UDP_HERE;
}

enum dp_udp_frag dp_reass_udp_fragment(struct dp_worker *w, struct rte_mbuf **m, uint64_t now)
{
	struct dp_meta *md = dp_meta(*m);
	bool esp_in_udp = false;

	if (!(md->flags & DP_M_NOT_FIRST) && dp_natt_to_port(&dp_g->sas, md)) {
		enum dp_natt_class c = dp_natt_classify(w, *m, md);

		if (c == DP_NATT_DONE) {
			*m = NULL;
			return DP_UDP_FRAG_TAKEN;
		}
		esp_in_udp = c == DP_NATT_FRAGMENT;
	}
	if (!dp_reass_udp_here(w, *m, esp_in_udp, now))
		return DP_UDP_FRAG_HOST;
	*m = dp_reass_take(w, *m, now);
	return DP_UDP_FRAG_TAKEN;
}

/* DPDK stops expiring when the death row is full: bury and go on until
 * an expiry finds nothing more. */
void dp_reass_expire(struct dp_worker *w, uint64_t now)
{
	uint32_t n;

	do {
		rte_ip_frag_table_del_expired_entries(w->reass, w->reass_dr, now);
		n = w->reass_dr->cnt;
		bury_dead(w);
	} while (n > 0);
}
