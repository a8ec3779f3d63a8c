/* dpsec_shm.h - the shared-memory protocol between dpsecd, which creates the
 * segment, and dpsec-ctld / dpsecctl, which attach to it: the segment layout
 * (header, command ring, event ring, statistics area, neighbour table, port
 * table, SA directory), and the
 * fixed-size versioned messages carried by the two rings. Plain C, no DPDK:
 * the control plane includes it too. Everything is in host byte order except
 * addresses (network order, as in struct dpsec_addr). */
#ifndef DPSEC_SHM_H
#define DPSEC_SHM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "dpsec_counters.h"
#include "dpsec_model.h"

#define DPSEC_SHM_MAGIC 0x4d48534345535044ull /* "DPSECSHM", little-endian */
#define DPSEC_SHM_LAYOUT 23             /* bumped on any layout change (23: policy_sa_changes) */
#define DPSEC_SHM_PREFIX "/dpsec."      /* + instance name: shm_open() name */
#define DPSEC_INSTANCE_MAX 32
#define DPSEC_MSG_SIZE 512              /* one ring slot */
#define DPSEC_MSG_VERSION 7             /* of the message bodies (7: CMD_RULE_SA) */
#define DPSEC_RING_SLOTS 1024           /* per ring; a power of two */
#define DPSEC_REASON_MAX 200            /* refusal text in an ACK */
#define DPSEC_MAX_LCORES 17             /* workers + the manager */

/* ------------------------------------------------------------------------
 * Messages. Sequence numbers are the ring positions: the n-th message ever
 * written into a ring has seq n (from 0), so a consumer sees gaps never and
 * an ACK names its command without ambiguity. */

enum dpsec_msg_type {
	/* commands, control -> dataplane; each answered by one DPSEC_EV_ACK */
	DPSEC_CMD_SA_ADD = 1,    /* struct dpsec_cmd_sa_add */
	DPSEC_CMD_SA_UPDATE,     /* struct dpsec_cmd_sa_update */
	DPSEC_CMD_SA_DEL,        /* struct dpsec_cmd_sa_del */
	DPSEC_CMD_POLICY_BEGIN,  /* struct dpsec_cmd_policy_begin: start staging a whole policy */
	DPSEC_CMD_RULE_SET,      /* struct dpsec_cmd_rule: add or replace a rule */
	DPSEC_CMD_RULE_DEL,      /* struct dpsec_cmd_rule_del */
	DPSEC_CMD_FILTER_ADD,    /* struct dpsec_cmd_filter */
	DPSEC_CMD_FILTER_DEL,    /* struct dpsec_cmd_filter (only the ids are read) */
	DPSEC_CMD_POLICY_COMMIT, /* no body: build the staged policy and swap it in */
	DPSEC_CMD_FLUSH,         /* struct dpsec_cmd_flush: every SA and rule removed, managed = 1 */
	DPSEC_CMD_ACQUIRE_DONE,  /* struct dpsec_cmd_acquire_done: release held packets */
	DPSEC_CMD_SA_MOVE,       /* struct dpsec_cmd_sa_move: an outbound SA to its peer's new place */
	DPSEC_CMD_RULE_SA,       /* struct dpsec_cmd_rule_sa: a rule's outbound SA, no rebuild */
	DPSEC_CMD_MAX,

	/* events, dataplane -> control */
	DPSEC_EV_ACK = 64,       /* struct dpsec_ev_ack */
	DPSEC_EV_ACQUIRE,        /* struct dpsec_ev_acquire */
	DPSEC_EV_SA_EXPIRE,      /* struct dpsec_ev_sa_expire: soft, hard, idle, sequence */
	DPSEC_EV_PEER_MOVED,     /* struct dpsec_ev_peer_moved: ESP in UDP from a new source */
	DPSEC_EV_MAX,
};

struct dpsec_msg_hdr {
	uint16_t version; /* DPSEC_MSG_VERSION */
	uint16_t type;    /* enum dpsec_msg_type */
	uint32_t len;     /* bytes of body used */
	uint64_t seq;     /* ring position; set by dpsec_ring_push() */
};

