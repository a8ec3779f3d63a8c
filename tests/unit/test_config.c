/* test_config.c - Check unit tests of the dataplane config loader: the two
 * example gateways load with the expected values and match each other, a
 * config using every field loads as written, a table of broken configs each
 * fails with the exact FILE:LINE, field path and reason, key files readable
 * by others are refused (or warned about), cfg_free() wipes and is
 * idempotent, truncated and mangled files fail cleanly, and the string
 * helpers parse what they should. Runs with CK_FORK=no: every test cleans
 * up its files and its struct. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"

#include "lsan_libconfig.h"
#include "check_run.h"

#define K16 "0x00112233445566778899aabbccddeeff"
#define K20 "0x00112233445566778899aabbccddeeff01020304"
#define K24 "0x0123456789abcdef23456789abcdef01456789abcdef0123"
#define K32 "0x00112233445566778899aabbccddeeff102132435465768798a9bacbdcedfe0f"
#define K36 K32 "a0b1c2d3"

/* ---- files ---- */

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	size_t len = strlen(text);

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
}

/* A new temp file (mode 0600) holding text; its name goes to path. */
static void write_tmp(const char *text, char path[64])
{
	int fd;

	strcpy(path, "/tmp/dpsec-cfg-XXXXXX");
	fd = mkstemp(path);
	ck_assert_msg(fd >= 0, "mkstemp: %s", strerror(errno));
	close(fd);
	write_file(path, text, 0600);
}

/* The source tree: $DPSEC_SOURCE_ROOT, or found from __FILE__, which meson
 * gives relative to the build root, an ancestor of this executable. */
static void source_file(const char *rel, char out[PATH_MAX])
{
	const char *root = getenv("DPSEC_SOURCE_ROOT");
	char exe[PATH_MAX], cand[PATH_MAX * 2];
	const char *dir;
	ssize_t n;
	int up;

	if (root) {
		snprintf(out, PATH_MAX, "%s/%s", root, rel);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	ck_assert(n > 0);
	exe[n] = '\0';
	for (up = 0; up < 6; up++) {
		dir = dirname(exe);
		memmove(exe, dir, strlen(dir) + 1); /* dirname may return exe itself */
		snprintf(cand, sizeof cand, "%s/%s", __FILE__[0] == '/' ? "" : exe, __FILE__);
		if (access(cand, R_OK) == 0) {
			snprintf(out, PATH_MAX, "%s/../../%s", dirname(cand), rel);
			ck_assert_msg(access(out, R_OK) == 0, "%s: %s", out, strerror(errno));
			return;
		}
	}
	ck_abort_msg("cannot find the source tree; set DPSEC_SOURCE_ROOT");
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 16);
	size_t n;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert(buf != NULL);
	n = fread(buf, 1, (1 << 16) - 1, f);
	ck_assert(n > 0 && n < (1 << 16) - 1);
	fclose(f);
	return buf;
}

/* Copies a checked-in example (mode 0644 in git) to a temp file of mode. */
static void copy_example(const char *name, mode_t mode, char path[64])
{
	char src[PATH_MAX], rel[128];
	char *text;

	snprintf(rel, sizeof rel, "config/examples/%s", name);
	source_file(rel, src);
	text = slurp(src);
	write_tmp(text, path);
	free(text);
	ck_assert_int_eq(chmod(path, mode), 0);
}

static int load_text(const char *text, struct cfg_dataplane *cfg, char err[CFG_ERR_MAX],
		     char path[64])
{
	int rc;

	write_tmp(text, path);
	rc = cfg_load(path, CFG_PERM_REFUSE, cfg, err);
	unlink(path);
	return rc;
}

/* ---- value checks ---- */

static void assert_prefix(const struct dpsec_prefix *p, const char *want)
{
	struct dpsec_prefix w;

	ck_assert_int_eq(cfg_parse_prefix(want, &w), 0);
	ck_assert_msg(p->len == w.len && p->addr.family == w.addr.family &&
		      memcmp(p->addr.a, w.addr.a, 16) == 0, "prefix is not %s", want);
}

static void assert_addr(const struct dpsec_addr *a, const char *want)
{
	struct dpsec_addr w;

	ck_assert_int_eq(cfg_parse_addr(want, &w), 0);
	ck_assert_msg(a->family == w.family && memcmp(a->a, w.a, 16) == 0, "address is not %s",
		      want);
}

static void assert_bytes(const uint8_t *got, const char *hex, size_t len)
{
	uint8_t want[64];
	size_t n;

	ck_assert_int_eq(cfg_parse_hex(hex, want, sizeof want, &n), 0);
	ck_assert_uint_eq(n, len);
	ck_assert_mem_eq(got, want, len);
}

