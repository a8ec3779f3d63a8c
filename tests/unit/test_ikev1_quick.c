/* test_ikev1_quick.c - Check tests of the IKEv1 engine's Quick Mode
 * (ike/ikev1_quick.c), in the two-peer world of ikev1_world.h: with and
 * without PFS (and PFS on one side only), a lost Quick Mode 3 recovered,
 * an unanswered Quick Mode given up alone, a corrupted one dropped, ESP
 * 3DES, RESPONDER-LIFETIME, AH in transport mode, AH left out across a
 * NAT by the initiator and refused there by the responder, encapsulation
 * modes that contradict NAT-D refused, selectors outside the
 * responder's policy, and an answer in another encapsulation mode than
 * the one offered refused by the initiator; AES-CCM's and AES-GMAC's
 * transform IDs, Key Length and keys, AES-XCBC-MAC-96's numbers (ESP and
 * AH) and keys, Quick Mode 1 opened to read them; AES-CMAC-96, which IKEv1
 * cannot name, left out of the offer; AES-GCM and AES-GMAC offered with an
 * Authentication Algorithm not chosen. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ike_sk.h"
#include "ikev1_prf.h"
#include "ikev1_world.h"

static const struct ike_qm_method qm_3des = { /* the seeds' "High" */
	IKE_PROTO_ESP, DPSEC_ENC_3DES_CBC, 24, DPSEC_INTEG_HMAC_SHA1_96, 0, false, 3600, 100000
};

START_TEST(quick_mode_with_pfs)
{
	struct world w;
	struct ike_qm_method qm = qm_cbc;

	world_init(&w);
	qm.dh_group = IKE_DH_MODP_2048;
	w.i.pol.qm[0] = qm;
	w.r.pol.qm[0] = qm;
	world_go(&w);
	main_and_quick(&w);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	ck_assert_uint_eq(child_of(&w.i)->method.dh_group, IKE_DH_MODP_2048);
	ck_assert_uint_eq(child_of(&w.r)->method.dh_group, IKE_DH_MODP_2048);
	world_end(&w);
}
END_TEST

START_TEST(pfs_on_one_side_only)
{
	struct world w;
	struct ike_qm_method qm = qm_cbc;

	world_init(&w);
	qm.dh_group = IKE_DH_ECP_256;
	w.i.pol.qm[0] = qm; /* the responder wants no PFS */
	world_go(&w);
	initiate(&w);
	for (int k = 0; k < 6; k++)
		pass(&w, k % 2 ? &w.r : &w.i);
	refused(&w, &w.i, -ENOENT); /* QM 1: refused with a protected NO-PROPOSAL-CHOSEN */
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_FAILED)->reason.notify, ISAKMP_N_NO_PROPOSAL_CHOSEN);
	pass(&w, &w.r);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_FAILED)->reason.notify, ISAKMP_N_NO_PROPOSAL_CHOSEN);
	ck_assert(!last_ev(&w.i, IKEV2_EV_FAILED)->reason.ike_sa_gone);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 0);
	/* the refusal ends our Quick Mode at once: one failure, nothing resent */
	ck_assert_ptr_nonnull(strstr(last_ev(&w.i, IKEV2_EV_FAILED)->reason.text, "Quick Mode"));
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_FAILED), 1);
	ck_assert_uint_eq(ikev1_next_timer(w.i.e), 1000 + 28800 * 1000ull); /* only the lifetime */
	world_end(&w);
}
END_TEST

/* Two Quick Modes of ours await their answers and the peer refuses with a
 * notification that names no SPI (as dpsec's own do): which one it ends
 * cannot be told, so neither is ended (each runs to its answer or its
 * retransmissions' end); the failure is still reported. */
START_TEST(refusal_of_one_of_two_quick_modes_ends_neither)
{
	struct world w;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	struct ike_qm_method qm = qm_cbc;

	world_init(&w);
	qm.dh_group = IKE_DH_ECP_256;
	w.i.pol.qm[0] = qm; /* the responder wants no PFS */
	world_go(&w);
	id = initiate(&w);
	for (int k = 0; k < 6; k++)
		pass(&w, k % 2 ? &w.r : &w.i);
	ck_assert_int_eq(ikev1_quick_mode(w.i.e, &id, w.now, &err), 0);
	refused(&w, &w.i, -ENOENT);
	pass(&w, &w.r);
	ck_assert_ptr_null(strstr(last_ev(&w.i, IKEV2_EV_FAILED)->reason.text, "Quick Mode"));
	ck_assert_uint_eq(ikev1_next_timer(w.i.e), w.now + 500); /* both still resent */
	world_end(&w);
}
END_TEST

START_TEST(lost_quick_mode_3_is_recovered)
{
	struct world w;
	struct msg qm2, qm3, again;

	world_init(&w);
	w.r.conf.retransmit_base_ms = 1000;
	world_go(&w);
	initiate(&w);
	for (int k = 0; k < 6; k++)
		pass(&w, k % 2 ? &w.r : &w.i);
	pass(&w, &w.i);
	qm2 = step(&w, &w.r);
	qm3 = take(&w.i); /* lost */
	w.now += 1000;
	ikev1_tick(w.r.e, w.now); /* the responder resends QM 2 */
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_RETRANSMITS), 1);
	again = step(&w, &w.r);
	ck_assert_mem_eq(again.data, qm2.data, qm2.len);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_REPLAYED_RESPONSES), 1);
	pass(&w, &w.i); /* QM 3 replayed */
	ck_assert_int_eq(count_ev(&w.r, IKEV2_EV_CHILD_UP), 1);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 1);
	free(qm2.data);
	free(qm3.data);
	free(again.data);
	world_end(&w);
}
END_TEST

