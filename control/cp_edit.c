/* cp_edit.c - changes to the policy, in netsh's two modes. A static change
 * is made to the store file: the file is loaded, changed, written to a
 * side file, loaded back through the full validation, and only then renamed
 * over the store. A dynamic change is made to the running state only: the
 * file plus every dynamic change so far, validated the same way, and gone
 * when dpsec-ctld restarts. Either way the dataplane is then brought in
 * line (cp_apply). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cfg_file.h"
#include "cp.h"

static int fail(char *err, size_t errlen, const char *msg, const char *name)
{
	snprintf(err, errlen, msg, name);
	return -1;
}

static struct cfg_filter_list *list_of(struct cfg_store *s, const char *name)
{
	return (struct cfg_filter_list *)cfg_store_filter_list(s, name);
}

static int filter_index(const struct cfg_filter_list *l, const struct dpsec_filter *f)
{
	for (uint32_t i = 0; i < l->n_filters; i++)
		if (memcmp(&l->filters[i], f, sizeof(*f)) == 0)
			return (int)i;
	return -1;
}

static int op_filter(struct cfg_store *s, const struct cp_op *op, char *err, size_t errlen)
{
	struct cfg_filter_list *l = list_of(s, op->target);
	int i;

	if (l == NULL)
		return fail(err, errlen, "no filter list named \"%s\"", op->target);
	if (l->builtin)
		return fail(err, errlen, "\"%s\" is a built-in filter list: it cannot be changed", op->target);
	i = filter_index(l, &op->filter);
	if (op->kind == CP_OP_FILTER_DEL) {
		if (i < 0)
			return fail(err, errlen, "filter list \"%s\" has no such filter", op->target);
		if (l->n_filters == 1)
			return fail(err, errlen, "that is the last filter of \"%s\": a list needs one",
				    op->target);
		l->filters[i] = l->filters[--l->n_filters];
		return 0;
	}
	if (i >= 0)
		return fail(err, errlen, "filter list \"%s\" has that filter already", op->target);
	struct dpsec_filter *f = realloc(l->filters, (l->n_filters + 1) * sizeof(*f));

	if (f == NULL)
		return fail(err, errlen, "out of memory%s", "");
	l->filters = f;
	l->filters[l->n_filters++] = op->filter;
	return 0;
}

static const char *sa_user(const struct cfg_store *s, const char *sa, const char **policy)
{
	for (uint32_t p = 0; p < s->n_policies; p++)
		for (uint32_t r = 0; r < s->policies[p].n_rules; r++) {
			const struct cfg_store_rule *x = &s->policies[p].rules[r];

			*policy = s->policies[p].name;
			if (strcmp(x->outbound_sa, sa) == 0 || strcmp(x->inbound_sa, sa) == 0)
				return x->name;
		}
	return NULL;
}

/* The store's lookups by name again, after an SA came or went. */
static int reindex(struct cfg_store *s, char *err, size_t errlen)
{
	return cfg_store_index(s) < 0 ? fail(err, errlen, "out of memory%s", "") : 0;
}

static int op_sa(struct cfg_store *s, const struct cp_op *op, char *err, size_t errlen)
{
	const struct cfg_static_sa *cur = cfg_store_sa(s, op->target);
	const char *policy = "", *rule;

	if (op->kind == CP_OP_SA_ADD) {
		struct cfg_static_sa *sas = realloc(s->sas, (s->n_sas + 1) * sizeof(*sas));

		if (cur != NULL)
			return fail(err, errlen, "an SA named \"%s\" exists", op->target);
		if (sas == NULL)
			return fail(err, errlen, "out of memory%s", "");
		s->sas = sas;
		s->sas[s->n_sas++] = op->sa;
		return reindex(s, err, errlen);
	}
	if (cur == NULL)
		return fail(err, errlen, "no SA named \"%s\"", op->target);
	if ((rule = sa_user(s, op->target, &policy)) != NULL) {
		snprintf(err, errlen, "SA \"%s\" is used by rule \"%s\" of policy \"%s\"", op->target,
			 rule, policy);
		return -1;
	}
	uint32_t i = (uint32_t)(cur - s->sas);

	explicit_bzero(&s->sas[i], sizeof(s->sas[i]));
	s->sas[i] = s->sas[--s->n_sas];
	return reindex(s, err, errlen);
}

