/* ike_log.c - the per-SA log ring (see ike_log.h). */
#include <stdio.h>
#include <string.h>

#include "ike_buf.h"
#include "ike_log.h"

const char *ike_log_add(struct ike_log *l, uint64_t now_ms, const char *tag, const uint8_t spi[8],
			const char *fmt, va_list ap)
{
	char *line = l->line[l->next++ % IKE_LOG_LINES];
	int n = snprintf(line, IKE_LOG_LINE, "%llu.%03llu %s%08x%08x: ",
			 (unsigned long long)(now_ms / 1000), (unsigned long long)(now_ms % 1000), tag,
			 ike_get32(spi), ike_get32(spi + 4));

	vsnprintf(line + n, IKE_LOG_LINE - (size_t)n, fmt, ap);
	return line;
}

const char *ike_log_find(const struct ike_log *l, const char *text)
{
	uint32_t n = l->next < IKE_LOG_LINES ? l->next : IKE_LOG_LINES;

	for (uint32_t i = 1; i <= n; i++) {
		const char *line = l->line[(l->next - i) % IKE_LOG_LINES];

		if (strstr(line, text))
			return line;
	}
	return NULL;
}
