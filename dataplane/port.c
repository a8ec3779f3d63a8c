/* port.c - DPDK port bring-up: probe by devargs, queue layout (one rx queue
 * per worker where the device has them, one tx queue per worker), the mbuf
 * pool, and the exception TAP port whose kernel side gets the gateway's
 * addresses (IFF_NOARP: the dataplane answers for it) and routes. */
#include <errno.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_ethdev.h>

#include "dp_pkt.h"
#include "icmp_err.h"
#include "port.h"

#define RX_DESC 1024
#define TX_DESC 1024
#define TAP_DEVARGS_FMT "net_tap_dpsec,iface=%s"

static int port_find(const char *devargs, uint16_t *port_id)
{
	char name[CFG_DEVARGS_MAX];
	int rc;

	snprintf(name, sizeof(name), "%s", devargs);
	name[strcspn(name, ",")] = '\0';
	rc = rte_dev_probe(devargs);
	if (rc < 0 && rc != -EEXIST)
		return rc;
	return rte_eth_dev_get_port_by_name(name, port_id);
}

uint64_t dp_port_rss_hf(uint64_t offered)
{
	return offered & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_ESP |
			  RTE_ETH_RSS_AH);
}

const char *dp_port_rss_words(uint64_t hf)
{
	if (hf == 0)
		return "";
	if (hf & RTE_ETH_RSS_ESP)
		return ", RSS by addresses, ports and SPIs";
	return ", RSS by addresses and ports (the device hashes no SPI: one peer's ESP in one queue)";
}

static void port_rss(const struct rte_eth_dev_info *info, struct dp_port *p,
		     struct rte_eth_conf *conf)
{
	uint64_t hf = dp_port_rss_hf(info->flow_type_rss_offloads);

	p->rss_hf = 0;
	if (p->nb_rxq > 1 && hf != 0) {
		conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf->rx_adv_conf.rss_conf.rss_hf = hf;
		p->rss_hf = hf;
	}
}

static int port_queues(struct dp_ctx *dp, struct dp_port *p, uint16_t nb_rxq, char *err,
		       size_t errlen)
{
	int socket = rte_eth_dev_socket_id(p->port_id);
	int rc;

	for (uint16_t q = 0; q < nb_rxq; q++) {
		rc = rte_eth_rx_queue_setup(p->port_id, q, RX_DESC, socket, NULL, dp->pool);
		if (rc < 0)
			goto fail;
	}
	for (uint16_t q = 0; q < dp->n_workers; q++) {
		rc = rte_eth_tx_queue_setup(p->port_id, q, TX_DESC, socket, NULL);
		if (rc < 0)
			goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "port %s: queue setup failed: %s", p->name, rte_strerror(-rc));
	return -1;
}

/* Configures one DPDK port for the workers. */
static int port_configure(struct dp_ctx *dp, struct dp_port *p, char *err, size_t errlen)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	int rc;

	if ((rc = rte_eth_dev_info_get(p->port_id, &info)) < 0)
		goto fail;
	if (info.max_tx_queues < dp->n_workers) {
		snprintf(err, errlen, "port %s: %u workers need %u tx queues, the device has %u",
			 p->name, dp->n_workers, dp->n_workers, info.max_tx_queues);
		return -1;
	}
	p->nb_rxq = RTE_MIN(dp->n_workers, info.max_rx_queues);
	port_rss(&info, p, &conf);
	if ((rc = rte_eth_dev_configure(p->port_id, p->nb_rxq, dp->n_workers, &conf)) < 0)
		goto fail;
	return port_queues(dp, p, p->nb_rxq, err, errlen);
fail:
	snprintf(err, errlen, "port %s: configuration failed: %s", p->name, rte_strerror(-rc));
	return -1;
}

/* The port's MTU: the configured one set on the device, else the device's.
 * A device that cannot change it (net_pcap, net_null) is held to a smaller
 * configured MTU by dpsecd itself, which sends nothing longer. */
static int port_mtu(struct dp_port *p, const struct cfg_port *c, char *err, size_t errlen)
{
	int rc = 0;

	if (rte_eth_dev_get_mtu(p->port_id, &p->mtu) < 0)
		p->mtu = RTE_ETHER_MTU;
	if (c == NULL || c->mtu == 0)
		return 0;
	rc = rte_eth_dev_set_mtu(p->port_id, c->mtu);
	if (rc == -ENOTSUP && c->mtu <= p->mtu) {
		p->mtu = c->mtu;
		return 0;
	}
	if (rc < 0) {
		snprintf(err, errlen, "port %s: cannot set MTU %u: %s", p->name, c->mtu,
			 rte_strerror(-rc));
		return -1;
	}
	p->mtu = c->mtu;
	return 0;
}

