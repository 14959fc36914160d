/* The asset query syntax: ?q={json}, the shortcut parameters and ordering,
 * parsed into a struct asset_query and turned into SQL made only of fixed
 * fragments and whitelisted column names; every value is a bound parameter
 * and is matched exactly (never LIKE). */
#include <limits.h>
#include <string.h>

#include "arena.h"
#include "db.h"
#include "ids.h"
#include "json.h"
#include "req.h"
#include "str.h"
#include "api/asset_query.h"
#include "banned.h"

/* utf8mb4_unicode_ci, the collation of string1..3, folds case and ignores
 * trailing spaces; a second test under this collation makes the match exact
 * while the first, under the column's own collation, keeps the index usable. */
#define EXACT_COLLATION "utf8mb4_nopad_bin"

enum aq_kind {
	AQK_STRING, /* string values compared with a scalar column */
	AQK_NUMBER, /* non-negative integers */
	AQK_SPACE,  /* a space id */
	AQK_LIST,   /* strings matched against an indexed list table */
	AQK_ID,     /* asset ids */
};

struct aq_def {
	const char *name; /* key in q, and the shortcut parameter when shortcut */
	enum aq_kind kind;
	bool shortcut;
	const char *column; /* scalar column of alias a, or the list table's value column */
	const char *table;  /* list table (AQK_LIST) */
};

static const struct aq_def aq_defs[AQ__MAX] = {
	[AQ_STRING1] = {"string1", AQK_STRING, true, "a.string1", NULL},
	[AQ_STRING2] = {"string2", AQK_STRING, true, "a.string2", NULL},
	[AQ_STRING3] = {"string3", AQK_STRING, true, "a.string3", NULL},
	[AQ_NUMBER1] = {"number1", AQK_NUMBER, true, "a.number1", NULL},
	[AQ_NUMBER2] = {"number2", AQK_NUMBER, true, "a.number2", NULL},
	[AQ_NUMBER3] = {"number3", AQK_NUMBER, true, "a.number3", NULL},
	[AQ_TAGS] = {"tags", AQK_LIST, false, "t.tag", "asset_tags"},
	[AQ_ROLES] = {"roles", AQK_LIST, false, "t.role", "asset_roles"},
	[AQ_ID] = {"id", AQK_ID, false, "a.id", NULL},
	[AQ_SPACE] = {"space", AQK_SPACE, true, "a.space_id", NULL},
	[AQ_MANIFESTS] = {"manifests", AQK_LIST, false, "t.manifest", "asset_manifests"},
};

/* orderBy / orderByDescending: API field -> column. Nothing else is ever
 * placed into ORDER BY. */
static const struct {
	const char *field, *column;
} aq_orders[] = {
	{"id", "a.id"},
	{"space", "a.space_id"},
	{"created", "a.created"},
	{"origin", "a.origin"},
	{"string1", "a.string1"},
	{"string2", "a.string2"},
	{"string3", "a.string3"},
	{"number1", "a.number1"},
	{"number2", "a.number2"},
	{"number3", "a.number3"},
	{"width", "a.width"},
	{"height", "a.height"},
	{"duration", "a.duration"},
	{"mediaType", "a.media_type"},
	{"family", "a.family"},
	{"maxUnauthorised", "a.max_unauthorised"},
	{"finished", "a.finished"},
	{"ingesting", "a.ingesting"},
};

static int field_by_name(const char *name)
{
	for (int f = 0; f < AQ__MAX; f++)
		if (strcmp(aq_defs[f].name, name) == 0)
			return f;
	return -1;
}

static const char *kind_expect(enum aq_kind k)
{
	switch (k) {
	case AQK_NUMBER:
		return "a non-negative integer or an array of them";
	case AQK_SPACE:
		return "a space id (integer) or an array of them";
	default:
		return "a string or an array of strings";
	}
}

/* One JSON value of q into out. */
static int q_value_one(struct req *rq, int f, yajl_val v, struct aq_values *out)
{
	const struct aq_def *d = &aq_defs[f];
	if (out->n >= AQ_MAX_VALUES)
		return req_fail(rq, 400, "'%s' in q has more than %d values", d->name,
				AQ_MAX_VALUES);
	switch (d->kind) {
	case AQK_NUMBER:
	case AQK_SPACE:
		if (!json_is_int(v) || v->u.number.i < 0 ||
		    (d->kind == AQK_SPACE && v->u.number.i > INT_MAX))
			return req_fail(rq, 400, "'%s' in q must be %s", d->name,
					kind_expect(d->kind));
		out->i[out->n++] = v->u.number.i;
		return 0;
	default:
		if (!YAJL_IS_STRING(v))
			return req_fail(rq, 400, "'%s' in q must be %s", d->name,
					kind_expect(d->kind));
		out->s[out->n++] = v->u.string;
		return 0;
	}
}

