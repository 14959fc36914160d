/* Configuration: one file of "key = value" lines, read once at start from
 * -c FILE or $DLCS_CONFIG, against a table of settings: one row per key
 * with its type, its default and one line of documentation. A host has one
 * file for all its programs, so every program checks every key, those it
 * does not use too: a file that one program refuses, all refuse.
 *
 * The file: blank lines, and lines whose first non-blank is '#', are
 * skipped ('#' later in a line is part of the value: a password may hold
 * one); every other line is "key = value", blanks trimmed around both. An
 * empty value, like an absent key, means the default. When a key is given
 * twice the last line wins (the stack appends its overrides).
 *
 * Strict: an unknown key, a line without '=', a NUL or control byte, or a
 * value that its type does not parse or that is out of range refuses the
 * whole file, naming the line and the key:
 *   line 12: runner_threads: 'two' is not a whole number
 *
 * The table is two lists with one index space: the framework's own keys,
 * below (S_DB_SOCKET .. S_CORE__MAX, the ones fcgi/ reads itself), and the
 * platform's (handlers/asset/settings.h, whose indexes go on from
 * S_CORE__MAX), which each program hands to supervise_program or
 * config_load; the framework never names them. Every read goes through one
 * typed getter: setting_str(cfg, S_STORAGE_ROOT), setting_int(cfg,
 * S_RUNNER_THREADS); `dlcs-admin config` prints the effective settings. */
#ifndef DLCS_CONFIG_H
#define DLCS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* How a value is written, and checked when the file is loaded. */
enum setting_type {
	SETTING_STRING,   /* text (no control character, as for every type) */
	SETTING_PATH,     /* a file or directory name */
	SETTING_INT,      /* a whole number in decimal, within [min, max] */
	SETTING_BYTES,    /* a size in bytes within [min, max]: digits, then
			     optionally K, M, G or T (powers of 1024, "KiB" too) */
	SETTING_BOOL,     /* true/false, yes/no, on/off, 1/0 */
	SETTING_NETWORKS, /* CIDRs, IPv4 or IPv6, separated by commas or blanks */
	SETTING_URL,      /* http:// or https://, no blank, no trailing '/' */
	SETTING_URI_PATH, /* a URI path: '/', then no blank */
	SETTING__MAX
};

/* Flags of a row. */
#define SETTING_SECRET 1u /* never printed: dlcs-admin config masks it */
/* The default is a path of the installation, which ./configure fixes (e.g.
 * the installed schema): the README's table, one for every build, says so
 * instead of showing this build's path. */
#define SETTING_CONFIGURED 2u

/* One row of the table. */
struct setting {
	const char *key;
	enum setting_type type;
	/* The default, written as in the file; "{key}" in it stands for the
	 * effective value of another setting. NULL: none (the getter gives
	 * NULL, and the code that reads it says what none means). */
	const char *def;
	long long min, max; /* SETTING_INT and SETTING_BYTES */
	unsigned flags;
	const char *doc; /* one line: what it is for (README's "meaning") */
};

/* A list of rows, e.g. the platform's (asset/settings.h): row i has the
 * index S_CORE__MAX + i. */
struct settings_table {
	const struct setting *rows;
	size_t n;
};

/* The framework's own settings (config_core.c). */
enum {
	S_DB_SOCKET,
	S_DB_HOST,
	S_DB_PORT,
	S_DB_NAME,
	S_DB_USER,
	S_DB_PASSWORD,
	S_DB_CONNECT_TIMEOUT,
	S_DB_RW_TIMEOUT,
	S_SCHEMA_DIR,
	S_STORAGE_ROOT,
	S_DATA_GENERATION_FILE,
	S_BASE_URL,
	S_MAX_BODY_BYTES,
	S_RESPONSE_CACHE_MB,
	S_LOG_LEVEL,
	S_LOG_FILE,
	S_CORE__MAX
};
extern const struct setting config_core_rows[S_CORE__MAX];

struct config;

/* config_load's outcomes besides 0. */
#define CONFIG_EREAD    1 /* the file cannot be read */
#define CONFIG_EINVALID 2 /* a line, a key or a value is refused */

/* Loads the file at path against the framework's rows and app's (NULL:
 * none). 0 with *out set (the caller frees it), or CONFIG_EREAD or
 * CONFIG_EINVALID with err saying why ("line 12: runner_threads: ...",
 * cut to errlen). */
int config_load(const char *path, const struct settings_table *app, struct config **out, char *err,
		size_t errlen);
/* Every setting at its default. */
struct config *config_empty(const struct settings_table *app);
void config_free(struct config *c);
/* Reads one line of a file (what config_load does with each): 0, or -1
 * with err saying why, prefixed "line N: "; the settings are unchanged
 * then. */
int config_line(struct config *c, const char *line, int lineno, char *err, size_t errlen);
/* Sets key to value (NULL or "": its default), for tests and command-line
 * overrides. A key or value the table refuses is the caller's bug: it is
 * logged and the process aborts. */
void config_set(struct config *c, const char *key, const char *value);

/* The getters; key is an index of the framework's or the platform's enum,
 * and a getter of the wrong type for the row aborts (a bug).
 * setting_str: the effective value as text (any type), NULL when none.
 * setting_int: SETTING_INT or SETTING_BYTES (in bytes); 0 when none.
 * setting_bool: SETTING_BOOL; false when none. */
const char *setting_str(const struct config *c, int key);
long long setting_int(const struct config *c, int key);
bool setting_bool(const struct config *c, int key);
/* The line of the file that set key, 0 when it is at its default. */
int setting_line(const struct config *c, int key);

/* The rows, by index: for listing them (config_show). */
size_t config_count(const struct config *c);
const struct setting *config_row(const struct config *c, int key);
/* The row's type for the documentation, with its range: "integer
 * 1..64", "bytes 0..1TiB", "path"... (len: 64 is enough). */
void setting_type_text(const struct setting *s, char *buf, size_t len);

/* config_show.c: the effective settings, one per line ("key = value  #
 * default|line N: doc"; secrets masked), for `dlcs-admin config`. */
void config_show(const struct config *c, FILE *out);
/* The table as the README's Markdown table (key, type, default,
 * meaning): README.md holds exactly this, and a unit test says so. */
void config_show_markdown(const struct config *c, FILE *out);
/* A whole configuration file: each setting's meaning and type as comments,
 * then "key = value" for those c's file set (a secret is not shown) and
 * "#key = value" with the effective default for the others; `make`
 * writes the installed dlcs.conf.example with it. */
void config_show_example(const struct config *c, FILE *out);

#endif
