/* ikev1_quick.c - Quick Mode (RFC 2409 §5.5): the child SA pairs
 * (IPsec SAs) of an established ISAKMP SA, three encrypted messages:
 *
 *	1 I->R  HASH(1), SA, Ni [, KE] , IDci, IDcr
 *	2 R->I  HASH(2), SA, Nr [, KE] , IDci, IDcr [, N(RESPONDER-LIFETIME)]
 *	3 I->R  HASH(3)
 *
 * ESP and AH proposals, one per security method of the policy (each with
 * our inbound SPI), lifetimes in seconds and kilobytes (the SA and ID
 * payloads: ikev1_qm_payloads.c); PFS when the methods name a group. The
 * responder chooses by the shared rule of
 * ike_proposal.h, takes the initiator's selectors when they are inside its
 * policy (IKEv1 cannot narrow: INVALID-ID-INFORMATION otherwise) and
 * answers a lifetime longer than its own with RESPONDER-LIFETIME. The
 * initiator installs on message 2, the responder on message 3; a rekey
 * is a new Quick Mode after which the initiator deletes the old pair. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ikev1_exchange.h"

/* ---- KEYMAT and the child SA ---- */

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

/* KEYMAT of both directions: initiator-to-responder (the responder's
 * inbound SPI) first, as ike_child_set_keys() wants it. */
static int keymat(const struct ikev1_sa *sa, const struct ikev1_xchg *x, uint8_t *out, size_t half,
		  struct ike_err *err)
{
	uint8_t spi_r[4], spi_i[4];
	struct ike_chunk g = IKE_CHUNK(x->g_qm, x->g_qm_len), ni = IKE_CHUNK(x->ni, x->ni_len),
			 nr = IKE_CHUNK(x->nr, x->nr_len);
	int rc;

	put32(spi_r, x->initiator ? x->spi_out : x->spi_in);
	put32(spi_i, x->initiator ? x->spi_in : x->spi_out);
	rc = ikev1_qm_keymat(&sa->keys, g, x->method.protocol, spi_r, ni, nr, out, half, err);
	return rc ? rc : ikev1_qm_keymat(&sa->keys, g, x->method.protocol, spi_i, ni, nr, out + half,
					 half, err);
}

static int child_up(struct ikev1_engine *e, struct ikev1_sa *sa, const struct ikev1_xchg *x,
		    const uint8_t *km, size_t len, struct ike_err *err)
{
	struct ikev2_event ev = ikev1_event_for(sa, IKEV2_EV_CHILD_UP);
	struct ike_child tmpl = {
		.protocol = x->method.protocol, .ts_local = x->ts_local, .ts_remote = x->ts_remote,
		.method = x->method, .udp_encap = sa->local_nat || sa->remote_nat,
		.local_port = sa->local.port, .remote_port = sa->remote.port, .rekeys_spi = x->rekeys,
	};
	struct ike_child_keys_in in = { km, len, x->initiator, x->spi_in, x->spi_out,
					&sa->local.addr, &sa->remote.addr, x->transport };

	memcpy(tmpl.ike_spi_i, sa->id.spi_i, 8);
	memcpy(tmpl.ike_spi_r, sa->id.spi_r, 8);
	ev.child = ike_child_make(&tmpl, &in, err);
	if (ev.child == NULL)
		return err ? err->code : -ENOMEM;
	ikev1_emit(e, &ev);
	return 0;
}

/* CHILD_UP and the record; a rekey then deletes the pair it replaces. */
static int install(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_xchg *x, uint64_t now,
		   struct ike_err *err)
{
	uint8_t km[2 * (DPSEC_MAX_ENC_KEY + DPSEC_GCM_SALT_LEN + DPSEC_MAX_INTEG_KEY)];
	size_t len = ike_child_keymat_len(&x->method);
	struct ike_child_rec rec = { x->method.protocol, x->spi_in, x->spi_out }, *old;
	int rc = ike_child_recs_add(&sa->children, &rec);

