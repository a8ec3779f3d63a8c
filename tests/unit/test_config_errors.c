/* test_config_errors.c - Check unit tests of the dataplane config
 * loader on malformed input: a table of broken configs (ports, dataplane
 * options, exception port, routes, neighbours, filter lists, filter
 * actions, rules, security associations, includes) each fails with the
 * exact FILE:LINE, field path and reason and leaves the struct wiped; the
 * base the table's policy cases start from loads; and every truncation of
 * an example, and a mangled byte at every offset, fails cleanly.
 * Runs with CK_FORK=no: every test cleans up its files and its struct. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_world.h"
#include "lsan_libconfig.h"

/* ---- broken configurations ---- */

/* After PORTS: the SAs alone, or a policy with one filter list of one filter. */
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
	{ "df_bit in transport mode", PORTS SAS(SA_X("out", "0x1001", "outbound", "transport",
	  "192.0.2.2", GCM " df_bit = \"set\";"), SA_IN), 3, "security_associations.[0].df_bit",
	  "only a tunnel-mode SA with IPv4 endpoints has an outer DF bit to choose; remove it" },
	{ "dscp in transport mode", PORTS SAS(SA_X("out", "0x1001", "outbound", "transport",
	  "192.0.2.2", GCM " dscp = 10;"), SA_IN), 3, "security_associations.[0].dscp",
	  "only a tunnel-mode SA has an outer header; remove it" },
	{ "dscp 64", PORTS SAS(SA_X("out", "0x1001", "outbound", "tunnel", "192.0.2.2",
	  GCM " dscp = 64;"), SA_IN), 3, "security_associations.[0].dscp",
	  "64 is out of range; expected \"copy\" or a DSCP 0..63" },
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
	  "required with aes128, which does not authenticate; expected \"sha1_96\", \"sha256_128\", "
	  "\"sha384_192\", \"sha512_256\", \"aesxcbc_96\" or \"aescmac_96\"" },
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
	  "expected \"aes128gcm16\", \"aes192gcm16\", \"aes256gcm16\", \"aes128gmac\", "
	  "\"aes192gmac\", \"aes256gmac\", \"aes128ccm8\", \"aes128ccm12\", \"aes128ccm16\", "
	  "\"aes256ccm8\", \"aes256ccm12\", \"aes256ccm16\", \"aes128\", \"aes192\", \"aes256\", "
	  "\"3des\", \"chacha20poly1305\", or \"null\", got \"des\"" },
	{ "aes192gcm16 key length", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"aes192gcm16\"; encryption_key = \"" K24 "\";")), 3,
	  "security_associations.[0].encryption_key",
	  "24 bytes; aes192gcm16 needs exactly 28 (24-byte AES key + 4-byte salt, RFC 4106)" },
	{ "aes128gmac with integrity", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"aes128gmac\"; encryption_key = \"" K20 "\";\n integrity = \"sha1_96\"; "
	  "integrity_key = \"" K20 "\";")), 4, "security_associations.[0].integrity",
	  "must be absent or \"none\" with aes128gmac, which authenticates by itself (RFC 4106, "
	  "RFC 4309, RFC 4543, RFC 7634); got \"sha1_96\"" },
	{ "aes128gmac without salt", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"aes128gmac\"; encryption_key = \"" K16 "\";")), 3,
	  "security_associations.[0].encryption_key",
	  "16 bytes; aes128gmac needs exactly 20 (16-byte AES key + 4-byte salt, RFC 4543" },
	{ "aes192gmac key length", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"aes192gmac\"; encryption_key = \"" K20 "\";")), 3,
	  "security_associations.[0].encryption_key",
	  "20 bytes; aes192gmac needs exactly 28 (24-byte AES key + 4-byte salt, RFC 4543" },
	{ "aes256gmac key length", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"aes256gmac\"; encryption_key = \"" K32 "\";")), 3,
	  "security_associations.[0].encryption_key",
	  "32 bytes; aes256gmac needs exactly 36 (32-byte AES key + 4-byte salt, RFC 4543" },
	{ "aes128ccm8 key length", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"aes128ccm8\"; encryption_key = \"" K20 "\";")), 3,
	  "security_associations.[0].encryption_key",
	  "20 bytes; aes128ccm8 needs exactly 19 (16-byte AES key + 3-byte salt, RFC 4309)" },
	{ "aes192ccm16", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"aes192ccm16\"; encryption_key = \"" K24 "\";")), 3,
	  "security_associations.[0].encryption",
	  "\"aes192ccm16\": AES-CCM with a 192-bit key is not supported (intel-ipsec-mb" },
	{ "null with a key", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"null\"; encryption_key = \"" K16 "\";")), 3,
	  "security_associations.[0].encryption_key",
	  "given, but \"null\" encrypts nothing and takes no key (RFC 2410)" },
	{ "null without integrity", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"null\";")), 3, "security_associations.[0].integrity",
	  "required with null, which does not authenticate" },
	{ "3des key length", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"3des\"; encryption_key = \"" K16 "\";")), 3,
	  "security_associations.[0].encryption_key",
	  "16 bytes; 3des needs exactly 24 (the three 8-byte DES keys K1 K2 K3, RFC 2451)" },
	{ "3des without integrity", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"3des\"; encryption_key = \"" K24 "\";")), 3,
	  "security_associations.[0].integrity",
	  "required with 3des, which does not authenticate; expected \"sha1_96\", \"sha256_128\", "
	  "\"sha384_192\", \"sha512_256\", \"aesxcbc_96\" or \"aescmac_96\"" },
	{ "sha512_256 with a SHA-256 key", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel",
	  "192.0.2.2", "encryption = \"aes256\"; encryption_key = \"" K32 "\";\n"
	  "integrity = \"sha512_256\"; integrity_key = \"" K32 "\";")), 4,
	  "security_associations.[0].integrity_key", "32 bytes; sha512_256 needs exactly 64 (RFC 4868)" },
	{ "aesxcbc_96 with a SHA-1 key", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"aes128\"; encryption_key = \"" K16 "\";\n"
	  "integrity = \"aesxcbc_96\"; integrity_key = \"" K20 "\";")), 4,
	  "security_associations.[0].integrity_key", "20 bytes; aesxcbc_96 needs exactly 16 (RFC 3566)" },
	{ "aescmac_96 with a SHA-256 key", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel",
	  "192.0.2.2", "protocol = \"ah\";\n integrity = \"aescmac_96\"; integrity_key = \"" K32 "\";")),
	  4, "security_associations.[0].integrity_key",
	  "32 bytes; aescmac_96 needs exactly 16 (RFC 4494)" },
	{ "unknown integrity", SA_ONLY(SA_X("s", "0x1001", "inbound", "tunnel", "192.0.2.2",
	  "encryption = \"null\";\n integrity = \"aesxcbc\";")), 4,
	  "security_associations.[0].integrity",
	  "expected \"none\", \"sha1_96\", \"sha256_128\", \"sha384_192\", \"sha512_256\", "
	  "\"aesxcbc_96\", or \"aescmac_96\", got \"aesxcbc\"" },
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
	{ "reassembly timeout of 0", "dataplane = { reassembly_timeout_ms = 0; };\n" PORTS, 1,
	  "dataplane.reassembly_timeout_ms", "0 is out of range; expected 1..60000" },
	{ "path MTU age over a day", "dataplane = { pmtu_age_seconds = 86401; };\n" PORTS, 1,
	  "dataplane.pmtu_age_seconds", "86401 is out of range; expected 0..86400" },
	{ "neighbours rechecked less than hourly",
	  "dataplane = { neighbour_reachable_seconds = 3601; };\n" PORTS, 1,
	  "dataplane.neighbour_reachable_seconds", "3601 is out of range; expected 0..3600" },
	{ "icmp errors a second out of range",
	  "dataplane = { icmp_errors_per_second = 1000001; };\n" PORTS, 1,
	  "dataplane.icmp_errors_per_second", "1000001 is out of range; expected 0..1000000" },
	{ "sequence file not absolute",
	  "dataplane = { sequence_file = \"gw.seq\"; };\n" PORTS, 1,
	  "dataplane.sequence_file", "expected an absolute path, or \"none\"" },
	{ "policy memory beyond 64 GiB",
	  "dataplane = { policy_memory_mb = 65537; };\n" PORTS, 1,
	  "dataplane.policy_memory_mb", "65537 is out of range; expected 0..65536" },
	{ "icmp error burst of 0",
	  "dataplane = { icmp_error_burst = 0; };\n" PORTS, 1,
	  "dataplane.icmp_error_burst", "0 is out of range; expected 1..100000" },
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

static Suite *config_errors_suite(void)
{
	Suite *s = suite_create("config_errors");
	TCase *br = tcase_create("broken");

	tcase_add_loop_test(br, test_broken, 0, (int)(sizeof broken / sizeof broken[0]));
	tcase_add_test(br, test_broken_base_loads);
	tcase_add_test(br, test_truncated_and_mangled);
	tcase_set_timeout(br, 120);
	suite_add_tcase(s, br);
	return s;
}

int main(void)
{
	return check_run(config_errors_suite());
}
