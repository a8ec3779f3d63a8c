/* test_ikev2_engine.c - Check tests of the IKEv2 engine (ike/ikev2.h): two
 * engines in one process, an initiator and a responder, stepped message by
 * message as strongSwan's exchange tests do. Every message is opened with
 * the receiving SA's keys and its payloads asserted; events, counters and
 * SA states are checked after each step. Covers PSK exchanges over six
 * suites, wrong PSK, disjoint proposals, INVALID_KE_PAYLOAD, cookies,
 * retransmission and replayed responses, NAT detection, traffic selector
 * narrowing, transport mode, caller-allocated SPIs, child and IKE SA
 * rekeys, deletes, liveness checks, malformed and unexpected input, and
 * the key schedule recomputed by the independent reference
 * ike_vectors/ike_crypto_ref.py. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike_dh.h"
#include "ike_prf.h"
#include "ike_pair.h"
#include "ike_ref.h"
#include "ike_sk.h"
#include "ike_test_util.h"
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

static const uint8_t fixed_priv[32] = { /* RFC 7748 §6.1, Bob's X25519 key */
	0x5d, 0xab, 0x08, 0x7e, 0x62, 0x4a, 0x8a, 0x4b, 0x79, 0xe1, 0x7f, 0x8b, 0x83, 0x80,
	0x0e, 0xe6, 0x6f, 0x3b, 0xb1, 0x29, 0x26, 0x18, 0xb6, 0xfd, 0x1c, 0x2f, 0x8b, 0x27,
	0xff, 0x88, 0xe0, 0xeb,
};

static int lookup(void *ctx, const struct ikev2_lookup *q, struct ikev2_peer *out)
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
static const struct ike_mm_method mm_cbc_modp = {
	{ IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128, IKE_PRF_HMAC_SHA2_256 }, IKE_DH_MODP_2048
};
static const struct ike_mm_method mm_gcm_x25519 = {
	{ IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_512 }, IKE_DH_CURVE25519
};
static const struct ike_qm_method qm_gcm = {
	IKE_PROTO_ESP, DPSEC_ENC_AES_GCM_16, 32, DPSEC_INTEG_NONE, 0, false, 3600, 100000
};
static const struct ike_qm_method qm_cbc = {
	IKE_PROTO_ESP, DPSEC_ENC_AES_CBC, 16, DPSEC_INTEG_HMAC_SHA256_128, 0, true, 3600, 100000
};
static const struct ike_qm_method qm_3des = { /* the seeds' "High" */
	IKE_PROTO_ESP, DPSEC_ENC_3DES_CBC, 24, DPSEC_INTEG_HMAC_SHA1_96, 0, false, 3600, 100000
};

static void side_start(struct side *s)
{
	struct ike_err err = { 0 };

	s->conf.lookup = lookup;
	s->conf.lookup_ctx = s;
	s->e = ikev2_engine_new(&s->conf, &err);
	ck_assert_msg(s->e != NULL, "%s", err.msg);
}

static void world_init(struct world *w)
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

/* Takes every event of s: sends onto its wire, the rest into s->ev. */
static void drain(struct side *s)
{
	struct ikev2_event ev;

	while (ikev2_next_event(s->e, &ev))
		outbox_put(&s->box, &ev);
}

static void world_go(struct world *w)
{
	side_start(&w->i);
	side_start(&w->r);
}

static void side_end(struct side *s)
{
	drain(s);
	outbox_free(&s->box);
	ikev2_engine_free(s->e);
	ike_auth_wipe(&s->pol.local_auth);
	ike_auth_wipe(&s->pol.remote_auth);
}

static void world_end(struct world *w)
{
	side_end(&w->i);
	side_end(&w->r);
}

static struct msg take(struct side *s)
{
	drain(s);
	return outbox_take(&s->box);
}

static void nothing_sent(struct side *s)
{
	drain(s);
	outbox_nothing_sent(&s->box);
}

/* Delivers m to `to` as the network would: through i's NAT if any, which
 * maps i's address and port to nat_ep, and back. */
static int feed(struct world *w, struct side *to, const struct msg *m, struct ike_err *err)
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

static void deliver(struct world *w, struct side *to, const struct msg *m)
{
	struct ike_err err = { 0 };
	int rc = feed(w, to, m, &err);

	ck_assert_msg(rc == 0, "%s refused a message: %d %s", to->box.name, rc, err.msg);
}

static struct side *other(struct world *w, struct side *s)
{
	return s == &w->i ? &w->r : &w->i;
}

/* One message from s to the other side: delivered, and returned. */
static struct msg step(struct world *w, struct side *from)
{
	struct msg m = take(from);

	deliver(w, other(w, from), &m);
	return m;
}

/* ---- looking into messages -------------------------------------------- */

/* The SA of `to` that m is for. */
static struct ikev2_sa *sa_for(struct side *to, const uint8_t *data)
{
	struct ikev2_sa_id id;

	memcpy(id.spi_i, data, 8);
	memcpy(id.spi_r, data + 8, 8);
	return ikev2_find_sa(to->e, &id);
}

/* m parsed (and opened with `to`'s keys when encrypted) into pm, whose
 * payloads point into buf. */
static void open_msg(struct side *to, const struct msg *m, struct ikev2_msg *pm, uint8_t *buf)
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
static const char *summary(struct side *to, const struct msg *m)
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
static bool body_of(struct side *to, const struct msg *m, uint8_t type, union ikev2_body *b,
		    uint8_t *buf)
{
	struct ikev2_msg pm;
	int k = -1;
	const struct ikev2_payload *p;

	open_msg(to, m, &pm, buf);
	p = ikev2_msg_find(&pm, type, &k);
	return p && ikev2_body_parse(type, p->body.p, p->body.len, b, NULL) == 0;
}

static void expect_summary(struct side *to, const struct msg *m, const char *want)
{
	const char *got = summary(to, m);

	ck_assert_msg(strcmp(got, want) == 0, "message to %s: \"%s\", expected \"%s\"", to->box.name, got,
		      want);
}

/* ---- events ------------------------------------------------------------ */

static int count_ev(struct side *s, enum ikev2_event_kind k)
{
	drain(s);
	return outbox_count(&s->box, k);
}

static struct ikev2_event *last_ev(struct side *s, enum ikev2_event_kind k)
{
	drain(s);
	return outbox_last(&s->box, k);
}

static uint64_t stat(struct side *s, enum ikev2_stat k)
{
	return ikev2_engine_stats(s->e)->n[k];
}

/* ---- running exchanges ------------------------------------------------- */

static struct ikev2_sa_id initiate(struct world *w)
{
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };

	ck_assert_msg(ikev2_initiate(w->i.e, &w->i.pol, &w->i.ep, &w->r.ep, w->now, &id, &err) == 0,
		      "%s", err.msg);
	return id;
}

static const struct ike_child *child_of(struct side *s)
{
	return last_ev(s, IKEV2_EV_CHILD_UP)->child;
}

/* IKE_SA_INIT both ways, then the IKE_AUTH request: returns the
 * responder's IKE_AUTH answer, not yet delivered (the caller frees it). */
static struct msg auth_answer(struct world *w)
{
	initiate(w);
	free(step(w, &w->i).data);
	free(step(w, &w->r).data);
	free(step(w, &w->i).data);
	return take(&w->r);
}

/* The next message of `from`, its payloads checked, delivered. */
static void pass(struct world *w, struct side *from, const char *payloads)
{
	struct msg m = take(from);

	expect_summary(other(w, from), &m, payloads);
	deliver(w, other(w, from), &m);
	free(m.data);
}

/* One exchange started by `from`: its request and the answer. */
static void round_trip(struct world *w, struct side *from, const char *request, const char *answer)
{
	pass(w, from, request);
	pass(w, other(w, from), answer);
}

/* IKE_SA_INIT and IKE_AUTH to the end, payloads checked; returns the SA. */
static struct ikev2_sa_id establish(struct world *w)
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

/* ---- the tests ---------------------------------------------------------- */

static const struct {
	const struct ike_mm_method *mm;
	const struct ike_qm_method *qm;
	const char *what;
} suites[] = {
	{ &mm_gcm_ecp, &qm_gcm, "AES-GCM-16, ECP-256" },
	{ &mm_gcm_ecp, &qm_cbc, "AES-CBC + HMAC-SHA2-256, ECP-256" },
	{ &mm_cbc_modp, &qm_gcm, "AES-GCM-16, MODP-2048" },
	{ &mm_cbc_modp, &qm_cbc, "AES-CBC + HMAC-SHA2-256, MODP-2048" },
	{ &mm_gcm_x25519, &qm_gcm, "AES-GCM-16, Curve25519" },
	{ &mm_gcm_x25519, &qm_cbc, "AES-CBC + HMAC-SHA2-256, Curve25519" },
	{ &mm_cbc_modp, &qm_3des, "3DES + HMAC-SHA1-96, MODP-2048" },
};

