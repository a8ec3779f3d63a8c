/* spd.c - compiles a policy's rules into one rte_acl context per address
 * family and looks bursts of packets up in them. Every filter becomes one
 * ACL entry (two when mirrored) whose userdata is its rule's index + 1 and
 * whose ACL priority is its rule's rank in precedence order, so the ACL's
 * "highest priority wins" is the policy's "first rule wins". */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "spd.h"

enum { SPD_V4, SPD_V6, SPD_FAMILIES };

struct dp_spd {
	struct rte_acl_ctx *ctx[SPD_FAMILIES]; /* NULL: no entries of that family */
	uint32_t n_entries;
};

#define SPD_FIELD(t, sz, idx, in, off)                                              \
	{ .type = RTE_ACL_FIELD_TYPE_##t, .size = (sz), .field_index = (idx),        \
	  .input_index = (in), .offset = (off) }
#define K4(f) offsetof(struct dp_spd_key4, f)
#define K6(f) offsetof(struct dp_spd_key6, f)

/* Fields: the protocol, the source and destination address in 32-bit
 * words, the source and destination port (one 4-byte input group). */
static const struct rte_acl_field_def spd_defs4[] = {
	SPD_FIELD(BITMASK, 1, 0, 0, K4(proto)),
	SPD_FIELD(MASK, 4, 1, 1, K4(src)),
	SPD_FIELD(MASK, 4, 2, 2, K4(dst)),
	SPD_FIELD(RANGE, 2, 3, 3, K4(sport)),
	SPD_FIELD(RANGE, 2, 4, 3, K4(dport)),
};

static const struct rte_acl_field_def spd_defs6[] = {
	SPD_FIELD(BITMASK, 1, 0, 0, K6(proto)),
	SPD_FIELD(MASK, 4, 1, 1, K6(src)),
	SPD_FIELD(MASK, 4, 2, 2, K6(src) + 4),
	SPD_FIELD(MASK, 4, 3, 3, K6(src) + 8),
	SPD_FIELD(MASK, 4, 4, 4, K6(src) + 12),
	SPD_FIELD(MASK, 4, 5, 5, K6(dst)),
	SPD_FIELD(MASK, 4, 6, 6, K6(dst) + 4),
	SPD_FIELD(MASK, 4, 7, 7, K6(dst) + 8),
	SPD_FIELD(MASK, 4, 8, 8, K6(dst) + 12),
	SPD_FIELD(RANGE, 2, 9, 9, K6(sport)),
	SPD_FIELD(RANGE, 2, 10, 9, K6(dport)),
};

struct spd_family {
	uint8_t af;          /* enum dpsec_family */
	uint8_t addr_words;  /* 32-bit words of an address */
	uint8_t max_len;     /* prefix bits */
	const char *suffix;  /* of the context name */
	uint32_t n_fields;
	const struct rte_acl_field_def *defs;
};

static const struct spd_family spd_families[SPD_FAMILIES] = {
	[SPD_V4] = {DPSEC_AF_INET, 1, 32, "_v4", RTE_DIM(spd_defs4), spd_defs4},
	[SPD_V6] = {DPSEC_AF_INET6, 4, 128, "_v6", RTE_DIM(spd_defs6), spd_defs6},
};

RTE_ACL_RULE_DEF(spd_entry, RTE_DIM(spd_defs6)); /* big enough for both */

_Static_assert(DP_SPD_NAME_MAX + sizeof("_v4") <= RTE_ACL_NAMESIZE, "context names fit");

/* What building one SPD needs at every step. */
struct spd_build {
	const char *name;
	const struct dpsec_rule *rules;
	uint32_t n_rules;
	uint32_t *order; /* rule indexes, first match first */
	int socket_id;
	size_t max_bytes; /* rte_acl_config.max_size: 0, none */
	char *err;
	size_t errlen;
};

