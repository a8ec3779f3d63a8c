/* ofl_cpu.c - the CPU crypto engine: intel-ipsec-mb's multi-buffer manager,
 * one per worker. Each SA's keys are expanded once (ofl_cpu_sa_prepare); a
 * burst of packets becomes one IMB_SUBMIT_BURST and one flush, never a flush
 * per packet. Also a per-worker CSPRNG (AES-CTR keystream) for CBC IVs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ofl_engine.h"

#define HMAC_BLOCK 64
#define RNG_CHUNK 4096

struct ofl_cpu {
	IMB_MGR *mgr;
	uint32_t rng_keys[60] __attribute__((aligned(16))); /* AES-128 expanded */
	uint32_t rng_dec[60] __attribute__((aligned(16)));
	uint8_t rng_ctr[16];                                 /* IV of the next CTR job */
	uint8_t zeros[RNG_CHUNK];
};

struct ofl_cpu *ofl_cpu_create(int socket_id)
{
	struct ofl_cpu *e;
	uint8_t key[16];

	(void)socket_id; /* IMB allocates the manager itself */
	if (posix_memalign((void **)&e, 64, sizeof(*e)) != 0)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->mgr = alloc_mb_mgr(0);
	if (e->mgr == NULL)
		goto fail;
	init_mb_mgr_auto(e->mgr, NULL);
	if (imb_get_errno(e->mgr) != 0) {
		fprintf(stderr, "ofl_cpu: intel-ipsec-mb cannot run on this CPU: %s\n",
			imb_get_strerror(imb_get_errno(e->mgr)));
		goto fail;
	}
	if (getrandom(key, sizeof(key), 0) != sizeof(key) ||
	    getrandom(e->rng_ctr, sizeof(e->rng_ctr), 0) != sizeof(e->rng_ctr))
		goto fail;
	IMB_AES_KEYEXP_128(e->mgr, key, e->rng_keys, e->rng_dec);
	explicit_bzero(key, sizeof(key));
	return e;
fail:
	explicit_bzero(key, sizeof(key));
	ofl_cpu_free(e);
	return NULL;
}

void ofl_cpu_free(struct ofl_cpu *e)
{
	if (e == NULL)
		return;
	if (e->mgr != NULL)
		free_mb_mgr(e->mgr);
	explicit_bzero(e, sizeof(*e));
	free(e);
}

/* H(K ^ pad) over one block: the inner/outer states HMAC starts from. */
static void hmac_pad_state(IMB_MGR *mgr, uint8_t alg, const uint8_t *key, uint8_t key_len,
			   uint8_t pad, uint8_t *out)
{
	uint8_t block[HMAC_BLOCK];

	memset(block, 0, sizeof(block));
	memcpy(block, key, key_len);
	for (int i = 0; i < HMAC_BLOCK; i++)
		block[i] ^= pad;
	if (alg == DPSEC_INTEG_HMAC_SHA1_96)
		IMB_SHA1_ONE_BLOCK(mgr, block, out);
	else
		IMB_SHA256_ONE_BLOCK(mgr, block, out);
	explicit_bzero(block, sizeof(block));
}

static int prepare_gcm(struct ofl_cpu *e, const struct dpsec_sa_conf *c, struct ofl_sa_crypto *o)
{
	if (c->integ_alg != DPSEC_INTEG_NONE)
		return -EINVAL;
	if (c->enc_key_len == 16)
		IMB_AES128_GCM_PRE(e->mgr, c->enc_key, &o->k.gcm);
	else
		IMB_AES256_GCM_PRE(e->mgr, c->enc_key, &o->k.gcm);
	memcpy(o->salt, c->salt, sizeof(o->salt));
	o->iv_len = 8;
	o->icv_len = 16;
	o->block_len = 4;
	return 0;
}

static int prepare_cbc(struct ofl_cpu *e, const struct dpsec_sa_conf *c, struct ofl_sa_crypto *o)
{
	uint8_t want = c->integ_alg == DPSEC_INTEG_HMAC_SHA1_96 ? 20 : 32;

	if (c->integ_alg == DPSEC_INTEG_NONE || c->integ_key_len != want)
		return -EINVAL;
	if (c->enc_key_len == 16)
		IMB_AES_KEYEXP_128(e->mgr, c->enc_key, o->k.cbc.enc_keys, o->k.cbc.dec_keys);
	else
		IMB_AES_KEYEXP_256(e->mgr, c->enc_key, o->k.cbc.enc_keys, o->k.cbc.dec_keys);
	hmac_pad_state(e->mgr, c->integ_alg, c->integ_key, c->integ_key_len, 0x36, o->k.cbc.ipad);
	hmac_pad_state(e->mgr, c->integ_alg, c->integ_key, c->integ_key_len, 0x5c, o->k.cbc.opad);
	o->iv_len = 16;
	o->icv_len = c->integ_alg == DPSEC_INTEG_HMAC_SHA1_96 ? 12 : 16;
	o->block_len = 16;
	return 0;
}

int ofl_cpu_sa_prepare(struct ofl_cpu *e, const struct dpsec_sa_conf *c, struct ofl_sa_crypto *o)
{
	memset(o, 0, sizeof(*o));
	if (c->enc_key_len != 16 && c->enc_key_len != 32)
		return -EINVAL;
	o->engine = OFL_ENGINE_CPU;
	o->enc_alg = c->enc_alg;
	o->integ_alg = c->integ_alg;
	o->key_len = c->enc_key_len;
	switch (c->enc_alg) {
	case DPSEC_ENC_AES_GCM_16:
		return prepare_gcm(e, c, o);
	case DPSEC_ENC_AES_CBC:
		return prepare_cbc(e, c, o);
	default:
		return -EINVAL;
	}
}

