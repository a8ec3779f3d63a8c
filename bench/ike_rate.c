/* ike_rate.c - IKEv2 setups per second: an initiator and a responder engine
 * (ike/ikev2.h) in this one process, on one core, with datagrams handed
 * from one to the other in memory, each setup a full IKE_SA_INIT and
 * IKE_AUTH with PSK authentication and its first child SA, both sides'
 * key exchange and key derivation included. No sockets, no dataplane: the
 * figure is the IKE engine's own cost. Prints one JSON object.
 *
 *   ike_rate [--setups N] [--group 19|14|31] [--batch N]
 *
 * Engines are made afresh every --batch setups (default 500; not timed), so
 * that the figure is not one of an ever-growing SA table. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ike_dh.h"
#include "ike_sa.h"
#include "ikev2.h"

struct peer {
	struct ikev2_engine *e;
	struct ikev2_peer pol;
	struct ike_endpoint ep;
	unsigned long child_up, failed;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct ike_err *err)
{
	fprintf(stderr, "ike_rate: %s%s%s\n", what, err ? ": " : "", err ? err->msg : "");
	exit(1);
}

static int lookup(void *ctx, const struct ikev2_lookup *q, struct ikev2_peer *out)
{
	const struct peer *p = ctx;

	(void)q;
	*out = p->pol;
	return 0;
}

static struct ike_ts_set ts_of(uint8_t second_octet)
{
	struct dpsec_prefix pre = { { DPSEC_AF_INET, { 10, second_octet, 0, 0 } }, 16 };
	struct ike_ts_set s = { .n = 1 };

	s.ts[0] = ike_ts_from_prefix(&pre);
	return s;
}

/* PSK, IP-address identities, one IKE method (AES-GCM-16-128, PRF
 * HMAC-SHA2-256, the given group) and one child method (ESP AES-GCM-16-128). */
static void peer_policy(struct peer *p, bool initiator, uint16_t group)
{
	static const char psk[] = "ike-rate-benchmark-psk";
	struct ike_mm_method mm = { { IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256 },
				    group };
	struct ike_qm_method qm = { IKE_PROTO_ESP, DPSEC_ENC_AES_GCM_16, 16, DPSEC_INTEG_NONE, 0, false,
				    3600, 100000 };
	struct dpsec_addr me = { DPSEC_AF_INET, { 192, 0, 2, initiator ? 1 : 2 } };
	struct dpsec_addr them = { DPSEC_AF_INET, { 192, 0, 2, initiator ? 2 : 1 } };
	struct ike_err err = { 0 };

	memset(&p->pol, 0, sizeof(p->pol));
	p->ep = (struct ike_endpoint){ me, 500 };
	if (ike_id_addr(&p->pol.local_id, &me, &err) < 0 || ike_id_addr(&p->pol.remote_id, &them, &err) < 0 ||
	    ike_auth_psk(&p->pol.local_auth, (const uint8_t *)psk, sizeof(psk) - 1, &err) < 0 ||
	    ike_auth_psk(&p->pol.remote_auth, (const uint8_t *)psk, sizeof(psk) - 1, &err) < 0)
		die("policy", &err);
	p->pol.n_mm = 1;
	p->pol.mm[0] = mm;
	p->pol.n_qm = 1;
	p->pol.qm[0] = qm;
	p->pol.ts_local = ts_of(initiator ? 1 : 2);
	p->pol.ts_remote = ts_of(initiator ? 2 : 1);
}

static void peer_start(struct peer *p)
{
	struct ikev2_conf c;
	struct ike_err err = { 0 };

	ikev2_conf_default(&c);
	c.lookup = lookup;
	c.lookup_ctx = p;
	p->e = ikev2_engine_new(&c, &err);
	if (p->e == NULL)
		die("engine", &err);
}

/* Hands every datagram `from` sent to `to`; counts its other events.
 * Returns how many datagrams moved. */
static int pump(struct peer *from, struct peer *to, uint64_t now_ms)
{
	struct ikev2_event ev;
	struct ike_err err = { 0 };
	int moved = 0;

	while (ikev2_next_event(from->e, &ev)) {
		if (ev.kind == IKEV2_EV_SEND) {
			if (ikev2_input(to->e, ev.send.data, ev.send.len, &ev.send.remote, &ev.send.local,
					now_ms, &err) < 0)
				die("a datagram was refused", &err);
			moved++;
		} else if (ev.kind == IKEV2_EV_CHILD_UP) {
			from->child_up++;
		} else if (ev.kind == IKEV2_EV_FAILED) {
			from->failed++;
			fprintf(stderr, "ike_rate: negotiation failed: %s\n", ev.reason.text);
		}
		ikev2_event_release(&ev);
	}
	return moved;
}

/* One setup: initiate, then pass datagrams until both sides are quiet. */
static void setup_one(struct peer *i, struct peer *r, uint64_t now_ms)
{
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };

	if (ikev2_initiate(i->e, &i->pol, &i->ep, &r->ep, now_ms, &id, &err) < 0)
		die("initiate", &err);
	while (pump(i, r, now_ms) + pump(r, i, now_ms) > 0)
		;
}

static void peer_stop(struct peer *p)
{
	pump(p, p, 0); /* nothing is left to send by now; releases what remains */
	ikev2_engine_free(p->e);
	p->e = NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "setups", required_argument, NULL, 's' }, { "group", required_argument, NULL, 'g' },
		{ "batch", required_argument, NULL, 'b' }, { NULL, 0, NULL, 0 },
	};
	unsigned long setups = 5000, batch = 500, done = 0;
	uint16_t group = IKE_DH_ECP_256;
	struct peer i = { 0 }, r = { 0 };
	double spent = 0;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': setups = strtoul(optarg, NULL, 10); break;
		case 'g': group = (uint16_t)strtoul(optarg, NULL, 10); break;
		case 'b': batch = strtoul(optarg, NULL, 10); break;
		default: die("usage: ike_rate [--setups N] [--group 19|14|31] [--batch N]", NULL);
		}
	}
	if (setups == 0 || batch == 0 || ike_dh_public_len(group) == 0)
		die("--setups and --batch must be > 0, --group a supported group", NULL);
	peer_policy(&i, true, group);
	peer_policy(&r, false, group);
	while (done < setups) {
		unsigned long n = setups - done < batch ? setups - done : batch;
		double t0;

		peer_start(&i);
		peer_start(&r);
		t0 = now_s();
		for (unsigned long k = 0; k < n; k++)
			setup_one(&i, &r, 1000 + done + k);
		spent += now_s() - t0;
		peer_stop(&i);
		peer_stop(&r);
		done += n;
	}
	if (i.child_up != setups || r.child_up != setups || i.failed + r.failed != 0)
		die("not every setup came up on both sides", NULL);
	printf("{\"setups\": %lu, \"group\": %u, \"seconds\": %.3f, \"setups_per_s\": %.0f, "
	       "\"auth\": \"psk\", \"ike\": \"aes128gcm16-prfsha256\", \"esp\": \"aes128gcm16\"}\n",
	       setups, group, spent, setups / spent);
	ike_auth_wipe(&i.pol.local_auth);
	ike_auth_wipe(&i.pol.remote_auth);
	ike_auth_wipe(&r.pol.local_auth);
	ike_auth_wipe(&r.pol.remote_auth);
	return 0;
}
