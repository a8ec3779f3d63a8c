/* test_replay.c - the anti-replay window: a table of scenarios run for every
 * window size with and without ESN, a differential test against a naive
 * reference (every accepted number in a set, and the highest one), and two
 * threads sharing one window as two workers share a fat tunnel's SA. */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replay.h"
#include "check_run.h"

#define EPOCH ((uint64_t)1 << 32)

/* ck_assert_msg() records its location on every call; in the inner loops
 * only a failure is worth that. */
#define EXPECT(cond, ...)                          \
	do {                                       \
		if (!(cond))                       \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

static const uint32_t windows[] = {32, 64, 1024, 4096, 8192};
#define N_WINDOWS (sizeof(windows) / sizeof(windows[0]))
#define N_CONFIGS (N_WINDOWS * 2) /* x ESN off, on */

static struct dp_replay *replay_new(uint32_t window, uint64_t initial_top)
{
	struct dp_replay *r = malloc(dp_replay_size(window));

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(dp_replay_init(r, window, initial_top), 0);
	return r;
}

START_TEST(test_size)
{
	ck_assert_uint_eq(dp_replay_size(0), 0);
	ck_assert_uint_eq(dp_replay_size(DP_REPLAY_WINDOW_MAX + 1), 0);
	/* words: window/64 rounded up, plus one, rounded up to a power of two */
	ck_assert_uint_eq(dp_replay_size(1), sizeof(struct dp_replay) + 2 * 8);
	ck_assert_uint_eq(dp_replay_size(64), sizeof(struct dp_replay) + 2 * 8);
	ck_assert_uint_eq(dp_replay_size(65), sizeof(struct dp_replay) + 4 * 8);
	ck_assert_uint_eq(dp_replay_size(1024), sizeof(struct dp_replay) + 32 * 8);
	ck_assert_uint_eq(dp_replay_size(8192), sizeof(struct dp_replay) + 256 * 8);
	struct dp_replay r;
	ck_assert_int_eq(dp_replay_init(&r, 0, 0), -EINVAL);
}
END_TEST

/* ---- scenarios ---------------------------------------------------------- */

/* Expected outcome of a check: a verdict, or NEXT: accepted by the check
 * but inferred into the next epoch (an ESN receiver cannot tell a packet
 * left of its window from one 2^32 ahead; the ICV rejects it). */
enum { OK = DP_REPLAY_OK, DUP = DP_REPLAY_DUP, OLD = DP_REPLAY_OLD, NEXT };

enum op {
	OP_END,
	OP_RECV,   /* check; if accepted as that number, the ICV verifies: update */
	OP_CHECK,  /* check only (the ICV fails): the state must not change */
	OP_UPDATE, /* update only, the verdict is update's */
	OP_FILL,   /* OP_RECV of every number in a..b */
	OP_SCAN,   /* OP_CHECK of every number in a..b */
};

/* A sequence number of a scenario: base + k * window + off. */
struct sn {
	int64_t k, off;
};

struct step {
	uint8_t op;
	struct sn a, b;
	uint8_t plain, esn; /* expected without / with ESN */
};

struct scenario {
	const char *name;
	uint64_t base, initial_top;
	uint8_t only; /* 0: both modes, 1: without ESN only, 2: with ESN only */
	struct step steps[16];
};

#define S(k, o) {(k), (o)}
#define RECV(a, p, e) {OP_RECV, a, a, p, e}
#define CHECK(a, p, e) {OP_CHECK, a, a, p, e}
#define UPDATE(a, p, e) {OP_UPDATE, a, a, p, e}
#define FILL(a, b) {OP_FILL, a, b, OK, OK}
#define SCAN(a, b, p, e) {OP_SCAN, a, b, p, e}
#define N_A 0 /* not applicable in this mode */

static const struct scenario scenarios[] = {
	{"in order", 0, 0, 0, {
		FILL(S(0, 1), S(1, 10)),
		SCAN(S(0, 11), S(1, 10), DUP, DUP),
		CHECK(S(0, 10), OLD, NEXT),
		CHECK(S(1, 11), OK, OK),
	}},
	{"duplicates", 0, 0, 0, {
		RECV(S(0, 1), OK, OK), RECV(S(0, 1), DUP, DUP),
		RECV(S(0, 2), OK, OK), RECV(S(0, 1), DUP, DUP), RECV(S(0, 2), DUP, DUP),
		UPDATE(S(0, 2), DUP, DUP), UPDATE(S(0, 1), DUP, DUP),
	}},
	{"reorder within the window", 0, 0, 0, {
		RECV(S(1, 0), OK, OK), RECV(S(1, -1), OK, OK),
		RECV(S(0, 1), OK, OK), /* the left edge */
		RECV(S(0, 2), OK, OK), RECV(S(1, -2), OK, OK),
		RECV(S(0, 1), DUP, DUP), RECV(S(1, 0), DUP, DUP), RECV(S(1, -1), DUP, DUP),
		SCAN(S(0, 3), S(1, -3), OK, OK),
	}},
	{"left edge", 1000, 0, 0, {
		RECV(S(2, 0), OK, OK),
		RECV(S(1, 1), OK, OK),   /* exactly at the left edge */
		RECV(S(1, 0), OLD, NEXT), /* one beyond */
		RECV(S(1, 1), DUP, DUP),
		RECV(S(2, 1), OK, OK),
		CHECK(S(1, 1), OLD, NEXT), CHECK(S(1, 2), OK, OK),
	}},
	{"jump beyond the window", 0, 0, 0, {
		FILL(S(0, 1), S(1, 0)),
		RECV(S(3, 7), OK, OK),
		SCAN(S(2, 8), S(3, 6), OK, OK),  /* no stale bits in the new window */
		SCAN(S(0, 1), S(2, 7), OLD, NEXT),
		CHECK(S(3, 7), DUP, DUP),
	}},
	{"jump of exactly the window", 0, 0, 0, {
		FILL(S(0, 1), S(1, 0)),
		RECV(S(2, 0), OK, OK),
		SCAN(S(1, 1), S(2, -1), OK, OK),
		CHECK(S(1, 0), OLD, NEXT), CHECK(S(2, 0), DUP, DUP),
	}},
	{"jump of the window + 1", 0, 0, 0, {
		FILL(S(0, 1), S(1, 0)),
		RECV(S(2, 1), OK, OK),
		SCAN(S(1, 2), S(2, 0), OK, OK),
		CHECK(S(1, 1), OLD, NEXT), CHECK(S(1, 0), OLD, NEXT), CHECK(S(2, 1), DUP, DUP),
	}},
	{"jump of the window - 1", 0, 0, 0, {
		FILL(S(0, 1), S(1, 0)),
		RECV(S(2, -1), OK, OK),
		CHECK(S(1, 0), DUP, DUP),
		SCAN(S(1, 1), S(2, -2), OK, OK),
		CHECK(S(1, -1), OLD, NEXT),
	}},
	{"failed ICV does not move the window", 0, 0, 0, {
		RECV(S(0, 5), OK, OK),
		CHECK(S(0, 6), OK, OK), CHECK(S(3, 0), OK, OK), CHECK(S(0, 5), DUP, DUP),
		RECV(S(0, 6), OK, OK), RECV(S(0, 4), OK, OK),
		CHECK(S(3, 0), OK, OK), CHECK(S(0, 6), DUP, DUP),
	}},
	{"two copies in one burst", 0, 0, 0, {
		CHECK(S(0, 7), OK, OK), CHECK(S(0, 7), OK, OK),
		UPDATE(S(0, 7), OK, OK), UPDATE(S(0, 7), DUP, DUP),
		CHECK(S(2, 0), OK, OK), CHECK(S(0, 6), OK, OK),
		UPDATE(S(2, 0), OK, OK), UPDATE(S(0, 6), OLD, OLD), /* the window moved */
	}},
	{"sequence number 0", 0, 0, 0, {
		CHECK(S(0, 0), OLD, OLD), UPDATE(S(0, 0), OLD, OLD),
		RECV(S(0, 1), OK, OK),
		CHECK(S(0, 0), OLD, OLD),
		RECV(S(1, 0), OK, OK),
		CHECK(S(0, 0), OLD, NEXT), /* with ESN: 2^32, a valid number */
	}},
	{"ESN rollover", EPOCH, EPOCH - 3, 2, {
		CHECK(S(0, -3), N_A, DUP),  /* the initial top counts as seen */
		RECV(S(0, 2), N_A, OK),     /* small low half: the next epoch */
		RECV(S(0, -2), N_A, OK),    /* large low half: the previous epoch, in the window */
		RECV(S(0, -3), N_A, DUP),
		RECV(S(0, 0), N_A, OK),     /* low half 0 is valid in epoch 1 */
		RECV(S(-1, 3), N_A, OK),    /* the left edge, in the previous epoch */
		RECV(S(-1, 2), N_A, NEXT),  /* one beyond */
		RECV(S(0, 1), N_A, OK), RECV(S(0, 2), N_A, DUP), RECV(S(0, -1), N_A, OK),
		RECV(S(1, 0), N_A, OK),     /* the window now lies in epoch 1 */
		CHECK(S(0, -1), N_A, NEXT), CHECK(S(0, 0), N_A, NEXT), /* left of it */
		CHECK(S(0, 1), N_A, DUP), CHECK(S(0, 3), N_A, OK),
	}},
	{"ESN window ending at window - 1 in epoch 1", EPOCH, EPOCH - 3, 2, {
		RECV(S(1, -1), N_A, OK),   /* low half of the top: window - 1 */
		CHECK(S(0, 0), N_A, OK),   /* the left edge, low half 0 */
		CHECK(S(0, 5), N_A, OK),
		CHECK(S(0, -1), N_A, NEXT),
		CHECK(S(0, -3), N_A, NEXT),
	}},
	{"large first number", 0, 0, 0, {
		RECV(S(0, 0xfffffffb), OK, OK), /* with ESN: stays in epoch 0 */
		CHECK(S(0, 0xfffffffa), OK, OK),
		CHECK(S(0, 1), OLD, NEXT),
	}},
	{"ESN jump across the epoch boundary", EPOCH, EPOCH - 10, 2, {
		RECV(S(2, 0), N_A, OK),
		SCAN(S(1, 1), S(2, -1), N_A, OK),
		SCAN(S(0, -12), S(1, 0), N_A, NEXT),
		CHECK(S(2, 0), N_A, DUP),
	}},
	{"without ESN the 32-bit space ends", EPOCH, EPOCH - 2, 1, {
		RECV(S(0, -1), OK, N_A),
		CHECK(S(0, 0), OLD, N_A), CHECK(S(0, 1), OLD, N_A),
		RECV(S(-1, 0), OK, N_A),  /* the left edge */
		CHECK(S(-1, -1), OLD, N_A),
	}},
};
#define N_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

struct run {
	const struct scenario *sc;
	uint32_t window;
	bool esn;
	unsigned int step;
	struct dp_replay *r, *copy;
	size_t size;
};

static uint64_t sn_value(const struct run *run, struct sn s)
{
	return run->sc->base + (uint64_t)(s.k * run->window + s.off);
}

#define RUN_FMT "W=%u esn=%d '%s' step %u seq %" PRIu64
#define RUN_ARGS(run, seq) (run)->window, (run)->esn, (run)->sc->name, (run)->step, (seq)

/* Checks seq and compares with want; updates when told and accepted. */
static void run_check(struct run *run, uint64_t seq, uint8_t want, bool update)
{
	uint64_t seq64 = 0;
	int v;

	memcpy(run->copy, run->r, run->size);
	v = dp_replay_check(run->r, (uint32_t)seq, run->esn, &seq64);
	EXPECT(memcmp(run->copy, run->r, run->size) == 0, RUN_FMT ": check changed the state",
		      RUN_ARGS(run, seq));
	EXPECT(v == (want == NEXT ? OK : want), RUN_FMT ": verdict %d, want %d",
		      RUN_ARGS(run, seq), v, want);
	if (v != OK)
		return;
	uint64_t expect = want == NEXT ? seq + EPOCH : run->esn ? seq : (uint32_t)seq;
	EXPECT(seq64 == expect, RUN_FMT ": inferred %" PRIu64 ", want %" PRIu64,
		      RUN_ARGS(run, seq), seq64, expect);
	if (update && want == OK)
		EXPECT(dp_replay_update(run->r, seq64) == OK, RUN_FMT ": update refused",
			      RUN_ARGS(run, seq));
}

static void run_step(struct run *run, const struct step *st)
{
	uint8_t want = run->esn ? st->esn : st->plain;
	uint64_t a = sn_value(run, st->a), b = sn_value(run, st->b);
	int v;

	switch (st->op) {
	case OP_RECV:
	case OP_FILL:
		for (uint64_t s = a; s <= b; s++)
			run_check(run, s, want, true);
		break;
	case OP_CHECK:
	case OP_SCAN:
		for (uint64_t s = a; s <= b; s++)
			run_check(run, s, want, false);
		break;
	case OP_UPDATE:
		v = dp_replay_update(run->r, a);
		EXPECT(v == want, RUN_FMT ": update %d, want %d", RUN_ARGS(run, a), v, want);
		break;
	}
}

START_TEST(test_scenarios)
{
	struct run run = {.window = windows[_i % N_WINDOWS], .esn = _i >= (int)N_WINDOWS};

	run.size = dp_replay_size(run.window);
	run.copy = malloc(run.size);
	ck_assert_ptr_nonnull(run.copy);
	for (size_t i = 0; i < N_SCENARIOS; i++) {
		run.sc = &scenarios[i];
		if ((run.sc->only == 1 && run.esn) || (run.sc->only == 2 && !run.esn))
			continue;
		run.r = replay_new(run.window, run.sc->initial_top);
		for (run.step = 0; run.sc->steps[run.step].op != OP_END; run.step++)
			run_step(&run, &run.sc->steps[run.step]);
		free(run.r);
	}
	free(run.copy);
}
END_TEST

/* ---- differential test against a naive reference ------------------------ */

#define EVENTS 100000
#define SET_BITS 18 /* room for every number accepted in one run */

/* The reference: the highest accepted number and the set of all accepted
 * ones (open addressing; 0 is never accepted, so it marks a free slot). */
struct ref {
	uint64_t top;
	uint32_t window;
	uint64_t *set;
};

static size_t ref_slot(const struct ref *ref, uint64_t s)
{
	size_t mask = ((size_t)1 << SET_BITS) - 1;
	size_t i = (size_t)((s * 0x9e3779b97f4a7c15ull) >> (64 - SET_BITS));

	while (ref->set[i] != 0 && ref->set[i] != s)
		i = (i + 1) & mask;
	return i;
}

/* The number with low half lo in [top - window + 1, that + 2^32), the
 * reading of RFC 4303 Appendix A; a negative one moves up an epoch. */
static uint64_t ref_infer(const struct ref *ref, uint32_t lo)
{
	__int128 left = (__int128)ref->top - ref->window + 1;
	__int128 c = (__int128)((ref->top & ~(EPOCH - 1)) | lo) - (__int128)EPOCH;

	while (c < left)
		c += EPOCH;
	if (c < 0)
		c += EPOCH;
	return (uint64_t)c;
}

static int ref_judge(const struct ref *ref, uint64_t s)
{
	if (s == 0)
		return OLD;
	if (s > ref->top)
		return OK;
	if (ref->top - s >= ref->window)
		return OLD;
	return ref->set[ref_slot(ref, s)] == s ? DUP : OK;
}

static int ref_update(struct ref *ref, uint64_t s)
{
	int v = ref_judge(ref, s);

	if (v != OK)
		return v;
	ref->set[ref_slot(ref, s)] = s;
	if (s > ref->top)
		ref->top = s;
	return OK;
}

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dull;
}

