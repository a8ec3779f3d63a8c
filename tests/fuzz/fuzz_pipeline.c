/* fuzz_pipeline.c - libFuzzer target for a worker's whole poll round in
 * dpsecd as it runs: dpsecd's own setup (dp_setup.c) from a configuration
 * with the LAN, the WAN and the host's exception port on DPDK ring
 * devices, static SAs (AES-GCM tunnel over IPv4, CBC + HMAC-SHA256 with
 * ESN over IPv6, AES-256-GCM in UDP, AH transport to a host), a block
 * rule, routes and configured next hops, and a WAN narrower than the LAN;
 * each input is a burst of frames arriving on one port, taken through
 * dp_worker_process_burst (sorting, the policy both ways, ESP and AH,
 * decapsulation, reassembly, routing, fragments, ICMP errors, transmit),
 * then the manager's round over what the worker passed it (ARP, ND, path
 * MTU reports, next hops to resolve). Checked besides crashes and leaks:
 * every frame that leaves is what a receiver takes (an IPv4 header whose
 * checksum holds, lengths that fit the frame, a TTL or hop limit left, a
 * well-formed ARP), from the port's MAC, no longer than its port's MTU;
 * and the buffers still in use after a round stay within what the tables
 * may hold (a buffer lost an input would pass that in a few hundred).
 * Input byte 0: the port the burst arrives on (low two bits: LAN, WAN,
 * host); bits 2-4 from 1 to 4: each frame's bytes are the inner packet
 * of an ESP packet the harness seals for the inbound SA "i4", "iu" (in
 * UDP) or "i6" (IPv6, CBC + HMAC, ESN), with its trailer, or what the AH
 * SA "iah" carries after its next header byte, with the next sequence
 * number, arriving on the WAN. Then frames: two bytes of length and that
 * many bytes, an IP packet (or ARP when its first nibble is neither 4
 * nor 6) behind an Ethernet header the harness makes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#define FUZZ_EAL_LCORES "0,1" /* dp_setup gives the worker an lcore; it runs here */
#define FUZZ_EAL_MB "512"
#include "dp.h"
#include "dp_mgr.h"
#include "dp_rcu.h"
#include "dp_setup.h"
#include "fuzz_eal.h"
#include "fuzz_seal.h"
#include "neigh.h"
#include "port.h"
#include "reass.h"
#include "worker.h"

enum { LAN, WAN, HOST };
#define MAX_FRAMES 32
#define FRAME_MAX 3000
/* the inbound SAs the harness seals for, by input byte 0's bits 2-4 (0,
 * 5-7: none): "i4", "iu" (in UDP), "i6" and "iah", installed at their
 * index in the configuration */
static const uint32_t sealed_slot[8] = { 0, 1, 5, 3, 7 };
#define HELD_MAX (64 * 8 + 16) /* packets waiting for 64 next hops being asked for, and
				* 16 anycast answers waiting to be sent */