static int sa_index(const struct cfg_dataplane *cfg, const char *name)
{
	uint32_t i;

	for (i = 0; i < cfg->n_sas; i++)
		if (strcmp(cfg->sas[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* ---- the examples ---- */

static void load_example(const char *name, struct cfg_dataplane *cfg)
{
	char path[64], err[CFG_ERR_MAX];

	copy_example(name, 0600, path);
	ck_assert_msg(cfg_load(path, CFG_PERM_REFUSE, cfg, err) == 0, "%s: %s", name, err);
	ck_assert_str_eq(cfg->path, path);
	unlink(path);
}

static void check_gateway_common(const struct cfg_dataplane *cfg)
{
	ck_assert_uint_eq(cfg->opts.workers, 1);
	ck_assert_uint_eq(cfg->opts.idle, CFG_IDLE_SLEEP);
	ck_assert_uint_eq(cfg->opts.idle_sleep_us, 100);
	ck_assert_uint_eq(cfg->n_ports, 2);
	ck_assert_str_eq(cfg->ports[0].name, "lan");
	ck_assert_uint_eq(cfg->ports[0].role, CFG_ROLE_PROTECTED);
	ck_assert_str_eq(cfg->ports[1].name, "wan");
	ck_assert_uint_eq(cfg->ports[1].role, CFG_ROLE_UNPROTECTED);
	ck_assert_uint_eq(cfg->ports[0].n_addrs, 1);
	ck_assert_uint_eq(cfg->ports[1].n_addrs, 1);
	ck_assert_uint_eq(cfg->ports[0].mtu, 0);
	ck_assert_str_eq(cfg->exception_ifname, "dpsec0");
	ck_assert_uint_eq(cfg->n_routes, 1);
	ck_assert_uint_eq(cfg->routes[0].port, 1);
	ck_assert_uint_eq(cfg->n_neighbours, 0);
	ck_assert_uint_eq(cfg->default_action, DPSEC_ACTION_PERMIT);
	ck_assert_uint_eq(cfg->n_rules, 1);
	ck_assert_uint_eq(cfg->rules[0].action, DPSEC_ACTION_NEGOTIATE);
	ck_assert_str_eq(cfg->rules[0].filter_action, "secure");
	ck_assert(cfg->rules[0].tunnel);
	ck_assert_uint_eq(cfg->rules[0].priority, 10);
	ck_assert_uint_eq(cfg->rules[0].n_filters, 1);
	ck_assert(cfg->rules[0].filters[0].mirrored);
	ck_assert_uint_eq(cfg->rules[0].filters[0].proto, 0);
	ck_assert_uint_eq(cfg->rules[0].filters[0].sport_lo, 0);
	ck_assert_uint_eq(cfg->rules[0].filters[0].dport_hi, 65535);
	ck_assert_uint_eq(cfg->n_sas, 2);
}

START_TEST(test_gateway_a)
{
	struct cfg_dataplane cfg;
	const struct dpsec_sa_conf *out, *in;

	load_example("gateway-a.conf", &cfg);
	check_gateway_common(&cfg);
	ck_assert_str_eq(cfg.ports[0].device, "net_af_packet0,iface=gwa-lan");
	ck_assert_str_eq(cfg.ports[1].device, "net_af_packet1,iface=gwa-wan");
	assert_prefix(&cfg.ports[0].addrs[0], "10.1.0.1/24");
	assert_prefix(&cfg.ports[1].addrs[0], "192.0.2.1/24");
	assert_prefix(&cfg.routes[0].dst, "10.2.0.0/24");
	assert_addr(&cfg.routes[0].via, "192.0.2.2");
	ck_assert_str_eq(cfg.rules[0].name, "to-site-b");
	ck_assert_str_eq(cfg.rules[0].filter_list, "lan-a-lan-b");
	assert_addr(&cfg.rules[0].tunnel_endpoint, "192.0.2.2");
	assert_prefix(&cfg.rules[0].filters[0].src, "10.1.0.0/24");
	assert_prefix(&cfg.rules[0].filters[0].dst, "10.2.0.0/24");
	ck_assert_int_eq(cfg.rules[0].sa_out, sa_index(&cfg, "a-to-b"));
	ck_assert_int_eq(cfg.rules[0].sa_in, sa_index(&cfg, "b-to-a"));
	out = &cfg.sas[cfg.rules[0].sa_out];
	in = &cfg.sas[cfg.rules[0].sa_in];
	ck_assert_uint_eq(out->spi, 0x1001);
	ck_assert_uint_eq(out->direction, DPSEC_DIR_OUT);
	ck_assert_uint_eq(out->mode, DPSEC_MODE_TUNNEL);
	assert_addr(&out->local, "192.0.2.1");
	assert_addr(&out->remote, "192.0.2.2");
	ck_assert_uint_eq(out->enc_alg, DPSEC_ENC_AES_GCM_16);
	ck_assert_uint_eq(out->enc_key_len, 16);
	assert_bytes(out->enc_key, "d8b4d74b4165820bc33e142437fe058d", 16);
	assert_bytes(out->salt, "f69dde7d", 4);
	ck_assert_uint_eq(out->integ_alg, DPSEC_INTEG_NONE);
	ck_assert_uint_eq(out->integ_key_len, 0);
	ck_assert_uint_eq(out->replay_window, DPSEC_REPLAY_DEFAULT);
	ck_assert(!out->esn);
	ck_assert_uint_eq(in->spi, 0x2001);
	ck_assert_uint_eq(in->direction, DPSEC_DIR_IN);
	assert_bytes(in->enc_key, "b0c307cd213e3be64f788344c512cb3b", 16);
	assert_bytes(in->salt, "023edbd2", 4);
	ck_assert_uint_eq(in->replay_window, 1024);
	cfg_free(&cfg);
}
END_TEST

START_TEST(test_gateway_b)
{
	struct cfg_dataplane cfg;

	load_example("gateway-b.conf", &cfg);
	check_gateway_common(&cfg);
	ck_assert_str_eq(cfg.ports[0].device, "net_af_packet0,iface=gwb-lan");
	ck_assert_str_eq(cfg.ports[1].device, "net_af_packet1,iface=gwb-wan");
	assert_prefix(&cfg.ports[0].addrs[0], "10.2.0.1/24");
	assert_prefix(&cfg.ports[1].addrs[0], "192.0.2.2/24");
	assert_prefix(&cfg.routes[0].dst, "10.1.0.0/24");
	assert_addr(&cfg.rules[0].tunnel_endpoint, "192.0.2.1");
	assert_prefix(&cfg.rules[0].filters[0].src, "10.2.0.0/24");
	ck_assert_int_eq(cfg.rules[0].sa_out, sa_index(&cfg, "b-to-a"));
	ck_assert_int_eq(cfg.rules[0].sa_in, sa_index(&cfg, "a-to-b"));
	cfg_free(&cfg);
}
END_TEST

/* What A sends with, B receives with: same SPI, key, salt, swapped ends. */
static void assert_sa_pair(const struct dpsec_sa_conf *o, const struct dpsec_sa_conf *i)
{
	ck_assert_str_eq(o->name, i->name);
	ck_assert_uint_eq(o->direction, DPSEC_DIR_OUT);
	ck_assert_uint_eq(i->direction, DPSEC_DIR_IN);
	ck_assert_uint_eq(o->spi, i->spi);
	ck_assert_uint_eq(o->enc_alg, i->enc_alg);
	ck_assert_uint_eq(o->enc_key_len, i->enc_key_len);
	ck_assert_mem_eq(o->enc_key, i->enc_key, o->enc_key_len);
	ck_assert_mem_eq(o->salt, i->salt, sizeof o->salt);
	ck_assert_mem_eq(&o->local, &i->remote, sizeof o->local);
	ck_assert_mem_eq(&o->remote, &i->local, sizeof o->remote);
}

START_TEST(test_gateway_pair_matches)
{
	struct cfg_dataplane a, b;

	load_example("gateway-a.conf", &a);
	load_example("gateway-b.conf", &b);
	assert_sa_pair(&a.sas[a.rules[0].sa_out], &b.sas[b.rules[0].sa_in]);
	assert_sa_pair(&b.sas[b.rules[0].sa_out], &a.sas[a.rules[0].sa_in]);
	ck_assert_mem_eq(&a.rules[0].tunnel_endpoint, &b.sas[b.rules[0].sa_out].local,
			 sizeof a.rules[0].tunnel_endpoint);
	cfg_free(&a);
	cfg_free(&b);
}
END_TEST

/* ---- a configuration that uses every field ---- */

static const char full_conf[] =
	"dataplane = { workers = 4; idle = \"busy\"; idle_sleep_us = 0; };\n"
	"ports = (\n"
	"  { name = \"lan\"; device = \"0000:03:00.0\"; role = \"protected\";\n"
	"    addresses = [ \"10.1.0.1/24\", \"fd00:1::1/64\" ]; mtu = 9000; mac = \"02:00:00:00:01:01\"; },\n"
	"  { name = \"wan\"; device = \"0000:03:00.1\"; role = \"unprotected\";\n"
	"    addresses = ( \"192.0.2.1/24\", \"2001:db8::1/64\" ); }\n"
	");\n"
	"exception = { interface = \"dp-sec_0.1\"; };\n"
	"routes = (\n"
	"  { destination = \"10.2.0.0/24\"; via = \"192.0.2.2\"; port = \"wan\"; },\n"
	"  { destination = \"198.51.100.0/24\"; port = \"wan\"; },\n"
	"  { destination = \"2001:db8:2::/48\"; via = \"2001:db8::2\"; port = \"wan\"; }\n"
	");\n"
	"neighbours = ( { address = \"192.0.2.2\"; mac = \"02:00:00:0A:bC:02\"; port = \"wan\"; } );\n"
	"policy = {\n"
	"  default_action = \"block\";\n"
	"  filter_lists = (\n"
	"    { name = \"web\"; filters = (\n"
	"      { source = \"10.1.0.0/24\"; destination = \"10.2.0.0/24\"; protocol = \"tcp\";\n"
	"        mirrored = true; source_ports = \"1024-65535\"; destination_ports = \"443\"; },\n"
	"      { source = \"fd00:1::/64\"; destination = \"fd00:2::/64\"; protocol = 132;\n"
	"        destination_ports = 9899; } ); },\n"
	"    { name = \"mgmt\"; filters = ( { source = \"192.0.2.1/32\";\n"
	"        destination = \"192.0.2.2/32\"; protocol = \"udp\"; mirrored = false; } ); },\n"
	"    { name = \"hosts\"; filters = ( { source = \"192.0.2.1/32\"; destination = \"0.0.0.0/0\";\n"
	"        protocol = \"icmp\"; } ); }\n"
	"  );\n"
	"  filter_actions = ( { name = \"secure\"; action = \"negotiate\"; },\n"
	"    { name = \"allow\"; action = \"permit\"; }, { name = \"deny\"; action = \"block\"; } );\n"
	"  rules = (\n"
	"    { name = \"web tunnel\"; filter_list = \"web\"; filter_action = \"secure\"; priority = 10;\n"
	"      tunnel_endpoint = \"192.0.2.2\"; outbound_sa = \"t-out\"; inbound_sa = \"t-in\"; },\n"
	"    { name = \"mgmt-clear\"; filter_list = \"mgmt\"; filter_action = \"allow\";\n"
	"      priority = 1000000; },\n"
	"    { name = \"host\"; filter_list = \"hosts\"; filter_action = \"secure\";\n"
	"      outbound_sa = \"h-out\"; inbound_sa = \"h-in\"; },\n"
	"    { name = \"pending\"; filter_list = \"hosts\"; filter_action = \"secure\";\n"
	"      tunnel_endpoint = \"192.0.2.3\"; },\n"
	"    { name = \"drop\"; filter_list = \"mgmt\"; filter_action = \"deny\"; }\n"
	"  );\n"
	"};\n"
	"security_associations = (\n"
	"  { name = \"t-out\"; spi = 0xffffffff; direction = \"outbound\"; mode = \"tunnel\";\n"
	"    local = \"192.0.2.1\"; remote = \"192.0.2.2\"; encryption = \"aes256\";\n"
	"    encryption_key = \"" K32 "\"; integrity = \"sha256_128\";\n"
	"    integrity_key = \"" K32 "\"; replay_window = 0; },\n"
	"  { name = \"t-in\"; spi = 256; direction = \"inbound\"; mode = \"tunnel\";\n"
	"    local = \"192.0.2.1\"; remote = \"192.0.2.2\"; encryption = \"aes256gcm16\";\n"
	"    encryption_key = \"" K36 "\"; integrity = \"none\"; replay_window = 8192; esn = true; },\n"
	"  { name = \"h-out\"; spi = 0x3001; direction = \"outbound\"; mode = \"transport\";\n"
	"    local = \"192.0.2.1\"; remote = \"192.0.2.2\"; encryption = \"aes128\";\n"
	"    encryption_key = \"" K16 "\"; integrity = \"sha1_96\"; integrity_key = \"" K20 "\"; },\n"
	"  { name = \"h-in\"; spi = 0x3001; direction = \"inbound\"; mode = \"transport\";\n"
	"    local = \"192.0.2.1\"; remote = \"192.0.2.2\"; encryption = \"aes128gcm16\";\n"
	"    encryption_key = \"" K20 "\"; }\n"
	");\n";

static void check_full_net(const struct cfg_dataplane *cfg)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0x0a, 0xbc, 0x02 };

	ck_assert_uint_eq(cfg->opts.workers, 4);
	ck_assert_uint_eq(cfg->opts.idle, CFG_IDLE_BUSY);
	ck_assert_uint_eq(cfg->opts.idle_sleep_us, 0);
	ck_assert_uint_eq(cfg->ports[0].n_addrs, 2);
	assert_prefix(&cfg->ports[0].addrs[1], "fd00:1::1/64");
	ck_assert_uint_eq(cfg->ports[0].addrs[1].addr.family, DPSEC_AF_INET6);
	ck_assert_uint_eq(cfg->ports[0].mtu, 9000);
	ck_assert_uint_eq(cfg->ports[1].mtu, 0);
	assert_prefix(&cfg->ports[1].addrs[1], "2001:db8::1/64");
	ck_assert_str_eq(cfg->exception_ifname, "dp-sec_0.1");
	ck_assert_uint_eq(cfg->n_routes, 3);
	ck_assert_uint_eq(cfg->routes[1].via.family, DPSEC_AF_NONE);
	assert_prefix(&cfg->routes[2].dst, "2001:db8:2::/48");
	assert_addr(&cfg->routes[2].via, "2001:db8::2");
	ck_assert_uint_eq(cfg->n_neighbours, 1);
	ck_assert_mem_eq(cfg->neighbours[0].mac, mac, 6);
	ck_assert_uint_eq(cfg->neighbours[0].port, 1);
	ck_assert_uint_eq(cfg->default_action, DPSEC_ACTION_BLOCK);
}

static void check_full_rules(const struct cfg_dataplane *cfg)
{
	const struct dpsec_rule *r = cfg->rules;

	ck_assert_uint_eq(cfg->n_rules, 5);
	ck_assert_str_eq(r[0].name, "web tunnel");
	ck_assert_int_eq(r[0].sa_out, 0);
	ck_assert_int_eq(r[0].sa_in, 1);
	ck_assert_uint_eq(r[0].n_filters, 2); /* an IPv6 filter in an IPv4 tunnel */
	ck_assert_uint_eq(r[0].filters[0].proto, 6);
	ck_assert_uint_eq(r[0].filters[0].sport_lo, 1024);
	ck_assert_uint_eq(r[0].filters[0].sport_hi, 65535);
	ck_assert_uint_eq(r[0].filters[0].dport_lo, 443);
	ck_assert_uint_eq(r[0].filters[0].dport_hi, 443);
	ck_assert_uint_eq(r[0].filters[1].proto, 132);
	ck_assert_uint_eq(r[0].filters[1].dport_lo, 9899);
	ck_assert_uint_eq(r[0].filters[1].sport_hi, 65535);
	ck_assert_uint_eq(r[0].filters[1].src.addr.family, DPSEC_AF_INET6);
	ck_assert_uint_eq(r[1].action, DPSEC_ACTION_PERMIT);
	ck_assert_uint_eq(r[1].priority, 1000000);
	ck_assert(!r[1].filters[0].mirrored);
	ck_assert_int_eq(r[1].sa_out, -1);
	ck_assert(!r[2].tunnel);
	ck_assert_int_eq(r[2].sa_out, 2);
	ck_assert_int_eq(r[2].sa_in, 3);
	ck_assert_uint_eq(r[2].filters[0].proto, 1);
	assert_prefix(&r[2].filters[0].dst, "0.0.0.0/0");
	ck_assert(r[3].tunnel); /* negotiate without SAs: drops until IKE */
	assert_addr(&r[3].tunnel_endpoint, "192.0.2.3");
	ck_assert_int_eq(r[3].sa_out, -1);
	ck_assert_int_eq(r[3].sa_in, -1);
	ck_assert_uint_eq(r[4].action, DPSEC_ACTION_BLOCK);
	ck_assert_uint_eq(r[4].priority, 0);
}

static void check_full_sas(const struct cfg_dataplane *cfg)
{
	const struct dpsec_sa_conf *s = cfg->sas;

	ck_assert_uint_eq(cfg->n_sas, 4);
	ck_assert_uint_eq(s[0].spi, 0xffffffffu);
	ck_assert_uint_eq(s[0].enc_alg, DPSEC_ENC_AES_CBC);
	ck_assert_uint_eq(s[0].enc_key_len, 32);
	assert_bytes(s[0].enc_key, K32, 32);
	ck_assert_uint_eq(s[0].integ_alg, DPSEC_INTEG_HMAC_SHA256_128);
	ck_assert_uint_eq(s[0].integ_key_len, 32);
	assert_bytes(s[0].integ_key, K32, 32);
	ck_assert_uint_eq(s[0].replay_window, 0);
	ck_assert_uint_eq(s[1].spi, 256);
	ck_assert_uint_eq(s[1].enc_alg, DPSEC_ENC_AES_GCM_16);
	ck_assert_uint_eq(s[1].enc_key_len, 32);
	assert_bytes(s[1].enc_key, K32, 32);
	assert_bytes(s[1].salt, "a0b1c2d3", 4);
	ck_assert_uint_eq(s[1].replay_window, 8192);
	ck_assert(s[1].esn);
	ck_assert_uint_eq(s[2].mode, DPSEC_MODE_TRANSPORT);
	ck_assert_uint_eq(s[2].enc_key_len, 16);
	ck_assert_uint_eq(s[2].integ_alg, DPSEC_INTEG_HMAC_SHA1_96);
	ck_assert_uint_eq(s[2].integ_key_len, 20);
	assert_bytes(s[2].integ_key, K20, 20);
	ck_assert_uint_eq(s[3].spi, 0x3001); /* same SPI, other direction */
}

START_TEST(test_full_config)
{
	struct cfg_dataplane cfg;
	char path[64], err[CFG_ERR_MAX];

	ck_assert_msg(load_text(full_conf, &cfg, err, path) == 0, "%s", err);
	check_full_net(&cfg);
	ck_assert(cfg.ports[0].has_mac && !cfg.ports[1].has_mac);
	ck_assert_mem_eq(cfg.ports[0].mac, "\x02\x00\x00\x00\x01\x01", 6);
	check_full_rules(&cfg);
	check_full_sas(&cfg);
	cfg_free(&cfg);
}
END_TEST

START_TEST(test_minimal_config)
{
	struct cfg_dataplane cfg;
	char path[64], err[CFG_ERR_MAX];

	ck_assert_msg(load_text("ports = ( { name = \"p\"; device = \"d\"; role = \"protected\"; } );\n",
				&cfg, err, path) == 0, "%s", err);
	ck_assert_uint_eq(cfg.n_ports, 1);
	ck_assert_uint_eq(cfg.ports[0].n_addrs, 0);
	ck_assert(!cfg.ports[0].has_mac);
	ck_assert_uint_eq(cfg.opts.workers, 1);
	ck_assert_uint_eq(cfg.opts.idle, CFG_IDLE_SLEEP);
	ck_assert_uint_eq(cfg.opts.idle_sleep_us, 100);
	ck_assert_uint_eq(cfg.opts.natt_keepalive_s, 20);
	ck_assert_str_eq(cfg.exception_ifname, "");
	ck_assert_uint_eq(cfg.default_action, DPSEC_ACTION_PERMIT);
	ck_assert_uint_eq(cfg.n_rules + cfg.n_sas + cfg.n_routes + cfg.n_neighbours, 0);
	ck_assert_ptr_null(cfg.rules);
	cfg_free(&cfg);
}
END_TEST

/* ---- broken configurations ---- */

/* Lines 1-2. */
#define PORTS                                                                               \
	"ports = ( { name = \"lan\"; device = \"d0\"; role = \"protected\"; "                  \
	"addresses = [ \"10.1.0.1/24\" ]; },\n"                                             \
	"  { name = \"wan\"; device = \"d1\"; role = \"unprotected\"; "                      \
	"addresses = [ \"192.0.2.1/24\" ]; } );\n"

#define SA_X(name, spi, dir, mode, remote, rest)                                            \
	"{ name = \"" name "\"; spi = " spi "; direction = \"" dir "\"; mode = \"" mode       \
	"\"; local = \"192.0.2.1\"; remote = \"" remote "\"; " rest " }"
#define GCM "encryption = \"aes128gcm16\"; encryption_key = \"" K20 "\";"
#define AH_SHA1 "protocol = \"ah\"; integrity = \"sha1_96\"; integrity_key = \"" K20 "\";"
#define SA_OUT SA_X("out", "0x1001", "outbound", "tunnel", "192.0.2.2", GCM)
#define SA_IN SA_X("in", "0x2001", "inbound", "tunnel", "192.0.2.2", GCM)
/* After PORTS: SA a on line 3, SA b on line 4. */
#define SAS(a, b) "security_associations = ( " a ",\n  " b " );\n"
#define SAS_OK SAS(SA_OUT, SA_IN)
/* After PORTS and SAS: filter lists on line 5, filter actions 6, rules 7. */
#define POLICY(filters, action, rule)                                                      \
	"policy = { filter_lists = ( { name = \"fl\"; filters = ( " filters " ); } );\n"    \
	"  filter_actions = ( { name = \"fa\"; action = \"" action "\"; } );\n"              \
	"  rules = ( { name = \"r\"; filter_list = \"fl\"; filter_action = \"fa\"; " rule    \
	" } );\n"                                                                           \
	"};\n"
#define LANS "source = \"10.1.0.0/24\"; destination = \"10.2.0.0/24\";"
#define F_LANS "{ " LANS " }"
#define TUNNEL "tunnel_endpoint = \"192.0.2.2\"; outbound_sa = \"out\"; inbound_sa = \"in\";"
#define SA_ONLY(sa) PORTS "security_associations = ( " sa " );\n"
#define FILTER(f) PORTS "policy = { filter_lists = ( { name = \"fl\"; filters = ( { " f " } ); } ); };\n"

struct broken {
	const char *what;
	const char *text;
	unsigned line;
	const char *field; /* NULL: a libconfig syntax error, no field */
	const char *phrase;
};

static const struct broken broken[] = {
	{ "syntax error", PORTS "routes = ( { destination = ; } );\n", 3, NULL, "syntax error" },
	{ "duplicate setting", PORTS "exception = { interface = \"a\"; interface = \"b\"; };\n", 3,
	  NULL, "duplicate setting name" },
	{ "unknown top-level field", PORTS "neighbors = ();\n", 3, "neighbors",
	  "unknown field 'neighbors'; expected one of: dataplane, ports" },
	{ "unknown port field",
	  "ports = ( { name = \"a\"; device = \"d\"; role = \"protected\";\n speed = 10; } );\n", 2,
	  "ports.[0].speed", "unknown field 'speed'" },
	{ "no ports", "dataplane = { workers = 2; };\n", 1, "ports", "required field missing" },
	{ "empty ports", "ports = ();\n", 1, "ports", "empty list; expected 1..8 entries" },
	{ "ports not a list", "ports = { name = \"a\"; };\n", 1, "ports",
	  "expected a list ( ... ), got a group" },
	{ "empty device", "ports = ( { name = \"a\"; role = \"protected\";\n device = \"\"; } );\n", 2,
	  "ports.[0].device", "empty string; expected 1..255 characters" },
	{ "duplicate port", "ports = ( { name = \"lan\"; device = \"d0\"; role = \"protected\"; },\n"
	  "  { name = \"lan\"; device = \"d1\"; role = \"protected\"; } );\n", 2, "ports.[1].name",
	  "duplicate port name \"lan\" (first defined at line 1)" },
	{ "duplicate device", "ports = ( { name = \"a\"; device = \"d0\"; role = \"protected\"; },\n"
	  "  { name = \"b\"; device = \"d0\"; role = \"protected\"; } );\n", 2, "ports.[1].device",
	  "device \"d0\" is already used by port \"a\"" },
	{ "missing device", "ports = ( { name = \"a\";\n role = \"protected\"; } );\n", 1,
	  "ports.[0].device", "required field missing (expected a string)" },
	{ "bad role", "ports = ( { name = \"a\"; device = \"d\";\n role = \"inside\"; } );\n", 2,
	  "ports.[0].role", "expected \"protected\" or \"unprotected\", got \"inside\"" },
	{ "name too long", "ports = ( { name = \"abcdefghijklmnopqrstuvwxyz012345"
	  "abcdefghijklmnopqrstuvwxyz012345\"; } );\n", 1,
	  "ports.[0].name", "64 characters; at most 63 allowed" },
	{ "mtu as string", "ports = ( { name = \"a\"; device = \"d\"; role = \"protected\";\n"
	  "  mtu = \"1500\"; } );\n", 2, "ports.[0].mtu",
	  "expected an integer, got a string (\"1500\")" },
	{ "mtu too large", "ports = ( { name = \"a\"; device = \"d\"; role = \"protected\";\n"
	  "  mtu = 9601; } );\n", 2, "ports.[0].mtu", "9601 is out of range; expected 68..9600" },
	{ "IPv6 below 1280", "ports = ( { name = \"a\"; device = \"d\"; role = \"protected\";\n"
	  "  addresses = [ \"fd00::1/64\" ]; mtu = 1000; } );\n", 2, "ports.[0].mtu",
	  "below IPv6's minimum link MTU 1280" },
	{ "address without length", "ports = ( { name = \"a\"; device = \"d\"; role = \"protected\";\n"
	  "  addresses = [ \"10.0.0.1/24\",\n \"10.0.0.2\" ]; } );\n", 3,
	  "ports.[0].addresses.[1]", "\"10.0.0.2\": no prefix length; expected ADDR/LEN such as" },
	{ "too many addresses", "ports = ( { name = \"a\"; device = \"d\"; role = \"protected\";\n"
	  "  addresses = [ \"10.0.0.1/24\", \"10.0.1.1/24\", \"10.0.2.1/24\", \"10.0.3.1/24\", "
	  "\"10.0.4.1/24\" ]; } );\n", 2, "ports.[0].addresses", "5 entries; expected 0..4" },
	{ "control character", "ports = ( { name = \"a\\tb\"; } );\n", 1, "ports.[0].name",
	  "character 2 is a control character" },
	{ "same address twice", "ports = ( { name = \"a\"; device = \"d0\"; role = \"protected\"; "
	  "addresses = [ \"10.0.0.1/24\" ]; },\n { name = \"b\"; device = \"d1\"; "
	  "role = \"protected\"; addresses = [ \"10.0.0.1/16\" ]; } );\n", 2,
	  "ports.[1].addresses.[0]", "address 10.0.0.1 is already assigned to port \"a\"" },
	{ "workers 0", "dataplane = {\n workers = 0; };\n" PORTS, 2, "dataplane.workers",
	  "0 is out of range; expected 1..16" },
	{ "bad idle mode", "dataplane = { idle = \"spin\"; };\n" PORTS, 1, "dataplane.idle",
	  "expected \"sleep\" or \"busy\", got \"spin\"" },
	{ "idle sleep too long", "dataplane = { idle_sleep_us = 100001; };\n" PORTS, 1,
	  "dataplane.idle_sleep_us", "100001 is out of range; expected 0..100000" },
	{ "dataplane not a group", "dataplane = 1;\n" PORTS, 1, "dataplane",
	  "expected a group { ... }, got an integer" },
	{ "interface too long", PORTS "exception = { interface = \"dpsec0123456789a\"; };\n", 3,
	  "exception.interface", "16 characters; at most 15 allowed" },
	{ "interface bad char", PORTS "exception = { interface = \"dp/sec\"; };\n", 3,
	  "exception.interface", "character 3 ('/') of \"dp/sec\"" },
	{ "exception device and interface", PORTS "exception = { interface = \"dp0\";\n"
	  " device = \"net_null5\"; mac = \"02:00:00:00:00:09\"; };\n", 3, "exception",
	  "give either interface (a TAP dpsecd makes) or device, not both" },
	{ "exception device without mac", PORTS "exception = { device = \"net_null5\"; };\n", 3,
	  "exception.mac", "required field missing" },
	{ "exception device taken", PORTS "exception = { device = \"d1\"; mac = \"02:00:00:00:00:09\"; };\n",
	  3, "exception.device", "device \"d1\" is already used by port \"wan\"" },
	{ "exception mac with interface", PORTS "exception = { interface = \"dp0\"; mac = \"02:00:00:00:00:09\"; };\n",
	  3, "exception.mac", "mac goes with device; a TAP interface has its own MAC" },
	{ "route host bits", PORTS "routes = (\n { destination = \"10.2.0.1/24\"; port = \"wan\"; } );\n",
	  4, "routes.[0].destination", "host bits set in \"10.2.0.1/24\"; did you mean \"10.2.0.0/24\"?" },
	{ "route IPv6 host bits", PORTS "routes = ( { destination = \"2001:db8::1:0/96\"; port = \"wan\"; } );\n",
	  3, "routes.[0].destination", "did you mean \"2001:db8::/96\"?" },
	{ "route prefix too long", PORTS "routes = ( { destination = \"10.2.0.0/33\"; port = \"wan\"; } );\n",
	  3, "routes.[0].destination", "\"10.2.0.0/33\": prefix length above 32 for IPv4; expected ADDR/LEN" },
	{ "route bad address", PORTS "routes = ( { destination = \"10.2.0/24\"; port = \"wan\"; } );\n",
	  3, "routes.[0].destination", "not an IPv4 or IPv6 address before '/'" },
	{ "route family mix", PORTS "routes = ( { destination = \"10.2.0.0/24\";\n via = \"fe80::1\"; "
	  "port = \"wan\"; } );\n", 4, "routes.[0].via",
	  "via fe80::1 is IPv6 but destination 10.2.0.0/24 is IPv4" },
	{ "route unknown port", PORTS "routes = ( { destination = \"10.2.0.0/24\";\n port = \"dmz\"; } );\n",
	  4, "routes.[0].port", "no port named \"dmz\"" },
	{ "duplicate route", PORTS "routes = ( { destination = \"10.2.0.0/24\"; port = \"wan\"; },\n"
	  "  { destination = \"10.2.0.0/24\"; port = \"lan\"; } );\n", 4, "routes.[1].destination",
	  "duplicate route to 10.2.0.0/24 (first at line 3)" },
	{ "bad MAC", PORTS "neighbours = ( { address = \"192.0.2.2\"; mac = \"02:00:00:00:00\"; "
	  "port = \"wan\"; } );\n", 3, "neighbours.[0].mac", "expected a MAC address" },
	{ "multicast port MAC", "ports = ( { name = \"lan\"; device = \"d0\"; role = \"protected\";\n"
	  "  mac = \"03:00:00:00:00:01\"; } );\n", 2, "ports.[0].mac", "expected a unicast MAC" },
	{ "multicast MAC", PORTS "neighbours = ( { address = \"192.0.2.2\"; mac = \"01:00:5e:00:00:01\"; "
	  "port = \"wan\"; } );\n", 3, "neighbours.[0].mac", "multicast" },
	{ "filter family mix", FILTER("source = \"10.1.0.0/24\";\n destination = \"fd00::/64\";"), 4,
	  "policy.filter_lists.[0].filters.[0].destination",
	  "destination fd00::/64 is IPv6 but source 10.1.0.0/24 is IPv4" },
	{ "filter host bits", FILTER("source = \"10.1.0.0/16\"; destination = \"10.2.3.4/8\";"), 3,
	  "policy.filter_lists.[0].filters.[0].destination", "did you mean \"10.0.0.0/8\"?" },
	{ "filter without source", FILTER("destination = \"10.2.0.0/24\";"), 3,
	  "policy.filter_lists.[0].filters.[0].source", "required field missing" },
	{ "bad protocol", FILTER(LANS "\n protocol = \"tcpp\";"), 4,
	  "policy.filter_lists.[0].filters.[0].protocol", "or a number 0..255, got \"tcpp\"" },
	{ "protocol 256", FILTER(LANS " protocol = 256;"), 3,
	  "policy.filter_lists.[0].filters.[0].protocol", "256 is out of range" },
	{ "icmp in IPv6", FILTER("source = \"fd00:1::/64\"; destination = \"fd00:2::/64\"; "
	  "protocol = \"icmp\";"), 3, "policy.filter_lists.[0].filters.[0].protocol",
	  "use icmpv6 (58)" },
	{ "ports with icmp", FILTER(LANS " protocol = \"icmp\";\n destination_ports = \"80\";"), 4,
	  "policy.filter_lists.[0].filters.[0].destination_ports",
	  "ports apply to tcp, udp and sctp only, but protocol is icmp" },
	{ "ports with any", FILTER(LANS " source_ports = 53;"), 3,
	  "policy.filter_lists.[0].filters.[0].source_ports", "but protocol is any" },
	{ "reversed port range", FILTER(LANS " protocol = \"tcp\"; destination_ports = \"443-80\";"), 3,
	  "policy.filter_lists.[0].filters.[0].destination_ports",
	  "range \"443-80\" is reversed" },
	{ "port too large", FILTER(LANS " protocol = \"udp\"; source_ports = \"1-70000\";"), 3,
	  "policy.filter_lists.[0].filters.[0].source_ports",
	  "expected a port \"N\" or a range \"N-M\" with 0 <= N <= M <= 65535, got \"1-70000\"" },
	{ "mirrored not bool", FILTER(LANS " mirrored = \"yes\";"), 3,
	  "policy.filter_lists.[0].filters.[0].mirrored", "expected true or false, got a string" },
	{ "empty filter list", PORTS "policy = { filter_lists = ( { name = \"fl\"; filters = (); } ); };\n",
	  3, "policy.filter_lists.[0].filters", "empty list" },
	{ "duplicate filter list", PORTS "policy = { filter_lists = ( { name = \"x\"; filters = ( "
	  F_LANS " ); },\n { name = \"x\"; filters = ( " F_LANS " ); } ); };\n", 4,
	  "policy.filter_lists.[1].name", "duplicate filter list name \"x\" (first defined at line 3)" },
	{ "bad action", PORTS "policy = { filter_actions = ( { name = \"a\"; action = \"allow\"; } ); };\n",
	  3, "policy.filter_actions.[0].action",
	  "expected \"permit\", \"block\", or \"negotiate\", got \"allow\"" },
	{ "default negotiate", PORTS "policy = { default_action = \"negotiate\"; };\n", 3,
	  "policy.default_action", "expected \"permit\" or \"block\", got \"negotiate\"" },
	{ "unknown filter list", PORTS "policy = { filter_actions = ( { name = \"fa\"; action = \"block\"; } );\n"
	  " rules = ( { name = \"r\"; filter_list = \"nope\"; filter_action = \"fa\"; } ); };\n", 4,
	  "policy.rules.[0].filter_list", "no filter list named \"nope\"" },
	{ "unknown filter action", PORTS "policy = { filter_lists = ( { name = \"fl\"; filters = ( "
	  F_LANS " ); } );\n filter_actions = ( { name = \"fa\"; action = \"block\"; } );\n"
	  " rules = ( { name = \"r\"; filter_list = \"fl\"; filter_action = \"secure\"; } ); };\n",
	  5, "policy.rules.[0].filter_action", "no filter action named \"secure\"" },
	{ "rule without action", PORTS "policy = { filter_lists = ( { name = \"fl\"; filters = ( "
	  F_LANS " ); } );\n rules = ( { name = \"r\"; filter_list = \"fl\"; filter_action = \"fa\"; } ); };\n",
	  4, "policy.rules.[0].filter_action", "no filter action named \"fa\"" },
	{ "unknown SA", PORTS SAS_OK POLICY(F_LANS, "negotiate",
	  "tunnel_endpoint = \"192.0.2.2\"; outbound_sa = \"nope\";"), 7,
	  "policy.rules.[0].outbound_sa", "no security association named \"nope\"" },
	{ "SA direction mismatch", PORTS SAS_OK POLICY(F_LANS, "negotiate",
	  "tunnel_endpoint = \"192.0.2.2\"; outbound_sa = \"in\";"), 7,
	  "policy.rules.[0].outbound_sa", "SA \"in\" is inbound; outbound_sa needs an outbound SA" },
	{ "inbound SA mismatch", PORTS SAS_OK POLICY(F_LANS, "negotiate",
	  "tunnel_endpoint = \"192.0.2.2\"; inbound_sa = \"out\";"), 7,
	  "policy.rules.[0].inbound_sa", "SA \"out\" is outbound; inbound_sa needs an inbound SA" },
	{ "negotiate not mirrored", PORTS SAS_OK POLICY("{ " LANS " mirrored = false; }",
	  "negotiate", TUNNEL), 7, "policy.rules.[0].filter_list",
	  "filter [0] of list \"fl\" (line 5) has mirrored = false" },
	{ "tunnel rule transport SA", PORTS SAS(SA_X("out", "0x1001", "outbound", "transport",
	  "192.0.2.2", GCM), SA_IN) POLICY(F_LANS, "negotiate", TUNNEL), 7,
	  "policy.rules.[0].outbound_sa", "SA \"out\" is transport mode" },
	{ "transport rule tunnel SA", PORTS SAS_OK POLICY(F_LANS, "negotiate", "inbound_sa = \"in\";"),
	  7, "policy.rules.[0].inbound_sa", "SA \"in\" is tunnel mode, but this rule has no tunnel_endpoint" },
	{ "endpoint mismatch", PORTS SAS_OK POLICY(F_LANS, "negotiate",
	  "tunnel_endpoint = \"192.0.2.9\"; outbound_sa = \"out\";"), 7,
	  "policy.rules.[0].outbound_sa",
	  "SA \"out\" has remote 192.0.2.2, but the rule's tunnel_endpoint is 192.0.2.9" },
	{ "endpoint family", PORTS SAS_OK POLICY(F_LANS, "negotiate",
	  "tunnel_endpoint = \"2001:db8::2\"; inbound_sa = \"in\";"), 7,
	  "policy.rules.[0].inbound_sa", "SA \"in\" is IPv4 (remote 192.0.2.2) but tunnel_endpoint "
	  "2001:db8::2 is IPv6" },
	{ "transport family", PORTS SAS(SA_X("out", "0x1001", "outbound", "transport", "192.0.2.2",
	  GCM), SA_IN) POLICY("{ source = \"fd00:1::/64\"; destination = \"fd00:2::/64\"; }",
	  "negotiate", "outbound_sa = \"out\";"), 7, "policy.rules.[0].outbound_sa",
	  "transport-mode SA \"out\" is IPv4, but filter [0] of list \"fl\" is IPv6" },
	{ "permit rule naming SAs", PORTS SAS_OK POLICY(F_LANS, "permit", "inbound_sa = \"in\";"), 7,
	  "policy.rules.[0].inbound_sa",
	  "only negotiate rules use SAs, but filter action \"fa\" is permit" },
	{ "block rule tunnel", PORTS SAS_OK POLICY(F_LANS, "block", "tunnel_endpoint = \"192.0.2.2\";"),
	  7, "policy.rules.[0].tunnel_endpoint", "only negotiate rules have a tunnel endpoint" },
	{ "priority too large", PORTS SAS_OK POLICY(F_LANS, "negotiate", "priority = 1000001;"), 7,
	  "policy.rules.[0].priority", "1000001 is out of range; expected 0..1000000" },
	{ "duplicate rule", PORTS "policy = { filter_lists = ( { name = \"fl\"; filters = ( " F_LANS
	  " ); } );\n filter_actions = ( { name = \"fa\"; action = \"block\"; } );\n"
	  " rules = ( { name = \"r\"; filter_list = \"fl\"; filter_action = \"fa\"; },\n"
	  "  { name = \"r\"; filter_list = \"fl\"; filter_action = \"fa\"; } ); };\n", 6,
	  "policy.rules.[1].name", "duplicate rule name \"r\" (first defined at line 5)" },
	{ "reserved SPI", SA_ONLY(SA_X("s", "255", "inbound", "tunnel", "192.0.2.2", GCM)), 3,
	  "security_associations.[0].spi", "SPI 255 is in 1..255, reserved by IANA" },
	{ "SPI 0", SA_ONLY(SA_X("s", "0", "inbound", "tunnel", "192.0.2.2", GCM)), 3,
	  "security_associations.[0].spi", "SPI 0 is reserved" },
	{ "SPI negative", SA_ONLY(SA_X("s", "-5", "inbound", "tunnel", "192.0.2.2", GCM)), 3,
	  "security_associations.[0].spi", "-5 is out of range; expected 256..0xffffffff" },
	{ "duplicate inbound SPI", SAS(SA_IN, SA_X("in2", "0x2001", "inbound", "transport",
	  "192.0.2.7", GCM)) PORTS, 2, "security_associations.[1].spi",
	  "SPI 0x2001 with local 192.0.2.1 is already used by inbound SA \"in\"" },
	{ "duplicate outbound SPI", SAS(SA_OUT, SA_X("out2", "0x1001", "outbound", "tunnel",
	  "192.0.2.2", GCM)) PORTS, 2, "security_associations.[1].spi",
	  "SPI 0x1001 with remote 192.0.2.2 is already used by outbound SA \"out\"" },
	{ "duplicate SA name", SAS(SA_OUT, SA_X("out", "0x1002", "outbound", "tunnel", "192.0.2.2",
	  GCM)) PORTS, 2, "security_associations.[1].name",
	  "duplicate security association name \"out\" (first defined at line 1)" },
	{ "missing mode", SA_ONLY("{ name = \"s\"; spi = 0x1001; direction = \"inbound\";\n"
	  " local = \"192.0.2.1\"; remote = \"192.0.2.2\"; " GCM " }"), 3,
	  "security_associations.[0].mode", "required field missing (expected \"tunnel\" or \"transport\")" },
	{ "SA family mix", SA_ONLY("{ name = \"s\"; spi = 0x1001; direction = \"inbound\"; "
	  "mode = \"tunnel\"; local = \"192.0.2.1\";\n remote = \"2001:db8::2\"; " GCM " }"), 4,
	  "security_associations.[0].remote", "remote 2001:db8::2 is IPv6 but local 192.0.2.1 is IPv4" },
	{ "GCM key too short", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"aes128gcm16\";\n encryption_key = \"" K16 "\";")), 4,
	  "security_associations.[0].encryption_key",
	  "16 bytes; aes128gcm16 needs exactly 20 (16-byte AES key + 4-byte salt, RFC 4106)" },
	{ "GCM-256 key length", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"aes256gcm16\"; encryption_key = \"" K32 "\";")), 3,
	  "security_associations.[0].encryption_key", "32 bytes; aes256gcm16 needs exactly 36" },
	{ "CBC key length", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"aes256\"; encryption_key = \"" K20 "\"; integrity = \"sha1_96\"; "
	  "integrity_key = \"" K20 "\";")), 3, "security_associations.[0].encryption_key",
	  "20 bytes; aes256 needs exactly 32 (the AES-256 key)" },
	{ "CBC without integrity", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"aes128\"; encryption_key = \"" K16 "\";")), 3,
	  "security_associations.[0].integrity",
	  "required with aes128, which does not authenticate; expected \"sha1_96\" or \"sha256_128\"" },
	{ "CBC with integrity none", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"aes128\"; encryption_key = \"" K16 "\";\n integrity = \"none\";")), 4,
	  "security_associations.[0].integrity", "\"none\" with aes128, which does not authenticate" },
	{ "GCM with integrity", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  GCM "\n integrity = \"sha1_96\"; integrity_key = \"" K20 "\";")), 4,
	  "security_associations.[0].integrity",
	  "must be absent or \"none\" with aes128gcm16, which authenticates by itself" },
	{ "GCM with integrity key", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  GCM "\n integrity_key = \"" K20 "\";")), 4, "security_associations.[0].integrity_key",
	  "given, but aes128gcm16 takes no integrity key" },
	{ "integrity key length", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"aes128\"; encryption_key = \"" K16 "\"; integrity = \"sha256_128\";\n"
	  " integrity_key = \"" K20 "\";")), 4, "security_associations.[0].integrity_key",
	  "20 bytes; sha256_128 needs exactly 32 (RFC 4868)" },
	{ "bad hex", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"aes128gcm16\"; encryption_key = \"0x00zz2233445566778899aabbccddeeff01020304\";")),
	  3, "security_associations.[0].encryption_key", "character 5 is not a hex digit" },
	{ "odd hex", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"aes128gcm16\"; encryption_key = \"0x0011223344556677889aabbccddeeff01020304\";")),
	  3, "security_associations.[0].encryption_key", "39 hex digits, an odd number" },
	{ "key not a string", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"aes128gcm16\"; encryption_key = 0x1234;")), 3,
	  "security_associations.[0].encryption_key", "expected a hex string, got an integer" },
	{ "unknown cipher", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"des\";")), 3, "security_associations.[0].encryption",
	  "expected \"aes128gcm16\", \"aes256gcm16\", \"aes128\", \"aes256\", or \"3des\", got \"des\"" },
	{ "3des key length", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"3des\"; encryption_key = \"" K16 "\";")), 3,
	  "security_associations.[0].encryption_key",
	  "16 bytes; 3des needs exactly 24 (the three 8-byte DES keys K1 K2 K3, RFC 2451)" },
	{ "3des without integrity", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"3des\"; encryption_key = \"" K24 "\";")), 3,
	  "security_associations.[0].integrity",
	  "required with 3des, which does not authenticate; expected \"sha1_96\" or \"sha256_128\"" },
	{ "AH with a cipher", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "protocol = \"ah\"; " GCM)), 3, "security_associations.[0].encryption",
	  "given, but protocol \"ah\" encrypts nothing (RFC 4302)" },
	{ "AH without integrity", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "protocol = \"ah\";")), 3, "security_associations.[0].integrity",
	  "required with protocol \"ah\"" },
	{ "AH in UDP", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  AH_SHA1 "\n encapsulation = \"udp\";")), 4, "security_associations.[0].encapsulation",
	  "AH cannot cross a NAT" },
	{ "unknown protocol", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "protocol = \"ipcomp\";")), 3, "security_associations.[0].protocol",
	  "expected \"esp\" or \"ah\", got \"ipcomp\"" },
	{ "esn with window 0", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  GCM " replay_window = 0;\n esn = true;")), 4, "security_associations.[0].esn",
	  "esn = true needs anti-replay, but replay_window is 0" },
	{ "unknown encapsulation", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  GCM "\n encapsulation = \"tcp\";")), 4, "security_associations.[0].encapsulation",
	  "expected \"none\" or \"udp\", got \"tcp\"" },
	{ "UDP port 0", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  GCM "\n encapsulation = \"udp\"; udp_source_port = 0;")), 4,
	  "security_associations.[0].udp_source_port", "0 is out of range; expected 1..65535" },
	{ "UDP port too big", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  GCM "\n encapsulation = \"udp\"; udp_destination_port = 65536;")), 4,
	  "security_associations.[0].udp_destination_port", "65536 is out of range; expected 1..65535" },
	{ "UDP port without encapsulation", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel",
	  "192.0.2.2", GCM "\n udp_source_port = 4500;")), 4,
	  "security_associations.[0].udp_source_port", "given, but the SA has no UDP encapsulation" },
	{ "keepalive interval too long", "dataplane = { natt_keepalive_seconds = 3601; };\n" PORTS, 1,
	  "dataplane.natt_keepalive_seconds", "3601 is out of range; expected 0..3600" },
	{ "window too large", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  GCM "\n replay_window = 8193;")), 4, "security_associations.[0].replay_window",
	  "8193 is out of range; expected 0..8192" },
	{ "SA typo", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  GCM "\n encrytion_key = \"00\";")), 4, "security_associations.[0].encrytion_key",
	  "unknown field 'encrytion_key'; expected one of: name, spi, direction" },
	{ "SA not a group", PORTS "security_associations = ( \"a-to-b\" );\n", 3,
	  "security_associations.[0]", "expected a group { ... }, got a string" },
	{ "include missing", PORTS "@include \"/nonexistent/dpsec-keys.conf\"\n", 3, NULL,
	  "cannot open include file" },
};

