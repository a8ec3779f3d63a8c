/* main.c - dpsecd: EAL init, configuration, ports, tables and SAs, the
 * shared-memory segment, worker launch, and the manager loop on the main
 * lcore (ARP/ND, control-plane commands, signals, idle exit). Shuts down
 * cleanly on SIGINT/SIGTERM; SIGUSR1 prints counters, SIGUSR2 writes the
 * --stats-file. */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dp.h"
#include "dpsec_opt.h"
#include "dp_pkt.h"
#include "dp_mgr.h"
#include "dp_policy.h"
#include "dp_rcu.h"
#include "dp_shm.h"
#include "frag_track.h"
#include "neigh.h"
#include "ofl_engine.h"
#include "port.h"
#include "reass.h"
#include "stats.h"
#include "tunnel_pmtu.h"

#define POOL_MBUFS 16383      /* default; --mbufs */
#define STALL_US 250          /* default; --stall-us: a burst takes tens of us */
#define STALL_US_MAX 1000000
#define POOL_MBUFS_MAX 4194303
#define POOL_CACHE 256
#define MGR_SLEEP_US 200u    /* the manager's nap after a round with work... */
#define MGR_SLEEP_MAX_US 1000u /* ...growing to this while it stays idle */
#define SA_DEFAULT_CAPACITY 4096
#define SA_MAX_CAPACITY (1u << 24)


struct dp_opts {
	const char *config;
	const char *stats_file;
	const char *instance;
	uint32_t max_sas;
	uint32_t mbufs;
	uint32_t stall_us;
	bool allow_insecure_keys;
	bool check_only;
	uint32_t exit_when_idle_ms;
};

static volatile sig_atomic_t sig_quit, sig_usr1, sig_usr2;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		sig_usr1 = 1;
	else if (sig == SIGUSR2)
		sig_usr2 = 1;
	else
		sig_quit = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: dpsecd [EAL options] -- -c FILE [options]\n"
		   "  -c, --config FILE         dataplane configuration (libconfig)\n"
		   "      --check               validate the configuration and exit\n"
		   "      --allow-insecure-keys load keys from a group/other-readable file\n"
		   "      --stats-file PATH     write counters as JSON at exit (and on SIGUSR2)\n"
		   "      --exit-when-idle MS   exit once no port received for MS ms\n"
		   "      --instance NAME       shared-memory segment /dpsec.NAME (default: the EAL\n"
		   "                            --file-prefix, \"rte\" unless given)\n"
		   "      --max-sas N           SA table slots for the control plane (default 4096)\n"
		   "      --mbufs N             packet buffers in the pool (default 16383)\n"
		   "      --stall-us N          a poll round longer than N us was interrupted: left\n"
		   "                            out of the steady cycle counts (default 250; bench/)\n");
}

