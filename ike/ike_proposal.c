/* ike_proposal.c - matching offered proposals against our security methods
 * by the responder's order of preference (see ike_proposal.h), the checks
 * of an answer, and security methods from the policy store. */
#include <errno.h>

#include "dpsec_model.h"
#include "ike_dh.h"
#include "ike_proposal.h"
#include "ike_sa.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

const struct ike_mm_method ike_mm_defaults[] = {
	{ { IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256 }, IKE_DH_ECP_256 },
	{ { IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256 }, IKE_DH_ECP_256 },
	{ { IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128, IKE_PRF_HMAC_SHA2_256 },
	  IKE_DH_ECP_256 },
	{ { IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256 }, IKE_DH_MODP_2048 },
	{ { IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128, IKE_PRF_HMAC_SHA2_256 },
	  IKE_DH_MODP_2048 },
	/* for peers without AES instructions (RFC 7634, RFC 8247 §2.1's SHOULD) */
	{ { IKE_ENCR_CHACHA20_POLY1305, 0, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256 },
	  IKE_DH_CURVE25519 },
};
const size_t ike_mm_defaults_n = N(ike_mm_defaults);

static bool has(const struct ike_values *l, uint16_t v)
{
	for (uint8_t i = 0; i < l->n; i++)
		if (l->v[i] == v)
			return true;
	return false;
}

static bool has_cipher(const struct ike_values *l, uint16_t v, uint16_t bits)
{
	for (uint8_t i = 0; i < l->n; i++)
		if (l->v[i] == v && l->bits[i] == bits)
			return true;
	return false;
}

/* "None" is accepted when the proposal leaves the type out or lists it. */
static bool has_or_absent(const struct ike_values *l, uint16_t none)
{
	return (l->n == 0 && !l->unknown) || has(l, none);
}

bool ike_mm_offer_accepts(const struct ike_mm_offer *o, const struct ike_mm_method *m)
{
	bool aead = m->suite.integ == IKE_INTEG_NONE;

	return has_cipher(&o->encr, m->suite.encr, m->suite.encr_bits) &&
	       (aead ? has_or_absent(&o->integ, IKE_INTEG_NONE) : has(&o->integ, m->suite.integ)) &&
	       has(&o->prf, m->suite.prf) && has(&o->dh, m->dh_group);
}

bool ike_qm_offer_accepts(const struct ike_qm_offer *o, const struct ike_qm_method *m)
{
	bool esp = m->protocol == IKE_PROTO_ESP;

	if (o->protocol != m->protocol)
		return false;
	if (esp && !has_cipher(&o->enc, m->enc_alg, ike_qm_enc_bits(m)))
		return false;
	if (m->integ_alg == DPSEC_INTEG_NONE ? !has_or_absent(&o->integ, DPSEC_INTEG_NONE)
					     : !has(&o->integ, m->integ_alg))
		return false;
	if (m->dh_group == 0 ? !has_or_absent(&o->dh, 0) : !has(&o->dh, m->dh_group))
		return false;
	return m->esn ? has(&o->esn, 1) : has_or_absent(&o->esn, 0);
}

/* The rule of ike_proposal.h over either kind: our methods in order, then
 * the offers in order; the first pair that matches. */
static int select_first(const void *ours, size_t m_size, size_t n_ours, const void *offers,
			size_t o_size, size_t n_offers,
			bool (*accepts)(const void *offer, const void *method), struct ike_choice *out)
{
	for (size_t m = 0; m < n_ours; m++)
		for (size_t o = 0; o < n_offers; o++)
			if (accepts((const char *)offers + o * o_size, (const char *)ours + m * m_size)) {
				*out = (struct ike_choice){ m, o };
				return 0;
			}
	return -ENOENT;
}

static bool mm_accepts(const void *offer, const void *method)
{
	return ike_mm_offer_accepts(offer, method);
}

static bool qm_accepts(const void *offer, const void *method)
{
	return ike_qm_offer_accepts(offer, method);
}

int ike_mm_select(const struct ike_mm_method *ours, size_t n_ours, const struct ike_mm_offer *offers,
		  size_t n_offers, struct ike_choice *out)
{
	return select_first(ours, sizeof(*ours), n_ours, offers, sizeof(*offers), n_offers,
			    mm_accepts, out);
}

