/* fuzz_mgmt.c - libFuzzer target for dpsec-ctld's management request
 * decoder: any bytes, as a request body, decode into arguments that lie
 * inside the body and are NUL-terminated, or into a refusal. */
#include <stdlib.h>
#include <string.h>

#include "cp_mgmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = malloc(size + 1), *argv[CP_MGMT_MAX_ARGS];
	const char *err = NULL;
	int argc;

	if (body == NULL)
		return 0;
	memcpy(body, data, size);
	argc = cp_mgmt_decode(body, size, argv, &err);
	if (argc < 0 && err == NULL)
		abort();
	for (int i = 0; i < argc; i++)
		if (argv[i] < body || argv[i] + strlen(argv[i]) >= body + size || argv[i][0] == '\0')
			abort();
	free(body);
	return 0;
}
