/* test_peer_moved.c - the manager's side of a peer's new NAT mapping
 * (dp_mgr.c), on a real shared-memory segment (dp_mgr_init) with SAs
 * installed as dpsecd installs them: a worker's report (struct
 * dp_peer_moved on its ring) becomes DPSEC_EV_PEER_MOVED for the control
 * plane, counted, only for an inbound SA that IKE negotiated; a report
 * for a static SA, an outbound one or no SA at all is left; one the event
 * ring has no room for is forgotten, the SA's reported source cleared so
 * that a later packet from there reports it again. */
#include <check.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_ring_elem.h>

#include "dp.h"
#include "dp_mgr.h"
#include "dp_policy.h"
#include "dp_test_mgr.h"
#include "dp_test_worker.h"
#include "dpsec_ring.h"
#include "check_run.h"

enum { SA_NEGOTIATED, SA_STATIC, SA_OUT, N_SAS };

static struct dp_ctx ctx;
static struct dp_worker worker;
static struct cfg_dataplane cfg;
static const uint8_t nat4[4] = { 198, 51, 100, 7 };

static pid_t parent;

/* The segment goes with the process that made it, not with each test's
 * fork. */
static void teardown(void)
{
	if (getpid() == parent)
		dp_mgr_fini(&ctx); /* removes the segment */
}

/* Slot idx: an SA with ESP in UDP between 192.0.2.2 (us) and 192.0.2.1,
 * inbound or outbound, negotiated or static. */
static void install(uint32_t idx, uint8_t direction, bool negotiated)
{
	struct dpsec_sa_conf c = { .spi = 0x4200 + idx, .mode = DPSEC_MODE_TUNNEL,
				   .direction = direction, .replay_window = 64,
				   .enc_alg = DPSEC_ENC_AES_GCM_16, .enc_key_len = 16,
				   .encap = DPSEC_ENCAP_UDP, .udp_sport = 4500, .udp_dport = 4500,
				   .negotiated = negotiated };
	char err[256];

	snprintf(c.name, sizeof(c.name), "moved%u", idx);
	memset(c.enc_key, 0x3c + idx, 16);
	c.local = (struct dpsec_addr){ .family = DPSEC_AF_INET, .a = { 192, 0, 2, 2 } };
	c.remote = (struct dpsec_addr){ .family = DPSEC_AF_INET, .a = { 192, 0, 2, 1 } };
	if (direction == DPSEC_DIR_OUT) {
		c.local.a[3] = 1;
		c.remote.a[3] = 2;
	}
	if (dp_sa_install(&ctx.sas, worker.crypto, idx, &c, 0, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "test_peer_moved: SA %u: %s\n", idx, err);
		abort();
	}
	dp_mgr_sa_installed(&ctx, idx, &c);
}

