/* esp_out.c - outbound ESP (RFC 4303): sequence numbers, padding, tunnel and
 * transport encapsulation, in UDP for NAT traversal (RFC 3948), and one
 * crypto burst for the whole batch, AH SAs' packets (ah.c) among them. */
#include <assert.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dp.h"
#include "dp_pkt.h"
#include "esp.h"
#include "natt.h"
#include "ofl_engine.h"

static_assert(DP_BURST <= OFL_MAX_BURST, "a worker's burst goes to the engine as one job burst");

static inline uint32_t esp_pad_len(uint32_t payload, uint8_t block)
{
	return (block - ((payload + ESP_TRAILER_LEN) & (block - 1u))) & (block - 1u);
}

/* Reserves n consecutive sequence numbers with one atomic add, so that
 * workers sharing an SA (the fat tunnel) never hand out the same number;
 * returns how many of them are usable from *first on: up to the SA's
 * limit. Without ESN the counter may not pass 2^32 - 1: the SA stops
 * there, it never wraps. A static key's limit below that is where its
 * numbers reserved on disk end (the manager raises it): the SA waits. */
static inline uint16_t esp_out_seq_reserve(struct dp_sa *sa, uint16_t n, uint64_t *first)
{
	uint64_t last = __atomic_add_fetch(&sa->seq, n, __ATOMIC_SEQ_CST);
	uint64_t limit = __atomic_load_n(&sa->seq_limit, __ATOMIC_SEQ_CST); /* dp_sa_move_out()'s */

	*first = last - n + 1;
	if (last >= *first && last <= limit)
		return n;
	if (limit == dp_sa_seq_end(sa))
		__atomic_store_n(&sa->stopped, DP_SA_STOPPED_SPENT, __ATOMIC_RELAXED);
	return *first > limit || *first == 0 ? 0 : (uint16_t)(limit - *first + 1);
}

/* NAT traversal: the template's UDP header, already in place at udp, gets
 * the length of everything after the IP header (RFC 3948 §2.1); its
 * checksum stays 0 over IPv4, over IPv6 it follows the encryption. */
static inline void esp_out_udp_len(const struct dp_sa *sa, uint8_t *udp, uint32_t udp_len)
{
	if (sa->flags & DP_SA_NATT)
		((struct rte_udp_hdr *)udp)->dgram_len = rte_cpu_to_be_16((uint16_t)udp_len);
}

/* The outer IPv4 header: the SA's 20-byte template, then DSCP and ECN
 * copied from the inner header (RFC 4301 §5.1.2.1, RFC 6040 normal mode;
 * or the SA's fixed DSCP),
 * DF as the SA says (copied from an inner IPv4 header unless set or
 * cleared, RFC 4301 §8.1), the checksum finished from the
 * template's partial sum. */
static inline void esp_out_ip4(struct dp_worker *w, const struct dp_sa *sa, uint8_t *p,
			       uint32_t total, const struct dp_meta *md, const uint8_t *inner)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;
	uint32_t sum;
	uint8_t tos_word[2];
	uint16_t tos;

	memcpy(p, sa->outer, sizeof(*ip));
	sum = ip->hdr_checksum; /* the template's fixed fields, folded */
	tos_word[0] = 0;
	tos_word[1] = dp_outer_tos(sa, md, inner);
	memcpy(&tos, tos_word, 2); /* the TOS byte alone, as the header's first word sums it */
	ip->type_of_service = tos_word[1];
	ip->total_length = rte_cpu_to_be_16((uint16_t)total);
	ip->packet_id = rte_cpu_to_be_16(w->ip_id++);
	ip->fragment_offset = dp_sa_outer_df(sa, md->family, inner);
	sum += (uint32_t)tos + ip->total_length + ip->packet_id + ip->fragment_offset;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->hdr_checksum = (uint16_t)~sum;
}

/* Tunnel mode: the outer header (and the UDP header) from the SA's template;
 * over IPv6, traffic class copied from the inner header as esp_out_ip4 does,
 * the flow label the SA's (dp_sa.c). */
