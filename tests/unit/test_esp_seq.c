/* test_esp_seq.c - outbound sequence numbers through the real dp_esp_out:
 * they start at 1 and rise by one per packet; without ESN an SA whose
 * 32-bit space is spent stops and drops (RFC 4303 §3.3.3: never wraps);
 * with ESN the low half rolls over into the next epoch, whose high half
 * goes into the ICV (checked by decrypting with the matching inbound SA).
 * Numbers are reserved per run of packets sharing an SA: a burst gets
 * consecutive numbers, interleaved SAs each their own sequence, and a burst
 * crossing the end of the space sends what fits. A static key's SA with a
 * sequence file goes on after a reinstall or a restart, waits at the end
 * of its reserved numbers, and may not share its key, nor an AES-GCM key
 * with an SA of the other direction. Each cipher's layout (IV
 * length, padding to its block) is checked by length and a round trip, and
 * one SPI to two of the gateway's addresses finds two SAs. The outer
 * header and SA moves: test_esp_outer.c. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "dp_pkt.h"
#include "dp_policy.h"
#include "dp_test_worker.h"
#include "esp.h"
#include "ofl_engine.h"
#include "check_run.h"

#include "esp_out_world.h"

START_TEST(test_seq_starts_at_one)
{
	install_pair(false, DPSEC_ENC_AES_GCM_16);
	for (uint32_t i = 1; i <= 3; i++) {
		struct rte_mbuf *m = send_one();

		ck_assert_ptr_nonnull(m);
		ck_assert_uint_eq(wire_seq(m), i);
		rte_pktmbuf_free(m);
	}
}
END_TEST

START_TEST(test_no_esn_stops_at_exhaustion)
{
	struct rte_mbuf *m;

	install_pair(false, loop_algs[_i]);
	ctx.sas.sa[0]->seq = UINT32_MAX - 1;
	m = send_one();
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(wire_seq(m), UINT32_MAX); /* the last number is still used */
	rte_pktmbuf_free(m);
	for (int i = 0; i < 3; i++)
		ck_assert_ptr_null(send_one());
	ck_assert_uint_eq(worker.ctr->c[DP_DROP_seq_overflow], 3);
	ck_assert_uint_eq(ctx.sas.sa[0]->stopped, 1);
	ck_assert_uint_eq(worker.sa_ctr[0].drops, 3);
}
END_TEST

START_TEST(test_esn_rolls_into_next_epoch)
{
	struct rte_mbuf *m;

	install_pair(true, loop_algs[_i]);
	ctx.sas.sa[0]->seq = UINT32_MAX - 1;
	dp_replay_init(ctx.sas.sa[1]->replay, 64, UINT32_MAX - 2);
	m = send_one();
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(wire_seq(m), UINT32_MAX);
	ck_assert(decrypts(m));
	m = send_one();
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(wire_seq(m), 0); /* low half 0 of epoch 1 is valid with ESN */
	ck_assert_uint_eq(ctx.sas.sa[0]->seq, 1ull << 32);
	ck_assert(decrypts(m)); /* the ICV covered high half 1: inferred right */
	ck_assert_uint_eq(ctx.sas.sa[1]->replay->top, 1ull << 32);
	ck_assert_uint_eq(ctx.sas.sa[0]->stopped, 0);
}
END_TEST

/* One packet on outbound slot out numbered seq, parsed for the inbound path. */
static struct rte_mbuf *send_numbered(uint32_t out, uint64_t seq)
{
	struct rte_mbuf *m;

	ctx.sas.sa[out]->seq = seq - 1;
	ck_assert_uint_eq(send_burst(&m, 1, &out), 1);
	ck_assert_int_eq(dp_parse_ip(m, dp_meta(m)), 0);
	return m;
}

/* With ESN, a packet whose high half the window infers wrongly until an
 * earlier packet of the same burst has moved it (the window's top at 100,
 * a jump to 2^32 - 10, then 2^32 + 50: read with top 100, low half 50 is
 * epoch 0) waits for the next crypto batch. Two SAs interleaved in one
 * burst: each SA's own earlier packets decide its wait, so SA X's second
 * packet waits though SA Y's came between. Y's inbound twin of outbound
 * slot 2 (SPI 0x4343) is in slot 65, whose index shares X's (slot 1)
 * bucket of the batch's table of numbers (64 buckets). */