/* encapsulation = "udp" with its ports, their default, and none. */
/* 3DES-CBC (RFC 2451): a 24-byte key, with either HMAC. */
START_TEST(test_3des_sa)
{
	struct cfg_dataplane cfg;
	char path[64], err[CFG_ERR_MAX];

	ck_assert_msg(load_text(PORTS SAS(SA_X("out", "0x1001", "outbound", "tunnel", "192.0.2.2",
					       "encryption = \"3des\"; encryption_key = \"" K24 "\"; "
					       "integrity = \"sha1_96\"; integrity_key = \"" K20 "\";"),
					  SA_X("in", "0x2001", "inbound", "transport", "192.0.2.2",
					       "encryption = \"3des\"; encryption_key = \"" K24 "\"; "
					       "integrity = \"sha256_128\"; integrity_key = \"" K32 "\";")),
				&cfg, err, path) == 0, "%s", err);
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_eq(cfg.sas[i].enc_alg, DPSEC_ENC_3DES_CBC);
		ck_assert_uint_eq(cfg.sas[i].enc_key_len, 24);
		assert_bytes(cfg.sas[i].enc_key, K24, 24);
	}
	ck_assert_uint_eq(cfg.sas[0].integ_alg, DPSEC_INTEG_HMAC_SHA1_96);
	ck_assert_uint_eq(cfg.sas[1].integ_alg, DPSEC_INTEG_HMAC_SHA256_128);
	cfg_free(&cfg);
}
END_TEST

