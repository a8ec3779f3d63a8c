/* test_cp_sync.c - dpsec-ctld bringing a real dataplane manager in line
 * with a store of many static tunnels (control/cp_sync.c against
 * dataplane/dp_cmd.c, through the real segment and rings): each rule must
 * carry the SA its store entry names and each inbound SA be bound to its
 * rule, first from a flushed dataplane, then after the store swaps two
 * rules' SAs; and dynamic rule changes (control/cp_edit.c): a rule
 * deleted leaves the others in their order, which breaks priority ties, a
 * rule added carries its pre-shared key, and the compiled store IKE's
 * lookups use follows each change; an SA id set free is used again, but
 * not before a sync (a rule in dpsecd may name it till then). The manager
 * runs on this thread (as dpsecd's manager lcore does), dpsec-ctld's side
 * on another. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cp.h"
#include "dp.h"
#include "dp_mgr.h"
#include "dp_policy.h"
#include "cp_test_ctld.h"
#include "dp_test_mgr.h"
#include "dp_test_worker.h"
#include "tunnel_store.h"
#include "check_run.h"

#define TUNNELS 150

static struct dp_ctx ctx;
static struct dp_worker worker;
static struct cfg_dataplane cfg;
static struct cp_ctx cp;
static char instance[32];
static pid_t parent;

static void teardown(void)
{
	if (getpid() == parent)
		dp_mgr_fini(&ctx); /* removes the segment */
}

static void setup(void)
{
	snprintf(instance, sizeof(instance), "test-sync-%d", (int)getpid());
	dp_test_mgr_ready_for_ctld(&ctx, &cfg, &worker, 2 * TUNNELS + 16, "tsync", instance);
	parent = getpid();
	atexit(teardown);
	cp_log_init(LOG_CRIT, false);
}

static void load_store(bool swapped)
{
	char *text = tunnel_store_static(TUNNELS, swapped);
	char err[CFG_ERR_MAX];

	cp_store_free(&cp);
	ck_assert_msg(cfg_store_load_string(text, "test store", &cp.store, err) == 0, "%s", err);
	free(text);
}

static struct cp_test_step step;

static struct cp_op change_op;

static void *dynamic_change(void *arg)
{
	step.rc = cp_change(&cp, &change_op, false, step.err, sizeof(step.err));
	step.done = true;
	return arg;
}

static void run_ctld(void *(*fn)(void *))
{
	cp_test_run_beside(&ctx, &step, fn, NULL);
}

/* dpsec-ctld's side gone, for the next test to start afresh. */
static void ctld_done(void)
{
	cp_seg_detach(&cp.seg);
	cp_store_free(&cp);
	free(cp.sa);
	free(cp.ops);
	memset(&cp, 0, sizeof(cp));
}

/* The SA id whose directory entry is named name, or DPSEC_SA_NONE. */
static uint32_t dir_id(const char *name)
{
	for (uint32_t id = 0; id < ctx.sas.capacity; id++)
		if (ctx.sas.sa[id] != NULL && strcmp(ctx.mgr->shm.sas[id].conf.name, name) == 0)
			return id;
	return DPSEC_SA_NONE;
}

/* Rule rK carries o(K') and i(K') is bound to it, K' = K but for the
 * first two when swapped; in the policy the workers use too. */
static void check_bindings(bool swapped)
{
	const struct dp_ruleset *rs = &ctx.mgr->live;
	uint32_t seen = 0;

	for (uint32_t i = 0; i < rs->n; i++) {
		int k = atoi(rs->rules[i].r.name + 1), sa = swapped && k < 2 ? 1 - k : k;
		char out[16], in[16];

		snprintf(out, sizeof(out), "o%d", sa);
		snprintf(in, sizeof(in), "i%d", sa);
		ck_assert_msg(rs->rules[i].sa_out == dir_id(out), "rule %s carries SA %u, not %s",
			      rs->rules[i].r.name, rs->rules[i].sa_out, out);
		ck_assert_uint_eq(ctx.policy->rules[i].id, rs->rules[i].r.id);
		ck_assert_uint_eq(ctx.policy->rules[i].sa_out, rs->rules[i].sa_out);
		ck_assert_uint_ne(dir_id(in), DPSEC_SA_NONE);
		ck_assert_msg(ctx.sas.sa[dir_id(in)]->rule_id == rs->rules[i].r.id,
			      "%s bound to rule %u, not to %s's", in, ctx.sas.sa[dir_id(in)]->rule_id,
			      rs->rules[i].r.name);
		seen++;
	}
	ck_assert_uint_eq(seen, TUNNELS);
}

START_TEST(test_rules_carry_their_sas)
{
	cp_test_attach(&cp, instance);
	load_store(false);
	cp_test_call(&ctx, &cp, &step, cp_sync_full);
	ck_assert_uint_eq(ctx.sas.count, 2 * TUNNELS);
	check_bindings(false);

	load_store(true); /* r0 and r1 exchange their SAs: the policy is sent again */
	cp_test_call(&ctx, &cp, &step, cp_apply);
	ck_assert_uint_eq(ctx.sas.count, 2 * TUNNELS);
	check_bindings(true);
	ctld_done();
}
END_TEST

/* The running policy's rules, by name, in the order the dataplane breaks
 * their (equal) priorities: its live rule set's. */
static void check_rule_order(const char *const *names, uint32_t n)
{
	const struct cfg_policy *p = cfg_store_policy(&cp.store, "site");
	const struct dp_ruleset *rs = &ctx.mgr->live;

	ck_assert_uint_eq(p->n_rules, n);
	ck_assert_uint_eq(rs->n, n);
	for (uint32_t i = 0; i < n; i++) {
		ck_assert_str_eq(p->rules[i].name, names[i]);
		ck_assert_str_eq(rs->rules[i].r.name, names[i]);
	}
}

