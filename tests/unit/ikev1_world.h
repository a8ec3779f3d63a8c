/* ikev1_world.h - the two-peer world of the IKEv1 engine tests
 * (test_ikev1_main.c, test_ikev1_quick.c, test_ikev1_qm_suites.c,
 * test_ikev1_info.c, test_ikev1_renew.c): two engines in one process, an
 * initiator and a responder with matching PSK policies, stepped message
 * by message (a NAT rewriting the initiator's packets on request); the
 * methods they share, the events and counters each side gave, Main Mode
 * plus the first Quick Mode run and checked, and a Quick Mode's exchange
 * and its first message opened as the responder reads it. */
#ifndef IKEV1_WORLD_H
#define IKEV1_WORLD_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike_pair.h"
#include "ike_sk.h"
#include "ikev1.h"
#include "ikev1_prf.h"
#include "ikev1_sa.h"
#include "isakmp_msg.h"
#include "check_run.h"

struct side {
	struct ike_outbox box;  /* its name, datagrams and events */
	struct ikev1_engine *e;
	struct ikev1_conf conf;
	struct ike_endpoint ep;
	struct ikev2_peer pol;
};

struct world {
	struct side i, r;
	uint64_t now;
	bool nat;                       /* i's packets leave through a NAT */
	struct ike_endpoint nat_ep, nat_inside;
};

static const struct ike_mm_method mm_aes256 = {
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128, IKE_PRF_HMAC_SHA2_256 }, IKE_DH_ECP_256
};

static const struct ike_mm_method mm_3des = {
	{ IKE_ENCR_3DES, 0, IKE_INTEG_HMAC_SHA1_96, IKE_PRF_HMAC_SHA1 }, IKE_DH_MODP_2048
};

static const struct ike_qm_method qm_cbc = {
	IKE_PROTO_ESP, DPSEC_ENC_AES_CBC, 16, DPSEC_INTEG_HMAC_SHA256_128, 0, false, 3600, 100000
};

static inline int lookup(void *ctx, const struct ikev2_lookup *q, struct ikev2_peer *out)
{
	struct side *s = ctx;

	(void)q;
	*out = s->pol;
	return 0;
}

static inline void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->i.box.name = "initiator";
	w->r.box.name = "responder";
	ikev1_conf_default(&w->i.conf);
	ikev1_conf_default(&w->r.conf);
	w->i.ep = (struct ike_endpoint){ v4(192, 0, 2, 1), 500 };
	w->r.ep = (struct ike_endpoint){ v4(198, 51, 100, 1), 500 };
	w->now = 1000;
	pair_policy(&w->i.pol, true, &mm_aes256, &qm_cbc, "secret");
	pair_policy(&w->r.pol, false, &mm_aes256, &qm_cbc, "secret");
}

static inline void side_start(struct side *s)
{
	struct ike_err err = { 0 };

	s->conf.lookup = lookup;
	s->conf.lookup_ctx = s;
	s->e = ikev1_engine_new(&s->conf, &err);
	ck_assert_msg(s->e != NULL, "%s", err.msg);
}

static inline void world_go(struct world *w)
{
	side_start(&w->i);
	side_start(&w->r);
}

static inline void drain(struct side *s)
{
	struct ikev2_event ev;

	while (ikev1_next_event(s->e, &ev))
		outbox_put(&s->box, &ev);
}