static int parse_opts(int argc, char **argv, struct dp_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "allow-insecure-keys", no_argument, NULL, 'i' },
		{ "stats-file", required_argument, NULL, 's' },
		{ "exit-when-idle", required_argument, NULL, 'e' },
		{ "instance", required_argument, NULL, 'n' },
		{ "max-sas", required_argument, NULL, 'm' },
		{ "mbufs", required_argument, NULL, 'b' },
		{ "stall-us", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	argv[0] = (char *)"dpsecd"; /* getopt names the program in its errors; this was "--" */
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'k': o->check_only = true; break;
		case 'i': o->allow_insecure_keys = true; break;
		case 's': o->stats_file = optarg; break;
		case 'e':
			if (dpsec_opt_u32("dpsecd", "--exit-when-idle", optarg, 1, UINT32_MAX,
					  &o->exit_when_idle_ms) < 0)
				return -1;
			break;
		case 'n': o->instance = optarg; break;
		case 'm':
			if (dpsec_opt_u32("dpsecd", "--max-sas", optarg, 1, SA_MAX_CAPACITY, &o->max_sas) < 0)
				return -1;
			break;
		case 'b':
			if (dpsec_opt_u32("dpsecd", "--mbufs", optarg, 1024, POOL_MBUFS_MAX, &o->mbufs) < 0)
				return -1;
			break;
		case 'u':
			if (dpsec_opt_u32("dpsecd", "--stall-us", optarg, 1, STALL_US_MAX, &o->stall_us) < 0)
				return -1;
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (o->config == NULL || optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* Our options follow "--"; EAL's come before. */
static int split_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			return i;
	return argc;
}

static int load_config(const struct dp_opts *o, struct cfg_dataplane *cfg)
{
	char err[CFG_ERR_MAX];

	if (cfg_load(o->config, o->allow_insecure_keys ? CFG_PERM_WARN : CFG_PERM_REFUSE, cfg, err) < 0) {
		fprintf(stderr, "dpsecd: %s\n", err);
		return -1;
	}
	return 0;
}

static int setup_pool(struct dp_ctx *dp, uint32_t mbufs)
{
	uint32_t room = RTE_MBUF_DEFAULT_DATAROOM;

	for (uint32_t i = 0; i < dp->cfg->n_ports; i++)
		room = RTE_MAX(room, (uint32_t)dp->cfg->ports[i].mtu + 256u);
	dp->pool = rte_pktmbuf_pool_create("dpsec_mbufs", mbufs ? mbufs : POOL_MBUFS, POOL_CACHE, DP_META_SIZE,
					   (uint16_t)(room + RTE_PKTMBUF_HEADROOM), rte_socket_id());
	dp->big_pool = dp_reass_big_pool_create("dpsec_big", rte_socket_id());
	return dp->pool && dp->big_pool ? 0 : -1;
}

static int setup_rings(struct dp_ctx *dp)
{
	dp->control = rte_ring_create("dpsec_ctl", 1024, rte_socket_id(), RING_F_SC_DEQ);
	dp->resolve = rte_ring_create_elem("dpsec_res", sizeof(struct dp_resolve_req), 256,
					   rte_socket_id(), RING_F_SC_DEQ);
	dp->inject = rte_ring_create("dpsec_inj", 1024, rte_socket_id(),
				     RING_F_SP_ENQ | RING_F_SC_DEQ);
	dp->acquire = rte_ring_create("dpsec_acq", 1024, rte_socket_id(), RING_F_SC_DEQ);
	dp->reinject = rte_ring_create("dpsec_reinj", 1024, rte_socket_id(),
				       RING_F_SP_ENQ | RING_F_SC_DEQ);
	dp->reroute = rte_ring_create("dpsec_rerte", 1024, rte_socket_id(),
				      RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!dp->control || !dp->resolve || !dp->inject || !dp->acquire || !dp->reinject)
		return -1;
	return dp->reroute != NULL ? 0 : -1;
}

/* Assigns lcores to workers and spreads the ports' rx queues over them. */
static int setup_workers(struct dp_ctx *dp)
{
	unsigned int lcore;
	uint16_t n = 0;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (n == dp->n_workers)
			break;
		struct dp_worker *w = &dp->workers[n];

		w->lcore_id = lcore;
		w->index = n++;
		w->crypto = ofl_cpu_create((int)rte_lcore_to_socket_id(lcore));
		w->ctr = rte_zmalloc("dpsec_ctr", sizeof(*w->ctr), RTE_CACHE_LINE_SIZE);
		w->sa_ctr = rte_zmalloc("dpsec_sactr", sizeof(*w->sa_ctr) * dp->sas.capacity,
					RTE_CACHE_LINE_SIZE);
		w->snap = rte_zmalloc("dpsec_snap", sizeof(*w->snap), RTE_CACHE_LINE_SIZE);
		if (w->crypto == NULL || w->ctr == NULL || w->sa_ctr == NULL || w->snap == NULL ||
		    dp_reass_init(w, dp->reass_timeout_tsc, (int)rte_lcore_to_socket_id(lcore)) != 0 ||
		    dp_frag_track_init(w, (int)rte_lcore_to_socket_id(lcore)) != 0)
			return -1;
	}
	return n == dp->n_workers ? 0 : -1;
}

static void assign_queues(struct dp_ctx *dp)
{
	for (uint16_t p = 0; p < dp->n_ports; p++)
		for (uint16_t q = 0; q < dp->ports[p].nb_rxq; q++) {
			struct dp_worker *w = &dp->workers[q % dp->n_workers];

			w->rxq[w->n_rxq].port = p;
			w->rxq[w->n_rxq++].queue = q;
		}
}

