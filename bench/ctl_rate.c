/* ctl_rate.c - the control-plane side of the dataplane benchmarked through
 * the real shared-memory rings of a running dpsecd: how many SAs per second
 * it installs and deletes (SA_ADD / SA_DEL, each acknowledged), and how long
 * it takes to compile and swap in a policy of N filters (POLICY_BEGIN ...
 * POLICY_COMMIT, timed to the COMMIT's acknowledgement, when the workers use
 * it), and then how long a rule's outbound SA takes to change in it (RULE_SA,
 * a rekey: no build). It attaches as the control plane would: run it against a dpsecd that
 * no dpsec-ctld manages. Prints one JSON object.
 *
 *   ctl_rate --instance NAME [--sas N] [--filters N] [--rules N]
 *   ctl_rate --instance NAME --churn N
 *   ctl_rate --instance NAME --fill N --first-slot S
 *
 * --fill installs N SAs at slots S, S+1, ... and leaves them there (no
 * FLUSH, dpsecd's own policy untouched): half inbound (in the SAD), half
 * outbound, with SPIs of their own. bench/run uses it to load a dataplane
 * with a million SAs while traffic runs on the SAs of its configuration.
 *
 * The policy of N filters keeps rule 1 (below) first, so traffic that rule
 * carries keeps flowing while it is built and swapped in. --policy-only
 * sends just that policy (no FLUSH, no SAs).
 *
 * --churn leaves dpsecd's own policy (rule 1 carrying traffic on SA 0) in
 * place and makes N changes around it while traffic flows: unrelated SAs
 * added and deleted, an unrelated rule and its filters added and removed,
 * and the whole policy replaced by an equal one; every change must be
 * acknowledged as applied. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dpsec_ring.h"

#define RULE_SA_CHANGES 1000

struct seg {
	struct dpsec_shm_hdr *hdr;
	struct dpsec_ring *cmd, *ev;
	uint64_t acked, refused;
	char first_error[DPSEC_REASON_MAX];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *msg)
{
	fprintf(stderr, "ctl_rate: %s\n", msg);
	exit(1);
}

static void attach(struct seg *s, const char *instance)
{
	char name[64];
	struct dpsec_shm_hdr h;
	struct stat sb;
	void *base;
	int fd;

	snprintf(name, sizeof(name), DPSEC_SHM_PREFIX "%s", instance);
	fd = shm_open(name, O_RDWR, 0);
	if (fd < 0 || fstat(fd, &sb) < 0 || pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		die("no dpsecd segment for that instance");
	if (h.magic != DPSEC_SHM_MAGIC || h.layout != DPSEC_SHM_LAYOUT)
		die("segment magic or layout differs from this build");
	if (!dpsec_shm_areas_fit(&h, (uint64_t)sb.st_size))
		die("the segment's size or areas do not match its header");
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		die("a control plane (dpsec-ctld) holds this instance");
	base = mmap(NULL, h.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		die("mmap failed");
	s->hdr = base;
	s->cmd = (struct dpsec_ring *)((uint8_t *)base + h.cmd_off);
	s->ev = (struct dpsec_ring *)((uint8_t *)base + h.ev_off);
	while (!atomic_load(&s->hdr->ready))
		usleep(1000);
	while (dpsec_ring_peek(s->ev) != NULL) /* what an earlier client left */
		dpsec_ring_release(s->ev);
}

static void drain(struct seg *s)
{
	struct dpsec_msg *m;

	while ((m = dpsec_ring_peek(s->ev)) != NULL) {
		if (m->h.type == DPSEC_EV_ACK) {
			const struct dpsec_ev_ack *a = (const void *)m->body;

			if (a->status != 0 && s->refused++ == 0)
				snprintf(s->first_error, sizeof(s->first_error), "%s", a->reason);
			s->acked++;
		}
		dpsec_ring_release(s->ev);
	}
}

/* Sends one command, waiting while the ring is full (back-pressure). */
static void send_cmd(struct seg *s, uint16_t type, const void *body, uint32_t len)
{
	while (dpsec_ring_push(s->cmd, type, body, len) < 0)
		drain(s);
}

static void wait_acks(struct seg *s, uint64_t want)
{
	double deadline = now_s() + 60;

	while (s->acked < want) {
		drain(s);
		if (now_s() > deadline)
			die("dpsecd stopped answering");
	}
}

