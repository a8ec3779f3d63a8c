/* ikev1_sa.c - the ISAKMP SA object: creation and wiping, the one checked
 * state setter, the per-exchange message memory and retransmission
 * bookkeeping, Phase 2 exchange slots, child SA records and the per-SA
 * log (see ikev1_sa.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ikev1_exchange.h"

#define IKEV1_X_NAME(n) #n,
static const char *const state_names[] = { IKEV1_STATES(IKEV1_X_NAME) };
#undef IKEV1_X_NAME

#define BIT(s) (1u << IKEV1_S_##s)

/* The states each state may move to (CLOSED from anywhere but CLOSED). */
static const unsigned legal_next[] = {
	[IKEV1_S_IDLE] = BIT(MM1_SENT) | BIT(MM2_SENT),
	[IKEV1_S_MM1_SENT] = BIT(MM3_SENT),
	[IKEV1_S_MM2_SENT] = BIT(MM4_SENT),
	[IKEV1_S_MM3_SENT] = BIT(MM5_SENT),
	[IKEV1_S_MM4_SENT] = BIT(ESTABLISHED),
	[IKEV1_S_MM5_SENT] = BIT(ESTABLISHED),
	[IKEV1_S_ESTABLISHED] = 0,
	[IKEV1_S_CLOSED] = 0,
};

const char *ikev1_state_name(enum ikev1_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

struct ikev1_sa *ikev1_sa_new(bool initiator)
{
	struct ikev1_sa *sa = calloc(1, sizeof(*sa));

	if (sa == NULL)
		return NULL;
	sa->initiator = initiator;
	if (ikev1_random(initiator ? sa->id.spi_i : sa->id.spi_r, 8, NULL)) {
		free(sa);
		return NULL;
	}
	return sa;
}

void ikev1_sa_mm_material_free(struct ikev1_sa *sa)
{
	free(sa->sai_b);
	sa->sai_b = NULL;
	sa->sai_len = 0;
	ike_dh_free(sa->dh);
	sa->dh = NULL;
}

void ikev1_sa_free(struct ikev1_sa *sa)
{
	if (sa == NULL)
		return;
	ikev1_sa_mm_material_free(sa);
	ikev1_msgs_free(&sa->mm_msgs);
	for (int i = 0; i < IKEV1_MAX_XCHG; i++)
		ikev1_xchg_free(&sa->xchg[i]);
	ikev1_keys_wipe(&sa->keys);
	ike_auth_wipe(&sa->peer.local_auth);
	ike_auth_wipe(&sa->peer.remote_auth);
	OPENSSL_cleanse(sa, sizeof(*sa)); /* nonces, KE values, everything else */
	free(sa);
}

int ikev1_set_state(struct ikev1_sa *sa, enum ikev1_state to, uint64_t now_ms,
		    const struct ikev1_engine *e)
{
	enum ikev1_state from = sa->state;
	bool ok = to == IKEV1_S_CLOSED ? from != IKEV1_S_CLOSED : (legal_next[from] & (1u << to)) != 0;

	if (!ok) {
		ikev1_sa_log(sa, e, 3, now_ms, "state %s -> %s refused: not a legal transition",
			     ikev1_state_name(from), ikev1_state_name(to));
		return -EPERM;
	}
	sa->state = to;
	ikev1_sa_log(sa, e, 6, now_ms, "state %s -> %s", ikev1_state_name(from), ikev1_state_name(to));
	return 0;
}

const uint8_t *ikev1_sa_our_cookie(const struct ikev1_sa *sa)
{
	return sa->initiator ? sa->id.spi_i : sa->id.spi_r;
}

void ikev1_sa_log(const struct ikev1_sa *sa_const, const struct ikev1_engine *e, int level,
		  uint64_t now_ms, const char *fmt, ...)
{
	struct ikev1_sa *sa = (struct ikev1_sa *)sa_const; /* the log is not the SA's state */
	const char *line;
	va_list ap;

	va_start(ap, fmt);
	line = ike_log_add(&sa->log, now_ms, "v1 ", ikev1_sa_our_cookie(sa), fmt, ap);
	va_end(ap);
	if (e && e->conf.log)
		e->conf.log(e->conf.log_ctx, level, line);
}

const char *ikev1_sa_log_find(const struct ikev1_sa *sa, const char *text)
{
	return ike_log_find(&sa->log, text);
}

/* ---- the messages of one exchange ---- */

void ikev1_msgs_sent(struct ikev1_msgs *m, uint8_t *data, size_t len, bool waiting,
		     uint64_t now_ms, uint32_t base_ms)
{
	free(m->out);
	m->out = data;
	m->out_len = len;
	m->waiting = waiting;
	m->retransmits = 0;
	m->next_ms = now_ms + base_ms;
}

int ikev1_msgs_received(struct ikev1_msgs *m, const uint8_t *data, size_t len)
{
	uint8_t *copy = malloc(len);

	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, data, len);
	free(m->in);
	m->in = copy;
	m->in_len = len;
	m->waiting = false; /* answered */
	return 0;
}

bool ikev1_msgs_is_repeat(const struct ikev1_msgs *m, const uint8_t *data, size_t len)
{
	return m->in && m->in_len == len && memcmp(m->in, data, len) == 0;
}

bool ikev1_msgs_retransmit_due(struct ikev1_msgs *m, uint32_t base_ms, uint32_t tries)
{
	if (m->retransmits >= tries)
		return false;
	m->retransmits++;
	m->next_ms += (uint64_t)base_ms << m->retransmits;
	return true;
}

void ikev1_msgs_free(struct ikev1_msgs *m)
{
	free(m->out);
	free(m->in);
	*m = (struct ikev1_msgs){ 0 };
}

/* ---- Phase 2 exchanges ---- */

struct ikev1_xchg *ikev1_xchg_find(struct ikev1_sa *sa, uint32_t mid)
{
	for (int i = 0; i < IKEV1_MAX_XCHG; i++)
		if (sa->xchg[i].kind != IKEV1_X_NONE && sa->xchg[i].mid == mid)
			return &sa->xchg[i];
	return NULL;
}

static struct ikev1_xchg *free_slot(struct ikev1_sa *sa)
{
	for (int i = 0; i < IKEV1_MAX_XCHG; i++)
		if (sa->xchg[i].kind == IKEV1_X_NONE)
			return &sa->xchg[i];
	for (int i = 0; i < IKEV1_MAX_XCHG; i++)
		if (sa->xchg[i].done) { /* its last message need not be replayed any more */
			ikev1_xchg_free(&sa->xchg[i]);
			return &sa->xchg[i];
		}
	return NULL;
}

struct ikev1_xchg *ikev1_xchg_new(struct ikev1_sa *sa, enum ikev1_xchg_kind kind, uint32_t mid,
				  bool initiator)
{
	struct ikev1_xchg *x = free_slot(sa);

	if (x == NULL)
		return NULL;
	*x = (struct ikev1_xchg){ .kind = kind, .mid = mid, .initiator = initiator };
	if (ikev1_phase2_iv(&sa->keys, &sa->p1_iv, mid, &x->iv, NULL)) {
		x->kind = IKEV1_X_NONE;
		return NULL;
	}
	return x;
}

void ikev1_xchg_free(struct ikev1_xchg *x)
{
	ikev1_msgs_free(&x->msgs);
	ike_dh_free(x->dh);
	OPENSSL_cleanse(x, sizeof(*x));
}
