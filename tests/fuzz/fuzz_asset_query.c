/* libFuzzer driver: the asset query syntax. The input is a query string as
 * it follows '?' in a request (tests/data/fuzz/asset_query/): decoded by the
 * core's parse_query (fcgi/serve.c, included for it), read by
 * asset_query_parse as a space's images and as allImages (customer-wide),
 * and turned into SQL by asset_query_sql (handlers/asset_query.c).
 *
 * Invariants: 0 or a 400 with its error document; the SQL holds only fixed
 * fragments (no quote, backslash or semicolon: values are never pasted in)
 * and one bound parameter per '?', every bound string UTF-8; the ORDER BY is
 * a whitelisted column; the canonical q of the paging links, sent again,
 * reads back as the same filters. */
#include <string.h>

#include "../../fcgi/serve.c"
#include "api/asset_query.h"
#include "fuzz.h"
#include "../unit/fake_req.h"

static void expect(struct req *rq, int st)
{
	FUZZ_ASSERT(st == 0 || st == 400);
	if (st)
		FUZZ_ASSERT(rq->status == 400 && rq->jw && jw_text(rq->jw, NULL) != NULL);
}

static const char *const order_columns[] = {
	"a.id",       "a.space_id",   "a.created", "a.origin",
	"a.string1",  "a.string2",    "a.string3", "a.number1",
	"a.number2",  "a.number3",    "a.width",   "a.height",
	"a.duration", "a.media_type", "a.family",  "a.max_unauthorised",
	"a.finished", "a.ingesting",
};

static void check_sql(struct arena *a, const struct asset_query *q, int space)
{
	const char *where, *order;
	struct db_param *p;
	size_t n;
	asset_query_sql(q, a, 1, space, &where, &order, &p, &n);
	size_t marks = 0;
	for (const char *s = where; (s = strchr(s, '?')); s++)
		marks++;
	FUZZ_ASSERT(marks == n);
	FUZZ_ASSERT(!strpbrk(where, "'\"\\;`#") && !strpbrk(order, "'\"\\;`#?"));
	FUZZ_ASSERT(strncmp(where, " WHERE a.customer_id=?", 22) == 0);
	for (size_t i = 0; i < n; i++)
		if (p[i].type == 'S')
			FUZZ_ASSERT(p[i].s && utf8_valid(p[i].s, p[i].len));
	bool known = q->order_column == NULL;
	for (size_t i = 0; !known && i < sizeof order_columns / sizeof order_columns[0]; i++)
		known = strcmp(q->order_column, order_columns[i]) == 0;
	FUZZ_ASSERT(known);
	FUZZ_ASSERT(strncmp(order, " ORDER BY ", 10) == 0);
}

static bool same_values(const struct aq_values *x, const struct aq_values *y, int f)
{
	if (x->n != y->n)
		return false;
	bool numeric = f == AQ_NUMBER1 || f == AQ_NUMBER2 || f == AQ_NUMBER3 || f == AQ_SPACE;
	for (size_t i = 0; i < x->n; i++)
		if (numeric ? x->i[i] != y->i[i] : strcmp(x->s[i], y->s[i]) != 0)
			return false;
	return true;
}

/* q's canonical text, sent as the only parameter, gives q's filters again. */
static void check_canonical(struct arena *a, const struct asset_query *q, bool customer_wide)
{
	struct req rq;
	fake_req(&rq, a, NULL, M_GET, "/customers/1/allImages", NULL);
	rq.query = arena_printf(a, "q=%s", url_encode(a, q->q_text));
	FUZZ_ASSERT(parse_query(&rq) == NULL);
	static struct asset_query again;
	FUZZ_ASSERT(asset_query_parse(&rq, customer_wide, &again) == 0);
	for (int f = 0; f < AQ__MAX; f++)
		if (again.v[f].n)
			FUZZ_ASSERT(same_values(&q->v[f], &again.v[f], f));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = fuzz_arena();
	/* REQUEST_URI is a C string. */
	if (memchr(data, '\0', size))
		return 0;
	struct req rq;
	fake_req(&rq, a, NULL, M_GET, "/customers/1/allImages", NULL);
	rq.query = arena_strndup(a, (const char *)data, size);
	if (parse_query(&rq))
		return 0;
	for (int wide = 0; wide < 2; wide++) {
		static struct asset_query q;
		int st = asset_query_parse(&rq, wide, &q);
		expect(&rq, st);
		if (st)
			continue;
		check_sql(a, &q, wide ? -1 : 7);
		if (q.q_text)
			check_canonical(a, &q, wide);
	}
	return 0;
}
