/* ikev2_names.c - printable names of IKEv2 numbers, generated from the
 * X-macro lists of ikev2_msg.h, plus the usual transform IDs (IANA "IKEv2
 * Transform Type" registries) for the diagnostic log. */
#include <stddef.h>

#include "ikev2_msg.h"

#define CASE_NAME(n, v, ...) case v: return #n;
#define CASE_SHORT(n, v, s) case v: return s;

const char *ikev2_exchange_name(uint8_t x)
{
	switch (x) {
	IKEV2_EXCHANGES(CASE_NAME)
	default: return NULL;
	}
}

const char *ikev2_payload_name(uint8_t t)
{
	switch (t) {
	IKEV2_PAYLOADS(CASE_SHORT)
	default: return NULL;
	}
}

const char *ikev2_notify_name(uint16_t t)
{
	switch (t) {
	IKEV2_NOTIFIES(CASE_NAME)
	default: return NULL;
	}
}

const char *ikev2_id_type_name(uint8_t t)
{
	switch (t) {
	IKEV2_ID_TYPES(CASE_NAME)
	default: return NULL;
	}
}

const char *ikev2_transform_type_name(uint8_t t)
{
	switch (t) {
	IKEV2_TRANSFORM_TYPES(CASE_NAME)
	default: return NULL;
	}
}

static const struct {
	uint8_t type;
	uint16_t id;
	const char *name;
} transform_ids[] = {
	{ IKEV2_TR_ENCR, 2, "DES" }, /* IKEv1 Phase 1 with legacy suites, in show mmsas */
	{ IKEV2_TR_ENCR, 3, "3DES" },
	{ IKEV2_TR_ENCR, 11, "NULL" },
	{ IKEV2_TR_ENCR, 12, "AES_CBC" },
	{ IKEV2_TR_ENCR, 13, "AES_CTR" },
	{ IKEV2_TR_ENCR, 14, "AES_CCM_8" },
	{ IKEV2_TR_ENCR, 15, "AES_CCM_12" },
	{ IKEV2_TR_ENCR, 16, "AES_CCM_16" },
	{ IKEV2_TR_ENCR, 18, "AES_GCM_8" },
	{ IKEV2_TR_ENCR, 19, "AES_GCM_12" },
	{ IKEV2_TR_ENCR, 20, "AES_GCM_16" },
	{ IKEV2_TR_ENCR, 21, "NULL_AUTH_AES_GMAC" },
	{ IKEV2_TR_ENCR, 28, "CHACHA20_POLY1305" },
	{ IKEV2_TR_PRF, 1, "HMAC_MD5" }, /* the same */
	{ IKEV2_TR_PRF, 2, "HMAC_SHA1" },
	{ IKEV2_TR_PRF, 4, "AES128_XCBC" },
	{ IKEV2_TR_PRF, 5, "HMAC_SHA2_256" },
	{ IKEV2_TR_PRF, 6, "HMAC_SHA2_384" },
	{ IKEV2_TR_PRF, 7, "HMAC_SHA2_512" },
	{ IKEV2_TR_PRF, 8, "AES128_CMAC" },
	{ IKEV2_TR_INTEG, 2, "HMAC_SHA1_96" },
	{ IKEV2_TR_INTEG, 5, "AES_XCBC_96" },
	{ IKEV2_TR_INTEG, 8, "AES_CMAC_96" },
	{ IKEV2_TR_INTEG, 12, "HMAC_SHA2_256_128" },
	{ IKEV2_TR_INTEG, 13, "HMAC_SHA2_384_192" },
	{ IKEV2_TR_INTEG, 14, "HMAC_SHA2_512_256" },
	{ IKEV2_TR_DH, 2, "MODP_1024" },
	{ IKEV2_TR_DH, 14, "MODP_2048" },
	{ IKEV2_TR_DH, 15, "MODP_3072" },
	{ IKEV2_TR_DH, 16, "MODP_4096" },
	{ IKEV2_TR_DH, 19, "ECP_256" },
	{ IKEV2_TR_DH, 20, "ECP_384" },
	{ IKEV2_TR_DH, 21, "ECP_521" },
	{ IKEV2_TR_DH, 31, "CURVE25519" },
	{ IKEV2_TR_ESN, 0, "NO_ESN" },
	{ IKEV2_TR_ESN, 1, "ESN" },
};

const char *ikev2_transform_id_name(uint8_t type, uint16_t id)
{
	for (size_t i = 0; i < sizeof(transform_ids) / sizeof(transform_ids[0]); i++)
		if (transform_ids[i].type == type && transform_ids[i].id == id)
			return transform_ids[i].name;
	return NULL;
}
