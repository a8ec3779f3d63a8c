/* test_port_rss.c - the RSS hash functions dpsecd asks of a port
 * (dataplane/port.c): what the device offers of addresses, TCP and UDP
 * ports, and ESP's and AH's SPI, nothing it does not offer, nothing else;
 * and the start message saying whether one peer's SAs can spread. */
#include <check.h>
#include <string.h>

#include <rte_ethdev.h>

#include "port.h"
#include "check_run.h"

#define ADDRS_PORTS (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP)

START_TEST(test_spi_asked_where_offered)
{
	uint64_t offered = ADDRS_PORTS | RTE_ETH_RSS_ESP | RTE_ETH_RSS_AH | RTE_ETH_RSS_SCTP |
			   RTE_ETH_RSS_L2_PAYLOAD | RTE_ETH_RSS_GTPU;

	ck_assert_uint_eq(dp_port_rss_hf(offered), ADDRS_PORTS | RTE_ETH_RSS_ESP | RTE_ETH_RSS_AH);
	ck_assert_ptr_nonnull(strstr(dp_port_rss_words(dp_port_rss_hf(offered)), "SPIs"));
}
END_TEST

START_TEST(test_nothing_asked_that_is_not_offered)
{
	ck_assert_uint_eq(dp_port_rss_hf(RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_UDP),
			  RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_UDP);
	ck_assert_uint_eq(dp_port_rss_hf(RTE_ETH_RSS_SCTP | RTE_ETH_RSS_L2_PAYLOAD), 0);
	ck_assert_str_eq(dp_port_rss_words(0), "");
	ck_assert_ptr_nonnull(strstr(dp_port_rss_words(dp_port_rss_hf(ADDRS_PORTS)),
				     "one peer's ESP in one queue"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("port_rss");
	TCase *tc = tcase_create("hash functions");

	tcase_add_test(tc, test_spi_asked_where_offered);
	tcase_add_test(tc, test_nothing_asked_that_is_not_offered);
	suite_add_tcase(s, tc);
	return check_run(s);
}
