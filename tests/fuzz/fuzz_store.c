/* fuzz_store.c - libFuzzer target for dpsec-ctld's policy store loader
 * (libconfig syntax, the dataplane's parsers, the store's own sections and
 * the built-ins) and, for what loads, the compiler and the writer: a store
 * that loads must compile, save and load back without a leak or a crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg_store.h"
#include "../unit/lsan_libconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[CFG_ERR_MAX], path[64];
	struct cfg_store s, back;
	struct cfg_compiled c;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (cfg_store_load_string(text, "fuzz", &s, err) == 0) {
		if (s.assigned[0] && cfg_compile(&s, s.assigned, &c, err) == 0)
			cfg_compiled_free(&c);
		snprintf(path, sizeof(path), "/tmp/fuzz-store-%d.conf", getpid());
		if (cfg_store_save(&s, path, err) == 0) {
			if (cfg_store_load(path, CFG_PERM_REFUSE, &back, err) != 0)
				abort(); /* what the writer writes, the loader must read */
			cfg_store_free(&back);
			unlink(path);
		}
		cfg_store_free(&s);
	}
	free(text);
	return 0;
}
