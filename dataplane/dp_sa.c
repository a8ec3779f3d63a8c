/* dp_sa.c - SA life cycle in the dataplane: the SA table, the inbound SAD,
 * checking an SA that came from outside, installing an SA (crypto template,
 * outer header and UDP header templates, replay window, NAT-T ports), and
 * taking it out again. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_random.h>
#include <rte_udp.h>

#include "dp_sa.h"

/* Per packet the fast path reads only cache line 0; outbound, it writes
 * cache line 1 once per run of packets (the sequence number reservation),
 * so that workers sharing an SA pass that line between them once a run,
 * not at every packet. */
static_assert(offsetof(struct dp_sa, outer) + DP_SA_OUTER_MAX <= RTE_CACHE_LINE_SIZE,
	      "hot SA fields must fit in the first cache line");
static_assert(offsetof(struct dp_sa, seq) == RTE_CACHE_LINE_SIZE,
	      "the outbound sequence number has its own cache line");
/* A run of ESP in UDP reads one line of the SA's cold part (esp_in.c). */
static_assert(offsetof(struct dp_sa, natt_peer_port_be) / RTE_CACHE_LINE_SIZE ==
		      (offsetof(struct dp_sa, natt_reported_fp) + 3) / RTE_CACHE_LINE_SIZE,
	      "the peer's source and the one reported share a cache line");

int dp_sa_table_init(struct dp_sa_table *t, uint32_t capacity, int socket_id)
{
	struct rte_hash_parameters hp = {
		.name = "dpsec_sad",
		.entries = capacity < 64 ? 64 : capacity,
		.key_len = sizeof(struct dp_sad_key),
		.hash_func = rte_hash_crc,
		.socket_id = socket_id,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};

	memset(t, 0, sizeof(*t));
	t->capacity = capacity;
	t->flow_label_key = (uint32_t)rte_rand();
	t->sa = rte_zmalloc_socket("dpsec_sa_tab", sizeof(t->sa[0]) * (capacity ? capacity : 1),
				   RTE_CACHE_LINE_SIZE, socket_id);
	t->sad = rte_hash_create(&hp);
	t->natt_port_refs = rte_zmalloc_socket("dpsec_natt_ports", sizeof(uint32_t) * DP_NATT_PORTS,
					       RTE_CACHE_LINE_SIZE, socket_id);
	if (t->sa == NULL || t->sad == NULL || t->natt_port_refs == NULL) {
		dp_sa_table_fini(t);
		return -ENOMEM;
	}
	return 0;
}

static void sa_free(struct dp_sa *sa)
{
	if (sa == NULL)
		return;
	if (sa->replay != (struct dp_replay *)sa->replay_inline)
		rte_free(sa->replay);
	explicit_bzero(sa, sizeof(*sa)); /* the key schedules with it */
	rte_free(sa);
}

void dp_sa_table_fini(struct dp_sa_table *t)
{
	for (uint32_t i = 0; t->sa != NULL && i < t->capacity; i++)
		sa_free(t->sa[i]); /* the SAD goes as a whole */
	rte_free(t->sa);
	rte_free(t->natt_port_refs);
	rte_hash_free(t->sad);
	free(t->pending);
	memset(t, 0, sizeof(*t));
}

void dp_sa_sad_key(struct dp_sad_key *k, uint32_t spi_be, uint8_t proto, uint8_t family,
		   const uint8_t *dst)
{
	memset(k, 0, sizeof(*k));
	k->spi_be = spi_be;
	k->proto = proto;
	k->family = family;
	memcpy(k->dst, dst, family == DPSEC_AF_INET6 ? 16 : 4);
}

/* The protocol after the outer IP header. */
static uint8_t sa_outer_proto(const struct dpsec_sa_conf *c)
{
	if (c->protocol == DPSEC_PROTO_AH)
		return IPPROTO_AH;
	return c->encap == DPSEC_ENCAP_UDP ? IPPROTO_UDP : IPPROTO_ESP;
}

static uint8_t sa_sad_proto(const struct dp_sa *sa)
{
	return (sa->flags & DP_SA_AH) ? IPPROTO_AH : IPPROTO_ESP;
}

