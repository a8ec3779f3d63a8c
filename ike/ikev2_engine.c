/* ikev2_engine.c - the IKEv2 engine of ikev2.h: its SA table, the event
 * queue, counters, the dispatch of a received datagram to its SA, window
 * and exchange, the timers, and the calls that queue exchanges on an
 * established SA. The exchanges themselves are one file each. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ikev2_exchange.h"

#define IKEV2_X_NAME(n, s) s,
static const char *const stat_names[] = { IKEV2_STATS(IKEV2_X_NAME) };
#undef IKEV2_X_NAME

const char *ikev2_stat_name(enum ikev2_stat s)
{
	return (unsigned)s < IKEV2_STAT_COUNT ? stat_names[s] : "?";
}

void ikev2_conf_default(struct ikev2_conf *c)
{
	*c = (struct ikev2_conf){
		.retransmit_base_ms = 500,
		.retransmit_tries = 5,
		.half_open_timeout_ms = 30000,
		.cookie_threshold = 1000,
		.half_open_per_source = 10,
		.fragment_size = 1200,
	};
}

struct ikev2_engine *ikev2_engine_new(const struct ikev2_conf *c, struct ike_err *err)
{
	struct ikev2_engine *e;

	if (c->lookup == NULL) {
		ike_fail(err, -EINVAL, "IKEv2 engine: no policy lookup given");
		return NULL;
	}
	if (c->retransmit_base_ms == 0 || c->retransmit_tries > 16) {
		ike_fail(err, -EINVAL,
			 "IKEv2 engine: retransmission base %u ms, %u tries (base > 0, at most 16 tries)",
			 c->retransmit_base_ms, c->retransmit_tries);
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		ike_fail(err, -ENOMEM, "IKEv2 engine: no memory");
		return NULL;
	}
	e->conf = *c;
	if (ikev2_random(e->cookie_secret, sizeof(e->cookie_secret), err)) {
		free(e);
		return NULL;
	}
	return e;
}

void ikev2_engine_free(struct ikev2_engine *e)
{
	if (e == NULL)
		return;
	ike_evq_free(&e->evq);
	for (size_t i = 0; i < e->n_sas; i++)
		ikev2_sa_free(e->sas[i]);
	free(e->sas);
	OPENSSL_cleanse(e, sizeof(*e)); /* cookie secrets, scratch buffers */
	free(e);
}

void ikev2_new_cookie_secret(struct ikev2_engine *e)
{
	e->cookie_version++;
	ikev2_random(e->cookie_secret[e->cookie_version & 1], IKEV2_COOKIE_SECRET_LEN, NULL);
}

const struct ikev2_stats *ikev2_engine_stats(const struct ikev2_engine *e)
{
	return &e->stats;
}

size_t ikev2_sa_count(const struct ikev2_engine *e)
{
	return e->n_sas;
}

size_t ikev2_half_open_count(const struct ikev2_engine *e)
{
	size_t n = 0;

	for (size_t i = 0; i < e->n_sas; i++)
		n += !e->sas[i]->initiator && e->sas[i]->state == IKEV2_S_INIT_DONE;
	return n;
}

size_t ikev2_half_open_from(const struct ikev2_engine *e, const struct dpsec_addr *a)
{
	size_t n = 0;

	for (size_t i = 0; i < e->n_sas; i++) {
		const struct ikev2_sa *sa = e->sas[i];

		n += !sa->initiator && sa->state == IKEV2_S_INIT_DONE &&
		     memcmp(&sa->remote.addr, a, sizeof(*a)) == 0;
	}
	return n;
}

/* ---- events ---- */

void ikev2_count(struct ikev2_engine *e, enum ikev2_stat s)
{
	e->stats.n[s]++;
}

void ikev2_emit(struct ikev2_engine *e, const struct ikev2_event *ev)
{
	ike_evq_push(&e->evq, ev);
}

bool ikev2_next_event(struct ikev2_engine *e, struct ikev2_event *ev)
{
	return ike_evq_pop(&e->evq, ev);
}

