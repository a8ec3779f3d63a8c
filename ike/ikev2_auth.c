/* ikev2_auth.c - the IKE_AUTH exchange (RFC 7296 §1.2, §2.15): identities
 * (IDi, IDr), AUTH over the signed octets of each side, and the first child
 * SA (SA, TSi, TSr, narrowed by the responder). The AUTH data itself is
 * made and checked behind struct ike_auth_conf (ike_auth.h): pre-shared
 * keys, or certificates (signatures from the key process); for these this
 * file also carries CERT, CERTREQ and SIGNATURE_HASH_ALGORITHMS (RFC 7296
 * §3.6-3.7, RFC 7427 §4), whose contents the auth ops give. Failures
 * answer AUTHENTICATION_FAILED (the IKE SA goes), or NO_PROPOSAL_CHOSEN /
 * TS_UNACCEPTABLE (the IKE SA stays, without child). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ike_prf.h"
#include "ike_sig.h"
#include "ikev2_exchange.h"

#define CERT_X509_SIGNATURE 4 /* Certificate Encoding (RFC 7296 §3.6) */
#define CERTREQ_HASH_LEN 20   /* SHA-1 of a CA's SubjectPublicKeyInfo (§3.7) */

/* An ID payload body: type | RESERVED (3) | data (RFC 7296 §3.5), which is
 * also RestOfInitIDPayload / RestOfRespIDPayload of §2.15. */
struct id_body {
	size_t len;
	uint8_t b[4 + IKE_ID_MAX];
};

static void id_body_of(const struct ike_id *id, struct id_body *out)
{
	memset(out->b, 0, 4);
	out->b[0] = id->type;
	memcpy(out->b + 4, id->data, id->len);
	out->len = 4 + (size_t)id->len;
}

/* The signed octets of one side: its IKE_SA_INIT message | the other's
 * nonce | prf(SK_p of its side, its ID body). maced: where that prf goes. */
static int signed_octets(const struct ikev2_sa *sa, bool of_initiator, const uint8_t *id_body,
			 size_t id_len, uint8_t *maced, struct ike_auth_octets *o,
			 struct ike_err *err)
{
	const uint8_t *sk_p = of_initiator ? sa->keys.sk_pi : sa->keys.sk_pr;
	struct ike_chunk id = IKE_CHUNK(id_body, id_len);
	int rc = ike_prf(sa->mm.suite.prf, IKE_CHUNK(sk_p, sa->keys.prf_len), &id, 1, maced, err);

	o->prf = sa->mm.suite.prf;
	o->piece[0] = IKE_CHUNK(sa->init_msg[of_initiator ? 0 : 1], sa->init_len[of_initiator ? 0 : 1]);
	o->piece[1] = of_initiator ? IKE_CHUNK(sa->nr, sa->nr_len) : IKE_CHUNK(sa->ni, sa->ni_len);
	o->piece[2] = IKE_CHUNK(maced, sa->keys.prf_len);
	return rc;
}

static void id_add(struct ikev2_tx *t, uint8_t type, const struct ike_id *id)
{
	union ikev2_body b = { .id = { id->type, { id->data, id->len } } };

	ikev2_tx_add(t, type, &b);
}

/* ---- certificates ---- */

static bool we_sign(const struct ikev2_peer *p)
{
	return p->local_auth.ops && p->local_auth.ops->certs;
}

static bool we_take_certs(const struct ikev2_peer *p)
{
	return p->remote_auth.ops && p->remote_auth.ops->certreq;
}

/* CERTREQ naming the roots we trust for the peer's certificate. */
static int certreq_add(const struct ikev2_sa *sa, struct ikev2_tx *t, struct ike_err *err)
{
	const struct ike_auth_conf *a = &sa->peer.remote_auth;
	uint8_t req[IKE_CERTREQ_MAX];
	union ikev2_body b;
	size_t len = 0;
	int rc;

	if (!we_take_certs(&sa->peer))
		return 0;
	rc = a->ops->certreq(a, req, sizeof(req), &len, err);
	if (rc == 0) {
		b.cert = (struct ikev2_cert){ CERT_X509_SIGNATURE, { req, (uint16_t)len } };
		ikev2_tx_add(t, IKEV2_PL_CERTREQ, &b);
	}
	return rc;
}

