/* test_policy_txn.c - a policy transaction (POLICY_BEGIN, rules, filters,
 * POLICY_COMMIT) through the real command ring of a real segment
 * (dp_mgr_init), taken by the manager's dp_cmd_poll() as in dpsecd: it is
 * taken whole or not at all. A transaction one of whose commands was
 * refused is not committed, and one whose classifier needs more memory
 * than dataplane.policy_memory_mb allows is refused; either way the policy
 * the workers use stays the one they had, and the next good transaction
 * goes in. A rule's outbound SA changed alone (RULE_SA, a rekey) changes
 * in the policy in force, without a build, and stays through later
 * builds. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dp.h"
#include "dp_mgr.h"
#include "dp_policy.h"
#include "dp_test_mgr.h"
#include "dp_test_worker.h"
#include "dpsec_ring.h"
#include "check_run.h"

static struct dp_ctx ctx;
static struct dp_worker worker;
static struct cfg_dataplane cfg;
static pid_t parent;

static void teardown(void)
{
	if (getpid() == parent)
		dp_mgr_fini(&ctx); /* removes the segment */
}

static void setup(void)
{
	char instance[32];

	cfg.default_action = DPSEC_ACTION_PERMIT;
	ctx.cfg = &cfg;
	dp_test_worker_init(&ctx, &worker, 4, 512);
	ctx.workers[0] = worker;
	if (dp_sa_table_init(&ctx.sas, 4, SOCKET_ID_ANY) < 0)
		abort();
	snprintf(instance, sizeof(instance), "test-txn-%d", (int)getpid());
	dp_test_mgr_start(&ctx, "ttxn", instance);
	parent = getpid();
	atexit(teardown);
}

/* The answers since the last take(): how many refused, the last one's
 * status and reason (the COMMIT's, once all is taken). */
static int refused;
static int last_status;
static char last_reason[DPSEC_REASON_MAX];

static void drain_answers(void)
{
	struct dpsec_msg *m;

	while ((m = dpsec_ring_peek(ctx.mgr->shm.ev)) != NULL) {
		if (m->h.type == DPSEC_EV_ACK) {
			const struct dpsec_ev_ack *a = (const void *)m->body;

			last_status = a->status;
			snprintf(last_reason, sizeof(last_reason), "%s", a->reason);
			refused += a->status != 0;
		}
		dpsec_ring_release(ctx.mgr->shm.ev);
	}
}

/* Sends a command, letting the manager take what waits while the ring is
 * full (as dpsec-ctld waits for room). */
static void send_cmd(uint16_t type, const void *body, uint32_t len)
{
	while (dpsec_ring_push(ctx.mgr->shm.cmd, type, body, len) < 0) {
		dp_cmd_poll(&ctx);
		drain_answers();
	}
}

/* Runs the manager over the rest of what was sent; returns the refusals
 * since the last take(). */
static int take(void)
{
	int n;

	for (int i = 0; i < 64; i++) {
		dp_cmd_poll(&ctx);
		drain_answers();
	}
	n = refused;
	refused = 0;
	return n;
}

/* Filter n of rule 1: 10.x.y.0/24 to 10.y.x.0/24, TCP, a port range of
 * its own on each side (prefix_len: its source's length). */
static void send_filter(uint32_t n, uint8_t prefix_len)
{
	struct dpsec_cmd_filter f;

	memset(&f, 0, sizeof(f));
	f.rule_id = 1;
	f.filter_id = n + 1;
	f.filter.src.addr.family = f.filter.dst.addr.family = DPSEC_AF_INET;
	f.filter.src.addr.a[0] = f.filter.dst.addr.a[0] = 10;
	f.filter.src.addr.a[1] = f.filter.dst.addr.a[2] = (uint8_t)(n >> 8);
	f.filter.src.addr.a[2] = f.filter.dst.addr.a[1] = (uint8_t)n;
	f.filter.src.len = prefix_len;
	f.filter.dst.len = 24;
	f.filter.proto = 6;
	f.filter.mirrored = true;
	f.filter.sport_lo = (uint16_t)(n * 37 % 60000);
	f.filter.sport_hi = (uint16_t)(f.filter.sport_lo + 100 + n % 4000);
	f.filter.dport_lo = (uint16_t)(n * 53 % 60000);
	f.filter.dport_hi = (uint16_t)(f.filter.dport_lo + 100 + n * 7 % 4000);
	send_cmd(DPSEC_CMD_FILTER_ADD, &f, sizeof(f));
}

