/* test_ike_life.c - dpsec-ctld's decisions on the life of an IKE SA
 * (control/cp_ike_life.c), on a real engine that holds none of the SAs
 * (its calls fail, logged) and a fake SA directory: the soft points (the
 * initiator's at 85-90 % of the Main Mode lifetime, the responder's at
 * 92-97 %, spread by jitter) and the hard end; --test-ike-lifetime; at
 * the soft point a rekey when child SAs remain, a delete when none do; at
 * the end a delete; a liveness check only after the interval without an
 * IKE message or an inbound packet, one at a time, none with DPD off; an
 * idle inbound SA of a child SA deletes it once, other SAs are not IKE's;
 * an ISAKMP SA's agreed lifetime, its renewal or delete at the soft
 * point; which side rekeys an IKEv1 pair (the seeds' rule, with its
 * fallback); max_quick_modes; a failed rekey of a child SA or an IKE SA
 * tried again after a growing pause, none after the peer's own rekey
 * replaced the pair, and one the engine cannot start yet tried later; a
 * rekeyed IKE SA's new life in the band of the new SA's initiator. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cp.h"
#include "cp_ike.h"
#include "cp_ikev1.h"
#include "ike_dh.h"
#include "ike_pair.h"
#include "ike_sa.h"
#include "ikev2_msg.h"
#include "lsan_libconfig.h"
#include "check_run.h"

#define NS_PER_S 1000000000ull
#define SA_CAPACITY 8

static const char *const store_text =
	"assigned = \"p\";\n"
	"policies = ( { name = \"p\"; main_mode = { lifetime_minutes = 60; }; rules = (); } );\n";

static struct cp_ctx c;
static struct dpsec_shm_hdr hdr;
static struct dpsec_shm_sa sas[SA_CAPACITY];

static int no_policy(void *ctx, const struct ikev2_lookup *q, struct ikev2_peer *out)
{
	(void)ctx, (void)q, (void)out;
	return -ENOENT;
}

static void setup(void)
{
	struct ikev2_conf conf;
	struct ike_err err = { 0 };
	char serr[CFG_ERR_MAX];

	memset(&c, 0, sizeof(c));
	memset(sas, 0, sizeof(sas));
	cp_log_init(LOG_CRIT, false);
	ck_assert_msg(cfg_store_load_string(store_text, "t.conf", &c.store, serr) == 0, "%s", serr);
	hdr.sa_capacity = SA_CAPACITY;
	c.seg.hdr = &hdr;
	c.seg.sas = sas;
	c.o.dpd_seconds = 30;
	c.ike = calloc(1, sizeof(*c.ike));
	ikev2_conf_default(&conf);
	conf.lookup = no_policy;
	c.ike->e = ikev2_engine_new(&conf, &err);
	ck_assert_msg(c.ike->e != NULL, "%s", err.msg);
	c.ike->v1 = cp_ikev1_open(&c, &conf, serr, sizeof(serr));
	ck_assert_msg(c.ike->v1 != NULL, "%s", serr);
}

static void teardown(void)
{
	cp_ikev1_close(c.ike->v1);
	ikev2_engine_free(c.ike->e);
	free(c.ike);
	cp_store_free(&c);
}

/* SA 0 of the table, up now, with SPIi byte 0 = tag. */
static struct cp_ike_sa *sa_up(uint8_t tag, bool initiator)
{
	struct cp_ike_sa *s = &c.ike->sa[0];

	memset(s, 0, sizeof(*s));
	s->used = true;
	s->id.spi_i[0] = tag;
	cp_ike_life_start(&c, s, initiator);
	return s;
}

static void child_of(const struct cp_ike_sa *s, uint32_t sa_in)
{
	c.ike->ch[0] = (struct cp_ike_child){ .used = true, .ike = s->id, .spi_in = 0x1000 + sa_in,
					      .sa_in = sa_in, .sa_out = sa_in + 1 };
}

static void tick(void)
{
	c.ike->life_due_ns = 0; /* the next look now, not in 200 ms */
	cp_ike_life_tick(&c);
}