static void esp_out_outer(struct dp_worker *w, const struct dp_sa *sa, uint8_t *p,
			  uint32_t total, const struct dp_meta *md, const uint8_t *inner)
{
	if (sa->flags & DP_SA_OUTER6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)p;

		memcpy(p, sa->outer, sa->outer_len); /* version and the SA's flow label */
		ip->vtc_flow |= rte_cpu_to_be_32((uint32_t)dp_outer_tos(sa, md, inner) << 20);
		ip->payload_len = rte_cpu_to_be_16((uint16_t)(total - sizeof(*ip)));
		esp_out_udp_len(sa, p + sizeof(*ip), total - (uint32_t)sizeof(*ip));
		return;
	}
	esp_out_ip4(w, sa, p, total, md, inner);
	if (sa->flags & DP_SA_NATT) {
		memcpy(p + sizeof(struct rte_ipv4_hdr), sa->outer + sizeof(struct rte_ipv4_hdr),
		       DP_SA_UDP_LEN);
		esp_out_udp_len(sa, p + sizeof(struct rte_ipv4_hdr),
				total - (uint32_t)sizeof(struct rte_ipv4_hdr));
	}
}

/* Transport mode: the IP header moves to the front and now carries ESP, or
 * with NAT traversal the SA's UDP header, then ESP (RFC 3948 §2.1). The
 * inner TCP/UDP checksum is left as the host made it: fixing it for the
 * NAT's address change is the receiver's business (RFC 3948 §3.1.2). */
static void esp_out_transport_hdr(const struct dp_sa *sa, uint8_t *p, uint32_t hdr_gap,
				  uint32_t ip_len, uint32_t total, uint8_t family)
{
	uint8_t proto = (sa->flags & DP_SA_NATT) ? IPPROTO_UDP : IPPROTO_ESP;

	dp_ip_hdr_move(p, p + hdr_gap, ip_len);
	memcpy(p + ip_len, sa->outer, sa->outer_len); /* the UDP header, or nothing */
	esp_out_udp_len(sa, p + ip_len, total - ip_len);
	dp_ip_set_proto_len(p, family, proto, total);
}

static void esp_out_trailer(uint8_t *tail, uint32_t pad, uint8_t nh)
{
	for (uint32_t i = 0; i < pad; i++)
		tail[i] = (uint8_t)(i + 1); /* RFC 4303 §2.4 default padding */
	tail[pad] = (uint8_t)pad;
	tail[pad + 1] = nh;
}

/* Describes the crypto of one packet: GCM (RFC 4106: IV = sequence number,
 * AAD = SPI [|| seq hi] || seq lo) or, integ (the SA's DP_SA_INTEG), CBC +
 * HMAC (ICV over the ESP header, IV and ciphertext, plus the ESN high half,
 * RFC 4303 §2.2.1). */
static inline void esp_out_op(const struct dp_sa *sa, struct dp_meta *md, uint8_t *p, uint8_t *esp,
			      uint32_t ct_len, uint64_t seq, bool integ, struct ofl_op *op)
{
	bool esn = sa->flags & DP_SA_ESN;
	uint8_t *iv = esp + ESP_HDR_LEN;
	uint8_t *icv = iv + sa->iv_len + ct_len;
	uint32_t hi = rte_cpu_to_be_32((uint32_t)(seq >> 32));

	*op = (struct ofl_op){ .sa = &sa->crypto, .buf = p, .encrypt = true,
			       .cipher_off = (uint32_t)(iv + sa->iv_len - p), .cipher_len = ct_len };
	if (!integ) {
		uint64_t iv_be = rte_cpu_to_be_64(seq);

		memcpy(iv, &iv_be, 8);
		esp_gcm_op(sa, md, esp, seq, op);
		op->tag = icv;
		return;
	}
	op->iv = iv;
	op->auth_off = (uint32_t)(esp - p);
	op->auth_len = ESP_HDR_LEN + sa->iv_len + ct_len;
	op->tag = icv;
	if (esn) {
		memcpy(icv, &hi, 4); /* hashed after the ciphertext, then overwritten */
		op->auth_len += 4;
		op->tag = md->tag;
	}
}

/* Room for hdr bytes before the packet (and an Ethernet header before
 * them) and trailer bytes after it, in its one segment (rx linearised it);
 * returns the new start and the trailer's place, or NULL. */
static inline uint8_t *esp_out_grow(struct rte_mbuf *m, uint32_t hdr, uint32_t trailer,
				    uint8_t **tail)
{
	uint8_t *p;

	if (rte_pktmbuf_tailroom(m) < trailer || rte_pktmbuf_headroom(m) < hdr + RTE_ETHER_HDR_LEN)
		return NULL;
	p = rte_pktmbuf_mtod(m, uint8_t *) - hdr;
	*tail = p + hdr + m->data_len;
	m->data_off = (uint16_t)(m->data_off - hdr);
	m->data_len = (uint16_t)(m->data_len + hdr + trailer);
	m->pkt_len += hdr + trailer;
	return p;
}