/* The true sequence number of the next packet, biased to the window's
 * edges, reordering, jumps around the window's size and duplicates. */
static uint64_t gen_seq(uint64_t *rng, const struct ref *ref, uint64_t last, bool esn)
{
	int64_t top = (int64_t)ref->top, w = ref->window;
	uint64_t r = rng_next(rng) % 100, x = rng_next(rng);
	int64_t s;

	if (r < 35)
		s = top + 1 + (int64_t)(x % 4);
	else if (r < 60)
		s = top - (int64_t)(x % (uint64_t)w);
	else if (r < 70)
		s = top - w - 2 + (int64_t)(x % 5);
	else if (r < 78)
		s = top + w - 2 + (int64_t)(x % 5);
	else if (r < 88)
		s = top + (int64_t)(x % (uint64_t)(4 * w));
	else if (r < 92)
		s = top + (int64_t)(x % (1u << 20));
	else if (r < 96)
		s = top - w - (int64_t)(x % (1u << 20));
	else
		s = (int64_t)last;
	if (s < 0) /* with ESN: a low half near 2^32 before epoch 0 is complete */
		s = esn ? s + (int64_t)EPOCH : (int64_t)(x % 4);
	if (!esn && s >= (int64_t)EPOCH)
		s = (int64_t)EPOCH - 1;
	return (uint64_t)s;
}

