/* ikev1_engine.c - the IKEv1 engine of ikev1.h: its SA table, events and
 * counters, the dispatch of a received datagram to its SA and exchange
 * (refusing Aggressive Mode), the timers (retransmissions, half-open and
 * lifetime expiry), and the calls that start exchanges on an established
 * SA. The exchanges are one file each. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ikev1_exchange.h"

#define IKEV1_X_NAME(n, s) s,
static const char *const stat_names[] = { IKEV1_STATS(IKEV1_X_NAME) };
#undef IKEV1_X_NAME

#define LIFETIME_MIN_S 10      /* the store's minimum is 5 minutes: less is for tests */
#define LIFETIME_MAX_S 172800  /* 48 hours */

const char *ikev1_stat_name(enum ikev1_stat s)
{
	return (unsigned)s < IKEV1_STAT_COUNT ? stat_names[s] : "?";
}

void ikev1_conf_default(struct ikev1_conf *c)
{
	*c = (struct ikev1_conf){
		.retransmit_base_ms = 500,
		.retransmit_tries = 5,
		.half_open_timeout_ms = 30000,
		.half_open_max = 1000,
		.ike_lifetime_s = 28800,
	};
}

static int lifetime_check(uint32_t s, struct ike_err *err)
{
	if (s >= LIFETIME_MIN_S && s <= LIFETIME_MAX_S)
		return 0;
	return ike_fail(err, -EINVAL, "IKEv1 engine: ISAKMP SA lifetime %u s (%d to %d)", s,
			LIFETIME_MIN_S, LIFETIME_MAX_S);
}

struct ikev1_engine *ikev1_engine_new(const struct ikev1_conf *c, struct ike_err *err)
{
	struct ikev1_engine *e;

	if (c->lookup == NULL) {
		ike_fail(err, -EINVAL, "IKEv1 engine: no policy lookup given");
		return NULL;
	}
	if (c->retransmit_base_ms == 0 || c->retransmit_tries > 16) {
		ike_fail(err, -EINVAL,
			 "IKEv1 engine: retransmission base %u ms, %u tries (base > 0, at most 16 tries)",
			 c->retransmit_base_ms, c->retransmit_tries);
		return NULL;
	}
	if (c->half_open_timeout_ms == 0 || c->half_open_max == 0) {
		ike_fail(err, -EINVAL, "IKEv1 engine: half-open timeout %u ms, at most %u half-open (both > 0)",
			 c->half_open_timeout_ms, c->half_open_max);
		return NULL;
	}
	if (lifetime_check(c->ike_lifetime_s, err) < 0)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		ike_fail(err, -ENOMEM, "IKEv1 engine: no memory");
		return NULL;
	}
	e->conf = *c;
	return e;
}

int ikev1_engine_set_phase1(struct ikev1_engine *e, uint32_t ike_lifetime_s, bool legacy,
			    struct ike_err *err)
{
	int rc = lifetime_check(ike_lifetime_s, err);

	if (rc == 0) {
		e->conf.ike_lifetime_s = ike_lifetime_s;
		e->conf.legacy = legacy;
	}
	return rc;
}

void ikev1_engine_free(struct ikev1_engine *e)
{
	if (e == NULL)
		return;
	ike_evq_free(&e->evq);
	for (size_t i = 0; i < e->n_sas; i++)
		ikev1_sa_free(e->sas[i]);
	free(e->sas);
	OPENSSL_cleanse(e, sizeof(*e)); /* scratch buffers */
	free(e);
}

const struct ikev1_stats *ikev1_engine_stats(const struct ikev1_engine *e)
{
	return &e->stats;
}

size_t ikev1_sa_count(const struct ikev1_engine *e)
{
	return e->n_sas;
}

size_t ikev1_half_open_count(const struct ikev1_engine *e)
{
	size_t n = 0;

	for (size_t i = 0; i < e->n_sas; i++)
		n += !e->sas[i]->initiator && e->sas[i]->state != IKEV1_S_ESTABLISHED &&
		     e->sas[i]->state != IKEV1_S_CLOSED;
	return n;
}

/* ---- methods ---- */

