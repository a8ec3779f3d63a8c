/* cfg_store.c - dpsec-ctld's policy store: several named policies (one
 * assigned), shared filter lists and filter actions (with their security
 * methods and the "accept unsecured" / "fall back to clear" options), rules
 * with authentication methods, exemptions, negotiation timeouts and static
 * SAs. The built-in policies are loaded first from cfg_builtin.c's text
 * through the very same loader, then the file; the dataplane
 * configuration's parsers do the filters, rules and SAs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cfg_priv.h"
#include "cfg_store.h"

static const char *const top_fields[] = {
	"assigned", "exemptions", "timeouts", "filter_lists", "filter_actions", "policies",
	"security_associations", NULL
};
static const char *const exempt_fields[] = { "broadcast", "multicast", "rsvp", "kerberos", NULL };
static const char *const timeout_fields[] = { "fallback_ms", "block_seconds", "idle_seconds", NULL };
static const char *const policy_fields[] = {
	"name", "description", "default_action", "default_response", "main_mode", "rules", NULL
};
static const char *const mm_fields[] = {
	"lifetime_minutes", "max_quick_modes", "ike_version", "legacy_suites", "methods", NULL
};
static const char *const method_fields[] = {
	"name", "protocol", "encryption", "integrity", "lifetime_seconds", "lifetime_kilobytes", NULL
};
static const char *const auth_fields[] = {
	"method", "psk", "roots", "certificates", "crls", "revocation", "rsa_signature", "identity", NULL
};
static const char *const cert_only_fields[] = {
	"roots", "certificates", "crls", "revocation", "rsa_signature", "identity", NULL
};
static const char *const own_cert_fields[] = { "certificate", "private_key", NULL };
static const char *const sa_life_fields[] = { "lifetime_seconds", "lifetime_kilobytes" };

static const struct cfg_kw default_kw[] = {
	{ "permit", DPSEC_ACTION_PERMIT }, { "block", DPSEC_ACTION_BLOCK }, { NULL, 0 }
};
static const struct cfg_kw proto_kw[] = { { "esp", CFG_PROTO_ESP }, { "ah", CFG_PROTO_AH }, { NULL, 0 } };
static const struct cfg_kw auth_kw[] = {
	{ "psk", CFG_AUTH_PSK }, { "certificate", CFG_AUTH_CERT }, { NULL, 0 }
};
static const struct cfg_kw rsa_sig_kw[] = { { "pkcs1", 0 }, { "pss", 1 }, { NULL, 0 } };
static const struct cfg_kw cert_id_kw[] = {
	{ "dn", CFG_CERT_ID_DN }, { "fqdn", CFG_CERT_ID_FQDN }, { "email", CFG_CERT_ID_EMAIL },
	{ "ip", CFG_CERT_ID_IP }, { NULL, 0 }
};

/* A security method without encryption (AH's): its "none". */
enum { ENC_NONE = 0xff };

/* ---- exemptions and timeouts ---------------------------------------- */

static int load_exemptions(struct cfg_ctx *c, const config_setting_t *root, struct cfg_store *st)
{
	const config_setting_t *g;
	int r = cfg_member(c, root, "exemptions", false, CFG_T_GROUP, "a group { ... }", &g);

	if (r <= 0)
		return r;
	if (cfg_group(c, g, exempt_fields) ||
	    cfg_bool(c, g, "broadcast", false, &st->exemptions.broadcast) < 0 ||
	    cfg_bool(c, g, "multicast", false, &st->exemptions.multicast) < 0 ||
	    cfg_bool(c, g, "rsvp", false, &st->exemptions.rsvp) < 0 ||
	    cfg_bool(c, g, "kerberos", false, &st->exemptions.kerberos) < 0)
		return -1;
	return 0;
}

static int load_u32(struct cfg_ctx *c, const config_setting_t *g, const char *name,
		    long long lo, long long hi, uint32_t *out)
{
	long long v = *out;
	int r = cfg_int(c, g, name, false, lo, hi, &v);

	*out = (uint32_t)v;
	return r < 0 ? -1 : 0;
}

static int load_timeouts(struct cfg_ctx *c, const config_setting_t *root, struct cfg_store *st)
{
	const config_setting_t *g;
	int r = cfg_member(c, root, "timeouts", false, CFG_T_GROUP, "a group { ... }", &g);

	if (r <= 0)
		return r;
	if (cfg_group(c, g, timeout_fields) ||
	    load_u32(c, g, "fallback_ms", 100, 600000, &st->timeouts.fallback_ms) ||
	    load_u32(c, g, "block_seconds", 1, 86400, &st->timeouts.block_seconds) ||
	    load_u32(c, g, "idle_seconds", 0, 86400, &st->timeouts.idle_seconds))
		return -1;
	return 0;
}