/* An unanswered Quick Mode fails alone: the ISAKMP SA stays up. */
START_TEST(quick_mode_given_up)
{
	struct world w;

	world_init(&w);
	world_go(&w);
	initiate(&w);
	for (int k = 0; k < 6; k++)
		pass(&w, k % 2 ? &w.r : &w.i);
	free(take(&w.i).data); /* QM 1 lost, and every retransmission */
	for (int k = 0; k < 6; k++) {
		w.now = ikev1_next_timer(w.i.e);
		ikev1_tick(w.i.e, w.now);
		drain(&w.i);
		while (w.i.box.n_out)
			free(take(&w.i).data);
	}
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_RETRANSMITS), 5);
	ck_assert_uint_eq(stat(&w.i, IKEV1_STAT_PEER_TIMEOUTS), 1);
	ck_assert(!last_ev(&w.i, IKEV2_EV_FAILED)->reason.ike_sa_gone);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_FAILED)->reason.rekey_spi_in, 0); /* not a rekey */
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_IKE_DOWN), 0);
	ck_assert_uint_eq(ikev1_sa_count(w.i.e), 1);
	ck_assert_uint_eq(ikev1_next_timer(w.i.e), 1000 + 28800 * 1000ull); /* only the lifetime */
	world_end(&w);
}
END_TEST

START_TEST(corrupted_quick_mode_dropped)
{
	struct world w;
	struct msg qm1;
	uint8_t buf[2048];
	struct ike_err err = { 0 };

	world_init(&w);
	world_go(&w);
	initiate(&w);
	for (int k = 0; k < 6; k++)
		pass(&w, k % 2 ? &w.r : &w.i);
	qm1 = take(&w.i);
	memcpy(buf, qm1.data, qm1.len);
	buf[qm1.len - 20] ^= 1; /* inside the HASH(1)-covered payloads */
	ck_assert_int_lt(feed(&w, &w.r, &(struct msg){ buf, qm1.len, qm1.from, qm1.to }, &err), 0);
	ck_assert_uint_eq(stat(&w.r, IKEV1_STAT_HASH_FAILED) + stat(&w.r, IKEV1_STAT_INVALID_PACKETS), 1);
	nothing_sent(&w.r);
	deliver(&w, &w.r, &qm1);
	free(qm1.data);
	pass(&w, &w.r);
	pass(&w, &w.i);
	pair_agrees(child_of(&w.i), child_of(&w.r));
	world_end(&w);
}
END_TEST

/* Both sides' child SAs agree, with m's algorithms and integrity keys of
 * integ_key_len bytes. */
static void pair_took(struct world *w, const struct ike_qm_method *m, uint8_t integ_key_len)
{
	const struct ike_child *ci = child_of(&w->i), *cr = child_of(&w->r);

	pair_agrees(ci, cr);
	ck_assert_uint_eq(ci->out.enc_alg, m->enc_alg);
	ck_assert_uint_eq(cr->in.enc_alg, m->enc_alg);
	ck_assert_uint_eq(ci->out.enc_key_len, m->enc_key_len);
	ck_assert_uint_eq(ci->out.integ_alg, m->integ_alg);
	ck_assert_uint_eq(ci->out.integ_key_len, integ_key_len);
}

/* The seeds' "High" end to end: Main Mode 3DES/SHA-1, Quick Mode ESP 3DES
 * (transform 3, no Key Length) with HMAC-SHA1-96; the responder prefers
 * AES but takes what the initiator offers. */
START_TEST(quick_mode_3des)
{
	struct world w;

	world_init(&w);
	pair_policy(&w.i.pol, true, &mm_3des, &qm_3des, "secret");
	pair_policy(&w.r.pol, false, &mm_3des, &qm_cbc, "secret");
	w.r.pol.n_qm = 2;
	w.r.pol.qm[1] = qm_3des;
	world_go(&w);
	main_and_quick(&w);
	pair_took(&w, &qm_3des, 20);
	world_end(&w);
}
END_TEST

/* w started with the initiator offering only m, the responder preferring
 * its AES-128-CBC method but having m too. */
static void world_with_method(struct world *w, const struct ike_qm_method *m)
{
	world_init(w);
	w->i.pol.qm[0] = *m;
	w->r.pol.n_qm = 2;
	w->r.pol.qm[1] = *m;
	world_go(w);
}

/* The initiator offers only m; the responder prefers AES-128-CBC but has
 * m too: both sides' pair takes m, with integrity keys of integ_key_len
 * bytes. */
static void initiator_method_taken(const struct ike_qm_method *m, uint8_t integ_key_len)
{
	struct world w;

	world_with_method(&w, m);
	main_and_quick(&w);
	pair_took(&w, m, integ_key_len);
	world_end(&w);
}

