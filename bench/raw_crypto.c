/* raw_crypto.c - the raw crypto limit for bench/run: intel-ipsec-mb alone,
 * with no packet I/O, running the ESP jobs dpsecd would run for one frame
 * size (in bursts of dpsecd's DP_BURST, in place, the SA's keys expanded
 * once), and printing the TSC cycles per buffer as one JSON line.
 *
 *   raw_crypto --alg aes128gcm16|aes192gcm16|aes256gcm16|chacha20poly1305|aes128ccm8|
 *              aes128gmac|...
 *              --len 44 [--aad 8]
 *              [--decrypt]
 *              [--seconds S] [--stall-us U]
 *   raw_crypto --alg aes128+sha1_96 --len 48 --hash-extra 24 ...
 *   raw_crypto --alg ah+sha1_96 --len 0 --hash-extra 108 ...
 *
 * --len is the encrypted length (ESP payload + padding + trailer; a multiple
 * of 16 for AES-CBC, of 8 for 3DES, of 4 for NULL, whose range stays
 * clear), --hash-extra the bytes HMAC covers before the ciphertext (ESP
 * header + IV: 8 + 16 for AES-CBC, 8 + 8 for 3DES, 8 for NULL; AH: the
 * whole packet, nothing ciphered). GCM, ChaCha20-Poly1305 and AES-CCM
 * buffers carry an 8-byte AAD (SPI and sequence number) and a 16-byte tag
 * (AES-CCM: 8, 12 or 16 bytes, by the name's last number); AES-GMAC
 * (RFC 4543) ciphers nothing and authenticates the AAD, the 8-byte IV and
 * the --len bytes, which --hash-extra's last bytes hold, as dpsecd's
 * engine does; CBC and AH jobs
 * HMAC-SHA1-96 or HMAC-SHA-256-128 (12- or 16-byte tags). Decryption does
 * not verify tags: intel-ipsec-mb only computes them, as in dpsecd.
 *
 * The limit is the cheapest way intel-ipsec-mb offers, which is also how
 * dpsecd's engine (offload/ofl_cpu.c) calls it: GCM one direct call per
 * buffer (AES-GMAC's with nothing to encrypt), the rest
 * (ChaCha20-Poly1305 and AES-CCM too) as job bursts submitted unchecked.
 * (Checked job bursts cost some 25 cycles a buffer more; measured against
 * them, dpsecd would look closer to its limit than it is.)
 *
 * Measured the way dpsecd measures itself, so that the two compare: every
 * burst is timed on its own for --seconds (default 0.5), a burst longer
 * than --stall-us (default 250, dpsecd's default) had the core taken away
 * and is left out and counted, and the figure is the mean of the others.
 * (The fastest of many short rounds would be lower than any mean on a
 * machine whose speed varies from one millisecond to the next, and set
 * beside dpsecd's mean it would make dpsec look slower than it is.) */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include <intel-ipsec-mb.h>

#include "dp_burst.h"
#include "dpsec_opt.h"

#define MAX_LEN 9216
#define WARMUP_BURSTS 256
#define DEADLINE_CHECK_BURSTS 256

/* CIPHER_NONE: AH, nothing ciphered; CIPHER_NULL: ESP's NULL encryption
 * (RFC 2410), a cipher range that stays clear */
enum cipher { CIPHER_GCM, CIPHER_AES_CBC, CIPHER_DES3, CIPHER_NONE, CIPHER_CHACHA, CIPHER_NULL,
	      CIPHER_CCM, CIPHER_GMAC };

/* The MACs (HMACs, AES-XCBC, AES-CMAC): their names after "+", IMB's
 * hash, the ICV. */
struct hmac_alg {
	const char *name;
	IMB_HASH_ALG hash;
	unsigned icv;
};

static const struct hmac_alg hmacs[] = {
	{ "sha1_96", IMB_AUTH_HMAC_SHA_1, 12 },
	{ "sha256_128", IMB_AUTH_HMAC_SHA_256, 16 },
	{ "sha384_192", IMB_AUTH_HMAC_SHA_384, 24 },
	{ "sha512_256", IMB_AUTH_HMAC_SHA_512, 32 },
	{ "aesxcbc_96", IMB_AUTH_AES_XCBC, 12 },
	{ "aescmac_96", IMB_AUTH_AES_CMAC, 12 },
};

