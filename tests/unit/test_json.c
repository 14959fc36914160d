#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "json.h"
#include "str.h"
#include "check.h"

/* json_parse's tree against yajl_tree_parse's for the same text: same
 * shape, strings, keys and numbers (both accept comments). */
static bool same_tree(yajl_val a, yajl_val b)
{
	if (!a || !b || a->type != b->type)
		return false;
	switch (a->type) {
	case yajl_t_string:
		return strcmp(a->u.string, b->u.string) == 0;
	case yajl_t_number:
		return strcmp(a->u.number.r, b->u.number.r) == 0 &&
		       a->u.number.flags == b->u.number.flags &&
		       (!(a->u.number.flags & YAJL_NUMBER_INT_VALID) ||
			a->u.number.i == b->u.number.i);
	case yajl_t_object:
		if (a->u.object.len != b->u.object.len)
			return false;
		for (size_t i = 0; i < a->u.object.len; i++)
			if (strcmp(a->u.object.keys[i], b->u.object.keys[i]) != 0 ||
			    !same_tree(a->u.object.values[i], b->u.object.values[i]))
				return false;
		return true;
	case yajl_t_array:
		if (a->u.array.len != b->u.array.len)
			return false;
		for (size_t i = 0; i < a->u.array.len; i++)
			if (!same_tree(a->u.array.values[i], b->u.array.values[i]))
				return false;
		return true;
	default:
		return true;
	}
}

static bool parses_as_yajl_tree(struct arena *a, const char *doc)
{
	const char *err;
	char yerr[256];
	yajl_val mine = json_parse(a, doc, strlen(doc), &err);
	yajl_val theirs = yajl_tree_parse(doc, yerr, sizeof yerr);
	bool same = same_tree(mine, theirs);
	yajl_tree_free(theirs);
	if (!same)
		fprintf(stderr, "differs from yajl_tree: %s (%s)\n", doc, mine ? "" : err);
	return same;
}

/* The message json_parse gives for doc, "" when it parses. */
static const char *refusal(struct arena *a, const char *doc, size_t len)
{
	const char *err = "unset";
	if (json_parse(a, doc, len, &err))
		return err == NULL ? "" : "(a message with a tree)";
	return err ? err : "(no message)";
}
#define REFUSAL(a, lit) refusal((a), (lit), sizeof(lit) - 1)

/* n containers deep: opener^n inner closer^n, in the arena. */
static const char *nested(struct arena *a, const char *open, const char *inner, const char *close,
			  size_t n)
{
	size_t lo = strlen(open), lc = strlen(close), li = strlen(inner);
	char *s = arena_alloc(a, n * (lo + lc) + li + 1);
	char *p = s;
	for (size_t i = 0; i < n; i++, p += lo)
		memcpy(p, open, lo);
	memcpy(p, inner, li);
	p += li;
	for (size_t i = 0; i < n; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	return s;
}

static void test_utf8(void)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
		{"", true},
		{"plain", true},
		{"\xc3\xa9", true},                  /* U+00E9 */
		{"\xe2\x82\xac", true},              /* U+20AC */
		{"\xf0\x9f\x98\x80", true},          /* U+1F600 */
		{"\xed\x9f\xbf", true},              /* U+D7FF, below the surrogates */
		{"\xee\x80\x80", true},              /* U+E000, above them */
		{"\xf4\x8f\xbf\xbf", true},          /* U+10FFFF */
		{"\xc0\xaf", false},                 /* overlong '/' */
		{"\xc1\xbf", false},                 /* overlong */
		{"\xe0\x80\xaf", false},             /* overlong */
		{"\xe0\x9f\xbf", false},             /* overlong U+07FF */
		{"\xf0\x8f\xbf\xbf", false},         /* overlong U+FFFF */
		{"\xed\xa0\x80", false},             /* U+D800 */
		{"\xed\xbf\xbf", false},             /* U+DFFF */
		{"\xed\xa0\xbd\xed\xb8\x80", false}, /* CESU-8 pair */
		{"\xf4\x90\x80\x80", false},         /* U+110000 */
		{"\xf5\x80\x80\x80", false},
		{"\xff", false},
		{"\x80", false},  /* stray continuation */
		{"a\xc3", false}, /* truncated */
		{"\xe2\x82", false},
		{"\xf0\x9f\x98", false},
		{"\xe2\x28\xa1", false}, /* bad continuation */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bool ok = utf8_valid(cases[i].s, strlen(cases[i].s));
		if (ok != cases[i].ok)
			fprintf(stderr, "utf8_valid case %zu\n", i);
		CHECK(ok == cases[i].ok);
	}
	CHECK(utf8_prefix("ab\xc3\xa9", 4, 3) == 2); /* never half a character */
	CHECK(utf8_prefix("ab\xc3\xa9", 4, 4) == 4);
	CHECK(utf8_prefix("abc", 3, 2) == 2);
	CHECK(utf8_prefix("\xf0\x9f\x98\x80z", 5, 3) == 0);
}

