/* cp_log.c - dpsec-ctld's log: syslog levels 0 (emergencies) to 7 (debug),
 * to stderr or syslog; audit events (configuration changes, SAs installed
 * and deleted, failed negotiations) always logged with an "audit:" prefix.
 * Keys are never passed here. */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "cp.h"

static int log_level = LOG_INFO;
static bool log_syslog;

void cp_log_init(int level, bool use_syslog)
{
	log_level = level;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog("dpsec-ctld", LOG_PID, LOG_DAEMON);
}

static void vlog(int level, const char *prefix, const char *fmt, va_list ap)
{
	static const char *const names[] = { "emerg", "alert", "crit", "error", "warning",
					     "notice", "info", "debug" };
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_syslog) {
		syslog(level, "%s%s", prefix, msg);
		return;
	}
	fprintf(stderr, "dpsec-ctld: %s: %s%s\n", names[level & 7], prefix, msg);
}

void cp_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vlog(level, "", fmt, ap);
	va_end(ap);
}

void cp_audit(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_NOTICE, "audit: ", fmt, ap);
	va_end(ap);
}

uint64_t cp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
