/* cp_sync.c - making the dataplane hold what the store says. A dataplane
 * no control plane has managed (or a new one: dpsecd restarted) is flushed
 * and given everything; one that a previous dpsec-ctld managed is read back
 * from its SA directory, and its SAs adopted rather than installed again
 * (that would restart their sequence numbers); those the previous one
 * negotiated are dropped with their IKE SAs, and their peers negotiated
 * with anew (cp_reconnect). Then, and after every
 * change: static SAs the store has and the dataplane lacks are added, those
 * it no longer has are deleted, inbound SAs are bound to their rule, and the
 * assigned policy (with ctld's per-peer rules) is sent as one transaction,
 * which dpsecd swaps in without a lost packet. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cp.h"

#define WAIT_MS 10000

static bool dir_entry(const struct cp_ctx *c, uint32_t id, struct dpsec_shm_sa *e)
{
	return dpsec_shm_sa_read(&c->seg.sas[id], e, 1000) && e->state != DPSEC_SA_FREE;
}

/* The dataplane's SAs by name, read once from the SA directory for a pass
 * over the store: finding the id of each of its SAs and of each rule's
 * outbound SA is then a search, not a walk of the directory (which made a
 * sync of thousands of static tunnels take seconds). */
struct sa_names {
	uint32_t n;
	struct sa_name {
		char name[DPSEC_NAME_MAX];
		uint32_t id;
	} *v;
};

static int sa_name_cmp(const void *a, const void *b)
{
	const struct sa_name *x = a, *y = b;
	int d = strcmp(x->name, y->name);

	return d ? d : (x->id > y->id) - (x->id < y->id);
}

/* -ENOMEM, or 0 with ix filled (sa_names_free() it). */
static int sa_names_read(const struct cp_ctx *c, struct sa_names *ix)
{
	struct dpsec_shm_sa e;
	uint32_t used = 0;

	for (uint32_t id = 0; id < c->seg.hdr->sa_capacity; id++)
		used += c->sa[id].used;
	ix->n = 0;
	ix->v = malloc(((size_t)used + 1) * sizeof(*ix->v));
	if (ix->v == NULL)
		return -ENOMEM;
	for (uint32_t id = 0; id < c->seg.hdr->sa_capacity && ix->n < used; id++)
		if (c->sa[id].used && dir_entry(c, id, &e)) {
			memcpy(ix->v[ix->n].name, e.conf.name, sizeof(ix->v[ix->n].name));
			ix->v[ix->n].name[DPSEC_NAME_MAX - 1] = '\0';
			ix->v[ix->n++].id = id;
		}
	qsort(ix->v, ix->n, sizeof(*ix->v), sa_name_cmp);
	return 0;
}

static void sa_names_free(struct sa_names *ix)
{
	free(ix->v);
	ix->v = NULL;
}

