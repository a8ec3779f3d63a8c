/* esp_in.c - inbound ESP (RFC 4303), also in UDP (RFC 3948), and AH (ah.c
 * does its own part: RFC 4302) on the same path: SAD lookup for
 * the burst, the SA's encapsulation, length and anti-replay checks before
 * crypto, one crypto burst, ICV verification in constant time, window update
 * only after the ICV verified, trailer checks, decapsulation (in tunnel
 * mode with RFC 6040's ECN egress), and the check that the inner packet
 * matches its SA's rule. */
#include <assert.h>
#include <stddef.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_prefetch.h>
#include <rte_ring_elem.h>
#include <rte_udp.h>

#include "dp.h"
#include "dp_pkt.h"
#include "dp_policy.h"
#include "esp.h"
#include "frag_track.h"
#include "natt.h"
#include "ofl_engine.h"

static_assert(RTE_HASH_LOOKUP_BULK_MAX == 64, "one word of hit bits per SAD lookup");
static_assert(DP_BURST <= 256, "a packet's key index (key_of) is a byte");

/* ESP in UDP must find an SA with UDP encapsulation, plain ESP one without:
 * the encapsulation is part of what IKE negotiated for the SA. */
static inline bool esp_in_encap_matches(const struct dp_sa *sa, const struct dp_meta *md)
{
	return !(md->flags & DP_M_NATT) == !(sa->flags & DP_SA_NATT);
}

/* Whether key k is the one these fields make. Compared field by field
 * rather than as a built key: a key just written byte by byte and read
 * back in words stalls on store forwarding, the cost of a lookup. */
static inline bool sad_key_is(const struct dp_sad_key *k, uint32_t spi_be, uint8_t proto,
			      uint8_t family, const uint8_t *dst)
{
	uint32_t a, b;

	if (k->spi_be != spi_be || k->proto != proto || k->family != family)
		return false;
	if (family == DPSEC_AF_INET6)
		return memcmp(k->dst, dst, 16) == 0;
	memcpy(&a, k->dst, 4);
	memcpy(&b, dst, 4);
	return a == b;
}

/* Keys the burst's packets; a packet with the key of the one before (the
 * same SA: the common case, a fat tunnel always) shares its lookup.
 * key_of[i]: the index among keys of packet i's key. Returns the number of
 * distinct keys; packets too short for a header are dropped. */
static uint16_t esp_in_keys(struct dp_worker *w, struct rte_mbuf **mb, uint16_t *n,
			    struct dp_sad_key *keys, uint8_t *key_of)
{
	uint16_t k = 0, kept = 0;

	for (uint16_t i = 0; i < *n; i++) {
		struct dp_meta *md = dp_meta(mb[i]);
		bool ah = md->l4proto == IPPROTO_AH;
		uint8_t proto = ah ? IPPROTO_AH : IPPROTO_ESP;
		uint32_t spi_be;

		if (mb[i]->pkt_len < (uint32_t)md->l3_len + (ah ? AH_FIXED_LEN : ESP_HDR_LEN)) {
			dp_drop(w, mb[i], ah ? DP_DROP_ah_bad_length : DP_DROP_esp_truncated);
			continue;
		}
		spi_be = dp_ipsec_spi_be(mb[i], md);
		if (k == 0 || !sad_key_is(&keys[k - 1], spi_be, proto, md->family, dp_meta_dst(md)))
			dp_sa_sad_key(&keys[k++], spi_be, proto, md->family, dp_meta_dst(md));
		key_of[kept] = (uint8_t)(k - 1);
		mb[kept++] = mb[i];
	}
	*n = kept;
	return k;
}

/* The SAD lookup of k keys, RTE_HASH_LOOKUP_BULK_MAX at a time (a burst
 * may hold more): key i found sets bit i % 64 of hits[i / 64] and data[i]. */
static void sad_lookup(const void **kp, uint16_t k, uint64_t *hits, void **data)
{
	for (uint16_t i = 0; i < k; i += RTE_HASH_LOOKUP_BULK_MAX) {
		uint16_t part = RTE_MIN((uint16_t)(k - i), (uint16_t)RTE_HASH_LOOKUP_BULK_MAX);

		hits[i / 64] = 0;
		rte_hash_lookup_bulk_data(dp_g->sas.sad, &kp[i], part, &hits[i / 64], &data[i]);
	}
}