static const char config[] =
	"dataplane = { workers = 1; idle = \"sleep\"; sequence_file = \"none\"; icmp_errors_per_second = 1000000; };\n"
	"ports = (\n"
	"  { name = \"lan\"; device = \"net_ring0\"; role = \"protected\"; mac = \"02:00:00:00:01:01\";\n"
	"    addresses = [ \"10.1.0.1/24\", \"2001:db8:1::1/64\" ]; },\n"
	"  { name = \"wan\"; device = \"net_ring1\"; role = \"unprotected\"; mac = \"02:00:00:00:02:01\"; mtu = 1400;\n"
	"    addresses = [ \"192.0.2.1/24\", \"2001:db8:ff::1/64\" ]; }\n"
	");\n"
	"exception = { device = \"net_ring2\"; mac = \"02:00:00:00:03:03\"; };\n"
	"routes = (\n"
	"  { destination = \"10.2.0.0/16\"; via = \"192.0.2.2\"; port = \"wan\"; },\n"
	"  { destination = \"10.3.0.0/16\"; via = \"192.0.2.3\"; port = \"wan\"; },\n"
	"  { destination = \"2001:db8:2::/48\"; via = \"2001:db8:ff::2\"; port = \"wan\"; }\n"
	");\n"
	"neighbours = (\n"
	"  { address = \"192.0.2.2\"; mac = \"02:00:00:00:02:02\"; port = \"wan\"; },\n"
	"  { address = \"192.0.2.3\"; mac = \"02:00:00:00:02:03\"; port = \"wan\"; },\n"
	"  { address = \"192.0.2.4\"; mac = \"02:00:00:00:02:04\"; port = \"wan\"; },\n"
	"  { address = \"2001:db8:ff::2\"; mac = \"02:00:00:00:02:02\"; port = \"wan\"; },\n"
	"  { address = \"10.1.0.10\"; mac = \"02:00:00:00:01:10\"; port = \"lan\"; },\n"
	"  { address = \"2001:db8:1::10\"; mac = \"02:00:00:00:01:10\"; port = \"lan\"; }\n"
	");\n"
	"policy = {\n"
	"  default_action = \"permit\";\n"
	"  filter_lists = (\n"
	"    { name = \"v4\"; filters = ( { source = \"10.1.0.0/16\"; destination = \"10.2.0.0/16\"; protocol = \"any\"; mirrored = true; } ); },\n"
	"    { name = \"v6\"; filters = ( { source = \"2001:db8:1::/48\"; destination = \"2001:db8:2::/48\"; protocol = \"any\"; mirrored = true; } ); },\n"
	"    { name = \"natt\"; filters = ( { source = \"10.1.0.0/16\"; destination = \"10.3.0.0/16\"; protocol = \"any\"; mirrored = true; } ); },\n"
	"    { name = \"host\"; filters = ( { source = \"192.0.2.1/32\"; destination = \"192.0.2.4/32\"; protocol = \"any\"; mirrored = true; } ); },\n"
	"    { name = \"deny\"; filters = ( { source = \"10.1.0.0/24\"; destination = \"10.9.0.0/16\"; protocol = \"any\"; mirrored = true; } ); }\n"
	"  );\n"
	"  filter_actions = ( { name = \"secure\"; action = \"negotiate\"; }, { name = \"block\"; action = \"block\"; } );\n"
	"  rules = (\n"
	"    { name = \"v4\"; filter_list = \"v4\"; filter_action = \"secure\"; priority = 10; tunnel_endpoint = \"192.0.2.2\"; outbound_sa = \"o4\"; inbound_sa = \"i4\"; },\n"
	"    { name = \"v6\"; filter_list = \"v6\"; filter_action = \"secure\"; priority = 11; tunnel_endpoint = \"2001:db8:ff::2\"; outbound_sa = \"o6\"; inbound_sa = \"i6\"; },\n"
	"    { name = \"natt\"; filter_list = \"natt\"; filter_action = \"secure\"; priority = 12; tunnel_endpoint = \"192.0.2.3\"; outbound_sa = \"ou\"; inbound_sa = \"iu\"; },\n"
	"    { name = \"host\"; filter_list = \"host\"; filter_action = \"secure\"; priority = 13; outbound_sa = \"oah\"; inbound_sa = \"iah\"; },\n"
	"    { name = \"deny\"; filter_list = \"deny\"; filter_action = \"block\"; priority = 14; }\n"
	"  );\n"
	"};\n"
	"security_associations = (\n"
	"  { name = \"o4\"; spi = 0x1001; direction = \"outbound\"; mode = \"tunnel\"; local = \"192.0.2.1\"; remote = \"192.0.2.2\";\n"
	"    encryption = \"aes128gcm16\"; encryption_key = \"0x000102030405060708090a0b0c0d0e0f10111213\"; },\n"
	"  { name = \"i4\"; spi = 0x2001; direction = \"inbound\"; mode = \"tunnel\"; local = \"192.0.2.1\"; remote = \"192.0.2.2\";\n"
	"    encryption = \"aes128gcm16\"; encryption_key = \"0x101112131415161718191a1b1c1d1e1f20212223\"; replay_window = 64; },\n"
	"  { name = \"o6\"; spi = 0x1002; direction = \"outbound\"; mode = \"tunnel\"; local = \"2001:db8:ff::1\"; remote = \"2001:db8:ff::2\";\n"
	"    encryption = \"aes128\"; encryption_key = \"0x202122232425262728292a2b2c2d2e2f\"; integrity = \"sha256_128\";\n"
	"    integrity_key = \"0x303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f\"; esn = true; replay_window = 64; },\n"
	"  { name = \"i6\"; spi = 0x2002; direction = \"inbound\"; mode = \"tunnel\"; local = \"2001:db8:ff::1\"; remote = \"2001:db8:ff::2\";\n"
	"    encryption = \"aes128\"; encryption_key = \"0x505152535455565758595a5b5c5d5e5f\"; integrity = \"sha256_128\";\n"
	"    integrity_key = \"0x606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f\"; esn = true; replay_window = 64; },\n"
	"  { name = \"ou\"; spi = 0x1003; direction = \"outbound\"; mode = \"tunnel\"; local = \"192.0.2.1\"; remote = \"192.0.2.3\";\n"
	"    encryption = \"aes256gcm16\"; encryption_key = \"0x808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3\";\n"
	"    encapsulation = \"udp\"; },\n"
	"  { name = \"iu\"; spi = 0x2003; direction = \"inbound\"; mode = \"tunnel\"; local = \"192.0.2.1\"; remote = \"192.0.2.3\";\n"
	"    encryption = \"aes256gcm16\"; encryption_key = \"0xb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3\";\n"
	"    encapsulation = \"udp\"; replay_window = 64; },\n"
	"  { name = \"oah\"; spi = 0x1004; direction = \"outbound\"; mode = \"transport\"; local = \"192.0.2.1\"; remote = \"192.0.2.4\";\n"
	"    protocol = \"ah\"; integrity = \"sha1_96\"; integrity_key = \"0xe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3\"; },\n"
	"  { name = \"iah\"; spi = 0x2004; direction = \"inbound\"; mode = \"transport\"; local = \"192.0.2.1\"; remote = \"192.0.2.4\";\n"
	"    protocol = \"ah\"; integrity = \"sha1_96\"; integrity_key = \"0xf0f1f2f3f4f5f6f7f8f9fafbfcfdfeff00010203\"; replay_window = 64; }\n"
	");\n";