/* The id of the SA named name (the lowest, should two share it), or -1. */
static int sa_id_of(const struct sa_names *ix, const char *name)
{
	uint32_t lo = 0, hi = ix->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (strcmp(ix->v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ix->n && strcmp(ix->v[lo].name, name) == 0 ? (int)ix->v[lo].id : -1;
}

static int alloc_id(struct cp_ctx *c)
{
	for (uint32_t id = c->sa_free_from; id < c->seg.hdr->sa_capacity; id++)
		if (!c->sa[id].used && !c->sa[id].waits_sync) {
			c->sa[id].used = true;
			c->sa_free_from = id + 1;
			return (int)id;
		}
	c->sa_free_from = c->seg.hdr->sa_capacity;
	return -1;
}

void cp_sa_id_release(struct cp_ctx *c, uint32_t id)
{
	c->sa[id].used = c->sa[id].negotiated = false;
	if (c->sa[id].waits_sync)
		return;
	c->sa[id].waits_sync = true;
	if (c->sa_waiting++ == 0 || id < c->sa_waiting_from)
		c->sa_waiting_from = id;
}

/* dpsecd's rules are ctld's now: the ids that waited name none any more. */
static void ids_free_after_sync(struct cp_ctx *c)
{
	if (c->sa_waiting > 0 && c->sa_waiting_from < c->sa_free_from)
		c->sa_free_from = c->sa_waiting_from;
	for (uint32_t id = c->sa_waiting_from; c->sa_waiting > 0 && id < c->seg.hdr->sa_capacity; id++)
		if (c->sa[id].waits_sync) {
			c->sa[id].waits_sync = false;
			c->sa_waiting--;
		}
}

bool cp_sa_holds(const struct cp_ctx *c, uint32_t id, uint32_t spi, uint8_t direction)
{
	return id < c->seg.hdr->sa_capacity && c->sa[id].used && c->sa[id].spi == spi &&
	       c->sa[id].direction == direction;
}

/* For each of the store's n SAs, the id of the first compiled rule whose
 * inbound SA it is (0: none), or NULL when out of memory. */
static uint32_t *inbound_rules(const struct cfg_compiled *cc, uint32_t n)
{
	uint32_t *of = calloc(n + 1, sizeof(*of));

	for (uint32_t r = cc->n_rules; of != NULL && r-- > 0;) /* backwards: the first wins */
		if (cc->rules[r].action == DPSEC_ACTION_NEGOTIATE && cc->rules[r].sa_in >= 0 &&
		    (uint32_t)cc->rules[r].sa_in < n)
			of[cc->rules[r].sa_in] = cc->rules[r].id;
	return of;
}

static void lifetime_of(const struct cp_ctx *c, const struct cfg_static_sa *sa, struct dpsec_lifetime *l)
{
	memset(l, 0, sizeof(*l));
	l->hard_seconds = sa->lifetime_seconds;
	l->soft_seconds = (uint32_t)((uint64_t)sa->lifetime_seconds * 9 / 10);
	l->hard_bytes = sa->lifetime_kilobytes * 1024;
	l->soft_bytes = l->hard_bytes / 10 * 9;
	if (sa->conf.direction == DPSEC_DIR_IN)
		l->idle_seconds = c->store.timeouts.idle_seconds;
}

static bool same_sa(const struct dpsec_sa_conf *a, const struct dpsec_sa_conf *b)
{
	return a->spi == b->spi && a->direction == b->direction && a->mode == b->mode &&
	       a->protocol == b->protocol &&
	       a->enc_alg == b->enc_alg && a->enc_key_len == b->enc_key_len &&
	       a->integ_alg == b->integ_alg && a->encap == b->encap && a->udp_sport == b->udp_sport &&
	       a->udp_dport == b->udp_dport && memcmp(&a->local, &b->local, sizeof(a->local)) == 0 &&
	       memcmp(&a->remote, &b->remote, sizeof(a->remote)) == 0;
}

/* Sends SA_ADD for conf into a free slot; the slot's id, or a negative errno. */
static int install_sa(struct cp_ctx *c, const struct dpsec_sa_conf *conf,
		      const struct dpsec_lifetime *life, uint32_t rule_id)
{
	struct dpsec_cmd_sa_add a = { .rule_id = rule_id, .life = *life, .conf = *conf };
	int id = alloc_id(c), rc;

	if (id < 0) {
		cp_log(LOG_ERR, "SA %s: every one of the dataplane's %u SA slots is in use (dpsecd --max-sas)",
		       conf->name, c->seg.hdr->sa_capacity);
		explicit_bzero(&a, sizeof(a));
		return -ENOSPC;
	}
	a.sa_id = (uint32_t)id;
	rc = cp_cmd_send(c, DPSEC_CMD_SA_ADD, &a, sizeof(a));
	explicit_bzero(&a, sizeof(a));
	if (rc < 0) { /* never sent: the slot stays free */
		cp_sa_id_release(c, (uint32_t)id);
		return rc;
	}
	c->sa[id].add_seq = c->want_seq - 1;
	c->sa[id].spi = conf->spi;
	c->sa[id].direction = conf->direction;
	c->mm[conf->direction == DPSEC_DIR_OUT ? CP_MM_key_additions : CP_MM_key_updates]++;
	/* dpsecd answers it: a refusal is audited with this command's number */
	cp_audit("SA install: %s SPI 0x%08x %s, id %d (command %llu)", conf->name, conf->spi,
		 conf->direction == DPSEC_DIR_IN ? "inbound" : "outbound", id,
		 (unsigned long long)c->sa[id].add_seq);
	return id;
}

void cp_sa_add_refused(struct cp_ctx *c, uint64_t seq)
{
	for (uint32_t id = 0; id < c->seg.hdr->sa_capacity; id++)
		if (c->sa[id].used && c->sa[id].add_seq == seq) {
			cp_sa_id_release(c, id);
			return;
		}
}

static int add_sa(struct cp_ctx *c, const struct cfg_static_sa *sa, uint32_t rule_id)
{
	struct dpsec_lifetime life;
	int rc;

	lifetime_of(c, sa, &life);
	rc = install_sa(c, &sa->conf, &life, rule_id);
	return rc < 0 ? rc : 0;
}

int cp_sa_add_negotiated(struct cp_ctx *c, const struct dpsec_sa_conf *conf,
			 const struct dpsec_lifetime *life, uint32_t rule_id)
{
	int id = install_sa(c, conf, life, rule_id);

	if (id >= 0)
		c->sa[id].negotiated = true;
	return id;
}

static int del_sa(struct cp_ctx *c, uint32_t id, const struct dpsec_shm_sa *e)
{
	struct dpsec_cmd_sa_del d = { .sa_id = id };

	cp_sa_id_release(c, id);
	cp_audit("SA deleted: %s SPI 0x%08x %s, id %u", e->conf.name, e->conf.spi,
		 e->conf.direction == DPSEC_DIR_IN ? "inbound" : "outbound", id);
	return cp_cmd_send(c, DPSEC_CMD_SA_DEL, &d, sizeof(d));
}

static int rebind_sa(struct cp_ctx *c, uint32_t id, const struct cfg_static_sa *sa, uint32_t rule_id)
{
	struct dpsec_cmd_sa_update u = { .sa_id = id, .rule_id = rule_id };

	lifetime_of(c, sa, &u.life);
	return cp_cmd_send(c, DPSEC_CMD_SA_UPDATE, &u, sizeof(u));
}

int cp_sa_del_negotiated(struct cp_ctx *c, uint32_t id)
{
	struct dpsec_shm_sa e;

	if (id >= c->seg.hdr->sa_capacity || !c->sa[id].negotiated || !dir_entry(c, id, &e))
		return -ENOENT;
	return del_sa(c, id, &e);
}

/* SAs in the dataplane that the store no longer has, or has otherwise
 * (negotiated ones are IKE's, not the store's). */
static int drop_stale_sas(struct cp_ctx *c)
{
	struct dpsec_shm_sa e;
	int rc = 0;

	for (uint32_t id = 0; id < c->seg.hdr->sa_capacity && rc == 0; id++) {
		const struct cfg_static_sa *sa;

		if (!c->sa[id].used || c->sa[id].negotiated || !dir_entry(c, id, &e))
			continue;
		sa = cfg_store_sa(&c->store, e.conf.name);
		if (sa == NULL || !same_sa(&sa->conf, &e.conf))
			rc = del_sa(c, id, &e);
	}
	return rc;
}

static int sync_sas(struct cp_ctx *c, const struct cfg_compiled *cc)
{
	struct sa_names ix = { 0 };
	uint32_t *rule_of = inbound_rules(cc, c->store.n_sas);
	int rc = rule_of == NULL ? -ENOMEM : drop_stale_sas(c);

	if (rc == 0)
		rc = sa_names_read(c, &ix);
	for (uint32_t i = 0; i < c->store.n_sas && rc == 0; i++) {
		const struct cfg_static_sa *sa = &c->store.sas[i];
		uint32_t rule_id = rule_of[i];
		int id = sa_id_of(&ix, sa->conf.name);
		struct dpsec_shm_sa e;

		if (id < 0)
			rc = add_sa(c, sa, rule_id);
		else if (dir_entry(c, (uint32_t)id, &e) && rule_id != 0 && e.rule_id != rule_id)
			rc = rebind_sa(c, (uint32_t)id, sa, rule_id);
	}
	sa_names_free(&ix);
	free(rule_of);
	return rc;
}

/* ---- the policy ------------------------------------------------------ */

/* Rule ids to numbers, sorted by id. */
struct id_map {
	uint32_t n;
	struct id_val {
		uint32_t id, val;
	} *v;
};

static int id_val_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct id_val *)a)->id, y = ((const struct id_val *)b)->id;

	return x < y ? -1 : x > y;
}

