/* test_ike_sync.c - IKE's child SAs brought into a real dataplane manager
 * (control/cp_ike.c's events against dataplane/dp_cmd.c, through the real
 * segment and rings): the child SAs of 1,500 tunnels' peers that one
 * poll's datagrams bring (more than dpsec-ctld's tables once held) are all
 * installed, each carried by its tunnel rule itself, at no policy build;
 * the datagrams the engine queued behind them (the answers that let the
 * peers use the pairs) leave only once the rules carry them, in order.
 * Those of 500 hosts of one transport rule, each on a per-peer rule of its
 * own, cost one build, not one each, and pairs that go cost one build
 * together too (the tunnels' none). The SA ids of a pair that goes are
 * held until the sync (a rule in dpsecd still names the outbound one),
 * not given to the next pair; one that reaches its hard lifetime unrekeyed
 * leaves the dataplane at once, and the event about its other SA, whose id
 * another pair holds by then, deletes nothing. A tunnel rule given another
 * endpoint stops carrying its old peer's pair. An ACQUIRE for a rule and
 * peer whose pair is up but not yet on its rule starts no second
 * negotiation: it ends with the poll's sync. The manager runs on this
 * thread (as dpsecd's manager lcore does), dpsec-ctld's side on another;
 * the tests run in one process (CK_FORK=no: the EAL's memory is shared
 * with a fork), each from empty child SA and rule tables. */
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
 * rule that negotiates with it alone; then hosts of one transport rule,
 * peers PEERS to PEERS + HOSTS - 1. */
#define PEERS 1500
#define HOSTS 500

/* Peer k's address in a of 4 bytes: a tunnel's in 198.18.0.0/16, a
 * host's in 198.19.0.0/16 (RFC 2544's). */
static void peer_addr(int k, uint8_t *a)
{
	int j = k < PEERS ? k : k - PEERS;

	a[0] = 198;
	a[1] = k < PEERS ? 18 : 19;
	a[2] = (uint8_t)(j / 250);
	a[3] = (uint8_t)(j % 250 + 1);
}

/* The transport rule's filter list, spliced into the store's. */
static const char hosts_list[] =
	", { name = \"hosts\"; filters = ( { source = \"192.0.2.1/32\"; destination = "
	"\"198.19.0.0/16\"; protocol = \"any\"; mirrored = true; } ); }\n);\nfilter_actions";

/* The store: rule ike-K over list lK, tunnel to peer K (ike-moved's to
 * 203.0.113.5 instead, none with -1), and rule hosts in transport mode over
 * its hosts; one PSK for all. */
