/* dp_cmd.c - the command ring, consumed on the manager lcore: every command
 * checked (version, sequence, length, fields), applied, and acknowledged on
 * the event ring. Policy edits outside a transaction are applied to the
 * manager's rule set and acknowledged only after the one rebuild that
 * follows the whole batch, so "applied" means the workers use it. A command
 * is taken only when the event ring has room for its answer: a full event
 * ring holds commands back, it never loses an answer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "dp.h"
#include "dp_mgr.h"
#include "dp_policy.h"
#include "dp_rcu.h"
#include "dpsec_ring.h"
#include "tunnel_pmtu.h"

#define CMD_BATCH 256
#define ERR_LEN DPSEC_REASON_MAX

bool dp_ev_push(struct dp_ctx *dp, uint16_t type, const void *body, uint32_t len)
{
	return dpsec_ring_push(dp->mgr->shm.ev, type, body, len) >= 0;
}

static void ack(struct dp_ctx *dp, uint64_t seq, uint16_t type, int status, const char *reason)
{
	struct dpsec_ev_ack a = { .cmd_seq = seq, .cmd_type = type, .status = status };

	if (reason != NULL)
		snprintf(a.reason, sizeof(a.reason), "%s", reason);
	dp_ev_push(dp, DPSEC_EV_ACK, &a, sizeof(a)); /* cannot fail: dp_cmd_poll() reserved room */
}

/* ---- policy ---------------------------------------------------------- */

static struct dp_policy *build(struct dp_ctx *dp, const struct dp_ruleset *rs, char *err)
{
	struct dpsec_rule *rules = calloc(rs->n + 1, sizeof(*rules));
	uint32_t *sa_out = calloc(rs->n + 1, sizeof(*sa_out));
	struct dp_policy *p = NULL;
	char name[DP_SPD_NAME_MAX + 1];

	if (rules == NULL || sa_out == NULL) {
		snprintf(err, ERR_LEN, "policy: out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < rs->n; i++) {
		rules[i] = rs->rules[i].r;
		sa_out[i] = rs->rules[i].sa_out;
	}
	snprintf(name, sizeof(name), "dpsec_spd%" PRIu64, ++dp->mgr->builds);
	p = dp_policy_build_rules(rules, sa_out, rs->n, rs->default_action, name,
				  dp_policy_max_bytes(dp->cfg), err, ERR_LEN);
out:
	free(rules);
	free(sa_out);
	return p;
}

static void publish_policy(struct dp_ctx *dp, struct dp_policy *p, uint64_t seq)
{
	struct dp_policy *old = dp->policy;

	__atomic_store_n(&dp->policy, p, __ATOMIC_RELEASE);
	dp->mgr->commit_seq = seq;
	if (old != NULL)
		dp_rcu_defer_policy(dp, old);
}

/* Builds the live rule set after a batch of edits and answers them all. */
static void flush_deferred(struct dp_ctx *dp)
{
	struct dp_mgr *m = dp->mgr;
	char err[ERR_LEN] = "";
	struct dp_policy *p = NULL;
	int status = 0;

	if (m->dirty) {
		p = build(dp, &m->live, err);
		if (p == NULL) { /* out of memory or the ACL refused: back to the last good set */
			status = ENOMEM;
			dp_ruleset_free(&m->live);
			m->live = m->backup;
			m->have_backup = false;
		}
	}
	if (p != NULL)
		publish_policy(dp, p, m->deferred[m->n_deferred - 1].seq);
	for (uint32_t i = 0; i < m->n_deferred; i++)
		ack(dp, m->deferred[i].seq, m->deferred[i].type, status, status ? err : NULL);
	if (m->have_backup)
		dp_ruleset_free(&m->backup);
	m->have_backup = m->dirty = false;
	m->n_deferred = 0;
}

static int live_edit_begin(struct dp_ctx *dp, char *err)
{
	struct dp_mgr *m = dp->mgr;

	if (m->have_backup)
		return 0;
	if (dp_ruleset_copy(&m->backup, &m->live) < 0) {
		snprintf(err, ERR_LEN, "policy: out of memory");
		return -ENOMEM;
	}
	m->have_backup = true;
	return 0;
}

static void rule_from_cmd(struct dpsec_rule *r, const struct dpsec_cmd_rule *c)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->name, c->name, sizeof(r->name));
	r->id = c->rule_id;
	r->priority = c->priority;
	r->action = c->action;
	r->flags = c->flags;
	r->tunnel = c->tunnel != 0;
	r->tunnel_endpoint = c->tunnel_endpoint;
	r->sa_out = r->sa_in = -1;
}

