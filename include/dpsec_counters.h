/* dpsec_counters.h - the dataplane's counters, declared once: one X-macro
 * list makes the enum, the names and the descriptions; and the Quick Mode
 * statistics table of the Windows IPsec monitor computed from them. Plain C:
 * dpsecd, dpsec-ctld and dpsecctl all read counters by these names. Every
 * received packet ends in exactly one of: fwd, host, control, acquire, a
 * NAT keepalive consumed (natt_keepalives_in) or a drop_* reason, on the
 * worker that received it. Packets waiting for an SA end as
 * acquire (handed to the manager, which holds a few and counts the rest as
 * acquire_overflow, the freed ones as acquire_dropped); those it sends
 * through the outbound path again start anew as reinject_in, the ICMP
 * errors a worker makes as icmp_errors_sent, and a packet cut into k
 * fragments before encapsulation as k packets (prefrag_fragments counts
 * the k, prefrag_packets the one), and so does one cut to fit its port
 * (frag_fragments, frag_packets). ESP and AH fragments to the gateway,
 * and fragments of datagrams for transport mode SAs, wait in a reassembly
 * table (reass_held) until they end, as part of a packet
 * (reass_fragments) or dropped; the packet made of them starts anew
 * (reass_packets). So that
 * rx_packets + reinject_in + icmp_errors_sent + prefrag_fragments - prefrag_packets +
 *     frag_fragments - frag_packets + reass_packets ==
 *     fwd + host + control + acquire + natt_keepalives_in + reass_fragments + reass_held +
 *     drops. */
#ifndef DPSEC_COUNTERS_H
#define DPSEC_COUNTERS_H

#include <stdint.h>

/* X(name, description) of the drop reasons; each is counted as drop_<name>. */
#define DP_DROP_REASONS(X)                                                          \
	X(unsupported_l2, "frame too short, not IPv4/IPv6/ARP, or VLAN-tagged")         \
	X(not_for_us, "unicast frame addressed to another MAC")                         \
	X(l2_group_unicast, "link-layer broadcast or multicast frame whose IP destination is not a group: neither routed nor taken (RFC 1812 §5.3.4)") \
	X(ipv4_malformed, "IPv4 header: bad version, IHL, length or checksum")          \
	X(ipv4_options, "IPv4 header with options")                                     \
	X(ipv6_malformed, "IPv6 header or extension headers malformed")                 \
	X(ttl_exceeded, "TTL or hop limit would reach zero")                            \
	X(esp_fragment, "fragment not taken for reassembly (ESP/AH to us, UDP to us that dpsecd makes whole, or for a transport mode SA): empty, not a multiple of 8 bytes before the last, past 65,535 bytes, or IPv6 headers before the fragment header") \
	X(reass_failed, "fragment given up (ESP/AH to us, UDP to us that dpsecd makes whole, or for a transport mode SA): timed out, duplicate or overlapping, more than 8 for a packet, or the reassembly table full") \
	X(reass_too_big, "packet reassembled larger than a big buffer")           \
	X(natt_bad_length, "ESP in UDP: UDP length not the IP payload's, or no room for its header") \
	X(natt_mismatch, "ESP in UDP for an SA without UDP encapsulation, or plain ESP for one with") \
	X(policy_block, "matched a block filter, or the block default")                 \
	X(no_sa, "matched a negotiate filter that has no SA, and no ACQUIRE possible")  \
	X(sa_expired, "the SA reached its hard lifetime")                               \
	X(acquire_queue_full, "the queue to the manager of packets awaiting an SA full") \
	X(clear_should_be_secured, "clear packet matched a negotiate filter inbound")   \
	X(esp_truncated, "ESP packet too short or misaligned for its SA")               \
	X(ah_bad_length, "AH packet too short, or its header length not its SA's")      \
	X(bad_spi, "no inbound SA for SPI and destination")                             \
	X(replay, "sequence number replayed or behind the window")                      \
	X(icv, "ICV verification failed")                                               \
	X(bad_padding, "ESP padding not 1,2,3,... or longer than the payload")          \
	X(bad_next_header, "ESP/AH next header not allowed for the SA's mode")          \
	X(dummy, "ESP dummy packet (next header 59), RFC 4303 section 2.6")             \
	X(inner_malformed, "decrypted inner packet malformed")                          \
	X(ecn_ce_not_ect, "tunnel packets whose outer header was marked congestion experienced (CE) on the way while the inner packet is not ECN-capable: dropped, as RFC 6040 §4.2 requires (its transport takes only losses as congestion)") \
	X(inner_policy_mismatch, "decrypted packet does not match its SA's rule")       \
	X(seq_overflow, "outbound sequence number space exhausted")                     \
	X(sa_moved, "outbound SA moved to its peer's new address while the packet was numbered") \
	X(seq_unsaved, "outbound static key: its next sequence numbers not yet reserved on disk (sequence_file)") \
	X(crypto_error, "the crypto engine failed the operation")                       \
	X(unsupported_ext_headers, "IPv6 extension headers in transport mode or before AH") \
	X(no_room, "no head/tailroom for encapsulation, or multi-segment packet")       \
	X(no_buffer, "no buffer left for the fragments of a packet to cut")             \
	X(too_big, "packet larger than the MTU of its way out (IPsec added) and not cut") \
	X(pmtu_report_limited, "path MTU report (ICMP too big about our ESP/AH) over the worker's rate of 100 a second") \
	X(fragment_unseen, "later fragment whose first this worker has not seen, under a policy whose filters name ports (RFC 4301 section 7.3)") \
	X(icmp_error_unsecured, "ICMP error about a decrypted packet that no SA would carry back") \
	X(multicast, "multicast, IPv4 limited broadcast or class E destination (not an ND message): dpsec routes none (RFC 1812 §5.3.5.1)")          \
	X(martian_source, "source no host has (IPv4 0/8, 127/8, multicast, class E, broadcast; IPv6 unspecified, loopback, multicast), or one of the gateway's own addresses from outside: neither routed nor taken (RFC 1812 §5.3.7)") \
	X(stays_on_link, "link-local source or destination (169.254/16, fe80::/10), or to IPv4 0/8 or 127/8 or IPv6 :: or ::1, not for the gateway: never forwarded (RFC 3927 §7, RFC 4291 §2.5.6, RFC 1812 §5.3.7)") \
	X(directed_broadcast, "to the broadcast address of a connected IPv4 subnet (a port's prefix or an on-link route, /30 or shorter): not forwarded (RFC 2644)") \
	X(no_route, "no route to the destination")                                      \
	X(no_neighbour, "next hop's MAC unknown, the packet not held: the next hop failed to answer (host unreachable sent), the packet exceeds its port's MTU, or the queue to the manager is full") \
	X(no_host, "local packet but no exception interface")                           \
	X(control_full, "control queue to the manager full")                            \
	X(tx_full, "port transmit queue full")