/* The abort this guards against: a member name of the input went into the
 * message, formatted into the caller's 64-byte buffer, and a name of 40 to
 * 63 bytes (stored data could hold one) made the message too long for it:
 * xsnprintf aborted the worker. Messages now live in the arena: each is
 * whole (a name quoted up to 40 bytes, then cut with "..."), and short. */
static void test_stored_key_message(struct arena *a)
{
	static const char ks[] = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"; /* 40 */
	for (size_t n = 1; n <= 300; n++) {
		char *name = arena_alloc(a, n + 1);
		memset(name, 'k', n);
		name[n] = '\0';
		const char *doc = arena_printf(a, "{\"%s\":\"\xff\"}", name);
		const char *err = NULL;
		bool refused = json_parse(a, doc, strlen(doc), &err) == NULL;
		const char *want = arena_printf(a, "'%.*s%s' is not valid UTF-8",
						(int)(n < 40 ? n : 40), ks, n <= 40 ? "" : "...");
		bool ok = refused && err && strcmp(err, want) == 0 && strlen(err) <= JSON_ERR_MAX;
		if (!ok)
			fprintf(stderr, "member name of %zu bytes: %s\n", n, err ? err : "(none)");
		CHECK(ok);
	}
	/* Without a place for the message, the refusal is the same. */
	CHECK(json_parse(a, "{\"a\":\"\xff\"}", 8, NULL) == NULL);
}

