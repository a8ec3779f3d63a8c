/* cp_ike_life.c - the life of dpsec-ctld's IKE SAs after they come up:
 * the rekey at the soft point of the Main Mode lifetime (with jitter, the
 * initiator before the responder; IKEv1: a new Main Mode that adopts the
 * Quick Mode SAs) also once it keyed the policy's max_quick_modes, the
 * delete at its hard end, who rekeys a child SA
 * (IKEv1: the seeds' rule, the side that sent more), dead peer
 * detection (a liveness check after --dpd-interval seconds without an IKE
 * message or an inbound ESP packet from the peer; the engine takes the SA
 * down when the check goes unanswered), and the delete of child SAs
 * whose inbound SA dpsecd reports idle. An IKE SA left without child SAs
 * is deleted at its soft point instead of rekeyed: the next packet for
 * the peer negotiates afresh. docs/ike.md describes it. */
#include <errno.h>
#include <string.h>
#include <syslog.h>
#include <sys/random.h>

#include "cp.h"
#include "cp_ike.h"
#include "cp_ikev1.h"

#define NS_PER_S 1000000000ull
#define JITTER_PCT 5 /* random part of the soft point, percent of the lifetime */
#define TICK_NS (200 * 1000000ull) /* lifetimes and DPD are seconds: 5 looks a second */
#define FALLBACK_PCT 7 /* of a pair's lifetime: how long its soft point waits for the peer's rekey */

static uint32_t lifetime_s(const struct cp_ctx *c)
{
	const struct cfg_policy *pol = cfg_store_policy(&c->store, c->store.assigned);

	if (c->o.test_ike_lifetime_s != 0)
		return c->o.test_ike_lifetime_s;
	return (pol != NULL && pol->main_mode.lifetime_minutes ? pol->main_mode.lifetime_minutes
							       : 480) * 60u;
}

/* 0 .. JITTER_PCT * 100 - 1: hundredths of a percent. */
static uint32_t jitter(void)
{
	uint32_t r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)cp_now_ns(); /* only spreads rekeys: any value will do */
	return r % (JITTER_PCT * 100);
}

/* After the nth failed rekey in a row of an SA of life_ms (n counted up
 * to 4), a pause of n eightieths of the life, at least 1 s and at most
 * 60 s, plus up to half of it again at random: two peers that both failed
 * do not try together, and the last tenth of the life holds several tries. */
static uint64_t retry_pause_ms(uint64_t life_ms, uint32_t n)
{
	uint64_t pause_ms = life_ms / 80 * (n < 4 ? n : 4);

	pause_ms = pause_ms < 1000 ? 1000 : pause_ms > 60000 ? 60000 : pause_ms;
	return pause_ms + pause_ms / 2 * jitter() / (JITTER_PCT * 100);
}

uint32_t cp_ike_soft_point(bool initiator)
{
	return (initiator ? 8500 : 9200) + jitter();
}

void cp_ike_life_start(struct cp_ctx *c, struct cp_ike_sa *s, bool initiator)
{
	uint64_t now = cp_now_ns();
	uint64_t life_ns = (uint64_t)(s->lifetime_s ? s->lifetime_s : lifetime_s(c)) * NS_PER_S;
	uint32_t soft = cp_ike_soft_point(initiator);

	s->initiator = initiator;
	s->up_ns = s->active_ns = now;
	s->rekey_ns = now + life_ns / 10000 * soft;
	s->expire_ns = now + life_ns;
	s->rekeying = s->expiring = s->checking = false;
	s->quick_modes = s->rekey_failures = 0;
}

void cp_ike_life_heard(struct cp_ctx *c, const uint8_t spi_i[8])
{
	struct ikev2_sa_id id;
	struct cp_ike_sa *s;

	memcpy(id.spi_i, spi_i, sizeof(id.spi_i));
	s = cp_ike_find_sa(c->ike, &id);
	if (s != NULL) {
		s->active_ns = cp_now_ns();
		s->checking = false;
	}
}

static bool child_of(const struct cp_ike_child *ch, const struct cp_ike_sa *s)
{
	return ch->used && memcmp(ch->ike.spi_i, s->id.spi_i, sizeof(s->id.spi_i)) == 0;
}

static bool has_children(const struct cp_ctx *c, const struct cp_ike_sa *s)
{
	for (int i = 0; i < CP_IKE_MAX_CHILDREN; i++)
		if (child_of(&c->ike->ch[i], s))
			return true;
	return false;
}

