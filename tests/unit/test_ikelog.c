/* test_ikelog.c - the IKE (Oakley) log: the previous run's file kept as
 * FILE.sav, lines above the diagnostic level left out, rotation after
 * exactly 50,000 entries, errors that name the file. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cp_ikelog.h"
#include "check_run.h"

static char dir[] = "/tmp/dpsec-ikelog.XXXXXX";
static char path[PATH_MAX], saved[PATH_MAX];

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/oakley.log", dir);
	snprintf(saved, sizeof(saved), "%s/oakley.log.sav", dir);
}

static void teardown(void)
{
	unlink(path);
	unlink(saved);
	rmdir(dir);
	strcpy(dir, "/tmp/dpsec-ikelog.XXXXXX");
}

/* Lines of a file; -1 when it does not exist. The first and last line
 * are copied out when asked for. */
static long count_lines(const char *file, char *first, char *last, size_t cap)
{
	char line[512];
	long n = 0;
	FILE *f = fopen(file, "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (n == 0 && first != NULL)
			snprintf(first, cap, "%s", line);
		if (last != NULL)
			snprintf(last, cap, "%s", line);
		n++;
	}
	fclose(f);
	return n;
}

static void write_entries(struct cp_ikelog *l, int from, int count)
{
	char line[64];

	for (int i = from; i < from + count; i++) {
		snprintf(line, sizeof(line), "entry %d", i);
		cp_ikelog_write(l, 6, line);
	}
}

START_TEST(previous_run_kept_as_sav)
{
	struct cp_ikelog l;
	char err[256], first[512];
	FILE *f = fopen(path, "w");

	fputs("the previous run\n", f);
	fclose(f);
	ck_assert_int_eq(cp_ikelog_open(&l, path, 7, CP_IKELOG_ENTRIES, err, sizeof(err)), 0);
	ck_assert_int_eq(count_lines(saved, first, NULL, sizeof(first)), 1);
	ck_assert_str_eq(first, "the previous run\n");
	ck_assert_int_eq(count_lines(path, NULL, NULL, 0), 0);
	cp_ikelog_write(&l, 7, "IKE_SA_INIT sent");
	ck_assert_int_eq(count_lines(path, first, NULL, sizeof(first)), 1); /* line buffered */
	ck_assert_ptr_nonnull(strstr(first, " debug IKE_SA_INIT sent\n"));
	ck_assert_int_eq(first[4], '-'); /* "YYYY-MM-DD hh:mm:ss.mmmZ" first */
	ck_assert_int_eq(first[23], 'Z');
	cp_ikelog_close(&l);
}
END_TEST

START_TEST(level_filters_lines)
{
	struct cp_ikelog l;
	char err[256];

	ck_assert_int_eq(cp_ikelog_open(&l, path, 3, CP_IKELOG_ENTRIES, err, sizeof(err)), 0);
	cp_ikelog_write(&l, 3, "authentication failed");
	cp_ikelog_write(&l, 4, "retransmitting");
	cp_ikelog_write(&l, 7, "payload dump");
	cp_ikelog_close(&l);
	ck_assert_int_eq(count_lines(path, NULL, NULL, 0), 1);
	ck_assert_uint_eq(l.entries, 1);
}
END_TEST

START_TEST(rotates_at_fifty_thousand_entries)
{
	struct cp_ikelog l;
	char err[256], first[512], last[512];

	ck_assert_int_eq(cp_ikelog_open(&l, path, 7, CP_IKELOG_ENTRIES, err, sizeof(err)), 0);
	write_entries(&l, 1, 50000);
	ck_assert_int_eq(count_lines(path, NULL, NULL, 0), 50000);
	ck_assert_int_eq(count_lines(saved, NULL, NULL, 0), -1);
	write_entries(&l, 50001, 1);
	ck_assert_uint_eq(l.rotations, 1);
	ck_assert_int_eq(count_lines(saved, first, last, sizeof(first)), 50000);
	ck_assert_ptr_nonnull(strstr(first, " entry 1\n"));
	ck_assert_ptr_nonnull(strstr(last, " entry 50000\n"));
	ck_assert_int_eq(count_lines(path, first, NULL, sizeof(first)), 1);
	ck_assert_ptr_nonnull(strstr(first, " entry 50001\n"));
	write_entries(&l, 50002, 50000); /* a second rotation: only two files ever */
	ck_assert_uint_eq(l.rotations, 2);
	ck_assert_int_eq(count_lines(saved, first, NULL, sizeof(first)), 50000);
	ck_assert_ptr_nonnull(strstr(first, " entry 50001\n"));
	ck_assert_int_eq(count_lines(path, NULL, NULL, 0), 1);
	cp_ikelog_close(&l);
}
END_TEST

START_TEST(errors_name_the_problem)
{
	struct cp_ikelog l;
	char err[512], bad[PATH_MAX + 32];

	snprintf(bad, sizeof(bad), "%s/no-such-dir/oakley.log", dir);
	ck_assert_int_eq(cp_ikelog_open(&l, bad, 7, CP_IKELOG_ENTRIES, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, bad));
	ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));
	ck_assert_int_eq(cp_ikelog_open(&l, path, 8, CP_IKELOG_ENTRIES, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "level 8"));
	cp_ikelog_write(&l, 0, "not open: nothing happens");
	ck_assert_int_eq(count_lines(path, NULL, NULL, 0), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ikelog");
	TCase *tc = tcase_create("ikelog");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, previous_run_kept_as_sav);
	tcase_add_test(tc, level_filters_lines);
	tcase_add_test(tc, rotates_at_fifty_thousand_entries);
	tcase_add_test(tc, errors_name_the_problem);
	suite_add_tcase(s, tc);
	return check_run(s);
}