/* The op's rule at the end of p's, with its pre-shared key, if any, as
 * its one authentication method. */
static int add_rule(struct cfg_policy *p, const struct cp_op *op)
{
	struct cfg_store_rule *r = realloc(p->rules, (p->n_rules + 1) * sizeof(*r));
	struct cfg_auth_method *auth = NULL;

	if (r == NULL)
		return -1;
	p->rules = r;
	if (op->rule.n_auth > 0) {
		auth = calloc(1, sizeof(*auth));
		if (auth == NULL)
			return -1;
		auth->kind = CFG_AUTH_PSK;
		auth->psk_len = op->psk_len;
		memcpy(auth->psk, op->psk, op->psk_len);
	}
	r[p->n_rules] = op->rule;
	r[p->n_rules].auth = auth;
	r[p->n_rules++].n_auth = auth != NULL ? 1 : 0;
	return 0;
}

static int op_rule(struct cfg_store *s, const struct cp_op *op, char *err, size_t errlen)
{
	struct cfg_policy *p = (struct cfg_policy *)cfg_store_policy(s, op->target);
	int found = -1;

	if (p == NULL)
		return fail(err, errlen, "no policy named \"%s\"", op->target);
	if (p->builtin)
		return fail(err, errlen, "\"%s\" is a built-in policy: it cannot be changed", op->target);
	for (uint32_t i = 0; i < p->n_rules; i++)
		if (strcmp(p->rules[i].name, op->rule.name) == 0)
			found = (int)i;
	if (op->kind == CP_OP_RULE_DEL) {
		if (found < 0)
			return fail(err, errlen, "no rule named \"%s\"", op->rule.name);
		cfg_store_rule_free(&p->rules[found]);
		p->n_rules--; /* the others keep their order: it breaks priority ties */
		memmove(&p->rules[found], &p->rules[found + 1],
			(p->n_rules - (uint32_t)found) * sizeof(*p->rules));
		return 0;
	}
	if (found >= 0)
		return fail(err, errlen, "a rule named \"%s\" exists", op->rule.name);
	return add_rule(p, op) < 0 ? fail(err, errlen, "out of memory%s", "") : 0;
}

static int apply_op(struct cfg_store *s, const struct cp_op *op, char *err, size_t errlen)
{
	switch (op->kind) {
	case CP_OP_FILTER_ADD:
	case CP_OP_FILTER_DEL:
		return op_filter(s, op, err, errlen);
	case CP_OP_SA_ADD:
	case CP_OP_SA_DEL:
		return op_sa(s, op, err, errlen);
	case CP_OP_RULE_ADD:
	case CP_OP_RULE_DEL:
		return op_rule(s, op, err, errlen);
	default:
		if (op->target[0] && cfg_store_policy(s, op->target) == NULL)
			return fail(err, errlen, "no policy named \"%s\"", op->target);
		snprintf(s->assigned, sizeof(s->assigned), "%s", op->target);
		return 0;
	}
}

/* Writes s to path.check, loads it back with every check of the loader,
 * and hands back the loaded store in out. */
static int validate(const struct cfg_store *s, const char *path, struct cfg_store *out,
		    char *err, size_t errlen)
{
	char check[CFG_PATH_MAX + 16], e[CFG_ERR_MAX];
	int rc;

	snprintf(check, sizeof(check), "%s.check", path);
	if (cfg_store_save(s, check, e) < 0) {
		snprintf(err, errlen, "%s", e);
		return -1;
	}
	rc = cfg_store_load(check, CFG_PERM_REFUSE, out, e);
	if (rc < 0) {
		snprintf(err, errlen, "the change does not make a valid policy: %s", e);
		unlink(check);
	}
	return rc;
}

