/* ikev1_qm_payloads.c - what Quick Mode (ikev1_quick.c) carries in its SA
 * and ID payloads: dpsec's algorithms as the IPsec DOI's numbers (RFC 2407
 * §4.4, §4.5), our methods built into proposals (one per method, with our
 * inbound SPI and lifetimes in seconds and kilobytes), the initiator's
 * transforms read back as offers for the shared choice (ike_proposal.h),
 * the encapsulation modes NAT-D allows (RFC 3947 §5.1), and traffic
 * selectors as IDci / IDcr and back. */
#include <errno.h>
#include <string.h>

#include "ikev1_exchange.h"

/* dpsec's ciphers as ESP transform IDs (RFC 2407 §4.4.4, IANA). */
static const struct { uint8_t alg; uint16_t id; } esp_v1[] = {
	{ DPSEC_ENC_3DES_CBC, 3 },
	{ DPSEC_ENC_NULL, 11 }, /* ESP_NULL, RFC 2410 */
	{ DPSEC_ENC_AES_CBC, 12 },
	{ DPSEC_ENC_AES_CCM_8, 14 }, /* RFC 4309 §7.1 */
	{ DPSEC_ENC_AES_CCM_12, 15 },
	{ DPSEC_ENC_AES_CCM_16, 16 },
	{ DPSEC_ENC_AES_GCM_16, 20 },
	{ DPSEC_ENC_NULL_AUTH_AES_GMAC, 23 }, /* ESP_NULL_AUTH_AES_GMAC, RFC 4543 */
};

/* Integrity algorithms as IKEv1 numbers: AH's transform ID (RFC 2407
 * §4.4.3) and ESP's Authentication Algorithm attribute (§4.5); RFC 4868
 * §3.1 gives SHA-2 the same number in both, RFC 3566 §5 AES-XCBC-MAC-96.
 * AES-CMAC-96 (RFC 4494) has none: IKEv2 only. */
static const struct { uint8_t alg; uint16_t ah_id, esp_auth; } integ_v1[] = {
	{ DPSEC_INTEG_HMAC_SHA1_96, 3, 2 },
	{ DPSEC_INTEG_HMAC_SHA256_128, 5, 5 },
	{ DPSEC_INTEG_HMAC_SHA384_192, 6, 6 },
	{ DPSEC_INTEG_HMAC_SHA512_256, 7, 7 },
	{ DPSEC_INTEG_AES_XCBC_96, 9, 9 },
};

#define N_INTEG_V1 (sizeof(integ_v1) / sizeof(integ_v1[0]))

/* The IKEv1 number of alg (as AH's transform or ESP's attribute). */
static uint16_t integ_number(uint8_t alg, bool ah)
{
	for (size_t i = 0; i < N_INTEG_V1; i++)
		if (integ_v1[i].alg == alg)
			return ah ? integ_v1[i].ah_id : integ_v1[i].esp_auth;
	return 0;
}

/* An IKEv1 number as dpsec's integrity algorithm; false for one dpsec
 * does not run. */
static bool integ_of_number(uint16_t id, bool ah, uint8_t *alg)
{
	for (size_t i = 0; i < N_INTEG_V1; i++)
		if ((ah ? integ_v1[i].ah_id : integ_v1[i].esp_auth) == id) {
			*alg = integ_v1[i].alg;
			return true;
		}
	return false;
}

/* ---- methods <-> transforms ---- */

static uint16_t encap_mode(const struct ikev1_sa *sa, bool transport)
{
	if (sa->local_nat || sa->remote_nat)
		return transport ? ISAKMP_ENCAP_UDP_TRANSPORT : ISAKMP_ENCAP_UDP_TUNNEL;
	return transport ? ISAKMP_ENCAP_TRANSPORT : ISAKMP_ENCAP_TUNNEL;
}

/* AH covers the outer addresses, which a NAT rewrites (RFC 3715 §2.1):
 * once NAT-D found one on the path, only ESP in UDP can carry a pair. */
static bool ah_blocked(const struct ikev1_sa *sa, uint8_t protocol)
{
	return protocol == IKE_PROTO_AH && (sa->local_nat || sa->remote_nat);
}

/* Whether IKEv1 can offer method m here: not AH across a NAT, and not
 * ChaCha20-Poly1305 or AES-CMAC-96, which have no IKEv1 number (RFC 7634
 * and RFC 4494 are for IKEv2): such a method serves IKEv2 peers only. */
