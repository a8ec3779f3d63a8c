/* ikev2_wire.c - messages of the IKEv2 engine on the wire: building them
 * (in the clear or inside an Encrypted payload), sending requests and
 * responses through the SA's windows, opening received SK payloads, and
 * finding payloads and notifies in what was received. Also the engine's
 * randomness and key pairs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ike_sk.h"
#include "ikev2_exchange.h"

int ikev2_random(void *p, size_t n, struct ike_err *err)
{
	if (RAND_bytes(p, (int)n) != 1)
		return ike_fail(err, -EIO, "OpenSSL's random generator failed");
	return 0;
}

int ikev2_dh_new(struct ikev2_engine *e, uint16_t group, struct ike_dh **out, struct ike_err *err)
{
	if (e->conf.test_dh_private && group >= IKE_DH_ECP_256) /* the hook knows no MODP */
		return ike_dh_new_fixed_for_test(group, e->conf.test_dh_private,
						 e->conf.test_dh_private_len, out, err);
	return ike_dh_new(group, out, err);
}

uint32_t ikev2_new_child_spi(struct ikev2_engine *e)
{
	uint32_t spi = 0;

	if (e->conf.spi_alloc)
		return e->conf.spi_alloc(e->conf.spi_ctx);
	while (spi < 256) /* 1..255 are reserved by IANA (RFC 4303 §2.1) */
		if (ikev2_random(&spi, sizeof(spi), NULL))
			return 0;
	return spi;
}

static struct ikev2_hdr header(const struct ikev2_sa *sa, uint8_t exchange, bool response,
			       uint32_t msg_id)
{
	struct ikev2_hdr h = { .version = IKEV2_VERSION, .exchange = exchange, .msg_id = msg_id };

	memcpy(h.spi_i, sa->id.spi_i, 8);
	memcpy(h.spi_r, sa->id.spi_r, 8);
	h.flags = (sa->initiator ? IKEV2_FLAG_I : 0) | (response ? IKEV2_FLAG_R : 0);
	return h;
}

void ikev2_tx_begin(struct ikev2_engine *e, const struct ikev2_sa *sa, struct ikev2_tx *t,
		    uint8_t exchange, bool response, uint32_t msg_id)
{
	t->hdr = header(sa, exchange, response, msg_id);
	t->encrypted = exchange != IKEV2_IKE_SA_INIT;
	/* SK contents are built as a message of their own whose header is
	 * dropped: its next-payload byte names the first inner payload. */
	ikev2_build_begin(&t->b, t->encrypted ? e->inner : e->out, IKE_MSG_MAX, &t->hdr);
}

void ikev2_tx_begin_clear(struct ikev2_engine *e, struct ikev2_tx *t, const struct ikev2_hdr *hdr)
{
	t->hdr = *hdr;
	t->encrypted = false;
	ikev2_build_begin(&t->b, e->out, IKE_MSG_MAX, &t->hdr);
}

void ikev2_tx_add(struct ikev2_tx *t, uint8_t type, const union ikev2_body *body)
{
	ikev2_build_add(&t->b, type, false, body);
}

void ikev2_tx_notify(struct ikev2_tx *t, uint16_t type, uint8_t protocol, const uint8_t *spi,
		     uint8_t spi_len, const uint8_t *data, size_t len)
{
	union ikev2_body b = { .notify = { .protocol = protocol, .spi_len = spi_len, .type = type,
					   .data = { data, (uint16_t)len } } };

	if (spi_len)
		memcpy(b.notify.spi, spi, spi_len);
	ikev2_tx_add(t, IKEV2_PL_NOTIFY, &b);
}

/* Wraps the inner chain built in e->inner into an SK payload and seals it. */
static int seal(struct ikev2_engine *e, const struct ikev2_sa *sa, struct ikev2_tx *t,
		size_t inner_len, size_t *len, struct ike_err *err)
{
	size_t plain = inner_len - IKEV2_HDR_LEN;
	struct ikev2_builder b;
	struct ikev2_sk_space sp;
	int rc;

	ikev2_build_begin(&b, e->out, IKE_MSG_MAX, &t->hdr);
	ikev2_build_sk(&b, e->inner[16], NULL, sa->keys.iv_len, ikev2_sk_ct_len(&sa->keys, plain),
		       sa->keys.icv_len, &sp);
	rc = ikev2_build_end(&b, len, err);
	if (rc)
		return rc;
	memcpy(sp.ct, e->inner + IKEV2_HDR_LEN, plain);
	rc = ikev2_sk_seal(&sa->keys, e->out, *len, sp.aad_len, plain, err);
	OPENSSL_cleanse(e->inner, inner_len);
	return rc;
}

/* The length of the message sealed whole: does it need fragments? */
static bool needs_fragments(const struct ikev2_engine *e, const struct ikev2_sa *sa, size_t inner_len)
{
	size_t whole = IKEV2_HDR_LEN + IKEV2_PL_HDR_LEN + sa->keys.iv_len +
		       ikev2_sk_ct_len(&sa->keys, inner_len - IKEV2_HDR_LEN) + sa->keys.icv_len;

	return sa->frag_ok && e->conf.fragment_size && whole > e->conf.fragment_size;
}

