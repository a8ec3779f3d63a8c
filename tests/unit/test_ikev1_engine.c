/* test_ikev1_engine.c - Check tests of the IKEv1 engine (ike/ikev1.h): two
 * engines in one process, an initiator and a responder, stepped message
 * by message. Covers Main Mode and Quick Mode with a pre-shared key (with
 * and without PFS, through a NAT, AH left out there by either side), a
 * wrong key, no proposal chosen, retransmitted messages answered from
 * the cache, retransmission and giving up, DELETE of IPsec and ISAKMP SAs
 * both ways, DPD answered and a silent peer found dead, Quick Mode rekey
 * (make-before-break), the ISAKMP SA renewed by either side keeping its
 * Quick Mode SAs, Aggressive Mode refused, malformed input counted,
 * SKEYID..KEYMAT recomputed by the independent reference
 * ike_vectors/ike_crypto_ref.py (hmac/hashlib),
 * Main Mode read by scapy (ike_vectors/check_ikev1_scapy.py), and legacy
 * DES refused without conf.legacy and agreed with it, its Main Mode 5
 * decrypted by the openssl command with the reference's key and IV. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ike_dh.h"
#include "ike_pair.h"
#include "ike_ref.h"
#include "ike_test_util.h"
#include "ikev1.h"
#include "ikev1_sa.h"
#include "isakmp_msg.h"


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

static const uint8_t fixed_priv[32] = { /* any scalar below the P-256 order */
	0x5d, 0xab, 0x08, 0x7e, 0x62, 0x4a, 0x8a, 0x4b, 0x79, 0xe1, 0x7f, 0x8b, 0x83, 0x80,
	0x0e, 0xe6, 0x6f, 0x3b, 0xb1, 0x29, 0x26, 0x18, 0xb6, 0xfd, 0x1c, 0x2f, 0x8b, 0x27,
	0xff, 0x88, 0xe0, 0xeb,
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
static const struct ike_qm_method qm_3des = { /* the seeds' "High" */
	IKE_PROTO_ESP, DPSEC_ENC_3DES_CBC, 24, DPSEC_INTEG_HMAC_SHA1_96, 0, false, 3600, 100000
};

static int lookup(void *ctx, const struct ikev2_lookup *q, struct ikev2_peer *out)
{
	struct side *s = ctx;

	(void)q;
	*out = s->pol;
	return 0;
}

static void policy(struct side *s, bool initiator, const struct ike_mm_method *mm,
		   const struct ike_qm_method *qm, const char *psk)
{
	struct ike_err err = { 0 };
	struct ike_ts_set a = ts_prefix(v4(10, 1, 0, 0), 16), b = ts_prefix(v4(10, 2, 0, 0), 16);

	memset(&s->pol, 0, sizeof(s->pol));
	s->pol.user = initiator ? 11 : 22;
	ck_assert_int_eq(ike_id_fqdn(&s->pol.local_id, initiator ? "i.example" : "r.example", &err), 0);
	ck_assert_int_eq(ike_id_fqdn(&s->pol.remote_id, initiator ? "r.example" : "i.example", &err), 0);
	ck_assert_int_eq(ike_auth_psk(&s->pol.local_auth, (const uint8_t *)psk, strlen(psk), &err), 0);
	ck_assert_int_eq(ike_auth_psk(&s->pol.remote_auth, (const uint8_t *)psk, strlen(psk), &err), 0);
	s->pol.n_mm = 1;
	s->pol.mm[0] = *mm;
	s->pol.n_qm = 1;
	s->pol.qm[0] = *qm;
	s->pol.ts_local = initiator ? a : b;
	s->pol.ts_remote = initiator ? b : a;
}

static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->i.box.name = "initiator";
	w->r.box.name = "responder";
	ikev1_conf_default(&w->i.conf);
	ikev1_conf_default(&w->r.conf);
	w->i.ep = (struct ike_endpoint){ v4(192, 0, 2, 1), 500 };
	w->r.ep = (struct ike_endpoint){ v4(198, 51, 100, 1), 500 };
	w->now = 1000;
	policy(&w->i, true, &mm_aes256, &qm_cbc, "secret");
	policy(&w->r, false, &mm_aes256, &qm_cbc, "secret");
}

static void side_start(struct side *s)
{
	struct ike_err err = { 0 };

	s->conf.lookup = lookup;
	s->conf.lookup_ctx = s;
	s->e = ikev1_engine_new(&s->conf, &err);
	ck_assert_msg(s->e != NULL, "%s", err.msg);
}

static void world_go(struct world *w)
{
	side_start(&w->i);
	side_start(&w->r);
}

static void drain(struct side *s)
{
	struct ikev2_event ev;

	while (ikev1_next_event(s->e, &ev))
		outbox_put(&s->box, &ev);
}

static void side_end(struct side *s)
{
	drain(s);
	outbox_free(&s->box);
	ikev1_engine_free(s->e);
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

static struct side *other(struct world *w, struct side *s)
{
	return s == &w->i ? &w->r : &w->i;
}

static int feed(struct world *w, struct side *to, const struct msg *m, struct ike_err *err)
{
	struct ike_endpoint from = m->from, at = m->to;

	if (w->nat && to == &w->r) {
		w->nat_inside = m->from;
		from = w->nat_ep;
		from.port = m->from.port == 500 ? 40000 : 40001;
	}
	if (w->nat && to == &w->i)
		at = w->nat_inside;
	return ikev1_input(to->e, m->data, m->len, &at, &from, w->now, err);
}

static void deliver(struct world *w, struct side *to, const struct msg *m)
{
	struct ike_err err = { 0 };
	int rc = feed(w, to, m, &err);

	ck_assert_msg(rc == 0, "%s refused a message: %d %s", to->box.name, rc, err.msg);
}

/* One message of `from` delivered; returned for the caller to free. */
static struct msg step(struct world *w, struct side *from)
{
	struct msg m = take(from);

	deliver(w, other(w, from), &m);
	return m;
}

static void pass(struct world *w, struct side *from)
{
	free(step(w, from).data);
}

/* One message of `from` that the other side answers with a refusal. */
static void refused(struct world *w, struct side *from, int code)
{
	struct msg m = take(from);
	struct ike_err err = { 0 };

	ck_assert_int_eq(feed(w, other(w, from), &m, &err), code);
	free(m.data);
}

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

static uint64_t stat(struct side *s, enum ikev1_stat k)
{
	return ikev1_engine_stats(s->e)->n[k];
}

static const struct ike_child *child_of(struct side *s)
{
	return last_ev(s, IKEV2_EV_CHILD_UP)->child;
}

/* "SA VID VID" of a message in the clear. */
static const char *summary(const struct msg *m)
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

static void expect_summary(const struct msg *m, const char *want)
{
	const char *got = summary(m);

	ck_assert_msg(strcmp(got, want) == 0, "\"%s\", expected \"%s\"", got, want);
}

static struct ikev2_sa_id initiate(struct world *w)
{
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };

	ck_assert_msg(ikev1_initiate(w->i.e, &w->i.pol, &w->i.ep, &w->r.ep, w->now, &id, &err) == 0,
		      "%s", err.msg);
	return id;
}

/* Main Mode's six messages and Quick Mode's three, each checked. */
static struct ikev2_sa_id main_and_quick(struct world *w)
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

static const char *log_has(struct side *s, const struct ikev2_sa_id *id, const char *text)
{
	struct ikev1_sa *sa = ikev1_find_sa(s->e, id);

	ck_assert_ptr_nonnull(sa);
	return ikev1_sa_log_find(sa, text);
}

/* ---- tests ---- */

static uint32_t next_spi(void *ctx)
{
	return ++*(uint32_t *)ctx;
}

