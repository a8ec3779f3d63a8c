/* cfg_sa.c - static security associations: SPI, direction, mode, endpoints,
 * algorithms with their key material, anti-replay window and ESN, UDP
 * encapsulation (RFC 3948) and its ports, the outer DF bit and DSCP. Keys go straight into the SA or
 * through a stack buffer wiped before return. */
#include <stdlib.h>
#include <string.h>

#include "cfg_priv.h"

static const char *const sa_fields[] = {
	"name", "spi", "direction", "mode", "local", "remote", "protocol", "encryption",
	"encryption_key", "integrity", "integrity_key", "replay_window", "esn", "encapsulation",
	"udp_source_port", "udp_destination_port", "df_bit", "dscp", NULL
};
static const char *const store_sa_fields[] = {
	"name", "spi", "direction", "mode", "local", "remote", "protocol", "encryption",
	"encryption_key", "integrity", "integrity_key", "replay_window", "esn", "encapsulation",
	"udp_source_port", "udp_destination_port", "df_bit", "dscp", "lifetime_seconds",
	"lifetime_kilobytes", NULL
};

static const struct cfg_kw dir_kw[] = {
	{ "inbound", DPSEC_DIR_IN }, { "outbound", DPSEC_DIR_OUT }, { NULL, 0 }
};
static const struct cfg_kw proto_kw[] = {
	{ "esp", DPSEC_PROTO_ESP }, { "ah", DPSEC_PROTO_AH }, { NULL, 0 }
};
const struct cfg_kw cfg_df_kw[] = {
	{ "copy", DPSEC_DF_COPY }, { "set", DPSEC_DF_SET }, { "clear", DPSEC_DF_CLEAR }, { NULL, 0 }
};
static const struct cfg_kw mode_kw[] = {
	{ "tunnel", DPSEC_MODE_TUNNEL }, { "transport", DPSEC_MODE_TRANSPORT }, { NULL, 0 }
};

static const struct cfg_kw encap_kw[] = {
	{ "none", DPSEC_ENCAP_NONE }, { "udp", DPSEC_ENCAP_UDP }, { NULL, 0 }
};

#define INTEG_EXPECTED "\"sha1_96\", \"sha256_128\", \"sha384_192\", \"sha512_256\", " \
		       "\"aesxcbc_96\" or \"aescmac_96\""

static const char *dir_name(uint8_t dir)
{
	return dir == DPSEC_DIR_IN ? "inbound" : "outbound";
}

static int sa_spi(struct cfg_ctx *c, const config_setting_t *g, struct dpsec_sa_conf *sa)
{
	const config_setting_t *s;
	long long v;

	if (cfg_member(c, g, "spi", true, CFG_T_INT, "an integer 256..0xffffffff", &s) < 0)
		return -1;
	v = cfg_int_value(s);
	if (v == 0)
		return cfg_fail(c, s, "SPI 0 is reserved for local use and never sent "
				"(RFC 4303 §2.1); expected 256..0xffffffff");
	if (v >= 1 && v <= 255)
		return cfg_fail(c, s, "SPI %lld is in 1..255, reserved by IANA for future use "
				"(RFC 4303 §2.1); expected 256..0xffffffff", v);
	if (v < 0 || v > 0xffffffffLL)
		return cfg_fail(c, s, "%lld is out of range; expected 256..0xffffffff "
				"(write SPIs above 0x7fffffff in hex)", v);
	sa->spi = (uint32_t)v;
	return 0;
}

static int sa_endpoints(struct cfg_ctx *c, const config_setting_t *g, struct dpsec_sa_conf *sa)
{
	char l[CFG_ADDR_STRLEN], r[CFG_ADDR_STRLEN];

	if (cfg_addr(c, g, "local", true, &sa->local) < 0 ||
	    cfg_addr(c, g, "remote", true, &sa->remote) < 0)
		return -1;
	if (sa->local.family != sa->remote.family)
		return cfg_fail(c, config_setting_get_member(g, "remote"),
				"remote %s is %s but local %s is %s; an SA's endpoints are of one family",
				cfg_fmt_addr(&sa->remote, r), cfg_family_name(sa->remote.family),
				cfg_fmt_addr(&sa->local, l), cfg_family_name(sa->local.family));
	return 0;
}

