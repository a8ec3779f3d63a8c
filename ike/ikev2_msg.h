/* ikev2_msg.h - the IKEv2 message codec (RFC 7296 §3, RFC 7383 for SKF):
 * header, payload chain and every payload body, parsed into plain structs
 * that point into the message (no copies, no allocation) and built back
 * into exactly the same bytes. No state and no crypto here: the exchanges
 * (ikev2_sa_init.c, ikev2_auth.c, ikev2_child.c, ikev2_info.c) call
 * these, and the SK payload is only cut into IV / ciphertext / ICV for the
 * crypto code to work on.
 *
 * Error policy: every function returns 0 or a negative errno and fills a
 * struct ike_err with a sentence naming the problem and the notify type a
 * responder would send (INVALID_SYNTAX, UNSUPPORTED_CRITICAL_PAYLOAD with
 * the payload type in err.detail, INVALID_MAJOR_VERSION). */
#ifndef IKEV2_MSG_H
#define IKEV2_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_buf.h"
#include "ike_sa.h"

#define IKEV2_HDR_LEN 28
#define IKEV2_PL_HDR_LEN 4
#define IKEV2_VERSION 0x20
#define IKEV2_MAX_PAYLOADS 32  /* payloads kept per message (or per SK plaintext) */
#define IKEV2_MAX_TS 16        /* traffic selectors per TS payload */
#define IKEV2_MAX_CP_ATTRS 32  /* attributes per CP payload */
#define IKEV2_NONCE_MIN 16     /* RFC 7296 §3.9 */
#define IKEV2_NONCE_MAX 256

/* X-macro lists: one declaration gives each enum and its names. */
#define IKEV2_EXCHANGES(X) \
	X(IKE_SA_INIT, 34) X(IKE_AUTH, 35) X(CREATE_CHILD_SA, 36) X(INFORMATIONAL, 37)

#define IKEV2_PAYLOADS(X) \
	X(NONE, 0, "none") X(SA, 33, "SA") X(KE, 34, "KE") X(IDI, 35, "IDi") \
	X(IDR, 36, "IDr") X(CERT, 37, "CERT") X(CERTREQ, 38, "CERTREQ") X(AUTH, 39, "AUTH") \
	X(NONCE, 40, "Nonce") X(NOTIFY, 41, "N") X(DELETE, 42, "D") X(VENDOR, 43, "V") \
	X(TSI, 44, "TSi") X(TSR, 45, "TSr") X(SK, 46, "SK") X(CP, 47, "CP") X(EAP, 48, "EAP") \
	X(SKF, 53, "SKF")

#define IKEV2_NOTIFIES(X) \
	X(UNSUPPORTED_CRITICAL_PAYLOAD, 1) X(INVALID_IKE_SPI, 4) X(INVALID_MAJOR_VERSION, 5) \
	X(INVALID_SYNTAX, 7) X(INVALID_MESSAGE_ID, 9) X(INVALID_SPI, 11) \
	X(NO_PROPOSAL_CHOSEN, 14) X(INVALID_KE_PAYLOAD, 17) X(AUTHENTICATION_FAILED, 24) \
	X(SINGLE_PAIR_REQUIRED, 34) X(NO_ADDITIONAL_SAS, 35) X(INTERNAL_ADDRESS_FAILURE, 36) \
	X(FAILED_CP_REQUIRED, 37) X(TS_UNACCEPTABLE, 38) X(INVALID_SELECTORS, 39) \
	X(TEMPORARY_FAILURE, 43) X(CHILD_SA_NOT_FOUND, 44) \
	X(INITIAL_CONTACT, 16384) X(SET_WINDOW_SIZE, 16385) X(ADDITIONAL_TS_POSSIBLE, 16386) \
	X(IPCOMP_SUPPORTED, 16387) X(NAT_DETECTION_SOURCE_IP, 16388) \
	X(NAT_DETECTION_DESTINATION_IP, 16389) X(COOKIE, 16390) X(USE_TRANSPORT_MODE, 16391) \
	X(HTTP_CERT_LOOKUP_SUPPORTED, 16392) X(REKEY_SA, 16393) \
	X(ESP_TFC_PADDING_NOT_SUPPORTED, 16394) X(NON_FIRST_FRAGMENTS_ALSO, 16395) \
	X(MOBIKE_SUPPORTED, 16396) X(IKEV2_FRAGMENTATION_SUPPORTED, 16430) \
	X(SIGNATURE_HASH_ALGORITHMS, 16431)