static void send_rule1(struct seg *s);

static void sa_conf(struct dpsec_sa_conf *c, uint32_t i)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "bench-%u", i);
	c->spi = 0x10000 + i;
	c->direction = (i & 1) ? DPSEC_DIR_IN : DPSEC_DIR_OUT;
	c->mode = DPSEC_MODE_TUNNEL;
	c->replay_window = 64;
	c->local.family = c->remote.family = DPSEC_AF_INET;
	memcpy(c->local.a, (uint8_t[]){ 192, 0, 2, 1 }, 4);
	memcpy(c->remote.a, (uint8_t[]){ 198, 51, (uint8_t)(i >> 8), (uint8_t)i }, 4);
	c->enc_alg = DPSEC_ENC_AES_GCM_16;
	c->enc_key_len = 16;
	memset(c->enc_key, 0x5c, 16);
	memcpy(c->enc_key, &i, sizeof(i)); /* a key per SA: dpsecd refuses two outbound SAs sharing one */
}

/* --fill: n SAs from slot first on, kept; SPIs 0x40000000 + i do not meet
 * those of a configuration. Marked negotiated, as a million SAs would come
 * from IKE: a static key's claim in the sequence store (seq_store.c, not
 * on the DPDK heap) is no part of what the scale case measures. */
static int fill(struct seg *s, uint32_t n, uint32_t first)
{
	double t0 = now_s();
	uint64_t start = s->acked;

	if ((uint64_t)first + n > s->hdr->sa_capacity)
		die("--first-slot + --fill above the dataplane's --max-sas");
	for (uint32_t i = 0; i < n; i++) {
		struct dpsec_cmd_sa_add c = { .sa_id = first + i, .rule_id = 1 };

		sa_conf(&c.conf, i);
		c.conf.spi = 0x40000000u + i;
		c.conf.negotiated = true;
		send_cmd(s, DPSEC_CMD_SA_ADD, &c, sizeof(c));
	}
	wait_acks(s, start + n);
	printf("{\"filled\": %u, \"first_slot\": %u, \"seconds\": %.3f, \"refused\": %lu, "
	       "\"first_refusal\": \"%s\"}\n", n, first, now_s() - t0, s->refused, s->first_error);
	return s->refused ? 1 : 0;
}

static double sa_round(struct seg *s, uint32_t n, bool add)
{
	double t0 = now_s();
	uint64_t start = s->acked;

	for (uint32_t i = 0; i < n; i++) {
		if (add) {
			struct dpsec_cmd_sa_add c = { .sa_id = i, .rule_id = 1 };

			sa_conf(&c.conf, i);
			send_cmd(s, DPSEC_CMD_SA_ADD, &c, sizeof(c));
		} else {
			struct dpsec_cmd_sa_del c = { .sa_id = i };

			send_cmd(s, DPSEC_CMD_SA_DEL, &c, sizeof(c));
		}
	}
	wait_acks(s, start + n);
	return now_s() - t0;
}

static void filter_of(struct dpsec_filter *f, uint32_t i)
{
	memset(f, 0, sizeof(*f));
	f->src.addr.family = f->dst.addr.family = DPSEC_AF_INET;
	memcpy(f->src.addr.a, (uint8_t[]){ 10, 1, (uint8_t)(i >> 8), (uint8_t)i }, 4);
	memcpy(f->dst.addr.a, (uint8_t[]){ 10, 2, (uint8_t)(i >> 8), (uint8_t)i }, 4);
	f->src.len = f->dst.len = 32;
	f->proto = (i & 1) ? 6 : 17;
	f->mirrored = true;
	f->sport_hi = f->dport_hi = 65535;
}

/* Returns the whole time; *build_s: from the last staged filter's answer
 * to the COMMIT's (the compile and the swap alone). */
