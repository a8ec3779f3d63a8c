/* fuzz_seqfile.c - libFuzzer target for dpsecd's file of static keys'
 * reserved sequence numbers (dataplane/seq_store.c): whatever the file
 * holds, opening it is a store or an error, never a crash or a leak; and
 * a file that opens, once rewritten whole by a grant, opens again and
 * holds the grant: what the store writes, it reads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seq_store.h"

static const uint8_t fp_probe[DP_SEQ_FP_LEN] = { 0x5e, 0xed };

static void write_input(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
}

/* A store's first grant rewrites the file whole: a second store must read
 * it back, with the grant. */
static void check_rewrite(struct dp_seq_store *s, const char *path)
{
	struct dp_seq_store *back;
	uint64_t probe_end = dp_seq_store_end(s, fp_probe) + DP_SEQ_CHUNK;
	char err[512];

	if (probe_end < DP_SEQ_CHUNK)
		return; /* the input's own record of the probe key is at the end of the space */

	if (dp_seq_store_save(s, fp_probe, probe_end, err, sizeof(err)) != 0)
		abort(); /* /dev/shm is writable: a save may not fail there */
	if (dp_seq_store_open(&back, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "the store's own file refused: %s\n", err);
		abort();
	}
	if (dp_seq_store_end(back, fp_probe) != probe_end)
		abort();
	dp_seq_store_close(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_seq_store *s;
	char path[64], err[512];
	int rc;

	snprintf(path, sizeof(path), "/dev/shm/fuzz-seq-%d", getpid());
	write_input(path, data, size);
	rc = dp_seq_store_open(&s, path, err, sizeof(err));
	if (rc == 0) {
		check_rewrite(s, path);
		dp_seq_store_close(s);
	} else if (s != NULL || (rc != -EINVAL && rc != -ENOMEM) || strstr(err, path) == NULL) {
		abort(); /* a refusal names the file, and leaves no store */
	}
	unlink(path);
	return 0;
}