#define IKEV2_ID_TYPES(X) \
	X(IPV4_ADDR, 1) X(FQDN, 2) X(RFC822_ADDR, 3) X(IPV6_ADDR, 5) X(DER_ASN1_DN, 9) \
	X(DER_ASN1_GN, 10) X(KEY_ID, 11)

#define IKEV2_TRANSFORM_TYPES(X) X(ENCR, 1) X(PRF, 2) X(INTEG, 3) X(DH, 4) X(ESN, 5)

#define IKEV2_X_ENUM(n, v, ...) IKEV2_##n = v,
enum ikev2_exchange { IKEV2_EXCHANGES(IKEV2_X_ENUM) };
#undef IKEV2_X_ENUM
#define IKEV2_X_ENUM(n, v, ...) IKEV2_PL_##n = v,
enum ikev2_payload_type { IKEV2_PAYLOADS(IKEV2_X_ENUM) };
#undef IKEV2_X_ENUM
#define IKEV2_X_ENUM(n, v, ...) IKEV2_N_##n = v,
enum ikev2_notify_type { IKEV2_NOTIFIES(IKEV2_X_ENUM) };
#undef IKEV2_X_ENUM
#define IKEV2_X_ENUM(n, v, ...) IKEV2_ID_##n = v,
enum ikev2_id_type { IKEV2_ID_TYPES(IKEV2_X_ENUM) };
#undef IKEV2_X_ENUM
#define IKEV2_X_ENUM(n, v, ...) IKEV2_TR_##n = v,
enum ikev2_transform_type { IKEV2_TRANSFORM_TYPES(IKEV2_X_ENUM) };
#undef IKEV2_X_ENUM

#define IKEV2_ATTR_KEY_LENGTH 14
#define IKEV2_TS_IPV4_ADDR_RANGE 7
#define IKEV2_TS_IPV6_ADDR_RANGE 8

#define IKEV2_FLAG_I 0x08 /* sent by the original initiator */
#define IKEV2_FLAG_V 0x10 /* a higher major version is supported */
#define IKEV2_FLAG_R 0x20 /* response */
#define IKEV2_PL_CRITICAL 0x80

/* Names ("IKE_SA_INIT", "NAT_DETECTION_SOURCE_IP", "SA"...) or NULL if unknown. */
const char *ikev2_exchange_name(uint8_t x);
const char *ikev2_payload_name(uint8_t t);
const char *ikev2_notify_name(uint16_t t);
const char *ikev2_id_type_name(uint8_t t);
const char *ikev2_transform_type_name(uint8_t t);
/* Transform IDs of the usual algorithms ("AES_CBC", "HMAC_SHA2_256"), or NULL. */
const char *ikev2_transform_id_name(uint8_t type, uint16_t id);

struct ikev2_hdr {
	uint8_t spi_i[8];
	uint8_t spi_r[8];
	uint8_t next_payload;
	uint8_t version; /* major << 4 | minor */
	uint8_t exchange;
	uint8_t flags;
	uint32_t msg_id;
	uint32_t length;
};

/* One payload of the chain: its body is what follows the 4-byte generic header. */
struct ikev2_payload {
	uint8_t type;
	bool critical;
	struct ike_blob body;
};

struct ikev2_msg {
	struct ikev2_hdr hdr;
	const uint8_t *raw; /* the datagram parsed */
	uint16_t n;
	struct ikev2_payload pl[IKEV2_MAX_PAYLOADS];
	uint16_t n_skipped;    /* unknown non-critical payloads passed over */
	uint8_t sk_inner_next; /* SK/SKF: the type of the first encrypted payload */
	size_t sk_body_off;    /* SK/SKF: offset of its body in the message; the
				* integrity check covers raw[0 .. sk_body_off) as
				* associated data (AEAD) or as its start (ICV). */
};

/* ---- payload bodies ---- */

