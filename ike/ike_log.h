/* ike_log.h - the log an IKE SA of either engine keeps: a ring of its
 * last lines, "<seconds>.<ms> <tag><SPI>: text", for `show` and tests. */
#ifndef IKE_LOG_H
#define IKE_LOG_H

#include <stdarg.h>
#include <stdint.h>

#define IKE_LOG_LINES 64
#define IKE_LOG_LINE 160

struct ike_log {
	char line[IKE_LOG_LINES][IKE_LOG_LINE];
	uint32_t next;
};

/* Appends a line (tag: "" or "v1 ", spi: our SPI or cookie) and returns it. */
const char *ike_log_add(struct ike_log *l, uint64_t now_ms, const char *tag, const uint8_t spi[8],
			const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
/* The newest line containing text, or NULL. */
const char *ike_log_find(const struct ike_log *l, const char *text);

#endif