START_TEST(main_and_quick_mode_psk)
{
	struct world w;
	struct ikev2_sa_id id;
	const struct ike_child *ci, *cr;
	uint32_t spi_r = 0x5000;

	world_init(&w);
	w.r.conf.spi_alloc = next_spi;
	w.r.conf.spi_ctx = &spi_r;
	world_go(&w);
	id = main_and_quick(&w);
	ci = child_of(&w.i);
	cr = child_of(&w.r);
	pair_agrees(ci, cr);
	ck_assert_uint_eq(cr->in.spi, 0x5001); /* the caller's SPI allocator */
	ck_assert_uint_eq(ci->out.spi, 0x5001);
	ck_assert_uint_eq(ci->protocol, IKE_PROTO_ESP);
	ck_assert_uint_eq(ci->out.enc_alg, DPSEC_ENC_AES_CBC);
	ck_assert_uint_eq(ci->out.enc_key_len, 16);
	ck_assert_uint_eq(ci->out.integ_alg, DPSEC_INTEG_HMAC_SHA256_128);
	ck_assert_uint_eq(ci->out.mode, DPSEC_MODE_TUNNEL);
	ck_assert(!ci->udp_encap);
	ck_assert_uint_eq(ci->method.lifetime_seconds, 3600);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_IKE_UP)->up.peer_id.type, 2 /* FQDN */);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_IKE_UP)->user, 11);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_IKE_UP)->user, 22);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_IKE_ESTABLISHED), 1);
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_CHILD_ESTABLISHED), 1);
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_INVALID_PACKETS), 0);
	ck_assert_ptr_nonnull(log_has(&w.r, &id, "MM4_SENT -> ESTABLISHED"));
	ck_assert_ptr_nonnull(log_has(&w.i, &id, "MM5_SENT -> ESTABLISHED"));
	ck_assert_uint_eq(ikev1_sa_count(w.r.e), 1);
	world_end(&w);
}
END_TEST

START_TEST(quick_mode_with_pfs)
{
	struct world w;
	struct ike_qm_method qm = qm_cbc;

	world_init(&w);
	qm.dh_group = IKE_DH_MODP_2048;
	w.i.pol.qm[0] = qm;
	w.r.pol.qm[0] = qm;
	world_go(&w);
	main_and_quick(&w);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	ck_assert_uint_eq(child_of(&w.i)->method.dh_group, IKE_DH_MODP_2048);
	ck_assert_uint_eq(child_of(&w.r)->method.dh_group, IKE_DH_MODP_2048);
	world_end(&w);
}
END_TEST

START_TEST(pfs_on_one_side_only)
{
	struct world w;
	struct ike_qm_method qm = qm_cbc;

	world_init(&w);
	qm.dh_group = IKE_DH_ECP_256;
	w.i.pol.qm[0] = qm; /* the responder wants no PFS */
	world_go(&w);
	initiate(&w);
	for (int k = 0; k < 6; k++)
		pass(&w, k % 2 ? &w.r : &w.i);
	refused(&w, &w.i, -ENOENT); /* QM 1: refused with a protected NO-PROPOSAL-CHOSEN */
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_FAILED)->reason.notify, ISAKMP_N_NO_PROPOSAL_CHOSEN);
	pass(&w, &w.r);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_FAILED)->reason.notify, ISAKMP_N_NO_PROPOSAL_CHOSEN);
	ck_assert(!last_ev(&w.i, IKEV2_EV_FAILED)->reason.ike_sa_gone);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 0);
	world_end(&w);
}
END_TEST

START_TEST(wrong_psk)
{
	struct world w;

	world_init(&w);
	policy(&w.r, false, &mm_aes256, &qm_cbc, "other secret");
	world_go(&w);
	initiate(&w);
	for (int k = 0; k < 4; k++)
		pass(&w, k % 2 ? &w.r : &w.i);
	refused(&w, &w.i, -EKEYREJECTED); /* MM 5 does not decrypt to anything sensible */
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_FAILED)->reason.notify, ISAKMP_N_AUTHENTICATION_FAILED);
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_AUTH_FAILURES), 1);
	ck_assert_uint_eq(ikev1_sa_count(w.r.e), 0);
	pass(&w, &w.r); /* the unprotected AUTHENTICATION-FAILED */
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_FAILED)->reason.notify, ISAKMP_N_AUTHENTICATION_FAILED);
	ck_assert(last_ev(&w.i, IKEV2_EV_FAILED)->reason.ike_sa_gone);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_AUTH_FAILURES), 1);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 0);
	ck_assert_uint_eq(ikev1_sa_count(w.i.e), 0);
	world_end(&w);
}
END_TEST

START_TEST(no_proposal_chosen)
{
	struct world w;
	struct msg m;

	world_init(&w);
	policy(&w.r, false, &mm_3des, &qm_cbc, "secret");
	world_go(&w);
	initiate(&w);
	refused(&w, &w.i, -ENOENT);
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_NEGOTIATION_FAILURES), 1);
	ck_assert_uint_eq(ikev1_sa_count(w.r.e), 0);
	m = step(&w, &w.r);
	expect_summary(&m, "N");
	free(m.data);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_FAILED)->reason.notify, ISAKMP_N_NO_PROPOSAL_CHOSEN);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_NOTIFIES_RECEIVED), 1);
	ck_assert_uint_eq(ikev1_sa_count(w.i.e), 0);
	world_end(&w);
}
END_TEST

/* The same message twice: the second gets our last message again, byte
 * for byte, and changes nothing. */
static void twice(struct world *w, struct side *from)
{
	struct side *to = other(w, from);
	struct msg m = step(w, from), a, b;
	uint64_t replayed = stat(to, IKEV1_STAT_REPLAYED_RESPONSES);

	a = take(to);
	deliver(w, to, &m);
	b = take(to);
	ck_assert_uint_eq(a.len, b.len);
	ck_assert_mem_eq(a.data, b.data, a.len);
	ck_assert_uint_eq(stat(to, IKEV1_STAT_REPLAYED_RESPONSES), replayed + 1);
	deliver(w, from, &a);
	free(a.data);
	free(b.data);
	free(m.data);
}

START_TEST(duplicates_get_the_cached_answer)
{
	struct world w;

	world_init(&w);
	world_go(&w);
	initiate(&w);
	twice(&w, &w.i); /* MM 1 -> MM 2 */
	twice(&w, &w.i); /* MM 3 -> MM 4 */
	twice(&w, &w.i); /* MM 5 -> MM 6 */
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_IKE_UP), 1);
	twice(&w, &w.i); /* QM 1 -> QM 2 */
	pass(&w, &w.i);  /* QM 3 */
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 1);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_UP), 1);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	world_end(&w);
}
END_TEST

START_TEST(lost_quick_mode_3_is_recovered)
{
	struct world w;
	struct msg qm2, qm3, again;

	world_init(&w);
	w.r.conf.retransmit_base_ms = 1000;
	world_go(&w);
	initiate(&w);
	for (int k = 0; k < 6; k++)
		pass(&w, k % 2 ? &w.r : &w.i);
	pass(&w, &w.i);
	qm2 = step(&w, &w.r);
	qm3 = take(&w.i); /* lost */
	w.now += 1000;
	ikev1_tick(w.r.e, w.now); /* the responder resends QM 2 */
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_RETRANSMITS), 1);
	again = step(&w, &w.r);
	ck_assert_mem_eq(again.data, qm2.data, qm2.len);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_REPLAYED_RESPONSES), 1);
	pass(&w, &w.i); /* QM 3 replayed */
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_UP), 1);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 1);
	free(qm2.data);
	free(qm3.data);
	free(again.data);
	world_end(&w);
}
END_TEST

