/* esp_in_rate.c - what anti-replay and ESN cost dpsecd's inbound ESP
 * stage: the part of inbound bench/run cannot show, since its pcap
 * replays the same sequence numbers forever and its inbound SAs
 * therefore run without a window. dpsecd's own code in one process on
 * one core, with fresh numbers every round: a round encrypts a burst of
 * clear packets with outbound SAs (dp_esp_out, not timed), then times
 * dp_esp_in on it with their inbound twins (SAD lookup, window check,
 * decryption, ICV, window update, decapsulation, the inner packet's
 * policy check). Two groups of SA pairs take turns round by round, so
 * that both are measured at the same machine speed: one without
 * anti-replay (as bench/run's), one with the window (and ESN) asked for;
 * a burst's packets go to a group's --sas pairs in turn. Every packet
 * must come out whole (exit 1 otherwise). Prints one JSON line: each
 * group's median round in cycles per packet (TSC), and the median of the
 * rounds' differences.
 *
 *   esp_in_rate [--alg aes128gcm16|aes256gcm16|aes128+sha1_96|aes128+sha256_128]
 *               [--len BYTES] [--window W] [--esn] [--sas N] [--rounds N]
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include <rte_ip.h>

#include "dp.h"
#include "dp_pkt.h"
#include "dp_test_worker.h"
#include "dpsec_opt.h"
#include "esp.h"

#define ROUNDS_MAX 1000000u
#define SAS_MAX 4096u

struct rate_opts {
	const char *alg;
	uint8_t enc_alg, enc_key_len, integ_alg;
	uint32_t len, window, rounds, sas;
	bool esn;
};

static const struct {
	const char *name;
	uint8_t enc_alg, enc_key_len, integ_alg;
} algs[] = {
	{ "aes128gcm16", DPSEC_ENC_AES_GCM_16, 16, DPSEC_INTEG_NONE },
	{ "aes256gcm16", DPSEC_ENC_AES_GCM_16, 32, DPSEC_INTEG_NONE },
	{ "aes128+sha1_96", DPSEC_ENC_AES_CBC, 16, DPSEC_INTEG_HMAC_SHA1_96 },
	{ "aes128+sha256_128", DPSEC_ENC_AES_CBC, 16, DPSEC_INTEG_HMAC_SHA256_128 },
};

static struct dp_ctx ctx;
static struct dp_worker worker;

static void usage(void)
{
	fprintf(stderr, "usage: esp_in_rate [--alg aes128gcm16|aes256gcm16|aes128+sha1_96|"
			"aes128+sha256_128] [--len BYTES] [--window W] [--esn] [--sas N] [--rounds N]\n"
			"  defaults: aes128gcm16, 46-byte packets (64-byte frames), window 1024, "
			"no ESN, 1 SA, 20000 rounds of %u packets\n", DP_BURST);
	exit(2);
}

static uint32_t parse_num(const char *name, const char *s, uint32_t min, uint32_t max)
{
	uint32_t v;

	if (dpsec_opt_u32("esp_in_rate", name, s, min, max, &v) < 0)
		exit(2);
	return v;
}

static void set_alg(struct rate_opts *o, const char *name)
{
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (strcmp(algs[i].name, name) == 0) {
			o->alg = algs[i].name;
			o->enc_alg = algs[i].enc_alg;
			o->enc_key_len = algs[i].enc_key_len;
			o->integ_alg = algs[i].integ_alg;
			return;
		}
	}
	fprintf(stderr, "esp_in_rate: --alg: unknown algorithm \"%s\"\n", name);
	usage();
}

static void parse_opts(int argc, char **argv, struct rate_opts *o)
{
	static const struct option longopts[] = {
		{ "alg", required_argument, NULL, 'a' },
		{ "len", required_argument, NULL, 'l' },
		{ "window", required_argument, NULL, 'w' },
		{ "esn", no_argument, NULL, 'e' },
		{ "sas", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct rate_opts){ .len = 46, .window = 1024, .rounds = 20000, .sas = 1 };
	set_alg(o, "aes128gcm16");
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': set_alg(o, optarg); break;
		case 'l': o->len = parse_num("--len", optarg, 28, 1400); break;
		case 'w': o->window = parse_num("--window", optarg, 0, DPSEC_REPLAY_MAX); break;
		case 'e': o->esn = true; break;
		case 's': o->sas = parse_num("--sas", optarg, 1, SAS_MAX); break;
		case 'r': o->rounds = parse_num("--rounds", optarg, 1, ROUNDS_MAX); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (o->esn && o->window == 0) {
		fprintf(stderr, "esp_in_rate: --esn needs anti-replay (a --window above 0)\n");
		exit(2);
	}
}

/* The pair of SAs whose outbound SA is in slot out: outbound from
 * 192.0.2.1 to 192.0.2.2, its inbound twin (slot out + 1) at 192.0.2.2
 * with the same SPI and keys, bound to the policy's one rule. */