/* Inbound packets of the SA's child SAs so far (dpsecd's SA directory). */
static uint64_t inbound_packets(const struct cp_ctx *c, const struct cp_ike_sa *s)
{
	uint64_t n = 0;

	for (int i = 0; i < CP_IKE_MAX_CHILDREN; i++) {
		const struct cp_ike_child *ch = &c->ike->ch[i];

		if (child_of(ch, s) && ch->sa_in < c->seg.hdr->sa_capacity)
			n += c->seg.sas[ch->sa_in].packets;
	}
	return n;
}

/* No IKE message and no ESP packet for the interval: is the peer alive? */
static void check_peer(struct cp_ctx *c, struct cp_ike_sa *s, uint64_t now)
{
	uint64_t in = inbound_packets(c, s);
	struct ike_err err = { 0 };

	if (in != s->in_packets) {
		s->in_packets = in;
		s->active_ns = now;
		return;
	}
	if (s->checking || now - s->active_ns < (uint64_t)c->o.dpd_seconds * NS_PER_S)
		return;
	s->checking = true; /* until a message comes; no answer: the engine's IKE_DOWN */
	if ((s->version == 1 ? cp_ikev1_check_liveness(c->ike->v1, &s->id, cp_ike_now_ms(), &err)
			     : ikev2_check_liveness(c->ike->e, &s->id, cp_ike_now_ms(), &err)) < 0)
		cp_log(LOG_WARNING, "ike: liveness check, rule %08x: %s", s->rule_id, err.msg);
	else
		cp_log(LOG_INFO, "ike: nothing from the peer of rule %08x for %u s: liveness check",
		       s->rule_id, c->o.dpd_seconds);
}

/* why: "lifetime (N s) reached", "no child SA left at its soft lifetime" */
static void expire(struct cp_ctx *c, struct cp_ike_sa *s, const char *why)
{
	struct ike_err err = { 0 };

	s->expiring = true;
	cp_audit("IKE SA with rule %08x: %s, deleting it", s->rule_id, why);
	if ((s->version == 1 ? cp_ikev1_delete_ike(c->ike->v1, &s->id, cp_ike_now_ms(), &err)
			     : ikev2_delete_ike(c->ike->e, &s->id, cp_ike_now_ms(), &err)) < 0)
		cp_log(LOG_WARNING, "ike: deleting the IKE SA of rule %08x: %s", s->rule_id, err.msg);
}

/* s's rekey failed or could not start: it is tried again after a pause. */
static void ike_retry_later(struct cp_ike_sa *s)
{
	uint64_t pause_ms = retry_pause_ms((s->expire_ns - s->up_ns) / 1000000, ++s->rekey_failures);

	s->rekeying = false;
	s->rekey_ns = cp_now_ns() + pause_ms * 1000000;
	cp_log(LOG_INFO, "ike: the IKE SA of rule %08x: its rekey tried again in %llu ms", s->rule_id,
	       (unsigned long long)pause_ms);
}

/* IKEv2: a rekey; IKEv1: a new Main Mode, which adopts the Quick Mode SAs. */
static void rekey(struct cp_ctx *c, struct cp_ike_sa *s)
{
	struct ike_err err = { 0 };
	const char *what = s->version == 1 ? "renewing the ISAKMP SA" : "rekeying the IKE SA";
	int rc;

	s->rekeying = true;
	rc = s->version == 1 ? cp_ikev1_renew(c->ike->v1, &s->id, cp_ike_now_ms(), &err)
			     : ikev2_rekey_ike(c->ike->e, &s->id, cp_ike_now_ms(), &err);
	if (rc >= 0) {
		cp_log(LOG_INFO, "ike: %s of rule %08x (soft lifetime)", what, s->rule_id);
		return;
	}
	cp_log(LOG_WARNING, "ike: %s of rule %08x: %s", what, s->rule_id, err.msg);
	if (rc != -ENOENT && rc != -EALREADY) /* gone; a renewal under way */
		ike_retry_later(s);
}

void cp_ike_life_rekey_failed(struct cp_ctx *c, const struct ikev2_sa_id *id)
{
	struct cp_ike_sa *s = cp_ike_find_sa(c->ike, id);

	if (s != NULL && s->rekeying)
		ike_retry_later(s);
}