/* Hex key material of exactly want bytes into out; never echoes the key. */
static int sa_key(struct cfg_ctx *c, const config_setting_t *g, const char *field, size_t want,
		  const char *alg, const char *layout, uint8_t *out)
{
	const config_setting_t *s;
	const char *v;
	size_t n, bad, digits;

	if (cfg_member(c, g, field, true, CFG_T_STR, "a hex string", &s) < 0)
		return -1;
	v = config_setting_get_string(s);
	switch (cfg_hex_scan(v, &n, &bad)) {
	case CFG_HEX_BAD_CHAR:
		return cfg_fail(c, s, "character %zu is not a hex digit; expected hex digits "
				"(0-9, a-f) with an optional 0x prefix", bad + 1);
	case CFG_HEX_ODD:
		digits = strlen(v) - ((v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) ? 2 : 0);
		return cfg_fail(c, s, "%zu hex digits, an odd number; each byte takes two", digits);
	case CFG_HEX_OK:
		break;
	}
	if (n != want)
		return cfg_fail(c, s, "%zu bytes; %s needs exactly %zu (%s)", n, alg, want, layout);
	return cfg_parse_hex(v, out, want, &n) ? cfg_fail(c, s, "not a hex string") : 0;
}

/* RFC 2410: ESP that encrypts nothing, and so has no key. */
static int sa_null_encryption(struct cfg_ctx *c, const config_setting_t *g,
			      struct dpsec_sa_conf *sa)
{
	const config_setting_t *s = config_setting_get_member(g, "encryption_key");

	if (s != NULL)
		return cfg_fail(c, s, "given, but \"null\" encrypts nothing and takes no key "
				"(RFC 2410); remove it");
	sa->enc_alg = DPSEC_ENC_NULL;
	sa->enc_key_len = 0;
	return 0;
}

static int sa_encryption(struct cfg_ctx *c, const config_setting_t *g, struct dpsec_sa_conf *sa,
			 const char **alg_name)
{
	uint8_t keymat[DPSEC_MAX_ENC_KEY + DPSEC_GCM_SALT_LEN];
	const struct cfg_enc *e;
	int rc;

	if (cfg_encryption(c, g, true, false, &e) < 0)
		return -1;
	*alg_name = e->name;
	if (e->alg == DPSEC_ENC_NULL)
		return sa_null_encryption(c, g, sa);
	rc = sa_key(c, g, "encryption_key", (size_t)e->key_len + e->salt_len, *alg_name,
		    e->key_layout, keymat);
	if (rc == 0) {
		sa->enc_alg = e->alg;
		sa->enc_key_len = e->key_len;
		memcpy(sa->enc_key, keymat, e->key_len);
		memcpy(sa->salt, keymat + e->key_len, e->salt_len);
	}
	explicit_bzero(keymat, sizeof keymat);
	return rc;
}

static int sa_integrity_aead(struct cfg_ctx *c, const config_setting_t *g, const char *enc,
			    int integ)
{
	const config_setting_t *s = config_setting_get_member(g, "integrity");

	if (integ != DPSEC_INTEG_NONE)
		return cfg_fail(c, s, "must be absent or \"none\" with %s, which authenticates "
				"by itself (RFC 4106, RFC 4309, RFC 4543, RFC 7634); got \"%s\"", enc,
				config_setting_get_string(s));
	s = config_setting_get_member(g, "integrity_key");
	if (s)
		return cfg_fail(c, s, "given, but %s takes no integrity key", enc);
	return 0;
}

