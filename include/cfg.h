/* cfg.h - the dataplane configuration as loaded from a libconfig file:
 * ports and their roles, routes, static neighbours, the exception (TAP)
 * interface, the policy (rules with filter lists and filter actions) and
 * static SAs. cfg_load() validates everything and names file, line and field
 * in its error; cfg_free() wipes key material. */
#ifndef DPSEC_CFG_H
#define DPSEC_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpsec_model.h"

#define CFG_MAX_PORTS 8
#define CFG_MAX_PORT_ADDRS 4
#define CFG_DEVARGS_MAX 256
#define CFG_IFNAME_MAX 16
#define CFG_ERR_MAX 512
#define CFG_NATT_KEEPALIVE_DEFAULT_S 20
/* Fragments of one ESP packet arrive microseconds apart; a second covers
 * any reordering while keeping what a flood of lone fragments holds short. */
#define CFG_REASSEMBLY_TIMEOUT_DEFAULT_MS 1000
#define CFG_PMTU_AGE_DEFAULT_S 600 /* RFC 1191 §6.3: ten minutes */
#define CFG_NEIGHBOUR_REACHABLE_DEFAULT_S 30 /* RFC 4861 §10's REACHABLE_TIME */
#define CFG_ICMP_ERRORS_PER_S_DEFAULT 1000 /* Linux's icmp_msgs_per_sec */
#define CFG_ICMP_ERROR_BURST_DEFAULT 50    /* and its icmp_msgs_burst */

enum cfg_port_role { CFG_ROLE_PROTECTED, CFG_ROLE_UNPROTECTED };

enum cfg_idle_mode { CFG_IDLE_SLEEP, CFG_IDLE_BUSY };

struct cfg_port {
	char name[DPSEC_NAME_MAX];
	char device[CFG_DEVARGS_MAX]; /* DPDK devargs: PCI address or vdev */
	uint8_t role;                 /* enum cfg_port_role */
	uint32_t n_addrs;
	struct dpsec_prefix addrs[CFG_MAX_PORT_ADDRS]; /* the gateway's own */
	uint16_t mtu;                 /* 0: device default */
	bool has_mac;                 /* mac given: set as the port's address */
	uint8_t mac[6];
};

struct cfg_route {
	struct dpsec_prefix dst;
	struct dpsec_addr via; /* family DPSEC_AF_NONE: destination on-link */
	uint16_t port;         /* index into ports */
};

struct cfg_neighbour {
	struct dpsec_addr addr;
	uint8_t mac[6];
	uint16_t port; /* index into ports */
};

#define CFG_SEQ_FILE_MAX 200

struct cfg_dataplane_opts {
	uint32_t workers;        /* worker lcores wanted; default 1 */
	uint8_t idle;            /* enum cfg_idle_mode; default sleep */
	uint32_t idle_sleep_us;  /* sleep after an empty poll round; default 100 */
	uint32_t natt_keepalive_s; /* RFC 3948 §4 keepalive interval; 0: none; default 20 */
	uint32_t reassembly_timeout_ms; /* how long ESP/AH fragments wait for the rest */
	uint32_t pmtu_age_s;     /* how long a router's path MTU report holds; 0: none taken */
	uint32_t neighbour_reachable_s; /* a learnt neighbour silent this long is asked again; 0: never */
	uint32_t icmp_errors_per_s; /* ICMP errors the gateway sends at most a second; 0: none */
	uint32_t icmp_error_burst;  /* and at once */
	uint32_t policy_memory_mb;  /* the most one family's classifier may take; 0: no bound */
	/* where static keys' outbound sequence numbers are reserved
	 * (dataplane/seq_store.h); "" (the default): /var/lib/dpsec/INSTANCE.seq */
	char sequence_file[CFG_SEQ_FILE_MAX];
	bool sequence_file_off;  /* sequence_file = "none": numbers start at 1 */
};

struct cfg_dataplane {
	char path[256];
	struct cfg_dataplane_opts opts;
	uint32_t n_ports;
	struct cfg_port ports[CFG_MAX_PORTS];
	char exception_ifname[CFG_IFNAME_MAX]; /* "" = no exception interface */
	/* or, instead of a TAP, any DPDK device as the exception port (bench/ and
	 * tests): frames to the host go to exception_host_mac */
	char exception_device[CFG_DEVARGS_MAX];
	uint8_t exception_host_mac[6];
	uint32_t n_routes;
	struct cfg_route *routes;
	uint32_t n_neighbours;
	struct cfg_neighbour *neighbours;
	uint8_t default_action; /* for packets no filter matches */
	uint32_t n_rules;
	struct dpsec_rule *rules; /* in file order */
	uint32_t n_sas;
	struct dpsec_sa_conf *sas;
};

enum cfg_perm_policy {
	CFG_PERM_REFUSE, /* keys in a group/other-readable file: error */
	CFG_PERM_WARN,   /* ... a warning on stderr, load anyway */
};

/* Loads and validates path into out. Returns 0, or -1 with a message of the
 * form "FILE:LINE: FIELD: problem" in err. out needs cfg_free() either way. */
int cfg_load(const char *path, enum cfg_perm_policy perm, struct cfg_dataplane *out,
	     char err[CFG_ERR_MAX]);

void cfg_free(struct cfg_dataplane *cfg);

/* Helpers the CLI and tests share. Each returns 0 or -1. */
int cfg_parse_addr(const char *s, struct dpsec_addr *out);
int cfg_parse_prefix(const char *s, struct dpsec_prefix *out);
int cfg_parse_mac(const char *s, uint8_t mac[6]);
int cfg_parse_hex(const char *s, uint8_t *out, size_t max, size_t *len);
const char *cfg_action_name(uint8_t action);
const char *cfg_df_bit_name(uint8_t df_bit); /* "copy", "set", "clear" */

/* Whether two prefixes share an address (same family), and whether an
 * address lies in a prefix: the policy's filters compared with each other
 * and with peers (cfg_net.c). */
bool cfg_prefixes_meet(const struct dpsec_prefix *a, const struct dpsec_prefix *b);
bool cfg_prefix_holds(const struct dpsec_prefix *p, const struct dpsec_addr *a);

#endif
