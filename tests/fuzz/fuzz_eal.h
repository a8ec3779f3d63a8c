/* fuzz_eal.h - the EAL the dataplane fuzz targets run in (no hugepages,
 * PCI, shared files or telemetry, a file prefix of its own whose runtime
 * directory goes at exit; the lcores FUZZ_EAL_LCORES, one unless
 * said, and FUZZ_EAL_MB of memory) and libFuzzer's hook that starts it
 * once, then calls the target's setup(); libFuzzer's own arguments are
 * not the EAL's. */
#ifndef FUZZ_EAL_H
#define FUZZ_EAL_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_eal.h>

#ifndef FUZZ_EAL_MB
#define FUZZ_EAL_MB "256"
#endif
#ifndef FUZZ_EAL_LCORES
#define FUZZ_EAL_LCORES "0"
#endif

static void setup(void);

static char fuzz_eal_dir[PATH_MAX];

/* The EAL's runtime directory (empty with --no-shconf) goes at exit. */
static void fuzz_eal_dir_remove(void)
{
	rmdir(fuzz_eal_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64];
	char *eal[] = { "fuzz", "--no-huge", "-m", FUZZ_EAL_MB, "--no-pci", "--no-shconf",
			"--no-telemetry", "--log-level=*:error", "-l", FUZZ_EAL_LCORES,
			"--file-prefix", prefix, NULL };

	(void)argc;
	(void)argv;
	snprintf(prefix, sizeof(prefix), "dpsec-fuzz-%d", (int)getpid());
	if (rte_eal_init(12, eal) < 0)
		abort();
	snprintf(fuzz_eal_dir, sizeof(fuzz_eal_dir), "%s", rte_eal_get_runtime_dir());
	atexit(fuzz_eal_dir_remove);
	setup();
	return 0;
}

#endif
