/* cfg_field.c - typed access to libconfig settings for the loader. Every
 * getter checks presence, type, length and range, and on failure writes one
 * "FILE:LINE: FIELD: problem" message saying what was expected and what was
 * found; FIELD is the dotted path, e.g. policy.rules.[0].filter_list. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cfg_priv.h"

#define PATH_MAX_LEN 256

static void append(char *buf, size_t size, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (n > size - 1 - *len)
		n = size - 1 - *len; /* truncate, keep the NUL */
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
}

static void path_of(const config_setting_t *s, char *buf, size_t size, size_t *len)
{
	const config_setting_t *parent = config_setting_parent(s);
	char idx[16];

	if (!parent)
		return; /* the root has no name */
	path_of(parent, buf, size, len);
	if (*len)
		append(buf, size, len, ".");
	if (config_setting_name(s)) {
		append(buf, size, len, config_setting_name(s));
	} else {
		snprintf(idx, sizeof idx, "[%d]", config_setting_index(s));
		append(buf, size, len, idx);
	}
}

/* The file a setting came from, as the user can open it: libconfig names
 * an @include'd file as written, relative to the include directory. */
const char *cfg_file_name(const struct cfg_ctx *c, const char *file, char *buf, size_t size)
{
	if (!file)
		return c->path[0] ? c->path : "(built-in policies)";
	if (file[0] == '/' || !c->dir || strcmp(c->dir, ".") == 0)
		return file;
	if (snprintf(buf, size, "%s/%s", c->dir, file) >= (int)size)
		return file;
	return buf;
}

static int vfail(struct cfg_ctx *c, const config_setting_t *s, const char *field,
		 const char *fmt, va_list ap)
{
	char path[PATH_MAX_LEN] = "", msg[CFG_ERR_MAX], fbuf[CFG_ERR_MAX];
	const char *file = cfg_file_name(c, config_setting_source_file(s), fbuf, sizeof fbuf);
	unsigned line = config_setting_source_line(s);
	size_t len = 0;

	path_of(s, path, sizeof path, &len);
	if (field) {
		if (len)
			append(path, sizeof path, &len, ".");
		append(path, sizeof path, &len, field);
	}
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (snprintf(c->err, CFG_ERR_MAX, "%s:%u: %s: %s", file, line ? line : 1, path, msg) >=
	    CFG_ERR_MAX)
		strcpy(c->err + CFG_ERR_MAX - 4, "..."); /* say it was cut */
	return -1;
}

int cfg_fail(struct cfg_ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(c, s, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

int cfg_fail_in(struct cfg_ctx *c, const config_setting_t *g, const char *field,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(c, g, field, fmt, ap);
	va_end(ap);
	return -1;
}

const char *cfg_type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group { ... }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a floating-point number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array [ ... ]";
	case CONFIG_TYPE_LIST:
		return "a list ( ... )";
	default:
		return "nothing";
	}
}

static bool in_list(const char *const *names, const char *name)
{
	for (; *names; names++)
		if (strcmp(*names, name) == 0)
			return true;
	return false;
}

static void join(const char *const *names, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (; *names; names++) {
		if (len)
			append(buf, size, &len, ", ");
		append(buf, size, &len, *names);
	}
}

/* s must be a group whose members all appear in fields (NULL-terminated). */
int cfg_group(struct cfg_ctx *c, const config_setting_t *s, const char *const *fields)
{
	const config_setting_t *m;
	char known[256];
	int i;

	if (!config_setting_is_group(s))
		return cfg_fail(c, s, "expected a group { ... }, got %s", cfg_type_name(s));
	for (i = 0; i < config_setting_length(s); i++) {
		m = config_setting_get_elem(s, (unsigned)i);
		if (in_list(fields, config_setting_name(m)))
			continue;
		join(fields, known, sizeof known);
		return cfg_fail(c, m, "unknown field '%s'; expected one of: %s",
				config_setting_name(m), known);
	}
	return 0;
}

