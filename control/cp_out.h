/* cp_out.h - a growing text buffer and a small JSON writer for the replies
 * of the management socket (and dpsecctl's own output). JSON strings are
 * escaped; numbers are integers. */
#ifndef CP_OUT_H
#define CP_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cp_out {
	char *buf;
	size_t len, cap;
	bool oom;
	bool json;
	bool need_comma; /* JSON: a value was written at this level */
};

void cp_out_printf(struct cp_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cp_out_free(struct cp_out *o);

/* JSON: objects and arrays, keys, values. key NULL inside an array. */
void cp_json_open(struct cp_out *o, const char *key, char bracket);
void cp_json_close(struct cp_out *o, char bracket);
void cp_json_str(struct cp_out *o, const char *key, const char *v);
void cp_json_u64(struct cp_out *o, const char *key, uint64_t v);
void cp_json_bool(struct cp_out *o, const char *key, bool v);

#endif
