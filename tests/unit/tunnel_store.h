/* tunnel_store.h - the text of a policy store of many tunnels, for the
 * unit tests that drive dpsec-ctld with one and for bench/store_rate.c:
 * tunnel K's filter list lK (10.1.0.0/24 <-> a /24 of its own, both ways)
 * and a negotiate action "secure" (AES-128-GCM); with static SAs, rule rK
 * over lK carried by SA oK and decrypting iK. */
#ifndef TUNNEL_STORE_H
#define TUNNEL_STORE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* The start of a store of n tunnels into t (cap bytes): policy assigned,
 * the filter lists, the action, and policy's rule list opened (the caller
 * writes the rules and closes it with "); } );"). Returns the length. */
static inline size_t tunnel_store_head(char *t, size_t cap, const char *policy, int n)
{
	size_t len = (size_t)snprintf(t, cap, "assigned = \"%s\";\nfilter_lists = (\n", policy);

	for (int k = 0; k < n; k++)
		len += (size_t)snprintf(t + len, cap - len,
					"%s{ name = \"l%d\"; filters = ( { source = \"10.1.0.0/24\"; "
					"destination = \"10.%d.%d.0/24\"; protocol = \"any\"; "
					"mirrored = true; } ); }\n", k ? "," : "", k, 16 + k / 256, k % 256);
	len += (size_t)snprintf(t + len, cap - len,
				");\nfilter_actions = ( { name = \"secure\"; action = \"negotiate\"; "
				"methods = ( { protocol = \"esp\"; encryption = \"aes128gcm16\"; } ); } );\n"
				"policies = ( { name = \"%s\"; rules = (\n", policy);
	return len;
}

/* A store (policy "site") of n static tunnels, rules r0 and r1 with their
 * SAs exchanged when swapped; malloc'd, the caller frees it. */
static inline char *tunnel_store_static(int n, bool swapped)
{
	size_t cap = 4096 + (size_t)n * 1024, len;
	char *t = malloc(cap);

	if (t == NULL)
		abort();
	len = tunnel_store_head(t, cap, "site", n);
	for (int k = 0; k < n; k++) {
		int sa = swapped && k < 2 ? 1 - k : k;

		len += (size_t)snprintf(t + len, cap - len,
					"%s{ name = \"r%d\"; filter_list = \"l%d\"; filter_action = \"secure\"; "
					"tunnel_endpoint = \"192.0.2.2\"; authentication = ( { method = \"psk\"; "
					"psk = \"not-used-without-ike\"; } ); outbound_sa = \"o%d\"; "
					"inbound_sa = \"i%d\"; }\n", k ? "," : "", k, k, sa, sa);
	}
	len += (size_t)snprintf(t + len, cap - len, "); } );\nsecurity_associations = (\n");
	for (int k = 0; k < 2 * n; k++)
		len += (size_t)snprintf(t + len, cap - len,
					"%s{ name = \"%c%d\"; spi = %d; direction = \"%s\"; mode = \"tunnel\"; "
					"local = \"192.0.2.1\"; remote = \"192.0.2.2\"; "
					"encryption = \"aes128gcm16\"; encryption_key = "
					"\"0x%040x\"; }\n", k ? "," : "", (k & 1) ? 'i' : 'o', k / 2,
					0x10000 + k, (k & 1) ? "inbound" : "outbound", k + 1);
	snprintf(t + len, cap - len, ");\n");
	return t;
}

#endif