static inline bool sad_hit(const uint64_t *hits, uint16_t i)
{
	return hits[i / 64] & (1ull << (i % 64));
}

/* With many SAs each key of a burst may find an SA out of cache, and every
 * packet then reads a chain of its lines: the flags, the window pointer,
 * the crypto template and the key schedule the engine reads. They are
 * fetched for all the burst's SAs at once, so that the misses overlap. */
static void esp_in_prefetch_sas(void *const *data, const uint64_t *hits, uint16_t k)
{
	for (uint16_t i = 0; i < k; i++) {
		const struct dp_sa *sa = data[i];

		if (!sad_hit(hits, i))
			continue;
		rte_prefetch0(sa);
		rte_prefetch0(&sa->seq);
		rte_prefetch0(&sa->crypto);
		rte_prefetch0(&sa->crypto.k);
	}
}

/* Finds each packet's SA; packets without one are dropped as bad SPI. */
static uint16_t esp_in_lookup(struct dp_worker *w, struct rte_mbuf **mb, uint16_t n)
{
	struct dp_sad_key keys[DP_BURST];
	const void *kp[DP_BURST];
	void *data[DP_BURST];
	uint8_t key_of[DP_BURST];
	uint64_t hits[(DP_BURST + 63) / 64];
	uint16_t k = esp_in_keys(w, mb, &n, keys, key_of), good = 0;

	for (uint16_t i = 0; i < k; i++)
		kp[i] = &keys[i];
	sad_lookup(kp, k, hits, data);
	esp_in_prefetch_sas(data, hits, k);
	for (uint16_t i = 0; i < n; i++) {
		if (!sad_hit(hits, key_of[i])) {
			dp_drop(w, mb[i], DP_DROP_bad_spi);
			continue;
		}
		struct dp_sa *sa = data[key_of[i]];

		if (unlikely(sa->expired)) {
			dp_drop(w, mb[i], DP_DROP_sa_expired);
			continue;
		}
		if (unlikely(!esp_in_encap_matches(sa, dp_meta(mb[i])))) {
			dp_drop(w, mb[i], DP_DROP_natt_mismatch);
			continue;
		}
		dp_meta(mb[i])->sap = sa;
		dp_meta(mb[i])->sa = sa->idx;
		rte_prefetch0(&w->sa_ctr[sa->idx]);
		mb[good++] = mb[i];
	}
	return good;
}

/* Ciphertext length, or -1 when the packet cannot be valid for the SA. */
static int32_t esp_in_ct_len(const struct dp_sa *sa, const struct rte_mbuf *m,
			     const struct dp_meta *md)
{
	int32_t ct = (int32_t)m->pkt_len - md->l3_len - ESP_HDR_LEN - sa->iv_len - sa->icv_len;

	if (ct < ESP_TRAILER_LEN || (ct & (sa->block_len - 1)) != 0)
		return -1;
	return ct;
}

static void esp_in_op(const struct dp_sa *sa, struct dp_meta *md, uint8_t *p, uint8_t *esp,
		      uint32_t ct_len, struct ofl_op *op)
{
	bool esn = sa->flags & DP_SA_ESN;
	uint8_t *iv = esp + ESP_HDR_LEN;
	uint8_t *icv = iv + sa->iv_len + ct_len;
	uint32_t hi = rte_cpu_to_be_32((uint32_t)(md->seq64 >> 32));

	ofl_icv_copy(md->icv, icv, sa->icv_len);
	*op = (struct ofl_op){ .sa = &sa->crypto, .buf = p, .encrypt = false, .tag = md->tag,
			       .cipher_off = (uint32_t)(iv + sa->iv_len - p), .cipher_len = ct_len };
	if (!(sa->flags & DP_SA_INTEG)) {
		esp_gcm_op(sa, md, esp, md->seq64, op);
		return;
	}
	op->iv = iv;
	op->auth_off = (uint32_t)(esp - p);
	op->auth_len = ESP_HDR_LEN + sa->iv_len + ct_len;
	if (esn) {
		memcpy(icv, &hi, 4); /* RFC 4303 §2.2.1: the high half is hashed, not sent */
		op->auth_len += 4;
	}
}

