/* Assets (vocab:Image) of a space: GET/PUT/PATCH/DELETE of one asset, the
 * paged and filtered list of a space, and the bulk metadata PATCH. Every
 * write is one transaction that keeps the assets row, its indexed list rows
 * (asset_tags/roles/manifests), its asset_storage row and the space's
 * image_count in step. Until the ingest issue lands, an asset whose origin,
 * channels or maxUnauthorised change is left "ingesting" with no size. */
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app.h"
#include "arena.h"
#include "api/asset_query.h"
#include "api/assets.h"
#include "api/channels.h"
#include "api/common.h"
#include "config.h"
#include "db.h"
#include "api/handlers.h"
#include "ids.h"
#include "input.h"
#include "http_syntax.h"
#include "json.h"
#include "log.h"
#include "page.h"
#include "asset/publish.h"
#include "req.h"
#include "asset/ingest_error.h"
#include "asset/store.h"
#include "str.h"
#include "asset/work.h"
#include "banned.h"

#define KEY_WHERE " WHERE customer_id=? AND space_id=? AND id=?"
#define MUTABLE_SET                                                                                \
	"origin=?, tags=?, roles=?, manifests=?, string1=?, string2=?, string3=?, number1=?, "     \
	"number2=?, number3=?, max_unauthorised=?, media_type=?, family=?, delivery_channels=?"
/* Parameters of MUTABLE_SET followed by KEY_WHERE, as bind_mutable fills
 * them: origin, tags, roles, manifests, string1..3 ('S'), number1..3 ('l'),
 * max_unauthorised ('i'), media_type, family, delivery_channels ('S'), then
 * customer, space ('i') and id ('S'). */
#define MUTABLE_NPARAMS 17

enum stmt {
	SQL_ASSET_GET,
	SQL_ASSET_LOCK,
	SQL_ASSET_EXISTS_LOCK,
	SQL_ASSET_INSERT,
	SQL_ASSET_REPLACE,
	SQL_ASSET_UPDATE,
	SQL_ASSET_REINGEST,
	SQL_ASSET_META_UPDATE,
	SQL_ASSET_SET_BATCH,
	SQL_ASSET_NOTHING_TO_INGEST,
	SQL_ASSET_DELETE,
	SQL_STORAGE_ENSURE,
	SQL_SPACE_INC,
	SQL_SPACE_DEC,
	SQL_SPACE_DEFAULTS,
	SQL_SPACE_COUNT,
	SQL_CUSTOMER_COUNT,
	SQL_POLICY_IMAGES,
	SQL_STORAGE_OF,
	SQL_TOTALS_SUB,
	SQL_TAGS_DELETE,
	SQL_TAGS_INSERT,
	SQL_ROLES_DELETE,
	SQL_ROLES_INSERT,
	SQL_MANIFESTS_DELETE,
	SQL_MANIFESTS_INSERT,
	SQL__MAX
};

static const char *const sql[SQL__MAX] = {
    [SQL_ASSET_GET] = "SELECT " ASSET_COLUMNS " FROM assets a"
		      " WHERE a.customer_id=? AND a.space_id=? AND a.id=?",
    [SQL_ASSET_LOCK] = "SELECT " ASSET_COLUMNS " FROM assets a"
		       " WHERE a.customer_id=? AND a.space_id=? AND a.id=? FOR UPDATE",
    [SQL_ASSET_EXISTS_LOCK] = "SELECT 1 FROM assets" KEY_WHERE " FOR UPDATE",
    [SQL_ASSET_INSERT] =
	"INSERT INTO assets (customer_id, space_id, id, created, origin, tags, roles,"
	" manifests, string1, string2, string3, number1, number2, number3,"
	" max_unauthorised, media_type, family, delivery_channels, width, height,"
	" duration, ingesting, finished, error, batch_id)"
	" VALUES (?,?,?,UTC_TIMESTAMP(6),?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
	"NULL,NULL,NULL,1,NULL,NULL,NULL)",
    /* PUT over an existing asset: everything but created, then a new ingest. */
    [SQL_ASSET_REPLACE] = "UPDATE assets SET " MUTABLE_SET ", width=NULL, height=NULL,"
			  " duration=NULL, ingesting=1, finished=NULL, error=NULL,"
			  " error_kind=NULL, batch_id=NULL" KEY_WHERE,
    [SQL_ASSET_UPDATE] = "UPDATE assets SET " MUTABLE_SET KEY_WHERE,
    [SQL_ASSET_REINGEST] = "UPDATE assets SET width=NULL, height=NULL, duration=NULL,"
			   " ingesting=1, finished=NULL, error=NULL, error_kind=NULL" KEY_WHERE,
    /* Bulk metadata: a NULL parameter keeps the column. */
    [SQL_ASSET_SET_BATCH] = "UPDATE assets SET batch_id=?" KEY_WHERE,
    [SQL_ASSET_NOTHING_TO_INGEST] = "UPDATE assets SET ingesting=0" KEY_WHERE,
    [SQL_ASSET_META_UPDATE] = "UPDATE assets SET tags=COALESCE(?,tags), roles=COALESCE(?,roles),"
			      " manifests=COALESCE(?,manifests), string1=COALESCE(?,string1),"
			      " string2=COALESCE(?,string2), string3=COALESCE(?,string3),"
			      " number1=COALESCE(?,number1), number2=COALESCE(?,number2),"
			      " number3=COALESCE(?,number3)" KEY_WHERE,
    [SQL_ASSET_DELETE] = "DELETE FROM assets" KEY_WHERE,
    [SQL_STORAGE_ENSURE] =
	"INSERT INTO asset_storage (customer_id, space_id, asset_id, size, thumbnail_size,"
	" last_checked) VALUES (?,?,?,0,0,UTC_TIMESTAMP(6))"
	" ON DUPLICATE KEY UPDATE asset_id=asset_id",
    [SQL_SPACE_INC] = "UPDATE spaces SET image_count=image_count+1"
		      " WHERE customer_id=? AND id=?",
    [SQL_SPACE_DEC] = "UPDATE spaces SET image_count=GREATEST(image_count-1,0)"
		      " WHERE customer_id=? AND id=?",
    [SQL_SPACE_DEFAULTS] = "SELECT default_tags, default_roles, max_unauthorised FROM spaces"
			   " WHERE customer_id=? AND id=?",
    [SQL_SPACE_COUNT] = "SELECT image_count FROM spaces WHERE customer_id=? AND id=?",
    [SQL_CUSTOMER_COUNT] = "SELECT COALESCE(SUM(image_count),0) FROM spaces"
			   " WHERE customer_id=?",
    [SQL_POLICY_IMAGES] =
	"SELECT p.max_images, (SELECT COALESCE(SUM(s.image_count),0) FROM spaces s"
	" WHERE s.customer_id=c.id), p.max_bytes, (SELECT COALESCE(SUM(t.bytes +"
	" t.thumbnail_bytes),0) FROM customer_storage t WHERE t.customer_id=c.id"
	" AND t.space_id=0) FROM customers c"
	" JOIN storage_policies p ON p.id=c.storage_policy WHERE c.id=?",
    [SQL_STORAGE_OF] = "SELECT size, thumbnail_size FROM asset_storage WHERE customer_id=?"
		       " AND space_id=? AND asset_id=? FOR UPDATE",
    [SQL_TOTALS_SUB] = "UPDATE customer_storage SET bytes=GREATEST(0,bytes-?),"
		       " thumbnail_bytes=GREATEST(0,thumbnail_bytes-?),"
		       " last_calculated=UTC_TIMESTAMP(6) WHERE customer_id=? AND space_id IN (0,?)",

    [SQL_TAGS_DELETE] = "DELETE FROM asset_tags WHERE customer_id=? AND space_id=?"
			" AND asset_id=?",
    [SQL_TAGS_INSERT] = "INSERT INTO asset_tags (customer_id, space_id, asset_id, tag)"
			" VALUES (?,?,?,?) ON DUPLICATE KEY UPDATE tag=tag",
    [SQL_ROLES_DELETE] = "DELETE FROM asset_roles WHERE customer_id=? AND space_id=?"
			 " AND asset_id=?",
    [SQL_ROLES_INSERT] = "INSERT INTO asset_roles (customer_id, space_id, asset_id, role)"
			 " VALUES (?,?,?,?) ON DUPLICATE KEY UPDATE role=role",
    [SQL_MANIFESTS_DELETE] = "DELETE FROM asset_manifests WHERE customer_id=? AND space_id=?"
			     " AND asset_id=?",
    [SQL_MANIFESTS_INSERT] =
	"INSERT INTO asset_manifests (customer_id, space_id, asset_id, manifest)"
	" VALUES (?,?,?,?) ON DUPLICATE KEY UPDATE manifest=manifest",
};

