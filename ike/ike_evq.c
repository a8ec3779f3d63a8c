/* ike_evq.c - the engines' event queue (see ike_evq.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike_evq.h"

void ike_evq_push(struct ike_evq *q, const struct ikev2_event *ev)
{
	if (q->head + q->n == q->cap) {
		if (q->head > 0) { /* reuse the taken slots first */
			memmove(q->ev, q->ev + q->head, q->n * sizeof(*ev));
			q->head = 0;
		} else {
			size_t cap = q->cap ? 2 * q->cap : 16;
			struct ikev2_event *p = realloc(q->ev, cap * sizeof(*p));

			if (p == NULL) {
				struct ikev2_event lost = *ev;

				ikev2_event_release(&lost);
				return;
			}
			q->ev = p;
			q->cap = cap;
		}
	}
	q->ev[q->head + q->n++] = *ev;
}

bool ike_evq_pop(struct ike_evq *q, struct ikev2_event *ev)
{
	if (q->n == 0)
		return false;
	*ev = q->ev[q->head];
	memset(&q->ev[q->head], 0, sizeof(*ev));
	q->head++;
	if (--q->n == 0)
		q->head = 0;
	return true;
}

void ike_evq_reason(struct ike_evq *q, struct ikev2_event ev, uint16_t notify, bool ike_sa_gone,
		    const char *text)
{
	ev.reason.notify = notify;
	ev.reason.ike_sa_gone = ike_sa_gone;
	snprintf(ev.reason.text, sizeof(ev.reason.text), "%s", text);
	ike_evq_push(q, &ev);
}

void ike_evq_child_down(struct ike_evq *q, struct ikev2_event ev, uint8_t protocol,
			uint32_t spi_in, uint32_t spi_out)
{
	ev.child_down.protocol = protocol;
	ev.child_down.spi_in = spi_in;
	ev.child_down.spi_out = spi_out;
	ike_evq_push(q, &ev);
}

bool ike_evq_send(struct ike_evq *q, const struct ike_endpoint *local,
		  const struct ike_endpoint *remote, const uint8_t *data, size_t len)
{
	struct ikev2_event ev = { .kind = IKEV2_EV_SEND };
	uint8_t *copy = malloc(len);

	if (copy == NULL)
		return false;
	memcpy(copy, data, len);
	memcpy(ev.sa.spi_i, data, 8);
	memcpy(ev.sa.spi_r, data + 8, 8);
	ev.send = (typeof(ev.send)){ *local, *remote, copy, len };
	ike_evq_push(q, &ev);
	return true;
}

void ike_evq_free(struct ike_evq *q)
{
	struct ikev2_event ev;

	while (ike_evq_pop(q, &ev))
		ikev2_event_release(&ev);
	free(q->ev);
	*q = (struct ike_evq){ 0 };
}