static char *store_text(int moved)
{
	size_t cap = 4096 + (size_t)PEERS * 512, len;
	char *t = malloc(cap), *lists_end;

	if (t == NULL)
		abort();
	len = tunnel_store_head(t, cap, "gw", PEERS);
	lists_end = strstr(t, "\n);\nfilter_actions");
	if (lists_end == NULL)
		abort();
	memmove(lists_end + sizeof(hosts_list) - 1, lists_end + strlen("\n);\nfilter_actions"),
		strlen(lists_end) - strlen("\n);\nfilter_actions") + 1);
	memcpy(lists_end, hosts_list, sizeof(hosts_list) - 1);
	len = strlen(t);
	for (int k = 0; k < PEERS; k++) {
		uint8_t a[4];

		peer_addr(k, a);
		if (k == moved)
			memcpy(a, (uint8_t[]){ 203, 0, 113, 5 }, 4);
		len += (size_t)snprintf(t + len, cap - len,
					"%s{ name = \"ike-%d\"; filter_list = \"l%d\"; filter_action = "
					"\"secure\"; tunnel_endpoint = \"%u.%u.%u.%u\"; authentication = "
					"( { method = \"psk\"; psk = \"a-long-enough-secret\"; } ); }\n",
					k ? "," : "", k, k, a[0], a[1], a[2], a[3]);
	}
	snprintf(t + len, cap - len, ", { name = \"hosts\"; filter_list = \"hosts\"; filter_action = "
		 "\"secure\"; authentication = ( { method = \"psk\"; psk = "
		 "\"a-long-enough-secret\"; } ); }\n); } );\n");
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

/* No policy for any peer: this test's IKE SAs exist only in ctld's events. */
static int no_peer(void *ctx, const struct ikev2_lookup *q, struct ikev2_peer *out)
{
	(void)ctx, (void)q, (void)out;
	return -ENOENT;
}

/* A real IKEv2 engine, for the deletes ctld sends its children's peers
 * (it knows none of these IKE SAs: each delete fails, logged). */
static struct ikev2_engine *engine(void)
{
	struct ikev2_conf conf;
	struct ike_err err = { 0 };
	struct ikev2_engine *e;

	ikev2_conf_default(&conf);
	conf.lookup = no_peer;
	e = ikev2_engine_new(&conf, &err);
	if (e == NULL) {
		fprintf(stderr, "IKEv2 engine: %s\n", err.msg);
		abort();
	}
	return e;
}

/* The store of store_text(moved) in place of ctld's (as a reload puts it). */
static void load_store(int moved)
{
	char err[CFG_ERR_MAX], *text = store_text(moved);

	cp_store_free(&cp);
	if (cfg_store_load_string(text, "test store", &cp.store, err) < 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	free(text);
}

static void setup(void)
{
	uint16_t ours;

	snprintf(instance, sizeof(instance), "test-ikesync-%d", (int)getpid());
	dp_test_mgr_ready_for_ctld(&ctx, &cfg, &worker, 2 * (PEERS + HOSTS) + 16, "tikesync",
				   instance);
	parent = getpid();
	atexit(teardown);
	cp_log_init(LOG_CRIT, false);
	load_store(-1);
	cp.ike = calloc(1, sizeof(*cp.ike));
	if (cp.ike == NULL)
		abort();
	memset(cp.ike->fd, 0xff, sizeof(cp.ike->fd));
	cp.ike->fd[0][0] = udp_socket(&ours);
	cp.ike->e = engine();
	peer_fd = udp_socket(&peer_port);
	if (setsockopt(peer_fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ 16 << 20 }, sizeof(int)) < 0)
		abort(); /* room for all the answers of the burst */
}

static struct cp_test_step step;

static void run_ctld(void *(*fn)(void *))
{
	cp_test_run_beside(&ctx, &step, fn, NULL);
}

/* The id of the live rule named name, or DPSEC_SA_NONE. */
static uint32_t rule_id(const char *name)
{
	for (uint32_t i = 0; i < ctx.mgr->live.n; i++)
		if (strcmp(ctx.mgr->live.rules[i].r.name, name) == 0)
			return ctx.mgr->live.rules[i].r.id;
	return DPSEC_SA_NONE;
}

static uint32_t generic[PEERS + HOSTS];

/* An SA of the pair with peer k: GCM with a key of its own, 192.0.2.1 <->
 * peer k, tunnel or (a host's) transport mode. */
static void pair_sa(struct dpsec_sa_conf *s, int k, bool in)
{
	memset(s, 0, sizeof(*s));
	s->spi = (in ? 0x10000 : 0x20000) + (uint32_t)k;
	s->direction = in ? DPSEC_DIR_IN : DPSEC_DIR_OUT;
	s->mode = k < PEERS ? DPSEC_MODE_TUNNEL : DPSEC_MODE_TRANSPORT;
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

/* The pairs of peers from to to - 1 come up, each answered. */
static void peers_up(int from, int to)
{
	for (int k = from; k < to; k++) {
		child_up(k);
		answer(k);
	}
	step.done = true;
}

static void *tunnels_up(void *arg)
{
	peers_up(0, PEERS);
	return arg;
}

static void *hosts_up(void *arg)
{
	peers_up(PEERS, PEERS + HOSTS);
	return arg;
}

/* The pairs of two tunnels and two hosts go, each with an answer. */
static void *children_down(void *arg)
{
	static const int gone[] = { 0, 1, PEERS, PEERS + 1 };
	struct ikev2_event ev = { .kind = IKEV2_EV_CHILD_DOWN };

	for (int i = 0; i < 4; i++) {
		ev.child_down.spi_in = 0x10000 + (uint32_t)gone[i];
		cp_ike_event(&cp, &ev, 2);
		answer(PEERS + HOSTS + i);
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

/* The SA the live rule id carries, DPSEC_SA_NONE for none (or no rule). */
static uint32_t rule_sa(uint32_t id)
{
	for (uint32_t i = 0; i < ctx.mgr->live.n; i++)
		if (ctx.mgr->live.rules[i].r.id == id)
			return ctx.mgr->live.rules[i].sa_out;
	return DPSEC_SA_NONE;
}

/* Rules of dpsecd's live rule set that carry an SA. */
static uint32_t rules_carrying_sas(void)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < ctx.mgr->live.n; i++)
		n += ctx.mgr->live.rules[i].sa_out != DPSEC_SA_NONE;
	return n;
}

/* ctld attached, its child SAs and per-peer rules forgotten (as a new
 * dpsec-ctld's), the dataplane in line with the store; generic[] filled. */
static void start(void)
{
	if (!cp.attached)
		cp_test_attach(&cp, instance);
	memset(cp.ike->ch, 0, sizeof(cp.ike->ch));
	memset(cp.dyn, 0, sizeof(cp.dyn));
	load_store(-1);
	cp_test_call(&ctx, &cp, &step, cp_sync_full);
	for (int k = 0; k < PEERS; k++) {
		char name[16];

		snprintf(name, sizeof(name), "ike-%d", k);
		generic[k] = rule_id(name);
		ck_assert_uint_ne(generic[k], DPSEC_SA_NONE);
	}
	for (int k = PEERS; k < PEERS + HOSTS; k++)
		generic[k] = rule_id("hosts");
	ck_assert_uint_ne(generic[PEERS], DPSEC_SA_NONE);
}

START_TEST(test_one_build_for_a_burst)
{
	const struct cp_ike_child *ch;
	uint64_t builds;
	char want[24];

	start();
	builds = ctx.mgr->builds;

	run_ctld(tunnels_up); /* the pairs are in, their rules and answers wait */
	ck_assert_uint_eq(ctx.sas.count, 2 * PEERS);
	ck_assert_uint_eq(rules_carrying_sas(), 0);
	ck_assert_str_eq(received(), "");
	run_ctld(flush); /* each tunnel rule carries its peer's pair: no build */
	ck_assert_uint_eq(ctx.mgr->builds, builds);
	ck_assert_uint_eq(ctx.mgr->live.n, PEERS + 1);
	ck_assert_uint_eq(rules_carrying_sas(), PEERS);
	ch = cp_ike_find_child(cp.ike, 0x10000 + 7);
	ck_assert_uint_eq(rule_sa(generic[7]), ch->sa_out);
	ck_assert_uint_eq(ctx.sas.sa[ch->sa_in]->rule_id, generic[7]);
	for (int k = 0; k < PEERS; k++) {
		snprintf(want, sizeof(want), "answer %d", k);
		ck_assert_str_eq(received(), want);
	}
	ck_assert_str_eq(received(), "");

	run_ctld(hosts_up); /* a per-peer rule each: one build for all */
	ck_assert_uint_eq(ctx.sas.count, 2 * (PEERS + HOSTS));
	ck_assert_uint_eq(rules_carrying_sas(), PEERS);
	ck_assert_str_eq(received(), "");
	run_ctld(flush);
	ck_assert_uint_eq(ctx.mgr->builds, builds + 1);
	ck_assert_uint_eq(ctx.mgr->live.n, PEERS + 1 + HOSTS);
	ck_assert_uint_eq(rules_carrying_sas(), PEERS + HOSTS);
	ck_assert_uint_eq(rule_sa(generic[PEERS]), DPSEC_SA_NONE);
	ch = cp_ike_find_child(cp.ike, 0x10000 + PEERS + 7);
	ck_assert_uint_ne(ctx.sas.sa[ch->sa_in]->rule_id & CP_DYN_RULE_BIT, 0);
	ck_assert_uint_eq(rule_sa(ctx.sas.sa[ch->sa_in]->rule_id), ch->sa_out);
	for (int k = PEERS; k < PEERS + HOSTS; k++) {
		snprintf(want, sizeof(want), "answer %d", k);
		ck_assert_str_eq(received(), want);
	}
	ck_assert_str_eq(received(), "");

	run_ctld(children_down); /* two tunnels' pairs and two hosts' go: one build */
	ck_assert_uint_eq(ctx.mgr->builds, builds + 1);
	ck_assert_str_eq(received(), "");
	run_ctld(flush);
	ck_assert_uint_eq(ctx.mgr->builds, builds + 2);
	ck_assert_uint_eq(ctx.mgr->live.n, PEERS + 1 + HOSTS - 2);
	ck_assert_uint_eq(rules_carrying_sas(), PEERS + HOSTS - 4);
	ck_assert_uint_eq(rule_sa(generic[0]), DPSEC_SA_NONE);
	for (int i = 0; i < 4; i++) {
		snprintf(want, sizeof(want), "answer %d", PEERS + HOSTS + i);
		ck_assert_str_eq(received(), want);
	}
	ck_assert_uint_eq(ctx.sas.count, 2 * (PEERS + HOSTS) - 8);
}
END_TEST

static int first; /* the peer two_up() and one_goes_one_comes() start from */

/* Peers first and first + 1 get their pairs, and the poll's sync. */
static void *two_up(void *arg)
{
	child_up(first);
	child_up(first + 1);
	cp_ike_flush(&cp);
	step.done = true;
	return arg;
}

static int up_peer; /* whose pair peer_up() brings */
static void *peer_up(void *arg);

/* Peer first's pair goes, peer first + 2's comes, in one poll: no flush. */
static void *one_goes_one_comes(void *arg)
{
	struct ikev2_event ev = { .kind = IKEV2_EV_CHILD_DOWN,
				  .child_down.spi_in = 0x10000 + (uint32_t)first };

	cp_ike_event(&cp, &ev, 2);
	child_up(first + 2);
	step.done = true;
	return arg;
}

/* Live rules that carry SA id sa. */
static uint32_t rules_carrying(uint32_t sa)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < ctx.mgr->live.n; i++)
		n += ctx.mgr->live.rules[i].sa_out == sa;
	return n;
}