/* RFC 2410 in IKEv1: ESP_NULL (transform 11, no Key Length) with
 * HMAC-SHA-256-128; the child SAs have integrity keys alone. */
START_TEST(quick_mode_null_encryption)
{
	static const struct ike_qm_method qm_null = {
		IKE_PROTO_ESP, DPSEC_ENC_NULL, 0, DPSEC_INTEG_HMAC_SHA256_128, 0, false, 3600, 100000
	};

	initiator_method_taken(&qm_null, 32);
}
END_TEST

/* AES-192 (Key Length 192) beside the responder's AES-128: the attribute,
 * not the transform, tells them apart; the pair takes 24-byte keys. */
START_TEST(quick_mode_aes192)
{
	static const struct ike_qm_method qm_aes192 = {
		IKE_PROTO_ESP, DPSEC_ENC_AES_CBC, 24, DPSEC_INTEG_HMAC_SHA256_128, 0, false, 3600, 100000
	};

	initiator_method_taken(&qm_aes192, 32);
}
END_TEST

/* The initiator's exchange of Quick Mode on the SA id. */
static struct ikev1_xchg *quick_xchg(struct side *s, struct ikev2_sa_id id)
{
	struct ikev1_sa *sa = ikev1_find_sa(s->e, &id);

	for (int k = 0; sa != NULL && k < IKEV1_MAX_XCHG; k++)
		if (sa->xchg[k].kind == IKEV1_X_QUICK && sa->xchg[k].initiator)
			return &sa->xchg[k];
	ck_abort_msg("no Quick Mode exchange");
	return NULL;
}

/* Quick Mode 1 as the responder reads it, opened with the keys of s's
 * ISAKMP SA id and the Phase 2 IV of its message ID: its SA payload. */
static void qm1_sa(struct side *s, struct ikev2_sa_id id, const struct msg *m, struct ike_sa *out)
{
	static uint8_t buf[IKE_MSG_MAX];
	struct ikev1_sa *sa = ikev1_find_sa(s->e, &id);
	size_t ct_len = m->len - ISAKMP_HDR_LEN;
	struct ike_err err = { 0 };
	const struct isakmp_payload *p;
	struct ikev1_iv iv, next;
	struct isakmp_msg pm;
	int k = -1;

	ck_assert_ptr_nonnull(sa);
	memcpy(buf, m->data, m->len);
	ck_assert_msg(isakmp_msg_parse(buf, m->len, &pm, &err) == 0, "%s", err.msg);
	ck_assert_msg(ikev1_phase2_iv(&sa->keys, &sa->p1_iv, pm.hdr.msg_id, &iv, &err) == 0, "%s",
		      err.msg);
	ck_assert_msg(ikev1_decrypt(&sa->keys, &iv, buf + ISAKMP_HDR_LEN, ct_len, &next, &err) == 0,
		      "%s", err.msg);
	ck_assert_msg(isakmp_chain_parse(pm.hdr.next_payload, buf + ISAKMP_HDR_LEN, ct_len, &pm,
					 &err) == 0, "%s", err.msg);
	p = isakmp_msg_find(&pm, ISAKMP_PL_SA, &k);
	ck_assert_ptr_nonnull(p);
	ck_assert_msg(isakmp_sa_parse(p->body.p, p->body.len, out, &err) == 0, "%s", err.msg);
}

/* len bytes of KEYMAT of the SA c of the Quick Mode x, from its SPI (RFC
 * 2409 §5.5, no PFS). */
static void sa_keymat(const struct ikev1_sa *sa, const struct ikev1_xchg *x, uint8_t protocol,
		      const struct dpsec_sa_conf *c, uint8_t *km, size_t len)
{
	uint8_t spi[4] = { (uint8_t)(c->spi >> 24), (uint8_t)(c->spi >> 16), (uint8_t)(c->spi >> 8),
			   (uint8_t)c->spi };
	struct ike_err err = { 0 };

	ck_assert_msg(ikev1_qm_keymat(&sa->keys, IKE_CHUNK(NULL, 0), protocol, spi,
				      IKE_CHUNK(x->ni, x->ni_len), IKE_CHUNK(x->nr, x->nr_len), km,
				      len, &err) == 0, "%s", err.msg);
}

/* A combined mode SA of the Quick Mode x with method m as cut from its
 * KEYMAT: the key, then salt_len bytes of salt; the salt field's bytes
 * past it stay 0. */
static void key_salt_cut(const struct ikev1_sa *sa, const struct ikev1_xchg *x,
			 const struct ike_qm_method *m, const struct dpsec_sa_conf *c,
			 size_t salt_len)
{
	uint8_t km[DPSEC_MAX_ENC_KEY + DPSEC_GCM_SALT_LEN];

	sa_keymat(sa, x, IKE_PROTO_ESP, c, km, m->enc_key_len + salt_len);
	ck_assert_uint_eq(c->enc_key_len, m->enc_key_len);
	ck_assert_mem_eq(c->enc_key, km, m->enc_key_len);
	ck_assert_mem_eq(c->salt, km + m->enc_key_len, salt_len);
	for (size_t k = salt_len; k < DPSEC_GCM_SALT_LEN; k++)
		ck_assert_uint_eq(c->salt[k], 0);
}

