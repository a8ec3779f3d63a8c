/* ike_buf.c - the bounds-checked reader/writer and error record of the IKE
 * codec (see ike_buf.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ike_buf.h"

int ike_fail(struct ike_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	err->notify = 0;
	err->detail = 0;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void ike_rd_init(struct ike_rd *r, const uint8_t *p, size_t len, const char *what,
		 struct ike_err *err)
{
	*r = (struct ike_rd){ .p = p, .len = len, .what = what, .err = err };
}

static int need(struct ike_rd *r, const char *field, size_t n)
{
	if (n <= ike_rd_left(r))
		return 0;
	return ike_fail(r->err, -EBADMSG, "%s: %s needs %zu bytes, %zu left", r->what, field,
			n, ike_rd_left(r));
}

int ike_rd_u8(struct ike_rd *r, const char *field, uint8_t *v)
{
	if (need(r, field, 1))
		return -EBADMSG;
	*v = r->p[r->off++];
	return 0;
}

int ike_rd_u16(struct ike_rd *r, const char *field, uint16_t *v)
{
	if (need(r, field, 2))
		return -EBADMSG;
	*v = ike_get16(r->p + r->off);
	r->off += 2;
	return 0;
}

int ike_rd_u32(struct ike_rd *r, const char *field, uint32_t *v)
{
	if (need(r, field, 4))
		return -EBADMSG;
	*v = ike_get32(r->p + r->off);
	r->off += 4;
	return 0;
}

int ike_rd_u64(struct ike_rd *r, const char *field, uint64_t *v)
{
	if (need(r, field, 8))
		return -EBADMSG;
	*v = (uint64_t)ike_get32(r->p + r->off) << 32 | ike_get32(r->p + r->off + 4);
	r->off += 8;
	return 0;
}

int ike_rd_skip(struct ike_rd *r, const char *field, size_t n)
{
	if (need(r, field, n))
		return -EBADMSG;
	r->off += n;
	return 0;
}

int ike_rd_copy(struct ike_rd *r, const char *field, void *dst, size_t n)
{
	if (need(r, field, n))
		return -EBADMSG;
	memcpy(dst, r->p + r->off, n);
	r->off += n;
	return 0;
}

int ike_rd_bytes(struct ike_rd *r, const char *field, size_t n, const uint8_t **p)
{
	if (need(r, field, n))
		return -EBADMSG;
	*p = r->p + r->off;
	r->off += n;
	return 0;
}

int ike_rd_len_ok(struct ike_rd *r, const char *field, size_t claimed, size_t min)
{
	if (claimed < min)
		return ike_fail(r->err, -EBADMSG, "%s: %s %zu is shorter than its %zu-byte header",
				r->what, field, claimed, min);
	if (claimed > ike_rd_left(r))
		return ike_fail(r->err, -EBADMSG, "%s: %s %zu exceeds the %zu bytes left", r->what,
				field, claimed, ike_rd_left(r));
	return 0;
}

int ike_rd_sub(struct ike_rd *r, const char *field, size_t n, struct ike_rd *sub,
	       const char *sub_what)
{
	if (n > ike_rd_left(r))
		return ike_fail(r->err, -EBADMSG, "%s: %s %zu exceeds the %zu bytes left", r->what,
				field, n, ike_rd_left(r));
	ike_rd_init(sub, r->p + r->off, n, sub_what, r->err);
	r->off += n;
	return 0;
}

int ike_rd_struct(struct ike_rd *r, const char *len_field, size_t min, uint8_t *a,
		  uint8_t *b, struct ike_rd *body, const char *body_what)
{
	size_t start = r->off;
	uint16_t len;

	if (ike_rd_u8(r, "header", a) || ike_rd_u8(r, "header", b) ||
	    ike_rd_u16(r, len_field, &len))
		return -EBADMSG;
	r->off = start;
	if (ike_rd_len_ok(r, len_field, len, min))
		return -EBADMSG;
	r->off = start + 4;
	return ike_rd_sub(r, len_field, len - 4u, body, body_what);
}

void ike_wr_init(struct ike_wr *w, uint8_t *p, size_t cap)
{
	*w = (struct ike_wr){ .p = p, .cap = cap };
}

uint8_t *ike_wr_reserve(struct ike_wr *w, size_t n)
{
	uint8_t *at;

	if (w->overflow || n > w->cap - w->len) {
		w->overflow = true;
		return NULL;
	}
	at = w->p + w->len;
	w->len += n;
	return at;
}

void ike_wr_bytes(struct ike_wr *w, const void *src, size_t n)
{
	uint8_t *at = ike_wr_reserve(w, n);

	if (at != NULL && n > 0)
		memcpy(at, src, n);
}

void ike_wr_zero(struct ike_wr *w, size_t n)
{
	uint8_t *at = ike_wr_reserve(w, n);

	if (at != NULL)
		memset(at, 0, n);
}

void ike_wr_u8(struct ike_wr *w, uint8_t v)
{
	ike_wr_bytes(w, &v, 1);
}

void ike_wr_u16(struct ike_wr *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	ike_wr_bytes(w, b, 2);
}

void ike_wr_u32(struct ike_wr *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	ike_wr_bytes(w, b, 4); /* all or nothing */
}

