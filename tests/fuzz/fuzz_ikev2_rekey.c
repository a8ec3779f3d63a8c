/* fuzz_ikev2_rekey.c - libFuzzer target for the IKEv2 engine's
 * CREATE_CHILD_SA on an established IKE SA (ike/ikev2_child.c,
 * ike/ikev2_ike_rekey.c): a new child SA, a child SA rekey, an IKE SA
 * rekey, and both peers rekeying at once. Two real engines, i and r, set
 * up an IKE SA with a child SA; the first input byte then picks:
 *   0: r gets a CREATE_CHILD_SA request whose contents (first payload
 *      type, then the chain) come from the input, sealed with the SA's
 *      keys as i's next request;
 *   1: the same to i, as r's first request;
 *   2: i starts an exchange (data[0] / 4 % 3: a new child SA, a rekey of
 *      the child SA, a rekey of the IKE SA), r answers, and i gets that
 *      answer decrypted, edited by the input and sealed again;
 *   3: as 2, but r starts the same exchange at once (a new child SA and
 *      rekeys that collide, RFC 7296 §2.8): each request reaches the other
 *      side while its own is out, then i gets r's edited answer.
 * Whatever follows is exchanged until both sides are quiet, then every
 * timer runs. Nothing may crash or leak, every datagram sent must parse,
 * each side holds at most three IKE SAs (the old one and two new ones of
 * a collision) and three child SAs, and what i installs is what it
 * offered. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_ike_initiator.h"
#include "fuzz_ikev2_peer.h"
#include "ikev2_exchange.h"

#define MAX_QUEUED 8

/* Datagrams a side sent, not yet delivered. */
struct outq {
	uint8_t data[MAX_QUEUED][IKE_MSG_MAX];
	size_t len[MAX_QUEUED];
	int n;
};

static struct outq out_i, out_r;
static uint8_t msg[IKE_MSG_MAX];

static void policy_init(void)
{
	initiator_policy_init(fuzz_ikev2_gcm_methods);
}

/* Events of e taken and released; sends checked to parse and queued on q
 * (beyond MAX_QUEUED: lost, as the network may), i's other events checked. */
static void drain(struct ikev2_engine *e, struct outq *q, bool check)
{
	struct ikev2_event ev;

	while (ikev2_next_event(e, &ev)) {
		if (ev.kind == IKEV2_EV_SEND && q->n < MAX_QUEUED) {
			fuzz_ikev2_check_sent(&ev, q->data[q->n], &q->len[q->n]);
			q->n++;
		} else if (ev.kind == IKEV2_EV_SEND) {
			fuzz_ikev2_check_sent(&ev, NULL, NULL);
		} else if (check) {
			check_installed(&ev);
		}
		ikev2_event_release(&ev);
	}
}

/* The oldest datagram of q into msg; its length, 0 when q is empty. */
static size_t take(struct outq *q)
{
	size_t len;

	if (q->n == 0)
		return 0;
	len = q->len[0];
	memcpy(msg, q->data[0], len);
	memmove(q->data[0], q->data[1], sizeof(q->data[0]) * (size_t)(q->n - 1));
	memmove(q->len, q->len + 1, sizeof(q->len[0]) * (size_t)(q->n - 1));
	q->n--;
	return len;
}

/* msg (len bytes) into e as if from its peer; e's events drained. */
static void deliver(struct ikev2_engine *e, bool to_i, size_t len, uint64_t now)
{
	if (len == 0)
		return;
	ikev2_input(e, msg, len, to_i ? &ep_i : &ep_r, to_i ? &ep_r : &ep_i, now, NULL);
	drain(e, to_i ? &out_i : &out_r, to_i);
}

/* IKE_SA_INIT and IKE_AUTH between i and r, for real; id filled. */
static void establish(struct ikev2_engine *i, struct ikev2_engine *r, struct ikev2_sa_id *id)
{
	if (ikev2_initiate(i, &policy, &ep_i, &ep_r, 0, id, NULL))
		abort();
	for (int k = 0; k < 4; k++) {
		drain(i, &out_i, false);
		drain(r, &out_r, false);
		deliver(k % 2 ? i : r, k % 2, take(k % 2 ? &out_r : &out_i), 1 + k);
	}
	if (ikev2_find_sa(i, id) == NULL || ikev2_find_sa(i, id)->state != IKEV2_S_ESTABLISHED)
		abort(); /* the real exchange must work */
	memcpy(id->spi_r, ikev2_find_sa(i, id)->id.spi_r, 8);
}

/* Starts exchange kind (0 new child SA, 1 child SA rekey, 2 IKE SA rekey)
 * on side e of SA id. */
