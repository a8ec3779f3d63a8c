/* cp_ikev1.h - dpsec-ctld's IKEv1 (cp_ikev1.c): the engine of ike/ikev1.h
 * beside cp_ike.c's IKEv2, on the same sockets, policy lookup, SPIs and
 * events, for the policies whose main_mode says ike_version = 1. */
#ifndef CP_IKEV1_H
#define CP_IKEV1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cp.h"
#include "ikev1.h"

struct cp_ikev1;

/* The IKEv1 engine, with the lookup, SPI allocator and log of IKEv2's
 * configuration v2; NULL with err. */
struct cp_ikev1 *cp_ikev1_open(struct cp_ctx *c, const struct ikev2_conf *v2, char *err,
			       size_t errlen);
void cp_ikev1_close(struct cp_ikev1 *k);
/* Whether the assigned policy negotiates IKEv1. */
bool cp_ikev1_assigned(const struct cp_ctx *c);
/* Whether a datagram is ISAKMP (major version 1 in byte 17), not IKEv2. */
bool cp_ikev1_datagram(const uint8_t *buf, size_t len);
/* A datagram into the engine, as ikev1_input(); the engine's invalid
 * cookies are counted in the Main Mode table as well. */
int cp_ikev1_input(struct cp_ctx *c, struct cp_ikev1 *k, const uint8_t *buf, size_t len,
		   const struct ike_endpoint *local, const struct ike_endpoint *remote,
		   uint64_t now_ms, struct ike_err *err);
/* The assigned policy's Main Mode settings into the engine, its timers, and
 * its events to cp_ike_event(). */
void cp_ikev1_poll(struct cp_ctx *c, struct cp_ikev1 *k, uint64_t now_ms);
/* Main Mode to remote for policy pol (its Main Mode suites set here). */
int cp_ikev1_initiate(struct cp_ikev1 *k, struct ikev2_peer *pol, const struct ike_endpoint *local,
		      const struct ike_endpoint *remote, uint64_t now_ms, struct ikev2_sa_id *out,
		      struct ike_err *err);
/* Calls on an established SA, as ikev1.h's. */
int cp_ikev1_rekey_child(struct cp_ikev1 *k, const struct ikev2_sa_id *sa, uint32_t spi_in,
			 uint64_t now_ms, struct ike_err *err);
int cp_ikev1_delete_child(struct cp_ikev1 *k, const struct ikev2_sa_id *sa, uint32_t spi_in,
			  uint64_t now_ms, struct ike_err *err);
int cp_ikev1_check_liveness(struct cp_ikev1 *k, const struct ikev2_sa_id *sa, uint64_t now_ms,
			    struct ike_err *err);
int cp_ikev1_peer_moved(struct cp_ikev1 *k, const struct ikev2_sa_id *sa,
			const struct ike_endpoint *remote, uint64_t now_ms);
const struct ikev1_stats *cp_ikev1_stats(const struct cp_ikev1 *k);
int cp_ikev1_quick_mode(struct cp_ikev1 *k, const struct ikev2_sa_id *sa, uint64_t now_ms,
			struct ike_err *err);
int cp_ikev1_renew(struct cp_ikev1 *k, const struct ikev2_sa_id *sa, uint64_t now_ms,
		   struct ike_err *err);
int cp_ikev1_delete_ike(struct cp_ikev1 *k, const struct ikev2_sa_id *sa, uint64_t now_ms,
			struct ike_err *err);

#endif