static bool legacy_method(const struct ike_mm_method *m)
{
	return m->suite.prf == IKE_PRF_HMAC_MD5 || m->dh_group == IKE_DH_MODP_1024 ||
	       m->suite.encr == IKE_ENCR_DES;
}

size_t ikev1_mm_methods(const struct ikev1_engine *e, const struct ikev2_peer *p,
			struct ike_mm_method *out)
{
	size_t n = 0;

	for (uint8_t i = 0; i < p->n_mm && i < IKE_MAX_METHODS; i++) {
		struct ike_mm_method m = p->mm[i];
		const struct ikecr_prf *prf = ikecr_prf_find(m.suite.prf);

		if (m.suite.encr != IKE_ENCR_AES_CBC && m.suite.encr != IKE_ENCR_3DES &&
		    m.suite.encr != IKE_ENCR_DES)
			continue; /* IKEv1 has no AEAD suites */
		if (prf == NULL || prf->ikev1_hash == 0 || (legacy_method(&m) && !e->conf.legacy))
			continue;
		m.suite.integ = IKE_INTEG_NONE;
		out[n++] = m;
	}
	return n;
}

/* ---- events ---- */

void ikev1_count(struct ikev1_engine *e, enum ikev1_stat s)
{
	e->stats.n[s]++;
}

void ikev1_emit(struct ikev1_engine *e, const struct ikev2_event *ev)
{
	ike_evq_push(&e->evq, ev);
}

bool ikev1_next_event(struct ikev1_engine *e, struct ikev2_event *ev)
{
	return ike_evq_pop(&e->evq, ev);
}

struct ikev2_event ikev1_event_for(const struct ikev1_sa *sa, enum ikev2_event_kind kind)
{
	return (struct ikev2_event){ .kind = kind, .sa = sa->id, .user = sa->peer.user };
}

/* sa's peer, behind a NAT, is now at remote: talk to it there, and once
 * established have the caller send the pairs there too (PEER_MOVED). */
static void move_peer(struct ikev1_engine *e, struct ikev1_sa *sa, const struct ike_endpoint *remote,
		      uint64_t now, const char *seen_in)
{
	struct ikev2_event ev;
	char what[64];

	if (!ike_endpoint_move(&sa->remote, remote, what, sizeof(what)))
		return;
	ikev1_sa_log(sa, e, 5, now, "the peer's NAT mapping changed (%s): %s", seen_in, what);
	if (sa->state != IKEV1_S_ESTABLISHED)
		return; /* Main Mode's move to port 4500: no pair yet */
	ev = ikev1_event_for(sa, IKEV2_EV_PEER_MOVED);
	ev.moved.remote = sa->remote;
	ikev1_emit(e, &ev);
}

void ikev1_follow_peer(struct ikev1_engine *e, struct ikev1_sa *sa, const struct ikev1_rx *rx)
{
	if (!sa->local_nat && !sa->remote_nat)
		return;
	sa->local = *rx->local;
	move_peer(e, sa, rx->remote, rx->now, "an ISAKMP message");
}

int ikev1_peer_moved(struct ikev1_engine *e, const struct ikev2_sa_id *id,
		     const struct ike_endpoint *remote, uint64_t now_ms)
{
	struct ikev1_sa *sa = ikev1_find_sa(e, id);

	if (sa == NULL)
		return -ENOENT;
	if (sa->remote_nat && sa->state == IKEV1_S_ESTABLISHED)
		move_peer(e, sa, remote, now_ms, "ESP");
	return 0;
}

