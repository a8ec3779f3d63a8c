/* test_seq_store.c - the file of static keys' reserved sequence numbers
 * (dataplane/seq_store.c): made at the first grant only (mode 0600, its
 * directory too), read back by a new store, never lowered, compacted when
 * rewritten; a damaged line refused with its number, a last line cut by a
 * crash ignored (its grant was never synced, so never used) but no line
 * with records after it; a key
 * taken by one outbound SA at a time, and not both ways. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seq_store.h"
#include "check_run.h"

static char dir[64], path[128];
static const uint8_t fp_a[DP_SEQ_FP_LEN] = { 0xa1, 0x02, 0x03 };
static const uint8_t fp_b[DP_SEQ_FP_LEN] = { 0xb1, 0x02, 0x03 };

/* A fresh directory; the file goes one level below it, not yet made. */
static void fresh_path(void)
{
	snprintf(dir, sizeof(dir), "/tmp/dpsec-seq-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state/gw.seq", dir);
}

/* fresh_path()'s directory, emptied and removed. */
static void remove_fresh(void)
{
	char d[128];

	unlink(path);
	snprintf(d, sizeof(d), "%s/state", dir);
	rmdir(d);
	rmdir(dir);
}

static struct dp_seq_store *open_ok(void)
{
	struct dp_seq_store *s;
	char err[512];

	ck_assert_msg(dp_seq_store_open(&s, path, err, sizeof(err)) == 0, "%s", err);
	return s;
}

/* The file made with len bytes of text, NUL bytes included. */
static void write_bytes(const char *text, size_t len)
{
	char d[128];
	FILE *f;

	snprintf(d, sizeof(d), "%s/state", dir);
	mkdir(d, 0700);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	fclose(f);
}

static void write_file(const char *text)
{
	write_bytes(text, strlen(text));
}

static int count_lines(void)
{
	char line[256];
	int n = 0;
	FILE *f = fopen(path, "r");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		n += line[0] != '#';
	fclose(f);
	return n;
}

START_TEST(test_made_at_first_grant_and_read_back)
{
	struct dp_seq_store *s;
	struct stat st;
	char err[512];

	fresh_path();
	s = open_ok();
	ck_assert_int_ne(stat(path, &st), 0); /* nothing granted: no file */
	ck_assert_uint_eq(dp_seq_store_end(s, fp_a), 0);
	ck_assert_int_eq(dp_seq_store_save(s, fp_a, 1000, err, sizeof(err)), 0);
	ck_assert_int_eq(dp_seq_store_save(s, fp_b, 1ull << 40, err, sizeof(err)), 0);
	ck_assert_int_eq(dp_seq_store_save(s, fp_a, 500, err, sizeof(err)), 0); /* never lowered */
	ck_assert_uint_eq(dp_seq_store_end(s, fp_a), 1000);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	dp_seq_store_close(s);
	s = open_ok(); /* a restarted dpsecd */
	ck_assert_uint_eq(dp_seq_store_end(s, fp_a), 1000);
	ck_assert_uint_eq(dp_seq_store_end(s, fp_b), 1ull << 40);
	dp_seq_store_close(s);
	remove_fresh();
}
END_TEST

START_TEST(test_compacted_when_rewritten)
{
	struct dp_seq_store *s;
	char err[512];

	fresh_path();
	s = open_ok();
	for (uint64_t end = 1; end <= 50; end++)
		ck_assert_int_eq(dp_seq_store_save(s, fp_a, end * 100, err, sizeof(err)), 0);
	dp_seq_store_close(s);
	ck_assert_int_eq(count_lines(), 50); /* a line per grant */
	s = open_ok();
	ck_assert_int_eq(dp_seq_store_save(s, fp_b, 7, err, sizeof(err)), 0);
	dp_seq_store_close(s);
	ck_assert_int_eq(count_lines(), 2); /* one per key, then the new grant */
	s = open_ok();
	ck_assert_uint_eq(dp_seq_store_end(s, fp_a), 5000);
	ck_assert_uint_eq(dp_seq_store_end(s, fp_b), 7);
	dp_seq_store_close(s);
	remove_fresh();
}
END_TEST

START_TEST(test_damaged_line_refused_with_its_number)
{
	static const char *const bad[] = {
		"a1020300000000000000000000000000 12\nnot a record\n",
		"a1020300000000000000000000000000 12\nA1020300000000000000000000000000 12\n",
		"a1020300000000000000000000000000 12\na1020300000000000000000000000000 0\n",
		"a1020300000000000000000000000000 12\na1020300000000000000000000000000 99999999999999999999\n",
		"a1020300000000000000000000000000 12\na10203 12\n",
	};
	struct dp_seq_store *s;
	char err[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fresh_path();
		write_file(bad[i]);
		ck_assert_int_eq(dp_seq_store_open(&s, path, err, sizeof(err)), -EINVAL);
		ck_assert_ptr_null(s);
		ck_assert_msg(strstr(err, "line 2") != NULL && strstr(err, path) != NULL, "%zu: %s", i, err);
		remove_fresh();
	}
}
END_TEST

