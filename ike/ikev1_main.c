/* ikev1_main.c - Main Mode (RFC 2409 §5), six messages with identity
 * protection, authenticated by a pre-shared key (§5.4) or by RSA
 * signatures with X.509 certificates (§5.1):
 *
 *	1 I->R  SA, VID(RFC 3947), VID(DPD)      the initiator's transforms
 *	2 R->I  SA, VID, VID                     the one chosen
 *	3 I->R  KE, Ni, NAT-D, NAT-D [, CR...]
 *	4 R->I  KE, Nr, NAT-D, NAT-D [, CR...]   both derive SKEYID...
 *	5 I->R  [IDii, HASH_I | CERT..., SIG_I; N(INITIAL-CONTACT)]  encrypted;
 *	        on 4500 after a NAT
 *	6 R->I  [IDir, HASH_R | CERT..., SIG_R]
 *
 * The responder takes the first of the initiator's transforms it accepts
 * (RFC 2409's usual reading: each IKEv1 transform is a whole suite, so the
 * initiator's order is its preference). With a certificate method the
 * CRs name our trusted roots' DNs, SIG is HASH_I/R signed by the key
 * process, and the peer's chain, identity and SIG are checked by the
 * ike_auth ops IKEv2 uses. Aggressive Mode is refused in ikev1_engine.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ike_cert.h"
#include "ike_sig.h"
#include "ike_vendor.h"
#include "ikev1_exchange.h"

#define AUTH_PSK 1          /* RFC 2409 appendix A, Authentication Method */
#define ID_B_MAX (4 + IKE_ID_MAX)

/* ---- Phase 1 transforms <-> methods ---- */

/* Certificate methods both ways (CERTs to send, CRs to ask): RSA signatures. */
static bool sig_auth(const struct ikev2_peer *p)
{
	return p->local_auth.ops != NULL && p->local_auth.ops->certs != NULL &&
	       p->remote_auth.ops != NULL && p->remote_auth.ops->certreq_dns != NULL;
}

bool ikev1_policy_authenticates(const struct ikev2_peer *p)
{
	return sig_auth(p) || (p->local_auth.psk_len && p->remote_auth.psk_len);
}

static uint16_t auth_method(const struct ikev2_peer *p)
{
	return sig_auth(p) ? IKEV1_AUTH_RSA_SIG : AUTH_PSK;
}

/* IKEv1's encryption attribute values and the IKEv2 IDs our methods use;
 * v1_encr() and v2_encr() answer 0 for what Phase 1 does not run. */
static const struct {
	uint16_t v2, v1;
} encrs[] = {
	{ IKE_ENCR_AES_CBC, IKEV1_ENCR_AES_CBC },
	{ IKE_ENCR_3DES, IKEV1_ENCR_3DES_CBC },
	{ IKE_ENCR_DES, IKEV1_ENCR_DES_CBC },
};

static uint16_t v1_encr(uint16_t v2)
{
	for (size_t i = 0; i < sizeof(encrs) / sizeof(encrs[0]); i++)
		if (encrs[i].v2 == v2)
			return encrs[i].v1;
	return 0;
}

static uint16_t v2_encr(uint16_t v1)
{
	for (size_t i = 0; i < sizeof(encrs) / sizeof(encrs[0]); i++)
		if (encrs[i].v1 == v1)
			return encrs[i].v2;
	return 0;
}

static void add_life(struct ike_sa *sa, uint16_t type_attr, uint16_t dur_attr, uint16_t type,
		     uint64_t v, uint8_t be[4])
{
	ike_sa_add_attr_tv(sa, type_attr, type);
	if (v <= 0xffff) {
		ike_sa_add_attr_tv(sa, dur_attr, (uint16_t)v);
		return;
	}
	for (int i = 0; i < 4; i++)
		be[i] = (uint8_t)(v >> (24 - 8 * i));
	ike_sa_add_attr_tlv(sa, dur_attr, be, 4);
}

/* The SA payload body of Main Mode 1: one proposal, a transform per method. */
static int offer_build(const struct ikev1_engine *e, const struct ikev2_peer *peer,
		       const struct ike_mm_method *mm, size_t n, uint8_t **body, size_t *len,
		       struct ike_err *err)
{
	struct ike_sa *sa = calloc(1, sizeof(*sa));
	uint8_t life[4], *shrunk;
	struct ike_wr w;

	if (sa == NULL || (*body = malloc(IKE_MSG_MAX)) == NULL) {
		free(sa);
		return ike_fail(err, -ENOMEM, "Main Mode: no memory for the SA payload");
	}
	sa->doi = ISAKMP_DOI_IPSEC;
	sa->situation = ISAKMP_SIT_IDENTITY_ONLY;
	ike_sa_add_proposal(sa, 1, IKE_PROTO_IKE, NULL, 0);
	for (size_t i = 0; i < n; i++) {
		ike_sa_add_transform(sa, (uint8_t)(i + 1), 1 /* KEY_IKE */);
		ike_sa_add_attr_tv(sa, ISAKMP_IKE_ENCRYPTION_ALGORITHM, v1_encr(mm[i].suite.encr));
		if (mm[i].suite.encr == IKE_ENCR_AES_CBC)
			ike_sa_add_attr_tv(sa, ISAKMP_IKE_KEY_LENGTH, mm[i].suite.encr_bits);
		ike_sa_add_attr_tv(sa, ISAKMP_IKE_HASH_ALGORITHM,
				   ikecr_prf_find(mm[i].suite.prf)->ikev1_hash);
		ike_sa_add_attr_tv(sa, ISAKMP_IKE_AUTHENTICATION_METHOD, auth_method(peer));
		ike_sa_add_attr_tv(sa, ISAKMP_IKE_GROUP_DESCRIPTION, mm[i].dh_group);
		add_life(sa, ISAKMP_IKE_LIFE_TYPE, ISAKMP_IKE_LIFE_DURATION, ISAKMP_LIFE_SECONDS,
			 e->conf.ike_lifetime_s, life);
	}
	ike_wr_init(&w, *body, IKE_MSG_MAX);
	ike_sa_build(IKE_V1, sa, &w);
	*len = w.len;
	free(sa);
	shrunk = realloc(*body, w.len ? w.len : 1); /* kept until Main Mode is done */
	*body = shrunk ? shrunk : *body;
	return ike_wr_done(&w, "Main Mode SA payload", err);
}

