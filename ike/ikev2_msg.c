/* ikev2_msg.c - the IKEv2 header, the payload chain walker and the message
 * builder (RFC 7296 §3.1-3.2). Payload bodies are in ikev2_payload.c.
 *
 *   | IKE SA initiator's SPI (64)                                   |
 *   | IKE SA responder's SPI (64)                                   |
 *   | next payload | MjVer|MnVer | exchange type | flags (R V I)   |
 *   | message ID (32)                                               |
 *   | length (32)                                                   |
 *   then payloads: | next payload | C|reserved | payload length | body |
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ikev2_msg.h"

static bool exchange_known(uint8_t x)
{
	return ikev2_exchange_name(x) != NULL;
}

static bool payload_known(uint8_t t)
{
	return t != IKEV2_PL_NONE && ikev2_payload_name(t) != NULL;
}

int ikev2_hdr_parse(const uint8_t *buf, size_t len, struct ikev2_hdr *out, struct ike_err *err)
{
	struct ike_rd r;

	ike_rd_init(&r, buf, len, "IKEv2 header", err);
	if (len > IKE_MSG_MAX)
		return ike_fail(err, -EMSGSIZE, "IKEv2 header: a %zu-byte datagram exceeds %d bytes", len,
				IKE_MSG_MAX);
	if (ike_rd_copy(&r, "SPIi", out->spi_i, 8) || ike_rd_copy(&r, "SPIr", out->spi_r, 8) ||
	    ike_rd_u8(&r, "next payload", &out->next_payload) ||
	    ike_rd_u8(&r, "version", &out->version) || ike_rd_u8(&r, "exchange type", &out->exchange) ||
	    ike_rd_u8(&r, "flags", &out->flags) || ike_rd_u32(&r, "message ID", &out->msg_id) ||
	    ike_rd_u32(&r, "length", &out->length))
		return -EBADMSG;
	if (out->version >> 4 != IKEV2_VERSION >> 4) { /* the minor version is ignored */
		ike_fail(err, -EPROTONOSUPPORT, "IKEv2 header: major version %u, expected 2",
			 out->version >> 4);
		if (err && out->version >> 4 > 2)
			err->notify = IKEV2_N_INVALID_MAJOR_VERSION;
		return -EPROTONOSUPPORT;
	}
	if (!exchange_known(out->exchange))
		return ike_fail(err, -EOPNOTSUPP, "IKEv2 header: exchange type %u is not known",
				out->exchange);
	if (out->length != len)
		return ike_fail(err, -EBADMSG,
				"IKEv2 header: length %u but the datagram has %zu bytes",
				out->length, len);
	return 0;
}

/* The encrypted payloads must end the message; SKF numbers its fragments. */
static int sk_last_ok(struct ike_rd *r, uint8_t type, uint8_t inner, const union ikev2_body *b)
{
	if (ike_rd_left(r) != 0)
		return ike_fail(r->err, -EBADMSG, "%s payload must be last, %zu bytes follow it",
				ikev2_payload_name(type), ike_rd_left(r));
	if (type == IKEV2_PL_SKF && b->skf.number > 1 && inner != IKEV2_PL_NONE)
		return ike_fail(r->err, -EBADMSG,
				"SKF payload: fragment %u names a first inner payload (%u); only fragment 1 may",
				b->skf.number, inner);
	return 0;
}

static int unknown_payload(struct ike_rd *r, struct ikev2_msg *m, uint8_t type, bool critical)
{
	if (!critical) {
		m->n_skipped++;
		return 0;
	}
	ike_fail(r->err, -EOPNOTSUPP,
		 "UNSUPPORTED_CRITICAL_PAYLOAD: payload type %u is marked critical and not known",
		 type);
	r->err->notify = IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD;
	r->err->detail = type;
	return -EOPNOTSUPP;
}

