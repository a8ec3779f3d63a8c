/* ike_test_util.h - helpers shared by test_ike_codec.c and
 * test_isakmp_codec.c: hex strings to bytes, the scapy vectors of this
 * directory, and the mutation table that turns one valid message into
 * each malformed one. */
#ifndef IKE_TEST_UTIL_H
#define IKE_TEST_UTIL_H

#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Hex (spaces allowed) to bytes; returns the byte count. */
static inline size_t hex2bin(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*hex) {
		unsigned v;

		if (isspace((unsigned char)*hex)) {
			hex++;
			continue;
		}
		ck_assert_msg(sscanf(hex, "%2x", &v) == 1 && n < cap, "bad hex near '%.8s'", hex);
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

/* tests/unit/ike_vectors/NAME.hex, written by make_vectors.py. */
static inline size_t load_vector(const char *name, uint8_t *out, size_t cap)
{
	char path[512], *text = malloc(2 * cap + 2);
	FILE *f;
	size_t n;

	ck_assert_ptr_nonnull(text);
	snprintf(path, sizeof(path), "%s/%s.hex", IKE_VECTORS_DIR, name);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	n = fread(text, 1, 2 * cap + 1, f);
	fclose(f);
	text[n] = '\0';
	n = hex2bin(text, out, cap);
	free(text);
	return n;
}

/* One malformed input: a valid base message with one change. */
enum mut_kind { MUT_U8, MUT_U16, MUT_U32, MUT_TRUNCATE, MUT_APPEND };

struct mutation {
	const char *name;
	enum mut_kind kind;
	size_t off;     /* MUT_U8/16/32: where */
	uint32_t value; /* the new field value, the truncated length, or bytes appended */
	int code;       /* expected negative errno */
	const char *fragment; /* expected in err.msg */
	uint16_t notify;      /* expected err.notify (0: not checked) */
};

/* Applies m to a copy of base; MUT_APPEND also fixes the header length. */
static inline size_t mutate(const uint8_t *base, size_t len, const struct mutation *m, uint8_t *out)
{
	memcpy(out, base, len);
	switch (m->kind) {
	case MUT_U8:
		out[m->off] = (uint8_t)m->value;
		break;
	case MUT_U16:
		out[m->off] = (uint8_t)(m->value >> 8);
		out[m->off + 1] = (uint8_t)m->value;
		break;
	case MUT_U32:
		for (int i = 0; i < 4; i++)
			out[m->off + i] = (uint8_t)(m->value >> (24 - 8 * i));
		break;
	case MUT_TRUNCATE:
		return m->value;
	case MUT_APPEND:
		memset(out + len, 0, m->value);
		len += m->value;
		for (int i = 0; i < 4; i++)
			out[24 + i] = (uint8_t)(len >> (24 - 8 * i));
		break;
	}
	return len;
}

/* Simple deterministic PRNG for the random round trips (xorshift32). */
static inline uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static inline void rnd_bytes(uint32_t *s, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd(s);
}

#endif