/* A transform as a method (single values), or false when it names
 * something dpsec does not run or another authentication method. */
static bool transform_method(const struct ike_sa *sa, const struct ike_transform *t, uint16_t auth,
			     struct ike_mm_method *m, uint64_t *life_s)
{
	struct isakmp_ike_policy p;
	const struct ikecr_prf *prf;
	uint16_t encr;

	if (isakmp_ike_attrs_decode(sa, t, &p, NULL) || p.auth != auth)
		return false;
	prf = ikecr_prf_of_ikev1_hash(p.hash);
	encr = v2_encr(p.enc);
	if (prf == NULL || encr == 0)
		return false;
	*m = (struct ike_mm_method){
		{ encr, encr == IKE_ENCR_AES_CBC ? p.key_len : 0, IKE_INTEG_NONE, prf->prf },
		p.group,
	};
	*life_s = p.life_secs;
	return true;
}

static bool method_eq(const struct ike_mm_method *a, const struct ike_mm_method *b)
{
	struct ike_mm_offer o = { .encr = { 1, false, { a->suite.encr }, { a->suite.encr_bits } },
				  .prf = { 1, false, { a->suite.prf }, { 0 } },
				  .dh = { 1, false, { a->dh_group }, { 0 } } };

	return ike_mm_offer_accepts(&o, b);
}

/* The first of the initiator's transforms one of ours accepts: its index. */
static int choose_transform(const struct ike_sa *sa, uint16_t auth, const struct ike_mm_method *ours,
			    size_t n, struct ike_mm_method *chosen, uint64_t *life_s)
{
	const struct ike_proposal *p = &sa->prop[0];

	for (uint16_t k = 0; k < p->n_tr; k++) {
		struct ike_mm_method m;

		if (!transform_method(sa, &sa->tr[p->tr0 + k], auth, &m, life_s))
			continue;
		for (size_t i = 0; i < n; i++)
			if (method_eq(&m, &ours[i])) {
				*chosen = m;
				return p->tr0 + k;
			}
	}
	return -ENOENT;
}

/* The answer: the chosen transform as the initiator sent it. */
static void answer_build(const struct ike_sa *in, int tr, struct ike_sa *out)
{
	*out = (struct ike_sa){ .doi = in->doi, .situation = in->situation };
	ike_sa_add_proposal(out, in->prop[0].num, IKE_PROTO_IKE, NULL, 0);
	ike_sa_add_transform_copy(out, in, &in->tr[tr]);
}

/* ---- vendor IDs, NAT-D ---- */

static void add_vid(struct ikev1_tx *t, enum ike_vendor_id id)
{
	size_t n;
	const struct ike_vendor *v = ike_vendor_table(&n);

	for (size_t i = 0; i < n; i++)
		if (v[i].id == id)
			ikev1_tx_raw(t, ISAKMP_PL_VENDOR, v[i].bytes, v[i].len);
}

static void read_vids(struct ikev1_sa *sa, const struct ikev1_rx *rx)
{
	const struct isakmp_payload *p;

	for (int i = -1; (p = isakmp_msg_find(&rx->m, ISAKMP_PL_VENDOR, &i)) != NULL;) {
		const struct ike_vendor *v = ike_vendor_lookup(p->body.p, p->body.len);

		sa->peer_natt |= v && v->id == IKE_VID_NATT_RFC3947;
		sa->peer_dpd |= v && v->id == IKE_VID_DPD;
	}
}

/* hash(CKY-I | CKY-R | IP | port) with the negotiated hash (RFC 3947 §3.2). */
static int nat_d(const struct ikev1_sa *sa, const struct ike_endpoint *ep, uint8_t *out,
		 struct ike_err *err)
{
	uint8_t port[2] = { (uint8_t)(ep->port >> 8), (uint8_t)ep->port };
	struct ike_chunk in[] = { IKE_CHUNK(sa->id.spi_i, 8), IKE_CHUNK(sa->id.spi_r, 8),
				  IKE_CHUNK(ep->addr.a, ep->addr.family == DPSEC_AF_INET ? 4 : 16),
				  IKE_CHUNK(port, 2) };

	return ikecr_hash(ikecr_prf_find(sa->keys.prf)->md, in, IKE_NCHUNKS(in), out, err);
}

/* NAT-D of the peer (as we see it), then ours. */
static int add_nat_d(struct ikev1_tx *t, const struct ikev1_sa *sa, struct ike_err *err)
{
	uint8_t h[2][IKE_PRF_MAX];
	int rc = nat_d(sa, &sa->remote, h[0], err);

	if (rc == 0)
		rc = nat_d(sa, &sa->local, h[1], err);
	if (rc == 0) {
		ikev1_tx_raw(t, ISAKMP_PL_NAT_D, h[0], sa->keys.prf_len);
		ikev1_tx_raw(t, ISAKMP_PL_NAT_D, h[1], sa->keys.prf_len);
	}
	return rc;
}

