/* fuzz_neigh.c - libFuzzer target for the manager's ARP and IPv6 neighbour
 * discovery (neigh.c): frames from the wire go to dp_neigh_input as a
 * worker hands them over, with the real neighbour table (kept from input
 * to input, so that entries learnt, moved and marked failed meet later
 * inputs), one port with an IPv4 and an IPv6 prefix, and resolution
 * requests between inputs on a clock that moves a second every few
 * inputs, so that next hops fail and answer, and learnt ones fall silent,
 * are asked again and forgotten (neighbour_reachable_seconds 2, their
 * table positions freed through the real grace-period queue). The frames
 * sent back (ARP replies, neighbour advertisements, requests) are freed.
 * Input byte 0 picks the mode:
 *   bit 0 clear: the rest is an Ethernet frame with an ARP packet (the
 *                manager reads ARP at the Ethernet header);
 *   bit 0 set:   the rest is an IPv6 packet, parsed as a worker parses it
 *                (ICMPv6 neighbour discovery reaches the manager so);
 *   bits 1-3:    the low byte of an address on the port's prefixes to ask
 *                the manager to resolve after the frame (0: none);
 *   bit 4 set:   (IPv6) the harness writes the ICMPv6 checksum, so that
 *                what follows its check is reached too;
 *   bit 5 set:   the resolution request hands the manager a packet to
 *                hold, as a worker does, to hand back when the next hop
 *                answers or fails, or free;
 *   bit 6 set:   the manager's neighbour state starts over first, as at
 *                dpsecd's start: its IPv6 address tested for duplicates
 *                again (each input gives the manager its announcement
 *                round, so that the test passes or fails, and the
 *                address is announced or not); with bit 5 also set, the
 *                port's link reads down for this input instead (and up
 *                at the next: the addresses tested and announced again);
 *   bit 7 set:   (IPv6) the frame comes from the port's own MAC (our own
 *                frame seen again), else from another. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "cfg.h"
#include "dp.h"
#define FUZZ_EAL_MB "512" /* the neighbour and route tables */
#include "fuzz_eal.h"
#include "dp_pkt.h"
#include "dp_rcu.h"
#include "dp_route.h"
#include "neigh.h"

#define TICKS_A_SECOND 4 /* inputs */
#define MAX_HELD (2 * 8 * 8 + 16) /* families, next hops, packets held for each; and
				 * 16 anycast answers waiting to be sent */

static struct dp_ctx ctx;
static struct cfg_dataplane cfg;
static uint64_t fuzz_clock;

static const uint8_t us4[4] = { 192, 0, 2, 1 };
static const uint8_t us6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 1 };

/* The port and its prefixes, the table, the pool and the ring the manager
 * sends on (after the EAL, fuzz_eal.h). */
static void setup(void)
{
	cfg.n_ports = 1;
	cfg.ports[0].n_addrs = 2;
	if (cfg_parse_prefix("192.0.2.1/24", &cfg.ports[0].addrs[0]) != 0 ||
	    cfg_parse_prefix("2001:db8:ff::1/64", &cfg.ports[0].addrs[1]) != 0)
		abort();
	cfg.opts.neighbour_reachable_s = 2;
	ctx.cfg = &cfg;
	ctx.n_ports = 1;
	ctx.n_workers = 1; /* none registered: every grace period is over at once */
	ctx.host_port = -1;
	ctx.ports[0].mac = (struct rte_ether_addr){ { 0x02, 0, 0, 0, 0, 1 } };
	dp_g = &ctx;
	ctx.pool = rte_pktmbuf_pool_create("fzn", 256, 0, DP_META_SIZE, 2048, SOCKET_ID_ANY);
	ctx.inject = rte_ring_create("fzn_inject", 256, SOCKET_ID_ANY, 0);
	ctx.reroute = rte_ring_create("fzn_reroute", 256, SOCKET_ID_ANY, 0);
	if (!ctx.pool || !ctx.inject || !ctx.reroute || dp_routes_init(&ctx.routes, "fzn", SOCKET_ID_ANY) < 0 ||
	    dp_rcu_init(&ctx, 64) < 0 || dp_neigh_init(&ctx) < 0)
		abort();
}

/* The frames the manager sent and the packets it handed back: freed, as
 * a port and worker 0 would. */
static void drain(void)
{
	struct rte_mbuf *m;

	while (rte_ring_dequeue(ctx.inject, (void **)&m) == 0 ||
	       rte_ring_dequeue(ctx.reroute, (void **)&m) == 0)
		rte_pktmbuf_free(m);
}

