/* test_store.c - dpsec-ctld's policy store and what is built on it: broken
 * stores refused with file, line, field and reason (a pre-shared key never
 * in the message); defaults and the built-in policies; a store written by
 * cfg_store_save() loads back the same; the compiler's exemptions, order
 * flags and stable rule ids; the management socket's request decoder; the
 * name index behind the loader's checks and the store's lookups. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg_store.h"
#include "lsan_libconfig.h"
#include "cp_mgmt.h"
#include "check_run.h"

#define PSK "correct-horse-battery-staple"

/* A valid store: a tunnel rule with static SAs and a PSK, a transport rule. */
static const char *const good =
	"assigned = \"site\";\n"
	"filter_lists = (\n"
	"  { name = \"a-b\"; filters = ( { source = \"10.1.0.0/24\"; destination = \"10.2.0.0/24\"; } ); },\n"
	"  { name = \"web\"; filters = ( { source = \"10.1.0.0/24\"; destination = \"10.9.0.0/16\";\n"
	"      protocol = \"tcp\"; destination_ports = \"443\"; } ); }\n"
	");\n"
	"filter_actions = (\n"
	"  { name = \"secure\"; action = \"negotiate\"; accept_unsecured = true; df_bit = \"clear\"; dscp = 26;\n"
	"    methods = ( { protocol = \"esp\"; encryption = \"aes256gcm16\"; lifetime_seconds = 900; },\n"
	"                { protocol = \"esp\"; encryption = \"chacha20poly1305\"; },\n"
	"                { protocol = \"esp\"; encryption = \"aes128\"; integrity = \"sha384_192\"; },\n"
	"                { protocol = \"ah\"; integrity = \"sha512_256\"; },\n"
	"                { protocol = \"esp\"; encryption = \"null\"; integrity = \"sha256_128\"; },\n"
	"                { protocol = \"esp\"; encryption = \"aes192gcm16\"; } ); }\n"
	");\n"
	"policies = ( { name = \"site\"; main_mode = { lifetime_minutes = 60; ike_version = 1;\n"
	"  legacy_suites = true; methods = ( { encryption = \"aes192\"; prf = \"sha384\";\n"
	"  dh_group = \"ecp384\"; }, { encryption = \"3des\"; prf = \"sha1\"; dh_group = \"modp3072\"; } ); };\n"
	"  rules = (\n"
	"    { name = \"to-b\"; filter_list = \"a-b\"; filter_action = \"secure\"; tunnel_endpoint = \"192.0.2.2\";\n"
	"      priority = 5; outbound_sa = \"out\"; inbound_sa = \"in\";\n"
	"      authentication = ( { method = \"psk\"; psk = \"" PSK "\"; } ); },\n"
	"    { name = \"web\"; filter_list = \"web\"; filter_action = \"Permit\"; priority = 1; }\n"
	"  ); } );\n"
	"security_associations = (\n"
	"  { name = \"out\"; spi = 0x1001; direction = \"outbound\"; mode = \"tunnel\"; local = \"192.0.2.1\";\n"
	"    remote = \"192.0.2.2\"; encryption = \"aes128gcm16\"; df_bit = \"set\"; dscp = 0;\n"
	"    encryption_key = \"0x000102030405060708090a0b0c0d0e0f10111213\"; lifetime_seconds = 3600; },\n"
	"  { name = \"in\"; spi = 0x2001; direction = \"inbound\"; mode = \"tunnel\"; local = \"192.0.2.1\";\n"
	"    remote = \"192.0.2.2\"; encryption = \"chacha20poly1305\";\n"
	"    encryption_key = \"0x101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30313233\";\n"
	"    encapsulation = \"udp\"; udp_source_port = 4501; },\n"
	"  { name = \"spare\"; spi = 0x3001; direction = \"inbound\"; mode = \"transport\";\n"
	"    local = \"192.0.2.1\"; remote = \"192.0.2.3\"; encryption = \"null\"; integrity = \"sha1_96\";\n"
	"    integrity_key = \"0x404142434445464748494a4b4c4d4e4f50515253\"; },\n"
	"  { name = \"ccm\"; spi = 0x4001; direction = \"inbound\"; mode = \"transport\";\n"
	"    local = \"192.0.2.1\"; remote = \"192.0.2.3\"; encryption = \"aes256ccm8\";\n"
	"    encryption_key = \"0x606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182\"; },\n"
	"  { name = \"gmac\"; spi = 0x5001; direction = \"inbound\"; mode = \"transport\";\n"
	"    local = \"192.0.2.1\"; remote = \"192.0.2.4\"; encryption = \"aes256gmac\";\n"
	"    encryption_key = \"0xa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	"c0c1c2c3\"; }\n" /* the key, then the salt */
	");\n";

static void load_ok(const char *text, struct cfg_store *s)
{
	char err[CFG_ERR_MAX];

	ck_assert_msg(cfg_store_load_string(text, "t.conf", s, err) == 0, "%s", err);
}