/* An unanswered Quick Mode fails alone: the ISAKMP SA stays up. */
START_TEST(quick_mode_given_up)
{
	struct world w;

	world_init(&w);
	world_go(&w);
	initiate(&w);
	for (int k = 0; k < 6; k++)
		pass(&w, k % 2 ? &w.r : &w.i);
	free(take(&w.i).data); /* QM 1 lost, and every retransmission */
	for (int k = 0; k < 6; k++) {
		w.now = ikev1_next_timer(w.i.e);
		ikev1_tick(w.i.e, w.now);
		drain(&w.i);
		while (w.i.box.n_out)
			free(take(&w.i).data);
	}
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_RETRANSMITS), 5);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_PEER_TIMEOUTS), 1);
	ck_assert(!last_ev(&w.i, IKEV2_EV_FAILED)->reason.ike_sa_gone);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_DOWN), 0);
	ck_assert_uint_eq(ikev1_sa_count(w.i.e), 1);
	ck_assert_uint_eq(ikev1_next_timer(w.i.e), 1000 + 28800 * 1000ull); /* only the lifetime */
	world_end(&w);
}
END_TEST

START_TEST(retransmission_and_give_up)
{
	struct world w;
	uint64_t start;

	world_init(&w);
	w.i.conf.half_open_timeout_ms = 600000;
	world_go(&w);
	initiate(&w);
	start = w.now;
	free(take(&w.i).data); /* lost */
	ck_assert_uint_eq(ikev1_next_timer(w.i.e), start + 500);
	for (int k = 1; k <= 5; k++) { /* 0.5, 1.5, 3.5, 7.5, 15.5 s */
		w.now = ikev1_next_timer(w.i.e);
		ikev1_tick(w.i.e, w.now);
		free(take(&w.i).data);
		ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_RETRANSMITS), (uint64_t)k);
	}
	ck_assert_uint_eq(w.now - start, 15500);
	w.now = ikev1_next_timer(w.i.e);
	ck_assert_uint_eq(w.now - start, 31500);
	ikev1_tick(w.i.e, w.now);
	nothing_sent(&w.i);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_PEER_TIMEOUTS), 1);
	ck_assert(last_ev(&w.i, IKEV2_EV_FAILED)->reason.ike_sa_gone);
	ck_assert_uint_eq(ikev1_sa_count(w.i.e), 0);
	ck_assert_uint_eq(ikev1_next_timer(w.i.e), UINT64_MAX);
	world_end(&w);
}
END_TEST

START_TEST(half_open_responder_expires)
{
	struct world w;
	struct msg second;

	world_init(&w);
	w.r.conf.half_open_max = 1;
	world_go(&w);
	initiate(&w);
	initiate(&w);
	pass(&w, &w.i);
	second = take(&w.i);
	ck_assert_int_eq(feed(&w, &w.r, &second, NULL), -EBUSY); /* beyond half_open_max */
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_HALF_OPEN_REFUSED), 1);
	free(second.data);
	ck_assert_uint_eq(ikev1_half_open_count(w.r.e), 1);
	ck_assert_uint_eq(ikev1_sa_count(w.r.e), 1);
	w.now += 30000;
	ikev1_tick(w.r.e, w.now);
	ck_assert_uint_eq(ikev1_sa_count(w.r.e), 0);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_FAILED), 1);
	world_end(&w);
}
END_TEST

START_TEST(delete_ipsec_sa_both_ways)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	uint32_t spi_i, spi_r;

	world_init(&w);
	world_go(&w);
	id = main_and_quick(&w);
	spi_i = child_of(&w.i)->in.spi;
	spi_r = child_of(&w.r)->in.spi;
	ck_assert_int_eq(ikev1_delete_child(w.i.e, &id, spi_i, w.now, &err), 0);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_CHILD_DOWN)->child_down.spi_in, spi_i);
	pass(&w, &w.i);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_CHILD_DOWN)->child_down.spi_in, spi_r);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_CHILD_DOWN)->child_down.spi_out, spi_i);
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_CHILD_DELETED), 1);
	/* a second pair, deleted by the responder */
	ck_assert_int_eq(ikev1_quick_mode(w.r.e, &id, w.now, &err), 0);
	pass(&w, &w.r);
	pass(&w, &w.i);
	pass(&w, &w.r);
	spi_r = child_of(&w.r)->in.spi;
	ck_assert_int_eq(ikev1_delete_child(w.r.e, &id, spi_r, w.now, &err), 0);
	pass(&w, &w.r);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_CHILD_DOWN)->child_down.spi_out, spi_r);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_CHILD_DELETED), 2);
	ck_assert_int_eq(ikev1_delete_child(w.r.e, &id, spi_r, w.now, &err), -ENOENT);
	world_end(&w);
}
END_TEST

START_TEST(delete_isakmp_sa_both_ways)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };

	for (int by_responder = 0; by_responder < 2; by_responder++) {
		struct side *from, *to;

		world_init(&w);
		world_go(&w);
		id = main_and_quick(&w);
		from = by_responder ? &w.r : &w.i;
		to = other(&w, from);
		ck_assert_int_eq(ikev1_delete_ike(from->e, &id, w.now, &err), 0);
		ck_assert_int_eq(count_ev(from, IKEV2_EV_IKE_DOWN), 1);
		ck_assert_int_eq(count_ev(from, IKEV2_EV_CHILD_DOWN), 1);
		pass(&w, from);
		ck_assert_int_eq(count_ev(to, IKEV2_EV_IKE_DOWN), 1);
		ck_assert_int_eq(count_ev(to, IKEV2_EV_CHILD_DOWN), 1);
		ck_assert_str_eq(last_ev(to, IKEV2_EV_IKE_DOWN)->reason.text, "deleted by the peer");
		ck_assert_uint_eq(ikev1_sa_count(w.i.e) + ikev1_sa_count(w.r.e), 0);
		world_end(&w);
	}
}
END_TEST

START_TEST(dpd_answered_and_silent_peer)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };

	world_init(&w);
	world_go(&w);
	id = main_and_quick(&w);
	ck_assert_int_eq(ikev1_check_liveness(w.i.e, &id, w.now, &err), 0);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_DPD_SENT), 1);
	pass(&w, &w.i);
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_DPD_ANSWERED), 1);
	pass(&w, &w.r); /* the ACK */
	ck_assert_ptr_nonnull(log_has(&w.i, &id, "the peer is alive"));
	ck_assert_uint_eq(ikev1_next_timer(w.i.e), w.now + 28800 * 1000ull);
	/* now the peer stays silent */
	ck_assert_int_eq(ikev1_check_liveness(w.i.e, &id, w.now, &err), 0);
	for (int k = 0; k < 6; k++) {
		free(take(&w.i).data);
		w.now = ikev1_next_timer(w.i.e);
		ikev1_tick(w.i.e, w.now);
	}
	nothing_sent(&w.i);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_RETRANSMITS), 5);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_PEER_TIMEOUTS), 1);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_DOWN), 1);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_DOWN), 1);
	ck_assert_uint_eq(ikev1_sa_count(w.i.e), 0);
	world_end(&w);
}
END_TEST

START_TEST(quick_mode_rekey_make_before_break)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	uint32_t old_i, old_r;
	const struct ike_child *ni;

	world_init(&w);
	world_go(&w);
	id = main_and_quick(&w);
	old_i = child_of(&w.i)->in.spi;
	old_r = child_of(&w.r)->in.spi;
	ck_assert_int_eq(ikev1_rekey_child(w.i.e, &id, old_i, w.now, &err), 0);
	pass(&w, &w.i);
	pass(&w, &w.r); /* the initiator installs, then deletes the old pair */
	ni = child_of(&w.i);
	ck_assert_uint_eq(ni->rekeys_spi, old_i);
	ck_assert_uint_ne(ni->in.spi, old_i);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_CHILD_DOWN)->child_down.spi_in, old_i);
	pass(&w, &w.i); /* QM 3: the responder's new pair is up before the old goes */
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_UP), 2);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_DOWN), 0);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	pass(&w, &w.i); /* the DELETE */
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_CHILD_DOWN)->child_down.spi_in, old_r);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_CHILD_REKEYS), 1);
	ck_assert_int_eq(ikev1_rekey_child(w.i.e, &id, old_i, w.now, &err), -ENOENT);
	world_end(&w);
}
END_TEST