/* Hundredths of a percent of the lifetime at which s rekeys. */
static uint64_t soft_point(const struct cp_ike_sa *s)
{
	return (s->rekey_ns - s->up_ns) * 10000 / (s->expire_ns - s->up_ns);
}

START_TEST(test_soft_points)
{
	uint64_t lo[2] = { UINT64_MAX, UINT64_MAX }, hi[2] = { 0, 0 };

	for (int i = 0; i < 400; i++) {
		bool initiator = i & 1;
		struct cp_ike_sa *s = sa_up(1, initiator);
		uint64_t p = soft_point(s);

		ck_assert_uint_eq(s->expire_ns - s->up_ns, 3600 * NS_PER_S);
		ck_assert(s->initiator == initiator);
		lo[initiator] = p < lo[initiator] ? p : lo[initiator];
		hi[initiator] = p > hi[initiator] ? p : hi[initiator];
	}
	/* inside the bands, and spread over most of them */
	ck_assert(lo[1] >= 8500 && hi[1] < 9000 && hi[1] - lo[1] > 400);
	ck_assert(lo[0] >= 9200 && hi[0] < 9700 && hi[0] - lo[0] > 400);
}
END_TEST

START_TEST(test_test_lifetime)
{
	struct cp_ike_sa *s;

	c.o.test_ike_lifetime_s = 30;
	s = sa_up(1, true);
	ck_assert_uint_eq(s->expire_ns - s->up_ns, 30 * NS_PER_S);
}
END_TEST

START_TEST(test_rekey_with_children)
{
	struct cp_ike_sa *s = sa_up(1, true);

	child_of(s, 2);
	tick();
	ck_assert(!s->rekeying && !s->expiring);
	s->rekey_ns = cp_now_ns() - 1;
	tick();
	ck_assert(s->rekeying && !s->expiring);
	tick(); /* one rekey, however often it looks */
	ck_assert(s->rekeying && !s->expiring);
}
END_TEST

START_TEST(test_childless_deleted)
{
	struct cp_ike_sa *s = sa_up(1, false);

	c.ike->ch[0] = (struct cp_ike_child){ .used = true, .ike = { .spi_i = { 9 } } }; /* another SA's */
	s->rekey_ns = cp_now_ns() - 1;
	tick();
	ck_assert(s->expiring && !s->rekeying);
}
END_TEST

START_TEST(test_hard_end)
{
	struct cp_ike_sa *s = sa_up(1, true);

	child_of(s, 2);
	s->rekeying = true; /* a rekey that never finished */
	s->rekey_ns = s->expire_ns = cp_now_ns() - 1;
	tick();
	ck_assert(s->expiring);
}
END_TEST

START_TEST(test_dpd)
{
	struct cp_ike_sa *s = sa_up(1, true);
	uint8_t spi_i[8] = { 1 };

	child_of(s, 2);
	s->active_ns = cp_now_ns() - 29 * NS_PER_S;
	tick();
	ck_assert(!s->checking); /* not yet 30 s */
	s->active_ns = cp_now_ns() - 31 * NS_PER_S;
	sas[2].packets = 7; /* an inbound packet since: alive */
	tick();
	ck_assert(!s->checking);
	ck_assert_uint_eq(s->in_packets, 7);
	ck_assert(cp_now_ns() - s->active_ns < NS_PER_S);
	s->active_ns = cp_now_ns() - 31 * NS_PER_S; /* quiet for 31 s */
	tick();
	ck_assert(s->checking);
	cp_ike_life_heard(&c, spi_i); /* the answer */
	ck_assert(!s->checking);
	ck_assert(cp_now_ns() - s->active_ns < NS_PER_S);
}
END_TEST

START_TEST(test_dpd_off)
{
	struct cp_ike_sa *s = sa_up(1, true);

	c.o.dpd_seconds = 0;
	s->active_ns = 0;
	tick();
	ck_assert(!s->checking);
}
END_TEST

START_TEST(test_idle_child)
{
	struct cp_ike_sa *s = sa_up(1, true);

	child_of(s, 2);
	ck_assert(!cp_ike_idle_expire(&c, 5)); /* a static SA: not IKE's */
	ck_assert(!cp_ike_idle_expire(&c, 3)); /* the outbound one is never idle */
	ck_assert(cp_ike_idle_expire(&c, 2));
	ck_assert(c.ike->ch[0].deleting);
	ck_assert(cp_ike_idle_expire(&c, 2)); /* reported again: still one delete */
}
END_TEST