static struct dp_ctx ctx;
static struct cfg_dataplane cfg;
static struct dp_txq txq[DP_MAX_PORTS];
static unsigned int in_use_at_start;
static uint64_t sealed_seq[8]; /* by slot */

static void load_config(void)
{
	char path[] = "/tmp/fuzz_pipeline.XXXXXX", err[CFG_ERR_MAX];
	int fd = mkstemp(path); /* mode 0600, as static keys want */

	if (fd < 0 || write(fd, config, sizeof(config) - 1) != (ssize_t)(sizeof(config) - 1))
		abort();
	close(fd);
	if (cfg_load(path, CFG_PERM_REFUSE, &cfg, err) < 0) {
		fprintf(stderr, "fuzz_pipeline: %s\n", err);
		abort();
	}
	unlink(path);
}

static void take_down(void)
{
	dp_rcu_worker_stop(&ctx.workers[0]);
	dp_teardown(&ctx);
	cfg_free(&cfg);
}

/* The frame m that left by port p must be what a receiver there takes. */
static void check_sent(struct rte_mbuf *m, uint16_t p)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const uint8_t *l3 = (const uint8_t *)(eth + 1);
	uint32_t len = m->pkt_len - (uint32_t)sizeof(*eth);
	uint16_t type = rte_be_to_cpu_16(eth->ether_type);

	if (m->nb_segs != 1 || m->pkt_len < sizeof(*eth) || len > ctx.ports[p].mtu)
		abort();
	if (p != HOST && !rte_is_same_ether_addr(&eth->src_addr, &ctx.ports[p].mac))
		abort();
	if (type == RTE_ETHER_TYPE_ARP) {
		const struct rte_arp_hdr *a = (const struct rte_arp_hdr *)l3;

		if (len < sizeof(*a) || a->arp_hlen != 6 || a->arp_plen != 4)
			abort();
	} else if (type == RTE_ETHER_TYPE_IPV4) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;
		uint32_t hl = (ip->version_ihl & 0xfu) * 4u;

		if (len < 20 || (ip->version_ihl >> 4) != 4 || hl < 20 || hl > len ||
		    rte_be_to_cpu_16(ip->total_length) < hl || rte_be_to_cpu_16(ip->total_length) > len ||
		    rte_raw_cksum(ip, hl) != 0xffff || (p != HOST && ip->time_to_live == 0))
			abort();
	} else if (type == RTE_ETHER_TYPE_IPV6) {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)l3;

		if (len < 40 || (l3[0] >> 4) != 6 ||
		    40u + rte_be_to_cpu_16(ip->payload_len) > len || (p != HOST && ip->hop_limits == 0))
			abort();
	} else {
		abort(); /* dpsecd sends nothing else */
	}
}

