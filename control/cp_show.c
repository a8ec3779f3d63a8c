/* cp_show.c - what dpsecctl's show commands print, as aligned text or JSON:
 * policies, rules, filter lists, filter actions, Main Mode and Quick Mode
 * SAs, the dataplane's neighbours, and the two statistics tables of the Windows IPsec monitor (every
 * row). Pre-shared keys are never shown: "psk (set)". */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cp.h"
#include "cp_ike.h"
#include "cp_out.h"
#include "cp_show.h"
#include "ikev1.h"
#include "ikev2_msg.h"

static const char *addr_str(const struct dpsec_addr *a, char *buf, size_t len)
{
	if (a->family != DPSEC_AF_INET && a->family != DPSEC_AF_INET6)
		return "-";
	return inet_ntop(a->family == DPSEC_AF_INET6 ? AF_INET6 : AF_INET, a->a, buf, (socklen_t)len);
}

static const char *prefix_str(const struct dpsec_prefix *p, char *buf, size_t len)
{
	char a[64];

	snprintf(buf, len, "%s/%u", addr_str(&p->addr, a, sizeof(a)), p->len);
	return buf;
}

static const char *action_name(uint8_t a)
{
	return a == DPSEC_ACTION_PERMIT ? "permit" : a == DPSEC_ACTION_BLOCK ? "block" : "negotiate";
}

static const char *enc_name(uint8_t alg, uint8_t key_len)
{
	if (alg == DPSEC_ENC_AES_GCM_16)
		return key_len == 32 ? "AES-256-GCM" : key_len == 24 ? "AES-192-GCM" : "AES-128-GCM";
	if (alg == DPSEC_ENC_AES_CBC)
		return key_len == 32 ? "AES-256-CBC" : key_len == 24 ? "AES-192-CBC" : "AES-128-CBC";
	if (alg == DPSEC_ENC_AES_CCM_8)
		return key_len == 32 ? "AES-256-CCM-8" : "AES-128-CCM-8";
	if (alg == DPSEC_ENC_AES_CCM_12)
		return key_len == 32 ? "AES-256-CCM-12" : "AES-128-CCM-12";
	if (alg == DPSEC_ENC_AES_CCM_16)
		return key_len == 32 ? "AES-256-CCM-16" : "AES-128-CCM-16";
	if (alg == DPSEC_ENC_CHACHA20_POLY1305)
		return "ChaCha20-Poly1305";
	if (alg == DPSEC_ENC_NULL)
		return "NULL";
	if (alg == DPSEC_ENC_NULL_AUTH_AES_GMAC)
		return key_len == 32 ? "AES-256-GMAC" : key_len == 24 ? "AES-192-GMAC" : "AES-128-GMAC";
	return key_len == 24 ? "3DES" : "none";
}

static const char *integ_name(uint8_t alg)
{
	switch (alg) {
	case DPSEC_INTEG_HMAC_SHA1_96: return "HMAC-SHA1-96";
	case DPSEC_INTEG_HMAC_SHA256_128: return "HMAC-SHA-256-128";
	case DPSEC_INTEG_HMAC_SHA384_192: return "HMAC-SHA-384-192";
	case DPSEC_INTEG_HMAC_SHA512_256: return "HMAC-SHA-512-256";
	case DPSEC_INTEG_AES_XCBC_96: return "AES-XCBC-MAC-96";
	case DPSEC_INTEG_AES_CMAC_96: return "AES-CMAC-96";
	default: return "none";
	}
}

/* ---- policies, rules, filters, filter actions ------------------------- */

/* A policy's own Main Mode methods: a line under the policy's, or a JSON
 * list (empty when it takes dpsec-ctld's suites). */
static void show_mm_methods(struct cp_out *o, const struct cfg_main_mode *mm)
{
	if (o->json)
		cp_json_open(o, "main_mode_methods", '[');
	else if (mm->n_methods)
		cp_out_printf(o, "  Main Mode methods:");
	for (uint8_t i = 0; i < mm->n_methods; i++) {
		const struct cfg_mm_method *m = &mm->methods[i];

		if (!o->json) {
			cp_out_printf(o, "%s %s%s%s/%s/%s", i ? "," : "", cfg_mm_encryption_name(m),
				      m->integ ? "-" : "", m->integ ? cfg_mm_integrity_name(m) : "",
				      cfg_mm_prf_name(m), cfg_mm_dh_name(m));
			continue;
		}
		cp_json_open(o, NULL, '{');
		cp_json_str(o, "encryption", cfg_mm_encryption_name(m));
		cp_json_str(o, "integrity", cfg_mm_integrity_name(m));
		cp_json_str(o, "prf", cfg_mm_prf_name(m));
		cp_json_str(o, "dh_group", cfg_mm_dh_name(m));
		cp_json_close(o, '}');
	}
	if (o->json)
		cp_json_close(o, ']');
	else if (mm->n_methods)
		cp_out_printf(o, "\n");
}