/* The first NAT-D names us as the peer saw us; the others the peer. */
static int detect_nat(struct ikev1_engine *e, struct ikev1_sa *sa, const struct ikev1_rx *rx)
{
	uint8_t ours[IKE_PRF_MAX], theirs[IKE_PRF_MAX];
	union isakmp_body b;
	bool peer_seen = false;
	int rc;

	if (!sa->peer_natt || !ikev1_rx_body(rx, ISAKMP_PL_NAT_D, &b))
		return 0;
	rc = nat_d(sa, rx->local, ours, rx->err);
	if (rc == 0)
		rc = nat_d(sa, rx->remote, theirs, rx->err);
	if (rc)
		return rc;
	sa->local_nat = b.nat_d.len != sa->keys.prf_len || memcmp(b.nat_d.p, ours, b.nat_d.len);
	for (int i = 1; ikev1_rx_body_nth(rx, ISAKMP_PL_NAT_D, i, &b); i++)
		peer_seen |= b.nat_d.len == sa->keys.prf_len && !memcmp(b.nat_d.p, theirs, b.nat_d.len);
	sa->remote_nat = !peer_seen;
	if (sa->local_nat || sa->remote_nat)
		ikev1_sa_log(sa, e, 5, rx->now, "NAT detected:%s%s", sa->local_nat ? " we are behind it" : "",
			     sa->remote_nat ? " the peer is behind it" : "");
	return 0;
}

static void nat_event(struct ikev1_engine *e, struct ikev1_sa *sa)
{
	struct ikev2_event ev = ikev1_event_for(sa, IKEV2_EV_NAT);

	ev.nat.local_behind_nat = sa->local_nat;
	ev.nat.remote_behind_nat = sa->remote_nat;
	ikev1_emit(e, &ev);
}

/* ---- keys ---- */

/* SKEYID (PSK or signatures), SKEYID_d/a/e, the cipher key and the Phase 1 IV. */
static int derive(struct ikev1_sa *sa, struct ike_chunk peer_ke, struct ike_err *err)
{
	uint8_t g_xy[IKE_DH_SECRET_MAX];
	size_t len;
	const struct ike_auth_conf *a = &sa->peer.local_auth;
	int rc = ike_dh_derive(sa->dh, peer_ke.p, peer_ke.len, g_xy, sizeof(g_xy), &len, err);

	if (rc == 0 && sig_auth(&sa->peer))
		rc = ikev1_skeyid_sig(&sa->keys, IKE_CHUNK(sa->ni, sa->ni_len),
				      IKE_CHUNK(sa->nr, sa->nr_len), IKE_CHUNK(g_xy, len), err);
	else if (rc == 0)
		rc = ikev1_skeyid_psk(&sa->keys, IKE_CHUNK(a->psk, a->psk_len),
				      IKE_CHUNK(sa->ni, sa->ni_len), IKE_CHUNK(sa->nr, sa->nr_len), err);
	if (rc == 0)
		rc = ikev1_keys_derive(&sa->keys, IKE_CHUNK(g_xy, len), sa->id.spi_i, sa->id.spi_r, err);
	if (rc == 0)
		rc = ikev1_phase1_iv(&sa->keys, IKE_CHUNK(sa->g_xi, sa->g_len),
				     IKE_CHUNK(sa->g_xr, sa->g_len), &sa->p1_iv, err);
	OPENSSL_cleanse(g_xy, sizeof(g_xy));
	return rc;
}

static int keys_init(struct ikev1_sa *sa, struct ike_err *err)
{
	const struct ike_suite *s = &sa->mm.suite;

	return ikev1_keys_init(&sa->keys, ikecr_prf_find(s->prf)->ikev1_hash, v1_encr(s->encr),
			       s->encr_bits, err);
}

/* Our key pair and nonce; the public value into g_xi or g_xr. */
static int make_ke_nonce(struct ikev1_engine *e, struct ikev1_sa *sa, struct ike_err *err)
{
	uint8_t *g = sa->initiator ? sa->g_xi : sa->g_xr;
	uint8_t *n = sa->initiator ? sa->ni : sa->nr;
	const uint8_t *pub;
	size_t len;
	int rc = ikev1_dh_new(e, sa->mm.dh_group, &sa->dh, err);

	if (rc == 0)
		rc = ikev1_random(n, IKEV1_NONCE_LEN, err);
	if (rc)
		return rc;
	*(sa->initiator ? &sa->ni_len : &sa->nr_len) = IKEV1_NONCE_LEN;
	pub = ike_dh_public(sa->dh, &len);
	memcpy(g, pub, len);
	sa->g_len = (uint16_t)len;
	return 0;
}

/* The DNs of the peer's X.509 CRs (others are of no use to us), as many
 * as fit: they choose which of our certificates to send. */
static void take_certreqs(struct ikev1_sa *sa, const struct ikev1_rx *rx)
{
	union isakmp_body cr;

	sa->peer_cr_len = 0;
	for (int i = 0; ikev1_rx_body_nth(rx, ISAKMP_PL_CR, i, &cr); i++)
		if (cr.cert.encoding == ISAKMP_CERT_X509_SIG &&
		    cr.cert.data.len <= sizeof(sa->peer_cr) - sa->peer_cr_len) {
			memcpy(sa->peer_cr + sa->peer_cr_len, cr.cert.data.p, cr.cert.data.len);
			sa->peer_cr_len = (uint16_t)(sa->peer_cr_len + cr.cert.data.len);
		}
}

