/* ikev2_payload.c - parse and build every IKEv2 payload body (RFC 7296 §3.3
 * to §3.16, RFC 7383 §2.5 for SKF). Each body's wire format is drawn above
 * its parser; parsers check every length and count and point into the
 * message, builders write the same layout with reserved fields zero. */
#include <errno.h>
#include <string.h>

#include "ikev2_msg.h"

#define BAD -EBADMSG

/* The rest of the reader as a blob (payload lengths fit 16 bits). */
static void rest(struct ike_rd *r, struct ike_blob *b)
{
	b->p = r->p + r->off;
	b->len = (uint16_t)ike_rd_left(r);
	r->off = r->len;
}

int ikev2_sa_parse(const uint8_t *buf, size_t len, struct ike_sa *out, struct ike_err *err)
{
	return ike_sa_parse(IKE_V2, buf, len, out, err);
}

/* | DH group num (16) | RESERVED (16) | key exchange data ... | */
int ikev2_ke_parse(const uint8_t *buf, size_t len, struct ikev2_ke *out, struct ike_err *err)
{
	struct ike_rd r;

	ike_rd_init(&r, buf, len, "KE payload", err);
	if (ike_rd_u16(&r, "DH group", &out->group) || ike_rd_skip(&r, "reserved", 2))
		return BAD;
	if (ike_rd_left(&r) == 0)
		return ike_fail(err, BAD, "KE payload: no key exchange data for group %u",
				out->group);
	rest(&r, &out->data);
	return 0;
}

static int id_data_ok(const struct ikev2_id *id, struct ike_err *err)
{
	size_t want = 0;

	switch (id->type) {
	case IKEV2_ID_IPV4_ADDR:
		want = 4;
		break;
	case IKEV2_ID_IPV6_ADDR:
		want = 16;
		break;
	case IKEV2_ID_FQDN:
	case IKEV2_ID_RFC822_ADDR:
	case IKEV2_ID_DER_ASN1_DN:
	case IKEV2_ID_DER_ASN1_GN:
	case IKEV2_ID_KEY_ID:
		if (id->data.len == 0)
			return ike_fail(err, BAD, "ID payload: empty %s",
					ikev2_id_type_name(id->type));
		return 0;
	default:
		return ike_fail(err, BAD, "ID payload: ID type %u is not defined by RFC 7296",
				id->type);
	}
	if (id->data.len != want)
		return ike_fail(err, BAD, "ID payload: %s of %u bytes, not %zu",
				ikev2_id_type_name(id->type), id->data.len, want);
	return 0;
}

/* | ID type | RESERVED (24) | identification data ... | */
int ikev2_id_parse(const uint8_t *buf, size_t len, struct ikev2_id *out, struct ike_err *err)
{
	struct ike_rd r;

	ike_rd_init(&r, buf, len, "ID payload", err);
	if (ike_rd_u8(&r, "ID type", &out->type) || ike_rd_skip(&r, "reserved", 3))
		return BAD;
	rest(&r, &out->data);
	return id_data_ok(out, err);
}

/* | cert encoding | certificate data ... |  (CERTREQ: CA hashes instead) */
int ikev2_cert_parse(const uint8_t *buf, size_t len, struct ikev2_cert *out,
		     struct ike_err *err)
{
	struct ike_rd r;

	ike_rd_init(&r, buf, len, "CERT payload", err);
	if (ike_rd_u8(&r, "encoding", &out->encoding))
		return BAD;
	rest(&r, &out->data);
	return 0;
}

/* | auth method | RESERVED (24) | authentication data ... | */
int ikev2_auth_parse(const uint8_t *buf, size_t len, struct ikev2_auth *out,
		     struct ike_err *err)
{
	struct ike_rd r;

	ike_rd_init(&r, buf, len, "AUTH payload", err);
	if (ike_rd_u8(&r, "auth method", &out->method) || ike_rd_skip(&r, "reserved", 3))
		return BAD;
	if (ike_rd_left(&r) == 0)
		return ike_fail(err, BAD, "AUTH payload: no authentication data");
	rest(&r, &out->data);
	return 0;
}