static void sa_build_outer4(struct dp_sa *sa, const struct dpsec_sa_conf *c)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)sa->outer;

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->time_to_live = 64;
	ip->next_proto_id = sa_outer_proto(c);
	memcpy(&ip->src_addr, c->local.a, 4);
	memcpy(&ip->dst_addr, c->remote.a, 4);
	sa->outer_len = sizeof(*ip);
	/* The checksum field holds the folded sum of the fixed fields: a packet
	 * adds its own TOS, length, ID and DF bit to it (dp_esp_out). */
	ip->hdr_checksum = (uint16_t)rte_raw_cksum(ip, sizeof(*ip));
}

/* The flow label of an outbound SA's outer IPv6 header (RFC 6437 §3: from
 * a keyed hash, so that labels are uniform and not guessable from
 * outside): one per SA, never 0. Routers that hash (addresses, flow label)
 * for ECMP and LAG (RFC 6438) then spread a gateway pair's SAs (rekeyed
 * ones, one per core as RFC 9611 makes them, or several rules') over
 * their paths, while each SA's packets keep one path, in order for its
 * anti-replay window. */
static uint32_t sa_flow_label(const struct dpsec_sa_conf *c, uint32_t key)
{
	uint64_t addrs[4]; /* rte_hash_crc reads words: an aligned copy */
	uint32_t h;

	memcpy(addrs, c->local.a, 16);
	memcpy(addrs + 2, c->remote.a, 16);
	h = rte_hash_crc(addrs, sizeof(addrs), rte_hash_crc_4byte(c->spi, key)) & 0xfffff;
	return h != 0 ? h : 1;
}

static void sa_build_outer6(struct dp_sa *sa, const struct dpsec_sa_conf *c, uint32_t label_key)
{
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)sa->outer;

	/* each packet ORs in its traffic class (dp_esp_out) */
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28 | sa_flow_label(c, label_key));
	ip->proto = sa_outer_proto(c);
	ip->hop_limits = 64;
	memcpy(ip->src_addr, c->local.a, 16);
	memcpy(ip->dst_addr, c->remote.a, 16);
	sa->outer_len = sizeof(*ip);
}

/* RFC 3948 §2.1: the UDP header follows the outer IP header (tunnel) or
 * the packet's own (transport); each packet sets the length, and the
 * checksum over IPv6. */
static void sa_build_udp(struct dp_sa *sa, const struct dpsec_sa_conf *c)
{
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(sa->outer + sa->outer_len);

	udp->src_port = rte_cpu_to_be_16(c->udp_sport);
	udp->dst_port = rte_cpu_to_be_16(c->udp_dport);
	sa->outer_len += DP_SA_UDP_LEN;
}

/* The outbound header template from scratch: at install, and again when
 * the SA moves (dp_sa_move_out). */
static void sa_build_templates(struct dp_sa *sa, const struct dpsec_sa_conf *c, uint32_t label_key)
{
	memset(sa->outer, 0, sizeof(sa->outer));
	sa->outer_len = 0;
	if (c->direction != DPSEC_DIR_OUT)
		return;
	if (c->mode == DPSEC_MODE_TUNNEL) {
		if (c->local.family == DPSEC_AF_INET6)
			sa_build_outer6(sa, c, label_key);
		else
			sa_build_outer4(sa, c);
	}
	if (c->encap == DPSEC_ENCAP_UDP)
		sa_build_udp(sa, c);
}

static void sa_fill(struct dp_sa *sa, uint32_t idx, const struct dpsec_sa_conf *c,
		    uint32_t label_key)
{
	const struct ofl_sa_crypto *k = &sa->crypto;

	sa->spi_be = rte_cpu_to_be_32(c->spi);
	sa->idx = idx;
	sa->direction = c->direction;
	sa->flags = (c->esn ? DP_SA_ESN : 0) | (c->mode == DPSEC_MODE_TUNNEL ? DP_SA_TUNNEL : 0) |
		    (c->local.family == DPSEC_AF_INET6 ? DP_SA_OUTER6 : 0) |
		    (c->integ_alg != DPSEC_INTEG_NONE && c->protocol == DPSEC_PROTO_ESP ? DP_SA_INTEG
										       : 0) |
		    (c->encap == DPSEC_ENCAP_UDP ? DP_SA_NATT : 0) |
		    (c->df_bit == DPSEC_DF_SET ? DP_SA_DF_SET : 0) |
		    (c->df_bit == DPSEC_DF_CLEAR ? DP_SA_DF_CLEAR : 0) |
		    (c->protocol == DPSEC_PROTO_AH ? DP_SA_AH : 0);
	sa->iv_len = k->iv_len;
	sa->icv_len = k->icv_len;
	sa->block_len = k->block_len;
	sa_build_templates(sa, c, label_key);
	sa->tos_keep = c->dscp_fixed ? 0x03 : 0xff; /* ECN stays the inner's (RFC 6040) */
	sa->tos_set = c->dscp_fixed ? (uint8_t)(c->dscp << 2) : 0;
	sa->local = c->local;
	sa->natt_port = c->udp_dport;
	if (c->direction == DPSEC_DIR_IN) {
		sa->natt_peer_port_be = rte_cpu_to_be_16(c->udp_sport);
		sa->natt_peer_fp = dp_sa_addr_fp(c->remote.family, c->remote.a);
	}
}

