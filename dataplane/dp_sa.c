/* dp_sa.c - SA life cycle in the dataplane: the SA table, the inbound SAD,
 * checking an SA that came from outside, installing an SA (crypto template,
 * outer header, replay window), and taking it out again. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_malloc.h>

#include "dp_sa.h"

/* The fast path reads only cache line 0 for inbound packets and writes only
 * cache line 1 for outbound ones. */
static_assert(sizeof(struct dp_sa) % RTE_CACHE_LINE_SIZE == 0, "the key schedule follows the SA on a cache line");
static_assert(offsetof(struct dp_sa, outer) + DP_SA_OUTER_MAX <= RTE_CACHE_LINE_SIZE,
	      "hot SA fields must fit in the first cache line");
static_assert(offsetof(struct dp_sa, seq) == RTE_CACHE_LINE_SIZE,
	      "the outbound sequence number has its own cache line");

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
	t->sa = rte_zmalloc_socket("dpsec_sa_tab", sizeof(t->sa[0]) * (capacity ? capacity : 1),
				   RTE_CACHE_LINE_SIZE, socket_id);
	t->sad = rte_hash_create(&hp);
	if (t->sa == NULL || t->sad == NULL) {
		dp_sa_table_fini(t);
		return -ENOMEM;
	}
	return 0;
}

static void sa_free(struct dp_sa *sa)
{
	if (sa == NULL)
		return;
	explicit_bzero(sa->crypto_mem, sizeof(*sa->crypto_mem)); /* freed with the SA below */
	if (sa->replay != (struct dp_replay *)sa->replay_inline)
		rte_free(sa->replay);
	explicit_bzero(sa, sizeof(*sa));
	rte_free(sa);
}

void dp_sa_table_fini(struct dp_sa_table *t)
{
	for (uint32_t i = 0; t->sa != NULL && i < t->capacity; i++)
		sa_free(t->sa[i]); /* the SAD goes as a whole */
	rte_free(t->sa);
	rte_hash_free(t->sad);
	memset(t, 0, sizeof(*t));
}

void dp_sa_sad_key(struct dp_sad_key *k, uint32_t spi_be, uint8_t family, const uint8_t *dst)
{
	memset(k, 0, sizeof(*k));
	k->spi_be = spi_be;
	k->proto = IPPROTO_ESP;
	k->family = family;
	memcpy(k->dst, dst, family == DPSEC_AF_INET6 ? 16 : 4);
}

static void sa_build_outer4(struct dp_sa *sa, const struct dpsec_sa_conf *c)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)sa->outer;

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ESP;
	memcpy(&ip->src_addr, c->local.a, 4);
	memcpy(&ip->dst_addr, c->remote.a, 4);
	sa->outer_len = sizeof(*ip);
	/* The checksum field holds the folded sum of the fixed fields: a packet
	 * adds its own TOS, length, ID and DF bit to it (dp_esp_out). */
	ip->hdr_checksum = (uint16_t)rte_raw_cksum(ip, sizeof(*ip));
}

static void sa_build_outer6(struct dp_sa *sa, const struct dpsec_sa_conf *c)
{
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)sa->outer;

	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->proto = IPPROTO_ESP;
	ip->hop_limits = 64;
	memcpy(ip->src_addr, c->local.a, 16);
	memcpy(ip->dst_addr, c->remote.a, 16);
	sa->outer_len = sizeof(*ip);
}

static void sa_fill(struct dp_sa *sa, uint32_t idx, const struct dpsec_sa_conf *c)
{
	const struct ofl_sa_crypto *k = sa->crypto_mem;

	sa->spi_be = rte_cpu_to_be_32(c->spi);
	sa->idx = idx;
	sa->direction = c->direction;
	sa->flags = (c->esn ? DP_SA_ESN : 0) | (c->mode == DPSEC_MODE_TUNNEL ? DP_SA_TUNNEL : 0) |
		    (c->local.family == DPSEC_AF_INET6 ? DP_SA_OUTER6 : 0) |
		    (c->integ_alg != DPSEC_INTEG_NONE ? DP_SA_INTEG : 0);
	sa->iv_len = k->iv_len;
	sa->icv_len = k->icv_len;
	sa->block_len = k->block_len;
	sa->crypto = k;
	if (c->mode == DPSEC_MODE_TUNNEL && c->direction == DPSEC_DIR_OUT) {
		if (c->local.family == DPSEC_AF_INET6)
			sa_build_outer6(sa, c);
		else
			sa_build_outer4(sa, c);
	}
	sa->local = c->local;
}