static double policy_round(struct seg *s, uint32_t n_rules, uint32_t n_filters, double *build_s)
{
	struct dpsec_cmd_policy_begin b = { .default_action = DPSEC_ACTION_PERMIT, .n_rules = n_rules };
	double t0 = now_s();
	uint64_t start = s->acked, sent = 0;

	send_cmd(s, DPSEC_CMD_POLICY_BEGIN, &b, sizeof(b));
	send_rule1(s);
	for (uint32_t r = 0; r < n_rules; r++) {
		struct dpsec_cmd_rule c = { .rule_id = 1000 + r, .priority = r, .sa_out = DPSEC_SA_NONE,
					    .action = (r & 1) ? DPSEC_ACTION_BLOCK : DPSEC_ACTION_PERMIT };

		snprintf(c.name, sizeof(c.name), "bench-rule-%u", r);
		send_cmd(s, DPSEC_CMD_RULE_SET, &c, sizeof(c));
	}
	for (uint32_t i = 0; i < n_filters; i++) {
		struct dpsec_cmd_filter f = { .rule_id = 1000 + i % n_rules, .filter_id = i };

		filter_of(&f.filter, i);
		send_cmd(s, DPSEC_CMD_FILTER_ADD, &f, sizeof(f));
	}
	sent = 3 + n_rules + n_filters;
	wait_acks(s, start + sent);
	*build_s = now_s();
	send_cmd(s, DPSEC_CMD_POLICY_COMMIT, NULL, 0);
	wait_acks(s, start + sent + 1);
	*build_s = now_s() - *build_s;
	return now_s() - t0;
}

/* Seconds per change of rule 1's outbound SA (RULE_SA, to SA 0, which it
 * carries: traffic through it is not disturbed), each acknowledged before
 * the next, as dpsec-ctld waits for a rekey's. */
static double rule_sa_round(struct seg *s, uint32_t n)
{
	struct dpsec_cmd_rule_sa c = { .rule_id = 1, .sa_out = 0 };
	uint64_t start = s->acked;
	double t0 = now_s();

	for (uint32_t i = 0; i < n; i++) {
		send_cmd(s, DPSEC_CMD_RULE_SA, &c, sizeof(c));
		wait_acks(s, start + i + 1);
	}
	return (now_s() - t0) / n;
}

/* Rule 1 as dpsecd's own configuration in the live-update test has it:
 * 10.1.0.0/24 <-> 10.2.0.0/24 through the tunnel to 192.0.2.2 on SA 0. */
static void send_rule1(struct seg *s)
{
	struct dpsec_cmd_rule r = { .rule_id = 1, .priority = 0, .sa_out = 0,
				    .action = DPSEC_ACTION_NEGOTIATE, .tunnel = 1, .name = "to-b" };
	struct dpsec_cmd_filter f = { .rule_id = 1, .filter_id = UINT32_MAX };

	r.tunnel_endpoint.family = DPSEC_AF_INET;
	memcpy(r.tunnel_endpoint.a, (uint8_t[]){ 192, 0, 2, 2 }, 4);
	f.filter.src.addr.family = f.filter.dst.addr.family = DPSEC_AF_INET;
	memcpy(f.filter.src.addr.a, (uint8_t[]){ 10, 1, 0, 0 }, 4);
	memcpy(f.filter.dst.addr.a, (uint8_t[]){ 10, 2, 0, 0 }, 4);
	f.filter.src.len = f.filter.dst.len = 24;
	f.filter.mirrored = true;
	f.filter.sport_hi = f.filter.dport_hi = 65535;
	send_cmd(s, DPSEC_CMD_RULE_SET, &r, sizeof(r));
	send_cmd(s, DPSEC_CMD_FILTER_ADD, &f, sizeof(f));
}

/* The policy dpsecd's own configuration gave it, sent again as a whole. */
static void churn_replace_policy(struct seg *s)
{
	struct dpsec_cmd_policy_begin b = { .default_action = DPSEC_ACTION_PERMIT, .n_rules = 1 };

	send_cmd(s, DPSEC_CMD_POLICY_BEGIN, &b, sizeof(b));
	send_rule1(s);
	send_cmd(s, DPSEC_CMD_POLICY_COMMIT, NULL, 0);
}

