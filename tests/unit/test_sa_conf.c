/* test_sa_conf.c - dpsecd's own check of an SA that a command brings over
 * the ring (dp_sa_conf_check, before dp_sa_install): the control plane and
 * the config loader check first, but dpsecd trusts neither, so every field
 * a peer process can get wrong is refused here with a message that names
 * it. One valid SA per kind, one field spoiled per case; the key lengths
 * AES-GMAC takes; which SAs count confidential bytes. (The UDP
 * encapsulation fields are test_natt's.) */
#include <errno.h>
#include <string.h>

#include "dp_sa.h"
#include "check_run.h"

enum base { BASE_GCM, BASE_CBC_SHA1, BASE_AH_SHA256, BASE_NULL_SHA1, BASE_AH_XCBC, BASE_CBC_CMAC,
	    BASE_GMAC, N_BASES };

/* A valid SA of the kind: ESP AES-128-GCM, ESP AES-128-CBC with
 * HMAC-SHA1-96, AH with HMAC-SHA-256-128, ESP NULL (RFC 2410) with
 * HMAC-SHA1-96, AH with AES-XCBC-MAC-96, ESP AES-128-CBC with
 * AES-CMAC-96, or ESP AES-192-GMAC (RFC 4543); tunnel mode over IPv4. */
static struct dpsec_sa_conf valid_sa(enum base b)
{
	struct dpsec_sa_conf c = { .spi = 0x1000, .mode = DPSEC_MODE_TUNNEL,
				   .direction = DPSEC_DIR_OUT, .replay_window = 64 };

	strcpy(c.name, "sa-under-test");
	c.local = (struct dpsec_addr){ .family = DPSEC_AF_INET, .a = { 192, 0, 2, 1 } };
	c.remote = (struct dpsec_addr){ .family = DPSEC_AF_INET, .a = { 192, 0, 2, 2 } };
	if (b == BASE_AH_SHA256 || b == BASE_AH_XCBC) {
		c.protocol = DPSEC_PROTO_AH;
		c.integ_alg = b == BASE_AH_XCBC ? DPSEC_INTEG_AES_XCBC_96 : DPSEC_INTEG_HMAC_SHA256_128;
		c.integ_key_len = b == BASE_AH_XCBC ? 16 : 32;
		return c;
	}
	c.enc_alg = b == BASE_GCM ? DPSEC_ENC_AES_GCM_16
		    : b == BASE_GMAC ? DPSEC_ENC_NULL_AUTH_AES_GMAC
		    : b == BASE_NULL_SHA1 ? DPSEC_ENC_NULL : DPSEC_ENC_AES_CBC;
	c.enc_key_len = b == BASE_NULL_SHA1 ? 0 : b == BASE_GMAC ? 24 : 16;
	if (b != BASE_GCM && b != BASE_GMAC) {
		c.integ_alg = b == BASE_CBC_CMAC ? DPSEC_INTEG_AES_CMAC_96 : DPSEC_INTEG_HMAC_SHA1_96;
		c.integ_key_len = b == BASE_CBC_CMAC ? 16 : 20;
	}
	return c;
}

static void raw_byte(bool *field, uint8_t v)
{
	memcpy(field, &v, 1); /* what a peer process may write into a bool */
}