void ikev2_event_release(struct ikev2_event *ev)
{
	if (ev->kind == IKEV2_EV_SEND)
		free(ev->send.data);
	if (ev->kind == IKEV2_EV_CHILD_UP && ev->child) {
		ike_child_wipe(ev->child);
		free(ev->child);
	}
	memset(ev, 0, sizeof(*ev));
}

struct ikev2_event ikev2_event_for(const struct ikev2_sa *sa, enum ikev2_event_kind kind)
{
	return (struct ikev2_event){ .kind = kind, .sa = sa->id, .user = sa->peer.user };
}

int ikev2_drop(struct ikev2_engine *e, struct ikev2_sa *sa, enum ikev2_stat s, uint64_t now,
	       struct ike_err *err, int code, const char *fmt, ...)
{
	char text[IKE_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ikev2_count(e, s);
	if (sa)
		ikev2_sa_log(sa, e, 4, now, "dropped: %s", text);
	else if (e->conf.log)
		e->conf.log(e->conf.log_ctx, 4, text);
	return ike_fail(err, code, "%s", text);
}

static void reason_event(struct ikev2_engine *e, struct ikev2_sa *sa, enum ikev2_event_kind kind,
			 uint16_t notify, bool gone, const char *text)
{
	ike_evq_reason(&e->evq, ikev2_event_for(sa, kind), notify, gone, text);
}

/* ev: FAILED with the rekey it reports filled in. */
static void fail_event(struct ikev2_engine *e, struct ikev2_sa *sa, uint64_t now, uint16_t notify,
		       bool ike_sa_gone, struct ikev2_event ev, const char *fmt, va_list ap)
{
	char text[IKE_ERR_MSG_MAX];

	vsnprintf(text, sizeof(text), fmt, ap);
	ikev2_count(e, notify == IKEV2_N_AUTHENTICATION_FAILED ? IKEV2_STAT_AUTH_FAILURES
							       : IKEV2_STAT_NEGOTIATION_FAILURES);
	ikev2_sa_log(sa, e, 3, now, "failed: %s", text);
	ike_evq_reason(&e->evq, ev, notify, ike_sa_gone, text);
	if (ike_sa_gone)
		ikev2_set_state(sa, IKEV2_S_CLOSED, now, e);
}

void ikev2_fail(struct ikev2_engine *e, struct ikev2_sa *sa, uint64_t now, uint16_t notify,
		bool ike_sa_gone, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail_event(e, sa, now, notify, ike_sa_gone, ikev2_event_for(sa, IKEV2_EV_FAILED), fmt, ap);
	va_end(ap);
}

/* FAILED for an exchange of kind (on the child SA spi): a rekey's names
 * the SA it was to replace. */
static struct ikev2_event failed_exchange(const struct ikev2_sa *sa, enum ikev2_req_kind kind,
					  uint32_t spi)
{
	struct ikev2_event ev = ikev2_event_for(sa, IKEV2_EV_FAILED);

	ev.reason.rekey_spi_in = kind == IKEV2_REQ_REKEY_CHILD ? spi : 0;
	ev.reason.rekey_ike = kind == IKEV2_REQ_REKEY_IKE;
	return ev;
}

void ikev2_fail_request(struct ikev2_engine *e, struct ikev2_sa *sa, uint64_t now, uint16_t notify,
			const char *fmt, ...)
{
	struct ikev2_event ev = failed_exchange(sa, sa->req.kind, sa->req.old_spi);
	va_list ap;

	va_start(ap, fmt);
	fail_event(e, sa, now, notify, false, ev, fmt, ap);
	va_end(ap);
}

void ikev2_child_down(struct ikev2_engine *e, struct ikev2_sa *sa, struct ike_child_rec *c,
		      uint64_t now)
{
	ike_evq_child_down(&e->evq, ikev2_event_for(sa, IKEV2_EV_CHILD_DOWN), c->protocol, c->spi_in,
			   c->spi_out);
	ikev2_count(e, IKEV2_STAT_CHILD_DELETED);
	ikev2_sa_log(sa, e, 5, now, "child SA down: in %08x out %08x", c->spi_in, c->spi_out);
	ike_child_recs_remove(&sa->children, c);
}

void ikev2_sa_down(struct ikev2_engine *e, struct ikev2_sa *sa, uint64_t now, const char *reason)
{
	ikev2_rekey_hand_over(e, sa, now); /* the children live on in the peer's new SA */
	while (sa->children.n)
		ikev2_child_down(e, sa, &sa->children.rec[sa->children.n - 1], now);
	ikev2_count(e, IKEV2_STAT_IKE_DELETED);
	ikev2_sa_log(sa, e, 5, now, "down: %s", reason);
	reason_event(e, sa, IKEV2_EV_IKE_DOWN, 0, true, reason);
	ikev2_set_state(sa, IKEV2_S_CLOSED, now, e);
}

/* ---- the SA table ---- */

int ikev2_sa_insert(struct ikev2_engine *e, struct ikev2_sa *sa)
{
	if (e->n_sas == e->cap_sas) {
		size_t cap = e->cap_sas ? 2 * e->cap_sas : 16;
		struct ikev2_sa **p = realloc(e->sas, cap * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		e->sas = p;
		e->cap_sas = cap;
	}
	e->sas[e->n_sas++] = sa;
	return 0;
}

/* Frees the SAs that closed (their events are out already). */
static void sweep(struct ikev2_engine *e)
{
	size_t kept = 0;

	for (size_t i = 0; i < e->n_sas; i++) {
		if (e->sas[i]->state == IKEV2_S_CLOSED)
			ikev2_sa_free(e->sas[i]);
		else
			e->sas[kept++] = e->sas[i];
	}
	e->n_sas = kept;
}

/* The id given back by ikev2_initiate() has a zero SPIr: our SPIi alone
 * names an SA we initiated. */
static bool id_names(const struct ikev2_sa *sa, const struct ikev2_sa_id *id)
{
	static const uint8_t zero[8];

	if (memcmp(sa->id.spi_i, id->spi_i, 8) != 0)
		return false;
	return memcmp(sa->id.spi_r, id->spi_r, 8) == 0 ||
	       (sa->initiator && memcmp(id->spi_r, zero, 8) == 0);
}

struct ikev2_sa *ikev2_find_sa(struct ikev2_engine *e, const struct ikev2_sa_id *id)
{
	for (size_t i = 0; i < e->n_sas; i++)
		if (e->sas[i]->state != IKEV2_S_CLOSED && id_names(e->sas[i], id))
			return e->sas[i];
	return NULL;
}

/* The SA a message is for: ours is SPIr when the sender is the original
 * initiator, SPIi otherwise. */
static struct ikev2_sa *find_by_hdr(struct ikev2_engine *e, const struct ikev2_hdr *h)
{
	bool from_initiator = h->flags & IKEV2_FLAG_I;

	for (size_t i = 0; i < e->n_sas; i++) {
		struct ikev2_sa *sa = e->sas[i];

		if (sa->state == IKEV2_S_CLOSED || sa->initiator == from_initiator)
			continue;
		if (memcmp(ikev2_sa_our_spi(sa), from_initiator ? h->spi_r : h->spi_i, 8) == 0)
			return sa;
	}
	return NULL;
}

struct ikev2_sa *ikev2_find_half_open(struct ikev2_engine *e, const uint8_t spi_i[8],
				      const struct ike_endpoint *remote)
{
	for (size_t i = 0; i < e->n_sas; i++) {
		struct ikev2_sa *sa = e->sas[i];

		if (!sa->initiator && sa->state == IKEV2_S_INIT_DONE &&
		    memcmp(sa->id.spi_i, spi_i, 8) == 0 &&
		    memcmp(&sa->remote, remote, sizeof(*remote)) == 0)
			return sa;
	}
	return NULL;
}

/* ---- input ---- */

/* Message IDs of a request: the expected one is new (0), the one answered
 * last a retransmission (1); others are dropped. */
static int request_window(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx)
{
	uint32_t id = rx->m.hdr.msg_id;

	if (id == sa->peer_msg_id)
		return 0;
	if (sa->last_resp.valid && id == sa->last_resp.msg_id)
		return 1;
	return ikev2_drop(e, sa, IKEV2_STAT_UNEXPECTED_MSG_ID, rx->now, rx->err,
			  id < sa->peer_msg_id ? -EALREADY : -ERANGE,
			  "request message ID %u, expected %u", id, sa->peer_msg_id);
}

static void replay_response(struct ikev2_engine *e, struct ikev2_sa *sa, const struct ikev2_rx *rx)
{
	ikev2_count(e, IKEV2_STAT_REPLAYED_RESPONSES);
	ikev2_sa_log(sa, e, 6, rx->now, "request #%u again: cached response replayed",
		     rx->m.hdr.msg_id);
	ikev2_send_cached_response(e, sa);
}

static const uint8_t request_exchange[] = {
	[IKEV2_REQ_SA_INIT] = IKEV2_IKE_SA_INIT,
	[IKEV2_REQ_AUTH] = IKEV2_IKE_AUTH,
	[IKEV2_REQ_CREATE_CHILD] = IKEV2_CREATE_CHILD_SA,
	[IKEV2_REQ_REKEY_CHILD] = IKEV2_CREATE_CHILD_SA,
	[IKEV2_REQ_REKEY_IKE] = IKEV2_CREATE_CHILD_SA,
	[IKEV2_REQ_DELETE_CHILD] = IKEV2_INFORMATIONAL,
	[IKEV2_REQ_DELETE_IKE] = IKEV2_INFORMATIONAL,
	[IKEV2_REQ_LIVENESS] = IKEV2_INFORMATIONAL,
	[IKEV2_REQ_DELETE_REFUSED] = IKEV2_INFORMATIONAL,
};

static int response_window(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx)
{
	const struct ikev2_hdr *h = &rx->m.hdr;

	if (sa->req.kind == IKEV2_REQ_NONE || h->msg_id != sa->req.msg_id)
		return ikev2_drop(e, sa, IKEV2_STAT_UNEXPECTED_MSG_ID, rx->now, rx->err, -ERANGE,
				  "response message ID %u, %s", h->msg_id,
				  sa->req.kind == IKEV2_REQ_NONE ? "no request outstanding"
								 : "not the outstanding request's");
	if (h->exchange != request_exchange[sa->req.kind])
		return ikev2_drop(e, sa, IKEV2_STAT_UNEXPECTED_EXCHANGE, rx->now, rx->err, -EPROTO,
				  "%s response to a %s request", ikev2_exchange_name(h->exchange),
				  ikev2_exchange_name(request_exchange[sa->req.kind]));
	return 0;
}

static int dispatch_request(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx)
{
	uint8_t x = rx->m.hdr.exchange;

	if (x == IKEV2_IKE_AUTH && sa->state == IKEV2_S_INIT_DONE)
		return ikev2_auth_request(e, sa, rx);
	if (x == IKEV2_CREATE_CHILD_SA &&
	    (sa->state == IKEV2_S_ESTABLISHED || sa->state == IKEV2_S_DELETING))
		return ikev2_child_request(e, sa, rx); /* DELETING: refused, see there */
	if (x == IKEV2_INFORMATIONAL && sa->state >= IKEV2_S_ESTABLISHED)
		return ikev2_info_request(e, sa, rx);
	return ikev2_drop(e, sa, IKEV2_STAT_UNEXPECTED_EXCHANGE, rx->now, rx->err, -EPROTO,
			  "%s request in state %s", ikev2_exchange_name(x), ikev2_state_name(sa->state));
}

static int dispatch_response(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx)
{
	switch (rx->m.hdr.exchange) {
	case IKEV2_IKE_AUTH:
		return ikev2_auth_response(e, sa, rx);
	case IKEV2_CREATE_CHILD_SA:
		return ikev2_child_response(e, sa, rx);
	default:
		return ikev2_info_response(e, sa, rx);
	}
}

static void log_in(struct ikev2_engine *e, struct ikev2_sa *sa, const struct ikev2_rx *rx)
{
	char text[IKE_LOG_LINE];

	ikev2_rx_summary(rx, text, sizeof(text));
	ikev2_sa_log(sa, e, 7, rx->now, "in %s %s #%u: %s", ikev2_exchange_name(rx->m.hdr.exchange),
		     rx->m.hdr.flags & IKEV2_FLAG_R ? "response" : "request", rx->m.hdr.msg_id, text);
}

/* sa's peer, behind a NAT, is now at remote (RFC 7296 §2.23): talk to it
 * there, and once established have the caller send the child SAs there
 * too (IKEV2_EV_PEER_MOVED). */
static void move_peer(struct ikev2_engine *e, struct ikev2_sa *sa, const struct ike_endpoint *remote,
		      uint64_t now, const char *seen_in)
{
	struct ikev2_event ev;
	char what[64];

	if (!ike_endpoint_move(&sa->remote, remote, what, sizeof(what)))
		return;
	ikev2_sa_log(sa, e, 5, now, "the peer's NAT mapping changed (%s): %s", seen_in, what);
	if (sa->state < IKEV2_S_ESTABLISHED)
		return; /* IKE_AUTH's move to port 4500: no child SA yet */
	ev = ikev2_event_for(sa, IKEV2_EV_PEER_MOVED);
	ev.moved.remote = sa->remote;
	ikev2_emit(e, &ev);
}

/* A peer behind a NAT may get a new mapping: talk to where its last
 * authenticated request came from. */
static void follow_peer(struct ikev2_engine *e, struct ikev2_sa *sa, const struct ikev2_rx *rx)
{
	if (!sa->remote_nat)
		return;
	sa->local = *rx->local;
	move_peer(e, sa, rx->remote, rx->now, "an IKE request");
}

int ikev2_peer_moved(struct ikev2_engine *e, const struct ikev2_sa_id *id,
		     const struct ike_endpoint *remote, uint64_t now_ms)
{
	struct ikev2_sa *sa = ikev2_find_sa(e, id);

	if (sa == NULL)
		return -ENOENT;
	if (sa->remote_nat && sa->state == IKEV2_S_ESTABLISHED)
		move_peer(e, sa, remote, now_ms, "ESP");
	return 0;
}

/* A protected message for sa: window, integrity, then the exchange. */
static int protected_input(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx)
{
	bool response = rx->m.hdr.flags & IKEV2_FLAG_R, fragment;
	int window = response ? response_window(e, sa, rx) : request_window(e, sa, rx), rc;
	uint16_t number = 0;

	if (window < 0)
		return window;
	if (!ikev2_sa_has_keys(sa))
		return ikev2_drop(e, sa, IKEV2_STAT_UNEXPECTED_EXCHANGE, rx->now, rx->err, -EPROTO,
				  "%s in state %s, before the keys exist",
				  ikev2_exchange_name(rx->m.hdr.exchange), ikev2_state_name(sa->state));
	fragment = rx->m.n > 0 && rx->m.pl[rx->m.n - 1].type == IKEV2_PL_SKF;
	rc = fragment ? ikev2_frag_open(e, sa, rx, window == 1, &number) : ikev2_rx_open(e, sa, rx);
	if (rc == -EINPROGRESS)
		return 0; /* a fragment kept: the rest of the message to come */
	if (rc)
		return ikev2_drop(e, sa, rc == -EKEYREJECTED ? IKEV2_STAT_INTEGRITY_FAILED
							      : IKEV2_STAT_INVALID_PACKETS,
				  rx->now, rx->err, rc, "%s", rx->err->msg);
	if (window == 1) { /* a retransmitted request, authenticated: same answer, once for a
			    * fragmented one (on its first fragment, RFC 7383 §2.6.1) */
		if (!fragment || number == 1)
			replay_response(e, sa, rx);
		return 0;
	}
	log_in(e, sa, rx);
	if (!response)
		follow_peer(e, sa, rx);
	if (response) {
		rc = dispatch_response(e, sa, rx);
		if (sa->state != IKEV2_S_CLOSED)
			ikev2_start_next(e, sa, rx->now);
		return rc;
	}
	return dispatch_request(e, sa, rx);
}

static int input(struct ikev2_engine *e, struct ikev2_rx *rx)
{
	const struct ikev2_hdr *h = &rx->m.hdr;
	struct ikev2_sa *sa;

	if (h->exchange == IKEV2_IKE_SA_INIT && !(h->flags & IKEV2_FLAG_R))
		return ikev2_sa_init_request(e, rx);
	sa = find_by_hdr(e, h);
	if (sa == NULL)
		return ikev2_drop(e, NULL, IKEV2_STAT_UNKNOWN_SPI, rx->now, rx->err, -ENOENT,
				  "%s %s for no known IKE SA", ikev2_exchange_name(h->exchange),
				  h->flags & IKEV2_FLAG_R ? "response" : "request");
	if (h->exchange == IKEV2_IKE_SA_INIT) {
		if (sa->req.kind != IKEV2_REQ_SA_INIT || h->msg_id != 0)
			return ikev2_drop(e, sa, IKEV2_STAT_UNEXPECTED_MSG_ID, rx->now, rx->err,
					  -ERANGE, "IKE_SA_INIT response #%u not awaited", h->msg_id);
		return ikev2_sa_init_response(e, sa, rx);
	}
	return protected_input(e, sa, rx);
}

/* The datagram copied into e->rx, where SK is opened in place (the
 * caller's bytes stay as they are), and parsed. */
static int take_datagram(struct ikev2_engine *e, const uint8_t *buf, size_t len,
			 struct ikev2_rx *rx)
{
	if (len > IKE_MSG_MAX)
		return ike_fail(rx->err, -EMSGSIZE, "%zu bytes, more than %d", len, IKE_MSG_MAX);
	memcpy(e->rx, buf, len);
	return ikev2_msg_parse(e->rx, len, &rx->m, rx->err);
}

int ikev2_input(struct ikev2_engine *e, const uint8_t *buf, size_t len,
		const struct ike_endpoint *local, const struct ike_endpoint *remote,
		uint64_t now_ms, struct ike_err *err)
{
	struct ike_err local_err = { 0 };
	struct ikev2_rx *rx = malloc(sizeof(*rx));
	int rc;

	if (err == NULL)
		err = &local_err;
	ikev2_count(e, IKEV2_STAT_RECEIVED);
	if (rx == NULL)
		return ike_fail(err, -ENOMEM, "no memory for a received message");
	*rx = (struct ikev2_rx){ .len = len, .local = local, .remote = remote, .now = now_ms,
				 .err = err };
	if (take_datagram(e, buf, len, rx))
		rc = ikev2_drop(e, NULL, IKEV2_STAT_INVALID_PACKETS, now_ms, err, -EBADMSG,
				"malformed message: %s", err->msg);
	else
		rc = input(e, rx);
	OPENSSL_cleanse(e->rx, len <= IKE_MSG_MAX ? len : 0);
	free(rx);
	sweep(e);
	return rc;
}

/* ---- timers ---- */

uint64_t ikev2_next_timer(const struct ikev2_engine *e)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < e->n_sas; i++) {
		const struct ikev2_sa *sa = e->sas[i];

		if (sa->req.kind != IKEV2_REQ_NONE && sa->req.next_ms < next)
			next = sa->req.next_ms;
		if (sa->expire_ms && sa->expire_ms < next)
			next = sa->expire_ms;
	}
	return next;
}