/* A transaction of one blocking rule with n_filters filters, filter bad
 * (if below n_filters) with a source prefix longer than an IPv4 address. */
static void send_policy(uint32_t n_filters, uint32_t bad)
{
	struct dpsec_cmd_policy_begin b = { .default_action = DPSEC_ACTION_PERMIT, .n_rules = 1 };
	struct dpsec_cmd_rule r = { .rule_id = 1, .priority = 1, .sa_out = DPSEC_SA_NONE,
				    .action = DPSEC_ACTION_BLOCK, .name = "r" };

	send_cmd(DPSEC_CMD_POLICY_BEGIN, &b, sizeof(b));
	send_cmd(DPSEC_CMD_RULE_SET, &r, sizeof(r));
	for (uint32_t i = 0; i < n_filters; i++)
		send_filter(i, i == bad ? 33 : 24);
	send_cmd(DPSEC_CMD_POLICY_COMMIT, NULL, 0);
}

START_TEST(test_refused_command_aborts_the_transaction)
{
	const struct dp_policy *before = ctx.policy;

	send_policy(3, 1);
	ck_assert_int_eq(take(), 2); /* the filter, then the commit */
	ck_assert_int_ne(last_status, 0);
	ck_assert_msg(strstr(last_reason, "not committed") != NULL, "%s", last_reason);
	ck_assert_ptr_eq(ctx.policy, before);

	send_policy(3, UINT32_MAX);
	ck_assert_int_eq(take(), 0);
	ck_assert_ptr_ne(ctx.policy, before);
	ck_assert_uint_eq(ctx.policy->n_rules, 1);
	ck_assert_uint_eq(ctx.policy->n_filters, 3);
}
END_TEST

/* 2,000 mirrored filters with port ranges take rte_acl several MiB: with a
 * bound of 1 MiB they are refused, and taken once it is lifted. */
START_TEST(test_classifier_bound_refuses)
{
	const struct dp_policy *before = ctx.policy;

	cfg.opts.policy_memory_mb = 1;
	send_policy(2000, UINT32_MAX);
	ck_assert_int_eq(take(), 1);
	ck_assert_msg(strstr(last_reason, "dataplane.policy_memory_mb") != NULL, "%s", last_reason);
	ck_assert_ptr_eq(ctx.policy, before);

	cfg.opts.policy_memory_mb = 0;
	send_policy(2000, UINT32_MAX);
	ck_assert_msg(take() == 0, "%s", last_reason);
	ck_assert_uint_eq(ctx.policy->n_filters, 2000);
}
END_TEST

/* Rule id's entry in the policy the workers use. */
static const struct dp_rule_rt *rule_rt(uint32_t id)
{
	for (uint32_t i = 0; i < ctx.policy->n_rules; i++)
		if (ctx.policy->rules[i].id == id)
			return &ctx.policy->rules[i];
	ck_abort_msg("rule %u not in the policy", id);
	return NULL;
}

static void send_rule_sa(uint32_t rule_id, uint32_t sa_out)
{
	struct dpsec_cmd_rule_sa c = { .rule_id = rule_id, .sa_out = sa_out };

	send_cmd(DPSEC_CMD_RULE_SA, &c, sizeof(c));
}