static int q_value(struct req *rq, int f, yajl_val v, struct aq_values *out)
{
	if (!YAJL_IS_ARRAY(v))
		return q_value_one(rq, f, v, out);
	if (v->u.array.len == 0)
		return req_fail(rq, 400, "'%s' in q must not be an empty array", aq_defs[f].name);
	for (size_t i = 0; i < v->u.array.len; i++) {
		int st = q_value_one(rq, f, v->u.array.values[i], out);
		if (st)
			return st;
	}
	return 0;
}

/* The filters that came from q, re-serialised in a fixed key order: a
 * single value as a scalar, several as an array. */
static const char *q_canonical(struct req *rq, const struct asset_query *q, const bool *from_q)
{
	struct jw *w = jw_new(rq->arena);
	jw_obj(w);
	for (int f = 0; f < AQ__MAX; f++) {
		const struct aq_values *v = &q->v[f];
		if (!from_q[f])
			continue;
		jw_key(w, aq_defs[f].name);
		if (v->n > 1)
			jw_arr(w);
		for (size_t i = 0; i < v->n; i++) {
			if (aq_defs[f].kind == AQK_NUMBER || aq_defs[f].kind == AQK_SPACE)
				jw_int(w, v->i[i]);
			else
				jw_str(w, v->s[i]);
		}
		if (v->n > 1)
			jw_arr_end(w);
	}
	jw_obj_end(w);
	return jw_text(w, NULL);
}

static int parse_q(struct req *rq, const char *text, bool customer_wide, struct asset_query *q,
		   bool *from_q)
{
	const char *err;
	yajl_val root = json_parse(rq->arena, text, strlen(text), &err);
	if (!root)
		return req_fail(rq, 400, "'q' is not valid JSON: %s", err);
	if (!YAJL_IS_OBJECT(root))
		return req_fail(rq, 400, "'q' must be a JSON object");
	for (size_t i = 0; i < root->u.object.len; i++) {
		const char *key = root->u.object.keys[i];
		int f = field_by_name(key);
		if (f < 0 || (f == AQ_SPACE && !customer_wide))
			return req_fail(rq, 400, "unknown key '%s' in 'q'", key);
		if (from_q[f])
			return req_fail(rq, 400, "'%s' appears twice in 'q'", key);
		yajl_val v = root->u.object.values[i];
		int st = q_value(rq, f, v, &q->v[f]);
		if (st)
			return st;
		from_q[f] = true;
	}
	q->q_text = q_canonical(rq, q, from_q);
	return 0;
}

/* ?string1=a&number1=5 (a repeated parameter adds values: OR). */
static int parse_shortcuts(struct req *rq, bool customer_wide, struct asset_query *q,
			   const bool *from_q)
{
	for (size_t i = 0; i < rq->nquery_params; i++) {
		const struct kv *p = &rq->query_params[i];
		int f = field_by_name(p->key);
		if (f < 0 || !aq_defs[f].shortcut || (f == AQ_SPACE && !customer_wide))
			continue;
		const struct aq_def *d = &aq_defs[f];
		struct aq_values *v = &q->v[f];
		if (from_q[f])
			return req_fail(rq, 400, "'%s' is given both in 'q' and as a parameter",
					d->name);
		if (v->n >= AQ_MAX_VALUES)
			return req_fail(rq, 400, "'%s' has more than %d values", d->name,
					AQ_MAX_VALUES);
		long long n;
		switch (d->kind) {
		case AQK_NUMBER:
			if (!str_to_ll(p->value, 0, LLONG_MAX, &n))
				return req_fail(rq, 400, "'%s' must be a non-negative integer",
						d->name);
			v->i[v->n++] = n;
			break;
		case AQK_SPACE:
			if (!str_to_ll(p->value, 0, INT_MAX, &n))
				return req_fail(rq, 400, "'%s' must be a space id", d->name);
			v->i[v->n++] = n;
			break;
		default:
			if (!utf8_valid(p->value, strlen(p->value)))
				return req_fail(rq, 400, "'%s' is not valid UTF-8", d->name);
			v->s[v->n++] = p->value;
			break;
		}
	}
	return 0;
}

static int parse_order(struct req *rq, struct asset_query *q)
{
	const char *param = "orderBy";
	const char *field = req_query(rq, param);
	q->descending = false;
	if (!field) {
		param = "orderByDescending";
		field = req_query(rq, param);
		q->descending = field != NULL;
	}
	if (!field)
		return 0;
	for (size_t i = 0; i < sizeof aq_orders / sizeof aq_orders[0]; i++) {
		if (str_ieq(field, aq_orders[i].field)) {
			q->order_field = aq_orders[i].field;
			q->order_column = aq_orders[i].column;
			return 0;
		}
	}
	q->descending = false;
	return req_fail(rq, 400, "'%s': cannot order by '%s'", param,
			utf8_valid(field, strlen(field)) ? field : "?");
}