static void request_timer(struct ikev2_engine *e, struct ikev2_sa *sa, uint64_t now)
{
	if (ikev2_sa_retransmit_due(sa, e->conf.retransmit_base_ms, e->conf.retransmit_tries)) {
		ikev2_count(e, IKEV2_STAT_RETRANSMITS);
		ikev2_sa_log(sa, e, 6, now, "request #%u retransmitted (%u)", sa->req.msg_id,
			     sa->req.retransmits);
		ikev2_send_message(e, sa, sa->req.data, sa->req.len);
		return;
	}
	ikev2_count(e, IKEV2_STAT_PEER_TIMEOUTS);
	if (sa->state >= IKEV2_S_ESTABLISHED)
		ikev2_sa_down(e, sa, now, "the peer did not answer a request: given up after retransmissions");
	else
		ikev2_fail(e, sa, now, 0, true,
			   "the peer did not answer %s after %u retransmissions",
			   ikev2_exchange_name(request_exchange[sa->req.kind]), sa->req.retransmits);
}

void ikev2_tick(struct ikev2_engine *e, uint64_t now_ms)
{
	for (size_t i = 0; i < e->n_sas; i++) {
		struct ikev2_sa *sa = e->sas[i];

		if (sa->state != IKEV2_S_CLOSED && sa->expire_ms && now_ms >= sa->expire_ms)
			ikev2_fail(e, sa, now_ms, 0, true, "half-open: no IKE_AUTH within %u ms",
				   e->conf.half_open_timeout_ms);
		if (sa->state != IKEV2_S_CLOSED && sa->req.kind != IKEV2_REQ_NONE &&
		    now_ms >= sa->req.next_ms)
			request_timer(e, sa, now_ms);
	}
	sweep(e);
}

