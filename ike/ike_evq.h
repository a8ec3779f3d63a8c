/* ike_evq.h - the event queue both IKE engines hand their events out of
 * (struct ikev2_event: the engines share the event type, see ikev1.h): a
 * FIFO that grows, reusing taken slots before it does. */
#ifndef IKE_EVQ_H
#define IKE_EVQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ikev2.h"

struct ike_evq {
	struct ikev2_event *ev; /* taken from head */
	size_t head, n, cap;
};

/* Queues ev, which the queue then owns; with no memory left it is
 * released (a lost send is like a lost datagram: retransmitted). */
void ike_evq_push(struct ike_evq *q, const struct ikev2_event *ev);
/* Takes the oldest event; false when there is none. */
bool ike_evq_pop(struct ike_evq *q, struct ikev2_event *ev);
/* Events both engines make alike; ev comes with its kind, SA and user
 * filled in. A reason event (FAILED, IKE_DOWN): */
void ike_evq_reason(struct ike_evq *q, struct ikev2_event ev, uint16_t notify, bool ike_sa_gone,
		    const char *text);
/* CHILD_DOWN: */
void ike_evq_child_down(struct ike_evq *q, struct ikev2_event ev, uint8_t protocol,
			uint32_t spi_in, uint32_t spi_out);
/* SEND of a copy of data, its SA named by the first 16 bytes (the SPIs or
 * cookies of either version's header); false with no memory. */
bool ike_evq_send(struct ike_evq *q, const struct ike_endpoint *local,
		  const struct ike_endpoint *remote, const uint8_t *data, size_t len);

/* Releases every event left and the queue's memory. */
void ike_evq_free(struct ike_evq *q);

#endif
