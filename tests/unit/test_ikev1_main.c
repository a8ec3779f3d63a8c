/* test_ikev1_main.c - Check tests of the IKEv1 engine's Main Mode
 * (ike/ikev1_main.c and the engine around it), in the two-peer world of
 * ikev1_world.h: Main Mode and Quick Mode with a pre-shared key, a wrong
 * key, no proposal chosen, retransmitted messages answered from the cache,
 * retransmission and giving up, half-open expiry, Aggressive Mode refused,
 * malformed input counted, NAT traversal floating to port 4500, the
 * initiator's transform order, SKEYID..KEYMAT recomputed by the independent
 * reference ike_vectors/ike_crypto_ref.py (hmac/hashlib), Main Mode read by
 * scapy (ike_vectors/check_ikev1_scapy.py), legacy suites and DES refused
 * without conf.legacy and agreed with it, its Main Mode 5 decrypted by the
 * openssl command with the reference's key and IV, and the configuration
 * checked. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ike_dh.h"
#include "ike_ref.h"
#include "ike_test_util.h"
#include "ikev1_world.h"

static const uint8_t fixed_priv[32] = { /* any scalar below the P-256 order */
	0x5d, 0xab, 0x08, 0x7e, 0x62, 0x4a, 0x8a, 0x4b, 0x79, 0xe1, 0x7f, 0x8b, 0x83, 0x80,
	0x0e, 0xe6, 0x6f, 0x3b, 0xb1, 0x29, 0x26, 0x18, 0xb6, 0xfd, 0x1c, 0x2f, 0x8b, 0x27,
	0xff, 0x88, 0xe0, 0xeb,
};

static uint32_t next_spi(void *ctx)
{
	return ++*(uint32_t *)ctx;
}

START_TEST(main_and_quick_mode_psk)
{
	struct world w;
	struct ikev2_sa_id id;
	const struct ike_child *ci, *cr;
	uint32_t spi_r = 0x5000;

	world_init(&w);
	w.r.conf.spi_alloc = next_spi;
	w.r.conf.spi_ctx = &spi_r;
	world_go(&w);
	id = main_and_quick(&w);
	ci = child_of(&w.i);
	cr = child_of(&w.r);
	pair_agrees(ci, cr);
	ck_assert_uint_eq(cr->in.spi, 0x5001); /* the caller's SPI allocator */
	ck_assert_uint_eq(ci->out.spi, 0x5001);
	ck_assert_uint_eq(ci->protocol, IKE_PROTO_ESP);
	ck_assert_uint_eq(ci->out.enc_alg, DPSEC_ENC_AES_CBC);
	ck_assert_uint_eq(ci->out.enc_key_len, 16);
	ck_assert_uint_eq(ci->out.integ_alg, DPSEC_INTEG_HMAC_SHA256_128);
	ck_assert_uint_eq(ci->out.mode, DPSEC_MODE_TUNNEL);
	ck_assert(!ci->udp_encap);
	ck_assert_uint_eq(ci->method.lifetime_seconds, 3600);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_IKE_UP)->up.peer_id.type, 2 /* FQDN */);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_IKE_UP)->user, 11);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_IKE_UP)->user, 22);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_IKE_ESTABLISHED), 1);
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_CHILD_ESTABLISHED), 1);
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_INVALID_PACKETS), 0);
	ck_assert_ptr_nonnull(log_has(&w.r, &id, "MM4_SENT -> ESTABLISHED"));
	ck_assert_ptr_nonnull(log_has(&w.i, &id, "MM5_SENT -> ESTABLISHED"));
	ck_assert_uint_eq(ikev1_sa_count(w.r.e), 1);
	world_end(&w);
}
END_TEST

