/* cfg_priv.h - what the files of the config loader share and nobody else
 * uses: the parse context, limits, error reporting as "FILE:LINE: FIELD:
 * problem", typed field getters and the string helpers behind cfg.h's. */
#ifndef DPSEC_CFG_PRIV_H
#define DPSEC_CFG_PRIV_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "cfg_names.h"

#define CFG_MAX_LIST 4096          /* routes, neighbours, actions, policies, filters per list */
#define CFG_MAX_SAS 65536          /* static SAs: a gateway with many peers keyed by hand */
#define CFG_MAX_RULES 16384        /* rules, and filter lists */
#define CFG_MAX_RULE_FILTERS 65536 /* filters copied into rules, all rules together */
#define CFG_MAX_FILE_SIZE (16u << 20) /* bytes; a policy file is never that big */
#define CFG_ADDR_STRLEN 64         /* an IPv6 address, '/', a length and NUL */

/* Type masks for cfg_member(). */
#define CFG_T(type) (1u << (type))
#define CFG_T_GROUP CFG_T(CONFIG_TYPE_GROUP)
#define CFG_T_INT (CFG_T(CONFIG_TYPE_INT) | CFG_T(CONFIG_TYPE_INT64))
#define CFG_T_STR CFG_T(CONFIG_TYPE_STRING)
#define CFG_T_BOOL CFG_T(CONFIG_TYPE_BOOL)
#define CFG_T_SEQ (CFG_T(CONFIG_TYPE_LIST) | CFG_T(CONFIG_TYPE_ARRAY))

/* A filter list while the policy is parsed; rules copy its filters. */
struct cfg_flist {
	char name[DPSEC_NAME_MAX];
	const config_setting_t *filters; /* the libconfig list, for messages */
	uint32_t n;
	struct dpsec_filter *f;
};

struct cfg_faction {
	char name[DPSEC_NAME_MAX];
	uint8_t action; /* enum dpsec_action */
};

struct cfg_store;

struct cfg_ctx {
	bool store;       /* loading dpsec-ctld's policy store: its extra fields allowed */
	struct cfg_store *store_out;
	const char *path; /* the file given to cfg_load() */
	const char *dir;  /* its directory, where @include looks */
	char *err;        /* CFG_ERR_MAX bytes */
	struct cfg_dataplane *cfg;
	uint32_t n_lists, lists_base;        /* base: loaded before this file (built-ins) */
	struct cfg_flist *lists;
	uint32_t n_factions, factions_base;
	struct cfg_faction *factions;
	uint32_t n_rule_filters; /* copied so far, against CFG_MAX_RULE_FILTERS */
	/* the names loaded so far, for the duplicate and reference checks */
	struct cfg_names port_names, sa_names, rule_names; /* of c->cfg; rules: one policy's */
	struct cfg_names list_names, faction_names;        /* of lists, factions */
	struct cfg_names policy_names;                     /* of the store's policies */
	struct cfg_names spi_names;  /* of spi_keys, while the SAs load: (direction, SPI, address) */
	char (*spi_keys)[DPSEC_NAME_MAX];
};

/* A keyword table ends with a NULL name. */
struct cfg_kw {
	const char *name;
	int value;
};

/* Errors. Both return -1. cfg_fail() names setting s; cfg_fail_in() names
 * field of group g at g's line (for a missing field). */
