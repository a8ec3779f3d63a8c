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
 * --workers 2: the inbound fat tunnel, each SA's packets decrypted by two
 * workers at once: a second thread, pinned to CPU 1, is a second worker
 * on the same SA pairs. In each round both workers encrypt a burst with
 * the same outbound SAs (interleaved numbers, as two rx queues of one SA
 * receive them), then start dp_esp_in together; a round's figure is the
 * mean of the two. The difference between the groups is then what the
 * window costs when two workers share it (its lock and its lines), beside
 * what it costs one worker (--workers 1).
 *
 *   esp_in_rate [--alg aes128gcm16|aes256gcm16|aes128+sha1_96|aes128+sha256_128]
 *               [--len BYTES] [--window W] [--esn] [--sas N] [--rounds N]
 *               [--workers 1|2]
 */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
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
	uint32_t len, window, rounds, sas, workers;
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
static struct dp_worker workers[2];

static void usage(void)
{
	fprintf(stderr, "usage: esp_in_rate [--alg aes128gcm16|aes256gcm16|aes128+sha1_96|"
			"aes128+sha256_128] [--len BYTES] [--window W] [--esn] [--sas N] [--rounds N]\n"
			"                   [--workers 1|2]\n"
			"  defaults: aes128gcm16, 46-byte packets (64-byte frames), window 1024, "
			"no ESN, 1 SA, 20000 rounds of %u packets, 1 worker\n", DP_BURST);
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
		{ "workers", required_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct rate_opts){ .len = 46, .window = 1024, .rounds = 20000, .sas = 1, .workers = 1 };
	set_alg(o, "aes128gcm16");
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': set_alg(o, optarg); break;
		case 'l': o->len = parse_num("--len", optarg, 28, 1400); break;
		case 'w': o->window = parse_num("--window", optarg, 0, DPSEC_REPLAY_MAX); break;
		case 'e': o->esn = true; break;
		case 's': o->sas = parse_num("--sas", optarg, 1, SAS_MAX); break;
		case 'r': o->rounds = parse_num("--rounds", optarg, 1, ROUNDS_MAX); break;
		case 'W': o->workers = parse_num("--workers", optarg, 1, 2); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (o->esn && o->window == 0) {
		fprintf(stderr, "esp_in_rate: --esn needs anti-replay (a --window above 0)\n");
		exit(2);
	}
	/* each worker's burst is behind the other's by up to a burst of numbers */
	if (o->workers == 2 && o->window != 0 && o->window < 2 * DP_BURST) {
		fprintf(stderr, "esp_in_rate: --workers 2 needs --window 0 or at least %u: the two "
				"workers' bursts hold %u consecutive numbers\n", 2 * DP_BURST, 2 * DP_BURST);
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
	if (dp_sa_install(&ctx.sas, workers[0].crypto, out, &c, 0, NULL, err, sizeof(err)) != 0)
		goto fail;
	snprintf(c.name, sizeof(c.name), "in-%u", out + 1);
	c.direction = DPSEC_DIR_IN;
	c.local.a[3] = 2;
	c.remote.a[3] = 1;
	if (dp_sa_install(&ctx.sas, workers[0].crypto, out + 1, &c, dp_cfg_rule_id(0), NULL, err,
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

/* A burst for worker w on the group of pairs from outbound slot first on,
 * packet i on the group's pair i % --sas, encrypted (not timed) and its
 * outer headers parsed as dpsecd's rx does. False if dp_esp_out failed. */
static bool encrypted_burst(struct dp_worker *w, const struct rate_opts *o, uint32_t first,
			    struct rte_mbuf **mb)
{
	for (uint16_t i = 0; i < DP_BURST; i++)
		mb[i] = clear_packet(o->len, first + 2 * (i % o->sas));
	if (dp_esp_out(w, mb, DP_BURST) != DP_BURST)
		return false;
	for (uint16_t i = 0; i < DP_BURST; i++)
		if (dp_parse_ip(mb[i], dp_meta(mb[i])) != 0)
			abort();
	return true;
}

/* dp_esp_in on the burst under the clock; returns the cycles it took, or
 * 0 when a packet did not come out whole. Frees the packets. */
static uint64_t timed_decryption(struct dp_worker *w, const struct rate_opts *o,
				 struct rte_mbuf **mb)
{
	uint64_t t0 = __rdtsc(), cycles;
	uint16_t got = dp_esp_in(w, mb, DP_BURST);

	cycles = __rdtsc() - t0;
	for (uint16_t i = 0; i < got; i++) {
		if (mb[i]->pkt_len != o->len)
			cycles = 0;
		rte_pktmbuf_free(mb[i]);
	}
	return got == DP_BURST ? cycles : 0;
}

/* One round of worker w alone on the group from outbound slot first on:
 * the cycles its decryption took, 0 when a packet did not come out whole. */
static uint64_t one_round(struct dp_worker *w, const struct rate_opts *o, uint32_t first)
{
	struct rte_mbuf *mb[DP_BURST];

	return encrypted_burst(w, o, first, mb) ? timed_decryption(w, o, mb) : 0;
}

/* The two workers' meeting point: each waits until both arrived. */
static struct {
	uint32_t arrived, phase;
} meeting;

static void meet(void)
{
	uint32_t phase = __atomic_load_n(&meeting.phase, __ATOMIC_ACQUIRE);

	if (__atomic_add_fetch(&meeting.arrived, 1, __ATOMIC_ACQ_REL) == 2) {
		__atomic_store_n(&meeting.arrived, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&meeting.phase, phase + 1, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&meeting.phase, __ATOMIC_ACQUIRE) == phase)
		_mm_pause();
}

/* A round of both workers at once, as worker w: both encrypt their bursts,
 * then both start decrypting together; the cycles w's took (0 as above). */
static uint64_t together_round(struct dp_worker *w, const struct rate_opts *o, uint32_t first)
{
	struct rte_mbuf *mb[DP_BURST];
	bool made;
	uint64_t cycles;

	meet();
	made = encrypted_burst(w, o, first, mb);
	meet();
	cycles = made ? timed_decryption(w, o, mb) : 0;
	meet();
	return cycles;
}

/* Each round's cycles of one worker: the group without a window, then the
 * group asked for. */
struct group_rounds {
	uint64_t *plain, *asked;
};

static void group_rounds_alloc(struct group_rounds *g, uint32_t rounds)
{
	g->plain = calloc(rounds, sizeof(*g->plain));
	g->asked = calloc(rounds, sizeof(*g->asked));
	if (g->plain == NULL || g->asked == NULL)
		exit(1);
}

struct second_worker {
	const struct rate_opts *o;
	struct group_rounds g;
};

/* Worker 1, on CPU 1: its half of every round. */
static void *second_worker_main(void *arg)
{
	struct second_worker *s = arg;

	for (uint32_t r = 0; r < s->o->rounds; r++) {
		s->g.plain[r] = together_round(&workers[1], s->o, 0);
		s->g.asked[r] = together_round(&workers[1], s->o, 2 * s->o->sas);
	}
	return NULL;
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

/* A round's failure: what the workers' counters say. Exits. */
static void round_failed(uint32_t r)
{
	uint64_t icv = 0, replay = 0;

	for (int i = 0; i < 2; i++) {
		if (workers[i].ctr == NULL)
			continue;
		icv += workers[i].ctr->c[DP_DROP_icv];
		replay += workers[i].ctr->c[DP_DROP_replay];
	}
	fprintf(stderr, "esp_in_rate: round %u: a packet did not come out whole (drops counted: "
			"icv %" PRIu64 ", replay %" PRIu64 ")\n", r, icv, replay);
	exit(1);
}

/* --workers 2 runs worker 1 on CPU 1: exits 77 (a skip) when this process
 * may not use CPU 0 and CPU 1. Before the EAL pins this thread to CPU 0. */
static void need_two_cpus(void)
{
	cpu_set_t cpus;

	if (sched_getaffinity(0, sizeof(cpus), &cpus) != 0 || !CPU_ISSET(0, &cpus) ||
	    !CPU_ISSET(1, &cpus)) {
		fprintf(stderr, "esp_in_rate: --workers 2 needs CPUs 0 and 1\n");
		exit(77);
	}
}

/* Starts worker 1's thread on CPU 1. */
static pthread_t start_second_worker(struct second_worker *s)
{
	cpu_set_t cpus;
	pthread_attr_t attr;
	pthread_t t;

	CPU_ZERO(&cpus);
	CPU_SET(1, &cpus);
	if (pthread_attr_init(&attr) != 0 ||
	    pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus) != 0 ||
	    pthread_create(&t, &attr, second_worker_main, s) != 0) {
		fprintf(stderr, "esp_in_rate: cannot start the second worker on CPU 1\n");
		exit(1);
	}
	pthread_attr_destroy(&attr);
	return t;
}

/* Worker 0's rounds, and with --workers 2 worker 1's beside them: each
 * round's figure is then the mean of the two workers' (0 if either's
 * packets did not all come out whole). */
static void run_rounds(const struct rate_opts *o, struct group_rounds *g)
{
	struct second_worker s = { .o = o };
	pthread_t t = 0;

	if (o->workers == 2) {
		group_rounds_alloc(&s.g, o->rounds);
		t = start_second_worker(&s);
	}
	for (uint32_t r = 0; r < o->rounds; r++) {
		if (o->workers == 1) {
			g->plain[r] = one_round(&workers[0], o, 0);
			g->asked[r] = one_round(&workers[0], o, 2 * o->sas);
		} else {
			g->plain[r] = together_round(&workers[0], o, 0);
			g->asked[r] = together_round(&workers[0], o, 2 * o->sas);
		}
	}
	if (o->workers == 1)
		return;
	pthread_join(t, NULL);
	for (uint32_t r = 0; r < o->rounds; r++) {
		g->plain[r] = g->plain[r] && s.g.plain[r] ? (g->plain[r] + s.g.plain[r]) / 2 : 0;
		g->asked[r] = g->asked[r] && s.g.asked[r] ? (g->asked[r] + s.g.asked[r]) / 2 : 0;
	}
	free(s.g.plain);
	free(s.g.asked);
}

/* The group without a window against the one asked for: the medians and
 * the median of the rounds' differences. */
static void without_against_asked(const struct rate_opts *o)
{
	struct group_rounds g;
	int64_t *diff = calloc(o->rounds, sizeof(*diff));

	group_rounds_alloc(&g, o->rounds);
	if (diff == NULL)
		exit(1);
	run_rounds(o, &g);
	for (uint32_t r = 0; r < o->rounds; r++) {
		if (g.plain[r] == 0 || g.asked[r] == 0)
			round_failed(r);
		diff[r] = (int64_t)g.asked[r] - (int64_t)g.plain[r];
	}
	qsort(diff, o->rounds, sizeof(*diff), cmp_i64);
	printf("{\"alg\": \"%s\", \"len\": %u, \"window\": %u, \"esn\": %s, \"sas\": %u, "
	       "\"burst\": %u, \"rounds\": %u, \"workers\": %u, "
	       "\"cycles_per_packet_without_window\": %.1f, \"cycles_per_packet\": %.1f, "
	       "\"difference\": %.1f}\n",
	       o->alg, o->len, o->window, o->esn ? "true" : "false", o->sas, DP_BURST, o->rounds,
	       o->workers, median_per_packet(g.plain, o->rounds),
	       median_per_packet(g.asked, o->rounds), (double)diff[o->rounds / 2] / DP_BURST);
	free(g.plain);
	free(g.asked);
	free(diff);
}

int main(int argc, char **argv)
{
	struct rate_opts o;

	parse_opts(argc, argv, &o);
	if (o.workers == 2)
		need_two_cpus();
	dp_test_worker_init(&ctx, &workers[0], 4 * o.sas, 2 * DP_BURST * o.workers);
	if (o.workers == 2)
		dp_test_worker_add(&workers[1], 4 * o.sas);
	ctx.n_workers = (uint16_t)o.workers;
	install_groups(&o);
	dp_test_one_rule_policy(&ctx, "esp_in_rate");
	without_against_asked(&o);
	return 0;
}
