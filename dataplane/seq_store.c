/* seq_store.c - the file of static keys' reserved sequence numbers
 * (seq_store.h): read at start; at the first grant written anew beside
 * itself (compacted), synced and renamed over itself, then appended to,
 * a line per grant, each synced before the grant is used (a gateway
 * without static keys never makes it). Kept in memory as an open-addressing
 * table by fingerprint (uniformly random bits: no hashing needed). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg_file.h"
#include "seq_store.h"

#define HEADER "# dpsec: outbound sequence numbers reserved per static key (fingerprint, last reserved); do not edit\n"
#define LINE_MAX_LEN 128

struct seq_rec {
	uint8_t fp[DP_SEQ_FP_LEN];
	uint64_t end;  /* 0: nothing reserved yet */
	bool present;  /* the slot holds a key */
	bool claimed_out;  /* an installed outbound SA has the key */
	uint32_t claims_in; /* installed inbound SAs with the key (AES-GCM ones) */
};

struct dp_seq_store {
	char path[PATH_MAX];
	int fd; /* the file, appended to */
	struct seq_rec *tab;
	uint32_t cap, n; /* cap: a power of two, at least twice n */
	bool unsynced;   /* lines written since the last sync */
};

static uint32_t slot_of(const struct dp_seq_store *s, const uint8_t fp[DP_SEQ_FP_LEN])
{
	uint32_t h;

	memcpy(&h, fp, sizeof(h));
	for (h &= s->cap - 1; s->tab[h].present && memcmp(s->tab[h].fp, fp, DP_SEQ_FP_LEN) != 0;
	     h = (h + 1) & (s->cap - 1))
		;
	return h;
}

static int grow(struct dp_seq_store *s)
{
	struct seq_rec *old = s->tab;
	uint32_t old_cap = s->cap;

	s->cap = old_cap ? old_cap * 2 : 1024;
	s->tab = calloc(s->cap, sizeof(*s->tab));
	if (s->tab == NULL) {
		s->tab = old;
		s->cap = old_cap;
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < old_cap; i++)
		if (old[i].present)
			s->tab[slot_of(s, old[i].fp)] = old[i];
	free(old);
	return 0;
}

/* fp's record, made if missing; NULL: out of memory. */
static struct seq_rec *record(struct dp_seq_store *s, const uint8_t fp[DP_SEQ_FP_LEN])
{
	struct seq_rec *r;

	if ((s->n + 1) * 2 > s->cap && grow(s) < 0)
		return NULL;
	r = &s->tab[slot_of(s, fp)];
	if (!r->present) {
		memcpy(r->fp, fp, DP_SEQ_FP_LEN);
		r->present = true;
		s->n++;
	}
	return r;
}

/* Keeps the larger of end and the recorded one for fp. */
static int remember(struct dp_seq_store *s, const uint8_t fp[DP_SEQ_FP_LEN], uint64_t end)
{
	struct seq_rec *r = record(s, fp);

	if (r == NULL)
		return -ENOMEM;
	if (end > r->end)
		r->end = end;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "32 lowercase hex digits, a space, a decimal number from 1, newline". */
static bool parse_line(const char *line, uint8_t fp[DP_SEQ_FP_LEN], uint64_t *end)
{
	char *stop;

	for (int i = 0; i < DP_SEQ_FP_LEN; i++) {
		int hi = hex_digit(line[2 * i]), lo = hi < 0 ? -1 : hex_digit(line[2 * i + 1]);

		if (lo < 0)
			return false;
		fp[i] = (uint8_t)(hi << 4 | lo);
	}
	line += 2 * DP_SEQ_FP_LEN;
	if (line[0] != ' ' || line[1] < '1' || line[1] > '9')
		return false;
	errno = 0;
	*end = strtoull(line + 1, &stop, 10);
	return errno == 0 && strcmp(stop, "\n") == 0;
}

/* Whether nothing but NUL bytes is left to read: what a crash leaves after
 * a line it cut (a file's last block, allocated but never written). */
static bool only_nuls_left(FILE *f)
{
	int c;

	while ((c = getc(f)) == 0)
		;
	return c == EOF && !ferror(f);
}

static int load(struct dp_seq_store *s, FILE *f, char *err, size_t errlen)
{
	char line[LINE_MAX_LEN];
	uint8_t fp[DP_SEQ_FP_LEN];
	uint64_t end;

	for (unsigned n = 1; fgets(line, sizeof(line), f) != NULL; n++) {
		bool whole = strchr(line, '\n') != NULL;

		if (!whole && strlen(line) < sizeof(line) - 1 && only_nuls_left(f))
			break; /* the last line, cut by a crash: its grant was never synced, never used */
		if (line[0] == '#' && whole)
			continue;
		if (!parse_line(line, fp, &end)) {
			snprintf(err, errlen, "%s line %u: not \"fingerprint (32 hex digits) last-reserved "
				 "number\"; the file is dpsecd's own: restore it, or move it away to start "
				 "every static key anew (their peers' replay windows will refuse them)", s->path, n);
			return -EINVAL;
		}
		if (remember(s, fp, end) < 0) {
			snprintf(err, errlen, "%s: out of memory", s->path);
			return -ENOMEM;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", s->path, strerror(errno));
		return -EIO;
	}
	return 0;
}

static void format_line(char *buf, size_t len, const uint8_t fp[DP_SEQ_FP_LEN], uint64_t end)
{
	for (int i = 0; i < DP_SEQ_FP_LEN; i++)
		snprintf(buf + 2 * i, 3, "%02x", fp[i]);
	snprintf(buf + 2 * DP_SEQ_FP_LEN, len - 2 * DP_SEQ_FP_LEN, " %" PRIu64 "\n", end);
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t k = write(fd, buf, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		buf += k;
		len -= (size_t)k;
	}
	return 0;
}

/* The records, written to path.new, synced and renamed over path. */
static int compact(const struct dp_seq_store *s, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 8], line[LINE_MAX_LEN];
	int fd, rc;

	snprintf(tmp, sizeof(tmp), "%s.new", s->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(-rc));
		return rc;
	}
	rc = write_all(fd, HEADER, strlen(HEADER));
	for (uint32_t i = 0; i < s->cap && rc == 0; i++)
		if (s->tab[i].end != 0) { /* present */
			format_line(line, sizeof(line), s->tab[i].fp, s->tab[i].end);
			rc = write_all(fd, line, strlen(line));
		}
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0)
		rc = cfg_replace_durably(tmp, s->path);
	if (rc < 0) {
		unlink(tmp);
		snprintf(err, errlen, "%s: writing it anew: %s", s->path, strerror(-rc));
	}
	return rc;
}

