/* The typed asset query turned into SQL (asset/query.h): fixed fragments
 * and whitelisted column names only; every value is a bound parameter and
 * is matched exactly (never LIKE). */
#include <string.h>

#include "arena.h"
#include "db.h"
#include "ids.h"
#include "str.h"
#include "asset/query.h"
#include "banned.h"

/* utf8mb4_unicode_ci, the collation of string1..3, folds case and ignores
 * trailing spaces; a second test under this collation makes the match exact
 * while the first, under the column's own collation, keeps the index usable. */
#define EXACT_COLLATION "utf8mb4_nopad_bin"

const struct aq_def aq_defs[AQ__MAX] = {
	[AQ_STRING1] = {"string1", AQK_STRING, true, true, "a.string1", NULL},
	[AQ_STRING2] = {"string2", AQK_STRING, true, true, "a.string2", NULL},
	[AQ_STRING3] = {"string3", AQK_STRING, true, true, "a.string3", NULL},
	[AQ_NUMBER1] = {"number1", AQK_NUMBER, true, true, "a.number1", NULL},
	[AQ_NUMBER2] = {"number2", AQK_NUMBER, true, true, "a.number2", NULL},
	[AQ_NUMBER3] = {"number3", AQK_NUMBER, true, true, "a.number3", NULL},
	[AQ_TAGS] = {"tags", AQK_LIST, false, true, "t.tag", "asset_tags"},
	[AQ_ROLES] = {"roles", AQK_LIST, false, true, "t.role", "asset_roles"},
	[AQ_ID] = {"id", AQK_ID, false, true, "a.id", NULL},
	[AQ_SPACE] = {"space", AQK_SPACE, true, true, "a.space_id", NULL},
	[AQ_MANIFESTS] = {"manifests", AQK_LIST, false, true, "t.manifest", "asset_manifests"},
	[AQ_BATCH] = {"batch", AQK_BATCH, false, false, "b.batch_id", "batch_assets"},
	[AQ_SPACENAME] = {"spacename", AQK_SPACENAME, false, false, "sp.name", "spaces"},
};

bool aq_field_numeric(enum aq_field f)
{
	enum aq_kind k = aq_defs[f].kind;
	return k == AQK_NUMBER || k == AQK_SPACE || k == AQK_BATCH;
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

/* One field's condition, its values bound in the order of its ?s. */
static void where_field(struct sbuf *w, const struct aq_def *d, const struct aq_values *v,
			struct db_param *p, size_t *np)
{
	size_t n = *np;
	switch (d->kind) {
	case AQK_STRING:
		sbuf_printf(w, " AND %s", d->column);
		sql_in(w, v->n);
		for (size_t i = 0; i < v->n; i++)
			bind_str(p, &n, v->s[i]);
		sbuf_printf(w, " AND %s COLLATE " EXACT_COLLATION, d->column);
		sql_in(w, v->n);
		for (size_t i = 0; i < v->n; i++)
			bind_str(p, &n, v->s[i]);
		break;
	case AQK_NUMBER:
	case AQK_SPACE:
		sbuf_printf(w, " AND %s", d->column);
		sql_in(w, v->n);
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
			sbuf_adds(w, " AND 1=0");
			break;
		}
		sbuf_printf(w, " AND %s", d->column);
		sql_in(w, valid);
		for (size_t i = 0; i < v->n; i++)
			if (asset_id_valid(v->s[i]))
				bind_str(p, &n, v->s[i]);
		break;
	}
	case AQK_BATCH:
		/* The history: an asset that was in the batch, even if a
		 * later batch has ingested it again since. */
		sbuf_adds(w, " AND EXISTS (SELECT 1 FROM batch_assets b WHERE"
			     " b.customer_id=a.customer_id AND b.space_id=a.space_id"
			     " AND b.asset_id=a.id AND b.batch_id");
		sql_in(w, v->n);
		sbuf_addc(w, ')');
		for (size_t i = 0; i < v->n; i++)
			bind_int(p, &n, v->i[i]);
		break;
	case AQK_SPACENAME:
		/* Space names are unique per customer as the column compares
		 * them (without case), so this is the space of that name. */
		sbuf_adds(w, " AND a.space_id IN (SELECT sp.id FROM spaces sp WHERE"
			     " sp.customer_id=a.customer_id AND sp.name");
		sql_in(w, v->n);
		sbuf_addc(w, ')');
		for (size_t i = 0; i < v->n; i++)
			bind_str(p, &n, v->s[i]);
		break;
	case AQK_LIST:
		sbuf_printf(w,
			    " AND EXISTS (SELECT 1 FROM %s t WHERE t.customer_id=a.customer_id"
			    " AND t.space_id=a.space_id AND t.asset_id=a.id AND %s",
			    d->table, d->column);
		sql_in(w, v->n);
		sbuf_addc(w, ')');
		for (size_t i = 0; i < v->n; i++)
			bind_str(p, &n, v->s[i]);
		break;
	}
	*np = n;
}

/* The ORDER BY of the query. */
static const char *order_by(const struct asset_query *q, struct arena *a)
{
	/* The tie-breakers run in the same direction as the key so that an
	 * index such as (customer_id, space_id, created[, id]) can be read in
	 * order, forwards or backwards, instead of sorting a million rows. */
	const char *dir = q->descending ? " DESC" : "";
	const char *col = q->order_column ? q->order_column : "a.created";
	if (q->nthen) {
		/* Several keys (a named query's assetOrder): the tie-breakers
		 * only make the order total. */
		struct sbuf o;
		sbuf_init(&o, a);
		sbuf_printf(&o, " ORDER BY %s%s", col, dir);
		for (size_t i = 0; i < q->nthen; i++)
			sbuf_printf(&o, ", %s%s", q->then[i].column,
				    q->then[i].descending ? " DESC" : "");
		sbuf_adds(&o, ", a.space_id, a.id");
		return o.buf;
	} else if (strcmp(col, "a.id") == 0)
		return arena_printf(a, " ORDER BY a.id%s, a.space_id%s", dir, dir);
	else if (strcmp(col, "a.space_id") == 0)
		return arena_printf(a, " ORDER BY a.space_id%s, a.id%s", dir, dir);
	return arena_printf(a, " ORDER BY %s%s, a.space_id%s, a.id%s", col, dir, dir, dir);
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
		where_field(&w, d, v, p, &n);
	}
	*order = order_by(q, a);
	*where = w.buf;
	*params = p;
	*nparams = n;
}