/* The peer's CERTREQs of X.509 certificates: their CA hashes, as many as fit. */
static void certreq_read(struct ikev2_sa *sa, const struct ikev2_rx *rx)
{
	const struct ikev2_payload *p;
	struct ikev2_cert c;
	size_t n;

	sa->peer_certreq_len = 0;
	for (int i = -1; (p = ikev2_msg_find(&rx->m, IKEV2_PL_CERTREQ, &i)) != NULL;) {
		if (ikev2_cert_parse(p->body.p, p->body.len, &c, NULL) || c.encoding != CERT_X509_SIGNATURE)
			continue;
		n = c.data.len - c.data.len % CERTREQ_HASH_LEN;
		if (n > sizeof(sa->peer_certreq) - sa->peer_certreq_len)
			n = (sizeof(sa->peer_certreq) - sa->peer_certreq_len) / CERTREQ_HASH_LEN * CERTREQ_HASH_LEN;
		memcpy(sa->peer_certreq + sa->peer_certreq_len, c.data.p, n);
		sa->peer_certreq_len = (uint16_t)(sa->peer_certreq_len + n);
	}
}

/* The peer's CERT payloads of X.509 certificates, in order, for the check. */
static void certs_collect(const struct ikev2_rx *rx, struct ike_auth_octets *o)
{
	const struct ikev2_payload *p;
	struct ikev2_cert c;

	for (int i = -1; o->n_certs < IKE_AUTH_CERTS_MAX &&
			 (p = ikev2_msg_find(&rx->m, IKEV2_PL_CERT, &i)) != NULL;)
		if (ikev2_cert_parse(p->body.p, p->body.len, &c, NULL) == 0 &&
		    c.encoding == CERT_X509_SIGNATURE)
			o->certs[o->n_certs++] = IKE_CHUNK(c.data.p, c.data.len);
}

int ikev2_auth_init_payloads(const struct ikev2_sa *sa, struct ikev2_tx *t, struct ike_err *err)
{
	uint8_t hashes[32]; /* 16-bit hash IDs: those ike_sig takes */
	size_t n = 0;

	if (!we_sign(&sa->peer) && !we_take_certs(&sa->peer))
		return 0;
	for (uint8_t h = 0; h < 16; h++)
		if (IKE_SIG_HASHES & (1u << h)) {
			hashes[n++] = 0;
			hashes[n++] = h;
		}
	ikev2_tx_notify(t, IKEV2_N_SIGNATURE_HASH_ALGORITHMS, 0, NULL, 0, hashes, n);
	return sa->initiator ? 0 : certreq_add(sa, t, err);
}

void ikev2_auth_init_read(struct ikev2_sa *sa, const struct ikev2_rx *rx)
{
	struct ikev2_notify n;

	sa->peer_hashes = 0;
	if (ikev2_rx_notify(rx, IKEV2_N_SIGNATURE_HASH_ALGORITHMS, &n))
		for (size_t i = 0; i + 1 < n.data.len; i += 2)
			if (n.data.p[i] == 0 && n.data.p[i + 1] < 16)
				sa->peer_hashes |= (uint16_t)(1u << n.data.p[i + 1]);
	certreq_read(sa, rx);
}

/* CERT payloads of the certificate that goes with our AUTH. */
static int certs_add(const struct ikev2_sa *sa, struct ikev2_tx *t, const struct ike_auth_octets *o,
		     struct ike_err *err)
{
	const struct ike_auth_conf *a = &sa->peer.local_auth;
	struct ike_chunk der[IKE_AUTH_CERTS_MAX];
	union ikev2_body b;
	int n = we_sign(&sa->peer) ? a->ops->certs(a, o, der, IKE_AUTH_CERTS_MAX, err) : 0;

	for (int i = 0; i < n; i++) {
		if (der[i].len > UINT16_MAX - 5)
			return ike_fail(err, -E2BIG, "a certificate of %zu bytes does not fit a payload", der[i].len);
		b.cert = (struct ikev2_cert){ CERT_X509_SIGNATURE, { der[i].p, (uint16_t)der[i].len } };
		ikev2_tx_add(t, IKEV2_PL_CERT, &b);
	}
	return n < 0 ? n : 0;
}

