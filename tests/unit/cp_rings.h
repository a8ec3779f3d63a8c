/* cp_rings.h - a dpsec-ctld context attached to command and event rings as
 * the shared segment has them (no dpsecd: the test answers), for the unit
 * tests of control/cp_cmd.c and control/cp_acquire.c. */
#ifndef DP_TEST_CP_RINGS_H
#define DP_TEST_CP_RINGS_H

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <check.h>

#include "cp.h"
#include "dpsec_ring.h"

static inline void cp_rings_attach(struct cp_ctx *c)
{
	memset(c, 0, sizeof(*c));
	cp_log_init(LOG_CRIT, false);
	c->seg.hdr = calloc(1, sizeof(*c->seg.hdr));
	c->seg.cmd = aligned_alloc(64, sizeof(*c->seg.cmd));
	c->seg.ev = aligned_alloc(64, sizeof(*c->seg.ev));
	ck_assert(c->seg.hdr && c->seg.cmd && c->seg.ev);
	dpsec_ring_init(c->seg.cmd);
	dpsec_ring_init(c->seg.ev);
	c->attached = true;
}

static inline void cp_rings_detach(struct cp_ctx *c)
{
	free(c->seg.hdr);
	free(c->seg.cmd);
	free(c->seg.ev);
}

#endif
