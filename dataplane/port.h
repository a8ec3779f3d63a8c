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

#endif