START_TEST(wrong_psk)
{
	struct world w;

	world_init(&w);
	pair_policy(&w.r.pol, false, &mm_aes256, &qm_cbc, "other secret");
	world_go(&w);
	initiate(&w);
	for (int k = 0; k < 4; k++)
		pass(&w, k % 2 ? &w.r : &w.i);
	refused(&w, &w.i, -EKEYREJECTED); /* MM 5 does not decrypt to anything sensible */
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_FAILED)->reason.notify, ISAKMP_N_AUTHENTICATION_FAILED);
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_AUTH_FAILURES), 1);
	ck_assert_uint_eq(ikev1_sa_count(w.r.e), 0);
	pass(&w, &w.r); /* the unprotected AUTHENTICATION-FAILED */
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_FAILED)->reason.notify, ISAKMP_N_AUTHENTICATION_FAILED);
	ck_assert(last_ev(&w.i, IKEV2_EV_FAILED)->reason.ike_sa_gone);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_AUTH_FAILURES), 1);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 0);
	ck_assert_uint_eq(ikev1_sa_count(w.i.e), 0);
	world_end(&w);
}
END_TEST

START_TEST(no_proposal_chosen)
{
	struct world w;
	struct msg m;

	world_init(&w);
	pair_policy(&w.r.pol, false, &mm_3des, &qm_cbc, "secret");
	world_go(&w);
	initiate(&w);
	refused(&w, &w.i, -ENOENT);
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_NEGOTIATION_FAILURES), 1);
	ck_assert_uint_eq(ikev1_sa_count(w.r.e), 0);
	m = step(&w, &w.r);
	expect_summary(&m, "N");
	free(m.data);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_FAILED)->reason.notify, ISAKMP_N_NO_PROPOSAL_CHOSEN);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_NOTIFIES_RECEIVED), 1);
	ck_assert_uint_eq(ikev1_sa_count(w.i.e), 0);
	world_end(&w);
}
END_TEST

/* The same message twice: the second gets our last message again, byte
 * for byte, and changes nothing. */
static void twice(struct world *w, struct side *from)
{
	struct side *to = other(w, from);
	struct msg m = step(w, from), a, b;
	uint64_t replayed = stat(to, IKEV1_STAT_REPLAYED_RESPONSES);

	a = take(to);
	deliver(w, to, &m);
	b = take(to);
	ck_assert_uint_eq(a.len, b.len);
	ck_assert_mem_eq(a.data, b.data, a.len);
	ck_assert_uint_eq(stat(to, IKEV1_STAT_REPLAYED_RESPONSES), replayed + 1);
	deliver(w, from, &a);
	free(a.data);
	free(b.data);
	free(m.data);
}

START_TEST(duplicates_get_the_cached_answer)
{
	struct world w;

	world_init(&w);
	world_go(&w);
	initiate(&w);
	twice(&w, &w.i); /* MM 1 -> MM 2 */
	twice(&w, &w.i); /* MM 3 -> MM 4 */
	twice(&w, &w.i); /* MM 5 -> MM 6 */
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_IKE_UP), 1);
	twice(&w, &w.i); /* QM 1 -> QM 2 */
	pass(&w, &w.i);  /* QM 3 */
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 1);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_UP), 1);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	world_end(&w);
}
END_TEST

START_TEST(retransmission_and_give_up)
{
	struct world w;
	uint64_t start;

	world_init(&w);
	w.i.conf.half_open_timeout_ms = 600000;
	world_go(&w);
	initiate(&w);
	start = w.now;
	free(take(&w.i).data); /* lost */
	ck_assert_uint_eq(ikev1_next_timer(w.i.e), start + 500);
	for (int k = 1; k <= 5; k++) { /* 0.5, 1.5, 3.5, 7.5, 15.5 s */
		w.now = ikev1_next_timer(w.i.e);
		ikev1_tick(w.i.e, w.now);
		free(take(&w.i).data);
		ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_RETRANSMITS), (uint64_t)k);
	}
	ck_assert_uint_eq(w.now - start, 15500);
	w.now = ikev1_next_timer(w.i.e);
	ck_assert_uint_eq(w.now - start, 31500);
	ikev1_tick(w.i.e, w.now);
	nothing_sent(&w.i);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_PEER_TIMEOUTS), 1);
	ck_assert(last_ev(&w.i, IKEV2_EV_FAILED)->reason.ike_sa_gone);
	ck_assert_uint_eq(ikev1_sa_count(w.i.e), 0);
	ck_assert_uint_eq(ikev1_next_timer(w.i.e), UINT64_MAX);
	world_end(&w);
}
END_TEST