/* A CR naming each of our trusted roots, in order (RFC 2408 §3.10). */
static void add_certreqs(struct ikev1_tx *t, const struct ikev2_peer *peer)
{
	struct ike_chunk dn[IKE_CERT_ROOTS_MAX];
	int n = peer->remote_auth.ops->certreq_dns(&peer->remote_auth, dn, IKE_CERT_ROOTS_MAX);
	union isakmp_body cr;

	for (int i = 0; i < n; i++) {
		cr.cert = (struct isakmp_cert){ ISAKMP_CERT_X509_SIG, { dn[i].p, (uint16_t)dn[i].len } };
		ikev1_tx_add(t, ISAKMP_PL_CR, &cr);
	}
}

/* The peer's KE and nonce from message 3 or 4. */
static int take_ke_nonce(struct ikev1_sa *sa, const struct ikev1_rx *rx, struct ike_err *err)
{
	union isakmp_body ke, nonce;

	if (!ikev1_rx_body(rx, ISAKMP_PL_KE, &ke) || !ikev1_rx_body(rx, ISAKMP_PL_NONCE, &nonce))
		return ike_fail(err, -EBADMSG, "Main Mode: KE or nonce missing");
	if (ke.ke.len != ike_dh_public_len(sa->mm.dh_group))
		return ike_fail(err, -EBADMSG, "Main Mode: KE of %u bytes, group %u needs %zu",
				ke.ke.len, sa->mm.dh_group, ike_dh_public_len(sa->mm.dh_group));
	if (sig_auth(&sa->peer))
		take_certreqs(sa, rx);
	memcpy(sa->initiator ? sa->g_xr : sa->g_xi, ke.ke.p, ke.ke.len);
	memcpy(sa->initiator ? sa->nr : sa->ni, nonce.nonce.p, nonce.nonce.len);
	*(sa->initiator ? &sa->nr_len : &sa->ni_len) = nonce.nonce.len;
	return 0;
}

/* Message 3 or 4: our KE and nonce, and NAT-D when the peer does NAT-T;
 * the initiator waits for the answer, the responder replays on repeats. */
static int send_ke_nonce(struct ikev1_engine *e, struct ikev1_sa *sa, uint64_t now,
			 struct ike_err *err)
{
	struct ikev1_tx t;
	uint8_t *data;
	size_t len;
	int rc;

	ikev1_tx_begin(e, sa, &t, ISAKMP_MAIN_MODE, 0, false);
	ikev1_tx_raw(&t, ISAKMP_PL_KE, sa->initiator ? sa->g_xi : sa->g_xr, sa->g_len);
	if (sa->initiator)
		ikev1_tx_raw(&t, ISAKMP_PL_NONCE, sa->ni, sa->ni_len);
	else
		ikev1_tx_raw(&t, ISAKMP_PL_NONCE, sa->nr, sa->nr_len);
	rc = sa->peer_natt ? add_nat_d(&t, sa, err) : 0;
	if (sig_auth(&sa->peer))
		add_certreqs(&t, &sa->peer);
	if (rc == 0)
		rc = ikev1_tx_finish(e, sa, &t, NULL, &data, &len, err);
	return rc ? rc : ikev1_send_msg(e, sa, &sa->mm_msgs, data, len, sa->initiator, now);
}

/* ---- identities and HASH_I / HASH_R ---- */

static size_t id_body(const struct ike_id *id, uint8_t *out)
{
	out[0] = id->type;
	out[1] = out[2] = out[3] = 0; /* protocol and port: any (RFC 2407 §4.6.2) */
	memcpy(out + 4, id->data, id->len);
	return 4 + (size_t)id->len;
}

static int auth_hash(const struct ikev1_sa *sa, bool of_initiator, const uint8_t *id_b,
		     size_t id_len, uint8_t *out, struct ike_err *err)
{
	struct ikev1_auth_in in = { IKE_CHUNK(sa->g_xi, sa->g_len), IKE_CHUNK(sa->g_xr, sa->g_len),
				    sa->id.spi_i, sa->id.spi_r, IKE_CHUNK(sa->sai_b, sa->sai_len),
				    IKE_CHUNK(id_b, id_len) };

	return of_initiator ? ikev1_hash_i(&sa->keys, &in, out, err)
			    : ikev1_hash_r(&sa->keys, &in, out, err);
}

/* Our CERT payloads (the certificate the peer's CRs choose, then its
 * intermediates) and SIG, HASH_I/R signed by the key process. */
static int add_cert_sig(struct ikev1_tx *t, const struct ikev1_sa *sa, const uint8_t *hash,
			struct ike_err *err)
{
	const struct ike_auth_conf *a = &sa->peer.local_auth;
	struct ike_auth_octets o = { .prf = sa->mm.suite.prf,
				     .piece = { IKE_CHUNK(hash, sa->keys.prf_len) },
				     .certreq = IKE_CHUNK(sa->peer_cr, sa->peer_cr_len),
				     .ikev1 = true };
	struct ike_chunk certs[IKE_AUTH_CERTS_MAX];
	uint8_t sig[IKE_AUTH_DATA_MAX], method;
	union isakmp_body cert;
	size_t len;
	int n = a->ops->certs(a, &o, certs, IKE_AUTH_CERTS_MAX, err);