/* Sorts the map, whose v holds n pairs. */
static void id_map_sort(struct id_map *m)
{
	if (m->n > 1)
		qsort(m->v, m->n, sizeof(m->v[0]), id_val_cmp);
}

/* id's number, or missing. */
static uint32_t id_map_get(const struct id_map *m, uint32_t id, uint32_t missing)
{
	struct id_val key = { .id = id };
	const struct id_val *hit = m->n ? bsearch(&key, m->v, m->n, sizeof(m->v[0]), id_val_cmp) : NULL;

	return hit != NULL ? hit->val : missing;
}

/* What a sync's policy transactions look up: the compiled rules by id,
 * and the SAs that generic rules carry themselves (per-peer rules on_rule). */
struct policy_maps {
	const struct cfg_compiled *cc;
	struct id_map rules;        /* compiled rule id -> its index in cc */
	struct id_map carried;      /* generic rule id -> the SA it carries */
};

/* Where a policy transaction's commands go: to dpsecd, or into a
 * fingerprint of them (FNV-1a, 64 bits), which tells whether the
 * transaction would give dpsecd anything it does not have. */
struct policy_tx {
	struct cp_ctx *c;
	const struct sa_names *sas; /* the dataplane's, for the rules' outbound SAs */
	const struct policy_maps *maps;
	bool fingerprint_only;
	uint64_t fp;
};