START_TEST(psk_exchange_both_sides_agree)
{
	struct world w;
	const struct ike_child *ci, *cr;
	struct ikev2_sa_id id;
	struct ikev2_sa *sa_i, *sa_r;

	world_init(&w);
	pair_policy(&w.i.pol, true, suites[_i].mm, suites[_i].qm, "secret");
	pair_policy(&w.r.pol, false, suites[_i].mm, suites[_i].qm, "secret");
	world_go(&w);
	id = establish(&w);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_IKE_UP), 1);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_FAILED) + count_ev(&w.r, IKEV2_EV_FAILED), 0);
	ck_assert(!last_ev(&w.i, IKEV2_EV_NAT)->nat.local_behind_nat);
	ck_assert(!last_ev(&w.r, IKEV2_EV_NAT)->nat.remote_behind_nat);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_IKE_UP)->user, 11);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_IKE_UP)->user, 22);
	ck_assert_str_eq((const char *)last_ev(&w.r, IKEV2_EV_IKE_UP)->up.peer_id.data, "i.example");
	ci = child_of(&w.i);
	cr = child_of(&w.r);
	pair_agrees(ci, cr);
	ck_assert_uint_eq(ci->out.enc_alg, suites[_i].qm->enc_alg);
	ck_assert_uint_eq(ci->out.enc_key_len, suites[_i].qm->enc_key_len);
	ck_assert_uint_eq(ci->out.integ_key_len, ike_qm_integ_key_len(suites[_i].qm));
	ck_assert_uint_eq(ci->out.esn, suites[_i].qm->esn);
	ck_assert_uint_eq(ci->out.mode, DPSEC_MODE_TUNNEL);
	ck_assert_uint_eq(ci->in.replay_window, DPSEC_REPLAY_DEFAULT);
	ck_assert(!ci->udp_encap && !cr->udp_encap);
	ck_assert_mem_eq(ci->ike_spi_i, id.spi_i, 8);
	ck_assert_mem_eq(ci->out.remote.a, w.r.ep.addr.a, 4);
	ck_assert_mem_eq(cr->out.remote.a, w.i.ep.addr.a, 4);
	sa_i = ikev2_find_sa(w.i.e, &id);
	sa_r = ikev2_find_sa(w.r.e, &id);
	ck_assert_ptr_nonnull(sa_i);
	ck_assert_ptr_nonnull(sa_r);
	ck_assert_int_eq(sa_i->state, IKEV2_S_ESTABLISHED);
	ck_assert_int_eq(sa_r->state, IKEV2_S_ESTABLISHED);
	ck_assert_ptr_nonnull(ikev2_sa_log_find(sa_i, "state INIT_SENT -> AUTH_SENT"));
	ck_assert_ptr_nonnull(ikev2_sa_log_find(sa_r, "state INIT_DONE -> ESTABLISHED"));
	ck_assert_mem_eq(sa_i->keys.sk_d, sa_r->keys.sk_d, sa_i->keys.prf_len);
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_CHILD_ESTABLISHED), 1);
	ck_assert_uint_eq(ikev2_half_open_count(w.r.e), 0);
	world_end(&w);
}
END_TEST

START_TEST(wrong_psk_fails_on_both_sides)
{
	struct world w;
	struct msg m;
	struct ikev2_event *f;

	world_init(&w);
	pair_policy(&w.r.pol, false, &mm_gcm_ecp, &qm_gcm, "another secret");
	world_go(&w);
	m = auth_answer(&w);
	expect_summary(&w.i, &m, "N(AUTHENTICATION_FAILED)");
	deliver(&w, &w.i, &m);
	free(m.data);
	f = last_ev(&w.r, IKEV2_EV_FAILED);
	ck_assert_uint_eq(f->reason.notify, IKEV2_N_AUTHENTICATION_FAILED);
	ck_assert(f->reason.ike_sa_gone);
	ck_assert_msg(strstr(f->reason.text, "does not verify"), "[%s]", f->reason.text);
	f = last_ev(&w.i, IKEV2_EV_FAILED);
	ck_assert_uint_eq(f->reason.notify, IKEV2_N_AUTHENTICATION_FAILED);
	ck_assert_msg(strstr(f->reason.text, "refused by the peer"), "%s", f->reason.text);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP) + count_ev(&w.r, IKEV2_EV_CHILD_UP), 0);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP) + count_ev(&w.r, IKEV2_EV_IKE_UP), 0);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_AUTH_FAILURES), 1);
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_AUTH_FAILURES), 1);
	ck_assert_uint_eq(ikev2_sa_count(w.i.e) + ikev2_sa_count(w.r.e), 0);
	world_end(&w);
}
END_TEST

START_TEST(disjoint_proposals_no_proposal_chosen)
{
	struct world w;
	struct ikev2_event *f;

	world_init(&w);
	pair_policy(&w.r.pol, false, &mm_cbc_modp, &qm_gcm, "secret");
	world_go(&w);
	initiate(&w);
	free(step(&w, &w.i).data);
	pass(&w, &w.r, "N(NO_PROPOSAL_CHOSEN)");
	f = last_ev(&w.i, IKEV2_EV_FAILED);
	ck_assert_uint_eq(f->reason.notify, IKEV2_N_NO_PROPOSAL_CHOSEN);
	ck_assert(f->reason.ike_sa_gone);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_NEGOTIATION_FAILURES), 1);
	ck_assert_uint_eq(ikev2_sa_count(w.r.e), 0);
	ck_assert_uint_eq(ikev2_sa_count(w.i.e), 0);
	world_end(&w);
}
END_TEST

/* IKE SA agreed, child SA methods disjoint: the IKE SA stays, no child. */
START_TEST(disjoint_child_proposals_keep_the_ike_sa)
{
	struct world w;
	struct msg m;
	struct ikev2_event *f;

	world_init(&w);
	pair_policy(&w.r.pol, false, &mm_gcm_ecp, &qm_cbc, "secret");
	world_go(&w);
	m = auth_answer(&w);
	expect_summary(&w.i, &m, "IDr AUTH N(NO_PROPOSAL_CHOSEN)");
	deliver(&w, &w.i, &m);
	free(m.data);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_IKE_UP), 1);
	f = last_ev(&w.i, IKEV2_EV_FAILED);
	ck_assert_uint_eq(f->reason.notify, IKEV2_N_NO_PROPOSAL_CHOSEN);
	ck_assert(!f->reason.ike_sa_gone);
	ck_assert(!last_ev(&w.r, IKEV2_EV_FAILED)->reason.ike_sa_gone);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP) + count_ev(&w.r, IKEV2_EV_CHILD_UP), 0);
	world_end(&w);
}
END_TEST

START_TEST(invalid_ke_then_retry_with_the_requested_group)
{
	struct world w;
	struct msg m;
	union ikev2_body b;
	uint8_t buf[IKE_MSG_MAX];

	world_init(&w);
	w.i.pol.n_mm = 2; /* KE for ECP-256, MODP-2048 also offered */
	w.i.pol.mm[0] = mm_gcm_ecp;
	w.i.pol.mm[1] = mm_cbc_modp;
	w.r.pol.n_mm = 2; /* the responder prefers MODP-2048 */
	w.r.pol.mm[0] = mm_cbc_modp;
	w.r.pol.mm[1] = mm_gcm_ecp;
	world_go(&w);
	initiate(&w);
	m = step(&w, &w.i);
	ck_assert(body_of(&w.r, &m, IKEV2_PL_KE, &b, buf));
	ck_assert_uint_eq(b.ke.group, IKE_DH_ECP_256);
	free(m.data);
	m = take(&w.r);
	expect_summary(&w.i, &m, "N(INVALID_KE_PAYLOAD)");
	ck_assert(body_of(&w.i, &m, IKEV2_PL_NOTIFY, &b, buf));
	ck_assert_uint_eq(ike_get16(b.notify.data.p), IKE_DH_MODP_2048);
	ck_assert_uint_eq(ikev2_sa_count(w.r.e), 0); /* stateless */
	deliver(&w, &w.i, &m);
	free(m.data);
	m = take(&w.i);
	ck_assert(body_of(&w.r, &m, IKEV2_PL_KE, &b, buf));
	ck_assert_uint_eq(b.ke.group, IKE_DH_MODP_2048);
	deliver(&w, &w.r, &m);
	free(m.data);
	free(step(&w, &w.r).data);
	free(step(&w, &w.i).data);
	free(step(&w, &w.r).data);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_IKE_UP)->up.mm.dh_group, IKE_DH_MODP_2048);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_IKE_UP)->up.mm.suite.encr, IKE_ENCR_AES_CBC);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_INVALID_KE), 1);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_INVALID_KE), 1);
	world_end(&w);
}
END_TEST

START_TEST(cookie_challenge_then_success)
{
	struct world w;
	struct msg m;

	world_init(&w);
	w.r.conf.cookie_threshold = 0; /* always */
	world_go(&w);
	initiate(&w);
	free(step(&w, &w.i).data);
	m = take(&w.r);
	expect_summary(&w.i, &m, "N(COOKIE)");
	ck_assert_uint_eq(ikev2_sa_count(w.r.e), 0);
	deliver(&w, &w.i, &m);
	free(m.data);
	pass(&w, &w.i, "N(COOKIE) " INIT_PAYLOADS);
	ck_assert_uint_eq(ikev2_half_open_count(w.r.e), 1);
	free(step(&w, &w.r).data);
	free(step(&w, &w.i).data);
	free(step(&w, &w.r).data);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_COOKIES_SENT), 1);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_INVALID_COOKIES), 0);
	world_end(&w);
}
END_TEST

