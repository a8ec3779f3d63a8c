/* isakmp_describe.c - a parsed ISAKMP message as text for the diagnostic
 * (Oakley-style) log, and ike_msg_describe() for datagrams of either
 * version. KE, nonce, hash and signature data appear by size only. */
#include <stdio.h>

#include "ike_msg.h"
#include "ike_vendor.h"

static const char *or_num(const char *name, char tmp[12], unsigned v)
{
	if (name)
		return name;
	snprintf(tmp, 12, "%u", v);
	return tmp;
}

static void attrs_describe(struct ike_sb *sb, const struct ike_sa *sa, const struct ike_proposal *p,
			   const struct ike_transform *t)
{
	char tmp[12];

	for (uint16_t i = 0; i < t->n_attrs; i++) {
		const struct ike_attr *a = &sa->attr[t->attr0 + i];
		const char *name = p->protocol == IKE_PROTO_IKE ? isakmp_ike_attr_name(a->type) :
								  isakmp_ipsec_attr_name(a->type);
		uint64_t v;

		ike_sb_add(sb, "%s%s=", i ? " " : "", or_num(name, tmp, a->type));
		if (ike_attr_value(a, &v) == 0)
			ike_sb_add(sb, "%llu", (unsigned long long)v);
		else
			ike_sb_add(sb, "(%u bytes)", a->data.len);
	}
}

static void sa_describe(struct ike_sb *sb, const struct ike_sa *sa)
{
	static const char *const protos[] = { "?", "ISAKMP", "AH", "ESP", "IPCOMP" };

	ike_sb_add(sb, " DOI %u situation %u", sa->doi, sa->situation);
	for (uint16_t i = 0; i < sa->n_prop; i++) {
		const struct ike_proposal *p = &sa->prop[i];

		ike_sb_add(sb, "\n    P#%u %s", p->num, p->protocol <= 4 ? protos[p->protocol] : "?");
		if (p->spi_len) {
			ike_sb_add(sb, " spi ");
			ike_sb_hex(sb, p->spi, p->spi_len, IKE_MAX_SPI);
		}
		for (uint16_t k = 0; k < p->n_tr; k++) {
			const struct ike_transform *t = &sa->tr[p->tr0 + k];

			ike_sb_add(sb, "\n      T#%u id %u: ", t->type, t->id);
			attrs_describe(sb, sa, p, t);
		}
	}
}

static void body_describe(struct ike_sb *sb, uint8_t type, const union isakmp_body *b)
{
	const struct ike_vendor *v;
	char tmp[12];

	switch (type) {
	case ISAKMP_PL_SA: sa_describe(sb, &b->sa); break;
	case ISAKMP_PL_ID:
		ike_sb_add(sb, " %s protocol %u port %u, ",
			   or_num(isakmp_id_type_name(b->id.type), tmp, b->id.type), b->id.protocol,
			   b->id.port);
		ike_sb_hex(sb, b->id.data.p, b->id.data.len, 32);
		break;
	case ISAKMP_PL_CERT:
	case ISAKMP_PL_CR:
		ike_sb_add(sb, " encoding %u, %u bytes", b->cert.encoding, b->cert.data.len);
		break;
	case ISAKMP_PL_NOTIFY:
		ike_sb_add(sb, " %s protocol %u",
			   or_num(isakmp_notify_name(b->notify.type), tmp, b->notify.type),
			   b->notify.protocol);
		if (b->notify.spi_len) {
			ike_sb_add(sb, " spi ");
			ike_sb_hex(sb, b->notify.spi, b->notify.spi_len, IKE_MAX_SPI);
		}
		ike_sb_add(sb, ", %u bytes", b->notify.data.len);
		break;
	case ISAKMP_PL_DELETE:
		ike_sb_add(sb, " protocol %u, %u SPIs of %u bytes", b->del.protocol, b->del.n_spi,
			   b->del.spi_len);
		break;
	case ISAKMP_PL_VENDOR:
		v = ike_vendor_lookup(b->vendor.p, b->vendor.len);
		ike_sb_add(sb, " %s ", v ? v->name : "unknown");
		ike_sb_hex(sb, b->vendor.p, b->vendor.len, 20);
		break;
	case ISAKMP_PL_NAT_OA:
		ike_sb_add(sb, " ");
		ike_sb_hex(sb, b->nat_oa.addr.p, b->nat_oa.addr.len, 16);
		break;
	default: /* KE, HASH, SIG, NONCE, NAT-D */
		ike_sb_add(sb, " %u bytes", b->ke.len);
		break;
	}
}

size_t isakmp_msg_describe(const struct isakmp_msg *m, char *buf, size_t cap)
{
	const struct isakmp_hdr *h = &m->hdr;
	union isakmp_body body;
	struct ike_sb sb;
	char tmp[12];

	ike_sb_init(&sb, buf, cap);
	ike_sb_add(&sb, "ISAKMP %s%s%s%s msgid %08x len %u cookies ",
		   or_num(isakmp_exchange_name(h->exchange), tmp, h->exchange),
		   h->flags & ISAKMP_FLAG_E ? " E" : "", h->flags & ISAKMP_FLAG_C ? " C" : "",
		   h->flags & ISAKMP_FLAG_A ? " A" : "", h->msg_id, h->length);
	ike_sb_hex(&sb, h->icookie, 8, 8);
	ike_sb_add(&sb, ":");
	ike_sb_hex(&sb, h->rcookie, 8, 8);
	if (h->flags & ISAKMP_FLAG_E)
		ike_sb_add(&sb, "\n  (encrypted, %u bytes, first payload %s)", m->encrypted.len,
			   or_num(isakmp_payload_name(h->next_payload), tmp, h->next_payload));
	for (uint16_t i = 0; i < m->n; i++) {
		const struct isakmp_payload *p = &m->pl[i];

		ike_sb_add(&sb, "\n  %s:", isakmp_payload_name(p->type));
		if (isakmp_body_parse(p->type, p->body.p, p->body.len, &body, NULL) == 0)
			body_describe(&sb, p->type, &body);
	}
	if (m->n_skipped)
		ike_sb_add(&sb, "\n  (%u private-use payloads skipped)", m->n_skipped);
	ike_sb_add(&sb, "\n");
	return sb.len;
}

int ike_msg_version(const uint8_t *buf, size_t len)
{
	return len > 17 ? buf[17] >> 4 : 0;
}

size_t ike_msg_describe(const uint8_t *buf, size_t len, char *out, size_t cap)
{
	union {
		struct ikev2_msg v2;
		struct isakmp_msg v1;
	} m;
	struct ike_err err = { 0 };
	struct ike_sb sb;

	if (ike_msg_version(buf, len) == 2 && ikev2_msg_parse(buf, len, &m.v2, &err) == 0)
		return ikev2_msg_describe(&m.v2, out, cap);
	if (ike_msg_version(buf, len) == 1 && isakmp_msg_parse(buf, len, &m.v1, &err) == 0)
		return isakmp_msg_describe(&m.v1, out, cap);
	ike_sb_init(&sb, out, cap);
	ike_sb_add(&sb, "unparsable %zu-byte IKE datagram: %s\n", len,
		   err.code ? err.msg : "neither IKEv1 nor IKEv2");
	return sb.len;
}
