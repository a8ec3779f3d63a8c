/* isakmp_msg.h - the ISAKMP / IKEv1 message codec: RFC 2408 header and
 * payloads, the IPsec DOI (RFC 2407: SA attributes, ID with protocol and
 * port, notify codes), the IKE attributes of RFC 2409 appendix A, and the
 * NAT-T payloads of RFC 3947. Parsed structs point into the message; the
 * same structs build the same bytes. No state and no crypto: main_mode.c
 * and quick_mode.c use this, and an encrypted message (E flag) is handed
 * over as ciphertext, its decrypted payloads parsed with
 * isakmp_chain_parse().
 *
 * Errors: 0 or a negative errno, struct ike_err naming the problem and the
 * ISAKMP notify that fits (PAYLOAD-MALFORMED, INVALID-PAYLOAD-TYPE with the
 * type in detail, INVALID-MAJOR-VERSION, DOI-NOT-SUPPORTED...). */
#ifndef ISAKMP_MSG_H
#define ISAKMP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_buf.h"
#include "ike_sa.h"

#define ISAKMP_HDR_LEN 28
#define ISAKMP_VERSION 0x10
#define ISAKMP_MAX_PAYLOADS 32
#define ISAKMP_NONCE_MIN 8   /* RFC 2409 §5 */
#define ISAKMP_NONCE_MAX 256
#define ISAKMP_MAX_NOTIFY_ATTRS 16

#define ISAKMP_EXCHANGES(X) \
	X(BASE, 1, "Base") X(MAIN_MODE, 2, "Main Mode") X(AUTH_ONLY, 3, "Authentication Only") \
	X(AGGRESSIVE, 4, "Aggressive Mode") X(INFORMATIONAL, 5, "Informational") \
	X(QUICK_MODE, 32, "Quick Mode") X(NEW_GROUP, 33, "New Group Mode")

#define ISAKMP_PAYLOADS(X) \
	X(NONE, 0, "none") X(SA, 1, "SA") X(PROPOSAL, 2, "P") X(TRANSFORM, 3, "T") \
	X(KE, 4, "KE") X(ID, 5, "ID") X(CERT, 6, "CERT") X(CR, 7, "CR") X(HASH, 8, "HASH") \
	X(SIG, 9, "SIG") X(NONCE, 10, "NONCE") X(NOTIFY, 11, "N") X(DELETE, 12, "D") \
	X(VENDOR, 13, "VID") X(NAT_D, 20, "NAT-D") X(NAT_OA, 21, "NAT-OA")

#define ISAKMP_NOTIFIES(X) \
	X(INVALID_PAYLOAD_TYPE, 1, "INVALID-PAYLOAD-TYPE") \
	X(DOI_NOT_SUPPORTED, 2, "DOI-NOT-SUPPORTED") \
	X(SITUATION_NOT_SUPPORTED, 3, "SITUATION-NOT-SUPPORTED") \
	X(INVALID_COOKIE, 4, "INVALID-COOKIE") \
	X(INVALID_MAJOR_VERSION, 5, "INVALID-MAJOR-VERSION") \
	X(INVALID_MINOR_VERSION, 6, "INVALID-MINOR-VERSION") \
	X(INVALID_EXCHANGE_TYPE, 7, "INVALID-EXCHANGE-TYPE") \
	X(INVALID_FLAGS, 8, "INVALID-FLAGS") \
	X(INVALID_MESSAGE_ID, 9, "INVALID-MESSAGE-ID") \
	X(INVALID_PROTOCOL_ID, 10, "INVALID-PROTOCOL-ID") \
	X(INVALID_SPI, 11, "INVALID-SPI") \
	X(INVALID_TRANSFORM_ID, 12, "INVALID-TRANSFORM-ID") \
	X(ATTRIBUTES_NOT_SUPPORTED, 13, "ATTRIBUTES-NOT-SUPPORTED") \
	X(NO_PROPOSAL_CHOSEN, 14, "NO-PROPOSAL-CHOSEN") \
	X(BAD_PROPOSAL_SYNTAX, 15, "BAD-PROPOSAL-SYNTAX") \
	X(PAYLOAD_MALFORMED, 16, "PAYLOAD-MALFORMED") \
	X(INVALID_KEY_INFORMATION, 17, "INVALID-KEY-INFORMATION") \
	X(INVALID_ID_INFORMATION, 18, "INVALID-ID-INFORMATION") \
	X(INVALID_CERT_ENCODING, 19, "INVALID-CERT-ENCODING") \
	X(INVALID_CERTIFICATE, 20, "INVALID-CERTIFICATE") \
	X(CERT_TYPE_UNSUPPORTED, 21, "CERT-TYPE-UNSUPPORTED") \
	X(INVALID_CERT_AUTHORITY, 22, "INVALID-CERT-AUTHORITY") \
	X(INVALID_HASH_INFORMATION, 23, "INVALID-HASH-INFORMATION") \
	X(AUTHENTICATION_FAILED, 24, "AUTHENTICATION-FAILED") \
	X(INVALID_SIGNATURE, 25, "INVALID-SIGNATURE") \
	X(ADDRESS_NOTIFICATION, 26, "ADDRESS-NOTIFICATION") \
	X(NOTIFY_SA_LIFETIME, 27, "NOTIFY-SA-LIFETIME") \
	X(CERTIFICATE_UNAVAILABLE, 28, "CERTIFICATE-UNAVAILABLE") \
	X(UNSUPPORTED_EXCHANGE_TYPE, 29, "UNSUPPORTED-EXCHANGE-TYPE") \
	X(UNEQUAL_PAYLOAD_LENGTHS, 30, "UNEQUAL-PAYLOAD-LENGTHS") \
	X(CONNECTED, 16384, "CONNECTED") \
	X(RESPONDER_LIFETIME, 24576, "RESPONDER-LIFETIME") \
	X(REPLAY_STATUS, 24577, "REPLAY-STATUS") \
	X(INITIAL_CONTACT, 24578, "INITIAL-CONTACT") \
	X(R_U_THERE, 36136, "R-U-THERE") \
	X(R_U_THERE_ACK, 36137, "R-U-THERE-ACK")

