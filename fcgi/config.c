#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "str.h"
#include "banned.h"

struct config_entry {
	char *key, *value;
};

struct config {
	struct config_entry *e;
	size_t n, cap;
};

static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		abort();
	return p;
}

struct config *config_empty(void)
{
	struct config *c = calloc(1, sizeof *c);
	if (!c)
		abort();
	return c;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].key);
		free(c->e[i].value);
	}
	free(c->e);
	free(c);
}

void config_set(struct config *c, const char *key, const char *value)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].key, key) == 0) {
			free(c->e[i].value);
			c->e[i].value = xstrdup(value);
			return;
		}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->e = realloc(c->e, c->cap * sizeof *c->e);
		if (!c->e)
			abort();
	}
	c->e[c->n].key = xstrdup(key);
	c->e[c->n].value = xstrdup(value);
	c->n++;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

struct config *config_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		xsnprintf(err, errlen, "cannot open config file");
		return NULL;
	}
	struct config *c = config_empty();
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0;
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			xsnprintf(err, errlen, "config line %d: expected key = value", lineno);
			free(line);
			fclose(f);
			config_free(c);
			return NULL;
		}
		*eq = '\0';
		config_set(c, trim(s), trim(eq + 1));
	}
	free(line);
	fclose(f);
	return c;
}

const char *config_str(const struct config *c, const char *key, const char *def)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (strcmp(c->e[i].key, key) == 0)
			return c->e[i].value[0] ? c->e[i].value : def;
	return def;
}

long long config_int(const struct config *c, const char *key, long long def)
{
	const char *s = config_str(c, key, NULL);
	long long v;
	if (!s || !str_to_ll(s, -(1LL << 62), 1LL << 62, &v))
		return def;
	return v;
}