/* Rule 7 negotiates with SA 1, rule 8 blocks. */
static void send_negotiate_policy(void)
{
	struct dpsec_cmd_policy_begin b = { .default_action = DPSEC_ACTION_PERMIT, .n_rules = 2 };
	struct dpsec_cmd_rule r7 = { .rule_id = 7, .priority = 1, .sa_out = 1,
				     .action = DPSEC_ACTION_NEGOTIATE, .name = "seven" };
	struct dpsec_cmd_rule r8 = { .rule_id = 8, .priority = 2, .sa_out = DPSEC_SA_NONE,
				     .action = DPSEC_ACTION_BLOCK, .name = "eight" };

	send_cmd(DPSEC_CMD_POLICY_BEGIN, &b, sizeof(b));
	send_cmd(DPSEC_CMD_RULE_SET, &r7, sizeof(r7));
	send_cmd(DPSEC_CMD_RULE_SET, &r8, sizeof(r8));
	send_cmd(DPSEC_CMD_POLICY_COMMIT, NULL, 0);
}

START_TEST(test_rule_sa_changes_in_place)
{
	const struct dp_policy *before;
	uint64_t builds;
	struct dpsec_cmd_rule r9 = { .rule_id = 9, .priority = 3, .sa_out = DPSEC_SA_NONE,
				     .action = DPSEC_ACTION_PERMIT, .name = "nine" };

	send_negotiate_policy();
	ck_assert_msg(take() == 0, "%s", last_reason);
	before = ctx.policy;
	builds = ctx.mgr->builds;
	ck_assert_uint_eq(rule_rt(7)->sa_out, 1);

	send_rule_sa(7, 2);
	ck_assert_msg(take() == 0, "%s", last_reason);
	ck_assert_ptr_eq(ctx.policy, before);
	ck_assert_uint_eq(ctx.mgr->builds, builds);
	ck_assert_uint_eq(ctx.mgr->sa_changes, 1);
	ck_assert_uint_eq(rule_rt(7)->sa_out, 2);

	/* a later build, of a live edit, keeps it */
	send_cmd(DPSEC_CMD_RULE_SET, &r9, sizeof(r9));
	ck_assert_msg(take() == 0, "%s", last_reason);
	ck_assert_ptr_ne(ctx.policy, before);
	ck_assert_uint_eq(rule_rt(7)->sa_out, 2);

	send_rule_sa(7, DPSEC_SA_NONE); /* its packets wait for an SA */
	ck_assert_msg(take() == 0, "%s", last_reason);
	ck_assert_uint_eq(rule_rt(7)->sa_out, DP_SA_NONE);
}
END_TEST

START_TEST(test_rule_sa_refused)
{
	static const struct {
		uint32_t rule, sa;
		const char *reason;
	} bad[] = { { 99, 0, "no such rule" },
		    { 8, 0, "not a negotiate rule" },
		    { 7, 4, "dataplane.max_sas" } }; /* the table holds 4 */

	send_negotiate_policy();
	ck_assert_msg(take() == 0, "%s", last_reason);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		send_rule_sa(bad[i].rule, bad[i].sa);
		ck_assert_int_eq(take(), 1);
		ck_assert_msg(strstr(last_reason, bad[i].reason) != NULL, "%s", last_reason);
	}
	ck_assert_uint_eq(rule_rt(7)->sa_out, 1);
	ck_assert_uint_eq(rule_rt(8)->sa_out, DP_SA_NONE);
	ck_assert(!dp_policy_set_rule_sa(ctx.policy, 8, 0));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy_txn");
	TCase *tc = tcase_create("policy_txn");

	setup();
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_refused_command_aborts_the_transaction);
	tcase_add_test(tc, test_classifier_bound_refuses);
	tcase_add_test(tc, test_rule_sa_changes_in_place);
	tcase_add_test(tc, test_rule_sa_refused);
	suite_add_tcase(s, tc);
	return check_run(s);
}
