/* The rules of origin strategies (asset/origin_rules.h). */
#include <regex.h>
#include <stdbool.h>
#include <string.h>

#include "arena.h"
#include "json.h"
#include "str.h"
#include "asset/origin_rules.h"
#include "banned.h"

#define REGEX_BOUND_PRODUCT_MAX 10000
#define REGEX_MATCH_ALL         "*"

static const char *const STRATEGY_NAMES[] = {"default", "basic-http-authentication"};
#define STRATEGY_BASIC STRATEGY_NAMES[1]

const char *origin_strategy_name(const char *s)
{
	static const char dir[] = "/originStrategies/";
	if (!s)
		return NULL;
	const char *name = s, *slash = strrchr(s, '/');
	if (slash) {
		size_t pre = (size_t)(slash - s) + 1;
		if (pre < sizeof dir - 1 ||
		    memcmp(slash + 1 - (sizeof dir - 1), dir, sizeof dir - 1))
			return NULL;
		name = slash + 1;
	}
	for (size_t i = 0; i < sizeof STRATEGY_NAMES / sizeof STRATEGY_NAMES[0]; i++)
		if (strcmp(name, STRATEGY_NAMES[i]) == 0)
			return STRATEGY_NAMES[i];
	return NULL;
}

bool origin_strategy_needs_credentials(const char *name)
{
	return name && strcmp(name, STRATEGY_BASIC) == 0;
}

const char *origin_credentials_read(struct arena *a, yajl_val v, const char **user,
				    const char **password)
{
	if (v && v->type == yajl_t_string) {
		v = a ? json_parse(a, v->u.string, strlen(v->u.string), NULL) : NULL;
		if (!v)
			return "must be JSON {\"user\",\"password\"}";
	}
	if (!v || v->type != yajl_t_object)
		return "must be an object {\"user\",\"password\"} or a string holding one";
	yajl_val u = json_get(v, "user"), p = json_get(v, "password");
	if (!u || u->type != yajl_t_string || !u->u.string[0])
		return "must have a non-empty string 'user'";
	if (!p || p->type != yajl_t_string)
		return "must have a string 'password'";
	if (strchr(u->u.string, ':'))
		return "must have a 'user' without ':'";
	*user = u->u.string;
	*password = p->u.string;
	return NULL;
}

/* A conservative bound on what regcomp will expand: the product of every
 * repetition count in the pattern (nested or not), and no back-references.
 * Bracket expressions and escapes are skipped so their braces and digits are
 * literals. */
static const char *regex_cost(const char *p)
{
	long long product = 1;
	for (size_t i = 0; p[i];) {
		if (p[i] == '\\') {
			if (p[i + 1] >= '1' && p[i + 1] <= '9')
				return "back-references are not supported";
			i += p[i + 1] ? 2 : 1;
		} else if (p[i] == '[') {
			size_t j = i + 1;
			j += p[j] == '^';
			j += p[j] == ']';
			while (p[j] && p[j] != ']') {
				if (p[j] == '[' &&
				    (p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
					char close = p[j + 1];
					const char *e = p + j + 2;
					while (*e && !(e[0] == close && e[1] == ']'))
						e++;
					j = *e ? (size_t)(e - p) + 2 : (size_t)(e - p);
				} else {
					j++;
				}
			}
			i = p[j] ? j + 1 : j;
		} else if (p[i] == '{') {
			long long hi = 0;
			size_t j = i + 1;
			for (; p[j] >= '0' && p[j] <= '9' && hi <= REGEX_BOUND_PRODUCT_MAX; j++)
				hi = hi * 10 + (p[j] - '0');
			if (p[j] == ',') {
				long long n = 0;
				for (j++;
				     p[j] >= '0' && p[j] <= '9' && n <= REGEX_BOUND_PRODUCT_MAX;
				     j++)
					n = n * 10 + (p[j] - '0');
				if (n > hi)
					hi = n;
			}
			if (hi > 1)
				product *= hi;
			if (product > REGEX_BOUND_PRODUCT_MAX)
				return "repetition counts are too large (their product must be at "
				       "most "
				       "10000)";
			i = j;
		} else {
			i++;
		}
	}
	return NULL;
}

static int regex_compile(regex_t *re, const char *pattern)
{
	if (strcmp(pattern, REGEX_MATCH_ALL) == 0)
		pattern = ".*";
	return regcomp(re, pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB);
}

const char *origin_regex_check(struct arena *a, const char *pattern)
{
	if (!pattern || !*pattern)
		return "is empty";
	const char *why = regex_cost(pattern);
	if (why)
		return why;
	regex_t re;
	int rc = regex_compile(&re, pattern);
	if (rc == 0) {
		regfree(&re);
		return NULL;
	}
	char msg[128];
	regerror(rc, &re, msg, sizeof msg);
	return arena_printf(a, "is not a POSIX extended regular expression (%s)", msg);
}

int origin_regex_compile(regex_t *re, const char *pattern)
{
	if (regex_cost(pattern))
		return REG_BADPAT;
	return regex_compile(re, pattern);
}
