/* ike_sa.c - the SA payload body codec shared by IKEv2 and ISAKMP (see
 * ike_sa.h for the layout of the parsed form).
 *
 *   Proposal substructure (both versions)      Transform substructure
 *   +--------+--------+-----------------+       +--------+--------+-----------------+
 *   |0 or 2  |RESERVED| proposal length |       |0 or 3  |RESERVED| transform length|
 *   +--------+--------+--------+--------+       +--------+--------+--------+--------+
 *   | num    |protocol|SPI size|#transf.|  v2:  | type   |RESERVED| transform ID    |
 *   +--------+--------+--------+--------+  v1:  | number | ID     | RESERVED2       |
 *   | SPI (SPI size bytes) ...          |       +--------+--------+-----------------+
 *   | transforms ...                    |       | attributes: AF|type, len|value,
 *   +-----------------------------------+       |   value (TLV only)        ...
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ike_sa.h"

#define MORE_PROPOSALS 2
#define MORE_TRANSFORMS 3
#define PROPOSAL_HDR 8
#define TRANSFORM_HDR 8

static int attr_parse(struct ike_rd *r, struct ike_attr *a)
{
	uint16_t t, v;

	if (ike_rd_u16(r, "attribute type", &t) || ike_rd_u16(r, "attribute length/value", &v))
		return -EBADMSG;
	*a = (struct ike_attr){ .type = t & (uint16_t)~IKE_ATTR_AF, .tv = (t & IKE_ATTR_AF) != 0 };
	if (a->tv) {
		a->tv_value = v;
		return 0;
	}
	a->data.len = v;
	return ike_rd_bytes(r, "attribute value", v, &a->data.p);
}

int ike_attrs_parse(struct ike_rd *r, struct ike_attr *out, uint16_t max, uint16_t *n)
{
	while (ike_rd_left(r) > 0) {
		if (*n >= max)
			return ike_fail(r->err, -E2BIG, "%s: more than %u attributes", r->what, max);
		if (attr_parse(r, &out[*n]))
			return -EBADMSG;
		(*n)++;
	}
	return 0;
}

void ike_attrs_build(const struct ike_attr *a, uint16_t n, struct ike_wr *w)
{
	for (uint16_t i = 0; i < n; i++) {
		if (a[i].tv) {
			ike_wr_u16(w, a[i].type | IKE_ATTR_AF);
			ike_wr_u16(w, a[i].tv_value);
		} else {
			ike_wr_u16(w, a[i].type);
			ike_wr_u16(w, a[i].data.len);
			ike_wr_bytes(w, a[i].data.p, a[i].data.len);
		}
	}
}

static int transform_parse(enum ike_version v, struct ike_rd *r, struct ike_sa *sa,
			   uint8_t *next)
{
	char what[64];
	struct ike_rd body;
	struct ike_transform *t;
	uint8_t res, b0, b1;
	uint16_t w16;

	snprintf(what, sizeof(what), "%s transform %u", r->what,
		 sa->prop[sa->n_prop - 1].n_tr + 1u);
	if (ike_rd_struct(r, "transform length", TRANSFORM_HDR, next, &res, &body, what))
		return -EBADMSG;
	if (sa->n_tr >= IKE_MAX_TRANSFORMS)
		return ike_fail(r->err, -E2BIG, "SA payload: more than %d transforms",
				IKE_MAX_TRANSFORMS);
	t = &sa->tr[sa->n_tr];
	if (ike_rd_u8(&body, "type/number", &b0))
		return -EBADMSG;
	if (v == IKE_V2) {
		if (ike_rd_skip(&body, "reserved", 1) || ike_rd_u16(&body, "transform ID", &w16))
			return -EBADMSG;
	} else {
		if (ike_rd_u8(&body, "transform ID", &b1) || ike_rd_skip(&body, "reserved", 2))
			return -EBADMSG;
		w16 = b1;
	}
	*t = (struct ike_transform){ .type = b0, .id = w16, .attr0 = sa->n_attr };
	if (ike_attrs_parse(&body, sa->attr, IKE_MAX_ATTRS, &sa->n_attr))
		return r->err ? r->err->code : -EBADMSG;
	t->n_attrs = (uint16_t)(sa->n_attr - t->attr0);
	sa->n_tr++;
	sa->prop[sa->n_prop - 1].n_tr++;
	return 0;
}

static int spi_size_ok(enum ike_version v, struct ike_rd *r, uint8_t proto, uint8_t size)
{
	bool ok;

	if (proto == IKE_PROTO_AH || proto == IKE_PROTO_ESP)
		ok = size == 4;
	else if (proto == IKE_PROTO_IPCOMP)
		ok = v == IKE_V1 && (size == 2 || size == 4);
	else if (proto == IKE_PROTO_IKE)
		ok = v == IKE_V2 ? (size == 0 || size == 8) : size <= IKE_MAX_SPI;
	else
		return ike_fail(r->err, -EBADMSG, "%s: protocol ID %u is not IKE, AH, ESP%s", r->what,
				proto, v == IKE_V1 ? " or IPCOMP" : "");
	if (ok)
		return 0;
	return ike_fail(r->err, -EBADMSG, "%s: SPI size %u is wrong for protocol %u", r->what, size,
			proto);
}

/* IKEv2 numbers an offer's proposals 1, 2, 3...; an answer holds the one
 * proposal it accepted under its number (RFC 7296 §3.3.1), so the first
 * may be any but 0 and the next ones follow it. */