/* A cookie changed in flight is refused: no state, a fresh challenge,
 * counted. */
START_TEST(wrong_cookie_refused)
{
	struct world w;
	struct msg m;

	world_init(&w);
	w.r.conf.cookie_threshold = 0;
	world_go(&w);
	initiate(&w);
	free(step(&w, &w.i).data);
	free(step(&w, &w.r).data);
	m = take(&w.i);
	m.data[IKEV2_HDR_LEN + 8 + 4] ^= 0x01; /* inside the cookie's hash (after N header, version) */
	deliver(&w, &w.r, &m);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_INVALID_COOKIES), 1);
	ck_assert_uint_eq(ikev2_sa_count(w.r.e), 0);
	free(m.data);
	m = take(&w.r);
	expect_summary(&w.i, &m, "N(COOKIE)");
	free(m.data);
	world_end(&w);
}
END_TEST

/* One address holds at most half_open_per_source half-open SAs: its next
 * IKE_SA_INIT goes unanswered (counted) until one of them completes. */
START_TEST(half_open_limit_per_source)
{
	struct world w;
	struct msg m;

	world_init(&w);
	w.r.conf.half_open_per_source = 2;
	world_go(&w);
	for (int k = 0; k < 3; k++) {
		initiate(&w);
		free(step(&w, &w.i).data);
	}
	ck_assert_uint_eq(ikev2_half_open_from(w.r.e, &w.i.ep.addr), 2);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_HALF_OPEN_LIMIT), 1);
	drain(&w.r);
	ck_assert_int_eq(w.r.box.n_out, 2); /* two answers, none for the third */
	for (int k = 0; k < 2; k++) {   /* both answered SAs complete: no longer half-open */
		free(step(&w, &w.r).data);
		free(step(&w, &w.i).data);
	}
	ck_assert_uint_eq(ikev2_half_open_from(w.r.e, &w.i.ep.addr), 0);
	initiate(&w);
	m = take(&w.i);
	deliver(&w, &w.r, &m);
	free(m.data);
	ck_assert_uint_eq(ikev2_half_open_from(w.r.e, &w.i.ep.addr), 1);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_HALF_OPEN_LIMIT), 1);
	world_end(&w);
}
END_TEST

/* ---- fragmentation (RFC 7383) ---- */

#define SMALL_FRAGMENTS 128 /* bytes: IKE_AUTH needs several */

/* IKE_SA_INIT both ways with fragments agreed; the initiator's IKE_AUTH
 * request is then waiting, in fragments, on its side. */
static void init_with_small_fragments(struct world *w)
{
	w->i.conf.fragment_size = w->r.conf.fragment_size = SMALL_FRAGMENTS;
	world_go(w);
	initiate(w);
	free(step(w, &w->i).data);
	free(step(w, &w->r).data);
	drain(&w->i);
}

/* Every datagram s has waiting: a fragment (SKF its only payload) of at
 * most SMALL_FRAGMENTS bytes, numbered 1..n of n in order, the first
 * naming the message's first inner payload. Returns n. */
static int check_fragments(struct side *s, uint8_t first)
{
	drain(s);
	for (int k = 0; k < s->box.n_out; k++) {
		const uint8_t *d = s->box.out[k].data;

		ck_assert_uint_le(s->box.out[k].len, SMALL_FRAGMENTS);
		ck_assert_uint_eq(d[16], IKEV2_PL_SKF);                   /* the only payload */
		ck_assert_uint_eq(ike_get16(d + IKEV2_HDR_LEN + 4), k + 1); /* Fragment Number */
		ck_assert_uint_eq(ike_get16(d + IKEV2_HDR_LEN + 6), s->box.n_out);
		ck_assert_uint_eq(d[IKEV2_HDR_LEN], (k == 0 ? first : IKEV2_PL_NONE));
	}
	return s->box.n_out;
}

/* Delivers every waiting datagram of `from`, in order or last first. */
static void deliver_all(struct world *w, struct side *from, bool reversed)
{
	drain(from);
	for (int j = 0; j < from->box.n_out; j++) {
		int k = reversed ? from->box.n_out - 1 - j : j;

		deliver(w, other(w, from), &from->box.out[k]);
		free(from->box.out[k].data);
	}
	from->box.n_out = 0;
}

/* IKE_AUTH both ways in fragments, delivered out of order: reassembled,
 * the SA and its child come up as without fragments. */
START_TEST(ike_auth_in_fragments)
{
	struct world w;
	int n;

	world_init(&w);
	init_with_small_fragments(&w);
	n = check_fragments(&w.i, IKEV2_PL_IDI);
	ck_assert_int_ge(n, 2);
	deliver_all(&w, &w.i, true);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_REASSEMBLED), 1);
	ck_assert_int_ge(check_fragments(&w.r, IKEV2_PL_IDR), 2);
	deliver_all(&w, &w.r, true);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_IKE_UP), 1);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_FRAGMENTED), 1);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_FRAGMENTED), 1);
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_REASSEMBLED), 1);
	world_end(&w);
}
END_TEST

/* A copy of a fragment adds nothing; a changed one fails its ICV and is
 * dropped (counted) while the good fragments wait; the request's
 * retransmission (every fragment again) completes it; the answer's loss
 * makes the initiator send all fragments again, and the responder
 * replays its cached answer once, on fragment 1 (RFC 7383 §2.6.1; here
 * it comes last). */
START_TEST(fragments_copied_forged_and_retransmitted)
{
	struct world w;
	struct ike_err err = { 0 };
	struct msg m;
	int n;

	world_init(&w);
	init_with_small_fragments(&w);
	n = check_fragments(&w.i, IKEV2_PL_IDI);
	m = w.i.box.out[0];
	deliver(&w, &w.r, &m);
	deliver(&w, &w.r, &m); /* a copy */
	m.data[m.len - 1] ^= 0x80;
	ck_assert_int_eq(feed(&w, &w.r, &m, &err), -EKEYREJECTED);
	m.data[m.len - 1] ^= 0x80;
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_INTEGRITY_FAILED), 1);
	nothing_sent(&w.r); /* still waiting for the rest */
	for (int k = 0; k < n; k++)
		free(w.i.box.out[k].data);
	w.i.box.n_out = 0;
	w.now += w.i.conf.retransmit_base_ms;
	ikev2_tick(w.i.e, w.now);
	ck_assert_int_eq(check_fragments(&w.i, IKEV2_PL_IDI), n); /* the whole message again */
	deliver_all(&w, &w.i, false); /* its fragment 1 a copy of the one kept */
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_REASSEMBLED), 1);
	n = check_fragments(&w.r, IKEV2_PL_IDR);
	for (int k = 0; k < n; k++) /* the answer lost */
		free(w.r.box.out[k].data);
	w.r.box.n_out = 0;
	w.now += 2 * w.i.conf.retransmit_base_ms;
	ikev2_tick(w.i.e, w.now);
	deliver_all(&w, &w.i, true);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_REPLAYED_RESPONSES), 1);
	ck_assert_int_eq(check_fragments(&w.r, IKEV2_PL_IDR), n);
	deliver_all(&w, &w.r, true);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	world_end(&w);
}
END_TEST

/* Without the responder's agreement nothing is fragmented, however long. */
START_TEST(no_fragments_unless_both_agree)
{
	struct world w;

	world_init(&w);
	w.i.conf.fragment_size = SMALL_FRAGMENTS;
	w.r.conf.fragment_size = 0;
	world_go(&w);
	initiate(&w);
	free(step(&w, &w.i).data);
	pass(&w, &w.r, "SA KE Nonce N(NAT_DETECTION_SOURCE_IP) N(NAT_DETECTION_DESTINATION_IP)");
	drain(&w.i);
	ck_assert_int_eq(w.i.box.n_out, 1);
	ck_assert_uint_gt(w.i.box.out[0].len, SMALL_FRAGMENTS);
	pass(&w, &w.i, "IDi AUTH N(INITIAL_CONTACT) IDr SA TSi TSr");
	pass(&w, &w.r, "IDr AUTH SA TSi TSr");
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_FRAGMENTED), 0);
	world_end(&w);
}
END_TEST

/* A cookie stays valid across one change of the secret, not two. */
START_TEST(cookie_secret_rotation)
{
	struct world w;
	struct msg retry;

	world_init(&w);
	w.r.conf.cookie_threshold = 0;
	world_go(&w);
	for (int changes = 1; changes <= 2; changes++) {
		initiate(&w);
		free(step(&w, &w.i).data);
		free(step(&w, &w.r).data);
		retry = take(&w.i);
		for (int k = 0; k < changes; k++)
			ikev2_new_cookie_secret(w.r.e);
		deliver(&w, &w.r, &retry);
		free(retry.data);
		retry = take(&w.r);
		expect_summary(&w.i, &retry, changes == 1 ? INIT_PAYLOADS : "N(COOKIE)");
		free(retry.data);
	}
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_INVALID_COOKIES), 1);
	ck_assert_uint_eq(ikev2_half_open_count(w.r.e), 1);
	world_end(&w);
}
END_TEST

