/* ikev2_child.c - the CREATE_CHILD_SA exchange (RFC 7296 §1.3): a new child
 * SA, with a KE when its method asks for PFS; a child SA rekey (REKEY_SA
 * names the SA replaced; the rekey's initiator then deletes the old one,
 * make-before-break); the IKE SA rekey's request and answer handed to
 * ikev2_ike_rekey.c. A KE for another group than the chosen one is
 * answered INVALID_KE_PAYLOAD; one answered so is sent again, once, with
 * the group asked for if we offered it (§1.3). Both peers rekeying one
 * child SA at once (§2.8.1): both exchanges complete, and the child SA of
 * the one holding the lowest of the four nonces is deleted by that
 * exchange's initiator; a rekey of a child SA already replaced is
 * answered TEMPORARY_FAILURE (§2.25), as is any CREATE_CHILD_SA on an IKE
 * SA already replaced or being deleted (§2.8.2). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ike_prf.h"
#include "ikev2_exchange.h"
#include "ikev2_proposal.h"

/* Nonce and, for a group, a fresh key pair and its KE payload. */
int ikev2_nonce_and_ke(struct ikev2_engine *e, struct ikev2_tx *t, uint8_t *nonce, uint16_t group,
		       struct ike_dh **dh, struct ike_err *err)
{
	union ikev2_body b;
	size_t pub_len;

	if (ikev2_random(nonce, IKEV2_NONCE_LEN, err))
		return -EIO;
	b.nonce = (struct ike_blob){ nonce, IKEV2_NONCE_LEN };
	ikev2_tx_add(t, IKEV2_PL_NONCE, &b);
	if (group == 0)
		return 0;
	if (ikev2_dh_new(e, group, dh, err))
		return err->code;
	b.ke.group = group;
	b.ke.data.p = ike_dh_public(*dh, &pub_len);
	b.ke.data.len = (uint16_t)pub_len;
	ikev2_tx_add(t, IKEV2_PL_KE, &b);
	return 0;
}

/* g^ir from the peer's KE, which must be of our key pair's group. */
int ikev2_shared_secret(const struct ikev2_rx *rx, const struct ike_dh *dh, uint8_t *g_ir,
			size_t *len, struct ike_err *err)
{
	union ikev2_body ke;

	if (!ikev2_rx_body(rx, IKEV2_PL_KE, &ke))
		return ike_fail(err, -EBADMSG, "CREATE_CHILD_SA: no KE payload for group %u",
				ike_dh_group(dh));
	if (ke.ke.group != ike_dh_group(dh))
		return ike_fail(err, -EBADMSG, "CREATE_CHILD_SA: KE of group %u, expected %u",
				ke.ke.group, ike_dh_group(dh));
	return ike_dh_derive(dh, ke.ke.data.p, ke.ke.data.len, g_ir, IKE_DH_SECRET_MAX, len, err);
}

bool ikev2_nonce_read(const struct ikev2_rx *rx, struct ike_blob *out)
{
	union ikev2_body b;

	if (!ikev2_rx_body(rx, IKEV2_PL_NONCE, &b))
		return false;
	*out = b.nonce;
	return true;
}

/* ---- child SA rekeys: one done, two colliding (RFC 7296 §2.8.1) ---- */

/* A rekey of the child SA with inbound SPI spi_in is done: it must not be
 * rekeyed again, and a request to is answered TEMPORARY_FAILURE (RFC
 * 7296 §2.25). */
static void child_replaced(struct ikev2_sa *sa, uint32_t spi_in)
{
	struct ike_child_rec *c = ike_child_recs_by_in(&sa->children, spi_in);

	if (c != NULL)
		c->replaced = true;
}

/* Nonces compared as byte strings: at the first byte that differs, and
 * one that begins the other first. */
int ikev2_nonce_cmp(struct ike_chunk a, struct ike_chunk b)
{
	int d = memcmp(a.p, b.p, a.len < b.len ? a.len : b.len);

	return d != 0 ? d : (a.len > b.len) - (a.len < b.len);
}

struct ike_chunk ikev2_nonce_lower(struct ike_chunk a, struct ike_chunk b)
{
	return ikev2_nonce_cmp(a, b) <= 0 ? a : b;
}

