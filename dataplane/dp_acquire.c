/* dp_acquire.c - outbound packets that matched a negotiate rule without an
 * SA, on the manager lcore: one ACQUIRE event per (rule, peer), repeated at
 * most once a second while packets keep coming; up to DP_ACQ_HOLD packets
 * held per pair until the control plane answers (ACQUIRE_DONE: send them
 * through the outbound path again, or drop them) or DP_ACQ_TIMEOUT_S passes.
 * Everything else is freed and counted. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "dp.h"
#include "dp_mgr.h"
#include "dp_pkt.h"

struct acq_key {
	uint32_t rule_id;
	struct dpsec_addr peer;
	uint8_t pad[3];
};

int dp_acq_init(struct dp_ctx *dp)
{
	struct rte_hash_parameters hp = {
		.name = "dpsec_acq",
		.entries = DP_ACQ_ENTRIES,
		.key_len = sizeof(struct acq_key),
		.hash_func = rte_hash_crc,
		.socket_id = SOCKET_ID_ANY,
	};

	dp->mgr->acq_hash = rte_hash_create(&hp);
	dp->mgr->acq = rte_zmalloc("dpsec_acq", sizeof(struct dp_acq) * DP_ACQ_ENTRIES, 0);
	return dp->mgr->acq_hash != NULL && dp->mgr->acq != NULL ? 0 : -1;
}

static void key_of(struct acq_key *k, uint32_t rule_id, const struct dpsec_addr *peer)
{
	memset(k, 0, sizeof(*k));
	k->rule_id = rule_id;
	k->peer = *peer;
}

/* Frees an entry's held packets (counted as acquire_dropped) or hands them
 * to worker 0 to go through the outbound policy again. */
static void release(struct dp_ctx *dp, struct dp_acq *a, bool send)
{
	for (uint16_t i = 0; i < a->n_held; i++) {
		if (send && rte_ring_enqueue(dp->reinject, a->held[i]) == 0)
			continue;
		dp->mgr_ctr.c[DP_C_acquire_dropped]++;
		rte_pktmbuf_free(a->held[i]);
	}
	a->n_held = 0;
}

static void forget(struct dp_ctx *dp, struct dp_acq *a, bool send)
{
	struct acq_key k;

	release(dp, a, send);
	key_of(&k, a->ev.rule_id, &a->ev.peer);
	rte_hash_del_key(dp->mgr->acq_hash, &k);
	memset(a, 0, sizeof(*a));
	dp->mgr->n_acq--;
}

void dp_acq_flush(struct dp_ctx *dp)
{
	for (uint32_t i = 0; i < DP_ACQ_ENTRIES; i++)
		if (dp->mgr->acq[i].used)
			forget(dp, &dp->mgr->acq[i], false);
}

void dp_acq_fini(struct dp_ctx *dp)
{
	if (dp->mgr->acq != NULL)
		dp_acq_flush(dp);
	rte_hash_free(dp->mgr->acq_hash);
	rte_free(dp->mgr->acq);
}

static void fill_event(struct dpsec_ev_acquire *ev, const struct dp_meta *md)
{
	size_t alen = md->family == DPSEC_AF_INET6 ? 16 : 4;
	const uint8_t *src = dp_meta_src(md), *dst = dp_meta_dst(md);
	uint16_t sport = md->family == DPSEC_AF_INET6 ? md->key.k6.sport : md->key.k4.sport;
	uint16_t dport = md->family == DPSEC_AF_INET6 ? md->key.k6.dport : md->key.k4.dport;

	memset(ev, 0, sizeof(*ev));
	ev->rule_id = md->rule_id;
	ev->peer = md->peer;
	ev->src.family = ev->dst.family = md->family;
	memcpy(ev->src.a, src, alen);
	memcpy(ev->dst.a, dst, alen);
	ev->proto = md->l4proto;
	ev->sport = rte_be_to_cpu_16(sport);
	ev->dport = rte_be_to_cpu_16(dport);
}

