/* The asset query syntax: ?q={json}, the shortcut parameters and ordering,
 * read from a request into a struct asset_query (asset/query.h, which
 * turns it into SQL). */
#include <limits.h>
#include <string.h>

#include "arena.h"
#include "ids.h"
#include "json.h"
#include "req.h"
#include "str.h"
#include "api/asset_query.h"
#include "banned.h"

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

/* A field of the API's syntax by name, -1 for any other. */
static int field_by_name(const char *name)
{
	for (int f = 0; f < AQ__MAX; f++)
		if (aq_defs[f].api && strcmp(aq_defs[f].name, name) == 0)
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
