/* ikev2_child_nego.c - the child SA part that IKE_AUTH and CREATE_CHILD_SA
 * both carry: our offer (SA, TSi, TSr, USE_TRANSPORT_MODE), the responder's
 * choice of method (its preference, ike_proposal.h) and narrowing of the
 * selectors (RFC 7296 §2.9), the initiator's check of the answer, and the
 * keys (§2.17) handed out in a CHILD_UP event. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ike_prf.h"
#include "ikev2_exchange.h"
#include "ikev2_proposal.h"

/* AH covers the outer addresses, which a NAT rewrites, and RFC 3948
 * encapsulates ESP only: once NAT detection found one on the path, AH
 * methods are neither offered nor accepted (RFC 7296 §2.23). */
static bool ah_blocked(const struct ikev2_sa *sa, const struct ike_qm_method *m)
{
	return m->protocol == IKE_PROTO_AH && (sa->local_nat || sa->remote_nat);
}

/* Our methods as offered and accepted: not AH across a NAT; in IKE_AUTH
 * there is no KE, so no DH transform. */
static size_t offered_methods(const struct ikev2_sa *sa, bool pfs, struct ike_qm_method *out)
{
	size_t n = 0;

	for (uint8_t i = 0; i < sa->peer.n_qm; i++) {
		if (ah_blocked(sa, &sa->peer.qm[i]))
			continue;
		out[n] = sa->peer.qm[i];
		if (!pfs)
			out[n].dh_group = 0;
		n++;
	}
	return n;
}

/* TSi is the exchange initiator's side. */
static void ts_add(struct ikev2_tx *t, const struct ike_ts_set *ts_i, const struct ike_ts_set *ts_r)
{
	union ikev2_body b;

	ikev2_ts_from_set(ts_i, &b.ts);
	ikev2_tx_add(t, IKEV2_PL_TSI, &b);
	ikev2_ts_from_set(ts_r, &b.ts);
	ikev2_tx_add(t, IKEV2_PL_TSR, &b);
}

int ikev2_child_offer(struct ikev2_sa *sa, struct ikev2_tx *t, uint32_t spi, bool pfs,
		      struct ike_err *err)
{
	struct ike_qm_method m[IKE_MAX_METHODS];
	union ikev2_body *b = malloc(sizeof(*b));
	size_t n = offered_methods(sa, pfs, m);

	if (n == 0) {
		free(b);
		return ike_fail(err, -EPROTONOSUPPORT, "child SA: every method of the policy is AH, "
				"which cannot cross the NAT on the path to the peer (RFC 3948 carries ESP only)");
	}
	if (b == NULL || ikev2_sa_from_qm(m, n, spi, &b->sa)) {
		free(b);
		return ike_fail(err, -EINVAL, "child SA: our %zu methods do not fit an SA payload", n);
	}
	ikev2_tx_add(t, IKEV2_PL_SA, b);
	free(b);
	ts_add(t, &sa->peer.ts_local, &sa->peer.ts_remote);
	if (sa->peer.transport)
		ikev2_tx_notify(t, IKEV2_N_USE_TRANSPORT_MODE, 0, NULL, 0, NULL, 0);
	return 0;
}

/* The TSi / TSr of a message as selector sets. */
int ikev2_child_ts_read(const struct ikev2_rx *rx, struct ike_ts_set *ts_i, struct ike_ts_set *ts_r,
			struct ike_err *err)
{
	union ikev2_body a, b;

	if (!ikev2_rx_body(rx, IKEV2_PL_TSI, &a) || !ikev2_rx_body(rx, IKEV2_PL_TSR, &b))
		return ike_fail(err, -EBADMSG, "child SA: TSi and TSr are both needed");
	if (ikev2_ts_to_set(&a.ts, ts_i) || ikev2_ts_to_set(&b.ts, ts_r))
		return ike_fail(err, -EBADMSG, "child SA: empty traffic selectors");
	return 0;
}

