/* ikev2_sa_init.c - the IKE_SA_INIT exchange (RFC 7296 §1.2): SA, KE and
 * Nonce both ways, with NAT_DETECTION_SOURCE/DESTINATION_IP (§2.23) sent
 * and checked, stateless COOKIE challenges when the responder has too many
 * half-open SAs (§2.6), INVALID_KE_PAYLOAD answered with the group the
 * responder chose and retried by the initiator with it (§1.2), and
 * NO_PROPOSAL_CHOSEN. Ends with both sides holding SK_d..SK_pr; the
 * initiator goes on with IKE_AUTH (ikev2_auth.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ike_prf.h"
#include "ikev2_exchange.h"
#include "ikev2_proposal.h"

#define NAT_HASH_LEN 20      /* SHA-1 */
#define COOKIE_HASH_LEN 32   /* SHA-256 */
#define MAX_INIT_RETRIES 4   /* COOKIE / INVALID_KE answers followed */

/* ---- NAT detection and cookies ---- */

/* SHA-1(SPIi | SPIr | IP | port) (RFC 7296 §2.23). */
static int nat_hash(const uint8_t spi_i[8], const uint8_t spi_r[8], const struct ike_endpoint *ep,
		    uint8_t out[NAT_HASH_LEN], struct ike_err *err)
{
	uint8_t port[2] = { ep->port >> 8, ep->port & 0xff };
	struct ike_chunk in[] = {
		IKE_CHUNK(spi_i, 8), IKE_CHUNK(spi_r, 8),
		IKE_CHUNK(ep->addr.a, ep->addr.family == DPSEC_AF_INET ? 4 : 16),
		IKE_CHUNK(port, 2),
	};

	return ikecr_hash("SHA1", in, IKE_NCHUNKS(in), out, err);
}

/* Adds our NAT_DETECTION notifies: our address as source, the peer's as
 * destination, as this message's SPIs give them. */
static int nat_notifies(struct ikev2_tx *t, const struct ike_endpoint *local,
			const struct ike_endpoint *remote, struct ike_err *err)
{
	uint8_t src[NAT_HASH_LEN], dst[NAT_HASH_LEN];

	if (nat_hash(t->hdr.spi_i, t->hdr.spi_r, local, src, err) ||
	    nat_hash(t->hdr.spi_i, t->hdr.spi_r, remote, dst, err))
		return -EIO;
	ikev2_tx_notify(t, IKEV2_N_NAT_DETECTION_SOURCE_IP, 0, NULL, 0, src, sizeof(src));
	ikev2_tx_notify(t, IKEV2_N_NAT_DETECTION_DESTINATION_IP, 0, NULL, 0, dst, sizeof(dst));
	return 0;
}

/* Does any notify of that type carry the hash of ep? */
static bool nat_hash_matches(const struct ikev2_rx *rx, uint16_t type, const struct ike_endpoint *ep,
			     const uint8_t spi_r[8])
{
	uint8_t want[NAT_HASH_LEN];
	const struct ikev2_payload *p;
	struct ikev2_notify n;

	if (nat_hash(rx->m.hdr.spi_i, spi_r, ep, want, NULL))
		return false;
	for (int i = -1; (p = ikev2_msg_find(&rx->m, IKEV2_PL_NOTIFY, &i)) != NULL;)
		if (ikev2_notify_parse(p->body.p, p->body.len, &n, NULL) == 0 && n.type == type &&
		    CRYPTO_memcmp(n.data.p, want, NAT_HASH_LEN) == 0)
			return true;
	return false;
}

/* Who is behind a NAT, from the peer's notifies (absent: no NAT-T, none). */
static void nat_detect(struct ikev2_sa *sa, const struct ikev2_rx *rx, const uint8_t spi_r[8])
{
	struct ikev2_notify n;

	if (ikev2_rx_notify(rx, IKEV2_N_NAT_DETECTION_SOURCE_IP, &n))
		sa->remote_nat = !nat_hash_matches(rx, IKEV2_N_NAT_DETECTION_SOURCE_IP, rx->remote, spi_r);
	if (ikev2_rx_notify(rx, IKEV2_N_NAT_DETECTION_DESTINATION_IP, &n))
		sa->local_nat = !nat_hash_matches(rx, IKEV2_N_NAT_DETECTION_DESTINATION_IP, rx->local, spi_r);
}

