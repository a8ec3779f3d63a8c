/* ikecr.c - HMAC and hash over concatenated pieces with OpenSSL 3's EVP,
 * fetched algorithms kept for the process (DES-CBC from the legacy
 * provider, loaded for it), and OpenSSL's reason in our errors (see
 * ikecr.h). */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include "ikecr.h"

/* OpenSSL's reason for the failure just seen; its error queue emptied. */
static const char *ossl_reason(void)
{
	unsigned long e = ERR_get_error();
	const char *why = e ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return why ? why : "no reason given";
}

int ikecr_ossl_fail(struct ike_err *err, const char *what)
{
	return ike_fail(err, -EIO, "%s: OpenSSL failed (%s)", what, ossl_reason());
}

/* Fetched ciphers and digests by name, kept for the process (see
 * ikecr.h). The names come from dpsec's algorithm tables, a dozen at
 * most: a full cache (never) answers NULL rather than leak a fetch. */
#define FETCH_CACHE_MAX 32
#define FETCH_NAME_MAX 32

struct fetch_cache {
	char name[FETCH_CACHE_MAX][FETCH_NAME_MAX];
	void *alg[FETCH_CACHE_MAX];
	pthread_mutex_t lock;
};

static struct fetch_cache ciphers = { .lock = PTHREAD_MUTEX_INITIALIZER };
static struct fetch_cache digests = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void *fetch_cached(struct fetch_cache *c, const char *name,
			  void *(*fetch)(const char *name))
{
	void *alg = NULL;
	int i;

	if (strlen(name) >= FETCH_NAME_MAX)
		return NULL;
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < FETCH_CACHE_MAX && c->alg[i] != NULL; i++)
		if (strcmp(c->name[i], name) == 0)
			break;
	if (i < FETCH_CACHE_MAX && c->alg[i] != NULL) {
		alg = c->alg[i];
	} else if (i < FETCH_CACHE_MAX && (alg = fetch(name)) != NULL) {
		strcpy(c->name[i], name);
		c->alg[i] = alg;
	}
	pthread_mutex_unlock(&c->lock);
	return alg;
}

/* The ciphers OpenSSL 3 has only in its legacy provider. */
static bool legacy_cipher(const char *name)
{
	return strcmp(name, "DES-CBC") == 0;
}

static pthread_once_t legacy_once = PTHREAD_ONCE_INIT;
static bool legacy_loaded;
static const char *legacy_why; /* OpenSSL's reason when it did not load */

/* Once for the process, the handles kept (OpenSSL frees them at exit).
 * The default provider first: once one is loaded by name, OpenSSL no
 * longer loads the default one by itself. */
static void legacy_load(void)
{
	legacy_loaded = OSSL_PROVIDER_load(NULL, "default") != NULL &&
			OSSL_PROVIDER_load(NULL, "legacy") != NULL;
	if (!legacy_loaded)
		legacy_why = ossl_reason();
}

static void *fetch_cipher(const char *name)
{
	if (legacy_cipher(name)) {
		pthread_once(&legacy_once, legacy_load);
		if (!legacy_loaded)
			return NULL;
	}
	return EVP_CIPHER_fetch(NULL, name, NULL);
}

static void *fetch_md(const char *name)
{
	return EVP_MD_fetch(NULL, name, NULL);
}

const EVP_CIPHER *ikecr_cipher_fetch(const char *name)
{
	return fetch_cached(&ciphers, name, fetch_cipher);
}

const EVP_MD *ikecr_md_fetch(const char *name)
{
	return fetch_cached(&digests, name, fetch_md);
}

int ikecr_cipher_check(const char *name, struct ike_err *err)
{
	if (ikecr_cipher_fetch(name) != NULL)
		return 0;
	if (legacy_cipher(name) && !legacy_loaded)
		return ike_fail(err, -EOPNOTSUPP,
				"%s needs OpenSSL's legacy provider, which did not load (%s; is "
				"legacy.so in OpenSSL's modules directory, or OPENSSL_MODULES?)",
				name, legacy_why);
	return ike_fail(err, -EOPNOTSUPP, "OpenSSL has no cipher %s (%s)", name, ossl_reason());
}

static int mac_feed(EVP_MAC_CTX *ctx, const struct ike_chunk *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (in[i].len && !EVP_MAC_update(ctx, in[i].p, in[i].len))
			return -1;
	return 0;
}

/* One HMAC context per digest with the digest already set, made on first
 * use and kept for the process: every HMAC is a copy of it, so that OpenSSL
 * does not look the MAC and the digest up again for each of the dozens of
 * HMACs an exchange needs. Safe with threads: a racing second template is
 * freed. */
static EVP_MAC_CTX *hmac_template(const char *md)
{
	static const char *const names[] = { "SHA1", "SHA256", "SHA384", "SHA512", "MD5" };
	static EVP_MAC_CTX *templates[sizeof(names) / sizeof(names[0])];
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC_CTX *t, *expected = NULL;
	EVP_MAC *mac;
	size_t i = 0;

	while (i < sizeof(names) / sizeof(names[0]) && strcmp(names[i], md) != 0)
		i++;
	if (i == sizeof(names) / sizeof(names[0]))
		return NULL;
	if ((t = __atomic_load_n(&templates[i], __ATOMIC_ACQUIRE)) != NULL)
		return t;
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	t = mac ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac); /* the context holds its own reference */
	if (t == NULL || !EVP_MAC_CTX_set_params(t, params)) {
		EVP_MAC_CTX_free(t);
		return NULL;
	}
	if (!__atomic_compare_exchange_n(&templates[i], &expected, t, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		EVP_MAC_CTX_free(t);
		return expected;
	}
	return t;
}

int ikecr_hmac(const char *md, const uint8_t *key, size_t key_len, const struct ike_chunk *in,
	       size_t n, uint8_t *out, struct ike_err *err)
{
	static const uint8_t no_key; /* OpenSSL wants a pointer even for an empty key */
	EVP_MAC_CTX *t = hmac_template(md);
	EVP_MAC_CTX *ctx = t ? EVP_MAC_CTX_dup(t) : NULL;
	size_t len;
	int rc = 0;

	if (ctx == NULL || !EVP_MAC_init(ctx, key_len ? key : &no_key, key_len, NULL) ||
	    mac_feed(ctx, in, n) || !EVP_MAC_final(ctx, out, &len, EVP_MAX_MD_SIZE))
		rc = ikecr_ossl_fail(err, md);
	EVP_MAC_CTX_free(ctx); /* cleanses the keyed state */
	return rc;
}

int ikecr_hash(const char *md, const struct ike_chunk *in, size_t n, uint8_t *out,
	       struct ike_err *err)
{
	const EVP_MD *type = ikecr_md_fetch(md);
	EVP_MD_CTX *ctx = type ? EVP_MD_CTX_new() : NULL;
	int ok = ctx && EVP_DigestInit_ex2(ctx, type, NULL);

	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, in[i].p, in[i].len);
	ok = ok && EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : ikecr_ossl_fail(err, md);
}
