/* ikev1_info.c - Informational exchanges (RFC 2408 §4.8, RFC 2409 §5.7):
 * one message each, [HASH(1), N or D] encrypted with an IV of its own
 * (hash of the last Phase 1 block and its message ID). DELETE of IPsec
 * SAs (by the SPI the peer receives on) and of the ISAKMP SA (its
 * cookies), error notifies with their RFC 2408 codes (a refused Quick
 * Mode's naming the SPI of the offer it refuses), INITIAL-CONTACT
 * (sent in Main Mode 5), and Dead Peer Detection (RFC 3706): R-U-THERE
 * with a sequence number, answered by R-U-THERE-ACK with the same one;
 * our R-U-THERE is retransmitted like any message and, unanswered, takes
 * the ISAKMP SA down. Before Main Mode has keys an error notify goes in
 * the clear (NO-PROPOSAL-CHOSEN, AUTHENTICATION-FAILED). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ikev1_exchange.h"

static void cookies(const struct ikev1_sa *sa, uint8_t out[16])
{
	memcpy(out, sa->id.spi_i, 8);
	memcpy(out + 8, sa->id.spi_r, 8);
}

static uint32_t info_mid(void)
{
	uint32_t mid = 0;

	while (mid == 0)
		if (ikev1_random(&mid, sizeof(mid), NULL))
			return 1;
	return mid;
}

/* Sends [HASH(1), payload] to `to` as a one-shot exchange (nothing is
 * awaited). */
static int send_one(struct ikev1_engine *e, struct ikev1_sa *sa, uint8_t type,
		    const union isakmp_body *body, uint64_t now, const struct ike_endpoint *to,
		    struct ike_err *err)
{
	uint32_t mid = info_mid();
	struct ikev1_iv iv;
	struct ikev1_tx t;
	uint8_t *data;
	size_t len;
	int rc = ikev1_phase2_iv(&sa->keys, &sa->p1_iv, mid, &iv, err);

	if (rc)
		return rc;
	ikev1_tx_begin(e, sa, &t, ISAKMP_INFORMATIONAL, mid, true);
	ikev1_tx_hash_slot(&t, sa);
	ikev1_tx_add(&t, type, body);
	rc = ikev1_tx_finish_hashed(e, sa, &t, NULL, 0, &iv, &data, &len, err);
	if (rc)
		return rc;
	ikev1_sa_log(sa, e, 7, now, "out Informational #%08x: %s", mid, isakmp_payload_name(type));
	ikev1_send_to(e, &sa->local, to, data, len);
	free(data);
	return 0;
}

int ikev1_info_send_delete(struct ikev1_engine *e, struct ikev1_sa *sa, uint8_t protocol,
			   const uint8_t *spi, uint8_t spi_len, uint64_t now, struct ike_err *err)
{
	union isakmp_body b = { .del = { ISAKMP_DOI_IPSEC, protocol, spi_len, 1, spi } };

	return send_one(e, sa, ISAKMP_PL_DELETE, &b, now, &sa->remote, err);
}

static union isakmp_body notify_body(const struct ikev1_sa *sa, uint16_t type, const uint8_t *data,
				     size_t len)
{
	union isakmp_body b = { .notify = { .doi = ISAKMP_DOI_IPSEC, .protocol = IKE_PROTO_IKE,
					    .spi_len = 16, .type = type,
					    .data = { data, (uint16_t)len } } };

	cookies(sa, b.notify.spi);
	return b;
}

int ikev1_info_answer_notify(struct ikev1_engine *e, struct ikev1_sa *sa, uint16_t type,
			     const uint8_t *data, size_t len, const struct ikev1_rx *rx,
			     struct ike_err *err)
{
	union isakmp_body b = notify_body(sa, type, data, len);

	return send_one(e, sa, ISAKMP_PL_NOTIFY, &b, rx->now, ikev1_reply_to(sa, rx), err);
}