START_TEST(test_natt_sa_fields)
{
	struct cfg_dataplane cfg;
	char path[64], err[CFG_ERR_MAX];

	ck_assert_msg(load_text("dataplane = { natt_keepalive_seconds = 0; };\n" PORTS
				SAS(SA_X("out", "0x1001", "outbound", "tunnel", "192.0.2.2", GCM
					 " encapsulation = \"udp\"; udp_source_port = 4501; "
					 "udp_destination_port = 62000;"),
				    SA_X("in", "0x2001", "inbound", "transport", "192.0.2.2", GCM
					 " encapsulation = \"udp\";")),
				&cfg, err, path) == 0, "%s", err);
	ck_assert_uint_eq(cfg.opts.natt_keepalive_s, 0);
	ck_assert_uint_eq(cfg.sas[0].encap, DPSEC_ENCAP_UDP);
	ck_assert_uint_eq(cfg.sas[0].udp_sport, 4501);
	ck_assert_uint_eq(cfg.sas[0].udp_dport, 62000);
	ck_assert_uint_eq(cfg.sas[1].encap, DPSEC_ENCAP_UDP);
	ck_assert_uint_eq(cfg.sas[1].udp_sport, DPSEC_NATT_PORT);
	ck_assert_uint_eq(cfg.sas[1].udp_dport, DPSEC_NATT_PORT);
	cfg_free(&cfg);
	ck_assert_msg(load_text(PORTS SAS(SA_OUT, SA_X("in", "0x2001", "inbound", "tunnel",
						       "192.0.2.2", GCM " encapsulation = \"none\";")),
				&cfg, err, path) == 0, "%s", err);
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_eq(cfg.sas[i].encap, DPSEC_ENCAP_NONE);
		ck_assert_uint_eq(cfg.sas[i].udp_sport + cfg.sas[i].udp_dport, 0);
	}
	cfg_free(&cfg);
}
END_TEST