int ikev1_drop(struct ikev1_engine *e, struct ikev1_sa *sa, enum ikev1_stat s, uint64_t now,
	       struct ike_err *err, int code, const char *fmt, ...)
{
	char text[IKE_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ikev1_count(e, s);
	if (sa)
		ikev1_sa_log(sa, e, 4, now, "dropped: %s", text);
	else if (e->conf.log)
		e->conf.log(e->conf.log_ctx, 4, text);
	return ike_fail(err, code, "%s", text);
}

static void reason_event(struct ikev1_engine *e, struct ikev1_sa *sa, enum ikev2_event_kind kind,
			 uint16_t notify, bool gone, const char *text)
{
	ike_evq_reason(&e->evq, ikev1_event_for(sa, kind), notify, gone, text);
}

/* ev: FAILED with the rekey it reports filled in. */
static void fail_event(struct ikev1_engine *e, struct ikev1_sa *sa, uint64_t now, uint16_t notify,
		       bool ike_sa_gone, struct ikev2_event ev, const char *fmt, va_list ap)
{
	char text[IKE_ERR_MSG_MAX];

	vsnprintf(text, sizeof(text), fmt, ap);
	ikev1_count(e, notify == ISAKMP_N_AUTHENTICATION_FAILED || notify == ISAKMP_N_INVALID_SIGNATURE
			       ? IKEV1_STAT_AUTH_FAILURES
			       : IKEV1_STAT_NEGOTIATION_FAILURES);
	ikev1_sa_log(sa, e, 3, now, "failed: %s", text);
	/* a failed renewal's event names the renewed SA, which stays */
	ike_evq_reason(&e->evq, ev, notify, ike_sa_gone && !ev.reason.rekey_ike, text);
	if (ike_sa_gone)
		ikev1_set_state(sa, IKEV1_S_CLOSED, now, e);
}

void ikev1_fail(struct ikev1_engine *e, struct ikev1_sa *sa, uint64_t now, uint16_t notify,
		bool ike_sa_gone, const char *fmt, ...)
{
	struct ikev2_event ev = ikev1_event_for(sa, IKEV2_EV_FAILED);
	va_list ap;

	if (ike_sa_gone && sa->renewal && sa->state != IKEV1_S_ESTABLISHED) {
		ev.sa = sa->renews; /* a renewal that failed: the renewed SA's rekey */
		ev.reason.rekey_ike = true;
	}
	va_start(ap, fmt);
	fail_event(e, sa, now, notify, ike_sa_gone, ev, fmt, ap);
	va_end(ap);
}

void ikev1_fail_quick(struct ikev1_engine *e, struct ikev1_sa *sa, uint64_t now,
		      const struct ikev1_xchg *x, uint16_t notify, const char *fmt, ...)
{
	struct ikev2_event ev = ikev1_event_for(sa, IKEV2_EV_FAILED);
	va_list ap;

	ev.reason.rekey_spi_in = x->initiator ? x->rekeys : 0;
	va_start(ap, fmt);
	fail_event(e, sa, now, notify, false, ev, fmt, ap);
	va_end(ap);
}

void ikev1_child_down(struct ikev1_engine *e, struct ikev1_sa *sa, struct ike_child_rec *c,
		      uint64_t now)
{
	ike_evq_child_down(&e->evq, ikev1_event_for(sa, IKEV2_EV_CHILD_DOWN), c->protocol, c->spi_in,
			   c->spi_out);
	ikev1_count(e, IKEV1_STAT_CHILD_DELETED);
	ikev1_sa_log(sa, e, 5, now, "quick mode SA down: in %08x out %08x", c->spi_in, c->spi_out);
	ike_child_recs_remove(&sa->children, c);
}

void ikev1_sa_down(struct ikev1_engine *e, struct ikev1_sa *sa, uint64_t now, const char *reason)
{
	while (sa->children.n)
		ikev1_child_down(e, sa, &sa->children.rec[sa->children.n - 1], now);
	ikev1_count(e, IKEV1_STAT_IKE_DELETED);
	ikev1_sa_log(sa, e, 5, now, "down: %s", reason);
	reason_event(e, sa, IKEV2_EV_IKE_DOWN, 0, true, reason);
	ikev1_set_state(sa, IKEV1_S_CLOSED, now, e);
}

/* ---- the SA table ---- */

int ikev1_sa_insert(struct ikev1_engine *e, struct ikev1_sa *sa)
{
	if (e->n_sas == e->cap_sas) {
		size_t cap = e->cap_sas ? 2 * e->cap_sas : 16;
		struct ikev1_sa **p = realloc(e->sas, cap * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		e->sas = p;
		e->cap_sas = cap;
	}
	e->sas[e->n_sas++] = sa;
	return 0;
}

static void sweep(struct ikev1_engine *e)
{
	size_t kept = 0;

	for (size_t i = 0; i < e->n_sas; i++) {
		if (e->sas[i]->state == IKEV1_S_CLOSED)
			ikev1_sa_free(e->sas[i]);
		else
			e->sas[kept++] = e->sas[i];
	}
	e->n_sas = kept;
}

static bool is_zero(const uint8_t c[8])
{
	static const uint8_t zero[8];

	return memcmp(c, zero, 8) == 0;
}

/* Our own initiated SA is named by CKY-I alone until the responder's
 * cookie is known (and by ikev1_initiate()'s id after). */
static bool cookies_name(const struct ikev1_sa *sa, const uint8_t ci[8], const uint8_t cr[8])
{
	if (memcmp(sa->id.spi_i, ci, 8) != 0)
		return false;
	return memcmp(sa->id.spi_r, cr, 8) == 0 ||
	       (sa->initiator && (is_zero(sa->id.spi_r) || is_zero(cr)));
}

static struct ikev1_sa *find_by_cookies(struct ikev1_engine *e, const uint8_t ci[8],
					const uint8_t cr[8])
{
	for (size_t i = 0; i < e->n_sas; i++)
		if (e->sas[i]->state != IKEV1_S_CLOSED && cookies_name(e->sas[i], ci, cr))
			return e->sas[i];
	return NULL;
}

struct ikev1_sa *ikev1_find_sa(struct ikev1_engine *e, const struct ikev2_sa_id *id)
{
	return find_by_cookies(e, id->spi_i, id->spi_r);
}

/* A responder's SA made by this initiator's first message. */
static struct ikev1_sa *find_responder(struct ikev1_engine *e, const uint8_t ci[8],
				       const struct ike_endpoint *remote)
{
	for (size_t i = 0; i < e->n_sas; i++) {
		struct ikev1_sa *sa = e->sas[i];

		if (!sa->initiator && sa->state != IKEV1_S_CLOSED && memcmp(sa->id.spi_i, ci, 8) == 0 &&
		    memcmp(&sa->remote.addr, &remote->addr, sizeof(remote->addr)) == 0)
			return sa;
	}
	return NULL;
}

/* ---- input ---- */

/* Aggressive Mode sends the identities in the clear and, with a
 * pre-shared key, a hash an eavesdropper can test guessed keys against
 * offline; dpsec never answers it. */
static int refuse_aggressive(struct ikev1_engine *e, struct ikev1_rx *rx)
{
	return ikev1_drop(e, NULL, IKEV1_STAT_AGGRESSIVE_REFUSED, rx->now, rx->err, -EPROTO,
			  "Aggressive Mode refused: it exposes the identities and an offline-attackable "
			  "hash of the pre-shared key");
}

static int phase2_input(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_rx *rx)
{
	struct ikev1_xchg *x = ikev1_xchg_find(sa, rx->m.hdr.msg_id);

	if (x && ikev1_msgs_is_repeat(&x->msgs, rx->raw, rx->len)) {
		ikev1_count(e, IKEV1_STAT_REPLAYED_RESPONSES);
		ikev1_sa_log(sa, e, 6, rx->now, "%s #%08x again: our last message replayed",
			     isakmp_exchange_name(rx->m.hdr.exchange), rx->m.hdr.msg_id);
		if (x->msgs.out)
			ikev1_send_to(e, &sa->local, ikev1_reply_to(sa, rx), x->msgs.out,
				      x->msgs.out_len);
		return 0;
	}
	if (rx->m.hdr.exchange == ISAKMP_INFORMATIONAL)
		return ikev1_info_input(e, sa, rx);
	if (sa->state != IKEV1_S_ESTABLISHED || rx->m.hdr.msg_id == 0)
		return ikev1_drop(e, sa, IKEV1_STAT_UNEXPECTED_EXCHANGE, rx->now, rx->err, -EPROTO,
				  "Quick Mode #%08x in state %s", rx->m.hdr.msg_id,
				  ikev1_state_name(sa->state));
	return ikev1_quick_input(e, sa, x, rx);
}

static int input(struct ikev1_engine *e, struct ikev1_rx *rx)
{
	const struct isakmp_hdr *h = &rx->m.hdr;
	struct ikev1_sa *sa;

	if (h->exchange == ISAKMP_AGGRESSIVE)
		return refuse_aggressive(e, rx);
	if (h->exchange == ISAKMP_MAIN_MODE && is_zero(h->rcookie)) {
		sa = find_responder(e, h->icookie, rx->remote);
		if (sa)
			return ikev1_main_input(e, sa, rx);
		if (ikev1_half_open_count(e) >= e->conf.half_open_max)
			return ikev1_drop(e, NULL, IKEV1_STAT_HALF_OPEN_REFUSED, rx->now, rx->err, -EBUSY,
					  "Main Mode 1 refused: %u Main Modes half-open",
					  e->conf.half_open_max);
		return ikev1_main_first(e, rx);
	}
	if ((sa = find_by_cookies(e, h->icookie, h->rcookie)) == NULL)
		return ikev1_drop(e, NULL, IKEV1_STAT_INVALID_COOKIES, rx->now, rx->err, -ENOENT,
				  "%s message for no known ISAKMP SA (invalid cookies)",
				  isakmp_exchange_name(h->exchange));
	switch (h->exchange) {
	case ISAKMP_MAIN_MODE:
		return ikev1_main_input(e, sa, rx);
	case ISAKMP_QUICK_MODE:
	case ISAKMP_INFORMATIONAL:
		return phase2_input(e, sa, rx);
	default:
		return ikev1_drop(e, sa, IKEV1_STAT_UNEXPECTED_EXCHANGE, rx->now, rx->err, -EPROTO,
				  "%s exchange is not supported", isakmp_exchange_name(h->exchange));
	}
}

/* The datagram copied into e->rx, where it is decrypted in place (the
 * caller's bytes stay as they are and serve to recognise repeats), and
 * parsed. */
static int take_datagram(struct ikev1_engine *e, const uint8_t *buf, size_t len,
			 struct ikev1_rx *rx)
{
	if (len > IKE_MSG_MAX)
		return ike_fail(rx->err, -EMSGSIZE, "%zu bytes, more than %d", len, IKE_MSG_MAX);
	memcpy(e->rx, buf, len);
	return isakmp_msg_parse(e->rx, len, &rx->m, rx->err);
}

int ikev1_input(struct ikev1_engine *e, const uint8_t *buf, size_t len,
		const struct ike_endpoint *local, const struct ike_endpoint *remote,
		uint64_t now_ms, struct ike_err *err)
{
	struct ike_err local_err = { 0 };
	struct ikev1_rx *rx = malloc(sizeof(*rx));
	int rc;

	if (err == NULL)
		err = &local_err;
	ikev1_count(e, IKEV1_STAT_RECEIVED);
	if (rx == NULL)
		return ike_fail(err, -ENOMEM, "no memory for a received message");
	*rx = (struct ikev1_rx){ .raw = buf, .len = len, .local = local, .remote = remote,
				 .now = now_ms, .err = err };
	if (take_datagram(e, buf, len, rx))
		rc = ikev1_drop(e, NULL, IKEV1_STAT_INVALID_PACKETS, now_ms, err, -EBADMSG,
				"malformed message: %s", err->msg);
	else
		rc = input(e, rx);
	OPENSSL_cleanse(e->rx, len <= IKE_MSG_MAX ? len : 0);
	free(rx);
	sweep(e);
	return rc;
}

/* ---- timers ---- */

static uint64_t earlier(uint64_t a, const struct ikev1_msgs *m)
{
	return m->waiting && m->next_ms < a ? m->next_ms : a;
}

uint64_t ikev1_next_timer(const struct ikev1_engine *e)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < e->n_sas; i++) {
		const struct ikev1_sa *sa = e->sas[i];

		next = earlier(next, &sa->mm_msgs);
		for (int k = 0; k < IKEV1_MAX_XCHG; k++)
			next = earlier(next, &sa->xchg[k].msgs);
		if (sa->expire_ms && sa->expire_ms < next)
			next = sa->expire_ms;
	}
	return next;
}