START_TEST(test_good_store)
{
	struct cfg_store s;
	const struct cfg_policy *p;
	const struct cfg_filter_action *a;

	load_ok(good, &s);
	ck_assert_str_eq(s.assigned, "site");
	p = cfg_store_policy(&s, "site");
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->main_mode.lifetime_minutes, 60);
	ck_assert_uint_eq(p->main_mode.ike_version, 1);
	ck_assert(p->main_mode.legacy_suites);
	/* IKEv2 transform IDs: AES-CBC 12, 3DES 3, PRF HMAC-SHA2-384 6 and
	 * HMAC-SHA1 2, ECP-384 20, MODP-3072 15; IKEv1 has no integrity */
	ck_assert_uint_eq(p->main_mode.n_methods, 2);
	ck_assert(p->main_mode.methods[0].encr == 12 && p->main_mode.methods[0].encr_bits == 192);
	ck_assert(p->main_mode.methods[0].prf == 6 && p->main_mode.methods[0].dh_group == 20);
	ck_assert(p->main_mode.methods[1].encr == 3 && p->main_mode.methods[1].encr_bits == 0);
	ck_assert(p->main_mode.methods[1].prf == 2 && p->main_mode.methods[1].dh_group == 15);
	ck_assert(p->main_mode.methods[0].integ == 0 && p->main_mode.methods[1].integ == 0);
	ck_assert_uint_eq(p->n_rules, 2);
	ck_assert_uint_eq(p->rules[0].n_auth, 1);
	ck_assert_uint_eq(p->rules[0].auth[0].psk_len, strlen(PSK));
	a = cfg_store_filter_action(&s, "secure");
	ck_assert(a->accept_unsecured && !a->fallback_to_clear);
	ck_assert_uint_eq(a->df_bit, DPSEC_DF_CLEAR);
	ck_assert(a->dscp_fixed);
	ck_assert_uint_eq(a->dscp, 26);
	ck_assert_uint_eq(a->n_methods, 6);
	ck_assert_uint_eq(a->methods[0].enc_key_len, 32);
	ck_assert_uint_eq(a->methods[0].lifetime_seconds, 900);
	ck_assert_uint_eq(a->methods[1].enc_alg, DPSEC_ENC_CHACHA20_POLY1305);
	ck_assert_uint_eq(a->methods[1].enc_key_len, 32);
	ck_assert_uint_eq(a->methods[1].integ_alg, DPSEC_INTEG_NONE);
	ck_assert_uint_eq(a->methods[2].integ_alg, DPSEC_INTEG_HMAC_SHA384_192);
	ck_assert_uint_eq(a->methods[3].protocol, CFG_PROTO_AH);
	ck_assert_uint_eq(a->methods[3].integ_alg, DPSEC_INTEG_HMAC_SHA512_256);
	ck_assert_uint_eq(a->methods[4].protocol, CFG_PROTO_ESP); /* RFC 2410: integrity alone */
	ck_assert_uint_eq(a->methods[4].enc_alg, DPSEC_ENC_NULL);
	ck_assert_uint_eq(a->methods[4].enc_key_len, 0);
	ck_assert_uint_eq(a->methods[4].integ_alg, DPSEC_INTEG_HMAC_SHA256_128);
	ck_assert_uint_eq(a->methods[5].enc_alg, DPSEC_ENC_AES_GCM_16); /* AES-192 */
	ck_assert_uint_eq(a->methods[5].enc_key_len, 24);
	ck_assert_uint_eq(cfg_store_sa(&s, "spare")->conf.enc_alg, DPSEC_ENC_NULL);
	ck_assert_uint_eq(cfg_store_sa(&s, "spare")->conf.enc_key_len, 0);
	ck_assert_uint_eq(a->methods[0].lifetime_kilobytes, 100000); /* the seeds' default */
	ck_assert_uint_eq(s.timeouts.fallback_ms, 3000);
	ck_assert_uint_eq(s.timeouts.block_seconds, 60);
	ck_assert_uint_eq(s.timeouts.idle_seconds, 300);
	ck_assert_uint_eq(cfg_store_sa(&s, "out")->lifetime_seconds, 3600);
	ck_assert_uint_eq(cfg_store_sa(&s, "out")->conf.df_bit, DPSEC_DF_SET);
	ck_assert_uint_eq(cfg_store_sa(&s, "in")->conf.df_bit, DPSEC_DF_COPY);
	ck_assert(cfg_store_sa(&s, "out")->conf.dscp_fixed); /* 0 given: fixed at 0 */
	ck_assert_uint_eq(cfg_store_sa(&s, "out")->conf.dscp, 0);
	ck_assert(!cfg_store_sa(&s, "in")->conf.dscp_fixed);
	cfg_store_free(&s);
}
END_TEST

START_TEST(test_builtins)
{
	struct cfg_store s;
	const struct cfg_policy *client, *server, *secure;

	load_ok("", &s);
	client = cfg_store_policy(&s, "Client (Respond Only)");
	server = cfg_store_policy(&s, "Server (Request Security)");
	secure = cfg_store_policy(&s, "Secure Server (Require Security)");
	ck_assert(client && server && secure);
	ck_assert(client->builtin && client->default_response && client->n_rules == 0);
	ck_assert(server->main_mode.ike_version == 2 && !server->main_mode.legacy_suites);
	ck_assert(cfg_store_filter_action(&s, server->rules[1].filter_action)->fallback_to_clear);
	ck_assert(!cfg_store_filter_action(&s, secure->rules[1].filter_action)->fallback_to_clear);
	ck_assert(cfg_store_filter_action(&s, secure->rules[1].filter_action)->accept_unsecured);
	ck_assert_str_eq(s.assigned, "");
	cfg_store_free(&s);
}
END_TEST

/* Two negotiate rules of one policy: their filter lists 10.1/16 -> 10.2/16
 * and 10.1.1/24 -> 10.2.0/20 (which meet), the rules' extra fields, and
 * the second rule's PSK ending in SUFFIX (PSK without it for the first). */
#define TWO_RULES(extra1, extra2, suffix)                                                       \
	"filter_lists = ( { name = \"wide\"; filters = ( { source = \"10.1.0.0/16\"; "           \
	"destination = \"10.2.0.0/16\"; } ); },\n"                                               \
	"  { name = \"narrow\"; filters = ( { source = \"10.1.1.0/24\"; "                        \
	"destination = \"10.2.0.0/20\"; } ); } );\n"                                              \
	"filter_actions = ( { name = \"n\"; action = \"negotiate\"; } );\n"                      \
	"policies = ( { name = \"p\"; rules = (\n"                                               \
	"  { name = \"r1\"; filter_list = \"wide\"; filter_action = \"n\"; " extra1               \
	"\n"                                                                                      \
	"    authentication = ( { method = \"psk\"; psk = \"" PSK "\"; } ); },\n"                \
	"  { name = \"r2\"; filter_list = \"narrow\"; filter_action = \"n\"; " extra2             \
	"\n"                                                                                      \
	"    authentication = ( { method = \"psk\"; psk = \"" PSK suffix "\"; } ); }\n"          \
	"); } );\n"

struct bad {
	const char *text, *want;
};

/* A policy of IKE version v with one Main Mode method. */
#define MM_METHODS(v, method)                                                                    \
	"policies = ( { name = \"p\"; main_mode = { ike_version = " #v "; methods = ( { " method   \
	" } ); }; } );\n"

/* A negotiate rule with the given authentication methods. */
#define AUTH_RULE(methods)                                                                       \
	"policies = ( { name = \"p\"; rules = ( { name = \"r\"; filter_list = \"All IP Traffic\"; " \
	"filter_action = \"Require Security\"; authentication = ( " methods " ); } ); } );\n"

