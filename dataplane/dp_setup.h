/* dp_setup.h - dpsecd's tables, ports and workers built from its
 * configuration, and taken down (dp_setup.c). */
#ifndef DP_SETUP_H
#define DP_SETUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp.h"

#define DP_POOL_MBUFS 16383 /* default; dpsecd --mbufs */
#define DP_STALL_US 250     /* default; dpsecd --stall-us: a burst takes tens of us */

/* What dpsecd's command line says of them; 0 or NULL: the default. */
struct dp_setup_opts {
	const char *instance; /* the shared-memory segment's name; NULL: the EAL file prefix */
	uint32_t max_sas;     /* SA table slots; at least the configuration's SAs */
	uint32_t mbufs;       /* buffers in the packet pool */
	uint32_t stall_us;    /* a poll round longer than this was interrupted */
};

/* Builds everything of dp (dp->cfg loaded, the EAL started with a worker
 * lcore for each configured worker) but starting the ports and the
 * workers. Returns 0, or -1 with a sentence in err; dp_teardown() frees
 * what was made either way. */
int dp_setup(struct dp_ctx *dp, const struct dp_setup_opts *o, char *err, size_t errlen);
void dp_teardown(struct dp_ctx *dp);

#endif