static int proposal_numbered_ok(enum ike_version v, struct ike_rd *r, uint8_t num, uint8_t prev)
{
	if (v == IKE_V2 && (prev == 0 ? num == 0 : num != prev + 1))
		return ike_fail(r->err, -EBADMSG,
				"%s: number %u should be %u (IKEv2 numbers proposals 1, 2, 3...)",
				r->what, num, prev + 1);
	if (v == IKE_V1 && num < prev)
		return ike_fail(r->err, -EBADMSG, "%s: number %u is below the previous %u", r->what,
				num, prev);
	return 0;
}

static int transforms_parse(enum ike_version v, struct ike_rd *body, struct ike_sa *sa,
			    uint8_t declared)
{
	struct ike_proposal *p = &sa->prop[sa->n_prop - 1];
	uint8_t next = MORE_TRANSFORMS;

	while (ike_rd_left(body) > 0) {
		if (next != MORE_TRANSFORMS)
			return ike_fail(body->err, -EBADMSG,
					"%s: %zu bytes after the transform marked last", body->what,
					ike_rd_left(body));
		if (transform_parse(v, body, sa, &next))
			return body->err ? body->err->code : -EBADMSG;
		if (next != 0 && next != MORE_TRANSFORMS)
			return ike_fail(body->err, -EBADMSG,
					"%s: transform %u has next-payload %u, not 0 or 3",
					body->what, p->n_tr, next);
	}
	if (next != 0)
		return ike_fail(body->err, -EBADMSG,
				"%s: transform %u says more follow but the proposal ends", body->what,
				p->n_tr);
	if (p->n_tr != declared)
		return ike_fail(body->err, -EBADMSG, "%s: declares %u transforms but holds %u",
				body->what, declared, p->n_tr);
	return 0;
}

static int proposal_parse(enum ike_version v, struct ike_rd *r, struct ike_sa *sa, uint8_t *next)
{
	char what[48];
	struct ike_rd body;
	struct ike_proposal *p;
	uint8_t res, num, proto, spi_len, n_tr;
	uint8_t prev = sa->n_prop > 0 ? sa->prop[sa->n_prop - 1].num : 0;

	snprintf(what, sizeof(what), "SA payload proposal %u", sa->n_prop + 1u);
	if (ike_rd_struct(r, "proposal length", PROPOSAL_HDR, next, &res, &body, what))
		return -EBADMSG;
	if (sa->n_prop >= IKE_MAX_PROPOSALS)
		return ike_fail(r->err, -E2BIG, "SA payload: more than %d proposals",
				IKE_MAX_PROPOSALS);
	if (ike_rd_u8(&body, "number", &num) || ike_rd_u8(&body, "protocol", &proto) ||
	    ike_rd_u8(&body, "SPI size", &spi_len) || ike_rd_u8(&body, "transform count", &n_tr))
		return -EBADMSG;
	if (proposal_numbered_ok(v, &body, num, prev) || spi_size_ok(v, &body, proto, spi_len))
		return body.err ? body.err->code : -EBADMSG;
	if (n_tr == 0)
		return ike_fail(r->err, -EBADMSG, "%s: no transform", what);
	p = &sa->prop[sa->n_prop++];
	*p = (struct ike_proposal){ .num = num, .protocol = proto, .spi_len = spi_len,
				    .tr0 = sa->n_tr };
	if (ike_rd_copy(&body, "SPI", p->spi, spi_len))
		return -EBADMSG;
	return transforms_parse(v, &body, sa, n_tr);
}