/* ---- exchanges on an established SA ---- */

/* A queued exchange that cannot start: logged; a rekey's FAILED names the
 * SA it was to replace, for the caller to try again. */
static void not_started(struct ikev2_engine *e, struct ikev2_sa *sa, const struct ikev2_task *t,
			uint64_t now, const char *why)
{
	ikev2_sa_log(sa, e, 3, now, "queued exchange not started: %s", why);
	if (t->kind == IKEV2_REQ_REKEY_CHILD || t->kind == IKEV2_REQ_REKEY_IKE)
		ike_evq_reason(&e->evq, failed_exchange(sa, t->kind, t->spi), 0, false, why);
}

void ikev2_start_next(struct ikev2_engine *e, struct ikev2_sa *sa, uint64_t now)
{
	struct ikev2_task t;
	struct ike_err err = { 0 };
	int rc;

	while (sa->state == IKEV2_S_ESTABLISHED && sa->req.kind == IKEV2_REQ_NONE &&
	       ikev2_sa_task_take(sa, &t)) {
		bool info = request_exchange[t.kind] == IKEV2_INFORMATIONAL;

		rc = info ? ikev2_info_start(e, sa, &t, now, &err)
			  : ikev2_child_start(e, sa, &t, now, &err);
		if (rc)
			not_started(e, sa, &t, now, err.msg);
	}
}