static const struct bad bad_stores[] = {
	{ "assigned = \"nope\";\n", "t.conf:1: assigned: no policy named \"nope\"" },
	{ "policies = ( { name = \"Client (Respond Only)\"; } );\n",
	  "t.conf:1: policies.[0].name: \"Client (Respond Only)\" is the name of a built-in policy" },
	{ "filter_lists = ( { name = \"All IP Traffic\"; filters = ( { source = \"1.0.0.0/8\"; "
	  "destination = \"2.0.0.0/8\"; } ); } );\n", "is the name of a built-in filter list" },
	/* names the file repeats, loaded after the built-ins': the line is the file's */
	{ "filter_lists = ( { name = \"x\"; filters = ( { source = \"1.0.0.0/8\"; destination = \"2.0.0.0/8\"; } ); },\n"
	  "{ name = \"y\"; filters = ( { source = \"1.0.0.0/8\"; destination = \"3.0.0.0/8\"; } ); },\n"
	  "{ name = \"x\"; filters = ( { source = \"2.0.0.0/8\"; destination = \"3.0.0.0/8\"; } ); } );\n",
	  "t.conf:3: filter_lists.[2].name: duplicate filter list name \"x\" (first defined at line 1)" },
	{ "filter_actions = ( { name = \"a\"; action = \"permit\"; },\n{ name = \"a\"; action = \"block\"; } );\n",
	  "t.conf:2: filter_actions.[1].name: duplicate filter action name \"a\" (first defined at line 1)" },
	{ "policies = ( { name = \"p\"; },\n{ name = \"q\"; },\n{ name = \"p\"; } );\n",
	  "t.conf:3: policies.[2].name: duplicate policy name \"p\" (first defined at line 1)" },
	{ "policies = ( { name = \"p\"; rules = ( { name = \"r\"; filter_list = \"All IP Traffic\"; "
	  "filter_action = \"Permit\"; },\n{ name = \"r\"; filter_list = \"All IP Traffic\"; "
	  "filter_action = \"Permit\"; } ); } );\n",
	  "t.conf:2: policies.[0].rules.[1].name: duplicate rule name \"r\" (first defined at line 1)" },
	{ "policies = ( { name = \"p\"; rules = ( { name = \"r\"; filter_list = \"nope\"; "
	  "filter_action = \"Permit\"; } ); } );\n",
	  "t.conf:1: policies.[0].rules.[0].filter_list: no filter list named \"nope\"" },
	{ "policies = ( { name = \"p\"; main_mode = { lifetime_minutes = 3; }; } );\n",
	  "policies.[0].main_mode.lifetime_minutes" },
	{ "policies = ( { name = \"p\"; main_mode = { ike_version = 3; }; } );\n",
	  "t.conf:1: policies.[0].main_mode.ike_version: " },
	{ "policies = ( { name = \"p\"; main_mode = { legacy_suites = true; }; } );\n",
	  "main_mode.legacy_suites: legacy suites are IKEv1's" },
	{ MM_METHODS(2, "encryption = \"aes128ctr\"; prf = \"sha256\"; dh_group = \"ecp256\";"),
	  "methods.[0].encryption: unknown IKE SA cipher \"aes128ctr\" (aes128, aes192" },
	{ MM_METHODS(2, "encryption = \"aes128gcm16\"; integrity = \"sha256_128\"; prf = \"sha256\"; "
			"dh_group = \"ecp256\";"),
	  "methods.[0].integrity: aes128gcm16 is a combined mode: integrity must be \"none\"" },
	{ MM_METHODS(2, "encryption = \"aes256\"; prf = \"sha256\"; dh_group = \"ecp256\";"),
	  "methods.[0].integrity: aes256 needs an integrity algorithm with IKEv2" },
	{ MM_METHODS(1, "encryption = \"aes256\"; prf = \"aescmac\"; dh_group = \"ecp256\";"),
	  "methods.[0].prf: IKEv1's PRF is the HMAC of its hash" },
	{ MM_METHODS(1, "encryption = \"aes256gcm16\"; prf = \"sha256\"; dh_group = \"ecp256\";"),
	  "methods.[0].encryption: IKEv1's Main Mode has no combined-mode ciphers" },
	{ MM_METHODS(1, "encryption = \"aes256\"; integrity = \"sha256_128\"; prf = \"sha256\"; "
			"dh_group = \"ecp256\";"),
	  "methods.[0].integrity: IKEv1 authenticates Main Mode with the HMAC of the PRF's hash" },
	{ MM_METHODS(1, "encryption = \"aes256\"; prf = \"sha256\"; dh_group = \"curve25519\";"),
	  "methods.[0].dh_group: Curve25519 (RFC 8031) is IKEv2's" },
	{ MM_METHODS(2, "encryption = \"aes256gcm16\"; prf = \"md5\"; dh_group = \"ecp256\";"),
	  "methods.[0].prf" },
	{ MM_METHODS(2, "encryption = \"aes256gcm16\"; prf = \"sha256\"; dh_group = \"modp1024\";"),
	  "methods.[0].dh_group" },
	{ MM_METHODS(2, "encryption = \"aes256gcm16\"; dh_group = \"ecp256\";"), "prf" },
	{ MM_METHODS(2, "encryption = \"aes256gcm16\"; prf = \"sha256\"; dh_group = \"ecp256\"; "
			"lifetime = 5;"),
	  "unknown field 'lifetime'" },
	{ "policies = ( { name = \"p\"; main_mode = { methods = ( "
	  "{ encryption = \"aes256gcm16\"; prf = \"sha256\"; dh_group = \"ecp256\"; }, "
	  "{ encryption = \"aes256gcm16\"; prf = \"sha256\"; dh_group = \"ecp256\"; } ); }; } );\n",
	  "methods.[1]: the same method as methods.[0]" },
	{ "policies = ( { name = \"p\"; main_mode = { methods = ( ); }; } );\n",
	  "main_mode.methods: empty list; expected 1..7 entries" },
	{ "filter_actions = ( { name = \"x\"; action = \"permit\"; fallback_to_clear = true; } );\n",
	  "belong to negotiate actions" },
	{ "filter_actions = ( { name = \"x\"; action = \"negotiate\"; methods = ( { protocol = \"ah\"; "
	  "encryption = \"aes128\"; integrity = \"sha1_96\"; } ); } );\n", "AH authenticates only" },
	{ "filter_actions = ( { name = \"x\"; action = \"negotiate\"; methods = ( { protocol = \"esp\"; "
	  "encryption = \"aes128gcm16\"; integrity = \"sha1_96\"; } ); } );\n", "combined-mode" },
	{ "filter_actions = ( { name = \"x\"; action = \"negotiate\"; methods = ( { protocol = \"esp\"; "
	  "encryption = \"chacha20poly1305\"; integrity = \"sha256_128\"; } ); } );\n",
	  "combined-mode" },
	{ "filter_actions = ( { name = \"x\"; action = \"negotiate\"; methods = ( { protocol = \"esp\"; "
	  "encryption = \"aes192gmac\"; integrity = \"aescmac_96\"; } ); } );\n",
	  "AES-GMAC are combined-mode: integrity must be \"none\"" },
	{ "filter_actions = ( { name = \"x\"; action = \"negotiate\"; methods = ( { protocol = \"esp\"; "
	  "integrity = \"sha256_128\"; } ); } );\n",
	  "ESP needs an encryption algorithm (\"null\" for integrity alone, RFC 2410" },
	{ "filter_actions = ( { name = \"x\"; action = \"negotiate\"; methods = ( { protocol = \"esp\"; "
	  "encryption = \"null\"; } ); } );\n", "this encryption needs an integrity algorithm" },
	{ "filter_actions = ( { name = \"x\"; action = \"negotiate\"; methods = ( { protocol = \"esp\"; "
	  "encryption = \"des\"; integrity = \"sha1_96\"; } ); } );\n",
	  "encryption: expected \"aes128gcm16\", \"aes192gcm16\", \"aes256gcm16\", \"aes128gmac\", "
	  "\"aes192gmac\", \"aes256gmac\", \"aes128ccm8\", \"aes128ccm12\", \"aes128ccm16\", "
	  "\"aes256ccm8\", \"aes256ccm12\", \"aes256ccm16\", \"aes128\", \"aes192\", \"aes256\", "
	  "\"3des\", \"chacha20poly1305\", \"null\", or \"none\", got \"des\"" },
	{ "filter_lists = ( { name = \"l\"; filters = ( { source = \"10.0.0.0/8\"; destination = "
	  "\"11.0.0.0/8\"; mirrored = false; } ); } );\nfilter_actions = ( { name = \"n\"; action = "
	  "\"negotiate\"; } );\npolicies = ( { name = \"p\"; rules = ( { name = \"r\"; filter_list = "
	  "\"l\"; filter_action = \"n\"; } ); } );\n", "needs mirrored filters" },
	{ "policies = ( { name = \"p\"; rules = ( { name = \"r\"; filter_list = \"All IP Traffic\"; "
	  "filter_action = \"Permit\"; authentication = ( { method = \"psk\"; psk = \"" PSK "\"; } ); } ); } );\n",
	  "only negotiate rules authenticate peers" },
	{ "policies = ( { name = \"p\"; rules = ( { name = \"r\"; filter_list = \"All IP Traffic\"; "
	  "filter_action = \"Require Security\"; authentication = ( { method = \"psk\"; psk = \"short\"; } ); } ); } );\n",
	  "too short" },
	/* one authentication between a pair of addresses: two tunnel rules to
	 * one endpoint with other keys, then overlapping transport rules */
	{ TWO_RULES("tunnel_endpoint = \"192.0.2.2\";", "tunnel_endpoint = \"192.0.2.2\";", "a"),
	  "t.conf:7: policies.[0].rules.[1].authentication: rules \"r1\" and \"r2\" may negotiate with "
	  "the same peer but authenticate differently" },
	{ TWO_RULES("", "", "b"), "rules \"r1\" and \"r2\" may negotiate with the same peer" },
	{ TWO_RULES("tunnel_endpoint = \"10.2.0.1\";", "", "c"), "may negotiate with the same peer" },
	{ AUTH_RULE("{ method = \"certificate\"; roots = [ \"/ca.pem\" ]; revocation = 3; }"),
	  "t.conf:1: policies.[0].rules.[0].authentication.[0].revocation" },
	{ AUTH_RULE("{ method = \"certificate\"; roots = [ \"/ca.pem\" ]; crls = [ \"/ca.crl\" ]; }"),
	  "authentication.[0].crls: CRLs are read only with revocation = 1 or 2" },
	{ AUTH_RULE("{ method = \"certificate\"; roots = [ \"/ca.pem\" ]; revocation = 2; }"),
	  "authentication.[0].revocation: level 2 with no crls fails every certificate" },
	{ AUTH_RULE("{ method = \"certificate\"; roots = [ \"/ca.pem\" ]; "
		    "certificates = ( { certificate = \"/gw.pem\"; } ); }"),
	  "authentication.[0].certificates.[0].private_key" },
	{ AUTH_RULE("{ method = \"certificate\"; roots = [ ]; }"), "authentication.[0].roots" },
	{ AUTH_RULE("{ method = \"certificate\"; roots = [ \"\" ]; }"), "expected the path of a trusted root CA" },
	{ AUTH_RULE("{ method = \"certificate\"; roots = [ \"/ca.pem\" ]; rsa_signature = \"md5\"; }"),
	  "authentication.[0].rsa_signature" },
	{ AUTH_RULE("{ method = \"certificate\"; roots = [ \"/ca.pem\" ]; psk = \"" PSK "\"; }"),
	  "psk belongs to psk methods" },
	{ AUTH_RULE("{ method = \"psk\"; psk = \"" PSK "\"; revocation = 1; }"),
	  "authentication.[0].revocation: revocation belongs to certificate methods" },
	{ "filter_actions = ( { name = \"x\"; action = \"negotiate\"; methods = ( \"Low\" ); } );\n",
	  "methods.[0]: no security method is named \"Low\"" },
	{ "timeouts = { fallback_ms = 5; };\n", "timeouts.fallback_ms" },
	{ "colour = \"blue\";\n", "unknown field 'colour'" },
	{ "policies = ( { name = } );\n", "t.conf:1: syntax error" },
};