START_TEST(dropped_response_retransmitted_and_replayed)
{
	struct world w;
	struct msg req, resp, again, replay;
	uint64_t t0;

	world_init(&w);
	world_go(&w);
	initiate(&w);
	free(step(&w, &w.i).data);
	free(step(&w, &w.r).data);
	t0 = w.now;
	req = step(&w, &w.i);      /* IKE_AUTH request */
	resp = take(&w.r);         /* ...its response is lost */
	ck_assert_uint_eq(ikev2_next_timer(w.i.e), t0 + 500);
	ikev2_tick(w.i.e, t0 + 499);
	nothing_sent(&w.i);
	w.now = t0 + 500;
	ikev2_tick(w.i.e, w.now);
	again = take(&w.i);
	ck_assert_uint_eq(again.len, req.len);
	ck_assert_mem_eq(again.data, req.data, req.len);
	ck_assert_uint_eq(ikev2_next_timer(w.i.e), t0 + 1500);
	deliver(&w, &w.r, &again);
	replay = take(&w.r);
	ck_assert_uint_eq(replay.len, resp.len); /* byte-identical */
	ck_assert_mem_eq(replay.data, resp.data, resp.len);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_REPLAYED_RESPONSES), 1);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_UP), 1); /* not made twice */
	deliver(&w, &w.i, &replay);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	ck_assert_uint_eq(ikev2_next_timer(w.i.e), UINT64_MAX);
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_RETRANSMITS), 1);
	free(req.data);
	free(resp.data);
	free(again.data);
	free(replay.data);
	world_end(&w);
}
END_TEST

/* No answer at all: resent at 0.5, 1.5, 3.5, 7.5, 15.5 s, given up at 31.5 s. */
START_TEST(no_answer_given_up_after_the_tries)
{
	static const uint64_t at[] = { 500, 1500, 3500, 7500, 15500 };
	struct world w;
	struct ikev2_event *f;
	uint64_t t0;

	world_init(&w);
	world_go(&w);
	t0 = w.now;
	initiate(&w);
	free(take(&w.i).data);
	for (size_t k = 0; k < N(at); k++) {
		ck_assert_uint_eq(ikev2_next_timer(w.i.e), t0 + at[k]);
		ikev2_tick(w.i.e, t0 + at[k] - 1);
		nothing_sent(&w.i);
		ikev2_tick(w.i.e, t0 + at[k]);
		free(take(&w.i).data);
	}
	ck_assert_uint_eq(ikev2_next_timer(w.i.e), t0 + 31500);
	ikev2_tick(w.i.e, t0 + 31499);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_FAILED), 0);
	ikev2_tick(w.i.e, t0 + 31500);
	nothing_sent(&w.i);
	f = last_ev(&w.i, IKEV2_EV_FAILED);
	ck_assert(f->reason.ike_sa_gone);
	ck_assert_msg(strstr(f->reason.text, "did not answer IKE_SA_INIT after 5"), "%s", f->reason.text);
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_RETRANSMITS), 5);
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_PEER_TIMEOUTS), 1);
	ck_assert_uint_eq(ikev2_sa_count(w.i.e), 0);
	world_end(&w);
}
END_TEST

/* i behind a NAT: both see it, IKE_AUTH moves to port 4500. */
START_TEST(nat_detected_and_port_4500)
{
	struct world w;
	struct msg m;

	world_init(&w);
	w.i.ep = (struct ike_endpoint){ v4(192, 168, 1, 2), 500 };
	w.nat = true;
	w.nat_ep = (struct ike_endpoint){ v4(203, 0, 113, 7), 31000 };
	world_go(&w);
	initiate(&w);
	free(step(&w, &w.i).data);
	free(step(&w, &w.r).data);
	ck_assert(last_ev(&w.i, IKEV2_EV_NAT)->nat.local_behind_nat);
	ck_assert(!last_ev(&w.i, IKEV2_EV_NAT)->nat.remote_behind_nat);
	ck_assert(last_ev(&w.r, IKEV2_EV_NAT)->nat.remote_behind_nat);
	ck_assert(!last_ev(&w.r, IKEV2_EV_NAT)->nat.local_behind_nat);
	m = take(&w.i);
	ck_assert_uint_eq(m.from.port, IKEV2_NATT_PORT);
	ck_assert_uint_eq(m.to.port, IKEV2_NATT_PORT);
	w.nat_ep.port = 31001; /* the NAT's mapping for port 4500 */
	deliver(&w, &w.r, &m);
	free(m.data);
	m = take(&w.r); /* answered where the initiator now sends from */
	ck_assert_uint_eq(m.to.port, 31001);
	ck_assert_uint_eq(m.from.port, IKEV2_NATT_PORT);
	deliver(&w, &w.i, &m);
	free(m.data);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	ck_assert_mem_eq(child_of(&w.r)->out.remote.a, w.nat_ep.addr.a, 4);
	ck_assert(child_of(&w.r)->udp_encap);
	ck_assert_uint_eq(child_of(&w.r)->remote_port, 31001);
	ck_assert(child_of(&w.i)->udp_encap);
	ck_assert_uint_eq(child_of(&w.i)->local_port, IKEV2_NATT_PORT);
	world_end(&w);
}
END_TEST

START_TEST(traffic_selectors_narrowed)
{
	struct world w;
	const struct ike_child *ci, *cr;
	char text[128];

	world_init(&w);
	w.i.pol.ts_local = ts_prefix(v4(10, 0, 0, 0), 8);
	w.r.pol.ts_remote = ts_prefix(v4(10, 1, 0, 0), 16);
	world_go(&w);
	establish(&w);
	ci = child_of(&w.i);
	cr = child_of(&w.r);
	ck_assert_uint_eq(ci->ts_local.n, 1);
	ike_ts_describe(&ci->ts_local.ts[0], text, sizeof(text));
	ck_assert_str_eq(text, "10.1.0.0-10.1.255.255 proto 0 ports 0-65535");
	ike_ts_describe(&cr->ts_remote.ts[0], text, sizeof(text));
	ck_assert_str_eq(text, "10.1.0.0-10.1.255.255 proto 0 ports 0-65535");
	ike_ts_describe(&cr->ts_local.ts[0], text, sizeof(text));
	ck_assert_str_eq(text, "10.2.0.0-10.2.255.255 proto 0 ports 0-65535");
	world_end(&w);
}
END_TEST

START_TEST(traffic_selectors_unacceptable)
{
	struct world w;
	struct msg m;

	world_init(&w);
	w.r.pol.ts_remote = ts_prefix(v4(172, 16, 0, 0), 12);
	world_go(&w);
	m = auth_answer(&w);
	expect_summary(&w.i, &m, "IDr AUTH N(TS_UNACCEPTABLE)");
	deliver(&w, &w.i, &m);
	free(m.data);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_FAILED)->reason.notify, IKEV2_N_TS_UNACCEPTABLE);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	world_end(&w);
}
END_TEST

static uint32_t next_spi = 0x10000;

static uint32_t spi_from_the_sa_manager(void *ctx)
{
	(void)ctx;
	return next_spi++;
}

/* Transport mode when both policies ask; inbound SPIs from the caller. */
START_TEST(transport_mode_and_allocated_spis)
{
	struct world w;
	const struct ike_child *ci, *cr;

	world_init(&w);
	w.i.pol.transport = w.r.pol.transport = true;
	w.r.conf.spi_alloc = spi_from_the_sa_manager;
	world_go(&w);
	initiate(&w);
	free(step(&w, &w.i).data);
	free(step(&w, &w.r).data);
	pass(&w, &w.i, "IDi AUTH N(INITIAL_CONTACT) IDr SA TSi TSr N(USE_TRANSPORT_MODE)");
	pass(&w, &w.r, "IDr AUTH SA TSi TSr N(USE_TRANSPORT_MODE)");
	ci = child_of(&w.i);
	cr = child_of(&w.r);
	pair_agrees(ci, cr);
	ck_assert_uint_eq(ci->out.mode, DPSEC_MODE_TRANSPORT);
	ck_assert_uint_eq(cr->in.spi, 0x10000);
	ck_assert_uint_eq(ci->out.spi, 0x10000);
	world_end(&w);
}
END_TEST

/* One peer, two rules: the responder's lookup at IKE_AUTH is told the
 * selectors and mode the initiator asks for, and its choice (here the
 * transport rule, user 33) is the one the child SA is made by. */
