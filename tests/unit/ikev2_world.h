/* ikev2_world.h - the two-peer world of the IKEv2 engine tests
 * (test_ikev2_exchange.c, test_ikev2_wire.c, test_ikev2_child.c,
 * test_ikev2_keys.c, test_ikev2_info.c): two engines in one process, an
 * initiator and a responder with matching PSK policies, stepped message by
 * message as strongSwan's exchange tests do (a NAT rewriting the
 * initiator's packets on request). Every message is opened with the
 * receiving SA's keys and its payloads asserted; the events and counters
 * each side gave; IKE_SA_INIT and IKE_AUTH run and checked. */
#ifndef IKEV2_WORLD_H
#define IKEV2_WORLD_H

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike_pair.h"
#include "ike_sk.h"
#include "ikev2.h"
#include "ikev2_msg.h"
#include "ikev2_sa.h"
#include "check_run.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* What every IKE_SA_INIT of these peers carries. */
#define INIT_PAYLOADS                                                                   \
	"SA KE Nonce N(NAT_DETECTION_SOURCE_IP) N(NAT_DETECTION_DESTINATION_IP) "       \
	"N(IKEV2_FRAGMENTATION_SUPPORTED)"

/* ---- two peers and the wire between them ------------------------------ */

struct side {
	struct ike_outbox box;  /* its name, datagrams and events */
	struct ikev2_engine *e;
	struct ikev2_conf conf;
	struct ike_endpoint ep;  /* where it sends from */
	struct ikev2_peer pol;   /* the policy its lookup gives */
	struct ikev2_peer pol_transport; /* with by_mode: given when transport mode is asked for */
	bool by_mode;
	int lookups_with_ts;     /* lookups that were told the child SA's selectors */
	struct ike_ts_set seen_ts_i;
	bool no_policy;
};

struct world {
	struct side i, r;
	uint64_t now;
	bool nat;                     /* i's packets leave through a NAT */
	struct ike_endpoint nat_ep;   /* i's address as r sees it */
	struct ike_endpoint nat_inside; /* where i sent from last */
};

static inline int lookup(void *ctx, const struct ikev2_lookup *q, struct ikev2_peer *out)
{
	struct side *s = ctx;

	if (s->no_policy)
		return -ENOENT;
	if (q->ts_i != NULL) {
		s->lookups_with_ts++;
		s->seen_ts_i = *q->ts_i;
	}
	*out = s->by_mode && q->ts_i != NULL && q->transport ? s->pol_transport : s->pol;
	return 0;
}

static const struct ike_mm_method mm_gcm_ecp = {
	{ IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256 }, IKE_DH_ECP_256
};
static const struct ike_mm_method mm_gcm_x25519 = {
	{ IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_512 }, IKE_DH_CURVE25519
};
static const struct ike_qm_method qm_gcm = {
	IKE_PROTO_ESP, DPSEC_ENC_AES_GCM_16, 32, DPSEC_INTEG_NONE, 0, false, 3600, 100000
};

static inline void side_start(struct side *s)
{
	struct ike_err err = { 0 };

	s->conf.lookup = lookup;
	s->conf.lookup_ctx = s;
	s->e = ikev2_engine_new(&s->conf, &err);
	ck_assert_msg(s->e != NULL, "%s", err.msg);
}

static inline void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->i.box.name = "initiator";
	w->r.box.name = "responder";
	ikev2_conf_default(&w->i.conf);
	ikev2_conf_default(&w->r.conf);
	w->i.ep = (struct ike_endpoint){ v4(192, 0, 2, 1), 500 };
	w->r.ep = (struct ike_endpoint){ v4(198, 51, 100, 1), 500 };
	w->now = 1000;
	pair_policy(&w->i.pol, true, &mm_gcm_ecp, &qm_gcm, "secret");
	pair_policy(&w->r.pol, false, &mm_gcm_ecp, &qm_gcm, "secret");
}

/* Takes every event of s into its outbox: datagrams and the rest. */
static inline void drain(struct side *s)
{
	struct ikev2_event ev;

	while (ikev2_next_event(s->e, &ev))
		outbox_put(&s->box, &ev);
}

static inline void world_go(struct world *w)
{
	side_start(&w->i);
	side_start(&w->r);
}

