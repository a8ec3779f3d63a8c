/* config_world.h - what the config loader's tests (test_config_examples.c,
 * test_config_fields.c, test_config_errors.c, test_config_files.c) share:
 * temp files and the checked-in examples copied to them, loading a config
 * from text, assertions on parsed prefixes, addresses and key bytes, test
 * keys, and the config fragments (ports, SAs, a policy) that the broken
 * table and the hand-written configs are built from. */
#ifndef CONFIG_WORLD_H
#define CONFIG_WORLD_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"

#include "check_run.h"

/* Test keys of 16, 20, 24, 32, 36, 48 and 64 bytes. */
#define K16 "0x00112233445566778899aabbccddeeff"
#define K20 "0x00112233445566778899aabbccddeeff01020304"
#define K24 "0x0123456789abcdef23456789abcdef01456789abcdef0123"
#define K32 "0x00112233445566778899aabbccddeeff102132435465768798a9bacbdcedfe0f"
#define K36 K32 "a0b1c2d3"
#define K48 K32 "f0e1d2c3b4a5968778695a4b3c2d1e0f"
#define K64 K48 "0123456789abcdeffedcba9876543210"

/* ---- files ---- */

static inline void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	size_t len = strlen(text);

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
}

/* A new temp file (mode 0600) holding text; its name goes to path. */
static inline void write_tmp(const char *text, char path[64])
{
	int fd;

	strcpy(path, "/tmp/dpsec-cfg-XXXXXX");
	fd = mkstemp(path);
	ck_assert_msg(fd >= 0, "mkstemp: %s", strerror(errno));
	close(fd);
	write_file(path, text, 0600);
}

/* The source tree: $DPSEC_SOURCE_ROOT, or found from __FILE__, which meson
 * gives relative to the build root, an ancestor of this executable. */
static inline void source_file(const char *rel, char out[PATH_MAX])
{
	const char *root = getenv("DPSEC_SOURCE_ROOT");
	char exe[PATH_MAX], cand[PATH_MAX * 2];
	const char *dir;
	ssize_t n;
	int up;

	if (root) {
		snprintf(out, PATH_MAX, "%s/%s", root, rel);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	ck_assert(n > 0);
	exe[n] = '\0';
	for (up = 0; up < 6; up++) {
		dir = dirname(exe);
		memmove(exe, dir, strlen(dir) + 1); /* dirname may return exe itself */
		snprintf(cand, sizeof cand, "%s/%s", __FILE__[0] == '/' ? "" : exe, __FILE__);
		if (access(cand, R_OK) == 0) {
			snprintf(out, PATH_MAX, "%s/../../%s", dirname(cand), rel);
			ck_assert_msg(access(out, R_OK) == 0, "%s: %s", out, strerror(errno));
			return;
		}
	}
	ck_abort_msg("cannot find the source tree; set DPSEC_SOURCE_ROOT");
}

static inline char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 16);
	size_t n;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert(buf != NULL);
	n = fread(buf, 1, (1 << 16) - 1, f);
	ck_assert(n > 0 && n < (1 << 16) - 1);
	fclose(f);
	return buf;
}

/* Copies a checked-in example (mode 0644 in git) to a temp file of mode. */
static inline void copy_example(const char *name, mode_t mode, char path[64])
{
	char src[PATH_MAX], rel[128];
	char *text;

	snprintf(rel, sizeof rel, "config/examples/%s", name);
	source_file(rel, src);
	text = slurp(src);
	write_tmp(text, path);
	free(text);
	ck_assert_int_eq(chmod(path, mode), 0);
}

static inline int load_text(const char *text, struct cfg_dataplane *cfg,
			    char err[CFG_ERR_MAX], char path[64])
{
	int rc;

	write_tmp(text, path);
	rc = cfg_load(path, CFG_PERM_REFUSE, cfg, err);
	unlink(path);
	return rc;
}

/* ---- value checks ---- */

static inline void assert_prefix(const struct dpsec_prefix *p, const char *want)
{
	struct dpsec_prefix w;

	ck_assert_int_eq(cfg_parse_prefix(want, &w), 0);
	ck_assert_msg(p->len == w.len && p->addr.family == w.addr.family &&
		      memcmp(p->addr.a, w.addr.a, 16) == 0, "prefix is not %s", want);
}

static inline void assert_addr(const struct dpsec_addr *a, const char *want)
{
	struct dpsec_addr w;

	ck_assert_int_eq(cfg_parse_addr(want, &w), 0);
	ck_assert_msg(a->family == w.family && memcmp(a->a, w.a, 16) == 0, "address is not %s",
		      want);
}

static inline void assert_bytes(const uint8_t *got, const char *hex, size_t len)
{
	uint8_t want[64];
	size_t n;

	ck_assert_int_eq(cfg_parse_hex(hex, want, sizeof want, &n), 0);
	ck_assert_uint_eq(n, len);
	ck_assert_mem_eq(got, want, len);
}

/* ---- config fragments ---- */

/* Lines 1-2. */
#define PORTS                                                                               \
	"ports = ( { name = \"lan\"; device = \"d0\"; role = \"protected\"; "                  \
	"addresses = [ \"10.1.0.1/24\" ]; },\n"                                             \
	"  { name = \"wan\"; device = \"d1\"; role = \"unprotected\"; "                      \
	"addresses = [ \"192.0.2.1/24\" ]; } );\n"

#define SA_X(name, spi, dir, mode, remote, rest)                                            \
	"{ name = \"" name "\"; spi = " spi "; direction = \"" dir "\"; mode = \"" mode       \
	"\"; local = \"192.0.2.1\"; remote = \"" remote "\"; " rest " }"
#define GCM "encryption = \"aes128gcm16\"; encryption_key = \"" K20 "\";"
#define AH_SHA1 "protocol = \"ah\"; integrity = \"sha1_96\"; integrity_key = \"" K20 "\";"
#define SA_OUT SA_X("out", "0x1001", "outbound", "tunnel", "192.0.2.2", GCM)
#define SA_IN SA_X("in", "0x2001", "inbound", "tunnel", "192.0.2.2", GCM)
/* After PORTS: SA a on line 3, SA b on line 4. */
#define SAS(a, b) "security_associations = ( " a ",\n  " b " );\n"
#define SAS_OK SAS(SA_OUT, SA_IN)
/* After PORTS and SAS: filter lists on line 5, filter actions 6, rules 7. */
#define POLICY(filters, action, rule)                                                      \
	"policy = { filter_lists = ( { name = \"fl\"; filters = ( " filters " ); } );\n"    \
	"  filter_actions = ( { name = \"fa\"; action = \"" action "\"; } );\n"              \
	"  rules = ( { name = \"r\"; filter_list = \"fl\"; filter_action = \"fa\"; " rule    \
	" } );\n"                                                                           \
	"};\n"
#define LANS "source = \"10.1.0.0/24\"; destination = \"10.2.0.0/24\";"
#define F_LANS "{ " LANS " }"
#define TUNNEL "tunnel_endpoint = \"192.0.2.2\"; outbound_sa = \"out\"; inbound_sa = \"in\";"

#endif