/* Resends m when due; false when its tries are used up. */
static bool retransmit(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_msgs *m,
		       uint64_t now)
{
	if (!m->waiting || now < m->next_ms)
		return true;
	if (!ikev1_msgs_retransmit_due(m, e->conf.retransmit_base_ms, e->conf.retransmit_tries))
		return false;
	ikev1_count(e, IKEV1_STAT_RETRANSMITS);
	ikev1_sa_log(sa, e, 6, now, "message retransmitted (%u)", m->retransmits);
	ikev1_send(e, sa, m->out, m->out_len);
	return true;
}

/* x: the Phase 2 exchange given up, NULL for Main Mode. */
static void give_up(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_xchg *x,
		    uint64_t now)
{
	ikev1_count(e, IKEV1_STAT_PEER_TIMEOUTS);
	if (x == NULL) { /* Main Mode's own message */
		ikev1_fail(e, sa, now, 0, true, "Main Mode: no answer from the peer after %u retransmissions",
			   sa->mm_msgs.retransmits);
		return;
	}
	if (x->kind == IKEV1_X_DPD) {
		ikev1_sa_down(e, sa, now, "dead peer: no R-U-THERE-ACK after retransmissions");
		return;
	}
	ikev1_fail_quick(e, sa, now, x, 0, "Quick Mode #%08x: no answer after %u retransmissions",
			 x->mid, x->msgs.retransmits);
	ikev1_xchg_free(x);
}