static int sa_header_parse(struct ike_rd *r, struct ike_sa *sa)
{
	if (ike_rd_u32(r, "DOI", &sa->doi) || ike_rd_u32(r, "situation", &sa->situation))
		return -EBADMSG;
	if (sa->doi != ISAKMP_DOI_IPSEC) {
		ike_fail(r->err, -EOPNOTSUPP, "SA payload: DOI %u is not IPsec (1)", sa->doi);
		r->err->notify = 2; /* DOI-NOT-SUPPORTED */
		return -EOPNOTSUPP;
	}
	if (sa->situation != ISAKMP_SIT_IDENTITY_ONLY) {
		ike_fail(r->err, -EOPNOTSUPP,
			 "SA payload: situation 0x%x is not SIT_IDENTITY_ONLY (1)", sa->situation);
		r->err->notify = 3; /* SITUATION-NOT-SUPPORTED */
		return -EOPNOTSUPP;
	}
	return 0;
}

int ike_sa_parse(enum ike_version v, const uint8_t *buf, size_t len, struct ike_sa *out,
		 struct ike_err *err)
{
	struct ike_err local;
	struct ike_rd r;
	uint8_t next = MORE_PROPOSALS;

	if (err == NULL)
		err = &local;
	ike_rd_init(&r, buf, len, "SA payload", err);
	out->doi = out->situation = 0;
	out->n_prop = out->n_tr = out->n_attr = 0;
	if (v == IKE_V1 && sa_header_parse(&r, out))
		return err->code;
	if (ike_rd_left(&r) == 0)
		return ike_fail(err, -EBADMSG, "SA payload: no proposal");
	while (ike_rd_left(&r) > 0) {
		if (next != MORE_PROPOSALS)
			return ike_fail(err, -EBADMSG,
					"SA payload: %zu bytes after the proposal marked last",
					ike_rd_left(&r));
		if (proposal_parse(v, &r, out, &next))
			return err->code;
		if (next != 0 && next != MORE_PROPOSALS)
			return ike_fail(err, -EBADMSG,
					"SA payload: proposal %u has next-payload %u, not 0 or 2",
					out->n_prop, next);
	}
	if (next != 0)
		return ike_fail(err, -EBADMSG,
				"SA payload: proposal %u says more follow but the payload ends",
				out->n_prop);
	return 0;
}

static void transform_build(enum ike_version v, const struct ike_sa *sa,
			    const struct ike_transform *t, bool last, struct ike_wr *w)
{
	size_t start = w->len;

	ike_wr_u8(w, last ? 0 : MORE_TRANSFORMS);
	ike_wr_u8(w, 0);
	ike_wr_u16(w, 0); /* length, below */
	ike_wr_u8(w, t->type);
	if (v == IKE_V2) {
		ike_wr_u8(w, 0);
		ike_wr_u16(w, t->id);
	} else {
		ike_wr_u8(w, (uint8_t)t->id);
		ike_wr_u16(w, 0);
	}
	ike_attrs_build(&sa->attr[t->attr0], t->n_attrs, w);
	ike_wr_put_u16(w, start + 2, (uint16_t)(w->len - start));
}

static void proposal_build(enum ike_version v, const struct ike_sa *sa,
			   const struct ike_proposal *p, bool last, struct ike_wr *w)
{
	size_t start = w->len;

	ike_wr_u8(w, last ? 0 : MORE_PROPOSALS);
	ike_wr_u8(w, 0);
	ike_wr_u16(w, 0); /* length, below */
	ike_wr_u8(w, p->num);
	ike_wr_u8(w, p->protocol);
	ike_wr_u8(w, p->spi_len);
	ike_wr_u8(w, (uint8_t)p->n_tr);
	ike_wr_bytes(w, p->spi, p->spi_len);
	for (uint16_t i = 0; i < p->n_tr; i++)
		transform_build(v, sa, &sa->tr[p->tr0 + i], i + 1u == p->n_tr, w);
	ike_wr_put_u16(w, start + 2, (uint16_t)(w->len - start));
}