/* Length and anti-replay checks, then the crypto description (AH: ah.c's). */
static int esp_in_prepare(struct dp_sa *sa, struct rte_mbuf *m, struct ofl_op *op)
{
	struct dp_meta *md = dp_meta(m);
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *esp = p + md->l3_len;
	bool ah = sa->flags & DP_SA_AH;
	int32_t ct = ah ? 0 : esp_in_ct_len(sa, m, md);
	uint32_t seq_lo = dp_ipsec_seq_lo(m, md);

	if (ct < 0)
		return DP_DROP_esp_truncated;
	if (sa->replay != NULL) {
		if (dp_replay_check(sa->replay, seq_lo, sa->flags & DP_SA_ESN, &md->seq64) != 0)
			return DP_DROP_replay;
	} else {
		md->seq64 = seq_lo;
	}
	if (ah)
		return dp_ah_in_prepare(sa, m, op);
	md->inner_len = (uint32_t)ct;
	esp_in_op(sa, md, p, esp, (uint32_t)ct, op);
	return 0;
}

/* Checks padding (RFC 4303 §2.4) and next header; returns the next header
 * or a negative drop reason. */
static int esp_in_trailer(const struct dp_sa *sa, const uint8_t *ct_end, uint32_t ct_len)
{
	uint8_t pad = ct_end[-2], nh = ct_end[-1];

	if (pad > ct_len - ESP_TRAILER_LEN)
		return -DP_DROP_bad_padding;
	for (uint8_t i = 0; i < pad; i++)
		if (ct_end[-2 - pad + i] != i + 1)
			return -DP_DROP_bad_padding;
	if (nh == ESP_NH_NONE)
		return -DP_DROP_dummy;
	if ((sa->flags & DP_SA_TUNNEL) && nh != ESP_NH_IPV4 && nh != ESP_NH_IPV6)
		return -DP_DROP_bad_next_header;
	return nh | pad << 8;
}

/* Transport mode: the IP header moves up over ESP (and the UDP header of
 * NAT traversal) and carries the payload's protocol again, with its
 * lengths and checksum fixed (RFC 3948 §3.1.2). */
static int esp_in_decap_transport(struct rte_mbuf *m, struct dp_meta *md, uint32_t gap,
				  uint32_t payload, uint8_t nh)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t udp_len = (md->flags & DP_M_NATT) ? DP_SA_UDP_LEN : 0;
	uint32_t ip_len = md->l3_len - udp_len;

	if (md->family == DPSEC_AF_INET6 && ip_len != sizeof(struct rte_ipv6_hdr))
		return DP_DROP_unsupported_ext_headers;
	gap += udp_len;
	dp_ip_hdr_move(p + gap, p, ip_len);
	p = (uint8_t *)rte_pktmbuf_adj(m, (uint16_t)gap);
	rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - ip_len - payload));
	dp_ip_set_proto_len(p, md->family, nh, ip_len + payload);
	return 0;
}

/* Strips ESP and re-parses the inner packet; returns 0 or a drop reason. */
static int esp_in_decap(const struct dp_sa *sa, struct rte_mbuf *m)
{
	struct dp_meta *md = dp_meta(m);
	uint32_t gap = ESP_HDR_LEN + sa->iv_len, ct_len = md->inner_len;
	const uint8_t *ct_end = rte_pktmbuf_mtod_offset(m, uint8_t *, md->l3_len + gap + ct_len);
	int t = esp_in_trailer(sa, ct_end, ct_len);
	bool natt_transport = (md->flags & DP_M_NATT) && !(sa->flags & DP_SA_TUNNEL);
	uint32_t payload;
	uint8_t nh;
	int rc;

	if (t < 0)
		return -t;
	nh = (uint8_t)t;
	payload = ct_len - ESP_TRAILER_LEN - (uint32_t)(t >> 8);
	if (sa->flags & DP_SA_TUNNEL) {
		md->outer_ecn = dp_ip_ecn(rte_pktmbuf_mtod(m, uint8_t *), md->family);
		rte_pktmbuf_adj(m, (uint16_t)(md->l3_len + gap));
		rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - payload));
		if (payload == 0 || (*rte_pktmbuf_mtod(m, uint8_t *) >> 4) != (nh == ESP_NH_IPV4 ? 4 : 6))
			return DP_DROP_inner_malformed;
	} else if ((rc = esp_in_decap_transport(m, md, gap, payload, nh)) != 0) {
		return rc;
	}
	md->inner_len = payload;
	if (dp_parse_ip(m, md) != 0)
		return DP_DROP_inner_malformed;
	md->flags |= DP_M_FROM_SA;
	if (natt_transport)
		dp_natt_fix_inner_cksum(m, md);
	return 0;
}