void cp_show_policies(const struct cp_ctx *c, struct cp_out *o, const char *name)
{
	if (o->json)
		cp_json_open(o, NULL, '{'), cp_json_open(o, "policies", '[');
	else
		cp_out_printf(o, "%-36s %-8s %-8s %5s %-8s %s\n", "Policy", "assigned", "built-in",
			      "rules", "MM life", "description");
	for (uint32_t i = 0; i < c->store.n_policies; i++) {
		const struct cfg_policy *p = &c->store.policies[i];
		bool assigned = strcmp(p->name, c->store.assigned) == 0;

		if (name && strcmp(name, p->name) != 0)
			continue;
		if (!o->json) {
			cp_out_printf(o, "%-36s %-8s %-8s %5u %5u min %s\n", p->name, assigned ? "yes" : "no",
				      p->builtin ? "yes" : "no", p->n_rules, p->main_mode.lifetime_minutes,
				      p->description);
			show_mm_methods(o, &p->main_mode);
			continue;
		}
		cp_json_open(o, NULL, '{');
		cp_json_str(o, "name", p->name);
		cp_json_str(o, "description", p->description);
		cp_json_bool(o, "assigned", assigned);
		cp_json_bool(o, "builtin", p->builtin);
		cp_json_bool(o, "default_response", p->default_response);
		cp_json_str(o, "default_action", action_name(p->default_action));
		cp_json_u64(o, "main_mode_lifetime_minutes", p->main_mode.lifetime_minutes);
		cp_json_u64(o, "ike_version", p->main_mode.ike_version);
		cp_json_bool(o, "legacy_suites", p->main_mode.legacy_suites);
		show_mm_methods(o, &p->main_mode);
		cp_json_u64(o, "rules", p->n_rules);
		cp_json_close(o, '}');
	}
	if (o->json)
		cp_json_close(o, ']'), cp_json_close(o, '}');
}

static void auth_text(const struct cfg_store_rule *r, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < r->n_auth && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "",
				      r->auth[i].kind == CFG_AUTH_PSK ? "psk (set)" : "certificate");
	if (r->n_auth == 0)
		snprintf(buf, len, "-");
}

static void show_rule(const struct cp_ctx *c, struct cp_out *o, const struct cfg_store_rule *r)
{
	const struct cfg_filter_action *fa = cfg_store_filter_action(&c->store, r->filter_action);
	char ep[64], auth[128];

	auth_text(r, auth, sizeof(auth));
	if (!o->json) {
		cp_out_printf(o, "  %-24s %-22s %-28s %5u %-15s %-7s %s\n", r->name, r->filter_list,
			      r->filter_action, r->priority,
			      r->tunnel ? addr_str(&r->tunnel_endpoint, ep, sizeof(ep)) : "-",
			      r->enabled ? "yes" : "no", auth);
		return;
	}
	cp_json_open(o, NULL, '{');
	cp_json_str(o, "name", r->name);
	cp_json_str(o, "filter_list", r->filter_list);
	cp_json_str(o, "filter_action", r->filter_action);
	cp_json_str(o, "action", fa ? action_name(fa->action) : "?");
	cp_json_u64(o, "priority", r->priority);
	cp_json_bool(o, "enabled", r->enabled);
	cp_json_str(o, "tunnel_endpoint", r->tunnel ? addr_str(&r->tunnel_endpoint, ep, sizeof(ep)) : "");
	cp_json_str(o, "authentication", auth);
	cp_json_str(o, "outbound_sa", r->outbound_sa);
	cp_json_str(o, "inbound_sa", r->inbound_sa);
	cp_json_close(o, '}');
}

void cp_show_rules(const struct cp_ctx *c, struct cp_out *o, const char *policy)
{
	if (o->json)
		cp_json_open(o, NULL, '{'), cp_json_open(o, "policies", '[');
	for (uint32_t i = 0; i < c->store.n_policies; i++) {
		const struct cfg_policy *p = &c->store.policies[i];

		if (policy ? strcmp(policy, p->name) != 0 : strcmp(c->store.assigned, p->name) != 0)
			continue;
		if (o->json) {
			cp_json_open(o, NULL, '{');
			cp_json_str(o, "policy", p->name);
			cp_json_u64(o, "ike_version", p->main_mode.ike_version);
			cp_json_open(o, "rules", '[');
		} else {
			cp_out_printf(o, "Policy %s%s, negotiating with IKEv%u%s\n"
				      "  %-24s %-22s %-28s %5s %-15s %-7s %s\n", p->name,
				      p->default_response ? " (default response rule active)" : "",
				      p->main_mode.ike_version,
				      p->main_mode.legacy_suites ? " (legacy suites allowed)" : "", "Rule",
				      "Filter list", "Filter action", "prio", "Tunnel", "enabled",
				      "Authentication");
		}
		for (uint32_t r = 0; r < p->n_rules; r++)
			show_rule(c, o, &p->rules[r]);
		if (o->json)
			cp_json_close(o, ']'), cp_json_close(o, '}');
	}
	if (o->json)
		cp_json_close(o, ']'), cp_json_close(o, '}');
}