int cfg_member(struct cfg_ctx *c, const config_setting_t *g, const char *name, bool req,
	       unsigned types, const char *what, const config_setting_t **out)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	*out = s;
	if (!s)
		return req ? cfg_fail_in(c, g, name, "required field missing (expected %s)", what)
			   : 0;
	if (!(types & CFG_T((unsigned)config_setting_type(s)))) {
		if (config_setting_type(s) == CONFIG_TYPE_STRING)
			return cfg_fail(c, s, "expected %s, got a string (\"%.40s\")", what,
					config_setting_get_string(s));
		return cfg_fail(c, s, "expected %s, got %s", what, cfg_type_name(s));
	}
	return 1;
}

/* A list (or array) member with min..max elements. */
int cfg_list(struct cfg_ctx *c, const config_setting_t *g, const char *name, bool req,
	     uint32_t min, uint32_t max, const config_setting_t **out)
{
	int r = cfg_member(c, g, name, req, CFG_T_SEQ, "a list ( ... )", out);
	uint32_t n;

	if (r <= 0)
		return r;
	n = (uint32_t)config_setting_length(*out);
	if (n == 0 && min > 0)
		return cfg_fail(c, *out, "empty list; expected %u..%u entries", min, max);
	if (n < min || n > max)
		return cfg_fail(c, *out, "%u entries; expected %u..%u", n, min, max);
	return 1;
}

static int check_text(struct cfg_ctx *c, const config_setting_t *s, const char *v,
		      size_t maxlen)
{
	size_t i, len = strlen(v);

	if (len == 0)
		return cfg_fail(c, s, "empty string; expected 1..%zu characters", maxlen);
	if (len > maxlen)
		return cfg_fail(c, s, "%zu characters; at most %zu allowed", len, maxlen);
	for (i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return cfg_fail(c, s, "character %zu is a control character", i + 1);
	return 0;
}

/* A string of 1..maxlen printable characters. */
int cfg_str(struct cfg_ctx *c, const config_setting_t *g, const char *name, bool req,
	    size_t maxlen, const char **out)
{
	const config_setting_t *s;
	int r = cfg_member(c, g, name, req, CFG_T_STR, "a string", &s);

	if (r <= 0)
		return r;
	*out = config_setting_get_string(s);
	if (check_text(c, s, *out, maxlen))
		return -1;
	return 1;
}

/* libconfig 1.5 keeps 0x80000000..0xffffffff as negative ints: read hex as
 * unsigned 32-bit so that spi = 0xffffffff means what it says. */
long long cfg_int_value(const config_setting_t *s)
{
	if (config_setting_type(s) == CONFIG_TYPE_INT &&
	    config_setting_get_format(s) == CONFIG_FORMAT_HEX)
		return (long long)(uint32_t)config_setting_get_int(s);
	return config_setting_get_int64(s);
}

int cfg_int(struct cfg_ctx *c, const config_setting_t *g, const char *name, bool req,
	    long long lo, long long hi, long long *out)
{
	const config_setting_t *s;
	int r = cfg_member(c, g, name, req, CFG_T_INT, "an integer", &s);

	if (r <= 0)
		return r;
	*out = cfg_int_value(s);
	if (*out < lo || *out > hi)
		return cfg_fail(c, s, "%lld is out of range; expected %lld..%lld", *out, lo, hi);
	return 1;
}

int cfg_bool(struct cfg_ctx *c, const config_setting_t *g, const char *name, bool req,
	     bool *out)
{
	const config_setting_t *s;
	int r = cfg_member(c, g, name, req, CFG_T_BOOL, "true or false", &s);

	if (r <= 0)
		return r;
	*out = config_setting_get_bool(s) != 0;
	return 1;
}

static void kw_choices(const struct cfg_kw *kw, char *buf, size_t size)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; kw[i].name; i++) {
		if (i > 0)
			append(buf, size, &len, kw[i + 1].name ? ", " : (i > 1 ? ", or " : " or "));
		append(buf, size, &len, "\"");
		append(buf, size, &len, kw[i].name);
		append(buf, size, &len, "\"");
	}
}

