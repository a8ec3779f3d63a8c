/* fuzz_ikev1_initiator.c - libFuzzer target for the IKEv1 engine as an
 * initiator: what a responder (or anyone who sees the request) answers.
 * A real responder engine runs the exchange up to the answer replaced;
 * the first input byte picks it:
 *   0: Main Mode 2 (the chosen proposal) with the input's edits;
 *   1: Main Mode 4 (KE, nonce, NAT-D) with the input's edits;
 *   2: Quick Mode 2, decrypted, with the input's edits in the payloads
 *      after its HASH(2), which is computed again and the message
 *      encrypted again as the responder would: the proposal, nonce, IDs
 *      and notifies reach the code that checks them;
 *   3: Quick Mode 2 with the input as its payloads after a valid HASH(2)
 *      (first payload type, then the chain).
 * Nothing may crash or leak, every datagram sent must parse, the initiator
 * holds at most its one ISAKMP SA, and whatever it installs is what it
 * offered: the ISAKMP SA's suite and group, the child SA's algorithms, and
 * IDs within its policy's selectors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_ike_initiator.h"
#include "fuzz_ikev1_peer.h"
#include "ike_buf.h"
#include "ike_sk.h"
#include "ikev1_prf.h"
#include "ikev1_sa.h"

static uint8_t plain[IKE_MSG_MAX];

static void policy_init(void)
{
	initiator_policy_init(fuzz_ikev1_methods);
}

static void drain_checked(struct ikev1_engine *e)
{
	struct ikev2_event ev;

	while (ikev1_next_event(e, &ev)) {
		if (ev.kind == IKEV2_EV_SEND)
			fuzz_ikev1_check_sent(&ev, NULL, NULL);
		else
			check_installed(&ev);
		ikev2_event_release(&ev);
	}
}

/* The initiator's Quick Mode exchange that msg (its answer) belongs to. */
static struct ikev1_xchg *quick_mode(struct ikev1_sa *sa, uint32_t mid)
{
	for (int k = 0; sa != NULL && k < IKEV1_MAX_XCHG; k++)
		if (sa->xchg[k].kind == IKEV1_X_QUICK && sa->xchg[k].mid == mid)
			return &sa->xchg[k];
	return NULL;
}

/* The length of the payload chain at p (first payload first), within
 * len; 0 if it does not fit. */
static size_t chain_len(uint8_t first, const uint8_t *p, size_t len)
{
	size_t off = 0;

	for (uint8_t type = first; type != 0;) {
		size_t pl;

		if (off + 4 > len || (pl = ike_get16(p + off + 2)) < 4 || off + pl > len)
			return 0;
		type = p[off];
		off += pl;
	}
	return off;
}

/* Quick Mode 2 at msg (header kept from the real one) carrying HASH(2)
 * then rest (first: its first payload's type), encrypted with the IV the
 * initiator expects; its length, 0 if it cannot be. */
static size_t quick_mode_2(struct ikev1_sa *sa, struct ikev1_xchg *x, uint8_t first,
			   const uint8_t *rest, size_t rest_len)
{
	size_t hash = 4 + sa->keys.prf_len, ct_len, len;
	struct ikev1_iv next;

	if (hash + rest_len + IKE_BLOCK_MAX > sizeof(plain) || ISAKMP_HDR_LEN + hash + rest_len + IKE_BLOCK_MAX > sizeof(msg))
		return 0;
	memmove(plain + hash, rest, rest_len);
	plain[0] = first;
	plain[1] = 0;
	plain[2] = (uint8_t)(hash >> 8);
	plain[3] = (uint8_t)hash;
	if (ikev1_qm_hash2(&sa->keys, x->mid, IKE_CHUNK(x->ni, x->ni_len), IKE_CHUNK(plain + hash, rest_len),
			   plain + 4, NULL) ||
	    ikev1_encrypt(&sa->keys, &x->iv, plain, hash + rest_len, sizeof(plain), &ct_len, &next, NULL))
		return 0;
	memcpy(msg + ISAKMP_HDR_LEN, plain, ct_len);
	len = ISAKMP_HDR_LEN + ct_len;
	msg[24] = (uint8_t)(len >> 24);
	msg[25] = (uint8_t)(len >> 16);
	msg[26] = (uint8_t)(len >> 8);
	msg[27] = (uint8_t)len;
	return len;
}

/* The real Quick Mode 2 at msg (len bytes), opened with the initiator's
 * keys, its payloads after HASH(2) edited, made again; its length or 0. */
static size_t edited_quick_mode_2(struct ikev1_sa *sa, struct ikev1_xchg *x, size_t len,
				  const uint8_t *data, size_t size)
{
	size_t ct_len = len - ISAKMP_HDR_LEN, hash = 4 + sa->keys.prf_len, chain;
	struct ikev1_iv next;

	memcpy(plain, msg + ISAKMP_HDR_LEN, ct_len);
	if (ikev1_decrypt(&sa->keys, &x->iv, plain, ct_len, &next, NULL) != 0 ||
	    (chain = chain_len(msg[16], plain, ct_len)) <= hash)
		abort(); /* the real answer must open */
	apply_edits(plain, hash, chain, data, size);
	return quick_mode_2(sa, x, plain[0], plain + hash, chain - hash);
}

/* The initiator's answer for mode, at msg; its length, 0 for none. */
static size_t answer(uint8_t mode, struct ikev1_engine *i, struct ikev1_engine *r,
		     struct ikev2_sa_id *id, const uint8_t *data, size_t size)
{
	size_t len = 0;
	struct ikev1_sa *sa;
	struct ikev1_xchg *x;

	/* r's answers: Main Mode 2 after 1 message, 4 after 3, Quick Mode 2 after 7 */
	if (fuzz_ikev1_exchange(i, r, mode == 0 ? 1 : mode == 1 ? 3 : 7, id, &len))
		abort(); /* the real exchange must work */
	if (mode <= 1) {
		apply_edits(msg, ISAKMP_HDR_LEN, len, data, size);
		return len;
	}
	sa = ikev1_find_sa(i, id);
	if ((x = quick_mode(sa, ike_get32(msg + 20))) == NULL)
		abort();
	if (mode == 2)
		return edited_quick_mode_2(sa, x, len, data, size);
	return size < 1 ? 0 : quick_mode_2(sa, x, data[0], data + 1, size - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ikev1_engine *i, *r;
	struct ikev2_sa_id id;
	size_t len;

	if (size < 1)
		return 0;
	policy_init();
	i = fuzz_ikev1_engine(lookup);
	r = fuzz_ikev1_engine(lookup_mirrored);
	if (i == NULL || r == NULL)
		abort();
	len = answer(data[0] % 4, i, r, &id, data + 1, size - 1);
	if (len)
		ikev1_input(i, msg, len, &ep_i, &ep_r, 4, NULL);
	drain_checked(i);
	ikev1_tick(i, 100000000); /* every timer of what is left */
	drain_checked(i);
	if (ikev1_sa_count(i) > 1)
		abort();
	ikev1_engine_free(i);
	ikev1_engine_free(r);
	return 0;
}