__rte_format_printf(2, 3)
static int spd_error(const struct spd_build *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->err, b->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int spd_family_of(const struct dpsec_filter *f)
{
	if (f->src.addr.family != f->dst.addr.family)
		return -1;
	if (f->src.addr.family == DPSEC_AF_INET)
		return SPD_V4;
	return f->src.addr.family == DPSEC_AF_INET6 ? SPD_V6 : -1;
}

static const char *filter_problem(const struct dpsec_filter *f, int fam)
{
	if (fam < 0)
		return "source and destination not both IPv4 or IPv6";
	if (f->src.len > spd_families[fam].max_len || f->dst.len > spd_families[fam].max_len)
		return "prefix longer than the address";
	if (f->sport_lo > f->sport_hi || f->dport_lo > f->dport_hi)
		return "empty port range";
	return NULL;
}

int dp_spd_filter_check(const struct dpsec_filter *f, char *err, size_t errlen)
{
	uint8_t mirrored;
	const char *problem;

	memcpy(&mirrored, &f->mirrored, 1); /* from outside: not yet a valid bool */
	if (mirrored > 1) {
		snprintf(err, errlen, "mirrored must be 0 or 1");
		return -1;
	}
	problem = filter_problem(f, spd_family_of(f));
	if (problem == NULL)
		return 0;
	snprintf(err, errlen, "%s", problem);
	return -1;
}

/* Checks what the ACL needs of a filter; returns its family or -1. */
static int spd_check_filter(const struct spd_build *b, uint32_t r, uint32_t i)
{
	const struct dpsec_filter *f = &b->rules[r].filters[i];
	int fam = spd_family_of(f);
	const char *problem = filter_problem(f, fam);

	if (problem != NULL)
		return spd_error(b, "rule '%s' filter %u: %s", b->rules[r].name, i + 1, problem);
	return fam;
}

/* Validates every filter and counts the ACL entries of each family. */
static int spd_count(const struct spd_build *b, uint32_t count[SPD_FAMILIES])
{
	uint64_t n[SPD_FAMILIES] = {0, 0};

	for (uint32_t r = 0; r < b->n_rules; r++) {
		if (b->rules[r].n_filters > 0 && b->rules[r].filters == NULL)
			return spd_error(b, "rule '%s': filters missing", b->rules[r].name);
		for (uint32_t i = 0; i < b->rules[r].n_filters; i++) {
			int fam = spd_check_filter(b, r, i);
			if (fam < 0)
				return -1;
			n[fam] += b->rules[r].filters[i].mirrored ? 2 : 1;
		}
	}
	if (n[SPD_V4] + n[SPD_V6] > UINT32_MAX)
		return spd_error(b, "too many filters");
	count[SPD_V4] = (uint32_t)n[SPD_V4];
	count[SPD_V6] = (uint32_t)n[SPD_V6];
	return 0;
}

/* qsort_r order: exemptions first, then tunnel rules, then lower priority
 * value, then lower id, then array order. */
static int spd_precedes(const void *a, const void *b, void *arg)
{
	const struct dpsec_rule *rules = arg;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	bool ei = rules[i].flags & DPSEC_RULE_EXEMPT, ej = rules[j].flags & DPSEC_RULE_EXEMPT;

	if (ei != ej)
		return ei ? -1 : 1;
	if (rules[i].tunnel != rules[j].tunnel)
		return rules[i].tunnel ? -1 : 1;
	if (rules[i].priority != rules[j].priority)
		return rules[i].priority < rules[j].priority ? -1 : 1;
	if (rules[i].id != rules[j].id)
		return rules[i].id < rules[j].id ? -1 : 1;
	return i < j ? -1 : i > j;
}

static int spd_sort(struct spd_build *b)
{
	b->order = rte_malloc("dp_spd_order", sizeof(uint32_t) * RTE_MAX(b->n_rules, 1u), 0);
	if (b->order == NULL)
		return spd_error(b, "out of memory");
	for (uint32_t r = 0; r < b->n_rules; r++)
		b->order[r] = r;
	qsort_r(b->order, b->n_rules, sizeof(uint32_t), spd_precedes, (void *)(uintptr_t)b->rules);
	return 0;
}

/* The ACL fields of one address: 32-bit words in host order, each with its
 * share of the prefix length (rte_acl ignores the bits past it). */
static void spd_fill_addr(struct rte_acl_field *field, const struct dpsec_prefix *p, uint32_t words)
{
	for (uint32_t i = 0; i < words; i++) {
		uint32_t v;

		memcpy(&v, &p->addr.a[4 * i], sizeof(v));
		field[i].value.u32 = rte_be_to_cpu_32(v);
		field[i].mask_range.u32 = p->len > 32 * i ? RTE_MIN(p->len - 32 * i, 32u) : 0;
	}
}

/* One ACL entry from a filter, source and destination swapped if asked. */
static void spd_fill(struct spd_entry *e, const struct dpsec_filter *f, bool swap, uint32_t words)
{
	struct rte_acl_field *sport = &e->field[1 + 2 * words], *dport = sport + 1;

	e->field[0].value.u8 = f->proto;
	e->field[0].mask_range.u8 = f->proto != 0 ? UINT8_MAX : 0; /* 0: any protocol */
	spd_fill_addr(&e->field[1], swap ? &f->dst : &f->src, words);
	spd_fill_addr(&e->field[1 + words], swap ? &f->src : &f->dst, words);
	sport->value.u16 = swap ? f->dport_lo : f->sport_lo;
	sport->mask_range.u16 = swap ? f->dport_hi : f->sport_hi;
	dport->value.u16 = swap ? f->sport_lo : f->dport_lo;
	dport->mask_range.u16 = swap ? f->sport_hi : f->dport_hi;
}

/* Adds the entries of the rule ranked rank (0: first) of one family. */
static int spd_add_rule(const struct spd_build *b, struct rte_acl_ctx *ctx, int fam, uint32_t rank)
{
	uint32_t r = b->order[rank];
	const struct dpsec_rule *rule = &b->rules[r];
	struct spd_entry e;
	int rc = 0;

	for (uint32_t i = 0; i < rule->n_filters && rc == 0; i++) {
		const struct dpsec_filter *f = &rule->filters[i];
		if (spd_family_of(f) != fam)
			continue;
		memset(&e, 0, sizeof(e));
		e.data.category_mask = 1;
		e.data.priority = (int32_t)(b->n_rules - rank); /* higher wins */
		e.data.userdata = r + 1;                        /* 0 means no match */
		for (int swap = 0; swap <= f->mirrored && rc == 0; swap++) {
			spd_fill(&e, f, swap, spd_families[fam].addr_words);
			rc = rte_acl_add_rules(ctx, (const struct rte_acl_rule *)&e, 1);
		}
	}
	if (rc != 0)
		return spd_error(b, "%s: adding rule '%s': %s", b->name, rule->name, strerror(-rc));
	return 0;
}

/* Creates, fills and builds the context of one family with n entries. */
static int spd_build_family(const struct spd_build *b, int fam, uint32_t n, struct rte_acl_ctx **out)
{
	const struct spd_family *sf = &spd_families[fam];
	struct rte_acl_config cfg = {.num_categories = 1, .num_fields = sf->n_fields,
				     .max_size = b->max_bytes};
	char ctx_name[RTE_ACL_NAMESIZE];
	struct rte_acl_param param = {.name = ctx_name, .socket_id = b->socket_id,
				      .rule_size = RTE_ACL_RULE_SZ(sf->n_fields), .max_rule_num = n};
	int rc;

	snprintf(ctx_name, sizeof(ctx_name), "%s%s", b->name, sf->suffix);
	*out = rte_acl_create(&param);
	if (*out == NULL)
		return spd_error(b, "%s: rte_acl_create: %s", ctx_name, rte_strerror(rte_errno));
	for (uint32_t rank = 0; rank < b->n_rules; rank++)
		if (spd_add_rule(b, *out, fam, rank) != 0)
			return -1;
	memcpy(cfg.defs, sf->defs, sizeof(sf->defs[0]) * sf->n_fields);
	rc = rte_acl_build(*out, &cfg);
	if (rc == -ERANGE) /* no split of its tries fits max_size */
		return spd_error(b, "%s: the classifier needs more than the %zu MiB allowed "
				 "(dataplane.policy_memory_mb)", ctx_name, b->max_bytes >> 20);
	if (rc != 0)
		return spd_error(b, "%s: rte_acl_build: %s", ctx_name, strerror(-rc));
	return 0;
}

/* The name, and the rule count the ACL priorities can rank. The name is
 * checked against live contexts because rte_acl_create() hands back an
 * existing context of the same name instead of failing. */
static int spd_check_args(const struct spd_build *b)
{
	char ctx_name[RTE_ACL_NAMESIZE];

	if (b->name == NULL || strlen(b->name) == 0 || strlen(b->name) > DP_SPD_NAME_MAX)
		return spd_error(b, "SPD name empty or longer than %d characters", DP_SPD_NAME_MAX);
	if (b->n_rules >= RTE_ACL_MAX_PRIORITY)
		return spd_error(b, "%s: too many rules (%u)", b->name, b->n_rules);
	for (int fam = 0; fam < SPD_FAMILIES; fam++) {
		snprintf(ctx_name, sizeof(ctx_name), "%s%s", b->name, spd_families[fam].suffix);
		if (rte_acl_find_existing(ctx_name) != NULL)
			return spd_error(b, "%s: an SPD of that name exists", b->name);
	}
	return 0;
}

struct dp_spd *dp_spd_build(const char *name, const struct dpsec_rule *rules, uint32_t n_rules,
			    int socket_id, size_t max_bytes, char *err, size_t errlen)
{
	struct spd_build b = {.name = name, .rules = rules, .n_rules = n_rules, .socket_id = socket_id,
			      .max_bytes = max_bytes, .err = err, .errlen = errlen};
	uint32_t count[SPD_FAMILIES] = {0, 0};
	struct dp_spd *spd = NULL;

	if (spd_check_args(&b) != 0 || spd_count(&b, count) != 0 || spd_sort(&b) != 0)
		goto fail;
	spd = rte_zmalloc_socket("dp_spd", sizeof(*spd), 0, socket_id);
	if (spd == NULL) {
		spd_error(&b, "%s: out of memory", name);
		goto fail;
	}
	for (int fam = 0; fam < SPD_FAMILIES; fam++)
		if (count[fam] > 0 && spd_build_family(&b, fam, count[fam], &spd->ctx[fam]) != 0)
			goto fail;
	spd->n_entries = count[SPD_V4] + count[SPD_V6];
	rte_free(b.order);
	return spd;
fail:
	rte_free(b.order);
	dp_spd_free(spd);
	return NULL;
}

void dp_spd_free(struct dp_spd *spd)
{
	if (spd == NULL)
		return;
	for (int fam = 0; fam < SPD_FAMILIES; fam++)
		rte_acl_free(spd->ctx[fam]);
	rte_free(spd);
}

static void spd_classify(const struct rte_acl_ctx *ctx, const uint8_t **data, uint32_t results[],
			 uint32_t n)
{
	if (ctx == NULL) { /* rte_acl does not build an empty context */
		for (uint32_t i = 0; i < n; i++)
			results[i] = DP_SPD_NO_MATCH;
		return;
	}
	rte_acl_classify(ctx, data, results, n, 1);
	for (uint32_t i = 0; i < n; i++)
		results[i] -= 1; /* userdata is index + 1, so no match (0) wraps to NO_MATCH */
}

void dp_spd_lookup4(const struct dp_spd *spd, const struct dp_spd_key4 *const keys[],
		    uint32_t results[], uint32_t n)
{
	spd_classify(spd->ctx[SPD_V4], (const uint8_t **)(uintptr_t)keys, results, n);
}

void dp_spd_lookup6(const struct dp_spd *spd, const struct dp_spd_key6 *const keys[],
		    uint32_t results[], uint32_t n)
{
	spd_classify(spd->ctx[SPD_V6], (const uint8_t **)(uintptr_t)keys, results, n);
}

uint32_t dp_spd_entry_count(const struct dp_spd *spd)
{
	return spd->n_entries;
}