/* The CBC IV into the packet: 16 bytes (AES) or 8 (3DES), each a fixed-size
 * copy rather than a memcpy call of the SA's length; none for NULL
 * encryption. */
static inline void esp_out_cbc_iv(uint8_t *dst, const uint8_t *iv, uint8_t len)
{
	if (len == 16)
		memcpy(dst, iv, 16);
	else if (len == 8)
		memcpy(dst, iv, 8);
}

/* The ESP header (SPI, sequence number), the CBC IV after it (integ: the
 * SA's DP_SA_INTEG, a constant where the caller knows it), the trailer and
 * the crypto description: what every ESP SA does after its headers. */
static inline void esp_out_body(const struct dp_sa *sa, struct dp_meta *md, uint8_t *p,
				uint8_t *esp, uint8_t *tail, uint32_t payload, uint32_t pad,
				uint8_t nh, uint64_t seq, bool integ, const uint8_t *cbc_iv,
				struct ofl_op *op)
{
	uint32_t seq_be = rte_cpu_to_be_32((uint32_t)seq);

	memcpy(esp, &sa->spi_be, 4);
	memcpy(esp + 4, &seq_be, 4); /* the header need not be 4-byte aligned */
	if (integ)
		esp_out_cbc_iv(esp + ESP_HDR_LEN, cbc_iv, sa->iv_len);
	esp_out_trailer(tail, pad, nh);
	esp_out_op(sa, md, p, esp, payload + pad + ESP_TRAILER_LEN, seq, integ, op);
	md->inner_len = payload;
}

/* Builds the ESP packet around the payload, any mode, family or
 * encapsulation; returns 0 or a drop reason. */
static int esp_out_one(struct dp_worker *w, struct rte_mbuf *m, struct dp_sa *sa, uint64_t seq,
		       const uint8_t *cbc_iv, struct ofl_op *op)
{
	struct dp_meta *md = dp_meta(m);
	bool tunnel = sa->flags & DP_SA_TUNNEL;
	uint32_t ip_len = tunnel ? 0 : md->l3_len;
	uint32_t payload = m->pkt_len - ip_len;
	uint32_t pad = esp_pad_len(payload, sa->block_len);
	uint32_t hdr = sa->outer_len + ESP_HDR_LEN + sa->iv_len; /* transport: UDP or nothing */
	uint8_t nh = tunnel ? (md->family == DPSEC_AF_INET6 ? ESP_NH_IPV6 : ESP_NH_IPV4) : md->l4proto;
	uint8_t *tail, *p;

	if (!tunnel && md->family == DPSEC_AF_INET6 && md->l3_len != sizeof(struct rte_ipv6_hdr))
		return DP_DROP_unsupported_ext_headers;
	if (!tunnel && (md->family == DPSEC_AF_INET6) != !!(sa->flags & DP_SA_OUTER6))
		return DP_DROP_no_sa;
	p = esp_out_grow(m, hdr, pad + ESP_TRAILER_LEN + sa->icv_len, &tail);
	if (p == NULL)
		return DP_DROP_no_room;
	if (tunnel) {
		esp_out_outer(w, sa, p, m->pkt_len, md, p + hdr);
		dp_sa_route_key(sa, md);
	} else
		esp_out_transport_hdr(sa, p, hdr, ip_len, m->pkt_len, md->family);
	esp_out_body(sa, md, p, p + ip_len + sa->outer_len, tail, payload, pad, nh, seq,
		     sa->flags & DP_SA_INTEG, cbc_iv, op);
	return 0;
}

/* esp_out_one for the common case, tunnel mode over IPv4 without NAT
 * traversal: a fixed 20-byte outer header and none of the transport, IPv6
 * or UDP branches; integ, a constant in each caller, picks GCM or CBC. */