START_TEST(half_open_responder_expires)
{
	struct world w;
	struct msg second;

	world_init(&w);
	w.r.conf.half_open_max = 1;
	world_go(&w);
	initiate(&w);
	initiate(&w);
	pass(&w, &w.i);
	second = take(&w.i);
	ck_assert_int_eq(feed(&w, &w.r, &second, NULL), -EBUSY); /* beyond half_open_max */
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_HALF_OPEN_REFUSED), 1);
	free(second.data);
	ck_assert_uint_eq(ikev1_half_open_count(w.r.e), 1);
	ck_assert_uint_eq(ikev1_sa_count(w.r.e), 1);
	w.now += 30000;
	ikev1_tick(w.r.e, w.now);
	ck_assert_uint_eq(ikev1_sa_count(w.r.e), 0);
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_FAILED), 1);
	world_end(&w);
}
END_TEST

START_TEST(aggressive_mode_refused)
{
	struct world w;
	struct ike_err err = { 0 };
	uint8_t buf[IKE_MSG_MAX];
	size_t n = load_vector("isakmp_aggressive", buf, sizeof(buf));

	world_init(&w);
	world_go(&w);
	ck_assert_uint_gt(n, ISAKMP_HDR_LEN);
	ck_assert_int_eq(ikev1_input(w.r.e, buf, n, &w.r.ep, &w.i.ep, w.now, &err), -EPROTO);
	ck_assert_ptr_nonnull(strstr(err.msg, "Aggressive Mode refused"));
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_AGGRESSIVE_REFUSED), 1);
	ck_assert_uint_eq(ikev1_sa_count(w.r.e), 0);
	nothing_sent(&w.r);
	world_end(&w);
}
END_TEST

/* Every prefix of a message, random bytes, and single flipped bytes:
 * dropped and counted, never a crash; the exchange still completes. */
START_TEST(malformed_input_counted)
{
	struct world w;
	struct msg mm1, mm3;
	uint8_t buf[2048];
	uint32_t seed = 7;
	struct ike_err err;

	world_init(&w);
	world_go(&w);
	initiate(&w);
	mm1 = take(&w.i);
	for (size_t len = 0; len < mm1.len; len++) {
		err = (struct ike_err){ 0 };
		ck_assert_int_lt(feed(&w, &w.r, &(struct msg){ mm1.data, len, mm1.from, mm1.to }, &err), 0);
	}
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_INVALID_PACKETS), mm1.len);
	for (int k = 0; k < 200; k++) {
		size_t len = rnd(&seed) % sizeof(buf);

		rnd_bytes(&seed, buf, len);
		feed(&w, &w.r, &(struct msg){ buf, len, mm1.from, mm1.to }, NULL);
	}
	ck_assert_uint_eq(ikev1_sa_count(w.r.e), 0);
	nothing_sent(&w.r);
	deliver(&w, &w.r, &mm1);
	pass(&w, &w.r);
	mm3 = take(&w.i);
	for (size_t len = 0; len < mm3.len; len++) /* truncated MM 3: the SA is not touched */
		ck_assert_int_eq(feed(&w, &w.r, &(struct msg){ mm3.data, len, mm3.from, mm3.to }, NULL),
				 -EBADMSG);
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_INVALID_PACKETS), mm1.len + 200 + mm3.len -
			  stat(&w.r, IKEV1_STAT_INVALID_COOKIES) - stat(&w.r, IKEV1_STAT_AGGRESSIVE_REFUSED));
	deliver(&w, &w.r, &mm3);
	free(mm1.data);
	free(mm3.data);
	pass(&w, &w.r);
	pass(&w, &w.i);
	pass(&w, &w.r);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	world_end(&w);
}
END_TEST

