/* The configuration (config.h): the file's lines, the types' parsers, the
 * defaults and the getters. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "config.h"
#include "log.h"
#include "str.h"
#include "banned.h"

struct config_value {
	char *text;    /* as given in the file or by config_set; NULL: not given */
	int line;      /* the line that gave it (0: config_set, or not given) */
	char *eff;     /* the effective value: text, else the default expanded; NULL: none */
	long long num; /* eff parsed: SETTING_INT, SETTING_BYTES, SETTING_BOOL */
	bool resolving;
};

struct config {
	const struct setting *app;
	size_t napp;
	size_t n; /* S_CORE__MAX + napp */
	struct config_value v[];
};

static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		abort();
	return p;
}

/* Writes a message that may be cut (it only informs: the key and a value
 * from the file can be long). */
static void say(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (vsnprintf(err, errlen, fmt, ap) < 0)
		err[0] = '\0';
	va_end(ap);
}

/* A piece of the file fit for a one-line log: at most 60 bytes, anything
 * not printable ASCII as '?', "..." when cut. */
static const char *echo(char buf[72], const char *s, size_t len)
{
	size_t n = len > 60 ? 60 : len, i;
	for (i = 0; i < n; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (len > n)
		for (int k = 0; k < 3; k++)
			buf[i++] = '.';
	buf[i] = '\0';
	return buf;
}

static const char *setting_type_name(enum setting_type t)
{
	static const char *const names[SETTING__MAX] = {
		[SETTING_STRING] = "text",  [SETTING_PATH] = "path",
		[SETTING_INT] = "integer",  [SETTING_BYTES] = "bytes",
		[SETTING_BOOL] = "boolean", [SETTING_NETWORKS] = "CIDR list",
		[SETTING_URL] = "URL",      [SETTING_URI_PATH] = "URI path",
	};
	return t < SETTING__MAX ? names[t] : "?";
}

/* ---- the types -------------------------------------------------------- */

/* "16M", "16MiB", "16777216" into bytes; false when it is none of these
 * forms or does not fit. */
static bool bytes_parse(const char *s, long long *out)
{
	size_t nd = strspn(s, "0123456789");
	if (nd == 0 || nd > 18)
		return false;
	long long v = 0;
	for (size_t i = 0; i < nd; i++)
		v = v * 10 + (s[i] - '0');
	static const char units[] = "KMGT";
	const char *u = s + nd;
	int shift = 0;
	if (*u) {
		const char *p = strchr(units, toupper((unsigned char)*u));
		if (!p)
			return false;
		shift = 10 * (int)(p - units + 1);
		u++;
		if (strcmp(u, "iB") == 0)
			u += 2;
	}
	if (*u || v > (0x7fffffffffffffffLL >> shift))
		return false;
	*out = v << shift;
	return true;
}

/* A byte count as the documentation writes it: "4GiB" when exact. */
static const char *bytes_text(char buf[32], long long v)
{
	static const char units[] = "KMGT";
	int u = -1;
	while (u < 3 && v != 0 && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		xsnprintf(buf, 32, "%lld", v);
	else
		xsnprintf(buf, 32, "%lld%ciB", v, units[u]);
	return buf;
}

void setting_type_text(const struct setting *s, char *buf, size_t len)
{
	char lo[32], hi[32];
	if (s->type == SETTING_INT)
		xsnprintf(buf, len, "integer %lld..%lld", s->min, s->max);
	else if (s->type == SETTING_BYTES)
		xsnprintf(buf, len, "bytes %s..%s", bytes_text(lo, s->min), bytes_text(hi, s->max));
	else
		xsnprintf(buf, len, "%s", setting_type_name(s->type));
}

static bool bool_parse(const char *s, long long *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
		if (str_ieq(s, yes[i]))
			return *out = 1, true;
		if (str_ieq(s, no[i]))
			return *out = 0, true;
	}
	return false;
}

/* No blank and no control character. */
static bool no_blank(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Checks text (non-empty, no control character but tab) against row s and
 * parses it into *num; 0, or -1 with why. */
static int value_check(const struct setting *s, const char *text, long long *num, char *why,
		       size_t whylen)
{
	char e[72], q[80], lo[32], hi[32];
	/* the value in a message: quoted, cut, printable; a secret never */
	const char *shown = "the value";
	if (!(s->flags & SETTING_SECRET)) {
		xsnprintf(q, sizeof q, "'%s'", echo(e, text, strlen(text)));
		shown = q;
	}
	*num = 0;
	switch (s->type) {
	case SETTING_STRING:
	case SETTING_PATH:
		return 0;
	case SETTING_INT:
		if (!str_to_ll(text, -(1LL << 62), 1LL << 62, num)) {
			say(why, whylen, "%s is not a whole number", shown);
			return -1;
		}
		if (*num < s->min || *num > s->max) {
			say(why, whylen, "%lld is out of range (%lld..%lld)", *num, s->min, s->max);
			return -1;
		}
		return 0;
	case SETTING_BYTES:
		if (!bytes_parse(text, num)) {
			say(why, whylen,
			    "%s is not a size in bytes (digits, then optionally K, M, G or T)",
			    shown);
			return -1;
		}
		if (*num < s->min || *num > s->max) {
			say(why, whylen, "%s is out of range (%s..%s)", shown,
			    bytes_text(lo, s->min), bytes_text(hi, s->max));
			return -1;
		}
		return 0;
	case SETTING_BOOL:
		if (!bool_parse(text, num)) {
			say(why, whylen, "%s is not a boolean (true/false, yes/no, on/off, 1/0)",
			    shown);
			return -1;
		}
		return 0;
	case SETTING_NETWORKS: {
		struct cidr nets[CIDR_LIST_MAX];
		size_t n;
		return cidr_list_parse(text, nets, &n, why, whylen);
	}
	case SETTING_URL: {
		bool http = str_starts(text, "http://"), https = str_starts(text, "https://");
		const char *host = text + (https ? 8 : 7);
		size_t len = strlen(text);
		if ((!http && !https) || !*host || *host == '/' || text[len - 1] == '/' ||
		    !no_blank(text)) {
			say(why, whylen,
			    "%s is not an http:// or https:// URL without blanks and "
			    "without a trailing '/'",
			    shown);
			return -1;
		}
		return 0;
	}
	case SETTING_URI_PATH:
		if (text[0] != '/' || !no_blank(text)) {
			say(why, whylen, "%s is not a URI path ('/', then no blank)", shown);
			return -1;
		}
		return 0;
	case SETTING__MAX:
		break;
	}
	abort();
}

/* ---- the table -------------------------------------------------------- */

const struct setting *config_row(const struct config *c, int key)
{
	if (!c || key < 0 || (size_t)key >= c->n) {
		log_err("config: no setting %d", key);
		abort();
	}
	return (size_t)key < S_CORE__MAX ? &config_core_rows[key] : &c->app[key - S_CORE__MAX];
}

size_t config_count(const struct config *c)
{
	return c->n;
}

static int key_index(const struct config *c, const char *key, size_t len)
{
	for (size_t i = 0; i < c->n; i++) {
		const char *k = config_row(c, (int)i)->key;
		if (strlen(k) == len && memcmp(k, key, len) == 0)
			return (int)i;
	}
	return -1;
}

/* The effective value of setting i: its text, else its default with each
 * "{key}" replaced by that setting's effective value (none when that one
 * has none). 0, or -1 with why. */
static int resolve(struct config *c, int i, char *why, size_t whylen)
{
	struct config_value *v = &c->v[i];
	const struct setting *s = config_row(c, i);
	if (v->resolving) {
		log_err("config: the default of %s refers to itself", s->key);
		abort();
	}
	free(v->eff);
	v->eff = NULL;
	v->num = 0;
	const char *def = s->def;
	if (!v->text && !def)
		return 0;
	if (v->text) {
		v->eff = xstrdup(v->text);
	} else {
		v->resolving = true;
		size_t cap = strlen(def) + 1, len = 0;
		char *out = malloc(cap);
		if (!out)
			abort();
		for (const char *p = def; *p;) {
			const char *val = p, *end = strchr(p, '}');
			size_t n = 1;
			if (*p == '{' && end) {
				int j = key_index(c, p + 1, (size_t)(end - p - 1));
				if (j < 0) {
					log_err("config: the default of %s names no setting",
						s->key);
					abort();
				}
				resolve(c, j, NULL, 0);
				val = c->v[j].eff;
				n = val ? strlen(val) : 0;
				p = end + 1;
				if (!val) { /* the setting it is made of has none */
					free(out);
					out = NULL;
					break;
				}
			} else {
				p++;
			}
			if (len + n + 1 > cap) {
				cap = (len + n + 1) * 2;
				out = realloc(out, cap);
				if (!out)
					abort();
			}
			memcpy(out + len, val, n);
			len += n;
			out[len] = '\0';
		}
		v->resolving = false;
		v->eff = out;
	}
	if (!v->eff || !*v->eff) {
		free(v->eff);
		v->eff = NULL;
		return 0;
	}
	return value_check(s, v->eff, &v->num, why, whylen);
}

/* Every effective value again, since a default may be made of what just
 * changed: 0, or -1 with why naming the setting whose default the change
 * makes unusable. */
static int resolve_all(struct config *c, char *why, size_t whylen)
{
	for (size_t i = 0; i < c->n; i++) {
		char w[200];
		if (resolve(c, (int)i, w, sizeof w) != 0) {
			const struct setting *s = config_row(c, (int)i);
			say(why, whylen, "then %s (by default %s) would be refused: %s", s->key,
			    s->def ? s->def : "none", w);
			return -1;
		}
	}
	return 0;
}

struct config *config_empty(const struct settings_table *app)
{
	size_t napp = app ? app->n : 0;
	struct config *c = calloc(1, sizeof *c + (S_CORE__MAX + napp) * sizeof c->v[0]);
	if (!c)
		abort();
	c->app = app ? app->rows : NULL;
	c->napp = napp;
	c->n = S_CORE__MAX + napp;
	for (size_t i = 0; i < c->n; i++) {
		const struct setting *s = config_row(c, (int)i);
		if (!s->key || !s->doc || s->type >= SETTING__MAX) {
			log_err("config: setting %zu has no row", i);
			abort();
		}
	}
	char why[300];
	if (resolve_all(c, why, sizeof why) != 0) { /* the defaults are the table's: a bug */
		log_err("config: %s", why);
		abort();
	}
	return c;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].text);
		free(c->v[i].eff);
	}
	free(c);
}