/* X(name, description) of the other global counters. */
#define DP_COUNTERS(X)                                                                   \
	X(rx_packets, "packets received from every port, exception interface included")     \
	X(fwd_packets, "packets sent out of a network port")                                 \
	X(host_packets, "packets delivered to the host stack (exception interface)")         \
	X(control_packets, "ARP/ND packets consumed by the manager")                         \
	X(acquire_packets, "outbound packets handed to the manager to wait for their SA")   \
	X(reinject_in, "held packets the manager sent through the outbound path again")     \
	X(acquire_overflow, "awaiting an SA, but more than 4 held for its rule and peer: freed") \
	X(acquire_dropped, "held packets freed: negotiation failed, timed out, or flushed")  \
	X(control_tx, "frames the manager handed worker 0 that it sent: ARP/ND, NAT keepalives, reports passed to the host") \
	X(control_tx_failed, "such frames a tx queue refused")                               \
	X(natt_keepalives_in, "NAT keepalives received (RFC 3948 section 2.3): consumed")    \
	X(natt_keepalives_out, "NAT keepalives the manager sent for silent UDP-encapsulated SAs") \
	X(natt_keepalives_unsent, "NAT keepalives not sent: no route, neighbour or buffer")  \
	X(natt_peer_moved, "ESP in UDP verified and new from another address or port than its SA's peer sends from (the peer's NAT mapped it anew): told to the control plane") \
	X(icmp_errors_sent, "ICMP errors made (too big, time exceeded, no route) for their sources") \
	X(icmp_errors_limited, "ICMP errors not made: over the worker's rate")              \
	X(pmtu_reports, "ICMP fragmentation needed / packet too big about the gateway's ESP or AH") \
	X(pmtu_learned, "such reports recorded as an outbound SA's path MTU")                \
	X(pmtu_ignored, "such reports not believed: no such SA, MTU not lower or not sound, or pmtu_age_seconds 0") \
	X(pmtu_inherited, "outbound SAs that took their peer's recorded path MTU: installed while it held, or already there when a sibling SA's report recorded it") \
	X(pmtu_peers_full, "path MTUs recorded in an SA but not for its peer: the peers' table full") \
	X(prefrag_packets, "IPv4 packets without DF cut into fragments before tunnel encapsulation") \
	X(prefrag_fragments, "the fragments those packets became, each then encapsulated") \
	X(frag_packets, "IPv4 packets without DF forwarded in clear, decrypted or ESP in transport mode, cut to fit their port") \
	X(frag_fragments, "the fragments those packets became, each then sent") \
	X(reass_fragments, "fragments that became part of a reassembled packet: ESP/AH to the gateway, UDP to it that dpsecd makes whole, or datagrams for transport mode SAs") \
	X(reass_packets, "packets reassembled from them")                           \
	X(reass_held, "fragments waiting for the rest of their packet (a gauge)")    \
	X(esp_out_packets, "packets ESP-encapsulated")                                       \
	X(esp_in_packets, "ESP packets decapsulated")                                        \
	X(ah_out_packets, "packets sent with AH")                                            \
	X(ah_in_packets, "AH packets verified and decapsulated")                             \
	X(confidential_bytes_sent, "Confidential Bytes Sent: inner bytes ESP encrypted")     \
	X(confidential_bytes_received, "Confidential Bytes Received")                        \
	X(authenticated_bytes_sent, "Authenticated Bytes Sent (ESP with integrity or AH)")   \
	X(authenticated_bytes_received, "Authenticated Bytes Received")                      \
	X(transport_bytes_sent, "Transport Bytes Sent")                                      \
	X(transport_bytes_received, "Transport Bytes Received")                              \
	X(bytes_sent_in_tunnels, "Bytes Sent In Tunnels")                                    \
	X(bytes_received_in_tunnels, "Bytes Received In Tunnels")                            \
	X(offloaded_bytes_sent, "Offloaded Bytes Sent")                                      \
	X(offloaded_bytes_received, "Offloaded Bytes Received")                              \
	X(ecn_unused_combinations, "decapsulated tunnel packets whose inner and outer ECN fields make a combination RFC 6040 §4.2 calls currently unused (ECT or CE outside a packet that is not ECN-capable, ECT(1) outside CE): an encapsulator or a router on the way setting ECN wrongly; forwarded with the ECN field the RFC gives, counted") \
	X(neigh_probes, "unicast ARP requests / neighbour solicitations asking a learnt neighbour silent for neighbour_reachable_seconds, that packets went to since it was last heard from, whether it is still there") \
	X(neigh_expired, "learnt neighbours forgotten: three such requests a second apart unanswered") \
	X(neigh_stale_removed, "learnt neighbours forgotten after twice neighbour_reachable_seconds silent with no packet sent to them since (never asked)") \
	X(neigh_link_down_forgotten, "learnt neighbours forgotten when their port's link went down, as the port may come back on another link (configured ones stay)") \
	X(neigh_table_full, "neighbours not learnt: the table of 4,096 full")                \
	X(neigh_held, "packets the manager held while their next hop's MAC was asked for")    \
	X(neigh_held_sent, "held packets routed again once their next hop answered")          \
	X(neigh_held_unanswered, "held packets routed again once their next hop left three requests unanswered: each draws host unreachable") \
	X(neigh_held_dropped, "held packets freed: more than 8 waited for their next hop, another next hop took its place among the 64 being asked for, or the ring back to worker 0 was full") \
	X(neigh_invalid, "ARP and ND packets refused as malformed: ARP not Ethernet/IPv4 request or reply; ND failing RFC 4861's checks (hop limit 255, code 0, checksum, length, unicast target, options of non-zero length, no source link-layer option from the unspecified address, a solicited advertisement to a group)") \
	X(neigh_unsolicited, "ARP replies and neighbour advertisements about a neighbour neither known nor asked for: not believed") \
	X(neigh_second_answers, "ARP packets naming another MAC for a learnt neighbour heard from less than a second before, not announcing itself (a second answer to one request: a proxy beside the owner, or two hosts with one address): not believed, the first answer kept") \
	X(neigh_ignored, "ND packets not acted on: router solicitations and advertisements, redirects, an advertisement without the override flag naming another MAC for a known neighbour") \
	X(neigh_announced, "gratuitous ARP requests and unsolicited neighbour advertisements telling the links where the gateway's addresses are: three rounds a second apart at start and when a port's link comes back") \
	X(neigh_address_conflicts, "ARP and ND packets from another MAC claiming one of the gateway's addresses (a duplicate address on the link, RFC 5227 §2.4): logged and the address announced again, at most every 10 s a port") \
	X(neigh_anycast_unanswered, "solicitations for a Subnet-Router anycast address of the gateway's not answered: 16 answers were already waiting their random delay of up to a second (RFC 4861 §7.2.7)") \
	X(neigh_dad_failed, "the gateway's IPv6 addresses found held by another node by the duplicate address detection at start or when a port's link came back (RFC 4862 §5.4): logged, never answered for, announced nor sent from") \
	X(port_link_down, "network ports' links found down, read four times a second: each time one went down, and each port down at start (logged)") \
	X(port_link_up, "network ports' links come back up (or up after being down at start): logged, the port's IPv6 addresses tested for duplicates and all its addresses announced again")

