/* cp_cmd.c - commands to dpsecd and what comes back. A command waits while
 * the ring is full (draining events meanwhile: the dataplane takes a
 * command only when it has room to answer); cp_cmd_wait() waits for the
 * answers to everything sent so far and reports the first refusal, with its
 * reason, of the commands sent since the last wait: not of those posted
 * (cp_cmd_post(), which nobody waits for) nor of those whose wait gave up
 * before they were answered, which are only logged. ACQUIRE and expiry
 * events go to cp_acquire.c as they come. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "cp.h"
#include "cp_ike.h"
#include "dpsec_ring.h"

#define SEND_TIMEOUT_NS 5000000000ull

static void nap(void)
{
	struct timespec ts = { 0, 200000 };

	nanosleep(&ts, NULL);
}

static bool dataplane_gone(struct cp_ctx *c)
{
	uint64_t beat = atomic_load_explicit(&c->seg.hdr->heartbeat_ns, memory_order_relaxed);

	return beat != 0 && cp_now_ns() > beat + SEND_TIMEOUT_NS;
}

static int push(struct cp_ctx *c, uint16_t type, const void *body, uint32_t len, bool posted)
{
	uint64_t deadline = cp_now_ns() + SEND_TIMEOUT_NS;
	int64_t seq;

	if (!c->attached)
		return -ENOTCONN;
	while ((seq = dpsec_ring_push(c->seg.cmd, type, body, len)) < 0) {
		cp_events_poll(c); /* back-pressure: answer room frees command room */
		if (cp_now_ns() > deadline || dataplane_gone(c))
			return -ETIMEDOUT;
		nap();
	}
	c->posted[(uint64_t)seq % DPSEC_RING_SLOTS] = posted;
	c->want_seq = (uint64_t)seq + 1;
	return 0;
}

int cp_cmd_send(struct cp_ctx *c, uint16_t type, const void *body, uint32_t len)
{
	return push(c, type, body, len, false);
}

int cp_cmd_post(struct cp_ctx *c, uint16_t type, const void *body, uint32_t len)
{
	return push(c, type, body, len, true);
}

int cp_cmd_wait(struct cp_ctx *c, int timeout_ms, char *err, size_t errlen)
{
	uint64_t deadline = cp_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	uint64_t refused = c->refused;

	while (c->acked < c->want_seq) {
		cp_events_poll(c);
		if (c->acked >= c->want_seq)
			break;
		if (cp_now_ns() > deadline) {
			snprintf(err, errlen, "dpsecd did not answer within %d ms", timeout_ms);
			c->wait_from = c->want_seq;
			return -ETIMEDOUT;
		}
		nap();
	}
	c->wait_from = c->want_seq;
	if (c->refused != refused) {
		snprintf(err, errlen, "dpsecd refused: %s", c->first_refusal);
		c->first_refusal[0] = '\0';
		return -EINVAL;
	}
	return 0;
}

/* Answers to a previous control plane's commands are not counted. */
static void on_ack(struct cp_ctx *c, const struct dpsec_ev_ack *a)
{
	if (a->cmd_seq < c->ack_base)
		return;
	c->acked++;
	if (a->status == 0)
		return;
	cp_log(LOG_WARNING, "dpsecd refused command %llu (type %u): %s",
	       (unsigned long long)a->cmd_seq, a->cmd_type, a->reason);
	if (a->cmd_type == DPSEC_CMD_SA_ADD) {
		c->mm[CP_MM_key_addition_failures]++;
		cp_audit("SA install refused by dpsecd (command %llu): %s",
			 (unsigned long long)a->cmd_seq, a->reason);
		cp_sa_add_refused(c, a->cmd_seq);
	}
	if (a->cmd_seq < c->wait_from || c->posted[a->cmd_seq % DPSEC_RING_SLOTS])
		return; /* no wait of ours is about it */
	c->refused++;
	if (c->first_refusal[0] == '\0')
		snprintf(c->first_refusal, sizeof(c->first_refusal), "%s", a->reason);
}

static void dispatch(struct cp_ctx *c, const struct dpsec_msg *m)
{
	switch (m->h.type) {
	case DPSEC_EV_ACK:
		if (m->h.len == sizeof(struct dpsec_ev_ack))
			on_ack(c, (const void *)m->body);
		return;
	case DPSEC_EV_ACQUIRE:
		if (m->h.len == sizeof(struct dpsec_ev_acquire))
			cp_acquire_event(c, (const void *)m->body);
		return;
	case DPSEC_EV_SA_EXPIRE:
		if (m->h.len == sizeof(struct dpsec_ev_sa_expire))
			cp_expire_event(c, (const void *)m->body);
		return;
	case DPSEC_EV_PEER_MOVED:
		if (m->h.len == sizeof(struct dpsec_ev_peer_moved))
			cp_ike_esp_moved(c, (const void *)m->body);
		return;
	default:
		cp_log(LOG_WARNING, "unknown event type %u from dpsecd", m->h.type);
	}
}

/* Each event is copied out and its slot released before it is handled:
 * a handler may send commands, and sending may poll events again. */
void cp_events_poll(struct cp_ctx *c)
{
	struct dpsec_msg *m, copy;
	int n = 0;

	if (!c->attached)
		return;
	while (n++ < 4096 && (m = dpsec_ring_peek(c->seg.ev)) != NULL) {
		uint64_t seq = atomic_load(&c->seg.ev->tail);
		const char *problem = dpsec_msg_check(m, seq, m->h.len);

		copy = *m;
		dpsec_ring_release(c->seg.ev);
		if (problem != NULL || copy.h.len > DPSEC_MSG_BODY)
			cp_log(LOG_ERR, "event %llu from dpsecd: %s", (unsigned long long)seq,
			       problem ? problem : "body too long");
		else
			dispatch(c, &copy);
	}
}