void cp_ike_life_quick_mode(struct cp_ctx *c, const struct ikev2_sa_id *id)
{
	const struct cfg_policy *pol = cfg_store_policy(&c->store, c->store.assigned);
	struct cp_ike_sa *s = cp_ike_find_sa(c->ike, id);
	uint32_t limit = pol != NULL ? pol->main_mode.max_quick_modes : 0;

	if (s == NULL || ++s->quick_modes < limit || limit == 0 || s->rekeying || s->expiring)
		return;
	cp_log(LOG_INFO, "ike: the IKE SA of rule %08x keyed %u quick modes, the policy's "
	       "max_quick_modes", s->rule_id, s->quick_modes);
	rekey(c, s);
}

/* IKEv1's ISAKMP SA: the engine ends it at its lifetime (taking the Quick
 * Mode SAs left on it down). */
static void v1_tick(struct cp_ctx *c, struct cp_ike_sa *s, uint64_t now)
{
	if (now >= s->rekey_ns && !s->rekeying && !has_children(c, s))
		expire(c, s, s->replaced ? "replaced by the peer's new Main Mode, which did not delete it"
					 : "no quick mode SA left at its soft lifetime");
	else if (now >= s->rekey_ns && !s->rekeying)
		rekey(c, s);
	else if (c->o.dpd_seconds != 0)
		check_peer(c, s, now);
}

static uint64_t sa_bytes(const struct cp_ctx *c, uint32_t sa)
{
	return sa < c->seg.hdr->sa_capacity ? c->seg.sas[sa].bytes : 0;
}

static void schedule_retry(struct cp_ike_child *ch)
{
	uint64_t pause_ms = retry_pause_ms((uint64_t)(ch->hard_seconds ? ch->hard_seconds : 3600) * 1000,
					   ++ch->rekey_failures);

	ch->rekeying = false;
	ch->retry_ns = cp_now_ns() + pause_ms * 1000000;
}

bool cp_ike_rekey_is_ours(struct cp_ctx *c, struct cp_ike_child *s)
{
	uint64_t out, in;

	if (s->version != 1)
		return true;
	if (s->fallback_ns != 0) /* the second soft event of the pair */
		return false;
	out = sa_bytes(c, s->sa_out);
	in = sa_bytes(c, s->sa_in);
	if (out > in || (out == in && s->initiated))
		return true;
	s->fallback_ns = cp_now_ns() + (uint64_t)s->hard_seconds * NS_PER_S / 100 * FALLBACK_PCT;
	cp_log(LOG_INFO, "ike: SPI in 0x%08x at its soft lifetime: the peer sent more (%llu bytes in, "
	       "%llu out)%s, its rekey awaited", s->spi_in, (unsigned long long)in,
	       (unsigned long long)out, in == out ? " or made the pair" : "");
	return false;
}

void cp_ike_child_rekey(struct cp_ctx *c, struct cp_ike_child *ch, const char *why)
{
	struct ike_err err = { 0 };
	int rc;

	ch->rekeying = true;
	ch->retry_ns = 0;
	cp_log(LOG_INFO, "ike: rekeying SPI in 0x%08x %s", ch->spi_in, why);
	rc = ch->version == 1 ? cp_ikev1_rekey_child(c->ike->v1, &ch->ike, ch->spi_in, cp_ike_now_ms(), &err)
			      : ikev2_rekey_child(c->ike->e, &ch->ike, ch->spi_in, cp_ike_now_ms(), &err);
	if (rc >= 0)
		return;
	cp_log(LOG_WARNING, "ike: rekeying SPI 0x%08x: %s", ch->spi_in, err.msg);
	/* -ENOENT: the pair or its IKE SA is gone; -EALREADY: replaced, or a
	 * rekey of it queued already */
	if (rc != -ENOENT && rc != -EALREADY)
		schedule_retry(ch);
}

bool cp_ike_child_rekey_failed(struct cp_ctx *c, uint32_t spi_in)
{
	for (int i = 0; c->ike != NULL && i < CP_IKE_MAX_CHILDREN; i++) {
		struct cp_ike_child *ch = &c->ike->ch[i];

		if (!ch->used || ch->spi_in != spi_in)
			continue;
		if (ch->dyn == NULL) /* a rekey of the peer's took its rule over */
			return true;
		schedule_retry(ch);
		cp_log(LOG_INFO, "ike: SPI in 0x%08x: its rekey tried again in %llu ms", spi_in,
		       (unsigned long long)((ch->retry_ns - cp_now_ns()) / 1000000));
		return false;
	}
	return false;
}