int ike_qm_select(const struct ike_qm_method *ours, size_t n_ours, const struct ike_qm_offer *offers,
		  size_t n_offers, struct ike_choice *out)
{
	return select_first(ours, sizeof(*ours), n_ours, offers, sizeof(*offers), n_offers,
			    qm_accepts, out);
}

static int count_ok(const struct ike_values *l, uint8_t min, const char *what,
		    struct ike_err *err)
{
	if (l->n < min || l->n > 1)
		return ike_fail(err, -EBADMSG, "answered proposal: %u %s, expected %s", l->n, what,
				min ? "one" : "at most one");
	return 0;
}

int ike_mm_answer_ok(const struct ike_mm_offer *o, struct ike_err *err)
{
	if (count_ok(&o->encr, 1, "encryption algorithms", err) ||
	    count_ok(&o->integ, 0, "integrity algorithms", err) ||
	    count_ok(&o->prf, 1, "PRFs", err) || count_ok(&o->dh, 1, "DH groups", err))
		return -EBADMSG;
	return 0;
}

int ike_qm_answer_ok(const struct ike_qm_offer *o, struct ike_err *err)
{
	if (count_ok(&o->enc, o->protocol == IKE_PROTO_ESP, "encryption algorithms", err) ||
	    count_ok(&o->integ, 0, "integrity algorithms", err) ||
	    count_ok(&o->dh, 0, "DH groups", err) || count_ok(&o->esn, 0, "ESN choices", err))
		return -EBADMSG;
	return 0;
}

int ike_qm_method_from_cfg(const struct cfg_sec_method *m, uint16_t pfs_group,
			   struct ike_qm_method *out, struct ike_err *err)
{
	bool esp = m->protocol == CFG_PROTO_ESP;

	if (esp && m->enc_alg >= DPSEC_ENC_N)
		return ike_fail(err, -EOPNOTSUPP,
				"security method \"%s\": its encryption is not one the dataplane runs (AES-GCM-16, AES-CCM, AES-CBC, 3DES-CBC, ChaCha20-Poly1305, AES-GMAC or NULL)",
				m->name);
	if (m->integ_alg >= DPSEC_INTEG_N)
		return ike_fail(err, -EOPNOTSUPP,
				"security method \"%s\": its integrity algorithm is not one the dataplane runs (HMAC-SHA1-96, HMAC-SHA-256/384/512, AES-XCBC-MAC-96 or AES-CMAC-96)",
				m->name);
	if (pfs_group && ike_dh_public_len(pfs_group) == 0)
		return ike_fail(err, -EOPNOTSUPP, "security method \"%s\": PFS group %u is not supported",
				m->name, pfs_group);
	*out = (struct ike_qm_method){
		.protocol = esp ? IKE_PROTO_ESP : IKE_PROTO_AH,
		.enc_alg = esp ? m->enc_alg : 0,
		.enc_key_len = esp ? m->enc_key_len : 0,
		.integ_alg = m->integ_alg,
		.dh_group = pfs_group,
		.lifetime_seconds = m->lifetime_seconds,
		.lifetime_kilobytes = m->lifetime_kilobytes,
	};
	return 0;
}

size_t ike_qm_enc_keymat_len(const struct ike_qm_method *m)
{
	if (m->protocol != IKE_PROTO_ESP)
		return 0;
	return m->enc_key_len + dpsec_enc_salt_len(m->enc_alg);
}

/* AES (CBC, GCM, CCM, GMAC) is the only child SA cipher of several key
 * lengths: the others have no Key Length attribute (3DES's key is fixed,
 * RFC 7634 §4 forbids one for ChaCha20-Poly1305, NULL has no key, RFC
 * 2410). RFC 4543 asks for one with AES-GMAC. */
bool ike_enc_has_key_length(uint8_t enc_alg)
{
	return enc_alg == DPSEC_ENC_AES_CBC || enc_alg == DPSEC_ENC_AES_GCM_16 ||
	       dpsec_enc_is_ccm(enc_alg) || enc_alg == DPSEC_ENC_NULL_AUTH_AES_GMAC;
}

uint16_t ike_qm_enc_bits(const struct ike_qm_method *m)
{
	return ike_enc_has_key_length(m->enc_alg) ? (uint16_t)(m->enc_key_len * 8) : 0;
}

size_t ike_qm_integ_key_len(const struct ike_qm_method *m)
{
	return dpsec_integ_key_len(m->integ_alg);
}