/* CCM's salt: 3 bytes (RFC 4309 §7.1). */
static void ccm_cut(const struct ikev1_sa *sa, const struct ikev1_xchg *x,
		    const struct ike_qm_method *m, const struct dpsec_sa_conf *c)
{
	key_salt_cut(sa, x, m, c, 3);
}

/* GMAC's salt: 4 bytes, as GCM's (RFC 4543); no integrity key. */
static void gmac_cut(const struct ikev1_sa *sa, const struct ikev1_xchg *x,
		     const struct ike_qm_method *m, const struct dpsec_sa_conf *c)
{
	key_salt_cut(sa, x, m, c, 4);
	ck_assert_uint_eq(c->integ_key_len, 0);
}

/* An SA of the Quick Mode x with method m's algorithms as cut from its
 * KEYMAT: the encryption key (none for AH), then the 16-byte AES-XCBC-MAC
 * key. */
static void xcbc_cut(const struct ikev1_sa *sa, const struct ikev1_xchg *x,
		     const struct ike_qm_method *m, const struct dpsec_sa_conf *c)
{
	uint8_t km[DPSEC_MAX_ENC_KEY + 16];

	sa_keymat(sa, x, m->protocol, c, km, m->enc_key_len + 16u);
	ck_assert_mem_eq(c->enc_key, km, m->enc_key_len);
	ck_assert_uint_eq(c->integ_key_len, 16);
	ck_assert_mem_eq(c->integ_key, km + m->enc_key_len, 16);
}

/* Main Mode, then Quick Mode 1 delivered; *offer its SA payload. */
static struct ikev2_sa_id quick_mode_1(struct world *w, struct ike_sa *offer)
{
	struct ikev2_sa_id id = initiate(w);
	struct msg qm1;

	for (int n = 0; n < 6; n++) /* Main Mode: its last message starts Quick Mode */
		pass(w, n % 2 ? &w->r : &w->i);
	qm1 = step(w, &w->i);
	qm1_sa(&w->i, id, &qm1, offer);
	free(qm1.data);
	return id;
}

typedef void key_cut_fn(const struct ikev1_sa *sa, const struct ikev1_xchg *x,
			const struct ike_qm_method *m, const struct dpsec_sa_conf *c);

/* The initiator offers only m, as Quick Mode 1's one proposal of m's
 * protocol with one transform, `transform`, whose attributes go to *pol;
 * the responder prefers AES-128-CBC with HMAC-SHA-256-128 but has m too:
 * both pairs take m (integrity keys of integ_key_len bytes), and cut
 * checks each SA of the initiator's pair against its KEYMAT. */
static void one_method_pair(const struct ike_qm_method *m, uint16_t transform,
			    uint8_t integ_key_len, struct isakmp_ipsec_policy *pol, key_cut_fn *cut)
{
	struct ike_err err = { 0 };
	const struct ike_child *c;
	struct ikev1_xchg *x;
	struct ikev2_sa_id id;
	struct ikev1_sa *sa;
	struct ike_sa offer;
	struct world w;

	world_with_method(&w, m);
	id = quick_mode_1(&w, &offer);
	ck_assert_uint_eq(offer.n_prop, 1);
	ck_assert_uint_eq(offer.prop[0].protocol, m->protocol);
	ck_assert_uint_eq(offer.n_tr, 1);
	ck_assert_uint_eq(offer.tr[0].id, transform);
	ck_assert_int_eq(isakmp_ipsec_attrs_decode(&offer, &offer.tr[0], pol, &err), 0);
	pass(&w, &w.r);
	pass(&w, &w.i);
	pair_took(&w, m, integ_key_len);
	c = child_of(&w.i);
	ck_assert_uint_eq(c->protocol, m->protocol);
	sa = ikev1_find_sa(w.i.e, &id);
	x = quick_xchg(&w.i, id);
	cut(sa, x, m, &c->out);
	cut(sa, x, m, &c->in);
	world_end(&w);
}

/* RFC 4309 §7.1 in IKEv1: AES-CCM with an 8-, 12- and 16-byte ICV, beside
 * the responder's AES-128-CBC, is offered as ESP transform 14, 15 and 16
 * with its Key Length; both pairs take it, each SA's key and salt cut from
 * its KEYMAT. */
START_TEST(quick_mode_aes_ccm)
{
	static const struct ike_qm_method ccm[] = {
		{ IKE_PROTO_ESP, DPSEC_ENC_AES_CCM_8, 16, DPSEC_INTEG_NONE, 0, false, 3600, 100000 },
		{ IKE_PROTO_ESP, DPSEC_ENC_AES_CCM_12, 32, DPSEC_INTEG_NONE, 0, false, 3600, 100000 },
		{ IKE_PROTO_ESP, DPSEC_ENC_AES_CCM_16, 32, DPSEC_INTEG_NONE, 0, false, 3600, 100000 },
	};
	struct isakmp_ipsec_policy pol;

	for (uint16_t k = 0; k < sizeof(ccm) / sizeof(ccm[0]); k++) {
		one_method_pair(&ccm[k], 14 + k, 0, &pol, ccm_cut);
		ck_assert_uint_eq(pol.key_len, ccm[k].enc_key_len * 8);
	}
}
END_TEST