static void ports_str(uint16_t lo, uint16_t hi, char *buf, size_t len)
{
	if (lo == 0 && hi == 65535)
		snprintf(buf, len, "any");
	else if (lo == hi)
		snprintf(buf, len, "%u", lo);
	else
		snprintf(buf, len, "%u-%u", lo, hi);
}

static void show_filter(struct cp_out *o, const struct dpsec_filter *f)
{
	char s[80], d[80], sp[16], dp[16];

	prefix_str(&f->src, s, sizeof(s));
	prefix_str(&f->dst, d, sizeof(d));
	ports_str(f->sport_lo, f->sport_hi, sp, sizeof(sp));
	ports_str(f->dport_lo, f->dport_hi, dp, sizeof(dp));
	if (!o->json) {
		cp_out_printf(o, "  %-24s %-24s %5u %-11s %-11s %s\n", s, d, f->proto, sp, dp,
			      f->mirrored ? "yes" : "no");
		return;
	}
	cp_json_open(o, NULL, '{');
	cp_json_str(o, "source", s);
	cp_json_str(o, "destination", d);
	cp_json_u64(o, "protocol", f->proto);
	cp_json_str(o, "source_ports", sp);
	cp_json_str(o, "destination_ports", dp);
	cp_json_bool(o, "mirrored", f->mirrored);
	cp_json_close(o, '}');
}

void cp_show_filters(const struct cp_ctx *c, struct cp_out *o, const char *list)
{
	if (o->json)
		cp_json_open(o, NULL, '{'), cp_json_open(o, "filter_lists", '[');
	for (uint32_t i = 0; i < c->store.n_filter_lists; i++) {
		const struct cfg_filter_list *l = &c->store.filter_lists[i];

		if (list && strcmp(list, l->name) != 0)
			continue;
		if (o->json) {
			cp_json_open(o, NULL, '{');
			cp_json_str(o, "name", l->name);
			cp_json_bool(o, "builtin", l->builtin);
			cp_json_open(o, "filters", '[');
		} else {
			cp_out_printf(o, "Filter list %s%s\n  %-24s %-24s %5s %-11s %-11s %s\n", l->name,
				      l->builtin ? " (built-in)" : "", "Source", "Destination", "proto",
				      "src ports", "dst ports", "mirrored");
		}
		for (uint32_t f = 0; f < l->n_filters; f++)
			show_filter(o, &l->filters[f]);
		if (o->json)
			cp_json_close(o, ']'), cp_json_close(o, '}');
	}
	if (o->json)
		cp_json_close(o, ']'), cp_json_close(o, '}');
}

/* A tunnel's outer DSCP in JSON: "copy", or the fixed value. */
static void show_dscp(struct cp_out *o, bool fixed, uint8_t dscp)
{
	if (fixed)
		cp_json_u64(o, "dscp", dscp);
	else
		cp_json_str(o, "dscp", "copy");
}

static void show_method(struct cp_out *o, const struct cfg_sec_method *m)
{
	const char *proto = m->protocol == CFG_PROTO_AH ? "AH" : "ESP";

	if (!o->json) {
		cp_out_printf(o, "    %-3s %-12s %-17s %6u s %9llu KB\n", proto, enc_name(m->enc_alg, m->enc_key_len),
			      integ_name(m->integ_alg), m->lifetime_seconds,
			      (unsigned long long)m->lifetime_kilobytes);
		return;
	}
	cp_json_open(o, NULL, '{');
	cp_json_str(o, "protocol", proto);
	cp_json_str(o, "encryption", enc_name(m->enc_alg, m->enc_key_len));
	cp_json_str(o, "integrity", integ_name(m->integ_alg));
	cp_json_u64(o, "lifetime_seconds", m->lifetime_seconds);
	cp_json_u64(o, "lifetime_kilobytes", m->lifetime_kilobytes);
	cp_json_close(o, '}');
}