/* Hosts of the transport rule: a pair's per-peer rule stays in dpsecd
 * until the sync's policy build. */
START_TEST(test_freed_id_held_until_the_sync)
{
	const struct cp_ike_child *ch;
	uint32_t old_in, old_out, gone_in, gone_out;

	start();
	first = PEERS;
	run_ctld(two_up);
	ch = cp_ike_find_child(cp.ike, 0x10000 + PEERS);
	ck_assert_ptr_nonnull(ch);
	old_in = ch->sa_in;
	old_out = ch->sa_out;
	ck_assert_uint_eq(rules_carrying(old_out), 1);

	run_ctld(one_goes_one_comes);
	ch = cp_ike_find_child(cp.ike, 0x10000 + PEERS + 2);
	ck_assert_ptr_nonnull(ch);
	/* before the sync the first host's rule still names old_out: the id
	 * is held, its slot empty, so that host's traffic cannot leave on
	 * the new host's SA */
	ck_assert_uint_ne(ch->sa_in, old_in);
	ck_assert_uint_ne(ch->sa_out, old_out);
	ck_assert_uint_eq(rules_carrying(old_out), 1);
	ck_assert_ptr_null(ctx.sas.sa[old_out]);

	run_ctld(flush);
	ck_assert_uint_eq(rules_carrying(old_out), 0);
	ck_assert_uint_eq(rules_carrying_sas(), 2);

	/* the sync let those ids go: the next pair takes them, and the one
	 * after it does not take the second host's, which went meanwhile
	 * (ids above the lowest free one) */
	ch = cp_ike_find_child(cp.ike, 0x10000 + PEERS + 1);
	gone_in = ch->sa_in;
	gone_out = ch->sa_out;
	first = PEERS + 1;
	run_ctld(one_goes_one_comes); /* host 1 goes, host 3 comes */
	up_peer = PEERS + 4;
	run_ctld(peer_up);
	ch = cp_ike_find_child(cp.ike, 0x10000 + PEERS + 3);
	ck_assert_uint_eq(ch->sa_in, old_in);
	ck_assert_uint_eq(ch->sa_out, old_out);
	ch = cp_ike_find_child(cp.ike, 0x10000 + PEERS + 4);
	ck_assert_uint_ne(ch->sa_in, gone_in);
	ck_assert_uint_ne(ch->sa_out, gone_out);
	ck_assert_uint_ne(ch->sa_in, gone_out);
	ck_assert_uint_ne(ch->sa_out, gone_in);
}
END_TEST