/* The model's named methods, in order among written ones, and saved as
 * methods that load back the same. */
START_TEST(test_named_methods)
{
	static const char *const text =
		"filter_actions = ( { name = \"x\"; action = \"negotiate\"; methods = ( \"Medium\", "
		"{ protocol = \"esp\"; encryption = \"aes128gcm16\"; }, \"High\" ); } );\n";
	char path[] = "/tmp/dpsec-store-XXXXXX", err[CFG_ERR_MAX];
	const struct cfg_filter_action *a;
	struct cfg_store s, t;
	int fd = mkstemp(path);

	close(fd);
	load_ok(text, &s);
	a = cfg_store_filter_action(&s, "x");
	ck_assert_uint_eq(a->n_methods, 3);
	ck_assert_str_eq(a->methods[0].name, "Medium");
	ck_assert_uint_eq(a->methods[0].protocol, CFG_PROTO_AH);
	ck_assert_uint_eq(a->methods[0].integ_alg, DPSEC_INTEG_HMAC_SHA1_96);
	ck_assert_uint_eq(a->methods[0].enc_key_len, 0);
	ck_assert_uint_eq(a->methods[1].enc_alg, DPSEC_ENC_AES_GCM_16);
	ck_assert_str_eq(a->methods[2].name, "High");
	ck_assert_uint_eq(a->methods[2].protocol, CFG_PROTO_ESP);
	ck_assert_uint_eq(a->methods[2].enc_alg, DPSEC_ENC_3DES_CBC);
	ck_assert_uint_eq(a->methods[2].enc_key_len, 24);
	ck_assert_uint_eq(a->methods[2].integ_alg, DPSEC_INTEG_HMAC_SHA1_96);
	ck_assert_uint_eq(a->methods[2].lifetime_seconds, 3600);
	ck_assert_msg(cfg_store_save(&s, path, err) == 0, "%s", err);
	ck_assert_msg(cfg_store_load(path, CFG_PERM_REFUSE, &t, err) == 0, "%s", err);
	ck_assert_int_eq(memcmp(a, cfg_store_filter_action(&t, "x"), sizeof(*a)), 0);
	cfg_store_free(&s);
	cfg_store_free(&t);
	unlink(path);
}
END_TEST

