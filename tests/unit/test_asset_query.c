/* The asset query parser and SQL builder (handlers/asset_query.c): what is
 * accepted, what is refused with a 400 naming the key, and the exact SQL
 * and parameters each filter produces. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "api/asset_query.h"
#include "check.h"
#include "db.h"
#include "fake_req.h"
#include "json.h"
#include "req.h"

static struct arena *A;
static struct req RQ;
static struct asset_query Q;

/* Parses a query given as key, value, ..., NULL (already decoded). */
static int parse_kv(bool wide, const char *const *kv)
{
	size_t n = 0;
	arena_reset(A);
	fake_req(&RQ, A, NULL, M_GET, "/customers/2/spaces/1/images", NULL);
	while (kv && kv[2 * n])
		n++;
	RQ.query_params = arena_alloc(A, (n ? n : 1) * sizeof *RQ.query_params);
	for (size_t i = 0; i < n; i++) {
		RQ.query_params[i].key = kv[2 * i];
		RQ.query_params[i].value = kv[2 * i + 1];
	}
	RQ.nquery_params = n;
	return asset_query_parse(&RQ, wide, &Q);
}

#define PARSE(wide, ...) parse_kv(wide, (const char *const[]){__VA_ARGS__, NULL})

/* The error description answered by the last req_fail, or "". */
static const char *error_text(void)
{
	const char *t = RQ.jw ? jw_text(RQ.jw, NULL) : NULL;
	return t ? t : "";
}

static bool error_names(const char *what)
{
	return strstr(error_text(), what) != NULL;
}

struct built {
	const char *where, *order;
	struct db_param *p;
	size_t n;
};

static struct built build(int customer, int space)
{
	struct built b;
	asset_query_sql(&Q, A, customer, space, &b.where, &b.order, &b.p, &b.n);
	return b;
}

static bool param_str(const struct built *b, size_t i, const char *want)
{
	return i < b->n && (b->p[i].type == 's' || b->p[i].type == 'S') && b->p[i].s &&
	       b->p[i].len == strlen(want) && memcmp(b->p[i].s, want, b->p[i].len) == 0;
}

static bool param_int(const struct built *b, size_t i, long long want)
{
	return i < b->n && (b->p[i].type == 'i' || b->p[i].type == 'l') && b->p[i].i == want;
}

static void test_empty(void)
{
	CHECK(parse_kv(false, NULL) == 0);
	for (int f = 0; f < AQ__MAX; f++)
		CHECK(Q.v[f].n == 0);
	CHECK(Q.order_column == NULL && !Q.descending && Q.q_text == NULL);
	struct built b = build(2, 1);
	CHECK_STR(b.where, " WHERE a.customer_id=? AND a.space_id=?");
	CHECK_STR(b.order, " ORDER BY a.created, a.space_id, a.id");
	CHECK(b.n == 2 && param_int(&b, 0, 2) && param_int(&b, 1, 1));

	/* customer-wide: no space condition */
	b = build(7, -1);
	CHECK_STR(b.where, " WHERE a.customer_id=?");
	CHECK(b.n == 1 && param_int(&b, 0, 7));

	/* other parameters are not the parser's business; an empty q is no q */
	CHECK(PARSE(false, "page", "3", "pageSize", "10", "space", "4", "q", "") == 0);
	CHECK(Q.v[AQ_SPACE].n == 0 && Q.q_text == NULL);
}

