/* Named-query templates (asset/nq_template.h): parsed once into a typed
 * template, bound to a request's arguments into a typed asset query. */
#include <limits.h>
#include <string.h>

#include "arena.h"
#include "str.h"
#include "asset/nq_template.h"
#include "banned.h"

/* How a filter's value is read and which asset query field it fills. */
enum nq_type {
	NQT_ID,     /* a space id: 1..INT_MAX */
	NQT_NUMBER, /* a non-negative integer */
	NQT_STRING,
	NQT_ID_LIST,     /* comma list of batch ids */
	NQT_STRING_LIST, /* comma list of strings */
};

static const struct {
	const char *key;
	enum nq_type type;
	enum aq_field field;
} filters[NQF__MAX] = {
	[NQF_SPACE] = {"space", NQT_ID, AQ_SPACE},
	[NQF_SPACENAME] = {"spacename", NQT_STRING, AQ_SPACENAME},
	[NQF_S1] = {"s1", NQT_STRING, AQ_STRING1},
	[NQF_S2] = {"s2", NQT_STRING, AQ_STRING2},
	[NQF_S3] = {"s3", NQT_STRING, AQ_STRING3},
	[NQF_N1] = {"n1", NQT_NUMBER, AQ_NUMBER1},
	[NQF_N2] = {"n2", NQT_NUMBER, AQ_NUMBER2},
	[NQF_N3] = {"n3", NQT_NUMBER, AQ_NUMBER3},
	[NQF_BATCH] = {"batch", NQT_ID_LIST, AQ_BATCH},
	[NQF_MANIFEST] = {"manifest", NQT_STRING_LIST, AQ_MANIFESTS},
};

static const char *const text_keys[NQT__MAX] = {
	[NQT_OBJECTNAME] = "objectname",
	[NQT_COVERPAGE] = "coverpage",
	[NQT_REDACTEDMESSAGE] = "redactedmessage",
};

/* assetOrder's names -> whitelisted columns. Nothing else reaches ORDER BY. */
static const struct {
	const char *name, *column;
} order_keys[] = {
	{"s1", "a.string1"}, {"s2", "a.string2"}, {"s3", "a.string3"},
	{"n1", "a.number1"}, {"n2", "a.number2"}, {"n3", "a.number3"},
};

const char *nq_filter_key(enum nq_filter f)
{
	return filters[f].key;
}

/* At most 40 bytes of s for a message, cut at a character boundary (s is
 * UTF-8), with "..." when cut. */
static const char *clip(struct arena *a, const char *s, size_t len)
{
	if (len <= 40)
		return arena_strndup(a, s, len);
	size_t n = 40;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return arena_printf(a, "%.*s...", (int)n, s);
}

/* "p1".."p99": the argument number; 0 for anything else (a literal). */
static int arg_number(const char *s)
{
	if (s[0] != 'p' || s[1] < '1' || s[1] > '9')
		return 0;
	if (s[2] == '\0')
		return s[1] - '0';
	if (s[2] >= '0' && s[2] <= '9' && s[3] == '\0')
		return (s[1] - '0') * 10 + (s[2] - '0');
	return 0;
}

/* Checks one literal of type t (a single item of a list); NULL or why not. */
static const char *literal_check(struct arena *a, const char *key, enum nq_type t, const char *s)
{
	long long v;
	if (*s == '\0')
		return arena_printf(a, "'%s' has an empty value", key);
	if ((t == NQT_ID || t == NQT_ID_LIST) &&
	    !str_to_ll(s, 1, t == NQT_ID ? INT_MAX : LLONG_MAX, &v))
		return arena_printf(a, "'%s': '%s' is not an id (a whole number from 1)", key,
				    clip(a, s, strlen(s)));
	if (t == NQT_NUMBER && !str_to_ll(s, 0, LLONG_MAX, &v))
		return arena_printf(a, "'%s': '%s' is not a non-negative integer", key,
				    clip(a, s, strlen(s)));
	return NULL;
}

/* Each item of a value: the value itself, or each item of a comma list. */
static const char *value_check(struct arena *a, const char *key, enum nq_type t, const char *s)
{
	if (t != NQT_ID_LIST && t != NQT_STRING_LIST)
		return literal_check(a, key, t, s);
	const char *item = s;
	for (;;) {
		size_t n = strcspn(item, ",");
		const char *why = literal_check(a, key, t, arena_strndup(a, item, n));
		if (why)
			return why;
		if (item[n] == '\0')
			return NULL;
		item += n + 1;
	}
}