void cp_show_filteractions(const struct cp_ctx *c, struct cp_out *o)
{
	if (o->json)
		cp_json_open(o, NULL, '{'), cp_json_open(o, "filter_actions", '[');
	for (uint32_t i = 0; i < c->store.n_filter_actions; i++) {
		const struct cfg_filter_action *a = &c->store.filter_actions[i];

		if (o->json) {
			cp_json_open(o, NULL, '{');
			cp_json_str(o, "name", a->name);
			cp_json_str(o, "action", action_name(a->action));
			cp_json_bool(o, "builtin", a->builtin);
			cp_json_bool(o, "accept_unsecured", a->accept_unsecured);
			cp_json_bool(o, "fallback_to_clear", a->fallback_to_clear);
			cp_json_bool(o, "pfs", a->pfs);
			if (a->action == DPSEC_ACTION_NEGOTIATE) {
				cp_json_str(o, "df_bit", cfg_df_bit_name(a->df_bit));
				show_dscp(o, a->dscp_fixed, a->dscp);
			}
			cp_json_open(o, "methods", '[');
		} else {
			cp_out_printf(o, "%s: %s%s%s%s%s\n", a->name, action_name(a->action),
				      a->builtin ? " (built-in)" : "",
				      a->accept_unsecured ? ", accepts unsecured communication" : "",
				      a->fallback_to_clear ? ", falls back to clear" : "",
				      a->pfs ? ", PFS" : "");
		}
		for (uint32_t m = 0; m < a->n_methods; m++)
			show_method(o, &a->methods[m]);
		if (o->json)
			cp_json_close(o, ']'), cp_json_close(o, '}');
	}
	if (o->json)
		cp_json_close(o, ']'), cp_json_close(o, '}');
}

/* ---- SAs ------------------------------------------------------------- */

/* A rule id as the administrator knows it. */
/* A per-peer rule by the store rule it was made from ("to-site-b (peer)":
 * an IKE child SA's, a fallback's; "to-site-b" for the SA a tunnel rule
 * carries itself), or by its kind when that rule is gone. */
static void dyn_rule_name(const struct cfg_compiled *cc, const struct cp_dyn_rule *d, char *buf,
			  size_t len)
{
	const char *name = d->generic_name;

	for (uint32_t i = 0; cc && i < cc->n_rules; i++)
		if (cc->rules[i].id == d->generic_id)
			name = cc->rules[i].name;
	snprintf(buf, len, d->on_rule ? "%s" : "%s (peer)", name);
}

static void rule_name(const struct cp_ctx *c, const struct cfg_compiled *cc, uint32_t id,
		      char *buf, size_t len)
{
	for (uint32_t i = 0; cc && i < cc->n_rules; i++)
		if (cc->rules[i].id == id) {
			snprintf(buf, len, "%s", cc->rules[i].name);
			return;
		}
	for (int i = 0; i < CP_MAX_DYN_RULES; i++)
		if (c->dyn[i].used && c->dyn[i].id == id) {
			dyn_rule_name(cc, &c->dyn[i], buf, len);
			return;
		}
	snprintf(buf, len, id ? "%08x" : "-", id);
}

static const char *tr_name(uint8_t type, uint16_t id)
{
	const char *n = ikev2_transform_id_name(type, id);

	return n ? n : "?";
}

/* "AES_GCM_16-256/PRF_HMAC_SHA2_256/ECP_256" (an integrity algorithm
 * before the PRF when there is one; no key length for a cipher with one
 * length: "CHACHA20_POLY1305/PRF_..."). */
static void mm_algs(const struct ike_mm_method *m, char *buf, size_t len)
{
	char bits[8] = "";

	if (m->suite.encr_bits)
		snprintf(bits, sizeof(bits), "-%u", m->suite.encr_bits);
	snprintf(buf, len, "%s%s%s%s/PRF_%s/%s", tr_name(IKEV2_TR_ENCR, m->suite.encr), bits,
		 m->suite.integ ? "/" : "", m->suite.integ ? tr_name(IKEV2_TR_INTEG, m->suite.integ) : "",
		 tr_name(IKEV2_TR_PRF, m->suite.prf), tr_name(IKEV2_TR_DH, m->dh_group));
}

static uint64_t ns_until(uint64_t t)
{
	uint64_t now = cp_now_ns();

	return t > now ? t - now : 0;
}

