/* esp.h - ESP (RFC 4303) burst processing: outbound encapsulation and
 * inbound decapsulation, tunnel and transport mode, IPv4 and IPv6. Each
 * function takes a burst whose data starts at the IP header and whose
 * dp_meta is filled, and returns how many packets are good: those are
 * compacted at the front of mb; the rest were counted under their drop
 * reason and freed. */
#ifndef DP_ESP_H
#define DP_ESP_H

#include <stdint.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dp_pkt.h"
#include "dp_sa.h"
#include "ofl_engine.h"

struct dp_worker;

/* meta.sa names the outbound SA of each packet. On return the good ones
 * meta holds the family and destination to route on (the outer header's in
 * tunnel mode). */
uint16_t dp_esp_out(struct dp_worker *w, struct rte_mbuf **mb, uint16_t n);

/* Packets are ESP addressed to the gateway; on return the good ones hold
 * the inner packet, parsed, and checked against their SA's rule. Every
 * worker may take packets of the same SA at once. */
uint16_t dp_esp_in(struct dp_worker *w, struct rte_mbuf **mb, uint16_t n);

/* AH (ah.c), on the same paths: dp_esp_out and dp_esp_in call it for the
 * SAs flagged DP_SA_AH. The header's length: 12 bytes and the ICV, a
 * multiple of 4 bytes over IPv4 and of 8 over IPv6 (RFC 4302 §2.2). */
#define AH_FIXED_LEN 12
static inline uint32_t dp_ah_len(const struct dp_sa *sa)
{
	uint32_t align = (sa->flags & DP_SA_OUTER6) ? 8 : 4;

	return (AH_FIXED_LEN + sa->icv_len + align - 1) & ~(align - 1);
}

/* Outbound: the packet's AH (tunnel: outer header too) around it, mutable
 * header fields zeroed for the ICV, and its crypto described; 0 or a drop
 * reason. After crypto, dp_ah_out_done() puts the ICV and the mutable fields
 * in. */
int dp_ah_out_one(struct dp_worker *w, struct rte_mbuf *m, struct dp_sa *sa, uint64_t seq,
		  struct ofl_op *op);
void dp_ah_out_done(struct rte_mbuf *m, const struct dp_sa *sa);
/* Inbound, after the replay check set meta.seq64: the received ICV saved,
 * the ICV and the mutable fields zeroed, the crypto described; 0 or a drop
 * reason. After the ICV verified, dp_ah_in_decap() strips AH. */
int dp_ah_in_prepare(struct dp_sa *sa, struct rte_mbuf *m, struct ofl_op *op);
int dp_ah_in_decap(const struct dp_sa *sa, struct rte_mbuf *m);

/* The SPI and the sequence number's low half of an inbound ESP or AH packet
 * (AH: after next header, length and reserved). */
static inline const uint8_t *dp_ipsec_hdr(struct rte_mbuf *m, const struct dp_meta *md)
{
	return rte_pktmbuf_mtod_offset(m, const uint8_t *,
				       md->l3_len + (md->l4proto == IPPROTO_AH ? 4 : 0));
}

static inline uint32_t dp_ipsec_spi_be(struct rte_mbuf *m, const struct dp_meta *md)
{
	uint32_t spi;

	memcpy(&spi, dp_ipsec_hdr(m, md), 4);
	return spi;
}

static inline uint32_t dp_ipsec_seq_lo(struct rte_mbuf *m, const struct dp_meta *md)
{
	uint32_t seq;

	memcpy(&seq, dp_ipsec_hdr(m, md) + 4, 4);
	return rte_be_to_cpu_32(seq);
}

/* DSCP and ECN of the inner header (tunnel mode copies them out). */
static inline uint8_t dp_inner_tos(const struct dp_meta *md, const uint8_t *inner)
{
	if (md->family == DPSEC_AF_INET)
		return ((const struct rte_ipv4_hdr *)inner)->type_of_service;
	return (uint8_t)(rte_be_to_cpu_32(((const struct rte_ipv6_hdr *)inner)->vtc_flow) >> 20);
}

