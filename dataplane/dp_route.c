/* dp_route.c - route (LPM) and neighbour tables of the dataplane. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "dp_route.h"

static int routes_create_lpm(struct dp_routes *r, const char *prefix, int socket_id)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_lpm_config c4 = { .max_rules = 65536, .number_tbl8s = 1024 };
	struct rte_lpm6_config c6 = { .max_rules = 16384, .number_tbl8s = 1 << 12 };

	snprintf(name, sizeof(name), "%s_l4", prefix);
	r->lpm4 = rte_lpm_create(name, socket_id, &c4);
	snprintf(name, sizeof(name), "%s_l6", prefix);
	r->lpm6 = rte_lpm6_create(name, socket_id, &c6);
	return r->lpm4 && r->lpm6 ? 0 : -ENOMEM;
}

int dp_routes_init(struct dp_routes *r, const char *prefix, int socket_id)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = DP_MAX_NEIGHBOURS,
		.key_len = sizeof(struct dp_neigh_key),
		.socket_id = socket_id,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};

	memset(r, 0, sizeof(*r));
	if (routes_create_lpm(r, prefix, socket_id) < 0)
		return -ENOMEM;
	snprintf(name, sizeof(name), "%s_nb", prefix);
	r->neigh = rte_hash_create(&hp);
	r->neigh_used = rte_zmalloc_socket("dpsec_neigh_used", DP_MAX_NEIGHBOURS,
					   RTE_CACHE_LINE_SIZE, socket_id);
	r->failed = rte_zmalloc_socket("dpsec_neigh_failed",
				       sizeof(*r->failed) * DP_NEIGH_FAILED_SLOTS, RTE_CACHE_LINE_SIZE,
				       socket_id);
	return r->neigh && r->neigh_used && r->failed ? 0 : -ENOMEM;
}

void dp_routes_fini(struct dp_routes *r)
{
	rte_lpm_free(r->lpm4);
	rte_lpm6_free(r->lpm6);
	rte_hash_free(r->neigh);
	rte_free(r->neigh_used);
	rte_free(r->failed);
	memset(r, 0, sizeof(*r));
}

/* A subnet of 4 addresses or more has a broadcast address (RFC 919, RFC
 * 922); /31 and /32 have none (RFC 3021). */
static uint32_t broadcast_host_bits(const struct dpsec_prefix *dst)
{
	if (dst->addr.family != DPSEC_AF_INET || dst->len > 30)
		return 0;
	return rte_cpu_to_be_32(dst->len ? ~(~0u << (32 - dst->len)) : ~0u);
}

/* The next hop for routes to dst through port via (on-link when none):
 * shared by every route that has the same one. */
static int nexthop_add(struct dp_routes *r, const struct dpsec_prefix *dst, uint16_t port,
		       const struct dpsec_addr *via)
{
	struct dp_nexthop nh = { .port = port, .family = dst->addr.family };

	nh.onlink = via == NULL || via->family == DPSEC_AF_NONE;
	if (!nh.onlink)
		memcpy(nh.gw, via->a, sizeof(nh.gw));
	else
		nh.host_bits = broadcast_host_bits(dst);
	for (uint32_t i = 0; i < r->n_nh; i++)
		if (memcmp(&r->nh[i], &nh, sizeof(nh)) == 0)
			return (int)i;
	if (r->n_nh == DP_MAX_NEXTHOPS)
		return -ENOSPC;
	r->nh[r->n_nh] = nh;
	return (int)r->n_nh++;
}

int dp_route_add(struct dp_routes *r, const struct dpsec_prefix *dst, uint16_t port,
		 const struct dpsec_addr *via)
{
	int nh = nexthop_add(r, dst, port, via);
	uint32_t ip4;

	if (nh < 0)
		return nh;
	if (dst->addr.family == DPSEC_AF_INET6)
		return rte_lpm6_add(r->lpm6, dst->addr.a, dst->len, (uint32_t)nh);
	memcpy(&ip4, dst->addr.a, 4);
	ip4 = rte_be_to_cpu_32(ip4);
	if (dst->len < 32)
		ip4 &= dst->len ? ~0u << (32 - dst->len) : 0;
	return rte_lpm_add(r->lpm4, ip4, dst->len, (uint32_t)nh);
}

const struct dp_nexthop *dp_route_lookup(const struct dp_routes *r, uint8_t family,
					 const uint8_t *dst)
{
	uint32_t nh, ip4;

	if (family == DPSEC_AF_INET6) {
		if (rte_lpm6_lookup(r->lpm6, dst, &nh) != 0)
			return NULL;
	} else {
		memcpy(&ip4, dst, 4);
		if (rte_lpm_lookup(r->lpm4, rte_be_to_cpu_32(ip4), &nh) != 0)
			return NULL;
	}
	return &r->nh[nh];
}

static void neigh_key(struct dp_neigh_key *k, uint16_t port, uint8_t family, const uint8_t *addr)
{
	memset(k, 0, sizeof(*k));
	k->port = port;
	k->family = family;
	memcpy(k->addr, addr, family == DPSEC_AF_INET6 ? 16 : 4);
}

/* The MAC is kept in the hash's data pointer itself, in its low 48 bits,
 * with these flags. */
#define NEIGH_PRESENT (1ull << 63) /* never 0 */
#define NEIGH_PERMANENT (1ull << 62) /* configured: what the link says is ignored */

/* addr's entry on port (its MAC in the low 48 bits) and its position in
 * the table, 0 when none. */