	if (rc)
		return ike_fail(err, rc, "ISAKMP SA already holds %d quick mode SAs", IKE_SA_MAX_CHILDREN);
	rc = keymat(sa, x, km, len / 2, err);
	if (rc == 0)
		rc = child_up(e, sa, x, km, len, err);
	OPENSSL_cleanse(km, sizeof(km));
	OPENSSL_cleanse(x->g_qm, sizeof(x->g_qm));
	if (rc) {
		ike_child_recs_remove(&sa->children, ike_child_recs_by_in(&sa->children, x->spi_in));
		return rc;
	}
	ikev1_count(e, IKEV1_STAT_CHILD_ESTABLISHED);
	ikev1_sa_log(sa, e, 5, now, "quick mode SA up: in %08x out %08x%s%s", x->spi_in, x->spi_out,
		     x->transport ? ", transport mode" : "", x->method.dh_group ? ", PFS" : "");
	old = x->rekeys ? ike_child_recs_by_in(&sa->children, x->rekeys) : NULL;
	if (old) { /* make-before-break: the new pair is up, the old one goes */
		uint8_t spi[4];

		ikev1_count(e, IKEV1_STAT_CHILD_REKEYS);
		put32(spi, old->spi_in);
		ikev1_info_send_delete(e, sa, old->protocol, spi, 4, now, err);
		ikev1_child_down(e, sa, old, now);
	}
	return 0;
}

/* ---- KE ---- */

static int pfs_key_pair(struct ikev1_engine *e, struct ikev1_xchg *x, uint16_t group,
			struct ike_err *err)
{
	return group ? ikev1_dh_new(e, group, &x->dh, err) : 0;
}

static void add_ke(struct ikev1_tx *t, const struct ikev1_xchg *x)
{
	size_t len;
	const uint8_t *pub = x->dh ? ike_dh_public(x->dh, &len) : NULL;

	if (pub)
		ikev1_tx_raw(t, ISAKMP_PL_KE, pub, len);
}

/* g(qm)^xy from the peer's KE; a method with PFS needs one, one without none. */
static int pfs_secret(struct ikev1_xchg *x, const struct ikev1_rx *rx, struct ike_err *err)
{
	union isakmp_body ke;
	size_t len;
	bool has = ikev1_rx_body(rx, ISAKMP_PL_KE, &ke);
	int rc;

	if (has != (x->method.dh_group != 0))
		return ike_fail(err, -EBADMSG, "Quick Mode: KE %s but PFS is %s", has ? "sent" : "missing",
				x->method.dh_group ? "on" : "off");
	if (!has)
		return 0;
	rc = ike_dh_derive(x->dh, ke.ke.p, ke.ke.len, x->g_qm, sizeof(x->g_qm), &len, err);
	x->g_qm_len = (uint16_t)len;
	return rc;
}

/* ---- the messages ---- */

static void add_ids(struct ikev1_tx *t, const struct ikev1_xchg *x)
{
	uint8_t id[4 + 32];
	const struct ike_ts *ci = x->initiator ? &x->ts_local.ts[0] : &x->ts_remote.ts[0];
	const struct ike_ts *cr = x->initiator ? &x->ts_remote.ts[0] : &x->ts_local.ts[0];

	ikev1_tx_raw(t, ISAKMP_PL_ID, id, ikev1_qm_id_from_ts(ci, id));
	ikev1_tx_raw(t, ISAKMP_PL_ID, id, ikev1_qm_id_from_ts(cr, id));
}

/* HASH, SA, our nonce [, KE], IDci, IDcr: the start of Quick Mode 1 and 2. */
static void qm_body(struct ikev1_engine *e, const struct ikev1_sa *sa, const struct ikev1_xchg *x,
		    struct ikev1_tx *t, const union isakmp_body *b)
{
	ikev1_tx_begin(e, sa, t, ISAKMP_QUICK_MODE, x->mid, true);
	ikev1_tx_hash_slot(t, sa);
	ikev1_tx_add(t, ISAKMP_PL_SA, b);
	if (x->initiator)
		ikev1_tx_raw(t, ISAKMP_PL_NONCE, x->ni, x->ni_len);
	else
		ikev1_tx_raw(t, ISAKMP_PL_NONCE, x->nr, x->nr_len);
	add_ke(t, x);
	add_ids(t, x);
}

