/* cp_cli.c - one dpsecctl request (its argv) into a reply, in the spirit of
 * netsh ipsec static|dynamic:
 *
 *   show policy|rules|filters|filteractions|mmsas|qmsas|neighbours|ports|stats [NAME] [--json] [--all]
 *   policy assign NAME | policy unassign                 (static: saved)
 *   static|dynamic add|delete filter filterlist=L src=P dst=P [protocol=X]
 *                  [mirrored=yes|no] [srcport=N[-M]] [dstport=N[-M]]
 *   static|dynamic add rule policy=P name=N filterlist=L filteraction=A
 *                  [priority=N] [tunnel=ADDR] [psk=KEY] [outbound_sa=S inbound_sa=S]
 *   static|dynamic delete rule policy=P name=N
 *   sa add NAME spi=.. direction=.. mode=.. local=.. remote=.. encryption=..
 *          encryption_key=.. (none with null) [integrity=.. integrity_key=..]
 *          [replay_window=N] [esn=yes|no]
 *          [encapsulation=udp [udp_source_port=N] [udp_destination_port=N]]
 *          [df_bit=copy|set|clear] [dscp=0..63]
 *          [lifetime_seconds=N] [lifetime_kilobytes=N]       (static: saved)
 *   sa add NAME ... protocol=ah integrity=.. integrity_key=.. (AH: no encryption)
 *   sa delete NAME
 *
 * Filter and SA parameters are checked by the store's own loader (they are
 * written out in its syntax and parsed), so the CLI and the file accept
 * exactly the same things and say the same things when they do not. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cp.h"
#include "cp_ike.h"
#include "cp_ikev1.h"
#include "cp_out.h"
#include "cp_show.h"

#define USAGE                                                                                   \
	"usage: dpsecctl [--instance NAME | --socket PATH] COMMAND\n"                              \
	"  show policy|rules|filters|filteractions|mmsas|qmsas|neighbours|ports|stats [NAME]\n"    \
	"       [--json] [--all]\n"                                                               \
	"  policy assign NAME | policy unassign\n"                                                 \
	"  static|dynamic add|delete filter filterlist=L src=PREFIX dst=PREFIX [protocol=P]\n"     \
	"                 [mirrored=yes|no] [srcport=N[-M]] [dstport=N[-M]]\n"                     \
	"  static|dynamic add rule policy=P name=N filterlist=L filteraction=A [priority=N]\n"     \
	"                 [tunnel=ADDR] [psk=KEY] [outbound_sa=SA inbound_sa=SA]\n"                 \
	"  static|dynamic delete rule policy=P name=N\n"                                           \
	"  sa add NAME spi=.. direction=.. mode=.. local=.. remote=.. encryption=..\n"             \
	"         encryption_key=.. (none with null) [integrity=.. integrity_key=..]\n"            \
	"         [replay_window=N] [esn=yes|no]\n"                                                 \
	"         [encapsulation=udp [udp_source_port=N] [udp_destination_port=N]]\n" \
	"         [df_bit=copy|set|clear] [dscp=0..63]\n" \
	"         [lifetime_seconds=N] [lifetime_kilobytes=N]\n"                                   \
	"  sa add NAME ... protocol=ah integrity=.. integrity_key=..   (AH: no encryption)\n"     \
	"  sa delete NAME\n"

struct params {
	int n;
	char *key[32], *val[32];
	bool used[32];
};

static int parse_params(int argc, char **argv, struct params *p, struct cp_out *o)
{
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (eq == NULL || eq == argv[i] || p->n == 32) {
			cp_out_printf(o, "expected name=value, got \"%.60s\"\n", argv[i]);
			return -1;
		}
		*eq = '\0';
		p->key[p->n] = argv[i];
		p->val[p->n++] = eq + 1;
	}
	return 0;
}

static const char *param(struct params *p, const char *key)
{
	for (int i = 0; i < p->n; i++)
		if (strcmp(p->key[i], key) == 0) {
			p->used[i] = true;
			return p->val[i];
		}
	return NULL;
}

static int unused_param(const struct params *p, struct cp_out *o)
{
	for (int i = 0; i < p->n; i++)
		if (!p->used[i]) {
			cp_out_printf(o, "unknown parameter \"%s\"\n", p->key[i]);
			return -1;
		}
	return 0;
}

/* A value for the store's syntax: quoted, with quotes and backslashes
 * refused (nothing legitimate has them). */
static int quoted(struct cp_out *t, struct cp_out *o, const char *key, const char *v)
{
	if (strpbrk(v, "\"\\\n") != NULL) {
		cp_out_printf(o, "%s: quotes, backslashes and newlines are not allowed\n", key);
		return -1;
	}
	cp_out_printf(t, "%s = \"%s\"; ", key, v);
	return 0;
}