void ike_wr_u64(struct ike_wr *w, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	ike_wr_bytes(w, b, 8);
}

void ike_wr_put_u8(struct ike_wr *w, size_t at, uint8_t v)
{
	if (at < w->len)
		w->p[at] = v;
}

void ike_wr_put_u16(struct ike_wr *w, size_t at, uint16_t v)
{
	if (at + 2 <= w->len) {
		w->p[at] = (uint8_t)(v >> 8);
		w->p[at + 1] = (uint8_t)v;
	}
}

void ike_wr_put_u32(struct ike_wr *w, size_t at, uint32_t v)
{
	ike_wr_put_u16(w, at, (uint16_t)(v >> 16));
	ike_wr_put_u16(w, at + 2, (uint16_t)v);
}

int ike_wr_done(const struct ike_wr *w, const char *what, struct ike_err *err)
{
	if (!w->overflow)
		return 0;
	return ike_fail(err, -ENOSPC, "%s: does not fit the %zu-byte output buffer", what,
			w->cap);
}

size_t ike_chain_open(struct ike_chain *c, uint8_t type, uint8_t flags)
{
	size_t start = c->w.len;

	if (c->sealed && c->misuse == NULL)
		c->misuse = "a payload was added after the encrypted payload";
	ike_wr_put_u8(&c->w, c->next_at, type);
	c->next_at = start;
	ike_wr_u8(&c->w, 0);
	ike_wr_u8(&c->w, flags);
	ike_wr_u16(&c->w, 0);
	return start;
}

void ike_chain_close(struct ike_chain *c, size_t start)
{
	size_t len = c->w.len - start;

	if (len > UINT16_MAX && c->misuse == NULL)
		c->misuse = "a payload exceeds 65535 bytes";
	ike_wr_put_u16(&c->w, start + 2, (uint16_t)len);
}

int ike_chain_done(const struct ike_chain *c, const char *what, struct ike_err *err)
{
	if (c->misuse)
		return ike_fail(err, -EINVAL, "%s: %s", what, c->misuse);
	return ike_wr_done(&c->w, what, err);
}

void ike_sb_init(struct ike_sb *sb, char *p, size_t cap)
{
	*sb = (struct ike_sb){ .p = p, .cap = cap };
	if (cap > 0)
		p[0] = '\0';
}

void ike_sb_add(struct ike_sb *sb, const char *fmt, ...)
{
	va_list ap;
	size_t room = sb->len < sb->cap ? sb->cap - sb->len : 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room > 0 ? sb->p + sb->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		sb->len += (size_t)n;
}

/* Up to max bytes as hex, then "..." if there were more. */
void ike_sb_hex(struct ike_sb *sb, const uint8_t *p, size_t n, size_t max)
{
	for (size_t i = 0; i < n && i < max; i++)
		ike_sb_add(sb, "%02x", p[i]);
	if (n > max)
		ike_sb_add(sb, "...");
}