static void fnv1a(uint64_t *h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		*h = (*h ^ b[i]) * 0x100000001b3ull;
}

static int policy_cmd(struct policy_tx *tx, uint16_t type, const void *body, uint32_t len)
{
	if (!tx->fingerprint_only)
		return cp_cmd_send(tx->c, type, body, len);
	fnv1a(&tx->fp, &type, sizeof(type));
	fnv1a(&tx->fp, body, len);
	return 0;
}

static int send_rule(struct policy_tx *tx, const struct dpsec_rule *r, uint32_t id, uint32_t priority,
		     uint8_t action, uint32_t sa_out)
{
	struct dpsec_cmd_rule m;

	memset(&m, 0, sizeof(m)); /* padding too: it is fingerprinted */
	m.rule_id = id;
	m.priority = priority;
	m.sa_out = sa_out;
	m.action = action;
	m.flags = r->flags;
	m.tunnel = r->tunnel;
	m.tunnel_endpoint = r->tunnel_endpoint;
	snprintf(m.name, sizeof(m.name), "%s", r->name);
	return policy_cmd(tx, DPSEC_CMD_RULE_SET, &m, sizeof(m));
}

static int send_filter(struct policy_tx *tx, uint32_t rule_id, uint32_t filter_id,
		       const struct dpsec_filter *f)
{
	struct dpsec_cmd_filter m;

	memset(&m, 0, sizeof(m));
	m.rule_id = rule_id;
	m.filter_id = filter_id;
	m.filter = *f;
	return policy_cmd(tx, DPSEC_CMD_FILTER_ADD, &m, sizeof(m));
}

/* A per-peer rule (a negotiated SA's carries it: it comes before its
 * generic rule): its generic rule's filters, narrowed to the peer for a
 * transport rule (a tunnel rule's peer is its endpoint: all of it). */
static int send_dyn_rule(struct policy_tx *tx, const struct cp_dyn_rule *d, const struct dpsec_rule *g)
{
	static const uint8_t actions[] = { [CP_DYN_SOFT] = DPSEC_ACTION_PERMIT,
					   [CP_DYN_BLOCK] = DPSEC_ACTION_BLOCK,
					   [CP_DYN_SA] = DPSEC_ACTION_NEGOTIATE };
	uint32_t n = 0;
	/* not fingerprinted: a new SA for the rule (a rekey) is sent alone, by
	 * sync_rule_sas, and costs dpsecd no build */
	uint32_t sa = d->kind == CP_DYN_SA && !tx->fingerprint_only ? d->sa_out : DPSEC_SA_NONE;
	int rc = send_rule(tx, g, d->id, g->priority - 1, actions[d->kind], sa);

	for (uint32_t i = 0; i < g->n_filters && rc == 0; i++) {
		struct dpsec_filter f = g->filters[i];

		if (!g->tunnel) {
			if (!cfg_prefix_holds(&f.dst, &d->peer))
				continue;
			f.dst.addr = d->peer;
			f.dst.len = d->peer.family == DPSEC_AF_INET6 ? 128 : 32;
		}
		rc = send_filter(tx, d->id, ++n, &f);
	}
	return rc;
}

static const struct dpsec_rule *compiled_rule(const struct policy_maps *m, uint32_t id)
{
	uint32_t at = id_map_get(&m->rules, id, UINT32_MAX);

	return at == UINT32_MAX ? NULL : &m->cc->rules[at];
}

