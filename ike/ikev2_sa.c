/* ikev2_sa.c - the IKE SA object: creation and wiping, the one checked
 * state setter, message windows and retransmission bookkeeping, the
 * exchange queue, child SA records and the per-SA log (see ikev2_sa.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ikev2_exchange.h"
#include "ikev2_sa.h"

#define IKEV2_X_NAME(n) #n,
static const char *const state_names[] = { IKEV2_STATES(IKEV2_X_NAME) };
#undef IKEV2_X_NAME

#define BIT(s) (1u << IKEV2_S_##s)

/* The states each state may move to (CLOSED from anywhere but CLOSED). */
static const unsigned legal_next[] = {
	[IKEV2_S_IDLE] = BIT(INIT_SENT) | BIT(INIT_DONE) | BIT(ESTABLISHED), /* a rekeyed SA is born established */
	[IKEV2_S_INIT_SENT] = BIT(AUTH_SENT),
	[IKEV2_S_INIT_DONE] = BIT(ESTABLISHED),
	[IKEV2_S_AUTH_SENT] = BIT(ESTABLISHED),
	[IKEV2_S_ESTABLISHED] = BIT(DELETING),
	[IKEV2_S_DELETING] = 0,
	[IKEV2_S_CLOSED] = 0,
};

const char *ikev2_state_name(enum ikev2_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

struct ikev2_sa *ikev2_sa_new(bool initiator)
{
	struct ikev2_sa *sa = calloc(1, sizeof(*sa));
	uint8_t *ours;

	if (sa == NULL)
		return NULL;
	sa->initiator = initiator;
	ours = initiator ? sa->id.spi_i : sa->id.spi_r;
	if (ikev2_random(ours, 8, NULL)) {
		free(sa);
		return NULL;
	}
	return sa;
}

void ikev2_sa_init_material_free(struct ikev2_sa *sa)
{
	for (int i = 0; i < 2; i++) {
		free(sa->init_msg[i]);
		sa->init_msg[i] = NULL;
		sa->init_len[i] = 0;
	}
	ike_dh_free(sa->dh);
	sa->dh = NULL;
}

void ikev2_sa_free(struct ikev2_sa *sa)
{
	if (sa == NULL)
		return;
	ikev2_sa_request_done(sa);
	ikev2_sa_init_material_free(sa);
	free(sa->last_resp.data);
	ikev2_frag_free(sa);
	ikev2_keys_wipe(&sa->keys);
	ike_auth_wipe(&sa->peer.local_auth);
	ike_auth_wipe(&sa->peer.remote_auth);
	OPENSSL_cleanse(sa, sizeof(*sa)); /* nonces, cookie, everything else */
	free(sa);
}

int ikev2_set_state(struct ikev2_sa *sa, enum ikev2_state to, uint64_t now_ms,
		    const struct ikev2_engine *e)
{
	enum ikev2_state from = sa->state;
	bool ok = to == IKEV2_S_CLOSED ? from != IKEV2_S_CLOSED : (legal_next[from] & (1u << to)) != 0;

	if (!ok) {
		ikev2_sa_log(sa, e, 3, now_ms, "state %s -> %s refused: not a legal transition",
			     ikev2_state_name(from), ikev2_state_name(to));
		return -EPERM;
	}
	sa->state = to;
	ikev2_sa_log(sa, e, 6, now_ms, "state %s -> %s", ikev2_state_name(from), ikev2_state_name(to));
	return 0;
}

bool ikev2_sa_has_keys(const struct ikev2_sa *sa)
{
	return sa->state >= IKEV2_S_INIT_DONE && sa->state != IKEV2_S_CLOSED &&
	       sa->keys.prf_len != 0;
}

const uint8_t *ikev2_sa_our_spi(const struct ikev2_sa *sa)
{
	return sa->initiator ? sa->id.spi_i : sa->id.spi_r;
}

void ikev2_sa_log(const struct ikev2_sa *sa_const, const struct ikev2_engine *e, int level,
		  uint64_t now_ms, const char *fmt, ...)
{
	struct ikev2_sa *sa = (struct ikev2_sa *)sa_const; /* the log is not the SA's state */
	const char *line;
	va_list ap;

	va_start(ap, fmt);
	line = ike_log_add(&sa->log, now_ms, "", ikev2_sa_our_spi(sa), fmt, ap);
	va_end(ap);
	if (e && e->conf.log)
		e->conf.log(e->conf.log_ctx, level, line);
}

const char *ikev2_sa_log_find(const struct ikev2_sa *sa, const char *text)
{
	return ike_log_find(&sa->log, text);
}

void ikev2_sa_request_sent(struct ikev2_sa *sa, enum ikev2_req_kind kind, uint8_t *data,
			   size_t len, uint64_t now_ms, uint32_t base_ms)
{
	free(sa->req.data);
	sa->req.kind = kind;
	sa->req.msg_id = sa->next_msg_id;
	sa->req.data = data;
	sa->req.len = len;
	sa->req.retransmits = 0;
	sa->req.next_ms = now_ms + base_ms;
}

void ikev2_sa_request_done(struct ikev2_sa *sa)
{
	if (sa->req.kind != IKEV2_REQ_NONE)
		sa->next_msg_id++;
	free(sa->req.data);
	ike_dh_free(sa->req.dh);
	OPENSSL_cleanse(&sa->req, sizeof(sa->req));
}

bool ikev2_sa_retransmit_due(struct ikev2_sa *sa, uint32_t base_ms, uint32_t tries)
{
	if (sa->req.retransmits >= tries)
		return false;
	sa->req.retransmits++;
	sa->req.next_ms += (uint64_t)base_ms << sa->req.retransmits;
	return true;
}

void ikev2_sa_response_sent(struct ikev2_sa *sa, uint32_t msg_id, uint8_t *data, size_t len)
{
	free(sa->last_resp.data);
	sa->last_resp.valid = true;
	sa->last_resp.msg_id = msg_id;
	sa->last_resp.data = data;
	sa->last_resp.len = len;
	sa->peer_msg_id = msg_id + 1;
}

int ikev2_sa_task_add(struct ikev2_sa *sa, enum ikev2_req_kind kind, uint32_t spi)
{
	if (sa->n_tasks >= IKEV2_MAX_TASKS)
		return -EBUSY;
	sa->tasks[sa->n_tasks++] = (struct ikev2_task){ kind, spi, 0, 0 };
	return 0;
}

int ikev2_sa_task_add_refused(struct ikev2_sa *sa, uint8_t protocol, uint32_t spi)
{
	int rc = ikev2_sa_task_add(sa, IKEV2_REQ_DELETE_REFUSED, spi);

	if (rc == 0)
		sa->tasks[sa->n_tasks - 1].protocol = protocol;
	return rc;
}

bool ikev2_sa_task_take(struct ikev2_sa *sa, struct ikev2_task *out)
{
	if (sa->n_tasks == 0)
		return false;
	*out = sa->tasks[0];
	memmove(sa->tasks, sa->tasks + 1, --sa->n_tasks * sizeof(sa->tasks[0]));
	return true;
}
