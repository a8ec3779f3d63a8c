/* cfg_net.c - the network half of the dataplane configuration: worker
 * options, ports with their roles and addresses, the exception (TAP)
 * interface, static routes and static neighbours. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_priv.h"

#define IPV6_MIN_MTU 1280 /* RFC 8200 §5 */

static const char *const dataplane_fields[] = { "workers", "idle", "idle_sleep_us",
						 "natt_keepalive_seconds", "reassembly_timeout_ms",
						 "pmtu_age_seconds", "neighbour_reachable_seconds",
						 "icmp_errors_per_second", "icmp_error_burst",
						 "sequence_file", "policy_memory_mb", NULL };
static const char *const port_fields[] = { "name", "device", "role", "addresses", "mtu", "mac",
					   NULL };
static const char *const exception_fields[] = { "interface", "device", "mac", NULL };
static const char *const route_fields[] = { "destination", "via", "port", NULL };
static const char *const neighbour_fields[] = { "address", "mac", "port", NULL };

static const struct cfg_kw idle_kw[] = {
	{ "sleep", CFG_IDLE_SLEEP }, { "busy", CFG_IDLE_BUSY }, { NULL, 0 }
};
static const struct cfg_kw role_kw[] = {
	{ "protected", CFG_ROLE_PROTECTED }, { "unprotected", CFG_ROLE_UNPROTECTED }, { NULL, 0 }
};

/* The dataplane's integer options: name, range, where each goes. */
struct u32_option {
	const char *name;
	long long min, max;
	uint32_t *out;
};

static int load_u32_options(struct cfg_ctx *c, const config_setting_t *g,
			    const struct u32_option *opt, size_t n)
{
	long long v;
	int r;

	for (size_t i = 0; i < n; i++) {
		if ((r = cfg_int(c, g, opt[i].name, false, opt[i].min, opt[i].max, &v)) < 0)
			return -1;
		if (r)
			*opt[i].out = (uint32_t)v;
	}
	return 0;
}

int cfg_load_dataplane(struct cfg_ctx *c, const config_setting_t *root)
{
	struct cfg_dataplane_opts *o = &c->cfg->opts;
	const struct u32_option ints[] = {
		{ "workers", 1, 16, &o->workers },
		{ "idle_sleep_us", 0, 100000, &o->idle_sleep_us },
		{ "natt_keepalive_seconds", 0, 3600, &o->natt_keepalive_s },
		{ "reassembly_timeout_ms", 1, 60000, &o->reassembly_timeout_ms },
		{ "pmtu_age_seconds", 0, 86400, &o->pmtu_age_s },
		{ "neighbour_reachable_seconds", 0, 3600, &o->neighbour_reachable_s },
		{ "icmp_errors_per_second", 0, 1000000, &o->icmp_errors_per_s },
		{ "icmp_error_burst", 1, 100000, &o->icmp_error_burst },
		{ "policy_memory_mb", 0, 65536, &o->policy_memory_mb },
	};
	const config_setting_t *g;
	const char *path;
	int k, r;

	o->workers = 1;
	o->idle = CFG_IDLE_SLEEP;
	o->idle_sleep_us = 100;
	o->natt_keepalive_s = CFG_NATT_KEEPALIVE_DEFAULT_S;
	o->reassembly_timeout_ms = CFG_REASSEMBLY_TIMEOUT_DEFAULT_MS;
	o->pmtu_age_s = CFG_PMTU_AGE_DEFAULT_S;
	o->neighbour_reachable_s = CFG_NEIGHBOUR_REACHABLE_DEFAULT_S;
	o->icmp_errors_per_s = CFG_ICMP_ERRORS_PER_S_DEFAULT;
	o->icmp_error_burst = CFG_ICMP_ERROR_BURST_DEFAULT;
	r = cfg_member(c, root, "dataplane", false, CFG_T_GROUP, "a group { ... }", &g);
	if (r <= 0)
		return r;
	if (cfg_group(c, g, dataplane_fields))
		return -1;
	if ((r = cfg_keyword(c, g, "idle", false, idle_kw, &k)) < 0)
		return -1;
	if (r)
		o->idle = (uint8_t)k;
	if ((r = cfg_str(c, g, "sequence_file", false, sizeof(o->sequence_file) - 1, &path)) < 0)
		return -1;
	if (r && strcmp(path, "none") == 0)
		o->sequence_file_off = true;
	else if (r && path[0] != '/')
		return cfg_fail_in(c, g, "sequence_file", "expected an absolute path, or \"none\"");
	else if (r)
		snprintf(o->sequence_file, sizeof(o->sequence_file), "%s", path);
	return load_u32_options(c, g, ints, sizeof(ints) / sizeof(ints[0]));
}