/* assetOrder: "n1;n2 desc;s3+asc". */
static const char *order_parse(struct arena *a, const char *value, struct nq_template *t)
{
	const char *p = value;
	for (;;) {
		size_t n = strcspn(p, ";");
		const char *item = arena_strndup(a, p, n);
		size_t name_len = strcspn(item, " +");
		const char *dir = item + name_len;
		bool desc = false;
		if (*dir) {
			dir++;
			if (str_ieq(dir, "desc"))
				desc = true;
			else if (!str_ieq(dir, "asc"))
				return arena_printf(a,
						    "'assetOrder': '%s' must be a field, then "
						    "optionally asc or desc",
						    clip(a, item, n));
		}
		const char *column = NULL;
		for (size_t i = 0; i < sizeof order_keys / sizeof order_keys[0]; i++)
			if (strlen(order_keys[i].name) == name_len &&
			    strncmp(order_keys[i].name, item, name_len) == 0)
				column = order_keys[i].column;
		if (!column)
			return arena_printf(a,
					    "'assetOrder': '%s' is not one of s1, s2, s3, n1, "
					    "n2, n3",
					    clip(a, item, name_len));
		if (t->norder == AQ_MAX_ORDER)
			return arena_printf(a, "'assetOrder' has more than %d keys", AQ_MAX_ORDER);
		t->order[t->norder++] = (struct aq_order){column, desc};
		if (p[n] == '\0')
			return NULL;
		p += n + 1;
	}
}

static const char *value_read(struct arena *a, const char *key, enum nq_type type,
			      const char *value, struct nq_value *out, int *max_arg)
{
	if (out->present)
		return arena_printf(a, "'%s' is given twice", key);
	out->present = true;
	out->arg = arg_number(value);
	if (out->arg) {
		if (out->arg > *max_arg)
			*max_arg = out->arg;
		return NULL;
	}
	out->text = value;
	return value_check(a, key, type, value);
}

/* One key=value pair. */
static const char *pair_parse(struct arena *a, const char *key, const char *value,
			      struct nq_template *t, bool *ordered)
{
	if (*value == '\0')
		return arena_printf(a, "'%s' has an empty value", key);
	for (int f = 0; f < NQF__MAX; f++)
		if (strcmp(key, filters[f].key) == 0)
			return value_read(a, key, filters[f].type, value, &t->filter[f],
					  &t->max_arg);
	for (int k = 0; k < NQT__MAX; k++)
		if (strcmp(key, text_keys[k]) == 0)
			return value_read(a, key, NQT_STRING, value, &t->text[k], &t->max_arg);
	if (strcmp(key, "assetOrder") == 0 || strcmp(key, "canvas") == 0) {
		if (*ordered)
			return arena_printf(a, "'assetOrder' (or 'canvas') is given twice");
		*ordered = true;
		return order_parse(a, value, t);
	}
	if (strcmp(key, "#") == 0) {
		if (t->nhash == NQ_MAX_HASH)
			return arena_printf(a, "more than %d '#' values", NQ_MAX_HASH);
		t->hash[t->nhash++] = value;
		return NULL;
	}
	if (strcmp(key, "sequence") == 0)
		return NULL;
	return arena_printf(a, "unknown key '%s' in the template", clip(a, key, strlen(key)));
}

const char *nq_template_parse(struct arena *a, const char *text, struct nq_template *t)
{
	memset(t, 0, sizeof *t);
	size_t len = strlen(text);
	if (len == 0)
		return "the template is empty";
	if (len > NQ_TEMPLATE_MAX)
		return arena_printf(a, "the template is longer than %d bytes", NQ_TEMPLATE_MAX);
	if (!utf8_valid(text, len))
		return "the template is not valid UTF-8";
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			return "the template holds a control character";
	bool ordered = false;
	const char *p = text;
	for (;;) {
		size_t n = strcspn(p, "&");
		const char *pair = arena_strndup(a, p, n);
		const char *eq = strchr(pair, '=');
		if (!eq || eq == pair)
			return arena_printf(a, "'%s' in the template is not key=value",
					    clip(a, pair, n));
		const char *key = arena_strndup(a, pair, (size_t)(eq - pair));
		const char *why = pair_parse(a, key, eq + 1, t, &ordered);
		if (why)
			return why;
		if (p[n] == '\0')
			return NULL;
		p += n + 1;
	}
}