static uint16_t choose_method(const struct ikev2_sa *sa, const struct ike_sa *pl, bool pfs,
			      struct ikev2_child_nego *out, struct ike_err *err)
{
	struct ike_qm_offer offers[IKE_MAX_PROPOSALS];
	struct ike_qm_method m[IKE_MAX_METHODS];
	size_t n_off = ikev2_qm_offers(pl, offers, IKE_MAX_PROPOSALS);
	size_t n = offered_methods(sa, pfs, m);
	struct ike_choice c;

	if (ike_qm_select(m, n, offers, n_off, &c)) {
		ike_fail(err, -ENOENT, "child SA: none of our %zu methods matches the %zu proposals offered",
			 n, n_off);
		return IKEV2_N_NO_PROPOSAL_CHOSEN;
	}
	out->method = m[c.method];
	out->num = offers[c.offer].num;
	out->spi_out = offers[c.offer].spi;
	return 0;
}

uint16_t ikev2_child_choose(struct ikev2_engine *e, struct ikev2_sa *sa, const struct ikev2_rx *rx,
			    bool pfs, struct ikev2_child_nego *out, struct ike_err *err)
{
	union ikev2_body *b = malloc(sizeof(*b));
	struct ike_ts_set ts_i, ts_r;
	struct ikev2_notify n;
	uint16_t notify = 0;

	*out = (struct ikev2_child_nego){ 0 };
	if (b == NULL || !ikev2_rx_body(rx, IKEV2_PL_SA, b)) {
		free(b);
		ike_fail(err, -EBADMSG, "child SA: no SA payload");
		return IKEV2_N_INVALID_SYNTAX;
	}
	notify = ikev2_child_ts_read(rx, &ts_i, &ts_r, err) ? IKEV2_N_INVALID_SYNTAX
						 : choose_method(sa, &b->sa, pfs, out, err);
	free(b);
	if (notify == 0 && (ike_ts_narrow(&ts_i, &sa->peer.ts_remote, &out->ts_remote) ||
			    ike_ts_narrow(&ts_r, &sa->peer.ts_local, &out->ts_local))) {
		ike_fail(err, -ENOENT, "child SA: the proposed traffic selectors meet none of the policy's");
		notify = IKEV2_N_TS_UNACCEPTABLE;
	}
	if (notify)
		return notify;
	out->spi_in = ikev2_new_child_spi(e);
	out->transport = sa->peer.transport && ikev2_rx_notify(rx, IKEV2_N_USE_TRANSPORT_MODE, &n);
	return 0;
}

int ikev2_child_answer(const struct ikev2_child_nego *n, struct ikev2_tx *t, struct ike_err *err)
{
	union ikev2_body *b = malloc(sizeof(*b));

	if (b == NULL || ikev2_sa_answer_qm(&n->method, n->num, n->spi_in, &b->sa)) {
		free(b);
		return ike_fail(err, -EINVAL, "child SA: the chosen method makes no SA payload");
	}
	ikev2_tx_add(t, IKEV2_PL_SA, b);
	free(b);
	ts_add(t, &n->ts_remote, &n->ts_local);
	if (n->transport)
		ikev2_tx_notify(t, IKEV2_N_USE_TRANSPORT_MODE, 0, NULL, 0, NULL, 0);
	return 0;
}

static int answer_method(const struct ikev2_sa *sa, const struct ike_sa *pl, bool pfs,
			 struct ikev2_child_nego *out, struct ike_err *err)
{
	struct ike_qm_method m[IKE_MAX_METHODS];
	size_t n = offered_methods(sa, pfs, m), chosen;
	struct ike_qm_offer got;

	if (ikev2_qm_answer(pl, m, n, &got, &chosen, err))
		return -EBADMSG;
	out->method = m[chosen];
	out->spi_out = got.spi;
	return 0;
}

int ikev2_child_read_answer(struct ikev2_sa *sa, const struct ikev2_rx *rx, uint32_t spi, bool pfs,
			    struct ikev2_child_nego *out, struct ike_err *err)
{
	union ikev2_body *b = malloc(sizeof(*b));
	struct ikev2_notify n;
	int rc = b && ikev2_rx_body(rx, IKEV2_PL_SA, b) ? 0 : ike_fail(err, -EBADMSG,
									 "child SA: no SA payload in the answer");

