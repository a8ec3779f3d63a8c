/* ikev1_wire.c - IKEv1 messages on the wire: building them in the clear or
 * encrypted with the exchange's IV chain (RFC 2409 appendix B), the HASH
 * payload that opens every Phase 2 message (§5.5, §5.7), sending and
 * remembering what was sent, decrypting what was received and finding its
 * payloads. Also the engine's randomness, key pairs and SPIs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ike_sk.h"
#include "ikev1_exchange.h"

#define PL_HDR_LEN 4

int ikev1_random(void *p, size_t n, struct ike_err *err)
{
	if (RAND_bytes(p, (int)n) != 1)
		return ike_fail(err, -EIO, "OpenSSL's random generator failed");
	return 0;
}

int ikev1_dh_new(struct ikev1_engine *e, uint16_t group, struct ike_dh **out, struct ike_err *err)
{
	if (e->conf.test_dh_private && group >= IKE_DH_ECP_256) /* the hook knows no MODP */
		return ike_dh_new_fixed_for_test(group, e->conf.test_dh_private,
						 e->conf.test_dh_private_len, out, err);
	return ike_dh_new(group, out, err);
}

uint32_t ikev1_new_child_spi(struct ikev1_engine *e)
{
	uint32_t spi = 0;

	if (e->conf.spi_alloc)
		return e->conf.spi_alloc(e->conf.spi_ctx);
	while (spi < 256) /* 1..255 are reserved by IANA (RFC 4303 §2.1) */
		if (ikev1_random(&spi, sizeof(spi), NULL))
			return 0;
	return spi;
}

void ikev1_tx_begin(struct ikev1_engine *e, const struct ikev1_sa *sa, struct ikev1_tx *t,
		    uint8_t exchange, uint32_t mid, bool encrypted)
{
	*t = (struct ikev1_tx){ .encrypted = encrypted };
	memcpy(t->hdr.icookie, sa->id.spi_i, 8);
	memcpy(t->hdr.rcookie, sa->id.spi_r, 8);
	t->hdr.version = ISAKMP_VERSION;
	t->hdr.exchange = exchange;
	t->hdr.flags = encrypted ? ISAKMP_FLAG_E : 0;
	t->hdr.msg_id = mid;
	isakmp_build_begin(&t->b, encrypted ? e->inner : e->out, IKE_MSG_MAX,
			   encrypted ? NULL : &t->hdr);
}

void ikev1_tx_add(struct ikev1_tx *t, uint8_t type, const union isakmp_body *body)
{
	isakmp_build_add(&t->b, type, body);
}

void ikev1_tx_raw(struct ikev1_tx *t, uint8_t type, const uint8_t *body, size_t len)
{
	isakmp_build_raw(&t->b, type, body, len);
}

void ikev1_tx_hash_slot(struct ikev1_tx *t, const struct ikev1_sa *sa)
{
	static const uint8_t zero[IKE_PRF_MAX];

	ikev1_tx_raw(t, ISAKMP_PL_HASH, zero, sa->keys.prf_len);
	t->hash_at = PL_HDR_LEN; /* the first payload of the chain */
}

void ikev1_tx_notify(struct ikev1_tx *t, uint8_t protocol, uint16_t type, const uint8_t *spi,
		     uint8_t spi_len, const uint8_t *data, size_t len)
{
	union isakmp_body b = { .notify = { .doi = ISAKMP_DOI_IPSEC, .protocol = protocol,
					    .spi_len = spi_len, .type = type,
					    .data = { data, (uint16_t)len } } };

	if (spi_len)
		memcpy(b.notify.spi, spi, spi_len);
	ikev1_tx_add(t, ISAKMP_PL_NOTIFY, &b);
}