static void usage(void)
{
	fprintf(stderr, "usage: raw_crypto --alg aes128gcm16|aes192gcm16|aes256gcm16|chacha20poly1305|"
		"aes128ccm8|aes128ccm12|aes128ccm16|aes256ccm8|aes256ccm12|aes256ccm16|"
		"aes128gmac|aes192gmac|aes256gmac|"
		"aes128+sha1_96|aes192+sha1_96|aes256+sha1_96|3des+sha1_96|null+sha1_96|ah+sha1_96|...\n"
		"                  (CBC, NULL or AH + sha1_96|sha256_128|sha384_192|sha512_256|aesxcbc_96|\n"
		"                  aescmac_96) --len BYTES\n"
		"                  [--hash-extra BYTES] [--aad BYTES] [--decrypt] [--seconds S]\n"
		"                  [--stall-us U]\n");
	exit(2);
}

/* "CIPHER+INTEGRITY" or a combined mode's name: the cipher, its key bytes,
 * the HMAC; a combined mode's tag length into *tag. */
static int parse_alg(const char *s, enum cipher *c, unsigned *key_len, const struct hmac_alg **hmac,
		     unsigned *tag)
{
	struct named_cipher { const char *name; enum cipher c; unsigned key_len, tag; };
	static const struct named_cipher combined[] = {
		{ "aes128gcm16", CIPHER_GCM, 16, 16 }, { "aes192gcm16", CIPHER_GCM, 24, 16 },
		{ "aes256gcm16", CIPHER_GCM, 32, 16 }, { "chacha20poly1305", CIPHER_CHACHA, 32, 16 },
		{ "aes128ccm8", CIPHER_CCM, 16, 8 }, { "aes128ccm12", CIPHER_CCM, 16, 12 },
		{ "aes128ccm16", CIPHER_CCM, 16, 16 }, { "aes256ccm8", CIPHER_CCM, 32, 8 },
		{ "aes256ccm12", CIPHER_CCM, 32, 12 }, { "aes256ccm16", CIPHER_CCM, 32, 16 },
		{ "aes128gmac", CIPHER_GMAC, 16, 16 }, { "aes192gmac", CIPHER_GMAC, 24, 16 },
		{ "aes256gmac", CIPHER_GMAC, 32, 16 },
	};
	static const struct named_cipher ciphers[] = {
		{ "aes128", CIPHER_AES_CBC, 16 }, { "aes192", CIPHER_AES_CBC, 24 },
		{ "aes256", CIPHER_AES_CBC, 32 },
		{ "3des", CIPHER_DES3, 24 }, { "ah", CIPHER_NONE, 0 }, { "null", CIPHER_NULL, 0 },
	};
	const char *plus = strchr(s, '+');

	*hmac = &hmacs[0];
	for (size_t i = 0; i < sizeof(combined) / sizeof(combined[0]); i++)
		if (strcmp(s, combined[i].name) == 0) {
			*c = combined[i].c;
			*key_len = combined[i].key_len;
			*tag = combined[i].tag;
			return 0;
		}
	if (plus == NULL)
		return -1;
	*hmac = NULL;
	for (size_t i = 0; i < sizeof(hmacs) / sizeof(hmacs[0]); i++)
		if (strcmp(plus + 1, hmacs[i].name) == 0)
			*hmac = &hmacs[i];
	if (*hmac == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		if (strlen(ciphers[i].name) == (size_t)(plus - s) &&
		    strncmp(s, ciphers[i].name, (size_t)(plus - s)) == 0) {
			*c = ciphers[i].c;
			*key_len = ciphers[i].key_len;
			return 0;
		}
	return -1;
}

struct raw_opts {
	const char *alg_name;
	enum cipher cipher;
	const struct hmac_alg *hmac;
	unsigned key_len, len, hash_extra, aad_len, tag_len;
	double seconds;
	double stall_us;
	int decrypt;
};

/* The SA's keys, expanded once, and the buffers of one burst. */
struct raw_state {
	struct gcm_key_data gcm_key __attribute__((aligned(64)));
	uint8_t chacha_key[32];
	struct gcm_context_data gcm_ctx;
	uint32_t enc_keys[60] __attribute__((aligned(16)));
	uint32_t dec_keys[60] __attribute__((aligned(16)));
	uint8_t des_ks[3][128] __attribute__((aligned(16)));
	const void *des_ks_ptr[3];
	uint8_t ipad[64] __attribute__((aligned(16)));
	uint8_t opad[64] __attribute__((aligned(16)));
	uint32_t mac_ks[44] __attribute__((aligned(16))); /* XCBC's K1, CMAC's key: schedules */
	uint32_t mac_scratch[44] __attribute__((aligned(16)));
	uint8_t mac_sub[2][16] __attribute__((aligned(16))); /* XCBC's K2, K3; CMAC's subkeys */
	uint8_t bufs[DP_BURST][MAX_LEN + 64] __attribute__((aligned(64)));
	uint8_t ivs[DP_BURST][16], aads[DP_BURST][16], tags[DP_BURST][32];
};

/* A positive number of at most max (seconds, microseconds), or usage(). */
static double parse_positive(const char *opt, const char *arg, double max)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || *end != '\0' || !(v > 0 && v <= max)) {
		fprintf(stderr, "raw_crypto: %s: expected a number in (0, %g], got \"%s\"\n", opt, max, arg);
		exit(2);
	}
	return v;
}