/* The same address on two ports (or twice on one) would answer ARP twice. */
static int addr_unique(struct cfg_ctx *c, const config_setting_t *s, const struct cfg_port *p,
		       const struct dpsec_prefix *a)
{
	const struct cfg_port *q;
	char buf[CFG_ADDR_STRLEN];
	uint32_t i, j;

	for (i = 0; i <= c->cfg->n_ports; i++) {
		q = &c->cfg->ports[i];
		for (j = 0; j < (q == p ? p->n_addrs : q->n_addrs); j++)
			if (cfg_addr_equal(&q->addrs[j].addr, &a->addr))
				return cfg_fail(c, s, "address %s is already assigned to port \"%s\"",
						cfg_fmt_addr(&a->addr, buf), q->name);
	}
	return 0;
}

static int port_addr(struct cfg_ctx *c, const config_setting_t *s, struct cfg_port *p)
{
	struct dpsec_prefix a;
	const char *v, *why;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return cfg_fail(c, s, "expected a string \"ADDR/LEN\", got %s", cfg_type_name(s));
	v = config_setting_get_string(s);
	if (cfg_prefix_parse(v, &a, &why))
		return cfg_fail(c, s, "\"%.64s\": %s; expected ADDR/LEN such as \"10.1.0.1/24\" or "
				"\"fd00:1::1/64\"", v, why);
	if (addr_unique(c, s, p, &a))
		return -1;
	p->addrs[p->n_addrs++] = a;
	return 0;
}

static int port_addrs(struct cfg_ctx *c, const config_setting_t *g, struct cfg_port *p)
{
	const config_setting_t *l;
	int i, r = cfg_list(c, g, "addresses", false, 0, CFG_MAX_PORT_ADDRS, &l);

	if (r <= 0)
		return r;
	for (i = 0; i < config_setting_length(l); i++)
		if (port_addr(c, config_setting_get_elem(l, (unsigned)i), p))
			return -1;
	return 0;
}

static int port_mtu(struct cfg_ctx *c, const config_setting_t *g, struct cfg_port *p)
{
	long long v;
	uint32_t i;
	int r = cfg_int(c, g, "mtu", false, 68, 9600, &v);

	if (r <= 0)
		return r;
	p->mtu = (uint16_t)v;
	for (i = 0; i < p->n_addrs; i++)
		if (p->addrs[i].addr.family == DPSEC_AF_INET6 && v < IPV6_MIN_MTU)
			return cfg_fail(c, config_setting_get_member(g, "mtu"),
					"%lld is below IPv6's minimum link MTU %d (RFC 8200 §5), "
					"and the port has an IPv6 address", v, IPV6_MIN_MTU);
	return 0;
}

static int port_device(struct cfg_ctx *c, const config_setting_t *g, struct cfg_port *p,
		       uint32_t idx)
{
	const char *v;
	uint32_t i;

	if (cfg_str(c, g, "device", true, CFG_DEVARGS_MAX - 1, &v) < 0)
		return -1;
	for (i = 0; i < idx; i++)
		if (strcmp(c->cfg->ports[i].device, v) == 0)
			return cfg_fail(c, config_setting_get_member(g, "device"),
					"device \"%s\" is already used by port \"%s\"", v,
					c->cfg->ports[i].name);
	strcpy(p->device, v);
	return 0;
}

/* A unicast MAC in field "mac" of g: 1 when set, 0 when absent (and not
 * required), -1 on error. */
static int unicast_mac(struct cfg_ctx *c, const config_setting_t *g, bool req, uint8_t mac[6])
{
	const config_setting_t *s;
	const char *v;
	int r = cfg_str(c, g, "mac", req, 64, &v);

	if (r <= 0)
		return r;
	s = config_setting_get_member(g, "mac");
	if (cfg_parse_mac(v, mac))
		return cfg_fail(c, s, "expected a MAC address such as \"02:00:00:00:00:02\", "
				"got \"%s\"", v);
	if (mac[0] & 1)
		return cfg_fail(c, s, "%s is a multicast address; expected a unicast MAC", v);
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return cfg_fail(c, s, "%s is the all-zero MAC address", v);
	return 1;
}