static void drain_ring(struct rte_ring *r)
{
	struct rte_mbuf *m;

	while (r != NULL && rte_ring_dequeue(r, (void **)&m) == 0)
		rte_pktmbuf_free(m);
}

/* The frames the manager built (ARP and ND: answers, requests,
 * announcements), which worker 0 would send by the port they name:
 * checked as sent, and freed. */
static void check_injected(void)
{
	struct rte_mbuf *m;

	while (rte_ring_dequeue(ctx.inject, (void **)&m) == 0) {
		check_sent(m, dp_meta(m)->in_port);
		rte_pktmbuf_free(m);
	}
}

/* What left by each port (its ring device gives it back), checked; then
 * the manager's round, what it built checked, and what it handed back to
 * worker 0 (held packets) freed. */
static void collect(void)
{
	struct rte_mbuf *out[64];
	uint16_t n;

	for (int round = 0; round < 2; round++) {
		for (uint16_t p = 0; p < ctx.n_ports; p++)
			while ((n = rte_eth_rx_burst(ctx.ports[p].port_id, 0, out, 64)) > 0)
				for (uint16_t i = 0; i < n; i++) {
					check_sent(out[i], p);
					rte_pktmbuf_free(out[i]);
				}
		while (dp_mgr_poll_packets(&ctx))
			;
		check_injected();
		drain_ring(ctx.reinject);
		drain_ring(ctx.reroute);
	}
}

