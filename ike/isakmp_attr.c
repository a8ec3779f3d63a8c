/* isakmp_attr.c - meaning of ISAKMP transform attributes: the IKE class of
 * RFC 2409 appendix A (phase 1) and the IPsec DOI class of RFC 2407 §4.5
 * (phase 2). Both lists come from the X-macros of isakmp_msg.h, whose B/V
 * column says which attributes must use the basic (TV) form. A life
 * duration follows its life type and may be TV or a TLV of up to 8 bytes. */
#include <errno.h>
#include <string.h>

#include "isakmp_msg.h"

#define BAD -EBADMSG
#define CASE_NAME(n, v, c) case v: return #n;
#define CASE_BASIC(n, v, c) case v: return #c[0] == 'B';

const char *isakmp_ike_attr_name(uint16_t t)
{
	switch (t) {
	ISAKMP_IKE_ATTRS(CASE_NAME)
	default: return NULL;
	}
}

const char *isakmp_ipsec_attr_name(uint16_t t)
{
	switch (t) {
	ISAKMP_IPSEC_ATTRS(CASE_NAME)
	default: return NULL;
	}
}

static bool ike_attr_basic_only(uint16_t t)
{
	switch (t) {
	ISAKMP_IKE_ATTRS(CASE_BASIC)
	default: return false;
	}
}

static bool ipsec_attr_basic_only(uint16_t t)
{
	switch (t) {
	ISAKMP_IPSEC_ATTRS(CASE_BASIC)
	default: return false;
	}
}

/* A life type waiting for its duration, and the durations found. */
struct life {
	const char *cls; /* "IKE" or "IPsec" */
	uint16_t pending;
	uint64_t secs, kb;
};

static int life_type(struct life *l, const struct ike_attr *a, struct ike_err *err)
{
	if (l->pending)
		return ike_fail(err, BAD, "%s attributes: life type %u without a duration", l->cls,
				l->pending);
	if (a->tv_value != ISAKMP_LIFE_SECONDS && a->tv_value != ISAKMP_LIFE_KILOBYTES)
		return ike_fail(err, BAD,
				"%s attributes: life type %u is neither seconds (1) nor kilobytes (2)",
				l->cls, a->tv_value);
	l->pending = a->tv_value;
	return 0;
}

static int life_duration(struct life *l, const struct ike_attr *a, struct ike_err *err)
{
	uint64_t v;

	if (l->pending == 0)
		return ike_fail(err, BAD, "%s attributes: life duration without a life type before it",
				l->cls);
	if (ike_attr_value(a, &v))
		return ike_fail(err, BAD, "%s attributes: life duration of %u bytes does not fit 64 bits",
				l->cls, a->data.len);
	if (v == 0)
		return ike_fail(err, BAD, "%s attributes: life duration 0", l->cls);
	*(l->pending == ISAKMP_LIFE_SECONDS ? &l->secs : &l->kb) = v;
	l->pending = 0;
	return 0;
}

static int life_end(const struct life *l, struct ike_err *err)
{
	if (l->pending)
		return ike_fail(err, BAD, "%s attributes: life type %u without a duration", l->cls,
				l->pending);
	return 0;
}

/* Known, in the form its class requires. */
static int attr_form_ok(const char *cls, const char *name, bool basic_only,
			const struct ike_attr *a, struct ike_err *err)
{
	if (name == NULL) {
		ike_fail(err, -EOPNOTSUPP, "%s attributes: attribute type %u is not known", cls,
			 a->type);
		if (err)
			err->notify = ISAKMP_N_ATTRIBUTES_NOT_SUPPORTED;
		return -EOPNOTSUPP;
	}
	if (basic_only && !a->tv)
		return ike_fail(err, BAD, "%s attributes: %s must be basic (TV), not %u bytes of TLV",
				cls, name, a->data.len);
	return 0;
}