START_TEST(aggressive_mode_refused)
{
	struct world w;
	struct ike_err err = { 0 };
	uint8_t buf[IKE_MSG_MAX];
	size_t n = load_vector("isakmp_aggressive", buf, sizeof(buf));

	world_init(&w);
	world_go(&w);
	ck_assert_uint_gt(n, ISAKMP_HDR_LEN);
	ck_assert_int_eq(ikev1_input(w.r.e, buf, n, &w.r.ep, &w.i.ep, w.now, &err), -EPROTO);
	ck_assert_ptr_nonnull(strstr(err.msg, "Aggressive Mode refused"));
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_AGGRESSIVE_REFUSED), 1);
	ck_assert_uint_eq(ikev1_sa_count(w.r.e), 0);
	nothing_sent(&w.r);
	world_end(&w);
}
END_TEST

/* Every prefix of a message, random bytes, and single flipped bytes:
 * dropped and counted, never a crash; the exchange still completes. */
START_TEST(malformed_input_counted)
{
	struct world w;
	struct msg mm1, mm3;
	uint8_t buf[2048];
	uint32_t seed = 7;
	struct ike_err err;

	world_init(&w);
	world_go(&w);
	initiate(&w);
	mm1 = take(&w.i);
	for (size_t len = 0; len < mm1.len; len++) {
		err = (struct ike_err){ 0 };
		ck_assert_int_lt(feed(&w, &w.r, &(struct msg){ mm1.data, len, mm1.from, mm1.to }, &err), 0);
	}
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_INVALID_PACKETS), mm1.len);
	for (int k = 0; k < 200; k++) {
		size_t len = rnd(&seed) % sizeof(buf);

		rnd_bytes(&seed, buf, len);
		feed(&w, &w.r, &(struct msg){ buf, len, mm1.from, mm1.to }, NULL);
	}
	ck_assert_uint_eq(ikev1_sa_count(w.r.e), 0);
	nothing_sent(&w.r);
	deliver(&w, &w.r, &mm1);
	pass(&w, &w.r);
	mm3 = take(&w.i);
	for (size_t len = 0; len < mm3.len; len++) /* truncated MM 3: the SA is not touched */
		ck_assert_int_eq(feed(&w, &w.r, &(struct msg){ mm3.data, len, mm3.from, mm3.to }, NULL),
				 -EBADMSG);
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_INVALID_PACKETS), mm1.len + 200 + mm3.len -
			  stat(&w.r, IKEV1_STAT_INVALID_COOKIES) - stat(&w.r, IKEV1_STAT_AGGRESSIVE_REFUSED));
	deliver(&w, &w.r, &mm3);
	free(mm1.data);
	free(mm3.data);
	pass(&w, &w.r);
	pass(&w, &w.i);
	pass(&w, &w.r);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	world_end(&w);
}
END_TEST

START_TEST(corrupted_quick_mode_dropped)
{
	struct world w;
	struct msg qm1;
	uint8_t buf[2048];
	struct ike_err err = { 0 };

	world_init(&w);
	world_go(&w);
	initiate(&w);
	for (int k = 0; k < 6; k++)
		pass(&w, k % 2 ? &w.r : &w.i);
	qm1 = take(&w.i);
	memcpy(buf, qm1.data, qm1.len);
	buf[qm1.len - 20] ^= 1; /* inside the HASH(1)-covered payloads */
	ck_assert_int_lt(feed(&w, &w.r, &(struct msg){ buf, qm1.len, qm1.from, qm1.to }, &err), 0);
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_HASH_FAILED) + stat(&w.r, IKEV1_STAT_INVALID_PACKETS), 1);
	nothing_sent(&w.r);
	deliver(&w, &w.r, &qm1);
	free(qm1.data);
	pass(&w, &w.r);
	pass(&w, &w.i);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	world_end(&w);
}
END_TEST

START_TEST(nat_traversal_floats_to_4500)
{
	struct world w;
	const struct ike_child *ci;

	world_init(&w);
	w.nat = true;
	w.nat_ep = (struct ike_endpoint){ v4(203, 0, 113, 7), 40000 };
	world_go(&w);
	main_and_quick(&w);
	ck_assert(last_ev(&w.i, IKEV2_EV_NAT)->nat.local_behind_nat);
	ck_assert(!last_ev(&w.i, IKEV2_EV_NAT)->nat.remote_behind_nat);
	ci = child_of(&w.i);
	ck_assert(ci->udp_encap);
	ck_assert(child_of(&w.r)->udp_encap);
	ck_assert_uint_eq(ci->local_port, IKEV1_NATT_PORT);
	ck_assert_uint_eq(ci->remote_port, IKEV1_NATT_PORT);
	ck_assert_uint_eq(child_of(&w.r)->remote_port, 40001);
	pair_agrees(ci, child_of(&w.r));
	world_end(&w);
}
END_TEST

/* Both sides' ECP-256 key pairs from fixed_priv. */
static void fixed_dh(struct world *w)
{
	w->i.conf.test_dh_private = fixed_priv;
	w->i.conf.test_dh_private_len = sizeof(fixed_priv);
	w->r.conf.test_dh_private = fixed_priv;
	w->r.conf.test_dh_private_len = sizeof(fixed_priv);
}

/* g^xy of a run with fixed_dh(): both sides used the same private value,
 * so it is priv * (priv * G). Its length. */
static size_t fixed_gxy(uint8_t gxy[64])
{
	uint8_t g_peer[IKE_DH_PUBLIC_MAX];
	struct ike_err err = { 0 };
	const uint8_t *pub;
	struct ike_dh *dh;
	size_t plen, glen;

	ck_assert_int_eq(ike_dh_new_fixed_for_test(IKE_DH_ECP_256, fixed_priv, 32, &dh, &err), 0);
	pub = ike_dh_public(dh, &plen);
	memcpy(g_peer, pub, plen);
	ck_assert_int_eq(ike_dh_derive(dh, g_peer, plen, gxy, 64, &glen, &err), 0);
	ike_dh_free(dh);
	return glen;
}

/* SKEYID, SKEYID_d/a/e, the cipher key and the ESP keys of a run, from
 * the nonces, cookies and g^xy, by the Python reference. */