/* An ISAKMP SA: the lifetime agreed in Main Mode, not the policy's; at
 * the soft point a renewal (a new Main Mode) with Quick Mode SAs, a delete
 * without. */
START_TEST(test_v1_renew_or_delete)
{
	struct cp_ike_sa *s = &c.ike->sa[0];

	*s = (struct cp_ike_sa){ .used = true, .version = 1, .lifetime_s = 100, .id.spi_i = { 1 } };
	cp_ike_life_start(&c, s, true);
	ck_assert_uint_eq(s->expire_ns - s->up_ns, 100 * NS_PER_S);
	child_of(s, 2);
	s->rekey_ns = cp_now_ns() - 1;
	tick();
	ck_assert(s->rekeying && !s->expiring);
	cp_ike_life_start(&c, s, true);
	c.ike->ch[0].used = false;
	s->rekey_ns = cp_now_ns() - 1;
	tick();
	ck_assert(s->expiring && !s->rekeying);
}
END_TEST

/* The seeds' rule for an IKEv1 pair at its soft lifetime: the side that
 * sent more rekeys, on a tie the one that made the pair; the other waits,
 * and rekeys itself when the peer has not by the fallback. IKEv2: always. */
START_TEST(test_quick_mode_rekey_side)
{
	struct cp_ike_sa *s = sa_up(1, true);
	struct cp_ike_child *ch = &c.ike->ch[0];

	child_of(s, 2);
	ch->version = 1;
	ch->hard_seconds = 3600;
	sas[3].bytes = 5000; /* out */
	sas[2].bytes = 4000; /* in */
	ck_assert(cp_ike_rekey_is_ours(&c, ch));
	sas[2].bytes = 5000;
	ch->initiated = true;
	ck_assert(cp_ike_rekey_is_ours(&c, ch));
	ch->initiated = false;
	ck_assert(!cp_ike_rekey_is_ours(&c, ch));
	ck_assert(ch->fallback_ns > cp_now_ns() + 250 * NS_PER_S); /* 7 % of 3600 s */
	ck_assert(ch->fallback_ns < cp_now_ns() + 253 * NS_PER_S);
	sas[3].bytes = 9000;
	ck_assert(!cp_ike_rekey_is_ours(&c, ch)); /* decided at the first soft event */
	tick();
	ck_assert(!ch->rekeying);
	ch->fallback_ns = cp_now_ns() - 1; /* the peer did not rekey */
	tick();
	ck_assert(ch->rekeying);
	ch->version = 2;
	ch->fallback_ns = 0;
	sas[2].bytes = 90000;
	ck_assert(cp_ike_rekey_is_ours(&c, ch));
}
END_TEST

/* max_quick_modes: the IKE SA is rekeyed once it has keyed that many. */
START_TEST(test_max_quick_modes)
{
	static const char *const limited =
		"assigned = \"p\";\n"
		"policies = ( { name = \"p\"; main_mode = { max_quick_modes = 2; }; rules = (); } );\n";
	char serr[CFG_ERR_MAX];
	struct cp_ike_sa *s = sa_up(1, true);

	for (int k = 0; k < 5; k++) /* no limit */
		cp_ike_life_quick_mode(&c, &s->id);
	ck_assert(!s->rekeying);
	cp_store_free(&c);
	ck_assert_msg(cfg_store_load_string(limited, "t.conf", &c.store, serr) == 0, "%s", serr);
	s = sa_up(1, true);
	cp_ike_life_quick_mode(&c, &s->id);
	ck_assert(!s->rekeying);
	cp_ike_life_quick_mode(&c, &s->id);
	ck_assert(s->rekeying);
	ck_assert_uint_eq(s->quick_modes, 2);
	cp_ike_life_start(&c, s, true); /* the rekeyed SA counts afresh */
	ck_assert_uint_eq(s->quick_modes, 0);
}
END_TEST