/* Reads one payload of type *next (updated to the following one). */
static int payload_parse(struct ike_rd *r, struct ikev2_msg *m, bool inner, uint8_t *next)
{
	union ikev2_body scratch;
	uint8_t type = *next, flags;
	struct ike_rd body;
	bool sk;

	if (ike_rd_struct(r, "payload length", IKEV2_PL_HDR_LEN, next, &flags, &body,
			  payload_known(type) ? ikev2_payload_name(type) : "unknown"))
		return -EBADMSG;
	if (!payload_known(type))
		return unknown_payload(r, m, type, flags & IKEV2_PL_CRITICAL);
	if (ikev2_body_parse(type, body.p, body.len, &scratch, r->err))
		return r->err->code;
	sk = type == IKEV2_PL_SK || type == IKEV2_PL_SKF;
	if (sk && inner)
		return ike_fail(r->err, -EBADMSG, "%s payload inside encrypted payloads",
				ikev2_payload_name(type));
	if (sk) {
		if (sk_last_ok(r, type, *next, &scratch))
			return -EBADMSG;
		m->sk_inner_next = *next;
		m->sk_body_off = (size_t)(body.p - m->raw);
		*next = IKEV2_PL_NONE;
	}
	if (m->n >= IKEV2_MAX_PAYLOADS)
		return ike_fail(r->err, -E2BIG, "message: more than %d payloads", IKEV2_MAX_PAYLOADS);
	m->pl[m->n++] = (struct ikev2_payload){ .type = type,
						.critical = (flags & IKEV2_PL_CRITICAL) != 0,
						.body = { body.p, (uint16_t)body.len } };
	return 0;
}

static int chain_parse(uint8_t next, struct ike_rd *r, struct ikev2_msg *m, bool inner)
{
	while (next != IKEV2_PL_NONE) {
		if (ike_rd_left(r) == 0)
			return ike_fail(r->err, -EBADMSG,
					"payload chain: next payload %u announced but the message ends",
					next);
		if (payload_parse(r, m, inner, &next))
			return r->err->code;
	}
	if (ike_rd_left(r) != 0)
		return ike_fail(r->err, -EBADMSG, "payload chain: %zu bytes after the last payload",
				ike_rd_left(r));
	return 0;
}

/* Malformed input answers INVALID_SYNTAX unless a more precise notify was set. */
static int with_notify(struct ike_err *err, int rc)
{
	if (rc == -EBADMSG && err->notify == 0)
		err->notify = IKEV2_N_INVALID_SYNTAX;
	return rc;
}

int ikev2_chain_parse(uint8_t first, const uint8_t *buf, size_t len, struct ikev2_msg *m,
		      struct ike_err *err)
{
	struct ike_err local;
	struct ike_rd r;

	if (err == NULL)
		err = &local;
	ike_rd_init(&r, buf, len, "payload chain", err);
	return with_notify(err, chain_parse(first, &r, m, true));
}

int ikev2_msg_parse(const uint8_t *buf, size_t len, struct ikev2_msg *out, struct ike_err *err)
{
	struct ike_err local;
	struct ike_rd r;
	int rc;

	if (err == NULL)
		err = &local;
	memset(out, 0, offsetof(struct ikev2_msg, pl));
	out->raw = buf;
	out->n_skipped = 0;
	out->sk_inner_next = 0;
	out->sk_body_off = 0;
	rc = ikev2_hdr_parse(buf, len, &out->hdr, err);
	if (rc)
		return with_notify(err, rc);
	ike_rd_init(&r, buf + IKEV2_HDR_LEN, len - IKEV2_HDR_LEN, "payload chain", err);
	return with_notify(err, chain_parse(out->hdr.next_payload, &r, out, false));
}

const struct ikev2_payload *ikev2_msg_find(const struct ikev2_msg *m, uint8_t type, int *i)
{
	for (int k = *i + 1; k < m->n; k++) {
		if (m->pl[k].type == type) {
			*i = k;
			return &m->pl[k];
		}
	}
	return NULL;
}

/* ---- building ---- */