int ikev1_info_send_qm_refusal(struct ikev1_engine *e, struct ikev1_sa *sa, uint16_t type,
			       const struct ike_sa *offer, const struct ikev1_rx *rx,
			       struct ike_err *err)
{
	const struct ike_proposal *p = offer->n_prop ? &offer->prop[0] : NULL;
	union isakmp_body b;

	if (p == NULL || p->spi_len != 4 || (p->protocol != IKE_PROTO_ESP && p->protocol != IKE_PROTO_AH))
		return ikev1_info_answer_notify(e, sa, type, NULL, 0, rx, err);
	b = (union isakmp_body){ .notify = { .doi = ISAKMP_DOI_IPSEC, .protocol = p->protocol,
					     .spi_len = 4, .type = type } };
	memcpy(b.notify.spi, p->spi, 4);
	return send_one(e, sa, ISAKMP_PL_NOTIFY, &b, rx->now, ikev1_reply_to(sa, rx), err);
}

void ikev1_info_send_clear_notify(struct ikev1_engine *e, const struct ikev1_rx *rx, uint16_t type)
{
	struct isakmp_hdr h = rx->m.hdr;
	union isakmp_body b = { .notify = { .doi = ISAKMP_DOI_IPSEC, .protocol = IKE_PROTO_IKE,
					    .spi_len = 16, .type = type } };
	struct isakmp_builder bld;
	size_t len;

	memcpy(b.notify.spi, h.icookie, 8);
	memcpy(b.notify.spi + 8, h.rcookie, 8);
	h.exchange = ISAKMP_INFORMATIONAL;
	h.flags = 0;
	h.msg_id = 0;
	isakmp_build_begin(&bld, e->out, IKE_MSG_MAX, &h);
	isakmp_build_add(&bld, ISAKMP_PL_NOTIFY, &b);
	if (isakmp_build_end(&bld, &len, NULL) == 0)
		ikev1_send_to(e, rx->local, rx->remote, e->out, len);
}

/* ---- DPD ---- */

static void seq_bytes(uint32_t seq, uint8_t b[4])
{
	b[0] = (uint8_t)(seq >> 24);
	b[1] = (uint8_t)(seq >> 16);
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
}

static struct ikev1_xchg *dpd_pending(struct ikev1_sa *sa)
{
	for (int i = 0; i < IKEV1_MAX_XCHG; i++)
		if (sa->xchg[i].kind == IKEV1_X_DPD && !sa->xchg[i].done)
			return &sa->xchg[i];
	return NULL;
}

int ikev1_dpd_start(struct ikev1_engine *e, struct ikev1_sa *sa, uint64_t now, struct ike_err *err)
{
	struct ikev1_xchg *x;
	union isakmp_body b;
	struct ikev1_tx t;
	uint8_t seq[4], *data;
	size_t len;
	int rc;

	if (dpd_pending(sa))
		return 0; /* already asking */
	x = ikev1_xchg_new(sa, IKEV1_X_DPD, info_mid(), true);
	if (x == NULL)
		return ike_fail(err, -EBUSY, "ISAKMP SA has %d exchanges in flight", IKEV1_MAX_XCHG);
	if (sa->dpd_seq == 0 && ikev1_random(&sa->dpd_seq, sizeof(sa->dpd_seq), err) == 0)
		sa->dpd_seq &= 0x7fffffff; /* room to count up (RFC 3706 §7) */
	x->dpd_seq = ++sa->dpd_seq;
	seq_bytes(x->dpd_seq, seq);
	b = notify_body(sa, ISAKMP_N_R_U_THERE, seq, 4);
	ikev1_tx_begin(e, sa, &t, ISAKMP_INFORMATIONAL, x->mid, true);
	ikev1_tx_hash_slot(&t, sa);
	ikev1_tx_add(&t, ISAKMP_PL_NOTIFY, &b);
	rc = ikev1_tx_finish_hashed(e, sa, &t, NULL, 0, &x->iv, &data, &len, err);
	if (rc) {
		ikev1_xchg_free(x);
		return rc;
	}
	ikev1_count(e, IKEV1_STAT_DPD_SENT);
	return ikev1_send_msg(e, sa, &x->msgs, data, len, true, now);
}