/* protocol = "ah": an SA with an integrity key only. */
START_TEST(test_ah_sa)
{
	struct cfg_dataplane cfg;
	char path[64], err[CFG_ERR_MAX];

	ck_assert_msg(load_text(PORTS SAS(SA_X("out", "0x1001", "outbound", "tunnel", "192.0.2.2",
					       AH_SHA1),
				    SA_X("in", "0x2001", "inbound", "transport", "192.0.2.2",
					 "protocol = \"esp\"; " GCM)),
				&cfg, err, path) == 0, "%s", err);
	ck_assert_uint_eq(cfg.sas[0].protocol, DPSEC_PROTO_AH);
	ck_assert_uint_eq(cfg.sas[0].enc_key_len, 0);
	ck_assert_uint_eq(cfg.sas[0].integ_alg, DPSEC_INTEG_HMAC_SHA1_96);
	ck_assert_uint_eq(cfg.sas[0].integ_key_len, 20);
	ck_assert_uint_eq(cfg.sas[1].protocol, DPSEC_PROTO_ESP);
	cfg_free(&cfg);
}
END_TEST

START_TEST(test_broken)
{
	const struct broken *b = &broken[_i];
	struct cfg_dataplane cfg, zero;
	char path[64], err[CFG_ERR_MAX], want[256];

	memset(&zero, 0, sizeof zero);
	ck_assert_msg(load_text(b->text, &cfg, err, path) == -1, "%s: loaded", b->what);
	if (b->field)
		snprintf(want, sizeof want, "%s:%u: %s: ", path, b->line, b->field);
	else
		snprintf(want, sizeof want, "%s:%u: ", path, b->line);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s: got \"%s\", want prefix \"%s\"",
		      b->what, err, want);
	ck_assert_msg(strstr(err + strlen(want), b->phrase) != NULL,
		      "%s: got \"%s\", want \"%s\" in it", b->what, err, b->phrase);
	ck_assert_msg(memcmp(&cfg, &zero, sizeof cfg) == 0, "%s: struct not wiped", b->what);
	cfg_free(&cfg);
}
END_TEST

