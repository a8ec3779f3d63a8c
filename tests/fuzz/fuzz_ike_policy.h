/* fuzz_ike_policy.h - what the IKE engine fuzz targets share: the two
 * endpoints, a policy for any IPv4 traffic with pre-shared key "fuzz"
 * (each target adds its methods), and the lookup that gives it. */
#ifndef FUZZ_IKE_POLICY_H
#define FUZZ_IKE_POLICY_H

#include "ikev2.h"

static struct ikev2_peer policy;
static const struct ike_endpoint ep_i = { { DPSEC_AF_INET, { 192, 0, 2, 1 } }, 500 };
static const struct ike_endpoint ep_r = { { DPSEC_AF_INET, { 198, 51, 100, 1 } }, 500 };

static int lookup(void *ctx, const struct ikev2_lookup *q, struct ikev2_peer *out)
{
	(void)ctx;
	(void)q;
	*out = policy;
	return 0;
}

/* Identity, key and selectors; false when policy was filled before. */
static bool policy_common(void)
{
	struct dpsec_prefix any = { { DPSEC_AF_INET }, 0 };
	static const char psk[] = "fuzz";

	if (policy.n_mm)
		return false;
	ike_id_fqdn(&policy.local_id, "fuzz.example", NULL);
	ike_auth_psk(&policy.local_auth, (const uint8_t *)psk, sizeof(psk) - 1, NULL);
	ike_auth_psk(&policy.remote_auth, (const uint8_t *)psk, sizeof(psk) - 1, NULL);
	policy.ts_local.n = policy.ts_remote.n = 1;
	policy.ts_local.ts[0] = policy.ts_remote.ts[0] = ike_ts_from_prefix(&any);
	return true;
}

#endif