static bool offerable(const struct ikev1_sa *sa, const struct ike_qm_method *m)
{
	return !ah_blocked(sa, m->protocol) &&
	       !(m->protocol == IKE_PROTO_ESP && m->enc_alg == DPSEC_ENC_CHACHA20_POLY1305) &&
	       (m->integ_alg == DPSEC_INTEG_NONE || integ_number(m->integ_alg, false) != 0);
}

bool ikev1_qm_mode_is_transport(uint16_t m)
{
	return m == ISAKMP_ENCAP_TRANSPORT || m == ISAKMP_ENCAP_UDP_TRANSPORT ||
	       m == ISAKMP_ENCAP_UDP_TRANSPORT_DRAFT;
}

static bool mode_is_udp(uint16_t m)
{
	return m == ISAKMP_ENCAP_UDP_TUNNEL || m == ISAKMP_ENCAP_UDP_TRANSPORT ||
	       m == ISAKMP_ENCAP_UDP_TUNNEL_DRAFT || m == ISAKMP_ENCAP_UDP_TRANSPORT_DRAFT;
}

/* RFC 3947 §5.1: the encapsulation follows NAT-D, ESP in UDP across a NAT
 * and plain ESP without one. The pair is installed by NAT-D's finding, so
 * a transform whose mode says otherwise would leave the peers encapsulating
 * differently: it is not one dpsec can agree to. */
static bool mode_fits_nat(const struct ikev1_sa *sa, uint16_t m)
{
	return mode_is_udp(m) == (sa->local_nat || sa->remote_nat);
}

static uint16_t transform_id(const struct ike_qm_method *m)
{
	if (m->protocol == IKE_PROTO_AH)
		return integ_number(m->integ_alg, true);
	for (size_t i = 0; i < sizeof(esp_v1) / sizeof(esp_v1[0]); i++)
		if (esp_v1[i].alg == m->enc_alg)
			return esp_v1[i].id;
	return 0; /* not offerable(): never asked */
}

/* An ESP transform ID as dpsec's cipher; false for one dpsec does not run. */
static bool esp_enc_alg(uint16_t id, uint8_t *alg)
{
	for (size_t i = 0; i < sizeof(esp_v1) / sizeof(esp_v1[0]); i++)
		if (esp_v1[i].id == id) {
			*alg = esp_v1[i].alg;
			return true;
		}
	*alg = 0;
	return false;
}

static void add_life(struct ike_sa *sa, uint16_t type, uint64_t v, uint8_t be[8])
{
	ike_sa_add_attr_tv(sa, ISAKMP_IPSEC_SA_LIFE_TYPE, type);
	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)(v >> (56 - 8 * i));
	ike_sa_add_attr_tlv(sa, ISAKMP_IPSEC_SA_LIFE_DURATION, be + 4, 4);
}

/* The first method IKEv1 can offer here, whose PFS group the Quick Mode
 * uses; NULL if none. */
const struct ike_qm_method *ikev1_qm_first_offered(const struct ikev1_sa *sa)
{
	for (uint8_t i = 0; i < sa->peer.n_qm; i++)
		if (offerable(sa, &sa->peer.qm[i]))
			return &sa->peer.qm[i];
	return NULL;
}

/* One proposal per method, numbered from 1, each with our SPI; none for AH
 * across a NAT. */
void ikev1_qm_offer_build(const struct ikev1_sa *sa, const struct ikev1_xchg *x,
			  struct ike_sa *out, uint8_t life[][2][8])
{
	uint8_t spi[4] = { (uint8_t)(x->spi_in >> 24), (uint8_t)(x->spi_in >> 16),
			   (uint8_t)(x->spi_in >> 8), (uint8_t)x->spi_in };

	*out = (struct ike_sa){ .doi = ISAKMP_DOI_IPSEC, .situation = ISAKMP_SIT_IDENTITY_ONLY };
	for (uint8_t i = 0; i < sa->peer.n_qm; i++) {
		const struct ike_qm_method *m = &sa->peer.qm[i];

		if (!offerable(sa, m))
			continue; /* numbers stay those of the methods: still increasing */
		ike_sa_add_proposal(out, (uint8_t)(i + 1), m->protocol, spi, 4);
		ike_sa_add_transform(out, 1, transform_id(m));
		add_life(out, ISAKMP_LIFE_SECONDS, m->lifetime_seconds, life[i][0]);
		add_life(out, ISAKMP_LIFE_KILOBYTES, m->lifetime_kilobytes, life[i][1]);
		ike_sa_add_attr_tv(out, ISAKMP_IPSEC_ENCAPSULATION_MODE, encap_mode(sa, x->transport));
		if (m->integ_alg != DPSEC_INTEG_NONE)
			ike_sa_add_attr_tv(out, ISAKMP_IPSEC_AUTH_ALGORITHM,
					   integ_number(m->integ_alg, false));
		if (m->protocol == IKE_PROTO_ESP && ike_qm_enc_bits(m) != 0)
			ike_sa_add_attr_tv(out, ISAKMP_IPSEC_KEY_LENGTH, ike_qm_enc_bits(m));
		if (m->dh_group)
			ike_sa_add_attr_tv(out, ISAKMP_IPSEC_GROUP_DESCRIPTION, m->dh_group);
	}
}

