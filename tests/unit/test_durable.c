/* test_durable.c - a saved policy store survives a crash once the save
 * returns: its contents synced, then renamed over the old store, then the
 * directory synced (a rename lives in the directory; without that last
 * sync, a crash can bring the old store back after dpsecctl was told the
 * change was saved). fsync() and rename() are wrapped at link time
 * (-Wl,--wrap) to record what cfg_store_save() and cfg_replace_durably()
 * do, in order, with the path each fsync() reached. */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg_file.h"
#include "cfg_store.h"
#include "lsan_libconfig.h"
#include "check_run.h"

int __real_fsync(int fd);
int __real_rename(const char *from, const char *to);
int __wrap_fsync(int fd);
int __wrap_rename(const char *from, const char *to);

#define MAX_EVENTS 16
#define NAME_LEN 256 /* the test's paths, under /tmp */
#define EVENT_LEN (2 * NAME_LEN + 32)

/* What the code under test did: "fsync file PATH", "fsync dir PATH" or
 * "rename FROM TO". */
static char events[MAX_EVENTS][EVENT_LEN];
static int n_events;

__attribute__((format(printf, 1, 2))) static void record(const char *fmt, ...)
{
	va_list ap;

	if (n_events == MAX_EVENTS)
		return;
	va_start(ap, fmt);
	vsnprintf(events[n_events++], sizeof(events[0]), fmt, ap);
	va_end(ap);
}

int __wrap_fsync(int fd)
{
	char link[64], path[NAME_LEN] = "";
	struct stat st;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	path[n > 0 ? n : 0] = '\0';
	record(fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) ? "fsync dir %s" : "fsync file %s", path);
	return __real_fsync(fd);
}

int __wrap_rename(const char *from, const char *to)
{
	record("rename %s %s", from, to);
	return __real_rename(from, to);
}

static char dir[] = "/tmp/dpsec-durable-XXXXXX";

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	n_events = 0;
}

static void teardown(void)
{
	char cmd[NAME_LEN + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/dpsec-durable-XXXXXX");
}

static void expect_events(const char *const *want, int n)
{
	for (int i = 0; i < n_events; i++)
		fprintf(stderr, "  event %d: %s\n", i, events[i]);
	ck_assert_int_eq(n_events, n);
	for (int i = 0; i < n; i++)
		ck_assert_str_eq(events[i], want[i]);
}

START_TEST(test_store_save_syncs_file_rename_dir)
{
	char path[NAME_LEN], tmp[NAME_LEN + 8], err[CFG_ERR_MAX];
	char w0[EVENT_LEN], w1[EVENT_LEN], w2[EVENT_LEN];
	const char *want[] = { w0, w1, w2 };
	struct cfg_store s;

	ck_assert_msg(cfg_store_load_string("", "t.conf", &s, err) == 0, "%s", err);
	snprintf(path, sizeof(path), "%s/store.conf", dir);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	n_events = 0;
	ck_assert_msg(cfg_store_save(&s, path, err) == 0, "%s", err);
	snprintf(w0, sizeof(w0), "fsync file %s", tmp);
	snprintf(w1, sizeof(w1), "rename %s %s", tmp, path);
	snprintf(w2, sizeof(w2), "fsync dir %s", dir);
	expect_events(want, 3);
	cfg_store_free(&s);
}
END_TEST

START_TEST(test_replace_syncs_the_target_directory)
{
	char from[NAME_LEN], to[NAME_LEN], want0[EVENT_LEN], want1[EVENT_LEN];
	const char *want[] = { want0, want1 };
	int fd;

	snprintf(from, sizeof(from), "%s/a", dir);
	snprintf(to, sizeof(to), "%s/b", dir);
	fd = open(from, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(cfg_replace_durably(from, to), 0);
	ck_assert_int_eq(access(to, F_OK), 0);
	snprintf(want0, sizeof(want0), "rename %s %s", from, to);
	snprintf(want1, sizeof(want1), "fsync dir %s", dir);
	expect_events(want, 2);
}
END_TEST

/* A rename that fails changes nothing and syncs nothing. */
START_TEST(test_failed_rename_reported)
{
	char from[NAME_LEN], to[NAME_LEN];

	snprintf(from, sizeof(from), "%s/missing", dir);
	snprintf(to, sizeof(to), "%s/b", dir);
	ck_assert_int_eq(cfg_replace_durably(from, to), -ENOENT);
	ck_assert_int_eq(n_events, 1);
	ck_assert_int_ne(access(to, F_OK), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("durable");
	TCase *tc = tcase_create("replace");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_store_save_syncs_file_rename_dir);
	tcase_add_test(tc, test_replace_syncs_the_target_directory);
	tcase_add_test(tc, test_failed_rename_reported);
	suite_add_tcase(s, tc);
	return check_run(s);
}