static void lifetime_timer(struct ikev1_engine *e, struct ikev1_sa *sa, uint64_t now)
{
	struct ike_err err = { 0 };
	uint8_t cookies[16];

	if (sa->state != IKEV1_S_ESTABLISHED) {
		ikev1_fail(e, sa, now, 0, true, "half-open: Main Mode not done within %u ms",
			   e->conf.half_open_timeout_ms);
		return;
	}
	memcpy(cookies, sa->id.spi_i, 8);
	memcpy(cookies + 8, sa->id.spi_r, 8);
	ikev1_info_send_delete(e, sa, IKE_PROTO_IKE, cookies, 16, now, &err);
	ikev1_sa_down(e, sa, now, "ISAKMP SA lifetime expired");
}

static void sa_timers(struct ikev1_engine *e, struct ikev1_sa *sa, uint64_t now)
{
	if (sa->expire_ms && now >= sa->expire_ms) {
		lifetime_timer(e, sa, now);
		return;
	}
	if (!retransmit(e, sa, &sa->mm_msgs, now)) {
		give_up(e, sa, NULL, now);
		return;
	}
	for (int k = 0; k < IKEV1_MAX_XCHG && sa->state != IKEV1_S_CLOSED; k++)
		if (!retransmit(e, sa, &sa->xchg[k].msgs, now))
			give_up(e, sa, &sa->xchg[k], now);
}