static const struct rte_ether_addr other_mac = { { 0x02, 0, 0, 0, 0, 0x77 } };

/* The fuzz clock in TSC cycles. */
static uint64_t now(void)
{
	return fuzz_clock * (rte_get_tsc_hz() / TICKS_A_SECOND);
}

/* A routed packet of family waiting for its next hop's MAC (its bytes do
 * not matter to the manager), or NULL. */
static struct rte_mbuf *packet_to_hold(uint8_t family)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx.pool);

	if (m == NULL || rte_pktmbuf_append(m, 64) == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	dp_meta(m)->family = family;
	return m;
}

/* Asks the manager to resolve the address of low byte low on the port's
 * prefix of family, at the fuzz clock, handing it a packet to hold or
 * not. */
static void resolve(uint8_t family, uint8_t low, bool with_packet)
{
	struct dp_resolve_req r = { .port = 0, .family = family,
				    .m = with_packet ? packet_to_hold(family) : NULL };

	memcpy(r.addr, family == DPSEC_AF_INET6 ? us6 : us4, family == DPSEC_AF_INET6 ? 16 : 4);
	r.addr[family == DPSEC_AF_INET6 ? 15 : 3] = low;
	dp_neigh_resolve(&ctx, &r, now());
}

/* The rest of the input as a frame for the manager, or NULL; IPv6 behind
 * an Ethernet header from eth_src that the worker stepped over. */
static struct rte_mbuf *frame(const uint8_t *data, size_t size, bool v6,
			      const struct rte_ether_addr *eth_src)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx.pool);
	struct rte_ether_hdr *eth;
	struct dp_meta *md;

	if (m == NULL || rte_pktmbuf_append(m, (uint16_t)size) == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), data, size);
	if (v6) {
		eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));
		eth->src_addr = *eth_src;
		eth->dst_addr = ctx.ports[0].mac;
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
		rte_pktmbuf_adj(m, sizeof(*eth));
	}
	md = dp_meta(m);
	md->in_port = 0;
	md->family = v6 ? DPSEC_AF_INET6 : DPSEC_AF_NONE;
	if (v6 && (dp_parse_ip_as(m, md, DPSEC_AF_INET6) != 0 || md->l4proto != IPPROTO_ICMPV6)) {
		rte_pktmbuf_free(m); /* a worker hands the manager only ICMPv6 it parsed */
		return NULL;
	}
	return m;
}

/* The ICMPv6 checksum of m (parsed) made right, when its header is there. */
static void fix_icmp6_cksum(struct rte_mbuf *m)
{
	const struct dp_meta *md = dp_meta(m);
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *);
	uint8_t *icmp = rte_pktmbuf_mtod_offset(m, uint8_t *, md->l3_len);
	uint16_t sum;

	if (m->data_len < md->l3_len + 4u)
		return;
	icmp[2] = icmp[3] = 0;
	sum = rte_ipv6_udptcp_cksum(ip, icmp);
	memcpy(icmp + 2, &sum, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rte_mbuf *m;
	bool v6, link_down;
	uint8_t low;

	if (size < 2 || size > 1500)
		return 0;
	fuzz_clock++;
	link_down = (data[0] & 0x60) == 0x60;
	if ((data[0] & 0x60) == 0x40) {
		dp_neigh_fini(&ctx);
		if (dp_neigh_init(&ctx) < 0)
			abort();
	}
	dp_neigh_link(&ctx, 0, !link_down);
	dp_neigh_announce(&ctx, now());
	v6 = data[0] & 1;
	low = (uint8_t)((data[0] >> 1) & 7);
	m = frame(data + 1, size - 1, v6, data[0] & 0x80 ? &ctx.ports[0].mac : &other_mac);
	if (m != NULL && v6 && (data[0] & 0x10))
		fix_icmp6_cksum(m);
	if (m != NULL)
		dp_neigh_input(&ctx, m, now());
	if (low != 0)
		resolve(v6 ? DPSEC_AF_INET6 : DPSEC_AF_INET, (uint8_t)(low + 1), data[0] & 0x20);
	dp_neigh_tick(&ctx, now());
	dp_neigh_answer_due(&ctx, now());
	dp_rcu_reclaim(&ctx);
	drain();
	/* what the manager may still hold: eight packets for each of the 16
	 * next hops the inputs can name; more would be a leak */
	if (rte_mempool_in_use_count(ctx.pool) > MAX_HELD)
		abort();
	return 0;
}