struct ikev2_ke {
	uint16_t group;
	struct ike_blob data;
};

struct ikev2_id { /* IDi, IDr */
	uint8_t type; /* enum ikev2_id_type */
	struct ike_blob data;
};

struct ikev2_cert { /* CERT, CERTREQ */
	uint8_t encoding;
	struct ike_blob data;
};

struct ikev2_auth {
	uint8_t method;
	struct ike_blob data;
};

struct ikev2_notify {
	uint8_t protocol; /* 0, or enum ike_proto for SA-related notifies */
	uint8_t spi_len;  /* 0, 4 (AH/ESP) or 8 (IKE) */
	uint16_t type;    /* enum ikev2_notify_type */
	uint8_t spi[8];
	struct ike_blob data;
};

struct ikev2_delete {
	uint8_t protocol;
	uint8_t spi_len; /* 0 for IKE, 4 for AH/ESP */
	uint16_t n_spi;
	const uint8_t *spis; /* n_spi * spi_len bytes */
};

struct ikev2_ts {
	uint8_t type; /* IKEV2_TS_IPV4/IPV6_ADDR_RANGE */
	uint8_t ip_proto;
	uint16_t port_lo, port_hi;
	uint8_t addr_lo[16], addr_hi[16]; /* IPv4 in the first 4 bytes */
};

struct ikev2_ts_list { /* TSi, TSr */
	uint8_t n;
	struct ikev2_ts ts[IKEV2_MAX_TS];
};

struct ikev2_cp_attr {
	uint16_t type;
	struct ike_blob value;
};

struct ikev2_cp {
	uint8_t cfg_type; /* 1 request, 2 reply, 3 set, 4 ack */
	uint8_t n;
	struct ikev2_cp_attr attr[IKEV2_MAX_CP_ATTRS];
};

struct ikev2_eap {
	uint8_t code; /* 1 request, 2 response, 3 success, 4 failure */
	uint8_t id;
	struct ike_blob msg; /* the whole EAP message, header included */
};

/* SK / SKF bodies (after the fragment numbers for SKF) cut up for crypto.
 * The codec only needs the IV and ICV lengths of the negotiated cipher. */
struct ikev2_sk {
	struct ike_blob iv, ct, icv;
};

struct ikev2_skf {
	uint16_t number, total; /* 1 <= number <= total */
	struct ike_blob rest;   /* IV | ciphertext | ICV: split with ikev2_sk_split() */
};

union ikev2_body {
	struct ike_sa sa;
	struct ikev2_ke ke;
	struct ikev2_id id;
	struct ikev2_cert cert;
	struct ikev2_auth auth;
	struct ike_blob nonce;
	struct ikev2_notify notify;
	struct ikev2_delete del;
	struct ike_blob vendor;
	struct ikev2_ts_list ts;
	struct ikev2_cp cp;
	struct ikev2_eap eap;
	struct ike_blob sk; /* the raw body: split with ikev2_sk_split() */
	struct ikev2_skf skf;
};

/* Payload bodies: parse from / build to the bytes after the generic header. */
int ikev2_sa_parse(const uint8_t *buf, size_t len, struct ike_sa *out, struct ike_err *err);
int ikev2_ke_parse(const uint8_t *buf, size_t len, struct ikev2_ke *out, struct ike_err *err);
int ikev2_id_parse(const uint8_t *buf, size_t len, struct ikev2_id *out, struct ike_err *err);
int ikev2_cert_parse(const uint8_t *buf, size_t len, struct ikev2_cert *out,
		     struct ike_err *err);
int ikev2_auth_parse(const uint8_t *buf, size_t len, struct ikev2_auth *out,
		     struct ike_err *err);
int ikev2_nonce_parse(const uint8_t *buf, size_t len, struct ike_blob *out, struct ike_err *err);
int ikev2_notify_parse(const uint8_t *buf, size_t len, struct ikev2_notify *out,
		       struct ike_err *err);
int ikev2_delete_parse(const uint8_t *buf, size_t len, struct ikev2_delete *out,
		       struct ike_err *err);
int ikev2_ts_parse(const uint8_t *buf, size_t len, struct ikev2_ts_list *out,
		   struct ike_err *err);