static int sa_alloc(struct dp_sa **out, const struct dpsec_sa_conf *c, int socket_id)
{
	/* the key schedules are in the SA (one allocation: each costs a header) */
	struct dp_sa *sa = rte_zmalloc_socket("dpsec_sa", sizeof(*sa), RTE_CACHE_LINE_SIZE, socket_id);

	*out = sa;
	if (sa == NULL)
		return -ENOMEM;
	if (c->direction == DPSEC_DIR_IN && c->replay_window > 0) {
		size_t size = dp_replay_size(c->replay_window);

		sa->replay = size <= sizeof(sa->replay_inline)
				     ? (struct dp_replay *)sa->replay_inline
				     : rte_zmalloc_socket("dpsec_replay", size, RTE_CACHE_LINE_SIZE, socket_id);
		if (sa->replay == NULL)
			return -ENOMEM;
		dp_replay_init(sa->replay, c->replay_window, 0);
	}
	return 0;
}

static int sa_add_sad(struct dp_sa_table *t, const struct dp_sa *sa, const struct dpsec_sa_conf *c,
		      char *err, size_t errlen)
{
	struct dp_sad_key k;
	int rc;

	dp_sa_sad_key(&k, sa->spi_be, sa_sad_proto(sa), sa->local.family, sa->local.a);
	if (rte_hash_lookup(t->sad, &k) >= 0) {
		snprintf(err, errlen, "SA %s: SPI 0x%x already in use for this destination", c->name,
			 c->spi);
		return -EEXIST;
	}
	rc = rte_hash_add_key_data(t->sad, &k, (void *)sa);
	if (rc < 0) {
		snprintf(err, errlen, "SA %s: SAD full", c->name);
		return rc;
	}
	return 0;
}

static bool sa_is_tunnel_out(const struct dp_sa *sa)
{
	return (sa->flags & DP_SA_TUNNEL) && sa->direction == DPSEC_DIR_OUT;
}

/* Inbound UDP-encapsulated SAs open their local port to ESP in UDP. */
static void sa_natt_port_ref(struct dp_sa_table *t, const struct dp_sa *sa, int delta)
{
	uint32_t *ref = &t->natt_port_refs[sa->natt_port];

	if (sa->direction == DPSEC_DIR_IN && (sa->flags & DP_SA_NATT))
		__atomic_store_n(ref, *ref + (uint32_t)delta, __ATOMIC_RELAXED); /* one writer */
}

/* Where sa's next chunk of numbers ends: from the larger of its counter
 * and its key's last reserved number, capped at the end of its space. */
static uint64_t next_chunk_end(const struct dp_sa_table *t, const struct dp_sa *sa)
{
	uint64_t end = dp_sa_seq_end(sa);
	uint64_t from = RTE_MAX(__atomic_load_n(&sa->seq, __ATOMIC_RELAXED),
				dp_seq_store_end(t->seq_store, sa->seq_fp));

	return from >= end || end - from <= DP_SEQ_CHUNK ? end : from + DP_SEQ_CHUNK;
}

int dp_sa_seq_grant(struct dp_sa_table *t, struct dp_sa *sa, char *err, size_t errlen)
{
	uint64_t to = next_chunk_end(t, sa);
	int rc = dp_seq_store_save(t->seq_store, sa->seq_fp, to, err, errlen);

	if (rc == 0) /* saved: workers may use them */
		__atomic_store_n(&sa->seq_limit, to, __ATOMIC_RELAXED);
	return rc;
}