	*out = (struct ikev2_child_nego){ .spi_in = spi, .initiator = true };
	if (rc == 0)
		rc = answer_method(sa, &b->sa, pfs, out, err);
	free(b);
	if (rc == 0)
		rc = ikev2_child_ts_read(rx, &out->ts_local, &out->ts_remote, err);
	if (rc == 0 && (!ike_ts_set_within(&out->ts_local, &sa->peer.ts_local) ||
			!ike_ts_set_within(&out->ts_remote, &sa->peer.ts_remote)))
		rc = ike_fail(err, -EBADMSG, "child SA: the answered traffic selectors are not inside ours");
	out->transport = sa->peer.transport && ikev2_rx_notify(rx, IKEV2_N_USE_TRANSPORT_MODE, &n);
	if (rc == 0 && sa->peer.transport && !out->transport) {
		ikev2_sa_task_add_refused(sa, out->method.protocol, out->spi_in);
		rc = ike_fail(err, -EPROTO, "child SA: the responder declined transport mode, which "
			      "the policy requires: deleted (RFC 7296 section 1.3.1)");
	}
	return rc;
}

static int child_event(struct ikev2_engine *e, struct ikev2_sa *sa, const struct ikev2_child_nego *n,
		       const uint8_t *keymat, size_t len, uint32_t rekeys, struct ike_err *err)
{
	struct ikev2_event ev = ikev2_event_for(sa, IKEV2_EV_CHILD_UP);
	struct ike_child tmpl = {
		.protocol = n->method.protocol, .ts_local = n->ts_local, .ts_remote = n->ts_remote,
		.method = n->method, .udp_encap = sa->local_nat || sa->remote_nat,
		.local_port = sa->local.port, .remote_port = sa->remote.port, .rekeys_spi = rekeys,
	};
	struct ike_child_keys_in in = {
		.keymat = keymat, .len = len, .initiator = n->initiator, .spi_in = n->spi_in,
		.spi_out = n->spi_out, .local = &sa->local.addr, .remote = &sa->remote.addr,
		.transport = n->transport,
	};

	memcpy(tmpl.ike_spi_i, sa->id.spi_i, 8);
	memcpy(tmpl.ike_spi_r, sa->id.spi_r, 8);
	ev.child = ike_child_make(&tmpl, &in, err);
	if (ev.child == NULL)
		return err ? err->code : -ENOMEM;
	ikev2_emit(e, &ev);
	return 0;
}

int ikev2_child_install(struct ikev2_engine *e, struct ikev2_sa *sa, const struct ikev2_child_nego *n,
			struct ike_chunk g_ir, struct ike_chunk ni, struct ike_chunk nr,
			uint32_t rekeys, uint64_t now, struct ike_err *err)
{
	uint8_t keymat[2 * (DPSEC_MAX_ENC_KEY + DPSEC_GCM_SALT_LEN + DPSEC_MAX_INTEG_KEY)];
	size_t len = ike_child_keymat_len(&n->method);
	struct ike_child_rec rec = { n->method.protocol, n->spi_in, n->spi_out, n->method,
				       n->transport };
	int rc = ike_child_recs_add(&sa->children, &rec);

	if (rc)
		return ike_fail(err, rc, "IKE SA already holds %d child SAs", IKE_SA_MAX_CHILDREN);
	rc = ikev2_child_keymat(&sa->keys, g_ir, ni, nr, keymat, len, err);
	if (rc == 0)
		rc = child_event(e, sa, n, keymat, len, rekeys, err);
	OPENSSL_cleanse(keymat, sizeof(keymat));
	if (rc) {
		ike_child_recs_remove(&sa->children, ike_child_recs_by_in(&sa->children, n->spi_in));
		return rc;
	}
	ikev2_count(e, IKEV2_STAT_CHILD_ESTABLISHED);
	ikev2_sa_log(sa, e, 5, now, "child SA up: in %08x out %08x%s%s", n->spi_in, n->spi_out,
		     n->transport ? ", transport mode" : "", n->method.dh_group ? ", PFS" : "");
	return 0;
}