START_TEST(nat_traversal_floats_to_4500)
{
	struct world w;
	const struct ike_child *ci;

	world_init(&w);
	w.nat = true;
	w.nat_ep = (struct ike_endpoint){ v4(203, 0, 113, 7), 40000 };
	world_go(&w);
	main_and_quick(&w);
	ck_assert(last_ev(&w.i, IKEV2_EV_NAT)->nat.local_behind_nat);
	ck_assert(!last_ev(&w.i, IKEV2_EV_NAT)->nat.remote_behind_nat);
	ci = child_of(&w.i);
	ck_assert(ci->udp_encap);
	ck_assert(child_of(&w.r)->udp_encap);
	ck_assert_uint_eq(ci->local_port, IKEV1_NATT_PORT);
	ck_assert_uint_eq(ci->remote_port, IKEV1_NATT_PORT);
	ck_assert_uint_eq(child_of(&w.r)->remote_port, 40001);
	pair_agrees(ci, child_of(&w.r));
	world_end(&w);
}
END_TEST

/* Both sides' ECP-256 key pairs from fixed_priv. */
static void fixed_dh(struct world *w)
{
	w->i.conf.test_dh_private = fixed_priv;
	w->i.conf.test_dh_private_len = sizeof(fixed_priv);
	w->r.conf.test_dh_private = fixed_priv;
	w->r.conf.test_dh_private_len = sizeof(fixed_priv);
}

/* g^xy of a run with fixed_dh(): both sides used the same private value,
 * so it is priv * (priv * G). Its length. */
static size_t fixed_gxy(uint8_t gxy[64])
{
	uint8_t g_peer[IKE_DH_PUBLIC_MAX];
	struct ike_err err = { 0 };
	const uint8_t *pub;
	struct ike_dh *dh;
	size_t plen, glen;

	ck_assert_int_eq(ike_dh_new_fixed_for_test(IKE_DH_ECP_256, fixed_priv, 32, &dh, &err), 0);
	pub = ike_dh_public(dh, &plen);
	memcpy(g_peer, pub, plen);
	ck_assert_int_eq(ike_dh_derive(dh, g_peer, plen, gxy, 64, &glen, &err), 0);
	ike_dh_free(dh);
	return glen;
}

/* SKEYID, SKEYID_d/a/e, the cipher key and the ESP keys of a run, from
 * the nonces, cookies and g^xy, by the Python reference. */
START_TEST(keys_match_the_reference)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ikev1_sa *sa;
	const struct ikev1_xchg *x = NULL;
	const struct ike_child *ci;
	uint8_t gxy[64], spi[4];
	size_t glen;
	struct ref r = { 0 };

	world_init(&w);
	fixed_dh(&w);
	world_go(&w);
	id = main_and_quick(&w);
	sa = ikev1_find_sa(w.i.e, &id);
	ck_assert_ptr_nonnull(sa);
	glen = fixed_gxy(gxy);
	for (int k = 0; k < IKEV1_MAX_XCHG; k++)
		if (sa->xchg[k].kind == IKEV1_X_QUICK)
			x = &sa->xchg[k];
	ck_assert_ptr_nonnull(x);
	ci = child_of(&w.i);
	ref_op(&r, "v1-skeyid-psk sha256");
	ref_hex(&r, (const uint8_t *)"secret", 6);
	ref_hex(&r, sa->ni, sa->ni_len);
	ref_hex(&r, sa->nr, sa->nr_len);
	ref_op(&r, "v1-keys sha256");
	ref_hex(&r, sa->keys.skeyid, sa->keys.prf_len);
	ref_hex(&r, gxy, glen);
	ref_hex(&r, id.spi_i, 8);
	ref_hex(&r, id.spi_r, 8);
	ref_add(&r, " 32");
	/* KEYMAT of the initiator's outbound SA: the responder's SPI */
	spi[0] = (uint8_t)(ci->out.spi >> 24);
	spi[1] = (uint8_t)(ci->out.spi >> 16);
	spi[2] = (uint8_t)(ci->out.spi >> 8);
	spi[3] = (uint8_t)ci->out.spi;
	ref_op(&r, "v1-keymat sha256");
	ref_hex(&r, sa->keys.skeyid_d, 32);
	ref_add(&r, " -");
	ref_add(&r, " 03");
	ref_hex(&r, spi, 4);
	ref_hex(&r, x->ni, x->ni_len);
	ref_hex(&r, x->nr, x->nr_len);
	ref_add(&r, " 48");
	ref_run(&r);
	ref_expect(&r, sa->keys.skeyid, 32, "SKEYID");
	ref_expect(&r, sa->keys.skeyid_d, 32, "SKEYID_d");
	ref_expect(&r, sa->keys.skeyid_a, 32, "SKEYID_a");
	ref_expect(&r, sa->keys.skeyid_e, 32, "SKEYID_e");
	ref_expect(&r, sa->keys.key, 32, "the AES-256 key");
	ref_expect(&r, ci->out.enc_key, 16, "the outbound ESP encryption key");
	ref_expect(&r, ci->out.integ_key, 32, "the outbound ESP integrity key");
	ref_done(&r);
	OPENSSL_cleanse(gxy, sizeof(gxy));
	world_end(&w);
}
END_TEST