static int load_port(struct cfg_ctx *c, const config_setting_t *g, uint32_t idx)
{
	struct cfg_port *p = &c->cfg->ports[idx];
	int role, r;

	if (cfg_group(c, g, port_fields) || cfg_name(c, g, "name", true, p->name) < 0 ||
	    cfg_unique(c, g, &c->port_names, c->cfg->ports, sizeof *p, idx, 0, "port") ||
	    port_device(c, g, p, idx) ||
	    cfg_keyword(c, g, "role", true, role_kw, &role) < 0)
		return -1;
	p->role = (uint8_t)role;
	if (port_addrs(c, g, p) || port_mtu(c, g, p) || (r = unicast_mac(c, g, false, p->mac)) < 0)
		return -1;
	p->has_mac = r == 1;
	return 0;
}

int cfg_load_ports(struct cfg_ctx *c, const config_setting_t *root)
{
	const config_setting_t *l;
	int i;

	if (cfg_list(c, root, "ports", true, 1, CFG_MAX_PORTS, &l) < 0)
		return -1;
	cfg_names_free(&c->port_names);
	for (i = 0; i < config_setting_length(l); i++) {
		if (load_port(c, config_setting_get_elem(l, (unsigned)i), (uint32_t)i))
			return -1;
		c->cfg->n_ports = (uint32_t)i + 1;
	}
	return 0;
}

static bool ifname_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '.' || ch == '-';
}

/* exception = { device = "..."; mac = "..."; }: a DPDK device instead of a
 * TAP, and the MAC of whatever stands behind it as the host. */
static int load_exception_device(struct cfg_ctx *c, const config_setting_t *g)
{
	const char *v;

	if (config_setting_get_member(g, "interface") != NULL)
		return cfg_fail(c, g, "give either interface (a TAP dpsecd makes) or device, not both");
	if (cfg_str(c, g, "device", true, CFG_DEVARGS_MAX - 1, &v) < 0)
		return -1;
	for (uint32_t i = 0; i < c->cfg->n_ports; i++)
		if (strcmp(c->cfg->ports[i].device, v) == 0)
			return cfg_fail(c, config_setting_get_member(g, "device"),
					"device \"%s\" is already used by port \"%s\"", v,
					c->cfg->ports[i].name);
	strcpy(c->cfg->exception_device, v);
	return unicast_mac(c, g, true, c->cfg->exception_host_mac) < 0 ? -1 : 0;
}