/* One policy edit on the rule set it belongs to. */
static int policy_edit(struct dp_ruleset *rs, const struct dpsec_msg *msg, char *err)
{
	const struct dpsec_cmd_filter *f = (const void *)msg->body;
	struct dpsec_rule r;

	switch (msg->h.type) {
	case DPSEC_CMD_RULE_SET: {
		const struct dpsec_cmd_rule *c = (const void *)msg->body;

		rule_from_cmd(&r, c);
		return dp_ruleset_set_rule(rs, &r, c->sa_out, err, ERR_LEN);
	}
	case DPSEC_CMD_RULE_DEL:
		return dp_ruleset_del_rule(rs, ((const struct dpsec_cmd_rule_del *)(const void *)msg->body)->rule_id,
					   err, ERR_LEN);
	case DPSEC_CMD_FILTER_ADD:
		return dp_ruleset_add_filter(rs, f->rule_id, f->filter_id, &f->filter, err, ERR_LEN);
	default:
		return dp_ruleset_del_filter(rs, f->rule_id, f->filter_id, err, ERR_LEN);
	}
}

/* Returns true when the answer waits for the rebuild. */
static bool cmd_policy_edit(struct dp_ctx *dp, const struct dpsec_msg *msg)
{
	struct dp_mgr *m = dp->mgr;
	char err[ERR_LEN];
	int rc;

	if (m->staging) {
		rc = policy_edit(&m->staged, msg, err);
		m->staged_refused |= rc != 0;
		ack(dp, msg->h.seq, msg->h.type, -rc, rc ? err : NULL);
		return false;
	}
	if ((rc = live_edit_begin(dp, err)) == 0)
		rc = policy_edit(&m->live, msg, err);
	if (rc != 0) {
		ack(dp, msg->h.seq, msg->h.type, -rc, err);
		return false;
	}
	m->dirty = true;
	m->deferred[m->n_deferred].seq = msg->h.seq;
	m->deferred[m->n_deferred++].type = msg->h.type;
	return true;
}

static void cmd_policy_begin(struct dp_ctx *dp, const struct dpsec_msg *msg)
{
	const struct dpsec_cmd_policy_begin *c = (const void *)msg->body;
	struct dp_mgr *m = dp->mgr;

	if (c->default_action > DPSEC_ACTION_NEGOTIATE) {
		ack(dp, msg->h.seq, msg->h.type, EINVAL, "policy: default action unknown");
		return;
	}
	dp_ruleset_free(&m->staged); /* an unfinished transaction is discarded */
	dp_ruleset_init(&m->staged, c->default_action);
	m->staging = true;
	m->staged_refused = false;
	ack(dp, msg->h.seq, msg->h.type, 0, NULL);
}

static void cmd_policy_commit(struct dp_ctx *dp, const struct dpsec_msg *msg)
{
	struct dp_mgr *m = dp->mgr;
	struct dp_policy *p;
	char err[ERR_LEN];

	if (!m->staging) {
		ack(dp, msg->h.seq, msg->h.type, EINVAL, "policy: COMMIT without BEGIN");
		return;
	}
	m->staging = false;
	/* a transaction is taken whole or not at all: the policy stays as it was */
	p = m->staged_refused ? NULL : build(dp, &m->staged, err);
	if (m->staged_refused)
		snprintf(err, sizeof(err), "policy: not committed: a command of the transaction was refused");
	if (p == NULL) {
		dp_ruleset_free(&m->staged);
		ack(dp, msg->h.seq, msg->h.type, EINVAL, err);
		return;
	}
	publish_policy(dp, p, msg->h.seq);
	dp_ruleset_free(&m->live);
	m->live = m->staged;
	dp_ruleset_init(&m->staged, m->live.default_action);
	ack(dp, msg->h.seq, msg->h.type, 0, NULL);
}