/* IKEv2 Main Mode methods with and without integrity, in order, saved
 * and loaded back the same; eight are one too many. */
START_TEST(test_main_mode_methods)
{
	static const char *const text =
		"policies = ( { name = \"p\"; main_mode = { methods = (\n"
		"  { encryption = \"aes256gcm16\"; prf = \"sha384\"; dh_group = \"ecp384\"; },\n"
		"  { encryption = \"aes128\"; integrity = \"sha512_256\"; prf = \"sha256\"; dh_group = \"modp4096\"; },\n"
		"  { encryption = \"chacha20poly1305\"; integrity = \"none\"; prf = \"sha512\"; dh_group = \"curve25519\"; },\n"
		"  { encryption = \"aes128\"; integrity = \"aesxcbc_96\"; prf = \"aesxcbc\"; dh_group = \"ecp521\"; },\n"
		"  { encryption = \"aes256\"; integrity = \"aescmac_96\"; prf = \"aescmac\"; dh_group = \"modp3072\"; } ); }; } );\n";
	/* IKEv2 transform IDs: AES-XCBC-96 5 and PRF_AES128_XCBC 4 (RFC
	 * 3566, RFC 4434), AES-CMAC-96 8 and PRF_AES128_CMAC 8 (RFC 4494,
	 * RFC 4615) */
	static const struct cfg_mm_method want[] = {
		{ 20, 256, 0, 6, 20 }, { 12, 128, 14, 5, 16 }, { 28, 0, 0, 7, 31 },
		{ 12, 128, 5, 4, 21 }, { 12, 256, 8, 8, 15 },
	};
	char path[] = "/tmp/dpsec-store-XXXXXX", err[CFG_ERR_MAX], many[2048] = "";
	const struct cfg_main_mode *mm;
	struct cfg_store s, t;
	int fd = mkstemp(path);

	close(fd);
	load_ok(text, &s);
	mm = &cfg_store_policy(&s, "p")->main_mode;
	ck_assert_uint_eq(mm->n_methods, 5);
	ck_assert_int_eq(memcmp(mm->methods, want, sizeof(want)), 0);
	ck_assert_str_eq(cfg_mm_integrity_name(&mm->methods[1]), "sha512_256");
	ck_assert_str_eq(cfg_mm_dh_name(&mm->methods[2]), "curve25519");
	ck_assert_str_eq(cfg_mm_prf_name(&mm->methods[3]), "aesxcbc");
	ck_assert_str_eq(cfg_mm_integrity_name(&mm->methods[4]), "aescmac_96");
	ck_assert_msg(cfg_store_save(&s, path, err) == 0, "%s", err);
	ck_assert_msg(cfg_store_load(path, CFG_PERM_REFUSE, &t, err) == 0, "%s", err);
	ck_assert_int_eq(memcmp(mm, &cfg_store_policy(&t, "p")->main_mode, sizeof(*mm)), 0);
	cfg_store_free(&s);
	cfg_store_free(&t);
	unlink(path);
	strcat(many, "policies = ( { name = \"p\"; main_mode = { methods = (");
	for (int i = 0; i < CFG_MAX_MM_METHODS + 1; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
			 "%s { encryption = \"aes256gcm16\"; prf = \"sha256\"; dh_group = \"%s\"; }",
			 i ? "," : "", (const char *[]){ "modp2048", "modp3072", "modp4096", "ecp256",
							"ecp384", "ecp521", "curve25519", "ecp256" }[i]);
	strcat(many, " ); }; } );\n");
	ck_assert_int_eq(cfg_store_load_string(many, "t.conf", &s, err), -1);
	ck_assert_msg(strstr(err, "main_mode.methods: 8 entries; expected 1..7") != NULL, "%s", err);
}
END_TEST

START_TEST(test_bad_store)
{
	const struct bad *b = &bad_stores[_i];
	struct cfg_store s;
	char err[CFG_ERR_MAX];

	ck_assert_int_eq(cfg_store_load_string(b->text, "t.conf", &s, err), -1);
	ck_assert_msg(strstr(err, b->want) != NULL, "case %d: got \"%s\", want \"%s\"", _i, err, b->want);
	ck_assert_msg(strstr(err, PSK) == NULL, "a pre-shared key in an error: %s", err);
}
END_TEST

/* Rules that may meet one peer load when they authenticate alike, and
 * rules for different peers may authenticate differently. */
START_TEST(test_one_authentication_per_peer)
{
	static const char *const good_pairs[] = {
		TWO_RULES("tunnel_endpoint = \"192.0.2.2\";", "tunnel_endpoint = \"192.0.2.2\";", ""),
		TWO_RULES("tunnel_endpoint = \"192.0.2.2\";", "tunnel_endpoint = \"192.0.2.3\";", "x"),
		TWO_RULES("tunnel_endpoint = \"10.9.0.1\";", "", "x"), /* outside r2's filters */
	};
	struct cfg_store st;

	for (size_t k = 0; k < sizeof(good_pairs) / sizeof(good_pairs[0]); k++) {
		load_ok(good_pairs[k], &st);
		cfg_store_free(&st);
	}
}
END_TEST

/* A store holding a PSK is refused when others may read it. */
START_TEST(test_psk_file_mode)
{
	char path[] = "/tmp/dpsec-store-XXXXXX", err[CFG_ERR_MAX];
	int fd = mkstemp(path);
	struct cfg_store s;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, good, strlen(good)), (ssize_t)strlen(good));
	close(fd);
	chmod(path, 0644);
	ck_assert_int_eq(cfg_store_load(path, CFG_PERM_REFUSE, &s, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "readable by group or others"));
	chmod(path, 0600);
	ck_assert_msg(cfg_store_load(path, CFG_PERM_REFUSE, &s, err) == 0, "%s", err);
	cfg_store_free(&s);
	unlink(path);
}
END_TEST