struct diff {
	uint64_t seed;
	struct ref ref;
	struct dp_replay *r;
	bool esn;
	uint32_t event;
	uint64_t accepted;
};

#define DIFF_FMT "seed %" PRIu64 " W=%u esn=%d event %u seq %" PRIu64
#define DIFF_ARGS(d, s) (d)->seed, (d)->ref.window, (d)->esn, (d)->event, (s)

/* Checks the packet both ways; returns the verdict and the inferred number. */
static int diff_check(struct diff *d, uint64_t s, uint64_t *seq64)
{
	uint64_t want64 = d->esn ? ref_infer(&d->ref, (uint32_t)s) : (uint32_t)s;
	int want = ref_judge(&d->ref, want64);
	int v = dp_replay_check(d->r, (uint32_t)s, d->esn, seq64);

	EXPECT(v == want, DIFF_FMT ": check %d, reference %d", DIFF_ARGS(d, s), v, want);
	EXPECT(*seq64 == want64, DIFF_FMT ": inferred %" PRIu64 ", reference %" PRIu64,
		      DIFF_ARGS(d, s), *seq64, want64);
	return v;
}

static void diff_update(struct diff *d, uint64_t s, uint64_t seq64)
{
	int want = ref_update(&d->ref, seq64);
	int v = dp_replay_update(d->r, seq64);

	EXPECT(v == want, DIFF_FMT ": update %d, reference %d", DIFF_ARGS(d, s), v, want);
	d->accepted += v == OK;
}