	if (n < 0 || a->ops->make(a, &o, &method, sig, sizeof(sig), &len, err))
		return err->code;
	for (int i = 0; i < n; i++) {
		if (certs[i].len > UINT16_MAX)
			return ike_fail(err, -E2BIG, "our certificate of %zu bytes does not fit a CERT payload",
					certs[i].len);
		cert.cert = (struct isakmp_cert){ ISAKMP_CERT_X509_SIG, { certs[i].p, (uint16_t)certs[i].len } };
		ikev1_tx_add(t, ISAKMP_PL_CERT, &cert);
	}
	ikev1_tx_raw(t, ISAKMP_PL_SIG, sig, len);
	return 0;
}

/* Message 5 or 6: [ID, HASH or CERT... SIG (, INITIAL-CONTACT)], encrypted. */
static int send_auth(struct ikev1_engine *e, struct ikev1_sa *sa, uint64_t now, struct ike_err *err)
{
	uint8_t id_b[ID_B_MAX], hash[IKE_PRF_MAX], cookies[16], *data;
	size_t id_len = id_body(&sa->peer.local_id, id_b), len;
	struct ikev1_tx t;
	int rc = auth_hash(sa, sa->initiator, id_b, id_len, hash, err);

	if (rc)
		return rc;
	ikev1_tx_begin(e, sa, &t, ISAKMP_MAIN_MODE, 0, true);
	ikev1_tx_raw(&t, ISAKMP_PL_ID, id_b, id_len);
	if (sig_auth(&sa->peer))
		rc = add_cert_sig(&t, sa, hash, err);
	else
		ikev1_tx_raw(&t, ISAKMP_PL_HASH, hash, sa->keys.prf_len);
	OPENSSL_cleanse(hash, sizeof(hash));
	if (rc)
		return rc;
	if (sa->initiator && !ikev1_peer_has_sa(e, sa)) {
		memcpy(cookies, sa->id.spi_i, 8);
		memcpy(cookies + 8, sa->id.spi_r, 8);
		ikev1_tx_notify(&t, IKE_PROTO_IKE, ISAKMP_N_INITIAL_CONTACT, cookies, 16, NULL, 0);
	}
	rc = ikev1_tx_finish(e, sa, &t, &sa->p1_iv, &data, &len, err);
	if (rc == 0)
		rc = ikev1_send_msg(e, sa, &sa->mm_msgs, data, len, sa->initiator, now);
	return rc;
}

/* The peer's HASH against want, HASH_I/R as we compute it. 0 or the notify. */
static uint16_t check_hash(const struct ikev1_sa *sa, const struct ikev1_rx *rx, const uint8_t *want)
{
	union isakmp_body h;

	if (!ikev1_rx_body(rx, ISAKMP_PL_HASH, &h)) {
		ike_fail(rx->err, -EBADMSG, "Main Mode: HASH missing");
		return ISAKMP_N_PAYLOAD_MALFORMED;
	}
	if (h.hash.len != sa->keys.prf_len || CRYPTO_memcmp(want, h.hash.p, h.hash.len)) {
		ike_fail(rx->err, -EKEYREJECTED, "Main Mode: HASH_%c does not verify (wrong pre-shared key?)",
			 sa->initiator ? 'R' : 'I');
		return ISAKMP_N_AUTHENTICATION_FAILED;
	}
	return 0;
}

/* The peer's X.509 CERTs (end entity first) and SIG over want: its chain to
 * our roots, its ID in the certificate, the signature. 0 or the notify. */
static uint16_t check_cert_sig(const struct ikev1_sa *sa, const struct ikev1_rx *rx,
			       const uint8_t *want)
{
	const struct ike_auth_conf *a = &sa->peer.remote_auth;
	struct ike_auth_octets o = { .prf = sa->mm.suite.prf,
				     .piece = { IKE_CHUNK(want, sa->keys.prf_len) },
				     .id = &sa->peer_id,
				     .ikev1 = true };
	union isakmp_body b, sig;
	int rc;

	if (!ikev1_rx_body(rx, ISAKMP_PL_SIG, &sig)) {
		ike_fail(rx->err, -EBADMSG, "Main Mode: SIG missing");
		return ISAKMP_N_PAYLOAD_MALFORMED;
	}
	for (int i = 0; o.n_certs < IKE_AUTH_CERTS_MAX && ikev1_rx_body_nth(rx, ISAKMP_PL_CERT, i, &b); i++)
		if (b.cert.encoding == ISAKMP_CERT_X509_SIG)
			o.certs[o.n_certs++] = IKE_CHUNK(b.cert.data.p, b.cert.data.len);
	rc = a->ops->check(a, &o, IKEV1_AUTH_RSA_SIG, sig.sig.p, sig.sig.len, rx->err);
	if (rc == -EKEYREJECTED)
		return ISAKMP_N_INVALID_SIGNATURE;
	return rc ? ISAKMP_N_AUTHENTICATION_FAILED : 0;
}

/* The peer's ID and HASH or CERT/SIG from message 5 or 6. 0, or the
 * notify to fail with. */