#define DPSEC_MSG_BODY (DPSEC_MSG_SIZE - sizeof(struct dpsec_msg_hdr))

struct dpsec_msg {
	struct dpsec_msg_hdr h;
	uint8_t body[DPSEC_MSG_BODY];
};

/* Lifetimes of an SA (RFC 4301 §4.4.2.1). 0 means no limit. The dataplane
 * counts bytes of inner packets. Hard limits stop the SA in the dataplane
 * itself (its packets are dropped as sa_expired) even with no control plane;
 * each limit crossed is reported once. */
struct dpsec_lifetime {
	uint64_t soft_bytes, hard_bytes;
	uint64_t soft_packets, hard_packets;
	uint32_t soft_seconds, hard_seconds;
	uint32_t idle_seconds; /* inbound SAs: report after this long without a packet */
	uint32_t pad;
};

/* The SA id is its slot in the dataplane's SA table, chosen by the control
 * plane (0 .. header.sa_capacity - 1). rule_id binds an inbound SA to the
 * rule whose traffic it carries: a decrypted packet must match that rule. */
struct dpsec_cmd_sa_add {
	uint32_t sa_id;
	uint32_t rule_id;
	struct dpsec_lifetime life;
	struct dpsec_sa_conf conf; /* with keys; the dataplane wipes the slot after use */
};

_Static_assert(sizeof(struct dpsec_cmd_sa_add) <= DPSEC_MSG_BODY, "SA_ADD must fit in one ring slot");

/* Lifetimes and the rule an inbound SA serves may change (a reassigned
 * policy); keys and SPI never do (that is a new SA). rule_id 0: unchanged. */
struct dpsec_cmd_sa_update {
	uint32_t sa_id;
	uint32_t rule_id;
	struct dpsec_lifetime life;
};

struct dpsec_cmd_sa_del {
	uint32_t sa_id;
};

/* A peer behind a NAT whose mapping changed (RFC 7296 §2.23): the
 * outbound SA a key exchange made (negotiated) sends to the peer's new
 * address and, with ESP in UDP, its new port from now on; same keys, SPI
 * and sequence numbers. An inbound SA with ESP in UDP takes the address
 * and port as those its peer sends from (DPSEC_EV_PEER_MOVED reports
 * another). The family stays the SA's. */
struct dpsec_cmd_sa_move {
	uint32_t sa_id;
	uint16_t udp_port;  /* host order: the peer's port with ESP in UDP, else 0 */
	uint16_t pad;
	struct dpsec_addr remote;
};

/* Staging: POLICY_BEGIN, then RULE_SET and FILTER_ADD for every rule, then
 * POLICY_COMMIT builds the SPD off the fast path and swaps it in with one
 * pointer store. A new BEGIN discards what an unfinished one staged. Outside
 * a transaction RULE_SET/RULE_DEL/FILTER_ADD/FILTER_DEL change the live
 * policy: the dataplane applies every command it finds in the ring, rebuilds
 * once and then acknowledges them, so a burst of changes costs one build. */
struct dpsec_cmd_policy_begin {
	uint8_t default_action; /* enum dpsec_action, for packets no filter matches */
	uint8_t pad[3];
	uint32_t n_rules;       /* a hint for allocation; not a limit */
};

/* Rules are ordered as the SPD orders them: exemptions, then tunnel rules,
 * then lower priority first, then lower rule_id. */
struct dpsec_cmd_rule {
	uint32_t rule_id;   /* chosen by the control plane, stable over rebuilds */
	uint32_t priority;
	uint32_t sa_out;    /* outbound SA id for negotiate rules, or DPSEC_SA_NONE */
	uint8_t action;     /* enum dpsec_action */
	uint8_t flags;      /* enum dpsec_rule_flags (dpsec_model.h) */
	uint8_t tunnel;     /* 1: a tunnel rule */
	uint8_t pad;
	struct dpsec_addr tunnel_endpoint;
	char name[DPSEC_NAME_MAX];
};