static int number(struct cp_out *t, struct cp_out *o, const char *key, const char *v)
{
	const char *s = v;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (*s == '\0' || strspn(s, v != s ? "0123456789abcdefABCDEF" : "0123456789") != strlen(s)) {
		cp_out_printf(o, "%s: expected a number, got \"%.40s\"\n", key, v);
		return -1;
	}
	cp_out_printf(t, "%s = %s; ", key, v);
	return 0;
}

static int yes_no(struct cp_out *t, struct cp_out *o, const char *key, const char *v)
{
	bool yes = strcmp(v, "yes") == 0 || strcmp(v, "true") == 0;

	if (!yes && strcmp(v, "no") != 0 && strcmp(v, "false") != 0) {
		cp_out_printf(o, "%s: expected yes or no, got \"%.40s\"\n", key, v);
		return -1;
	}
	cp_out_printf(t, "%s = %s; ", key, yes ? "true" : "false");
	return 0;
}

/* Parses a text in the store's syntax and gives back the loaded store. */
static int load_snippet(struct cp_out *t, struct cfg_store *s, struct cp_out *o)
{
	char err[CFG_ERR_MAX];

	if (t->oom || cfg_store_load_string(t->buf, "(command)", s, err) < 0) {
		cp_out_printf(o, "%s\n", t->oom ? "out of memory" : err);
		return -1;
	}
	return 0;
}

static int build_filter(struct params *p, struct dpsec_filter *f, struct cp_out *o)
{
	static const char *const quoted_keys[][2] = {
		{ "src", "source" }, { "dst", "destination" }, { "protocol", "protocol" },
		{ "srcport", "source_ports" }, { "dstport", "destination_ports" },
	};
	struct cp_out t = { 0 };
	struct cfg_store s;
	const char *v;
	int rc = 0;

	cp_out_printf(&t, "filter_lists = ( { name = \"x\"; filters = ( { ");
	for (size_t i = 0; i < sizeof(quoted_keys) / sizeof(quoted_keys[0]) && rc == 0; i++)
		if ((v = param(p, quoted_keys[i][0])) != NULL)
			rc = isdigit((unsigned char)v[0]) && strcmp(quoted_keys[i][0], "protocol") == 0 ?
				     number(&t, o, quoted_keys[i][1], v) : quoted(&t, o, quoted_keys[i][1], v);
	if (rc == 0 && (v = param(p, "mirrored")) != NULL)
		rc = yes_no(&t, o, "mirrored", v);
	cp_out_printf(&t, "} ); } );\n");
	if (rc == 0 && (rc = load_snippet(&t, &s, o)) == 0) {
		*f = cfg_store_filter_list(&s, "x")->filters[0];
		cfg_store_free(&s);
	}
	cp_out_free(&t);
	return rc;
}

static int build_sa(const char *name, struct params *p, struct cfg_static_sa *sa, struct cp_out *o)
{
	static const char *const q[] = { "direction", "mode", "local", "remote", "protocol",
					 "encryption", "encryption_key", "integrity", "integrity_key",
					 "encapsulation", "df_bit" };
	static const char *const num[] = { "spi", "replay_window", "lifetime_seconds",
					   "lifetime_kilobytes", "udp_source_port", "udp_destination_port",
					   "dscp" };
	struct cp_out t = { 0 };
	struct cfg_store s;
	const char *v;
	int rc = 0;

	cp_out_printf(&t, "security_associations = ( { ");
	rc = quoted(&t, o, "name", name);
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]) && rc == 0; i++)
		if ((v = param(p, q[i])) != NULL)
			rc = quoted(&t, o, q[i], v);
	for (size_t i = 0; i < sizeof(num) / sizeof(num[0]) && rc == 0; i++)
		if ((v = param(p, num[i])) != NULL)
			rc = number(&t, o, num[i], v);
	if (rc == 0 && (v = param(p, "esn")) != NULL)
		rc = yes_no(&t, o, "esn", v);
	cp_out_printf(&t, "} );\n");
	if (rc == 0 && (rc = load_snippet(&t, &s, o)) == 0) {
		*sa = s.sas[0];
		cfg_store_free(&s);
	}
	if (t.buf)
		explicit_bzero(t.buf, t.len); /* keys */
	cp_out_free(&t);
	return rc;
}

/* A name parameter into dst ("" when absent and not required); one too
 * long for a name is refused, not cut. (What else the store's file would
 * refuse, the change's check refuses: cp_change loads the changed store
 * back.) */