/* The base the broken table's policy cases start from must load. */
/* The exception port on any DPDK device, with the host's MAC (bench/). */
START_TEST(test_exception_device)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0x0c, 0x02 };
	struct cfg_dataplane cfg;
	char err[CFG_ERR_MAX], path[64];

	ck_assert_msg(load_text(PORTS "exception = { device = \"net_null5,no-rx=1\"; "
				"mac = \"02:00:00:00:0c:02\"; };\n", &cfg, err, path) == 0, "%s", err);
	ck_assert_str_eq(cfg.exception_device, "net_null5,no-rx=1");
	ck_assert_mem_eq(cfg.exception_host_mac, mac, 6);
	ck_assert_str_eq(cfg.exception_ifname, "");
	cfg_free(&cfg);
}
END_TEST

START_TEST(test_broken_base_loads)
{
	struct cfg_dataplane cfg;
	char path[64], err[CFG_ERR_MAX];

	ck_assert_msg(load_text(PORTS SAS_OK POLICY(F_LANS, "negotiate", TUNNEL), &cfg, err, path)
		      == 0, "%s", err);
	ck_assert_int_eq(cfg.rules[0].sa_out, 0);
	ck_assert_int_eq(cfg.rules[0].sa_in, 1);
	cfg_free(&cfg);
	ck_assert_msg(load_text(FILTER(LANS " protocol = \"tcp\"; destination_ports = \"80-80\";"),
				&cfg, err, path) == 0, "%s", err);
	cfg_free(&cfg);
}
END_TEST

