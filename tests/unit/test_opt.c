/* test_opt.c - include/dpsec_opt.h, the one parser of numeric command-line
 * options that dpsecd, dpsec-ctld and the bench tools share. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "dpsec_opt.h"
#include "check_run.h"

/* The command lines' numeric options: a range, no sign, no trailing text,
 * no overflow (dpsecd, dpsec-ctld, bench tools). */
START_TEST(test_opt_u32)
{
	static const char *const bad[] = {
		"", "-5", "+5", " 5", "12x", "0x10", "99999999999", "4", "101",
	};
	uint32_t v = 77;

	ck_assert_int_eq(dpsec_opt_u32("t", "--n", "5", 5, 100, &v), 0);
	ck_assert_uint_eq(v, 5);
	ck_assert_int_eq(dpsec_opt_u32("t", "--n", "100", 5, 100, &v), 0);
	ck_assert_uint_eq(v, 100);
	ck_assert_int_eq(dpsec_opt_u32("t", "--n", "4294967295", 0, UINT32_MAX, &v), 0);
	ck_assert_uint_eq(v, UINT32_MAX);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 77;
		ck_assert_msg(dpsec_opt_u32("t", "--n", bad[i], 5, 100, &v) == -1, "\"%s\" accepted", bad[i]);
		ck_assert_uint_eq(v, 77);
	}
	ck_assert_int_eq(dpsec_opt_u32("t", "--n", "4294967296", 0, UINT32_MAX, &v), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("opt");
	TCase *tc = tcase_create("opt");

	tcase_add_test(tc, test_opt_u32);
	suite_add_tcase(s, tc);
	return check_run(s);
}
