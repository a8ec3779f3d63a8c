/* ike_buf.h - bounds-checked big-endian reader and writer over byte buffers,
 * and the error record every IKE codec function fills: a negative errno, a
 * sentence naming the problem, and the notify a responder would answer with.
 * Nothing here allocates; a reader never reads past its slice and a writer
 * never writes past its capacity (it remembers that it ran out instead). */
#ifndef IKE_BUF_H
#define IKE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IKE_ERR_MSG_MAX 160
#define IKE_MSG_MAX 65535 /* largest message: what one UDP datagram holds */

/* Filled by a failing parse or build. code is the negative errno returned;
 * notify is the IKEv2 (or ISAKMP, for isakmp_* functions) notify type that
 * fits the problem, 0 if none; detail carries its data where one is needed
 * (the payload type for UNSUPPORTED_CRITICAL_PAYLOAD / INVALID-PAYLOAD-TYPE). */
struct ike_err {
	int code;
	uint16_t notify;
	uint32_t detail;
	char msg[IKE_ERR_MSG_MAX];
};

/* Records the error (err may be NULL) and returns code, a negative errno. */
int ike_fail(struct ike_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A slice being read. what names the structure for error messages
 * ("SA payload"); err receives the first failure. */
struct ike_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	const char *what;
	struct ike_err *err;
};

void ike_rd_init(struct ike_rd *r, const uint8_t *p, size_t len, const char *what,
		 struct ike_err *err);

static inline size_t ike_rd_left(const struct ike_rd *r)
{
	return r->len - r->off;
}

/* Each takes the name of the field it reads, for the error message, and
 * returns 0 or -EBADMSG ("KE payload: DH group needs 2 bytes, 1 left"). */
int ike_rd_u8(struct ike_rd *r, const char *field, uint8_t *v);
int ike_rd_u16(struct ike_rd *r, const char *field, uint16_t *v);
int ike_rd_u32(struct ike_rd *r, const char *field, uint32_t *v);
int ike_rd_u64(struct ike_rd *r, const char *field, uint64_t *v);
int ike_rd_skip(struct ike_rd *r, const char *field, size_t n);
int ike_rd_copy(struct ike_rd *r, const char *field, void *dst, size_t n);
/* A pointer to the next n bytes (no copy). */
int ike_rd_bytes(struct ike_rd *r, const char *field, size_t n, const uint8_t **p);
/* A sub-reader over the next n bytes, with its own name; the parent moves
 * past them. claimed is checked the way a length field is: "SA payload:
 * proposal length 12 exceeds the 8 bytes left". */
int ike_rd_sub(struct ike_rd *r, const char *field, size_t n, struct ike_rd *sub,
	       const char *sub_what);
/* Reads the 4-byte header that starts every payload and substructure
 * (byte a, byte b, 16-bit length counting the header) and gives the rest
 * of that structure as body: "SA payload: proposal length 12 exceeds the 8
 * bytes left", "...is shorter than its 8-byte header". */
int ike_rd_struct(struct ike_rd *r, const char *len_field, size_t min, uint8_t *a,
		  uint8_t *b, struct ike_rd *body, const char *body_what);
/* Checks a length field: at least min (the structure's own header) and no
 * more than what is left. */
int ike_rd_len_ok(struct ike_rd *r, const char *field, size_t claimed, size_t min);

/* A writer. Writes past cap are dropped and set overflow; ike_wr_done()
 * reports it, so a builder can write unconditionally and check once. */
struct ike_wr {
	uint8_t *p;
	size_t cap;
	size_t len;
	bool overflow;
};

void ike_wr_init(struct ike_wr *w, uint8_t *p, size_t cap);
void ike_wr_u8(struct ike_wr *w, uint8_t v);
void ike_wr_u16(struct ike_wr *w, uint16_t v);
void ike_wr_u32(struct ike_wr *w, uint32_t v);
void ike_wr_u64(struct ike_wr *w, uint64_t v);
void ike_wr_bytes(struct ike_wr *w, const void *src, size_t n);
void ike_wr_zero(struct ike_wr *w, size_t n);
/* Reserves n bytes and returns where they are, or NULL on overflow. */
uint8_t *ike_wr_reserve(struct ike_wr *w, size_t n);
/* Overwrites bytes already written (length fields known only at the end). */
void ike_wr_put_u8(struct ike_wr *w, size_t at, uint8_t v);
void ike_wr_put_u16(struct ike_wr *w, size_t at, uint16_t v);
void ike_wr_put_u32(struct ike_wr *w, size_t at, uint32_t v);
/* 0, or -ENOSPC with "WHAT: does not fit the N-byte output buffer". */
int ike_wr_done(const struct ike_wr *w, const char *what, struct ike_err *err);

/* A writer of a payload chain (both IKE versions share the generic payload
 * header: next payload, flags/reserved, 16-bit length): each payload links
 * itself into the previous one's next-payload byte (initially the header's,
 * at next_at) and has its length filled in when closed. */
struct ike_chain {
	struct ike_wr w;
	size_t next_at;     /* next-payload byte to fill with the next type */
	bool sealed;        /* an encrypted payload was added: nothing may follow */
	const char *misuse; /* first misuse, reported when the message is finished */
};

/* Opens a payload (its generic header) and returns where it starts. */
size_t ike_chain_open(struct ike_chain *c, uint8_t type, uint8_t flags);
void ike_chain_close(struct ike_chain *c, size_t start);
/* 0, or -EINVAL (misuse) / -ENOSPC with a message naming what. */
int ike_chain_done(const struct ike_chain *c, const char *what, struct ike_err *err);

/* Big-endian loads for callers that already checked the length. */
static inline uint16_t ike_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t ike_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An opaque byte string pointing into a parsed message (or, when building,
 * into the caller's memory). */
struct ike_blob {
	const uint8_t *p;
	uint16_t len;
};

/* Appends formatted text to a fixed buffer, never overflowing, always NUL
 * terminated; used by the describe functions. */
struct ike_sb {
	char *p;
	size_t cap;
	size_t len; /* what would have been written: > cap - 1 means truncated */
};

void ike_sb_init(struct ike_sb *sb, char *p, size_t cap);
void ike_sb_add(struct ike_sb *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ike_sb_hex(struct ike_sb *sb, const uint8_t *p, size_t n, size_t max);

#endif