/* A negotiate rule's outbound SA changed in the live rule set and in the
 * policy the workers use, in place: a rekey costs no classifier build,
 * which takes seconds for tens of thousands of filters. */
static void cmd_rule_sa(struct dp_ctx *dp, const struct dpsec_msg *msg)
{
	const struct dpsec_cmd_rule_sa *c = (const void *)msg->body;
	char err[ERR_LEN];
	int rc;

	if (c->sa_out != DPSEC_SA_NONE && c->sa_out >= dp->sas.capacity) {
		snprintf(err, sizeof(err), "rule %u: SA id %u: the dataplane holds %u SAs "
			 "(dataplane.max_sas)", c->rule_id, c->sa_out, dp->sas.capacity);
		rc = -ERANGE;
	} else if ((rc = dp_ruleset_set_sa(&dp->mgr->live, c->rule_id, c->sa_out, err,
					   sizeof(err))) == 0) {
		dp_policy_set_rule_sa(dp->policy, c->rule_id, c->sa_out); /* built from live */
		dp->mgr->sa_changes++;
	}
	ack(dp, msg->h.seq, msg->h.type, -rc, rc ? err : NULL);
}

/* ---- SAs ------------------------------------------------------------- */

static void sa_forget(struct dp_ctx *dp, uint32_t idx)
{
	struct dp_sa *sa = dp_sa_unpublish(&dp->sas, idx);
	struct dpsec_shm_sa e = { .sa_id = idx, .state = DPSEC_SA_FREE };

	if (sa == NULL)
		return;
	dp_pmtu_sa_removed(dp, idx, &dp->mgr->shm.sas[idx].conf);
	dp_rcu_defer_sa(dp, sa);
	dp->key_deletions++;
	dp_shm_sa_write(&dp->mgr->shm, idx, &e);
}

static void cmd_sa_add(struct dp_ctx *dp, const struct dpsec_msg *msg)
{
	struct dpsec_cmd_sa_add c;
	char err[ERR_LEN];
	int rc;

	memcpy(&c, msg->body, sizeof(c));
	if (c.sa_id >= dp->sas.capacity) {
		snprintf(err, sizeof(err), "SA id %u: the dataplane holds %u SAs (dataplane.max_sas)",
			 c.sa_id, dp->sas.capacity);
		rc = -ERANGE;
	} else if (dp->sas.sa[c.sa_id] != NULL) {
		snprintf(err, sizeof(err), "SA id %u in use", c.sa_id);
		rc = -EEXIST;
	} else if ((rc = dp_sa_conf_check(&c.conf, err, sizeof(err))) == 0 &&
		   (rc = dp_sa_install(&dp->sas, dp->mgr->crypto, c.sa_id, &c.conf, c.rule_id, &c.life,
				       err, sizeof(err))) == 0) {
		dp->key_additions++;
		dp_mgr_sa_installed(dp, c.sa_id, &c.conf);
	}
	explicit_bzero(&c, sizeof(c));
	ack(dp, msg->h.seq, msg->h.type, -rc, rc ? err : NULL);
}

static void cmd_sa_update(struct dp_ctx *dp, const struct dpsec_msg *msg)
{
	const struct dpsec_cmd_sa_update *c = (const void *)msg->body;
	struct dp_sa *sa = c->sa_id < dp->sas.capacity ? dp->sas.sa[c->sa_id] : NULL;

	if (sa == NULL) {
		ack(dp, msg->h.seq, msg->h.type, ENOENT, "SA update: no SA with that id");
		return;
	}
	sa->life = c->life;
	if (c->rule_id != 0)
		__atomic_store_n(&sa->rule_id, c->rule_id, __ATOMIC_RELAXED); /* read by workers */
	dp->mgr->sa[c->sa_id].reported &= (uint8_t)(1u << DPSEC_EXPIRE_HARD); /* re-armed */
	dp_life_publish_sa(dp, c->sa_id);
	ack(dp, msg->h.seq, msg->h.type, 0, NULL);
}

static void cmd_sa_del(struct dp_ctx *dp, const struct dpsec_msg *msg)
{
	const struct dpsec_cmd_sa_del *c = (const void *)msg->body;

	if (c->sa_id >= dp->sas.capacity || dp->sas.sa[c->sa_id] == NULL) {
		ack(dp, msg->h.seq, msg->h.type, ENOENT, "SA delete: no SA with that id");
		return;
	}
	sa_forget(dp, c->sa_id);
	ack(dp, msg->h.seq, msg->h.type, 0, NULL);
}