/* | nonce data (16..256 bytes) | */
int ikev2_nonce_parse(const uint8_t *buf, size_t len, struct ike_blob *out, struct ike_err *err)
{
	if (len < IKEV2_NONCE_MIN || len > IKEV2_NONCE_MAX)
		return ike_fail(err, BAD, "Nonce payload: %zu bytes, outside %d..%d", len,
				IKEV2_NONCE_MIN, IKEV2_NONCE_MAX);
	*out = (struct ike_blob){ buf, (uint16_t)len };
	return 0;
}

/* Data sizes fixed by the notify's defining RFC: {type, min, max}. */
static const struct {
	uint16_t type, min, max;
} notify_sizes[] = {
	{ IKEV2_N_INVALID_KE_PAYLOAD, 2, 2 },	    /* the accepted group */
	{ IKEV2_N_COOKIE, 1, 64 },		    /* RFC 7296 §2.6 */
	{ IKEV2_N_NAT_DETECTION_SOURCE_IP, 20, 20 }, /* SHA-1 */
	{ IKEV2_N_NAT_DETECTION_DESTINATION_IP, 20, 20 },
	{ IKEV2_N_SET_WINDOW_SIZE, 4, 4 },
	{ IKEV2_N_IPCOMP_SUPPORTED, 3, 255 },	    /* CPI + transform ID */
	{ IKEV2_N_INITIAL_CONTACT, 0, 0 },
	{ IKEV2_N_USE_TRANSPORT_MODE, 0, 0 },
	{ IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED, 0, 0 },
	{ IKEV2_N_SIGNATURE_HASH_ALGORITHMS, 2, 0xffff }, /* 16-bit IDs, checked even below */
	{ IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD, 1, 1 },
};

static int notify_data_ok(const struct ikev2_notify *n, struct ike_err *err)
{
	const char *name = ikev2_notify_name(n->type);

	for (size_t i = 0; i < sizeof(notify_sizes) / sizeof(notify_sizes[0]); i++) {
		if (notify_sizes[i].type != n->type)
			continue;
		if (n->data.len < notify_sizes[i].min || n->data.len > notify_sizes[i].max)
			return ike_fail(err, BAD, "Notify %s: %u bytes of data, expected %u..%u",
					name, n->data.len, notify_sizes[i].min,
					notify_sizes[i].max);
	}
	if (n->type == IKEV2_N_SIGNATURE_HASH_ALGORITHMS && n->data.len % 2 != 0)
		return ike_fail(err, BAD, "Notify %s: odd length %u", name, n->data.len);
	if (n->type == IKEV2_N_REKEY_SA &&
	    !(n->spi_len == 4 && (n->protocol == IKE_PROTO_AH || n->protocol == IKE_PROTO_ESP)))
		return ike_fail(err, BAD, "Notify %s: needs the 4-byte SPI of an AH/ESP SA", name);
	return 0;
}

/* | protocol ID | SPI size | notify type (16) | SPI ... | notification data ... | */
int ikev2_notify_parse(const uint8_t *buf, size_t len, struct ikev2_notify *out,
		       struct ike_err *err)
{
	struct ike_rd r;

	ike_rd_init(&r, buf, len, "Notify payload", err);
	if (ike_rd_u8(&r, "protocol ID", &out->protocol) ||
	    ike_rd_u8(&r, "SPI size", &out->spi_len) || ike_rd_u16(&r, "notify type", &out->type))
		return BAD;
	if (out->spi_len != 0 && out->spi_len != 4 && out->spi_len != 8)
		return ike_fail(err, BAD, "Notify payload: SPI size %u is not 0, 4 or 8",
				out->spi_len);
	if (out->spi_len != 0 && (out->protocol < IKE_PROTO_IKE || out->protocol > IKE_PROTO_ESP))
		return ike_fail(err, BAD, "Notify payload: SPI given for protocol %u",
				out->protocol);
	if (ike_rd_copy(&r, "SPI", out->spi, out->spi_len))
		return BAD;
	rest(&r, &out->data);
	return notify_data_ok(out, err);
}

/* | protocol ID | SPI size | num of SPIs (16) | SPIs ... | */
int ikev2_delete_parse(const uint8_t *buf, size_t len, struct ikev2_delete *out,
		       struct ike_err *err)
{
	struct ike_rd r;

