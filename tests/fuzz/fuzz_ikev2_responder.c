/* fuzz_ikev2_responder.c - libFuzzer target for the IKEv2 engine as a
 * responder. The first input byte picks what the rest is:
 *   0: a first message from anyone, to a fresh responder;
 *   1: a second message after a valid IKE_SA_INIT, its SPIs set to the
 *      half-open SA's so that it reaches the window and integrity checks;
 *   2: the decrypted contents of an IKE_AUTH request (first payload type,
 *      then the chain), sealed with the SA's real keys, so that the
 *      exchange code itself reads them.
 * The first byte's next bit (data[0] / 3 % 2) picks the IKE SA's suite
 * (fuzz_ikev2_suites). Nothing may crash or leak (ASan's leak check), and
 * whatever the engine does with the input, the SAs, events and counters
 * stay consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_ike_policy.h"
#include "fuzz_ikev2_peer.h"

static uint8_t msg[IKE_MSG_MAX];

static void policy_init(void)
{
	if (policy_common())
		fuzz_ikev2_gcm_methods(&policy);
}

/* Events are taken and released; a send must parse. *last receives the
 * last datagram. */
static void drain(struct ikev2_engine *e, uint8_t *last, size_t *last_len)
{
	struct ikev2_event ev;

	while (ikev2_next_event(e, &ev)) {
		if (ev.kind == IKEV2_EV_SEND)
			fuzz_ikev2_check_sent(&ev, last, last_len);
		ikev2_event_release(&ev);
	}
}

/* The IKE_SA_INIT exchange between i and r; the SA id, r half-open. */
static int handshake(struct ikev2_engine *i, struct ikev2_engine *r, struct ikev2_sa_id *id)
{
	size_t len = 0;

	if (ikev2_initiate(i, &policy, &ep_i, &ep_r, 0, id, NULL))
		return -1;
	drain(i, msg, &len);
	if (ikev2_input(r, msg, len, &ep_r, &ep_i, 1, NULL))
		return -1;
	drain(r, msg, &len);
	memcpy(id->spi_r, msg + 8, 8);
	if (ikev2_input(i, msg, len, &ep_i, &ep_r, 2, NULL))
		return -1;
	drain(i, NULL, NULL);
	return 0;
}

/* data as the contents of an IKE_AUTH request sealed with i's keys. */
static size_t sealed(struct ikev2_engine *i, const struct ikev2_sa_id *id, const uint8_t *data,
		     size_t size)
{
	if (size < 1)
		return 0;
	return fuzz_ikev2_sealed_auth(i, id, IKEV2_FLAG_I, data[0], data + 1, size - 1, msg, sizeof(msg));
}

static void second_message(uint8_t mode, const uint8_t *data, size_t size)
{
	struct ikev2_engine *i = fuzz_ikev2_engine(lookup), *r = fuzz_ikev2_engine(lookup);
	struct ikev2_sa_id id;
	size_t len = 0;

	if (i && r && handshake(i, r, &id) == 0) {
		if (mode == 1 && size >= 16 && size <= sizeof(msg)) {
			memcpy(msg, data, size);
			memcpy(msg, &id, 16);
			len = size;
		} else if (mode == 2) {
			len = sealed(i, &id, data, size);
		}
		if (len)
			ikev2_input(r, msg, len, &ep_r, &ep_i, 3, NULL);
		drain(r, NULL, NULL);
		ikev2_tick(r, 100000); /* every timer of what is left */
		drain(r, NULL, NULL);
	}
	ikev2_engine_free(i);
	ikev2_engine_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ikev2_engine *r;

	if (size < 1)
		return 0;
	policy_init();
	policy.mm[0] = fuzz_ikev2_suites[data[0] / 3 % 2];
	if (data[0] % 3 != 0) {
		second_message(data[0] % 3, data + 1, size - 1);
		return 0;
	}
	r = fuzz_ikev2_engine(lookup);
	if (r == NULL)
		abort();
	ikev2_input(r, data + 1, size - 1, &ep_r, &ep_i, 0, NULL);
	drain(r, NULL, NULL);
	if (ikev2_sa_count(r) > 1 || ikev2_half_open_count(r) > ikev2_sa_count(r))
		abort();
	ikev2_engine_free(r);
	return 0;
}
