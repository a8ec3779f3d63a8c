/* ike_child.h - a negotiated child SA (IKEv2 Child SA, IKEv1 Quick Mode SA)
 * as the control plane installs it: the inbound and outbound SAs as two
 * struct dpsec_sa_conf, keys cut from KEYMAT, its traffic selectors, its
 * lifetimes and the IKE SA it belongs to. Also the traffic selectors
 * themselves and their narrowing, which both IKE versions use. */
#ifndef IKE_CHILD_H
#define IKE_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpsec_model.h"
#include "ike_buf.h"
#include "ike_proposal.h"

#define IKE_MAX_TS 8 /* traffic selectors on each side of one child SA */

/* An address range, a protocol (0: any) and a port range: one traffic
 * selector (RFC 7296 §3.13.1). lo and hi have the same family. */
struct ike_ts {
	struct dpsec_addr lo, hi;
	uint8_t proto;
	uint16_t port_lo, port_hi;
};

struct ike_ts_set {
	uint8_t n;
	struct ike_ts ts[IKE_MAX_TS];
};

/* A prefix with any protocol and port: 10.0.0.0/8 is 10.0.0.0-10.255.255.255. */
struct ike_ts ike_ts_from_prefix(const struct dpsec_prefix *p);

/* The part of a that b also covers; false when they do not meet (other
 * family, protocol, or disjoint ranges). */
bool ike_ts_intersect(const struct ike_ts *a, const struct ike_ts *b, struct ike_ts *out);

/* Is a inside b? */
bool ike_ts_within(const struct ike_ts *a, const struct ike_ts *b);

/* Responder narrowing (RFC 7296 §2.9): every non-empty intersection of a
 * proposed selector with one the policy allows, at most IKE_MAX_TS; 0, or
 * -ENOENT when nothing remains (TS_UNACCEPTABLE). */
int ike_ts_narrow(const struct ike_ts_set *proposed, const struct ike_ts_set *allowed,
		  struct ike_ts_set *out);

/* Is every selector of got inside one of asked (what the initiator checks
 * of the responder's answer)? */
bool ike_ts_set_within(const struct ike_ts_set *got, const struct ike_ts_set *asked);

/* "10.1.0.0-10.1.255.255 proto 0 ports 0-65535" for logs. */
void ike_ts_describe(const struct ike_ts *t, char *buf, size_t cap);

/* The result of one negotiation. Holds keys: ike_child_wipe() when done. */
struct ike_child {
	uint8_t protocol;              /* IKE_PROTO_ESP or IKE_PROTO_AH */
	struct dpsec_sa_conf in, out;  /* SPIs, keys, mode, ESN, addresses */
	struct ike_ts_set ts_local;    /* our side's selectors (as narrowed) */
	struct ike_ts_set ts_remote;   /* the peer's side */
	struct ike_qm_method method;   /* as chosen: algorithms, PFS group, lifetimes */
	uint8_t ike_spi_i[8], ike_spi_r[8]; /* the IKE SA it belongs to */
	bool udp_encap;                /* a NAT is between the peers: ESP in UDP (RFC 3948) */
	uint16_t local_port, remote_port; /* of the IKE SA, the UDP ports ESP goes between then */
	uint32_t rekeys_spi;           /* inbound SPI of the child SA this one replaces; 0: new */
	bool initiator;                /* we started the exchange that made it */
};

/* Which SA comes first in KEYMAT: RFC 7296 §2.17 takes the keys of the
 * initiator-to-responder SA first, each encryption key then integrity key. */
struct ike_child_keys_in {
	const uint8_t *keymat;   /* 2 * (encryption + integrity) bytes */
	size_t len;
	bool initiator;          /* our role in the exchange that made the SA */
	uint32_t spi_in, spi_out;
	const struct dpsec_addr *local, *remote;
	bool transport;
};

/* Keying material length of a method: both directions' keys. */
size_t ike_child_keymat_len(const struct ike_qm_method *m);

/* Fills c->in and c->out from KEYMAT for c->method: the initiator's outbound
 * keys are the first half, its inbound keys the second; a GCM SA's salt is
 * the last 4 bytes of its encryption key material (RFC 4106 §8.1).
 * -EINVAL when the KEYMAT is shorter than the method needs. */
int ike_child_set_keys(struct ike_child *c, const struct ike_child_keys_in *in,
		       struct ike_err *err);

/* A child SA on the heap: what was agreed from tmpl (everything but the
 * keys), the keys from in. NULL with err filled (no memory, KEYMAT too
 * short); nothing is left behind then. */
struct ike_child *ike_child_make(const struct ike_child *tmpl, const struct ike_child_keys_in *in,
				 struct ike_err *err);

/* Zeroes the keys (the whole struct; OPENSSL_cleanse). */
void ike_child_wipe(struct ike_child *c);

#define IKE_SA_MAX_CHILDREN 16 /* child SAs one IKE SA holds */

/* A child SA as its IKE SA remembers it, without keys (they left in the
 * CHILD_UP event), and the set of them an IKE SA holds. */
struct ike_child_rec {
	uint8_t protocol;
	uint32_t spi_in, spi_out;
	struct ike_qm_method method;
	bool transport;
	bool replaced; /* IKEv2: rekeyed, by us (its DELETE follows) or by the peer (whose
			* DELETE will come); not to be rekeyed again */
};

struct ike_child_recs {
	uint8_t n;
	struct ike_child_rec rec[IKE_SA_MAX_CHILDREN];
};

/* By our inbound or the peer's (our outbound) SPI; NULL if none. */
struct ike_child_rec *ike_child_recs_by_in(struct ike_child_recs *s, uint32_t spi_in);
struct ike_child_rec *ike_child_recs_by_out(struct ike_child_recs *s, uint32_t spi_out);
/* -ENOSPC when IKE_SA_MAX_CHILDREN are held. */
int ike_child_recs_add(struct ike_child_recs *s, const struct ike_child_rec *c);
void ike_child_recs_remove(struct ike_child_recs *s, struct ike_child_rec *c);

#endif