/* Rekeys of ours that are due: IKEv1 pairs whose rekey the peer should
 * have started by now, and failed rekeys to try again. A pair the peer's
 * rekey replaced meanwhile is left to its delete. */
static void rekeys_due(struct cp_ctx *c, uint64_t now)
{
	for (int i = 0; i < CP_IKE_MAX_CHILDREN; i++) {
		struct cp_ike_child *ch = &c->ike->ch[i];
		uint64_t due = ch->retry_ns ? ch->retry_ns : ch->fallback_ns;

		if (!ch->used || ch->rekeying || ch->deleting || due == 0 || now < due)
			continue;
		if (ch->dyn == NULL) {
			ch->rekeying = true; /* no rekey of a replaced pair */
			ch->retry_ns = 0;
		} else {
			cp_ike_child_rekey(c, ch, ch->retry_ns ? "again, after a failed rekey"
							       : "itself: the peer did not");
		}
	}
}

void cp_ike_life_tick(struct cp_ctx *c)
{
	uint64_t now = cp_now_ns();

	if (now < c->ike->life_due_ns)
		return;
	c->ike->life_due_ns = now + TICK_NS;
	for (int i = 0; i < CP_IKE_MAX_SAS; i++) {
		struct cp_ike_sa *s = &c->ike->sa[i];

		if (!s->used || s->expiring)
			continue;
		if (s->version == 1) {
			v1_tick(c, s, now);
			continue;
		}
		if (now >= s->expire_ns)
			expire(c, s, "Main Mode lifetime reached");
		else if (now >= s->rekey_ns && !s->rekeying && !has_children(c, s))
			expire(c, s, "no child SA left at its soft lifetime");
		else if (now >= s->rekey_ns && !s->rekeying)
			rekey(c, s);
		else if (c->o.dpd_seconds != 0)
			check_peer(c, s, now);
	}
	rekeys_due(c, now);
}

/* Sends ch's delete to its peer, once. */
static void delete_child(struct cp_ctx *c, struct cp_ike_child *ch)
{
	struct ike_err err = { 0 };

	if (ch->deleting)
		return;
	ch->deleting = true;
	if ((ch->version == 1
		     ? cp_ikev1_delete_child(c->ike->v1, &ch->ike, ch->spi_in, cp_ike_now_ms(), &err)
		     : ikev2_delete_child(c->ike->e, &ch->ike, ch->spi_in, cp_ike_now_ms(), &err)) < 0)
		cp_log(LOG_WARNING, "ike: deleting child SA SPI 0x%08x: %s", ch->spi_in, err.msg);
}

bool cp_ike_idle_expire(struct cp_ctx *c, uint32_t sa_id)
{
	for (int i = 0; c->ike != NULL && i < CP_IKE_MAX_CHILDREN; i++) {
		struct cp_ike_child *ch = &c->ike->ch[i];

		if (!ch->used || ch->sa_in != sa_id)
			continue;
		if (!ch->deleting)
			cp_audit("IKE child SA SPI in 0x%08x idle for %u s: deleting it", ch->spi_in,
				 c->store.timeouts.idle_seconds);
		delete_child(c, ch);
		return true;
	}
	return false;
}

bool cp_ike_hard_expire(struct cp_ctx *c, uint32_t sa_id)
{
	for (int i = 0; c->ike != NULL && i < CP_IKE_MAX_CHILDREN; i++) {
		struct cp_ike_child *ch = &c->ike->ch[i];

		if (!ch->used || (ch->sa_in != sa_id && ch->sa_out != sa_id))
			continue;
		cp_audit("IKE child SA SPI in 0x%08x reached its hard lifetime without a rekey: "
			 "deleting it with the peer", ch->spi_in);
		cp_ike_pair_out(c, ch);
		delete_child(c, ch);
		return true;
	}
	return false;
}

void cp_ike_children_lost(struct cp_ctx *c)
{
	for (int i = 0; c->ike != NULL && i < CP_IKE_MAX_CHILDREN; i++) {
		struct cp_ike_child *ch = &c->ike->ch[i];

		if (!ch->used || ch->sa_in == CP_SA_NONE)
			continue;
		cp_audit("IKE child SA SPI in 0x%08x lost with the dpsecd that held it: deleting it "
			 "with the peer", ch->spi_in);
		ch->sa_in = ch->sa_out = CP_SA_NONE;
		ch->dyn = NULL;
		delete_child(c, ch);
	}
}