static void show_mmsa(struct cp_out *o, const struct cp_ike_sa *s, const char *rule)
{
	const char *version = s->version == 1 ? "IKEv1" : "IKEv2";
	char id[96], algs[96], spi[40];
	size_t n = 0;

	ike_id_describe(&s->peer_id, id, sizeof(id));
	mm_algs(&s->mm, algs, sizeof(algs));
	for (int i = 0; i < 16; i++)
		n += (size_t)snprintf(spi + n, sizeof(spi) - n, "%s%02x", i == 8 ? ":" : "",
				      i < 8 ? s->id.spi_i[i] : s->id.spi_r[i - 8]);
	if (!o->json) {
		cp_out_printf(o, "%-33s %-7s %-20s %-9s %-28s %s\n", spi, version, rule,
			      s->initiator ? "initiator" : "responder", id, algs);
		return;
	}
	cp_json_open(o, NULL, '{');
	cp_json_str(o, "version", version);
	cp_json_str(o, s->version == 1 ? "cookies" : "spis", spi);
	cp_json_str(o, "rule", rule);
	cp_json_str(o, "role", s->initiator ? "initiator" : "responder");
	cp_json_str(o, "peer_id", id);
	cp_json_str(o, "algorithms", algs);
	cp_json_u64(o, "seconds", (cp_now_ns() - s->up_ns) / 1000000000ull);
	cp_json_u64(o, "rekey_in", ns_until(s->rekey_ns) / 1000000000ull);
	cp_json_u64(o, "seconds_left", ns_until(s->expire_ns) / 1000000000ull);
	cp_json_close(o, '}');
}

/* The IKE SAs (Main Mode SAs) ctld's engine holds. */
void cp_show_mmsas(const struct cp_ctx *c, struct cp_out *o)
{
	struct cfg_compiled cc;
	char err[CFG_ERR_MAX], rule[DPSEC_NAME_MAX + 8];
	bool have_cc = c->store.assigned[0] && cfg_compile(&c->store, c->store.assigned, &cc, err) == 0;

	if (o->json)
		cp_json_open(o, NULL, '{'), cp_json_open(o, "mmsas", '[');
	else
		cp_out_printf(o, "%-33s %-7s %-20s %-9s %-28s %s\n", "SPIs or cookies (i:r)", "version",
			      "Rule", "role", "peer identity", "algorithms");
	for (int i = 0; i < CP_IKE_MAX_SAS; i++) {
		const struct cp_ike_sa *s = cp_ike_sa_at(c, i);

		if (s == NULL)
			continue;
		rule_name(c, have_cc ? &cc : NULL, s->rule_id, rule, sizeof(rule));
		show_mmsa(o, s, rule);
	}
	if (o->json)
		cp_json_close(o, ']'), cp_json_close(o, '}');
	if (have_cc)
		cfg_compiled_free(&cc);
}

/* The rule that sends through outbound SA name. */
/* The rule sending on outbound SA e: a static rule naming it, or the
 * per-peer rule IKE installed it for. */
static void outbound_rule(const struct cp_ctx *c, const struct cfg_compiled *cc,
			  const struct dpsec_shm_sa *e, char *buf, size_t len)
{
	snprintf(buf, len, "-");
	for (uint32_t i = 0; cc && i < cc->n_rules; i++)
		if (cc->origin[i] && strcmp(cc->origin[i]->outbound_sa, e->conf.name) == 0) {
			snprintf(buf, len, "%s", cc->rules[i].name);
			return;
		}
	for (int i = 0; i < CP_MAX_DYN_RULES; i++)
		if (c->dyn[i].used && c->dyn[i].kind == CP_DYN_SA && c->dyn[i].sa_out == e->sa_id)
			dyn_rule_name(cc, &c->dyn[i], buf, len);
}

static uint64_t left_s(const struct dpsec_shm_sa *e)
{
	struct timespec ts;
	uint64_t now, end;

	if (e->life.hard_seconds == 0)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	end = e->added_ns + (uint64_t)e->life.hard_seconds * 1000000000ull;
	return end > now ? (end - now) / 1000000000ull : 0;
}