/* The responder takes the first of the initiator's transforms that one of
 * its methods accepts, whatever its own order. */
START_TEST(initiator_order_in_main_mode)
{
	struct world w;
	struct ike_mm_method mm_aes128 = mm_aes256;

	world_init(&w);
	mm_aes128.suite.encr_bits = 128;
	w.i.pol.n_mm = 2;
	w.i.pol.mm[0] = mm_3des;
	w.i.pol.mm[1] = mm_aes256;
	w.r.pol.n_mm = 2;
	w.r.pol.mm[0] = mm_aes128;
	w.r.pol.mm[1] = mm_3des;
	world_go(&w);
	main_and_quick(&w);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_IKE_UP)->up.mm.suite.encr, IKE_ENCR_3DES);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_IKE_UP)->up.mm.suite.encr, IKE_ENCR_3DES);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_IKE_UP)->up.mm.dh_group, IKE_DH_MODP_2048);
	world_end(&w);
}
END_TEST

/* MD5 and group 2 only with conf.legacy. */
START_TEST(legacy_suites_need_the_option)
{
	static const struct ike_mm_method mm_md5 = {
		{ IKE_ENCR_AES_CBC, 128, IKE_INTEG_NONE, IKE_PRF_HMAC_MD5 }, IKE_DH_MODP_1024
	};
	struct world w;
	struct ike_err err = { 0 };
	struct ikev2_sa_id id;

	world_init(&w);
	w.i.pol.mm[0] = mm_md5;
	w.r.pol.mm[0] = mm_md5;
	world_go(&w);
	ck_assert_int_eq(ikev1_initiate(w.i.e, &w.i.pol, &w.i.ep, &w.r.ep, w.now, &id, &err), -EINVAL);
	world_end(&w);
	world_init(&w);
	w.i.pol.mm[0] = mm_md5;
	w.r.pol.mm[0] = mm_md5;
	w.i.conf.legacy = w.r.conf.legacy = true;
	world_go(&w);
	main_and_quick(&w);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_IKE_UP)->up.mm.suite.prf, IKE_PRF_HMAC_MD5);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	world_end(&w);
}
END_TEST

static const struct ike_mm_method mm_des = {
	{ IKE_ENCR_DES, 0, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA1 }, IKE_DH_ECP_256
};

/* DES only with conf.legacy: an initiator with it offers DES, a responder
 * without it answers NO-PROPOSAL-CHOSEN (counted); with it, both agree. */
START_TEST(des_needs_legacy)
{
	struct world w;
	struct ike_err err = { 0 };
	struct ikev2_sa_id id;
	struct msg m;

	world_init(&w);
	w.i.pol.mm[0] = w.r.pol.mm[0] = mm_des;
	world_go(&w);
	ck_assert_int_eq(ikev1_initiate(w.i.e, &w.i.pol, &w.i.ep, &w.r.ep, w.now, &id, &err), -EINVAL);
	world_end(&w);

	world_init(&w);
	w.i.pol.mm[0] = w.r.pol.mm[0] = mm_des;
	w.i.conf.legacy = true;
	world_go(&w);
	initiate(&w);
	refused(&w, &w.i, -ENOENT);
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_NEGOTIATION_FAILURES), 1);
	m = step(&w, &w.r);
	expect_summary(&m, "N");
	free(m.data);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_FAILED)->reason.notify, ISAKMP_N_NO_PROPOSAL_CHOSEN);
	world_end(&w);

	world_init(&w);
	w.i.pol.mm[0] = w.r.pol.mm[0] = mm_des;
	w.i.conf.legacy = w.r.conf.legacy = true;
	world_go(&w);
	main_and_quick(&w);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_IKE_UP)->up.mm.suite.encr, IKE_ENCR_DES);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_IKE_UP)->up.mm.suite.encr, IKE_ENCR_DES);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	world_end(&w);
}
END_TEST

