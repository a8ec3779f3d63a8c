/* cfg_builtin.c - the built-in policies of the Windows IPsec model, in the
 * store's own syntax so the store loader checks them like any other:
 * Client (Respond Only) answers negotiation and asks for none; Server
 * (Request Security) asks for security on all IP traffic but accepts clear
 * traffic and falls back to clear with peers that do not answer; Secure
 * Server (Require Security) requires it (clear requests are answered with
 * IPsec, never served in the clear). ICMP is permitted by the two servers,
 * so that diagnostics work. Their security methods are ESP AES-GCM and
 * AES-CBC with HMAC-SHA1 (the model's "High", ESP 3DES with SHA-1, and AH
 * "Medium" remain available to define as one's own methods). */
#include "cfg_store.h"

const char cfg_builtin_text[] =
	"filter_lists = (\n"
	"  { name = \"All IP Traffic\"; description = \"every packet, IPv4 and IPv6\";\n"
	"    filters = ( { source = \"0.0.0.0/0\"; destination = \"0.0.0.0/0\"; mirrored = true; },\n"
	"                { source = \"::/0\"; destination = \"::/0\"; mirrored = true; } ); },\n"
	"  { name = \"All ICMP Traffic\"; description = \"ICMP and ICMPv6\";\n"
	"    filters = ( { source = \"0.0.0.0/0\"; destination = \"0.0.0.0/0\"; protocol = \"icmp\";\n"
	"                  mirrored = true; },\n"
	"                { source = \"::/0\"; destination = \"::/0\"; protocol = \"icmpv6\";\n"
	"                  mirrored = true; } ); }\n"
	");\n"
	"filter_actions = (\n"
	"  { name = \"Permit\"; description = \"let the traffic pass in the clear\"; action = \"permit\"; },\n"
	"  { name = \"Request Security (Optional)\"; action = \"negotiate\";\n"
	"    description = \"ask for IPsec; accept clear traffic and fall back to clear\";\n"
	"    accept_unsecured = true; fallback_to_clear = true; },\n"
	"  { name = \"Require Security\"; action = \"negotiate\";\n"
	"    description = \"answer in IPsec only; never fall back to clear\";\n"
	"    accept_unsecured = true; fallback_to_clear = false; }\n"
	");\n"
	"policies = (\n"
	"  { name = \"Client (Respond Only)\"; default_response = true;\n"
	"    description = \"communicate normally; use IPsec when a server asks for it\"; },\n"
	"  { name = \"Server (Request Security)\"; default_response = true;\n"
	"    description = \"always ask for IPsec; allow clear traffic from peers that cannot\";\n"
	"    rules = (\n"
	"      { name = \"All ICMP\"; filter_list = \"All ICMP Traffic\"; filter_action = \"Permit\"; },\n"
	"      { name = \"All IP\"; filter_list = \"All IP Traffic\";\n"
	"        filter_action = \"Request Security (Optional)\"; priority = 1; } ); },\n"
	"  { name = \"Secure Server (Require Security)\"; default_response = true;\n"
	"    description = \"always require IPsec; no clear traffic except ICMP\";\n"
	"    rules = (\n"
	"      { name = \"All ICMP\"; filter_list = \"All ICMP Traffic\"; filter_action = \"Permit\"; },\n"
	"      { name = \"All IP\"; filter_list = \"All IP Traffic\"; filter_action = \"Require Security\";\n"
	"        priority = 1; } ); }\n"
	");\n";