static uint32_t new_mid(struct ikev1_sa *sa)
{
	uint32_t mid = 0;

	while (mid == 0 || ikev1_xchg_find(sa, mid))
		if (ikev1_random(&mid, sizeof(mid), NULL))
			return 0;
	return mid;
}

int ikev1_quick_start(struct ikev1_engine *e, struct ikev1_sa *sa, uint32_t rekeys, uint64_t now,
		      struct ike_err *err)
{
	struct ikev1_xchg *x = ikev1_xchg_new(sa, IKEV1_X_QUICK, new_mid(sa), true);
	uint8_t life[IKE_MAX_METHODS][2][8], *data;
	union isakmp_body *b = malloc(sizeof(*b));
	struct ikev1_tx t;
	size_t len;
	const struct ike_qm_method *first = ikev1_qm_first_offered(sa);
	int rc = x && b ? 0 : ike_fail(err, -EBUSY, "ISAKMP SA has %d exchanges in flight",
				       IKEV1_MAX_XCHG);

	if (rc == 0 && first == NULL)
		rc = ike_fail(err, -EPROTONOSUPPORT, "Quick Mode: no method of the policy can be "
			      "offered to this peer (AH across a NAT on the path; ChaCha20-Poly1305 "
			      "or AES-CMAC-96, which have no IKEv1 number)");
	if (rc == 0) {
		x->spi_in = ikev1_new_child_spi(e);
		x->rekeys = rekeys;
		x->transport = sa->peer.transport;
		x->ts_local = (struct ike_ts_set){ 1, { sa->peer.ts_local.ts[0] } };
		x->ts_remote = (struct ike_ts_set){ 1, { sa->peer.ts_remote.ts[0] } };
		x->ni_len = IKEV1_NONCE_LEN;
		rc = ikev1_random(x->ni, x->ni_len, err);
	}
	if (rc == 0)
		rc = pfs_key_pair(e, x, first->dh_group, err);
	if (rc == 0) {
		ikev1_qm_offer_build(sa, x, &b->sa, life);
		qm_body(e, sa, x, &t, b);
		rc = ikev1_tx_finish_hashed(e, sa, &t, NULL, 0, &x->iv, &data, &len, err);
	}
	free(b);
	if (rc) {
		if (x)
			ikev1_xchg_free(x);
		return rc;
	}
	ikev1_sa_log(sa, e, 6, now, "quick mode #%08x started%s", x->mid, rekeys ? " (rekey)" : "");
	return ikev1_send_msg(e, sa, &x->msgs, data, len, true, now);
}

/* The offered lifetime, or ours when it is longer (then announced). */
static bool cap_life(uint32_t *ours_s, uint64_t *ours_kb, const struct isakmp_ipsec_policy *p)
{
	bool longer = p->life_secs > *ours_s || p->life_kb > *ours_kb;

	if (p->life_secs && p->life_secs < *ours_s)
		*ours_s = (uint32_t)p->life_secs;
	if (p->life_kb && p->life_kb < *ours_kb)
		*ours_kb = p->life_kb;
	return longer;
}

static void add_responder_lifetime(struct ikev1_tx *t, const struct ikev1_xchg *x)
{
	uint8_t spi[4], attrs[2 * (4 + 8)];
	struct ike_wr w;

	put32(spi, x->spi_in);
	ike_wr_init(&w, attrs, sizeof(attrs));
	ike_wr_u16(&w, IKE_ATTR_AF | ISAKMP_IPSEC_SA_LIFE_TYPE);
	ike_wr_u16(&w, ISAKMP_LIFE_SECONDS);
	ike_wr_u16(&w, ISAKMP_IPSEC_SA_LIFE_DURATION);
	ike_wr_u16(&w, 4);
	ike_wr_u32(&w, x->method.lifetime_seconds);
	ike_wr_u16(&w, IKE_ATTR_AF | ISAKMP_IPSEC_SA_LIFE_TYPE);
	ike_wr_u16(&w, ISAKMP_LIFE_KILOBYTES);
	ike_wr_u16(&w, ISAKMP_IPSEC_SA_LIFE_DURATION);
	ike_wr_u16(&w, 4);
	ike_wr_u32(&w, (uint32_t)(x->method.lifetime_kilobytes > UINT32_MAX ? UINT32_MAX
									   : x->method.lifetime_kilobytes));
	ikev1_tx_notify(t, x->method.protocol, ISAKMP_N_RESPONDER_LIFETIME, spi, 4, attrs, w.len);
}