struct dpsec_cmd_rule_del {
	uint32_t rule_id;
};

/* The outbound SA a negotiate rule of the policy in force carries, changed
 * in place (a rekey's new SA): the workers' next packets take it, and no
 * classifier is rebuilt. A transaction being staged keeps what it was sent. */
struct dpsec_cmd_rule_sa {
	uint32_t rule_id;
	uint32_t sa_out;    /* SA id, or DPSEC_SA_NONE: the rule's packets wait for one */
};

struct dpsec_cmd_filter {
	uint32_t rule_id;
	uint32_t filter_id; /* unique within its rule */
	struct dpsec_filter filter;
};

struct dpsec_cmd_flush {
	uint8_t default_action;
};

enum dpsec_acquire_result {
	DPSEC_ACQUIRE_SEND,  /* the rule now has an SA or a permit: process the held packets again */
	DPSEC_ACQUIRE_DROP,  /* negotiation failed: drop them (counted) */
};

struct dpsec_cmd_acquire_done {
	uint32_t rule_id;
	uint8_t result; /* enum dpsec_acquire_result */
	uint8_t pad[3];
	struct dpsec_addr peer;
};

/* The answer to every command. status 0: applied; otherwise a positive errno
 * and a sentence in reason that names the problem. */
struct dpsec_ev_ack {
	uint64_t cmd_seq;
	uint16_t cmd_type;
	uint16_t pad;
	int32_t status;
	char reason[DPSEC_REASON_MAX];
};

/* An outbound packet matched a negotiate rule without an SA. Sent once per
 * (rule, peer) and again only after the retry interval while packets keep
 * coming; peer is the tunnel endpoint of a tunnel rule, else the packet's
 * destination. The selectors are those of the packet that triggered it. */
struct dpsec_ev_acquire {
	uint32_t rule_id;
	uint32_t held;   /* packets held for this (rule, peer) so far */
	struct dpsec_addr peer;
	struct dpsec_addr src, dst;
	uint8_t proto;
	uint8_t pad;
	uint16_t sport, dport; /* host order; 0 for protocols without ports */
};

enum dpsec_expire_kind {
	DPSEC_EXPIRE_SOFT,     /* time to rekey */
	DPSEC_EXPIRE_HARD,     /* the SA no longer carries packets */
	DPSEC_EXPIRE_IDLE,     /* no inbound packet for idle_seconds */
	DPSEC_EXPIRE_SEQ,      /* outbound sequence numbers near exhaustion (soft) */
};

enum dpsec_expire_trigger { DPSEC_TRIGGER_TIME, DPSEC_TRIGGER_BYTES, DPSEC_TRIGGER_PACKETS,
			    DPSEC_TRIGGER_IDLE, DPSEC_TRIGGER_SEQ };

struct dpsec_ev_sa_expire {
	uint32_t sa_id;
	uint32_t spi;
	uint8_t kind;    /* enum dpsec_expire_kind */
	uint8_t trigger; /* enum dpsec_expire_trigger */
	uint8_t direction;
	uint8_t pad;
	uint64_t bytes, packets; /* so far */
};

/* ESP in UDP that verified and was new to the inbound SA's window came
 * from another address or port than the SA's peer sends from: the peer's
 * NAT mapped it anew (RFC 7296 §2.23). Once per new source, until a
 * SA_MOVE of the SA names it. */
struct dpsec_ev_peer_moved {
	uint32_t sa_id;      /* the inbound SA */
	uint16_t udp_sport;  /* host order: the peer's new port */
	uint16_t pad;
	struct dpsec_addr remote; /* the packet's source address */
};

/* ------------------------------------------------------------------------
 * The segment. */

/* A single-producer/single-consumer ring. head is written by the producer
 * only, tail by the consumer only; each reads the other's with acquire
 * ordering. A full ring refuses the push: back-pressure, never loss. */