int ikev2_tx_finish(struct ikev2_engine *e, const struct ikev2_sa *sa, struct ikev2_tx *t,
		    uint8_t **data, size_t *len, struct ike_err *err)
{
	size_t built;
	int rc = ikev2_build_end(&t->b, &built, err);

	*len = built;
	if (rc == 0 && t->encrypted && needs_fragments(e, sa, built)) {
		rc = ikev2_frag_seal(e, sa, &t->hdr, e->inner, built, data, len, err);
		OPENSSL_cleanse(e->inner, built);
		return rc;
	}
	if (rc == 0 && t->encrypted)
		rc = seal(e, sa, t, built, len, err);
	if (rc)
		return rc;
	*data = malloc(*len);
	if (*data == NULL)
		return ike_fail(err, -ENOMEM, "no memory for a %zu-byte message", *len);
	memcpy(*data, e->out, *len);
	return 0;
}

void ikev2_send_to(struct ikev2_engine *e, const struct ike_endpoint *local,
		   const struct ike_endpoint *remote, const uint8_t *data, size_t len)
{
	if (ike_evq_send(&e->evq, local, remote, data, len)) /* else as if lost: retransmitted */
		ikev2_count(e, IKEV2_STAT_SENT);
}

void ikev2_send(struct ikev2_engine *e, const struct ikev2_sa *sa, const uint8_t *data, size_t len)
{
	ikev2_send_to(e, &sa->local, &sa->remote, data, len);
}

int ikev2_send_request(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_tx *t,
		       enum ikev2_req_kind kind, uint64_t now, struct ike_err *err)
{
	uint8_t *data;
	size_t len;
	int rc = ikev2_tx_finish(e, sa, t, &data, &len, err);

	if (rc)
		return rc;
	ikev2_sa_request_sent(sa, kind, data, len, now, e->conf.retransmit_base_ms);
	ikev2_sa_log(sa, e, 7, now, "out %s request #%u, %zu bytes",
		     ikev2_exchange_name(t->hdr.exchange), t->hdr.msg_id, len);
	ikev2_send_message(e, sa, data, len);
	return 0;
}

int ikev2_seal_response(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_tx *t,
			struct ike_err *err)
{
	uint8_t *data;
	size_t len;
	int rc = ikev2_tx_finish(e, sa, t, &data, &len, err);

	if (rc == 0)
		ikev2_sa_response_sent(sa, t->hdr.msg_id, data, len);
	return rc;
}

void ikev2_send_cached_response(struct ikev2_engine *e, const struct ikev2_sa *sa)
{
	ikev2_send_message(e, sa, sa->last_resp.data, sa->last_resp.len);
}

int ikev2_send_response(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_tx *t,
			struct ike_err *err)
{
	int rc = ikev2_seal_response(e, sa, t, err);

	if (rc == 0)
		ikev2_send_cached_response(e, sa);
	return rc;
}

int ikev2_rx_open(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx)
{
	uint8_t *plain;
	size_t plain_len;
	int rc;

	if (rx->m.n == 0 || rx->m.pl[rx->m.n - 1].type != IKEV2_PL_SK)
		return ike_fail(rx->err, -EBADMSG, "%s message without an Encrypted payload",
				ikev2_exchange_name(rx->m.hdr.exchange));
	rc = ikev2_sk_open(&sa->keys, e->rx, rx->len, rx->m.sk_body_off, &plain, &plain_len,
			   rx->err);
	if (rc)
		return rc;
	return ikev2_chain_parse(rx->m.sk_inner_next, plain, plain_len, &rx->m, rx->err);
}

bool ikev2_rx_body(const struct ikev2_rx *rx, uint8_t type, union ikev2_body *body)
{
	int i = -1;
	const struct ikev2_payload *p = ikev2_msg_find(&rx->m, type, &i);

	/* every body was checked when the message was parsed */
	return p && ikev2_body_parse(type, p->body.p, p->body.len, body, NULL) == 0;
}

bool ikev2_rx_has(const struct ikev2_rx *rx, uint8_t type)
{
	int i = -1;

	return ikev2_msg_find(&rx->m, type, &i) != NULL;
}

bool ikev2_rx_notify(const struct ikev2_rx *rx, uint16_t type, struct ikev2_notify *out)
{
	const struct ikev2_payload *p;

	for (int i = -1; (p = ikev2_msg_find(&rx->m, IKEV2_PL_NOTIFY, &i)) != NULL;)
		if (ikev2_notify_parse(p->body.p, p->body.len, out, NULL) == 0 && out->type == type)
			return true;
	return false;
}

uint16_t ikev2_rx_error_notify(const struct ikev2_rx *rx)
{
	const struct ikev2_payload *p;
	struct ikev2_notify n;

	for (int i = -1; (p = ikev2_msg_find(&rx->m, IKEV2_PL_NOTIFY, &i)) != NULL;)
		if (ikev2_notify_parse(p->body.p, p->body.len, &n, NULL) == 0 && n.type < 16384)
			return n.type;
	return 0;
}

void ikev2_rx_summary(const struct ikev2_rx *rx, char *buf, size_t cap)
{
	struct ike_sb sb;
	struct ikev2_notify n;

	ike_sb_init(&sb, buf, cap);
	for (uint16_t i = 0; i < rx->m.n; i++) {
		const struct ikev2_payload *p = &rx->m.pl[i];
		const char *name = ikev2_payload_name(p->type);

		if (p->type == IKEV2_PL_SK)
			continue;
		if (p->type == IKEV2_PL_NOTIFY &&
		    ikev2_notify_parse(p->body.p, p->body.len, &n, NULL) == 0) {
			const char *nn = ikev2_notify_name(n.type);

			if (nn)
				ike_sb_add(&sb, "%sN(%s)", sb.len ? " " : "", nn);
			else
				ike_sb_add(&sb, "%sN(%u)", sb.len ? " " : "", n.type);
			continue;
		}
		ike_sb_add(&sb, "%s%s", sb.len ? " " : "", name ? name : "?");
	}
}
