/* ctld.c - dpsec-ctld: loads the policy store, serves dpsecctl on its
 * socket, attaches to the dpsecd of its instance (waiting for it), brings
 * it in line with the store (a new dataplane gets everything, one a
 * previous dpsec-ctld managed is read back), then handles the dataplane's
 * events, IKE (cp_ike.c) and its own timers. Notices a restarted dpsecd and replays; on
 * SIGHUP reloads the store (keeping the old one if the new one is invalid);
 * on SIGTERM/SIGINT detaches, leaving the dataplane forwarding. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cp.h"
#include "cp_ike.h"
#include "cp_ike_auth.h"
#include "dpsec_opt.h"

#define LOOP_MS 10
#define CHECK_DP_MS 500
#define RESYNC_MAX_MS 30000 /* the longest wait between tries of a failed sync */

static struct cp_ctx ctx;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		ctx.reload = 1;
	else
		ctx.quit = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: dpsec-ctld -f STORE [options]\n"
		   "  -f, --store FILE          the policy store (docs/policy-store.md)\n"
		   "      --instance NAME       the dpsecd to manage (default \"rte\": its EAL file prefix)\n"
		   "      --socket PATH         management socket (default /run/dpsec/ctld.INSTANCE.sock)\n"
		   "      --group NAME          group allowed on the socket besides root\n"
		   "      --log-level 0..7      syslog level (default 6, info)\n"
		   "      --syslog              log to syslog instead of stderr\n"
		   "      --ike-log FILE        the IKE log (the Oakley log): every IKE line, 50,000\n"
		   "                            entries a file, the previous one kept as FILE.sav\n"
		   "      --ike-log-level 0..7  the IKE log's diagnostic level (default 7, everything)\n"
		   "      --allow-insecure-keys load a store others can read\n"
		   "      --check               validate the store and exit\n"
		   "      --dpd-interval SECONDS  IKE liveness check after this long without traffic\n"
		   "                            from the peer (default 30, 0: off)\n"
		   "      --test-ike-lifetime SECONDS  FOR TESTS ONLY: the IKE (ISAKMP) SA's lifetime (10 s and up)\n"
		   "                            instead of the policy's Main Mode one (5 min and up)\n"
		   "      --ike-fragment-size BYTES  IKE messages longer than this go in fragments\n"
		   "                            (RFC 7383; 128..65000, default 1200, 0: never)\n"
		   "      --ike-cookie-threshold N  half-open IKE SAs from which a cookie is asked\n"
		   "                            (default 1000, 0: always)\n"
		   "      --ike-half-open-per-source N  half-open IKE SAs one address may hold\n"
		   "                            (default 10, 0: no limit)\n");
}

/* SECONDS of an option: min .. 86400. */
static int parse_seconds(const char *opt, const char *arg, uint32_t min, uint32_t *out)
{
	return dpsec_opt_u32("dpsec-ctld", opt, arg, min, 86400, out);
}

/* A number of an option: 0 (off) or min .. max. */
static int parse_count(const char *opt, const char *arg, uint32_t min, uint32_t max, uint32_t *out)
{
	if (dpsec_opt_u32("dpsec-ctld", opt, arg, 0, max, out) < 0)
		return -1;
	if (*out != 0 && *out < min) {
		fprintf(stderr, "dpsec-ctld: %s: expected 0 or %u..%u, got \"%s\"\n", opt, min, max, arg);
		return -1;
	}
	return 0;
}