/* The list fields: body key, longest value (the index column's width), and
 * the statements that rewrite their index rows. */
static const struct {
	const char *key;
	size_t max_chars;
	enum stmt del, ins;
	enum asset_col col;
} lists[ALIST__MAX] = {
    [ALIST_TAGS] = {"tags", 255, SQL_TAGS_DELETE, SQL_TAGS_INSERT, ACOL_TAGS},
    [ALIST_ROLES] = {"roles", 500, SQL_ROLES_DELETE, SQL_ROLES_INSERT, ACOL_ROLES},
    [ALIST_MANIFESTS] = {"manifests", 500, SQL_MANIFESTS_DELETE, SQL_MANIFESTS_INSERT,
			 ACOL_MANIFESTS},
};

#define TEXT_MAX_BYTES   65535 /* a TEXT column */
#define STRING_MAX_CHARS 255   /* string1..3, mediaType */
#define BULK_MAX_MEMBERS 1000

static const char *const read_only_keys[] = {
    "width", "height", "duration", "batch", "finished", "created", "ingesting", "error", NULL};
static const char *const deprecated_keys[] = {"thumbnailPolicy", "imageOptimisationPolicy", NULL};
static const char *const asset_keys[] = {"@context",
					 "@type",
					 "@id",
					 "id",
					 "space",
					 "origin",
					 "initialOrigin",
					 "tags",
					 "roles",
					 "manifests",
					 "string1",
					 "string2",
					 "string3",
					 "number1",
					 "number2",
					 "number3",
					 "maxUnauthorised",
					 "mediaType",
					 "family",
					 "deliveryChannels",
					 "imageService",
					 "thumbnailImageService",
					 "storage",
					 NULL};
static const char *const bulk_forbidden_keys[] = {
    "origin", "initialOrigin", "deliveryChannels", "maxUnauthorised", "mediaType", "family", NULL};
static const char *const bulk_keys[] = {
    "@context", "@type",   "@id",          "id",
    "space",    "tags",    "roles",        "manifests",
    "string1",  "string2", "string3",      "number1",
    "number2",  "number3", "imageService", "thumbnailImageService",
    "storage",  NULL};
static const char *const string_keys[3] = {"string1", "string2", "string3"};
static const char *const number_keys[3] = {"number1", "number2", "number3"};

/* Characters (not bytes) of a UTF-8 string, as VARCHAR(n) counts them. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* ---- serialisation ---------------------------------------------------- */

static void write_stored_array(struct jw *w, const char *key, const char *text)
{
	jw_key(w, key);
	if (text && *text && strcmp(text, "[]") != 0) {
		jw_json_text(w, text);
	} else {
		jw_arr(w);
		jw_arr_end(w);
	}
}