/* dpsecd's hard expiry of peer 0's outbound SA; after the poll's sync
 * peer 2's pair takes the ids peer 0's held, before dpsecd's event about
 * the inbound SA (which expired at the same moment) arrives. */
static void *hard_expiry(void *arg)
{
	const struct cp_ike_child *ch = cp_ike_find_child(cp.ike, 0x10000);
	struct dpsec_ev_sa_expire out = { .sa_id = ch->sa_out, .spi = 0x20000, .kind = DPSEC_EXPIRE_HARD,
					  .direction = DPSEC_DIR_OUT };
	struct dpsec_ev_sa_expire in = { .sa_id = ch->sa_in, .spi = 0x10000, .kind = DPSEC_EXPIRE_HARD,
					 .direction = DPSEC_DIR_IN };

	cp_expire_event(&cp, &out);
	cp_ike_flush(&cp);
	child_up(2);
	cp_expire_event(&cp, &in);
	step.done = true;
	return arg;
}

static void *peer0_child_down(void *arg)
{
	struct ikev2_event ev = { .kind = IKEV2_EV_CHILD_DOWN, .child_down.spi_in = 0x10000 };

	cp_ike_event(&cp, &ev, 2);
	cp_ike_flush(&cp);
	step.done = true;
	return arg;
}