int dp_sa_seq_top_up(struct dp_sa_table *t, struct dp_sa *sa, char *err, size_t errlen)
{
	uint64_t seq = __atomic_load_n(&sa->seq, __ATOMIC_RELAXED);

	if (sa->direction != DPSEC_DIR_OUT || !sa->key_taken || sa->seq_granted != 0 ||
	    sa->seq_limit == dp_sa_seq_end(sa) ||
	    (seq < sa->seq_limit && sa->seq_limit - seq > DP_SEQ_CHUNK / 2))
		return 0;
	return dp_sa_seq_grant(t, sa, err, errlen);
}

/* A new SA's first chunk: noted in the file, granted by
 * dp_sa_grants_commit() once synced (one sync for all the SAs a batch of
 * commands installs); until then it has no number to use. */
static int first_chunk(struct dp_sa_table *t, struct dp_sa *sa, char *err, size_t errlen)
{
	uint64_t to = next_chunk_end(t, sa);
	uint32_t *grown;
	int rc;

	if (t->n_pending == t->cap_pending) {
		grown = realloc(t->pending, sizeof(*grown) * (t->cap_pending ? 2 * t->cap_pending : 64));
		if (grown == NULL) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		t->pending = grown;
		t->cap_pending = t->cap_pending ? 2 * t->cap_pending : 64;
	}
	if ((rc = dp_seq_store_note(t->seq_store, sa->seq_fp, to, err, errlen)) < 0)
		return rc;
	sa->seq_limit = sa->seq;
	sa->seq_granted = to;
	t->pending[t->n_pending++] = sa->idx;
	return 0;
}

int dp_sa_grants_commit(struct dp_sa_table *t, char *err, size_t errlen)
{
	int rc;

	if (t->n_pending == 0)
		return 0;
	if ((rc = dp_seq_store_sync(t->seq_store, err, errlen)) < 0)
		return rc; /* kept: tried again at the next commit */
	for (uint32_t i = 0; i < t->n_pending; i++) {
		struct dp_sa *sa = t->sa[t->pending[i]];

		if (sa != NULL && sa->seq_granted != 0) { /* not gone, nor in the slot again */
			__atomic_store_n(&sa->seq_limit, RTE_MAX(sa->seq_limit, sa->seq_granted),
					 __ATOMIC_RELAXED);
			sa->seq_granted = 0;
		}
	}
	t->n_pending = 0;
	return 0;
}

/* What identifies a static key, kept on disk: a truncated SHA-256 of its
 * key material (all of it, whatever the SPI: the same key under another
 * SPI repeats the same nonces). */
static void key_fingerprint(struct ofl_cpu *e, const struct dpsec_sa_conf *c, uint8_t fp[DP_SEQ_FP_LEN])
{
	static const char label[] = "dpsec static outbound key";
	uint8_t buf[sizeof(label) + DPSEC_MAX_ENC_KEY + DPSEC_GCM_SALT_LEN + DPSEC_MAX_INTEG_KEY];
	uint8_t digest[32];
	size_t n = 0;

	memcpy(buf, label, sizeof(label));
	n += sizeof(label);
	memcpy(buf + n, c->enc_key, c->enc_key_len);
	n += c->enc_key_len;
	memcpy(buf + n, c->salt, DPSEC_GCM_SALT_LEN);
	n += DPSEC_GCM_SALT_LEN;
	memcpy(buf + n, c->integ_key, c->integ_key_len);
	n += c->integ_key_len;
	ofl_cpu_sha256(e, buf, (uint32_t)n, digest);
	memcpy(fp, digest, DP_SEQ_FP_LEN);
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(digest, sizeof(digest));
}

/* A static key is taken by the SA installed with it (seq_store.h): by one
 * outbound SA, and a combined-mode key (AES-GCM, AES-CCM, ChaCha20-Poly1305,
 * AES-GMAC) not by SAs of both directions. Keys IKE negotiated are the SA's own: not taken.
 * Returns 0 (sa->key_taken set if taken), or -errno with a sentence naming
 * sa in err. */