static void install_pair(const struct rate_opts *o, uint32_t out, uint32_t spi, uint32_t window,
			 bool esn)
{
	struct dpsec_sa_conf c = { .spi = spi, .mode = DPSEC_MODE_TUNNEL, .esn = esn,
				   .replay_window = window, .enc_alg = o->enc_alg,
				   .enc_key_len = o->enc_key_len, .integ_alg = o->integ_alg,
				   .integ_key_len = dpsec_integ_key_len(o->integ_alg) };
	char err[256];

	memset(c.enc_key, 0x3c ^ (int)out, sizeof(c.enc_key));
	memset(c.integ_key, 0x5a ^ (int)out, sizeof(c.integ_key));
	memset(c.salt, 0x11, sizeof(c.salt));
	snprintf(c.name, sizeof(c.name), "out-%u", out);
	c.local = (struct dpsec_addr){ .family = DPSEC_AF_INET, .a = { 192, 0, 2, 1 } };
	c.remote = (struct dpsec_addr){ .family = DPSEC_AF_INET, .a = { 192, 0, 2, 2 } };
	c.direction = DPSEC_DIR_OUT;
	if (dp_sa_install(&ctx.sas, worker.crypto, out, &c, 0, NULL, err, sizeof(err)) != 0)
		goto fail;
	snprintf(c.name, sizeof(c.name), "in-%u", out + 1);
	c.direction = DPSEC_DIR_IN;
	c.local.a[3] = 2;
	c.remote.a[3] = 1;
	if (dp_sa_install(&ctx.sas, worker.crypto, out + 1, &c, dp_cfg_rule_id(0), NULL, err,
			  sizeof(err)) != 0)
		goto fail;
	return;
fail:
	fprintf(stderr, "esp_in_rate: SA: %s\n", err);
	exit(1);
}

/* A clear IPv4/UDP packet of len bytes from 10.1.0.2 to 10.2.0.2, parsed
 * and bound for outbound slot out. */
static struct rte_mbuf *clear_packet(uint32_t len, uint32_t out)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx.pool);
	struct rte_ipv4_hdr *ip;

	if (m == NULL || (ip = (void *)rte_pktmbuf_append(m, (uint16_t)len)) == NULL) {
		fprintf(stderr, "esp_in_rate: out of mbufs\n");
		exit(1);
	}
	memset(ip, 0xa5, len);
	*ip = (struct rte_ipv4_hdr){ .version_ihl = RTE_IPV4_VHL_DEF, .time_to_live = 64,
				     .next_proto_id = IPPROTO_UDP,
				     .total_length = rte_cpu_to_be_16((uint16_t)len),
				     .src_addr = rte_cpu_to_be_32(0x0a010002),
				     .dst_addr = rte_cpu_to_be_32(0x0a020002) };
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	if (dp_parse_ip(m, dp_meta(m)) != 0)
		abort();
	dp_meta(m)->sa = out;
	dp_meta(m)->sap = ctx.sas.sa[out];
	return m;
}