/* RFC 4543 in IKEv1: security methods as the policy store gives
 * aes128gmac, aes192gmac and aes256gmac (AES-GMAC, a 16-, 24- and 32-byte
 * key), beside the responder's AES-128-CBC, are offered as ESP transform 23
 * (ESP_NULL_AUTH_AES_GMAC) with their Key Length and no Authentication
 * Algorithm; both pairs take them, each SA's key and 4-byte salt cut from
 * its KEYMAT. */
START_TEST(quick_mode_aes_gmac)
{
	struct cfg_sec_method store = { .name = "gmac", .protocol = CFG_PROTO_ESP,
					.enc_alg = DPSEC_ENC_NULL_AUTH_AES_GMAC,
					.lifetime_seconds = 3600, .lifetime_kilobytes = 100000 };
	struct isakmp_ipsec_policy pol;
	struct ike_err err = { 0 };
	struct ike_qm_method m;

	for (uint8_t key = 16; key <= 32; key += 8) {
		store.enc_key_len = key;
		ck_assert_msg(ike_qm_method_from_cfg(&store, 0, &m, &err) == 0, "%s", err.msg);
		one_method_pair(&m, 23, 0, &pol, gmac_cut);
		ck_assert_uint_eq(pol.key_len, key * 8);
		ck_assert_uint_eq(pol.auth, 0);
	}
}
END_TEST

/* AES-XCBC-MAC-96 in IKEv1: ESP AES-128-CBC (transform 12) with it, and
 * AH transform 9 (AH_AES-XCBC-MAC), each with Authentication Algorithm 9
 * (RFC 3566 §5), up with keys from KEYMAT. */
START_TEST(quick_mode_aes_xcbc)
{
	static const struct ike_qm_method esp = {
		IKE_PROTO_ESP, DPSEC_ENC_AES_CBC, 16, DPSEC_INTEG_AES_XCBC_96, 0, false, 3600, 100000
	};
	static const struct ike_qm_method ah = {
		IKE_PROTO_AH, 0, 0, DPSEC_INTEG_AES_XCBC_96, 0, false, 3600, 100000
	};
	struct isakmp_ipsec_policy pol;

	one_method_pair(&esp, 12, 16, &pol, xcbc_cut);
	ck_assert_uint_eq(pol.auth, 9);
	one_method_pair(&ah, 9, 16, &pol, xcbc_cut);
	ck_assert_uint_eq(pol.auth, 9);
}
END_TEST

/* Both sides of w (made, not started) with only method m, which the
 * initiator cannot offer: Main Mode comes up, no Quick Mode starts. */
static void no_quick_mode_with(struct world *w, const struct ike_qm_method *m)
{
	w->i.pol.qm[0] = *m;
	w->r.pol.qm[0] = *m;
	world_go(w);
	initiate(w);
	for (int k = 0; k < 5; k++)
		pass(w, k % 2 ? &w->r : &w->i);
	refused(w, &w->r, -EPROTONOSUPPORT); /* Main Mode 6: up, but no Quick Mode */
	ck_assert_int_eq(count_ev(&w->i, IKEV2_EV_IKE_UP), 1);
	ck_assert_int_eq(count_ev(&w->i, IKEV2_EV_CHILD_UP), 0);
	nothing_sent(&w->i);
	world_end(w);
}

/* ChaCha20-Poly1305 has no IKEv1 transform ID (RFC 7634 is IKEv2's): a
 * policy listing it first still makes a Quick Mode with IKEv1, offering
 * only the methods IKEv1 can name, and both sides agree on the next. */
START_TEST(quick_mode_skips_chacha20_poly1305)
{
	static const struct ike_qm_method qm_chacha = {
		IKE_PROTO_ESP, DPSEC_ENC_CHACHA20_POLY1305, 32, DPSEC_INTEG_NONE, 0, false, 3600, 100000
	};
	struct world w;
	const struct ike_child *ci;

	world_init(&w);
	for (struct side *s = &w.i; s; s = s == &w.i ? &w.r : NULL) {
		s->pol.n_qm = 2;
		s->pol.qm[1] = s->pol.qm[0];
		s->pol.qm[0] = qm_chacha;
	}
	world_go(&w);
	main_and_quick(&w);
	ci = child_of(&w.i);
	ck_assert_uint_eq(ci->out.enc_alg, w.i.pol.qm[1].enc_alg);
	pair_agrees(ci, child_of(&w.r));
	world_end(&w);

	world_init(&w); /* ChaCha20-Poly1305 alone: nothing IKEv1 can offer */
	no_quick_mode_with(&w, &qm_chacha);
}
END_TEST

/* AES-CMAC-96 has no IKEv1 number (RFC 4494 is IKEv2's): with an
 * AES-256-CBC + AES-CMAC-96 method first on both sides, Quick Mode 1
 * offers only the second, as proposal 2 (ESP AES-128-CBC, Authentication
 * Algorithm 5: HMAC-SHA-256-128), which both pairs take, without the
 * first's PFS group; with the CMAC method alone, no Quick Mode starts. */