/* ---- files and permissions ---- */

START_TEST(test_key_file_0644_refused)
{
	struct cfg_dataplane cfg;
	char path[64], err[CFG_ERR_MAX], want[CFG_ERR_MAX];

	copy_example("gateway-a.conf", 0644, path);
	ck_assert_int_eq(cfg_load(path, CFG_PERM_REFUSE, &cfg, err), -1);
	snprintf(want, sizeof want, "%s: holds keys but is readable by group or others (mode 0644); "
		 "chmod 600 %s or start with --allow-insecure-keys", path, path);
	ck_assert_str_eq(err, want);
	cfg_free(&cfg);
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(cfg_load(path, CFG_PERM_REFUSE, &cfg, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "(mode 0640)"));
	cfg_free(&cfg);
	unlink(path);
}
END_TEST

/* With CFG_PERM_WARN the file loads and stderr gets exactly one line. */
START_TEST(test_key_file_0644_warns)
{
	struct cfg_dataplane cfg;
	char path[64], log[64], err[CFG_ERR_MAX];
	char *text;
	int saved, fd, rc;

	copy_example("gateway-a.conf", 0644, path);
	write_tmp("", log);
	fd = open(log, O_WRONLY);
	fflush(stderr);
	saved = dup(2);
	ck_assert(fd >= 0 && saved >= 0 && dup2(fd, 2) == 2);
	rc = cfg_load(path, CFG_PERM_WARN, &cfg, err);
	fflush(stderr);
	dup2(saved, 2); /* stderr back before any assertion */
	close(saved);
	close(fd);
	ck_assert_msg(rc == 0, "%s", err);
	text = slurp(log);
	ck_assert_ptr_nonnull(strstr(text, "holds keys but is readable by group or others (mode 0644)"));
	ck_assert_ptr_nonnull(strstr(text, path));
	ck_assert_ptr_eq(strchr(text, '\n'), text + strlen(text) - 1);
	ck_assert_uint_eq(cfg.n_sas, 2);
	free(text);
	cfg_free(&cfg);
	unlink(path);
	unlink(log);
}
END_TEST

START_TEST(test_no_keys_0644_loads)
{
	struct cfg_dataplane cfg;
	char path[64], err[CFG_ERR_MAX];

	write_tmp(PORTS, path);
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_msg(cfg_load(path, CFG_PERM_REFUSE, &cfg, err) == 0, "%s", err);
	cfg_free(&cfg);
	unlink(path);
}
END_TEST

/* Keys may live in an @include'd 0600 file next to a 0644 policy; then the
 * included file is the one checked. */
START_TEST(test_keys_in_include)
{
	struct cfg_dataplane cfg;
	char dir[64] = "/tmp/dpsec-cfg-XXXXXX", main[128], keys[128], err[CFG_ERR_MAX];
	char want[CFG_ERR_MAX];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(main, sizeof main, "%s/gw.conf", dir);
	snprintf(keys, sizeof keys, "%s/keys.conf", dir);
	write_file(main, PORTS "@include \"keys.conf\"\n" POLICY(F_LANS, "negotiate", TUNNEL), 0644);
	write_file(keys, SAS_OK, 0600);
	ck_assert_msg(cfg_load(main, CFG_PERM_REFUSE, &cfg, err) == 0, "%s", err);
	ck_assert_int_eq(cfg.rules[0].sa_in, 1);
	cfg_free(&cfg);
	ck_assert_int_eq(chmod(keys, 0604), 0);
	ck_assert_int_eq(cfg_load(main, CFG_PERM_REFUSE, &cfg, err), -1);
	snprintf(want, sizeof want, "%s: holds keys but is readable by group or others (mode 0604)",
		 keys);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	cfg_free(&cfg);
	write_file(keys, SAS(SA_OUT, SA_X("x", "1", "inbound", "tunnel", "192.0.2.2", GCM)), 0600);
	ck_assert_int_eq(cfg_load(main, CFG_PERM_REFUSE, &cfg, err), -1);
	snprintf(want, sizeof want, "%s:2: security_associations.[1].spi: SPI 1 is in 1..255", keys);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	cfg_free(&cfg);
	unlink(main);
	unlink(keys);
	rmdir(dir);
}
END_TEST