void asset_write(struct jw *w, struct req *rq, const struct db_rows *r, size_t row)
{
	int c = (int)db_int(r, row, ACOL_CUSTOMER);
	int s = (int)db_int(r, row, ACOL_SPACE);
	const char *id = db_str(r, row, ACOL_ID);
	const char *self = req_url(rq, "/customers/%d/spaces/%d/images/%s", c, s, id);
	const char *channels = db_str(r, row, ACOL_DELIVERY_CHANNELS);
	const char *origin = db_str(r, row, ACOL_ORIGIN);
	const char *error = db_str(r, row, ACOL_ERROR);

	resource_begin(w, self, "vocab:Image");
	jw_kstr(w, "id", id);
	jw_kint(w, "space", s);
	if (channels && channels_has(channels, "iiif-img"))
		jw_kstr(w, "imageService", req_url(rq, "/iiif-img/%d/%d/%s", c, s, id));
	if (channels && channels_has(channels, "thumbs"))
		jw_kstr(w, "thumbnailImageService", req_url(rq, "/thumbs/%d/%d/%s", c, s, id));
	jw_kstr_opt(w, "created", db_time(rq->arena, r, row, ACOL_CREATED));
	if (origin && *origin)
		jw_kstr(w, "origin", origin);
	jw_kint(w, "maxUnauthorised", db_int(r, row, ACOL_MAX_UNAUTHORISED));
	if (!db_isnull(r, row, ACOL_WIDTH))
		jw_kint(w, "width", db_int(r, row, ACOL_WIDTH));
	if (!db_isnull(r, row, ACOL_HEIGHT))
		jw_kint(w, "height", db_int(r, row, ACOL_HEIGHT));
	if (!db_isnull(r, row, ACOL_DURATION))
		jw_kint(w, "duration", db_int(r, row, ACOL_DURATION));
	jw_kstr_opt(w, "finished", db_time(rq->arena, r, row, ACOL_FINISHED));
	jw_kbool(w, "ingesting", db_int(r, row, ACOL_INGESTING) != 0);
	if (error && *error)
		jw_kstr(w, "error", error);
	write_stored_array(w, "tags", db_str(r, row, ACOL_TAGS));
	jw_kstr(w, "string1", db_str(r, row, ACOL_STRING1));
	jw_kstr(w, "string2", db_str(r, row, ACOL_STRING2));
	jw_kstr(w, "string3", db_str(r, row, ACOL_STRING3));
	jw_kint(w, "number1", db_int(r, row, ACOL_NUMBER1));
	jw_kint(w, "number2", db_int(r, row, ACOL_NUMBER2));
	jw_kint(w, "number3", db_int(r, row, ACOL_NUMBER3));
	write_stored_array(w, "roles", db_str(r, row, ACOL_ROLES));
	if (!db_isnull(r, row, ACOL_BATCH))
		jw_kstr(
		    w, "batch",
		    req_url(rq, "/customers/%d/queue/batches/%s", c, db_str(r, row, ACOL_BATCH)));
	jw_kstr(w, "storage", arena_printf(rq->arena, "%s/storage", self));
	write_stored_array(w, "manifests", db_str(r, row, ACOL_MANIFESTS));
	jw_kstr(w, "mediaType", db_str(r, row, ACOL_MEDIA_TYPE));
	jw_kstr(w, "family", db_str(r, row, ACOL_FAMILY));
	jw_key(w, "deliveryChannels");
	channels_write(w, rq, c, channels ? channels : "[]");
	jw_obj_end(w);
}

struct db_rows *asset_fetch(struct req *rq, int customer, int space, const char *id)
{
	return db_query(rq->app->db, rq->arena, sql[SQL_ASSET_GET], "iis", customer, space, id);
}

/* ---- collections ------------------------------------------------------ */

static bool query_has_filters(const struct asset_query *q)
{
	for (int f = 0; f < AQ__MAX; f++)
		if (q->v[f].n)
			return true;
	return false;
}

/* Offsets from which the deferred join beats reading and skipping rows. */
#define DEFERRED_JOIN_OFFSET 1000

int assets_collection_where(struct req *rq, const char *path, int customer, int space,
			    const struct asset_query *q, const char *extra,
			    const struct db_param *xp, size_t xn)
{
	struct db *db = rq->app->db;
	struct arena *a = rq->arena;
	struct page pg;
	page_from_query(rq, &pg);

	const char *where, *order;
	struct db_param *qp;
	size_t qn;
	asset_query_sql(q, a, customer, space, &where, &order, &qp, &qn);
	/* where's parameters, extra's, then LIMIT and OFFSET */
	struct db_param *p = arena_alloc(a, (qn + xn + 2) * sizeof *p);
	memcpy(p, qp, qn * sizeof *p);
	if (xn)
		memcpy(p + qn, xp, xn * sizeof *p);
	size_t n = qn + xn;
	if (extra)
		where = arena_printf(a, "%s%s", where, extra);

	struct db_rows *r;
	if (!extra && !query_has_filters(q)) {
		/* Counting a million index entries per page view is what
		 * spaces.image_count is kept for. */
		r = space >= 0 ? db_query(db, a, sql[SQL_SPACE_COUNT], "ii", customer, space)
			       : db_query(db, a, sql[SQL_CUSTOMER_COUNT], "i", customer);
	} else {
		r = db_query_params(
		    db, a, arena_printf(a, "SELECT COUNT(*) FROM assets a%s", where), p, n);
	}
	if (!r)
		return req_db_fail(rq, "counting assets");
	pg.total = r->n ? db_int(r, 0, 0) : 0;

	struct db_rows *rows = NULL;
	if (pg.total > page_offset(&pg) && page_offset(&pg) < DEFERRED_JOIN_OFFSET) {
		/* Near the start a plain ordered scan is cheapest: the deferred
		 * join below sorts twice and, with TEXT columns in the row, makes
		 * MariaDB build an on-disk temporary table for every page. */
		const char *stmt = arena_printf(a, "SELECT " ASSET_COLUMNS " FROM assets a%s%s"
						   " LIMIT ? OFFSET ?",
						where, order);
		p[n++] = (struct db_param){.type = 'l', .i = pg.size};
		p[n++] = (struct db_param){.type = 'l', .i = page_offset(&pg)};
		rows = db_query_params(db, a, stmt, p, n);
		if (!rows)
			return req_db_fail(rq, "listing assets");
	} else if (pg.total > page_offset(&pg)) {
		/* Deep pages: a deferred join, so the skipped rows' keys come from
		 * an index alone and only this page's rows are read in full. */
		const char *stmt = arena_printf(
		    a,
		    "SELECT " ASSET_COLUMNS " FROM (SELECT a.customer_id, a.space_id, a.id"
		    " FROM assets a%s%s LIMIT ? OFFSET ?) k JOIN assets a"
		    " ON a.customer_id=k.customer_id AND a.space_id=k.space_id AND a.id=k.id%s",
		    where, order, order);
		p[n++] = (struct db_param){.type = 'l', .i = pg.size};
		p[n++] = (struct db_param){.type = 'l', .i = page_offset(&pg)};
		rows = db_query_params(db, a, stmt, p, n);
		if (!rows)
			return req_db_fail(rq, "listing assets");
	}

	struct jw *w = req_json(rq);
	collection_begin(w, rq, path, &pg);
	for (size_t i = 0; rows && i < rows->n; i++)
		asset_write(w, rq, rows, i);
	collection_end(w, rq, path, &pg);
	return 200;
}

int assets_collection(struct req *rq, const char *path, int customer, int space,
		      const struct asset_query *q)
{
	return assets_collection_where(rq, path, customer, space, q, NULL, NULL, 0);
}

/* ---- list fields ------------------------------------------------------ */

const char *asset_list_json(struct arena *a, const char *const *v, size_t n)
{
	struct jw *w = jw_new(a);
	jw_arr(w);
	for (size_t i = 0; i < n; i++)
		jw_str(w, v[i]);
	jw_arr_end(w);
	const char *text = jw_text(w, NULL);
	return text ? text : "[]";
}

