/* cp_show.h - the show commands' renderers (cp_show.c). */
#ifndef CP_SHOW_H
#define CP_SHOW_H

#include <stdbool.h>
#include <stdint.h>

#include "cp_out.h"
#include "dpsec_shm.h"

struct ikev2_stats;

struct cp_ctx;

void cp_show_policies(const struct cp_ctx *c, struct cp_out *o, const char *name);
void cp_show_rules(const struct cp_ctx *c, struct cp_out *o, const char *policy);
void cp_show_filters(const struct cp_ctx *c, struct cp_out *o, const char *list);
void cp_show_filteractions(const struct cp_ctx *c, struct cp_out *o);
void cp_show_mmsas(const struct cp_ctx *c, struct cp_out *o);
void cp_show_qmsas(const struct cp_ctx *c, struct cp_out *o);
void cp_show_neighbours(const struct cp_ctx *c, struct cp_out *o);
/* The neighbour table of a segment (NULL: none, the header alone). */
void cp_show_neighbour_table(struct cp_out *o, const struct dpsec_shm_neighs *src);
void cp_show_ports(const struct cp_ctx *c, struct cp_out *o);
/* The port table of a segment (NULL: none, the header alone). */
void cp_show_port_table(struct cp_out *o, const struct dpsec_shm_ports *src);

struct ikev1_stats;
struct ikev2_stats;

/* The IKE engines' counters. */
struct cp_show_ike {
	const struct ikev2_stats *v2;
	const struct ikev1_stats *v1;
};

/* Both statistics tables; mm NULL: ctld not running (dpsecctl alone);
 * ike: the IKE engines' counters (NULL: none); all: the dataplane's
 * counters too. */
void cp_show_stats(struct cp_out *o, const uint64_t *mm, const struct cp_show_ike *ike,
		   const struct dpsec_shm_stats *st, uint64_t pending_key_ops, bool all);

#endif