/* The SA to its peer's new address and port (RFC 7296 §2.23): checked
 * against its description; outbound, the copy with the new outer header
 * published, the old one freed after a grace period; inbound, the address
 * and port its peer sends from changed in place. */
static void cmd_sa_move(struct dp_ctx *dp, const struct dpsec_msg *msg)
{
	const struct dpsec_cmd_sa_move *c = (const void *)msg->body;
	struct dpsec_sa_conf from, to;
	struct dp_sa *old;
	char err[ERR_LEN];

	if (c->sa_id >= dp->sas.capacity || dp->sas.sa[c->sa_id] == NULL) {
		ack(dp, msg->h.seq, msg->h.type, ENOENT, "SA move: no SA with that id");
		return;
	}
	from = dp->mgr->shm.sas[c->sa_id].conf; /* its description, without keys */
	to = from;
	to.remote = c->remote;
	if (dp_sa_move_check(&from, c, err, sizeof(err)) < 0) {
		ack(dp, msg->h.seq, msg->h.type, EINVAL, err);
		return;
	}
	if (from.direction == DPSEC_DIR_IN) {
		to.udp_sport = c->udp_port;
		dp_sa_move_in(dp->sas.sa[c->sa_id], &c->remote, c->udp_port);
	} else {
		to.udp_dport = c->udp_port;
		old = dp_sa_move_out(&dp->sas, c->sa_id, &from, &to, err, sizeof(err));
		if (old == NULL) {
			ack(dp, msg->h.seq, msg->h.type, ENOMEM, err);
			return;
		}
		dp_rcu_defer_sa(dp, old);
	}
	dp_mgr_sa_moved(dp, c->sa_id, &from, &to);
	ack(dp, msg->h.seq, msg->h.type, 0, NULL);
}

static void cmd_flush(struct dp_ctx *dp, const struct dpsec_msg *msg)
{
	const struct dpsec_cmd_flush *c = (const void *)msg->body;
	struct dp_mgr *m = dp->mgr;
	struct dp_policy *p;
	char err[ERR_LEN];

	if (c->default_action > DPSEC_ACTION_NEGOTIATE) {
		ack(dp, msg->h.seq, msg->h.type, EINVAL, "flush: default action unknown");
		return;
	}
	dp_ruleset_clear(&m->live, c->default_action);
	p = build(dp, &m->live, err);
	if (p == NULL) {
		ack(dp, msg->h.seq, msg->h.type, ENOMEM, err);
		return;
	}
	publish_policy(dp, p, msg->h.seq);
	for (uint32_t i = 0; i < dp->sas.capacity; i++)
		sa_forget(dp, i);
	dp_acq_flush(dp);
	m->staging = false;
	dp->managed = true;
	atomic_store(&m->shm.hdr->managed, 1);
	ack(dp, msg->h.seq, msg->h.type, 0, NULL);
}

static void cmd_acquire_done(struct dp_ctx *dp, const struct dpsec_msg *msg)
{
	char err[ERR_LEN];
	int rc = dp_acq_done(dp, (const void *)msg->body, err, sizeof(err));

	ack(dp, msg->h.seq, msg->h.type, -rc, rc ? err : NULL);
}

/* ---- the loop -------------------------------------------------------- */

static uint32_t body_len(uint16_t type)
{
	switch (type) {
	case DPSEC_CMD_SA_ADD: return sizeof(struct dpsec_cmd_sa_add);
	case DPSEC_CMD_SA_UPDATE: return sizeof(struct dpsec_cmd_sa_update);
	case DPSEC_CMD_SA_DEL: return sizeof(struct dpsec_cmd_sa_del);
	case DPSEC_CMD_POLICY_BEGIN: return sizeof(struct dpsec_cmd_policy_begin);
	case DPSEC_CMD_RULE_SET: return sizeof(struct dpsec_cmd_rule);
	case DPSEC_CMD_RULE_DEL: return sizeof(struct dpsec_cmd_rule_del);
	case DPSEC_CMD_FILTER_ADD:
	case DPSEC_CMD_FILTER_DEL: return sizeof(struct dpsec_cmd_filter);
	case DPSEC_CMD_POLICY_COMMIT: return 0;
	case DPSEC_CMD_FLUSH: return sizeof(struct dpsec_cmd_flush);
	case DPSEC_CMD_ACQUIRE_DONE: return sizeof(struct dpsec_cmd_acquire_done);
	case DPSEC_CMD_SA_MOVE: return sizeof(struct dpsec_cmd_sa_move);
	case DPSEC_CMD_RULE_SA: return sizeof(struct dpsec_cmd_rule_sa);
	default: return UINT32_MAX;
	}
}