START_TEST(test_esn_epoch_jump_within_one_burst_two_sas)
{
	struct dpsec_sa_conf c = test_conf(true, loop_algs[_i]);
	const uint64_t jump = (1ull << 32) - 10, next = (1ull << 32) + 50;
	struct rte_mbuf *m[4];
	char err[256];

	install_pair(true, loop_algs[_i]);
	c.direction = DPSEC_DIR_IN;
	c.spi = 0x4343;
	c.local.a[3] = 2;
	ck_assert_msg(dp_sa_install(&ctx.sas, worker.crypto, 65, &c, dp_cfg_rule_id(0), NULL, err,
				    sizeof(err)) == 0, "%s", err);
	dp_replay_init(ctx.sas.sa[1]->replay, 64, 100);
	dp_replay_init(ctx.sas.sa[65]->replay, 64, 100);
	m[0] = send_numbered(0, jump);
	m[1] = send_numbered(2, jump);
	m[2] = send_numbered(0, next);
	m[3] = send_numbered(2, next);
	ck_assert_uint_eq(dp_esp_in(&worker, m, 4), 4);
	ck_assert_uint_eq(worker.ctr->c[DP_DROP_icv], 0);
	ck_assert_uint_eq(worker.sa_ctr[1].packets, 2);
	ck_assert_uint_eq(worker.sa_ctr[65].packets, 2);
	ck_assert_uint_eq(ctx.sas.sa[1]->replay->top, next);
	ck_assert_uint_eq(ctx.sas.sa[65]->replay->top, next);
	free_all(m, 4);
}
END_TEST

START_TEST(test_burst_gets_consecutive_numbers)
{
	struct rte_mbuf *m[DP_BURST];
	uint16_t got;

	install_pair(false, loop_algs[_i]);
	got = send_burst(m, DP_BURST, NULL);
	ck_assert_uint_eq(got, DP_BURST);
	for (uint16_t i = 0; i < got; i++)
		ck_assert_uint_eq(wire_seq(m[i]), i + 1u);
	ck_assert_uint_eq(ctx.sas.sa[0]->seq, DP_BURST);
	ck_assert_uint_eq(worker.sa_ctr[0].packets, DP_BURST);
	ck_assert_uint_eq(worker.sa_ctr[0].bytes, DP_BURST * 28);
	ck_assert_uint_eq(worker.ctr->c[DP_C_esp_out_packets], DP_BURST);
	ck_assert_uint_eq(worker.ctr->c[DP_C_bytes_sent_in_tunnels], DP_BURST * 28);
	free_all(m, got);
}
END_TEST

/* Runs of two SAs in one burst: each SA numbers its own packets. */
START_TEST(test_interleaved_sas_number_separately)
{
	static const uint32_t sa_of[10] = { 0, 0, 2, 2, 2, 0, 2, 0, 0, 2 };
	uint32_t next[3] = { 1, 1, 1 };
	struct rte_mbuf *m[10];
	uint16_t got;

	install_pair(false, DPSEC_ENC_AES_GCM_16);
	got = send_burst(m, 10, sa_of);
	ck_assert_uint_eq(got, 10);
	for (uint16_t i = 0; i < got; i++) {
		ck_assert_uint_eq(wire_spi(m[i]), sa_of[i] == 0 ? 0x4242 : 0x4343);
		ck_assert_uint_eq(wire_seq(m[i]), next[sa_of[i]]++);
	}
	ck_assert_uint_eq(worker.sa_ctr[0].packets, 5);
	ck_assert_uint_eq(worker.sa_ctr[2].packets, 5);
	free_all(m, got);
}
END_TEST

/* A burst that crosses 2^32 - 1 without ESN: what fits goes, the rest is
 * dropped and counted, and the SA stops. */
START_TEST(test_burst_crossing_exhaustion)
{
	struct rte_mbuf *m[8];
	uint16_t got;

	install_pair(false, DPSEC_ENC_AES_GCM_16);
	ctx.sas.sa[0]->seq = UINT32_MAX - 3;
	got = send_burst(m, 8, NULL);
	ck_assert_uint_eq(got, 3);
	for (uint16_t i = 0; i < got; i++)
		ck_assert_uint_eq(wire_seq(m[i]), UINT32_MAX - 2 + i);
	ck_assert_uint_eq(worker.ctr->c[DP_DROP_seq_overflow], 5);
	ck_assert_uint_eq(worker.sa_ctr[0].drops, 5);
	ck_assert_uint_eq(ctx.sas.sa[0]->stopped, 1);
	free_all(m, got);
}
END_TEST