static void policy_maps_free(struct policy_maps *m)
{
	free(m->rules.v);
	free(m->carried.v);
}

/* m for cc and c's per-peer rules. The per-peer rules whose generic rule
 * left the policy go meanwhile, as does one carried by its generic rule
 * that is no longer a tunnel to its peer (its next packet negotiates
 * anew). 0, or -ENOMEM (m freed). */
static int policy_maps_make(struct cp_ctx *c, const struct cfg_compiled *cc, struct policy_maps *m)
{
	*m = (struct policy_maps){ .cc = cc };
	m->rules.v = malloc(sizeof(m->rules.v[0]) * (cc->n_rules + 1));
	m->carried.v = malloc(sizeof(m->carried.v[0]) * CP_MAX_DYN_RULES);
	if (m->rules.v == NULL || m->carried.v == NULL) {
		policy_maps_free(m);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < cc->n_rules; i++)
		m->rules.v[m->rules.n++] = (struct id_val){ cc->rules[i].id, i };
	id_map_sort(&m->rules);
	for (int i = 0; i < CP_MAX_DYN_RULES; i++) {
		struct cp_dyn_rule *d = &c->dyn[i];
		const struct dpsec_rule *g = d->used ? compiled_rule(m, d->generic_id) : NULL;

		if (d->used && (g == NULL || (d->on_rule && !cp_rule_is_tunnel_to(g, &d->peer))))
			d->used = false; /* its rule left the policy, or changed */
		else if (d->used && d->on_rule && d->sa_out != DPSEC_SA_NONE)
			m->carried.v[m->carried.n++] = (struct id_val){ d->generic_id, d->sa_out };
	}
	id_map_sort(&m->carried);
	return 0;
}

/* The SA generic rule r carries itself; not fingerprinted (a new one is
 * sent alone, by sync_rule_sas), as per-peer rules' SAs are not. */
static uint32_t carried_sa(const struct policy_tx *tx, const struct dpsec_rule *r)
{
	return tx->fingerprint_only ? DPSEC_SA_NONE : id_map_get(&tx->maps->carried, r->id, DPSEC_SA_NONE);
}

/* The assigned policy with ctld's per-peer rules, as one transaction. */
static int send_policy(struct policy_tx *tx)
{
	const struct cfg_compiled *cc = tx->maps->cc;
	struct cp_ctx *c = tx->c;
	struct dpsec_cmd_policy_begin b;
	int rc;

	memset(&b, 0, sizeof(b));
	b.default_action = cc->default_action;
	b.n_rules = cc->n_rules;
	rc = policy_cmd(tx, DPSEC_CMD_POLICY_BEGIN, &b, sizeof(b));
	for (uint32_t i = 0; i < cc->n_rules && rc == 0; i++) {
		const struct dpsec_rule *r = &cc->rules[i];
		const struct cfg_store_rule *o = cc->origin[i];
		int sa = o && o->outbound_sa[0] ? sa_id_of(tx->sas, o->outbound_sa) : -1;
		uint32_t sa_out = sa >= 0 ? (uint32_t)sa : carried_sa(tx, r);

		rc = send_rule(tx, r, r->id, r->priority, r->action, sa_out);
		for (uint32_t f = 0; f < r->n_filters && rc == 0; f++)
			rc = send_filter(tx, r->id, f + 1, &r->filters[f]);
	}
	for (int i = 0; i < CP_MAX_DYN_RULES && rc == 0; i++) {
		const struct cp_dyn_rule *d = &c->dyn[i];

		if (d->used && !d->on_rule)
			rc = send_dyn_rule(tx, d, compiled_rule(tx->maps, d->generic_id));
	}
	if (rc == 0)
		rc = policy_cmd(tx, DPSEC_CMD_POLICY_COMMIT, NULL, 0);
	return rc;
}

/* The per-peer rules' outbound SAs as dpsecd's rules now carry them. */
static void rule_sas_sent(struct cp_ctx *c)
{
	for (int i = 0; i < CP_MAX_DYN_RULES; i++)
		if (c->dyn[i].used && c->dyn[i].kind == CP_DYN_SA)
			c->dyn[i].sa_sent = c->dyn[i].sa_out;
}

