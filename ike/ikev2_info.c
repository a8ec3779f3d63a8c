/* ikev2_info.c - the INFORMATIONAL exchange (RFC 7296 §1.4): DELETE of
 * child SAs (each side names the SPIs it receives on; the answer names the
 * other halves), of a child the peer made that we refuse and never
 * installed, and of the IKE SA (answered empty, then it is gone), and the
 * liveness check, an empty request answered empty (§2.4). */
#include <errno.h>
#include <string.h>

#include "ikev2_exchange.h"

#define MAX_DELETED IKE_SA_MAX_CHILDREN

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v & 0xff;
}

static void delete_add(struct ikev2_tx *t, uint8_t protocol, const uint8_t *spis, uint16_t n)
{
	union ikev2_body b = { .del = { .protocol = protocol, .spi_len = n ? 4 : 0, .n_spi = n,
					.spis = spis } };

	ikev2_tx_add(t, IKEV2_PL_DELETE, &b);
}

/* ---- initiator ---- */

int ikev2_info_start(struct ikev2_engine *e, struct ikev2_sa *sa, const struct ikev2_task *task,
		     uint64_t now, struct ike_err *err)
{
	const struct ike_child_rec *c = NULL;
	uint8_t spi[4];
	struct ikev2_tx t;

	if (task->kind == IKEV2_REQ_DELETE_CHILD && (c = ike_child_recs_by_in(&sa->children, task->spi)) == NULL)
		return ike_fail(err, -ENOENT, "delete: no child SA with inbound SPI %08x", task->spi);
	ikev2_tx_begin(e, sa, &t, IKEV2_INFORMATIONAL, false, sa->next_msg_id);
	if (c) {
		put32(spi, c->spi_in);
		delete_add(&t, c->protocol, spi, 1);
	}
	if (task->kind == IKEV2_REQ_DELETE_REFUSED) {
		put32(spi, task->spi);
		delete_add(&t, task->protocol, spi, 1);
	}
	if (task->kind == IKEV2_REQ_DELETE_IKE) {
		delete_add(&t, IKE_PROTO_IKE, NULL, 0);
		ikev2_set_state(sa, IKEV2_S_DELETING, now, e);
	}
	if (ikev2_send_request(e, sa, &t, task->kind, now, err))
		return err->code;
	sa->req.old_spi = task->spi;
	return 0;
}

int ikev2_info_response(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx)
{
	struct ike_child_rec *c;

	switch (sa->req.kind) {
	case IKEV2_REQ_DELETE_CHILD:
		c = ike_child_recs_by_in(&sa->children, sa->req.old_spi);
		if (c)
			ikev2_child_down(e, sa, c, rx->now);
		break;
	case IKEV2_REQ_DELETE_REFUSED:
		ikev2_sa_log(sa, e, 6, rx->now, "the refused child SA %08x deleted by the peer too",
			     sa->req.old_spi);
		break;
	case IKEV2_REQ_DELETE_IKE:
		ikev2_sa_request_done(sa);
		ikev2_sa_down(e, sa, rx->now, "deleted by us, confirmed by the peer");
		return 0;
	default:
		ikev2_sa_log(sa, e, 7, rx->now, "liveness check answered");
		break;
	}
	ikev2_sa_request_done(sa);
	return 0;
}

/* ---- responder ---- */

/* Children the peer deletes (by the SPIs it receives on, our outbound):
 * each goes down, and our inbound SPI of it goes into the answer. */
static uint16_t children_deleted(struct ikev2_engine *e, struct ikev2_sa *sa,
				 const struct ikev2_delete *d, uint8_t *answer, uint16_t n,
				 uint64_t now)
{
	for (uint16_t i = 0; i < d->n_spi && n < MAX_DELETED; i++) {
		struct ike_child_rec *c = ike_child_recs_by_out(&sa->children, ike_get32(d->spis + 4 * i));

		if (c == NULL || c->protocol != d->protocol)
			continue; /* gone already: nothing to answer (RFC 7296 §1.4.1) */
		put32(answer + 4 * n++, c->spi_in);
		ikev2_child_down(e, sa, c, now);
	}
	return n;
}

int ikev2_info_request(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx)
{
	uint8_t answer[2][4 * MAX_DELETED]; /* [0] ESP, [1] AH */
	uint16_t n[2] = { 0, 0 };
	const struct ikev2_payload *p;
	bool ike_deleted = false;
	union ikev2_body b;
	struct ikev2_tx t;

	for (int i = -1; (p = ikev2_msg_find(&rx->m, IKEV2_PL_DELETE, &i)) != NULL;) {
		if (ikev2_delete_parse(p->body.p, p->body.len, &b.del, NULL))
			continue;
		if (b.del.protocol == IKE_PROTO_IKE)
			ike_deleted = true;
		else {
			int k = b.del.protocol == IKE_PROTO_AH;

			n[k] = children_deleted(e, sa, &b.del, answer[k], n[k], rx->now);
		}
	}
	ikev2_tx_begin(e, sa, &t, IKEV2_INFORMATIONAL, true, rx->m.hdr.msg_id);
	if (n[0] && !ike_deleted)
		delete_add(&t, IKE_PROTO_ESP, answer[0], n[0]);
	if (n[1] && !ike_deleted)
		delete_add(&t, IKE_PROTO_AH, answer[1], n[1]);
	ikev2_send_response(e, sa, &t, rx->err);
	if (ike_deleted)
		ikev2_sa_down(e, sa, rx->now, "deleted by the peer");
	else if (rx->m.n == 1) /* SK alone */
		ikev2_sa_log(sa, e, 7, rx->now, "liveness check from the peer answered");
	return 0;
}