START_TEST(test_save_round_trip)
{
	char path[] = "/tmp/dpsec-store-XXXXXX", err[CFG_ERR_MAX];
	struct cfg_store a, b;
	struct cfg_compiled ca, cb;
	int fd = mkstemp(path);

	close(fd);
	load_ok(good, &a);
	ck_assert_msg(cfg_store_save(&a, path, err) == 0, "%s", err);
	ck_assert_msg(cfg_store_load(path, CFG_PERM_REFUSE, &b, err) == 0, "%s", err);
	ck_assert_str_eq(a.assigned, b.assigned);
	ck_assert_uint_eq(a.n_policies, b.n_policies);
	ck_assert_int_eq(memcmp(&cfg_store_policy(&a, "site")->main_mode,
				&cfg_store_policy(&b, "site")->main_mode, sizeof(struct cfg_main_mode)), 0);
	ck_assert_uint_eq(a.n_sas, b.n_sas);
	for (uint32_t i = 0; i < a.n_sas; i++) /* the second ChaCha20-Poly1305 in UDP */
		ck_assert_int_eq(memcmp(&a.sas[i].conf, &b.sas[i].conf, sizeof(a.sas[i].conf)), 0);
	ck_assert_uint_eq(b.sas[1].conf.enc_alg, DPSEC_ENC_CHACHA20_POLY1305); /* key, then salt */
	ck_assert_uint_eq(b.sas[1].conf.salt[3], 0x33);
	ck_assert_uint_eq(b.sas[1].conf.encap, DPSEC_ENCAP_UDP);
	ck_assert_uint_eq(b.sas[1].conf.udp_sport, 4501);
	ck_assert_uint_eq(b.sas[1].conf.udp_dport, DPSEC_NATT_PORT);
	ck_assert_uint_eq(b.sas[2].conf.enc_alg, DPSEC_ENC_NULL); /* saved without a key */
	ck_assert_uint_eq(b.sas[2].conf.integ_key[19], 0x53);
	ck_assert_uint_eq(b.sas[3].conf.enc_alg, DPSEC_ENC_AES_CCM_8); /* RFC 4309: a 3-byte salt */
	ck_assert_uint_eq(b.sas[3].conf.enc_key_len, 32);
	ck_assert_uint_eq(b.sas[3].conf.salt[2], 0x82);
	ck_assert_uint_eq(b.sas[3].conf.salt[3], 0);
	ck_assert_uint_eq(b.sas[4].conf.enc_alg, DPSEC_ENC_NULL_AUTH_AES_GMAC); /* RFC 4543 */
	ck_assert_uint_eq(b.sas[4].conf.enc_key_len, 32);
	ck_assert_uint_eq(b.sas[4].conf.enc_key[31], 0xbf);
	ck_assert_mem_eq(b.sas[4].conf.salt, "\xc0\xc1\xc2\xc3", 4);
	ck_assert_uint_eq(b.sas[4].conf.integ_alg, DPSEC_INTEG_NONE);
	ck_assert_int_eq(memcmp(cfg_store_filter_action(&a, "secure"), cfg_store_filter_action(&b, "secure"),
				sizeof(struct cfg_filter_action)), 0);
	ck_assert_int_eq(cfg_compile(&a, "site", &ca, err), 0);
	ck_assert_int_eq(cfg_compile(&b, "site", &cb, err), 0);
	ck_assert_uint_eq(ca.n_rules, cb.n_rules);
	for (uint32_t i = 0; i < ca.n_rules; i++) {
		ck_assert_uint_eq(ca.rules[i].id, cb.rules[i].id);
		ck_assert_int_eq(memcmp(ca.rules[i].filters, cb.rules[i].filters,
					ca.rules[i].n_filters * sizeof(struct dpsec_filter)), 0);
	}
	cfg_compiled_free(&ca);
	cfg_compiled_free(&cb);
	cfg_store_free(&a);
	cfg_store_free(&b);
	unlink(path);
}
END_TEST

/* A filter action "x" with the one method given ("protocol = ...; ..."),
 * saved: the file holds it as given, and loads back into *b (the caller
 * frees it); that method. */
