/* fuzz_commands.c - libFuzzer target for dpsecd's command decoder: the
 * bytes become messages written straight into the real command ring of a
 * real segment (headers included, so versions, lengths and sequence numbers
 * may be wrong), and the manager's dp_cmd_poll() takes them as it does in
 * dpsecd: SA adds with arbitrary parameters, rules, filters, transactions,
 * flushes, acquire answers, SA moves. Every command must be answered exactly once,
 * with its own sequence number, and nothing may crash or leak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_malloc.h>

#include "dp.h"
#include "fuzz_eal.h"
#include "dp_mgr.h"
#include "dp_policy.h"
#include "dp_rcu.h"
#include "dpsec_ring.h"
#include "ofl_engine.h"

static struct dp_ctx ctx;
static struct cfg_dataplane cfg;

static void teardown(void)
{
	dp_mgr_fini(&ctx); /* removes the segment */
}

static void setup(void)
{
	char err[256], instance[32];

	cfg.default_action = DPSEC_ACTION_PERMIT;
	ctx.cfg = &cfg;
	ctx.n_workers = 1;
	dp_g = &ctx;
	ctx.workers[0].crypto = ofl_cpu_create(SOCKET_ID_ANY);
	ctx.workers[0].ctr = rte_zmalloc(NULL, sizeof(*ctx.workers[0].ctr), 64);
	ctx.workers[0].sa_ctr = rte_zmalloc(NULL, sizeof(*ctx.workers[0].sa_ctr) * 64, 64);
	if (ctx.workers[0].crypto == NULL || ctx.workers[0].ctr == NULL ||
	    ctx.workers[0].sa_ctr == NULL || dp_sa_table_init(&ctx.sas, 64, SOCKET_ID_ANY) < 0)
		abort();
	ctx.policy = dp_policy_build(&cfg, "fzc", err, sizeof(err));
	snprintf(instance, sizeof(instance), "fuzzcmd%d", getpid());
	if (ctx.policy == NULL || dp_rcu_init(&ctx, 1024) < 0 ||
	    dp_mgr_init(&ctx, instance, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_commands: %s\n", err);
		abort();
	}
	atexit(teardown);
}

/* One message from the input: a type selector, flag bits deciding which
 * header fields are made wrong, a body length, the body. Returns the bytes
 * used, 0 when the input is exhausted. */
static size_t write_msg(struct dpsec_ring *r, const uint8_t *d, size_t n)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	struct dpsec_msg *m = &r->msg[head & (DPSEC_RING_SLOTS - 1)];
	size_t len;

	if (n < 4)
		return 0;
	len = d[2] | (size_t)(d[3] & 1) << 8;
	if (len > n - 4)
		len = n - 4;
	memset(m, 0, sizeof(*m));
	m->h.type = (d[1] & 0x80) ? d[0] : (uint16_t)(1 + d[0] % (DPSEC_CMD_MAX - 1));
	m->h.version = (d[1] & 0x40) ? d[1] : DPSEC_MSG_VERSION;
	m->h.seq = (d[1] & 0x20) ? head + d[1] : head;
	memcpy(m->body, d + 4, len);
	m->h.len = (d[1] & 0x10) ? (uint32_t)len : 0;
	if (!(d[1] & 0x10)) { /* mostly: the length the type wants */
		static const uint32_t want[DPSEC_CMD_MAX] = {
			[DPSEC_CMD_SA_ADD] = sizeof(struct dpsec_cmd_sa_add),
			[DPSEC_CMD_SA_UPDATE] = sizeof(struct dpsec_cmd_sa_update),
			[DPSEC_CMD_SA_DEL] = sizeof(struct dpsec_cmd_sa_del),
			[DPSEC_CMD_POLICY_BEGIN] = sizeof(struct dpsec_cmd_policy_begin),
			[DPSEC_CMD_RULE_SET] = sizeof(struct dpsec_cmd_rule),
			[DPSEC_CMD_RULE_DEL] = sizeof(struct dpsec_cmd_rule_del),
			[DPSEC_CMD_FILTER_ADD] = sizeof(struct dpsec_cmd_filter),
			[DPSEC_CMD_FILTER_DEL] = sizeof(struct dpsec_cmd_filter),
			[DPSEC_CMD_FLUSH] = sizeof(struct dpsec_cmd_flush),
			[DPSEC_CMD_ACQUIRE_DONE] = sizeof(struct dpsec_cmd_acquire_done),
			[DPSEC_CMD_SA_MOVE] = sizeof(struct dpsec_cmd_sa_move),
			[DPSEC_CMD_RULE_SA] = sizeof(struct dpsec_cmd_rule_sa),
		};
		m->h.len = m->h.type < DPSEC_CMD_MAX ? want[m->h.type] : (uint32_t)len;
	}
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return 4 + len;
}

/* Every answer names a command sent, once, in the order dpsecd took them
 * (deferred policy edits come after the commands that followed them in the
 * same batch, but never twice and never unknown). */
static void drain_acks(struct dpsec_ring *ev, uint64_t first, uint64_t end, uint8_t *seen)
{
	struct dpsec_msg *m;

	while ((m = dpsec_ring_peek(ev)) != NULL) {
		if (m->h.type == DPSEC_EV_ACK) {
			const struct dpsec_ev_ack *a = (const void *)m->body;

			if (a->cmd_seq < first || a->cmd_seq >= end || seen[a->cmd_seq - first]++)
				abort();
		}
		dpsec_ring_release(ev);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_mgr *mg = ctx.mgr;
	static uint8_t seen[4096];
	uint64_t first = atomic_load(&mg->shm.cmd->head);
	struct dpsec_cmd_flush fl = { .default_action = DPSEC_ACTION_PERMIT };
	size_t used, n = 0;

	memset(seen, 0, sizeof(seen));
	while (n < 4000 && (used = write_msg(mg->shm.cmd, data, size)) > 0) {
		data += used;
		size -= used;
		n++;
		if (dpsec_ring_free(mg->shm.cmd) < 8) {
			dp_cmd_poll(&ctx);
			drain_acks(mg->shm.ev, first, first + n, seen);
		}
	}
	dpsec_ring_push(mg->shm.cmd, DPSEC_CMD_FLUSH, &fl, sizeof(fl)); /* a clean slate next time */
	n++;
	while (dpsec_ring_count(mg->shm.cmd) > 0) {
		dp_cmd_poll(&ctx);
		drain_acks(mg->shm.ev, first, first + n, seen);
	}
	for (size_t i = 0; i < n; i++)
		if (seen[i] != 1)
			abort();
	dp_rcu_reclaim(&ctx);
	return 0;
}