START_TEST(keys_match_the_reference)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ikev1_sa *sa;
	const struct ikev1_xchg *x = NULL;
	const struct ike_child *ci;
	uint8_t gxy[64], spi[4];
	size_t glen;
	struct ref r = { 0 };

	world_init(&w);
	fixed_dh(&w);
	world_go(&w);
	id = main_and_quick(&w);
	sa = ikev1_find_sa(w.i.e, &id);
	ck_assert_ptr_nonnull(sa);
	glen = fixed_gxy(gxy);
	for (int k = 0; k < IKEV1_MAX_XCHG; k++)
		if (sa->xchg[k].kind == IKEV1_X_QUICK)
			x = &sa->xchg[k];
	ck_assert_ptr_nonnull(x);
	ci = child_of(&w.i);
	ref_op(&r, "v1-skeyid-psk sha256");
	ref_hex(&r, (const uint8_t *)"secret", 6);
	ref_hex(&r, sa->ni, sa->ni_len);
	ref_hex(&r, sa->nr, sa->nr_len);
	ref_op(&r, "v1-keys sha256");
	ref_hex(&r, sa->keys.skeyid, sa->keys.prf_len);
	ref_hex(&r, gxy, glen);
	ref_hex(&r, id.spi_i, 8);
	ref_hex(&r, id.spi_r, 8);
	ref_add(&r, " 32");
	/* KEYMAT of the initiator's outbound SA: the responder's SPI */
	spi[0] = (uint8_t)(ci->out.spi >> 24);
	spi[1] = (uint8_t)(ci->out.spi >> 16);
	spi[2] = (uint8_t)(ci->out.spi >> 8);
	spi[3] = (uint8_t)ci->out.spi;
	ref_op(&r, "v1-keymat sha256");
	ref_hex(&r, sa->keys.skeyid_d, 32);
	ref_add(&r, " -");
	ref_add(&r, " 03");
	ref_hex(&r, spi, 4);
	ref_hex(&r, x->ni, x->ni_len);
	ref_hex(&r, x->nr, x->nr_len);
	ref_add(&r, " 48");
	ref_run(&r);
	ref_expect(&r, sa->keys.skeyid, 32, "SKEYID");
	ref_expect(&r, sa->keys.skeyid_d, 32, "SKEYID_d");
	ref_expect(&r, sa->keys.skeyid_a, 32, "SKEYID_a");
	ref_expect(&r, sa->keys.skeyid_e, 32, "SKEYID_e");
	ref_expect(&r, sa->keys.key, 32, "the AES-256 key");
	ref_expect(&r, ci->out.enc_key, 16, "the outbound ESP encryption key");
	ref_expect(&r, ci->out.integ_key, 32, "the outbound ESP integrity key");
	ref_done(&r);
	OPENSSL_cleanse(gxy, sizeof(gxy));
	world_end(&w);
}
END_TEST

/* The responder takes the first of the initiator's transforms that one of
 * its methods accepts, whatever its own order. */
START_TEST(initiator_order_in_main_mode)
{
	struct world w;
	struct ike_mm_method mm_aes128 = mm_aes256;

	world_init(&w);
	mm_aes128.suite.encr_bits = 128;
	w.i.pol.n_mm = 2;
	w.i.pol.mm[0] = mm_3des;
	w.i.pol.mm[1] = mm_aes256;
	w.r.pol.n_mm = 2;
	w.r.pol.mm[0] = mm_aes128;
	w.r.pol.mm[1] = mm_3des;
	world_go(&w);
	main_and_quick(&w);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_IKE_UP)->up.mm.suite.encr, IKE_ENCR_3DES);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_IKE_UP)->up.mm.suite.encr, IKE_ENCR_3DES);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_IKE_UP)->up.mm.dh_group, IKE_DH_MODP_2048);
	world_end(&w);
}
END_TEST

/* The seeds' "High" end to end: Main Mode 3DES/SHA-1, Quick Mode ESP 3DES
 * (transform 3, no Key Length) with HMAC-SHA1-96; the responder prefers
 * AES but takes what the initiator offers. */
START_TEST(quick_mode_3des)
{
	struct world w;
	const struct ike_child *ci, *cr;

	world_init(&w);
	policy(&w.i, true, &mm_3des, &qm_3des, "secret");
	policy(&w.r, false, &mm_3des, &qm_cbc, "secret");
	w.r.pol.n_qm = 2;
	w.r.pol.qm[1] = qm_3des;
	world_go(&w);
	main_and_quick(&w);
	ci = child_of(&w.i);
	cr = child_of(&w.r);
	pair_agrees(ci, cr);
	ck_assert_uint_eq(ci->out.enc_alg, DPSEC_ENC_3DES_CBC);
	ck_assert_uint_eq(ci->out.enc_key_len, 24);
	ck_assert_uint_eq(cr->in.enc_alg, DPSEC_ENC_3DES_CBC);
	ck_assert_uint_eq(ci->out.integ_alg, DPSEC_INTEG_HMAC_SHA1_96);
	ck_assert_uint_eq(ci->out.integ_key_len, 20);
	world_end(&w);
}
END_TEST

/* MD5 and group 2 only with conf.legacy. */
START_TEST(legacy_suites_need_the_option)
{
	static const struct ike_mm_method mm_md5 = {
		{ IKE_ENCR_AES_CBC, 128, IKE_INTEG_NONE, IKE_PRF_HMAC_MD5 }, IKE_DH_MODP_1024
	};
	struct world w;
	struct ike_err err = { 0 };
	struct ikev2_sa_id id;

	world_init(&w);
	w.i.pol.mm[0] = mm_md5;
	w.r.pol.mm[0] = mm_md5;
	world_go(&w);
	ck_assert_int_eq(ikev1_initiate(w.i.e, &w.i.pol, &w.i.ep, &w.r.ep, w.now, &id, &err), -EINVAL);
	world_end(&w);
	world_init(&w);
	w.i.pol.mm[0] = mm_md5;
	w.r.pol.mm[0] = mm_md5;
	w.i.conf.legacy = w.r.conf.legacy = true;
	world_go(&w);
	main_and_quick(&w);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_IKE_UP)->up.mm.suite.prf, IKE_PRF_HMAC_MD5);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	world_end(&w);
}
END_TEST

static const struct ike_mm_method mm_des = {
	{ IKE_ENCR_DES, 0, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA1 }, IKE_DH_ECP_256
};

/* DES only with conf.legacy: an initiator with it offers DES, a responder
 * without it answers NO-PROPOSAL-CHOSEN (counted); with it, both agree. */
START_TEST(des_needs_legacy)
{
	struct world w;
	struct ike_err err = { 0 };
	struct ikev2_sa_id id;
	struct msg m;

	world_init(&w);
	w.i.pol.mm[0] = w.r.pol.mm[0] = mm_des;
	world_go(&w);
	ck_assert_int_eq(ikev1_initiate(w.i.e, &w.i.pol, &w.i.ep, &w.r.ep, w.now, &id, &err), -EINVAL);
	world_end(&w);

	world_init(&w);
	w.i.pol.mm[0] = w.r.pol.mm[0] = mm_des;
	w.i.conf.legacy = true;
	world_go(&w);
	initiate(&w);
	refused(&w, &w.i, -ENOENT);
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_NEGOTIATION_FAILURES), 1);
	m = step(&w, &w.r);
	expect_summary(&m, "N");
	free(m.data);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_FAILED)->reason.notify, ISAKMP_N_NO_PROPOSAL_CHOSEN);
	world_end(&w);

	world_init(&w);
	w.i.pol.mm[0] = w.r.pol.mm[0] = mm_des;
	w.i.conf.legacy = w.r.conf.legacy = true;
	world_go(&w);
	main_and_quick(&w);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_IKE_UP)->up.mm.suite.encr, IKE_ENCR_DES);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_IKE_UP)->up.mm.suite.encr, IKE_ENCR_DES);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	world_end(&w);
}
END_TEST

/* The openssl command's DES-CBC decryption of ct (its legacy provider):
 * into pt, its length. */
static size_t openssl_des_decrypt(const uint8_t *key, const uint8_t *iv, const uint8_t *ct,
				  size_t len, uint8_t *pt, size_t cap)
{
	char path[] = "/tmp/dpsec-des-XXXXXX", cmd[512];
	int fd = mkstemp(path);
	FILE *f;
	size_t n;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, ct, len), (ssize_t)len);
	close(fd);
	n = (size_t)snprintf(cmd, sizeof(cmd), OPENSSL_BIN " enc -d -des-cbc -provider legacy "
			     "-provider default -nopad -in %s -K ", path);
	for (int i = 0; i < 8; i++)
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%02x", key[i]);
	n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, " -iv ");
	for (int i = 0; i < 8; i++)
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%02x", iv[i]);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(pt, 1, cap, f);
	ck_assert_int_eq(pclose(f), 0);
	unlink(path);
	return n;
}

