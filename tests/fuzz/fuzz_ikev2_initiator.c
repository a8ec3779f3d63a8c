/* fuzz_ikev2_initiator.c - libFuzzer target for the IKEv2 engine as an
 * initiator: what a responder (or anyone who sees the request) answers.
 * A real responder engine answers first; the first input byte then picks
 * what the initiator gets instead:
 *   0: an IKE_SA_INIT response built around the input (first payload type,
 *      then the chain) with the request's SPI;
 *   1: the real IKE_SA_INIT response with the input's edits in its payloads;
 *   2: the real IKE_AUTH response, decrypted, with the input's edits in its
 *      payloads, sealed again with the responder's keys: the AUTH payload
 *      stays valid, so the child SA's proposal, selectors and notifies
 *      reach the code that checks them;
 *   3: IKE_AUTH response contents from the input (first payload type, then
 *      the chain), sealed with the responder's keys.
 * Nothing may crash or leak, every datagram sent must parse, the initiator
 * holds at most its one IKE SA, and whatever it installs is what it
 * offered: the IKE SA's algorithms and group, the child SA's algorithms,
 * and selectors within its own policy's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_ike_policy.h"
#include "fuzz_ikev2_peer.h"

static struct ikev2_peer mirrored; /* the responder's side of policy */
static uint8_t msg[IKE_MSG_MAX], work[IKE_MSG_MAX];

/* The initiator protects 10.1.0.0/16 to 10.2.0.0/16; the responder the
 * mirror image, so that the real exchange succeeds. */
static void policy_init(void)
{
	struct dpsec_prefix lan = { { DPSEC_AF_INET, { 10, 1 } }, 16 };
	struct dpsec_prefix far = { { DPSEC_AF_INET, { 10, 2 } }, 16 };

	if (!policy_common())
		return;
	fuzz_ikev2_gcm_methods(&policy);
	policy.ts_local.ts[0] = ike_ts_from_prefix(&lan);
	policy.ts_remote.ts[0] = ike_ts_from_prefix(&far);
	mirrored = policy;
	mirrored.ts_local = policy.ts_remote;
	mirrored.ts_remote = policy.ts_local;
}

static int lookup_mirrored(void *ctx, const struct ikev2_lookup *q, struct ikev2_peer *out)
{
	(void)ctx;
	(void)q;
	*out = mirrored;
	return 0;
}

static bool ts_equal(const struct ike_ts *a, const struct ike_ts *b)
{
	return memcmp(&a->lo, &b->lo, sizeof(a->lo)) == 0 && memcmp(&a->hi, &b->hi, sizeof(a->hi)) == 0 &&
	       a->proto == b->proto && a->port_lo == b->port_lo && a->port_hi == b->port_hi;
}

/* Whether every selector of got lies within want's one. */
static bool ts_within(const struct ike_ts_set *got, const struct ike_ts *want)
{
	struct ike_ts part;

	for (uint8_t i = 0; i < got->n; i++)
		if (!ike_ts_intersect(&got->ts[i], want, &part) || !ts_equal(&part, &got->ts[i]))
			return false;
	return got->n > 0;
}

/* What the initiator installs must be what it offered. */
static void check_installed(const struct ikev2_event *ev)
{
	const struct ike_child *c = ev->child;

	if (ev->kind == IKEV2_EV_IKE_UP && memcmp(&ev->up.mm, &policy.mm[0], sizeof(policy.mm[0])) != 0)
		abort();
	if (ev->kind != IKEV2_EV_CHILD_UP)
		return;
	if (c->protocol != policy.qm[0].protocol || c->method.enc_alg != policy.qm[0].enc_alg ||
	    c->method.enc_key_len != policy.qm[0].enc_key_len || c->method.integ_alg != policy.qm[0].integ_alg ||
	    c->method.dh_group != policy.qm[0].dh_group || c->method.esn != policy.qm[0].esn)
		abort();
	if (!ts_within(&c->ts_local, &policy.ts_local.ts[0]) || !ts_within(&c->ts_remote, &policy.ts_remote.ts[0]))
		abort();
}

/* Events are taken, checked and released; a send must be an IKEv2 message
 * the engine itself parses. *last (if given) receives the last datagram. */
static void drain(struct ikev2_engine *e, bool check, uint8_t *last, size_t *last_len)
{
	struct ikev2_event ev;

	while (ikev2_next_event(e, &ev)) {
		if (ev.kind == IKEV2_EV_SEND)
			fuzz_ikev2_check_sent(&ev, last, last_len);
		else if (check)
			check_installed(&ev);
		ikev2_event_release(&ev);
	}
}

/* XORs the edits (offset high, offset low, value) into buf[from, len). */
static void apply_edits(uint8_t *buf, size_t from, size_t len, const uint8_t *data, size_t size)
{
	if (len <= from)
		return;
	for (size_t k = 0; k + 3 <= size; k += 3)
		buf[from + ((size_t)data[k] << 8 | data[k + 1]) % (len - from)] ^= data[k + 2];
}

/* An IKE_SA_INIT response's header for a message of len bytes on id,
 * first payload first, at msg (RFC 7296 §3.1). */
