/* cp_ikelog.c - the IKE log (the seeds' Oakley log). Every line the IKE
 * engine logs, up to a diagnostic level 0..7, goes time-stamped into a
 * file of its own, apart from dpsec-ctld's log. As the seeds describe
 * oakley.log: the file is started afresh when dpsec-ctld starts, the
 * previous one kept as FILE.sav, and it holds at most 50,000 entries: the
 * next one moves the file to FILE.sav and starts a new file, so at most
 * two files of that size exist. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cp.h"
#include "cp_ikelog.h"

/* A new, empty file at l->path; the one there before becomes l->saved. */
static int start_file(struct cp_ikelog *l, char *err, size_t errlen)
{
	int fd;

	if (rename(l->path, l->saved) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "IKE log: moving %s aside (to .sav): %s", l->path, strerror(errno));
		return -1;
	}
	fd = open(l->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0 || (l->f = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "IKE log: %s: %s", l->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setvbuf(l->f, NULL, _IOLBF, 0); /* whole entries reach the file as they are written */
	l->entries = 0;
	return 0;
}

int cp_ikelog_open(struct cp_ikelog *l, const char *path, int level, uint32_t max_entries,
		   char *err, size_t errlen)
{
	memset(l, 0, sizeof(*l));
	if (level < 0 || level > 7 || max_entries == 0) {
		snprintf(err, errlen, "IKE log: level %d (0..7) or %u entries per file refused", level,
			 max_entries);
		return -1;
	}
	if ((size_t)snprintf(l->path, sizeof(l->path), "%s", path) >= sizeof(l->path) ||
	    (size_t)snprintf(l->saved, sizeof(l->saved), "%s.sav", path) >= sizeof(l->saved)) {
		snprintf(err, errlen, "IKE log: file name too long");
		return -1;
	}
	l->level = level;
	l->max_entries = max_entries;
	return start_file(l, err, errlen);
}

static void rotate(struct cp_ikelog *l)
{
	char err[PATH_MAX + 128];

	fclose(l->f);
	l->f = NULL;
	if (start_file(l, err, sizeof(err)) < 0) {
		cp_log(LOG_ERR, "%s; no IKE log from now on", err);
		return;
	}
	l->rotations++;
}

void cp_ikelog_write(struct cp_ikelog *l, int level, const char *line)
{
	static const char *const names[] = { "emerg", "alert", "crit", "error", "warning",
					     "notice", "info", "debug" };
	struct timespec ts;
	struct tm tm;

	if (l->f == NULL || level > l->level)
		return;
	if (l->entries >= l->max_entries) {
		rotate(l);
		if (l->f == NULL)
			return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (fprintf(l->f, "%04d-%02d-%02d %02d:%02d:%02d.%03ldZ %s %s\n", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    ts.tv_nsec / 1000000, names[level & 7], line) < 0) {
		if (l->write_errors++ == 0)
			cp_log(LOG_ERR, "IKE log: writing %s: %s", l->path, strerror(errno));
		return;
	}
	l->entries++;
}

void cp_ikelog_close(struct cp_ikelog *l)
{
	if (l->f != NULL)
		fclose(l->f);
	l->f = NULL;
}