/* Our ID and AUTH payloads (with CERT, and the initiator's CERTREQ). */
static int id_and_auth_add(struct ikev2_sa *sa, struct ikev2_tx *t, struct ike_err *err)
{
	uint8_t maced[IKE_PRF_MAX], auth[IKE_AUTH_DATA_MAX], method = 0;
	const struct ike_auth_conf *a = &sa->peer.local_auth;
	struct ike_auth_octets o = { .peer_hashes = sa->peer_hashes };
	struct id_body id;
	union ikev2_body b;
	size_t len = 0;
	int rc;

	o.certreq = IKE_CHUNK(sa->peer_certreq, sa->peer_certreq_len);
	id_body_of(&sa->peer.local_id, &id);
	rc = signed_octets(sa, sa->initiator, id.b, id.len, maced, &o, err);
	if (rc == 0)
		rc = a->ops->make(a, &o, &method, auth, sizeof(auth), &len, err);
	if (rc == 0) {
		id_add(t, sa->initiator ? IKEV2_PL_IDI : IKEV2_PL_IDR, &sa->peer.local_id);
		rc = certs_add(sa, t, &o, err);
	}
	if (rc == 0 && sa->initiator)
		rc = certreq_add(sa, t, err);
	if (rc == 0) {
		b.auth = (struct ikev2_auth){ method, { auth, (uint16_t)len } };
		ikev2_tx_add(t, IKEV2_PL_AUTH, &b);
	}
	OPENSSL_cleanse(maced, sizeof(maced));
	OPENSSL_cleanse(auth, sizeof(auth));
	return rc;
}

/* The peer's ID (which must be the expected one) and AUTH: -EACCES. */
static int peer_auth_check(struct ikev2_sa *sa, const struct ikev2_rx *rx, struct ike_err *err)
{
	uint8_t id_type = sa->initiator ? IKEV2_PL_IDR : IKEV2_PL_IDI;
	const struct ike_auth_conf *a = &sa->peer.remote_auth;
	const struct ikev2_payload *idp;
	uint8_t maced[IKE_PRF_MAX];
	struct ike_auth_octets o = { .id = &sa->peer_id };
	union ikev2_body auth;
	int i = -1, rc;

	idp = ikev2_msg_find(&rx->m, id_type, &i);
	if (idp == NULL || !ikev2_rx_body(rx, IKEV2_PL_AUTH, &auth))
		return ike_fail(err, -EACCES, "IKE_AUTH: no %s or no AUTH payload",
				ikev2_payload_name(id_type));
	if (!ike_id_matches(&sa->peer.remote_id, &sa->peer_id))
		return ike_fail(err, -EACCES, "IKE_AUTH: the peer's identity is not the one the policy expects");
	certs_collect(rx, &o);
	rc = signed_octets(sa, !sa->initiator, idp->body.p, idp->body.len, maced, &o, err);
	if (rc == 0)
		rc = a->ops->check(a, &o, auth.auth.method, auth.auth.data.p, auth.auth.data.len, err);
	OPENSSL_cleanse(maced, sizeof(maced));
	if (rc)
		err->code = -EACCES; /* whatever failed, the peer is not authenticated */
	return rc ? -EACCES : 0;
}

static int peer_id_read(struct ikev2_sa *sa, const struct ikev2_rx *rx, struct ike_err *err)
{
	union ikev2_body b;

	if (!ikev2_rx_body(rx, sa->initiator ? IKEV2_PL_IDR : IKEV2_PL_IDI, &b))
		return ike_fail(err, -EBADMSG, "IKE_AUTH without the peer's ID payload");
	if (b.id.data.len > IKE_ID_MAX)
		return ike_fail(err, -EBADMSG, "IKE_AUTH: the peer's identity has %u bytes, at most %d",
				b.id.data.len, IKE_ID_MAX);
	sa->peer_id.type = b.id.type;
	sa->peer_id.len = b.id.data.len;
	memcpy(sa->peer_id.data, b.id.data.p, b.id.data.len);
	return 0;
}

static void ike_up(struct ikev2_engine *e, struct ikev2_sa *sa, uint64_t now)
{
	struct ikev2_event ev = ikev2_event_for(sa, IKEV2_EV_IKE_UP);
	char id[96];

	ikev2_set_state(sa, IKEV2_S_ESTABLISHED, now, e);
	sa->expire_ms = 0;
	ikev2_sa_init_material_free(sa);
	ikev2_count(e, IKEV2_STAT_IKE_ESTABLISHED);
	ike_id_describe(&sa->peer_id, id, sizeof(id));
	ikev2_sa_log(sa, e, 5, now, "IKE SA established with %s", id);
	ev.up.peer_id = sa->peer_id;
	ev.up.mm = sa->mm;
	ev.up.initiator = sa->initiator;
	ikev2_emit(e, &ev);
}

/* ---- INITIAL_CONTACT (RFC 7296 §2.4) ---- */

/* Whether sa is our only IKE SA with its peer's address, in any state: we
 * then tell the peer, in IKE_AUTH, that any other SA it holds with us is
 * stale (we restarted). Two of ours being set up at once: neither says it. */
