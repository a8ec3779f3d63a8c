/* cp_out.c - the reply buffer and the JSON writer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cp_out.h"

void cp_out_printf(struct cp_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = o->cap - o->len;

		va_start(ap, fmt);
		n = vsnprintf(o->buf ? o->buf + o->len : NULL, o->buf ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0 || o->oom)
			return;
		if (o->buf && (size_t)n < room) {
			o->len += (size_t)n;
			return;
		}
		size_t cap = o->cap ? o->cap * 2 : 4096;

		while (cap < o->len + (size_t)n + 1)
			cap *= 2;
		char *b = realloc(o->buf, cap);

		if (b == NULL) {
			o->oom = true;
			return;
		}
		o->buf = b;
		o->cap = cap;
	}
}

void cp_out_free(struct cp_out *o)
{
	free(o->buf);
	memset(o, 0, sizeof(*o));
}

static void json_escaped(struct cp_out *o, const char *s)
{
	cp_out_printf(o, "\"");
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			cp_out_printf(o, "\\%c", ch);
		else if (ch < 0x20)
			cp_out_printf(o, "\\u%04x", ch);
		else
			cp_out_printf(o, "%c", ch);
	}
	cp_out_printf(o, "\"");
}

static void json_key(struct cp_out *o, const char *key)
{
	if (o->need_comma)
		cp_out_printf(o, ", ");
	if (key != NULL) {
		json_escaped(o, key);
		cp_out_printf(o, ": ");
	}
	o->need_comma = true;
}

void cp_json_open(struct cp_out *o, const char *key, char bracket)
{
	json_key(o, key);
	cp_out_printf(o, "%c", bracket);
	o->need_comma = false;
}

void cp_json_close(struct cp_out *o, char bracket)
{
	cp_out_printf(o, "%c", bracket);
	o->need_comma = true;
}

void cp_json_str(struct cp_out *o, const char *key, const char *v)
{
	json_key(o, key);
	json_escaped(o, v);
}

void cp_json_u64(struct cp_out *o, const char *key, uint64_t v)
{
	json_key(o, key);
	cp_out_printf(o, "%llu", (unsigned long long)v);
}

void cp_json_bool(struct cp_out *o, const char *key, bool v)
{
	json_key(o, key);
	cp_out_printf(o, "%s", v ? "true" : "false");
}