/* Each case spoils one thing of a valid SA. */
static void no_nul_in_name(struct dpsec_sa_conf *c) { memset(c->name, 'x', sizeof(c->name)); }
static void esn_2(struct dpsec_sa_conf *c) { raw_byte(&c->esn, 2); }
static void dscp_fixed_2(struct dpsec_sa_conf *c) { raw_byte(&c->dscp_fixed, 2); }
static void negotiated_2(struct dpsec_sa_conf *c) { raw_byte(&c->negotiated, 2); }
static void spi_255(struct dpsec_sa_conf *c) { c->spi = 255; }
static void direction_2(struct dpsec_sa_conf *c) { c->direction = 2; }
static void mode_2(struct dpsec_sa_conf *c) { c->mode = 2; }
static void family_unknown(struct dpsec_sa_conf *c) { c->local.family = 9; c->remote.family = 9; }
static void families_mixed(struct dpsec_sa_conf *c) { c->remote.family = DPSEC_AF_INET6; }
static void window_8193(struct dpsec_sa_conf *c) { c->replay_window = 8193; }
static void protocol_2(struct dpsec_sa_conf *c) { c->protocol = 2; }
static void dscp_64(struct dpsec_sa_conf *c) { c->dscp = 64; c->dscp_fixed = true; }
static void dscp_unfixed(struct dpsec_sa_conf *c) { c->dscp = 10; }
static void dscp_transport(struct dpsec_sa_conf *c)
{
	c->dscp_fixed = true;
	c->mode = DPSEC_MODE_TRANSPORT;
}
static void df_3(struct dpsec_sa_conf *c) { c->df_bit = 3; }
static void df_set_transport(struct dpsec_sa_conf *c)
{
	c->df_bit = DPSEC_DF_SET;
	c->mode = DPSEC_MODE_TRANSPORT;
}
static void df_set_ipv6(struct dpsec_sa_conf *c)
{
	c->df_bit = DPSEC_DF_CLEAR;
	c->local.family = c->remote.family = DPSEC_AF_INET6;
}
static void ah_enc_key(struct dpsec_sa_conf *c) { c->enc_key_len = 16; }
static void ah_no_integ(struct dpsec_sa_conf *c) { c->integ_alg = DPSEC_INTEG_NONE; }
static void ah_in_udp(struct dpsec_sa_conf *c)
{
	c->encap = DPSEC_ENCAP_UDP;
	c->udp_sport = c->udp_dport = 4500;
}
static void integ_key_20(struct dpsec_sa_conf *c) { c->integ_key_len = 20; }
static void ah_sha384_key_32(struct dpsec_sa_conf *c)
{
	c->integ_alg = DPSEC_INTEG_HMAC_SHA384_192;
	c->integ_key_len = 32;
}
static void ah_sha512_key_48(struct dpsec_sa_conf *c)
{
	c->integ_alg = DPSEC_INTEG_HMAC_SHA512_256;
	c->integ_key_len = 48;
}
static void des3_key_16(struct dpsec_sa_conf *c) { c->enc_alg = DPSEC_ENC_3DES_CBC; }
static void des3_no_integ(struct dpsec_sa_conf *c)
{
	c->enc_alg = DPSEC_ENC_3DES_CBC;
	c->enc_key_len = 24;
	c->integ_alg = DPSEC_INTEG_NONE;
}
static void chacha_key_16(struct dpsec_sa_conf *c) { c->enc_alg = DPSEC_ENC_CHACHA20_POLY1305; }
static void aes_key_20(struct dpsec_sa_conf *c) { c->enc_key_len = 20; }
static void ccm_key_24(struct dpsec_sa_conf *c)
{
	c->enc_alg = DPSEC_ENC_AES_CCM_8;
	c->enc_key_len = 24;
}
static void ccm_with_integ(struct dpsec_sa_conf *c)
{
	c->enc_alg = DPSEC_ENC_AES_CCM_16;
	c->integ_alg = DPSEC_INTEG_HMAC_SHA256_128;
	c->integ_key_len = 32;
}
static void enc_alg_unknown(struct dpsec_sa_conf *c) { c->enc_alg = DPSEC_ENC_N; }
static void null_key_16(struct dpsec_sa_conf *c) { c->enc_key_len = 16; }
static void null_no_integ(struct dpsec_sa_conf *c)
{
	c->integ_alg = DPSEC_INTEG_NONE;
	c->integ_key_len = 0;
}
static void aead_with_integ(struct dpsec_sa_conf *c)
{
	c->integ_alg = DPSEC_INTEG_HMAC_SHA1_96;
	c->integ_key_len = 20;
}
static void cbc_no_integ(struct dpsec_sa_conf *c) { c->integ_alg = DPSEC_INTEG_NONE; }
static void sha1_key_32(struct dpsec_sa_conf *c) { c->integ_key_len = 32; }
static void integ_alg_unknown(struct dpsec_sa_conf *c) { c->integ_alg = DPSEC_INTEG_N; }
static void xcbc_key_20(struct dpsec_sa_conf *c)
{
	c->integ_alg = DPSEC_INTEG_AES_XCBC_96;
	c->integ_key_len = 20;
}
static void cmac_key_20(struct dpsec_sa_conf *c)
{
	c->integ_alg = DPSEC_INTEG_AES_CMAC_96;
	c->integ_key_len = 20;
}
static void des3_cmac_key_32(struct dpsec_sa_conf *c)
{
	c->enc_alg = DPSEC_ENC_3DES_CBC;
	c->enc_key_len = 24;
	c->integ_key_len = 32;
}

