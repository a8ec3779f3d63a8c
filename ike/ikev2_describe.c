/* ikev2_describe.c - a parsed IKEv2 message as text for the diagnostic log:
 * a header line, then one line per payload with its decoded fields. Data
 * that may be secret (KE, nonces, AUTH) is shown by size only. */
#include <stdio.h>

#include "ikev2_msg.h"

static const char *or_num(const char *name, char tmp[12], unsigned v)
{
	if (name)
		return name;
	snprintf(tmp, 12, "%u", v);
	return tmp;
}

static void sa_describe(struct ike_sb *sb, const struct ike_sa *sa)
{
	static const char *const protos[] = { "?", "IKE", "AH", "ESP" };
	char tmp[2][12];

	for (uint16_t i = 0; i < sa->n_prop; i++) {
		const struct ike_proposal *p = &sa->prop[i];

		ike_sb_add(sb, " #%u %s", p->num, p->protocol <= 3 ? protos[p->protocol] : "?");
		if (p->spi_len) {
			ike_sb_add(sb, " spi ");
			ike_sb_hex(sb, p->spi, p->spi_len, IKE_MAX_SPI);
		}
		ike_sb_add(sb, " [");
		for (uint16_t k = 0; k < p->n_tr; k++) {
			const struct ike_transform *t = &sa->tr[p->tr0 + k];
			const struct ike_attr *kl = ike_tr_attr(sa, t, IKEV2_ATTR_KEY_LENGTH);

			ike_sb_add(sb, "%s%s %s", k ? ", " : "",
				   or_num(ikev2_transform_type_name(t->type), tmp[0], t->type),
				   or_num(ikev2_transform_id_name(t->type, t->id), tmp[1], t->id));
			if (kl && kl->tv)
				ike_sb_add(sb, "/%u", kl->tv_value);
		}
		ike_sb_add(sb, "]");
	}
}

static void ts_describe(struct ike_sb *sb, const struct ikev2_ts_list *l)
{
	char lo[64], hi[64];

	for (uint8_t i = 0; i < l->n; i++) {
		const struct ikev2_ts *ts = &l->ts[i];

		if (ts->type == IKEV2_TS_IPV4_ADDR_RANGE) {
			snprintf(lo, sizeof(lo), "%u.%u.%u.%u", ts->addr_lo[0], ts->addr_lo[1],
				 ts->addr_lo[2], ts->addr_lo[3]);
			snprintf(hi, sizeof(hi), "%u.%u.%u.%u", ts->addr_hi[0], ts->addr_hi[1],
				 ts->addr_hi[2], ts->addr_hi[3]);
		} else {
			struct ike_sb a;

			ike_sb_init(&a, lo, sizeof(lo));
			ike_sb_hex(&a, ts->addr_lo, 16, 16);
			ike_sb_init(&a, hi, sizeof(hi));
			ike_sb_hex(&a, ts->addr_hi, 16, 16);
		}
		ike_sb_add(sb, " %s-%s proto %u ports %u-%u", lo, hi, ts->ip_proto, ts->port_lo,
			   ts->port_hi);
	}
}

static void body_describe(struct ike_sb *sb, uint8_t type, const union ikev2_body *b)
{
	char tmp[12];

	switch (type) {
	case IKEV2_PL_SA: sa_describe(sb, &b->sa); break;
	case IKEV2_PL_KE:
		ike_sb_add(sb, " group %u, %u bytes", b->ke.group, b->ke.data.len);
		break;
	case IKEV2_PL_IDI:
	case IKEV2_PL_IDR:
		ike_sb_add(sb, " %s %u bytes", or_num(ikev2_id_type_name(b->id.type), tmp, b->id.type),
			   b->id.data.len);
		break;
	case IKEV2_PL_CERT:
	case IKEV2_PL_CERTREQ:
		ike_sb_add(sb, " encoding %u, %u bytes", b->cert.encoding, b->cert.data.len);
		break;
	case IKEV2_PL_AUTH:
		ike_sb_add(sb, " method %u, %u bytes", b->auth.method, b->auth.data.len);
		break;
	case IKEV2_PL_NOTIFY:
		ike_sb_add(sb, " %s", or_num(ikev2_notify_name(b->notify.type), tmp, b->notify.type));
		if (b->notify.spi_len) {
			ike_sb_add(sb, " spi ");
			ike_sb_hex(sb, b->notify.spi, b->notify.spi_len, 8);
		}
		ike_sb_add(sb, ", %u bytes", b->notify.data.len);
		break;
	case IKEV2_PL_DELETE:
		ike_sb_add(sb, " protocol %u, %u SPIs", b->del.protocol, b->del.n_spi);
		break;
	case IKEV2_PL_VENDOR:
		ike_sb_add(sb, " ");
		ike_sb_hex(sb, b->vendor.p, b->vendor.len, 20);
		break;
	case IKEV2_PL_TSI:
	case IKEV2_PL_TSR: ts_describe(sb, &b->ts); break;
	case IKEV2_PL_CP:
		ike_sb_add(sb, " type %u, %u attributes", b->cp.cfg_type, b->cp.n);
		break;
	case IKEV2_PL_EAP:
		ike_sb_add(sb, " code %u id %u, %u bytes", b->eap.code, b->eap.id, b->eap.msg.len);
		break;
	case IKEV2_PL_SKF:
		ike_sb_add(sb, " fragment %u/%u, %u bytes", b->skf.number, b->skf.total,
			   b->skf.rest.len);
		break;
	default: /* Nonce, SK */
		ike_sb_add(sb, " %u bytes", b->nonce.len);
		break;
	}
}

size_t ikev2_msg_describe(const struct ikev2_msg *m, char *buf, size_t cap)
{
	const struct ikev2_hdr *h = &m->hdr;
	union ikev2_body body;
	struct ike_sb sb;
	char tmp[12];

	ike_sb_init(&sb, buf, cap);
	ike_sb_add(&sb, "IKEv2 %s %s%s%s msgid %u len %u spi ",
		   or_num(ikev2_exchange_name(h->exchange), tmp, h->exchange),
		   h->flags & IKEV2_FLAG_R ? "response" : "request",
		   h->flags & IKEV2_FLAG_I ? " I" : "", h->flags & IKEV2_FLAG_V ? " V" : "",
		   h->msg_id, h->length);
	ike_sb_hex(&sb, h->spi_i, 8, 8);
	ike_sb_add(&sb, ":");
	ike_sb_hex(&sb, h->spi_r, 8, 8);
	for (uint16_t i = 0; i < m->n; i++) {
		const struct ikev2_payload *p = &m->pl[i];

		ike_sb_add(&sb, "\n  %s%s:", ikev2_payload_name(p->type), p->critical ? "(C)" : "");
		if (ikev2_body_parse(p->type, p->body.p, p->body.len, &body, NULL) == 0)
			body_describe(&sb, p->type, &body);
		if (p->type == IKEV2_PL_SK || p->type == IKEV2_PL_SKF)
			ike_sb_add(&sb, " (first inner %s)",
				   or_num(ikev2_payload_name(m->sk_inner_next), tmp, m->sk_inner_next));
	}
	if (m->n_skipped)
		ike_sb_add(&sb, "\n  (%u unknown non-critical payloads skipped)", m->n_skipped);
	ike_sb_add(&sb, "\n");
	return sb.len;
}