/* Wraps the plaintext chain in e->inner into an encrypted message. */
static int encrypt_into_out(struct ikev1_engine *e, const struct ikev1_sa *sa, struct ikev1_tx *t,
			    size_t plain_len, struct ikev1_iv *iv, size_t *len, struct ike_err *err)
{
	struct isakmp_builder b;
	size_t ct_len = ikev1_ct_len(&sa->keys, plain_len);
	uint8_t *ct;
	int rc;

	isakmp_build_begin(&b, e->out, IKE_MSG_MAX, &t->hdr);
	ct = isakmp_build_ciphertext(&b, t->b.first, ct_len);
	rc = isakmp_build_end(&b, len, err);
	if (rc == 0 && ct == NULL)
		rc = ike_fail(err, -ENOSPC, "IKEv1 message: %zu bytes do not fit", ct_len);
	if (rc == 0) {
		memcpy(ct, e->inner, plain_len);
		rc = ikev1_encrypt(&sa->keys, iv, ct, plain_len, ct_len, &ct_len, iv, err);
	}
	OPENSSL_cleanse(e->inner, plain_len);
	return rc;
}

static int copy_out(struct ikev1_engine *e, size_t len, uint8_t **data, struct ike_err *err)
{
	*data = malloc(len);
	if (*data == NULL)
		return ike_fail(err, -ENOMEM, "no memory for a %zu-byte message", len);
	memcpy(*data, e->out, len);
	return 0;
}

int ikev1_tx_finish(struct ikev1_engine *e, const struct ikev1_sa *sa, struct ikev1_tx *t,
		    struct ikev1_iv *iv, uint8_t **data, size_t *len, struct ike_err *err)
{
	size_t built;
	int rc = isakmp_build_end(&t->b, &built, err);

	*len = built;
	if (rc == 0 && t->encrypted)
		rc = encrypt_into_out(e, sa, t, built, iv, len, err);
	return rc ? rc : copy_out(e, *len, data, err);
}

int ikev1_tx_finish_hashed(struct ikev1_engine *e, const struct ikev1_sa *sa, struct ikev1_tx *t,
			   const uint8_t *ni, size_t ni_len, struct ikev1_iv *iv, uint8_t **data,
			   size_t *len, struct ike_err *err)
{
	size_t built, after = t->hash_at + sa->keys.prf_len;
	int rc = isakmp_build_end(&t->b, &built, err);
	struct ike_chunk rest = IKE_CHUNK(e->inner + after, built - after);

	if (rc)
		return rc;
	if (ni)
		rc = ikev1_qm_hash2(&sa->keys, t->hdr.msg_id, IKE_CHUNK(ni, ni_len), rest,
				    e->inner + t->hash_at, err);
	else
		rc = ikev1_qm_hash1(&sa->keys, t->hdr.msg_id, rest, e->inner + t->hash_at, err);
	if (rc == 0)
		rc = encrypt_into_out(e, sa, t, built, iv, len, err);
	return rc ? rc : copy_out(e, *len, data, err);
}

void ikev1_send_to(struct ikev1_engine *e, const struct ike_endpoint *local,
		   const struct ike_endpoint *remote, const uint8_t *data, size_t len)
{
	if (ike_evq_send(&e->evq, local, remote, data, len)) /* else as if lost: retransmitted */
		ikev1_count(e, IKEV1_STAT_SENT);
}

void ikev1_send(struct ikev1_engine *e, const struct ikev1_sa *sa, const uint8_t *data, size_t len)
{
	ikev1_send_to(e, &sa->local, &sa->remote, data, len);
}

const struct ike_endpoint *ikev1_reply_to(const struct ikev1_sa *sa, const struct ikev1_rx *rx)
{
	return sa->local_nat || sa->remote_nat ? rx->remote : &sa->remote;
}

/* Remembers the message in msgs and sends it to `to`. */
static void send_msg_to(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_msgs *msgs,
			uint8_t *data, size_t len, bool waiting, uint64_t now,
			const struct ike_endpoint *to)
{
	ikev1_msgs_sent(msgs, data, len, waiting, now, e->conf.retransmit_base_ms);
	ikev1_sa_log(sa, e, 7, now, "out %s #%08x, %zu bytes", isakmp_exchange_name(data[18]),
		     ike_get32(data + 20), len);
	ikev1_send_to(e, &sa->local, to, data, len);
}

