/* dp_sa.h - the dataplane's security associations: the SA structure with its
 * hot fields first (layout checked at compile time), the SA table and the
 * inbound SAD (rte_hash on SPI, protocol, destination; lock-free readers).
 * SAs are published by storing a slot pointer and unpublished by clearing
 * it; their memory is freed only after an RCU grace period (dp_rcu.h), so a
 * worker may use the pointer it read until its next quiescent state. */
#ifndef DP_SA_H
#define DP_SA_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>
#include <rte_hash.h>
#include <rte_ip.h>

#include "dpsec_model.h"
#include "dpsec_shm.h"
#include "ofl_engine.h"
#include "replay.h"
#include "seq_store.h"

#define DP_SA_NONE UINT32_MAX
#define DP_SA_UDP_LEN 8                   /* the UDP header of NAT traversal, RFC 3948 */
#define DP_SA_OUTER_MAX (40 + DP_SA_UDP_LEN) /* IPv6 header, UDP header */
#define DP_NATT_PORTS 65536
#define DP_SA_REPLAY_INLINE 40 /* the rest of cache line 1 */

enum dp_sa_flags {
	DP_SA_ESN = 1 << 0,
	DP_SA_TUNNEL = 1 << 1,
	DP_SA_OUTER6 = 1 << 2, /* tunnel endpoints (or transport hosts) are IPv6 */
	DP_SA_INTEG = 1 << 3,  /* separate integrity algorithm (not combined mode) */
	DP_SA_NATT = 1 << 4,   /* ESP in UDP (RFC 3948) */
	DP_SA_AH = 1 << 5,     /* AH (RFC 4302), not ESP: ah.c */
	DP_SA_DF_SET = 1 << 6, /* the outer IPv4 header always has DF (else copied) */
	DP_SA_DF_CLEAR = 1 << 7, /* never has DF */
};

struct dp_sa {
	/* cache line 0: read for every packet */
	uint32_t spi_be;       /* network order, as in the packet */
	uint32_t idx;          /* index in the SA table */
	uint8_t flags;         /* enum dp_sa_flags */
	uint8_t iv_len;
	uint8_t icv_len;
	uint8_t block_len;
	uint8_t outer_len;     /* outbound template bytes before ESP: the tunnel IP header
				* (20 or 40), then the UDP header with NAT traversal (8) */
	uint8_t expired;       /* set by the manager at the hard lifetime */
	uint8_t tos_keep, tos_set; /* outbound tunnel: outer TOS = inner & keep | set */
	uint8_t outer[DP_SA_OUTER_MAX]; /* outbound header template; IPv4: the checksum
					 * field holds the fixed fields' sum; UDP:
					 * ports set, length and checksum 0 */

	/* cache line 1: written once per run of outbound packets (their
	 * sequence numbers reserved; by each worker of a fat tunnel), read
	 * per packet by none; read-only for inbound SAs */
	uint64_t seq __rte_cache_aligned; /* last sequence number used */
	struct dp_replay *replay;         /* inbound only: replay_inline or its own memory */
	uint32_t rule_id;                 /* inbound: the rule its packets must match */
	uint8_t stopped;                  /* DP_SA_STOPPED_SPENT once the sequence space is
					   * exhausted; DP_SA_STOPPED_MOVED: a copy replaced
					   * (dp_sa_move_out) */
	union {
		uint8_t replay_inline[DP_SA_REPLAY_INLINE] __rte_aligned(8); /* inbound: windows up to 64 */
		/* outbound: the last number it may use; below the end of its space
		 * for a static key, whose numbers are reserved on disk a chunk at a
		 * time (seq_store.h), the manager raising it as they are used */
		uint64_t seq_limit;
	};

	/* key schedules, read per packet; in the SA's own allocation, so that
	 * the fast path reaches them without loading a pointer */
	struct ofl_sa_crypto crypto __rte_cache_aligned;

