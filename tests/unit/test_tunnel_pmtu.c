/* test_tunnel_pmtu.c - the manager's handling of routers' path MTU reports
 * about the gateway's ESP and AH (tunnel_pmtu.c) through its real entry
 * points: an ICMP fragmentation needed quoting an ESP packet of an outbound
 * SA lowers that SA's path MTU and the workers' quick test; a report that
 * is not sound (checksum, a quote of a packet we did not send, an unknown
 * SPI or encapsulation, an MTU not below the quoted packet or the SA's,
 * above 16 bits, none, or below IPv6's minimum) changes nothing and is
 * counted; IPv4's
 * floor; ICMPv6 packet too big, also quoting the first fragment of an
 * ESP packet the gateway cut (not a later one); AH; ESP in UDP; the age, and
 * pmtu_age_seconds = 0; an SA removed is no longer found; an outbound SA
 * installed later to the same peer (a rekey's) starts with the peer's
 * path MTU while it holds, one to another peer does not. (Linux's own
 * reports, from a router between two gateways: tests/e2e, path-mtu.) */
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "cfg.h"
#include "dp.h"
#include "dp_mgr.h"
#include "dp_pkt.h"
#include "dp_test_worker.h"
#include "icmp_err.h"
#include "tunnel_pmtu.h"
#include "check_run.h"

static struct dp_ctx ctx;
static struct dp_worker worker;
static struct dp_mgr mgr;
static struct cfg_dataplane cfg;

static const uint8_t us4[4] = { 192, 0, 2, 1 }, peer4[4] = { 192, 0, 2, 2 };
static const uint8_t router4[4] = { 198, 51, 100, 1 };
static const uint8_t us6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t peer6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

/* the slots after SA_ESP6 are not filled by setup */
enum { SA_ESP4, SA_AH4, SA_UDP4, SA_ESP6, SA_LATER, SA_LATER2, SA_LATER6, SA_TRANSPORT,
       SA_DF_CLEAR, N_SLOTS };
static struct dpsec_shm_sa directory[N_SLOTS]; /* the SAs' descriptions, as the manager keeps them */
static struct dp_sa_mgr sa_mgr[N_SLOTS];        /* the manager's state of each, for its scan */
static const uint32_t spis[N_SLOTS] = { 0x1001, 0x1002, 0x1003, 0x1004, 0x1005,
					0x1006, 0x1007, 0x1008, 0x1009 };

static void install_as(uint32_t idx, uint8_t family, uint8_t protocol, uint8_t encap, uint8_t mode,
		       uint8_t df_bit)
{
	struct dpsec_sa_conf c = { .spi = spis[idx], .mode = mode, .df_bit = df_bit,
				   .direction = DPSEC_DIR_OUT, .protocol = protocol, .encap = encap };
	char err[256];

	if (protocol == DPSEC_PROTO_ESP) {
		c.enc_alg = DPSEC_ENC_AES_GCM_16;
		c.enc_key_len = 16;
	} else {
		c.integ_alg = DPSEC_INTEG_HMAC_SHA1_96;
		c.integ_key_len = 20;
	}
	if (encap == DPSEC_ENCAP_UDP)
		c.udp_sport = c.udp_dport = 4500;
	c.local.family = c.remote.family = family;
	memcpy(c.local.a, family == DPSEC_AF_INET6 ? us6 : us4, family == DPSEC_AF_INET6 ? 16 : 4);
	memcpy(c.remote.a, family == DPSEC_AF_INET6 ? peer6 : peer4, family == DPSEC_AF_INET6 ? 16 : 4);
	ck_assert_msg(dp_sa_install(&ctx.sas, worker.crypto, idx, &c, 0, NULL, err, sizeof(err)) == 0,
		      "%s", err);
	directory[idx].conf = c;
	dp_pmtu_sa_added(&ctx, idx, &c);
}

static void install(uint32_t idx, uint8_t family, uint8_t protocol, uint8_t encap)
{
	install_as(idx, family, protocol, encap, DPSEC_MODE_TUNNEL, DPSEC_DF_COPY);
}

