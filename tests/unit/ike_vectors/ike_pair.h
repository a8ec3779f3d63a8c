/* ike_pair.h - what the two-peer engine tests (the IKEv2 ones through
 * ../ikev2_world.h, the IKEv1 ones through ../ikev1_world.h) share: the
 * outbox of one side (the datagrams and the other events its engine gave;
 * both engines hand out struct ikev2_event), addresses and selectors, the
 * usual peer policy, and the checks that the two halves of a child SA
 * pair agree. */
#ifndef IKE_PAIR_H
#define IKE_PAIR_H

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ike_child.h"
#include "ikev2.h"

#define IKE_PAIR_MAX_EV 64

struct msg {
	uint8_t *data;
	size_t len;
	struct ike_endpoint from, to;
	int events_before; /* the sender's other events emitted before it */
};

struct ike_outbox {
	const char *name;
	struct ikev2_event ev[IKE_PAIR_MAX_EV]; /* everything but sends, in order */
	int n_ev;
	struct msg out[IKE_PAIR_MAX_EV];        /* sent, not yet taken */
	int n_out;
};

/* An event taken from the engine: a send onto the wire, the rest kept. */
static inline void outbox_put(struct ike_outbox *b, const struct ikev2_event *ev)
{
	if (ev->kind == IKEV2_EV_SEND) {
		ck_assert_int_lt(b->n_out, IKE_PAIR_MAX_EV);
		b->out[b->n_out++] = (struct msg){ ev->send.data, ev->send.len, ev->send.local,
						   ev->send.remote, b->n_ev };
		return;
	}
	ck_assert_int_lt(b->n_ev, IKE_PAIR_MAX_EV);
	b->ev[b->n_ev++] = *ev;
}

/* The oldest datagram sent (the caller frees it). */
static inline struct msg outbox_take(struct ike_outbox *b)
{
	struct msg m;

	ck_assert_msg(b->n_out > 0, "%s sent nothing", b->name);
	m = b->out[0];
	memmove(b->out, b->out + 1, (size_t)--b->n_out * sizeof(m));
	return m;
}

static inline void outbox_nothing_sent(const struct ike_outbox *b)
{
	ck_assert_msg(b->n_out == 0, "%s sent %d datagrams", b->name, b->n_out);
}

/* Events of kind k that b's engine emitted before it sent m. */
static inline int outbox_count_before(const struct ike_outbox *b, const struct msg *m,
				      enum ikev2_event_kind k)
{
	int n = 0;

	for (int i = 0; i < m->events_before; i++)
		n += b->ev[i].kind == k;
	return n;
}

static inline int outbox_count(const struct ike_outbox *b, enum ikev2_event_kind k)
{
	int n = 0;

	for (int j = 0; j < b->n_ev; j++)
		n += b->ev[j].kind == k;
	return n;
}

/* The last event of kind k (it must exist). */
static inline struct ikev2_event *outbox_last(struct ike_outbox *b, enum ikev2_event_kind k)
{
	for (int j = b->n_ev - 1; j >= 0; j--)
		if (b->ev[j].kind == k)
			return &b->ev[j];
	ck_abort_msg("%s: no event of kind %d", b->name, k);
	return NULL;
}

static inline void outbox_free(struct ike_outbox *b)
{
	for (int k = 0; k < b->n_ev; k++)
		ikev2_event_release(&b->ev[k]);
	for (int k = 0; k < b->n_out; k++)
		free(b->out[k].data);
	b->n_ev = b->n_out = 0;
}

static inline struct dpsec_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return (struct dpsec_addr){ .family = DPSEC_AF_INET, .a = { a, b, c, d } };
}

static inline struct ike_ts_set ts_prefix(struct dpsec_addr a, uint8_t len)
{
	struct dpsec_prefix p = { a, len };
	struct ike_ts_set s = { .n = 1 };

	s.ts[0] = ike_ts_from_prefix(&p);
	return s;
}

/* A peer's policy with one IKE and one child method, PSK, FQDN ids
 * (i.example, r.example), 10.1.0.0/16 behind the initiator and 10.2.0.0/16
 * behind the responder: what both engines' two-peer worlds start from. */
static inline void pair_policy(struct ikev2_peer *pol, bool initiator, const struct ike_mm_method *mm,
			       const struct ike_qm_method *qm, const char *psk)
{
	struct ike_err err = { 0 };
	struct ike_ts_set a = ts_prefix(v4(10, 1, 0, 0), 16), b = ts_prefix(v4(10, 2, 0, 0), 16);

	memset(pol, 0, sizeof(*pol));
	pol->user = initiator ? 11 : 22;
	ck_assert_int_eq(ike_id_fqdn(&pol->local_id, initiator ? "i.example" : "r.example", &err), 0);
	ck_assert_int_eq(ike_id_fqdn(&pol->remote_id, initiator ? "r.example" : "i.example", &err), 0);
	ck_assert_int_eq(ike_auth_psk(&pol->local_auth, (const uint8_t *)psk, strlen(psk), &err), 0);
	ck_assert_int_eq(ike_auth_psk(&pol->remote_auth, (const uint8_t *)psk, strlen(psk), &err), 0);
	pol->n_mm = 1;
	pol->mm[0] = *mm;
	pol->n_qm = 1;
	pol->qm[0] = *qm;
	pol->ts_local = initiator ? a : b;
	pol->ts_remote = initiator ? b : a;
}

/* The two SAs of a pair agree: each one's outbound is the other's inbound. */
static inline void same_sa(const struct dpsec_sa_conf *out, const struct dpsec_sa_conf *in)
{
	ck_assert_uint_eq(out->spi, in->spi);
	ck_assert_uint_eq(out->direction, DPSEC_DIR_OUT);
	ck_assert_uint_eq(in->direction, DPSEC_DIR_IN);
	ck_assert_uint_eq(out->enc_alg, in->enc_alg);
	ck_assert_uint_eq(out->enc_key_len, in->enc_key_len);
	ck_assert_mem_eq(out->enc_key, in->enc_key, out->enc_key_len);
	ck_assert_mem_eq(out->salt, in->salt, DPSEC_GCM_SALT_LEN);
	ck_assert_uint_eq(out->integ_alg, in->integ_alg);
	ck_assert_uint_eq(out->integ_key_len, in->integ_key_len);
	ck_assert_mem_eq(out->integ_key, in->integ_key, out->integ_key_len);
	ck_assert_uint_eq(out->esn, in->esn);
	ck_assert_uint_eq(out->mode, in->mode);
}

static inline void pair_agrees(const struct ike_child *a, const struct ike_child *b)
{
	same_sa(&a->out, &b->in);
	same_sa(&b->out, &a->in);
	ck_assert_uint_ne(a->in.spi, a->out.spi);
	if (a->in.enc_key_len) /* else AH: the integrity keys tell the directions apart */
		ck_assert_msg(memcmp(a->in.enc_key, a->out.enc_key, a->in.enc_key_len) != 0,
			      "both directions have the same key");
	else
		ck_assert_msg(a->in.integ_key_len &&
				      memcmp(a->in.integ_key, a->out.integ_key, a->in.integ_key_len) != 0,
			      "both directions have the same key");
}

#endif