START_TEST(responder_policy_chosen_by_the_child_asked_for)
{
	struct world w;
	const struct ike_child *cr;
	const struct ikev2_event *up;

	world_init(&w);
	w.i.pol.transport = true;
	w.r.pol_transport = w.r.pol;
	w.r.pol_transport.user = 33;
	w.r.pol_transport.transport = true;
	w.r.by_mode = true;
	world_go(&w);
	initiate(&w);
	free(step(&w, &w.i).data);
	ck_assert_int_eq(w.r.lookups_with_ts, 0); /* IKE_SA_INIT: addresses only */
	free(step(&w, &w.r).data);
	pass(&w, &w.i, "IDi AUTH N(INITIAL_CONTACT) IDr SA TSi TSr N(USE_TRANSPORT_MODE)");
	ck_assert_int_eq(w.r.lookups_with_ts, 1);
	ck_assert_int_eq(w.r.seen_ts_i.n, 1);
	ck_assert_int_eq(memcmp(&w.r.seen_ts_i.ts[0], &w.i.pol.ts_local.ts[0], sizeof(struct ike_ts)), 0);
	pass(&w, &w.r, "IDr AUTH SA TSi TSr N(USE_TRANSPORT_MODE)");
	cr = child_of(&w.r);
	ck_assert_uint_eq(cr->in.mode, DPSEC_MODE_TRANSPORT);
	up = last_ev(&w.r, IKEV2_EV_CHILD_UP);
	ck_assert_uint_eq(up->user, 33);
	ike_auth_wipe(&w.r.pol_transport.local_auth);
	ike_auth_wipe(&w.r.pol_transport.remote_auth);
	world_end(&w);
}
END_TEST

START_TEST(child_rekey_with_pfs)
{
	struct world w;
	struct ike_qm_method pfs = qm_gcm;
	struct ikev2_sa_id id;
	struct ike_child old_i, old_r;
	const struct ike_child *ni, *nr;
	struct ike_err err = { 0 };
	struct ikev2_event *d;

	pfs.dh_group = IKE_DH_ECP_256;
	world_init(&w);
	w.i.pol.qm[0] = pfs;
	w.r.pol.qm[0] = pfs;
	world_go(&w);
	id = establish(&w);
	old_i = *child_of(&w.i);
	old_r = *child_of(&w.r);
	ck_assert_uint_eq(old_i.method.dh_group, 0); /* no KE in IKE_AUTH */
	ck_assert_int_eq(ikev2_rekey_child(w.i.e, &id, old_i.in.spi, w.now, &err), 0);
	round_trip(&w, &w.i, "N(REKEY_SA) SA TSi TSr Nonce KE", "SA TSi TSr Nonce KE");
	ni = child_of(&w.i);
	nr = child_of(&w.r);
	pair_agrees(ni, nr);
	ck_assert_uint_eq(ni->rekeys_spi, old_i.in.spi);
	ck_assert_uint_eq(nr->rekeys_spi, old_r.in.spi);
	ck_assert_uint_eq(ni->method.dh_group, IKE_DH_ECP_256);
	ck_assert_uint_ne(ni->in.spi, old_i.in.spi);
	ck_assert_uint_ne(ni->out.spi, old_i.out.spi);
	ck_assert(memcmp(ni->in.enc_key, old_i.in.enc_key, 32) != 0);
	ck_assert(memcmp(ni->out.enc_key, old_i.out.enc_key, 32) != 0);
	/* make-before-break: the old pair is deleted after the new one is up */
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_DOWN), 0);
	round_trip(&w, &w.i, "D", "D");
	d = last_ev(&w.i, IKEV2_EV_CHILD_DOWN);
	ck_assert_uint_eq(d->child_down.spi_in, old_i.in.spi);
	ck_assert_uint_eq(d->child_down.spi_out, old_i.out.spi);
	d = last_ev(&w.r, IKEV2_EV_CHILD_DOWN);
	ck_assert_uint_eq(d->child_down.spi_in, old_r.in.spi);
	ck_assert_uint_eq(ikev2_find_sa(w.i.e, &id)->children.n, 1);
	ck_assert_uint_eq(ikev2_find_sa(w.r.e, &id)->children.n, 1);
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_CHILD_REKEYS), 1);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_CHILD_REKEYS), 1);
	ike_child_wipe(&old_i);
	ike_child_wipe(&old_r);
	world_end(&w);
}
END_TEST

START_TEST(new_child_sa_on_established_ike_sa)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };

	world_init(&w);
	world_go(&w);
	id = establish(&w);
	ck_assert_int_eq(ikev2_create_child(w.i.e, &id, w.now, &err), 0);
	round_trip(&w, &w.i, "SA TSi TSr Nonce", "SA TSi TSr Nonce");
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 2);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	ck_assert_uint_eq(child_of(&w.i)->rekeys_spi, 0);
	world_end(&w);
}
END_TEST

/* A KE of another group than the responder's choice in CREATE_CHILD_SA:
 * INVALID_KE_PAYLOAD, the child fails on both sides, the IKE SA stays. */
START_TEST(create_child_with_pfs_for_another_group)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	struct ike_qm_method ecp = qm_gcm, modp = qm_gcm;
	struct ikev2_event *f;

	world_init(&w);
	ecp.dh_group = IKE_DH_ECP_256;
	modp.dh_group = IKE_DH_MODP_2048;
	w.i.pol.n_qm = 2; /* KE for ECP-256, MODP-2048 also offered */
	w.i.pol.qm[0] = ecp;
	w.i.pol.qm[1] = modp;
	w.r.pol.qm[0] = modp;
	world_go(&w);
	id = establish(&w);
	ck_assert_int_eq(ikev2_create_child(w.i.e, &id, w.now, &err), 0);
	round_trip(&w, &w.i, "SA TSi TSr Nonce KE", "N(INVALID_KE_PAYLOAD)");
	f = last_ev(&w.i, IKEV2_EV_FAILED);
	ck_assert_uint_eq(f->reason.notify, IKEV2_N_INVALID_KE_PAYLOAD);
	ck_assert(!f->reason.ike_sa_gone);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_FAILED)->reason.notify, IKEV2_N_INVALID_KE_PAYLOAD);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 1); /* the first one only */
	ck_assert_int_eq(ikev2_find_sa(w.i.e, &id)->state, IKEV2_S_ESTABLISHED);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_INVALID_KE), 1);
	world_end(&w);
}
END_TEST

/* The pieces of a message for `to`: nonce and KE data copied out. */
static void nonce_ke(struct side *to, const struct msg *m, uint8_t *nonce, size_t *nonce_len,
		     uint8_t *ke, size_t *ke_len)
{
	static uint8_t buf[IKE_MSG_MAX];
	union ikev2_body b;

	ck_assert(body_of(to, m, IKEV2_PL_NONCE, &b, buf));
	memcpy(nonce, b.nonce.p, b.nonce.len);
	*nonce_len = b.nonce.len;
	if (ke == NULL)
		return;
	ck_assert(body_of(to, m, IKEV2_PL_KE, &b, buf));
	memcpy(ke, b.ke.data.p, b.ke.data.len);
	*ke_len = b.ke.data.len;
}

/* g^ir as the responder (fixed key) computes it from the initiator's KE. */
static size_t fixed_g_ir(uint16_t group, const uint8_t *ke, size_t ke_len, uint8_t *g_ir)
{
	struct ike_dh *dh;
	struct ike_err err = { 0 };
	size_t len = 0;

	ck_assert_msg(ike_dh_new_fixed_for_test(group, fixed_priv, sizeof(fixed_priv), &dh, &err) == 0,
		      "%s", err.msg);
	ck_assert_msg(ike_dh_derive(dh, ke, ke_len, g_ir, IKE_DH_SECRET_MAX, &len, &err) == 0, "%s",
		      err.msg);
	ike_dh_free(dh);
	return len;
}

static void ref_keys(struct ref *r, const struct ikev2_keys *k, const uint8_t *seed,
		     const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
		     const struct ikev2_sa_id *id)
{
	ref_op(r, "keys");
	ref_add(r, " %s", md_name(k->suite.prf));
	ref_hex(r, seed, k->prf_len);
	ref_hex(r, ni, ni_len);
	ref_hex(r, nr, nr_len);
	ref_hex(r, id->spi_i, 8);
	ref_hex(r, id->spi_r, 8);
	ref_add(r, " %u %u", k->a_len, k->e_len);
}

static void expect_keys(struct ref *r, const struct ikev2_keys *k)
{
	ref_expect(r, k->sk_d, k->prf_len, "SK_d");
	ref_expect(r, k->sk_ai, k->a_len, "SK_ai");
	ref_expect(r, k->sk_ar, k->a_len, "SK_ar");
	ref_expect(r, k->sk_ei, k->e_len, "SK_ei");
	ref_expect(r, k->sk_er, k->e_len, "SK_er");
	ref_expect(r, k->sk_pi, k->prf_len, "SK_pi");
	ref_expect(r, k->sk_pr, k->prf_len, "SK_pr");
}

/* The key schedule of a real exchange, recomputed by ike_crypto_ref.py from
 * the nonces and SPIs on the wire and g^ir (the responder's key pair is
 * fixed by the test hook): SKEYSEED, SK_d..SK_pr of both SAs, and the
 * child SA's KEYMAT cut as RFC 7296 §2.17 and RFC 4106 §8.1 say. */
