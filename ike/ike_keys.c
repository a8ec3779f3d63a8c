/* ike_keys.c - the algorithms dpsec supports for IKE SAs (one table each
 * for ciphers, integrity algorithms and PRFs, and DES's weak keys) and the
 * setting up and wiping of the key contexts of ike_keys.h. */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ike_keys.h"
#include "ikecr.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct ikecr_cipher ciphers[] = {
	{ IKE_ENCR_DES, 0, "DES-CBC", 8, 0, 8, 8, 0 }, /* IKEv1 with legacy suites only */
	{ IKE_ENCR_3DES, 0, "DES-EDE3-CBC", 24, 0, 8, 8, 0 },
	{ IKE_ENCR_AES_CBC, 128, "AES-128-CBC", 16, 0, 16, 16, 0 },
	{ IKE_ENCR_AES_CBC, 192, "AES-192-CBC", 24, 0, 16, 16, 0 },
	{ IKE_ENCR_AES_CBC, 256, "AES-256-CBC", 32, 0, 16, 16, 0 },
	/* RFC 5282: 4-byte salt, 8-byte explicit IV, 16-byte ICV; a stream
	 * mode, so no padding beyond the Pad Length byte */
	{ IKE_ENCR_AES_GCM_16, 128, "AES-128-GCM", 16, 4, 1, 8, 16 },
	{ IKE_ENCR_AES_GCM_16, 192, "AES-192-GCM", 24, 4, 1, 8, 16 },
	{ IKE_ENCR_AES_GCM_16, 256, "AES-256-GCM", 32, 4, 1, 8, 16 },
	/* RFC 7634 §3: laid out as AES-GCM's, no Key Length attribute */
	{ IKE_ENCR_CHACHA20_POLY1305, 0, "ChaCha20-Poly1305", 32, 4, 1, 8, 16 },
};

static const struct ikecr_integ integs[] = {
	{ IKE_INTEG_HMAC_SHA1_96, "SHA1", 20, 12, IKECR_MAC_HMAC },	   /* RFC 2404 */
	{ IKE_INTEG_HMAC_SHA2_256_128, "SHA256", 32, 16, IKECR_MAC_HMAC }, /* RFC 4868 */
	{ IKE_INTEG_HMAC_SHA2_384_192, "SHA384", 48, 24, IKECR_MAC_HMAC },
	{ IKE_INTEG_HMAC_SHA2_512_256, "SHA512", 64, 32, IKECR_MAC_HMAC },
	{ IKE_INTEG_AES_XCBC_96, "AES-XCBC", 16, 12, IKECR_MAC_AES_XCBC }, /* RFC 3566 */
	{ IKE_INTEG_AES_CMAC_96, "AES-CMAC", 16, 12, IKECR_MAC_AES_CMAC }, /* RFC 4494 */
};

static const struct ikecr_prf prfs[] = {
	{ IKE_PRF_HMAC_MD5, IKEV1_HASH_MD5, "MD5", 16, IKECR_MAC_HMAC },
	{ IKE_PRF_HMAC_SHA1, IKEV1_HASH_SHA, "SHA1", 20, IKECR_MAC_HMAC },
	{ IKE_PRF_HMAC_SHA2_256, IKEV1_HASH_SHA2_256, "SHA256", 32, IKECR_MAC_HMAC },
	{ IKE_PRF_HMAC_SHA2_384, IKEV1_HASH_SHA2_384, "SHA384", 48, IKECR_MAC_HMAC },
	{ IKE_PRF_HMAC_SHA2_512, IKEV1_HASH_SHA2_512, "SHA512", 64, IKECR_MAC_HMAC },
	{ IKE_PRF_AES128_XCBC, 0, "AES-XCBC", 16, IKECR_MAC_AES_XCBC }, /* RFC 4434 */
	{ IKE_PRF_AES128_CMAC, 0, "AES-CMAC", 16, IKECR_MAC_AES_CMAC }, /* RFC 4615 */
};

const struct ikecr_cipher *ikecr_cipher_find(uint16_t encr, uint16_t bits)
{
	for (size_t i = 0; i < N(ciphers); i++)
		if (ciphers[i].encr == encr && ciphers[i].bits == bits)
			return &ciphers[i];
	return NULL;
}

const struct ikecr_integ *ikecr_integ_find(uint16_t integ)
{
	for (size_t i = 0; i < N(integs); i++)
		if (integs[i].integ == integ)
			return &integs[i];
	return NULL;
}

const struct ikecr_prf *ikecr_prf_find(uint16_t prf)
{
	for (size_t i = 0; i < N(prfs); i++)
		if (prfs[i].prf == prf)
			return &prfs[i];
	return NULL;
}

const struct ikecr_prf *ikecr_prf_of_ikev1_hash(uint16_t hash)
{
	for (size_t i = 0; i < N(prfs); i++)
		if (prfs[i].ikev1_hash != 0 && prfs[i].ikev1_hash == hash)
			return &prfs[i];
	return NULL;
}

