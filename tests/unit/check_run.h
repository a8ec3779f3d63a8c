/* check_run.h - runs a Check suite and gives main() its exit status: the
 * runner every unit test shares. */
#ifndef CHECK_RUN_H
#define CHECK_RUN_H

#include <stdlib.h>

#include <check.h>

static inline int check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