static void test_q_scalars(void)
{
	CHECK(PARSE(false, "q", "{\"string1\":\"my-value\",\"number1\":99}") == 0);
	CHECK(Q.v[AQ_STRING1].n == 1 && strcmp(Q.v[AQ_STRING1].s[0], "my-value") == 0);
	CHECK(Q.v[AQ_NUMBER1].n == 1 && Q.v[AQ_NUMBER1].i[0] == 99);
	struct built b = build(2, 1);
	CHECK_STR(b.where, " WHERE a.customer_id=? AND a.space_id=?"
			   " AND a.string1=? AND a.string1 COLLATE utf8mb4_nopad_bin=?"
			   " AND a.number1=?");
	CHECK(b.n == 5);
	CHECK(param_str(&b, 2, "my-value") && param_str(&b, 3, "my-value"));
	CHECK(param_int(&b, 4, 99));
	CHECK_STR(Q.q_text, "{\"string1\":\"my-value\",\"number1\":99}");

	/* canonical order is the field order, not the input's */
	CHECK(PARSE(false, "q", "{\"number3\":0,\"string3\":\"z\",\"string2\":\"y\"}") == 0);
	CHECK_STR(Q.q_text, "{\"string2\":\"y\",\"string3\":\"z\",\"number3\":0}");
	b = build(2, 1);
	CHECK_STR(b.where, " WHERE a.customer_id=? AND a.space_id=?"
			   " AND a.string2=? AND a.string2 COLLATE utf8mb4_nopad_bin=?"
			   " AND a.string3=? AND a.string3 COLLATE utf8mb4_nopad_bin=?"
			   " AND a.number3=?");
	CHECK(b.n == 7 && param_int(&b, 6, 0));

	/* a large number survives */
	CHECK(PARSE(false, "q", "{\"number2\":9007199254740993}") == 0);
	CHECK(Q.v[AQ_NUMBER2].i[0] == 9007199254740993LL);
}

static void test_q_multi(void)
{
	CHECK(PARSE(false, "q", "{\"string1\":[\"a\",\"b\"]}") == 0);
	CHECK(Q.v[AQ_STRING1].n == 2);
	struct built b = build(2, 1);
	CHECK_STR(b.where,
		  " WHERE a.customer_id=? AND a.space_id=?"
		  " AND a.string1 IN (?,?) AND a.string1 COLLATE utf8mb4_nopad_bin IN (?,?)");
	CHECK(b.n == 6 && param_str(&b, 2, "a") && param_str(&b, 3, "b") && param_str(&b, 4, "a") &&
	      param_str(&b, 5, "b"));
	CHECK_STR(Q.q_text, "{\"string1\":[\"a\",\"b\"]}");

	CHECK(PARSE(false, "q", "{\"number1\":[1,2,3]}") == 0);
	b = build(2, 1);
	CHECK_STR(b.where, " WHERE a.customer_id=? AND a.space_id=? AND a.number1 IN (?,?,?)");
	CHECK(b.n == 5 && param_int(&b, 4, 3));

	/* a one-element array is the same as a scalar */
	CHECK(PARSE(false, "q", "{\"string1\":[\"a\"]}") == 0);
	b = build(2, 1);
	CHECK_STR(b.where, " WHERE a.customer_id=? AND a.space_id=?"
			   " AND a.string1=? AND a.string1 COLLATE utf8mb4_nopad_bin=?");
	CHECK_STR(Q.q_text, "{\"string1\":\"a\"}");
}

static void test_lists(void)
{
	CHECK(PARSE(false, "q", "{\"tags\":[\"my-tag\",\"another-tag\"]}") == 0);
	struct built b = build(2, 1);
	CHECK_STR(b.where,
		  " WHERE a.customer_id=? AND a.space_id=?"
		  " AND EXISTS (SELECT 1 FROM asset_tags t WHERE t.customer_id=a.customer_id"
		  " AND t.space_id=a.space_id AND t.asset_id=a.id AND t.tag IN (?,?))");
	CHECK(b.n == 4 && param_str(&b, 2, "my-tag") && param_str(&b, 3, "another-tag"));

	CHECK(PARSE(false, "q",
		    "{\"roles\":[\"https://api.dlcs.io/customers/2/roles/clickthrough\"]}") == 0);
	b = build(2, 1);
	CHECK_STR(b.where,
		  " WHERE a.customer_id=? AND a.space_id=?"
		  " AND EXISTS (SELECT 1 FROM asset_roles t WHERE t.customer_id=a.customer_id"
		  " AND t.space_id=a.space_id AND t.asset_id=a.id AND t.role=?)");
	CHECK(param_str(&b, 2, "https://api.dlcs.io/customers/2/roles/clickthrough"));

	CHECK(PARSE(false, "q", "{\"manifests\":\"m1\"}") == 0);
	b = build(2, 1);
	CHECK_STR(b.where,
		  " WHERE a.customer_id=? AND a.space_id=?"
		  " AND EXISTS (SELECT 1 FROM asset_manifests t WHERE t.customer_id=a.customer_id"
		  " AND t.space_id=a.space_id AND t.asset_id=a.id AND t.manifest=?)");
	CHECK(b.n == 3 && param_str(&b, 2, "m1"));

	/* several filters combine with AND, in field order */
	CHECK(PARSE(false, "q", "{\"tags\":\"t\",\"string1\":\"s\"}") == 0);
	b = build(2, 1);
	CHECK_STR(b.where,
		  " WHERE a.customer_id=? AND a.space_id=?"
		  " AND a.string1=? AND a.string1 COLLATE utf8mb4_nopad_bin=?"
		  " AND EXISTS (SELECT 1 FROM asset_tags t WHERE t.customer_id=a.customer_id"
		  " AND t.space_id=a.space_id AND t.asset_id=a.id AND t.tag=?)");
	CHECK(b.n == 5 && param_str(&b, 4, "t"));
}