static int sa_integrity(struct cfg_ctx *c, const config_setting_t *g, struct dpsec_sa_conf *sa,
			const char *enc)
{
	int integ = DPSEC_INTEG_NONE;
	int r = cfg_keyword(c, g, "integrity", false, cfg_integ_kw, &integ);

	if (r < 0)
		return -1;
	if (sa->protocol == DPSEC_PROTO_ESP && dpsec_enc_is_aead(sa->enc_alg))
		return sa_integrity_aead(c, g, enc, integ);
	if (r == 0)
		return cfg_fail_in(c, g, "integrity", "required with %s, which does not "
				   "authenticate; expected " INTEG_EXPECTED, enc);
	if (integ == DPSEC_INTEG_NONE)
		return cfg_fail(c, config_setting_get_member(g, "integrity"),
				"\"none\" with %s, which does not authenticate; expected "
				INTEG_EXPECTED, enc);
	sa->integ_alg = (uint8_t)integ;
	sa->integ_key_len = dpsec_integ_key_len((uint8_t)integ);
	return sa_key(c, g, "integrity_key", sa->integ_key_len, cfg_integ_name((uint8_t)integ),
		      cfg_integ_rfc((uint8_t)integ), sa->integ_key);
}

/* AH (RFC 4302) authenticates the packet and encrypts nothing. */
static int sa_ah(struct cfg_ctx *c, const config_setting_t *g, struct dpsec_sa_conf *sa)
{
	static const char *const no[] = { "encryption", "encryption_key", NULL };
	const config_setting_t *s;

	for (int i = 0; no[i] != NULL; i++)
		if ((s = config_setting_get_member(g, no[i])) != NULL)
			return cfg_fail(c, s, "given, but protocol \"ah\" encrypts nothing (RFC 4302); "
					"remove it, or use protocol \"esp\"");
	if (config_setting_get_member(g, "integrity") == NULL)
		return cfg_fail_in(c, g, "integrity", "required with protocol \"ah\"; expected "
				   INTEG_EXPECTED);
	return sa_integrity(c, g, sa, "protocol \"ah\"");
}

static int sa_protection(struct cfg_ctx *c, const config_setting_t *g, struct dpsec_sa_conf *sa)
{
	const char *enc;
	int proto = DPSEC_PROTO_ESP;

	if (cfg_keyword(c, g, "protocol", false, proto_kw, &proto) < 0)
		return -1;
	sa->protocol = (uint8_t)proto;
	if (proto == DPSEC_PROTO_AH)
		return sa_ah(c, g, sa);
	return sa_encryption(c, g, sa, &enc) || sa_integrity(c, g, sa, enc) ? -1 : 0;
}

static int sa_replay(struct cfg_ctx *c, const config_setting_t *g, struct dpsec_sa_conf *sa)
{
	long long v = DPSEC_REPLAY_DEFAULT;

	if (cfg_int(c, g, "replay_window", false, 0, DPSEC_REPLAY_MAX, &v) < 0 ||
	    cfg_bool(c, g, "esn", false, &sa->esn) < 0)
		return -1;
	sa->replay_window = (uint32_t)v;
	if (sa->esn && sa->replay_window == 0)
		return cfg_fail(c, config_setting_get_member(g, "esn"),
				"esn = true needs anti-replay, but replay_window is 0: the receiver "
				"infers the high 32 bits of the sequence number from its window "
				"(RFC 4303 §3.4.3)");
	return 0;
}

/* A UDP port of an encapsulated SA: 1..65535, DPSEC_NATT_PORT by default;
 * refused without encapsulation, where it would mean nothing. */