static const struct {
	enum base base;
	void (*spoil)(struct dpsec_sa_conf *c);
	const char *message;
} cases[] = {
	{ BASE_GCM, no_nul_in_name, "name not terminated" },
	{ BASE_GCM, esn_2, "esn, dscp_fixed and negotiated must be 0 or 1" },
	{ BASE_GCM, dscp_fixed_2, "esn, dscp_fixed and negotiated must be 0 or 1" },
	{ BASE_GCM, negotiated_2, "esn, dscp_fixed and negotiated must be 0 or 1" },
	{ BASE_GCM, spi_255, "SPI 0-255 is reserved" },
	{ BASE_GCM, direction_2, "direction or mode unknown" },
	{ BASE_GCM, mode_2, "direction or mode unknown" },
	{ BASE_GCM, family_unknown, "must both be IPv4 or both IPv6" },
	{ BASE_GCM, families_mixed, "must both be IPv4 or both IPv6" },
	{ BASE_GCM, window_8193, "replay window above 8192" },
	{ BASE_GCM, protocol_2, "protocol unknown" },
	{ BASE_GCM, dscp_64, "DSCP above 63" },
	{ BASE_GCM, dscp_unfixed, "given without dscp_fixed" },
	{ BASE_GCM, dscp_transport, "a fixed DSCP needs tunnel mode" },
	{ BASE_GCM, df_3, "DF bit unknown" },
	{ BASE_GCM, df_set_transport, "needs a tunnel with IPv4 endpoints" },
	{ BASE_GCM, df_set_ipv6, "needs a tunnel with IPv4 endpoints" },
	{ BASE_AH_SHA256, ah_enc_key, "AH takes no encryption key" },
	{ BASE_AH_SHA256, ah_no_integ, "AH needs an integrity algorithm" },
	{ BASE_AH_SHA256, ah_in_udp, "AH cannot be encapsulated in UDP" },
	{ BASE_AH_SHA256, integ_key_20, "HMAC-SHA-256-128 takes a 32-byte key" },
	{ BASE_AH_SHA256, ah_sha384_key_32, "HMAC-SHA-384-192 takes a 48-byte key" },
	{ BASE_AH_SHA256, ah_sha512_key_48, "HMAC-SHA-512-256 takes a 64-byte key" },
	{ BASE_CBC_SHA1, des3_key_16, "3DES-CBC takes a 24-byte key" },
	{ BASE_CBC_SHA1, des3_no_integ, "3DES-CBC needs an integrity algorithm" },
	{ BASE_GCM, chacha_key_16, "ChaCha20-Poly1305 takes a 32-byte key" },
	{ BASE_GCM, aes_key_20, "encryption key length unsupported" },
	{ BASE_GCM, ccm_key_24, "AES-CCM takes a 16- or 32-byte key" },
	{ BASE_GCM, ccm_with_integ, "takes no separate integrity algorithm" },
	{ BASE_CBC_SHA1, aes_key_20, "encryption key length unsupported" },
	{ BASE_CBC_SHA1, enc_alg_unknown, "encryption algorithm unsupported" },
	{ BASE_NULL_SHA1, null_key_16, "NULL encryption takes no key" },
	{ BASE_NULL_SHA1, null_no_integ, "NULL encryption needs an integrity algorithm" },
	{ BASE_NULL_SHA1, sha1_key_32, "HMAC-SHA1-96 takes a 20-byte key" },
	{ BASE_GCM, aead_with_integ, "takes no separate integrity algorithm" },
	{ BASE_CBC_SHA1, cbc_no_integ, "AES-CBC needs an integrity algorithm" },
	{ BASE_CBC_SHA1, sha1_key_32, "HMAC-SHA1-96 takes a 20-byte key" },
	{ BASE_CBC_SHA1, integ_alg_unknown, "integrity algorithm unknown" },
	{ BASE_AH_XCBC, integ_key_20, "AES-XCBC-MAC-96 takes a 16-byte key (RFC 3566)" },
	{ BASE_CBC_CMAC, integ_key_20, "AES-CMAC-96 takes a 16-byte key (RFC 4494)" },
	{ BASE_CBC_CMAC, des3_cmac_key_32, "AES-CMAC-96 takes a 16-byte key (RFC 4494)" },
	{ BASE_NULL_SHA1, xcbc_key_20, "AES-XCBC-MAC-96 takes a 16-byte key (RFC 3566)" },
	{ BASE_AH_SHA256, cmac_key_20, "AES-CMAC-96 takes a 16-byte key (RFC 4494)" },
	{ BASE_GMAC, aead_with_integ, "takes no separate integrity algorithm" },
	{ BASE_GMAC, aes_key_20, "encryption key length unsupported" },
};