static void setup(void)
{
	ck_assert_int_eq(dp_sa_table_init(&ctx.sas, N_SLOTS, SOCKET_ID_ANY), 0);
	ck_assert_int_eq(dp_pmtu_init(&ctx), 0);
	install(SA_ESP4, DPSEC_AF_INET, DPSEC_PROTO_ESP, DPSEC_ENCAP_NONE);
	install(SA_AH4, DPSEC_AF_INET, DPSEC_PROTO_AH, DPSEC_ENCAP_NONE);
	install(SA_UDP4, DPSEC_AF_INET, DPSEC_PROTO_ESP, DPSEC_ENCAP_UDP);
	install(SA_ESP6, DPSEC_AF_INET6, DPSEC_PROTO_ESP, DPSEC_ENCAP_NONE);
	cfg.opts.pmtu_age_s = 600;
	cfg.opts.icmp_errors_per_s = CFG_ICMP_ERRORS_PER_S_DEFAULT;
	cfg.opts.icmp_error_burst = CFG_ICMP_ERROR_BURST_DEFAULT;
	mgr.pmtu_until_tsc = 0;
	memset(&ctx.mgr_ctr, 0, sizeof(ctx.mgr_ctr));
	dp_icmp_err_setup(&ctx);
}

static void teardown(void)
{
	dp_pmtu_fini(&ctx);
	dp_sa_table_fini(&ctx.sas);
}

/* What a report quotes and says. */
struct quote {
	uint8_t family, proto;    /* proto: of the quoted packet */
	uint32_t spi;             /* after its IP header (and UDP header) */
	uint32_t len;             /* its length, as its header says */
	bool from_us;             /* its source one of our addresses */
	uint32_t mtu;
	bool bad_checksum;
	bool no_df;               /* IPv4: the quoted packet without DF */
	bool frag6;               /* IPv6: a fragment (M set) of our ESP packet ... */
	uint16_t frag_off;        /* ... at this offset, its header behind the IPv6 header */
	bool header_only;         /* UDP: the quote stops after its header (RFC 792's 8 bytes) */
	uint16_t sport;           /* UDP: its source port; 0: 4500 */
};

/* The quoted packet: IP header, then UDP (ESP in UDP), an AH header's
 * first 4 bytes or nothing, then the SPI and 8 more bytes. */
static uint32_t quoted(uint8_t *q, const struct quote *w)
{
	uint32_t n, off;
	uint8_t inner_proto = w->proto;

	if (w->family == DPSEC_AF_INET6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)q;

		*ip = (struct rte_ipv6_hdr){ .vtc_flow = rte_cpu_to_be_32(6u << 28), .proto = inner_proto,
					     .payload_len = rte_cpu_to_be_16((uint16_t)(w->len - 40)),
					     .hop_limits = 64 };
		memcpy(ip->src_addr, w->from_us ? us6 : peer6, 16);
		memcpy(ip->dst_addr, peer6, 16);
		n = 40;
		if (w->frag6) {
			struct rte_ipv6_fragment_ext *fh = (struct rte_ipv6_fragment_ext *)(ip + 1);

			ip->proto = IPPROTO_FRAGMENT;
			*fh = (struct rte_ipv6_fragment_ext){ .next_header = inner_proto,
				.frag_data = rte_cpu_to_be_16((uint16_t)(w->frag_off | 1)),
				.id = RTE_BE32(7) };
			n = 48;
		}
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)q;

		*ip = (struct rte_ipv4_hdr){ .version_ihl = 0x45, .total_length = rte_cpu_to_be_16((uint16_t)w->len),
					     .fragment_offset = rte_cpu_to_be_16(w->no_df ? 0 : RTE_IPV4_HDR_DF_FLAG),
					     .time_to_live = 63, .next_proto_id = inner_proto };
		memcpy(&ip->src_addr, w->from_us ? us4 : router4, 4);
		memcpy(&ip->dst_addr, peer4, 4);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		n = 20;
	}
	off = n + (w->proto == IPPROTO_UDP ? 8 : w->proto == IPPROTO_AH ? 4 : 0);
	memset(q + n, 0x11, off - n);
	if (w->proto == IPPROTO_UDP) {
		uint16_t sport = w->sport != 0 ? w->sport : 4500;

		q[n] = (uint8_t)(sport >> 8), q[n + 1] = (uint8_t)sport;
		q[n + 2] = 0x11, q[n + 3] = 0x94; /* to 4500 */
		if (w->header_only)
			return off;
	}
	q[off] = (uint8_t)(w->spi >> 24);
	q[off + 1] = (uint8_t)(w->spi >> 16);
	q[off + 2] = (uint8_t)(w->spi >> 8);
	q[off + 3] = (uint8_t)w->spi;
	memset(q + off + 4, 0x22, 8);
	return off + 12;
}

/* The router's ICMP (fragmentation needed, or packet too big) to us about
 * w, parsed as a worker parses what it receives. */