static unsigned parse_bytes(const char *opt, const char *arg, unsigned max)
{
	uint32_t v;

	if (dpsec_opt_u32("raw_crypto", opt, arg, 0, max, &v) < 0)
		exit(2);
	return v;
}

static void parse_opts(int argc, char **argv, struct raw_opts *o)
{
	*o = (struct raw_opts){ .key_len = 16, .aad_len = 8, .seconds = 0.5, .stall_us = 250 };
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--alg") == 0 && i + 1 < argc)
			o->alg_name = argv[++i];
		else if (strcmp(argv[i], "--len") == 0 && i + 1 < argc)
			o->len = parse_bytes("--len", argv[++i], MAX_LEN);
		else if (strcmp(argv[i], "--hash-extra") == 0 && i + 1 < argc)
			o->hash_extra = parse_bytes("--hash-extra", argv[++i], MAX_LEN);
		else if (strcmp(argv[i], "--aad") == 0 && i + 1 < argc)
			o->aad_len = parse_bytes("--aad", argv[++i], 16);
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			o->seconds = parse_positive("--seconds", argv[++i], 3600);
		else if (strcmp(argv[i], "--stall-us") == 0 && i + 1 < argc)
			o->stall_us = parse_positive("--stall-us", argv[++i], 1e6);
		else if (strcmp(argv[i], "--decrypt") == 0)
			o->decrypt = 1;
		else
			usage();
	}
	if (o->alg_name == NULL ||
	    parse_alg(o->alg_name, &o->cipher, &o->key_len, &o->hmac, &o->tag_len) != 0 ||
	    (o->len == 0) != (o->cipher == CIPHER_NONE) || o->len + o->hash_extra > MAX_LEN)
		usage();
	if ((o->cipher == CIPHER_AES_CBC && o->len % 16 != 0) ||
	    (o->cipher == CIPHER_DES3 && o->len % 8 != 0) || (o->cipher == CIPHER_NULL && o->len % 4 != 0)) {
		fprintf(stderr, "raw_crypto: --len must be a multiple of the cipher's block (NULL: 4)\n");
		exit(2);
	}
	if (o->cipher == CIPHER_GMAC && o->hash_extra < 8u + o->aad_len) {
		fprintf(stderr, "raw_crypto: AES-GMAC authenticates the AAD and the 8-byte IV before "
			"--len: --hash-extra must be at least 8 + --aad\n");
		exit(2);
	}
}

