/* test_stats_snap.c - the counter snapshots that SIGUSR2 asks for
 * (stats.c's dp_stats_take_snaps) against the real worker loop
 * (dp_worker_main, no ports): a running worker copies its counters between
 * two poll rounds and answers each request with a fresh copy; a worker
 * that does not answer (stalled; here never started) makes the manager
 * give up after its wait, with the others' copies taken, so that the stats
 * file says the counters were read live rather than hanging; once the
 * worker runs again it answers the next request. Beside them, the
 * manager's RFC 6040 report of odd ECN marks (dp_stats_ecn_report): what
 * the counters gained, at once the first time, then at most once a
 * minute, gains in between held for the next report or dpsecd's exit,
 * nothing when nothing was gained. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "check_run.h"
#include "dp.h"
#include "eal_setup.h"
#include "stats.h"

static struct dp_ctx ctx;
static pthread_t threads[2];
static bool running[2];

static void *run_worker(void *arg)
{
	dp_worker_main(arg);
	return NULL;
}

static void start_worker(uint16_t i)
{
	ck_assert_int_eq(pthread_create(&threads[i], NULL, run_worker, &ctx.workers[i]), 0);
	running[i] = true;
}

static void stop_workers(void)
{
	ctx.quit = true;
	for (int i = 0; i < 2; i++)
		if (running[i])
			pthread_join(threads[i], NULL);
	running[0] = running[1] = false;
	ctx.quit = false;
}

/* A worker with no rx queue whose counters say rx packets and busy TSC
 * (before the tests run: exits the program if memory runs out). */
static void worker_init(uint16_t i, uint64_t rx)
{
	struct dp_worker *w = &ctx.workers[i];

	w->index = i;
	w->ctr = rte_zmalloc(NULL, sizeof(*w->ctr), RTE_CACHE_LINE_SIZE);
	w->snap = rte_zmalloc(NULL, sizeof(*w->snap), RTE_CACHE_LINE_SIZE);
	if (w->ctr == NULL || w->snap == NULL)
		abort();
	w->ctr->c[DP_C_rx_packets] = rx;
	w->busy_tsc = rx * 100;
}

static void setup(void)
{
	dp_g = &ctx;
	ctx.idle_sleep_us = 50; /* not busy polling: the loop sleeps when idle */
	ctx.inject = rte_ring_create("inject", 64, SOCKET_ID_ANY, 0); /* worker 0 polls it */
	if (ctx.inject == NULL)
		abort();
	ctx.n_workers = 2;
	worker_init(0, 1000);
	worker_init(1, 2000);
}

static double seconds_since(uint64_t tsc)
{
	return (double)(rte_get_timer_cycles() - tsc) / (double)rte_get_timer_hz();
}

START_TEST(test_running_workers_answer_with_fresh_copies)
{
	start_worker(0);
	start_worker(1);
	ck_assert(dp_stats_take_snaps(&ctx));
	ck_assert_uint_eq(ctx.workers[0].snap->ctr.c[DP_C_rx_packets], 1000);
	ck_assert_uint_eq(ctx.workers[1].snap->ctr.c[DP_C_rx_packets], 2000);
	ck_assert_uint_eq(ctx.workers[1].snap->busy_tsc, 200000);
	ctx.workers[0].ctr->c[DP_C_rx_packets] = 1001; /* published by the request */
	ck_assert(dp_stats_take_snaps(&ctx));
	ck_assert_uint_eq(ctx.workers[0].snap->ctr.c[DP_C_rx_packets], 1001);
	stop_workers();
}
END_TEST

