/* isakmp_msg.c - the ISAKMP header, payload chain walker and message
 * builder (RFC 2408 §3.1-3.2). Bodies are in isakmp_payload.c.
 *
 *   | initiator cookie (64) | responder cookie (64) |
 *   | next payload | MjVer|MnVer | exchange type | flags (A C E) |
 *   | message ID (32) | length (32) |
 *   then payloads: | next payload | RESERVED | payload length | body |
 * With the E flag set everything after the header is ciphertext. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "isakmp_msg.h"

#define PL_HDR_LEN 4
#define PRIVATE_USE 128 /* payload types 128..255 */

static int hdr_fail(struct ike_err *err, int code, uint16_t notify)
{
	if (err)
		err->notify = notify;
	return code;
}

int isakmp_hdr_parse(const uint8_t *buf, size_t len, struct isakmp_hdr *out,
		     struct ike_err *err)
{
	struct ike_rd r;

	ike_rd_init(&r, buf, len, "ISAKMP header", err);
	if (len > IKE_MSG_MAX)
		return ike_fail(err, -EMSGSIZE, "ISAKMP header: a %zu-byte datagram exceeds %d bytes", len,
				IKE_MSG_MAX);
	if (ike_rd_copy(&r, "initiator cookie", out->icookie, 8) ||
	    ike_rd_copy(&r, "responder cookie", out->rcookie, 8) ||
	    ike_rd_u8(&r, "next payload", &out->next_payload) ||
	    ike_rd_u8(&r, "version", &out->version) || ike_rd_u8(&r, "exchange type", &out->exchange) ||
	    ike_rd_u8(&r, "flags", &out->flags) || ike_rd_u32(&r, "message ID", &out->msg_id) ||
	    ike_rd_u32(&r, "length", &out->length))
		return hdr_fail(err, -EBADMSG, ISAKMP_N_PAYLOAD_MALFORMED);
	if (out->version >> 4 != 1)
		return hdr_fail(err, ike_fail(err, -EPROTONOSUPPORT,
					      "ISAKMP header: major version %u, expected 1",
					      out->version >> 4), ISAKMP_N_INVALID_MAJOR_VERSION);
	if ((out->version & 0xf) != 0)
		return hdr_fail(err, ike_fail(err, -EPROTONOSUPPORT,
					      "ISAKMP header: minor version %u, expected 0",
					      out->version & 0xf), ISAKMP_N_INVALID_MINOR_VERSION);
	if (isakmp_exchange_name(out->exchange) == NULL)
		return hdr_fail(err, ike_fail(err, -EOPNOTSUPP,
					      "ISAKMP header: exchange type %u is not known",
					      out->exchange), ISAKMP_N_INVALID_EXCHANGE_TYPE);
	if (out->flags & ~(ISAKMP_FLAG_E | ISAKMP_FLAG_C | ISAKMP_FLAG_A))
		return hdr_fail(err, ike_fail(err, -EBADMSG, "ISAKMP header: unknown flags 0x%02x",
					      out->flags), ISAKMP_N_INVALID_FLAGS);
	if (out->length != len)
		return hdr_fail(err, ike_fail(err, -EBADMSG,
					      "ISAKMP header: length %u but the datagram has %zu bytes",
					      out->length, len), ISAKMP_N_UNEQUAL_PAYLOAD_LENGTHS);
	return 0;
}

static int unknown_payload(struct ike_rd *r, struct isakmp_msg *m, uint8_t type)
{
	if (type >= PRIVATE_USE) {
		m->n_skipped++;
		return 0;
	}
	ike_fail(r->err, -EOPNOTSUPP, "INVALID-PAYLOAD-TYPE: payload type %u %s", type,
		 type == ISAKMP_PL_PROPOSAL || type == ISAKMP_PL_TRANSFORM ?
			 "outside an SA payload" : "is not known");
	r->err->notify = ISAKMP_N_INVALID_PAYLOAD_TYPE;
	r->err->detail = type;
	return -EOPNOTSUPP;
}

static bool payload_known(uint8_t t)
{
	return t != ISAKMP_PL_NONE && t != ISAKMP_PL_PROPOSAL && t != ISAKMP_PL_TRANSFORM &&
	       isakmp_payload_name(t) != NULL;
}

static int payload_parse(struct ike_rd *r, struct isakmp_msg *m, uint8_t *next)
{
	union isakmp_body scratch;
	uint8_t type = *next, res;
	struct ike_rd body;

	if (ike_rd_struct(r, "payload length", PL_HDR_LEN, next, &res, &body,
			  payload_known(type) ? isakmp_payload_name(type) : "unknown"))
		return -EBADMSG;
	if (!payload_known(type))
		return unknown_payload(r, m, type);
	if (isakmp_body_parse(type, body.p, body.len, &scratch, r->err))
		return r->err->code;
	if (m->n >= ISAKMP_MAX_PAYLOADS)
		return ike_fail(r->err, -E2BIG, "message: more than %d payloads", ISAKMP_MAX_PAYLOADS);
	m->pl[m->n++] = (struct isakmp_payload){ type, { body.p, (uint16_t)body.len } };
	return 0;
}

/* padding_ok: decrypted contents end with block padding. */
static int chain_parse(uint8_t next, struct ike_rd *r, struct isakmp_msg *m, bool padding_ok)
{
	while (next != ISAKMP_PL_NONE) {
		if (ike_rd_left(r) == 0)
			return ike_fail(r->err, -EBADMSG,
					"payload chain: next payload %u announced but the message ends",
					next);
		if (payload_parse(r, m, &next))
			return r->err->code;
	}
	if (ike_rd_left(r) != 0 && !padding_ok)
		return ike_fail(r->err, -EBADMSG, "payload chain: %zu bytes after the last payload",
				ike_rd_left(r));
	m->pad_len = (uint16_t)ike_rd_left(r);
	return 0;
}

