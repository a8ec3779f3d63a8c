/* ikev2_frag.c - IKE message fragmentation (RFC 7383): the
 * IKEV2_FRAGMENTATION_SUPPORTED notifies of IKE_SA_INIT, cutting an
 * encrypted message that would exceed conf.fragment_size into Encrypted
 * Fragment (SKF) payloads, each sealed on its own, and putting received
 * fragments back together: each is checked and decrypted as it arrives,
 * the message is handled once all are there.
 *
 * A message sent in fragments is kept as its datagrams back to back
 * (each an IKE message whose header holds its length), so that
 * retransmitting it or replaying a cached response sends every fragment
 * again with no other change (ikev2_send_message()). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ike_sk.h"
#include "ikev2_exchange.h"

#define SKF_NUMBERS_LEN 4 /* Fragment Number, Total Fragments */

/* ---- IKE_SA_INIT ---- */

void ikev2_frag_announce(const struct ikev2_engine *e, const struct ikev2_sa *sa,
			 struct ikev2_tx *t)
{
	if (e->conf.fragment_size && (sa->initiator || sa->frag_ok))
		ikev2_tx_notify(t, IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED, 0, NULL, 0, NULL, 0);
}

void ikev2_frag_agree(const struct ikev2_engine *e, struct ikev2_sa *sa, const struct ikev2_rx *rx)
{
	struct ikev2_notify n;

	sa->frag_ok = e->conf.fragment_size &&
		      ikev2_rx_notify(rx, IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED, &n);
}

/* ---- sending ---- */

/* The largest inner-payload chunk whose fragment fits in size bytes. */
static size_t chunk_for(const struct ikev2_keys *k, size_t size)
{
	size_t overhead = IKEV2_HDR_LEN + IKEV2_PL_HDR_LEN + SKF_NUMBERS_LEN + k->iv_len + k->icv_len;
	size_t chunk;

	if (size <= overhead + 16)
		return 0;
	chunk = size - overhead;
	while (chunk > 0 && ikev2_sk_ct_len(k, chunk) > size - overhead)
		chunk--;
	return chunk;
}

/* Fragment number of total, carrying plain[0..len), sealed at out. */
static int seal_fragment(const struct ikev2_sa *sa, const struct ikev2_hdr *hdr, uint8_t inner_next,
			 uint16_t number, uint16_t total, const uint8_t *plain, size_t len,
			 uint8_t *out, size_t cap, size_t *out_len, struct ike_err *err)
{
	struct ikev2_skf skf = { .number = number, .total = total };
	struct ikev2_builder b;
	struct ikev2_sk_space sp;
	int rc;

	ikev2_build_begin(&b, out, cap, hdr);
	ikev2_build_sk(&b, number == 1 ? inner_next : IKEV2_PL_NONE, &skf, sa->keys.iv_len,
		       ikev2_sk_ct_len(&sa->keys, len), sa->keys.icv_len, &sp);
	rc = ikev2_build_end(&b, out_len, err);
	if (rc)
		return rc;
	memcpy(sp.ct, plain, len);
	return ikev2_sk_seal(&sa->keys, out, *out_len, sp.aad_len, len, err);
}

int ikev2_frag_seal(struct ikev2_engine *e, const struct ikev2_sa *sa, const struct ikev2_hdr *hdr,
		    const uint8_t *inner, size_t inner_len, uint8_t **data, size_t *len,
		    struct ike_err *err)
{
	size_t plain = inner_len - IKEV2_HDR_LEN, chunk = chunk_for(&sa->keys, e->conf.fragment_size);
	size_t total = chunk ? (plain + chunk - 1) / chunk : 0, used = 0, n;
	uint8_t *out;
	int rc = 0;

	if (total == 0 || total > IKEV2_MAX_FRAGMENTS)
		return ike_fail(err, -E2BIG, "a %zu-byte message does not go in %u fragments of %u bytes",
				inner_len, IKEV2_MAX_FRAGMENTS, e->conf.fragment_size);
	out = malloc(total * e->conf.fragment_size);
	if (out == NULL)
		return ike_fail(err, -ENOMEM, "no memory for %zu fragments", total);
	for (size_t k = 0; k < total && rc == 0; k++) {
		size_t piece = plain - k * chunk < chunk ? plain - k * chunk : chunk;

		rc = seal_fragment(sa, hdr, inner[16], (uint16_t)(k + 1), (uint16_t)total,
				   inner + IKEV2_HDR_LEN + k * chunk, piece, out + used,
				   total * e->conf.fragment_size - used, &n, err);
		used += n;
	}
	if (rc) {
		free(out);
		return rc;
	}
	ikev2_count(e, IKEV2_STAT_FRAGMENTED);
	*data = out;
	*len = used;
	return 0;
}