START_TEST(test_bad_paths)
{
	struct cfg_dataplane cfg;
	char err[CFG_ERR_MAX], longpath[300];

	ck_assert_int_eq(cfg_load("/nonexistent/dpsec.conf", CFG_PERM_REFUSE, &cfg, err), -1);
	ck_assert_str_eq(err, "/nonexistent/dpsec.conf: cannot open: No such file or directory");
	ck_assert_int_eq(cfg_load("/tmp", CFG_PERM_REFUSE, &cfg, err), -1);
	ck_assert_str_eq(err, "/tmp: not a regular file");
	ck_assert_int_eq(cfg_load("", CFG_PERM_REFUSE, &cfg, err), -1);
	ck_assert_int_eq(cfg_load(NULL, CFG_PERM_REFUSE, &cfg, err), -1);
	memset(longpath, 'a', sizeof longpath - 1);
	longpath[sizeof longpath - 1] = '\0';
	ck_assert_int_eq(cfg_load(longpath, CFG_PERM_REFUSE, &cfg, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "path of 299 characters; at most 255 allowed"));
	cfg_free(&cfg);
}
END_TEST

/* ---- cfg_free ---- */

START_TEST(test_free_wipes_and_is_idempotent)
{
	struct cfg_dataplane cfg, zero;

	memset(&zero, 0, sizeof zero);
	load_example("gateway-a.conf", &cfg);
	ck_assert_uint_ne(cfg.sas[0].enc_key[0] | cfg.sas[0].enc_key[1], 0);
	cfg_free(&cfg);
	ck_assert_mem_eq(&cfg, &zero, sizeof cfg); /* keys live in freed memory no more */
	cfg_free(&cfg);
	ck_assert_mem_eq(&cfg, &zero, sizeof cfg);
	cfg_free(NULL);
	memset(&cfg, 0, sizeof cfg);
	cfg_free(&cfg);
}
END_TEST

/* ---- robustness: every truncation and a mangled byte at every offset ---- */

static void load_quietly(const char *text)
{
	struct cfg_dataplane cfg;
	char path[64], err[CFG_ERR_MAX];

	err[0] = 'x';
	if (load_text(text, &cfg, err, path) != 0)
		ck_assert_msg(err[0] != '\0' && strlen(err) < CFG_ERR_MAX, "no message");
	cfg_free(&cfg);
}

START_TEST(test_truncated_and_mangled)
{
	static const char junk[] = { '"', '{', ';', '0', 'x', '\0' };
	char src[PATH_MAX];
	char *text, *copy;
	size_t len, i;

	source_file("config/examples/gateway-a.conf", src);
	text = slurp(src);
	len = strlen(text);
	copy = malloc(len + 1);
	ck_assert_ptr_nonnull(copy);
	for (i = 0; i < len; i += 7) {
		memcpy(copy, text, len + 1);
		copy[i] = '\0';
		load_quietly(copy);
		memcpy(copy, text, len + 1);
		copy[i] = junk[i % (sizeof junk - 1)];
		load_quietly(copy);
	}
	free(copy);
	free(text);
}
END_TEST

/* ---- string helpers ---- */

START_TEST(test_parse_addr)
{
	struct dpsec_addr a;
	static const uint8_t v6[16] = { 0xfd, 0, 0, 1, [15] = 1 };

	ck_assert_int_eq(cfg_parse_addr("192.0.2.1", &a), 0);
	ck_assert_uint_eq(a.family, DPSEC_AF_INET);
	ck_assert_uint_eq(a.a[0], 192);
	ck_assert_uint_eq(a.a[3], 1);
	ck_assert_uint_eq(a.a[4], 0);
	ck_assert_int_eq(cfg_parse_addr("fd00:1::1", &a), 0);
	ck_assert_uint_eq(a.family, DPSEC_AF_INET6);
	ck_assert_mem_eq(a.a, v6, 16);
	ck_assert_int_eq(cfg_parse_addr("192.0.2", &a), -1);
	ck_assert_int_eq(cfg_parse_addr("192.0.2.256", &a), -1);
	ck_assert_int_eq(cfg_parse_addr(" 192.0.2.1", &a), -1);
	ck_assert_int_eq(cfg_parse_addr("fe80::1%eth0", &a), -1);
	ck_assert_int_eq(cfg_parse_addr("", &a), -1);
	ck_assert_int_eq(cfg_parse_addr(NULL, &a), -1);
}
END_TEST

START_TEST(test_parse_prefix)
{
	struct dpsec_prefix p;

	ck_assert_int_eq(cfg_parse_prefix("10.1.0.1/24", &p), 0); /* host bits allowed here */
	ck_assert_uint_eq(p.len, 24);
	ck_assert_uint_eq(p.addr.a[3], 1);
	ck_assert_int_eq(cfg_parse_prefix("0.0.0.0/0", &p), 0);
	ck_assert_int_eq(cfg_parse_prefix("::/0", &p), 0);
	ck_assert_int_eq(cfg_parse_prefix("2001:db8::/128", &p), 0);
	ck_assert_uint_eq(p.len, 128);
	ck_assert_int_eq(cfg_parse_prefix("10.0.0.0/33", &p), -1);
	ck_assert_int_eq(cfg_parse_prefix("::/129", &p), -1);
	ck_assert_int_eq(cfg_parse_prefix("10.0.0.0", &p), -1);
	ck_assert_int_eq(cfg_parse_prefix("10.0.0.0/", &p), -1);
	ck_assert_int_eq(cfg_parse_prefix("10.0.0.0/+8", &p), -1);
	ck_assert_int_eq(cfg_parse_prefix("10.0.0.0/0008", &p), -1);
	ck_assert_int_eq(cfg_parse_prefix("10.0.0.0/8/8", &p), -1);
	ck_assert_int_eq(cfg_parse_prefix("/8", &p), -1);
	ck_assert_int_eq(cfg_parse_prefix(NULL, &p), -1);
}
END_TEST

START_TEST(test_parse_mac)
{
	uint8_t m[6];
	static const uint8_t want[6] = { 0x02, 0, 0xab, 0xcd, 0xef, 0x10 };

	ck_assert_int_eq(cfg_parse_mac("02:00:AB:cd:ef:10", m), 0);
	ck_assert_mem_eq(m, want, 6);
	ck_assert_int_eq(cfg_parse_mac("02:00:ab:cd:ef", m), -1);
	ck_assert_int_eq(cfg_parse_mac("02:00:ab:cd:ef:10:", m), -1);
	ck_assert_int_eq(cfg_parse_mac("02-00-ab-cd-ef-10", m), -1);
	ck_assert_int_eq(cfg_parse_mac("02:00:ab:cd:ef:1g", m), -1);
	ck_assert_int_eq(cfg_parse_mac(NULL, m), -1);
}
END_TEST

START_TEST(test_parse_hex)
{
	uint8_t b[4];
	size_t n = 99;

	ck_assert_int_eq(cfg_parse_hex("0x00fF10", b, sizeof b, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(b[1], 0xff);
	ck_assert_uint_eq(b[2], 0x10);
	ck_assert_int_eq(cfg_parse_hex("A1B2c3d4", b, sizeof b, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(cfg_parse_hex("", b, sizeof b, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(cfg_parse_hex("0x", b, sizeof b, &n), 0);
	ck_assert_int_eq(cfg_parse_hex("0x123", b, sizeof b, &n), -1);
	ck_assert_int_eq(cfg_parse_hex("0x12 34", b, sizeof b, &n), -1);
	ck_assert_int_eq(cfg_parse_hex("0x0x12", b, sizeof b, &n), -1);
	ck_assert_int_eq(cfg_parse_hex("0102030405", b, sizeof b, &n), -1); /* 5 > max 4 */
	ck_assert_int_eq(cfg_parse_hex(NULL, b, sizeof b, &n), -1);
}
END_TEST

START_TEST(test_action_name)
{
	ck_assert_str_eq(cfg_action_name(DPSEC_ACTION_PERMIT), "permit");
	ck_assert_str_eq(cfg_action_name(DPSEC_ACTION_BLOCK), "block");
	ck_assert_str_eq(cfg_action_name(DPSEC_ACTION_NEGOTIATE), "negotiate");
	ck_assert_str_eq(cfg_action_name(200), "unknown");
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *ex = tcase_create("examples"), *br = tcase_create("broken");
	TCase *fi = tcase_create("files"), *he = tcase_create("helpers");

	tcase_add_test(ex, test_gateway_a);
	tcase_add_test(ex, test_gateway_b);
	tcase_add_test(ex, test_gateway_pair_matches);
	tcase_add_test(ex, test_full_config);
	tcase_add_test(ex, test_minimal_config);
	tcase_add_test(ex, test_natt_sa_fields);
	tcase_add_test(ex, test_ah_sa);
	tcase_add_test(ex, test_3des_sa);
	tcase_add_loop_test(br, test_broken, 0, (int)(sizeof broken / sizeof broken[0]));
	tcase_add_test(br, test_broken_base_loads);
	tcase_add_test(br, test_exception_device);
	tcase_add_test(br, test_truncated_and_mangled);
	tcase_set_timeout(br, 120);
	tcase_add_test(fi, test_key_file_0644_refused);
	tcase_add_test(fi, test_key_file_0644_warns);
	tcase_add_test(fi, test_no_keys_0644_loads);
	tcase_add_test(fi, test_keys_in_include);
	tcase_add_test(fi, test_bad_paths);
	tcase_add_test(fi, test_free_wipes_and_is_idempotent);
	tcase_add_test(he, test_parse_addr);
	tcase_add_test(he, test_parse_prefix);
	tcase_add_test(he, test_parse_mac);
	tcase_add_test(he, test_parse_hex);
	tcase_add_test(he, test_action_name);
	suite_add_tcase(s, ex);
	suite_add_tcase(s, br);
	suite_add_tcase(s, fi);
	suite_add_tcase(s, he);
	return s;
}

int main(void)
{
	return check_run(config_suite());
}