static int name_param(struct params *p, const char *key, bool required, char dst[DPSEC_NAME_MAX],
		      struct cp_out *o)
{
	const char *v = param(p, key);

	if (v == NULL && required) {
		cp_out_printf(o, "%s= is required\n", key);
		return -1;
	}
	if (v != NULL && strlen(v) >= DPSEC_NAME_MAX) {
		cp_out_printf(o, "%s: at most %d characters, got %zu\n", key, DPSEC_NAME_MAX - 1, strlen(v));
		return -1;
	}
	snprintf(dst, DPSEC_NAME_MAX, "%s", v ? v : "");
	return 0;
}

/* priority=N: a decimal number (its range is the store's to check). */
static int priority_param(struct params *p, uint32_t *out, struct cp_out *o)
{
	const char *v = param(p, "priority");

	*out = 0;
	if (v == NULL)
		return 0;
	if (v[0] == '\0' || strspn(v, "0123456789") != strlen(v) || strlen(v) > 9) {
		cp_out_printf(o, "priority: expected a number, got \"%.40s\"\n", v);
		return -1;
	}
	*out = (uint32_t)strtoul(v, NULL, 10);
	return 0;
}

static int build_rule(struct params *p, struct cp_op *op, struct cp_out *o)
{
	const char *v;

	if (name_param(p, "policy", true, op->target, o) < 0 ||
	    name_param(p, "name", true, op->rule.name, o) < 0)
		return -1;
	op->rule.enabled = true;
	if (op->kind == CP_OP_RULE_DEL)
		return 0;
	if (name_param(p, "filterlist", false, op->rule.filter_list, o) < 0 ||
	    name_param(p, "filteraction", false, op->rule.filter_action, o) < 0 ||
	    name_param(p, "outbound_sa", false, op->rule.outbound_sa, o) < 0 ||
	    name_param(p, "inbound_sa", false, op->rule.inbound_sa, o) < 0 ||
	    priority_param(p, &op->rule.priority, o) < 0)
		return -1;
	if ((v = param(p, "tunnel")) != NULL) {
		if (cfg_parse_addr(v, &op->rule.tunnel_endpoint) < 0) {
			cp_out_printf(o, "tunnel: \"%.60s\" is not an IPv4 or IPv6 address\n", v);
			return -1;
		}
		op->rule.tunnel = true;
	}
	if ((v = param(p, "psk")) != NULL) {
		if (strlen(v) > CFG_PSK_MAX) {
			cp_out_printf(o, "psk: at most %d characters\n", CFG_PSK_MAX);
			return -1;
		}
		op->rule.n_auth = 1;
		op->psk_len = (uint32_t)strlen(v);
		memcpy(op->psk, v, strlen(v));
	}
	return 0;
}

/* A change made and applied; the reply says what happened. */
static int change(struct cp_ctx *c, struct cp_op *op, bool save, struct cp_out *o)
{
	char err[CP_ERR_MAX] = "";
	int rc = cp_change(c, op, save, err, sizeof(err));

	explicit_bzero(op, sizeof(*op));
	if (rc < 0) {
		cp_out_printf(o, "%s\n", err);
		return 1;
	}
	cp_out_printf(o, "ok%s%s\n", err[0] ? ": " : "", err);
	return 0;
}

static int cmd_edit(struct cp_ctx *c, int argc, char **argv, struct cp_out *o)
{
	bool save = strcmp(argv[0], "static") == 0, add;
	struct params p;
	struct cp_op op;
	const char *v;

	if (argc < 3 || (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "delete") != 0)) {
		cp_out_printf(o, USAGE);
		return 2;
	}
	add = strcmp(argv[1], "add") == 0;
	memset(&op, 0, sizeof(op));
	if (parse_params(argc - 3, argv + 3, &p, o) < 0)
		return 2;
	if (strcmp(argv[2], "filter") == 0) {
		op.kind = add ? CP_OP_FILTER_ADD : CP_OP_FILTER_DEL;
		v = param(&p, "filterlist");
		if (v == NULL || strlen(v) >= DPSEC_NAME_MAX) {
			cp_out_printf(o, "filterlist= is required\n");
			return 2;
		}
		strcpy(op.target, v);
		if (build_filter(&p, &op.filter, o) < 0)
			return 2;
	} else if (strcmp(argv[2], "rule") == 0) {
		op.kind = add ? CP_OP_RULE_ADD : CP_OP_RULE_DEL;
		if (build_rule(&p, &op, o) < 0)
			return 2;
	} else {
		cp_out_printf(o, "%s %s: expected filter or rule\n", argv[0], argv[1]);
		return 2;
	}
	if (unused_param(&p, o) < 0)
		return 2;
	return change(c, &op, save, o);
}