/* The openssl command's DES-CBC decryption of ct (its legacy provider):
 * into pt, its length. */
static size_t openssl_des_decrypt(const uint8_t *key, const uint8_t *iv, const uint8_t *ct,
				  size_t len, uint8_t *pt, size_t cap)
{
	char path[] = "/tmp/dpsec-des-XXXXXX", cmd[512];
	int fd = mkstemp(path);
	FILE *f;
	size_t n;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, ct, len), (ssize_t)len);
	close(fd);
	n = (size_t)snprintf(cmd, sizeof(cmd), OPENSSL_BIN " enc -d -des-cbc -provider legacy "
			     "-provider default -nopad -in %s -K ", path);
	for (int i = 0; i < 8; i++)
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%02x", key[i]);
	n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, " -iv ");
	for (int i = 0; i < 8; i++)
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%02x", iv[i]);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(pt, 1, cap, f);
	ck_assert_int_eq(pclose(f), 0);
	unlink(path);
	return n;
}

/* Main Mode 5 with DES: the Python reference derives the key (SKEYID_e's
 * first 8 bytes) and the IV (SHA-1 of g^xi | g^xr) from the PSK and what
 * crossed the wire; the openssl command decrypts the message with them
 * and finds IDii (FQDN i.example) and an HASH_I of SHA-1's length. */
START_TEST(des_main_mode_decrypted_by_openssl)
{
	static const char fqdn[] = "i.example";
	struct world w;
	struct ikev2_sa_id id;
	struct ikev1_sa *sa;
	struct msg m5;
	struct ref r = { 0 };
	uint8_t gxy[64], pt[IKE_MSG_MAX];
	const uint8_t *key, *iv;
	size_t glen, n;

	world_init(&w);
	w.i.pol.mm[0] = w.r.pol.mm[0] = mm_des;
	w.i.conf.legacy = w.r.conf.legacy = true;
	fixed_dh(&w);
	world_go(&w);
	id = initiate(&w);
	for (int k = 0; k < 4; k++)
		pass(&w, k % 2 ? &w.r : &w.i);
	m5 = step(&w, &w.i);
	sa = ikev1_find_sa(w.i.e, &id);
	ck_assert_ptr_nonnull(sa);
	memcpy(id.spi_r, sa->id.spi_r, 8);
	glen = fixed_gxy(gxy);
	ref_op(&r, "v1-skeyid-psk sha1");
	ref_hex(&r, (const uint8_t *)"secret", 6);
	ref_hex(&r, sa->ni, sa->ni_len);
	ref_hex(&r, sa->nr, sa->nr_len);
	ref_run(&r);
	ref_expect(&r, sa->keys.skeyid, 20, "SKEYID");
	ref_done(&r);
	ref_op(&r, "v1-keys sha1");
	ref_hex(&r, sa->keys.skeyid, 20);
	ref_hex(&r, gxy, glen);
	ref_hex(&r, id.spi_i, 8);
	ref_hex(&r, id.spi_r, 8);
	ref_add(&r, " 8");
	ref_op(&r, "v1-iv sha1");
	ref_hex(&r, sa->g_xi, sa->g_len);
	ref_hex(&r, sa->g_xr, sa->g_len);
	ref_add(&r, " 8");
	ref_run(&r);
	ref_take(&r, 3 * 20, "SKEYID_d, SKEYID_a, SKEYID_e");
	key = ref_take(&r, 8, "the DES key");
	iv = ref_take(&r, 8, "the Phase 1 IV");
	ck_assert_uint_eq((m5.len - ISAKMP_HDR_LEN) % 8, 0);
	n = openssl_des_decrypt(key, iv, m5.data + ISAKMP_HDR_LEN, m5.len - ISAKMP_HDR_LEN, pt,
				sizeof(pt));
	ref_done(&r);
	ck_assert_uint_eq(n, m5.len - ISAKMP_HDR_LEN);
	ck_assert_uint_eq(pt[0], ISAKMP_PL_HASH);                /* IDii, then HASH_I */
	ck_assert_uint_eq(pt[2] << 8 | pt[3], 8 + strlen(fqdn)); /* 4 + type, protocol, port */
	ck_assert_uint_eq(pt[4], w.i.pol.local_id.type); /* FQDN: 2 in both versions */
	ck_assert_mem_eq(pt + 8, fqdn, strlen(fqdn));
	ck_assert_uint_eq(pt[8 + strlen(fqdn) + 2] << 8 | pt[8 + strlen(fqdn) + 3], 4 + 20);
	free(m5.data);
	pass(&w, &w.r); /* 6 */
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_UP), 1);
	world_end(&w);
}
END_TEST