static void dpd_ack(struct ikev1_engine *e, struct ikev1_sa *sa, const struct isakmp_notify *n,
		    uint64_t now)
{
	struct ikev1_xchg *x = dpd_pending(sa);

	if (x && n->data.len == 4 && ike_get32(n->data.p) == x->dpd_seq) {
		x->done = true;
		x->msgs.waiting = false;
		ikev1_sa_log(sa, e, 6, now, "R-U-THERE-ACK %u: the peer is alive", x->dpd_seq);
	}
}

/* ---- input ---- */

/* A peer's R-U-THERE numbered above any before it is fresh: not a replay
 * (IKEv1's Informationals have no other protection from one), so where it
 * came from is where the peer is now (ikev1_follow_peer). */
static void peer_dpd_number(struct ikev1_engine *e, struct ikev1_sa *sa, uint32_t seq,
			    const struct ikev1_rx *rx)
{
	if (sa->peer_dpd_seen && seq <= sa->peer_dpd_seq)
		return;
	sa->peer_dpd_seq = seq;
	sa->peer_dpd_seen = true;
	ikev1_follow_peer(e, sa, rx);
}

/* The Quick Mode of ours an error notification refuses: the one whose
 * offer carried the ESP or AH SPI it names (the initiator's), else,
 * when it names no ESP or AH SPI, the only one awaiting its answer; NULL
 * when none, with *waiting how many await theirs. */
static struct ikev1_xchg *refused_quick_mode(struct ikev1_sa *sa, const struct isakmp_notify *n,
					     int *waiting)
{
	struct ikev1_xchg *only = NULL;

	*waiting = 0;
	for (int i = 0; i < IKEV1_MAX_XCHG; i++) {
		struct ikev1_xchg *x = &sa->xchg[i];

		if (x->kind != IKEV1_X_QUICK || !x->initiator || x->done)
			continue;
		if (n->spi_len == 4 && ike_get32(n->spi) == x->spi_in)
			return x;
		only = x;
		(*waiting)++;
	}
	return n->spi_len != 4 && *waiting == 1 ? only : NULL;
}

static void on_notify(struct ikev1_engine *e, struct ikev1_sa *sa, const struct isakmp_notify *n,
		      const struct ikev1_rx *rx)
{
	struct ike_err err = { 0 };
	const char *name = isakmp_notify_name(n->type);
	struct ikev1_xchg *x;
	uint64_t now = rx->now;
	int waiting = 0;

	ikev1_count(e, IKEV1_STAT_NOTIFIES_RECEIVED);
	if (n->type == ISAKMP_N_R_U_THERE && n->data.len == 4) {
		ikev1_count(e, IKEV1_STAT_DPD_ANSWERED);
		peer_dpd_number(e, sa, ike_get32(n->data.p), rx);
		ikev1_info_answer_notify(e, sa, ISAKMP_N_R_U_THERE_ACK, n->data.p, 4, rx, &err);
	} else if (n->type == ISAKMP_N_R_U_THERE_ACK) {
		dpd_ack(e, sa, n, now);
	} else if (n->type < 8192 && (x = refused_quick_mode(sa, n, &waiting)) != NULL) {
		ikev1_fail_quick(e, sa, now, x, n->type, "Quick Mode #%08x refused: the peer sent %s",
				 x->mid, name ? name : "an error");
		ikev1_xchg_free(x); /* over: no more retransmissions */
	} else if (n->type < 8192 && n->spi_len != 4 && waiting > 1) {
		/* which one it refuses cannot be told: each reports its own end,
		 * its answer or its retransmissions' */
		ikev1_sa_log(sa, e, 4, now, "the peer sent %s naming no SPI while %d Quick Modes wait",
			     name ? name : "an error", waiting);
	} else if (n->type < 8192) {
		ikev1_fail(e, sa, now, n->type, false, "the peer sent %s", name ? name : "an error");
	} else {
		ikev1_sa_log(sa, e, 6, now, "notify %s (%u) received", name ? name : "?", n->type);
	}
}