/* The answer SA: the chosen proposal with our SPI and the chosen transform. */
static void answer_build(const struct ike_sa *in, uint16_t prop, uint16_t tr, uint32_t spi_in,
			 struct ike_sa *out)
{
	uint8_t spi[4];

	put32(spi, spi_in);
	*out = (struct ike_sa){ .doi = in->doi, .situation = in->situation };
	ike_sa_add_proposal(out, in->prop[prop].num, in->prop[prop].protocol, spi, 4);
	ike_sa_add_transform_copy(out, in, &in->tr[tr]);
}

/* Responder: the choice for message 1. 0, or the notify to answer. */
static uint16_t choose(struct ikev1_sa *sa, struct ikev1_xchg *x, const struct ikev1_rx *rx,
		       const struct ike_sa *in, struct ikev1_qm_offers *offers, struct ike_choice *ch,
		       bool *longer)
{
	struct isakmp_ipsec_policy pol;
	union isakmp_body n;

	ikev1_qm_offers_read(sa, in, offers);
	if (ike_qm_select(sa->peer.qm, sa->peer.n_qm, offers->o, offers->n, ch)) {
		ike_fail(rx->err, -ENOENT, "Quick Mode: no proposal accepted");
		return ISAKMP_N_NO_PROPOSAL_CHOSEN;
	}
	x->method = sa->peer.qm[ch->method];
	isakmp_ipsec_attrs_decode(in, &in->tr[offers->tr[ch->offer]], &pol, NULL);
	*longer = cap_life(&x->method.lifetime_seconds, &x->method.lifetime_kilobytes, &pol);
	x->transport = ikev1_qm_mode_is_transport(pol.encap);
	x->spi_out = offers->o[ch->offer].spi;
	if (!ikev1_rx_body(rx, ISAKMP_PL_NONCE, &n)) {
		ike_fail(rx->err, -EBADMSG, "Quick Mode: no nonce");
		return ISAKMP_N_PAYLOAD_MALFORMED;
	}
	memcpy(x->ni, n.nonce.p, n.nonce.len);
	x->ni_len = n.nonce.len;
	if (ikev1_qm_read_ids(sa, rx, x))
		return ISAKMP_N_INVALID_ID_INFORMATION;
	if (!ikev1_qm_ts_allowed(&x->ts_remote.ts[0], &sa->peer.ts_remote) ||
	    !ikev1_qm_ts_allowed(&x->ts_local.ts[0], &sa->peer.ts_local) ||
	    x->transport != sa->peer.transport) {
		ike_fail(rx->err, -EACCES, "Quick Mode: the selectors or mode are not the policy's");
		return ISAKMP_N_INVALID_ID_INFORMATION;
	}
	if (x->spi_out == 0) {
		ike_fail(rx->err, -EBADMSG, "Quick Mode: proposal without a 4-byte SPI");
		return ISAKMP_N_INVALID_SPI;
	}
	return 0;
}