/* One packet: the ICV verifies only if the inferred number is the true one,
 * and fails at random besides; sometimes two copies come in one burst. */
static void diff_event(struct diff *d, uint64_t *rng, uint64_t s)
{
	uint64_t kind = rng_next(rng) % 10, seq64, seq64b;
	int v = diff_check(d, s, &seq64);

	if (kind == 1) {
		int v2 = diff_check(d, s, &seq64b);
		if (v == OK && seq64 == s)
			diff_update(d, s, seq64);
		if (v2 == OK && seq64b == s)
			diff_update(d, s, seq64b);
	} else if (kind != 0 && v == OK && seq64 == s) {
		diff_update(d, s, seq64);
	}
}

START_TEST(test_differential)
{
	/* with ESN the second run crosses into epoch 1 early on */
	static const uint64_t starts[2][2] = {{0, 3000000}, {0, EPOCH - 20000}};
	struct diff d = {.esn = _i >= (int)N_WINDOWS};
	uint32_t window = windows[_i % N_WINDOWS];

	d.ref.set = malloc(sizeof(uint64_t) << SET_BITS);
	ck_assert_ptr_nonnull(d.ref.set);
	for (size_t k = 0; k < 2; k++) {
		uint64_t start = starts[d.esn][k], rng, last = start;

		d.seed = 0x5eed0000u + (uint64_t)_i * 2 + k;
		rng = d.seed * 0x9e3779b97f4a7c15ull | 1;
		memset(d.ref.set, 0, sizeof(uint64_t) << SET_BITS);
		d.ref.window = window;
		d.ref.top = start;
		if (start != 0)
			d.ref.set[ref_slot(&d.ref, start)] = start;
		d.r = replay_new(window, start);
		d.accepted = 0;
		for (d.event = 0; d.event < EVENTS; d.event++) {
			uint64_t s = gen_seq(&rng, &d.ref, last, d.esn);
			diff_event(&d, &rng, s);
			last = s;
		}
		ck_assert_msg(d.accepted > EVENTS / 10, "seed %" PRIu64 ": only %" PRIu64 " accepted",
			      d.seed, d.accepted);
		free(d.r);
	}
	free(d.ref.set);
}
END_TEST