/* Connected routes from the ports' addresses, then the configured ones. */
static int setup_routes(struct dp_ctx *dp)
{
	const struct cfg_dataplane *cfg = dp->cfg;

	if (dp_routes_init(&dp->routes, "dpsec", (int)rte_socket_id()) < 0 || dp_neigh_init(dp) < 0)
		return -1;
	for (uint32_t i = 0; i < cfg->n_ports; i++)
		for (uint32_t j = 0; j < cfg->ports[i].n_addrs; j++)
			if (dp_route_add(&dp->routes, &cfg->ports[i].addrs[j], (uint16_t)i, NULL) < 0)
				return -1;
	for (uint32_t i = 0; i < cfg->n_routes; i++)
		if (dp_route_add(&dp->routes, &cfg->routes[i].dst, cfg->routes[i].port,
				 &cfg->routes[i].via) < 0)
			return -1;
	return dp_neigh_static(dp);
}

/* The rule whose inbound SA the configuration's SA idx is, by rule id. */
static uint32_t cfg_sa_rule(const struct cfg_dataplane *cfg, uint32_t idx)
{
	for (uint32_t r = 0; r < cfg->n_rules; r++)
		if (cfg->rules[r].sa_in == (int32_t)idx)
			return dp_cfg_rule_id(r);
	return 0;
}

/* Concurrent dpsecd processes already differ by EAL file prefix (the last
 * element of the runtime directory): the instance follows it by default. */
static const char *eal_file_prefix(void)
{
	const char *dir = rte_eal_get_runtime_dir();
	const char *slash = strrchr(dir, '/');

	return slash != NULL ? slash + 1 : dir;
}

/* Where static keys' sequence numbers are reserved: the configured file,
 * /var/lib/dpsec/INSTANCE.seq by default, or none (said once: a restart
 * then starts those keys' numbers at 1 again); the keys shared between
 * installed SAs are refused either way. */
static int setup_seq_store(struct dp_ctx *dp, const char *instance, char *err, size_t errlen)
{
	const struct cfg_dataplane_opts *o = &dp->cfg->opts;
	char path[PATH_MAX];

	if (o->sequence_file_off) {
		printf("dpsecd: sequence_file \"none\": static keys' sequence numbers start at 1 with "
		       "every dpsecd, which with AES-GCM repeats nonces under the same key\n");
		return dp_seq_store_open(&dp->sas.seq_store, NULL, err, errlen);
	}
	if (o->sequence_file[0])
		snprintf(path, sizeof(path), "%s", o->sequence_file);
	else
		snprintf(path, sizeof(path), "/var/lib/dpsec/%s.seq", instance);
	return dp_seq_store_open(&dp->sas.seq_store, path, err, errlen);
}

static int install_sas(struct dp_ctx *dp, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < dp->cfg->n_sas; i++) {
		if (dp_sa_install(&dp->sas, dp->workers[0].crypto, i, &dp->cfg->sas[i],
				  cfg_sa_rule(dp->cfg, i), NULL, err, errlen) < 0)
			return -1;
		dp->key_additions++;
	}
	return dp_sa_grants_commit(&dp->sas, err, errlen) < 0 ? -1 : 0;
}

/* The SA table and SAD, sized once; what they took is reported (bytes per SA). */
static int setup_sa_table(struct dp_ctx *dp, uint32_t capacity)
{
	uint64_t before = dp_heap_allocated();

	if (dp_sa_table_init(&dp->sas, capacity, SOCKET_ID_ANY) < 0)
		return -1;
	dp->sa_table_bytes = dp_heap_allocated() - before;
	return 0;
}