/* Responder: message 2 for the choice. */
static int answer(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_xchg *x,
		  const struct ikev1_rx *rx, const struct ike_sa *in, uint16_t prop, uint16_t tr,
		  bool longer)
{
	union isakmp_body *b = malloc(sizeof(*b));
	struct ikev1_tx t;
	uint8_t *data;
	size_t len;
	int rc = b ? 0 : ike_fail(rx->err, -ENOMEM, "Quick Mode: no memory");

	x->spi_in = ikev1_new_child_spi(e);
	x->nr_len = IKEV1_NONCE_LEN;
	if (rc == 0)
		rc = ikev1_random(x->nr, x->nr_len, rx->err);
	if (rc == 0)
		rc = pfs_key_pair(e, x, x->method.dh_group, rx->err);
	if (rc == 0)
		rc = pfs_secret(x, rx, rx->err);
	if (rc == 0) {
		answer_build(in, prop, tr, x->spi_in, &b->sa);
		qm_body(e, sa, x, &t, b);
		if (longer)
			add_responder_lifetime(&t, x);
		rc = ikev1_tx_finish_hashed(e, sa, &t, x->ni, x->ni_len, &x->iv, &data, &len, rx->err);
	}
	free(b);
	return rc ? rc : ikev1_answer_msg(e, sa, &x->msgs, data, len, true, rx);
}

static int refuse(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_xchg *x,
		  const struct ikev1_rx *rx, const struct ike_sa *offer, uint16_t notify)
{
	char text[IKE_ERR_MSG_MAX];
	struct ike_err err = { 0 };

	snprintf(text, sizeof(text), "%s", rx->err->msg);
	ikev1_xchg_free(x);
	ikev1_info_send_qm_refusal(e, sa, notify, offer, rx, &err);
	ikev1_fail(e, sa, rx->now, notify, false, "%s", text);
	return ike_fail(rx->err, -ENOENT, "%s", text);
}

/* Opens a message of exchange x and checks its HASH(1) or HASH(2). */
static int open_checked(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_xchg *x,
			struct ikev1_rx *rx, const uint8_t *ni, size_t ni_len)
{
	int rc = ikev1_rx_open(e, sa, rx, &x->iv);

	if (rc)
		return ikev1_drop(e, sa, IKEV1_STAT_INVALID_PACKETS, rx->now, rx->err, rc,
				  "Quick Mode #%08x: %s", x->mid, rx->err->msg);
	rc = ikev1_rx_check_hash(sa, rx, ni, ni_len);
	if (rc)
		return ikev1_drop(e, sa, rc == -EKEYREJECTED ? IKEV1_STAT_HASH_FAILED
							     : IKEV1_STAT_INVALID_PACKETS,
				  rx->now, rx->err, rc, "%s", rx->err->msg);
	x->iv = rx->next_iv;
	return ikev1_msgs_received(&x->msgs, rx->raw, rx->len);
}

static int on_qm1(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_rx *rx)
{
	struct ikev1_xchg *x = ikev1_xchg_new(sa, IKEV1_X_QUICK, rx->m.hdr.msg_id, false);
	struct ikev1_qm_offers *offers = malloc(sizeof(*offers));
	union isakmp_body *b = malloc(sizeof(*b));
	struct ike_choice ch;
	uint16_t notify;
	bool longer = false;
	int rc;

	if (x == NULL || offers == NULL || b == NULL) {
		free(offers);
		free(b);
		return ikev1_drop(e, sa, IKEV1_STAT_UNEXPECTED_EXCHANGE, rx->now, rx->err, -EBUSY,
				  "Quick Mode #%08x: no room for another exchange", rx->m.hdr.msg_id);
	}
	rc = open_checked(e, sa, x, rx, NULL, 0);
	if (rc == 0 && !ikev1_rx_body(rx, ISAKMP_PL_SA, b))
		rc = ikev1_drop(e, sa, IKEV1_STAT_INVALID_PACKETS, rx->now, rx->err, -EBADMSG,
				"Quick Mode #%08x: no SA payload", x->mid);
	if (rc == 0) {
		notify = choose(sa, x, rx, &b->sa, offers, &ch, &longer);
		rc = notify ? refuse(e, sa, x, rx, &b->sa, notify)
			    : answer(e, sa, x, rx, &b->sa, offers->prop[ch.offer], offers->tr[ch.offer],
				     longer);
		x = notify ? NULL : x;
	}
	if (rc && x)
		ikev1_xchg_free(x);
	free(offers);
	free(b);
	return rc;
}

/* RESPONDER-LIFETIME (RFC 2407 §4.6.3.1): life type / duration pairs the
 * responder holds to; the shorter lifetimes are taken. */
