/* test_icmp_rate.c - the rate the workers share for the gateway's ICMP
 * errors (dp_rate, dp.h): a burst at once, then one a period, whatever
 * the gaps; none when the rate is 0; and exact when two threads take from
 * it at the same time (the allowance is the gateway's, not a worker's). */
#include <check.h>
#include <pthread.h>

#include "dp.h"
#include "check_run.h"

#define HZ 1000000000ull /* a TSC of 1 GHz: a period of 1 ms at 1,000 a second */
#define T0 (5 * HZ)
#define BIG_BURST 4000000

static unsigned int takes(struct dp_rate *r, uint64_t now, unsigned int tries)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < tries; i++)
		n += dp_rate_take(r, now);
	return n;
}

START_TEST(test_burst_then_period)
{
	struct dp_rate r = { 0 };
	uint64_t ms = HZ / 1000;

	dp_rate_set(&r, 1000, 50, HZ);
	ck_assert_uint_eq(takes(&r, T0, 80), 50);
	ck_assert_uint_eq(takes(&r, T0 + ms - 1, 5), 0);
	ck_assert_uint_eq(takes(&r, T0 + ms, 5), 1);
	ck_assert_uint_eq(takes(&r, T0 + 11 * ms, 20), 10); /* 10 earned since */
	ck_assert_uint_eq(takes(&r, T0 + 10 * HZ, 200), 50); /* a long pause saves a burst, no more */
}
END_TEST

START_TEST(test_none_and_one)
{
	struct dp_rate r = { 0 };

	dp_rate_set(&r, 0, 50, HZ);
	ck_assert_uint_eq(takes(&r, T0, 10), 0);
	ck_assert_uint_eq(takes(&r, T0 + 100 * HZ, 10), 0);
	dp_rate_set(&r, 2, 1, HZ); /* one at a time, half a second apart */
	ck_assert_uint_eq(takes(&r, T0, 10), 1);
	ck_assert_uint_eq(takes(&r, T0 + HZ / 2 - 1, 10), 0);
	ck_assert_uint_eq(takes(&r, T0 + HZ / 2, 10), 1);
}
END_TEST

struct taker {
	struct dp_rate *r;
	uint64_t now;
	unsigned int got;
};

static pthread_barrier_t start;

static void *take_many(void *arg)
{
	struct taker *t = arg;

	pthread_barrier_wait(&start);
	t->got = takes(t->r, t->now, BIG_BURST);
	return NULL;
}

/* Two threads at once, at the same time, with a burst long enough for
 * both to take from it together: the burst between them, never more; a
 * period later, one. */
START_TEST(test_shared)
{
	struct dp_rate r = { 0 };
	struct taker t[2] = { { &r, T0, 0 }, { &r, T0, 0 } };
	pthread_t th[2];

	dp_rate_set(&r, 1000, BIG_BURST, HZ);
	ck_assert_int_eq(pthread_barrier_init(&start, NULL, 2), 0);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 2; i++)
			ck_assert_int_eq(pthread_create(&th[i], NULL, take_many, &t[i]), 0);
		for (int i = 0; i < 2; i++)
			ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_uint_eq(t[0].got + t[1].got, round == 0 ? BIG_BURST : 1);
		t[0].now = t[1].now = T0 + HZ / 1000;
	}
	pthread_barrier_destroy(&start);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("icmp_rate");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_burst_then_period);
	tcase_add_test(tc, test_none_and_one);
	tcase_add_test(tc, test_shared);
	suite_add_tcase(s, tc);
	return check_run(s);
}