/* The file with the dynamic changes replayed over it. */
static int running_store(struct cp_ctx *c, const struct cp_op *extra, struct cfg_store *out,
			 char *err, size_t errlen)
{
	struct cfg_store s;
	char e[CFG_ERR_MAX];
	int rc = 0;

	if (cfg_store_load(c->o.store_path, c->o.allow_insecure_keys ? CFG_PERM_WARN : CFG_PERM_REFUSE,
			   &s, e) < 0) {
		snprintf(err, errlen, "%s", e);
		return -1;
	}
	for (uint32_t i = 0; i < c->n_ops && rc == 0; i++)
		if (apply_op(&s, &c->ops[i], err, errlen) < 0) /* a static change made it moot */
			cp_log(LOG_WARNING, "dynamic change %u no longer applies: %s", i + 1, err);
	if (extra != NULL)
		rc = apply_op(&s, extra, err, errlen);
	if (rc == 0)
		rc = validate(&s, c->o.store_path, out, err, errlen);
	cfg_store_free(&s);
	return rc;
}

/* The store file as it is. */
static int load_file(struct cp_ctx *c, struct cfg_store *out, char *err, size_t errlen)
{
	char e[CFG_ERR_MAX];

	if (cfg_store_load(c->o.store_path, CFG_PERM_WARN, out, e) < 0) {
		snprintf(err, errlen, "%s", e);
		return -1;
	}
	return 0;
}

/* s over the store file, through the loader's checks and a durable rename. */
static int replace_store(struct cp_ctx *c, const struct cfg_store *s, char *err, size_t errlen)
{
	struct cfg_store checked;
	char check[CFG_PATH_MAX + 16];
	int rc;

	if (validate(s, c->o.store_path, &checked, err, errlen) < 0)
		return -1;
	cfg_store_free(&checked);
	snprintf(check, sizeof(check), "%s.check", c->o.store_path);
	rc = cfg_replace_durably(check, c->o.store_path);
	if (rc < 0)
		return fail(err, errlen, "cannot replace the store: %s", strerror(-rc));
	return 0;
}

static int save_static(struct cp_ctx *c, const struct cp_op *op, char *err, size_t errlen)
{
	struct cfg_store s;
	int rc;

	if (load_file(c, &s, err, errlen) < 0)
		return -1;
	rc = apply_op(&s, op, err, errlen);
	if (rc == 0)
		rc = replace_store(c, &s, err, errlen);
	cfg_store_free(&s);
	return rc < 0 ? -1 : 0;
}

