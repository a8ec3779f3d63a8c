/* cfg_load.c - cfg_load() and cfg_free(): opens the dataplane configuration
 * file, has libconfig parse it, runs the section loaders, refuses key files
 * others can read, and wipes key material on every way out. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg_priv.h"

static const char *const dp_top_fields[] = {
	"dataplane", "ports", "exception", "routes", "neighbours", "policy",
	"security_associations", NULL
};

static const char *const key_fields[] = { "encryption_key", "integrity_key" };

/* "FILE: problem", for what concerns the file as a whole. */
int cfg_file_fail(struct cfg_ctx *c, const char *file, const char *fmt, ...)
{
	char msg[CFG_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (snprintf(c->err, CFG_ERR_MAX, "%s: %s", file, msg) >= CFG_ERR_MAX)
		strcpy(c->err + CFG_ERR_MAX - 4, "...");
	return -1;
}

/* Opens a regular file of sane size; O_NONBLOCK so a FIFO cannot hang us. */
static FILE *open_config(struct cfg_ctx *c, struct stat *st)
{
	int fd = open(c->path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	FILE *f;

	if (fd < 0) {
		cfg_file_fail(c, c->path, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, st) != 0)
		cfg_file_fail(c, c->path, "cannot stat: %s", strerror(errno));
	else if (!S_ISREG(st->st_mode))
		cfg_file_fail(c, c->path, "not a regular file");
	else if (st->st_size > (off_t)CFG_MAX_FILE_SIZE)
		cfg_file_fail(c, c->path, "%lld bytes; a configuration file has at most %u",
			  (long long)st->st_size, CFG_MAX_FILE_SIZE);
	else if ((f = fdopen(fd, "r")) != NULL)
		return f;
	else
		cfg_file_fail(c, c->path, "cannot read: %s", strerror(errno));
	close(fd);
	return NULL;
}

static int read_config(struct cfg_ctx *c, config_t *lc, const char *text, struct stat *st)
{
	char fbuf[CFG_ERR_MAX];
	FILE *f = NULL;
	int ok;

	if (text == NULL && (f = open_config(c, st)) == NULL)
		return -1;
	config_set_include_dir(lc, c->dir); /* @include is relative to the file */
	ok = f ? config_read(lc, f) : config_read_string(lc, text);
	if (f)
		fclose(f);
	if (ok)
		return 0;
	if (snprintf(c->err, CFG_ERR_MAX, "%s:%d: %s",
		     cfg_file_name(c, config_error_file(lc), fbuf, sizeof fbuf),
		     config_error_line(lc),
		     config_error_text(lc) ? config_error_text(lc) : "cannot parse") >= CFG_ERR_MAX)
		strcpy(c->err + CFG_ERR_MAX - 4, "...");
	return -1;
}

static int load_sections(struct cfg_ctx *c, const config_setting_t *root)
{
	if (cfg_group(c, root, dp_top_fields) || cfg_load_dataplane(c, root) ||
	    cfg_load_ports(c, root) || cfg_load_exception(c, root) || cfg_load_routes(c, root) ||
	    cfg_load_neighbours(c, root) || cfg_load_sas(c, root) || cfg_load_policy(c, root))
		return -1;
	return 0;
}

static int check_mode(struct cfg_ctx *c, const char *file, mode_t mode,
		      enum cfg_perm_policy perm)
{
	unsigned m = (unsigned)(mode & 07777);

	if (!(mode & 077))
		return 0;
	if (perm == CFG_PERM_WARN) {
		fprintf(stderr, "dpsec: warning: %s: holds keys but is readable by group or others "
			"(mode %04o); chmod 600 %s\n", file, m, file);
		return 0;
	}
	return cfg_file_fail(c, file, "holds keys but is readable by group or others (mode %04o); "
			 "chmod 600 %s or start with --allow-insecure-keys", m, file);
}

/* The mode of the file setting k came from. */
static int key_file_mode(struct cfg_ctx *c, const config_setting_t *k, const struct stat *st,
			 const char *name, mode_t *mode)
{
	struct stat ist;

	if (!config_setting_source_file(k)) {
		*mode = st->st_mode; /* the main file, already open */
		return 0;
	}
	if (stat(name, &ist) != 0)
		return cfg_file_fail(c, name, "cannot stat: %s", strerror(errno));
	*mode = ist.st_mode;
	return 0;
}

/* Checks every file a key came from: the main one or an @include'd one, so
 * keys may live apart from a world-readable policy. */
static int check_perms(struct cfg_ctx *c, config_t *lc, const struct stat *st,
		       enum cfg_perm_policy perm)
{
	const config_setting_t *l = config_lookup(lc, "security_associations"), *k;
	const char *file, *done = NULL;
	char fbuf[CFG_ERR_MAX];
	bool checked = false;
	unsigned i, j;
	mode_t mode = 0;

	for (i = 0; i < c->cfg->n_sas; i++) {
		for (j = 0; j < sizeof key_fields / sizeof key_fields[0]; j++) {
			k = config_setting_get_member(config_setting_get_elem(l, i), key_fields[j]);
			if (!k || (checked && config_setting_source_file(k) == done))
				continue; /* none, or its file checked already */
			checked = true;
			done = config_setting_source_file(k);
			file = cfg_file_name(c, done, fbuf, sizeof fbuf);
			if (key_file_mode(c, k, st, file, &mode) || check_mode(c, file, mode, perm))
				return -1;
		}
	}
	return 0;
}

static void wipe_string(config_setting_t *k)
{
	if (k && config_setting_type(k) == CONFIG_TYPE_STRING && k->value.sval)
		explicit_bzero(k->value.sval, strlen(k->value.sval));
}

/* The store's pre-shared keys: policies.[].rules.[].authentication.[].psk */
static void wipe_psk_strings(config_t *lc)
{
	config_setting_t *pl = config_lookup(lc, "policies");

	for (int p = 0; pl && config_setting_is_list(pl) && p < config_setting_length(pl); p++) {
		config_setting_t *rl = config_setting_get_member(config_setting_get_elem(pl, (unsigned)p), "rules");

		for (int r = 0; rl && config_setting_is_list(rl) && r < config_setting_length(rl); r++) {
			config_setting_t *al = config_setting_get_member(config_setting_get_elem(rl, (unsigned)r),
									 "authentication");

			for (int a = 0; al && config_setting_is_list(al) && a < config_setting_length(al); a++) {
				config_setting_t *g = config_setting_get_elem(al, (unsigned)a);

				if (config_setting_is_group(g))
					wipe_string(config_setting_get_member(g, "psk"));
			}
		}
	}
}

/* libconfig frees its strings without wiping them; wipe the keys first. */
static void wipe_key_strings(config_t *lc)
{
	config_setting_t *l = config_lookup(lc, "security_associations"), *sa, *k;
	int i;
	size_t j;

	if (!l || !config_setting_is_aggregate(l))
		return;
	for (i = 0; i < config_setting_length(l); i++) {
		sa = config_setting_get_elem(l, (unsigned)i);
		if (!config_setting_is_group(sa))
			continue;
		for (j = 0; j < sizeof key_fields / sizeof key_fields[0]; j++) {
			k = config_setting_get_member(sa, key_fields[j]);
			wipe_string(k);
		}
	}
}

int cfg_load_text(struct cfg_ctx *c, const char *text, enum cfg_perm_policy perm,
		  cfg_sections_fn sections)
{
	char dir[sizeof c->cfg->path];
	struct stat st = { .st_mode = 0600 }; /* a string has no file mode */
	config_t lc;
	int rc;

	snprintf(dir, sizeof(dir), "%s", c->path);
	c->dir = text ? "." : dirname(dir);
	config_init(&lc);
	rc = read_config(c, &lc, text, &st);
	if (rc == 0)
		rc = sections(c, config_root_setting(&lc));
	if (rc == 0)
		rc = check_perms(c, &lc, &st, perm);
	wipe_key_strings(&lc);
	wipe_psk_strings(&lc);
	config_destroy(&lc);
	c->dir = NULL;
	return rc;
}

int cfg_load(const char *path, enum cfg_perm_policy perm, struct cfg_dataplane *out,
	     char err[CFG_ERR_MAX])
{
	struct cfg_ctx c = { .path = path, .err = err, .cfg = out };
	int rc;

	if (!out || !err)
		return -1;
	memset(out, 0, sizeof *out);
	err[0] = '\0';
	if (!path || !*path)
		return cfg_file_fail(&c, "(none)", "no configuration file given");
	if (strlen(path) >= sizeof out->path)
		return cfg_file_fail(&c, "(path)", "path of %zu characters; at most %zu allowed",
				 strlen(path), sizeof out->path - 1);
	strcpy(out->path, path);
	rc = cfg_load_text(&c, NULL, perm, load_sections);
	cfg_ctx_free(&c);
	if (rc == 0)
		return 0;
	cfg_free(out); /* no keys linger after a failure */
	return -1;
}

void cfg_free(struct cfg_dataplane *cfg)
{
	uint32_t i;

	if (!cfg)
		return;
	if (cfg->sas)
		explicit_bzero(cfg->sas, (size_t)cfg->n_sas * sizeof *cfg->sas);
	for (i = 0; cfg->rules && i < cfg->n_rules; i++)
		free(cfg->rules[i].filters);
	free(cfg->sas);
	free(cfg->rules);
	free(cfg->routes);
	free(cfg->neighbours);
	explicit_bzero(cfg, sizeof *cfg);
}