/* Main Mode 5 with DES: the Python reference derives the key (SKEYID_e's
 * first 8 bytes) and the IV (SHA-1 of g^xi | g^xr) from the PSK and what
 * crossed the wire; the openssl command decrypts the message with them
 * and finds IDii (FQDN i.example) and an HASH_I of SHA-1's length. */
START_TEST(des_main_mode_decrypted_by_openssl)
{
	static const char fqdn[] = "i.example";
	struct world w;
	struct ikev2_sa_id id;
	struct ikev1_sa *sa;
	struct msg m5;
	struct ref r = { 0 };
	uint8_t gxy[64], pt[IKE_MSG_MAX];
	const uint8_t *key, *iv;
	size_t glen, n;

	world_init(&w);
	w.i.pol.mm[0] = w.r.pol.mm[0] = mm_des;
	w.i.conf.legacy = w.r.conf.legacy = true;
	fixed_dh(&w);
	world_go(&w);
	id = initiate(&w);
	for (int k = 0; k < 4; k++)
		pass(&w, k % 2 ? &w.r : &w.i);
	m5 = step(&w, &w.i);
	sa = ikev1_find_sa(w.i.e, &id);
	ck_assert_ptr_nonnull(sa);
	memcpy(id.spi_r, sa->id.spi_r, 8);
	glen = fixed_gxy(gxy);
	ref_op(&r, "v1-skeyid-psk sha1");
	ref_hex(&r, (const uint8_t *)"secret", 6);
	ref_hex(&r, sa->ni, sa->ni_len);
	ref_hex(&r, sa->nr, sa->nr_len);
	ref_run(&r);
	ref_expect(&r, sa->keys.skeyid, 20, "SKEYID");
	ref_done(&r);
	ref_op(&r, "v1-keys sha1");
	ref_hex(&r, sa->keys.skeyid, 20);
	ref_hex(&r, gxy, glen);
	ref_hex(&r, id.spi_i, 8);
	ref_hex(&r, id.spi_r, 8);
	ref_add(&r, " 8");
	ref_op(&r, "v1-iv sha1");
	ref_hex(&r, sa->g_xi, sa->g_len);
	ref_hex(&r, sa->g_xr, sa->g_len);
	ref_add(&r, " 8");
	ref_run(&r);
	ref_take(&r, 3 * 20, "SKEYID_d, SKEYID_a, SKEYID_e");
	key = ref_take(&r, 8, "the DES key");
	iv = ref_take(&r, 8, "the Phase 1 IV");
	ck_assert_uint_eq((m5.len - ISAKMP_HDR_LEN) % 8, 0);
	n = openssl_des_decrypt(key, iv, m5.data + ISAKMP_HDR_LEN, m5.len - ISAKMP_HDR_LEN, pt,
				sizeof(pt));
	ref_done(&r);
	ck_assert_uint_eq(n, m5.len - ISAKMP_HDR_LEN);
	ck_assert_uint_eq(pt[0], ISAKMP_PL_HASH);                /* IDii, then HASH_I */
	ck_assert_uint_eq(pt[2] << 8 | pt[3], 8 + strlen(fqdn)); /* 4 + type, protocol, port */
	ck_assert_uint_eq(pt[4], w.i.pol.local_id.type); /* FQDN: 2 in both versions */
	ck_assert_mem_eq(pt + 8, fqdn, strlen(fqdn));
	ck_assert_uint_eq(pt[8 + strlen(fqdn) + 2] << 8 | pt[8 + strlen(fqdn) + 3], 4 + 20);
	free(m5.data);
	pass(&w, &w.r); /* 6 */
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	world_end(&w);
}
END_TEST

/* An offer longer than the responder's lifetime is answered with
 * RESPONDER-LIFETIME and the shorter one holds on both sides. */
START_TEST(responder_lifetime)
{
	struct world w;

	world_init(&w);
	w.r.pol.qm[0].lifetime_seconds = 1200;
	w.r.pol.qm[0].lifetime_kilobytes = 5000;
	world_go(&w);
	main_and_quick(&w);
	ck_assert_uint_eq(child_of(&w.r)->method.lifetime_seconds, 1200);
	ck_assert_uint_eq(child_of(&w.i)->method.lifetime_seconds, 1200);
	ck_assert_uint_eq(child_of(&w.i)->method.lifetime_kilobytes, 5000);
	world_end(&w);
}
END_TEST

START_TEST(ah_and_transport_mode)
{
	static const struct ike_qm_method qm_ah = {
		IKE_PROTO_AH, 0, 0, DPSEC_INTEG_HMAC_SHA1_96, 0, false, 3600, 100000
	};
	struct world w;
	const struct ike_child *ci;

	world_init(&w);
	w.i.pol.qm[0] = qm_ah;
	w.r.pol.qm[0] = qm_ah;
	w.i.pol.transport = w.r.pol.transport = true;
	w.i.pol.ts_local = ts_prefix(w.i.ep.addr, 32);
	w.i.pol.ts_remote = ts_prefix(w.r.ep.addr, 32);
	w.r.pol.ts_local = w.i.pol.ts_remote;
	w.r.pol.ts_remote = w.i.pol.ts_local;
	world_go(&w);
	main_and_quick(&w);
	ci = child_of(&w.i);
	ck_assert_uint_eq(ci->protocol, IKE_PROTO_AH);
	ck_assert_uint_eq(ci->out.integ_alg, DPSEC_INTEG_HMAC_SHA1_96);
	ck_assert_uint_eq(ci->out.integ_key_len, 20);
	ck_assert_uint_eq(ci->out.mode, DPSEC_MODE_TRANSPORT);
	ck_assert_uint_eq(child_of(&w.r)->out.mode, DPSEC_MODE_TRANSPORT);
	pair_agrees(ci, child_of(&w.r));
	world_end(&w);
}
END_TEST

/* AH covers the outer addresses: once NAT-D found a NAT, Quick Mode offers
 * only the ESP methods (in UDP), and without one it starts no Quick Mode. */
static const struct ike_qm_method qm_ah_sha1 = {
	IKE_PROTO_AH, 0, 0, DPSEC_INTEG_HMAC_SHA1_96, 0, false, 3600, 100000
};

static void nat_world(struct world *w)
{
	world_init(w);
	w->nat = true;
	w->nat_ep = (struct ike_endpoint){ v4(203, 0, 113, 7), 40000 };
}

START_TEST(nat_leaves_ah_out)
{
	struct world w;
	const struct ike_child *ci;

	nat_world(&w);
	for (struct side *s = &w.i; s; s = s == &w.i ? &w.r : NULL) {
		s->pol.n_qm = 2;
		s->pol.qm[1] = s->pol.qm[0]; /* ESP second: AH would be chosen first */
		s->pol.qm[0] = qm_ah_sha1;
	}
	world_go(&w);
	main_and_quick(&w);
	ci = child_of(&w.i);
	ck_assert_uint_eq(ci->protocol, IKE_PROTO_ESP);
	ck_assert(ci->udp_encap);
	ck_assert_uint_eq(child_of(&w.r)->protocol, IKE_PROTO_ESP);
	pair_agrees(ci, child_of(&w.r));
	world_end(&w);
}
END_TEST