static void nat_event(struct ikev2_engine *e, struct ikev2_sa *sa, uint64_t now)
{
	struct ikev2_event ev = ikev2_event_for(sa, IKEV2_EV_NAT);

	ev.nat.local_behind_nat = sa->local_nat;
	ev.nat.remote_behind_nat = sa->remote_nat;
	ikev2_sa_log(sa, e, 5, now, "NAT detection: we are %sbehind a NAT, the peer is %s",
		     sa->local_nat ? "" : "not ", sa->remote_nat ? "behind one" : "not");
	ikev2_emit(e, &ev);
}

/* Cookie = version | SHA-256(Ni | IPi | SPIi | secret) (RFC 7296 §2.6). */
static int cookie_make(const struct ikev2_engine *e, uint32_t version, const struct ike_blob *ni,
		       const struct ike_endpoint *initiator, const uint8_t spi_i[8],
		       uint8_t out[4 + COOKIE_HASH_LEN])
{
	const struct dpsec_addr *a = &initiator->addr;
	struct ike_chunk in[] = {
		IKE_CHUNK(ni->p, ni->len),
		IKE_CHUNK(a->a, a->family == DPSEC_AF_INET ? 4 : 16),
		IKE_CHUNK(spi_i, 8),
		IKE_CHUNK(e->cookie_secret[version & 1], IKEV2_COOKIE_SECRET_LEN),
	};

	out[0] = version >> 24;
	out[1] = version >> 16;
	out[2] = version >> 8;
	out[3] = version & 0xff;
	return ikecr_hash("SHA256", in, IKE_NCHUNKS(in), out + 4, NULL);
}