int asset_list_index(struct req *rq, int customer, int space, const char *id, enum asset_list which,
		     const char *const *v, size_t n)
{
	struct db *db = rq->app->db;
	long long rc = db_exec(db, sql[lists[which].del], "iis", customer, space, id);
	for (size_t i = 0; rc >= 0 && i < n; i++)
		rc = db_exec(db, sql[lists[which].ins], "iiss", customer, space, id, v[i]);
	return rc < 0 ? (int)rc : DB_OK;
}

/* The strings of a JSON array (non-strings skipped), in the arena. */
static size_t strings_of(struct arena *a, yajl_val arr, const char ***out)
{
	size_t n = 0, len = YAJL_IS_ARRAY(arr) ? arr->u.array.len : 0;
	const char **v = arena_alloc(a, (len ? len : 1) * sizeof *v);
	for (size_t i = 0; i < len; i++)
		if (YAJL_IS_STRING(arr->u.array.values[i]))
			v[n++] = arr->u.array.values[i]->u.string;
	*out = v;
	return n;
}

/* The strings of stored JSON array text. */
static size_t strings_of_text(struct arena *a, const char *text, const char ***out)
{
	char err[128];
	yajl_val v = text && *text ? json_parse(a, text, strlen(text), err, sizeof err) : NULL;
	return strings_of(a, v, out);
}

/* ---- request bodies --------------------------------------------------- */

enum body_mode { BODY_PUT, BODY_PATCH, BODY_BULK };

struct asset_in {
	const char *origin;
	bool has_origin;
	const char *str[3];
	bool has_str[3];
	long long num[3];
	bool has_num[3];
	long long max_unauth;
	bool has_max_unauth;
	const char *media_type;
	bool has_media_type;
	char family; /* 0 when absent */
	const char **list[ALIST__MAX];
	size_t nlist[ALIST__MAX];
	const char *list_json[ALIST__MAX]; /* NULL when absent */
	yajl_val channels;                 /* NULL when absent */
};

static int read_list(struct req *rq, yajl_val body, enum asset_list which, struct asset_in *in)
{
	const char *key = lists[which].key;
	yajl_val arr = NULL;
	bool present = false;
	int st = jin_str_array(rq, body, key, &arr, &present);
	if (st || !present)
		return st;
	in->nlist[which] = strings_of(rq->arena, arr, &in->list[which]);
	for (size_t i = 0; i < in->nlist[which]; i++) {
		size_t chars = utf8_chars(in->list[which][i]);
		if (chars == 0 || chars > lists[which].max_chars)
			return req_fail(rq, 400, "'%s': each value must be 1 to %zu characters",
					key, lists[which].max_chars);
	}
	in->list_json[which] = asset_list_json(rq->arena, in->list[which], in->nlist[which]);
	if (strlen(in->list_json[which]) > TEXT_MAX_BYTES)
		return req_fail(rq, 400, "'%s' is too long", key);
	return 0;
}

/* Origins are fetched by the runner; what it could never fetch is refused
 * here, as bad input, rather than as a failed ingest later. */
