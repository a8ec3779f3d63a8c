/* raw_crypto.c - the raw crypto limit for bench/run: intel-ipsec-mb alone,
 * with no packet I/O, running the ESP jobs dpsecd would run for one frame
 * size (bursts of 32, in place, the SA's keys expanded once), and printing
 * the TSC cycles per buffer as one JSON line.
 *
 *   raw_crypto --alg aes128gcm16 --len 44 [--aad 8] [--decrypt] [--iters N]
 *   raw_crypto --alg aes128+sha1_96 --len 48 --hash-extra 24 ...
 *
 * --len is the encrypted length (ESP payload + padding + trailer; a multiple
 * of 16 for CBC), --hash-extra the bytes HMAC covers before the ciphertext
 * (ESP header + IV: 8 + 16 for CBC). GCM jobs carry an 8-byte AAD (SPI and
 * sequence number) and a 16-byte tag; CBC jobs chain HMAC-SHA1-96 or
 * HMAC-SHA-256-128 (12- or 16-byte tags). Decryption does not verify tags:
 * intel-ipsec-mb only computes them, as in dpsecd. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include <intel-ipsec-mb.h>

#define BURST 32
#define MAX_LEN 9216

enum alg { ALG_GCM, ALG_CBC_SHA1, ALG_CBC_SHA256 };

static void usage(void)
{
	fprintf(stderr, "usage: raw_crypto --alg aes128gcm16|aes256gcm16|aes128+sha1_96|"
		"aes128+sha256_128|aes256+sha1_96|aes256+sha256_128 --len BYTES\n"
		"                  [--hash-extra BYTES] [--aad BYTES] [--decrypt] [--iters N]\n");
	exit(2);
}

static int parse_alg(const char *s, enum alg *a, unsigned *key_len)
{
	if (strcmp(s, "aes128gcm16") == 0) { *a = ALG_GCM; *key_len = 16; return 0; }
	if (strcmp(s, "aes256gcm16") == 0) { *a = ALG_GCM; *key_len = 32; return 0; }
	if (strcmp(s, "aes128+sha1_96") == 0) { *a = ALG_CBC_SHA1; *key_len = 16; return 0; }
	if (strcmp(s, "aes256+sha1_96") == 0) { *a = ALG_CBC_SHA1; *key_len = 32; return 0; }
	if (strcmp(s, "aes128+sha256_128") == 0) { *a = ALG_CBC_SHA256; *key_len = 16; return 0; }
	if (strcmp(s, "aes256+sha256_128") == 0) { *a = ALG_CBC_SHA256; *key_len = 32; return 0; }
	return -1;
}

int main(int argc, char **argv)
{
	const char *alg_name = NULL;
	enum alg alg = ALG_GCM;
	unsigned key_len = 16, len = 0, hash_extra = 0, aad_len = 8;
	unsigned long iters = 200000;
	int decrypt = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--alg") == 0 && i + 1 < argc)
			alg_name = argv[++i];
		else if (strcmp(argv[i], "--len") == 0 && i + 1 < argc)
			len = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--hash-extra") == 0 && i + 1 < argc)
			hash_extra = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--aad") == 0 && i + 1 < argc)
			aad_len = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc)
			iters = strtoul(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--decrypt") == 0)
			decrypt = 1;
		else
			usage();
	}
	if (alg_name == NULL || parse_alg(alg_name, &alg, &key_len) != 0 || len == 0 ||
	    len + hash_extra > MAX_LEN || aad_len > 16 || iters == 0)
		usage();
	if (alg != ALG_GCM && len % 16 != 0) {
		fprintf(stderr, "raw_crypto: --len must be a multiple of 16 for CBC\n");
		return 2;
	}

	IMB_MGR *mgr = alloc_mb_mgr(0);
	IMB_ARCH arch = IMB_ARCH_NONE;

	if (mgr == NULL) {
		fprintf(stderr, "raw_crypto: alloc_mb_mgr failed\n");
		return 1;
	}
	init_mb_mgr_auto(mgr, &arch);
	if (imb_get_errno(mgr) != 0) {
		fprintf(stderr, "raw_crypto: init_mb_mgr_auto: %s\n", imb_get_strerror(imb_get_errno(mgr)));
		return 1;
	}

	static uint8_t key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
	static struct gcm_key_data gcm_key __attribute__((aligned(64)));
	static uint32_t enc_keys[60] __attribute__((aligned(16)));
	static uint32_t dec_keys[60] __attribute__((aligned(16)));
	static uint8_t ipad[32] __attribute__((aligned(16)));
	static uint8_t opad[32] __attribute__((aligned(16)));
	static uint8_t bufs[BURST][MAX_LEN + 64] __attribute__((aligned(64)));
	static uint8_t ivs[BURST][16], aads[BURST][16], tags[BURST][32];

	if (alg == ALG_GCM) {
		if (key_len == 16)
			IMB_AES128_GCM_PRE(mgr, key, &gcm_key);
		else
			IMB_AES256_GCM_PRE(mgr, key, &gcm_key);
	} else {
		uint8_t pad[64];

		if (key_len == 16)
			IMB_AES_KEYEXP_128(mgr, key, enc_keys, dec_keys);
		else
			IMB_AES_KEYEXP_256(mgr, key, enc_keys, dec_keys);
		memset(pad, 0x36, sizeof(pad));
		for (int i = 0; i < 20; i++)
			pad[i] ^= key[i];
		if (alg == ALG_CBC_SHA1)
			IMB_SHA1_ONE_BLOCK(mgr, pad, ipad);
		else
			IMB_SHA256_ONE_BLOCK(mgr, pad, ipad);
		memset(pad, 0x5c, sizeof(pad));
		for (int i = 0; i < 20; i++)
			pad[i] ^= key[i];
		if (alg == ALG_CBC_SHA1)
			IMB_SHA1_ONE_BLOCK(mgr, pad, opad);
		else
			IMB_SHA256_ONE_BLOCK(mgr, pad, opad);
	}
	for (int b = 0; b < BURST; b++) {
		memset(bufs[b], b + 1, sizeof(bufs[b]));
		memset(ivs[b], b, sizeof(ivs[b]));
		memset(aads[b], 0x5a, sizeof(aads[b]));
	}

	unsigned long bursts = (iters + BURST - 1) / BURST;
	unsigned long warm = bursts / 10 + 1;
	uint64_t t0 = 0, failed = 0;

	for (unsigned long it = 0; it < warm + bursts; it++) {
		IMB_JOB *jobs[BURST];
		uint32_t got, done;

		if (it == warm)
			t0 = __rdtsc();
		got = IMB_GET_NEXT_BURST(mgr, BURST, jobs);
		if (got < BURST) {
			fprintf(stderr, "raw_crypto: IMB_GET_NEXT_BURST gave %u jobs\n", got);
			return 1;
		}
		for (int b = 0; b < BURST; b++) {
			IMB_JOB *j = jobs[b];
			uint8_t *buf = bufs[b];
			unsigned coff = hash_extra;

			j->cipher_direction = decrypt ? IMB_DIR_DECRYPT : IMB_DIR_ENCRYPT;
			j->chain_order = decrypt ? IMB_ORDER_HASH_CIPHER : IMB_ORDER_CIPHER_HASH;
			j->key_len_in_bytes = key_len;
			j->src = buf;
			j->dst = buf + coff;
			j->cipher_start_src_offset_in_bytes = coff;
			j->msg_len_to_cipher_in_bytes = len;
			j->iv = ivs[b];
			j->auth_tag_output = tags[b];
			j->user_data = buf;
			if (alg == ALG_GCM) {
				j->cipher_mode = IMB_CIPHER_GCM;
				j->hash_alg = IMB_AUTH_AES_GMAC;
				j->enc_keys = &gcm_key;
				j->dec_keys = &gcm_key;
				j->iv_len_in_bytes = 12;
				j->u.GCM.aad = aads[b];
				j->u.GCM.aad_len_in_bytes = aad_len;
				j->hash_start_src_offset_in_bytes = coff;
				j->msg_len_to_hash_in_bytes = len;
				j->auth_tag_output_len_in_bytes = 16;
			} else {
				j->cipher_mode = IMB_CIPHER_CBC;
				j->hash_alg = alg == ALG_CBC_SHA1 ? IMB_AUTH_HMAC_SHA_1 : IMB_AUTH_HMAC_SHA_256;
				j->enc_keys = enc_keys;
				j->dec_keys = dec_keys;
				j->iv_len_in_bytes = 16;
				j->u.HMAC._hashed_auth_key_xor_ipad = ipad;
				j->u.HMAC._hashed_auth_key_xor_opad = opad;
				j->hash_start_src_offset_in_bytes = 0;
				j->msg_len_to_hash_in_bytes = hash_extra + len;
				j->auth_tag_output_len_in_bytes = alg == ALG_CBC_SHA1 ? 12 : 16;
			}
		}
		done = IMB_SUBMIT_BURST(mgr, BURST, jobs);
		if (done == 0 && imb_get_errno(mgr) != 0) {
			fprintf(stderr, "raw_crypto: IMB_SUBMIT_BURST: %s\n",
				imb_get_strerror(imb_get_errno(mgr)));
			return 1;
		}
		for (uint32_t k = 0; k < done; k++)
			failed += jobs[k]->status != IMB_STATUS_COMPLETED;
		while (done < BURST) {
			uint32_t k = IMB_FLUSH_BURST(mgr, BURST - done, jobs);

			if (k == 0)
				break;
			for (uint32_t x = 0; x < k; x++)
				failed += jobs[x]->status != IMB_STATUS_COMPLETED;
			done += k;
		}
	}
	uint64_t cycles = __rdtsc() - t0;
	uint64_t n = (uint64_t)bursts * BURST;

	if (failed != 0) {
		fprintf(stderr, "raw_crypto: %" PRIu64 " jobs did not complete\n", failed);
		return 1;
	}
	printf("{\"alg\": \"%s\", \"len\": %u, \"hash_extra\": %u, \"aad\": %u, \"decrypt\": %s, "
	       "\"buffers\": %" PRIu64 ", \"cycles\": %" PRIu64 ", \"cycles_per_buffer\": %.2f, "
	       "\"imb_version\": \"%s\", \"arch\": %d}\n",
	       alg_name, len, hash_extra, alg == ALG_GCM ? aad_len : 0, decrypt ? "true" : "false",
	       n, cycles, (double)cycles / (double)n, imb_get_version_str(), (int)arch);
	free_mb_mgr(mgr);
	return 0;
}