/* A value bound to the arguments: its text, or NULL when its pN is beyond them. */
static const char *resolve(const struct nq_value *v, const char *const *args, size_t nargs)
{
	if (!v->present)
		return NULL;
	if (v->arg == 0)
		return v->text;
	return (size_t)v->arg <= nargs ? args[v->arg - 1] : NULL;
}

/* Puts value (one item, or each item of a list) into q's field. */
static const char *fill(struct arena *a, enum nq_filter f, const char *value, struct asset_query *q)
{
	const char *key = filters[f].key;
	enum nq_type type = filters[f].type;
	const char *why = value_check(a, key, type, value);
	if (why)
		return why;
	struct aq_values *v = &q->v[filters[f].field];
	bool list = type == NQT_ID_LIST || type == NQT_STRING_LIST;
	const char *item = value;
	for (;;) {
		size_t n = list ? strcspn(item, ",") : strlen(item);
		if (v->n == AQ_MAX_VALUES)
			return arena_printf(a, "'%s' has more than %d values", key, AQ_MAX_VALUES);
		const char *s = arena_strndup(a, item, n);
		if (aq_field_numeric(filters[f].field))
			str_to_ll(s, 0, LLONG_MAX, &v->i[v->n]); /* checked above */
		else
			v->s[v->n] = s;
		v->n++;
		if (item[n] == '\0')
			return NULL;
		item += n + 1;
	}
}

/* text with each {s1} {s2} {s3} {n1} {n2} {n3} replaced by that filter's
 * bound value ("" when the template has none or its pN is beyond the
 * arguments), percent-encoded in a URL (the coverpage: the values come
 * from anonymous requests); any other brace stays. NULL stays NULL. */
/* Adds value to b, its bytes other than RFC 3986's unreserved ones as %XX:
 * a value from the request cannot change a URL's host, path or query. */
static void add_encoded(struct sbuf *b, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			sbuf_addc(b, (char)*p);
			continue;
		}
		char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
		sbuf_add(b, esc, 3);
	}
}

static const char *fill_fields(struct arena *a, const struct nq_template *t, const char *text,
			       const char *const *args, size_t nargs, bool url)
{
	static const struct {
		const char *name;
		enum nq_filter f;
	} fields[] = {{"{s1}", NQF_S1}, {"{s2}", NQF_S2}, {"{s3}", NQF_S3},
		      {"{n1}", NQF_N1}, {"{n2}", NQF_N2}, {"{n3}", NQF_N3}};
	if (!text || !strchr(text, '{'))
		return text;
	struct sbuf b;
	sbuf_init(&b, a);
	for (const char *p = text; *p;) {
		size_t i = 0;
		for (; i < sizeof fields / sizeof fields[0]; i++)
			if (strncmp(p, fields[i].name, 4) == 0)
				break;
		if (i == sizeof fields / sizeof fields[0]) {
			sbuf_addc(&b, *p++);
			continue;
		}
		const char *value = resolve(&t->filter[fields[i].f], args, nargs);
		if (url)
			add_encoded(&b, value ? value : "");
		else
			sbuf_adds(&b, value ? value : "");
		p += 4;
	}
	return b.buf ? b.buf : "";
}

const char *nq_bind(struct arena *a, const struct nq_template *t, const char *const *args,
		    size_t nargs, struct asset_query *q, const char **texts)
{
	memset(q, 0, sizeof *q);
	/* The '#' values come after the URL's arguments. */
	size_t n = nargs + t->nhash;
	const char **all = arena_alloc(a, (n ? n : 1) * sizeof *all);
	for (size_t i = 0; i < nargs; i++)
		all[i] = args[i];
	for (size_t i = 0; i < t->nhash; i++)
		all[nargs + i] = t->hash[i];
	if (t->max_arg > 0 && n == 0)
		return "this named query needs at least 1 argument";
	for (int f = 0; f < NQF__MAX; f++) {
		const char *value = resolve(&t->filter[f], all, n);
		if (!value || (f == NQF_SPACENAME && resolve(&t->filter[NQF_SPACE], all, n)))
			continue;
		const char *why = fill(a, (enum nq_filter)f, value, q);
		if (why)
			return why;
	}
	if (t->norder) {
		q->order_column = t->order[0].column;
		q->descending = t->order[0].descending;
		for (size_t i = 1; i < t->norder; i++)
			q->then[q->nthen++] = t->order[i];
	}
	if (texts)
		for (int k = 0; k < NQT__MAX; k++)
			texts[k] = fill_fields(a, t, resolve(&t->text[k], all, n), all, n,
					       k == NQT_COVERPAGE);
	return NULL;
}
