/* icmp_err.h - the ICMP errors the dataplane sends (icmp_err.c): for
 * outbound packets that would not fit their way out once IPsec is added,
 * and for forwarded packets that would not fit their port (the checks, and
 * the error telling their source the size that fits), and for packets
 * whose TTL runs out. */
#ifndef DP_ICMP_ERR_H
#define DP_ICMP_ERR_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "dp_sa.h"

struct dp_ctx;
struct dp_worker;

/* The most any SA adds to a packet: IPv6 outer header, UDP header of NAT
 * traversal, ESP header, CBC IV, padding, trailer, ICV (AH adds less). */
#define DP_IPSEC_MAX_OVERHEAD (40 + 8 + 8 + 16 + 15 + 2 + 16)

/* The longest packet that fits every network port whatever SA carries it:
 * a packet no longer needs no further check; and the rate of ICMP errors
 * (dataplane.icmp_errors_per_second, icmp_error_burst). Set once the ports
 * are up. */
void dp_icmp_err_setup(struct dp_ctx *dp);

/* What becomes of a packet longer than that (dp_out_fits), or longer than
 * the port it is routed to (dp_port_fits). */
enum dp_fit {
	DP_FIT_YES,     /* it fits: encapsulate or send it */
	DP_FIT_CUT,     /* IPv4 without DF (in tunnel mode): cut it into fragments (frag.h) */
	DP_FIT_CUT_AFTER, /* IPv6 made whole here (transport mode): encapsulate it, then cut
			   * its ESP packet into fragments of *fit_len bytes */
	DP_FIT_DROPPED  /* dropped (too_big); its source perhaps told */
};

/* Packet m (its meta filled, bound for sa) is longer than that: does it fit
 * the MTU of the port its encapsulation leaves by? If not, either it may be
 * cut (*fit_len: the longest packet, or ESP packet, that fits), or it is
 * dropped (too_big)
 * and, when its source may be told, *reply is the ICMP error
 * ("fragmentation needed", "packet too big") to route to it, else NULL. */
enum dp_fit dp_out_fits(struct dp_worker *w, struct rte_mbuf *m, const struct dp_sa *sa,
			struct rte_mbuf **reply, uint32_t *fit_len);

/* Packet m (its meta filled, forwarded in clear or decrypted) is routed
 * to a port of mtu bytes and is longer: IPv4 without DF may be cut into
 * fragments of mtu bytes; anything else is dropped (too_big) and,
 * when its source may be told, *reply is the ICMP error to send it, else
 * NULL. Every error goes through the outbound policy, as the gateway's own
 * packet; one about a decrypted packet is marked DP_M_SECURE_ONLY: it may
 * leave only through a tunnel. */
enum dp_fit dp_port_fits(struct dp_worker *w, struct rte_mbuf *m, uint32_t mtu,
			 struct rte_mbuf **reply);

/* Packet m's TTL or hop limit runs out here (its meta filled, not yet
 * dropped): the ICMP time exceeded to send its source (marked as above
 * when m was decrypted), or NULL when its source may not be told. The
 * caller drops m. */
struct rte_mbuf *dp_icmp_time_exceeded(struct dp_worker *w, struct rte_mbuf *m);

/* Packet m (its meta filled, its TTL taken, not yet dropped) has no route:
 * the ICMP destination unreachable (net unreachable; ICMPv6 no route to
 * destination) to send its source, marked as above, or NULL. The caller
 * drops m. */
struct rte_mbuf *dp_icmp_no_route(struct dp_worker *w, struct rte_mbuf *m);

/* Packet m (as for dp_icmp_no_route) is for a next hop that does not
 * answer ARP or neighbour solicitations (neigh.c): the ICMP destination
 * unreachable (host unreachable, RFC 1812 §5.2.7.1; ICMPv6 address
 * unreachable, RFC 4443 §3.1) to send its source, or NULL. The caller
 * drops m. */
struct rte_mbuf *dp_icmp_host_unreachable(struct dp_worker *w, struct rte_mbuf *m);

#endif
