/* tunnel_pmtu.h - the path MTU of the gateway's own ESP and AH packets
 * (RFC 4301 §8.2.1, §8.2.2): ICMP "fragmentation needed" and "packet too
 * big" that routers beyond the gateway send about them are recorded in the
 * outbound SA they name, for dataplane.pmtu_age_seconds; packets that would
 * not fit it are then cut before encapsulation or refused with an ICMP
 * error to their source (icmp_err.c). Workers recognise such messages and
 * hand them to the manager lcore, which checks them and finds the SA. */
#ifndef TUNNEL_PMTU_H
#define TUNNEL_PMTU_H

#include <stdbool.h>
#include <stdint.h>

struct dp_ctx;
struct dp_meta;
struct dp_sa;
struct dpsec_sa_conf;
struct rte_mbuf;

#define DP_PMTU_MIN4 576  /* IPv4: a lower report is raised to this (RFC 791's every host) */
#define DP_PMTU_MIN6 1280 /* IPv6: a lower report is ignored (RFC 8201 §4) */
#define DP_PMTU_PEERS 4096 /* peers whose path MTU new SAs to them start with */

/* Reports a worker hands the manager: DP_PMTU_REPORT_RATE a second, in
 * bursts of up to DP_PMTU_REPORT_BURST; the others are dropped
 * (pmtu_report_limited). */
#define DP_PMTU_REPORT_RATE 100
#define DP_PMTU_REPORT_BURST 10

/* What a message says: the MTU of the hop our packet did not pass, and
 * which of our SAs sent it. */
struct dp_pmtu_report {
	uint8_t family;     /* of the quoted packet, the message's own */
	uint8_t proto;      /* IPPROTO_ESP (plain or in UDP) or IPPROTO_AH */
	bool udp;           /* ESP in UDP */
	bool peer_only;     /* UDP from one of our NAT-T ports, quoted only to its header
			     * (8 bytes, RFC 792): no SPI, ESP in UDP or IKE: the peer's */
	uint32_t spi_be;
	uint8_t remote[16]; /* the quoted packet's destination: the SA's peer */
	uint32_t mtu;
	uint32_t quoted_len; /* the quoted packet's length, as its header gives it */
};

/* Is m (its meta filled, to one of our addresses, from an unprotected
 * port) an ICMP fragmentation needed / packet too big with a valid checksum
 * about an ESP or AH packet we sent, or about UDP from one of our NAT-T
 * ports quoted too short to tell ESP in UDP from IKE (r->peer_only: the
 * host should see it too)? Fills *r when it is. */
bool dp_pmtu_parse(const struct rte_mbuf *m, const struct dp_meta *md, struct dp_pmtu_report *r);

/* The outbound SAs by (SPI, protocol, peer), kept by the manager; an SA
 * added to a peer whose path MTU is recorded starts with it. */
int dp_pmtu_init(struct dp_ctx *dp);
void dp_pmtu_fini(struct dp_ctx *dp);
void dp_pmtu_sa_added(struct dp_ctx *dp, uint32_t idx, const struct dpsec_sa_conf *conf);
void dp_pmtu_sa_removed(struct dp_ctx *dp, uint32_t idx, const struct dpsec_sa_conf *conf);

/* The lifetime scan visiting SA idx at TSC now (manager lcore): an
 * outbound SA takes its peer's recorded path MTU (a report about a
 * sibling SA's packets, the same path) when it is lower than its own, or
 * the same renewed; counted as pmtu_inherited. Its description is read
 * from the SA directory (dp_mgr.shm.sas). */
void dp_pmtu_scan_sa(struct dp_ctx *dp, uint32_t idx, uint64_t now);

/* A message a worker handed over (manager lcore): recorded in its SA when
 * it lowers that SA's path MTU (one that names no SA, r->peer_only, for
 * its peer alone when it lowers the peer's record: the scan hands it to
 * the SAs, dp_pmtu_scan_sa), else counted as ignored; m is freed. */
void dp_pmtu_input(struct dp_ctx *dp, struct rte_mbuf *m);

/* Once every recorded path MTU has aged out, the workers' quick test of
 * which packets need measuring goes back to the ports' MTUs. */
void dp_pmtu_tick(struct dp_ctx *dp);

#endif