/* ---- two workers on one window ------------------------------------------ */

/* The stream: packet i carries number first + i, neighbours swapped now and
 * then; runs of 1..32 packets go alternately to each thread (worker), and
 * every fifth packet is also sent to the other one at the same place (a
 * copy both check before either records it). A thread waits when it is
 * SHARED_LEAD packets ahead of the other, so nothing falls left of the
 * window: every number must then be recorded exactly once. */
#define SHARED_PACKETS 300000u
#define SHARED_WINDOW 4096u
#define SHARED_LEAD 512u
#define SHARED_RUN 32u

struct shared {
	struct dp_replay *r;
	bool esn;
	uint64_t first;
	uint8_t *owner;         /* per position: 0 or 1, the thread it goes to */
	uint32_t *accepted;     /* per number - first: times recorded */
	uint64_t progress[2];   /* each thread's position */
	uint64_t dups, olds, misinferred;
};

struct shared_thread {
	struct shared *sh;
	unsigned int me;
};

static uint64_t shared_seq(const struct shared *sh, uint64_t i)
{
	if ((i / 2) % 3 == 0 && (i | 1) < SHARED_PACKETS)
		i ^= 1; /* the pair arrives swapped */
	return sh->first + i;
}

static bool shared_mine(const struct shared *sh, uint64_t i, unsigned int me)
{
	return sh->owner[i] == me || i % 5 == 0;
}