static uint16_t check_auth(struct ikev1_sa *sa, const struct ikev1_rx *rx)
{
	const struct isakmp_payload *idp;
	uint8_t want[IKE_PRF_MAX];
	int i = -1;
	uint16_t bad;

	idp = isakmp_msg_find(&rx->m, ISAKMP_PL_ID, &i);
	if (idp == NULL || idp->body.len < 4 || idp->body.len - 4 > IKE_ID_MAX) {
		ike_fail(rx->err, -EBADMSG, "Main Mode: ID missing or malformed");
		return ISAKMP_N_PAYLOAD_MALFORMED;
	}
	sa->peer_id.type = idp->body.p[0];
	sa->peer_id.len = (uint16_t)(idp->body.len - 4);
	memcpy(sa->peer_id.data, idp->body.p + 4, sa->peer_id.len);
	if (auth_hash(sa, !sa->initiator, idp->body.p, idp->body.len, want, rx->err))
		return ISAKMP_N_AUTHENTICATION_FAILED;
	bad = sig_auth(&sa->peer) ? check_cert_sig(sa, rx, want) : check_hash(sa, rx, want);
	if (bad == 0 && !ike_id_matches(&sa->peer.remote_id, &sa->peer_id)) {
		ike_fail(rx->err, -EACCES, "Main Mode: the peer's identity is not the policy's");
		bad = ISAKMP_N_INVALID_ID_INFORMATION;
	}
	OPENSSL_cleanse(want, sizeof(want));
	return bad;
}

/* ---- the messages ---- */

int ikev1_main_start(struct ikev1_engine *e, struct ikev1_sa *sa, uint64_t now, struct ike_err *err)
{
	struct ike_mm_method mm[IKE_MAX_METHODS];
	size_t n = ikev1_mm_methods(e, &sa->peer, mm), len;
	struct ikev1_tx t;
	uint8_t *data;
	int rc = offer_build(e, &sa->peer, mm, n, &sa->sai_b, &sa->sai_len, err);

	if (rc)
		return rc;
	ikev1_tx_begin(e, sa, &t, ISAKMP_MAIN_MODE, 0, false);
	ikev1_tx_raw(&t, ISAKMP_PL_SA, sa->sai_b, sa->sai_len);
	add_vid(&t, IKE_VID_NATT_RFC3947);
	add_vid(&t, IKE_VID_DPD);
	rc = ikev1_tx_finish(e, sa, &t, NULL, &data, &len, err);
	if (rc)
		return rc;
	ikev1_set_state(sa, IKEV1_S_MM1_SENT, now, e);
	sa->expire_ms = now + e->conf.half_open_timeout_ms;
	return ikev1_send_msg(e, sa, &sa->mm_msgs, data, len, true, now);
}

static int lookup(struct ikev1_engine *e, const struct ikev1_rx *rx, const struct ike_id *id,
		  struct ikev2_peer *out)
{
	struct ikev2_lookup q = { rx->local, rx->remote, id };

	return e->conf.lookup(e->conf.lookup_ctx, &q, out);
}

static int no_proposal(struct ikev1_engine *e, struct ikev1_rx *rx, const char *why)
{
	ikev1_info_send_clear_notify(e, rx, ISAKMP_N_NO_PROPOSAL_CHOSEN);
	return ikev1_drop(e, NULL, IKEV1_STAT_NEGOTIATION_FAILURES, rx->now, rx->err, -ENOENT,
			  "Main Mode 1: %s: NO-PROPOSAL-CHOSEN", why);
}

/* SAi_b, the initiator's SA payload body, which HASH_I and HASH_R cover. */
static int keep_sai_b(struct ikev1_sa *sa, const struct ikev1_rx *rx)
{
	int i = -1;
	const struct isakmp_payload *p = isakmp_msg_find(&rx->m, ISAKMP_PL_SA, &i);

	sa->sai_b = p ? malloc(p->body.len) : NULL;
	if (sa->sai_b == NULL)
		return ike_fail(rx->err, -ENOMEM, "Main Mode 1: no memory");
	memcpy(sa->sai_b, p->body.p, p->body.len);
	sa->sai_len = p->body.len;
	return 0;
}

/* The responder's SA for an accepted first message, with message 2 sent. */
static int answer_first(struct ikev1_engine *e, struct ikev1_rx *rx, const struct ike_sa *in,
			int tr, const struct ike_mm_method *chosen, uint64_t life,
			const struct ikev2_peer *peer)
{
	struct ikev1_sa *sa = ikev1_sa_new(false);
	union isakmp_body *b = malloc(sizeof(*b));
	struct ikev1_tx t;
	uint8_t *data;
	size_t len;
	int rc = sa && b && ikev1_sa_insert(e, sa) == 0 ? 0 : -ENOMEM;

	if (rc) {
		ikev1_sa_free(sa);
		free(b);
		return ike_fail(rx->err, rc, "Main Mode 1: no memory for an ISAKMP SA");
	}
	memcpy(sa->id.spi_i, rx->m.hdr.icookie, 8);
	sa->peer = *peer;
	sa->local = *rx->local;
	sa->remote = *rx->remote;
	sa->mm = *chosen;
	sa->lifetime_s = life && life < e->conf.ike_lifetime_s ? (uint32_t)life : e->conf.ike_lifetime_s;
	read_vids(sa, rx);
	rc = keys_init(sa, rx->err);
	if (rc == 0)
		rc = ikev1_msgs_received(&sa->mm_msgs, rx->raw, rx->len);
	if (rc == 0)
		rc = keep_sai_b(sa, rx);
	if (rc == 0) {
		answer_build(in, tr, &b->sa);
		ikev1_tx_begin(e, sa, &t, ISAKMP_MAIN_MODE, 0, false);
		ikev1_tx_add(&t, ISAKMP_PL_SA, b);
		if (sa->peer_natt)
			add_vid(&t, IKE_VID_NATT_RFC3947);
		add_vid(&t, IKE_VID_DPD);
		rc = ikev1_tx_finish(e, sa, &t, NULL, &data, &len, rx->err);
	}
	free(b);
	if (rc) {
		ikev1_set_state(sa, IKEV1_S_CLOSED, rx->now, e);
		return rc;
	}
	ikev1_set_state(sa, IKEV1_S_MM2_SENT, rx->now, e);
	sa->expire_ms = rx->now + e->conf.half_open_timeout_ms;
	return ikev1_send_msg(e, sa, &sa->mm_msgs, data, len, false, rx->now);
}