/* Counts a run of packets received on one SA: once per run; the time of
 * last use is the poll round's (no TSC read per packet). */
static void esp_in_count(struct dp_worker *w, const struct dp_sa *sa, uint32_t packets,
			 uint64_t bytes)
{
	struct dp_sa_counters *sc = &w->sa_ctr[sa->idx];

	if (packets == 0)
		return;
	sc->packets += packets;
	sc->bytes += bytes;
	sc->last_use_tsc = w->round_tsc;
	if (sa->flags & DP_SA_AH) {
		w->ctr->c[DP_C_ah_in_packets] += packets;
	} else {
		w->ctr->c[DP_C_esp_in_packets] += packets;
		if (dp_sa_confidential(sa))
			w->ctr->c[DP_C_confidential_bytes_received] += bytes;
	}
	w->ctr->c[DP_C_authenticated_bytes_received] += bytes;
	w->ctr->c[(sa->flags & DP_SA_TUNNEL) ? DP_C_bytes_received_in_tunnels
					      : DP_C_transport_bytes_received] += bytes;
}

/* RFC 6040 §4.2 at a tunnel's egress: the outer header's ECN field
 * (md->outer_ecn) merged into the decapsulated packet's, so that
 * congestion marked on the way reaches its endpoints; returns 0 or a drop
 * reason. A combination the RFC calls unused is counted. */
static int esp_in_ecn(struct dp_worker *w, struct rte_mbuf *m)
{
	const struct dp_meta *md = dp_meta(m);
	uint8_t *ip = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t inner;
	bool unused;
	int ecn;

	if (likely(md->outer_ecn == DP_ECN_NOT_ECT))
		return 0;
	inner = dp_ip_ecn(ip, md->family);
	ecn = dp_ecn_egress(inner, md->outer_ecn, &unused);
	if (ecn < 0)
		return DP_DROP_ecn_ce_not_ect;
	if (unused)
		w->ctr->c[DP_C_ecn_unused_combinations]++;
	if (ecn != inner)
		dp_ip_set_ecn(ip, md->family, (uint8_t)ecn);
	return 0;
}

/* The decapsulation of one verified packet: ESP's or AH's, then in tunnel
 * mode the ECN egress; returns 0 or a drop reason. */
static int esp_in_strip(struct dp_worker *w, const struct dp_sa *sa, struct rte_mbuf *m)
{
	int rc = (sa->flags & DP_SA_AH) ? dp_ah_in_decap(sa, m) : esp_in_decap(sa, m);

	if (rc == 0 && (sa->flags & DP_SA_TUNNEL))
		rc = esp_in_ecn(w, m);
	return rc;
}

/* After crypto: the engine's status and the ICV, in constant time. */
static int esp_in_verify(const struct dp_sa *sa, struct rte_mbuf *m, const struct ofl_op *op)
{
	const struct dp_meta *md = dp_meta(m);

	if (op->status != 0)
		return DP_DROP_crypto_error;
	return ofl_icv_equal(md->tag, md->icv, sa->icv_len) ? 0 : DP_DROP_icv;
}

/* The source address of a packet still in front of ESP, in its header. */
static inline const uint8_t *esp_in_src_addr(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, const uint8_t *,
				       dp_meta(m)->family == DPSEC_AF_INET6
					       ? offsetof(struct rte_ipv6_hdr, src_addr)
					       : offsetof(struct rte_ipv4_hdr, src_addr));
}