static int responder_lifetime(struct ikev1_xchg *x, const struct isakmp_notify *n,
			      struct ike_err *err)
{
	struct ike_attr a[8];
	struct isakmp_ipsec_policy p = { 0 };
	uint16_t count = 0, type = 0;
	uint64_t v;
	struct ike_rd r;

	ike_rd_init(&r, n->data.p, n->data.len, "RESPONDER-LIFETIME", err);
	if (ike_attrs_parse(&r, a, 8, &count))
		return -EBADMSG;
	for (uint16_t i = 0; i < count; i++) {
		if (a[i].type == ISAKMP_IPSEC_SA_LIFE_TYPE && a[i].tv)
			type = a[i].tv_value;
		else if (a[i].type == ISAKMP_IPSEC_SA_LIFE_DURATION && ike_attr_value(&a[i], &v) == 0)
			*(type == ISAKMP_LIFE_KILOBYTES ? &p.life_kb : &p.life_secs) = v;
	}
	cap_life(&x->method.lifetime_seconds, &x->method.lifetime_kilobytes, &p);
	return 0;
}

/* Initiator: the answer must be one transform of one proposal we made. */
static int read_answer(struct ikev1_sa *sa, struct ikev1_xchg *x, const struct ikev1_rx *rx)
{
	union isakmp_body *b = malloc(sizeof(*b));
	struct ikev1_qm_offers *o = malloc(sizeof(*o));
	struct ike_choice ch;
	struct isakmp_notify n;
	int rc = b && o && ikev1_rx_body(rx, ISAKMP_PL_SA, b) && b->sa.n_prop == 1 &&
			 b->sa.n_tr == 1 ? 0 : -EBADMSG;

	if (rc == 0) {
		ikev1_qm_offers_read(sa, &b->sa, o);
		rc = ike_qm_select(sa->peer.qm, sa->peer.n_qm, o->o, o->n, &ch) ? -EBADMSG : 0;
	}
	if (rc == 0) {
		struct isakmp_ipsec_policy pol;

		x->method = sa->peer.qm[ch.method];
		x->spi_out = o->o[ch.offer].spi;
		isakmp_ipsec_attrs_decode(&b->sa, &b->sa.tr[0], &pol, NULL);
		cap_life(&x->method.lifetime_seconds, &x->method.lifetime_kilobytes, &pol);
		if (ikev1_qm_mode_is_transport(pol.encap) != x->transport)
			rc = -EPROTO; /* every transform offered carried our mode */
	}
	free(b);
	free(o);
	if (rc == -EPROTO)
		return ike_fail(rx->err, rc, "Quick Mode 2: the answer's encapsulation mode is %s, "
				"%s was offered", x->transport ? "tunnel" : "transport",
				x->transport ? "transport" : "tunnel");
	if (rc)
		return ike_fail(rx->err, rc, "Quick Mode 2: not one transform of those offered");
	if (ikev1_rx_notify_in(rx, ISAKMP_N_RESPONDER_LIFETIME, ISAKMP_N_RESPONDER_LIFETIME, &n))
		return responder_lifetime(x, &n, rx->err);
	return 0;
}

static int read_nonce_r(struct ikev1_xchg *x, const struct ikev1_rx *rx)
{
	union isakmp_body n;

	if (!ikev1_rx_body(rx, ISAKMP_PL_NONCE, &n))
		return ike_fail(rx->err, -EBADMSG, "Quick Mode 2: no nonce");
	memcpy(x->nr, n.nonce.p, n.nonce.len);
	x->nr_len = n.nonce.len;
	return 0;
}

static int send_qm3(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_xchg *x, uint64_t now,
		    struct ike_err *err)
{
	uint8_t hash[IKE_PRF_MAX], *data;
	struct ikev1_tx t;
	size_t len;
	int rc = ikev1_qm_hash3(&sa->keys, x->mid, IKE_CHUNK(x->ni, x->ni_len),
				IKE_CHUNK(x->nr, x->nr_len), hash, err);