static struct rte_mbuf *report(const struct quote *w)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx.pool);
	uint8_t pkt[200] = { 0 };
	bool v6 = w->family == DPSEC_AF_INET6;
	uint32_t hdr = v6 ? 40 : 20, len = hdr + 8 + quoted(pkt + hdr + 8, w);
	uint8_t *icmp = pkt + hdr;
	uint16_t sum;

	icmp[0] = v6 ? 2 : 3;
	icmp[1] = v6 ? 0 : 4;
	for (int i = 0; i < 4; i++)
		icmp[4 + i] = (uint8_t)(w->mtu >> (24 - 8 * i));
	if (v6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)pkt;

		*ip = (struct rte_ipv6_hdr){ .vtc_flow = rte_cpu_to_be_32(6u << 28), .proto = IPPROTO_ICMPV6,
					     .payload_len = rte_cpu_to_be_16(len - 40), .hop_limits = 64 };
		memcpy(ip->src_addr, peer6, 16);
		ip->src_addr[15] = 0x99;
		memcpy(ip->dst_addr, us6, 16);
		sum = rte_ipv6_udptcp_cksum(ip, icmp);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)pkt;

		*ip = (struct rte_ipv4_hdr){ .version_ihl = 0x45, .total_length = rte_cpu_to_be_16(len),
					     .time_to_live = 64, .next_proto_id = IPPROTO_ICMP };
		memcpy(&ip->src_addr, router4, 4);
		memcpy(&ip->dst_addr, us4, 4);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		sum = (uint16_t)~rte_raw_cksum(icmp, len - 20);
	}
	memcpy(icmp + 2, &sum, 2);
	if (w->bad_checksum)
		icmp[8 + 28] ^= 1; /* a byte after the SPI: nothing else changes */
	ck_assert_ptr_nonnull(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), pkt, len);
	ck_assert_int_eq(dp_parse_ip_as(m, dp_meta(m), w->family), 0);
	dp_meta(m)->in_port = 0;
	return m;
}

/* w handed to the manager (after the worker's test, which must agree). */
static void hand_over(const struct quote *w, bool worker_takes)
{
	struct rte_mbuf *m = report(w);
	struct dp_pmtu_report r;

	ck_assert_int_eq(dp_pmtu_parse(m, dp_meta(m), &r), worker_takes);
	dp_pmtu_input(&ctx, m);
}

static uint32_t path_mtu(uint32_t idx)
{
	return dp_sa_path_mtu(ctx.sas.sa[idx], rte_rdtsc());
}

static uint64_t ctr(enum dp_counter c)
{
	return ctx.mgr_ctr.c[c];
}

#define ESP4(mtu_, len_) \
	((struct quote){ .family = DPSEC_AF_INET, .proto = IPPROTO_ESP, .spi = spis[SA_ESP4], \
			 .len = (len_), .from_us = true, .mtu = (mtu_) })

START_TEST(test_learned_and_lowered)
{
	struct quote w = ESP4(1300, 1400);

	ck_assert_uint_eq(path_mtu(SA_ESP4), UINT32_MAX);
	hand_over(&w, true);
	ck_assert_uint_eq(path_mtu(SA_ESP4), 1300);
	ck_assert_uint_eq(ctx.out_fits_len, 1300 - DP_IPSEC_MAX_OVERHEAD);
	ck_assert_uint_eq(path_mtu(SA_AH4), UINT32_MAX); /* only the SA named */
	w.mtu = 1350; /* not lower: stands */
	hand_over(&w, true);
	ck_assert_uint_eq(path_mtu(SA_ESP4), 1300);
	w.mtu = 1200;
	hand_over(&w, true);
	ck_assert_uint_eq(path_mtu(SA_ESP4), 1200);
	ck_assert_uint_eq(ctx.out_fits_len, 1200 - DP_IPSEC_MAX_OVERHEAD);
	w.mtu = 300; /* below IPv4's floor: the floor */
	hand_over(&w, true);
	ck_assert_uint_eq(path_mtu(SA_ESP4), DP_PMTU_MIN4);
	ck_assert_uint_eq(ctr(DP_C_pmtu_reports), 4);
	ck_assert_uint_eq(ctr(DP_C_pmtu_learned), 3);
	ck_assert_uint_eq(ctr(DP_C_pmtu_ignored), 1);
}
END_TEST