static struct dp_acq *lookup_or_add(struct dp_ctx *dp, const struct dp_meta *md)
{
	struct dp_mgr *m = dp->mgr;
	struct acq_key k;
	void *data;

	key_of(&k, md->rule_id, &md->peer);
	if (rte_hash_lookup_data(m->acq_hash, &k, &data) >= 0)
		return &m->acq[(uintptr_t)data];
	for (uint32_t i = 0; i < DP_ACQ_ENTRIES; i++) {
		struct dp_acq *a = &m->acq[i];

		if (a->used)
			continue;
		if (rte_hash_add_key_data(m->acq_hash, &k, (void *)(uintptr_t)i) < 0)
			return NULL;
		a->used = true;
		a->created_tsc = rte_get_tsc_cycles();
		fill_event(&a->ev, md);
		m->n_acq++;
		return a;
	}
	return NULL;
}

static void hold(struct dp_ctx *dp, struct rte_mbuf *mb)
{
	struct dp_acq *a = lookup_or_add(dp, dp_meta(mb));

	if (a == NULL || a->n_held == DP_ACQ_HOLD) {
		dp->mgr_ctr.c[DP_C_acquire_overflow]++;
		rte_pktmbuf_free(mb);
		if (a != NULL)
			a->fresh = true;
		return;
	}
	a->held[a->n_held++] = mb;
	a->fresh = true;
	a->ev.held = a->n_held;
}

/* ACQUIRE for new pairs, again for pairs still busy after DP_ACQ_RETRY_S;
 * pairs unanswered for DP_ACQ_TIMEOUT_S forgotten. */
static void send_events(struct dp_ctx *dp, uint64_t now)
{
	uint64_t hz = rte_get_tsc_hz();

	for (uint32_t i = 0; i < DP_ACQ_ENTRIES; i++) {
		struct dp_acq *a = &dp->mgr->acq[i];

		if (!a->used)
			continue;
		if (now - a->created_tsc > DP_ACQ_TIMEOUT_S * hz) {
			forget(dp, a, false);
			continue;
		}
		if (a->sent && (!a->fresh || now - a->sent_tsc < DP_ACQ_RETRY_S * hz))
			continue;
		if (!dp_ev_push(dp, DPSEC_EV_ACQUIRE, &a->ev, sizeof(a->ev)))
			return; /* the event ring is full: again next round */
		a->sent = true;
		a->fresh = false;
		a->sent_tsc = now;
	}
}

bool dp_acq_poll(struct dp_ctx *dp)
{
	struct rte_mbuf *mb[DP_BURST];
	unsigned int n = rte_ring_dequeue_burst(dp->acquire, (void **)mb, DP_BURST, NULL);
	uint64_t now;

	for (unsigned int i = 0; i < n; i++)
		hold(dp, mb[i]);
	now = rte_get_tsc_cycles(); /* after hold(): no entry is younger than now */
	if (dp->mgr->n_acq > 0 && (n > 0 || now - dp->mgr->last_acq_scan_tsc > rte_get_tsc_hz() / 100)) {
		send_events(dp, now);
		dp->mgr->last_acq_scan_tsc = now;
	}
	return n > 0;
}

int dp_acq_done(struct dp_ctx *dp, const struct dpsec_cmd_acquire_done *c, char *err,
		size_t errlen)
{
	struct acq_key k;
	void *data;

	if (c->result > DPSEC_ACQUIRE_DROP) {
		snprintf(err, errlen, "acquire done: result %u unknown", c->result);
		return -EINVAL;
	}
	key_of(&k, c->rule_id, &c->peer);
	if (rte_hash_lookup_data(dp->mgr->acq_hash, &k, &data) < 0) {
		snprintf(err, errlen, "acquire done: nothing held for rule %u and that peer", c->rule_id);
		return -ENOENT;
	}
	forget(dp, &dp->mgr->acq[(uintptr_t)data], c->result == DPSEC_ACQUIRE_SEND);
	return 0;
}