static int extra_ids[64], n_extra, before_sync;

/* Negotiated SAs (copies of o0) until the table is full, then one in the
 * middle deleted and one added: refused (the freed id waits for a sync,
 * as a rule in dpsecd may still name it); after a sync one added takes
 * the id set free. */
static void *fill_and_reuse(void *arg)
{
	struct dpsec_sa_conf conf = cfg_store_sa(&cp.store, "o0")->conf;
	struct dpsec_lifetime life = { 0 };
	int id;

	n_extra = 0;
	do {
		conf.spi = 0x900000 + (uint32_t)n_extra;
		snprintf(conf.name, sizeof(conf.name), "extra-%d", n_extra);
		id = cp_sa_add_negotiated(&cp, &conf, &life, 0);
		if (id >= 0)
			extra_ids[n_extra++] = id;
	} while (id >= 0 && n_extra < 64);
	step.rc = cp_cmd_wait(&cp, 10000, step.err, sizeof(step.err));
	if (step.rc == 0 && cp_sa_del_negotiated(&cp, (uint32_t)extra_ids[n_extra / 2]) < 0)
		step.rc = -1;
	conf.spi = 0x9fffff;
	snprintf(conf.name, sizeof(conf.name), "extra-again");
	before_sync = cp_sa_add_negotiated(&cp, &conf, &life, 0);
	if (step.rc == 0)
		step.rc = cp_apply(&cp, step.err, sizeof(step.err));
	if (step.rc == 0)
		extra_ids[n_extra] = cp_sa_add_negotiated(&cp, &conf, &life, 0);
	if (step.rc == 0)
		step.rc = cp_cmd_wait(&cp, 10000, step.err, sizeof(step.err));
	step.done = true;
	return arg;
}

START_TEST(test_sa_ids_reused)
{
	uint32_t before;

	cp_test_attach(&cp, instance);
	load_store(false);
	cp_test_call(&ctx, &cp, &step, cp_sync_full);
	before = ctx.sas.count;
	run_ctld(fill_and_reuse);
	ck_assert_uint_eq(2 * TUNNELS + n_extra, ctx.sas.capacity); /* full before the delete */
	ck_assert_int_eq(before_sync, -ENOSPC);
	ck_assert_int_eq(extra_ids[n_extra], extra_ids[n_extra / 2]);
	ck_assert_uint_eq(ctx.sas.count, before + n_extra);
	ctld_done();
}
END_TEST

/* The id of dpsecd's live rule named name; DPSEC_SA_NONE when none. */
static uint32_t live_rule_id(const char *name)
{
	for (uint32_t i = 0; i < ctx.mgr->live.n; i++)
		if (strcmp(ctx.mgr->live.rules[i].r.name, name) == 0)
			return ctx.mgr->live.rules[i].r.id;
	return DPSEC_SA_NONE;
}

START_TEST(test_dynamic_rule_changes)
{
	char path[] = "/tmp/dpsec-cp-sync-XXXXXX", *text = tunnel_store_static(TUNNELS, false);
	const char *order[TUNNELS + 1];
	const struct cfg_store_rule *added;
	char name[DPSEC_NAME_MAX];
	int fd = mkstemp(path);
	uint32_t r0;

	ck_assert_int_ge(fd, 0);
	ck_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	free(text);
	cp.o.store_path = path;
	cp_test_attach(&cp, instance);
	load_store(false);
	cp_test_call(&ctx, &cp, &step, cp_sync_full);
	r0 = live_rule_id("r0");
	ck_assert_ptr_nonnull(cp_rule_action(&cp, r0, name)); /* the compiled store kept */
	ck_assert_str_eq(name, "r0");

	change_op = (struct cp_op){ .kind = CP_OP_RULE_DEL, .target = "site", .rule.name = "r0" };
	run_ctld(dynamic_change);
	ck_assert_ptr_null(cp_rule_action(&cp, r0, name)); /* and dropped with the old store */
	for (int k = 1; k < TUNNELS; k++) {
		order[k - 1] = malloc(16);
		snprintf((char *)order[k - 1], 16, "r%d", k);
	}
	check_rule_order(order, TUNNELS - 1);

	change_op = (struct cp_op){ .kind = CP_OP_RULE_ADD, .target = "site", .rule.name = "late",
				    .rule.filter_list = "l0", .rule.filter_action = "secure",
				    .rule.enabled = true, .rule.n_auth = 1, .psk_len = 12, .psk = "late-secret!" };
	run_ctld(dynamic_change);
	order[TUNNELS - 1] = "late";
	check_rule_order(order, TUNNELS);
	ck_assert_ptr_nonnull(cp_rule_action(&cp, live_rule_id("late"), name));
	ck_assert_str_eq(name, "late");
	added = &cfg_store_policy(&cp.store, "site")->rules[TUNNELS - 1];
	ck_assert_uint_eq(added->n_auth, 1);
	ck_assert_uint_eq(added->auth[0].kind, CFG_AUTH_PSK);
	ck_assert_mem_eq(added->auth[0].psk, "late-secret!", 12);
	ck_assert_uint_eq(added->auth[0].psk_len, 12);

	for (int k = 0; k < TUNNELS - 1; k++)
		free((char *)order[k]);
	ctld_done();
	unlink(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cp_sync");
	TCase *tc = tcase_create("cp_sync");

	setup();
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_rules_carry_their_sas);
	tcase_add_test(tc, test_dynamic_rule_changes);
	tcase_add_test(tc, test_sa_ids_reused);
	suite_add_tcase(s, tc);
	return check_run(s);
}
