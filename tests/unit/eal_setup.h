/* eal_setup.h - brings up a small DPDK EAL for the unit tests that need one
 * (rte_malloc, rte_acl, rte_hash...): one lcore, no hugepages, no PCI, no
 * files shared with other DPDK processes (a file prefix of its own), so
 * tests can run in parallel. */
#ifndef DP_TEST_EAL_SETUP_H
#define DP_TEST_EAL_SETUP_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>

static char dp_test_eal_dir[PATH_MAX];

/* The EAL's runtime directory (/var/run/dpdk/PREFIX, empty with
 * --no-shconf) goes with the test: nothing of it is left behind. */
static inline void dp_test_eal_dir_remove(void)
{
	rmdir(dp_test_eal_dir);
}

/* Call once, before srunner_run_all() (the tests run with CK_FORK=no); exits
 * the program if the EAL does not come up. */
static inline void dp_test_eal_init(void)
{
	char prefix[64];
	/* --no-shconf rather than --in-memory, which --no-huge does not allow */
	char *argv[] = {"dpsec-test", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			"--no-telemetry", "--log-level=lib.eal:error", "-l", "0", "--file-prefix",
			prefix, NULL};

	snprintf(prefix, sizeof(prefix), "dpsec-unit-%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		exit(EXIT_FAILURE);
	}
	snprintf(dp_test_eal_dir, sizeof(dp_test_eal_dir), "%s", rte_eal_get_runtime_dir());
	atexit(dp_test_eal_dir_remove);
}

#endif