static void hmac_pads(IMB_MGR *mgr, const struct raw_opts *o, const uint8_t *key, struct raw_state *st)
{
	uint8_t pad[128]; /* a block: SHA-384/512's; SHA-1/256 read the first 64 */

	for (int which = 0; which < 2; which++) {
		uint8_t *state = which == 0 ? st->ipad : st->opad;

		memset(pad, which == 0 ? 0x36 : 0x5c, sizeof(pad));
		for (int i = 0; i < 20; i++)
			pad[i] ^= key[i];
		switch (o->hmac->hash) {
		case IMB_AUTH_HMAC_SHA_1: IMB_SHA1_ONE_BLOCK(mgr, pad, state); break;
		case IMB_AUTH_HMAC_SHA_256: IMB_SHA256_ONE_BLOCK(mgr, pad, state); break;
		case IMB_AUTH_HMAC_SHA_384: IMB_SHA384_ONE_BLOCK(mgr, pad, state); break;
		default: IMB_SHA512_ONE_BLOCK(mgr, pad, state); break;
		}
	}
}

/* XCBC's and CMAC's keyed state, as ofl_cpu.c prepares it. */
static void aes_mac_keys(IMB_MGR *mgr, const struct raw_opts *o, const uint8_t *key,
			 struct raw_state *st)
{
	if (o->hmac->hash == IMB_AUTH_AES_XCBC) {
		IMB_AES_XCBC_KEYEXP(mgr, key, st->mac_ks, st->mac_sub[0], st->mac_sub[1]);
		return;
	}
	IMB_AES_KEYEXP_128(mgr, key, st->mac_ks, st->mac_scratch);
	IMB_AES_CMAC_SUBKEY_GEN_128(mgr, st->mac_ks, st->mac_sub[0], st->mac_sub[1]);
}

static void prepare(IMB_MGR *mgr, const struct raw_opts *o, struct raw_state *st)
{
	static const uint8_t key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
					 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };

	if (o->cipher == CIPHER_GCM || o->cipher == CIPHER_GMAC) {
		if (o->key_len == 16)
			IMB_AES128_GCM_PRE(mgr, key, &st->gcm_key);
		else if (o->key_len == 24)
			IMB_AES192_GCM_PRE(mgr, key, &st->gcm_key);
		else
			IMB_AES256_GCM_PRE(mgr, key, &st->gcm_key);
	} else if (o->cipher == CIPHER_CHACHA) {
		memcpy(st->chacha_key, key, sizeof(st->chacha_key));
	} else if (o->cipher == CIPHER_CCM) {
		if (o->key_len == 16)
			IMB_AES_KEYEXP_128(mgr, key, st->enc_keys, st->dec_keys);
		else
			IMB_AES_KEYEXP_256(mgr, key, st->enc_keys, st->dec_keys);
	} else {
		if (o->cipher == CIPHER_DES3)
			for (int i = 0; i < 3; i++) {
				des_key_schedule((uint64_t *)st->des_ks[i], key + 8 * i);
				st->des_ks_ptr[i] = st->des_ks[i];
			}
		else if (o->key_len == 16)
			IMB_AES_KEYEXP_128(mgr, key, st->enc_keys, st->dec_keys);
		else if (o->key_len == 24)
			IMB_AES_KEYEXP_192(mgr, key, st->enc_keys, st->dec_keys);
		else if (o->key_len == 32)
			IMB_AES_KEYEXP_256(mgr, key, st->enc_keys, st->dec_keys);
		if (o->hmac->hash == IMB_AUTH_AES_XCBC || o->hmac->hash == IMB_AUTH_AES_CMAC)
			aes_mac_keys(mgr, o, key, st);
		else
			hmac_pads(mgr, o, key, st);
	}
	for (int b = 0; b < DP_BURST; b++) {
		memset(st->bufs[b], b + 1, sizeof(st->bufs[b]));
		memset(st->ivs[b], b, sizeof(st->ivs[b]));
		memset(st->aads[b], 0x5a, sizeof(st->aads[b]));
	}
}

/* ChaCha20-Poly1305 as ofl_cpu.c fills it: the 12-byte nonce, the AAD,
 * Poly1305 over the cipher range. */