/* --- static keys: sequence numbers reserved in a sequence file --------- */

static char seq_dir[64], seq_path[128];

/* A store on a file in a fresh directory. */
static struct dp_seq_store *fresh_store(void)
{
	struct dp_seq_store *st;
	char err[512];

	snprintf(seq_dir, sizeof(seq_dir), "/tmp/dpsec-esp-seq-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(seq_dir));
	snprintf(seq_path, sizeof(seq_path), "%s/gw.seq", seq_dir);
	ck_assert_msg(dp_seq_store_open(&st, seq_path, err, sizeof(err)) == 0, "%s", err);
	return st;
}

static void remove_store(struct dp_seq_store *st)
{
	dp_seq_store_close(st);
	unlink(seq_path);
	rmdir(seq_dir);
}

/* An SA with install_pair's key in slot (its SA taken out first), with
 * st as the table's store; negotiated: keys IKE made. Returns
 * dp_sa_install's result, its message in err. */
static int reinstall(struct dp_seq_store *st, bool negotiated, uint32_t slot, uint8_t direction,
		     uint8_t enc_alg, char *err)
{
	struct dpsec_sa_conf c = test_conf(false, enc_alg);
	struct dp_sa *old = dp_sa_unpublish(&ctx.sas, slot);

	if (old != NULL)
		dp_sa_destroy(&ctx.sas, old);
	snprintf(c.name, sizeof(c.name), "static-%u", slot);
	c.direction = direction;
	c.negotiated = negotiated;
	if (direction == DPSEC_DIR_IN)
		c.local.a[3] = 7; /* its own SAD key */
	ctx.sas.seq_store = st;
	return dp_sa_install(&ctx.sas, worker.crypto, slot, &c, direction == DPSEC_DIR_IN ? dp_cfg_rule_id(0) : 0,
			     NULL, err, 512);
}

/* An outbound GCM SA with the tests' key installed again in slot. */
static int reinstall_out(struct dp_seq_store *st, bool negotiated, uint32_t slot, char *err)
{
	return reinstall(st, negotiated, slot, DPSEC_DIR_OUT, DPSEC_ENC_AES_GCM_16, err);
}

/* reinstall_out(), its first numbers granted as after a batch of commands. */
static int reinstall_granted(struct dp_seq_store *st, bool negotiated, uint32_t slot, char *err)
{
	int rc = reinstall_out(st, negotiated, slot, err);

	return rc < 0 ? rc : dp_sa_grants_commit(&ctx.sas, err, 512);
}

/* A static key's SA starts after the numbers its key had reserved: a
 * reinstall (a deleted SA added again) and a new store on the same file
 * (a new dpsecd) both go on past the last chunk, never back to 1. */
START_TEST(test_static_key_goes_on_after_restart)
{
	struct dp_seq_store *st = fresh_store();
	struct rte_mbuf *m;
	char err[512];

	install_pair(false, DPSEC_ENC_AES_GCM_16);
	ck_assert_msg(reinstall_granted(st, false, 0, err) == 0, "%s", err);
	ck_assert_uint_eq(ctx.sas.sa[0]->seq_limit, DP_SEQ_CHUNK);
	m = send_one();
	ck_assert_uint_eq(wire_seq(m), 1);
	rte_pktmbuf_free(m);
	ck_assert_msg(reinstall_granted(st, false, 0, err) == 0, "%s", err);
	m = send_one();
	ck_assert_uint_eq(wire_seq(m), DP_SEQ_CHUNK + 1);
	rte_pktmbuf_free(m);
	dp_seq_store_close(st);
	ck_assert_int_eq(dp_seq_store_open(&st, seq_path, err, sizeof(err)), 0);
	install_pair(false, DPSEC_ENC_AES_GCM_16);
	ck_assert_msg(reinstall_granted(st, false, 0, err) == 0, "%s", err);
	m = send_one();
	ck_assert_uint_eq(wire_seq(m), 2 * DP_SEQ_CHUNK + 1);
	ck_assert(decrypts(m)); /* the inbound twin (no window yet at that number) takes it */
	ctx.sas.seq_store = NULL;
	remove_store(st);
}
END_TEST

/* The manager tops a static key's SA up when at most half a chunk of its
 * numbers is left, not before; not one whose first chunk awaits its
 * commit, nor one without a reservation. */
START_TEST(test_top_up_at_half_a_chunk)
{
	struct dp_seq_store *st = fresh_store();
	char err[512];
	struct dp_sa *sa;

	install_pair(false, DPSEC_ENC_AES_GCM_16);
	ck_assert_msg(reinstall_out(st, false, 0, err) == 0, "%s", err);
	sa = ctx.sas.sa[0];
	ck_assert_int_eq(dp_sa_seq_top_up(&ctx.sas, sa, err, sizeof(err)), 0);
	ck_assert_uint_eq(sa->seq_limit, 0); /* first chunk awaiting its commit: untouched */
	ck_assert_int_eq(dp_sa_grants_commit(&ctx.sas, err, sizeof(err)), 0);
	sa->seq = DP_SEQ_CHUNK / 2 - 1; /* one more than half left */
	ck_assert_int_eq(dp_sa_seq_top_up(&ctx.sas, sa, err, sizeof(err)), 0);
	ck_assert_uint_eq(sa->seq_limit, DP_SEQ_CHUNK);
	sa->seq = DP_SEQ_CHUNK / 2; /* half left */
	ck_assert_int_eq(dp_sa_seq_top_up(&ctx.sas, sa, err, sizeof(err)), 0);
	ck_assert_uint_eq(sa->seq_limit, 2 * DP_SEQ_CHUNK);
	ck_assert_msg(reinstall_granted(st, true, 2, err) == 0, "%s", err); /* IKE's keys */
	ctx.sas.sa[2]->seq = UINT32_MAX - 10;
	ck_assert_int_eq(dp_sa_seq_top_up(&ctx.sas, ctx.sas.sa[2], err, sizeof(err)), 0);
	ck_assert_uint_eq(ctx.sas.sa[2]->seq_limit, UINT32_MAX);
	ctx.sas.seq_store = NULL;
	remove_store(st);
}
END_TEST

/* A new SA's first chunk is usable once the batch that installed it is
 * committed (one sync for all): before, its packets wait as seq_unsaved. */
START_TEST(test_first_chunk_usable_after_commit)
{
	struct dp_seq_store *st = fresh_store();
	struct rte_mbuf *m;
	char err[512];

	install_pair(false, DPSEC_ENC_AES_GCM_16);
	ck_assert_msg(reinstall_out(st, false, 0, err) == 0, "%s", err);
	ck_assert_ptr_null(send_one());
	ck_assert_uint_eq(worker.ctr->c[DP_DROP_seq_unsaved], 1);
	ck_assert_int_eq(dp_sa_grants_commit(&ctx.sas, err, sizeof(err)), 0);
	m = send_one();
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(wire_seq(m), 2); /* number 1 went with the dropped one, unused */
	rte_pktmbuf_free(m);
	ck_assert_uint_eq(ctx.sas.sa[0]->seq_limit, DP_SEQ_CHUNK);
	ctx.sas.seq_store = NULL;
	remove_store(st);
}
END_TEST

/* At its limit the SA waits, not stops: the packets past it are dropped
 * as seq_unsaved; the manager's next grant lets it go on, from where its
 * counter got to. */
START_TEST(test_static_key_waits_at_its_limit)
{
	struct dp_seq_store *st = fresh_store();
	struct rte_mbuf *m[5];
	char err[512];
	uint16_t got;

	install_pair(false, DPSEC_ENC_AES_GCM_16);
	ck_assert_msg(reinstall_granted(st, false, 0, err) == 0, "%s", err);
	ctx.sas.sa[0]->seq_limit = 2; /* as if only 2 had been reserved */
	got = send_burst(m, 5, NULL);
	ck_assert_uint_eq(got, 2);
	ck_assert_uint_eq(wire_seq(m[0]), 1);
	ck_assert_uint_eq(wire_seq(m[1]), 2);
	free_all(m, got);
	ck_assert_uint_eq(worker.ctr->c[DP_DROP_seq_unsaved], 3);
	ck_assert_uint_eq(worker.ctr->c[DP_DROP_seq_overflow], 0);
	ck_assert_uint_eq(ctx.sas.sa[0]->stopped, 0);
	ck_assert_int_eq(dp_sa_seq_grant(&ctx.sas, ctx.sas.sa[0], err, sizeof(err)), 0);
	ck_assert_uint_eq(ctx.sas.sa[0]->seq_limit, 2 * DP_SEQ_CHUNK);
	got = send_burst(m, 1, NULL);
	ck_assert_uint_eq(got, 1);
	ck_assert_uint_eq(wire_seq(m[0]), 6); /* 3..5 were counted, never sent */
	free_all(m, got);
	dp_seq_store_close(st); /* the grant was saved before it was used */
	ck_assert_int_eq(dp_seq_store_open(&st, seq_path, err, sizeof(err)), 0);
	install_pair(false, DPSEC_ENC_AES_GCM_16);
	ck_assert_msg(reinstall_granted(st, false, 0, err) == 0, "%s", err);
	ck_assert_uint_eq(ctx.sas.sa[0]->seq, 2 * DP_SEQ_CHUNK);
	ctx.sas.seq_store = NULL;
	remove_store(st);
}
END_TEST

/* Two installed outbound SAs may not share a static key (their numbers,
 * and GCM's nonces, would repeat); keys IKE made are not recorded. */
START_TEST(test_static_key_shared_refused_negotiated_not_saved)
{
	struct dp_seq_store *st = fresh_store();
	struct stat sb;
	char err[512];

	install_pair(false, DPSEC_ENC_AES_GCM_16);
	ck_assert_msg(reinstall_out(st, true, 0, err) == 0, "%s", err);
	ck_assert_uint_eq(ctx.sas.sa[0]->seq_limit, UINT32_MAX);
	ck_assert_int_ne(stat(seq_path, &sb), 0); /* nothing reserved: no file */
	ck_assert_msg(reinstall_out(st, false, 0, err) == 0, "%s", err);
	ck_assert_int_eq(reinstall_out(st, false, 2, err), -EEXIST);
	ck_assert_msg(strstr(err, "same key") != NULL, "%s", err);
	ck_assert_ptr_null(ctx.sas.sa[2]);
	ctx.sas.seq_store = NULL;
	remove_store(st);
}
END_TEST

/* A static key whose first numbers cannot be reserved (its file cannot
 * be made): the SA is refused, the message naming the SA, then the file;
 * the key is given back (a second SA with it meets the file, not the
 * first SA's claim), and the SA goes in with a file that can be made. */
START_TEST(test_unreservable_key_refuses_its_sa)
{
	static const char unwritable[] = "/proc/dpsec-no/gw.seq";
	struct dp_seq_store *st, *good = fresh_store();
	char err[512];

	ck_assert_int_eq(dp_seq_store_open(&st, unwritable, err, sizeof(err)), 0);
	install_pair(false, DPSEC_ENC_AES_GCM_16);
	ck_assert_int_lt(reinstall_out(st, false, 0, err), 0);
	ck_assert_msg(strncmp(err, "SA static-0: ", 13) == 0 && strstr(err, unwritable) != NULL, "%s",
		      err);
	ck_assert_ptr_null(ctx.sas.sa[0]);
	ck_assert_int_lt(reinstall_out(st, false, 2, err), 0); /* the file again, not "same key" */
	ck_assert_msg(strstr(err, unwritable) != NULL, "the key was not given back: %s", err);
	dp_seq_store_close(st);
	ck_assert_msg(reinstall_granted(good, false, 0, err) == 0, "%s", err);
	ctx.sas.seq_store = NULL;
	remove_store(good);
}
END_TEST

/* An AES-GCM key both ways: both sides count from the same place, every
 * nonce twice: refused whichever comes second, until the other goes. With
 * CBC + HMAC (random IVs) the same key both ways is not refused. */
START_TEST(test_gcm_key_both_ways_refused)
{
	struct dp_seq_store *st = fresh_store();
	char err[512];

	install_pair(false, DPSEC_ENC_AES_GCM_16);
	ck_assert_msg(reinstall_out(st, false, 0, err) == 0, "%s", err);
	ck_assert_int_eq(reinstall(st, false, 3, DPSEC_DIR_IN, DPSEC_ENC_AES_GCM_16, err), -ENOTUNIQ);
	ck_assert_msg(strstr(err, "other direction") != NULL, "%s", err);
	dp_sa_destroy(&ctx.sas, dp_sa_unpublish(&ctx.sas, 0));
	ck_assert_msg(reinstall(st, false, 3, DPSEC_DIR_IN, DPSEC_ENC_AES_GCM_16, err) == 0, "%s", err);
	ck_assert_int_eq(reinstall_out(st, false, 0, err), -ENOTUNIQ);
	ck_assert_msg(reinstall_out(st, true, 0, err) == 0, "%s", err); /* IKE's keys: its own */
	ck_assert_msg(reinstall(st, false, 2, DPSEC_DIR_OUT, DPSEC_ENC_AES_CBC, err) == 0, "%s", err);
	ck_assert_msg(reinstall(st, false, 3, DPSEC_DIR_IN, DPSEC_ENC_AES_CBC, err) == 0, "%s", err);
	/* refused for its SAD key after taking its key: the key is given back */
	ck_assert_msg(reinstall(st, false, 3, DPSEC_DIR_IN, DPSEC_ENC_AES_GCM_16, err) == 0, "%s", err);
	ck_assert_int_eq(reinstall(st, false, 1, DPSEC_DIR_IN, DPSEC_ENC_AES_GCM_16, err), -EEXIST);
	dp_sa_destroy(&ctx.sas, dp_sa_unpublish(&ctx.sas, 3));
	ck_assert_msg(reinstall_out(st, false, 0, err) == 0, "%s", err);
	ctx.sas.seq_store = NULL;
	remove_store(st);
}
END_TEST

/* A key-sharing refusal: it says what, names the RFCs to its end and
 * fits an ACK's reason (DPSEC_REASON_MAX) with room for an SA name 32
 * characters longer than the test's, so that dpsec-ctld shows it whole. */
static void reason_fits(const char *err, const char *what)
{
	ck_assert_msg(strstr(err, what) != NULL, "%s", err);
	ck_assert_msg(strstr(err, "RFC 7634 section 2") != NULL, "%s", err);
	ck_assert_msg(strlen(err) + 32 < DPSEC_REASON_MAX, "%zu bytes: %s", strlen(err), err);
}

/* sequence_file "none": a store without a file keeps no numbers (an SA
 * with a static key counts from 1 over its whole space, its first packet
 * needs no commit) but still refuses a key shared by two outbound SAs or
 * an AES-GCM key both ways. */
START_TEST(test_keys_checked_without_a_file)
{
	struct dp_seq_store *st;
	struct rte_mbuf *m;
	char err[512];

	ck_assert_msg(dp_seq_store_open(&st, NULL, err, sizeof(err)) == 0, "%s", err);
	ck_assert(!dp_seq_store_keeps_numbers(st));
	install_pair(false, DPSEC_ENC_AES_GCM_16);
	ck_assert_msg(reinstall_out(st, false, 0, err) == 0, "%s", err);
	ck_assert_uint_eq(ctx.sas.sa[0]->seq_limit, UINT32_MAX);
	m = send_one();
	ck_assert_uint_eq(wire_seq(m), 1);
	rte_pktmbuf_free(m);
	ck_assert_int_eq(reinstall_out(st, false, 2, err), -EEXIST);
	reason_fits(err, "same key");
	ck_assert_int_eq(reinstall(st, false, 3, DPSEC_DIR_IN, DPSEC_ENC_AES_GCM_16, err), -ENOTUNIQ);
	reason_fits(err, "other direction has the same combined-mode key");
	dp_sa_destroy(&ctx.sas, dp_sa_unpublish(&ctx.sas, 0));
	ck_assert_msg(reinstall_out(st, false, 2, err) == 0, "%s", err); /* given back */
	ctx.sas.seq_store = NULL;
	dp_seq_store_close(st);
}
END_TEST

/* Tunnel-mode ESP over IPv4 for every inner length from 28 to 60 bytes:
 * outer header, ESP header, the cipher's IV (GCM 8, AES-CBC 16, 3DES 8),
 * the inner packet and trailer padded to the cipher's block (4, 16, 8),
 * the ICV (16, 12, 12); the inbound twin gets the inner packet back. */
START_TEST(test_layout_round_trip)
{
	static const uint32_t iv[] = { 8, 16, 8 }, block[] = { 4, 16, 8 }, icv[] = { 16, 12, 12 };

	install_pair(false, loop_algs[_i]);
	for (uint32_t extra = 0; extra <= 32; extra++) {
		struct rte_mbuf *m = clear_packet();
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
		uint8_t inner[60];
		uint32_t len = 28 + extra, ct = (len + 2 + block[_i] - 1) / block[_i] * block[_i];

		rte_pktmbuf_append(m, (uint16_t)extra);
		ip->total_length = rte_cpu_to_be_16((uint16_t)len);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		memset(rte_pktmbuf_mtod_offset(m, uint8_t *, 28), (int)extra, extra);
		ck_assert_int_eq(dp_parse_ip(m, dp_meta(m)), 0);
		memcpy(inner, rte_pktmbuf_mtod(m, uint8_t *), len);
		ck_assert_uint_eq(dp_esp_out(&worker, &m, 1), 1);
		ck_assert_uint_eq(m->pkt_len, 20 + 8 + iv[_i] + ct + icv[_i]);
		ck_assert_int_eq(dp_parse_ip(m, dp_meta(m)), 0);
		ck_assert_uint_eq(dp_esp_in(&worker, &m, 1), 1);
		ck_assert_uint_eq(m->pkt_len, len);
		ck_assert_mem_eq(rte_pktmbuf_mtod(m, uint8_t *), inner, len);
		rte_pktmbuf_free(m);
	}
}
END_TEST

/* Moves an encrypted packet's outer destination to 192.0.2.3 (slot 3's). */
static void readdress(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);

