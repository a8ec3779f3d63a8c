/* isakmp_payload.c - parse and build ISAKMP payload bodies (RFC 2408 §3.4
 * to §3.16, IPsec DOI RFC 2407 §4.6, NAT-D / NAT-OA RFC 3947 §3.2, §5.2).
 * The SA payload's proposals and transforms are in ike_sa.c; attribute
 * meaning (RFC 2409 appendix A, RFC 2407 §4.5) in isakmp_attr.c. */
#include <errno.h>
#include <string.h>

#include "isakmp_msg.h"

#define BAD -EBADMSG

static void rest(struct ike_rd *r, struct ike_blob *b)
{
	b->p = r->p + r->off;
	b->len = (uint16_t)ike_rd_left(r);
	r->off = r->len;
}

/* | DOI (32) | situation (32) | proposals ... |; every transform's
 * attributes decoded by its protocol. */
int isakmp_sa_parse(const uint8_t *buf, size_t len, struct ike_sa *out, struct ike_err *err)
{
	struct isakmp_ike_policy ike;
	struct isakmp_ipsec_policy ipsec;
	int rc = ike_sa_parse(IKE_V1, buf, len, out, err);

	for (uint16_t i = 0; rc == 0 && i < out->n_prop; i++) {
		const struct ike_proposal *p = &out->prop[i];

		for (uint16_t k = 0; rc == 0 && k < p->n_tr; k++) {
			const struct ike_transform *t = &out->tr[p->tr0 + k];

			if (p->protocol == IKE_PROTO_IKE)
				rc = isakmp_ike_attrs_decode(out, t, &ike, err);
			else
				rc = isakmp_ipsec_attrs_decode(out, t, &ipsec, err);
		}
	}
	return rc;
}

static int id_data_ok(const struct isakmp_id *id, struct ike_err *err)
{
	static const uint8_t sizes[] = {
		[ISAKMP_ID_IPV4_ADDR] = 4,	   [ISAKMP_ID_IPV6_ADDR] = 16,
		[ISAKMP_ID_IPV4_ADDR_SUBNET] = 8,  [ISAKMP_ID_IPV6_ADDR_SUBNET] = 32,
		[ISAKMP_ID_IPV4_ADDR_RANGE] = 8,   [ISAKMP_ID_IPV6_ADDR_RANGE] = 32,
	};
	const char *name = isakmp_id_type_name(id->type);

	if (name == NULL)
		return ike_fail(err, BAD, "ID payload: ID type %u is not defined by RFC 2407",
				id->type);
	if (id->type < sizeof(sizes) && sizes[id->type] != 0) {
		if (id->data.len != sizes[id->type])
			return ike_fail(err, BAD, "ID payload: %s of %u bytes, not %u", name,
					id->data.len, sizes[id->type]);
	} else if (id->data.len == 0) {
		return ike_fail(err, BAD, "ID payload: empty %s", name);
	}
	return 0;
}

/* | ID type | protocol ID | port (16) | identification data ... | */
int isakmp_id_parse(const uint8_t *buf, size_t len, struct isakmp_id *out, struct ike_err *err)
{
	struct ike_rd r;
	int rc;

	ike_rd_init(&r, buf, len, "ID payload", err);
	if (ike_rd_u8(&r, "ID type", &out->type) || ike_rd_u8(&r, "protocol ID", &out->protocol) ||
	    ike_rd_u16(&r, "port", &out->port))
		return BAD;
	rest(&r, &out->data);
	rc = id_data_ok(out, err);
	if (rc && err)
		err->notify = ISAKMP_N_INVALID_ID_INFORMATION;
	return rc;
}

/* | encoding | certificate data ... | (CR: certificate type, CA name) */
int isakmp_cert_parse(const uint8_t *buf, size_t len, struct isakmp_cert *out,
		      struct ike_err *err)
{
	struct ike_rd r;

	ike_rd_init(&r, buf, len, "CERT payload", err);
	if (ike_rd_u8(&r, "encoding", &out->encoding))
		return BAD;
	rest(&r, &out->data);
	return 0;
}

