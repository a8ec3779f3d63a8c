/* ike_ref.h - runs ike_crypto_ref.py, the independent Python reference of
 * the IKE key schedule, from a Check test: build one command of several
 * operations (ref_op(), ref_add(), ref_hex()), run it once (ref_run()),
 * then compare its values in order (ref_expect()) and check that every
 * one was used (ref_done()). Shared by test_ike_prf.c, test_ike_dh.c,
 * test_ike_sk.c, test_ike_v1.c, test_ikev1_main.c and test_ikev2_keys.c;
 * needs IKE_PYTHON and IKE_CRYPTO_REF (meson). */
#ifndef IKE_REF_H
#define IKE_REF_H

#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike_keys.h"
#include "ike_test_util.h"

/* One run of it: several operations (each started with ref_op()), their
 * values read back in order with ref_expect(). */
struct ref {
	char *cmd;
	size_t len, cap;
	uint8_t *out; /* after ref_run(): every value, concatenated */
	size_t out_len, used;
};

#define REF_OUT_MAX (1 << 16)

static inline void ref_add(struct ref *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void ref_add(struct ref *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(r->cmd + r->len, r->cap - r->len, fmt, ap);
	va_end(ap);
	ck_assert_msg(n >= 0 && (size_t)n < r->cap - r->len, "reference command too long");
	r->len += (size_t)n;
}

/* Starts a command line (r->cmd NULL) or adds an operation to it. */
static inline void ref_op(struct ref *r, const char *op)
{
	if (r->cmd == NULL) {
		*r = (struct ref){ .cap = 1 << 20 };
		r->cmd = malloc(r->cap);
		ck_assert_ptr_nonnull(r->cmd);
		ref_add(r, "%s %s %s", IKE_PYTHON, IKE_CRYPTO_REF, op);
	} else {
		ref_add(r, " -- %s", op);
	}
}

static inline void ref_hex(struct ref *r, const uint8_t *p, size_t n)
{
	ref_add(r, " %s", n ? "" : "-");
	for (size_t i = 0; i < n; i++)
		ref_add(r, "%02x", p[i]);
}

static inline void ref_run(struct ref *r)
{
	FILE *f = popen(r->cmd, "r");
	size_t tcap = 2 * REF_OUT_MAX + 1024, n;
	char *text = malloc(tcap + 1);
	int status;

	ck_assert_msg(f != NULL && text != NULL, "cannot run %.200s", r->cmd);
	n = fread(text, 1, tcap, f);
	text[n] = '\0';
	status = pclose(f);
	ck_assert_msg(status == 0, "reference script failed (status %d; python3 with scapy needed): %.300s",
		      status, r->cmd);
	r->out = malloc(REF_OUT_MAX);
	ck_assert_ptr_nonnull(r->out);
	r->out_len = hex2bin(text, r->out, REF_OUT_MAX);
	free(text);
}

/* The next n bytes of the reference's values. */
static inline const uint8_t *ref_take(struct ref *r, size_t n, const char *what)
{
	const uint8_t *p = r->out + r->used;

	ck_assert_msg(r->used + n <= r->out_len, "%s: the reference gave %zu bytes, %zu wanted", what,
		      r->out_len - r->used, n);
	r->used += n;
	return p;
}

/* The next n bytes of the reference's values must be got. */
static inline void ref_expect(struct ref *r, const void *got, size_t n, const char *what)
{
	ck_assert_msg(memcmp(got, ref_take(r, n, what), n) == 0, "%s differs from the reference",
		      what);
}

/* Every value was compared; ready for the next command. */
static inline void ref_done(struct ref *r)
{
	ck_assert_msg(r->used == r->out_len, "the reference gave %zu bytes, %zu compared", r->out_len,
		      r->used);
	free(r->cmd);
	free(r->out);
	*r = (struct ref){ 0 };
}

static inline const char *md_name(uint16_t prf)
{
	switch (prf) {
	case IKE_PRF_HMAC_MD5:
		return "md5";
	case IKE_PRF_HMAC_SHA1:
		return "sha1";
	case IKE_PRF_HMAC_SHA2_256:
		return "sha256";
	case IKE_PRF_HMAC_SHA2_384:
		return "sha384";
	case IKE_PRF_AES128_XCBC:
		return "aesxcbc";
	case IKE_PRF_AES128_CMAC:
		return "aescmac";
	default:
		return "sha512";
	}
}

#endif
