/* dp_stats.h - dataplane counters. One X-macro list declares every global
 * counter once and generates both the enum and the names; counters live per
 * lcore (no atomics on the fast path) and are summed by whoever reads them.
 * Every received packet ends in exactly one of: fwd, host, control, a
 * drop_* reason, or a hand-off to another worker (which counts it again as
 * handoff_in and then gives it its end), so that
 * rx_packets + handoff_in == fwd + host + control + handoff_out + drops. */
#ifndef DP_STATS_H
#define DP_STATS_H

#include <stdint.h>

#include <rte_common.h>

/* X(name, description) of the drop reasons; each is counted as drop_<name>. */
#define DP_DROP_REASONS(X)                                                          \
	X(unsupported_l2, "frame too short, not IPv4/IPv6/ARP, or VLAN-tagged")         \
	X(not_for_us, "unicast frame addressed to another MAC")                         \
	X(ipv4_malformed, "IPv4 header: bad version, IHL, length or checksum")          \
	X(ipv4_options, "IPv4 header with options")                                     \
	X(ipv6_malformed, "IPv6 header or extension headers malformed")                 \
	X(ttl_exceeded, "TTL or hop limit would reach zero")                            \
	X(esp_fragment, "fragment of an ESP packet (no reassembly)")                    \
	X(policy_block, "matched a block filter, or the block default")                 \
	X(no_sa, "matched a negotiate filter that has no SA")                           \
	X(clear_should_be_secured, "clear packet matched a negotiate filter inbound")   \
	X(esp_truncated, "ESP packet too short or misaligned for its SA")               \
	X(bad_spi, "no inbound SA for SPI and destination")                             \
	X(replay, "sequence number replayed or behind the window")                      \
	X(icv, "ICV verification failed")                                               \
	X(bad_padding, "ESP padding not 1,2,3,... or longer than the payload")          \
	X(bad_next_header, "ESP next header not allowed for the SA's mode")             \
	X(dummy, "ESP dummy packet (next header 59), RFC 4303 section 2.6")             \
	X(inner_malformed, "decrypted inner packet malformed")                          \
	X(inner_policy_mismatch, "decrypted packet does not match its SA's rule")       \
	X(seq_overflow, "outbound sequence number space exhausted")                     \
	X(crypto_error, "the crypto engine failed the operation")                       \
	X(unsupported_ext_headers, "IPv6 extension headers in transport mode")          \
	X(no_room, "no head/tailroom for encapsulation, or multi-segment packet")       \
	X(too_big, "encapsulated packet larger than the port MTU")                      \
	X(multicast, "multicast destination: dpsec does not route multicast")          \
	X(no_route, "no route to the destination")                                      \
	X(no_neighbour, "next hop MAC not resolved yet")                                \
	X(no_host, "local packet but no exception interface")                           \
	X(control_full, "control queue to the manager full")                            \
	X(handoff_full, "hand-off queue to the SA's owner worker full")                 \
	X(tx_full, "port transmit queue full")

/* X(name, description) of the other global counters. */
#define DP_COUNTERS(X)                                                                   \
	X(rx_packets, "packets received from every port, exception interface included")     \
	X(fwd_packets, "packets sent out of a network port")                                 \
	X(host_packets, "packets delivered to the host stack (exception interface)")         \
	X(control_packets, "ARP/ND packets consumed by the manager")                         \
	X(handoff_out, "ESP packets handed to the worker that owns their inbound SA")        \
	X(handoff_in, "ESP packets taken over from another worker")                          \
	X(control_tx, "ARP/ND packets the manager built and worker 0 sent")                  \
	X(control_tx_failed, "ARP/ND packets the manager built that a tx queue refused")     \
	X(esp_out_packets, "packets ESP-encapsulated")                                       \
	X(esp_in_packets, "ESP packets decapsulated")                                        \
	X(confidential_bytes_sent, "Confidential Bytes Sent: inner bytes sent with ESP")     \
	X(confidential_bytes_received, "Confidential Bytes Received")                        \
	X(authenticated_bytes_sent, "Authenticated Bytes Sent (ESP with integrity or AH)")   \
	X(authenticated_bytes_received, "Authenticated Bytes Received")                      \
	X(transport_bytes_sent, "Transport Bytes Sent")                                      \
	X(transport_bytes_received, "Transport Bytes Received")                              \
	X(bytes_sent_in_tunnels, "Bytes Sent In Tunnels")                                    \
	X(bytes_received_in_tunnels, "Bytes Received In Tunnels")                            \
	X(offloaded_bytes_sent, "Offloaded Bytes Sent")                                      \
	X(offloaded_bytes_received, "Offloaded Bytes Received")

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

struct dp_counters {
	uint64_t c[DP_C_MAX];
} __rte_cache_aligned;

/* Per-SA counters of one lcore. */
struct dp_sa_counters {
	uint64_t packets;
	uint64_t bytes; /* inner bytes */
	uint64_t drops;
	uint64_t last_use_tsc;
};

const char *dp_counter_name(enum dp_counter c);
const char *dp_counter_desc(enum dp_counter c);

#endif