static inline void side_end(struct side *s)
{
	drain(s);
	outbox_free(&s->box);
	ikev2_engine_free(s->e);
	ike_auth_wipe(&s->pol.local_auth);
	ike_auth_wipe(&s->pol.remote_auth);
}

static inline void world_end(struct world *w)
{
	side_end(&w->i);
	side_end(&w->r);
}

static inline struct msg take(struct side *s)
{
	drain(s);
	return outbox_take(&s->box);
}

static inline void nothing_sent(struct side *s)
{
	drain(s);
	outbox_nothing_sent(&s->box);
}

/* Delivers m to `to` as the network would: through i's NAT if any, which
 * maps i's address and port to nat_ep, and back. */
static inline int feed(struct world *w, struct side *to, const struct msg *m, struct ike_err *err)
{
	struct ike_endpoint from = m->from, at = m->to;

	if (w->nat && to == &w->r) {
		w->nat_inside = m->from;
		from = w->nat_ep;
	}
	if (w->nat && to == &w->i)
		at = w->nat_inside;
	return ikev2_input(to->e, m->data, m->len, &at, &from, w->now, err);
}

static inline void deliver(struct world *w, struct side *to, const struct msg *m)
{
	struct ike_err err = { 0 };
	int rc = feed(w, to, m, &err);

	ck_assert_msg(rc == 0, "%s refused a message: %d %s", to->box.name, rc, err.msg);
}

static inline struct side *other(struct world *w, struct side *s)
{
	return s == &w->i ? &w->r : &w->i;
}

/* One message from s to the other side: delivered, and returned. */
static inline struct msg step(struct world *w, struct side *from)
{
	struct msg m = take(from);

	deliver(w, other(w, from), &m);
	return m;
}

/* ---- looking into messages -------------------------------------------- */

/* The SA of `to` that m is for. */
static inline struct ikev2_sa *sa_for(struct side *to, const uint8_t *data)
{
	struct ikev2_sa_id id;

	memcpy(id.spi_i, data, 8);
	memcpy(id.spi_r, data + 8, 8);
	return ikev2_find_sa(to->e, &id);
}

/* m parsed (and opened with `to`'s keys when encrypted) into pm, whose
 * payloads point into buf. */
static inline void open_msg(struct side *to, const struct msg *m, struct ikev2_msg *pm,
			    uint8_t *buf)
{
	struct ike_err err = { 0 };
	uint8_t *plain;
	size_t plain_len;
	struct ikev2_sa *sa;

	memcpy(buf, m->data, m->len);
	ck_assert_msg(ikev2_msg_parse(buf, m->len, pm, &err) == 0, "%s", err.msg);
	if (pm->n == 0 || pm->pl[pm->n - 1].type != IKEV2_PL_SK)
		return;
	sa = sa_for(to, m->data);
	ck_assert_msg(sa != NULL, "%s has no SA for the message", to->box.name);
	ck_assert_msg(ikev2_sk_open(&sa->keys, buf, m->len, pm->sk_body_off, &plain, &plain_len,
				    &err) == 0, "%s", err.msg);
	pm->n--; /* the SK payload itself */
	ck_assert_msg(ikev2_chain_parse(pm->sk_inner_next, plain, plain_len, pm, &err) == 0, "%s",
		      err.msg);
}

/* "SA KE Nonce N(NAT_DETECTION_SOURCE_IP) ..." of a message for `to`. */
static inline const char *summary(struct side *to, const struct msg *m)
{
	static char text[512];
	static uint8_t buf[IKE_MSG_MAX];
	struct ikev2_msg pm;
	struct ike_sb sb;

	open_msg(to, m, &pm, buf);
	ike_sb_init(&sb, text, sizeof(text));
	for (uint16_t k = 0; k < pm.n; k++) {
		struct ikev2_notify n;

		if (pm.pl[k].type == IKEV2_PL_NOTIFY &&
		    ikev2_notify_parse(pm.pl[k].body.p, pm.pl[k].body.len, &n, NULL) == 0)
			ike_sb_add(&sb, "%sN(%s)", k ? " " : "", ikev2_notify_name(n.type));
		else
			ike_sb_add(&sb, "%s%s", k ? " " : "", ikev2_payload_name(pm.pl[k].type));
	}
	return text;
}