/* ---- filter actions: options and security methods --------------------- */

static int method_enc(struct cfg_ctx *c, const config_setting_t *g, struct cfg_sec_method *m)
{
	const struct cfg_enc *e = NULL;

	if (cfg_encryption(c, g, false, true, &e) < 0)
		return -1;
	m->enc_alg = e ? e->alg : ENC_NONE;
	m->enc_key_len = e ? e->key_len : 0;
	return 0;
}

/* ESP: a combined mode (AES-GCM, AES-CCM, ChaCha20-Poly1305, AES-GMAC) alone, CBC,
 * 3DES or NULL with an integrity algorithm; AH: integrity only. */
static int method_check(struct cfg_ctx *c, const config_setting_t *g, const struct cfg_sec_method *m)
{
	bool aead = dpsec_enc_is_aead(m->enc_alg), none = m->enc_alg == ENC_NONE;

	if (m->protocol == CFG_PROTO_AH && !none)
		return cfg_fail(c, g, "AH authenticates only: encryption must be \"none\"");
	if (m->protocol == CFG_PROTO_AH && m->integ_alg == DPSEC_INTEG_NONE)
		return cfg_fail(c, g, "AH needs an integrity algorithm");
	if (m->protocol == CFG_PROTO_ESP && none)
		return cfg_fail(c, g, "ESP needs an encryption algorithm (\"null\" for integrity "
				"alone, RFC 2410, or protocol \"ah\")");
	if (m->protocol == CFG_PROTO_ESP && aead && m->integ_alg != DPSEC_INTEG_NONE)
		return cfg_fail(c, g, "AES-GCM, AES-CCM, ChaCha20-Poly1305 and AES-GMAC are "
				"combined-mode: integrity must be \"none\"");
	if (m->protocol == CFG_PROTO_ESP && !aead && m->integ_alg == DPSEC_INTEG_NONE)
		return cfg_fail(c, g, "this encryption needs an integrity algorithm");
	return 0;
}

static int load_method(struct cfg_ctx *c, const config_setting_t *g, struct cfg_sec_method *m)
{
	int proto = CFG_PROTO_ESP, integ = DPSEC_INTEG_NONE;
	long long secs = 3600, kb = 100000;

	if (cfg_group(c, g, method_fields) || cfg_name(c, g, "name", false, m->name) < 0 ||
	    cfg_keyword(c, g, "protocol", true, proto_kw, &proto) < 0 || method_enc(c, g, m) < 0 ||
	    cfg_keyword(c, g, "integrity", false, cfg_integ_kw, &integ) < 0 ||
	    cfg_int(c, g, "lifetime_seconds", false, 60, 172800, &secs) < 0 ||
	    cfg_int(c, g, "lifetime_kilobytes", false, 0, 2147483647, &kb) < 0)
		return -1;
	m->protocol = (uint8_t)proto;
	m->integ_alg = (uint8_t)integ;
	m->lifetime_seconds = (uint32_t)secs;
	m->lifetime_kilobytes = (uint64_t)kb;
	return method_check(c, g, m);
}

/* The methods a negotiate action offers when it names none. */
static void default_methods(struct cfg_filter_action *a)
{
	static const struct cfg_sec_method defs[] = {
		{ "ESP AES-128-GCM", CFG_PROTO_ESP, DPSEC_ENC_AES_GCM_16, 16, DPSEC_INTEG_NONE, 3600, 100000 },
		{ "ESP AES-256-GCM", CFG_PROTO_ESP, DPSEC_ENC_AES_GCM_16, 32, DPSEC_INTEG_NONE, 3600, 100000 },
		{ "ESP AES-128-SHA1", CFG_PROTO_ESP, DPSEC_ENC_AES_CBC, 16, DPSEC_INTEG_HMAC_SHA1_96, 3600,
		  100000 },
	};

	a->n_methods = sizeof(defs) / sizeof(defs[0]);
	memcpy(a->methods, defs, sizeof(defs));
}

/* The model's named security methods: "High" (ESP 3DES with HMAC-SHA1)
 * and "Medium" (AH with HMAC-SHA1, integrity only), with the Quick Mode
 * lifetime defaults. */