void cp_dyn_drop(struct cp_ctx *c, struct cp_dyn_rule *d)
{
	struct dpsec_cmd_rule_sa m = { .rule_id = d->generic_id, .sa_out = DPSEC_SA_NONE };

	d->used = false;
	if (!d->on_rule || d->sa_sent == DPSEC_SA_NONE || !c->attached)
		return;
	if (cp_cmd_post(c, DPSEC_CMD_RULE_SA, &m, sizeof(m)) < 0)
		c->policy_fp_known = false; /* the next sync sends the whole policy */
}

/* The per-peer rules whose outbound SA changed since dpsecd got them (a
 * rekey, or a pair gone whose rule another pair's SA carries on), each
 * changed in place (RULE_SA). A refusal leaves the next sync to send the
 * whole policy. */
static int sync_rule_sas(struct cp_ctx *c, char *err, size_t errlen)
{
	uint32_t sent = 0;
	int rc = 0;

	for (int i = 0; i < CP_MAX_DYN_RULES && rc == 0; i++) {
		const struct cp_dyn_rule *d = &c->dyn[i];
		struct dpsec_cmd_rule_sa m = { .rule_id = cp_dyn_carrier(d), .sa_out = d->sa_out };

		if (d->used && d->kind == CP_DYN_SA && d->sa_sent != d->sa_out) {
			rc = cp_cmd_send(c, DPSEC_CMD_RULE_SA, &m, sizeof(m));
			sent++;
		}
	}
	if (rc == 0 && sent > 0)
		rc = cp_cmd_wait(c, WAIT_MS, err, errlen);
	else if (rc == -ETIMEDOUT)
		snprintf(err, errlen, "dpsecd does not take commands");
	if (rc == 0)
		rule_sas_sent(c);
	else
		c->policy_fp_known = false;
	return rc;
}

/* Sends the policy unless dpsecd has it already: a change of SAs alone, or
 * a change undone, costs dpsecd no rebuild of its classifier (seconds, for
 * tens of thousands of filters); a per-peer rule's new outbound SA goes
 * alone (sync_rule_sas). dpsecd refuses a transaction whole (a commit
 * after a refused command of it is refused too) and keeps the policy it
 * had: the fingerprint it had stays true then. */