static const struct cfg_sec_method *method_saved(const char *method, struct cfg_store *b)
{
	char path[] = "/tmp/dpsec-store-XXXXXX", err[CFG_ERR_MAX], text[512], saved[8192];
	struct cfg_store a;
	int fd = mkstemp(path);
	ssize_t n;

	close(fd);
	snprintf(text, sizeof text, "filter_actions = ( { name = \"x\"; action = \"negotiate\"; "
		 "methods = ( { %s } ); } );\n", method);
	load_ok(text, &a);
	ck_assert_msg(cfg_store_save(&a, path, err) == 0, "%s", err);
	cfg_store_free(&a);
	fd = open(path, O_RDONLY); /* the save replaced the file */
	n = read(fd, saved, sizeof saved - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	saved[n] = '\0';
	ck_assert_msg(strstr(saved, method) != NULL, "%s not in:\n%s", method, saved);
	ck_assert_msg(cfg_store_load(path, CFG_PERM_REFUSE, b, err) == 0, "%s", err);
	unlink(path);
	return &cfg_store_filter_action(b, "x")->methods[0];
}

/* Every cipher a security method names is saved under the name it was
 * read by: the store's reader and writer share one table. */
static const struct { const char *name, *integrity; uint8_t alg, key_len; } method_ciphers[] = {
	{ "aes128gcm16", "none", DPSEC_ENC_AES_GCM_16, 16 },
	{ "aes192gcm16", "none", DPSEC_ENC_AES_GCM_16, 24 },
	{ "aes256gcm16", "none", DPSEC_ENC_AES_GCM_16, 32 },
	{ "aes128", "sha1_96", DPSEC_ENC_AES_CBC, 16 },
	{ "aes192", "sha256_128", DPSEC_ENC_AES_CBC, 24 },
	{ "aes256", "sha512_256", DPSEC_ENC_AES_CBC, 32 },
	{ "3des", "sha1_96", DPSEC_ENC_3DES_CBC, 24 },
	{ "chacha20poly1305", "none", DPSEC_ENC_CHACHA20_POLY1305, 32 },
	{ "null", "sha384_192", DPSEC_ENC_NULL, 0 },
	{ "aes128ccm8", "none", DPSEC_ENC_AES_CCM_8, 16 },
	{ "aes128ccm12", "none", DPSEC_ENC_AES_CCM_12, 16 },
	{ "aes128ccm16", "none", DPSEC_ENC_AES_CCM_16, 16 },
	{ "aes256ccm8", "none", DPSEC_ENC_AES_CCM_8, 32 },
	{ "aes256ccm12", "none", DPSEC_ENC_AES_CCM_12, 32 },
	{ "aes256ccm16", "none", DPSEC_ENC_AES_CCM_16, 32 },
	{ "aes128gmac", "none", DPSEC_ENC_NULL_AUTH_AES_GMAC, 16 },
	{ "aes192gmac", "none", DPSEC_ENC_NULL_AUTH_AES_GMAC, 24 },
	{ "aes256gmac", "none", DPSEC_ENC_NULL_AUTH_AES_GMAC, 32 },
};

START_TEST(test_method_cipher_saved)
{
	const struct cfg_sec_method *m;
	struct cfg_store b;
	char method[128];

	snprintf(method, sizeof method, "protocol = \"esp\"; encryption = \"%s\"; integrity = \"%s\";",
		 method_ciphers[_i].name, method_ciphers[_i].integrity);
	m = method_saved(method, &b);
	ck_assert_uint_eq(m->enc_alg, method_ciphers[_i].alg);
	ck_assert_uint_eq(m->enc_key_len, method_ciphers[_i].key_len);
	cfg_store_free(&b);
}
END_TEST

/* Every integrity algorithm a security method names, in ESP (beside
 * AES-CBC, 3DES or NULL) and in AH, is saved under the name it was read by
 * and loads back as the same algorithm. */
static const struct { const char *protocol, *encryption, *name; uint8_t alg; } method_integs[] = {
	{ "esp", "aes128", "aesxcbc_96", DPSEC_INTEG_AES_XCBC_96 },
	{ "esp", "3des", "aescmac_96", DPSEC_INTEG_AES_CMAC_96 },
	{ "esp", "null", "aesxcbc_96", DPSEC_INTEG_AES_XCBC_96 },
	{ "esp", "aes256", "aescmac_96", DPSEC_INTEG_AES_CMAC_96 },
	{ "ah", "none", "aesxcbc_96", DPSEC_INTEG_AES_XCBC_96 },
	{ "ah", "none", "aescmac_96", DPSEC_INTEG_AES_CMAC_96 },
	{ "ah", "none", "sha1_96", DPSEC_INTEG_HMAC_SHA1_96 },
	{ "esp", "aes192", "sha256_128", DPSEC_INTEG_HMAC_SHA256_128 },
	{ "ah", "none", "sha384_192", DPSEC_INTEG_HMAC_SHA384_192 },
	{ "esp", "null", "sha512_256", DPSEC_INTEG_HMAC_SHA512_256 },
};

START_TEST(test_method_integrity_saved)
{
	const struct cfg_sec_method *m;
	struct cfg_store b;
	char method[128];

	snprintf(method, sizeof method, "protocol = \"%s\"; encryption = \"%s\"; integrity = \"%s\";",
		 method_integs[_i].protocol, method_integs[_i].encryption, method_integs[_i].name);
	m = method_saved(method, &b);
	ck_assert_uint_eq(m->integ_alg, method_integs[_i].alg);
	cfg_store_free(&b);
}
END_TEST

/* Certificates first, then a PSK; everything saved loads back the same. */
START_TEST(test_certificate_method)
{
	static const char text[] = AUTH_RULE(
		"{ method = \"certificate\"; roots = [ \"/etc/dpsec/root-a.pem\", \"/etc/dpsec/root-b.pem\" ];\n"
		"  certificates = ( { certificate = \"/etc/dpsec/gw-rsa.pem\"; private_key = \"/etc/dpsec/gw-rsa.key\"; },\n"
		"                   { certificate = \"/etc/dpsec/gw-ec.pem\"; private_key = \"/etc/dpsec/gw-ec.key\"; } );\n"
		"  crls = [ \"/etc/dpsec/root-a.crl\" ]; revocation = 1; rsa_signature = \"pss\"; identity = \"fqdn\"; },\n"
		"{ method = \"psk\"; psk = \"" PSK "\"; }");
	char path[] = "/tmp/dpsec-store-XXXXXX", err[CFG_ERR_MAX];
	const struct cfg_auth_method *m;
	struct cfg_store a, b;
	int fd = mkstemp(path);

	close(fd);
	load_ok(text, &a);
	m = &cfg_store_policy(&a, "p")->rules[0].auth[0];
	ck_assert_uint_eq(m->kind, CFG_AUTH_CERT);
	ck_assert_uint_eq(m->n_roots, 2);
	ck_assert_str_eq(m->roots[1], "/etc/dpsec/root-b.pem");
	ck_assert_uint_eq(m->n_certs, 2);
	ck_assert_str_eq(m->certs[1], "/etc/dpsec/gw-ec.pem");
	ck_assert_str_eq(m->keys[1], "/etc/dpsec/gw-ec.key");
	ck_assert_uint_eq(m->n_crls, 1);
	ck_assert_uint_eq(m->revocation, 1);
	ck_assert(m->rsa_pss);
	ck_assert_uint_eq(m->identity, CFG_CERT_ID_FQDN);
	ck_assert_uint_eq(cfg_store_policy(&a, "p")->rules[0].auth[1].kind, CFG_AUTH_PSK);
	ck_assert_msg(cfg_store_save(&a, path, err) == 0, "%s", err);
	ck_assert_msg(cfg_store_load(path, CFG_PERM_REFUSE, &b, err) == 0, "%s", err);
	ck_assert_int_eq(memcmp(cfg_store_policy(&a, "p")->rules[0].auth, cfg_store_policy(&b, "p")->rules[0].auth,
				2 * sizeof(*m)), 0);
	cfg_store_free(&a);
	cfg_store_free(&b);
	unlink(path);
	/* the defaults: no revocation checking, PKCS#1 v1.5, the DN */
	load_ok(AUTH_RULE("{ method = \"certificate\"; roots = [ \"/ca.pem\" ]; }"), &a);
	m = &cfg_store_policy(&a, "p")->rules[0].auth[0];
	ck_assert_uint_eq(m->revocation, 0);
	ck_assert(!m->rsa_pss);
	ck_assert_uint_eq(m->identity, CFG_CERT_ID_DN);
	ck_assert_uint_eq(m->n_certs, 0);
	cfg_store_free(&a);
}
END_TEST

struct named {
	char name[DPSEC_NAME_MAX];
	uint32_t payload;
};

/* Thousands of names through the index's growth, with the array moved
 * under it: each found at its number, a repeated name refused with the
 * first's number, names not there and records beyond n not found. */
START_TEST(test_name_index)
{
	enum { N = 5000 };
	struct named *r = calloc(N + 1, sizeof(*r));
	struct cfg_names x = { 0 };

	ck_assert_ptr_nonnull(r);
	for (uint32_t i = 0; i < N; i++) {
		snprintf(r[i].name, sizeof(r[i].name), "tunnel-%u", i * 7919 % 100003);
		ck_assert_int_eq(cfg_names_add(&x, r, sizeof(*r), i), -1);
	}
	r = realloc(r, (N + 2) * sizeof(*r));
	ck_assert_ptr_nonnull(r);
	snprintf(r[N].name, sizeof(r[N].name), "%s", r[1234].name);
	ck_assert_int_eq(cfg_names_add(&x, r, sizeof(*r), N), 1234);
	ck_assert_uint_eq(x.count, N);
	for (uint32_t i = 0; i < N; i++)
		ck_assert_int_eq(cfg_names_find(&x, r, sizeof(*r), N, r[i].name), (int)i);
	ck_assert_int_eq(cfg_names_find(&x, r, sizeof(*r), N, "tunnel-100003"), -1);
	ck_assert_int_eq(cfg_names_find(&x, r, sizeof(*r), N, ""), -1);
	ck_assert_int_eq(cfg_names_find(&x, r, sizeof(*r), 100, r[100].name), -1);
	ck_assert_int_eq(cfg_names_build(&x, r, sizeof(*r), 10), 0);
	ck_assert_int_eq(cfg_names_find(&x, r, sizeof(*r), N, r[10].name), -1);
	ck_assert_int_eq(cfg_names_find(&x, r, sizeof(*r), N, r[9].name), 9);
	cfg_names_free(&x); /* an empty index walks the array */
	ck_assert_int_eq(cfg_names_find(&x, r, sizeof(*r), N, r[4321].name), 4321);
	free(r);
}
END_TEST

#define SPI_SA(name, dir, local, remote)                                                  \
	"{ name = \"" name "\"; spi = 0x1001; direction = \"" dir "\"; mode = \"tunnel\"; "   \
	"local = \"" local "\"; remote = \"" remote "\"; encryption = \"aes128gcm16\"; "       \
	"encryption_key = \"0x000102030405060708090a0b0c0d0e0f10111213\"; }"

/* One SPI may serve SAs to several peers, and both ways: an outbound SA
 * is found by (SPI, remote), an inbound one by (SPI, local). */
START_TEST(test_spi_scopes)
{
	struct cfg_store s;

	load_ok("security_associations = ( " SPI_SA("o1", "outbound", "192.0.2.1", "192.0.2.2") ",\n"
		SPI_SA("o2", "outbound", "192.0.2.1", "192.0.2.3") ",\n"
		SPI_SA("o3", "outbound", "2001:db8::1", "2001:db8::2") ",\n"
		SPI_SA("i1", "inbound", "192.0.2.2", "192.0.2.1") ",\n"
		SPI_SA("i2", "inbound", "192.0.2.9", "192.0.2.2") " );\n", &s);
	ck_assert_uint_eq(s.n_sas, 5);
	ck_assert_ptr_eq(cfg_store_sa(&s, "i2"), &s.sas[4]);
	cfg_store_free(&s);
}
END_TEST

START_TEST(test_compile)
{
	char err[CFG_ERR_MAX];
	struct cfg_store s;
	struct cfg_compiled c, again;
	const struct dpsec_rule *tob = NULL, *web = NULL;

	load_ok(good, &s);
	s.exemptions.kerberos = s.exemptions.rsvp = true;
	ck_assert_int_eq(cfg_compile(&s, "site", &c, err), 0);
	ck_assert_uint_eq(c.n_rules, 4); /* rsvp, kerberos, to-b, web */
	ck_assert(c.rules[0].flags & DPSEC_RULE_EXEMPT && c.rules[1].flags & DPSEC_RULE_EXEMPT);
	ck_assert_uint_eq(c.rules[0].filters[0].proto, 46);
	ck_assert_uint_eq(c.rules[1].filters[0].dport_lo, 88);
	ck_assert_ptr_null(c.origin[0]);
	for (uint32_t i = 0; i < c.n_rules; i++) {
		if (strcmp(c.rules[i].name, "to-b") == 0)
			tob = &c.rules[i];
		if (strcmp(c.rules[i].name, "web") == 0)
			web = &c.rules[i];
	}
	ck_assert(tob && web);
	ck_assert_uint_eq(tob->priority, 11); /* 2p + 1 */
	ck_assert_uint_eq(web->priority, 3);
	ck_assert(tob->flags & DPSEC_RULE_ACCEPT_UNSECURED);
	ck_assert(tob->tunnel && tob->sa_out == 0 && tob->sa_in == 1);
	ck_assert_uint_eq(web->action, DPSEC_ACTION_PERMIT);
	ck_assert(tob->id != 0 && !(tob->id & 0xc0000000u) && tob->id != web->id);
	s.exemptions.kerberos = s.exemptions.rsvp = false;
	ck_assert_int_eq(cfg_compile(&s, "site", &again, err), 0);
	ck_assert_uint_eq(again.n_rules, 2);
	ck_assert_uint_eq(again.rules[0].id, tob->id); /* stable */
	cfg_compiled_free(&again);
	ck_assert_int_eq(cfg_compile(&s, "nope", &again, err), -1);
	ck_assert_str_eq(err, "no policy named \"nope\"");
	cfg_compiled_free(&c);
	cfg_store_free(&s);
}
END_TEST

struct req {
	const char *body;
	size_t len;
	int argc;
	const char *err;
};

static const struct req reqs[] = {
	{ "show\0stats\0", 11, 2, NULL },
	{ "", 0, -1, "empty request" },
	{ "show", 4, -1, "request not NUL-terminated" },
	{ "show\0\0", 6, -1, "empty argument in request" },
};

START_TEST(test_mgmt_decode)
{
	const struct req *r = &reqs[_i];
	char buf[64], *argv[CP_MGMT_MAX_ARGS];
	const char *err = NULL;

	memcpy(buf, r->body, r->len);
	ck_assert_int_eq(cp_mgmt_decode(buf, r->len, argv, &err), r->argc);
	if (r->err)
		ck_assert_str_eq(err, r->err);
	else
		ck_assert_str_eq(argv[1], "stats");
}
END_TEST

START_TEST(test_mgmt_too_many_args)
{
	char buf[2 * (CP_MGMT_MAX_ARGS + 1)], *argv[CP_MGMT_MAX_ARGS];
	const char *err = NULL;

	for (size_t i = 0; i < sizeof(buf); i += 2)
		buf[i] = 'a', buf[i + 1] = '\0';
	ck_assert_int_eq(cp_mgmt_decode(buf, sizeof(buf), argv, &err), -1);
	ck_assert_str_eq(err, "too many arguments in request");
	ck_assert_int_eq(cp_mgmt_decode(buf, sizeof(buf) - 2, argv, &err), CP_MGMT_MAX_ARGS);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store");
	TCase *st = tcase_create("store"), *cc = tcase_create("compile"), *mg = tcase_create("mgmt");

	tcase_add_test(st, test_good_store);
	tcase_add_test(st, test_builtins);
	tcase_add_loop_test(st, test_bad_store, 0, sizeof(bad_stores) / sizeof(bad_stores[0]));
	tcase_add_test(st, test_psk_file_mode);
	tcase_add_test(st, test_one_authentication_per_peer);
	tcase_add_test(st, test_certificate_method);
	tcase_add_test(st, test_save_round_trip);
	tcase_add_loop_test(st, test_method_integrity_saved, 0,
			    sizeof(method_integs) / sizeof(method_integs[0]));
	tcase_add_loop_test(st, test_method_cipher_saved, 0,
			    sizeof(method_ciphers) / sizeof(method_ciphers[0]));
	tcase_add_test(st, test_named_methods);
	tcase_add_test(st, test_main_mode_methods);
	tcase_add_test(cc, test_compile);
	tcase_add_test(cc, test_name_index);
	tcase_add_test(st, test_spi_scopes);
	tcase_add_loop_test(mg, test_mgmt_decode, 0, sizeof(reqs) / sizeof(reqs[0]));
	tcase_add_test(mg, test_mgmt_too_many_args);
	suite_add_tcase(s, st);
	suite_add_tcase(s, cc);
	suite_add_tcase(s, mg);
	return check_run(s);
}
