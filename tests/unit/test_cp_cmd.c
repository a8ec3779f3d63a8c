/* test_cp_cmd.c - dpsec-ctld's commands and their answers
 * (control/cp_cmd.c) on rings as the segment has them, the test answering
 * as dpsecd would: cp_cmd_wait() reports a refusal of a command it waits
 * for, with dpsecd's reason, and no other: not one of a command sent with
 * cp_cmd_post() (an expired SA's delete, an SA moved to a peer's new NAT
 * mapping), whose answer may come during any later wait, nor one that came
 * after its own wait had given up. Such refusals are logged only. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "cp_rings.h"
#include "check_run.h"

static struct cp_ctx c;

static void setup(void)
{
	cp_rings_attach(&c);
}

static void teardown(void)
{
	cp_rings_detach(&c);
}

/* dpsecd's side: takes the oldest command and answers it with status (0:
 * done) and reason. */
static void answer(int status, const char *reason)
{
	struct dpsec_msg *m = dpsec_ring_peek(c.seg.cmd);
	struct dpsec_ev_ack a = { .status = status };

	ck_assert_ptr_nonnull(m);
	a.cmd_seq = m->h.seq;
	a.cmd_type = m->h.type;
	snprintf(a.reason, sizeof(a.reason), "%s", reason);
	dpsec_ring_release(c.seg.cmd);
	ck_assert_int_ge(dpsec_ring_push(c.seg.ev, DPSEC_EV_ACK, &a, sizeof(a)), 0);
}

static void send_del(uint32_t id, bool post)
{
	struct dpsec_cmd_sa_del d = { .sa_id = id };

	ck_assert_int_eq((post ? cp_cmd_post : cp_cmd_send)(&c, DPSEC_CMD_SA_DEL, &d, sizeof(d)), 0);
}

START_TEST(test_refusal_of_a_waited_command_reported)
{
	char err[256] = "";

	send_del(1, false);
	send_del(2, false);
	answer(0, "");
	answer(ENOENT, "SA delete: no SA with that id");
	ck_assert_int_eq(cp_cmd_wait(&c, 1000, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "dpsecd refused: SA delete: no SA with that id");

	send_del(3, false); /* the next wait starts clean */
	answer(0, "");
	ck_assert_int_eq(cp_cmd_wait(&c, 1000, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_posted_command_refusal_not_reported)
{
	char err[256] = "";

	send_del(1, true);  /* posted: nobody waits for it */
	send_del(2, false);
	answer(ENOENT, "SA delete: no SA with that id");
	answer(0, "");
	ck_assert_int_eq(cp_cmd_wait(&c, 1000, err, sizeof(err)), 0);

	send_del(3, false); /* a posted one in the middle of a waited batch */
	send_del(4, true);
	send_del(5, false);
	answer(0, "");
	answer(ENOENT, "SA delete: no SA with that id");
	answer(0, "");
	ck_assert_int_eq(cp_cmd_wait(&c, 1000, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_late_refusal_not_reported)
{
	char err[256] = "";

	send_del(1, false);
	ck_assert_int_eq(cp_cmd_wait(&c, 10, err, sizeof(err)), -ETIMEDOUT);
	ck_assert(strstr(err, "did not answer") != NULL);
	send_del(2, false);
	answer(ENOENT, "SA delete: no SA with that id"); /* the first, after its wait gave up */
	answer(0, "");
	ck_assert_int_eq(cp_cmd_wait(&c, 1000, err, sizeof(err)), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cp_cmd");
	TCase *tc = tcase_create("cp_cmd");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_refusal_of_a_waited_command_reported);
	tcase_add_test(tc, test_posted_command_refusal_not_reported);
	tcase_add_test(tc, test_late_refusal_not_reported);
	suite_add_tcase(s, tc);
	return check_run(s);
}