/* One round on the group of pairs from outbound slot first on: a burst
 * encrypted, packet i on the group's pair i % --sas, then decrypted under
 * the clock; returns the cycles dp_esp_in took, or 0 when a packet did not
 * come out whole. */
static uint64_t one_round(const struct rate_opts *o, uint32_t first)
{
	struct rte_mbuf *mb[DP_BURST];
	uint64_t t0, cycles;
	uint16_t got;

	for (uint16_t i = 0; i < DP_BURST; i++)
		mb[i] = clear_packet(o->len, first + 2 * (i % o->sas));
	if (dp_esp_out(&worker, mb, DP_BURST) != DP_BURST)
		return 0;
	for (uint16_t i = 0; i < DP_BURST; i++)
		if (dp_parse_ip(mb[i], dp_meta(mb[i])) != 0)
			abort(); /* dpsecd's rx parses the outer header */
	t0 = __rdtsc();
	got = dp_esp_in(&worker, mb, DP_BURST);
	cycles = __rdtsc() - t0;
	for (uint16_t i = 0; i < got; i++) {
		if (mb[i]->pkt_len != o->len)
			cycles = 0;
		rte_pktmbuf_free(mb[i]);
	}
	return got == DP_BURST ? cycles : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static double median_per_packet(uint64_t *v, uint32_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return (double)v[n / 2] / DP_BURST;
}

/* The groups' first outbound slots: pairs without anti-replay from slot 0,
 * pairs with what was asked for from slot 2 * --sas. */
static void install_groups(const struct rate_opts *o)
{
	uint32_t asked = 2 * o->sas;

	if (dp_sa_table_init(&ctx.sas, 4 * o->sas, SOCKET_ID_ANY) != 0) {
		fprintf(stderr, "esp_in_rate: no memory for %u SAs\n", 4 * o->sas);
		exit(1);
	}
	for (uint32_t j = 0; j < o->sas; j++) {
		install_pair(o, 2 * j, 0x10000 + 2 * j, 0, false);
		install_pair(o, asked + 2 * j, 0x10000 + asked + 2 * j, o->window, o->esn);
	}
}

int main(int argc, char **argv)
{
	struct rate_opts o;
	uint64_t *plain, *asked;
	int64_t *diff;

	parse_opts(argc, argv, &o);
	plain = calloc(o.rounds, sizeof(*plain));
	asked = calloc(o.rounds, sizeof(*asked));
	diff = calloc(o.rounds, sizeof(*diff));
	if (plain == NULL || asked == NULL || diff == NULL)
		return 1;
	dp_test_worker_init(&ctx, &worker, 4 * o.sas, 2 * DP_BURST);
	install_groups(&o);
	dp_test_one_rule_policy(&ctx, "esp_in_rate");
	for (uint32_t r = 0; r < o.rounds; r++) {
		plain[r] = one_round(&o, 0);
		asked[r] = one_round(&o, 2 * o.sas);
		if (plain[r] == 0 || asked[r] == 0) {
			fprintf(stderr, "esp_in_rate: round %u: a packet did not come out whole "
					"(drops counted: icv %" PRIu64 ", replay %" PRIu64 ")\n", r,
				worker.ctr->c[DP_DROP_icv], worker.ctr->c[DP_DROP_replay]);
			return 1;
		}
		diff[r] = (int64_t)asked[r] - (int64_t)plain[r];
	}
	qsort(diff, o.rounds, sizeof(*diff), cmp_i64);
	printf("{\"alg\": \"%s\", \"len\": %u, \"window\": %u, \"esn\": %s, \"sas\": %u, \"burst\": %u, "
	       "\"rounds\": %u, \"cycles_per_packet_without_window\": %.1f, "
	       "\"cycles_per_packet\": %.1f, \"difference\": %.1f}\n",
	       o.alg, o.len, o.window, o.esn ? "true" : "false", o.sas, DP_BURST, o.rounds,
	       median_per_packet(plain, o.rounds), median_per_packet(asked, o.rounds),
	       (double)diff[o.rounds / 2] / DP_BURST);
	free(plain);
	free(asked);
	free(diff);
	return 0;
}