/* Made with the current secret or the one before it. */
static bool cookie_valid(const struct ikev2_engine *e, const struct ikev2_notify *n,
			 const struct ike_blob *ni, const struct ikev2_rx *rx)
{
	uint8_t want[4 + COOKIE_HASH_LEN];
	uint32_t version;
	bool ok;

	if (n->data.len != sizeof(want))
		return false;
	version = ike_get32(n->data.p);
	if (version != e->cookie_version && version + 1 != e->cookie_version)
		return false;
	if (cookie_make(e, version, ni, rx->remote, rx->m.hdr.spi_i, want))
		return false;
	ok = CRYPTO_memcmp(want, n->data.p, sizeof(want)) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

/* ---- initiator ---- */

static int init_request_payloads(const struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_tx *t,
				 struct ike_err *err)
{
	union ikev2_body *b = malloc(sizeof(*b));
	size_t pub_len;
	int rc = b ? 0 : -ENOMEM;

	if (sa->cookie_len)
		ikev2_tx_notify(t, IKEV2_N_COOKIE, 0, NULL, 0, sa->cookie, sa->cookie_len);
	if (rc == 0)
		rc = ikev2_sa_from_mm(sa->peer.mm, sa->peer.n_mm, NULL, &b->sa);
	if (rc == 0) {
		ikev2_tx_add(t, IKEV2_PL_SA, b);
		b->ke.group = ike_dh_group(sa->dh);
		b->ke.data.p = ike_dh_public(sa->dh, &pub_len);
		b->ke.data.len = (uint16_t)pub_len;
		ikev2_tx_add(t, IKEV2_PL_KE, b);
		b->nonce = (struct ike_blob){ sa->ni, sa->ni_len };
		ikev2_tx_add(t, IKEV2_PL_NONCE, b);
		rc = nat_notifies(t, &sa->local, &sa->remote, err);
		ikev2_frag_announce(e, sa, t);
	}
	if (rc == 0)
		rc = ikev2_auth_init_payloads(sa, t, err);
	free(b);
	return rc == -ENOMEM || rc == -E2BIG || rc == -EINVAL
		       ? ike_fail(err, rc, "IKE_SA_INIT: our proposals do not fit an SA payload")
		       : rc;
}

/* Sends (or sends again, with a cookie or another group) our IKE_SA_INIT
 * request; the first call makes the nonce and key pair for the first
 * method's group. */
int ikev2_sa_init_start(struct ikev2_engine *e, struct ikev2_sa *sa, uint64_t now,
			struct ike_err *err)
{
	struct ikev2_tx t;
	int rc;

	if (sa->ni_len == 0) {
		sa->ni_len = IKEV2_NONCE_LEN;
		if (ikev2_random(sa->ni, sa->ni_len, err))
			return -EIO;
	}
	if (sa->dh == NULL && ikev2_dh_new(e, sa->peer.mm[0].dh_group, &sa->dh, err))
		return err->code;
	ikev2_tx_begin(e, sa, &t, IKEV2_IKE_SA_INIT, false, 0);
	rc = init_request_payloads(e, sa, &t, err);
	if (rc == 0)
		rc = ikev2_send_request(e, sa, &t, IKEV2_REQ_SA_INIT, now, err);
	if (rc)
		return rc;
	free(sa->init_msg[0]);
	sa->init_msg[0] = malloc(sa->req.len);
	if (sa->init_msg[0] == NULL)
		return ike_fail(err, -ENOMEM, "IKE_SA_INIT: no memory to keep the request");
	memcpy(sa->init_msg[0], sa->req.data, sa->req.len);
	sa->init_len[0] = sa->req.len;
	return sa->state == IKEV2_S_IDLE ? ikev2_set_state(sa, IKEV2_S_INIT_SENT, now, e) : 0;
}

static bool group_offered(const struct ikev2_sa *sa, uint16_t group)
{
	for (uint8_t i = 0; i < sa->peer.n_mm; i++)
		if (sa->peer.mm[i].dh_group == group)
			return true;
	return false;
}

/* COOKIE or INVALID_KE_PAYLOAD: the request again, changed as asked. */
static int init_retry(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx,
		      const struct ikev2_notify *cookie, const struct ikev2_notify *ke)
{
	uint16_t group = ke ? ike_get16(ke->data.p) : 0;

	if (++sa->init_retries > MAX_INIT_RETRIES) {
		ikev2_fail(e, sa, rx->now, cookie ? IKEV2_N_COOKIE : IKEV2_N_INVALID_KE_PAYLOAD, true,
			   "IKE_SA_INIT: answered with %s %u times, giving up",
			   cookie ? "COOKIE" : "INVALID_KE_PAYLOAD", sa->init_retries);
		return 0;
	}
	if (cookie) {
		memcpy(sa->cookie, cookie->data.p, cookie->data.len);
		sa->cookie_len = (uint8_t)cookie->data.len;
		ikev2_sa_log(sa, e, 5, rx->now, "COOKIE received: IKE_SA_INIT again with it");
	} else {
		if (!group_offered(sa, group) || group == ike_dh_group(sa->dh)) {
			ikev2_fail(e, sa, rx->now, IKEV2_N_INVALID_KE_PAYLOAD, true,
				   "IKE_SA_INIT: the responder asks for DH group %u, %s", group,
				   group_offered(sa, group) ? "which we sent" : "which we did not offer");
			return 0;
		}
		ikev2_count(e, IKEV2_STAT_INVALID_KE);
		ikev2_sa_log(sa, e, 5, rx->now, "INVALID_KE_PAYLOAD: IKE_SA_INIT again with group %u",
			     group);
		ike_dh_free(sa->dh);
		sa->dh = NULL;
		if (ikev2_dh_new(e, group, &sa->dh, rx->err))
			return rx->err->code;
	}
	return ikev2_sa_init_start(e, sa, rx->now, rx->err);
}

/* SKEYSEED and SK_d..SK_pr from the peer's KE data (RFC 7296 §2.14). */
static int derive_keys(struct ikev2_sa *sa, const struct ikev2_ke *ke, struct ike_err *err)
{
	uint8_t g_ir[IKE_DH_SECRET_MAX], seed[IKE_PRF_MAX];
	size_t g_len = 0;
	struct ike_chunk ni = IKE_CHUNK(sa->ni, sa->ni_len), nr = IKE_CHUNK(sa->nr, sa->nr_len);
	int rc = ike_dh_derive(sa->dh, ke->data.p, ke->data.len, g_ir, sizeof(g_ir), &g_len, err);

	if (rc == 0)
		rc = ikev2_keys_init(&sa->keys, &sa->mm.suite, sa->initiator, err);
	if (rc == 0)
		rc = ikev2_skeyseed(sa->mm.suite.prf, ni, nr, IKE_CHUNK(g_ir, g_len), seed, err);
	if (rc == 0)
		rc = ikev2_keys_derive(&sa->keys, seed, ni, nr, sa->id.spi_i, sa->id.spi_r, err);
	if (rc)
		ikev2_keys_wipe(&sa->keys);
	OPENSSL_cleanse(g_ir, sizeof(g_ir));
	OPENSSL_cleanse(seed, sizeof(seed));
	return rc;
}

static int keep_message(struct ikev2_sa *sa, int which, const uint8_t *p, size_t len,
			struct ike_err *err)
{
	free(sa->init_msg[which]);
	sa->init_msg[which] = malloc(len);
	if (sa->init_msg[which] == NULL)
		return ike_fail(err, -ENOMEM, "IKE_SA_INIT: no memory to keep a message");
	memcpy(sa->init_msg[which], p, len);
	sa->init_len[which] = len;
	return 0;
}

/* The responder's choice must be one of our methods, alone. */
static int answer_method(struct ikev2_sa *sa, const struct ike_sa *pl, struct ike_err *err)
{
	struct ike_mm_offer got;
	size_t chosen;

	if (ikev2_mm_answer(pl, sa->peer.mm, sa->peer.n_mm, &got, &chosen, err))
		return -EBADMSG;
	sa->mm = sa->peer.mm[chosen];
	return 0;
}

static int init_answer(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx)
{
	union ikev2_body *sa_pl = malloc(sizeof(*sa_pl));
	union ikev2_body ke, nonce;
	int rc = sa_pl ? 0 : ike_fail(rx->err, -ENOMEM, "no memory");

	if (rc == 0 && (!ikev2_rx_body(rx, IKEV2_PL_SA, sa_pl) || !ikev2_rx_body(rx, IKEV2_PL_KE, &ke) ||
			!ikev2_rx_body(rx, IKEV2_PL_NONCE, &nonce)))
		rc = ike_fail(rx->err, -EBADMSG, "IKE_SA_INIT answer without SA, KE and Nonce");
	if (rc == 0 && !memcmp(rx->m.hdr.spi_r, (uint8_t[8]){ 0 }, 8))
		rc = ike_fail(rx->err, -EBADMSG, "IKE_SA_INIT answer with a zero responder SPI");
	if (rc == 0)
		rc = answer_method(sa, &sa_pl->sa, rx->err);
	if (rc == 0 && ke.ke.group != ike_dh_group(sa->dh))
		rc = ike_fail(rx->err, -EBADMSG, "IKE_SA_INIT: KE of group %u answers ours of group %u",
			      ke.ke.group, ike_dh_group(sa->dh));
	if (rc == 0 && sa->mm.dh_group != ke.ke.group)
		rc = ike_fail(rx->err, -EBADMSG, "IKE_SA_INIT: the chosen suite's group %u is not the KE's %u",
			      sa->mm.dh_group, ke.ke.group);
	if (rc == 0) {
		memcpy(sa->id.spi_r, rx->m.hdr.spi_r, 8);
		memcpy(sa->nr, nonce.nonce.p, nonce.nonce.len);
		sa->nr_len = nonce.nonce.len;
		rc = derive_keys(sa, &ke.ke, rx->err);
	}
	if (rc == 0)
		rc = keep_message(sa, 1, e->rx, rx->len, rx->err);
	if (rc == 0)
		ikev2_auth_init_read(sa, rx);
	free(sa_pl);
	return rc;
}

/* After a NAT, IKE goes on between ports 4500 (RFC 7296 §2.23). */
static void float_to_natt(struct ikev2_sa *sa)
{
	sa->local.port = IKEV2_NATT_PORT;
	sa->remote.port = IKEV2_NATT_PORT;
}

int ikev2_sa_init_response(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx)
{
	struct ikev2_notify cookie, ke;
	uint16_t error = ikev2_rx_error_notify(rx);
	int rc;

	if (ikev2_rx_notify(rx, IKEV2_N_COOKIE, &cookie))
		return init_retry(e, sa, rx, &cookie, NULL);
	if (ikev2_rx_notify(rx, IKEV2_N_INVALID_KE_PAYLOAD, &ke))
		return init_retry(e, sa, rx, NULL, &ke);
	if (error) {
		ikev2_fail(e, sa, rx->now, error, true, "IKE_SA_INIT refused by the peer: %s",
			   ikev2_notify_name(error) ? ikev2_notify_name(error) : "error notify");
		return 0;
	}
	rc = init_answer(e, sa, rx);
	if (rc) {
		ikev2_fail(e, sa, rx->now, 0, true, "%s", rx->err->msg);
		return rc;
	}
	nat_detect(sa, rx, sa->id.spi_r);
	ikev2_frag_agree(e, sa, rx);
	ikev2_sa_request_done(sa);
	if (sa->local_nat || sa->remote_nat)
		float_to_natt(sa);
	nat_event(e, sa, rx->now);
	rc = ikev2_auth_start(e, sa, rx->now, rx->err);
	if (rc)
		ikev2_fail(e, sa, rx->now, 0, true, "IKE_AUTH not sent: %s", rx->err->msg);
	return rc;
}

/* ---- responder ---- */

/* An answer that keeps no state: a COOKIE challenge or an error notify. */
static void answer_stateless(struct ikev2_engine *e, const struct ikev2_rx *rx, uint16_t type,
			     const uint8_t *data, size_t len)
{
	struct ikev2_hdr h = { .version = IKEV2_VERSION, .exchange = IKEV2_IKE_SA_INIT,
			       .flags = IKEV2_FLAG_R };
	struct ike_err err;
	struct ikev2_tx t;
	size_t n;

	memcpy(h.spi_i, rx->m.hdr.spi_i, 8);
	ikev2_tx_begin_clear(e, &t, &h);
	ikev2_tx_notify(&t, type, 0, NULL, 0, data, len);
	if (ikev2_build_end(&t.b, &n, &err) == 0)
		ikev2_send_to(e, rx->local, rx->remote, e->out, n);
}

/* Demands a cookie when there are too many half-open SAs. 0: go on;
 * 1: answered with a challenge. */
static int cookie_gate(struct ikev2_engine *e, const struct ikev2_rx *rx, const struct ike_blob *ni)
{
	uint8_t fresh[4 + COOKIE_HASH_LEN];
	struct ikev2_notify n;
	bool given = ikev2_rx_notify(rx, IKEV2_N_COOKIE, &n);

	if (ikev2_half_open_count(e) < e->conf.cookie_threshold)
		return 0;
	if (given && cookie_valid(e, &n, ni, rx))
		return 0;
	if (given)
		ikev2_drop(e, NULL, IKEV2_STAT_INVALID_COOKIES, rx->now, NULL, -EACCES,
			   "IKE_SA_INIT with an invalid cookie: challenged again");
	if (cookie_make(e, e->cookie_version, ni, rx->remote, rx->m.hdr.spi_i, fresh))
		return 1;
	ikev2_count(e, IKEV2_STAT_COOKIES_SENT);
	answer_stateless(e, rx, IKEV2_N_COOKIE, fresh, sizeof(fresh));
	return 1;
}

/* Drops (unanswered, counted) an IKE_SA_INIT from an address that holds
 * its share of half-open SAs already. 0: go on; 1: dropped. */
static int source_gate(struct ikev2_engine *e, const struct ikev2_rx *rx)
{
	if (e->conf.half_open_per_source == 0 ||
	    ikev2_half_open_from(e, &rx->remote->addr) < e->conf.half_open_per_source)
		return 0;
	ikev2_count(e, IKEV2_STAT_HALF_OPEN_LIMIT);
	return 1;
}

struct init_offer {
	union ikev2_body sa, ke, nonce;
	struct ike_mm_offer offers[IKE_MAX_PROPOSALS];
	size_t n_offers;
	struct ikev2_peer peer;
};

static int init_offer_read(struct ikev2_engine *e, struct ikev2_rx *rx, struct init_offer *o)
{
	const struct ikev2_hdr *h = &rx->m.hdr;

	if (!(h->flags & IKEV2_FLAG_I) || h->msg_id != 0 ||
	    memcmp(h->spi_r, (uint8_t[8]){ 0 }, 8) != 0)
		return ikev2_drop(e, NULL, IKEV2_STAT_INVALID_PACKETS, rx->now, rx->err, -EBADMSG,
				  "IKE_SA_INIT request with flags %#x and message ID %u: expected the I flag, ID 0 and a zero responder SPI",
				  h->flags, h->msg_id);
	if (!ikev2_rx_body(rx, IKEV2_PL_SA, &o->sa) || !ikev2_rx_body(rx, IKEV2_PL_KE, &o->ke) ||
	    !ikev2_rx_body(rx, IKEV2_PL_NONCE, &o->nonce))
		return ikev2_drop(e, NULL, IKEV2_STAT_INVALID_PACKETS, rx->now, rx->err, -EBADMSG,
				  "IKE_SA_INIT request without SA, KE and Nonce");
	o->n_offers = ikev2_mm_offers(&o->sa.sa, o->offers, IKE_MAX_PROPOSALS);
	return 0;
}

/* The policy and its choice; answers NO_PROPOSAL_CHOSEN or
 * INVALID_KE_PAYLOAD itself (1). */
static int init_choose(struct ikev2_engine *e, struct ikev2_rx *rx, struct init_offer *o,
		       struct ike_choice *c)
{
	struct ikev2_lookup q = { rx->local, rx->remote, NULL };
	uint8_t group[2];

	if (e->conf.lookup(e->conf.lookup_ctx, &q, &o->peer) != 0 ||
	    ike_mm_select(o->peer.mm, o->peer.n_mm, o->offers, o->n_offers, c) != 0) {
		ikev2_drop(e, NULL, IKEV2_STAT_NEGOTIATION_FAILURES, rx->now, rx->err, -ENOENT,
			   "IKE_SA_INIT: no policy method matches the %zu proposals offered",
			   o->n_offers);
		answer_stateless(e, rx, IKEV2_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return 1;
	}
	if (o->ke.ke.group == o->peer.mm[c->method].dh_group)
		return 0;
	group[0] = o->peer.mm[c->method].dh_group >> 8;
	group[1] = o->peer.mm[c->method].dh_group & 0xff;
	ikev2_drop(e, NULL, IKEV2_STAT_INVALID_KE, rx->now, rx->err, -EPROTO,
		   "IKE_SA_INIT: KE for group %u, we chose %u: INVALID_KE_PAYLOAD", o->ke.ke.group,
		   o->peer.mm[c->method].dh_group);
	answer_stateless(e, rx, IKEV2_N_INVALID_KE_PAYLOAD, group, sizeof(group));
	return 1;
}

static int init_response_send(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx,
			      uint8_t num)
{
	union ikev2_body *b = malloc(sizeof(*b));
	struct ikev2_tx t;
	size_t pub_len;
	int rc = b ? ikev2_sa_answer_mm(&sa->mm, num, NULL, &b->sa) : -ENOMEM;

	ikev2_tx_begin(e, sa, &t, IKEV2_IKE_SA_INIT, true, 0);
	if (rc == 0) {
		ikev2_tx_add(&t, IKEV2_PL_SA, b);
		b->ke.group = ike_dh_group(sa->dh);
		b->ke.data.p = ike_dh_public(sa->dh, &pub_len);
		b->ke.data.len = (uint16_t)pub_len;
		ikev2_tx_add(&t, IKEV2_PL_KE, b);
		b->nonce = (struct ike_blob){ sa->nr, sa->nr_len };
		ikev2_tx_add(&t, IKEV2_PL_NONCE, b);
		rc = nat_notifies(&t, &sa->local, &sa->remote, rx->err);
		ikev2_frag_announce(e, sa, &t);
	}
	if (rc == 0)
		rc = ikev2_auth_init_payloads(sa, &t, rx->err);
	free(b);
	if (rc == 0)
		rc = ikev2_send_response(e, sa, &t, rx->err);
	if (rc == 0)
		rc = keep_message(sa, 1, sa->last_resp.data, sa->last_resp.len, rx->err);
	return rc;
}

/* A responder's SA for the accepted offer: keys derived, answer sent. */
static int init_accept(struct ikev2_engine *e, struct ikev2_rx *rx, struct init_offer *o,
		       const struct ike_choice *c)
{
	struct ikev2_sa *sa = ikev2_sa_new(false);
	int rc = sa ? ikev2_sa_insert(e, sa) : -ENOMEM;

	if (rc) {
		ikev2_sa_free(sa);
		return ike_fail(rx->err, -ENOMEM, "no memory for an IKE SA");
	}
	memcpy(sa->id.spi_i, rx->m.hdr.spi_i, 8);
	sa->peer = o->peer;
	sa->have_peer = true;
	sa->local = *rx->local;
	sa->remote = *rx->remote;
	sa->mm = o->peer.mm[c->method];
	memcpy(sa->ni, o->nonce.nonce.p, o->nonce.nonce.len);
	sa->ni_len = o->nonce.nonce.len;
	sa->nr_len = IKEV2_NONCE_LEN;
	ikev2_sa_log(sa, e, 6, rx->now, "IKE_SA_INIT from the peer: proposal %u chosen",
		     o->offers[c->offer].num);
	rc = ikev2_random(sa->nr, sa->nr_len, rx->err);
	if (rc == 0)
		rc = ikev2_dh_new(e, sa->mm.dh_group, &sa->dh, rx->err);
	if (rc == 0)
		rc = derive_keys(sa, &o->ke.ke, rx->err);
	if (rc == 0)
		rc = keep_message(sa, 0, e->rx, rx->len, rx->err);
	nat_detect(sa, rx, (uint8_t[8]){ 0 });
	ikev2_frag_agree(e, sa, rx);
	ikev2_auth_init_read(sa, rx);
	if (rc == 0)
		rc = init_response_send(e, sa, rx, o->offers[c->offer].num);
	if (rc) {
		ikev2_fail(e, sa, rx->now, 0, true, "IKE_SA_INIT not answered: %s", rx->err->msg);
		return rc;
	}
	ikev2_set_state(sa, IKEV2_S_INIT_DONE, rx->now, e);
	sa->expire_ms = rx->now + e->conf.half_open_timeout_ms;
	nat_event(e, sa, rx->now);
	return 0;
}

int ikev2_sa_init_request(struct ikev2_engine *e, struct ikev2_rx *rx)
{
	struct ikev2_sa *dup = ikev2_find_half_open(e, rx->m.hdr.spi_i, rx->remote);
	struct init_offer *o;
	struct ike_choice c;
	int rc;

	if (dup) { /* our answer was lost: the same answer again */
		ikev2_count(e, IKEV2_STAT_REPLAYED_RESPONSES);
		ikev2_sa_log(dup, e, 6, rx->now, "IKE_SA_INIT again: cached response replayed");
		ikev2_send(e, dup, dup->last_resp.data, dup->last_resp.len);
		return 0;
	}
	o = malloc(sizeof(*o));
	if (o == NULL)
		return ike_fail(rx->err, -ENOMEM, "no memory for an IKE_SA_INIT request");
	rc = init_offer_read(e, rx, o);
	if (rc == 0 && cookie_gate(e, rx, &o->nonce.nonce) == 0 && source_gate(e, rx) == 0 &&
	    init_choose(e, rx, o, &c) == 0)
		rc = init_accept(e, rx, o, &c);
	ike_auth_wipe(&o->peer.local_auth);
	ike_auth_wipe(&o->peer.remote_auth);
	free(o);
	return rc;
}
