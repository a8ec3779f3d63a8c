/* cp_ikelog.h - the IKE log: dpsec's counterpart of the seeds' Oakley log
 * (every IKE negotiation line in a file of its own, up to a diagnostic
 * level, rotated at 50,000 entries). */
#ifndef CP_IKELOG_H
#define CP_IKELOG_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#define CP_IKELOG_ENTRIES 50000 /* entries per file, as the seeds' oakley.log */

struct cp_ikelog {
	FILE *f;                 /* NULL: no IKE log */
	char path[PATH_MAX];
	char saved[PATH_MAX];    /* path + ".sav": the previous file */
	int level;               /* lines at levels 0..level are written */
	uint32_t max_entries;
	uint32_t entries;        /* in the current file */
	uint64_t rotations;
	uint64_t write_errors;
};

/* Opens PATH for lines of level 0..level (0..7); a file already there (the
 * previous run's) becomes PATH.sav first. Returns 0, or -1 with err naming
 * the file and the reason. */
int cp_ikelog_open(struct cp_ikelog *l, const char *path, int level, uint32_t max_entries,
		   char *err, size_t errlen);

/* Appends one time-stamped entry when level <= the log's; after
 * max_entries entries the file becomes PATH.sav and a new one starts.
 * Does nothing when the log is not open. */
void cp_ikelog_write(struct cp_ikelog *l, int level, const char *line);

void cp_ikelog_close(struct cp_ikelog *l);

#endif
