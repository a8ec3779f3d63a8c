/* test_shm_seq.c - the readers of dpsecd's sequence-locked areas
 * (include/dpsec_shm.h: statistics, neighbours) against a writer that is
 * descheduled mid-write, as a loaded machine does to dpsecd's manager: the
 * reader waits it out within its tries and gets the finished values, and
 * gives up (false, no hang) when the writer never finishes. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "dpsec_shm.h"
#include "check_run.h"

#define STALL_MS 5 /* the writer's time off the CPU, lock held odd */

static void sleep_ms(long ms)
{
	struct timespec t = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&t, NULL);
}

static struct dpsec_shm_stats stats;
static struct dpsec_shm_neighs neighs;

/* The manager's write of both areas, stalled STALL_MS in the middle. */
static void *stalled_writer(void *arg)
{
	sleep_ms(STALL_MS);
	stats.counters[0] = 42;
	neighs.n = 1;
	neighs.e[0].port = 3;
	atomic_store_explicit(&stats.lock, 2, memory_order_release);
	atomic_store_explicit(&neighs.lock, 2, memory_order_release);
	return arg;
}

START_TEST(test_reader_waits_out_a_stalled_writer)
{
	static struct dpsec_shm_stats st;
	static struct dpsec_shm_neighs ne;
	pthread_t t;

	atomic_store(&stats.lock, 1); /* being written */
	atomic_store(&neighs.lock, 1);
	ck_assert_int_eq(pthread_create(&t, NULL, stalled_writer, NULL), 0);
	ck_assert(dpsec_shm_stats_read(&stats, &st, 1000));
	ck_assert_uint_eq(st.counters[0], 42);
	ck_assert(dpsec_shm_neighs_read(&neighs, &ne, 1000));
	ck_assert_uint_eq(ne.n, 1);
	ck_assert_uint_eq(ne.e[0].port, 3);
	pthread_join(t, NULL);
}
END_TEST

START_TEST(test_reader_gives_up)
{
	static struct dpsec_shm_stats st;

	atomic_store(&stats.lock, 3); /* a writer that never finishes */
	ck_assert(!dpsec_shm_stats_read(&stats, &st, 10));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shm_seq");
	TCase *tc = tcase_create("shm_seq");

	tcase_add_test(tc, test_reader_waits_out_a_stalled_writer);
	tcase_add_test(tc, test_reader_gives_up);
	suite_add_tcase(s, tc);
	return check_run(s);
}