int cfg_load_exception(struct cfg_ctx *c, const config_setting_t *root)
{
	const config_setting_t *g;
	const char *v;
	size_t i;
	int r = cfg_member(c, root, "exception", false, CFG_T_GROUP, "a group { ... }", &g);

	if (r <= 0)
		return r;
	if (cfg_group(c, g, exception_fields))
		return -1;
	if (config_setting_get_member(g, "device") != NULL)
		return load_exception_device(c, g);
	if (config_setting_get_member(g, "mac") != NULL)
		return cfg_fail(c, config_setting_get_member(g, "mac"),
				"mac goes with device; a TAP interface has its own MAC");
	if (cfg_str(c, g, "interface", true, CFG_IFNAME_MAX - 1, &v) < 0)
		return -1;
	g = config_setting_get_member(g, "interface");
	for (i = 0; v[i]; i++)
		if (!ifname_char_ok(v[i]))
			return cfg_fail(c, g, "character %zu ('%c') of \"%s\"; an interface name "
					"has letters, digits, '_', '.' and '-' only", i + 1, v[i], v);
	if (strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
		return cfg_fail(c, g, "\"%s\" is not a valid interface name", v);
	strcpy(c->cfg->exception_ifname, v);
	return 0;
}

static int route_dup(struct cfg_ctx *c, const config_setting_t *g, uint32_t idx)
{
	const struct cfg_route *r = c->cfg->routes;
	char buf[CFG_ADDR_STRLEN];
	uint32_t i;

	for (i = 0; i < idx; i++)
		if (cfg_prefix_equal(&r[i].dst, &r[idx].dst))
			return cfg_fail(c, config_setting_get_member(g, "destination"),
					"duplicate route to %s (first at line %u)",
					cfg_fmt_prefix(&r[idx].dst, buf),
					config_setting_source_line(config_setting_get_elem(
						config_setting_parent(g), i)));
	return 0;
}

static int load_route(struct cfg_ctx *c, const config_setting_t *g, uint32_t idx)
{
	struct cfg_route *r = &c->cfg->routes[idx];
	char d[CFG_ADDR_STRLEN], v[CFG_ADDR_STRLEN];
	uint32_t port;
	int has_via = 0;

	if (cfg_group(c, g, route_fields) || cfg_net_prefix(c, g, "destination", true, &r->dst) < 0 ||
	    route_dup(c, g, idx) || (has_via = cfg_addr(c, g, "via", false, &r->via)) < 0 ||
	    cfg_ref(c, g, "port", true, &c->port_names, c->cfg->ports, sizeof c->cfg->ports[0], c->cfg->n_ports,
		    "port", &port) < 0)
		return -1;
	if (has_via && r->via.family != r->dst.addr.family)
		return cfg_fail(c, config_setting_get_member(g, "via"),
				"via %s is %s but destination %s is %s; they must be of one family",
				cfg_fmt_addr(&r->via, v), cfg_family_name(r->via.family),
				cfg_fmt_prefix(&r->dst, d), cfg_family_name(r->dst.addr.family));
	r->port = (uint16_t)port;
	return 0;
}

int cfg_load_routes(struct cfg_ctx *c, const config_setting_t *root)
{
	const config_setting_t *l;
	uint32_t i, n;
	int r = cfg_list(c, root, "routes", false, 0, CFG_MAX_LIST, &l);

	if (r <= 0)
		return r;
	n = (uint32_t)config_setting_length(l);
	c->cfg->routes = calloc(n ? n : 1, sizeof *c->cfg->routes);
	if (!c->cfg->routes)
		return cfg_fail(c, l, "out of memory");
	c->cfg->n_routes = n;
	for (i = 0; i < n; i++)
		if (load_route(c, config_setting_get_elem(l, i), i))
			return -1;
	return 0;
}


static int neighbour_dup(struct cfg_ctx *c, const config_setting_t *g, uint32_t idx)
{
	const struct cfg_neighbour *n = c->cfg->neighbours;
	char buf[CFG_ADDR_STRLEN];
	uint32_t i;

	for (i = 0; i < idx; i++)
		if (n[i].port == n[idx].port && cfg_addr_equal(&n[i].addr, &n[idx].addr))
			return cfg_fail(c, config_setting_get_member(g, "address"),
					"duplicate neighbour %s on port \"%s\" (first at line %u)",
					cfg_fmt_addr(&n[idx].addr, buf),
					c->cfg->ports[n[idx].port].name,
					config_setting_source_line(config_setting_get_elem(
						config_setting_parent(g), i)));
	return 0;
}

static int load_neighbour(struct cfg_ctx *c, const config_setting_t *g, uint32_t idx)
{
	struct cfg_neighbour *n = &c->cfg->neighbours[idx];
	uint32_t port;

	if (cfg_group(c, g, neighbour_fields) || cfg_addr(c, g, "address", true, &n->addr) < 0 ||
	    unicast_mac(c, g, true, n->mac) < 0 ||
	    cfg_ref(c, g, "port", true, &c->port_names, c->cfg->ports, sizeof c->cfg->ports[0], c->cfg->n_ports,
		    "port", &port) < 0)
		return -1;
	n->port = (uint16_t)port;
	return neighbour_dup(c, g, idx);
}

int cfg_load_neighbours(struct cfg_ctx *c, const config_setting_t *root)
{
	const config_setting_t *l;
	uint32_t i, n;
	int r = cfg_list(c, root, "neighbours", false, 0, CFG_MAX_LIST, &l);

	if (r <= 0)
		return r;
	n = (uint32_t)config_setting_length(l);
	c->cfg->neighbours = calloc(n ? n : 1, sizeof *c->cfg->neighbours);
	if (!c->cfg->neighbours)
		return cfg_fail(c, l, "out of memory");
	c->cfg->n_neighbours = n;
	for (i = 0; i < n; i++)
		if (load_neighbour(c, config_setting_get_elem(l, i), i))
			return -1;
	return 0;
}

bool cfg_prefixes_meet(const struct dpsec_prefix *a, const struct dpsec_prefix *b)
{
	uint32_t bits = a->len < b->len ? a->len : b->len;

	if (a->addr.family != b->addr.family)
		return false;
	for (uint32_t i = 0; bits > 0; i++, bits = bits > 8 ? bits - 8 : 0) {
		uint8_t mask = (uint8_t)(0xff << (8 - (bits > 8 ? 8 : bits)));

		if ((a->addr.a[i] & mask) != (b->addr.a[i] & mask))
			return false;
	}
	return true;
}

bool cfg_prefix_holds(const struct dpsec_prefix *p, const struct dpsec_addr *a)
{
	struct dpsec_prefix host = { *a, a->family == DPSEC_AF_INET6 ? 128 : 32 };

	return cfg_prefixes_meet(p, &host);
}
