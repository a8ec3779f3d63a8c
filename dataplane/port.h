/* port.h - bringing DPDK ports up from the configuration: any device
 * (PCI NIC or vdev) by its devargs, queues per worker with RSS where the
 * device has it, and the exception TAP port with its kernel side set up. */
#ifndef DP_PORT_H
#define DP_PORT_H

#include <stddef.h>

#include "dp.h"

/* Probes and configures every configured port and the exception port.
 * Returns 0 or -1 with a message in err. */
int dp_ports_setup(struct dp_ctx *dp, char *err, size_t errlen);

/* Starts the ports and gives the kernel side of the exception interface its
 * addresses and routes. */
int dp_ports_start(struct dp_ctx *dp, char *err, size_t errlen);

void dp_ports_close(struct dp_ctx *dp);

/* The RSS hash functions asked of a device that offers `offered`: over
 * addresses, TCP and UDP ports, and ESP's and AH's SPI, so that the SAs
 * between one pair of gateways (the same addresses and no ports) spread
 * over the rx queues where the device hashes SPIs. */
uint64_t dp_port_rss_hf(uint64_t offered);

/* What RSS spreads a port's rx queues by, for the start message: ", RSS
 * by ...", or "" without RSS (one queue, or a device that spreads its
 * own way, as af_packet's fanout does). */
const char *dp_port_rss_words(uint64_t hf);

#endif