START_TEST(test_not_sound)
{
	struct quote w[] = {
		ESP4(1400, 1400), /* not below the packet that did not pass */
		ESP4(0, 1400),    /* no MTU given (before RFC 1191) */
		ESP4(1300, 1400), /* bad checksum, below */
		ESP4(1300, 1400), /* a packet not from us */
		ESP4(1300, 1400), /* an SPI we never sent */
		ESP4(1300, 1400), /* ESP in UDP for an SA without it */
		ESP4(1300, 1400), /* UDP with IKE's non-ESP marker: the host's */
		ESP4(1300, 1400), /* neither ESP, AH nor UDP */
		ESP4(1300, 1400), /* a packet without DF, which routers fragment */
	};

	w[2].bad_checksum = true;
	w[3].from_us = false;
	w[4].spi = 0x7777;
	w[5].proto = IPPROTO_UDP;
	w[6].proto = IPPROTO_UDP;
	w[6].spi = 0;
	w[7].proto = IPPROTO_TCP;
	w[8].no_df = true;
	/* an ICMPv6 MTU of more than 16 bits, below the quoted length */
	struct quote big = { .family = DPSEC_AF_INET6, .proto = IPPROTO_ESP, .spi = spis[SA_ESP6],
			     .len = 40 + 65535, .from_us = true, .mtu = 65540 };

	hand_over(&w[0], true);
	hand_over(&w[1], true);
	for (int i = 2; i < 9; i++)
		hand_over(&w[i], i == 4 || i == 5);
	hand_over(&big, true);
	ck_assert_uint_eq(path_mtu(SA_ESP4), UINT32_MAX);
	ck_assert_uint_eq(path_mtu(SA_UDP4), UINT32_MAX);
	ck_assert_uint_eq(path_mtu(SA_ESP6), UINT32_MAX);
	ck_assert_uint_eq(ctr(DP_C_pmtu_ignored), 10);
	ck_assert_uint_eq(ctr(DP_C_pmtu_learned), 0);
	ck_assert_uint_eq(ctx.out_fits_len, 1500 - DP_IPSEC_MAX_OVERHEAD);
}
END_TEST

START_TEST(test_ah_udp_ipv6)
{
	struct quote ah = ESP4(1280, 1400), udp = ESP4(1100, 1400);
	struct quote v6 = { .family = DPSEC_AF_INET6, .proto = IPPROTO_ESP, .spi = spis[SA_ESP6],
			    .len = 1400, .from_us = true, .mtu = 1280 };

	ah.proto = IPPROTO_AH;
	ah.spi = spis[SA_AH4];
	udp.proto = IPPROTO_UDP;
	udp.spi = spis[SA_UDP4];
	hand_over(&ah, true);
	hand_over(&udp, true);
	hand_over(&v6, true);
	ck_assert_uint_eq(path_mtu(SA_AH4), 1280);
	ck_assert_uint_eq(path_mtu(SA_UDP4), 1100);
	ck_assert_uint_eq(path_mtu(SA_ESP6), 1280);
	v6.mtu = 1200; /* below IPv6's minimum: ignored (RFC 8201 §4) */
	hand_over(&v6, true);
	ck_assert_uint_eq(path_mtu(SA_ESP6), 1280);
	ck_assert_uint_eq(ctr(DP_C_pmtu_learned), 3);
	ck_assert_uint_eq(ctr(DP_C_pmtu_ignored), 1);
}
END_TEST

/* One of the host's IPv6 ESP packets the gateway cut in transport mode
 * (frag.c), a fragment header behind the IPv6 header: a report quoting
 * its first fragment names the SA and is learned; one quoting a later
 * fragment, where no ESP header is, is not a report (the host's). */
START_TEST(test_ipv6_fragment_quoted)
{
	struct quote first = { .family = DPSEC_AF_INET6, .proto = IPPROTO_ESP,
			       .spi = spis[SA_ESP6], .len = 1400, .from_us = true, .mtu = 1300,
			       .frag6 = true };
	struct quote later = first;

	later.frag_off = 1232;
	hand_over(&later, false);
	ck_assert_uint_eq(path_mtu(SA_ESP6), UINT32_MAX);
	hand_over(&first, true);
	ck_assert_uint_eq(path_mtu(SA_ESP6), 1300);
	ck_assert_uint_eq(ctr(DP_C_pmtu_learned), 1);
}
END_TEST

START_TEST(test_age)
{
	struct quote w = ESP4(1300, 1400);

	cfg.opts.pmtu_age_s = 0; /* reports not trusted */
	hand_over(&w, true);
	ck_assert_uint_eq(path_mtu(SA_ESP4), UINT32_MAX);
	ck_assert_uint_eq(ctr(DP_C_pmtu_ignored), 1);
	cfg.opts.pmtu_age_s = 1;
	hand_over(&w, true);
	ck_assert_uint_eq(path_mtu(SA_ESP4), 1300);
	dp_pmtu_tick(&ctx); /* not yet */
	ck_assert_uint_eq(ctx.out_fits_len, 1300 - DP_IPSEC_MAX_OVERHEAD);
	usleep(1100 * 1000);
	ck_assert_uint_eq(path_mtu(SA_ESP4), UINT32_MAX);
	dp_pmtu_tick(&ctx);
	ck_assert_uint_eq(ctx.out_fits_len, 1500 - DP_IPSEC_MAX_OVERHEAD);
	ck_assert_uint_eq(mgr.pmtu_until_tsc, 0);
}
END_TEST