int cfg_fail(struct cfg_ctx *c, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int cfg_fail_in(struct cfg_ctx *c, const config_setting_t *g, const char *field,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Getters return 1 when the field is present and valid, 0 when it is absent
 * and optional, -1 (error written) otherwise. */
int cfg_group(struct cfg_ctx *c, const config_setting_t *s, const char *const *fields);
int cfg_member(struct cfg_ctx *c, const config_setting_t *g, const char *name, bool req,
	       unsigned types, const char *what, const config_setting_t **out);
int cfg_list(struct cfg_ctx *c, const config_setting_t *g, const char *name, bool req,
	     uint32_t min, uint32_t max, const config_setting_t **out);
int cfg_str(struct cfg_ctx *c, const config_setting_t *g, const char *name, bool req,
	    size_t maxlen, const char **out);
int cfg_int(struct cfg_ctx *c, const config_setting_t *g, const char *name, bool req,
	    long long lo, long long hi, long long *out);
long long cfg_int_value(const config_setting_t *s);
int cfg_bool(struct cfg_ctx *c, const config_setting_t *g, const char *name, bool req,
	     bool *out);
int cfg_keyword(struct cfg_ctx *c, const config_setting_t *g, const char *name, bool req,
		const struct cfg_kw *kw, int *out);
extern const struct cfg_kw cfg_df_kw[]; /* df_bit: copy, set, clear (cfg_sa.c) */

/* A cipher by its configuration name (cfg_alg.c); cfg_encs ends with a NULL name. */
struct cfg_enc {
	const char *name;
	uint8_t alg;            /* enum dpsec_enc_alg */
	uint8_t key_len;        /* bytes, without the salt */
	uint8_t salt_len;
	const char *key_layout; /* what the key material is, for the message on a wrong length */
};
extern const struct cfg_enc cfg_encs[];
extern const struct cfg_kw cfg_integ_kw[]; /* "none", the HMACs, XCBC, CMAC: enum dpsec_integ_alg */
/* "encryption" as cfg_keyword(); *out the cipher, NULL for "none" (taken only with_none). */
int cfg_encryption(struct cfg_ctx *c, const config_setting_t *g, bool req, bool with_none,
		   const struct cfg_enc **out);
/* The names back: "none" for what has none. */
const char *cfg_enc_name(uint8_t alg, uint8_t key_len);
const char *cfg_integ_name(uint8_t alg);
/* The RFC that defines an integrity algorithm for IPsec, for key length messages. */
const char *cfg_integ_rfc(uint8_t alg);
/* A policy's main_mode.methods (cfg_main_mode.c), for mm->ike_version,
 * which must be set: 0 absent or read, -1 error. */
struct cfg_main_mode;
int cfg_load_mm_methods(struct cfg_ctx *c, const config_setting_t *g, struct cfg_main_mode *mm);
/* "dscp": "copy" (*fixed false) or 0..63; 0 absent, 1 read, -1 error (cfg_sa.c). */
int cfg_dscp(struct cfg_ctx *c, const config_setting_t *g, bool *fixed, uint8_t *dscp);
int cfg_name(struct cfg_ctx *c, const config_setting_t *g, const char *name, bool req,
	     char out[DPSEC_NAME_MAX]);
/* Record idx of base (records of stride bytes, each beginning with its
 * name) was loaded from g, element idx - first of its list: its name must
 * not be one x holds already; x then holds it too. */
int cfg_unique(struct cfg_ctx *c, const config_setting_t *g, struct cfg_names *x,
	       const void *base, size_t stride, uint32_t idx, uint32_t first, const char *kind);
/* Member name of g names one of the n records of base, which x holds:
 * *idx is its number. */
int cfg_ref(struct cfg_ctx *c, const config_setting_t *g, const char *name, bool req,
	    const struct cfg_names *x, const void *base, size_t stride, uint32_t n,
	    const char *kind, uint32_t *idx);
int cfg_addr(struct cfg_ctx *c, const config_setting_t *g, const char *name, bool req,
	     struct dpsec_addr *out);
int cfg_net_prefix(struct cfg_ctx *c, const config_setting_t *g, const char *name, bool req,
		   struct dpsec_prefix *out);
int cfg_find_name(const void *base, size_t stride, uint32_t n, const char *name);
const char *cfg_type_name(const config_setting_t *s);
const char *cfg_file_name(const struct cfg_ctx *c, const char *file, char *buf, size_t size);

/* String helpers (cfg_parse.c). */
enum cfg_hex_status { CFG_HEX_OK, CFG_HEX_BAD_CHAR, CFG_HEX_ODD };
enum cfg_hex_status cfg_hex_scan(const char *s, size_t *nbytes, size_t *bad_pos);
int cfg_prefix_parse(const char *s, struct dpsec_prefix *out, const char **why);
void cfg_prefix_mask(const struct dpsec_prefix *in, struct dpsec_prefix *out);
bool cfg_addr_equal(const struct dpsec_addr *a, const struct dpsec_addr *b);
bool cfg_prefix_equal(const struct dpsec_prefix *a, const struct dpsec_prefix *b);
const char *cfg_fmt_addr(const struct dpsec_addr *a, char buf[CFG_ADDR_STRLEN]);
const char *cfg_fmt_prefix(const struct dpsec_prefix *p, char buf[CFG_ADDR_STRLEN]);
const char *cfg_family_name(uint8_t family);

/* Sections, in the order cfg_load() runs them. Each returns 0 or -1. */
int cfg_load_dataplane(struct cfg_ctx *c, const config_setting_t *root);
int cfg_load_ports(struct cfg_ctx *c, const config_setting_t *root);
int cfg_load_exception(struct cfg_ctx *c, const config_setting_t *root);
int cfg_load_routes(struct cfg_ctx *c, const config_setting_t *root);
int cfg_load_neighbours(struct cfg_ctx *c, const config_setting_t *root);
int cfg_load_sas(struct cfg_ctx *c, const config_setting_t *root);
int cfg_load_policy(struct cfg_ctx *c, const config_setting_t *root);
int cfg_load_rules(struct cfg_ctx *c, const config_setting_t *policy);
struct cfg_store_rule;
/* cfg_peer_auth.c: the policy's negotiate rules r[0..n) (with their store
 * parts sr, from the rules list) that may negotiate with one peer
 * authenticate alike; -1 naming both rules otherwise. */
int cfg_check_peer_auth(struct cfg_ctx *c, const config_setting_t *rules,
			const struct dpsec_rule *r, const struct cfg_store_rule *sr, uint32_t n);
int cfg_load_flists(struct cfg_ctx *c, const config_setting_t *g);
int cfg_load_factions(struct cfg_ctx *c, const config_setting_t *g);
/* What a load kept in c besides its result: the filter lists and actions
 * being parsed, the name indexes. */
void cfg_ctx_free(struct cfg_ctx *c);

/* Reads c->path (or text, when not NULL) with libconfig, runs sections on
 * its root, checks the permissions of every file keys came from, and wipes
 * libconfig's copies of the keys. Returns 0 or -1 with c->err. */
typedef int (*cfg_sections_fn)(struct cfg_ctx *c, const config_setting_t *root);
int cfg_load_text(struct cfg_ctx *c, const char *text, enum cfg_perm_policy perm,
		  cfg_sections_fn sections);
int cfg_file_fail(struct cfg_ctx *c, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
