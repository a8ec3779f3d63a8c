/* test_shm_ring.c - the shared-memory SPSC ring (include/dpsec_ring.h):
 * back-pressure at exactly DPSEC_RING_SLOTS, sequence numbers as ring
 * positions, slots wiped on release, malformed messages named, and two
 * real processes streaming a million messages through a MAP_SHARED ring
 * with no loss, duplication, reordering or torn body. */
#include <check.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dpsec_ring.h"
#include "check_run.h"

static struct dpsec_ring *ring_new(void)
{
	struct dpsec_ring *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(r, MAP_FAILED);
	dpsec_ring_init(r);
	return r;
}

START_TEST(test_full_ring_refuses)
{
	struct dpsec_ring *r = ring_new();
	uint32_t v = 7;

	for (uint32_t i = 0; i < DPSEC_RING_SLOTS; i++)
		ck_assert_int_eq(dpsec_ring_push(r, DPSEC_CMD_SA_DEL, &v, sizeof(v)), (int64_t)i);
	ck_assert_uint_eq(dpsec_ring_free(r), 0);
	ck_assert_int_eq(dpsec_ring_push(r, DPSEC_CMD_SA_DEL, &v, sizeof(v)), -1);
	ck_assert_int_eq(dpsec_ring_push(r, DPSEC_CMD_SA_DEL, &v, sizeof(v)), -1);
	ck_assert_ptr_nonnull(dpsec_ring_peek(r));
	dpsec_ring_release(r);
	ck_assert_int_eq(dpsec_ring_push(r, DPSEC_CMD_SA_DEL, &v, sizeof(v)), DPSEC_RING_SLOTS);
	munmap(r, sizeof(*r));
}
END_TEST

START_TEST(test_oversized_body_refused)
{
	struct dpsec_ring *r = ring_new();
	static uint8_t big[DPSEC_MSG_BODY + 1];

	ck_assert_int_eq(dpsec_ring_push(r, DPSEC_CMD_SA_ADD, big, sizeof(big)), -1);
	ck_assert_int_eq(dpsec_ring_push(r, DPSEC_CMD_SA_ADD, big, DPSEC_MSG_BODY), 0);
	ck_assert_uint_eq(dpsec_ring_count(r), 1);
	munmap(r, sizeof(*r));
}
END_TEST

START_TEST(test_release_wipes_slot)
{
	struct dpsec_ring *r = ring_new();
	uint8_t key[32];
	struct dpsec_msg *m;

	memset(key, 0xa5, sizeof(key));
	ck_assert_int_eq(dpsec_ring_push(r, DPSEC_CMD_SA_ADD, key, sizeof(key)), 0);
	m = dpsec_ring_peek(r);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->body[31], 0xa5);
	dpsec_ring_release(r);
	for (size_t i = 0; i < sizeof(*m); i++)
		ck_assert_uint_eq(((uint8_t *)&r->msg[0])[i], 0);
	ck_assert_ptr_null(dpsec_ring_peek(r));
	munmap(r, sizeof(*r));
}
END_TEST

START_TEST(test_msg_check_names_problem)
{
	struct dpsec_ring *r = ring_new();
	uint32_t v = 1;
	struct dpsec_msg *m;

	dpsec_ring_push(r, DPSEC_CMD_SA_DEL, &v, sizeof(v));
	m = dpsec_ring_peek(r);
	ck_assert_ptr_null(dpsec_msg_check(m, 0, sizeof(v)));
	ck_assert_str_eq(dpsec_msg_check(m, 1, sizeof(v)), "message sequence number out of order");
	ck_assert_str_eq(dpsec_msg_check(m, 0, 8), "message body length wrong for its type");
	m->h.version = 99;
	ck_assert_str_eq(dpsec_msg_check(m, 0, sizeof(v)), "message version not understood");
	munmap(r, sizeof(*r));
}
END_TEST

#define STREAM_N 1000000u

/* Each body holds its index and a pattern derived from it over all of the
 * body, so a torn or stale slot shows. */
static void fill_body(uint8_t *b, uint32_t i)
{
	for (uint32_t j = 0; j < DPSEC_MSG_BODY; j += 4) {
		uint32_t v = i * 2654435761u + j;

		memcpy(b + j, &v, 4);
	}
}

static void produce(struct dpsec_ring *r)
{
	static uint8_t body[DPSEC_MSG_BODY];

	for (uint32_t i = 0; i < STREAM_N;) {
		fill_body(body, i);
		if (dpsec_ring_push(r, (uint16_t)(1 + i % 11), body, DPSEC_MSG_BODY - (i % 7)) >= 0)
			i++;
		else
			sched_yield(); /* back-pressure: wait, never drop */
	}
}

START_TEST(test_two_processes_stream)
{
	struct dpsec_ring *r = ring_new();
	static uint8_t want[DPSEC_MSG_BODY];
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		produce(r);
		_exit(0);
	}
	for (uint32_t i = 0; i < STREAM_N;) {
		struct dpsec_msg *m = dpsec_ring_peek(r);
		uint32_t len = DPSEC_MSG_BODY - (i % 7);

		if (m == NULL) {
			sched_yield();
			continue;
		}
		ck_assert_ptr_null(dpsec_msg_check(m, i, len));
		ck_assert_uint_eq(m->h.type, 1 + i % 11);
		fill_body(want, i);
		ck_assert_int_eq(memcmp(m->body, want, len), 0);
		dpsec_ring_release(r);
		i++;
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_ptr_null(dpsec_ring_peek(r));
	munmap(r, sizeof(*r));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shm_ring");
	TCase *tc = tcase_create("ring");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_full_ring_refuses);
	tcase_add_test(tc, test_oversized_body_refused);
	tcase_add_test(tc, test_release_wipes_slot);
	tcase_add_test(tc, test_msg_check_names_problem);
	tcase_add_test(tc, test_two_processes_stream);
	suite_add_tcase(s, tc);
	return check_run(s);
}