static void setup(void)
{
	struct dp_setup_opts o = { .mbufs = 4095 };
	char err[512], instance[32];

	load_config();
	snprintf(instance, sizeof(instance), "fuzzpipe%d", (int)getpid());
	o.instance = instance;
	ctx.cfg = &cfg;
	dp_g = &ctx;
	if (dp_setup(&ctx, &o, err, sizeof(err)) < 0 || dp_ports_start(&ctx, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_pipeline: %s\n", err);
		abort();
	}
	atexit(take_down);
	dp_rcu_worker_start(&ctx.workers[0]);
	/* links up, the IPv6 addresses tested for duplicates a while ago */
	for (uint16_t p = 0; p < cfg.n_ports; p++)
		dp_neigh_link(&ctx, p, true);
	dp_neigh_announce(&ctx, rte_rdtsc() - 5 * rte_get_tsc_hz());
	collect();
	in_use_at_start = rte_mempool_in_use_count(ctx.pool);
}

/* For inbound AH SA slot: d[0] the next header, the rest what AH
 * carries, behind the outer header and AH with the next sequence number
 * and a correct ICV; false if it does not fit. */
static bool seal_ah_frame(uint32_t slot, uint8_t *p, const uint8_t *d, size_t n, uint32_t *len)
{
	const struct dp_sa *sa = ctx.sas.sa[slot];
	uint32_t ip_len = (sa->flags & DP_SA_OUTER6) ? 40 : 20, ah_len = dp_ah_len(sa), seq_be;
	uint64_t seq = ++sealed_seq[slot];
	uint8_t *ah = p + ip_len;

	*len = ip_len + ah_len + (uint32_t)n - 1;
	if (n < 1 || *len > FRAME_MAX)
		return false;
	fuzz_put_outer(p, &cfg.sas[slot], *len, IPPROTO_AH);
	memset(ah, 0, ah_len);
	ah[0] = d[0];
	ah[1] = (uint8_t)(ah_len / 4 - 2);
	memcpy(ah + 4, &sa->spi_be, 4);
	seq_be = rte_cpu_to_be_32((uint32_t)seq);
	memcpy(ah + 8, &seq_be, 4);
	memcpy(ah + ah_len, d + 1, n - 1);
	fuzz_ah_seal(ctx.workers[0].crypto, sa, p, *len, seq, ah + AH_FIXED_LEN);
	return true;
}

/* The inner packet d (n bytes) in ESP for inbound SA slot as its peer
 * would send it: trailer padded to the cipher's block, the next
 * sequence number; false if it does not fit. An AH SA's: seal_ah_frame. */
static bool seal_frame(uint32_t slot, uint8_t *p, const uint8_t *d, size_t n, uint32_t *len)
{
	const struct dp_sa *sa = ctx.sas.sa[slot];
	const struct dpsec_sa_conf *c = &cfg.sas[slot];
	uint32_t hdr = (c->local.family == DPSEC_AF_INET6 ? 40 : 20) +
		       (c->encap == DPSEC_ENCAP_UDP ? 8 : 0);
	uint32_t pad = (uint32_t)((sa->block_len - (n + 2) % sa->block_len) % sa->block_len);
	uint32_t ct_len = (uint32_t)n + pad + 2;
	uint8_t *pt = p + hdr + ESP_HDR_LEN + sa->iv_len;

	if (sa->flags & DP_SA_AH)
		return seal_ah_frame(slot, p, d, n, len);
	*len = hdr + ESP_HDR_LEN + sa->iv_len + ct_len + sa->icv_len;
	if (*len > FRAME_MAX - 4)
		return false;
	memcpy(pt, d, n);
	for (uint32_t i = 0; i < pad; i++)
		pt[n + i] = (uint8_t)(i + 1);
	pt[n + pad] = (uint8_t)pad;
	pt[n + pad + 1] = n > 0 && (d[0] >> 4) == 6 ? IPPROTO_IPV6 : IPPROTO_IPIP;
	fuzz_put_outer(p, &cfg.sas[slot], *len, IPPROTO_ESP);
	fuzz_esp_seal(ctx.workers[0].crypto, sa, p, hdr, ct_len, ++sealed_seq[slot]);
	return true;
}

/* A frame for port from fuzzer bytes: an Ethernet header to the port's
 * MAC, the type by the packet's first nibble. */
static struct rte_mbuf *frame(uint16_t port, const uint8_t *d, size_t n, uint32_t sealed)
{
	static uint8_t b[FRAME_MAX];
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx.pool);
	struct rte_ether_hdr eth = { .dst_addr = ctx.ports[port].mac,
				     .src_addr = { { 0x02, 0, 0, 0, (uint8_t)(port + 1), 0x10 } } };
	uint32_t len = (uint32_t)n;
	uint8_t *p;

	if (m == NULL)
		return NULL;
	if (sealed ? !seal_frame(sealed, b, d, n, &len) : n > FRAME_MAX)
		goto fail;
	if (!sealed)
		memcpy(b, d, n);
	eth.ether_type = rte_cpu_to_be_16(len > 0 && (b[0] >> 4) == 4 ? RTE_ETHER_TYPE_IPV4
					  : len > 0 && (b[0] >> 4) == 6 ? RTE_ETHER_TYPE_IPV6
					  : RTE_ETHER_TYPE_ARP);
	if ((p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(sizeof(eth) + len))) == NULL)
		goto fail;
	memcpy(p, &eth, sizeof(eth));
	memcpy(p + sizeof(eth), b, len);
	return m;
fail:
	rte_pktmbuf_free(m);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rte_mbuf *mb[MAX_FRAMES];
	uint16_t port, n = 0;
	uint32_t sealed;
	size_t at = 1;

	if (size < 1)
		return 0;
	sealed = sealed_slot[(data[0] >> 2) & 7];
	port = sealed ? WAN : (uint16_t)((data[0] & 3) % 3);
	while (n < MAX_FRAMES && at + 2 <= size) {
		size_t len = RTE_MIN((size_t)(data[at] << 8 | data[at + 1]), size - at - 2);
		struct rte_mbuf *m = frame(port, data + at + 2, len, sealed);

		at += 2 + len;
		if (m != NULL)
			mb[n++] = m;
	}
	if (n > 0)
		dp_worker_process_burst(&ctx.workers[0], port, mb, n, txq);
	/* fragments wait no longer than this input: each input starts alike */
	dp_reass_expire(&ctx.workers[0], rte_rdtsc() + 2 * ctx.reass_timeout_tsc);
	dp_rcu_quiescent(&ctx.workers[0]);
	collect();
	if (rte_mempool_in_use_count(ctx.pool) > in_use_at_start + HELD_MAX)
		abort(); /* buffers lost */
	return 0;
}