static bool is_policy_edit(uint16_t type)
{
	return type == DPSEC_CMD_RULE_SET || type == DPSEC_CMD_RULE_DEL ||
	       type == DPSEC_CMD_FILTER_ADD || type == DPSEC_CMD_FILTER_DEL;
}

/* The SAs installed so far get their first sequence numbers (one sync
 * of the sequence file for all of them); a failure is said once a
 * minute at most and tried again at the next call. */
static void commit_grants(struct dp_ctx *dp)
{
	static uint64_t next_log;
	char err[ERR_LEN];

	if (dp_sa_grants_commit(&dp->sas, err, sizeof(err)) < 0 &&
	    dp_log_due(&next_log, rte_get_tsc_cycles(), rte_get_tsc_hz()))
		fprintf(stderr, "dpsecd: %s; the SAs installed meanwhile wait (drop_seq_unsaved)\n", err);
}

/* Applies one well-formed command; returns true when its answer waits. */
static bool apply(struct dp_ctx *dp, const struct dpsec_msg *msg)
{
	if (msg->h.type != DPSEC_CMD_SA_ADD)
		commit_grants(dp); /* before anything could make them carry packets */
	if (is_policy_edit(msg->h.type))
		return cmd_policy_edit(dp, msg);
	if (dp->mgr->n_deferred > 0)
		flush_deferred(dp); /* keep the order the control plane sent */
	switch (msg->h.type) {
	case DPSEC_CMD_SA_ADD: cmd_sa_add(dp, msg); break;
	case DPSEC_CMD_SA_UPDATE: cmd_sa_update(dp, msg); break;
	case DPSEC_CMD_SA_DEL: cmd_sa_del(dp, msg); break;
	case DPSEC_CMD_POLICY_BEGIN: cmd_policy_begin(dp, msg); break;
	case DPSEC_CMD_POLICY_COMMIT: cmd_policy_commit(dp, msg); break;
	case DPSEC_CMD_FLUSH: cmd_flush(dp, msg); break;
	case DPSEC_CMD_SA_MOVE: cmd_sa_move(dp, msg); break;
	case DPSEC_CMD_RULE_SA: cmd_rule_sa(dp, msg); break;
	default: cmd_acquire_done(dp, msg); break;
	}
	return false;
}

static void take_one(struct dp_ctx *dp, struct dpsec_msg *msg, uint64_t seq)
{
	uint32_t want = body_len(msg->h.type);
	const char *problem;

	if (want == UINT32_MAX) {
		ack(dp, seq, msg->h.type, EINVAL, "unknown command type");
		return;
	}
	problem = dpsec_msg_check(msg, seq, want);
	if (problem != NULL) {
		ack(dp, seq, msg->h.type, EPROTO, problem);
		return;
	}
	apply(dp, msg);
}

void dp_cmd_poll(struct dp_ctx *dp)
{
	struct dp_mgr *m = dp->mgr;
	struct dpsec_ring *cmd = m->shm.cmd;

	for (int i = 0; i < CMD_BATCH; i++) {
		struct dpsec_msg *msg;
		uint64_t seq = atomic_load_explicit(&cmd->tail, memory_order_relaxed);

		/* room for every answer still owed, this one's, and an event */
		if (dpsec_ring_free(m->shm.ev) < m->n_deferred + 2)
			break;
		if ((msg = dpsec_ring_peek(cmd)) == NULL)
			break;
		take_one(dp, msg, seq);
		dpsec_ring_release(cmd); /* wipes the slot: an SA_ADD carried keys */
	}
	commit_grants(dp);
	if (m->n_deferred > 0)
		flush_deferred(dp);
}