START_TEST(test_hard_expiry_takes_the_pair_out)
{
	const struct cp_ike_child *ch;
	uint32_t in0, out0;

	start();
	first = 0;
	run_ctld(two_up);
	ch = cp_ike_find_child(cp.ike, 0x10000);
	in0 = ch->sa_in;
	out0 = ch->sa_out;
	ck_assert_uint_eq(ctx.sas.count, 4);

	run_ctld(hard_expiry);
	ch = cp_ike_find_child(cp.ike, 0x10002);
	ck_assert_uint_eq(ch->sa_in, in0); /* peer 2's pair holds peer 0's ids */
	ck_assert_uint_eq(ch->sa_out, out0);
	ck_assert_uint_eq(ctx.sas.count, 4); /* peer 0's pair gone, peer 2's in */
	ck_assert_ptr_nonnull(ctx.sas.sa[in0]);
	ck_assert_uint_eq(ctx.sas.sa[in0]->spi_be, htonl(0x10002));
	ch = cp_ike_find_child(cp.ike, 0x10000); /* awaits its CHILD_DOWN, with no SA */
	ck_assert_ptr_nonnull(ch);
	ck_assert_uint_eq(ch->sa_in, CP_SA_NONE);
	ck_assert_uint_eq(ch->sa_out, CP_SA_NONE);
	ck_assert(ch->deleting); /* its delete went to the engine */

	run_ctld(peer0_child_down); /* deletes nothing more; peer 2's pair gets its rule */
	ck_assert_ptr_null(cp_ike_find_child(cp.ike, 0x10000));
	ck_assert_uint_eq(ctx.sas.count, 4);
	ck_assert_uint_eq(rules_carrying(out0), 1);
	ck_assert_uint_eq(rules_carrying_sas(), 2);
}
END_TEST