START_TEST(test_sa_removed)
{
	struct quote w = ESP4(1300, 1400);
	struct dpsec_sa_conf c = { .spi = spis[SA_ESP4], .direction = DPSEC_DIR_OUT,
				   .remote = { .family = DPSEC_AF_INET } };

	memcpy(c.remote.a, peer4, 4);
	dp_pmtu_sa_removed(&ctx, SA_ESP4, &c);
	hand_over(&w, true);
	ck_assert_uint_eq(path_mtu(SA_ESP4), UINT32_MAX);
	ck_assert_uint_eq(ctr(DP_C_pmtu_ignored), 1);
}
END_TEST

/* The SA that replaces SA_ESP4 at a rekey: a new SPI to the same peer. */
static void rekey_esp4(void)
{
	struct dpsec_sa_conf c = { .spi = spis[SA_ESP4], .direction = DPSEC_DIR_OUT,
				   .remote = { .family = DPSEC_AF_INET } };

	memcpy(c.remote.a, peer4, 4);
	install(SA_LATER, DPSEC_AF_INET, DPSEC_PROTO_ESP, DPSEC_ENCAP_NONE);
	dp_pmtu_sa_removed(&ctx, SA_ESP4, &c);
}

START_TEST(test_rekey_inherits)
{
	struct quote w = ESP4(1300, 1400);
	struct quote v6 = { .family = DPSEC_AF_INET6, .proto = IPPROTO_ESP, .spi = spis[SA_ESP6],
			    .len = 1400, .from_us = true, .mtu = 1280 };

	hand_over(&w, true);
	rekey_esp4();
	ck_assert_uint_eq(path_mtu(SA_LATER), 1300);
	ck_assert_uint_eq(ctr(DP_C_pmtu_inherited), 1);
	ck_assert_uint_eq(path_mtu(SA_AH4), UINT32_MAX); /* installed before: learns its own */
	/* a report about the new SA lowers it further, and the peer's record */
	w.spi = spis[SA_LATER];
	w.mtu = 1200;
	hand_over(&w, true);
	ck_assert_uint_eq(path_mtu(SA_LATER), 1200);
	install(SA_LATER2, DPSEC_AF_INET, DPSEC_PROTO_ESP, DPSEC_ENCAP_NONE);
	ck_assert_uint_eq(path_mtu(SA_LATER2), 1200);
	/* another peer's SA starts with its own peer's record only */
	hand_over(&v6, true);
	install(SA_LATER6, DPSEC_AF_INET6, DPSEC_PROTO_ESP, DPSEC_ENCAP_NONE);
	ck_assert_uint_eq(path_mtu(SA_LATER6), 1280);
	ck_assert_uint_eq(ctr(DP_C_pmtu_inherited), 3);
	ck_assert_uint_eq(ctr(DP_C_pmtu_peers_full), 0);
}
END_TEST

START_TEST(test_inherited_only_while_it_holds)
{
	struct quote w = ESP4(1300, 1400);

	cfg.opts.pmtu_age_s = 1;
	hand_over(&w, true);
	usleep(1100 * 1000);
	rekey_esp4();
	ck_assert_uint_eq(path_mtu(SA_LATER), UINT32_MAX);
	dp_pmtu_tick(&ctx); /* every record gone: the peers' too */
	cfg.opts.pmtu_age_s = 600;
	install(SA_LATER2, DPSEC_AF_INET, DPSEC_PROTO_ESP, DPSEC_ENCAP_NONE);
	ck_assert_uint_eq(path_mtu(SA_LATER2), UINT32_MAX);
	ck_assert_uint_eq(ctr(DP_C_pmtu_inherited), 0);
}
END_TEST

/* The lifetime scan's visit to every installed SA. */
static void scan_all(void)
{
	for (uint32_t idx = 0; idx < N_SLOTS; idx++)
		if (ctx.sas.sa[idx] != NULL)
			dp_pmtu_scan_sa(&ctx, idx, rte_rdtsc());
}

static uint64_t record_of(uint32_t idx)
{
	return ctx.sas.sa[idx]->path_mtu;
}

/* SAs to the peer installed before a report about one of them take its
 * path MTU when the scan visits them: only lower than their own, or the
 * same renewed; another peer's SA, and one that always clears DF, not. */