	ike_rd_init(&r, buf, len, "Delete payload", err);
	if (ike_rd_u8(&r, "protocol ID", &out->protocol) ||
	    ike_rd_u8(&r, "SPI size", &out->spi_len) || ike_rd_u16(&r, "SPI count", &out->n_spi))
		return BAD;
	if (out->protocol == IKE_PROTO_IKE) {
		if (out->spi_len != 0 || out->n_spi != 0)
			return ike_fail(err, BAD,
					"Delete payload: IKE SA deletion with SPI size %u, count %u (both must be 0)",
					out->spi_len, out->n_spi);
	} else if (out->protocol == IKE_PROTO_AH || out->protocol == IKE_PROTO_ESP) {
		if (out->spi_len != 4 || out->n_spi == 0)
			return ike_fail(err, BAD,
					"Delete payload: AH/ESP deletion with SPI size %u, count %u",
					out->spi_len, out->n_spi);
	} else {
		return ike_fail(err, BAD, "Delete payload: protocol %u is not IKE, AH or ESP",
				out->protocol);
	}
	if ((size_t)out->n_spi * out->spi_len != ike_rd_left(&r))
		return ike_fail(err, BAD, "Delete payload: %u SPIs of %u bytes but %zu bytes follow",
				out->n_spi, out->spi_len, ike_rd_left(&r));
	out->spis = r.p + r.off;
	return 0;
}

/* | TS type | IP protocol | selector length (16) |
 * | start port (16) | end port (16) | start address | end address |  */
static int ts_parse(struct ike_rd *r, struct ikev2_ts *ts)
{
	size_t alen;
	uint16_t len;

	if (ike_rd_u8(r, "TS type", &ts->type) || ike_rd_u8(r, "IP protocol", &ts->ip_proto) ||
	    ike_rd_u16(r, "selector length", &len))
		return BAD;
	if (ts->type == IKEV2_TS_IPV4_ADDR_RANGE)
		alen = 4;
	else if (ts->type == IKEV2_TS_IPV6_ADDR_RANGE)
		alen = 16;
	else
		return ike_fail(r->err, BAD, "%s: TS type %u is not an IPv4 or IPv6 range", r->what,
				ts->type);
	if (len != 8 + 2 * alen)
		return ike_fail(r->err, BAD, "%s: selector length %u, type %u needs %zu", r->what,
				len, ts->type, 8 + 2 * alen);
	memset(ts->addr_lo, 0, sizeof(ts->addr_lo));
	memset(ts->addr_hi, 0, sizeof(ts->addr_hi));
	if (ike_rd_u16(r, "start port", &ts->port_lo) || ike_rd_u16(r, "end port", &ts->port_hi) ||
	    ike_rd_copy(r, "start address", ts->addr_lo, alen) ||
	    ike_rd_copy(r, "end address", ts->addr_hi, alen))
		return BAD;
	return 0;
}

/* | number of TSs | RESERVED (24) | traffic selectors ... | */
int ikev2_ts_parse(const uint8_t *buf, size_t len, struct ikev2_ts_list *out,
		   struct ike_err *err)
{
	struct ike_rd r;
	uint8_t n;

	ike_rd_init(&r, buf, len, "TS payload", err);
	if (ike_rd_u8(&r, "TS count", &n) || ike_rd_skip(&r, "reserved", 3))
		return BAD;
	if (n == 0)
		return ike_fail(err, BAD, "TS payload: no traffic selector");
	if (n > IKEV2_MAX_TS)
		return ike_fail(err, -E2BIG, "TS payload: %u selectors, at most %d", n, IKEV2_MAX_TS);
	for (out->n = 0; out->n < n; out->n++)
		if (ts_parse(&r, &out->ts[out->n]))
			return BAD;
	if (ike_rd_left(&r) != 0)
		return ike_fail(err, BAD, "TS payload: %zu bytes after its %u selectors",
				ike_rd_left(&r), n);
	return 0;
}

