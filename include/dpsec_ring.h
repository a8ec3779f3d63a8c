/* dpsec_ring.h - the single-producer/single-consumer message ring of the
 * shared-memory segment (struct dpsec_ring in dpsec_shm.h), header-only so
 * that dpsecd and dpsec-ctld run the same code. Lock-free: the producer
 * publishes a slot with a release store of head, the consumer frees it with
 * a release store of tail. A full ring refuses the push (back-pressure); a
 * malformed message is reported to the consumer, never skipped silently. */
#ifndef DPSEC_RING_H
#define DPSEC_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "dpsec_shm.h"

static inline void dpsec_ring_init(struct dpsec_ring *r)
{
	atomic_store_explicit(&r->head, 0, memory_order_relaxed);
	atomic_store_explicit(&r->tail, 0, memory_order_relaxed);
	r->slots = DPSEC_RING_SLOTS;
	r->msg_size = DPSEC_MSG_SIZE;
}

/* Free slots as the producer sees them (a lower bound). */
static inline uint32_t dpsec_ring_free(struct dpsec_ring *r)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);

	return DPSEC_RING_SLOTS - (uint32_t)(head - tail);
}

/* Queued messages as the consumer sees them (a lower bound). */
static inline uint32_t dpsec_ring_count(struct dpsec_ring *r)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);

	return (uint32_t)(head - tail);
}

/* Producer: copies a message of type with len body bytes into the next slot.
 * Returns its sequence number, or -1 when the ring is full or len too big. */
static inline int64_t dpsec_ring_push(struct dpsec_ring *r, uint16_t type, const void *body,
				      uint32_t len)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	struct dpsec_msg *m;

	if (len > DPSEC_MSG_BODY || dpsec_ring_free(r) == 0)
		return -1;
	m = &r->msg[head & (DPSEC_RING_SLOTS - 1)];
	m->h.version = DPSEC_MSG_VERSION;
	m->h.type = type;
	m->h.len = len;
	m->h.seq = head;
	if (len > 0)
		memcpy(m->body, body, len);
	memset(m->body + len, 0, DPSEC_MSG_BODY - len);
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return (int64_t)head;
}

/* Consumer: the oldest message, or NULL when the ring is empty. The slot
 * stays the consumer's until dpsec_ring_release(). */
static inline struct dpsec_msg *dpsec_ring_peek(struct dpsec_ring *r)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

	if (atomic_load_explicit(&r->head, memory_order_acquire) == tail)
		return NULL;
	return &r->msg[tail & (DPSEC_RING_SLOTS - 1)];
}

/* Consumer: wipes the oldest slot (it may have carried keys) and frees it. */
static inline void dpsec_ring_release(struct dpsec_ring *r)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	struct dpsec_msg *m = &r->msg[tail & (DPSEC_RING_SLOTS - 1)];

	explicit_bzero(m, sizeof(*m));
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
}

/* Checks a message read from a ring against what its reader expects: the
 * version, the sequence number (the ring position, so a torn or foreign
 * slot shows), and the body length of its type. Returns NULL when it is
 * well formed, else a sentence naming the problem. */
static inline const char *dpsec_msg_check(const struct dpsec_msg *m, uint64_t want_seq,
					  uint32_t want_len)
{
	if (m->h.version != DPSEC_MSG_VERSION)
		return "message version not understood";
	if (m->h.seq != want_seq)
		return "message sequence number out of order";
	if (m->h.len != want_len)
		return "message body length wrong for its type";
	return NULL;
}

#endif
