/* ikev2_proposal.c - SA and TS payloads of IKEv2 to and from the version-
 * neutral methods, offers and selectors (see ikev2_proposal.h). Child SA
 * algorithms map between dpsec's enums and IKEv2's transform IDs here. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "dpsec_model.h"
#include "ike_sa.h"
#include "ikev2_proposal.h"

struct id_map {
	uint8_t dpsec;
	uint16_t ikev2;
};

static const struct id_map enc_ids[] = {
	{ DPSEC_ENC_AES_GCM_16, IKE_ENCR_AES_GCM_16 },
	{ DPSEC_ENC_AES_CBC, IKE_ENCR_AES_CBC },
	{ DPSEC_ENC_3DES_CBC, IKE_ENCR_3DES },
	{ DPSEC_ENC_CHACHA20_POLY1305, IKE_ENCR_CHACHA20_POLY1305 },
	{ DPSEC_ENC_NULL, IKE_ENCR_NULL },
	{ DPSEC_ENC_AES_CCM_8, IKE_ENCR_AES_CCM_8 },
	{ DPSEC_ENC_AES_CCM_12, IKE_ENCR_AES_CCM_12 },
	{ DPSEC_ENC_AES_CCM_16, IKE_ENCR_AES_CCM_16 },
	{ DPSEC_ENC_NULL_AUTH_AES_GMAC, IKE_ENCR_NULL_AUTH_AES_GMAC },
};

static const struct id_map integ_ids[] = {
	{ DPSEC_INTEG_NONE, IKE_INTEG_NONE },
	{ DPSEC_INTEG_HMAC_SHA1_96, IKE_INTEG_HMAC_SHA1_96 },
	{ DPSEC_INTEG_HMAC_SHA256_128, IKE_INTEG_HMAC_SHA2_256_128 },
	{ DPSEC_INTEG_HMAC_SHA384_192, IKE_INTEG_HMAC_SHA2_384_192 },
	{ DPSEC_INTEG_HMAC_SHA512_256, IKE_INTEG_HMAC_SHA2_512_256 },
	{ DPSEC_INTEG_AES_XCBC_96, IKE_INTEG_AES_XCBC_96 },
	{ DPSEC_INTEG_AES_CMAC_96, IKE_INTEG_AES_CMAC_96 },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static bool to_ikev2(const struct id_map *t, size_t n, uint8_t v, uint16_t *out)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].dpsec == v) {
			*out = t[i].ikev2;
			return true;
		}
	return false;
}

static bool to_dpsec(const struct id_map *t, size_t n, uint16_t v, uint8_t *out)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].ikev2 == v) {
			*out = t[i].dpsec;
			return true;
		}
	return false;
}

/* ---- building ---- */

static int cipher_add(struct ike_sa *sa, uint16_t id, uint16_t bits)
{
	int rc = ike_sa_add_transform(sa, IKEV2_TR_ENCR, id);

	if (rc == 0 && bits)
		rc = ike_sa_add_attr_tv(sa, IKEV2_ATTR_KEY_LENGTH, bits);
	return rc;
}

static int mm_proposal(struct ike_sa *sa, const struct ike_mm_method *m, uint8_t num,
		       const uint8_t *spi)
{
	int rc = ike_sa_add_proposal(sa, num, IKE_PROTO_IKE, spi, spi ? 8 : 0);

	if (rc == 0)
		rc = cipher_add(sa, m->suite.encr, m->suite.encr_bits);
	if (rc == 0 && m->suite.integ != IKE_INTEG_NONE)
		rc = ike_sa_add_transform(sa, IKEV2_TR_INTEG, m->suite.integ);
	if (rc == 0)
		rc = ike_sa_add_transform(sa, IKEV2_TR_PRF, m->suite.prf);
	if (rc == 0)
		rc = ike_sa_add_transform(sa, IKEV2_TR_DH, m->dh_group);
	return rc;
}