static int cmd_sa(struct cp_ctx *c, int argc, char **argv, struct cp_out *o)
{
	struct params p;
	struct cp_op op;

	if (argc < 3 || strlen(argv[2]) >= DPSEC_NAME_MAX ||
	    (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "delete") != 0)) {
		cp_out_printf(o, USAGE);
		return 2;
	}
	memset(&op, 0, sizeof(op));
	strcpy(op.target, argv[2]);
	op.kind = strcmp(argv[1], "add") == 0 ? CP_OP_SA_ADD : CP_OP_SA_DEL;
	if (parse_params(argc - 3, argv + 3, &p, o) < 0 ||
	    (op.kind == CP_OP_SA_ADD && build_sa(argv[2], &p, &op.sa, o) < 0) ||
	    unused_param(&p, o) < 0) {
		explicit_bzero(&op, sizeof(op));
		return 2;
	}
	return change(c, &op, true, o);
}

static int cmd_policy(struct cp_ctx *c, int argc, char **argv, struct cp_out *o)
{
	struct cp_op op = { .kind = CP_OP_ASSIGN };

	if (argc == 3 && strcmp(argv[1], "assign") == 0 && strlen(argv[2]) < DPSEC_NAME_MAX)
		strcpy(op.target, argv[2]);
	else if (!(argc == 2 && strcmp(argv[1], "unassign") == 0)) {
		cp_out_printf(o, USAGE);
		return 2;
	}
	return change(c, &op, true, o);
}

static uint64_t pending_key_ops(const struct cp_ctx *c)
{
	return c->mm[CP_MM_active_acquire];
}

static int cmd_show(struct cp_ctx *c, int argc, char **argv, struct cp_out *o)
{
	const char *name = NULL, *what = argc > 1 ? argv[1] : "";
	bool all = false;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			o->json = true;
		else if (strcmp(argv[i], "--all") == 0)
			all = true;
		else if (name == NULL)
			name = argv[i];
		else {
			cp_out_printf(o, "show %s: unexpected \"%.60s\"\n", what, argv[i]);
			return 2;
		}
	}
	if (strcmp(what, "policy") == 0)
		cp_show_policies(c, o, name);
	else if (strcmp(what, "rules") == 0)
		cp_show_rules(c, o, name);
	else if (strcmp(what, "filters") == 0)
		cp_show_filters(c, o, name);
	else if (strcmp(what, "filteractions") == 0)
		cp_show_filteractions(c, o);
	else if (strcmp(what, "mmsas") == 0)
		cp_show_mmsas(c, o);
	else if (strcmp(what, "qmsas") == 0)
		cp_show_qmsas(c, o);
	else if (strcmp(what, "neighbours") == 0)
		cp_show_neighbours(c, o);
	else if (strcmp(what, "ports") == 0)
		cp_show_ports(c, o);
	else if (strcmp(what, "stats") == 0) {
		struct dpsec_shm_stats st;
		bool have = c->attached && dpsec_shm_stats_read(c->seg.stats, &st, 1000);

		struct cp_show_ike ike = { c->ike ? ikev2_engine_stats(c->ike->e) : NULL,
					   c->ike ? cp_ikev1_stats(c->ike->v1) : NULL };

		cp_show_stats(o, c->mm, c->ike ? &ike : NULL, have ? &st : NULL, pending_key_ops(c),
			      all);
	} else {
		cp_out_printf(o, USAGE);
		return 2;
	}
	if (o->json)
		cp_out_printf(o, "\n");
	return 0;
}

int cp_cli_run(struct cp_ctx *c, int argc, char **argv, char **out, size_t *out_len)
{
	struct cp_out o = { 0 };
	int rc;

	if (argc >= 1 && strcmp(argv[0], "show") == 0)
		rc = cmd_show(c, argc, argv, &o);
	else if (argc >= 1 && (strcmp(argv[0], "static") == 0 || strcmp(argv[0], "dynamic") == 0))
		rc = cmd_edit(c, argc, argv, &o);
	else if (argc >= 1 && strcmp(argv[0], "sa") == 0)
		rc = cmd_sa(c, argc, argv, &o);
	else if (argc >= 1 && strcmp(argv[0], "policy") == 0)
		rc = cmd_policy(c, argc, argv, &o);
	else {
		cp_out_printf(&o, USAGE);
		rc = 2;
	}
	if (o.oom) {
		cp_out_free(&o);
		cp_out_printf(&o, "out of memory\n");
		rc = 1;
	}
	*out = o.buf;
	*out_len = o.len;
	return rc;
}
