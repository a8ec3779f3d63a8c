/* fuzz_ikev1_responder.c - libFuzzer target for the IKEv1 engine as a
 * responder. The first input byte picks what the rest is:
 *   0: a first message from anyone, to a fresh responder;
 *   1: a message after Main Mode 1 to 4, its cookies set to the SA's, so
 *      that it reaches Main Mode 5's decryption and authentication;
 *   2: the contents of a Phase 2 message on an established SA (next byte:
 *      Quick Mode or Informational, then the first payload type and the
 *      chain), with a valid HASH(1) put first and encrypted with the SA's
 *      keys and IV, so that the exchange code itself reads the payloads.
 * Nothing may crash or leak (ASan's leak check); every datagram the
 * engine sends must parse as ISAKMP. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_ikev1_peer.h"
#include "ike_sk.h"
#include "ikev1_prf.h"
#include "ikev1_sa.h"

static void policy_init(void)
{
	if (policy_common())
		fuzz_ikev1_methods(&policy);
}

/* data (exchange selector, first payload type, chain) as a Phase 2
 * message of the SA, HASH(1) first, encrypted as the peer would. */
static size_t phase2(struct ikev1_engine *r, const struct ikev2_sa_id *id, const uint8_t *data,
		     size_t size)
{
	struct isakmp_hdr h = { .version = ISAKMP_VERSION, .flags = ISAKMP_FLAG_E, .msg_id = 0x1234 };
	struct ikev1_sa *sa = ikev1_find_sa(r, id);
	static uint8_t plain[IKE_MSG_MAX];
	struct isakmp_builder b;
	struct ikev1_iv iv;
	size_t ct_len, len, n = sa ? 4 + sa->keys.prf_len : 0;
	uint8_t *ct;

	if (sa == NULL || size < 2 || size > 4096)
		return 0;
	h.exchange = data[0] & 1 ? ISAKMP_INFORMATIONAL : ISAKMP_QUICK_MODE;
	memcpy(h.icookie, id->spi_i, 8);
	memcpy(h.rcookie, id->spi_r, 8);
	plain[0] = data[1];
	plain[1] = 0;
	plain[2] = (uint8_t)(n >> 8);
	plain[3] = (uint8_t)n;
	memcpy(plain + n, data + 2, size - 2);
	if (ikev1_qm_hash1(&sa->keys, h.msg_id, IKE_CHUNK(plain + n, size - 2), plain + 4, NULL) ||
	    ikev1_phase2_iv(&sa->keys, &sa->p1_iv, h.msg_id, &iv, NULL))
		return 0;
	ct_len = ikev1_ct_len(&sa->keys, n + size - 2);
	isakmp_build_begin(&b, msg, sizeof(msg), &h);
	ct = isakmp_build_ciphertext(&b, ISAKMP_PL_HASH, ct_len);
	if (ct == NULL || isakmp_build_end(&b, &len, NULL))
		return 0;
	memcpy(ct, plain, n + size - 2);
	return ikev1_encrypt(&sa->keys, &iv, ct, n + size - 2, ct_len, &ct_len, &iv, NULL) ? 0 : len;
}

static void later_message(uint8_t mode, const uint8_t *data, size_t size)
{
	struct ikev1_engine *i = fuzz_ikev1_engine(lookup), *r = fuzz_ikev1_engine(lookup);
	struct ikev2_sa_id id;
	size_t len = 0;

	if (i && r && fuzz_ikev1_exchange(i, r, mode == 1 ? 4 : 6, &id, &len) == 0) {
		len = 0;
		if (mode == 1 && size >= 16 && size <= sizeof(msg)) {
			memcpy(msg, data, size);
			memcpy(msg, &id, 16);
			len = size;
		} else if (mode == 2) {
			len = phase2(r, &id, data, size);
		}
		if (len)
			ikev1_input(r, msg, len, &ep_r, &ep_i, 3, NULL);
		fuzz_ikev1_drain(r, NULL, NULL);
		ikev1_tick(r, 100000000); /* every timer of what is left */
		fuzz_ikev1_drain(r, NULL, NULL);
	}
	fuzz_ikev1_drain(i, NULL, NULL);
	ikev1_engine_free(i);
	ikev1_engine_free(r);
}

/* A fresh responder takes data as a first message: at most one SA results. */
static void first_message(const uint8_t *data, size_t size)
{
	struct ikev1_engine *r = fuzz_ikev1_engine(lookup);

	if (r == NULL)
		abort();
	ikev1_input(r, data, size, &ep_r, &ep_i, 0, NULL);
	fuzz_ikev1_drain(r, NULL, NULL);
	if (ikev1_sa_count(r) > 1)
		abort();
	ikev1_engine_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	policy_init();
	switch (data[0] % 3) {
	case 0:
		first_message(data + 1, size - 1);
		break;
	default:
		later_message(data[0] % 3, data + 1, size - 1);
		break;
	}
	return 0;
}