static void fill_chacha(IMB_JOB *j, const struct raw_opts *o, struct raw_state *st, int b)
{
	j->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
	j->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
	j->enc_keys = st->chacha_key;
	j->dec_keys = st->chacha_key;
	j->iv_len_in_bytes = 12;
	j->u.CHACHA20_POLY1305.aad = st->aads[b];
	j->u.CHACHA20_POLY1305.aad_len_in_bytes = o->aad_len;
	j->u.CHACHA20_POLY1305.ctx = NULL;
	j->hash_start_src_offset_in_bytes = o->hash_extra;
	j->msg_len_to_hash_in_bytes = o->len;
	j->auth_tag_output_len_in_bytes = 16;
}

/* AES-CCM as ofl_cpu.c fills it: the 11-byte nonce, the AAD, the CBC-MAC
 * over the plaintext (before encrypting, after decrypting). */
static void fill_ccm(IMB_JOB *j, const struct raw_opts *o, struct raw_state *st, int b)
{
	j->cipher_mode = IMB_CIPHER_CCM;
	j->hash_alg = IMB_AUTH_AES_CCM;
	j->chain_order = o->decrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
	j->enc_keys = st->enc_keys;
	j->dec_keys = st->enc_keys;
	j->iv_len_in_bytes = 11;
	j->u.CCM.aad = st->aads[b];
	j->u.CCM.aad_len_in_bytes = o->aad_len;
	j->hash_start_src_offset_in_bytes = o->hash_extra;
	j->msg_len_to_hash_in_bytes = o->len;
	j->auth_tag_output_len_in_bytes = o->tag_len;
}

/* Describes buffer b's job as dpsecd would: in place, after hash_extra
 * bytes that the MAC covers (ESP header and IV). */
static void fill_job(IMB_JOB *j, const struct raw_opts *o, struct raw_state *st, int b)
{
	uint8_t *buf = st->bufs[b];

	j->cipher_direction = o->decrypt ? IMB_DIR_DECRYPT : IMB_DIR_ENCRYPT;
	j->chain_order = o->decrypt ? IMB_ORDER_HASH_CIPHER : IMB_ORDER_CIPHER_HASH;
	j->key_len_in_bytes = o->key_len;
	j->src = buf;
	j->dst = buf + o->hash_extra;
	j->cipher_start_src_offset_in_bytes = o->hash_extra;
	j->msg_len_to_cipher_in_bytes = o->len;
	j->iv = st->ivs[b];
	j->auth_tag_output = st->tags[b];
	j->user_data = buf;
	if (o->cipher == CIPHER_CHACHA) {
		fill_chacha(j, o, st, b);
		return;
	}
	if (o->cipher == CIPHER_CCM) {
		fill_ccm(j, o, st, b);
		return;
	}
	if (o->cipher == CIPHER_DES3) {
		j->cipher_mode = IMB_CIPHER_DES3;
		j->enc_keys = st->des_ks_ptr;
		j->dec_keys = st->des_ks_ptr;
		j->iv_len_in_bytes = 8;
	} else if (o->cipher == CIPHER_AES_CBC) {
		j->cipher_mode = IMB_CIPHER_CBC;
		j->enc_keys = st->enc_keys;
		j->dec_keys = st->dec_keys;
		j->iv_len_in_bytes = 16;
	} else { /* AH: the MAC of the whole packet; NULL: of the ESP header and clear payload */
		j->cipher_mode = IMB_CIPHER_NULL;
		j->key_len_in_bytes = 0;
		j->iv_len_in_bytes = 0;
	}
	j->hash_alg = o->hmac->hash;
	if (o->hmac->hash == IMB_AUTH_AES_XCBC) {
		j->u.XCBC._k1_expanded = st->mac_ks;
		j->u.XCBC._k2 = st->mac_sub[0];
		j->u.XCBC._k3 = st->mac_sub[1];
	} else if (o->hmac->hash == IMB_AUTH_AES_CMAC) {
		j->u.CMAC._key_expanded = st->mac_ks;
		j->u.CMAC._skey1 = st->mac_sub[0];
		j->u.CMAC._skey2 = st->mac_sub[1];
	} else {
		j->u.HMAC._hashed_auth_key_xor_ipad = st->ipad;
		j->u.HMAC._hashed_auth_key_xor_opad = st->opad;
	}
	j->hash_start_src_offset_in_bytes = 0;
	j->msg_len_to_hash_in_bytes = o->hash_extra + o->len;
	j->auth_tag_output_len_in_bytes = o->hmac->icv;
}