static inline __attribute__((always_inline)) int
esp_out_tun4(struct dp_worker *w, struct rte_mbuf *m, struct dp_sa *sa, uint64_t seq, bool integ,
	     const uint8_t *cbc_iv, struct ofl_op *op)
{
	struct dp_meta *md = dp_meta(m);
	uint32_t payload = m->pkt_len;
	uint32_t pad = esp_pad_len(payload, sa->block_len);
	uint32_t hdr = sizeof(struct rte_ipv4_hdr) + ESP_HDR_LEN + sa->iv_len;
	uint8_t nh = md->family == DPSEC_AF_INET6 ? ESP_NH_IPV6 : ESP_NH_IPV4;
	uint8_t *tail, *p;

	p = esp_out_grow(m, hdr, pad + ESP_TRAILER_LEN + sa->icv_len, &tail);
	if (p == NULL)
		return DP_DROP_no_room;
	esp_out_ip4(w, sa, p, m->pkt_len, md, p + hdr);
	dp_sa_route_key(sa, md);
	esp_out_body(sa, md, p, p + sizeof(struct rte_ipv4_hdr), tail, payload, pad, nh, seq,
		     integ, cbc_iv, op);
	return 0;
}

/* esp_out_tun4 for a GCM SA. */
static int esp_out_tun4_gcm(struct dp_worker *w, struct rte_mbuf *m, struct dp_sa *sa,
			    uint64_t seq, const uint8_t *cbc_iv, struct ofl_op *op)
{
	return esp_out_tun4(w, m, sa, seq, false, cbc_iv, op);
}

/* esp_out_tun4 for a CBC + HMAC SA. */
static int esp_out_tun4_cbc(struct dp_worker *w, struct rte_mbuf *m, struct dp_sa *sa,
			    uint64_t seq, const uint8_t *cbc_iv, struct ofl_op *op)
{
	return esp_out_tun4(w, m, sa, seq, true, cbc_iv, op);
}

/* Counts a run of packets sent on one SA: once per run, not per packet. */
static void esp_out_count(struct dp_worker *w, const struct dp_sa *sa, uint32_t packets,
			  uint64_t inner_bytes)
{
	struct dp_sa_counters *sc = &w->sa_ctr[sa->idx];

	if (packets == 0)
		return;
	sc->packets += packets;
	sc->bytes += inner_bytes;
	if (sa->flags & DP_SA_AH) {
		w->ctr->c[DP_C_ah_out_packets] += packets;
	} else {
		w->ctr->c[DP_C_esp_out_packets] += packets;
		if (dp_sa_confidential(sa))
			w->ctr->c[DP_C_confidential_bytes_sent] += inner_bytes;
	}
	w->ctr->c[DP_C_authenticated_bytes_sent] += inner_bytes;
	w->ctr->c[(sa->flags & DP_SA_TUNNEL) ? DP_C_bytes_sent_in_tunnels : DP_C_transport_bytes_sent] +=
		inner_bytes;
}

/* After crypto, per packet, what only some SAs need: AH's header back in
 * place, the ESN ICV copy, the UDP checksum over IPv6 with NAT traversal. */
static void esp_out_post(struct rte_mbuf *m, struct dp_sa *sa, const struct ofl_op *op)
{
	struct dp_meta *md = dp_meta(m);

	if (sa->flags & DP_SA_AH)
		dp_ah_out_done(m, sa);
	else if (op->tag == md->tag)
		ofl_icv_copy(rte_pktmbuf_mtod_offset(m, uint8_t *, m->pkt_len - sa->icv_len),
			     md->tag, sa->icv_len);
	if ((sa->flags & (DP_SA_NATT | DP_SA_OUTER6)) == (DP_SA_NATT | DP_SA_OUTER6))
		dp_natt_udp6_cksum(m); /* over the ciphertext and ICV: after crypto */
}

/* Second pass, run by run: engine status, esp_out_post where the SA needs
 * it, counters once per run. */
static uint16_t esp_out_finish(struct dp_worker *w, struct rte_mbuf **ok, struct ofl_op *ops,
			       const struct esp_span *spans, uint16_t n_spans,
			       struct rte_mbuf **out)
{
	uint16_t good = 0;

	for (uint16_t s = 0; s < n_spans; s++) {
		struct dp_sa *sa = spans[s].sa;
		bool post = sa->flags & (DP_SA_AH | DP_SA_ESN | DP_SA_NATT);
		uint32_t packets = 0;
		uint64_t bytes = 0;

		for (uint16_t j = spans[s].first; j < spans[s].end; j++) {
			struct rte_mbuf *m = ok[j];

			if (ops[j].status != 0) {
				w->sa_ctr[sa->idx].drops++;
				dp_drop(w, m, DP_DROP_crypto_error);
				continue;
			}
			if (post)
				esp_out_post(m, sa, &ops[j]);
			packets++;
			bytes += dp_meta(m)->inner_len;
			out[good++] = m;
		}
		esp_out_count(w, sa, packets, bytes);
	}
	return good;
}