/* The source of a packet of ESP in UDP, still in front of ESP: its
 * address's fingerprint (dp_sa_addr_fp) and its UDP port (network order). */
static inline void esp_in_udp_source(struct rte_mbuf *m, uint32_t *fp, uint16_t *port)
{
	const struct dp_meta *md = dp_meta(m);

	*fp = dp_sa_addr_fp(md->family, esp_in_src_addr(m));
	*port = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *,
					md->l3_len - sizeof(struct rte_udp_hdr))->src_port;
}

/* ESP in UDP that verified and was new to sa's window came from another
 * address or port (fp, port: esp_in_udp_source) than sa's peer sends from:
 * the peer's NAT mapped it anew (RFC 7296 §2.23). Handed to the manager
 * once per new source (natt_reported_*), which tells the control plane;
 * its SA_MOVE then names the source. A full ring: reported by a later
 * packet. */
static __rte_noinline void esp_in_peer_moved(struct dp_sa *sa, struct rte_mbuf *m, uint32_t fp,
					     uint16_t port)
{
	const struct dp_meta *md = dp_meta(m);
	struct dp_peer_moved r = { .sa_idx = sa->idx, .port_be = port, .family = md->family };

	if (port == __atomic_load_n(&sa->natt_reported_be, __ATOMIC_RELAXED) &&
	    fp == __atomic_load_n(&sa->natt_reported_fp, __ATOMIC_RELAXED))
		return;
	memcpy(r.addr, esp_in_src_addr(m), md->family == DPSEC_AF_INET6 ? 16 : 4);
	if (rte_ring_enqueue_elem(dp_g->peer_moved, &r, sizeof(r)) == 0) {
		__atomic_store_n(&sa->natt_reported_fp, fp, __ATOMIC_RELAXED);
		__atomic_store_n(&sa->natt_reported_be, port, __ATOMIC_RELAXED);
	}
}

/* The verdicts on a run of packets sharing one SA, in one pass over their
 * metadata: engine status and ICV, and each verified packet's number
 * recorded in the SA's window (RFC 4303 §3.4.3: only once its ICV
 * verified), one lock for the run. A number recorded meanwhile (by the
 * other copy in this batch or on another worker) makes the packet a
 * replay. With ESP in UDP and a window, a packet so proven from another
 * address or port than the peer's is the peer's new NAT mapping
 * (esp_in_peer_moved). */
static void esp_in_verify_run(const struct esp_span *run, struct rte_mbuf **batch,
			      const struct ofl_op *ops, int *rc)
{
	struct dp_replay *r = run->sa->replay;
	uint16_t end = run->start + run->len;
	bool watch = r != NULL && (run->sa->flags & DP_SA_NATT);

	if (r != NULL)
		dp_replay_lock(r);
	for (uint16_t j = run->start; j < end; j++) {
		rc[j] = esp_in_verify(run->sa, batch[j], &ops[j]);
		if (r != NULL && rc[j] == 0 && dp_replay_update(r, dp_meta(batch[j])->seq64) != 0)
			rc[j] = DP_DROP_replay;
	}
	if (r != NULL)
		dp_replay_unlock(r);
	for (uint16_t j = run->start; watch && j < end; j++) {
		uint32_t fp;
		uint16_t port;

		esp_in_udp_source(batch[j], &fp, &port);
		if (rc[j] == 0 &&
		    unlikely(port != __atomic_load_n(&run->sa->natt_peer_port_be, __ATOMIC_RELAXED) ||
			     fp != __atomic_load_n(&run->sa->natt_peer_fp, __ATOMIC_RELAXED)))
			esp_in_peer_moved(run->sa, batch[j], fp, port);
	}
}

/* The highest sequence number of each ESN SA among the packets of the
 * batch being built, kept as packets join it: esp_in_must_wait reads it
 * instead of searching the batch for each packet (128 * 64 comparisons
 * in a burst of 128). Found by the SA's table index in a few buckets, so
 * that a burst of many SAs (the scale case) costs no more than one of a
 * single SA. */