static int queue(struct ikev2_engine *e, const struct ikev2_sa_id *id, enum ikev2_req_kind kind,
		 uint32_t spi, uint64_t now, struct ike_err *err)
{
	struct ikev2_sa *sa = ikev2_find_sa(e, id);

	if (sa == NULL)
		return ike_fail(err, -ENOENT, "no such IKE SA");
	if (sa->state != IKEV2_S_ESTABLISHED)
		return ike_fail(err, -EAGAIN, "IKE SA in state %s, not established",
				ikev2_state_name(sa->state));
	if (spi && ike_child_recs_by_in(&sa->children, spi) == NULL)
		return ike_fail(err, -ENOENT, "IKE SA has no child SA with inbound SPI %08x", spi);
	if (ikev2_sa_task_add(sa, kind, spi))
		return ike_fail(err, -EBUSY, "IKE SA has %d exchanges queued already",
				IKEV2_MAX_TASKS);
	ikev2_start_next(e, sa, now);
	return 0;
}

int ikev2_create_child(struct ikev2_engine *e, const struct ikev2_sa_id *sa, uint64_t now_ms,
		       struct ike_err *err)
{
	return queue(e, sa, IKEV2_REQ_CREATE_CHILD, 0, now_ms, err);
}

int ikev2_rekey_child(struct ikev2_engine *e, const struct ikev2_sa_id *sa, uint32_t spi_in,
		      uint64_t now_ms, struct ike_err *err)
{
	struct ikev2_sa *s = ikev2_find_sa(e, sa);
	const struct ike_child_rec *c = s ? ike_child_recs_by_in(&s->children, spi_in) : NULL;

	if (spi_in == 0)
		return ike_fail(err, -ENOENT, "child SA rekey: no SPI given");
	if (c != NULL && c->replaced) /* by a rekey of ours or the peer's */
		return ike_fail(err, -EALREADY, "child SA rekey: %08x is already replaced", spi_in);
	return queue(e, sa, IKEV2_REQ_REKEY_CHILD, spi_in, now_ms, err);
}