int isakmp_nonce_parse(const uint8_t *buf, size_t len, struct ike_blob *out,
		       struct ike_err *err)
{
	if (len < ISAKMP_NONCE_MIN || len > ISAKMP_NONCE_MAX)
		return ike_fail(err, BAD, "NONCE payload: %zu bytes, outside %d..%d", len,
				ISAKMP_NONCE_MIN, ISAKMP_NONCE_MAX);
	*out = (struct ike_blob){ buf, (uint16_t)len };
	return 0;
}

static int opaque_parse(const char *what, const uint8_t *buf, size_t len, struct ike_blob *out,
			struct ike_err *err)
{
	if (len == 0)
		return ike_fail(err, BAD, "%s payload: empty", what);
	*out = (struct ike_blob){ buf, (uint16_t)len };
	return 0;
}

static int spi_len_ok(const char *what, uint8_t proto, uint8_t spi_len, bool empty_ok,
		      struct ike_err *err)
{
	bool ok;

	if (empty_ok && spi_len == 0 && proto <= IKE_PROTO_IPCOMP)
		ok = true; /* notifies about no particular SA */
	else if (proto == IKE_PROTO_IKE)
		ok = spi_len == 16;
	else if (proto == IKE_PROTO_AH || proto == IKE_PROTO_ESP)
		ok = spi_len == 4;
	else if (proto == IKE_PROTO_IPCOMP)
		ok = spi_len == 2 || spi_len == 4;
	else
		ok = false;
	if (ok)
		return 0;
	ike_fail(err, BAD, "%s payload: SPI size %u does not fit protocol %u", what, spi_len, proto);
	if (err)
		err->notify = ISAKMP_N_INVALID_SPI;
	return BAD;
}

/* | DOI (32) | protocol | SPI size | notify type (16) | SPI | data ... | */
int isakmp_notify_parse(const uint8_t *buf, size_t len, struct isakmp_notify *out,
			struct ike_err *err)
{
	struct ike_rd r;

	ike_rd_init(&r, buf, len, "N payload", err);
	if (ike_rd_u32(&r, "DOI", &out->doi) || ike_rd_u8(&r, "protocol ID", &out->protocol) ||
	    ike_rd_u8(&r, "SPI size", &out->spi_len) || ike_rd_u16(&r, "notify type", &out->type))
		return BAD;
	if (out->doi > ISAKMP_DOI_IPSEC)
		return ike_fail(err, -EOPNOTSUPP, "N payload: DOI %u is neither ISAKMP (0) nor IPsec (1)",
				out->doi);
	if (spi_len_ok("N", out->protocol, out->spi_len, true, err))
		return BAD;
	if (ike_rd_copy(&r, "SPI", out->spi, out->spi_len))
		return BAD;
	rest(&r, &out->data);
	if ((out->type == ISAKMP_N_R_U_THERE || out->type == ISAKMP_N_R_U_THERE_ACK) &&
	    out->data.len != 4)
		return ike_fail(err, BAD, "N payload: %s carries %u bytes, not a 4-byte sequence number",
				isakmp_notify_name(out->type), out->data.len);
	return 0;
}

/* | DOI (32) | protocol | SPI size | # of SPIs (16) | SPIs ... | */
int isakmp_delete_parse(const uint8_t *buf, size_t len, struct isakmp_delete *out,
			struct ike_err *err)
{
	struct ike_rd r;

	ike_rd_init(&r, buf, len, "D payload", err);
	if (ike_rd_u32(&r, "DOI", &out->doi) || ike_rd_u8(&r, "protocol ID", &out->protocol) ||
	    ike_rd_u8(&r, "SPI size", &out->spi_len) || ike_rd_u16(&r, "SPI count", &out->n_spi))
		return BAD;
	if (spi_len_ok("D", out->protocol, out->spi_len, false, err))
		return BAD;
	if (out->n_spi == 0)
		return ike_fail(err, BAD, "D payload: no SPI");
	if ((size_t)out->n_spi * out->spi_len != ike_rd_left(&r))
		return ike_fail(err, BAD, "D payload: %u SPIs of %u bytes but %zu bytes follow",
				out->n_spi, out->spi_len, ike_rd_left(&r));
	out->spis = r.p + r.off;
	return 0;
}

/* | ID type | RESERVED (24) | IPv4 or IPv6 address | */
int isakmp_nat_oa_parse(const uint8_t *buf, size_t len, struct isakmp_nat_oa *out,
			struct ike_err *err)
{
	struct ike_rd r;