static int load_preset(struct cfg_ctx *c, const config_setting_t *s, struct cfg_sec_method *m)
{
	static const struct cfg_sec_method presets[] = {
		{ "High", CFG_PROTO_ESP, DPSEC_ENC_3DES_CBC, 24, DPSEC_INTEG_HMAC_SHA1_96, 3600, 100000 },
		{ "Medium", CFG_PROTO_AH, ENC_NONE, 0, DPSEC_INTEG_HMAC_SHA1_96, 3600, 100000 },
	};
	const char *v = config_setting_get_string(s);

	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
		if (strcmp(v, presets[i].name) == 0) {
			*m = presets[i];
			return 0;
		}
	return cfg_fail(c, s, "no security method is named \"%.40s\"; expected \"High\" (ESP 3DES "
			"SHA1), \"Medium\" (AH SHA1) or a method { protocol = ...; }", v);
}

static int load_methods(struct cfg_ctx *c, const config_setting_t *g, struct cfg_filter_action *a)
{
	const config_setting_t *l;
	int r = cfg_list(c, g, "methods", false, 1, CFG_MAX_METHODS, &l);

	if (r < 0)
		return -1;
	if (r == 1 && a->action != DPSEC_ACTION_NEGOTIATE)
		return cfg_fail(c, l, "only negotiate actions have security methods");
	if (r == 0) {
		if (a->action == DPSEC_ACTION_NEGOTIATE)
			default_methods(a);
		return 0;
	}
	a->n_methods = (uint32_t)config_setting_length(l);
	for (uint32_t i = 0; i < a->n_methods; i++) {
		const config_setting_t *e = config_setting_get_elem(l, i);

		if ((config_setting_type(e) == CONFIG_TYPE_STRING ? load_preset(c, e, &a->methods[i])
								 : load_method(c, e, &a->methods[i])) < 0)
			return -1;
	}
	return 0;
}

static int load_action_options(struct cfg_ctx *c, const config_setting_t *g,
			       struct cfg_filter_action *a)
{
	const char *d = "";
	int df = DPSEC_DF_COPY;

	if (cfg_str(c, g, "description", false, CFG_DESC_MAX - 1, &d) < 0 ||
	    cfg_bool(c, g, "accept_unsecured", false, &a->accept_unsecured) < 0 ||
	    cfg_bool(c, g, "fallback_to_clear", false, &a->fallback_to_clear) < 0 ||
	    cfg_bool(c, g, "pfs", false, &a->pfs) < 0 ||
	    cfg_keyword(c, g, "df_bit", false, cfg_df_kw, &df) < 0 ||
	    cfg_dscp(c, g, &a->dscp_fixed, &a->dscp) < 0)
		return -1;
	snprintf(a->description, sizeof(a->description), "%s", d);
	a->df_bit = (uint8_t)df;
	if (a->action != DPSEC_ACTION_NEGOTIATE && (a->accept_unsecured || a->fallback_to_clear ||
						    a->pfs || a->df_bit != DPSEC_DF_COPY || a->dscp_fixed))
		return cfg_fail(c, g, "accept_unsecured, fallback_to_clear, pfs, df_bit and dscp "
				"belong to negotiate actions; \"%s\" is %s", a->name,
				cfg_action_name(a->action));
	return load_methods(c, g, a);
}

/* The store's copy of the actions loaded by cfg_load_factions() from list. */
static int take_actions(struct cfg_ctx *c, const config_setting_t *root, struct cfg_store *st)
{
	const config_setting_t *l = config_setting_get_member(root, "filter_actions");
	uint32_t base = st->n_filter_actions, n = c->n_factions - base;
	struct cfg_filter_action *a = realloc(st->filter_actions, (base + n + 1) * sizeof(*a));

	if (a == NULL)
		return cfg_fail(c, root, "out of memory");
	st->filter_actions = a;
	memset(&a[base], 0, (n + 1) * sizeof(*a));
	for (uint32_t i = 0; i < n; i++) {
		strcpy(a[base + i].name, c->factions[base + i].name);
		a[base + i].builtin = c->path[0] == '\0';
		a[base + i].action = c->factions[base + i].action;
		st->n_filter_actions++;
		if (load_action_options(c, config_setting_get_elem(l, i), &a[base + i]) < 0)
			return -1;
	}
	return 0;
}