int asset_query_parse(struct req *rq, bool customer_wide, struct asset_query *q)
{
	bool from_q[AQ__MAX] = {false};
	memset(q, 0, sizeof *q);
	const char *text = req_query(rq, "q");
	int st;
	if (text && *text && (st = parse_q(rq, text, customer_wide, q, from_q)))
		return st;
	if ((st = parse_shortcuts(rq, customer_wide, q, from_q)))
		return st;
	return parse_order(rq, q);
}

/* "=?" for one value, " IN (?,?,...)" for several. */
static void sql_in(struct sbuf *b, size_t n)
{
	if (n == 1) {
		sbuf_adds(b, "=?");
		return;
	}
	sbuf_adds(b, " IN (");
	for (size_t i = 0; i < n; i++)
		sbuf_adds(b, i ? ",?" : "?");
	sbuf_addc(b, ')');
}

static void bind_int(struct db_param *p, size_t *n, long long v)
{
	p[*n] = (struct db_param){.type = 'l', .i = v};
	(*n)++;
}

static void bind_str(struct db_param *p, size_t *n, const char *s)
{
	p[*n] = (struct db_param){.type = 'S', .s = s, .len = strlen(s)};
	(*n)++;
}

void asset_query_sql(const struct asset_query *q, struct arena *a, int customer, int space,
		     const char **where, const char **order, struct db_param **params,
		     size_t *nparams)
{
	size_t cap = 2;
	for (int f = 0; f < AQ__MAX; f++)
		cap += 2 * q->v[f].n; /* strings are bound twice (see EXACT_COLLATION) */
	struct db_param *p = arena_alloc(a, cap * sizeof *p);
	size_t n = 0;

	struct sbuf w;
	sbuf_init(&w, a);
	sbuf_adds(&w, " WHERE a.customer_id=?");
	bind_int(p, &n, customer);
	if (space >= 0) {
		sbuf_adds(&w, " AND a.space_id=?");
		bind_int(p, &n, space);
	}
	for (int f = 0; f < AQ__MAX; f++) {
		const struct aq_def *d = &aq_defs[f];
		const struct aq_values *v = &q->v[f];
		if (v->n == 0)
			continue;
		switch (d->kind) {
		case AQK_STRING:
			sbuf_printf(&w, " AND %s", d->column);
			sql_in(&w, v->n);
			for (size_t i = 0; i < v->n; i++)
				bind_str(p, &n, v->s[i]);
			sbuf_printf(&w, " AND %s COLLATE " EXACT_COLLATION, d->column);
			sql_in(&w, v->n);
			for (size_t i = 0; i < v->n; i++)
				bind_str(p, &n, v->s[i]);
			break;
		case AQK_NUMBER:
		case AQK_SPACE:
			sbuf_printf(&w, " AND %s", d->column);
			sql_in(&w, v->n);
			for (size_t i = 0; i < v->n; i++)
				bind_int(p, &n, v->i[i]);
			break;
		case AQK_ID: {
			/* An id that could never be stored matches nothing; binding it
			 * to the ASCII column could only raise a collation error. */
			size_t valid = 0;
			for (size_t i = 0; i < v->n; i++)
				valid += asset_id_valid(v->s[i]);
			if (valid == 0) {
				sbuf_adds(&w, " AND 1=0");
				break;
			}
			sbuf_printf(&w, " AND %s", d->column);
			sql_in(&w, valid);
			for (size_t i = 0; i < v->n; i++)
				if (asset_id_valid(v->s[i]))
					bind_str(p, &n, v->s[i]);
			break;
		}
		case AQK_LIST:
			sbuf_printf(
				&w,
				" AND EXISTS (SELECT 1 FROM %s t WHERE t.customer_id=a.customer_id"
				" AND t.space_id=a.space_id AND t.asset_id=a.id AND %s",
				d->table, d->column);
			sql_in(&w, v->n);
			sbuf_addc(&w, ')');
			for (size_t i = 0; i < v->n; i++)
				bind_str(p, &n, v->s[i]);
			break;
		}
	}

	/* The tie-breakers run in the same direction as the key so that an
	 * index such as (customer_id, space_id, created[, id]) can be read in
	 * order, forwards or backwards, instead of sorting a million rows. */
	const char *dir = q->descending ? " DESC" : "";
	const char *col = q->order_column ? q->order_column : "a.created";
	if (strcmp(col, "a.id") == 0)
		*order = arena_printf(a, " ORDER BY a.id%s, a.space_id%s", dir, dir);
	else if (strcmp(col, "a.space_id") == 0)
		*order = arena_printf(a, " ORDER BY a.space_id%s, a.id%s", dir, dir);
	else
		*order =
			arena_printf(a, " ORDER BY %s%s, a.space_id%s, a.id%s", col, dir, dir, dir);
	*where = w.buf;
	*params = p;
	*nparams = n;
}