static void test_limits(struct arena *a)
{
	/* Depth: the top-level container is level 1; 64 are fine, 65 are not,
	 * whatever the containers, and a million levels are refused as fast. */
	CHECK(json_parse(a, nested(a, "[", "1", "]", 64), 64 * 2 + 1, NULL) != NULL);
	CHECK_STR(refusal(a, nested(a, "[", "1", "]", 65), 65 * 2 + 1),
		  "JSON nested deeper than 64 levels");
	const char *obj64 = nested(a, "{\"a\":", "1", "}", 64);
	CHECK(json_parse(a, obj64, strlen(obj64), NULL) != NULL);
	const char *obj65 = nested(a, "{\"a\":", "1", "}", 65);
	CHECK_STR(refusal(a, obj65, strlen(obj65)), "JSON nested deeper than 64 levels");
	const char *deep = nested(a, "[", "", "]", 1000000);
	const char *body = arena_printf(a, "{\"name\":%s}", deep);
	CHECK_STR(refusal(a, body, strlen(body)), "JSON nested deeper than 64 levels");
	const char *deep_obj = nested(a, "{\"a\":", "1", "}", 500000);
	CHECK_STR(refusal(a, deep_obj, strlen(deep_obj)), "JSON nested deeper than 64 levels");
	/* Brackets inside strings and comments are not nesting. */
	const char *str = arena_printf(a, "{\"a\":\"%s\"}", nested(a, "[", "", "{", 100));
	CHECK(json_parse(a, str, strlen(str), NULL) != NULL);
	const char *commented = "/* [[[[ */ {\"a\":1} // ]]]]\n";
	CHECK(json_parse(a, commented, strlen(commented), NULL) != NULL);

	/* Strict UTF-8 in values and member names, naming the member. */
	CHECK_STR(REFUSAL(a, "{\"name\":\"\xc0\xaf\"}"), "'name' is not valid UTF-8");
	CHECK_STR(REFUSAL(a, "{\"name\":\"s\xed\xa0\x80\"}"), "'name' is not valid UTF-8");
	CHECK_STR(REFUSAL(a, "{\"name\":\"\xf4\x90\x80\x80\"}"), "'name' is not valid UTF-8");
	CHECK_STR(REFUSAL(a, "{\"name\":\"\xe2\x82\"}"), "'name' is not valid UTF-8");
	CHECK_STR(REFUSAL(a, "{\"a\":\"\xff\"}"), "'a' is not valid UTF-8");
	CHECK_STR(REFUSAL(a, "{\"tags\":[\"ok\",\"\xc0\xaf\"]}"), "'tags' is not valid UTF-8");
	CHECK_STR(REFUSAL(a, "{\"member\":[{\"origin\":\"\xed\xa0\x80\"}]}"),
		  "'origin' is not valid UTF-8");
	CHECK_STR(REFUSAL(a, "{\"\xc0\xaf\":1}"), "a member name is not valid UTF-8");
	CHECK_STR(REFUSAL(a, "{\"m\":{\"\xed\xa0\x80\":1}}"),
		  "a member name in 'm' is not valid UTF-8");
	CHECK_STR(REFUSAL(a, "[\"\xc0\xaf\"]"), "a string is not valid UTF-8");
	CHECK(*REFUSAL(a, "{\"name\":\"\xc3\xa9\xf0\x9f\x98\x80\"}") == '\0');

	/* Surrogates as escapes: only a high one directly followed by a low
	 * one (which yajl combines) is a character. */
	CHECK_STR(REFUSAL(a, "{\"name\":\"e\\ud800x\"}"),
		  "'name' holds a \\u escape of a lone UTF-16 surrogate");
	CHECK_STR(REFUSAL(a, "{\"name\":\"\\ud800\"}"),
		  "'name' holds a \\u escape of a lone UTF-16 surrogate");
	CHECK_STR(REFUSAL(a, "{\"name\":\"\\udc00\"}"),
		  "'name' holds a \\u escape of a lone UTF-16 surrogate");
	CHECK_STR(REFUSAL(a, "{\"name\":\"\\ud800\\u0041\"}"),
		  "'name' holds a \\u escape of a lone UTF-16 surrogate");
	CHECK_STR(REFUSAL(a, "{\"name\":\"\\udc00\\ud800\"}"),
		  "'name' holds a \\u escape of a lone UTF-16 surrogate");
	CHECK_STR(REFUSAL(a, "{\"name\":\"\\ud800\\n\"}"),
		  "'name' holds a \\u escape of a lone UTF-16 surrogate");
	CHECK_STR(REFUSAL(a, "{\"\\udfff\":1}"),
		  "a member name holds a \\u escape of a lone UTF-16 surrogate");
	/* ... in the right token: an earlier string with an escaped quote and
	 * a comment holding a quote do not shift the count. */
	CHECK_STR(REFUSAL(a, "{\"a\":\"x\\\"\", /* \" */ \"b\":[\"\\ud800\"]}"),
		  "'b' holds a \\u escape of a lone UTF-16 surrogate");
	const char *pair = "{\"e\":\"\\ud83d\\ude00\\u00e9\"}";
	yajl_val v = json_parse(a, pair, strlen(pair), NULL);
	CHECK(v && strcmp(json_get(v, "e")->u.string, "\xf0\x9f\x98\x80\xc3\xa9") == 0);
	CHECK_STR(REFUSAL(a, "{\"name\":\"a\\u0000\"}"), "'name' must not contain \\u0000");
	CHECK_STR(REFUSAL(a, "{\"a\\u0000\":1}"), "a member name must not contain \\u0000");

	/* Messages are bounded: a long member name is cut (at a character
	 * boundary). */
	char name[300];
	memset(name, 'k', sizeof name - 3);
	memcpy(name + 38, "\xc3\xa9", 2);
	name[sizeof name - 3] = '\0';
	const char *doc = arena_printf(a, "{\"%s\":\"\xc0\xaf\"}", name);
	const char *msg = refusal(a, doc, strlen(doc));
	CHECK(strlen(msg) < 80 && strstr(msg, "...' is not valid UTF-8") && msg[0] == '\'');
	CHECK(utf8_valid(msg, strlen(msg)));
	test_stored_key_message(a);
	/* Nothing but blanks and comments after the value: yajl itself lets
	 * an unterminated string through there (found by fuzz_bodies). */
	CHECK_STR(REFUSAL(a, "{\"a\":1}\"xx"), "parse error: trailing garbage");
	CHECK_STR(REFUSAL(a, "1\"\xee"
			     "a:"),
		  "parse error: trailing garbage");
	CHECK_STR(REFUSAL(a, "[1]\"\\ud800"), "parse error: trailing garbage");
	CHECK(*REFUSAL(a, "{\"a\":1} \t\r\n") == '\0');
	CHECK(*REFUSAL(a, "{\"a\":1} /* c */ // d") == '\0');
	CHECK(*REFUSAL(a, "{\"a\":1}// d\n ") == '\0');
	CHECK(*REFUSAL(a, "1") == '\0');
	CHECK(*REFUSAL(a, "-1.5e3 ") == '\0');
	CHECK(*REFUSAL(a, "\"s\"") == '\0');
	CHECK(*REFUSAL(a, "null") == '\0');
	CHECK(*REFUSAL(a, "{\"a\":1} x") != '\0');
	CHECK(*REFUSAL(a, "{\"a\":1} /* c") != '\0');
	CHECK_STR(REFUSAL(a, ""), "parse error: premature EOF");
	CHECK_STR(REFUSAL(a, "  "), "parse error: premature EOF");
}