static int sa_take_key(struct dp_sa_table *t, struct ofl_cpu *e, struct dp_sa *sa,
		       const struct dpsec_sa_conf *c, char *err, size_t errlen)
{
	bool out = c->direction == DPSEC_DIR_OUT;
	int rc;

	if (t->seq_store == NULL || c->negotiated || (!out && !dpsec_enc_is_aead(c->enc_alg)))
		return 0;
	key_fingerprint(e, c, sa->seq_fp);
	rc = dp_seq_store_claim(t->seq_store, sa->seq_fp, out);
	if (rc == 0) {
		sa->key_taken = true;
		return 0;
	}
	snprintf(err, errlen, "SA %s: %s", c->name,
		 /* both within an ACK's reason (DPSEC_REASON_MAX) with the name */
		 rc == -EEXIST ? "another installed outbound SA has the same key: sequence numbers, and "
				 "combined-mode nonces, would repeat (RFC 4106/4309 section 3.1, RFC "
				 "7634 section 2)"
		 : rc == -ENOTUNIQ ? "an SA of the other direction has the same combined-mode key: each "
				     "nonce would be used twice (RFC 4106/4309 section 3.1, RFC 7634 "
				     "section 2)"
		 : "out of memory");
	return rc;
}

/* An outbound SA with a static key (taken) starts where its key's
 * reserved numbers end and gets its first chunk, usable once saved
 * (dp_sa_grants_commit); any other outbound SA, and every one when no
 * file keeps numbers, has its whole space. */
static int sa_seq_start(struct dp_sa_table *t, struct dp_sa *sa, const struct dpsec_sa_conf *c,
			char *err, size_t errlen)
{
	size_t named;

	sa->seq_limit = dp_sa_seq_end(sa);
	if (!sa->key_taken || !dp_seq_store_keeps_numbers(t->seq_store))
		return 0;
	sa->seq = dp_seq_store_end(t->seq_store, sa->seq_fp);
	if (sa->seq >= sa->seq_limit) {
		snprintf(err, errlen, "SA %s: its key has used all its sequence numbers (%s): give it a "
			 "new key", c->name, dp_seq_store_path(t->seq_store));
		return -ERANGE;
	}
	named = RTE_MIN((size_t)snprintf(err, errlen, "SA %s: ", c->name), errlen - 1);
	return first_chunk(t, sa, err + named, errlen - named); /* its error after the name */
}

/* The key and, outbound, the sequence numbers of a new SA; on failure
 * the key is given back. */
static int sa_key_and_numbers(struct dp_sa_table *t, struct ofl_cpu *e, struct dp_sa *sa,
			      const struct dpsec_sa_conf *c, char *err, size_t errlen)
{
	int rc = sa_take_key(t, e, sa, c, err, errlen);

	if (rc == 0 && c->direction == DPSEC_DIR_OUT) /* inbound: seq_limit's bytes are the window's */
		rc = sa_seq_start(t, sa, c, err, errlen);
	if (rc < 0 && sa->key_taken) {
		dp_seq_store_release(t->seq_store, sa->seq_fp, c->direction == DPSEC_DIR_OUT);
		sa->key_taken = false;
	}
	return rc;
}

int dp_sa_install(struct dp_sa_table *t, struct ofl_cpu *e, uint32_t idx,
		  const struct dpsec_sa_conf *conf, uint32_t rule_id,
		  const struct dpsec_lifetime *life, char *err, size_t errlen)
{
	struct dp_sa *sa = NULL;
	int rc;

	if (idx >= t->capacity || t->sa[idx] != NULL) {
		snprintf(err, errlen, "SA %s: slot %u not free", conf->name, idx);
		return -EINVAL;
	}
	rc = sa_alloc(&sa, conf, SOCKET_ID_ANY);
	if (rc < 0) {
		snprintf(err, errlen, "SA %s: out of memory", conf->name);
		goto fail;
	}
	rc = ofl_cpu_sa_prepare(e, conf, &sa->crypto);
	if (rc < 0) {
		snprintf(err, errlen, "SA %s: the crypto engine cannot run this algorithm", conf->name);
		goto fail;
	}
	sa_fill(sa, idx, conf, t->flow_label_key);
	sa->rule_id = rule_id;
	sa->added_tsc = rte_get_tsc_cycles();
	sa->sad_pos = -1;
	if (life != NULL)
		sa->life = *life;
	if ((rc = sa_key_and_numbers(t, e, sa, conf, err, errlen)) < 0)
		goto fail;
	if (conf->direction == DPSEC_DIR_IN && (rc = sa_add_sad(t, sa, conf, err, errlen)) < 0) {
		if (sa->key_taken)
			dp_seq_store_release(t->seq_store, sa->seq_fp, false);
		goto fail;
	}
	__atomic_store_n(&t->sa[idx], sa, __ATOMIC_RELEASE); /* published: workers see it whole */
	t->count++;
	t->tunnels_out += sa_is_tunnel_out(sa);
	sa_natt_port_ref(t, sa, 1);
	return 0;
fail:
	sa_free(sa);
	return rc;
}