/* FAILED as an engine hands it out for a rekey of ours: of the child SA
 * with inbound SPI spi_in, or (0) of the IKE SA id itself. */
static void rekey_failed(const struct ikev2_sa_id *id, uint32_t spi_in, int version)
{
	struct ikev2_event ev = { .kind = IKEV2_EV_FAILED, .sa = *id, .user = 7 };

	ev.reason.notify = IKEV2_N_TEMPORARY_FAILURE;
	ev.reason.rekey_spi_in = spi_in;
	ev.reason.rekey_ike = spi_in == 0;
	snprintf(ev.reason.text, sizeof(ev.reason.text), "a rekey refused");
	cp_ike_event(&c, &ev, version);
}

/* The pause before the next try, in ms, as it stands now. */
static uint64_t retry_in_ms(uint64_t at_ns)
{
	return (at_ns - cp_now_ns()) / 1000000;
}

/* A child SA's rekey refused by the peer: counted, the pair not rekeying
 * any more, its next try after n eightieths of its lifetime (plus up to
 * half again) for the nth failure in a row, then started by the tick; for
 * either engine's pairs. */
START_TEST(test_child_rekey_retried)
{
	static struct cp_dyn_rule rule;

	for (int version = 1; version <= 2; version++) {
		struct cp_ike_sa *s = sa_up(1, true);
		struct cp_ike_child *ch = &c.ike->ch[0];

		child_of(s, 2);
		ch->version = version;
		ch->hard_seconds = 400; /* an eightieth: 5 s */
		ch->dyn = &rule;
		ch->rekeying = true;
		c.mm[CP_MM_negotiation_failures] = 0;
		rekey_failed(&s->id, ch->spi_in, version);
		ck_assert_uint_eq(c.mm[CP_MM_negotiation_failures], 1);
		ck_assert(!ch->rekeying);
		ck_assert_uint_ge(retry_in_ms(ch->retry_ns), 4900);
		ck_assert_uint_le(retry_in_ms(ch->retry_ns), 7500);
		tick();
		ck_assert(!ch->rekeying); /* not yet */
		ch->rekeying = true; /* the second try, refused too: a longer pause */
		rekey_failed(&s->id, ch->spi_in, version);
		ck_assert_uint_ge(retry_in_ms(ch->retry_ns), 9900);
		ck_assert_uint_le(retry_in_ms(ch->retry_ns), 15000);
		ch->retry_ns = cp_now_ns() - 1;
		tick();
		ck_assert(ch->rekeying); /* tried again (the engine here has no such SA) */
		ck_assert_uint_eq(ch->retry_ns, 0);
	}
}
END_TEST

/* The peer's own rekey replaced the pair before ours was refused (a
 * rekey collision's usual end, RFC 7296 §2.8.1): nothing to try again,
 * and no failure counted. */
START_TEST(test_child_rekey_superseded)
{
	struct cp_ike_sa *s = sa_up(1, true);
	struct cp_ike_child *ch = &c.ike->ch[0];

	child_of(s, 2);
	ch->version = 2;
	ch->rekeying = true; /* dyn NULL: the new pair took its rule over */
	rekey_failed(&s->id, ch->spi_in, 2);
	ck_assert_uint_eq(c.mm[CP_MM_negotiation_failures], 0);
	ck_assert_uint_eq(ch->retry_ns, 0);
	ck_assert(ch->rekeying);
}
END_TEST

/* A rekey the engine cannot start yet (its IKE SA not established: here
 * one of ours still in IKE_SA_INIT) is tried again after a pause; one
 * whose IKE SA is gone is not. */
