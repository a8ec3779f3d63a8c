/* replay.h - the inbound anti-replay window of one SA (RFC 4303 §3.4.3, and
 * Appendix A to infer the high half of extended sequence numbers), kept as an
 * RFC 6479 bitmap: whole 64-bit words, a power of two of them, one more than
 * the window needs, so advancing the window zeroes whole words, never shifts.
 *
 * Use: dp_replay_check() before crypto (it infers the 64-bit number the ICV
 * covers), dp_replay_update() once the ICV verified, between
 * dp_replay_lock() and dp_replay_unlock(): every worker may receive an SA's
 * packets (the fat tunnel), so updates take the window's lock, once per run
 * of packets, not per packet. Checks take no lock: one racing an update may
 * see a stale window and let a replay reach crypto, never past it, since
 * the update judges again under the lock. */
#ifndef DP_REPLAY_H
#define DP_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_pause.h>

#include "dpsec_model.h"

#define DP_REPLAY_WINDOW_MAX DPSEC_REPLAY_MAX

/* Verdicts; the non-zero ones are drop reasons. */
enum dp_replay_verdict {
	DP_REPLAY_OK = 0,
	DP_REPLAY_DUP = 1, /* inside the window and already seen */
	DP_REPLAY_OLD = 2, /* left of the window, or sequence number 0 */
};

struct dp_replay {
	uint32_t lock;     /* 1 while a worker updates; see dp_replay_lock() */
	uint64_t top;      /* highest accepted sequence number; written last */
	uint32_t window;   /* packets: top - window + 1 is the left edge */
	uint32_t mask;     /* bitmap words - 1 */
	uint64_t bitmap[]; /* bit s % 64 of word (s / 64) & mask: s was seen */
};

/* Bytes to allocate for a window of that many packets, 0 if the window is
 * outside 1..DP_REPLAY_WINDOW_MAX. */
size_t dp_replay_size(uint32_t window);

/* Sets up an empty window whose right edge is initial_top (0 for a new SA;
 * initial_top itself counts as seen). r has dp_replay_size(window) bytes.
 * Returns 0, or -EINVAL for a window dp_replay_size() refuses. */
int dp_replay_init(struct dp_replay *r, uint32_t window, uint64_t initial_top);

/* RFC 4303 Appendix A: the 64-bit number whose low half is seq_lo, placed
 * within [left edge, left edge + 2^32). Before the first epoch is complete
 * (high half 0, window reaching below 0) a large seq_lo stays in epoch 0. */
static inline uint64_t dp_replay_esn_infer(uint64_t top, uint32_t window, uint32_t seq_lo)
{
	uint32_t tl = (uint32_t)top;
	uint32_t th = (uint32_t)(top >> 32);
	uint32_t bl = tl - window + 1; /* low half of the left edge, mod 2^32 */

	if (tl >= window - 1)   /* case A: the window lies in one epoch */
		th += seq_lo < bl;
	else if (th != 0)       /* case B: the window straddles two epochs */
		th -= seq_lo >= bl;
	return (uint64_t)th << 32 | seq_lo;
}

/* The verdict on s against the window whose right edge is top. */
static inline int dp_replay_judge(const struct dp_replay *r, uint64_t top, uint64_t s)
{
	uint64_t word;

	if (s > top)
		return DP_REPLAY_OK;
	if (s == 0 || top - s >= r->window)
		return DP_REPLAY_OLD;
	word = __atomic_load_n(&r->bitmap[(s >> 6) & r->mask], __ATOMIC_RELAXED);
	return (word >> (s & 63) & 1) ? DP_REPLAY_DUP : DP_REPLAY_OK;
}

/* Before crypto: may a packet with this sequence number be accepted? Sets
 * *seq64 (the number the ICV covers: with ESN the inferred one, else seq_lo)
 * and returns DP_REPLAY_OK, DP_REPLAY_DUP or DP_REPLAY_OLD. Does not change r,
 * so a packet that fails its ICV leaves no trace. */
static inline int dp_replay_check(const struct dp_replay *r, uint32_t seq_lo, bool esn,
				  uint64_t *seq64)
{
	uint64_t top = __atomic_load_n(&r->top, __ATOMIC_ACQUIRE);
	uint64_t s = esn ? dp_replay_esn_infer(top, r->window, seq_lo) : seq_lo;

	*seq64 = s;
	return dp_replay_judge(r, top, s);
}

/* Zeroes the words between the old right edge and the new one (at most the
 * whole bitmap) so that they hold only numbers of the new window. */
static inline void dp_replay_advance(struct dp_replay *r, uint64_t top, uint64_t s)
{
	uint64_t from = top >> 6;
	uint64_t n = (s >> 6) - from;

	if (n > (uint64_t)r->mask + 1)
		n = (uint64_t)r->mask + 1;
	for (uint64_t i = 1; i <= n; i++)
		__atomic_store_n(&r->bitmap[(from + i) & r->mask], 0, __ATOMIC_RELAXED);
}

/* Takes the window for updates; held for a run of packets, a few hundred
 * cycles at most, so spinning beats sleeping. */
static inline void dp_replay_lock(struct dp_replay *r)
{
	while (__atomic_exchange_n(&r->lock, 1, __ATOMIC_ACQUIRE) != 0)
		while (__atomic_load_n(&r->lock, __ATOMIC_RELAXED) != 0)
			rte_pause();
}

static inline void dp_replay_unlock(struct dp_replay *r)
{
	__atomic_store_n(&r->lock, 0, __ATOMIC_RELEASE);
}

/* After the ICV verified, with the lock held: records seq64. Returns
 * DP_REPLAY_OK, or DUP/OLD if the window moved since the check (two copies
 * in one burst, or one on each worker). */
static inline int dp_replay_update(struct dp_replay *r, uint64_t seq64)
{
	uint64_t top = r->top; /* last stored under the lock we hold */
	uint64_t *w = &r->bitmap[(seq64 >> 6) & r->mask];
	int v = dp_replay_judge(r, top, seq64);

	if (v != DP_REPLAY_OK)
		return v;
	if (seq64 > top)
		dp_replay_advance(r, top, seq64);
	__atomic_store_n(w, *w | (uint64_t)1 << (seq64 & 63), __ATOMIC_RELAXED);
	if (seq64 > top) /* publish the edge after the words it covers */
		__atomic_store_n(&r->top, seq64, __ATOMIC_RELEASE);
	return DP_REPLAY_OK;
}

#endif