enum dp_counter {
#define DP_X_ENUM(n, d) DP_C_##n,
	DP_COUNTERS(DP_X_ENUM)
#undef DP_X_ENUM
#define DP_X_DROP_ENUM(n, d) DP_DROP_##n,
	DP_DROP_REASONS(DP_X_DROP_ENUM)
#undef DP_X_DROP_ENUM
	DP_C_MAX
};

#define DP_DROP_FIRST DP_DROP_unsupported_l2


static inline const char *dp_counter_name(int c)
{
	static const char *const names[DP_C_MAX] = {
#define DP_X_NAME(n, d) #n,
		DP_COUNTERS(DP_X_NAME)
#undef DP_X_NAME
#define DP_X_DROP_NAME(n, d) "drop_" #n,
		DP_DROP_REASONS(DP_X_DROP_NAME)
#undef DP_X_DROP_NAME
	};

	return c >= 0 && c < DP_C_MAX ? names[c] : "?";
}

static inline const char *dp_counter_desc(int c)
{
	static const char *const descs[DP_C_MAX] = {
#define DP_X_DESC(n, d) d,
		DP_COUNTERS(DP_X_DESC) DP_DROP_REASONS(DP_X_DESC)
#undef DP_X_DESC
	};

	return c >= 0 && c < DP_C_MAX ? descs[c] : "?";
}

