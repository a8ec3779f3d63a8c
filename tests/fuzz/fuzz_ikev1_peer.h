/* fuzz_ikev1_peer.h - what the two IKEv1 engine fuzz targets (responder,
 * initiator) share: the policy's methods, an engine with a fixed ECP-256
 * key, datagrams sent checked to parse as ISAKMP, and the exchange run
 * between two real engines up to the message a target replaces. */
#ifndef FUZZ_IKEV1_PEER_H
#define FUZZ_IKEV1_PEER_H

#include <stdlib.h>
#include <string.h>

#include "fuzz_ike_policy.h"
#include "ike_dh.h"
#include "ikev1.h"
#include "isakmp_msg.h"

static const uint8_t fuzz_v1_dh_private[32] = { 0x5d, 0xab, 0x08, 0x7e, 0x62, 0x4a, 0x8a, 0x4b,
						0x79, 0xe1, 0x7f, 0x8b, 0x83, 0x80, 0x0e, 0xe6 };
static uint8_t msg[IKE_MSG_MAX];

/* Main Mode AES-CBC-128, SHA-256, ECP-256; Quick Mode ESP AES-CBC-128
 * with HMAC-SHA-256-128. */
static inline void fuzz_ikev1_methods(struct ikev2_peer *p)
{
	p->n_mm = 1;
	p->mm[0] = (struct ike_mm_method){
		{ IKE_ENCR_AES_CBC, 128, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256 }, IKE_DH_ECP_256 };
	p->n_qm = 1;
	p->qm[0] = (struct ike_qm_method){ IKE_PROTO_ESP, DPSEC_ENC_AES_CBC, 16,
					   DPSEC_INTEG_HMAC_SHA256_128, 0, false, 3600, 100000 };
}

/* An engine whose policies come from lookup_fn; ECP-256 with a fixed key
 * (the test hook): enough here. */
static inline struct ikev1_engine *
fuzz_ikev1_engine(int (*lookup_fn)(void *, const struct ikev2_lookup *, struct ikev2_peer *))
{
	struct ikev1_conf c;

	ikev1_conf_default(&c);
	c.lookup = lookup_fn;
	c.test_dh_private = fuzz_v1_dh_private;
	c.test_dh_private_len = sizeof(fuzz_v1_dh_private);
	return ikev1_engine_new(&c, NULL);
}

/* A datagram the engine sent must parse as ISAKMP; copied to last when
 * given. */
static inline void fuzz_ikev1_check_sent(const struct ikev2_event *ev, uint8_t *last, size_t *last_len)
{
	struct isakmp_msg m;

	if (isakmp_msg_parse(ev->send.data, ev->send.len, &m, NULL) != 0)
		abort();
	if (last) {
		memcpy(last, ev->send.data, ev->send.len);
		*last_len = ev->send.len;
	}
}

/* Events taken and released; a send must parse. *last gets the last one. */
static inline void fuzz_ikev1_drain(struct ikev1_engine *e, uint8_t *last, size_t *last_len)
{
	struct ikev2_event ev;

	while (ikev1_next_event(e, &ev)) {
		if (ev.kind == IKEV2_EV_SEND)
			fuzz_ikev1_check_sent(&ev, last, last_len);
		ikev2_event_release(&ev);
	}
}

/* i starts with policy; then n messages of Main Mode (and Quick Mode)
 * between i and r, alternating from r; the last one sent in msg (*len). */
static inline int fuzz_ikev1_exchange(struct ikev1_engine *i, struct ikev1_engine *r, int n,
				      struct ikev2_sa_id *id, size_t *len)
{
	if (ikev1_initiate(i, &policy, &ep_i, &ep_r, 0, id, NULL))
		return -1;
	fuzz_ikev1_drain(i, msg, len);
	for (int k = 0; k < n; k++) {
		struct ikev1_engine *to = k % 2 ? i : r;

		if (ikev1_input(to, msg, *len, k % 2 ? &ep_i : &ep_r, k % 2 ? &ep_r : &ep_i, 1, NULL))
			return -1;
		fuzz_ikev1_drain(to, msg, len);
		if (k == 0)
			memcpy(id->spi_r, msg + 8, 8);
	}
	return 0;
}

#endif