	if (rc)
		return rc;
	ikev1_tx_begin(e, sa, &t, ISAKMP_QUICK_MODE, x->mid, true);
	ikev1_tx_raw(&t, ISAKMP_PL_HASH, hash, sa->keys.prf_len);
	rc = ikev1_tx_finish(e, sa, &t, &x->iv, &data, &len, err);
	return rc ? rc : ikev1_send_msg(e, sa, &x->msgs, data, len, false, now);
}

/* The exchange is over: the pair installed, or the reason it is not. */
static int complete(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_xchg *x,
		    const struct ikev1_rx *rx, int rc)
{
	x->done = true;
	if (rc == 0)
		rc = install(e, sa, x, rx->now, rx->err);
	if (rc)
		ikev1_fail_quick(e, sa, rx->now, x, 0, "Quick Mode #%08x: %s", x->mid, rx->err->msg);
	return rc;
}

static int on_qm2(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_xchg *x,
		  struct ikev1_rx *rx)
{
	struct ike_ts_set asked_l = x->ts_local, asked_r = x->ts_remote;
	int rc = open_checked(e, sa, x, rx, x->ni, x->ni_len);

	if (rc)
		return rc;
	rc = read_answer(sa, x, rx);
	if (rc == 0)
		rc = read_nonce_r(x, rx);
	if (rc == 0)
		rc = pfs_secret(x, rx, rx->err);
	if (rc == 0)
		rc = ikev1_qm_read_ids(sa, rx, x);
	if (rc == 0 && (!ike_ts_set_within(&x->ts_local, &asked_l) ||
			!ike_ts_set_within(&x->ts_remote, &asked_r)))
		rc = ike_fail(rx->err, -EBADMSG, "Quick Mode 2: the IDs are not those sent");
	if (rc == 0)
		rc = send_qm3(e, sa, x, rx->now, rx->err);
	return complete(e, sa, x, rx, rc);
}

static int on_qm3(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_xchg *x,
		  struct ikev1_rx *rx)
{
	uint8_t want[IKE_PRF_MAX];
	const struct isakmp_payload *h;
	int rc = ikev1_rx_open(e, sa, rx, &x->iv);

	if (rc)
		return ikev1_drop(e, sa, IKEV1_STAT_INVALID_PACKETS, rx->now, rx->err, rc,
				  "Quick Mode 3: %s", rx->err->msg);
	h = rx->m.n == 1 && rx->m.pl[0].type == ISAKMP_PL_HASH ? &rx->m.pl[0] : NULL;
	rc = ikev1_qm_hash3(&sa->keys, x->mid, IKE_CHUNK(x->ni, x->ni_len),
			    IKE_CHUNK(x->nr, x->nr_len), want, rx->err);
	if (rc == 0 && (h == NULL || h->body.len != sa->keys.prf_len ||
			CRYPTO_memcmp(want, h->body.p, h->body.len)))
		return ikev1_drop(e, sa, IKEV1_STAT_HASH_FAILED, rx->now, rx->err, -EKEYREJECTED,
				  "Quick Mode 3: HASH(3) does not verify");
	x->iv = rx->next_iv;
	if (rc == 0)
		rc = ikev1_msgs_received(&x->msgs, rx->raw, rx->len);
	if (rc == 0)
		ikev1_follow_peer(e, sa, rx); /* HASH(3) covers our fresh nonce: no replay */
	return complete(e, sa, x, rx, rc);
}

int ikev1_quick_input(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_xchg *x,
		      struct ikev1_rx *rx)
{
	if (x == NULL)
		return on_qm1(e, sa, rx);
	if (x->kind == IKEV1_X_QUICK && !x->done && x->initiator && x->msgs.in == NULL)
		return on_qm2(e, sa, x, rx);
	if (x->kind == IKEV1_X_QUICK && !x->done && !x->initiator)
		return on_qm3(e, sa, x, rx);
	return ikev1_drop(e, sa, IKEV1_STAT_UNEXPECTED_EXCHANGE, rx->now, rx->err, -EPROTO,
			  "Quick Mode #%08x: no message expected", x->mid);
}