static inline void side_end(struct side *s)
{
	drain(s);
	outbox_free(&s->box);
	ikev1_engine_free(s->e);
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

static inline struct side *other(struct world *w, struct side *s)
{
	return s == &w->i ? &w->r : &w->i;
}

static inline int feed(struct world *w, struct side *to, const struct msg *m, struct ike_err *err)
{
	struct ike_endpoint from = m->from, at = m->to;

	if (w->nat && to == &w->r) {
		w->nat_inside = m->from;
		from = w->nat_ep;
		from.port = m->from.port == 500 ? w->nat_ep.port : (uint16_t)(w->nat_ep.port + 1);
	}
	if (w->nat && to == &w->i)
		at = w->nat_inside;
	return ikev1_input(to->e, m->data, m->len, &at, &from, w->now, err);
}

static inline void deliver(struct world *w, struct side *to, const struct msg *m)
{
	struct ike_err err = { 0 };
	int rc = feed(w, to, m, &err);

	ck_assert_msg(rc == 0, "%s refused a message: %d %s", to->box.name, rc, err.msg);
}

/* One message of `from` delivered; returned for the caller to free. */
static inline struct msg step(struct world *w, struct side *from)
{
	struct msg m = take(from);

	deliver(w, other(w, from), &m);
	return m;
}

static inline void pass(struct world *w, struct side *from)
{
	free(step(w, from).data);
}

/* One message of `from` that the other side answers with a refusal. */
static inline void refused(struct world *w, struct side *from, int code)
{
	struct msg m = take(from);
	struct ike_err err = { 0 };

	ck_assert_int_eq(feed(w, other(w, from), &m, &err), code);
	free(m.data);
}

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

static inline uint64_t stat(struct side *s, enum ikev1_stat k)
{
	return ikev1_engine_stats(s->e)->n[k];
}

static inline const struct ike_child *child_of(struct side *s)
{
	return last_ev(s, IKEV2_EV_CHILD_UP)->child;
}

/* "SA VID VID" of a message in the clear. */
static inline const char *summary(const struct msg *m)
{
	static char text[256];
	static uint8_t buf[IKE_MSG_MAX];
	struct isakmp_msg pm;
	struct ike_sb sb;
	struct ike_err err = { 0 };

	memcpy(buf, m->data, m->len);
	ck_assert_msg(isakmp_msg_parse(buf, m->len, &pm, &err) == 0, "%s", err.msg);
	ike_sb_init(&sb, text, sizeof(text));
	if (pm.hdr.flags & ISAKMP_FLAG_E)
		ike_sb_add(&sb, "encrypted");
	for (uint16_t k = 0; k < pm.n; k++)
		ike_sb_add(&sb, "%s%s", k ? " " : "", isakmp_payload_name(pm.pl[k].type));
	return text;
}

static inline void expect_summary(const struct msg *m, const char *want)
{
	const char *got = summary(m);

	ck_assert_msg(strcmp(got, want) == 0, "\"%s\", expected \"%s\"", got, want);
}

static inline struct ikev2_sa_id initiate(struct world *w)
{
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };

	ck_assert_msg(ikev1_initiate(w->i.e, &w->i.pol, &w->i.ep, &w->r.ep, w->now, &id, &err) == 0,
		      "%s", err.msg);
	return id;
}

/* Main Mode's six messages and Quick Mode's three, each checked. */
static inline struct ikev2_sa_id main_and_quick(struct world *w)
{
	struct ikev2_sa_id id = initiate(w);
	struct msg m = step(w, &w->i);

	expect_summary(&m, "SA VID VID");
	free(m.data);
	m = step(w, &w->r);
	expect_summary(&m, "SA VID VID");
	free(m.data);
	m = step(w, &w->i);
	expect_summary(&m, "KE NONCE NAT-D NAT-D");
	free(m.data);
	m = step(w, &w->r);
	expect_summary(&m, "KE NONCE NAT-D NAT-D");
	free(m.data);
	m = step(w, &w->i);
	expect_summary(&m, "encrypted");
	free(m.data);
	pass(w, &w->r); /* 6: the responder is up */
	ck_assert_int_eq(count_ev(&w->r, IKEV2_EV_IKE_UP), 1);
	ck_assert_int_eq(count_ev(&w->i, IKEV2_EV_IKE_UP), 1);
	pass(w, &w->i); /* QM 1 */
	pass(w, &w->r); /* QM 2: the initiator installs */
	ck_assert_int_eq(count_ev(&w->i, IKEV2_EV_CHILD_UP), 1);
	pass(w, &w->i); /* QM 3: the responder installs */
	ck_assert_int_eq(count_ev(&w->r, IKEV2_EV_CHILD_UP), 1);
	nothing_sent(&w->i);
	nothing_sent(&w->r);
	memcpy(id.spi_r, last_ev(&w->i, IKEV2_EV_IKE_UP)->sa.spi_r, 8);
	return id;
}