/* One change of kind k % 4 (a replaced policy counts as one change). */
static uint32_t churn_one(struct seg *s, uint32_t k)
{
	uint32_t id = 100 + (k / 4) % 50;

	switch (k % 4) {
	case 0: {
		struct dpsec_cmd_sa_add c = { .sa_id = id, .rule_id = 999 };

		sa_conf(&c.conf, id);
		send_cmd(s, DPSEC_CMD_SA_ADD, &c, sizeof(c));
		return 1;
	}
	case 1: {
		struct dpsec_cmd_rule r = { .rule_id = 500, .priority = 5, .sa_out = DPSEC_SA_NONE,
					    .action = DPSEC_ACTION_BLOCK, .name = "unrelated" };
		struct dpsec_cmd_filter f = { .rule_id = 500, .filter_id = k };

		filter_of(&f.filter, k);
		f.filter.dst.addr.a[1] = 9; /* 10.9.x.x: never the test traffic */
		send_cmd(s, DPSEC_CMD_RULE_SET, &r, sizeof(r));
		send_cmd(s, DPSEC_CMD_FILTER_ADD, &f, sizeof(f));
		return 2;
	}
	case 2: {
		struct dpsec_cmd_sa_del c = { .sa_id = id };
		struct dpsec_cmd_rule_del r = { .rule_id = 500 };

		send_cmd(s, DPSEC_CMD_SA_DEL, &c, sizeof(c));
		send_cmd(s, DPSEC_CMD_RULE_DEL, &r, sizeof(r));
		return 2;
	}
	default:
		churn_replace_policy(s);
		return 4;
	}
}

static int churn(struct seg *s, uint32_t n)
{
	uint64_t sent = 0;
	double t0 = now_s();

	for (uint32_t k = 0; k < n; k++) {
		sent += churn_one(s, k);
		wait_acks(s, sent); /* one change at a time, as an administrator makes them */
	}
	printf("{\"changes\": %u, \"commands\": %lu, \"refused\": %lu, \"seconds\": %.3f, "
	       "\"first_refusal\": \"%s\"}\n", n, sent, s->refused, now_s() - t0, s->first_error);
	return s->refused ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "instance", required_argument, NULL, 'i' }, { "sas", required_argument, NULL, 's' },
		{ "filters", required_argument, NULL, 'f' }, { "rules", required_argument, NULL, 'r' },
		{ "churn", required_argument, NULL, 'c' },
		{ "policy-only", no_argument, NULL, 'p' },
		{ "fill", required_argument, NULL, 'F' }, { "first-slot", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	const char *instance = "rte";
	uint32_t n_sas = 100000, n_filters = 10000, n_rules = 100, n_churn = 0, n_fill = 0, first_slot = 0;
	bool policy_only = false;
	struct dpsec_cmd_flush fl = { .default_action = DPSEC_ACTION_PERMIT };
	struct seg s = { 0 };
	double t_add, t_del, t_pol, t_build, t_rule_sa;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': instance = optarg; break;
		case 's': n_sas = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'f': n_filters = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'r': n_rules = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'c': n_churn = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'p': policy_only = true; break;
		case 'F': n_fill = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'S': first_slot = (uint32_t)strtoul(optarg, NULL, 10); break;
		default: die("usage: ctl_rate --instance NAME [--sas N] [--filters N] [--rules N] | --churn N | --fill N --first-slot S");
		}
	}
	attach(&s, instance);
	if (n_churn > 0)
		return churn(&s, n_churn);
	if (n_fill > 0)
		return fill(&s, n_fill, first_slot);
	if ((!policy_only && n_sas > s.hdr->sa_capacity) || n_rules == 0)
		die("--sas above the dataplane's --max-sas, or --rules 0");
	t_add = t_del = 0;
	if (!policy_only) {
		send_cmd(&s, DPSEC_CMD_FLUSH, &fl, sizeof(fl));
		wait_acks(&s, 1);
		t_add = sa_round(&s, n_sas, true);
		t_del = sa_round(&s, n_sas, false);
	} else {
		n_sas = 0;
	}
	t_pol = policy_round(&s, n_rules, n_filters, &t_build);
	t_rule_sa = rule_sa_round(&s, RULE_SA_CHANGES);
	printf("{\"sas\": %u, \"sa_add_per_s\": %.0f, \"sa_del_per_s\": %.0f, \"rules\": %u, "
	       "\"filters\": %u, \"policy_transfer_and_swap_s\": %.4f, \"policy_build_swap_s\": %.4f, "
	       "\"rule_sa_change_s\": %.6f, \"acks\": %lu, \"refused\": %lu, \"first_refusal\": \"%s\"}\n",
	       n_sas, n_sas ? n_sas / t_add : 0, n_sas ? n_sas / t_del : 0, n_rules, n_filters, t_pol, t_build,
	       t_rule_sa, s.acked, s.refused, s.first_error);
	return s.refused ? 1 : 0;
}
