/* fuzz_eal.h - the EAL the dataplane fuzz targets run in (no hugepages,
 * PCI, shared files or telemetry; the lcores FUZZ_EAL_LCORES, one unless
 * said, and FUZZ_EAL_MB of memory) and libFuzzer's hook that starts it
 * once, then calls the target's setup(); libFuzzer's own arguments are
 * not the EAL's. */
#ifndef FUZZ_EAL_H
#define FUZZ_EAL_H

#include <stdlib.h>

#include <rte_eal.h>

#ifndef FUZZ_EAL_MB
#define FUZZ_EAL_MB "256"
#endif
#ifndef FUZZ_EAL_LCORES
#define FUZZ_EAL_LCORES "0"
#endif

static void setup(void);

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = { "fuzz", "--no-huge", "-m", FUZZ_EAL_MB, "--no-pci", "--no-shconf",
			"--no-telemetry", "--log-level=*:error", "-l", FUZZ_EAL_LCORES, NULL };

	(void)argc;
	(void)argv;
	if (rte_eal_init(10, eal) < 0)
		abort();
	setup();
	return 0;
}

#endif