struct dp_sa *dp_sa_unpublish(struct dp_sa_table *t, uint32_t idx)
{
	struct dp_sa *sa;
	struct dp_sad_key k;

	if (idx >= t->capacity || (sa = t->sa[idx]) == NULL)
		return NULL;
	__atomic_store_n(&t->sa[idx], NULL, __ATOMIC_RELEASE);
	if (sa->direction == DPSEC_DIR_IN) {
		dp_sa_sad_key(&k, sa->spi_be, sa_sad_proto(sa), sa->local.family, sa->local.a);
		sa->sad_pos = rte_hash_del_key(t->sad, &k); /* position kept until the grace period */
	}
	t->count--;
	t->tunnels_out -= sa_is_tunnel_out(sa);
	sa_natt_port_ref(t, sa, -1);
	if (sa->key_taken) /* its in-flight packets use numbers below where another SA would start */
		dp_seq_store_release(t->seq_store, sa->seq_fp, sa->direction == DPSEC_DIR_OUT);
	return sa;
}

/* The outbound sequence numbers pass from one copy of an SA to the next:
 * the old copy's limit drops to 0 first, so a worker that reserves on it
 * after the new copy's start was read is refused (its packets dropped as
 * sa_moved), and every number the old copy gave out lies at or below where
 * the new one starts. Sequentially consistent, as esp_out_seq_reserve()'s
 * own add and load: no number is ever used twice. */
static void sa_seq_hand_over(struct dp_sa *from, struct dp_sa *to)
{
	uint64_t limit = __atomic_load_n(&from->seq_limit, __ATOMIC_SEQ_CST);

	__atomic_store_n(&from->stopped, DP_SA_STOPPED_MOVED, __ATOMIC_SEQ_CST);
	__atomic_store_n(&from->seq_limit, 0, __ATOMIC_SEQ_CST);
	to->seq = __atomic_load_n(&from->seq, __ATOMIC_SEQ_CST);
	to->seq_limit = limit;
}

int dp_sa_move_check(const struct dpsec_sa_conf *c, const struct dpsec_cmd_sa_move *m, char *err,
		     size_t errlen)
{
	const char *why = NULL;

	if (c->direction != DPSEC_DIR_OUT && c->encap != DPSEC_ENCAP_UDP)
		why = "an inbound SA without ESP in UDP has no peer port to follow (it is found by its SPI)";
	else if (!c->negotiated)
		why = "a static key's SA keeps the peer its configuration names";
	else if (m->remote.family != c->remote.family)
		why = "the new address is not of the SA's family";
	else if (c->direction == DPSEC_DIR_OUT && c->mode != DPSEC_MODE_TUNNEL &&
		 c->encap != DPSEC_ENCAP_UDP)
		why = "a transport-mode SA without ESP in UDP has no outer header to move";
	else if (c->encap == DPSEC_ENCAP_UDP && m->udp_port == 0)
		why = "ESP in UDP needs the peer's new port (1..65535)";
	else if (c->encap != DPSEC_ENCAP_UDP && m->udp_port != 0)
		why = "a port given for an SA without ESP in UDP";
	if (why != NULL)
		snprintf(err, errlen, "SA %s: cannot move it: %s", c->name, why);
	return why != NULL ? -EINVAL : 0;
}

struct dp_sa *dp_sa_move_out(struct dp_sa_table *t, uint32_t idx, const struct dpsec_sa_conf *from,
			     const struct dpsec_sa_conf *to, char *err, size_t errlen)
{
	struct dp_sa *old = t->sa[idx],
		     *sa = rte_zmalloc_socket("dpsec_sa", sizeof(*sa), RTE_CACHE_LINE_SIZE, SOCKET_ID_ANY);

	if (sa == NULL) {
		snprintf(err, errlen, "SA %s: out of memory to move it", to->name);
		return NULL;
	}
	memcpy(sa, old, sizeof(*sa));
	ofl_sa_crypto_copy(&sa->crypto, &old->crypto);
	sa_build_templates(sa, to, t->flow_label_key);
	if (memcmp(&from->remote, &to->remote, sizeof(to->remote)) != 0)
		sa->path_mtu = 0; /* another path: what a router said of the old one is not its */
	sa_seq_hand_over(old, sa);
	__atomic_store_n(&t->sa[idx], sa, __ATOMIC_RELEASE); /* workers see it whole */
	return old;
}