static int port_mtu_mac(struct dp_port *p, const struct cfg_port *c, char *err, size_t errlen)
{
	int rc;

	if (port_mtu(p, c, err, errlen) < 0)
		return -1;
	if (c == NULL || !c->has_mac)
		return rte_eth_macaddr_get(p->port_id, &p->mac);
	memcpy(p->mac.addr_bytes, c->mac, RTE_ETHER_ADDR_LEN);
	rc = rte_eth_dev_default_mac_addr_set(p->port_id, &p->mac);
	if (rc == -ENOTSUP) /* e.g. net_pcap; ports run promiscuous, workers filter MACs */
		return 0;
	if (rc < 0)
		snprintf(err, errlen, "port %s: cannot set MAC: %s", p->name, rte_strerror(-rc));
	return rc;
}

static int port_add(struct dp_ctx *dp, const char *devargs, const char *name, uint8_t role,
		    const struct cfg_port *c, char *err, size_t errlen)
{
	struct dp_port *p = &dp->ports[dp->n_ports];
	int rc = port_find(devargs, &p->port_id);

	if (rc < 0) {
		snprintf(err, errlen, "port %s: cannot probe device \"%s\": %s", name, devargs,
			 rte_strerror(-rc));
		return -1;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->role = role;
	if (port_configure(dp, p, err, errlen) < 0 || port_mtu_mac(p, c, err, errlen) < 0)
		return -1;
	dp->port_index[p->port_id] = dp->n_ports++;
	return 0;
}

static void local_addr(struct dp_ctx *dp, uint8_t family, const uint8_t *a)
{
	uint8_t h = dp_addr_fold(family, a);

	dp->local_screen[h >> 6] |= 1ull << (h & 63);
	if (family == DPSEC_AF_INET6)
		memcpy(dp->local6[dp->n_local6++], a, 16);
	else
		memcpy(&dp->local4[dp->n_local4++], a, 4);
}

/* The ports' addresses, then their IPv6 prefixes' Subnet-Router anycast
 * addresses: packets to either are the host's. */
static void local_addrs(struct dp_ctx *dp)
{
	uint8_t anycast[16];

	for (uint32_t i = 0; i < dp->cfg->n_ports; i++)
		for (uint32_t j = 0; j < dp->cfg->ports[i].n_addrs; j++)
			local_addr(dp, dp->cfg->ports[i].addrs[j].addr.family,
				   dp->cfg->ports[i].addrs[j].addr.a);
	for (uint32_t i = 0; i < dp->cfg->n_ports; i++)
		for (uint32_t j = 0; j < dp->cfg->ports[i].n_addrs; j++)
			if (dp_subnet_router_anycast(&dp->cfg->ports[i].addrs[j], anycast) &&
			    !dp_local_addr(dp, DPSEC_AF_INET6, anycast))
				local_addr(dp, DPSEC_AF_INET6, anycast);
}

int dp_ports_setup(struct dp_ctx *dp, char *err, size_t errlen)
{
	const struct cfg_dataplane *cfg = dp->cfg;
	char tap[64];

	for (uint32_t i = 0; i < cfg->n_ports; i++) {
		const struct cfg_port *c = &cfg->ports[i];
		uint8_t role = c->role == CFG_ROLE_PROTECTED ? DP_ROLE_PROTECTED : DP_ROLE_UNPROTECTED;

		if (port_add(dp, c->device, c->name, role, c, err, errlen) < 0)
			return -1;
	}
	dp->host_port = -1;
	if (cfg->exception_device[0] != '\0') {
		if (port_add(dp, cfg->exception_device, "exception", DP_ROLE_HOST, NULL, err, errlen) < 0)
			return -1;
		dp->host_port = dp->n_ports - 1;
		memcpy(dp->ports[dp->host_port].host_mac.addr_bytes, cfg->exception_host_mac, 6);
	} else if (cfg->exception_ifname[0] != '\0') {
		snprintf(tap, sizeof(tap), TAP_DEVARGS_FMT, cfg->exception_ifname);
		if (port_add(dp, tap, cfg->exception_ifname, DP_ROLE_HOST, NULL, err, errlen) < 0)
			return -1;
		dp->host_port = dp->n_ports - 1;
	}
	local_addrs(dp);
	dp_icmp_err_setup(dp);
	return 0;
}

/* Runs ip(8) with argv; the exception interface is configured through it. */
static int run_ip(const char *const argv[])
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp("ip", (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void prefix_str(const struct dpsec_prefix *p, char *buf, size_t len)
{
	char a[64];

	inet_ntop(p->addr.family == DPSEC_AF_INET6 ? AF_INET6 : AF_INET, p->addr.a, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->len);
}

static int host_mac(const char *ifname, struct rte_ether_addr *mac)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rc;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	rc = ioctl(fd, SIOCGIFHWADDR, &ifr);
	close(fd);
	if (rc == 0)
		memcpy(mac->addr_bytes, ifr.ifr_hwaddr.sa_data, RTE_ETHER_ADDR_LEN);
	return rc;
}

/* The host's packets may grow by the largest encapsulation and must still
 * fit the smallest network port. */
static uint16_t host_mtu(const struct dp_ctx *dp)
{
	return (uint16_t)RTE_MAX(dp->out_fits_len, 1280u); /* IPv6's minimum */
}

/* Whether a port has an IPv6 prefix with a Subnet-Router anycast address. */
static bool any_subnet_anycast(const struct dp_ctx *dp)
{
	uint8_t anycast[16];

	for (uint32_t i = 0; i < dp->cfg->n_ports; i++)
		for (uint32_t j = 0; j < dp->cfg->ports[i].n_addrs; j++)
			if (dp_subnet_router_anycast(&dp->cfg->ports[i].addrs[j], anycast))
				return true;
	return false;
}

/* Linux takes packets to a prefix's Subnet-Router anycast address only on
 * an interface that forwards IPv6 (it then joins that address for each
 * prefix there): turned on for the exception interface alone, where it
 * changes nothing else the host does (whether the host forwards at all is
 * net.ipv6.conf.all.forwarding's, left alone). Where /proc/sys is read
 * only (a container), said, and dpsecd goes on. */
static void host_side_anycast(const struct dp_ctx *dp, const char *ifn)
{
	char path[128];
	FILE *f;
	bool ok;

	if (!any_subnet_anycast(dp))
		return;
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/forwarding", ifn);
	f = fopen(path, "w");
	ok = f != NULL && fputs("1\n", f) >= 0;
	if (f != NULL && fclose(f) != 0)
		ok = false;
	if (!ok)
		fprintf(stderr, "dpsecd: exception interface %s: cannot write %s (%s): packets to the "
			"ports' Subnet-Router anycast addresses will not reach the host\n", ifn, path,
			strerror(errno));
}

/* The host's stack sends everything through the dataplane: the gateway's
 * addresses on the TAP, no ARP/ND on it, an MTU that leaves room for ESP,
 * the configured routes through it, its prefixes' Subnet-Router anycast
 * addresses taken. */
static int host_side_setup(const struct dp_ctx *dp, char *err, size_t errlen)
{
	const char *ifn = dp->cfg->exception_ifname;
	char mtu[8], pfx[80];
	const char *up[] = { "ip", "link", "set", ifn, "arp", "off", "mtu", mtu, "up", NULL };

	snprintf(mtu, sizeof(mtu), "%u", host_mtu(dp));

	if (run_ip(up) < 0)
		goto fail;
	for (uint32_t i = 0; i < dp->cfg->n_ports; i++)
		for (uint32_t j = 0; j < dp->cfg->ports[i].n_addrs; j++) {
			const char *add[] = { "ip", "addr", "replace", pfx, "dev", ifn, "nodad", NULL };

			prefix_str(&dp->cfg->ports[i].addrs[j], pfx, sizeof(pfx));
			if (dp->cfg->ports[i].addrs[j].addr.family == DPSEC_AF_INET)
				add[6] = NULL; /* nodad is IPv6 only */
			if (run_ip(add) < 0)
				goto fail;
		}
	for (uint32_t i = 0; i < dp->cfg->n_routes; i++) {
		const char *rt[] = { "ip", "route", "replace", pfx, "dev", ifn, NULL };

		prefix_str(&dp->cfg->routes[i].dst, pfx, sizeof(pfx));
		if (run_ip(rt) < 0)
			goto fail;
	}
	host_side_anycast(dp, ifn);
	return 0;
fail:
	snprintf(err, errlen, "exception interface %s: configuring it with ip(8) failed", ifn);
	return -1;
}

int dp_ports_start(struct dp_ctx *dp, char *err, size_t errlen)
{
	for (uint16_t i = 0; i < dp->n_ports; i++) {
		struct dp_port *p = &dp->ports[i];
		int rc = rte_eth_dev_start(p->port_id);

		if (rc < 0) {
			snprintf(err, errlen, "port %s: start failed: %s", p->name, rte_strerror(-rc));
			return -1;
		}
		if (p->role != DP_ROLE_HOST)
			rte_eth_promiscuous_enable(p->port_id);
	}
	if (dp->host_port < 0 || dp->cfg->exception_device[0] != '\0')
		return 0; /* no TAP: nothing on the kernel side to set up */
	if (host_side_setup(dp, err, errlen) < 0)
		return -1;
	if (host_mac(dp->cfg->exception_ifname, &dp->ports[dp->host_port].host_mac) < 0) {
		snprintf(err, errlen, "exception interface %s: cannot read its MAC",
			 dp->cfg->exception_ifname);
		return -1;
	}
	return 0;
}

void dp_ports_close(struct dp_ctx *dp)
{
	for (uint16_t i = 0; i < dp->n_ports; i++) {
		rte_eth_dev_stop(dp->ports[i].port_id);
		rte_eth_dev_close(dp->ports[i].port_id);
	}
}