static void test_same_as_yajl_tree(struct arena *a)
{
	static const char *const docs[] = {
		"{}",
		"[]",
		"null",
		"true",
		"\"s\"",
		"0",
		"-0",
		"{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
		"{\"a\":1,\"a\":2}",
		"[1,-1,1.5,1e3,-2E-2,9223372036854775807,9223372036854775808,-9223372036854775807]",
		"[99999999999999999999,0.1,123456789012345678901234567890]",
		"{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20ac\\ud83d\\ude00\"}",
		"/* c */ [1, // d\n 2]",
		"{\"\":\"\"}",
		"[[[[{\"x\":[[]]}]]]]",
		"{\"k\xc3\xa9\":\"v\xe2\x82\xac\"}",
	};
	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
		CHECK(parses_as_yajl_tree(a, docs[i]));
}

int main(void)
{
	struct arena *a = arena_new(4096);

	struct jw *w = jw_new(a);
	jw_obj(w);
	jw_kstr(w, "s", "a\"b\\c\n");
	jw_kstr_opt(w, "omitted", NULL);
	jw_kint(w, "n", -5);
	jw_kbool(w, "t", true);
	jw_key(w, "arr");
	jw_json_text(w, "[\"x\",1,{\"k\":null}]");
	jw_obj_end(w);
	CHECK(jw_ok(w));
	CHECK_STR(jw_text(w, NULL),
		  "{\"s\":\"a\\\"b\\\\c\\n\",\"n\":-5,\"t\":true,\"arr\":[\"x\",1,{\"k\":null}]}");

	/* Invalid UTF-8 latches: later valid calls do not clear the error. */
	w = jw_new(a);
	jw_arr(w);
	jw_str(w, "\xff\xfe");
	CHECK(!jw_ok(w));
	jw_str(w, "fine");
	jw_arr_end(w);
	CHECK(!jw_ok(w));
	CHECK(jw_text(w, NULL) == NULL);

	/* Structure errors latch too (a key outside an object). */
	w = jw_new(a);
	jw_arr(w);
	jw_arr_end(w);
	jw_arr_end(w);
	CHECK(!jw_ok(w));

	/* Parsing. */
	const char *err = "unset";
	const char *doc = "{\"a\":1,\"b\":\"x\",\"c\":[1,2],\"d\":1.5,\"e\":99999999999999999999}";
	yajl_val v = json_parse(a, doc, strlen(doc), &err);
	CHECK(v != NULL && err == NULL);
	CHECK(json_is_int(json_get(v, "a")));
	CHECK(!json_is_int(json_get(v, "b")));
	CHECK(!json_is_int(json_get(v, "d")));
	CHECK(!json_is_int(json_get(v, "e")));
	CHECK(json_get(v, "zz") == NULL);
	CHECK_STR(json_to_text(a, json_get(v, "c")), "[1,2]");

	CHECK(json_parse(a, "{\"a\":", 5, &err) == NULL);
	CHECK(err && strlen(err) > 0);
	CHECK(json_parse(a, "{\"a\":\"\xff\"}", 8, &err) == NULL);
	/* An escaped NUL would cut a string short: refused. An escaped
	 * backslash before "u0000" is plain text and fine. */
	CHECK(json_parse(a, "{\"a\":\"x\\u0000y\"}", 16, &err) == NULL);
	CHECK(json_parse(a, "{\"a\":\"x\\\\u0000y\"}", 17, &err) != NULL);
	const char nul[] = "{\"a\":\0}";
	CHECK(json_parse(a, nul, sizeof nul - 1, &err) == NULL);

	test_utf8();
	test_limits(a);
	test_same_as_yajl_tree(a);

	arena_free(a);
	return check_done();
}