static void job_gcm(IMB_JOB *j, const struct ofl_op *op)
{
	const struct ofl_sa_crypto *s = op->sa;

	j->cipher_mode = IMB_CIPHER_GCM;
	j->hash_alg = IMB_AUTH_AES_GMAC;
	j->enc_keys = j->dec_keys = &s->k.gcm;
	j->iv_len_in_bytes = 12;
	j->hash_start_src_offset_in_bytes = op->cipher_off;
	j->msg_len_to_hash_in_bytes = op->cipher_len;
	j->u.GCM.aad = op->aad;
	j->u.GCM.aad_len_in_bytes = op->aad_len;
}

static void job_cbc_hmac(IMB_JOB *j, const struct ofl_op *op)
{
	const struct ofl_sa_crypto *s = op->sa;

	j->cipher_mode = IMB_CIPHER_CBC;
	j->hash_alg = s->integ_alg == DPSEC_INTEG_HMAC_SHA1_96 ? IMB_AUTH_HMAC_SHA_1
							       : IMB_AUTH_HMAC_SHA_256;
	j->enc_keys = s->k.cbc.enc_keys;
	j->dec_keys = s->k.cbc.dec_keys;
	j->iv_len_in_bytes = 16;
	j->hash_start_src_offset_in_bytes = op->auth_off;
	j->msg_len_to_hash_in_bytes = op->auth_len;
	j->u.HMAC._hashed_auth_key_xor_ipad = s->k.cbc.ipad;
	j->u.HMAC._hashed_auth_key_xor_opad = s->k.cbc.opad;
}

static void job_fill(IMB_JOB *j, struct ofl_op *op)
{
	j->src = op->buf;
	j->dst = op->buf + op->cipher_off; /* IMB: dst has no offset applied */
	j->key_len_in_bytes = op->sa->key_len;
	j->cipher_start_src_offset_in_bytes = op->cipher_off;
	j->msg_len_to_cipher_in_bytes = op->cipher_len;
	j->iv = op->iv;
	j->auth_tag_output = op->tag;
	j->auth_tag_output_len_in_bytes = op->sa->icv_len;
	j->cipher_direction = op->encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
	j->chain_order = op->encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
	j->user_data = op;
	if (op->sa->enc_alg == DPSEC_ENC_AES_GCM_16)
		job_gcm(j, op);
	else
		job_cbc_hmac(j, op);
}

static void job_done(IMB_JOB *j)
{
	struct ofl_op *op = j->user_data;

	op->status = j->status == IMB_STATUS_COMPLETED ? 0 : -EIO;
}

/* Submits jobs[0..n) and collects all of them: one submit, one flush. */
static void submit_all(IMB_MGR *mgr, IMB_JOB **jobs, uint32_t n)
{
	uint32_t done = IMB_SUBMIT_BURST(mgr, n, jobs);

	for (uint32_t i = 0; i < done; i++)
		job_done(jobs[i]);
	while (done < n) {
		uint32_t more = IMB_FLUSH_BURST(mgr, n - done, jobs);

		if (more == 0)
			break;
		for (uint32_t i = 0; i < more; i++)
			job_done(jobs[i]);
		done += more;
	}
}

void ofl_cpu_run(struct ofl_cpu *e, struct ofl_op *ops, uint16_t n)
{
	IMB_JOB *jobs[OFL_MAX_BURST];
	uint32_t got;

	if (n == 0)
		return;
	for (uint16_t i = 0; i < n; i++)
		ops[i].status = -EIO; /* until the engine says otherwise */
	got = IMB_GET_NEXT_BURST(e->mgr, n, jobs);
	if (got < n) { /* jobs left over from an earlier failure: drain them */
		IMB_FLUSH_BURST(e->mgr, IMB_MAX_JOBS, jobs);
		got = IMB_GET_NEXT_BURST(e->mgr, n, jobs);
	}
	for (uint32_t i = 0; i < got; i++)
		job_fill(jobs[i], &ops[i]);
	submit_all(e->mgr, jobs, got);
}

static void ctr_add(uint8_t ctr[16], uint32_t blocks)
{
	for (int i = 15; i >= 0 && blocks != 0; i--) {
		uint32_t v = ctr[i] + (blocks & 0xff);

		ctr[i] = (uint8_t)v;
		blocks = (blocks >> 8) + (v >> 8);
	}
}

/* AES-128-CTR keystream under a random key: each call encrypts zeros with
 * the next counter values (NIST SP 800-90A CTR_DRBG's generate, no reseed). */
void ofl_cpu_random(struct ofl_cpu *e, uint8_t *buf, uint32_t len)
{
	while (len > 0) {
		uint32_t chunk = len < RNG_CHUNK ? len : RNG_CHUNK;
		IMB_JOB *j = IMB_GET_NEXT_JOB(e->mgr);

		memset(j, 0, sizeof(*j));
		j->cipher_mode = IMB_CIPHER_CNTR;
		j->hash_alg = IMB_AUTH_NULL;
		j->cipher_direction = IMB_DIR_ENCRYPT;
		j->chain_order = IMB_ORDER_CIPHER_HASH;
		j->enc_keys = j->dec_keys = e->rng_keys;
		j->key_len_in_bytes = 16;
		j->src = e->zeros;
		j->dst = buf;
		j->msg_len_to_cipher_in_bytes = chunk;
		j->iv = e->rng_ctr;
		j->iv_len_in_bytes = 16;
		IMB_SUBMIT_JOB(e->mgr);
		while (IMB_FLUSH_JOB(e->mgr) != NULL)
			;
		ctr_add(e->rng_ctr, (chunk + 15) / 16);
		buf += chunk;
		len -= chunk;
	}
}
