/* main.c - dpsecd: its options, EAL init and configuration, then the
 * tables, ports and SAs (dp_setup.c), worker launch, and the manager loop
 * on the main lcore (ARP/ND, control-plane commands, signals, idle exit).
 * Shuts down cleanly on SIGINT/SIGTERM, its EAL runtime directory removed;
 * SIGUSR1 prints counters, SIGUSR2 writes the --stats-file. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "dp.h"
#include "dpsec_opt.h"
#include "dp_mgr.h"
#include "dp_setup.h"
#include "port.h"
#include "stats.h"

#define STALL_US_MAX 1000000
#define POOL_MBUFS_MAX 4194303
#define MGR_SLEEP_US 200u    /* the manager's nap after a round with work... */
#define MGR_SLEEP_MAX_US 1000u /* ...growing to this while it stays idle */
#define SA_MAX_CAPACITY (1u << 24)


struct dp_opts {
	const char *config;
	const char *stats_file;
	struct dp_setup_opts setup;
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
		   "      --mbufs N             packet buffers in the pool (default " RTE_STR(DP_POOL_MBUFS) ")\n"
		   "      --stall-us N          a poll round longer than N us was interrupted: left\n"
		   "                            out of the steady cycle counts (default " RTE_STR(DP_STALL_US) "; bench/)\n");
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
		case 'n': o->setup.instance = optarg; break;
		case 'm':
			if (dpsec_opt_u32("dpsecd", "--max-sas", optarg, 1, SA_MAX_CAPACITY, &o->setup.max_sas) < 0)
				return -1;
			break;
		case 'b':
			if (dpsec_opt_u32("dpsecd", "--mbufs", optarg, 1024, POOL_MBUFS_MAX, &o->setup.mbufs) < 0)
				return -1;
			break;
		case 'u':
			if (dpsec_opt_u32("dpsecd", "--stall-us", optarg, 1, STALL_US_MAX, &o->setup.stall_us) < 0)
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
		bool busy = dp_mgr_poll_packets(dp);

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

/* The RFC 6040 report the rate limit held back (stats.h), once the
 * workers have stopped. */
static void report_ecn_rest(struct dp_ctx *dp)
{
	uint64_t c[DP_C_MAX];

	dp_stats_sum(dp, c);
	dp_stats_ecn_report_rest(&dp->mgr->ecn, c, stderr);
}

static int run(struct dp_ctx *dp, const struct dp_opts *o)
{
	char err[512] = "";

	if (dp_setup(dp, &o->setup, err, sizeof(err)) < 0 || dp_ports_start(dp, err, sizeof(err)) < 0) {
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
	report_ecn_rest(dp);
	dp_stats_print(dp, stdout);
	if (o->stats_file && dp_stats_write_json(dp, o->stats_file, DP_STATS_STOPPED) != 0) {
		fprintf(stderr, "dpsecd: cannot write %s\n", o->stats_file);
		return -1;
	}
	return 0;
}

/* The EAL leaves its runtime directory (/var/run/dpdk/PREFIX: the shared
 * configuration, memory maps' descriptions, several MB) behind at exit,
 * one per file prefix: removed once rte_eal_cleanup() is done with it, so
 * that dpsecds run with prefixes of their own (tests, benchmarks, one per
 * tenant) do not fill /run. Only its plain entries; anything else there is
 * left, with the directory, and said. */
static void remove_runtime_dir(const char *path)
{
	DIR *d = opendir(path);
	const struct dirent *e;
	int left = 0;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT)
			left++;
	}
	closedir(d);
	if (left > 0 || rmdir(path) != 0)
		fprintf(stderr, "dpsecd: EAL runtime directory %s left in place (%s)\n", path,
			left > 0 ? "entries it could not remove" : strerror(errno));
}

int main(int argc, char **argv)
{
	char runtime_dir[PATH_MAX];
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
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	dp.cfg = &cfg;
	dp_g = &dp;
	rc = run(&dp, &o);
	dp.quit = true;
	rte_eal_mp_wait_lcore();
	dp_teardown(&dp);
	cfg_free(&cfg);
	rte_eal_cleanup();
	remove_runtime_dir(runtime_dir);
	return rc == 0 ? 0 : 1;
}