/* The tunnel's outer TOS / traffic class: the inner DSCP and ECN (RFC
 * 4301 §5.1.2.1, RFC 6040 normal mode), or the SA's fixed DSCP with the
 * inner ECN. */
static inline uint8_t dp_outer_tos(const struct dp_sa *sa, const struct dp_meta *md,
				   const uint8_t *inner)
{
	return (uint8_t)((dp_inner_tos(md, inner) & sa->tos_keep) | sa->tos_set);
}

/* What routing reads next: the outer header's family and destination,
 * from the SA's template (tunnel mode). */
static inline void dp_sa_route_key(const struct dp_sa *sa, struct dp_meta *md)
{
	if (sa->flags & DP_SA_OUTER6) {
		md->family = DPSEC_AF_INET6;
		memcpy(md->key.k6.dst, ((const struct rte_ipv6_hdr *)sa->outer)->dst_addr, 16);
		return;
	}
	md->family = DPSEC_AF_INET;
	memcpy(md->key.k4.dst, &((const struct rte_ipv4_hdr *)sa->outer)->dst_addr, 4);
}

#define ESP_HDR_LEN 8
#define ESP_TRAILER_LEN 2 /* pad length, next header */
#define ESP_NH_IPV4 4
#define ESP_NH_IPV6 41
#define ESP_NH_NONE 59

/* RFC 4106 §4-5: the GCM nonce is salt || IV, the AAD is SPI || seq low, or
 * SPI || seq high || seq low with ESN; RFC 7634 §2-2.1 the same for
 * ChaCha20-Poly1305. Both directions build them alike, after the op's
 * cipher range. */
static inline void esp_gcm_op(const struct dp_sa *sa, struct dp_meta *md, const uint8_t *esp,
			      uint64_t seq64, struct ofl_op *op)
{
	bool esn = sa->flags & DP_SA_ESN;
	uint32_t hi = rte_cpu_to_be_32((uint32_t)(seq64 >> 32));

	memcpy(md->nonce, sa->crypto.salt, 4);
	memcpy(md->nonce + 4, esp + ESP_HDR_LEN, 8);
	memcpy(md->aad, esp, 4);
	memcpy(md->aad + 4, esn ? (const uint8_t *)&hi : esp + 4, 4);
	memcpy(md->aad + 8, esp + 4, 4);
	op->iv = md->nonce;
	op->aad = md->aad;
	op->aad_len = esn ? 12 : 8;
	op->auth_len = op->cipher_len;
}

/* A run of consecutive packets of a burst that share an SA: both
 * directions work run by run (one sequence number reservation, one window
 * lock, counters added once). Outbound, first/end: where the run's packets
 * went in the crypto batch once encapsulated. */
struct esp_span {
	struct dp_sa *sa;
	uint16_t start, len; /* in the burst */
	uint16_t first, end;
};

/* Splits mb[0..n) into runs of packets sharing an SA (meta.sap); returns
 * how many, and in *random_ivs (if not NULL) whether any of their SAs
 * sends random IVs (CBC: a separate integrity algorithm and an IV; not
 * NULL encryption, not the combined modes, whose IV is the counter). */
static inline uint16_t esp_spans(struct rte_mbuf *const *mb, uint16_t n, struct esp_span *spans,
				 bool *random_ivs)
{
	struct dp_sa *cur = NULL;
	uint16_t n_spans = 0;
	uint8_t iv = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct dp_sa *sa = dp_meta(mb[i])->sap;

		if (sa != cur) {
			spans[n_spans++] = (struct esp_span){ .sa = sa, .start = i };
			iv |= (sa->flags & DP_SA_INTEG) ? sa->iv_len : 0;
			cur = sa;
		}
	}
	if (random_ivs != NULL)
		*random_ivs = iv != 0;
	/* lengths afterwards: a counter in memory bumped per packet would chain
	 * every iteration through a store and a load */
	for (uint16_t s = 0; s < n_spans; s++)
		spans[s].len = (uint16_t)((s + 1 < n_spans ? spans[s + 1].start : n) - spans[s].start);
	return n_spans;
}

#endif