/* Peer up_peer's pair comes, and the poll's sync. */
static void *peer_up(void *arg)
{
	child_up(up_peer);
	cp_ike_flush(&cp);
	step.done = true;
	return arg;
}

/* Tunnel rule ike-5 is given another endpoint (a reload; the rule keeps
 * its id) while peer 5's pair rides on it: the rule no longer carries the
 * pair, whose peer is no longer its endpoint; the rule changed back, it
 * does not carry it again (the next packet negotiates). */
START_TEST(test_changed_tunnel_rule_drops_its_pair)
{
	const struct cp_ike_child *ch;

	start();
	up_peer = 5;
	run_ctld(peer_up);
	ch = cp_ike_find_child(cp.ike, 0x10000 + 5);
	ck_assert_uint_eq(rule_sa(generic[5]), ch->sa_out);

	load_store(5);
	cp_test_call(&ctx, &cp, &step, cp_apply);
	ck_assert_uint_eq(rule_id("ike-5"), generic[5]);
	ck_assert_uint_eq(rule_sa(generic[5]), DPSEC_SA_NONE);
	ck_assert_ptr_null(cp_ike_child_rule(ch));
	ck_assert_uint_eq(rules_carrying_sas(), 0);

	load_store(-1);
	cp_test_call(&ctx, &cp, &step, cp_apply);
	ck_assert_uint_eq(rule_sa(generic[5]), DPSEC_SA_NONE);
}
END_TEST

/* Peer 3's pair comes up, and before the poll's sync dpsecd's ACQUIRE
 * for its rule and peer arrives (packets that met the rule without it). */
static void *pair_then_acquire(void *arg)
{
	struct dpsec_ev_acquire ev = { .rule_id = generic[3], .held = 1,
				       .peer.family = DPSEC_AF_INET };

	peer_addr(3, ev.peer.a);
	child_up(3);
	cp_acquire_event(&cp, &ev);
	step.done = true;
	return arg;
}

/* The negotiations ctld has going (or waiting); *ike: how many of them
 * an IKE SA negotiates. */
static int acquires(int *ike)
{
	static const uint8_t none[8];
	int n = 0;

	*ike = 0;
	for (int i = 0; i < CP_MAX_ACQUIRES; i++) {
		n += cp.acq[i].used;
		*ike += cp.acq[i].used && memcmp(cp.acq[i].ike_spi_i, none, 8) != 0;
	}
	return n;
}

START_TEST(test_acquire_for_a_pair_up_negotiates_nothing)
{
	const struct cp_ike_child *ch;
	int ike;

	start();
	run_ctld(pair_then_acquire);
	ck_assert_int_eq(acquires(&ike), 1); /* waiting for the sync, */
	ck_assert_int_eq(ike, 0);            /* not negotiating */
	ck_assert_int_eq(cp.mm[CP_MM_negotiation_failures], 0);
	ck_assert_uint_eq(rule_sa(generic[3]), DPSEC_SA_NONE);
	run_ctld(flush);
	ck_assert_int_eq(acquires(&ike), 0);
	ch = cp_ike_find_child(cp.ike, 0x10000 + 3);
	ck_assert_uint_eq(rule_sa(generic[3]), ch->sa_out);
	ck_assert_int_eq(cp.mm[CP_MM_negotiation_failures], 0);
	ck_assert_uint_eq(cp.mm[CP_MM_active_acquire], 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ike_sync");
	TCase *tc = tcase_create("ike_sync");

	setup();
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_one_build_for_a_burst);
	tcase_add_test(tc, test_freed_id_held_until_the_sync);
	tcase_add_test(tc, test_hard_expiry_takes_the_pair_out);
	tcase_add_test(tc, test_changed_tunnel_rule_drops_its_pair);
	tcase_add_test(tc, test_acquire_for_a_pair_up_negotiates_nothing);
	suite_add_tcase(s, tc);
	return check_run(s);
}