/* The peer rekeyed old (answered: its child SA is in, our inbound SPI
 * spi_in, made of nonces ni and nr) while our rekey of it is outstanding:
 * kept for our answer to settle. */
static void collision_note(struct ikev2_sa *sa, uint32_t old_spi, uint32_t spi_in,
			   struct ike_chunk ni, struct ike_chunk nr)
{
	struct ike_chunk low = ikev2_nonce_lower(ni, nr);

	if (sa->req.kind != IKEV2_REQ_REKEY_CHILD || sa->req.old_spi != old_spi)
		return;
	sa->req.collided = true;
	sa->req.collided_spi = spi_in;
	sa->req.collided_nonce_len = (uint16_t)low.len;
	memcpy(sa->req.collided_nonce, low.p, low.len);
}

/* Both rekeys made a child SA: the one whose exchange holds the lowest
 * of the four nonces is redundant, and is deleted by the side that
 * initiated that exchange. Ours (our inbound SPI spi_in, nonces ni and
 * nr): deleted here; the peer's: the peer deletes it. */
static void collision_settle(struct ikev2_engine *e, struct ikev2_sa *sa, uint32_t spi_in,
			     struct ike_chunk ni, struct ike_chunk nr, uint64_t now)
{
	struct ike_chunk theirs = IKE_CHUNK(sa->req.collided_nonce, sa->req.collided_nonce_len);
	bool ours_goes;

	if (!sa->req.collided)
		return;
	ours_goes = ikev2_nonce_cmp(ikev2_nonce_lower(ni, nr), theirs) < 0;
	ikev2_count(e, IKEV2_STAT_REKEY_COLLISIONS);
	ikev2_sa_log(sa, e, 5, now,
		     "child SA rekey collision: both sides replaced %08x; the lowest nonce is in %s "
		     "exchange, whose child SA %08x %s",
		     sa->req.old_spi, ours_goes ? "our" : "the peer's",
		     ours_goes ? spi_in : sa->req.collided_spi,
		     ours_goes ? "we delete" : "the peer deletes");
	if (ours_goes)
		ikev2_sa_task_add(sa, IKEV2_REQ_DELETE_CHILD, spi_in);
}

/* ---- initiator ---- */

static int start_child(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_tx *t,
		       const struct ikev2_task *task, struct ike_err *err)
{
	const struct ike_child_rec *old = task->spi ? ike_child_recs_by_in(&sa->children, task->spi) : NULL;
	uint8_t spi_b[4];

	if (task->spi && old == NULL)
		return ike_fail(err, -ENOENT, "child SA rekey: no child SA with inbound SPI %08x",
				task->spi);
	if (old && old->replaced)
		return ike_fail(err, -EALREADY, "child SA rekey: %08x is already replaced",
				task->spi);
	if (old) { /* REKEY_SA: the SPI we receive the old SA's packets on */
		spi_b[0] = old->spi_in >> 24;
		spi_b[1] = old->spi_in >> 16;
		spi_b[2] = old->spi_in >> 8;
		spi_b[3] = old->spi_in & 0xff;
		ikev2_tx_notify(t, IKEV2_N_REKEY_SA, old->protocol, spi_b, 4, NULL, 0);
		sa->req.old_spi = old->spi_in;
	}
	sa->req.spi = ikev2_new_child_spi(e);
	if (ikev2_child_offer(sa, t, sa->req.spi, true, err))
		return err->code;
	return ikev2_nonce_and_ke(e, t, sa->req.nonce,
				  task->group ? task->group : sa->peer.qm[0].dh_group, &sa->req.dh,
				  err);
}