static int parse_level(const char *opt, const char *arg, int *level)
{
	uint32_t v;

	if (dpsec_opt_u32("dpsec-ctld", opt, arg, 0, 7, &v) < 0)
		return -1;
	*level = (int)v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct cp_opts *o)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 'f' }, { "instance", required_argument, NULL, 'i' },
		{ "socket", required_argument, NULL, 's' }, { "group", required_argument, NULL, 'g' },
		{ "log-level", required_argument, NULL, 'l' }, { "syslog", no_argument, NULL, 'y' },
		{ "allow-insecure-keys", no_argument, NULL, 'k' }, { "help", no_argument, NULL, 'h' },
		{ "check", no_argument, NULL, 'c' }, { "ike-log", required_argument, NULL, 'o' },
		{ "ike-log-level", required_argument, NULL, 'L' },
		{ "dpd-interval", required_argument, NULL, 'd' },
		{ "test-ike-lifetime", required_argument, NULL, 't' },
		{ "ike-fragment-size", required_argument, NULL, 'F' },
		{ "ike-cookie-threshold", required_argument, NULL, 'C' },
		{ "ike-half-open-per-source", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	static char sock[128];
	struct ikev2_conf ike;
	int c;

	o->instance = "rte";
	o->log_level = LOG_INFO;
	o->ike_log_level = LOG_DEBUG;
	o->dpd_seconds = 30;
	ikev2_conf_default(&ike);
	o->ike_fragment_size = ike.fragment_size;
	o->ike_cookie_threshold = ike.cookie_threshold;
	o->ike_half_open_per_source = ike.half_open_per_source;
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': o->store_path = optarg; break;
		case 'i': o->instance = optarg; break;
		case 's': o->socket_path = optarg; break;
		case 'g': o->group = optarg; break;
		case 'y': o->use_syslog = true; break;
		case 'k': o->allow_insecure_keys = true; break;
		case 'c': o->check_only = true; break;
		case 'o': o->ike_log_path = optarg; break;
		case 'l':
		case 'L':
			if (parse_level(c == 'l' ? "--log-level" : "--ike-log-level", optarg,
					c == 'l' ? &o->log_level : &o->ike_log_level) < 0)
				return -1;
			break;
		case 'd':
			if (parse_seconds("--dpd-interval", optarg, 0, &o->dpd_seconds) < 0)
				return -1;
			break;
		case 't':
			if (parse_seconds("--test-ike-lifetime", optarg, 10, &o->test_ike_lifetime_s) < 0)
				return -1;
			break;
		case 'F':
			if (parse_count("--ike-fragment-size", optarg, 128, 65000, &o->ike_fragment_size) < 0)
				return -1;
			break;
		case 'C':
			if (parse_count("--ike-cookie-threshold", optarg, 1, 1000000,
					&o->ike_cookie_threshold) < 0)
				return -1;
			break;
		case 'H':
			if (parse_count("--ike-half-open-per-source", optarg, 1, 1000000,
					&o->ike_half_open_per_source) < 0)
				return -1;
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (o->store_path == NULL || optind != argc || strlen(o->instance) >= DPSEC_INSTANCE_MAX) {
		usage(stderr);
		return -1;
	}
	if (o->socket_path == NULL) {
		snprintf(sock, sizeof(sock), "/run/dpsec/ctld.%s.sock", o->instance);
		o->socket_path = sock;
	}
	return 0;
}

static void attach(struct cp_ctx *c)
{
	static char last[CP_ERR_MAX];
	char err[CP_ERR_MAX] = "";
	int rc;

	if (cp_seg_attach(&c->seg, c->o.instance, err, sizeof(err)) < 0) {
		if (strcmp(err, last) != 0) /* say it once, not every half second */
			cp_log(LOG_NOTICE, "waiting for dpsecd: %s", err);
		snprintf(last, sizeof(last), "%s", err);
		return;
	}
	last[0] = '\0';
	c->attached = true;
	c->ack_base = c->acked = c->want_seq = c->wait_from = atomic_load(&c->seg.cmd->head);
	c->policy_fp_known = false; /* whatever policy it runs, ours is sent once */
	cp_log(LOG_NOTICE, "attached to dpsecd pid %u, instance \"%s\"", c->seg.hdr->dp_pid, c->o.instance);
	if (atomic_load(&c->seg.hdr->managed)) {
		rc = cp_sync_readback(c, err, sizeof(err));
	} else {
		cp_ike_children_lost(c); /* a new dpsecd: what IKE installed died with the old one */
		rc = cp_sync_full(c, err, sizeof(err));
	}
	if (rc < 0)
		cp_log(LOG_ERR, "bringing the dataplane in line with the store failed: %s", err);
	else
		cp_log(LOG_NOTICE, "the dataplane is in line with the store (policy \"%s\")",
		       c->store.assigned[0] ? c->store.assigned : "none");
}

/* The last sync failed (dpsecd refused something, or was slow): again,
 * saying so when the reason changes. Each failure doubles the wait before
 * the next try, up to RESYNC_MAX_MS: a sync dpsecd keeps refusing (a
 * policy beyond its dataplane.policy_memory_mb after a restart) must not
 * keep its manager rebuilding classifiers. */
static void resync(struct cp_ctx *c, uint64_t now)
{
	static char last[CP_ERR_MAX];
	char err[CP_ERR_MAX] = "";

	if (now < c->resync_at_ns)
		return;
	if (cp_apply(c, err, sizeof(err)) == 0) {
		last[0] = '\0';
		return;
	}
	c->resync_wait_ns = c->resync_wait_ns ? c->resync_wait_ns * 2 : CHECK_DP_MS * 1000000ull;
	if (c->resync_wait_ns > RESYNC_MAX_MS * 1000000ull)
		c->resync_wait_ns = RESYNC_MAX_MS * 1000000ull;
	c->resync_at_ns = cp_now_ns() + c->resync_wait_ns;
	if (strcmp(err, last) != 0)
		cp_log(LOG_ERR, "the dataplane still differs from the store: %s; trying again in "
		       "%.1f s, twice as long after each failure, at most %d s", err,
		       (double)c->resync_wait_ns / 1e9, RESYNC_MAX_MS / 1000);
	snprintf(last, sizeof(last), "%s", err);
}