/* | CFG type | RESERVED (24) | attributes: R|type (16), length (16), value | */
int ikev2_cp_parse(const uint8_t *buf, size_t len, struct ikev2_cp *out, struct ike_err *err)
{
	struct ike_rd r;
	uint16_t alen;

	ike_rd_init(&r, buf, len, "CP payload", err);
	if (ike_rd_u8(&r, "CFG type", &out->cfg_type) || ike_rd_skip(&r, "reserved", 3))
		return BAD;
	for (out->n = 0; ike_rd_left(&r) > 0; out->n++) {
		struct ikev2_cp_attr *a = &out->attr[out->n];

		if (out->n >= IKEV2_MAX_CP_ATTRS)
			return ike_fail(err, -E2BIG, "CP payload: more than %d attributes",
					IKEV2_MAX_CP_ATTRS);
		if (ike_rd_u16(&r, "attribute type", &a->type) ||
		    ike_rd_u16(&r, "attribute length", &alen) ||
		    ike_rd_bytes(&r, "attribute value", alen, &a->value.p))
			return BAD;
		a->type &= 0x7fff; /* the R bit is reserved */
		a->value.len = alen;
	}
	return 0;
}

/* | code | identifier | length (16) | type and data ... | */
int ikev2_eap_parse(const uint8_t *buf, size_t len, struct ikev2_eap *out, struct ike_err *err)
{
	struct ike_rd r;
	uint16_t elen;

	ike_rd_init(&r, buf, len, "EAP payload", err);
	if (ike_rd_u8(&r, "code", &out->code) || ike_rd_u8(&r, "identifier", &out->id) ||
	    ike_rd_u16(&r, "EAP length", &elen))
		return BAD;
	if (elen != len)
		return ike_fail(err, BAD, "EAP payload: EAP length %u but the payload holds %zu",
				elen, len);
	out->msg = (struct ike_blob){ buf, (uint16_t)len };
	return 0;
}

/* | fragment number (16) | total fragments (16) | IV | ciphertext | ICV | */
int ikev2_skf_parse(const uint8_t *buf, size_t len, struct ikev2_skf *out, struct ike_err *err)
{
	struct ike_rd r;

	ike_rd_init(&r, buf, len, "SKF payload", err);
	if (ike_rd_u16(&r, "fragment number", &out->number) ||
	    ike_rd_u16(&r, "total fragments", &out->total))
		return BAD;
	if (out->number == 0 || out->total == 0 || out->number > out->total)
		return ike_fail(err, BAD, "SKF payload: fragment %u of %u", out->number, out->total);
	rest(&r, &out->rest);
	return 0;
}

int ikev2_sk_split(const uint8_t *buf, size_t len, size_t iv_len, size_t icv_len,
		   struct ikev2_sk *out, struct ike_err *err)
{
	if (len < iv_len + icv_len)
		return ike_fail(err, BAD, "SK payload: %zu bytes cannot hold a %zu-byte IV and a %zu-byte ICV",
				len, iv_len, icv_len);
	out->iv = (struct ike_blob){ buf, (uint16_t)iv_len };
	out->ct = (struct ike_blob){ buf + iv_len, (uint16_t)(len - iv_len - icv_len) };
	out->icv = (struct ike_blob){ buf + len - icv_len, (uint16_t)icv_len };
	return 0;
}

int ikev2_body_parse(uint8_t type, const uint8_t *buf, size_t len, union ikev2_body *out,
		     struct ike_err *err)
{
	switch (type) {
	case IKEV2_PL_SA: return ikev2_sa_parse(buf, len, &out->sa, err);
	case IKEV2_PL_KE: return ikev2_ke_parse(buf, len, &out->ke, err);
	case IKEV2_PL_IDI:
	case IKEV2_PL_IDR: return ikev2_id_parse(buf, len, &out->id, err);
	case IKEV2_PL_CERT:
	case IKEV2_PL_CERTREQ: return ikev2_cert_parse(buf, len, &out->cert, err);
	case IKEV2_PL_AUTH: return ikev2_auth_parse(buf, len, &out->auth, err);
	case IKEV2_PL_NONCE: return ikev2_nonce_parse(buf, len, &out->nonce, err);
	case IKEV2_PL_NOTIFY: return ikev2_notify_parse(buf, len, &out->notify, err);
	case IKEV2_PL_DELETE: return ikev2_delete_parse(buf, len, &out->del, err);
	case IKEV2_PL_TSI:
	case IKEV2_PL_TSR: return ikev2_ts_parse(buf, len, &out->ts, err);
	case IKEV2_PL_CP: return ikev2_cp_parse(buf, len, &out->cp, err);
	case IKEV2_PL_EAP: return ikev2_eap_parse(buf, len, &out->eap, err);
	case IKEV2_PL_SKF: return ikev2_skf_parse(buf, len, &out->skf, err);
	case IKEV2_PL_VENDOR:
	case IKEV2_PL_SK:
		out->vendor = (struct ike_blob){ buf, (uint16_t)len };
		return 0;
	default:
		return ike_fail(err, -EOPNOTSUPP, "payload type %u has no body codec", type);
	}
}