	/* cold: the manager lcore's. The SA's description (name, addresses,
	 * algorithms) lives once, in the shared-memory SA directory. */
	uint8_t direction;                /* enum dpsec_direction */
	bool key_taken;                   /* a static key taken (dp_seq_store_claim) */
	/* inbound with NAT traversal: where its peer's packets come from (as
	 * its NAT maps it), the UDP port (network order) and the address's
	 * fingerprint (dp_sa_addr_fp), and the last other source a worker
	 * reported to the manager (esp_in.c); all in one cache line (dp_sa.c
	 * asserts it), the one line of the cold part a worker reads */
	uint16_t natt_peer_port_be;
	uint16_t natt_reported_be;
	uint16_t natt_port;               /* inbound with NAT traversal: our UDP port */
	uint32_t natt_peer_fp;
	uint32_t natt_reported_fp;
	struct dpsec_lifetime life;
	uint64_t added_tsc;
	int32_t sad_pos;                  /* key position in the SAD, inbound */
	struct dpsec_addr local;          /* the SAD key's destination, inbound */
	/* outbound: the path MTU routers reported (tunnel_pmtu.c) in the low
	 * 16 bits, the TSC it ages out at in the others; 0: none. Written by
	 * the manager, read by workers only for packets near the MTU. */
	uint64_t path_mtu;
	/* a static key taken: its fingerprint; outbound, its numbers are
	 * reserved in the sequence file, if any */
	uint8_t seq_fp[DP_SEQ_FP_LEN];
	uint64_t seq_granted; /* its first chunk's end, until dp_sa_grants_commit() */
};

#define DP_SA_PMTU_MASK 0xffffull

enum dp_sa_stopped { DP_SA_STOPPED_SPENT = 1, DP_SA_STOPPED_MOVED = 2 };

/* An address of family in 32 bits, for the workers' check that ESP in UDP
 * comes from its SA's peer: an IPv4 address itself, an IPv6 one its four
 * words folded (exclusive or), so that a change within one word always
 * shows; a new IPv6 address with the old one's fold is learnt from IKE
 * alone. a: network order, as in the packet. */
static inline uint32_t dp_sa_addr_fp(uint8_t family, const uint8_t *a)
{
	uint32_t w[4];

	if (family != DPSEC_AF_INET6) {
		memcpy(&w[0], a, 4);
		return w[0];
	}
	memcpy(w, a, 16);
	return w[0] ^ w[1] ^ w[2] ^ w[3];
}

/* Whether sa's ESP payload is encrypted: not with NULL encryption (RFC
 * 2410) or AES-GMAC (RFC 4543), never with AH. The "confidential bytes"
 * counters', read once per run of packets. */
static inline bool dp_sa_confidential(const struct dp_sa *sa)
{
	return !(sa->flags & DP_SA_AH) && dpsec_enc_is_confidential(sa->crypto.enc_alg);
}

/* The last sequence number sa's space holds: 2^32 - 1, or 2^64 - 1 with
 * ESN (RFC 4303 §2.2.1); the counter never wraps. */
static inline uint64_t dp_sa_seq_end(const struct dp_sa *sa)
{
	return (sa->flags & DP_SA_ESN) ? UINT64_MAX : UINT32_MAX;
}

/* The outer IPv4 header's DF for a packet of family with inner header
 * inner (RFC 4301 §8.1): the SA's fixed choice, or copied from an inner
 * IPv4 header (network order). */
static inline uint16_t dp_sa_outer_df(const struct dp_sa *sa, uint8_t family, const uint8_t *inner)
{
	if (unlikely(sa->flags & (DP_SA_DF_SET | DP_SA_DF_CLEAR)))
		return (sa->flags & DP_SA_DF_SET) ? rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG) : 0;
	if (family != DPSEC_AF_INET)
		return 0;
	return ((const struct rte_ipv4_hdr *)inner)->fragment_offset &
	       rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
}

/* The path MTU recorded in sa, or UINT32_MAX: none, or aged out at now
 * (TSC). */
static inline uint32_t dp_sa_path_mtu(const struct dp_sa *sa, uint64_t now)
{
	uint64_t v = __atomic_load_n(&sa->path_mtu, __ATOMIC_RELAXED);

	return v != 0 && now < (v & ~DP_SA_PMTU_MASK) ? (uint32_t)(v & DP_SA_PMTU_MASK) : UINT32_MAX;
}

/* Key of the inbound SAD: (SPI, protocol, destination), RFC 4301 §4.4.2. */
struct dp_sad_key {
	uint32_t spi_be;
	uint8_t proto;
	uint8_t family;
	uint8_t pad[2];
	uint8_t dst[16];
};

struct dp_sa_table {
	uint32_t capacity;
	uint32_t count;
	uint32_t tunnels_out; /* outbound tunnel-mode SAs among them */
	struct dp_sa **sa;    /* capacity slots, NULL when free */
	struct rte_hash *sad; /* dp_sad_key -> struct dp_sa * */
	uint32_t *natt_port_refs; /* per UDP port: inbound UDP-encapsulated SAs on it */
	uint32_t flow_label_key; /* random: the outer IPv6 headers' flow labels (dp_sa.c) */
	/* static keys' claims and numbers; dpsecd always has one (without a
	 * file with sequence_file "none"); NULL: keys unchecked (harnesses) */
	struct dp_seq_store *seq_store;
	uint32_t *pending;    /* slots of SAs whose first chunk awaits a sync */
	uint32_t n_pending, cap_pending;
};