int ikev2_child_start(struct ikev2_engine *e, struct ikev2_sa *sa, const struct ikev2_task *task,
		      uint64_t now, struct ike_err *err)
{
	struct ikev2_tx t;
	int rc;

	if (sa->rekeyed)
		return ike_fail(err, -EALREADY, "the IKE SA is rekeyed: no exchange but its delete");
	ikev2_tx_begin(e, sa, &t, IKEV2_CREATE_CHILD_SA, false, sa->next_msg_id);
	rc = task->kind == IKEV2_REQ_REKEY_IKE ? ikev2_ike_rekey_start(e, sa, &t, task->group, err)
					       : start_child(e, sa, &t, task, err);
	if (rc == 0)
		rc = ikev2_send_request(e, sa, &t, task->kind, now, err);
	sa->req.ke_asked = rc == 0 && task->group != 0;
	if (rc) { /* nothing went out: forget what was prepared */
		ike_dh_free(sa->req.dh);
		OPENSSL_cleanse(&sa->req, sizeof(sa->req));
	}
	return rc;
}

static int child_answer_read(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx)
{
	uint8_t g_ir[IKE_DH_SECRET_MAX];
	size_t g_len = 0;
	struct ikev2_child_nego n;
	struct ike_blob nr = { 0 };
	int rc = ikev2_child_read_answer(sa, rx, sa->req.spi, true, &n, rx->err);

	if (rc == 0 && !ikev2_nonce_read(rx, &nr))
		rc = ike_fail(rx->err, -EBADMSG, "CREATE_CHILD_SA answer without a nonce");
	if (rc == 0 && n.method.dh_group &&
	    (sa->req.dh == NULL || n.method.dh_group != ike_dh_group(sa->req.dh)))
		rc = ike_fail(rx->err, -EBADMSG, "CREATE_CHILD_SA: the chosen PFS group %u is not our KE's",
			      n.method.dh_group);
	if (rc == 0 && n.method.dh_group)
		rc = ikev2_shared_secret(rx, sa->req.dh, g_ir, &g_len, rx->err);
	if (rc == 0)
		rc = ikev2_child_install(e, sa, &n, IKE_CHUNK(g_ir, g_len),
					 IKE_CHUNK(sa->req.nonce, IKEV2_NONCE_LEN),
					 IKE_CHUNK(nr.p, nr.len), sa->req.old_spi, rx->now, rx->err);
	if (rc == 0)
		collision_settle(e, sa, sa->req.spi, IKE_CHUNK(sa->req.nonce, IKEV2_NONCE_LEN),
				 IKE_CHUNK(nr.p, nr.len), rx->now);
	OPENSSL_cleanse(g_ir, sizeof(g_ir));
	return rc;
}

/* Whether we offered group in the request of that kind: a child SA's
 * methods, or the IKE SA's for its rekey. */
static bool group_offered(const struct ikev2_sa *sa, enum ikev2_req_kind kind, uint16_t group)
{
	const bool ike = kind == IKEV2_REQ_REKEY_IKE;

	for (uint8_t i = 0; i < (ike ? sa->peer.n_mm : sa->peer.n_qm); i++)
		if ((ike ? sa->peer.mm[i].dh_group : sa->peer.qm[i].dh_group) == group)
			return true;
	return false;
}

/* INVALID_KE_PAYLOAD to our CREATE_CHILD_SA (RFC 7296 §1.3): the request
 * is queued again with the group the responder names, if we offered it
 * and sent another, and this was not such a second try already. */
static bool ke_retry(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx)
{
	struct ikev2_notify n;
	uint16_t group;

	if (sa->req.dh == NULL || !ikev2_rx_notify(rx, IKEV2_N_INVALID_KE_PAYLOAD, &n) ||
	    n.data.len != 2)
		return false;
	ikev2_count(e, IKEV2_STAT_INVALID_KE); /* retried on or not */
	group = ike_get16(n.data.p);
	if (sa->req.ke_asked || group == ike_dh_group(sa->req.dh) ||
	    !group_offered(sa, sa->req.kind, group) ||
	    ikev2_sa_task_add(sa, sa->req.kind,
			      sa->req.kind == IKEV2_REQ_REKEY_CHILD ? sa->req.old_spi : 0) != 0)
		return false;
	sa->tasks[sa->n_tasks - 1].group = group;
	ikev2_sa_log(sa, e, 5, rx->now, "INVALID_KE_PAYLOAD: CREATE_CHILD_SA again with group %u",
		     group);
	return true;
}