static int with_notify(struct ike_err *err, int rc)
{
	if (rc == -EBADMSG && err->notify == 0)
		err->notify = ISAKMP_N_PAYLOAD_MALFORMED;
	return rc;
}

int isakmp_chain_parse(uint8_t first, const uint8_t *buf, size_t len, struct isakmp_msg *m,
		       struct ike_err *err)
{
	struct ike_err local;
	struct ike_rd r;

	if (err == NULL)
		err = &local;
	ike_rd_init(&r, buf, len, "payload chain", err);
	return with_notify(err, chain_parse(first, &r, m, true));
}

int isakmp_msg_parse(const uint8_t *buf, size_t len, struct isakmp_msg *out,
		     struct ike_err *err)
{
	struct ike_err local;
	struct ike_rd r;
	int rc;

	if (err == NULL)
		err = &local;
	memset(out, 0, offsetof(struct isakmp_msg, pl));
	out->raw = buf;
	out->n_skipped = 0;
	out->encrypted = (struct ike_blob){ NULL, 0 };
	out->pad_len = 0;
	rc = isakmp_hdr_parse(buf, len, &out->hdr, err);
	if (rc)
		return with_notify(err, rc);
	if (out->hdr.flags & ISAKMP_FLAG_E) {
		if (len == ISAKMP_HDR_LEN || out->hdr.next_payload == ISAKMP_PL_NONE)
			return with_notify(err, ike_fail(err, -EBADMSG,
							 "ISAKMP header: encrypted message without payloads"));
		out->encrypted = (struct ike_blob){ buf + ISAKMP_HDR_LEN,
						    (uint16_t)(len - ISAKMP_HDR_LEN) };
		return 0;
	}
	ike_rd_init(&r, buf + ISAKMP_HDR_LEN, len - ISAKMP_HDR_LEN, "payload chain", err);
	return with_notify(err, chain_parse(out->hdr.next_payload, &r, out, false));
}

const struct isakmp_payload *isakmp_msg_find(const struct isakmp_msg *m, uint8_t type, int *i)
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

void isakmp_build_begin(struct isakmp_builder *b, uint8_t *buf, size_t cap,
			const struct isakmp_hdr *hdr)
{
	*b = (struct isakmp_builder){ .has_hdr = hdr != NULL };
	ike_wr_init(&b->c.w, buf, cap);
	if (hdr == NULL) {
		/* a plaintext chain: the first type goes to b->first, via a scratch byte */
		b->c.next_at = SIZE_MAX;
		return;
	}
	b->c.next_at = 16;
	ike_wr_bytes(&b->c.w, hdr->icookie, 8);
	ike_wr_bytes(&b->c.w, hdr->rcookie, 8);
	ike_wr_u8(&b->c.w, ISAKMP_PL_NONE);
	ike_wr_u8(&b->c.w, hdr->version);
	ike_wr_u8(&b->c.w, hdr->exchange);
	ike_wr_u8(&b->c.w, hdr->flags);
	ike_wr_u32(&b->c.w, hdr->msg_id);
	ike_wr_u32(&b->c.w, 0); /* length, at the end */
}

static size_t open_payload(struct isakmp_builder *b, uint8_t type)
{
	if (b->c.next_at == SIZE_MAX)
		b->first = type;
	return ike_chain_open(&b->c, type, 0);
}

void isakmp_build_add(struct isakmp_builder *b, uint8_t type, const union isakmp_body *body)
{
	size_t start = open_payload(b, type);

	isakmp_body_build(type, body, &b->c.w);
	ike_chain_close(&b->c, start);
}

void isakmp_build_raw(struct isakmp_builder *b, uint8_t type, const uint8_t *body, size_t len)
{
	size_t start = open_payload(b, type);

	ike_wr_bytes(&b->c.w, body, len);
	ike_chain_close(&b->c, start);
}

uint8_t *isakmp_build_ciphertext(struct isakmp_builder *b, uint8_t first, size_t len)
{
	if ((b->c.sealed || !b->has_hdr || b->c.next_at != 16) && b->c.misuse == NULL)
		b->c.misuse = "ciphertext must follow the header alone";
	ike_wr_put_u8(&b->c.w, 16, first);
	b->c.sealed = true;
	return ike_wr_reserve(&b->c.w, len);
}

int isakmp_build_end(struct isakmp_builder *b, size_t *len, struct ike_err *err)
{
	int rc = ike_chain_done(&b->c, "ISAKMP message", err);

	if (rc)
		return rc;
	if (b->has_hdr)
		ike_wr_put_u32(&b->c.w, 24, (uint32_t)b->c.w.len);
	*len = b->c.w.len;
	return 0;
}

int isakmp_msg_rebuild(const struct isakmp_msg *m, uint8_t *buf, size_t cap, size_t *len,
		       struct ike_err *err)
{
	union isakmp_body body;
	struct isakmp_builder b;

	isakmp_build_begin(&b, buf, cap, &m->hdr);
	if (m->hdr.flags & ISAKMP_FLAG_E) {
		uint8_t *ct = isakmp_build_ciphertext(&b, m->hdr.next_payload, m->encrypted.len);

		if (ct)
			memcpy(ct, m->encrypted.p, m->encrypted.len);
		return isakmp_build_end(&b, len, err);
	}
	for (uint16_t i = 0; i < m->n; i++) {
		const struct isakmp_payload *p = &m->pl[i];

		if (isakmp_body_parse(p->type, p->body.p, p->body.len, &body, err))
			return err ? err->code : -EBADMSG;
		isakmp_build_add(&b, p->type, &body);
	}
	return isakmp_build_end(&b, len, err);
}