START_TEST(key_schedule_matches_reference)
{
	struct world w;
	uint8_t ni[256], nr[256], ke[256], g_ir[IKE_DH_SECRET_MAX], seed[IKE_PRF_MAX], km[200];
	size_t ni_len, nr_len, ke_len, g_len, km_len;
	const struct ike_child *c;
	struct ikev2_sa_id id;
	struct ikev2_sa *sa;
	struct msg m1, m2;
	struct ref r = { 0 };
	struct ike_err err = { 0 };

	world_init(&w);
	pair_policy(&w.i.pol, true, &mm_gcm_x25519, &qm_gcm, "secret");
	pair_policy(&w.r.pol, false, &mm_gcm_x25519, &qm_gcm, "secret");
	w.r.conf.test_dh_private = fixed_priv;
	w.r.conf.test_dh_private_len = sizeof(fixed_priv);
	world_go(&w);
	id = initiate(&w);
	m1 = step(&w, &w.i);
	m2 = step(&w, &w.r);
	nonce_ke(&w.r, &m1, ni, &ni_len, ke, &ke_len);
	nonce_ke(&w.i, &m2, nr, &nr_len, NULL, NULL);
	memcpy(id.spi_r, m2.data + 8, 8);
	g_len = fixed_g_ir(IKE_DH_CURVE25519, ke, ke_len, g_ir);
	free(step(&w, &w.i).data);
	free(step(&w, &w.r).data);
	sa = ikev2_find_sa(w.i.e, &id);
	ck_assert_ptr_nonnull(sa);
	ck_assert_int_eq(ikev2_skeyseed(sa->keys.suite.prf, IKE_CHUNK(ni, ni_len), IKE_CHUNK(nr, nr_len),
					IKE_CHUNK(g_ir, g_len), seed, &err), 0);
	ref_op(&r, "skeyseed");
	ref_add(&r, " %s", md_name(sa->keys.suite.prf));
	ref_hex(&r, ni, ni_len);
	ref_hex(&r, nr, nr_len);
	ref_hex(&r, g_ir, g_len);
	ref_keys(&r, &sa->keys, seed, ni, ni_len, nr, nr_len, &id);
	km_len = 2 * (32 + 4);
	ref_op(&r, "child");
	ref_add(&r, " %s", md_name(sa->keys.suite.prf));
	ref_hex(&r, sa->keys.sk_d, sa->keys.prf_len);
	ref_hex(&r, NULL, 0);
	ref_hex(&r, ni, ni_len);
	ref_hex(&r, nr, nr_len);
	ref_add(&r, " %zu", km_len);
	ref_run(&r);
	ref_expect(&r, seed, sa->keys.prf_len, "SKEYSEED");
	expect_keys(&r, &sa->keys);
	memcpy(km, ref_take(&r, km_len, "KEYMAT"), km_len);
	ref_done(&r);
	ck_assert_mem_eq(sa->keys.sk_er, ikev2_find_sa(w.r.e, &id)->keys.sk_er, sa->keys.e_len);
	c = child_of(&w.i); /* initiator-to-responder first: the initiator's outbound */
	ck_assert_mem_eq(c->out.enc_key, km, 32);
	ck_assert_mem_eq(c->out.salt, km + 32, 4);
	ck_assert_mem_eq(c->in.enc_key, km + 36, 32);
	ck_assert_mem_eq(c->in.salt, km + 68, 4);
	pair_agrees(c, child_of(&w.r));
	free(m1.data);
	free(m2.data);
	world_end(&w);
}
END_TEST

/* IKE SA rekey: new SPIs, SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)
 * recomputed by the reference, children moved, old SA deleted, and the new
 * one carries exchanges. */
START_TEST(ike_sa_rekey)
{
	struct world w;
	uint8_t ni[256], nr[256], ke[256], g_ir[IKE_DH_SECRET_MAX], seed[IKE_PRF_MAX], old_d[IKE_PRF_MAX];
	size_t ni_len, nr_len, ke_len, g_len;
	struct ikev2_sa_id id, new_i, new_r;
	struct ikev2_sa *old, *sa_i, *sa_r;
	struct ike_err err = { 0 };
	uint16_t old_prf;
	struct ref r = { 0 };
	struct msg m;

	world_init(&w);
	pair_policy(&w.i.pol, true, &mm_gcm_x25519, &qm_gcm, "secret");
	pair_policy(&w.r.pol, false, &mm_gcm_x25519, &qm_gcm, "secret");
	w.r.conf.test_dh_private = fixed_priv;
	w.r.conf.test_dh_private_len = sizeof(fixed_priv);
	world_go(&w);
	id = establish(&w);
	old = ikev2_find_sa(w.i.e, &id);
	old_prf = old->keys.suite.prf;
	memcpy(old_d, old->keys.sk_d, old->keys.prf_len);
	ck_assert_int_eq(ikev2_rekey_ike(w.i.e, &id, w.now, &err), 0);
	m = take(&w.i);
	expect_summary(&w.r, &m, "SA Nonce KE");
	nonce_ke(&w.r, &m, ni, &ni_len, ke, &ke_len);
	deliver(&w, &w.r, &m);
	free(m.data);
	m = take(&w.r);
	expect_summary(&w.i, &m, "SA Nonce KE");
	nonce_ke(&w.i, &m, nr, &nr_len, NULL, NULL);
	deliver(&w, &w.i, &m);
	free(m.data);
	new_i = last_ev(&w.i, IKEV2_EV_IKE_REKEYED)->rekeyed.new_sa;
	new_r = last_ev(&w.r, IKEV2_EV_IKE_REKEYED)->rekeyed.new_sa;
	ck_assert_mem_eq(&new_i, &new_r, sizeof(new_i));
	ck_assert(memcmp(new_i.spi_i, id.spi_i, 8) != 0 && memcmp(new_i.spi_r, id.spi_r, 8) != 0);
	sa_i = ikev2_find_sa(w.i.e, &new_i);
	sa_r = ikev2_find_sa(w.r.e, &new_r);
	ck_assert_uint_eq(sa_i->children.n, 1);
	ck_assert_uint_eq(sa_r->children.n, 1);
	ck_assert_uint_eq(ikev2_find_sa(w.i.e, &id)->children.n, 0);
	g_len = fixed_g_ir(IKE_DH_CURVE25519, ke, ke_len, g_ir);
	ck_assert_int_eq(ikev2_skeyseed_rekey(old_prf, IKE_CHUNK(old_d, ike_prf_len(old_prf)),
					      IKE_CHUNK(g_ir, g_len), IKE_CHUNK(ni, ni_len),
					      IKE_CHUNK(nr, nr_len), seed, &err), 0);
	ref_op(&r, "skeyseed-rekey");
	ref_add(&r, " %s", md_name(old_prf));
	ref_hex(&r, old_d, ike_prf_len(old_prf));
	ref_hex(&r, g_ir, g_len);
	ref_hex(&r, ni, ni_len);
	ref_hex(&r, nr, nr_len);
	ref_keys(&r, &sa_i->keys, seed, ni, ni_len, nr, nr_len, &new_i);
	ref_run(&r);
	ref_expect(&r, seed, ike_prf_len(old_prf), "rekeyed SKEYSEED");
	expect_keys(&r, &sa_i->keys);
	ref_done(&r);
	ck_assert_mem_eq(sa_i->keys.sk_d, sa_r->keys.sk_d, sa_i->keys.prf_len);
	/* the rekey's initiator deletes the old SA */
	pass(&w, &w.i, "D");
	free(step(&w, &w.r).data);
	ck_assert_mem_eq(&last_ev(&w.i, IKEV2_EV_IKE_DOWN)->sa, &id, sizeof(id));
	ck_assert_mem_eq(&last_ev(&w.r, IKEV2_EV_IKE_DOWN)->sa, &id, sizeof(id));
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_DOWN) + count_ev(&w.r, IKEV2_EV_CHILD_DOWN), 0);
	ck_assert_ptr_null(ikev2_find_sa(w.i.e, &id));
	ck_assert_uint_eq(ikev2_sa_count(w.i.e), 1);
	/* the new SA works, from either side */
	ck_assert_int_eq(ikev2_check_liveness(w.r.e, &new_r, w.now, &err), 0);
	pass(&w, &w.r, "");
	free(step(&w, &w.i).data);
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_IKE_REKEYS), 1);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_IKE_REKEYS), 1);
	world_end(&w);
}
END_TEST

START_TEST(delete_child_and_ike_sa)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	const struct ike_child *c;
	uint32_t spi_in, spi_out;

	world_init(&w);
	world_go(&w);
	id = establish(&w);
	c = child_of(&w.r);
	spi_in = c->in.spi;
	spi_out = c->out.spi;
	ck_assert_int_eq(ikev2_delete_child(w.r.e, &id, 0x1234, w.now, &err), -ENOENT);
	ck_assert_int_eq(ikev2_delete_child(w.r.e, &id, spi_in, w.now, &err), 0);
	pass(&w, &w.r, "D");
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_CHILD_DOWN)->child_down.spi_out, spi_in);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_CHILD_DOWN)->child_down.spi_in, spi_out);
	pass(&w, &w.i, "D");
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_CHILD_DOWN)->child_down.spi_in, spi_in);
	ck_assert_int_eq(ikev2_delete_ike(w.i.e, &id, w.now, &err), 0);
	ck_assert_int_eq(ikev2_find_sa(w.i.e, &id)->state, IKEV2_S_DELETING);
	pass(&w, &w.i, "D");
	ck_assert_msg(strstr(last_ev(&w.r, IKEV2_EV_IKE_DOWN)->reason.text, "deleted by the peer"), "%s",
		      last_ev(&w.r, IKEV2_EV_IKE_DOWN)->reason.text);
	pass(&w, &w.r, "");
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_DOWN), 1);
	ck_assert_uint_eq(ikev2_sa_count(w.i.e) + ikev2_sa_count(w.r.e), 0);
	world_end(&w);
}
END_TEST

