#include <string.h>

#include "arena.h"
#include "json.h"
#include "check.h"

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
	char err[128];
	const char *doc = "{\"a\":1,\"b\":\"x\",\"c\":[1,2],\"d\":1.5,\"e\":99999999999999999999}";
	yajl_val v = json_parse(a, doc, strlen(doc), err, sizeof err);
	CHECK(v != NULL);
	CHECK(json_is_int(json_get(v, "a")));
	CHECK(!json_is_int(json_get(v, "b")));
	CHECK(!json_is_int(json_get(v, "d")));
	CHECK(!json_is_int(json_get(v, "e")));
	CHECK(json_get(v, "zz") == NULL);
	CHECK_STR(json_to_text(a, json_get(v, "c")), "[1,2]");

	CHECK(json_parse(a, "{\"a\":", 5, err, sizeof err) == NULL);
	CHECK(strlen(err) > 0);
	CHECK(json_parse(a, "{\"a\":\"\xff\"}", 8, err, sizeof err) == NULL);
	/* An escaped NUL would cut a string short: refused. An escaped
	 * backslash before "u0000" is plain text and fine. */
	CHECK(json_parse(a, "{\"a\":\"x\\u0000y\"}", 16, err, sizeof err) == NULL);
	CHECK(json_parse(a, "{\"a\":\"x\\\\u0000y\"}", 17, err, sizeof err) != NULL);
	const char nul[] = "{\"a\":\0}";
	CHECK(json_parse(a, nul, sizeof nul - 1, err, sizeof err) == NULL);

	arena_free(a);
	return check_done();
}
