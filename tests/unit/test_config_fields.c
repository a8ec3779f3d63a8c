/* test_config_fields.c - Check unit tests of the dataplane config loader
 * on configs written field by field: one using every field loads as
 * written, a minimal one gets the defaults, the SA variants (3DES-CBC,
 * HMAC-SHA-384/512, AES-XCBC-MAC and AES-CMAC, ESP in UDP with its ports,
 * AH) and the exception port on a DPDK device load as given; and the
 * string helpers the fields are parsed with.
 * Runs with CK_FORK=no: every test cleans up its files and its struct. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_world.h"
#include "lsan_libconfig.h"

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
	ck_assert_uint_eq(cfg.opts.reassembly_timeout_ms, 1000);
	ck_assert_uint_eq(cfg.opts.pmtu_age_s, 600);
	ck_assert_uint_eq(cfg.opts.neighbour_reachable_s, 30);
	ck_assert_uint_eq(cfg.opts.icmp_errors_per_s, 1000);
	ck_assert_uint_eq(cfg.opts.icmp_error_burst, 50);
	ck_assert_uint_eq(cfg.opts.policy_memory_mb, 0); /* no bound */
	ck_assert_str_eq(cfg.opts.sequence_file, ""); /* dpsecd's default path */
	ck_assert(!cfg.opts.sequence_file_off);
	ck_assert_str_eq(cfg.exception_ifname, "");
	ck_assert_uint_eq(cfg.default_action, DPSEC_ACTION_PERMIT);
	ck_assert_uint_eq(cfg.n_rules + cfg.n_sas + cfg.n_routes + cfg.n_neighbours, 0);
	ck_assert_ptr_null(cfg.rules);
	cfg_free(&cfg);
}
END_TEST

/* ---- security associations and the exception port ---- */

/* The SAs of most tests here: "out", outbound tunnel, and "in", inbound
 * transport, both with 192.0.2.2, the rest of each given. */
#define OUT_IN_SAS(out_rest, in_rest)                                            \
	SAS(SA_X("out", "0x1001", "outbound", "tunnel", "192.0.2.2", out_rest), \
	    SA_X("in", "0x2001", "inbound", "transport", "192.0.2.2", in_rest))