struct dpsec_ring {
	_Alignas(64) _Atomic uint64_t head; /* next position to write */
	_Alignas(64) _Atomic uint64_t tail; /* next position to read */
	_Alignas(64) uint32_t slots;        /* DPSEC_RING_SLOTS */
	uint32_t msg_size;                  /* DPSEC_MSG_SIZE */
	struct dpsec_msg msg[DPSEC_RING_SLOTS];
};

/* Summed counters and gauges, written by the dataplane's manager lcore a few
 * times a second under a sequence lock (odd while writing). */
struct dpsec_shm_stats {
	_Atomic uint64_t lock;
	uint64_t updated_ns;             /* CLOCK_REALTIME of the last update */
	uint64_t counters[DP_C_MAX];  /* dataplane counters, summed over lcores */
	uint64_t active_sas;             /* installed and not hard-expired */
	uint64_t active_tunnels;         /* tunnel-mode SAs among them */
	uint64_t offloaded_sas;
	uint64_t key_additions, key_deletions;
	uint64_t policy_rules, policy_filters, policy_builds;
	uint64_t policy_sa_changes;      /* RULE_SA taken: a rule's SA changed without a build */
	uint64_t policy_commit_seq;      /* seq of the last policy change applied */
	uint64_t acquires_pending;       /* (rule, peer) pairs with held packets */
};

#define DPSEC_SHM_NEIGHBOURS 4160 /* the dataplane's table of 4,096 and 64 being asked for */
#define DPSEC_SHM_PORTS 8

enum dpsec_neigh_state {
	DPSEC_NEIGH_PERMANENT = 1, /* configured */
	DPSEC_NEIGH_REACHABLE,     /* learnt, heard from within neighbour_reachable_seconds */
	DPSEC_NEIGH_PROBE,         /* learnt, silent since, being asked by unicast */
	DPSEC_NEIGH_INCOMPLETE,    /* being asked for, no answer yet */
	DPSEC_NEIGH_FAILED,        /* three requests unanswered: host unreachable */
	DPSEC_NEIGH_STALE,         /* learnt, silent since, no packet sent to it: not asked */
};

/* One next hop as the dataplane knows it. */
struct dpsec_shm_neigh {
	struct dpsec_addr addr;
	uint8_t state;    /* enum dpsec_neigh_state */
	uint8_t mac[6];   /* but INCOMPLETE and FAILED */
	uint16_t port;    /* index in dpsec_shm_neighs.ports */
	uint16_t asked;   /* requests sent since last heard from */
	uint16_t held;    /* packets waiting for its MAC */
	uint32_t silent_s; /* learnt: seconds since last heard from */
};

/* The dataplane's neighbours, rewritten four times a second and within
 * 20 ms of a change. */
struct dpsec_shm_neighs {
	_Atomic uint64_t lock; /* sequence lock, odd while the manager writes */
	uint64_t updated_ns;   /* CLOCK_REALTIME */
	uint32_t n;            /* entries of e in use */
	uint32_t n_ports;
	char ports[DPSEC_SHM_PORTS][DPSEC_NAME_MAX];
	struct dpsec_shm_neigh e[DPSEC_SHM_NEIGHBOURS];
};

/* A network port's link as the manager last read it. */
enum dpsec_link { DPSEC_LINK_UNKNOWN, DPSEC_LINK_DOWN, DPSEC_LINK_UP };

/* One network port: what it is, its link and its driver's counters. */
struct dpsec_shm_port {
	char name[DPSEC_NAME_MAX];
	uint8_t role;        /* 0 protected, 1 unprotected */
	uint8_t link;        /* enum dpsec_link */
	uint8_t full_duplex; /* link up: 1 full, 0 half */
	uint8_t mac[6];
	uint16_t mtu;
	uint32_t speed_mbps; /* link up: 0 when the driver does not say */
	uint64_t ipackets, opackets, ibytes, obytes;
	uint64_t imissed;    /* dropped by the port: no room in its rx queues */
	uint64_t ierrors, oerrors;
	uint64_t rx_nombuf;  /* dropped by the port: no mbuf to receive into */
};

