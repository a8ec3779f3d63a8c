/* cfg_save.c - writes a policy store back in the loader's syntax (what
 * dpsecctl's static changes do): everything but the built-ins, through a
 * temporary file of mode 0600 synced and renamed over the store, the
 * directory synced after, so a crash leaves the old store or the new one,
 * never half of one, and not the old one once the save returned. Comments of a hand-written
 * store are not kept. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cfg_file.h"
#include "cfg_priv.h"
#include "cfg_store.h"

static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void put_kv(FILE *f, const char *indent, const char *key, const char *v)
{
	fprintf(f, "%s%s = ", indent, key);
	put_str(f, v);
	fputs(";\n", f);
}

static void put_desc(FILE *f, const char *indent, const char *v)
{
	if (v[0] != '\0')
		put_kv(f, indent, "description", v);
}

static void put_hex(FILE *f, const char *key, const uint8_t *a, size_t n, const uint8_t *b, size_t m)
{
	fprintf(f, "      %s = \"0x", key);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", a[i]);
	for (size_t i = 0; i < m; i++)
		fprintf(f, "%02x", b[i]);
	fputs("\";\n", f);
}

static void put_filter(FILE *f, const struct dpsec_filter *x)
{
	char s[CFG_ADDR_STRLEN], d[CFG_ADDR_STRLEN];

	fprintf(f, "      { source = \"%s\"; destination = \"%s\"; protocol = %u; mirrored = %s;",
		cfg_fmt_prefix(&x->src, s), cfg_fmt_prefix(&x->dst, d), x->proto,
		x->mirrored ? "true" : "false");
	if (x->sport_lo != 0 || x->sport_hi != 65535)
		fprintf(f, " source_ports = \"%u-%u\";", x->sport_lo, x->sport_hi);
	if (x->dport_lo != 0 || x->dport_hi != 65535)
		fprintf(f, " destination_ports = \"%u-%u\";", x->dport_lo, x->dport_hi);
	fputs(" }", f);
}

static void put_lists(FILE *f, const struct cfg_store *s)
{
	bool first = true;

	fputs("filter_lists = (\n", f);
	for (uint32_t i = 0; i < s->n_filter_lists; i++) {
		const struct cfg_filter_list *l = &s->filter_lists[i];

		if (l->builtin)
			continue;
		fprintf(f, "%s  {\n", first ? "" : ",\n");
		first = false;
		put_kv(f, "    ", "name", l->name);
		put_desc(f, "    ", l->description);
		fputs("    filters = (\n", f);
		for (uint32_t j = 0; j < l->n_filters; j++) {
			put_filter(f, &l->filters[j]);
			fputs(j + 1 < l->n_filters ? ",\n" : "\n", f);
		}
		fputs("    );\n  }", f);
	}
	fputs("\n);\n", f);
}

static void put_action(FILE *f, const struct cfg_filter_action *a)
{
	put_kv(f, "    ", "name", a->name);
	put_desc(f, "    ", a->description);
	put_kv(f, "    ", "action", cfg_action_name(a->action));
	if (a->action != DPSEC_ACTION_NEGOTIATE)
		return;
	fprintf(f, "    accept_unsecured = %s; fallback_to_clear = %s; pfs = %s; df_bit = \"%s\";\n",
		a->accept_unsecured ? "true" : "false", a->fallback_to_clear ? "true" : "false",
		a->pfs ? "true" : "false", cfg_df_bit_name(a->df_bit));
	if (a->dscp_fixed)
		fprintf(f, "    dscp = %u;\n", a->dscp);
	fputs("    methods = (\n", f);
	for (uint32_t m = 0; m < a->n_methods; m++) {
		const struct cfg_sec_method *x = &a->methods[m];

		fputs("      { ", f);
		if (x->name[0]) {
			fputs("name = ", f);
			put_str(f, x->name);
			fputs("; ", f);
		}
		fprintf(f, "protocol = \"%s\"; encryption = \"%s\"; integrity = \"%s\"; "
			"lifetime_seconds = %u; lifetime_kilobytes = %llu; }%s\n",
			x->protocol == CFG_PROTO_AH ? "ah" : "esp", cfg_enc_name(x->enc_alg, x->enc_key_len),
			cfg_integ_name(x->integ_alg), x->lifetime_seconds,
			(unsigned long long)x->lifetime_kilobytes, m + 1 < a->n_methods ? "," : "");
	}
	fputs("    );\n", f);
}

static void put_actions(FILE *f, const struct cfg_store *s)
{
	bool first = true;

	fputs("filter_actions = (\n", f);
	for (uint32_t i = 0; i < s->n_filter_actions; i++) {
		if (s->filter_actions[i].builtin)
			continue;
		fprintf(f, "%s  {\n", first ? "" : ",\n");
		first = false;
		put_action(f, &s->filter_actions[i]);
		fputs("  }", f);
	}
	fputs("\n);\n", f);
}

static void put_paths(FILE *f, const char *name, const char (*p)[CFG_PATH_MAX], uint32_t n)
{
	fprintf(f, "%s = [ ", name);
	for (uint32_t i = 0; i < n; i++) {
		put_str(f, p[i]);
		fputs(i + 1 < n ? ", " : "", f);
	}
	fputs(" ]", f);
}

static void put_cert_auth(FILE *f, const struct cfg_auth_method *a)
{
	static const char *const ids[] = { [CFG_CERT_ID_DN] = "dn", [CFG_CERT_ID_FQDN] = "fqdn",
					   [CFG_CERT_ID_EMAIL] = "email", [CFG_CERT_ID_IP] = "ip" };

	fputs("          { method = \"certificate\"; ", f);
	put_paths(f, "roots", a->roots, a->n_roots);
	if (a->n_certs) {
		fputs(";\n            certificates = ( ", f);
		for (uint32_t i = 0; i < a->n_certs; i++) {
			fputs("{ certificate = ", f);
			put_str(f, a->certs[i]);
			fputs("; private_key = ", f);
			put_str(f, a->keys[i]);
			fputs(i + 1 < a->n_certs ? "; }, " : "; }", f);
		}
		fputs(" )", f);
	}
	if (a->n_crls) {
		fputs(";\n            ", f);
		put_paths(f, "crls", a->crls, a->n_crls);
	}
	fprintf(f, ";\n            revocation = %u; rsa_signature = \"%s\"; identity = \"%s\"",
		a->revocation, a->rsa_pss ? "pss" : "pkcs1", ids[a->identity]);
}

static void put_auth(FILE *f, const struct cfg_auth_method *a, bool last)
{
	if (a->kind == CFG_AUTH_PSK) {
		char psk[CFG_PSK_MAX + 1];

		memcpy(psk, a->psk, a->psk_len);
		psk[a->psk_len] = '\0';
		fputs("          { method = \"psk\"; psk = ", f);
		put_str(f, psk);
		explicit_bzero(psk, sizeof(psk));
	} else {
		put_cert_auth(f, a);
	}
	fprintf(f, "; }%s\n", last ? "" : ",");
}

static void put_rule(FILE *f, const struct cfg_store_rule *r)
{
	char a[CFG_ADDR_STRLEN];

	fputs("      {\n", f);
	put_kv(f, "        ", "name", r->name);
	put_desc(f, "        ", r->description);
	put_kv(f, "        ", "filter_list", r->filter_list);
	put_kv(f, "        ", "filter_action", r->filter_action);
	fprintf(f, "        enabled = %s; priority = %u;\n", r->enabled ? "true" : "false", r->priority);
	if (r->tunnel)
		put_kv(f, "        ", "tunnel_endpoint", cfg_fmt_addr(&r->tunnel_endpoint, a));
	if (r->outbound_sa[0])
		put_kv(f, "        ", "outbound_sa", r->outbound_sa);
	if (r->inbound_sa[0])
		put_kv(f, "        ", "inbound_sa", r->inbound_sa);
	if (r->n_auth > 0) {
		fputs("        authentication = (\n", f);
		for (uint32_t i = 0; i < r->n_auth; i++)
			put_auth(f, &r->auth[i], i + 1 == r->n_auth);
		fputs("        );\n", f);
	}
	fputs("      }", f);
}

/* main_mode.methods, when the policy names its own. */
static void put_mm_methods(FILE *f, const struct cfg_main_mode *mm)
{
	if (mm->n_methods == 0)
		return;
	fputs("\n      methods = (", f);
	for (uint8_t i = 0; i < mm->n_methods; i++) {
		const struct cfg_mm_method *m = &mm->methods[i];

		fprintf(f, "%s\n        { encryption = \"%s\"; ", i ? "," : "", cfg_mm_encryption_name(m));
		if (m->integ != 0)
			fprintf(f, "integrity = \"%s\"; ", cfg_mm_integrity_name(m));
		fprintf(f, "prf = \"%s\"; dh_group = \"%s\"; }", cfg_mm_prf_name(m),
			cfg_mm_dh_name(m));
	}
	fputs(" );", f);
}
static void put_policies(FILE *f, const struct cfg_store *s)
{
	bool first = true;

	fputs("policies = (\n", f);
	for (uint32_t i = 0; i < s->n_policies; i++) {
		const struct cfg_policy *p = &s->policies[i];

		if (p->builtin)
			continue;
		fprintf(f, "%s  {\n", first ? "" : ",\n");
		first = false;
		put_kv(f, "    ", "name", p->name);
		put_desc(f, "    ", p->description);
		put_kv(f, "    ", "default_action", cfg_action_name(p->default_action));
		fprintf(f, "    default_response = %s;\n    main_mode = { lifetime_minutes = %u; "
			"max_quick_modes = %u; ike_version = %u; legacy_suites = %s;",
			p->default_response ? "true" : "false", p->main_mode.lifetime_minutes,
			p->main_mode.max_quick_modes, p->main_mode.ike_version,
			p->main_mode.legacy_suites ? "true" : "false");
		put_mm_methods(f, &p->main_mode);
		fputs(" };\n    rules = (\n", f);
		for (uint32_t r = 0; r < p->n_rules; r++) {
			put_rule(f, &p->rules[r]);
			fputs(r + 1 < p->n_rules ? ",\n" : "\n", f);
		}
		fputs("    );\n  }", f);
	}
	fputs("\n);\n", f);
}