START_TEST(nat_with_only_ah_starts_no_quick_mode)
{
	struct world w;

	nat_world(&w);
	w.i.pol.qm[0] = qm_ah_sha1;
	w.r.pol.qm[0] = qm_ah_sha1;
	world_go(&w);
	initiate(&w);
	for (int k = 0; k < 5; k++)
		pass(&w, k % 2 ? &w.r : &w.i);
	refused(&w, &w.r, -EPROTONOSUPPORT); /* Main Mode 6: up, but no Quick Mode */
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 0);
	nothing_sent(&w.i);
	world_end(&w);
}
END_TEST

/* The responder's own filter, which a dpsec initiator never reaches since
 * it leaves AH out: Main Mode up through the NAT, its last message read
 * by an initiator made to forget the NAT for that message only, as a peer
 * ignoring RFC 3947 would be; the Quick Mode 1 it sends then offers each
 * method of its policy, AH included. The responder's policy has AH first,
 * then ESP: only the NAT stands in AH's way. */
static void qm1_ignoring_nat(struct world *w, const struct ike_qm_method *offered, uint8_t n)
{
	struct ikev2_sa_id id;
	struct ikev1_sa *sa;
	bool local_nat, remote_nat;

	nat_world(w);
	w->i.pol.n_qm = n;
	memcpy(w->i.pol.qm, offered, n * sizeof(*offered));
	w->r.pol.n_qm = 2;
	w->r.pol.qm[0] = qm_ah_sha1;
	w->r.pol.qm[1] = qm_cbc;
	world_go(w);
	initiate(w);
	for (int k = 0; k < 5; k++)
		pass(w, k % 2 ? &w->r : &w->i);
	id = last_ev(&w->i, IKEV2_EV_NAT)->sa;
	ck_assert(ikev1_find_sa(w->r.e, &id)->remote_nat); /* the responder found the NAT */
	sa = ikev1_find_sa(w->i.e, &id);
	local_nat = sa->local_nat;
	remote_nat = sa->remote_nat;
	ck_assert(local_nat);
	sa->local_nat = sa->remote_nat = false;
	pass(w, &w->r); /* Main Mode 6: up, and Quick Mode 1 goes out */
	sa->local_nat = local_nat;
	sa->remote_nat = remote_nat;
}

/* Offered only AH across the NAT, the responder chooses nothing: a
 * protected NO-PROPOSAL-CHOSEN, no pair on either side, the ISAKMP SA kept. */
START_TEST(nat_responder_refuses_ah)
{
	struct world w;

	qm1_ignoring_nat(&w, &qm_ah_sha1, 1);
	refused(&w, &w.i, -ENOENT);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_FAILED)->reason.notify, ISAKMP_N_NO_PROPOSAL_CHOSEN);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_UP), 0);
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_CHILD_ESTABLISHED), 0);
	pass(&w, &w.r);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_FAILED)->reason.notify, ISAKMP_N_NO_PROPOSAL_CHOSEN);
	ck_assert(!last_ev(&w.i, IKEV2_EV_FAILED)->reason.ike_sa_gone);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 0);
	ck_assert_uint_eq(ikev1_sa_count(w.r.e), 1);
	world_end(&w);
}
END_TEST

/* Offered AH first and ESP second across the NAT, the responder passes
 * over AH (which it would otherwise take, being first) and agrees to ESP
 * in UDP. */
START_TEST(nat_responder_skips_ah_for_esp)
{
	const struct ike_qm_method offered[2] = { qm_ah_sha1, qm_cbc };
	struct world w;

	qm1_ignoring_nat(&w, offered, 2);
	pass(&w, &w.i);
	pass(&w, &w.r);
	pass(&w, &w.i);
	ck_assert_uint_eq(child_of(&w.r)->protocol, IKE_PROTO_ESP);
	ck_assert(child_of(&w.r)->udp_encap);
	ck_assert_uint_eq(child_of(&w.i)->protocol, IKE_PROTO_ESP);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_UP), 1);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	world_end(&w);
}
END_TEST

/* Selectors outside the responder's policy: INVALID-ID-INFORMATION. */
START_TEST(selectors_outside_policy)
{
	struct world w;

	world_init(&w);
	w.i.pol.ts_local = ts_prefix(v4(10, 9, 0, 0), 16);
	world_go(&w);
	initiate(&w);
	for (int k = 0; k < 6; k++)
		pass(&w, k % 2 ? &w.r : &w.i);
	refused(&w, &w.i, -ENOENT);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_FAILED)->reason.notify,
			  ISAKMP_N_INVALID_ID_INFORMATION);
	pass(&w, &w.r);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_FAILED)->reason.notify,
			  ISAKMP_N_INVALID_ID_INFORMATION);
	world_end(&w);
}
END_TEST

/* A new Main Mode with INITIAL-CONTACT replaces the peer's older SAs. */
/* The initiator restarts (a new engine, no SA with the responder): its
 * Main Mode says INITIAL-CONTACT and the responder's old SAs go. */
START_TEST(initial_contact_replaces_old_sas)
{
	struct world w;
	struct ikev2_sa_id old;

	world_init(&w);
	world_go(&w);
	old = main_and_quick(&w);
	side_end(&w.i);
	memset(&w.i.box, 0, sizeof(w.i.box));
	w.i.box.name = "restarted initiator";
	policy(&w.i, true, &mm_aes256, &qm_cbc, "secret");
	side_start(&w.i);
	initiate(&w);
	for (int k = 0; k < 9; k++) /* Main Mode and Quick Mode again */
		pass(&w, k % 2 ? &w.r : &w.i);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_IKE_UP), 2);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 1);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_IKE_DOWN), 1);
	ck_assert_mem_eq(last_ev(&w.r, IKEV2_EV_IKE_DOWN)->sa.spi_i, old.spi_i, 8);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_DOWN), 1);
	ck_assert_uint_eq(ikev1_sa_count(w.r.e), 1);
	world_end(&w);
}
END_TEST

/* Main Mode again, six messages, no Quick Mode. */
static void main_mode_only(struct world *w, struct side *from)
{
	for (int k = 0; k < 6; k++)
		pass(w, k % 2 ? other(w, from) : from);
}

/* A renewal by either side: the new ISAKMP SA adopts the Quick Mode SA on
 * both (IKE_REKEYED, no CHILD_DOWN: no INITIAL-CONTACT either), the
 * renewing side deletes the old one, and the pair is rekeyed on the new. */
START_TEST(isakmp_sa_renewed_keeps_quick_modes)
{
	for (int by_responder = 0; by_responder < 2; by_responder++) {
		struct world w;
		struct ikev2_sa_id old, fresh;
		struct ike_err err = { 0 };
		struct side *from, *to;
		uint32_t spi;

		world_init(&w);
		world_go(&w);
		old = main_and_quick(&w);
		from = by_responder ? &w.r : &w.i;
		to = other(&w, from);
		spi = child_of(from)->in.spi;
		ck_assert_int_eq(ikev1_renew(from->e, &old, w.now, &fresh, &err), 0);
		ck_assert_int_eq(ikev1_renew(from->e, &old, w.now, &fresh, &err), -EALREADY);
		main_mode_only(&w, from);
		for (int k = 0; k < 2; k++) {
			struct side *s = k ? to : from;

			ck_assert_int_eq(count_ev(s, IKEV2_EV_IKE_UP), 2);
			ck_assert_int_eq(count_ev(s, IKEV2_EV_IKE_REKEYED), 1);
			ck_assert_mem_eq(last_ev(s, IKEV2_EV_IKE_REKEYED)->sa.spi_i, old.spi_i, 8);
		}
		fresh = last_ev(from, IKEV2_EV_IKE_REKEYED)->rekeyed.new_sa;
		ck_assert_mem_eq(last_ev(to, IKEV2_EV_IKE_REKEYED)->rekeyed.new_sa.spi_r, fresh.spi_r, 8);
		ck_assert_str_eq(last_ev(from, IKEV2_EV_IKE_DOWN)->reason.text, "replaced by a new Main Mode");
		pass(&w, from); /* the DELETE of the old ISAKMP SA */
		ck_assert_str_eq(last_ev(to, IKEV2_EV_IKE_DOWN)->reason.text, "deleted by the peer");
		ck_assert_int_eq(count_ev(from, IKEV2_EV_CHILD_DOWN) + count_ev(to, IKEV2_EV_CHILD_DOWN), 0);
		ck_assert_uint_eq(ikev1_sa_count(w.i.e) + ikev1_sa_count(w.r.e), 2);
		ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_IKE_RENEWED), 1);
		ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_IKE_RENEWED), 1);
		ck_assert_int_eq(ikev1_rekey_child(from->e, &old, spi, w.now, &err), -ENOENT);
		ck_assert_int_eq(ikev1_rekey_child(from->e, &fresh, spi, w.now, &err), 0);
		pass(&w, from);
		pass(&w, to);
		pass(&w, from); /* QM 3, then the DELETE of the old pair */
		pass(&w, from);
		ck_assert_int_eq(count_ev(to, IKEV2_EV_CHILD_UP), 2);
		ck_assert_int_eq(count_ev(to, IKEV2_EV_CHILD_DOWN), 1);
		pair_agrees(child_of(&w.i), child_of(&w.r));
		world_end(&w);
	}
}
END_TEST