static int sync_policy(struct cp_ctx *c, const struct cfg_compiled *cc, char *err, size_t errlen)
{
	struct sa_names ix = { 0 };
	struct policy_maps maps;
	struct policy_tx fp = { .c = c, .sas = &ix, .maps = &maps, .fingerprint_only = true,
				.fp = 0xcbf29ce484222325ull };
	struct policy_tx send = { .c = c, .sas = &ix, .maps = &maps };
	int rc;

	if (sa_names_read(c, &ix) < 0 || policy_maps_make(c, cc, &maps) < 0) {
		sa_names_free(&ix);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	send_policy(&fp);
	if (c->policy_fp_known && c->policy_fp == fp.fp) {
		policy_maps_free(&maps);
		sa_names_free(&ix);
		return sync_rule_sas(c, err, errlen);
	}
	rc = send_policy(&send);
	policy_maps_free(&maps);
	sa_names_free(&ix);
	if (rc == 0)
		rc = cp_cmd_wait(c, WAIT_MS, err, errlen);
	else if (rc == -ETIMEDOUT)
		snprintf(err, errlen, "dpsecd does not take commands");
	if (rc == 0) {
		c->policy_fp = fp.fp;
		c->policy_fp_known = true;
		rule_sas_sent(c);
	} else if (rc != -EINVAL) {
		c->policy_fp_known = false; /* in flight, or half sent */
	}
	return rc;
}

int cp_apply(struct cp_ctx *c, char *err, size_t errlen)
{
	const struct cfg_compiled *cc;
	int rc;

	c->sync_wanted = false; /* a failure below leaves c->synced false: tried again later */
	if (!c->attached) {
		snprintf(err, errlen, "no dpsecd attached: the change applies when one is");
		return 0;
	}
	cc = cp_compiled(c, err, errlen);
	if (cc == NULL) {
		c->synced = false;
		return -1;
	}
	rc = sync_sas(c, cc);
	if (rc == 0)
		rc = cp_cmd_wait(c, WAIT_MS, err, errlen); /* SA ids settled before rules name them */
	if (rc == 0)
		rc = sync_policy(c, cc, err, errlen);
	c->synced = rc == 0;
	if (c->synced) {
		ids_free_after_sync(c);
		c->resync_at_ns = c->resync_wait_ns = 0;
	}
	return rc;
}

void cp_sync_if_wanted(struct cp_ctx *c)
{
	char err[CP_ERR_MAX] = "";

	if (c->sync_wanted && cp_apply(c, err, sizeof(err)) < 0)
		cp_log(LOG_ERR, "the rules of IKE's child SAs: %s", err);
}

static int reset_registry(struct cp_ctx *c)
{
	free(c->sa);
	c->sa = calloc(c->seg.hdr->sa_capacity + 1, sizeof(*c->sa));
	c->sa_free_from = c->sa_waiting = 0;
	return c->sa ? 0 : -ENOMEM;
}

int cp_sync_full(struct cp_ctx *c, char *err, size_t errlen)
{
	/* block until the store's policy is in: a sync that fails half way
	 * leaves a dataplane that lets nothing through, never one that
	 * forwards what the store would secure in the clear */
	struct dpsec_cmd_flush f = { .default_action = DPSEC_ACTION_BLOCK };

	c->synced = c->policy_fp_known = false; /* the flush blocks everything */
	if (reset_registry(c) < 0 || cp_cmd_send(c, DPSEC_CMD_FLUSH, &f, sizeof(f)) < 0 ||
	    cp_cmd_wait(c, WAIT_MS, err, errlen) < 0) {
		if (!err[0])
			snprintf(err, errlen, "flush: dpsecd did not take it");
		return -1;
	}
	cp_log(LOG_NOTICE, "dataplane generation %llx: installing the whole state",
	       (unsigned long long)c->seg.generation);
	return cp_apply(c, err, errlen);
}

/* A rule and a peer that had negotiated SAs. */
struct cp_peer_ref {
	uint32_t rule_id;
	struct dpsec_addr peer;
};

static bool peer_listed(const struct cp_peer_ref *refs, uint32_t n, uint32_t rule_id,
			const struct dpsec_addr *peer)
{
	for (uint32_t i = 0; i < n; i++)
		if (refs[i].rule_id == rule_id && memcmp(&refs[i].peer, peer, sizeof(*peer)) == 0)
			return true;
	return false;
}

/* The (generic rule, peer) of each outbound SA in the directory that a
 * previous dpsec-ctld negotiated: its IKE SA died with that process. At
 * most max, each once. */
static uint32_t negotiated_peers(const struct cp_ctx *c, struct cp_peer_ref *refs, uint32_t max)
{
	struct dpsec_shm_sa e;
	uint32_t n = 0;

	for (uint32_t id = 0; id < c->seg.hdr->sa_capacity && n < max; id++) {
		if (!dir_entry(c, id, &e) || e.conf.direction != DPSEC_DIR_OUT || !e.conf.negotiated ||
		    e.rule_id == 0 || peer_listed(refs, n, e.rule_id, &e.conf.remote))
			continue;
		refs[n++] = (struct cp_peer_ref){ .rule_id = e.rule_id, .peer = e.conf.remote };
	}
	return n;
}

int cp_sync_readback(struct cp_ctx *c, char *err, size_t errlen)
{
	struct cp_peer_ref *refs = calloc(CP_MAX_ACQUIRES, sizeof(*refs));
	struct dpsec_shm_sa e;
	uint32_t n = 0, n_peers;
	int rc;

	if (refs == NULL || reset_registry(c) < 0) {
		free(refs);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (uint32_t id = 0; id < c->seg.hdr->sa_capacity; id++)
		if (dir_entry(c, id, &e)) {
			c->sa[id].used = true;
			c->sa[id].spi = e.conf.spi;
			c->sa[id].direction = e.conf.direction;
			n++;
		}
	n_peers = negotiated_peers(c, refs, CP_MAX_ACQUIRES);
	cp_log(LOG_NOTICE, "dataplane generation %llx already managed: %u SAs read back and adopted, "
	       "those of %u negotiations dropped", (unsigned long long)c->seg.generation, n, n_peers);
	rc = cp_apply(c, err, errlen);
	/* their peers would go on sending on them until their dead peer
	 * detection: negotiating now tells them (INITIAL_CONTACT) */
	for (uint32_t i = 0; i < n_peers && rc == 0; i++)
		cp_reconnect(c, refs[i].rule_id, &refs[i].peer);
	free(refs);
	return rc;
}