static int sa_udp_port(struct cfg_ctx *c, const config_setting_t *g, const char *field,
		       uint8_t encap, uint16_t *port)
{
	long long v = DPSEC_NATT_PORT;
	int r = cfg_int(c, g, field, false, 1, 65535, &v);

	if (r < 0)
		return -1;
	if (r > 0 && encap != DPSEC_ENCAP_UDP)
		return cfg_fail(c, config_setting_get_member(g, field),
				"given, but the SA has no UDP encapsulation; add encapsulation = \"udp\" "
				"or remove it");
	*port = encap == DPSEC_ENCAP_UDP ? (uint16_t)v : 0;
	return 0;
}

static int sa_encapsulation(struct cfg_ctx *c, const config_setting_t *g,
			    struct dpsec_sa_conf *sa)
{
	int encap = DPSEC_ENCAP_NONE;

	if (cfg_keyword(c, g, "encapsulation", false, encap_kw, &encap) < 0)
		return -1;
	sa->encap = (uint8_t)encap;
	if (sa_udp_port(c, g, "udp_source_port", sa->encap, &sa->udp_sport) < 0 ||
	    sa_udp_port(c, g, "udp_destination_port", sa->encap, &sa->udp_dport) < 0)
		return -1;
	return 0;
}

/* The outer IPv4 header's DF (RFC 4301 §8.1): a choice only a tunnel with
 * IPv4 endpoints has. */
static int sa_df_bit(struct cfg_ctx *c, const config_setting_t *g, struct dpsec_sa_conf *sa)
{
	int df = DPSEC_DF_COPY;
	int r = cfg_keyword(c, g, "df_bit", false, cfg_df_kw, &df);

	if (r < 0)
		return -1;
	if (r > 0 && (sa->mode != DPSEC_MODE_TUNNEL || sa->local.family != DPSEC_AF_INET))
		return cfg_fail(c, config_setting_get_member(g, "df_bit"),
				"only a tunnel-mode SA with IPv4 endpoints has an outer DF bit to "
				"choose; remove it");
	sa->df_bit = (uint8_t)df;
	return 0;
}

#define DSCP_WHAT "\"copy\" or a DSCP 0..63"

int cfg_dscp(struct cfg_ctx *c, const config_setting_t *g, bool *fixed, uint8_t *dscp)
{
	const config_setting_t *s;
	long long v;
	int r = cfg_member(c, g, "dscp", false, CFG_T_STR | CFG_T_INT, DSCP_WHAT, &s);

	*fixed = false;
	*dscp = 0;
	if (r <= 0)
		return r;
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (strcmp(config_setting_get_string(s), "copy") != 0)
			return cfg_fail(c, s, "expected " DSCP_WHAT ", got \"%.40s\"",
					config_setting_get_string(s));
		return 1;
	}
	v = cfg_int_value(s);
	if (v < 0 || v > 63)
		return cfg_fail(c, s, "%lld is out of range; expected " DSCP_WHAT, v);
	*fixed = true;
	*dscp = (uint8_t)v;
	return 1;
}

/* The outer header's DSCP: copied from the inner header, or fixed (RFC
 * 4301 §4.4.2.1's "bypass DSCP"); tunnel mode only. */
static int sa_dscp(struct cfg_ctx *c, const config_setting_t *g, struct dpsec_sa_conf *sa)
{
	int r = cfg_dscp(c, g, &sa->dscp_fixed, &sa->dscp);

	if (r > 0 && sa->mode != DPSEC_MODE_TUNNEL)
		return cfg_fail(c, config_setting_get_member(g, "dscp"),
				"only a tunnel-mode SA has an outer header; remove it");
	return r < 0 ? -1 : 0;
}

/* SA idx's (direction, SPI, address) as text, the name its key is
 * indexed by: the address's family and all its bytes, as cfg_addr_equal()
 * compares them. */
static void spi_key(struct cfg_ctx *c, uint32_t idx, const struct dpsec_addr *a)
{
	const struct dpsec_sa_conf *sa = &c->cfg->sas[idx];
	char *k = c->spi_keys[idx];
	int n = snprintf(k, DPSEC_NAME_MAX, "%u %08x %u ", sa->direction, sa->spi, a->family);

	for (size_t i = 0; i < sizeof(a->a); i++, n += 2)
		snprintf(k + n, DPSEC_NAME_MAX - (size_t)n, "%02x", a->a[i]);
}