static void setup(void)
{
	char instance[32];

	cfg.default_action = DPSEC_ACTION_PERMIT;
	ctx.cfg = &cfg;
	dp_test_worker_init(&ctx, &worker, N_SAS, 512);
	ctx.workers[0] = worker;
	/* the manager's other rings, which its poll reads too */
	ctx.control = rte_ring_create("tpm_ctl", 64, SOCKET_ID_ANY, RING_F_SC_DEQ);
	ctx.resolve = rte_ring_create_elem("tpm_res", sizeof(struct dp_resolve_req), 64,
					   SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (!ctx.control || !ctx.resolve || dp_sa_table_init(&ctx.sas, N_SAS, SOCKET_ID_ANY) < 0)
		abort();
	snprintf(instance, sizeof(instance), "test-moved-%d", (int)getpid());
	dp_test_mgr_start(&ctx, "tpm", instance);
	parent = getpid();
	atexit(teardown);
	install(SA_NEGOTIATED, DPSEC_DIR_IN, true);
	install(SA_STATIC, DPSEC_DIR_IN, false);
	install(SA_OUT, DPSEC_DIR_OUT, true);
}

/* A worker's report: ESP of SA idx from nat4, port 61000 (as esp_in.c
 * makes it, the SA's reported source set), then the manager's poll. */
static void report(uint32_t idx)
{
	struct dp_peer_moved r = { .sa_idx = idx, .port_be = rte_cpu_to_be_16(61000),
				   .family = DPSEC_AF_INET };

	memcpy(r.addr, nat4, 4);
	if (idx < N_SAS) {
		ctx.sas.sa[idx]->natt_reported_be = r.port_be;
		ctx.sas.sa[idx]->natt_reported_fp = dp_sa_addr_fp(DPSEC_AF_INET, nat4);
	}
	ck_assert_int_eq(rte_ring_enqueue_elem(ctx.peer_moved, &r, sizeof(r)), 0);
	ck_assert(dp_mgr_poll_packets(&ctx));
}

/* The PEER_MOVED events waiting for the control plane, taken: how many;
 * the last one into *last. */
static int events(struct dpsec_ev_peer_moved *last)
{
	struct dpsec_msg *m;
	int n = 0;

	while ((m = dpsec_ring_peek(ctx.mgr->shm.ev)) != NULL) {
		if (m->h.type == DPSEC_EV_PEER_MOVED) {
			ck_assert_uint_eq(m->h.len, sizeof(*last));
			memcpy(last, m->body, sizeof(*last));
			n++;
		}
		dpsec_ring_release(ctx.mgr->shm.ev);
	}
	return n;
}

static uint64_t counted(void)
{
	return ctx.mgr_ctr.c[DP_C_natt_peer_moved];
}

/* A negotiated inbound SA's report reaches the control plane: the SA, the
 * port in host order, the address; counted once. */
START_TEST(test_negotiated_inbound_told)
{
	struct dpsec_ev_peer_moved ev;
	uint64_t before = counted();

	report(SA_NEGOTIATED);
	ck_assert_int_eq(events(&ev), 1);
	ck_assert_uint_eq(ev.sa_id, SA_NEGOTIATED);
	ck_assert_uint_eq(ev.udp_sport, 61000);
	ck_assert_uint_eq(ev.remote.family, DPSEC_AF_INET);
	ck_assert_mem_eq(ev.remote.a, nat4, 4);
	ck_assert_uint_eq(counted(), before + 1);
}
END_TEST

/* A static SA has no IKE to follow the peer, an outbound SA no peer
 * source, a slot past the table no SA: nothing told, nothing counted; the
 * static SA's reported source stays, so that its packets report no more. */
START_TEST(test_others_left)
{
	struct dpsec_ev_peer_moved ev;
	uint64_t before = counted();

	report(SA_STATIC);
	report(SA_OUT);
	report(N_SAS + 5);
	ck_assert_int_eq(events(&ev), 0);
	ck_assert_uint_eq(counted(), before);
	ck_assert_uint_eq(ctx.sas.sa[SA_STATIC]->natt_reported_be, rte_cpu_to_be_16(61000));
}
END_TEST

/* With the event ring full the report is forgotten: not counted, the
 * SA's reported source cleared (a later packet from there reports it
 * again), which then reaches the control plane once there is room. */
START_TEST(test_full_ring_forgets)
{
	struct dpsec_ev_ack filler = { 0 };
	struct dpsec_ev_peer_moved ev;
	uint64_t before = counted();

	while (dp_ev_push(&ctx, DPSEC_EV_ACK, &filler, sizeof(filler)))
		;
	report(SA_NEGOTIATED);
	ck_assert_uint_eq(ctx.sas.sa[SA_NEGOTIATED]->natt_reported_be, 0);
	ck_assert_uint_eq(ctx.sas.sa[SA_NEGOTIATED]->natt_reported_fp, 0);
	ck_assert_uint_eq(counted(), before);
	ck_assert_int_eq(events(&ev), 0);
	report(SA_NEGOTIATED);
	ck_assert_int_eq(events(&ev), 1);
	ck_assert_uint_eq(counted(), before + 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("peer_moved");
	TCase *tc = tcase_create("peer_moved");

	setup();
	tcase_add_test(tc, test_negotiated_inbound_told);
	tcase_add_test(tc, test_others_left);
	tcase_add_test(tc, test_full_ring_forgets);
	suite_add_tcase(s, tc);
	return check_run(s);
}