/* Deleting an IKE SA with children takes them down on both sides. */
START_TEST(delete_ike_sa_takes_children)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };

	world_init(&w);
	world_go(&w);
	id = establish(&w);
	ck_assert_int_eq(ikev2_delete_ike(w.r.e, &id, w.now, &err), 0);
	free(step(&w, &w.r).data);
	free(step(&w, &w.i).data);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_DOWN), 1);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_DOWN), 1);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_DOWN), 1);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_IKE_DOWN), 1);
	world_end(&w);
}
END_TEST

/* INITIAL_CONTACT (RFC 7296 §2.4): a second IKE SA beside the first says
 * nothing; after the initiator restarts (a fresh engine, same identity)
 * its first IKE_AUTH says it, and the responder takes the old SA and its
 * child down (counted) and keeps the new one. */
START_TEST(initial_contact_after_a_restart)
{
	struct world w;

	world_init(&w);
	world_go(&w);
	establish(&w);
	initiate(&w);
	free(step(&w, &w.i).data);
	free(step(&w, &w.r).data);
	pass(&w, &w.i, "IDi AUTH IDr SA TSi TSr");
	pass(&w, &w.r, "IDr AUTH SA TSi TSr");
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_IKE_DOWN), 0);
	side_end(&w.i); /* the initiator restarts */
	memset(&w.i.box, 0, sizeof(w.i.box));
	w.i.box.name = "initiator";
	pair_policy(&w.i.pol, true, &mm_gcm_ecp, &qm_gcm, "secret");
	side_start(&w.i);
	establish(&w);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_IKE_DOWN), 2);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_DOWN), 2);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_INITIAL_CONTACTS), 2);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_IKE_UP), 3);
	world_end(&w);
}
END_TEST

START_TEST(liveness_check_answered_or_peer_declared_dead)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	int down;

	world_init(&w);
	world_go(&w);
	id = establish(&w);
	ck_assert_int_eq(ikev2_check_liveness(w.i.e, &id, w.now, &err), 0);
	round_trip(&w, &w.i, "", "");
	ck_assert_uint_eq(ikev2_next_timer(w.i.e), UINT64_MAX);
	/* the peer goes silent: the next check takes the SA down */
	ck_assert_int_eq(ikev2_check_liveness(w.i.e, &id, w.now, &err), 0);
	for (int k = 0; k < 7; k++) {
		ikev2_tick(w.i.e, ikev2_next_timer(w.i.e));
		drain(&w.i);
	}
	down = count_ev(&w.i, IKEV2_EV_IKE_DOWN);
	ck_assert_int_eq(down, 1);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_DOWN), 1);
	ck_assert_msg(strstr(last_ev(&w.i, IKEV2_EV_IKE_DOWN)->reason.text, "did not answer"), "%s",
		      last_ev(&w.i, IKEV2_EV_IKE_DOWN)->reason.text);
	world_end(&w);
}
END_TEST

/* Bad input is counted and dropped with a reason; nothing changes. */
START_TEST(malformed_and_unexpected_input)
{
	static const uint8_t junk[] = "not an IKE message at all, just some bytes";
	struct world w;
	struct ike_err err = { 0 };
	struct ikev2_sa_id id;
	struct msg m;
	uint8_t fake[64];
	struct ikev2_builder b;
	struct ikev2_sk_space sp;
	struct ikev2_hdr h = { .version = IKEV2_VERSION, .exchange = IKEV2_IKE_AUTH,
			       .flags = IKEV2_FLAG_I, .msg_id = 1 };
	size_t len;

	world_init(&w);
	world_go(&w);
	/* garbage */
	ck_assert_int_eq(ikev2_input(w.r.e, junk, sizeof(junk), &w.r.ep, &w.i.ep, w.now, &err), -EBADMSG);
	ck_assert_msg(strstr(err.msg, "malformed"), "%s", err.msg);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_INVALID_PACKETS), 1);
	/* IKE_AUTH before any IKE_SA_INIT */
	memset(h.spi_i, 0x11, 8);
	memset(h.spi_r, 0x22, 8);
	ikev2_build_begin(&b, fake, sizeof(fake), &h);
	ikev2_build_sk(&b, IKEV2_PL_IDI, NULL, 8, 8, 16, &sp);
	ck_assert_int_eq(ikev2_build_end(&b, &len, &err), 0);
	memset(sp.iv, 0, 32);
	ck_assert_int_eq(ikev2_input(w.r.e, fake, len, &w.r.ep, &w.i.ep, w.now, &err), -ENOENT);
	ck_assert_msg(strstr(err.msg, "no known IKE SA"), "%s", err.msg);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_UNKNOWN_SPI), 1);
	/* a bad ICV on IKE_AUTH: dropped, the intact copy still works */
	id = initiate(&w);
	free(step(&w, &w.i).data);
	free(step(&w, &w.r).data);
	m = take(&w.i);
	m.data[m.len - 1] ^= 0x80;
	ck_assert_int_eq(feed(&w, &w.r, &m, &err), -EKEYREJECTED);
	ck_assert_msg(strstr(err.msg, "integrity check failed"), "%s", err.msg);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_INTEGRITY_FAILED), 1);
	nothing_sent(&w.r);
	m.data[m.len - 1] ^= 0x80;
	deliver(&w, &w.r, &m);
	free(m.data);
	/* the response with another message ID: unexpected, dropped */
	m = take(&w.r);
	m.data[20 + 3] ^= 0x04;
	ck_assert_int_eq(feed(&w, &w.i, &m, &err), -ERANGE);
	ck_assert_msg(strstr(err.msg, "response message ID 5"), "%s", err.msg);
	ck_assert_uint_eq(stat(&w.i, IKEV2_STAT_UNEXPECTED_MSG_ID), 1);
	m.data[20 + 3] ^= 0x04;
	deliver(&w, &w.i, &m);
	free(m.data);
	memcpy(id.spi_r, last_ev(&w.i, IKEV2_EV_IKE_UP)->sa.spi_r, 8);
	/* a request from the past, and one from the future */
	ck_assert_int_eq(ikev2_check_liveness(w.i.e, &id, w.now, &err), 0);
	m = take(&w.i);
	m.data[20 + 3] = 7;
	ck_assert_int_eq(feed(&w, &w.r, &m, &err), -ERANGE);
	m.data[20 + 3] = 0;
	ck_assert_int_eq(feed(&w, &w.r, &m, &err), -EALREADY);
	ck_assert_uint_eq(stat(&w.r, IKEV2_STAT_UNEXPECTED_MSG_ID), 2);
	free(m.data);
	/* IKE_AUTH again on an established SA: not in this state */
	ck_assert_int_eq(ikev2_find_sa(w.r.e, &id)->state, IKEV2_S_ESTABLISHED);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_FAILED), 0);
	world_end(&w);
}
END_TEST

START_TEST(state_setter_refuses_illegal_transitions)
{
	struct ikev2_sa *sa = ikev2_sa_new(true);

	ck_assert_int_eq(ikev2_set_state(sa, IKEV2_S_AUTH_SENT, 5, NULL), -EPERM);
	ck_assert_ptr_nonnull(ikev2_sa_log_find(sa, "state IDLE -> AUTH_SENT refused"));
	ck_assert_int_eq(ikev2_set_state(sa, IKEV2_S_INIT_SENT, 6, NULL), 0);
	ck_assert_ptr_nonnull(ikev2_sa_log_find(sa, "state IDLE -> INIT_SENT"));
	ck_assert_int_eq(ikev2_set_state(sa, IKEV2_S_ESTABLISHED, 7, NULL), -EPERM);
	ck_assert_int_eq(ikev2_set_state(sa, IKEV2_S_CLOSED, 8, NULL), 0);
	ck_assert_int_eq(ikev2_set_state(sa, IKEV2_S_CLOSED, 9, NULL), -EPERM);
	ck_assert_int_eq(ikev2_set_state(sa, IKEV2_S_IDLE, 9, NULL), -EPERM);
	ikev2_sa_free(sa);
}
END_TEST

/* ---- the shared pieces alone ------------------------------------------- */