static void shared_wait_for_other(struct shared *sh, unsigned int me, uint64_t pos)
{
	while (pos > __atomic_load_n(&sh->progress[!me], __ATOMIC_ACQUIRE) + SHARED_LEAD)
		sched_yield();
}

/* One run: checks without the lock, as before crypto; records the accepted
 * ones under it, as after the ICV. */
static void shared_run(struct shared *sh, const uint64_t *seqs, unsigned int n)
{
	uint64_t seq64[SHARED_RUN];
	bool ok[SHARED_RUN];

	for (unsigned int j = 0; j < n; j++) {
		int v = dp_replay_check(sh->r, (uint32_t)seqs[j], sh->esn, &seq64[j]);

		ok[j] = v == DP_REPLAY_OK && seq64[j] == seqs[j];
		if (v == DP_REPLAY_OK && seq64[j] != seqs[j])
			__atomic_add_fetch(&sh->misinferred, 1, __ATOMIC_RELAXED);
		else if (v != DP_REPLAY_OK)
			__atomic_add_fetch(v == DP_REPLAY_DUP ? &sh->dups : &sh->olds, 1,
					   __ATOMIC_RELAXED);
	}
	dp_replay_lock(sh->r);
	for (unsigned int j = 0; j < n; j++) {
		if (!ok[j])
			continue;
		if (dp_replay_update(sh->r, seq64[j]) == DP_REPLAY_OK)
			__atomic_add_fetch(&sh->accepted[seqs[j] - sh->first], 1, __ATOMIC_RELAXED);
		else
			__atomic_add_fetch(&sh->dups, 1, __ATOMIC_RELAXED);
	}
	dp_replay_unlock(sh->r);
}

static void *shared_worker(void *arg)
{
	struct shared_thread *t = arg;
	struct shared *sh = t->sh;
	uint64_t seqs[SHARED_RUN];
	unsigned int n = 0;

	for (uint64_t i = 0; i < SHARED_PACKETS; i++) {
		if (!shared_mine(sh, i, t->me))
			continue;
		seqs[n++] = shared_seq(sh, i);
		if (n == SHARED_RUN || sh->owner[i] != sh->owner[i + 1 < SHARED_PACKETS ? i + 1 : i]) {
			shared_wait_for_other(sh, t->me, i);
			shared_run(sh, seqs, n);
			n = 0;
			__atomic_store_n(&sh->progress[t->me], i, __ATOMIC_RELEASE);
		}
	}
	shared_run(sh, seqs, n);
	__atomic_store_n(&sh->progress[t->me], UINT64_MAX / 2, __ATOMIC_RELEASE);
	return NULL;
}

