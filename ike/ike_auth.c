/* ike_auth.c - identities and pre-shared key authentication (RFC 7296
 * §2.15, §3.5, §3.8) behind the interface of ike_auth.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "ike_auth.h"
#include "ike_cert.h"
#include "ike_prf.h"
#include "ikev2_msg.h"

#define IKEV2_AUTH_SHARED_KEY 2 /* Shared Key Message Integrity Code */

static const char key_pad[] = "Key Pad for IKEv2"; /* RFC 7296 §2.15, 17 bytes, no NUL */

int ike_id_addr(struct ike_id *id, const struct dpsec_addr *a, struct ike_err *err)
{
	if (a->family != DPSEC_AF_INET && a->family != DPSEC_AF_INET6)
		return ike_fail(err, -EINVAL, "identity: address family %u is not IPv4 or IPv6",
				a->family);
	id->type = a->family == DPSEC_AF_INET ? IKEV2_ID_IPV4_ADDR : IKEV2_ID_IPV6_ADDR;
	id->len = a->family == DPSEC_AF_INET ? 4 : 16;
	memcpy(id->data, a->a, id->len);
	return 0;
}

static int id_bytes(struct ike_id *id, uint8_t type, const void *p, size_t len, const char *what,
		    struct ike_err *err)
{
	if (len == 0 || len > IKE_ID_MAX)
		return ike_fail(err, -EINVAL, "identity: %s of %zu bytes (1 to %d)", what, len,
				IKE_ID_MAX);
	id->type = type;
	id->len = (uint16_t)len;
	memcpy(id->data, p, len);
	return 0;
}

int ike_id_fqdn(struct ike_id *id, const char *fqdn, struct ike_err *err)
{
	return id_bytes(id, IKEV2_ID_FQDN, fqdn, strlen(fqdn), "an FQDN", err);
}

int ike_id_rfc822(struct ike_id *id, const char *email, struct ike_err *err)
{
	if (strchr(email, '@') == NULL)
		return ike_fail(err, -EINVAL, "identity: RFC 822 address \"%.60s\" has no '@'",
				email);
	return id_bytes(id, IKEV2_ID_RFC822_ADDR, email, strlen(email), "an RFC 822 address", err);
}

int ike_id_der_dn(struct ike_id *id, const uint8_t *der, size_t len, struct ike_err *err)
{
	if (len > 0 && der[0] != 0x30) /* a DN is an ASN.1 SEQUENCE */
		return ike_fail(err, -EINVAL, "identity: a DER DN starts with SEQUENCE (0x30), not 0x%02x",
				der[0]);
	return id_bytes(id, IKEV2_ID_DER_ASN1_DN, der, len, "a DER DN", err);
}

bool ike_id_matches(const struct ike_id *expected, const struct ike_id *got)
{
	if (expected->type == 0)
		return true;
	return expected->type == got->type && expected->len == got->len &&
	       memcmp(expected->data, got->data, got->len) == 0;
}

/* "DN CN=gw1,O=dpsec", or "DN (34 bytes)" when the bytes are no DN. */
static void dn_describe(const struct ike_id *id, char *buf, size_t cap)
{
	const unsigned char *p = id->data;
	X509_NAME *n = d2i_X509_NAME(NULL, &p, id->len);
	char text[IKE_ERR_MSG_MAX];

	if (n && p == id->data + id->len && ike_dn_text(n, text, sizeof(text)) == 0)
		snprintf(buf, cap, "DN %s", text);
	else
		snprintf(buf, cap, "DN (%u bytes)", id->len);
	X509_NAME_free(n);
	ERR_clear_error();
}

