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
 *      the chain), sealed with the responder's keys;
 * its next bit (data[0] / 4 % 2) the IKE SA's suite (fuzz_ikev2_suites).
 * Nothing may crash or leak, every datagram sent must parse, the initiator
 * holds at most its one IKE SA, and whatever it installs is what it
 * offered: the IKE SA's algorithms and group, the child SA's algorithms,
 * and selectors within its own policy's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_ike_initiator.h"
#include "fuzz_ikev2_peer.h"

static uint8_t msg[IKE_MSG_MAX], work[IKE_MSG_MAX];

static void policy_init(void)
{
	initiator_policy_init(fuzz_ikev2_gcm_methods);
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
	policy.mm[0] = mirrored.mm[0] = fuzz_ikev2_suites[data[0] / 4 % 2];
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