static void shared_owners(struct shared *sh, uint64_t seed)
{
	uint64_t rng = seed * 0x9e3779b97f4a7c15ull | 1;
	uint8_t who = 0;

	for (uint64_t i = 0; i < SHARED_PACKETS;) {
		uint64_t len = 1 + rng_next(&rng) % SHARED_RUN;

		for (; len > 0 && i < SHARED_PACKETS; len--, i++)
			sh->owner[i] = who;
		who ^= 1;
	}
}

/* _i: 0 without ESN, 1 with ESN crossing into epoch 1 half way. */
START_TEST(test_two_workers)
{
	struct shared sh = {.esn = _i == 1};
	struct shared_thread t[2] = {{&sh, 0}, {&sh, 1}};
	pthread_t tid[2];
	uint64_t copies = 0;

	sh.first = sh.esn ? EPOCH - SHARED_PACKETS / 2 : 1;
	sh.r = replay_new(SHARED_WINDOW, sh.first - 1);
	sh.owner = malloc(SHARED_PACKETS);
	sh.accepted = calloc(SHARED_PACKETS, sizeof(*sh.accepted));
	ck_assert(sh.owner != NULL && sh.accepted != NULL);
	shared_owners(&sh, 0x7a11u + (uint64_t)_i);
	for (int k = 0; k < 2; k++)
		ck_assert_int_eq(pthread_create(&tid[k], NULL, shared_worker, &t[k]), 0);
	for (int k = 0; k < 2; k++)
		ck_assert_int_eq(pthread_join(tid[k], NULL), 0);
	for (uint64_t i = 0; i < SHARED_PACKETS; i++) {
		EXPECT(sh.accepted[i] == 1, "number %" PRIu64 " recorded %u times", sh.first + i,
		       sh.accepted[i]);
		copies += i % 5 == 0;
	}
	ck_assert_uint_eq(sh.misinferred, 0);
	ck_assert_uint_eq(sh.olds, 0);
	ck_assert_uint_eq(sh.dups, copies); /* every second copy, at check or at update */
	free(sh.owner);
	free(sh.accepted);
	free(sh.r);
}
END_TEST

/* The lock excludes: a worker that wants the window while another holds it
 * waits until it is released. */
static void *lock_then_mark(void *arg)
{
	struct shared *sh = arg;

	dp_replay_lock(sh->r);
	__atomic_store_n(&sh->dups, 1, __ATOMIC_RELEASE);
	dp_replay_unlock(sh->r);
	return NULL;
}

START_TEST(test_lock_excludes)
{
	struct shared sh = {.r = replay_new(64, 0)};
	struct timespec pause = {.tv_nsec = 50 * 1000 * 1000};
	pthread_t tid;

	dp_replay_lock(sh.r);
	ck_assert_int_eq(pthread_create(&tid, NULL, lock_then_mark, &sh), 0);
	nanosleep(&pause, NULL);
	ck_assert_msg(__atomic_load_n(&sh.dups, __ATOMIC_ACQUIRE) == 0,
		      "a second worker took the window while the first held it");
	dp_replay_unlock(sh.r);
	ck_assert_int_eq(pthread_join(tid, NULL), 0);
	ck_assert_uint_eq(sh.dups, 1);
	free(sh.r);
}
END_TEST

static Suite *replay_suite(void)
{
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("replay");

	tcase_add_test(tc, test_size);
	tcase_add_loop_test(tc, test_scenarios, 0, (int)N_CONFIGS);
	tcase_add_loop_test(tc, test_differential, 0, (int)N_CONFIGS);
	tcase_add_test(tc, test_lock_excludes);
	tcase_add_loop_test(tc, test_two_workers, 0, 2);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(replay_suite());
}
