/* fuzz_ike_initiator.h - what the IKEv2 and IKEv1 initiator fuzz targets
 * share: a policy protecting 10.1.0.0/16 to 10.2.0.0/16 and its mirror
 * image for the real responder, the edits a target makes in a real
 * answer, and the check that what the initiator installs is what it
 * offered. */
#ifndef FUZZ_IKE_INITIATOR_H
#define FUZZ_IKE_INITIATOR_H

#include <stdlib.h>
#include <string.h>

#include "fuzz_ike_policy.h"

static struct ikev2_peer mirrored; /* the responder's side of policy */

/* policy (its methods set by methods()) and its mirror image, so that the
 * real exchange succeeds. */
static inline void initiator_policy_init(void (*methods)(struct ikev2_peer *))
{
	struct dpsec_prefix lan = { { DPSEC_AF_INET, { 10, 1 } }, 16 };
	struct dpsec_prefix far = { { DPSEC_AF_INET, { 10, 2 } }, 16 };

	if (!policy_common())
		return;
	methods(&policy);
	policy.ts_local.ts[0] = ike_ts_from_prefix(&lan);
	policy.ts_remote.ts[0] = ike_ts_from_prefix(&far);
	mirrored = policy;
	mirrored.ts_local = policy.ts_remote;
	mirrored.ts_remote = policy.ts_local;
}

static inline int lookup_mirrored(void *ctx, const struct ikev2_lookup *q, struct ikev2_peer *out)
{
	(void)ctx;
	(void)q;
	*out = mirrored;
	return 0;
}

static inline bool ts_equal(const struct ike_ts *a, const struct ike_ts *b)
{
	return memcmp(&a->lo, &b->lo, sizeof(a->lo)) == 0 && memcmp(&a->hi, &b->hi, sizeof(a->hi)) == 0 &&
	       a->proto == b->proto && a->port_lo == b->port_lo && a->port_hi == b->port_hi;
}

/* Whether every selector of got lies within want's one. */
static inline bool ts_within(const struct ike_ts_set *got, const struct ike_ts *want)
{
	struct ike_ts part;

	for (uint8_t i = 0; i < got->n; i++)
		if (!ike_ts_intersect(&got->ts[i], want, &part) || !ts_equal(&part, &got->ts[i]))
			return false;
	return got->n > 0;
}

/* What the initiator installs must be what it offered: the IKE SA's
 * suite and group, the child SA's algorithms, selectors within its
 * policy's. */
static inline void check_installed(const struct ikev2_event *ev)
{
	const struct ike_child *c = ev->child;
	const struct ike_qm_method *q = &policy.qm[0];

	if (ev->kind == IKEV2_EV_IKE_UP && memcmp(&ev->up.mm, &policy.mm[0], sizeof(policy.mm[0])) != 0)
		abort();
	if (ev->kind != IKEV2_EV_CHILD_UP)
		return;
	if (c->protocol != q->protocol || c->method.enc_alg != q->enc_alg ||
	    c->method.enc_key_len != q->enc_key_len || c->method.integ_alg != q->integ_alg ||
	    c->method.dh_group != q->dh_group || c->method.esn != q->esn)
		abort();
	if (!ts_within(&c->ts_local, &policy.ts_local.ts[0]) || !ts_within(&c->ts_remote, &policy.ts_remote.ts[0]))
		abort();
}

/* XORs the edits (offset high, offset low, value) into buf[from, len). */
static inline void apply_edits(uint8_t *buf, size_t from, size_t len, const uint8_t *data, size_t size)
{
	if (len <= from)
		return;
	for (size_t k = 0; k + 3 <= size; k += 3)
		buf[from + ((size_t)data[k] << 8 | data[k + 1]) % (len - from)] ^= data[k + 2];
}

#endif
