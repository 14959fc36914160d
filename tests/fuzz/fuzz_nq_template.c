/* libFuzzer driver: named-query templates (handlers/asset/nq_template.c).
 * The input is a template on its first line and the request's arguments on
 * the following lines (tests/data/fuzz/nq_template/): the template goes
 * through nq_template_parse, and, when it parses, through nq_bind with
 * those arguments (those that are UTF-8 without NUL, as the router passes
 * only such path segments) and asset_query_sql.
 *
 * Invariants: a refusal is a message that is UTF-8 (it reaches a JSON
 * error body) and bounded; a parsed template's argument numbers are 1..99
 * and within max_arg; a bound query's SQL holds only fixed fragments (no
 * quote, backslash, semicolon or comment: values are never pasted in) with
 * one bound parameter per '?', every bound string UTF-8, and its ORDER BY
 * names only whitelisted columns. */
#include <string.h>

#include "arena.h"
#include "db.h"
#include "str.h"
#include "asset/nq_template.h"
#include "asset/query.h"
#include "fuzz.h"

#define MAX_ARGS 8

static void check_message(const char *why)
{
	FUZZ_ASSERT(why && *why && strlen(why) < 400 && utf8_valid(why, strlen(why)));
}

static void check_template(const struct nq_template *t)
{
	FUZZ_ASSERT(t->max_arg >= 0 && t->max_arg <= NQ_MAX_ARG);
	for (int f = 0; f < NQF__MAX; f++)
		FUZZ_ASSERT(t->filter[f].arg <= t->max_arg &&
			    (t->filter[f].arg > 0 || !t->filter[f].present || t->filter[f].text));
	FUZZ_ASSERT(t->norder <= AQ_MAX_ORDER && t->nhash <= NQ_MAX_HASH);
}

static void check_sql(struct arena *a, const struct asset_query *q)
{
	static const char *const allowed[] = {"a.created", "a.string1", "a.string2", "a.string3",
					      "a.number1", "a.number2", "a.number3"};
	const char *where, *order;
	struct db_param *p;
	size_t n;
	asset_query_sql(q, a, 2, -1, &where, &order, &p, &n);
	size_t marks = 0;
	for (const char *s = where; (s = strchr(s, '?')); s++)
		marks++;
	FUZZ_ASSERT(marks == n);
	FUZZ_ASSERT(!strpbrk(where, "'\"\\;`#") && !strstr(where, "--") && !strstr(where, "/*"));
	FUZZ_ASSERT(!strpbrk(order, "'\"\\;`#?"));
	FUZZ_ASSERT(strncmp(where, " WHERE a.customer_id=?", 22) == 0);
	FUZZ_ASSERT(strncmp(order, " ORDER BY ", 10) == 0);
	for (size_t i = 0; i < n; i++)
		if (p[i].type == 'S' || p[i].type == 's')
			FUZZ_ASSERT(p[i].s && utf8_valid(p[i].s, p[i].len));
	/* every key of the ORDER BY is a whitelisted column, then the tie-breakers */
	const char *k = order + 10;
	for (;;) {
		size_t len = strcspn(k, " ,");
		bool known = (len == 10 && strncmp(k, "a.space_id", 10) == 0) ||
			     (len == 4 && strncmp(k, "a.id", 4) == 0);
		for (size_t i = 0; !known && i < sizeof allowed / sizeof allowed[0]; i++)
			known = strlen(allowed[i]) == len && strncmp(k, allowed[i], len) == 0;
		FUZZ_ASSERT(known);
		k += len;
		if (strncmp(k, " DESC", 5) == 0)
			k += 5;
		if (*k == '\0')
			break;
		FUZZ_ASSERT(strncmp(k, ", ", 2) == 0);
		k += 2;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = fuzz_arena();
	const char *text = arena_strndup(a, (const char *)data, size);
	size_t first = strcspn(text, "\n");
	const char *tpl = arena_strndup(a, text, first);
	if (strlen(tpl) != first)
		return 0; /* a NUL: templates come from JSON strings, which have none */
	const char *args[MAX_ARGS];
	size_t nargs = 0;
	for (const char *p = text + first; *p == '\n' && nargs < MAX_ARGS;) {
		p++;
		size_t len = strcspn(p, "\n");
		const char *arg = arena_strndup(a, p, len);
		if (len && utf8_valid(arg, len))
			args[nargs++] = arg;
		p += len;
	}
	struct nq_template t;
	const char *why = nq_template_parse(a, tpl, &t);
	if (why) {
		check_message(why);
		return 0;
	}
	check_template(&t);
	static struct asset_query q;
	const char *texts[NQT__MAX];
	why = nq_bind(a, &t, args, nargs, &q, texts);
	if (why) {
		check_message(why);
		return 0;
	}
	check_sql(a, &q);
	return 0;
}