START_TEST(test_siblings_take_it)
{
	struct quote w = ESP4(1300, 1400), ah = ESP4(1200, 1400), clear = ESP4(1250, 1400);

	install_as(SA_DF_CLEAR, DPSEC_AF_INET, DPSEC_PROTO_ESP, DPSEC_ENCAP_NONE, DPSEC_MODE_TUNNEL,
		   DPSEC_DF_CLEAR);
	hand_over(&w, true);
	ck_assert_uint_eq(path_mtu(SA_AH4), UINT32_MAX);
	scan_all();
	ck_assert_uint_eq(path_mtu(SA_AH4), 1300);
	ck_assert_uint_eq(path_mtu(SA_UDP4), 1300);
	ck_assert_uint_eq(path_mtu(SA_ESP6), UINT32_MAX);     /* another peer */
	ck_assert_uint_eq(path_mtu(SA_DF_CLEAR), UINT32_MAX); /* routers may cut its packets */
	ck_assert_uint_eq(ctr(DP_C_pmtu_inherited), 2);
	scan_all(); /* nothing new */
	ck_assert_uint_eq(ctr(DP_C_pmtu_inherited), 2);
	/* a report about a sibling, lower: the first SA takes it */
	ah.proto = IPPROTO_AH;
	ah.spi = spis[SA_AH4];
	hand_over(&ah, true);
	scan_all();
	ck_assert_uint_eq(path_mtu(SA_ESP4), 1200);
	ck_assert_uint_eq(path_mtu(SA_UDP4), 1200);
	/* the same MTU renewed (a later age): taken */
	usleep(1000);
	hand_over(&ah, true);
	ck_assert_uint_gt(record_of(SA_AH4), record_of(SA_ESP4));
	scan_all();
	ck_assert_uint_eq(record_of(SA_ESP4), record_of(SA_AH4));
	/* a higher MTU recorded for the peer (a report about the SA that
	 * clears DF, which takes reports all the same) is not taken */
	clear.spi = spis[SA_DF_CLEAR];
	hand_over(&clear, true);
	ck_assert_uint_eq(path_mtu(SA_DF_CLEAR), 1250);
	scan_all();
	ck_assert_uint_eq(path_mtu(SA_ESP4), 1200);
	ck_assert_uint_eq(path_mtu(SA_AH4), 1200);
}
END_TEST

/* The manager's own lifetime scan (dp_life.c) is what hands a sibling its
 * peer's record: one pass of it, as the manager loop runs it. */
START_TEST(test_lifetime_scan_hands_it_on)
{
	struct quote w = ESP4(1300, 1400);

	hand_over(&w, true);
	ck_assert_uint_eq(path_mtu(SA_AH4), UINT32_MAX);
	mgr.scan_tsc = 0; /* a whole pass due */
	dp_life_scan(&ctx);
	ck_assert_uint_eq(path_mtu(SA_AH4), 1300);
	ck_assert_uint_eq(path_mtu(SA_UDP4), 1300);
	ck_assert_uint_eq(directory[SA_AH4].path_mtu, 1300); /* what show qmsas reads */
}
END_TEST

/* A quote of UDP from our NAT-T port that stops after its header names
 * no SA (ESP in UDP or IKE alike): recorded for the peer (lower only), its
 * SAs take it at the scan, and the message goes on to the host, which
 * may have sent that datagram. From another port, or from another
 * address, it is no report. */
START_TEST(test_natt_header_only)
{
	struct quote w = { .family = DPSEC_AF_INET, .proto = IPPROTO_UDP, .len = 1400,
			   .from_us = true, .mtu = 1300, .header_only = true };
	struct quote other_port = w, not_ours = w;
	static const struct rte_ether_addr host_mac = { { 0x02, 0, 0, 0, 0, 0x42 } };
	struct rte_mbuf *m;

	ctx.host_port = 1;
	ctx.ports[1].host_mac = host_mac;
	ctx.inject = rte_ring_create("tpmtu_inject", 16, SOCKET_ID_ANY, 0);
	ck_assert_ptr_nonnull(ctx.inject);
	other_port.sport = 5000;
	not_ours.from_us = false;
	hand_over(&other_port, false);
	hand_over(&not_ours, false);
	ck_assert_uint_eq(rte_ring_count(ctx.inject), 0);
	hand_over(&w, true);
	ck_assert_uint_eq(ctr(DP_C_pmtu_learned), 1);
	ck_assert_uint_eq(path_mtu(SA_UDP4), UINT32_MAX); /* not before the scan */
	scan_all();
	ck_assert_uint_eq(path_mtu(SA_UDP4), 1300);
	ck_assert_uint_eq(path_mtu(SA_ESP4), 1300);
	ck_assert_uint_eq(path_mtu(SA_ESP6), UINT32_MAX);
	ck_assert_int_eq(rte_ring_dequeue(ctx.inject, (void **)&m), 0);
	ck_assert_uint_eq(dp_meta(m)->in_port, 1);
	ck_assert(rte_is_same_ether_addr(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr,
					 &host_mac));
	rte_pktmbuf_free(m);
	w.mtu = 1350; /* not lower than the peer's: ignored, still the host's */
	hand_over(&w, true);
	ck_assert_uint_eq(ctr(DP_C_pmtu_learned), 1);
	ck_assert_uint_eq(rte_ring_count(ctx.inject), 1);
}
END_TEST

