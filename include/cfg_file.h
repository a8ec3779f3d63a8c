/* cfg_file.h - durable file replacement (config/cfg_file.c). */
#ifndef CFG_FILE_H
#define CFG_FILE_H

/* Renames from over to, then syncs to's directory, so that once this
 * returns 0 the new name survives a crash (the caller has synced the
 * file's contents before). Returns 0 or -errno; a failed rename changes
 * nothing, a failed directory sync leaves the rename done but perhaps
 * not on disk. */
int cfg_replace_durably(const char *from, const char *to);

#endif