void ikev2_build_begin(struct ikev2_builder *b, uint8_t *buf, size_t cap,
		       const struct ikev2_hdr *hdr)
{
	*b = (struct ikev2_builder){ .c = { .next_at = 16 } };
	ike_wr_init(&b->c.w, buf, cap);
	ike_wr_bytes(&b->c.w, hdr->spi_i, 8);
	ike_wr_bytes(&b->c.w, hdr->spi_r, 8);
	ike_wr_u8(&b->c.w, IKEV2_PL_NONE); /* set by the first payload */
	ike_wr_u8(&b->c.w, hdr->version);
	ike_wr_u8(&b->c.w, hdr->exchange);
	ike_wr_u8(&b->c.w, hdr->flags);
	ike_wr_u32(&b->c.w, hdr->msg_id);
	ike_wr_u32(&b->c.w, 0); /* length, at the end */
}

void ikev2_build_add(struct ikev2_builder *b, uint8_t type, bool critical,
		     const union ikev2_body *body)
{
	size_t start = ike_chain_open(&b->c, type, critical ? IKEV2_PL_CRITICAL : 0);

	ikev2_body_build(type, body, &b->c.w);
	ike_chain_close(&b->c, start);
}

void ikev2_build_raw(struct ikev2_builder *b, uint8_t type, bool critical, const uint8_t *body,
		     size_t len)
{
	size_t start = ike_chain_open(&b->c, type, critical ? IKEV2_PL_CRITICAL : 0);

	ike_wr_bytes(&b->c.w, body, len);
	ike_chain_close(&b->c, start);
}

void ikev2_build_sk(struct ikev2_builder *b, uint8_t inner_next, const struct ikev2_skf *fragment,
		    size_t iv_len, size_t ct_len, size_t icv_len, struct ikev2_sk_space *out)
{
	size_t start = ike_chain_open(&b->c, fragment ? IKEV2_PL_SKF : IKEV2_PL_SK, 0);

	ike_wr_put_u8(&b->c.w, start, inner_next);
	b->c.sealed = true;
	if (fragment) {
		ike_wr_u16(&b->c.w, fragment->number);
		ike_wr_u16(&b->c.w, fragment->total);
	}
	out->aad_len = b->c.w.len;
	out->iv = ike_wr_reserve(&b->c.w, iv_len);
	out->ct = ike_wr_reserve(&b->c.w, ct_len);
	out->icv = ike_wr_reserve(&b->c.w, icv_len);
	ike_chain_close(&b->c, start);
}

int ikev2_build_end(struct ikev2_builder *b, size_t *len, struct ike_err *err)
{
	int rc = ike_chain_done(&b->c, "IKEv2 message", err);

	if (rc)
		return rc;
	ike_wr_put_u32(&b->c.w, 24, (uint32_t)b->c.w.len);
	*len = b->c.w.len;
	return 0;
}

/* The SK/SKF payload copied as is, with its first-inner-payload byte. */
static void sk_rebuild(struct ikev2_builder *b, const struct ikev2_msg *m,
		       const struct ikev2_payload *p)
{
	size_t start = ike_chain_open(&b->c, p->type, p->critical ? IKEV2_PL_CRITICAL : 0);

	ike_wr_put_u8(&b->c.w, start, m->sk_inner_next);
	b->c.sealed = true;
	ike_wr_bytes(&b->c.w, p->body.p, p->body.len);
	ike_chain_close(&b->c, start);
}

int ikev2_msg_rebuild(const struct ikev2_msg *m, uint8_t *buf, size_t cap, size_t *len,
		      struct ike_err *err)
{
	union ikev2_body body;
	struct ikev2_builder b;

	ikev2_build_begin(&b, buf, cap, &m->hdr);
	for (uint16_t i = 0; i < m->n; i++) {
		const struct ikev2_payload *p = &m->pl[i];

		if (p->type == IKEV2_PL_SK || p->type == IKEV2_PL_SKF) {
			sk_rebuild(&b, m, p);
			continue;
		}
		if (ikev2_body_parse(p->type, p->body.p, p->body.len, &body, err))
			return err ? err->code : -EBADMSG;
		ikev2_build_add(&b, p->type, p->critical, &body);
	}
	return ikev2_build_end(&b, len, err);
}