#define ISAKMP_ID_TYPES(X) \
	X(IPV4_ADDR, 1) X(FQDN, 2) X(USER_FQDN, 3) X(IPV4_ADDR_SUBNET, 4) X(IPV6_ADDR, 5) \
	X(IPV6_ADDR_SUBNET, 6) X(IPV4_ADDR_RANGE, 7) X(IPV6_ADDR_RANGE, 8) X(DER_ASN1_DN, 9) \
	X(DER_ASN1_GN, 10) X(KEY_ID, 11)

/* RFC 2409 appendix A; B = basic (TV) only, V = TV or TLV. */
#define ISAKMP_IKE_ATTRS(X) \
	X(ENCRYPTION_ALGORITHM, 1, B) X(HASH_ALGORITHM, 2, B) X(AUTHENTICATION_METHOD, 3, B) \
	X(GROUP_DESCRIPTION, 4, B) X(GROUP_TYPE, 5, B) X(GROUP_PRIME, 6, V) \
	X(GROUP_GENERATOR_ONE, 7, V) X(GROUP_GENERATOR_TWO, 8, V) X(GROUP_CURVE_A, 9, V) \
	X(GROUP_CURVE_B, 10, V) X(LIFE_TYPE, 11, B) X(LIFE_DURATION, 12, V) X(PRF, 13, B) \
	X(KEY_LENGTH, 14, B) X(FIELD_SIZE, 15, B) X(GROUP_ORDER, 16, V)

/* RFC 2407 §4.5. */
#define ISAKMP_IPSEC_ATTRS(X) \
	X(SA_LIFE_TYPE, 1, B) X(SA_LIFE_DURATION, 2, V) X(GROUP_DESCRIPTION, 3, B) \
	X(ENCAPSULATION_MODE, 4, B) X(AUTH_ALGORITHM, 5, B) X(KEY_LENGTH, 6, B) \
	X(KEY_ROUNDS, 7, B) X(COMPRESS_DICTIONARY_SIZE, 8, B) X(COMPRESS_PRIVATE_ALGORITHM, 9, V)