static void show_qmsa(struct cp_out *o, const struct dpsec_shm_sa *e, const char *rule)
{
	char l[64], r[64], alg[48];
	const char *dir = e->conf.direction == DPSEC_DIR_IN ? "inbound" : "outbound";

	snprintf(alg, sizeof(alg), "%s%s%s",
		 e->conf.protocol == DPSEC_PROTO_AH ? "AH" : enc_name(e->conf.enc_alg, e->conf.enc_key_len),
		 e->conf.integ_alg ? "/" : "", e->conf.integ_alg ? integ_name(e->conf.integ_alg) : "");
	addr_str(&e->conf.local, l, sizeof(l));
	addr_str(&e->conf.remote, r, sizeof(r));
	if (!o->json) {
		cp_out_printf(o, "%-20s %-20s %-8s 0x%08x %-9s %-15s %-15s %-20s %-7s %12llu %14llu\n",
			      e->conf.name, rule, dir, e->conf.spi,
			      e->conf.mode == DPSEC_MODE_TUNNEL ? "tunnel" : "transport", l, r, alg,
			      e->state == DPSEC_SA_EXPIRED ? "expired" : "active",
			      (unsigned long long)e->packets, (unsigned long long)e->bytes);
		return;
	}
	cp_json_open(o, NULL, '{');
	cp_json_u64(o, "id", e->sa_id);
	cp_json_str(o, "name", e->conf.name);
	cp_json_str(o, "rule", rule);
	cp_json_str(o, "direction", dir);
	cp_json_u64(o, "spi", e->conf.spi);
	cp_json_str(o, "mode", e->conf.mode == DPSEC_MODE_TUNNEL ? "tunnel" : "transport");
	cp_json_str(o, "local", l);
	cp_json_str(o, "remote", r);
	cp_json_str(o, "algorithms", alg);
	cp_json_str(o, "state", e->state == DPSEC_SA_EXPIRED ? "expired" : "active");
	cp_json_u64(o, "packets", e->packets);
	cp_json_u64(o, "bytes", e->bytes);
	cp_json_u64(o, "seq", e->seq);
	cp_json_u64(o, "seconds_left", left_s(e));
	if (e->conf.direction == DPSEC_DIR_OUT && e->conf.encap == DPSEC_ENCAP_UDP) {
		cp_json_u64(o, "local_port", e->conf.udp_sport); /* ESP in UDP's */
		cp_json_u64(o, "remote_port", e->conf.udp_dport); /* the peer's, as its NAT maps it */
	}
	if (e->conf.direction == DPSEC_DIR_OUT) {
		cp_json_u64(o, "path_mtu", e->path_mtu);
		cp_json_str(o, "df_bit", cfg_df_bit_name(e->conf.df_bit));
		show_dscp(o, e->conf.dscp_fixed, e->conf.dscp);
	}
	cp_json_close(o, '}');
}

/* Quick Mode SAs as pairs: a rule's outbound SA, then its inbound ones. */
void cp_show_qmsas(const struct cp_ctx *c, struct cp_out *o)
{
	struct cfg_compiled cc;
	char err[CFG_ERR_MAX], rule[DPSEC_NAME_MAX + 8];
	bool have_cc = c->store.assigned[0] && cfg_compile(&c->store, c->store.assigned, &cc, err) == 0;

	if (o->json)
		cp_json_open(o, NULL, '{'), cp_json_open(o, "qmsas", '[');
	else
		cp_out_printf(o, "%-20s %-20s %-8s %-10s %-9s %-15s %-15s %-20s %-7s %12s %14s\n", "SA",
			      "Rule", "dir", "SPI", "mode", "local", "remote", "algorithms", "state",
			      "packets", "bytes");
	for (int pass = 0; c->attached && pass < 2; pass++)
		for (uint32_t id = 0; id < c->seg.hdr->sa_capacity; id++) {
			struct dpsec_shm_sa e;

			if (!dpsec_shm_sa_read(&c->seg.sas[id], &e, 1000) || e.state == DPSEC_SA_FREE ||
			    e.conf.direction != (pass == 0 ? DPSEC_DIR_OUT : DPSEC_DIR_IN))
				continue;
			if (e.conf.direction == DPSEC_DIR_OUT)
				outbound_rule(c, have_cc ? &cc : NULL, &e, rule, sizeof(rule));
			else
				rule_name(c, have_cc ? &cc : NULL, e.rule_id, rule, sizeof(rule));
			show_qmsa(o, &e, rule);
		}
	if (o->json)
		cp_json_close(o, ']'), cp_json_close(o, '}');
	if (have_cc)
		cfg_compiled_free(&cc);
}

/* ---- neighbours ------------------------------------------------------ */

static const char *neigh_state_name(uint8_t state)
{
	static const char *const names[] = {
		[DPSEC_NEIGH_PERMANENT] = "permanent", [DPSEC_NEIGH_REACHABLE] = "reachable",
		[DPSEC_NEIGH_PROBE] = "probe",         [DPSEC_NEIGH_INCOMPLETE] = "incomplete",
		[DPSEC_NEIGH_FAILED] = "failed",       [DPSEC_NEIGH_STALE] = "stale",
	};

	return state < sizeof(names) / sizeof(names[0]) && names[state] ? names[state] : "?";
}