static void value(struct ike_values *v, bool known, uint16_t x, uint16_t bits)
{
	if (!known) {
		v->unknown = true;
		return;
	}
	v->v[0] = x;
	v->bits[0] = bits;
	v->n = 1;
}

/* A transform as an offer in dpsec's enums; unknown values never match. */
static void transform_offer(const struct ike_proposal *p, const struct ike_transform *t,
			    const struct isakmp_ipsec_policy *pol, struct ike_qm_offer *o)
{
	*o = (struct ike_qm_offer){ .num = p->num, .protocol = p->protocol };
	if (p->spi_len == 4)
		o->spi = ike_get32(p->spi);
	if (p->protocol == IKE_PROTO_ESP) {
		uint8_t alg;
		bool known = esp_enc_alg(t->id, &alg);

		/* the Key Length attribute as sent: AES without one matches
		 * none of our methods (RFC 3602 §5.3: it MUST be there, as the
		 * AES-GCM, AES-CCM and AES-GMAC RFCs say too), nor 3DES with one */
		value(&o->enc, known, alg, pol->key_len);
	}
	if (p->protocol == IKE_PROTO_AH || pol->auth) { /* AH: the transform; ESP: its attribute */
		bool ah = p->protocol == IKE_PROTO_AH;
		uint8_t alg = 0;
		bool known = integ_of_number(ah ? t->id : pol->auth, ah, &alg);

		value(&o->integ, known, alg, 0);
	}
	if (pol->group)
		value(&o->dh, true, pol->group, 0);
}

/* Every transform of every single-protocol proposal. Proposals sharing a
 * number (AH and ESP bundles), AH across a NAT and transforms whose
 * encapsulation mode contradicts NAT-D are not offered to the choice. */
void ikev1_qm_offers_read(const struct ikev1_sa *ike, const struct ike_sa *sa,
			  struct ikev1_qm_offers *out)
{
	out->n = 0;
	for (uint16_t i = 0; i < sa->n_prop; i++) {
		const struct ike_proposal *p = &sa->prop[i];
		bool bundle = (i > 0 && sa->prop[i - 1].num == p->num) ||
			      (i + 1 < sa->n_prop && sa->prop[i + 1].num == p->num);

		if (ah_blocked(ike, p->protocol))
			continue;
		for (uint16_t k = 0; k < p->n_tr && !bundle; k++) {
			struct isakmp_ipsec_policy pol;
			const struct ike_transform *t = &sa->tr[p->tr0 + k];

			if (isakmp_ipsec_attrs_decode(sa, t, &pol, NULL) || !mode_fits_nat(ike, pol.encap))
				continue;
			transform_offer(p, t, &pol, &out->o[out->n]);
			out->tr[out->n] = (uint16_t)(p->tr0 + k);
			out->prop[out->n++] = i;
		}
	}
}

/* ---- selectors <-> IDci / IDcr ---- */

static size_t addr_len(const struct dpsec_addr *a)
{
	return a->family == DPSEC_AF_INET ? 4 : 16;
}

/* Is lo..hi a prefix? Its mask then. */
static bool as_prefix(const struct ike_ts *t, uint8_t *mask)
{
	size_t n = addr_len(&t->lo);
	bool ones = true;

	for (size_t i = 0; i < n; i++) {
		uint8_t m = (uint8_t)~(t->lo.a[i] ^ t->hi.a[i]);

		if ((t->lo.a[i] & ~m) != 0 || (t->hi.a[i] | m) != 0xff || (!ones && m) ||
		    (uint8_t)(m | (m - 1)) != 0xff)
			return false;
		ones = m == 0xff;
		mask[i] = m;
	}
	return true;
}

