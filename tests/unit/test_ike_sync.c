/* test_ike_sync.c - IKE's child SAs brought into a real dataplane manager
 * (control/cp_ike.c's events against dataplane/dp_cmd.c, through the real
 * segment and rings): the child SAs of 1,500 peers that one poll's
 * datagrams bring (more than dpsec-ctld's tables once held), each on a
 * per-peer rule of its own, are all installed and cost dpsecd one policy
 * build, not one each; the datagrams the engine queued behind them (the
 * answers that let the peers use the pairs) leave only after that build,
 * in order; and pairs that go cost one build together too. The manager runs on this
 * thread (as dpsecd's manager lcore does), dpsec-ctld's side on another. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "cp.h"
#include "cp_ike.h"
#include "dp.h"
#include "dp_mgr.h"
#include "dp_policy.h"
#include "cp_test_ctld.h"
#include "dp_test_mgr.h"
#include "dp_test_worker.h"
#include "tunnel_store.h"
#include "ike_sa.h"
#include "lsan_libconfig.h"
#include "check_run.h"

/* More peers than dpsec-ctld's tables once held (1,024), each on a tunnel
 * rule that negotiates with it alone. */
#define PEERS 1500

/* Peer k's address (198.18.0.0/15, RFC 2544's) in a of 4 bytes. */
static void peer_addr(int k, uint8_t *a)
{
	a[0] = 198;
	a[1] = 18;
	a[2] = (uint8_t)(k / 250);
	a[3] = (uint8_t)(k % 250 + 1);
}

/* The store: rule ike-K over list lK, tunnel to peer K, one PSK for all. */
static char *store_text(void)
{
	size_t cap = 4096 + (size_t)PEERS * 512, len;
	char *t = malloc(cap);

	if (t == NULL)
		abort();
	len = tunnel_store_head(t, cap, "gw", PEERS);
	for (int k = 0; k < PEERS; k++) {
		uint8_t a[4];

		peer_addr(k, a);
		len += (size_t)snprintf(t + len, cap - len,
					"%s{ name = \"ike-%d\"; filter_list = \"l%d\"; filter_action = "
					"\"secure\"; tunnel_endpoint = \"%u.%u.%u.%u\"; authentication = "
					"( { method = \"psk\"; psk = \"a-long-enough-secret\"; } ); }\n",
					k ? "," : "", k, k, a[0], a[1], a[2], a[3]);
	}
	snprintf(t + len, cap - len, "); } );\n");
	return t;
}

static struct dp_ctx ctx;
static struct dp_worker worker;
static struct cfg_dataplane cfg;
static struct cp_ctx cp;
static char instance[32];
static pid_t parent;
static int peer_fd;         /* where the held datagrams go: 127.0.0.1, port peer_port */
static uint16_t peer_port;

static void teardown(void)
{
	if (getpid() == parent)
		dp_mgr_fini(&ctx); /* removes the segment */
}

/* A UDP socket on 127.0.0.1 (port 0: any); its port in *port. */
static int udp_socket(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		abort();
	*port = ntohs(a.sin_port);
	return fd;
}

static void setup(void)
{
	char err[CFG_ERR_MAX], *text;
	uint16_t ours;

	snprintf(instance, sizeof(instance), "test-ikesync-%d", (int)getpid());
	dp_test_mgr_ready_for_ctld(&ctx, &cfg, &worker, 2 * PEERS + 16, "tikesync", instance);
	parent = getpid();
	atexit(teardown);
	cp_log_init(LOG_CRIT, false);
	text = store_text();
	if (cfg_store_load_string(text, "test store", &cp.store, err) < 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	free(text);
	cp.ike = calloc(1, sizeof(*cp.ike));
	if (cp.ike == NULL)
		abort();
	memset(cp.ike->fd, 0xff, sizeof(cp.ike->fd));
	cp.ike->fd[0][0] = udp_socket(&ours);
	peer_fd = udp_socket(&peer_port);
	if (setsockopt(peer_fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ 16 << 20 }, sizeof(int)) < 0)
		abort(); /* room for all the answers of the burst */
}

static struct cp_test_step step;

static void run_ctld(void *(*fn)(void *))
{
	cp_test_run_beside(&ctx, &step, fn);
}

static void *sync_full(void *arg)
{
	step.rc = cp_sync_full(&cp, step.err, sizeof(step.err));
	step.done = true;
	return arg;
}

/* The id of the live rule named name, or DPSEC_SA_NONE. */
static uint32_t rule_id(const char *name)
{
	for (uint32_t i = 0; i < ctx.mgr->live.n; i++)
		if (strcmp(ctx.mgr->live.rules[i].r.name, name) == 0)
			return ctx.mgr->live.rules[i].r.id;
	return DPSEC_SA_NONE;
}

static uint32_t generic[PEERS];

/* An SA of the pair with peer k: GCM with a key of its own, tunnel
 * 192.0.2.1 <-> peer k. */