/* The store's copy of the filter lists (their filters move over). */
static int take_lists(struct cfg_ctx *c, const config_setting_t *root, struct cfg_store *st)
{
	const config_setting_t *l = config_setting_get_member(root, "filter_lists");
	uint32_t base = st->n_filter_lists, n = c->n_lists - base;
	struct cfg_filter_list *fl = realloc(st->filter_lists, (base + n + 1) * sizeof(*fl));

	if (fl == NULL)
		return cfg_fail(c, root, "out of memory");
	st->filter_lists = fl;
	memset(&fl[base], 0, (n + 1) * sizeof(*fl));
	for (uint32_t i = 0; i < n; i++) {
		const char *d = "";
		struct cfg_flist *src = &c->lists[base + i];

		strcpy(fl[base + i].name, src->name);
		fl[base + i].builtin = c->path[0] == '\0';
		fl[base + i].n_filters = src->n;
		fl[base + i].filters = malloc((src->n + 1) * sizeof(*src->f));
		if (fl[base + i].filters == NULL)
			return cfg_fail(c, root, "out of memory");
		memcpy(fl[base + i].filters, src->f, src->n * sizeof(*src->f));
		st->n_filter_lists++;
		if (cfg_str(c, config_setting_get_elem(l, i), "description", false, CFG_DESC_MAX - 1, &d) < 0)
			return -1;
		snprintf(fl[base + i].description, CFG_DESC_MAX, "%s", d);
	}
	return 0;
}

/* Names the file defines must not be those of built-ins. */
static int no_builtin_names(struct cfg_ctx *c, const config_setting_t *root, const char *list,
			    const void *base, size_t stride, uint32_t n, const char *kind)
{
	const config_setting_t *l = config_setting_get_member(root, list);

	for (int i = 0; l && i < config_setting_length(l); i++) {
		const config_setting_t *name = config_setting_get_member(config_setting_get_elem(l, (unsigned)i), "name");
		const char *v = name && config_setting_type(name) == CONFIG_TYPE_STRING ?
					config_setting_get_string(name) : NULL;

		if (v && cfg_find_name(base, stride, n, v) >= 0)
			return cfg_fail(c, name, "\"%s\" is the name of a built-in %s; choose another",
					v, kind);
	}
	return 0;
}

/* ---- policies and rules --------------------------------------------- */

/* A list of file names (1..max) into out[]. */
static int load_paths(struct cfg_ctx *c, const config_setting_t *g, const char *name, bool req,
		      uint32_t max, const char *what, char out[][CFG_PATH_MAX], uint32_t *n)
{
	const config_setting_t *l;
	int r = cfg_list(c, g, name, req, 1, max, &l);

	*n = 0;
	if (r <= 0)
		return r;
	for (uint32_t i = 0; i < (uint32_t)config_setting_length(l); i++) {
		const config_setting_t *e = config_setting_get_elem(l, i);
		const char *v = config_setting_type(e) == CONFIG_TYPE_STRING ? config_setting_get_string(e) : "";

		if (v[0] == '\0' || strlen(v) >= CFG_PATH_MAX)
			return cfg_fail(c, e, "expected the path of %s", what);
		strcpy(out[(*n)++], v);
	}
	return 1;
}

/* certificates = ( { certificate = "gw.pem"; private_key = "gw.key"; }, ... ) */
static int load_own_certs(struct cfg_ctx *c, const config_setting_t *g, struct cfg_auth_method *a)
{
	const config_setting_t *l;
	const char *v;
	int r = cfg_list(c, g, "certificates", false, 1, CFG_MAX_CERTS, &l);

	for (uint32_t i = 0; r > 0 && i < (uint32_t)config_setting_length(l); i++) {
		const config_setting_t *e = config_setting_get_elem(l, i);

		if (cfg_group(c, e, own_cert_fields) ||
		    cfg_str(c, e, "certificate", true, CFG_PATH_MAX - 1, &v) < 0)
			return -1;
		strcpy(a->certs[i], v);
		if (cfg_str(c, e, "private_key", true, CFG_PATH_MAX - 1, &v) < 0)
			return -1;
		strcpy(a->keys[i], v);
		a->n_certs = i + 1;
	}
	return r < 0 ? -1 : 0;
}