void dp_sa_move_in(struct dp_sa *sa, const struct dpsec_addr *peer, uint16_t peer_port)
{
	__atomic_store_n(&sa->natt_peer_fp, dp_sa_addr_fp(peer->family, peer->a), __ATOMIC_RELAXED);
	__atomic_store_n(&sa->natt_peer_port_be, rte_cpu_to_be_16(peer_port), __ATOMIC_RELAXED);
	__atomic_store_n(&sa->natt_reported_be, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&sa->natt_reported_fp, 0, __ATOMIC_RELAXED);
}

void dp_sa_destroy(struct dp_sa_table *t, struct dp_sa *sa)
{
	if (sa->sad_pos >= 0)
		rte_hash_free_key_with_position(t->sad, sa->sad_pos);
	sa_free(sa);
}

static bool addr_ok(const struct dpsec_addr *a)
{
	return a->family == DPSEC_AF_INET || a->family == DPSEC_AF_INET6;
}

static const char *sa_encap_problem(const struct dpsec_sa_conf *c)
{
	if (c->encap > DPSEC_ENCAP_UDP)
		return "encapsulation unknown (0: none, 1: UDP)";
	if (c->encap == DPSEC_ENCAP_UDP && (c->udp_sport == 0 || c->udp_dport == 0))
		return "UDP encapsulation needs source and destination ports 1..65535";
	if (c->encap == DPSEC_ENCAP_NONE && (c->udp_sport != 0 || c->udp_dport != 0))
		return "UDP ports given without UDP encapsulation";
	return NULL;
}

static const char *sa_integ_problem(const struct dpsec_sa_conf *c)
{
	static const char *const wrong_key[] = {
		[DPSEC_INTEG_HMAC_SHA1_96] = "HMAC-SHA1-96 takes a 20-byte key (RFC 2404)",
		[DPSEC_INTEG_HMAC_SHA256_128] = "HMAC-SHA-256-128 takes a 32-byte key (RFC 4868)",
		[DPSEC_INTEG_HMAC_SHA384_192] = "HMAC-SHA-384-192 takes a 48-byte key (RFC 4868)",
		[DPSEC_INTEG_HMAC_SHA512_256] = "HMAC-SHA-512-256 takes a 64-byte key (RFC 4868)",
		[DPSEC_INTEG_AES_XCBC_96] = "AES-XCBC-MAC-96 takes a 16-byte key (RFC 3566)",
		[DPSEC_INTEG_AES_CMAC_96] = "AES-CMAC-96 takes a 16-byte key (RFC 4494)",
	};

	if (c->integ_alg != DPSEC_INTEG_NONE && dpsec_integ_key_len(c->integ_alg) == 0)
		return "integrity algorithm unknown";
	if (c->integ_alg != DPSEC_INTEG_NONE && c->integ_key_len != dpsec_integ_key_len(c->integ_alg))
		return wrong_key[c->integ_alg];
	return NULL;
}

/* AH authenticates only, and cannot cross a NAT (the addresses are in its
 * ICV; RFC 3948 encapsulates ESP only). */
static const char *sa_ah_problem(const struct dpsec_sa_conf *c)
{
	if (c->enc_key_len != 0)
		return "AH takes no encryption key";
	if (c->integ_alg == DPSEC_INTEG_NONE)
		return "AH needs an integrity algorithm";
	if (c->encap != DPSEC_ENCAP_NONE || c->udp_sport != 0 || c->udp_dport != 0)
		return "AH cannot be encapsulated in UDP (RFC 3948 covers ESP only)";
	return sa_integ_problem(c);
}

