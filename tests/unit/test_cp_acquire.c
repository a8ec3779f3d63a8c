/* test_cp_acquire.c - what becomes of the packets dpsecd holds for an
 * ACQUIRE (control/cp_acquire.c) when the peer's own negotiation brought a
 * pair up meanwhile (cp_negotiate_answered: an IKEv2 pair we answered,
 * which the peer installs only once our answer arrives): they wait for
 * our negotiation's end, and go out (ACQUIRE_DONE "send") whether it
 * succeeds, fails or times out, since the peer's pair is there by then;
 * without such a pair a failure drops them (a block: the fallback). On
 * rings as the segment has them, a thread answering as dpsecd would. */
#include <check.h>
#include <pthread.h>
#include <time.h>

#include "cp_rings.h"
#include "check_run.h"

#define RULE 5

static struct cp_ctx c;
static const struct dpsec_addr peer = { .family = DPSEC_AF_INET, .a = { 192, 0, 2, 2 } };
static pthread_t dpsecd;
static volatile bool stop;
static int done_results[8], n_done; /* the ACQUIRE_DONE results dpsecd was sent */

/* dpsecd's side: answers every command, noting ACQUIRE_DONE's result. */
static void *answer_all(void *arg)
{
	(void)arg;
	while (!stop) {
		struct dpsec_msg *m = dpsec_ring_peek(c.seg.cmd);
		struct dpsec_ev_ack a = { 0 };

		if (m == NULL) {
			nanosleep(&(struct timespec){ 0, 100000 }, NULL);
			continue;
		}
		a.cmd_seq = m->h.seq;
		a.cmd_type = m->h.type;
		if (m->h.type == DPSEC_CMD_ACQUIRE_DONE && n_done < 8)
			done_results[n_done++] = ((const struct dpsec_cmd_acquire_done *)m->body)->result;
		dpsec_ring_release(c.seg.cmd);
		while (dpsec_ring_push(c.seg.ev, DPSEC_EV_ACK, &a, sizeof(a)) < 0 && !stop)
			;
	}
	return NULL;
}

static void setup(void)
{
	cp_rings_attach(&c);
	c.sa = calloc(1, sizeof(*c.sa));
	c.store.timeouts.fallback_ms = 500;
	n_done = 0;
	stop = false;
	ck_assert_int_eq(pthread_create(&dpsecd, NULL, answer_all, NULL), 0);
}

static void teardown(void)
{
	stop = true;
	pthread_join(dpsecd, NULL);
	free(c.sa);
	cp_rings_detach(&c);
}

/* dpsecd's ACQUIRE for RULE and peer: held packets, a negotiation begun. */
static void acquire(void)
{
	struct dpsec_ev_acquire ev = { .rule_id = RULE, .peer = peer };

	cp_acquire_event(&c, &ev);
	ck_assert_uint_eq(c.mm[CP_MM_active_acquire], 1);
}

static bool negotiation_ended(void)
{
	for (int i = 0; i < CP_MAX_ACQUIRES; i++)
		if (c.acq[i].used)
			return false;
	return c.mm[CP_MM_active_acquire] == 0;
}

START_TEST(test_peer_pair_then_our_failure_sends)
{
	acquire();
	cp_negotiate_answered(&c, RULE, &peer);
	ck_assert_int_eq(n_done, 0); /* not yet: the peer may not have our answer */
	cp_negotiate_done(&c, RULE, &peer, false, "AUTHENTICATION_FAILED");
	ck_assert_int_eq(n_done, 1);
	ck_assert_int_eq(done_results[0], DPSEC_ACQUIRE_SEND);
	ck_assert(negotiation_ended());
	ck_assert_uint_eq(c.mm[CP_MM_negotiation_failures], 0);
}
END_TEST

START_TEST(test_peer_pair_then_our_success_sends)
{
	acquire();
	cp_negotiate_answered(&c, RULE, &peer);
	cp_negotiate_done(&c, RULE, &peer, true, NULL);
	ck_assert_int_eq(n_done, 1);
	ck_assert_int_eq(done_results[0], DPSEC_ACQUIRE_SEND);
	ck_assert(negotiation_ended());
}
END_TEST

START_TEST(test_peer_pair_then_timeout_sends)
{
	acquire();
	cp_negotiate_answered(&c, RULE, &peer);
	for (int i = 0; i < CP_MAX_ACQUIRES; i++)
		if (c.acq[i].used)
			c.acq[i].deadline_ns = cp_now_ns(); /* the fallback timeout, now */
	cp_timers(&c);
	ck_assert_int_eq(n_done, 1);
	ck_assert_int_eq(done_results[0], DPSEC_ACQUIRE_SEND);
	ck_assert(negotiation_ended());
}
END_TEST

START_TEST(test_failure_without_peer_pair_drops)
{
	acquire();
	cp_negotiate_done(&c, RULE, &peer, false, "AUTHENTICATION_FAILED");
	ck_assert_int_eq(n_done, 1);
	ck_assert_int_eq(done_results[0], DPSEC_ACQUIRE_DROP);
	ck_assert(negotiation_ended());
	ck_assert_uint_eq(c.mm[CP_MM_negotiation_failures], 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cp_acquire");
	TCase *tc = tcase_create("cp_acquire");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_peer_pair_then_our_failure_sends);
	tcase_add_test(tc, test_peer_pair_then_our_success_sends);
	tcase_add_test(tc, test_peer_pair_then_timeout_sends);
	tcase_add_test(tc, test_failure_without_peer_pair_drops);
	suite_add_tcase(s, tc);
	return check_run(s);
}
