/* dp_burst.h - how many packets a worker takes from an rx queue at a time,
 * and so how many crypto operations it hands the engine at once.
 *
 * intel-ipsec-mb runs CBC, 3DES and HMAC jobs in lanes side by side (16
 * with AVX-512), and a burst ends with a flush that runs its last jobs with
 * the other lanes idle: the longest packet's chain of blocks bounds the
 * burst. The larger the burst, the less of it that tail is: on IMIX
 * traffic, 128 runs CBC + HMAC and 3DES far closer to their limit than 32
 * did, and GCM, which has no lanes, as fast as before (docs/performance.md
 * has the figures). A burst is only as large as what waits in the queue,
 * so a lightly loaded worker still forwards each packet as it comes.
 * bench/raw_crypto runs intel-ipsec-mb in bursts of this size too, so that
 * its limit runs the crypto as dpsecd does. */
#ifndef DP_BURST_H
#define DP_BURST_H

#define DP_BURST 128

#endif