typedef int esp_out_fn(struct dp_worker *w, struct rte_mbuf *m, struct dp_sa *sa, uint64_t seq,
		       const uint8_t *cbc_iv, struct ofl_op *op);

/* AH (ah.c) as an esp_out_fn: it needs no IV. */
static int esp_out_ah(struct dp_worker *w, struct rte_mbuf *m, struct dp_sa *sa, uint64_t seq,
		      const uint8_t *cbc_iv, struct ofl_op *op)
{
	(void)cbc_iv;
	return dp_ah_out_one(w, m, sa, seq, op);
}

/* Why a packet got no sequence number: the SA's space spent, this copy
 * of the SA replaced by one to the peer's new address, or its static key's
 * numbers not yet reserved on disk. */
static __rte_noinline int esp_out_unnumbered(const struct dp_sa *sa)
{
	switch (__atomic_load_n(&sa->stopped, __ATOMIC_RELAXED)) {
	case DP_SA_STOPPED_SPENT: return DP_DROP_seq_overflow;
	case DP_SA_STOPPED_MOVED: return DP_DROP_sa_moved;
	default: return DP_DROP_seq_unsaved;
	}
}

/* Encapsulates the run of packets mb[0..run) on sa with fn (a constant
 * once inlined), numbered from seq, the first usable of them; their ops
 * and mbufs go to ops[*k] and ok[*k] on. */
static inline __attribute__((always_inline)) void
esp_out_run(struct dp_worker *w, esp_out_fn *fn, struct dp_sa *sa, struct rte_mbuf **mb,
	    uint16_t run, uint16_t usable, uint64_t seq, uint8_t (*ivs)[16], struct ofl_op *ops,
	    struct rte_mbuf **ok, uint16_t *k)
{
	for (uint16_t j = 0; j < run; j++) {
		int rc = j >= usable ? esp_out_unnumbered(sa) : fn(w, mb[j], sa, seq + j, ivs[j], &ops[*k]);

		if (rc != 0) {
			w->sa_ctr[sa->idx].drops++;
			dp_drop(w, mb[j], rc);
			continue;
		}
		ok[(*k)++] = mb[j];
	}
}

/* First pass per run of packets sharing an SA: one sequence number
 * reservation, then each packet encapsulated and its crypto described,
 * by the SA's kind: ESP tunnel over IPv4 without NAT traversal (GCM or
 * CBC), AH, or any other ESP; then one crypto burst for everything. */
uint16_t dp_esp_out(struct dp_worker *w, struct rte_mbuf **mb, uint16_t n)
{
	struct ofl_op ops[DP_BURST];
	struct rte_mbuf *ok[DP_BURST];
	struct esp_span spans[DP_BURST];
	uint8_t ivs[DP_BURST][16];
	uint16_t k = 0, n_spans;
	bool random_ivs;

	n_spans = esp_spans(mb, n, spans, &random_ivs);
	if (random_ivs) /* CBC's, RFC 3602 §3 */
		ofl_cpu_random(w->crypto, &ivs[0][0], (uint32_t)(n * sizeof(ivs[0])));
	for (uint16_t s = 0; s < n_spans; s++) {
		struct dp_sa *sa = spans[s].sa;
		uint16_t i = spans[s].start, run = spans[s].len;
		uint8_t kind = sa->flags &
			       (DP_SA_AH | DP_SA_TUNNEL | DP_SA_OUTER6 | DP_SA_NATT | DP_SA_INTEG);
		uint64_t seq;
		uint16_t usable = esp_out_seq_reserve(sa, run, &seq);

		spans[s].first = k;
		if (kind == DP_SA_TUNNEL)
			esp_out_run(w, esp_out_tun4_gcm, sa, &mb[i], run, usable, seq, &ivs[i], ops, ok,
				    &k);
		else if (kind == (DP_SA_TUNNEL | DP_SA_INTEG))
			esp_out_run(w, esp_out_tun4_cbc, sa, &mb[i], run, usable, seq, &ivs[i], ops, ok,
				    &k);
		else if (kind & DP_SA_AH)
			esp_out_run(w, esp_out_ah, sa, &mb[i], run, usable, seq, &ivs[i], ops, ok, &k);
		else
			esp_out_run(w, esp_out_one, sa, &mb[i], run, usable, seq, &ivs[i], ops, ok, &k);
		spans[s].end = k;
	}
	ofl_cpu_run(w->crypto, ops, k);
	return esp_out_finish(w, ok, ops, spans, n_spans, mb);
}