/* Our CREATE_CHILD_SA refused (error) or its answer unusable. */
static void answer_failed(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx,
			  uint16_t error)
{
	const char *name = ikev2_notify_name(error) ? ikev2_notify_name(error) : "error notify";
	char what[48] = "CREATE_CHILD_SA";

	if (sa->req.kind == IKEV2_REQ_REKEY_CHILD)
		snprintf(what, sizeof(what), "CREATE_CHILD_SA (rekey of SPI %08x)", sa->req.old_spi);
	else if (sa->req.kind == IKEV2_REQ_REKEY_IKE)
		snprintf(what, sizeof(what), "CREATE_CHILD_SA (rekey of the IKE SA)");
	ikev2_fail_request(e, sa, rx->now, error, "%s%s%s", what,
			   error ? " refused by the peer: " : ": ", error ? name : rx->err->msg);
}

int ikev2_child_response(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx)
{
	enum ikev2_req_kind kind = sa->req.kind;
	uint32_t old_spi = sa->req.old_spi;
	uint16_t error = ikev2_rx_error_notify(rx);
	int rc = 0;

	if (error == IKEV2_N_INVALID_KE_PAYLOAD && ke_retry(e, sa, rx)) {
		ikev2_sa_request_done(sa);
		return 0;
	}
	if (error == 0)
		rc = kind == IKEV2_REQ_REKEY_IKE ? ikev2_ike_rekey_answer(e, sa, rx) : child_answer_read(e, sa, rx);
	if ((error || rc) && !ikev2_rekey_hand_over(e, sa, rx->now))
		answer_failed(e, sa, rx, error);
	ikev2_sa_request_done(sa);
	if (rc || error)
		return 0;
	if (kind == IKEV2_REQ_REKEY_CHILD) { /* make-before-break: the new SA is up, the old goes */
		ikev2_count(e, IKEV2_STAT_CHILD_REKEYS);
		child_replaced(sa, old_spi);
		ikev2_sa_task_add(sa, IKEV2_REQ_DELETE_CHILD, old_spi);
	}
	return 0;
}

/* ---- responder ---- */

int ikev2_child_refuse(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx,
		       uint16_t notify, const uint8_t *data, size_t len, const char *why)
{
	struct ike_err err = { 0 };
	struct ikev2_tx t;

	ikev2_tx_begin(e, sa, &t, IKEV2_CREATE_CHILD_SA, true, rx->m.hdr.msg_id);
	ikev2_tx_notify(&t, notify, 0, NULL, 0, data, len);
	ikev2_send_response(e, sa, &t, &err);
	if (notify == IKEV2_N_INVALID_KE_PAYLOAD)
		ikev2_count(e, IKEV2_STAT_INVALID_KE);
	ikev2_fail(e, sa, rx->now, notify, false, "CREATE_CHILD_SA refused: %s", why);
	return 0;
}

/* The peer's KE must be of the chosen group: else INVALID_KE_PAYLOAD. */
bool ikev2_ke_group_ok(const struct ikev2_rx *rx, uint16_t group)
{
	union ikev2_body ke;

	return group == 0 || (ikev2_rx_body(rx, IKEV2_PL_KE, &ke) && ke.ke.group == group);
}

int ikev2_invalid_ke(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx,
		     uint16_t group)
{
	uint8_t g[2] = { group >> 8, group & 0xff };

	return ikev2_child_refuse(e, sa, rx, IKEV2_N_INVALID_KE_PAYLOAD, g, 2, "KE not of the chosen group");
}

/* Our nonce and KE, and g^ir from the peer's KE. */
int ikev2_responder_keys(struct ikev2_engine *e, struct ikev2_rx *rx, struct ikev2_tx *t,
			 uint8_t *nonce, uint16_t group, uint8_t *g_ir, size_t *g_len)
{
	struct ike_dh *dh = NULL;
	int rc = ikev2_nonce_and_ke(e, t, nonce, group, &dh, rx->err);

	if (rc == 0 && group)
		rc = ikev2_shared_secret(rx, dh, g_ir, g_len, rx->err);
	ike_dh_free(dh);
	return rc;
}