static void show_neigh(struct cp_out *o, const struct dpsec_shm_neighs *t,
		       const struct dpsec_shm_neigh *e)
{
	const char *port = e->port < t->n_ports ? t->ports[e->port] : "?";
	bool has_mac = e->state != DPSEC_NEIGH_INCOMPLETE && e->state != DPSEC_NEIGH_FAILED;
	char addr[64], mac[20] = "-";

	addr_str(&e->addr, addr, sizeof(addr));
	if (has_mac)
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", e->mac[0], e->mac[1],
			 e->mac[2], e->mac[3], e->mac[4], e->mac[5]);
	if (!o->json) {
		cp_out_printf(o, "%-12.12s %-39s %-17s %-10s %6u %5u %4u\n", port, addr, mac,
			      neigh_state_name(e->state), e->silent_s, e->asked, e->held);
		return;
	}
	cp_json_open(o, NULL, '{');
	cp_json_str(o, "port", port);
	cp_json_str(o, "address", addr);
	if (has_mac)
		cp_json_str(o, "mac", mac);
	cp_json_str(o, "state", neigh_state_name(e->state));
	cp_json_u64(o, "silent_seconds", e->silent_s);
	cp_json_u64(o, "requests", e->asked);
	cp_json_u64(o, "held", e->held);
	cp_json_close(o, '}');
}

void cp_show_neighbour_table(struct cp_out *o, const struct dpsec_shm_neighs *src)
{
	struct dpsec_shm_neighs *t = src != NULL ? malloc(sizeof(*t)) : NULL;
	bool have = t != NULL && dpsec_shm_neighs_read(src, t, 1000);

	if (o->json)
		cp_json_open(o, NULL, '{'), cp_json_open(o, "neighbours", '[');
	else
		cp_out_printf(o, "%-12s %-39s %-17s %-10s %6s %5s %4s\n", "port", "address", "MAC",
			      "state", "silent", "asked", "held");
	for (uint32_t i = 0; have && i < t->n; i++)
		show_neigh(o, t, &t->e[i]);
	if (o->json)
		cp_json_close(o, ']'), cp_json_close(o, '}');
	free(t);
}

void cp_show_neighbours(const struct cp_ctx *c, struct cp_out *o)
{
	cp_show_neighbour_table(o, c->attached ? c->seg.neighs : NULL);
}

static const char *link_name(uint8_t link)
{
	return link == DPSEC_LINK_UP ? "up" : link == DPSEC_LINK_DOWN ? "down" : "unknown";
}

/* A link's speed for people: "25G", "100M", "-" when unknown or down. */
static void speed_str(uint32_t mbps, char *buf, size_t len)
{
	if (mbps == 0)
		snprintf(buf, len, "-");
	else if (mbps % 1000 == 0)
		snprintf(buf, len, "%uG", mbps / 1000);
	else
		snprintf(buf, len, "%uM", mbps);
}

static void show_port(struct cp_out *o, const struct dpsec_shm_port *e)
{
	const char *role = e->role == 0 ? "protected" : "unprotected";
	char mac[20], speed[16];

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", e->mac[0], e->mac[1],
		 e->mac[2], e->mac[3], e->mac[4], e->mac[5]);
	speed_str(e->speed_mbps, speed, sizeof(speed));
	if (!o->json) {
		cp_out_printf(o, "%-12.12s %-11s %-17s %5u %-7s %6s %14llu %14llu %10llu %10llu %10llu\n",
			      e->name, role, mac, e->mtu, link_name(e->link), speed,
			      (unsigned long long)e->ipackets, (unsigned long long)e->opackets,
			      (unsigned long long)(e->imissed + e->rx_nombuf),
			      (unsigned long long)e->ierrors, (unsigned long long)e->oerrors);
		return;
	}
	cp_json_open(o, NULL, '{');
	cp_json_str(o, "name", e->name);
	cp_json_str(o, "role", role);
	cp_json_str(o, "mac", mac);
	cp_json_u64(o, "mtu", e->mtu);
	cp_json_str(o, "link", link_name(e->link));
	if (e->link == DPSEC_LINK_UP) {
		cp_json_u64(o, "speed_mbps", e->speed_mbps);
		cp_json_str(o, "duplex", e->full_duplex ? "full" : "half");
	}
	cp_json_u64(o, "rx_packets", e->ipackets);
	cp_json_u64(o, "tx_packets", e->opackets);
	cp_json_u64(o, "rx_bytes", e->ibytes);
	cp_json_u64(o, "tx_bytes", e->obytes);
	cp_json_u64(o, "rx_missed", e->imissed);
	cp_json_u64(o, "rx_no_mbuf", e->rx_nombuf);
	cp_json_u64(o, "rx_errors", e->ierrors);
	cp_json_u64(o, "tx_errors", e->oerrors);
	cp_json_close(o, '}');
}

void cp_show_port_table(struct cp_out *o, const struct dpsec_shm_ports *src)
{
	struct dpsec_shm_ports t;
	bool have = src != NULL && dpsec_shm_ports_read(src, &t, 1000);

	if (o->json)
		cp_json_open(o, NULL, '{'), cp_json_open(o, "ports", '[');
	else
		cp_out_printf(o, "%-12s %-11s %-17s %5s %-7s %6s %14s %14s %10s %10s %10s\n", "port",
			      "role", "MAC", "MTU", "link", "speed", "rx packets", "tx packets",
			      "rx dropped", "rx errors", "tx errors");
	for (uint32_t i = 0; have && i < t.n; i++)
		show_port(o, &t.p[i]);
	if (o->json)
		cp_json_close(o, ']'), cp_json_close(o, '}');
}