START_TEST(quick_mode_skips_aes_cmac)
{
	/* with a PFS group the method offered has not: the Quick Mode takes
	 * its group (none) from the method it offers, not from the first */
	static const struct ike_qm_method qm_cmac = {
		IKE_PROTO_ESP, DPSEC_ENC_AES_CBC, 32, DPSEC_INTEG_AES_CMAC_96, IKE_DH_ECP_256, false,
		3600, 100000
	};
	struct isakmp_ipsec_policy pol;
	struct ike_err err = { 0 };
	struct ike_sa offer;
	struct world w;

	world_init(&w);
	for (struct side *s = &w.i; s; s = s == &w.i ? &w.r : NULL) {
		s->pol.n_qm = 2;
		s->pol.qm[1] = s->pol.qm[0];
		s->pol.qm[0] = qm_cmac;
	}
	world_go(&w);
	quick_mode_1(&w, &offer);
	ck_assert_uint_eq(offer.n_prop, 1);
	ck_assert_uint_eq(offer.prop[0].num, 2);
	ck_assert_uint_eq(offer.n_tr, 1);
	ck_assert_uint_eq(offer.tr[0].id, 12);
	ck_assert_int_eq(isakmp_ipsec_attrs_decode(&offer, &offer.tr[0], &pol, &err), 0);
	ck_assert_uint_eq(pol.auth, 5);
	ck_assert_uint_eq(pol.key_len, 128);
	pass(&w, &w.r);
	pass(&w, &w.i);
	pair_took(&w, &qm_cbc, 32);
	world_end(&w);

	world_init(&w);
	no_quick_mode_with(&w, &qm_cmac);
}
END_TEST

/* An offer longer than the responder's lifetime is answered with
 * RESPONDER-LIFETIME and the shorter one holds on both sides. */
START_TEST(responder_lifetime)
{
	struct world w;

	world_init(&w);
	w.r.pol.qm[0].lifetime_seconds = 1200;
	w.r.pol.qm[0].lifetime_kilobytes = 5000;
	world_go(&w);
	main_and_quick(&w);
	ck_assert_uint_eq(child_of(&w.r)->method.lifetime_seconds, 1200);
	ck_assert_uint_eq(child_of(&w.i)->method.lifetime_seconds, 1200);
	ck_assert_uint_eq(child_of(&w.i)->method.lifetime_kilobytes, 5000);
	world_end(&w);
}
END_TEST

/* Both policies transport mode between the two hosts themselves. */
static void transport_policies(struct world *w)
{
	w->i.pol.transport = w->r.pol.transport = true;
	w->i.pol.ts_local = ts_prefix(w->i.ep.addr, 32);
	w->i.pol.ts_remote = ts_prefix(w->r.ep.addr, 32);
	w->r.pol.ts_local = w->i.pol.ts_remote;
	w->r.pol.ts_remote = w->i.pol.ts_local;
}

START_TEST(ah_and_transport_mode)
{
	static const struct ike_qm_method qm_ah = {
		IKE_PROTO_AH, 0, 0, DPSEC_INTEG_HMAC_SHA1_96, 0, false, 3600, 100000
	};
	struct world w;
	const struct ike_child *ci;

	world_init(&w);
	w.i.pol.qm[0] = qm_ah;
	w.r.pol.qm[0] = qm_ah;
	transport_policies(&w);
	world_go(&w);
	main_and_quick(&w);
	ci = child_of(&w.i);
	ck_assert_uint_eq(ci->protocol, IKE_PROTO_AH);
	ck_assert_uint_eq(ci->out.integ_alg, DPSEC_INTEG_HMAC_SHA1_96);
	ck_assert_uint_eq(ci->out.integ_key_len, 20);
	ck_assert_uint_eq(ci->out.mode, DPSEC_MODE_TRANSPORT);
	ck_assert_uint_eq(child_of(&w.r)->out.mode, DPSEC_MODE_TRANSPORT);
	pair_agrees(ci, child_of(&w.r));
	world_end(&w);
}
END_TEST

/* AH covers the outer addresses: once NAT-D found a NAT, Quick Mode offers
 * only the ESP methods (in UDP), and without one it starts no Quick Mode. */
static const struct ike_qm_method qm_ah_sha1 = {
	IKE_PROTO_AH, 0, 0, DPSEC_INTEG_HMAC_SHA1_96, 0, false, 3600, 100000
};

static void nat_world(struct world *w)
{
	world_init(w);
	w->nat = true;
	w->nat_ep = (struct ike_endpoint){ v4(203, 0, 113, 7), 40000 };
}

START_TEST(nat_leaves_ah_out)
{
	struct world w;
	const struct ike_child *ci;

	nat_world(&w);
	for (struct side *s = &w.i; s; s = s == &w.i ? &w.r : NULL) {
		s->pol.n_qm = 2;
		s->pol.qm[1] = s->pol.qm[0]; /* ESP second: AH would be chosen first */
		s->pol.qm[0] = qm_ah_sha1;
	}
	world_go(&w);
	main_and_quick(&w);
	ci = child_of(&w.i);
	ck_assert_uint_eq(ci->protocol, IKE_PROTO_ESP);
	ck_assert(ci->udp_encap);
	ck_assert_uint_eq(child_of(&w.r)->protocol, IKE_PROTO_ESP);
	pair_agrees(ci, child_of(&w.r));
	world_end(&w);
}
END_TEST

START_TEST(nat_with_only_ah_starts_no_quick_mode)
{
	struct world w;

	nat_world(&w);
	no_quick_mode_with(&w, &qm_ah_sha1);
}
END_TEST