static bool origin_syntax_ok(const char *o)
{
	if (strncasecmp(o, "http://", 7) && strncasecmp(o, "https://", 8) &&
	    strncasecmp(o, "file:///", 8))
		return false;
	for (const unsigned char *p = (const unsigned char *)o; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

/* Reads and validates an asset body (or a bulk member) for asset c/s/id;
 * returns 0 or the 400 it answered, naming the field. */
static int asset_body_read(struct req *rq, yajl_val body, int c, int s, const char *id,
			   enum body_mode mode, struct asset_in *in)
{
	int st;
	bool has;
	memset(in, 0, sizeof *in);
	if (!YAJL_IS_OBJECT(body))
		return req_fail(rq, 400, "expected a JSON object");
	if ((st = jin_forbid_keys(rq, body, read_only_keys, "is read-only")) ||
	    (st = jin_forbid_keys(rq, body, deprecated_keys,
				  "is deprecated: use 'deliveryChannels'")))
		return st;
	if (mode == BODY_BULK) {
		if ((st = jin_forbid_keys(rq, body, bulk_forbidden_keys,
					  "cannot be changed by a bulk patch")) ||
		    (st = jin_only_keys(rq, body, bulk_keys)))
			return st;
	} else if ((st = jin_only_keys(rq, body, asset_keys))) {
		return st;
	}
	const char *self = req_url(rq, "/customers/%d/spaces/%d/images/%s", c, s, id);
	if ((st = body_id_agrees(rq, body, self, id)))
		return st;
	long long space;
	if ((st = jin_int(rq, body, "space", 0, INT_MAX, &space, &has)))
		return st;
	if (has && space != s)
		return req_fail(rq, 400, "'space' (%lld) does not match the space in the URL (%d)",
				space, s);

	if (mode != BODY_BULK) {
		const char *ignored, *family;
		if ((st = jin_str(rq, body, "origin", &in->origin, &in->has_origin)))
			return st;
		if (in->has_origin && strlen(in->origin) > TEXT_MAX_BYTES)
			return req_fail(rq, 400, "'origin' is too long");
		if (in->has_origin && *in->origin && !origin_syntax_ok(in->origin))
			return req_fail(rq, 400, "'origin' must be an http://, https:// or file:// "
						 "URL without spaces or control characters");
		/* Write-only in the seed and never stored: an asset is always
		 * fetched from its origin. Accepted so clients may send it. */
		if ((st = jin_str(rq, body, "initialOrigin", &ignored, &has)))
			return st;
		if ((st = jin_int(rq, body, "maxUnauthorised", -1, INT_MAX, &in->max_unauth,
				  &in->has_max_unauth)))
			return st;
		if ((st = jin_str(rq, body, "mediaType", &in->media_type, &in->has_media_type)))
			return st;
		/* It becomes the Content-Type of /file: only a media type. */
		if (in->has_media_type && !media_type_valid(in->media_type))
			return req_fail(rq, 400,
					"'mediaType' must be a media type: type/subtype (RFC 6838 "
					"names), optionally with ; name=value parameters, at most "
					"%d characters, no control characters",
					STRING_MAX_CHARS);
		if ((st = jin_str(rq, body, "family", &family, &has)))
			return st;
		if (has) {
			if (strcmp(family, "I") && strcmp(family, "T") && strcmp(family, "F"))
				return req_fail(rq, 400, "'family' must be \"I\", \"T\" or \"F\"");
			in->family = family[0];
		}
		yajl_val dc = json_get(body, "deliveryChannels");
		in->channels = dc && !YAJL_IS_NULL(dc) ? dc : NULL;
	}
	for (int i = 0; i < 3; i++) {
		if ((st = jin_str(rq, body, string_keys[i], &in->str[i], &in->has_str[i])))
			return st;
		if (in->has_str[i] && utf8_chars(in->str[i]) > STRING_MAX_CHARS)
			return req_fail(rq, 400, "'%s' must be at most %d characters",
					string_keys[i], STRING_MAX_CHARS);
		if ((st = jin_int(rq, body, number_keys[i], 0, LLONG_MAX, &in->num[i],
				  &in->has_num[i])))
			return st;
	}
	for (int l = 0; l < ALIST__MAX; l++)
		if ((st = read_list(rq, body, (enum asset_list)l, in)))
			return st;
	return 0;
}

/* ---- single asset ----------------------------------------------------- */

/* The path's asset id; 0 or the 400 it answered. */
static int path_id_check(struct req *rq, const char *id)
{
	if (!asset_id_valid(id))
		return req_fail(rq, 400,
				"'id' is not a valid asset id: 1 to 200 characters of"
				" A-Z a-z 0-9 . _ ~ - ( ), without \"..\"");
	return 0;
}

static int respond_asset(struct req *rq, int c, int s, const char *id, int st)
{
	struct db_rows *r = asset_fetch(rq, c, s, id);
	if (!r)
		return req_db_fail(rq, "reading the asset");
	if (r->n == 0)
		return req_fail(rq, 404, "asset '%s' not found in space %d", id, s);
	asset_write(req_json(rq), rq, r, 0);
	return st;
}

int asset_get(struct req *rq)
{
	int c = (int)rq->ints[0], s = (int)rq->ints[1];
	const char *id = rq->strs[0];
	int st;
	if ((st = path_id_check(rq, id)))
		return st;
	/* The asset first: the space is looked up only to word a 404. */
	struct db_rows *r = asset_fetch(rq, c, s, id);
	if (!r)
		return req_db_fail(rq, "reading the asset");
	if (r->n == 0)
		return (st = space_require(rq, c, s))
			       ? st
			       : req_fail(rq, 404, "asset '%s' not found in space %d", id, s);
	asset_write(req_json(rq), rq, r, 0);
	return 200;
}

/* 0 while the customer's storage policy admits one more asset, else 507
 * (or the database's error). Runs inside the caller's transaction. */
static int storage_policy_check(struct req *rq, int c)
{
	struct db_rows *r = db_query(rq->app->db, rq->arena, sql[SQL_POLICY_IMAGES], "i", c);
	if (!r)
		return req_db_fail(rq, "checking the storage policy");
	if (r->n && db_int(r, 0, 1) >= db_int(r, 0, 0))
		return req_fail(
		    rq, 507, "storage policy exceeded: the maximum number of stored images is %lld",
		    db_int(r, 0, 0));
	if (r->n && db_int(r, 0, 3) >= db_int(r, 0, 2))
		return req_fail(rq, 507,
				"storage policy exceeded: the maximum total size is %lld bytes",
				db_int(r, 0, 2));
	return 0;
}

static void bind_mutable(struct db_param *p, const struct asset_in *in, const char *const list_json[3],
			 const char *channels, char family, int c, int s, const char *id)
{
	const char *fam = family == 'T' ? "T" : family == 'F' ? "F" : "I";
	const char *strs[] = {in->origin, list_json[0], list_json[1], list_json[2],
			      in->str[0], in->str[1],   in->str[2]};
	size_t n = 0;
	for (size_t i = 0; i < 7; i++)
		p[n++] = (struct db_param){.type = 'S', .s = strs[i], .len = strlen(strs[i])};
	for (size_t i = 0; i < 3; i++)
		p[n++] = (struct db_param){.type = 'l', .i = in->num[i]};
	p[n++] = (struct db_param){.type = 'i', .i = in->max_unauth};
	p[n++] = (struct db_param){.type = 'S', .s = in->media_type, .len = strlen(in->media_type)};
	p[n++] = (struct db_param){.type = 'S', .s = fam, .len = 1};
	p[n++] = (struct db_param){.type = 'S', .s = channels, .len = strlen(channels)};
	p[n++] = (struct db_param){.type = 'i', .i = c};
	p[n++] = (struct db_param){.type = 'i', .i = s};
	p[n++] = (struct db_param){.type = 'S', .s = id, .len = strlen(id)};
}

/* A validated PUT (or queue member): what asset_plan_apply writes. */
struct asset_plan {
	int c, s;
	const char *id;
	struct asset_in in;
	const char *list_json[ALIST__MAX];
	const char *channels;
	char family;
};

int asset_plan_read(struct req *rq, yajl_val body, int c, int s, const char *id,
		    struct asset_plan **out)
{
	struct asset_plan *p = arena_alloc(rq->arena, sizeof *p);
	struct asset_in *in = &p->in;
	int st;
	p->c = c;
	p->s = s;
	p->id = id;
	*out = p;
	if ((st = path_id_check(rq, id)) ||
	    (st = asset_body_read(rq, body, c, s, id, BODY_PUT, in)))
		return st;
	if (!in->has_media_type)
		return req_fail(rq, 400, "'mediaType' is required");
	return 0;
}

int asset_plan_put(struct req *rq, yajl_val body, int c, int s, const char *id,
		   struct asset_plan **out)
{
	int st = asset_plan_read(rq, body, c, s, id, out);
	return st ? st : asset_plan_resolve(rq, *out);
}

int asset_plan_resolve(struct req *rq, struct asset_plan *p)
{
	struct db *db = rq->app->db;
	struct asset_in *in = &p->in;
	int c = p->c, s = p->s;
	int st;

	/* A full replacement: what is omitted takes the space's defaults. */
	struct db_rows *sp = db_query(db, rq->arena, sql[SQL_SPACE_DEFAULTS], "ii", c, s);
	if (!sp)
		return req_db_fail(rq, "reading the space");
	if (sp->n == 0) {
		int cst = customer_require(rq, c);
		return cst ? cst : req_fail(rq, 404, "space %d not found", s);
	}
	if (!in->has_origin)
		in->origin = "";
	for (int i = 0; i < 3; i++)
		if (!in->has_str[i])
			in->str[i] = "";
	if (!in->has_max_unauth)
		in->max_unauth = db_int(sp, 0, 2);
	for (int l = 0; l < ALIST__MAX; l++) {
		if (!in->list_json[l]) {
			in->nlist[l] =
			    l == ALIST_MANIFESTS
				? 0
				: strings_of_text(rq->arena, db_str(sp, 0, (size_t)l), &in->list[l]);
			in->list_json[l] = asset_list_json(rq->arena, in->list[l], in->nlist[l]);
		}
		p->list_json[l] = in->list_json[l];
	}
	if ((st = channels_resolve(rq, c, s, in->media_type, in->channels, &p->channels,
				   &p->family)))
		return st;
	if (in->family)
		p->family = in->family;
	return 0;
}

char asset_plan_family(const struct asset_plan *p)
{
	return p->family;
}

const char *asset_plan_channels(const struct asset_plan *p)
{
	return p->channels;
}

bool asset_plan_has_origin(const struct asset_plan *p)
{
	return p->in.origin && *p->in.origin;
}

int asset_plan_apply(struct req *rq, const struct asset_plan *plan, long long batch_id,
		     bool *created)
{
	struct db *db = rq->app->db;
	int c = plan->c, s = plan->s;
	const char *id = plan->id;
	struct db_param p[MUTABLE_NPARAMS];
	bind_mutable(p, &plan->in, plan->list_json, plan->channels, plan->family, c, s, id);

	struct db_rows *old = db_query(db, rq->arena, sql[SQL_ASSET_EXISTS_LOCK], "iis", c, s, id);
	if (!old)
		return req_db_fail(rq, "reading the asset");
	*created = old->n == 0;
	if (*created) {
		int st;
		if ((st = storage_policy_check(rq, c)))
			return st;
		/* INSERT takes the key first; MUTABLE_SET's order otherwise. */
		struct db_param ip[MUTABLE_NPARAMS];
		ip[0] = p[MUTABLE_NPARAMS - 3];
		ip[1] = p[MUTABLE_NPARAMS - 2];
		ip[2] = p[MUTABLE_NPARAMS - 1];
		memcpy(ip + 3, p, (MUTABLE_NPARAMS - 3) * sizeof *p);
		db_exec_params(db, sql[SQL_ASSET_INSERT], ip, MUTABLE_NPARAMS);
		db_exec(db, sql[SQL_SPACE_INC], "ii", c, s);
	} else {
		db_exec_params(db, sql[SQL_ASSET_REPLACE], p, MUTABLE_NPARAMS);
	}
	if (batch_id > 0)
		db_exec(db, sql[SQL_ASSET_SET_BATCH], "liis", batch_id, c, s, id);
	db_exec(db, sql[SQL_STORAGE_ENSURE], "iis", c, s, id);
	for (int l = 0; l < ALIST__MAX; l++)
		asset_list_index(rq, c, s, id, (enum asset_list)l, plan->in.list[l],
				 plan->in.nlist[l]);
	if (db_last_err(db) != DB_OK && db_in_txn(db))
		return req_db_fail(rq, *created ? "creating the asset" : "replacing the asset");
	return 0;
}

/* Waits for the synchronous ingest of item_id, then answers with the asset:
 * `ok_status` when it worked; 502 when the origin failed, 422 when the file
 * is not a usable image (the asset stays stored with its error); 202 with
 * the asset still ingesting when no runner finished it in time. */
static int ingest_wait_respond(struct req *rq, int c, int s, const char *id, long long item_id,
			       int ok_status)
{
	struct db *db = rq->app->db;
	long long timeout_ms = config_int(rq->app->cfg, "sync_ingest_timeout_seconds", 120) * 1000;
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int delay_ms = 5;
	for (;;) {
		int pending = work_pending(db, rq->arena, item_id);
		if (pending < 0)
			return req_db_fail(rq, "waiting for the ingest");
		if (!pending)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long long waited = (now.tv_sec - t0.tv_sec) * 1000LL +
				   (now.tv_nsec - t0.tv_nsec) / 1000000LL;
		if (waited >= timeout_ms || rq->app->stopping)
			return respond_asset(rq, c, s, id, 202);
		struct timespec ts = {0, delay_ms * 1000000L};
		nanosleep(&ts, NULL);
		if (delay_ms < 50)
			delay_ms += 5;
	}
	struct db_rows *r = asset_fetch(rq, c, s, id);
	if (!r)
		return req_db_fail(rq, "reading the asset");
	if (r->n == 0)
		return req_fail(rq, 404, "asset '%s' was deleted during its ingest", id);
	const char *error = db_str(r, 0, ACOL_ERROR);
	if (error && *error) {
		switch (ingest_error_parse(db_str(r, 0, ACOL_ERROR_KIND))) {
		case INGEST_ERROR_ORIGIN:
			return req_fail(rq, 502, "ingest failed: %s", error);
		case INGEST_ERROR_IMAGE:
			return req_fail(rq, 422, "ingest failed: %s", error);
		default:
			return req_fail(rq, 500, "ingest failed: %s", error);
		}
	}
	asset_write(req_json(rq), rq, r, 0);
	return ok_status;
}

/* Image and file assets are ingested before the answer; audio and video go
 * through the queue (their answer says ingesting: true). */
static enum work_priority ingest_priority(char family)
{
	return family == 'T' ? WORK_NORMAL : WORK_SYNC;
}

int asset_put(struct req *rq)
{
	struct db *db = rq->app->db;
	int c = (int)rq->ints[0], s = (int)rq->ints[1];
	const char *id = rq->strs[0];
	struct asset_plan *plan;
	int st;
	if ((st = path_id_check(rq, id)) || (st = space_require(rq, c, s)) ||
	    (st = asset_plan_put(rq, rq->json, c, s, id, &plan)))
		return st;
	if (db_begin(db) != DB_OK)
		return req_db_fail(rq, "starting a transaction");
	bool created;
	if ((st = asset_plan_apply(rq, plan, 0, &created)))
		return txn_abort(rq, st);
	/* Without an origin there is nothing to fetch: the asset is registered
	 * (metadata only) and ingested once an origin is given. */
	bool ingest = asset_plan_has_origin(plan);
	enum work_priority prio = ingest_priority(plan->family);
	long long item = 0;
	if (ingest)
		item = work_enqueue(db, c, s, id, 0, prio);
	else
		db_exec(db, sql[SQL_ASSET_NOTHING_TO_INGEST], "iis", c, s, id);
	if (item < 0)
		return txn_fail(rq, "queueing the ingest");
	if (db_commit(db) != DB_OK)
		return req_db_fail(rq, created ? "creating the asset" : "replacing the asset");
	/* Delivery: the replacement may restrict it (the runner publishes again
	 * once the new version is installed). */
	asset_publish_cfg(db, rq->arena, rq->app->cfg, c, s, id);

	int ok = created ? 201 : 200;
	if (created)
		req_header(rq, "Location",
			   req_url(rq, "/customers/%d/spaces/%d/images/%s", c, s, id));
	if (!ingest || prio != WORK_SYNC)
		return respond_asset(rq, c, s, id, ok);
	return ingest_wait_respond(rq, c, s, id, item, ok);
}

int asset_patch(struct req *rq)
{
	struct db *db = rq->app->db;
	int c = (int)rq->ints[0], s = (int)rq->ints[1];
	const char *id = rq->strs[0];
	struct asset_in in;
	int st;
	if ((st = path_id_check(rq, id)) || (st = space_require(rq, c, s)) ||
	    (st = asset_body_read(rq, rq->json, c, s, id, BODY_PATCH, &in)))
		return st;

	if (db_begin(db) != DB_OK)
		return req_db_fail(rq, "starting a transaction");
	struct db_rows *r = db_query(db, rq->arena, sql[SQL_ASSET_LOCK], "iis", c, s, id);
	if (!r)
		return txn_fail(rq, "reading the asset");
	if (r->n == 0)
		return txn_abort(rq, req_fail(rq, 404, "asset '%s' not found in space %d", id, s));

	/* Omitted fields keep their stored values. */
	const char *old_origin = db_str(r, 0, ACOL_ORIGIN);
	long long old_max = db_int(r, 0, ACOL_MAX_UNAUTHORISED);
	const char *old_media = db_str(r, 0, ACOL_MEDIA_TYPE);
	const char *old_channels = db_str(r, 0, ACOL_DELIVERY_CHANNELS);
	if (!in.has_origin)
		in.origin = old_origin;
	if (!in.has_max_unauth)
		in.max_unauth = old_max;
	if (!in.has_media_type)
		in.media_type = old_media;
	for (int i = 0; i < 3; i++) {
		if (!in.has_str[i])
			in.str[i] = db_str(r, 0, ACOL_STRING1 + (size_t)i);
		if (!in.has_num[i])
			in.num[i] = db_int(r, 0, ACOL_NUMBER1 + (size_t)i);
	}
	const char *list_json[ALIST__MAX];
	for (int l = 0; l < ALIST__MAX; l++)
		list_json[l] = in.list_json[l] ? in.list_json[l] : db_str(r, 0, lists[l].col);

	/* Channels are resolved again when they are given, or when a new
	 * mediaType must be checked against the stored ones. */
	const char *channels = old_channels;
	const char *old_family = db_str(r, 0, ACOL_FAMILY);
	char family = old_family && *old_family ? old_family[0] : 'I';
	bool media_changed = strcmp(in.media_type, old_media) != 0;
	if (in.channels || media_changed) {
		yajl_val input = in.channels;
		if (!input) {
			char err[128];
			input = json_parse(rq->arena, old_channels, strlen(old_channels), err,
					   sizeof err);
		}
		if ((st = channels_resolve(rq, c, s, in.media_type, input, &channels, &family)))
			return txn_abort(rq, st);
	}
	if (in.family)
		family = in.family;

	bool reingest = strcmp(in.origin, old_origin) != 0 || in.max_unauth != old_max ||
			strcmp(channels, old_channels) != 0;

	struct db_param p[MUTABLE_NPARAMS];
	bind_mutable(p, &in, list_json, channels, family, c, s, id);
	db_exec_params(db, sql[SQL_ASSET_UPDATE], p, MUTABLE_NPARAMS);
	long long item = 0;
	if (reingest && !*in.origin) {
		/* The origin was removed: nothing to fetch any more. */
		reingest = false;
		db_exec(db, sql[SQL_ASSET_NOTHING_TO_INGEST], "iis", c, s, id);
	}
	if (reingest) {
		db_exec(db, sql[SQL_ASSET_REINGEST], "iis", c, s, id);
		item = work_enqueue(db, c, s, id, 0, ingest_priority(family));
		if (item < 0)
			return txn_fail(rq, "queueing the ingest");
	}
	for (int l = 0; l < ALIST__MAX; l++)
		if (in.list_json[l])
			asset_list_index(rq, c, s, id, (enum asset_list)l, in.list[l], in.nlist[l]);
	if (db_commit(db) != DB_OK)
		return req_db_fail(rq, "updating the asset");
	/* Delivery: roles, maxUnauthorised or channels may have changed. */
	asset_publish_cfg(db, rq->arena, rq->app->cfg, c, s, id);
	if (reingest && ingest_priority(family) == WORK_SYNC)
		return ingest_wait_respond(rq, c, s, id, item, 200);
	return respond_asset(rq, c, s, id, 200);
}

int asset_delete(struct req *rq)
{
	struct db *db = rq->app->db;
	int c = (int)rq->ints[0], s = (int)rq->ints[1];
	const char *id = rq->strs[0];
	int st;
	if ((st = path_id_check(rq, id)) || (st = space_require(rq, c, s)))
		return st;
	if (db_begin(db) != DB_OK)
		return req_db_fail(rq, "starting a transaction");
	/* Its bytes leave the customer's and the space's totals; the list rows
	 * and asset_storage go by ON DELETE CASCADE; queued work for it is
	 * dropped (a runner holding a lease finds the asset gone and cleans up). */
	struct db_rows *sizes = db_query(db, rq->arena, sql[SQL_STORAGE_OF], "iis", c, s, id);
	if (!sizes)
		return txn_fail(rq, "deleting the asset");
	if (sizes->n)
		db_exec(db, sql[SQL_TOTALS_SUB], "llii", db_int(sizes, 0, 0), db_int(sizes, 0, 1), c,
			s);
	if (work_asset_deleted(db, c, s, id) != DB_OK)
		return txn_fail(rq, "deleting the asset");
	long long n = db_exec(db, sql[SQL_ASSET_DELETE], "iis", c, s, id);
	if (n < 0)
		return txn_fail(rq, "deleting the asset");
	if (n == 0)
		return txn_abort(rq, req_fail(rq, 404, "asset '%s' not found in space %d", id, s));
	db_exec(db, sql[SQL_SPACE_DEC], "ii", c, s);
	if (db_commit(db) != DB_OK)
		return req_db_fail(rq, "deleting the asset");
	const char *root = config_str(rq->app->cfg, "storage_root", NULL);
	/* Delivery: nginx stops serving it before its files go. */
	if (root && store_unpublish(rq->arena, root, c, s, id) != 0)
		log_warn("could not remove the public links of %d/%d/%s", c, s, id);
	if (root && store_remove(rq->arena, root, c, s, id) != 0)
		log_warn("could not remove the files of %d/%d/%s", c, s, id);
	return 204;
}

/* ---- the space's images ----------------------------------------------- */

int space_images_list(struct req *rq)
{
	int c = (int)rq->ints[0], s = (int)rq->ints[1];
	struct asset_query q;
	int st;
	if ((st = space_require(rq, c, s)) || (st = asset_query_parse(rq, false, &q)))
		return st;
	return assets_collection(
	    rq, arena_printf(rq->arena, "/customers/%d/spaces/%d/images", c, s), c, s, &q);
}

static const char *const bulk_body_keys[] = {"@context", "@id", "@type", "member", NULL};

/* The body of a bulk PATCH of space c/s, read whole before the database is
 * asked: n members, their ids and their fields. */
static int bulk_read(struct req *rq, yajl_val body, int c, int s, size_t *count,
		     const char ***ids_out, struct asset_in **in_out)
{
	int st;
	if ((st = jin_only_keys(rq, body, bulk_body_keys)))
		return st;
	yajl_val members = json_get(body, "member");
	if (!members || YAJL_IS_NULL(members))
		return req_fail(rq, 400, "'member' is required");
	if (!YAJL_IS_ARRAY(members))
		return req_fail(rq, 400, "'member' must be an array");
	size_t n = members->u.array.len;
	if (n > BULK_MAX_MEMBERS)
		return req_fail(rq, 400, "'member' holds more than %d assets", BULK_MAX_MEMBERS);

	struct asset_in *in = arena_alloc(rq->arena, (n ? n : 1) * sizeof *in);
	const char **ids = arena_alloc(rq->arena, (n ? n : 1) * sizeof *ids);
	for (size_t i = 0; i < n; i++) {
		yajl_val m = members->u.array.values[i];
		if (!YAJL_IS_OBJECT(m))
			return req_fail(rq, 400, "'member' %zu is not an object", i);
		if ((st = jin_str_req(rq, m, "id", &ids[i])))
			return st;
		if (!asset_id_valid(ids[i]))
			return req_fail(rq, 400, "'member' %zu: 'id' is not a valid asset id", i);
		for (size_t j = 0; j < i; j++)
			if (strcmp(ids[i], ids[j]) == 0)
				return req_fail(rq, 400, "'member': 'id' '%s' appears twice",
						ids[i]);
		if ((st = asset_body_read(rq, m, c, s, ids[i], BODY_BULK, &in[i])))
			return st;
	}
	*count = n;
	*ids_out = ids;
	*in_out = in;
	return 0;
}

int asset_body_check(struct req *rq, yajl_val body, int c, int s, const char *id,
		     enum asset_body mode)
{
	switch (mode) {
	case ASSET_BODY_PUT: {
		struct asset_plan *plan;
		return asset_plan_read(rq, body, c, s, id, &plan);
	}
	case ASSET_BODY_PATCH: {
		struct asset_in in;
		int st = path_id_check(rq, id);
		return st ? st : asset_body_read(rq, body, c, s, id, BODY_PATCH, &in);
	}
	default: {
		size_t n;
		const char **ids;
		struct asset_in *in;
		return bulk_read(rq, body, c, s, &n, &ids, &in);
	}
	}
}

/* PATCH of a Collection of members {"id", metadata...}: all or nothing. */
int space_images_patch(struct req *rq)
{
	struct db *db = rq->app->db;
	int c = (int)rq->ints[0], s = (int)rq->ints[1];
	int st;
	size_t n;
	const char **ids;
	struct asset_in *in;
	if ((st = space_require(rq, c, s)) || (st = bulk_read(rq, rq->json, c, s, &n, &ids, &in)))
		return st;

	if (db_begin(db) != DB_OK)
		return req_db_fail(rq, "starting a transaction");
	for (size_t i = 0; i < n; i++) {
		struct db_rows *r =
		    db_query(db, rq->arena, sql[SQL_ASSET_EXISTS_LOCK], "iis", c, s, ids[i]);
		if (!r)
			return txn_fail(rq, "reading the assets");
		if (r->n == 0)
			return txn_abort(rq, req_fail(rq, 400,
						      "'member': asset '%s' is not in space %d",
						      ids[i], s));
		struct db_param p[12];
		size_t k = 0;
		for (int l = 0; l < ALIST__MAX; l++) {
			const char *t = in[i].list_json[l];
			p[k++] = t ? (struct db_param){.type = 'S', .s = t, .len = strlen(t)}
				   : (struct db_param){.type = 'n'};
		}
		for (int j = 0; j < 3; j++) {
			const char *t = in[i].str[j];
			p[k++] = in[i].has_str[j]
				     ? (struct db_param){.type = 'S', .s = t, .len = strlen(t)}
				     : (struct db_param){.type = 'n'};
		}
		for (int j = 0; j < 3; j++)
			p[k++] = in[i].has_num[j]
				     ? (struct db_param){.type = 'l', .i = in[i].num[j]}
				     : (struct db_param){.type = 'n'};
		p[k++] = (struct db_param){.type = 'i', .i = c};
		p[k++] = (struct db_param){.type = 'i', .i = s};
		p[k++] = (struct db_param){.type = 'S', .s = ids[i], .len = strlen(ids[i])};
		db_exec_params(db, sql[SQL_ASSET_META_UPDATE], p, k);
		for (int l = 0; l < ALIST__MAX; l++)
			if (in[i].list_json[l])
				asset_list_index(rq, c, s, ids[i], (enum asset_list)l,
						 in[i].list[l], in[i].nlist[l]);
	}
	if (db_commit(db) != DB_OK)
		return req_db_fail(rq, "updating the assets");
	/* Delivery: members whose roles changed. */
	for (size_t i = 0; i < n; i++)
		if (in[i].list_json[ALIST_ROLES])
			asset_publish_cfg(db, rq->arena, rq->app->cfg, c, s, ids[i]);

	struct db_rows **rows = arena_alloc(rq->arena, (n ? n : 1) * sizeof *rows);
	size_t found = 0;
	for (size_t i = 0; i < n; i++) {
		struct db_rows *r = asset_fetch(rq, c, s, ids[i]);
		if (!r)
			return req_db_fail(rq, "reading the assets");
		if (r->n)
			rows[found++] = r;
	}
	const char *path = arena_printf(rq->arena, "/customers/%d/spaces/%d/images", c, s);
	struct jw *w = req_json(rq);
	collection_begin_all(w, rq, path, (long long)found);
	for (size_t i = 0; i < found; i++)
		asset_write(w, rq, rows[i], 0);
	collection_end_all(w);
	return 200;
}