/* Inbound SAs are found by (SPI, local), outbound ones by (SPI, remote). */
static int sa_spi_unique(struct cfg_ctx *c, const config_setting_t *g, uint32_t idx)
{
	const struct dpsec_sa_conf *sa = &c->cfg->sas[idx], *o;
	bool in = sa->direction == DPSEC_DIR_IN;
	char buf[CFG_ADDR_STRLEN];
	int i;

	spi_key(c, idx, in ? &sa->local : &sa->remote);
	i = cfg_names_add(&c->spi_names, c->spi_keys, sizeof(c->spi_keys[0]), idx);
	if (i == -2)
		return cfg_fail(c, g, "out of memory");
	if (i >= 0) {
		o = &c->cfg->sas[i];
		return cfg_fail(c, config_setting_get_member(g, "spi"),
				"SPI 0x%x with %s %s is already used by %s SA \"%s\"; (SPI, %s address) "
				"must be unique among %s SAs", sa->spi, in ? "local" : "remote",
				cfg_fmt_addr(in ? &sa->local : &sa->remote, buf), dir_name(sa->direction),
				o->name, in ? "local" : "remote", dir_name(sa->direction));
	}
	return 0;
}

static int load_sa(struct cfg_ctx *c, const config_setting_t *g, uint32_t idx)
{
	struct dpsec_sa_conf *sa = &c->cfg->sas[idx];
	int dir, mode;

	if (cfg_group(c, g, c->store ? store_sa_fields : sa_fields) || cfg_name(c, g, "name", true, sa->name) < 0 ||
	    cfg_unique(c, g, &c->sa_names, c->cfg->sas, sizeof *sa, idx, 0, "security association") ||
	    sa_spi(c, g, sa) || cfg_keyword(c, g, "direction", true, dir_kw, &dir) < 0 ||
	    cfg_keyword(c, g, "mode", true, mode_kw, &mode) < 0)
		return -1;
	sa->direction = (uint8_t)dir;
	sa->mode = (uint8_t)mode;
	if (sa_endpoints(c, g, sa) || sa_protection(c, g, sa) || sa_replay(c, g, sa) ||
	    sa_encapsulation(c, g, sa) || sa_df_bit(c, g, sa) || sa_dscp(c, g, sa))
		return -1;
	if (sa->protocol == DPSEC_PROTO_AH && sa->encap != DPSEC_ENCAP_NONE)
		return cfg_fail(c, config_setting_get_member(g, "encapsulation"),
				"\"udp\" with protocol \"ah\": AH cannot cross a NAT, its ICV covers "
				"the addresses (RFC 3948 encapsulates ESP only)");
	return sa_spi_unique(c, g, idx);
}

int cfg_load_sas(struct cfg_ctx *c, const config_setting_t *root)
{
	const config_setting_t *l;
	uint32_t i, n;
	int r = cfg_list(c, root, "security_associations", false, 0, CFG_MAX_SAS, &l);

	cfg_names_free(&c->sa_names);
	if (r <= 0)
		return r;
	n = (uint32_t)config_setting_length(l);
	c->cfg->sas = calloc(n ? n : 1, sizeof *c->cfg->sas);
	c->spi_keys = calloc(n ? n : 1, sizeof(*c->spi_keys));
	if (!c->cfg->sas || !c->spi_keys)
		r = cfg_fail(c, l, "out of memory");
	else
		c->cfg->n_sas = n;
	for (i = 0; r >= 0 && i < n; i++)
		if (load_sa(c, config_setting_get_elem(l, i), i))
			r = -1;
	free(c->spi_keys);
	c->spi_keys = NULL;
	cfg_names_free(&c->spi_names);
	return r < 0 ? -1 : 0;
}