int ikev1_main_first(struct ikev1_engine *e, struct ikev1_rx *rx)
{
	struct ikev2_peer *peer = calloc(1, sizeof(*peer));
	struct ike_mm_method ours[IKE_MAX_METHODS], chosen;
	union isakmp_body *b = malloc(sizeof(*b));
	uint64_t life = 0;
	size_t n;
	int tr, rc;

	if (peer == NULL || b == NULL)
		rc = ike_fail(rx->err, -ENOMEM, "Main Mode 1: no memory");
	else if (!ikev1_rx_body(rx, ISAKMP_PL_SA, b) || b->sa.n_prop != 1 ||
		 b->sa.prop[0].protocol != IKE_PROTO_IKE)
		rc = ikev1_drop(e, NULL, IKEV1_STAT_INVALID_PACKETS, rx->now, rx->err, -EBADMSG,
				"Main Mode 1: not one ISAKMP proposal");
	else if (lookup(e, rx, NULL, peer))
		rc = no_proposal(e, rx, "no policy for this peer");
	else if ((n = ikev1_mm_methods(e, peer, ours)) == 0 ||
		 !ikev1_policy_authenticates(peer))
		rc = no_proposal(e, rx, "the policy has no IKEv1 pre-shared key or certificate method");
	else if ((tr = choose_transform(&b->sa, auth_method(peer), ours, n, &chosen, &life)) < 0)
		rc = no_proposal(e, rx, "no transform accepted");
	else
		rc = answer_first(e, rx, &b->sa, tr, &chosen, life, peer);
	if (peer) {
		ike_auth_wipe(&peer->local_auth);
		ike_auth_wipe(&peer->remote_auth);
	}
	free(peer);
	free(b);
	return rc;
}

/* Initiator: message 2 chose one of our transforms; message 3 goes out. */
static int on_mm2(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_rx *rx)
{
	struct ike_mm_method ours[IKE_MAX_METHODS], m;
	union isakmp_body *b = malloc(sizeof(*b));
	size_t n = ikev1_mm_methods(e, &sa->peer, ours);
	uint64_t life = 0;
	int rc = b && ikev1_rx_body(rx, ISAKMP_PL_SA, b) && b->sa.n_prop == 1 && b->sa.n_tr == 1 ? 0 : -EBADMSG;

	if (rc == 0 && choose_transform(&b->sa, auth_method(&sa->peer), ours, n, &m, &life) < 0)
		rc = -EBADMSG;
	free(b);
	if (rc || ikev1_msgs_received(&sa->mm_msgs, rx->raw, rx->len))
		return ikev1_drop(e, sa, IKEV1_STAT_INVALID_PACKETS, rx->now, rx->err, -EBADMSG,
				  "Main Mode 2: not one transform of those offered");
	if (!memcmp(rx->m.hdr.rcookie, (const uint8_t[8]){ 0 }, 8))
		return ikev1_drop(e, sa, IKEV1_STAT_INVALID_COOKIES, rx->now, rx->err, -EBADMSG,
				  "Main Mode 2 without a responder cookie");
	memcpy(sa->id.spi_r, rx->m.hdr.rcookie, 8);
	sa->mm = m;
	sa->lifetime_s = life ? (uint32_t)life : e->conf.ike_lifetime_s;
	read_vids(sa, rx);
	rc = keys_init(sa, rx->err);
	if (rc == 0)
		rc = make_ke_nonce(e, sa, rx->err);
	if (rc == 0)
		rc = send_ke_nonce(e, sa, rx->now, rx->err);
	if (rc) {
		ikev1_fail(e, sa, rx->now, 0, true, "Main Mode 3: %s", rx->err->msg);
		return rc;
	}
	ikev1_set_state(sa, IKEV1_S_MM3_SENT, rx->now, e);
	return 0;
}

/* Message 3 (responder) or 4 (initiator): the peer's KE and nonce, the
 * keys, NAT detection; then our message 4, or message 5 (on port 4500
 * once a NAT is found). */
static int on_ke(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_rx *rx)
{
	int msg = sa->initiator ? 4 : 3;
	int rc = take_ke_nonce(sa, rx, rx->err);

	if (rc)
		return ikev1_drop(e, sa, IKEV1_STAT_INVALID_PACKETS, rx->now, rx->err, rc, "Main Mode %d: %s",
				  msg, rx->err->msg);
	rc = ikev1_msgs_received(&sa->mm_msgs, rx->raw, rx->len);
	if (rc == 0 && !sa->initiator)
		rc = make_ke_nonce(e, sa, rx->err);
	if (rc == 0)
		rc = derive(sa, IKE_CHUNK(sa->initiator ? sa->g_xr : sa->g_xi, sa->g_len), rx->err);
	if (rc == 0)
		rc = detect_nat(e, sa, rx);
	if (rc == 0 && sa->initiator && sa->peer_natt) {
		nat_event(e, sa);
		if (sa->local_nat || sa->remote_nat)
			sa->local.port = sa->remote.port = IKEV1_NATT_PORT;
	}
	if (rc == 0)
		rc = sa->initiator ? send_auth(e, sa, rx->now, rx->err) : send_ke_nonce(e, sa, rx->now, rx->err);
	if (rc) {
		ikev1_fail(e, sa, rx->now, ISAKMP_N_INVALID_KEY_INFORMATION, true, "Main Mode %d: %s",
			   msg + 1, rx->err->msg);
		return rc;
	}
	ikev1_set_state(sa, sa->initiator ? IKEV1_S_MM5_SENT : IKEV1_S_MM4_SENT, rx->now, e);
	return 0;
}