static int sa_alloc(struct dp_sa **out, const struct dpsec_sa_conf *c, int socket_id)
{
	/* One allocation for the SA and its key schedule (each allocation costs
	 * a header and alignment); the key schedule starts on a cache line. */
	struct dp_sa *sa = rte_zmalloc_socket("dpsec_sa", sizeof(*sa) + sizeof(*sa->crypto_mem),
					      RTE_CACHE_LINE_SIZE, socket_id);

	*out = sa;
	if (sa == NULL)
		return -ENOMEM;
	sa->crypto_mem = (struct ofl_sa_crypto *)(sa + 1);
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

	dp_sa_sad_key(&k, sa->spi_be, sa->local.family, sa->local.a);
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
	rc = ofl_cpu_sa_prepare(e, conf, sa->crypto_mem);
	if (rc < 0) {
		snprintf(err, errlen, "SA %s: the crypto engine cannot run this algorithm", conf->name);
		goto fail;
	}
	sa_fill(sa, idx, conf);
	sa->rule_id = rule_id;
	sa->added_tsc = rte_get_tsc_cycles();
	sa->sad_pos = -1;
	if (life != NULL)
		sa->life = *life;
	if (conf->direction == DPSEC_DIR_IN && (rc = sa_add_sad(t, sa, conf, err, errlen)) < 0)
		goto fail;
	__atomic_store_n(&t->sa[idx], sa, __ATOMIC_RELEASE); /* published: workers see it whole */
	t->count++;
	t->tunnels_out += sa_is_tunnel_out(sa);
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
		dp_sa_sad_key(&k, sa->spi_be, sa->local.family, sa->local.a);
		sa->sad_pos = rte_hash_del_key(t->sad, &k); /* position kept until the grace period */
	}
	t->count--;
	t->tunnels_out -= sa_is_tunnel_out(sa);
	return sa;
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

static const char *sa_conf_problem(const struct dpsec_sa_conf *c)
{
	uint8_t esn;

	memcpy(&esn, &c->esn, 1); /* from outside: not yet a valid bool */
	if (esn > 1)
		return "esn must be 0 or 1";
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
	if (c->enc_alg > DPSEC_ENC_AES_CBC || (c->enc_key_len != 16 && c->enc_key_len != 32))
		return "encryption algorithm or key length unsupported";
	if (c->enc_alg == DPSEC_ENC_AES_GCM_16 && c->integ_alg != DPSEC_INTEG_NONE)
		return "AES-GCM takes no separate integrity algorithm";
	if (c->enc_alg == DPSEC_ENC_AES_CBC && c->integ_alg == DPSEC_INTEG_NONE)
		return "AES-CBC needs an integrity algorithm";
	if (c->integ_alg > DPSEC_INTEG_HMAC_SHA256_128)
		return "integrity algorithm unknown";
	if (c->integ_alg == DPSEC_INTEG_HMAC_SHA1_96 && c->integ_key_len != 20)
		return "HMAC-SHA1-96 takes a 20-byte key (RFC 2404)";
	if (c->integ_alg == DPSEC_INTEG_HMAC_SHA256_128 && c->integ_key_len != 32)
		return "HMAC-SHA-256-128 takes a 32-byte key (RFC 4868)";
	return NULL;
}

int dp_sa_conf_check(const struct dpsec_sa_conf *c, char *err, size_t errlen)
{
	const char *problem = sa_conf_problem(c);

	if (problem == NULL)
		return 0;
	snprintf(err, errlen, "SA: %s", problem);
	return -EINVAL;
}