/* 3DES-CBC (RFC 2451): a 24-byte key, with either HMAC. */
START_TEST(test_3des_sa)
{
	struct cfg_dataplane cfg;
	char path[64], err[CFG_ERR_MAX];

	ck_assert_msg(load_text(PORTS OUT_IN_SAS(
					"encryption = \"3des\"; encryption_key = \"" K24 "\"; "
					"integrity = \"sha1_96\"; integrity_key = \"" K20 "\";",
					"encryption = \"3des\"; encryption_key = \"" K24 "\"; "
					"integrity = \"sha256_128\"; integrity_key = \"" K32 "\";"),
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

/* RFC 4868's HMAC-SHA-384-192 and HMAC-SHA-512-256: keys of the hash's
 * length, 48 and 64 bytes; for ESP with AES-CBC and for AH. */
START_TEST(test_sha2_384_512_sas)
{
	struct cfg_dataplane cfg;
	char path[64], err[CFG_ERR_MAX];

	ck_assert_msg(load_text(PORTS OUT_IN_SAS(
					"encryption = \"aes256\"; encryption_key = \"" K32 "\"; "
					"integrity = \"sha512_256\"; integrity_key = \"" K64 "\";",
					"protocol = \"ah\"; integrity = \"sha384_192\"; "
					"integrity_key = \"" K48 "\";"),
				&cfg, err, path) == 0, "%s", err);
	ck_assert_uint_eq(cfg.sas[0].integ_alg, DPSEC_INTEG_HMAC_SHA512_256);
	ck_assert_uint_eq(cfg.sas[0].integ_key_len, 64);
	assert_bytes(cfg.sas[0].integ_key, K64, 64);
	ck_assert_uint_eq(cfg.sas[1].protocol, DPSEC_PROTO_AH);
	ck_assert_uint_eq(cfg.sas[1].integ_alg, DPSEC_INTEG_HMAC_SHA384_192);
	ck_assert_uint_eq(cfg.sas[1].integ_key_len, 48);
	assert_bytes(cfg.sas[1].integ_key, K48, 48);
	cfg_free(&cfg);
}
END_TEST

#define K16_MAC "0xf0e1d2c3b4a5968778695a4b3c2d1e0f" /* an integrity key beside K16 */

/* Both SAs' integrity keys: K16_MAC's 16 bytes. */
static void assert_mac_keys(const struct cfg_dataplane *cfg)
{
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_eq(cfg->sas[i].integ_key_len, 16);
		assert_bytes(cfg->sas[i].integ_key, K16_MAC, 16);
	}
}

/* AES-XCBC-MAC-96 (RFC 3566) and AES-CMAC-96 (RFC 4494): AES-128's 16-byte
 * key, its own beside the cipher's; for ESP with AES-CBC, 3DES or NULL, and
 * for AH. */
START_TEST(test_aes_mac_sas)
{
	struct cfg_dataplane cfg;
	char path[64], err[CFG_ERR_MAX];

	ck_assert_msg(load_text(PORTS OUT_IN_SAS(
					"encryption = \"aes128\"; encryption_key = \"" K16 "\"; "
					"integrity = \"aesxcbc_96\"; integrity_key = \"" K16_MAC "\";",
					"protocol = \"ah\"; integrity = \"aescmac_96\"; "
					"integrity_key = \"" K16_MAC "\";"),
				&cfg, err, path) == 0, "%s", err);
	ck_assert_uint_eq(cfg.sas[0].enc_alg, DPSEC_ENC_AES_CBC);
	assert_bytes(cfg.sas[0].enc_key, K16, 16);
	ck_assert_uint_eq(cfg.sas[0].integ_alg, DPSEC_INTEG_AES_XCBC_96);
	ck_assert_uint_eq(cfg.sas[1].protocol, DPSEC_PROTO_AH);
	ck_assert_uint_eq(cfg.sas[1].integ_alg, DPSEC_INTEG_AES_CMAC_96);
	assert_mac_keys(&cfg);
	cfg_free(&cfg);

	ck_assert_msg(load_text(PORTS OUT_IN_SAS(
					"encryption = \"null\"; integrity = \"aesxcbc_96\"; "
					"integrity_key = \"" K16_MAC "\";",
					"encryption = \"3des\"; encryption_key = \"" K24 "\"; "
					"integrity = \"aescmac_96\"; integrity_key = \"" K16_MAC "\";"),
				&cfg, err, path) == 0, "%s", err);
	ck_assert_uint_eq(cfg.sas[0].enc_alg, DPSEC_ENC_NULL);
	ck_assert_uint_eq(cfg.sas[0].integ_alg, DPSEC_INTEG_AES_XCBC_96);
	ck_assert_uint_eq(cfg.sas[1].enc_alg, DPSEC_ENC_3DES_CBC);
	ck_assert_uint_eq(cfg.sas[1].integ_alg, DPSEC_INTEG_AES_CMAC_96);
	assert_mac_keys(&cfg);
	cfg_free(&cfg);
}
END_TEST

/* encapsulation = "udp" with its ports, their default, and none. */
START_TEST(test_natt_sa_fields)
{
	struct cfg_dataplane cfg;
	char path[64], err[CFG_ERR_MAX];

	ck_assert_msg(load_text("dataplane = { natt_keepalive_seconds = 0; "
				"reassembly_timeout_ms = 250; pmtu_age_seconds = 0; "
				"neighbour_reachable_seconds = 0; icmp_errors_per_second = 0; "
				"icmp_error_burst = 100000; sequence_file = \"/srv/gw/a.seq\"; "
				"policy_memory_mb = 64; };\n" PORTS
				SAS(SA_X("out", "0x1001", "outbound", "tunnel", "192.0.2.2", GCM
					 " encapsulation = \"udp\"; udp_source_port = 4501; "
					 "udp_destination_port = 62000;"),
				    SA_X("in", "0x2001", "inbound", "transport", "192.0.2.2", GCM
					 " encapsulation = \"udp\";")),
				&cfg, err, path) == 0, "%s", err);
	ck_assert_uint_eq(cfg.opts.natt_keepalive_s, 0);
	ck_assert_uint_eq(cfg.opts.reassembly_timeout_ms, 250);
	ck_assert_uint_eq(cfg.opts.pmtu_age_s, 0);
	ck_assert_uint_eq(cfg.opts.neighbour_reachable_s, 0);
	ck_assert_uint_eq(cfg.opts.icmp_errors_per_s, 0);
	ck_assert_uint_eq(cfg.opts.icmp_error_burst, 100000);
	ck_assert_uint_eq(cfg.opts.policy_memory_mb, 64);
	ck_assert_str_eq(cfg.opts.sequence_file, "/srv/gw/a.seq");
	ck_assert(!cfg.opts.sequence_file_off);
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
	ck_assert_msg(load_text("dataplane = { sequence_file = \"none\"; };\n" PORTS, &cfg, err, path) == 0,
		      "%s", err);
	ck_assert(cfg.opts.sequence_file_off);
	cfg_free(&cfg);
}
END_TEST

/* protocol = "ah": an SA with an integrity key only. */
START_TEST(test_ah_sa)
{
	struct cfg_dataplane cfg;
	char path[64], err[CFG_ERR_MAX];

	ck_assert_msg(load_text(PORTS OUT_IN_SAS(
					AH_SHA1,
					"protocol = \"esp\"; " GCM),
				&cfg, err, path) == 0, "%s", err);
	ck_assert_uint_eq(cfg.sas[0].protocol, DPSEC_PROTO_AH);
	ck_assert_uint_eq(cfg.sas[0].enc_key_len, 0);
	ck_assert_uint_eq(cfg.sas[0].integ_alg, DPSEC_INTEG_HMAC_SHA1_96);
	ck_assert_uint_eq(cfg.sas[0].integ_key_len, 20);
	ck_assert_uint_eq(cfg.sas[1].protocol, DPSEC_PROTO_ESP);
	cfg_free(&cfg);
}
END_TEST

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

static Suite *config_fields_suite(void)
{
	Suite *s = suite_create("config_fields");
	TCase *fu = tcase_create("fields");
	TCase *he = tcase_create("helpers");

	tcase_add_test(fu, test_full_config);
	tcase_add_test(fu, test_minimal_config);
	tcase_add_test(fu, test_natt_sa_fields);
	tcase_add_test(fu, test_ah_sa);
	tcase_add_test(fu, test_3des_sa);
	tcase_add_test(fu, test_sha2_384_512_sas);
	tcase_add_test(fu, test_aes_mac_sas);
	tcase_add_test(fu, test_exception_device);
	tcase_add_test(he, test_parse_addr);
	tcase_add_test(he, test_parse_prefix);
	tcase_add_test(he, test_parse_mac);
	tcase_add_test(he, test_parse_hex);
	tcase_add_test(he, test_action_name);
	suite_add_tcase(s, fu);
	suite_add_tcase(s, he);
	return s;
}

int main(void)
{
	return check_run(config_fields_suite());
}
