/* store_rate.c - what dpsec-ctld's policy store costs with many tunnels:
 * the time to load (parse and check) a store of N static tunnels, as every
 * configuration change does twice, and to compile its assigned policy
 * into dataplane rules, as dpsec-ctld does once a store (every sync and
 * every IKE lookup did until 2026-12-07). Each tunnel is a rule over a filter list of
 * its own, with a PSK and an outbound and an inbound static SA (the
 * unit tests' store, tests/unit/tunnel_store.h, the shape of
 * bench/ctld_changes'). Prints one JSON object.
 *
 *     store_rate [--tunnels N] [--rounds K] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cfg_store.h"
#include "tunnel_store.h"

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "tunnels", required_argument, NULL, 't' },
					      { "rounds", required_argument, NULL, 'r' },
					      { NULL, 0, NULL, 0 } };
	int n = 3000, rounds = 10, o;
	char err[CFG_ERR_MAX], *text;
	struct cfg_store s = { 0 };
	struct cfg_compiled cc;
	double t0, load_ms, compile_ms;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (o == 't' || o == 'r')
			*(o == 't' ? &n : &rounds) = atoi(optarg);
		else
			return 2;
	if (n < 1 || rounds < 1) {
		fprintf(stderr, "store_rate: --tunnels and --rounds take numbers of 1 or more\n");
		return 2;
	}
	text = tunnel_store_static(n, false);
	t0 = now_ms();
	for (int i = 0; i < rounds; i++) {
		cfg_store_free(&s);
		if (cfg_store_load_string(text, "store_rate", &s, err) < 0) {
			fprintf(stderr, "store_rate: %s\n", err);
			return 1;
		}
	}
	load_ms = (now_ms() - t0) / rounds;
	t0 = now_ms();
	for (int i = 0; i < rounds; i++) {
		if (cfg_compile(&s, s.assigned, &cc, err) < 0) {
			fprintf(stderr, "store_rate: %s\n", err);
			return 1;
		}
		if (cc.n_rules < (uint32_t)n) {
			fprintf(stderr, "store_rate: %u rules compiled for %d tunnels\n", cc.n_rules, n);
			return 1;
		}
		cfg_compiled_free(&cc);
	}
	compile_ms = (now_ms() - t0) / rounds;
	printf("{\"tunnels\": %d, \"load_ms\": %.1f, \"compile_ms\": %.2f}\n", n, load_ms, compile_ms);
	cfg_store_free(&s);
	free(text);
	return 0;
}