static void test_id(void)
{
	CHECK(PARSE(false, "q", "{\"id\":\"PHOTO.2.22.36.2.tif\"}") == 0);
	struct built b = build(2, 1);
	CHECK_STR(b.where, " WHERE a.customer_id=? AND a.space_id=? AND a.id=?");
	CHECK(b.n == 3 && param_str(&b, 2, "PHOTO.2.22.36.2.tif"));

	CHECK(PARSE(true, "q",
		    "{\"id\":[\"PHOTO.2.22.36.2.tif\",\"other-image.jp2\",\"my-video\"]}") == 0);
	b = build(2, -1);
	CHECK_STR(b.where, " WHERE a.customer_id=? AND a.id IN (?,?,?)");
	CHECK(b.n == 4 && param_str(&b, 3, "my-video"));

	/* ids that could never be stored match nothing (and are not bound) */
	CHECK(PARSE(false, "q", "{\"id\":[\"a b\",\"ok\",\"../x\"]}") == 0);
	b = build(2, 1);
	CHECK_STR(b.where, " WHERE a.customer_id=? AND a.space_id=? AND a.id=?");
	CHECK(b.n == 3 && param_str(&b, 2, "ok"));
	CHECK(PARSE(false, "q", "{\"id\":\"x';DROP TABLE assets;--\"}") == 0);
	b = build(2, 1);
	CHECK_STR(b.where, " WHERE a.customer_id=? AND a.space_id=? AND 1=0");
	CHECK(b.n == 2);
}

static void test_space(void)
{
	CHECK(PARSE(true, "q", "{\"space\":[3,4]}") == 0);
	struct built b = build(2, -1);
	CHECK_STR(b.where, " WHERE a.customer_id=? AND a.space_id IN (?,?)");
	CHECK(b.n == 3 && param_int(&b, 1, 3) && param_int(&b, 2, 4));

	CHECK(PARSE(true, "space", "5") == 0);
	CHECK(Q.v[AQ_SPACE].n == 1 && Q.v[AQ_SPACE].i[0] == 5);
	b = build(2, -1);
	CHECK_STR(b.where, " WHERE a.customer_id=? AND a.space_id=?");

	/* not on a space's images */
	CHECK(PARSE(false, "q", "{\"space\":3}") == 400);
	CHECK(error_names("'space'"));
	CHECK(PARSE(false, "space", "3") == 0 && Q.v[AQ_SPACE].n == 0);

	CHECK(PARSE(true, "space", "x") == 400 && error_names("'space'"));
	CHECK(PARSE(true, "q", "{\"space\":\"3\"}") == 400 && error_names("'space'"));
	CHECK(PARSE(true, "q", "{\"space\":4294967296}") == 400);
}