#define ISAKMP_X_ENUM(n, v, ...) ISAKMP_##n = v,
enum isakmp_exchange { ISAKMP_EXCHANGES(ISAKMP_X_ENUM) };
#undef ISAKMP_X_ENUM
#define ISAKMP_X_ENUM(n, v, ...) ISAKMP_PL_##n = v,
enum isakmp_payload_type { ISAKMP_PAYLOADS(ISAKMP_X_ENUM) };
#undef ISAKMP_X_ENUM
#define ISAKMP_X_ENUM(n, v, ...) ISAKMP_N_##n = v,
enum isakmp_notify_type { ISAKMP_NOTIFIES(ISAKMP_X_ENUM) };
#undef ISAKMP_X_ENUM
#define ISAKMP_X_ENUM(n, v, ...) ISAKMP_ID_##n = v,
enum isakmp_id_type { ISAKMP_ID_TYPES(ISAKMP_X_ENUM) };
#undef ISAKMP_X_ENUM
#define ISAKMP_X_ENUM(n, v, ...) ISAKMP_IKE_##n = v,
enum isakmp_ike_attr { ISAKMP_IKE_ATTRS(ISAKMP_X_ENUM) };
#undef ISAKMP_X_ENUM
#define ISAKMP_X_ENUM(n, v, ...) ISAKMP_IPSEC_##n = v,
enum isakmp_ipsec_attr { ISAKMP_IPSEC_ATTRS(ISAKMP_X_ENUM) };
#undef ISAKMP_X_ENUM

#define ISAKMP_FLAG_E 0x01 /* encrypted */
#define ISAKMP_FLAG_C 0x02 /* commit */
#define ISAKMP_FLAG_A 0x04 /* authentication only */

#define ISAKMP_LIFE_SECONDS 1
#define ISAKMP_LIFE_KILOBYTES 2

enum isakmp_encap {
	ISAKMP_ENCAP_TUNNEL = 1,
	ISAKMP_ENCAP_TRANSPORT = 2,
	ISAKMP_ENCAP_UDP_TUNNEL = 3,	       /* RFC 3947 */
	ISAKMP_ENCAP_UDP_TRANSPORT = 4,
	ISAKMP_ENCAP_UDP_TUNNEL_DRAFT = 61443, /* draft-ietf-ipsec-nat-t-ike-00..03 */
	ISAKMP_ENCAP_UDP_TRANSPORT_DRAFT = 61444,
};

const char *isakmp_exchange_name(uint8_t x);
const char *isakmp_payload_name(uint8_t t);
const char *isakmp_notify_name(uint16_t t);
const char *isakmp_id_type_name(uint8_t t);
const char *isakmp_ike_attr_name(uint16_t t);
const char *isakmp_ipsec_attr_name(uint16_t t);

struct isakmp_hdr {
	uint8_t icookie[8];
	uint8_t rcookie[8];
	uint8_t next_payload;
	uint8_t version; /* 0x10 */
	uint8_t exchange;
	uint8_t flags;
	uint32_t msg_id;
	uint32_t length;
};

struct isakmp_payload {
	uint8_t type;
	struct ike_blob body;
};

struct isakmp_msg {
	struct isakmp_hdr hdr;
	const uint8_t *raw;
	uint16_t n;
	struct isakmp_payload pl[ISAKMP_MAX_PAYLOADS];
	uint16_t n_skipped;       /* private-use payloads (128..255) passed over */
	struct ike_blob encrypted; /* E flag: everything after the header */
	uint16_t pad_len;         /* isakmp_chain_parse(): bytes after the last payload */
};

/* ---- payload bodies ---- */

struct isakmp_id {
	uint8_t type;     /* enum isakmp_id_type */
	uint8_t protocol; /* IPsec DOI: IP protocol, 0 = any */
	uint16_t port;    /* IPsec DOI: 0 = any */
	struct ike_blob data;
};

#define ISAKMP_CERT_X509_SIG 4 /* RFC 2408 §3.9, Certificate Encoding: X.509 Certificate - Signature */

struct isakmp_cert { /* CERT and CR */
	uint8_t encoding;
	struct ike_blob data;
};

struct isakmp_notify {
	uint32_t doi;
	uint8_t protocol;
	uint8_t spi_len;
	uint16_t type;
	uint8_t spi[IKE_MAX_SPI];
	struct ike_blob data;
};

struct isakmp_delete {
	uint32_t doi;
	uint8_t protocol;
	uint8_t spi_len; /* 16 for ISAKMP (the cookies), 4 for AH/ESP */
	uint16_t n_spi;
	const uint8_t *spis;
};

struct isakmp_nat_oa {
	uint8_t id_type; /* ISAKMP_ID_IPV4_ADDR or ISAKMP_ID_IPV6_ADDR */
	struct ike_blob addr;
};

union isakmp_body {
	struct ike_sa sa;
	struct ike_blob ke, hash, sig, nonce, vendor, nat_d;
	struct isakmp_id id;
	struct isakmp_cert cert;
	struct isakmp_notify notify;
	struct isakmp_delete del;
	struct isakmp_nat_oa nat_oa;
};