	ike_rd_init(&r, buf, len, "NAT-OA payload", err);
	if (ike_rd_u8(&r, "ID type", &out->id_type) || ike_rd_skip(&r, "reserved", 3))
		return BAD;
	rest(&r, &out->addr);
	if (!(out->id_type == ISAKMP_ID_IPV4_ADDR && out->addr.len == 4) &&
	    !(out->id_type == ISAKMP_ID_IPV6_ADDR && out->addr.len == 16))
		return ike_fail(err, BAD, "NAT-OA payload: ID type %u with a %u-byte address",
				out->id_type, out->addr.len);
	return 0;
}

int isakmp_body_parse(uint8_t type, const uint8_t *buf, size_t len, union isakmp_body *out,
		      struct ike_err *err)
{
	switch (type) {
	case ISAKMP_PL_SA: return isakmp_sa_parse(buf, len, &out->sa, err);
	case ISAKMP_PL_KE: return opaque_parse("KE", buf, len, &out->ke, err);
	case ISAKMP_PL_ID: return isakmp_id_parse(buf, len, &out->id, err);
	case ISAKMP_PL_CERT:
	case ISAKMP_PL_CR: return isakmp_cert_parse(buf, len, &out->cert, err);
	case ISAKMP_PL_HASH: return opaque_parse("HASH", buf, len, &out->hash, err);
	case ISAKMP_PL_SIG: return opaque_parse("SIG", buf, len, &out->sig, err);
	case ISAKMP_PL_NONCE: return isakmp_nonce_parse(buf, len, &out->nonce, err);
	case ISAKMP_PL_NOTIFY: return isakmp_notify_parse(buf, len, &out->notify, err);
	case ISAKMP_PL_DELETE: return isakmp_delete_parse(buf, len, &out->del, err);
	case ISAKMP_PL_VENDOR: return opaque_parse("VID", buf, len, &out->vendor, err);
	case ISAKMP_PL_NAT_D: return opaque_parse("NAT-D", buf, len, &out->nat_d, err);
	case ISAKMP_PL_NAT_OA: return isakmp_nat_oa_parse(buf, len, &out->nat_oa, err);
	default:
		return ike_fail(err, -EOPNOTSUPP, "payload type %u has no body codec", type);
	}
}

void isakmp_body_build(uint8_t type, const union isakmp_body *in, struct ike_wr *w)
{
	switch (type) {
	case ISAKMP_PL_SA:
		ike_sa_build(IKE_V1, &in->sa, w);
		break;
	case ISAKMP_PL_ID:
		ike_wr_u8(w, in->id.type);
		ike_wr_u8(w, in->id.protocol);
		ike_wr_u16(w, in->id.port);
		ike_wr_bytes(w, in->id.data.p, in->id.data.len);
		break;
	case ISAKMP_PL_CERT:
	case ISAKMP_PL_CR:
		ike_wr_u8(w, in->cert.encoding);
		ike_wr_bytes(w, in->cert.data.p, in->cert.data.len);
		break;
	case ISAKMP_PL_NOTIFY:
		ike_wr_u32(w, in->notify.doi);
		ike_wr_u8(w, in->notify.protocol);
		ike_wr_u8(w, in->notify.spi_len);
		ike_wr_u16(w, in->notify.type);
		ike_wr_bytes(w, in->notify.spi, in->notify.spi_len);
		ike_wr_bytes(w, in->notify.data.p, in->notify.data.len);
		break;
	case ISAKMP_PL_DELETE:
		ike_wr_u32(w, in->del.doi);
		ike_wr_u8(w, in->del.protocol);
		ike_wr_u8(w, in->del.spi_len);
		ike_wr_u16(w, in->del.n_spi);
		ike_wr_bytes(w, in->del.spis, (size_t)in->del.n_spi * in->del.spi_len);
		break;
	case ISAKMP_PL_NAT_OA:
		ike_wr_u8(w, in->nat_oa.id_type);
		ike_wr_zero(w, 3);
		ike_wr_bytes(w, in->nat_oa.addr.p, in->nat_oa.addr.len);
		break;
	default: /* KE, HASH, SIG, NONCE, VID, NAT-D: opaque bytes */
		ike_wr_bytes(w, in->ke.p, in->ke.len);
		break;
	}
}
