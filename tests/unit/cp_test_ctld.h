/* cp_test_ctld.h - dpsec-ctld's side on a thread of its own while the
 * test's thread is a real dataplane manager (as dpsecd's manager lcore
 * is), for the unit tests that drive control/ against dataplane/dp_cmd.c
 * through the real segment and rings. */
#ifndef CP_TEST_CTLD_H
#define CP_TEST_CTLD_H

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>

#include "cp.h"
#include "dp_mgr.h"

/* What a step on dpsec-ctld's side said: rc and err, done when over. */
struct cp_test_step {
	volatile bool done;
	int rc;
	char err[CP_ERR_MAX];
};

/* cp attached to the manager's segment, counting answers from where its
 * command ring stands (as dpsec-ctld does on attaching). */
static inline void cp_test_attach(struct cp_ctx *cp, const char *instance)
{
	char err[256];

	ck_assert_msg(cp_seg_attach(&cp->seg, instance, err, sizeof(err)) == 0, "%s", err);
	cp->attached = true;
	cp->ack_base = cp->acked = cp->want_seq = cp->wait_from = atomic_load(&cp->seg.cmd->head);
}

/* fn(arg) run on a thread of its own (it sets step->rc, step->err and
 * then step->done) while this thread runs ctx's manager; fails the test
 * when fn's rc is not 0. */
static inline void cp_test_run_beside(struct dp_ctx *ctx, struct cp_test_step *step,
				      void *(*fn)(void *), void *arg)
{
	pthread_t t;

	step->done = false;
	step->rc = 0;
	step->err[0] = '\0';
	ck_assert_int_eq(pthread_create(&t, NULL, fn, arg), 0);
	while (!step->done)
		dp_cmd_poll(ctx);
	pthread_join(t, NULL);
	ck_assert_msg(step->rc == 0, "%s", step->err);
}

/* One of dpsec-ctld's calls that bring the dataplane in line
 * (cp_sync_full, cp_apply), with the step it tells. */
struct cp_test_call {
	struct cp_ctx *cp;
	struct cp_test_step *step;
	int (*fn)(struct cp_ctx *c, char *err, size_t errlen);
};

static inline void *cp_test_call_run(void *arg)
{
	struct cp_test_call *k = arg;

	k->step->rc = k->fn(k->cp, k->step->err, sizeof(k->step->err));
	k->step->done = true;
	return NULL;
}

/* fn(cp) on a thread of its own while this one runs ctx's manager. */
static inline void cp_test_call(struct dp_ctx *ctx, struct cp_ctx *cp, struct cp_test_step *step,
				int (*fn)(struct cp_ctx *c, char *err, size_t errlen))
{
	struct cp_test_call k = { .cp = cp, .step = step, .fn = fn };

	cp_test_run_beside(ctx, step, cp_test_call_run, &k);
}

#endif