void ikev1_tick(struct ikev1_engine *e, uint64_t now_ms)
{
	for (size_t i = 0; i < e->n_sas; i++)
		if (e->sas[i]->state != IKEV1_S_CLOSED)
			sa_timers(e, e->sas[i], now_ms);
	sweep(e);
}

/* ---- exchanges on an established SA ---- */

static struct ikev1_sa *established(struct ikev1_engine *e, const struct ikev2_sa_id *id,
				    struct ike_err *err)
{
	struct ikev1_sa *sa = ikev1_find_sa(e, id);

	if (sa == NULL)
		ike_fail(err, -ENOENT, "no such ISAKMP SA");
	else if (sa->state != IKEV1_S_ESTABLISHED)
		ike_fail(err, -EAGAIN, "ISAKMP SA in state %s, not established",
			 ikev1_state_name(sa->state));
	return sa && sa->state == IKEV1_S_ESTABLISHED ? sa : NULL;
}

static int quick(struct ikev1_engine *e, const struct ikev2_sa_id *id, uint32_t rekeys,
		 uint64_t now, struct ike_err *err)
{
	struct ikev1_sa *sa = established(e, id, err);

	if (sa == NULL)
		return err ? err->code : -ENOENT;
	if (rekeys && ike_child_recs_by_in(&sa->children, rekeys) == NULL)
		return ike_fail(err, -ENOENT, "ISAKMP SA has no quick mode SA with inbound SPI %08x",
				rekeys);
	return ikev1_quick_start(e, sa, rekeys, now, err);
}

int ikev1_quick_mode(struct ikev1_engine *e, const struct ikev2_sa_id *sa, uint64_t now_ms,
		     struct ike_err *err)
{
	return quick(e, sa, 0, now_ms, err);
}

