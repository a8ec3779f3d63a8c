/* cfg_main_mode.c - a policy's Main Mode (IKE SA) security methods in the
 * policy store: `main_mode.methods`, each a cipher, an integrity algorithm
 * (IKEv2 with a CBC cipher only), a PRF (HMAC; for IKEv2 also AES-XCBC or
 * AES-CMAC) and a Diffie-Hellman group, read
 * into IKEv2 transform IDs and checked against what dpsec-ctld's IKE runs
 * for the policy's IKE version; and their names back for saving and
 * showing. */
#include <string.h>

#include "cfg_priv.h"
#include "cfg_store.h"

/* IKEv2 transform IDs (RFC 7296 §3.3.2, IANA's registry); cfg_store.h
 * keeps the numbers so that the store needs no IKE header. */
enum {
	ENCR_3DES = 3, ENCR_AES_CBC = 12, ENCR_AES_GCM_16 = 20, ENCR_CHACHA20_POLY1305 = 28,
	INTEG_NONE = 0, PRF_AES128_XCBC = 4, PRF_AES128_CMAC = 8,
};

static const char *const mm_method_fields[] = {
	"encryption", "integrity", "prf", "dh_group", NULL
};

struct mm_cipher {
	const char *name;
	uint16_t encr, bits;
	bool aead, ikev1;
};

static const struct mm_cipher mm_ciphers[] = {
	{ "aes128", ENCR_AES_CBC, 128, false, true },
	{ "aes192", ENCR_AES_CBC, 192, false, true },
	{ "aes256", ENCR_AES_CBC, 256, false, true },
	{ "3des", ENCR_3DES, 0, false, true },
	{ "aes128gcm16", ENCR_AES_GCM_16, 128, true, false }, /* RFC 5282 */
	{ "aes192gcm16", ENCR_AES_GCM_16, 192, true, false },
	{ "aes256gcm16", ENCR_AES_GCM_16, 256, true, false },
	{ "chacha20poly1305", ENCR_CHACHA20_POLY1305, 0, true, false }, /* RFC 7634 */
	{ NULL, 0, 0, false, false },
};

static const struct cfg_kw mm_integ_kw[] = {
	{ "none", INTEG_NONE },		{ "sha1_96", 2 },
	{ "sha256_128", 12 },		{ "sha384_192", 13 },
	{ "sha512_256", 14 },		{ "aesxcbc_96", 5 }, /* RFC 3566 */
	{ "aescmac_96", 8 }, /* RFC 4494 */ { NULL, 0 },
};

/* The HMACs, and for IKEv2 AES-XCBC-PRF-128 (RFC 4434), AES-CMAC-PRF-128
 * (RFC 4615). */
static const struct cfg_kw mm_prf_kw[] = {
	{ "sha1", 2 },	  { "sha256", 5 },  { "sha384", 6 }, { "sha512", 7 },
	{ "aesxcbc", PRF_AES128_XCBC }, { "aescmac", PRF_AES128_CMAC }, { NULL, 0 },
};

/* MODP (RFC 3526) and ECP (RFC 5903) groups serve both IKE versions;
 * Curve25519 (RFC 8031) is IKEv2's. MODP-1024 is IKEv1's legacy_suites. */
static const struct cfg_kw mm_dh_kw[] = {
	{ "modp2048", 14 }, { "modp3072", 15 }, { "modp4096", 16 }, { "ecp256", 19 },
	{ "ecp384", 20 },   { "ecp521", 21 },   { "curve25519", 31 }, { NULL, 0 },
};
#define DH_CURVE25519 31

static const struct mm_cipher *mm_cipher_of(const struct cfg_mm_method *m)
{
	for (const struct mm_cipher *c = mm_ciphers; c->name; c++)
		if (c->encr == m->encr && c->bits == m->encr_bits)
			return c;
	return NULL;
}

static const char *kw_name(const struct cfg_kw *kw, int value)
{
	for (; kw->name; kw++)
		if (kw->value == value)
			return kw->name;
	return "?";
}

const char *cfg_mm_encryption_name(const struct cfg_mm_method *m)
{
	const struct mm_cipher *c = mm_cipher_of(m);

	return c ? c->name : "?";
}

const char *cfg_mm_integrity_name(const struct cfg_mm_method *m)
{
	return kw_name(mm_integ_kw, m->integ);
}

const char *cfg_mm_prf_name(const struct cfg_mm_method *m)
{
	return kw_name(mm_prf_kw, m->prf);
}

const char *cfg_mm_dh_name(const struct cfg_mm_method *m)
{
	return kw_name(mm_dh_kw, m->dh_group);
}