static int qm_proposal(struct ike_sa *sa, const struct ike_qm_method *m, uint8_t num, uint32_t spi)
{
	uint8_t spi_b[4] = { spi >> 24, spi >> 16, spi >> 8, spi };
	uint16_t enc = 0, integ = 0;
	int rc = ike_sa_add_proposal(sa, num, m->protocol, spi_b, 4);

	if (rc == 0 && !to_ikev2(integ_ids, N(integ_ids), m->integ_alg, &integ))
		rc = -EINVAL;
	if (rc == 0 && m->protocol == IKE_PROTO_ESP)
		rc = to_ikev2(enc_ids, N(enc_ids), m->enc_alg, &enc)
			     ? cipher_add(sa, enc, ike_qm_enc_bits(m))
			     : -EINVAL;
	if (rc == 0 && integ != IKE_INTEG_NONE)
		rc = ike_sa_add_transform(sa, IKEV2_TR_INTEG, integ);
	if (rc == 0 && m->dh_group)
		rc = ike_sa_add_transform(sa, IKEV2_TR_DH, m->dh_group);
	if (rc == 0)
		rc = ike_sa_add_transform(sa, IKEV2_TR_ESN, m->esn);
	return rc;
}

int ikev2_sa_from_mm(const struct ike_mm_method *m, size_t n, const uint8_t *spi,
		     struct ike_sa *out)
{
	int rc = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = mm_proposal(out, &m[i], (uint8_t)(i + 1), spi);
	return rc;
}

int ikev2_sa_from_qm(const struct ike_qm_method *m, size_t n, uint32_t spi, struct ike_sa *out)
{
	int rc = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = qm_proposal(out, &m[i], (uint8_t)(i + 1), spi);
	return rc;
}

int ikev2_sa_answer_mm(const struct ike_mm_method *m, uint8_t num, const uint8_t *spi,
		       struct ike_sa *out)
{
	memset(out, 0, sizeof(*out));
	return mm_proposal(out, m, num, spi);
}

int ikev2_sa_answer_qm(const struct ike_qm_method *m, uint8_t num, uint32_t spi,
		       struct ike_sa *out)
{
	memset(out, 0, sizeof(*out));
	return qm_proposal(out, m, num, spi);
}

/* ---- reading ---- */

static void value_add(struct ike_values *l, uint16_t v, uint16_t bits)
{
	if (l->n >= IKE_OFFER_MAX) {
		l->unknown = true;
		return;
	}
	l->v[l->n] = v;
	l->bits[l->n++] = bits;
}

static uint16_t key_bits(const struct ike_sa *sa, const struct ike_transform *t)
{
	const struct ike_attr *a = ike_tr_attr(sa, t, IKEV2_ATTR_KEY_LENGTH);
	uint64_t v = 0;

	return a && ike_attr_value(a, &v) == 0 && v <= UINT16_MAX ? (uint16_t)v : 0;
}

static void mm_transform(const struct ike_sa *sa, const struct ike_transform *t,
			 struct ike_mm_offer *o)
{
	switch (t->type) {
	case IKEV2_TR_ENCR:
		value_add(&o->encr, t->id, key_bits(sa, t));
		break;
	case IKEV2_TR_INTEG:
		value_add(&o->integ, t->id, 0);
		break;
	case IKEV2_TR_PRF:
		value_add(&o->prf, t->id, 0);
		break;
	case IKEV2_TR_DH:
		value_add(&o->dh, t->id, 0);
		break;
	default:
		break; /* an IKE proposal has no ESN; others are not ours to judge */
	}
}

/* The dpsec value of an IKEv2 ID, or the list marked as having an unknown one. */
static void mapped_add(const struct id_map *t, size_t n, struct ike_values *l, uint16_t id,
		       uint16_t bits)
{
	uint8_t v;

	if (to_dpsec(t, n, id, &v))
		value_add(l, v, bits);
	else
		l->unknown = true;
}

static void qm_transform(const struct ike_sa *sa, const struct ike_transform *t,
			 struct ike_qm_offer *o)
{
	switch (t->type) {
	case IKEV2_TR_ENCR:
		mapped_add(enc_ids, N(enc_ids), &o->enc, t->id, key_bits(sa, t));
		break;
	case IKEV2_TR_INTEG:
		mapped_add(integ_ids, N(integ_ids), &o->integ, t->id, 0);
		break;
	case IKEV2_TR_DH:
		value_add(&o->dh, t->id, 0);
		break;
	case IKEV2_TR_ESN:
		value_add(&o->esn, t->id, 0);
		break;
	default:
		break;
	}
}

size_t ikev2_mm_offers(const struct ike_sa *sa, struct ike_mm_offer *out, size_t cap)
{
	size_t n = 0;

	for (uint16_t p = 0; p < sa->n_prop && n < cap; p++) {
		const struct ike_proposal *pr = &sa->prop[p];
		struct ike_mm_offer *o = &out[n];

		if (pr->protocol != IKE_PROTO_IKE || (pr->spi_len != 0 && pr->spi_len != 8))
			continue;
		*o = (struct ike_mm_offer){ .num = pr->num, .spi_len = pr->spi_len };
		memcpy(o->spi, pr->spi, pr->spi_len);
		for (uint16_t t = 0; t < pr->n_tr; t++)
			mm_transform(sa, &sa->tr[pr->tr0 + t], o);
		n++;
	}
	return n;
}