	ip->dst_addr = rte_cpu_to_be_32(0xc0000203);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

/* Consecutive packets share a SAD lookup only when their whole key (SPI,
 * protocol, family, destination) is the same: packets with one SPI to two
 * of the gateway's addresses alternate in a full burst, and each finds its
 * own SA: those to slot 3's address fail its other key's ICV. A full burst
 * of them is DP_BURST keys, more than one bulk hash lookup takes. */
START_TEST(test_same_spi_other_destination_not_shared)
{
	struct rte_mbuf *m[DP_BURST];
	uint16_t got;

	install_pair(false, loop_algs[_i]);
	ck_assert_uint_eq(send_burst(m, DP_BURST, NULL), DP_BURST);
	for (uint16_t i = 0; i < DP_BURST; i++) {
		if (i % 2)
			readdress(m[i]);
		ck_assert_int_eq(dp_parse_ip(m[i], dp_meta(m[i])), 0);
	}
	got = dp_esp_in(&worker, m, DP_BURST);
	ck_assert_uint_eq(got, DP_BURST / 2);
	ck_assert_uint_eq(worker.sa_ctr[1].packets, DP_BURST / 2);
	ck_assert_uint_eq(worker.sa_ctr[3].drops, DP_BURST / 2);
	ck_assert_uint_eq(worker.ctr->c[DP_DROP_icv], DP_BURST / 2);
	for (uint16_t i = 0; i < got; i++) /* the even ones, in order */
		ck_assert_uint_eq(dp_meta(m[i])->sa, 1);
	free_all(m, got);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("esp_seq");
	TCase *tc = tcase_create("seq");

	setup_ctx();
	tcase_add_test(tc, test_seq_starts_at_one);
	tcase_add_loop_test(tc, test_no_esn_stops_at_exhaustion, 0, N_LOOP_ALGS);
	tcase_add_loop_test(tc, test_esn_rolls_into_next_epoch, 0, N_LOOP_ALGS);
	tcase_add_loop_test(tc, test_esn_epoch_jump_within_one_burst_two_sas, 0, N_LOOP_ALGS);
	tcase_add_loop_test(tc, test_burst_gets_consecutive_numbers, 0, N_LOOP_ALGS);
	tcase_add_loop_test(tc, test_layout_round_trip, 0, N_LOOP_ALGS);
	tcase_add_loop_test(tc, test_same_spi_other_destination_not_shared, 0, N_LOOP_ALGS);
	tcase_add_test(tc, test_interleaved_sas_number_separately);
	tcase_add_test(tc, test_burst_crossing_exhaustion);
	tcase_add_test(tc, test_static_key_goes_on_after_restart);
	tcase_add_test(tc, test_static_key_waits_at_its_limit);
	tcase_add_test(tc, test_first_chunk_usable_after_commit);
	tcase_add_test(tc, test_top_up_at_half_a_chunk);
	tcase_add_test(tc, test_static_key_shared_refused_negotiated_not_saved);
	tcase_add_test(tc, test_gcm_key_both_ways_refused);
	tcase_add_test(tc, test_unreservable_key_refuses_its_sa);
	tcase_add_test(tc, test_keys_checked_without_a_file);
	suite_add_tcase(s, tc);
	return check_run(s);
}