/* The responder's own filters, which a dpsec initiator never reaches: Main
 * Mode up (through a NAT if nat), its last message read by an initiator
 * made to misjudge the NAT for that message only, as a peer ignoring
 * RFC 3947 would: forgetting a NAT, its Quick Mode 1 offers every method
 * of its policy, AH included, in plain tunnel mode; imagining one, it
 * offers ESP in UDP. The responder's policy has AH first, then ESP. */
static void qm1_misjudging_nat(struct world *w, bool nat, const struct ike_qm_method *offered,
			       uint8_t n)
{
	struct ikev2_sa_id id;
	struct ikev1_sa *sa;
	bool remote_nat;

	if (nat)
		nat_world(w);
	else
		world_init(w);
	w->i.pol.n_qm = n;
	memcpy(w->i.pol.qm, offered, n * sizeof(*offered));
	w->r.pol.n_qm = 2;
	w->r.pol.qm[0] = qm_ah_sha1;
	w->r.pol.qm[1] = qm_cbc;
	world_go(w);
	initiate(w);
	for (int k = 0; k < 5; k++)
		pass(w, k % 2 ? &w->r : &w->i);
	id = last_ev(&w->i, IKEV2_EV_NAT)->sa;
	ck_assert(ikev1_find_sa(w->r.e, &id)->remote_nat == nat); /* what the responder found */
	sa = ikev1_find_sa(w->i.e, &id);
	ck_assert(sa->local_nat == nat);
	remote_nat = sa->remote_nat;
	sa->local_nat = sa->remote_nat = !nat;
	pass(w, &w->r); /* Main Mode 6: up, and Quick Mode 1 goes out */
	sa->local_nat = nat;
	sa->remote_nat = remote_nat;
}

/* The responder chose nothing from Quick Mode 1, which it refused: a
 * protected NO-PROPOSAL-CHOSEN, no pair on either side, the ISAKMP SA
 * kept. */
static void nothing_chosen(struct world *w)
{
	ck_assert_uint_eq(last_ev(&w->r, IKEV2_EV_FAILED)->reason.notify, ISAKMP_N_NO_PROPOSAL_CHOSEN);
	ck_assert_int_eq(count_ev(&w->r, IKEV2_EV_CHILD_UP), 0);
	ck_assert_uint_eq(stat(&w->r, IKEV1_STAT_CHILD_ESTABLISHED), 0);
	pass(w, &w->r);
	ck_assert_uint_eq(last_ev(&w->i, IKEV2_EV_FAILED)->reason.notify, ISAKMP_N_NO_PROPOSAL_CHOSEN);
	ck_assert(!last_ev(&w->i, IKEV2_EV_FAILED)->reason.ike_sa_gone);
	ck_assert_int_eq(count_ev(&w->i, IKEV2_EV_CHILD_UP), 0);
	ck_assert_uint_eq(ikev1_sa_count(w->r.e), 1);
}

/* Quick Mode 1 refused by the responder, which chose nothing. */
static void no_proposal_chosen(struct world *w)
{
	refused(w, &w->i, -ENOENT);
	nothing_chosen(w);
}

/* Offered only AH across the NAT, the responder chooses nothing. */
START_TEST(nat_responder_refuses_ah)
{
	struct world w;

	qm1_misjudging_nat(&w, true, &qm_ah_sha1, 1);
	no_proposal_chosen(&w);
	world_end(&w);
}
END_TEST

/* Offered AH and then ESP in plain tunnel mode across the NAT, the
 * responder takes neither: plain ESP would not cross the NAT, and ESP in
 * UDP, which NAT-D calls for, is not what was offered (RFC 3947 §5.1). */
START_TEST(nat_responder_refuses_plain_esp)
{
	const struct ike_qm_method offered[2] = { qm_ah_sha1, qm_cbc };
	struct world w;

	qm1_misjudging_nat(&w, true, offered, 2);
	no_proposal_chosen(&w);
	world_end(&w);
}
END_TEST

/* Offered ESP in UDP where NAT-D found no NAT, the responder refuses it:
 * the peers would encapsulate differently. */
START_TEST(responder_refuses_udp_without_nat)
{
	struct world w;

	qm1_misjudging_nat(&w, false, &qm_cbc, 1);
	no_proposal_chosen(&w);
	world_end(&w);
}
END_TEST

/* Main Mode between an initiator with the one method offered and a
 * responder with held, then the initiator's Quick Mode 1, whose first
 * transform has the ID transform (its attributes into pol), refused by
 * the responder, which chooses nothing (nothing_chosen). */
static void quick_mode_1_refused(const struct ike_qm_method *offered,
				 const struct ike_qm_method *held, uint16_t transform,
				 struct isakmp_ipsec_policy *pol)
{
	struct ike_err err = { 0 };
	struct ikev2_sa_id id;
	struct ike_sa offer;
	struct world w;
	struct msg qm1;

	world_init(&w);
	w.i.pol.qm[0] = *offered;
	w.r.pol.qm[0] = *held;
	world_go(&w);
	id = initiate(&w);
	for (int n = 0; n < 6; n++)
		pass(&w, n % 2 ? &w.r : &w.i);
	qm1 = take(&w.i);
	qm1_sa(&w.i, id, &qm1, &offer);
	ck_assert_uint_eq(offer.tr[0].id, transform);
	ck_assert_int_eq(isakmp_ipsec_attrs_decode(&offer, &offer.tr[0], pol, &err), 0);
	ck_assert_int_eq(feed(&w, &w.r, &qm1, &err), -ENOENT);
	free(qm1.data);
	nothing_chosen(&w);
	world_end(&w);
}