/* The body of the first payload of that type in m (opened for `to`). */
static inline bool body_of(struct side *to, const struct msg *m, uint8_t type, union ikev2_body *b,
			   uint8_t *buf)
{
	struct ikev2_msg pm;
	int k = -1;
	const struct ikev2_payload *p;

	open_msg(to, m, &pm, buf);
	p = ikev2_msg_find(&pm, type, &k);
	return p && ikev2_body_parse(type, p->body.p, p->body.len, b, NULL) == 0;
}

static inline void expect_summary(struct side *to, const struct msg *m, const char *want)
{
	const char *got = summary(to, m);

	ck_assert_msg(strcmp(got, want) == 0, "message to %s: \"%s\", expected \"%s\"", to->box.name, got,
		      want);
}

/* ---- events ------------------------------------------------------------ */

static inline int count_ev(struct side *s, enum ikev2_event_kind k)
{
	drain(s);
	return outbox_count(&s->box, k);
}

static inline struct ikev2_event *last_ev(struct side *s, enum ikev2_event_kind k)
{
	drain(s);
	return outbox_last(&s->box, k);
}

static inline uint64_t stat(struct side *s, enum ikev2_stat k)
{
	return ikev2_engine_stats(s->e)->n[k];
}

/* ---- running exchanges ------------------------------------------------- */

static inline struct ikev2_sa_id initiate(struct world *w)
{
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };

	ck_assert_msg(ikev2_initiate(w->i.e, &w->i.pol, &w->i.ep, &w->r.ep, w->now, &id, &err) == 0,
		      "%s", err.msg);
	return id;
}

static inline const struct ike_child *child_of(struct side *s)
{
	return last_ev(s, IKEV2_EV_CHILD_UP)->child;
}

/* IKE_SA_INIT both ways, then the IKE_AUTH request: returns the
 * responder's IKE_AUTH answer, not yet delivered (the caller frees it). */
static inline struct msg auth_answer(struct world *w)
{
	initiate(w);
	free(step(w, &w->i).data);
	free(step(w, &w->r).data);
	free(step(w, &w->i).data);
	return take(&w->r);
}

/* The next message of `from`, its payloads checked, delivered. */
static inline void pass(struct world *w, struct side *from, const char *payloads)
{
	struct msg m = take(from);

	expect_summary(other(w, from), &m, payloads);
	deliver(w, other(w, from), &m);
	free(m.data);
}

/* One exchange started by `from`: its request and the answer. */
static inline void round_trip(struct world *w, struct side *from, const char *request,
			      const char *answer)
{
	pass(w, from, request);
	pass(w, other(w, from), answer);
}

/* IKE_SA_INIT and IKE_AUTH to the end, payloads checked; returns the SA. */
static inline struct ikev2_sa_id establish(struct world *w)
{
	static const char init[] = INIT_PAYLOADS;
	struct ikev2_sa_id id = initiate(w);
	const struct ikev2_sa_id *full;

	round_trip(w, &w->i, init, init);
	round_trip(w, &w->i, "IDi AUTH N(INITIAL_CONTACT) IDr SA TSi TSr", "IDr AUTH SA TSi TSr");
	full = &last_ev(&w->i, IKEV2_EV_IKE_UP)->sa;
	ck_assert_ptr_eq(ikev2_find_sa(w->i.e, &id), ikev2_find_sa(w->i.e, full)); /* SPIr 0 will do */
	memcpy(id.spi_r, full->spi_r, 8);
	return id;
}

/* w made and started with its usual policies, an IKE SA and its child SA
 * up: the IKE SA's id. */
static inline struct ikev2_sa_id world_up(struct world *w)
{
	world_init(w);
	world_go(w);
	return establish(w);
}

/* Runs the tests as the suite `name` (one test case, 120 s each), after
 * `loop` (if not NULL) for each of 0..loops-1; the exit status for
 * main(). */
static inline int world_run(const char *name, const TTest *loop, int loops,
			    const TTest *const *tests, size_t n)
{
	Suite *s = suite_create(name);
	TCase *t = tcase_create("exchanges");

	tcase_set_timeout(t, 120);
	if (loop != NULL)
		tcase_add_loop_test(t, loop, 0, loops);
	for (size_t k = 0; k < n; k++)
		tcase_add_test(t, tests[k]);
	suite_add_tcase(s, t);
	return check_run(s);
}

#endif