/* A LAN host's IPv4 packet of len bytes to dst, with DF or not, as the
 * outbound path measures it against sa: what dp_out_fits decides (the
 * packet freed, the error about it too). */
static enum dp_fit fits_path(uint32_t idx, const uint8_t *dst, uint16_t len, bool df)
{
	static const uint8_t lan_host[4] = { 10, 1, 0, 2 };
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx.pool), *reply;
	struct rte_ipv4_hdr *ip;
	enum dp_fit fit;
	uint32_t fit_len;

	ck_assert_ptr_nonnull(m);
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(m, len);
	memset(ip, 0, len);
	*ip = (struct rte_ipv4_hdr){ .version_ihl = 0x45, .total_length = rte_cpu_to_be_16(len),
				     .fragment_offset = rte_cpu_to_be_16(df ? RTE_IPV4_HDR_DF_FLAG : 0),
				     .time_to_live = 64, .next_proto_id = IPPROTO_UDP };
	memcpy(&ip->src_addr, lan_host, 4);
	memcpy(&ip->dst_addr, dst, 4);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	ck_assert_int_eq(dp_parse_ip_as(m, dp_meta(m), DPSEC_AF_INET), 0);
	dp_meta(m)->in_port = 0;
	worker.round_tsc = rte_rdtsc();
	fit = dp_out_fits(&worker, m, ctx.sas.sa[idx], &reply, &fit_len);
	if (fit != DP_FIT_DROPPED)
		rte_pktmbuf_free(m); /* dropped: freed and counted by dp_out_fits */
	rte_pktmbuf_free(reply);
	return fit;
}

/* A LAN host's UDP packet of family to a next hop that does not answer:
 * the error its source gets (dp_icmp_host_unreachable) is destination
 * unreachable, host unreachable (IPv4: type 3 code 1) or address
 * unreachable (ICMPv6: type 1 code 3), quoting the packet. */