static void pair_sa(struct dpsec_sa_conf *s, int k, bool in)
{
	memset(s, 0, sizeof(*s));
	s->spi = (in ? 0x10000 : 0x20000) + (uint32_t)k;
	s->direction = in ? DPSEC_DIR_IN : DPSEC_DIR_OUT;
	s->mode = DPSEC_MODE_TUNNEL;
	s->enc_alg = DPSEC_ENC_AES_GCM_16;
	s->enc_key_len = 16;
	memset(s->enc_key, 0x11, 16);
	memcpy(s->enc_key, &s->spi, sizeof(s->spi));
	memset(s->salt, 0x22, 4);
	s->replay_window = 64;
	s->local.family = s->remote.family = DPSEC_AF_INET;
	inet_pton(AF_INET, "192.0.2.1", s->local.a);
	peer_addr(k, s->remote.a);
}

/* The engine's CHILD_UP for peer k's pair, as a responder's. */
static void child_up(int k)
{
	struct ikev2_event ev = { .kind = IKEV2_EV_CHILD_UP, .user = generic[k] };

	ev.sa.spi_i[0] = (uint8_t)(k + 1);
	ev.child = calloc(1, sizeof(*ev.child));
	ck_assert_ptr_nonnull(ev.child);
	ev.child->protocol = IKE_PROTO_ESP;
	pair_sa(&ev.child->in, k, true);
	pair_sa(&ev.child->out, k, false);
	cp_ike_event(&cp, &ev, 2);
	ikev2_event_release(&ev);
}

/* The engine's SEND of datagram "answer k" to the peer socket. */
static void answer(int k)
{
	struct ikev2_event ev = { .kind = IKEV2_EV_SEND };
	char text[24];

	snprintf(text, sizeof(text), "answer %d", k);
	ev.send.local.addr.family = ev.send.remote.addr.family = DPSEC_AF_INET;
	inet_pton(AF_INET, "127.0.0.1", ev.send.local.addr.a);
	inet_pton(AF_INET, "127.0.0.1", ev.send.remote.addr.a);
	ev.send.local.port = 500;
	ev.send.remote.port = peer_port;
	ev.send.data = (uint8_t *)strdup(text);
	ev.send.len = strlen(text);
	cp_ike_event(&cp, &ev, 2);
	ikev2_event_release(&ev);
}

static void *children_up(void *arg)
{
	for (int k = 0; k < PEERS; k++) {
		child_up(k);
		answer(k);
	}
	step.done = true;
	return arg;
}

static void *children_down(void *arg)
{
	struct ikev2_event ev = { .kind = IKEV2_EV_CHILD_DOWN };

	for (int k = 0; k < 2; k++) {
		ev.child_down.spi_in = 0x10000 + (uint32_t)k;
		cp_ike_event(&cp, &ev, 2);
		answer(PEERS + k);
	}
	step.done = true;
	return arg;
}

static void *flush(void *arg)
{
	cp_ike_flush(&cp);
	step.done = true;
	return arg;
}

/* The next datagram at the peer socket, "" when none waits. */
static const char *received(void)
{
	static char buf[64];
	ssize_t n = recv(peer_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Per-peer rules of dpsecd's live rule set that carry an SA. */
static uint32_t rules_carrying_sas(void)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < ctx.mgr->live.n; i++)
		n += ctx.mgr->live.rules[i].sa_out != DPSEC_SA_NONE;
	return n;
}

START_TEST(test_one_build_for_a_burst)
{
	uint64_t builds;
	char want[24];

	cp_test_attach(&cp, instance);
	run_ctld(sync_full);
	for (int k = 0; k < PEERS; k++) {
		char name[16];

		snprintf(name, sizeof(name), "ike-%d", k);
		generic[k] = rule_id(name);
		ck_assert_uint_ne(generic[k], DPSEC_SA_NONE);
	}
	builds = ctx.mgr->builds;

	run_ctld(children_up); /* the pairs are in, their rules and answers wait */
	ck_assert_uint_eq(ctx.sas.count, 2 * PEERS);
	ck_assert_uint_eq(ctx.mgr->builds, builds);
	ck_assert_uint_eq(rules_carrying_sas(), 0);
	ck_assert_str_eq(received(), "");

	run_ctld(flush);
	ck_assert_uint_eq(ctx.mgr->builds, builds + 1);
	ck_assert_uint_eq(rules_carrying_sas(), PEERS);
	for (int k = 0; k < PEERS; k++) {
		snprintf(want, sizeof(want), "answer %d", k);
		ck_assert_str_eq(received(), want);
	}
	ck_assert_str_eq(received(), "");

	run_ctld(children_down); /* two pairs go: one build for both */
	ck_assert_uint_eq(ctx.mgr->builds, builds + 1);
	ck_assert_str_eq(received(), "");
	run_ctld(flush);
	ck_assert_uint_eq(ctx.mgr->builds, builds + 2);
	ck_assert_uint_eq(rules_carrying_sas(), PEERS - 2);
	snprintf(want, sizeof(want), "answer %d", PEERS);
	ck_assert_str_eq(received(), want);
	snprintf(want, sizeof(want), "answer %d", PEERS + 1);
	ck_assert_str_eq(received(), want);
	ck_assert_uint_eq(ctx.sas.count, 2 * PEERS - 4);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ike_sync");
	TCase *tc = tcase_create("ike_sync");

	setup();
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_one_build_for_a_burst);
	suite_add_tcase(s, tc);
	return check_run(s);
}