static void add_hex(char *cmd, size_t cap, const struct msg *m)
{
	size_t n = strlen(cmd);

	n += (size_t)snprintf(cmd + n, cap - n, " ");
	for (size_t k = 0; k < m->len && n + 3 < cap; k++)
		n += (size_t)snprintf(cmd + n, cap - n, "%02x", m->data[k]);
}

/* Main Mode 1 to 4 as scapy's ISAKMP dissector reads them, NAT-D
 * recomputed with hashlib (ike_vectors/check_ikev1_scapy.py). */
START_TEST(main_mode_parsed_by_scapy)
{
	struct world w;
	static char cmd[16384];
	char out[64] = "";
	FILE *f;

	world_init(&w);
	world_go(&w);
	initiate(&w);
	snprintf(cmd, sizeof(cmd), "%s %s", IKE_PYTHON, IKEV1_SCAPY_CHECK);
	for (int k = 0; k < 4; k++) {
		struct msg m = step(&w, k % 2 ? &w.r : &w.i);

		add_hex(cmd, sizeof(cmd), &m);
		free(m.data);
	}
	snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), " 192.0.2.1:500 198.51.100.1:500");
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(out, sizeof(out), f));
	ck_assert_int_eq(pclose(f), 0);
	ck_assert_str_eq(out, "ok\n");
	world_end(&w);
}
END_TEST

START_TEST(conf_checked)
{
	struct ikev1_conf c;
	struct ike_err err = { 0 };

	ikev1_conf_default(&c);
	ck_assert_ptr_null(ikev1_engine_new(&c, &err));
	ck_assert_int_eq(err.code, -EINVAL);
	c.lookup = lookup;
	c.half_open_max = 0;
	ck_assert_ptr_null(ikev1_engine_new(&c, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "half-open"));
	c.half_open_max = 10;
	c.ike_lifetime_s = 9;
	ck_assert_ptr_null(ikev1_engine_new(&c, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "lifetime"));
	ck_assert_str_eq(ikev1_stat_name(IKEV1_STAT_AGGRESSIVE_REFUSED), "aggressive modes refused");
	ck_assert_str_eq(ikev1_stat_name(IKEV1_STAT_COUNT), "?");
}
END_TEST

int main(void)
{
	const TTest *tests[] = {
		main_and_quick_mode_psk,
		wrong_psk,
		no_proposal_chosen,
		duplicates_get_the_cached_answer,
		retransmission_and_give_up,
		half_open_responder_expires,
		aggressive_mode_refused,
		malformed_input_counted,
		nat_traversal_floats_to_4500,
		keys_match_the_reference,
		initiator_order_in_main_mode,
		legacy_suites_need_the_option,
		des_needs_legacy,
		des_main_mode_decrypted_by_openssl,
		main_mode_parsed_by_scapy,
		conf_checked,
	};

	return world_run("ikev1_main", tests, sizeof(tests) / sizeof(tests[0]));
}