static inline const char *log_has(struct side *s, const struct ikev2_sa_id *id, const char *text)
{
	struct ikev1_sa *sa = ikev1_find_sa(s->e, id);

	ck_assert_ptr_nonnull(sa);
	return ikev1_sa_log_find(sa, text);
}

/* Runs the tests as the suite `name` (one test case, 120 s each); the exit
 * status for main(). */
static inline int world_run(const char *name, const TTest *const *tests, size_t n)
{
	Suite *s = suite_create(name);
	TCase *t = tcase_create("exchanges");

	tcase_set_timeout(t, 120);
	for (size_t k = 0; k < n; k++)
		tcase_add_test(t, tests[k]);
	suite_add_tcase(s, t);
	return check_run(s);
}

/* The initiator's exchange of Quick Mode on the SA id. */
static inline struct ikev1_xchg *quick_xchg(struct side *s, struct ikev2_sa_id id)
{
	struct ikev1_sa *sa = ikev1_find_sa(s->e, &id);

	for (int k = 0; sa != NULL && k < IKEV1_MAX_XCHG; k++)
		if (sa->xchg[k].kind == IKEV1_X_QUICK && sa->xchg[k].initiator)
			return &sa->xchg[k];
	ck_abort_msg("no Quick Mode exchange");
	return NULL;
}

/* Quick Mode 1 as the responder reads it, opened with the keys of s's
 * ISAKMP SA id and the Phase 2 IV of its message ID: its SA payload. */
static inline void qm1_sa(struct side *s, struct ikev2_sa_id id, const struct msg *m, struct ike_sa *out)
{
	static uint8_t buf[IKE_MSG_MAX];
	struct ikev1_sa *sa = ikev1_find_sa(s->e, &id);
	size_t ct_len = m->len - ISAKMP_HDR_LEN;
	struct ike_err err = { 0 };
	const struct isakmp_payload *p;
	struct ikev1_iv iv, next;
	struct isakmp_msg pm;
	int k = -1;

	ck_assert_ptr_nonnull(sa);
	memcpy(buf, m->data, m->len);
	ck_assert_msg(isakmp_msg_parse(buf, m->len, &pm, &err) == 0, "%s", err.msg);
	ck_assert_msg(ikev1_phase2_iv(&sa->keys, &sa->p1_iv, pm.hdr.msg_id, &iv, &err) == 0, "%s",
		      err.msg);
	ck_assert_msg(ikev1_decrypt(&sa->keys, &iv, buf + ISAKMP_HDR_LEN, ct_len, &next, &err) == 0,
		      "%s", err.msg);
	ck_assert_msg(isakmp_chain_parse(pm.hdr.next_payload, buf + ISAKMP_HDR_LEN, ct_len, &pm,
					 &err) == 0, "%s", err.msg);
	p = isakmp_msg_find(&pm, ISAKMP_PL_SA, &k);
	ck_assert_ptr_nonnull(p);
	ck_assert_msg(isakmp_sa_parse(p->body.p, p->body.len, out, &err) == 0, "%s", err.msg);
}

/* Both sides of w (made, not started) with only method m, which the
 * initiator cannot offer: Main Mode comes up, no Quick Mode starts. */
static inline void no_quick_mode_with(struct world *w, const struct ike_qm_method *m)
{
	w->i.pol.qm[0] = *m;
	w->r.pol.qm[0] = *m;
	world_go(w);
	initiate(w);
	for (int k = 0; k < 5; k++)
		pass(w, k % 2 ? &w->r : &w->i);
	refused(w, &w->r, -EPROTONOSUPPORT); /* Main Mode 6: up, but no Quick Mode */
	ck_assert_int_eq(count_ev(&w->i, IKEV2_EV_IKE_UP), 1);
	ck_assert_int_eq(count_ev(&w->i, IKEV2_EV_CHILD_UP), 0);
	nothing_sent(&w->i);
	world_end(w);
}

#endif