void ike_sa_build(enum ike_version v, const struct ike_sa *sa, struct ike_wr *w)
{
	if (v == IKE_V1) {
		ike_wr_u32(w, sa->doi);
		ike_wr_u32(w, sa->situation);
	}
	for (uint16_t i = 0; i < sa->n_prop; i++)
		proposal_build(v, sa, &sa->prop[i], i + 1u == sa->n_prop, w);
}

int ike_sa_add_proposal(struct ike_sa *sa, uint8_t num, uint8_t protocol, const uint8_t *spi,
			uint8_t spi_len)
{
	struct ike_proposal *p;

	if (sa->n_prop >= IKE_MAX_PROPOSALS)
		return -E2BIG;
	if (spi_len > IKE_MAX_SPI)
		return -EINVAL;
	p = &sa->prop[sa->n_prop++];
	*p = (struct ike_proposal){ .num = num, .protocol = protocol, .spi_len = spi_len,
				    .tr0 = sa->n_tr };
	if (spi_len > 0)
		memcpy(p->spi, spi, spi_len);
	return 0;
}

int ike_sa_add_transform(struct ike_sa *sa, uint8_t type, uint16_t id)
{
	if (sa->n_prop == 0 || sa->prop[sa->n_prop - 1].n_tr == UINT8_MAX)
		return -EINVAL;
	if (sa->n_tr >= IKE_MAX_TRANSFORMS)
		return -E2BIG;
	sa->tr[sa->n_tr++] = (struct ike_transform){ .type = type, .id = id, .attr0 = sa->n_attr };
	sa->prop[sa->n_prop - 1].n_tr++;
	return 0;
}

static struct ike_attr *attr_slot(struct ike_sa *sa, uint16_t type)
{
	if (sa->n_tr == 0 || sa->n_attr >= IKE_MAX_ATTRS || (type & IKE_ATTR_AF))
		return NULL;
	sa->tr[sa->n_tr - 1].n_attrs++;
	return &sa->attr[sa->n_attr++];
}

int ike_sa_add_attr_tv(struct ike_sa *sa, uint16_t type, uint16_t value)
{
	struct ike_attr *a = attr_slot(sa, type);

	if (a == NULL)
		return sa->n_attr >= IKE_MAX_ATTRS ? -E2BIG : -EINVAL;
	*a = (struct ike_attr){ .type = type, .tv = true, .tv_value = value };
	return 0;
}

int ike_sa_add_attr_tlv(struct ike_sa *sa, uint16_t type, const uint8_t *p, uint16_t len)
{
	struct ike_attr *a = attr_slot(sa, type);

	if (a == NULL)
		return sa->n_attr >= IKE_MAX_ATTRS ? -E2BIG : -EINVAL;
	*a = (struct ike_attr){ .type = type, .data = { p, len } };
	return 0;
}

int ike_sa_add_transform_copy(struct ike_sa *sa, const struct ike_sa *from,
			      const struct ike_transform *t)
{
	int rc = ike_sa_add_transform(sa, t->type, t->id);

	for (uint16_t i = 0; rc == 0 && i < t->n_attrs; i++) {
		const struct ike_attr *a = &from->attr[t->attr0 + i];

		rc = a->tv ? ike_sa_add_attr_tv(sa, a->type, a->tv_value)
			   : ike_sa_add_attr_tlv(sa, a->type, a->data.p, a->data.len);
	}
	return rc;
}

int ike_attr_value(const struct ike_attr *a, uint64_t *out)
{
	uint64_t v = 0;

	if (a->tv) {
		*out = a->tv_value;
		return 0;
	}
	if (a->data.len == 0 || a->data.len > 8)
		return -ERANGE;
	for (uint16_t i = 0; i < a->data.len; i++)
		v = v << 8 | a->data.p[i];
	*out = v;
	return 0;
}

const struct ike_attr *ike_tr_attr(const struct ike_sa *sa, const struct ike_transform *t,
				   uint16_t type)
{
	for (uint16_t i = 0; i < t->n_attrs; i++)
		if (sa->attr[t->attr0 + i].type == type)
			return &sa->attr[t->attr0 + i];
	return NULL;
}
