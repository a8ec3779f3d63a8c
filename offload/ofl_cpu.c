/* ofl_cpu.c - the CPU crypto engine on intel-ipsec-mb: one IMB_MGR per
 * worker. An SA's keys are expanded once (GCM key and hash-key tables, AES
 * or DES key schedules, HMAC inner/outer states, AES-XCBC and AES-CMAC
 * schedules and subkeys; ChaCha20's key is used as it is). The fast path
 * runs each GCM op, and each AES-GMAC op, with one call of IMB's direct
 * GCM API, and the other ops
 * (CBC + MAC, ChaCha20-Poly1305, AES-CCM, AH's MAC) as IMB jobs, one burst
 * submission and flushes until every job is back. An AES-128-CTR
 * keystream in the same manager supplies the CBC IVs.
 *
 * Why not jobs for everything, checked by IMB: on this project's machine a
 * 52-byte GCM op costs about 100 cycles as a checked job, 74 as an
 * unchecked one and 58 as a direct call (bench/raw_crypto); IMB's check of
 * every job field is a quarter of the small packet's crypto. So jobs go in
 * unchecked (IMB_SUBMIT_BURST_NOCHECK), and what IMB would have refused is
 * refused here first: an op's lengths are checked against the rules below
 * (job_op_valid), everything else a job carries comes from a template that
 * ofl_cpu_sa_prepare checked.
 *
 * IMB facts this relies on (1.3, mb_mgr_job_check.h, job_api_*.h):
 * - dst gets the cipher output with no offset applied, src is read from
 *   src + cipher offset: in place means dst = buf + cipher_off.
 * - HMAC tags must be the IPsec-truncated or the full length: 12 or 20
 *   bytes for SHA-1, 16 or 32 for SHA-256.
 * - CBC lengths must be non-zero multiples of 16, HMAC lengths 1..65534.
 * - IMB_AUTH_AES_XCBC wants a 12- or 16-byte tag, K1's AES-128 encryption
 *   schedule and K2, K3 (IMB_AES_XCBC_KEYEXP); IMB_AUTH_AES_CMAC a 1..16-
 *   byte tag, the key's encryption schedule and the two subkeys
 *   (IMB_AES_CMAC_SUBKEY_GEN_128); both hash at most 65534 bytes.
 * - IMB_CIPHER_DES3 wants key_len_in_bytes 24, an 8-byte IV, lengths that
 *   are non-zero multiples of 8, and enc_keys = dec_keys = an array of the
 *   three DES key schedules' addresses (the same schedules both ways).
 * - The direct GCM calls take any length, in place, a 12-byte nonce, any
 *   AAD length and a 1..16-byte tag; they only refuse NULL pointers.
 * - A direct GCM call with nothing to encrypt (length 0) computes GMAC's
 *   tag over its AAD (checked against OpenSSL's GCM with an empty
 *   plaintext in test_crypto_burst).
 * - IMB_CIPHER_CHACHA20_POLY1305 wants key_len_in_bytes 32, enc_keys the
 *   key itself, a 12-byte IV (the nonce), a 16-byte tag and
 *   IMB_AUTH_CHACHA20_POLY1305; it hashes the cipher range and the AAD.
 * - IMB_CIPHER_CCM wants IMB_AUTH_AES_CCM, key_len_in_bytes 16 or 32 (no
 *   192), enc_keys the AES encryption schedule (both ways), a 7..13-byte
 *   nonce as the IV, at most 46 bytes of AAD, an even tag of 4..16 bytes,
 *   the hash range equal to the cipher range, and the chain order of its
 *   CBC-MAC: over the plaintext, so hash then cipher encrypting and cipher
 *   then hash decrypting. */

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ofl_engine.h"

#define HMAC_BLOCK_MAX 128      /* SHA-384 and SHA-512's block; SHA-1 and SHA-256's is 64 */
#define GCM_NONCE_LEN 12        /* salt || IV, RFC 4106 §4 */
#define CCM_SALT_LEN 3          /* RFC 4309 §4: the nonce is salt (3) || IV (8) */
#define CCM_NONCE_LEN 11
#define GMAC_AAD_MAX 12         /* SPI || high || low sequence number, RFC 4543 §3 */
#define RAND_CHUNK 4096u        /* keystream bytes per CTR job */
#define AES_BLOCK 16
#define DES_BLOCK 8
#define DES3_KEY_LEN 24         /* K1 || K2 || K3, RFC 2451 §2.2 */
#define MAC_MAX_LEN 65534u      /* the most an IMB HMAC, XCBC or CMAC job hashes */
#define AES_MAC_KEY_LEN 16      /* XCBC and CMAC: AES-128 (RFC 3566 §2.1, RFC 4494 §2) */

static_assert(offsetof(struct ofl_sa_crypto, k.cbc.des_ks_ptr) + 3 * sizeof(void *) <=
		      offsetof(struct ofl_sa_crypto, k.cbc.ipad),
	      "the 3DES key schedules share the AES ones' room: the template does not grow");