static void detach(struct cp_ctx *c, const char *why)
{
	cp_log(LOG_WARNING, "dpsecd %s: detaching; will replay everything to the next one", why);
	cp_seg_detach(&c->seg);
	c->attached = c->synced = false;
	c->resync_at_ns = c->resync_wait_ns = 0; /* the next dpsecd is tried at once */
	memset(c->acq, 0, sizeof(c->acq));
	memset(c->dyn, 0, sizeof(c->dyn));
	c->mm[CP_MM_active_acquire] = c->mm[CP_MM_acquire_heap_size] = 0;
}

static void reload(struct cp_ctx *c)
{
	char err[CP_ERR_MAX] = "";

	c->reload = 0;
	if (cp_store_reload(c, err, sizeof(err)) < 0) {
		cp_log(LOG_ERR, "reload: the store is not valid, keeping the running one: %s", err);
		return;
	}
	cp_audit("configuration reloaded from %s", c->o.store_path);
	if (cp_apply(c, err, sizeof(err)) < 0)
		cp_log(LOG_ERR, "reload: %s", err);
}

static void run(struct cp_ctx *c)
{
	uint64_t next_check = 0;

	while (!c->quit) {
		uint64_t now = cp_now_ns();

		if (now >= next_check) {
			next_check = now + CHECK_DP_MS * 1000000ull;
			if (c->attached && cp_seg_replaced(&c->seg, c->o.instance))
				detach(c, "restarted or stopped");
			if (!c->attached)
				attach(c);
			else if (!c->synced)
				resync(c, now);
		}
		if (c->reload)
			reload(c);
		cp_mgmt_poll(c, LOOP_MS);
		cp_ike_poll(c);
		cp_events_poll(c);
		if (c->attached)
			cp_timers(c);
	}
}

int main(int argc, char **argv)
{
	char err[CP_ERR_MAX] = "";

	ctx.listen_fd = -1;
	ctx.seg.fd = -1;
	if (parse_opts(argc, argv, &ctx.o) < 0)
		return 2;
	cp_log_init(ctx.o.log_level, ctx.o.use_syslog);
	if (cfg_store_load(ctx.o.store_path, ctx.o.allow_insecure_keys ? CFG_PERM_WARN : CFG_PERM_REFUSE,
			   &ctx.store, err) < 0) {
		fprintf(stderr, "dpsec-ctld: %s\n", err);
		return 1;
	}
	if (ctx.o.check_only) {
		int bad = cp_ike_auth_check(&ctx.store, err, sizeof(err));

		if (bad)
			fprintf(stderr, "dpsec-ctld: %s: %s\n", ctx.o.store_path, err);
		else
			printf("dpsec-ctld: %s: policy store OK\n", ctx.o.store_path);
		cp_store_free(&ctx);
		return bad ? 1 : 0;
	}
	if (cp_mgmt_open(&ctx, err, sizeof(err)) < 0) {
		fprintf(stderr, "dpsec-ctld: %s\n", err);
		cp_store_free(&ctx);
		return 1;
	}
	if (ctx.o.ike_log_path != NULL &&
	    cp_ikelog_open(&ctx.ikelog, ctx.o.ike_log_path, ctx.o.ike_log_level, CP_IKELOG_ENTRIES, err,
			   sizeof(err)) < 0) {
		fprintf(stderr, "dpsec-ctld: %s\n", err);
		cp_mgmt_close(&ctx);
		cp_store_free(&ctx);
		return 1;
	}
	if (cp_ike_auth_open(&ctx, err, sizeof(err)) < 0) { /* the key process: before any IKE socket */
		cp_ikelog_close(&ctx.ikelog);
		fprintf(stderr, "dpsec-ctld: %s\n", err);
		cp_mgmt_close(&ctx);
		cp_store_free(&ctx);
		return 1;
	}
	if (cp_ike_open(&ctx, err, sizeof(err)) < 0)
		cp_log(LOG_WARNING, "IKE disabled, negotiate rules fall back as the policy says: %s", err);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);
	cp_log(LOG_NOTICE, "started: store %s, policy \"%s\" assigned, socket %s", ctx.o.store_path,
	       ctx.store.assigned[0] ? ctx.store.assigned : "(none)", ctx.o.socket_path);
	run(&ctx);
	cp_log(LOG_NOTICE, "stopping; the dataplane keeps what it has");
	cp_mgmt_close(&ctx);
	cp_ike_close(&ctx);
	cp_ike_auth_close(&ctx);
	cp_ikelog_close(&ctx.ikelog);
	if (ctx.attached)
		cp_seg_detach(&ctx.seg);
	if (ctx.ops != NULL)
		explicit_bzero(ctx.ops, ctx.n_ops * sizeof(*ctx.ops));
	free(ctx.ops);
	free(ctx.sa);
	cp_store_free(&ctx);
	return 0;
}
