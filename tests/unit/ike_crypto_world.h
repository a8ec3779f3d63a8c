/* ike_crypto_world.h - what the IKE crypto layer's tests share
 * (test_ike_prf.c, test_ike_dh.c, test_ike_sk.c, test_ike_v1.c): N() and
 * EXPECT(), fill() for their pseudo-random inputs, and the IKEv2 suites
 * with an IKE SA's inputs and both ends' keys derived from them
 * (sa_keys()), which the key schedule and the Encrypted payload tests
 * both start from. */
#ifndef IKE_CRYPTO_WORLD_H
#define IKE_CRYPTO_WORLD_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_keys.h"
#include "ike_prf.h"
#include "ike_test_util.h"

/* ck_assert_msg() records its location on every call; in loops only a
 * failure is worth that. */
#define EXPECT(cond, ...)                          \
	do {                                       \
		if (!(cond))                       \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

#define N(a) (sizeof(a) / sizeof((a)[0]))

static uint32_t rng = 0x1d2c3b4a;

static inline void fill(uint8_t *p, size_t n)
{
	rnd_bytes(&rng, p, n);
}

/* An IKE SA's inputs: nonces, SPIs, g^ir. */
struct sa_in {
	uint8_t ni[32], nr[48], spi_i[8], spi_r[8], gir[256];
};

static inline void sa_in_fill(struct sa_in *in)
{
	fill(in->ni, sizeof(in->ni));
	fill(in->nr, sizeof(in->nr));
	fill(in->spi_i, 8);
	fill(in->spi_r, 8);
	fill(in->gir, sizeof(in->gir));
}

#define NI(in) IKE_CHUNK((in)->ni, sizeof((in)->ni))
#define NR(in) IKE_CHUNK((in)->nr, sizeof((in)->nr))

static const struct ike_suite suites[] = {
	{ IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96, IKE_PRF_HMAC_SHA1 },
	{ IKE_ENCR_AES_CBC, 192, IKE_INTEG_HMAC_SHA2_256_128, IKE_PRF_HMAC_SHA2_256 },
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128, IKE_PRF_HMAC_SHA2_256 },
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_384_192, IKE_PRF_HMAC_SHA2_384 },
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_512_256, IKE_PRF_HMAC_SHA2_512 },
	{ IKE_ENCR_3DES, 0, IKE_INTEG_HMAC_SHA1_96, IKE_PRF_HMAC_SHA2_256 },
	{ IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256 },
	{ IKE_ENCR_AES_GCM_16, 192, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_384 },
	{ IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_512 },
	{ IKE_ENCR_AES_CBC, 128, IKE_INTEG_AES_XCBC_96, IKE_PRF_AES128_XCBC }, /* RFC 3566, 4434 */
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_AES_CMAC_96, IKE_PRF_AES128_CMAC }, /* RFC 4494, 4615 */
};

/* Both ends' keys of one IKE SA, derived from in. */
static inline void sa_keys(const struct ike_suite *s, const struct sa_in *in,
			   struct ikev2_keys *i, struct ikev2_keys *r)
{
	uint8_t seed[IKE_PRF_MAX];
	struct ike_err err = { 0 };

	ck_assert_msg(ikev2_keys_init(i, s, true, &err) == 0 && ikev2_keys_init(r, s, false, &err) == 0,
		      "%s", err.msg);
	ck_assert_msg(ikev2_skeyseed(s->prf, NI(in), NR(in), IKE_CHUNK(in->gir, sizeof(in->gir)),
				     seed, &err) == 0, "%s", err.msg);
	ck_assert_msg(ikev2_keys_derive(i, seed, NI(in), NR(in), in->spi_i, in->spi_r, &err) == 0 &&
		      ikev2_keys_derive(r, seed, NI(in), NR(in), in->spi_i, in->spi_r, &err) == 0,
		      "%s", err.msg);
}

#endif
