/* fuzz_ikev2_peer.h - what the IKEv2 engine fuzz targets (responder,
 * initiator, rekey) share: an engine with a fixed Curve25519 key, datagrams sent
 * checked to parse, and message contents (IKE_AUTH, CREATE_CHILD_SA)
 * sealed with an SA's real keys, so that the fuzzed payloads reach the
 * exchange code behind the integrity check. */
#ifndef FUZZ_IKEV2_PEER_H
#define FUZZ_IKEV2_PEER_H

#include <stdlib.h>
#include <string.h>

#include "ike_sk.h"
#include "ikev2.h"
#include "ikev2_msg.h"
#include "ikev2_sa.h"

static const uint8_t fuzz_dh_private[32] = { 0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d,
					     0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2, 0x66, 0x45 };

/* The IKE SA suites, with Curve25519, that an input's suite bit picks
 * between: AES-GCM-16 (an AEAD SK payload, RFC 5282) and AES-CBC with
 * AES-XCBC-MAC-96 and PRF_AES128_XCBC (the SK payload's separate ICV, and
 * the AES MACs' key rules in the key schedule). */
static const struct ike_mm_method fuzz_ikev2_suites[2] = {
	{ { IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256 }, IKE_DH_CURVE25519 },
	{ { IKE_ENCR_AES_CBC, 128, IKE_INTEG_AES_XCBC_96, IKE_PRF_AES128_XCBC }, IKE_DH_CURVE25519 },
};

/* The methods both targets' policies offer: the first suite for the IKE
 * SA, AES-GCM-16 ESP for the child. */
static inline void fuzz_ikev2_gcm_methods(struct ikev2_peer *p)
{
	p->n_mm = 1;
	p->mm[0] = fuzz_ikev2_suites[0];
	p->n_qm = 1;
	p->qm[0] = (struct ike_qm_method){ IKE_PROTO_ESP, DPSEC_ENC_AES_GCM_16, 16 };
}

/* An engine whose policies come from lookup_fn; Curve25519 with a fixed
 * key (the test hook): fast, and enough here. */
static inline struct ikev2_engine *
fuzz_ikev2_engine(int (*lookup_fn)(void *, const struct ikev2_lookup *, struct ikev2_peer *))
{
	struct ikev2_conf c;

	ikev2_conf_default(&c);
	c.lookup = lookup_fn;
	c.test_dh_private = fuzz_dh_private;
	c.test_dh_private_len = sizeof(fuzz_dh_private);
	return ikev2_engine_new(&c, NULL);
}

/* A datagram the engine sent must be an IKEv2 message it parses itself;
 * copied to last when given. */
static inline void fuzz_ikev2_check_sent(const struct ikev2_event *ev, uint8_t *last, size_t *last_len)
{
	struct ikev2_msg m;

	if (ikev2_msg_parse(ev->send.data, ev->send.len, &m, NULL) != 0)
		abort();
	if (last) {
		memcpy(last, ev->send.data, ev->send.len);
		*last_len = ev->send.len;
	}
}

/* inner (its first payload's type, then the chain) as a message of
 * exchange with message ID msg_id on e's SA id, a request (flags with
 * IKEV2_FLAG_I from the SA's original initiator) or a response
 * (IKEV2_FLAG_R), sealed with that SA's keys into out; its length, 0 if
 * it cannot be. */
static inline size_t fuzz_ikev2_sealed(struct ikev2_engine *e, const struct ikev2_sa_id *id,
				       uint8_t exchange, uint32_t msg_id, uint8_t flags, uint8_t first,
				       const uint8_t *inner, size_t inner_len, uint8_t *out, size_t cap)
{
	struct ikev2_hdr h = { .version = IKEV2_VERSION, .exchange = exchange, .flags = flags,
			       .msg_id = msg_id };
	struct ikev2_sa *sa = ikev2_find_sa(e, id);
	struct ikev2_sk_space sp;
	struct ikev2_builder b;
	size_t len;

	if (sa == NULL || inner_len > 4096)
		return 0;
	memcpy(h.spi_i, id->spi_i, 8);
	memcpy(h.spi_r, id->spi_r, 8);
	ikev2_build_begin(&b, out, cap, &h);
	ikev2_build_sk(&b, first, NULL, sa->keys.iv_len, ikev2_sk_ct_len(&sa->keys, inner_len),
		       sa->keys.icv_len, &sp);
	if (ikev2_build_end(&b, &len, NULL))
		return 0;
	memcpy(sp.ct, inner, inner_len);
	return ikev2_sk_seal(&sa->keys, out, len, sp.aad_len, inner_len, NULL) ? 0 : len;
}

/* The IKE_AUTH message (message ID 1) of fuzz_ikev2_sealed(). */
static inline size_t fuzz_ikev2_sealed_auth(struct ikev2_engine *e, const struct ikev2_sa_id *id,
					    uint8_t flags, uint8_t first, const uint8_t *inner,
					    size_t inner_len, uint8_t *out, size_t cap)
{
	return fuzz_ikev2_sealed(e, id, IKEV2_IKE_AUTH, 1, flags, first, inner, inner_len, out, cap);
}

#endif