/* DES's 4 weak and 12 semi-weak keys (FIPS 74 §3.6), with odd parity. */
static const uint8_t des_weak[][8] = {
	{ 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01 },
	{ 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe },
	{ 0x1f, 0x1f, 0x1f, 0x1f, 0x0e, 0x0e, 0x0e, 0x0e },
	{ 0xe0, 0xe0, 0xe0, 0xe0, 0xf1, 0xf1, 0xf1, 0xf1 },
	{ 0x01, 0xfe, 0x01, 0xfe, 0x01, 0xfe, 0x01, 0xfe },
	{ 0xfe, 0x01, 0xfe, 0x01, 0xfe, 0x01, 0xfe, 0x01 },
	{ 0x1f, 0xe0, 0x1f, 0xe0, 0x0e, 0xf1, 0x0e, 0xf1 },
	{ 0xe0, 0x1f, 0xe0, 0x1f, 0xf1, 0x0e, 0xf1, 0x0e },
	{ 0x01, 0xe0, 0x01, 0xe0, 0x01, 0xf1, 0x01, 0xf1 },
	{ 0xe0, 0x01, 0xe0, 0x01, 0xf1, 0x01, 0xf1, 0x01 },
	{ 0x1f, 0xfe, 0x1f, 0xfe, 0x0e, 0xfe, 0x0e, 0xfe },
	{ 0xfe, 0x1f, 0xfe, 0x1f, 0xfe, 0x0e, 0xfe, 0x0e },
	{ 0x01, 0x1f, 0x01, 0x1f, 0x01, 0x0e, 0x01, 0x0e },
	{ 0x1f, 0x01, 0x1f, 0x01, 0x0e, 0x01, 0x0e, 0x01 },
	{ 0xe0, 0xfe, 0xe0, 0xfe, 0xf1, 0xfe, 0xf1, 0xfe },
	{ 0xfe, 0xe0, 0xfe, 0xe0, 0xfe, 0xf1, 0xfe, 0xf1 },
};

bool ikecr_weak_key(const char *cipher, const uint8_t *key)
{
	if (strcmp(cipher, "DES-CBC") != 0)
		return false;
	for (size_t i = 0; i < N(des_weak); i++) {
		size_t b = 0;

		while (b < 8 && ((key[b] ^ des_weak[i][b]) & 0xfe) == 0) /* bit 0: parity */
			b++;
		if (b == 8)
			return true;
	}
	return false;
}

/* The integrity half of an IKEv2 suite: none with AEAD, one with CBC. */
static int v2_integ(struct ikev2_keys *k, const struct ikecr_cipher *c, uint16_t integ,
		    struct ike_err *err)
{
	const struct ikecr_integ *i = ikecr_integ_find(integ);

	if (c->icv_len) {
		if (integ != IKE_INTEG_NONE)
			return ike_fail(err, -EOPNOTSUPP,
					"IKEv2 suite: AEAD cipher %s takes no integrity algorithm, got %u",
					c->evp, integ);
		k->icv_len = c->icv_len;
		return 0;
	}
	if (i == NULL)
		return ike_fail(err, -EOPNOTSUPP,
				"IKEv2 suite: integrity algorithm %u is not supported%s", integ,
				integ == IKE_INTEG_NONE ? " (CBC needs one)" : "");
	k->integ_md = i->md;
	k->integ_mac = i->mac;
	k->a_len = i->key_len;
	k->icv_len = i->icv_len;
	return 0;
}

int ikev2_keys_init(struct ikev2_keys *k, const struct ike_suite *s, bool initiator,
		    struct ike_err *err)
{
	const struct ikecr_cipher *c = ikecr_cipher_find(s->encr, s->encr_bits);
	const struct ikecr_prf *p = ikecr_prf_find(s->prf);

	*k = (struct ikev2_keys){ .suite = *s, .initiator = initiator };
	if (c == NULL || s->encr == IKE_ENCR_DES) /* RFC 8247: MUST NOT for IKEv2 */
		return ike_fail(err, -EOPNOTSUPP,
				"IKEv2 suite: cipher %u with a %u-bit key is not supported", s->encr,
				s->encr_bits);
	if (p == NULL || p->prf == IKE_PRF_HMAC_MD5) /* RFC 8247: MUST NOT for IKEv2 */
		return ike_fail(err, -EOPNOTSUPP, "IKEv2 suite: PRF %u is not supported", s->prf);
	k->cipher = c->evp;
	k->e_len = c->key_len + c->salt_len;
	k->salt_len = c->salt_len;
	k->iv_len = c->iv_len;
	k->block_len = c->block_len;
	k->prf_len = p->len;
	return v2_integ(k, c, s->integ, err);
}

int ikev1_keys_init(struct ikev1_keys *k, uint16_t hash, uint16_t encr, uint16_t key_bits,
		    struct ike_err *err)
{
	const struct ikecr_prf *p = ikecr_prf_of_ikev1_hash(hash);
	const struct ikecr_cipher *c = NULL;

	*k = (struct ikev1_keys){ 0 };
	if (encr == IKEV1_ENCR_DES_CBC && key_bits == 0)
		c = ikecr_cipher_find(IKE_ENCR_DES, 0);
	else if (encr == IKEV1_ENCR_3DES_CBC && key_bits == 0)
		c = ikecr_cipher_find(IKE_ENCR_3DES, 0);
	else if (encr == IKEV1_ENCR_AES_CBC)
		c = ikecr_cipher_find(IKE_ENCR_AES_CBC, key_bits);
	if (c == NULL)
		return ike_fail(err, -EOPNOTSUPP,
				"IKEv1 suite: encryption algorithm %u with a %u-bit key is not supported",
				encr, key_bits);
	if (p == NULL)
		return ike_fail(err, -EOPNOTSUPP, "IKEv1 suite: hash algorithm %u is not supported",
				hash);
	k->prf = p->prf;
	k->prf_len = p->len;
	k->cipher = c->evp;
	k->key_len = c->key_len;
	k->block_len = c->block_len;
	return ikecr_cipher_check(c->evp, err); /* DES: the legacy provider, now */
}

void ikev2_keys_wipe(struct ikev2_keys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

void ikev1_keys_wipe(struct ikev1_keys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}