/* The file read if it exists. */
static int read_existing(struct dp_seq_store *s, char *err, size_t errlen)
{
	FILE *f = fopen(s->path, "re");
	int rc;

	if (f == NULL && errno == ENOENT)
		return 0;
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", s->path, strerror(errno));
		return -errno;
	}
	rc = load(s, f, err, errlen);
	fclose(f);
	return rc;
}

int dp_seq_store_open(struct dp_seq_store **out, const char *path, char *err, size_t errlen)
{
	struct dp_seq_store *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (s == NULL || (path != NULL && (strlen(path) >= sizeof(s->path) - 8 || path[0] == '\0'))) {
		free(s);
		snprintf(err, errlen, "sequence_file \"%s\": %s", path ? path : "",
			 s ? "path empty or too long" : "out of memory");
		return s ? -EINVAL : -ENOMEM;
	}
	snprintf(s->path, sizeof(s->path), "%s", path ? path : "");
	s->fd = -1;
	rc = grow(s);
	if (rc == 0 && path != NULL)
		rc = read_existing(s, err, errlen);
	if (rc < 0) {
		dp_seq_store_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void dp_seq_store_close(struct dp_seq_store *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->tab);
	free(s);
}

uint64_t dp_seq_store_end(const struct dp_seq_store *s, const uint8_t fp[DP_SEQ_FP_LEN])
{
	return s->tab[slot_of(s, fp)].end;
}

/* At the first grant: the directory made (0700) if missing, the file
 * written anew with what was read (compacted), then opened to append. */
static int start_file(struct dp_seq_store *s, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	int rc;

	snprintf(dir, sizeof(dir), "%s", s->path);
	if (mkdir(dirname(dir), 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot make its directory: %s", s->path, strerror(-rc));
		return rc;
	}
	if ((rc = compact(s, err, errlen)) < 0)
		return rc;
	if ((s->fd = open(s->path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", s->path, strerror(-rc));
	}
	return rc;
}

int dp_seq_store_note(struct dp_seq_store *s, const uint8_t fp[DP_SEQ_FP_LEN], uint64_t end, char *err,
		      size_t errlen)
{
	char line[LINE_MAX_LEN];
	int rc;

	if (end <= dp_seq_store_end(s, fp))
		return 0;
	if (s->fd < 0 && (rc = start_file(s, err, errlen)) < 0)
		return rc;
	format_line(line, sizeof(line), fp, end);
	rc = write_all(s->fd, line, strlen(line));
	if (rc == 0)
		rc = remember(s, fp, end);
	if (rc < 0)
		snprintf(err, errlen, "%s: saving reserved sequence numbers: %s", s->path, strerror(-rc));
	else
		s->unsynced = true;
	return rc;
}

int dp_seq_store_sync(struct dp_seq_store *s, char *err, size_t errlen)
{
	if (!s->unsynced)
		return 0;
	if (fdatasync(s->fd) < 0) {
		snprintf(err, errlen, "%s: syncing reserved sequence numbers: %s", s->path, strerror(errno));
		return -errno;
	}
	s->unsynced = false;
	return 0;
}

int dp_seq_store_save(struct dp_seq_store *s, const uint8_t fp[DP_SEQ_FP_LEN], uint64_t end, char *err,
		      size_t errlen)
{
	int rc = dp_seq_store_note(s, fp, end, err, errlen);

	return rc < 0 ? rc : dp_seq_store_sync(s, err, errlen);
}

int dp_seq_store_claim(struct dp_seq_store *s, const uint8_t fp[DP_SEQ_FP_LEN], bool outbound)
{
	struct seq_rec *r = record(s, fp);

	if (r == NULL)
		return -ENOMEM;
	if (outbound && r->claimed_out)
		return -EEXIST;
	if (outbound ? r->claims_in > 0 : r->claimed_out)
		return -ENOTUNIQ;
	if (outbound)
		r->claimed_out = true;
	else
		r->claims_in++;
	return 0;
}

void dp_seq_store_release(struct dp_seq_store *s, const uint8_t fp[DP_SEQ_FP_LEN], bool outbound)
{
	struct seq_rec *r = &s->tab[slot_of(s, fp)];

	if (!r->present)
		return;
	if (outbound)
		r->claimed_out = false;
	else if (r->claims_in > 0)
		r->claims_in--;
}

const char *dp_seq_store_path(const struct dp_seq_store *s)
{
	return s->path;
}

bool dp_seq_store_keeps_numbers(const struct dp_seq_store *s)
{
	return s->path[0] != '\0';
}