static void test_shortcuts(void)
{
	CHECK(PARSE(false, "string1", "my-value", "number1", "99") == 0);
	CHECK(Q.v[AQ_STRING1].n == 1 && strcmp(Q.v[AQ_STRING1].s[0], "my-value") == 0);
	CHECK(Q.v[AQ_NUMBER1].n == 1 && Q.v[AQ_NUMBER1].i[0] == 99);
	CHECK(Q.q_text == NULL);

	/* a repeated parameter is OR */
	CHECK(PARSE(false, "string3", "a", "string3", "b") == 0);
	CHECK(Q.v[AQ_STRING3].n == 2);
	struct built b = build(2, 1);
	CHECK(strstr(b.where, "a.string3 IN (?,?)") != NULL);

	/* an empty value matches the empty string (the stored default) */
	CHECK(PARSE(false, "string2", "") == 0);
	CHECK(Q.v[AQ_STRING2].n == 1 && Q.v[AQ_STRING2].s[0][0] == '\0');

	/* shortcuts and q combine when they name different fields */
	CHECK(PARSE(false, "q", "{\"tags\":[\"t\"]}", "number2", "0") == 0);
	CHECK(Q.v[AQ_TAGS].n == 1 && Q.v[AQ_NUMBER2].n == 1);
	CHECK_STR(Q.q_text, "{\"tags\":\"t\"}");

	/* ...and refuse to when they name the same one */
	CHECK(PARSE(false, "q", "{\"string1\":\"a\"}", "string1", "b") == 400);
	CHECK(error_names("'string1'"));

	CHECK(PARSE(false, "number1", "-1") == 400 && error_names("'number1'"));
	CHECK(PARSE(false, "number1", "abc") == 400 && error_names("'number1'"));
	CHECK(PARSE(false, "number3", "1.5") == 400 && error_names("'number3'"));
	CHECK(PARSE(false, "number2", "99999999999999999999") == 400);
	CHECK(PARSE(false, "string1", "\xff\xfe") == 400 && error_names("'string1'"));
	CHECK(PARSE(false, "string1", "\xc0\xaf") == 400); /* overlong '/' */
	CHECK(PARSE(false, "string1", "caf\xc3\xa9") == 0);
	/* tags and id have no shortcut */
	CHECK(PARSE(false, "tags", "x", "id", "y") == 0);
	CHECK(Q.v[AQ_TAGS].n == 0 && Q.v[AQ_ID].n == 0);
}

static void test_bad_q(void)
{
	CHECK(PARSE(false, "q", "{\"string1\":") == 400 && error_names("'q'"));
	CHECK(PARSE(false, "q", "[1,2]") == 400 && error_names("'q'"));
	CHECK(PARSE(false, "q", "\"x\"") == 400 && error_names("'q'"));
	CHECK(PARSE(false, "q", "{\"number\":101}") == 400 && error_names("'number'"));
	CHECK(PARSE(false, "q", "{\"String1\":\"x\"}") == 400 && error_names("'String1'"));
	CHECK(PARSE(false, "q", "{\"string1\":\"a\",\"string1\":\"b\"}") == 400);
	CHECK(error_names("'string1'"));

	CHECK(PARSE(false, "q", "{\"number1\":-1}") == 400 && error_names("'number1'"));
	CHECK(PARSE(false, "q", "{\"number1\":\"5\"}") == 400 && error_names("'number1'"));
	CHECK(PARSE(false, "q", "{\"number1\":1.5}") == 400 && error_names("'number1'"));
	CHECK(PARSE(false, "q", "{\"number1\":1e3}") == 400 && error_names("'number1'"));
	CHECK(PARSE(false, "q", "{\"number1\":null}") == 400 && error_names("'number1'"));
	CHECK(PARSE(false, "q", "{\"number1\":[1,\"2\"]}") == 400 && error_names("'number1'"));
	CHECK(PARSE(false, "q", "{\"string1\":5}") == 400 && error_names("'string1'"));
	CHECK(PARSE(false, "q", "{\"string1\":true}") == 400 && error_names("'string1'"));
	CHECK(PARSE(false, "q", "{\"string1\":{\"a\":1}}") == 400 && error_names("'string1'"));
	CHECK(PARSE(false, "q", "{\"string1\":[[\"a\"]]}") == 400 && error_names("'string1'"));
	CHECK(PARSE(false, "q", "{\"tags\":[1]}") == 400 && error_names("'tags'"));
	CHECK(PARSE(false, "q", "{\"tags\":[]}") == 400 && error_names("'tags'"));
	CHECK(PARSE(false, "q", "{\"id\":7}") == 400 && error_names("'id'"));

	/* AQ_MAX_VALUES values are fine, one more is not */
	struct sbuf s;
	struct arena *b = arena_new(4096);
	for (int extra = 0; extra < 2; extra++) {
		sbuf_init(&s, b);
		sbuf_adds(&s, "{\"number1\":[");
		for (int i = 0; i < AQ_MAX_VALUES + extra; i++)
			sbuf_printf(&s, "%s%d", i ? "," : "", i);
		sbuf_adds(&s, "]}");
		int st = PARSE(false, "q", s.buf);
		CHECK(st == (extra ? 400 : 0));
		if (!extra) {
			CHECK(Q.v[AQ_NUMBER1].n == AQ_MAX_VALUES);
			struct built bb = build(1, 1);
			CHECK(bb.n == 2 + AQ_MAX_VALUES);
		} else {
			CHECK(error_names("'number1'"));
		}
	}
	arena_free(b);
}