START_TEST(test_stalled_worker_read_live_after_the_wait)
{
	uint64_t t0;

	ctx.workers[0].ctr->c[DP_C_rx_packets] = 1002;
	start_worker(0);
	t0 = rte_get_timer_cycles();
	ck_assert(!dp_stats_take_snaps(&ctx));
	ck_assert_msg(seconds_since(t0) > 1.0, "gave up after %.3f s, not after its wait",
		      seconds_since(t0));
	ck_assert_uint_eq(ctx.workers[0].snap->ctr.c[DP_C_rx_packets], 1002);
	ck_assert_uint_ne(ctx.workers[1].snap_done, ctx.workers[1].snap_req);
	start_worker(1); /* it resumes and answers the next request */
	ck_assert(dp_stats_take_snaps(&ctx));
	ck_assert_uint_eq(ctx.workers[1].snap_done, ctx.workers[1].snap_req);
	stop_workers();
}
END_TEST

/* What dp_stats_ecn_report wrote (at exit: dp_stats_ecn_report_rest, now
 * unused), or "" when it wrote nothing. */
static const char *ecn_report_as(struct dp_ecn_report *r, const uint64_t c[DP_C_MAX], uint64_t now,
				 bool at_exit)
{
	static char text[1024];
	bool wrote = false;
	FILE *f;

	memset(text, 0, sizeof(text));
	f = fmemopen(text, sizeof(text) - 1, "w");
	ck_assert_ptr_nonnull(f);
	if (at_exit)
		dp_stats_ecn_report_rest(r, c, f);
	else
		wrote = dp_stats_ecn_report(r, c, now, 1000, f); /* 1 kHz: a minute is 60,000 */
	fclose(f);
	ck_assert(at_exit || wrote == (text[0] != '\0'));
	return text;
}

static const char *ecn_report(struct dp_ecn_report *r, const uint64_t c[DP_C_MAX], uint64_t now)
{
	return ecn_report_as(r, c, now, false);
}

START_TEST(test_ecn_report_rate_limited)
{
	static uint64_t c[DP_C_MAX];
	struct dp_ecn_report r = { 0 };
	const char *t;

	ck_assert_str_eq(ecn_report(&r, c, 5), "");
	c[DP_C_ecn_unused_combinations] = 3;
	c[DP_DROP_ecn_ce_not_ect] = 2;
	t = ecn_report(&r, c, 10);
	ck_assert_msg(strstr(t, "RFC 6040") && strstr(t, " 5 decapsulated packets") &&
		      strstr(t, " 2 CE outside") && strstr(t, " 3 of the combinations"), "%s", t);
	c[DP_C_ecn_unused_combinations] = 4;
	ck_assert_str_eq(ecn_report(&r, c, 20), "");        /* within the minute: held */
	c[DP_DROP_ecn_ce_not_ect] = 9;
	ck_assert_str_eq(ecn_report(&r, c, 60009), "");     /* still within it */
	t = ecn_report(&r, c, 60010);
	ck_assert_msg(strstr(t, " 8 decapsulated packets") && strstr(t, " 7 CE outside") &&
		      strstr(t, " 1 of the combinations"), "%s", t);
	ck_assert_str_eq(ecn_report(&r, c, 200000), "");    /* nothing new since */
	c[DP_C_ecn_unused_combinations] = 5;
	t = ecn_report(&r, c, 200001);
	ck_assert_msg(strstr(t, " 1 decapsulated packets") && strstr(t, " 0 CE outside"), "%s", t);
	c[DP_DROP_ecn_ce_not_ect] = 11;
	ck_assert_str_eq(ecn_report(&r, c, 200002), "");    /* held... */
	t = ecn_report_as(&r, c, 0, true);                  /* ...until dpsecd exits */
	ck_assert_msg(strstr(t, " 2 decapsulated packets") && strstr(t, " 2 CE outside"), "%s", t);
	ck_assert_str_eq(ecn_report_as(&r, c, 0, true), "");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stats_snap");
	TCase *t = tcase_create("snapshots");

	dp_test_eal_init();
	setup();
	tcase_set_timeout(t, 30);
	tcase_add_test(t, test_running_workers_answer_with_fresh_copies);
	tcase_add_test(t, test_stalled_worker_read_live_after_the_wait);
	suite_add_tcase(s, t);
	t = tcase_create("ecn_report");
	tcase_add_test(t, test_ecn_report_rate_limited);
	suite_add_tcase(s, t);
	return check_run(s);
}
