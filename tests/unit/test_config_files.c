/* test_config_files.c - Check unit tests of how the dataplane config
 * loader treats its files: a file holding keys that group or others can
 * read is refused (or, with CFG_PERM_WARN, loads with one warning line),
 * one without keys loads, keys in an @include'd file are checked there,
 * and missing, non-regular, empty and overlong paths fail with a message.
 * Runs with CK_FORK=no: every test cleans up its files and its struct. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_world.h"
#include "lsan_libconfig.h"

/* ---- files and permissions ---- */

START_TEST(test_key_file_0644_refused)
{
	struct cfg_dataplane cfg;
	char path[64], err[CFG_ERR_MAX], want[CFG_ERR_MAX];

	copy_example("gateway-a.conf", 0644, path);
	ck_assert_int_eq(cfg_load(path, CFG_PERM_REFUSE, &cfg, err), -1);
	snprintf(want, sizeof want, "%s: holds keys but is readable by group or others (mode 0644); "
		 "chmod 600 %s or start with --allow-insecure-keys", path, path);
	ck_assert_str_eq(err, want);
	cfg_free(&cfg);
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(cfg_load(path, CFG_PERM_REFUSE, &cfg, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "(mode 0640)"));
	cfg_free(&cfg);
	unlink(path);
}
END_TEST

/* With CFG_PERM_WARN the file loads and stderr gets exactly one line. */
START_TEST(test_key_file_0644_warns)
{
	struct cfg_dataplane cfg;
	char path[64], log[64], err[CFG_ERR_MAX];
	char *text;
	int saved, fd, rc;

	copy_example("gateway-a.conf", 0644, path);
	write_tmp("", log);
	fd = open(log, O_WRONLY);
	fflush(stderr);
	saved = dup(2);
	ck_assert(fd >= 0 && saved >= 0 && dup2(fd, 2) == 2);
	rc = cfg_load(path, CFG_PERM_WARN, &cfg, err);
	fflush(stderr);
	dup2(saved, 2); /* stderr back before any assertion */
	close(saved);
	close(fd);
	ck_assert_msg(rc == 0, "%s", err);
	text = slurp(log);
	ck_assert_ptr_nonnull(strstr(text, "holds keys but is readable by group or others (mode 0644)"));
	ck_assert_ptr_nonnull(strstr(text, path));
	ck_assert_ptr_eq(strchr(text, '\n'), text + strlen(text) - 1);
	ck_assert_uint_eq(cfg.n_sas, 2);
	free(text);
	cfg_free(&cfg);
	unlink(path);
	unlink(log);
}
END_TEST

START_TEST(test_no_keys_0644_loads)
{
	struct cfg_dataplane cfg;
	char path[64], err[CFG_ERR_MAX];

	write_tmp(PORTS, path);
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_msg(cfg_load(path, CFG_PERM_REFUSE, &cfg, err) == 0, "%s", err);
	cfg_free(&cfg);
	unlink(path);
}
END_TEST

/* Keys may live in an @include'd 0600 file next to a 0644 policy; then the
 * included file is the one checked. */
START_TEST(test_keys_in_include)
{
	struct cfg_dataplane cfg;
	char dir[64] = "/tmp/dpsec-cfg-XXXXXX", main[128], keys[128], err[CFG_ERR_MAX];
	char want[CFG_ERR_MAX];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(main, sizeof main, "%s/gw.conf", dir);
	snprintf(keys, sizeof keys, "%s/keys.conf", dir);
	write_file(main, PORTS "@include \"keys.conf\"\n" POLICY(F_LANS, "negotiate", TUNNEL), 0644);
	write_file(keys, SAS_OK, 0600);
	ck_assert_msg(cfg_load(main, CFG_PERM_REFUSE, &cfg, err) == 0, "%s", err);
	ck_assert_int_eq(cfg.rules[0].sa_in, 1);
	cfg_free(&cfg);
	ck_assert_int_eq(chmod(keys, 0604), 0);
	ck_assert_int_eq(cfg_load(main, CFG_PERM_REFUSE, &cfg, err), -1);
	snprintf(want, sizeof want, "%s: holds keys but is readable by group or others (mode 0604)",
		 keys);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	cfg_free(&cfg);
	write_file(keys, SAS(SA_OUT, SA_X("x", "1", "inbound", "tunnel", "192.0.2.2", GCM)), 0600);
	ck_assert_int_eq(cfg_load(main, CFG_PERM_REFUSE, &cfg, err), -1);
	snprintf(want, sizeof want, "%s:2: security_associations.[1].spi: SPI 1 is in 1..255", keys);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	cfg_free(&cfg);
	unlink(main);
	unlink(keys);
	rmdir(dir);
}
END_TEST

START_TEST(test_bad_paths)
{
	struct cfg_dataplane cfg;
	char err[CFG_ERR_MAX], longpath[300];

	ck_assert_int_eq(cfg_load("/nonexistent/dpsec.conf", CFG_PERM_REFUSE, &cfg, err), -1);
	ck_assert_str_eq(err, "/nonexistent/dpsec.conf: cannot open: No such file or directory");
	ck_assert_int_eq(cfg_load("/tmp", CFG_PERM_REFUSE, &cfg, err), -1);
	ck_assert_str_eq(err, "/tmp: not a regular file");
	ck_assert_int_eq(cfg_load("", CFG_PERM_REFUSE, &cfg, err), -1);
	ck_assert_int_eq(cfg_load(NULL, CFG_PERM_REFUSE, &cfg, err), -1);
	memset(longpath, 'a', sizeof longpath - 1);
	longpath[sizeof longpath - 1] = '\0';
	ck_assert_int_eq(cfg_load(longpath, CFG_PERM_REFUSE, &cfg, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "path of 299 characters; at most 255 allowed"));
	cfg_free(&cfg);
}
END_TEST

static Suite *config_files_suite(void)
{
	Suite *s = suite_create("config_files");
	TCase *fi = tcase_create("files");

	tcase_add_test(fi, test_key_file_0644_refused);
	tcase_add_test(fi, test_key_file_0644_warns);
	tcase_add_test(fi, test_no_keys_0644_loads);
	tcase_add_test(fi, test_keys_in_include);
	tcase_add_test(fi, test_bad_paths);
	suite_add_tcase(s, fi);
	return s;
}

int main(void)
{
	return check_run(config_files_suite());
}