/* AES-GCM and AES-GMAC have no integrity algorithm beside them: offered
 * with one (a method with HMAC-SHA-256-128 too: ESP transform 20 or 23
 * with Authentication Algorithm 5 and Key Length 256), they are not
 * chosen by a responder that has the cipher alone. */
START_TEST(combined_mode_with_auth_not_chosen)
{
	static const struct { uint8_t alg; uint16_t transform; } modes[] = {
		{ DPSEC_ENC_AES_GCM_16, 20 },
		{ DPSEC_ENC_NULL_AUTH_AES_GMAC, 23 },
	};

	for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
		const struct ike_qm_method alone = { IKE_PROTO_ESP, modes[k].alg, 32,
						     DPSEC_INTEG_NONE, 0, false, 3600, 100000 };
		struct ike_qm_method with_auth = alone;
		struct isakmp_ipsec_policy pol;

		with_auth.integ_alg = DPSEC_INTEG_HMAC_SHA256_128;
		quick_mode_1_refused(&with_auth, &alone, modes[k].transform, &pol);
		ck_assert_uint_eq(pol.auth, 5);
		ck_assert_uint_eq(pol.key_len, 256);
	}
}
END_TEST

/* AES offered without its Key Length attribute (an initiator whose AES
 * method has no key length leaves it out): RFC 3602 §5.3 says it MUST be
 * there, so the responder, which has AES-128, does not read it as
 * AES-128 and chooses nothing. */
START_TEST(aes_without_key_length_not_chosen)
{
	struct ike_qm_method no_length = qm_cbc;
	struct isakmp_ipsec_policy pol;

	no_length.enc_key_len = 0;
	quick_mode_1_refused(&no_length, &qm_cbc, 12 /* ESP_AES */, &pol);
	ck_assert_uint_eq(pol.key_len, 0); /* absent */
}
END_TEST

/* Selectors outside the responder's policy: INVALID-ID-INFORMATION. */
START_TEST(selectors_outside_policy)
{
	struct world w;

	world_init(&w);
	w.i.pol.ts_local = ts_prefix(v4(10, 9, 0, 0), 16);
	world_go(&w);
	initiate(&w);
	for (int k = 0; k < 6; k++)
		pass(&w, k % 2 ? &w.r : &w.i);
	refused(&w, &w.i, -ENOENT);
	ck_assert_uint_eq(last_ev(&w.r, IKEV2_EV_FAILED)->reason.notify,
			  ISAKMP_N_INVALID_ID_INFORMATION);
	pass(&w, &w.r);
	ck_assert_uint_eq(last_ev(&w.i, IKEV2_EV_FAILED)->reason.notify,
			  ISAKMP_N_INVALID_ID_INFORMATION);
	world_end(&w);
}
END_TEST

/* An answer in the other encapsulation mode than the one offered (here
 * the initiator made to have offered tunnel mode once the responder chose
 * its transport-mode transform): refused, no pair installed (the peers
 * would frame packets differently). */
START_TEST(answer_in_another_mode_refused)
{
	struct world w;
	struct ikev2_sa_id id;

	world_init(&w);
	transport_policies(&w);
	world_go(&w);
	id = initiate(&w);
	for (int k = 0; k < 7; k++) /* Main Mode, then Quick Mode 1 */
		pass(&w, k % 2 ? &w.r : &w.i);
	quick_xchg(&w.i, id)->transport = false;
	refused(&w, &w.r, -EPROTO);
	ck_assert_int_eq(count_ev(&w.i, IKEV2_EV_CHILD_UP), 0);
	ck_assert_ptr_nonnull(strstr(last_ev(&w.i, IKEV2_EV_FAILED)->reason.text,
				     "encapsulation mode is transport, tunnel was offered"));
	world_end(&w);
}
END_TEST

int main(void)
{
	const TTest *tests[] = {
		quick_mode_with_pfs,
		pfs_on_one_side_only,
		refusal_of_one_of_two_quick_modes_ends_neither,
		lost_quick_mode_3_is_recovered,
		quick_mode_given_up,
		corrupted_quick_mode_dropped,
		nat_leaves_ah_out,
		nat_with_only_ah_starts_no_quick_mode,
		nat_responder_refuses_ah,
		nat_responder_refuses_plain_esp,
		responder_refuses_udp_without_nat,
		quick_mode_3des,
		quick_mode_null_encryption,
		quick_mode_aes192,
		quick_mode_aes_ccm,
		quick_mode_aes_gmac,
		quick_mode_aes_xcbc,
		quick_mode_skips_chacha20_poly1305,
		quick_mode_skips_aes_cmac,
		responder_lifetime,
		ah_and_transport_mode,
		combined_mode_with_auth_not_chosen,
		aes_without_key_length_not_chosen,
		selectors_outside_policy,
		answer_in_another_mode_refused,
	};

	return world_run("ikev1_quick", tests, sizeof(tests) / sizeof(tests[0]));
}
