/* replay_rate.c - what the shared anti-replay window costs the inbound fat
 * tunnel: one or two threads, each pinned to its own CPU, take runs of
 * consecutive sequence numbers of one SA from a common counter (as two
 * workers receiving one SA's packets) and do exactly dpsecd's window work
 * per run (dataplane/replay.h): a lock-free check per packet, then the
 * lock, an update per packet, the unlock. Prints one JSON line: cycles per
 * packet per thread (TSC), packets per second of the whole, and how many
 * numbers were accepted (all of them, unless a thread was descheduled for
 * longer than the window lasts: those count as "old"). --work spins that
 * many cycles per packet besides, standing for the rest of a packet's
 * processing (dpsecd spends 300 and more on each): the window's own cost
 * is then cycles_per_packet - work.
 *
 *   replay_rate [--threads 1|2] [--packets N] [--window W] [--run R] [--work C]
 */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include "dpsec_opt.h"
#include "replay.h"

#define MAX_THREADS 2
#define MAX_RUN 64

struct rate_opts {
	unsigned int threads;
	uint64_t packets;
	uint32_t window;
	unsigned int run;
	uint64_t work;
};

struct rate_shared {
	const struct rate_opts *o;
	struct dp_replay *r;
	uint64_t next __attribute__((aligned(64))); /* first number of the next run */
};

struct rate_thread {
	struct rate_shared *sh;
	unsigned int cpu;
	pthread_t tid;
	uint64_t packets, accepted, old, cycles;
};

static void usage(void)
{
	fprintf(stderr, "usage: replay_rate [--threads 1|2] [--packets N] [--window W] [--run R] "
			"[--work C]\n"
			"  defaults: 1 thread, 20000000 packets, window 1024, runs of 32, no work\n");
	exit(2);
}

static uint32_t parse_num(const char *name, const char *s, uint32_t min, uint32_t max)
{
	uint32_t v;

	if (dpsec_opt_u32("replay_rate", name, s, min, max, &v) < 0)
		exit(2);
	return v;
}

static void parse_opts(int argc, char **argv, struct rate_opts *o)
{
	static const struct option longopts[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "packets", required_argument, NULL, 'p' },
		{ "window", required_argument, NULL, 'w' },
		{ "run", required_argument, NULL, 'r' },
		{ "work", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct rate_opts){ .threads = 1, .packets = 20000000, .window = 1024, .run = 32 };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 't': o->threads = (unsigned int)parse_num("--threads", optarg, 1, MAX_THREADS); break;
		case 'p': o->packets = parse_num("--packets", optarg, 1, UINT32_MAX - MAX_RUN); break;
		case 'w': o->window = (uint32_t)parse_num("--window", optarg, 64, DP_REPLAY_WINDOW_MAX); break;
		case 'r': o->run = (unsigned int)parse_num("--run", optarg, 1, MAX_RUN); break;
		case 'k': o->work = parse_num("--work", optarg, 0, 1000000); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
}

/* The rest of a packet's processing, as cycles spent. */
static void spin_cycles(uint64_t cycles)
{
	uint64_t end = __rdtsc() + cycles;

	while (cycles != 0 && __rdtsc() < end)
		_mm_pause();
}

/* One run from first: checks, the packets' other work, then updates under
 * the lock. */
static void rate_run(struct rate_thread *t, uint64_t first, unsigned int n)
{
	struct dp_replay *r = t->sh->r;
	uint64_t seq64[MAX_RUN];
	bool ok[MAX_RUN];

	spin_cycles(t->sh->o->work * n);
	for (unsigned int j = 0; j < n; j++) {
		ok[j] = dp_replay_check(r, (uint32_t)(first + j), false, &seq64[j]) == DP_REPLAY_OK;
		t->old += !ok[j];
	}
	dp_replay_lock(r);
	for (unsigned int j = 0; j < n; j++)
		if (ok[j])
			t->accepted += dp_replay_update(r, seq64[j]) == DP_REPLAY_OK;
	dp_replay_unlock(r);
	t->packets += n;
}

static void *rate_thread_main(void *arg)
{
	struct rate_thread *t = arg;
	struct rate_shared *sh = t->sh;
	uint64_t last = sh->o->packets, start;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(t->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	start = __rdtsc();
	for (;;) {
		uint64_t first = __atomic_fetch_add(&sh->next, sh->o->run, __ATOMIC_RELAXED);

		if (first > last)
			break;
		rate_run(t, first, (unsigned int)(first + sh->o->run - 1 <= last ? sh->o->run
									    : last - first + 1));
	}
	t->cycles = __rdtsc() - start;
	return NULL;
}

static void print_result(const struct rate_opts *o, const struct rate_thread *t, double seconds)
{
	uint64_t accepted = 0, old = 0;

	printf("{\"threads\": %u, \"window\": %u, \"run\": %u, \"work\": %" PRIu64
	       ", \"packets\": %" PRIu64 ", \"cycles_per_packet\": [",
	       o->threads, o->window, o->run, o->work, o->packets);
	for (unsigned int i = 0; i < o->threads; i++) {
		printf("%s%.1f", i ? ", " : "", t[i].packets ? (double)t[i].cycles / t[i].packets : 0.0);
		accepted += t[i].accepted;
		old += t[i].old;
	}
	printf("], \"mpps\": %.2f, \"accepted\": %" PRIu64 ", \"old\": %" PRIu64 "}\n",
	       o->packets / seconds / 1e6, accepted, old);
}

int main(int argc, char **argv)
{
	struct rate_opts o;
	struct rate_shared sh;
	struct rate_thread t[MAX_THREADS];
	struct timespec a, b;

	parse_opts(argc, argv, &o);
	memset(&sh, 0, sizeof(sh));
	memset(t, 0, sizeof(t));
	sh.o = &o;
	sh.next = 1;
	sh.r = aligned_alloc(64, (dp_replay_size(o.window) + 63) / 64 * 64);
	if (sh.r == NULL || dp_replay_init(sh.r, o.window, 0) != 0) {
		fprintf(stderr, "replay_rate: out of memory\n");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (unsigned int i = 0; i < o.threads; i++) {
		t[i] = (struct rate_thread){ .sh = &sh, .cpu = i };
		if (pthread_create(&t[i].tid, NULL, rate_thread_main, &t[i]) != 0) {
			fprintf(stderr, "replay_rate: cannot start a thread\n");
			return 1;
		}
	}
	for (unsigned int i = 0; i < o.threads; i++)
		pthread_join(t[i].tid, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	print_result(&o, t, (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	free(sh.r);
	return 0;
}