int ikev1_send_msg(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_msgs *msgs,
		   uint8_t *data, size_t len, bool waiting, uint64_t now)
{
	send_msg_to(e, sa, msgs, data, len, waiting, now, &sa->remote);
	return 0;
}

int ikev1_answer_msg(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_msgs *msgs,
		     uint8_t *data, size_t len, bool waiting, const struct ikev1_rx *rx)
{
	send_msg_to(e, sa, msgs, data, len, waiting, rx->now, ikev1_reply_to(sa, rx));
	return 0;
}

int ikev1_rx_open(struct ikev1_engine *e, const struct ikev1_sa *sa, struct ikev1_rx *rx,
		  const struct ikev1_iv *iv)
{
	uint8_t *ct = e->rx + ISAKMP_HDR_LEN;
	size_t ct_len = rx->len - ISAKMP_HDR_LEN;
	int rc;

	if (!(rx->m.hdr.flags & ISAKMP_FLAG_E))
		return ike_fail(rx->err, -EBADMSG, "%s message not encrypted",
				isakmp_exchange_name(rx->m.hdr.exchange));
	rc = ikev1_decrypt(&sa->keys, iv, ct, ct_len, &rx->next_iv, rx->err);
	if (rc == 0)
		rc = isakmp_chain_parse(rx->m.hdr.next_payload, ct, ct_len, &rx->m, rx->err);
	if (rc)
		return rc;
	rx->plain = ct;
	rx->plain_len = ct_len - rx->m.pad_len;
	return 0;
}

int ikev1_rx_check_hash(const struct ikev1_sa *sa, const struct ikev1_rx *rx, const uint8_t *ni,
			size_t ni_len)
{
	const struct isakmp_payload *h = rx->m.n ? &rx->m.pl[0] : NULL;
	uint8_t want[IKE_PRF_MAX];
	const uint8_t *after;
	struct ike_chunk rest;
	int rc;

	if (h == NULL || h->type != ISAKMP_PL_HASH || h->body.len != sa->keys.prf_len)
		return ike_fail(rx->err, -EBADMSG, "%s: no HASH of %u bytes first",
				isakmp_exchange_name(rx->m.hdr.exchange), sa->keys.prf_len);
	after = h->body.p + h->body.len;
	rest = IKE_CHUNK(after, (size_t)(rx->plain + rx->plain_len - after));
	if (ni)
		rc = ikev1_qm_hash2(&sa->keys, rx->m.hdr.msg_id, IKE_CHUNK(ni, ni_len), rest, want,
				    rx->err);
	else
		rc = ikev1_qm_hash1(&sa->keys, rx->m.hdr.msg_id, rest, want, rx->err);
	if (rc == 0 && CRYPTO_memcmp(want, h->body.p, sa->keys.prf_len) != 0)
		rc = ike_fail(rx->err, -EKEYREJECTED, "%s: HASH(%d) does not verify",
			      isakmp_exchange_name(rx->m.hdr.exchange), ni ? 2 : 1);
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}

bool ikev1_rx_body_nth(const struct ikev1_rx *rx, uint8_t type, int nth, union isakmp_body *body)
{
	const struct isakmp_payload *p = NULL;
	int i = -1;

	for (int k = 0; k <= nth; k++)
		if ((p = isakmp_msg_find(&rx->m, type, &i)) == NULL)
			return false;
	/* every body was checked when the chain was parsed */
	return isakmp_body_parse(type, p->body.p, p->body.len, body, NULL) == 0;
}

bool ikev1_rx_body(const struct ikev1_rx *rx, uint8_t type, union isakmp_body *body)
{
	return ikev1_rx_body_nth(rx, type, 0, body);
}

bool ikev1_rx_notify_in(const struct ikev1_rx *rx, uint16_t lo, uint16_t hi,
			struct isakmp_notify *out)
{
	const struct isakmp_payload *p;

	for (int i = -1; (p = isakmp_msg_find(&rx->m, ISAKMP_PL_NOTIFY, &i)) != NULL;)
		if (isakmp_notify_parse(p->body.p, p->body.len, out, NULL) == 0 && out->type >= lo &&
		    out->type <= hi)
			return true;
	return false;
}