static int load_cert_auth(struct cfg_ctx *c, const config_setting_t *g, struct cfg_auth_method *a)
{
	long long level = 0;
	int pss = 0, id = CFG_CERT_ID_DN;

	if (config_setting_get_member(g, "psk"))
		return cfg_fail(c, config_setting_get_member(g, "psk"), "psk belongs to psk methods");
	if (load_paths(c, g, "roots", true, CFG_MAX_ROOTS, "a trusted root CA file (PEM)", a->roots,
		       &a->n_roots) < 0 ||
	    load_own_certs(c, g, a) < 0 ||
	    load_paths(c, g, "crls", false, CFG_MAX_CRLS, "a CRL file (PEM or DER)", a->crls, &a->n_crls) < 0 ||
	    cfg_int(c, g, "revocation", false, 0, 2, &level) < 0 ||
	    cfg_keyword(c, g, "rsa_signature", false, rsa_sig_kw, &pss) < 0 ||
	    cfg_keyword(c, g, "identity", false, cert_id_kw, &id) < 0)
		return -1;
	a->revocation = (uint8_t)level;
	a->rsa_pss = pss != 0;
	a->identity = (uint8_t)id;
	if (a->n_crls && level == 0)
		return cfg_fail(c, config_setting_get_member(g, "crls"),
				"CRLs are read only with revocation = 1 or 2");
	if (level == 2 && a->n_crls == 0)
		return cfg_fail_in(c, g, "revocation", "level 2 with no crls fails every certificate");
	return 0;
}

static int load_auth(struct cfg_ctx *c, const config_setting_t *g, struct cfg_auth_method *a)
{
	int kind;
	const char *psk;

	if (cfg_group(c, g, auth_fields) || cfg_keyword(c, g, "method", true, auth_kw, &kind) < 0)
		return -1;
	a->kind = (uint8_t)kind;
	if (kind == CFG_AUTH_CERT)
		return load_cert_auth(c, g, a);
	for (const char *const *f = cert_only_fields; *f; f++)
		if (config_setting_get_member(g, *f))
			return cfg_fail(c, config_setting_get_member(g, *f),
					"%s belongs to certificate methods", *f);
	if (cfg_str(c, g, "psk", true, CFG_PSK_MAX, &psk) < 0)
		return -1;
	if (strlen(psk) < 8)
		return cfg_fail(c, config_setting_get_member(g, "psk"),
				"a pre-shared key of %zu characters is too short; use 8 or more "
				"(better 20 random ones)", strlen(psk));
	a->psk_len = (uint32_t)strlen(psk);
	memcpy(a->psk, psk, a->psk_len);
	return 0;
}

static int store_sa_name(struct cfg_ctx *c, int32_t idx, char out[DPSEC_NAME_MAX])
{
	if (idx >= 0)
		strcpy(out, c->cfg->sas[idx].name);
	return 0;
}

static int load_rule_extras(struct cfg_ctx *c, const config_setting_t *g, const struct dpsec_rule *r,
			    struct cfg_store_rule *sr)
{
	const config_setting_t *l;
	const char *d = "";
	int k;

	strcpy(sr->name, r->name);
	strcpy(sr->filter_list, r->filter_list);
	strcpy(sr->filter_action, r->filter_action);
	sr->priority = r->priority;
	sr->tunnel = r->tunnel;
	sr->tunnel_endpoint = r->tunnel_endpoint;
	sr->enabled = true;
	store_sa_name(c, r->sa_out, sr->outbound_sa);
	store_sa_name(c, r->sa_in, sr->inbound_sa);
	if (cfg_str(c, g, "description", false, CFG_DESC_MAX - 1, &d) < 0 ||
	    cfg_bool(c, g, "enabled", false, &sr->enabled) < 0 ||
	    (k = cfg_list(c, g, "authentication", false, 1, CFG_MAX_AUTH, &l)) < 0)
		return -1;
	snprintf(sr->description, sizeof(sr->description), "%s", d);
	if (k == 1 && r->action != DPSEC_ACTION_NEGOTIATE)
		return cfg_fail(c, l, "only negotiate rules authenticate peers");
	if (k == 1) {
		sr->auth = calloc((size_t)config_setting_length(l), sizeof(*sr->auth));
		if (sr->auth == NULL)
			return cfg_fail(c, l, "out of memory");
		sr->n_auth = (uint32_t)config_setting_length(l);
	}
	for (uint32_t i = 0; i < sr->n_auth; i++)
		if (load_auth(c, config_setting_get_elem(l, i), &sr->auth[i]) < 0)
			return -1;
	return 0;
}

static void free_scratch_rules(struct cfg_ctx *c)
{
	for (uint32_t i = 0; c->cfg->rules && i < c->cfg->n_rules; i++)
		free(c->cfg->rules[i].filters);
	free(c->cfg->rules);
	c->cfg->rules = NULL;
	c->cfg->n_rules = 0;
}

