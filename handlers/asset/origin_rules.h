/* Origin strategies: the rules the API applies when a customer stores a
 * strategy, shared so that what is accepted there is exactly what the
 * ingest (ingest/origin.h) applies when it chooses credentials. */
#ifndef DLCS_ASSET_ORIGIN_RULES_H
#define DLCS_ASSET_ORIGIN_RULES_H

#include <regex.h>
#include <stdbool.h>
#include <yajl/yajl_tree.h>

struct arena;

/* The canonical strategy name ("default" or "basic-http-authentication",
 * static storage) for a name or a URL ending in /originStrategies/<name>;
 * NULL for anything else. */
const char *origin_strategy_name(const char *s);
/* True for strategies that need {"user","password"} credentials. */
bool origin_strategy_needs_credentials(const char *name);

/* NULL when pattern is a POSIX extended regular expression that ingest will
 * use (matched case-insensitively, unanchored, against the origin URL), else
 * the reason in the arena. "*" alone is accepted and matches every origin
 * (the seed's example). Back-references and repetition bounds whose product
 * exceeds 10000 are refused: they make glibc's regcomp/regexec run for
 * minutes. */
const char *origin_regex_check(struct arena *a, const char *pattern);

/* Reads credentials given as an object {"user","password"} or as a string
 * holding that JSON (the seed's form). NULL when valid (*user, *password
 * point into v or the arena), else the reason ("must ..."). The user must be
 * non-empty without ':' (HTTP Basic splits on it); the password may be empty. */
const char *origin_credentials_read(struct arena *a, yajl_val v, const char **user,
				    const char **password);

/* Compiles a stored pattern the way the ingest matches it (case-insensitive,
 * unanchored, "*" matching everything); a pattern origin_regex_check would
 * refuse for its cost is not compiled. 0, or regcomp's error (re then holds
 * nothing to free). */
int origin_regex_compile(regex_t *re, const char *pattern);

#endif