static void test_values_are_data(void)
{
	static const char *const nasty[] = {"x' OR '1'='1", "a\"b",        "a;b", "--", "100%",
					    "a_b",          "back\\slash", "%",   "_"};
	for (size_t i = 0; i < sizeof nasty / sizeof nasty[0]; i++) {
		CHECK(PARSE(false, "string1", nasty[i]) == 0);
		struct built b = build(2, 1);
		CHECK_STR(b.where, " WHERE a.customer_id=? AND a.space_id=?"
				   " AND a.string1=? AND a.string1 COLLATE utf8mb4_nopad_bin=?");
		CHECK(param_str(&b, 2, nasty[i]) && param_str(&b, 3, nasty[i]));
		CHECK(strstr(b.where, "LIKE") == NULL);
	}
	/* the same through q, and in a list table */
	CHECK(PARSE(false, "q", "{\"tags\":[\"a%\",\"b_\"],\"string2\":\"'\"}") == 0);
	struct built b = build(2, 1);
	CHECK(strstr(b.where, "LIKE") == NULL && strchr(b.where, '\'') == NULL &&
	      strchr(b.where, '%') == NULL);
	CHECK(param_str(&b, 2, "'") && param_str(&b, 4, "a%") && param_str(&b, 5, "b_"));
}

static void test_order(void)
{
	CHECK(PARSE(false, "orderBy", "width") == 0);
	CHECK_STR(Q.order_field, "width");
	CHECK_STR(Q.order_column, "a.width");
	CHECK(!Q.descending);
	struct built b = build(2, 1);
	CHECK_STR(b.order, " ORDER BY a.width, a.space_id, a.id");

	CHECK(PARSE(false, "orderByDescending", "created") == 0);
	CHECK(Q.descending);
	b = build(2, 1);
	CHECK_STR(b.order, " ORDER BY a.created DESC, a.space_id DESC, a.id DESC");

	/* orderBy wins */
	CHECK(PARSE(false, "orderByDescending", "string3", "orderBy", "height") == 0);
	CHECK(!Q.descending);
	CHECK_STR(Q.order_column, "a.height");

	CHECK(PARSE(false, "orderBy", "id") == 0);
	b = build(2, 1);
	CHECK_STR(b.order, " ORDER BY a.id, a.space_id");
	CHECK(PARSE(true, "orderByDescending", "space") == 0);
	b = build(2, -1);
	CHECK_STR(b.order, " ORDER BY a.space_id DESC, a.id DESC");

	/* field names are matched without regard to case (Protagonist PascalCases them) */
	CHECK(PARSE(false, "orderBy", "MediaType") == 0);
	CHECK_STR(Q.order_field, "mediaType");
	CHECK_STR(Q.order_column, "a.media_type");

	static const char *const ok[][2] = {
		{"space", "a.space_id"},
		{"origin", "a.origin"},
		{"string1", "a.string1"},
		{"string2", "a.string2"},
		{"string3", "a.string3"},
		{"number1", "a.number1"},
		{"number2", "a.number2"},
		{"number3", "a.number3"},
		{"duration", "a.duration"},
		{"family", "a.family"},
		{"maxUnauthorised", "a.max_unauthorised"},
		{"finished", "a.finished"},
		{"ingesting", "a.ingesting"},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		CHECK(PARSE(false, "orderBy", ok[i][0]) == 0);
		CHECK_STR(Q.order_column, ok[i][1]);
	}

	static const char *const bad[] = {"",      "a.width",     "width;DROP", "tags",
					  "roles", "customer_id", "width DESC", "1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK(PARSE(false, "orderBy", bad[i]) == 400);
		CHECK(error_names("orderBy"));
		CHECK(Q.order_column == NULL);
	}
	CHECK(PARSE(false, "orderByDescending", "nope") == 400 && error_names("orderByDescending"));
}

int main(void)
{
	A = arena_new(1 << 16);
	test_empty();
	test_q_scalars();
	test_q_multi();
	test_lists();
	test_id();
	test_space();
	test_shortcuts();
	test_bad_q();
	test_values_are_data();
	test_order();
	arena_free(A);
	return check_done();
}