/* One burst of DP_BURST jobs (CBC + HMAC, ChaCha20-Poly1305, AES-CCM, AH), submitted unchecked as dpsecd
 * submits them, and flushed; returns the jobs that did not complete. */
static long run_job_burst(IMB_MGR *mgr, const struct raw_opts *o, struct raw_state *st)
{
	IMB_JOB *jobs[DP_BURST];
	uint32_t done;
	long failed = 0;

	if (IMB_GET_NEXT_BURST(mgr, DP_BURST, jobs) < DP_BURST) {
		fprintf(stderr, "raw_crypto: IMB_GET_NEXT_BURST gave too few jobs\n");
		return -1;
	}
	for (int b = 0; b < DP_BURST; b++)
		fill_job(jobs[b], o, st, b);
	done = IMB_SUBMIT_BURST_NOCHECK(mgr, DP_BURST, jobs);
	for (uint32_t k = 0; k < done; k++)
		failed += jobs[k]->status != IMB_STATUS_COMPLETED;
	while (done < DP_BURST) {
		uint32_t k = IMB_FLUSH_BURST(mgr, DP_BURST - done, jobs);

		if (k == 0)
			break;
		for (uint32_t x = 0; x < k; x++)
			failed += jobs[x]->status != IMB_STATUS_COMPLETED;
		done += k;
	}
	return failed;
}

/* One burst of DP_BURST GCM buffers, each one call of IMB's direct GCM API
 * (in place, after the ESP header and IV), as dpsecd runs GCM. */
static long run_gcm_burst(IMB_MGR *mgr, const struct raw_opts *o, struct raw_state *st)
{
	aes_gcm_enc_dec_t fn;

	if (o->key_len == 16)
		fn = o->decrypt ? mgr->gcm128_dec : mgr->gcm128_enc;
	else if (o->key_len == 24)
		fn = o->decrypt ? mgr->gcm192_dec : mgr->gcm192_enc;
	else
		fn = o->decrypt ? mgr->gcm256_dec : mgr->gcm256_enc;
	for (int b = 0; b < DP_BURST; b++) {
		uint8_t *data = st->bufs[b] + o->hash_extra;

		fn(&st->gcm_key, &st->gcm_ctx, data, data, o->len, st->ivs[b], st->aads[b], o->aad_len,
		   st->tags[b], 16);
	}
	return 0;
}

/* One burst of DP_BURST AES-GMAC buffers as dpsecd's engine runs them:
 * one direct GCM call with nothing to encrypt, over the AAD, the 8-byte
 * IV and the payload end to end (the AAD the bytes before the IV here). */
static long run_gmac_burst(IMB_MGR *mgr, const struct raw_opts *o, struct raw_state *st)
{
	aes_gcm_enc_dec_t fn = o->key_len == 16	  ? mgr->gcm128_enc
			       : o->key_len == 24 ? mgr->gcm192_enc
						  : mgr->gcm256_enc;

	for (int b = 0; b < DP_BURST; b++) {
		uint8_t *aad = st->bufs[b] + o->hash_extra - 8 - o->aad_len;

		fn(&st->gcm_key, &st->gcm_ctx, aad, aad, 0, st->ivs[b], aad, o->aad_len + 8 + o->len,
		   st->tags[b], 16);
	}
	return 0;
}

static long run_burst(IMB_MGR *mgr, const struct raw_opts *o, struct raw_state *st)
{
	if (o->cipher == CIPHER_GCM)
		return run_gcm_burst(mgr, o, st);
	return o->cipher == CIPHER_GMAC ? run_gmac_burst(mgr, o, st) : run_job_burst(mgr, o, st);
}

