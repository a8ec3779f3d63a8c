/* fuzz_ikev2_responder.c - libFuzzer target for the IKEv2 engine as a
 * responder. The first input byte picks what the rest is:
 *   0: a first message from anyone, to a fresh responder;
 *   1: a second message after a valid IKE_SA_INIT, its SPIs set to the
 *      half-open SA's so that it reaches the window and integrity checks;
 *   2: the decrypted contents of an IKE_AUTH request (first payload type,
 *      then the chain), sealed with the SA's real keys, so that the
 *      exchange code itself reads them.
 * Nothing may crash or leak (ASan's leak check), and whatever the engine
 * does with the input, the SAs, events and counters stay consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_ike_policy.h"
#include "ike_sk.h"
#include "ikev2.h"
#include "ikev2_msg.h"
#include "ikev2_sa.h"

static const uint8_t fixed_priv[32] = { 0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d,
					0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2, 0x66, 0x45 };
static uint8_t msg[IKE_MSG_MAX];

static void policy_init(void)
{
	if (!policy_common())
		return;
	policy.n_mm = 1;
	policy.mm[0] = (struct ike_mm_method){
		{ IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256 }, 31 };
	policy.n_qm = 1;
	policy.qm[0] = (struct ike_qm_method){ IKE_PROTO_ESP, DPSEC_ENC_AES_GCM_16, 16 };
}

static struct ikev2_engine *engine(void)
{
	struct ikev2_conf c;

	ikev2_conf_default(&c);
	c.lookup = lookup;
	c.test_dh_private = fixed_priv; /* Curve25519 with a fixed key: fast, and enough here */
	c.test_dh_private_len = sizeof(fixed_priv);
	return ikev2_engine_new(&c, NULL);
}

/* Events are taken and released; a send is checked to be an IKEv2 message
 * the engine itself parses. *last receives the last datagram. */
static void drain(struct ikev2_engine *e, uint8_t *last, size_t *last_len)
{
	struct ikev2_event ev;
	struct ikev2_msg m;

	while (ikev2_next_event(e, &ev)) {
		if (ev.kind == IKEV2_EV_SEND) {
			if (ikev2_msg_parse(ev.send.data, ev.send.len, &m, NULL) != 0)
				abort();
			if (last) {
				memcpy(last, ev.send.data, ev.send.len);
				*last_len = ev.send.len;
			}
		}
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
	struct ikev2_hdr h = { .version = IKEV2_VERSION, .exchange = IKEV2_IKE_AUTH,
			       .flags = IKEV2_FLAG_I, .msg_id = 1 };
	struct ikev2_sa *sa = ikev2_find_sa(i, id);
	struct ikev2_sk_space sp;
	struct ikev2_builder b;
	size_t len;

	if (sa == NULL || size < 1 || size > 4096)
		return 0;
	memcpy(h.spi_i, id->spi_i, 8);
	memcpy(h.spi_r, id->spi_r, 8);
	ikev2_build_begin(&b, msg, sizeof(msg), &h);
	ikev2_build_sk(&b, data[0], NULL, sa->keys.iv_len, ikev2_sk_ct_len(&sa->keys, size - 1),
		       sa->keys.icv_len, &sp);
	if (ikev2_build_end(&b, &len, NULL))
		return 0;
	memcpy(sp.ct, data + 1, size - 1);
	return ikev2_sk_seal(&sa->keys, msg, len, sp.aad_len, size - 1, NULL) ? 0 : len;
}

static void second_message(uint8_t mode, const uint8_t *data, size_t size)
{
	struct ikev2_engine *i = engine(), *r = engine();
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
	if (data[0] % 3 != 0) {
		second_message(data[0] % 3, data + 1, size - 1);
		return 0;
	}
	r = engine();
	if (r == NULL)
		abort();
	ikev2_input(r, data + 1, size - 1, &ep_r, &ep_i, 0, NULL);
	drain(r, NULL, NULL);
	if (ikev2_sa_count(r) > 1 || ikev2_half_open_count(r) > ikev2_sa_count(r))
		abort();
	ikev2_engine_free(r);
	return 0;
}
