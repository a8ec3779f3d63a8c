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
 * the inner packet, parsed, and checked against their SA's rule. Packets of
 * SAs another worker owns are handed to it (not among the returned ones). */
uint16_t dp_esp_in(struct dp_worker *w, struct rte_mbuf **mb, uint16_t n);

/* The second half of dp_esp_in for packets whose SA (meta.sa) w owns:
 * replay check, crypto, decapsulation, inner policy check. */
uint16_t dp_esp_in_owned(struct dp_worker *w, struct rte_mbuf **mb, uint16_t n);

#define ESP_HDR_LEN 8
#define ESP_TRAILER_LEN 2 /* pad length, next header */
#define ESP_NH_IPV4 4
#define ESP_NH_IPV6 41
#define ESP_NH_NONE 59

/* RFC 4106 §4-5: the GCM nonce is salt || IV, the AAD is SPI || seq low, or
 * SPI || seq high || seq low with ESN. Both directions build them alike. */
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
}

/* A run of packets on one SA in a burst: its counters are added once, when
 * the SA changes or the burst ends (flush: the direction's counting). */
struct esp_run {
	const struct dp_sa *sa;
	uint32_t packets;
	uint64_t bytes;
};

typedef void (*esp_run_flush)(struct dp_worker *w, const struct dp_sa *sa, uint32_t packets,
			      uint64_t bytes);

static inline void esp_run_add(struct dp_worker *w, struct esp_run *r, const struct dp_sa *sa,
			       uint32_t bytes, esp_run_flush flush)
{
	if (sa != r->sa) {
		if (r->sa != NULL)
			flush(w, r->sa, r->packets, r->bytes);
		*r = (struct esp_run){ .sa = sa };
	}
	r->packets++;
	r->bytes += bytes;
}

static inline void esp_run_end(struct dp_worker *w, const struct esp_run *r, esp_run_flush flush)
{
	if (r->sa != NULL)
		flush(w, r->sa, r->packets, r->bytes);
}

#endif