START_TEST(test_cut_last_line_ignored)
{
	struct dp_seq_store *s;

	fresh_path();
	write_file("# header\na1020300000000000000000000000000 12\nb102030000000000000000000000000");
	s = open_ok();
	ck_assert_uint_eq(dp_seq_store_end(s, fp_a), 12);
	ck_assert_uint_eq(dp_seq_store_end(s, fp_b), 0);
	dp_seq_store_close(s);
	remove_fresh();
}
END_TEST

/* A crash can leave a file's last block unwritten, NUL bytes: after a cut
 * line, or alone after the last whole one (more than a line's buffer of
 * them). A NUL byte with more records after it is damage: those records
 * must not be passed over, or their keys would count from 1 again. */
START_TEST(test_nul_bytes_only_at_the_end)
{
	static const char cut_then_nuls[] = "a1020300000000000000000000000000 12\nb10203\0\0\0";
	static const char nul_then_record[] = "a1020300000000000000000000000000 12\nxx\0\n"
					      "b1020300000000000000000000000000 7\n";
	char nuls_after_whole[36 + 1 + 300] = "a1020300000000000000000000000000 12\n";
	struct dp_seq_store *s;
	char err[512];

	fresh_path();
	write_bytes(cut_then_nuls, sizeof(cut_then_nuls) - 1);
	s = open_ok();
	ck_assert_uint_eq(dp_seq_store_end(s, fp_a), 12);
	dp_seq_store_close(s);
	write_bytes(nuls_after_whole, sizeof(nuls_after_whole));
	s = open_ok();
	ck_assert_uint_eq(dp_seq_store_end(s, fp_a), 12);
	dp_seq_store_close(s);
	write_bytes(nul_then_record, sizeof(nul_then_record) - 1);
	ck_assert_int_eq(dp_seq_store_open(&s, path, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "line 2") != NULL, "%s", err);
	remove_fresh();
}
END_TEST

START_TEST(test_claims)
{
	struct dp_seq_store *s;

	fresh_path();
	s = open_ok();
	ck_assert_int_eq(dp_seq_store_claim(s, fp_a, true), 0);
	ck_assert_int_eq(dp_seq_store_claim(s, fp_a, true), -EEXIST);   /* one outbound SA */
	ck_assert_int_eq(dp_seq_store_claim(s, fp_a, false), -ENOTUNIQ); /* not both ways */
	ck_assert_int_eq(dp_seq_store_claim(s, fp_b, false), 0);
	ck_assert_int_eq(dp_seq_store_claim(s, fp_b, false), 0);         /* inbound ones may share */
	ck_assert_int_eq(dp_seq_store_claim(s, fp_b, true), -ENOTUNIQ);
	dp_seq_store_release(s, fp_b, false);
	ck_assert_int_eq(dp_seq_store_claim(s, fp_b, true), -ENOTUNIQ); /* one inbound left */
	dp_seq_store_release(s, fp_b, false);
	ck_assert_int_eq(dp_seq_store_claim(s, fp_b, true), 0);
	dp_seq_store_release(s, fp_a, true);
	ck_assert_int_eq(dp_seq_store_claim(s, fp_a, true), 0);
	dp_seq_store_close(s);
	remove_fresh();
}
END_TEST

START_TEST(test_unwritable_directory_named)
{
	struct dp_seq_store *s;
	char err[512];

	snprintf(path, sizeof(path), "/proc/dpsec-no/gw.seq");
	s = open_ok();
	ck_assert_int_lt(dp_seq_store_save(s, fp_a, 10, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "/proc/dpsec-no/gw.seq") != NULL, "%s", err);
	ck_assert_uint_eq(dp_seq_store_end(s, fp_a), 0); /* not granted */
	dp_seq_store_close(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("seq_store");
	TCase *tc = tcase_create("file");

	tcase_add_test(tc, test_made_at_first_grant_and_read_back);
	tcase_add_test(tc, test_compacted_when_rewritten);
	tcase_add_test(tc, test_damaged_line_refused_with_its_number);
	tcase_add_test(tc, test_cut_last_line_ignored);
	tcase_add_test(tc, test_nul_bytes_only_at_the_end);
	tcase_add_test(tc, test_claims);
	tcase_add_test(tc, test_unwritable_directory_named);
	suite_add_tcase(s, tc);
	return check_run(s);
}