static_assert(sizeof(((struct ofl_sa_crypto *)0)->k.cbc) <= sizeof(struct gcm_key_data),
	      "the CBC key schedules and a MAC's keys fit the GCM tables' room: the template does not grow");
static_assert(OFL_MAX_BURST <= IMB_MAX_BURST_SIZE, "a job burst is at most what IMB takes at once");

struct ofl_cpu {
	IMB_MGR *mgr;
	struct gcm_context_data gcm_ctx; /* scratch of one direct GCM call */
	uint8_t ctr[AES_BLOCK] __attribute__((aligned(16))); /* big-endian counter block */
	uint32_t rnd_keys[60] __attribute__((aligned(16)));  /* AES-128 schedule, CSPRNG */
};

/* --- CSPRNG: AES-128-CTR under a key from getrandom() --------------------- */

static int fill_os_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t r = getrandom(p, len, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* Adds n to the 128-bit big-endian counter block. */
static void ctr_add(uint8_t ctr[AES_BLOCK], uint64_t n)
{
	for (int i = AES_BLOCK - 1; i >= 0 && n != 0; i--) {
		uint64_t s = (uint64_t)ctr[i] + (n & 0xff);

		ctr[i] = (uint8_t)s;
		n = (n >> 8) + (s >> 8);
	}
}

/* Moves the counter to the next 2^32 boundary when the job's blocks would
 * wrap its low word: keystream blocks then never repeat, whatever counter
 * width IMB increments. */
static void ctr_reserve(uint8_t ctr[AES_BLOCK], uint32_t blocks)
{
	uint64_t low = (uint64_t)ctr[12] << 24 | (uint64_t)ctr[13] << 16 |
		       (uint64_t)ctr[14] << 8 | ctr[15];

	if (low + blocks > UINT64_C(1) << 32)
		ctr_add(ctr, (UINT64_C(1) << 32) - low);
}

static int rand_init(struct ofl_cpu *e)
{
	uint8_t key[16], dec[15 * AES_BLOCK] __attribute__((aligned(16)));
	int rc;

	rc = fill_os_random(key, sizeof(key));
	if (rc == 0)
		rc = fill_os_random(e->ctr, sizeof(e->ctr));
	if (rc == 0)
		IMB_AES_KEYEXP_128(e->mgr, key, e->rnd_keys, dec);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(dec, sizeof(dec));
	return rc;
}

/* One CTR job over len (<= RAND_CHUNK) zeroed bytes of buf. The manager's
 * queue is empty here (ofl_cpu_run always drains it), so the job that comes
 * back is this one. */
static bool rand_chunk(struct ofl_cpu *e, uint8_t *buf, uint32_t len)
{
	uint32_t blocks = (len + AES_BLOCK - 1) / AES_BLOCK;
	IMB_JOB *j;

	ctr_reserve(e->ctr, blocks);
	memset(buf, 0, len);
	j = IMB_GET_NEXT_JOB(e->mgr);
	memset(j, 0, sizeof(*j));
	j->cipher_mode = IMB_CIPHER_CNTR;
	j->cipher_direction = IMB_DIR_ENCRYPT;
	j->chain_order = IMB_ORDER_CIPHER_HASH;
	j->hash_alg = IMB_AUTH_NULL;
	j->enc_keys = e->rnd_keys;
	j->key_len_in_bytes = IMB_KEY_128_BYTES;
	j->src = buf;
	j->dst = buf;
	j->msg_len_to_cipher_in_bytes = len;
	j->iv = e->ctr;
	j->iv_len_in_bytes = AES_BLOCK;
	j = IMB_SUBMIT_JOB(e->mgr);
	if (j == NULL)
		j = IMB_FLUSH_JOB(e->mgr);
	ctr_add(e->ctr, blocks);
	return j != NULL && j->status == IMB_STATUS_COMPLETED;
}

void ofl_cpu_random(struct ofl_cpu *e, uint8_t *buf, uint32_t len)
{
	while (len > 0) {
		uint32_t n = len < RAND_CHUNK ? len : RAND_CHUNK;

		if (!rand_chunk(e, buf, n) && fill_os_random(buf, n) != 0) {
			fprintf(stderr, "ofl_cpu: no random bytes for IVs, giving up\n");
			abort(); /* a predictable CBC IV is worse than no packet */
		}
		buf += n;
		len -= n;
	}
}

/* --- engine life cycle ---------------------------------------------------- */

void ofl_cpu_free(struct ofl_cpu *e)
{
	if (e == NULL)
		return;
	if (e->mgr != NULL) {
		explicit_bzero(e->mgr, imb_get_mb_mgr_size()); /* lanes held HMAC states */
		free_mb_mgr(e->mgr);
	}
	explicit_bzero(e, sizeof(*e));
	free(e);
}

static int mgr_init(struct ofl_cpu *e)
{
	IMB_ARCH arch = IMB_ARCH_NONE;
	int err;

	e->mgr = alloc_mb_mgr(0);
	if (e->mgr == NULL) {
		fprintf(stderr, "ofl_cpu: intel-ipsec-mb: cannot allocate a manager\n");
		return -ENOMEM;
	}
	init_mb_mgr_auto(e->mgr, &arch);
	err = imb_get_errno(e->mgr);
	if (err != 0) {
		fprintf(stderr, "ofl_cpu: intel-ipsec-mb %s cannot run on this CPU "
			"(needs at least SSE4.2, AES-NI and PCLMULQDQ): %s\n",
			imb_get_version_str(), imb_get_strerror(err));
		return -ENODEV;
	}
	if (arch == IMB_ARCH_NOAESNI)
		fprintf(stderr, "ofl_cpu: warning: no AES-NI, intel-ipsec-mb emulates it (slow)\n");
	return 0;
}

/* Plain aligned memory, as alloc_mb_mgr() does for the IMB_MGR, so that the
 * engine also runs without the EAL. socket_id is not used: the pages land
 * on the node of the thread that first writes them (this one). */
struct ofl_cpu *ofl_cpu_create(int socket_id)
{
	struct ofl_cpu *e = NULL;
	int rc;

	(void)socket_id;
	if (posix_memalign((void **)&e, 64, sizeof(*e)) != 0) {
		fprintf(stderr, "ofl_cpu: out of memory\n");
		return NULL;
	}
	memset(e, 0, sizeof(*e));
	if (mgr_init(e) != 0)
		goto fail;
	rc = rand_init(e);
	if (rc != 0) {
		fprintf(stderr, "ofl_cpu: getrandom() failed: %s\n", strerror(-rc));
		goto fail;
	}
	return e;
fail:
	ofl_cpu_free(e);
	return NULL;
}

/* --- SA preparation ------------------------------------------------------- */

/* The hash's block: what the key is padded to (RFC 2104 §2). */
static uint32_t hmac_block(uint8_t integ_alg)
{
	return integ_alg == DPSEC_INTEG_HMAC_SHA384_192 || integ_alg == DPSEC_INTEG_HMAC_SHA512_256
		       ? 128 : 64;
}

static bool integ_ok(const struct dpsec_sa_conf *c)
{
	/* HMAC is defined for any key up to a block; the IPsec lengths
	 * (RFC 2404: 20, RFC 4868: the hash's output) are the configuration's
	 * check. XCBC and CMAC take AES-128's key and nothing else. */
	if (dpsec_integ_is_aes_mac(c->integ_alg))
		return c->integ_key_len == AES_MAC_KEY_LEN;
	return dpsec_integ_key_len(c->integ_alg) != 0 && c->integ_key_len > 0 &&
	       c->integ_key_len <= hmac_block(c->integ_alg);
}

static int check_conf(const struct ofl_cpu *e, const struct dpsec_sa_conf *c)
{
	if (e == NULL || c == NULL)
		return -EINVAL;
	if (c->protocol == DPSEC_PROTO_AH)
		return integ_ok(c) ? 0 : -EINVAL;
	if (c->enc_alg == DPSEC_ENC_NULL)
		return c->enc_key_len == 0 && integ_ok(c) ? 0 : -EINVAL;
	if (c->enc_alg != DPSEC_ENC_3DES_CBC && c->enc_key_len != 16 && c->enc_key_len != 24 &&
	    c->enc_key_len != 32)
		return -EINVAL;
	switch (c->enc_alg) {
	case DPSEC_ENC_AES_GCM_16:
	case DPSEC_ENC_NULL_AUTH_AES_GMAC:
		return c->integ_alg == DPSEC_INTEG_NONE ? 0 : -EINVAL;
	case DPSEC_ENC_AES_CCM_8:
	case DPSEC_ENC_AES_CCM_12:
	case DPSEC_ENC_AES_CCM_16:
		return c->integ_alg == DPSEC_INTEG_NONE && c->enc_key_len != 24 ? 0 : -EINVAL;
	case DPSEC_ENC_CHACHA20_POLY1305:
		return c->integ_alg == DPSEC_INTEG_NONE && c->enc_key_len == 32 ? 0 : -EINVAL;
	case DPSEC_ENC_3DES_CBC:
		if (c->enc_key_len != DES3_KEY_LEN)
			return -EINVAL;
		__attribute__((fallthrough)); /* the MAC as with AES-CBC */
	case DPSEC_ENC_AES_CBC:
		return integ_ok(c) ? 0 : -EINVAL; /* no confidentiality-only ESP */
	default:
		return -EINVAL;
	}
}

static void prep_gcm(IMB_MGR *m, const struct dpsec_sa_conf *c, struct ofl_sa_crypto *out)
{
	if (c->enc_key_len == 16)
		IMB_AES128_GCM_PRE(m, c->enc_key, &out->k.gcm);
	else if (c->enc_key_len == 24)
		IMB_AES192_GCM_PRE(m, c->enc_key, &out->k.gcm);
	else
		IMB_AES256_GCM_PRE(m, c->enc_key, &out->k.gcm);
	memcpy(out->salt, c->salt, sizeof(out->salt));
	out->iv_len = 8;
	out->icv_len = 16;
	out->block_len = 4;
}

/* RFC 7634: the 32-byte key as it is, the salt the nonce's first 4 bytes. */
static void prep_chacha(const struct dpsec_sa_conf *c, struct ofl_sa_crypto *out)
{
	memcpy(out->k.chacha, c->enc_key, sizeof(out->k.chacha));
	memcpy(out->salt, c->salt, sizeof(out->salt));
	out->iv_len = 8;
	out->icv_len = 16;
	out->block_len = 4;
}

/* RFC 4309: the AES key's encryption schedule; the ICV's length by the
 * algorithm. The 3-byte salt goes after a zero byte, so that the 12 bytes
 * the packet path builds for every combined mode, template salt || IV,
 * end with CCM's 11-byte nonce (fill_ccm). */
static void prep_ccm(IMB_MGR *m, const struct dpsec_sa_conf *c, struct ofl_sa_crypto *out)
{
	if (c->enc_key_len == 16)
		IMB_AES_KEYEXP_128(m, c->enc_key, out->k.cbc.enc_keys, out->k.cbc.dec_keys);
	else
		IMB_AES_KEYEXP_256(m, c->enc_key, out->k.cbc.enc_keys, out->k.cbc.dec_keys);
	out->salt[0] = 0;
	memcpy(out->salt + 1, c->salt, CCM_SALT_LEN);
	out->iv_len = 8;
	out->icv_len = c->enc_alg == DPSEC_ENC_AES_CCM_8    ? 8
		       : c->enc_alg == DPSEC_ENC_AES_CCM_12 ? 12
							    : 16;
	out->block_len = 4;
}

/* The addresses of a 3DES template's own key schedules, which IMB jobs
 * take: set where the template lives. */
static void point_des3(struct ofl_sa_crypto *k)
{
	for (int i = 0; i < 3; i++)
		k->k.cbc.des_ks_ptr[i] = k->k.cbc.des_ks[i];
}

/* RFC 2451: EDE with K1, K2, K3, the key's three 8-byte thirds. */
static void prep_des3(const struct dpsec_sa_conf *c, struct ofl_sa_crypto *out)
{
	for (int i = 0; i < 3; i++)
		des_key_schedule(out->k.cbc.des_ks[i], c->enc_key + 8 * i);
	point_des3(out);
}

void ofl_sa_crypto_copy(struct ofl_sa_crypto *dst, const struct ofl_sa_crypto *src)
{
	memcpy(dst, src, sizeof(*dst));
	if (src->enc_alg == DPSEC_ENC_3DES_CBC)
		point_des3(dst);
}

/* The hash state after one block (the HMAC's padded key) into state; the
 * IMB job's hash for the HMAC. */
static IMB_HASH_ALG hash_one_block(IMB_MGR *m, uint8_t integ_alg, const uint8_t *block,
				   uint8_t *state)
{
	switch (integ_alg) {
	case DPSEC_INTEG_HMAC_SHA1_96:
		IMB_SHA1_ONE_BLOCK(m, block, state);
		return IMB_AUTH_HMAC_SHA_1;
	case DPSEC_INTEG_HMAC_SHA256_128:
		IMB_SHA256_ONE_BLOCK(m, block, state);
		return IMB_AUTH_HMAC_SHA_256;
	case DPSEC_INTEG_HMAC_SHA384_192:
		IMB_SHA384_ONE_BLOCK(m, block, state);
		return IMB_AUTH_HMAC_SHA_384;
	default:
		IMB_SHA512_ONE_BLOCK(m, block, state);
		return IMB_AUTH_HMAC_SHA_512;
	}
}

/* The HMAC's inner and outer hash states; pad: caller's HMAC_BLOCK_MAX
 * scratch, which the caller wipes. */
static void prep_hmac(IMB_MGR *m, const struct dpsec_sa_conf *c, struct ofl_sa_crypto *out,
		      uint8_t *pad)
{
	uint32_t block = hmac_block(c->integ_alg);

	memset(pad, 0, block);
	memcpy(pad, c->integ_key, c->integ_key_len);
	for (uint32_t i = 0; i < block; i++)
		pad[i] ^= 0x36;
	hash_one_block(m, c->integ_alg, pad, out->k.cbc.ipad);
	for (uint32_t i = 0; i < block; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	out->hash_alg = (uint8_t)hash_one_block(m, c->integ_alg, pad, out->k.cbc.opad);
}

/* AES-XCBC-MAC-96 (RFC 3566 §2.3): K1's schedule, K2 and K3, all derived
 * from the key; AES-CMAC-96 (RFC 4494, RFC 4493 §2.3): the key's schedule
 * and its two subkeys. */
static void prep_aes_mac(IMB_MGR *m, const struct dpsec_sa_conf *c, struct ofl_sa_crypto *out)
{
	uint32_t dec_scratch[44] __attribute__((aligned(16)));

	if (c->integ_alg == DPSEC_INTEG_AES_XCBC_96) {
		IMB_AES_XCBC_KEYEXP(m, c->integ_key, out->k.cbc.aes_mac.ks, out->k.cbc.aes_mac.sub[0],
				    out->k.cbc.aes_mac.sub[1]);
		out->hash_alg = IMB_AUTH_AES_XCBC;
		return;
	}
	IMB_AES_KEYEXP_128(m, c->integ_key, out->k.cbc.aes_mac.ks, dec_scratch);
	explicit_bzero(dec_scratch, sizeof(dec_scratch));
	IMB_AES_CMAC_SUBKEY_GEN_128(m, out->k.cbc.aes_mac.ks, out->k.cbc.aes_mac.sub[0],
				    out->k.cbc.aes_mac.sub[1]);
	out->hash_alg = IMB_AUTH_AES_CMAC;
}

/* The integrity algorithm's keyed state and ICV length; pad as
 * prep_hmac's. */
static void prep_integ(IMB_MGR *m, const struct dpsec_sa_conf *c, struct ofl_sa_crypto *out,
		       uint8_t *pad)
{
	if (dpsec_integ_is_aes_mac(c->integ_alg))
		prep_aes_mac(m, c, out);
	else
		prep_hmac(m, c, out, pad);
	out->icv_len = dpsec_integ_icv_len(c->integ_alg);
}

static void prep_cbc(IMB_MGR *m, const struct dpsec_sa_conf *c, struct ofl_sa_crypto *out,
		     uint8_t *pad)
{
	bool des3 = c->enc_alg == DPSEC_ENC_3DES_CBC;

	if (des3)
		prep_des3(c, out);
	else if (c->enc_key_len == 16)
		IMB_AES_KEYEXP_128(m, c->enc_key, out->k.cbc.enc_keys, out->k.cbc.dec_keys);
	else if (c->enc_key_len == 24)
		IMB_AES_KEYEXP_192(m, c->enc_key, out->k.cbc.enc_keys, out->k.cbc.dec_keys);
	else
		IMB_AES_KEYEXP_256(m, c->enc_key, out->k.cbc.enc_keys, out->k.cbc.dec_keys);
	prep_integ(m, c, out, pad);
	out->iv_len = des3 ? DES_BLOCK : AES_BLOCK;
	out->block_len = des3 ? DES_BLOCK : AES_BLOCK;
}

/* ESP with NULL encryption (RFC 2410): the MAC over the ESP header and
 * the clear payload; no IV, the trailer aligned to 4 bytes (RFC 4303 §2.4). */
static void prep_null(IMB_MGR *m, const struct dpsec_sa_conf *c, struct ofl_sa_crypto *out,
		      uint8_t *pad)
{
	prep_integ(m, c, out, pad);
	out->iv_len = 0;
	out->block_len = 4;
}

/* AH: the MAC alone; the AH header's alignment is the caller's. */
static void prep_auth_only(IMB_MGR *m, const struct dpsec_sa_conf *c, struct ofl_sa_crypto *out,
			   uint8_t *pad)
{
	prep_integ(m, c, out, pad);
	out->auth_only = 1;
	out->block_len = 4;
}

int ofl_cpu_sa_prepare(struct ofl_cpu *e, const struct dpsec_sa_conf *conf,
		       struct ofl_sa_crypto *out)
{
	uint8_t pad[HMAC_BLOCK_MAX] __attribute__((aligned(16)));
	int rc;

	memset(out, 0, sizeof(*out));
	rc = check_conf(e, conf);
	if (rc != 0)
		goto out;
	out->engine = OFL_ENGINE_CPU;
	out->enc_alg = conf->enc_alg;
	out->integ_alg = conf->integ_alg;
	out->key_len = conf->enc_key_len;
	if (conf->protocol == DPSEC_PROTO_AH)
		prep_auth_only(e->mgr, conf, out, pad);
	else if (conf->enc_alg == DPSEC_ENC_AES_GCM_16 ||
		 conf->enc_alg == DPSEC_ENC_NULL_AUTH_AES_GMAC)
		prep_gcm(e->mgr, conf, out); /* RFC 4543 §3: GMAC is GCM's, keys, nonce and ICV */
	else if (conf->enc_alg == DPSEC_ENC_CHACHA20_POLY1305)
		prep_chacha(conf, out);
	else if (conf->enc_alg == DPSEC_ENC_NULL)
		prep_null(e->mgr, conf, out, pad);
	else if (dpsec_enc_is_ccm(conf->enc_alg))
		prep_ccm(e->mgr, conf, out);
	else
		prep_cbc(e->mgr, conf, out, pad);
out:
	explicit_bzero(pad, sizeof(pad));
	return rc;
}

/* --- the burst ------------------------------------------------------------ */

static inline bool op_is_gcm(const struct ofl_op *op)
{
	return !op->sa->auth_only && op->sa->enc_alg == DPSEC_ENC_AES_GCM_16;
}

static inline bool op_is_gmac(const struct ofl_op *op)
{
	return !op->sa->auth_only && op->sa->enc_alg == DPSEC_ENC_NULL_AUTH_AES_GMAC;
}

static inline bool op_is_chacha(const struct ofl_op *op)
{
	return !op->sa->auth_only && op->sa->enc_alg == DPSEC_ENC_CHACHA20_POLY1305;
}

static inline bool op_is_ccm(const struct ofl_op *op)
{
	return !op->sa->auth_only && dpsec_enc_is_ccm(op->sa->enc_alg);
}

/* GCM ops from ops[i] on while they share an SA and a direction, in
 * place, with IMB's direct API (the function the IMB_AES*_GCM_* macros
 * call): no job to fill, no manager to schedule them, the function chosen
 * once for the run. Decryption computes the tag; the caller compares it.
 * Returns the index after the run. */
static uint16_t run_gcm(struct ofl_cpu *e, struct ofl_op *ops, uint16_t i, uint16_t n)
{
	const struct ofl_sa_crypto *sa = ops[i].sa;
	bool encrypt = ops[i].encrypt;
	aes_gcm_enc_dec_t fn;

	if (sa->key_len == 16)
		fn = encrypt ? e->mgr->gcm128_enc : e->mgr->gcm128_dec;
	else if (sa->key_len == 24)
		fn = encrypt ? e->mgr->gcm192_enc : e->mgr->gcm192_dec;
	else
		fn = encrypt ? e->mgr->gcm256_enc : e->mgr->gcm256_dec;
	for (; i < n && ops[i].sa == sa && ops[i].encrypt == encrypt; i++) {
		struct ofl_op *op = &ops[i];
		uint8_t *data = op->buf + op->cipher_off;

		fn(&sa->k.gcm, &e->gcm_ctx, data, data, op->cipher_len, op->iv, op->aad, op->aad_len,
		   op->tag, sa->icv_len);
		op->status = 0;
	}
	return i;
}

/* Where the op's AAD (at most GMAC_AAD_MAX bytes) lies just before its IV,
 * so that the AAD, the IV and the cipher range are one GCM AAD end to end:
 * without ESN it is already there (the ESP header); with ESN it is written
 * over those bytes, which *saved keeps and *restore says to put back. (The
 * write makes IMB's read of them wait for it: some 35 cycles an op, which
 * ESP without ESN does not pay.) NULL when the buffer has no room before
 * the IV. */
static uint8_t *gmac_aad_in_place(const struct ofl_op *op, uint8_t saved[GMAC_AAD_MAX],
				  bool *restore)
{
	uint32_t before = (uint32_t)op->sa->iv_len + op->aad_len;
	uint8_t *at;

	if (op->aad_len > GMAC_AAD_MAX || op->cipher_off < before)
		return NULL;
	at = op->buf + op->cipher_off - before;
	if (memcmp(at, op->aad, op->aad_len) == 0) {
		*restore = false;
		return at;
	}
	memcpy(saved, at, op->aad_len);
	memcpy(at, op->aad, op->aad_len);
	*restore = true;
	return at;
}

/* AES-GMAC ops from ops[i] on while they share an SA (RFC 4543 §3):
 * nothing ciphered, the tag over the AAD, then the IV before the cipher
 * range and that range (the payload, padding, pad length and next
 * header), all as GCM's AAD. One direct GCM call with nothing to encrypt
 * over them end to end (gmac_aad_in_place), the buffer as it was after:
 * for a small packet about 35 cycles where IMB's GMAC init, two updates
 * and finalize take 90. Decryption computes the tag; the caller compares
 * it. Returns the index after the run. */
static uint16_t run_gmac(struct ofl_cpu *e, struct ofl_op *ops, uint16_t i, uint16_t n)
{
	const struct ofl_sa_crypto *sa = ops[i].sa;
	aes_gcm_enc_dec_t fn = sa->key_len == 16   ? e->mgr->gcm128_enc
			       : sa->key_len == 24 ? e->mgr->gcm192_enc
						   : e->mgr->gcm256_enc;

	for (; i < n && ops[i].sa == sa; i++) {
		struct ofl_op *op = &ops[i];
		uint8_t saved[GMAC_AAD_MAX];
		bool restore;
		uint8_t *aad = gmac_aad_in_place(op, saved, &restore);

		if (aad == NULL) {
			op->status = -EINVAL;
			continue;
		}
		fn(&sa->k.gcm, &e->gcm_ctx, aad, aad, 0, op->iv, aad,
		   op->aad_len + sa->iv_len + op->cipher_len, op->tag, sa->icv_len);
		if (restore)
			memcpy(aad, saved, op->aad_len);
		op->status = 0;
	}
	return i;
}

/* What IMB's job check would refuse of the fields an op brings (the rest
 * come from the SA's template): a MAC length of 1..65534 bytes; a cipher
 * length that is a non-zero number of the cipher's blocks, or none for AH;
 * ChaCha20-Poly1305 and AES-CCM any length but none, authenticated over
 * just that (and their AAD of at most 12 bytes). */
static bool job_op_valid(const struct ofl_op *op)
{
	const struct ofl_sa_crypto *sa = op->sa;

	if (op_is_chacha(op) || op_is_ccm(op))
		return op->cipher_len != 0 && op->auth_len == op->cipher_len && op->aad_len <= 12;
	if (op->auth_len == 0 || op->auth_len > MAC_MAX_LEN)
		return false;
	if (sa->auth_only)
		return op->cipher_len == 0;
	return op->cipher_len != 0 && (op->cipher_len & (sa->block_len - 1u)) == 0;
}

/* The MAC's keyed state as its job takes it: HMAC, XCBC or CMAC. */
static void fill_integ(IMB_JOB *j, const struct ofl_op *op)
{
	const struct ofl_sa_crypto *sa = op->sa;

	j->hash_alg = sa->hash_alg;
	if (sa->hash_alg == IMB_AUTH_AES_XCBC) {
		j->u.XCBC._k1_expanded = sa->k.cbc.aes_mac.ks;
		j->u.XCBC._k2 = sa->k.cbc.aes_mac.sub[0];
		j->u.XCBC._k3 = sa->k.cbc.aes_mac.sub[1];
	} else if (sa->hash_alg == IMB_AUTH_AES_CMAC) {
		j->u.CMAC._key_expanded = sa->k.cbc.aes_mac.ks;
		j->u.CMAC._skey1 = sa->k.cbc.aes_mac.sub[0];
		j->u.CMAC._skey2 = sa->k.cbc.aes_mac.sub[1];
	} else {
		j->u.HMAC._hashed_auth_key_xor_ipad = sa->k.cbc.ipad;
		j->u.HMAC._hashed_auth_key_xor_opad = sa->k.cbc.opad;
	}
	j->hash_start_src_offset_in_bytes = op->auth_off;
	j->msg_len_to_hash_in_bytes = op->auth_len;
}

static void fill_cbc(IMB_JOB *j, const struct ofl_op *op)
{
	const struct ofl_sa_crypto *sa = op->sa;

	if (sa->enc_alg == DPSEC_ENC_NULL) {
		j->cipher_mode = IMB_CIPHER_NULL; /* in place: nothing to copy */
		j->enc_keys = NULL;
		j->dec_keys = NULL;
	} else if (sa->enc_alg == DPSEC_ENC_3DES_CBC) {
		j->cipher_mode = IMB_CIPHER_DES3;
		j->enc_keys = sa->k.cbc.des_ks_ptr;
		j->dec_keys = sa->k.cbc.des_ks_ptr;
	} else {
		j->cipher_mode = IMB_CIPHER_CBC;
		j->enc_keys = sa->k.cbc.enc_keys;
		j->dec_keys = sa->k.cbc.dec_keys;
	}
	j->iv_len_in_bytes = sa->iv_len;
	fill_integ(j, op);
}

/* The nonce and AAD as GCM's (RFC 7634 §2-2.1); Poly1305 covers the
 * cipher range. */
static void fill_chacha(IMB_JOB *j, const struct ofl_op *op)
{
	j->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
	j->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
	j->enc_keys = op->sa->k.chacha;
	j->dec_keys = op->sa->k.chacha;
	j->iv_len_in_bytes = GCM_NONCE_LEN;
	j->u.CHACHA20_POLY1305.aad = op->aad;
	j->u.CHACHA20_POLY1305.aad_len_in_bytes = op->aad_len;
	j->u.CHACHA20_POLY1305.ctx = NULL;
	j->hash_start_src_offset_in_bytes = op->cipher_off;
	j->msg_len_to_hash_in_bytes = op->auth_len;
}

/* The nonce and AAD as GCM's but the nonce's length (RFC 4309 §4-5): the
 * op's 12 bytes are 0 || salt || IV (prep_ccm), the nonce their last 11.
 * The CBC-MAC is over the plaintext, so it runs before encryption and
 * after decryption. */
static void fill_ccm(IMB_JOB *j, const struct ofl_op *op)
{
	j->cipher_mode = IMB_CIPHER_CCM;
	j->hash_alg = IMB_AUTH_AES_CCM;
	j->chain_order = op->encrypt ? IMB_ORDER_HASH_CIPHER : IMB_ORDER_CIPHER_HASH;
	j->enc_keys = op->sa->k.cbc.enc_keys;
	j->dec_keys = op->sa->k.cbc.enc_keys;
	j->iv = op->iv + (GCM_NONCE_LEN - CCM_NONCE_LEN);
	j->iv_len_in_bytes = CCM_NONCE_LEN;
	j->u.CCM.aad = op->aad;
	j->u.CCM.aad_len_in_bytes = op->aad_len;
	j->hash_start_src_offset_in_bytes = op->cipher_off;
	j->msg_len_to_hash_in_bytes = op->auth_len;
}

static void fill_auth_only(IMB_JOB *j, const struct ofl_op *op)
{
	j->cipher_mode = IMB_CIPHER_NULL;
	j->key_len_in_bytes = 0;
	j->iv_len_in_bytes = 0;
	fill_integ(j, op);
}

static void fill_job(IMB_JOB *j, struct ofl_op *op)
{
	j->cipher_direction = op->encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
	j->chain_order = op->encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
	j->key_len_in_bytes = op->sa->key_len;
	j->src = op->buf;
	j->dst = op->buf + op->cipher_off; /* IMB writes dst without the offset */
	j->cipher_start_src_offset_in_bytes = op->cipher_off;
	j->msg_len_to_cipher_in_bytes = op->cipher_len;
	j->iv = op->iv;
	j->auth_tag_output = op->tag;
	j->auth_tag_output_len_in_bytes = op->sa->icv_len;
	j->user_data = op;
	if (op->sa->auth_only)
		fill_auth_only(j, op);
	else if (op_is_chacha(op))
		fill_chacha(j, op);
	else if (op_is_ccm(op))
		fill_ccm(j, op);
	else
		fill_cbc(j, op);
	op->status = -EIO; /* until the job comes back completed */
}

static uint32_t collect(IMB_JOB **jobs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct ofl_op *op = jobs[i]->user_data;

		op->status = jobs[i]->status == IMB_STATUS_COMPLETED ? 0 : -EIO;
	}
	return n;
}

/* n (<= OFL_MAX_BURST) checked ops as one unchecked job burst. */
static void run_jobs(struct ofl_cpu *e, struct ofl_op **ops, uint16_t n)
{
	IMB_JOB *jobs[OFL_MAX_BURST];
	uint32_t done;

	if (IMB_GET_NEXT_BURST(e->mgr, n, jobs) < n) { /* cannot happen: the queue is empty */
		for (uint16_t i = 0; i < n; i++)
			ops[i]->status = -EIO;
		return;
	}
	for (uint16_t i = 0; i < n; i++)
		fill_job(jobs[i], ops[i]);
	done = collect(jobs, IMB_SUBMIT_BURST_NOCHECK(e->mgr, n, jobs));
	while (done < n) {
		uint32_t k = IMB_FLUSH_BURST(e->mgr, n - done, jobs);

		if (k == 0)
			break; /* nothing left queued: the rest keep -EIO */
		done += collect(jobs, k);
	}
}

/* Orders a job burst longest first. IMB runs its jobs in lanes side by
 * side, all lanes for as long as the shortest job among them, and a burst
 * ends with a flush that runs its last jobs with the other lanes idle: a
 * long packet submitted last runs nearly alone. Longest first, the short
 * ones fill the lanes beside the long ones instead. Insertion sort: a
 * burst of one size (the usual case) is already in order, one pass. */
static void longest_first(struct ofl_op **ops, uint16_t n)
{
	for (uint16_t i = 1; i < n; i++) {
		struct ofl_op *op = ops[i];
		uint16_t j = i;

		for (; j > 0 && ops[j - 1]->auth_len < op->auth_len; j--)
			ops[j] = ops[j - 1];
		ops[j] = op;
	}
}

void ofl_cpu_run(struct ofl_cpu *e, struct ofl_op *ops, uint16_t n)
{
	struct ofl_op *queued[OFL_MAX_BURST];
	uint16_t q = 0, i = 0;

	while (i < n) {
		struct ofl_op *op = &ops[i];

		if (op_is_gcm(op)) {
			i = run_gcm(e, ops, i, n);
			continue;
		}
		if (op_is_gmac(op)) {
			i = run_gmac(e, ops, i, n);
			continue;
		}
		if (!job_op_valid(op)) {
			op->status = -EINVAL;
		} else {
			queued[q++] = op;
			if (q == OFL_MAX_BURST) {
				longest_first(queued, q);
				run_jobs(e, queued, q);
				q = 0;
			}
		}
		i++;
	}
	if (q > 0) {
		longest_first(queued, q);
		run_jobs(e, queued, q);
	}
}

void ofl_cpu_sha256(struct ofl_cpu *e, const void *buf, uint32_t len, uint8_t out[32])
{
	IMB_SHA256(e->mgr, buf, len, out);
}
