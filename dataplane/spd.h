/* spd.h - the security policy database: a policy's rules compiled into two
 * DPDK rte_acl contexts (IPv4, IPv6) that answer "which rule does this packet
 * match first" for a burst of packets. Built off the fast path; read-only
 * afterwards, so any number of lcores may look up at once. */
#ifndef DP_SPD_H
#define DP_SPD_H

#include <stddef.h>
#include <stdint.h>

#include "dpsec_model.h"

#define DP_SPD_NO_MATCH UINT32_MAX
#define DP_SPD_NAME_MAX 28 /* the context names add "_v4", "_v6" */

/* Search keys the dataplane fills from each packet: addresses and ports in
 * network byte order as on the wire, ports 0 for protocols without ports.
 * The layout is what the ACL reads: a one-byte first field, then groups of
 * four bytes. The pad bytes are never read. */
struct dp_spd_key4 {
	uint8_t proto;
	uint8_t pad[3];
	uint8_t src[4];
	uint8_t dst[4];
	uint16_t sport;
	uint16_t dport;
};

struct dp_spd_key6 {
	uint8_t proto;
	uint8_t pad[3];
	uint8_t src[16];
	uint8_t dst[16];
	uint16_t sport;
	uint16_t dport;
};

struct dp_spd;

/* Compiles rules into an SPD. A packet matches the first rule in this order:
 * exemptions (DPSEC_RULE_EXEMPT), then tunnel rules, then transport rules;
 * within each, lower priority value first, then lower id, then array order. A filter with proto 0
 * matches any protocol; a mirrored filter also matches with source and
 * destination (prefixes and ports) swapped. Each filter goes into the context
 * of its family. name (at most DP_SPD_NAME_MAX characters) must be unique
 * among live SPDs. max_bytes: the most memory one family's classifier may
 * take (rte_acl's runtime tables; 0: no limit). Returns NULL with a message
 * in err on failure. */
struct dp_spd *dp_spd_build(const char *name, const struct dpsec_rule *rules, uint32_t n_rules,
			    int socket_id, size_t max_bytes, char *err, size_t errlen);

void dp_spd_free(struct dp_spd *spd);

/* Checks what the SPD needs of one filter that came from outside (the
 * mirrored flag a 0 or 1 byte, families agree, prefix lengths, port
 * ranges). Returns 0, or -1 with the problem in err. */
int dp_spd_filter_check(const struct dpsec_filter *f, char *err, size_t errlen);

/* results[i]: index into the rules given to dp_spd_build() of the first rule
 * keys[i] matches, or DP_SPD_NO_MATCH. */
void dp_spd_lookup4(const struct dp_spd *spd, const struct dp_spd_key4 *const keys[],
		    uint32_t results[], uint32_t n);
void dp_spd_lookup6(const struct dp_spd *spd, const struct dp_spd_key6 *const keys[],
		    uint32_t results[], uint32_t n);

/* ACL entries in both contexts, mirrored copies included. */
uint32_t dp_spd_entry_count(const struct dp_spd *spd);

#endif