/* At the end of its lifetime the ISAKMP SA is deleted (the peer told). */
START_TEST(isakmp_sa_lifetime)
{
	struct world w;

	world_init(&w);
	w.r.conf.ike_lifetime_s = 600; /* the initiator offers 28800: the shorter holds */
	world_go(&w);
	main_and_quick(&w);
	w.now += 600 * 1000;
	ck_assert_uint_eq(ikev1_next_timer(w.r.e), w.now);
	ikev1_tick(w.r.e, w.now);
	ck_assert_str_eq(last_ev(&w.r, IKEV2_EV_IKE_DOWN)->reason.text, "ISAKMP SA lifetime expired");
	pass(&w, &w.r);
	ck_assert_str_eq(last_ev(&w.i, IKEV2_EV_IKE_DOWN)->reason.text, "deleted by the peer");
	world_end(&w);
}
END_TEST

/* The lifetime set on a running engine (dpsec-ctld's assigned policy
 * changed) holds for the next Main Mode; one out of range changes nothing. */
START_TEST(phase1_settings_changed)
{
	struct world w;
	struct ike_err err = { 0 };

	world_init(&w);
	world_go(&w);
	ck_assert_int_eq(ikev1_engine_set_phase1(w.r.e, 9, false, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "lifetime 9 s"));
	ck_assert_int_eq(ikev1_engine_set_phase1(w.r.e, 900, false, &err), 0);
	main_and_quick(&w);
	w.now += 900 * 1000;
	ck_assert_uint_eq(ikev1_next_timer(w.r.e), w.now);
	ikev1_tick(w.r.e, w.now);
	ck_assert_str_eq(last_ev(&w.r, IKEV2_EV_IKE_DOWN)->reason.text, "ISAKMP SA lifetime expired");
	world_end(&w);
}
END_TEST

static void add_hex(char *cmd, size_t cap, const struct msg *m)
{
	size_t n = strlen(cmd);

	n += (size_t)snprintf(cmd + n, cap - n, " ");
	for (size_t k = 0; k < m->len && n + 3 < cap; k++)
		n += (size_t)snprintf(cmd + n, cap - n, "%02x", m->data[k]);
}

/* Main Mode 1 to 4 as scapy's ISAKMP dissector reads them, NAT-D
 * recomputed with hashlib (ike_vectors/check_ikev1_scapy.py). */
START_TEST(main_mode_parsed_by_scapy)
{
	struct world w;
	static char cmd[16384];
	char out[64] = "";
	FILE *f;

	world_init(&w);
	world_go(&w);
	initiate(&w);
	snprintf(cmd, sizeof(cmd), "%s %s", IKE_PYTHON, IKEV1_SCAPY_CHECK);
	for (int k = 0; k < 4; k++) {
		struct msg m = step(&w, k % 2 ? &w.r : &w.i);

		add_hex(cmd, sizeof(cmd), &m);
		free(m.data);
	}
	snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), " 192.0.2.1:500 198.51.100.1:500");
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(out, sizeof(out), f));
	ck_assert_int_eq(pclose(f), 0);
	ck_assert_str_eq(out, "ok\n");
	world_end(&w);
}
END_TEST

START_TEST(conf_checked)
{
	struct ikev1_conf c;
	struct ike_err err = { 0 };

	ikev1_conf_default(&c);
	ck_assert_ptr_null(ikev1_engine_new(&c, &err));
	ck_assert_int_eq(err.code, -EINVAL);
	c.lookup = lookup;
	c.half_open_max = 0;
	ck_assert_ptr_null(ikev1_engine_new(&c, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "half-open"));
	c.half_open_max = 10;
	c.ike_lifetime_s = 9;
	ck_assert_ptr_null(ikev1_engine_new(&c, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "lifetime"));
	ck_assert_str_eq(ikev1_stat_name(IKEV1_STAT_AGGRESSIVE_REFUSED), "aggressive modes refused");
	ck_assert_str_eq(ikev1_stat_name(IKEV1_STAT_COUNT), "?");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ikev1_engine");
	TCase *t = tcase_create("exchanges");

	tcase_set_timeout(t, 120);
	tcase_add_test(t, main_and_quick_mode_psk);
	tcase_add_test(t, quick_mode_with_pfs);
	tcase_add_test(t, phase1_settings_changed);
	tcase_add_test(t, pfs_on_one_side_only);
	tcase_add_test(t, wrong_psk);
	tcase_add_test(t, no_proposal_chosen);
	tcase_add_test(t, duplicates_get_the_cached_answer);
	tcase_add_test(t, lost_quick_mode_3_is_recovered);
	tcase_add_test(t, retransmission_and_give_up);
	tcase_add_test(t, quick_mode_given_up);
	tcase_add_test(t, half_open_responder_expires);
	tcase_add_test(t, delete_ipsec_sa_both_ways);
	tcase_add_test(t, delete_isakmp_sa_both_ways);
	tcase_add_test(t, dpd_answered_and_silent_peer);
	tcase_add_test(t, quick_mode_rekey_make_before_break);
	tcase_add_test(t, aggressive_mode_refused);
	tcase_add_test(t, malformed_input_counted);
	tcase_add_test(t, corrupted_quick_mode_dropped);
	tcase_add_test(t, nat_traversal_floats_to_4500);
	tcase_add_test(t, nat_leaves_ah_out);
	tcase_add_test(t, nat_with_only_ah_starts_no_quick_mode);
	tcase_add_test(t, nat_responder_refuses_ah);
	tcase_add_test(t, nat_responder_skips_ah_for_esp);
	tcase_add_test(t, keys_match_the_reference);
	tcase_add_test(t, initiator_order_in_main_mode);
	tcase_add_test(t, quick_mode_3des);
	tcase_add_test(t, legacy_suites_need_the_option);
	tcase_add_test(t, des_needs_legacy);
	tcase_add_test(t, des_main_mode_decrypted_by_openssl);
	tcase_add_test(t, responder_lifetime);
	tcase_add_test(t, ah_and_transport_mode);
	tcase_add_test(t, selectors_outside_policy);
	tcase_add_test(t, initial_contact_replaces_old_sas);
	tcase_add_test(t, isakmp_sa_lifetime);
	tcase_add_test(t, isakmp_sa_renewed_keeps_quick_modes);
	tcase_add_test(t, main_mode_parsed_by_scapy);
	tcase_add_test(t, conf_checked);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
