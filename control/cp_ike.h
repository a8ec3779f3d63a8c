/* cp_ike.h - dpsec-ctld's IKEv2 (cp_ike.c): the engine of ike/ikev2.h on
 * UDP 500/4500 of the gateway's namespace, driven by ACQUIREs and the
 * assigned policy, installing the child SAs it negotiates; IKEv1's engine
 * beside it (cp_ikev1.c). */
#ifndef CP_IKE_H
#define CP_IKE_H

#include "cp.h"
#include "ikev2.h"

#define CP_IKE_MAX_SAS 1024

/* An established IKE SA, as show mmsas lists it. */
struct cp_ike_sa {
	bool used;
	struct ikev2_sa_id id;
	uint32_t rule_id;
	struct ike_id peer_id;
	struct ike_mm_method mm;
	bool initiator;
	uint64_t up_ns;  /* CLOCK_MONOTONIC */
	int version;     /* 1: an ISAKMP SA (id: its cookies), 2: an IKEv2 SA */
};

/* The engine and its sockets (UDP 500, 4500 on every address); -1 and err
 * when a port cannot be bound: ctld then runs without IKE. */
int cp_ike_open(struct cp_ctx *c, char *err, size_t errlen);
void cp_ike_close(struct cp_ctx *c);
/* Reads the sockets, runs the engine's timers, acts on its events. */
void cp_ike_poll(struct cp_ctx *c);
/* Starts IKE_SA_INIT, or Main Mode when the assigned policy says
 * ike_version = 1, for an ACQUIRE (naming the IKE SA in a->ike_spi_i):
 * 0, or -1 when the rule has no IKE policy (no PSK, no usable method, not
 * a tunnel rule), there is no route to the peer or no engine. */
int cp_ike_initiate(struct cp_ctx *c, struct cp_acquire *a);
/* A soft lifetime of a negotiated SA: rekey it. false: not one of IKE's. */
bool cp_ike_soft_expire(struct cp_ctx *c, uint32_t sa_id);
/* The IKE SA in table slot i (0 .. CP_IKE_MAX_SAS - 1), NULL when free. */
const struct cp_ike_sa *cp_ike_sa_at(const struct cp_ctx *c, int i);

#endif