static int load_main_mode(struct cfg_ctx *c, const config_setting_t *pg, struct cfg_main_mode *mm)
{
	const config_setting_t *g;
	int r = cfg_member(c, pg, "main_mode", false, CFG_T_GROUP, "a group { ... }", &g);

	uint32_t version = 2;

	mm->lifetime_minutes = 480;
	mm->ike_version = 2;
	if (r <= 0)
		return r;
	if (cfg_group(c, g, mm_fields) ||
	    load_u32(c, g, "lifetime_minutes", 5, 2880, &mm->lifetime_minutes) ||
	    load_u32(c, g, "max_quick_modes", 0, 1000000, &mm->max_quick_modes) ||
	    load_u32(c, g, "ike_version", 1, 2, &version) ||
	    cfg_bool(c, g, "legacy_suites", false, &mm->legacy_suites) < 0)
		return -1;
	mm->ike_version = (uint8_t)version;
	if (mm->legacy_suites && version != 1)
		return cfg_fail(c, config_setting_get_member(g, "legacy_suites"),
				"legacy suites are IKEv1's: set ike_version = 1 or remove it");
	return cfg_load_mm_methods(c, g, mm);
}

static int load_policy(struct cfg_ctx *c, const config_setting_t *pg, struct cfg_policy *p)
{
	const config_setting_t *rules;
	const char *d = "";
	int a = DPSEC_ACTION_PERMIT, rc;

	if (cfg_group(c, pg, policy_fields) || cfg_name(c, pg, "name", true, p->name) < 0 ||
	    cfg_str(c, pg, "description", false, CFG_DESC_MAX - 1, &d) < 0 ||
	    cfg_keyword(c, pg, "default_action", false, default_kw, &a) < 0 ||
	    cfg_bool(c, pg, "default_response", false, &p->default_response) < 0 ||
	    load_main_mode(c, pg, &p->main_mode) < 0)
		return -1;
	snprintf(p->description, sizeof(p->description), "%s", d);
	p->default_action = (uint8_t)a;
	rc = cfg_load_rules(c, pg);
	if (rc == 0 && c->cfg->n_rules > 0) {
		rules = config_setting_get_member(pg, "rules");
		p->rules = calloc(c->cfg->n_rules, sizeof(*p->rules));
		if (p->rules == NULL)
			rc = cfg_fail(c, pg, "out of memory");
		for (uint32_t i = 0; rc == 0 && i < c->cfg->n_rules; i++) {
			p->n_rules++;
			rc = load_rule_extras(c, config_setting_get_elem(rules, i), &c->cfg->rules[i],
					      &p->rules[i]);
		}
		if (rc == 0)
			rc = cfg_check_peer_auth(c, rules, c->cfg->rules, p->rules, p->n_rules);
	}
	free_scratch_rules(c);
	return rc;
}

static int load_policies(struct cfg_ctx *c, const config_setting_t *root, struct cfg_store *st)
{
	const config_setting_t *l;
	uint32_t base = st->n_policies, n;
	struct cfg_policy *p;
	int r = cfg_list(c, root, "policies", false, 0, CFG_MAX_LIST, &l);

	if (r <= 0)
		return r;
	if (no_builtin_names(c, root, "policies", st->policies, sizeof(*st->policies), base, "policy"))
		return -1;
	n = (uint32_t)config_setting_length(l);
	p = realloc(st->policies, (base + n + 1) * sizeof(*p));
	if (p == NULL)
		return cfg_fail(c, l, "out of memory");
	st->policies = p;
	memset(&p[base], 0, (n + 1) * sizeof(*p));
	for (uint32_t i = 0; i < n; i++) {
		const config_setting_t *pg = config_setting_get_elem(l, i);

		st->n_policies++;
		p[base + i].builtin = c->path[0] == '\0';
		if (load_policy(c, pg, &p[base + i]) < 0 ||
		    cfg_unique(c, pg, &c->policy_names, p, sizeof(*p), base + i, base, "policy"))
			return -1;
	}
	return 0;
}

/* ---- static SAs ------------------------------------------------------ */