/* The responder's preference wins over the initiator's order. */
START_TEST(proposal_selection_prefers_the_responder)
{
	struct ike_qm_method ours[] = { qm_cbc, qm_gcm };
	struct ike_qm_offer offers[2] = {
		{ .num = 1, .protocol = IKE_PROTO_ESP, .enc = { 1, false, { DPSEC_ENC_AES_GCM_16 }, { 256 } } },
		{ .num = 2, .protocol = IKE_PROTO_ESP, .enc = { 1, false, { DPSEC_ENC_AES_CBC }, { 128 } },
		  .integ = { 1, false, { DPSEC_INTEG_HMAC_SHA256_128 } }, .esn = { 1, false, { 1 } } },
	};
	struct ike_choice c;

	ck_assert_int_eq(ike_qm_select(ours, 2, offers, 2, &c), 0);
	ck_assert_uint_eq(c.method, 0); /* CBC: our first, though offered second */
	ck_assert_uint_eq(c.offer, 1);
	offers[1].integ.v[0] = DPSEC_INTEG_HMAC_SHA1_96;
	ck_assert_int_eq(ike_qm_select(ours, 2, offers, 2, &c), 0);
	ck_assert_uint_eq(c.method, 1);
	ck_assert_uint_eq(c.offer, 0);
	offers[0].integ.unknown = true; /* GCM with an integrity algorithm we do not know */
	ck_assert_int_eq(ike_qm_select(ours, 2, offers, 2, &c), -ENOENT);
}
END_TEST

START_TEST(methods_from_the_policy_store)
{
	struct cfg_sec_method m = { .name = "High", .protocol = CFG_PROTO_ESP,
				    .enc_alg = DPSEC_ENC_AES_GCM_16, .enc_key_len = 32,
				    .lifetime_seconds = 3600, .lifetime_kilobytes = 100000 };
	struct ike_qm_method q;
	struct ike_err err = { 0 };

	ck_assert_int_eq(ike_qm_method_from_cfg(&m, IKE_DH_ECP_256, &q, &err), 0);
	ck_assert_uint_eq(q.protocol, IKE_PROTO_ESP);
	ck_assert_uint_eq(q.dh_group, IKE_DH_ECP_256);
	ck_assert_uint_eq(ike_child_keymat_len(&q), 2 * 36);
	m.enc_alg = DPSEC_ENC_3DES_CBC; /* the seeds' "High": ESP 3DES with SHA-1 */
	m.enc_key_len = 24;
	m.integ_alg = DPSEC_INTEG_HMAC_SHA1_96;
	ck_assert_int_eq(ike_qm_method_from_cfg(&m, 0, &q, &err), 0);
	ck_assert_uint_eq(q.enc_alg, DPSEC_ENC_3DES_CBC);
	ck_assert_uint_eq(ike_qm_enc_bits(&q), 0); /* no Key Length attribute */
	ck_assert_uint_eq(ike_child_keymat_len(&q), 2 * (24 + 20));
	m.enc_alg = DPSEC_ENC_3DES_CBC + 1; /* a cipher the dataplane does not run */
	ck_assert_int_eq(ike_qm_method_from_cfg(&m, 0, &q, &err), -EOPNOTSUPP);
	ck_assert_msg(strstr(err.msg, "\"High\""), "%s", err.msg);
	m.enc_alg = DPSEC_ENC_AES_CBC;
	ck_assert_int_eq(ike_qm_method_from_cfg(&m, 7, &q, &err), -EOPNOTSUPP);
	ck_assert_msg(strstr(err.msg, "PFS group 7"), "%s", err.msg);
}
END_TEST

START_TEST(identities_of_every_type)
{
	static const uint8_t dn[] = { 0x30, 0x0b, 0x31, 0x09, 0x30, 0x07, 0x06, 0x03, 0x55, 0x04,
				      0x03, 0x0c, 0x00 };
	struct dpsec_addr a6 = { .family = DPSEC_AF_INET6, .a = { 0x20, 0x01, 0x0d, 0xb8 } };
	struct dpsec_addr a4 = v4(192, 0, 2, 9);
	struct ike_id id, any = { 0 };
	struct ike_err err = { 0 };
	char text[64];

	ck_assert_int_eq(ike_id_addr(&id, &a4, &err), 0);
	ck_assert_uint_eq(id.type, IKEV2_ID_IPV4_ADDR);
	ike_id_describe(&id, text, sizeof(text));
	ck_assert_str_eq(text, "IPv4 192.0.2.9");
	ck_assert_int_eq(ike_id_addr(&id, &a6, &err), 0);
	ck_assert_uint_eq(id.type, IKEV2_ID_IPV6_ADDR);
	ck_assert_uint_eq(id.len, 16);
	ck_assert_int_eq(ike_id_rfc822(&id, "admin@example.net", &err), 0);
	ck_assert_uint_eq(id.type, IKEV2_ID_RFC822_ADDR);
	ck_assert_int_eq(ike_id_rfc822(&id, "no-at-sign", &err), -EINVAL);
	ck_assert_int_eq(ike_id_der_dn(&id, dn, sizeof(dn), &err), 0);
	ck_assert_uint_eq(id.type, IKEV2_ID_DER_ASN1_DN);
	ck_assert_int_eq(ike_id_der_dn(&id, dn + 1, sizeof(dn) - 1, &err), -EINVAL);
	ck_assert_int_eq(ike_id_fqdn(&id, "", &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "FQDN of 0 bytes"), "%s", err.msg);
	ck_assert(ike_id_matches(&any, &id));
}
END_TEST

/* Peers identified by IPv6 address, RFC 822 name and DN authenticate. */
START_TEST(psk_exchange_with_other_identity_types)
{
	static const uint8_t dn[] = { 0x30, 0x03, 0x31, 0x01, 0x00 };
	struct dpsec_addr a6 = { .family = DPSEC_AF_INET6, .a = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
	struct ike_err err = { 0 };
	struct world w;

	world_init(&w);
	ck_assert_int_eq(ike_id_addr(&w.i.pol.local_id, &a6, &err), 0);
	w.r.pol.remote_id = w.i.pol.local_id;
	ck_assert_int_eq(ike_id_der_dn(&w.r.pol.local_id, dn, sizeof(dn), &err), 0);
	w.i.pol.remote_id = w.r.pol.local_id;
	world_go(&w);
	establish(&w);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_IKE_UP)->up.peer_id.type, IKEV2_ID_IPV6_ADDR);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_IKE_UP)->up.peer_id.type, IKEV2_ID_DER_ASN1_DN);
	world_end(&w);
	world_init(&w);
	ck_assert_int_eq(ike_id_rfc822(&w.i.pol.local_id, "i@example.net", &err), 0);
	w.r.pol.remote_id = (struct ike_id){ 0 }; /* any */
	world_go(&w);
	establish(&w);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_IKE_UP)->up.peer_id.type, IKEV2_ID_RFC822_ADDR);
	world_end(&w);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ikev2_engine");
	TCase *t = tcase_create("exchanges");

	tcase_set_timeout(t, 120);
	tcase_add_loop_test(t, psk_exchange_both_sides_agree, 0, N(suites));
	tcase_add_test(t, wrong_psk_fails_on_both_sides);
	tcase_add_test(t, disjoint_proposals_no_proposal_chosen);
	tcase_add_test(t, disjoint_child_proposals_keep_the_ike_sa);
	tcase_add_test(t, invalid_ke_then_retry_with_the_requested_group);
	tcase_add_test(t, cookie_challenge_then_success);
	tcase_add_test(t, wrong_cookie_refused);
	tcase_add_test(t, cookie_secret_rotation);
	tcase_add_test(t, dropped_response_retransmitted_and_replayed);
	tcase_add_test(t, no_answer_given_up_after_the_tries);
	tcase_add_test(t, nat_detected_and_port_4500);
	tcase_add_test(t, traffic_selectors_narrowed);
	tcase_add_test(t, traffic_selectors_unacceptable);
	tcase_add_test(t, transport_mode_and_allocated_spis);
	tcase_add_test(t, half_open_limit_per_source);
	tcase_add_test(t, initial_contact_after_a_restart);
	tcase_add_test(t, ike_auth_in_fragments);
	tcase_add_test(t, fragments_copied_forged_and_retransmitted);
	tcase_add_test(t, no_fragments_unless_both_agree);
	tcase_add_test(t, responder_policy_chosen_by_the_child_asked_for);
	tcase_add_test(t, child_rekey_with_pfs);
	tcase_add_test(t, new_child_sa_on_established_ike_sa);
	tcase_add_test(t, create_child_with_pfs_for_another_group);
	tcase_add_test(t, key_schedule_matches_reference);
	tcase_add_test(t, ike_sa_rekey);
	tcase_add_test(t, delete_child_and_ike_sa);
	tcase_add_test(t, delete_ike_sa_takes_children);
	tcase_add_test(t, liveness_check_answered_or_peer_declared_dead);
	tcase_add_test(t, malformed_and_unexpected_input);
	tcase_add_test(t, state_setter_refuses_illegal_transitions);
	tcase_add_test(t, proposal_selection_prefers_the_responder);
	tcase_add_test(t, methods_from_the_policy_store);
	tcase_add_test(t, identities_of_every_type);
	tcase_add_test(t, psk_exchange_with_other_identity_types);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return check_run(suite());
}