#define ESP_TOPS_BUCKETS 64

static_assert(DP_BURST < 255, "an entry's place, plus one, is a byte");

struct esp_batch_tops {
	uint8_t bucket[ESP_TOPS_BUCKETS]; /* 1 + the place of the bucket's last entry; 0: none */
	uint16_t n;
	struct {
		const struct dp_sa *sa;
		uint64_t seq;
		uint8_t prev; /* 1 + the place of the bucket's entry before it; 0: none */
	} e[DP_BURST];
};

static void esp_batch_tops_init(struct esp_batch_tops *t)
{
	memset(t->bucket, 0, sizeof(t->bucket));
	t->n = 0;
}

static uint64_t *esp_batch_top(struct esp_batch_tops *t, const struct dp_sa *sa)
{
	for (uint8_t i = t->bucket[sa->idx % ESP_TOPS_BUCKETS]; i != 0; i = t->e[i - 1].prev)
		if (t->e[i - 1].sa == sa)
			return &t->e[i - 1].seq;
	return NULL;
}

/* A packet of an ESN SA joins the batch with its inferred number. */
static void esp_batch_top_raise(struct esp_batch_tops *t, const struct dp_sa *sa, uint64_t seq)
{
	uint64_t *top = esp_batch_top(t, sa);
	uint8_t *bucket = &t->bucket[sa->idx % ESP_TOPS_BUCKETS];

	if (top != NULL) {
		*top = RTE_MAX(*top, seq);
		return;
	}
	t->e[t->n].sa = sa;
	t->e[t->n].seq = seq;
	t->e[t->n].prev = *bucket;
	*bucket = (uint8_t)++t->n;
}

/* With ESN, the high half of a packet's sequence number is inferred from
 * the window (RFC 4303 Appendix A). A packet earlier in the same batch that
 * will move the window can change that inference; such a packet must wait
 * for the next batch, when the earlier one has been verified and recorded. */
static bool esp_in_must_wait(const struct dp_sa *sa, struct rte_mbuf *m,
			     struct esp_batch_tops *tops)
{
	const struct dp_replay *r = sa->replay;
	uint64_t top = __atomic_load_n(&r->top, __ATOMIC_ACQUIRE);
	const uint64_t *batch_top = esp_batch_top(tops, sa);
	uint32_t lo;

	if (batch_top == NULL || *batch_top <= top)
		return false;
	lo = dp_ipsec_seq_lo(m, dp_meta(m));
	return dp_replay_esn_infer(top, r->window, lo) !=
	       dp_replay_esn_infer(*batch_top, r->window, lo);
}

/* Prepares packets from mb[*i] on into batch until one has to wait;
 * returns the batch size. */
static uint16_t esp_in_batch(struct dp_worker *w, struct rte_mbuf **mb, uint16_t n, uint16_t *i,
			     struct rte_mbuf **batch, struct ofl_op *ops)
{
	struct esp_batch_tops tops;
	uint16_t k = 0;

	esp_batch_tops_init(&tops);
	for (; *i < n; (*i)++) {
		struct dp_sa *sa = dp_meta(mb[*i])->sap;
		bool esn = sa->flags & DP_SA_ESN;
		int rc;

		if (esn && esp_in_must_wait(sa, mb[*i], &tops))
			break;
		rc = esp_in_prepare(sa, mb[*i], &ops[k]);
		if (rc != 0) {
			w->sa_ctr[sa->idx].drops++;
			dp_drop(w, mb[*i], rc);
			continue;
		}
		if (esn)
			esp_batch_top_raise(&tops, sa, dp_meta(mb[*i])->seq64);
		batch[k++] = mb[*i];
	}
	return k;
}

/* How many packets ahead esp_in_finish fetches the lines it will read
 * (8 measured no better, 4 better than none: see docs/performance.md). */
#define ESP_IN_AHEAD 4

/* The lines decapsulation reads of a decrypted packet: the trailer's, at
 * the end of the plaintext, and the inner header's. After a burst's
 * crypto they are out of L1, and each packet's checks wait on them. */
