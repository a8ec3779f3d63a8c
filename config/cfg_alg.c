/* cfg_alg.c - the configuration's names for ciphers and integrity
 * algorithms, one table each: static SAs (cfg_sa.c) and the policy store's
 * security methods (cfg_store.c) read them, the store's writer (cfg_save.c)
 * writes them back. */
#include <string.h>

#include "cfg_priv.h"

const struct cfg_enc cfg_encs[] = {
	{ "aes128gcm16", DPSEC_ENC_AES_GCM_16, 16, DPSEC_GCM_SALT_LEN,
	  "16-byte AES key + 4-byte salt, RFC 4106" },
	{ "aes192gcm16", DPSEC_ENC_AES_GCM_16, 24, DPSEC_GCM_SALT_LEN,
	  "24-byte AES key + 4-byte salt, RFC 4106" },
	{ "aes256gcm16", DPSEC_ENC_AES_GCM_16, 32, DPSEC_GCM_SALT_LEN,
	  "32-byte AES key + 4-byte salt, RFC 4106" },
	{ "aes128gmac", DPSEC_ENC_NULL_AUTH_AES_GMAC, 16, DPSEC_GCM_SALT_LEN,
	  "16-byte AES key + 4-byte salt, RFC 4543 (integrity only)" },
	{ "aes192gmac", DPSEC_ENC_NULL_AUTH_AES_GMAC, 24, DPSEC_GCM_SALT_LEN,
	  "24-byte AES key + 4-byte salt, RFC 4543 (integrity only)" },
	{ "aes256gmac", DPSEC_ENC_NULL_AUTH_AES_GMAC, 32, DPSEC_GCM_SALT_LEN,
	  "32-byte AES key + 4-byte salt, RFC 4543 (integrity only)" },
	{ "aes128ccm8", DPSEC_ENC_AES_CCM_8, 16, 3, "16-byte AES key + 3-byte salt, RFC 4309" },
	{ "aes128ccm12", DPSEC_ENC_AES_CCM_12, 16, 3, "16-byte AES key + 3-byte salt, RFC 4309" },
	{ "aes128ccm16", DPSEC_ENC_AES_CCM_16, 16, 3, "16-byte AES key + 3-byte salt, RFC 4309" },
	{ "aes256ccm8", DPSEC_ENC_AES_CCM_8, 32, 3, "32-byte AES key + 3-byte salt, RFC 4309" },
	{ "aes256ccm12", DPSEC_ENC_AES_CCM_12, 32, 3, "32-byte AES key + 3-byte salt, RFC 4309" },
	{ "aes256ccm16", DPSEC_ENC_AES_CCM_16, 32, 3, "32-byte AES key + 3-byte salt, RFC 4309" },
	{ "aes128", DPSEC_ENC_AES_CBC, 16, 0, "the AES-128 key" },
	{ "aes192", DPSEC_ENC_AES_CBC, 24, 0, "the AES-192 key" },
	{ "aes256", DPSEC_ENC_AES_CBC, 32, 0, "the AES-256 key" },
	{ "3des", DPSEC_ENC_3DES_CBC, 24, 0, "the three 8-byte DES keys K1 K2 K3, RFC 2451" },
	{ "chacha20poly1305", DPSEC_ENC_CHACHA20_POLY1305, 32, DPSEC_GCM_SALT_LEN,
	  "32-byte ChaCha20 key + 4-byte salt, RFC 7634" },
	{ "null", DPSEC_ENC_NULL, 0, 0, "no key, RFC 2410" },
	{ NULL, 0, 0, 0, NULL }
};

const struct cfg_kw cfg_integ_kw[] = {
	{ "none", DPSEC_INTEG_NONE },
	{ "sha1_96", DPSEC_INTEG_HMAC_SHA1_96 },
	{ "sha256_128", DPSEC_INTEG_HMAC_SHA256_128 },
	{ "sha384_192", DPSEC_INTEG_HMAC_SHA384_192 },
	{ "sha512_256", DPSEC_INTEG_HMAC_SHA512_256 },
	{ "aesxcbc_96", DPSEC_INTEG_AES_XCBC_96 },
	{ "aescmac_96", DPSEC_INTEG_AES_CMAC_96 },
	{ NULL, 0 }
};

#define N_ENCS (sizeof(cfg_encs) / sizeof(cfg_encs[0]) - 1)

/* RFC 4309's AES-192 CCM, which the table leaves out: named, so that its
 * refusal says why rather than only listing the rest. */
static int refuse_ccm192(struct cfg_ctx *c, const config_setting_t *g)
{
	const config_setting_t *s = config_setting_get_member(g, "encryption");
	const char *v;

	if (s == NULL || config_setting_type(s) != CONFIG_TYPE_STRING)
		return 0; /* cfg_keyword says what is wrong with it */
	v = config_setting_get_string(s);
	if (strncmp(v, "aes192ccm", 9) != 0)
		return 0;
	return cfg_fail(c, s, "\"%.40s\": AES-CCM with a 192-bit key is not supported (intel-ipsec-mb, "
			"dpsec's crypto library, has none); use aes128ccm* or aes256ccm*", v);
}

int cfg_encryption(struct cfg_ctx *c, const config_setting_t *g, bool req, bool with_none,
		   const struct cfg_enc **out)
{
	struct cfg_kw kw[N_ENCS + 2];
	size_t n;
	int i = -1, r;

	if (refuse_ccm192(c, g) < 0)
		return -1;
	for (n = 0; n < N_ENCS; n++)
		kw[n] = (struct cfg_kw){ cfg_encs[n].name, (int)n };
	if (with_none)
		kw[n++] = (struct cfg_kw){ "none", -1 };
	kw[n] = (struct cfg_kw){ NULL, 0 };
	r = cfg_keyword(c, g, "encryption", req, kw, &i);
	*out = r == 1 && i >= 0 ? &cfg_encs[i] : NULL;
	return r;
}

const char *cfg_enc_name(uint8_t alg, uint8_t key_len)
{
	for (const struct cfg_enc *e = cfg_encs; e->name; e++)
		if (e->alg == alg && e->key_len == key_len)
			return e->name;
	return "none";
}

const char *cfg_integ_rfc(uint8_t alg)
{
	switch (alg) {
	case DPSEC_INTEG_HMAC_SHA1_96: return "RFC 2404";
	case DPSEC_INTEG_AES_XCBC_96: return "RFC 3566";
	case DPSEC_INTEG_AES_CMAC_96: return "RFC 4494";
	default: return "RFC 4868";
	}
}

const char *cfg_integ_name(uint8_t alg)
{
	for (const struct cfg_kw *k = cfg_integ_kw; k->name; k++)
		if (k->value == alg)
			return k->name;
	return "none";
}