static void put_sa(FILE *f, const struct cfg_static_sa *x, bool last)
{
	const struct dpsec_sa_conf *c = &x->conf;
	char l[CFG_ADDR_STRLEN], r[CFG_ADDR_STRLEN];

	fputs("  {\n", f);
	put_kv(f, "      ", "name", c->name);
	fprintf(f, "      spi = 0x%x; direction = \"%s\"; mode = \"%s\";\n", c->spi,
		c->direction == DPSEC_DIR_IN ? "inbound" : "outbound",
		c->mode == DPSEC_MODE_TUNNEL ? "tunnel" : "transport");
	fprintf(f, "      local = \"%s\"; remote = \"%s\";\n", cfg_fmt_addr(&c->local, l),
		cfg_fmt_addr(&c->remote, r));
	if (c->protocol == DPSEC_PROTO_AH) {
		fputs("      protocol = \"ah\";\n", f);
	} else {
		fprintf(f, "      encryption = \"%s\";\n", cfg_enc_name(c->enc_alg, c->enc_key_len));
		if (c->enc_alg != DPSEC_ENC_NULL) /* RFC 2410: no key */
			put_hex(f, "encryption_key", c->enc_key, c->enc_key_len, c->salt,
				dpsec_enc_salt_len(c->enc_alg));
	}
	if (c->integ_alg != DPSEC_INTEG_NONE) {
		fprintf(f, "      integrity = \"%s\";\n", cfg_integ_name(c->integ_alg));
		put_hex(f, "integrity_key", c->integ_key, c->integ_key_len, NULL, 0);
	}
	if (c->direction == DPSEC_DIR_IN)
		fprintf(f, "      replay_window = %u;\n", c->replay_window);
	if (c->encap == DPSEC_ENCAP_UDP)
		fprintf(f, "      encapsulation = \"udp\"; udp_source_port = %u; udp_destination_port = %u;\n",
			c->udp_sport, c->udp_dport);
	if (c->df_bit != DPSEC_DF_COPY)
		fprintf(f, "      df_bit = \"%s\";\n", cfg_df_bit_name(c->df_bit));
	if (c->dscp_fixed)
		fprintf(f, "      dscp = %u;\n", c->dscp);
	fprintf(f, "      esn = %s; lifetime_seconds = %u; lifetime_kilobytes = %llu;\n  }%s\n",
		c->esn ? "true" : "false", x->lifetime_seconds,
		(unsigned long long)x->lifetime_kilobytes, last ? "" : ",");
}

