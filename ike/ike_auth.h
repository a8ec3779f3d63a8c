/* ike_auth.h - identities and the authentication interface the exchanges
 * call, shared by IKEv2 and IKEv1.
 *
 * The exchange computes what is to be authenticated (for IKEv2 the
 * InitiatorSignedOctets / ResponderSignedOctets of RFC 7296 §2.15) and
 * hands it to a struct ike_auth_conf: an implementation (ops) and its
 * context. The pre-shared key one is here; the certificate one
 * (ike_auth_cert.c, ike_cert.h) has ops->make signed by the key process,
 * which alone holds the private keys and never parses network input
 * (STYLE.md, iked), and ops->check validate the peer's chain, identity
 * and signature; its certs / certreq ops give the CERT and CERTREQ
 * payloads (certreq_dns IKEv1's). */
#ifndef IKE_AUTH_H
#define IKE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg_store.h"
#include "dpsec_model.h"
#include "ike_buf.h"
#include "ikecr.h"

#define IKE_ID_MAX 256 /* bytes of an identity's data */

/* An identity as carried in IKEv2's IDi/IDr (RFC 7296 §3.5): an IPv4 or
 * IPv6 address, an FQDN, an RFC 822 address or a DER-encoded DN. */
struct ike_id {
	uint8_t type; /* enum ikev2_id_type; 0: none given ("any" when expected) */
	uint16_t len;
	uint8_t data[IKE_ID_MAX];
};

/* Each returns 0, or -EINVAL with a sentence naming the problem (an empty
 * or too long name, a family that is not IPv4 or IPv6). */
int ike_id_addr(struct ike_id *id, const struct dpsec_addr *a, struct ike_err *err);
int ike_id_fqdn(struct ike_id *id, const char *fqdn, struct ike_err *err);
int ike_id_rfc822(struct ike_id *id, const char *email, struct ike_err *err);
int ike_id_der_dn(struct ike_id *id, const uint8_t *der, size_t len, struct ike_err *err);

/* Same type and bytes. An expected id of type 0 matches any. */
bool ike_id_matches(const struct ike_id *expected, const struct ike_id *got);

/* "FQDN gw.example.net", "IPv4 192.0.2.1", "DN CN=gw1,O=dpsec" for logs. */
void ike_id_describe(const struct ike_id *id, char *buf, size_t cap);

#define IKE_AUTH_CERTS_MAX 4  /* CERT payloads of one side: end entity and intermediates */
#define IKE_CERTREQ_MAX 160   /* CERTREQ data kept: 8 SHA-1 hashes */

/* What is authenticated: the pieces in order, and the negotiated PRF
 * (which a shared-key MIC needs); and what signature methods need besides. */
struct ike_auth_octets {
	uint16_t prf;
	struct ike_chunk piece[3]; /* IKEv2: RealMessage | Nonce | MACedID */
	uint16_t peer_hashes;      /* hash algorithms the peer announced (bit n: hash n, RFC 7427) */
	struct ike_chunk certreq;  /* make: the peer's CERTREQ data (IKEv2: SHA-1s of its roots'
				    * keys; IKEv1: its CAs' DER DNs, one after another) */
	bool ikev1;                /* IKEv1 Main Mode: piece[0] is HASH_I or HASH_R, signed as
				    * SIG (RFC 2409 §5.1), the other pieces empty */
	const struct ike_id *id;   /* check: the identity the peer claims */
	uint8_t n_certs;           /* check: the peer's CERT payloads (DER), end entity first */
	struct ike_chunk certs[IKE_AUTH_CERTS_MAX];
};

#define IKE_AUTH_DATA_MAX 1024 /* AUTH payload data: a 4096-bit RSA signature and more */

struct ike_auth_conf;

/* An authentication implementation. Both functions return 0 or a negative
 * errno and fill err. */
struct ike_auth_ops {
	const char *name; /* "pre-shared key", "certificate" */
	/* Our AUTH payload: its method number and data. */
	int (*make)(const struct ike_auth_conf *c, const struct ike_auth_octets *o, uint8_t *method,
		    uint8_t *out, size_t cap, size_t *len, struct ike_err *err);
	/* The peer's AUTH payload: -EACCES "...does not verify" when wrong,
	 * -EPROTO when the method is not the one configured. */
	int (*check)(const struct ike_auth_conf *c, const struct ike_auth_octets *o,
		     uint8_t method, const uint8_t *data, size_t len, struct ike_err *err);
	/* Certificate methods only (NULL otherwise). The CERT payloads that go
	 * with make()'s AUTH for o: DER, end entity first, pointing into c's
	 * context; returns how many, or a negative errno. */
	int (*certs)(const struct ike_auth_conf *c, const struct ike_auth_octets *o,
		     struct ike_chunk *out, size_t cap, struct ike_err *err);
	/* The CERTREQ data that asks the peer for a certificate we can check:
	 * the SHA-1 hashes of our trusted roots' keys, in order. */
	int (*certreq)(const struct ike_auth_conf *c, uint8_t *out, size_t cap, size_t *len,
		       struct ike_err *err);
	/* IKEv1's CERTREQ data (RFC 2408 §3.10, encoding 4): our trusted roots'
	 * subject DNs (DER), in order, pointing into c's context; how many. */
	int (*certreq_dns)(const struct ike_auth_conf *c, struct ike_chunk *out, size_t cap);
};

/* One side's authentication as configured. Holds the secret: the engine
 * copies it into each IKE SA and wipes the copy (ike_auth_wipe()). */
struct ike_auth_conf {
	const struct ike_auth_ops *ops;
	void *ctx; /* the implementation's (certificates: the key process's handle) */
	uint32_t psk_len;
	uint8_t psk[CFG_PSK_MAX];
};

/* Pre-shared key authentication (IKEv2 method 2, Shared Key Message
 * Integrity Code): AUTH = prf(prf(key, "Key Pad for IKEv2"), octets).
 * -EINVAL for an empty key or one over CFG_PSK_MAX bytes. */
int ike_auth_psk(struct ike_auth_conf *c, const uint8_t *key, size_t len, struct ike_err *err);

void ike_auth_wipe(struct ike_auth_conf *c);

#endif