static int take_sas(struct cfg_ctx *c, const config_setting_t *root, struct cfg_store *st)
{
	const config_setting_t *l = config_setting_get_member(root, "security_associations");

	if (st->sas != NULL)
		explicit_bzero(st->sas, st->n_sas * sizeof(*st->sas));
	free(st->sas);
	st->n_sas = c->cfg->n_sas;
	st->sas = calloc(st->n_sas + 1, sizeof(*st->sas));
	if (st->sas == NULL)
		return cfg_fail(c, root, "out of memory");
	for (uint32_t i = 0; i < st->n_sas; i++) {
		const config_setting_t *g = config_setting_get_elem(l, i);
		long long secs = 0, kb = 0;

		st->sas[i].conf = c->cfg->sas[i];
		if (cfg_int(c, g, sa_life_fields[0], false, 0, 2147483647, &secs) < 0 ||
		    cfg_int(c, g, sa_life_fields[1], false, 0, 2147483647, &kb) < 0)
			return -1;
		st->sas[i].lifetime_seconds = (uint32_t)secs;
		st->sas[i].lifetime_kilobytes = (uint64_t)kb;
	}
	return 0;
}

/* ---- the file as a whole --------------------------------------------- */

static int load_assigned(struct cfg_ctx *c, const config_setting_t *root, struct cfg_store *st)
{
	const config_setting_t *s;
	const char *v;
	int r = cfg_str(c, root, "assigned", false, DPSEC_NAME_MAX - 1, &v);

	if (r <= 0)
		return r;
	s = config_setting_get_member(root, "assigned");
	if (*v && cfg_store_policy(st, v) == NULL)
		return cfg_fail(c, s, "no policy named \"%s\"", v);
	strcpy(st->assigned, v);
	return 0;
}

static int store_sections(struct cfg_ctx *c, const config_setting_t *root)
{
	struct cfg_store *st = c->store_out;

	if (cfg_group(c, root, top_fields) || cfg_load_sas(c, root) ||
	    no_builtin_names(c, root, "filter_lists", c->lists, sizeof(*c->lists), c->n_lists,
			     "filter list") ||
	    no_builtin_names(c, root, "filter_actions", c->factions, sizeof(*c->factions),
			     c->n_factions, "filter action") ||
	    cfg_load_flists(c, root) || take_lists(c, root, st) || cfg_load_factions(c, root) ||
	    take_actions(c, root, st) || load_exemptions(c, root, st) || load_timeouts(c, root, st) ||
	    load_policies(c, root, st) || take_sas(c, root, st) || load_assigned(c, root, st))
		return -1;
	return 0;
}

/* PSKs are keys: a store holding one must not be readable by others. */
static int check_psk_mode(struct cfg_ctx *c, const struct cfg_store *st, enum cfg_perm_policy perm)
{
	struct stat sb;
	bool psk = false;

	for (uint32_t p = 0; p < st->n_policies; p++)
		for (uint32_t r = 0; r < st->policies[p].n_rules; r++)
			for (uint32_t a = 0; a < st->policies[p].rules[r].n_auth; a++)
				psk |= st->policies[p].rules[r].auth[a].kind == CFG_AUTH_PSK;
	if (!psk || c->path[0] == '\0' || stat(c->path, &sb) != 0 || !(sb.st_mode & 077))
		return 0;
	if (perm == CFG_PERM_WARN) {
		fprintf(stderr, "dpsec: warning: %s: holds pre-shared keys but is readable by group or "
			"others (mode %04o)\n", c->path, (unsigned)(sb.st_mode & 07777));
		return 0;
	}
	return cfg_file_fail(c, c->path, "holds pre-shared keys but is readable by group or others "
			     "(mode %04o); chmod 600 %s or start with --allow-insecure-keys",
			     (unsigned)(sb.st_mode & 07777), c->path);
}

static void store_defaults(struct cfg_store *st)
{
	st->timeouts.fallback_ms = 3000;
	st->timeouts.block_seconds = 60;
	st->timeouts.idle_seconds = 300;
}

static int load_store(const char *path, const char *text, const char *name,
		      enum cfg_perm_policy perm, struct cfg_store *out, char err[CFG_ERR_MAX])
{
	struct cfg_dataplane scratch;
	struct cfg_ctx c = { .store = true, .path = "", .err = err, .cfg = &scratch, .store_out = out };
	/* errors in the built-ins (a bug) name them; c.path "" marks them built-in */
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&scratch, 0, sizeof(scratch));
	err[0] = '\0';
	store_defaults(out);
	rc = cfg_load_text(&c, cfg_builtin_text, CFG_PERM_WARN, store_sections); /* built-ins */
	if (rc != 0) {
		cfg_free(&scratch);
		cfg_ctx_free(&c);
		return -1;
	}
	cfg_free(&scratch);
	memset(&scratch, 0, sizeof(scratch));
	out->assigned[0] = '\0';
	c.path = path;
	snprintf(out->path, sizeof(out->path), "%s", path);
	rc = cfg_load_text(&c, text, perm, store_sections);
	if (rc == 0)
		rc = check_psk_mode(&c, out, perm);
	if (rc == 0 && cfg_store_index(out) < 0)
		rc = cfg_file_fail(&c, path, "out of memory for the index of its names");
	(void)name;
	cfg_free(&scratch);
	cfg_ctx_free(&c);
	if (rc != 0)
		cfg_store_free(out);
	return rc;
}