size_t ikev2_qm_offers(const struct ike_sa *sa, struct ike_qm_offer *out, size_t cap)
{
	size_t n = 0;

	for (uint16_t p = 0; p < sa->n_prop && n < cap; p++) {
		const struct ike_proposal *pr = &sa->prop[p];
		struct ike_qm_offer *o = &out[n];

		if ((pr->protocol != IKE_PROTO_ESP && pr->protocol != IKE_PROTO_AH) ||
		    pr->spi_len != 4)
			continue;
		*o = (struct ike_qm_offer){ .num = pr->num, .protocol = pr->protocol,
					    .spi = ike_get32(pr->spi) };
		for (uint16_t t = 0; t < pr->n_tr; t++)
			qm_transform(sa, &sa->tr[pr->tr0 + t], o);
		n++;
	}
	return n;
}

static int one_proposal(const struct ike_sa *pl, size_t got, const char *what,
			struct ike_err *err)
{
	if (pl->n_prop != 1 || got != 1)
		return ike_fail(err, -EBADMSG, "answer: %u proposals, expected one %s proposal",
				pl->n_prop, what);
	return 0;
}

int ikev2_mm_answer(const struct ike_sa *pl, const struct ike_mm_method *ours, size_t n,
		    struct ike_mm_offer *got, size_t *chosen, struct ike_err *err)
{
	struct ike_choice c;

	if (one_proposal(pl, ikev2_mm_offers(pl, got, 1), "IKE", err) || ike_mm_answer_ok(got, err))
		return -EBADMSG;
	if (ike_mm_select(ours, n, got, 1, &c))
		return ike_fail(err, -EBADMSG, "answer: the peer chose an IKE suite we did not offer");
	*chosen = c.method;
	return 0;
}

int ikev2_qm_answer(const struct ike_sa *pl, const struct ike_qm_method *ours, size_t n,
		    struct ike_qm_offer *got, size_t *chosen, struct ike_err *err)
{
	struct ike_choice c;

	if (one_proposal(pl, ikev2_qm_offers(pl, got, 1), "ESP/AH", err) || ike_qm_answer_ok(got, err))
		return -EBADMSG;
	if (ike_qm_select(ours, n, got, 1, &c))
		return ike_fail(err, -EBADMSG, "answer: the peer chose a child SA method we did not offer");
	*chosen = c.method;
	return 0;
}

/* ---- traffic selectors ---- */

void ikev2_ts_from_set(const struct ike_ts_set *s, struct ikev2_ts_list *out)
{
	out->n = 0;
	for (uint8_t i = 0; i < s->n && out->n < IKEV2_MAX_TS; i++) {
		const struct ike_ts *t = &s->ts[i];
		struct ikev2_ts *w = &out->ts[out->n++];

		w->type = t->lo.family == DPSEC_AF_INET ? IKEV2_TS_IPV4_ADDR_RANGE
							: IKEV2_TS_IPV6_ADDR_RANGE;
		w->ip_proto = t->proto;
		w->port_lo = t->port_lo;
		w->port_hi = t->port_hi;
		memcpy(w->addr_lo, t->lo.a, 16);
		memcpy(w->addr_hi, t->hi.a, 16);
	}
}

int ikev2_ts_to_set(const struct ikev2_ts_list *l, struct ike_ts_set *out)
{
	out->n = 0;
	for (uint8_t i = 0; i < l->n && out->n < IKE_MAX_TS; i++) {
		const struct ikev2_ts *w = &l->ts[i];
		uint8_t fam = w->type == IKEV2_TS_IPV4_ADDR_RANGE ? DPSEC_AF_INET : DPSEC_AF_INET6;
		struct ike_ts *t = &out->ts[out->n++];

		*t = (struct ike_ts){ .proto = w->ip_proto, .port_lo = w->port_lo,
				      .port_hi = w->port_hi };
		t->lo.family = t->hi.family = fam;
		memcpy(t->lo.a, w->addr_lo, fam == DPSEC_AF_INET ? 4 : 16);
		memcpy(t->hi.a, w->addr_hi, fam == DPSEC_AF_INET ? 4 : 16);
	}
	return out->n ? 0 : -E2BIG;
}