static inline uint64_t dp_counters_drops(const uint64_t c[DP_C_MAX])
{
	uint64_t sum = 0;

	for (int i = DP_DROP_FIRST; i < DP_C_MAX; i++)
		sum += c[i];
	return sum;
}

/* The gauges of the Quick Mode table that are not packet counters. */
struct dpsec_qm_gauges {
	uint64_t active_sas, offloaded_sas, key_additions, key_deletions, active_tunnels;
	uint64_t pending_key_operations, rekeys; /* the control plane's; 0 in the dataplane */
};

struct dpsec_qm_row {
	const char *name;
	uint64_t value;
};

#define DPSEC_QM_ROWS 21

/* The Quick Mode statistics table, rows in the IP Security Monitor's order
 * and words (snake_case). */
static inline void dpsec_qm_table(const uint64_t c[DP_C_MAX], const struct dpsec_qm_gauges *g,
				  struct dpsec_qm_row t[DPSEC_QM_ROWS])
{
	const struct dpsec_qm_row rows[DPSEC_QM_ROWS] = {
		{ "active_security_associations", g->active_sas },
		{ "offloaded_security_associations", g->offloaded_sas },
		{ "pending_key_operations", g->pending_key_operations },
		{ "key_additions", g->key_additions },
		{ "key_deletions", g->key_deletions },
		{ "rekeys", g->rekeys },
		{ "active_tunnels", g->active_tunnels },
		{ "bad_spi_packets", c[DP_DROP_bad_spi] },
		{ "packets_not_decrypted", c[DP_DROP_esp_truncated] + c[DP_DROP_bad_padding] +
						   c[DP_DROP_bad_next_header] + c[DP_DROP_crypto_error] +
						   c[DP_DROP_inner_malformed] },
		{ "packets_not_authenticated", c[DP_DROP_icv] },
		{ "packets_with_replay_detection", c[DP_DROP_replay] },
		{ "confidential_bytes_sent", c[DP_C_confidential_bytes_sent] },
		{ "confidential_bytes_received", c[DP_C_confidential_bytes_received] },
		{ "authenticated_bytes_sent", c[DP_C_authenticated_bytes_sent] },
		{ "authenticated_bytes_received", c[DP_C_authenticated_bytes_received] },
		{ "transport_bytes_sent", c[DP_C_transport_bytes_sent] },
		{ "transport_bytes_received", c[DP_C_transport_bytes_received] },
		{ "bytes_sent_in_tunnels", c[DP_C_bytes_sent_in_tunnels] },
		{ "bytes_received_in_tunnels", c[DP_C_bytes_received_in_tunnels] },
		{ "offloaded_bytes_sent", c[DP_C_offloaded_bytes_sent] },
		{ "offloaded_bytes_received", c[DP_C_offloaded_bytes_received] },
	};

	for (int i = 0; i < DPSEC_QM_ROWS; i++)
		t[i] = rows[i];
}

#endif
