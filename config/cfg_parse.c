/* cfg_parse.c - string parsers shared by the config loader, the CLI and the
 * tests: IPv4/IPv6 addresses and prefixes, MAC addresses, hex key material,
 * filter action names, and the formatting the loader's messages use. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "cfg_priv.h"

static int hex_val(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static const char *hex_digits(const char *s)
{
	return (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? s + 2 : s;
}

int cfg_parse_addr(const char *s, struct dpsec_addr *out)
{
	struct dpsec_addr a = { 0 };

	if (!s || !out)
		return -1;
	if (inet_pton(AF_INET, s, a.a) == 1)
		a.family = DPSEC_AF_INET;
	else if (inet_pton(AF_INET6, s, a.a) == 1)
		a.family = DPSEC_AF_INET6;
	else
		return -1;
	*out = a;
	return 0;
}

static int parse_prefix_len(const char *s, unsigned *len)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 3)
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (i == 0)
		return -1;
	*len = v;
	return 0;
}

/* Parses "ADDR/LEN"; on failure *why says what is wrong. Host bits may be
 * set: the caller decides whether that is an error. */
int cfg_prefix_parse(const char *s, struct dpsec_prefix *out, const char **why)
{
	char buf[INET6_ADDRSTRLEN];
	struct dpsec_prefix p = { 0 };
	const char *slash = s ? strchr(s, '/') : NULL;
	unsigned len;

	*why = NULL;
	if (!slash) {
		*why = "no prefix length";
		return -1;
	}
	if ((size_t)(slash - s) >= sizeof buf) {
		*why = "not an IPv4 or IPv6 address before '/'";
		return -1;
	}
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (cfg_parse_addr(buf, &p.addr)) {
		*why = "not an IPv4 or IPv6 address before '/'";
		return -1;
	}
	if (parse_prefix_len(slash + 1, &len)) {
		*why = "the prefix length after '/' is not a decimal number";
		return -1;
	}
	if (len > (p.addr.family == DPSEC_AF_INET ? 32u : 128u)) {
		*why = p.addr.family == DPSEC_AF_INET ? "prefix length above 32 for IPv4"
						      : "prefix length above 128 for IPv6";
		return -1;
	}
	p.len = (uint8_t)len;
	*out = p;
	return 0;
}

int cfg_parse_prefix(const char *s, struct dpsec_prefix *out)
{
	const char *why;

	if (!out)
		return -1;
	return cfg_prefix_parse(s, out, &why);
}

void cfg_prefix_mask(const struct dpsec_prefix *in, struct dpsec_prefix *out)
{
	unsigned i, bits = in->len;

	*out = *in;
	for (i = 0; i < sizeof out->addr.a; i++) {
		if (bits >= 8) {
			bits -= 8;
			continue;
		}
		out->addr.a[i] &= (uint8_t)(0xff00u >> bits); /* keep the top bits */
		bits = 0;
	}
}

bool cfg_addr_equal(const struct dpsec_addr *a, const struct dpsec_addr *b)
{
	return a->family == b->family && memcmp(a->a, b->a, sizeof a->a) == 0;
}

bool cfg_prefix_equal(const struct dpsec_prefix *a, const struct dpsec_prefix *b)
{
	return a->len == b->len && cfg_addr_equal(&a->addr, &b->addr);
}

int cfg_parse_mac(const char *s, uint8_t mac[6])
{
	uint8_t m[6];
	int i, hi, lo;

	if (!s || !mac || strnlen(s, 18) != 17)
		return -1;
	for (i = 0; i < 6; i++) {
		hi = hex_val(s[3 * i]);
		lo = hex_val(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -1;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, m, sizeof m);
	return 0;
}

/* Checks s as hex ("0x" optional): on CFG_HEX_OK *nbytes is its length in
 * bytes; on CFG_HEX_BAD_CHAR *bad_pos is the offset of the culprit in s. */
enum cfg_hex_status cfg_hex_scan(const char *s, size_t *nbytes, size_t *bad_pos)
{
	const char *d = hex_digits(s);
	size_t i;

	for (i = 0; d[i]; i++) {
		if (hex_val(d[i]) < 0) {
			*bad_pos = (size_t)(d - s) + i;
			return CFG_HEX_BAD_CHAR;
		}
	}
	if (i % 2)
		return CFG_HEX_ODD;
	*nbytes = i / 2;
	return CFG_HEX_OK;
}

int cfg_parse_hex(const char *s, uint8_t *out, size_t max, size_t *len)
{
	const char *d;
	size_t i, n, bad;

	if (!s || !out || !len || cfg_hex_scan(s, &n, &bad) != CFG_HEX_OK || n > max)
		return -1;
	d = hex_digits(s);
	for (i = 0; i < n; i++)
		out[i] = (uint8_t)(hex_val(d[2 * i]) << 4 | hex_val(d[2 * i + 1]));
	*len = n;
	return 0;
}

const char *cfg_df_bit_name(uint8_t df_bit)
{
	return df_bit == DPSEC_DF_SET ? "set" : df_bit == DPSEC_DF_CLEAR ? "clear" : "copy";
}

const char *cfg_action_name(uint8_t action)
{
	switch (action) {
	case DPSEC_ACTION_PERMIT:
		return "permit";
	case DPSEC_ACTION_BLOCK:
		return "block";
	case DPSEC_ACTION_NEGOTIATE:
		return "negotiate";
	default:
		return "unknown";
	}
}

const char *cfg_family_name(uint8_t family)
{
	switch (family) {
	case DPSEC_AF_INET:
		return "IPv4";
	case DPSEC_AF_INET6:
		return "IPv6";
	default:
		return "no family";
	}
}

const char *cfg_fmt_addr(const struct dpsec_addr *a, char buf[CFG_ADDR_STRLEN])
{
	int af = a->family == DPSEC_AF_INET6 ? AF_INET6 : AF_INET;

	if (a->family == DPSEC_AF_NONE || !inet_ntop(af, a->a, buf, CFG_ADDR_STRLEN))
		strcpy(buf, "(none)");
	return buf;
}

const char *cfg_fmt_prefix(const struct dpsec_prefix *p, char buf[CFG_ADDR_STRLEN])
{
	size_t n = strlen(cfg_fmt_addr(&p->addr, buf));

	if (snprintf(buf + n, CFG_ADDR_STRLEN - n, "/%u", p->len) < 0)
		buf[n] = '\0';
	return buf;
}