void cp_show_ports(const struct cp_ctx *c, struct cp_out *o)
{
	cp_show_port_table(o, c->attached ? c->seg.ports : NULL);
}

/* ---- statistics ------------------------------------------------------ */

static void table_row(struct cp_out *o, const char *name, uint64_t v)
{
	if (o->json) {
		cp_json_open(o, NULL, '{');
		cp_json_str(o, "name", name);
		cp_json_u64(o, "value", v);
		cp_json_close(o, '}');
	} else {
		cp_out_printf(o, "  %-36s %16llu\n", name, (unsigned long long)v);
	}
}

#define IKE_STAT_ID(n, s) #n,
static const char *const ike_stat_ids[] = { IKEV2_STATS(IKE_STAT_ID) };
#undef IKE_STAT_ID

#define IKE_STAT_ID(n, s) #n,
static const char *const ikev1_stat_ids[] = { IKEV1_STATS(IKE_STAT_ID) };
#undef IKE_STAT_ID

/* An IKE engine's counters: JSON under key by id (PEER_TIMEOUTS), text
 * under title by what they count. */
static void engine_table(struct cp_out *o, const char *key, const char *title,
			 const char *const *ids, const char *(*name)(int), const uint64_t *n,
			 int count)
{
	if (o->json)
		cp_json_open(o, key, '[');
	else
		cp_out_printf(o, "%s\n", title);
	for (int i = 0; i < count; i++)
		table_row(o, o->json ? ids[i] : name(i), n[i]);
	if (o->json)
		cp_json_close(o, ']');
}

static const char *v2_name(int i)
{
	return ikev2_stat_name((enum ikev2_stat)i);
}

static const char *v1_name(int i)
{
	return ikev1_stat_name((enum ikev1_stat)i);
}

void cp_show_stats(struct cp_out *o, const uint64_t *mm, const struct cp_show_ike *ike,
		   const struct dpsec_shm_stats *st, uint64_t pending_key_ops, bool all)
{
	struct dpsec_qm_gauges g = { 0 };
	struct dpsec_qm_row qm[DPSEC_QM_ROWS];

	if (o->json)
		cp_json_open(o, NULL, '{');
	if (mm != NULL) {
		if (o->json)
			cp_json_open(o, "main_mode", '[');
		else
			cp_out_printf(o, "Main Mode statistics\n");
		for (int i = 0; i < CP_MM_MAX; i++)
			table_row(o, cp_mm_name(i), mm[i]);
		if (o->json)
			cp_json_close(o, ']');
	} else if (!o->json) {
		cp_out_printf(o, "Main Mode statistics: unavailable, dpsec-ctld is not running\n");
	}
	if (ike != NULL) {
		engine_table(o, "ike", "IKEv2 engine", ike_stat_ids, v2_name, ike->v2->n,
			     IKEV2_STAT_COUNT);
		engine_table(o, "ikev1", "IKEv1 engine", ikev1_stat_ids, v1_name, ike->v1->n,
			     IKEV1_STAT_COUNT);
	}
	if (st != NULL) {
		g.active_sas = st->active_sas;
		g.active_tunnels = st->active_tunnels;
		g.offloaded_sas = st->offloaded_sas;
		g.key_additions = st->key_additions;
		g.key_deletions = st->key_deletions;
		g.pending_key_operations = pending_key_ops;
		dpsec_qm_table(st->counters, &g, qm);
		if (o->json)
			cp_json_open(o, "quick_mode", '[');
		else
			cp_out_printf(o, "Quick Mode statistics\n");
		for (int i = 0; i < DPSEC_QM_ROWS; i++)
			table_row(o, qm[i].name, qm[i].value);
		if (o->json)
			cp_json_close(o, ']');
	}
	if (st != NULL && all) {
		if (o->json)
			cp_json_open(o, "dataplane", '[');
		else
			cp_out_printf(o, "Dataplane counters\n");
		for (int i = 0; i < DP_C_MAX; i++)
			table_row(o, dp_counter_name(i), st->counters[i]);
		/* the policy in force, and how often its classifier was built */
		table_row(o, "policy_rules", st->policy_rules);
		table_row(o, "policy_filters", st->policy_filters);
		table_row(o, "policy_builds", st->policy_builds);
		table_row(o, "policy_sa_changes", st->policy_sa_changes);
		if (o->json)
			cp_json_close(o, ']');
	}
	if (o->json)
		cp_json_close(o, '}');
}