static void put_store(FILE *f, const struct cfg_store *s)
{
	const struct cfg_exemptions *e = &s->exemptions;

	fputs("# dpsec-ctld policy store, written by dpsec-ctld (docs/policy-store.md).\n", f);
	if (s->assigned[0] != '\0')
		put_kv(f, "", "assigned", s->assigned);
	fprintf(f, "exemptions = { broadcast = %s; multicast = %s; rsvp = %s; kerberos = %s; };\n",
		e->broadcast ? "true" : "false", e->multicast ? "true" : "false",
		e->rsvp ? "true" : "false", e->kerberos ? "true" : "false");
	fprintf(f, "timeouts = { fallback_ms = %u; block_seconds = %u; idle_seconds = %u; };\n",
		s->timeouts.fallback_ms, s->timeouts.block_seconds, s->timeouts.idle_seconds);
	put_lists(f, s);
	put_actions(f, s);
	put_policies(f, s);
	fputs("security_associations = (\n", f);
	for (uint32_t i = 0; i < s->n_sas; i++)
		put_sa(f, &s->sas[i], i + 1 == s->n_sas);
	fputs(");\n", f);
}

int cfg_store_save(const struct cfg_store *s, const char *path, char err[CFG_ERR_MAX])
{
	char tmp[CFG_PATH_MAX + 16];
	FILE *f;
	int fd, rc;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		snprintf(err, CFG_ERR_MAX, "%s: cannot write: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	put_store(f, s);
	rc = fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0)
		rc = cfg_replace_durably(tmp, path);
	if (rc != 0) {
		snprintf(err, CFG_ERR_MAX, "%s: cannot write: %s", path, strerror(-rc));
		unlink(tmp);
		return -1;
	}
	return 0;
}