static void ts_build(const struct ikev2_ts_list *l, struct ike_wr *w)
{
	ike_wr_u8(w, l->n);
	ike_wr_zero(w, 3);
	for (uint8_t i = 0; i < l->n; i++) {
		const struct ikev2_ts *ts = &l->ts[i];
		size_t alen = ts->type == IKEV2_TS_IPV6_ADDR_RANGE ? 16 : 4;

		ike_wr_u8(w, ts->type);
		ike_wr_u8(w, ts->ip_proto);
		ike_wr_u16(w, (uint16_t)(8 + 2 * alen));
		ike_wr_u16(w, ts->port_lo);
		ike_wr_u16(w, ts->port_hi);
		ike_wr_bytes(w, ts->addr_lo, alen);
		ike_wr_bytes(w, ts->addr_hi, alen);
	}
}

static void cp_build(const struct ikev2_cp *cp, struct ike_wr *w)
{
	ike_wr_u8(w, cp->cfg_type);
	ike_wr_zero(w, 3);
	for (uint8_t i = 0; i < cp->n; i++) {
		ike_wr_u16(w, cp->attr[i].type & 0x7fff);
		ike_wr_u16(w, cp->attr[i].value.len);
		ike_wr_bytes(w, cp->attr[i].value.p, cp->attr[i].value.len);
	}
}

/* Type byte, three reserved bytes, data: ID and AUTH. */
static void typed_data_build(uint8_t type, const struct ike_blob *d, struct ike_wr *w)
{
	ike_wr_u8(w, type);
	ike_wr_zero(w, 3);
	ike_wr_bytes(w, d->p, d->len);
}

void ikev2_body_build(uint8_t type, const union ikev2_body *in, struct ike_wr *w)
{
	switch (type) {
	case IKEV2_PL_SA:
		ike_sa_build(IKE_V2, &in->sa, w);
		break;
	case IKEV2_PL_KE:
		ike_wr_u16(w, in->ke.group);
		ike_wr_u16(w, 0);
		ike_wr_bytes(w, in->ke.data.p, in->ke.data.len);
		break;
	case IKEV2_PL_IDI:
	case IKEV2_PL_IDR:
		typed_data_build(in->id.type, &in->id.data, w);
		break;
	case IKEV2_PL_AUTH:
		typed_data_build(in->auth.method, &in->auth.data, w);
		break;
	case IKEV2_PL_CERT:
	case IKEV2_PL_CERTREQ:
		ike_wr_u8(w, in->cert.encoding);
		ike_wr_bytes(w, in->cert.data.p, in->cert.data.len);
		break;
	case IKEV2_PL_NOTIFY:
		ike_wr_u8(w, in->notify.protocol);
		ike_wr_u8(w, in->notify.spi_len);
		ike_wr_u16(w, in->notify.type);
		ike_wr_bytes(w, in->notify.spi, in->notify.spi_len);
		ike_wr_bytes(w, in->notify.data.p, in->notify.data.len);
		break;
	case IKEV2_PL_DELETE:
		ike_wr_u8(w, in->del.protocol);
		ike_wr_u8(w, in->del.spi_len);
		ike_wr_u16(w, in->del.n_spi);
		ike_wr_bytes(w, in->del.spis, (size_t)in->del.n_spi * in->del.spi_len);
		break;
	case IKEV2_PL_TSI:
	case IKEV2_PL_TSR:
		ts_build(&in->ts, w);
		break;
	case IKEV2_PL_CP:
		cp_build(&in->cp, w);
		break;
	case IKEV2_PL_EAP:
		ike_wr_bytes(w, in->eap.msg.p, in->eap.msg.len);
		break;
	case IKEV2_PL_SKF:
		ike_wr_u16(w, in->skf.number);
		ike_wr_u16(w, in->skf.total);
		ike_wr_bytes(w, in->skf.rest.p, in->skf.rest.len);
		break;
	default: /* Nonce, Vendor ID, SK: opaque bytes */
		ike_wr_bytes(w, in->nonce.p, in->nonce.len);
		break;
	}
}