int ikev2_cp_parse(const uint8_t *buf, size_t len, struct ikev2_cp *out, struct ike_err *err);
int ikev2_eap_parse(const uint8_t *buf, size_t len, struct ikev2_eap *out, struct ike_err *err);
int ikev2_skf_parse(const uint8_t *buf, size_t len, struct ikev2_skf *out, struct ike_err *err);
/* Cuts an SK body (or SKF rest) into IV | ciphertext | ICV. -EBADMSG if
 * shorter than iv_len + icv_len. */
int ikev2_sk_split(const uint8_t *buf, size_t len, size_t iv_len, size_t icv_len,
		   struct ikev2_sk *out, struct ike_err *err);

/* Any known body by payload type (the union member named after it). */
int ikev2_body_parse(uint8_t type, const uint8_t *buf, size_t len, union ikev2_body *out,
		     struct ike_err *err);
void ikev2_body_build(uint8_t type, const union ikev2_body *in, struct ike_wr *w);

/* ---- header and chain ---- */

int ikev2_hdr_parse(const uint8_t *buf, size_t len, struct ikev2_hdr *out, struct ike_err *err);

/* Parses a whole datagram: the header (its length must equal len), then the
 * chain, checking each known payload's body. Unknown payloads are skipped
 * unless critical (then -EOPNOTSUPP, notify UNSUPPORTED_CRITICAL_PAYLOAD).
 * An SK or SKF payload must be last; its contents are left for decryption. */
int ikev2_msg_parse(const uint8_t *buf, size_t len, struct ikev2_msg *out, struct ike_err *err);
/* Parses a chain starting with payload type first (decrypted SK contents),
 * appending to m->pl. */
int ikev2_chain_parse(uint8_t first, const uint8_t *buf, size_t len, struct ikev2_msg *m,
		      struct ike_err *err);
/* The first / next payload of that type after index *i (start with *i = -1). */
const struct ikev2_payload *ikev2_msg_find(const struct ikev2_msg *m, uint8_t type, int *i);

/* Builds a message payload by payload:
 *   ikev2_build_begin(&b, buf, cap, &hdr);
 *   ikev2_build_add(&b, IKEV2_PL_NONCE, false, &body);   (any number)
 *   ikev2_build_end(&b, &len, &err);
 * next-payload fields and all lengths are filled in. For SK/SKF (last),
 * ikev2_build_sk() reserves IV, ciphertext and ICV space and returns
 * where they are for the crypto code to fill in place. */
struct ikev2_builder {
	struct ike_chain c;
};

void ikev2_build_begin(struct ikev2_builder *b, uint8_t *buf, size_t cap,
		       const struct ikev2_hdr *hdr);
void ikev2_build_add(struct ikev2_builder *b, uint8_t type, bool critical,
		     const union ikev2_body *body);
/* Adds a payload with a raw body (unknown types, or bodies already built). */
void ikev2_build_raw(struct ikev2_builder *b, uint8_t type, bool critical, const uint8_t *body,
		     size_t len);
/* SK (fragment == NULL) or SKF: inner_next is the first encrypted payload's
 * type (SKF: only in fragment 1, else 0). out receives writable slices. */
struct ikev2_sk_space {
	uint8_t *iv, *ct, *icv;
	size_t aad_len; /* bytes of the message before the SK body */
};
void ikev2_build_sk(struct ikev2_builder *b, uint8_t inner_next, const struct ikev2_skf *fragment,
		    size_t iv_len, size_t ct_len, size_t icv_len, struct ikev2_sk_space *out);
int ikev2_build_end(struct ikev2_builder *b, size_t *len, struct ike_err *err);

/* Rebuilds a parsed message from its parsed payloads (the round-trip check
 * of the tests and the fuzzer). Reserved fields come out zero. */
int ikev2_msg_rebuild(const struct ikev2_msg *m, uint8_t *buf, size_t cap, size_t *len,
		      struct ike_err *err);

/* One line per payload, for the diagnostic log. Returns the length the
 * full text needs (like snprintf). */
size_t ikev2_msg_describe(const struct ikev2_msg *m, char *buf, size_t cap);

#endif