static void on_delete(struct ikev1_engine *e, struct ikev1_sa *sa, const struct isakmp_delete *d,
		      uint64_t now)
{
	uint8_t ours[16];

	cookies(sa, ours);
	if (d->protocol == IKE_PROTO_IKE && d->spi_len == 16 && d->n_spi >= 1 &&
	    memcmp(d->spis, ours, 16) == 0) {
		ikev1_sa_down(e, sa, now, "deleted by the peer");
		return;
	}
	for (uint16_t i = 0; d->spi_len == 4 && i < d->n_spi; i++) {
		struct ike_child_rec *c = ike_child_recs_by_out(&sa->children, ike_get32(d->spis + 4 * i));

		if (c && c->protocol == d->protocol)
			ikev1_child_down(e, sa, c, now);
		else
			ikev1_sa_log(sa, e, 5, now, "DELETE for unknown SPI %08x ignored",
				     ike_get32(d->spis + 4 * i));
	}
}

/* An unprotected notify before Main Mode is done: an error ends it. */
static int clear_notify(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_rx *rx)
{
	struct isakmp_notify nb;
	uint16_t n = ikev1_rx_notify_in(rx, 1, 8191, &nb) ? nb.type : 0;
	const char *name = isakmp_notify_name(n);

	if (sa->state == IKEV1_S_ESTABLISHED || n == 0)
		return ikev1_drop(e, sa, IKEV1_STAT_INVALID_PACKETS, rx->now, rx->err, -EPROTO,
				  "unprotected Informational %s", n ? "on an established SA" : "without an error");
	ikev1_count(e, IKEV1_STAT_NOTIFIES_RECEIVED);
	ikev1_fail(e, sa, rx->now, n, true, "the peer sent %s (unprotected)", name ? name : "an error");
	return 0;
}

int ikev1_info_input(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_rx *rx)
{
	struct ikev1_iv iv;
	union isakmp_body b;
	int rc;

	if (!(rx->m.hdr.flags & ISAKMP_FLAG_E))
		return clear_notify(e, sa, rx);
	if (sa->state != IKEV1_S_ESTABLISHED)
		return ikev1_drop(e, sa, IKEV1_STAT_UNEXPECTED_EXCHANGE, rx->now, rx->err, -EPROTO,
				  "Informational in state %s", ikev1_state_name(sa->state));
	rc = ikev1_phase2_iv(&sa->keys, &sa->p1_iv, rx->m.hdr.msg_id, &iv, rx->err);
	if (rc == 0)
		rc = ikev1_rx_open(e, sa, rx, &iv);
	if (rc)
		return ikev1_drop(e, sa, IKEV1_STAT_INVALID_PACKETS, rx->now, rx->err, rc,
				  "Informational: %s", rx->err->msg);
	rc = ikev1_rx_check_hash(sa, rx, NULL, 0);
	if (rc)
		return ikev1_drop(e, sa, rc == -EKEYREJECTED ? IKEV1_STAT_HASH_FAILED
							     : IKEV1_STAT_INVALID_PACKETS,
				  rx->now, rx->err, rc, "%s", rx->err->msg);
	for (int i = 0; ikev1_rx_body_nth(rx, ISAKMP_PL_NOTIFY, i, &b) && sa->state != IKEV1_S_CLOSED; i++)
		on_notify(e, sa, &b.notify, rx);
	for (int i = 0; ikev1_rx_body_nth(rx, ISAKMP_PL_DELETE, i, &b) && sa->state != IKEV1_S_CLOSED; i++)
		on_delete(e, sa, &b.del, rx->now);
	return 0;
}