int cfg_store_load(const char *path, enum cfg_perm_policy perm, struct cfg_store *out,
		   char err[CFG_ERR_MAX])
{
	if (path == NULL || *path == '\0' || strlen(path) >= CFG_PATH_MAX) {
		memset(out, 0, sizeof(*out));
		snprintf(err, CFG_ERR_MAX, "(store): no path, or longer than %d", CFG_PATH_MAX - 1);
		return -1;
	}
	return load_store(path, NULL, path, perm, out, err);
}

int cfg_store_load_string(const char *text, const char *name, struct cfg_store *out,
			  char err[CFG_ERR_MAX])
{
	return load_store(name, text, name, CFG_PERM_WARN, out, err);
}

void cfg_store_rule_free(struct cfg_store_rule *r)
{
	if (r->auth != NULL)
		explicit_bzero(r->auth, r->n_auth * sizeof(*r->auth)); /* pre-shared keys */
	free(r->auth);
	r->auth = NULL;
	r->n_auth = 0;
}

static void free_index(struct cfg_store *s)
{
	cfg_names_free(&s->policy_names);
	cfg_names_free(&s->list_names);
	cfg_names_free(&s->action_names);
	cfg_names_free(&s->sa_names);
}

void cfg_store_free(struct cfg_store *s)
{
	free_index(s);
	for (uint32_t i = 0; s->filter_lists && i < s->n_filter_lists; i++)
		free(s->filter_lists[i].filters);
	for (uint32_t i = 0; s->policies && i < s->n_policies; i++) {
		for (uint32_t r = 0; r < s->policies[i].n_rules; r++)
			cfg_store_rule_free(&s->policies[i].rules[r]);
		free(s->policies[i].rules);
	}
	if (s->sas != NULL)
		explicit_bzero(s->sas, s->n_sas * sizeof(*s->sas));
	free(s->filter_lists);
	free(s->filter_actions);
	free(s->policies);
	free(s->sas);
	explicit_bzero(s, sizeof(*s));
}

int cfg_store_index(struct cfg_store *s)
{
	if (cfg_names_build(&s->policy_names, s->policies, sizeof(*s->policies), s->n_policies) < 0 ||
	    cfg_names_build(&s->list_names, s->filter_lists, sizeof(*s->filter_lists),
			    s->n_filter_lists) < 0 ||
	    cfg_names_build(&s->action_names, s->filter_actions, sizeof(*s->filter_actions),
			    s->n_filter_actions) < 0 ||
	    cfg_names_build(&s->sa_names, s->sas, sizeof(*s->sas), s->n_sas) < 0) { /* conf.name first */
		free_index(s);
		return -1;
	}
	return 0;
}

const struct cfg_policy *cfg_store_policy(const struct cfg_store *s, const char *name)
{
	int i = cfg_names_find(&s->policy_names, s->policies, sizeof(*s->policies), s->n_policies,
			       name);

	return i < 0 ? NULL : &s->policies[i];
}

const struct cfg_filter_list *cfg_store_filter_list(const struct cfg_store *s, const char *name)
{
	int i = cfg_names_find(&s->list_names, s->filter_lists, sizeof(*s->filter_lists),
			       s->n_filter_lists, name);

	return i < 0 ? NULL : &s->filter_lists[i];
}

const struct cfg_filter_action *cfg_store_filter_action(const struct cfg_store *s,
							const char *name)
{
	int i = cfg_names_find(&s->action_names, s->filter_actions, sizeof(*s->filter_actions),
			       s->n_filter_actions, name);

	return i < 0 ? NULL : &s->filter_actions[i];
}

const struct cfg_static_sa *cfg_store_sa(const struct cfg_store *s, const char *name)
{
	int i = cfg_names_find(&s->sa_names, s->sas, sizeof(*s->sas), s->n_sas, name);

	return i < 0 ? NULL : &s->sas[i];
}