int ikev2_rekey_ike(struct ikev2_engine *e, const struct ikev2_sa_id *sa, uint64_t now_ms,
		    struct ike_err *err)
{
	const struct ikev2_sa *s = ikev2_find_sa(e, sa);

	if (s != NULL && s->rekeyed)
		return ike_fail(err, -EALREADY, "IKE SA rekey: it is already replaced");
	return queue(e, sa, IKEV2_REQ_REKEY_IKE, 0, now_ms, err);
}

int ikev2_delete_child(struct ikev2_engine *e, const struct ikev2_sa_id *sa, uint32_t spi_in,
		       uint64_t now_ms, struct ike_err *err)
{
	if (spi_in == 0)
		return ike_fail(err, -ENOENT, "child SA delete: no SPI given");
	return queue(e, sa, IKEV2_REQ_DELETE_CHILD, spi_in, now_ms, err);
}

int ikev2_delete_ike(struct ikev2_engine *e, const struct ikev2_sa_id *sa, uint64_t now_ms,
		     struct ike_err *err)
{
	return queue(e, sa, IKEV2_REQ_DELETE_IKE, 0, now_ms, err);
}

int ikev2_check_liveness(struct ikev2_engine *e, const struct ikev2_sa_id *sa, uint64_t now_ms,
			 struct ike_err *err)
{
	return queue(e, sa, IKEV2_REQ_LIVENESS, 0, now_ms, err);
}

