/* dp_shm.h - dpsecd's side of the shared-memory segment (dpsec_shm.h): it
 * creates "/dpsec.<instance>" (mode 0600), refusing an instance a live
 * dpsecd holds, lays out the header, rings, statistics area, neighbour
 * table, port table and SA directory, and writes the directory, the
 * statistics, the neighbours and the ports under their sequence locks.
 * Removed at exit. */
#ifndef DP_SHM_H
#define DP_SHM_H

#include <stddef.h>
#include <stdint.h>

#include "dpsec_shm.h"

struct dp_shm {
	int fd;
	char name[DPSEC_INSTANCE_MAX + 16];
	void *base;
	size_t size;
	struct dpsec_shm_hdr *hdr;
	struct dpsec_ring *cmd, *ev;
	struct dpsec_shm_stats *stats;
	struct dpsec_shm_sa *sas;
	struct dpsec_shm_neighs *neighs;
	struct dpsec_shm_ports *ports;
};

/* Checks an instance name: 1..31 of [A-Za-z0-9_-]. */
int dp_shm_instance_check(const char *instance, char *err, size_t errlen);

int dp_shm_create(struct dp_shm *s, const char *instance, uint32_t sa_capacity,
		  uint32_t n_workers, char *err, size_t errlen);
void dp_shm_destroy(struct dp_shm *s);

/* Sequence-lock writers (the manager lcore is the only writer). */
void dp_shm_sa_write(struct dp_shm *s, uint32_t idx, const struct dpsec_shm_sa *e);
void dp_shm_stats_begin(struct dp_shm *s);
void dp_shm_stats_end(struct dp_shm *s);
void dp_shm_neighs_begin(struct dp_shm *s);
void dp_shm_neighs_end(struct dp_shm *s);
void dp_shm_ports_begin(struct dp_shm *s);
void dp_shm_ports_end(struct dp_shm *s);

#endif