static const char *op_name(uint8_t kind)
{
	static const char *const names[] = { "add filter", "delete filter", "add SA", "delete SA",
					     "assign policy", "add rule", "delete rule" };

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

const struct cfg_compiled *cp_compiled(struct cp_ctx *c, char *err, size_t errlen)
{
	char e[CFG_ERR_MAX] = "out of memory";

	if (c->compiled != NULL)
		return c->compiled;
	c->compiled = calloc(1, sizeof(*c->compiled));
	if (c->compiled != NULL && c->store.assigned[0] == '\0') /* nothing is secured */
		c->compiled->default_action = DPSEC_ACTION_PERMIT;
	else if (c->compiled != NULL &&
		 cfg_compile(&c->store, c->store.assigned, c->compiled, e) < 0) {
		free(c->compiled);
		c->compiled = NULL;
	}
	if (c->compiled == NULL && err != NULL)
		snprintf(err, errlen, "%s", e);
	return c->compiled;
}

void cp_store_free(struct cp_ctx *c)
{
	if (c->compiled != NULL)
		cfg_compiled_free(c->compiled);
	free(c->compiled);
	c->compiled = NULL;
	cfg_store_free(&c->store);
}

/* s becomes the running store (the old one, and what was compiled from
 * it, freed). */
static void store_replace(struct cp_ctx *c, const struct cfg_store *s)
{
	cp_store_free(c);
	c->store = *s;
}

int cp_store_reload(struct cp_ctx *c, char *err, size_t errlen)
{
	struct cfg_store s;
	char check[CFG_PATH_MAX + 16];

	if (running_store(c, NULL, &s, err, errlen) < 0)
		return -1;
	snprintf(check, sizeof(check), "%s.check", c->o.store_path);
	unlink(check);
	store_replace(c, &s);
	return 0;
}

static const char *op_subject(const struct cp_op *op)
{
	return op->kind == CP_OP_RULE_ADD || op->kind == CP_OP_RULE_DEL ? op->rule.name : op->target;
}

/* A change dpsecd refused (an SA with a key another SA holds or an
 * algorithm it cannot run; a policy whose classifier outgrows
 * dataplane.policy_memory_mb): the store gives it up again, so that it
 * fails no later sync (each would be refused again, and a full one, after
 * a restart, would leave the dataplane blocking everything), and the
 * dataplane is brought back in line without it. dpsecd kept the policy it
 * had through the refused transaction, so that costs it no rebuild.
 * before: the store file before a static change; NULL for a dynamic one. */
static int revert_change(struct cp_ctx *c, const struct cp_op *op, const struct cfg_store *before)
{
	char e[CFG_ERR_MAX] = "";
	int rc = 0;

	if (before != NULL)
		rc = replace_store(c, before, e, sizeof(e));
	else
		c->n_ops--; /* the change, the last dynamic one */
	if (rc == 0)
		rc = cp_store_reload(c, e, sizeof(e));
	if (rc == 0)
		rc = cp_apply(c, e, sizeof(e));
	if (rc == 0)
		cp_audit("configuration change reverted (%s): %s \"%s\", which dpsecd refused",
			 before ? "static" : "dynamic", op_name(op->kind), op_subject(op));
	else
		cp_log(LOG_ERR, "%s \"%s\", which dpsecd refused, could not be reverted: %s",
		       op_name(op->kind), op_subject(op), e);
	return rc;
}

int cp_change(struct cp_ctx *c, const struct cp_op *op, bool save, char *err, size_t errlen)
{
	struct cfg_store s, before;
	char check[CFG_PATH_MAX + 16];
	int rc;

	if (save) {
		if (load_file(c, &before, err, errlen) < 0)
			return -1;
		if (save_static(c, op, err, errlen) < 0 || cp_store_reload(c, err, errlen) < 0) {
			cfg_store_free(&before);
			return -1;
		}
	} else {
		struct cp_op *ops = c->n_ops < CP_MAX_DYN_OPS ?
				    realloc(c->ops, (c->n_ops + 1) * sizeof(*ops)) : NULL;

		if (ops == NULL)
			return fail(err, errlen, "too many dynamic changes (%s): make them static or restart",
				    "4096");
		c->ops = ops;
		if (running_store(c, op, &s, err, errlen) < 0)
			return -1;
		snprintf(check, sizeof(check), "%s.check", c->o.store_path);
		unlink(check);
		c->ops[c->n_ops++] = *op;
		store_replace(c, &s);
	}
	cp_audit("configuration changed (%s): %s \"%s\"", save ? "static" : "dynamic",
		 op_name(op->kind), op_subject(op));
	rc = cp_apply(c, err, errlen);
	if (rc == -EINVAL && revert_change(c, op, save ? &before : NULL) == 0) {
		size_t n = strlen(err); /* dpsecd refused it: the store is as before */

		snprintf(err + n, errlen - n, "; the change was not kept");
	}
	if (save)
		cfg_store_free(&before);
	return rc;
}