START_TEST(test_valid_sas_pass)
{
	struct dpsec_sa_conf c = valid_sa((enum base)_i);
	char err[256] = "";

	ck_assert_msg(dp_sa_conf_check(&c, err, sizeof(err)) == 0, "%s", err);
}
END_TEST

START_TEST(test_each_problem_named)
{
	struct dpsec_sa_conf c = valid_sa(cases[_i].base);
	char err[256] = "";

	cases[_i].spoil(&c);
	ck_assert_int_eq(dp_sa_conf_check(&c, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strncmp(err, "SA: ", 4) == 0 && strstr(err, cases[_i].message) != NULL,
		      "case %d: wanted \"%s\", got \"%s\"", _i, cases[_i].message, err);
}
END_TEST

/* AES-GMAC takes AES's key lengths (RFC 4543: AES-128, -192, -256), no other. */
START_TEST(test_gmac_key_lengths)
{
	struct dpsec_sa_conf c = valid_sa(BASE_GMAC);
	char err[256];

	for (c.enc_key_len = 0; c.enc_key_len <= sizeof(c.enc_key); c.enc_key_len++) {
		bool aes = c.enc_key_len == 16 || c.enc_key_len == 24 || c.enc_key_len == 32;

		err[0] = '\0';
		ck_assert_msg(dp_sa_conf_check(&c, err, sizeof(err)) == (aes ? 0 : -EINVAL),
			      "%u-byte key: \"%s\"", c.enc_key_len, err);
	}
}
END_TEST

/* The "confidential bytes" counters count what ESP encrypts: not AES-GMAC's
 * (RFC 4543) or NULL's (RFC 2410) payload, nothing of AH. Each with its
 * template's IV length: GMAC's is no sign of encryption. */
START_TEST(test_confidential)
{
	static const struct { uint8_t enc_alg, iv_len, flags; bool confidential; } sas[] = {
		{ DPSEC_ENC_AES_GCM_16, 8, 0, true },
		{ DPSEC_ENC_AES_CBC, 16, 0, true },
		{ DPSEC_ENC_CHACHA20_POLY1305, 8, 0, true },
		{ DPSEC_ENC_AES_CCM_8, 8, 0, true },
		{ DPSEC_ENC_NULL, 0, 0, false },
		{ DPSEC_ENC_NULL_AUTH_AES_GMAC, 8, 0, false },
		{ DPSEC_ENC_AES_GCM_16, 0, DP_SA_AH, false }, /* AH's enc_alg: 0 */
	};
	static struct dp_sa sa;

	for (size_t i = 0; i < sizeof(sas) / sizeof(sas[0]); i++) {
		sa.crypto.enc_alg = sas[i].enc_alg;
		sa.iv_len = sa.crypto.iv_len = sas[i].iv_len;
		sa.flags = sas[i].flags;
		ck_assert_msg(dp_sa_confidential(&sa) == sas[i].confidential, "case %zu", i);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sa_conf");
	TCase *tc = tcase_create("check");

	tcase_add_loop_test(tc, test_valid_sas_pass, BASE_GCM, N_BASES);
	tcase_add_loop_test(tc, test_each_problem_named, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_gmac_key_lengths);
	tcase_add_test(tc, test_confidential);
	suite_add_tcase(s, tc);
	return check_run(s);
}