void ike_id_describe(const struct ike_id *id, char *buf, size_t cap)
{
	const uint8_t *d = id->data;

	switch (id->type) {
	case IKEV2_ID_IPV4_ADDR:
		snprintf(buf, cap, "IPv4 %u.%u.%u.%u", d[0], d[1], d[2], d[3]);
		break;
	case IKEV2_ID_IPV6_ADDR: {
		char text[INET6_ADDRSTRLEN];

		snprintf(buf, cap, "IPv6 %s", inet_ntop(AF_INET6, d, text, sizeof(text)) ? text : "?");
		break;
	}
	case IKEV2_ID_FQDN:
	case IKEV2_ID_RFC822_ADDR:
		snprintf(buf, cap, "%s %.*s", ikev2_id_type_name(id->type), (int)id->len, (const char *)d);
		break;
	case IKEV2_ID_DER_ASN1_DN:
		dn_describe(id, buf, cap);
		break;
	case 0:
		snprintf(buf, cap, "any");
		break;
	default:
		snprintf(buf, cap, "%s (%u bytes)",
			 ikev2_id_type_name(id->type) ? ikev2_id_type_name(id->type) : "type ?", id->len);
	}
}

/* prf(prf(key, "Key Pad for IKEv2"), octets) */
static int psk_mic(const struct ike_auth_conf *c, const struct ike_auth_octets *o, uint8_t *out,
		   struct ike_err *err)
{
	struct ike_chunk pad = IKE_CHUNK(key_pad, sizeof(key_pad) - 1);
	uint8_t inner[IKE_PRF_MAX];
	size_t plen = ike_prf_len(o->prf);
	int rc = ike_prf(o->prf, IKE_CHUNK(c->psk, c->psk_len), &pad, 1, inner, err);

	if (rc == 0)
		rc = ike_prf(o->prf, IKE_CHUNK(inner, plen), o->piece, IKE_NCHUNKS(o->piece), out, err);
	OPENSSL_cleanse(inner, sizeof(inner));
	return rc;
}

static int psk_make(const struct ike_auth_conf *c, const struct ike_auth_octets *o,
		    uint8_t *method, uint8_t *out, size_t cap, size_t *len, struct ike_err *err)
{
	size_t plen = ike_prf_len(o->prf);

	if (plen == 0 || cap < plen)
		return ike_fail(err, -EINVAL, "pre-shared key: PRF %u gives no AUTH that fits", o->prf);
	*method = IKEV2_AUTH_SHARED_KEY;
	*len = plen;
	return psk_mic(c, o, out, err);
}

static int psk_check(const struct ike_auth_conf *c, const struct ike_auth_octets *o,
		     uint8_t method, const uint8_t *data, size_t len, struct ike_err *err)
{
	uint8_t want[IKE_PRF_MAX];
	size_t plen = ike_prf_len(o->prf);
	int rc;

	if (method != IKEV2_AUTH_SHARED_KEY)
		return ike_fail(err, -EPROTO, "AUTH payload: method %u, expected %u (pre-shared key)",
				method, IKEV2_AUTH_SHARED_KEY);
	if (len != plen)
		return ike_fail(err, -EACCES, "AUTH payload: %zu bytes, the PRF gives %zu: does not verify",
				len, plen);
	rc = psk_mic(c, o, want, err);
	if (rc == 0 && CRYPTO_memcmp(want, data, plen) != 0)
		rc = ike_fail(err, -EACCES, "AUTH payload: the pre-shared key MIC does not verify");
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}

static const struct ike_auth_ops psk_ops = { "pre-shared key", psk_make, psk_check };

int ike_auth_psk(struct ike_auth_conf *c, const uint8_t *key, size_t len, struct ike_err *err)
{
	if (len == 0 || len > CFG_PSK_MAX)
		return ike_fail(err, -EINVAL, "pre-shared key: %zu bytes (1 to %d)", len, CFG_PSK_MAX);
	*c = (struct ike_auth_conf){ .ops = &psk_ops, .psk_len = (uint32_t)len };
	memcpy(c->psk, key, len);
	return 0;
}

void ike_auth_wipe(struct ike_auth_conf *c)
{
	OPENSSL_cleanse(c, sizeof(*c));
}