size_t ikev1_qm_id_from_ts(const struct ike_ts *t, uint8_t *out)
{
	bool v4 = t->lo.family == DPSEC_AF_INET;
	size_t n = addr_len(&t->lo);
	uint8_t mask[16];

	out[1] = t->proto;
	out[2] = t->port_lo == t->port_hi ? (uint8_t)(t->port_lo >> 8) : 0;
	out[3] = t->port_lo == t->port_hi ? (uint8_t)t->port_lo : 0;
	memcpy(out + 4, t->lo.a, n);
	if (memcmp(t->lo.a, t->hi.a, n) == 0) {
		out[0] = v4 ? ISAKMP_ID_IPV4_ADDR : ISAKMP_ID_IPV6_ADDR;
		return 4 + n;
	}
	if (as_prefix(t, mask)) {
		out[0] = v4 ? ISAKMP_ID_IPV4_ADDR_SUBNET : ISAKMP_ID_IPV6_ADDR_SUBNET;
		memcpy(out + 4 + n, mask, n);
	} else {
		out[0] = v4 ? ISAKMP_ID_IPV4_ADDR_RANGE : ISAKMP_ID_IPV6_ADDR_RANGE;
		memcpy(out + 4 + n, t->hi.a, n);
	}
	return 4 + 2 * n;
}

static int ts_from_id(const struct isakmp_id *id, struct ike_ts *t, struct ike_err *err)
{
	uint8_t ty = id->type;
	bool v4 = ty == ISAKMP_ID_IPV4_ADDR || ty == ISAKMP_ID_IPV4_ADDR_SUBNET ||
		  ty == ISAKMP_ID_IPV4_ADDR_RANGE;
	bool v6 = ty == ISAKMP_ID_IPV6_ADDR || ty == ISAKMP_ID_IPV6_ADDR_SUBNET ||
		  ty == ISAKMP_ID_IPV6_ADDR_RANGE;
	size_t n = v4 ? 4 : 16;

	if (!v4 && !v6)
		return ike_fail(err, -EBADMSG, "Quick Mode: ID type %u is not an address", ty);
	*t = (struct ike_ts){ .proto = id->protocol, .port_lo = id->port,
			      .port_hi = id->port ? id->port : 0xffff };
	t->lo.family = t->hi.family = v4 ? DPSEC_AF_INET : DPSEC_AF_INET6;
	memcpy(t->lo.a, id->data.p, n); /* lengths were checked by the codec */
	memcpy(t->hi.a, id->data.p, n);
	for (size_t i = 0; i < n && id->data.len == 2 * n; i++) {
		uint8_t second = id->data.p[n + i];
		bool subnet = ty == ISAKMP_ID_IPV4_ADDR_SUBNET || ty == ISAKMP_ID_IPV6_ADDR_SUBNET;

		t->lo.a[i] = subnet ? (uint8_t)(t->lo.a[i] & second) : t->lo.a[i];
		t->hi.a[i] = subnet ? (uint8_t)(t->hi.a[i] | ~second) : second;
	}
	return 0;
}

static struct ike_ts host_ts(const struct ike_endpoint *ep)
{
	return (struct ike_ts){ .lo = ep->addr, .hi = ep->addr, .port_hi = 0xffff };
}

bool ikev1_qm_ts_allowed(const struct ike_ts *t, const struct ike_ts_set *allowed)
{
	for (uint8_t i = 0; i < allowed->n; i++)
		if (ike_ts_within(t, &allowed->ts[i]))
			return true;
	return false;
}

/* IDci and IDcr (or the hosts when absent) as our remote and local. */
int ikev1_qm_read_ids(const struct ikev1_sa *sa, const struct ikev1_rx *rx, struct ikev1_xchg *x)
{
	union isakmp_body ci, cr;
	bool has_ci = ikev1_rx_body_nth(rx, ISAKMP_PL_ID, 0, &ci);
	bool has_cr = ikev1_rx_body_nth(rx, ISAKMP_PL_ID, 1, &cr);
	struct ike_ts *init_side = x->initiator ? &x->ts_local.ts[0] : &x->ts_remote.ts[0];
	struct ike_ts *resp_side = x->initiator ? &x->ts_remote.ts[0] : &x->ts_local.ts[0];
	int rc = 0;

	x->ts_local.n = x->ts_remote.n = 1;
	if (has_ci != has_cr)
		return ike_fail(rx->err, -EBADMSG, "Quick Mode: IDci without IDcr");
	if (!has_ci) {
		*init_side = host_ts(x->initiator ? &sa->local : &sa->remote);
		*resp_side = host_ts(x->initiator ? &sa->remote : &sa->local);
		return 0;
	}
	rc = ts_from_id(&ci.id, init_side, rx->err);
	return rc ? rc : ts_from_id(&cr.id, resp_side, rx->err);
}