static void host_unreachable_is(uint8_t family, uint8_t type, uint8_t code)
{
	static const uint8_t lan4[4] = { 10, 1, 0, 2 }, far4[4] = { 10, 2, 0, 9 };
	static const uint8_t lan6[16] = { 0x20, 0x01, 0x0d, 0xb8, 1, [15] = 2 };
	static const uint8_t far6[16] = { 0x20, 0x01, 0x0d, 0xb8, 2, [15] = 9 };
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx.pool), *reply;
	uint32_t hdr = family == DPSEC_AF_INET6 ? 40 : 20, len = hdr + 8 + 32;
	uint8_t *p, *icmp;

	ck_assert_ptr_nonnull(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	memset(p, 0x5a, len);
	if (family == DPSEC_AF_INET6) {
		*(struct rte_ipv6_hdr *)p = (struct rte_ipv6_hdr){
			.vtc_flow = rte_cpu_to_be_32(6u << 28), .payload_len = rte_cpu_to_be_16(40),
			.proto = IPPROTO_UDP, .hop_limits = 63 };
		memcpy(p + 8, lan6, 16);
		memcpy(p + 24, far6, 16);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;

		*ip = (struct rte_ipv4_hdr){ .version_ihl = 0x45, .total_length = rte_cpu_to_be_16((uint16_t)len),
					     .time_to_live = 63, .next_proto_id = IPPROTO_UDP };
		memcpy(&ip->src_addr, lan4, 4);
		memcpy(&ip->dst_addr, far4, 4);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	ck_assert_int_eq(dp_parse_ip_as(m, dp_meta(m), family), 0);
	dp_meta(m)->in_port = 0;
	worker.round_tsc = rte_rdtsc();
	reply = dp_icmp_host_unreachable(&worker, m);
	ck_assert_ptr_nonnull(reply);
	icmp = rte_pktmbuf_mtod_offset(reply, uint8_t *, hdr);
	ck_assert_uint_eq(icmp[0], type);
	ck_assert_uint_eq(icmp[1], code);
	ck_assert(memcmp(icmp + 8 + hdr, p + hdr, 8) == 0); /* the quote: the UDP header as sent */
	rte_pktmbuf_free(reply);
	rte_pktmbuf_free(m);
}

START_TEST(test_host_unreachable)
{
	host_unreachable_is(DPSEC_AF_INET, 3, 1);
	host_unreachable_is(DPSEC_AF_INET6, 1, 3);
}
END_TEST

START_TEST(test_what_the_path_binds)
{
	static const uint8_t far_host[4] = { 10, 2, 0, 2 };
	struct quote w = ESP4(1300, 1400), t = ESP4(1300, 1400);

	install_as(SA_TRANSPORT, DPSEC_AF_INET, DPSEC_PROTO_ESP, DPSEC_ENCAP_NONE,
		   DPSEC_MODE_TRANSPORT, DPSEC_DF_COPY);
	t.spi = spis[SA_TRANSPORT];
	hand_over(&w, true);
	hand_over(&t, true);
	ck_assert_uint_eq(path_mtu(SA_TRANSPORT), 1300);
	/* tunnel: with DF refused (its source told), without DF cut to fit */
	ck_assert_int_eq(fits_path(SA_ESP4, far_host, 1400, true), DP_FIT_DROPPED);
	ck_assert_int_eq(fits_path(SA_ESP4, far_host, 1400, false), DP_FIT_CUT);
	ck_assert_int_eq(fits_path(SA_ESP4, far_host, 1200, true), DP_FIT_YES);
	/* transport: with DF refused; without DF it is encapsulated whole, as
	 * before the report (routers fragment it; one too big for the port is
	 * cut after encapsulation, by the route step) */
	ck_assert_int_eq(fits_path(SA_TRANSPORT, peer4, 1400, true), DP_FIT_DROPPED);
	ck_assert_int_eq(fits_path(SA_TRANSPORT, peer4, 1400, false), DP_FIT_YES);
	ck_assert_int_eq(fits_path(SA_TRANSPORT, peer4, 1490, false), DP_FIT_YES);
	ck_assert_int_eq(fits_path(SA_TRANSPORT, peer4, 1490, true), DP_FIT_DROPPED);
	/* an SA that always clears DF does not take the peer's path MTU */
	install_as(SA_DF_CLEAR, DPSEC_AF_INET, DPSEC_PROTO_ESP, DPSEC_ENCAP_NONE, DPSEC_MODE_TUNNEL,
		   DPSEC_DF_CLEAR);
	ck_assert_uint_eq(path_mtu(SA_DF_CLEAR), UINT32_MAX);
	install_as(SA_LATER, DPSEC_AF_INET, DPSEC_PROTO_ESP, DPSEC_ENCAP_NONE, DPSEC_MODE_TUNNEL,
		   DPSEC_DF_SET);
	ck_assert_uint_eq(path_mtu(SA_LATER), 1300);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tunnel_pmtu");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_learned_and_lowered);
	tcase_add_test(tc, test_not_sound);
	tcase_add_test(tc, test_ah_udp_ipv6);
	tcase_add_test(tc, test_ipv6_fragment_quoted);
	tcase_add_test(tc, test_age);
	tcase_add_test(tc, test_sa_removed);
	tcase_add_test(tc, test_rekey_inherits);
	tcase_add_test(tc, test_inherited_only_while_it_holds);
	tcase_add_test(tc, test_siblings_take_it);
	tcase_add_test(tc, test_lifetime_scan_hands_it_on);
	tcase_add_test(tc, test_natt_header_only);
	tcase_add_test(tc, test_what_the_path_binds);
	tcase_add_test(tc, test_host_unreachable);
	suite_add_tcase(s, tc);
	return s;
}

/* An on-link route on port 0 to a /32 (len 4) or the /24 before it (3). */
static int add_route(const uint8_t *addr, int len)
{
	struct dpsec_prefix p = { .addr = { .family = DPSEC_AF_INET }, .len = (uint8_t)(8 * len) };

	memcpy(p.addr.a, addr, (size_t)len);
	return dp_route_add(&ctx.routes, &p, 0, NULL);
}

int main(void)
{
	dp_test_worker_init(&ctx, &worker, N_SLOTS, 256);
	ctx.mgr = &mgr;
	mgr.shm.sas = directory;
	mgr.sa = sa_mgr;
	ctx.workers[0].sa_ctr = worker.sa_ctr; /* the scan sums the workers' counters */
	ctx.cfg = &cfg;
	ctx.n_ports = 1;
	ctx.host_port = -1;
	ctx.ports[0].mtu = 1500;
	ctx.ports[0].role = DP_ROLE_UNPROTECTED;
	ctx.n_local4 = 1;
	memcpy(&ctx.local4[0], us4, 4);
	ctx.n_local6 = 1;
	memcpy(ctx.local6[0], us6, 16);
	if (dp_routes_init(&ctx.routes, "tpmtu", SOCKET_ID_ANY) != 0 || add_route(peer4, 4) != 0 ||
	    add_route((const uint8_t[]){ 10, 2, 0, 0 }, 3) != 0)
		abort();
	return check_run(suite());
}