static void sa_init_header(const struct ikev2_sa_id *id, uint8_t first, size_t len)
{
	memcpy(msg, id->spi_i, 8);
	memcpy(msg + 8, id->spi_r, 8);
	msg[16] = first;
	msg[17] = IKEV2_VERSION;
	msg[18] = IKEV2_IKE_SA_INIT;
	msg[19] = IKEV2_FLAG_R;
	memset(msg + 20, 0, 4); /* message ID 0 */
	msg[24] = (uint8_t)(len >> 24);
	msg[25] = (uint8_t)(len >> 16);
	msg[26] = (uint8_t)(len >> 8);
	msg[27] = (uint8_t)len;
}

/* contents (first payload type, inner chain) as an IKE_AUTH response
 * sealed with the responder r's keys, at msg; its length, 0 if it cannot be. */
static size_t sealed_response(struct ikev2_engine *r, const struct ikev2_sa_id *id, uint8_t first,
			      const uint8_t *inner, size_t inner_len)
{
	return fuzz_ikev2_sealed_auth(r, id, IKEV2_FLAG_R, first, inner, inner_len, msg, sizeof(msg));
}

/* The real IKE_AUTH response r sent (work[0..len)), opened with the
 * initiator i's keys and edited, at msg sealed again; its length or 0. */
static size_t edited_auth_response(struct ikev2_engine *i, struct ikev2_engine *r,
				   const struct ikev2_sa_id *id, size_t len, const uint8_t *data,
				   size_t size)
{
	struct ikev2_sa *sa = ikev2_find_sa(i, id);
	struct ikev2_msg m;
	uint8_t *plain;
	size_t plain_len;

	if (sa == NULL || ikev2_msg_parse(work, len, &m, NULL) != 0 || m.sk_body_off == 0 ||
	    ikev2_sk_open(&sa->keys, work, len, m.sk_body_off, &plain, &plain_len, NULL) != 0)
		abort(); /* the real response must open */
	apply_edits(plain, 0, plain_len, data, size);
	return sealed_response(r, id, m.sk_inner_next, plain, plain_len);
}

/* IKE_SA_INIT from i to r; r's response left in work (*len); id filled. */
static int sa_init(struct ikev2_engine *i, struct ikev2_engine *r, struct ikev2_sa_id *id, size_t *len)
{
	if (ikev2_initiate(i, &policy, &ep_i, &ep_r, 0, id, NULL))
		return -1;
	drain(i, false, work, len);
	if (ikev2_input(r, work, *len, &ep_r, &ep_i, 1, NULL))
		return -1;
	drain(r, false, work, len);
	memcpy(id->spi_r, work + 8, 8);
	return 0;
}

/* Through IKE_AUTH's request; r's real response left in work (*len). */
static int to_auth_response(struct ikev2_engine *i, struct ikev2_engine *r, struct ikev2_sa_id *id,
			    size_t *len)
{
	if (sa_init(i, r, id, len) || ikev2_input(i, work, *len, &ep_i, &ep_r, 2, NULL))
		return -1;
	drain(i, false, work, len);
	if (ikev2_input(r, work, *len, &ep_r, &ep_i, 3, NULL))
		return -1;
	drain(r, false, work, len);
	return 0;
}

/* The initiator's answer for mode, at msg; its length, 0 for none. */
static size_t answer(uint8_t mode, struct ikev2_engine *i, struct ikev2_engine *r,
		     struct ikev2_sa_id *id, const uint8_t *data, size_t size)
{
	size_t len = 0;

	if (mode <= 1) {
		if (sa_init(i, r, id, &len))
			abort(); /* the real exchange must work */
		if (mode == 1) {
			memcpy(msg, work, len);
			apply_edits(msg, IKEV2_HDR_LEN, len, data, size);
			return len;
		}
		if (size < 1 || size - 1 > sizeof(msg) - IKEV2_HDR_LEN)
			return 0;
		sa_init_header(id, data[0], IKEV2_HDR_LEN + size - 1);
		memcpy(msg + IKEV2_HDR_LEN, data + 1, size - 1);
		return IKEV2_HDR_LEN + size - 1;
	}
	if (to_auth_response(i, r, id, &len))
		abort();
	if (mode == 2)
		return edited_auth_response(i, r, id, len, data, size);
	return size < 1 ? 0 : sealed_response(r, id, data[0], data + 1, size - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ikev2_engine *i, *r;
	struct ikev2_sa_id id;
	size_t len;

	if (size < 1)
		return 0;
	policy_init();
	i = fuzz_ikev2_engine(lookup);
	r = fuzz_ikev2_engine(lookup_mirrored);
	if (i == NULL || r == NULL)
		abort();
	len = answer(data[0] % 4, i, r, &id, data + 1, size - 1);
	if (len)
		ikev2_input(i, msg, len, &ep_i, &ep_r, 4, NULL);
	drain(i, true, NULL, NULL);
	ikev2_tick(i, 100000); /* every timer of what is left */
	drain(i, true, NULL, NULL);
	if (ikev2_sa_count(i) > 1)
		abort();
	ikev2_engine_free(i);
	ikev2_engine_free(r);
	return 0;
}