static int setup(struct dp_ctx *dp, const struct dp_opts *o, char *err, size_t errlen)
{
	uint32_t cap = RTE_MAX(dp->cfg->n_sas, o->max_sas ? o->max_sas : SA_DEFAULT_CAPACITY);
	const char *instance = o->instance ? o->instance : eal_file_prefix();

	dp->n_workers = (uint16_t)dp->cfg->opts.workers;
	dp->busy_poll = dp->cfg->opts.idle == CFG_IDLE_BUSY;
	dp->stall_tsc = rte_get_tsc_hz() / 1000000 * (o->stall_us ? o->stall_us : STALL_US);
	dp->idle_sleep_us = dp->cfg->opts.idle_sleep_us;
	dp->reass_timeout_tsc = rte_get_tsc_hz() / 1000 * dp->cfg->opts.reassembly_timeout_ms;
	if (rte_lcore_count() < dp->n_workers + 1u) {
		snprintf(err, errlen, "%u workers need %u lcores (one manager), EAL gave %u: use -l",
			 dp->n_workers, dp->n_workers + 1, rte_lcore_count());
		return -1;
	}
	if (setup_pool(dp, o->mbufs) < 0 || setup_rings(dp) < 0 || setup_sa_table(dp, cap) < 0 ||
	    setup_workers(dp) < 0) {
		snprintf(err, errlen, "out of memory (or the crypto engine failed): try a larger -m");
		return -1;
	}
	if (dp_ports_setup(dp, err, errlen) < 0)
		return -1;
	assign_queues(dp);
	if (setup_routes(dp) < 0) {
		snprintf(err, errlen, "route or neighbour table full");
		return -1;
	}
	if (setup_seq_store(dp, instance, err, errlen) < 0 || install_sas(dp, err, errlen) < 0)
		return -1;
	dp->policy = dp_policy_build(dp->cfg, "dpsec_spd", err, errlen);
	if (dp->policy == NULL)
		return -1;
	if (dp_rcu_init(dp, 2 * cap + 1024) < 0) {
		snprintf(err, errlen, "RCU: out of memory");
		return -1;
	}
	return dp_mgr_init(dp, instance, err, errlen);
}

/* --exit-when-idle: every worker has polled its queues empty for span TSC
 * cycles. Judged by the workers' own empty rounds, not by the time since
 * the last packet: a worker descheduled in the middle of a burst would look
 * idle by that, and dpsecd would exit with its input half read. */
static bool workers_idle_for(const struct dp_ctx *dp, uint64_t span)
{
	uint64_t now = rte_rdtsc();

	for (uint16_t w = 0; w < dp->n_workers; w++) {
		uint64_t since = dp->workers[w].idle_since_tsc;

		if (since == 0 || now - since <= span)
			return false;
	}
	return true;
}

static bool manager_poll_packets(struct dp_ctx *dp)
{
	struct rte_mbuf *m[DP_BURST];
	struct dp_resolve_req r[DP_BURST];
	unsigned int n = rte_ring_dequeue_burst(dp->control, (void **)m, DP_BURST, NULL);
	unsigned int k = rte_ring_dequeue_burst_elem(dp->resolve, r, sizeof(r[0]), DP_BURST, NULL);

	for (unsigned int i = 0; i < n; i++)
		if (dp_meta(m[i])->flags & DP_M_PMTU)
			dp_pmtu_input(dp, m[i]);
		else
			dp_neigh_input(dp, m[i], rte_rdtsc());
	for (unsigned int i = 0; i < k; i++)
		dp_neigh_resolve(dp, &r[i], rte_rdtsc());
	return n + k > 0;
}

/* SIGUSR2: the --stats-file now, while running (bench/ measures between two
 * snapshots), from counters each worker copied between two poll rounds;
 * written to a temporary name and renamed, never seen half done. */