/* ---- reading ---------------------------------------------------------- */

static void trim(const char **s, size_t *len)
{
	while (*len && isspace((unsigned char)**s))
		(*s)++, (*len)--;
	while (*len && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

/* Sets setting i to text[0..len) (empty: back to its default) given on
 * line lineno; 0, or -1 with why (the setting unchanged). */
static int value_set(struct config *c, int i, const char *text, size_t len, int lineno, char *why,
		     size_t whylen)
{
	for (size_t k = 0; k < len; k++)
		if (((unsigned char)text[k] < 0x20 && text[k] != '\t') || text[k] == 0x7f) {
			say(why, whylen, "the value holds a control character");
			return -1;
		}
	char *old = c->v[i].text;
	int old_line = c->v[i].line;
	c->v[i].text = len ? strndup(text, len) : NULL;
	if (len && !c->v[i].text)
		abort();
	c->v[i].line = len ? lineno : 0;
	char w[300] = "";
	if (resolve(c, i, w, sizeof w) == 0 && resolve_all(c, w, sizeof w) == 0) {
		free(old);
		return 0;
	}
	free(c->v[i].text);
	c->v[i].text = old;
	c->v[i].line = old_line;
	if (resolve_all(c, NULL, 0) != 0) /* it held a moment ago */
		abort();
	say(why, whylen, "%s", w);
	return -1;
}

int config_line(struct config *c, const char *line, int lineno, char *err, size_t errlen)
{
	const char *s = line;
	size_t len = strlen(line);
	trim(&s, &len);
	if (len == 0 || *s == '#')
		return 0;
	const char *eq = memchr(s, '=', len);
	if (!eq) {
		say(err, errlen, "line %d: expected key = value", lineno);
		return -1;
	}
	const char *key = s, *val = eq + 1;
	size_t klen = (size_t)(eq - s), vlen = len - klen - 1;
	trim(&key, &klen);
	trim(&val, &vlen);
	int i = key_index(c, key, klen);
	char e[72];
	if (i < 0) {
		say(err, errlen, "line %d: unknown setting '%s'", lineno, echo(e, key, klen));
		return -1;
	}
	char why[200];
	if (value_set(c, i, val, vlen, lineno, why, sizeof why) != 0) {
		say(err, errlen, "line %d: %s: %s", lineno, config_row(c, i)->key, why);
		return -1;
	}
	return 0;
}

int config_load(const char *path, const struct settings_table *app, struct config **out, char *err,
		size_t errlen)
{
	*out = NULL;
	FILE *f = fopen(path, "r");
	if (!f) {
		say(err, errlen, "cannot open config file");
		return CONFIG_EREAD;
	}
	struct config *c = config_empty(app);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0, rc = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (memchr(line, '\0', (size_t)n)) {
			say(err, errlen, "line %d: holds a NUL byte", lineno);
			rc = CONFIG_EINVALID;
			break;
		}
		if (config_line(c, line, lineno, err, errlen) != 0) {
			rc = CONFIG_EINVALID;
			break;
		}
	}
	if (!rc && ferror(f)) {
		say(err, errlen, "cannot read config file");
		rc = CONFIG_EREAD;
	}
	free(line);
	fclose(f);
	if (rc) {
		config_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void config_set(struct config *c, const char *key, const char *value)
{
	int i = key_index(c, key, strlen(key));
	char why[200] = "unknown setting";
	if (i < 0 || value_set(c, i, value ? value : "", value ? strlen(value) : 0, 0, why,
			       sizeof why) != 0) {
		log_err("config_set %s: %s", key, why);
		abort();
	}
}

/* ---- the getters ------------------------------------------------------ */

const char *setting_str(const struct config *c, int key)
{
	config_row(c, key);
	return c->v[key].eff;
}

long long setting_int(const struct config *c, int key)
{
	const struct setting *s = config_row(c, key);
	if (s->type != SETTING_INT && s->type != SETTING_BYTES) {
		log_err("config: %s is not a number", s->key);
		abort();
	}
	return c->v[key].num;
}

bool setting_bool(const struct config *c, int key)
{
	const struct setting *s = config_row(c, key);
	if (s->type != SETTING_BOOL) {
		log_err("config: %s is not a boolean", s->key);
		abort();
	}
	return c->v[key].num != 0;
}

int setting_line(const struct config *c, int key)
{
	config_row(c, key);
	return c->v[key].line;
}