struct ofl_cpu;

int dp_sa_table_init(struct dp_sa_table *t, uint32_t capacity, int socket_id);
void dp_sa_table_fini(struct dp_sa_table *t);

/* Installs conf at slot idx: prepares the crypto template with e, builds the
 * outer header template, adds inbound SAs to the SAD (bound to rule_id: a
 * decrypted packet must match that rule). life may be NULL (no limits).
 * Returns 0 or -errno with a message in err. */
int dp_sa_install(struct dp_sa_table *t, struct ofl_cpu *e, uint32_t idx,
		  const struct dpsec_sa_conf *conf, uint32_t rule_id,
		  const struct dpsec_lifetime *life, char *err, size_t errlen);

/* Checks an SA configuration that came from outside (the command ring):
 * algorithms, key lengths, addresses, SPI, replay window, name. Returns 0 or
 * -EINVAL with a sentence in err. */
int dp_sa_conf_check(const struct dpsec_sa_conf *c, char *err, size_t errlen);

/* Takes the SA at idx out of the table and the SAD: workers stop finding it
 * now; the caller frees it with dp_sa_destroy() after a grace period.
 * Returns NULL when the slot is empty. */
struct dp_sa *dp_sa_unpublish(struct dp_sa_table *t, uint32_t idx);

/* A static key's next chunk of outbound sequence numbers (seq_store.h),
 * saved to the table's sequence file, then granted to sa (its limit
 * raised). Returns 0, or -errno with a sentence in err (sa keeps its
 * limit: its packets past it are dropped as seq_unsaved). */
int dp_sa_seq_grant(struct dp_sa_table *t, struct dp_sa *sa, char *err, size_t errlen);

/* The manager's check of each SA: a static key's outbound SA with at most
 * half a chunk of its granted numbers left (or past them) gets the next
 * chunk (dp_sa_seq_grant); others, and one whose first chunk awaits
 * dp_sa_grants_commit(), are left alone. 0, or dp_sa_seq_grant's error. */
int dp_sa_seq_top_up(struct dp_sa_table *t, struct dp_sa *sa, char *err, size_t errlen);

/* Syncs the sequence file and grants the SAs installed since the last
 * call their first chunk: call after installing (a batch of commands);
 * until then their packets wait (seq_unsaved). 0, or -errno with a
 * sentence in err (they wait until a later call succeeds). */
int dp_sa_grants_commit(struct dp_sa_table *t, char *err, size_t errlen);

/* Whether the SA described by c may move to m's address and port (a
 * negotiated one of the same family; outbound, tunnel mode or ESP in UDP;
 * inbound, ESP in UDP): 0, or -EINVAL with a sentence in err. */
int dp_sa_move_check(const struct dpsec_sa_conf *c, const struct dpsec_cmd_sa_move *m, char *err,
		     size_t errlen);

/* Moves the outbound SA in slot idx (which must hold one), described by
 * from, to the peer to describes (RFC 7296 §2.23: the peer's NAT mapping changed): a copy with
 * the new outer header takes its slot, its keys and counters the same, its
 * sequence numbers going on from the last one the old copy gave out (that
 * copy refuses any more). The path MTU recorded goes if the address
 * changed. Returns the old copy, for dp_sa_destroy() after a grace
 * period; NULL with a sentence in err (nothing changed). */
struct dp_sa *dp_sa_move_out(struct dp_sa_table *t, uint32_t idx, const struct dpsec_sa_conf *from,
			     const struct dpsec_sa_conf *to, char *err, size_t errlen);

/* An inbound SA with ESP in UDP: its peer now sends from peer, port
 * peer_port (host order), in place; a later other source is reported
 * again. */
void dp_sa_move_in(struct dp_sa *sa, const struct dpsec_addr *peer, uint16_t peer_port);

/* Frees an unpublished SA (and its SAD key position), wiping its keys. */
void dp_sa_destroy(struct dp_sa_table *t, struct dp_sa *sa);

/* proto: IPPROTO_ESP (also for ESP in UDP) or IPPROTO_AH. */
void dp_sa_sad_key(struct dp_sad_key *k, uint32_t spi_be, uint8_t proto, uint8_t family,
		   const uint8_t *dst);

/* Is port (host order) one where ESP in UDP may arrive: IKE's NAT-T port,
 * or the local port of an installed UDP-encapsulated inbound SA? */
static inline bool dp_sa_natt_port(const struct dp_sa_table *t, uint16_t port)
{
	return port == DPSEC_NATT_PORT || __atomic_load_n(&t->natt_port_refs[port], __ATOMIC_RELAXED);
}

#endif