static double monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The TSC's rate, from 20 ms of it against the monotonic clock. */
static double tsc_hz(void)
{
	double t0 = monotonic_seconds(), t;
	uint64_t c0 = __rdtsc();

	do
		t = monotonic_seconds();
	while (t - t0 < 0.02);
	return (double)(__rdtsc() - c0) / (t - t0);
}

struct raw_result {
	double hz;
	uint64_t steady_cycles, steady_buffers, stalled_bursts;
};

/* Times every burst for o->seconds after a warm-up; the bursts longer than
 * the stall limit are counted apart. Returns 0, or -1 (said why) if jobs
 * failed or no burst ran uninterrupted. */
static int measure(IMB_MGR *mgr, const struct raw_opts *o, struct raw_state *st, struct raw_result *r)
{
	uint64_t stall, end;

	*r = (struct raw_result){ .hz = tsc_hz() };
	stall = (uint64_t)(o->stall_us * r->hz / 1e6);
	for (int b = 0; b < WARMUP_BURSTS; b++)
		if (run_burst(mgr, o, st) != 0)
			goto failed;
	end = __rdtsc() + (uint64_t)(o->seconds * r->hz);
	do {
		for (int b = 0; b < DEADLINE_CHECK_BURSTS; b++) {
			uint64_t t0 = __rdtsc(), dt;

			if (run_burst(mgr, o, st) != 0)
				goto failed;
			dt = __rdtsc() - t0;
			if (dt > stall) {
				r->stalled_bursts++;
				continue;
			}
			r->steady_cycles += dt;
			r->steady_buffers += DP_BURST;
		}
	} while (__rdtsc() < end);
	if (r->steady_buffers > 0)
		return 0;
	fprintf(stderr, "raw_crypto: no burst ran uninterrupted\n");
	return -1;
failed:
	fprintf(stderr, "raw_crypto: jobs failed\n");
	return -1;
}

int main(int argc, char **argv)
{
	static struct raw_state st;
	struct raw_result r;
	struct raw_opts o;
	IMB_ARCH arch = IMB_ARCH_NONE;
	IMB_MGR *mgr;

	parse_opts(argc, argv, &o);
	mgr = alloc_mb_mgr(0);
	if (mgr == NULL) {
		fprintf(stderr, "raw_crypto: alloc_mb_mgr failed\n");
		return 1;
	}
	init_mb_mgr_auto(mgr, &arch);
	if (imb_get_errno(mgr) != 0) {
		fprintf(stderr, "raw_crypto: init_mb_mgr_auto: %s\n", imb_get_strerror(imb_get_errno(mgr)));
		return 1;
	}
	prepare(mgr, &o, &st);
	if (measure(mgr, &o, &st, &r) != 0)
		return 1;
	printf("{\"alg\": \"%s\", \"len\": %u, \"hash_extra\": %u, \"aad\": %u, \"decrypt\": %s, "
	       "\"buffers\": %" PRIu64 ", \"cycles\": %" PRIu64 ", \"cycles_per_buffer\": %.2f, "
	       "\"stalled_bursts\": %" PRIu64 ", \"tsc_hz\": %.0f, \"imb_version\": \"%s\", "
	       "\"arch\": %d, \"api\": \"%s\", \"burst\": %d}\n",
	       o.alg_name, o.len, o.hash_extra,
	       o.cipher == CIPHER_GCM || o.cipher == CIPHER_CHACHA || o.cipher == CIPHER_CCM ||
			       o.cipher == CIPHER_GMAC
		       ? o.aad_len
		       : 0,
	       o.decrypt ? "true" : "false", r.steady_buffers, r.steady_cycles,
	       (double)r.steady_cycles / (double)r.steady_buffers, r.stalled_bursts, r.hz,
	       imb_get_version_str(), (int)arch,
	       o.cipher == CIPHER_GCM	 ? "gcm direct"
	       : o.cipher == CIPHER_GMAC ? "gcm direct, aad only"
					 : "job burst unchecked",
	       DP_BURST);
	free_mb_mgr(mgr);
	return 0;
}
