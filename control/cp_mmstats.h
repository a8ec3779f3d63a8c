/* cp_mmstats.h - the Main Mode statistics table of the Windows IPsec
 * monitor, declared once: the enum, the names and the descriptions come
 * from one X-macro list. dpsec-ctld keeps the values; dpsecctl shows them
 * (show stats) in this order. */
#ifndef CP_MMSTATS_H
#define CP_MMSTATS_H

#define CP_MM_STATS(X)                                                                         \
	X(active_acquire, "pending requests for an IKE negotiation of an SA")                  \
	X(active_receive, "IKE messages queued for processing")                                \
	X(acquire_failures, "outbound requests to establish an SA that failed")                \
	X(receive_failures, "errors receiving IKE messages")                                   \
	X(send_failures, "errors sending IKE messages")                                        \
	X(acquire_heap_size, "outbound requests to establish SAs in progress")                 \
	X(receive_heap_size, "IKE messages in the receive buffers")                            \
	X(authentication_failures, "peers that failed authentication")                         \
	X(negotiation_failures, "Main Mode negotiations that failed")                          \
	X(invalid_cookies_received, "IKE messages with an unknown cookie (SPI)")               \
	X(total_acquire, "requests submitted to IKE, soft associations included")               \
	X(total_get_spi, "SPIs requested from the dataplane")                                  \
	X(key_additions, "outbound Quick Mode SAs added")                                      \
	X(key_updates, "inbound Quick Mode SAs added")                                         \
	X(get_spi_failures, "SPI requests that failed")                                        \
	X(key_addition_failures, "outbound SA additions the dataplane refused")               \
	X(key_update_failures, "inbound SA additions the dataplane refused")                   \
	X(isadb_list_size, "Main Mode state entries")                                          \
	X(connection_list_size, "Quick Mode negotiations in progress")                         \
	X(ike_main_mode, "successful Main Mode SAs")                                           \
	X(ike_quick_mode, "successful Quick Mode SAs")                                         \
	X(soft_associations, "peers that did not answer, allowed in the clear by the policy")  \
	X(invalid_packets_received, "invalid IKE messages received")

enum cp_mm_stat {
#define CP_X_ENUM(n, d) CP_MM_##n,
	CP_MM_STATS(CP_X_ENUM)
#undef CP_X_ENUM
	CP_MM_MAX
};

static inline const char *cp_mm_name(int i)
{
	static const char *const names[CP_MM_MAX] = {
#define CP_X_NAME(n, d) #n,
		CP_MM_STATS(CP_X_NAME)
#undef CP_X_NAME
	};

	return i >= 0 && i < CP_MM_MAX ? names[i] : "?";
}

#endif