static bool only_sa_with_peer(const struct ikev2_engine *e, const struct ikev2_sa *sa)
{
	for (size_t i = 0; i < e->n_sas; i++) {
		const struct ikev2_sa *o = e->sas[i];

		if (o != sa && o->state != IKEV2_S_CLOSED &&
		    memcmp(&o->remote.addr, &sa->remote.addr, sizeof(sa->remote.addr)) == 0)
			return false;
	}
	return true;
}

/* The authenticated peer says sa is its only IKE SA with us: any other we
 * hold with that identity at that address (a peer with several addresses
 * and one certificate says it per address, as only_sa_with_peer() does) is
 * left over from before its restart and goes, children first (CHILD_DOWN,
 * IKE_DOWN), without a DELETE it could not read. */
static void peer_restarted(struct ikev2_engine *e, struct ikev2_sa *sa, uint64_t now)
{
	for (size_t i = 0; i < e->n_sas; i++) {
		struct ikev2_sa *o = e->sas[i];

		if (o == sa || o->state < IKEV2_S_ESTABLISHED || o->state == IKEV2_S_CLOSED ||
		    memcmp(&o->remote.addr, &sa->remote.addr, sizeof(sa->remote.addr)) != 0 ||
		    o->peer_id.type != sa->peer_id.type || o->peer_id.len != sa->peer_id.len ||
		    memcmp(o->peer_id.data, sa->peer_id.data, sa->peer_id.len) != 0)
			continue;
		ikev2_count(e, IKEV2_STAT_INITIAL_CONTACTS);
		ikev2_sa_down(e, o, now, "the peer restarted (INITIAL_CONTACT)");
	}
}

/* ---- initiator ---- */

int ikev2_auth_start(struct ikev2_engine *e, struct ikev2_sa *sa, uint64_t now,
		     struct ike_err *err)
{
	struct ikev2_tx t;
	int rc;

	sa->req.spi = ikev2_new_child_spi(e);
	ikev2_tx_begin(e, sa, &t, IKEV2_IKE_AUTH, false, sa->next_msg_id);
	rc = id_and_auth_add(sa, &t, err);
	if (rc == 0 && only_sa_with_peer(e, sa))
		ikev2_tx_notify(&t, IKEV2_N_INITIAL_CONTACT, 0, NULL, 0, NULL, 0);
	if (rc == 0 && sa->peer.remote_id.type)
		id_add(&t, IKEV2_PL_IDR, &sa->peer.remote_id);
	if (rc == 0)
		rc = ikev2_child_offer(sa, &t, sa->req.spi, false, err);
	if (rc == 0)
		rc = ikev2_set_state(sa, IKEV2_S_AUTH_SENT, now, e);
	if (rc == 0)
		rc = ikev2_send_request(e, sa, &t, IKEV2_REQ_AUTH, now, err);
	return rc;
}

/* The child SA of the answer, or the failure the responder reported. */
static void auth_child(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx)
{
	uint16_t error = ikev2_rx_error_notify(rx);
	struct ikev2_child_nego n;
	struct ike_chunk ni = IKE_CHUNK(sa->ni, sa->ni_len), nr = IKE_CHUNK(sa->nr, sa->nr_len);

	if (error) {
		ikev2_fail(e, sa, rx->now, error, false, "IKE_AUTH: the peer created no child SA (%s)",
			   ikev2_notify_name(error) ? ikev2_notify_name(error) : "error");
		return;
	}
	if (ikev2_child_read_answer(sa, rx, sa->req.spi, false, &n, rx->err) ||
	    ikev2_child_install(e, sa, &n, IKE_CHUNK(NULL, 0), ni, nr, 0, rx->now, rx->err))
		ikev2_fail(e, sa, rx->now, 0, false, "IKE_AUTH: %s", rx->err->msg);
}

int ikev2_auth_response(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx)
{
	uint16_t error = ikev2_rx_error_notify(rx);

	if (error == IKEV2_N_AUTHENTICATION_FAILED || (error && !ikev2_rx_has(rx, IKEV2_PL_AUTH))) {
		ikev2_fail(e, sa, rx->now, error, true, "IKE_AUTH refused by the peer: %s",
			   ikev2_notify_name(error) ? ikev2_notify_name(error) : "error notify");
		return 0;
	}
	if (peer_id_read(sa, rx, rx->err) || peer_auth_check(sa, rx, rx->err)) {
		ikev2_fail(e, sa, rx->now, IKEV2_N_AUTHENTICATION_FAILED, true,
			   "the responder did not authenticate: %s", rx->err->msg);
		return 0;
	}
	ike_up(e, sa, rx->now);
	auth_child(e, sa, rx);
	ikev2_sa_request_done(sa);
	return 0;
}