int isakmp_sa_parse(const uint8_t *buf, size_t len, struct ike_sa *out, struct ike_err *err);
int isakmp_id_parse(const uint8_t *buf, size_t len, struct isakmp_id *out, struct ike_err *err);
int isakmp_cert_parse(const uint8_t *buf, size_t len, struct isakmp_cert *out,
		      struct ike_err *err);
int isakmp_nonce_parse(const uint8_t *buf, size_t len, struct ike_blob *out,
		       struct ike_err *err);
int isakmp_notify_parse(const uint8_t *buf, size_t len, struct isakmp_notify *out,
			struct ike_err *err);
int isakmp_delete_parse(const uint8_t *buf, size_t len, struct isakmp_delete *out,
			struct ike_err *err);
int isakmp_nat_oa_parse(const uint8_t *buf, size_t len, struct isakmp_nat_oa *out,
			struct ike_err *err);
int isakmp_body_parse(uint8_t type, const uint8_t *buf, size_t len, union isakmp_body *out,
		      struct ike_err *err);
void isakmp_body_build(uint8_t type, const union isakmp_body *in, struct ike_wr *w);

/* Transform attributes decoded. For an IKE (phase 1) transform: */
struct isakmp_ike_policy {
	uint16_t enc, hash, auth, group, prf, key_len;
	uint64_t life_secs, life_kb; /* 0 = not given */
};
/* For an AH/ESP (phase 2) transform (the transform ID is the cipher / AH alg): */
struct isakmp_ipsec_policy {
	uint16_t encap, auth, group, key_len;
	uint64_t life_secs, life_kb;
};
/* Check forms (basic-only attributes in TV form), life type/duration
 * pairing, durations fitting 64 bits, encapsulation modes. -EBADMSG, or
 * -EOPNOTSUPP (notify ATTRIBUTES-NOT-SUPPORTED) for unknown attributes. */
int isakmp_ike_attrs_decode(const struct ike_sa *sa, const struct ike_transform *t,
			    struct isakmp_ike_policy *out, struct ike_err *err);
int isakmp_ipsec_attrs_decode(const struct ike_sa *sa, const struct ike_transform *t,
			      struct isakmp_ipsec_policy *out, struct ike_err *err);

/* ---- header and chain ---- */

int isakmp_hdr_parse(const uint8_t *buf, size_t len, struct isakmp_hdr *out,
		     struct ike_err *err);
/* A whole datagram: header (length equal to len), then the payload chain
 * with every known body checked (SA attributes decoded too), or, with the
 * E flag, the ciphertext left in out->encrypted. */
int isakmp_msg_parse(const uint8_t *buf, size_t len, struct isakmp_msg *out,
		     struct ike_err *err);
/* Decrypted payloads starting with type first, appended to m->pl; bytes
 * after the last payload are padding (m->pad_len). */
int isakmp_chain_parse(uint8_t first, const uint8_t *buf, size_t len, struct isakmp_msg *m,
		       struct ike_err *err);
const struct isakmp_payload *isakmp_msg_find(const struct isakmp_msg *m, uint8_t type, int *i);

/* Builder: isakmp_build_begin(hdr) or, for a plaintext chain to be
 * encrypted, isakmp_build_begin(NULL) (the first type is then in
 * b.first); payloads; for an encrypted message, isakmp_build_ciphertext()
 * reserves the space after a header with the E flag; then isakmp_build_end(). */
struct isakmp_builder {
	struct ike_chain c;
	bool has_hdr;
	uint8_t first;
};

void isakmp_build_begin(struct isakmp_builder *b, uint8_t *buf, size_t cap,
			const struct isakmp_hdr *hdr);
void isakmp_build_add(struct isakmp_builder *b, uint8_t type, const union isakmp_body *body);
void isakmp_build_raw(struct isakmp_builder *b, uint8_t type, const uint8_t *body, size_t len);
uint8_t *isakmp_build_ciphertext(struct isakmp_builder *b, uint8_t first, size_t len);
int isakmp_build_end(struct isakmp_builder *b, size_t *len, struct ike_err *err);
int isakmp_msg_rebuild(const struct isakmp_msg *m, uint8_t *buf, size_t cap, size_t *len,
		       struct ike_err *err);

size_t isakmp_msg_describe(const struct isakmp_msg *m, char *buf, size_t cap);

#endif