static inline void esp_in_prefetch_plain(const struct dp_sa *sa, struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	rte_prefetch0(p + m->data_len - sa->icv_len - ESP_TRAILER_LEN);
	rte_prefetch0(p + dp_meta(m)->l3_len + ESP_HDR_LEN + sa->iv_len);
}

/* After crypto, run by run: every verdict (engine status, ICV), the window
 * updated only for the verified (RFC 4303 §3.4.3), then decapsulation
 * (and the ECN egress) and the run's counters. */
static uint16_t esp_in_finish(struct dp_worker *w, struct rte_mbuf **batch,
			      const struct ofl_op *ops, uint16_t k, struct rte_mbuf **out)
{
	struct esp_span runs[DP_BURST];
	int rc[DP_BURST];
	uint16_t good = 0, n_runs;

	n_runs = esp_spans(batch, k, runs, NULL);
	for (uint16_t r = 0; r < n_runs; r++) {
		struct dp_sa *sa = runs[r].sa;
		uint16_t end = runs[r].start + runs[r].len;
		uint32_t packets = 0;
		uint64_t bytes = 0;

		for (uint16_t j = runs[r].start; j < RTE_MIN(end, runs[r].start + ESP_IN_AHEAD); j++)
			esp_in_prefetch_plain(sa, batch[j]);
		esp_in_verify_run(&runs[r], batch, ops, rc);
		for (uint16_t j = runs[r].start; j < end; j++) {
			struct rte_mbuf *m = batch[j];

			if (j + ESP_IN_AHEAD < end)
				esp_in_prefetch_plain(sa, batch[j + ESP_IN_AHEAD]);
			if (rc[j] == 0)
				rc[j] = esp_in_strip(w, sa, m);
			if (rc[j] != 0) {
				w->sa_ctr[sa->idx].drops++;
				dp_drop(w, m, rc[j]);
				continue;
			}
			packets++;
			bytes += dp_meta(m)->inner_len;
			out[good++] = m;
		}
		esp_in_count(w, sa, packets, bytes);
	}
	return good;
}

/* One crypto burst per batch; a burst is one batch unless an ESN epoch
 * boundary splits it. */
static uint16_t esp_in_crypto(struct dp_worker *w, struct rte_mbuf **mb, uint16_t n)
{
	struct ofl_op ops[DP_BURST];
	struct rte_mbuf *batch[DP_BURST];
	uint16_t i = 0, good = 0;

	while (i < n) {
		uint16_t k = esp_in_batch(w, mb, n, &i, batch, ops);

		ofl_cpu_run(w->crypto, ops, k);
		good += esp_in_finish(w, batch, ops, k, mb + good);
	}
	return good;
}

/* RFC 4301 §5.2: the decrypted packet must match the selectors of its SA,
 * that is, the rule whose inbound SA it arrived on. */
static uint16_t esp_in_check_policy(struct dp_worker *w, struct rte_mbuf **mb, uint16_t n)
{
	const struct dp_policy *pol = __atomic_load_n(&dp_g->policy, __ATOMIC_ACQUIRE);
	uint16_t good = 0;

	if (unlikely(pol->port_specific))
		n = dp_frag_track_burst(w, mb, n, true); /* a tunnel carries fragments */
	dp_policy_lookup(pol, mb, n);
	for (uint16_t i = 0; i < n; i++) {
		struct dp_meta *md = dp_meta(mb[i]);
		const struct dp_rule_rt *r = md->rule < pol->n_rules ? &pol->rules[md->rule] : NULL;

		if (r == NULL || r->action != DPSEC_ACTION_NEGOTIATE || r->id != md->sap->rule_id) {
			w->sa_ctr[md->sa].drops++;
			dp_drop(w, mb[i], DP_DROP_inner_policy_mismatch);
			continue;
		}
		mb[good++] = mb[i];
	}
	return good;
}

/* Any worker takes any SA's packets: the windows are shared (replay.h). */
uint16_t dp_esp_in(struct dp_worker *w, struct rte_mbuf **mb, uint16_t n)
{
	n = esp_in_lookup(w, mb, n);
	n = esp_in_crypto(w, mb, n);
	return esp_in_check_policy(w, mb, n);
}