START_TEST(test_child_rekey_not_started_yet)
{
	static const struct ike_mm_method mm = {
		{ IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256 }, IKE_DH_ECP_256
	};
	static const struct ike_qm_method qm = {
		IKE_PROTO_ESP, DPSEC_ENC_AES_GCM_16, 32, DPSEC_INTEG_NONE, 0, false, 3600, 100000
	};
	static struct cp_dyn_rule rule;
	struct ikev2_peer pol;
	struct ike_endpoint local = { v4(192, 0, 2, 1), 500 }, remote = { v4(192, 0, 2, 2), 500 };
	struct ike_err err = { 0 };
	struct cp_ike_sa *s = sa_up(1, true);
	struct cp_ike_child *ch = &c.ike->ch[0];
	struct ikev2_event ev;

	pair_policy(&pol, true, &mm, &qm, "secret");
	child_of(s, 2);
	ch->version = 2;
	ch->hard_seconds = 400;
	ch->dyn = &rule;
	ck_assert_int_eq(ikev2_initiate(c.ike->e, &pol, &local, &remote, 0, &ch->ike, &err), 0);
	cp_ike_child_rekey(&c, ch, "at its soft lifetime");
	ck_assert(!ch->rekeying);
	ck_assert_uint_ge(retry_in_ms(ch->retry_ns), 4900);
	memset(&ch->ike, 0, sizeof(ch->ike)); /* an IKE SA that is gone */
	cp_ike_child_rekey(&c, ch, "at its soft lifetime");
	ck_assert(ch->rekeying);
	ck_assert_uint_eq(ch->retry_ns, 0);
	while (ikev2_next_event(c.ike->e, &ev))
		ikev2_event_release(&ev);
	ike_auth_wipe(&pol.local_auth);
	ike_auth_wipe(&pol.remote_auth);
}
END_TEST

/* The IKE SA's own rekey refused: tried again after a pause (an eightieth
 * of its 60 min lifetime: 45 s, plus up to half again) by the tick. */
START_TEST(test_ike_rekey_retried)
{
	struct cp_ike_sa *s = sa_up(1, true);

	child_of(s, 2);
	s->rekeying = true;
	rekey_failed(&s->id, 0, 2);
	ck_assert_uint_eq(c.mm[CP_MM_negotiation_failures], 1);
	ck_assert(!s->rekeying);
	ck_assert_uint_ge(retry_in_ms(s->rekey_ns), 44900);
	ck_assert_uint_le(retry_in_ms(s->rekey_ns), 67500);
	tick();
	ck_assert(!s->rekeying);
	s->rekey_ns = cp_now_ns() - 1;
	tick();
	ck_assert(s->rekeying);
}
END_TEST

/* IKE_REKEYED: the record takes the new SA's id and a new life, whose soft
 * point is in the band of the new SA's initiator as the event names it:
 * after an IKE SA rekey collision that may be the peer, though we were
 * rekeying too (RFC 7296 §2.8.2). */
START_TEST(test_rekeyed_life_follows_new_initiator)
{
	for (int ours = 0; ours < 2; ours++) {
		struct cp_ike_sa *s = sa_up(1, true);
		struct ikev2_event ev = { .kind = IKEV2_EV_IKE_REKEYED, .sa = s->id };

		s->rekeying = true;
		ev.rekeyed.new_sa.spi_i[0] = 9;
		ev.rekeyed.initiator = ours;
		cp_ike_event(&c, &ev, 2);
		ck_assert_uint_eq(s->id.spi_i[0], 9);
		ck_assert(!s->rekeying);
		ck_assert(s->initiator == ours);
		ck_assert(ours ? soft_point(s) < 9000 : soft_point(s) >= 9200);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ike_life");
	TCase *t = tcase_create("ike_life");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_soft_points);
	tcase_add_test(t, test_test_lifetime);
	tcase_add_test(t, test_rekey_with_children);
	tcase_add_test(t, test_childless_deleted);
	tcase_add_test(t, test_hard_end);
	tcase_add_test(t, test_dpd);
	tcase_add_test(t, test_dpd_off);
	tcase_add_test(t, test_idle_child);
	tcase_add_test(t, test_v1_renew_or_delete);
	tcase_add_test(t, test_quick_mode_rekey_side);
	tcase_add_test(t, test_max_quick_modes);
	tcase_add_test(t, test_child_rekey_retried);
	tcase_add_test(t, test_child_rekey_superseded);
	tcase_add_test(t, test_child_rekey_not_started_yet);
	tcase_add_test(t, test_ike_rekey_retried);
	tcase_add_test(t, test_rekeyed_life_follows_new_initiator);
	suite_add_tcase(s, t);
	return check_run(s);
}