static void established(struct ikev1_engine *e, struct ikev1_sa *sa, uint64_t now)
{
	struct ikev2_event ev = ikev1_event_for(sa, IKEV2_EV_IKE_UP);
	char id[96];

	ikev1_set_state(sa, IKEV1_S_ESTABLISHED, now, e);
	ikev1_sa_mm_material_free(sa);
	sa->expire_ms = now + (uint64_t)sa->lifetime_s * 1000;
	ev.up.peer_id = sa->peer_id;
	ev.up.mm = sa->mm;
	ev.up.initiator = sa->initiator;
	ev.up.lifetime_s = sa->lifetime_s;
	ikev1_emit(e, &ev);
	ikev1_count(e, IKEV1_STAT_IKE_ESTABLISHED);
	ike_id_describe(&sa->peer_id, id, sizeof(id));
	ikev1_sa_log(sa, e, 5, now, "main mode up with %s, lifetime %u s", id, sa->lifetime_s);
	ikev1_adopt(e, sa, now);
}

/* The peer restarted (RFC 2407 §4.6.3.3): its older SAs with us are gone. */
static void initial_contact(struct ikev1_engine *e, struct ikev1_sa *sa, uint64_t now)
{
	ikev1_sa_log(sa, e, 5, now, "INITIAL-CONTACT: older SAs with this peer go");
	for (size_t i = 0; i < e->n_sas; i++) {
		struct ikev1_sa *old = e->sas[i];

		if (old != sa && old->state == IKEV1_S_ESTABLISHED &&
		    memcmp(&old->remote.addr, &sa->remote.addr, sizeof(old->remote.addr)) == 0)
			ikev1_sa_down(e, old, now, "replaced: INITIAL-CONTACT from the peer");
	}
}

/* Main Mode 5 or 6 that does not open or verify: the keys differ (most
 * likely the pre-shared key) or the identity is not the policy's. */
static int auth_failed(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_rx *rx,
		       uint16_t notify)
{
	char text[IKE_ERR_MSG_MAX];

	snprintf(text, sizeof(text), "%s", rx->err->msg);
	if (!sa->initiator)
		ikev1_info_send_clear_notify(e, rx, notify);
	ikev1_fail(e, sa, rx->now, notify, true, "Main Mode %d: %s", sa->initiator ? 6 : 5, text);
	return ike_fail(rx->err, -EKEYREJECTED, "%s", text);
}

/* Message 5 (responder) or 6 (initiator). */
static int on_auth(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_rx *rx)
{
	uint16_t bad;
	int rc = ikev1_rx_open(e, sa, rx, &sa->p1_iv);

	if (rc) /* garbage after decryption: the keys differ */
		return auth_failed(e, sa, rx, ISAKMP_N_AUTHENTICATION_FAILED);
	bad = check_auth(sa, rx);
	if (bad)
		return auth_failed(e, sa, rx, bad);
	sa->p1_iv = rx->next_iv;
	ikev1_follow_peer(e, sa, rx); /* authenticated */
	if (ikev1_msgs_received(&sa->mm_msgs, rx->raw, rx->len))
		return ike_fail(rx->err, -ENOMEM, "Main Mode: no memory");
	if (!sa->initiator) {
		struct isakmp_notify n;

		if (ikev1_rx_notify_in(rx, ISAKMP_N_INITIAL_CONTACT, ISAKMP_N_INITIAL_CONTACT, &n))
			initial_contact(e, sa, rx->now);
		rc = send_auth(e, sa, rx->now, rx->err);
		if (rc)
			return rc;
	}
	established(e, sa, rx->now);
	if (sa->initiator && sa->start_qm)
		return ikev1_quick_start(e, sa, 0, rx->now, rx->err);
	return 0;
}

int ikev1_main_input(struct ikev1_engine *e, struct ikev1_sa *sa, struct ikev1_rx *rx)
{
	bool enc = rx->m.hdr.flags & ISAKMP_FLAG_E;

	if (ikev1_msgs_is_repeat(&sa->mm_msgs, rx->raw, rx->len)) {
		ikev1_count(e, IKEV1_STAT_REPLAYED_RESPONSES);
		ikev1_sa_log(sa, e, 6, rx->now, "Main Mode message again: our last one replayed");
		ikev1_send(e, sa, sa->mm_msgs.out, sa->mm_msgs.out_len);
		return 0;
	}
	if (sa->state == IKEV1_S_MM1_SENT && !enc && rx->m.hdr.exchange == ISAKMP_MAIN_MODE)
		return on_mm2(e, sa, rx);
	if ((sa->state == IKEV1_S_MM2_SENT || sa->state == IKEV1_S_MM3_SENT) && !enc)
		return on_ke(e, sa, rx);
	if ((sa->state == IKEV1_S_MM4_SENT || sa->state == IKEV1_S_MM5_SENT) && enc)
		return on_auth(e, sa, rx);
	return ikev1_drop(e, sa, IKEV1_STAT_UNEXPECTED_EXCHANGE, rx->now, rx->err, -EPROTO,
			  "Main Mode message%s in state %s", enc ? " (encrypted)" : "",
			  ikev1_state_name(sa->state));
}