/* ---- responder ---- */

/* The policy for the identity and the child SA asked for replaces the
 * one of IKE_SA_INIT (which knew only the addresses). */
static int policy_for_peer(struct ikev2_engine *e, struct ikev2_sa *sa, const struct ikev2_rx *rx,
			   struct ike_err *err)
{
	struct ike_ts_set ts[2];
	struct ikev2_notify n;
	struct ikev2_lookup q = { rx->local, rx->remote, &sa->peer_id, NULL, NULL,
				  ikev2_rx_notify(rx, IKEV2_N_USE_TRANSPORT_MODE, &n) };
	struct ikev2_peer *p = malloc(sizeof(*p));
	int rc;

	if (ikev2_child_ts_read(rx, &ts[0], &ts[1], NULL) == 0) { /* else the child SA is refused later */
		q.ts_i = &ts[0];
		q.ts_r = &ts[1];
	}
	rc = p ? e->conf.lookup(e->conf.lookup_ctx, &q, p) : -ENOMEM;

	if (rc == 0) {
		ike_auth_wipe(&sa->peer.local_auth);
		ike_auth_wipe(&sa->peer.remote_auth);
		sa->peer = *p;
		ike_auth_wipe(&p->local_auth);
		ike_auth_wipe(&p->remote_auth);
	}
	free(p);
	if (rc == 0 && (sa->peer.local_auth.ops == NULL || sa->peer.remote_auth.ops == NULL))
		rc = -ENOENT;
	return rc ? ike_fail(err, -EACCES, "IKE_AUTH: no policy for this peer's identity") : 0;
}

static int auth_refuse(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx)
{
	char reason[IKE_ERR_MSG_MAX];
	struct ike_err err = { 0 };
	struct ikev2_tx t;

	memcpy(reason, rx->err->msg, sizeof(reason));
	ikev2_tx_begin(e, sa, &t, IKEV2_IKE_AUTH, true, rx->m.hdr.msg_id);
	ikev2_tx_notify(&t, IKEV2_N_AUTHENTICATION_FAILED, 0, NULL, 0, NULL, 0);
	ikev2_send_response(e, sa, &t, &err);
	ikev2_fail(e, sa, rx->now, IKEV2_N_AUTHENTICATION_FAILED, true, "%s", reason);
	return 0;
}

int ikev2_auth_request(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx)
{
	struct ikev2_notify contact;
	struct ikev2_child_nego n;
	uint16_t child_error;
	struct ike_err child_err = { 0 };
	struct ikev2_tx t;
	int rc;

	if (peer_id_read(sa, rx, rx->err) || policy_for_peer(e, sa, rx, rx->err) ||
	    peer_auth_check(sa, rx, rx->err))
		return auth_refuse(e, sa, rx);
	certreq_read(sa, rx); /* which of our certificates the initiator asks for */
	child_error = ikev2_child_choose(e, sa, rx, false, &n, &child_err);
	ikev2_tx_begin(e, sa, &t, IKEV2_IKE_AUTH, true, rx->m.hdr.msg_id);
	rc = id_and_auth_add(sa, &t, rx->err);
	if (rc == 0 && child_error)
		ikev2_tx_notify(&t, child_error, 0, NULL, 0, NULL, 0);
	else if (rc == 0)
		rc = ikev2_child_answer(&n, &t, rx->err);
	if (rc == 0)
		rc = ikev2_seal_response(e, sa, &t, rx->err);
	if (rc) {
		ikev2_fail(e, sa, rx->now, 0, true, "IKE_AUTH not answered: %s", rx->err->msg);
		return rc;
	}
	ike_up(e, sa, rx->now);
	if (ikev2_rx_notify(rx, IKEV2_N_INITIAL_CONTACT, &contact))
		peer_restarted(e, sa, rx->now);
	if (child_error == 0)
		rc = ikev2_child_install(e, sa, &n, IKE_CHUNK(NULL, 0), IKE_CHUNK(sa->ni, sa->ni_len),
					 IKE_CHUNK(sa->nr, sa->nr_len), 0, rx->now, &child_err);
	ikev2_send_cached_response(e, sa); /* the child SA in place first */
	if (child_error || rc)
		ikev2_fail(e, sa, rx->now, child_error, false, "IKE_AUTH: no child SA: %s",
			   child_err.msg);
	return 0;
}