/* The dataplane's network ports, rewritten four times a second. */
struct dpsec_shm_ports {
	_Atomic uint64_t lock; /* sequence lock, odd while the manager writes */
	uint64_t updated_ns;   /* CLOCK_REALTIME */
	uint32_t n;
	struct dpsec_shm_port p[DPSEC_SHM_PORTS];
};

enum dpsec_sa_state { DPSEC_SA_FREE, DPSEC_SA_ACTIVE, DPSEC_SA_EXPIRED };

/* One SA as the dataplane holds it, for display and for a restarted control
 * plane to read back. No key material, ever. */
struct dpsec_shm_sa {
	_Atomic uint32_t lock;  /* sequence lock, odd while the manager writes */
	uint32_t state;         /* enum dpsec_sa_state */
	uint32_t sa_id;
	uint32_t rule_id;
	uint64_t added_ns;      /* CLOCK_REALTIME */
	uint64_t packets, bytes, drops;
	uint64_t last_use_ns;   /* CLOCK_REALTIME of the last packet, 0: none */
	uint64_t seq;           /* outbound: last sequence number used */
	struct dpsec_lifetime life;
	uint8_t expired;        /* bitmask of 1 << enum dpsec_expire_kind reported */
	uint8_t pad0;
	uint16_t path_mtu;      /* outbound: a router's reported path MTU in force, 0: none */
	uint8_t pad[4];
	struct dpsec_sa_conf conf; /* keys always zero here */
};

struct dpsec_shm_hdr {
	uint64_t magic;          /* DPSEC_SHM_MAGIC */
	uint32_t layout;         /* DPSEC_SHM_LAYOUT */
	uint32_t msg_version;    /* DPSEC_MSG_VERSION */
	uint64_t generation;     /* differs for every dpsecd start */
	uint64_t size;           /* of the whole segment, bytes */
	uint32_t dp_pid;
	uint32_t sa_capacity;    /* entries of the SA directory */
	uint32_t n_workers;
	uint32_t n_counters;     /* DP_C_MAX of the writer */
	uint64_t cmd_off, ev_off, stats_off, sa_off, neigh_off, ports_off; /* from its start */
	_Atomic uint64_t heartbeat_ns; /* CLOCK_MONOTONIC, updated by the manager loop */
	_Atomic uint32_t ready;  /* 1 once the dataplane takes commands */
	_Atomic uint32_t ctl_pid; /* the control plane attached, 0: none (informative) */
	_Atomic uint32_t managed; /* 1 once a control plane sent FLUSH: its state is here */
};

/* Whether len bytes at off lie inside a segment of size bytes, after its
 * header and on a cache line, as dpsecd places every area: however large
 * a damaged header's numbers, no sum overflows. */
static inline bool dpsec_shm_area_fits(uint64_t off, uint64_t len, uint64_t size)
{
	return off >= sizeof(struct dpsec_shm_hdr) && off % 64 == 0 && off <= size &&
	       size - off >= len;
}

/* Whether every area the header names fits its segment of file_size bytes
 * (the size the header gives too): what a reader checks before it maps
 * the areas. */
static inline bool dpsec_shm_areas_fit(const struct dpsec_shm_hdr *h, uint64_t file_size)
{
	return h->size == file_size &&
	       dpsec_shm_area_fits(h->cmd_off, sizeof(struct dpsec_ring), h->size) &&
	       dpsec_shm_area_fits(h->ev_off, sizeof(struct dpsec_ring), h->size) &&
	       dpsec_shm_area_fits(h->stats_off, sizeof(struct dpsec_shm_stats), h->size) &&
	       dpsec_shm_area_fits(h->neigh_off, sizeof(struct dpsec_shm_neighs), h->size) &&
	       dpsec_shm_area_fits(h->ports_off, sizeof(struct dpsec_shm_ports), h->size) &&
	       dpsec_shm_area_fits(h->sa_off, (uint64_t)h->sa_capacity * sizeof(struct dpsec_shm_sa),
				   h->size);
}

