/* esp.h - ESP (RFC 4303) burst processing: outbound encapsulation and
 * inbound decapsulation, tunnel and transport mode, IPv4 and IPv6. Each
 * function takes a burst whose data starts at the IP header and whose
 * dp_meta is filled, and returns how many packets are good: those are
 * compacted at the front of mb; the rest were counted under their drop
 * reason and freed. */
#ifndef DP_ESP_H
#define DP_ESP_H

#include <stdint.h>

#include <rte_mbuf.h>

struct dp_worker;

/* meta.sa names the outbound SA of each packet. */
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

#endif