void ikev2_send_message(struct ikev2_engine *e, const struct ikev2_sa *sa, const uint8_t *data,
			size_t len)
{
	size_t off = 0;

	while (len - off >= IKEV2_HDR_LEN) {
		size_t one = ike_get32(data + off + 24);

		if (one < IKEV2_HDR_LEN || one > len - off)
			return; /* cannot happen: we built them */
		ikev2_send(e, sa, data + off, one);
		off += one;
	}
}

/* ---- receiving ---- */

static void reasm_clear(struct ikev2_reasm *r)
{
	for (int i = 0; i < IKEV2_MAX_FRAGMENTS; i++) {
		if (r->piece[i] != NULL)
			OPENSSL_clear_free(r->piece[i], r->len[i]);
		r->piece[i] = NULL;
		r->len[i] = 0;
	}
	r->active = false;
	r->have = 0;
	r->bytes = 0;
}

void ikev2_frag_free(struct ikev2_sa *sa)
{
	reasm_clear(&sa->reasm[0]);
	reasm_clear(&sa->reasm[1]);
}

/* The slot for this fragment, started afresh for a new message, or for
 * more fragments of the same one (RFC 7383 §2.6.2: a larger total means
 * the sender went to smaller fragments). NULL: an older cut, dropped. */
static struct ikev2_reasm *slot_for(struct ikev2_sa *sa, const struct ikev2_rx *rx,
				    const struct ikev2_skf *f)
{
	struct ikev2_reasm *r = &sa->reasm[(rx->m.hdr.flags & IKEV2_FLAG_R) != 0];

	if (r->active && r->msg_id == rx->m.hdr.msg_id && r->total > f->total)
		return NULL;
	if (!r->active || r->msg_id != rx->m.hdr.msg_id || r->total != f->total) {
		reasm_clear(r);
		r->active = true;
		r->msg_id = rx->m.hdr.msg_id;
		r->total = f->total;
	}
	return r;
}

/* Keeps a decrypted fragment. -E2BIG when the message would be too long. */
static int keep_piece(struct ikev2_reasm *r, uint16_t number, uint8_t inner_next,
		      const uint8_t *plain, size_t len, struct ike_err *err)
{
	if (r->bytes + len > IKE_MSG_MAX - IKEV2_HDR_LEN) {
		reasm_clear(r);
		return ike_fail(err, -E2BIG, "fragments add up to over %d bytes", IKE_MSG_MAX);
	}
	r->piece[number - 1] = malloc(len ? len : 1);
	if (r->piece[number - 1] == NULL)
		return ike_fail(err, -ENOMEM, "no memory for a fragment");
	memcpy(r->piece[number - 1], plain, len);
	r->len[number - 1] = len;
	r->bytes += len;
	r->have++;
	if (number == 1)
		r->inner_next = inner_next;
	return 0;
}

/* All fragments there: the inner payloads joined in e->reasm and parsed
 * into rx->m. */
static int join(struct ikev2_engine *e, struct ikev2_reasm *r, struct ikev2_rx *rx)
{
	size_t off = 0;
	uint8_t first = r->inner_next;
	int rc;

	for (int i = 0; i < r->total; i++) {
		memcpy(e->reasm + off, r->piece[i], r->len[i]);
		off += r->len[i];
	}
	reasm_clear(r);
	rc = ikev2_chain_parse(first, e->reasm, off, &rx->m, rx->err);
	return rc;
}

int ikev2_frag_open(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx,
		    bool check_only, uint16_t *number)
{
	const struct ikev2_payload *p = &rx->m.pl[rx->m.n - 1];
	struct ikev2_skf f;
	struct ikev2_reasm *r;
	uint8_t *plain;
	size_t plain_len;
	int rc;

	if (ikev2_skf_parse(p->body.p, p->body.len, &f, rx->err))
		return -EBADMSG;
	*number = f.number;
	if (!sa->frag_ok)
		return ike_fail(rx->err, -EPROTO, "a fragment, but fragmentation was not agreed");
	if (f.total > IKEV2_MAX_FRAGMENTS)
		return ike_fail(rx->err, -E2BIG, "fragment %u of %u: more than %d fragments", f.number,
				f.total, IKEV2_MAX_FRAGMENTS);
	rc = ikev2_sk_open(&sa->keys, e->rx, rx->len, rx->m.sk_body_off + SKF_NUMBERS_LEN, &plain,
			   &plain_len, rx->err);
	if (rc || check_only) {
		if (rc == 0)
			OPENSSL_cleanse(plain, plain_len);
		return rc;
	}
	r = slot_for(sa, rx, &f);
	if (r == NULL || r->piece[f.number - 1] != NULL)
		return -EINPROGRESS; /* from an older cut, or a copy: nothing new */
	rc = keep_piece(r, f.number, rx->m.sk_inner_next, plain, plain_len, rx->err);
	OPENSSL_cleanse(plain, plain_len);
	if (rc)
		return rc;
	if (r->have < r->total)
		return -EINPROGRESS;
	ikev2_count(e, IKEV2_STAT_REASSEMBLED);
	return join(e, r, rx);
}