static void start(struct ikev2_engine *e, const struct ikev2_sa_id *id, int kind, uint64_t now)
{
	const struct ikev2_sa *sa = ikev2_find_sa(e, id);

	if (kind == 0)
		ikev2_create_child(e, id, now, NULL);
	else if (kind == 1 && sa != NULL && sa->children.n > 0)
		ikev2_rekey_child(e, id, sa->children.rec[0].spi_in, now, NULL);
	else if (kind == 2)
		ikev2_rekey_ike(e, id, now, NULL);
}

/* r's answer (msg, len) opened with i's keys, edited by the input and
 * sealed again with r's, at msg; its length, 0 if it cannot be. */
static size_t edited_answer(struct ikev2_engine *i, struct ikev2_engine *r,
			    const struct ikev2_sa_id *id, size_t len, const uint8_t *data, size_t size)
{
	static uint8_t plain_copy[IKE_MSG_MAX];
	struct ikev2_sa *sa = ikev2_find_sa(i, id);
	struct ikev2_msg m;
	uint8_t *plain;
	size_t plain_len;

	if (len == 0 || sa == NULL || ikev2_msg_parse(msg, len, &m, NULL) != 0 || m.sk_body_off == 0 ||
	    ikev2_sk_open(&sa->keys, msg, len, m.sk_body_off, &plain, &plain_len, NULL) != 0)
		abort(); /* the real answer must open */
	memcpy(plain_copy, plain, plain_len);
	apply_edits(plain_copy, 0, plain_len, data, size);
	return fuzz_ikev2_sealed(r, id, IKEV2_CREATE_CHILD_SA, m.hdr.msg_id, IKEV2_FLAG_R,
				 m.sk_inner_next, plain_copy, plain_len, msg, sizeof(msg));
}

/* The fuzzed part of the exchanges, as data[0] says. */
static void play(struct ikev2_engine *i, struct ikev2_engine *r, const struct ikev2_sa_id *id,
		 const uint8_t *data, size_t size)
{
	uint8_t mode = data[0] % 4;
	int kind = data[0] / 4 % 3;
	size_t len;

	data++, size--;
	if (mode <= 1) {
		struct ikev2_engine *from = mode ? r : i;
		const struct ikev2_sa *sa = ikev2_find_sa(from, id);

		if (size < 1)
			return;
		len = fuzz_ikev2_sealed(from, id, IKEV2_CREATE_CHILD_SA, sa->next_msg_id,
					mode ? 0 : IKEV2_FLAG_I, data[0], data + 1, size - 1, msg,
					sizeof(msg));
		deliver(mode ? i : r, mode, len, 10);
		return;
	}
	start(i, id, kind, 10);
	drain(i, &out_i, true);
	if (mode == 3) {
		start(r, id, kind, 10);
		drain(r, &out_r, false);
		deliver(i, true, take(&out_r), 11); /* r's request, i's own out */
	}
	deliver(r, false, take(&out_i), 12); /* i's request */
	len = edited_answer(i, r, id, take(&out_r), data, size);
	deliver(i, true, len, 13);
}

/* Every datagram queued delivered, in turn, until both sides are quiet. */
static void until_quiet(struct ikev2_engine *i, struct ikev2_engine *r)
{
	for (int k = 0; k < 32 && (out_i.n || out_r.n); k++) {
		deliver(r, false, take(&out_i), 20 + k);
		deliver(i, true, take(&out_r), 20 + k);
	}
}

/* At most three IKE SAs, and three child SAs on those not closed. */
static void check_bounds(const struct ikev2_engine *e)
{
	size_t children = 0;

	if (ikev2_sa_count(e) > 3)
		abort();
	for (size_t k = 0; k < e->n_sas; k++)
		if (e->sas[k]->state != IKEV2_S_CLOSED)
			children += e->sas[k]->children.n;
	if (children > 3)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ikev2_engine *i, *r;
	struct ikev2_sa_id id;

	if (size < 1)
		return 0;
	policy_init();
	out_i.n = out_r.n = 0;
	i = fuzz_ikev2_engine(lookup);
	r = fuzz_ikev2_engine(lookup_mirrored);
	if (i == NULL || r == NULL)
		abort();
	establish(i, r, &id);
	play(i, r, &id, data, size);
	until_quiet(i, r);
	check_bounds(i);
	check_bounds(r);
	ikev2_tick(i, 100000); /* every timer of what is left */
	ikev2_tick(r, 100000);
	drain(i, &out_i, true);
	drain(r, &out_r, false);
	ikev2_engine_free(i);
	ikev2_engine_free(r);
	return 0;
}