int ikev2_initiate(struct ikev2_engine *e, const struct ikev2_peer *peer,
		   const struct ike_endpoint *local, const struct ike_endpoint *remote,
		   uint64_t now_ms, struct ikev2_sa_id *out, struct ike_err *err)
{
	struct ikev2_sa *sa;
	int rc;

	if (peer->n_mm == 0 || peer->n_mm > IKE_MAX_METHODS || peer->n_qm == 0 ||
	    peer->n_qm > IKE_MAX_METHODS)
		return ike_fail(err, -EINVAL, "initiate: %u IKE and %u child SA methods (1 to %d each)",
				peer->n_mm, peer->n_qm, IKE_MAX_METHODS);
	if (peer->ts_local.n == 0 || peer->ts_remote.n == 0 || peer->local_auth.ops == NULL ||
	    peer->remote_auth.ops == NULL)
		return ike_fail(err, -EINVAL, "initiate: the policy lacks %s",
				peer->ts_local.n && peer->ts_remote.n ? "authentication"
								      : "traffic selectors");
	sa = ikev2_sa_new(true);
	if (sa == NULL || ikev2_sa_insert(e, sa)) {
		ikev2_sa_free(sa);
		return ike_fail(err, -ENOMEM, "initiate: no memory for an IKE SA");
	}
	sa->peer = *peer;
	sa->local = *local;
	sa->remote = *remote;
	*out = sa->id;
	rc = ikev2_sa_init_start(e, sa, now_ms, err);
	if (rc)
		ikev2_set_state(sa, IKEV2_S_CLOSED, now_ms, e);
	sweep(e);
	return rc;
}