static void snapshot_stats(struct dp_ctx *dp, const struct dp_opts *o)
{
	enum dp_stats_source src;
	char tmp[PATH_MAX];

	if (o->stats_file == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", o->stats_file);
	src = dp_stats_take_snaps(dp) ? DP_STATS_SNAPS : DP_STATS_LIVE;
	if (dp_stats_write_json(dp, tmp, src) != 0 || rename(tmp, o->stats_file) != 0)
		fprintf(stderr, "dpsecd: cannot write %s\n", o->stats_file);
}

static void manager_loop(struct dp_ctx *dp, const struct dp_opts *o)
{
	uint64_t idle_tsc = rte_get_tsc_hz() / 1000 * o->exit_when_idle_ms;
	uint32_t nap_us = MGR_SLEEP_US;

	while (!sig_quit) {
		bool busy = manager_poll_packets(dp);

		busy |= dp_mgr_poll(dp);

		if (sig_usr1) {
			sig_usr1 = 0;
			dp_stats_print(dp, stdout);
		}
		if (sig_usr2) {
			sig_usr2 = 0;
			snapshot_stats(dp, o);
		}
		if (o->exit_when_idle_ms && workers_idle_for(dp, idle_tsc))
			break;
		if (busy) {
			nap_us = MGR_SLEEP_US;
			continue;
		}
		/* idle: wake less and less often, so that a worker sharing the
		 * manager's core (2-core machines) is interrupted less */
		rte_delay_us_sleep(nap_us);
		nap_us = RTE_MIN(nap_us * 2, MGR_SLEEP_MAX_US);
	}
	dp->quit = true;
}

static void print_ready(const struct dp_ctx *dp)
{
	for (uint16_t i = 0; i < dp->n_ports; i++) {
		char mac[RTE_ETHER_ADDR_FMT_SIZE];

		rte_ether_format_addr(mac, sizeof(mac), &dp->ports[i].mac);
		printf("dpsecd: port %s (dpdk %u) %s mtu %u, %u rx queues%s\n", dp->ports[i].name,
		       dp->ports[i].port_id, mac, dp->ports[i].mtu, dp->ports[i].nb_rxq,
		       dp_port_rss_words(dp->ports[i].rss_hf));
	}
	printf("dpsecd: %u SAs, %u rules, %u workers, shared memory %s\ndpsecd: ready\n",
	       dp->sas.count, dp->cfg->n_rules, dp->n_workers, dp->mgr->shm.name);
	fflush(stdout);
}

static void teardown(struct dp_ctx *dp)
{
	struct dp_seq_store *seq;

	dp_ports_close(dp);
	dp_mgr_fini(dp);
	dp_neigh_fini(dp);
	dp_rcu_fini(dp);
	dp_policy_free(dp->policy);
	seq = dp->sas.seq_store;
	dp_sa_table_fini(&dp->sas);
	dp_seq_store_close(seq);
	dp_routes_fini(&dp->routes);
	for (uint16_t w = 0; w < dp->n_workers; w++) {
		ofl_cpu_free(dp->workers[w].crypto);
		rte_free(dp->workers[w].ctr);
		rte_free(dp->workers[w].sa_ctr);
		rte_free(dp->workers[w].snap);
		dp_reass_fini(&dp->workers[w]);
		dp_frag_track_fini(&dp->workers[w]);
	}
	rte_ring_free(dp->control);
	rte_ring_free(dp->resolve);
	rte_ring_free(dp->inject);
	rte_ring_free(dp->acquire);
	rte_ring_free(dp->reinject);
	rte_ring_free(dp->reroute);
	rte_mempool_free(dp->pool);
	rte_mempool_free(dp->big_pool);
}

static int run(struct dp_ctx *dp, const struct dp_opts *o)
{
	char err[512] = "";

	if (setup(dp, o, err, sizeof(err)) < 0 || dp_ports_start(dp, err, sizeof(err)) < 0) {
		fprintf(stderr, "dpsecd: %s\n", err);
		return -1;
	}
	if (dp_stats_telemetry_register() != 0)
		fprintf(stderr, "dpsecd: telemetry commands not registered\n");
	print_ready(dp);
	for (uint16_t w = 0; w < dp->n_workers; w++)
		rte_eal_remote_launch(dp_worker_main, &dp->workers[w], dp->workers[w].lcore_id);
	dp_mgr_ready(dp);
	manager_loop(dp, o);
	rte_eal_mp_wait_lcore();
	dp_stats_print(dp, stdout);
	if (o->stats_file && dp_stats_write_json(dp, o->stats_file, DP_STATS_STOPPED) != 0) {
		fprintf(stderr, "dpsecd: cannot write %s\n", o->stats_file);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct dp_ctx dp;
	static struct cfg_dataplane cfg;
	struct dp_opts o = { 0 };
	int sep = split_args(argc, argv), rc;

	if (sep == argc) {
		fprintf(stderr, "dpsecd: expected \"--\" between the EAL options and dpsecd's own\n");
		usage(stderr);
		return 2;
	}
	if (parse_opts(argc - sep, argv + sep, &o) < 0)
		return 2;
	if (load_config(&o, &cfg) < 0)
		return 1;
	if (o.check_only) {
		printf("dpsecd: %s: configuration OK\n", o.config);
		cfg_free(&cfg);
		return 0;
	}
	/* before the (slow) start: a stop asked for meanwhile ends in a clean
	 * shutdown with counters, not in death by signal */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	signal(SIGUSR2, on_signal);
	if (rte_eal_init(sep, argv) < 0) {
		fprintf(stderr, "dpsecd: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		cfg_free(&cfg);
		return 1;
	}
	dp.cfg = &cfg;
	dp_g = &dp;
	rc = run(&dp, &o);
	dp.quit = true;
	rte_eal_mp_wait_lcore();
	teardown(&dp);
	cfg_free(&cfg);
	rte_eal_cleanup();
	return rc == 0 ? 0 : 1;
}