/* Readers of the sequence-locked areas: a consistent copy, or false when
 * the writer kept it busy for every one of tries attempts. */
static inline bool dpsec_shm_sa_read(const struct dpsec_shm_sa *src, struct dpsec_shm_sa *dst,
				     int tries)
{
	while (tries-- > 0) {
		uint32_t before = atomic_load_explicit(&src->lock, memory_order_acquire);

		if (before & 1)
			continue;
		memcpy((uint8_t *)dst + sizeof(dst->lock), (const uint8_t *)src + sizeof(src->lock),
		       sizeof(*dst) - sizeof(dst->lock));
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&src->lock, memory_order_relaxed) == before)
			return true;
	}
	return false;
}

/* Between a reader's tries: the area was being written, or changed under
 * the copy. The writer may be a process the machine descheduled mid-write
 * (milliseconds, on a loaded host): the reader pauses, so that its tries
 * span that long rather than a few microseconds of spinning. */
static inline void dpsec_shm_seq_pause(void)
{
	const struct timespec t = { .tv_nsec = 20 * 1000 };

	nanosleep(&t, NULL);
}

/* An area whose first member is a 64-bit sequence lock: the len bytes
 * after the lock copied from src to dst, consistent; false after tries
 * tries (20 microseconds or more apart). */
static inline bool dpsec_shm_seq_copy(const void *src, void *dst, size_t len, int tries)
{
	const _Atomic uint64_t *lock = (const _Atomic uint64_t *)src;

	for (; tries > 0; tries--, dpsec_shm_seq_pause()) {
		uint64_t before = atomic_load_explicit(lock, memory_order_acquire);

		if (before & 1)
			continue;
		memcpy((uint8_t *)dst + sizeof(*lock), (const uint8_t *)src + sizeof(*lock), len);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(lock, memory_order_relaxed) == before)
			return true;
	}
	return false;
}

_Static_assert(offsetof(struct dpsec_shm_stats, lock) == 0 &&
		       offsetof(struct dpsec_shm_ports, lock) == 0,
	       "the areas copied whole begin with their lock");

static inline bool dpsec_shm_stats_read(const struct dpsec_shm_stats *src,
					struct dpsec_shm_stats *dst, int tries)
{
	return dpsec_shm_seq_copy(src, dst, sizeof(*dst) - sizeof(dst->lock), tries);
}

/* The port table (n bounded). */
static inline bool dpsec_shm_ports_read(const struct dpsec_shm_ports *src,
					struct dpsec_shm_ports *dst, int tries)
{
	if (!dpsec_shm_seq_copy(src, dst, sizeof(*dst) - sizeof(dst->lock), tries))
		return false;
	if (dst->n > DPSEC_SHM_PORTS)
		dst->n = DPSEC_SHM_PORTS;
	return true;
}

/* The neighbour table: its head and the n entries in use (n bounded). */
static inline bool dpsec_shm_neighs_read(const struct dpsec_shm_neighs *src,
					 struct dpsec_shm_neighs *dst, int tries)
{
	const size_t head = offsetof(struct dpsec_shm_neighs, e) - sizeof(src->lock);

	for (; tries > 0; tries--, dpsec_shm_seq_pause()) {
		uint64_t before = atomic_load_explicit(&src->lock, memory_order_acquire);

		if (before & 1)
			continue;
		memcpy((uint8_t *)dst + sizeof(dst->lock), (const uint8_t *)src + sizeof(src->lock),
		       head);
		if (dst->n > DPSEC_SHM_NEIGHBOURS)
			dst->n = DPSEC_SHM_NEIGHBOURS;
		if (dst->n_ports > DPSEC_SHM_PORTS)
			dst->n_ports = DPSEC_SHM_PORTS;
		memcpy(dst->e, src->e, dst->n * sizeof(dst->e[0]));
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&src->lock, memory_order_relaxed) == before)
			return true;
	}
	return false;
}

#endif