static int ike_attr_apply(struct isakmp_ike_policy *out, struct life *l,
			  const struct ike_attr *a, struct ike_err *err)
{
	switch (a->type) {
	case ISAKMP_IKE_ENCRYPTION_ALGORITHM: out->enc = a->tv_value; return 0;
	case ISAKMP_IKE_HASH_ALGORITHM: out->hash = a->tv_value; return 0;
	case ISAKMP_IKE_AUTHENTICATION_METHOD: out->auth = a->tv_value; return 0;
	case ISAKMP_IKE_GROUP_DESCRIPTION: out->group = a->tv_value; return 0;
	case ISAKMP_IKE_PRF: out->prf = a->tv_value; return 0;
	case ISAKMP_IKE_KEY_LENGTH: out->key_len = a->tv_value; return 0;
	case ISAKMP_IKE_LIFE_TYPE: return life_type(l, a, err);
	case ISAKMP_IKE_LIFE_DURATION: return life_duration(l, a, err);
	default: return 0; /* custom group description: kept in the SA, not decoded */
	}
}

int isakmp_ike_attrs_decode(const struct ike_sa *sa, const struct ike_transform *t,
			    struct isakmp_ike_policy *out, struct ike_err *err)
{
	struct life l = { .cls = "IKE" };

	memset(out, 0, sizeof(*out));
	for (uint16_t i = 0; i < t->n_attrs; i++) {
		const struct ike_attr *a = &sa->attr[t->attr0 + i];
		int rc = attr_form_ok("IKE", isakmp_ike_attr_name(a->type),
				      ike_attr_basic_only(a->type), a, err);

		if (rc || (rc = ike_attr_apply(out, &l, a, err)))
			return rc;
	}
	out->life_secs = l.secs;
	out->life_kb = l.kb;
	return life_end(&l, err);
}

static int encap_ok(uint16_t v, struct ike_err *err)
{
	switch (v) {
	case ISAKMP_ENCAP_TUNNEL:
	case ISAKMP_ENCAP_TRANSPORT:
	case ISAKMP_ENCAP_UDP_TUNNEL:
	case ISAKMP_ENCAP_UDP_TRANSPORT:
	case ISAKMP_ENCAP_UDP_TUNNEL_DRAFT:
	case ISAKMP_ENCAP_UDP_TRANSPORT_DRAFT:
		return 0;
	default:
		return ike_fail(err, BAD, "IPsec attributes: encapsulation mode %u is not known", v);
	}
}

static int ipsec_attr_apply(struct isakmp_ipsec_policy *out, struct life *l,
			    const struct ike_attr *a, struct ike_err *err)
{
	switch (a->type) {
	case ISAKMP_IPSEC_ENCAPSULATION_MODE:
		out->encap = a->tv_value;
		return encap_ok(a->tv_value, err);
	case ISAKMP_IPSEC_AUTH_ALGORITHM: out->auth = a->tv_value; return 0;
	case ISAKMP_IPSEC_GROUP_DESCRIPTION: out->group = a->tv_value; return 0;
	case ISAKMP_IPSEC_KEY_LENGTH: out->key_len = a->tv_value; return 0;
	case ISAKMP_IPSEC_SA_LIFE_TYPE: return life_type(l, a, err);
	case ISAKMP_IPSEC_SA_LIFE_DURATION: return life_duration(l, a, err);
	default: return 0; /* key rounds, compression: kept, not decoded */
	}
}

int isakmp_ipsec_attrs_decode(const struct ike_sa *sa, const struct ike_transform *t,
			      struct isakmp_ipsec_policy *out, struct ike_err *err)
{
	struct life l = { .cls = "IPsec" };

	memset(out, 0, sizeof(*out));
	for (uint16_t i = 0; i < t->n_attrs; i++) {
		const struct ike_attr *a = &sa->attr[t->attr0 + i];
		int rc = attr_form_ok("IPsec", isakmp_ipsec_attr_name(a->type),
				      ipsec_attr_basic_only(a->type), a, err);

		if (rc || (rc = ipsec_attr_apply(out, &l, a, err)))
			return rc;
	}
	out->life_secs = l.secs;
	out->life_kb = l.kb;
	return life_end(&l, err);
}