/* "encryption" by mm_ciphers' names; the message lists them. */
static int mm_encryption(struct cfg_ctx *c, const config_setting_t *g,
			 const struct mm_cipher **out)
{
	const config_setting_t *s;
	const char *name;

	if (cfg_str(c, g, "encryption", true, 32, &name) < 0)
		return -1;
	for (const struct mm_cipher *k = mm_ciphers; k->name; k++)
		if (strcmp(k->name, name) == 0) {
			*out = k;
			return 0;
		}
	s = config_setting_get_member(g, "encryption");
	return cfg_fail(c, s, "unknown IKE SA cipher \"%s\" (aes128, aes192, aes256, 3des, "
			"aes128gcm16, aes192gcm16, aes256gcm16, chacha20poly1305)", name);
}

/* What the policy's IKE version can run: IKEv1's Main Mode has no combined
 * modes and authenticates with the PRF's HMAC; IKEv2 needs an integrity
 * algorithm with CBC and none with a combined mode. */
static int mm_method_check(struct cfg_ctx *c, const config_setting_t *g, unsigned version,
			   const struct mm_cipher *k, const struct cfg_mm_method *m)
{
	const config_setting_t *integ = config_setting_get_member(g, "integrity");

	if (version == 1 && (m->prf == PRF_AES128_XCBC || m->prf == PRF_AES128_CMAC))
		return cfg_fail(c, config_setting_get_member(g, "prf"),
				"IKEv1's PRF is the HMAC of its hash: take sha1, sha256, sha384 or "
				"sha512");
	if (version == 1 && !k->ikev1)
		return cfg_fail(c, config_setting_get_member(g, "encryption"),
				"IKEv1's Main Mode has no combined-mode ciphers: take aes128, aes192, "
				"aes256 or 3des");
	if (version == 1 && integ != NULL)
		return cfg_fail(c, integ, "IKEv1 authenticates Main Mode with the HMAC of the PRF's "
				"hash: remove integrity");
	if (version == 1 && m->dh_group == DH_CURVE25519)
		return cfg_fail(c, config_setting_get_member(g, "dh_group"),
				"Curve25519 (RFC 8031) is IKEv2's: take a MODP or ECP group");
	if (version == 2 && k->aead && m->integ != INTEG_NONE)
		return cfg_fail(c, integ, "%s is a combined mode: integrity must be \"none\"", k->name);
	if (version == 2 && !k->aead && m->integ == INTEG_NONE)
		return cfg_fail_in(c, g, "integrity", "%s needs an integrity algorithm with IKEv2",
				   k->name);
	return 0;
}

static int load_mm_method(struct cfg_ctx *c, const config_setting_t *g, unsigned version,
			  struct cfg_mm_method *m)
{
	const struct mm_cipher *k = NULL;
	int integ = INTEG_NONE, prf = 0, dh = 0;

	if (cfg_group(c, g, mm_method_fields) || mm_encryption(c, g, &k) < 0 ||
	    cfg_keyword(c, g, "integrity", false, mm_integ_kw, &integ) < 0 ||
	    cfg_keyword(c, g, "prf", true, mm_prf_kw, &prf) < 0 ||
	    cfg_keyword(c, g, "dh_group", true, mm_dh_kw, &dh) < 0)
		return -1;
	*m = (struct cfg_mm_method){ .encr = k->encr, .encr_bits = k->bits, .integ = (uint16_t)integ,
				     .prf = (uint16_t)prf, .dh_group = (uint16_t)dh };
	return mm_method_check(c, g, version, k, m);
}

static bool mm_same(const struct cfg_mm_method *a, const struct cfg_mm_method *b)
{
	return a->encr == b->encr && a->encr_bits == b->encr_bits && a->integ == b->integ &&
	       a->prf == b->prf && a->dh_group == b->dh_group;
}

int cfg_load_mm_methods(struct cfg_ctx *c, const config_setting_t *g, struct cfg_main_mode *mm)
{
	const config_setting_t *l;
	int r = cfg_list(c, g, "methods", false, 1, CFG_MAX_MM_METHODS, &l);

	mm->n_methods = 0;
	if (r <= 0)
		return r;
	for (unsigned i = 0; i < (unsigned)config_setting_length(l); i++) {
		const config_setting_t *e = config_setting_get_elem(l, i);

		if (load_mm_method(c, e, mm->ike_version, &mm->methods[i]) < 0)
			return -1;
		for (unsigned j = 0; j < i; j++)
			if (mm_same(&mm->methods[j], &mm->methods[i]))
				return cfg_fail(c, e, "the same method as methods.[%u]", j);
		mm->n_methods = (uint8_t)(i + 1);
	}
	return 0;
}