int ikev1_rekey_child(struct ikev1_engine *e, const struct ikev2_sa_id *sa, uint32_t spi_in,
		      uint64_t now_ms, struct ike_err *err)
{
	if (spi_in == 0)
		return ike_fail(err, -ENOENT, "quick mode rekey: no SPI given");
	return quick(e, sa, spi_in, now_ms, err);
}

int ikev1_delete_child(struct ikev1_engine *e, const struct ikev2_sa_id *id, uint32_t spi_in,
		       uint64_t now_ms, struct ike_err *err)
{
	struct ikev1_sa *sa = established(e, id, err);
	struct ike_child_rec *c = sa ? ike_child_recs_by_in(&sa->children, spi_in) : NULL;
	uint8_t spi[4];
	int rc;

	if (sa == NULL)
		return err ? err->code : -ENOENT;
	if (c == NULL)
		return ike_fail(err, -ENOENT, "ISAKMP SA has no quick mode SA with inbound SPI %08x",
				spi_in);
	spi[0] = (uint8_t)(spi_in >> 24);
	spi[1] = (uint8_t)(spi_in >> 16);
	spi[2] = (uint8_t)(spi_in >> 8);
	spi[3] = (uint8_t)spi_in;
	rc = ikev1_info_send_delete(e, sa, c->protocol, spi, 4, now_ms, err);
	ikev1_child_down(e, sa, c, now_ms);
	return rc;
}

int ikev1_delete_ike(struct ikev1_engine *e, const struct ikev2_sa_id *id, uint64_t now_ms,
		     struct ike_err *err)
{
	struct ikev1_sa *sa = established(e, id, err);
	uint8_t cookies[16];
	int rc;

	if (sa == NULL)
		return err ? err->code : -ENOENT;
	memcpy(cookies, sa->id.spi_i, 8);
	memcpy(cookies + 8, sa->id.spi_r, 8);
	rc = ikev1_info_send_delete(e, sa, IKE_PROTO_IKE, cookies, 16, now_ms, err);
	ikev1_sa_down(e, sa, now_ms, "deleted by us");
	sweep(e);
	return rc;
}

int ikev1_check_liveness(struct ikev1_engine *e, const struct ikev2_sa_id *id, uint64_t now_ms,
			 struct ike_err *err)
{
	struct ikev1_sa *sa = established(e, id, err);

	if (sa == NULL)
		return err ? err->code : -ENOENT;
	if (!sa->peer_dpd)
		return ike_fail(err, -EOPNOTSUPP, "the peer did not announce DPD (RFC 3706)");
	return ikev1_dpd_start(e, sa, now_ms, err);
}

int ikev1_initiate(struct ikev1_engine *e, const struct ikev2_peer *peer,
		   const struct ike_endpoint *local, const struct ike_endpoint *remote,
		   uint64_t now_ms, struct ikev2_sa_id *out, struct ike_err *err)
{
	struct ike_mm_method mm[IKE_MAX_METHODS];
	struct ikev1_sa *sa;
	int rc;

	if (ikev1_mm_methods(e, peer, mm) == 0 || peer->n_qm == 0 || peer->n_qm > IKE_MAX_METHODS)
		return ike_fail(err, -EINVAL,
				"initiate: no IKEv1 Main Mode method (AES-CBC, 3DES, or DES with the legacy option) or no quick mode method");
	if (peer->ts_local.n == 0 || peer->ts_remote.n == 0 || !ikev1_policy_authenticates(peer))
		return ike_fail(err, -EINVAL, "initiate: the policy lacks %s",
				peer->ts_local.n && peer->ts_remote.n
					? "a pre-shared key or certificate methods both ways"
					: "traffic selectors");
	sa = ikev1_sa_new(true);
	if (sa == NULL || ikev1_sa_insert(e, sa)) {
		ikev1_sa_free(sa);
		return ike_fail(err, -ENOMEM, "initiate: no memory for an ISAKMP SA");
	}
	sa->peer = *peer;
	sa->local = *local;
	sa->remote = *remote;
	sa->start_qm = true;
	*out = sa->id;
	rc = ikev1_main_start(e, sa, now_ms, err);
	if (rc)
		ikev1_set_state(sa, IKEV1_S_CLOSED, now_ms, e);
	sweep(e);
	return rc;
}