static uint64_t neigh_entry(const struct dp_routes *r, uint16_t port, uint8_t family,
			    const uint8_t *addr, int32_t *pos)
{
	struct dp_neigh_key k;
	void *data;

	neigh_key(&k, port, family, addr);
	*pos = rte_hash_lookup_data(r->neigh, &k, &data);
	if (*pos < 0)
		return 0;
	return (uint64_t)(uintptr_t)data;
}

static void mac_of_entry(uint64_t v, struct rte_ether_addr *mac)
{
	for (int i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		mac->addr_bytes[i] = (uint8_t)(v >> (8 * (5 - i)));
}

bool dp_neigh_lookup(const struct dp_routes *r, uint16_t port, uint8_t family,
		     const uint8_t *addr, struct rte_ether_addr *mac)
{
	int32_t pos;
	uint64_t v = neigh_entry(r, port, family, addr, &pos);

	if (v == 0)
		return false;
	mac_of_entry(v, mac);
	return true;
}

bool dp_neigh_use(const struct dp_routes *r, uint16_t port, uint8_t family, const uint8_t *addr,
		  struct rte_ether_addr *mac)
{
	int32_t pos;
	uint64_t v = neigh_entry(r, port, family, addr, &pos);

	if (v == 0)
		return false;
	if (!__atomic_load_n(&r->neigh_used[pos], __ATOMIC_RELAXED))
		__atomic_store_n(&r->neigh_used[pos], 1, __ATOMIC_RELAXED);
	mac_of_entry(v, mac);
	return true;
}

bool dp_neigh_used(const struct dp_routes *r, int32_t position)
{
	return __atomic_load_n(&r->neigh_used[position], __ATOMIC_RELAXED) != 0;
}

void dp_neigh_clear_used(struct dp_routes *r, int32_t position)
{
	__atomic_store_n(&r->neigh_used[position], 0, __ATOMIC_RELAXED);
}

enum dp_neigh_kind dp_neigh_entry(const struct dp_routes *r, uint16_t port, uint8_t family,
				  const uint8_t *addr, struct rte_ether_addr *mac, int32_t *pos)
{
	uint64_t v = neigh_entry(r, port, family, addr, pos);

	if (v == 0)
		return DP_NEIGH_UNKNOWN;
	mac_of_entry(v, mac);
	return (v & NEIGH_PERMANENT) ? DP_NEIGH_PERMANENT : DP_NEIGH_LEARNT;
}

enum dp_neigh_kind dp_neigh_known(const struct dp_routes *r, uint16_t port, uint8_t family,
				  const uint8_t *addr)
{
	struct rte_ether_addr mac;
	int32_t pos;

	return dp_neigh_entry(r, port, family, addr, &mac, &pos);
}

int dp_neigh_set(struct dp_routes *r, uint16_t port, uint8_t family, const uint8_t *addr,
		 const struct rte_ether_addr *mac, bool permanent)
{
	struct dp_neigh_key k;
	uint64_t v = NEIGH_PRESENT | (permanent ? NEIGH_PERMANENT : 0);
	int rc;

	for (int i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		v |= (uint64_t)mac->addr_bytes[i] << (8 * (5 - i));
	neigh_key(&k, port, family, addr);
	rc = rte_hash_add_key_data(r->neigh, &k, (void *)(uintptr_t)v);
	return rc < 0 ? rc : rte_hash_lookup(r->neigh, &k);
}

int32_t dp_neigh_next(const struct dp_routes *r, uint32_t *next, struct dp_neigh_key *k,
		      struct rte_ether_addr *mac, bool *permanent)
{
	const void *key;
	void *data;
	int32_t pos = rte_hash_iterate(r->neigh, &key, &data, next);
	uint64_t v;

	if (pos < 0)
		return -1;
	v = (uint64_t)(uintptr_t)data;
	memcpy(k, key, sizeof(*k));
	mac_of_entry(v, mac);
	*permanent = (v & NEIGH_PERMANENT) != 0;
	return pos;
}

int32_t dp_neigh_forget(struct dp_routes *r, const struct dp_neigh_key *k)
{
	return rte_hash_del_key(r->neigh, k);
}

void dp_neigh_free_position(struct dp_routes *r, int32_t position)
{
	rte_hash_free_key_with_position(r->neigh, position);
}

static uint32_t failed_index(const struct dp_neigh_key *k)
{
	return rte_hash_crc(k, sizeof(*k), 0) % DP_NEIGH_FAILED_SLOTS;
}

bool dp_neigh_failed(const struct dp_routes *r, uint16_t port, uint8_t family,
		     const uint8_t *addr)
{
	const struct dp_neigh_failed *f;
	struct dp_neigh_key k;
	uint32_t sn;
	bool failed;

	neigh_key(&k, port, family, addr);
	f = &r->failed[failed_index(&k)];
	do {
		sn = rte_seqlock_read_begin(&f->lock);
		failed = f->failed && memcmp(&f->key, &k, sizeof(k)) == 0;
	} while (rte_seqlock_read_retry(&f->lock, sn));
	return failed;
}

void dp_neigh_mark_failed(struct dp_routes *r, uint16_t port, uint8_t family, const uint8_t *addr,
			  bool failed)
{
	struct dp_neigh_failed *f;
	struct dp_neigh_key k;

	neigh_key(&k, port, family, addr);
	f = &r->failed[failed_index(&k)];
	if (!failed && memcmp(&f->key, &k, sizeof(k)) != 0)
		return;
	rte_seqlock_write_lock(&f->lock);
	f->key = k;
	f->failed = failed;
	rte_seqlock_write_unlock(&f->lock);
}
