/* replay.c - sizing and setting up an anti-replay window; the per-packet
 * functions are inline in replay.h. */
#include <errno.h>
#include <string.h>

#include "replay.h"

/* Words of the bitmap: enough for the window wherever its right edge falls
 * in a word (window / 64 rounded up, plus one), rounded up to a power of
 * two so that a sequence number finds its word with a mask. */
static uint32_t replay_words(uint32_t window)
{
	uint32_t need = (window + 63) / 64 + 1;
	uint32_t words = 1;

	while (words < need)
		words <<= 1;
	return words;
}

size_t dp_replay_size(uint32_t window)
{
	if (window == 0 || window > DP_REPLAY_WINDOW_MAX)
		return 0;
	return sizeof(struct dp_replay) + replay_words(window) * sizeof(uint64_t);
}

int dp_replay_init(struct dp_replay *r, uint32_t window, uint64_t initial_top)
{
	size_t size = dp_replay_size(window);

	if (size == 0)
		return -EINVAL;
	memset(r, 0, size);
	r->window = window;
	r->mask = replay_words(window) - 1;
	r->top = initial_top;
	r->bitmap[(initial_top >> 6) & r->mask] = (uint64_t)1 << (initial_top & 63);
	return 0;
}