static int child_request(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx,
			 const struct ike_blob *ni)
{
	uint8_t nr[IKEV2_NONCE_LEN], g_ir[IKE_DH_SECRET_MAX];
	struct ike_child_rec *old = NULL;
	struct ikev2_child_nego n;
	struct ikev2_notify rekey;
	struct ikev2_tx t;
	uint32_t old_spi = 0;
	size_t g_len = 0;
	uint16_t error;
	int rc;

	if (ikev2_rx_notify(rx, IKEV2_N_REKEY_SA, &rekey) &&
	    (old = ike_child_recs_by_out(&sa->children, ike_get32(rekey.spi))) == NULL)
		return ikev2_child_refuse(e, sa, rx, IKEV2_N_CHILD_SA_NOT_FOUND, NULL, 0,
					  "REKEY_SA names no child SA of ours");
	if (old != NULL && old->replaced)
		return ikev2_child_refuse(e, sa, rx, IKEV2_N_TEMPORARY_FAILURE, NULL, 0,
					  "REKEY_SA names a child SA already replaced");
	if (old != NULL)
		old_spi = old->spi_in;
	error = ikev2_child_choose(e, sa, rx, true, &n, rx->err);
	if (error)
		return ikev2_child_refuse(e, sa, rx, error, NULL, 0, rx->err->msg);
	if (!ikev2_ke_group_ok(rx, n.method.dh_group))
		return ikev2_invalid_ke(e, sa, rx, n.method.dh_group);
	ikev2_tx_begin(e, sa, &t, IKEV2_CREATE_CHILD_SA, true, rx->m.hdr.msg_id);
	rc = ikev2_child_answer(&n, &t, rx->err);
	if (rc == 0)
		rc = ikev2_responder_keys(e, rx, &t, nr, n.method.dh_group, g_ir, &g_len);
	if (rc == 0)
		rc = ikev2_seal_response(e, sa, &t, rx->err);
	if (rc == 0) {
		rc = ikev2_child_install(e, sa, &n, IKE_CHUNK(g_ir, g_len), IKE_CHUNK(ni->p, ni->len),
					 IKE_CHUNK(nr, sizeof(nr)), old_spi, rx->now,
					 rx->err);
		ikev2_send_cached_response(e, sa); /* the child SA in place first */
	}
	if (rc == 0 && old_spi) {
		ikev2_count(e, IKEV2_STAT_CHILD_REKEYS);
		child_replaced(sa, old_spi);
		collision_note(sa, old_spi, n.spi_in, IKE_CHUNK(ni->p, ni->len), IKE_CHUNK(nr, sizeof(nr)));
	}
	OPENSSL_cleanse(g_ir, sizeof(g_ir));
	OPENSSL_cleanse(nr, sizeof(nr));
	return rc;
}

int ikev2_child_request(struct ikev2_engine *e, struct ikev2_sa *sa, struct ikev2_rx *rx)
{
	struct ike_mm_offer offers[IKE_MAX_PROPOSALS];
	union ikev2_body *b = malloc(sizeof(*b));
	size_t n_ike = 0;
	struct ike_blob ni;
	int rc;

	if (sa->rekeyed || sa->state == IKEV2_S_DELETING) { /* §2.8.2: an SA being closed */
		free(b);
		return ikev2_child_refuse(e, sa, rx, IKEV2_N_TEMPORARY_FAILURE, NULL, 0,
					  sa->rekeyed
					      ? "the IKE SA is rekeyed: only its delete is left"
					      : "the IKE SA is being deleted");
	}
	if (b == NULL || !ikev2_rx_body(rx, IKEV2_PL_SA, b) || !ikev2_nonce_read(rx, &ni)) {
		free(b);
		return ikev2_child_refuse(e, sa, rx, IKEV2_N_INVALID_SYNTAX, NULL, 0,
					  "CREATE_CHILD_SA request without SA and nonce");
	}
	n_ike = ikev2_mm_offers(&b->sa, offers, IKE_MAX_PROPOSALS);
	free(b);
	rc = n_ike ? ikev2_ike_rekey_request(e, sa, rx, offers, n_ike, &ni) : child_request(e, sa, rx, &ni);
	if (rc)
		ikev2_fail(e, sa, rx->now, 0, false, "CREATE_CHILD_SA: %s", rx->err->msg);
	return 0;
}