static const char *sa_conf_problem(const struct dpsec_sa_conf *c)
{
	uint8_t esn, dscp_fixed, negotiated;

	memcpy(&esn, &c->esn, 1); /* from outside: not yet valid bools */
	memcpy(&dscp_fixed, &c->dscp_fixed, 1);
	memcpy(&negotiated, &c->negotiated, 1);
	if (esn > 1 || dscp_fixed > 1 || negotiated > 1)
		return "esn, dscp_fixed and negotiated must be 0 or 1";
	if (memchr(c->name, 0, sizeof(c->name)) == NULL)
		return "name not terminated";
	if (c->spi < 256)
		return "SPI 0-255 is reserved (RFC 4303 section 2.1)";
	if (c->direction > DPSEC_DIR_OUT || c->mode > DPSEC_MODE_TRANSPORT)
		return "direction or mode unknown";
	if (!addr_ok(&c->local) || c->local.family != c->remote.family)
		return "local and remote must both be IPv4 or both IPv6";
	if (c->replay_window > DPSEC_REPLAY_MAX)
		return "replay window above 8192";
	if (c->protocol > DPSEC_PROTO_AH)
		return "protocol unknown (0: ESP, 1: AH)";
	if (c->dscp > 63 || (c->dscp != 0 && !dscp_fixed))
		return "DSCP above 63, or given without dscp_fixed";
	if (dscp_fixed && c->mode != DPSEC_MODE_TUNNEL)
		return "a fixed DSCP needs tunnel mode (transport mode keeps the packet's header)";
	if (c->df_bit > DPSEC_DF_CLEAR)
		return "DF bit unknown (0: copy, 1: set, 2: clear)";
	if (c->df_bit != DPSEC_DF_COPY &&
	    (c->mode != DPSEC_MODE_TUNNEL || c->local.family != DPSEC_AF_INET))
		return "a DF bit other than copy needs a tunnel with IPv4 endpoints";
	if (c->protocol == DPSEC_PROTO_AH)
		return sa_ah_problem(c);
	if (c->enc_alg == DPSEC_ENC_3DES_CBC && c->enc_key_len != 24)
		return "3DES-CBC takes a 24-byte key (RFC 2451)";
	if (c->enc_alg == DPSEC_ENC_3DES_CBC && c->integ_alg == DPSEC_INTEG_NONE)
		return "3DES-CBC needs an integrity algorithm";
	if (c->enc_alg == DPSEC_ENC_CHACHA20_POLY1305 && c->enc_key_len != 32)
		return "ChaCha20-Poly1305 takes a 32-byte key (RFC 7634)";
	if ((c->enc_alg == DPSEC_ENC_AES_GCM_16 || c->enc_alg == DPSEC_ENC_AES_CBC ||
	     c->enc_alg == DPSEC_ENC_NULL_AUTH_AES_GMAC) &&
	    c->enc_key_len != 16 && c->enc_key_len != 24 && c->enc_key_len != 32)
		return "encryption key length unsupported";
	if (dpsec_enc_is_ccm(c->enc_alg) && c->enc_key_len != 16 && c->enc_key_len != 32)
		return "AES-CCM takes a 16- or 32-byte key (intel-ipsec-mb has no AES-192 CCM)";
	if (c->enc_alg == DPSEC_ENC_NULL && c->enc_key_len != 0)
		return "NULL encryption takes no key (RFC 2410)";
	if (c->enc_alg == DPSEC_ENC_NULL && c->integ_alg == DPSEC_INTEG_NONE)
		return "NULL encryption needs an integrity algorithm (ESP would protect nothing)";
	if (c->enc_alg >= DPSEC_ENC_N)
		return "encryption algorithm unsupported";
	if (dpsec_enc_is_aead(c->enc_alg) && c->integ_alg != DPSEC_INTEG_NONE)
		return "a combined-mode algorithm (AES-GCM, AES-CCM, ChaCha20-Poly1305, AES-GMAC) "
		       "takes no separate integrity algorithm";
	if (c->enc_alg == DPSEC_ENC_AES_CBC && c->integ_alg == DPSEC_INTEG_NONE)
		return "AES-CBC needs an integrity algorithm";
	return sa_integ_problem(c) ? sa_integ_problem(c) : sa_encap_problem(c);
}

int dp_sa_conf_check(const struct dpsec_sa_conf *c, char *err, size_t errlen)
{
	const char *problem = sa_conf_problem(c);

	if (problem == NULL)
		return 0;
	snprintf(err, errlen, "SA: %s", problem);
	return -EINVAL;
}
