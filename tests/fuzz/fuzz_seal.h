/* fuzz_seal.h - ESP and AH packets sealed for an inbound SA of dpsecd's
 * (their outer headers, the ICV), so that the fuzz targets reach what
 * follows the ICV check: the
 * plaintext encrypted and the ICV computed with the SA's own keys through
 * the crypto engine (the engine itself is checked against RFC vectors and
 * OpenSSL elsewhere). */
#ifndef FUZZ_SEAL_H
#define FUZZ_SEAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dp_sa.h"
#include "dpsec_model.h"
#include "esp.h"
#include "ofl_engine.h"

/* The outer IP header of a packet of len bytes from inbound SA c's peer
 * to us, at p, carrying next (ESP or AH), with the UDP header between for
 * an SA in UDP (RFC 3948); TOS, flow label and fragment bits zero. */
static inline void fuzz_put_outer(uint8_t *p, const struct dpsec_sa_conf *c, uint32_t len, uint8_t next)
{
	bool udp = c->encap == DPSEC_ENCAP_UDP;
	uint32_t ip_len = c->local.family == DPSEC_AF_INET6 ? 40 : 20;

	if (ip_len == 40) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)p;

		memset(ip, 0, sizeof(*ip));
		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16((uint16_t)(len - ip_len));
		ip->proto = udp ? IPPROTO_UDP : next;
		ip->hop_limits = 64;
		memcpy(ip->src_addr, c->remote.a, 16);
		memcpy(ip->dst_addr, c->local.a, 16);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;

		memset(ip, 0, sizeof(*ip));
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16((uint16_t)len);
		ip->time_to_live = 64;
		ip->next_proto_id = udp ? IPPROTO_UDP : next;
		memcpy(&ip->src_addr, c->remote.a, 4);
		memcpy(&ip->dst_addr, c->local.a, 4);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	if (udp) {
		struct rte_udp_hdr u = { .src_port = rte_cpu_to_be_16(c->udp_sport),
					 .dst_port = rte_cpu_to_be_16(c->udp_dport),
					 .dgram_len = rte_cpu_to_be_16((uint16_t)(len - ip_len)) };

		memcpy(p + ip_len, &u, sizeof(u));
	}
}

/* Encrypts the ct_len bytes of plaintext at p + hdr + ESP header + IV in
 * place as inbound SA sa would receive them, its ESP header (SPI, seq's
 * low half) and IV before them, and writes the ICV after them (room for
 * it, and for the high half of seq hashed with ESN, must follow). */
static inline void fuzz_esp_seal(struct ofl_cpu *e, const struct dp_sa *sa, uint8_t *p, uint32_t hdr,
				 uint32_t ct_len, uint64_t seq)
{
	uint8_t *esp = p + hdr, *iv = esp + ESP_HDR_LEN, nonce[12], aad[12], tag[DPSEC_MAX_ICV];
	uint32_t hi = rte_cpu_to_be_32((uint32_t)(seq >> 32)), lo = rte_cpu_to_be_32((uint32_t)seq);
	bool esn = sa->flags & DP_SA_ESN;
	struct ofl_op op = { .sa = &sa->crypto, .buf = p, .encrypt = true, .tag = tag,
			     .cipher_off = hdr + ESP_HDR_LEN + sa->iv_len, .cipher_len = ct_len,
			     .iv = iv };

	memcpy(esp, &sa->spi_be, 4);
	memcpy(esp + 4, &lo, 4);
	memset(iv, 0x77, sa->iv_len);
	if (!(sa->flags & DP_SA_INTEG)) {
		memcpy(nonce, sa->crypto.salt, 4);
		memcpy(nonce + 4, iv, 8);
		memcpy(aad, esp, 4);
		memcpy(aad + 4, esn ? &hi : &lo, 4);
		memcpy(aad + 8, &lo, 4);
		op.iv = nonce;
		op.aad = aad;
		op.aad_len = esn ? 12 : 8;
		op.auth_len = ct_len; /* combined modes authenticate the cipher range */
	} else {
		op.auth_off = hdr;
		op.auth_len = ESP_HDR_LEN + sa->iv_len + ct_len + (esn ? 4 : 0);
		memcpy(p + op.cipher_off + ct_len, &hi, 4); /* hashed only */
	}
	ofl_cpu_run(e, &op, 1);
	if (op.status != 0)
		abort(); /* the harness's own op: a packet it sealed wrong reaches nothing */
	memcpy(p + op.cipher_off + ct_len, tag, sa->icv_len);
}

/* The ICV of an AH packet of len bytes at p for sa (RFC 4302 §3.3.3.1),
 * into icv: over a copy with the outer header's mutable fields zeroed
 * (the caller leaves TOS, flow label and fragment bits zero: the TTL and
 * the IPv4 checksum remain), with ESN the high half of seq appended. */
static inline void fuzz_ah_seal(struct ofl_cpu *e, const struct dp_sa *sa, const uint8_t *p,
				uint32_t len, uint64_t seq, uint8_t *icv)
{
	static uint8_t copy[4100];
	uint32_t hi = rte_cpu_to_be_32((uint32_t)(seq >> 32)), n = len;
	uint8_t tag[DPSEC_MAX_ICV];
	struct ofl_op op = { .sa = &sa->crypto, .buf = copy, .encrypt = true, .tag = tag };

	if (len > sizeof(copy) - 4)
		abort();
	memcpy(copy, p, len);
	if (sa->flags & DP_SA_OUTER6) {
		copy[7] = 0; /* hop limit */
	} else {
		copy[8] = 0; /* TTL */
		copy[10] = copy[11] = 0; /* checksum */
	}
	if (sa->flags & DP_SA_ESN) {
		memcpy(copy + n, &hi, 4);
		n += 4;
	}
	op.auth_len = n;
	ofl_cpu_run(e, &op, 1);
	memcpy(icv, tag, sa->icv_len);
}

#endif
