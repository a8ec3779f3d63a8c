/* ikecr.c - HMAC and hash over concatenated pieces with OpenSSL 3's EVP,
 * and OpenSSL's reason in our errors (see ikecr.h). */
#include <errno.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "ikecr.h"

int ikecr_ossl_fail(struct ike_err *err, const char *what)
{
	unsigned long e = ERR_get_error();
	const char *why = e ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return ike_fail(err, -EIO, "%s: OpenSSL failed (%s)", what, why ? why : "no reason given");
}

static int mac_feed(EVP_MAC_CTX *ctx, const struct ike_chunk *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (in[i].len && !EVP_MAC_update(ctx, in[i].p, in[i].len))
			return -1;
	return 0;
}

int ikecr_hmac(const char *md, const uint8_t *key, size_t key_len, const struct ike_chunk *in,
	       size_t n, uint8_t *out, struct ike_err *err)
{
	static const uint8_t no_key; /* OpenSSL wants a pointer even for an empty key */
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	size_t len;
	int rc = 0;

	if (ctx == NULL || !EVP_MAC_init(ctx, key_len ? key : &no_key, key_len, params) ||
	    mac_feed(ctx, in, n) || !EVP_MAC_final(ctx, out, &len, EVP_MAX_MD_SIZE))
		rc = ikecr_ossl_fail(err, md);
	EVP_MAC_CTX_free(ctx); /* cleanses the keyed state */
	EVP_MAC_free(mac);
	return rc;
}

int ikecr_hash(const char *md, const struct ike_chunk *in, size_t n, uint8_t *out,
	       struct ike_err *err)
{
	EVP_MD *type = EVP_MD_fetch(NULL, md, NULL);
	EVP_MD_CTX *ctx = type ? EVP_MD_CTX_new() : NULL;
	int ok = ctx && EVP_DigestInit_ex2(ctx, type, NULL);

	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, in[i].p, in[i].len);
	ok = ok && EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(type);
	return ok ? 0 : ikecr_ossl_fail(err, md);
}
