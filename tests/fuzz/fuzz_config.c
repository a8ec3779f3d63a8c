/* fuzz_config.c - libFuzzer target for dpsecd's configuration loader
 * (libconfig syntax; the dataplane options, ports, exception port, routes,
 * neighbours, SAs and policy sections and their cross-references): any
 * file must load or be refused with a message, without a leak or a crash,
 * and one that loads must be freed whole. The input is written to a file
 * of mode 0600, as dpsecd reads one. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "../unit/lsan_libconfig.h"

static char path[64];

static int write_input(const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, data, size);
	close(fd);
	return n == (ssize_t)size ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_dataplane cfg;
	char err[CFG_ERR_MAX];

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/fuzz-config-%d.conf", getpid());
	if (write_input(data, size) != 0)
		abort();
	if (cfg_load(path, CFG_PERM_REFUSE, &cfg, err) != 0 && err[0] == '\0')
		abort(); /* a refusal always says why */
	cfg_free(&cfg);
	return 0;
}