int cfg_keyword(struct cfg_ctx *c, const config_setting_t *g, const char *name, bool req,
		const struct cfg_kw *kw, int *out)
{
	const config_setting_t *s;
	char choices[512];
	const char *v;
	int i, r;

	kw_choices(kw, choices, sizeof choices);
	r = cfg_member(c, g, name, req, CFG_T_STR, choices, &s);
	if (r <= 0)
		return r;
	v = config_setting_get_string(s);
	for (i = 0; kw[i].name; i++) {
		if (strcmp(kw[i].name, v) == 0) {
			*out = kw[i].value;
			return 1;
		}
	}
	return cfg_fail(c, s, "expected %s, got \"%.40s\"", choices, v);
}

int cfg_find_name(const void *base, size_t stride, uint32_t n, const char *name)
{
	const char *p = base;
	uint32_t i;

	for (i = 0; i < n; i++, p += stride)
		if (strncmp(p, name, DPSEC_NAME_MAX) == 0)
			return (int)i;
	return -1;
}

/* A name: 1..DPSEC_NAME_MAX - 1 printable characters. */
int cfg_name(struct cfg_ctx *c, const config_setting_t *g, const char *name, bool req,
	     char out[DPSEC_NAME_MAX])
{
	const char *v;
	int r = cfg_str(c, g, name, req, DPSEC_NAME_MAX - 1, &v);

	if (r == 1)
		strcpy(out, v);
	return r;
}

int cfg_unique(struct cfg_ctx *c, const config_setting_t *g, struct cfg_names *x,
	       const void *base, size_t stride, uint32_t idx, uint32_t first, const char *kind)
{
	const char *name = (const char *)base + (size_t)idx * stride;
	const config_setting_t *earlier;
	int i = cfg_names_add(x, base, stride, idx);

	if (i == -1)
		return 0;
	if (i == -2)
		return cfg_fail(c, g, "out of memory");
	earlier = config_setting_get_elem(config_setting_parent(g), (unsigned)i - first);
	return cfg_fail(c, config_setting_get_member(g, "name"),
			"duplicate %s name \"%s\" (first defined at line %u)", kind, name,
			config_setting_source_line(earlier));
}

int cfg_ref(struct cfg_ctx *c, const config_setting_t *g, const char *name, bool req,
	    const struct cfg_names *x, const void *base, size_t stride, uint32_t n,
	    const char *kind, uint32_t *idx)
{
	char ref[DPSEC_NAME_MAX];
	int i, r = cfg_name(c, g, name, req, ref);

	if (r <= 0)
		return r;
	i = cfg_names_find(x, base, stride, n, ref);
	if (i < 0)
		return cfg_fail(c, config_setting_get_member(g, name), "no %s named \"%s\"", kind,
				ref);
	*idx = (uint32_t)i;
	return 1;
}

int cfg_addr(struct cfg_ctx *c, const config_setting_t *g, const char *name, bool req,
	     struct dpsec_addr *out)
{
	const config_setting_t *s;
	const char *v;
	int r = cfg_str(c, g, name, req, CFG_ADDR_STRLEN, &v);

	if (r <= 0)
		return r;
	s = config_setting_get_member(g, name);
	if (cfg_parse_addr(v, out))
		return cfg_fail(c, s, "expected an IPv4 or IPv6 address, got \"%s\"", v);
	return 1;
}

/* A network prefix: host bits must be zero. */
int cfg_net_prefix(struct cfg_ctx *c, const config_setting_t *g, const char *name, bool req,
		   struct dpsec_prefix *out)
{
	char buf[CFG_ADDR_STRLEN];
	struct dpsec_prefix net;
	const config_setting_t *s;
	const char *v, *why;
	int r = cfg_str(c, g, name, req, CFG_ADDR_STRLEN, &v);

	if (r <= 0)
		return r;
	s = config_setting_get_member(g, name);
	if (cfg_prefix_parse(v, out, &why))
		return cfg_fail(c, s, "\"%s\": %s; expected ADDR/LEN such as \"10.1.0.0/24\" or "
				"\"fd00:1::/64\"", v, why);
	cfg_prefix_mask(out, &net);
	if (!cfg_prefix_equal(out, &net))
		return cfg_fail(c, s, "host bits set in \"%s\"; did you mean \"%s\"?", v,
				cfg_fmt_prefix(&net, buf));
	return 1;
}
